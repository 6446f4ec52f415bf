//! The capability probe (SPEC section 2): what this kernel lets safeguard do.
//! Capability is proven, not guessed: the active LSM list is read AND a trivial LSM
//! program is loaded and attached; an attached program enforces nothing when `bpf`
//! is missing from the list, and the list says nothing about a loader that refuses.

use std::fs;
use std::io;
use std::mem::MaybeUninit;
use std::path::Path;

use libbpf_rs::btf::types::Func;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Btf, MapHandle, MapType};

use crate::bpf::probe::ProbeSkelBuilder;
use crate::logging::Value;

const LSM_LIST: &str = "/sys/kernel/security/lsm";
const SECURITYFS: &str = "/sys/kernel/security";
const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// What the agent can do on this kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enforcement {
    /// Audit and block.
    Full,
    /// Audit only, through tracepoints, kprobes and fentry.
    Degraded,
    /// Nothing: no BTF or no bpf().
    Unsupported,
}

impl Enforcement {
    pub fn name(self) -> &'static str {
        match self {
            Enforcement::Full => "full",
            Enforcement::Degraded => "degraded",
            Enforcement::Unsupported => "unsupported",
        }
    }
}

/// The hooks each module needs, from the modules' hook tables: (module, kind, name),
/// each name once per module (where two programs attach to one function, the first
/// entry says how it is probed: mount's kprobe on path_mount, not its fexit). LSM hooks are found in BTF as `bpf_lsm_<hook>`, tracepoints
/// as `btf_trace_<name>`, kernel functions (fentry) by their name.
pub fn hooks() -> Vec<(&'static str, HookKind, &'static str)> {
    use crate::agent::runtime::Program;
    fn of<Op>(module: &'static str, table: &[Program<Op>], out: &mut Vec<(&'static str, HookKind, &'static str)>) {
        for program in table {
            if !out.iter().any(|&(m, _, hook)| m == module && hook == program.hook) {
                out.push((module, program.kind, program.hook));
            }
        }
    }
    let mut out = Vec::new();
    of(crate::process::NAME, crate::process::PROGRAMS, &mut out);
    of(crate::file::NAME, crate::file::PROGRAMS, &mut out);
    of(crate::network::NAME, crate::network::PROGRAMS, &mut out);
    of(crate::mount::NAME, crate::mount::PROGRAMS, &mut out);
    of(crate::protect::NAME, crate::protect::PROGRAMS, &mut out);
    of(crate::detect::NAME, crate::detect::PROGRAMS, &mut out);
    of(crate::telemetry::NAME, crate::telemetry::PROGRAMS, &mut out);
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookKind {
    Lsm,
    Tracepoint,
    /// A kernel function, traced with fentry.
    Function,
    /// A kernel function for a kprobe (found in BTF as a function, and the kernel
    /// takes kprobes).
    Kprobe,
}

#[derive(Debug)]
pub struct Capabilities {
    pub kernel: String,
    pub btf: bool,
    /// The active LSMs, or why they could not be read.
    pub lsm_list: Result<Vec<String>, String>,
    /// Loading and attaching a trivial LSM program.
    pub lsm_attach: Result<(), String>,
    /// Loading and attaching a BTF tracepoint program.
    pub tracepoint_attach: Result<(), String>,
    /// Loading and attaching an fentry program (a BPF trampoline, as LSM programs
    /// use): the file module's audit-only mode needs it.
    pub fentry_attach: Result<(), String>,
    pub ringbuf: Result<(), String>,
    /// The bpf_loop helper (5.17+): the objects whose path walks are bpf_loop callbacks
    /// load (`bpf::object_bytes`), which the verifier checks in a fraction of the time.
    pub bpf_loop: bool,
    /// Pinning a map in bpffs (`[agent] persist`), and the instances pinned now. Only
    /// `safeguard probe` tries it (it may mount bpffs); the agent pins or fails.
    pub pinning: Option<Result<(), String>>,
    pub pinned: Vec<String>,
    /// (module, hook, present in this kernel)
    pub hooks: Vec<(&'static str, &'static str, bool)>,
    /// (LSM hook, number of parameters) for the hooks found: some prototypes changed
    /// between kernels, and a program must match the one this kernel has.
    pub lsm_arity: Vec<(&'static str, usize)>,
    /// (LSM hook, number of parameters of security_<hook>()), the function its fentry
    /// twin attaches to (audit-only mode): 5.12 to 6.2 give security_inode_setattr() a
    /// user namespace the hook does not get.
    pub security_arity: Vec<(&'static str, usize)>,
    /// overlayfs opens its real files with the overlay's path (before 6.8: no
    /// `backing_file_user_path` in BTF): the file and process modules then load
    /// their `sg_ovl_*` programs, which judge the real file (bpf/common.bpf.h).
    pub overlay_fake_path: bool,
}

impl Capabilities {
    pub fn bpf_in_lsm_list(&self) -> bool {
        self.lsm_list.as_ref().is_ok_and(|list| list.iter().any(|lsm| lsm == "bpf"))
    }

    pub fn enforcement(&self) -> Enforcement {
        if !self.btf || self.tracepoint_attach.is_err() || self.ringbuf.is_err() {
            Enforcement::Unsupported
        } else if self.bpf_in_lsm_list() && self.lsm_attach.is_ok() {
            Enforcement::Full
        } else {
            Enforcement::Degraded
        }
    }

    pub fn hook_present(&self, hook: &str) -> bool {
        self.hooks.iter().any(|&(_, name, present)| name == hook && present)
    }

    /// How many parameters this kernel's LSM hook takes (its BTF prototype).
    pub fn lsm_hook_arity(&self, hook: &str) -> Option<usize> {
        self.lsm_arity.iter().find(|&&(name, _)| name == hook).map(|&(_, arity)| arity)
    }

    /// How many parameters security_<hook>() takes in this kernel.
    pub fn security_function_arity(&self, hook: &str) -> Option<usize> {
        self.security_arity.iter().find(|&&(name, _)| name == hook).map(|&(_, arity)| arity)
    }

    /// An arm64 kernel that attaches neither LSM nor fentry programs: before 6.4 arm64
    /// had no ftrace direct calls, through which BPF trampolines attach to the kernel.
    /// No sandbox is the cause there, and no boot option the remedy.
    fn arm64_without_trampolines(&self) -> bool {
        cfg!(target_arch = "aarch64")
            && self.lsm_attach.is_err()
            && self.fentry_attach.is_err()
            && kernel_version(&self.kernel) < (6, 4)
    }

    /// Why BPF LSM cannot enforce, with the remedy, in one line; None when it can.
    pub fn degraded_reason(&self) -> Option<String> {
        if self.enforcement() != Enforcement::Degraded {
            return None;
        }
        let current = self.lsm_list.as_ref().map(|list| list.join(",")).unwrap_or_default();
        // On arm64 before 6.4 the trampolines are missing, lsm= or not: say that first.
        let (why, remedy) = if self.arm64_without_trampolines() {
            let err = self.lsm_attach.as_ref().err().map_or("", String::as_str);
            let listed = if self.bpf_in_lsm_list() { "`bpf` is an active LSM but " } else { "" };
            (
                format!(
                    "{listed}this arm64 kernel refuses BPF LSM and fentry programs ({err}): arm64 has \
                     the BPF trampolines they need only from Linux 6.4"
                ),
                "boot an arm64 kernel 6.4 or later (Debian 12's 6.12 enforces; 5.10 and 6.1 cannot, \
                 whatever the command line)"
                    .to_string(),
            )
        } else if !self.bpf_in_lsm_list() {
            let why = match &self.lsm_list {
                Ok(list) => format!("`bpf` is not in the active LSM list ({})", list.join(",")),
                Err(err) => format!("the active LSM list is unreadable ({err})"),
            };
            let list = if current.is_empty() { "...".to_string() } else { current };
            (why, format!("boot with lsm={list},bpf on the kernel command line"))
        } else {
            let err = self.lsm_attach.as_ref().err().map_or("", String::as_str);
            (
                format!("`bpf` is an active LSM but the kernel refused a BPF LSM program ({err})"),
                "run safeguard as root outside any sandbox that forbids BPF trampolines (CAP_BPF, \
                 CAP_PERFMON, no lockdown=confidentiality)"
                    .to_string(),
            )
        };
        Some(format!(
            "BPF LSM enforcement unavailable: {why}; running audit-only through tracepoints. Remedy: {remedy}"
        ))
    }

    /// What is missing when nothing can run.
    pub fn unsupported_reason(&self) -> Option<String> {
        if self.enforcement() != Enforcement::Unsupported {
            return None;
        }
        let mut missing = Vec::new();
        if !self.btf {
            missing.push(format!("kernel BTF ({VMLINUX_BTF}: build with CONFIG_DEBUG_INFO_BTF=y)"));
        }
        if let Err(err) = &self.tracepoint_attach {
            missing.push(format!("bpf() tracepoint programs ({err})"));
        }
        if let Err(err) = &self.ringbuf {
            missing.push(format!("BPF ring buffers, Linux 5.8+ ({err})"));
        }
        Some(format!("this kernel cannot run safeguard: missing {}", missing.join("; ")))
    }

    pub fn to_text(&self) -> String {
        let yes_no = |ok: bool| if ok { "yes" } else { "no" };
        let result = |r: &Result<(), String>| match r {
            Ok(()) => "ok".to_string(),
            Err(err) => format!("refused: {err}"),
        };
        let mut out = String::new();
        out.push_str(&format!("kernel:            {}\n", self.kernel));
        out.push_str(&format!("BTF:               {}\n", yes_no(self.btf)));
        out.push_str(&format!(
            "active LSMs:       {}\n",
            match &self.lsm_list {
                Ok(list) => list.join(","),
                Err(err) => format!("unknown ({err})"),
            }
        ));
        out.push_str(&format!("bpf in LSM list:   {}\n", yes_no(self.bpf_in_lsm_list())));
        out.push_str(&format!("LSM program:       {}\n", result(&self.lsm_attach)));
        out.push_str(&format!("tracepoints:       {}\n", result(&self.tracepoint_attach)));
        out.push_str(&format!("fentry:            {}\n", result(&self.fentry_attach)));
        out.push_str(&format!("ring buffer:       {}\n", result(&self.ringbuf)));
        out.push_str(if self.bpf_loop {
            "bpf_loop:          yes (path walks verified once, as callbacks)\n"
        } else {
            "bpf_loop:          no (path walks verified level by level: a slower start)\n"
        });
        if let Some(pinning) = &self.pinning {
            out.push_str(&format!("pinning (persist): {}\n", result(pinning)));
        }
        if !self.pinned.is_empty() {
            out.push_str(&format!("pinned now:        {}\n", self.pinned.join(" ")));
        }
        out.push_str("hooks:\n");
        let enforcement = self.enforcement();
        for &(module, hook, present) in &self.hooks {
            // An LSM hook the kernel has is of no use while BPF LSM programs are refused.
            let state = if !present {
                "missing"
            } else if enforcement != Enforcement::Full && self.lsm_hook_arity(hook).is_some() {
                "in the kernel, unusable (BPF LSM unavailable)"
            } else {
                "available"
            };
            out.push_str(&format!("  {module:<8} {hook:<24} {state}\n"));
        }
        let missing = crate::telemetry::missing_measures(self);
        if missing.is_empty() {
            out.push_str("telemetry:         every measure\n");
        }
        for (measure, why, off) in missing {
            let state = if off { "unavailable" } else { "partial" };
            out.push_str(&format!("telemetry:         {measure} {state}: {why}\n"));
        }
        out.push_str(&format!("effective:         {}\n", enforcement.name()));
        out.push_str(&format!("BPF LSM active:    {}\n", yes_no(enforcement == Enforcement::Full)));
        if let Some(reason) = self.degraded_reason().or_else(|| self.unsupported_reason()) {
            out.push_str(&format!("note:              {reason}\n"));
        }
        out
    }

    pub fn to_json(&self) -> serde_json::Value {
        let result = |r: &Result<(), String>| match r {
            Ok(()) => serde_json::Value::from("ok"),
            Err(err) => serde_json::Value::from(err.as_str()),
        };
        let hooks: serde_json::Map<String, serde_json::Value> =
            self.hooks.iter().map(|&(_, hook, present)| (hook.to_string(), present.into())).collect();
        serde_json::json!({
            "kernel": self.kernel,
            "btf": self.btf,
            "lsm_list": self.lsm_list.as_ref().ok(),
            "bpf_in_lsm_list": self.bpf_in_lsm_list(),
            "lsm_attach": result(&self.lsm_attach),
            "tracepoints": result(&self.tracepoint_attach),
            "fentry": result(&self.fentry_attach),
            "ringbuf": result(&self.ringbuf),
            "bpf_loop": self.bpf_loop,
            "pinning": self.pinning.as_ref().map(result),
            "pinned": self.pinned,
            "hooks": hooks,
            "telemetry_missing": crate::telemetry::missing_measures(self)
                .into_iter()
                .map(|(measure, why, off)| serde_json::json!({
                    "measure": measure.to_string(), "reason": why, "available": !off,
                }))
                .collect::<Vec<_>>(),
            "bpf_lsm": self.enforcement() == Enforcement::Full,
            "effective": self.enforcement().name(),
            "note": self.degraded_reason().or_else(|| self.unsupported_reason()),
        })
    }

    /// The probe's findings as fields of the agent's start record.
    pub fn record_fields(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("kernel", Value::Str(self.kernel.clone())),
            ("enforcement", Value::Str(self.enforcement().name().to_string())),
        ]
    }
}

pub fn probe() -> Capabilities {
    let btf = Path::new(VMLINUX_BTF).exists();
    let kernel = kernel_release();
    let (hooks, lsm_arity, security_arity, overlay_fake_path) = probe_hooks(btf, &kernel);
    Capabilities {
        kernel,
        btf,
        lsm_list: read_lsm_list(),
        lsm_attach: probe_program(ProbeProgram::Lsm),
        tracepoint_attach: probe_program(ProbeProgram::Tracepoint),
        fentry_attach: probe_program(ProbeProgram::Fentry),
        ringbuf: probe_ringbuf(),
        bpf_loop: crate::bpf::has_bpf_loop(),
        pinning: None,
        pinned: crate::agent::persist::pinned_now(),
        hooks,
        lsm_arity,
        security_arity,
        overlay_fake_path,
    }
}

fn kernel_release() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_else(|_| "unknown".into())
}

/// Reads the active LSMs, mounting securityfs first where nobody has (a bare
/// initramfs, some containers).
fn read_lsm_list() -> Result<Vec<String>, String> {
    let text = match fs::read_to_string(LSM_LIST) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            mount_securityfs()?;
            fs::read_to_string(LSM_LIST)
        }
        other => other,
    }
    .map_err(|err| format!("{LSM_LIST}: {err}"))?;
    Ok(text.trim().split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
}

