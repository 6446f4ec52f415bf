//! The text line format: `key=value` pairs separated by single spaces, one record per
//! line, in the JSON format's order (`time level level_no module op [action] [rule]
//! fields... [tags.K=V...]`).
//!
//! A value is written bare unless it is empty or contains whitespace, `"`, `=`, `\`, a
//! control character (C0, DEL, C1), U+2028/U+2029 or bytes that are not valid UTF-8. Then
//! it is quoted with `"` and, inside the quotes, `"` becomes `\"`, `\` becomes `\\`,
//! newline `\n`, tab `\t`, and every other control character and every invalid byte
//! `\xNN` (a control character as its UTF-8 bytes, so a reader that turns each `\xNN`
//! back into byte NN recovers the exact original). Escapes only occur inside quotes.
//!
//! Lists are `[a,b]` and maps `{k=v,...}`; an element that is empty or contains any of
//! the above or `,` `[` `]` `{` `}` is itself quoted, and the whole list or map is then
//! quoted as one value if needed (maps always are, for their `=`):
//! `argv="[sh,-c,\"echo hi\"]"`.
//!
//! Keys are program constants and config tag names; a tag name that contains a character
//! that would break the `key=value` grammar has that character written as `\xNN`.

use super::json::push_hex;
use super::time::write_rfc3339;
use super::{Record, Value};

/// Appends `record` as one text line to `out`.
pub fn write_text(out: &mut Vec<u8>, record: &Record, tags: &[(String, String)]) {
    write_text_user(out, record, None, tags);
}

/// `write_text`, with `user=NAME` after the `uid` field when `user` is given.
pub fn write_text_user(out: &mut Vec<u8>, record: &Record, user: Option<&str>, tags: &[(String, String)]) {
    out.extend_from_slice(b"time=");
    write_rfc3339(out, record.time);
    out.extend_from_slice(b" level=");
    out.extend_from_slice(record.level.name().as_bytes());
    out.extend_from_slice(b" level_no=");
    out.extend_from_slice(record.level.number().to_string().as_bytes());
    pair(out, "module", record.module.as_bytes());
    pair(out, "op", record.op.as_bytes());
    if let Some(action) = record.action {
        pair(out, "action", action.name().as_bytes());
    }
    if let Some(rule) = &record.rule {
        pair(out, "rule", rule.as_bytes());
    }
    let mut scratch = Vec::new();
    for (name, value) in &record.fields {
        out.push(b' ');
        write_key(out, name);
        out.push(b'=');
        match value {
            Value::List(_) | Value::Map(_) => {
                scratch.clear();
                write_value(&mut scratch, value, Nesting::Element);
                write_scalar(out, &scratch, Nesting::Top);
            }
            _ => write_value(out, value, Nesting::Top),
        }
        if let (&"uid", Some(user)) = (name, user) {
            pair(out, "user", user.as_bytes());
        }
    }
    for (name, value) in tags {
        out.extend_from_slice(b" tags.");
        write_key(out, name);
        out.push(b'=');
        write_scalar(out, value.as_bytes(), Nesting::Top);
    }
    out.push(b'\n');
}

/// Where a value is written: at the top of the line, or inside a list or map, where
/// `,` and brackets also need quotes.
#[derive(Clone, Copy, PartialEq)]
enum Nesting {
    Top,
    Element,
}

fn pair(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.push(b' ');
    write_key(out, key);
    out.push(b'=');
    write_scalar(out, value, Nesting::Top);
}

/// Lists and maps are rendered with `Nesting::Element` for their items; the caller quotes
/// the rendering as a whole when it is written at the top.
fn write_value(out: &mut Vec<u8>, value: &Value, nesting: Nesting) {
    match value {
        Value::Str(text) => write_scalar(out, text.as_bytes(), nesting),
        Value::Text(text) => write_scalar(out, text.as_bytes(), nesting),
        Value::Bytes(bytes) => write_scalar(out, bytes, nesting),
        Value::Shared(bytes) => write_scalar(out, bytes, nesting),
        Value::Uint(number) => out.extend_from_slice(number.to_string().as_bytes()),
        Value::Bool(flag) => out.extend_from_slice(if *flag { b"true" } else { b"false" }),
        Value::List(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(out, item, Nesting::Element);
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            out.push(b'{');
            for (index, (name, item)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_scalar(out, name.as_bytes(), Nesting::Element);
                out.push(b'=');
                write_value(out, item, Nesting::Element);
            }
            out.push(b'}');
        }
    }
}

/// A string or byte value: bare when that is unambiguous, else quoted and escaped.
fn write_scalar(out: &mut Vec<u8>, bytes: &[u8], nesting: Nesting) {
    if !needs_quotes(bytes, nesting) {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut plain_from = 0;
        for (at, ch) in valid.char_indices() {
            let escape: &[u8] = match ch {
                '"' => br#"\""#,
                '\\' => br"\\",
                '\n' => br"\n",
                '\t' => br"\t",
                _ if is_hidden(ch) => b"",
                _ => continue,
            };
            out.extend_from_slice(&valid.as_bytes()[plain_from..at]);
            plain_from = at + ch.len_utf8();
            if escape.is_empty() {
                for byte in &valid.as_bytes()[at..plain_from] {
                    out.extend_from_slice(br"\x");
                    push_hex(out, *byte);
                }
            } else {
                out.extend_from_slice(escape);
            }
        }
        out.extend_from_slice(&valid.as_bytes()[plain_from..]);
        for byte in chunk.invalid() {
            out.extend_from_slice(br"\x");
            push_hex(out, *byte);
        }
    }
    out.push(b'"');
}

