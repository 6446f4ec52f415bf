//! Tests of the whole parser: defaults, the SPEC example, the developer config, and the
//! position, key path and message of every kind of problem.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const ORIGIN: &str = "/etc/safeguard/safeguard.toml";

/// SPEC section 3, verbatim.
const SPEC_EXAMPLE: &str = r#"[log]
format = "json"          # "json" | "text"
output = "/var/log/safeguard/safeguard.log"   # a file path, or "stdout"
max_size = "100MB"       # rotate when the file would exceed this (default 100 MB)
max_age = "365d"         # rotate when the file is older than this (default 365 days)
max_files = 10           # rotated files kept (oldest removed)
level = "INFO"           # DEBUG(10) INFO(20) WARNING(30) ERROR(40) CRITICAL(50); name or number
tags = { env = "prod" }  # added to every record

[file]
enable = true
mode = "monitor"         # "monitor": log what block would deny, deny nothing; "block": deny
target = "all"           # "all" | "host" | "container" (container = a pid namespace other than the agent's)
ops = ["read", "write", "exec", "create", "delete", "rename", "link", "chmod", "chown", "setattr", "mmap"]  # hooks enabled (sub-modules)
allow = ["/"]            # allow list; see semantics
deny = ["/proc/sysrq-trigger", { path = "/etc/shadow", ops = ["read", "write"], uid = [1000] }]
audit = ["/etc/"]        # log matching operations even when allowed

[network]
enable = true
mode = "monitor"
target = "all"
ops = ["connect", "sendmsg", "accept", "recvmsg", "getpeername", "bind"]
cidr = { allow = ["0.0.0.0/0", "::/0"], deny = ["169.254.169.254/32"] }
domain = { allow = [], deny = ["metadata.example.com"] }
command = { allow = [], deny = ["nc"] }
uid = { allow = [], deny = [] }
gid = { allow = [], deny = [] }
port = { allow = [], deny = ["tcp/25", "1-1023"] }   # bind: local port; connect/sendmsg: destination port

[process]
enable = true
mode = "monitor"
target = "all"
ops = ["fork", "exec", "exit"]
allow = []               # executables allowed to run (empty: no allow list)
deny = ["/usr/bin/nc"]   # executables refused

[mount]
enable = false
mode = "monitor"
target = "all"
deny = ["/var/run/docker.sock"]   # mount sources refused
"#;

fn parse_ok(text: &str) -> Config {
    match parse(text, Path::new(ORIGIN)) {
        Ok(config) => config,
        Err(err) => panic!("config should parse:\n{err}"),
    }
}

/// Every problem, one Display line each.
fn problems(text: &str) -> Vec<String> {
    match parse(text, Path::new(ORIGIN)) {
        Ok(config) => panic!("config should not parse: {config:?}"),
        Err(err) => {
            let lines: Vec<String> = err.to_string().lines().map(str::to_string).collect();
            assert_eq!(lines.len(), err.problems().len());
            lines
        }
    }
}

/// The one problem of `text`.
fn problem(text: &str) -> String {
    let mut all = problems(text);
    assert_eq!(all.len(), 1, "expected one problem, got {all:#?}");
    all.remove(0)
}

fn at(line: usize, column: usize, key: &str, message: &str) -> String {
    format!("{ORIGIN}:{line}:{column}: {key}: {message}")
}

fn cidr(text: &str) -> Cidr {
    values::cidr(text).unwrap()
}

// ---- defaults

#[test]
fn empty_file_gives_the_defaults() {
    let config = parse_ok("");
    assert_eq!(config, Config::default());

    let log = &config.log;
    assert_eq!(log.format, LogFormat::Json);
    assert_eq!(log.output, LogOutput::File(PathBuf::from("/var/log/safeguard/safeguard.log")));
    assert_eq!(log.max_size, 100_000_000);
    assert_eq!(log.max_age, Duration::from_secs(365 * 86400));
    assert_eq!(log.max_files, 10);
    assert_eq!(log.level, crate::logging::Level::Info);
    assert!(log.tags.is_empty());
    assert_eq!(log.stats_interval, Duration::from_secs(60));

    // Absent sections are off, with every other default in place.
    assert!(!config.file.enable && !config.network.enable && !config.process.enable && !config.mount.enable);
    assert_eq!(config.file.mode, Mode::Monitor);
    assert_eq!(config.file.target, Target::All);
    assert_eq!(config.file.ops.len(), 11);
    assert_eq!(config.file.allow.len(), 1);
    assert_eq!(config.file.allow[0].path, "/");
    assert_eq!(config.file.allow[0].ops, None);
    assert!(config.file.deny.is_empty() && config.file.audit.is_empty());
    assert!(config.file.allow_listed_ops().is_empty());
    assert_eq!(config.network.ops.len(), 6);
    let allow: Vec<Cidr> = config.network.cidr.allow.iter().map(|entry| entry.value).collect();
    assert_eq!(allow, vec![cidr("0.0.0.0/0"), cidr("::/0")]);
    assert!(!config.network.cidr_allow_differs_from_default());
    assert!(config.network.cidr.deny.is_empty() && config.network.domain.deny.is_empty());
    assert_eq!(config.process.ops, ProcessOp::all());
    assert!(config.process.allow.is_empty() && config.process.deny.is_empty());
    assert!(config.mount.deny.is_empty());
}

#[test]
fn comments_and_whitespace_only_give_the_defaults() {
    assert_eq!(parse_ok("# nothing here\n\n   \n"), Config::default());
}

#[test]
fn a_present_section_is_on_unless_it_says_otherwise() {
    let config = parse_ok("[file]\n[network]\nenable = false\n[process]\nmode = \"block\"\n[mount]\n");
    assert!(config.file.enable);
    assert!(!config.network.enable);
    assert!(config.process.enable);
    assert_eq!(config.process.mode, Mode::Block);
    assert!(config.mount.enable);
    // Everything else stays at its default.
    assert_eq!(config.file, FileConfig { enable: true, ..FileConfig::default() });
    assert_eq!(config.log, LogConfig::default());
}

#[test]
fn agent_protect_is_off_unless_asked_for() {
    assert!(!parse_ok("").agent.protect);
    assert!(!parse_ok("[agent]\n").agent.protect);
    assert!(parse_ok("[agent]\nprotect = true\n").agent.protect);
}

