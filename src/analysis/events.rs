//! `safeguard events`: the records of the logs that match the filters, as a table or as
//! JSON lines, optionally following the live log across rotation.
//!
//! Speed comes from not parsing what cannot match: each filter first looks for its
//! values in the raw line (`Filter::may_match`: substring searches and, for times, a
//! string comparison of the fixed-width timestamp at the start of the line); only lines
//! that pass are parsed, borrowing their strings.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use memchr::memmem::Finder;

use super::entry::{printable, Entry, Format, Text};
use super::read::{log_set, Change, Diagnostics, Line, LineReader};
use super::text;
use super::time::{self, Micros, CANONICAL_LEN};
use super::{parse_action, parse_time, DEFAULT_LOG, MODULES};

#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    /// Log files; each is read after its rotated files (FILE.N ... FILE.1).
    #[arg(default_value = DEFAULT_LOG)]
    pub files: Vec<PathBuf>,
    /// Only these modules (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_parser = MODULES)]
    pub module: Vec<String>,
    /// Only these actions: ALLOWED, MONITOR, BLOCKED, or DENIED for MONITOR and BLOCKED.
    #[arg(long, value_delimiter = ',', value_parser = parse_action)]
    pub action: Vec<Vec<String>>,
    /// Only records of these process ids.
    #[arg(long, value_delimiter = ',')]
    pub pid: Vec<u64>,
    /// Records at or after T: RFC 3339, a date, or an age such as 10m, 2h, 1d.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub since: Option<Micros>,
    /// Records at or before T (same forms as --since).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub until: Option<Micros>,
    /// Keep reading as the log grows and rotates, until interrupted.
    #[arg(short, long)]
    pub follow: bool,
    /// Print JSON lines (text records are converted) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The record filters of the command line.
#[derive(Debug, Default)]
pub struct Filter {
    pub modules: Vec<String>,
    pub actions: Vec<String>,
    pub pids: Vec<u64>,
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

impl Filter {
    pub fn from_args(args: &EventsArgs) -> Filter {
        Filter {
            modules: args.module.clone(),
            actions: args.action.iter().flatten().cloned().collect(),
            pids: args.pid.clone(),
            since: args.since,
            until: args.until,
        }
    }

    pub fn compile(&self) -> Prefilter {
        let (mut json, mut text) = (Vec::new(), Vec::new());
        if !self.modules.is_empty() {
            json.push(self.modules.iter().map(|m| Needle::plain(format!("\"{m}\""))).collect());
            text.push(self.modules.iter().map(|m| Needle::token(format!(" module={m}"))).collect());
        }
        if !self.actions.is_empty() {
            json.push(self.actions.iter().map(|a| Needle::plain(format!("\"{a}\""))).collect());
            text.push(self.actions.iter().map(|a| Needle::token(format!(" action={a}"))).collect());
        }
        if !self.pids.is_empty() {
            json.push(self.pids.iter().map(|p| Needle::number(p.to_string())).collect());
            text.push(self.pids.iter().map(|p| Needle::token(format!(" pid={p}"))).collect());
        }
        let canonical = |time: Micros| -> [u8; CANONICAL_LEN] {
            let mut out = [0u8; CANONICAL_LEN];
            out.copy_from_slice(time::format_rfc3339(time).as_bytes());
            out
        };
        Prefilter { json, text, since: self.since.map(canonical), until: self.until.map(canonical) }
    }

