//! The mount module (SPEC section 3.3): mount(2) judged in `lsm/sb_mount` by its
//! source, made absolute and normalized in the kernel, then by what the kernel's own
//! lookup of the source meets (directories searched, /proc magic links followed);
//! move_mount(2) judged in `lsm/move_mount` by the identity of the tree it attaches;
//! a new superblock of a denied type or device refused in `lsm/sb_set_mnt_opts`; a link
//! or rename that would give a denied source a name the rules do not hold refused in
//! `lsm/path_link` and `lsm/path_rename` (mount(2)'s last lookup step has no hook). Every
//! mount gets a record: BLOCKED or MONITOR when `mount.deny` applies, ALLOWED
//! otherwise. Without BPF LSM a kprobe on `path_mount()` judges mount(2), audit-only.
//! Kernel side: bpf/mount.bpf.c; what is and is not covered: README "Mount rules".

pub mod rules;

use anyhow::Context;
use libbpf_rs::skel::OpenSkel;
use libbpf_rs::{MapCore, MapFlags};

use crate::agent::module::{ModuleContext, ModuleState, Prepared};
use crate::agent::runtime::{self, load_only, target_code, Decoder, Program};
use crate::bpf::mount::{MountSkel, MountSkelBuilder, OpenMountSkel};
use crate::bpf::{bytes_of, decode, sg, sized_bytes};
use crate::config::{Mode, MountConfig};
use crate::decode::{event_record, RuleTable, KIND_MOUNT, OP_FSCONFIG, OP_MOUNT_LINK, OP_MOUNT_RENAME, OP_MOVE_MOUNT};
use crate::logging::{Record, Value};
use crate::probe::{Capabilities, Enforcement, HookKind};
use crate::rule_paths::rule_text;
use rules::{CompiledMountRules, MountRule};

pub const NAME: &str = "mount";

const SOURCE_UNRESOLVED: u32 = sg::sg_mount_source_flag::SG_MOUNT_SOURCE_UNRESOLVED.0;
const SOURCE_LOOKUP: u32 = sg::sg_mount_source_flag::SG_MOUNT_SOURCE_LOOKUP.0;

/// The hook table (bpf/mount.bpf.c). mount(2) is judged in sb_mount by its source
/// string, then guarded while the kernel looks the source up (inode_permission,
/// inode_follow_link, until fexit/path_mount); a new superblock in sb_set_mnt_opts
/// (mount(2) and fsconfig); move_mount(2) by identity. Without BPF LSM a kprobe on
/// path_mount() judges mount(2), audit-only.
pub const PROGRAMS: &[Program<&'static str>] = &[
    Program::new("sg_sb_mount", HookKind::Lsm, "sb_mount", &["mount"]),
    Program::new("sg_path_mount", HookKind::Kprobe, "path_mount", &["mount"]),
    Program::new("sg_mount_lookup_dir", HookKind::Lsm, "inode_permission", &["mount"]),
    Program::new("sg_mount_lookup_link", HookKind::Lsm, "inode_follow_link", &["mount"]),
    Program::new("sg_path_mount_exit", HookKind::Function, "path_mount", &["mount"]),
    Program::new("sg_sb_set_mnt_opts", HookKind::Lsm, "sb_set_mnt_opts", &["mount", "fsconfig"]),
    Program::new("sg_move_mount", HookKind::Lsm, "move_mount", &["move_mount"]),
    Program::new("sg_mount_link", HookKind::Lsm, "path_link", &["link"]),
    Program::new("sg_mount_rename", HookKind::Lsm, "path_rename", &["rename"]),
];

/// How the module runs on this kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hooks {
    /// lsm/sb_mount, and lsm/move_mount when `move_mount` is set; the name guard
    /// (path_link, path_rename) when `names` is set, `rename_has_flags` where
    /// path_rename has its flags argument (5.19 and later).
    Lsm { move_mount: bool, names: bool, rename_has_flags: bool },
    /// kprobe/path_mount: audit-only.
    Kprobe,
}

