//! Network rules compiled into the kernel's tables (pure code, unit-tested):
//! - one longest-prefix trie for CIDR and domain entries, IPv4 as IPv4-mapped IPv6
//!   (`::ffff:a.b.c.d`, prefix + 96), so one lookup serves both families; at equal
//!   prefixes deny wins;
//! - hash maps for the subject lists (command by comm or executable identity, uid,
//!   gid), where deny wins over allow for the same key;
//! - one array slot per port and protocol (TCP, UDP) for the `port` entries, compiled
//!   from overlapping ranges into one flat table of intervals: the narrowest range
//!   covering a port decides, deny wins ties, then an entry naming the protocol; a port
//!   no entry covers is denied when `port.allow` is not empty.
//!
//! A rule id N is `texts[N - 1]`; 0 is "none".

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

use crate::bpf::sg;
use crate::config::{AllowDeny, Cidr, CommandMatch, NetworkConfig, PortProto, PortRange};
use crate::rule_paths::rule_text;

/// The rule id of a refusal outside a non-empty allow list (the model in `verdict`).
#[cfg(test)]
const NOT_ALLOWED: u32 = sg::sg_rule::SG_RULE_NOT_ALLOWED.0;

/// enum sg_verdict's values, and SG_NET_VERDICT_NONE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
pub enum Verdict {
    /// A trie entry that only keeps IPv6 prefixes off IPv4-mapped addresses.
    None = sg::sg_net_verdict::SG_NET_VERDICT_NONE.0,
    Allow = sg::sg_verdict::SG_VERDICT_ALLOW.0,
    Deny = sg::sg_verdict::SG_VERDICT_DENY.0,
}

/// A trie key: prefix length in bits over the 16-byte (mapped) address.
pub type AddrKey = (u32, [u8; 16]);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub rule_id: u32,
    pub verdict: Verdict,
}

/// The 16-byte form the kernel judges: IPv6, or IPv4 as IPv4-mapped IPv6.
pub fn addr16(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The trie key of a CIDR entry.
pub fn cidr_key(cidr: &Cidr) -> AddrKey {
    match cidr.addr {
        IpAddr::V4(_) => (u32::from(cidr.prefix_len) + 96, addr16(cidr.addr)),
        IpAddr::V6(_) => (u32::from(cidr.prefix_len), addr16(cidr.addr)),
    }
}

/// The key of a single address (a domain's A or AAAA record).
pub fn host_key(addr: IpAddr) -> AddrKey {
    (128, addr16(addr))
}

/// The prefix every IPv4-mapped address lies in: `::ffff:0:0/96`.
pub fn ipv4_space() -> AddrKey {
    (96, Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0).octets())
}

/// Adds an entry: at the same key a deny beats an allow, otherwise the first stays.
pub fn insert(table: &mut BTreeMap<AddrKey, Entry>, key: AddrKey, entry: Entry) {
    match table.get(&key) {
        Some(current) if current.verdict == Verdict::Deny || entry.verdict != Verdict::Deny => {}
        _ => {
            table.insert(key, entry);
        }
    }
}

/// Adds the entry that keeps IPv4 addresses away from IPv6 prefixes (`::/0` must not
/// cover `10.0.0.1`): without an IPv4 entry for the whole space, the posture decides.
pub fn seal_ipv4(table: &mut BTreeMap<AddrKey, Entry>) {
    table.entry(ipv4_space()).or_insert(Entry { rule_id: 0, verdict: Verdict::None });
}

/// The kernel's encoding of a trie entry.
pub fn encode_addr(key: &AddrKey, entry: &Entry) -> (sg::sg_net_addr_key, sg::sg_net_rule) {
    (
        sg::sg_net_addr_key { prefixlen: key.0, addr: key.1 },
        sg::sg_net_rule { rule_id: entry.rule_id, verdict: entry.verdict as u32 },
    )
}

/// A subject-list key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubjectKey {
    Comm([u8; 16]),
    /// The executable's identity: (the kernel's s_dev, inode).
    Exe(u32, u64),
    Uid(u32),
    Gid(u32),
}

/// The comm key: the name, NUL-padded; the kernel keeps 15 bytes.
pub fn comm_key(name: &str) -> [u8; 16] {
    let mut key = [0u8; 16];
    let bytes = name.as_bytes();
    let n = bytes.len().min(15);
    key[..n].copy_from_slice(&bytes[..n]);
    key
}