    pub fn matches(&self, entry: &Entry<'_>) -> bool {
        if !self.modules.is_empty() && !self.modules.iter().any(|m| m == entry.module.as_str()) {
            return false;
        }
        if !self.actions.is_empty() {
            let Some(action) = &entry.action else { return false };
            if !self.actions.iter().any(|a| a == action.as_str()) {
                return false;
            }
        }
        if !self.pids.is_empty() && !entry.pid.is_some_and(|pid| self.pids.contains(&pid)) {
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

/// How matching records are printed.
pub struct Printer<W: Write> {
    out: W,
    json: bool,
    header_done: bool,
}

impl<W: Write> Printer<W> {
    pub fn new(out: W, json: bool) -> Printer<W> {
        Printer { out, json, header_done: false }
    }

    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.out
    }

    fn print<'e>(
        &mut self,
        line: &[u8],
        entry: &'e Entry<'_>,
        diag: &mut Diagnostics,
        path: &Path,
        number: u64,
    ) -> io::Result<()> {
        if self.json {
            match Format::of(line) {
                Format::Json => {
                    self.out.write_all(line)?;
                    self.out.write_all(b"\n")
                }
                // `Entry::parse` accepted the line, so it is UTF-8 and well-formed.
                Format::Text => match std::str::from_utf8(line).map_err(|e| e.to_string()).and_then(text::to_json) {
                    Ok(json) => writeln!(self.out, "{json}"),
                    Err(err) => {
                        diag.malformed += 1;
                        diag.note(format!("{}:{number}: skipped malformed record: text: {err}", path.display()));
                        Ok(())
                    }
                },
            }
        } else {
            if !self.header_done {
                self.header_done = true;
                self.row(["TIME", "LEVEL", "MODULE", "OP", "ACTION", "PID", "COMM", "OBJECT", "RULE"])?;
            }
            let text = |field: &'e Option<Text<'_>>| {
                field.as_ref().map_or(Cow::Borrowed("-"), |value| printable(value.as_str()))
            };
            let object = entry.object();
            let object = if object.is_empty() { Cow::Borrowed("-") } else { printable(&object).into_owned().into() };
            let mut pid = itoa_buffer();
            let pid = match entry.pid {
                Some(number) => format_u64(&mut pid, number),
                None => "-",
            };
            self.row([
                &printable(entry.time.as_str()),
                &printable(entry.level.as_str()),
                &printable(entry.module.as_str()),
                &printable(entry.op.as_str()),
                &text(&entry.action),
                pid,
                &text(&entry.comm),
                &object,
                &text(&entry.rule),
            ])
        }
    }

    fn row(&mut self, cells: [&str; 9]) -> io::Result<()> {
        const WIDTHS: [usize; 8] = [27, 7, 7, 11, 7, 7, 15, 40];
        const SPACES: [u8; 42] = [b' '; 42];
        for (cell, width) in cells.iter().zip(WIDTHS) {
            self.out.write_all(cell.as_bytes())?;
            let used = if cell.is_ascii() { cell.len() } else { cell.chars().count() };
            self.out.write_all(&SPACES[..width.saturating_sub(used) + 2])?;
        }
        self.out.write_all(cells[8].as_bytes())?;
        self.out.write_all(b"\n")
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

/// Reads `files`, prints what `filter` lets through; with `follow`, keeps reading the
/// live files until `stop` is set. Output errors end the scan (a closed pipe is normal).
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
        if !prefilter.may_match(line.bytes) {
            return Ok(());
        }
        match diag.parse(line.path, line.number, line.bytes) {
            Some(entry) if filter.matches(&entry) => printer.print(line.bytes, &entry, diag, line.path, line.number),
            _ => Ok(()),
        }
    };

    // The live file of each set, when following; `None` until it exists.
    let mut live: Vec<(PathBuf, Option<LineReader>)> = Vec::new();
    for path in files {
        let set = match log_set(path) {
            Ok(set) => set,
            Err(err) if follow && err.kind() == io::ErrorKind::NotFound => {
                live.push((path.clone(), None));
                continue;
            }
            Err(err) => {
                diag.failure(format!("{}: {err}", path.display()));
                continue;
            }
        };
        for file in &set {
            let is_live = follow && file == path;
            let mut reader = match LineReader::open(file) {
                Ok(reader) => reader,
                Err(err) => {
                    diag.failure(format!("{}: {err}", file.display()));
                    continue;
                }
            };
            let result = reader.read_available(is_live, &mut |line| handle(line, printer, diag));
            match result {
                Err(err) if is_output_error(&err) => return Err(err),
                Err(err) => diag.failure(format!("{}: {err}", file.display())),
                Ok(()) => {}
            }
            if is_live {
                live.push((path.clone(), Some(reader)));
            }
        }
        if follow && !set.contains(path) {
            live.push((path.clone(), None));
        }
    }
    printer.flush()?;
    if !follow {
        return Ok(());
    }

    while !stop.load(Ordering::Relaxed) {
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
    let stdout = Stdout(io::BufWriter::with_capacity(1 << 16, io::stdout().lock()));
    let mut printer = Printer::new(stdout, args.json);
    let mut diag = Diagnostics::stderr();
    match scan(&args.files, &filter, args.follow, &mut printer, &mut diag, &stop) {
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
        assert!(rows[1].contains("MONITOR  19814    denied           /tmp/denied"), "{table}");
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
