//! `Config::describe`: the effective policy as `safeguard check` prints it, defaults
//! filled in and values normalized.

use std::collections::BTreeSet;
use std::fmt::{self, Write};
use std::time::Duration;

use crate::rule_paths::rule_text;

use super::{
    AllowDeny, Config, DetectConfig, Entry, FileConfig, FileRule, InventoryConfig, LogConfig, LogOutput, Mode,
    MountConfig, NetworkConfig, Op, ProcessConfig, Target,
};

impl Config {
    /// The effective policy, one module after the other: enabled or not, mode, target,
    /// ops, then the rules with their kind. A rule whose normalized form differs from
    /// what was written shows the written text too.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = self.write_description(&mut out);
        out
    }

    fn write_description(&self, out: &mut String) -> fmt::Result {
        writeln!(
            out,
            "agent:\n  persist {}\n  protect {}",
            if self.agent.persist { "on (enforcement outlives the agent; `safeguard unload` ends it)" } else { "off" },
            if self.agent.protect { "on (only the agent may stop, trace or alter it)" } else { "off" }
        )?;
        describe_log(out, &self.log)?;
        describe_file(out, &self.file)?;
        describe_network(out, &self.network)?;
        describe_process(out, &self.process)?;
        describe_mount(out, &self.mount)?;
        describe_detect(out, &self.detect)?;
        describe_inventory(out, &self.inventory)?;
        describe_telemetry(out, &self.telemetry)
    }
}

fn describe_log(out: &mut String, log: &LogConfig) -> fmt::Result {
    writeln!(out, "log:")?;
    let output = match &log.output {
        LogOutput::Stdout => "stdout".to_string(),
        LogOutput::File(path) => path.display().to_string(),
    };
    writeln!(out, "  format {}, output {output}, level {} ({})", log.format.name(), log.level, log.level.number())?;
    if log.output != LogOutput::Stdout {
        writeln!(
            out,
            "  rotate above {} or after {}, keep {} rotated files",
            size(log.max_size),
            duration(log.max_age),
            log.max_files
        )?;
    }
    writeln!(out, "  statistics record every {}", duration(log.stats_interval))?;
    if log.tags.is_empty() {
        writeln!(out, "  tags: none")
    } else {
        let tags: Vec<String> = log.tags.iter().map(|(key, value)| format!("{key}={value:?}")).collect();
        writeln!(out, "  tags: {}", tags.join(" "))
    }
}

fn header(out: &mut String, module: &str, enable: bool, mode: Mode, target: Target) -> fmt::Result {
    let state = if enable { "enabled" } else { "disabled" };
    writeln!(out, "{module}: {state}, mode {}, target {}", mode.name(), target.name())
}

fn ops<T: Op>(ops: &BTreeSet<T>) -> String {
    if ops.is_empty() {
        "none".to_string()
    } else if ops.len() == T::ALL.len() {
        format!("all ({})", names(ops.iter().copied()))
    } else {
        names(ops.iter().copied())
    }
}

fn names<T: Op>(ops: impl Iterator<Item = T>) -> String {
    ops.map(|op| op.name()).collect::<Vec<_>>().join(" ")
}

fn describe_file(out: &mut String, file: &FileConfig) -> fmt::Result {
    header(out, "file", file.enable, file.mode, file.target)?;
    writeln!(out, "  ops: {}", ops(&file.ops))?;
    let allow_listed = file.allow_listed_ops();
    if allow_listed.is_empty() {
        writeln!(out, "  allow-listed ops: none")?;
    } else {
        writeln!(
            out,
            "  allow-listed ops (denied where no allow rule covers the path): {}",
            names(allow_listed.into_iter())
        )?;
    }
    if file.rules().next().is_none() {
        return writeln!(out, "  rules: none");
    }
    writeln!(out, "  rules (longest path wins; then rules with selectors; then deny, allow, audit):")?;
    for (kind, rule) in file.rules() {
        writeln!(out, "    {:<5} {}", kind.name(), file_rule(rule))?;
    }
    Ok(())
}