fn needs_quotes(bytes: &[u8], nesting: Nesting) -> bool {
    if bytes.is_empty() {
        return true;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return true;
    };
    text.chars().any(|ch| {
        ch.is_whitespace()
            || matches!(ch, '"' | '=' | '\\')
            || is_hidden(ch)
            || (nesting == Nesting::Element && matches!(ch, ',' | '[' | ']' | '{' | '}'))
    })
}

/// Characters that must never reach the line raw: they break lines or drive terminals.
fn is_hidden(ch: char) -> bool {
    ch.is_control() || ch == '\u{2028}' || ch == '\u{2029}'
}

/// Keys are written bare; any character that would break `key=value` becomes `\xNN`.
fn write_key(out: &mut Vec<u8>, key: &str) {
    for (at, ch) in key.char_indices() {
        if ch.is_whitespace() || matches!(ch, '"' | '=' | '\\') || is_hidden(ch) {
            for byte in &key.as_bytes()[at..at + ch.len_utf8()] {
                out.extend_from_slice(br"\x");
                push_hex(out, *byte);
            }
        } else {
            let mut buffer = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buffer).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::{Action, Level};
    use std::time::{Duration, UNIX_EPOCH};

    fn line(record: &Record, tags: &[(String, String)]) -> String {
        let mut out = Vec::new();
        write_text(&mut out, record, tags);
        String::from_utf8(out).expect("text output is UTF-8")
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
            .field("container", Value::Bool(true))
            .field("comm", Value::Str("nc".into()))
            .field("exe", Value::Bytes(b"/usr/bin/nc".to_vec()))
            .field("argv", Value::List(vec![Value::Bytes(b"nc".to_vec()), Value::Str("-l".into())]))
            .field("spaced", Value::List(vec![Value::Str("sh".into()), Value::Str("echo hi, there".into())]))
            .field("commas", Value::List(vec![Value::Str("a,b".into()), Value::Str("".into())]))
            .field("empty", Value::List(vec![]))
            .field("totals", Value::Map(vec![("lost".into(), Value::Uint(0)), ("by".into(), Value::Map(vec![]))]));
        record.action = Some(Action::Blocked);
        record.rule = Some("{ path = \"/etc/shadow\" }".into());
        let tags = [("env".to_string(), "prod".to_string()), ("team".to_string(), "sec ops".to_string())];
        assert_eq!(
            line(&record, &tags),
            concat!(
                r#"time=2026-11-22T12:34:56.123456Z level=WARNING level_no=30 module=process op=exec "#,
                r#"action=BLOCKED rule="{ path = \"/etc/shadow\" }" pid=42 container=true "#,
                r#"comm=nc exe=/usr/bin/nc argv=[nc,-l] spaced="[sh,\"echo hi, there\"]" "#,
                r#"commas="[\"a,b\",\"\"]" empty=[] totals="{lost=0,by={}}" tags.env=prod tags.team="sec ops""#,
                "\n"
            )
        );
    }

    #[test]
    fn escapes_quotes_controls_and_invalid_bytes() {
        let record = record()
            .field("path", Value::Bytes(b"/tmp/\xff\xfeevil\nname".to_vec()))
            .field("s", Value::Str("a\"b\\c\td\r\u{1b}[31m\u{9b}\u{2028}é".into()))
            .field("empty", Value::Str(String::new()))
            .field("eq", Value::Str("a=b".into()))
            .field("list", Value::List(vec![Value::Bytes(b"\xff x".to_vec())]));
        let text = line(&record, &[("bad key=".to_string(), "".to_string())]);
        assert!(text.contains(r#" path="/tmp/\xff\xfeevil\nname" "#), "{text}");
        assert!(text.contains(r#" s="a\"b\\c\td\x0d\x1b[31m\xc2\x9b\xe2\x80\xa8é" "#), "{text}");
        assert!(text.contains(r#" empty="" eq="a=b" "#), "{text}");
        assert!(text.contains(r#" list="[\"\\xff x\"]" "#), "{text}");
        assert!(text.ends_with(" tags.bad\\x20key\\x3d=\"\"\n"), "{text}");
        assert_eq!(text.matches('\n').count(), 1);
    }

    #[test]
    fn always_one_line() {
        let all_bytes: Vec<u8> = (0..=255).collect();
        let record = record()
            .field("all", Value::Bytes(all_bytes.clone()))
            .field("list", Value::List(vec![Value::Bytes(all_bytes.clone()), Value::Str("\n\r".into())]))
            .field("map", Value::Map(vec![("k\ney".into(), Value::Bytes(all_bytes))]));
        let text = line(&record, &[("t".to_string(), "\u{85}\u{2029}\n".to_string())]);
        assert_eq!(text.matches('\n').count(), 1);
        assert!(text.ends_with('\n'));
        assert!(!text.contains('\r') && !text.contains('\u{85}') && !text.contains('\u{2029}'));
        assert!(!text.chars().any(|ch| ch.is_control() && ch != '\n'));
    }
}