/// Everything but the domains, which the resolver adds as they resolve.
#[derive(Debug, Default)]
pub struct CompiledRules {
    /// Rule texts for the log; rule id N is `texts[N - 1]`.
    pub texts: Vec<String>,
    /// CIDR entries (domain entries are merged in by `with_domains`).
    pub cidr: BTreeMap<AddrKey, Entry>,
    pub subjects: BTreeMap<SubjectKey, Entry>,
    /// Rule ids of the domains, in the order of `domains`.
    pub domains: Vec<(String, Verdict, u32)>,
    /// Executable paths of `command` rules that do not exist (ignored, logged).
    pub missing_exes: Vec<String>,
    /// The flat port table: intervals that an entry or the allow list decides, with
    /// their rule ids (ports in none of them are allowed).
    pub ports: Vec<(PortProto, u16, u16, Entry)>,
}

impl CompiledRules {
    /// The whole trie: CIDR entries and each domain's current addresses.
    pub fn with_domains<'a>(
        &self,
        resolved: impl IntoIterator<Item = (u32, Verdict, &'a [IpAddr])>,
    ) -> BTreeMap<AddrKey, Entry> {
        let mut table = self.cidr.clone();
        for (rule_id, verdict, addrs) in resolved {
            for &addr in addrs {
                insert(&mut table, host_key(addr), Entry { rule_id, verdict });
            }
        }
        table
    }
}

/// The text of the rule id for ports outside a non-empty `port.allow`.
pub const PORT_NOT_ALLOWED: &str = "not in network.port.allow";

/// The first slot of each protocol in the kernel's port array (`SG_NET_PORT_TCP`,
/// `SG_NET_PORT_UDP` in bpf/safeguard.h); slot = base + port.
pub fn port_table_base(proto: PortProto) -> u32 {
    match proto {
        PortProto::Tcp => sg::sg_net_port::SG_NET_PORT_TCP.0,
        PortProto::Udp => sg::sg_net_port::SG_NET_PORT_UDP.0,
    }
}

/// Slots of the kernel's port array: one per port of each protocol.
pub const PORT_SLOTS: u32 = sg::sg_net_port::SG_NET_PORT_SLOTS.0;

/// What decides one interval of the flat port table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortSource {
    /// No entry covers it and `port.allow` is empty: allowed.
    Default,
    /// Entry `i` of `port.allow`.
    Allow(usize),
    /// Entry `i` of `port.deny`.
    Deny(usize),
    /// No entry covers it and `port.allow` is not empty: denied.
    NotAllowed,
}

impl PortSource {
    pub fn verdict(self) -> Verdict {
        match self {
            PortSource::Default | PortSource::Allow(_) => Verdict::Allow,
            PortSource::Deny(_) | PortSource::NotAllowed => Verdict::Deny,
        }
    }
}

/// One run of ports of one protocol that the same source decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortInterval {
    pub proto: PortProto,
    pub first: u16,
    pub last: u16,
    pub source: PortSource,
}

/// A port entry that may decide a port: its rank (lowest wins), the entry, its source.
type PortCandidate = ((u32, bool, bool, usize), PortRange, PortSource);

/// Compiles the (possibly overlapping) `port` entries into non-overlapping intervals
/// that cover 0..=65535 for each protocol, TCP first. For a port, the entry with the
/// fewest ports that covers it decides; at equal width a deny beats an allow, then an
/// entry naming the protocol beats one for both, then the first written. Cost: one sort
/// and one pass over the 65,536 ports per protocol, whatever the entries overlap.
pub fn port_intervals(ports: &AllowDeny<PortRange>) -> Vec<PortInterval> {
    let uncovered = if ports.allow.is_empty() { PortSource::Default } else { PortSource::NotAllowed };
    let mut out = Vec::new();
    for proto in PortProto::ALL {
        // best first: (width, deny first, protocol named first, order written)
        let mut candidates: Vec<PortCandidate> = Vec::new();
        for (i, entry) in ports.deny.iter().enumerate() {
            let r = entry.value;
            if r.applies_to(proto) {
                candidates.push(((r.width(), false, r.proto.is_none(), i), r, PortSource::Deny(i)));
            }
        }
        for (i, entry) in ports.allow.iter().enumerate() {
            let r = entry.value;
            if r.applies_to(proto) {
                candidates.push(((r.width(), true, r.proto.is_none(), i), r, PortSource::Allow(i)));
            }
        }
        candidates.sort_by_key(|(order, _, _)| *order);

        // Paint each port with the best candidate covering it: `next[p]` leads to the
        // first port at or after p still unpainted (path halving), so every port is
        // painted once.
        let mut owner: Vec<PortSource> = vec![uncovered; 1 << 16];
        let mut next: Vec<u32> = (0..=(1u32 << 16)).collect();
        let find = |next: &mut Vec<u32>, mut p: u32| {
            while next[p as usize] != p {
                let up = next[next[p as usize] as usize];
                next[p as usize] = up;
                p = up;
            }
            p
        };
        for (_, range, source) in &candidates {
            let last = u32::from(range.last);
            let mut p = find(&mut next, u32::from(range.first));
            while p <= last {
                owner[p as usize] = *source;
                next[p as usize] = p + 1;
                p = find(&mut next, p + 1);
            }
        }

        let mut first = 0usize;
        for port in 1..=owner.len() {
            if port == owner.len() || owner[port] != owner[first] {
                out.push(PortInterval { proto, first: first as u16, last: (port - 1) as u16, source: owner[first] });
                first = port;
            }
        }
    }
    out
}