pub fn prepare(config: &MountConfig, caps: &Capabilities, agent_pidns: u32) -> Prepared {
    let mut state = ModuleState::of(config.enable, config.mode, caps);
    let hooks = if caps.enforcement() == Enforcement::Full && caps.hook_present("sb_mount") {
        if !caps.hook_present("move_mount") && state != ModuleState::Off {
            log::warn!("mount: this kernel has no move_mount LSM hook; move_mount(2) is not judged");
        }
        let names = caps.hook_present("path_link") && caps.hook_present("path_rename");
        if !names && state != ModuleState::Off {
            log::warn!("mount: this kernel has no path_link/path_rename LSM hooks (CONFIG_SECURITY_PATH); a rename or a link of a denied source is not judged");
        }
        let rename_has_flags = caps.lsm_hook_arity("path_rename") == Some(5);
        Some(Hooks::Lsm { move_mount: caps.hook_present("move_mount"), names, rename_has_flags })
    } else if caps.hook_present("path_mount") {
        if state != ModuleState::Off {
            log::warn!("mount: audit-only through a kprobe on path_mount(); move_mount(2) is not seen");
            state = ModuleState::AuditOnly;
        }
        Some(Hooks::Kprobe)
    } else {
        if state != ModuleState::Off {
            log::warn!(
                "mount: no BPF LSM, and this kernel takes no kprobe on path_mount() (no kprobe PMU, no tracefs); off"
            );
        }
        state = ModuleState::Off;
        None
    };
    let mut config = config.clone();
    runtime::prepare(state, move || {
        let hooks = hooks.context("mount: no usable hook")?;
        let mut rules = compile(&config);
        let texts = crate::decode::rule_texts(std::mem::take(&mut rules.texts));
        // Compiled: the module needs no second copy of the rules (the agent keeps the
        // config for reloads).
        config.deny = Vec::new();
        Ok(Mount { rules, texts, config, hooks, agent_pidns })
    })
}

struct Mount {
    config: MountConfig,
    hooks: Hooks,
    agent_pidns: u32,
    /// Without its texts (`texts`, shared with the decoder and the rule hits); its
    /// tables are dropped once the maps are filled.
    rules: CompiledMountRules,
    texts: crate::decode::RuleTexts,
}

fn compile(config: &MountConfig) -> CompiledMountRules {
    let rules: Vec<MountRule<'_>> =
        config.deny.iter().map(|entry| MountRule { source: &entry.value, text: rule_text(&entry.text) }).collect();
    for entry in &config.deny {
        if let crate::config::MountSource::Path(path) = &entry.value {
            if rules::identify_on_host(path).is_none() {
                log::warn!("mount: {path} does not exist; matched by path only (not in move_mount(2)) until the agent restarts");
            }
        }
    }
    rules::compile(&rules, rules::identify_on_host)
}

impl runtime::Module for Mount {
    const NAME: &'static str = NAME;
    /// Mounts are rare.
    const RING_BYTES: u32 = 256 << 10;
    const NEEDS_A_PROGRAM: bool = true;
    type Skel = MountSkelBuilder;

    fn configure(&self, open: &mut OpenMountSkel<'_>) -> anyhow::Result<()> {
        let rules = &self.rules;
        let rodata = open.maps.rodata_data.as_deref_mut().context("mount: no rodata")?;
        rodata.sg_target = target_code(self.config.target);
        rodata.sg_agent_pidns = self.agent_pidns;
        rodata.sg_block = u32::from(self.config.mode == Mode::Block && matches!(self.hooks, Hooks::Lsm { .. }));
        rodata.sg_have_paths = u32::from(rules.has_paths());
        // Mounts are rare: each one is recorded while the module is on.
        rodata.sg_log_allowed = 1;

        let size = |n: usize| n.max(1) as u32;
        open.maps.sg_path_rules.set_max_entries(size(rules.paths.len()))?;
        open.maps.sg_inode_rules.set_max_entries(size(rules.inodes.len()))?;
        open.maps.mount_names.set_max_entries(size(rules.names.len()))?;

        let (lsm, move_mount, names) = match self.hooks {
            Hooks::Lsm { move_mount, names, rename_has_flags } => {
                rodata.sg_rename_has_flags = u32::from(rename_has_flags);
                (true, move_mount, names)
            }
            Hooks::Kprobe => (false, false, false),
        };
        // The lookup guard (bpf/mount.bpf.c): its end and every new superblock always,
        // the lookup hooks only where a path rule can apply (inode_permission runs for
        // every directory of every path lookup on the host).
        load_only(open.open_object_mut(), |program| match program {
            "sg_move_mount" => move_mount,
            "sg_path_mount" => !lsm,
            "sg_mount_lookup_dir" | "sg_mount_lookup_link" => lsm && rules.has_paths(),
            // the name guard keeps the path table true: only where it has paths
            "sg_mount_link" | "sg_mount_rename" => names && rules.has_paths(),
            _ => lsm, // sg_sb_mount, sg_path_mount_exit, sg_sb_set_mnt_opts
        });
        Ok(())
    }

