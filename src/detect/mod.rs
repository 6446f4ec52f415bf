//! The detect module (SPEC section 8): built-in detections of intrusion techniques,
//! each judged in the LSM hook where the technique happens so that its response
//! (EPERM, or SIGKILL to the task) lands before the technique's next step. This file
//! owns the table of detections (name, ATT&CK technique, severity, hooks), the
//! built-in exclusions and interpreter names, the kernel's exclusion tables, and the
//! records. Kernel side: bpf/detect.bpf.c.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use libbpf_rs::skel::OpenSkel;
use libbpf_rs::{MapCore, MapFlags};

use crate::agent::module::{ModuleContext, ModuleState, Prepared};
use crate::agent::runtime::{self, load_only, target_code, Decoder as RingDecoder, Program};
use crate::bpf::detect::{DetectSkel, DetectSkelBuilder, OpenDetectSkel};
use crate::bpf::{bytes_of, decode_prefix, sg, sized_bytes};
use crate::config::{CommandMatch, DetectConfig, Detection, Mode, Op, Response};
use crate::decode::{event_record, RuleTable, KIND_DETECT};
use crate::logging::{Level, Record, Value};
use crate::probe::{Capabilities, Enforcement, HookKind};

pub const NAME: &str = "detect";

/// The hook table (bpf/detect.bpf.c) and the detections each program serves.
pub const PROGRAMS: &[Program<Detection>] = &[
    Program::new(
        "sg_detect_exec",
        HookKind::Lsm,
        "bprm_check_security",
        &[Detection::ReverseShell, Detection::FilelessExec, Detection::ExecFromWritable],
    ),
    Program::new(
        "sg_detect_ptrace",
        HookKind::Lsm,
        "ptrace_access_check",
        &[Detection::PtraceInject, Detection::ContainerEscape],
    ),
    Program::new(
        "sg_detect_module_file",
        HookKind::Lsm,
        "kernel_read_file",
        &[Detection::ModuleLoad, Detection::ContainerEscape],
    ),
    Program::new(
        "sg_detect_module_data",
        HookKind::Lsm,
        "kernel_load_data",
        &[Detection::ModuleLoad, Detection::ContainerEscape],
    ),
    Program::new("sg_detect_module_request", HookKind::Lsm, "kernel_module_request", &[Detection::ContainerEscape]),
    Program::new("sg_detect_mount", HookKind::Lsm, "sb_mount", &[Detection::ContainerEscape]),
    Program::new("sg_detect_bpf", HookKind::Lsm, "bpf", &[Detection::BpfLoad]),
    Program::new("sg_detect_open", HookKind::Lsm, "file_open", OPEN_DETECTIONS),
    Program::new("sg_detect_path_truncate", HookKind::Lsm, "path_truncate", &[Detection::LogTamper]),
    // 6.2 and later: ftruncate and O_TRUNC (before, they reach path_truncate).
    Program::new("sg_detect_file_truncate", HookKind::Lsm, "file_truncate", &[Detection::LogTamper]),
    Program::new("sg_detect_unlink", HookKind::Lsm, "path_unlink", &[Detection::LogTamper]),
    Program::new("sg_detect_link", HookKind::Lsm, "path_link", FILE_DETECTIONS),
    Program::new("sg_detect_rename", HookKind::Lsm, "path_rename", FILE_DETECTIONS),
    Program::new("sg_detect_setuid", HookKind::Lsm, "task_fix_setuid", &[Detection::PrivilegeEscalation]),
    Program::new("sg_detect_exec_creds", HookKind::Lsm, "bprm_committing_creds", &[Detection::PrivilegeEscalation]),
    Program::new("sg_detect_commit_creds", HookKind::Function, "commit_creds", &[Detection::PrivilegeEscalation]),
    // 6.7 and later; probe reports it absent on older kernels.
    Program::new("sg_detect_userns", HookKind::Lsm, "userns_create", &[Detection::UsernsCreate]),
];

/// The detections on watched files (WATCHES).
const FILE_DETECTIONS: &[Detection] =
    &[Detection::CredentialAccess, Detection::AccountTamper, Detection::Persistence, Detection::LogTamper];

/// file_open's: the watched files, and container_escape's usermode helpers written.
const OPEN_DETECTIONS: &[Detection] = &[
    Detection::CredentialAccess,
    Detection::AccountTamper,
    Detection::Persistence,
    Detection::LogTamper,
    Detection::ContainerEscape,
];

/// The severities of SPEC section 9, shared with the inventory's findings.
pub use crate::inventory::Severity;

/// The record's level: a critical detection is CRITICAL, any other WARNING.
fn level_of(severity: Severity) -> Level {
    match severity {
        Severity::Critical => Level::Critical,
        _ => Level::Warning,
    }
}

/// The ATT&CK technique and severity of each detection.
pub fn describe(detection: Detection) -> (&'static str, Severity) {
    match detection {
        Detection::ReverseShell => ("T1059.004", Severity::Critical),
        Detection::FilelessExec => ("T1620", Severity::High),
        Detection::ExecFromWritable => ("T1105", Severity::Medium),
        Detection::ModuleLoad => ("T1547.006", Severity::High),
        Detection::PtraceInject => ("T1055.008", Severity::High),
        Detection::CredentialAccess => ("T1003.008", Severity::High),
        Detection::AccountTamper => ("T1098", Severity::High),
        Detection::Persistence => ("T1543", Severity::High),
        Detection::LogTamper => ("T1070.002", Severity::High),
        Detection::PrivilegeEscalation => ("T1068", Severity::Critical),
        Detection::ContainerEscape => ("T1611", Severity::Critical),
        Detection::BpfLoad => ("T1014", Severity::Medium),
        Detection::UsernsCreate => ("T1068", Severity::Low),
    }
}

/// Detections with a hook today; the others are accepted in the config and do nothing
/// yet (README "Intrusion detection").
pub fn implemented(detection: Detection) -> bool {
    PROGRAMS.iter().any(|program| program.ops.contains(&detection))
}

