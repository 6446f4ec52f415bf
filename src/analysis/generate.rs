//! `safeguard generate`: a configuration whose allow lists cover what a monitor-mode run
//! logged, written as commented TOML that `config::parse` accepts, every entry with its
//! evidence. The output depends only on the records (sorted everywhere), so the same
//! logs give the same file.
//!
//! What goes where:
//! - `[process] allow`: every absolute executable seen executed (`exec` records:
//!   `filename` and `exe`) or seen running (the `exe` of any event's subject);
//! - `[file] allow`: the directories of every path seen (`path`, `target_path`), a
//!   directory with 3 or more proposed subdirectories collapsed into it, never into `/`;
//! - `[network] cidr.allow`: every destination of `connect`/`sendmsg`, as /32 or /128, or
//!   /24 or /64 when 3 or more addresses share one. Only those ops are judged in the
//!   proposal: the peers of `accept`/`recvmsg` are whoever connects (clients, ssh), and
//!   an allow list of yesterday's clients would lock out tomorrow's.
//!
//! Safety margins are always in the allow lists so that block mode cannot lock out what
//! a running system needs (`PROCESS_MARGINS`, `FILE_MARGINS`, `NETWORK_MARGINS`, the
//! agent's own binary); what they cover is counted as their evidence, not listed.
//!
//! An observation that an explicit rule denied (`MONITOR`/`BLOCKED` with a rule other
//! than "not in …allow") is not proposed: it is listed in a comment with the rule, which
//! the administrator should keep. One that was denied only for being outside the run's
//! allow list is proposed, and marked (in a monitor run that is how destinations are
//! seen at all) — unless only processes that `report` flags with an unusual denial
//! rate reached it: such a destination is an anomaly, and listed as not proposed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::entry::{bytes_of, printable, Entry};
use super::read::{read_logs, Diagnostics};
use super::text::push_json_str;
use super::time::{self, Micros};
use super::{parse_since, parse_until, DEFAULT_LOG};

#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// Log files of a monitor-mode run; each is read after its rotated files.
    #[arg(default_value = DEFAULT_LOG)]
    pub files: Vec<PathBuf>,
    /// Only records at or after T: RFC 3339, a date, or an age such as 10m, 2h, 1d.
    #[arg(long, value_name = "T", value_parser = parse_since)]
    pub since: Option<Micros>,
    /// Only records at or before T (same forms as --since).
    #[arg(long, value_name = "T", value_parser = parse_until)]
    pub until: Option<Micros>,
    /// Write the configuration here instead of to stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A prefix that is always allowed, and why.
pub struct Margin {
    pub rule: &'static str,
    pub why: &'static str,
}

const fn margin(rule: &'static str, why: &'static str) -> Margin {
    Margin { rule, why }
}

/// Executables that must always run: the system's programs and the scripts that
/// init, cron, logins and package upgrades execute.
pub const PROCESS_MARGINS: &[Margin] = &[
    margin("/usr/", "system programs"),
    margin("/bin/", "system programs (unmerged /usr)"),
    margin("/sbin/", "system programs (unmerged /usr)"),
    margin("/lib/", "helpers of systemd, udev and others (unmerged /usr)"),
    margin("/lib32/", "libraries and loaders"),
    margin("/lib64/", "the dynamic loader"),
    margin("/libx32/", "libraries and loaders"),
    margin("/etc/", "init, cron, network and login scripts"),
    margin("/var/lib/dpkg/info/", "package maintainer scripts run by upgrades"),
];

/// Paths a running system reads and writes whatever it runs.
pub const FILE_MARGINS: &[Margin] = &[
    margin("/usr/", "programs, libraries, data"),
    margin("/bin/", "programs (unmerged /usr)"),
    margin("/sbin/", "programs (unmerged /usr)"),
    margin("/lib/", "libraries and modules (unmerged /usr)"),
    margin("/lib32/", "libraries"),
    margin("/lib64/", "libraries and the dynamic loader"),
    margin("/libx32/", "libraries"),
    margin("/etc/", "configuration, users, name resolution"),
    margin("/proc/", "process and kernel state"),
    margin("/sys/", "devices and kernel state"),
    margin("/dev/", "devices, terminals, /dev/null"),
    margin("/run/", "sockets, pid and lock files"),
    margin("/var/", "logs, spools, caches, package state"),
    margin("/tmp/", "temporary files of every program"),
    margin("/boot/", "kernel and boot loader upgrades"),
    margin("/root/", "root's login: shell start-up files, ssh keys"),
    margin("/home/", "logins: shell start-up files, ssh authorized_keys"),
];

/// Addresses a host talks to itself on, and the wildcard addresses of `bind`.
pub const NETWORK_MARGINS: &[Margin] = &[
    margin("127.0.0.0/8", "loopback"),
    margin("::1/128", "loopback"),
    margin("0.0.0.0/32", "the unspecified address (bind to all, local connect)"),
    margin("::/128", "the unspecified address (bind to all, local connect)"),
];

/// Where the packages install the agent (SPEC section 6).
pub const INSTALLED_AGENT: &str = "/usr/sbin/safeguard";

/// How the agent names a denial of a path it could not resolve completely (`events.rs`:
/// "path not resolved completely (deny rules apply)"); not a rule of the config.
const UNRESOLVED_RULE: &str = "path not resolved";

/// Subdirectories that collapse into their parent.
const FANOUT: usize = 3;
/// Addresses that collapse into their /24 or /64.
const NET_FANOUT: usize = 3;

/// Why an observation was denied during the run, if it was.
#[derive(Clone, Debug, Default, PartialEq)]
struct Verdicts {
    /// Explicit rules that denied it, with counts.
    denied_by: BTreeMap<String, u64>,
    /// Records denied only because the run's allow list did not cover it.
    outside_allow: u64,
}

