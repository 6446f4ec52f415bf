//! Drift: what changed between two inventories, one `Drift` per added, removed or changed
//! item, for the agent's `drift` records. Items are compared by a key per section (a
//! user by name, a listener by protocol, address, port and executable, ...); the same
//! keys name what a finding is about (`Finding::about`), so that a change can be judged
//! by the findings it raises.
//!
//! Whether a change adds risk, and how much (docs/inventory.md, "Drift"):
//! 1. a finding about the item that the old inventory did not have (a new uid 0 account,
//!    a listener run from /tmp, a cron job whose program others may replace): that
//!    finding's severity, and the drift names it;
//! 2. else the section's own severity for an addition or change that widens what an
//!    attacker can use (`baseline`): a new account, key, sudo rule, enabled unit or cron
//!    job is `medium` (how attackers persist), a new listener, module or PATH entry `low`,
//!    a set-id file or capability `low` when a package owns it and `medium` otherwise;
//! 3. else none: the record is INFO (a removal, a package upgrade, a container).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{CronJob, Finding, Inventory, Listener, Severity, SshValue, User};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// The inventory section (`users`, `listeners`, `setid_files`, ...): the asset kind.
    pub section: &'static str,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// The item's key (`tcp 0.0.0.0:22 /usr/sbin/sshd`, a path, a user name).
    pub item: String,
    /// The old and new values of a changed item, or the value of an added/removed one.
    pub before: Option<String>,
    pub after: Option<String>,
    /// How much risk the change adds; `None`: none (the record is INFO).
    pub severity: Option<Severity>,
    /// The finding the change raised (the most severe when several), `id` and title.
    pub finding: Option<(&'static str, String)>,
    /// Findings about the item that the change made go away.
    pub resolved: Vec<&'static str>,
}

type Items = BTreeMap<String, String>;

// The keys of the items, shared with `findings` (a finding is `about` one of them).

pub fn user_key(u: &User) -> String {
    u.name.clone()
}

