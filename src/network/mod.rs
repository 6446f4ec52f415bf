//! The network module (SPEC section 3.2): decisions on connect, sendmsg, accept,
//! recvmsg, getpeername and bind by CIDR and domain (one longest-prefix trie), by
//! command, uid and gid, and by port (bind, connect, sendmsg: one array slot per
//! port). Without BPF LSM, TCP connects and accepts are reported (audit-only) from the
//! `inet_sock_set_state` tracepoint. Kernel side:
//! bpf/network.bpf.c; the hooks and why are listed there and in docs/network.md.
//!
//! Domains are resolved on this module's thread between ring-buffer polls, and the
//! trie is updated in place as their addresses change.

pub mod dns;
pub mod domains;
mod owners;
pub mod rules;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use libbpf_rs::skel::OpenSkel;
use libbpf_rs::{MapCore, MapFlags};

use crate::agent::module::{ModuleContext, ModuleState, Prepared};
use crate::agent::runtime::{self, load_only, target_code, Decoder as RingDecoder, Program};
use crate::bpf::network::types::sg_net_owner;
use crate::bpf::network::{NetworkSkel, NetworkSkelBuilder, OpenNetworkSkel};
use crate::bpf::{bytes_of, decode, sg};
use crate::config::Op;
use crate::config::{Mode, NetworkConfig, NetworkOp};
use crate::decode::{event_record, ExeCache, RuleTable, KIND_NET, OP_ACCEPT, OP_CONNECT, OP_RECVMSG};
use crate::logging::{Level, Record, Value};
use crate::probe::{Capabilities, Enforcement, HookKind};
use domains::Domains;
use rules::{AddrKey, CompiledRules, Entry, SubjectKey};

pub const NAME: &str = "network";

// Rule ids of refusals no entry names (bpf/safeguard.h), and their text in records.
const RULE_NO_OWNER: u32 = sg::sg_net_rule_id::SG_NET_RULE_NO_OWNER.0;
const RULE_NO_HEADER: u32 = sg::sg_net_rule_id::SG_NET_RULE_NO_HEADER.0;
const NO_OWNER: &str = "socket owner unknown (command, exe or gid deny rules apply)";
const NO_HEADER: &str = "raw IP header not readable (address rules apply)";

/// The iterator that lists the sockets older than this instance, with their owners.
const SEED_OWNERS: &str = "sg_net_seed_owners";

const RESOLV_CONF: &str = "/etc/resolv.conf";
const DNS_TIMEOUT: Duration = Duration::from_secs(1);

/// The hook table (bpf/network.bpf.c; why these hooks: docs/network.md). connect,
/// sendmsg and bind also note the owners of datagram sockets, for recvmsg; sendmsg
/// judges a TCP fast-open send (a connect without connect(2)) for connect. Without
/// BPF LSM the state tracepoint reports TCP connects and accepts, audit-only.
pub const PROGRAMS: &[Program<NetworkOp>] = &[
    Program::new("sg_net_connect", HookKind::Lsm, "socket_connect", &[NetworkOp::Connect, NetworkOp::Recvmsg]),
    Program::new(
        "sg_net_sendmsg",
        HookKind::Lsm,
        "socket_sendmsg",
        &[NetworkOp::Sendmsg, NetworkOp::Recvmsg, NetworkOp::Connect],
    ),
    Program::new("sg_net_bind", HookKind::Lsm, "socket_bind", &[NetworkOp::Bind, NetworkOp::Recvmsg]),
    Program::new("sg_net_getpeername", HookKind::Lsm, "socket_getpeername", &[NetworkOp::Getpeername]),
    // A listener's owner, for its accepts and (MPTCP) its connections' subflows.
    Program::new("sg_net_listen", HookKind::Lsm, "socket_listen", &[NetworkOp::Accept, NetworkOp::Connect]),
    Program::new("sg_net_accept", HookKind::Lsm, "inet_conn_request", &[NetworkOp::Accept]),
    Program::new("sg_net_recv", HookKind::Lsm, "socket_sock_rcv_skb", &[NetworkOp::Recvmsg]),
    Program::new("sg_net_state", HookKind::Tracepoint, "inet_sock_set_state", &[NetworkOp::Connect, NetworkOp::Accept]),
    // MPTCP subflows the path manager connects itself (kernel_connect(): no
    // socket_connect): judged where their address is known, refused as their socket
    // is created.
    Program::new("sg_net_subflow_enter", HookKind::Function, SUBFLOW_CONNECT, &[NetworkOp::Connect]),
    Program::new("sg_net_subflow_exit", HookKind::Function, SUBFLOW_CONNECT, &[NetworkOp::Connect]),
    Program::new("sg_net_subflow_socket", HookKind::Lsm, "socket_create", &[NetworkOp::Connect]),
];