impl Verdicts {
    fn note(&mut self, entry: &Entry<'_>) {
        if !entry.is_denial() {
            return;
        }
        match entry.rule.as_ref().map(|rule| rule.as_str()) {
            Some(rule) if rule.starts_with(UNRESOLVED_RULE) => {}
            Some(rule) if !rule.starts_with("not in ") => *self.denied_by.entry(rule.to_string()).or_default() += 1,
            _ => self.outside_allow += 1,
        }
    }

    fn merge(&mut self, other: &Verdicts) {
        for (rule, count) in &other.denied_by {
            *self.denied_by.entry(rule.clone()).or_default() += count;
        }
        self.outside_allow += other.outside_allow;
    }
}

#[derive(Clone, Debug, Default)]
struct Exec {
    execs: u64,
    running: u64,
    verdicts: Verdicts,
}

#[derive(Clone, Debug, Default)]
struct Access {
    records: u64,
    ops: BTreeMap<String, u64>,
    verdicts: Verdicts,
}

#[derive(Clone, Debug, Default)]
struct Peer {
    records: u64,
    /// The processes (as `report` names them) that reached it.
    processes: BTreeSet<String>,
    ports: BTreeSet<u64>,
    domains: BTreeSet<String>,
    verdicts: Verdicts,
}

/// What the logs show, keyed for a deterministic order.
#[derive(Default)]
struct Evidence {
    records: u64,
    first: Option<Micros>,
    last: Option<Micros>,
    executables: BTreeMap<Vec<u8>, Exec>,
    files: BTreeMap<Vec<u8>, Access>,
    peers: BTreeMap<IpAddr, Peer>,
    /// Inbound and bind records, which the proposal does not judge.
    inbound: u64,
    /// File records whose path the agent could not resolve completely.
    unresolved: u64,
    /// Every explicit rule that denied something, with counts.
    rules: BTreeMap<String, u64>,
    file_records: u64,
    network_records: u64,
    process_records: u64,
    /// Events and denials per process, for `report::unusual_rates`.
    processes: BTreeMap<String, (u64, u64)>,
}

impl Evidence {
    fn add(&mut self, entry: &Entry<'_>, since: Option<Micros>, until: Option<Micros>) {
        let Some(at) = entry.micros() else { return };
        if since.is_some_and(|since| at < since) || until.is_some_and(|until| at > until) || !entry.is_event() {
            return;
        }
        self.records += 1;
        self.first = Some(self.first.map_or(at, |first| first.min(at)));
        self.last = Some(self.last.map_or(at, |last| last.max(at)));
        let mut verdicts = Verdicts::default();
        verdicts.note(entry);
        for rule in verdicts.denied_by.keys() {
            *self.rules.entry(rule.clone()).or_default() += 1;
        }

        let process = entry.process().map(|process| process.into_owned());
        if let Some(process) = &process {
            let (events, denials) = self.processes.entry(process.clone()).or_default();
            *events += entry.weight();
            *denials += if entry.is_denial() { entry.weight() } else { 0 };
        }
        let exe = entry.exe.as_ref().map(|exe| bytes_of(exe.as_str()).into_owned()).filter(|exe| exe.starts_with(b"/"));
        match entry.module.as_str() {
            "process" => {
                self.process_records += 1;
                if entry.op.as_str() == "exec" {
                    // A filename under /proc/ is a magic link (busybox runs its applets as
                    // /proc/self/exe, others exec /proc/self/fd/N): it means another file in
                    // every process, and as a rule it would name what the AGENT's link points
                    // to. `exe` holds the file that was executed.
                    let filename = entry
                        .filename
                        .as_ref()
                        .map(|f| bytes_of(f.as_str()).into_owned())
                        .filter(|f| !f.starts_with(b"/proc/"));
                    let mut executed: Vec<Vec<u8>> =
                        filename.into_iter().chain(exe.clone()).filter(|p| p.starts_with(b"/")).collect();
                    executed.dedup();
                    for path in executed {
                        let seen = self.executables.entry(path).or_default();
                        seen.execs += 1;
                        seen.verdicts.merge(&verdicts);
                    }
                }
            }
            // The path of such a record is only the part that was resolved.
            "file" if entry.rule.as_ref().is_some_and(|rule| rule.as_str().starts_with(UNRESOLVED_RULE)) => {
                self.file_records += 1;
                self.unresolved += 1;
            }
            "file" => {
                self.file_records += 1;
                for path in [&entry.path, &entry.target_path].into_iter().flatten() {
                    let path = bytes_of(path.as_str()).into_owned();
                    if !path.starts_with(b"/") {
                        continue;
                    }
                    let access = self.files.entry(path).or_default();
                    access.records += 1;
                    *access.ops.entry(entry.op.as_str().to_string()).or_default() += 1;
                    access.verdicts.merge(&verdicts);
                }
            }
            "network" => {
                self.network_records += 1;
                if matches!(entry.op.as_str(), "connect" | "sendmsg") {
                    if let Some(addr) = entry.dst_addr.as_ref().and_then(|a| a.as_str().parse::<IpAddr>().ok()) {
                        let addr = addr.to_canonical();
                        let peer = self.peers.entry(addr).or_default();
                        peer.records += 1;
                        peer.processes.extend(process.clone());
                        peer.ports.extend(entry.dst_port);
                        if let Some(domain) = entry.domain.as_ref().filter(|d| !d.as_str().is_empty()) {
                            peer.domains.insert(domain.as_str().to_string());
                        }
                        peer.verdicts.merge(&verdicts);
                    }
                } else {
                    self.inbound += 1;
                }
            }
            _ => {}
        }
        // The subject ran: its executable must keep running (unless a rule denied it).
        if let Some(exe) = exe {
            self.executables.entry(exe).or_default().running += 1;
        }
    }
}

