//! The JSON line format: one compact object per record, ending in `\n`.
//!
//! Key order is fixed: `time`, `level`, `level_no`, `module`, `op`, `action` (when set),
//! `rule` (when set), the record's fields in their order, then `tags` (when configured).
//!
//! Strings are JSON-escaped: `"` and `\` with a backslash, `\n` `\r` `\t` by name, every
//! other control character (C0, DEL, C1) and U+2028/U+2029 as `\uXXXX`, so a line is
//! safe to `cat` to a terminal and to split on `\n` by any tool.
//!
//! `Value::Bytes` (paths, comm, argv: kernel bytes that need not be UTF-8) decode to a
//! JSON string with one more escaping layer inside it: valid UTF-8 runs are kept as they
//! are, each byte that is not part of valid UTF-8 becomes the four characters `\xNN`
//! (lowercase hex), and a literal backslash becomes `\\`. A reader that needs the exact
//! bytes JSON-decodes the string, then replaces `\\` with `\` and `\xNN` with byte NN.
//! Example: the bytes `/tmp/\xff\xfeevil\nname` are written as
//! `"/tmp/\\xff\\xfeevil\nname"` (raw JSON text).

use super::time::write_rfc3339;
use super::{Record, Value};

/// Appends `record` as one JSON line to `out`.
pub fn write_json(out: &mut Vec<u8>, record: &Record, tags: &[(String, String)]) {
    write_json_user(out, record, None, tags);
}

/// `write_json`, with `"user":NAME` after the `uid` field when `user` is given.
pub fn write_json_user(out: &mut Vec<u8>, record: &Record, user: Option<&str>, tags: &[(String, String)]) {
    out.extend_from_slice(b"{\"time\":\"");
    write_rfc3339(out, record.time);
    out.extend_from_slice(b"\",\"level\":");
    write_name(out, record.level.name());
    out.extend_from_slice(b",\"level_no\":");
    write_uint(out, u64::from(record.level.number()));
    out.extend_from_slice(b",\"module\":");
    write_name(out, record.module);
    out.extend_from_slice(b",\"op\":");
    write_name(out, record.op);
    if let Some(action) = record.action {
        out.extend_from_slice(b",\"action\":");
        write_name(out, action.name());
    }
    if let Some(rule) = &record.rule {
        out.extend_from_slice(b",\"rule\":");
        write_str(out, rule);
    }
    for (name, value) in &record.fields {
        out.push(b',');
        write_name(out, name);
        out.push(b':');
        write_value(out, value);
        if let (&"uid", Some(user)) = (name, user) {
            out.extend_from_slice(b",\"user\":");
            write_str(out, user);
        }
    }
    if !tags.is_empty() {
        out.extend_from_slice(b",\"tags\":{");
        for (index, (name, value)) in tags.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            write_str(out, name);
            out.push(b':');
            write_str(out, value);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"}\n");
}

pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(text) => write_str(out, text),
        Value::Text(text) => write_str(out, text),
        Value::Bytes(bytes) => write_bytes(out, bytes),
        Value::Shared(shared) => out.extend_from_slice(shared.json(write_bytes)),
        Value::Uint(number) => write_uint(out, *number),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::List(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            out.push(b'{');
            for (index, (name, item)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_str(out, name);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}

fn write_uint(out: &mut Vec<u8>, number: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = number;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// A quoted JSON string.
fn write_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    escape_str(out, text);
    out.push(b'"');
}

/// A quoted name of ours (field names, levels, modules, ops, actions: `&'static str`
/// identifiers in the code), written as it is: escaping a dozen of them cost more per
/// record than the values.
fn write_name(out: &mut Vec<u8>, name: &str) {
    debug_assert!(!name.bytes().any(|byte| MAY_ESCAPE[usize::from(byte)]), "{name:?}");
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.push(b'"');
}

/// A quoted JSON string carrying arbitrary bytes; see the module comment.
fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    // Nearly always valid UTF-8 (paths, names): checked a word at a time.
    match std::str::from_utf8(bytes) {
        Ok(text) => escape(out, text, BYTES_BACKSLASH),
        Err(_) => {
            for chunk in bytes.utf8_chunks() {
                escape(out, chunk.valid(), BYTES_BACKSLASH);
                for byte in chunk.invalid() {
                    out.extend_from_slice(br"\\x"); // `\xNN` after JSON decoding
                    push_hex(out, *byte);
                }
            }
        }
    }
    out.push(b'"');
}

