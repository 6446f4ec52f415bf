//! The process module (SPEC section 3.3): exec decisions through
//! `lsm/bprm_check_security`; with deny rules also every exec open
//! (`lsm/file_open`: ELF interpreters, uselib), executable file mappings
//! (`lsm/mmap_file`, `lsm/file_mprotect`) and links and renames that would take a
//! file out of its deny rule (`lsm/path_link`, `lsm/path_rename`); fork, exec and
//! exit records through BTF tracepoints. Without BPF LSM the exec tracepoint
//! judges the same rules, audit-only. Kernel side: bpf/process.bpf.c.

pub mod rules;

use anyhow::Context;
use libbpf_rs::skel::OpenSkel;
use libbpf_rs::{MapCore, MapFlags};

use crate::agent::module::{ModuleContext, ModuleState, Prepared};
use crate::agent::runtime::{self, load_only, target_code, Decoder as RingDecoder, Program};
use crate::bpf::process::{OpenProcessSkel, ProcessSkel, ProcessSkelBuilder};
use crate::bpf::{bytes_of, decode, sg, sized_bytes};
use crate::config::{Mode, ProcessConfig, ProcessOp};
use crate::decode::{
    event_record, process_op_name, ExeCache, FileEvent, RuleTable, FLAG_ARGV_TRUNCATED, KIND_EXEC, KIND_EXIT,
    KIND_FORK, KIND_PROCESS_PATH, OP_FILE_FIRST,
};
use crate::logging::Value;
use crate::probe::{Capabilities, Enforcement, HookKind};
use crate::rule_paths::{
    identify_on_host, inode_filter, mounts_now, overlay_layer_paths, overlay_work_dirs, rule_text,
};
use rules::{CompiledRules, ExecRule, Verdict};

pub const NAME: &str = "process";

/// The hook table (bpf/process.bpf.c). Exec is judged in bprm_check_security; deny
/// rules also need every other LSM hook here (ELF interpreters and uselib opened
/// for exec, executable mappings, links and renames out of a rule); the tracepoints
/// record the life cycle, and the exec one judges audit-only without BPF LSM.
pub const PROGRAMS: &[Program<ProcessOp>] = &[
    Program::new("sg_exec_check", HookKind::Lsm, "bprm_check_security", &[ProcessOp::Exec]),
    Program::new("sg_exec_open", HookKind::Lsm, "file_open", &[ProcessOp::Exec]),
    Program::new("sg_exec_mmap", HookKind::Lsm, "mmap_file", &[ProcessOp::Exec]),
    Program::new("sg_exec_mprotect", HookKind::Lsm, "file_mprotect", &[ProcessOp::Exec]),
    Program::new("sg_exec_link", HookKind::Lsm, "path_link", &[ProcessOp::Exec]),
    Program::new("sg_exec_rename", HookKind::Lsm, "path_rename", &[ProcessOp::Exec]),
    // The other direction of an exchange, where the hook has the flags (5.19 and later).
    Program::new("sg_exec_rename_exchange", HookKind::Lsm, "path_rename", &[ProcessOp::Exec]),
    Program::new("sg_exec", HookKind::Tracepoint, "sched_process_exec", &[ProcessOp::Exec]),
    Program::new("sg_fork", HookKind::Tracepoint, "sched_process_fork", &[ProcessOp::Fork]),
    Program::new("sg_exit", HookKind::Tracepoint, "sched_process_exit", &[ProcessOp::Exit]),
    // The real file behind an overlayfs file: deny rules on its layer
    // (bpf/process.bpf.c); open and mprotect only before 6.8 (see `prepare`).
    Program::new("sg_ovl_exec_open", HookKind::Lsm, "file_open", &[ProcessOp::Exec]),
    Program::new("sg_ovl_exec_mmap", HookKind::Lsm, "mmap_file", &[ProcessOp::Exec]),
    Program::new("sg_ovl_exec_mprotect", HookKind::Lsm, "file_mprotect", &[ProcessOp::Exec]),
    // ... and links and renames that overlayfs makes in its upper layer (every kernel).
    Program::new("sg_ovl_exec_link", HookKind::Lsm, "inode_link", &[ProcessOp::Exec]),
    Program::new("sg_ovl_exec_rename", HookKind::Lsm, "inode_rename", &[ProcessOp::Exec]),
];

