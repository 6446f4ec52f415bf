//! The network module's decision (`judge_op` in bpf/network.bpf.c: subject lists, the
//! CIDR trie, the port array) against SPEC 3.2 written as plain Rust.

use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};

use super::{list, parse, run, seed, Rng, Tally};
use crate::agent::runtime::load_only;
use crate::bpf::network_decide::types::sg_test_net_case;
use crate::bpf::network_decide::NetworkDecideSkelBuilder;
use crate::bpf::{bytes_of, sg};
use crate::config::{CommandMatch, NetworkConfig, NetworkOp, Op, PortProto};
use crate::decode::OP_CONNECT;
use crate::network::rules::{self, addr16, CompiledRules, SubjectKey, PORT_NOT_ALLOWED};
use crate::rule_paths::rule_text;

// `flow.raw_hdr` (RAW_HDR_* in bpf/network.bpf.c, #defines that do not reach BTF).
const RAW_HDR_NONE: u32 = 0;
const RAW_HDR_READ: u32 = 1;
const RAW_HDR_UNREADABLE: u32 = 2;
// Protocol numbers (kernel UAPI).
const TCP: u16 = 6;
const UDP: u16 = 17;
const UDPLITE: u16 = 136;
const MPTCP: u16 = 262;
const ICMP: u16 = 1;
const RAW: u16 = 255;

const NOT_ALLOWED: u32 = sg::sg_rule::SG_RULE_NOT_ALLOWED.0;
const NO_HEADER: u32 = sg::sg_net_rule_id::SG_NET_RULE_NO_HEADER.0;

const CONFIGS: usize = 40;
const CASES_PER_CONFIG: usize = 100;

/// Addresses the rules and the cases are built around, so that they meet often.
const V4_BASES: [[u8; 4]; 5] = [[10, 1, 2, 3], [10, 1, 200, 7], [192, 168, 5, 9], [169, 254, 169, 254], [8, 8, 4, 4]];
const V6_BASES: [&str; 4] = ["fd00:1:2::3", "fd00:1:2:ff::9", "2001:db8::1", "fe80::1"];
const COMMS: [&str; 5] = ["nc", "curl", "sshd", "exactly15chars_", "wget"];
const EXES: [&str; 3] = ["/usr/bin/nc", "/opt/app/client", "/usr/sbin/sshd"];

/// A fake identity for an executable path: the compiler and the cases agree on it.
fn exe_identity(path: &str) -> Option<(u32, u64)> {
    EXES.iter().position(|&e| e == path).map(|i| (0x0070_0001, 1000 + i as u64))
}

#[derive(Clone, Debug)]
struct Case {
    op: NetworkOp,
    protocol: u16,
    /// The address judged (source for bind, accept, recvmsg) and the other end.
    judged: IpAddr,
    other: IpAddr,
    sport: u16,
    dport: u16,
    to_peer: bool,
    no_addr: bool,
    raw_hdr: u32,
    hdr_dst: IpAddr,
    comm: &'static str,
    exe: Option<&'static str>,
    uid: u32,
    gid: u32,
    exempt: bool,
}

impl Case {
    fn judges_src(&self) -> bool {
        matches!(self.op, NetworkOp::Bind | NetworkOp::Accept | NetworkOp::Recvmsg)
    }
}

fn v4(bytes: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(bytes))
}

fn random_addr(rng: &mut Rng) -> IpAddr {
    match rng.below(5) {
        0 | 1 => {
            let mut a = rng.pick(&V4_BASES);
            // keep the network, vary the host bits now and then
            if rng.one_in(2) {
                a[3] = rng.below(256) as u8;
            }
            if rng.one_in(4) {
                a[2] = rng.below(256) as u8;
            }
            v4(a)
        }
        2 => {
            let base: Ipv6Addr = rng.pick(&V6_BASES).parse().expect("v6 base");
            let mut o = base.octets();
            if rng.one_in(2) {
                o[15] = rng.below(256) as u8;
            }
            if rng.one_in(4) {
                o[7] = rng.below(256) as u8;
            }
            IpAddr::V6(Ipv6Addr::from(o))
        }
        // an IPv4 address spelled as IPv4-mapped IPv6: the kernel sees the same bytes
        3 => IpAddr::V6(Ipv4Addr::from(rng.pick(&V4_BASES)).to_ipv6_mapped()),
        _ => IpAddr::V4(Ipv4Addr::from(rng.next() as u32)),
    }
}

