//! Pure parsers for the files the inventory reads: passwd, group, shadow, sudoers,
//! sshd_config, /proc/net/{tcp,udp}[6], dpkg status, os-release, crontabs, sysctl.d,
//! /proc/modules, file capabilities. Each takes text (or bytes) and returns plain data, so
//! every one is unit-tested without a host.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One line of /etc/passwd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub password: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
}

/// Parses /etc/passwd; malformed lines (and NIS `+`/`-` lines) are skipped.
pub fn passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() < 7 || fields[0].is_empty() || fields[0].starts_with(['+', '-', '#']) {
                return None;
            }
            Some(PasswdEntry {
                name: fields[0].to_string(),
                password: fields[1].to_string(),
                uid: fields[2].parse().ok()?,
                gid: fields[3].parse().ok()?,
                home: fields[5].to_string(),
                shell: fields[6].to_string(),
            })
        })
        .collect()
}

/// One line of /etc/group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

pub fn group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() < 4 || fields[0].is_empty() || fields[0].starts_with(['+', '-', '#']) {
                return None;
            }
            Some(GroupEntry {
                name: fields[0].to_string(),
                gid: fields[2].parse().ok()?,
                members: fields[3].split(',').filter(|m| !m.is_empty()).map(str::to_string).collect(),
            })
        })
        .collect()
}

/// Parses /etc/shadow into (name, password field).
pub fn shadow(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next().filter(|n| !n.is_empty() && !n.starts_with(['+', '-', '#']))?;
            let password = fields.next()?;
            Some((name.to_string(), password.to_string()))
        })
        .collect()
}

/// What a password field (shadow's, or passwd's when it is not `x`) allows.
pub fn password_state(field: &str) -> &'static str {
    if field.is_empty() {
        "empty"
    } else if field.starts_with('!') || field.starts_with('*') {
        "locked"
    } else {
        "set"
    }
}

/// A shell that lets nobody log in.
pub fn is_nologin_shell(shell: &str) -> bool {
    shell.is_empty() || shell.ends_with("/nologin") || shell.ends_with("/false") || shell == "/bin/sync"
}

/// The rules of a sudoers file: every line that is not a comment, `Defaults`, an alias
/// definition or an `@include`/`#include` directive, with continuation lines joined.
pub fn sudoers_rules(text: &str) -> Vec<String> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        joined.push(std::mem::take(&mut current));
    }
    if !current.is_empty() {
        joined.push(current);
    }
    joined
        .into_iter()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| {
            let first = line.split_whitespace().next().unwrap_or("");
            !(line.is_empty()
                || (line.starts_with('#') && !line.starts_with("#include"))
                || line.starts_with("#include")
                || line.starts_with("@include")
                || first.starts_with("Defaults")
                || matches!(first, "User_Alias" | "Runas_Alias" | "Host_Alias" | "Cmnd_Alias" | "Cmd_Alias"))
        })
        .collect()
}

/// The `secure_path` of sudoers `Defaults` lines, if set.
pub fn sudoers_secure_path(text: &str) -> Option<String> {
    text.lines()
        .rev()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix("Defaults")?;
            let at = rest.find("secure_path")?;
            let value = rest[at + "secure_path".len()..].trim_start().strip_prefix('=')?.trim();
            Some(value.trim_matches('"').to_string())
        })
        .next()
}

/// The subject of a sudo rule: a user name or `%group`.
pub fn sudo_rule_subject(rule: &str) -> &str {
    rule.split_whitespace().next().unwrap_or("")
}

/// One sshd setting as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSetting {
    /// Lower-case keyword.
    pub key: String,
    pub value: String,
    pub file: String,
    pub line: usize,
    /// The `Match` criteria the setting is under, if any.
    pub matched: Option<String>,
}

/// A line of an sshd_config file that matters here.
pub enum SshLine {
    Setting(SshSetting),
    /// The patterns of an `Include`, and the `Match` it is under (the included lines are).
    Include(Vec<String>, Option<String>),
}

