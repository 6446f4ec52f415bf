//! Risk findings: pure rules over an `Inventory` and safeguard's own config. Each finding
//! has a stable id (docs/inventory.md lists them), a severity, a title, the evidence that
//! raised it and the remedy.

use std::fmt;

use serde::Serialize;

use super::diff::{cron_key, listener_key, process_key, safeguard_config_key, ssh_key, user_key};
use super::{Inventory, Listener};
use crate::config;

/// SPEC section 9: `low` < `medium` < `high` < `critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// `--fail-on`: a severity name in any case.
    pub fn parse(text: &str) -> Result<Severity, String> {
        Severity::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("{text:?} is not a severity (low, medium, high, critical)"))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    pub title: String,
    pub evidence: Vec<String>,
    pub remedy: String,
    /// The drift section and item key the finding is about (`diff`'s keys), so that a
    /// change can be judged by the findings it raises; not part of the JSON.
    #[serde(skip)]
    pub about: Option<(&'static str, String)>,
}

impl Finding {
    fn about(mut self, section: &'static str, key: String) -> Finding {
        self.about = Some((section, key));
        self
    }
}

/// Executables run from below these are system programs (package-managed locations).
const SYSTEM_DIRS: [&str; 7] = ["/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/", "/snap/"];

fn finding(id: &'static str, severity: Severity, title: String, evidence: Vec<String>, remedy: &str) -> Finding {
    Finding { id, severity, title, evidence, remedy: remedy.to_string(), about: None }
}

/// Every finding, most severe first (then by id, then by title).
pub fn findings(inv: &Inventory, config: Option<&config::Config>) -> Vec<Finding> {
    let mut out = Vec::new();
    users(inv, &mut out);
    ssh(inv, &mut out);
    files(inv, &mut out);
    processes(inv, &mut out);
    kernel(inv, &mut out);
    safeguard(inv, config, &mut out);
    out.sort_by(|a, b| (b.severity, a.id, &a.title).cmp(&(a.severity, b.id, &b.title)));
    out
}

fn users(inv: &Inventory, out: &mut Vec<Finding>) {
    for u in inv.users.iter().filter(|u| u.uid == 0 && u.name != "root") {
        out.push(
            finding(
                "uid0-account",
                Severity::Critical,
                format!("account {} has uid 0 besides root", u.name),
                vec![format!("/etc/passwd: {}:{}:{}:{}:{}", u.name, u.uid, u.gid, u.home, u.shell)],
                "remove the account or give it its own uid (usermod -u); audit what it was used for",
            )
            .about("users", user_key(u)),
        );
    }
    for u in inv.users.iter().filter(|u| u.password == "empty") {
        let severity = if u.login_shell || u.uid == 0 { Severity::High } else { Severity::Medium };
        out.push(
            finding(
                "empty-password",
                severity,
                format!("account {} has an empty password", u.name),
                vec![format!("password field empty; shell {}", u.shell)],
                "lock it (passwd -l NAME) or set a password",
            )
            .about("users", user_key(u)),
        );
    }
}

fn ssh(inv: &Inventory, out: &mut Vec<Finding>) {
    let all = inv.ssh.settings.iter().chain(&inv.ssh.match_overrides);
    for s in all {
        let scope = s.r#match.as_ref().map(|m| format!(" (Match {m})")).unwrap_or_default();
        let evidence = vec![format!("{} {} at {}{scope}", s.key, s.value, s.source)];
        let found = match (s.key.as_str(), s.value.as_str()) {
            ("PermitRootLogin", "yes") => Some(finding(
                "ssh-root-login",
                Severity::High,
                format!("sshd lets root log in with a password{scope}"),
                evidence,
                "set PermitRootLogin prohibit-password (or no) in /etc/ssh/sshd_config",
            )),
            ("PasswordAuthentication", "yes") => Some(finding(
                "ssh-password-auth",
                if s.source == "default" { Severity::Low } else { Severity::Medium },
                format!("sshd accepts password logins{scope}"),
                evidence,
                "set PasswordAuthentication no and use keys",
            )),
            ("PermitEmptyPasswords", "yes") => Some(finding(
                "ssh-empty-passwords",
                Severity::High,
                format!("sshd accepts empty passwords{scope}"),
                evidence,
                "set PermitEmptyPasswords no",
            )),
            _ => None,
        };
        out.extend(found.map(|f| f.about("ssh", ssh_key(s))));
    }
}

