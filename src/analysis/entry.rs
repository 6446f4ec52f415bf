//! One log line as the readers see it: `Entry`, the fields of SPEC section 4 that
//! `events`, `report` and `generate` use, read from either line format.
//!
//! Strings borrow from the line whenever the line holds them unescaped, so parsing a
//! typical record allocates nothing. Fields the log writer emits as `Value::Bytes`
//! (paths, `comm`, `exe`, `hostname`, ...) are kept in the writer's byte notation: valid
//! UTF-8 as is, a literal backslash as `\\`, every other byte as `\xNN` — the string a
//! JSON line holds after JSON decoding. Both formats converge on it, it is safe to
//! compare and count, and `bytes_of` recovers the exact bytes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::text;
use super::time::{self, Micros};

/// The line formats of `logging`: a JSON object, or `key=value` pairs starting `time=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

impl Format {
    /// Decided per line, so a log whose format was switched mid-way reads as a whole.
    pub fn of(line: &[u8]) -> Format {
        if line.first() == Some(&b'{') {
            Format::Json
        } else {
            Format::Text
        }
    }
}

/// The fields the log writer emits as `Value::Bytes` (kernel bytes that need not be
/// UTF-8). Their values are in byte notation; see the module comment.
pub const BYTES_FIELDS: &[&str] = &[
    "hostname",
    "comm",
    "exe",
    "parent_comm",
    "filename",
    "path",
    "target_path",
    "argv",
    "config",
    "parent_exe",
    "grandparent_exe",
    "target_comm",
    "prog_name",
];

/// A string field: borrowed from the line when it needs no unescaping.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    /// Serde's own `Cow<str>` always copies; this borrows when the JSON string has no
    /// escapes. Numbers and booleans are accepted as their text, so a field whose type a
    /// future writer changes still reads.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'a>, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(if v { "true" } else { "false" })))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// One record. Head fields are always present (a line without them is malformed); the
