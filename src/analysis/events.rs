//! `safeguard events`: the records of the logs that match the filters, as a table, as
//! JSON lines, as a count or a summary, optionally following the live log across
//! rotation. Records of several logs are merged in time order.
//!
//! Speed comes from not parsing what cannot match: each filter first looks for its
//! values in the raw line (`Filter::may_match`: substring searches and, for times, a
//! string comparison of the fixed-width timestamp at the start of the line); only lines
//! that pass are parsed, borrowing their strings. A line the prefilter rejects is still
//! parsed when it does not look like a whole record, so a malformed line is reported
//! whatever the filters.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use memchr::memmem::Finder;

use super::entry::{notation_of, printable, Entry, Format, Text};
use super::read::{log_set, Change, Diagnostics, Line, LineReader};
use super::text;
use super::time::{self, Micros, CANONICAL_LEN};
use super::{parse_action, parse_module, parse_since, parse_until, DEFAULT_LOG};

#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    /// Log files; each is read after its rotated files (FILE-DATE[.gz], FILE.N[.gz] ...
    /// FILE.1[.gz]); `-` is standard input. Records of several files are merged in time order.
    #[arg(default_value = DEFAULT_LOG)]
    pub files: Vec<PathBuf>,
    /// Only these modules, in any case (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_parser = parse_module)]
    pub module: Vec<String>,
    /// Only these actions: ALLOWED, MONITOR, BLOCKED, ALERT, KILLED, or DENIED for MONITOR and BLOCKED.
    #[arg(long, value_delimiter = ',', value_parser = parse_action)]
    pub action: Vec<Vec<String>>,
    /// Only these operations (exec, connect, read, reload, stats, ...).
    #[arg(long, value_delimiter = ',', value_parser = lowercase)]
    pub op: Vec<String>,
    /// Only records of these process ids.
    #[arg(long, value_delimiter = ',')]
    pub pid: Vec<u64>,
    /// Only records of these task names (comm, exactly).
    #[arg(long, value_delimiter = ',')]
    pub comm: Vec<String>,
    /// Only records whose executable is this file or lies below this directory.
    #[arg(long, value_delimiter = ',', value_name = "PATH")]
    pub exe: Vec<String>,
    /// Only records about this path or what lies below it (path, target_path, or the
    /// executed file), on component boundaries: /etc matches /etc/passwd, not /etcx.
    #[arg(long, value_delimiter = ',')]
    pub path: Vec<String>,
    /// Only records of these user ids.
    #[arg(long, value_delimiter = ',')]
    pub uid: Vec<u64>,
    /// Only records of these users: the name the record holds, else (older records)
    /// the uid this host's /etc/passwd gives the name; a number is a uid.
    #[arg(long, value_delimiter = ',')]
    pub user: Vec<String>,
    /// Only records whose rule contains this text.
    #[arg(long)]
    pub rule: Vec<String>,
    /// Only records at this level or above: DEBUG, INFO, WARNING, ERROR, CRITICAL or 10-50.
    #[arg(long, value_parser = parse_level)]
    pub level: Option<u64>,
    /// Only records of tasks with these host names (a container's own name).
    #[arg(long, value_delimiter = ',')]
    pub hostname: Vec<String>,
    /// Only records of tasks in containers (another pid namespace than the agent's).
    #[arg(long)]
    pub container: bool,
    /// Records at or after T: RFC 3339, a local time, a date, today, yesterday, recent,
    /// or an age such as 10m, 1h30m, 1d.
    #[arg(long, value_name = "T", value_parser = parse_since)]
    pub since: Option<Micros>,
    /// Records at or before T (same forms as --since; a date lasts through its end).
    #[arg(long, value_name = "T", value_parser = parse_until)]
    pub until: Option<Micros>,
    /// Stop after N matching records.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Print only how many records (and events: a folded record counts its events) match.
    #[arg(long, conflicts_with_all = ["json", "summary", "follow"])]
    pub count: bool,
    /// Print the matching records counted by module, op and action, busiest first.
    #[arg(long, conflicts_with_all = ["json", "follow"])]
    pub summary: bool,
    /// Keep reading as the log grows and rotates, until interrupted.
    #[arg(short, long)]
    pub follow: bool,
    /// Print JSON lines (text records are converted) instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn lowercase(text: &str) -> Result<String, String> {
    Ok(text.to_ascii_lowercase())
}

/// The levels of SPEC section 4, by number.
const LEVELS: [(&str, u64); 5] = [("DEBUG", 10), ("INFO", 20), ("WARNING", 30), ("ERROR", 40), ("CRITICAL", 50)];

fn parse_level(text: &str) -> Result<u64, String> {
    let upper = text.to_ascii_uppercase();
    LEVELS
        .iter()
        .find(|(name, number)| *name == upper || number.to_string() == upper)
        .map(|(_, number)| *number)
        .ok_or_else(|| format!("{text:?} is not a level: use DEBUG, INFO, WARNING, ERROR, CRITICAL or 10-50"))
}

fn level_number(name: &str) -> Option<u64> {
    LEVELS.iter().find(|(level, _)| *level == name).map(|(_, number)| *number)
}

/// The record filters of the command line. String values are in the log's byte
/// notation (see `entry`), paths without a trailing `/`.
#[derive(Debug, Default)]
pub struct Filter {
    pub modules: Vec<String>,
    pub actions: Vec<String>,
    pub ops: Vec<String>,
    pub pids: Vec<u64>,
    pub comms: Vec<String>,
    pub exes: Vec<String>,
    pub paths: Vec<String>,
    pub uids: Vec<u64>,
    /// `--user` names, and the uids this host gives them (for records without a name).
    pub users: Vec<String>,
    pub user_uids: Vec<u64>,
    pub rules: Vec<String>,
    pub level: Option<u64>,
    pub hostnames: Vec<String>,
    pub container: bool,
    pub since: Option<Micros>,
    pub until: Option<Micros>,
}

/// A filter compiled for raw lines.
pub struct Prefilter {
    /// Per filter, the needles of which a matching JSON line holds at least one.
    json: Vec<Vec<Needle>>,
    /// The same for text lines.
    text: Vec<Vec<Needle>>,
    since: Option<[u8; CANONICAL_LEN]>,
    until: Option<[u8; CANONICAL_LEN]>,
}

