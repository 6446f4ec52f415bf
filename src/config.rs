//! Configuration: the TOML schema of SPEC section 3, parsed strictly into `Config`.
//!
//! Every unknown key, wrong type and invalid value is a `Problem` naming the file, line,
//! column and dotted key path (`process.deny[1]`); all of them are collected, not just the
//! first. The walk runs over a `toml_edit` document because it keeps the span of every key
//! and value (and every array element), which serde's derive cannot name for type errors.
//!
//! Decisions SPEC leaves open (repeated on the types):
//! - A module section absent from the file is off (`enable = false`); a section present
//!   without an `enable` key is on. An administrator expects a module they did not
//!   configure to stay off, and one they wrote rules for to run.
//! - Sizes: KB, MB, GB, TB are powers of 1000, KiB, MiB, GiB, TiB powers of 1024.
//! - CIDR host bits are cleared (`10.0.0.1/8` is `10.0.0.0/8`); IPv4-mapped IPv6 networks
//!   become IPv4.
//! - Keywords (`format`, `mode`, `target`, op names, `"stdout"`) match in any case.
//! - A `port` entry without `tcp/` or `udp/` applies to both.
//! - Every rule keeps `text`: its exact source text, the `rule` field of the log.

mod describe;
mod error;
mod schema;
pub(crate) mod values;
mod warnings;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::logging::Level;

#[allow(unused_imports)] // `Problem` is for callers that list problems one by one.
pub use error::{ConfigError, Problem};

/// Reads and parses the config file; a read failure also names the file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read { file: path.to_path_buf(), source })?;
    let text = String::from_utf8(bytes).map_err(|err| not_utf8(&err, path))?;
    parse(&text, path)
}

/// TOML is UTF-8: the first byte that is not, with its line and column.
fn not_utf8(err: &std::string::FromUtf8Error, path: &Path) -> ConfigError {
    let at = err.utf8_error().valid_up_to();
    let byte = err.as_bytes()[at];
    let valid = String::from_utf8_lossy(&err.as_bytes()[..at]);
    let message = format!("byte 0x{byte:02x} is not UTF-8 (a config file must be UTF-8)");
    ConfigError::Invalid { problems: vec![Problem::at(&valid, path, at, String::new(), message)] }
}

/// Parses config text; `origin` is the file name the errors show.
pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
    schema::parse(text, origin)
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub agent: AgentConfig,
    pub log: LogConfig,
    pub file: FileConfig,
    pub network: NetworkConfig,
    pub process: ProcessConfig,
    pub mount: MountConfig,
    pub output: OutputConfig,
    pub inventory: InventoryConfig,
    pub detect: DetectConfig,
    pub telemetry: TelemetryConfig,
}

/// `[output]` (SPEC section 11): where records go besides the log, and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputConfig {
    /// Every record also to the journal (native protocol).
    pub journald: bool,
    /// Every record also to syslog (RFC 5424); `""` (the default) is none.
    pub syslog: Option<SyslogTarget>,
    /// Prometheus metrics; `""` (the default) is none.
    pub metrics: Option<MetricsTarget>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyslogTarget {
    /// `unix:/dev/log`: a local datagram socket.
    Unix(PathBuf),
    /// `udp:HOST:PORT`
    Udp(String),
    /// `tcp:HOST:PORT`, octet-counting framing (RFC 6587).
    Tcp(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricsTarget {
    /// `HOST:PORT`: HTTP, `GET /metrics`.
    Listen(std::net::SocketAddr),
    /// An absolute path ending in `.prom`: a node_exporter textfile.
    File(PathBuf),
}

/// `[agent]` (SPEC section 7).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentConfig {
    /// Self-protection (src/protect/): only the agent may stop, trace or alter it.
    /// Default off.
    pub protect: bool,
    /// Pin every module's programs, links and maps under /sys/fs/bpf/safeguard so that
    /// enforcement outlives the agent; the next start adopts them. Default off.
    pub persist: bool,
}

/// What a module does with an operation its rules deny.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Log what block mode would deny (`MONITOR`), deny nothing.
    #[default]
    Monitor,
    /// Deny with EPERM (`BLOCKED`).
    Block,
}

/// Which tasks a module watches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Target {
    #[default]
    All,
    /// Tasks in the agent's pid namespace.
    Host,
    /// Tasks in any other pid namespace.
    Container,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Json,
    Text,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogOutput {
    Stdout,
    /// An absolute, normalized path; rotated beside itself.
    File(PathBuf),
}