/// rest are `None` when the record does not carry them.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Entry<'a> {
    #[serde(borrow)]
    pub time: Text<'a>,
    #[serde(borrow)]
    pub level: Text<'a>,
    #[serde(borrow)]
    pub module: Text<'a>,
    #[serde(borrow)]
    pub op: Text<'a>,
    #[serde(borrow, default)]
    pub action: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub rule: Option<Text<'a>>,

    // The subject.
    #[serde(borrow, default)]
    pub hostname: Option<Text<'a>>,
    /// A folded record stands for `count` identical events (see the writer's folding).
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub pid: Option<u64>,
    #[serde(default)]
    pub ppid: Option<u64>,
    #[serde(default)]
    pub uid: Option<u64>,
    /// The subject's user name, when the agent recorded it at event time.
    #[serde(borrow, default)]
    pub user: Option<Text<'a>>,
    #[serde(default)]
    pub gid: Option<u64>,
    #[serde(borrow, default)]
    pub comm: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub exe: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub parent_comm: Option<Text<'a>>,
    #[serde(default)]
    pub container: Option<bool>,

    // Module fields.
    #[serde(borrow, default)]
    pub path: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub target_path: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub filename: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub family: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub protocol: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub src_addr: Option<Text<'a>>,
    #[serde(default)]
    pub src_port: Option<u64>,
    #[serde(borrow, default)]
    pub dst_addr: Option<Text<'a>>,
    #[serde(default)]
    pub dst_port: Option<u64>,
    #[serde(borrow, default)]
    pub domain: Option<Text<'a>>,
    #[serde(default)]
    pub child_pid: Option<u64>,
    /// `exec`: the arguments, each in byte notation.
    #[serde(borrow, default)]
    pub argv: Option<Vec<Text<'a>>>,
    #[serde(default)]
    pub exit_code: Option<i64>,
    #[serde(default)]
    pub signal: Option<u64>,

    // Agent records: the start record's state and the counters of `stats` (deltas).
    #[serde(borrow, default)]
    pub enforcement: Option<Text<'a>>,
    #[serde(default)]
    pub events: Option<u64>,
    /// `stats`: events the kernel emitted in the interval, and those lost (all causes).
    #[serde(default)]
    pub produced: Option<u64>,
    #[serde(default, rename = "lost")]
    pub lost_total: Option<u64>,
    /// A failure's text (a refused reload, a failed resolution).
    #[serde(borrow, default)]
    pub error: Option<Text<'a>>,
    #[serde(default)]
    pub lost_kernel: Option<u64>,
    #[serde(default)]
    pub lost_queue: Option<u64>,
    #[serde(default)]
    pub malformed: Option<u64>,
    #[serde(default)]
    pub write_errors: Option<u64>,

    // Inventory records: the summary's findings by severity and the most severe of them
    // (`risks`), and a drift's asset kind, change, item, severity and finding.
    #[serde(default)]
    pub findings: Option<std::collections::BTreeMap<String, u64>>,
    #[serde(borrow, default)]
    pub risks: Option<Vec<Text<'a>>>,
    #[serde(default)]
    pub risks_omitted: Option<u64>,
    #[serde(borrow, default)]
    pub asset: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub change: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub item: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub severity: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub finding: Option<Text<'a>>,

    // Telemetry records: a process's counts in an interval (`resource`), a drop reason's
    // (`net_drop`, with `count`), forwarded packets (`net_forward`, with `count`).
    #[serde(default)]
    pub interval_ms: Option<u64>,
    #[serde(default)]
    pub cpu_ns: Option<u64>,
    #[serde(default)]
    pub switches_voluntary: Option<u64>,
    #[serde(default)]
    pub switches_involuntary: Option<u64>,
    #[serde(default)]
    pub runq_wait_ns: Option<u64>,
    #[serde(default)]
    pub runq_waits: Option<u64>,
    #[serde(default)]
    pub runq_hist: Option<std::collections::BTreeMap<String, u64>>,
    #[serde(default)]
    pub tx_bytes: Option<u64>,
    #[serde(default)]
    pub rx_bytes: Option<u64>,
    #[serde(default)]
    pub tx_packets: Option<u64>,
    #[serde(default)]
    pub rx_packets: Option<u64>,
    #[serde(borrow, default)]
    pub reason: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub location: Option<Text<'a>>,

    // Detect records (docs/detect.md): the technique, the subject's ancestry and the
    // evidence; `severity` is the inventory's field above. The start record's module
    // states, and the `stats` record's detections since start by severity.
    #[serde(borrow, default)]
    pub technique: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub parent_exe: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub grandparent_exe: Option<Text<'a>>,
    #[serde(default)]
    pub fd: Option<u64>,
    #[serde(borrow, default)]
    pub peer_addr: Option<Text<'a>>,
    #[serde(default)]
    pub peer_port: Option<u64>,
    #[serde(default)]
    pub target_pid: Option<u64>,
    #[serde(borrow, default)]
    pub target_comm: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub access: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub dir_mode: Option<Text<'a>>,
    #[serde(default)]
    pub old_uid: Option<u64>,
    #[serde(borrow, default)]
    pub via: Option<Text<'a>>,
    #[serde(default)]
    pub prog_type: Option<u64>,
    #[serde(borrow, default)]
    pub prog_name: Option<Text<'a>>,
    #[serde(default)]
    pub modules: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub detections: Option<std::collections::BTreeMap<String, u64>>,
}

