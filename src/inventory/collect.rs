//! Reading the host into an `Inventory`: files under a root (the live `/` or a mounted
//! image, offline), and on the live host /proc and /sys. Nothing here writes, connects
//! or runs a program. The only tree walk is the setuid/capability walk over
//! `WALK_DIRS`, which never follows symlinks, never leaves the filesystem of each start
//! directory, skips `WALK_PRUNE` and stops after `WALK_LIMIT` entries.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use anyhow::Context;

use super::parse;
use super::rpmdb;
use super::*;
use crate::config;

/// Start directories of the setuid/capability walk (those that exist and are not symlinks).
pub const WALK_DIRS: [&str; 17] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/etc", "/srv", "/home", "/root", "/var",
    "/tmp", "/dev/shm", "/boot", "/snap",
];
/// Trees that hold other systems' files (container images, machines) and are not walked.
pub const WALK_PRUNE: [&str; 7] = [
    "/var/lib/docker",
    "/var/lib/containers",
    "/var/lib/containerd",
    "/var/lib/lxc",
    "/var/lib/machines",
    "/var/lib/kubelet/pods",
    "/var/cache",
];
/// Directory entries looked at, in all, before the walk stops (and says so).
pub const WALK_LIMIT: u64 = 1_000_000;
const WALK_DEPTH: usize = 48;

/// The sysctls reported, and judged by `findings`.
pub const SYSCTLS: [&str; 18] = [
    "kernel.yama.ptrace_scope",
    "kernel.unprivileged_bpf_disabled",
    "kernel.kptr_restrict",
    "kernel.dmesg_restrict",
    "kernel.perf_event_paranoid",
    "kernel.randomize_va_space",
    "kernel.kexec_load_disabled",
    "kernel.modules_disabled",
    "kernel.sysrq",
    "kernel.unprivileged_userns_clone",
    "user.max_user_namespaces",
    "fs.suid_dumpable",
    "fs.protected_symlinks",
    "fs.protected_hardlinks",
    "fs.protected_fifos",
    "fs.protected_regular",
    "net.core.bpf_jit_harden",
    "net.ipv4.ip_forward",
];

/// Files larger than this are not read (dpkg's status file is a few MB).
const MAX_FILE: u64 = 64 << 20;

pub const DEFAULT_CONFIG: &str = "/etc/safeguard/safeguard.toml";

/// What is inspected: the running host (`/`, with /proc and /sys) or a directory that
/// holds another system's root, read as files only.
pub struct Root {
    base: PathBuf,
    live: bool,
}

impl Root {
    pub fn live() -> Root {
        Root { base: PathBuf::from("/"), live: true }
    }

    pub fn offline(dir: &Path) -> anyhow::Result<Root> {
        let base = fs::canonicalize(dir).with_context(|| format!("inventory: --root {}", dir.display()))?;
        anyhow::ensure!(base.is_dir(), "inventory: --root {}: not a directory", dir.display());
        Ok(Root { base, live: false })
    }

    /// The host path of `abs` (an absolute path inside the root). Offline, symlinks are
    /// followed inside the root (an absolute target is taken relative to it), so a link
    /// in an image never leads to the inspecting host's files.
    pub fn path(&self, abs: &str) -> PathBuf {
        self.path_os(OsStr::new(abs))
    }

    fn path_os(&self, abs: &OsStr) -> PathBuf {
        if self.live {
            return PathBuf::from(abs);
        }
        let mut todo: Vec<OsString> = Path::new(abs).components().rev().filter_map(|c| normal(&c)).collect::<Vec<_>>();
        let mut done: Vec<OsString> = Vec::new();
        let mut hops = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                done.pop();
                continue;
            }
            done.push(part);
            let here: PathBuf = done.iter().collect();
            let Ok(target) = fs::read_link(self.base.join(&here)) else { continue };
            hops += 1;
            if hops > 40 {
                break;
            }
            done.pop();
            if target.is_absolute() {
                done.clear();
            }
            todo.extend(target.components().rev().filter_map(|c| normal(&c)));
        }
        let rel: PathBuf = done.iter().collect();
        self.base.join(rel)
    }

    /// A regular file's text (lossy UTF-8). A FIFO or device planted in an image would
    /// block or never end, and a huge file is no config: both read as absent.
    fn read(&self, abs: &str) -> Option<String> {
        let path = self.path(abs);
        let meta = fs::metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > MAX_FILE {
            return None;
        }
        fs::read(path).ok().map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The entries of a directory: (name, absolute path inside the root), sorted.
    fn list(&self, abs: &str) -> Vec<(String, String)> {
        let Ok(dir) = fs::read_dir(self.path(abs)) else { return Vec::new() };
        let mut out: Vec<(String, String)> = dir
            .filter_map(Result::ok)
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let full = format!("{}/{name}", abs.trim_end_matches('/'));
                (name, full)
            })
            .collect();
        out.sort();
        out
    }
}

fn normal(c: &Component) -> Option<OsString> {
    match c {
        Component::Normal(part) => Some(part.to_os_string()),
        Component::ParentDir => Some(OsString::from("..")),
        _ => None,
    }
}

