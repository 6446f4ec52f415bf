//! `safeguard report`: behaviour analysis of the logs in one pass.
//!
//! Hot spots count the events (records of the file, network, process and mount modules)
//! in the range `--since`..`--until`: busiest processes (executable, else `[comm]`),
//! files, destinations, users; denials (`MONITOR` and `BLOCKED`) per rule and per
//! process. Anomalies, each with a rule simple enough to state in the output:
//! - first seen: an executable or destination whose earliest record in the logs falls
//!   in the examined part. With `--since`, the records before it are the baseline and the
//!   range is examined; without, the earlier half of the logged time span is the baseline
//!   and the later half is examined. No baseline records: nothing is "new".
//! - unusual denial rate: a process with at least 3 events and 3 denials whose share of
//!   denied events is at least the median share plus 3 scaled MADs, and at least 10%.
//! - burst: a minute with at least 5 times the median count of the minutes that have
//!   events, and at least 20 events.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;

use super::entry::{printable, Entry};
use super::read::{read_logs, Diagnostics, ReadSummary};
use super::time::{self, Micros, MICROS_PER_MINUTE};
use super::{html, parse_since, parse_until, DEFAULT_LOG};

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Log files; each is read after its rotated files (FILE.N ... FILE.1).
    #[arg(default_value = DEFAULT_LOG)]
    pub files: Vec<PathBuf>,
    /// Analyse records at or after T (earlier ones are the baseline for first-seen
    /// anomalies): RFC 3339, a date, or an age such as 10m, 2h, 1d.
    #[arg(long, value_name = "T", value_parser = parse_since)]
    pub since: Option<Micros>,
    /// Analyse records at or before T (same forms as --since).
    #[arg(long, value_name = "T", value_parser = parse_until)]
    pub until: Option<Micros>,
    /// Also write the report as one self-contained HTML page; `-` writes only the page,
    /// to standard output.
    #[arg(long, value_name = "OUT")]
    pub html: Option<PathBuf>,
    /// Rows in each top list; 0 shows every row. A cut list ends "and M more".
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

/// Minimum events and denials before a process's denial share is judged.
pub const RATE_MIN_COUNT: u64 = 3;
/// The least denial share called unusual, whatever the median.
pub const RATE_FLOOR: f64 = 0.10;
/// A burst minute has at least this many times the median…
pub const BURST_FACTOR: u64 = 5;
/// …and at least this many events.
pub const BURST_MIN: u64 = 20;

/// One row of a top list.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub events: u64,
    pub denials: u64,
}

/// An executable or destination first seen in the examined part.
#[derive(Clone, Debug, PartialEq)]
pub struct FirstSeen {
    pub name: String,
    pub first: Micros,
    pub events: u64,
    pub denials: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Burst {
    pub minute: Micros,
    pub events: u64,
    /// The process with the most events in that minute, and its share of them.
    pub top_process: String,
    pub top_share: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Novelty {
    /// Records from this time on are examined; earlier ones are the baseline.
    pub split: Micros,
    pub baseline_from: Micros,
    pub baseline_records: u64,
    pub executables: Vec<FirstSeen>,
    pub destinations: Vec<FirstSeen>,
}

/// Events over time in equal buckets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    pub start: Micros,
    pub bucket: Micros,
    /// (events, denials) per bucket.
    pub counts: Vec<(u64, u64)>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub read: ReadSummary,
    pub malformed: u64,
    pub since: Option<Micros>,
    pub until: Option<Micros>,
    /// First and last record in the range.
    pub first: Option<Micros>,
    pub last: Option<Micros>,
    pub records: u64,
    pub events: u64,
    pub denials: u64,
    pub by_module: BTreeMap<String, u64>,
    pub by_action: BTreeMap<String, u64>,
    pub agent_starts: u64,
    pub agent_stops: u64,
    pub lost: u64,
    pub enforcement: Option<String>,
    pub timeline: Timeline,
    pub processes: Vec<Row>,
    pub files: Vec<Row>,
    pub destinations: Vec<Row>,
    pub users: Vec<Row>,
    pub denials_by_rule: Vec<Row>,
    pub denials_by_process: Vec<Row>,
    /// `None` when there is no baseline to compare with.
    pub novelty: Option<Novelty>,
    pub unusual: Vec<Row>,
    pub rate_threshold: f64,
    pub bursts: Vec<Burst>,
    pub minute_median: u64,
    /// The findings of the last `inventory` record in the range (the agent's
    /// `[inventory]` module); `None` without one.
    pub risks: Option<Risks>,
    /// The `drift` records in the range, most severe first, then in time order.
    pub drift: Vec<DriftRow>,
    pub drift_total: u64,
    /// The drift records that add risk, by severity.
    pub drift_by_severity: BTreeMap<String, u64>,
    /// What the agent's `[telemetry]` module recorded (resources.rs).
    pub resources: super::resources::Resources,
    /// What the agent's `[detect]` module recorded and counted (intrusions.rs).
    pub intrusions: super::intrusions::Intrusions,
    /// Rows left out of each cut list.
    pub more: More,
}

/// What the last inventory record says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Risks {
    pub time: Micros,
    /// Findings by severity.
    pub findings: BTreeMap<String, u64>,
    /// The most severe findings, `SEVERITY ID: TITLE`.
    pub listed: Vec<String>,
    /// Findings the record did not list.
    pub omitted: u64,
}

/// One change of the host between two collections.
#[derive(Clone, Debug, PartialEq)]
pub struct DriftRow {
    pub time: Micros,
    /// `None`: the change adds no risk.
    pub severity: Option<String>,
    pub asset: String,
    pub change: String,
    pub item: String,
    pub finding: Option<String>,
}

impl DriftRow {
    /// For sorting: critical 4 … low 1, none 0.
    pub fn rank(&self) -> usize {
        let severity = self.severity.as_deref().and_then(|s| crate::inventory::Severity::parse(s).ok());
        severity.map_or(0, |s| s as usize + 1)
    }
}

