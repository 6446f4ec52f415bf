//! The interval arithmetic of the telemetry module, pure so that it is unit-tested:
//! the kernel's counts of each process and thread, diffed against the last read
//! and summed per process; the top processes by each ranking; the records.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::bpf::sg;
use crate::logging::{Level, Record, Value};

pub const NAME: &str = "telemetry";
pub const HIST_SLOTS: usize = sg::sg_tel_hist::SG_TEL_HIST_SLOTS.0 as usize;

/// One process's or thread's counts, or the difference of two reads.
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
}

impl Counts {
    /// What the programs counted of a process (traffic; the run-queue wait where
    /// the kernel keeps no sched_info).
    pub fn of(proc: &sg::sg_tel_proc) -> Counts {
        Counts {
            runq_wait_ns: proc.runq_wait_ns,
            runq_waits: proc.runq_waits,
            tx_bytes: proc.tx_bytes,
            rx_bytes: proc.rx_bytes,
            tx_packets: proc.tx_packets,
            rx_packets: proc.rx_packets,
            connections: proc.connections,
            ..Counts::default()
        }
    }

    /// What the scheduler counted of a thread.
    pub fn of_thread(thread: &sg::sg_tel_thread) -> Counts {
        Counts {
            cpu_ns: thread.cpu_ns,
            switches_voluntary: thread.nvcsw,
            switches_involuntary: thread.nivcsw,
            runq_wait_ns: thread.run_delay,
            runq_waits: thread.pcount,
            ..Counts::default()
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
        }
    }