    fn fill(&mut self, skel: &MountSkel<'_>, _ctx: &ModuleContext) -> anyhow::Result<()> {
        let (rules, maps) = (&self.rules, &skel.maps);
        for (key, value) in &rules.paths {
            maps.sg_path_rules.update(bytes_of(key), bytes_of(value), MapFlags::ANY).context("mount: path rules")?;
        }
        for (key, value) in &rules.inodes {
            maps.sg_inode_rules.update(bytes_of(key), bytes_of(value), MapFlags::ANY).context("mount: inode rules")?;
        }
        for (key, value) in &rules.names {
            maps.mount_names.update(bytes_of(key), bytes_of(value), MapFlags::ANY).context("mount: name rules")?;
        }
        // The maps hold the tables now: only the texts are needed (records, rule hits).
        let rules = &mut self.rules;
        (rules.paths, rules.inodes, rules.names) = (Vec::new(), Vec::new(), Vec::new());
        Ok(())
    }

    fn rule_names(&self) -> crate::agent::hits::RuleNames {
        RuleTable { texts: self.texts.clone(), not_allowed: "".into() }.names()
    }

    fn decoder(&self) -> Decoder {
        let rules = RuleTable { texts: self.texts.clone(), not_allowed: "".into() };
        Box::new(move |data, ctx| match decode::<sg::sg_mount_event>(data) {
            Some(ev) if ev.hdr.kind == KIND_MOUNT => ctx.send(record(&ev, &rules)),
            _ => ctx.malformed("mount event", data.len()),
        })
    }
}

fn record(ev: &sg::sg_mount_event, rules: &RuleTable) -> Record {
    let hdr = &ev.hdr;
    let move_mount = hdr.op == OP_MOVE_MOUNT;
    let fsconfig = hdr.op == OP_FSCONFIG;
    let name_guard = hdr.op == OP_MOUNT_LINK || hdr.op == OP_MOUNT_RENAME;
    let op = match hdr.op {
        OP_MOVE_MOUNT => "move_mount",
        OP_FSCONFIG => "fsconfig",
        OP_MOUNT_LINK => "link",
        OP_MOUNT_RENAME => "rename",
        _ => "mount",
    };
    let exe = Value::Bytes(sized_bytes(&ev.exe, ev.exe_len).to_vec());
    let mut record = event_record(hdr, NAME, op, rules, exe);
    let bytes = |field: &[u8], len: u32| Value::Bytes(sized_bytes(field, len).to_vec());
    record.fields.push(("source", bytes(&ev.source, ev.source_len)));
    if ev.source_path_len > 0 {
        record.fields.push(("source_path", bytes(&ev.source_path, ev.source_path_len)));
    }
    if ev.mount_flags & SOURCE_UNRESOLVED != 0 {
        record.fields.push(("source_unresolved", Value::Bool(true)));
    }
    if ev.mount_flags & SOURCE_LOOKUP != 0 {
        record.fields.push(("source_lookup", Value::Bool(true)));
    }
    if move_mount || fsconfig || name_guard || ev.source_dev != 0 {
        let dev = ev.source_dev;
        record.fields.push(("source_dev", Value::Str(format!("{}:{}", dev >> 20, dev & 0xfffff))));
        record.fields.push(("source_ino", Value::Uint(ev.source_ino)));
    }
    if !fsconfig {
        record.fields.push(("target", bytes(&ev.target, ev.target_len)));
    }
    if ev.fstype_len > 0 {
        record.fields.push(("fstype", bytes(&ev.fstype, ev.fstype_len)));
    }
    if name_guard {
        // a link or rename: the new name is `target`; no mount class or flags
        return record;
    }
    record.fields.push(("kind", Value::Str(class_name(ev.mount_class).into())));
    if !move_mount && !fsconfig {
        record.fields.push(("flags", Value::List(flag_names(ev.flags).into_iter().map(Value::Str).collect())));
    }
    record
}

/// enum sg_mount_class (bpf/safeguard.h).
fn class_name(class: u32) -> &'static str {
    use sg::sg_mount_class as c;
    let names = [
        (c::SG_MOUNT_NEW, "new"),
        (c::SG_MOUNT_BIND, "bind"),
        (c::SG_MOUNT_MOVE, "move"),
        (c::SG_MOUNT_REMOUNT, "remount"),
        (c::SG_MOUNT_PROPAGATION, "propagation"),
    ];
    names.iter().find(|(code, _)| code.0 == class).map_or("unknown", |&(_, name)| name)
}

