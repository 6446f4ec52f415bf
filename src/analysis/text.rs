//! Reading the text line format that `logging::write_text` writes (see its module comment
//! for the grammar): `key=value` pairs separated by one space; a value is bare, or quoted
//! with `\"` `\\` `\n` `\t` `\xNN` escapes; lists `[a,b]` and maps `{k=v}` whose elements
//! are bare, quoted or nested lists and maps.
//!
//! The grammar does not say a value's type (`pid=42` and a `hostname=42` look alike), so
//! `to_json` types the fields it knows from SPEC section 4 and infers the others: a bare
//! integer is a number, `true`/`false` a boolean.

use std::borrow::Cow;

use super::entry::{hex_byte, notation_of, Entry, Text, BYTES_FIELDS};

/// A value as it stands in the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Raw<'a> {
    /// Written bare: no escapes, no spaces.
    Bare(&'a str),
    /// Between the quotes, escapes not yet resolved.
    Quoted(&'a str),
}

impl<'a> Raw<'a> {
    /// The value's exact bytes.
    pub fn bytes(self) -> Result<Cow<'a, [u8]>, String> {
        match self {
            Raw::Bare(text) => Ok(Cow::Borrowed(text.as_bytes())),
            Raw::Quoted(text) if !text.contains('\\') => Ok(Cow::Borrowed(text.as_bytes())),
            Raw::Quoted(text) => unescape(text).map(Cow::Owned),
        }
    }

    /// The value as a string: the bytes when they are UTF-8 (they are for every string
    /// field the writer emits), else their byte notation.
    fn string(self) -> Result<Cow<'a, str>, String> {
        Ok(match self.bytes()? {
            Cow::Borrowed(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => Cow::Owned(notation_of(bytes).into_owned()),
            },
            Cow::Owned(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Cow::Owned(text),
                Err(err) => Cow::Owned(notation_of(err.as_bytes()).into_owned()),
            },
        })
    }

    /// The value in byte notation (for `BYTES_FIELDS`).
    fn notation(self) -> Result<Cow<'a, str>, String> {
        Ok(match self.bytes()? {
            // Bare values and escape-free quoted ones hold no backslash.
            Cow::Borrowed(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => Cow::Owned(notation_of(bytes).into_owned()),
            },
            Cow::Owned(bytes) => Cow::Owned(notation_of(&bytes).into_owned()),
        })
    }
}

/// The `key=value` pairs of a line, in order; keys as written (a tag name may hold `\xNN`).
pub struct Pairs<'a> {
    rest: &'a str,
}

pub fn pairs(line: &str) -> Pairs<'_> {
    Pairs { rest: line }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Result<(&'a str, Raw<'a>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let result = self.split_pair();
        if result.is_err() {
            self.rest = "";
        }
        Some(result)
    }
}

impl<'a> Pairs<'a> {
    fn split_pair(&mut self) -> Result<(&'a str, Raw<'a>), String> {
        let rest = self.rest;
        let eq = rest
            .find(['=', ' '])
            .filter(|&at| rest.as_bytes()[at] == b'=' && at > 0)
            .ok_or_else(|| format!("expected key=value at {:?}", excerpt(rest)))?;
        let key = &rest[..eq];
        let value = &rest[eq + 1..];
        let (raw, after) = if let Some(quoted) = value.strip_prefix('"') {
            let end = closing_quote(quoted.as_bytes()).ok_or_else(|| format!("{key}: unterminated quoted value"))?;
            (Raw::Quoted(&quoted[..end]), &quoted[end + 1..])
        } else {
            let end = value.find(' ').unwrap_or(value.len());
            if value[..end].contains(['"', '\\']) {
                return Err(format!("{key}: a bare value holds a quote or backslash"));
            }
            (Raw::Bare(&value[..end]), &value[end..])
        };
        self.rest = match after.strip_prefix(' ') {
            Some(next) if !next.is_empty() => next,
            None if after.is_empty() => "",
            _ => return Err(format!("{key}: expected one space after the value")),
        };
        Ok((key, raw))
    }
}

/// The index of the quote that ends a quoted value (the opening quote already skipped).
fn closing_quote(b: &[u8]) -> Option<usize> {
    let mut at = 0;
    while at < b.len() {
        match b[at] {
            b'\\' => at += 2,
            b'"' => return Some(at),
            _ => at += 1,
        }
    }
    None
}