/// Parses one sshd_config file that starts under `matched`; returns its lines and the
/// `Match` still open at its end. The caller expands `Include`s in place.
pub fn sshd_config(text: &str, file: &str, mut matched: Option<String>) -> (Vec<SshLine>, Option<String>) {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(|c: char| c.is_whitespace() || c == '=') {
            Some((key, value)) => (key, value.trim_start_matches(|c: char| c.is_whitespace() || c == '=').trim()),
            None => (line, ""),
        };
        let key = key.to_ascii_lowercase();
        match key.as_str() {
            "match" => {
                matched = if value.eq_ignore_ascii_case("all") { None } else { Some(value.to_string()) };
            }
            "include" => {
                out.push(SshLine::Include(value.split_whitespace().map(str::to_string).collect(), matched.clone()))
            }
            _ => out.push(SshLine::Setting(SshSetting {
                key,
                value: value.trim_matches('"').to_string(),
                file: file.to_string(),
                line: index + 1,
                matched: matched.clone(),
            })),
        }
    }
    (out, matched)
}

/// The effective global value of `key` (lower case): the first one outside `Match`
/// blocks, as sshd takes the first value it reads.
pub fn ssh_global<'a>(settings: &'a [SshSetting], key: &str) -> Option<&'a SshSetting> {
    settings.iter().find(|s| s.key == key && s.matched.is_none())
}

/// A socket line of /proc/net/{tcp,tcp6,udp,udp6}.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetSocket {
    pub addr: IpAddr,
    pub port: u16,
    pub state: u8,
    pub uid: u32,
    pub inode: u64,
}

/// TCP_LISTEN in /proc/net/tcp; UDP sockets that are bound but not connected show TCP_CLOSE.
pub const TCP_LISTEN: u8 = 0x0a;
pub const UDP_UNCONNECTED: u8 = 0x07;

/// Parses /proc/net/{tcp,udp}[6] (the header line is skipped).
pub fn proc_net(text: &str) -> Vec<NetSocket> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 {
                return None;
            }
            let (addr, port) = fields[1].split_once(':')?;
            Some(NetSocket {
                addr: proc_net_addr(addr)?,
                port: u16::from_str_radix(port, 16).ok()?,
                state: u8::from_str_radix(fields[3], 16).ok()?,
                uid: fields[7].parse().ok()?,
                inode: fields[9].parse().ok()?,
            })
        })
        .collect()
}

/// An address as the kernel prints it: 32-bit words in host (little-endian) order.
fn proc_net_addr(hex: &str) -> Option<IpAddr> {
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_le_bytes())
    };
    match hex.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(0)?))),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            let v6 = Ipv6Addr::from(bytes);
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            })
        }
        _ => None,
    }
}

/// One installed package of dpkg's status file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub arch: String,
}

/// Installed packages (`Status: install ok installed`, or held) of /var/lib/dpkg/status.
pub fn dpkg_status(text: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let (mut name, mut version, mut arch, mut installed) = ("", "", "", false);
        for line in stanza.lines() {
            if let Some((key, value)) = line.split_once(':') {
                let value = value.trim();
                match key {
                    "Package" => name = value,
                    "Version" => version = value,
                    "Architecture" => arch = value,
                    "Status" => installed = value.ends_with(" installed"),
                    _ => {}
                }
            }
        }
        if installed && !name.is_empty() {
            out.push(Package { name: name.to_string(), version: version.to_string(), arch: arch.to_string() });
        }
    }
    out
}

/// A `KEY=value` file (os-release, /etc/environment, login.defs with `=` or spaces).
pub fn key_values(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            // `KEY=value` or login.defs' `KEY value`: whichever separator comes first.
            let at = line.find(|c: char| c == '=' || c.is_whitespace())?;
            let (key, value) = (&line[..at], &line[at + 1..]);
            Some((key.trim().to_string(), value.trim().trim_matches(|c| c == '"' || c == '\'').to_string()))
        })
        .collect()
}

/// One cron job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronEntry {
    pub schedule: String,
    pub user: String,
    pub command: String,
    pub line: usize,
}