/// How many rows `--top` cut from each list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct More {
    pub processes: usize,
    pub files: usize,
    pub destinations: usize,
    pub users: usize,
    pub denials_by_rule: usize,
    pub denials_by_process: usize,
    pub bursts: usize,
    pub drift: usize,
}

impl Report {
    pub fn burst_threshold(&self) -> u64 {
        (BURST_FACTOR * self.minute_median).max(BURST_MIN)
    }
}

/// Names counted with their events and denials.
#[derive(Default)]
struct Tally {
    index: HashMap<String, usize>,
    rows: Vec<Row>,
}

impl Tally {
    fn slot(&mut self, name: &str) -> usize {
        if let Some(&at) = self.index.get(name) {
            return at;
        }
        self.rows.push(Row { name: name.to_string(), events: 0, denials: 0 });
        self.index.insert(name.to_string(), self.rows.len() - 1);
        self.rows.len() - 1
    }

    /// `n` events (a folded record's count) of `name`, denied or not.
    fn add(&mut self, name: &str, n: u64, denied: bool) -> usize {
        let at = self.slot(name);
        let row = &mut self.rows[at];
        row.events += n;
        row.denials += if denied { n } else { 0 };
        at
    }

    /// The `top` rows by `key` (every row for 0), ties by name, and how many were cut.
    fn top(&self, top: usize, key: impl Fn(&Row) -> u64) -> (Vec<Row>, usize) {
        let mut rows: Vec<&Row> = self.rows.iter().filter(|row| key(row) > 0).collect();
        rows.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.name.cmp(&b.name)));
        let keep = if top == 0 { rows.len() } else { top.min(rows.len()) };
        let cut = rows.len() - keep;
        (rows.into_iter().take(keep).cloned().collect(), cut)
    }
}

/// Earliest sighting of each name, over every record up to `--until`.
#[derive(Default)]
struct Sightings {
    first: HashMap<String, FirstSeen>,
}

impl Sightings {
    fn see(&mut self, name: &str, at: Micros, in_range: bool, n: u64, denied: bool) {
        let seen = match self.first.get_mut(name) {
            Some(seen) => seen,
            None => self.first.entry(name.to_string()).or_insert(FirstSeen {
                name: name.to_string(),
                first: at,
                events: 0,
                denials: 0,
            }),
        };
        seen.first = seen.first.min(at);
        if in_range {
            seen.events += n;
            seen.denials += if denied { n } else { 0 };
        }
    }

    fn new_since(&self, split: Micros) -> Vec<FirstSeen> {
        let mut found: Vec<FirstSeen> = self.first.values().filter(|seen| seen.first >= split).cloned().collect();
        found.sort_by(|a, b| a.first.cmp(&b.first).then_with(|| a.name.cmp(&b.name)));
        found
    }
}

#[derive(Default)]
struct Minute {
    events: u64,
    denials: u64,
    /// Events per process (index into the process tally).
    by_process: HashMap<usize, u64>,
}

/// The one-pass accumulator.
struct Analyzer<'u> {
    report: Report,
    top: usize,
    users: &'u dyn Fn(u64) -> Option<String>,
    processes: Tally,
    files: Tally,
    destinations: Tally,
    users_tally: Tally,
    rules: Tally,
    executables: Sightings,
    peers: Sightings,
    minutes: BTreeMap<Micros, Minute>,
    /// Earliest and latest record before `--until`, baseline included.
    all_first: Option<Micros>,
    all_last: Option<Micros>,
    /// Records before `--since`.
    before_since: u64,
}

