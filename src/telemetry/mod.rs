//! The telemetry module (SPEC section 10): CPU time, context switches, run-queue wait
//! and traffic per process, run-queue latency, drops by reason and forwarded packets
//! per host, counted in the kernel (bpf/telemetry.bpf.c) and read here every
//! `interval`: the top processes of each ranking become `resource` records, the
//! host's waits a `runq_latency` record, each drop reason a `net_drop` record; what
//! the kernel's tables had no room for an `overflow` record. Nothing goes through the
//! ring buffer. Records: docs/telemetry.md.

pub mod counts;

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use anyhow::Context;
use libbpf_rs::skel::OpenSkel;
use libbpf_rs::{MapCore, MapFlags};

use crate::agent::module::{ModuleContext, ModuleState, Prepared};
use crate::agent::runtime::{self, load_only, Decoder, Program};
use crate::bpf::telemetry::{OpenTelemetrySkel, TelemetrySkel, TelemetrySkelBuilder};
use crate::bpf::{decode, sg};
use crate::config::{Measure, TelemetryConfig};
use crate::logging::{Level, Record, Value};
use crate::probe::{Capabilities, HookKind};
use counts::{Counts, Identity, Snapshots, Symbols, Thread, Threads, HIST_SLOTS};

pub use counts::NAME;

/// The hook table (bpf/telemetry.bpf.c), by measure.
pub const PROGRAMS: &[Program<&'static str>] = &[
    Program::new("sg_tel_thread_exit", HookKind::Tracepoint, "sched_process_exit", &["cpu", "runq"]),
    Program::new("sg_tel_switch", HookKind::Tracepoint, "sched_switch", &["runq"]),
    Program::new("sg_tel_wakeup", HookKind::Tracepoint, "sched_wakeup", &["runq"]),
    Program::new("sg_tel_wakeup_new", HookKind::Tracepoint, "sched_wakeup_new", &["runq"]),
    Program::new("sg_tel_exec", HookKind::Tracepoint, "sched_process_exec", &["cpu", "runq", "net"]),
    Program::new("sg_tel_tcp_send", HookKind::Function, "tcp_sendmsg", &["net"]),
    Program::new("sg_tel_udp_send", HookKind::Function, "udp_sendmsg", &["net"]),
    Program::new("sg_tel_udp6_send", HookKind::Function, "udpv6_sendmsg", &["net"]),
    Program::new("sg_tel_tcp_recv", HookKind::Function, "tcp_recvmsg", &["net"]),
    Program::new("sg_tel_tcp_recv_nonblock", HookKind::Function, "tcp_recvmsg", &["net"]),
    Program::new("sg_tel_tcp_splice", HookKind::Function, "tcp_splice_read", &["net"]),
    Program::new("sg_tel_udp_recv", HookKind::Function, "skb_consume_udp", &["net"]),
    Program::new("sg_tel_connect", HookKind::Function, "tcp_connect", &["net"]),
    Program::new("sg_tel_kfree_skb", HookKind::Tracepoint, "kfree_skb", &["drops"]),
    Program::new("sg_tel_forward", HookKind::Function, "ip_forward", &["drops"]),
    Program::new("sg_tel_forward6", HookKind::Function, "ip6_forward", &["drops"]),
];

/// The kernel's drop reasons by number (`enum skb_drop_reason`, Linux 5.17+), or
/// None on a kernel that frees packets without a reason.
pub fn drop_reasons() -> Option<HashMap<u32, String>> {
    use libbpf_rs::btf::types::Enum;
    let btf = libbpf_rs::btf::Btf::from_vmlinux().ok()?;
    let reasons = btf.type_by_name::<Enum<'_>>("skb_drop_reason")?;
    let names = reasons
        .iter()
        .filter_map(|member| {
            let name = member.name?.to_string_lossy();
            let name = name.strip_prefix("SKB_DROP_REASON_").unwrap_or(&name).to_string();
            Some((u32::try_from(member.value).ok()?, name))
        })
        .collect();
    Some(names)
}