/// Parses a crontab. `system` files (/etc/crontab, /etc/cron.d) have a user column; a
/// user's crontab runs as `owner`. Variable assignments and comments are skipped.
pub fn crontab(text: &str, system: bool, owner: &str) -> Vec<CronEntry> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if !first.starts_with('@') && first.contains('=') {
            continue; // SHELL=/bin/sh, MAILTO=...
        }
        let time_fields = if first.starts_with('@') { 1 } else { 5 };
        let schedule: Vec<&str> = line.split_whitespace().take(time_fields).collect();
        let mut rest = line.split_whitespace().skip(time_fields);
        let user = if system { rest.next().unwrap_or("").to_string() } else { owner.to_string() };
        let command = rest.collect::<Vec<_>>().join(" ");
        if schedule.len() != time_fields || command.is_empty() {
            continue;
        }
        out.push(CronEntry { schedule: schedule.join(" "), user, command, line: index + 1 });
    }
    out
}

/// `key = value` lines of a sysctl.d file; keys with `/` are normalised to dots and a
/// leading `-` (ignore errors) is dropped.
pub fn sysctl_conf(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                return None;
            }
            let (key, value) = line.split_once('=')?;
            let key = key.trim().trim_start_matches('-').replace('/', ".");
            Some((key, value.trim().to_string()))
        })
        .collect()
}

/// A line of /proc/modules: name, size and the module's taint letters (`OE`), if any.
pub fn proc_modules(text: &str) -> Vec<(String, u64, String)> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?.to_string();
            let size = words.next()?.parse().ok()?;
            let taint = line
                .rfind('(')
                .and_then(|open| line[open + 1..].split_once(')').map(|(flags, _)| flags.to_string()))
                .unwrap_or_default();
            Some((name, size, taint))
        })
        .collect()
}

/// The kernel's taint letters (Documentation/admin-guide/tainted-kernels.rst), by bit.
const TAINT_FLAGS: [(char, &str); 19] = [
    ('P', "proprietary module"),
    ('F', "module force-loaded"),
    ('S', "SMP with a CPU not designed for it"),
    ('R', "module force-unloaded"),
    ('M', "machine check"),
    ('B', "bad page"),
    ('U', "taint requested by user space"),
    ('D', "kernel died recently (oops or BUG)"),
    ('A', "ACPI table overridden"),
    ('W', "kernel warning"),
    ('C', "staging driver"),
    ('I', "platform firmware bug worked around"),
    ('O', "out-of-tree module"),
    ('E', "unsigned module"),
    ('L', "soft lockup"),
    ('K', "live patched"),
    ('X', "auxiliary taint"),
    ('T', "built with struct randomization plugin"),
    ('N', "in-kernel test"),
];

/// The meaning of each bit set in /proc/sys/kernel/tainted, as `"O: out-of-tree module"`.
pub fn taint_flags(value: u64) -> Vec<String> {
    (0..64)
        .filter(|bit| value & (1 << bit) != 0)
        .map(|bit| match TAINT_FLAGS.get(bit) {
            Some((letter, meaning)) => format!("{letter}: {meaning}"),
            None => format!("bit {bit}"),
        })
        .collect()
}

const CAP_NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