/// A string a matching line must contain.
enum Needle {
    /// Anywhere (`"process"`: a quoted JSON value, whatever the spacing around it).
    Plain(Finder<'static>),
    /// Not next to another digit (a pid in JSON).
    Number(Finder<'static>),
    /// Followed by a space or the end of the line (` pid=42` in text).
    Token(Finder<'static>),
}

impl Needle {
    fn plain(text: String) -> Needle {
        Needle::Plain(Finder::new(text.as_bytes()).into_owned())
    }

    fn number(text: String) -> Needle {
        Needle::Number(Finder::new(text.as_bytes()).into_owned())
    }

    fn token(text: String) -> Needle {
        Needle::Token(Finder::new(text.as_bytes()).into_owned())
    }

    fn found_in(&self, line: &[u8]) -> bool {
        match self {
            Needle::Plain(finder) => finder.find(line).is_some(),
            Needle::Number(finder) => {
                let len = finder.needle().len();
                let digit = |at: Option<usize>| at.and_then(|at| line.get(at)).is_some_and(u8::is_ascii_digit);
                finder.find_iter(line).any(|at| !digit(at.checked_sub(1)) && !digit(Some(at + len)))
            }
            Needle::Token(finder) => {
                let len = finder.needle().len();
                finder.find_iter(line).any(|at| matches!(line.get(at + len), None | Some(b' ')))
            }
        }
    }
}

/// A value that both formats write verbatim (no escaping in JSON, no quoting needed in
/// text): only then can the raw line be searched for it.
fn verbatim(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\\')
}

/// `value` is `prefix` or lies below it, on path-component boundaries.
pub fn under(value: &str, prefix: &str) -> bool {
    match value.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/'),
        None => false,
    }
}

/// A path argument in byte notation, without a trailing `/` (but `/` itself).
fn path_arg(text: &str) -> String {
    let trimmed = text.trim_end_matches('/');
    let path = if trimmed.is_empty() && text.starts_with('/') { "/" } else { trimmed };
    notation_of(path.as_bytes()).into_owned()
}

impl Filter {
    pub fn from_args(args: &EventsArgs) -> Filter {
        let notation = |values: &[String]| values.iter().map(|v| notation_of(v.as_bytes()).into_owned()).collect();
        let mut filter = Filter {
            modules: args.module.clone(),
            actions: args.action.iter().flatten().cloned().collect(),
            ops: args.op.clone(),
            pids: args.pid.clone(),
            comms: notation(&args.comm),
            exes: args.exe.iter().map(|exe| path_arg(exe)).collect(),
            paths: args.path.iter().map(|path| path_arg(path)).collect(),
            uids: args.uid.clone(),
            rules: args.rule.clone(),
            level: args.level,
            hostnames: notation(&args.hostname),
            container: args.container,
            since: args.since,
            until: args.until,
            ..Filter::default()
        };
        if !args.user.is_empty() {
            let local = local_uids();
            for user in &args.user {
                match user.parse::<u64>() {
                    Ok(uid) => filter.user_uids.push(uid),
                    Err(_) => {
                        filter.users.push(user.clone());
                        filter.user_uids.extend(local.iter().filter(|(name, _)| name == user).map(|(_, uid)| *uid));
                    }
                }
            }
        }
        filter
    }

    pub fn compile(&self) -> Prefilter {
        let (mut json, mut text) = (Vec::new(), Vec::new());
        // An exact string value: `"value"` in JSON, `key=value` (bare) in text.
        let mut exact = |key: &str, values: &[String]| {
            if !values.is_empty() && values.iter().all(|v| verbatim(v)) {
                json.push(values.iter().map(|v| Needle::plain(format!("\"{v}\""))).collect());
                text.push(values.iter().map(|v| Needle::token(format!(" {key}={v}"))).collect());
            }
        };
        exact("module", &self.modules);
        exact("action", &self.actions);
        exact("op", &self.ops);
        exact("comm", &self.comms);
        exact("hostname", &self.hostnames);
        if let Some(level) = self.level {
            let names: Vec<String> =
                LEVELS.iter().filter(|(_, number)| *number >= level).map(|(name, _)| name.to_string()).collect();
            exact("level", &names);
        }
        let mut numbers = |key: &str, values: &[u64]| {
            if !values.is_empty() {
                json.push(values.iter().map(|v| Needle::number(v.to_string())).collect());
                text.push(values.iter().map(|v| Needle::token(format!(" {key}={v}"))).collect());
            }
        };
        numbers("pid", &self.pids);
        numbers("uid", &self.uids);
        // Substrings: a path prefix starts a value (`"/etc` or `=/etc`, `="/etc`).
        let mut starts = |values: &[String]| {
            if !values.is_empty() && values.iter().all(|v| verbatim(v)) {
                json.push(values.iter().map(|v| Needle::plain(format!("\"{v}"))).collect());
                text.push(
                    values
                        .iter()
                        .flat_map(|v| [Needle::plain(format!("={v}")), Needle::plain(format!("=\"{v}"))])
                        .collect(),
                );
            }
        };
        starts(&self.exes);
        starts(&self.paths);
        if !self.users.is_empty() && self.users.iter().all(|v| verbatim(v)) {
            let mut group_json: Vec<Needle> = self.users.iter().map(|v| Needle::plain(format!("\"{v}\""))).collect();
            let mut group_text: Vec<Needle> = self.users.iter().map(|v| Needle::token(format!(" user={v}"))).collect();
            group_json.extend(self.user_uids.iter().map(|v| Needle::number(v.to_string())));
            group_text.extend(self.user_uids.iter().map(|v| Needle::token(format!(" uid={v}"))));
            json.push(group_json);
            text.push(group_text);
        } else if self.users.is_empty() && !self.user_uids.is_empty() {
            json.push(self.user_uids.iter().map(|v| Needle::number(v.to_string())).collect());
            text.push(self.user_uids.iter().map(|v| Needle::token(format!(" uid={v}"))).collect());
        }
        if !self.rules.is_empty() && self.rules.iter().all(|v| verbatim(v)) {
            json.push(self.rules.iter().map(|v| Needle::plain(v.clone())).collect());
            text.push(self.rules.iter().map(|v| Needle::plain(v.clone())).collect());
        }
        if self.container {
            json.push(vec![Needle::plain("true".to_string())]);
            text.push(vec![Needle::token(" container=true".to_string())]);
        }
        let canonical = |time: Micros| -> [u8; CANONICAL_LEN] {
            let mut out = [0u8; CANONICAL_LEN];
            out.copy_from_slice(time::format_rfc3339(time).as_bytes());
            out
        };
        Prefilter { json, text, since: self.since.map(canonical), until: self.until.map(canonical) }
    }

    pub fn matches(&self, entry: &Entry<'_>) -> bool {
        fn is_in(values: &[String], field: &Option<Text<'_>>) -> bool {
            values.is_empty() || field.as_ref().is_some_and(|field| values.iter().any(|v| v == field.as_str()))
        }
        fn below(prefixes: &[String], fields: &[&Option<Text<'_>>]) -> bool {
            prefixes.is_empty()
                || fields
                    .iter()
                    .any(|field| field.as_ref().is_some_and(|field| prefixes.iter().any(|p| under(field.as_str(), p))))
        }
        if !self.modules.is_empty() && !self.modules.iter().any(|m| m == entry.module.as_str()) {
            return false;
        }
        if !is_in(&self.actions, &entry.action) {
            return false;
        }
        if !self.ops.is_empty() && !self.ops.iter().any(|op| op == entry.op.as_str()) {
            return false;
        }
        if !self.pids.is_empty() && !entry.pid.is_some_and(|pid| self.pids.contains(&pid)) {
            return false;
        }
        if !is_in(&self.comms, &entry.comm) || !is_in(&self.hostnames, &entry.hostname) {
            return false;
        }
        if !below(&self.exes, &[&entry.exe]) || !below(&self.paths, &[&entry.path, &entry.target_path, &entry.filename])
        {
            return false;
        }
        if !self.uids.is_empty() && !entry.uid.is_some_and(|uid| self.uids.contains(&uid)) {
            return false;
        }
        if !self.users.is_empty() || !self.user_uids.is_empty() {
            let by_name = entry.user.as_ref().is_some_and(|user| self.users.iter().any(|u| u == user.as_str()));
            let by_uid = entry.uid.is_some_and(|uid| self.user_uids.contains(&uid))
                && (entry.user.is_none() || self.users.is_empty());
            if !by_name && !by_uid {
                return false;
            }
        }
        if !self.rules.is_empty()
            && !entry.rule.as_ref().is_some_and(|rule| self.rules.iter().any(|r| rule.as_str().contains(r.as_str())))
        {
            return false;
        }
        if self.level.is_some_and(|level| level_number(entry.level.as_str()).is_none_or(|n| n < level)) {
            return false;
        }
        if self.container && entry.container != Some(true) {
            return false;
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(at) = entry.micros() else { return false };
            if self.since.is_some_and(|since| at < since) || self.until.is_some_and(|until| at > until) {
                return false;
            }
        }
        true
    }
}

/// (name, uid) of this host's /etc/passwd.
fn local_uids() -> Vec<(String, u64)> {
    std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let uid = fields.nth(1)?.parse().ok()?;
            Some((name.to_string(), uid))
        })
        .collect()
}

impl Prefilter {
    /// False only when the line cannot hold a matching record (of our writer's making;
    /// a line that does not look like one is left for the parser to judge).
    pub fn may_match(&self, line: &[u8]) -> bool {
        let json = Format::of(line) == Format::Json;
        if self.since.is_some() || self.until.is_some() {
            let stamp = if json { line.get(9..9 + CANONICAL_LEN) } else { line.get(5..5 + CANONICAL_LEN) };
            let prefix_ok = if json { line.starts_with(b"{\"time\":\"") } else { line.starts_with(b"time=") };
            if let (true, Some(stamp)) = (prefix_ok, stamp) {
                if stamp[CANONICAL_LEN - 1] == b'Z' && stamp[10] == b'T' {
                    if self.since.as_ref().is_some_and(|since| stamp < &since[..]) {
                        return false;
                    }
                    if self.until.as_ref().is_some_and(|until| stamp > &until[..]) {
                        return false;
                    }
                }
            }
        }
        let groups = if json { &self.json } else { &self.text };
        groups.iter().all(|group| group.iter().any(|needle| needle.found_in(line)))
    }
}

/// Whether a line has the shape of a whole record of our writer: then a line the
/// prefilter rejects is skipped unparsed; anything else is parsed, so that a line cut
/// short or not a record is reported whatever the filters.
fn looks_whole(line: &[u8]) -> bool {
    if line.iter().all(u8::is_ascii_whitespace) {
        return true;
    }
    match Format::of(line) {
        Format::Json => line.starts_with(b"{\"time\":\"") && line.last() == Some(&b'}'),
        Format::Text => {
            if !line.starts_with(b"time=") || line.last() == Some(&b' ') {
                return false;
            }
            // Quotes must pair up (a backslash escapes inside quotes; bare values hold none).
            let mut quoted = false;
            let mut at = 0;
            while let Some(found) = memchr::memchr2(b'"', b'\\', &line[at..]) {
                let found = at + found;
                if line[found] == b'\\' {
                    at = found + 2;
                } else {
                    quoted = !quoted;
                    at = found + 1;
                }
                if at >= line.len() {
                    break;
                }
            }
            !quoted
        }
    }
}

/// What is printed for the matching records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Table,
    Json,
    Count,
    Summary,
}