/// Whether the kernel keeps sched_info (CONFIG_SCHED_INFO, collected: with
/// CONFIG_SCHEDSTATS or delay accounting on 5.10), from /proc/self/schedstat
/// ("CPU-time wait-time timeslices"): a running process has had a timeslice.
pub fn sched_info_kept(schedstat: &str) -> bool {
    schedstat.split_whitespace().nth(2).and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n > 0)
}

/// Whether tcp_recvmsg still takes `nonblock` (before 5.19: six parameters; from 5.19
/// five): which of sg_tel_tcp_recv_nonblock and sg_tel_tcp_recv is loaded.
pub fn tcp_recvmsg_has_nonblock() -> bool {
    use libbpf_rs::btf::types::{Func, FuncProto};
    use libbpf_rs::btf::ReferencesType;
    let Ok(btf) = libbpf_rs::btf::Btf::from_vmlinux() else { return false };
    btf.type_by_name::<Func<'_>>("tcp_recvmsg")
        .and_then(|func| FuncProto::try_from(func.referenced_type()).ok())
        .is_some_and(|proto| proto.len() == 6)
}

/// Whether a thread's CFS queue names its run queue (`struct cfs_rq` has `rq`:
/// CONFIG_FAIR_GROUP_SCHED), through which sg_tel_switch reads the scheduler's clock
/// to time a wait against sched_info.
pub fn cfs_rq_has_rq() -> bool {
    use libbpf_rs::btf::types::Struct;
    let Ok(btf) = libbpf_rs::btf::Btf::from_vmlinux() else { return false };
    btf.type_by_name::<Struct<'_>>("cfs_rq")
        .is_some_and(|cfs_rq| cfs_rq.iter().any(|member| member.name.is_some_and(|name| name == "rq")))
}

/// The measures this kernel cannot take, and why (for `probe` and the start): true
/// when the measure is off, false when it is taken with less detail.
pub fn missing_measures(caps: &Capabilities) -> Vec<(Measure, String, bool)> {
    let mut missing = Vec::new();
    let absent = |measure: &str| -> Vec<&str> {
        PROGRAMS.iter().filter(|p| p.ops == [measure] && !caps.hook_present(p.hook)).map(|p| p.hook).collect()
    };
    if let Err(err) = &caps.fentry_attach {
        missing.push((Measure::Net, format!("per-process traffic needs fentry programs, refused here ({err})"), true));
    } else if !absent("net").is_empty() {
        missing.push((Measure::Net, format!("no kernel function {}", absent("net").join(", ")), true));
    }
    if !caps.hook_present("sched_process_exit") {
        missing.push((Measure::Cpu, "no sched_process_exit tracepoint".into(), true));
    }
    if !caps.hook_present("sched_process_exit") || !absent("runq").is_empty() {
        missing.push((Measure::Runq, "no sched_process_exit, sched_switch or sched_wakeup tracepoint".into(), true));
    }
    if !caps.hook_present("kfree_skb") {
        missing.push((Measure::Drops, "no kfree_skb tracepoint".into(), true));
    } else if drop_reasons().is_none() {
        let why = "no drop reasons before Linux 5.17: drops are named by where the kernel freed them";
        missing.push((Measure::Drops, why.into(), false));
    }
    missing
}