/// The program that judges exec; the other LSM programs serve deny rules only.
const EXEC_CHECK: &str = "sg_exec_check";

/// Decides what the module does on this kernel with this config; the thread starts later.
pub fn prepare(config: &ProcessConfig, caps: &Capabilities, agent_pidns: u32) -> Prepared {
    let config = config.clone();
    let state = ModuleState::of(config.enable, config.mode, caps);
    let has_rules = !config.allow.is_empty() || !config.deny.is_empty();
    let lsm = caps.enforcement() == Enforcement::Full && has_rules && caps.hook_present("bprm_check_security");
    // From 5.19 (flags added) the kernel no longer calls the hook again for an exchange:
    // a later kernel with more arguments still needs the exchange program.
    let rename_has_flags = caps.lsm_hook_arity("path_rename").is_some_and(|n| n >= 5);
    let deny_hooks: Vec<&'static str> = if lsm && !config.deny.is_empty() {
        let deny = PROGRAMS.iter().filter(|p| p.kind == HookKind::Lsm && p.name != EXEC_CHECK);
        // The real file behind an overlay file: opens and mprotect only where the
        // kernel hides it behind the overlay's path (before 6.8), mappings, links and
        // renames everywhere.
        let everywhere = ["sg_ovl_exec_mmap", "sg_ovl_exec_link", "sg_ovl_exec_rename"];
        let overlay = |p: &&Program<ProcessOp>| {
            caps.overlay_fake_path || !p.name.starts_with("sg_ovl_") || everywhere.contains(&p.name)
        };
        // Before 5.19 the kernel calls path_rename again, reversed, for an exchange.
        let exchange = |p: &&Program<ProcessOp>| rename_has_flags || p.name != "sg_exec_rename_exchange";
        deny.filter(|p| caps.hook_present(p.hook)).filter(overlay).filter(exchange).map(|p| p.name).collect()
    } else {
        Vec::new()
    };
    runtime::prepare(state, move || {
        let mut rules = compile(&config);
        let texts = crate::decode::rule_texts(std::mem::take(&mut rules.texts));
        // Allow rules reach files only through the mounts present now (bpf/common.bpf.h).
        let mounts = if config.allow.is_empty() { Vec::new() } else { mounts_now() };
        let work_dirs = if deny_hooks.is_empty() { Vec::new() } else { overlay_work_dirs() };
        Ok(Process { config, lsm, deny_hooks, rename_has_flags, agent_pidns, rules, texts, mounts, work_dirs })
    })
}

/// Everything the module's thread needs, decided before it starts.
struct Process {
    config: ProcessConfig,
    /// Judge exec in `bprm_check_security` (BPF LSM available, rules present).
    lsm: bool,
    /// The deny programs whose hooks this kernel has, when deny rules are enforced.
    deny_hooks: Vec<&'static str>,
    /// path_rename has its flags argument (5.19 and later).
    rename_has_flags: bool,
    agent_pidns: u32,
    /// Without its texts (`texts`, shared with the decoder and the rule hits); its
    /// tables are dropped once the maps are filled.
    rules: CompiledRules,
    texts: crate::decode::RuleTexts,
    mounts: Vec<sg::sg_mount_key>,
    /// overlayfs's work directories at start, when deny rules are enforced.
    work_dirs: Vec<sg::sg_inode_key>,
}

fn compile(config: &ProcessConfig) -> CompiledRules {
    // A deny rule on a path inside an overlay holds on the same path in its layers,
    // which would run what the overlay refuses (an allow rule is not widened to them).
    let in_layers: Vec<(String, &str)> = config
        .deny
        .iter()
        .flat_map(|entry| overlay_layer_paths(&entry.value).into_iter().map(|layer| (layer, entry.text.as_str())))
        .collect();
    let mut exec_rules = Vec::new();
    for (entries, verdict) in [(&config.deny, Verdict::Deny), (&config.allow, Verdict::Allow)] {
        for entry in entries {
            exec_rules.push(ExecRule { path: &entry.value, text: rule_text(&entry.text), verdict });
        }
    }
    for (layer, text) in &in_layers {
        exec_rules.push(ExecRule { path: layer, text: rule_text(text), verdict: Verdict::Deny });
    }
    rules::compile(&exec_rules, identify_on_host)
}