/// mount(2) flags (include/uapi/linux/mount.h) by name; unknown bits in hex.
const MS_NAMES: &[(u64, &str)] = &[
    (1, "rdonly"),
    (2, "nosuid"),
    (4, "nodev"),
    (8, "noexec"),
    (16, "sync"),
    (32, "remount"),
    (64, "mandlock"),
    (128, "dirsync"),
    (256, "nosymfollow"),
    (1024, "noatime"),
    (2048, "nodiratime"),
    (4096, "bind"),
    (8192, "move"),
    (16384, "rec"),
    (32768, "silent"),
    (1 << 16, "posixacl"),
    (1 << 17, "unbindable"),
    (1 << 18, "private"),
    (1 << 19, "slave"),
    (1 << 20, "shared"),
    (1 << 21, "relatime"),
    (1 << 22, "kernmount"),
    (1 << 23, "iversion"),
    (1 << 24, "strictatime"),
    (1 << 25, "lazytime"),
];

fn flag_names(flags: u64) -> Vec<String> {
    let mut names: Vec<String> =
        MS_NAMES.iter().filter(|&&(bit, _)| flags & bit != 0).map(|&(_, name)| name.to_string()).collect();
    let known = MS_NAMES.iter().fold(0, |all, &(bit, _)| all | bit);
    if flags & !known != 0 {
        names.push(format!("{:#x}", flags & !known));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_by_name() {
        assert_eq!(flag_names(4096 | 16384 | 1), ["rdonly", "bind", "rec"]);
        assert_eq!(flag_names(0), Vec::<String>::new());
        assert_eq!(flag_names(1 << 30 | 2), ["nosuid", "0x40000000"]);
    }

    #[test]
    fn a_blocked_bind_becomes_a_record() {
        let mut ev = sg::sg_mount_event::default();
        ev.hdr.kind = KIND_MOUNT;
        ev.hdr.op = crate::decode::OP_MOUNT;
        ev.hdr.action = sg::sg_action::SG_ACTION_BLOCKED.0;
        ev.hdr.rule_id = 1;
        ev.mount_class = sg::sg_mount_class::SG_MOUNT_BIND.0;
        ev.flags = 4096;
        ev.source[..5].copy_from_slice(b"./x\xff/");
        ev.source_len = 5;
        ev.source_path[..6].copy_from_slice(b"/run/x");
        ev.source_path_len = 6;
        ev.target[..4].copy_from_slice(b"/mnt");
        ev.target_len = 4;
        let rules = RuleTable { texts: ["/run/x".into()].into(), not_allowed: "".into() };
        let rec = record(&ev, &rules);
        assert_eq!((rec.module, rec.op, rec.rule.as_deref()), ("mount", "mount", Some("/run/x")));
        let field = |name: &str| rec.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        assert_eq!(field("source"), Some(Value::Bytes(b"./x\xff/".to_vec())));
        assert_eq!(field("source_path"), Some(Value::Bytes(b"/run/x".to_vec())));
        assert_eq!(field("target"), Some(Value::Bytes(b"/mnt".to_vec())));
        assert_eq!(field("kind"), Some(Value::Str("bind".into())));
        assert_eq!(field("flags"), Some(Value::List(vec![Value::Str("bind".into())])));
        assert_eq!(field("fstype"), None);
        assert_eq!(field("source_dev"), None);
    }

    #[test]
    fn a_refused_rename_becomes_a_record_without_mount_fields() {
        let mut ev = sg::sg_mount_event::default();
        ev.hdr.kind = KIND_MOUNT;
        ev.hdr.op = OP_MOUNT_RENAME;
        ev.hdr.action = sg::sg_action::SG_ACTION_BLOCKED.0;
        ev.hdr.rule_id = 1;
        ev.source[..6].copy_from_slice(b"/run/x");
        ev.source_len = 6;
        ev.target[..6].copy_from_slice(b"/run/y");
        ev.target_len = 6;
        ev.source_dev = 8 << 20 | 1;
        ev.source_ino = 7;
        let rules = RuleTable { texts: ["/run/x".into()].into(), not_allowed: "".into() };
        let rec = record(&ev, &rules);
        assert_eq!((rec.module, rec.op, rec.rule.as_deref()), ("mount", "rename", Some("/run/x")));
        let field = |name: &str| rec.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        assert_eq!(field("source"), Some(Value::Bytes(b"/run/x".to_vec())));
        assert_eq!(field("target"), Some(Value::Bytes(b"/run/y".to_vec())));
        assert_eq!(field("source_dev"), Some(Value::Str("8:1".into())));
        assert_eq!(field("source_ino"), Some(Value::Uint(7)));
        assert_eq!((field("kind"), field("flags")), (None, None));
        ev.hdr.op = OP_MOUNT_LINK;
        assert_eq!(record(&ev, &rules).op, "link");
        assert_eq!(crate::decode::op_name(OP_MOUNT_LINK), "link");
    }
}