/// Why a line is not a record.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'a> Entry<'a> {
    /// Parses one line (without its `\n`) in whichever format it is.
    pub fn parse(line: &'a [u8]) -> Result<Entry<'a>, Malformed> {
        let entry = match Format::of(line) {
            Format::Json => serde_json::from_slice::<Entry>(line).map_err(|err| Malformed(format!("JSON: {err}")))?,
            Format::Text => {
                let line = std::str::from_utf8(line).map_err(|_| Malformed("text: not UTF-8".to_string()))?;
                text::entry(line).map_err(|err| Malformed(format!("text: {err}")))?
            }
        };
        if entry.time.0.is_empty() || entry.module.0.is_empty() || entry.op.0.is_empty() {
            return Err(Malformed("missing time, module or op".to_string()));
        }
        Ok(entry)
    }

    /// The record's time; `None` when the `time` field is not RFC 3339.
    pub fn micros(&self) -> Option<Micros> {
        time::parse_rfc3339(self.time.as_str())
    }

    /// An event that a rule decided would be or was denied (`MONITOR` or `BLOCKED`).
    pub fn is_denial(&self) -> bool {
        matches!(self.action.as_ref().map(Text::as_str), Some("MONITOR" | "BLOCKED"))
    }

    /// How many events this record stands for: its `count` when folded, else 1.
    pub fn weight(&self) -> u64 {
        self.count.unwrap_or(1).max(1)
    }

    /// A module's event, as opposed to the agent's own life-cycle and statistics and
    /// the inventory's summaries and drift (the state of the host, not an operation) and
    /// the telemetry's counts (many operations in one record).
    pub fn is_event(&self) -> bool {
        !matches!(self.module.as_str(), "agent" | "inventory" | "telemetry")
    }

    /// The subject's executable, else `[comm]`: what "a process" means in reports.
    pub fn process(&self) -> Option<Cow<'_, str>> {
        match (&self.exe, &self.comm) {
            (Some(exe), _) if !exe.0.is_empty() => Some(Cow::Borrowed(exe.as_str())),
            (_, Some(comm)) if !comm.0.is_empty() => Some(Cow::Owned(format!("[{}]", comm.as_str()))),
            _ => None,
        }
    }

    /// The remote end of a network event as SPEC section 3.2 judges it: the local address
    /// for `bind`, the destination or peer (`dst_addr`) for every other operation.
    pub fn judged_address(&self) -> Option<&str> {
        let addr = if self.op.as_str() == "bind" { &self.src_addr } else { &self.dst_addr };
        addr.as_ref().map(Text::as_str).filter(|addr| !addr.is_empty())
    }

    /// `addr:port` (`[addr]:port` for IPv6) of the judged end.
    pub fn endpoint(&self) -> Option<String> {
        let addr = self.judged_address()?;
        let port = if self.op.as_str() == "bind" { self.src_port } else { self.dst_port };
        Some(match port {
            Some(port) if addr.contains(':') => format!("[{addr}]:{port}"),
            Some(port) => format!("{addr}:{port}"),
            None => addr.to_string(),
        })
    }

    /// What the record is about, for one column of a table: the path, the destination,
    /// the executed file, the child, the exit status, or the agent's counters.
    pub fn object(&self) -> Cow<'_, str> {
        fn text<'s>(field: &'s Option<Text<'_>>) -> Option<&'s str> {
            field.as_ref().map(Text::as_str)
        }
        let found: Option<Cow<'_, str>> = match self.module.as_str() {
            "file" | "mount" => match (text(&self.path), text(&self.target_path)) {
                (Some(path), Some(target)) => Some(Cow::Owned(format!("{path} -> {target}"))),
                (path, _) => path.map(Cow::Borrowed),
            },
            "network" => self.endpoint().map(|end| match &self.domain {
                Some(domain) if !domain.0.is_empty() => Cow::Owned(format!("{end} ({domain})")),
                _ => Cow::Owned(end),
            }),
            "process" => match self.op.as_str() {
                "fork" => self.child_pid.map(|child| Cow::Owned(format!("child {child}"))),
                "exit" => match (self.exit_code, self.signal) {
                    (_, Some(signal)) => Some(Cow::Owned(format!("signal {signal}"))),
                    (Some(code), _) => Some(Cow::Owned(format!("exit {code}"))),
                    _ => None,
                },
                _ => text(&self.filename).map(Cow::Borrowed),
            },
            "agent" => match self.op.as_str() {
                "start" => self.enforcement.as_ref().map(|state| Cow::Owned(format!("enforcement {state}"))),
                // `produced`/`lost` since the accounting rework; `events` before it.
                "stats" => self.produced.or(self.events).map(|events| {
                    Cow::Owned(format!("produced {events}, lost {}", self.lost_total.unwrap_or_else(|| self.lost())))
                }),
                _ => self.error.as_ref().map(|error| Cow::Owned(format!("error: {error}"))),
            },
            "inventory" => match (&self.change, &self.asset, &self.item, &self.findings) {
                (Some(change), Some(asset), Some(item), _) => Some(Cow::Owned(format!("{change} {asset}: {item}"))),
                (_, _, _, Some(found)) => {
                    let counts: Vec<String> = crate::inventory::Severity::ALL
                        .iter()
                        .rev()
                        .map(|s| format!("{} {}", found.get(s.name()).copied().unwrap_or(0), s.name()))
                        .collect();
                    Some(Cow::Owned(format!("findings: {}", counts.join(", "))))
                }
                _ => None,
            },
            "detect" => Some(Cow::<str>::Owned(self.evidence())).filter(|evidence| !evidence.is_empty()),
            _ => None,
        };
        found
            .or_else(|| text(&self.path).map(Cow::Borrowed))
            .or_else(|| self.error.as_ref().map(|error| Cow::Owned(format!("error: {error}"))))
            .unwrap_or_default()
    }

    /// A detection's evidence (docs/detect.md) as `key=value` pairs in byte notation:
    /// `path`, `peer` (address:port), `fd`, `target_pid`, `target_comm`, `access`,
    /// `dir_mode`, `via`, `old_uid`, `prog_name`, `prog_type`, those the record has.
    pub fn evidence(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        let mut push = |key: &str, value: &dyn fmt::Display| out.push(format!("{key}={value}"));
        if let Some(path) = &self.path {
            push("path", path);
        }
        if let Some(addr) = &self.peer_addr {
            match self.peer_port {
                Some(port) if addr.as_str().contains(':') => push("peer", &format!("[{addr}]:{port}")),
                Some(port) => push("peer", &format!("{addr}:{port}")),
                None => push("peer", addr),
            }
        }
        if let Some(fd) = self.fd {
            push("fd", &fd);
        }
        if let Some(pid) = self.target_pid {
            push("target_pid", &pid);
        }
        for (key, field) in [
            ("target_comm", &self.target_comm),
            ("access", &self.access),
            ("dir_mode", &self.dir_mode),
            ("via", &self.via),
        ] {
            if let Some(value) = field {
                push(key, value);
            }
        }
        if let Some(uid) = self.old_uid {
            push("old_uid", &uid);
        }
        if let Some(name) = &self.prog_name {
            push("prog_name", name);
        }
        if let Some(kind) = self.prog_type {
            push("prog_type", &kind);
        }
        out.join(" ")
    }

    /// Events the agent reports lost in a `stats` record's interval.
    pub fn lost(&self) -> u64 {
        if let Some(lost) = self.lost_total {
            return lost;
        }
        [self.lost_kernel, self.lost_queue, self.malformed, self.write_errors].into_iter().flatten().sum()
    }
}