/// Built-in exclusions: what a normal Debian host does by itself. `default_exclude =
/// false` drops them. Executables are matched by identity (device and inode), so
/// /lib/... and /usr/lib/... of a merged /usr are one entry; paths absent on the host
/// are skipped.
const DEFAULT_EXCLUSIONS: &[(&[Detection], &[&str])] = &[
    // udev loads drivers on hotplug, systemd-modules-load the modules of
    // /etc/modules-load.d at boot. (modprobe run by the kernel itself, request_module,
    // is never a detection: its parent is a kernel thread.)
    (
        &[Detection::ModuleLoad],
        &[
            "/usr/lib/systemd/systemd-udevd",
            "/lib/systemd/systemd-udevd",
            "/usr/bin/udevadm",
            "/usr/lib/systemd/systemd-modules-load",
            "/lib/systemd/systemd-modules-load",
        ],
    ),
    // systemd attaches cgroup programs (device access, IP accounting, socket bind).
    (&[Detection::BpfLoad], &["/usr/lib/systemd/systemd", "/lib/systemd/systemd"]),
    // runc re-executes itself from a memfd (its fix for CVE-2019-5736).
    (&[Detection::FilelessExec], &["/usr/bin/runc", "/usr/sbin/runc"]),
    // The system's own readers of shadow, gshadow and the SSH host keys (PAM in
    // process, as root), and the account tools, which write the account files.
    (
        &[Detection::CredentialAccess, Detection::AccountTamper],
        &[
            "/usr/sbin/unix_chkpwd",
            "/usr/sbin/sshd",
            "/usr/lib/openssh/sshd-session",
            "/usr/lib/openssh/sshd-auth",
            "/usr/bin/ssh-keygen",
            "/usr/bin/login",
            "/usr/bin/su",
            "/usr/sbin/runuser",
            "/usr/bin/sudo",
            "/usr/sbin/visudo",
            "/usr/bin/newgrp",
            "/usr/bin/passwd",
            "/usr/bin/chage",
            "/usr/bin/chfn",
            "/usr/bin/chsh",
            "/usr/bin/gpasswd",
            "/usr/bin/expiry",
            "/usr/sbin/chpasswd",
            "/usr/sbin/chgpasswd",
            "/usr/sbin/newusers",
            "/usr/sbin/useradd",
            "/usr/sbin/usermod",
            "/usr/sbin/userdel",
            "/usr/sbin/groupadd",
            "/usr/sbin/groupmod",
            "/usr/sbin/groupdel",
            "/usr/sbin/pwck",
            "/usr/sbin/grpck",
            "/usr/sbin/pwconv",
            "/usr/sbin/grpconv",
            "/usr/sbin/pwunconv",
            "/usr/sbin/grpunconv",
            "/usr/sbin/vipw",
            "/usr/sbin/update-passwd",
            "/usr/bin/systemd-sysusers",
            "/usr/lib/polkit-1/polkit-agent-helper-1",
            "/usr/sbin/cron",
            "/usr/lib/systemd/systemd",
        ],
    ),
    // Package managers install cron jobs, units, init scripts and profile snippets;
    // crontab(1) writes the spools; systemctl edits units.
    (
        &[Detection::Persistence, Detection::AccountTamper],
        &["/usr/bin/dpkg", "/usr/bin/rpm", "/usr/bin/crontab", "/usr/bin/systemctl", "/usr/lib/systemd/systemd"],
    ),
    // The logs' writers and logrotate; the login records' writers.
    (
        &[Detection::LogTamper],
        &[
            "/usr/sbin/logrotate",
            "/usr/sbin/rsyslogd",
            "/usr/lib/systemd/systemd-journald",
            "/usr/lib/systemd/systemd",
            "/usr/lib/systemd/systemd-update-utmp",
            "/usr/bin/login",
            "/usr/sbin/sshd",
            "/usr/lib/openssh/sshd-session",
            "/usr/lib/polkit-1/polkit-agent-helper-1",
        ],
    ),
];

/// The files of credential_access, account_tamper, persistence and log_tamper. A path
/// ending in `/` stands for every name directly in that directory, new ones included;
/// any other is watched by identity (when it exists at start: a hard link or a bind
/// mount is the same file) and by its name in its directory (so that creating it, or
/// renaming or linking something to its name, is seen). `*` is one path component
/// (home directories).
const WATCHES: &[(Watch, &[&str])] = &[
    (
        Watch::ReadCredential,
        &[
            "/etc/shadow",
            "/etc/gshadow",
            "/etc/shadow-",
            "/etc/gshadow-",
            "/etc/ssh/ssh_host_rsa_key",
            "/etc/ssh/ssh_host_ecdsa_key",
            "/etc/ssh/ssh_host_ed25519_key",
            "/etc/ssh/ssh_host_dsa_key",
        ],
    ),
    (
        Watch::WriteAccount,
        &[
            "/etc/passwd",
            "/etc/shadow",
            "/etc/group",
            "/etc/gshadow",
            "/etc/sudoers",
            "/etc/sudoers.d/",
            "/root/.ssh/authorized_keys",
            "/root/.ssh/authorized_keys2",
            "/home/*/.ssh/authorized_keys",
            "/home/*/.ssh/authorized_keys2",
        ],
    ),
    (
        Watch::WritePersist,
        &[
            "/etc/crontab",
            "/etc/cron.d/",
            "/etc/cron.hourly/",
            "/etc/cron.daily/",
            "/etc/cron.weekly/",
            "/etc/cron.monthly/",
            "/var/spool/cron/crontabs/",
            "/etc/systemd/system/",
            "/usr/lib/systemd/system/",
            "/etc/ld.so.preload",
            "/etc/rc.local",
            "/etc/init.d/",
            "/etc/profile",
            "/etc/profile.d/",
            "/etc/bash.bashrc",
            "/etc/environment",
            "/etc/udev/rules.d/",
            "/root/.bashrc",
            "/root/.profile",
            "/root/.bash_profile",
            "/home/*/.bashrc",
            "/home/*/.profile",
            "/home/*/.bash_profile",
        ],
    ),
    (Watch::Log, &["/var/log/"]),
    (Watch::LoginRecord, &["/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog"]),
];

#[derive(Clone, Copy)]
enum Watch {
    ReadCredential,
    WriteAccount,
    WritePersist,
    Log,
    LoginRecord,
}