fn excerpt(text: &str) -> &str {
    match text.char_indices().nth(24) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// Resolves the escapes of a quoted value into its bytes.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut at = 0;
    while at < b.len() {
        if b[at] != b'\\' {
            out.push(b[at]);
            at += 1;
            continue;
        }
        match b.get(at + 1) {
            Some(b'"') => out.push(b'"'),
            Some(b'\\') => out.push(b'\\'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'x') => {
                let byte = b.get(at + 2..at + 4).and_then(hex_byte).ok_or("bad \\x escape")?;
                out.push(byte);
                at += 2;
            }
            _ => return Err(format!("unknown escape in {:?}", excerpt(&text[at..]))),
        }
        at += 2;
    }
    Ok(out)
}

/// Reads the fields `Entry` holds; unknown keys are skipped (but must be well-formed).
pub fn entry(line: &str) -> Result<Entry<'_>, String> {
    let mut entry = Entry::default();
    for pair in pairs(line) {
        let (key, raw) = pair?;
        let text = || -> Result<Option<Text<'_>>, String> { Ok(Some(Text(raw.string()?))) };
        let bytes = || -> Result<Option<Text<'_>>, String> { Ok(Some(Text(raw.notation()?))) };
        let number = || -> Result<Option<u64>, String> {
            match raw {
                Raw::Bare(digits) => digits.parse().map(Some).map_err(|_| format!("{key}: not a number: {digits:?}")),
                Raw::Quoted(_) => Err(format!("{key}: a number is never quoted")),
            }
        };
        match key {
            "time" => entry.time = Text(raw.string()?),
            "level" => entry.level = Text(raw.string()?),
            "module" => entry.module = Text(raw.string()?),
            "op" => entry.op = Text(raw.string()?),
            "action" => entry.action = text()?,
            "rule" => entry.rule = text()?,
            "hostname" => entry.hostname = bytes()?,
            "count" => entry.count = number()?,
            "pid" => entry.pid = number()?,
            "ppid" => entry.ppid = number()?,
            "uid" => entry.uid = number()?,
            "user" => entry.user = text()?,
            "argv" => entry.argv = Some(strings(raw, "argv")?),
            "gid" => entry.gid = number()?,
            "comm" => entry.comm = bytes()?,
            "exe" => entry.exe = bytes()?,
            "parent_comm" => entry.parent_comm = bytes()?,
            "container" => {
                entry.container = match raw {
                    Raw::Bare("true") => Some(true),
                    Raw::Bare("false") => Some(false),
                    _ => return Err("container: not true or false".to_string()),
                }
            }
            "path" => entry.path = bytes()?,
            "target_path" => entry.target_path = bytes()?,
            "filename" => entry.filename = bytes()?,
            "family" => entry.family = text()?,
            "protocol" => entry.protocol = text()?,
            "src_addr" => entry.src_addr = text()?,
            "src_port" => entry.src_port = number()?,
            "dst_addr" => entry.dst_addr = text()?,
            "dst_port" => entry.dst_port = number()?,
            "domain" => entry.domain = text()?,
            "child_pid" => entry.child_pid = number()?,
            "exit_code" => {
                entry.exit_code = match raw {
                    Raw::Bare(digits) => {
                        Some(digits.parse().map_err(|_| format!("exit_code: not a number: {digits:?}"))?)
                    }
                    Raw::Quoted(_) => return Err("exit_code: a number is never quoted".to_string()),
                }
            }
            "signal" => entry.signal = number()?,
            "enforcement" => entry.enforcement = text()?,
            "events" => entry.events = number()?,
            "produced" => entry.produced = number()?,
            "lost" => entry.lost_total = number()?,
            "error" => entry.error = text()?,
            "lost_kernel" => entry.lost_kernel = number()?,
            "lost_queue" => entry.lost_queue = number()?,
            "malformed" => entry.malformed = number()?,
            "write_errors" => entry.write_errors = number()?,
            "findings" => entry.findings = Some(counts(raw)?),
            "risks" => entry.risks = Some(strings(raw, "risks")?),
            "risks_omitted" => entry.risks_omitted = number()?,
            "asset" => entry.asset = text()?,
            "change" => entry.change = text()?,
            "item" => entry.item = text()?,
            "severity" => entry.severity = text()?,
            "finding" => entry.finding = text()?,
            "interval_ms" => entry.interval_ms = number()?,
            "cpu_ns" => entry.cpu_ns = number()?,
            "switches_voluntary" => entry.switches_voluntary = number()?,
            "switches_involuntary" => entry.switches_involuntary = number()?,
            "runq_wait_ns" => entry.runq_wait_ns = number()?,
            "runq_waits" => entry.runq_waits = number()?,
            "runq_hist" => entry.runq_hist = Some(counts(raw)?),
            "tx_bytes" => entry.tx_bytes = number()?,
            "rx_bytes" => entry.rx_bytes = number()?,
            "tx_packets" => entry.tx_packets = number()?,
            "rx_packets" => entry.rx_packets = number()?,
            "reason" => entry.reason = text()?,
            "location" => entry.location = text()?,
            "technique" => entry.technique = text()?,
            "parent_exe" => entry.parent_exe = bytes()?,
            "grandparent_exe" => entry.grandparent_exe = bytes()?,
            "fd" => entry.fd = number()?,
            "peer_addr" => entry.peer_addr = text()?,
            "peer_port" => entry.peer_port = number()?,
            "target_pid" => entry.target_pid = number()?,
            "target_comm" => entry.target_comm = bytes()?,
            "access" => entry.access = text()?,
            "dir_mode" => entry.dir_mode = text()?,
            "old_uid" => entry.old_uid = number()?,
            "via" => entry.via = text()?,
            "prog_type" => entry.prog_type = number()?,
            "prog_name" => entry.prog_name = bytes()?,
            "modules" => entry.modules = Some(states(raw)?),
            "detections" => entry.detections = Some(counts(raw)?),
            _ => {}
        }
    }
    Ok(entry)
}

