//! The interval arithmetic of the telemetry module, pure so that it is unit-tested:
//! the kernel's counts since an entry was made, diffed against the last read; the
//! top processes by each ranking; the records.

use std::collections::HashMap;
use std::time::Duration;

use crate::bpf::sg;
use crate::logging::{Level, Record, Value};

pub const NAME: &str = "telemetry";
pub const HIST_SLOTS: usize = sg::sg_tel_hist::SG_TEL_HIST_SLOTS.0 as usize;

/// One process's counts (a `struct sg_tel_proc`, or the difference of two).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub cpu_ns: u64,
    pub switches_voluntary: u64,
    pub switches_involuntary: u64,
    pub runq_wait_ns: u64,
    pub runq_waits: u64,
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub rx_packets: u64,
    pub connections: u64,
    pub runq_hist: [u64; HIST_SLOTS],
}

impl Counts {
    pub fn of(proc: &sg::sg_tel_proc) -> Counts {
        Counts {
            cpu_ns: proc.cpu_ns,
            switches_voluntary: proc.switches_voluntary,
            switches_involuntary: proc.switches_involuntary,
            runq_wait_ns: proc.runq_wait_ns,
            runq_waits: proc.runq_waits,
            tx_bytes: proc.tx_bytes,
            rx_bytes: proc.rx_bytes,
            tx_packets: proc.tx_packets,
            rx_packets: proc.rx_packets,
            connections: proc.connections,
            runq_hist: proc.runq_hist,
        }
    }

    /// What was counted since `before` (the kernel's counts only grow while an entry
    /// lives; saturating keeps a reused entry from wrapping).
    pub fn since(&self, before: &Counts) -> Counts {
        let d = |now: u64, then: u64| now.saturating_sub(then);
        Counts {
            cpu_ns: d(self.cpu_ns, before.cpu_ns),
            switches_voluntary: d(self.switches_voluntary, before.switches_voluntary),
            switches_involuntary: d(self.switches_involuntary, before.switches_involuntary),
            runq_wait_ns: d(self.runq_wait_ns, before.runq_wait_ns),
            runq_waits: d(self.runq_waits, before.runq_waits),
            tx_bytes: d(self.tx_bytes, before.tx_bytes),
            rx_bytes: d(self.rx_bytes, before.rx_bytes),
            tx_packets: d(self.tx_packets, before.tx_packets),
            rx_packets: d(self.rx_packets, before.rx_packets),
            connections: d(self.connections, before.connections),
            runq_hist: std::array::from_fn(|i| d(self.runq_hist[i], before.runq_hist[i])),
        }
    }

    pub fn switches(&self) -> u64 {
        self.switches_voluntary + self.switches_involuntary
    }

    pub fn traffic(&self) -> u64 {
        self.tx_bytes + self.rx_bytes
    }

    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

/// A ranking of `resource` records: a process is written when it is among the top N
/// of any of them (once, with the rankings it made in `top`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ranking {
    Cpu,
    Switches,
    Runq,
    Traffic,
}

impl Ranking {
    pub const ALL: [Ranking; 4] = [Ranking::Cpu, Ranking::Switches, Ranking::Runq, Ranking::Traffic];

    pub fn name(self) -> &'static str {
        match self {
            Ranking::Cpu => "cpu",
            Ranking::Switches => "switches",
            Ranking::Runq => "runq_wait",
            Ranking::Traffic => "traffic",
        }
    }

    fn key(self, counts: &Counts) -> u64 {
        match self {
            Ranking::Cpu => counts.cpu_ns,
            Ranking::Switches => counts.switches(),
            Ranking::Runq => counts.runq_wait_ns,
            Ranking::Traffic => counts.traffic(),
        }
    }
}

/// What the kernel table holds about one process besides its counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub pid: u32,
    pub start_time: u64,
    pub cgroup_id: u64,
    pub container: bool,
    pub comm: Vec<u8>,
}

/// The processes to write: each one's index in `deltas` and the rankings it made
/// (in `Ranking::ALL` order). A ranking takes only processes with a non-zero key,
/// at most `top`; ties go to the lower pid, so the choice repeats.
pub fn top(deltas: &[(Identity, Counts)], top: usize) -> Vec<(usize, Vec<Ranking>)> {
    let mut chosen: Vec<(usize, Vec<Ranking>)> = Vec::new();
    for ranking in Ranking::ALL {
        let mut order: Vec<usize> = (0..deltas.len()).filter(|&i| ranking.key(&deltas[i].1) > 0).collect();
        order.sort_by(|&a, &b| {
            ranking.key(&deltas[b].1).cmp(&ranking.key(&deltas[a].1)).then(deltas[a].0.pid.cmp(&deltas[b].0.pid))
        });
        for index in order.into_iter().take(top) {
            match chosen.iter_mut().find(|(i, _)| *i == index) {
                Some((_, rankings)) => rankings.push(ranking),
                None => chosen.push((index, vec![ranking])),
            }
        }
    }
    chosen
}

