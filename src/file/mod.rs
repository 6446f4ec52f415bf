//! The file module (SPEC section 3.1): every file operation judged in an LSM hook
//! (bpf/file.bpf.c) against rules flattened into nodes (rules.rs). Without BPF LSM
//! (the degraded mode) the same judgement runs audit-only, in fentry programs on the
//! security_*() functions that call the hooks.

pub mod rules;

use std::cell::Cell;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use anyhow::Context;
use libbpf_rs::skel::OpenSkel;
use libbpf_rs::{MapCore, MapFlags};

use crate::agent::module::{ModuleContext, ModuleState, Prepared};
use crate::agent::runtime::{self, target_code, Decoder as RingDecoder, Program};
use crate::bpf::file::{FileSkel, FileSkelBuilder, OpenFileSkel};
use crate::bpf::{bytes_of, sg};
use crate::config::{FileConfig, FileOp, Mode, Op};
use crate::decode::{event_record, FileEvent, RuleTable, KIND_FILE};
use crate::logging::{Recent, Value};
use crate::probe::{Capabilities, Enforcement, HookKind};
use crate::rule_paths::{
    identify_on_host, inode_filter, kernel_dev, mounts_now, overlay_layer_paths, overlay_work_dirs, path_key, Identity,
};
use rules::{op_bit, CompiledFileRules};

pub const NAME: &str = "file";

/// The hooks and the ops each serves (LSM hook name, ops). `file_truncate` (6.2+)
/// takes over ftruncate() from `path_truncate`, which older kernels call for it;
/// `inode_setattr` judges times, and stands in for `path_chown` where that cannot
/// attach (before 6.1). `inode_set_acl` and `inode_remove_acl` (6.2+) take ACLs over
/// from the xattr hooks; `file_ioctl_compat` (6.8+) takes 32-bit callers' ioctls over
/// from `file_ioctl` (inode flags, chattr). A rename judges the file it replaces (write, delete) and a
/// new name (create); a truncation is a write too.
const OPTIONAL_HOOKS: &[&str] = &["file_truncate", "inode_set_acl", "inode_remove_acl", "file_ioctl_compat"];
/// `sg_<hook>` serves the hook in the LSM; its twin `sg_audit_<hook>` (fentry on
/// security_<hook>()) serves it audit-only; a hook of PROTOTYPES has one program per
/// prototype. The last four are the name-following hooks, which serve no op.
macro_rules! hook {
    ($kind:ident, $hook:literal, [$($op:ident),*]) => {
        Program { name: concat!("sg_", $hook), kind: HookKind::$kind, hook: $hook, ops: &[$(FileOp::$op),*] }
    };
}
/// `sg_ovl_<name>`: the overlayfs programs, beside the hook's own (see `loads`).
macro_rules! ovl {
    ($name:literal, $hook:literal, [$($op:ident),*]) => {
        Program { name: concat!("sg_ovl_", $name), kind: HookKind::Lsm, hook: $hook, ops: &[$(FileOp::$op),*] }
    };
}
pub const PROGRAMS: &[Program<FileOp>] = &[
    hook!(Lsm, "file_open", [Read, Write, Exec]),
    hook!(Lsm, "mmap_file", [Mmap, Exec]),
    hook!(Lsm, "file_mprotect", [Mmap, Exec]),
    hook!(Lsm, "path_mknod", [Create]),
    hook!(Lsm, "path_mkdir", [Create]),
    hook!(Lsm, "path_symlink", [Create]),
    hook!(Lsm, "path_unlink", [Delete]),
    hook!(Lsm, "path_rmdir", [Delete]),
    hook!(Lsm, "path_rename", [Rename, Write, Delete, Create]),
    hook!(Lsm, "path_link", [Link, Create]),
    hook!(Lsm, "path_chmod", [Chmod]),
    hook!(Lsm, "path_chown", [Chown]),
    hook!(Lsm, "path_truncate", [Setattr, Write]),
    hook!(Lsm, "file_truncate", [Setattr, Write]),
    hook!(Lsm, "inode_setattr", [Setattr, Chown]),
    hook!(Lsm, "inode_setxattr", [Setattr, Chmod]),
    hook!(Lsm, "inode_removexattr", [Setattr, Chmod]),
    hook!(Lsm, "inode_set_acl", [Setattr, Chmod]),
    hook!(Lsm, "inode_remove_acl", [Setattr, Chmod]),
    hook!(Lsm, "file_ioctl", [Setattr]),
    hook!(Lsm, "file_ioctl_compat", [Setattr]),
    hook!(Lsm, "d_instantiate", []),
    hook!(Lsm, "inode_free_security", []),
    hook!(Function, "d_move", []),
    hook!(Function, "d_exchange", []),
    // The real file behind an overlayfs file (bpf/file/overlay.h): a second program
    // on these hooks; on mprotect only before 6.8 (see `loads`; the open is judged in
    // sg_file_open there).
    ovl!("mmap_file", "mmap_file", [Mmap, Exec]),
    ovl!("file_mprotect", "file_mprotect", [Mmap, Exec]),
    // overlayfs's own changes to its upper layer, which reach only the inode hooks
    // (every kernel).
    ovl!("inode_create", "inode_create", [Create]),
    ovl!("inode_mkdir", "inode_mkdir", [Create]),
    ovl!("inode_mknod", "inode_mknod", [Create]),
    ovl!("inode_symlink", "inode_symlink", [Create]),
    ovl!("inode_unlink", "inode_unlink", [Delete]),
    ovl!("inode_rmdir", "inode_rmdir", [Delete]),
    ovl!("inode_rename", "inode_rename", [Rename, Write, Delete, Create]),
    ovl!("inode_link", "inode_link", [Link, Create]),
    ovl!("inode_setattr", "inode_setattr", [Chmod, Chown, Setattr, Write]),
    ovl!("inode_setattr_idmap", "inode_setattr", [Chmod, Chown, Setattr, Write]),
];