/// Where MPTCP connects a subflow (absent without MPTCP, as in Debian's 5.10).
const SUBFLOW_CONNECT: &str = "__mptcp_subflow_connect";

/// Decides what the module does on this kernel with this config; the thread starts later.
pub fn prepare(config: &NetworkConfig, caps: &Capabilities, agent_pidns: u32) -> Prepared {
    let config = config.clone();
    let state = ModuleState::of(config.enable, config.mode, caps);
    let lsm = caps.enforcement() == Enforcement::Full;
    let hooks: Vec<&'static str> = PROGRAMS.iter().map(|p| p.hook).filter(|hook| caps.hook_present(hook)).collect();
    runtime::prepare(state, move || {
        let mut rules = rules::compile(&config, |path| {
            crate::rule_paths::identify_on_host(path).map(|identity| (identity.dev, identity.ino))
        });
        for path in &rules.missing_exes {
            log::warn!("network: command {path:?} does not exist; its rule is ignored until the next start");
        }
        let known = LAST_ANSWERS.lock().map(|last| last.clone()).unwrap_or_default();
        let domains = Domains::new(&rules.domains, &known);
        let names = Arc::default();
        let texts = crate::decode::rule_texts(std::mem::take(&mut rules.texts));
        let trie = Trie::default();
        Ok(Network { config, lsm, hooks, agent_pidns, rules, texts, domains, trie, names, unmarked: false })
    })
}

/// Everything the module's thread needs, decided before it starts.
struct Network {
    config: NetworkConfig,
    /// BPF LSM is available: the LSM hooks judge (and block in block mode).
    lsm: bool,
    /// Hooks this kernel has.
    hooks: Vec<&'static str>,
    agent_pidns: u32,
    /// Without its texts (`texts`, shared with the decoder and the rule hits).
    rules: CompiledRules,
    texts: crate::decode::RuleTexts,
    domains: Domains,
    trie: Trie,
    /// Resolved address -> domain, kept current by the resolver, read by the decoder.
    names: Arc<Mutex<HashMap<IpAddr, String>>>,
    /// A query's socket could not be marked as the agent's own (reported once).
    unmarked: bool,
}

impl Network {
    fn op(&self, op: NetworkOp) -> bool {
        self.config.ops.contains(&op)
    }

    /// Accepts and datagrams are judged by the socket's owner (BPF LSM only).
    fn tracks_owners(&self) -> bool {
        self.lsm && (self.op(NetworkOp::Accept) || self.op(NetworkOp::Recvmsg))
    }

    /// Whether a program loads: BPF LSM for the LSM hooks (the tracepoint stands in
    /// without it), a hook this kernel has, and an op in scope it serves; the owner
    /// iterator where owners are tracked.
    fn loads(&self, program: &str) -> bool {
        if program == SEED_OWNERS {
            return self.tracks_owners();
        }
        let Some(p) = PROGRAMS.iter().find(|p| p.name == program) else { return false };
        if p.name.starts_with("sg_net_subflow_") {
            // the three programs or none (socket_create alone would only cost)
            let hooks = [SUBFLOW_CONNECT, "socket_create"];
            return self.lsm && self.op(NetworkOp::Connect) && hooks.iter().all(|hook| self.hooks.contains(hook));
        }
        let hook_usable = match p.kind {
            HookKind::Lsm => self.lsm && self.hooks.contains(&p.hook),
            _ => !self.lsm,
        };
        hook_usable && p.ops.iter().any(|&op| self.op(op))
    }