#[test]
fn sections_may_be_inline_tables_or_dotted_keys() {
    let config = parse_ok("file = { enable = true, mode = \"block\" }\nprocess.deny = [\"/bin/x\"]\n");
    assert!(config.file.enable);
    assert_eq!(config.file.mode, Mode::Block);
    assert!(config.process.enable);
    assert_eq!(config.process.deny[0].value, "/bin/x");
}

// ---- the SPEC example and the developer config

#[test]
fn spec_example_parses() {
    let config = parse_ok(SPEC_EXAMPLE);

    assert_eq!(config.log.format, LogFormat::Json);
    assert_eq!(config.log.output, LogOutput::File(PathBuf::from("/var/log/safeguard/safeguard.log")));
    assert_eq!(config.log.max_size, 100_000_000);
    assert_eq!(config.log.tags, vec![("env".to_string(), "prod".to_string())]);

    let file = &config.file;
    assert!(file.enable);
    assert_eq!(file.ops, FileOp::all());
    assert_eq!(file.deny.len(), 2);
    assert_eq!(file.deny[0].path, "/proc/sysrq-trigger");
    assert_eq!(file.deny[0].text, "\"/proc/sysrq-trigger\"");
    let shadow = &file.deny[1];
    assert_eq!(shadow.path, "/etc/shadow");
    assert_eq!(shadow.ops, Some(BTreeSet::from([FileOp::Read, FileOp::Write])));
    assert_eq!(shadow.uid, vec![1000]);
    assert!(shadow.gid.is_empty() && shadow.command.is_empty());
    assert!(shadow.has_selectors());
    assert_eq!(shadow.text, r#"{ path = "/etc/shadow", ops = ["read", "write"], uid = [1000] }"#);
    assert_eq!(file.audit[0].path, "/etc");
    assert_eq!(file.audit[0].text, "\"/etc/\"");
    let kinds: Vec<RuleKind> = file.rules().map(|(kind, _)| kind).collect();
    assert_eq!(kinds, vec![RuleKind::Allow, RuleKind::Deny, RuleKind::Deny, RuleKind::Audit]);

    let network = &config.network;
    assert!(network.enable);
    assert!(!network.cidr_allow_differs_from_default());
    assert_eq!(network.cidr.deny[0].value, cidr("169.254.169.254/32"));
    assert_eq!(network.domain.deny[0].value, "metadata.example.com");
    assert_eq!(network.command.deny[0].value, CommandMatch::Comm("nc".into()));
    assert!(network.uid.allow.is_empty() && network.gid.deny.is_empty());

    assert!(config.process.enable);
    assert_eq!(config.process.deny[0].value, "/usr/bin/nc");
    assert_eq!(config.process.deny[0].text, "\"/usr/bin/nc\"");

    assert!(!config.mount.enable);
    assert_eq!(config.mount.deny[0].value, MountSource::Path("/var/run/docker.sock".into()));
}

#[test]
fn developer_config_parses() {
    let config = parse_ok(include_str!("../../safeguard.toml"));
    assert_eq!(config.log.output, LogOutput::Stdout);
    assert_eq!(config.log.format, LogFormat::Json);
    assert_eq!(config.log.level, crate::logging::Level::Info);
    assert!(config.process.enable);
    assert_eq!(config.process.mode, Mode::Monitor);
    assert_eq!(config.process.ops, ProcessOp::all());
    assert_eq!(config.process.deny[0].value, "/usr/bin/nc");
    assert!(!config.file.enable && !config.network.enable && !config.mount.enable);
    assert!(!config.telemetry.enable);
    assert_eq!(config.telemetry.interval, Duration::from_secs(10));
    assert_eq!(config.telemetry.top, 10);
}

#[test]
fn load_reads_the_file_and_names_it_when_it_cannot() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("safeguard.toml");
    assert!(load(&path).is_ok());

    let missing = Path::new("/nonexistent/safeguard.toml");
    let err = load(missing).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    let message = err.to_string();
    assert!(message.starts_with("/nonexistent/safeguard.toml: cannot read: "), "{message}");
    assert_eq!(message.lines().count(), 1);
}

// ---- values

#[test]
fn log_values_are_converted() {
    let config = parse_ok(
        r#"[log]
format = "TEXT"
output = "//var/log//sg.log"
max_size = "10KiB"
max_age = "12h"
max_files = 0
level = 40
tags = { zone = "b", app = "x" }
stats_interval = "1s"
"#,
    );
    let log = config.log;
    assert_eq!(log.format, LogFormat::Text);
    assert_eq!(log.output, LogOutput::File(PathBuf::from("/var/log/sg.log")));
    assert_eq!(log.max_size, 10 * 1024);
    assert_eq!(log.max_age, Duration::from_secs(12 * 3600));
    assert_eq!(log.max_files, 0);
    assert_eq!(log.level, crate::logging::Level::Error);
    assert_eq!(log.tags, vec![("app".into(), "x".into()), ("zone".into(), "b".into())]);
    assert_eq!(log.stats_interval, Duration::from_secs(1));
}

#[test]
fn sizes_may_be_integers_or_strings() {
    assert_eq!(parse_ok("[log]\nmax_size = 4096\n").log.max_size, 4096);
    assert_eq!(parse_ok("[log]\nmax_size = \"512\"\n").log.max_size, 512);
    assert_eq!(parse_ok("[log]\nmax_size = \"1GB\"\n").log.max_size, 1_000_000_000);
    assert_eq!(parse_ok("[log]\nmax_size = \"1gib\"\n").log.max_size, 1 << 30);
}

#[test]
fn levels_may_be_names_or_numbers() {
    use crate::logging::Level;
    assert_eq!(parse_ok("[log]\nlevel = \"debug\"\n").log.level, Level::Debug);
    assert_eq!(parse_ok("[log]\nlevel = \"Warning\"\n").log.level, Level::Warning);
    assert_eq!(parse_ok("[log]\nlevel = \"50\"\n").log.level, Level::Critical);
    assert_eq!(parse_ok("[log]\nlevel = 20\n").log.level, Level::Info);
}

