//! User names for the `user` field: the name of a record's `uid` at event time, from
//! `/etc/passwd`, so that reading the log later (or on another host) needs no lookup.
//! The file is read again when it changed, checked at most every `RECHECK`: a user
//! added a second ago may be logged by uid alone for that long. Users that only NSS
//! modules know (LDAP, sssd) have no name here: the static binary reads the file only.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::{Record, Value};

/// How often the file's modification time is looked at, at most.
const RECHECK: Duration = Duration::from_secs(10);

pub struct UserNames {
    path: PathBuf,
    names: HashMap<u64, String>,
    modified: Option<SystemTime>,
    checked: Option<Instant>,
}

impl UserNames {
    pub fn new() -> UserNames {
        UserNames::from_file(PathBuf::from("/etc/passwd"))
    }

    pub fn from_file(path: PathBuf) -> UserNames {
        UserNames { path, names: HashMap::new(), modified: None, checked: None }
    }

    /// The name to log beside the record's `uid`, if it has one and no `user` field yet.
    pub fn for_record(&mut self, record: &Record) -> Option<&str> {
        let mut uid = None;
        for (name, value) in &record.fields {
            match (*name, value) {
                ("uid", Value::Uint(value)) => uid = Some(*value),
                ("user", _) => return None,
                _ => {}
            }
        }
        let uid = uid?;
        self.refresh();
        self.names.get(&uid).map(String::as_str)
    }

    fn refresh(&mut self) {
        if self.checked.is_some_and(|at| at.elapsed() < RECHECK) {
            return;
        }
        self.checked = Some(Instant::now());
        let modified = std::fs::metadata(&self.path).and_then(|meta| meta.modified()).ok();
        if modified.is_some() && modified == self.modified {
            return;
        }
        self.modified = modified;
        self.names = parse_passwd(&std::fs::read_to_string(&self.path).unwrap_or_default());
    }
}

/// uid → name of `name:password:uid:...` lines; the first name of a uid wins, as for
/// getpwuid.
fn parse_passwd(text: &str) -> HashMap<u64, String> {
    let mut names = HashMap::new();
    for line in text.lines() {
        let mut fields = line.split(':');
        let (Some(name), Some(uid)) = (fields.next(), fields.nth(1)) else { continue };
        if let (false, Ok(uid)) = (name.is_empty() || name.starts_with(['#', '+', '-']), uid.parse()) {
            names.entry(uid).or_insert_with(|| name.to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::{write_json_user, write_text_user, Level};

    #[test]
    fn records_with_a_uid_get_its_name() {
        let dir = std::env::temp_dir().join(format!("safeguard-users-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let passwd = dir.join("passwd");
        std::fs::write(
            &passwd,
            "root:x:0:0::/root:/bin/sh\n#x:x:5:5\nalice:x:1000:1000::/home/alice:/bin/sh\nalias:x:1000:1000\n",
        )
        .unwrap();
        let mut users = UserNames::from_file(passwd);
        let record = |fields: Vec<(&'static str, Value)>| {
            let mut record = Record::new(Level::Info, "process", "exec");
            record.fields = fields;
            record
        };
        let exec = record(vec![("pid", Value::Uint(7)), ("uid", Value::Uint(1000)), ("gid", Value::Uint(1000))]);
        assert_eq!(users.for_record(&exec), Some("alice"));
        assert_eq!(users.for_record(&record(vec![("uid", Value::Uint(0))])), Some("root"));
        assert_eq!(users.for_record(&record(vec![("uid", Value::Uint(5))])), None);
        assert_eq!(users.for_record(&record(vec![("uid", Value::Uint(4242))])), None);
        assert_eq!(users.for_record(&record(vec![("pid", Value::Uint(1))])), None);
        let named = record(vec![("uid", Value::Uint(0)), ("user", Value::Str("x".into()))]);
        assert_eq!(users.for_record(&named), None);

        // Written right after `uid`, in both formats, and read back by the log readers.
        let mut json = Vec::new();
        write_json_user(&mut json, &exec, Some("alice"), &[]);
        assert!(String::from_utf8_lossy(&json).contains(r#""uid":1000,"user":"alice","gid":1000"#));
        let mut text = Vec::new();
        write_text_user(&mut text, &exec, Some("alice"), &[]);
        assert!(String::from_utf8_lossy(&text).contains(" uid=1000 user=alice gid=1000"));
        for line in [&json, &text] {
            let entry = crate::analysis::entry::Entry::parse(line.strip_suffix(b"\n").unwrap()).unwrap();
            assert_eq!(entry.user.as_ref().map(|user| user.as_str()), Some("alice"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