fn random_cidr(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 | 1 => {
            let len = rng.pick(&[0u8, 8, 16, 20, 24, 24, 28, 32, 32]);
            let a = u32::from_be_bytes(rng.pick(&V4_BASES));
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            format!("{}/{len}", Ipv4Addr::from(a & mask))
        }
        2 | 3 => {
            let len = rng.pick(&[0u8, 16, 32, 48, 64, 100, 120, 128]);
            let a = u128::from_be_bytes(rng.pick(&V6_BASES).parse::<Ipv6Addr>().expect("v6").octets());
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            format!("{}/{len}", Ipv6Addr::from(a & mask))
        }
        // an IPv4 network written as IPv4-mapped IPv6 (it is IPv4)
        4 => {
            let len = rng.pick(&[104u8, 112, 120, 128]);
            let a = u32::from_be_bytes(rng.pick(&V4_BASES));
            let mask = u32::MAX.checked_shl(32 - (u32::from(len) - 96)).unwrap_or(0);
            format!("::ffff:{}/{len}", Ipv4Addr::from(a & mask))
        }
        // an IPv6 prefix that covers the IPv4-mapped space: it must not reach IPv4
        _ => rng.pick(&["::/0", "::/64", "::/80", "0.0.0.0/0"]).to_string(),
    }
}

fn random_port(rng: &mut Rng) -> String {
    let proto = rng.pick(&["", "", "tcp/", "udp/"]);
    let first = rng.pick(&[0u16, 22, 25, 53, 80, 443, 1000, 1023, 1024, 5000, 8080, 65535]);
    let text = match rng.below(3) {
        0 => format!("{first}"),
        _ => {
            let last = first.saturating_add(rng.pick(&[1u16, 2, 10, 100, 1000, 30000]));
            format!("{first}-{last}")
        }
    };
    format!("{proto}{text}")
}

fn random_config(rng: &mut Rng) -> String {
    let mut t = String::from("[network]\nenable = true\nmode = \"block\"\n");
    let n = |rng: &mut Rng, max: usize| rng.below(max + 1);
    let many = |rng: &mut Rng, max: usize, f: &mut dyn FnMut(&mut Rng) -> String| -> Vec<String> {
        (0..n(rng, max)).map(|_| f(rng)).collect()
    };
    let deny = many(rng, 4, &mut random_cidr);
    if rng.one_in(2) {
        let allow = many(rng, 3, &mut random_cidr);
        t += &format!("cidr = {{ allow = {}, deny = {} }}\n", list(&allow), list(&deny));
    } else {
        t += &format!("cidr = {{ deny = {} }}\n", list(&deny));
    }
    let mut command = |rng: &mut Rng| if rng.one_in(2) { rng.pick(&COMMS) } else { rng.pick(&EXES) }.to_string();
    if rng.one_in(2) {
        let (a, d) = (many(rng, 2, &mut command), many(rng, 2, &mut command));
        t += &format!("command = {{ allow = {}, deny = {} }}\n", list(&a), list(&d));
    }
    for key in ["uid", "gid"] {
        if rng.one_in(2) {
            let ids = |rng: &mut Rng| -> String {
                let v: Vec<String> = (0..n(rng, 2)).map(|_| rng.pick(&[0u32, 1000, 1001, 4242]).to_string()).collect();
                format!("[{}]", v.join(", "))
            };
            let (a, d) = (ids(rng), ids(rng));
            t += &format!("{key} = {{ allow = {a}, deny = {d} }}\n");
        }
    }
    if rng.one_in(2) {
        let (a, d) = (many(rng, 3, &mut random_port), many(rng, 3, &mut random_port));
        t += &format!("port = {{ allow = {}, deny = {} }}\n", list(&a), list(&d));
    }
    t
}

fn random_case(rng: &mut Rng) -> Case {
    let op = rng.pick(NetworkOp::ALL);
    let raw_hdr = if rng.one_in(6) { rng.pick(&[RAW_HDR_READ, RAW_HDR_UNREADABLE]) } else { RAW_HDR_NONE };
    Case {
        op,
        protocol: rng.pick(&[TCP, TCP, UDP, UDP, MPTCP, UDPLITE, ICMP, RAW]),
        judged: random_addr(rng),
        other: random_addr(rng),
        sport: rng.pick(&[0u16, 22, 25, 53, 999, 1023, 1024, 5001, 8080, 65535]),
        dport: rng.pick(&[0u16, 22, 25, 53, 80, 443, 1023, 1500, 8080, 65535]),
        to_peer: rng.one_in(4),
        no_addr: rng.one_in(10),
        raw_hdr,
        hdr_dst: random_addr(rng),
        comm: rng.pick(&COMMS),
        exe: if rng.one_in(2) { Some(rng.pick(&EXES)) } else { None },
        uid: rng.pick(&[0u32, 1000, 1001, 4242, 7]),
        gid: rng.pick(&[0u32, 1000, 1001, 4242, 7]),
        exempt: rng.one_in(10),
    }
}