impl Analyzer<'_> {
    fn add(&mut self, entry: &Entry<'_>) {
        let Some(at) = entry.micros() else {
            self.report.malformed += 1;
            return;
        };
        if self.report.until.is_some_and(|until| at > until) {
            return;
        }
        let in_range = self.report.since.is_none_or(|since| at >= since);
        let denied = entry.is_denial();
        let n = entry.weight();
        let denials = if denied { n } else { 0 };
        if entry.is_event() {
            self.all_first = Some(self.all_first.map_or(at, |first| first.min(at)));
            self.all_last = Some(self.all_last.map_or(at, |last| last.max(at)));
            if let Some(process) = entry.process() {
                if !process.starts_with('[') {
                    self.executables.see(&process, at, in_range, n, denied);
                }
            }
            if entry.op.as_str() == "exec" {
                if let Some(filename) = entry.filename.as_ref().filter(|f| f.as_str().starts_with('/')) {
                    if entry.exe.as_ref().is_none_or(|exe| exe.as_str() != filename.as_str()) {
                        self.executables.see(filename.as_str(), at, in_range, n, denied);
                    }
                }
            }
            if entry.module.as_str() == "network" {
                if let Some(addr) = entry.judged_address() {
                    self.peers.see(&destination_name(addr, entry), at, in_range, n, denied);
                }
            }
        }
        if entry.module.as_str() == "agent" {
            self.report.intrusions.agent(entry, in_range);
        }
        if !in_range {
            self.before_since += 1;
            return;
        }
        if entry.module.as_str() == "detect" {
            self.report.intrusions.add(entry, at);
        }
        let r = &mut self.report;
        r.records += 1;
        r.first = Some(r.first.map_or(at, |first| first.min(at)));
        r.last = Some(r.last.map_or(at, |last| last.max(at)));
        if !entry.is_event() {
            match entry.op.as_str() {
                "start" => {
                    r.agent_starts += 1;
                    r.enforcement = entry.enforcement.as_ref().map(|e| e.as_str().to_string());
                }
                "stop" => r.agent_stops += 1,
                "stats" => r.lost += entry.lost(),
                _ => {}
            }
            if entry.module.as_str() == "inventory" {
                inventory(r, entry, at);
            }
            if entry.module.as_str() == "telemetry" {
                r.resources.add(entry, at);
            }
            return;
        }

        r.events += n;
        r.denials += denials;
        *r.by_module.entry(entry.module.as_str().to_string()).or_default() += n;
        if let Some(action) = &entry.action {
            *r.by_action.entry(action.as_str().to_string()).or_default() += n;
        }
        let process = entry.process().map_or_else(|| "(unknown)".to_string(), |p| p.into_owned());
        let process_slot = self.processes.add(&process, n, denied);
        match entry.module.as_str() {
            "file" | "mount" => {
                for path in [&entry.path, &entry.target_path].into_iter().flatten() {
                    self.files.add(path.as_str(), n, denied);
                }
            }
            "network" => {
                if let Some(addr) = entry.judged_address() {
                    let name = match (entry.op.as_str(), entry.endpoint()) {
                        ("connect" | "sendmsg", Some(endpoint)) => endpoint,
                        _ => addr.to_string(),
                    };
                    self.destinations.add(&destination_name(&name, entry), n, denied);
                }
            }
            _ => {}
        }
        if let Some(uid) = entry.uid {
            // The name the agent recorded at event time; `users` only for records without.
            let logged = entry.user.as_ref().map(|user| printable(user.as_str()).into_owned());
            let name = match logged.or_else(|| (self.users)(uid)) {
                Some(user) => format!("{uid} ({user})"),
                None => uid.to_string(),
            };
            self.users_tally.add(&name, n, denied);
        }
        if denied {
            // A blocked detection has no rule: the detection stands for it.
            let detection;
            let rule = match &entry.rule {
                Some(rule) => rule.as_str(),
                None if entry.module.as_str() == "detect" => {
                    detection = format!("detection {}", entry.op.as_str());
                    &detection
                }
                None => "(no rule)",
            };
            self.rules.add(rule, n, true);
        }
        let minute = self.minutes.entry(at.div_euclid(MICROS_PER_MINUTE)).or_default();
        minute.events += n;
        minute.denials += denials;
        *minute.by_process.entry(process_slot).or_default() += n;
    }

    fn finish(mut self) -> Report {
        let top = self.top;
        let r = &mut self.report;
        (r.processes, r.more.processes) = self.processes.top(top, |row| row.events);
        (r.denials_by_process, r.more.denials_by_process) = self.processes.top(top, |row| row.denials);
        (r.files, r.more.files) = self.files.top(top, |row| row.events);
        (r.destinations, r.more.destinations) = self.destinations.top(top, |row| row.events);
        (r.users, r.more.users) = self.users_tally.top(top, |row| row.events);
        (r.denials_by_rule, r.more.denials_by_rule) = self.rules.top(top, |row| row.denials);

        // First seen: the split is --since, else the middle of the logged span.
        let split = match (r.since, self.all_first, self.all_last) {
            (Some(since), _, _) => Some(since),
            (None, Some(first), Some(last)) if last > first => Some(first + (last - first) / 2),
            _ => None,
        };
        let baseline_records = match (r.since, split) {
            (Some(_), _) => self.before_since,
            (None, Some(split)) => {
                self.minutes.range(..split.div_euclid(MICROS_PER_MINUTE)).map(|(_, m)| m.events).sum()
            }
            _ => 0,
        };
        r.novelty = match (split, self.all_first) {
            (Some(split), Some(first)) if first < split && baseline_records > 0 => Some(Novelty {
                split,
                baseline_from: first,
                baseline_records,
                executables: self.executables.new_since(split),
                destinations: self.peers.new_since(split),
            }),
            _ => None,
        };

        // Unusual denial shares.
        (r.unusual, r.rate_threshold) = unusual_rates(&self.processes.rows);

        // Bursts.
        let mut counts: Vec<u64> = self.minutes.values().map(|m| m.events).collect();
        counts.sort_unstable();
        r.minute_median = counts.get(counts.len().wrapping_sub(1) / 2).copied().unwrap_or(0);
        let threshold = r.burst_threshold();
        let mut bursts: Vec<Burst> = self
            .minutes
            .iter()
            .filter(|(_, m)| m.events >= threshold)
            .map(|(minute, m)| {
                let (slot, count) = m
                    .by_process
                    .iter()
                    .max_by(|a, b| {
                        a.1.cmp(b.1).then_with(|| self.processes.rows[*b.0].name.cmp(&self.processes.rows[*a.0].name))
                    })
                    .map_or((usize::MAX, 0), |(slot, count)| (*slot, *count));
                Burst {
                    minute: minute * MICROS_PER_MINUTE,
                    events: m.events,
                    top_process: self.processes.rows.get(slot).map_or_else(String::new, |row| row.name.clone()),
                    top_share: count as f64 / m.events as f64,
                }
            })
            .collect();
        bursts.sort_by(|a, b| b.events.cmp(&a.events).then_with(|| a.minute.cmp(&b.minute)));
        if top > 0 && bursts.len() > top {
            r.more.bursts = bursts.len() - top;
            bursts.truncate(top);
        }
        r.bursts = bursts;

        r.timeline = timeline(&self.minutes, r.first, r.last);

        r.drift.sort_by(|a, b| b.rank().cmp(&a.rank()).then_with(|| a.time.cmp(&b.time)));
        if top > 0 && r.drift.len() > top {
            r.more.drift = r.drift.len() - top;
            r.drift.truncate(top);
        }
        r.resources.finish(top);
        r.intrusions.finish(top);
        self.report
    }
}