impl runtime::Module for Process {
    const NAME: &'static str = NAME;
    const NEEDS_A_PROGRAM: bool = true;
    type Skel = ProcessSkelBuilder;

    fn configure(&self, open: &mut OpenProcessSkel<'_>) -> anyhow::Result<()> {
        let config = &self.config;
        let has_rules = !config.allow.is_empty() || !config.deny.is_empty();
        let decide_in_tracepoint = has_rules && !self.lsm;
        let rodata = open.maps.rodata_data.as_deref_mut().context("process: no rodata")?;
        rodata.sg_target = target_code(config.target);
        rodata.sg_agent_pidns = self.agent_pidns;
        rodata.sg_block = u32::from(config.mode == Mode::Block);
        rodata.sg_allowlist = u32::from(!config.allow.is_empty());
        rodata.sg_have_deny = u32::from(!config.deny.is_empty());
        rodata.sg_decide_in_tracepoint = u32::from(decide_in_tracepoint);
        rodata.sg_log_exec = u32::from(config.ops.contains(&ProcessOp::Exec));
        rodata.sg_judge_opens = u32::from(self.deny_hooks.contains(&"sg_exec_open"));
        rodata.sg_rename_has_flags = u32::from(self.rename_has_flags);
        rodata.sg_mount_check = u32::from(!config.allow.is_empty());

        open.maps.sg_mounts.set_max_entries(self.mounts.len().max(1) as u32)?;
        open.maps.sg_ovl_work_dirs.set_max_entries(self.work_dirs.len().max(1) as u32)?;
        open.maps.sg_inode_rules.set_max_entries(self.rules.inodes.len().max(1) as u32)?;
        open.maps.sg_path_rules.set_max_entries(self.rules.paths.len().max(1) as u32)?;

        // Only what the configuration puts in scope is loaded.
        load_only(open.open_object_mut(), |program| match program {
            EXEC_CHECK => self.lsm,
            "sg_exec" => config.ops.contains(&ProcessOp::Exec) || decide_in_tracepoint,
            "sg_fork" => config.ops.contains(&ProcessOp::Fork),
            "sg_exit" => config.ops.contains(&ProcessOp::Exit),
            deny => self.deny_hooks.contains(&deny),
        });
        Ok(())
    }

    fn fill(&mut self, skel: &ProcessSkel<'_>, _ctx: &ModuleContext) -> anyhow::Result<()> {
        let maps = &skel.maps;
        for (key, value) in &self.rules.inodes {
            maps.sg_inode_rules
                .update(bytes_of(key), bytes_of(value), MapFlags::ANY)
                .context("process: inode rules")?;
        }
        let filter = inode_filter(&self.rules.inodes);
        maps.inode_filter.update(&0u32.to_ne_bytes(), &filter, MapFlags::ANY).context("process: identity filter")?;
        for (key, value) in &self.rules.paths {
            maps.sg_path_rules.update(bytes_of(key), bytes_of(value), MapFlags::ANY).context("process: path rules")?;
        }
        for key in &self.mounts {
            maps.sg_mounts.update(bytes_of(key), &0u32.to_ne_bytes(), MapFlags::ANY).context("process: mounts")?;
        }
        for key in &self.work_dirs {
            maps.sg_ovl_work_dirs
                .update(bytes_of(key), &0u32.to_ne_bytes(), MapFlags::ANY)
                .context("process: overlay work directories")?;
        }
        // The maps hold the tables now: only the texts are needed (records, rule hits).
        (self.rules.paths, self.rules.inodes, self.mounts, self.work_dirs) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        Ok(())
    }

    fn rule_names(&self) -> crate::agent::hits::RuleNames {
        RuleTable { texts: self.texts.clone(), not_allowed: "not in process.allow".into() }.names()
    }