/// What the kernel said: (denied, the rule's text) — the text only for a denial.
type Outcome = (bool, Option<String>);

fn text_of(rules: &CompiledRules, rule_id: u32) -> String {
    match rule_id {
        NOT_ALLOWED => "<not in cidr.allow>".into(),
        NO_HEADER => "<raw header unreadable>".into(),
        0 => "<none>".into(),
        id => rules.texts.get(id as usize - 1).cloned().unwrap_or_else(|| format!("<unknown id {id}>")),
    }
}

// ---- the model: SPEC 3.2, from the parsed config ----

fn is_v4(addr: IpAddr) -> Option<u32> {
    match addr {
        IpAddr::V4(a) => Some(u32::from(a)),
        IpAddr::V6(a) => a.to_ipv4_mapped().map(u32::from),
    }
}

/// The longest CIDR entry covering `addr` (IPv4 entries cover IPv4 and IPv4-mapped
/// addresses only, IPv6 entries the rest); equal prefixes: deny wins, then the first
/// written. None: no entry covers it.
fn cidr_entry(config: &NetworkConfig, addr: IpAddr) -> Option<(bool, String)> {
    let mut best: Option<(u8, bool, String)> = None;
    for (entries, deny, name) in [(&config.cidr.deny, true, "cidr.deny"), (&config.cidr.allow, false, "cidr.allow")] {
        for e in entries {
            let covers = match (e.value.addr, is_v4(addr), addr) {
                (IpAddr::V4(net), Some(a), _) => {
                    let mask = u32::MAX.checked_shl(32 - u32::from(e.value.prefix_len)).unwrap_or(0);
                    a & mask == u32::from(net)
                }
                (IpAddr::V6(net), None, IpAddr::V6(a)) => {
                    let mask = u128::MAX.checked_shl(128 - u32::from(e.value.prefix_len)).unwrap_or(0);
                    u128::from(a) & mask == u128::from(net)
                }
                _ => false,
            };
            let len = e.value.prefix_len;
            if covers && best.as_ref().is_none_or(|(l, d, _)| len > *l || (len == *l && deny && !*d)) {
                best = Some((len, deny, format!("{name} {}", rule_text(&e.text))));
            }
        }
    }
    best.map(|(_, deny, text)| (deny, text))
}

fn command_matches(m: &CommandMatch, case: &Case) -> bool {
    match m {
        CommandMatch::Comm(name) => name.as_str() == case.comm,
        CommandMatch::Exe(path) => case.exe == Some(path.as_str()),
    }
}