impl Watch {
    fn bit(self) -> u32 {
        match self {
            Watch::ReadCredential => sg::sg_watch::SG_WATCH_READ_CREDENTIAL.0,
            Watch::WriteAccount => sg::sg_watch::SG_WATCH_WRITE_ACCOUNT.0,
            Watch::WritePersist => sg::sg_watch::SG_WATCH_WRITE_PERSIST.0,
            Watch::Log => sg::sg_watch::SG_WATCH_LOG.0,
            Watch::LoginRecord => sg::sg_watch::SG_WATCH_LOGIN_RECORD.0,
        }
    }
}

/// The kernel's watch tables: identities (dev, ino) of watched files and directories
/// with their bits, and names in directories (by identity) with theirs.
#[derive(Debug, Default, PartialEq)]
struct WatchTables {
    inodes: Vec<((u32, u64), u32)>,
    names: Vec<((u32, u64), String, u32)>,
}

/// sg_watch_filter's words: the bit of every inode number of `tables.inodes` (the
/// names' directories are among them), so that the kernel looks up only those.
fn watch_filter(tables: &WatchTables) -> [u64; WATCH_FILTER_WORDS] {
    let mut words = [0u64; WATCH_FILTER_WORDS];
    for ((_, ino), _) in &tables.inodes {
        // (the remainder is below WATCH_FILTER_WORDS: the cast cannot truncate)
        words[((ino / 64) % WATCH_FILTER_WORDS as u64) as usize] |= 1 << (ino % 64);
    }
    words
}

const WATCH_FILTER_WORDS: usize = sg::sg_watch_filter::SG_WATCH_FILTER_WORDS.0 as usize;

fn or_into<K: PartialEq>(table: &mut Vec<(K, u32)>, key: K, bits: u32) {
    match table.iter_mut().find(|(k, _)| *k == key) {
        Some((_, b)) => *b |= bits,
        None => table.push((key, bits)),
    }
}

/// The watch tables of WATCHES on this host: `identify` gives a path's (dev, ino),
/// `expand` the paths of a pattern.
fn watches(identify: impl Fn(&str) -> Option<(u32, u64)>, expand: impl Fn(&str) -> Vec<String>) -> WatchTables {
    let mut tables = WatchTables::default();
    for (watch, patterns) in WATCHES {
        for pattern in *patterns {
            let dir = pattern.ends_with('/');
            for path in expand(pattern.trim_end_matches('/')) {
                if dir {
                    if let Some(id) = identify(&path) {
                        or_into(&mut tables.inodes, id, watch.bit() | sg::sg_watch::SG_WATCH_DIR.0);
                    }
                    continue;
                }
                if let Some(id) = identify(&path) {
                    or_into(&mut tables.inodes, id, watch.bit());
                }
                let Some((parent, name)) = path.rsplit_once('/') else { continue };
                let parent = if parent.is_empty() { "/" } else { parent };
                if name.is_empty() || name.len() >= NAME_LEN {
                    continue;
                }
                let Some(parent_id) = identify(parent) else { continue };
                or_into(&mut tables.inodes, parent_id, sg::sg_watch::SG_WATCH_NAMES.0);
                match tables.names.iter_mut().find(|(p, n, _)| *p == parent_id && n == name) {
                    Some((_, _, b)) => *b |= watch.bit(),
                    None => tables.names.push((parent_id, name.to_string(), watch.bit())),
                }
            }
        }
    }
    tables
}

/// Room for a name in sg_watch_names, its NUL included.
const NAME_LEN: usize = std::mem::size_of::<[u8; 32]>();
const _: () = assert!(std::mem::size_of::<sg::sg_watch_name>() == 16 + NAME_LEN);

/// `/home/*/x`: one path per directory in /home (no other wildcard).
fn expand_on_host(pattern: &str) -> Vec<String> {
    let Some((head, tail)) = pattern.split_once("/*/") else { return vec![pattern.to_string()] };
    let Ok(entries) = std::fs::read_dir(head) else { return Vec::new() };
    entries.filter_map(|e| e.ok()).map(|e| format!("{}/{tail}", e.path().display())).collect()
}

/// Shells and interpreters for reverse_shell, by file name cut at its first digit or
/// dot (python3.11 is "python"). busybox: its applets run under that name.
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "csh", "tcsh", "fish", "busybox", "python", "perl", "ruby",
    "php", "lua", "node", "nodejs", "tclsh", "awk", "gawk", "mawk", "pwsh",
];

/// Detections counted by severity since the agent started (the `stats` record).
static BY_SEVERITY: [AtomicU64; 4] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// `{ "low": n, "medium": n, "high": n, "critical": n }` for the `stats` record.
pub fn severity_counts() -> Value {
    Value::Map(
        Severity::ALL
            .iter()
            .map(|&s| (s.name().to_string(), Value::Uint(BY_SEVERITY[s as usize].load(Ordering::Relaxed))))
            .collect(),
    )
}

/// Decides what the module does on this kernel with this config; the thread starts later.
pub fn prepare(config: &DetectConfig, caps: &Capabilities, agent_pidns: u32) -> Prepared {
    let config = config.clone();
    let mut state = ModuleState::of(config.enable, config.mode, caps);
    // Every detection is an LSM hook: without BPF LSM none can run.
    if state != ModuleState::Off && caps.enforcement() != Enforcement::Full {
        log::warn!("detect: off: every detection needs BPF LSM, which this kernel does not give");
        state = ModuleState::Off;
    }
    let enabled: BTreeSet<Detection> =
        Detection::ALL.iter().copied().filter(|d| !config.disable.contains(d) && implemented(*d)).collect();
    let programs: Vec<&'static str> = PROGRAMS
        .iter()
        .filter(|p| p.ops.iter().any(|d| enabled.contains(d)))
        .filter(|p| {
            let present = caps.hook_present(p.hook);
            if !present {
                log::info!("detect: no LSM hook {} on this kernel: {} off", p.hook, names(p.ops));
            }
            present
        })
        .map(|p| p.name)
        .collect();
    runtime::prepare(state, move || {
        let tables = compile(&config, identify_exclusion)?;
        // Once, for the filter in rodata and the tables filled after load alike.
        let watched = if enabled.iter().any(|d| FILE_DETECTIONS.contains(d)) {
            watches(identify_on_host, expand_on_host)
        } else {
            WatchTables::default()
        };
        Ok(Detect { config, enabled, programs, agent_pidns, tables, watched })
    })
}