/// `argv=[a,"b c"]`, `risks=[...]`: the elements in byte notation.
fn strings(raw: Raw<'_>, key: &str) -> Result<Vec<Text<'static>>, String> {
    match TreeParser::parse_all(&raw.bytes()?) {
        Some(Tree::List(items)) => items
            .into_iter()
            .map(|item| match item {
                Tree::Scalar(bytes, _) => Ok(Text(Cow::Owned(notation_of(&bytes).into_owned()))),
                _ => Err(format!("{key}: an element is not a string")),
            })
            .collect(),
        _ => Err(format!("{key}: not a list")),
    }
}

/// `findings={critical=1,high=0}`: names and counts.
fn counts(raw: Raw<'_>) -> Result<std::collections::BTreeMap<String, u64>, String> {
    let not_counts = || "findings: not a map of counts".to_string();
    match TreeParser::parse_all(&raw.bytes()?) {
        Some(Tree::Map(entries)) => entries
            .into_iter()
            .map(|(name, value)| match value {
                Tree::Scalar(digits, true) => {
                    let number =
                        std::str::from_utf8(&digits).ok().and_then(|d| d.parse().ok()).ok_or_else(not_counts)?;
                    Ok((String::from_utf8_lossy(&name).into_owned(), number))
                }
                _ => Err(not_counts()),
            })
            .collect(),
        _ => Err(not_counts()),
    }
}

/// `modules={file=enforcing,detect=off}`: names and states.
fn states(raw: Raw<'_>) -> Result<std::collections::BTreeMap<String, String>, String> {
    let not_states = || "modules: not a map of states".to_string();
    match TreeParser::parse_all(&raw.bytes()?) {
        Some(Tree::Map(entries)) => entries
            .into_iter()
            .map(|(name, value)| match value {
                Tree::Scalar(state, _) => {
                    Ok((String::from_utf8_lossy(&name).into_owned(), String::from_utf8_lossy(&state).into_owned()))
                }
                _ => Err(not_states()),
            })
            .collect(),
        _ => Err(not_states()),
    }
}

/// A list or map element, or a whole value, parsed into a tree.
#[derive(Clone, Debug, PartialEq)]
enum Tree {
    /// Bytes, and whether they were written bare (only bare values can be numbers).
    Scalar(Vec<u8>, bool),
    List(Vec<Tree>),
    Map(Vec<(Vec<u8>, Tree)>),
}

/// Parses the element grammar over a value's bytes (after the top-level unquoting).
struct TreeParser<'b> {
    b: &'b [u8],
    at: usize,
}