fn model(config: &NetworkConfig, case: &Case) -> Outcome {
    let deny = |text: String| (true, Some(text));
    // Subject deny lists refuse everything: by comm, executable, uid, gid (the first
    // that matches names the denial).
    let comm_deny = config
        .command
        .deny
        .iter()
        .find(|e| matches!(e.value, CommandMatch::Comm(_)) && command_matches(&e.value, case));
    let exe_deny =
        config.command.deny.iter().find(|e| matches!(e.value, CommandMatch::Exe(_)) && command_matches(&e.value, case));
    if let Some(e) = comm_deny.or(exe_deny) {
        return deny(format!("command.deny {}", rule_text(&e.text)));
    }
    if let Some(e) = config.uid.deny.iter().find(|e| e.value == case.uid) {
        return deny(format!("uid.deny {}", rule_text(&e.text)));
    }
    if let Some(e) = config.gid.deny.iter().find(|e| e.value == case.gid) {
        return deny(format!("gid.deny {}", rule_text(&e.text)));
    }
    // Subject allow lists (and the socket's exemption mark) lift address denials.
    let exempt = case.exempt
        || config.command.allow.iter().any(|e| command_matches(&e.value, case))
        || config.uid.allow.iter().any(|e| e.value == case.uid)
        || config.gid.allow.iter().any(|e| e.value == case.gid);
    let allowlist = config.cidr_allow_differs_from_default();
    let address = |addr: IpAddr| -> Option<String> {
        let text = match cidr_entry(config, addr) {
            Some((true, text)) => text,
            Some((false, _)) => return None,
            None if allowlist => "<not in cidr.allow>".into(),
            None => return None,
        };
        if exempt {
            None
        } else {
            Some(text)
        }
    };
    if !case.no_addr {
        if let Some(text) = address(case.judged) {
            return deny(text);
        }
    }
    match case.raw_hdr {
        RAW_HDR_UNREADABLE => return deny("<raw header unreadable>".into()),
        RAW_HDR_READ => {
            if let Some(text) = address(case.hdr_dst) {
                return deny(text);
            }
        }
        _ => {}
    }
    // Ports: bind's local port (0: the kernel picks), connect's and sendmsg's
    // destination (not a send to the connected peer), of TCP/MPTCP and UDP/UDP-Lite.
    let port = match case.op {
        NetworkOp::Bind if case.sport != 0 => case.sport,
        NetworkOp::Connect => case.dport,
        NetworkOp::Sendmsg if !case.to_peer => case.dport,
        _ => return (false, None),
    };
    let proto = match case.protocol {
        TCP | MPTCP => PortProto::Tcp,
        UDP | UDPLITE => PortProto::Udp,
        _ => return (false, None),
    };
    // The narrowest range wins, then deny, then an entry naming the protocol, then the
    // first written.
    // (rank: width, allow, for both protocols, index), deny, text
    type Candidate = ((u32, bool, bool, usize), bool, String);
    let mut best: Option<Candidate> = None;
    for (entries, is_deny, name) in [(&config.port.deny, true, "port.deny"), (&config.port.allow, false, "port.allow")]
    {
        for (i, e) in entries.iter().enumerate() {
            let r = e.value;
            if r.first <= port && port <= r.last && r.applies_to(proto) {
                let rank = (r.width(), !is_deny, r.proto.is_none(), i);
                if best.as_ref().is_none_or(|(b, _, _)| rank < *b) {
                    best = Some((rank, is_deny, format!("{name} {}", rule_text(&e.text))));
                }
            }
        }
    }
    match best {
        Some((_, true, text)) => deny(text),
        Some((_, false, _)) => (false, None),
        None if !config.port.allow.is_empty() => deny(PORT_NOT_ALLOWED.into()),
        None => (false, None),
    }
}

// ---- the kernel side ----

fn op_code(op: NetworkOp) -> u32 {
    OP_CONNECT + NetworkOp::ALL.iter().position(|&o| o == op).expect("network op") as u32
}

fn encode(case: &Case) -> sg_test_net_case {
    let mut c = sg_test_net_case::default();
    let f = &mut c.f;
    let (judged, other) = (addr16(case.judged), addr16(case.other));
    if case.judges_src() {
        (f.src, f.dst) = (judged, other);
        f.judge_src = 1;
    } else {
        (f.src, f.dst) = (other, judged);
    }
    f.sport = case.sport;
    f.dport = case.dport;
    f.family = if is_v4(case.judged).is_some() { 2 } else { 10 };
    f.protocol = case.protocol;
    f.to_peer = u32::from(case.to_peer);
    f.no_addr = u32::from(case.no_addr);
    f.raw_hdr = case.raw_hdr;
    f.hdr_dst = addr16(case.hdr_dst);
    let w = &mut c.w;
    w.comm.comm = rules::comm_key(case.comm);
    if let Some((dev, ino)) = case.exe.and_then(exe_identity) {
        w.exe.dev = dev;
        w.exe.ino = ino;
    }
    w.uid = case.uid;
    w.gid = case.gid;
    w.exempt = u32::from(case.exempt);
    c.op = op_code(case.op);
    c
}