/// A backslash in a string, and in bytes (`\\` after JSON decoding): see the module comment.
const STR_BACKSLASH: &[u8] = br"\\";
const BYTES_BACKSLASH: &[u8] = br"\\\\";

/// JSON string escaping, without the quotes.
fn escape_str(out: &mut Vec<u8>, text: &str) {
    escape(out, text, STR_BACKSLASH);
}

/// JSON string escaping, with `backslash` for a backslash.
fn escape(out: &mut Vec<u8>, text: &str, backslash: &[u8]) {
    let bytes = text.as_bytes();
    let mut plain_from = 0;
    let mut at = 0;
    // Eight plain bytes at a time, else byte by byte, never char by char: most text
    // is plain ASCII (profiled: decoding every char was a fifth of the agent's work
    // per audited open, testing every byte still 15%).
    while at < bytes.len() {
        if let Some(word) = bytes.get(at..at + 8) {
            if !word_may_escape(u64::from_le_bytes(word.try_into().unwrap_or_default())) {
                at += 8;
                continue;
            }
        }
        if !MAY_ESCAPE[usize::from(bytes[at])] {
            at += 1;
            continue;
        }
        // A byte of MAY_ESCAPE is ASCII or a lead byte: `at` starts a char.
        let Some(ch) = text.get(at..).and_then(|rest| rest.chars().next()) else { break };
        let replacement: &[u8] = match ch {
            '"' => br#"\""#,
            '\\' => backslash,
            '\n' => br"\n",
            '\r' => br"\r",
            '\t' => br"\t",
            _ if ch.is_control() || ch == '\u{2028}' || ch == '\u{2029}' => b"",
            _ => {
                at += ch.len_utf8();
                continue;
            }
        };
        out.extend_from_slice(&bytes[plain_from..at]);
        at += ch.len_utf8();
        plain_from = at;
        if replacement.is_empty() {
            // \uXXXX with four hex digits; every character handled here is below U+10000.
            let code = ch as u32;
            out.extend_from_slice(br"\u");
            push_hex(out, (code >> 8) as u8);
            push_hex(out, code as u8);
        } else {
            out.extend_from_slice(replacement);
        }
    }
    out.extend_from_slice(&bytes[plain_from..]);
}

/// Whether any of eight bytes (a little-endian word) is in MAY_ESCAPE or not ASCII
/// (non-ASCII bytes go to the byte-by-byte test): the bit tricks of "Bit Twiddling
/// Hacks" (a byte less than n; a byte equal to c), exact for "any byte" questions.
const fn word_may_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const fn has_zero(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGH
    }
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let special = has_zero(word ^ (ONES * 0x22)) | has_zero(word ^ (ONES * 0x5C)) | has_zero(word ^ (ONES * 0x7F));
    (word & HIGH) | below_space | special != 0
}

/// The bytes that may begin a char escape_str escapes: ASCII controls, '"', '\\' and
/// DEL, and the UTF-8 lead bytes of U+0080..U+009F (0xC2) and U+2028, U+2029 (0xE2).
const MAY_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = byte < 0x20 || matches!(byte, 0x22 | 0x5C | 0x7F | 0xC2 | 0xE2);
        byte += 1;
    }
    table
};

