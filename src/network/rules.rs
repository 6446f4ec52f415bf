//! Network rules compiled into the kernel's tables (pure code, unit-tested):
//! - one longest-prefix trie for CIDR and domain entries, IPv4 as IPv4-mapped IPv6
//!   (`::ffff:a.b.c.d`, prefix + 96), so one lookup serves both families; at equal
//!   prefixes deny wins;
//! - hash maps for the subject lists (command by comm or executable identity, uid,
//!   gid), where deny wins over allow for the same key.
//!
//! A rule id N is `texts[N - 1]`; 0 is "none".

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

use crate::bpf::sg;
use crate::config::{Cidr, CommandMatch, NetworkConfig};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// A trie entry that only keeps IPv6 prefixes off IPv4-mapped addresses.
    None = 0,
    Allow = 1,
    Deny = 2,
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

/// The value as written, without quotes.
fn unquote(text: &str) -> &str {
    let t = text.trim();
    if t.len() >= 2 && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\''))) {
        &t[1..t.len() - 1]
    } else {
        t
    }
}

/// Compiles the configuration; `identify` gives an executable's (s_dev, inode) and is a
/// parameter so that tests need no filesystem.
pub fn compile(config: &NetworkConfig, identify: impl Fn(&str) -> Option<(u32, u64)>) -> CompiledRules {
    let mut out = CompiledRules::default();
    let add_text = |texts: &mut Vec<String>, list: &str, text: &str| {
        texts.push(format!("{list} {}", unquote(text)));
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
    out
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
        _ if allowlist => (Verdict::Deny, u32::MAX),
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
        assert_eq!(verdict(&c, "10.254.250.9"), (Verdict::Deny, u32::MAX));
        assert_eq!(verdict(&c, "fd00::1"), (Verdict::Deny, u32::MAX));
        // ::/0 allows IPv6 only: IPv4 stays outside the allow list
        let c = config(&["::/0"], &[]);
        assert_eq!(verdict(&c, "fd00::1").0, Verdict::Allow);
        assert_eq!(verdict(&c, "10.0.0.1"), (Verdict::Deny, u32::MAX));
        // and 0.0.0.0/0 alone allows IPv4 only
        let c = config(&["0.0.0.0/0"], &[]);
        assert_eq!(verdict(&c, "10.0.0.1").0, Verdict::Allow);
        assert_eq!(verdict(&c, "fd00::1"), (Verdict::Deny, u32::MAX));
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

    #[test]
    fn comm_keys_are_truncated_like_the_kernel() {
        assert_eq!(&comm_key("nc")[..3], b"nc\0");
        let long = comm_key("a-very-long-command-name");
        assert_eq!(&long[..15], b"a-very-long-com");
        assert_eq!(long[15], 0);
    }
}