/// How matching records are printed.
pub struct Printer<W: Write> {
    out: W,
    mode: Mode,
    header_done: bool,
    /// Records taken so far, and the most to take.
    taken: u64,
    limit: Option<u64>,
    /// `Count` and `Summary`: records and events per (module, op, action).
    counts: BTreeMap<(String, String, String), (u64, u64)>,
}

impl<W: Write> Printer<W> {
    #[cfg(test)]
    pub fn new(out: W, json: bool) -> Printer<W> {
        Printer::with_mode(out, if json { Mode::Json } else { Mode::Table }, None)
    }

    pub fn with_mode(out: W, mode: Mode, limit: Option<u64>) -> Printer<W> {
        Printer { out, mode, header_done: false, taken: 0, limit, counts: BTreeMap::new() }
    }

    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.out
    }

    /// `--limit` reached: nothing more is taken.
    pub fn full(&self) -> bool {
        self.limit.is_some_and(|limit| self.taken >= limit)
    }

    fn print(&mut self, line: &Line<'_>, entry: &Entry<'_>, diag: &mut Diagnostics) -> io::Result<()> {
        if self.full() {
            return Ok(());
        }
        self.taken += 1;
        match self.mode {
            Mode::Json => match Format::of(line.bytes) {
                Format::Json => {
                    self.out.write_all(line.bytes)?;
                    self.out.write_all(b"\n")
                }
                // `Entry::parse` accepted the line, so it is UTF-8 and well-formed.
                Format::Text => {
                    match std::str::from_utf8(line.bytes).map_err(|e| e.to_string()).and_then(text::to_json) {
                        Ok(json) => writeln!(self.out, "{json}"),
                        Err(err) => {
                            diag.malformed += 1;
                            diag.note(format!(
                                "{}:{}: skipped malformed record: text: {err}",
                                line.path.display(),
                                line.number
                            ));
                            Ok(())
                        }
                    }
                }
            },
            Mode::Count | Mode::Summary => {
                let key = if self.mode == Mode::Count {
                    Default::default()
                } else {
                    (
                        printable(entry.module.as_str()).into_owned(),
                        printable(entry.op.as_str()).into_owned(),
                        entry.action.as_ref().map_or_else(|| "-".to_string(), |a| printable(a.as_str()).into_owned()),
                    )
                };
                let slot = self.counts.entry(key).or_default();
                slot.0 += 1;
                slot.1 += entry.weight();
                Ok(())
            }
            Mode::Table => self.table_row(entry),
        }
    }

    fn table_row<'e>(&mut self, entry: &'e Entry<'_>) -> io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            self.row([
                "TIME", "LEVEL", "MODULE", "OP", "ACTION", "COUNT", "PID", "UID", "COMM", "EXE", "OBJECT", "RULE",
                "ARGV",
            ])?;
        }
        let text =
            |field: &'e Option<Text<'_>>| field.as_ref().map_or(Cow::Borrowed("-"), |value| printable(value.as_str()));
        // A detection has no rule: its technique and severity stand in that column.
        let rule: Cow<'_, str> = match (&entry.rule, &entry.technique, &entry.severity) {
            (None, Some(technique), Some(severity)) if entry.module.as_str() == "detect" => {
                printable(&format!("{technique} {severity}")).into_owned().into()
            }
            _ => text(&entry.rule),
        };
        let object = entry.object();
        let object = if object.is_empty() { Cow::Borrowed("-") } else { printable(&object).into_owned().into() };
        let (mut pid, mut count) = (itoa_buffer(), itoa_buffer());
        let pid = match entry.pid {
            Some(number) => format_u64(&mut pid, number),
            None => "-",
        };
        let count = format_u64(&mut count, entry.weight());
        let uid: Cow<'_, str> = match (entry.uid, &entry.user) {
            (Some(uid), Some(user)) => format!("{uid}({})", printable(user.as_str())).into(),
            (Some(uid), None) => uid.to_string().into(),
            (None, Some(user)) => printable(user.as_str()),
            (None, None) => "-".into(),
        };
        let argv: Cow<'_, str> = match &entry.argv {
            Some(args) if !args.is_empty() => {
                let quoted: Vec<Cow<'_, str>> = args
                    .iter()
                    .map(|arg| {
                        let arg = printable(arg.as_str());
                        if arg.is_empty() || arg.contains([' ', '"']) {
                            format!("\"{}\"", arg.replace('"', "\\\"")).into()
                        } else {
                            arg
                        }
                    })
                    .collect();
                quoted.join(" ").into()
            }
            _ => "-".into(),
        };
        self.row([
            &printable(entry.time.as_str()),
            &printable(entry.level.as_str()),
            &printable(entry.module.as_str()),
            &printable(entry.op.as_str()),
            &text(&entry.action),
            count,
            pid,
            &uid,
            &text(&entry.comm),
            &text(&entry.exe),
            &object,
            &rule,
            &argv,
        ])
    }

    fn row(&mut self, cells: [&str; 13]) -> io::Result<()> {
        // The last two columns (rule, argv) are as wide as they are.
        const WIDTHS: [usize; 11] = [27, 7, 7, 11, 7, 5, 7, 12, 15, 30, 40];
        const SPACES: [u8; 42] = [b' '; 42];
        for (cell, width) in cells.iter().zip(WIDTHS) {
            self.out.write_all(cell.as_bytes())?;
            let used = if cell.is_ascii() { cell.len() } else { cell.chars().count() };
            self.out.write_all(&SPACES[..width.saturating_sub(used) + 2])?;
        }
        self.out.write_all(cells[11].as_bytes())?;
        if cells[12] != "-" || cells[11] == "RULE" {
            let used = if cells[11].is_ascii() { cells[11].len() } else { cells[11].chars().count() };
            self.out.write_all(&SPACES[..20usize.saturating_sub(used) + 2])?;
            self.out.write_all(cells[12].as_bytes())?;
        }
        self.out.write_all(b"\n")
    }

    /// The count or the summary, once every record was seen.
    pub fn finish(&mut self) -> io::Result<()> {
        let (records, events) =
            self.counts.values().fold((0, 0), |(records, events), (r, e)| (records + r, events + e));
        match self.mode {
            Mode::Count => writeln!(self.out, "{records} records, {events} events")?,
            Mode::Summary => {
                let mut rows: Vec<_> = self.counts.iter().collect();
                rows.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then_with(|| a.0.cmp(b.0)));
                writeln!(self.out, "{:>9}  {:>9}  {:<8}  {:<11}  ACTION", "RECORDS", "EVENTS", "MODULE", "OP")?;
                for ((module, op, action), (r, e)) in rows {
                    writeln!(self.out, "{r:>9}  {e:>9}  {module:<8}  {op:<11}  {action}")?;
                }
                writeln!(self.out, "{records:>9}  {events:>9}  total")?;
            }
            Mode::Table | Mode::Json => {}
        }
        self.out.flush()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn itoa_buffer() -> [u8; 20] {
    [0; 20]
}