    pub fn add(&mut self, other: &Counts) {
        let Counts {
            cpu_ns,
            switches_voluntary,
            switches_involuntary,
            runq_wait_ns,
            runq_waits,
            tx_bytes,
            rx_bytes,
            tx_packets,
            rx_packets,
            connections,
        } = other;
        self.cpu_ns += cpu_ns;
        self.switches_voluntary += switches_voluntary;
        self.switches_involuntary += switches_involuntary;
        self.runq_wait_ns += runq_wait_ns;
        self.runq_waits += runq_waits;
        self.tx_bytes += tx_bytes;
        self.rx_bytes += rx_bytes;
        self.tx_packets += tx_packets;
        self.rx_packets += rx_packets;
        self.connections += connections;
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

/// One thread as `sg_tel_threads` listed it or its exit left it in `tel_exited`.
#[derive(Clone, Debug)]
pub struct Thread {
    pub tid: u32,
    pub start_time: u64,
    pub process: Identity,
    pub counts: Counts,
    /// In `tel_exited`: not an exit, the exec of a thread that had this tid and took
    /// its leader's pid and start time.
    pub renamed_from: Option<u32>,
}

impl Thread {
    pub fn of(thread: &sg::sg_tel_thread) -> Thread {
        Thread {
            tid: thread.tid,
            start_time: thread.start_time,
            process: Identity {
                pid: thread.tgid,
                start_time: thread.leader_start,
                cgroup_id: thread.cgroup_id,
                container: thread.flags & sg::sg_flag::SG_FLAG_CONTAINER.0 != 0,
                comm: crate::bpf::c_bytes(&thread.comm).to_vec(),
            },
            counts: Counts::of_thread(thread),
            renamed_from: (thread.renamed_from != 0).then_some(thread.renamed_from),
        }
    }
}

/// The last read of every thread, to diff the next against: the scheduler's counts
/// of a thread only grow while it lives.
#[derive(Default)]
pub struct Threads {
    /// By tid and start time.
    last: HashMap<(u32, u64), Read>,
    interval: u64,
    /// When the last two listings began, the last first (CLOCK_MONOTONIC ns, the
    /// clock of start times).
    listed_at: [u64; 2],
}

struct Read {
    counts: Counts,
    interval: u64,
    pid: u32,
}

impl Threads {
    /// One interval: the threads listed alive at `listed_at`, and those that exited
    /// or exec'd since the last interval (with their counts then: an exit wins over a
    /// listing of the same thread). Each process's counts in the interval, summed over
    /// its threads.
    ///
    /// A thread never read before counts from its start if it started after the
    /// listing before the last (a thread that was just forking may be missing from a
    /// listing); one older than that lost its last read (unlisted for more than two
    /// intervals): it counts from now on, never twice. A thread that exec'd (it took
    /// its leader's pid and start time, after the leader's exit) goes on from its read
    /// under its former tid. The first interval only sets the base.
    pub fn interval(&mut self, alive: &[Thread], exited: &[Thread], listed_at: u64) -> Vec<(Identity, Counts)> {
        self.interval += 1;
        let mut processes: HashMap<(u32, u64), (Identity, Counts)> = HashMap::new();
        let mut add = |thread: &Thread, delta: Counts| {
            let key = (thread.process.pid, thread.process.start_time);
            processes.entry(key).or_insert_with(|| (thread.process.clone(), Counts::default())).1.add(&delta);
        };
        let known_since = self.listed_at[1];
        let since = |thread: &Thread, read: Option<Read>| match read {
            Some(read) => thread.counts.since(&read.counts),
            None if thread.start_time < known_since => Counts::default(),
            None => thread.counts.clone(),
        };
        let read =
            |thread: &Thread, interval| Read { counts: thread.counts.clone(), interval, pid: thread.process.pid };
        let mut gone = HashSet::new();
        // exits first: a leader's exit frees the key its exec'ing thread takes next
        for thread in exited.iter().filter(|t| t.renamed_from.is_none()) {
            let key = (thread.tid, thread.start_time);
            add(thread, since(thread, self.last.remove(&key)));
            gone.insert(key);
        }
        let mut renamed = HashSet::new();
        for thread in exited.iter().filter(|t| t.renamed_from.is_some()) {
            let former = thread.renamed_from.map(|tid| (tid, thread.process.pid));
            let key = self.last.iter().find(|(k, r)| Some((k.0, r.pid)) == former).map(|(k, _)| *k);
            let before = key.and_then(|key| self.last.remove(&key));
            add(thread, before.map_or_else(|| thread.counts.clone(), |r| thread.counts.since(&r.counts)));
            self.last.insert((thread.tid, thread.start_time), read(thread, self.interval));
            renamed.extend(former);
        }
        // A listing under a former tid was before the exec: the exec's counts cover it.
        let listed = |t: &&Thread| !gone.contains(&(t.tid, t.start_time)) && !renamed.contains(&(t.tid, t.process.pid));
        for thread in alive.iter().filter(listed) {
            let key = (thread.tid, thread.start_time);
            add(thread, since(thread, self.last.insert(key, read(thread, self.interval))));
        }
        // A thread neither listed nor exited is exiting: its exit comes with a later
        // interval, diffed against this last read. Forgotten after two.
        let now = self.interval;
        self.last.retain(|_, read| now - read.interval <= 2);
        self.listed_at = [listed_at, self.listed_at[0]];
        processes.into_values().filter(|(_, counts)| !counts.is_zero()).collect()
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
        ("tx_bytes", u(counts.tx_bytes)),
        ("rx_bytes", u(counts.rx_bytes)),
        ("tx_packets", u(counts.tx_packets)),
        ("rx_packets", u(counts.rx_packets)),
        ("connections", u(counts.connections)),
    ]);
    record
}

/// The `runq_latency` record: the host's run-queue waits in an interval, by slot.
/// `hist` holds the waits measured, one in `sample` of them (picked at random in the
/// kernel): the record's counts are estimates, each measured wait counted `sample`
/// times, and `measured` says how many there were.
pub fn runq_record(hist: &[u64; HIST_SLOTS], sample: u32, interval: Duration) -> Record {
    let mut record = Record::new(Level::Info, NAME, "runq_latency");
    let scale = u64::from(sample.max(1));
    let slots: Vec<(String, Value)> = hist
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(slot, &n)| (slot_label(slot), Value::Uint(n.saturating_mul(scale))))
        .collect();
    let measured: u64 = hist.iter().sum();
    record.fields.push(("waits", Value::Uint(measured.saturating_mul(scale))));
    record.fields.push(("runq_hist", Value::Map(slots)));
    record.fields.push(("sample_one_in", Value::Uint(scale)));
    record.fields.push(("measured", Value::Uint(measured)));
    record.fields.push(("interval_ms", Value::Uint(interval.as_millis() as u64)));
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
        let counts = Counts { cpu_ns: 500_000_000, switches_voluntary: 4, rx_packets: 2, ..Counts::default() };
        let rec = resource_record(&who(9), None, &counts, &[Ranking::Cpu], Duration::from_secs(1));
        let field = |name: &str| rec.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        assert_eq!((rec.module, rec.op), ("telemetry", "resource"));
        assert_eq!(field("cpu_permille"), Some(Value::Uint(500)));
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

    fn thread(tid: u32, start_time: u64, pid: u32, cpu_ns: u64) -> Thread {
        let counts = Counts { cpu_ns, switches_voluntary: cpu_ns / 10, ..Counts::default() };
        Thread { tid, start_time, process: who(pid), counts, renamed_from: None }
    }

    fn cpu_of(deltas: &[(Identity, Counts)], pid: u32) -> Option<u64> {
        deltas.iter().find(|(who, _)| who.pid == pid).map(|(_, counts)| counts.cpu_ns)
    }