/// A path rule as the config wants it: absolute, no `.`/`..`, no NUL, at most 255 bytes
/// (`config::values::rule_path`), and UTF-8 to be written in TOML.
fn rule_path(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let valid = text.starts_with('/')
        && !text.contains('\0')
        && text.len() <= 255
        && !text.split('/').any(|component| component == "." || component == "..");
    valid.then_some(text)
}

/// Does `prefix` (a rule path, trailing `/` or not) cover `path` on component boundaries?
fn covers(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    prefix.is_empty() || path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// The directory of a path, with its trailing `/`; `None` for `/` itself.
fn parent(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    let at = trimmed.rfind('/')?;
    Some(format!("{}/", &trimmed[..at]))
}

/// The nearest ancestor of `bytes` (itself excluded) that is a valid rule path.
fn usable_dir(bytes: &[u8]) -> Option<String> {
    let mut end = bytes.len();
    loop {
        let slash = bytes[..end].iter().rposition(|&b| b == b'/')?;
        let dir = &bytes[..=slash];
        if let Some(text) = rule_path(dir) {
            return Some(text.to_string());
        }
        if slash == 0 {
            return None;
        }
        end = slash;
    }
}

/// One proposed allow-list entry.
struct Proposed {
    rule: String,
    comment: String,
}

/// A file-tree candidate: a directory (or a file directly under `/`) and what it covers.
#[derive(Default, Clone)]
struct Tree {
    paths: u64,
    records: u64,
    ops: BTreeMap<String, u64>,
    outside_allow: u64,
    example: String,
}

impl Tree {
    fn merge(&mut self, other: &Tree) {
        self.paths += other.paths;
        self.records += other.records;
        for (op, count) in &other.ops {
            *self.ops.entry(op.clone()).or_default() += count;
        }
        self.outside_allow += other.outside_allow;
        if self.example.is_empty() || (!other.example.is_empty() && other.example < self.example) {
            self.example = other.example.clone();
        }
    }
}

/// Collapses directories with `FANOUT` or more proposed subdirectories into them (never
/// into `/`), and drops candidates another one covers.
fn collapse(mut trees: BTreeMap<String, Tree>) -> BTreeMap<String, Tree> {
    loop {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for dir in trees.keys() {
            if let Some(up) = parent(dir).filter(|up| up != "/") {
                groups.entry(up).or_default().push(dir.clone());
            }
        }
        let Some((up, members)) = groups.into_iter().find(|(_, members)| members.len() >= FANOUT) else { break };
        let mut merged = trees.remove(&up).unwrap_or_default();
        for member in members {
            if let Some(tree) = trees.remove(&member) {
                merged.merge(&tree);
            }
        }
        trees.insert(up, merged);
    }
    // Drop what another candidate covers (BTreeMap order puts a prefix first).
    let mut kept: BTreeMap<String, Tree> = BTreeMap::new();
    for (dir, tree) in trees {
        match kept.iter_mut().rev().find(|(outer, _)| covers(outer, &dir)) {
            Some((_, outer)) => outer.merge(&tree),
            None => {
                kept.insert(dir, tree);
            }
        }
    }
    kept
}

/// `read 12, write 3`.
fn ops_text(ops: &BTreeMap<String, u64>) -> String {
    ops.iter().map(|(op, count)| format!("{op} {count}")).collect::<Vec<_>>().join(", ")
}

fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The network prefix of `addr` that collapsing groups by: /24 or /64.
fn wider(addr: IpAddr) -> (IpAddr, u8) {
    match addr {
        IpAddr::V4(v4) => (IpAddr::V4((u32::from(v4) & 0xffff_ff00).into()), 24),
        IpAddr::V6(v6) => (IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()), 64),
    }
}