fn files(inv: &Inventory, out: &mut Vec<Finding>) {
    if inv.packages.owner_db.is_some() {
        for f in inv.setid_files.iter().filter(|f| f.package.is_none()) {
            let severity = if f.setuid && f.uid == 0 { Severity::High } else { Severity::Medium };
            let what = if f.setuid { "setuid" } else { "setgid" };
            out.push(
                finding(
                    "setid-unowned",
                    severity,
                    format!("{what} file {} belongs to no package", f.path),
                    vec![format!("{} mode {} uid {} gid {}", f.path, f.mode, f.uid, f.gid)],
                    "remove the set-id bits (chmod u-s,g-s) or the file, unless you installed it on purpose",
                )
                .about("setid_files", f.path.clone()),
            );
        }
    }
    for d in inv.root_path.iter().filter(|d| d.world_writable) {
        out.push(
            finding(
                "path-world-writable",
                Severity::High,
                format!("root's PATH holds the world-writable directory {}", d.dir),
                vec![format!("{} (from {}){}", d.dir, d.sources.join(", "), if d.sticky { ", sticky" } else { "" })],
                "chmod o-w the directory, or remove it from root's PATH",
            )
            .about("root_path", d.dir.clone()),
        );
    }
    for c in &inv.cron {
        let Some(program) = &c.writable_program else { continue };
        let privileged = inv.users.iter().any(|u| u.name == c.user && u.uid == 0);
        out.push(
            finding(
                "cron-writable-program",
                if privileged { Severity::High } else { Severity::Medium },
                format!("cron runs {program} as {}, and others may replace it", c.user),
                vec![format!("{}:{}: {} {} {}", c.file, c.line, c.schedule, c.user, c.command)],
                "make the program and its directory writable by root only (chmod go-w)",
            )
            .about("cron", cron_key(c)),
        );
    }
    for d in inv.root_path.iter().filter(|d| !d.dir.starts_with('/')) {
        out.push(
            finding(
                "path-relative",
                Severity::High,
                format!("root's PATH holds the relative entry {:?}", d.dir),
                vec![format!("from {}", d.sources.join(", "))],
                "remove relative and empty entries from root's PATH",
            )
            .about("root_path", d.dir.clone()),
        );
    }
}

fn listener_text(l: &Listener) -> String {
    let procs: Vec<String> = l.processes.iter().map(|p| format!("pid {} {}", p.pid, p.exe)).collect();
    format!("{} {}:{} uid {} {}", l.protocol, l.address, l.port, l.uid, procs.join(", "))
}

fn processes(inv: &Inventory, out: &mut Vec<Finding>) {
    for l in inv.listeners.iter().filter(|l| l.all_addresses) {
        let outside: Vec<_> =
            l.processes.iter().filter(|p| !SYSTEM_DIRS.iter().any(|d| p.exe.starts_with(d))).collect();
        if let Some(p) = outside.first() {
            out.push(
                finding(
                    "listener-outside-system",
                    Severity::Medium,
                    format!("{} listens on all addresses, port {}/{}", p.exe, l.port, l.protocol),
                    vec![listener_text(l)],
                    "bind it to the addresses it serves, firewall it, or install it as a package",
                )
                .about("listeners", listener_key(l)),
            );
        }
    }
    for p in &inv.deleted_executables {
        if let Some(runc) = &p.copy_of {
            out.push(
                finding(
                    "deleted-executable",
                    Severity::Low,
                    format!("process {} ({}) runs runc's sealed copy of itself", p.pid, p.comm),
                    vec![format!("pid {} exe {}, byte for byte the same as {runc}", p.pid, p.exe)],
                    "none needed: runc re-executes from a sealed in-memory copy of its binary to protect \
                     against CVE-2019-5736 (the copy was compared with the installed runc)",
                )
                .about("deleted_executables", process_key(p.pid, &p.exe)),
            );
            continue;
        }
        let fileless = p.exe.starts_with("/memfd:");
        let runc_name = p.exe.starts_with(super::collect::RUNC_MEMFD);
        out.push(
            finding(
                "deleted-executable",
                if fileless { Severity::High } else { Severity::Medium },
                if runc_name {
                    format!(
                        "process {} ({}) runs from a memfd named like runc's copy, but not a copy of an installed runc",
                        p.pid, p.comm
                    )
                } else {
                    format!("process {} ({}) runs an executable that was deleted", p.pid, p.comm)
                },
                vec![format!("pid {} exe {}", p.pid, p.exe)],
                if fileless {
                    "a program running from memory (memfd): find out what started it"
                } else {
                    "restart it after an upgrade; otherwise find out why its file was removed"
                },
            )
            .about("deleted_executables", process_key(p.pid, &p.exe)),
        );
    }
}

fn sysctl<'a>(inv: &'a Inventory, name: &str) -> Option<(&'a str, &'a str)> {
    inv.sysctls.iter().find(|s| s.name == name).and_then(|s| Some((s.value.as_deref()?, s.source.as_str())))
}