    /// Resolves the domains that are due and brings the trie up to date. The queries'
    /// sockets are marked as the agent's own in `owners` (sg_net_owners): no rule
    /// applies to them, or a port or address rule that covers the name server would
    /// keep the agent from resolving the very names it denies.
    fn resolve_round(&mut self, cidr: &dyn MapCore, owners: &dyn MapCore, ctx: &ModuleContext) {
        let servers = dns::name_servers(&std::fs::read_to_string(RESOLV_CONF).unwrap_or_default());
        let unmarked = std::cell::RefCell::new(None);
        let mark = |socket: &std::net::UdpSocket| {
            let owner = sg_net_owner { known: 1, agent: 1, ..Default::default() };
            if let Err(err) = owners.update(&socket.as_raw_fd().to_ne_bytes(), bytes_of(&owner), MapFlags::ANY) {
                unmarked.replace(Some(err));
            }
        };
        let outcome = self.domains.refresh(Instant::now(), |name| dns::resolve(name, &servers, DNS_TIMEOUT, &mark));
        if let Ok(mut last) = LAST_ANSWERS.lock() {
            *last = self.domains.answers();
        }
        if let Some(err) = unmarked.take().filter(|_| !self.unmarked) {
            self.unmarked = true;
            ctx.report(
                Record::new(Level::Warning, NAME, "resolve")
                    .field("error", Value::Str(format!("the agent's DNS queries are judged by the rules: {err}"))),
            );
        }
        for (domain, error) in &outcome.failures {
            ctx.report(
                Record::new(Level::Warning, NAME, "resolve")
                    .field("domain", Value::Str(domain.clone()))
                    .field("error", Value::Str(format!("{error} (the last addresses stay in force)"))),
            );
        }
        for (domain, old, new) in &outcome.changes {
            log::info!("network: {domain} resolves to {new:?} (was {old:?})");
        }
        if outcome.changed || self.trie.current.is_empty() {
            let domains = self.domains.list.iter().map(|d| (d.rule_id, d.verdict, d.addrs.as_slice()));
            let wanted = self.rules.with_domains(domains);
            if let Err(err) = self.trie.apply(cidr, wanted) {
                log::error!("{err:#}");
            }
            if let Ok(mut names) = self.names.lock() {
                *names = self.domains.names_by_addr();
            }
        }
    }
}

/// The domains' answers of the module's latest instance, for the next one: a reload's
/// first queries are judged by the instance it replaces too, which does not know their
/// sockets (bpf/network.bpf.c, `agent`), so they may fail; meanwhile the last answers
/// stand instead of none.
static LAST_ANSWERS: Mutex<BTreeMap<String, Vec<IpAddr>>> = Mutex::new(BTreeMap::new());

/// The trie as loaded in the kernel, updated by difference.
#[derive(Default)]
struct Trie {
    current: BTreeMap<AddrKey, Entry>,
}

impl Trie {
    fn apply(&mut self, map: &dyn MapCore, wanted: BTreeMap<AddrKey, Entry>) -> anyhow::Result<()> {
        for (key, entry) in &wanted {
            if self.current.get(key) != Some(entry) {
                let (k, v) = rules::encode_addr(key, entry);
                map.update(bytes_of(&k), bytes_of(&v), MapFlags::ANY).context("network: update address rules")?;
            }
        }
        for key in self.current.keys() {
            if !wanted.contains_key(key) {
                let (k, _) = rules::encode_addr(key, &Entry { rule_id: 0, verdict: rules::Verdict::None });
                map.delete(bytes_of(&k)).context("network: remove a stale address")?;
            }
        }
        self.current = wanted;
        Ok(())
    }
}

fn op_bit(op: NetworkOp) -> u32 {
    let index = NetworkOp::ALL.iter().position(|&o| o == op).unwrap_or(0) as u32;
    1 << index
}

impl runtime::Module for Network {
    const NAME: &'static str = NAME;
    type Skel = NetworkSkelBuilder;

