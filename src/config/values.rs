//! Pure parsers for the string values of the config: paths, sizes, durations, CIDRs,
//! domain names, commands, mount sources, ports. Each returns the one-line message the config
//! error shows after `file:line:col: key:`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{Cidr, CommandMatch, MountSource, PortProto, PortRange};

/// The longest rule path: the key size of the kernel's longest-prefix path table.
pub const MAX_RULE_PATH: usize = 255;

/// A task name (comm) holds 15 bytes plus the NUL (TASK_COMM_LEN).
pub const MAX_COMM: usize = 15;

/// Normalizes an absolute path: `//` collapsed, a trailing `/` removed (except for `/`
/// itself). `.` and `..` components are refused rather than resolved: the kernel matches
/// the path it resolved, so a rule that only matches after resolution would be a trap.
pub fn path(raw: &str) -> Result<String, String> {
    if raw.contains('\0') {
        return Err(format!("path must not contain a NUL byte: {raw:?}"));
    }
    if !raw.starts_with('/') {
        return Err(format!("path must be absolute: {raw:?}"));
    }
    let mut normalized = String::with_capacity(raw.len());
    for component in raw.split('/').filter(|c| !c.is_empty()) {
        if component == "." || component == ".." {
            return Err(format!("path must not contain \".\" or \"..\" components: {raw:?}"));
        }
        normalized.push('/');
        normalized.push_str(component);
    }
    if normalized.is_empty() {
        normalized.push('/');
    }
    Ok(normalized)
}

/// A path that goes into a kernel rule table: `path` plus the table's length limit.
pub fn rule_path(raw: &str) -> Result<String, String> {
    let normalized = path(raw)?;
    if normalized.len() > MAX_RULE_PATH {
        return Err(format!(
            "path is {} bytes, longer than the {MAX_RULE_PATH} bytes a key of the kernel's \
             longest-prefix path table holds: {raw:?}",
            normalized.len()
        ));
    }
    Ok(normalized)
}

/// `nc` selects by task name (comm), `/usr/bin/nc` by executable path.
pub fn command(raw: &str) -> Result<CommandMatch, String> {
    if raw.contains('/') {
        return rule_path(raw).map(CommandMatch::Exe);
    }
    if raw.is_empty() {
        return Err("command must not be empty".to_string());
    }
    if raw.contains('\0') {
        return Err(format!("command must not contain a NUL byte: {raw:?}"));
    }
    if raw.len() > MAX_COMM {
        return Err(format!(
            "command name is {} bytes, but a task name (comm) holds at most {MAX_COMM}; \
             use the executable's absolute path instead: {raw:?}",
            raw.len()
        ));
    }
    Ok(CommandMatch::Comm(raw.to_string()))
}

/// A mount source: an absolute path (bind source or device node) is normalized, anything
/// else (`tmpfs`, `proc`, `server:/export`) is kept as written.
pub fn mount_source(raw: &str) -> Result<MountSource, String> {
    if raw.starts_with('/') {
        return rule_path(raw).map(MountSource::Path);
    }
    if raw.is_empty() {
        return Err("mount source must not be empty".to_string());
    }
    if raw.contains('\0') {
        return Err(format!("mount source must not contain a NUL byte: {raw:?}"));
    }
    if raw.len() > MAX_RULE_PATH {
        return Err(format!("mount source is {} bytes, longer than {MAX_RULE_PATH}: {raw:?}", raw.len()));
    }
    Ok(MountSource::Name(raw.to_string()))
}

const SIZE_UNITS: [(&str, u64); 9] = [
    ("b", 1),
    ("kb", 1000),
    ("mb", 1000 * 1000),
    ("gb", 1000 * 1000 * 1000),
    ("tb", 1000 * 1000 * 1000 * 1000),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
    ("tib", 1 << 40),
];

const SIZE_HELP: &str =
    "use bytes, or a number with KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)";