impl TreeParser<'_> {
    fn parse_all(b: &[u8]) -> Option<Tree> {
        let mut parser = TreeParser { b, at: 0 };
        let tree = parser.element()?;
        (parser.at == b.len()).then_some(tree)
    }

    fn element(&mut self) -> Option<Tree> {
        match self.b.get(self.at)? {
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Some(Tree::List(items));
                }
                loop {
                    items.push(self.element()?);
                    if self.eat(b']') {
                        return Some(Tree::List(items));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'{' => {
                self.at += 1;
                let mut entries = Vec::new();
                if self.eat(b'}') {
                    return Some(Tree::Map(entries));
                }
                loop {
                    let Tree::Scalar(key, _) = self.scalar()? else { return None };
                    if !self.eat(b'=') {
                        return None;
                    }
                    entries.push((key, self.element()?));
                    if self.eat(b'}') {
                        return Some(Tree::Map(entries));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            _ => self.scalar(),
        }
    }

    fn scalar(&mut self) -> Option<Tree> {
        let rest = &self.b[self.at..];
        if rest.first() == Some(&b'"') {
            let end = closing_quote(&rest[1..])?;
            let inner = std::str::from_utf8(&rest[1..1 + end]).ok()?;
            self.at += end + 2;
            return Some(Tree::Scalar(unescape(inner).ok()?, false));
        }
        let end = rest.iter().position(|c| b",[]{}=\"\\".contains(c)).unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        self.at += end;
        Some(Tree::Scalar(rest[..end].to_vec(), true))
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.b.get(self.at) == Some(&byte);
        if found {
            self.at += 1;
        }
        found
    }
}

/// How `to_json` writes a field.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// A JSON string (`Value::Str`).
    Str,
    /// A string in byte notation (`Value::Bytes`), or a list of them.
    Bytes,
    /// A map of strings, numbers and booleans (`modules`, `totals`).
    Map,
    /// Unknown: inferred from the text.
    Infer,
}

fn kind(key: &str) -> Kind {
    const STR_FIELDS: &[&str] = &[
        "time",
        "level",
        "module",
        "op",
        "action",
        "rule",
        "family",
        "protocol",
        "src_addr",
        "dst_addr",
        "domain",
        "version",
        "kernel",
        "enforcement",
        "note",
        "error",
        "asset",
        "change",
        "item",
        "before",
        "after",
        "severity",
        "finding",
        "title",
        "reason",
        "location",
        "technique",
        "peer_addr",
        "access",
        "dir_mode",
        "via",
    ];
    if BYTES_FIELDS.contains(&key) {
        Kind::Bytes
    } else if STR_FIELDS.contains(&key) {
        Kind::Str
    } else if matches!(key, "modules" | "totals" | "assets" | "findings" | "runq_hist" | "detections") {
        Kind::Map
    } else {
        Kind::Infer
    }
}

/// The text line as the JSON line the writer would have written for the same record:
/// same keys in the same order, `tags.K=V` gathered into `"tags"`.
pub fn to_json(line: &str) -> Result<String, String> {
    let mut out = String::with_capacity(line.len() + line.len() / 4);
    let mut tags: Vec<(String, Vec<u8>)> = Vec::new();
    out.push('{');
    for pair in pairs(line) {
        let (key, raw) = pair?;
        let key: Cow<'_, str> = if key.contains('\\') {
            Cow::Owned(String::from_utf8_lossy(&unescape(key)?).into_owned())
        } else {
            Cow::Borrowed(key)
        };
        if let Some(tag) = key.strip_prefix("tags.") {
            tags.push((tag.to_string(), raw.bytes()?.into_owned()));
            continue;
        }
        if out.len() > 1 {
            out.push(',');
        }
        push_json_str(&mut out, &key);
        out.push(':');
        let kind = kind(&key);
        // Bare values hold no escapes, no backslash and no control character: the common
        // case goes straight through.
        match (kind, raw) {
            (Kind::Str, Raw::Bare(text)) => push_json_str(&mut out, text),
            (Kind::Bytes, Raw::Bare(text)) if key != "argv" => push_json_str(&mut out, text),
            (Kind::Infer, Raw::Bare(text)) if !text.starts_with(['[', '{']) => {
                if is_number(text.as_bytes()) || text == "true" || text == "false" {
                    out.push_str(text);
                } else {
                    push_json_str(&mut out, text);
                }
            }
            _ => {
                let bytes = raw.bytes()?;
                let bare = matches!(raw, Raw::Bare(_));
                match kind {
                    Kind::Str => push_json_str(&mut out, &String::from_utf8_lossy(&bytes)),
                    Kind::Bytes => match (key.as_ref(), TreeParser::parse_all(&bytes)) {
                        ("argv", Some(tree @ Tree::List(_))) => push_tree(&mut out, &tree, Kind::Bytes),
                        _ => push_json_str(&mut out, &notation_of(&bytes)),
                    },
                    Kind::Map => match TreeParser::parse_all(&bytes) {
                        Some(tree @ Tree::Map(_)) => push_tree(&mut out, &tree, Kind::Infer),
                        _ => push_json_str(&mut out, &notation_of(&bytes)),
                    },
                    Kind::Infer => match (bytes.first(), bare) {
                        (Some(b'[' | b'{'), _) => match TreeParser::parse_all(&bytes) {
                            Some(tree) => push_tree(&mut out, &tree, Kind::Infer),
                            None => push_json_str(&mut out, &notation_of(&bytes)),
                        },
                        _ => push_tree(&mut out, &Tree::Scalar(bytes.into_owned(), bare), Kind::Infer),
                    },
                }
            }
        }
    }
    if !tags.is_empty() {
        out.push_str(",\"tags\":{");
        for (index, (name, value)) in tags.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            push_json_str(&mut out, name);
            out.push(':');
            push_json_str(&mut out, &String::from_utf8_lossy(value));
        }
        out.push('}');
    }
    out.push('}');
    Ok(out)
}