/// `[log]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LogConfig {
    pub format: LogFormat,
    /// Default `/var/log/safeguard/safeguard.log`.
    pub output: LogOutput,
    /// Rotate when the file would exceed this many bytes. Default 100 MB (10^8 bytes).
    pub max_size: u64,
    /// Rotate when the file is older than this. Default 365 days.
    pub max_age: Duration,
    /// Rotated files kept. Default 10.
    pub max_files: u32,
    /// Records below this level are not written. Default INFO.
    pub level: Level,
    /// Added to every record; sorted by key.
    pub tags: Vec<(String, String)>,
    /// `stats_interval`, an extension to SPEC section 3: how often the periodic `agent`
    /// record with the event, drop and write counters is written. Default 60s, at least 1s.
    pub stats_interval: Duration,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            format: LogFormat::Json,
            output: LogOutput::File(PathBuf::from("/var/log/safeguard/safeguard.log")),
            max_size: 100 * 1000 * 1000,
            max_age: Duration::from_secs(365 * 86400),
            max_files: 10,
            level: Level::Info,
            tags: Vec::new(),
            stats_interval: Duration::from_secs(60),
        }
    }
}

/// The operations of one module: its hooks, which `ops` switches on and off.
pub trait Op: Copy + Ord + fmt::Debug + 'static {
    /// Every op, in the order SPEC lists them.
    const ALL: &'static [Self];
    /// The section name, for messages.
    const MODULE: &'static str;

    fn name(self) -> &'static str;

    /// The op named `name`, in any case.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|op| op.name().eq_ignore_ascii_case(name))
    }

    fn all() -> BTreeSet<Self> {
        Self::ALL.iter().copied().collect()
    }
}

macro_rules! op_enum {
    ($(#[$meta:meta])* $name:ident, $module:literal, { $($variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant,)+ }

        impl Op for $name {
            const ALL: &'static [$name] = &[$($name::$variant,)+];
            const MODULE: &'static str = $module;

            fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

op_enum!(
    /// File operations and the hooks behind them (SPEC section 3.1).
    FileOp, "file", {
        Read = "read",
        Write = "write",
        Exec = "exec",
        Create = "create",
        Delete = "delete",
        Rename = "rename",
        Link = "link",
        Chmod = "chmod",
        Chown = "chown",
        Setattr = "setattr",
        Mmap = "mmap",
    }
);

op_enum!(
    /// Socket operations (SPEC section 3.2).
    NetworkOp, "network", {
        Connect = "connect",
        Sendmsg = "sendmsg",
        Accept = "accept",
        Recvmsg = "recvmsg",
        Getpeername = "getpeername",
        Bind = "bind",
    }
);

op_enum!(
    /// Task life-cycle operations (SPEC section 3.3).
    ProcessOp, "process", {
        Fork = "fork",
        Exec = "exec",
        Exit = "exit",
    }
);

/// A list entry: the compiled value and the text it was written as in the config (its
/// exact source, quotes included), which the log's `rule` field shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<T> {
    pub value: T,
    pub text: String,
}

impl<T> Entry<T> {
    /// An entry the config did not write (a default), with `text` as it would be written.
    fn default_from(value: T, text: &str) -> Entry<T> {
        Entry { value, text: text.to_string() }
    }
}

/// An `{ allow = [...], deny = [...] }` pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowDeny<T> {
    pub allow: Vec<Entry<T>>,
    pub deny: Vec<Entry<T>>,
}

impl<T> Default for AllowDeny<T> {
    fn default() -> AllowDeny<T> {
        AllowDeny { allow: Vec::new(), deny: Vec::new() }
    }
}

/// A `command` selector (SPEC section 3.1).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommandMatch {
    /// The value contained `/`: the executable's normalized absolute path.
    Exe(String),
    /// The task name (comm), at most 15 bytes.
    Comm(String),
}

impl fmt::Display for CommandMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandMatch::Exe(path) => f.write_str(path),
            CommandMatch::Comm(comm) => f.write_str(comm),
        }
    }
}

/// Which list of `[file]` a rule came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleKind {
    Allow,
    Deny,
    Audit,
}

