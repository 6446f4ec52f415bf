//! The protect module (`[agent] protect = true`, SPEC section 7): while it is attached,
//! nothing but the agent's own process may stop, freeze, trace or slow it, take a
//! writable handle on its maps, detach its links, or alter its binary, config, logs or
//! pins. Each attempt is refused in the kernel (bpf/protect.bpf.c) and becomes a
//! CRITICAL `agent` record with `op` = `tamper`; a signal from the service manager
//! (pid 1) passes and is recorded as `op` = `signal`.
//!
//! What is protected is found here: the agent's BPF objects by the ids in its own
//! /proc/self/fdinfo (every module's maps, programs and links, rescanned after each
//! poll so that a reload's new instances join within a second), its files by identity
//! (stat of the binary, the config, the log and its directory, the pins under
//! /sys/fs/bpf/safeguard); files the agent creates later join in the kernel. The
//! threat model is in the README, "Self-protection".

use std::collections::{HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Context;
use libbpf_rs::skel::OpenSkel;
use libbpf_rs::{MapCore, MapFlags};

use crate::agent::module::{ModuleContext, ModuleState, Prepared};
use crate::agent::runtime::{self, load_only, Decoder, Program};
use crate::bpf::protect::{OpenProtectSkel, ProtectSkel, ProtectSkelBuilder};
use crate::bpf::{bytes_of, decode, sg, sized_bytes};
use crate::config::{Config, LogOutput};
use crate::decode::{event_record, ExeCache, RuleTable};
use crate::logging::{Level, Record, Value};
use crate::probe::{Capabilities, Enforcement, HookKind};
use crate::rule_paths::kernel_dev;

pub const NAME: &str = "protect";

/// Where persistent enforcement pins its objects (SPEC section 7).
pub const PIN_DIR: &str = "/sys/fs/bpf/safeguard";

/// The hook table (bpf/protect.bpf.c); `ops` are what each hook protects, as the
/// warning for a missing hook names it.
pub const PROGRAMS: &[Program<&'static str>] = &[
    Program::new("sg_protect_kill", HookKind::Lsm, "task_kill", &["signals"]),
    Program::new("sg_protect_ptrace", HookKind::Lsm, "ptrace_access_check", &["ptrace and memory writes"]),
    Program::new("sg_protect_task_setrlimit", HookKind::Lsm, "task_setrlimit", &["resource limits"]),
    Program::new("sg_protect_task_setnice", HookKind::Lsm, "task_setnice", &["priority"]),
    Program::new("sg_protect_task_setioprio", HookKind::Lsm, "task_setioprio", &["I/O priority"]),
    Program::new("sg_protect_task_setscheduler", HookKind::Lsm, "task_setscheduler", &["scheduling class"]),
    Program::new("sg_protect_bpf_map", HookKind::Lsm, "bpf_map", &["map writes"]),
    Program::new("sg_protect_bpf", HookKind::Lsm, "bpf", &["link and program detach"]),
    Program::new("sg_protect_file_open", HookKind::Lsm, "file_open", &["file writes"]),
    Program::new("sg_protect_path_truncate", HookKind::Lsm, "path_truncate", &["truncation"]),
    Program::new("sg_protect_file_truncate", HookKind::Lsm, "file_truncate", &["ftruncate and O_TRUNC"]),
    Program::new("sg_protect_path_chmod", HookKind::Lsm, "path_chmod", &["chmod"]),
    Program::new("sg_protect_file_ioctl", HookKind::Lsm, "file_ioctl", &["chattr"]),
    Program::new("sg_protect_inode_unlink", HookKind::Lsm, "inode_unlink", &["deletion"]),
    Program::new("sg_protect_inode_rmdir", HookKind::Lsm, "inode_rmdir", &["directory removal"]),
    Program::new("sg_protect_inode_rename", HookKind::Lsm, "inode_rename", &["rename"]),
    Program::new("sg_protect_inode_create", HookKind::Lsm, "inode_create", &["new files in its directories"]),
    Program::new("sg_protect_inode_mkdir", HookKind::Lsm, "inode_mkdir", &["new directories in its directories"]),
    Program::new("sg_protect_inode_mknod", HookKind::Lsm, "inode_mknod", &["new nodes in its directories"]),
    Program::new("sg_protect_inode_symlink", HookKind::Lsm, "inode_symlink", &["new symlinks in its directories"]),
    Program::new("sg_protect_inode_link", HookKind::Lsm, "inode_link", &["new hard links in its directories"]),
    Program::new("sg_protect_sb_mount", HookKind::Lsm, "sb_mount", &["mounts over its files"]),
    Program::new("sg_protect_move_mount", HookKind::Lsm, "move_mount", &["move_mount over its files"]),
];

/// Hooks whose absence is expected and covered by another hook (before 6.2, ftruncate
/// and O_TRUNC reach path_truncate).
const COVERED_ELSEWHERE: &[&str] = &["file_truncate"];

static CONFIG_PATH: OnceLock<PathBuf> = OnceLock::new();

/// The config file the agent runs from (`run` sets it once): protected like the binary.
pub fn set_config_path(path: &Path) {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let _ = CONFIG_PATH.set(absolute);
}

pub fn prepare(config: &Config, caps: &Capabilities, agent_pidns: u32) -> Prepared {
    let mut state = if config.agent.protect { ModuleState::Enforcing } else { ModuleState::Off };
    if state != ModuleState::Off && caps.enforcement() != Enforcement::Full {
        // Protection is refusal: without BPF LSM there is nothing to refuse with.
        log::warn!("protect: BPF LSM is not active; the agent is NOT protected (self-protection is off)");
        state = ModuleState::Off;
    }
    let mut missing = Vec::new();
    for program in PROGRAMS {
        if !caps.hook_present(program.hook) {
            missing.push(program.name);
            if state != ModuleState::Off && !COVERED_ELSEWHERE.contains(&program.hook) {
                log::warn!(
                    "protect: this kernel has no LSM hook {}: {} of the agent are NOT protected",
                    program.hook,
                    program.ops.join(", ")
                );
            }
        }
    }
    let log = match &config.log.output {
        LogOutput::File(path) => Some(path.clone()),
        LogOutput::Stdout => None,
    };
    let config_path = CONFIG_PATH.get().cloned();
    runtime::prepare(state, move || {
        Ok(Protect {
            missing,
            agent_pidns,
            log,
            config_path,
            ids: HashSet::new(),
            paths: HashMap::new(),
            last_scan: None,
        })
    })
}

struct Protect {
    /// Programs whose hook this kernel lacks (not loaded).
    missing: Vec<&'static str>,
    agent_pidns: u32,
    log: Option<PathBuf>,
    config_path: Option<PathBuf>,
    /// The BPF objects now in `protected_ids`.
    ids: HashSet<(u32, u32)>,
    /// Protected files by identity (dev, ino), with the path they were found at.
    paths: HashMap<(u32, u64), PathBuf>,
    last_scan: Option<Instant>,
}

const FILE: u32 = sg::sg_protect_what::SG_PROTECT_FILE.0;
const DIR: u32 = sg::sg_protect_what::SG_PROTECT_DIR.0;
const MAP: u32 = sg::sg_protect_object::SG_PROTECT_MAP.0;
const PROG: u32 = sg::sg_protect_object::SG_PROTECT_PROG.0;
const LINK: u32 = sg::sg_protect_object::SG_PROTECT_LINK.0;
/// How often the agent's fds and protected paths are looked at again.
const RESCAN: Duration = Duration::from_secs(1);

impl runtime::Module for Protect {
    const NAME: &'static str = NAME;
    /// Only attempts on the agent itself are recorded.
    const RING_BYTES: u32 = 256 << 10;
    const NEEDS_A_PROGRAM: bool = true;
    type Skel = ProtectSkelBuilder;

    fn configure(&self, open: &mut OpenProtectSkel<'_>) -> anyhow::Result<()> {
        let rodata = open.maps.rodata_data.as_deref_mut().context("protect: no rodata")?;
        rodata.sg_agent_tgid = std::process::id();
        rodata.sg_agent_pidns = self.agent_pidns;
        // 0 (unknown) makes the kernel side judge mounts in every namespace.
        rodata.sg_agent_mntns = std::fs::metadata("/proc/self/ns/mnt").map_or(0, |m| m.ino() as u32);
        load_only(open.open_object_mut(), |program| !self.missing.contains(&program));
        Ok(())
    }

    fn fill(&mut self, skel: &ProtectSkel<'_>, _ctx: &ModuleContext) -> anyhow::Result<()> {
        self.protect_files(skel)
    }

    /// After attach: the BPF objects of every module, this one's links included.
    fn attached(&mut self, skel: &ProtectSkel<'_>, _ctx: &ModuleContext) -> anyhow::Result<()> {
        self.protect_objects(skel)?;
        self.last_scan = Some(Instant::now());
        log::info!("protect: {} BPF objects and {} files of the agent protected", self.ids.len(), self.paths.len());
        Ok(())
    }

    fn tick(&mut self, skel: &ProtectSkel<'_>, _ctx: &ModuleContext) {
        if self.last_scan.is_some_and(|at| at.elapsed() < RESCAN) {
            return;
        }
        self.last_scan = Some(Instant::now());
        if let Err(err) = self.protect_objects(skel).and_then(|()| self.protect_files(skel)) {
            log::error!("{err:#}");
        }
    }

    fn decoder(&self) -> Decoder {
        let paths = self.paths.clone();
        let log_dir = self.log.as_deref().and_then(Path::parent).map(Path::to_path_buf);
        let mut exes = ExeCache::default();
        Box::new(move |data, ctx| match decode::<sg::sg_protect_event>(data) {
            Some(ev) if ev.hdr.kind == KIND_PROTECT => {
                let exe = exes.lookup(ev.hdr.subject.pid, ev.hdr.subject.start_time);
                ctx.send(record(&ev, exe, &paths, log_dir.as_deref()));
            }
            _ => ctx.malformed("protect event", data.len()),
        })
    }
}

impl Protect {
    /// Adds the agent's BPF objects not yet protected and drops those gone (a reload
    /// replaced their instance).
    fn protect_objects(&mut self, skel: &ProtectSkel<'_>) -> anyhow::Result<()> {
        let now = own_bpf_objects();
        let map = &skel.maps.protected_ids;
        for &(kind, id) in now.difference(&self.ids) {
            let key = sg::sg_protect_id { kind, id };
            map.update(bytes_of(&key), &1u32.to_ne_bytes(), MapFlags::ANY)
                .with_context(|| format!("protect: protect BPF object {id}"))?;
        }
        for &(kind, id) in self.ids.difference(&now) {
            let _ = map.delete(bytes_of(&sg::sg_protect_id { kind, id }));
        }
        self.ids = now;
        Ok(())
    }

    /// Adds the agent's files (binary, config, log, pins) by identity.
    fn protect_files(&mut self, skel: &ProtectSkel<'_>) -> anyhow::Result<()> {
        let mut found: Vec<(PathBuf, u32)> = Vec::new();
        if let Ok(exe) = std::fs::read_link("/proc/self/exe") {
            found.push((exe, FILE));
        }
        if let Some(config) = &self.config_path {
            found.push((config.clone(), FILE));
            if let Some(dir) = config.parent() {
                found.push((dir.to_path_buf(), FILE));
            }
        }
        if let Some(log) = &self.log {
            if let Some(dir) = log.parent() {
                // The directory's entries are guarded only where it holds nothing but
                // the logs (/var/log/safeguard): a log in /tmp must not close /tmp.
                let what = if only_logs(log) { FILE | DIR } else { FILE };
                found.push((dir.to_path_buf(), what));
                found.extend(rotated_logs(log).into_iter().map(|path| (path, FILE)));
            }
        }
        found.extend(pins(Path::new(PIN_DIR)));
        let map = &skel.maps.protected_inodes;
        for (path, what) in found {
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            let (dev, ino) = (kernel_dev(meta.dev()), meta.ino());
            if self.paths.contains_key(&(dev, ino)) {
                continue;
            }
            let key = sg::sg_inode_key { ino, dev, _pad: 0 };
            map.update(bytes_of(&key), &what.to_ne_bytes(), MapFlags::ANY)
                .with_context(|| format!("protect: protect {}", path.display()))?;
            self.paths.insert((dev, ino), path);
        }
        Ok(())
    }
}

/// The ids of the BPF maps, programs and links the agent holds, from its fdinfo.
fn own_bpf_objects() -> HashSet<(u32, u32)> {
    let mut ids = HashSet::new();
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else { return ids };
    for fd in fds.flatten() {
        let Ok(target) = std::fs::read_link(fd.path()) else { continue };
        let target = target.to_string_lossy();
        if !target.starts_with("anon_inode:bpf") {
            continue;
        }
        let info = Path::new("/proc/self/fdinfo").join(fd.file_name());
        if let Ok(text) = std::fs::read_to_string(info) {
            ids.extend(fdinfo_ids(&text));
        }
    }
    ids
}

/// The BPF object ids an fdinfo text names: `map_id`, `prog_id` (also a link's
/// program), `link_id`.
fn fdinfo_ids(text: &str) -> Vec<(u32, u32)> {
    let mut ids = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let kind = match key.trim() {
            "map_id" => MAP,
            "prog_id" => PROG,
            "link_id" => LINK,
            _ => continue,
        };
        if let Ok(id) = value.trim().parse::<u32>() {
            if id != 0 {
                ids.push((kind, id));
            }
        }
    }
    ids
}