fn names(detections: &[Detection]) -> String {
    detections.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
}

struct Detect {
    config: DetectConfig,
    enabled: BTreeSet<Detection>,
    programs: Vec<&'static str>,
    agent_pidns: u32,
    tables: Tables,
    watched: WatchTables,
}

/// The kernel's exclusion tables: entry i of the exclusions is bit i of every mask.
#[derive(Debug, Default)]
struct Tables {
    /// Entries with a command selector, and with a uid selector.
    need_command: u64,
    need_uid: u64,
    /// Per detection (`enum sg_detection` order): the entries covering it.
    by_detection: [u64; DETECTIONS],
    /// Executables (by identity) and task names, each with the entries that name it.
    commands: Vec<(sg::sg_command_key, u64)>,
    /// Uids, each with the entries that name it.
    uids: Vec<(u32, u64)>,
}

const DETECTIONS: usize = sg::sg_detection::SG_DET_COUNT.0 as usize;
const MAX_EXCLUSIONS: usize = 64;

/// One exclusion before it becomes bits.
struct Entry {
    detections: Vec<Detection>,
    commands: Vec<CommandMatch>,
    uids: Vec<u32>,
    /// Written in the config (a missing path is worth a warning), not built in.
    configured: bool,
}

/// The exclusions as the kernel matches them: the built-in ones first (unless turned
/// off), then the config's. `identify` gives a path's (dev, ino).
fn compile(config: &DetectConfig, identify: impl Fn(&str, bool) -> Option<(u32, u64)>) -> anyhow::Result<Tables> {
    let mut entries: Vec<Entry> = Vec::new();
    if config.default_exclude {
        for (detections, paths) in DEFAULT_EXCLUSIONS {
            let commands = paths.iter().map(|p| CommandMatch::Exe(p.to_string())).collect();
            entries.push(Entry { detections: detections.to_vec(), commands, uids: Vec::new(), configured: false });
        }
    }
    for exclusion in &config.exclude {
        let detections = if exclusion.detections.is_empty() {
            Detection::ALL.to_vec()
        } else {
            exclusion.detections.iter().copied().collect()
        };
        let (commands, uids) = (exclusion.command.clone(), exclusion.uid.clone());
        entries.push(Entry { detections, commands, uids, configured: true });
    }
    if entries.len() > MAX_EXCLUSIONS {
        anyhow::bail!("detect: {} exclude entries (built-in ones included); at most {MAX_EXCLUSIONS}", entries.len());
    }
    let mut tables = Tables::default();
    for (index, Entry { detections, commands, uids, configured }) in entries.into_iter().enumerate() {
        let bit = 1u64 << index;
        for detection in detections {
            if let Some(slot) = Detection::ALL.iter().position(|d| *d == detection) {
                tables.by_detection[slot] |= bit;
            }
        }
        if !uids.is_empty() {
            tables.need_uid |= bit;
        }
        if !commands.is_empty() {
            tables.need_command |= bit;
        }
        for uid in uids {
            match tables.uids.iter_mut().find(|(u, _)| *u == uid) {
                Some((_, mask)) => *mask |= bit,
                None => tables.uids.push((uid, bit)),
            }
        }
        for command in &commands {
            let mut key = sg::sg_command_key::default();
            match command {
                CommandMatch::Exe(path) => match identify(path, configured) {
                    Some((dev, ino)) => {
                        key.dev = dev;
                        key.ino = ino;
                    }
                    None => {
                        if configured {
                            log::warn!("detect.exclude: {path} does not exist: the entry cannot match it");
                        }
                        continue;
                    }
                },
                CommandMatch::Comm(comm) => {
                    let bytes = comm.as_bytes();
                    let n = bytes.len().min(key.comm.len() - 1);
                    key.comm[..n].copy_from_slice(&bytes[..n]);
                }
            }
            match tables.commands.iter_mut().find(|(k, _)| bytes_of(k) == bytes_of(&key)) {
                Some((_, mask)) => *mask |= bit,
                None => tables.commands.push((key, bit)),
            }
        }
    }
    Ok(tables)
}

/// The identity of an exclusion's executable for `compile`. A built-in path that is a
/// symbolic link is skipped: where /usr/bin/su or /usr/bin/crontab is a link to a
/// multi-call binary (busybox), following it would exclude every applet, cat and sh
/// included. (What the config names is followed: the administrator chose it.)
fn identify_exclusion(path: &str, configured: bool) -> Option<(u32, u64)> {
    if !configured && std::fs::symlink_metadata(path).ok()?.file_type().is_symlink() {
        log::debug!("detect: built-in exclusion {path} is a symbolic link: skipped");
        return None;
    }
    identify_on_host(path)
}

/// A path's (dev, ino) on this host.
fn identify_on_host(path: &str) -> Option<(u32, u64)> {
    crate::rule_paths::identify_on_host(path).map(|id| (id.dev, id.ino))
}

fn response_code(response: Response) -> u32 {
    match response {
        Response::Alert => sg::sg_response::SG_RESPONSE_ALERT.0,
        Response::Block => sg::sg_response::SG_RESPONSE_BLOCK.0,
        Response::Kill => sg::sg_response::SG_RESPONSE_KILL.0,
    }
}

impl runtime::Module for Detect {
    const NAME: &'static str = NAME;
    type Skel = DetectSkelBuilder;

    fn configure(&self, open: &mut OpenDetectSkel<'_>) -> anyhow::Result<()> {
        let config = &self.config;
        let rodata = open.maps.rodata_data.as_deref_mut().context("detect: no rodata")?;
        rodata.sg_target = target_code(config.target);
        rodata.sg_agent_pidns = self.agent_pidns;
        rodata.sg_agent_tgid = std::process::id();
        rodata.sg_exclude_need_command = self.tables.need_command;
        rodata.sg_exclude_need_uid = self.tables.need_uid;
        rodata.sg_exclude_detection = self.tables.by_detection;
        rodata.sg_watch_filter = watch_filter(&self.watched);
        for (index, &detection) in Detection::ALL.iter().enumerate() {
            if self.enabled.contains(&detection) {
                rodata.sg_detections |= 1 << index;
            }
            // Monitor mode only alerts.
            let response = if config.mode == Mode::Block { config.response_of(detection) } else { Response::Alert };
            if let Some(slot) = rodata.sg_response.get_mut(index) {
                *slot = response_code(response);
            }
        }
        load_only(open.open_object_mut(), |program| self.programs.contains(&program));
        Ok(())
    }