pub fn prepare(config: &TelemetryConfig, caps: &Capabilities, agent_pidns: u32) -> Prepared {
    let mut config = config.clone();
    let mut state = if config.enable { ModuleState::AuditOnly } else { ModuleState::Off };
    if state != ModuleState::Off {
        for (measure, why, off) in missing_measures(caps) {
            if config.measures.contains(&measure) && off {
                log::warn!("telemetry: {measure} is off on this kernel: {why}");
                config.measures.remove(&measure);
            } else if config.measures.contains(&measure) {
                log::info!("telemetry: {why}");
            }
        }
        if config.measures.is_empty() {
            state = ModuleState::Off;
        }
    }
    // Forwarded packets are counted with fentry: without it, drops alone.
    let forward = caps.fentry_attach.is_ok() && caps.hook_present("ip_forward") && caps.hook_present("ip6_forward");
    runtime::prepare(state, move || {
        let reasons = drop_reasons();
        let symbols = match reasons {
            Some(_) => Symbols::default(),
            None => Symbols::parse(&std::fs::read_to_string("/proc/kallsyms").unwrap_or_default()),
        };
        Ok(Telemetry {
            config,
            agent_pidns,
            forward,
            // SAFEGUARD_TELEMETRY_WAKEUPS: a diagnostic knob with which the tests
            // take the path of a kernel without sched_info on one that has it.
            sched_info: sched_info_kept(&std::fs::read_to_string("/proc/self/schedstat").unwrap_or_default())
                && cfs_rq_has_rq()
                && std::env::var_os("SAFEGUARD_TELEMETRY_WAKEUPS").is_none(),
            reasons,
            symbols,
            snapshots: Snapshots::default(),
            threads: Threads::default(),
            hist: [0; HIST_SLOTS],
            drops: HashMap::new(),
            counters: [0; COUNTERS],
            last: Instant::now(),
        })
    })
}

const COUNTERS: usize = sg::sg_tel_counter::SG_TEL_COUNTER_MAX.0 as usize;

struct Telemetry {
    config: TelemetryConfig,
    agent_pidns: u32,
    /// fexit on ip_forward and ip6_forward.
    forward: bool,
    /// The kernel keeps each thread's run-queue wait (sched_info) and sg_tel_switch
    /// can read its clock: no wake-up programs.
    sched_info: bool,
    reasons: Option<HashMap<u32, String>>,
    /// Where packets were freed, on a kernel without drop reasons.
    symbols: Symbols,
    snapshots: Snapshots,
    threads: Threads,
    /// The host's run-queue waits by slot, last read (summed over the CPUs).
    hist: [u64; HIST_SLOTS],
    /// The drop counts last read, by (location, reason).
    drops: HashMap<(u64, u32), u64>,
    /// `tel_counters` last read.
    counters: [u64; COUNTERS],
    last: Instant,
}

impl Telemetry {
    fn on(&self, measure: Measure) -> bool {
        self.config.measures.contains(&measure)
    }

    /// One wait in how many the histogram measures: the wake-up programs, timing
    /// every wait for the process's total anyway, count each.
    fn runq_sample(&self) -> u32 {
        if self.sched_info {
            self.config.runq_sample
        } else {
            1
        }
    }

    /// One interval: reads every table, writes the records.
    fn report(&mut self, skel: &TelemetrySkel<'_>, ctx: &ModuleContext) {
        let interval = self.last.elapsed();
        self.last = Instant::now();
        let threads = if self.on(Measure::Cpu) || self.on(Measure::Runq) {
            self.threads_read(skel).unwrap_or_else(|err| {
                log::warn!("telemetry: threads not read: {err:#}");
                Vec::new()
            })
        } else {
            Vec::new()
        };
        for record in self.processes(&skel.maps.tel_procs, threads, interval) {
            ctx.report(record);
        }
        if self.on(Measure::Runq) {
            let now = runq_hist(&skel.maps.tel_cpu);
            let delta: [u64; HIST_SLOTS] = std::array::from_fn(|i| now[i].saturating_sub(self.hist[i]));
            self.hist = now;
            if delta.iter().any(|&n| n > 0) {
                ctx.report(counts::runq_record(&delta, self.runq_sample(), interval));
            }
        }
        for record in self.drops(&skel.maps.tel_drops, interval) {
            ctx.report(record);
        }
        let now: [u64; COUNTERS] = std::array::from_fn(|i| sum_per_cpu(&skel.maps.tel_counters, i as u32));
        let delta: [u64; COUNTERS] = std::array::from_fn(|i| now[i].saturating_sub(self.counters[i]));
        self.counters = now;
        use sg::sg_tel_counter as c;
        let at = |counter: c| delta[counter.0 as usize];
        if self.forward && self.on(Measure::Drops) && at(c::SG_TEL_FORWARDED) > 0 {
            let mut record = Record::new(Level::Info, NAME, "net_forward");
            record.fields.push(("count", Value::Uint(at(c::SG_TEL_FORWARDED))));
            record.fields.push(("interval_ms", Value::Uint(interval.as_millis() as u64)));
            ctx.report(record);
        }
        let lost = [
            ("processes", at(c::SG_TEL_PROCS_FULL)),
            ("wakeups", at(c::SG_TEL_WAKEUPS_FULL)),
            ("exits", at(c::SG_TEL_EXITS_FULL)),
            ("drop_reasons", at(c::SG_TEL_DROPS_FULL)),
        ];
        if lost.iter().any(|&(_, n)| n > 0) {
            // Never silent: what the bounded tables could not keep, by table.
            let mut record = Record::new(Level::Error, NAME, "overflow");
            record.fields = lost.iter().map(|&(name, n)| (name, Value::Uint(n))).collect();
            record.fields.push(("max_processes", Value::Uint(self.config.max_processes.into())));
            ctx.report(record);
        }
    }