/// The log file and its rotated siblings (`NAME.1`, `NAME.2.gz`, ...): every entry of
/// its directory whose name starts with the log's.
fn rotated_logs(log: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (log.parent(), log.file_name()) else { return Vec::new() };
    let name = name.as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .filter(|entry| entry.file_name().as_encoded_bytes().starts_with(name))
        .map(|entry| entry.path())
        .collect()
}

/// Does the log's directory hold nothing but the log and its rotated files?
fn only_logs(log: &Path) -> bool {
    let (Some(dir), Some(name)) = (log.parent(), log.file_name()) else { return false };
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().all(|entry| entry.file_name().as_encoded_bytes().starts_with(name.as_encoded_bytes()))
}

/// The pin directory and everything below it (directories also guard their entries).
fn pins(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        if !dir.is_dir() || out.len() > 1024 {
            continue;
        }
        out.push((dir.clone(), FILE | DIR));
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(path);
            } else {
                out.push((path, FILE));
            }
        }
    }
    out
}

const KIND_PROTECT: u32 = sg::sg_kind::SG_KIND_PROTECT.0;
const OP_SIGNAL: u32 = sg::sg_protect_op::SG_OP_PROTECT_SIGNAL.0;
const OP_TASK: u32 = sg::sg_protect_op::SG_OP_PROTECT_TASK.0;
const OP_BPF: u32 = sg::sg_protect_op::SG_OP_PROTECT_BPF.0;
const OP_FILE: u32 = sg::sg_protect_op::SG_OP_PROTECT_FILE.0;
const ACTION_ALLOWED: u32 = sg::sg_action::SG_ACTION_ALLOWED.0;
// bpf(2) commands (include/uapi/linux/bpf.h)
const BPF_PROG_DETACH: u32 = 9;
const BPF_LINK_UPDATE: u32 = 29;
const BPF_LINK_DETACH: u32 = 34;