fn host_len(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

fn in_cidr(addr: IpAddr, net: IpAddr, len: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// A margin's (network, prefix length); every margin is a CIDR (a unit test checks).
fn margin_cidr(margin: &Margin) -> Option<(IpAddr, u8)> {
    let (addr, len) = margin.rule.split_once('/')?;
    Some((addr.parse().ok()?, len.parse().ok()?))
}

/// A TOML basic string.
fn toml_str(text: &str) -> String {
    // JSON string escapes are valid TOML basic-string escapes (`\uXXXX` included).
    let mut out = String::new();
    push_json_str(&mut out, text);
    out
}

/// Writes `key = [ ... ]` with aligned trailing comments; `groups` are (heading, entries).
fn write_list(out: &mut String, key: &str, groups: &[(&str, Vec<Proposed>)]) {
    let width = groups.iter().flat_map(|(_, entries)| entries).map(|e| toml_str(&e.rule).len() + 1).max().unwrap_or(0);
    let _ = writeln!(out, "{key} = [");
    for (heading, entries) in groups {
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(out, "    # {heading}");
        for entry in entries {
            let quoted = format!("{},", toml_str(&entry.rule));
            let _ = writeln!(out, "    {quoted:<width$}  # {}", printable(&entry.comment));
        }
    }
    out.push_str("]\n");
}

/// Comments listing observations an explicit rule denied, which are not proposed.
fn write_denied(out: &mut String, what: &str, denied: &[(String, &Verdicts, u64)]) {
    if denied.is_empty() {
        return;
    }
    let _ = writeln!(out, "# Not proposed: {what} that a rule denied during the run (keep those rules):");
    for (name, verdicts, records) in denied {
        let rules = verdicts.denied_by.keys().map(|rule| printable(rule).into_owned()).collect::<Vec<_>>().join("; ");
        let _ =
            writeln!(out, "#   {}  ({}; denied by {rules})", printable(name), plural(*records, "record", "records"));
    }
}

/// The proposal for the records of `evidence`; `agent` lists the agent's own binaries.
fn render(e: &Evidence, agent: &[String]) -> String {
    let mut out = String::new();
    let range = match (e.first, e.last) {
        (Some(first), Some(last)) => format!("{} – {} UTC", time::format_short(first), time::format_short(last)),
        _ => "no events".to_string(),
    };
    let _ = writeln!(out, "# safeguard configuration proposed by `safeguard generate`");
    let _ = writeln!(out, "# from {} ({range}).", plural(e.records, "event record", "event records"));
    out.push_str(
        "#\n\
         # The allow lists cover what the logs show, plus safety margins that keep the\n\
         # system usable whatever it runs (entries marked \"margin\"). The proposal only\n\
         # knows what happened while the agent watched: review it before you rely on it.\n\
         #\n\
         # Every module is in monitor mode: nothing is denied; what block mode would deny\n\
         # is logged as MONITOR (see `safeguard events --action MONITOR`). Once a run shows\n\
         # no MONITOR record you did not expect, enforce a module by changing its line\n\
         #     mode = \"monitor\"\n\
         # to\n\
         #     mode = \"block\"\n\
         # and reload the agent (systemctl reload safeguard, or SIGHUP).\n",
    );
    if !e.rules.is_empty() {
        out.push_str(
            "#\n\
             # Deny lists are not generated. These rules of the config that wrote the logs\n\
             # denied events during the run; copy them into this file's deny lists:\n",
        );
        let width = e.rules.keys().map(|rule| printable(rule).chars().count()).max().unwrap_or(0);
        for (rule, count) in &e.rules {
            let _ = writeln!(out, "#   {:<width$}  {}", printable(rule), plural(*count, "denial", "denials"));
        }
    }

    // [process]
    out.push('\n');
    // Without the process module's records, executables seen only as subjects would make
    // an allow list that misses everything executed while nobody logged it.
    if e.process_records == 0 {
        out.push_str("# [process]: no process records in the logs, so no proposal; the module stays off.\n");
    } else {
        let mut margins: Vec<(Proposed, u64)> = PROCESS_MARGINS
            .iter()
            .map(|m| (Proposed { rule: m.rule.to_string(), comment: format!("margin: {}", m.why) }, 0))
            .collect();
        for exe in agent {
            if !PROCESS_MARGINS.iter().any(|m| covers(m.rule, exe)) && rule_path(exe.as_bytes()).is_some() {
                margins.push((Proposed { rule: exe.clone(), comment: "margin: the agent itself".to_string() }, 0));
            }
        }
        let mut observed = Vec::new();
        let mut denied = Vec::new();
        let mut unusable = Vec::new();
        for (path, exec) in &e.executables {
            let records = exec.execs + exec.running;
            if !exec.verdicts.denied_by.is_empty() {
                denied.push((super::entry::notation_of(path).into_owned(), &exec.verdicts, records));
                continue;
            }
            let Some(text) = rule_path(path) else {
                unusable.push(super::entry::notation_of(path).into_owned());
                continue;
            };
            if let Some((_, count)) = margins.iter_mut().find(|(m, _)| covers(&m.rule, text)) {
                *count += records;
                continue;
            }
            let mut comment = format!(
                "{}, {}",
                plural(exec.execs, "exec", "execs"),
                plural(exec.running, "record as subject", "records as subject")
            );
            if exec.verdicts.outside_allow > 0 {
                comment.push_str(&format!("; outside the run's allow list ({})", exec.verdicts.outside_allow));
            }
            observed.push(Proposed { rule: text.to_string(), comment });
        }
        let margins: Vec<Proposed> = margins
            .into_iter()
            .map(|(mut m, count)| {
                if count > 0 {
                    m.comment.push_str(&format!("; covers {}", plural(count, "record", "records")));
                }
                m
            })
            .collect();
        out.push_str("[process]\nenable = true\nmode = \"monitor\"       # \"block\": refuse every executable not allowed below\n");
        out.push_str("ops = [\"fork\", \"exec\", \"exit\"]\n");
        write_list(&mut out, "allow", &[("safety margins", margins), ("observed executables", observed)]);
        write_denied(&mut out, "executables", &denied);
        for path in unusable {
            let _ = writeln!(out, "# Not expressible as a rule (not UTF-8, or too long): {}", printable(&path));
        }
    }

    // [file]
    out.push('\n');
    if e.files.is_empty() {
        out.push_str("# [file]: no file records in the logs, so no proposal; the module stays off.\n");
    } else {
        let mut margins: Vec<(Proposed, u64)> = FILE_MARGINS
            .iter()
            .map(|m| (Proposed { rule: m.rule.to_string(), comment: format!("margin: {}", m.why) }, 0))
            .collect();
        for exe in agent {
            if !FILE_MARGINS.iter().any(|m| covers(m.rule, exe)) && rule_path(exe.as_bytes()).is_some() {
                margins.push((Proposed { rule: exe.clone(), comment: "margin: the agent itself".to_string() }, 0));
            }
        }
        let mut trees: BTreeMap<String, Tree> = BTreeMap::new();
        let mut denied = Vec::new();
        for (path, access) in &e.files {
            if !access.verdicts.denied_by.is_empty() {
                denied.push((super::entry::notation_of(path).into_owned(), &access.verdicts, access.records));
                continue;
            }
            let text = String::from_utf8_lossy(path);
            if let Some((_, count)) = margins.iter_mut().find(|(m, _)| covers(&m.rule, &text)) {
                *count += access.records;
                continue;
            }
            // The file's directory; a file directly under `/` stands for itself.
            let dir = match usable_dir(path) {
                Some(dir) if dir != "/" => dir,
                _ => match rule_path(path) {
                    Some(text) => text.to_string(),
                    None => continue,
                },
            };
            let tree = Tree {
                paths: 1,
                records: access.records,
                ops: access.ops.clone(),
                outside_allow: access.verdicts.outside_allow,
                example: super::entry::notation_of(path).into_owned(),
            };
            trees.entry(dir).or_default().merge(&tree);
        }
        // An executable the process list allows must also open for exec and mmap.
        for (path, exec) in &e.executables {
            let Some(text) = rule_path(path) else { continue };
            let covered = margins.iter().any(|(m, _)| covers(&m.rule, text))
                || PROCESS_MARGINS.iter().any(|m| covers(m.rule, text));
            if !exec.verdicts.denied_by.is_empty() || covered || e.process_records == 0 {
                continue;
            }
            let Some(dir) = parent(text).filter(|dir| dir != "/") else { continue };
            let records = exec.execs + exec.running;
            let ops = BTreeMap::from([("executed".to_string(), records)]);
            let tree = Tree { paths: 1, records, ops, outside_allow: 0, example: text.to_string() };
            trees.entry(dir).or_default().merge(&tree);
        }
        let observed: Vec<Proposed> = collapse(trees)
            .into_iter()
            .map(|(dir, tree)| {
                let mut comment = format!(
                    "{}, {}: {}; e.g. {}",
                    plural(tree.paths, "path", "paths"),
                    plural(tree.records, "record", "records"),
                    ops_text(&tree.ops),
                    tree.example
                );
                if tree.outside_allow > 0 {
                    comment.push_str(&format!("; outside the run's allow list ({})", tree.outside_allow));
                }
                Proposed { rule: dir, comment }
            })
            .collect();
        let margins: Vec<Proposed> = margins
            .into_iter()
            .map(|(mut m, count)| {
                if count > 0 {
                    m.comment.push_str(&format!("; covers {}", plural(count, "record", "records")));
                }
                m
            })
            .collect();
        out.push_str("[file]\nenable = true\nmode = \"monitor\"       # \"block\": deny every operation on a path not allowed below\n");
        write_list(&mut out, "allow", &[("safety margins", margins), ("observed file trees", observed)]);
        write_denied(&mut out, "paths", &denied);
        if e.unresolved > 0 {
            let _ = writeln!(
                out,
                "# Not used: {} whose path was too deep or too long to resolve completely.",
                plural(e.unresolved, "record", "records")
            );
        }
    }

    // [network]
    out.push('\n');
    if e.network_records == 0 {
        out.push_str("# [network]: no network records in the logs, so no proposal; the module stays off.\n");
    } else {
        let margins: Vec<Proposed> = NETWORK_MARGINS
            .iter()
            .map(|m| Proposed { rule: m.rule.to_string(), comment: format!("margin: {}", m.why) })
            .collect();
        let mut denied = Vec::new();
        let rows: Vec<super::report::Row> = e
            .processes
            .iter()
            .map(|(name, (events, denials))| super::report::Row {
                name: name.clone(),
                events: *events,
                denials: *denials,
            })
            .collect();
        let (unusual, _) = super::report::unusual_rates(&rows);
        let mut anomalies = Vec::new();
        let mut groups: BTreeMap<(IpAddr, u8), Vec<(IpAddr, &Peer)>> = BTreeMap::new();
        for (addr, peer) in &e.peers {
            if !peer.verdicts.denied_by.is_empty() {
                denied.push((addr.to_string(), &peer.verdicts, peer.records));
                continue;
            }
            let flagged: Vec<&super::report::Row> =
                peer.processes.iter().filter_map(|p| unusual.iter().find(|row| &row.name == p)).collect();
            if !peer.processes.is_empty() && flagged.len() == peer.processes.len() {
                let who = flagged
                    .iter()
                    .map(|row| format!("{} ({} of {} events denied)", printable(&row.name), row.denials, row.events))
                    .collect::<Vec<_>>()
                    .join(", ");
                anomalies
                    .push(format!("{addr}  ({}; reached only by {who})", plural(peer.records, "record", "records")));
                continue;
            }
            if NETWORK_MARGINS.iter().filter_map(margin_cidr).any(|(net, len)| in_cidr(*addr, net, len)) {
                continue;
            }
            groups.entry(wider(*addr)).or_default().push((*addr, peer));
        }
        let mut observed = Vec::new();
        for ((net, len), members) in groups {
            let describe = |peers: &[(IpAddr, &Peer)]| {
                let records: u64 = peers.iter().map(|(_, p)| p.records).sum();
                let ports: BTreeSet<u64> = peers.iter().flat_map(|(_, p)| p.ports.iter().copied()).collect();
                let domains: BTreeSet<&str> =
                    peers.iter().flat_map(|(_, p)| p.domains.iter().map(String::as_str)).collect();
                let outside: u64 = peers.iter().map(|(_, p)| p.verdicts.outside_allow).sum();
                let mut text = plural(records, "record", "records");
                if !ports.is_empty() {
                    let ports: Vec<String> = ports.iter().map(u64::to_string).collect();
                    text.push_str(&format!(", port {}", ports.join(" ")));
                }
                if !domains.is_empty() {
                    text.push_str(&format!(", {}", domains.into_iter().collect::<Vec<_>>().join(" ")));
                }
                if outside > 0 {
                    text.push_str(&format!("; outside the run's allow list ({outside})"));
                }
                text
            };
            if members.len() >= NET_FANOUT {
                let comment = format!("{} addresses, {}", members.len(), describe(&members));
                observed.push(Proposed { rule: format!("{net}/{len}"), comment });
            } else {
                for member in &members {
                    let comment = describe(std::slice::from_ref(member));
                    observed.push(Proposed { rule: format!("{}/{}", member.0, host_len(member.0)), comment });
                }
            }
        }
        out.push_str("[network]\nenable = true\nmode = \"monitor\"       # \"block\": refuse connections to destinations not allowed below\n");
        out.push_str(
            "# Only outgoing traffic is judged: the peers of accept and recvmsg are whoever\n\
             # connects (clients, your own ssh session), so an allow list of the ones seen\n\
             # so far would lock out the next.\n\
             ops = [\"connect\", \"sendmsg\"]\n",
        );
        let _ = writeln!(
            out,
            "# {} of incoming traffic and bind not used for the proposal.",
            plural(e.inbound, "record", "records")
        );
        out.push_str("\n[network.cidr]\n");
        write_list(&mut out, "allow", &[("safety margins", margins), ("observed destinations", observed)]);
        write_denied(&mut out, "destinations", &denied);
        if !anomalies.is_empty() {
            out.push_str(
                "# Not proposed: destinations flagged as anomalies, reached only by processes with an\n\
                 # unusual share of denied events (see `safeguard report`); allow them by hand if they are wanted:\n",
            );
            for anomaly in anomalies {
                let _ = writeln!(out, "#   {anomaly}");
            }
        }
    }
    out
}

/// The proposal for the logs at `paths`; `agent` lists the agent's own binaries.
pub fn generate(
    paths: &[PathBuf],
    since: Option<Micros>,
    until: Option<Micros>,
    agent: &[String],
    diag: &mut Diagnostics,
) -> anyhow::Result<String> {
    let mut evidence = Evidence::default();
    let read = read_logs(paths, diag, |entry| evidence.add(entry, since, until));
    if evidence.records == 0 {
        anyhow::bail!(
            "generate: nothing to propose: no event records in {} ({} records read){}; no proposal written",
            plural(read.files.len() as u64, "file", "files"),
            read.records,
            if since.is_some() || until.is_some() { " in the range --since..--until" } else { "" }
        );
    }
    let text = render(&evidence, agent);
    // The promise of this command: what it writes, `safeguard check` accepts.
    crate::config::parse(&text, Path::new("<generated>"))
        .map_err(|err| anyhow::anyhow!("generate: the proposal does not parse (a bug): {err}"))?;
    Ok(text)
}

/// The agent's binaries to keep runnable: the packaged path and the running one.
fn agent_binaries() -> Vec<String> {
    let mut binaries = vec![INSTALLED_AGENT.to_string()];
    if let Some(exe) = std::env::current_exe().ok().and_then(|exe| exe.to_str().map(str::to_string)) {
        if !binaries.contains(&exe) {
            binaries.push(exe);
        }
    }
    binaries
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    super::check_inputs(&args.files).context("generate")?;
    let mut diag = Diagnostics::stderr();
    let text = generate(&args.files, args.since, args.until, &agent_binaries(), &mut diag)?;
    if diag.failures > 0 {
        anyhow::bail!("generate: {} log file(s) could not be read; no proposal written", diag.failures);
    }
    match &args.output {
        Some(path) => std::fs::write(path, &text).with_context(|| format!("generate: write {}", path.display()))?,
        None => super::write_stdout(&text).context("generate")?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures;
    use crate::config::{self, Config, Op};

    const AGENT: &[&str] = &["/usr/sbin/safeguard", "/opt/safeguard/bin/safeguard"];

    fn agent() -> Vec<String> {
        AGENT.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn every_network_margin_is_a_cidr() {
        for margin in NETWORK_MARGINS {
            assert!(margin_cidr(margin).is_some(), "{} is no CIDR", margin.rule);
        }
    }

    fn from_lines(name: &str, lines: &[String]) -> (String, Config) {
        let dir = std::env::temp_dir().join(format!("safeguard-generate-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("s.log");
        std::fs::write(&log, lines.join("\n")).unwrap();
        let mut diag = Diagnostics::captured();
        let text = generate(&[log], None, None, &agent(), &mut diag).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let config = config::parse(&text, Path::new("<test>")).unwrap();
        (text, config)
    }

    fn scenario(format: &str) -> (String, Config) {
        let mut diag = Diagnostics::captured();
        let log = fixtures::dir().join(format!("scenario-{format}/safeguard.log"));
        let text = generate(&[log], None, None, &agent(), &mut diag).unwrap();
        let config = config::parse(&text, Path::new("<test>")).unwrap();
        (text, config)
    }

    /// A text record with the subject head and extra fields.
    fn record(module: &str, op: &str, exe: &str, extra: &str) -> String {
        format!(
            "time=2026-11-20T10:00:00.000000Z level=INFO level_no=20 module={module} op={op} hostname=h pid=7 ppid=1 \
             uid=0 gid=0 comm=x exe={exe} parent_comm=init cgroup_id=1 container=false {extra}"
        )
    }

    fn allow_paths(entries: impl Iterator<Item = String>) -> Vec<String> {
        entries.collect()
    }

    #[test]
    fn scenario_proposal_parses_and_is_deterministic() {
        let (json, config) = scenario("json");
        let (text, _) = scenario("text");
        assert_eq!(json, text, "JSON and text logs of the same records give the same proposal");
        assert_eq!(json, scenario("json").0);
        for section in [&config.process.mode, &config.file.mode, &config.network.mode] {
            assert_eq!(*section, config::Mode::Monitor);
        }
        assert!(config.process.enable && config.file.enable && config.network.enable);
        assert!(!config.mount.enable);
        assert!(json.contains("mode = \"block\""), "says how to enforce");
    }

    /// Whatever the logs, the margins are in every proposed allow list.
    #[test]
    fn margins_are_always_there() {
        let (_, config) = scenario("json");
        let process = allow_paths(config.process.allow.iter().map(|e| e.value.clone()));
        for margin in PROCESS_MARGINS {
            assert!(process.contains(&margin.rule.trim_end_matches('/').to_string()), "{}", margin.rule);
        }
        assert!(process.contains(&"/opt/safeguard/bin/safeguard".to_string()), "the agent outside /usr");
        let files = allow_paths(config.file.allow.iter().map(|r| r.path.clone()));
        for margin in FILE_MARGINS {
            assert!(files.contains(&margin.rule.trim_end_matches('/').to_string()), "{}", margin.rule);
        }
        for required in ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev", "/run", "/var"] {
            assert!(files.contains(&required.to_string()), "{required}");
        }
        let cidrs: Vec<String> = config.network.cidr.allow.iter().map(|e| e.value.to_string()).collect();
        for margin in NETWORK_MARGINS {
            assert!(cidrs.contains(&margin.rule.to_string()), "{}", margin.rule);
        }
        assert_eq!(
            config.network.ops.iter().map(|op| op.name()).collect::<Vec<_>>(),
            ["connect", "sendmsg"],
            "inbound is never judged by a generated list"
        );
    }

    #[test]
    fn scenario_observations() {
        let (text, config) = scenario("json");
        let files = allow_paths(config.file.allow.iter().map(|r| r.path.clone()));
        // /srv/app/{data,cache,uploads} collapse into /srv/app; the backup tree stays.
        assert!(files.contains(&"/srv/app".to_string()), "{files:?}");
        assert!(files.contains(&"/backup/2026-11-20".to_string()), "{files:?}");
        assert!(!files.iter().any(|f| f.starts_with("/srv/app/")), "{files:?}");
        let cidrs: Vec<String> = config.network.cidr.allow.iter().map(|e| e.value.to_string()).collect();
        for expected in ["10.0.0.5/32", "93.184.216.34/32", "2001:db8::34/128"] {
            assert!(cidrs.contains(&expected.to_string()), "{expected} in {cidrs:?}");
        }
        // Accepted clients are not destinations; the metadata service was denied by a rule.
        assert!(!cidrs.iter().any(|c| c.starts_with("203.0.113.") || c.starts_with("198.51.100.")), "{cidrs:?}");
        assert!(!cidrs.contains(&"169.254.169.254/32".to_string()));
        // Denied only for being outside the allow list, but reached only by the miner,
        // whose share of denied events `report` flags: an anomaly, not proposed.
        assert!(!cidrs.contains(&"45.77.1.2/32".to_string()), "{cidrs:?}");
        assert!(text.contains("# Not proposed: destinations flagged as anomalies"), "{text}");
        assert!(
            text.contains("#   45.77.1.2  (9 records; reached only by /tmp/.hidden/miner (28 of 150 events denied))"),
            "{text}"
        );
        // Denied by rules: listed, not proposed, rules named for the deny lists.
        let process = allow_paths(config.process.allow.iter().map(|e| e.value.clone()));
        assert!(!process.contains(&"/tmp/.hidden/miner".to_string()));
        assert!(text.contains("#   /tmp/.hidden/miner  ("), "{text}");
        assert!(text.contains("#   { path = \"/etc/shadow\", ops = [\"read\"] }  9 denials"), "{text}");
        assert!(text.contains("api.example.com"));
    }

    #[test]
    fn executables_outside_the_margins_are_listed_exactly() {
        let lines = [
            record("process", "exec", "/opt/app/bin/server", "filename=/opt/app/bin/server argv=[server]"),
            record("process", "exec", "/opt/app/bin/server", "filename=/opt/app/bin/server argv=[server]"),
            record("process", "exec", "/usr/bin/python3", "filename=/srv/tool/run.py argv=[run.py]"),
            record("process", "exec", "/usr/bin/ls", "filename=./relative argv=[ls]"),
            record("process", "exec", "\"/opt/we\\\\ird\\xff/x\"", "filename=\"/opt/we\\\\ird\\xff/x\""),
            record("file", "read", "/opt/app/bin/worker", "path=/usr/share/zoneinfo/UTC"),
            record("process", "exec", "/opt/bb/busybox", "filename=/proc/self/exe argv=[cat]"),
            record("process", "exec", "/opt/app/bin/server", "filename=/proc/7/fd/3 argv=[server]"),
        ];
        let (text, config) = from_lines("exec", &lines);
        // Magic links are not proposed; the file they led to is.
        assert!(!text.contains("/proc/self/exe") && !text.contains("/proc/7/fd/3"), "{text}");
        assert!(config.process.allow.iter().any(|e| e.value == "/opt/bb/busybox"), "{text}");
        let process = allow_paths(config.process.allow.iter().map(|e| e.value.clone()));
        for expected in ["/opt/app/bin/server", "/opt/app/bin/worker", "/srv/tool/run.py"] {
            assert!(process.contains(&expected.to_string()), "{expected} in {process:?}");
        }
        assert!(!process.iter().any(|p| p.contains("relative") || p.ends_with("/ls")), "{process:?}");
        assert!(text.contains("\"/opt/app/bin/server\","));
        assert!(text.contains("# 3 execs, 3 records as subject"), "{text}");
        assert!(text.contains("# Not expressible as a rule (not UTF-8, or too long): /opt/we\\\\ird\\xff/x"), "{text}");
        // The file module saw only a margin path; the executables' directories join it.
        let files = allow_paths(config.file.allow.iter().map(|r| r.path.clone()).skip(FILE_MARGINS.len() + 1));
        assert_eq!(files, ["/opt/app/bin", "/opt/bb", "/srv/tool"], "{text}");
        assert!(text.contains("e.g. /opt/app/bin/server"), "{text}");
        assert!(text.contains("\"/usr/\",") && text.contains("covers 1 record"));
        assert!(text.contains("# [network]: no network records"));
    }

    #[test]
    fn file_trees_collapse_sensibly() {
        let mut lines = Vec::new();
        for path in [
            "/srv/www/a/index.html",
            "/srv/www/b/index.html",
            "/srv/www/c/x/y.css",
            "/srv/www/c/z.css",
            "/opt/one/file",
            "/data1/x",
            "/data2/x",
            "/data3/x",
            "/swapfile",
            "\"/mnt/caf\\xe9/menu.txt\"",
            "\"/mnt/line\\nbreak/ok\"",
        ] {
            lines.push(record("file", "read", "/usr/bin/cat", &format!("path={path}")));
        }
        let (text, config) = from_lines("trees", &lines);
        let files: Vec<String> =
            config.file.allow.iter().map(|r| r.path.clone()).skip(FILE_MARGINS.len() + 1).collect();
        // Three sibling dirs under /srv/www collapse; /data1..3 never collapse into `/`.
        assert_eq!(files, ["/data1", "/data2", "/data3", "/mnt", "/opt/one", "/srv/www", "/swapfile"], "{text}");
        assert!(text.contains("e.g. /mnt/caf\\xe9/menu.txt"), "{text}");
        assert!(text.contains("e.g. /mnt/line\\x0abreak/ok") || text.contains("/mnt/caf"), "{text}");
        assert!(!text.contains("line\nbreak"));
    }

    #[test]
    fn destinations_collapse_into_their_network() {
        let mut lines = Vec::new();
        for (addr, port) in [
            ("198.51.100.1", 443),
            ("198.51.100.2", 443),
            ("198.51.100.3", 80),
            ("192.0.2.9", 53),
            ("::ffff:192.0.2.10", 53),
            ("127.0.0.1", 8080),
        ] {
            lines.push(record(
                "network",
                "connect",
                "/usr/bin/curl",
                &format!("family=inet protocol=tcp dst_addr={addr} dst_port={port}"),
            ));
        }
        lines.push(record(
            "network",
            "accept",
            "/usr/sbin/sshd",
            "family=inet protocol=tcp dst_addr=203.0.113.9 dst_port=50000",
        ));
        let (text, config) = from_lines("net", &lines);
        let cidrs: Vec<String> =
            config.network.cidr.allow.iter().map(|e| e.value.to_string()).skip(NETWORK_MARGINS.len()).collect();
        assert_eq!(cidrs, ["192.0.2.9/32", "192.0.2.10/32", "198.51.100.0/24"], "{text}");
        assert!(text.contains("3 addresses, 3 records, port 80 443"), "{text}");
        assert!(text.contains("# 1 record of incoming traffic and bind not used"), "{text}");
        assert!(text.contains("# [process]: no process records"));
    }

    #[test]
    fn empty_logs_propose_nothing_and_say_so() {
        let dir = std::env::temp_dir().join(format!("safeguard-generate-empty-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("s.log");
        for content in ["", "time=2026-11-20T10:00:00.000000Z level=INFO level_no=20 module=agent op=start\n"] {
            std::fs::write(&log, content).unwrap();
            let mut diag = Diagnostics::captured();
            let err = generate(std::slice::from_ref(&log), None, None, &agent(), &mut diag).unwrap_err();
            assert!(format!("{err:#}").contains("nothing to propose: no event records in 1 file"), "{err:#}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Outside the run's allow list is how a monitor run sees destinations: proposed,
    /// and marked, when an ordinary process reached them.
    #[test]
    fn destinations_outside_the_allow_list_are_proposed_and_marked() {
        let connect = |addr: &str, action: &str| {
            record(
                "network",
                "connect",
                "/usr/bin/curl",
                &format!("action={action} rule=\"not in network.cidr.allow\" dst_addr={addr} dst_port=443"),
            )
        };
        let lines: Vec<String> = (0..10)
            .map(|_| record("file", "read", "/usr/bin/curl", "action=ALLOWED path=/etc/hosts"))
            .chain([connect("192.0.2.7", "MONITOR")])
            .collect();
        let (text, config) = from_lines("outside", &lines);
        let cidrs: Vec<String> = config.network.cidr.allow.iter().map(|e| e.value.to_string()).collect();
        assert!(cidrs.contains(&"192.0.2.7/32".to_string()), "{cidrs:?}");
        assert!(text.contains("outside the run's allow list (1)"), "{text}");
        assert!(!text.contains("flagged as anomalies"), "{text}");
    }

    #[test]
    fn helpers() {
        assert!(covers("/usr/", "/usr/bin/ls") && covers("/usr", "/usr") && covers("/", "/x"));
        assert!(!covers("/usr/", "/usrx/bin") && !covers("/usr/bin", "/usr"));
        assert_eq!(parent("/a/b/c"), Some("/a/b/".to_string()));
        assert_eq!(parent("/a/b/"), Some("/a/".to_string()));
        assert_eq!(parent("/a"), Some("/".to_string()));
        assert_eq!(parent("/"), None);
        assert_eq!(usable_dir(b"/a/b\xff/c/d"), Some("/a/".to_string()));
        assert_eq!(rule_path(b"/a/./b"), None);
        assert_eq!(rule_path(&[b'/'; 300]), None);
    }

    #[test]
    fn recorded_logs() {
        for set in ["recorded-json", "recorded-text"] {
            let mut diag = Diagnostics::captured();
            let log = fixtures::dir().join(set).join("safeguard.log");
            let text = generate(&[log], None, None, &agent(), &mut diag).unwrap();
            let config = config::parse(&text, Path::new("<test>")).unwrap();
            assert!(config.process.enable && !config.file.enable && !config.network.enable, "{set}");
            assert!(text.contains("#   /tmp/sgrec/denied  ("), "{set}: {text}");
            assert!(
                text.contains("# Not expressible as a rule (not UTF-8, or too long): /tmp/sgrec/we\\\\ird\\xfe"),
                "{set}: {text}"
            );
        }
    }

    #[test]
    fn unresolved_paths_are_neither_proposed_nor_rules() {
        let lines = [
            record("file", "read", "/usr/bin/find", "path=/srv/a/b"),
            record(
                "file",
                "read",
                "/usr/bin/find",
                "action=MONITOR rule=\"path not resolved completely (deny rules apply)\" path=/deep/x truncated=true",
            ),
        ];
        let (text, config) = from_lines("unresolved", &lines);
        let files: Vec<String> =
            config.file.allow.iter().map(|r| r.path.clone()).skip(FILE_MARGINS.len() + 1).collect();
        assert_eq!(files, ["/srv/a"], "{text}");
        assert!(!text.contains("copy them into"), "{text}");
        assert!(text.contains("# Not used: 1 record whose path was too deep"), "{text}");
    }
}