fn file_rule(rule: &FileRule) -> String {
    let mut line = rule.path.clone();
    match &rule.ops {
        None => line.push_str("  ops all"),
        Some(ops) => write_to(&mut line, format_args!("  ops {}", names(ops.iter().copied()))),
    }
    if !rule.uid.is_empty() {
        write_to(&mut line, format_args!("  uid {}", list(&rule.uid)));
    }
    if !rule.gid.is_empty() {
        write_to(&mut line, format_args!("  gid {}", list(&rule.gid)));
    }
    if !rule.command.is_empty() {
        write_to(&mut line, format_args!("  command {}", list(&rule.command)));
    }
    if rule_text(&rule.text) != rule.path {
        write_to(&mut line, format_args!("  (written {})", rule.text));
    }
    line
}

fn describe_network(out: &mut String, network: &NetworkConfig) -> fmt::Result {
    header(out, "network", network.enable, network.mode, network.target)?;
    writeln!(out, "  ops: {}", ops(&network.ops))?;
    if network.cidr_allow_differs_from_default() {
        writeln!(out, "  addresses no cidr entry covers: denied (cidr.allow differs from the default)")?;
    } else {
        writeln!(out, "  addresses no cidr entry covers: allowed (cidr.allow is the default)")?;
    }
    allow_deny(out, "cidr", &network.cidr)?;
    allow_deny(out, "domain", &network.domain)?;
    allow_deny(out, "command", &network.command)?;
    allow_deny(out, "uid", &network.uid)?;
    allow_deny(out, "gid", &network.gid)?;
    allow_deny(out, "port", &network.port)?;
    describe_ports(out, network)
}

/// The flat port table the kernel gets, one line per interval of each protocol.
fn describe_ports(out: &mut String, network: &NetworkConfig) -> fmt::Result {
    use crate::network::rules::{port_intervals, PortSource, PORT_NOT_ALLOWED};

    if network.port.allow.is_empty() && network.port.deny.is_empty() {
        return writeln!(out, "  ports: every port allowed (no port entries)");
    }
    writeln!(
        out,
        "  ports (bind: the local port; connect, sendmsg: the destination port; narrowest range wins, \
         deny wins ties; a port denial holds whatever the address and subject allow lists):"
    )?;
    writeln!(
        out,
        "    (not judged by port: bind to port 0, sends to a connected peer, protocols other than TCP, MPTCP, \
         UDP and UDP-Lite)"
    )?;
    for interval in port_intervals(&network.port) {
        let ports = if interval.first == interval.last {
            interval.first.to_string()
        } else {
            format!("{}-{}", interval.first, interval.last)
        };
        let why = match interval.source {
            PortSource::Default => "allowed (no entry)".to_string(),
            PortSource::Allow(i) => format!("allowed by port.allow {}", rule_text(&network.port.allow[i].text)),
            PortSource::Deny(i) => format!("denied by port.deny {}", rule_text(&network.port.deny[i].text)),
            PortSource::NotAllowed => format!("denied ({PORT_NOT_ALLOWED})"),
        };
        writeln!(out, "    {}/{ports:<12} {why}", interval.proto.name())?;
    }
    Ok(())
}

fn allow_deny<T: fmt::Display>(out: &mut String, name: &str, lists: &AllowDeny<T>) -> fmt::Result {
    writeln!(out, "  {name} allow: {}", entries(&lists.allow))?;
    writeln!(out, "  {name} deny: {}", entries(&lists.deny))
}

fn describe_process(out: &mut String, process: &ProcessConfig) -> fmt::Result {
    header(out, "process", process.enable, process.mode, process.target)?;
    writeln!(out, "  ops: {}", ops(&process.ops))?;
    let allow = if process.allow.is_empty() {
        "none (any executable may run unless denied)".to_string()
    } else {
        format!("{} (only these may run)", entries(&process.allow))
    };
    writeln!(out, "  allow: {allow}")?;
    writeln!(out, "  deny: {}", entries(&process.deny))
}

fn describe_mount(out: &mut String, mount: &MountConfig) -> fmt::Result {
    header(out, "mount", mount.enable, mount.mode, mount.target)?;
    writeln!(out, "  deny: {}", entries(&mount.deny))?;
    // What each kind of entry covers (README "Mount rules").
    writeln!(out, "    a path: binds, moves and new mounts of it or below it; binds and moves of its ancestors")?;
    writeln!(out, "    a name: new mounts with that source or filesystem type")?;
    writeln!(out, "  every mount is recorded (ALLOWED when no entry applies)")
}