/// The record of an attempt: CRITICAL `agent` `tamper`, the subject, what it tried
/// (`tried`) and on what (`target`, plus the object's own fields). A signal the
/// service manager sent is an INFO `agent` `signal` record.
fn record(
    ev: &sg::sg_protect_event,
    exe: Value,
    paths: &HashMap<(u32, u64), PathBuf>,
    log_dir: Option<&Path>,
) -> Record {
    let allowed = ev.hdr.action == ACTION_ALLOWED;
    let op = if allowed { "signal" } else { "tamper" };
    let mut record = event_record(&ev.hdr, "agent", op, &RuleTable::default(), exe);
    record.level = if allowed { Level::Info } else { Level::Critical };
    let (tried, target): (String, String) = match ev.hdr.op {
        OP_SIGNAL => {
            record.fields.push(("signal", Value::Uint(ev.arg.into())));
            record.fields.push(("signal_name", Value::Str(signal_name(ev.arg))));
            record.fields.push(("target_pid", Value::Uint(ev.target_pid.into())));
            if allowed {
                record.fields.push(("sender", Value::Str("service manager (pid 1)".into())));
            }
            (format!("kill -{}", signal_name(ev.arg)), format!("agent pid {}", ev.target_pid))
        }
        OP_TASK => {
            record.fields.push(("target_pid", Value::Uint(ev.target_pid.into())));
            (task_attempt(ev.arg).into(), format!("agent pid {}", ev.target_pid))
        }
        OP_BPF => {
            let (object, field) = match ev.object_kind {
                MAP => ("map", "map_id"),
                LINK => ("link", "link_id"),
                _ => ("program", "prog_id"),
            };
            record.fields.push((field, Value::Uint(ev.object_id.into())));
            let tried = match (ev.object_kind, ev.arg) {
                (MAP, _) => "open map for writing",
                (_, BPF_LINK_DETACH) => "link detach",
                (_, BPF_LINK_UPDATE) => "link update",
                (_, BPF_PROG_DETACH) => "program detach",
                _ => "bpf",
            };
            (tried.into(), format!("agent BPF {object} {}", ev.object_id))
        }
        OP_FILE => {
            let name = sized_bytes(&ev.name, ev.name_len);
            let path = paths.get(&(ev.target_dev, ev.target_ino)).cloned().or_else(|| {
                // A file the agent created after start (a rotated log) is in its log directory.
                let created = ev.what & !(FILE | DIR) != 0;
                let dir = log_dir.filter(|_| created)?;
                Some(dir.join(std::ffi::OsStr::from_bytes(name)))
            });
            let target = match &path {
                Some(path) => Value::Bytes(path.as_os_str().as_encoded_bytes().to_vec()),
                None => Value::Bytes(name.to_vec()),
            };
            record.fields.push(("path", target.clone()));
            record
                .fields
                .push(("target_dev", Value::Str(format!("{}:{}", ev.target_dev >> 20, ev.target_dev & 0xfffff))));
            record.fields.push(("target_ino", Value::Uint(ev.target_ino)));
            let shown = match target {
                Value::Bytes(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                _ => String::new(),
            };
            (file_attempt(ev.file_op).into(), shown)
        }
        other => (format!("op{other}"), String::new()),
    };
    record.fields.insert(0, ("target", Value::Str(target)));
    record.fields.insert(0, ("tried", Value::Str(tried)));
    record
}

fn task_attempt(what: u32) -> &'static str {
    use sg::sg_protect_task as t;
    let names = [
        (t::SG_PROTECT_TASK_PTRACE, "ptrace"),
        (t::SG_PROTECT_TASK_RLIMIT, "setrlimit"),
        (t::SG_PROTECT_TASK_NICE, "setpriority"),
        (t::SG_PROTECT_TASK_IOPRIO, "ioprio_set"),
        (t::SG_PROTECT_TASK_SCHEDULER, "sched_setscheduler"),
    ];
    names.iter().find(|(code, _)| code.0 == what).map_or("task", |&(_, name)| name)
}