#[test]
fn tags_may_be_a_table_section() {
    let config = parse_ok("[log.tags]\nenv = \"prod\"\n\"data center\" = \"fra1\"\n");
    assert_eq!(config.log.tags, vec![("data center".into(), "fra1".into()), ("env".into(), "prod".into())]);
}

#[test]
fn ops_are_sets_and_may_be_empty() {
    let config = parse_ok("[file]\nops = [\"write\", \"Read\", \"write\"]\n[network]\nops = []\n");
    assert_eq!(config.file.ops, BTreeSet::from([FileOp::Read, FileOp::Write]));
    assert!(config.network.ops.is_empty());
}

#[test]
fn file_rules_keep_their_text_as_written() {
    let config = parse_ok(
        r#"[file]
deny = [ '/etc//shadow/' ,   {path="/root",ops=["read"],    command = ["vim", "/usr/bin//nano"]}, """/tmp/x""" ]
"#,
    );
    let deny = &config.file.deny;
    assert_eq!(deny[0].path, "/etc/shadow");
    assert_eq!(deny[0].text, "'/etc//shadow/'");
    assert_eq!(deny[1].path, "/root");
    assert_eq!(deny[1].text, r#"{path="/root",ops=["read"],    command = ["vim", "/usr/bin//nano"]}"#);
    assert_eq!(deny[1].command, vec![CommandMatch::Comm("vim".into()), CommandMatch::Exe("/usr/bin/nano".into())]);
    assert_eq!(deny[2].text, "\"\"\"/tmp/x\"\"\"");
}

#[test]
fn file_rules_may_be_an_array_of_tables() {
    let config = parse_ok(
        r#"[[file.deny]]
path = "/etc/shadow"
ops = ["read"]   # comment
gid = [42]

[[file.deny]]
path = "/etc/gshadow"
"#,
    );
    let deny = &config.file.deny;
    assert!(config.file.enable);
    assert_eq!(deny.len(), 2);
    assert_eq!(deny[0].path, "/etc/shadow");
    assert_eq!(deny[0].gid, vec![42]);
    assert_eq!(deny[0].text, r#"{ path = "/etc/shadow", ops = ["read"], gid = [42] }"#);
    assert_eq!(deny[1].text, r#"{ path = "/etc/gshadow" }"#);
}

#[test]
fn allow_listed_ops_follow_the_allow_rules() {
    let config = parse_ok(
        "[file]\nallow = [{ path = \"/usr\", ops = [\"exec\"] }, { path = \"/\", ops = [\"read\"] }, \
         { path = \"/\", ops = [\"write\"], uid = [0] }]\n",
    );
    // exec: only /usr allows it; read: "/" covers every path; write: "/" only for uid 0.
    assert_eq!(config.file.allow_listed_ops(), BTreeSet::from([FileOp::Exec, FileOp::Write]));
    assert!(parse_ok("[file]\nallow = []\n").file.allow_listed_ops().is_empty());
}

#[test]
fn paths_are_normalized() {
    let config = parse_ok(
        "[process]\nallow = [\"/usr/bin/\", \"//opt//app\", \"/\"]\n[mount]\ndeny = [\"/dev//sda1\", \"tmpfs\"]\n",
    );
    let allow: Vec<&str> = config.process.allow.iter().map(|entry| entry.value.as_str()).collect();
    assert_eq!(allow, vec!["/usr/bin", "/opt/app", "/"]);
    assert_eq!(config.process.allow[1].text, "\"//opt//app\"");
    assert_eq!(config.mount.deny[0].value, MountSource::Path("/dev/sda1".into()));
    assert_eq!(config.mount.deny[1].value, MountSource::Name("tmpfs".into()));
}

#[test]
fn cidrs_are_normalized_and_keep_their_text() {
    let config = parse_ok(
        "[network]\ncidr = { deny = [\"::ffff:169.254.169.254\", \"10.1.2.3/8\", \"2001:db8::1/32\", \"192.0.2.7\"] }\n",
    );
    let deny = &config.network.cidr.deny;
    assert_eq!(deny[0].value, Cidr { addr: IpAddr::from([169, 254, 169, 254]), prefix_len: 32 });
    assert_eq!(deny[0].text, "\"::ffff:169.254.169.254\"");
    assert_eq!(deny[1].value, Cidr { addr: IpAddr::from([10, 0, 0, 0]), prefix_len: 8 });
    assert_eq!(deny[1].text, "\"10.1.2.3/8\"");
    assert_eq!(deny[2].value.to_string(), "2001:db8::/32");
    assert_eq!(deny[3].value.to_string(), "192.0.2.7/32");
    // Only deny was written: allow keeps its default.
    assert!(!config.network.cidr_allow_differs_from_default());
}

#[test]
fn ipv4_mapped_networks_are_ipv4() {
    let config = parse_ok("[network.cidr]\nallow = [\"::ffff:10.0.0.0/104\", \"::ffff:0:0/96\"]\n");
    let allow: Vec<String> = config.network.cidr.allow.iter().map(|entry| entry.value.to_string()).collect();
    assert_eq!(allow, vec!["10.0.0.0/8", "0.0.0.0/0"]);
}

#[test]
fn a_changed_cidr_allow_list_is_noticed() {
    let differs = |allow: &str| {
        parse_ok(&format!("[network]\ncidr = {{ allow = {allow} }}\n")).network.cidr_allow_differs_from_default()
    };
    assert!(!differs(r#"["0.0.0.0/0", "::/0"]"#));
    assert!(!differs(r#"["::/0", "0.0.0.0/0", "::ffff:0.0.0.0/96"]"#));
    assert!(differs(r#"["0.0.0.0/0"]"#));
    assert!(differs(r#"["10.0.0.0/8"]"#));
    assert!(differs("[]"));
}

#[test]
fn network_selectors() {
    let config = parse_ok(
        r#"[network]
domain = { allow = ["Updates.Example.org."], deny = [] }
command = { allow = ["/usr/bin/apt"], deny = ["nc", "ncat"] }
uid = { allow = [0], deny = [65534] }
gid = { deny = [1001] }
"#,
    );
    let network = config.network;
    assert_eq!(network.domain.allow[0].value, "updates.example.org");
    assert_eq!(network.domain.allow[0].text, "\"Updates.Example.org.\"");
    assert_eq!(network.command.allow[0].value, CommandMatch::Exe("/usr/bin/apt".into()));
    assert_eq!(network.command.deny[1].value, CommandMatch::Comm("ncat".into()));
    assert_eq!(network.uid.allow[0].value, 0);
    assert_eq!(network.uid.deny[0].value, 65534);
    assert_eq!(network.uid.deny[0].text, "65534");
    assert_eq!(network.gid.deny[0].value, 1001);
    assert!(network.gid.allow.is_empty());
}

// ---- problems: position, key path, message

#[test]
fn unknown_top_level_key() {
    assert_eq!(
        problem("[log]\nlevel = \"INFO\"\n\n[files]\nenable = true\n"),
        at(
            4,
            2,
            "files",
            "unknown key (expected one of: log, file, network, process, mount, detect, inventory, telemetry, output, agent)"
        )
    );
    assert_eq!(
        problem("verbose = true\n"),
        at(
            1,
            1,
            "verbose",
            "unknown key (expected one of: log, file, network, process, mount, detect, inventory, telemetry, output, agent)"
        )
    );
}

#[test]
fn unknown_key_in_a_section() {
    assert_eq!(
        problem("[process]\nenable = true\nenabled = true\n"),
        at(3, 1, "process.enabled", "unknown key (expected one of: enable, mode, target, ops, allow, deny)")
    );
    assert_eq!(
        problem("[mount]\nops = []\n"),
        at(2, 1, "mount.ops", "unknown key (expected one of: enable, mode, target, deny)")
    );
    assert_eq!(
        problem("[network]\ncidr = { allow = [], denied = [] }\n"),
        at(2, 22, "network.cidr.denied", "unknown key (expected one of: allow, deny)")
    );
}

#[test]
fn unknown_key_in_a_rule_table() {
    assert_eq!(
        problem("[file]\ndeny = [\"/x\", { path = \"/etc/shadow\", user = [0] }]\n"),
        at(2, 39, "file.deny[1].user", "unknown key (expected one of: path, ops, uid, gid, command)")
    );
}

#[test]
fn unknown_key_in_an_array_of_tables_rule() {
    assert_eq!(
        problem("[[file.deny]]\npath = \"/x\"\nusr = [1]\n"),
        at(3, 1, "file.deny[0].usr", "unknown key (expected one of: path, ops, uid, gid, command)")
    );
}

#[test]
fn allow_deny_pairs_must_be_tables() {
    assert_eq!(
        problem("[network]\ncidr = [\"10.0.0.0/8\"]\n"),
        at(2, 8, "network.cidr", "expected a table like { allow = [...], deny = [...] }, found an array")
    );
}

#[test]
fn rule_table_without_path() {
    assert_eq!(
        problem("[file]\naudit = [{ ops = [\"read\"] }]\n"),
        at(2, 10, "file.audit[0]", "rule has no path (write { path = \"/...\", ... })")
    );
}

#[test]
fn wrong_types() {
    assert_eq!(
        problem("[file]\nenable = \"yes\"\n"),
        at(2, 10, "file.enable", "expected a boolean (true or false), found a string")
    );
    assert_eq!(
        problem("[process]\ndeny = \"/usr/bin/nc\"\n"),
        at(2, 8, "process.deny", "expected an array, found a string")
    );
    assert_eq!(
        problem("[process]\ndeny = [\"/usr/bin/nc\", 7]\n"),
        at(2, 24, "process.deny[1]", "expected a string, found an integer")
    );
    assert_eq!(problem("log = 3\n"), at(1, 7, "log", "expected a table, found an integer"));
    assert_eq!(
        problem("[log]\nmax_files = \"10\"\n"),
        at(2, 13, "log.max_files", "expected an integer, found a string")
    );
    assert_eq!(
        problem("[log]\ntags = { env = 1 }\n"),
        at(2, 16, "log.tags.env", "expected a string, found an integer")
    );
    assert_eq!(
        problem("[network]\nuid = { deny = [\"root\"] }\n"),
        at(2, 17, "network.uid.deny[0]", "expected a numeric uid, found a string")
    );
    assert_eq!(
        problem("[file]\ndeny = [1979-05-27]\n"),
        at(
            2,
            9,
            "file.deny[0]",
            "expected a path or a table like { path = \"/etc\", ops = [\"read\"] }, found a datetime"
        )
    );
    assert_eq!(
        problem("[log]\nmax_age = 30\n"),
        at(
            2,
            11,
            "log.max_age",
            "expected a duration string like \"30s\", \"15m\", \"12h\" or \"365d\", found an integer"
        )
    );
}

#[test]
fn bad_cidr() {
    assert_eq!(
        problem("[network]\ncidr = { deny = [\"10.0.0.0/8\", \"10.0.0.0/33\"] }\n"),
        at(2, 32, "network.cidr.deny[1]", "invalid CIDR \"10.0.0.0/33\": the prefix length must be 0 to 32 for IPv4")
    );
    assert_eq!(
        problem("[network.cidr]\nallow = [\"10.0.0.256/8\"]\n"),
        at(
            2,
            10,
            "network.cidr.allow[0]",
            "invalid CIDR \"10.0.0.256/8\": \"10.0.0.256\" is not an IPv4 or IPv6 address"
        )
    );
}

#[test]
fn ports_parse_as_strings_or_integers() {
    let config =
        parse_ok("[network]\nport = { allow = [22, \"TCP/8000-8080\"], deny = [\"udp/53\", \"0-1023\", 65535] }\n");
    let port = &config.network.port;
    let shown: Vec<String> = port.allow.iter().chain(&port.deny).map(|e| e.value.to_string()).collect();
    assert_eq!(shown, ["22", "tcp/8000-8080", "udp/53", "0-1023", "65535"]);
    assert_eq!(port.allow[0].text, "22");
    assert_eq!(port.allow[1].text, "\"TCP/8000-8080\"");
    assert_eq!(port.deny[1].value, PortRange { proto: None, first: 0, last: 1023 });
    assert!(parse_ok("[network]\n").network.port.allow.is_empty());
    let config = parse_ok("[network.port]\ndeny = [\"tcp/25\"]\n");
    assert_eq!(config.network.port.deny[0].value, PortRange { proto: Some(PortProto::Tcp), first: 25, last: 25 });
}

#[test]
fn bad_ports() {
    assert_eq!(
        problem("[network]\nport = { deny = [\"tcp/25\", \"1023-1\"] }\n"),
        at(2, 28, "network.port.deny[1]", "invalid port range \"1023-1\": the first port is greater than the last")
    );
    assert_eq!(
        problem("[network]\nport = { allow = [70000] }\n"),
        at(2, 19, "network.port.allow[0]", "invalid port \"70000\": ports are 0 to 65535")
    );
    assert_eq!(
        problem("[network]\nport = { allow = [-1] }\n"),
        at(2, 19, "network.port.allow[0]", "invalid port \"-1\" (write a port or a range of 0 to 65535, optionally after tcp/ or udp/: \"22\", \"1-1023\", \"tcp/25\", \"udp/5000-5100\")")
    );
    assert_eq!(
        problem("[network.port]\ndeny = [\"sctp/22\"]\n"),
        at(2, 9, "network.port.deny[0]", "invalid port \"sctp/22\": the protocol must be tcp or udp (write a port or a range of 0 to 65535, optionally after tcp/ or udp/: \"22\", \"1-1023\", \"tcp/25\", \"udp/5000-5100\")")
    );
    assert_eq!(
        problem("[network]\nport = { deny = [true] }\n"),
        at(
            2,
            18,
            "network.port.deny[0]",
            "expected a port like \"tcp/22\", \"udp/53\", \"1-1023\" or 25, found a boolean"
        )
    );
    assert_eq!(
        problem("[network]\nport = [\"22\"]\n"),
        at(2, 8, "network.port", "expected a table like { allow = [...], deny = [...] }, found an array")
    );
    assert_eq!(
        problem("[network]\nport = { only = [22] }\n"),
        at(2, 10, "network.port.only", "unknown key (expected one of: allow, deny)")
    );
}

#[test]
fn relative_path() {
    assert_eq!(
        problem("[process]\ndeny = [\"/bin/sh\", \"usr/bin/nc\"]\n"),
        at(2, 20, "process.deny[1]", "path must be absolute: \"usr/bin/nc\"")
    );
    assert_eq!(
        problem("[log]\noutput = \"safeguard.log\"\n"),
        at(
            2,
            10,
            "log.output",
            "path must be absolute: \"safeguard.log\" (output is \"stdout\" or an absolute file path)"
        )
    );
}

#[test]
fn dot_dot_component() {
    assert_eq!(
        problem("[file]\ndeny = [{ path = \"/etc/../shadow\" }]\n"),
        at(2, 18, "file.deny[0].path", "path must not contain \".\" or \"..\" components: \"/etc/../shadow\"")
    );
    assert_eq!(
        problem("[mount]\ndeny = [\"/var/./run\"]\n"),
        at(2, 9, "mount.deny[0]", "path must not contain \".\" or \"..\" components: \"/var/./run\"")
    );
}

#[test]
fn too_long_path() {
    let long = format!("/{}", "a".repeat(300));
    let message = problem(&format!("[file]\naudit = [\"{long}\"]\n"));
    let expected = at(
        2,
        10,
        "file.audit[0]",
        &format!(
            "path is 301 bytes, longer than the 255 bytes a key of the kernel's longest-prefix path table holds: {long:?}"
        ),
    );
    assert_eq!(message, expected);
}

#[test]
fn bad_op() {
    assert_eq!(
        problem("[file]\nops = [\"read\", \"reed\"]\n"),
        at(
            2,
            16,
            "file.ops[1]",
            "unknown file op \"reed\" (use read, write, exec, create, delete, rename, link, chmod, chown, setattr, mmap)"
        )
    );
    assert_eq!(
        problem("[process]\nops = [\"spawn\"]\n"),
        at(2, 8, "process.ops[0]", "unknown process op \"spawn\" (use fork, exec, exit)")
    );
    assert_eq!(
        problem("[file]\ndeny = [{ path = \"/x\", ops = [\"connect\"] }]\n"),
        at(
            2,
            31,
            "file.deny[0].ops[0]",
            "unknown file op \"connect\" (use read, write, exec, create, delete, rename, link, chmod, chown, setattr, mmap)"
        )
    );
}

#[test]
fn empty_selector_lists_are_refused() {
    assert_eq!(
        problem("[file]\ndeny = [{ path = \"/x\", uid = [] }]\n"),
        at(2, 30, "file.deny[0].uid", "an empty uid list matches nothing; leave uid out to match any")
    );
    assert_eq!(
        problem("[file]\ndeny = [{ path = \"/x\", ops = [] }]\n"),
        at(2, 30, "file.deny[0].ops", "an empty ops list matches nothing; leave ops out to match any")
    );
}

#[test]
fn bad_level() {
    assert_eq!(
        problem("[log]\nlevel = \"LOUD\"\n"),
        at(2, 9, "log.level", "unknown level \"LOUD\" (use DEBUG, INFO, WARNING, ERROR or CRITICAL)")
    );
    assert_eq!(
        problem("[log]\nlevel = 25\n"),
        at(2, 9, "log.level", "unknown level number 25 (use 10, 20, 30, 40 or 50)")
    );
    assert_eq!(
        problem("[log]\nlevel = true\n"),
        at(2, 9, "log.level", "expected a level name or number, found a boolean")
    );
}

#[test]
fn bad_size() {
    assert_eq!(
        problem("[log]\nmax_size = \"100XB\"\n"),
        at(
            2,
            12,
            "log.max_size",
            "invalid size \"100XB\" (use bytes, or a number with KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024))"
        )
    );
    assert_eq!(problem("[log]\nmax_size = -1\n"), at(2, 12, "log.max_size", "size must not be negative: -1"));
    assert_eq!(problem("[log]\nmax_size = \"0MB\"\n"), at(2, 12, "log.max_size", "size must be greater than 0"));
    assert_eq!(
        problem("[log]\nmax_size = \"100M\"\n"),
        at(2, 12, "log.max_size", "ambiguous size \"100M\": write MB (1000) or MiB (1024)")
    );
}

#[test]
fn bad_duration() {
    assert_eq!(
        problem("[log]\nmax_age = \"1y\"\n"),
        at(
            2,
            11,
            "log.max_age",
            "invalid duration \"1y\" (use a whole number with s, m, h or d, like \"30s\" or \"365d\")"
        )
    );
    assert_eq!(
        problem("[log]\nstats_interval = \"60\"\n"),
        at(
            2,
            18,
            "log.stats_interval",
            "duration \"60\" needs a unit (use a whole number with s, m, h or d, like \"30s\" or \"365d\")"
        )
    );
    assert_eq!(
        problem("[log]\nstats_interval = \"0s\"\n"),
        at(2, 18, "log.stats_interval", "duration must be at least 1s")
    );
}

#[test]
fn bad_mode_target_and_format() {
    assert_eq!(
        problem("[file]\nmode = \"enforce\"\n"),
        at(2, 8, "file.mode", "invalid mode \"enforce\" (use \"monitor\" or \"block\")")
    );
    assert_eq!(
        problem("[network]\ntarget = \"vm\"\n"),
        at(2, 10, "network.target", "invalid target \"vm\" (use \"all\" or \"host\" or \"container\")")
    );
    assert_eq!(
        problem("[log]\nformat = \"xml\"\n"),
        at(2, 10, "log.format", "invalid format \"xml\" (use \"json\" or \"text\")")
    );
}

#[test]
fn bad_ids_domains_and_commands() {
    assert_eq!(
        problem("[network]\nuid = { deny = [-1] }\n"),
        at(2, 17, "network.uid.deny[0]", "uid must be between 0 and 4294967294: -1")
    );
    assert_eq!(
        problem("[file]\ndeny = [{ path = \"/x\", gid = [4294967295] }]\n"),
        at(2, 31, "file.deny[0].gid[0]", "gid must be between 0 and 4294967294: 4294967295")
    );
    assert_eq!(
        problem("[network]\ndomain = { deny = [\"bad_name.example\"] }\n"),
        at(
            2,
            20,
            "network.domain.deny[0]",
            "invalid domain name \"bad_name.example\": each dot-separated label must be 1 to 63 letters, digits or inner hyphens"
        )
    );
    assert_eq!(
        problem("[network]\ncommand = { deny = [\"a-very-long-command\"] }\n"),
        at(
            2,
            21,
            "network.command.deny[0]",
            "command name is 19 bytes, but a task name (comm) holds at most 15; use the executable's absolute path instead: \"a-very-long-command\""
        )
    );
}

#[test]
fn keys_that_are_not_bare_are_quoted_in_the_path() {
    assert_eq!(
        problem("[log]\n\"max size\" = 1\n"),
        at(
            2,
            1,
            "log.\"max size\"",
            "unknown key (expected one of: format, output, max_size, max_age, max_files, level, tags, stats_interval)"
        )
    );
}

#[test]
fn syntax_errors_have_a_position_and_one_line() {
    let message = problem("[log]\nlevel = \n");
    assert!(message.starts_with(&format!("{ORIGIN}:2:")), "{message}");
    assert_eq!(message.lines().count(), 1);
    let duplicate = problem("[file]\nenable = true\nenable = false\n");
    assert!(duplicate.starts_with(&format!("{ORIGIN}:3:1: ")), "{duplicate}");
    assert!(duplicate.contains("duplicate key"), "{duplicate}");
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let all = problems(
        r#"[process]
deny = ["bin/sh"]
mode = "strict"

[log]
level = "LOUD"
colour = true

[file]
ops = ["reed"]
"#,
    );
    assert_eq!(
        all,
        vec![
            at(2, 9, "process.deny[0]", "path must be absolute: \"bin/sh\""),
            at(3, 8, "process.mode", "invalid mode \"strict\" (use \"monitor\" or \"block\")"),
            at(6, 9, "log.level", "unknown level \"LOUD\" (use DEBUG, INFO, WARNING, ERROR or CRITICAL)"),
            at(7, 1, "log.colour", "unknown key (expected one of: format, output, max_size, max_age, max_files, level, tags, stats_interval)"),
            at(
                10,
                8,
                "file.ops[0]",
                "unknown file op \"reed\" (use read, write, exec, create, delete, rename, link, chmod, chown, setattr, mmap)"
            ),
        ]
    );
}

#[test]
fn columns_count_characters() {
    // "é" is two bytes but one column.
    assert_eq!(
        problem("[log]\ntags = { \"é\" = 1 }\n"),
        at(2, 16, "log.tags.\"é\"", "expected a string, found an integer")
    );
}

// ---- describe

#[test]
fn describe_shows_every_module_and_rule() {
    let text = parse_ok(SPEC_EXAMPLE).describe();
    for expected in [
        "log:",
        "format json, output /var/log/safeguard/safeguard.log, level INFO (20)",
        "rotate above 100 MB (100000000 bytes) or after 365d, keep 10 rotated files",
        "statistics record every 1m",
        "tags: env=\"prod\"",
        "file: enabled, mode monitor, target all",
        "ops: all (read write exec create delete rename link chmod chown setattr mmap)",
        "allow-listed ops: none",
        "allow / ",
        "deny  /proc/sysrq-trigger  ops all",
        "deny  /etc/shadow  ops read write  uid 1000  (written { path = \"/etc/shadow\", ops = [\"read\", \"write\"], uid = [1000] })",
        "audit /etc  ops all  (written \"/etc/\")",
        "network: enabled, mode monitor, target all",
        "addresses no cidr entry covers: allowed",
        "cidr allow: 0.0.0.0/0, ::/0",
        "cidr deny: 169.254.169.254/32",
        "domain deny: metadata.example.com",
        "command deny: nc",
        "uid allow: none",
        "port deny: tcp/25, 1-1023",
        "ports (bind: the local port; connect, sendmsg: the destination port;",
        "    tcp/0            allowed (no entry)\n    tcp/1-24         denied by port.deny 1-1023\n    tcp/25           denied by port.deny tcp/25\n    tcp/26-1023      denied by port.deny 1-1023\n    tcp/1024-65535   allowed (no entry)\n    udp/0            allowed (no entry)\n    udp/1-1023       denied by port.deny 1-1023\n",
        "process: enabled, mode monitor, target all",
        "ops: all (fork exec exit)",
        "allow: none (any executable may run unless denied)",
        "deny: /usr/bin/nc",
        "mount: disabled, mode monitor, target all",
        "deny: /var/run/docker.sock",
        "a path: binds, moves and new mounts of it or below it; binds and moves of its ancestors",
        "every mount is recorded (ALLOWED when no entry applies)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn describe_shows_the_port_allow_list() {
    let text = parse_ok("[network]\nport = { allow = [22, \"UDP/53\"] }\n").describe();
    assert!(text.contains("port allow: 22, udp/53 (written \"UDP/53\")"), "{text}");
    assert!(
        text.contains(
            "    tcp/0-21         denied (not in network.port.allow)\n    tcp/22           allowed by port.allow 22\n"
        ),
        "{text}"
    );
    assert!(text.contains("    udp/53           allowed by port.allow UDP/53\n"), "{text}");
    assert!(text.contains("(not judged by port: bind to port 0, sends to a connected peer,"), "{text}");
    let text = parse_ok("[network]\n").describe();
    assert!(text.contains("ports: every port allowed (no port entries)"), "{text}");
}

#[test]
fn describe_shows_normalization_and_off_modules() {
    let text = parse_ok("[network]\nops = []\ncidr = { allow = [\"10.1.2.3/8\"] }\n").describe();
    assert!(text.contains("network: enabled"), "{text}");
    assert!(text.contains("  ops: none"), "{text}");
    assert!(text.contains("cidr allow: 10.0.0.0/8 (written \"10.1.2.3/8\")"), "{text}");
    assert!(text.contains("addresses no cidr entry covers: denied"), "{text}");
    assert!(text.contains("file: disabled"), "{text}");
    assert!(text.contains("process: disabled"), "{text}");
}

#[test]
fn rules_selecting_by_task_name_are_warned_about() {
    let config = parse_ok(
        r#"[file]
deny = [{ path = "/etc/shadow", command = ["vim"] }, { path = "/root", command = ["/usr/bin/vim"] }]
allow = ["/", { path = "/srv", command = ["backup"] }]
[network]
command = { allow = ["other", "/usr/bin/apt"], deny = ["nc"] }
"#,
    );
    let warnings = config.warnings();
    assert_eq!(warnings.len(), 4, "{warnings:#?}");
    assert!(
        warnings[0].starts_with(r#"file.allow: { path = "/srv", command = ["backup"] } selects by task name "backup""#)
    );
    assert!(
        warnings[1].starts_with(r#"file.deny: { path = "/etc/shadow", command = ["vim"] } selects by task name "vim""#)
    );
    assert!(warnings[2].starts_with(r#"network.command.allow: "other" selects by task name "other""#));
    assert!(warnings[3].starts_with(r#"network.command.deny: "nc" selects by task name "nc""#));
    assert!(warnings.iter().all(|w| w.contains("executable path")));
}

#[test]
fn rules_by_executable_path_or_in_a_disabled_module_are_not_warned_about() {
    let config = parse_ok(
        r#"[file]
deny = [{ path = "/root", command = ["/usr/bin/vim"] }]
[network]
enable = false
command = { deny = ["nc"] }
"#,
    );
    assert!(config.warnings().is_empty());
}

#[test]
fn a_config_that_does_nothing_is_warned_about() {
    let empty = parse_ok("");
    assert_eq!(empty.warnings().len(), 1);
    assert!(empty.warnings()[0].starts_with("no module is enabled"), "{:?}", empty.warnings());

    let idle = parse_ok("[file]\nops = []\n[network]\nops = []\n[process]\nops = []\n");
    assert_eq!(
        idle.warnings(),
        vec![
            "file.ops is empty: the module is on and does nothing".to_string(),
            "network.ops is empty: the module is on and does nothing".to_string(),
            "process.ops is empty: the module is on and does nothing".to_string(),
        ]
    );
    // exec rules are judged whatever process.ops says
    assert!(parse_ok("[process]\nops = []\ndeny = [\"/usr/bin/nc\"]\n").warnings().is_empty());
}

#[test]
fn a_log_output_naming_a_directory_is_an_error() {
    assert_eq!(
        problem("[log]\noutput = \"/tmp\"\n"),
        at(2, 10, "log.output", "/tmp is a directory (output is \"stdout\" or an absolute file path)")
    );
}

#[test]
fn a_config_that_is_not_utf8_has_a_position() {
    let dir = std::env::temp_dir().join(format!("sg-config-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, b"[log]\nformat = \"js\xffon\"\n").unwrap();
    let err = load(&file).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}:2:13: byte 0xff is not UTF-8 (a config file must be UTF-8)", file.display())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn output_section_parses_and_names_bad_values() {
    let config = parse_ok("[output]\njournald = true\nsyslog = \"udp:127.0.0.1:514\"\nmetrics = \"127.0.0.1:9464\"\n");
    assert!(config.output.journald);
    assert_eq!(config.output.syslog, Some(SyslogTarget::Udp("127.0.0.1:514".into())));
    assert_eq!(config.output.metrics, Some(MetricsTarget::Listen("127.0.0.1:9464".parse().unwrap())));
    assert_eq!(parse_ok("").output, OutputConfig::default());
    assert_eq!(
        problem("[output]\nsyslog = \"smtp:x:1\"\n"),
        at(
            2,
            10,
            "output.syslog",
            "invalid syslog target \"smtp:x:1\" (use \"unix:/dev/log\", \"udp:HOST:PORT\", \"tcp:HOST:PORT\" or \"\")"
        )
    );
    assert!(problem("[output]\njournald = 1\n").contains("output.journald"));
    assert!(problem("[output]\nmetric = \"x\"\n").contains("unknown key"));
}

#[test]
fn inventory_section() {
    let config = parse_ok("");
    assert_eq!(config.inventory, InventoryConfig { enable: false, interval: Duration::from_secs(6 * 3600) });
    assert!(config.describe().contains("inventory: disabled"));
    // A present section is on, like a module's; the interval is a duration like the others.
    let config = parse_ok("[inventory]\ninterval = \"5s\"\n");
    assert_eq!(config.inventory, InventoryConfig { enable: true, interval: Duration::from_secs(5) });
    assert!(config.describe().contains("inventory: enabled, every 5s"), "{}", config.describe());
    // An inventory-only agent is not "an agent that logs only its start and stop".
    assert!(config.warnings().iter().all(|w| !w.contains("no module is enabled")), "{:?}", config.warnings());
    assert!(!parse_ok("[inventory]\nenable = false\n").inventory.enable);
    assert_eq!(
        problem("[inventory]\ninterval = \"0s\"\n"),
        at(2, 12, "inventory.interval", "duration must be at least 1s")
    );
    assert_eq!(
        problem("[inventory]\ninterval = 60\n"),
        at(
            2,
            12,
            "inventory.interval",
            "expected a duration string like \"30s\", \"15m\", \"12h\" or \"365d\", found an integer"
        )
    );
    assert_eq!(
        problem("[inventory]\nenable = true\nwalk = 1\n"),
        at(3, 1, "inventory.walk", "unknown key (expected one of: enable, interval)")
    );
}

#[test]
fn telemetry_section() {
    use crate::config::{Measure, Op, TelemetryConfig};
    let config = parse_ok("");
    assert_eq!(config.telemetry, TelemetryConfig::default());
    assert!(!config.telemetry.enable);
    assert!(config.describe().contains("telemetry: disabled"));
    // SPEC section 10's example, and the extensions
    let config = parse_ok("[telemetry]\nenable = true\ninterval = \"10s\"\ntop = 10\n");
    assert_eq!(config.telemetry, TelemetryConfig { enable: true, ..TelemetryConfig::default() });
    assert_eq!(config.telemetry.measures, Measure::all());
    assert!(config.describe().contains("telemetry: enabled, every 10s: the top 10"), "{}", config.describe());
    assert!(config.warnings().iter().all(|w| !w.contains("no module is enabled")), "{:?}", config.warnings());
    let config = parse_ok("[telemetry]\nmeasures = [\"cpu\", \"drops\"]\nmax_processes = 100\n");
    assert_eq!(config.telemetry.measures, [Measure::Cpu, Measure::Drops].into_iter().collect());
    assert_eq!(config.telemetry.max_processes, 100);
    let every = parse_ok("[telemetry]\nenable = true\nrunq_sample = 1\n");
    assert_eq!(every.telemetry.runq_sample, 1);
    assert!(!every.describe().contains("run-queue histogram"), "{}", every.describe());
    let sampled = parse_ok("[telemetry]\nenable = true\n");
    assert_eq!(sampled.telemetry.runq_sample, 8);
    assert!(sampled.describe().contains("run-queue histogram: 1 wait in 8 measured"), "{}", sampled.describe());
    assert_eq!(
        problem("[telemetry]\nrunq_sample = 0\n"),
        at(2, 15, "telemetry.runq_sample", "must be between 1 and 1024: 0")
    );
    let idle = parse_ok("[telemetry]\nmeasures = []\n");
    assert!(idle.warnings().iter().any(|w| w.contains("telemetry.measures is empty")), "{:?}", idle.warnings());
    assert_eq!(problem("[telemetry]\ntop = 0\n"), at(2, 7, "telemetry.top", "must be between 1 and 1000: 0"));
    assert_eq!(
        problem("[telemetry]\nmax_processes = 2\n"),
        at(2, 17, "telemetry.max_processes", "must be between 16 and 1048576: 2")
    );
    assert!(problem("[telemetry]\nmeasures = [\"disk\"]\n").contains("telemetry.measures"));
    assert_eq!(
        problem("[telemetry]\ninterval = \"0s\"\n"),
        at(2, 12, "telemetry.interval", "duration must be at least 1s")
    );
    assert!(problem("[telemetry]\nwalk = 1\n")
        .contains("expected one of: enable, interval, top, measures, max_processes, runq_sample"));
}

#[test]
fn detect_section_parses_spec_example_and_names_bad_values() {
    let config = parse_ok(
        "[detect]\nmode = \"block\"\nresponse = { reverse_shell = \"kill\", module_load = \"BLOCK\" }\n\
         exclude = [{ detection = \"ptrace_inject\", command = [\"/usr/bin/gdb\"] },\n\
         { detection = [\"bpf_load\", \"module_load\"], uid = [0] }]\ndisable = [\"userns_create\"]\n",
    );
    let detect = &config.detect;
    assert!(detect.enable && detect.default_exclude);
    assert_eq!(detect.mode, Mode::Block);
    assert_eq!(detect.response_of(super::Detection::ReverseShell), super::Response::Kill);
    assert_eq!(detect.response_of(super::Detection::ModuleLoad), super::Response::Block);
    assert_eq!(detect.response_of(super::Detection::FilelessExec), super::Response::Alert);
    assert_eq!(detect.exclude.len(), 2);
    assert_eq!(detect.exclude[0].command, vec![CommandMatch::Exe("/usr/bin/gdb".into())]);
    assert_eq!(detect.exclude[1].detections.len(), 2);
    assert_eq!(detect.exclude[1].uid, vec![0]);
    assert!(detect.disable.contains(&super::Detection::UsernsCreate));
    assert!(!parse_ok("").detect.enable);

    let bad = problems(
        "[detect]\nresponse = { reverse_shel = \"kill\", bpf_load = \"stop\" }\n\
         exclude = [{ detection = \"nope\", command = [\"gdb\"] }, { detection = \"bpf_load\" }]\n\
         disable = [\"x\"]\n",
    );
    assert_eq!(bad.len(), 5, "{bad:?}");
    assert!(
        bad[0].contains("2:")
            && bad[0].contains("detect.response.reverse_shel")
            && bad[0].contains("unknown detection")
    );
    assert!(bad[1].contains("detect.response.bpf_load") && bad[1].contains("invalid response"));
    assert!(bad[2].contains("detect.exclude[0].detection"));
    assert!(bad[3].contains("detect.exclude[1]") && bad[3].contains("needs a command or a uid"));
    assert!(bad[4].contains("4:") && bad[4].contains("detect.disable[0]") && bad[4].contains("unknown detect op"));
}

#[test]
fn agent_persist_is_off_by_default_and_must_be_a_boolean() {
    assert!(!parse_ok("").agent.persist);
    assert!(parse_ok("[agent]\npersist = true\n").agent.persist);
    assert_eq!(
        problem("[agent]\npersist = \"yes\"\n"),
        at(2, 11, "agent.persist", "expected a boolean (true or false), found a string")
    );
    assert!(problem("[agent]\npersit = true\n").contains("agent.persit: unknown key"));
}