    fn configure(&self, open: &mut OpenNetworkSkel<'_>) -> anyhow::Result<()> {
        let (config, rules) = (&self.config, &self.rules);
        let count = |f: fn(&SubjectKey) -> bool| rules.subjects.keys().filter(|k| f(k)).count() as u32;
        let comms = count(|k| matches!(k, SubjectKey::Comm(_)));
        let exes = count(|k| matches!(k, SubjectKey::Exe(..)));
        let uids = count(|k| matches!(k, SubjectKey::Uid(_)));
        let gids = count(|k| matches!(k, SubjectKey::Gid(_)));
        let owners = self.tracks_owners();

        let rodata = open.maps.rodata_data.as_deref_mut().context("network: no rodata")?;
        rodata.sg_target = target_code(config.target);
        rodata.sg_agent_pidns = self.agent_pidns;
        rodata.sg_block = u32::from(config.mode == Mode::Block && self.lsm);
        rodata.sg_ops = config.ops.iter().map(|&op| op_bit(op)).fold(0, |a, b| a | b);
        rodata.sg_allowlist = u32::from(config.cidr_allow_differs_from_default());
        rodata.sg_have_comm = u32::from(comms > 0);
        rodata.sg_have_exe = u32::from(exes > 0);
        rodata.sg_have_uid = u32::from(uids > 0);
        rodata.sg_have_gid = u32::from(gids > 0);
        rodata.sg_track_owners = u32::from(owners);
        rodata.sg_have_ports = u32::from(!rules.ports.is_empty());
        // A socket whose owner is unknown cannot answer comm, executable or gid deny lists.
        let owner_required = rules
            .subjects
            .iter()
            .any(|(key, entry)| entry.verdict == rules::Verdict::Deny && !matches!(key, SubjectKey::Uid(_)));
        rodata.sg_owner_required = u32::from(owner_required);
        rodata.sg_have_rules = u32::from(!self.texts.is_empty() || config.cidr_allow_differs_from_default());

        let trie_size = rules.cidr.len() + rules.domains.len() * domains::MAX_ADDRS;
        open.maps.sg_net_cidr.set_max_entries(trie_size.max(1) as u32)?;
        open.maps.sg_net_comm.set_max_entries(comms.max(1))?;
        open.maps.sg_net_exe.set_max_entries(exes.max(1))?;
        open.maps.sg_net_uid.set_max_entries(uids.max(1))?;
        open.maps.sg_net_gid.set_max_entries(gids.max(1))?;
        if !rules.ports.is_empty() {
            open.maps.sg_net_ports.set_max_entries(rules::PORT_SLOTS)?;
        }
        // Path resolution (common.bpf.h) names the executable of a denied task; its rule
        // tables stay empty here, and the path-rule maps are not needed at all.
        open.maps.sg_path_rules.set_autocreate(false)?;
        open.maps.sg_path_keys.set_autocreate(false)?;

        // Only what the configuration puts in scope is loaded.
        load_only(open.open_object_mut(), |program| self.loads(program));
        if self.lsm {
            for p in PROGRAMS.iter().filter(|p| p.kind == HookKind::Lsm && !self.hooks.contains(&p.hook)) {
                log::warn!("network: this kernel has no LSM hook {}; the ops that need it are off", p.hook);
            }
        } else {
            let uncovered: Vec<&str> =
                [NetworkOp::Sendmsg, NetworkOp::Recvmsg, NetworkOp::Getpeername, NetworkOp::Bind]
                    .into_iter()
                    .filter(|&op| self.op(op))
                    .map(Op::name)
                    .collect();
            if !uncovered.is_empty() && config.enable {
                log::warn!(
                    "network: without BPF LSM only TCP connect and accept are reported (audit-only); not covered: {}",
                    uncovered.join(", ")
                );
            }
        }
        Ok(())
    }

    /// The subject and port rules, and the domains' first answers (in the trie
    /// before the start record).
    fn fill(&mut self, skel: &NetworkSkel<'_>, ctx: &ModuleContext) -> anyhow::Result<()> {
        let maps = &skel.maps;
        let put = |map: &dyn MapCore, key: &[u8], entry: &Entry| {
            let value = sg::sg_net_rule { rule_id: entry.rule_id, verdict: entry.verdict as u32 };
            map.update(key, bytes_of(&value), MapFlags::ANY).context("network: subject rules")
        };
        for (key, entry) in &self.rules.subjects {
            match *key {
                SubjectKey::Comm(comm) => put(&maps.sg_net_comm, bytes_of(&sg::sg_comm_key { comm }), entry)?,
                SubjectKey::Exe(dev, ino) => {
                    let k = sg::sg_inode_key { dev, ino, ..Default::default() };
                    put(&maps.sg_net_exe, bytes_of(&k), entry)?
                }
                SubjectKey::Uid(uid) => put(&maps.sg_net_uid, &uid.to_ne_bytes(), entry)?,
                SubjectKey::Gid(gid) => put(&maps.sg_net_gid, &gid.to_ne_bytes(), entry)?,
            }
        }
        write_ports(&maps.sg_net_ports, &self.rules.port_slots())?;
        self.resolve_round(&maps.sg_net_cidr, &maps.sg_net_owners, ctx);
        // before the hooks: nothing is judged ownerless once they are attached
        seed_owners(skel, "before")
    }