fn kernel(inv: &Inventory, out: &mut Vec<Finding>) {
    let tainted: Vec<_> =
        inv.kernel_modules.loaded.iter().filter(|m| m.taint.contains('O') || m.taint.contains('E')).collect();
    for m in tainted {
        out.push(
            finding(
                "module-taint",
                Severity::Medium,
                format!("kernel module {} is out-of-tree or unsigned", m.name),
                vec![format!("/proc/modules: {} ({})", m.name, m.taint)],
                "make sure you know where the module comes from; sign it or remove it (modprobe -r)",
            )
            .about("kernel_modules", m.name.clone()),
        );
    }
    let checks: [(&str, &str, &str, Severity, &str, &str); 5] = [
        (
            "ptrace-scope",
            "kernel.yama.ptrace_scope",
            "0",
            Severity::Medium,
            "any process may ptrace every other process of its user",
            "sysctl kernel.yama.ptrace_scope=1 (in /etc/sysctl.d/)",
        ),
        (
            "unprivileged-bpf",
            "kernel.unprivileged_bpf_disabled",
            "0",
            Severity::High,
            "unprivileged users may load BPF programs",
            "sysctl kernel.unprivileged_bpf_disabled=2 (in /etc/sysctl.d/)",
        ),
        (
            "aslr-off",
            "kernel.randomize_va_space",
            "0",
            Severity::High,
            "address space layout randomisation is off",
            "sysctl kernel.randomize_va_space=2",
        ),
        (
            "kptr-exposed",
            "kernel.kptr_restrict",
            "0",
            Severity::Low,
            "kernel addresses are shown to unprivileged users",
            "sysctl kernel.kptr_restrict=1",
        ),
        (
            "suid-dumpable",
            "fs.suid_dumpable",
            "1",
            Severity::Medium,
            "set-id programs dump core readable by their user",
            "sysctl fs.suid_dumpable=0 (or 2 with a safe core_pattern)",
        ),
    ];
    for (id, name, bad, severity, title, remedy) in checks {
        if let Some((value, source)) = sysctl(inv, name) {
            if value == bad {
                out.push(
                    finding(id, severity, title.to_string(), vec![format!("{name} = {value} ({source})")], remedy)
                        .about("sysctls", name.to_string()),
                );
            }
        }
    }
    if let Some(lsm) = &inv.host.lsm {
        if !lsm.iter().any(|l| l == "bpf") {
            out.push(finding(
                "bpf-lsm-inactive",
                Severity::High,
                "BPF LSM is not active: safeguard can audit but not block".into(),
                vec![format!("/sys/kernel/security/lsm: {}", lsm.join(","))],
                "add bpf to the kernel's lsm= list (e.g. lsm=lockdown,capability,yama,apparmor,bpf) and reboot",
            ));
        }
    }
}

fn safeguard(inv: &Inventory, config: Option<&config::Config>, out: &mut Vec<Finding>) {
    let sg = &inv.host.safeguard;
    if sg.config_state == "invalid" {
        out.push(
            finding(
                "safeguard-config-invalid",
                Severity::High,
                format!("safeguard's config {} is invalid: the agent will not start", sg.config),
                sg.config_error.iter().cloned().collect(),
                "fix it (safeguard check -c FILE)",
            )
            .about("safeguard", safeguard_config_key(&sg.config)),
        );
    }
    let Some(cfg) = config else { return };
    for m in super::collect::module_states(cfg) {
        let (id, severity, title) = match m.state.as_str() {
            "off" => ("safeguard-module-off", Severity::Medium, format!("safeguard's {} module is off", m.module)),
            "monitor" => (
                "safeguard-monitor",
                Severity::Low,
                format!("safeguard's {} module only monitors (blocks nothing)", m.module),
            ),
            _ => continue,
        };
        out.push(finding(
            id,
            severity,
            title,
            vec![format!("{}: [{}] {}", sg.config, m.module, m.state)],
            "enable it and set mode = \"block\" once a monitor run shows no unexpected MONITOR records",
        ));
    }
    if sg.agents.as_ref().is_some_and(Vec::is_empty) && sg.installed {
        out.push(finding(
            "safeguard-not-running",
            Severity::Medium,
            "safeguard is installed but no agent is running".into(),
            vec!["no `safeguard run` process".into()],
            "systemctl enable --now safeguard",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Low < Severity::Medium && Severity::High < Severity::Critical);
        assert_eq!(Severity::parse("HIGH"), Ok(Severity::High));
        assert_eq!(Severity::parse("critical"), Ok(Severity::Critical));
        assert!(Severity::parse("severe").unwrap_err().contains("low, medium, high, critical"));
        assert_eq!(serde_json::to_string(&Severity::Medium).unwrap(), "\"medium\"");
    }
}
