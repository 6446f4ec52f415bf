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

    let (found_before, found_after) = (findings(&before, None), findings(&after, None));
    assert!(diff::diff(&before, &found_before, &before, &found_before).is_empty());
    let drift = diff::diff(&before, &found_before, &after, &found_after);
    let summary: Vec<_> = drift
        .iter()
        .map(|d| (d.section, d.change, d.item.as_str(), d.severity, d.finding.as_ref().map(|f| f.0)))
        .collect();
    // Each judged by the finding it raises: a uid 0 account is critical, a set-id file
    // no package owns high, ptrace_scope 0 medium.
    assert_eq!(
        summary,
        [
            ("users", "added", "evil", Some(Severity::Critical), Some("uid0-account")),
            ("setid_files", "added", "/usr/local/bin/new", Some(Severity::High), Some("setid-unowned")),
            ("sysctls", "changed", "kernel.yama.ptrace_scope", Some(Severity::Medium), Some("ptrace-scope")),
        ]
    );
    assert_eq!(drift[0].after.as_deref(), Some("uid 0 shell /bin/sh password none"));
    assert_eq!(drift[1].finding.as_ref().unwrap().1, "setuid file /usr/local/bin/new belongs to no package");
    assert_eq!((drift[2].before.as_deref(), drift[2].after.as_deref()), (Some("-"), Some("0")));

    // Back again: removals add no risk, and say which findings they resolve; a sysctl no
    // longer set may remove a protection (low).
    let back = diff::diff(&after, &found_after, &before, &found_before);
    let summary: Vec<_> =
        back.iter().map(|d| (d.section, d.change, d.item.as_str(), d.severity, d.resolved.clone())).collect();
    assert_eq!(
        summary,
        [
            ("users", "removed", "evil", None, vec!["uid0-account"]),
            ("setid_files", "removed", "/usr/local/bin/new", None, vec!["setid-unowned"]),
            ("sysctls", "changed", "kernel.yama.ptrace_scope", Some(Severity::Low), vec!["ptrace-scope"]),
        ]
    );
}

/// Without a finding, the section's own severity: a way in or to persist is medium, a
/// set-id file is low when a package owns it and medium when nothing vouches for it.
#[test]
fn drift_without_findings_is_judged_by_its_asset_kind() {
    let dir = fixture("baseline");
    let root = Root::offline(&dir).unwrap();
    let before = collect(&root, None);
    let mut after = before.clone();
    let alice = after.users.iter().position(|u| u.name == "alice").unwrap();
    let mut key = after.users[alice].authorized_keys[0].clone();
    key.comment = "laptop".into();
    after.users[alice].authorized_keys.push(key);
    let mut job = after.cron[1].clone();
    job.command = "/usr/bin/true".into();
    after.cron.push(job);
    let mut owned = after.setid_files[0].clone();
    owned.path = "/usr/bin/newgrp".into();
    after.setid_files.push(owned);
    let mut listener_proc =
        ProcessRef { pid: 42, comm: "sshd".into(), exe: "/usr/sbin/sshd".into(), uid: Some(0), copy_of: None };
    after.listeners.push(Listener {
        protocol: "tcp".into(),
        address: "0.0.0.0".into(),
        port: 22,
        all_addresses: true,
        uid: 0,
        inode: 1,
        netns: 1,
        host_netns: true,
        processes: vec![listener_proc.clone()],
    });
    listener_proc.exe = "/tmp/x".into();
    after.listeners.push(Listener { port: 4444, processes: vec![listener_proc], ..after.listeners[0].clone() });
    after.packages.dpkg.as_mut().unwrap()[0].version = "9.9".into();
    std::fs::remove_dir_all(&dir).unwrap();

    let found_before = findings(&before, None);
    let found_after = findings(&after, None);
    let drift = diff::diff(&before, &found_before, &after, &found_after);
    let summary: Vec<_> = drift
        .iter()
        .map(|d| (d.section, d.change, d.item.as_str(), d.severity, d.finding.as_ref().map(|f| f.0)))
        .collect();
    assert_eq!(
        summary,
        [
            ("authorized_keys", "added", "alice ssh-rsa laptop", Some(Severity::Medium), None),
            ("listeners", "added", "tcp 0.0.0.0:22 /usr/sbin/sshd", Some(Severity::Low), None),
            ("listeners", "added", "tcp 0.0.0.0:4444 /tmp/x", Some(Severity::Medium), Some("listener-outside-system")),
            ("setid_files", "added", "/usr/bin/newgrp", Some(Severity::Low), None),
            ("cron", "added", "/var/spool/cron/crontabs/alice alice /usr/bin/true", Some(Severity::Medium), None),
            ("packages", "changed", "bash:amd64", None, None),
        ]
    );
}