fn push_tree(out: &mut String, tree: &Tree, kind: Kind) {
    match tree {
        Tree::Scalar(bytes, bare) => {
            let literal = is_number(bytes) || matches!(&bytes[..], b"true" | b"false");
            if kind == Kind::Infer && *bare && literal {
                out.push_str(&String::from_utf8_lossy(bytes));
            } else {
                push_json_str(out, &notation_of(bytes));
            }
        }
        Tree::List(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                push_tree(out, item, kind);
            }
            out.push(']');
        }
        Tree::Map(entries) => {
            out.push('{');
            for (index, (key, item)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                push_json_str(out, &String::from_utf8_lossy(key));
                out.push(':');
                push_tree(out, item, kind);
            }
            out.push('}');
        }
    }
}

/// An integer as the writer prints `Uint`/`Int` values: no sign but `-`, no leading zero.
fn is_number(bytes: &[u8]) -> bool {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let well_formed =
        !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) && (digits.len() == 1 || digits[0] != b'0');
    // Up to 18 digits always fit; longer ones are checked against the writer's range.
    well_formed
        && (digits.len() <= 18
            || std::str::from_utf8(bytes).is_ok_and(|text| {
                text.parse::<i128>().is_ok_and(|n| n >= i128::from(i64::MIN) && n <= i128::from(u64::MAX))
            }))
}