    fn fill(&mut self, skel: &DetectSkel<'_>, _ctx: &ModuleContext) -> anyhow::Result<()> {
        let maps = &skel.maps;
        for (uid, mask) in &self.tables.uids {
            maps.sg_detect_uids
                .update(&uid.to_ne_bytes(), &mask.to_ne_bytes(), MapFlags::ANY)
                .context("detect: exclusion uids")?;
        }
        for (key, mask) in &self.tables.commands {
            maps.sg_detect_commands
                .update(bytes_of(key), &mask.to_ne_bytes(), MapFlags::ANY)
                .context("detect: exclusion commands")?;
        }
        for ((dev, ino), bits) in &self.watched.inodes {
            let key = sg::sg_inode_key { ino: *ino, dev: *dev, ..Default::default() };
            maps.sg_watches.update(bytes_of(&key), &bits.to_ne_bytes(), MapFlags::ANY).context("detect: watches")?;
        }
        for ((dev, ino), name, bits) in &self.watched.names {
            let mut key = sg::sg_watch_name { ino: *ino, dev: *dev, ..Default::default() };
            key.name[..name.len()].copy_from_slice(name.as_bytes());
            maps.sg_watch_names
                .update(bytes_of(&key), &bits.to_ne_bytes(), MapFlags::ANY)
                .context("detect: watched names")?;
        }
        for name in INTERPRETERS {
            let mut key = sg::sg_interp_key::default();
            key.name[..name.len()].copy_from_slice(name.as_bytes());
            maps.sg_interpreters
                .update(bytes_of(&key), &1u32.to_ne_bytes(), MapFlags::ANY)
                .context("detect: interpreters")?;
        }
        Ok(())
    }

    fn decoder(&self) -> RingDecoder {
        Box::new(move |data, ctx| match decode_prefix::<sg::sg_detect_event>(data, PATH_OFFSET) {
            Some(ev) if ev.hdr.kind == KIND_DETECT => match record(&ev) {
                Some(record) => ctx.send(record),
                None => ctx.malformed("detect event", data.len()),
            },
            _ => ctx.malformed("detect event", data.len()),
        })
    }
}

const PATH_OFFSET: usize = std::mem::offset_of!(sg::sg_detect_event, path);

/// PTRACE_MODE_FSCREDS: the access came through a file (/proc/PID/mem).
const PTRACE_MODE_FSCREDS: u32 = 0x08;
/// PTRACE_MODE_ATTACH: ptrace itself, process_vm_*, /proc/PID/mem (else a read).
const PTRACE_MODE_ATTACH: u32 = 0x02;

/// The record of a detection: the subject with its ancestry, the technique and
/// severity, and the evidence.
fn record(ev: &sg::sg_detect_event) -> Option<Record> {
    let detection = *Detection::ALL.get(ev.detection as usize)?;
    let (technique, severity) = describe(detection);
    let exe = Value::Bytes(sized_bytes(&ev.exe, ev.exe_len).to_vec());
    let mut record = event_record(&ev.hdr, NAME, detection.name(), &RuleTable::default(), exe);
    record.level = level_of(severity);
    let bytes = |field: &[u8], len: u32| Value::Bytes(sized_bytes(field, len).to_vec());
    let mut fields = vec![
        ("technique", Value::Str(technique.into())),
        ("severity", Value::Str(severity.name().into())),
        ("parent_exe", bytes(&ev.parent_exe, ev.parent_exe_len)),
        ("grandparent_exe", bytes(&ev.grandparent_exe, ev.grandparent_exe_len)),
    ];
    let escape = (detection == Detection::ContainerEscape).then(|| escape_via(ev.arg & 0xffff));
    if ev.path_len > 0 {
        // A mount's path is its target; any other's the file's.
        let name = match escape {
            Some(via) if via.starts_with("mount") || via.ends_with("_sys") => "target",
            _ => "path",
        };
        fields.push((name, bytes(&ev.path, ev.path_len)));
    }
    match detection {
        Detection::ReverseShell => {
            fields.push(("fd", Value::Uint(ev.arg.into())));
            fields.push(("peer_addr", Value::Str(peer(ev))));
            fields.push(("peer_port", Value::Uint(ev.port.into())));
        }
        Detection::ExecFromWritable => fields.push(("dir_mode", Value::Str(format!("{:04o}", ev.arg)))),
        Detection::PtraceInject => {
            fields.push(("target_pid", Value::Uint(ev.target_pid.into())));
            fields.push(("target_comm", Value::Bytes(crate::bpf::c_bytes(&ev.target_comm).to_vec())));
            let access = if ev.arg & PTRACE_MODE_FSCREDS != 0 { "proc_mem" } else { "ptrace_or_process_vm" };
            fields.push(("access", Value::Str(access.into())));
        }
        Detection::CredentialAccess | Detection::AccountTamper | Detection::Persistence | Detection::LogTamper => {
            fields.push(("access", Value::Str(access_name(ev.arg).into())));
        }
        Detection::PrivilegeEscalation => {
            // The uid the task had; how it became root.
            fields.push(("old_uid", Value::Uint(ev.target_pid.into())));
            fields.push(("via", Value::Str(escalation_via(ev.arg).into())));
        }
        Detection::ContainerEscape => {
            let via = escape_via(ev.arg & 0xffff);
            fields.push(("via", Value::Str(via.into())));
            let source = Value::Bytes(crate::bpf::c_bytes(&ev.source).to_vec());
            match via {
                "mount_device" | "bind_sys" | "remount_sys" => {
                    fields.push(("source", source));
                    let fstype = crate::bpf::c_bytes(&ev.name);
                    if !fstype.is_empty() {
                        fields.push(("fstype", Value::Bytes(fstype.to_vec())));
                    }
                }
                "module_request" => fields.push(("module_name", source)),
                "host_process" => {
                    fields.push(("target_pid", Value::Uint(ev.target_pid.into())));
                    fields.push(("target_comm", Value::Bytes(crate::bpf::c_bytes(&ev.target_comm).to_vec())));
                    let attach = (ev.arg >> 16) & PTRACE_MODE_ATTACH != 0;
                    fields.push(("access", Value::Str(if attach { "attach" } else { "read" }.into())));
                }
                _ => {}
            }
        }
        Detection::BpfLoad => {
            fields.push(("prog_type", Value::Uint(ev.arg.into())));
            fields.push(("prog_name", Value::Bytes(crate::bpf::c_bytes(&ev.name).to_vec())));
        }
        _ => {}
    }
    record.fields.extend(fields);
    BY_SEVERITY[severity as usize].fetch_add(1, Ordering::Relaxed);
    Some(record)
}