impl RuleKind {
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::Allow => "allow",
            RuleKind::Deny => "deny",
            RuleKind::Audit => "audit",
        }
    }
}

/// One entry of `file.allow`, `file.deny` or `file.audit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRule {
    /// Absolute and normalized: no `//`, no trailing `/` except for `/` itself, no `.` or
    /// `..` components, at most 255 bytes.
    pub path: String,
    /// The ops the rule applies to; `None`: all of them.
    pub ops: Option<BTreeSet<FileOp>>,
    /// Subject selectors; an empty list selects nothing out (it was not written).
    pub uid: Vec<u32>,
    pub gid: Vec<u32>,
    pub command: Vec<CommandMatch>,
    /// The rule as written in the config, for the log's `rule` field.
    pub text: String,
}

impl FileRule {
    /// A rule with subject selectors beats one without at equal path length.
    pub fn has_selectors(&self) -> bool {
        !self.uid.is_empty() || !self.gid.is_empty() || !self.command.is_empty()
    }

    pub fn applies_to(&self, op: FileOp) -> bool {
        self.ops.as_ref().is_none_or(|ops| ops.contains(&op))
    }
}

/// `[file]`. Absent section: off; present without `enable`: on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileConfig {
    pub enable: bool,
    pub mode: Mode,
    pub target: Target,
    /// The hooks switched on. Default: all.
    pub ops: BTreeSet<FileOp>,
    /// Default `["/"]`: nothing is allow-listed.
    pub allow: Vec<FileRule>,
    pub deny: Vec<FileRule>,
    pub audit: Vec<FileRule>,
}

impl Default for FileConfig {
    fn default() -> FileConfig {
        FileConfig {
            enable: false,
            mode: Mode::Monitor,
            target: Target::All,
            ops: FileOp::all(),
            allow: default_file_allow(),
            deny: Vec::new(),
            audit: Vec::new(),
        }
    }
}

fn default_file_allow() -> Vec<FileRule> {
    vec![FileRule {
        path: "/".to_string(),
        ops: None,
        uid: Vec::new(),
        gid: Vec::new(),
        command: Vec::new(),
        text: "\"/\"".to_string(),
    }]
}

impl FileConfig {
    /// Every rule with the list it came from, allow first, then deny, then audit.
    pub fn rules(&self) -> impl Iterator<Item = (RuleKind, &FileRule)> {
        let allow = self.allow.iter().map(|rule| (RuleKind::Allow, rule));
        let deny = self.deny.iter().map(|rule| (RuleKind::Deny, rule));
        let audit = self.audit.iter().map(|rule| (RuleKind::Audit, rule));
        allow.chain(deny).chain(audit)
    }

    /// The ops on which a path no allow rule covers is denied (SPEC section 3.1): those
    /// named by some allow rule, except where an allow rule on `/` without subject
    /// selectors covers every path for that op anyway (the default `allow = ["/"]`).
    pub fn allow_listed_ops(&self) -> BTreeSet<FileOp> {
        FileOp::ALL
            .iter()
            .copied()
            .filter(|&op| self.allow.iter().any(|rule| rule.applies_to(op)))
            .filter(|&op| {
                !self.allow.iter().any(|rule| rule.path == "/" && !rule.has_selectors() && rule.applies_to(op))
            })
            .collect()
    }
}

/// A network prefix: the address has its host bits cleared, and an IPv4-mapped IPv6
/// network is stored as IPv4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl Cidr {
    /// Normalizes `addr/prefix_len`; `prefix_len` must fit the family (checked by the parser).
    pub fn new(addr: IpAddr, prefix_len: u8) -> Cidr {
        match addr {
            IpAddr::V4(v4) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix_len)).unwrap_or(0);
                Cidr { addr: IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask)), prefix_len }
            }
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) if prefix_len >= 96 => Cidr::new(IpAddr::V4(v4), prefix_len - 96),
                _ => {
                    let mask = u128::MAX.checked_shl(128 - u32::from(prefix_len)).unwrap_or(0);
                    Cidr { addr: IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask)), prefix_len }
                }
            },
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// The transport protocol a `port` entry names (`tcp/22`, `udp/53`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortProto {
    Tcp,
    Udp,
}

impl PortProto {
    pub const ALL: [PortProto; 2] = [PortProto::Tcp, PortProto::Udp];