    /// Each process's CPU time, switches and run-queue wait in the interval, as the
    /// scheduler counts its threads: every thread alive (the iterator), then those
    /// that exited since the last read (taken from `tel_exited` only once the listing
    /// worked).
    fn threads_read(&mut self, skel: &TelemetrySkel<'_>) -> anyhow::Result<Vec<(Identity, Counts)>> {
        let listed_at = monotonic_ns();
        let link = skel.progs.sg_tel_threads.attach().context("attach the thread iterator")?;
        let mut listing = libbpf_rs::Iter::new(&link).context("open the thread iterator")?;
        let mut bytes = Vec::new();
        listing.read_to_end(&mut bytes).context("read the thread iterator")?;
        let alive: Vec<Thread> = bytes
            .chunks_exact(size_of::<sg::sg_tel_thread>())
            .filter_map(decode::<sg::sg_tel_thread>)
            .map(|t| Thread::of(&t))
            .collect();
        // The keys first: deleting while walking would restart the walk at each key.
        let exited = &skel.maps.tel_exited;
        let keys: Vec<Vec<u8>> = exited.keys().collect();
        let mut gone = Vec::with_capacity(keys.len());
        for key in &keys {
            if let Ok(Some(value)) = exited.lookup(key, MapFlags::ANY) {
                gone.extend(decode::<sg::sg_tel_thread>(&value).map(|t| Thread::of(&t)));
            }
            let _ = exited.delete(key);
        }
        let mut deltas = self.threads.interval(&alive, &gone, listed_at);
        if !self.on(Measure::Cpu) {
            for (_, counts) in &mut deltas {
                (counts.cpu_ns, counts.switches_voluntary, counts.switches_involuntary) = (0, 0, 0);
            }
        }
        if !self.on(Measure::Runq) || !self.sched_info {
            for (_, counts) in &mut deltas {
                (counts.runq_wait_ns, counts.runq_waits) = (0, 0);
            }
        }
        Ok(deltas)
    }

