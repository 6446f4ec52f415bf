//! Drift: what changed between two inventories, one `Drift` per added, removed or changed
//! item, for the agent's `drift` records. Items are compared by a key per section (a
//! user by name, a listener by protocol, address, port and executable, ...).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Inventory;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// The inventory section (`users`, `listeners`, `setid_files`, ...).
    pub section: &'static str,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// The item's key (`tcp 0.0.0.0:22 /usr/sbin/sshd`, a path, a user name).
    pub item: String,
    /// The old and new values of a changed item, or the value of an added/removed one.
    pub before: Option<String>,
    pub after: Option<String>,
    /// The change adds risk (a new account, listener, set-id file, module, ...): the
    /// agent writes it as WARNING.
    pub risk: bool,
}

type Items = BTreeMap<String, String>;

/// The keyed items of each section, and whether an addition there adds risk.
fn sections(inv: &Inventory) -> Vec<(&'static str, bool, Items)> {
    let collect = |pairs: Vec<(String, String)>| -> Items { pairs.into_iter().collect() };
    vec![
        (
            "users",
            true,
            collect(
                inv.users
                    .iter()
                    .map(|u| (u.name.clone(), format!("uid {} shell {} password {}", u.uid, u.shell, u.password)))
                    .collect(),
            ),
        ),
        (
            "authorized_keys",
            true,
            collect(
                inv.users
                    .iter()
                    .flat_map(|u| {
                        u.authorized_keys.iter().map(move |k| {
                            (format!("{} {} {}", u.name, k.key_type, k.comment), format!("{}:{}", k.file, k.line))
                        })
                    })
                    .collect(),
            ),
        ),
        ("sudo_rules", true, collect(inv.sudo_rules.iter().map(|r| (r.rule.clone(), r.file.clone())).collect())),
        (
            "ssh",
            true,
            collect(
                inv.ssh
                    .settings
                    .iter()
                    .chain(&inv.ssh.match_overrides)
                    .map(|s| {
                        (
                            format!(
                                "{}{}",
                                s.key,
                                s.r#match.as_ref().map(|m| format!(" Match {m}")).unwrap_or_default()
                            ),
                            s.value.clone(),
                        )
                    })
                    .collect(),
            ),
        ),
        (
            "listeners",
            true,
            collect(
                inv.listeners
                    .iter()
                    .map(|l| {
                        let exe = l.processes.first().map_or("?", |p| p.exe.as_str());
                        (format!("{} {}:{} {exe}", l.protocol, l.address, l.port), format!("uid {}", l.uid))
                    })
                    .collect(),
            ),
        ),
        (
            "setid_files",
            true,
            collect(
                inv.setid_files
                    .iter()
                    .map(|f| (f.path.clone(), format!("{} {}", f.mode, f.package.as_deref().unwrap_or("(no package)"))))
                    .collect(),
            ),
        ),
        (
            "file_capabilities",
            true,
            collect(inv.file_capabilities.iter().map(|f| (f.path.clone(), f.capabilities.clone())).collect()),
        ),
        (
            "kernel_modules",
            true,
            collect(inv.kernel_modules.loaded.iter().map(|m| (m.name.clone(), m.taint.clone())).collect()),
        ),
        (
            "services",
            true,
            collect(inv.services.iter().map(|s| (format!("{} {}", s.wanted_by, s.unit), s.target.clone())).collect()),
        ),
        (
            "cron",
            true,
            collect(
                inv.cron.iter().map(|c| (format!("{} {} {}", c.file, c.user, c.command), c.schedule.clone())).collect(),
            ),
        ),
        (
            "packages",
            false,
            collect(
                inv.packages
                    .dpkg
                    .iter()
                    .flatten()
                    .map(|p| (format!("{}:{}", p.name, p.arch), p.version.clone()))
                    .collect(),
            ),
        ),
        (
            "root_path",
            true,
            collect(
                inv.root_path
                    .iter()
                    .map(|d| (d.dir.clone(), if d.world_writable { "world-writable" } else { "ok" }.to_string()))
                    .collect(),
            ),
        ),
        (
            "containers",
            false,
            collect(
                inv.containers.running.iter().map(|c| (format!("{} {}", c.runtime, c.id), c.pid.to_string())).collect(),
            ),
        ),
        (
            "sysctls",
            true,
            collect(
                inv.sysctls.iter().map(|s| (s.name.clone(), s.value.clone().unwrap_or_else(|| "-".into()))).collect(),
            ),
        ),
    ]
}

/// Everything that differs from `old` to `new`, by section in inventory order.
pub fn diff(old: &Inventory, new: &Inventory) -> Vec<Drift> {
    let mut out = Vec::new();
    for ((section, risky, before), (_, _, after)) in sections(old).into_iter().zip(sections(new)) {
        for (key, value) in &after {
            match before.get(key) {
                None => out.push(Drift {
                    section,
                    change: "added",
                    item: key.clone(),
                    before: None,
                    after: Some(value.clone()),
                    risk: risky,
                }),
                // A container's first pid is no change of the host.
                Some(old_value) if old_value != value && section != "containers" => out.push(Drift {
                    section,
                    change: "changed",
                    item: key.clone(),
                    before: Some(old_value.clone()),
                    after: Some(value.clone()),
                    risk: risky && section != "packages",
                }),
                Some(_) => {}
            }
        }
        for (key, value) in &before {
            if !after.contains_key(key) {
                out.push(Drift {
                    section,
                    change: "removed",
                    item: key.clone(),
                    before: Some(value.clone()),
                    after: None,
                    // A sysctl or PATH entry that disappears may remove a protection.
                    risk: matches!(section, "sysctls"),
                });
            }
        }
    }
    out
}