/// An `inventory` record (the latest gives the risks) or a `drift` record.
fn inventory(r: &mut Report, entry: &Entry<'_>, at: Micros) {
    let text = |field: &Option<super::entry::Text<'_>>| field.as_ref().map(|t| printable(t.as_str()).into_owned());
    match entry.op.as_str() {
        "inventory" => {
            if r.risks.as_ref().is_some_and(|risks| risks.time > at) {
                return;
            }
            r.risks = Some(Risks {
                time: at,
                findings: entry.findings.clone().unwrap_or_default(),
                listed: entry.risks.iter().flatten().map(|risk| printable(risk.as_str()).into_owned()).collect(),
                omitted: entry.risks_omitted.unwrap_or(0),
            });
        }
        "drift" => {
            r.drift_total += 1;
            let severity = text(&entry.severity);
            if let Some(severity) = &severity {
                *r.drift_by_severity.entry(severity.clone()).or_default() += 1;
            }
            r.drift.push(DriftRow {
                time: at,
                severity,
                asset: text(&entry.asset).unwrap_or_default(),
                change: text(&entry.change).unwrap_or_default(),
                item: text(&entry.item).unwrap_or_default(),
                finding: text(&entry.finding),
            });
        }
        _ => {}
    }
}

/// `1 critical, 2 high, 0 medium, 0 low` from counts by severity name.
pub fn severity_counts(counts: &BTreeMap<String, u64>) -> String {
    crate::inventory::Severity::ALL
        .iter()
        .rev()
        .map(|s| format!("{} {}", counts.get(s.name()).copied().unwrap_or(0), s.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The processes whose share of denied events is unusual (module comment), most
/// unusual first, and the share from which on a process is.
pub fn unusual_rates(processes: &[Row]) -> (Vec<Row>, f64) {
    let judged: Vec<&Row> = processes.iter().filter(|row| row.events >= RATE_MIN_COUNT).collect();
    let shares: Vec<f64> = judged.iter().map(|row| share(row)).collect();
    let median_share = median_f64(&shares);
    let mad = median_f64(&shares.iter().map(|s| (s - median_share).abs()).collect::<Vec<_>>());
    let threshold = (median_share + 3.0 * 1.4826 * mad).max(RATE_FLOOR);
    let mut unusual: Vec<Row> =
        judged.into_iter().filter(|row| row.denials >= RATE_MIN_COUNT && share(row) >= threshold).cloned().collect();
    unusual.sort_by(|a, b| {
        share(b).total_cmp(&share(a)).then_with(|| b.denials.cmp(&a.denials)).then_with(|| a.name.cmp(&b.name))
    });
    (unusual, threshold)
}

/// `addr` or `addr:port`, with the domain the agent resolved it from.
fn destination_name(addr: &str, entry: &Entry<'_>) -> String {
    match &entry.domain {
        Some(domain) if !domain.as_str().is_empty() => format!("{addr} ({})", domain.as_str()),
        _ => addr.to_string(),
    }
}

fn share(row: &Row) -> f64 {
    if row.events == 0 {
        0.0
    } else {
        row.denials as f64 / row.events as f64
    }
}

fn median_f64(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The most buckets of a timeline: one mark each in a line of the text report, which
/// fits 100 columns with its indent.
pub const MAX_BUCKETS: i64 = 96;

/// Buckets of a round size giving at most `MAX_BUCKETS` over the range.
fn timeline(minutes: &BTreeMap<Micros, Minute>, first: Option<Micros>, last: Option<Micros>) -> Timeline {
    const SIZES: [i64; 13] = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 10_080];
    let (Some(first), Some(last)) = (first, last) else { return Timeline::default() };
    let buckets_of = |size: i64| {
        let bucket = size * MICROS_PER_MINUTE;
        (last - first.div_euclid(bucket) * bucket) / bucket + 1
    };
    // Past the round sizes (months of log): whole weeks, as many as it takes.
    let size = SIZES.into_iter().find(|size| buckets_of(*size) <= MAX_BUCKETS).unwrap_or_else(|| {
        let weeks = (last - first) / (10_080 * MICROS_PER_MINUTE) / (MAX_BUCKETS - 1) + 1;
        (weeks..).map(|weeks| weeks * 10_080).find(|size| buckets_of(*size) <= MAX_BUCKETS).unwrap_or(10_080)
    });
    let bucket = size * MICROS_PER_MINUTE;
    let start = first.div_euclid(bucket) * bucket;
    let buckets = ((last - start) / bucket + 1) as usize;
    let mut counts = vec![(0, 0); buckets];
    for (minute, m) in minutes {
        let at = ((minute * MICROS_PER_MINUTE - start) / bucket) as usize;
        if let Some(slot) = counts.get_mut(at) {
            slot.0 += m.events;
            slot.1 += m.denials;
        }
    }
    Timeline { start, bucket, counts }
}

/// Analyses the logs at `paths`.
pub fn analyse(
    paths: &[PathBuf],
    since: Option<Micros>,
    until: Option<Micros>,
    top: usize,
    users: &dyn Fn(u64) -> Option<String>,
    diag: &mut Diagnostics,
) -> Report {
    let mut analyzer = Analyzer {
        report: Report { since, until, ..Report::default() },
        top,
        users,
        processes: Tally::default(),
        files: Tally::default(),
        destinations: Tally::default(),
        users_tally: Tally::default(),
        rules: Tally::default(),
        executables: Sightings::default(),
        peers: Sightings::default(),
        minutes: BTreeMap::new(),
        all_first: None,
        all_last: None,
        before_since: 0,
    };
    let read = read_logs(paths, diag, |entry| analyzer.add(entry));
    let mut report = analyzer.finish();
    report.read = read;
    report.malformed += diag.malformed;
    report
}

/// A number with thousands separators: `12,345`.
pub fn thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (at, ch) in digits.chars().enumerate() {
        if at > 0 && (digits.len() - at) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".to_string();
    }
    let share = part as f64 * 100.0 / whole as f64;
    if share > 0.0 && share < 1.0 {
        "<1%".to_string()
    } else {
        format!("{share:.0}%")
    }
}

/// What the range covers, for headers: `2026-11-20 00:00:00 – 2026-11-20 23:59:59 UTC (23h 59m)`.
pub fn range_text(report: &Report) -> String {
    match (report.first, report.last) {
        (Some(first), Some(last)) => format!(
            "{} – {} UTC ({})",
            time::format_short(first),
            time::format_short(last),
            time::format_span(last - first)
        ),
        _ => "no records in the range".to_string(),
    }
}

/// The report for a terminal.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    let files = r.read.files.len();
    let _ = writeln!(out, "safeguard report: {}", range_text(r));
    let _ = write!(out, "{} records from {files} file{}", thousands(r.records), if files == 1 { "" } else { "s" });
    if r.malformed > 0 {
        let _ = write!(out, ", {} malformed line{} skipped", r.malformed, if r.malformed == 1 { "" } else { "s" });
    }
    out.push('\n');
    super::intrusions::render_text(&r.intrusions, &mut out);
    out.push('\n');
    let by = |map: &BTreeMap<String, u64>| {
        map.iter().map(|(name, count)| format!("{name} {}", thousands(*count))).collect::<Vec<_>>().join(" · ")
    };
    let _ = writeln!(out, "  events    {:>9}   {}", thousands(r.events), by(&r.by_module));
    let _ = writeln!(
        out,
        "  denials   {:>9}   {} of events (MONITOR: block mode would deny; BLOCKED: denied)",
        thousands(r.denials),
        percent(r.denials, r.events)
    );
    if !r.by_action.is_empty() {
        let _ = writeln!(out, "  actions   {:>9}   {}", "", by(&r.by_action));
    }
    let _ = writeln!(
        out,
        "  agent     {} start{}, {} stop{}, enforcement {}, {} event{} lost",
        r.agent_starts,
        if r.agent_starts == 1 { "" } else { "s" },
        r.agent_stops,
        if r.agent_stops == 1 { "" } else { "s" },
        r.enforcement.as_deref().unwrap_or("unknown"),
        thousands(r.lost),
        if r.lost == 1 { "" } else { "s" },
    );

    if !r.timeline.counts.is_empty() {
        let max = r.timeline.counts.iter().map(|c| c.0).max().unwrap_or(0).max(1);
        let _ = writeln!(
            out,
            "\nEvents over time (one mark = {}, from {} UTC; the tallest = {} events)",
            time::format_span(r.timeline.bucket),
            time::format_minute(r.timeline.start),
            thousands(max)
        );
        const MARKS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        let line: String = r
            .timeline
            .counts
            .iter()
            .map(|(events, _)| MARKS[if *events == 0 { 0 } else { 1 + (*events * 7 / max) as usize }])
            .collect();
        let _ = writeln!(out, "  {line}");
    }

    /// Which numbers a table shows after the name.
    #[derive(PartialEq)]
    enum Columns {
        EventsDenials,
        DenialsOfEvents,
        Denials,
    }
    let table = |out: &mut String, title: &str, rows: &[Row], more: usize, columns: Columns| {
        let _ = writeln!(out, "\n{title}");
        if rows.is_empty() {
            out.push_str("  (none)\n");
            return;
        }
        let width = rows.iter().map(|row| printable(&row.name).chars().count()).max().unwrap_or(0).clamp(10, 60);
        let (first, second) = match columns {
            Columns::EventsDenials => ("events", "denials"),
            Columns::DenialsOfEvents => ("denials", "of events"),
            Columns::Denials => ("denials", ""),
        };
        let _ = writeln!(out, "  {:<width$}  {first:>9}  {second:>9}", "");
        for row in rows {
            let name = printable(&row.name);
            let _ = match columns {
                Columns::EventsDenials => {
                    writeln!(out, "  {name:<width$}  {:>9}  {:>9}", thousands(row.events), thousands(row.denials))
                }
                Columns::DenialsOfEvents => {
                    writeln!(out, "  {name:<width$}  {:>9}  {:>9}", thousands(row.denials), thousands(row.events))
                }
                Columns::Denials => writeln!(out, "  {name:<width$}  {:>9}", thousands(row.denials)),
            };
        }
        and_more(out, "  ", more);
    };
    let m = &r.more;
    table(&mut out, "Busiest processes", &r.processes, m.processes, Columns::EventsDenials);
    table(&mut out, "Busiest files", &r.files, m.files, Columns::EventsDenials);
    table(&mut out, "Busiest destinations", &r.destinations, m.destinations, Columns::EventsDenials);
    table(&mut out, "Busiest users (uid and the name logged)", &r.users, m.users, Columns::EventsDenials);
    table(&mut out, "Denials by rule", &r.denials_by_rule, m.denials_by_rule, Columns::Denials);
    table(&mut out, "Denials by process", &r.denials_by_process, m.denials_by_process, Columns::DenialsOfEvents);

    out.push_str("\nAnomalies\n");
    match &r.novelty {
        None => out.push_str("  first seen: no baseline (no records before the examined part)\n"),
        Some(novelty) => {
            let _ = writeln!(
                out,
                "  baseline {} – {} ({} events); examined from {}",
                time::format_short(novelty.baseline_from),
                time::format_short(novelty.split),
                thousands(novelty.baseline_records),
                time::format_short(novelty.split)
            );
            for (title, found) in
                [("New executables", &novelty.executables), ("New destinations", &novelty.destinations)]
            {
                let _ = writeln!(out, "  {title}");
                if found.is_empty() {
                    out.push_str("    (none)\n");
                }
                for seen in found {
                    let _ = writeln!(
                        out,
                        "    {}  {}  {} event{}, {} denied",
                        time::format_short(seen.first),
                        printable(&seen.name),
                        thousands(seen.events),
                        if seen.events == 1 { "" } else { "s" },
                        thousands(seen.denials)
                    );
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "  Unusual denial rates (at least {} of events denied, and {} denials)",
        percent((r.rate_threshold * 1000.0).round() as u64, 1000),
        RATE_MIN_COUNT
    );
    if r.unusual.is_empty() {
        out.push_str("    (none)\n");
    }
    for row in &r.unusual {
        let _ = writeln!(
            out,
            "    {}  {} of {} events denied ({})",
            printable(&row.name),
            thousands(row.denials),
            thousands(row.events),
            percent(row.denials, row.events)
        );
    }
    let _ = writeln!(
        out,
        "  Bursts (minutes with at least {} events; the median minute has {})",
        r.burst_threshold(),
        r.minute_median
    );
    if r.bursts.is_empty() {
        out.push_str("    (none)\n");
    }
    for burst in &r.bursts {
        let _ = writeln!(
            out,
            "    {}  {} events, {:.0}% from {}",
            time::format_minute(burst.minute),
            thousands(burst.events),
            burst.top_share * 100.0,
            printable(&burst.top_process)
        );
    }
    and_more(&mut out, "    ", r.more.bursts);

    match &r.risks {
        None => out.push_str("\nRisks\n  (no inventory record: the agent's [inventory] module writes them)\n"),
        Some(risks) => {
            let _ = writeln!(out, "\nRisks (the last inventory, {} UTC)", time::format_short(risks.time));
            let _ = writeln!(out, "  findings: {}", severity_counts(&risks.findings));
            for risk in &risks.listed {
                let _ = writeln!(out, "    {risk}");
            }
            if risks.omitted > 0 {
                let _ = writeln!(out, "    and {} more (safeguard risk lists all)", thousands(risks.omitted));
            }
        }
    }
    let risky: u64 = r.drift_by_severity.values().sum();
    let _ = writeln!(
        out,
        "\nDrift ({} change{}, {} adding risk: {})",
        thousands(r.drift_total),
        if r.drift_total == 1 { "" } else { "s" },
        thousands(risky),
        severity_counts(&r.drift_by_severity)
    );
    if r.drift.is_empty() {
        out.push_str("  (none)\n");
    }
    for row in &r.drift {
        let finding = row.finding.as_ref().map(|f| format!("  [{f}]")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}  {:<8}  {:<7}  {:<17}  {}{finding}",
            time::format_short(row.time),
            row.severity.as_deref().unwrap_or("-"),
            row.change,
            row.asset,
            row.item
        );
    }
    and_more(&mut out, "  ", r.more.drift);
    super::resources::render_text(&r.resources, &mut out);
    out
}

/// The line that ends a list `--top` cut.
fn and_more(out: &mut String, indent: &str, more: usize) {
    if more > 0 {
        let _ = writeln!(out, "{indent}and {} more (--top 0 lists all)", thousands(more as u64));
    }
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    super::check_inputs(&args.files).context("report")?;
    let mut diag = Diagnostics::stderr();
    // User names are the ones logged at event time: this host's /etc/passwd may be
    // another host's, or have changed since.
    let report = analyse(&args.files, args.since, args.until, args.top, &|_| None, &mut diag);
    match &args.html {
        Some(out) if out.as_os_str() == "-" => super::write_stdout(&html::render(&report)).context("report")?,
        Some(out) => {
            std::fs::write(out, html::render(&report)).with_context(|| format!("report: write {}", out.display()))?;
            super::write_stdout(&render_text(&report)).context("report")?;
        }
        None => super::write_stdout(&render_text(&report)).context("report")?,
    }
    if diag.failures > 0 {
        anyhow::bail!("report: {} log file(s) could not be read", diag.failures);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures;

    fn scenario(format: &str, since: Option<&str>) -> (Report, Diagnostics) {
        let mut diag = Diagnostics::captured();
        let log = fixtures::dir().join(format!("scenario-{format}/safeguard.log"));
        let since = since.map(|text| time::parse_rfc3339(text).unwrap());
        let report = analyse(&[log], since, None, 100, &|uid| (uid == 0).then(|| "root".to_string()), &mut diag);
        (report, diag)
    }

    fn row<'r>(rows: &'r [Row], name: &str) -> &'r Row {
        rows.iter().find(|row| row.name == name).unwrap_or_else(|| panic!("{name} not in {rows:#?}"))
    }

    /// Counts straight from the scenario's records, independent of the reader.
    #[test]
    fn totals_match_the_scenario() {
        let records = fixtures::records();
        let events = records.iter().filter(|r| r.module != "agent").count() as u64;
        let denials =
            records.iter().filter(|r| matches!(r.action, Some(crate::logging::Action::Monitor))).count() as u64;
        let (report, diag) = scenario("json", None);
        assert_eq!(report.read.files.len(), 3);
        assert_eq!(report.records, records.len() as u64);
        assert_eq!(report.events, events);
        assert_eq!(report.denials, denials);
        assert_eq!(report.malformed, 1);
        assert_eq!(diag.malformed, 1);
        assert!(diag.messages[0].contains("safeguard.log.1:11: skipped malformed record"), "{:?}", diag.messages);
        assert_eq!((report.agent_starts, report.agent_stops, report.lost), (2, 2, 3));
        assert_eq!(report.enforcement.as_deref(), Some("degraded"));
        let timeline_events: u64 = report.timeline.counts.iter().map(|c| c.0).sum();
        assert_eq!(timeline_events, events);
        assert_eq!(report.timeline.bucket, 15 * MICROS_PER_MINUTE);
    }

    /// A folded record (the writer's flood control) counts as the events it stands for.
    #[test]
    fn folded_records_count_their_events() {
        let dir = std::env::temp_dir().join(format!("safeguard-report-fold-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("safeguard.log");
        let denial = |time: &str, count: &str| {
            format!(
                r#"{{"time":"{time}","level":"WARNING","level_no":30,"module":"file","op":"read","action":"BLOCKED","rule":"/srv/secret","pid":7,"uid":0,"comm":"cat","exe":"/bin/cat","path":"/srv/secret/key"{count}}}"#
            )
        };
        let text = [denial("2026-11-22T10:00:00.000000Z", ""), denial("2026-11-22T10:00:01.000000Z", r#","count":41"#)]
            .join("\n");
        std::fs::write(&log, text + "\n").unwrap();
        let mut diag = Diagnostics::captured();
        let report = analyse(&[log], None, None, 10, &|_| None, &mut diag);
        assert_eq!((report.records, report.events, report.denials), (2, 42, 42));
        assert_eq!(row(&report.files, "/srv/secret/key").events, 42);
        assert_eq!(row(&report.denials_by_rule, "/srv/secret").denials, 42);
        assert_eq!(row(&report.processes, "/bin/cat").denials, 42);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn json_and_text_logs_give_the_same_report() {
        let (json, _) = scenario("json", None);
        let (text, _) = scenario("text", None);
        let strip = |mut report: Report| {
            report.read.files.clear();
            report.read.lines = 0;
            report
        };
        assert_eq!(strip(json), strip(text));
    }

    #[test]
    fn hot_spots() {
        let (report, _) = scenario("text", None);
        assert_eq!(report.processes[0].name, "/usr/sbin/nginx");
        assert_eq!(report.processes[1].name, "/usr/bin/python3.11");
        assert_eq!(row(&report.processes, "/tmp/.hidden/miner").events, 150);
        assert_eq!(row(&report.processes, "/usr/sbin/nginx").events, 24 * 12 + 4);
        assert_eq!(row(&report.destinations, "10.0.0.5:5432").events, 24 * 4);
        assert_eq!(row(&report.destinations, "93.184.216.34:443 (api.example.com)").events, 24);
        assert_eq!(row(&report.destinations, "[2001:db8::34]:443 (api.example.com)").events, 24);
        assert_eq!(row(&report.files, "/srv/app/data/users.db").events, 24 * 3);
        // Non-UTF-8 and backslash paths are counted in byte notation.
        assert_eq!(row(&report.files, "/srv/app/uploads/r\\xe9sum\\xe9.pdf").events, 8);
        assert_eq!(row(&report.files, "/srv/app/uploads/a\\\\b.txt").events, 8);
        let root_events = fixtures::records()
            .iter()
            .filter(|r| r.module != "agent" && r.fields.contains(&("uid", crate::logging::Value::Uint(0))))
            .count() as u64;
        assert_eq!(row(&report.users, "0 (root)").events, root_events);
        assert_eq!(report.users.len(), 3);
        assert_eq!(row(&report.denials_by_rule, "169.254.169.254/32").denials, 6);
        assert_eq!(row(&report.denials_by_rule, "/tmp/").denials, 10);
        assert_eq!(row(&report.denials_by_rule, "/usr/bin/nc").denials, 1);
        assert_eq!(row(&report.denials_by_process, "/tmp/.hidden/miner").denials, 28);
    }

    #[test]
    fn anomalies() {
        let (report, _) = scenario("json", None);
        let novelty = report.novelty.as_ref().expect("a baseline");
        let split = time::format_rfc3339(novelty.split);
        assert!(split.as_str() > "2026-11-20T11:30" && split.as_str() < "2026-11-20T12:30", "{split}");
        let names = |found: &[FirstSeen]| found.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&novelty.executables), ["/usr/bin/nc", "/tmp/.hidden/miner"]);
        assert_eq!(names(&novelty.destinations), ["45.77.1.2"]);
        let unusual: Vec<&str> = report.unusual.iter().map(|row| row.name.as_str()).collect();
        assert_eq!(unusual, ["/usr/bin/curl", "/tmp/.hidden/miner"]);
        assert_eq!(report.bursts.len(), 1, "{:?}", report.bursts);
        assert_eq!(report.minute_median, 2);
        assert_eq!(time::format_minute(report.bursts[0].minute), "2026-11-20 15:30");
        assert_eq!(report.bursts[0].top_process, "/tmp/.hidden/miner");
        assert!(report.bursts[0].events >= 120);
    }

    #[test]
    fn since_makes_the_earlier_records_the_baseline() {
        let (report, _) = scenario("json", Some("2026-11-20T15:00:00Z"));
        let novelty = report.novelty.as_ref().unwrap();
        assert_eq!(novelty.executables.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["/tmp/.hidden/miner"]);
        assert!(report.first.unwrap() >= time::parse_rfc3339("2026-11-20T15:00:00Z").unwrap());
        // Nothing before the logs begin: no baseline.
        let (report, _) = scenario("json", Some("2026-11-19T00:00:00Z"));
        assert!(report.novelty.is_none());
        assert!(render_text(&report).contains("no baseline"));
    }

    #[test]
    fn text_rendering_names_what_matters() {
        let mut diag = Diagnostics::captured();
        let log = fixtures::dir().join("scenario-json/safeguard.log");
        let report = analyse(&[log], None, None, 100, &|_| None, &mut diag);
        let text = render_text(&report);
        for expected in [
            "safeguard report: 2026-11-20 00:00:00 – 2026-11-20 23:59:59 UTC",
            "1 malformed line skipped",
            "Busiest processes",
            "/usr/sbin/nginx",
            "Denials by rule",
            "169.254.169.254/32",
            "New executables",
            "/tmp/.hidden/miner",
            "45.77.1.2",
            "2026-11-20 15:30",
            "2 starts, 2 stops, enforcement degraded, 3 events lost",
            "/srv/app/uploads/evil\\x0aname",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        assert!(!text.contains("evil\nname"));
    }

    #[test]
    fn empty_logs_report_nothing_gracefully() {
        let dir = std::env::temp_dir().join(format!("safeguard-report-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("s.log");
        std::fs::write(&log, "").unwrap();
        let mut diag = Diagnostics::captured();
        let report = analyse(&[log], None, None, 10, &|_| None, &mut diag);
        let text = render_text(&report);
        assert!(text.contains("no records in the range"), "{text}");
        assert!(report.novelty.is_none() && report.bursts.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn recorded_logs() {
        for set in ["recorded-json", "recorded-text"] {
            let mut diag = Diagnostics::captured();
            let log = fixtures::dir().join(set).join("safeguard.log");
            let report = analyse(&[log], None, None, 10, &|_| None, &mut diag);
            assert_eq!(row(&report.denials_by_rule, "/tmp/sgrec/denied").denials, 2, "{set}");
            assert_eq!(report.by_module.keys().collect::<Vec<_>>(), ["process"]);
            assert_eq!((report.agent_starts, report.agent_stops, report.lost), (1, 1, 0), "{set}");
            assert!(
                report.processes.iter().any(|row| row.name == "/tmp/sgrec/we\\\\ird\\xfe"),
                "{set}: {:?}",
                report.processes
            );
            render_text(&report);
        }
    }

    /// The inventory's records: the last summary gives the risks, every drift record a
    /// row (most severe first); they are not events. Both line formats read alike.
    #[test]
    fn risks_and_drift_from_inventory_records() {
        use crate::logging::{write_json, write_text, Level, Record, Value};
        use std::time::{Duration, UNIX_EPOCH};
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(1_795_000_000 + secs);
        let summary = |secs: u64, critical: u64, risks: &[&str]| {
            let mut record = Record::new(Level::Info, "inventory", "inventory")
                .field("assets", Value::Map(vec![("users".into(), Value::Uint(3))]))
                .field(
                    "findings",
                    Value::Map(vec![
                        ("critical".into(), Value::Uint(critical)),
                        ("high".into(), Value::Uint(1)),
                        ("medium".into(), Value::Uint(0)),
                        ("low".into(), Value::Uint(0)),
                    ]),
                )
                .field("risks", Value::List(risks.iter().map(|r| Value::Str(r.to_string())).collect()))
                .field("risks_omitted", Value::Uint(4));
            record.time = at(secs);
            record
        };
        let drift = |secs: u64, change: &str, item: &str, severity: Option<&str>, finding: Option<&str>| {
            let level = if severity.is_some() { Level::Warning } else { Level::Info };
            let mut record = Record::new(level, "inventory", "drift")
                .field("asset", Value::Str("setid_files".into()))
                .field("change", Value::Str(change.into()))
                .field("item", Value::Str(item.into()));
            if let Some(severity) = severity {
                record.fields.push(("severity", Value::Str(severity.into())));
            }
            if let Some(finding) = finding {
                record.fields.push(("finding", Value::Str(finding.into())));
                record.fields.push(("title", Value::Str("a title, with = and \"quotes\"".into())));
            }
            record.time = at(secs);
            record
        };
        let records = [
            summary(0, 0, &["high ssh-root-login: sshd lets root log in with a password"]),
            drift(60, "added", "/opt/a b", Some("medium"), None),
            drift(61, "added", "/usr/local/bin/x", Some("high"), Some("setid-unowned")),
            drift(62, "removed", "/opt/old", None, None),
            summary(63, 1, &["critical uid0-account: account toor has uid 0 besides root", "high ssh-root-login: x"]),
        ];
        let dir = std::env::temp_dir().join(format!("safeguard-report-inventory-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut reports = Vec::new();
        for json in [true, false] {
            let mut out = Vec::new();
            for record in &records {
                if json {
                    write_json(&mut out, record, &[]);
                } else {
                    write_text(&mut out, record, &[]);
                }
            }
            let log = dir.join(if json { "json.log" } else { "text.log" });
            std::fs::write(&log, out).unwrap();
            let mut diag = Diagnostics::captured();
            let report = analyse(&[log], None, None, 2, &|_| None, &mut diag);
            assert_eq!(diag.malformed, 0, "{:?}", diag.messages);
            reports.push(report);
        }
        std::fs::remove_dir_all(&dir).unwrap();
        let strip = |mut report: Report| {
            report.read.files.clear();
            report
        };
        let json = strip(reports.remove(0));
        assert_eq!(json, strip(reports.remove(0)));

        assert_eq!((json.records, json.events), (5, 0), "inventory records are not events");
        let risks = json.risks.as_ref().unwrap();
        assert_eq!(risks.time, time::parse_rfc3339("2026-11-18T11:07:43Z").unwrap());
        assert_eq!(risks.listed[0], "critical uid0-account: account toor has uid 0 besides root");
        assert_eq!((risks.findings["critical"], risks.omitted), (1, 4));
        assert_eq!(json.drift_total, 3);
        assert_eq!(
            json.drift_by_severity.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>(),
            [("high", 1), ("medium", 1)]
        );
        let rows: Vec<_> = json.drift.iter().map(|d| (d.item.as_str(), d.severity.as_deref())).collect();
        assert_eq!(rows, [("/usr/local/bin/x", Some("high")), ("/opt/a b", Some("medium"))], "cut to --top 2");
        assert_eq!(json.more.drift, 1);

        let text = render_text(&json);
        for expected in [
            "Risks (the last inventory, 2026-11-18 11:07:43 UTC)",
            "  findings: 1 critical, 1 high, 0 medium, 0 low",
            "    critical uid0-account: account toor has uid 0 besides root",
            "    and 4 more (safeguard risk lists all)",
            "Drift (3 changes, 2 adding risk: 0 critical, 1 high, 1 medium, 0 low)",
            "  2026-11-18 11:07:41  high      added    setid_files        /usr/local/bin/x  [setid-unowned]",
            "  and 1 more (--top 0 lists all)",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        let page = html::render(&json);
        for expected in ["<h2>Risks</h2>", "<h2>Drift</h2>", "<span class=\"badge\">critical</span>", "setid-unowned"] {
            assert!(page.contains(expected), "{expected} missing");
        }
        // Without inventory records, the sections say where they come from.
        let (plain, _) = scenario("json", None);
        assert!(render_text(&plain).contains("(no inventory record: the agent's [inventory] module writes them)"));
        assert!(html::render(&plain).contains("No inventory record"));
    }
}
