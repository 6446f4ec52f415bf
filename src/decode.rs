//! What every module's decoder shares: the record head built from `sg_header`
//! (time, action, rule, the subject's fields) and the executable-path cache.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::bpf::sg::{sg_action, sg_flag, sg_kind, sg_mount_op, sg_net_op, sg_op, sg_rule};
use crate::bpf::{c_bytes, sg};
use crate::config::{Detection, FileOp, NetworkOp, Op};
use crate::logging::{Action, Level, Recent, Record, Value};

// The ABI's numbers as plain integers (match patterns need constants), each taken
// from its enum in bpf/safeguard.h as the skeleton generates it: none is copied.
pub const KIND_EXEC: u32 = sg_kind::SG_KIND_EXEC.0;
pub const KIND_FORK: u32 = sg_kind::SG_KIND_FORK.0;
pub const KIND_EXIT: u32 = sg_kind::SG_KIND_EXIT.0;
pub const KIND_PROCESS_PATH: u32 = sg_kind::SG_KIND_PROCESS_PATH.0;
pub const KIND_FILE: u32 = sg_kind::SG_KIND_FILE.0;
pub const KIND_NET: u32 = sg_kind::SG_KIND_NET.0;
pub const KIND_MOUNT: u32 = sg_kind::SG_KIND_MOUNT.0;
pub const KIND_DETECT: u32 = sg_kind::SG_KIND_DETECT.0;
const OP_DETECT_FIRST: u32 = crate::bpf::sg::sg_detect_op::SG_OP_DETECT_FIRST.0;
pub const OP_MMAP: u32 = sg_op::SG_OP_MMAP.0;
pub const OP_FILE_FIRST: u32 = sg_op::SG_OP_FILE_FIRST.0;
pub const OP_CONNECT: u32 = sg_net_op::SG_OP_CONNECT.0;
pub const OP_ACCEPT: u32 = sg_net_op::SG_OP_ACCEPT.0;
pub const OP_RECVMSG: u32 = sg_net_op::SG_OP_RECVMSG.0;
pub const OP_BIND: u32 = sg_net_op::SG_OP_BIND.0;
pub const OP_MOUNT: u32 = sg_mount_op::SG_OP_MOUNT.0;
pub const OP_MOVE_MOUNT: u32 = sg_mount_op::SG_OP_MOVE_MOUNT.0;
pub const OP_FSCONFIG: u32 = sg_mount_op::SG_OP_FSCONFIG.0;
pub const OP_MOUNT_LINK: u32 = sg_mount_op::SG_OP_MOUNT_LINK.0;
pub const OP_MOUNT_RENAME: u32 = sg_mount_op::SG_OP_MOUNT_RENAME.0;
pub const FLAG_TRUNCATED: u32 = sg_flag::SG_FLAG_TRUNCATED.0;
pub const FLAG_CONTAINER: u32 = sg_flag::SG_FLAG_CONTAINER.0;
pub const FLAG_ARGV_TRUNCATED: u32 = sg_flag::SG_FLAG_ARGV_TRUNCATED.0;
const RULE_NONE: u32 = sg_rule::SG_RULE_NONE.0;
const RULE_NOT_ALLOWED: u32 = sg_rule::SG_RULE_NOT_ALLOWED.0;
const RULE_UNRESOLVED: u32 = sg_rule::SG_RULE_UNRESOLVED.0;
const RULE_DETACHED: u32 = sg_rule::SG_RULE_DETACHED.0;
const RULE_NEW_MOUNT: u32 = sg_rule::SG_RULE_NEW_MOUNT.0;
const ACTION_ALLOWED: u32 = sg_action::SG_ACTION_ALLOWED.0;
const ACTION_MONITOR: u32 = sg_action::SG_ACTION_MONITOR.0;
const ACTION_BLOCKED: u32 = sg_action::SG_ACTION_BLOCKED.0;
const ACTION_ALERT: u32 = sg_action::SG_ACTION_ALERT.0;
const ACTION_KILLED: u32 = sg_action::SG_ACTION_KILLED.0;