/// `"512"`, `"10KB"`, `"100 MiB"`: a whole number with an optional unit, in any case.
/// KB, MB, GB, TB are powers of 1000 and KiB, MiB, GiB, TiB powers of 1024, as the SI and
/// IEC prefixes say; a bare `K`/`M`/`G` is refused because it could mean either.
pub fn size(raw: &str) -> Result<u64, String> {
    let (number, unit) = split_number(raw.trim());
    let unit = unit.trim().to_ascii_lowercase();
    let Ok(number) = number.parse::<u64>() else {
        return Err(format!("invalid size {raw:?} ({SIZE_HELP})"));
    };
    let multiplier = if unit.is_empty() {
        1
    } else if let Some(&(_, multiplier)) = SIZE_UNITS.iter().find(|(name, _)| *name == unit) {
        multiplier
    } else if matches!(unit.as_str(), "k" | "m" | "g" | "t") {
        return Err(format!("ambiguous size {raw:?}: write {0}B (1000) or {0}iB (1024)", unit.to_ascii_uppercase()));
    } else {
        return Err(format!("invalid size {raw:?} ({SIZE_HELP})"));
    };
    number.checked_mul(multiplier).ok_or_else(|| format!("size {raw:?} is too large"))
}

const DURATION_UNITS: [(&str, u64); 4] = [("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];

/// `"30s"`, `"15m"`, `"12h"`, `"365d"`: a whole number and one unit.
pub fn duration(raw: &str) -> Result<Duration, String> {
    let (number, unit) = split_number(raw.trim());
    let unit = unit.trim().to_ascii_lowercase();
    let help = "use a whole number with s, m, h or d, like \"30s\" or \"365d\"";
    let Ok(number) = number.parse::<u64>() else {
        return Err(format!("invalid duration {raw:?} ({help})"));
    };
    if unit.is_empty() {
        return Err(format!("duration {raw:?} needs a unit ({help})"));
    }
    let Some(&(_, seconds)) = DURATION_UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(format!("invalid duration {raw:?} ({help})"));
    };
    number.checked_mul(seconds).map(Duration::from_secs).ok_or_else(|| format!("duration {raw:?} is too large"))
}

/// Splits leading ASCII digits from the rest (no sign, no fraction).
fn split_number(text: &str) -> (&str, &str) {
    let end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    text.split_at(end)
}

/// `"10.0.0.0/8"`, `"2001:db8::/32"`, or a bare address (/32, /128). Host bits are
/// cleared (`10.0.0.1/8` is `10.0.0.0/8`), the table keys by prefix anyway; an IPv4-mapped
/// IPv6 network (`::ffff:10.0.0.0/104`) becomes the IPv4 one, as the kernel side sees
/// mapped peers as IPv4.
pub fn cidr(raw: &str) -> Result<Cidr, String> {
    let (address, prefix) = match raw.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (raw, None),
    };
    let addr: IpAddr =
        address.parse().map_err(|_| format!("invalid CIDR {raw:?}: {address:?} is not an IPv4 or IPv6 address"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix_len = match prefix {
        None => max,
        Some(prefix) => match prefix.parse::<u8>() {
            Ok(len) if len <= max && prefix.bytes().all(|b| b.is_ascii_digit()) => len,
            _ => {
                let family = if addr.is_ipv4() { "IPv4" } else { "IPv6" };
                return Err(format!("invalid CIDR {raw:?}: the prefix length must be 0 to {max} for {family}"));
            }
        },
    };
    Ok(Cidr::new(addr, prefix_len))
}

/// A host name to resolve: RFC 1123 labels (letters, digits, inner hyphens, 1 to 63
/// bytes), at most 253 bytes; lowercased, one trailing dot removed.
pub fn domain(raw: &str) -> Result<String, String> {
    let name = raw.strip_suffix('.').unwrap_or(raw).to_ascii_lowercase();
    if name.parse::<IpAddr>().is_ok() {
        return Err(format!("{raw:?} is an address, not a domain name: put it in network.cidr"));
    }
    if name.is_empty() || name.len() > 253 {
        return Err(format!("invalid domain name {raw:?}: it must be 1 to 253 bytes long"));
    }
    for label in name.split('.') {
        let valid = (1..=63).contains(&label.len())
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !valid {
            return Err(format!(
                "invalid domain name {raw:?}: each dot-separated label must be 1 to 63 letters, \
                 digits or inner hyphens"
            ));
        }
    }
    Ok(name)
}

const PORT_HELP: &str = "write a port or a range of 0 to 65535, optionally after tcp/ or udp/: \"22\", \"1-1023\", \"tcp/25\", \"udp/5000-5100\"";

/// `"22"`, `"1-1023"`, `"tcp/25"`, `"udp/53"`: a port or an inclusive range, of TCP and
/// UDP or of the one protocol named (in any case).
pub fn port(raw: &str) -> Result<PortRange, String> {
    let (proto, ports) = match raw.split_once('/') {
        Some((name, ports)) => {
            let proto = PortProto::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(name));
            match proto {
                Some(proto) => (Some(proto), ports),
                None => return Err(format!("invalid port {raw:?}: the protocol must be tcp or udp ({PORT_HELP})")),
            }
        }
        None => (None, raw),
    };
    let number = |text: &str| -> Result<u16, String> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("invalid port {raw:?} ({PORT_HELP})"));
        }
        text.parse::<u16>().map_err(|_| format!("invalid port {raw:?}: ports are 0 to 65535"))
    };
    let (first, last) = match ports.split_once('-') {
        Some((first, last)) => (number(first)?, number(last)?),
        None => {
            let port = number(ports)?;
            (port, port)
        }
    };
    if first > last {
        return Err(format!("invalid port range {raw:?}: the first port is greater than the last"));
    }
    Ok(PortRange { proto, first, last })
}