/// Keeps the last counts read of every process, to diff the next read against.
#[derive(Default)]
pub struct Snapshots {
    last: HashMap<u32, (u64, Counts)>,
}

impl Snapshots {
    /// The counts of this interval for a process now read as `now`. An entry made
    /// for a new process under a reused pid (another start time) starts from zero.
    pub fn delta(&mut self, who: &Identity, now: Counts) -> Counts {
        let delta = match self.last.get(&who.pid) {
            Some((start, before)) if *start == who.start_time => now.since(before),
            _ => now.clone(),
        };
        self.last.insert(who.pid, (who.start_time, now));
        delta
    }

    /// Forgets the processes whose entries are gone.
    pub fn retain(&mut self, mut alive: impl FnMut(u32) -> bool) {
        self.last.retain(|&pid, _| alive(pid));
    }
}

/// The label of a run-queue histogram slot: the lower bound of the wait it counts.
pub fn slot_label(slot: usize) -> String {
    if slot == 0 {
        return "<2us".into();
    }
    let us = 1u64 << slot;
    if us >= 1_000_000 {
        format!(">={}s", us / 1_000_000)
    } else if us >= 1000 {
        format!(">={}ms", us / 1000)
    } else {
        format!(">={us}us")
    }
}

/// The `resource` record of one process in an interval.
pub fn resource_record(
    who: &Identity,
    exe: Option<Vec<u8>>,
    counts: &Counts,
    rankings: &[Ranking],
    interval: Duration,
) -> Record {
    let mut record = Record::new(Level::Info, NAME, "resource");
    let u = Value::Uint;
    let interval_ns = interval.as_nanos().max(1) as u64;
    record.fields = vec![("pid", u(who.pid.into())), ("comm", Value::Bytes(who.comm.clone()))];
    if let Some(exe) = exe {
        record.fields.push(("exe", Value::Bytes(exe)));
    }
    record.fields.extend([
        ("cgroup_id", u(who.cgroup_id)),
        ("container", Value::Bool(who.container)),
        ("top", Value::List(rankings.iter().map(|r| Value::Str(r.name().into())).collect())),
        ("interval_ms", u(interval.as_millis() as u64)),
        ("cpu_ns", u(counts.cpu_ns)),
        // per mille of one CPU: an integer the text format shows as it is
        ("cpu_permille", u(counts.cpu_ns.saturating_mul(1000) / interval_ns)),
        ("switches_voluntary", u(counts.switches_voluntary)),
        ("switches_involuntary", u(counts.switches_involuntary)),
        ("runq_wait_ns", u(counts.runq_wait_ns)),
        ("runq_waits", u(counts.runq_waits)),
    ]);
    let hist: Vec<(String, Value)> = counts
        .runq_hist
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(slot, &n)| (slot_label(slot), u(n)))
        .collect();
    if !hist.is_empty() {
        record.fields.push(("runq_hist", Value::Map(hist)));
    }
    record.fields.extend([
        ("tx_bytes", u(counts.tx_bytes)),
        ("rx_bytes", u(counts.rx_bytes)),
        ("tx_packets", u(counts.tx_packets)),
        ("rx_packets", u(counts.rx_packets)),
        ("connections", u(counts.connections)),
    ]);
    record
}

/// The `net_drop` record of one reason in an interval.
pub fn drop_record(reason: &str, location: Option<String>, count: u64, interval: Duration) -> Record {
    let mut record = Record::new(Level::Info, NAME, "net_drop");
    record.fields.push(("reason", Value::Str(reason.into())));
    if let Some(location) = location {
        record.fields.push(("location", Value::Str(location)));
    }
    record.fields.push(("count", Value::Uint(count)));
    record.fields.push(("interval_ms", Value::Uint(interval.as_millis() as u64)));
    record
}

/// A name for a kernel drop reason: the kernel's own (`NO_SOCKET`), from its BTF.
pub fn reason_name(names: &HashMap<u32, String>, reason: u32) -> String {
    names.get(&reason).cloned().unwrap_or_else(|| format!("reason_{reason}"))
}

/// The kernel's symbols, sorted by address, to name where a packet was freed on a
/// kernel without drop reasons.
#[derive(Default)]
pub struct Symbols {
    sorted: Vec<(u64, String)>,
}

impl Symbols {
    /// `/proc/kallsyms` text: text symbols only (t/T).
    pub fn parse(text: &str) -> Symbols {
        let mut sorted: Vec<(u64, String)> = text
            .lines()
            .filter_map(|line| {
                let mut parts = line.split_whitespace();
                let addr = u64::from_str_radix(parts.next()?, 16).ok()?;
                let kind = parts.next()?;
                let name = parts.next()?;
                (addr != 0 && (kind == "t" || kind == "T")).then(|| (addr, name.to_string()))
            })
            .collect();
        sorted.sort();
        Symbols { sorted }
    }