    pub fn name(self) -> &'static str {
        match self {
            PortProto::Tcp => "tcp",
            PortProto::Udp => "udp",
        }
    }
}

/// A `port` entry: the ports `first..=last` of one protocol, or of both (`proto` None).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub proto: Option<PortProto>,
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    /// How many ports it covers: the narrower entry wins.
    pub fn width(&self) -> u32 {
        u32::from(self.last) - u32::from(self.first) + 1
    }

    pub fn applies_to(&self, proto: PortProto) -> bool {
        self.proto.is_none_or(|p| p == proto)
    }
}

/// `tcp/22`, `1-1023`, `udp/53`: the normalized form.
impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(proto) = self.proto {
            write!(f, "{}/", proto.name())?;
        }
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// `[network]`. Absent section: off; present without `enable`: on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkConfig {
    pub enable: bool,
    pub mode: Mode,
    pub target: Target,
    /// The hooks switched on. Default: all.
    pub ops: BTreeSet<NetworkOp>,
    /// One longest-prefix table. Default allow `["0.0.0.0/0", "::/0"]`, deny `[]`.
    pub cidr: AllowDeny<Cidr>,
    /// Lowercased host names without the trailing dot.
    pub domain: AllowDeny<String>,
    pub command: AllowDeny<CommandMatch>,
    pub uid: AllowDeny<u32>,
    pub gid: AllowDeny<u32>,
    /// Ports judged on bind (local) and connect/sendmsg (destination). Default empty.
    pub port: AllowDeny<PortRange>,
}

impl Default for NetworkConfig {
    fn default() -> NetworkConfig {
        NetworkConfig {
            enable: false,
            mode: Mode::Monitor,
            target: Target::All,
            ops: NetworkOp::all(),
            cidr: AllowDeny { allow: default_cidr_allow(), deny: Vec::new() },
            domain: AllowDeny::default(),
            command: AllowDeny::default(),
            uid: AllowDeny::default(),
            gid: AllowDeny::default(),
            port: AllowDeny::default(),
        }
    }
}

fn default_cidr_allow() -> Vec<Entry<Cidr>> {
    vec![
        Entry::default_from(Cidr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0), "\"0.0.0.0/0\""),
        Entry::default_from(Cidr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0), "\"::/0\""),
    ]
}

impl NetworkConfig {
    /// True when `cidr.allow` is not the default (compared as a set of prefixes): then an
    /// address that no CIDR entry covers is denied (SPEC section 3.2).
    pub fn cidr_allow_differs_from_default(&self) -> bool {
        let configured: BTreeSet<Cidr> = self.cidr.allow.iter().map(|entry| entry.value).collect();
        let default: BTreeSet<Cidr> = default_cidr_allow().into_iter().map(|entry| entry.value).collect();
        configured != default
    }
}

/// `[process]`. Absent section: off; present without `enable`: on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessConfig {
    pub enable: bool,
    pub mode: Mode,
    pub target: Target,
    /// The hooks switched on. Default: all.
    pub ops: BTreeSet<ProcessOp>,
    /// Normalized executable paths; non-empty means only those may be executed.
    pub allow: Vec<Entry<String>>,
    pub deny: Vec<Entry<String>>,
}

impl Default for ProcessConfig {
    fn default() -> ProcessConfig {
        ProcessConfig {
            enable: false,
            mode: Mode::Monitor,
            target: Target::All,
            ops: ProcessOp::all(),
            allow: Vec::new(),
            deny: Vec::new(),
        }
    }
}

/// A `mount.deny` entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MountSource {
    /// A device node or bind source: absolute and normalized like rule paths.
    Path(String),
    /// Anything else (`tmpfs`, `proc`, `server:/export`), as written.
    Name(String),
}

impl fmt::Display for MountSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountSource::Path(text) | MountSource::Name(text) => f.write_str(text),
        }
    }
}

/// `[mount]`. Absent section: off; present without `enable`: on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MountConfig {
    pub enable: bool,
    pub mode: Mode,
    pub target: Target,
    /// Mount sources refused.
    pub deny: Vec<Entry<MountSource>>,
}

/// `[inventory]` (SPEC section 9): the agent's periodic inventory and drift records.
/// Absent section: off; present without `enable`: on, like the modules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryConfig {
    pub enable: bool,
    /// Time between collections. Default 6h, at least 1s.
    pub interval: Duration,
}