    fn processes(&mut self, map: &dyn MapCore, threads: Vec<(Identity, Counts)>, interval: Duration) -> Vec<Record> {
        let mut deltas = Vec::new();
        let mut gone = Vec::new();
        for key in map.keys() {
            let Ok(Some(value)) = map.lookup(&key, MapFlags::ANY) else { continue };
            let (Some(proc), Ok(pid)) = (decode::<sg::sg_tel_proc>(&value), key.as_slice().try_into()) else {
                continue;
            };
            let pid = u32::from_ne_bytes(pid);
            let who = Identity {
                pid,
                start_time: proc.start_time,
                cgroup_id: proc.cgroup_id,
                container: proc.flags & sg::sg_flag::SG_FLAG_CONTAINER.0 != 0,
                comm: crate::bpf::c_bytes(&proc.comm).to_vec(),
            };
            let delta = self.snapshots.delta(&who, Counts::of(&proc));
            // The process is gone: this was its last interval; its entry makes room.
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                gone.push(key);
            }
            if !delta.is_zero() {
                deltas.push((who, delta));
            }
        }
        for key in &gone {
            let _ = map.delete(key);
        }
        let live: std::collections::HashSet<u32> =
            map.keys().filter_map(|k| k.as_slice().try_into().ok().map(u32::from_ne_bytes)).collect();
        self.snapshots.retain(|pid| live.contains(&pid));
        let mut index: HashMap<(u32, u64), usize> =
            deltas.iter().enumerate().map(|(i, (who, _))| ((who.pid, who.start_time), i)).collect();
        for (who, counts) in threads {
            match index.get(&(who.pid, who.start_time)) {
                Some(&i) => deltas[i].1.add(&counts),
                None => {
                    index.insert((who.pid, who.start_time), deltas.len());
                    deltas.push((who, counts));
                }
            }
        }
        counts::top(&deltas, self.config.top as usize)
            .into_iter()
            .map(|(index, rankings)| {
                let (who, counts) = &deltas[index];
                let exe = std::fs::read_link(format!("/proc/{}/exe", who.pid)).ok();
                let exe = exe.map(|path| path.as_os_str().as_bytes().to_vec());
                counts::resource_record(who, exe, counts, &rankings, interval)
            })
            .collect()
    }

    fn drops(&mut self, map: &dyn MapCore, interval: Duration) -> Vec<Record> {
        let mut records = Vec::new();
        for key in map.keys() {
            let Ok(Some(value)) = map.lookup(&key, MapFlags::ANY) else { continue };
            let (Some(drop), Ok(count)) = (decode::<sg::sg_tel_drop_key>(&key), value.as_slice().try_into()) else {
                continue;
            };
            let count = u64::from_ne_bytes(count);
            let before = self.drops.insert((drop.location, drop.reason), count).unwrap_or(0);
            let delta = count.saturating_sub(before);
            if delta == 0 {
                continue;
            }
            let record = match &self.reasons {
                Some(names) => counts::drop_record(&counts::reason_name(names, drop.reason), None, delta, interval),
                None => counts::drop_record("unknown", Some(self.symbols.name(drop.location)), delta, interval),
            };
            records.push(record);
        }
        records
    }
}

impl runtime::Module for Telemetry {
    const NAME: &'static str = NAME;
    const NEEDS_A_PROGRAM: bool = true;
    type Skel = TelemetrySkelBuilder;

    fn configure(&self, open: &mut OpenTelemetrySkel<'_>) -> anyhow::Result<()> {
        let (cpu, runq, net, drops) =
            (self.on(Measure::Cpu), self.on(Measure::Runq), self.on(Measure::Net), self.on(Measure::Drops));
        let rodata = open.maps.rodata_data.as_deref_mut().context("telemetry: no rodata")?;
        rodata.sg_agent_pidns = self.agent_pidns;
        rodata.sg_tel_threads_on = u32::from(cpu || runq);
        rodata.sg_tel_runq_wakeups = u32::from(!self.sched_info);
        rodata.sg_tel_runq_sample = self.runq_sample();
        let processes = self.config.max_processes;
        open.maps.tel_procs.set_max_entries(processes).context("telemetry: process table size")?;
        // Threads waiting to run: a few per process; at least what a small host needs.
        // Unused where the kernel keeps sched_info.
        let wakeups = if self.sched_info { 64 } else { processes.saturating_mul(4).max(4096) };
        open.maps.tel_wakeups.set_max_entries(wakeups).context("telemetry: wakeups")?;
        let cpus = libbpf_rs::num_possible_cpus().context("telemetry: possible CPUs")? as u32;
        open.maps.tel_cpu.set_max_entries(cpus.max(1)).context("telemetry: CPU table size")?;
        // Threads that exit in one interval; the agent empties the table every interval.
        open.maps.tel_exited.set_max_entries(processes).context("telemetry: exited threads")?;
        // Nothing is queued: the smallest ring buffer the kernel takes.
        open.maps.sg_events.set_max_entries(4096).context("telemetry: ring buffer size")?;
        let (forward, sched_info) = (self.forward, self.sched_info);
        let nonblock = net && tcp_recvmsg_has_nonblock();
        load_only(open.open_object_mut(), |program| match program {
            "sg_tel_threads" | "sg_tel_thread_exit" => cpu || runq,
            "sg_tel_switch" => runq,
            "sg_tel_wakeup" | "sg_tel_wakeup_new" => runq && !sched_info,
            "sg_tel_exec" => cpu || runq || net,
            "sg_tel_kfree_skb" => drops,
            "sg_tel_forward" | "sg_tel_forward6" => drops && forward,
            "sg_tel_tcp_recv" => net && !nonblock,
            "sg_tel_tcp_recv_nonblock" => nonblock,
            _ => net,
        });
        Ok(())
    }