/// Hooks whose prototype changed between kernels: (program name without `sg_` and
/// `audit_`, hook, parameter count). Each has one program per prototype and the
/// agent loads the one this kernel's BTF has: inode_setattr gained an idmap in 6.3,
/// the xattr hooks a user namespace in 5.12 (an idmap from 6.3).
const PROTOTYPES: &[(&str, &str, usize)] = &[
    ("inode_setattr", "inode_setattr", 2),
    ("inode_setattr_idmap", "inode_setattr", 3),
    ("inode_setxattr", "inode_setxattr", 5),
    ("inode_setxattr_idmap", "inode_setxattr", 6),
    ("inode_removexattr", "inode_removexattr", 2),
    ("inode_removexattr_idmap", "inode_removexattr", 3),
];

/// The hooks that make rule paths follow their names (bpf/file.bpf.c, follow_name):
/// binding an inode to a name (create, link, lookup), rename, exchange; and the
/// end of a deleted inode, which frees its identity. They serve no op.
fn follows_names(hook: &str) -> bool {
    PROGRAMS.iter().any(|p| p.hook == hook && p.ops.is_empty())
}

/// Programs that are fentry in both modes (no LSM hook stands for these functions).
fn fentry_only(hook: &str) -> bool {
    PROGRAMS.iter().any(|p| p.hook == hook && p.kind == HookKind::Function)
}

/// Room for identities the kernel adds while the agent runs (new inodes of rule
/// paths); entries of deleted files are freed, so this bounds the live ones.
const RUNTIME_IDENTITIES: usize = 16_384;

/// The hook a program serves when its prototype is this kernel's, and whether it is
/// the audit-only twin (`sg_audit_*`: fentry on security_<hook>(), for the degraded
/// mode). A hook of PROTOTYPES has one program per prototype; `arity` gives the
/// hook's parameter count in this kernel's BTF.
fn program_hook(program: &str, arity: impl Fn(&str) -> Option<usize>) -> Option<(&str, bool)> {
    let name = program.trim_start_matches("sg_");
    let (name, audit) = match name.strip_prefix("audit_") {
        Some(rest) => (rest, true),
        None => (name, false),
    };
    match PROTOTYPES.iter().find(|&&(program, _, _)| program == name) {
        Some(&(_, hook, params)) => (arity(hook) == Some(params)).then_some((hook, audit)),
        None => Some((name, audit)),
    }
}