/// The exact bytes of a value in byte notation: `\\` is a backslash, `\xNN` byte NN;
/// anything else (including a backslash that starts neither) is taken literally.
pub fn bytes_of(notation: &str) -> Cow<'_, [u8]> {
    if !notation.contains('\\') {
        return Cow::Borrowed(notation.as_bytes());
    }
    let b = notation.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut at = 0;
    while at < b.len() {
        if b[at] == b'\\' {
            if b.get(at + 1) == Some(&b'\\') {
                out.push(b'\\');
                at += 2;
                continue;
            }
            if b.get(at + 1) == Some(&b'x') {
                if let Some(byte) = b.get(at + 2..at + 4).and_then(hex_byte) {
                    out.push(byte);
                    at += 4;
                    continue;
                }
            }
        }
        out.push(b[at]);
        at += 1;
    }
    Cow::Owned(out)
}

/// The byte notation of `bytes` (the inverse of `bytes_of`).
pub fn notation_of(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if !text.contains('\\') {
            return Cow::Borrowed(text);
        }
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for (at, piece) in chunk.valid().split('\\').enumerate() {
            if at > 0 {
                out.push_str("\\\\");
            }
            out.push_str(piece);
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    Cow::Owned(out)
}

pub(super) fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
}

/// A value made safe for a terminal or a one-line comment: control characters (and
/// U+2028/U+2029) become `\xNN` of their UTF-8 bytes. Byte notation passes unchanged.
pub fn printable(text: &str) -> Cow<'_, str> {
    let hidden = |ch: char| ch.is_control() || ch == '\u{2028}' || ch == '\u{2029}';
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        if hidden(ch) {
            let mut buffer = [0u8; 4];
            for byte in ch.encode_utf8(&mut buffer).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        } else {
            out.push(ch);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::{write_json, write_text, Action, Level, Record, Value};
    use std::time::{Duration, UNIX_EPOCH};

    /// A record as the process module writes it, with awkward bytes in its paths.
    fn exec_record() -> Record {
        let mut record = Record::new(Level::Warning, "process", "exec");
        record.time = UNIX_EPOCH + Duration::new(1_795_350_896, 123_456_000);
        record.action = Some(Action::Monitor);
        record.rule = Some("{ path = \"/tmp\" }".into());
        record.fields = vec![
            ("hostname", Value::Bytes(b"vm 1".to_vec())),
            ("pid", Value::Uint(42)),
            ("ppid", Value::Uint(1)),
            ("uid", Value::Uint(1000)),
            ("gid", Value::Uint(1000)),
            ("comm", Value::Bytes(b"we\\ird\xfe".to_vec())),
            ("exe", Value::Bytes(b"/tmp/we\\ird\xfe\n\"x\"".to_vec())),
            ("parent_comm", Value::Bytes(b"bash".to_vec())),
            ("cgroup_id", Value::Uint(7)),
            ("container", Value::Bool(true)),
            ("filename", Value::Bytes(b"/tmp/a b=c\t\x1b".to_vec())),
            ("argv", Value::List(vec![Value::Bytes(b"x".to_vec()), Value::Bytes(b"a,b [c]".to_vec())])),
        ];
        record
    }

    fn written(record: &Record, json: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let tags = [("env".to_string(), "prod".to_string())];
        if json {
            write_json(&mut out, record, &tags);
        } else {
            write_text(&mut out, record, &tags);
        }
        out.pop(); // the `\n`
        out
    }

    #[test]
    fn both_formats_read_the_same_entry() {
        let record = exec_record();
        let json = written(&record, true);
        let text = written(&record, false);
        let from_json = Entry::parse(&json).unwrap();
        let from_text = Entry::parse(&text).unwrap();
        assert_eq!(from_json, from_text);
        let entry = from_json;
        assert_eq!(entry.time.as_str(), "2026-11-22T12:34:56.123456Z");
        assert_eq!(entry.micros(), Some(1_795_350_896_123_456));
        assert_eq!(entry.level.as_str(), "WARNING");
        assert_eq!((entry.module.as_str(), entry.op.as_str()), ("process", "exec"));
        assert_eq!(entry.action.as_ref().unwrap().as_str(), "MONITOR");
        assert_eq!(entry.rule.as_ref().unwrap().as_str(), "{ path = \"/tmp\" }");
        assert_eq!((entry.pid, entry.ppid, entry.uid, entry.gid), (Some(42), Some(1), Some(1000), Some(1000)));
        assert_eq!(entry.container, Some(true));
        assert_eq!(entry.hostname.as_ref().unwrap().as_str(), "vm 1");
        let exe = entry.exe.as_ref().unwrap();
        assert_eq!(exe.as_str(), "/tmp/we\\\\ird\\xfe\n\"x\"");
        assert_eq!(&*bytes_of(exe.as_str()), b"/tmp/we\\ird\xfe\n\"x\"");
        assert_eq!(&*bytes_of(entry.comm.as_ref().unwrap().as_str()), b"we\\ird\xfe");
        assert_eq!(&*bytes_of(entry.filename.as_ref().unwrap().as_str()), b"/tmp/a b=c\t\x1b");
        assert!(entry.is_denial() && entry.is_event());
    }

    #[test]
    fn plain_values_borrow_from_the_line() {
        let line = br#"{"time":"2026-11-22T12:34:56.000000Z","level":"INFO","level_no":20,"module":"process","op":"exec","exe":"/usr/bin/ls","pid":5}"#;
        let entry = Entry::parse(line).unwrap();
        assert!(matches!(entry.exe.as_ref().unwrap().0, Cow::Borrowed(_)));
        let line =
            b"time=2026-11-22T12:34:56.000000Z level=INFO level_no=20 module=process op=exec exe=/usr/bin/ls pid=5";
        let entry = Entry::parse(line).unwrap();
        assert!(matches!(entry.exe.as_ref().unwrap().0, Cow::Borrowed(_)));
        assert_eq!(entry.pid, Some(5));
    }

    #[test]
    fn malformed_lines_are_refused() {
        for bad in [
            &b"{\"time\":\"2026-11-22T12:34:56.000000Z\",\"level\":\"INFO\""[..],
            b"{\"time\":\"2026-11-22T12:34:56.000000Z\",\"level\":\"INFO\",\"module\":\"agent\"}",
            b"{\"time\":\"x\",\"level\":\"INFO\",\"module\":\"agent\",\"op\":\"stats\",\"pid\":\"nan\"}",
            b"time=2026-11-22T12:34:56.000000Z level=INFO module=agent",
            b"time=2026-11-22T12:34:56.000000Z level=INFO module=agent op=\"unterminated",
            b"time=2026-11-22T12:34:56.000000Z level=INFO module=agent op=x pid=abc",
            b"time=2026-11-22T12:34:56.000000Z level=INFO module=agent op=x \xff",
            b"garbage",
            b"",
        ] {
            assert!(Entry::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn byte_notation_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        for bytes in [&all[..], b"", b"plain", b"\\x41", b"\\\\", b"\xff\xfe", "é✓".as_bytes()] {
            assert_eq!(&*bytes_of(&notation_of(bytes)), bytes);
        }
        assert_eq!(notation_of(b"C:\\x41\xff"), "C:\\\\x41\\xff");
        // Lenient with what a writer would not produce.
        assert_eq!(&*bytes_of("a\\q\\x4"), b"a\\q\\x4");
    }

    #[test]
    fn printable_hides_controls_only() {
        assert_eq!(printable("/tmp/a\nb\u{1b}[31m\u{2028}é"), "/tmp/a\\x0ab\\x1b[31m\\xe2\\x80\\xa8é");
        assert!(matches!(printable("/we\\\\ird\\xfe"), Cow::Borrowed(_)));
    }

    #[test]
    fn objects_for_the_table() {
        let parse = |line: &'static str| Entry::parse(line.as_bytes()).unwrap();
        let head = "time=2026-11-22T12:34:56.000000Z level=INFO level_no=20";
        let object = |rest: &str| {
            let line: &'static str = Box::leak(format!("{head} {rest}").into_boxed_str());
            parse(line).object().into_owned()
        };
        assert_eq!(object("module=file op=rename path=/a target_path=/b"), "/a -> /b");
        assert_eq!(
            object("module=network op=connect dst_addr=10.0.0.1 dst_port=443 domain=x.org"),
            "10.0.0.1:443 (x.org)"
        );
        assert_eq!(object("module=network op=connect dst_addr=::1 dst_port=53"), "[::1]:53");
        assert_eq!(object("module=network op=bind src_addr=0.0.0.0 src_port=22 dst_addr=1.2.3.4"), "0.0.0.0:22");
        assert_eq!(object("module=process op=exec filename=/bin/ls"), "/bin/ls");
        assert_eq!(object("module=process op=fork child_pid=9"), "child 9");
        assert_eq!(object("module=process op=exit exit_code=7"), "exit 7");
        assert_eq!(object("module=process op=exit signal=9"), "signal 9");
        assert_eq!(object("module=agent op=stats events=3 lost_kernel=1 lost_queue=2"), "produced 3, lost 3");
        assert_eq!(
            object("module=agent op=stats produced=7 written=5 lost=2 lost_kernel=2 totals={lost=9}"),
            "produced 7, lost 2"
        );
        assert_eq!(
            object("module=agent op=reload error=\"config.toml:3:1: x: unknown key\""),
            "error: config.toml:3:1: x: unknown key"
        );
        assert_eq!(object("module=network op=resolve error=\"no answer\""), "error: no answer");
        assert_eq!(
            object(
                "module=inventory op=drift asset=cron change=added item=\"/etc/cron.d/x root /tmp/j\" severity=high"
            ),
            "added cron: /etc/cron.d/x root /tmp/j"
        );
        assert_eq!(
            object("module=inventory op=inventory findings=\"{critical=1,high=2,medium=0,low=3}\" risks=\"[]\""),
            "findings: 1 critical, 2 high, 0 medium, 3 low"
        );
        let drift: &'static str = Box::leak(format!("{head} module=inventory op=drift").into_boxed_str());
        assert!(!parse(drift).is_event());
        assert_eq!(crate::analysis::parse_module("Inventory").as_deref(), Ok("inventory"));
    }
}