/// A quoted JSON string escaped like `logging::json` escapes: `"` `\` by backslash,
/// `\n` `\r` `\t` by name, other control characters and U+2028/U+2029 as `\uXXXX`.
pub fn push_json_str(out: &mut String, text: &str) {
    out.push('"');
    if text.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        out.push_str(text);
        out.push('"');
        return;
    }
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ if ch.is_control() || ch == '\u{2028}' || ch == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", ch as u32));
            }
            _ => out.push(ch),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::{write_json, write_text, Action, Level, Record, Value};
    use std::time::{Duration, UNIX_EPOCH};

    fn both(record: &Record, tags: &[(String, String)]) -> (String, String) {
        let (mut json, mut text) = (Vec::new(), Vec::new());
        write_json(&mut json, record, tags);
        write_text(&mut text, record, tags);
        json.pop();
        text.pop();
        (String::from_utf8(json).unwrap(), String::from_utf8(text).unwrap())
    }

    fn record(module: &'static str, op: &'static str) -> Record {
        let mut record = Record::new(Level::Info, module, op);
        record.time = UNIX_EPOCH + Duration::new(1_795_350_896, 5_000);
        record
    }

    #[test]
    fn pairs_split_bare_and_quoted_values() {
        let line = r#"a=1 b="x y" c="" d=[p,q] e="q\"\\\n\x01" f=z"#;
        let got: Vec<_> = pairs(line).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            got,
            vec![
                ("a", Raw::Bare("1")),
                ("b", Raw::Quoted("x y")),
                ("c", Raw::Quoted("")),
                ("d", Raw::Bare("[p,q]")),
                ("e", Raw::Quoted(r#"q\"\\\n\x01"#)),
                ("f", Raw::Bare("z")),
            ]
        );
        assert_eq!(Raw::Quoted(r#"q\"\\\n\x01"#).bytes().unwrap().as_ref(), b"q\"\\\n\x01");
        for bad in ["a", "a=1  b=2", "a=1 ", "=1", "a=\"x", "a=\"x\"y", "a=x\"y", "a b=1", "a=\"\\q\""] {
            let result: Result<Vec<_>, _> =
                pairs(bad).map(|p| p.and_then(|(_, raw)| raw.bytes().map(|_| ()))).collect();
            assert!(result.is_err(), "{bad:?}");
        }
    }

    /// Every record shape the agent writes converts to exactly the JSON line it would
    /// have written instead.
    #[test]
    fn text_converts_to_the_writers_json() {
        let mut exec = record("process", "exec")
            .field("hostname", Value::Bytes(b"42".to_vec()))
            .field("pid", Value::Uint(42))
            .field("comm", Value::Bytes(b"true".to_vec()))
            .field("exe", Value::Bytes(b"/tmp/we\\ird\xfe\n".to_vec()))
            .field("container", Value::Bool(false))
            .field("filename", Value::Bytes(b"[k]".to_vec()))
            .field(
                "argv",
                Value::List(vec![
                    Value::Bytes(b"sh".to_vec()),
                    Value::Bytes(b"-c".to_vec()),
                    Value::Bytes(b"echo \"hi\", [there]\\ \xff".to_vec()),
                    Value::Bytes(Vec::new()),
                    Value::Bytes(b"7".to_vec()),
                ]),
            );
        exec.action = Some(Action::Blocked);
        exec.rule = Some("{ path = \"/tmp\", uid = [1000] }".into());
        let exit = record("process", "exit").field("exe", Value::Str(String::new())).field("exit_code", Value::Uint(1));
        let start = record("agent", "start")
            .field("version", Value::Str("0.1.0".into()))
            .field("config", Value::Bytes(b"/etc/safeguard/safe guard.toml".to_vec()))
            .field("kernel", Value::Str("6.1.0".into()))
            .field(
                "modules",
                Value::Map(vec![
                    ("file".into(), Value::Str("off".into())),
                    ("process".into(), Value::Str("audit-only".into())),
                ]),
            )
            .field("note", Value::Str("a \"note\"\twith\u{1b} controls".into()));
        let stats = record("agent", "stats").field("events", Value::Uint(10)).field("truncated", Value::Uint(0)).field(
            "totals",
            Value::Map(vec![("events".into(), Value::Uint(10)), ("lost_kernel".into(), Value::Uint(0))]),
        );
        let argv_empty =
            record("process", "exec").field("argv", Value::List(vec![])).field("truncated", Value::Bool(true));
        let tags = [("env".to_string(), "prod".to_string()), ("team".to_string(), "sec ops".to_string())];
        for record in [exec, exit, start, stats, argv_empty] {
            for tags in [&tags[..], &[]] {
                let (json, text) = both(&record, tags);
                assert_eq!(to_json(&text).unwrap(), json, "{text}");
                assert_eq!(Entry::parse(json.as_bytes()), Entry::parse(text.as_bytes()));
            }
        }
    }

    #[test]
    fn trees_follow_the_element_grammar() {
        assert_eq!(TreeParser::parse_all(b"[]"), Some(Tree::List(vec![])));
        assert_eq!(
            TreeParser::parse_all(br#"[a,"b,c",[d],{k=v}]"#),
            Some(Tree::List(vec![
                Tree::Scalar(b"a".to_vec(), true),
                Tree::Scalar(b"b,c".to_vec(), false),
                Tree::List(vec![Tree::Scalar(b"d".to_vec(), true)]),
                Tree::Map(vec![(b"k".to_vec(), Tree::Scalar(b"v".to_vec(), true))]),
            ]))
        );
        for bad in [&b"[a"[..], b"[a,]", b"{k}", b"[a]b", b"[,]", b"{=v}"] {
            assert_eq!(TreeParser::parse_all(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn unknown_fields_are_inferred() {
        let line =
            "time=2026-11-22T12:34:56.000005Z level=INFO level_no=20 module=x op=y n=-5 big=18446744073709551615 \
                    zero=0 lead=007 yes=true s=abc q=\"12\" l=[1,a] m=\"{k=1}\"";
        assert_eq!(
            to_json(line).unwrap(),
            concat!(
                r#"{"time":"2026-11-22T12:34:56.000005Z","level":"INFO","level_no":20,"module":"x","op":"y","n":-5,"#,
                r#""big":18446744073709551615,"zero":0,"lead":"007","yes":true,"s":"abc","q":"12","l":[1,"a"],"m":{"k":1}}"#
            )
        );
    }
}