/// Bytes as text the way the logs write paths: valid UTF-8 kept, other bytes as `\xNN`,
/// a backslash doubled.
pub fn display_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Reads everything `Inventory` holds. `config` overrides where safeguard's own config is
/// looked for (default `/etc/safeguard/safeguard.toml` inside the root).
pub fn collect(root: &Root, config: Option<&Path>) -> Inventory {
    let mut unavailable = Vec::new();
    let mut gone = |section: &str, reason: &str| {
        unavailable.push(Unavailable { section: section.to_string(), reason: reason.to_string() })
    };
    let procs = if root.live { processes() } else { Vec::new() };
    if !root.live {
        for section in [
            "host.kernel",
            "host.safeguard.agents",
            "listeners",
            "deleted_executables",
            "kernel_modules.loaded",
            "containers.running",
        ] {
            gone(section, "offline root: only files are read");
        }
    }
    let (ssh, key_files) = ssh(root);
    let (users, groups, sudo_rules, shadow_ok) = users(root, &key_files);
    if !shadow_ok {
        gone("users.password", "/etc/shadow is not readable (run as root)");
    }
    let mut packages = packages(root);
    let (mut setid_files, mut file_capabilities, walk) = walk(root);
    let wanted: BTreeSet<String> =
        setid_files.iter().map(|f| f.path.clone()).chain(file_capabilities.iter().map(|f| f.path.clone())).collect();
    let aliases = path_aliases(&wanted);
    let mut owners = HashMap::new();
    let mut owner_dbs = Vec::new();
    if root.path("/var/lib/dpkg/info").is_dir() {
        owners = dpkg_owners(root, &aliases);
        owner_dbs.push("dpkg");
    }
    match rpm_packages(root, packages.rpm_db.as_deref(), &aliases) {
        Some(Ok((list, rpm_owners))) => {
            packages.rpm = Some(list);
            for (path, package) in rpm_owners {
                owners.entry(path).or_insert(package);
            }
            owner_dbs.push("rpm");
        }
        Some(Err(why)) => gone("packages.rpm", &why),
        None => {}
    }
    if !owner_dbs.is_empty() {
        packages.owner_db = Some(owner_dbs.join("+"));
        for f in &mut setid_files {
            f.package = owners.get(&f.path).cloned();
        }
        for f in &mut file_capabilities {
            f.package = owners.get(&f.path).cloned();
        }
    }
    let listeners = if root.live { listeners(&procs) } else { Vec::new() };
    let deleted_executables = procs
        .iter()
        .filter(|p| p.exe.ends_with(" (deleted)"))
        .map(|p| ProcessRef {
            pid: p.pid,
            comm: p.comm.clone(),
            exe: p.exe.clone(),
            uid: Some(p.uid),
            copy_of: runc_copy(p),
        })
        .collect();
    let mut kernel_modules = KernelModules { configured: configured_modules(root), ..Default::default() };
    if root.live {
        let taint = read_live("/proc/sys/kernel/tainted").and_then(|t| t.trim().parse().ok());
        kernel_modules.taint_flags = taint.map(parse::taint_flags).unwrap_or_default();
        kernel_modules.taint = taint;
        kernel_modules.loaded = read_live("/proc/modules")
            .map(|t| parse::proc_modules(&t))
            .unwrap_or_default()
            .into_iter()
            .map(|(name, size, taint)| KernelModule { name, size, taint })
            .collect();
    }
    if packages.dpkg.as_ref().is_some_and(Vec::is_empty) && packages.owner_db.is_none() {
        packages.dpkg = None;
    }
    Inventory {
        schema: SCHEMA,
        root: display_bytes(root.base.as_os_str().as_bytes()),
        live: root.live,
        host: host(root, config, &procs),
        ssh,
        users,
        groups,
        sudo_rules,
        listeners,
        deleted_executables,
        setid_files,
        file_capabilities,
        walk,
        kernel_modules,
        services: services(root),
        cron: cron(root),
        packages,
        root_path: root_path(root),
        containers: containers(root, &procs),
        sysctls: sysctls(root),
        unavailable,
    }
}

fn read_live(path: &str) -> Option<String> {
    fs::read_to_string(path).ok()
}

/// safeguard's config inside the root.
pub fn load_config(root: &Root, config: Option<&Path>) -> Result<config::Config, config::ConfigError> {
    match config {
        Some(path) => config::load(path),
        None => config::load(&root.path(DEFAULT_CONFIG)),
    }
}

fn host(root: &Root, config_path: Option<&Path>, procs: &[Proc]) -> Host {
    let os_text = root.read("/etc/os-release").or_else(|| root.read("/usr/lib/os-release")).unwrap_or_default();
    let os_kv = parse::key_values(&os_text);
    let os_get = |k: &str| os_kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let first_line =
        |t: Option<String>| t.and_then(|t| t.lines().next().map(|l| l.trim().to_string())).filter(|s| !s.is_empty());
    let mut host = Host {
        hostname: if root.live {
            first_line(read_live("/proc/sys/kernel/hostname"))
        } else {
            first_line(root.read("/etc/hostname"))
        },
        machine_id: first_line(root.read("/etc/machine-id")),
        os: Os { id: os_get("ID"), version_id: os_get("VERSION_ID"), pretty_name: os_get("PRETTY_NAME") },
        ..Default::default()
    };
    if root.live {
        host.kernel_release = first_line(read_live("/proc/sys/kernel/osrelease"));
        host.kernel_cmdline = first_line(read_live("/proc/cmdline"));
        host.lsm = read_live("/sys/kernel/security/lsm")
            .map(|t| t.trim().split(',').filter(|s| !s.is_empty()).map(str::to_string).collect());
        host.lockdown = read_live("/sys/kernel/security/lockdown").and_then(|t| {
            let open = t.find('[')?;
            let close = t[open..].find(']')?;
            Some(t[open + 1..open + close].to_string())
        });
        host.btf = Some(Path::new("/sys/kernel/btf/vmlinux").exists());
    }
    let shown_path =
        config_path.map_or_else(|| DEFAULT_CONFIG.to_string(), |p| display_bytes(p.as_os_str().as_bytes()));
    let mut sg = SafeguardState {
        installed: root.path("/usr/sbin/safeguard").exists(),
        config: shown_path,
        agents: root.live.then(|| {
            procs.iter().filter(|p| p.exe_name().starts_with("safeguard") && p.arg1 == "run").map(|p| p.pid).collect()
        }),
        ..Default::default()
    };
    let exists = config_path.map_or_else(|| root.path(DEFAULT_CONFIG).exists(), Path::exists);
    if !exists {
        sg.config_state = "absent".into();
    } else {
        match load_config(root, config_path) {
            Ok(cfg) => {
                sg.config_state = "valid".into();
                sg.modules = module_states(&cfg);
            }
            Err(err) => {
                sg.config_state = "invalid".into();
                sg.config_error = err.to_string().lines().next().map(str::to_string);
            }
        }
    }
    host.safeguard = sg;
    host
}