    /// `function+0xoffset`, or the address when it is not known.
    pub fn name(&self, addr: u64) -> String {
        match self.sorted.partition_point(|(a, _)| *a <= addr).checked_sub(1) {
            Some(i) => format!("{}+{:#x}", self.sorted[i].1, addr - self.sorted[i].0),
            None => format!("{addr:#x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(pid: u32) -> Identity {
        Identity { pid, start_time: 7, comm: b"x".to_vec(), ..Identity::default() }
    }

    #[test]
    fn deltas_follow_a_process_and_restart_for_a_reused_pid() {
        let mut snapshots = Snapshots::default();
        let now = Counts { cpu_ns: 100, tx_bytes: 10, ..Counts::default() };
        assert_eq!(snapshots.delta(&who(5), now.clone()), now);
        let later = Counts { cpu_ns: 250, tx_bytes: 10, ..Counts::default() };
        assert_eq!(snapshots.delta(&who(5), later), Counts { cpu_ns: 150, ..Counts::default() });
        // the same pid, another start time: a new process, counted from zero
        let reused = Identity { start_time: 9, ..who(5) };
        let fresh = Counts { cpu_ns: 30, ..Counts::default() };
        assert_eq!(snapshots.delta(&reused, fresh.clone()), fresh);
        snapshots.retain(|pid| pid != 5);
        assert_eq!(snapshots.delta(&reused, fresh.clone()), fresh);
    }

    #[test]
    fn top_takes_each_ranking_and_writes_a_process_once() {
        let burner = Counts { cpu_ns: 900, switches_involuntary: 3, ..Counts::default() };
        let pinger = Counts { cpu_ns: 50, switches_voluntary: 20000, runq_wait_ns: 10, ..Counts::default() };
        let sender = Counts { cpu_ns: 60, tx_bytes: 5000, tx_packets: 5, ..Counts::default() };
        let idle = Counts::default();
        let deltas = vec![(who(1), burner), (who(2), pinger), (who(3), sender), (who(4), idle)];
        let chosen = top(&deltas, 1);
        assert_eq!(
            chosen,
            vec![(0, vec![Ranking::Cpu]), (1, vec![Ranking::Switches, Ranking::Runq]), (2, vec![Ranking::Traffic])]
        );
        // a larger top: everyone with something, never the idle one
        let all = top(&deltas, 10);
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|(i, _)| *i != 3));
        assert_eq!(all[0], (0, vec![Ranking::Cpu, Ranking::Switches]));
    }

    #[test]
    fn a_resource_record_has_the_spec_fields() {
        let counts = Counts {
            cpu_ns: 500_000_000,
            switches_voluntary: 4,
            runq_hist: std::array::from_fn(|i| u64::from(i == 3)),
            rx_packets: 2,
            ..Counts::default()
        };
        let rec = resource_record(&who(9), None, &counts, &[Ranking::Cpu], Duration::from_secs(1));
        let field = |name: &str| rec.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        assert_eq!((rec.module, rec.op), ("telemetry", "resource"));
        assert_eq!(field("cpu_permille"), Some(Value::Uint(500)));
        assert_eq!(field("runq_hist"), Some(Value::Map(vec![(">=8us".into(), Value::Uint(1))])));
        assert_eq!(field("exe"), None);
        for name in [
            "cpu_ns",
            "switches_voluntary",
            "switches_involuntary",
            "runq_wait_ns",
            "tx_bytes",
            "rx_bytes",
            "tx_packets",
            "rx_packets",
        ] {
            assert!(field(name).is_some(), "{name}");
        }
    }

    #[test]
    fn histogram_labels() {
        assert_eq!(slot_label(0), "<2us");
        assert_eq!(slot_label(1), ">=2us");
        assert_eq!(slot_label(10), ">=1ms");
        assert_eq!(slot_label(23), ">=8s");
    }

    #[test]
    fn locations_are_named_by_the_symbol_below() {
        let symbols = Symbols::parse(
            "ffffffff81000000 T _stext\nffffffff81200000 t __udp4_lib_rcv\nffffffff81300000 D data\n\
             ffffffff81250000 T kfree_skb\n",
        );
        assert_eq!(symbols.name(0xffffffff81200123), "__udp4_lib_rcv+0x123");
        assert_eq!(symbols.name(0xffffffff81350000), "kfree_skb+0x100000");
        assert_eq!(symbols.name(0x10), "0x10");
        let names: HashMap<u32, String> = [(3, "NO_SOCKET".to_string())].into();
        assert_eq!(reason_name(&names, 3), "NO_SOCKET");
        assert_eq!(reason_name(&names, 99), "reason_99");
    }
}