    fn decoder(&self) -> RingDecoder {
        let rules = RuleTable { texts: self.texts.clone(), not_allowed: "not in process.allow".into() };
        let mut decoder = Decoder { rules, exe_cache: ExeCache::default() };
        Box::new(move |data, ctx| decoder.handle(data, ctx))
    }
}

struct Decoder {
    rules: RuleTable,
    exe_cache: ExeCache,
}

impl Decoder {
    fn handle(&mut self, data: &[u8], ctx: &ModuleContext) {
        let Some(hdr) = decode::<sg::sg_header>(data) else {
            return ctx.malformed("process header", data.len());
        };
        let record = match hdr.kind {
            KIND_EXEC => decode::<sg::sg_exec_event>(data).map(|ev| self.exec(&ev)),
            KIND_FORK => decode::<sg::sg_fork_event>(data).map(|ev| self.fork(&ev)),
            KIND_EXIT => decode::<sg::sg_exit_event>(data).map(|ev| self.exit(&ev)),
            KIND_PROCESS_PATH => FileEvent::read(data).and_then(|ev| self.path(&ev)),
            _ => None,
        };
        match record {
            Some(record) => ctx.send(record),
            None => ctx.malformed("process event", data.len()),
        }
    }

    fn exec(&mut self, ev: &sg::sg_exec_event) -> crate::logging::Record {
        let hdr = &ev.hdr;
        let exe = sized_bytes(&ev.exe, ev.exe_len);
        let lifecycle = hdr.action == 0;
        if lifecycle {
            self.exe_cache.learn(hdr.subject.pid, hdr.subject.start_time, exe);
        }
        let mut record = event_record(hdr, NAME, "exec", &self.rules, Value::Bytes(exe.to_vec()));
        record.fields.push(("filename", Value::Bytes(sized_bytes(&ev.filename, ev.filename_len).to_vec())));
        if lifecycle {
            let argv = sized_bytes(&ev.argv, ev.argv_len);
            record.fields.push(("argv", Value::List(split_argv(argv))));
            if hdr.flags & FLAG_ARGV_TRUNCATED != 0 {
                record.fields.push(("argv_truncated", Value::Bool(true)));
            }
        }
        record
    }

    /// A decision on a mapping, link or rename: `path` is the file judged, `target_path`
    /// the new name of a link or rename.
    fn path(&mut self, ev: &FileEvent) -> Option<crate::logging::Record> {
        let op = path_op(ev.hdr.op)?;
        let mut record = event_record(&ev.hdr, NAME, op, &self.rules, Value::Bytes(ev.exe.to_vec()));
        record.fields.push(("path", Value::Bytes(ev.path.to_vec())));
        if !ev.target.is_empty() {
            record.fields.push(("target_path", Value::Bytes(ev.target.to_vec())));
        }
        Some(record)
    }

    fn fork(&mut self, ev: &sg::sg_fork_event) -> crate::logging::Record {
        let s = &ev.hdr.subject;
        let exe = self.exe_cache.lookup(s.pid, s.start_time);
        let mut record = event_record(&ev.hdr, NAME, "fork", &self.rules, exe);
        record.fields.push(("child_pid", Value::Uint(ev.child_pid.into())));
        record
    }

    fn exit(&mut self, ev: &sg::sg_exit_event) -> crate::logging::Record {
        let s = &ev.hdr.subject;
        let exe = self.exe_cache.lookup(s.pid, s.start_time);
        self.exe_cache.forget(s.pid, s.start_time);
        let mut record = event_record(&ev.hdr, NAME, "exit", &self.rules, exe);
        record.fields.extend(exit_fields(ev.exit_code));
        record
    }
}

/// The `op` of an SG_KIND_PROCESS_PATH record: a mapping, mprotect, link or rename.
fn path_op(op: u32) -> Option<&'static str> {
    let path_ops = crate::decode::OP_MMAP..OP_FILE_FIRST;
    path_ops.contains(&op).then(|| process_op_name(op)).flatten()
}

/// NUL-separated argv from the new program's stack; a truncated last argument is kept.
fn split_argv(bytes: &[u8]) -> Vec<Value> {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes.split(|&b| b == 0).map(|arg| Value::Bytes(arg.to_vec())).collect()
}