/// `[output] syslog`: `""` (none), `unix:/PATH`, `udp:HOST:PORT` or `tcp:HOST:PORT`.
pub fn syslog_target(raw: &str) -> Result<Option<super::SyslogTarget>, String> {
    use super::SyslogTarget;
    const USE: &str = "use \"unix:/dev/log\", \"udp:HOST:PORT\", \"tcp:HOST:PORT\" or \"\"";
    if raw.is_empty() {
        return Ok(None);
    }
    let (scheme, rest) = raw.split_once(':').ok_or_else(|| format!("invalid syslog target {raw:?} ({USE})"))?;
    match scheme.to_ascii_lowercase().as_str() {
        "unix" => Ok(Some(SyslogTarget::Unix(PathBuf::from(path(rest)?)))),
        "udp" => Ok(Some(SyslogTarget::Udp(host_port(rest)?))),
        "tcp" => Ok(Some(SyslogTarget::Tcp(host_port(rest)?))),
        _ => Err(format!("invalid syslog target {raw:?} ({USE})")),
    }
}

/// `HOST:PORT` (a name, an IPv4 address, or `[IPv6]`) with a port from 1 to 65535;
/// the name is resolved when the output opens (and again when TCP reconnects).
fn host_port(raw: &str) -> Result<String, String> {
    let (host, port) = raw.rsplit_once(':').ok_or_else(|| format!("expected HOST:PORT, found {raw:?}"))?;
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            && host.ends_with(']')
            && host[1..host.len() - 1].parse::<std::net::Ipv6Addr>().is_ok()
            || host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    if !host_ok {
        return Err(format!("invalid host {host:?} in {raw:?} (a name, an IPv4 address or [IPv6])"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(raw.to_string()),
        _ => Err(format!("invalid port {port:?} in {raw:?} (1 to 65535)")),
    }
}

/// `[output] metrics`: `""` (none), `ADDRESS:PORT` to listen on, or an absolute path
/// ending in `.prom` (node_exporter's textfile collector).
pub fn metrics_target(raw: &str) -> Result<Option<super::MetricsTarget>, String> {
    use super::MetricsTarget;
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.starts_with('/') {
        if !raw.ends_with(".prom") {
            return Err(format!("a metrics file must end in .prom (node_exporter reads only those): {raw:?}"));
        }
        return Ok(Some(MetricsTarget::File(PathBuf::from(path(raw)?))));
    }
    raw.parse::<std::net::SocketAddr>().map(|addr| Some(MetricsTarget::Listen(addr))).map_err(|_| {
        format!("invalid metrics target {raw:?} (an address and port such as \"127.0.0.1:9464\", or an absolute path ending in .prom)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn paths_are_normalized() {
        assert_eq!(path("/").unwrap(), "/");
        assert_eq!(path("//").unwrap(), "/");
        assert_eq!(path("/etc/").unwrap(), "/etc");
        assert_eq!(path("//etc///shadow//").unwrap(), "/etc/shadow");
        assert_eq!(path("/etc/...").unwrap(), "/etc/...");
        assert_eq!(path("/a b/c").unwrap(), "/a b/c");
    }

    #[test]
    fn bad_paths_are_refused() {
        assert_eq!(path("usr/bin/nc").unwrap_err(), "path must be absolute: \"usr/bin/nc\"");
        assert_eq!(path("").unwrap_err(), "path must be absolute: \"\"");
        assert!(path("/etc/../shadow").unwrap_err().contains("\"..\" components"));
        assert!(path("/etc/./shadow").unwrap_err().contains("\"..\" components"));
        assert!(path("/etc/..").is_err());
        assert!(path("/etc\0x").unwrap_err().contains("NUL"));
    }

    #[test]
    fn rule_paths_hold_at_most_255_bytes() {
        let longest = format!("/{}", "a".repeat(254));
        assert_eq!(rule_path(&longest).unwrap().len(), 255);
        // Length counts after normalization: the extra slashes go away.
        assert!(rule_path(&format!("{longest}//")).is_ok());
        let too_long = format!("/{}", "a".repeat(255));
        let message = rule_path(&too_long).unwrap_err();
        assert!(message.starts_with("path is 256 bytes, longer than the 255 bytes"), "{message}");
        assert!(message.contains("longest-prefix"), "{message}");
    }

    #[test]
    fn commands_are_comm_or_exe() {
        assert_eq!(command("nc").unwrap(), CommandMatch::Comm("nc".into()));
        assert_eq!(command("/usr/bin//nc").unwrap(), CommandMatch::Exe("/usr/bin/nc".into()));
        assert_eq!(command("123456789012345").unwrap(), CommandMatch::Comm("123456789012345".into()));
        assert!(command("1234567890123456").unwrap_err().contains("at most 15"));
        assert!(command("bin/nc").unwrap_err().contains("absolute"));
        assert!(command("").is_err());
    }

    #[test]
    fn mount_sources() {
        assert_eq!(mount_source("/var/run//docker.sock/").unwrap(), MountSource::Path("/var/run/docker.sock".into()));
        assert_eq!(mount_source("tmpfs").unwrap(), MountSource::Name("tmpfs".into()));
        assert_eq!(mount_source("nfs:/export").unwrap(), MountSource::Name("nfs:/export".into()));
        assert!(mount_source("/a/../b").is_err());
        assert!(mount_source("").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(size("512"), Ok(512));
        assert_eq!(size("512B"), Ok(512));
        assert_eq!(size("10KB"), Ok(10_000));
        assert_eq!(size("10kb"), Ok(10_000));
        assert_eq!(size("100MB"), Ok(100_000_000));
        assert_eq!(size("1GB"), Ok(1_000_000_000));
        assert_eq!(size("1 KiB"), Ok(1024));
        assert_eq!(size("3MiB"), Ok(3 << 20));
        assert_eq!(size("1gib"), Ok(1 << 30));
        assert_eq!(size("2TiB"), Ok(2 << 40));
        assert!(size("100XB").unwrap_err().starts_with("invalid size \"100XB\" (use bytes"));
        assert!(size("100M").unwrap_err().contains("ambiguous"));
        assert!(size("MB").is_err());
        assert!(size("-1MB").is_err());
        assert!(size("1.5MB").is_err());
        assert!(size("99999999999TB").unwrap_err().contains("too large"));
    }

    #[test]
    fn durations() {
        assert_eq!(duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(duration("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(duration("365d"), Ok(Duration::from_secs(365 * 86400)));
        assert_eq!(duration("0s"), Ok(Duration::ZERO));
        assert!(duration("30").unwrap_err().contains("needs a unit"));
        assert!(duration("10x").unwrap_err().starts_with("invalid duration \"10x\""));
        assert!(duration("1h30m").is_err());
        assert!(duration("s").is_err());
        assert!(duration("-5s").is_err());
    }

    #[test]
    fn cidrs() {
        let v4 = |a, b, c, d, len| Cidr { addr: IpAddr::V4(Ipv4Addr::new(a, b, c, d)), prefix_len: len };
        assert_eq!(cidr("10.0.0.0/8"), Ok(v4(10, 0, 0, 0, 8)));
        assert_eq!(cidr("169.254.169.254"), Ok(v4(169, 254, 169, 254, 32)));
        assert_eq!(cidr("0.0.0.0/0"), Ok(v4(0, 0, 0, 0, 0)));
        // Host bits are cleared.
        assert_eq!(cidr("10.1.2.3/8"), Ok(v4(10, 0, 0, 0, 8)));
        assert_eq!(cidr("192.168.1.255/23"), Ok(v4(192, 168, 0, 0, 23)));
        assert_eq!(cidr("::/0"), Ok(Cidr { addr: IpAddr::V6(Ipv6Addr::UNSPECIFIED), prefix_len: 0 }));
        assert_eq!(cidr("2001:db8::1/32"), Ok(Cidr { addr: "2001:db8::".parse().unwrap(), prefix_len: 32 }));
        assert_eq!(cidr("::1"), Ok(Cidr { addr: "::1".parse().unwrap(), prefix_len: 128 }));
        assert!(cidr("10.0.0.0/33").unwrap_err().contains("0 to 32 for IPv4"));
        assert!(cidr("::/129").unwrap_err().contains("0 to 128 for IPv6"));
        assert!(cidr("10.0.0.0/+8").is_err());
        assert!(cidr("10.0.0.0/").is_err());
        assert!(cidr("10.0.0/8").unwrap_err().contains("not an IPv4 or IPv6 address"));
        assert!(cidr("example.com").is_err());
        assert!(cidr("fe80::1%eth0").is_err());
    }

    #[test]
    fn ipv4_mapped_networks_become_ipv4() {
        let v4 = |text: &str| cidr(text).unwrap();
        assert_eq!(v4("::ffff:10.1.2.3"), v4("10.1.2.3/32"));
        assert_eq!(v4("::ffff:10.0.0.0/104"), v4("10.0.0.0/8"));
        assert_eq!(v4("::ffff:0.0.0.0/96"), v4("0.0.0.0/0"));
        assert_eq!(v4("::ffff:a9fe:a9fe/128"), v4("169.254.169.254"));
        // Wider than the mapped range: it stays IPv6.
        let wide = v4("::ffff:0:0/80");
        assert!(wide.addr.is_ipv6());
        assert_eq!(wide.prefix_len, 80);
    }

    #[test]
    fn ports() {
        let range = |proto, first, last| Ok(PortRange { proto, first, last });
        assert_eq!(port("22"), range(None, 22, 22));
        assert_eq!(port("0"), range(None, 0, 0));
        assert_eq!(port("65535"), range(None, 65535, 65535));
        assert_eq!(port("0-65535"), range(None, 0, 65535));
        assert_eq!(port("1-1023"), range(None, 1, 1023));
        assert_eq!(port("tcp/25"), range(Some(PortProto::Tcp), 25, 25));
        assert_eq!(port("UDP/53"), range(Some(PortProto::Udp), 53, 53));
        assert_eq!(port("udp/5000-5100"), range(Some(PortProto::Udp), 5000, 5100));
        assert_eq!(port("tcp/7-7"), range(Some(PortProto::Tcp), 7, 7));
        assert!(port("65536").unwrap_err().contains("ports are 0 to 65535"));
        assert!(port("1-70000").unwrap_err().contains("ports are 0 to 65535"));
        assert!(port("1023-1").unwrap_err().contains("first port is greater than the last"));
        assert!(port("sctp/22").unwrap_err().contains("the protocol must be tcp or udp"));
        assert!(port("/22").unwrap_err().contains("the protocol must be tcp or udp"));
        for bad in ["", "tcp/", "-1", "1-", "-", "+22", " 22", "22 ", "ssh", "1-2-3", "tcp/udp/1", "0x16", "2 2"] {
            let message = port(bad).unwrap_err();
            assert!(message.starts_with("invalid port"), "{bad:?}: {message}");
        }
    }

    #[test]
    fn domains() {
        assert_eq!(domain("Metadata.Example.COM.").unwrap(), "metadata.example.com");
        assert_eq!(domain("localhost").unwrap(), "localhost");
        assert_eq!(domain("a-b.c0").unwrap(), "a-b.c0");
        assert!(domain("-a.com").is_err());
        assert!(domain("a-.com").is_err());
        assert!(domain("a..com").is_err());
        assert!(domain("*.example.com").is_err());
        assert!(domain("exa_mple.com").is_err());
        assert!(domain("").is_err());
        assert!(domain(".").is_err());
        assert!(domain(&format!("{}.com", "a".repeat(64))).is_err());
        assert!(domain("10.0.0.1").unwrap_err().contains("network.cidr"));
    }

    #[test]
    fn output_targets() {
        use crate::config::{MetricsTarget, SyslogTarget};
        assert_eq!(syslog_target("").unwrap(), None);
        assert_eq!(syslog_target("unix:/dev/log").unwrap(), Some(SyslogTarget::Unix("/dev/log".into())));
        assert_eq!(syslog_target("UDP:10.0.0.1:514").unwrap(), Some(SyslogTarget::Udp("10.0.0.1:514".into())));
        assert_eq!(syslog_target("tcp:[::1]:601").unwrap(), Some(SyslogTarget::Tcp("[::1]:601".into())));
        assert_eq!(
            syslog_target("tcp:logs.example.com:6514").unwrap(),
            Some(SyslogTarget::Tcp("logs.example.com:6514".into()))
        );
        assert!(syslog_target("udp:host").unwrap_err().contains("HOST:PORT"));
        assert!(syslog_target("udp:host:0").unwrap_err().contains("invalid port"));
        assert!(syslog_target("udp:a b:1").unwrap_err().contains("invalid host"));
        assert!(syslog_target("unix:dev/log").unwrap_err().contains("absolute"));
        assert!(syslog_target("http://x").unwrap_err().contains("invalid syslog target"));
        assert_eq!(metrics_target("").unwrap(), None);
        assert_eq!(
            metrics_target("127.0.0.1:9464").unwrap(),
            Some(MetricsTarget::Listen("127.0.0.1:9464".parse().unwrap()))
        );
        assert_eq!(
            metrics_target("/var/lib/node_exporter/safeguard.prom").unwrap(),
            Some(MetricsTarget::File("/var/lib/node_exporter/safeguard.prom".into()))
        );
        assert!(metrics_target("/tmp/x.txt").unwrap_err().contains(".prom"));
        assert!(metrics_target("localhost").unwrap_err().contains("invalid metrics target"));
    }
}