    /// Sockets set up between the first seeding and the attach, which no hook saw.
    fn attached(&mut self, skel: &NetworkSkel<'_>, _ctx: &ModuleContext) -> anyhow::Result<()> {
        seed_owners(skel, "after")
    }

    fn rule_names(&self) -> crate::agent::hits::RuleNames {
        let mut names =
            RuleTable { texts: self.texts.clone(), not_allowed: "not in network.cidr.allow".into() }.names();
        // The network module's own ids from the top down (bpf/safeguard.h).
        for (id, name) in &mut names.specials {
            match *id {
                RULE_NO_OWNER => *name = NO_OWNER.into(),
                RULE_NO_HEADER => *name = NO_HEADER.into(),
                _ => {}
            }
        }
        names
    }

    fn decoder(&self) -> RingDecoder {
        let rules = RuleTable { texts: self.texts.clone(), not_allowed: "not in network.cidr.allow".into() };
        let mut decoder = Decoder { rules, exe_cache: ExeCache::default(), names: self.names.clone() };
        Box::new(move |data, ctx| decoder.handle(data, ctx))
    }

    fn tick(&mut self, skel: &NetworkSkel<'_>, ctx: &ModuleContext) {
        if self.domains.next_due().is_some_and(|due| due <= Instant::now()) {
            self.resolve_round(&skel.maps.sg_net_cidr, &skel.maps.sg_net_owners, ctx);
        }
    }
}

/// The owners of sockets older than this instance (src/network/owners.rs).
fn seed_owners(skel: &NetworkSkel<'_>, when: &str) -> anyhow::Result<()> {
    if !skel.progs.sg_net_seed_owners.autoload() {
        return Ok(());
    }
    let seeded = owners::seed(&skel.progs.sg_net_seed_owners, &skel.maps.sg_net_owners)?;
    log::debug!("network: socket owners {when} the attach: {seeded:?}");
    if seeded.missed > 0 {
        log::warn!(
            "network: {} older sockets could not be given their owner (pidfd_getfd refused, or they closed \
             meanwhile); with command, exe or gid deny lists their accepts and datagrams are refused",
            seeded.missed
        );
    }
    Ok(())
}

/// Fills the port array: one batch (one syscall), or slot by slot where the kernel
/// refuses batches.
pub(crate) fn write_ports(map: &dyn MapCore, slots: &[(u32, Entry)]) -> anyhow::Result<()> {
    if slots.is_empty() {
        return Ok(());
    }
    let value_size = std::mem::size_of::<sg::sg_net_rule>();
    let mut keys = Vec::with_capacity(slots.len() * 4);
    let mut values = Vec::with_capacity(slots.len() * value_size);
    for (slot, entry) in slots {
        keys.extend_from_slice(&slot.to_ne_bytes());
        values.extend_from_slice(bytes_of(&sg::sg_net_rule { rule_id: entry.rule_id, verdict: entry.verdict as u32 }));
    }
    match map.update_batch(&keys, &values, slots.len() as u32, MapFlags::ANY, MapFlags::ANY) {
        Ok(()) => return Ok(()),
        Err(err) => log::debug!("network: batch update of the port array refused ({err}); one slot at a time"),
    }
    for (key, value) in keys.chunks(4).zip(values.chunks(value_size)) {
        map.update(key, value, MapFlags::ANY).context("network: port rules")?;
    }
    Ok(())
}

struct Decoder {
    rules: RuleTable,
    exe_cache: ExeCache,
    /// Resolved address -> domain, kept current by the resolver.
    names: Arc<Mutex<HashMap<IpAddr, String>>>,
}

impl Decoder {
    fn handle(&mut self, data: &[u8], ctx: &ModuleContext) {
        let record = decode::<sg::sg_header>(data)
            .filter(|hdr| hdr.kind == KIND_NET)
            .and_then(|_| decode::<sg::sg_net_event>(data))
            .and_then(|ev| self.record(&ev));
        match record {
            Some(record) => ctx.send(record),
            None => ctx.malformed("network event", data.len()),
        }
    }