/// The agent's records of a round: one summary line, then one line per change.
#[test]
fn agent_records() {
    use crate::logging::{write_json, Value};
    use std::time::Duration;
    let dir = fixture("records");
    let inv = collect(&Root::offline(&dir).unwrap(), None);
    std::fs::remove_dir_all(&dir).unwrap();
    let found = findings(&inv, None);
    let json = |record: &crate::logging::Record| {
        let mut out = Vec::new();
        write_json(&mut out, record, &[]);
        String::from_utf8(out).unwrap()
    };

    let first = agent::records(&inv, &found, None, Duration::from_millis(1234), Duration::from_millis(56));
    assert_eq!(first.len(), 1);
    let line = json(&first[0]);
    assert_eq!(line.matches('\n').count(), 1, "one line: {line}");
    for part in [
        r#""level":"INFO","level_no":20,"module":"inventory","op":"inventory""#,
        r#""assets":{"users":5,"uid0":2,"authorized_keys":3,"sudo_rules":3,"listeners":0,"#,
        r#""setid_files":2,"#,
        r#""cron":2,"packages":2,"containers":0}"#,
        r#""findings":{"critical":1,"high":5,"medium":1,"low":0}"#,
        r#""risks":["critical uid0-account: account toor has uid 0 besides root","high cron-writable-program: "#,
        r#""duration_ms":1234,"cpu_ms":56,"baseline":true}"#,
    ] {
        assert!(line.contains(part), "{part} not in {line}");
    }
    assert!(first[0].fields.iter().any(|(k, v)| *k == "unavailable" && matches!(v, Value::List(l) if !l.is_empty())));

    let mut after = inv.clone();
    after.setid_files.retain(|f| f.path != "/usr/local/bin/helper");
    let found_after = findings(&after, None);
    let drift = diff::diff(&inv, &found, &after, &found_after);
    let round = agent::records(&after, &found_after, Some(drift), Duration::ZERO, Duration::ZERO);
    assert_eq!(round.len(), 2);
    assert!(json(&round[0]).ends_with("\"drift\":1}\n"), "{}", json(&round[0]));
    assert_eq!(
        json(&round[1]),
        concat!(
            r#"{"time":"TIME","level":"INFO","level_no":20,"module":"inventory","op":"drift","asset":"setid_files","#,
            r#""change":"removed","item":"/usr/local/bin/helper","before":"4755 (no package)","resolved":["setid-unowned"]}"#,
            "\n"
        )
        .replace("TIME", &json(&round[1])[9..36])
    );

    // A change that adds risk is a WARNING naming its severity and finding.
    let risky = diff::diff(&after, &found_after, &inv, &found);
    let line = json(&agent::drift_record(&risky[0]));
    for part in [
        r#""level":"WARNING""#,
        r#""asset":"setid_files","change":"added","item":"/usr/local/bin/helper","after":"4755 (no package)""#,
        r#""severity":"high","finding":"setid-unowned","title":"setuid file /usr/local/bin/helper belongs to no package""#,
    ] {
        assert!(line.contains(part), "{part} not in {line}");
    }

    // Many changes: at most MAX_DRIFT records, the most severe kept, the rest counted.
    let mut many = after.clone();
    for n in 0..agent::MAX_DRIFT + 10 {
        many.packages.dpkg.as_mut().unwrap().push(PackageRef {
            name: format!("p{n}"),
            version: "1".into(),
            arch: "amd64".into(),
        });
    }
    let drift = diff::diff(&after, &found_after, &inv, &found)
        .into_iter()
        .chain(diff::diff(&after, &found_after, &many, &found_after))
        .collect();
    let round = agent::records(&many, &found_after, Some(drift), Duration::ZERO, Duration::ZERO);
    assert_eq!(round.len(), 1 + agent::MAX_DRIFT);
    let summary = json(&round[0]);
    assert!(summary.contains(&format!(r#""drift":{},"drift_omitted":11"#, agent::MAX_DRIFT + 11)), "{summary}");
    assert!(json(&round[1]).contains(r#""severity":"high""#));
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

/// runc's memfd copy of itself is told apart by its bytes, never by its name, which any
/// program can give its own memfd.
#[test]
fn runc_memfd_copy_is_recognised_by_content() {
    let dir = std::env::temp_dir().join(format!("sg-inventory-runc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b, c, d) = (dir.join("a"), dir.join("b"), dir.join("c"), dir.join("d"));
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&a, &bytes).unwrap();
    std::fs::write(&b, &bytes).unwrap();
    let mut other = bytes.clone();
    other[150_000] ^= 1;
    std::fs::write(&c, &other).unwrap();
    std::fs::write(&d, &bytes[..100]).unwrap();
    assert!(collect::same_content(&a, &b, 1 << 20));
    assert!(!collect::same_content(&a, &c, 1 << 20), "one byte differs");
    assert!(!collect::same_content(&a, &d, 1 << 20), "sizes differ");
    assert!(!collect::same_content(&a, &b, 1000), "over the limit");
    assert!(!collect::same_content(&a, &dir.join("missing"), 1 << 20));
    std::fs::remove_dir_all(&dir).unwrap();

    let dir = fixture("runc");
    let mut inv = collect(&Root::offline(&dir).unwrap(), None);
    std::fs::remove_dir_all(&dir).unwrap();
    let proc_ref = |pid: u32, exe: &str, copy_of: Option<&str>| ProcessRef {
        pid,
        comm: "runc:[2:INIT]".into(),
        exe: exe.into(),
        uid: Some(0),
        copy_of: copy_of.map(str::to_string),
    };
    inv.deleted_executables = vec![
        proc_ref(10, "/memfd:runc_cloned:/proc/self/exe (deleted)", Some("/usr/bin/runc")),
        proc_ref(11, "/memfd:runc_cloned:/proc/self/exe (deleted)", None),
        proc_ref(12, "/memfd:x (deleted)", None),
    ];
    let found: Vec<_> = findings(&inv, None)
        .into_iter()
        .filter(|f| f.id == "deleted-executable")
        .map(|f| (f.severity, f.title))
        .collect();
    assert_eq!(
        found,
        [
            (
                Severity::High,
                "process 11 (runc:[2:INIT]) runs from a memfd named like runc's copy, but not a copy of an installed runc"
                    .to_string()
            ),
            (Severity::High, "process 12 (runc:[2:INIT]) runs an executable that was deleted".to_string()),
            (Severity::Low, "process 10 (runc:[2:INIT]) runs runc's sealed copy of itself".to_string()),
        ]
    );
    let json = serde_json::to_string(&inv.deleted_executables).unwrap();
    assert!(
        json.contains(r#""uid":0,"copy_of":"/usr/bin/runc"}"#)
            && json.contains(
                r#""pid":11,"comm":"runc:[2:INIT]","exe":"/memfd:runc_cloned:/proc/self/exe (deleted)","uid":0}"#
            ),
        "{json}"
    );
}

/// `AuthorizedKeysFile` is followed: sshd's tokens, absolute and relative patterns, and
/// the patterns of `Match` blocks too (some user may match them).
#[test]
fn authorized_keys_file_patterns() {
    let patterns = |text: &str| text.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        collect::key_files_of(&patterns("/etc/ssh/keys/%u .ssh/k %h/x/%U %%h none"), "alice", 1000, "/home/alice/"),
        ["/etc/ssh/keys/alice", "/home/alice/.ssh/k", "/home/alice/x/1000", "/home/alice/%h"]
    );
    assert_eq!(
        collect::key_files_of(&patterns("/etc/ssh/keys/%u .ssh/authorized_keys"), "nobody", 65534, "/nonexistent"),
        ["/etc/ssh/keys/nobody"]
    );

    let dir = fixture("keyfile");
    std::fs::create_dir_all(dir.join("etc/ssh/keys")).unwrap();
    let config = std::fs::read_to_string(dir.join("etc/ssh/sshd_config")).unwrap();
    std::fs::write(
        dir.join("etc/ssh/sshd_config"),
        format!("AuthorizedKeysFile /etc/ssh/keys/%u\n{config}\nMatch User alice\n  AuthorizedKeysFile .ssh/extra\n"),
    )
    .unwrap();
    std::fs::write(dir.join("etc/ssh/keys/daemon"), "ssh-ed25519 AAAA planted@nowhere\n").unwrap();
    std::fs::write(dir.join("home/alice/.ssh/extra"), "ssh-ed25519 AAAA alice@match\n").unwrap();
    let inv = collect(&Root::offline(&dir).unwrap(), None);
    std::fs::remove_dir_all(&dir).unwrap();
    let keys: Vec<_> = inv
        .users
        .iter()
        .flat_map(|u| u.authorized_keys.iter().map(move |k| (u.name.as_str(), k.file.as_str(), k.comment.as_str())))
        .collect();
    assert_eq!(
        keys,
        [("daemon", "/etc/ssh/keys/daemon", "planted@nowhere"), ("alice", "/home/alice/.ssh/extra", "alice@match")],
        "the default files are not read once AuthorizedKeysFile replaces them"
    );
    let setting = inv.ssh.settings.iter().find(|s| s.key == "AuthorizedKeysFile").unwrap();
    assert_eq!((setting.value.as_str(), setting.source.as_str()), ("/etc/ssh/keys/%u", "/etc/ssh/sshd_config:1"));
}