fn mount_securityfs() -> Result<(), String> {
    let cstr = |s: &str| std::ffi::CString::new(s).map_err(|e| e.to_string());
    let (source, target, fstype) = (cstr("securityfs")?, cstr(SECURITYFS)?, cstr("securityfs")?);
    // SAFETY: all pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe { libc::mount(source.as_ptr(), target.as_ptr(), fstype.as_ptr(), 0, std::ptr::null()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("mount securityfs on {SECURITYFS}: {}", io::Error::last_os_error()))
    }
}

type Arities = Vec<(&'static str, usize)>;
type HookFindings = (Vec<(&'static str, &'static str, bool)>, Arities, Arities, bool);

fn probe_hooks(btf: bool, kernel: &str) -> HookFindings {
    let vmlinux = if btf { Btf::from_vmlinux().ok() } else { None };
    // BPF trampolines take struct arguments passed by value from 6.1 on.
    let struct_args = kernel_version(kernel) >= (6, 1);
    let (mut arity, mut security_arity) = (Vec::new(), Vec::new());
    let hooks = hooks()
        .into_iter()
        .map(|(module, kind, hook)| {
            let present = vmlinux.as_ref().is_some_and(|btf| match kind {
                HookKind::Lsm => function_params(btf, &format!("bpf_lsm_{hook}")).is_some_and(|params| {
                    arity.push((hook, params.len()));
                    if let Some(params) = function_params(btf, &security_function(hook)) {
                        security_arity.push((hook, params.len()));
                    }
                    struct_args || !params.iter().any(|&by_value| by_value)
                }),
                HookKind::Tracepoint => {
                    btf.type_by_name::<libbpf_rs::btf::types::Typedef<'_>>(&format!("btf_trace_{hook}")).is_some()
                }
                HookKind::Function => btf.type_by_name::<Func<'_>>(hook).is_some(),
                HookKind::Kprobe => btf.type_by_name::<Func<'_>>(hook).is_some() && kprobes_attach(),
            });
            (module, hook, present)
        })
        .collect();
    // 6.8 made an overlay's backing file carry its real path (and added
    // backing_file_user_path() for the overlay's); before, the LSM sees the
    // overlay's path with the real inode.
    let overlay_fake_path =
        vmlinux.as_ref().is_some_and(|btf| btf.type_by_name::<Func<'_>>("backing_file_user_path").is_none());
    (hooks, arity, security_arity, overlay_fake_path)
}

/// Kprobes can be attached: through the kprobe PMU, or libbpf's fallback, tracefs.
fn kprobes_attach() -> bool {
    [
        "/sys/bus/event_source/devices/kprobe/type",
        "/sys/kernel/tracing/kprobe_events",
        "/sys/kernel/debug/tracing/kprobe_events",
    ]
    .iter()
    .any(|path| Path::new(path).exists())
}

/// The function that calls an LSM hook (the file module's audit-only programs
/// attach there).
fn security_function(hook: &str) -> String {
    match hook {
        "inode_free_security" => "security_inode_free".into(),
        _ => format!("security_{hook}"),
    }
}

/// The parameters of a kernel function in BTF (`bpf_lsm_<hook>` stands for an LSM
/// hook): for each, whether it is a struct or union passed by value.
fn function_params(btf: &Btf, function: &str) -> Option<Vec<bool>> {
    use libbpf_rs::btf::types::FuncProto;
    use libbpf_rs::btf::{BtfKind, BtfType};
    let func = btf.type_by_name::<Func<'_>>(function)?;
    let proto = FuncProto::try_from((*func).next_type()?).ok()?;
    let by_value = proto
        .iter()
        .map(|param| {
            btf.type_by_id::<BtfType<'_>>(param.ty)
                .map(|ty| matches!(ty.skip_mods_and_typedefs().kind(), BtfKind::Struct | BtfKind::Union))
                .unwrap_or(false)
        })
        .collect();
    Some(by_value)
}

/// (major, minor) of a release string such as "5.10.0-46-cloud-amd64".
fn kernel_version(release: &str) -> (u32, u32) {
    let mut numbers = release.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok());
    (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ProbeProgram {
    Lsm,
    Tracepoint,
    Fentry,
}

/// Loads the probe object with one of its programs and attaches it; the link is
/// dropped (detached) at once. One program per load: a kernel that refuses one kind
/// (LSM programs, trampolines) would otherwise fail the others with it.
fn probe_program(which: ProbeProgram) -> Result<(), String> {
    let _quiet = crate::bpf::QuietLibbpf::new();
    let mut storage = MaybeUninit::uninit();
    let mut open = ProbeSkelBuilder::default().open(&mut storage).map_err(|err| format!("open probe object: {err}"))?;
    open.progs.sg_probe_file_open.set_autoload(which == ProbeProgram::Lsm);
    open.progs.sg_probe_tracepoint.set_autoload(which == ProbeProgram::Tracepoint);
    open.progs.sg_probe_fentry.set_autoload(which == ProbeProgram::Fentry);
    let skel = open.load().map_err(|err| format!("load: {err}"))?;
    let link = match which {
        ProbeProgram::Lsm => skel.progs.sg_probe_file_open.attach_lsm(),
        ProbeProgram::Tracepoint => skel.progs.sg_probe_tracepoint.attach(),
        ProbeProgram::Fentry => skel.progs.sg_probe_fentry.attach(),
    };
    // {:#}: with the kernel's errno ("failed to attach LSM: ... (os error 524)").
    link.map(drop).map_err(|err| format!("{err:#}"))
}

fn probe_ringbuf() -> Result<(), String> {
    let opts = libbpf_rs::libbpf_sys::bpf_map_create_opts {
        sz: size_of::<libbpf_rs::libbpf_sys::bpf_map_create_opts>() as libbpf_rs::libbpf_sys::size_t,
        ..Default::default()
    };
    MapHandle::create(MapType::RingBuf, Some("sg_probe_rb"), 0, 0, 4096, &opts).map(drop).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(lsm_list: &[&str], lsm_attach: Result<(), String>) -> Capabilities {
        Capabilities {
            kernel: "6.1.0".into(),
            btf: true,
            lsm_list: Ok(lsm_list.iter().map(|s| s.to_string()).collect()),
            lsm_attach,
            tracepoint_attach: Ok(()),
            fentry_attach: Ok(()),
            ringbuf: Ok(()),
            bpf_loop: true,
            pinning: None,
            pinned: vec![],
            hooks: vec![],
            lsm_arity: vec![],
            security_arity: vec![],
            overlay_fake_path: false,
        }
    }

    #[test]
    fn full_needs_both_the_list_and_a_loaded_program() {
        assert_eq!(caps(&["lockdown", "bpf"], Ok(())).enforcement(), Enforcement::Full);
        // Attaches without error but enforces nothing: bpf not in lsm=.
        let not_listed = caps(&["lockdown", "yama"], Ok(()));
        assert_eq!(not_listed.enforcement(), Enforcement::Degraded);
        let reason = not_listed.degraded_reason().unwrap();
        assert!(reason.contains("lsm=lockdown,yama,bpf"), "{reason}");
        // Listed, but the loader refuses (this development machine).
        let refused = caps(&["bpf"], Err("Operation not permitted (os error 1)".into()));
        assert_eq!(refused.enforcement(), Enforcement::Degraded);
        assert!(refused.degraded_reason().unwrap().contains("refused"));
    }

    #[test]
    fn bpf_loop_is_reported_both_ways() {
        let mut c = caps(&["bpf"], Ok(()));
        assert!(c.to_text().contains("bpf_loop:          yes (path walks verified once, as callbacks)\n"));
        assert_eq!(c.to_json()["bpf_loop"], true);
        c.bpf_loop = false;
        assert!(c.to_text().contains("bpf_loop:          no (path walks verified level by level"));
        assert_eq!(c.to_json()["bpf_loop"], false);
    }

    #[test]
    fn kernel_versions_parse() {
        assert_eq!(kernel_version("5.10.0-46-cloud-amd64"), (5, 10));
        assert_eq!(kernel_version("6.12.117+deb12-cloud-amd64"), (6, 12));
        assert_eq!(kernel_version("garbage"), (0, 0));
    }

    #[test]
    fn no_btf_is_unsupported_and_says_what_is_missing() {
        let mut c = caps(&["bpf"], Ok(()));
        c.btf = false;
        assert_eq!(c.enforcement(), Enforcement::Unsupported);
        assert!(c.unsupported_reason().unwrap().contains("BTF"));
        assert!(c.degraded_reason().is_none());
    }
}