    fn fill(&mut self, _skel: &TelemetrySkel<'_>, _ctx: &ModuleContext) -> anyhow::Result<()> {
        if self.on(Measure::Runq) {
            let how = match self.sched_info {
                true => "the kernel's sched_info",
                false => "wake-up programs (no sched_info, or no CONFIG_FAIR_GROUP_SCHED)",
            };
            log::info!("telemetry: run-queue wait from {how}, 1 wait in {} in the histogram", self.runq_sample());
        }
        self.last = Instant::now();
        Ok(())
    }

    /// The base the first interval is diffed against, read once the exit program is
    /// attached (no exit falls between).
    fn attached(&mut self, skel: &TelemetrySkel<'_>, _ctx: &ModuleContext) -> anyhow::Result<()> {
        if self.on(Measure::Cpu) || self.on(Measure::Runq) {
            if let Err(err) = self.threads_read(skel) {
                log::warn!("telemetry: threads not listed: {err:#}; the first interval counts them whole");
            }
        }
        Ok(())
    }

    fn decoder(&self) -> Decoder {
        // The programs queue nothing: whatever arrives is not ours.
        Box::new(|data, ctx| ctx.malformed("telemetry event", data.len()))
    }

    fn tick(&mut self, skel: &TelemetrySkel<'_>, ctx: &ModuleContext) {
        if self.last.elapsed() >= self.config.interval {
            self.report(skel, ctx);
        }
    }
}

/// CLOCK_MONOTONIC in ns: the clock of a task's start_time.
fn monotonic_ns() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given, nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// The host's run-queue waits by slot so far: `tel_cpu`'s rows (one per CPU) summed.
fn runq_hist(map: &dyn MapCore) -> [u64; HIST_SLOTS] {
    let mut sum = [0; HIST_SLOTS];
    for cpu in 0..map.max_entries() {
        if let Ok(Some(row)) = map.lookup(&cpu.to_ne_bytes(), MapFlags::ANY) {
            for (total, n) in sum.iter_mut().zip(decode::<sg::sg_tel_cpu>(&row).map(|r| r.hist).unwrap_or_default()) {
                *total += n;
            }
        }
    }
    sum
}

/// Sum over the CPUs of a per-CPU u64 counter.
fn sum_per_cpu(map: &dyn MapCore, index: u32) -> u64 {
    match map.lookup_percpu(&index.to_ne_bytes(), MapFlags::ANY) {
        Ok(Some(per_cpu)) => per_cpu
            .iter()
            .filter_map(|bytes| bytes.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_ne_bytes))
            .sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::sched_info_kept;

    #[test]
    fn sched_info_from_schedstat() {
        assert!(sched_info_kept("1523987 20871 12\n"));
        // sched_info compiled in but not collected (5.10 without schedstats or delay accounting)
        assert!(!sched_info_kept("0 0 0\n"));
        // no /proc/PID/schedstat: no CONFIG_SCHED_INFO
        assert!(!sched_info_kept(""));
        assert!(!sched_info_kept("garbage"));
    }
}
