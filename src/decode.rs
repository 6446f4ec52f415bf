//! What every module's decoder shares: the record head built from `sg_header`
//! (time, action, rule, the subject's fields) and the executable-path cache.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::bpf::{c_bytes, sg};
use crate::config::{FileOp, NetworkOp, Op};
use crate::logging::{Action, Level, Record, Value};

/// The rules of one module as the log shows them; ids come from the compiled
/// tables (`rule_id` N is `texts[N - 1]`).
#[derive(Debug, Default)]
pub struct RuleTable {
    pub texts: Vec<String>,
    /// What `SG_RULE_NOT_ALLOWED` means for this module, e.g. "not in process.allow".
    pub not_allowed: String,
}

impl RuleTable {
    pub fn describe(&self, rule_id: u32) -> Option<String> {
        match rule_id {
            0 => None,
            u32::MAX => Some(self.not_allowed.clone()),
            SG_RULE_UNRESOLVED => Some(UNRESOLVED.to_string()),
            SG_RULE_DETACHED => Some(DETACHED.to_string()),
            SG_RULE_NEW_MOUNT => Some(NEW_MOUNT.to_string()),
            id => self.texts.get(id as usize - 1).cloned(),
        }
    }
}

/// `SG_RULE_UNRESOLVED` (bpf/safeguard.h): a path too deep or too long to judge
/// completely, refused because a deny rule might cover it.
const SG_RULE_UNRESOLVED: u32 = 0xffff_fffe;
const UNRESOLVED: &str = "path not resolved completely (deny rules apply)";
/// `SG_RULE_DETACHED`: a file in a detached mount tree (lazily unmounted, an
/// open_tree clone): its path is no real path, so it is judged like an unresolved one.
const SG_RULE_DETACHED: u32 = 0xffff_fffd;
const DETACHED: &str = "path in a detached mount tree (no real path; deny rules apply)";
/// `SG_RULE_NEW_MOUNT`: the only allow rule covering the file lies above a mount made
/// after the agent started, which does not inherit it.
const SG_RULE_NEW_MOUNT: u32 = 0xffff_fffc;
const NEW_MOUNT: &str = "allow rule not inherited across a mount made after start";

/// CLOCK_BOOTTIME nanoseconds (what the kernel stamps) to wall-clock time.
pub fn boot_time_to_wall(boot_ns: u64) -> SystemTime {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now) };
    let wall_now = SystemTime::now();
    if rc != 0 {
        return wall_now;
    }
    let boot_now = now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64;
    wall_now - Duration::from_nanos(boot_now.saturating_sub(boot_ns))
}

fn action(code: u32) -> Option<Action> {
    match code {
        1 => Some(Action::Allowed),
        2 => Some(Action::Monitor),
        3 => Some(Action::Blocked),
        _ => None,
    }
}

/// The `op` of a record from `sg_header.op` (each module's range: bpf/safeguard.h).
pub fn op_name(op: u32) -> String {
    let index = |first: u32| (op - first) as usize;
    let name = match op {
        1 => Some("exec"),
        2 => Some("fork"),
        3 => Some("exit"),
        4 => Some("mmap"),
        5 => Some("mprotect"),
        6 => Some("link"),
        7 => Some("rename"),
        10..=29 => FileOp::ALL.get(index(10)).map(|o| o.name()),
        30..=49 => NetworkOp::ALL.get(index(30)).map(|o| o.name()),
        50 => Some("mount"),
        51 => Some("move_mount"),
        52 => Some("fsconfig"),
        _ => None,
    };
    name.map_or_else(|| format!("op{op}"), str::to_string)
}

/// The head of a record for an event: time, level, action, rule and the subject.
/// `exe` is the subject's executable when the event itself knows it.
pub fn event_record(
    hdr: &sg::sg_header,
    module: &'static str,
    op: &'static str,
    rules: &RuleTable,
    exe: Value,
) -> Record {
    let action = action(hdr.action);
    let mut record = Record::new(action.map_or(Level::Info, Action::level), module, op);
    record.time = boot_time_to_wall(hdr.time_ns);
    record.action = action;
    record.event = true;
    record.rule = rules.describe(hdr.rule_id);
    let s = &hdr.subject;
    record.fields = vec![
        ("hostname", Value::Bytes(c_bytes(&s.hostname).to_vec())),
        ("pid", Value::Uint(s.pid.into())),
        ("ppid", Value::Uint(s.ppid.into())),
        ("uid", Value::Uint(s.uid.into())),
        ("gid", Value::Uint(s.gid.into())),
        ("comm", Value::Bytes(c_bytes(&s.comm).to_vec())),
        ("exe", exe),
        ("parent_comm", Value::Bytes(c_bytes(&s.parent_comm).to_vec())),
        ("cgroup_id", Value::Uint(s.cgroup_id)),
        ("container", Value::Bool(hdr.flags & SG_FLAG_CONTAINER != 0)),
    ];
    if hdr.flags & SG_FLAG_TRUNCATED != 0 {
        record.fields.push(("truncated", Value::Bool(true)));
    }
    record
}

// Flags of sg_header (bpf/safeguard.h).
pub const SG_FLAG_TRUNCATED: u32 = 1 << 0;
pub const SG_FLAG_CONTAINER: u32 = 1 << 1;
pub const SG_FLAG_ARGV_TRUNCATED: u32 = 1 << 2;

/// The executable of each live process, learned from exec events, else read from
/// /proc once; keyed by (pid, start time) so a reused pid is not confused.
#[derive(Default)]
pub struct ExeCache {
    by_task: HashMap<(u32, u64), Arc<[u8]>>,
}

const EXE_CACHE_MAX: usize = 1 << 16;

impl ExeCache {
    pub fn learn(&mut self, pid: u32, start_time: u64, exe: &[u8]) {
        if self.by_task.len() >= EXE_CACHE_MAX {
            self.by_task.clear(); // simple bound; entries are re-read from /proc
        }
        self.by_task.insert((pid, start_time), exe.into());
    }

    pub fn forget(&mut self, pid: u32, start_time: u64) {
        self.by_task.remove(&(pid, start_time));
    }

    pub fn lookup(&mut self, pid: u32, start_time: u64) -> Value {
        if let Some(exe) = self.by_task.get(&(pid, start_time)) {
            return Value::Bytes(exe.to_vec());
        }
        match std::fs::read_link(format!("/proc/{pid}/exe")) {
            Ok(path) => {
                use std::os::unix::ffi::OsStrExt;
                let exe = path.as_os_str().as_bytes().to_vec();
                self.learn(pid, start_time, &exe);
                Value::Bytes(exe)
            }
            Err(_) => Value::Str(String::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_map_to_texts() {
        let rules = RuleTable { texts: vec!["/usr/bin/nc".into()], not_allowed: "not in process.allow".into() };
        assert_eq!(rules.describe(0), None);
        assert_eq!(rules.describe(1).as_deref(), Some("/usr/bin/nc"));
        assert_eq!(rules.describe(u32::MAX).as_deref(), Some("not in process.allow"));
        assert_eq!(rules.describe(2), None);
    }

    #[test]
    fn boot_time_converts_to_the_recent_past() {
        let then = boot_time_to_wall(0);
        assert!(then < SystemTime::now());
    }
}