/// Each module's configured state: `off`, `monitor` or `block`.
pub fn module_states(cfg: &config::Config) -> Vec<ModuleState> {
    let state = |enable: bool, mode: config::Mode| match (enable, mode) {
        (false, _) => "off",
        (true, config::Mode::Monitor) => "monitor",
        (true, config::Mode::Block) => "block",
    };
    [
        ("file", state(cfg.file.enable, cfg.file.mode)),
        ("network", state(cfg.network.enable, cfg.network.mode)),
        ("process", state(cfg.process.enable, cfg.process.mode)),
        ("mount", state(cfg.mount.enable, cfg.mount.mode)),
    ]
    .into_iter()
    .map(|(module, state)| ModuleState { module: module.into(), state: state.into() })
    .collect()
}

// --- users ------------------------------------------------------------------------------

fn users(root: &Root, key_files: &[String]) -> (Vec<User>, Vec<Group>, Vec<SudoRule>, bool) {
    let passwd = parse::passwd(&root.read("/etc/passwd").unwrap_or_default());
    let shadow_text = root.read("/etc/shadow");
    let shadow_ok = shadow_text.is_some() || !root.path("/etc/shadow").exists();
    let shadow: HashMap<String, String> = parse::shadow(&shadow_text.unwrap_or_default()).into_iter().collect();
    let group_entries = parse::group(&root.read("/etc/group").unwrap_or_default());

    let mut sudo_rules = Vec::new();
    let mut sudo_files = vec!["/etc/sudoers".to_string()];
    sudo_files.extend(
        root.list("/etc/sudoers.d").into_iter().filter(|(n, _)| !n.contains('.') && !n.ends_with('~')).map(|(_, p)| p),
    );
    for file in sudo_files {
        if let Some(text) = root.read(&file) {
            sudo_rules
                .extend(parse::sudoers_rules(&text).into_iter().map(|rule| SudoRule { file: file.clone(), rule }));
        }
    }

    let users = passwd
        .iter()
        .map(|p| {
            let password = if p.password != "x" {
                parse::password_state(&p.password).to_string()
            } else if !shadow_ok {
                "unknown".to_string()
            } else {
                shadow.get(&p.name).map_or("none", |f| parse::password_state(f)).to_string()
            };
            let in_group =
                |g: &str| group_entries.iter().any(|e| e.name == g && (e.gid == p.gid || e.members.contains(&p.name)));
            let sudo = sudo_rules
                .iter()
                .filter(|r| {
                    let subject = parse::sudo_rule_subject(&r.rule);
                    subject.split(',').any(|s| s == p.name || s == "ALL" || s.strip_prefix('%').is_some_and(&in_group))
                })
                .map(|r| r.rule.clone())
                .collect();
            User {
                name: p.name.clone(),
                uid: p.uid,
                gid: p.gid,
                home: p.home.clone(),
                shell: p.shell.clone(),
                login_shell: !parse::is_nologin_shell(&p.shell),
                password,
                sudo,
                authorized_keys: authorized_keys(root, &p.name, p.uid, &p.home, key_files),
            }
        })
        .collect();
    let groups = group_entries
        .into_iter()
        .filter(|g| g.gid == 0 || !g.members.is_empty())
        .map(|g| Group { name: g.name, gid: g.gid, members: g.members })
        .collect();
    (users, groups, sudo_rules, shadow_ok)
}

/// sshd's default `AuthorizedKeysFile`.
const DEFAULT_KEY_FILES: &str = ".ssh/authorized_keys .ssh/authorized_keys2";

/// The key files of one account: each `AuthorizedKeysFile` pattern with sshd's tokens
/// expanded (`%h` home, `%u` name, `%U` uid, `%%`), a relative one under the home.
pub fn key_files_of(patterns: &[String], name: &str, uid: u32, home: &str) -> Vec<String> {
    let no_home = home.is_empty() || home == "/" || home == "/nonexistent";
    let home = home.trim_end_matches('/');
    let mut out: Vec<String> = Vec::new();
    for pattern in patterns {
        if pattern.eq_ignore_ascii_case("none") {
            continue;
        }
        let mut file = String::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                file.push(c);
                continue;
            }
            match chars.next() {
                Some('h') => file.push_str(home),
                Some('u') => file.push_str(name),
                Some('U') => file.push_str(&uid.to_string()),
                Some('%') => file.push('%'),
                Some(other) => {
                    file.push('%');
                    file.push(other);
                }
                None => file.push('%'),
            }
        }
        // A key file under a home the account does not have is none of its own.
        if no_home && (pattern.contains("%h") || !file.starts_with('/')) {
            continue;
        }
        let file = if file.starts_with('/') { file } else { format!("{home}/{file}") };
        if !out.contains(&file) {
            out.push(file);
        }
    }
    out
}

fn authorized_keys(root: &Root, name: &str, uid: u32, home: &str, patterns: &[String]) -> Vec<AuthorizedKey> {
    let mut out = Vec::new();
    for file in key_files_of(patterns, name, uid, home) {
        let Some(text) = root.read(&file) else { continue };
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let is_type = |w: &str| w.starts_with("ssh-") || w.starts_with("ecdsa-") || w.starts_with("sk-");
            let Some(at) = words.iter().position(|w| is_type(w)) else { continue };
            out.push(AuthorizedKey {
                file: file.clone(),
                line: index + 1,
                key_type: words[at].to_string(),
                comment: words.get(at + 2..).map(|w| w.join(" ")).unwrap_or_default(),
                options: words[..at].join(" "),
            });
        }
    }
    out
}

// --- sshd -------------------------------------------------------------------------------

/// The settings reported, with OpenSSH's defaults.
const SSH_SETTINGS: [(&str, &str, &str); 7] = [
    ("permitrootlogin", "PermitRootLogin", "prohibit-password"),
    ("passwordauthentication", "PasswordAuthentication", "yes"),
    ("permitemptypasswords", "PermitEmptyPasswords", "no"),
    ("kbdinteractiveauthentication", "KbdInteractiveAuthentication", "yes"),
    ("pubkeyauthentication", "PubkeyAuthentication", "yes"),
    ("x11forwarding", "X11Forwarding", "no"),
    ("authorizedkeysfile", "AuthorizedKeysFile", DEFAULT_KEY_FILES),
];