/// A module's rule texts, shared by its decoder, its rule hit counters and every record
/// that names one of them (a clone is a reference count, not a copy of the text).
pub type RuleTexts = std::sync::Arc<[std::sync::Arc<str>]>;

/// `RuleTexts` of the texts a module's rule compiler wrote.
pub fn rule_texts(texts: Vec<String>) -> RuleTexts {
    texts.into_iter().map(std::sync::Arc::from).collect()
}

/// The rules of one module as the log shows them; ids come from the compiled
/// tables (`rule_id` N is `texts[N - 1]`).
#[derive(Debug, Default)]
pub struct RuleTable {
    /// Shared with the module and its rule hit counters: one copy of the texts.
    pub texts: RuleTexts,
    /// What `SG_RULE_NOT_ALLOWED` means for this module, e.g. "not in process.allow".
    pub not_allowed: std::sync::Arc<str>,
}

impl RuleTable {
    /// Ids and names for the per-rule hit counters: the config's rules, and the
    /// refusals no config rule names.
    pub fn names(&self) -> crate::agent::hits::RuleNames {
        let specials = [RULE_NOT_ALLOWED, RULE_UNRESOLVED, RULE_DETACHED, RULE_NEW_MOUNT]
            .into_iter()
            .filter_map(|id| self.describe(id).filter(|name| !name.is_empty()).map(|name| (id, name.to_string())))
            .collect();
        crate::agent::hits::RuleNames { texts: self.texts.clone(), specials }
    }

    pub fn describe(&self, rule_id: u32) -> Option<std::sync::Arc<str>> {
        match rule_id {
            RULE_NONE => None,
            RULE_NOT_ALLOWED => Some(self.not_allowed.clone()),
            RULE_UNRESOLVED => Some(UNRESOLVED.into()),
            RULE_DETACHED => Some(DETACHED.into()),
            RULE_NEW_MOUNT => Some(NEW_MOUNT.into()),
            id => self.texts.get(id as usize - 1).cloned(),
        }
    }
}

/// `SG_RULE_UNRESOLVED` (bpf/safeguard.h): a path too deep or too long to judge
/// completely, refused because a deny rule might cover it.
const UNRESOLVED: &str = "path not resolved completely (deny rules apply)";
/// `SG_RULE_DETACHED`: a file in a detached mount tree (lazily unmounted, an
/// open_tree clone): its path is no real path, so it is judged like an unresolved one.
const DETACHED: &str = "path in a detached mount tree (no real path; deny rules apply)";
/// `SG_RULE_NEW_MOUNT`: the only allow rule covering the file lies above a mount made
/// after the agent started, which does not inherit it.
const NEW_MOUNT: &str = "allow rule not inherited across a mount made after start";

/// CLOCK_BOOTTIME nanoseconds (what the kernel stamps) to wall-clock time. The clocks
/// are read again only for an event more than 100 ms (of boot time) after the last
/// reading of this thread: a burst of records costs one reading, not two clock reads
/// each, and a step of the wall clock reaches the records of events 100 ms later.
pub fn boot_time_to_wall(boot_ns: u64) -> SystemTime {
    const REREAD_NS: u64 = 100_000_000;
    thread_local! {
        /// (CLOCK_BOOTTIME of the reading, the wall-clock time of boot it gave)
        static READING: Cell<Option<(u64, SystemTime)>> = const { Cell::new(None) };
    }
    READING.with(|reading| {
        let boot_wall = match reading.get() {
            Some((read_at, boot_wall)) if boot_ns < read_at.saturating_add(REREAD_NS) => boot_wall,
            _ => {
                let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                // SAFETY: clock_gettime writes into the timespec we own.
                let rc = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now) };
                let wall_now = SystemTime::now();
                if rc != 0 {
                    return wall_now;
                }
                let boot_now = now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64;
                let boot_wall = wall_now - Duration::from_nanos(boot_now);
                reading.set(Some((boot_now, boot_wall)));
                boot_wall
            }
        };
        boot_wall + Duration::from_nanos(boot_ns)
    })
}