    #[test]
    fn threads_are_diffed_and_summed_per_process() {
        let mut threads = Threads::default();
        // the first interval sets the base (the caller drops what it returns)
        threads.interval(&[thread(10, 1, 10, 100), thread(11, 2, 10, 50), thread(20, 3, 20, 7)], &[], 100);
        // 10 ran 30 more, 11 exited after 5 more (and is still listed), 12 started
        // and ran 8, 20 did nothing
        let alive = [thread(10, 1, 10, 130), thread(11, 2, 10, 55), thread(12, 140, 10, 8), thread(20, 3, 20, 7)];
        let deltas = threads.interval(&alive, &[thread(11, 2, 10, 55)], 200);
        assert_eq!(cpu_of(&deltas, 10), Some(30 + 5 + 8));
        assert_eq!(deltas.iter().find(|(who, _)| who.pid == 10).unwrap().1.switches_voluntary, 3);
        assert_eq!(cpu_of(&deltas, 20), None, "nothing counted: not written");
        // 12 is exiting: not listed; its exit comes next time, against the last read
        let deltas = threads.interval(&[thread(10, 1, 10, 130)], &[], 300);
        assert_eq!(cpu_of(&deltas, 10), None);
        let deltas = threads.interval(&[thread(10, 1, 10, 130)], &[thread(12, 140, 10, 9)], 400);
        assert_eq!(cpu_of(&deltas, 10), Some(1));
        // born and gone within one interval: counted whole; a reused tid with another
        // start time is another thread
        let deltas = threads.interval(&[thread(10, 1, 10, 130)], &[thread(12, 450, 10, 40)], 500);
        assert_eq!(cpu_of(&deltas, 10), Some(40));
        // forgotten: 20 was not listed for three intervals
        assert!(!threads.last.contains_key(&(20, 3)));
    }

    #[test]
    fn an_exec_by_another_thread_goes_on_from_its_former_read() {
        let mut threads = Threads::default();
        threads.interval(&[thread(10, 1, 10, 100), thread(11, 2, 10, 50)], &[], 100);
        // 11 ran 20 more and exec'd: the leader 10 exited after 3 more, and 11 goes
        // on as (10, 1), listed with 80 (10 more since the exec)
        let exec = Thread { renamed_from: Some(11), ..thread(10, 1, 10, 70) };
        let deltas = threads.interval(&[thread(10, 1, 10, 80)], &[thread(10, 1, 10, 103), exec], 200);
        assert_eq!(cpu_of(&deltas, 10), Some(3 + 20), "the leader's last 3, 11's 20 before the exec");
        let deltas = threads.interval(&[thread(10, 1, 10, 95)], &[], 300);
        assert_eq!(cpu_of(&deltas, 10), Some(25), "from the exec on");
        // a thread older than the listing before the last with no read (its read
        // forgotten) is counted from now on, not from its start; one that started
        // since (missing from a listing while it forked) from its start
        let deltas = threads.interval(&[thread(10, 1, 10, 95), thread(30, 150, 10, 500)], &[], 400);
        assert_eq!(cpu_of(&deltas, 10), None);
        let deltas = threads.interval(&[thread(10, 1, 10, 95), thread(31, 350, 10, 7)], &[], 500);
        assert_eq!(cpu_of(&deltas, 10), Some(7));
    }

    #[test]
    fn a_thread_listed_then_execing_in_one_interval_counts_once() {
        let mut threads = Threads::default();
        threads.interval(&[thread(10, 1, 10, 100)], &[], 100);
        // 11 started after the listing, was listed with 40, then exec'd with 50
        let exec = Thread { renamed_from: Some(11), ..thread(10, 1, 10, 50) };
        let deltas = threads.interval(&[thread(11, 150, 10, 40)], &[thread(10, 1, 10, 100), exec], 200);
        assert_eq!(cpu_of(&deltas, 10), Some(50));
        let deltas = threads.interval(&[thread(10, 1, 10, 58)], &[], 300);
        assert_eq!(cpu_of(&deltas, 10), Some(8));
    }

    #[test]
    fn the_runq_record_sums_the_slots() {
        let hist: [u64; HIST_SLOTS] = std::array::from_fn(|i| u64::from(i == 0) * 4 + u64::from(i == 10));
        let field = |rec: &Record, name: &str| rec.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        let every = runq_record(&hist, 1, Duration::from_secs(2));
        assert_eq!(every.op, "runq_latency");
        assert_eq!(field(&every, "waits"), Some(Value::Uint(5)));
        assert_eq!(field(&every, "measured"), Some(Value::Uint(5)));
        let slots = vec![("<2us".into(), Value::Uint(4)), (">=1ms".into(), Value::Uint(1))];
        assert_eq!(field(&every, "runq_hist"), Some(Value::Map(slots)));
        // one wait in 8 measured: each counts for 8
        let sampled = runq_record(&hist, 8, Duration::from_secs(2));
        assert_eq!(field(&sampled, "waits"), Some(Value::Uint(40)));
        assert_eq!(field(&sampled, "measured"), Some(Value::Uint(5)));
        assert_eq!(field(&sampled, "sample_one_in"), Some(Value::Uint(8)));
        let slots = vec![("<2us".into(), Value::Uint(32)), (">=1ms".into(), Value::Uint(8))];
        assert_eq!(field(&sampled, "runq_hist"), Some(Value::Map(slots)));
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
