//! Host inventory and risk findings (SPEC section 9): `safeguard inventory` and
//! `safeguard risk`.
//!
//! `collect(root)` reads the host (or a mounted root, offline) into an `Inventory`;
//! `findings(&inventory, config)` turns it into `Finding`s; `diff` lists what
//! changed between two inventories. All three are plain functions so that the agent's
//! periodic `inventory`/`drift` records can call them. The JSON schema is docs/inventory.md.
//!
//! Files: `parse` (pure parsers), `collect` (reading files and /proc, bounded walks),
//! `findings` (risk rules, severities), `text` (the readable summaries), `diff`, and
//! `agent` (the agent's `[inventory]` module).

pub mod agent;
pub mod collect;
pub mod diff;
pub mod findings;
pub mod parse;
pub mod rpmdb;
#[cfg(test)]
mod tests;
pub mod text;

use std::path::PathBuf;

use serde::Serialize;

pub use collect::{collect, Root};
pub use findings::{findings, Finding, Severity};

/// Bumped when a field changes meaning or disappears (new fields do not bump it).
pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Inventory {
    pub schema: u32,
    /// The root directory inspected (`/` on the live host).
    pub root: String,
    /// True when the running host was inspected (processes, sockets, kernel state).
    pub live: bool,
    /// Sections that could not be read, with the reason (`"listeners": "offline root"`).
    pub unavailable: Vec<Unavailable>,
    pub host: Host,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub sudo_rules: Vec<SudoRule>,
    pub ssh: Ssh,
    pub listeners: Vec<Listener>,
    pub deleted_executables: Vec<ProcessRef>,
    pub setid_files: Vec<SetidFile>,
    pub file_capabilities: Vec<FileCap>,
    pub walk: Walk,
    pub kernel_modules: KernelModules,
    pub services: Vec<Service>,
    pub cron: Vec<CronJob>,
    pub packages: Packages,
    pub root_path: Vec<PathDir>,
    pub containers: Containers,
    pub sysctls: Vec<Sysctl>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Unavailable {
    pub section: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Host {
    pub hostname: Option<String>,
    pub machine_id: Option<String>,
    pub os: Os,
    pub kernel_release: Option<String>,
    pub kernel_cmdline: Option<String>,
    /// /sys/kernel/security/lsm, in order.
    pub lsm: Option<Vec<String>>,
    /// The selected lockdown mode (`none`, `integrity`, `confidentiality`).
    pub lockdown: Option<String>,
    pub btf: Option<bool>,
    pub safeguard: SafeguardState,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Os {
    pub id: Option<String>,
    pub version_id: Option<String>,
    pub pretty_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SafeguardState {
    /// `/usr/sbin/safeguard` exists.
    pub installed: bool,
    pub config: String,
    /// `absent`, `valid` or `invalid`.
    pub config_state: String,
    /// The first problem of an invalid config.
    pub config_error: Option<String>,
    /// Each module of a valid config: `off`, `monitor` or `block`.
    pub modules: Vec<ModuleState>,
    /// Process ids of running `safeguard run` agents (live only).
    pub agents: Option<Vec<u32>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModuleState {
    pub module: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
    /// The shell lets the account log in (not nologin/false).
    pub login_shell: bool,
    /// `set`, `empty`, `locked`, `none` (no shadow entry) or `unknown` (shadow unreadable).
    pub password: String,
    /// Sudo rules that name the user or one of its groups.
    pub sudo: Vec<String>,
    pub authorized_keys: Vec<AuthorizedKey>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuthorizedKey {
    pub file: String,
    pub line: usize,
    pub key_type: String,
    pub comment: String,
    /// Options before the key type (`command="..."`, `from="..."`).
    pub options: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SudoRule {
    pub file: String,
    pub rule: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Ssh {
    /// The main config file, when it exists.
    pub config: Option<String>,
    /// Files read (the main file and its includes).
    pub files: Vec<String>,
    /// Effective global values of the security-relevant settings (explicit or default).
    pub settings: Vec<SshValue>,
    /// Those settings set inside `Match` blocks.
    pub match_overrides: Vec<SshValue>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SshValue {
    pub key: String,
    pub value: String,
    /// `file:line`, or `default` when not set.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#match: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Listener {
    /// `tcp` or `udp`.
    pub protocol: String,
    pub address: String,
    pub port: u16,
    /// Bound to 0.0.0.0 or ::.
    pub all_addresses: bool,
    pub uid: u32,
    pub inode: u64,
    /// The network namespace (inode of /proc/PID/ns/net) and whether it is the host's.
    pub netns: u64,
    pub host_netns: bool,
    /// Processes holding the socket (several after fork).
    pub processes: Vec<ProcessRef>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProcessRef {
    pub pid: u32,
    pub comm: String,
    pub exe: String,
    pub uid: Option<u32>,
    /// A running deleted executable that is a byte-for-byte copy of this installed file
    /// (runc's sealed memfd copy of itself); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_of: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SetidFile {
    pub path: String,
    /// Octal permission bits, `4755`.
    pub mode: String,
    pub setuid: bool,
    pub setgid: bool,
    pub uid: u32,
    pub gid: u32,
    /// The owning package, `null` when none does or no package database was read
    /// (see `packages.owner_db`).
    pub package: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileCap {
    pub path: String,
    pub capabilities: String,
    pub package: Option<String>,
}

/// What the setuid/capability walk covered.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Walk {
    pub dirs: Vec<String>,
    pub entries: u64,
    pub limit: u64,
    /// The entry limit stopped the walk before its end.
    pub truncated: bool,
    /// Mount points below the walked dirs that were not entered.
    pub skipped_mounts: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct KernelModules {
    /// /proc/sys/kernel/tainted.
    pub taint: Option<u64>,
    pub taint_flags: Vec<String>,
    pub loaded: Vec<KernelModule>,
    /// Modules listed to load at boot (/etc/modules, modules-load.d).
    pub configured: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KernelModule {
    pub name: String,
    pub size: u64,
    /// The module's own taint letters (`O` out-of-tree, `E` unsigned, `P` proprietary).
    pub taint: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Service {
    pub unit: String,
    /// `service`, `timer`, `socket`, `path`, ...
    pub kind: String,
    /// The `.wants`/`.requires` directory that enables it.
    pub wanted_by: String,
    /// Where the symlink points.
    pub target: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CronJob {
    pub file: String,
    pub line: usize,
    pub user: String,
    pub schedule: String,
    pub command: String,
    /// The program the command starts (its first word, when a path) or the directory
    /// holding it is writable by others than its owner and root.
    pub writable_program: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Packages {
    /// The databases that tell which package owns a file: `dpkg`, `rpm` or `dpkg+rpm`;
    /// `null` when no readable database does.
    pub owner_db: Option<String>,
    pub dpkg: Option<Vec<PackageRef>>,
    /// The rpm database found (`rpmdb.sqlite` is read; Berkeley DB `Packages` is not).
    pub rpm_db: Option<String>,
    /// The packages of the rpm database; `null` when there is none or it was not read.
    pub rpm: Option<Vec<PackageRef>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
    pub arch: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PathDir {
    pub dir: String,
    /// Where root's PATH names it (`/etc/login.defs ENV_SUPATH`, `sudoers secure_path`, ...).
    pub sources: Vec<String>,
    pub exists: bool,
    pub world_writable: bool,
    pub sticky: bool,
    pub uid: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Containers {
    /// Installed runtimes: `{name, path}` of binaries and sockets found.
    pub runtimes: Vec<Runtime>,
    /// Running containers found from /proc (live only).
    pub running: Vec<Container>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Runtime {
    pub name: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Container {
    pub runtime: String,
    pub id: String,
    /// The first process found in it and how many there are.
    pub pid: u32,
    pub processes: u32,
    pub hostname: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sysctl {
    pub name: String,
    pub value: Option<String>,
    /// `/proc/sys` (live), or the sysctl.d file that sets it (offline).
    pub source: String,
}

// --- the commands -------------------------------------------------------------------------

#[derive(clap::Args)]
pub struct InventoryArgs {
    /// Print one JSON object (schema: docs/inventory.md).
    #[arg(long)]
    pub json: bool,
    /// Inspect a mounted image or container root offline instead of this host.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct RiskArgs {
    /// Print one JSON object (schema: docs/inventory.md).
    #[arg(long)]
    pub json: bool,
    /// Inspect a mounted image or container root offline instead of this host.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Exit 3 when a finding at or above this severity exists.
    #[arg(long, value_name = "SEVERITY", value_parser = Severity::parse)]
    pub fail_on: Option<Severity>,
    /// safeguard's config to judge (default: ROOT/etc/safeguard/safeguard.toml).
    #[arg(short, long)]
    pub config: Option<PathBuf>,
}

fn root_of(dir: Option<&PathBuf>) -> anyhow::Result<Root> {
    match dir {
        None => Ok(Root::live()),
        Some(dir) => Root::offline(dir),
    }
}

/// `safeguard inventory`: the text or JSON to print.
pub fn inventory_command(args: &InventoryArgs) -> anyhow::Result<String> {
    let root = root_of(args.root.as_ref())?;
    let inventory = collect(&root, None);
    Ok(if args.json { format!("{}\n", to_json(&inventory)) } else { text::inventory(&inventory) })
}

/// `safeguard risk`: the text or JSON to print, and whether `--fail-on` was reached.
pub fn risk_command(args: &RiskArgs) -> anyhow::Result<(String, bool)> {
    let root = root_of(args.root.as_ref())?;
    let inventory = collect(&root, args.config.as_deref());
    let config = collect::load_config(&root, args.config.as_deref()).ok();
    let found = findings(&inventory, config.as_ref());
    let fail = args.fail_on.is_some_and(|at| found.iter().any(|f| f.severity >= at));
    let out = if args.json {
        let value = serde_json::json!({
            "schema": SCHEMA,
            "root": inventory.root,
            "live": inventory.live,
            "unavailable": inventory.unavailable,
            "findings": found,
        });
        format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
    } else {
        text::risk(&inventory, &found)
    };
    Ok((out, fail))
}

pub fn to_json(inventory: &Inventory) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_string_pretty(inventory).unwrap_or_default()
}
