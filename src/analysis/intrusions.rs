//! The report's "Intrusions" section: what the agent's `[detect]` module recorded
//! (`module` = `detect` records) and counted (the `detections` of `stats` records),
//! read as the compromised-host view: a timeline of detections, the process trees
//! involved, and per host a verdict.
//!
//! Process trees: two detections are in one tree when their subjects are linked by
//! pid and parent pid on the same host (a record links its `pid` to its `ppid`; the
//! links are followed transitively). A parent pid of 0, 1 or 2 (no parent, init,
//! kthreadd) links nothing, or every daemon would be one tree.
//!
//! The verdict of a host (the records' `hostname`: a container with its own UTS name
//! is a host of its own), checked in this order:
//! - `compromised`: a high or critical detection that was not stopped (its action is
//!   not `BLOCKED` or `KILLED`: `ALERT`, so monitor mode or an `alert` response), or one
//!   process tree with two or more different detections (an attacker's foothold trying
//!   its next step), or high or critical detections the agent counted in `stats` but
//!   whose records are not in the logs (nothing shows they were stopped);
//! - `suspicious`: any other detection (only low or medium ones were let through, and
//!   the high and critical ones were all blocked or killed);
//! - `clean`: no detection, while the detect module was on (the agent's start record
//!   says so). Without detect records and without that, there is no verdict.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use super::entry::{printable, Entry};
use super::report::thousands;
use super::time::{self, Micros};
use crate::inventory::Severity;

/// The timeline lists at most this many detections (the first ones); `--top 0` all.
pub const TIMELINE_ROWS: usize = 100;

/// The host the agent counted detections for in `stats` but whose records are missing,
/// when the records do not name one host.
pub const AGENT_HOST: &str = "(the agent's host)";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Clean,
    Suspicious,
    Compromised,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Suspicious => "suspicious",
            Verdict::Compromised => "compromised",
        }
    }
}

/// One detection record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detection {
    pub time: Micros,
    pub host: String,
    pub container: bool,
    /// The detection's name (the record's `op`).
    pub name: String,
    pub action: String,
    pub technique: String,
    pub severity: String,
    pub pid: Option<u64>,
    pub ppid: Option<u64>,
    /// The subject's executable, else `[comm]`.
    pub process: String,
    pub parent_exe: String,
    pub grandparent_exe: String,
    /// `key=value` pairs of the evidence, in byte notation.
    pub evidence: String,
    /// Identical detections the record stands for.
    pub count: u64,
}

impl Detection {
    /// Blocked (EPERM) or killed (SIGKILL and EPERM): the technique did not go on.
    pub fn stopped(&self) -> bool {
        matches!(self.action.as_str(), "BLOCKED" | "KILLED")
    }

    fn rank(&self) -> usize {
        rank(&self.severity)
    }

    /// `grandparent › parent › process`, the parts the record has.
    pub fn ancestry(&self) -> String {
        let parts: Vec<&str> = [self.grandparent_exe.as_str(), self.parent_exe.as_str(), self.process.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect();
        parts.join(" › ")
    }
}

/// critical 4 … low 1; 0 for a severity this version does not know.
fn rank(severity: &str) -> usize {
    Severity::parse(severity).map_or(0, |s| s as usize + 1)
}

/// One detection of a tree, counted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TreeDetection {
    pub count: u64,
    pub technique: String,
    pub severity: String,
    pub actions: BTreeSet<String>,
}

/// The detections whose subjects are linked by pid and parent pid.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tree {
    pub host: String,
    pub first: Micros,
    pub last: Micros,
    /// Each subject once: (pid, its ancestry), in pid order.
    pub subjects: Vec<(Option<u64>, String)>,
    pub detections: BTreeMap<String, TreeDetection>,
}

impl Tree {
    pub fn worst(&self) -> &str {
        self.detections.values().max_by_key(|d| rank(&d.severity)).map_or("", |d| d.severity.as_str())
    }
}