/// How a privilege_escalation happened: the setuid call (`enum` LSM_SETID_* of the
/// task_fix_setuid hook), or a commit of credentials that no setuid call or exec made:
/// one that gives a root id, or one that adds permitted capabilities.
fn escalation_via(arg: u32) -> &'static str {
    match arg {
        1 => "setuid",
        2 => "setreuid",
        4 => "setresuid",
        8 => "setfsuid",
        0x100 => "commit_creds",
        0x200 => "commit_creds_capabilities",
        _ => "unknown",
    }
}

/// How a container_escape was tried (`enum sg_escape_via`).
fn escape_via(via: u32) -> &'static str {
    use sg::sg_escape_via as e;
    match via {
        x if x == e::SG_ESCAPE_CORE_PATTERN.0 => "core_pattern",
        x if x == e::SG_ESCAPE_MODPROBE.0 => "modprobe",
        x if x == e::SG_ESCAPE_UEVENT_HELPER.0 => "uevent_helper",
        x if x == e::SG_ESCAPE_RELEASE_AGENT.0 => "release_agent",
        x if x == e::SG_ESCAPE_MOUNT_DEVICE.0 => "mount_device",
        x if x == e::SG_ESCAPE_BIND_SYS.0 => "bind_sys",
        x if x == e::SG_ESCAPE_REMOUNT_SYS.0 => "remount_sys",
        x if x == e::SG_ESCAPE_HOST_PROCESS.0 => "host_process",
        x if x == e::SG_ESCAPE_MODULE_LOAD.0 => "module_load",
        x if x == e::SG_ESCAPE_MODULE_REQUEST.0 => "module_request",
        _ => "unknown",
    }
}

/// What a file detection saw done (`enum sg_watch_access`).
fn access_name(access: u32) -> &'static str {
    use sg::sg_watch_access as a;
    match access {
        x if x == a::SG_ACCESS_READ.0 => "read",
        x if x == a::SG_ACCESS_WRITE.0 => "write",
        x if x == a::SG_ACCESS_TRUNCATE.0 => "truncate",
        x if x == a::SG_ACCESS_DELETE.0 => "delete",
        x if x == a::SG_ACCESS_RENAME.0 => "rename",
        x if x == a::SG_ACCESS_LINK.0 => "link",
        _ => "unknown",
    }
}

/// The peer address of a reverse shell's socket (IPv4 is kept IPv4-mapped).
fn peer(ev: &sg::sg_detect_event) -> String {
    let v6 = std::net::Ipv6Addr::from(ev.addr);
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    }
}

/// What a test of the log's readers sets in a detection event: its record is then made
/// by `record`, as the agent makes it (the report's fixtures, src/analysis/intrusions.rs).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct TestEvent<'a> {
    pub detection: &'a str,
    pub action: &'a str,
    pub hostname: &'a [u8],
    pub container: bool,
    pub pid: u32,
    pub ppid: u32,
    pub exe: &'a [u8],
    pub parent_exe: &'a [u8],
    pub grandparent_exe: &'a [u8],
    pub path: &'a [u8],
    pub target_pid: u32,
    /// reverse_shell: the IPv4 peer and port.
    pub peer: Option<([u8; 4], u16)>,
}