pub fn ssh_key(s: &SshValue) -> String {
    format!("{}{}", s.key, s.r#match.as_ref().map(|m| format!(" Match {m}")).unwrap_or_default())
}

pub fn listener_key(l: &Listener) -> String {
    let exe = l.processes.first().map_or("?", |p| p.exe.as_str());
    format!("{} {}:{} {exe}", l.protocol, l.address, l.port)
}

pub fn cron_key(c: &CronJob) -> String {
    format!("{} {} {}", c.file, c.user, c.command)
}

pub fn process_key(pid: u32, exe: &str) -> String {
    format!("{pid} {exe}")
}

/// How a section's additions and changes are judged when no finding says more.
#[derive(Clone, Copy, PartialEq)]
enum Baseline {
    /// Adds no risk by itself (packages, containers, running deleted executables: their
    /// findings judge them).
    None,
    Low,
    /// A way in or a way to persist.
    Medium,
    /// Set-id files and capabilities: low when a package owns the file, else medium.
    Owned,
}

/// One section: its name, how it is judged, and its keyed items with, for `Owned`
/// sections, the items a package owns.
struct Section {
    name: &'static str,
    baseline: Baseline,
    items: Items,
    owned: BTreeSet<String>,
}

fn section(name: &'static str, baseline: Baseline, pairs: impl Iterator<Item = (String, String)>) -> Section {
    Section { name, baseline, items: pairs.collect(), owned: BTreeSet::new() }
}

/// The keyed items of each section, in inventory order.
fn sections(inv: &Inventory) -> Vec<Section> {
    let no_package = "(no package)";
    let mut setid = section(
        "setid_files",
        Baseline::Owned,
        inv.setid_files
            .iter()
            .map(|f| (f.path.clone(), format!("{} {}", f.mode, f.package.as_deref().unwrap_or(no_package)))),
    );
    setid.owned = inv.setid_files.iter().filter(|f| f.package.is_some()).map(|f| f.path.clone()).collect();
    let mut caps = section(
        "file_capabilities",
        Baseline::Owned,
        inv.file_capabilities.iter().map(|f| (f.path.clone(), f.capabilities.clone())),
    );
    caps.owned = inv.file_capabilities.iter().filter(|f| f.package.is_some()).map(|f| f.path.clone()).collect();
    let sg = &inv.host.safeguard;
    vec![
        section(
            "users",
            Baseline::Medium,
            inv.users.iter().map(|u| (user_key(u), format!("uid {} shell {} password {}", u.uid, u.shell, u.password))),
        ),
        section(
            "authorized_keys",
            Baseline::Medium,
            inv.users.iter().flat_map(|u| {
                u.authorized_keys.iter().map(move |k| {
                    (format!("{} {} {}", u.name, k.key_type, k.comment), format!("{}:{}", k.file, k.line))
                })
            }),
        ),
        section("sudo_rules", Baseline::Medium, inv.sudo_rules.iter().map(|r| (r.rule.clone(), r.file.clone()))),
        section(
            "ssh",
            Baseline::Low,
            inv.ssh.settings.iter().chain(&inv.ssh.match_overrides).map(|s| (ssh_key(s), s.value.clone())),
        ),
        section("listeners", Baseline::Low, inv.listeners.iter().map(|l| (listener_key(l), format!("uid {}", l.uid)))),
        section(
            "deleted_executables",
            Baseline::None,
            inv.deleted_executables.iter().map(|p| (process_key(p.pid, &p.exe), p.comm.clone())),
        ),
        setid,
        caps,
        section(
            "kernel_modules",
            Baseline::Low,
            inv.kernel_modules.loaded.iter().map(|m| (m.name.clone(), m.taint.clone())),
        ),
        section(
            "services",
            Baseline::Medium,
            inv.services.iter().map(|s| (format!("{} {}", s.wanted_by, s.unit), s.target.clone())),
        ),
        section("cron", Baseline::Medium, inv.cron.iter().map(|c| (cron_key(c), c.schedule.clone()))),
        section(
            "packages",
            Baseline::None,
            inv.packages
                .dpkg
                .iter()
                .chain(&inv.packages.rpm)
                .flatten()
                .map(|p| (format!("{}:{}", p.name, p.arch), p.version.clone())),
        ),
        section(
            "root_path",
            Baseline::Low,
            inv.root_path
                .iter()
                .map(|d| (d.dir.clone(), if d.world_writable { "world-writable" } else { "ok" }.to_string())),
        ),
        section(
            "containers",
            Baseline::None,
            inv.containers.running.iter().map(|c| (format!("{} {}", c.runtime, c.id), c.pid.to_string())),
        ),
        section(
            "sysctls",
            Baseline::Low,
            inv.sysctls.iter().map(|s| (s.name.clone(), s.value.clone().unwrap_or_else(|| "-".into()))),
        ),
        section(
            "safeguard",
            Baseline::Low,
            std::iter::once((format!("config {}", sg.config), sg.config_state.clone()))
                .chain(sg.modules.iter().map(|m| (format!("module {}", m.module), m.state.clone()))),
        ),
    ]
}

/// The key of the config item of the `safeguard` section, for its findings.
pub fn safeguard_config_key(config: &str) -> String {
    format!("config {config}")
}

/// Everything that differs from `old` to `new`, by section in inventory order, each
/// judged by the findings of both (`findings(old)`, `findings(new)`; see the module
/// comment).
pub fn diff(old: &Inventory, old_findings: &[Finding], new: &Inventory, new_findings: &[Finding]) -> Vec<Drift> {
    let about = |findings: &[Finding], section: &str, item: &str| -> Vec<(&'static str, Severity, String)> {
        findings
            .iter()
            .filter(|f| f.about.as_ref().is_some_and(|(s, k)| *s == section && k == item))
            .map(|f| (f.id, f.severity, f.title.clone()))
            .collect()
    };
    let mut out = Vec::new();
    for (before, after) in sections(old).into_iter().zip(sections(new)) {
        let name = after.name;
        let judge = |change: &'static str,
                     key: &str|
         -> (Option<Severity>, Option<(&'static str, String)>, Vec<&'static str>) {
            let was = about(old_findings, name, key);
            let now = about(new_findings, name, key);
            let raised = now
                .iter()
                .filter(|(id, ..)| !was.iter().any(|(old_id, ..)| old_id == id))
                .max_by_key(|(_, severity, _)| *severity)
                .map(|(id, severity, title)| (*id, *severity, title.clone()));
            let resolved =
                was.iter().filter(|(id, ..)| !now.iter().any(|(n, ..)| n == id)).map(|(id, ..)| *id).collect();
            if let Some((id, severity, title)) = raised {
                return (Some(severity), Some((id, title)), resolved);
            }
            let baseline = match (after.baseline, change) {
                (_, "removed") | (Baseline::None, _) => None,
                (Baseline::Low, _) => Some(Severity::Low),
                (Baseline::Medium, "added") => Some(Severity::Medium),
                (Baseline::Medium, _) => Some(Severity::Low),
                (Baseline::Owned, _) if after.owned.contains(key) => Some(Severity::Low),
                (Baseline::Owned, _) => Some(Severity::Medium),
            };
            (baseline, None, resolved)
        };
        let drift = |change: &'static str, key: &String, before: Option<&String>, after: Option<&String>| {
            let (severity, finding, resolved) = judge(change, key);
            Drift {
                section: name,
                change,
                item: key.clone(),
                before: before.cloned(),
                after: after.cloned(),
                severity,
                finding,
                resolved,
            }
        };
        for (key, value) in &after.items {
            match before.items.get(key) {
                None => out.push(drift("added", key, None, Some(value))),
                // A container's first pid is no change of the host.
                Some(old_value) if old_value != value && name != "containers" => {
                    out.push(drift("changed", key, Some(old_value), Some(value)))
                }
                Some(_) => {}
            }
        }
        for (key, value) in &before.items {
            if !after.items.contains_key(key) {
                let mut removed = drift("removed", key, Some(value), None);
                // A sysctl that is no longer set, or safeguard's config gone, may remove a protection.
                if matches!(name, "sysctls" | "safeguard") {
                    removed.severity = removed.severity.or(Some(Severity::Low));
                }
                out.push(removed);
            }
        }
    }
    out
}