/// A host's verdict and why.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Host {
    pub name: String,
    pub container: bool,
    pub verdict: Option<Verdict>,
    /// Detections (records, weighted by their count).
    pub detections: u64,
    pub by_severity: BTreeMap<String, u64>,
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Intrusions {
    /// Detections in the range, in time order, cut to `TIMELINE_ROWS`.
    pub timeline: Vec<Detection>,
    pub more_timeline: usize,
    /// Detections in the range (records weighted by their count), by severity.
    pub by_severity: BTreeMap<String, u64>,
    pub total: u64,
    /// What the `stats` records counted in the range, by severity.
    pub counted: BTreeMap<String, u64>,
    /// Counted, but more than the records in the logs show, by severity.
    pub unrecorded: BTreeMap<String, u64>,
    /// The trees, most kinds of detection first, cut to `--top`.
    pub trees: Vec<Tree>,
    pub more_trees: usize,
    pub hosts: Vec<Host>,
    /// The detect module's state in the last start record: `None` without one.
    pub module_state: Option<String>,
    all: Vec<Detection>,
    /// The current agent run's counts at its last `stats` before the range, and at its
    /// last in the range (they count since the agent started).
    run_base: Option<BTreeMap<String, u64>>,
    run_last: Option<BTreeMap<String, u64>>,
}

impl Intrusions {
    /// A `detect` record in the range.
    pub fn add(&mut self, entry: &Entry<'_>, at: Micros) {
        let text = |field: &Option<super::entry::Text<'_>>| field.as_ref().map_or_else(String::new, |t| t.to_string());
        let detection = Detection {
            time: at,
            host: entry.hostname.as_ref().map_or_else(|| "(no hostname)".to_string(), |h| h.to_string()),
            container: entry.container == Some(true),
            name: entry.op.to_string(),
            action: text(&entry.action),
            technique: text(&entry.technique),
            severity: text(&entry.severity),
            pid: entry.pid,
            ppid: entry.ppid,
            process: entry.process().map_or_else(|| "(unknown)".to_string(), |p| p.into_owned()),
            parent_exe: text(&entry.parent_exe),
            grandparent_exe: text(&entry.grandparent_exe),
            evidence: entry.evidence(),
            count: entry.weight(),
        };
        *self.by_severity.entry(detection.severity.clone()).or_default() += detection.count;
        self.total += detection.count;
        self.all.push(detection);
    }

    /// An `agent` record up to `--until`: a start ends an agent run (and names the detect
    /// module's state), a `stats` record carries the run's detections since its start.
    pub fn agent(&mut self, entry: &Entry<'_>, in_range: bool) {
        match entry.op.as_str() {
            "start" => {
                self.close_run();
                if in_range {
                    if let Some(modules) = &entry.modules {
                        self.module_state = Some(modules.get("detect").map_or("off", |s| s.as_str()).to_string());
                    }
                }
            }
            "stats" => {
                let Some(counts) = &entry.detections else { return };
                if in_range {
                    self.run_last = Some(counts.clone());
                } else {
                    self.run_base = Some(counts.clone());
                }
            }
            _ => {}
        }
    }

    fn close_run(&mut self) {
        let base = self.run_base.take().unwrap_or_default();
        if let Some(last) = self.run_last.take() {
            for (severity, n) in last {
                let before = base.get(&severity).copied().unwrap_or(0);
                *self.counted.entry(severity).or_default() += n.saturating_sub(before);
            }
        }
    }

    /// Groups, judges and cuts once every record is in; `top` 0 keeps every row.
    pub fn finish(&mut self, top: usize) {
        self.close_run();
        self.all.sort_by_key(|d| d.time);
        for (severity, &n) in &self.counted {
            let recorded = self.by_severity.get(severity).copied().unwrap_or(0);
            if n > recorded {
                self.unrecorded.insert(severity.clone(), n - recorded);
            }
        }
        self.trees = trees(&self.all);
        self.hosts = self.judge();
        if top > 0 && self.trees.len() > top {
            self.more_trees = self.trees.len() - top;
            self.trees.truncate(top);
        }
        let keep = if top == 0 { self.all.len() } else { TIMELINE_ROWS.min(self.all.len()) };
        self.more_timeline = self.all.len() - keep;
        self.timeline = self.all[..keep].to_vec();
    }