/// The ops a hook judges here: inode_setattr judges chown only where path_chown is
/// missing, so that no chown is judged twice.
fn hook_ops(hook: &str, have_path_chown: bool) -> u32 {
    PROGRAMS
        .iter()
        .filter(|p| p.hook == hook && !p.name.starts_with("sg_ovl_"))
        .flat_map(|p| p.ops.iter())
        .filter(|&&op| !(hook == "inode_setattr" && op == FileOp::Chown && have_path_chown))
        .fold(0, |mask, &op| mask | op_bit(op))
}

/// How many directory entries the agent reads at start to find files with other
/// hard links under the rules' directories.
const LINK_SCAN_BUDGET: usize = 200_000;

pub fn prepare(config: &FileConfig, caps: &Capabilities, agent_pidns: u32) -> Prepared {
    let mut state = ModuleState::of(config.enable, config.mode, caps);
    let audit_only = caps.enforcement() != Enforcement::Full;
    if state != ModuleState::Off && audit_only {
        match &caps.fentry_attach {
            Ok(()) => log::warn!("file: audit-only through fentry on the security_*() functions (no BPF LSM)"),
            Err(err) => {
                log::warn!("file: no BPF LSM, and this kernel refuses fentry programs ({err}); off");
                state = ModuleState::Off;
            }
        }
    }
    let config = config.clone();
    let hooks: Vec<&'static str> = PROGRAMS
        .iter()
        .map(|p| p.hook)
        .filter(|hook| caps.hook_present(hook))
        .filter(|hook| !audit_only || fentry_only(hook) || caps.security_function_arity(hook).is_some())
        .collect();
    // The fentry twin's prototype is security_<hook>()'s, which differs from the
    // hook's for inode_setattr on 5.12 to 6.2 (a user namespace first).
    let arities: Vec<(&'static str, Option<usize>)> = PROTOTYPES
        .iter()
        .map(|&(_, hook, _)| {
            let arity = if audit_only { caps.security_function_arity(hook) } else { caps.lsm_hook_arity(hook) };
            (hook, arity)
        })
        .collect();
    // path_rename gained a flags argument (RENAME_EXCHANGE) in 5.19.
    let rename_has_flags = caps.lsm_hook_arity("path_rename") == Some(5);
    let overlay_fake_path = caps.overlay_fake_path;
    runtime::prepare(state, move || {
        File::new(config, hooks, arities, rename_has_flags, overlay_fake_path, audit_only, agent_pidns)
    })
}

struct File {
    config: FileConfig,
    /// The LSM hooks this kernel has.
    hooks: Vec<&'static str>,
    /// Parameters of each hook of PROTOTYPES in this kernel (for its fentry twin's
    /// function in audit-only mode).
    arities: Vec<(&'static str, Option<usize>)>,
    /// The path_rename hook has its flags argument (5.19+).
    rename_has_flags: bool,
    /// overlayfs opens real files with the overlay's path (before 6.8): the
    /// `sg_ovl_*` programs judge the real file too.
    overlay_fake_path: bool,
    /// No BPF LSM: the fentry twins, which cannot refuse.
    audit_only: bool,
    agent_pidns: u32,
    /// Without its texts (`texts`, shared with the decoder and the rule hits); its
    /// tables are dropped once the maps are filled.
    rules: CompiledFileRules,
    texts: crate::decode::RuleTexts,
    /// The mounts present at start, when an op is allow-listed.
    mounts: Vec<sg::sg_mount_key>,
    /// overlayfs's work directories at start, when a rule denies (bpf/common.bpf.h).
    work_dirs: Vec<sg::sg_inode_key>,
}

impl File {
    fn new(
        mut config: FileConfig,
        hooks: Vec<&'static str>,
        arities: Vec<(&'static str, Option<usize>)>,
        rename_has_flags: bool,
        overlay_fake_path: bool,
        audit_only: bool,
        agent_pidns: u32,
    ) -> anyhow::Result<File> {
        let budget = Cell::new(LINK_SCAN_BUDGET);
        let mut rules =
            rules::compile(&config, identify_on_host, |dir| linked_files(dir, &budget), overlay_layer_paths)?;
        let texts = crate::decode::rule_texts(std::mem::take(&mut rules.texts));
        // Compiled: the module needs no second copy of the rules (the agent keeps the
        // config for reloads).
        (config.allow, config.deny, config.audit) = (Vec::new(), Vec::new(), Vec::new());
        if budget.get() == 0 {
            log::warn!("file: stopped looking for hard-linked files after {LINK_SCAN_BUDGET} entries");
        }
        for path in &rules.missing {
            log::warn!(
                "file: rule path {path} does not exist; it is matched by path until the agent restarts, and \
                 by identity once created where its directory exists"
            );
        }
        // Allow rules reach files only through the mounts present now (bpf/common.bpf.h).
        let mounts = if rules.ops_allowlisted == 0 { Vec::new() } else { mounts_now() };
        let work_dirs = if rules.have_deny { overlay_work_dirs() } else { Vec::new() };
        Ok(File {
            config,
            hooks,
            arities,
            rename_has_flags,
            overlay_fake_path,
            audit_only,
            agent_pidns,
            rules,
            texts,
            mounts,
            work_dirs,
        })
    }

    /// Parameters of a hook of PROTOTYPES in this kernel.
    fn arity(&self, hook: &str) -> Option<usize> {
        self.arities.iter().find(|&&(name, _)| name == hook).and_then(|&(_, arity)| arity)
    }

    fn ops_enabled(&self) -> u32 {
        self.config.ops.iter().map(|&op| op_bit(op)).fold(0, |a, b| a | b)
    }
}

/// Regular files with more than one link under `dir` (same filesystem, no symlinks
/// followed), within a shared budget of directory entries.
fn linked_files(dir: &str, budget: &Cell<usize>) -> Vec<(String, Identity)> {
    let mut found = Vec::new();
    let Ok(top) = std::fs::metadata(dir) else { return found };
    if !top.is_dir() {
        return found;
    }
    let mut pending = vec![std::path::PathBuf::from(dir)];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else { continue };
        for entry in entries.flatten() {
            if budget.get() == 0 {
                return found;
            }
            budget.set(budget.get() - 1);
            let Ok(meta) = entry.metadata() else { continue };
            if meta.dev() != top.dev() {
                continue;
            }
            let file_type = meta.file_type();
            if file_type.is_dir() {
                pending.push(entry.path());
            } else if (file_type.is_file() || file_type.is_block_device()) && meta.nlink() > 1 {
                let path = entry.path().to_string_lossy().into_owned();
                let identity = Identity { dev: kernel_dev(meta.dev()), ino: meta.ino(), canonical: path.clone() };
                found.push((path, identity));
            }
        }
    }
    found
}

impl runtime::Module for File {
    const NAME: &'static str = NAME;
    /// Audit rules on busy files make the most records of any module. A burst of
    /// 100,000 audited opens was taken whole with half of this (bench-audit, 1 MiB,
    /// one vCPU, 6.1 and 6.12).
    const RING_BYTES: u32 = 2 << 20;
    type Skel = FileSkelBuilder;

    fn configure(&self, open: &mut OpenFileSkel<'_>) -> anyhow::Result<()> {
        let (config, rules) = (&self.config, &self.rules);
        let rodata = open.maps.rodata_data.as_deref_mut().context("file: no rodata")?;
        rodata.sg_target = target_code(config.target);
        rodata.sg_agent_pidns = self.agent_pidns;
        rodata.sg_agent_tgid = std::process::id();
        rodata.sg_agent_start = crate::agent::persist::own_start_ticks().context("file: the agent's start time")?;
        rodata.sg_init_nsproxy = crate::rule_paths::init_nsproxy_address();
        rodata.sg_block = u32::from(config.mode == Mode::Block && !self.audit_only);
        rodata.sg_overlay_fake_path = u32::from(self.overlay_fake_path);
        rodata.sg_ops_enabled = self.ops_enabled();
        rodata.sg_ops_ruled = rules.ops_ruled;
        rodata.sg_ops_allowlisted = rules.ops_allowlisted;
        rodata.sg_have_deny = u32::from(rules.have_deny);
        rodata.sg_need_path = u32::from(rules.need_path);
        rodata.sg_have_selectors = u32::from(!rules.selector_rules.is_empty());
        rodata.sg_uid_any = rules.uid_any;
        rodata.sg_gid_any = rules.gid_any;
        rodata.sg_command_any = rules.command_any;
        rodata.sg_mount_check = u32::from(rules.ops_allowlisted != 0);
        let have_path_chown = self.hooks.contains(&"path_chown");
        rodata.sg_chown_in_setattr = u32::from(!have_path_chown);
        rodata.sg_rename_has_flags = u32::from(self.rename_has_flags);

        let size = |n: usize| n.max(1) as u32;
        open.maps.nodes.set_max_entries(size(rules.nodes.len()))?;
        // Identities given at run time: rule paths' new inodes (names.h), files overlayfs
        // moves into its work directories (overlay.h).
        let runtime = if rules.names.is_empty() && self.work_dirs.is_empty() { 0 } else { RUNTIME_IDENTITIES };
        open.maps.sg_inode_rules.set_max_entries(size(rules.inodes.len() + runtime))?;
        open.maps.rule_names.set_max_entries(size(rules.names.len()))?;
        open.maps.rule_parents.set_max_entries(size(rules.name_parents.len()))?;
        open.maps.sg_path_rules.set_max_entries(size(rules.paths.len()))?;
        open.maps.sg_mounts.set_max_entries(size(self.mounts.len()))?;
        open.maps.sg_ovl_work_dirs.set_max_entries(size(self.work_dirs.len()))?;
        open.maps.uid_selectors.set_max_entries(size(rules.uid_selectors.len()))?;
        open.maps.gid_selectors.set_max_entries(size(rules.gid_selectors.len()))?;
        open.maps.comm_selectors.set_max_entries(size(rules.comm_selectors.len()))?;
        open.maps.exe_selectors.set_max_entries(size(rules.exe_selectors.len()))?;

        for &(_, hook, _) in PROTOTYPES.iter().filter(|&&(program, hook, _)| program == hook) {
            let known = PROTOTYPES.iter().any(|&(_, h, params)| h == hook && self.arity(hook) == Some(params));
            if self.hooks.contains(&hook) && !known {
                log::warn!(
                    "file: {hook} takes {:?} parameters on this kernel (a prototype not known here); its \
                     operations are not judged there",
                    self.arity(hook)
                );
            }
        }
        for mut prog in open.open_object_mut().progs_mut() {
            let on = self.loads(&prog.name().to_string_lossy(), have_path_chown);
            prog.set_autoload(on);
        }
        Ok(())
    }

    fn fill(&mut self, skel: &FileSkel<'_>, _ctx: &ModuleContext) -> anyhow::Result<()> {
        let maps = &skel.maps;
        let update = |map: &dyn MapCore, key: &[u8], value: &[u8], what: &str| {
            map.update(key, value, MapFlags::ANY).with_context(|| format!("file: fill {what}"))
        };
        // The two big tables are let go as soon as the kernel holds them, before the
        // next one fills (the start's peak with many rules, issue 20).
        for (index, node) in std::mem::take(&mut self.rules.nodes).iter().enumerate() {
            update(&maps.nodes, &(index as u32).to_ne_bytes(), bytes_of(node), "nodes")?;
        }
        for (path, value) in std::mem::take(&mut self.rules.paths) {
            let key = path_key(&path).context("file: a rule path longer than the path table's key")?;
            update(&maps.sg_path_rules, bytes_of(&key), bytes_of(&value), "paths")?;
        }
        let rules = &self.rules;
        for (key, value) in &rules.inodes {
            update(&maps.sg_inode_rules, bytes_of(key), bytes_of(value), "identities")?;
        }
        update(&maps.inode_filter, &0u32.to_ne_bytes(), &inode_filter(&rules.inodes), "identity filter")?;
        for (key, value) in &rules.names {
            update(&maps.rule_names, bytes_of(key), bytes_of(value), "rule names")?;
        }
        for key in &rules.name_parents {
            update(&maps.rule_parents, bytes_of(key), &0u32.to_ne_bytes(), "rule name parents")?;
        }
        for key in &self.mounts {
            update(&maps.sg_mounts, bytes_of(key), &0u32.to_ne_bytes(), "mounts")?;
        }
        for key in &self.work_dirs {
            update(&maps.sg_ovl_work_dirs, bytes_of(key), &0u32.to_ne_bytes(), "overlay work directories")?;
        }
        for (index, rule) in rules.selector_rules.iter().enumerate() {
            update(&maps.selector_rules, &(index as u32).to_ne_bytes(), bytes_of(rule), "selector rules")?;
        }
        for (uid, mask) in &rules.uid_selectors {
            update(&maps.uid_selectors, &uid.to_ne_bytes(), &mask.to_ne_bytes(), "uid selectors")?;
        }
        for (gid, mask) in &rules.gid_selectors {
            update(&maps.gid_selectors, &gid.to_ne_bytes(), &mask.to_ne_bytes(), "gid selectors")?;
        }
        for (comm, mask) in &rules.comm_selectors {
            update(&maps.comm_selectors, comm, &mask.to_ne_bytes(), "command selectors")?;
        }
        for (key, mask) in &rules.exe_selectors {
            update(&maps.exe_selectors, bytes_of(key), &mask.to_ne_bytes(), "command selectors")?;
        }
        self.rules.drop_tables();
        (self.mounts, self.work_dirs) = (Vec::new(), Vec::new());
        Ok(())
    }

    fn rule_names(&self) -> crate::agent::hits::RuleNames {
        RuleTable { texts: self.texts.clone(), not_allowed: "not in file.allow".into() }.names()
    }

    fn decoder(&self) -> RingDecoder {
        let rules = RuleTable { texts: self.texts.clone(), not_allowed: "not in file.allow".into() };
        let mut decoder = Decoder { rules, exe: Recent::default() };
        Box::new(move |data, ctx| decoder.handle(data, ctx))
    }
}

impl File {
    /// Whether a program loads: only the hooks whose ops are enabled, spoken of by a
    /// rule, and present, each through the program whose prototype this kernel has.
    fn loads(&self, program: &str, have_path_chown: bool) -> bool {
        if program.starts_with("sg_ovl_") {
            let wanted = self.ops_enabled() & self.rules.ops_ruled;
            return !self.audit_only
                && ovl_loads(
                    program,
                    self.overlay_fake_path,
                    |hook| self.arity(hook),
                    wanted,
                    |hook| self.hooks.contains(&hook),
                );
        }
        let rules = &self.rules;
        let Some((hook, audit)) = program_hook(program, |hook| self.arity(hook)) else {
            return false; // the other prototype's program
        };
        if audit != self.audit_only && !fentry_only(hook) {
            return false; // the other mode's twin
        }
        if follows_names(hook) {
            let on = !rules.names.is_empty() && self.hooks.contains(&hook);
            if !on && !rules.names.is_empty() {
                log::warn!(
                    "file: this kernel has no {hook} hook; rule paths may not follow their names (README, File rules)"
                );
            }
            return on;
        }
        let wanted = self.ops_enabled() & rules.ops_ruled;
        let serves = hook_ops(hook, have_path_chown);
        let on = serves & wanted != 0 && self.hooks.contains(&hook);
        let stood_in = hook == "path_chown" && !have_path_chown;
        if !on && serves & wanted != 0 && !OPTIONAL_HOOKS.contains(&hook) && !stood_in {
            log::warn!("file: this kernel has no {hook} hook; its operations are not covered");
        }
        on
    }
}

/// Whether an `sg_ovl_*` program loads (LSM mode only). Beside the program judging the
/// overlay's path: the real file on mprotect only where the kernel hides it
/// behind the overlay's path (before 6.8, `fake_path`); mappings (an overlay's maps its
/// real file, which mmap_file never sees) and overlayfs's own changes to its upper
/// layer (the inode hooks) on every kernel, each through the program whose prototype
/// this kernel has, where an op it serves is `wanted`.
fn ovl_loads(
    program: &str,
    fake_path: bool,
    arity: impl Fn(&str) -> Option<usize>,
    wanted: u32,
    has_hook: impl Fn(&str) -> bool,
) -> bool {
    let Some(p) = PROGRAMS.iter().find(|p| p.name == program) else { return false };
    if matches!(p.hook, "file_open" | "file_mprotect") && !fake_path {
        return false;
    }
    let Some(rest) = program.strip_prefix("sg_ovl_") else { return false };
    if program_hook(&format!("sg_{rest}"), arity).is_none() {
        return false; // the other prototype's program
    }
    let serves = p.ops.iter().fold(0, |mask, &op| mask | op_bit(op));
    serves & wanted != 0 && has_hook(p.hook)
}

struct Decoder {
    rules: RuleTable,
    /// The last executable, shared by the records that repeat it.
    exe: Recent,
}

impl Decoder {
    fn handle(&mut self, data: &[u8], ctx: &ModuleContext) {
        let Some(ev) = FileEvent::read(data) else {
            return ctx.malformed("file event", data.len());
        };
        if ev.hdr.kind != KIND_FILE {
            return ctx.malformed("file event kind", data.len());
        }
        let Some(&op) = FileOp::ALL.get(ev.file_op as usize) else {
            return ctx.malformed("file op", data.len());
        };
        let mut record = event_record(&ev.hdr, NAME, op.name(), &self.rules, self.exe.value(ev.exe));
        record.fields.push(("path", Value::Bytes(ev.path.to_vec())));
        if !ev.target.is_empty() {
            record.fields.push(("target_path", Value::Bytes(ev.target.to_vec())));
        }
        ctx.send(record);
    }
}

/// The decoder of this module's records, on its own (the audit-pipeline profile in
/// agent::log_thread's tests), and an audited open's record as the kernel queues it.
#[cfg(test)]
pub(crate) mod profile {
    use super::*;

    pub fn decoder(texts: &[&str]) -> RingDecoder {
        let texts = texts.iter().map(|&text| text.into()).collect();
        let mut decoder =
            Decoder { rules: RuleTable { texts, not_allowed: "not in file.allow".into() }, exe: Recent::default() };
        Box::new(move |data, ctx| decoder.handle(data, ctx))
    }

    pub fn audited_open(exe: &[u8], path: &[u8]) -> Vec<u8> {
        let mut hdr = sg::sg_header {
            kind: KIND_FILE,
            op: sg::sg_op::SG_OP_FILE_FIRST.0,
            action: sg::sg_action::SG_ACTION_ALLOWED.0,
            rule_id: 1,
            ..Default::default()
        };
        let s = &mut hdr.subject;
        (s.pid, s.tid, s.ppid, s.uid, s.gid, s.start_time, s.cgroup_id) = (812, 812, 1, 0, 0, 4_000_000_000, 1);
        s.comm[..7].copy_from_slice(b"sg-loop");
        s.parent_comm[..2].copy_from_slice(b"sh");
        s.hostname[..4].copy_from_slice(b"web1");
        crate::decode::file_event_bytes(hdr, 0, path, b"", exe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_inode_setattr_program_per_prototype() {
        let arity = |n: Option<usize>| move |_: &str| n;
        // 5.10 and 6.1: (dentry, attr); 6.3 and later: (idmap, dentry, attr).
        assert_eq!(program_hook("sg_inode_setattr", arity(Some(2))), Some(("inode_setattr", false)));
        assert_eq!(program_hook("sg_inode_setattr_idmap", arity(Some(2))), None);
        assert_eq!(program_hook("sg_inode_setattr", arity(Some(3))), None);
        assert_eq!(program_hook("sg_inode_setattr_idmap", arity(Some(3))), Some(("inode_setattr", false)));
        // An unknown prototype loads neither; other programs are their hook.
        assert_eq!(program_hook("sg_inode_setattr", arity(None)), None);
        assert_eq!(program_hook("sg_inode_setattr_idmap", arity(Some(4))), None);
        assert_eq!(program_hook("sg_file_open", arity(None)), Some(("file_open", false)));
        assert_eq!(program_hook("sg_audit_file_open", arity(None)), Some(("file_open", true)));
        assert_eq!(program_hook("sg_audit_inode_setattr_idmap", arity(Some(3))), Some(("inode_setattr", true)));
        assert_eq!(program_hook("sg_audit_inode_setattr", arity(Some(3))), None);
    }

    #[test]
    fn one_xattr_program_per_prototype() {
        // 5.10: (dentry, name, ...); 5.12 and later: a user namespace or idmap first.
        let kernel = |setxattr: usize, removexattr: usize| {
            move |hook: &str| match hook {
                "inode_setxattr" => Some(setxattr),
                "inode_removexattr" => Some(removexattr),
                _ => None,
            }
        };
        assert_eq!(program_hook("sg_inode_setxattr", kernel(5, 2)), Some(("inode_setxattr", false)));
        assert_eq!(program_hook("sg_inode_setxattr_idmap", kernel(5, 2)), None);
        assert_eq!(program_hook("sg_inode_removexattr", kernel(5, 2)), Some(("inode_removexattr", false)));
        assert_eq!(program_hook("sg_inode_removexattr_idmap", kernel(5, 2)), None);
        assert_eq!(program_hook("sg_inode_setxattr", kernel(6, 3)), None);
        assert_eq!(program_hook("sg_audit_inode_setxattr_idmap", kernel(6, 3)), Some(("inode_setxattr", true)));
        assert_eq!(program_hook("sg_inode_removexattr_idmap", kernel(6, 3)), Some(("inode_removexattr", false)));
        // One prototype on every kernel that has them (6.2+).
        assert_eq!(program_hook("sg_inode_set_acl", kernel(6, 3)), Some(("inode_set_acl", false)));
        assert_eq!(program_hook("sg_file_mprotect", kernel(6, 3)), Some(("file_mprotect", false)));
    }

    #[test]
    fn replacing_and_truncating_hooks_judge_write() {
        let (write, delete, create) = (op_bit(FileOp::Write), op_bit(FileOp::Delete), op_bit(FileOp::Create));
        assert_eq!(hook_ops("path_rename", true) & (write | delete | create), write | delete | create);
        assert_eq!(hook_ops("path_link", true) & create, create);
        assert_eq!(hook_ops("path_truncate", true) & write, write);
        assert_eq!(hook_ops("file_truncate", true) & write, write);
        let chmod = op_bit(FileOp::Chmod);
        assert_eq!(hook_ops("inode_setxattr", true) & chmod, chmod);
        assert_eq!(hook_ops("inode_set_acl", true) & chmod, chmod);
    }

    #[test]
    fn overlay_programs_load_where_their_hook_and_prototype_are() {
        let all = |_: &str| true;
        let setattr = |n: usize| move |hook: &str| (hook == "inode_setattr").then_some(n);
        let (delete, chmod, read) = (op_bit(FileOp::Delete), op_bit(FileOp::Chmod), op_bit(FileOp::Read));
        // The upper layer's changes on every kernel, for the ops they serve.
        assert!(ovl_loads("sg_ovl_inode_unlink", false, setattr(3), delete, all));
        assert!(!ovl_loads("sg_ovl_inode_unlink", false, setattr(3), chmod | read, all));
        assert!(!ovl_loads("sg_ovl_inode_unlink", false, setattr(3), delete, |h| h != "inode_unlink"));
        // One inode_setattr program: (dentry, attr) before 6.3, (idmap, dentry, attr) after.
        assert!(ovl_loads("sg_ovl_inode_setattr", false, setattr(2), chmod, all));
        assert!(!ovl_loads("sg_ovl_inode_setattr_idmap", false, setattr(2), chmod, all));
        assert!(!ovl_loads("sg_ovl_inode_setattr", true, setattr(3), chmod, all));
        assert!(ovl_loads("sg_ovl_inode_setattr_idmap", true, setattr(3), chmod, all));
        assert!(!ovl_loads("sg_ovl_inode_setattr_idmap", true, |_: &str| None, chmod, all));
        // The real file's mprotect only where the kernel opens it with the overlay's path
        // (its open is judged in sg_file_open: sg_overlay_fake_path).
        assert!(ovl_loads("sg_ovl_file_mprotect", true, setattr(2), op_bit(FileOp::Exec), all));
        assert!(!ovl_loads("sg_ovl_file_mprotect", false, setattr(3), op_bit(FileOp::Exec), all));
        assert!(!ovl_loads("sg_ovl_file_open", true, setattr(2), read, all));
        assert!(ovl_loads("sg_ovl_mmap_file", false, setattr(3), op_bit(FileOp::Exec), all));
        assert!(!ovl_loads("sg_ovl_no_such_hook", true, setattr(3), u32::MAX, all));
    }

    #[test]
    fn inode_setattr_judges_chown_only_without_path_chown() {
        let times = op_bit(FileOp::Setattr);
        let chown = op_bit(FileOp::Chown);
        assert_eq!(hook_ops("inode_setattr", true), times);
        assert_eq!(hook_ops("inode_setattr", false), times | chown);
        assert_eq!(hook_ops("path_chown", true), chown);
        assert_eq!(hook_ops("path_truncate", true), times | op_bit(FileOp::Write));
        assert_eq!(hook_ops("no_such_hook", true), 0);
    }
}