/// Decodes a `security.capability` xattr (struct vfs_cap_data, v2 or v3) into the
/// getcap form: `cap_net_raw,cap_net_admin=ep` (`i` for inheritable, `e` when effective).
pub fn file_caps(value: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<u32> { Some(u32::from_le_bytes(value.get(i * 4..i * 4 + 4)?.try_into().ok()?)) };
    let magic = word(0)?;
    let (permitted, inheritable) = match magic & 0xff00_0000 {
        0x0100_0000 => (u64::from(word(1)?), u64::from(word(2)?)),
        0x0200_0000 | 0x0300_0000 => {
            (u64::from(word(1)?) | (u64::from(word(3)?) << 32), u64::from(word(2)?) | (u64::from(word(4)?) << 32))
        }
        _ => return None,
    };
    let effective = magic & 1 != 0;
    let names = |mask: u64| -> Vec<String> {
        (0..64)
            .filter(|bit| mask & (1 << bit) != 0)
            .map(|bit| CAP_NAMES.get(bit).map_or_else(|| format!("cap_{bit}"), |n| (*n).to_string()))
            .collect()
    };
    let mut parts = Vec::new();
    let all = permitted | inheritable;
    for (mask, flags) in
        [(permitted & inheritable, "ip"), (permitted & !inheritable, "p"), (inheritable & !permitted, "i")]
    {
        if mask != 0 && all != 0 {
            let mut f = flags.to_string();
            if effective && flags.contains('p') {
                f.insert(0, 'e');
            }
            parts.push(format!("{}={f}", names(mask).join(",")));
        }
    }
    Some(parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_and_shadow() {
        let users = passwd("root:x:0:0:root:/root:/bin/bash\n+nis\nbad line\ntoor::0:0::/root:/bin/sh\nwww:x:33:33::/var/www:/usr/sbin/nologin\n");
        assert_eq!(users.len(), 3);
        assert_eq!((users[1].name.as_str(), users[1].uid, users[1].password.as_str()), ("toor", 0, ""));
        assert!(is_nologin_shell(&users[2].shell));
        assert!(!is_nologin_shell("/bin/bash"));
        let shadow =
            shadow("root:$6$abc:19000:0:99999:7:::\ndaemon:*:19000::::::\nguest::19000::::::\nlocked:!$6$x:1::::::\n");
        let states: Vec<_> = shadow.iter().map(|(n, p)| (n.as_str(), password_state(p))).collect();
        assert_eq!(states, [("root", "set"), ("daemon", "locked"), ("guest", "empty"), ("locked", "locked")]);
        let groups = group("sudo:x:27:alice,bob\nroot:x:0:\n");
        assert_eq!(groups[0].members, ["alice", "bob"]);
        assert!(groups[1].members.is_empty());
    }

    #[test]
    fn sudoers() {
        let text = "# comment\nDefaults env_reset\nDefaults secure_path=\"/usr/sbin:/usr/bin\"\nCmnd_Alias X = /bin/ls\nroot ALL=(ALL:ALL) ALL\n%sudo   ALL=(ALL) \\\n  NOPASSWD: ALL\n@includedir /etc/sudoers.d\n";
        assert_eq!(sudoers_rules(text), ["root ALL=(ALL:ALL) ALL", "%sudo ALL=(ALL) NOPASSWD: ALL"]);
        assert_eq!(sudoers_secure_path(text).as_deref(), Some("/usr/sbin:/usr/bin"));
        assert_eq!(sudo_rule_subject("%sudo ALL=(ALL) ALL"), "%sudo");
    }

    #[test]
    fn sshd_config_first_value_wins_and_match_blocks_are_kept_apart() {
        let text = "Include /etc/ssh/sshd_config.d/*.conf\n# PermitRootLogin yes\npermitrootlogin=no\nPermitRootLogin yes\nPasswordAuthentication  yes\nMatch User backup\n  PermitRootLogin yes\nMatch all\nX11Forwarding yes\n";
        let (lines, open) = sshd_config(text, "/etc/ssh/sshd_config", None);
        assert!(open.is_none());
        assert!(matches!(&lines[0], SshLine::Include(p, None) if p == &["/etc/ssh/sshd_config.d/*.conf"]));
        let settings: Vec<SshSetting> = lines
            .into_iter()
            .filter_map(|l| match l {
                SshLine::Setting(s) => Some(s),
                SshLine::Include(..) => None,
            })
            .collect();
        let root = ssh_global(&settings, "permitrootlogin").unwrap();
        assert_eq!((root.value.as_str(), root.line), ("no", 3));
        assert_eq!(ssh_global(&settings, "passwordauthentication").unwrap().value, "yes");
        let in_match: Vec<_> = settings.iter().filter(|s| s.matched.is_some()).collect();
        assert_eq!(in_match.len(), 1);
        assert_eq!(in_match[0].matched.as_deref(), Some("User backup"));
        assert!(ssh_global(&settings, "x11forwarding").is_some(), "Match all ends the block");
        // A Match left open at the end of an included file continues in the includer.
        let (lines, open) = sshd_config("Match Group x\nInclude b\n", "a", None);
        assert_eq!(open.as_deref(), Some("Group x"));
        assert!(matches!(&lines[0], SshLine::Include(_, Some(m)) if m == "Group x"));
    }

    #[test]
    fn proc_net_tcp_v4_v6() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 999 1\n";
        let socks = proc_net(v4);
        assert_eq!(socks.len(), 2);
        assert_eq!(socks[0].addr, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!((socks[0].port, socks[0].state, socks[0].inode), (631, TCP_LISTEN, 12345));
        assert_eq!((socks[1].addr, socks[1].uid), (IpAddr::V4(Ipv4Addr::UNSPECIFIED), 1000));
        let v6 = "header\n   0: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 777 1\n   1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 778 1\n";
        let socks = proc_net(v6);
        assert_eq!(socks[0].addr, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(socks[0].port, 53);
        assert_eq!(socks[1].addr, IpAddr::V4(Ipv4Addr::LOCALHOST), "v4-mapped is v4");
        assert_eq!((socks[1].port, socks[1].state), (8080, UDP_UNCONNECTED));
    }

    #[test]
    fn dpkg_status_lists_installed_packages_only() {
        let text = "Package: bash\nStatus: install ok installed\nVersion: 5.2-1\nArchitecture: amd64\nDescription: x\n multi line\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: held\nStatus: hold ok installed\nVersion: 2\nArchitecture: all\n";
        let pkgs = dpkg_status(text);
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[0], Package { name: "bash".into(), version: "5.2-1".into(), arch: "amd64".into() });
        assert_eq!(pkgs[1].name, "held");
    }

    #[test]
    fn crontabs_system_and_user() {
        let text = "SHELL=/bin/sh\n# m h dom mon dow user command\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n@reboot backup /opt/backup.sh --now\nbad\n";
        let jobs = crontab(text, true, "root");
        assert_eq!(jobs.len(), 2);
        assert_eq!((jobs[0].schedule.as_str(), jobs[0].user.as_str()), ("17 * * * *", "root"));
        assert_eq!(jobs[0].command, "cd / && run-parts --report /etc/cron.hourly");
        assert_eq!((jobs[1].schedule.as_str(), jobs[1].user.as_str(), jobs[1].line), ("@reboot", "backup", 4));
        let user = crontab("*/5 * * * * /home/a/x.sh\n", false, "alice");
        assert_eq!((user[0].user.as_str(), user[0].command.as_str()), ("alice", "/home/a/x.sh"));
    }

    #[test]
    fn key_values_sysctl_modules_taint() {
        let os = key_values("NAME=\"Debian GNU/Linux\"\nID=debian\n# c\nVERSION_ID='12'\n");
        assert_eq!(os[0], ("NAME".into(), "Debian GNU/Linux".into()));
        assert_eq!(os[2], ("VERSION_ID".into(), "12".into()));
        assert_eq!(key_values("ENV_SUPATH      PATH=/usr/sbin:/usr/bin\n")[0].1, "PATH=/usr/sbin:/usr/bin");
        let sysctl = sysctl_conf("# x\nkernel.yama.ptrace_scope = 0\n-kernel/kptr_restrict=1\n");
        assert_eq!(
            sysctl,
            [("kernel.yama.ptrace_scope".into(), "0".into()), ("kernel.kptr_restrict".into(), "1".into())]
        );
        let mods = proc_modules("nvidia 123 0 - Live 0x0 (POE)\next4 456 1 - Live 0x0\n");
        assert_eq!(mods[0], ("nvidia".into(), 123, "POE".into()));
        assert_eq!(mods[1].2, "");
        assert_eq!(taint_flags(0x3000), ["O: out-of-tree module", "E: unsigned module"]);
    }

    #[test]
    fn file_capabilities_decode() {
        // ping: cap_net_raw=ep (v2: magic|effective, permitted lo, inheritable lo, hi, hi)
        let mut v2 = Vec::new();
        for w in [0x0200_0001u32, 1 << 13, 0, 0, 0] {
            v2.extend_from_slice(&w.to_le_bytes());
        }
        assert_eq!(file_caps(&v2).as_deref(), Some("cap_net_raw=ep"));
        let mut v3 = Vec::new();
        for w in [0x0300_0000u32, (1 << 10) | (1 << 12), 0, 1 << 7, 0, 0] {
            v3.extend_from_slice(&w.to_le_bytes());
        }
        assert_eq!(file_caps(&v3).as_deref(), Some("cap_net_bind_service,cap_net_admin,cap_bpf=p"));
        assert_eq!(file_caps(&[1, 2]), None);
    }
}