/// Compiles the configuration; `identify` gives an executable's (s_dev, inode) and is a
/// parameter so that tests need no filesystem.
pub fn compile(config: &NetworkConfig, identify: impl Fn(&str) -> Option<(u32, u64)>) -> CompiledRules {
    let mut out = CompiledRules::default();
    let add_text = |texts: &mut Vec<String>, list: &str, text: &str| {
        texts.push(format!("{list} {}", rule_text(text)));
        texts.len() as u32
    };

    for (entries, verdict, list) in
        [(&config.cidr.deny, Verdict::Deny, "cidr.deny"), (&config.cidr.allow, Verdict::Allow, "cidr.allow")]
    {
        for entry in entries {
            let rule_id = add_text(&mut out.texts, list, &entry.text);
            insert(&mut out.cidr, cidr_key(&entry.value), Entry { rule_id, verdict });
        }
    }
    seal_ipv4(&mut out.cidr);

    for (entries, verdict, list) in
        [(&config.domain.deny, Verdict::Deny, "domain.deny"), (&config.domain.allow, Verdict::Allow, "domain.allow")]
    {
        for entry in entries {
            let rule_id = add_text(&mut out.texts, list, &entry.value);
            out.domains.push((entry.value.clone(), verdict, rule_id));
        }
    }

    let subject = |out: &mut CompiledRules, key: SubjectKey, entry: Entry| match out.subjects.get(&key) {
        Some(current) if current.verdict == Verdict::Deny || entry.verdict != Verdict::Deny => {}
        _ => {
            out.subjects.insert(key, entry);
        }
    };
    for (entries, verdict, list) in [
        (&config.command.deny, Verdict::Deny, "command.deny"),
        (&config.command.allow, Verdict::Allow, "command.allow"),
    ] {
        for entry in entries {
            let rule_id = add_text(&mut out.texts, list, &entry.text);
            let e = Entry { rule_id, verdict };
            match &entry.value {
                CommandMatch::Comm(name) => subject(&mut out, SubjectKey::Comm(comm_key(name)), e),
                CommandMatch::Exe(path) => match identify(path) {
                    Some((dev, ino)) => subject(&mut out, SubjectKey::Exe(dev, ino), e),
                    None => out.missing_exes.push(path.clone()),
                },
            }
        }
    }
    for (entries, verdict, list, uid) in [
        (&config.uid.deny, Verdict::Deny, "uid.deny", true),
        (&config.uid.allow, Verdict::Allow, "uid.allow", true),
        (&config.gid.deny, Verdict::Deny, "gid.deny", false),
        (&config.gid.allow, Verdict::Allow, "gid.allow", false),
    ] {
        for entry in entries {
            let rule_id = add_text(&mut out.texts, list, &entry.text);
            let key = if uid { SubjectKey::Uid(entry.value) } else { SubjectKey::Gid(entry.value) };
            subject(&mut out, key, Entry { rule_id, verdict });
        }
    }

    let deny_ids: Vec<u32> = config.port.deny.iter().map(|e| add_text(&mut out.texts, "port.deny", &e.text)).collect();
    let allow_ids: Vec<u32> =
        config.port.allow.iter().map(|e| add_text(&mut out.texts, "port.allow", &e.text)).collect();
    let not_allowed = if config.port.allow.is_empty() {
        0
    } else {
        out.texts.push(PORT_NOT_ALLOWED.to_string());
        out.texts.len() as u32
    };
    for interval in port_intervals(&config.port) {
        let rule_id = match interval.source {
            PortSource::Default => continue,
            PortSource::Allow(i) => allow_ids[i],
            PortSource::Deny(i) => deny_ids[i],
            PortSource::NotAllowed => not_allowed,
        };
        let entry = Entry { rule_id, verdict: interval.source.verdict() };
        out.ports.push((interval.proto, interval.first, interval.last, entry));
    }
    out
}