/// `number` in decimal, written into `buffer`.
fn format_u64(buffer: &mut [u8; 20], mut number: u64) -> &str {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    std::str::from_utf8(&buffer[start..]).unwrap_or("-")
}

/// Hands the record on `line` to `then` when it passes the filter; problems go to
/// `diag`. The record is used where it was parsed (a callback, not a return value):
/// an `Entry` is about a kilobyte, and every move of it is a copy per line.
#[inline(always)]
fn select<'l, R>(
    line: &Line<'l>,
    prefilter: &Prefilter,
    filter: &Filter,
    diag: &mut Diagnostics,
    then: impl FnOnce(&Entry<'l>, &mut Diagnostics) -> R,
) -> Option<R> {
    if line.too_long {
        diag.too_long_line(line.path, line.number);
        return None;
    }
    if !prefilter.may_match(line.bytes) && looks_whole(line.bytes) {
        return None;
    }
    match diag.parse(line.path, line.number, line.bytes) {
        Some(entry) if filter.matches(&entry) => Some(then(&entry, diag)),
        _ => None,
    }
}

/// One log argument being read for a merge: its files in order, and the next
/// matching line (copied, with its time).
struct Stream {
    path: PathBuf,
    files: std::vec::IntoIter<PathBuf>,
    reader: Option<LineReader>,
    /// The live file's reader once read to its end, when following.
    live: Option<LineReader>,
    head: Vec<u8>,
    head_path: PathBuf,
    head_number: u64,
    head_time: Micros,
    has_head: bool,
}

impl Stream {
    /// Reads on to the next line that passes the filter.
    fn advance(&mut self, prefilter: &Prefilter, filter: &Filter, follow: bool, diag: &mut Diagnostics) {
        self.has_head = false;
        loop {
            if self.reader.is_none() {
                let Some(file) = self.files.next() else { return };
                match LineReader::open(&file) {
                    Ok(reader) => self.reader = Some(reader),
                    Err(err) => {
                        diag.failure(format!("{}: {err}", file.display()));
                        continue;
                    }
                }
            }
            let Some(reader) = self.reader.as_mut() else { return };
            let is_live = follow && reader_path_is(reader, &self.path);
            match reader.next_line(is_live) {
                Ok(Some(line)) => {
                    if let Some(at) = select(&line, prefilter, filter, diag, |entry, _| entry.micros()) {
                        // A record without a readable time keeps its place after the previous one.
                        self.head_time = at.unwrap_or(self.head_time);
                        self.head.clear();
                        self.head.extend_from_slice(line.bytes);
                        self.head_path.clone_from(&line.path.to_path_buf());
                        self.head_number = line.number;
                        self.has_head = true;
                        return;
                    }
                }
                Ok(None) => {
                    let done = self.reader.take();
                    if is_live {
                        self.live = done;
                    }
                }
                Err(err) => {
                    diag.failure(format!("{}: {err}", reader_display(reader)));
                    self.reader = None;
                }
            }
        }
    }
}

fn reader_path_is(reader: &LineReader, path: &std::path::Path) -> bool {
    reader.path() == path
}

fn reader_display(reader: &LineReader) -> String {
    reader.path().display().to_string()
}