fn action(code: u32) -> Option<Action> {
    match code {
        ACTION_ALLOWED => Some(Action::Allowed),
        ACTION_MONITOR => Some(Action::Monitor),
        ACTION_BLOCKED => Some(Action::Blocked),
        ACTION_ALERT => Some(Action::Alert),
        ACTION_KILLED => Some(Action::Killed),
        _ => None,
    }
}

/// The `op` of a record from `sg_header.op` (each module's range: bpf/safeguard.h).
pub fn op_name(op: u32) -> String {
    let file_ops = OP_FILE_FIRST..OP_FILE_FIRST + FileOp::ALL.len() as u32;
    let detections = OP_DETECT_FIRST..OP_DETECT_FIRST + Detection::ALL.len() as u32;
    let name = match op {
        _ if detections.contains(&op) => Detection::ALL.get((op - OP_DETECT_FIRST) as usize).map(|d| d.name()),
        _ if file_ops.contains(&op) => FileOp::ALL.get((op - OP_FILE_FIRST) as usize).map(|o| o.name()),
        OP_CONNECT..=OP_BIND => NetworkOp::ALL.get((op - OP_CONNECT) as usize).map(|o| o.name()),
        OP_MOUNT => Some("mount"),
        OP_MOVE_MOUNT => Some("move_mount"),
        OP_FSCONFIG => Some("fsconfig"),
        OP_MOUNT_LINK => Some("link"),
        OP_MOUNT_RENAME => Some("rename"),
        _ => process_op_name(op),
    };
    name.map_or_else(|| format!("op{op}"), str::to_string)
}

/// The process module's ops (enum sg_op).
pub fn process_op_name(op: u32) -> Option<&'static str> {
    let names = [
        (sg_op::SG_OP_EXEC, "exec"),
        (sg_op::SG_OP_FORK, "fork"),
        (sg_op::SG_OP_EXIT, "exit"),
        (sg_op::SG_OP_MMAP, "mmap"),
        (sg_op::SG_OP_MPROTECT, "mprotect"),
        (sg_op::SG_OP_LINK, "link"),
        (sg_op::SG_OP_RENAME, "rename"),
    ];
    names.iter().find(|(code, _)| code.0 == op).map(|&(_, name)| name)
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
    let s = &hdr.subject;
    // Room for the module's fields and the writer's host identity: one allocation.
    let mut fields = Vec::with_capacity(16);
    SUBJECT_TEXTS.with_borrow_mut(|[hostname, comm, parent_comm]| {
        fields.extend([
            ("hostname", hostname.value(c_bytes(&s.hostname))),
            ("pid", Value::Uint(s.pid.into())),
            ("ppid", Value::Uint(s.ppid.into())),
            ("uid", Value::Uint(s.uid.into())),
            ("gid", Value::Uint(s.gid.into())),
            ("comm", comm.value(c_bytes(&s.comm))),
            ("exe", exe),
            ("parent_comm", parent_comm.value(c_bytes(&s.parent_comm))),
            ("cgroup_id", Value::Uint(s.cgroup_id)),
            ("container", Value::Bool(hdr.flags & FLAG_CONTAINER != 0)),
        ])
    });
    if hdr.flags & FLAG_TRUNCATED != 0 {
        fields.push(("truncated", Value::Bool(true)));
    }
    Record {
        time: boot_time_to_wall(hdr.time_ns),
        level: action.map_or(Level::Info, Action::level),
        module,
        op,
        action,
        rule: rules.describe(hdr.rule_id),
        fields,
        event: true,
    }
}

thread_local! {
    /// The hostname, comm and parent comm of the last event each module thread
    /// decoded: a burst from one process shares them (`Value::Shared`).
    static SUBJECT_TEXTS: RefCell<[Recent; 3]> = RefCell::default();
}

/// A file event (`struct sg_file_event`: the file module's records and the process
/// module's path records) read where it lies in the ring buffer. It is sent with only
/// the bytes it used, so copying it into its C struct would mean zeroing 12 KiB and
/// copying the rest per record: more than everything else the agent did with an
/// audited open (measured by the audit-pipeline profile: README, "How it works").
pub struct FileEvent<'a> {
    pub hdr: sg::sg_header,
    pub file_op: u32,
    pub exe: &'a [u8],
    pub path: &'a [u8],
    /// rename and link: the new name; else empty
    pub target: &'a [u8],
}