#[cfg(test)]
pub(crate) fn test_record(t: &TestEvent<'_>) -> Record {
    fn put(dst: &mut [u8], src: &[u8]) -> u32 {
        let n = src.len().min(dst.len());
        dst[..n].copy_from_slice(&src[..n]);
        n as u32
    }
    let mut ev = sg::sg_detect_event::default();
    ev.hdr.kind = KIND_DETECT;
    ev.hdr.action = match t.action {
        "BLOCKED" => sg::sg_action::SG_ACTION_BLOCKED.0,
        "KILLED" => sg::sg_action::SG_ACTION_KILLED.0,
        _ => sg::sg_action::SG_ACTION_ALERT.0,
    };
    ev.hdr.flags = if t.container { crate::decode::FLAG_CONTAINER } else { 0 };
    ev.hdr.subject.pid = t.pid;
    ev.hdr.subject.ppid = t.ppid;
    put(&mut ev.hdr.subject.hostname, t.hostname);
    ev.detection = Detection::ALL.iter().position(|d| d.name() == t.detection).expect("a detection's name") as u32;
    ev.exe_len = put(&mut ev.exe, t.exe);
    ev.parent_exe_len = put(&mut ev.parent_exe, t.parent_exe);
    ev.grandparent_exe_len = put(&mut ev.grandparent_exe, t.grandparent_exe);
    ev.path_len = put(&mut ev.path, t.path);
    ev.target_pid = t.target_pid;
    if let Some((addr, port)) = t.peer {
        ev.family = 2;
        ev.addr[10] = 0xff;
        ev.addr[11] = 0xff;
        ev.addr[12..].copy_from_slice(&addr);
        ev.port = port.into();
    }
    record(&ev).expect("a known detection")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_order_is_the_abi_order() {
        assert_eq!(Detection::ALL.len(), sg::sg_detection::SG_DET_COUNT.0 as usize);
        assert_eq!(Detection::ALL[sg::sg_detection::SG_DET_BPF_LOAD.0 as usize], Detection::BpfLoad);
        assert_eq!(Detection::ALL[sg::sg_detection::SG_DET_USERNS_CREATE.0 as usize], Detection::UsernsCreate);
        assert_eq!(Detection::ALL[sg::sg_detection::SG_DET_PTRACE_INJECT.0 as usize], Detection::PtraceInject);
    }

    #[test]
    fn exclusions_compile_to_masks() {
        let mut config = DetectConfig { enable: true, default_exclude: false, ..DetectConfig::default() };
        config.exclude.push(crate::config::Exclusion {
            detections: [Detection::PtraceInject].into_iter().collect(),
            command: vec![CommandMatch::Exe("/usr/bin/gdb".into()), CommandMatch::Comm("strace".into())],
            uid: vec![0, 1000],
            text: String::new(),
        });
        config.exclude.push(crate::config::Exclusion {
            detections: BTreeSet::new(),
            command: vec![CommandMatch::Exe("/usr/bin/gdb".into()), CommandMatch::Exe("/absent".into())],
            uid: vec![],
            text: String::new(),
        });
        config.exclude.push(crate::config::Exclusion {
            detections: [Detection::BpfLoad].into_iter().collect(),
            command: vec![],
            uid: vec![1000],
            text: String::new(),
        });
        let tables = compile(&config, |p, _| (p == "/usr/bin/gdb").then_some((8, 42))).unwrap();
        assert_eq!((tables.need_command, tables.need_uid), (0b011, 0b101));
        let ptrace = sg::sg_detection::SG_DET_PTRACE_INJECT.0 as usize;
        let bpf = sg::sg_detection::SG_DET_BPF_LOAD.0 as usize;
        let shell = sg::sg_detection::SG_DET_REVERSE_SHELL.0 as usize;
        assert_eq!(
            (tables.by_detection[ptrace], tables.by_detection[bpf], tables.by_detection[shell]),
            (0b011, 0b110, 0b010)
        );
        assert_eq!(tables.uids, vec![(0, 0b001), (1000, 0b101)]);
        // gdb is named by two entries: one key, both bits; the absent path is left out.
        assert_eq!(tables.commands.len(), 2);
        let gdb = tables.commands.iter().find(|(k, _)| k.ino == 42).unwrap();
        assert_eq!((gdb.0.dev, gdb.1), (8, 0b011));
        let strace = tables.commands.iter().find(|(k, _)| k.ino == 0).unwrap();
        assert_eq!((&strace.0.comm[..7], strace.1), (&b"strace\0"[..], 0b001));

        // The built-in exclusions come first.
        config.default_exclude = true;
        let tables = compile(&config, |_, _| Some((1, 1))).unwrap();
        assert_eq!(tables.need_command.count_ones() as usize, DEFAULT_EXCLUSIONS.len() + 2);
        assert_eq!(tables.need_uid, 0b101 << DEFAULT_EXCLUSIONS.len());
    }

    #[test]
    fn watches_are_identities_and_names_in_directories() {
        // Every path exists but /etc/ld.so.preload and authorized_keys; one home.
        let absent = ["/etc/ld.so.preload", "/root/.ssh/authorized_keys", "/root/.ssh/authorized_keys2"];
        let ids: Vec<String> = WATCHES
            .iter()
            .flat_map(|(_, p)| p.iter())
            .map(|p| p.trim_end_matches('/').replace("/home/*/", "/home/u/"))
            .chain(["/etc", "/root", "/root/.ssh", "/home/u", "/home/u/.ssh", "/var/log", "/etc/ssh"].map(String::from))
            .collect();
        let identify = |path: &str| {
            if absent.contains(&path) {
                return None;
            }
            ids.iter().position(|p| p == path).map(|i| (8, i as u64 + 100))
        };
        let id = |path: &str| identify(path).unwrap();
        let expand = |pattern: &str| vec![pattern.replace("/home/*/", "/home/u/")];
        let tables = watches(identify, expand);
        let inode = |path: &str| tables.inodes.iter().find(|(i, _)| *i == id(path)).map(|(_, b)| *b);
        let name = |dir: &str, n: &str| {
            tables.names.iter().find(|(d, name, _)| *d == id(dir) && name == n).map(|(_, _, b)| *b)
        };
        use sg::sg_watch as w;
        // shadow: read is credential_access, write account_tamper; by identity and by name.
        let shadow = w::SG_WATCH_READ_CREDENTIAL.0 | w::SG_WATCH_WRITE_ACCOUNT.0;
        assert_eq!(inode("/etc/shadow"), Some(shadow));
        assert_eq!(name("/etc", "shadow"), Some(shadow));
        // A directory's bits cover its names; its parent looks names up.
        assert_eq!(inode("/etc/cron.d"), Some(w::SG_WATCH_WRITE_PERSIST.0 | w::SG_WATCH_DIR.0));
        assert_eq!(inode("/var/log"), Some(w::SG_WATCH_LOG.0 | w::SG_WATCH_DIR.0 | w::SG_WATCH_NAMES.0));
        assert_eq!(inode("/etc").map(|b| b & w::SG_WATCH_NAMES.0), Some(w::SG_WATCH_NAMES.0));
        assert_eq!(name("/var/log", "wtmp"), Some(w::SG_WATCH_LOGIN_RECORD.0));
        // Absent at start: watched by name only.
        assert_eq!(name("/etc", "ld.so.preload"), Some(w::SG_WATCH_WRITE_PERSIST.0));
        assert_eq!(name("/root/.ssh", "authorized_keys"), Some(w::SG_WATCH_WRITE_ACCOUNT.0));
        assert_eq!(name("/home/u/.ssh", "authorized_keys"), Some(w::SG_WATCH_WRITE_ACCOUNT.0));
        assert_eq!(name("/home/u", ".bashrc"), Some(w::SG_WATCH_WRITE_PERSIST.0));
        // No directory entry for the parent of a file alone: .ssh holds known_hosts too.
        assert_eq!(inode("/root/.ssh"), Some(w::SG_WATCH_NAMES.0));
        // Every name fits the kernel's key with its NUL.
        assert!(tables.names.iter().all(|(_, n, _)| n.len() < NAME_LEN));
        // The kernel's filter has the bit of every watched inode (the names' directories
        // included), as the kernel computes it.
        let filter = watch_filter(&tables);
        let set = |ino: u64| (filter[((ino / 64) % WATCH_FILTER_WORDS as u64) as usize] >> (ino % 64)) & 1 == 1;
        assert!(tables.inodes.iter().all(|((_, ino), _)| set(*ino)));
        assert!(set(id("/etc").1) && set(id("/root/.ssh").1));
        let bits: u32 = filter.iter().map(|word| word.count_ones()).sum();
        assert_eq!(bits as usize, tables.inodes.len()); // inodes 100.. are distinct bits
    }

    #[test]
    fn built_in_exclusions_skip_symbolic_links() {
        let dir = std::env::temp_dir().join(format!("sg-detect-links-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let real = dir.join("busybox");
        let link = dir.join("su");
        std::fs::write(&real, b"x").unwrap();
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let (real, link) = (real.to_str().unwrap(), link.to_str().unwrap());
        assert!(identify_exclusion(real, false).is_some());
        // A built-in path that is a link (an applet of a multi-call binary) is skipped;
        // the administrator's is followed.
        assert_eq!(identify_exclusion(link, false), None);
        assert_eq!(identify_exclusion(link, true), identify_exclusion(real, false));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_detections_name_their_access() {
        let mut ev = sg::sg_detect_event::default();
        ev.hdr.kind = KIND_DETECT;
        ev.hdr.action = sg::sg_action::SG_ACTION_BLOCKED.0;
        ev.detection = sg::sg_detection::SG_DET_LOG_TAMPER.0;
        ev.arg = sg::sg_watch_access::SG_ACCESS_TRUNCATE.0;
        ev.path[..16].copy_from_slice(b"/var/log/auth.lo");
        ev.path_len = 16;
        let record = record(&ev).unwrap();
        let field = |name| record.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        assert_eq!(record.op, "log_tamper");
        assert_eq!(field("access"), Some(Value::Str("truncate".into())));
        assert_eq!(field("technique"), Some(Value::Str("T1070.002".into())));
        assert_eq!(field("path"), Some(Value::Bytes(b"/var/log/auth.lo".to_vec())));
        let names: Vec<&str> = (0..8).map(access_name).collect();
        assert_eq!(names, ["unknown", "read", "write", "truncate", "delete", "rename", "link", "unknown"]);
    }

    #[test]
    fn container_escape_records_name_the_technique_and_its_evidence() {
        use sg::sg_escape_via as e;
        let mut ev = sg::sg_detect_event::default();
        ev.hdr.kind = KIND_DETECT;
        ev.hdr.action = sg::sg_action::SG_ACTION_BLOCKED.0;
        ev.detection = sg::sg_detection::SG_DET_CONTAINER_ESCAPE.0;
        ev.arg = e::SG_ESCAPE_MOUNT_DEVICE.0;
        ev.source[..9].copy_from_slice(b"/dev/sda1");
        ev.name[..4].copy_from_slice(b"ext4");
        ev.path[..4].copy_from_slice(b"/mnt");
        ev.path_len = 4;
        let record = record(&ev).unwrap();
        let field = |name| record.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        assert_eq!((record.op, record.level), ("container_escape", Level::Critical));
        assert_eq!(field("technique"), Some(Value::Str("T1611".into())));
        assert_eq!(field("via"), Some(Value::Str("mount_device".into())));
        assert_eq!(field("source"), Some(Value::Bytes(b"/dev/sda1".to_vec())));
        assert_eq!(field("fstype"), Some(Value::Bytes(b"ext4".to_vec())));
        assert_eq!(field("target"), Some(Value::Bytes(b"/mnt".to_vec())));
        assert_eq!(field("path"), None);

        // A host process read through /proc: the ptrace mode rides above the via.
        ev.arg = e::SG_ESCAPE_HOST_PROCESS.0 | 0x09 << 16;
        ev.target_pid = 1;
        ev.target_comm[..4].copy_from_slice(b"init");
        ev.path_len = 0;
        let record = super::record(&ev).unwrap();
        let field = |name| record.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        assert_eq!(field("via"), Some(Value::Str("host_process".into())));
        assert_eq!(field("target_pid"), Some(Value::Uint(1)));
        assert_eq!(field("access"), Some(Value::Str("read".into())));
        assert_eq!(field("source"), None);

        ev.arg = e::SG_ESCAPE_CORE_PATTERN.0;
        ev.path[..29].copy_from_slice(b"/proc/sys/kernel/core_pattern");
        ev.path_len = 29;
        let record = super::record(&ev).unwrap();
        let field = |name| record.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        assert_eq!(field("path"), Some(Value::Bytes(b"/proc/sys/kernel/core_pattern".to_vec())));
        let names: Vec<&str> = (0..12).map(escape_via).collect();
        assert_eq!(names[1..11].iter().filter(|n| **n == "unknown").count(), 0);
        assert_eq!((names[0], names[11]), ("unknown", "unknown"));
    }

    #[test]
    fn records_carry_technique_severity_ancestry_and_evidence() {
        let mut ev = sg::sg_detect_event::default();
        ev.hdr.kind = KIND_DETECT;
        ev.hdr.action = sg::sg_action::SG_ACTION_KILLED.0;
        ev.detection = sg::sg_detection::SG_DET_REVERSE_SHELL.0;
        ev.arg = 1;
        ev.port = 4444;
        ev.family = 2;
        ev.addr[10] = 0xff;
        ev.addr[11] = 0xff;
        ev.addr[12..].copy_from_slice(&[127, 0, 0, 1]);
        ev.exe[..7].copy_from_slice(b"/bin/nc");
        ev.exe_len = 7;
        ev.parent_exe[..8].copy_from_slice(b"/bin/sh\0");
        ev.parent_exe_len = 7;
        ev.path[..7].copy_from_slice(b"/bin/sh");
        ev.path_len = 7;
        let record = record(&ev).unwrap();
        assert_eq!((record.module, record.op), ("detect", "reverse_shell"));
        assert_eq!(record.action.map(|a| a.name()), Some("KILLED"));
        assert_eq!(record.level, Level::Critical);
        let field = |name| record.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        assert_eq!(field("technique"), Some(Value::Str("T1059.004".into())));
        assert_eq!(field("severity"), Some(Value::Str("critical".into())));
        assert_eq!(field("peer_addr"), Some(Value::Str("127.0.0.1".into())));
        assert_eq!(field("peer_port"), Some(Value::Uint(4444)));
        assert_eq!(field("parent_exe"), Some(Value::Bytes(b"/bin/sh".to_vec())));
        assert_eq!(field("grandparent_exe"), Some(Value::Bytes(Vec::new())));
        assert_eq!(field("path"), Some(Value::Bytes(b"/bin/sh".to_vec())));

        ev.detection = 99;
        assert!(super::record(&ev).is_none());
    }
}