/// Loads the wrapper object with the module's switches and maps for `config`, runs
/// every case and checks it.
fn check_config(text: &str, cases: &[Case], tally: &mut Tally) {
    let config = parse(text).network;
    let rules = rules::compile(&config, exe_identity);
    let mut storage = MaybeUninit::uninit();
    let mut open = NetworkDecideSkelBuilder::default().open(&mut storage).expect("open network_decide");
    // The switches src/network/mod.rs sets from the same compiled rules.
    let has = |f: fn(&SubjectKey) -> bool| rules.subjects.keys().any(f);
    let rodata = open.maps.rodata_data.as_deref_mut().expect("rodata");
    rodata.sg_allowlist = u32::from(config.cidr_allow_differs_from_default());
    rodata.sg_have_comm = u32::from(has(|k| matches!(k, SubjectKey::Comm(_))));
    rodata.sg_have_exe = u32::from(has(|k| matches!(k, SubjectKey::Exe(..))));
    rodata.sg_have_uid = u32::from(has(|k| matches!(k, SubjectKey::Uid(_))));
    rodata.sg_have_gid = u32::from(has(|k| matches!(k, SubjectKey::Gid(_))));
    rodata.sg_have_ports = u32::from(!rules.ports.is_empty());
    let size = |n: usize| n.max(1) as u32;
    let maps = &mut open.maps;
    maps.sg_net_cidr.set_max_entries(size(rules.cidr.len())).expect("size");
    for (map, kind) in
        [(&mut maps.sg_net_comm, 0), (&mut maps.sg_net_exe, 1), (&mut maps.sg_net_uid, 2), (&mut maps.sg_net_gid, 3)]
    {
        let n = rules
            .subjects
            .keys()
            .filter(|k| match k {
                SubjectKey::Comm(_) => kind == 0,
                SubjectKey::Exe(..) => kind == 1,
                SubjectKey::Uid(_) => kind == 2,
                SubjectKey::Gid(_) => kind == 3,
            })
            .count();
        map.set_max_entries(size(n)).expect("size");
    }
    if !rules.ports.is_empty() {
        maps.sg_net_ports.set_max_entries(rules::PORT_SLOTS).expect("size");
    }
    load_only(open.open_object_mut(), |name| name == "sg_test_net_judge");
    let mut skel = open.load().expect("load network_decide");

    let maps = &skel.maps;
    for (key, entry) in rules.with_domains([]) {
        let (k, v) = rules::encode_addr(&key, &entry);
        maps.sg_net_cidr.update(bytes_of(&k), bytes_of(&v), MapFlags::ANY).expect("cidr");
    }
    for (key, entry) in &rules.subjects {
        let value = sg::sg_net_rule { rule_id: entry.rule_id, verdict: entry.verdict as u32 };
        let (map, k): (&dyn MapCore, Vec<u8>) = match *key {
            SubjectKey::Comm(comm) => (&maps.sg_net_comm, bytes_of(&sg::sg_comm_key { comm }).to_vec()),
            SubjectKey::Exe(dev, ino) => {
                (&maps.sg_net_exe, bytes_of(&sg::sg_inode_key { dev, ino, ..Default::default() }).to_vec())
            }
            SubjectKey::Uid(uid) => (&maps.sg_net_uid, uid.to_ne_bytes().to_vec()),
            SubjectKey::Gid(gid) => (&maps.sg_net_gid, gid.to_ne_bytes().to_vec()),
        };
        map.update(&k, bytes_of(&value), MapFlags::ANY).expect("subjects");
    }
    crate::network::write_ports(&maps.sg_net_ports, &rules.port_slots()).expect("ports");

    tally.configs += 1;
    for case in cases {
        skel.maps.bss_data.as_deref_mut().expect("bss").sg_test_net = encode(case);
        run(&skel.progs.sg_test_net_judge);
        let out = skel.maps.bss_data.as_deref().expect("bss").sg_test_net;
        let denied = out.verdict == sg::sg_verdict::SG_VERDICT_DENY.0;
        let kernel: Outcome = (denied, denied.then(|| text_of(&rules, out.rule_id)));
        tally.note(match &kernel.1 {
            None => "allowed".to_string(),
            Some(t) if t.starts_with('<') => t.clone(),
            Some(t) => format!("denied by {}", t.split(' ').next().unwrap_or("")),
        });
        tally.check(kernel, model(&config, case), || format!("{case:?}\n  config:\n{text}"));
    }
}