/// Reads `files`, prints what `filter` lets through (the records of several files
/// merged in time order); with `follow`, keeps reading the live files until `stop` is
/// set. Output errors end the scan (a closed pipe is normal).
pub fn scan<W: Write>(
    files: &[PathBuf],
    filter: &Filter,
    follow: bool,
    printer: &mut Printer<W>,
    diag: &mut Diagnostics,
    stop: &AtomicBool,
) -> io::Result<()> {
    let prefilter = filter.compile();
    let handle = |line: Line<'_>, printer: &mut Printer<W>, diag: &mut Diagnostics| -> io::Result<()> {
        select(&line, &prefilter, filter, diag, |entry, diag| printer.print(&line, entry, diag)).unwrap_or(Ok(()))
    };

    // The live file of each set, when following; `None` until it exists.
    let mut live: Vec<(PathBuf, Option<LineReader>)> = Vec::new();
    let mut streams: Vec<Stream> = Vec::new();
    for path in files {
        match log_set(path) {
            Ok(set) => {
                let has_live = set.contains(path);
                streams.push(Stream {
                    path: path.clone(),
                    files: set.into_iter(),
                    reader: None,
                    live: None,
                    head: Vec::new(),
                    head_path: PathBuf::new(),
                    head_number: 0,
                    head_time: Micros::MIN,
                    has_head: false,
                });
                if follow && !has_live {
                    live.push((path.clone(), None));
                }
            }
            Err(err) if follow && err.kind() == io::ErrorKind::NotFound => live.push((path.clone(), None)),
            Err(err) => diag.failure(format!("{}: {err}", path.display())),
        }
    }

    if let [stream] = &mut streams[..] {
        // One log: lines go straight from the read buffer to the printer.
        for file in stream.files.by_ref() {
            let is_live = follow && file == stream.path;
            let mut reader = match LineReader::open(&file) {
                Ok(reader) => reader,
                Err(err) => {
                    diag.failure(format!("{}: {err}", file.display()));
                    continue;
                }
            };
            let result = if printer.full() {
                Ok(())
            } else {
                let mut each = |line: Line<'_>| {
                    handle(line, printer, diag)?;
                    if printer.full() {
                        return Err(io::Error::other(LimitReached));
                    }
                    Ok(())
                };
                reader.read_available(is_live, &mut each)
            };
            match result {
                Err(err) if is_limit(&err) => {}
                Err(err) if is_output_error(&err) => return Err(err),
                Err(err) => diag.failure(format!("{}: {err}", file.display())),
                Ok(()) => {}
            }
            if is_live {
                stream.live = Some(reader);
            }
        }
    } else {
        // Several logs: the next record is the earliest of the streams' heads.
        for stream in streams.iter_mut() {
            stream.advance(&prefilter, filter, follow, diag);
        }
        while !printer.full() {
            let Some(next) = streams.iter_mut().filter(|stream| stream.has_head).min_by_key(|stream| stream.head_time)
            else {
                break;
            };
            if let Ok(entry) = Entry::parse(&next.head) {
                let line = Line { path: &next.head_path, number: next.head_number, bytes: &next.head, too_long: false };
                printer.print(&line, &entry, diag)?;
            }
            next.advance(&prefilter, filter, follow, diag);
        }
    }
    if follow {
        for stream in streams {
            if stream.files.len() == 0 || stream.live.is_some() {
                live.push((stream.path, stream.live));
            }
        }
    }
    printer.flush()?;
    if !follow || printer.full() {
        return Ok(());
    }

    while !stop.load(Ordering::Relaxed) && !printer.full() {
        for (path, slot) in live.iter_mut() {
            if slot.is_none() {
                *slot = LineReader::open(path).ok();
            }
            let Some(reader) = slot else { continue };
            let mut each = |line: Line<'_>| handle(line, printer, diag);
            let result = reader.read_available(true, &mut each).and_then(|()| reader.check(&mut each));
            match result {
                Ok(Change::Truncated) => {
                    diag.note(format!("{}: file truncated; reading from its start", path.display()))
                }
                Ok(Change::Reopened) => reader.read_available(true, &mut each)?,
                Ok(Change::None | Change::Missing) => {}
                Err(err) if is_output_error(&err) => return Err(err),
                Err(err) => {
                    diag.note(format!("{}: {err}; waiting for it to reappear", path.display()));
                    *slot = None;
                }
            }
        }
        printer.flush()?;
        std::thread::sleep(Duration::from_millis(200));
    }
    printer.flush()
}

/// Ends reading a file early: `--limit` is reached.
#[derive(Debug)]
struct LimitReached;

impl std::fmt::Display for LimitReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("limit reached")
    }
}

impl std::error::Error for LimitReached {}

fn is_limit(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|inner| inner.is::<LimitReached>())
}

/// Errors of our output rather than of the input: the scan must end.
fn is_output_error(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::BrokenPipe || err.get_ref().is_some_and(|inner| inner.is::<OutputError>())
}

/// Marks a write error to stdout apart from read errors of the logs.
#[derive(Debug)]
struct OutputError;

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("writing the output")
    }
}

impl std::error::Error for OutputError {}

/// Stdout that marks its errors as output errors.
struct Stdout(io::BufWriter<io::StdoutLock<'static>>);

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(mark)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(mark)
    }
}

fn mark(err: io::Error) -> io::Error {
    if err.kind() == io::ErrorKind::BrokenPipe {
        err
    } else {
        io::Error::new(err.kind(), OutputError)
    }
}