impl Default for InventoryConfig {
    fn default() -> InventoryConfig {
        InventoryConfig { enable: false, interval: Duration::from_secs(6 * 3600) }
    }
}

op_enum!(
    /// What `[telemetry]` measures (`measures`): each turns on its BPF programs.
    Measure, "telemetry", {
        Cpu = "cpu",
        Runq = "runq",
        Net = "net",
        Drops = "drops",
    }
);

/// `[telemetry]` (SPEC section 10): resource and packet counts aggregated in the
/// kernel, written every interval. Absent section: off; present without `enable`: on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelemetryConfig {
    pub enable: bool,
    /// Time between records. Default 10s, at least 1s.
    pub interval: Duration,
    /// Processes per ranking (CPU, switches, run-queue wait, traffic). Default 10.
    pub top: u32,
    /// Default: all.
    pub measures: BTreeSet<Measure>,
    /// Size of the kernel's per-process table (an extension): processes past it
    /// are counted, not kept. Default 8192.
    pub max_processes: u32,
    /// The host's run-queue histogram measures one wait in this many, picked at
    /// random (an extension; 1: every wait). Default 8.
    pub runq_sample: u32,
}

impl Default for TelemetryConfig {
    fn default() -> TelemetryConfig {
        TelemetryConfig {
            enable: false,
            interval: Duration::from_secs(10),
            top: 10,
            measures: Measure::all(),
            max_processes: 8192,
            runq_sample: 8,
        }
    }
}

op_enum!(
    /// The built-in detections of `[detect]` (SPEC section 8), in the order of
    /// `enum sg_detection` (bpf/safeguard.h).
    Detection, "detect", {
        ReverseShell = "reverse_shell",
        FilelessExec = "fileless_exec",
        ExecFromWritable = "exec_from_writable",
        ModuleLoad = "module_load",
        PtraceInject = "ptrace_inject",
        CredentialAccess = "credential_access",
        AccountTamper = "account_tamper",
        Persistence = "persistence",
        LogTamper = "log_tamper",
        PrivilegeEscalation = "privilege_escalation",
        ContainerEscape = "container_escape",
        BpfLoad = "bpf_load",
        UsernsCreate = "userns_create",
    }
);

/// What a detection does in block mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Response {
    /// A record, nothing else.
    #[default]
    Alert,
    /// The hook refuses with EPERM (where the hook can refuse).
    Block,
    /// SIGKILL to the task from the hook, and EPERM.
    Kill,
}

impl Response {
    pub fn name(self) -> &'static str {
        match self {
            Response::Alert => "alert",
            Response::Block => "block",
            Response::Kill => "kill",
        }
    }
}

/// An `exclude` entry of `[detect]`: a subject that matches every selector it has is
/// not detected by the detections it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exclusion {
    /// Empty: every detection.
    pub detections: BTreeSet<Detection>,
    pub command: Vec<CommandMatch>,
    pub uid: Vec<u32>,
    pub text: String,
}

/// `[detect]`. Absent section: off; present without `enable`: on (as every module).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetectConfig {
    pub enable: bool,
    pub mode: Mode,
    pub target: Target,
    /// Per detection; absent: alert.
    pub response: Vec<(Detection, Response)>,
    pub exclude: Vec<Exclusion>,
    pub disable: BTreeSet<Detection>,
    /// `default_exclude`, an extension to SPEC section 8: false drops the built-in
    /// exclusions (package managers, account tools, ...). Default true.
    pub default_exclude: bool,
}

impl Default for DetectConfig {
    fn default() -> DetectConfig {
        DetectConfig {
            enable: false,
            mode: Mode::Monitor,
            target: Target::All,
            response: Vec::new(),
            exclude: Vec::new(),
            disable: BTreeSet::new(),
            default_exclude: true,
        }
    }
}

impl DetectConfig {
    /// The response block mode gives `detection` (monitor mode only alerts).
    pub fn response_of(&self, detection: Detection) -> Response {
        self.response.iter().find(|(d, _)| *d == detection).map_or(Response::Alert, |(_, r)| *r)
    }
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Monitor => "monitor",
            Mode::Block => "block",
        }
    }
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::All => "all",
            Target::Host => "host",
            Target::Container => "container",
        }
    }
}

impl LogFormat {
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Json => "json",
            LogFormat::Text => "text",
        }
    }
}
