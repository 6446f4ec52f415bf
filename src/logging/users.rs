//! User names for the `user` field: the name of a record's `uid` at event time, from
//! `/etc/passwd`, so that reading the log later (or on another host) needs no lookup.
//! The file is read again when it changed, checked when a record's time is `RECHECK`
//! or more from the last check's, later or earlier (no clock read per record; records
//! of several modules come slightly out of order, a step back of the wall clock much
//! more): a user added a second ago may be logged by uid alone for that long. Users that only NSS
//! modules know (LDAP, sssd) have no name here: the static binary reads the file only.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::{Record, Value};

/// How often the file's modification time is looked at, at most.
const RECHECK: Duration = Duration::from_secs(10);

pub struct UserNames {
    path: PathBuf,
    /// A B-tree: a host's few dozen uids are found in a few comparisons, with no
    /// hashing per record.
    names: BTreeMap<u64, String>,
    modified: Option<SystemTime>,
    checked: Option<SystemTime>,
}

impl UserNames {
    pub fn new() -> UserNames {
        UserNames::from_file(PathBuf::from("/etc/passwd"))
    }

    pub fn from_file(path: PathBuf) -> UserNames {
        UserNames { path, names: BTreeMap::new(), modified: None, checked: None }
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
        self.refresh(record.time);
        self.names.get(&uid).map(String::as_str)
    }

    fn refresh(&mut self, now: SystemTime) {
        let apart = |at: SystemTime| now.duration_since(at).unwrap_or_else(|earlier| earlier.duration());
        if self.checked.is_some_and(|at| apart(at) < RECHECK) {
            return;
        }
        self.checked = Some(now);
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
fn parse_passwd(text: &str) -> BTreeMap<u64, String> {
    let mut names = BTreeMap::new();
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

    /// The file is looked at again for a record RECHECK or more from the last look,
    /// later or earlier (the wall clock stepped back), not for one slightly out of order.
    #[test]
    fn a_changed_file_is_read_again_by_record_time() {
        let dir = std::env::temp_dir().join(format!("safeguard-users-recheck-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let passwd = dir.join("passwd");
        let write = |text: &str, modified: SystemTime| {
            std::fs::write(&passwd, text).unwrap();
            std::fs::File::options().write(true).open(&passwd).unwrap().set_modified(modified).unwrap();
        };
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |seconds: u64, uid: u64| {
            let mut record = Record::new(Level::Info, "file", "open");
            record.time = start + Duration::from_secs(seconds);
            record.fields = vec![("uid", Value::Uint(uid))];
            record
        };
        write("root:x:0:0\n", start);
        let mut users = UserNames::from_file(passwd.clone());
        assert_eq!(users.for_record(&at(20, 2000)), None);
        write("root:x:0:0\nbob:x:2000:2000\n", start + Duration::from_secs(1));
        assert_eq!(users.for_record(&at(29, 2000)), None, "looked again before RECHECK");
        assert_eq!(users.for_record(&at(30, 2000)), Some("bob"));
        write("root:x:0:0\ncarol:x:2000:2000\n", start + Duration::from_secs(2));
        assert_eq!(users.for_record(&at(25, 2000)), Some("bob"), "a record slightly out of order");
        assert_eq!(users.for_record(&at(19, 2000)), Some("carol"), "a step back of RECHECK");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