pub fn run(args: EventsArgs) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    if args.follow {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, stop.clone()).context("events: install signal handlers")?;
        }
    }
    let filter = Filter::from_args(&args);
    let mode = match (args.count, args.summary, args.json) {
        (true, _, _) => Mode::Count,
        (_, true, _) => Mode::Summary,
        (_, _, true) => Mode::Json,
        _ => Mode::Table,
    };
    let stdout = Stdout(io::BufWriter::with_capacity(1 << 16, io::stdout().lock()));
    let mut printer = Printer::with_mode(stdout, mode, args.limit);
    let mut diag = Diagnostics::stderr();
    let result =
        scan(&args.files, &filter, args.follow, &mut printer, &mut diag, &stop).and_then(|()| printer.finish());
    match result {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        Err(err) => return Err(err).context("events"),
    }
    if diag.failures > 0 {
        anyhow::bail!("events: {} log file(s) could not be read", diag.failures);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"time":"2026-11-22T12:37:18.299119Z","level":"WARNING","level_no":30,"module":"process","op":"exec","action":"MONITOR","rule":"/tmp/denied","pid":19814,"comm":"denied","filename":"/tmp/denied"}"#;
    const TEXT: &str = "time=2026-11-22T12:37:18.299119Z level=WARNING level_no=30 module=process op=exec action=MONITOR rule=/tmp/denied pid=19814 comm=denied filename=/tmp/denied";

    fn at(text: &str) -> Micros {
        time::parse_rfc3339(text).unwrap()
    }

    /// The prefilter never rejects a line the full filter accepts.
    #[test]
    fn prefilter_agrees_with_the_filter() {
        let filters = [
            Filter::default(),
            Filter { modules: vec!["process".into()], ..Filter::default() },
            Filter { modules: vec!["file".into(), "network".into()], ..Filter::default() },
            Filter { actions: vec!["MONITOR".into()], ..Filter::default() },
            Filter { actions: vec!["BLOCKED".into()], ..Filter::default() },
            Filter { pids: vec![19814], ..Filter::default() },
            Filter { pids: vec![1981], ..Filter::default() },
            Filter { since: Some(at("2026-11-22T12:37:18.299119Z")), ..Filter::default() },
            Filter { since: Some(at("2026-11-22T12:37:18.299120Z")), ..Filter::default() },
            Filter { until: Some(at("2026-11-22T12:37:18.299119Z")), ..Filter::default() },
            Filter { until: Some(at("2026-11-22T12:37:18.299118Z")), ..Filter::default() },
        ];
        let expected = [true, true, false, true, false, true, false, true, false, true, false];
        assert_eq!(filters.len(), expected.len());
        for line in [JSON, TEXT, &TEXT.replace(" filename=/tmp/denied", "")] {
            let entry = Entry::parse(line.as_bytes()).unwrap();
            for (filter, expected) in filters.iter().zip(expected) {
                assert_eq!(filter.matches(&entry), expected, "{filter:?} {line}");
                assert_eq!(filter.compile().may_match(line.as_bytes()), expected, "{filter:?} {line}");
            }
        }
    }

    #[test]
    fn prefilter_leaves_odd_lines_to_the_parser() {
        let filter = Filter { since: Some(at("2030-01-01T00:00:00Z")), ..Filter::default() };
        // Not the canonical shape: only the parser can tell.
        assert!(filter.compile().may_match(br#"{"level":"INFO","time":"2026-11-22T12:37:18Z"}"#));
        assert!(filter.compile().may_match(b"garbage"));
    }

    #[test]
    fn table_and_json_output() {
        let dir = std::env::temp_dir().join(format!("safeguard-events-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("s.log");
        std::fs::write(&log, format!("{JSON}\nnot a record\n{TEXT}\n")).unwrap();
        let stop = AtomicBool::new(false);

        let mut printer = Printer::new(Vec::new(), false);
        let mut diag = Diagnostics::captured();
        scan(std::slice::from_ref(&log), &Filter::default(), false, &mut printer, &mut diag, &stop).unwrap();
        let table = String::from_utf8(printer.into_inner()).unwrap();
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(rows.len(), 3, "{table}");
        assert!(rows[0].starts_with("TIME"));
        assert_eq!(rows[1], rows[2]);
        let cells = ["MONITOR", "1", "19814", "-", "denied", "-", "/tmp/denied"];
        let widths = [7, 5, 7, 12, 15, 30, 0];
        let expected: String = cells.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}  ")).collect();
        assert!(rows[1].contains(expected.trim_end()), "{table}\nwant {expected}");
        assert_eq!(diag.malformed, 1);
        assert!(diag.messages[0].contains("s.log:2: skipped malformed record"), "{:?}", diag.messages);

        let mut printer = Printer::new(Vec::new(), true);
        let mut diag = Diagnostics::captured();
        scan(&[log], &Filter::default(), false, &mut printer, &mut diag, &stop).unwrap();
        let json = String::from_utf8(printer.into_inner()).unwrap();
        let lines: Vec<&str> = json.lines().collect();
        assert_eq!(lines[0], JSON);
        assert_eq!(lines[1], JSON);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn temp_log(name: &str, content: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("safeguard-events-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("s.log");
        std::fs::write(&log, content).unwrap();
        (dir, log)
    }

    /// Runs `scan` in `mode` on `files`: the output and the diagnostics.
    fn run_scan(files: &[PathBuf], filter: &Filter, mode: Mode, limit: Option<u64>) -> (String, Diagnostics) {
        let mut printer = Printer::with_mode(Vec::new(), mode, limit);
        let mut diag = Diagnostics::captured();
        scan(files, filter, false, &mut printer, &mut diag, &AtomicBool::new(false)).unwrap();
        printer.finish().unwrap();
        (String::from_utf8(printer.into_inner()).unwrap(), diag)
    }

    /// Records that the new filters tell apart, in both formats.
    fn varied_records() -> Vec<String> {
        let head = "level=WARNING level_no=30";
        let lines = [
            format!("time=2026-11-20T10:00:01.000000Z {head} module=file op=read action=MONITOR rule=\"{{ path = \\\"/etc/shadow\\\" }}\" hostname=web1 pid=10 uid=1000 user=alice comm=cat exe=/usr/bin/cat container=false path=/etc/shadow"),
            format!("time=2026-11-20T10:00:02.000000Z {head} module=file op=write action=BLOCKED rule=/etcx hostname=web1 pid=11 uid=0 comm=sh exe=/usr/bin/dash container=true path=/etcx/passwd"),
            "time=2026-11-20T10:00:03.000000Z level=INFO level_no=20 module=process op=exec hostname=box pid=12 uid=33 user=www-data comm=nginx exe=/usr/sbin/nginx container=true filename=/usr/sbin/nginx argv=\"[nginx,-g,\\\"daemon off;\\\"]\"".to_string(),
            "time=2026-11-20T10:00:04.000000Z level=ERROR level_no=40 module=agent op=reload error=\"c.toml:3:1: x: unknown key\"".to_string(),
            "time=2026-11-20T10:00:05.000000Z level=INFO level_no=20 module=file op=rename action=ALLOWED rule=/etc pid=13 uid=0 comm=mv exe=/usr/bin/mv path=/tmp/a target_path=/etc/passwd count=4".to_string(),
        ];
        let mut all: Vec<String> = lines.to_vec();
        all.extend(lines.iter().map(|line| text::to_json(line).unwrap()));
        all
    }

    /// Each filter keeps exactly the records it names, and its prefilter never drops one.
    #[test]
    fn new_filters_select_what_they_name() {
        let records = varied_records();
        let pids = |filter: &Filter| -> Vec<u64> {
            let mut found = Vec::new();
            for line in &records {
                let entry = Entry::parse(line.as_bytes()).unwrap();
                let matched = filter.matches(&entry);
                assert!(
                    !matched || filter.compile().may_match(line.as_bytes()),
                    "prefilter drops {line} for {filter:?}"
                );
                if matched {
                    found.push(entry.pid.unwrap_or(0));
                }
            }
            found.sort();
            found.dedup();
            found
        };
        let f = Filter::default;
        assert_eq!(pids(&Filter { ops: vec!["exec".into(), "reload".into()], ..f() }), [0, 12]);
        assert_eq!(pids(&Filter { comms: vec!["sh".into()], ..f() }), [11]);
        assert_eq!(pids(&Filter { exes: vec![path_arg("/usr/bin/")], ..f() }), [10, 11, 13]);
        assert_eq!(pids(&Filter { exes: vec![path_arg("/usr/bin/cat")], ..f() }), [10]);
        // Component boundaries: /etc is not /etcx; target_path and filename count.
        assert_eq!(pids(&Filter { paths: vec![path_arg("/etc")], ..f() }), [10, 13]);
        assert_eq!(pids(&Filter { paths: vec![path_arg("/etc/")], ..f() }), [10, 13]);
        assert_eq!(pids(&Filter { paths: vec![path_arg("/usr/sbin")], ..f() }), [12]);
        assert_eq!(pids(&Filter { paths: vec![path_arg("/")], ..f() }), [10, 11, 12, 13]);
        assert_eq!(pids(&Filter { uids: vec![0], ..f() }), [11, 13]);
        // A name matches the logged name; records without one match by the uid the
        // host gives the name.
        assert_eq!(pids(&Filter { users: vec!["alice".into()], ..f() }), [10]);
        assert_eq!(pids(&Filter { users: vec!["root".into()], user_uids: vec![0], ..f() }), [11, 13]);
        assert_eq!(pids(&Filter { users: vec!["www-data".into()], user_uids: vec![33], ..f() }), [12]);
        assert_eq!(pids(&Filter { rules: vec!["shadow".into()], ..f() }), [10]);
        assert_eq!(pids(&Filter { rules: vec!["\"/etc/shadow\"".into()], ..f() }), [10]);
        assert_eq!(pids(&Filter { level: Some(30), ..f() }), [0, 10, 11]);
        assert_eq!(pids(&Filter { level: Some(40), ..f() }), [0]);
        assert_eq!(pids(&Filter { hostnames: vec!["web1".into()], ..f() }), [10, 11]);
        assert_eq!(pids(&Filter { container: true, ..f() }), [11, 12]);
        assert_eq!(pids(&Filter { modules: vec!["agent".into()], ..f() }), [0]);
        assert_eq!(parse_module("NETWORK"), Ok("network".to_string()));
        assert_eq!(parse_module("detect"), Ok("detect".to_string()));
        assert_eq!(parse_module("Telemetry"), Ok("telemetry".to_string()));
        assert!(parse_module("net").is_err());
        assert_eq!(parse_level("warning"), Ok(30));
        assert_eq!(parse_level("40"), Ok(40));
        assert!(parse_level("loud").is_err());
    }

    /// `--module detect` keeps the detect module's records, in either format, and
    /// `--action` its actions; the table shows the evidence and, where a rule would be,
    /// the technique and severity.
    #[test]
    fn detect_records_filter_and_show() {
        use crate::detect::{test_record, TestEvent};
        use crate::logging::{write_json, write_text};
        let killed = test_record(&TestEvent {
            detection: "reverse_shell",
            action: "KILLED",
            hostname: b"web1",
            pid: 200,
            ppid: 150,
            exe: b"/usr/bin/bash",
            peer: Some(([10, 0, 0, 9], 4444)),
            ..TestEvent::default()
        });
        let alert = test_record(&TestEvent {
            detection: "credential_access",
            action: "ALERT",
            hostname: b"web1",
            pid: 201,
            ppid: 150,
            exe: b"/usr/bin/cat",
            path: b"/etc/sha\xffdow\n",
            ..TestEvent::default()
        });
        let mut log = varied_records()[..5].join("\n").into_bytes();
        log.push(b'\n');
        write_json(&mut log, &killed, &[]);
        write_text(&mut log, &alert, &[]);
        write_text(&mut log, &killed, &[]);
        write_json(&mut log, &alert, &[]);
        let (dir, path) = temp_log("detect", &String::from_utf8(log.clone()).unwrap());
        let detect = Filter { modules: vec!["detect".into()], ..Filter::default() };
        let (table, diag) = run_scan(std::slice::from_ref(&path), &detect, Mode::Table, None);
        assert_eq!(diag.malformed, 0, "{:?}", diag.messages);
        let rows: Vec<&str> = table.lines().skip(1).collect();
        assert_eq!(rows.len(), 4, "{table}");
        for row in &rows {
            assert!(row.contains(" detect "), "{row}");
        }
        assert!(rows[0].contains("peer=10.0.0.9:4444 fd=0") && rows[0].ends_with("T1059.004 critical"), "{table}");
        assert!(
            rows[1].contains("path=/etc/sha\\xffdow\\x0a access=") && rows[1].ends_with("T1003.008 high"),
            "{table}"
        );
        let (count, _) = run_scan(std::slice::from_ref(&path), &detect, Mode::Count, None);
        assert_eq!(count.trim(), "4 records, 4 events");
        let alerts = Filter { modules: vec!["detect".into()], actions: vec!["ALERT".into()], ..Filter::default() };
        let (count, _) = run_scan(std::slice::from_ref(&path), &alerts, Mode::Count, None);
        assert_eq!(count.trim(), "2 records, 2 events");
        // The prefilter never drops a detect record.
        for line in log.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let entry = Entry::parse(line).unwrap();
            assert_eq!(detect.matches(&entry), entry.module.as_str() == "detect");
            assert!(!detect.matches(&entry) || detect.compile().may_match(line));
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The table shows the fold count, the uid with its logged name, the executable,
    /// argv, and what agent records say (a refused reload's error text).
    #[test]
    fn table_shows_count_user_exe_argv_and_errors() {
        let (dir, log) = temp_log("table", &(varied_records()[..5].join("\n") + "\n"));
        let (table, _) = run_scan(&[log], &Filter::default(), Mode::Table, None);
        let rows: Vec<&str> = table.lines().collect();
        assert!(rows[0].contains("COUNT  PID      UID           COMM             EXE"), "{table}");
        assert!(rows[0].ends_with(&format!("RULE{}ARGV", " ".repeat(18))), "{table}");
        assert!(
            rows[1].contains(&format!(
                " 10{}1000(alice){}cat{}/usr/bin/cat ",
                " ".repeat(7),
                " ".repeat(3),
                " ".repeat(14)
            )),
            "{table}"
        );
        assert!(rows[3].contains("33(www-data)"), "{table}");
        assert!(rows[3].ends_with("nginx -g \"daemon off;\""), "{table}");
        assert!(rows[4].contains("error: c.toml:3:1: x: unknown key"), "{table}");
        assert!(rows[5].contains("ALLOWED  4      13 "), "{table}");
        assert!(rows[5].contains("/tmp/a -> /etc/passwd"), "{table}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Several logs are merged in time order; a single log keeps its order.
    #[test]
    fn several_logs_merge_in_time_order() {
        let record = |second: u32, pid: u32| {
            format!("time=2026-11-20T10:00:{second:02}.000000Z level=INFO level_no=20 module=process op=exit pid={pid} exit_code=0")
        };
        let (dir_a, a) = temp_log("merge-a", &[record(1, 1), record(4, 4), record(5, 5)].join("\n"));
        let (dir_b, b) = temp_log("merge-b", &[record(2, 2), record(3, 3), record(6, 6)].join("\n"));
        std::fs::write(dir_b.join("s.log.1"), record(0, 100) + "\nnot a record\n").unwrap();
        let (out, diag) = run_scan(&[a.clone(), b.clone()], &Filter::default(), Mode::Json, None);
        let pids: Vec<u64> = out.lines().map(|line| Entry::parse(line.as_bytes()).unwrap().pid.unwrap()).collect();
        assert_eq!(pids, [100, 1, 2, 3, 4, 5, 6]);
        assert_eq!(diag.malformed, 1);
        assert!(diag.messages[0].contains("s.log.1:2: skipped malformed record"), "{:?}", diag.messages);
        // --limit stops after N, merged or not.
        let (out, _) = run_scan(&[a.clone(), b.clone()], &Filter::default(), Mode::Json, Some(3));
        assert_eq!(out.lines().count(), 3);
        let (out, _) = run_scan(&[a], &Filter::default(), Mode::Json, Some(2));
        assert_eq!(out.lines().count(), 2);
        std::fs::remove_dir_all(&dir_a).unwrap();
        std::fs::remove_dir_all(&dir_b).unwrap();
    }

    #[test]
    fn count_and_summary() {
        let (dir, log) = temp_log("count", &(varied_records().join("\n") + "\n"));
        let (out, _) = run_scan(std::slice::from_ref(&log), &Filter::default(), Mode::Count, None);
        // 10 records; the folded rename stands for 4 events, twice.
        assert_eq!(out, "10 records, 16 events\n");
        let files = Filter { modules: vec!["file".into()], ..Filter::default() };
        let (out, _) = run_scan(std::slice::from_ref(&log), &files, Mode::Summary, None);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "  RECORDS     EVENTS  MODULE    OP           ACTION");
        assert_eq!(lines[1], "        2          8  file      rename       ALLOWED");
        assert_eq!(lines.last(), Some(&"        6         12  total"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A filter does not hide a malformed line, nor one too long to read.
    #[test]
    fn bad_lines_are_reported_whatever_the_filter() {
        let mut content = format!("{JSON}\n{}\n", &JSON[..60]);
        content.push_str(&"x".repeat(crate::analysis::read::MAX_LINE + 10));
        content.push_str(&format!("\n{TEXT}\ntime=2026-11-22T12:37:18.299119Z module=process op=\"cut\n"));
        let (dir, log) = temp_log("bad", &content);
        let nothing = Filter { modules: vec!["mount".into()], ..Filter::default() };
        let (out, diag) = run_scan(&[log], &nothing, Mode::Table, None);
        assert_eq!(out, "");
        assert_eq!((diag.malformed, diag.too_long), (3, 1), "{:?}", diag.messages);
        assert!(diag.messages[0].contains("s.log:2: skipped malformed record"), "{:?}", diag.messages);
        assert!(diag.messages[1].contains("s.log:3: skipped a line longer than 1 MiB"), "{:?}", diag.messages);
        assert!(diag.messages[2].contains("s.log:5: skipped malformed record"), "{:?}", diag.messages);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn whole_lines_look_whole() {
        assert!(looks_whole(JSON.as_bytes()) && looks_whole(TEXT.as_bytes()));
        assert!(looks_whole(br#"time=x rule="{ path = \"/a b\" }" pid=1"#));
        assert!(!looks_whole(&JSON.as_bytes()[..50]));
        assert!(!looks_whole(br#"time=x rule="{ path = \"/a b"#));
        assert!(!looks_whole(b"garbage"));
    }

    /// A buffer the test reads while `scan` writes it from another thread.
    #[derive(Clone, Default)]
    struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap().lines().map(str::to_string).collect()
        }

        /// Waits (up to 20 s: the test machine may be busy) until `count` lines are out.
        fn wait_for(&self, count: usize) -> Vec<String> {
            for _ in 0..400 {
                if self.lines().len() >= count {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            self.lines()
        }
    }

    /// `--follow` reads what is appended, across a rename-and-create rotation and a
    /// copytruncate, each record once and in order, and stops when asked.
    #[test]
    fn follow_survives_rotation_and_truncation() {
        use std::fs::OpenOptions;
        let dir = std::env::temp_dir().join(format!("safeguard-follow-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("s.log");
        let record = |pid: u32| JSON.replace("19814", &pid.to_string()) + "\n";
        let append = |text: &str| {
            OpenOptions::new().create(true).append(true).open(&log).unwrap().write_all(text.as_bytes()).unwrap()
        };
        std::fs::write(dir.join("s.log.1"), record(1)).unwrap();
        append(&record(2));

        let out = Shared::default();
        let stop = Arc::new(AtomicBool::new(false));
        let scanner = {
            let (log, out, stop) = (log.clone(), out.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut printer = Printer::new(out, true);
                let mut diag = Diagnostics::captured();
                scan(&[log], &Filter::default(), true, &mut printer, &mut diag, &stop).unwrap();
                diag
            })
        };
        assert_eq!(out.wait_for(2).len(), 2);
        // A record written in two pieces is printed once it is whole.
        let third = record(3);
        append(&third[..40]);
        std::thread::sleep(Duration::from_millis(300));
        append(&third[40..]);
        assert_eq!(out.wait_for(3).len(), 3);
        // Rotation: a last record into the old file, rename, a new file.
        append(&record(4));
        std::fs::rename(&log, dir.join("s.log.1")).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        append(&record(5));
        assert_eq!(out.wait_for(5).len(), 5);
        // copytruncate.
        std::fs::OpenOptions::new().write(true).truncate(true).open(&log).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        append(&record(6));
        let lines = out.wait_for(6);
        stop.store(true, Ordering::Relaxed);
        let diag = scanner.join().unwrap();
        let pids: Vec<String> =
            lines.iter().map(|line| Entry::parse(line.as_bytes()).unwrap().pid.unwrap().to_string()).collect();
        assert_eq!(pids, ["1", "2", "3", "4", "5", "6"]);
        assert_eq!(diag.malformed, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Real logs the agent wrote (process module, JSON and text at once, rotated at
    /// 4 KB); the text set ends in a record cut by a crash.
    #[test]
    fn recorded_logs_read_in_both_formats() {
        let dir = crate::analysis::fixtures::dir();
        let stop = AtomicBool::new(false);
        let run = |set: &str, filter: &Filter| {
            let mut printer = Printer::new(Vec::new(), true);
            let mut diag = Diagnostics::captured();
            scan(&[dir.join(set).join("safeguard.log")], filter, false, &mut printer, &mut diag, &stop).unwrap();
            let out = String::from_utf8(printer.into_inner()).unwrap();
            let records: Vec<serde_json::Value> = out.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
            (records, diag)
        };
        let (all_json, diag) = run("recorded-json", &Filter::default());
        assert_eq!(all_json.len(), 32);
        assert_eq!(diag.malformed, 0);
        let (all_text, diag) = run("recorded-text", &Filter::default());
        assert_eq!(all_text.len(), 30);
        assert_eq!(diag.malformed, 1);
        assert!(
            diag.messages[0].contains("recorded-text/safeguard.log:15: skipped malformed record"),
            "{:?}",
            diag.messages
        );

        let denied = Filter { actions: vec!["MONITOR".into(), "BLOCKED".into()], ..Filter::default() };
        for set in ["recorded-json", "recorded-text"] {
            let (records, _) = run(set, &denied);
            assert_eq!(records.len(), 2, "{set}");
            assert!(records.iter().all(|r| r["rule"] == "/tmp/sgrec/denied" && r["filename"] == "/tmp/sgrec/denied"));
        }

        // The same exec, seen by both agents: equal but for the time stamp.
        let weird = |records: &[serde_json::Value]| {
            let mut record = records.iter().find(|r| r["op"] == "exec" && r["pid"] == 28071).unwrap().clone();
            record.as_object_mut().unwrap().remove("time");
            record
        };
        let from_json = weird(&all_json);
        assert_eq!(from_json, weird(&all_text));
        let exe = from_json["exe"].as_str().unwrap();
        assert_eq!(&*crate::analysis::entry::bytes_of(exe), b"/tmp/sgrec/we\\ird\xfe");
        assert_eq!(from_json["argv"][4], "tab\there");
    }
}