/// sshd's settings, and the `AuthorizedKeysFile` patterns in force: the global one (or
/// sshd's default) and every one set in a `Match` block, since some user may match it.
fn ssh(root: &Root) -> (Ssh, Vec<String>) {
    const MAIN: &str = "/etc/ssh/sshd_config";
    let split = |value: &str| value.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    if root.read(MAIN).is_none() {
        return (Ssh::default(), split(DEFAULT_KEY_FILES));
    }
    let mut files = Vec::new();
    let mut settings = Vec::new();
    ssh_file(root, MAIN, None, &mut files, &mut settings, 0);
    let mut out = Ssh { config: Some(MAIN.to_string()), files, ..Default::default() };
    // Paths keep their case; the yes/no settings are compared in lower case.
    let value = |key: &str, v: &str| if key == "authorizedkeysfile" { v.to_string() } else { v.to_ascii_lowercase() };
    for (key, name, default) in SSH_SETTINGS {
        out.settings.push(match parse::ssh_global(&settings, key) {
            Some(s) => SshValue {
                key: name.into(),
                value: value(key, &s.value),
                source: format!("{}:{}", s.file, s.line),
                r#match: None,
            },
            None => SshValue { key: name.into(), value: default.into(), source: "default".into(), r#match: None },
        });
        for s in settings.iter().filter(|s| s.key == key && s.matched.is_some()) {
            out.match_overrides.push(SshValue {
                key: name.into(),
                value: value(key, &s.value),
                source: format!("{}:{}", s.file, s.line),
                r#match: s.matched.clone(),
            });
        }
    }
    let mut key_files: Vec<String> = Vec::new();
    let patterns = out.settings.iter().chain(&out.match_overrides).filter(|s| s.key == "AuthorizedKeysFile");
    for pattern in patterns.flat_map(|s| split(&s.value)) {
        if !key_files.contains(&pattern) {
            key_files.push(pattern);
        }
    }
    (out, key_files)
}

/// Reads one sshd config file, expanding `Include` in place (relative patterns are under
/// /etc/ssh; `*` and `?` in the last component); included lines are under the `Match` of
/// the `Include` line.
fn ssh_file(
    root: &Root,
    file: &str,
    matched: Option<String>,
    files: &mut Vec<String>,
    settings: &mut Vec<parse::SshSetting>,
    depth: usize,
) {
    if depth > 8 || files.len() > 64 {
        return;
    }
    let Some(text) = root.read(file) else { return };
    files.push(file.to_string());
    let (lines, _) = parse::sshd_config(&text, file, matched);
    for line in lines {
        match line {
            parse::SshLine::Setting(s) => settings.push(s),
            parse::SshLine::Include(patterns, matched) => {
                for pattern in patterns {
                    let pattern = if pattern.starts_with('/') { pattern } else { format!("/etc/ssh/{pattern}") };
                    for path in glob(root, &pattern) {
                        ssh_file(root, &path, matched.clone(), files, settings, depth + 1);
                    }
                }
            }
        }
    }
}

/// Expands `*` and `?` in the last component of an absolute path, sorted.
fn glob(root: &Root, pattern: &str) -> Vec<String> {
    let (dir, name) = pattern.rsplit_once('/').unwrap_or(("", pattern));
    if !name.contains(['*', '?']) {
        return vec![pattern.to_string()];
    }
    root.list(if dir.is_empty() { "/" } else { dir })
        .into_iter()
        .filter(|(n, _)| wildcard(name.as_bytes(), n.as_bytes()))
        .map(|(_, p)| p)
        .collect()
}

fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => wildcard(&pattern[1..], name) || (!name.is_empty() && wildcard(pattern, &name[1..])),
        (Some(b'?'), Some(_)) => wildcard(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => wildcard(&pattern[1..], &name[1..]),
        _ => false,
    }
}

// --- processes and sockets --------------------------------------------------------------

struct Proc {
    pid: u32,
    comm: String,
    exe: String,
    arg1: String,
    uid: u32,
    netns: u64,
    sockets: Vec<u64>,
    cgroup: String,
}

impl Proc {
    fn exe_name(&self) -> &str {
        self.exe.rsplit('/').next().unwrap_or("")
    }
}

fn ns_inode(link: &Path) -> u64 {
    fs::read_link(link)
        .ok()
        .and_then(|t| {
            let t = t.to_string_lossy().into_owned();
            let open = t.find('[')?;
            t[open + 1..].trim_end_matches(']').parse().ok()
        })
        .unwrap_or(0)
}

/// Every process of /proc (kernel threads, which have no executable, are left out).
fn processes() -> Vec<Proc> {
    let Ok(dir) = fs::read_dir("/proc") else { return Vec::new() };
    let mut out = Vec::new();
    for entry in dir.filter_map(Result::ok) {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let base = entry.path();
        let Ok(exe) = fs::read_link(base.join("exe")) else { continue };
        let uid = fs::metadata(&base).map(|m| m.uid()).unwrap_or(u32::MAX);
        let cmdline = fs::read(base.join("cmdline")).unwrap_or_default();
        let arg1 =
            cmdline.split(|b| *b == 0).nth(1).map(|a| String::from_utf8_lossy(a).into_owned()).unwrap_or_default();
        let mut sockets = Vec::new();
        if let Ok(fds) = fs::read_dir(base.join("fd")) {
            for fd in fds.filter_map(Result::ok) {
                if let Ok(target) = fs::read_link(fd.path()) {
                    let t = target.as_os_str().as_bytes();
                    if let Some(n) = t.strip_prefix(b"socket:[").and_then(|r| r.strip_suffix(b"]")) {
                        if let Some(inode) = std::str::from_utf8(n).ok().and_then(|s| s.parse().ok()) {
                            sockets.push(inode);
                        }
                    }
                }
            }
        }
        out.push(Proc {
            pid,
            comm: fs::read_to_string(base.join("comm")).map(|c| c.trim_end().to_string()).unwrap_or_default(),
            exe: display_bytes(exe.as_os_str().as_bytes()),
            arg1,
            uid,
            netns: ns_inode(&base.join("ns/net")),
            sockets,
            cgroup: fs::read_to_string(base.join("cgroup")).unwrap_or_default(),
        });
    }
    out.sort_by_key(|p| p.pid);
    out
}