/// Two lowercase hex digits.
pub(super) fn push_hex(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(HEX[usize::from(byte >> 4)]);
    out.push(HEX[usize::from(byte & 0xf)]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::{Action, Level};
    use std::time::{Duration, UNIX_EPOCH};

    fn line(record: &Record, tags: &[(String, String)]) -> String {
        let mut out = Vec::new();
        write_json(&mut out, record, tags);
        String::from_utf8(out).expect("JSON output is UTF-8")
    }

    fn record() -> Record {
        let mut record = Record::new(Level::Warning, "process", "exec");
        record.time = UNIX_EPOCH + Duration::new(1_795_350_896, 123_456_789);
        record
    }

    #[test]
    fn every_value_kind_exactly() {
        let mut record = record()
            .field("pid", Value::Uint(42))
            .field("max", Value::Uint(u64::MAX))
            .field("container", Value::Bool(true))
            .field("truncated", Value::Bool(false))
            .field("comm", Value::Str("nc".into()))
            .field("exe", Value::Bytes(b"/usr/bin/nc".to_vec()))
            .field("argv", Value::List(vec![Value::Bytes(b"nc".to_vec()), Value::Str("-l".into())]))
            .field("empty", Value::List(vec![]))
            .field("totals", Value::Map(vec![("lost".into(), Value::Uint(0)), ("nested".into(), Value::Map(vec![]))]));
        record.action = Some(Action::Blocked);
        record.rule = Some("/usr/bin/nc".into());
        let tags = [("env".to_string(), "prod".to_string()), ("dc".to_string(), "fra1".to_string())];
        assert_eq!(
            line(&record, &tags),
            concat!(
                r#"{"time":"2026-11-22T12:34:56.123456Z","level":"WARNING","level_no":30,"#,
                r#""module":"process","op":"exec","action":"BLOCKED","rule":"/usr/bin/nc","#,
                r#""pid":42,"max":18446744073709551615,"#,
                r#""container":true,"truncated":false,"comm":"nc","exe":"/usr/bin/nc","#,
                r#""argv":["nc","-l"],"empty":[],"totals":{"lost":0,"nested":{}},"#,
                r#""tags":{"env":"prod","dc":"fra1"}}"#,
                "\n"
            )
        );
    }

    #[test]
    fn optional_head_fields_and_tags_are_omitted() {
        let record = record().field("pid", Value::Uint(1));
        assert_eq!(
            line(&record, &[]),
            "{\"time\":\"2026-11-22T12:34:56.123456Z\",\"level\":\"WARNING\",\"level_no\":30,\
             \"module\":\"process\",\"op\":\"exec\",\"pid\":1}\n"
        );
    }

    #[test]
    fn every_char_up_to_u3000_round_trips_and_no_line_break_stays_raw() {
        for code in (0..0x3000).chain([0xfeff, 0xfffd, 0x1f600]) {
            let Some(ch) = char::from_u32(code) else { continue }; // surrogates
            let text = format!("a{ch}b{ch}");
            let mut out = Vec::new();
            escape_str(&mut out, &text);
            let escaped = String::from_utf8(out).unwrap();
            let parsed: String = serde_json::from_str(&format!("\"{escaped}\"")).unwrap();
            assert_eq!(parsed, text, "U+{code:04X}");
            let raw = escaped.chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}');
            assert!(!raw, "U+{code:04X} left raw: {escaped:?}");
        }
    }

    #[test]
    fn a_word_may_escape_exactly_when_one_of_its_bytes_may() {
        for byte in 0..=255u8 {
            let expected = byte >= 0x80 || MAY_ESCAPE[usize::from(byte)];
            for position in 0..8 {
                for filler in [b'a', b' ', b'~', 0x21, 0x23, 0x5B, 0x5D, 0x7E] {
                    let mut word = [filler; 8];
                    word[position] = byte;
                    assert_eq!(word_may_escape(u64::from_le_bytes(word)), expected, "{byte:#x} at {position}");
                }
            }
        }
    }

    #[test]
    fn strings_are_escaped() {
        let record = record()
            .field("s", Value::Str("a\"b\\c\nd\te\r\u{1}\u{1f}\u{7f}\u{9b}\u{2028}é✓\u{a0}\u{2029}\u{2030}".into()));
        let text = line(&record, &[]);
        // U+00A0 and U+2030 share their first byte with escaped ones, and are kept.
        let escaped = r#","s":"a\"b\\c\nd\te\r\u0001\u001f\u007f\u009b\u2028é✓"#;
        assert!(text.ends_with(&format!("{escaped}\u{a0}\\u2029\u{2030}\"}}\n")), "{text}");
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["s"], "a\"b\\c\nd\te\r\u{1}\u{1f}\u{7f}\u{9b}\u{2028}é✓\u{a0}\u{2029}\u{2030}");
    }

    #[test]
    fn bytes_keep_valid_utf8_and_escape_the_rest() {
        let record = record()
            .field("path", Value::Bytes(b"/tmp/\xff\xfeevil\nname".to_vec()))
            .field("backslash", Value::Bytes(b"C:\\x41\\".to_vec()))
            .field("mixed", Value::Bytes("é\u{0}\"".as_bytes().iter().copied().chain([0xc3]).collect()));
        let text = line(&record, &[]);
        assert!(text.contains(r#""path":"/tmp/\\xff\\xfeevil\nname""#), "{text}");
        assert!(text.contains(r#""backslash":"C:\\\\x41\\\\""#), "{text}");
        assert!(text.contains(r#""mixed":"é\u0000\"\\xc3""#), "{text}");
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["path"], "/tmp/\\xff\\xfeevil\nname");
        assert_eq!(unescape_bytes(parsed["path"].as_str().unwrap()), b"/tmp/\xff\xfeevil\nname");
        // A literal `\x41` in the bytes must not read back as `A`.
        assert_eq!(unescape_bytes(parsed["backslash"].as_str().unwrap()), b"C:\\x41\\");
        assert_eq!(unescape_bytes(parsed["mixed"].as_str().unwrap()), b"\xc3\xa9\0\"\xc3");
    }

    /// `Shared` and `Text` values (escaped once and kept, or shared) are written as
    /// `Bytes` and `Str` are, however many records carry them.
    #[test]
    fn shared_values_are_written_as_their_owned_kinds_each_time() {
        let all_bytes: Vec<u8> = (0..=255).collect();
        for bytes in [&b"sg-loop"[..], b"/tmp/\xff\xfeevil\nname", b"C:\\x41\\", &all_bytes] {
            let shared = crate::logging::record::Recent::default().value(bytes);
            let owned = line(&record().field("v", Value::Bytes(bytes.to_vec())), &[]);
            for _ in 0..2 {
                assert_eq!(line(&record().field("v", shared.clone()), &[]), owned);
            }
        }
        let text = Value::Text("web\"1\\".into());
        let owned = line(&record().field("host", Value::Str("web\"1\\".into())), &[]);
        assert_eq!(line(&record().field("host", text), &[]), owned);
    }

    #[test]
    fn one_line_that_parses_whatever_the_bytes() {
        let all_bytes: Vec<u8> = (0..=255).collect();
        let record = record()
            .field("all", Value::Bytes(all_bytes.clone()))
            .field("list", Value::List(vec![Value::Bytes(all_bytes.clone())]));
        let mut record = record;
        record.rule = Some("line\nbreak".into());
        let tags = [("k\"ey".to_string(), "v\nalue".to_string())];
        let text = line(&record, &tags);
        assert_eq!(text.matches('\n').count(), 1);
        assert!(text.ends_with('\n'));
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(unescape_bytes(parsed["all"].as_str().unwrap()), all_bytes);
        assert_eq!(parsed["tags"]["k\"ey"], "v\nalue");
        assert_eq!(parsed["rule"], "line\nbreak");
    }

    /// What a reader does to recover the bytes of a `Bytes` value (after JSON decoding).
    fn unescape_bytes(text: &str) -> Vec<u8> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            match (bytes[at], bytes.get(at + 1)) {
                (b'\\', Some(b'\\')) => {
                    out.push(b'\\');
                    at += 2;
                }
                (b'\\', Some(b'x')) => {
                    out.push(u8::from_str_radix(&text[at + 2..at + 4], 16).unwrap());
                    at += 4;
                }
                (b'\\', _) => panic!("lone backslash in {text:?}"),
                (byte, _) => {
                    out.push(byte);
                    at += 1;
                }
            }
        }
        out
    }
}