    fn judge(&self) -> Vec<Host> {
        let mut hosts: BTreeMap<String, Host> = BTreeMap::new();
        // Per host: the high and critical detections let through, and the first of them.
        let mut unstopped: BTreeMap<String, (u64, &Detection)> = BTreeMap::new();
        for d in &self.all {
            let host = hosts.entry(d.host.clone()).or_insert_with(|| Host { name: d.host.clone(), ..Host::default() });
            host.container |= d.container;
            host.detections += d.count;
            *host.by_severity.entry(d.severity.clone()).or_default() += d.count;
            host.verdict = host.verdict.max(Some(Verdict::Suspicious));
            if d.rank() >= rank("high") && !d.stopped() {
                host.verdict = Some(Verdict::Compromised);
                let (count, _) = unstopped.entry(d.host.clone()).or_insert((0, d));
                *count += d.count;
            }
        }
        for (name, (count, d)) in unstopped {
            if let Some(host) = hosts.get_mut(&name) {
                host.reasons.push(format!(
                    "{} high or critical detection{} let through, the first: {} by {}{}",
                    thousands(count),
                    plural(count),
                    d.name,
                    d.process,
                    d.pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
                ));
            }
        }
        for tree in &self.trees {
            if tree.detections.len() >= 2 {
                if let Some(host) = hosts.get_mut(&tree.host) {
                    host.verdict = Some(Verdict::Compromised);
                    // Its first subject: the executable (the ancestry's last part), pid.
                    let root = tree.subjects.first().map_or_else(String::new, |(pid, ancestry)| {
                        let exe = ancestry.rsplit(" › ").next().unwrap_or_default();
                        format!(" ({exe}{})", pid.map(|p| format!(", pid {p}")).unwrap_or_default())
                    });
                    host.reasons.push(format!(
                        "one process tree{root} had {} detections: {}",
                        tree.detections.len(),
                        tree.detections.keys().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
        if !self.unrecorded.is_empty() {
            // The agent's own host: the one host that is not a container, if the records
            // name exactly one.
            let own: Vec<&String> = hosts.values().filter(|h| !h.container).map(|h| &h.name).collect();
            let name = match own.as_slice() {
                [one] => (*one).clone(),
                _ => AGENT_HOST.to_string(),
            };
            let host = hosts.entry(name.clone()).or_insert_with(|| Host { name, ..Host::default() });
            let serious: u64 = self.unrecorded.iter().filter(|(s, _)| rank(s) >= rank("high")).map(|(_, n)| n).sum();
            let all: u64 = self.unrecorded.values().sum();
            host.verdict = host.verdict.max(Some(Verdict::Suspicious));
            if serious > 0 {
                host.verdict = Some(Verdict::Compromised);
            }
            host.reasons.push(format!(
                "{} detection{} counted (stats) with no record here, {serious} high or critical: response unknown",
                thousands(all),
                if all == 1 { "" } else { "s" }
            ));
        }
        if hosts.is_empty() && self.module_state.as_deref().is_some_and(|s| s != "off") {
            hosts.insert(
                AGENT_HOST.to_string(),
                Host { name: AGENT_HOST.to_string(), verdict: Some(Verdict::Clean), ..Host::default() },
            );
        }
        let mut hosts: Vec<Host> = hosts.into_values().collect();
        hosts.sort_by(|a, b| b.verdict.cmp(&a.verdict).then_with(|| a.name.cmp(&b.name)));
        hosts
    }

    /// No detection recorded and none counted.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty() && self.unrecorded.is_empty()
    }

    /// The one line of a report without detections.
    pub fn empty_line(&self) -> String {
        match self.module_state.as_deref() {
            Some("off") => "no detection record: the detect module was off (the last agent start says so)".to_string(),
            Some(state) => format!("no detection: the detect module was {state} (verdict: clean)"),
            None => {
                "no detection record in these logs (no agent start record says whether [detect] was on)".to_string()
            }
        }
    }
}

/// Union-find over (host, pid).
fn trees(all: &[Detection]) -> Vec<Tree> {
    fn find(parent: &mut [usize], mut at: usize) -> usize {
        while parent[at] != at {
            parent[at] = parent[parent[at]];
            at = parent[at];
        }
        at
    }
    let mut index: HashMap<(String, u64), usize> = HashMap::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut node = |key: (String, u64), parent: &mut Vec<usize>| {
        *index.entry(key).or_insert_with(|| {
            parent.push(parent.len());
            parent.len() - 1
        })
    };
    // A detection without a pid is a tree of its own.
    let mut of: Vec<usize> = Vec::with_capacity(all.len());
    for d in all {
        let me = match d.pid {
            Some(pid) => node((d.host.clone(), pid), &mut parent),
            None => {
                parent.push(parent.len());
                parent.len() - 1
            }
        };
        if let (Some(_), Some(ppid)) = (d.pid, d.ppid.filter(|p| *p > 2)) {
            let up = node((d.host.clone(), ppid), &mut parent);
            let (a, b) = (find(&mut parent, me), find(&mut parent, up));
            parent[a] = b;
        }
        of.push(me);
    }
    let mut trees: BTreeMap<usize, Tree> = BTreeMap::new();
    for (d, me) in all.iter().zip(of) {
        let root = find(&mut parent, me);
        let tree = trees.entry(root).or_insert_with(|| Tree {
            host: d.host.clone(),
            first: d.time,
            last: d.time,
            ..Tree::default()
        });
        tree.first = tree.first.min(d.time);
        tree.last = tree.last.max(d.time);
        let subject = (d.pid, d.ancestry());
        if !tree.subjects.contains(&subject) {
            tree.subjects.push(subject);
        }
        let counted = tree.detections.entry(d.name.clone()).or_insert_with(|| TreeDetection {
            technique: d.technique.clone(),
            severity: d.severity.clone(),
            ..TreeDetection::default()
        });
        counted.count += d.count;
        counted.actions.insert(d.action.clone());
    }
    let mut trees: Vec<Tree> = trees.into_values().collect();
    for tree in &mut trees {
        tree.subjects.sort();
    }
    // The most serious first: most kinds of detection, then the worst severity.
    trees.sort_by(|a, b| {
        b.detections
            .len()
            .cmp(&a.detections.len())
            .then_with(|| rank(b.worst()).cmp(&rank(a.worst())))
            .then_with(|| a.first.cmp(&b.first))
    });
    trees
}

/// `1 critical, 2 high, 0 medium, 0 low`.
fn severities(counts: &BTreeMap<String, u64>) -> String {
    super::report::severity_counts(counts)
}

pub fn render_text(i: &Intrusions, out: &mut String) {
    if i.is_empty() {
        let _ = writeln!(out, "\nIntrusions: {}", i.empty_line());
        return;
    }
    let _ = writeln!(
        out,
        "\nIntrusions ({} detection{}: {})",
        thousands(i.total),
        plural(i.total),
        severities(&i.by_severity)
    );
    for host in &i.hosts {
        let verdict = host.verdict.map_or("no verdict", Verdict::name);
        let container = if host.container { " (container)" } else { "" };
        let _ = writeln!(
            out,
            "  {:<12} {}{container}: {} detection{}",
            verdict.to_uppercase(),
            printable(&host.name),
            thousands(host.detections),
            plural(host.detections)
        );
        for reason in &host.reasons {
            let _ = writeln!(out, "    {}", printable(reason));
        }
    }
    if !i.counted.is_empty() {
        let _ = writeln!(out, "  the agent counted (stats): {}", severities(&i.counted));
    }
    out.push_str("  Timeline\n");
    for d in &i.timeline {
        let pid = d.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
        let count = if d.count > 1 { format!(" x{}", thousands(d.count)) } else { String::new() };
        let _ = writeln!(
            out,
            "    {}  {:<8}  {:<7}  {}{count}  {}  {}{pid}",
            time::format_short(d.time),
            d.severity,
            d.action,
            printable(&d.name),
            printable(&d.technique),
            printable(&d.process),
        );
        let evidence = if d.evidence.is_empty() { String::new() } else { format!(": {}", printable(&d.evidence)) };
        let _ = writeln!(out, "      on {}{evidence}", printable(&d.host));
    }
    if i.more_timeline > 0 {
        let _ = writeln!(out, "    and {} more (--top 0 lists all)", thousands(i.more_timeline as u64));
    }
    out.push_str("  Process trees (subjects linked by pid and parent pid)\n");
    for tree in &i.trees {
        let _ = writeln!(
            out,
            "    {}: {} – {}",
            printable(&tree.host),
            time::format_short(tree.first),
            time::format_short(tree.last)
        );
        for (pid, ancestry) in &tree.subjects {
            let pid = pid.map_or_else(|| "?".to_string(), |p| p.to_string());
            let _ = writeln!(out, "      pid {pid}: {}", printable(ancestry));
        }
        for (name, d) in &tree.detections {
            let actions: Vec<&str> = d.actions.iter().map(String::as_str).collect();
            let _ = writeln!(
                out,
                "      {} x{} ({}, {}, {})",
                printable(name),
                thousands(d.count),
                printable(&d.technique),
                d.severity,
                actions.join("/")
            );
        }
    }
    if i.more_trees > 0 {
        let _ = writeln!(out, "    and {} more (--top 0 lists all)", thousands(i.more_trees as u64));
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::read::Diagnostics;
    use crate::analysis::report::{analyse, render_text as report_text, Report};
    use crate::detect::{test_record, TestEvent};
    use crate::logging::{write_json, write_text, Level, Record, Value};
    use std::time::{Duration, UNIX_EPOCH};

    const T0: u64 = 1_800_000_000;

    fn at(record: Record, secs: u64) -> Record {
        let mut record = record;
        record.time = UNIX_EPOCH + Duration::from_secs(T0 + secs);
        record
    }

    fn detection(secs: u64, t: TestEvent<'_>) -> Record {
        at(test_record(&t), secs)
    }

    fn start(secs: u64, detect: &str) -> Record {
        let modules = Value::Map(vec![
            ("file".into(), Value::Str("enforcing".into())),
            ("detect".into(), Value::Str(detect.into())),
        ]);
        at(Record::new(Level::Info, "agent", "start").field("modules", modules), secs)
    }

    fn stats(secs: u64, counts: [u64; 4]) -> Record {
        let names = ["low", "medium", "high", "critical"];
        let map = names.iter().zip(counts).map(|(n, c)| (n.to_string(), Value::Uint(c))).collect();
        at(Record::new(Level::Info, "agent", "stats").field("detections", Value::Map(map)), secs)
    }

    /// The report of `records`, written once as JSON and once as text: both must read
    /// the same.
    fn report(records: &[Record], since: Option<u64>, top: usize) -> Report {
        let dir = std::env::temp_dir().join(format!(
            "safeguard-intrusions-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let since = since.map(|s| ((T0 + s) * 1_000_000) as Micros);
        let mut reports = Vec::new();
        for json in [true, false] {
            let mut out = Vec::new();
            for record in records {
                if json {
                    write_json(&mut out, record, &[]);
                } else {
                    write_text(&mut out, record, &[]);
                }
            }
            let log = dir.join(if json { "json.log" } else { "text.log" });
            std::fs::write(&log, out).unwrap();
            let mut diag = Diagnostics::captured();
            let mut report = analyse(&[log], since, None, top, &|_| None, &mut diag);
            assert_eq!(diag.malformed, 0, "{:?}", diag.messages);
            report.read.files.clear();
            reports.push(report);
        }
        std::fs::remove_dir_all(&dir).unwrap();
        let json = reports.remove(0);
        assert_eq!(json, reports.remove(0), "JSON and text logs read alike");
        json
    }

    fn verdicts(i: &Intrusions) -> Vec<(&str, &str)> {
        i.hosts.iter().map(|h| (h.name.as_str(), h.verdict.map_or("none", Verdict::name))).collect()
    }

    /// One log, one host per verdict rule.
    fn hosts() -> Vec<Record> {
        let ev = |detection, action, host, pid, ppid| TestEvent {
            detection,
            action,
            hostname: host,
            pid,
            ppid,
            exe: b"/usr/bin/bash",
            parent_exe: b"/usr/bin/python3.11",
            grandparent_exe: b"/usr/sbin/nginx",
            ..TestEvent::default()
        };
        vec![
            start(0, "enforcing"),
            // web1: a reverse shell killed, then its sibling reads shadow (alerted).
            detection(
                10,
                TestEvent { peer: Some(([10, 0, 0, 9], 4444)), ..ev("reverse_shell", "KILLED", b"web1", 200, 150) },
            ),
            detection(
                11,
                TestEvent {
                    path: b"/etc/shadow",
                    exe: b"/usr/bin/cat",
                    ..ev("credential_access", "ALERT", b"web1", 201, 150)
                },
            ),
            // db1: a medium detection let through.
            detection(12, TestEvent { path: b"/tmp/x", ..ev("exec_from_writable", "ALERT", b"db1", 300, 299) }),
            // app1: a high one, blocked.
            detection(13, TestEvent { path: b"/tmp/m.ko", ..ev("module_load", "BLOCKED", b"app1", 400, 399) }),
            // ci1: two detections whose parent is init: two trees.
            detection(14, ev("userns_create", "ALERT", b"ci1", 500, 1)),
            detection(15, TestEvent { path: b"/tmp/y", ..ev("exec_from_writable", "ALERT", b"ci1", 501, 1) }),
            // ctr (a container): two blocked detections in one tree.
            detection(
                16,
                TestEvent { container: true, path: b"/etc/cron.d/x", ..ev("persistence", "BLOCKED", b"ctr", 600, 599) },
            ),
            detection(
                17,
                TestEvent {
                    container: true,
                    path: b"/var/log/syslog",
                    ..ev("log_tamper", "BLOCKED", b"ctr", 601, 600)
                },
            ),
            stats(20, [1, 2, 2, 1]),
        ]
    }

    #[test]
    fn each_verdict_by_its_rule() {
        let r = report(&hosts(), None, 10);
        let i = &r.intrusions;
        assert_eq!(i.total, 8);
        assert_eq!(
            verdicts(i),
            [
                ("ctr", "compromised"),
                ("web1", "compromised"),
                ("app1", "suspicious"),
                ("ci1", "suspicious"),
                ("db1", "suspicious")
            ]
        );
        let web1 = &i.hosts[1];
        assert_eq!(web1.reasons.len(), 2, "{:?}", web1.reasons);
        assert_eq!(
            web1.reasons[0],
            "1 high or critical detection let through, the first: credential_access by /usr/bin/cat (pid 201)"
        );
        assert_eq!(
            web1.reasons[1],
            "one process tree (/usr/bin/bash, pid 200) had 2 detections: credential_access, reverse_shell"
        );
        assert!(i.hosts[0].container && i.hosts[0].reasons[0].contains("log_tamper, persistence"), "{:?}", i.hosts[0]);
        // ci1's two detections hang off init: not one tree.
        assert_eq!(i.trees.iter().filter(|t| t.host == "ci1").count(), 2);
        assert_eq!(i.trees.len(), 6);
        // The stats counted what the records show: nothing unrecorded.
        assert_eq!(i.counted.values().sum::<u64>(), 6, "{:?}", i.counted);
        assert!(i.unrecorded.is_empty(), "{:?}", i.unrecorded);
        assert_eq!(i.by_severity["critical"], 1);
        // Blocked detections are denials, by the detection where a rule would be.
        let rules: Vec<(&str, u64)> = r.denials_by_rule.iter().map(|row| (row.name.as_str(), row.denials)).collect();
        assert_eq!(rules, [("detection log_tamper", 1), ("detection module_load", 1), ("detection persistence", 1)]);

        let text = report_text(&r);
        let opening: Vec<&str> = text.lines().take(4).collect();
        assert_eq!(opening[2], "", "{text}");
        assert!(opening[3].starts_with("Intrusions (8 detections: 1 critical, 4 high, 2 medium, 1 low)"), "{text}");
        for expected in [
            "  COMPROMISED  ctr (container): 2 detections",
            "  SUSPICIOUS   db1: 1 detection",
            "reverse_shell  T1059.004  /usr/bin/bash (pid 200)",
            "      on web1: peer=10.0.0.9:4444 fd=0\n",
            "      on ci1\n",
            "      on web1: path=/etc/shadow access=",
            "      pid 201: /usr/sbin/nginx › /usr/bin/python3.11 › /usr/bin/cat",
            "      reverse_shell x1 (T1059.004, critical, KILLED)",
            "  the agent counted (stats): 1 critical, 2 high, 2 medium, 1 low",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        let page = crate::analysis::html::render(&r);
        for expected in [
            "<h2>Intrusions</h2>",
            "<span class=\"badge\">compromised</span>",
            "<span class=\"badge warn\">suspicious</span>",
            "peer=10.0.0.9:4444",
            "/usr/sbin/nginx › /usr/bin/python3.11 › /usr/bin/bash (pid 200)",
        ] {
            assert!(page.contains(expected), "{expected} missing");
        }
        assert!(page.find("<h2>Intrusions</h2>") < page.find("Events over time"), "the page opens with it");
    }

    /// Odd bytes in paths and names are shown escaped, never dropped: a newline, bytes
    /// that are not UTF-8, a backslash, markup.
    #[test]
    fn odd_bytes_are_escaped_not_dropped() {
        let records = [detection(
            1,
            TestEvent {
                detection: "persistence",
                action: "ALERT",
                hostname: b"h<1>",
                pid: 7,
                ppid: 6,
                exe: b"/tmp/e\\vil\xfe",
                parent_exe: b"/tmp/p\nq",
                path: b"/etc/cron.d/a\xff b\n<script>&\"",
                ..TestEvent::default()
            },
        )];
        let r = report(&records, None, 10);
        let d = &r.intrusions.timeline[0];
        assert_eq!(d.process, "/tmp/e\\\\vil\\xfe");
        let text = report_text(&r);
        for expected in [
            "/tmp/e\\\\vil\\xfe (pid 7)",
            "on h<1>: path=/etc/cron.d/a\\xff b\\x0a<script>&\" access=",
            "pid 7: /tmp/p\\x0aq › /tmp/e\\\\vil\\xfe",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        assert!(!text.contains("p\nq") && !text.contains("b\n<"));
        let page = crate::analysis::html::render(&r);
        assert!(page.contains("path=/etc/cron.d/a\\xff b\\x0a&lt;script&gt;&amp;&quot;"), "escaped path");
        assert!(page.contains("h&lt;1&gt;") && !page.contains("<script>") && !page.contains("h<1>"));
        assert!(page.contains("/tmp/p\\x0aq"));
    }

    /// The stats records count detections since the agent started: what they counted in
    /// the range beyond the records makes a verdict too (the records were lost).
    #[test]
    fn counted_without_records() {
        let records = [
            start(0, "enforcing"),
            stats(10, [0, 1, 1, 0]),
            detection(
                15,
                TestEvent {
                    detection: "userns_create",
                    action: "ALERT",
                    hostname: b"box",
                    pid: 9,
                    ppid: 8,
                    ..TestEvent::default()
                },
            ),
            stats(20, [1, 1, 3, 0]),
            // A new run counts from zero again.
            start(30, "enforcing"),
            stats(40, [0, 0, 0, 0]),
        ];
        // From 12 on: the first stats is the base: 1 low and 2 high counted in the range.
        let r = report(&records, Some(12), 10);
        let i = &r.intrusions;
        assert_eq!(
            i.counted.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>(),
            [("critical", 0), ("high", 2), ("low", 1), ("medium", 0)]
        );
        assert_eq!(i.unrecorded.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>(), [("high", 2)]);
        assert_eq!(verdicts(i), [("box", "compromised")], "the one host the records name");
        assert!(
            i.hosts[0].reasons[0].starts_with("2 detections counted (stats) with no record here, 2 high or critical"),
            "{:?}",
            i.hosts[0].reasons
        );
        // Without a record naming a host, the agent's host.
        let r = report(&[start(0, "audit-only"), stats(10, [0, 2, 0, 0])], None, 10);
        assert_eq!(verdicts(&r.intrusions), [(AGENT_HOST, "suspicious")]);
    }

    /// No detect record: one line, saying whether the module was on.
    #[test]
    fn without_detections_one_line() {
        let r = report(&[start(0, "enforcing"), stats(10, [0, 0, 0, 0])], None, 10);
        assert_eq!(verdicts(&r.intrusions), [(AGENT_HOST, "clean")]);
        let text = report_text(&r);
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("Intrusions")).collect();
        assert_eq!(lines, ["Intrusions: no detection: the detect module was enforcing (verdict: clean)"], "{text}");
        let next = text.lines().skip_while(|l| !l.starts_with("Intrusions")).nth(1);
        assert_eq!(next, Some(""), "one line, then the rest:\n{text}");
        let page = crate::analysis::html::render(&r);
        assert!(page.contains("<h2>Intrusions</h2><p class=\"none\">no detection: the detect module was enforcing (verdict: clean).</p></section>"));

        let r = report(&[start(0, "off")], None, 10);
        assert!(report_text(&r).contains("\nIntrusions: no detection record: the detect module was off"));
        assert!(r.intrusions.hosts.is_empty());
        let r = report(&[], None, 10);
        assert!(report_text(&r).contains("\nIntrusions: no detection record in these logs (no agent start record"));
    }

    /// The timeline keeps TIMELINE_ROWS (the first ones), the trees `--top`; `--top 0` keeps all.
    #[test]
    fn timeline_is_cut_and_says_so() {
        let records: Vec<Record> = (0..TIMELINE_ROWS as u64 + 5)
            .map(|n| {
                detection(
                    n,
                    TestEvent {
                        detection: "userns_create",
                        action: "ALERT",
                        hostname: b"h",
                        pid: 1000 + n as u32,
                        ppid: 1,
                        ..TestEvent::default()
                    },
                )
            })
            .collect();
        let r = report(&records, None, 10);
        assert_eq!((r.intrusions.timeline.len(), r.intrusions.more_timeline), (TIMELINE_ROWS, 5));
        // Each detection hangs off init: a tree each, cut to --top.
        assert_eq!((r.intrusions.trees.len(), r.intrusions.more_trees), (10, TIMELINE_ROWS - 10 + 5));
        assert!(report_text(&r).contains("    and 5 more (--top 0 lists all)\n"));
        let r = report(&records, None, 0);
        assert_eq!((r.intrusions.timeline.len(), r.intrusions.more_timeline), (TIMELINE_ROWS + 5, 0));
        assert_eq!((r.intrusions.trees.len(), r.intrusions.more_trees), (TIMELINE_ROWS + 5, 0));
    }
}