fn file_attempt(op: u32) -> &'static str {
    use sg::sg_protect_file_op as f;
    let names = [
        (f::SG_PROTECT_WRITE, "write"),
        (f::SG_PROTECT_TRUNCATE, "truncate"),
        (f::SG_PROTECT_CHMOD, "chmod"),
        (f::SG_PROTECT_FLAGS, "chattr"),
        (f::SG_PROTECT_DELETE, "delete"),
        (f::SG_PROTECT_RENAME, "rename"),
        (f::SG_PROTECT_MOUNT, "mount over"),
        (f::SG_PROTECT_CREATE, "create"),
    ];
    names.iter().find(|(code, _)| code.0 == op).map_or("file", |&(_, name)| name)
}

/// SIGKILL's name for 9; a number when unknown (real-time signals).
fn signal_name(sig: u32) -> String {
    const NAMES: [&str; 32] = [
        "0",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    NAMES.get(sig as usize).map_or_else(|| format!("SIG{sig}"), |name| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdinfo_names_maps_programs_and_links() {
        let map = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nmap_type:\t2\nkey_size:\t4\nmap_id:\t17\n";
        assert_eq!(fdinfo_ids(map), [(MAP, 17)]);
        let link = "pos:\t0\nflags:\t02000000\nlink_type:\ttracing\nlink_id:\t4\nprog_tag:\tab\nprog_id:\t31\n";
        assert_eq!(fdinfo_ids(link), [(LINK, 4), (PROG, 31)]);
        assert!(fdinfo_ids("pos:\t0\nflags:\t0100002\n").is_empty());
    }

    fn field(rec: &Record, name: &str) -> Option<Value> {
        rec.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn a_refused_kill_is_a_critical_tamper_record() {
        let mut ev = sg::sg_protect_event::default();
        ev.hdr.kind = KIND_PROTECT;
        ev.hdr.op = OP_SIGNAL;
        ev.hdr.action = sg::sg_action::SG_ACTION_BLOCKED.0;
        ev.hdr.subject.pid = 77;
        ev.arg = 9;
        ev.target_pid = 42;
        let rec = record(&ev, Value::Str("/bin/busybox".into()), &HashMap::new(), None);
        assert_eq!((rec.module, rec.op, rec.level), ("agent", "tamper", Level::Critical));
        assert_eq!(field(&rec, "tried"), Some(Value::Str("kill -SIGKILL".into())));
        assert_eq!(field(&rec, "target"), Some(Value::Str("agent pid 42".into())));
        assert_eq!(field(&rec, "signal"), Some(Value::Uint(9)));
        assert_eq!(field(&rec, "pid"), Some(Value::Uint(77)));
    }

    #[test]
    fn a_signal_from_the_service_manager_is_recorded_not_critical() {
        let mut ev = sg::sg_protect_event::default();
        ev.hdr.kind = KIND_PROTECT;
        ev.hdr.op = OP_SIGNAL;
        ev.hdr.action = ACTION_ALLOWED;
        ev.arg = 15;
        let rec = record(&ev, Value::Str(String::new()), &HashMap::new(), None);
        assert_eq!((rec.op, rec.level), ("signal", Level::Info));
        assert_eq!(field(&rec, "signal_name"), Some(Value::Str("SIGTERM".into())));
    }

    #[test]
    fn file_attempts_name_the_path_the_agent_knows() {
        let mut ev = sg::sg_protect_event::default();
        ev.hdr.kind = KIND_PROTECT;
        ev.hdr.op = OP_FILE;
        ev.hdr.action = sg::sg_action::SG_ACTION_BLOCKED.0;
        ev.file_op = sg::sg_protect_file_op::SG_PROTECT_RENAME.0;
        ev.what = FILE;
        ev.target_dev = 8 << 20 | 1;
        ev.target_ino = 1234;
        ev.name[..9].copy_from_slice(b"safeguard");
        ev.name_len = 9;
        let paths = HashMap::from([((8 << 20 | 1, 1234), PathBuf::from("/usr/sbin/safeguard"))]);
        let rec = record(&ev, Value::Str(String::new()), &paths, None);
        assert_eq!(field(&rec, "tried"), Some(Value::Str("rename".into())));
        assert_eq!(field(&rec, "target"), Some(Value::Str("/usr/sbin/safeguard".into())));
        assert_eq!(field(&rec, "target_dev"), Some(Value::Str("8:1".into())));

        // A rotated log the agent created after start: its directory and name.
        ev.what = sg::sg_protect_what::SG_PROTECT_CREATED.0;
        ev.name[..6].copy_from_slice(b"sg.1\0\0");
        ev.name_len = 4;
        let rec = record(&ev, Value::Str(String::new()), &HashMap::new(), Some(Path::new("/var/log/safeguard")));
        assert_eq!(field(&rec, "path"), Some(Value::Bytes(b"/var/log/safeguard/sg.1".to_vec())));
    }

    #[test]
    fn map_and_link_attempts_name_the_object() {
        let mut ev = sg::sg_protect_event::default();
        ev.hdr.kind = KIND_PROTECT;
        ev.hdr.op = OP_BPF;
        ev.object_kind = LINK;
        ev.object_id = 5;
        ev.arg = BPF_LINK_DETACH;
        let rec = record(&ev, Value::Str(String::new()), &HashMap::new(), None);
        assert_eq!(field(&rec, "tried"), Some(Value::Str("link detach".into())));
        assert_eq!(field(&rec, "link_id"), Some(Value::Uint(5)));
        ev.object_kind = MAP;
        ev.arg = 3;
        let rec = record(&ev, Value::Str(String::new()), &HashMap::new(), None);
        assert_eq!(field(&rec, "target"), Some(Value::Str("agent BPF map 5".into())));
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(19), "SIGSTOP");
        assert_eq!(signal_name(40), "SIG40");
    }
}
