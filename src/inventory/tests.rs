//! The fixture root of tests/inventory/make-fixture.sh, collected offline: exactly the
//! planted items are reported, and nothing else.

use std::path::PathBuf;
use std::process::Command;

use super::*;

fn fixture(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sg-inventory-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let status = Command::new("sh")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/inventory/make-fixture.sh"))
        .arg(&dir)
        .status()
        .expect("run make-fixture.sh");
    assert!(status.success());
    dir
}

#[test]
fn fixture_root_inventory_and_findings() {
    let dir = fixture("collect");
    let root = Root::offline(&dir).unwrap();
    let inv = collect(&root, None);
    std::fs::remove_dir_all(&dir).unwrap();

    assert!(!inv.live);
    assert_eq!(inv.host.hostname.as_deref(), Some("fixture-host"));
    assert_eq!(inv.host.os.id.as_deref(), Some("debian"), "absolute symlink resolved inside the root");
    assert_eq!(inv.host.os.version_id.as_deref(), Some("12"));
    assert_eq!(inv.host.kernel_release, None);
    assert_eq!(inv.host.safeguard.config_state, "absent");

    let uid0: Vec<_> = inv.users.iter().filter(|u| u.uid == 0).map(|u| u.name.as_str()).collect();
    assert_eq!(uid0, ["root", "toor"]);
    let passwords: Vec<_> = inv.users.iter().map(|u| (u.name.as_str(), u.password.as_str())).collect();
    assert_eq!(
        passwords,
        [("root", "set"), ("daemon", "locked"), ("alice", "set"), ("toor", "set"), ("guest", "empty")]
    );
    let alice = inv.users.iter().find(|u| u.name == "alice").unwrap();
    assert_eq!(alice.sudo, ["%sudo ALL=(ALL:ALL) ALL", "alice ALL=(root) NOPASSWD: /usr/bin/systemctl"]);
    assert_eq!(alice.authorized_keys.len(), 1);
    assert_eq!(alice.authorized_keys[0].options, "from=\"10.0.0.0/8\"");
    let root_user = &inv.users[0];
    assert_eq!(root_user.authorized_keys[0].key_type, "ssh-ed25519");
    assert_eq!(root_user.authorized_keys[0].comment, "root@admin");
    assert_eq!(inv.sudo_rules.len(), 3, "README.txt in sudoers.d is ignored");

    let ssh = |key: &str| inv.ssh.settings.iter().find(|s| s.key == key).unwrap();
    assert_eq!(ssh("PermitRootLogin").value, "yes");
    assert_eq!(ssh("PermitRootLogin").source, "/etc/ssh/sshd_config.d/50-planted.conf:1");
    assert_eq!(ssh("PasswordAuthentication").source, "/etc/ssh/sshd_config:3");
    assert_eq!(ssh("PermitEmptyPasswords").source, "default");
    assert_eq!(inv.ssh.match_overrides.len(), 1);
    assert_eq!(inv.ssh.match_overrides[0].r#match.as_deref(), Some("User backup"));

    let setid: Vec<_> =
        inv.setid_files.iter().map(|f| (f.path.as_str(), f.mode.as_str(), f.package.as_deref())).collect();
    assert_eq!(setid, [("/usr/bin/su", "4755", Some("login")), ("/usr/local/bin/helper", "4755", None)]);
    assert!(!inv.walk.truncated);
    assert!(inv.walk.dirs.contains(&"/usr".to_string()) && !inv.walk.dirs.contains(&"/bin".to_string()));

    let ww: Vec<_> = inv.root_path.iter().filter(|d| d.world_writable).map(|d| d.dir.as_str()).collect();
    assert_eq!(ww, ["/opt/tools/bin"]);

    let cron: Vec<_> = inv.cron.iter().map(|c| (c.file.as_str(), c.user.as_str(), c.command.as_str())).collect();
    assert_eq!(
        cron,
        [
            ("/etc/cron.d/backup", "root", "/opt/tools/bin/backup.sh --quiet"),
            ("/var/spool/cron/crontabs/alice", "alice", "/home/alice/sync.sh")
        ]
    );
    let units: Vec<_> = inv.services.iter().map(|s| (s.unit.as_str(), s.kind.as_str())).collect();
    assert_eq!(units, [("ssh.service", "service"), ("backup.timer", "timer")]);
    let pkgs: Vec<_> = inv.packages.dpkg.as_ref().unwrap().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(pkgs, ["bash", "login"]);
    let writable: Vec<_> = inv.cron.iter().map(|c| c.writable_program.as_deref()).collect();
    assert_eq!(writable, [Some("/opt/tools/bin/backup.sh"), None]);
    assert!(inv.listeners.is_empty() && inv.deleted_executables.is_empty());
    assert!(inv.unavailable.iter().any(|u| u.section == "listeners"));

    let found: Vec<_> = findings(&inv, None).into_iter().map(|f| (f.id, f.severity, f.title)).collect();
    assert_eq!(
        found,
        [
            ("uid0-account", Severity::Critical, "account toor has uid 0 besides root".to_string()),
            (
                "cron-writable-program",
                Severity::High,
                "cron runs /opt/tools/bin/backup.sh as root, and others may replace it".to_string()
            ),
            ("empty-password", Severity::High, "account guest has an empty password".to_string()),
            (
                "path-world-writable",
                Severity::High,
                "root's PATH holds the world-writable directory /opt/tools/bin".to_string()
            ),
            ("setid-unowned", Severity::High, "setuid file /usr/local/bin/helper belongs to no package".to_string()),
            ("ssh-root-login", Severity::High, "sshd lets root log in with a password".to_string()),
            ("ssh-password-auth", Severity::Medium, "sshd accepts password logins (Match User backup)".to_string()),
        ]
    );
}

#[test]
fn safeguard_config_findings() {
    let text = "[file]\nmode = \"block\"\n[process]\nmode = \"monitor\"\n[network]\nenable = false\n";
    let cfg = crate::config::parse(text, std::path::Path::new("/etc/safeguard/safeguard.toml")).unwrap();
    let dir = fixture("config");
    let inv = collect(&Root::offline(&dir).unwrap(), None);
    std::fs::remove_dir_all(&dir).unwrap();
    let ids: Vec<_> = findings(&inv, Some(&cfg))
        .into_iter()
        .filter(|f| f.id.starts_with("safeguard"))
        .map(|f| (f.id, f.title))
        .collect();
    assert_eq!(
        ids,
        [
            ("safeguard-module-off", "safeguard's mount module is off".to_string()),
            ("safeguard-module-off", "safeguard's network module is off".to_string()),
            ("safeguard-monitor", "safeguard's process module only monitors (blocks nothing)".to_string()),
        ]
    );
}

#[test]
fn drift_between_two_inventories() {
    let dir = fixture("diff");
    let root = Root::offline(&dir).unwrap();
    let before = collect(&root, None);
    // A new setuid file, a new uid 0 account, a sysctl set to 0.
    std::fs::write(dir.join("usr/local/bin/new"), "x").unwrap();
    std::process::Command::new("chmod").arg("4755").arg(dir.join("usr/local/bin/new")).status().unwrap();
    let mut passwd = std::fs::read_to_string(dir.join("etc/passwd")).unwrap();
    passwd.push_str("evil:x:0:0::/:/bin/sh\n");
    std::fs::write(dir.join("etc/passwd"), passwd).unwrap();
    std::fs::create_dir_all(dir.join("etc/sysctl.d")).unwrap();
    std::fs::write(dir.join("etc/sysctl.d/99-x.conf"), "kernel.yama.ptrace_scope = 0\n").unwrap();
    let after = collect(&root, None);
    std::fs::remove_dir_all(&dir).unwrap();

    assert!(diff::diff(&before, &before).is_empty());
    let drift: Vec<_> =
        diff::diff(&before, &after).into_iter().map(|d| (d.section, d.change, d.item, d.risk)).collect();
    assert_eq!(
        drift,
        [
            ("users", "added", "evil".to_string(), true),
            ("setid_files", "added", "/usr/local/bin/new".to_string(), true),
            ("sysctls", "changed", "kernel.yama.ptrace_scope".to_string(), true),
        ]
    );
    assert!(findings(&after, None).iter().any(|f| f.id == "ptrace-scope"));
}

#[test]
fn a_fifo_in_an_image_is_not_read() {
    let dir = fixture("fifo");
    std::fs::remove_file(dir.join("etc/shadow")).unwrap();
    assert!(Command::new("mkfifo").arg(dir.join("etc/shadow")).status().unwrap().success());
    let inv = collect(&Root::offline(&dir).unwrap(), None);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(inv.users.iter().all(|u| u.password == "unknown"));
    assert!(inv.unavailable.iter().any(|u| u.section == "users.password"));
}