/// Listening TCP sockets and bound, unconnected UDP sockets of every network namespace
/// that has a process, each with the processes that hold it.
fn listeners(procs: &[Proc]) -> Vec<Listener> {
    // The init process's namespace is the host's; where /proc/1 is hidden (a sandbox),
    // the inspecting process's own.
    let host_netns = match ns_inode(Path::new("/proc/1/ns/net")) {
        0 => ns_inode(Path::new("/proc/self/ns/net")),
        inode => inode,
    };
    let mut by_inode: HashMap<u64, Vec<&Proc>> = HashMap::new();
    let mut netns_pids: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    for p in procs {
        for s in &p.sockets {
            by_inode.entry(*s).or_default().push(p);
        }
        netns_pids.entry(p.netns).or_default().push(p.pid);
    }
    let mut out = Vec::new();
    for (netns, pids) in netns_pids {
        for (file, protocol, state) in [
            ("tcp", "tcp", parse::TCP_LISTEN),
            ("tcp6", "tcp", parse::TCP_LISTEN),
            ("udp", "udp", parse::UDP_UNCONNECTED),
            ("udp6", "udp", parse::UDP_UNCONNECTED),
        ] {
            // Any process of the namespace will do; one may exit while we read.
            let Some(text) = pids.iter().find_map(|pid| fs::read_to_string(format!("/proc/{pid}/net/{file}")).ok())
            else {
                continue;
            };
            for s in parse::proc_net(&text).into_iter().filter(|s| s.state == state && s.port != 0) {
                let processes = by_inode
                    .get(&s.inode)
                    .map(|ps| {
                        ps.iter()
                            .map(|p| ProcessRef {
                                pid: p.pid,
                                comm: p.comm.clone(),
                                exe: p.exe.clone(),
                                uid: Some(p.uid),
                                copy_of: None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(Listener {
                    protocol: protocol.into(),
                    address: s.addr.to_string(),
                    port: s.port,
                    all_addresses: s.addr.is_unspecified(),
                    uid: s.uid,
                    inode: s.inode,
                    netns,
                    host_netns: netns == host_netns,
                    processes,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.protocol, a.port, &a.address, a.netns).cmp(&(&b.protocol, b.port, &b.address, b.netns)));
    out.dedup_by_key(|l| l.inode);
    out
}

// --- the setuid / capability walk -------------------------------------------------------

fn walk(root: &Root) -> (Vec<SetidFile>, Vec<FileCap>, Walk) {
    let mut setid = Vec::new();
    let mut caps = Vec::new();
    let mut walk = Walk { limit: WALK_LIMIT, ..Default::default() };
    let prune: Vec<PathBuf> = WALK_PRUNE.iter().map(|p| root.base.join(&p[1..])).collect();
    for dir in WALK_DIRS {
        let start = root.base.join(&dir[1..]);
        let Ok(meta) = fs::symlink_metadata(&start) else { continue };
        if !meta.is_dir() {
            continue; // a usrmerge symlink (/bin -> usr/bin) is walked as its target
        }
        walk.dirs.push(dir.to_string());
        let dev = meta.dev();
        let mut stack = vec![(start, 0usize)];
        while let Some((path, depth)) = stack.pop() {
            let Ok(entries) = fs::read_dir(&path) else { continue };
            for entry in entries.filter_map(Result::ok) {
                if walk.entries >= WALK_LIMIT {
                    walk.truncated = true;
                    break;
                }
                walk.entries += 1;
                let Ok(kind) = entry.file_type() else { continue };
                let full = entry.path();
                if kind.is_dir() {
                    if depth >= WALK_DEPTH || prune.contains(&full) {
                        continue;
                    }
                    match fs::symlink_metadata(&full) {
                        Ok(m) if m.dev() == dev => stack.push((full, depth + 1)),
                        Ok(_) => walk.skipped_mounts += 1,
                        Err(_) => {}
                    }
                    continue;
                }
                if !kind.is_file() {
                    continue;
                }
                let Ok(m) = fs::symlink_metadata(&full) else { continue };
                let mode = m.permissions().mode();
                let shown = || {
                    let rel = full.strip_prefix(&root.base).unwrap_or(&full);
                    format!("/{}", display_bytes(rel.as_os_str().as_bytes()))
                };
                if mode & 0o6000 != 0 {
                    setid.push(SetidFile {
                        path: shown(),
                        mode: format!("{:o}", mode & 0o7777),
                        setuid: mode & 0o4000 != 0,
                        setgid: mode & 0o2000 != 0,
                        uid: m.uid(),
                        gid: m.gid(),
                        package: None,
                    });
                }
                if mode & 0o111 != 0 {
                    if let Some(text) = capability_xattr(&full).and_then(|v| parse::file_caps(&v)) {
                        caps.push(FileCap { path: shown(), capabilities: text, package: None });
                    }
                }
            }
        }
    }
    setid.sort_by(|a, b| a.path.cmp(&b.path));
    caps.sort_by(|a, b| a.path.cmp(&b.path));
    (setid, caps, walk)
}

/// The `security.capability` xattr of a file (not following symlinks), if it has one.
fn capability_xattr(path: &Path) -> Option<Vec<u8>> {
    let c_path = CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut buf = [0u8; 64];
    // SAFETY: both strings are NUL-terminated and live across the call; the kernel writes
    // at most buf.len() bytes into buf.
    let n = unsafe {
        libc::lgetxattr(c_path.as_ptr(), c"security.capability".as_ptr(), buf.as_mut_ptr().cast(), buf.len())
    };
    usize::try_from(n).ok().map(|n| buf[..n].to_vec())
}

// --- packages ---------------------------------------------------------------------------

/// dpkg's packages and where rpm's database is; the owners and rpm's packages are read
/// after the walk, which tells the paths whose owner is wanted.
fn packages(root: &Root) -> Packages {
    let dpkg = root.read("/var/lib/dpkg/status").map(|t| {
        parse::dpkg_status(&t)
            .into_iter()
            .map(|p| PackageRef { name: p.name, version: p.version, arch: p.arch })
            .collect()
    });
    let rpm_db = ["/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite", "/var/lib/rpm/Packages"]
        .into_iter()
        .find(|p| root.path(p).exists())
        .map(str::to_string);
    Packages { dpkg, rpm_db, ..Packages::default() }
}

/// Each wanted path under its own name and its other /usr-merge spelling (/bin/su and
/// /usr/bin/su are one file), mapped to the wanted path.
fn path_aliases(wanted: &BTreeSet<String>) -> HashMap<String, String> {
    let mut aliases: HashMap<String, String> = HashMap::new();
    for path in wanted {
        aliases.insert(path.clone(), path.clone());
        for top in ["/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"] {
            if let Some(rest) = path.strip_prefix("/usr").filter(|r| r.starts_with(top)) {
                aliases.insert(rest.to_string(), path.clone());
            } else if path.starts_with(top) {
                aliases.insert(format!("/usr{path}"), path.clone());
            }
        }
    }
    aliases
}

/// The dpkg package that owns each wanted path (by its aliases), from
/// /var/lib/dpkg/info/*.list.
fn dpkg_owners(root: &Root, aliases: &HashMap<String, String>) -> HashMap<String, String> {
    let mut owners = HashMap::new();
    for (name, file) in root.list("/var/lib/dpkg/info") {
        let Some(package) = name.strip_suffix(".list") else { continue };
        let package = package.split(':').next().unwrap_or(package);
        let Some(text) = root.read(&file) else { continue };
        for line in text.lines() {
            if let Some(path) = aliases.get(line) {
                owners.entry(path.clone()).or_insert_with(|| package.to_string());
            }
        }
    }
    owners
}

/// The rpm database's packages and the owner of each wanted path (by its aliases); `None`
/// when there is no rpm database, an error when it cannot be read.
type RpmRead = (Vec<PackageRef>, HashMap<String, String>);
fn rpm_packages(root: &Root, db: Option<&str>, aliases: &HashMap<String, String>) -> Option<Result<RpmRead, String>> {
    let db = db?;
    if !db.ends_with(".sqlite") {
        return Some(Err(format!("{db}: a Berkeley DB database (rpm before 4.16) is not read")));
    }
    let packages = match rpmdb::read(&root.path(db), &|path| aliases.contains_key(path)) {
        Ok(p) => p,
        Err(e) => return Some(Err(format!("{db}: {e}"))),
    };
    let mut owners = HashMap::new();
    let mut list = Vec::with_capacity(packages.len());
    for p in packages {
        for path in p.files.iter().filter_map(|f| aliases.get(f)) {
            owners.entry(path.clone()).or_insert_with(|| p.name.clone());
        }
        list.push(PackageRef { name: p.name, version: p.version, arch: p.arch });
    }
    list.sort_by(|a, b| (&a.name, &a.version, &a.arch).cmp(&(&b.name, &b.version, &b.arch)));
    Some(Ok((list, owners)))
}

// --- kernel modules, services, cron ------------------------------------------------------

fn configured_modules(root: &Root) -> Vec<String> {
    let mut files = vec!["/etc/modules".to_string()];
    for dir in ["/usr/lib/modules-load.d", "/etc/modules-load.d"] {
        files.extend(root.list(dir).into_iter().filter(|(n, _)| n.ends_with(".conf")).map(|(_, p)| p));
    }
    let mut out: Vec<String> = files
        .iter()
        .filter_map(|f| root.read(f))
        .flat_map(|t| {
            t.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                .filter(|l| !l.is_empty() && !l.starts_with(';'))
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn services(root: &Root) -> Vec<Service> {
    let mut out = Vec::new();
    for (dir_name, dir) in root.list("/etc/systemd/system") {
        if !(dir_name.ends_with(".wants") || dir_name.ends_with(".requires")) {
            continue;
        }
        for (unit, path) in root.list(&dir) {
            let target = fs::read_link(root.base.join(&path[1..]))
                .map(|t| display_bytes(t.as_os_str().as_bytes()))
                .unwrap_or_default();
            out.push(Service {
                kind: unit.rsplit_once('.').map(|(_, k)| k.to_string()).unwrap_or_default(),
                unit,
                wanted_by: dir_name.clone(),
                target,
            });
        }
    }
    out
}

fn cron(root: &Root) -> Vec<CronJob> {
    let mut out = Vec::new();
    let mut add = |file: &str, entries: Vec<parse::CronEntry>| {
        out.extend(entries.into_iter().map(|e| CronJob {
            file: file.to_string(),
            line: e.line,
            user: e.user,
            schedule: e.schedule,
            writable_program: writable_program(root, &e.command),
            command: e.command,
        }))
    };
    let visible = |n: &String| !n.starts_with('.') && !n.ends_with('~');
    if let Some(t) = root.read("/etc/crontab") {
        add("/etc/crontab", parse::crontab(&t, true, "root"));
    }
    for (_, file) in root.list("/etc/cron.d").into_iter().filter(|(n, _)| visible(n)) {
        if let Some(t) = root.read(&file) {
            add(&file, parse::crontab(&t, true, "root"));
        }
    }
    for spool in ["/var/spool/cron/crontabs", "/var/spool/cron"] {
        for (user, file) in root.list(spool).into_iter().filter(|(n, _)| visible(n)) {
            if root.path(&file).is_file() {
                if let Some(t) = root.read(&file) {
                    add(&file, parse::crontab(&t, false, &user));
                }
            }
        }
    }
    if let Some(t) = root.read("/etc/anacrontab") {
        let entries = t
            .lines()
            .enumerate()
            .filter_map(|(i, l)| {
                let words: Vec<&str> = l.split_whitespace().collect();
                let period = words.first()?;
                if l.trim_start().starts_with('#') || words.len() < 4 || period.contains('=') {
                    return None;
                }
                Some(parse::CronEntry {
                    schedule: format!("anacron {period}"),
                    user: "root".into(),
                    command: words[3..].join(" "),
                    line: i + 1,
                })
            })
            .collect();
        add("/etc/anacrontab", entries);
    }
    for period in ["hourly", "daily", "weekly", "monthly"] {
        let dir = format!("/etc/cron.{period}");
        for (_, file) in root.list(&dir).into_iter().filter(|(n, _)| visible(n)) {
            add(&dir, vec![parse::CronEntry { schedule: period.into(), user: "root".into(), command: file, line: 0 }]);
        }
    }
    out
}

/// The program a cron command starts (its first word, when an absolute path), if it or
/// its directory may be written by a group or by everyone.
fn writable_program(root: &Root, command: &str) -> Option<String> {
    let program = command.split_whitespace().next().filter(|w| w.starts_with('/'))?;
    let parent = program.rsplit_once('/').map(|(dir, _)| if dir.is_empty() { "/" } else { dir })?;
    let writable = |path: &str| fs::metadata(root.path(path)).is_ok_and(|m| m.permissions().mode() & 0o022 != 0);
    (writable(program) || writable(parent)).then(|| program.to_string())
}

// --- root's PATH ------------------------------------------------------------------------

const DEFAULT_ROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The directories of root's PATH as configured: login.defs `ENV_SUPATH`, /etc/environment,
/// sudoers `secure_path`, `PATH=` lines of root's shell startup files, and the usual default.
fn root_path(root: &Root) -> Vec<PathDir> {
    let mut sources: Vec<(String, String)> = vec![("default".into(), DEFAULT_ROOT_PATH.into())];
    let kv = |file: &str| parse::key_values(&root.read(file).unwrap_or_default());
    for (k, v) in kv("/etc/login.defs") {
        if k == "ENV_SUPATH" {
            sources.push(("/etc/login.defs ENV_SUPATH".into(), v.trim_start_matches("PATH=").to_string()));
        }
    }
    for (k, v) in kv("/etc/environment") {
        if k == "PATH" {
            sources.push(("/etc/environment".into(), v));
        }
    }
    if let Some(v) = root.read("/etc/sudoers").and_then(|t| parse::sudoers_secure_path(&t)) {
        sources.push(("/etc/sudoers secure_path".into(), v));
    }
    for file in ["/root/.profile", "/root/.bashrc", "/root/.bash_profile"] {
        for (k, v) in kv(file) {
            if k == "PATH" {
                sources.push((file.into(), v));
            }
        }
    }
    let mut dirs: Vec<PathDir> = Vec::new();
    for (source, value) in sources {
        for dir in value.split(':').filter(|d| !d.contains('$')) {
            let dir = if dir.is_empty() { "." } else { dir };
            if let Some(known) = dirs.iter_mut().find(|d| d.dir == dir) {
                if !known.sources.contains(&source) {
                    known.sources.push(source.clone());
                }
                continue;
            }
            let meta = if dir.starts_with('/') { fs::metadata(root.path(dir)).ok() } else { None };
            let mode = meta.as_ref().map_or(0, |m| m.permissions().mode());
            dirs.push(PathDir {
                dir: dir.to_string(),
                sources: vec![source.clone()],
                exists: meta.as_ref().is_some_and(fs::Metadata::is_dir),
                world_writable: mode & 0o002 != 0,
                sticky: mode & 0o1000 != 0,
                uid: meta.map(|m| m.uid()),
            });
        }
    }
    dirs
}

/// runc (1.0 to 1.1, and 1.2 where it still clones) re-executes itself from a sealed
/// memfd copy of its binary (the CVE-2019-5736 protection): its `exe` is
/// `/memfd:runc_cloned:/proc/self/exe (deleted)`, which looks like a fileless program.
/// A memfd name is chosen by whoever creates it, so the name proves nothing: the copy is
/// recognised only when its bytes are those of an installed runc.
pub const RUNC_MEMFD: &str = "/memfd:runc_cloned:";
const RUNC_PATHS: [&str; 5] =
    ["/usr/bin/runc", "/usr/sbin/runc", "/usr/local/bin/runc", "/usr/local/sbin/runc", "/usr/bin/docker-runc"];
/// Larger files are not compared (runc is about 10 MB).
const RUNC_COMPARE_LIMIT: u64 = 64 << 20;

fn runc_copy(p: &Proc) -> Option<String> {
    if !p.exe.starts_with(RUNC_MEMFD) {
        return None;
    }
    let exe = PathBuf::from(format!("/proc/{}/exe", p.pid));
    RUNC_PATHS.iter().find(|path| same_content(&exe, Path::new(path), RUNC_COMPARE_LIMIT)).map(|path| path.to_string())
}

/// Whether two files hold the same bytes (both at most `limit` bytes; larger ones are
/// not compared and count as different).
pub fn same_content(a: &Path, b: &Path, limit: u64) -> bool {
    use std::io::Read;
    let (Ok(mut fa), Ok(mut fb)) = (fs::File::open(a), fs::File::open(b)) else { return false };
    let (Ok(ma), Ok(mb)) = (fa.metadata(), fb.metadata()) else { return false };
    if ma.len() != mb.len() || ma.len() > limit || !ma.is_file() || !mb.is_file() {
        return false;
    }
    let mut bufa = vec![0u8; 64 * 1024];
    let mut bufb = vec![0u8; 64 * 1024];
    loop {
        let Ok(n) = fa.read(&mut bufa) else { return false };
        if n == 0 {
            // Both ended together only if b has nothing left either.
            return matches!(fb.read(&mut bufb[..1]), Ok(0));
        }
        if fb.read_exact(&mut bufb[..n]).is_err() || bufa[..n] != bufb[..n] {
            return false;
        }
    }
}

// --- containers ---------------------------------------------------------------------------

const RUNTIMES: [(&str, &str); 14] = [
    ("docker", "/usr/bin/dockerd"),
    ("docker", "/run/docker.sock"),
    ("containerd", "/usr/bin/containerd"),
    ("containerd", "/run/containerd/containerd.sock"),
    ("podman", "/usr/bin/podman"),
    ("podman", "/run/podman/podman.sock"),
    ("cri-o", "/usr/bin/crio"),
    ("cri-o", "/run/crio/crio.sock"),
    ("runc", "/usr/bin/runc"),
    ("runc", "/usr/sbin/runc"),
    ("crun", "/usr/bin/crun"),
    ("lxc", "/usr/bin/lxc-start"),
    ("systemd-nspawn", "/usr/bin/systemd-nspawn"),
    ("kubelet", "/usr/bin/kubelet"),
];

fn containers(root: &Root, procs: &[Proc]) -> Containers {
    let runtimes = RUNTIMES
        .iter()
        .filter(|(_, path)| fs::symlink_metadata(root.path(path)).is_ok())
        .map(|(name, path)| Runtime { name: (*name).into(), path: (*path).into() })
        .collect();
    let mut running: BTreeMap<(String, String), Container> = BTreeMap::new();
    for p in procs {
        let Some((runtime, id)) = container_of(&p.cgroup) else { continue };
        running.entry((runtime.to_string(), id.clone())).and_modify(|c| c.processes += 1).or_insert_with(|| {
            Container {
                runtime: runtime.into(),
                id,
                pid: p.pid,
                processes: 1,
                hostname: fs::read_to_string(format!("/proc/{}/root/etc/hostname", p.pid))
                    .ok()
                    .map(|h| h.trim().to_string())
                    .filter(|h| !h.is_empty()),
            }
        });
    }
    Containers { runtimes, running: running.into_values().collect() }
}

/// The runtime and container id a /proc/PID/cgroup names, for the usual cgroup layouts of
/// Docker, Podman, containerd (CRI), CRI-O, LXC and systemd-nspawn.
pub fn container_of(cgroup: &str) -> Option<(&'static str, String)> {
    let hex_id = |s: &str| -> Option<String> {
        let id: String = s.chars().take_while(char::is_ascii_hexdigit).collect();
        (id.len() >= 12).then_some(id)
    };
    for line in cgroup.lines() {
        let path = line.splitn(3, ':').nth(2).unwrap_or("");
        for part in path.split('/') {
            for (prefix, runtime) in
                [("docker-", "docker"), ("libpod-", "podman"), ("cri-containerd-", "containerd"), ("crio-", "cri-o")]
            {
                if let Some(id) = part.strip_prefix(prefix).and_then(hex_id) {
                    return Some((runtime, id));
                }
            }
            if let Some(name) = part.strip_prefix("machine-").and_then(|r| r.strip_suffix(".scope")) {
                return Some(("systemd-nspawn", name.replace("\\x2d", "-")));
            }
            if let Some(name) = part.strip_prefix("lxc.payload.") {
                return Some(("lxc", name.to_string()));
            }
        }
        if let Some(id) = path.split("/docker/").nth(1).and_then(hex_id) {
            return Some(("docker", id));
        }
    }
    None
}

// --- sysctls ------------------------------------------------------------------------------

fn sysctls(root: &Root) -> Vec<Sysctl> {
    if root.live {
        return SYSCTLS
            .iter()
            .map(|name| Sysctl {
                name: (*name).into(),
                value: read_live(&format!("/proc/sys/{}", name.replace('.', "/")))
                    .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" ")),
                source: "/proc/sys".into(),
            })
            .collect();
    }
    // systemd-sysctl's order: files by name across the directories (a name in /etc hides
    // the same name elsewhere), then /etc/sysctl.conf.
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for dir in ["/usr/lib/sysctl.d", "/lib/sysctl.d", "/run/sysctl.d", "/etc/sysctl.d"] {
        for (name, path) in root.list(dir).into_iter().filter(|(n, _)| n.ends_with(".conf")) {
            by_name.insert(name, path);
        }
    }
    let mut files: Vec<String> = by_name.into_values().collect();
    files.push("/etc/sysctl.conf".into());
    let mut values: HashMap<String, (String, String)> = HashMap::new();
    for file in files {
        for (key, value) in parse::sysctl_conf(&root.read(&file).unwrap_or_default()) {
            values.insert(key, (value, file.clone()));
        }
    }
    SYSCTLS
        .iter()
        .map(|name| match values.get(*name) {
            Some((value, file)) => Sysctl { name: (*name).into(), value: Some(value.clone()), source: file.clone() },
            None => Sysctl { name: (*name).into(), value: None, source: "not configured".into() },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids_from_cgroups() {
        let id = "a".repeat(64);
        let cases = [
            (format!("0::/system.slice/docker-{id}.scope"), Some(("docker", id.clone()))),
            (format!("12:pids:/docker/{id}"), Some(("docker", id.clone()))),
            (format!("0::/machine.slice/libpod-{id}.scope/container"), Some(("podman", id.clone()))),
            (
                format!("0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-{id}.scope"),
                Some(("containerd", id.clone())),
            ),
            (
                "0::/machine.slice/machine-deb\\x2dtest.scope/payload".to_string(),
                Some(("systemd-nspawn", "deb-test".into())),
            ),
            ("0::/lxc.payload.web/init.scope".to_string(), Some(("lxc", "web".into()))),
            ("0::/user.slice/user-1000.slice/session-2.scope".to_string(), None),
        ];
        for (cgroup, want) in cases {
            assert_eq!(container_of(&cgroup), want, "{cgroup}");
        }
    }

    #[test]
    fn globs_and_display() {
        assert!(wildcard(b"*.conf", b"50-cloud.conf"));
        assert!(!wildcard(b"*.conf", b"x.conf.bak"));
        assert!(wildcard(b"a?c", b"abc"));
        assert_eq!(display_bytes(b"/tmp/\xffx\\y"), "/tmp/\\xffx\\\\y");
    }
}