fn describe_inventory(out: &mut String, inventory: &InventoryConfig) -> fmt::Result {
    if !inventory.enable {
        return writeln!(out, "inventory: disabled");
    }
    writeln!(
        out,
        "inventory: enabled, every {} (an inventory record, and a drift record per change)",
        duration(inventory.interval)
    )
}

fn describe_telemetry(out: &mut String, telemetry: &super::TelemetryConfig) -> fmt::Result {
    if !telemetry.enable {
        return writeln!(out, "telemetry: disabled");
    }
    let measures: Vec<&str> = telemetry.measures.iter().map(|m| super::Op::name(*m)).collect();
    writeln!(
        out,
        "telemetry: enabled, every {}: the top {} processes by each measure, drops by reason",
        duration(telemetry.interval),
        telemetry.top
    )?;
    writeln!(out, "  measures: {}", if measures.is_empty() { "none".into() } else { measures.join(", ") })?;
    if telemetry.measures.contains(&super::Measure::Runq) && telemetry.runq_sample > 1 {
        writeln!(out, "  run-queue histogram: 1 wait in {} measured, at random", telemetry.runq_sample)?;
    }
    writeln!(out, "  kernel table: {} processes (more are counted as lost)", telemetry.max_processes)
}

fn describe_detect(out: &mut String, detect: &DetectConfig) -> fmt::Result {
    header(out, "detect", detect.enable, detect.mode, detect.target)?;
    for &detection in super::Detection::ALL {
        if detect.disable.contains(&detection) {
            writeln!(out, "  {detection}: disabled")?;
        } else if detect.mode == Mode::Monitor {
            writeln!(out, "  {detection}: alert (monitor mode)")?;
        } else {
            writeln!(out, "  {detection}: {}", detect.response_of(detection).name())?;
        }
    }
    let builtin = if detect.default_exclude { "on" } else { "off" };
    writeln!(out, "  built-in exclusions: {builtin}")?;
    for exclusion in &detect.exclude {
        writeln!(out, "  exclude: {}", exclusion.text)?;
    }
    Ok(())
}

/// `a, b (written "B")`: the normalized values, each with its source text when that
/// says something else.
fn entries<T: fmt::Display>(entries: &[Entry<T>]) -> String {
    if entries.is_empty() {
        return "none".to_string();
    }
    let shown: Vec<String> = entries
        .iter()
        .map(|entry| {
            let value = entry.value.to_string();
            if rule_text(&entry.text) == value {
                value
            } else {
                format!("{value} (written {})", entry.text)
            }
        })
        .collect();
    shown.join(", ")
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

fn write_to(line: &mut String, args: fmt::Arguments) {
    // Writing into a String cannot fail.
    let _ = line.write_fmt(args);
}

/// `100 MB (100000000 bytes)` in the largest unit that divides exactly.
fn size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 8] = [
        ("TiB", 1 << 40),
        ("TB", 1_000_000_000_000),
        ("GiB", 1 << 30),
        ("GB", 1_000_000_000),
        ("MiB", 1 << 20),
        ("MB", 1_000_000),
        ("KiB", 1 << 10),
        ("KB", 1000),
    ];
    match UNITS.iter().find(|(_, unit)| bytes % unit == 0) {
        Some((name, unit)) => format!("{} {name} ({bytes} bytes)", bytes / unit),
        None => format!("{bytes} bytes"),
    }
}

/// `365d`, `12h`, `15m`, `30s`: the largest unit that divides exactly.
fn duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let unit = [("d", 86400), ("h", 3600), ("m", 60)].into_iter().find(|(_, unit)| seconds % unit == 0 && seconds > 0);
    match unit {
        Some((name, unit)) => format!("{}{name}", seconds / unit),
        None => format!("{seconds}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_back() {
        assert_eq!(size(100_000_000), "100 MB (100000000 bytes)");
        assert_eq!(size(1 << 20), "1 MiB (1048576 bytes)");
        assert_eq!(size(512), "512 bytes");
        assert_eq!(duration(Duration::from_secs(365 * 86400)), "365d");
        assert_eq!(duration(Duration::from_secs(90)), "90s");
        assert_eq!(duration(Duration::from_secs(7200)), "2h");
    }
}