/// A wait status as `exit_code` or `signal` (and `core_dumped`).
fn exit_fields(status: u32) -> Vec<(&'static str, Value)> {
    let signal = status & 0x7f;
    if signal == 0 {
        vec![("exit_code", Value::Uint(((status >> 8) & 0xff).into()))]
    } else if status & 0x80 != 0 {
        vec![("signal", Value::Uint(signal.into())), ("core_dumped", Value::Bool(true))]
    } else {
        vec![("signal", Value::Uint(signal.into()))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::file_event_bytes;

    #[test]
    fn argv_splits_on_nul() {
        assert_eq!(split_argv(b"sleep\x0030\x00"), vec![Value::Bytes(b"sleep".to_vec()), Value::Bytes(b"30".to_vec())]);
        assert_eq!(
            split_argv(b"a\x00\x00b\x00"),
            vec![Value::Bytes(b"a".to_vec()), Value::Bytes(vec![]), Value::Bytes(b"b".to_vec())]
        );
        assert_eq!(split_argv(b""), Vec::<Value>::new());
        // Truncated in the middle of the last argument: kept as far as it goes.
        assert_eq!(
            split_argv(b"cat\x00/very/lo"),
            vec![Value::Bytes(b"cat".to_vec()), Value::Bytes(b"/very/lo".to_vec())]
        );
    }

    #[test]
    fn wait_status_decodes() {
        assert_eq!(exit_fields(7 << 8), vec![("exit_code", Value::Uint(7))]);
        assert_eq!(exit_fields(9), vec![("signal", Value::Uint(9))]);
        assert_eq!(exit_fields(11 | 0x80), vec![("signal", Value::Uint(11)), ("core_dumped", Value::Bool(true))]);
    }

    #[test]
    fn link_and_rename_records_carry_rule_path_and_target() {
        let mut decoder = Decoder {
            rules: RuleTable { texts: ["/opt/denied".into()].into(), not_allowed: "not in process.allow".into() },
            exe_cache: ExeCache::default(),
        };
        let mut hdr = sg::sg_header {
            kind: KIND_PROCESS_PATH,
            op: sg::sg_op::SG_OP_LINK.0,
            action: sg::sg_action::SG_ACTION_BLOCKED.0,
            rule_id: 1,
            ..Default::default()
        };
        let bytes = file_event_bytes(hdr, 0, b"/opt/denied/cat", b"/tmp/x", b"/bin/ln");
        let record = decoder.path(&FileEvent::read(&bytes).unwrap()).unwrap();
        assert_eq!((record.module, record.op, record.rule.as_deref()), ("process", "link", Some("/opt/denied")));
        let field = |name| record.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        assert_eq!(field("exe"), Some(Value::Bytes(b"/bin/ln".to_vec())));
        assert_eq!(field("path"), Some(Value::Bytes(b"/opt/denied/cat".to_vec())));
        assert_eq!(field("target_path"), Some(Value::Bytes(b"/tmp/x".to_vec())));

        // A mapping has no target; an unknown op is malformed.
        hdr.op = crate::decode::OP_MMAP;
        let bytes = file_event_bytes(hdr, 0, b"/opt/denied/cat", b"", b"/bin/ln");
        let record = decoder.path(&FileEvent::read(&bytes).unwrap()).unwrap();
        assert_eq!(record.op, "mmap");
        assert!(record.fields.iter().all(|(n, _)| *n != "target_path"));
        hdr.op = sg::sg_op::SG_OP_EXEC.0;
        let bytes = file_event_bytes(hdr, 0, b"/opt/denied/cat", b"", b"/bin/ln");
        assert!(decoder.path(&FileEvent::read(&bytes).unwrap()).is_none());
        assert_eq!(path_op(sg::sg_op::SG_OP_MPROTECT.0), Some("mprotect"));
        assert_eq!(path_op(sg::sg_op::SG_OP_RENAME.0), Some("rename"));
        assert_eq!(crate::decode::op_name(sg::sg_op::SG_OP_RENAME.0), "rename");
    }
}