impl<'a> FileEvent<'a> {
    /// None when even the fixed head (up to `names`) is missing.
    pub fn read(data: &'a [u8]) -> Option<FileEvent<'a>> {
        use std::mem::offset_of;
        type E = sg::sg_file_event;
        let names = offset_of!(E, names);
        if data.len() < names {
            return None;
        }
        let u32_at = |offset: usize| {
            let mut bytes = [0u8; 4];
            bytes.copy_from_slice(&data[offset..offset + 4]);
            u32::from_ne_bytes(bytes)
        };
        // The names follow each other: path, target, exe. Each length is cut to
        // what a name can hold (SG_PATH_LEN - 1 bytes), and each name to what was sent.
        let len = |offset: usize| (u32_at(offset) as usize).min(NAME_MAX);
        let path_end = names + len(offset_of!(E, path_len));
        let target_end = path_end + len(offset_of!(E, target_len));
        let exe_end = target_end + len(offset_of!(E, exe_len));
        let name = |start: usize, end: usize| &data[start.min(data.len())..end.min(data.len())];
        Some(FileEvent {
            hdr: crate::bpf::decode(data)?,
            file_op: u32_at(offset_of!(E, file_op)),
            path: name(names, path_end),
            target: name(path_end, target_end),
            exe: name(target_end, exe_end),
        })
    }
}

/// The longest name of a file event: SG_PATH_LEN - 1 (`names` holds three of SG_PATH_LEN).
const NAME_MAX: usize =
    (std::mem::size_of::<sg::sg_file_event>() - std::mem::offset_of!(sg::sg_file_event, names)) / 3 - 1;

/// A file event's bytes as the kernel sends them (tests).
#[cfg(test)]
pub fn file_event_bytes(hdr: sg::sg_header, file_op: u32, path: &[u8], target: &[u8], exe: &[u8]) -> Vec<u8> {
    let ev = sg::sg_file_event {
        hdr,
        file_op,
        exe_len: exe.len() as u32,
        path_len: path.len() as u32,
        target_len: target.len() as u32,
        ..Default::default()
    };
    let mut bytes = crate::bpf::bytes_of(&ev)[..std::mem::offset_of!(sg::sg_file_event, names)].to_vec();
    bytes.extend_from_slice(path);
    bytes.extend_from_slice(target);
    bytes.extend_from_slice(exe);
    bytes
}

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
        let rules = RuleTable { texts: ["/usr/bin/nc".into()].into(), not_allowed: "not in process.allow".into() };
        assert_eq!(rules.describe(RULE_NONE), None);
        assert_eq!(rules.describe(1).as_deref(), Some("/usr/bin/nc"));
        assert_eq!(rules.describe(RULE_NOT_ALLOWED).as_deref(), Some("not in process.allow"));
        assert_eq!(rules.describe(2), None);
    }

    #[test]
    fn file_events_are_read_as_far_as_they_were_sent() {
        use std::mem::offset_of;
        let hdr = sg::sg_header { kind: KIND_FILE, ..Default::default() };
        let bytes = file_event_bytes(hdr, 3, b"/a/old", b"/a/new", b"/bin/mv");
        let read = FileEvent::read(&bytes).unwrap();
        assert_eq!((read.hdr.kind, read.file_op), (KIND_FILE, 3));
        assert_eq!((read.path, read.target, read.exe), (&b"/a/old"[..], &b"/a/new"[..], &b"/bin/mv"[..]));
        // Lengths past what was sent (a mismatched object) are cut where the bytes end.
        let names = offset_of!(sg::sg_file_event, names);
        let read = FileEvent::read(&bytes[..names + 8]).unwrap();
        assert_eq!((read.path, read.target, read.exe), (&b"/a/old"[..], &b"/a"[..], &b""[..]));
        // A length past what a name holds is cut to it, and the next name starts there.
        let mut bytes = file_event_bytes(hdr, 0, &[b'p'; 5000], b"", b"/bin/x");
        bytes[offset_of!(sg::sg_file_event, path_len)..][..4].copy_from_slice(&99_999u32.to_ne_bytes());
        let read = FileEvent::read(&bytes).unwrap();
        assert_eq!(read.path.len(), NAME_MAX);
        assert_eq!(read.exe, &[b'p'; 6][..]);
        // Without the whole fixed head: nothing.
        assert!(FileEvent::read(&bytes[..names - 1]).is_none());
    }

    #[test]
    fn boot_time_converts_to_the_recent_past() {
        let then = boot_time_to_wall(0);
        assert!(then < SystemTime::now());
        // An event of now is now, with the reading the call above made.
        let mut boot = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes into the timespec we own.
        assert_eq!(unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut boot) }, 0);
        let now = boot_time_to_wall(boot.tv_sec as u64 * 1_000_000_000 + boot.tv_nsec as u64);
        let off = SystemTime::now().duration_since(now).unwrap_or_else(|early| early.duration());
        assert!(off < Duration::from_secs(1), "{off:?}");
    }

    /// The op enums of config.rs and of bpf/safeguard.h name the same ops in the same
    /// order: the kernel's op numbers and op-mask bits are indexes into `Op::ALL`.
    #[test]
    fn rust_op_enums_follow_the_c_op_enums() {
        use crate::bpf::sg::sg_file_op;
        use crate::config::ProcessOp;
        let c_file_ops = [
            (sg_file_op::SG_FILE_READ, FileOp::Read),
            (sg_file_op::SG_FILE_WRITE, FileOp::Write),
            (sg_file_op::SG_FILE_EXEC, FileOp::Exec),
            (sg_file_op::SG_FILE_CREATE, FileOp::Create),
            (sg_file_op::SG_FILE_DELETE, FileOp::Delete),
            (sg_file_op::SG_FILE_RENAME, FileOp::Rename),
            (sg_file_op::SG_FILE_LINK, FileOp::Link),
            (sg_file_op::SG_FILE_CHMOD, FileOp::Chmod),
            (sg_file_op::SG_FILE_CHOWN, FileOp::Chown),
            (sg_file_op::SG_FILE_SETATTR, FileOp::Setattr),
            (sg_file_op::SG_FILE_MMAP, FileOp::Mmap),
        ];
        assert_eq!(FileOp::ALL.len() as u32, sg_file_op::SG_FILE_OPS.0);
        for (c, rust) in c_file_ops {
            assert_eq!(FileOp::ALL[c.0 as usize], rust);
            assert_eq!(op_name(OP_FILE_FIRST + c.0), rust.name());
        }
        let c_net_ops = [
            (sg_net_op::SG_OP_CONNECT, NetworkOp::Connect),
            (sg_net_op::SG_OP_SENDMSG, NetworkOp::Sendmsg),
            (sg_net_op::SG_OP_ACCEPT, NetworkOp::Accept),
            (sg_net_op::SG_OP_RECVMSG, NetworkOp::Recvmsg),
            (sg_net_op::SG_OP_GETPEERNAME, NetworkOp::Getpeername),
            (sg_net_op::SG_OP_BIND, NetworkOp::Bind),
        ];
        assert_eq!(NetworkOp::ALL.len(), c_net_ops.len());
        for (c, rust) in c_net_ops {
            assert_eq!(NetworkOp::ALL[(c.0 - OP_CONNECT) as usize], rust);
            assert_eq!(op_name(c.0), rust.name());
        }
        for (c, rust) in [
            (sg_op::SG_OP_EXEC, ProcessOp::Exec),
            (sg_op::SG_OP_FORK, ProcessOp::Fork),
            (sg_op::SG_OP_EXIT, ProcessOp::Exit),
        ] {
            assert_eq!(op_name(c.0), rust.name());
        }
        // Every op number, of every module, fits the kernel's per-op counters.
        let slots = sg::sg_op_slots::SG_OP_SLOTS.0;
        assert!(OP_FILE_FIRST + (FileOp::ALL.len() as u32) <= OP_CONNECT && OP_FSCONFIG < slots);
    }
}
