//! The readable summaries of `safeguard inventory` and `safeguard risk`. Long lists
//! (packages, system accounts, kernel modules) are counted, not printed; `--json` has
//! everything.

use std::fmt::Write;

use super::{Finding, Inventory};

fn opt(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("-")
}

pub fn inventory(inv: &Inventory) -> String {
    let mut o = String::new();
    let h = &inv.host;
    let _ = writeln!(o, "Host ({})", if inv.live { "live".to_string() } else { format!("offline root {}", inv.root) });
    let _ = writeln!(o, "  name           {}", opt(&h.hostname));
    let _ = writeln!(o, "  machine id     {}", opt(&h.machine_id));
    let _ = writeln!(o, "  os             {}", h.os.pretty_name.as_deref().or(h.os.id.as_deref()).unwrap_or("-"));
    if inv.live {
        let _ = writeln!(o, "  kernel         {}", opt(&h.kernel_release));
        let _ = writeln!(o, "  cmdline        {}", opt(&h.kernel_cmdline));
        let _ = writeln!(o, "  lsm            {}", h.lsm.as_ref().map_or("-".into(), |l| l.join(",")));
        let _ = writeln!(o, "  lockdown       {}", opt(&h.lockdown));
        let _ = writeln!(o, "  btf            {}", h.btf.map_or("-", |b| if b { "yes" } else { "no" }));
    }
    let sg = &h.safeguard;
    let modules: Vec<String> = sg.modules.iter().map(|m| format!("{} {}", m.module, m.state)).collect();
    let _ = writeln!(
        o,
        "  safeguard      {}; config {} {}{}{}",
        if sg.installed { "installed" } else { "not installed" },
        sg.config,
        sg.config_state,
        if modules.is_empty() { String::new() } else { format!(" ({})", modules.join(", ")) },
        sg.agents.as_ref().map_or(String::new(), |a| match a.as_slice() {
            [] => "; no agent running".into(),
            pids => format!("; agent pid {}", pids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")),
        })
    );

    let logins: Vec<_> = inv.users.iter().filter(|u| u.login_shell || u.uid == 0).collect();
    let _ = writeln!(o, "\nUsers ({} accounts, {} with a login shell or uid 0)", inv.users.len(), logins.len());
    for u in logins {
        let _ = writeln!(
            o,
            "  {:<16} uid {:<6} {:<20} password {:<8} sudo {} keys {}",
            u.name,
            u.uid,
            u.shell,
            u.password,
            u.sudo.len(),
            u.authorized_keys.len()
        );
    }
    for g in inv.groups.iter().filter(|g| !g.members.is_empty()) {
        let _ = writeln!(o, "  group {:<10} gid {:<6} {}", g.name, g.gid, g.members.join(","));
    }
    for r in &inv.sudo_rules {
        let _ = writeln!(o, "  sudo  {}  ({})", r.rule, r.file);
    }

    if let Some(config) = &inv.ssh.config {
        let _ = writeln!(o, "\nSSH ({config}, {} files)", inv.ssh.files.len());
        for s in inv.ssh.settings.iter().chain(&inv.ssh.match_overrides) {
            let scope = s.r#match.as_ref().map(|m| format!(" in Match {m}")).unwrap_or_default();
            let _ = writeln!(o, "  {:<30} {:<18} {}{scope}", s.key, s.value, s.source);
        }
    }

    if inv.live {
        let _ = writeln!(o, "\nListeners ({})", inv.listeners.len());
        for l in &inv.listeners {
            let procs: Vec<String> = l.processes.iter().map(|p| format!("{}[{}] {}", p.comm, p.pid, p.exe)).collect();
            let addr = if l.address.contains(':') { format!("[{}]", l.address) } else { l.address.clone() };
            let _ = writeln!(
                o,
                "  {} {:<26} uid {:<6}{} {}",
                l.protocol,
                format!("{addr}:{}", l.port),
                l.uid,
                if l.host_netns { "" } else { " (other netns)" },
                procs.join(", ")
            );
        }
        let _ = writeln!(o, "\nDeleted executables still running ({})", inv.deleted_executables.len());
        for p in &inv.deleted_executables {
            let _ = writeln!(o, "  {} {} {}", p.pid, p.comm, p.exe);
        }
    }

    let w = &inv.walk;
    let _ = writeln!(
        o,
        "\nSet-id files ({}; walked {} entries under {}{})",
        inv.setid_files.len(),
        w.entries,
        w.dirs.join(" "),
        if w.truncated { format!(", STOPPED at the limit of {}", w.limit) } else { String::new() }
    );
    for f in &inv.setid_files {
        let _ = writeln!(o, "  {:>5} {:<40} {}", f.mode, f.path, f.package.as_deref().unwrap_or("(no package)"));
    }
    let _ = writeln!(o, "\nFile capabilities ({})", inv.file_capabilities.len());
    for f in &inv.file_capabilities {
        let _ = writeln!(o, "  {:<40} {}", f.path, f.capabilities);
    }

    let k = &inv.kernel_modules;
    let _ = writeln!(o, "\nKernel modules");
    if inv.live {
        let _ = writeln!(o, "  loaded {}; taint {}", k.loaded.len(), k.taint.map_or("-".into(), |t| t.to_string()));
        for flag in &k.taint_flags {
            let _ = writeln!(o, "    {flag}");
        }
        for m in k.loaded.iter().filter(|m| !m.taint.is_empty()) {
            let _ = writeln!(o, "  {} ({})", m.name, m.taint);
        }
    }
    let _ =
        writeln!(o, "  loaded at boot: {}", if k.configured.is_empty() { "-".into() } else { k.configured.join(" ") });

    let _ = writeln!(o, "\nEnabled units ({})", inv.services.len());
    for s in &inv.services {
        let _ = writeln!(o, "  {:<40} {}", s.unit, s.wanted_by);
    }
    let _ = writeln!(o, "\nCron jobs ({})", inv.cron.len());
    for c in &inv.cron {
        let _ = writeln!(o, "  {:<14} {:<8} {}  ({}{})", c.schedule, c.user, c.command, c.file, line_of(c.line));
    }

    let p = &inv.packages;
    let _ = writeln!(o, "\nPackages");
    let _ =
        writeln!(o, "  dpkg: {}", p.dpkg.as_ref().map_or("no database".into(), |d| format!("{} installed", d.len())));
    match (&p.rpm_db, &p.rpm) {
        (Some(db), Some(list)) => drop(writeln!(o, "  rpm: {} installed ({db})", list.len())),
        (Some(db), None) => drop(writeln!(o, "  rpm: database {db} present, not read (see unavailable)")),
        (None, _) => {}
    }

    let _ = writeln!(o, "\nroot's PATH");
    for d in &inv.root_path {
        let state = if !d.exists {
            "missing"
        } else if d.world_writable {
            "WORLD-WRITABLE"
        } else {
            "ok"
        };
        let _ = writeln!(o, "  {:<24} {:<14} {}", d.dir, state, d.sources.join(", "));
    }

    let c = &inv.containers;
    let _ = writeln!(o, "\nContainers");
    let mut runtimes: Vec<&str> = c.runtimes.iter().map(|r| r.name.as_str()).collect();
    runtimes.dedup();
    let _ = writeln!(o, "  runtimes: {}", if runtimes.is_empty() { "-".into() } else { runtimes.join(" ") });
    for r in &c.running {
        let short = r.id.get(..12).unwrap_or(&r.id);
        let _ = writeln!(o, "  {} {} pid {} ({} processes) {}", r.runtime, short, r.pid, r.processes, opt(&r.hostname));
    }

    let _ = writeln!(o, "\nSecurity sysctls");
    for s in &inv.sysctls {
        let _ = writeln!(o, "  {:<34} {:<6} {}", s.name, opt(&s.value), s.source);
    }
    if !inv.unavailable.is_empty() {
        let _ = writeln!(o, "\nNot available");
        for u in &inv.unavailable {
            let _ = writeln!(o, "  {}: {}", u.section, u.reason);
        }
    }
    o
}

fn line_of(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}")
    }
}

pub fn risk(inv: &Inventory, found: &[Finding]) -> String {
    let mut o = String::new();
    if found.is_empty() {
        let _ = writeln!(o, "no findings");
    }
    for f in found {
        let _ = writeln!(o, "{:<8} {:<24} {}", f.severity.name().to_uppercase(), f.id, f.title);
        for e in &f.evidence {
            let _ = writeln!(o, "         evidence: {e}");
        }
        let _ = writeln!(o, "         remedy:   {}", f.remedy);
    }
    let count = |s| found.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        o,
        "\n{} findings: {} critical, {} high, {} medium, {} low",
        found.len(),
        count(super::Severity::Critical),
        count(super::Severity::High),
        count(super::Severity::Medium),
        count(super::Severity::Low)
    );
    for u in &inv.unavailable {
        let _ = writeln!(o, "not checked: {}: {}", u.section, u.reason);
    }
    o
}