/// The edge cases docs/network.md and SPEC 3.2 promise, each a config and cases.
fn edge_cases() -> Vec<(String, Vec<Case>)> {
    let base = Case {
        op: NetworkOp::Connect,
        protocol: TCP,
        judged: v4([10, 1, 2, 3]),
        other: v4([10, 9, 9, 9]),
        sport: 40000,
        dport: 443,
        to_peer: false,
        no_addr: false,
        raw_hdr: RAW_HDR_NONE,
        hdr_dst: v4([0, 0, 0, 0]),
        comm: "curl",
        exe: None,
        uid: 1000,
        gid: 1000,
        exempt: false,
    };
    let with = |f: &dyn Fn(&mut Case)| {
        let mut c = base.clone();
        f(&mut c);
        c
    };
    let at = |a: &str| -> IpAddr { a.parse().expect("address") };
    vec![
        // longest prefix wins both ways; equal prefixes: deny wins
        (
            "[network]\ncidr = { allow = [\"10.1.2.0/24\", \"0.0.0.0/0\", \"::/0\"], deny = [\"10.0.0.0/8\", \"10.1.2.3/32\"] }\n".into(),
            vec![
                with(&|c| c.judged = at("10.1.2.3")),
                with(&|c| c.judged = at("10.1.2.4")),
                with(&|c| c.judged = at("10.7.0.1")),
                with(&|c| c.judged = at("11.0.0.1")),
            ],
        ),
        (
            "[network]\ncidr = { allow = [\"10.0.0.0/8\"], deny = [\"10.0.0.0/8\"] }\n".into(),
            vec![with(&|c| c.judged = at("10.0.0.1")), with(&|c| c.judged = at("fd00::1"))],
        ),
        // IPv4-mapped IPv6: written and seen as IPv4; ::/0 does not cover IPv4
        (
            "[network]\ncidr = { allow = [\"::/0\"], deny = [\"::ffff:192.168.0.0/112\"] }\n".into(),
            vec![
                with(&|c| c.judged = at("192.168.5.9")),
                with(&|c| c.judged = at("::ffff:192.168.5.9")),
                with(&|c| c.judged = at("8.8.8.8")),
                with(&|c| c.judged = at("2001:db8::1")),
            ],
        ),
        // subject lists: deny refuses everything, allow exempts from address denials
        (
            "[network]\ncidr = { deny = [\"0.0.0.0/0\"] }\ncommand = { allow = [\"sshd\"], deny = [\"nc\"] }\nuid = { allow = [0], deny = [4242] }\n".into(),
            vec![
                with(&|c| c.comm = "nc"),
                with(&|c| c.comm = "sshd"),
                with(&|c| c.uid = 0),
                with(&|c| (c.uid, c.comm) = (4242, "sshd")),
                with(&|c| c.no_addr = true),
                with(&|c| (c.no_addr, c.comm) = (true, "nc")),
            ],
        ),
        // ports: narrowest range wins, deny wins ties, a non-empty allow list denies the rest
        (
            "[network]\nport = { allow = [\"tcp/1000-2000\", \"443\"], deny = [\"1-1023\", \"tcp/1500\", \"udp/443\"] }\n".into(),
            vec![
                with(&|c| c.dport = 1500),
                with(&|c| c.dport = 1499),
                with(&|c| c.dport = 1000),
                with(&|c| c.dport = 443),
                with(&|c| (c.dport, c.protocol) = (443, UDP)),
                with(&|c| (c.dport, c.protocol) = (443, UDPLITE)),
                with(&|c| (c.dport, c.protocol) = (1500, MPTCP)),
                with(&|c| c.dport = 8080),
                with(&|c| (c.op, c.sport) = (NetworkOp::Bind, 22)),
                with(&|c| (c.op, c.sport) = (NetworkOp::Bind, 0)),
                with(&|c| (c.op, c.to_peer, c.dport) = (NetworkOp::Sendmsg, true, 22)),
                with(&|c| (c.op, c.dport) = (NetworkOp::Accept, 22)),
                with(&|c| (c.dport, c.protocol) = (22, ICMP)),
            ],
        ),
        // a raw IP header's destination is judged too
        (
            "[network]\ncidr = { deny = [\"169.254.169.254/32\"] }\n".into(),
            vec![
                with(&|c| (c.raw_hdr, c.hdr_dst) = (RAW_HDR_READ, at("169.254.169.254"))),
                with(&|c| (c.raw_hdr, c.hdr_dst) = (RAW_HDR_READ, at("10.0.0.1"))),
                with(&|c| c.raw_hdr = RAW_HDR_UNREADABLE),
            ],
        ),
    ]
}

#[test]
#[ignore = "loads BPF programs (root): tests/host/run.sh"]
fn network_decisions_match_the_model() {
    let mut rng = Rng::new(seed("network"));
    let mut tally = Tally::default();
    for (text, cases) in edge_cases() {
        check_config(&text, &cases, &mut tally);
    }
    for _ in 0..CONFIGS {
        let text = random_config(&mut rng);
        let cases: Vec<Case> = (0..CASES_PER_CONFIG).map(|_| random_case(&mut rng)).collect();
        check_config(&text, &cases, &mut tally);
    }
    tally.finish("network");
}