impl CompiledRules {
    /// The kernel's port array as (slot, entry) for every port a rule names: denied, or
    /// allowed by a `port.allow` entry (whose hits the kernel counts there); other slots
    /// stay zero (no verdict: allowed).
    pub fn port_slots(&self) -> Vec<(u32, Entry)> {
        let mut slots = Vec::new();
        for &(proto, first, last, entry) in &self.ports {
            if entry.verdict != Verdict::None {
                let base = port_table_base(proto);
                slots.extend((u32::from(first)..=u32::from(last)).map(|port| (base + port, entry)));
            }
        }
        slots
    }
}

/// What `judge_port` in bpf/network.bpf.c decides for one port of `proto`, in Rust.
#[cfg(test)]
pub fn judge_port(rules: &CompiledRules, proto: PortProto, port: u16) -> (Verdict, u32) {
    let slots: BTreeMap<u32, Entry> = rules.port_slots().into_iter().collect();
    match slots.get(&(port_table_base(proto) + u32::from(port))) {
        Some(entry) if entry.verdict == Verdict::Deny => (Verdict::Deny, entry.rule_id),
        _ => (Verdict::Allow, 0),
    }
}

/// What `judge` in bpf/network.bpf.c decides, in Rust: the model the unit tests pin
/// down (the kernel runs the same steps over the same tables).
#[cfg(test)]
pub fn judge(
    table: &BTreeMap<AddrKey, Entry>,
    subjects: &BTreeMap<SubjectKey, Entry>,
    allowlist: bool,
    addr: IpAddr,
    who: &[SubjectKey],
) -> (Verdict, u32) {
    let hits: Vec<&Entry> = who.iter().filter_map(|k| subjects.get(k)).collect();
    if let Some(deny) = hits.iter().find(|e| e.verdict == Verdict::Deny) {
        return (Verdict::Deny, deny.rule_id);
    }
    let allow = hits.iter().any(|e| e.verdict == Verdict::Allow);
    let a = u128::from_be_bytes(addr16(addr));
    let best = table
        .iter()
        .filter(|((len, net), _)| {
            let mask = if *len == 0 { 0 } else { u128::MAX << (128 - len) };
            a & mask == u128::from_be_bytes(*net) & mask
        })
        .max_by_key(|((len, _), _)| *len)
        .map(|(_, e)| *e);
    let (verdict, rule_id) = match best {
        Some(e) if e.verdict != Verdict::None => (e.verdict, e.rule_id),
        _ if allowlist => (Verdict::Deny, NOT_ALLOWED),
        _ => (Verdict::Allow, 0),
    };
    if verdict == Verdict::Deny && allow {
        return (Verdict::Allow, 0);
    }
    (verdict, rule_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AllowDeny, Entry as ConfigEntry};

    fn cidr(text: &str) -> ConfigEntry<Cidr> {
        let (addr, len) = text.split_once('/').unwrap();
        ConfigEntry { value: Cidr::new(addr.parse().unwrap(), len.parse().unwrap()), text: format!("\"{text}\"") }
    }

    fn config(allow: &[&str], deny: &[&str]) -> NetworkConfig {
        let mut c = NetworkConfig::default();
        if !allow.is_empty() {
            c.cidr.allow = allow.iter().map(|t| cidr(t)).collect();
        }
        c.cidr.deny = deny.iter().map(|t| cidr(t)).collect();
        c
    }

    fn verdict(c: &NetworkConfig, addr: &str) -> (Verdict, u32) {
        let rules = compile(c, |_| None);
        judge(&rules.cidr, &rules.subjects, c.cidr_allow_differs_from_default(), addr.parse().unwrap(), &[])
    }

    #[test]
    fn ipv4_is_keyed_as_mapped_ipv6() {
        let key = cidr_key(&Cidr::new("10.1.0.0".parse().unwrap(), 16));
        assert_eq!(key.0, 112);
        assert_eq!(&key.1[10..14], &[0xff, 0xff, 10, 1]);
        assert_eq!(cidr_key(&Cidr::new("fd00::".parse().unwrap(), 8)).0, 8);
    }

    #[test]
    fn longest_prefix_decides_and_equal_prefixes_deny() {
        let c = config(&["0.0.0.0/0", "::/0", "10.1.2.0/24"], &["10.0.0.0/8", "10.1.2.3/32"]);
        assert_eq!(verdict(&c, "10.9.9.9"), (Verdict::Deny, 1));
        assert_eq!(verdict(&c, "10.1.2.4").0, Verdict::Allow); // more specific allow wins
        assert_eq!(verdict(&c, "10.1.2.3"), (Verdict::Deny, 2));
        assert_eq!(verdict(&c, "192.0.2.1").0, Verdict::Allow);
        // the same prefix allowed and denied: denied, whatever the order
        let c = config(&["0.0.0.0/0", "::/0", "192.0.2.0/24"], &["192.0.2.0/24"]);
        assert_eq!(verdict(&c, "192.0.2.1"), (Verdict::Deny, 1));
    }

    #[test]
    fn mapped_addresses_are_judged_as_ipv4() {
        let c = config(&[], &["10.254.249.3/32"]);
        assert_eq!(verdict(&c, "::ffff:10.254.249.3"), (Verdict::Deny, 1));
        assert_eq!(verdict(&c, "::ffff:10.254.249.4").0, Verdict::Allow);
    }

    #[test]
    fn allow_list_posture() {
        let c = config(&["10.254.249.0/24"], &[]);
        assert!(c.cidr_allow_differs_from_default());
        assert_eq!(verdict(&c, "10.254.249.9").0, Verdict::Allow);
        assert_eq!(verdict(&c, "10.254.250.9"), (Verdict::Deny, NOT_ALLOWED));
        assert_eq!(verdict(&c, "fd00::1"), (Verdict::Deny, NOT_ALLOWED));
        // ::/0 allows IPv6 only: IPv4 stays outside the allow list
        let c = config(&["::/0"], &[]);
        assert_eq!(verdict(&c, "fd00::1").0, Verdict::Allow);
        assert_eq!(verdict(&c, "10.0.0.1"), (Verdict::Deny, NOT_ALLOWED));
        // and 0.0.0.0/0 alone allows IPv4 only
        let c = config(&["0.0.0.0/0"], &[]);
        assert_eq!(verdict(&c, "10.0.0.1").0, Verdict::Allow);
        assert_eq!(verdict(&c, "fd00::1"), (Verdict::Deny, NOT_ALLOWED));
    }

    #[test]
    fn domains_join_the_trie_and_deny_wins_at_equal_prefix() {
        let mut c = config(&["0.0.0.0/0", "::/0", "192.0.2.7/32"], &[]);
        c.domain = AllowDeny {
            allow: vec![],
            deny: vec![ConfigEntry { value: "blocked.test".into(), text: "\"blocked.test\"".into() }],
        };
        let rules = compile(&c, |_| None);
        assert_eq!(rules.domains, vec![("blocked.test".to_string(), Verdict::Deny, 4)]);
        assert_eq!(rules.texts[3], "domain.deny blocked.test");
        let addrs: Vec<IpAddr> = vec!["192.0.2.7".parse().unwrap(), "2001:db8::7".parse().unwrap()];
        let table = rules.with_domains([(4, Verdict::Deny, addrs.as_slice())]);
        let j = |a: &str| judge(&table, &rules.subjects, false, a.parse().unwrap(), &[]);
        assert_eq!(j("192.0.2.7"), (Verdict::Deny, 4));
        assert_eq!(j("2001:db8::7"), (Verdict::Deny, 4));
        assert_eq!(j("2001:db8::8").0, Verdict::Allow);
    }

    #[test]
    fn subject_lists_deny_everything_or_exempt() {
        let mut c = config(&[], &["10.0.0.0/8"]);
        c.command.deny = vec![ConfigEntry { value: CommandMatch::Comm("nc".into()), text: "\"nc\"".into() }];
        c.command.allow = vec![
            ConfigEntry { value: CommandMatch::Exe("/usr/bin/curl".into()), text: "\"/usr/bin/curl\"".into() },
            ConfigEntry { value: CommandMatch::Exe("/missing".into()), text: "\"/missing\"".into() },
        ];
        c.uid.deny = vec![ConfigEntry { value: 1000, text: "1000".into() }];
        c.uid.allow = vec![ConfigEntry { value: 1000, text: "1000".into() }];
        let rules = compile(&c, |p| (p == "/usr/bin/curl").then_some((0x800001, 42)));
        assert_eq!(rules.missing_exes, vec!["/missing".to_string()]);
        assert_eq!(
            rules.texts,
            [
                "cidr.deny 10.0.0.0/8",
                "cidr.allow 0.0.0.0/0",
                "cidr.allow ::/0",
                "command.deny nc",
                "command.allow /usr/bin/curl",
                "command.allow /missing",
                "uid.deny 1000",
                "uid.allow 1000",
            ]
        );
        let j = |addr: &str, who: &[SubjectKey]| judge(&rules.cidr, &rules.subjects, false, addr.parse().unwrap(), who);
        // a denied command has no network at all
        assert_eq!(j("192.0.2.1", &[SubjectKey::Comm(comm_key("nc"))]), (Verdict::Deny, 4));
        // an allowed command is exempt from address denials
        assert_eq!(j("10.1.1.1", &[SubjectKey::Exe(0x800001, 42)]).0, Verdict::Allow);
        assert_eq!(j("10.1.1.1", &[]), (Verdict::Deny, 1));
        // uid 1000 both allowed and denied: denied
        assert_eq!(j("192.0.2.1", &[SubjectKey::Uid(1000)]), (Verdict::Deny, 7));
        // a deny by one selector beats an allow by another
        assert_eq!(
            j("10.1.1.1", &[SubjectKey::Exe(0x800001, 42), SubjectKey::Comm(comm_key("nc"))]),
            (Verdict::Deny, 4)
        );
    }

    fn port_list(texts: &[&str]) -> Vec<ConfigEntry<PortRange>> {
        texts
            .iter()
            .map(|t| ConfigEntry { value: crate::config::values::port(t).unwrap(), text: format!("\"{t}\"") })
            .collect()
    }

    fn ports(allow: &[&str], deny: &[&str]) -> AllowDeny<PortRange> {
        AllowDeny { allow: port_list(allow), deny: port_list(deny) }
    }

    fn at(intervals: &[PortInterval], proto: PortProto, port: u16) -> PortSource {
        let hits: Vec<&PortInterval> =
            intervals.iter().filter(|i| i.proto == proto && i.first <= port && port <= i.last).collect();
        assert_eq!(hits.len(), 1, "port {port} in {} intervals", hits.len());
        hits[0].source
    }

    /// The definition, port by port: the narrowest covering entry, deny at equal width,
    /// then the entry naming the protocol, then the first written.
    fn naive(p: &AllowDeny<PortRange>, proto: PortProto, port: u16) -> PortSource {
        let deny = p
            .deny
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.value.width(), false, e.value.proto.is_none(), i), e, PortSource::Deny(i)));
        let allow = p
            .allow
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.value.width(), true, e.value.proto.is_none(), i), e, PortSource::Allow(i)));
        deny.chain(allow)
            .filter(|(_, e, _)| e.value.applies_to(proto) && e.value.first <= port && port <= e.value.last)
            .min_by_key(|(order, _, _)| *order)
            .map(|(_, _, source)| source)
            .unwrap_or(if p.allow.is_empty() { PortSource::Default } else { PortSource::NotAllowed })
    }

    /// The intervals tile 0..=65535 once per protocol, TCP first, with no two neighbours
    /// of the same source.
    fn assert_tiles(intervals: &[PortInterval]) {
        let mut expect_next: Option<(PortProto, u32)> = None;
        for (n, i) in intervals.iter().enumerate() {
            assert!(i.first <= i.last, "{i:?}");
            match expect_next {
                Some((proto, next)) if proto == i.proto => {
                    assert_eq!(u32::from(i.first), next, "gap or overlap before {i:?}");
                    assert_ne!(intervals[n - 1].source, i.source, "unmerged neighbours at {i:?}");
                }
                _ => assert_eq!(i.first, 0, "{i:?} starts a protocol"),
            }
            expect_next = Some((i.proto, u32::from(i.last) + 1));
            if i.last == u16::MAX {
                expect_next = None;
            }
        }
        let starts: Vec<PortProto> = intervals.iter().filter(|i| i.first == 0).map(|i| i.proto).collect();
        assert_eq!(starts, PortProto::ALL);
        assert_eq!(intervals.last().map(|i| i.last), Some(u16::MAX));
    }

    #[test]
    fn no_port_entries_allow_every_port() {
        let table = port_intervals(&ports(&[], &[]));
        assert_tiles(&table);
        assert_eq!(table.len(), 2);
        assert!(table.iter().all(|i| i.source == PortSource::Default));
        let rules = compile(&NetworkConfig::default(), |_| None);
        assert!(rules.ports.is_empty() && rules.port_slots().is_empty());
        assert!(!rules.texts.iter().any(|t| t == PORT_NOT_ALLOWED));
    }

    #[test]
    fn a_range_denies_its_ports_of_both_protocols() {
        let table = port_intervals(&ports(&[], &["1-1023"]));
        assert_tiles(&table);
        for proto in PortProto::ALL {
            assert_eq!(at(&table, proto, 0), PortSource::Default);
            assert_eq!(at(&table, proto, 1), PortSource::Deny(0));
            assert_eq!(at(&table, proto, 1023), PortSource::Deny(0));
            assert_eq!(at(&table, proto, 1024), PortSource::Default);
        }
        assert_eq!(table.len(), 6);
    }

    #[test]
    fn the_narrowest_range_wins_nested_or_overlapping() {
        // nested: one allowed port inside a denied range, one denied inside that
        let table = port_intervals(&ports(&["20-30"], &["1-1023", "22"]));
        assert_tiles(&table);
        assert_eq!(at(&table, PortProto::Tcp, 19), PortSource::Deny(0));
        assert_eq!(at(&table, PortProto::Tcp, 20), PortSource::Allow(0));
        assert_eq!(at(&table, PortProto::Tcp, 22), PortSource::Deny(1));
        assert_eq!(at(&table, PortProto::Udp, 30), PortSource::Allow(0));
        assert_eq!(at(&table, PortProto::Udp, 31), PortSource::Deny(0));
        // overlapping, neither inside the other: where both cover, the narrower decides
        // (a longest-prefix split of the ranges would get 600 wrong)
        let table = port_intervals(&ports(&["512-1023"], &["1-1000"]));
        assert_tiles(&table);
        assert_eq!(at(&table, PortProto::Tcp, 511), PortSource::Deny(0));
        assert_eq!(at(&table, PortProto::Tcp, 512), PortSource::Allow(0));
        assert_eq!(at(&table, PortProto::Tcp, 600), PortSource::Allow(0));
        assert_eq!(at(&table, PortProto::Tcp, 1001), PortSource::Allow(0));
        // equal widths overlapping: the first written wins where both cover
        let table = port_intervals(&ports(&[], &["tcp/1-10", "tcp/5-14"]));
        assert_eq!(at(&table, PortProto::Tcp, 7), PortSource::Deny(0));
        assert_eq!(at(&table, PortProto::Tcp, 11), PortSource::Deny(1));
    }

    #[test]
    fn deny_wins_ties_then_the_protocol_named() {
        let table = port_intervals(&ports(&["80"], &["80"]));
        assert_eq!(at(&table, PortProto::Tcp, 80), PortSource::Deny(0));
        assert_eq!(at(&table, PortProto::Udp, 80), PortSource::Deny(0));
        // a protocol-specific allow does not beat a deny for both at equal width
        let table = port_intervals(&ports(&["tcp/25"], &["25"]));
        assert_eq!(at(&table, PortProto::Tcp, 25), PortSource::Deny(0));
        // a protocol-specific deny leaves the other protocol to the allow
        let table = port_intervals(&ports(&["25"], &["tcp/25"]));
        assert_eq!(at(&table, PortProto::Tcp, 25), PortSource::Deny(0));
        assert_eq!(at(&table, PortProto::Udp, 25), PortSource::Allow(0));
        // two allows (or two denies) at equal width: the one naming the protocol
        let table = port_intervals(&ports(&["53", "udp/53"], &[]));
        assert_eq!(at(&table, PortProto::Udp, 53), PortSource::Allow(1));
        assert_eq!(at(&table, PortProto::Tcp, 53), PortSource::Allow(0));
        let table = port_intervals(&ports(&[], &["53", "udp/53"]));
        assert_eq!(at(&table, PortProto::Udp, 53), PortSource::Deny(1));
        // a narrower entry for both protocols beats a wider one naming the protocol
        let table = port_intervals(&ports(&["tcp/1-1023"], &["25"]));
        assert_eq!(at(&table, PortProto::Tcp, 25), PortSource::Deny(0));
        assert_eq!(at(&table, PortProto::Tcp, 26), PortSource::Allow(0));
    }

    #[test]
    fn protocol_entries_touch_only_their_protocol() {
        let table = port_intervals(&ports(&[], &["udp/53", "tcp/22"]));
        assert_tiles(&table);
        assert_eq!(at(&table, PortProto::Udp, 53), PortSource::Deny(0));
        assert_eq!(at(&table, PortProto::Tcp, 53), PortSource::Default);
        assert_eq!(at(&table, PortProto::Tcp, 22), PortSource::Deny(1));
        assert_eq!(at(&table, PortProto::Udp, 22), PortSource::Default);
    }

    #[test]
    fn an_allow_list_denies_every_other_port_of_both_protocols() {
        let table = port_intervals(&ports(&["tcp/80", "443"], &[]));
        assert_tiles(&table);
        assert_eq!(at(&table, PortProto::Tcp, 80), PortSource::Allow(0));
        assert_eq!(at(&table, PortProto::Udp, 80), PortSource::NotAllowed);
        assert_eq!(at(&table, PortProto::Udp, 443), PortSource::Allow(1));
        assert_eq!(at(&table, PortProto::Tcp, 0), PortSource::NotAllowed);
        assert_eq!(at(&table, PortProto::Udp, 65535), PortSource::NotAllowed);
    }

    #[test]
    fn the_ends_of_the_port_space() {
        let table = port_intervals(&ports(&[], &["0", "65535"]));
        assert_tiles(&table);
        assert_eq!(at(&table, PortProto::Tcp, 0), PortSource::Deny(0));
        assert_eq!(at(&table, PortProto::Tcp, 1), PortSource::Default);
        assert_eq!(at(&table, PortProto::Udp, 65534), PortSource::Default);
        assert_eq!(at(&table, PortProto::Udp, 65535), PortSource::Deny(1));
        let table = port_intervals(&ports(&["tcp/22"], &["0-65535"]));
        assert_tiles(&table);
        assert_eq!(at(&table, PortProto::Tcp, 22), PortSource::Allow(0));
        assert_eq!(at(&table, PortProto::Tcp, 65535), PortSource::Deny(0));
        assert_eq!(at(&table, PortProto::Udp, 22), PortSource::Deny(0));
        assert_eq!(table.len(), 4);
    }

    #[test]
    fn the_flat_table_agrees_with_the_definition() {
        // Deterministic pseudo-random configs, every port of both protocols checked.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..40 {
            let entry = |next: &mut dyn FnMut(u64) -> u64| {
                let proto = ["", "tcp/", "udp/"][next(3) as usize];
                // small ranges clustered low, so that they overlap, plus the odd wide one
                let first = if next(8) == 0 { next(65536) } else { next(300) };
                let width = if next(6) == 0 { next(65536) } else { next(40) };
                let last = (first + width).min(65535);
                if first == last {
                    format!("{proto}{first}")
                } else {
                    format!("{proto}{first}-{last}")
                }
            };
            let allow: Vec<String> = (0..next(5)).map(|_| entry(&mut next)).collect();
            let deny: Vec<String> = (0..next(6)).map(|_| entry(&mut next)).collect();
            let allow: Vec<&str> = allow.iter().map(String::as_str).collect();
            let deny: Vec<&str> = deny.iter().map(String::as_str).collect();
            let p = ports(&allow, &deny);
            let table = port_intervals(&p);
            assert_tiles(&table);
            for i in &table {
                for port in i.first..=i.last {
                    assert_eq!(i.source, naive(&p, i.proto, port), "{allow:?} {deny:?} {:?}/{port}", i.proto);
                }
            }
        }
    }

    #[test]
    fn ports_compile_to_rule_ids_and_denied_slots() {
        let mut c = NetworkConfig { port: ports(&["22"], &["tcp/25", "1-1023"]), ..Default::default() };
        c.port.allow[0].text = "22".into(); // written as an integer
        let rules = compile(&c, |_| None);
        assert_eq!(
            &rules.texts[2..],
            ["port.deny tcp/25", "port.deny 1-1023", "port.allow 22", "not in network.port.allow",]
        );
        let j = |proto, port| judge_port(&rules, proto, port);
        assert_eq!(j(PortProto::Tcp, 25), (Verdict::Deny, 3));
        assert_eq!(j(PortProto::Udp, 25), (Verdict::Deny, 4));
        assert_eq!(j(PortProto::Tcp, 22), (Verdict::Allow, 0));
        assert_eq!(j(PortProto::Udp, 1023), (Verdict::Deny, 4));
        assert_eq!(j(PortProto::Udp, 0), (Verdict::Deny, 6));
        assert_eq!(j(PortProto::Tcp, 8080), (Verdict::Deny, 6));
        // every port of both protocols has a slot: 22 allowed by its rule (id 5, whose
        // hits the kernel counts there), the rest denied
        let slots = rules.port_slots();
        assert_eq!(slots.len(), PORT_SLOTS as usize);
        assert!(slots.iter().all(|(slot, _)| *slot < PORT_SLOTS));
        let allowed: Vec<_> = slots.iter().filter(|(_, e)| e.verdict == Verdict::Allow).collect();
        assert_eq!(allowed.len(), 2);
        assert!(allowed.iter().all(|(slot, e)| (*slot == 22 || *slot == (1 << 16) + 22) && e.rule_id == 5));
        // without the allow list only the denied ports have slots
        c.port.allow.clear();
        let rules = compile(&c, |_| None);
        assert_eq!(rules.port_slots().len(), 2 * 1023);
        assert_eq!(judge_port(&rules, PortProto::Tcp, 1024), (Verdict::Allow, 0));
    }

    #[test]
    fn comm_keys_are_truncated_like_the_kernel() {
        assert_eq!(&comm_key("nc")[..3], b"nc\0");
        let long = comm_key("a-very-long-command-name");
        assert_eq!(&long[..15], b"a-very-long-com");
        assert_eq!(long[15], 0);
    }
}