    fn record(&mut self, ev: &sg::sg_net_event) -> Option<Record> {
        let hdr = &ev.hdr;
        let op = NetworkOp::ALL.get(hdr.op.checked_sub(OP_CONNECT)? as usize)?.name();
        let s = &hdr.subject;
        let known_task = s.pid != 0;
        let exe = if ev.exe_len > 0 {
            Value::Bytes(crate::bpf::sized_bytes(&ev.exe, ev.exe_len).to_vec())
        } else if known_task {
            self.exe_cache.lookup(s.pid, s.start_time)
        } else {
            Value::Str(String::new())
        };
        let mut record = event_record(hdr, NAME, op, &self.rules, exe);
        match hdr.rule_id {
            RULE_NO_OWNER => record.rule = Some(NO_OWNER.into()),
            RULE_NO_HEADER => record.rule = Some(NO_HEADER.into()),
            _ => {}
        }
        if !known_task {
            // A socket older than the agent, judged in softirq context: only its owner's
            // uid is known.
            record.fields.retain(|(name, _)| *name == "uid" || (*name == "gid" && s.gid != u32::MAX));
        }
        let names = self.names.lock().ok()?;
        record.fields.extend(net_fields(ev, op == "bind", &names));
        Some(record)
    }
}

/// The module's fields of a record: family, protocol, the two ends, the domain.
fn net_fields(ev: &sg::sg_net_event, bind: bool, names: &HashMap<IpAddr, String>) -> Vec<(&'static str, Value)> {
    let src = ip_of(ev.src_addr);
    let dst = ip_of(ev.dst_addr);
    let judged = if bind || matches!(ev.hdr.op, OP_ACCEPT | OP_RECVMSG) { src } else { dst };
    let family = match judged {
        IpAddr::V4(_) => "ipv4",
        IpAddr::V6(_) => "ipv6",
    };
    let mut fields = vec![
        ("family", Value::Str(family.into())),
        ("protocol", Value::Str(protocol_name(ev.protocol))),
        ("src_addr", Value::Str(src.to_string())),
        ("src_port", Value::Uint(ev.src_port.into())),
    ];
    if !bind {
        fields.push(("dst_addr", Value::Str(dst.to_string())));
        fields.push(("dst_port", Value::Uint(ev.dst_port.into())));
    }
    if let Some(domain) = names.get(&judged) {
        fields.push(("domain", Value::Str(domain.clone())));
    }
    fields
}

/// A 16-byte address as the log shows it: IPv4-mapped addresses as IPv4.
fn ip_of(bytes: [u8; 16]) -> IpAddr {
    let v6 = Ipv6Addr::from(bytes);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

fn protocol_name(protocol: u16) -> String {
    match protocol {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmpv6".into(),
        132 => "sctp".into(),
        136 => "udplite".into(),
        255 => "raw".into(),
        262 => "mptcp".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(op: u32, src: &str, sport: u16, dst: &str, dport: u16) -> sg::sg_net_event {
        let mut ev = sg::sg_net_event::default();
        ev.hdr.kind = KIND_NET;
        ev.hdr.op = op;
        ev.src_addr = rules::addr16(src.parse().unwrap());
        ev.dst_addr = rules::addr16(dst.parse().unwrap());
        ev.src_port = sport;
        ev.dst_port = dport;
        ev.family = 10;
        ev.protocol = 6;
        ev
    }

    #[test]
    fn fields_show_mapped_addresses_as_ipv4_and_the_domain() {
        let names = HashMap::from([("10.254.249.3".parse().unwrap(), "blocked.test".to_string())]);
        let fields = net_fields(&event(OP_CONNECT, "::", 0, "::ffff:10.254.249.3", 8080), false, &names);
        assert_eq!(
            fields,
            vec![
                ("family", Value::Str("ipv4".into())),
                ("protocol", Value::Str("tcp".into())),
                ("src_addr", Value::Str("::".into())),
                ("src_port", Value::Uint(0)),
                ("dst_addr", Value::Str("10.254.249.3".into())),
                ("dst_port", Value::Uint(8080)),
                ("domain", Value::Str("blocked.test".into())),
            ]
        );
        let fields = net_fields(&event(crate::decode::OP_BIND, "fd00::3", 53, "::", 0), true, &HashMap::new());
        assert_eq!(fields[0], ("family", Value::Str("ipv6".into())));
        assert!(!fields.iter().any(|(name, _)| *name == "dst_addr"));
    }

    #[test]
    fn op_bits_follow_the_kernel_order() {
        assert_eq!(op_bit(NetworkOp::Connect), 1);
        assert_eq!(op_bit(NetworkOp::Bind), 1 << 5);
        assert_eq!(NetworkOp::ALL[(OP_RECVMSG - OP_CONNECT) as usize].name(), "recvmsg");
    }
}
