//! What a module thread gets from the agent, and the loop every module runs:
//! poll its ring buffer with a stop flag, hand records to the writer without ever
//! blocking, publish its kernel counters.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use crossbeam_channel::{Sender, TrySendError};
use libbpf_rs::{Link, MapCore, MapFlags, RingBuffer, RingBufferBuilder};

use crate::config::{Mode, Target};
use crate::logging::Record;
use crate::probe::{Capabilities, Enforcement};

/// A module's effective state, as the start record reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleState {
    Enforcing,
    AuditOnly,
    Off,
}

impl ModuleState {
    /// Enforcing only in block mode with BPF LSM; audit-only otherwise, or off.
    pub fn of(enable: bool, mode: Mode, caps: &Capabilities) -> ModuleState {
        match (enable, caps.enforcement(), mode) {
            (false, _, _) => ModuleState::Off,
            (true, Enforcement::Full, Mode::Block) => ModuleState::Enforcing,
            (true, _, _) => ModuleState::AuditOnly,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ModuleState::Enforcing => "enforcing",
            ModuleState::AuditOnly => "audit-only",
            ModuleState::Off => "off",
        }
    }
}

/// A module thread's body: it reports on the sender once attached (or failed).
pub type ModuleBody = Box<dyn FnOnce(ModuleContext, Sender<anyhow::Result<()>>) -> anyhow::Result<()> + Send>;

/// A module ready to start: its effective state and the body of its thread, which
/// opens, loads and attaches its BPF object, reports on `ready`, then polls until
/// the agent stops. Everything it attached lives in that thread's frame.
pub struct Prepared {
    pub name: &'static str,
    pub state: ModuleState,
    pub run: ModuleBody,
}

/// `enum sg_target` (bpf/safeguard.h) for the `sg_target` switch of every program.
pub fn target_code(target: Target) -> u32 {
    match target {
        Target::All => 0,
        Target::Host => 1,
        Target::Container => 2,
    }
}

/// The inode of the agent's own pid namespace: the kernel side counts a task as in a
/// "container" when a privileged process made a pid namespace between it and this one.
pub fn agent_pidns() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self/ns/pid").map(|m| m.ino() as u32).unwrap_or(0)
}

/// `SG_OP_SLOTS` (bpf/safeguard.h): kernel event counts are kept per op number.
pub const OP_SLOTS: usize = 64;

/// Counters of one module, for the agent's lifetime: every instance of the module
/// (a reload starts a new one) adds to them.
#[derive(Debug)]
pub struct ModuleStats {
    /// Records decoded from the ring buffer and handed to the writer's queue.
    pub events: AtomicU64,
    /// Records dropped because the writer's queue was full.
    pub queue_full: AtomicU64,
    /// Paths resolved only in part.
    pub truncated: AtomicU64,
    /// Ring-buffer records that could not be decoded.
    pub malformed: AtomicU64,
    /// Per op (`sg_header.op`): events the kernel emitted...
    pub emitted: [AtomicU64; OP_SLOTS],
    /// ...and those of them its ring buffer could not take.
    pub ringbuf_full: [AtomicU64; OP_SLOTS],
    /// File: new inodes of rule paths that the identity map had no room for.
    pub lost_identities: AtomicU64,
}

impl Default for ModuleStats {
    fn default() -> ModuleStats {
        ModuleStats {
            events: AtomicU64::new(0),
            queue_full: AtomicU64::new(0),
            truncated: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            lost_identities: AtomicU64::new(0),
            emitted: std::array::from_fn(|_| AtomicU64::new(0)),
            ringbuf_full: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// What one running instance of a module gets from the agent.
#[derive(Clone)]
pub struct ModuleContext {
    pub records: Sender<Record>,
    pub stats: Arc<ModuleStats>,
    /// Cleared by the agent to stop this instance (at exit, or when a reload replaced it).
    pub running: Arc<AtomicBool>,
    /// Records this instance took from its ring buffer: at its end the kernel's
    /// count of what it queued must reach this.
    pub taken: Arc<AtomicU64>,
}

impl ModuleContext {
    pub fn new(records: Sender<Record>, stats: Arc<ModuleStats>, running: Arc<AtomicBool>) -> ModuleContext {
        ModuleContext { records, stats, running, taken: Arc::default() }
    }

    /// Hands an event's record to the writer; never blocks (this runs inside a
    /// ring-buffer callback): a full queue is counted.
    pub fn send(&self, record: Record) {
        self.stats.events.fetch_add(1, Ordering::Relaxed);
        self.enqueue(record);
    }

    /// Hands the writer a record that is not a kernel event (a module's own warning).
    pub fn report(&self, record: Record) {
        debug_assert!(!record.event);
        self.enqueue(record);
    }

    fn enqueue(&self, record: Record) {
        let event = record.event;
        match self.records.try_send(record) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) if event => {
                self.stats.queue_full.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) => log::error!("log queue full: a module's own record was dropped"),
        }
    }

    pub fn malformed(&self, what: &str, len: usize) {
        if self.stats.malformed.fetch_add(1, Ordering::Relaxed) == 0 {
            log::error!("undecodable ring-buffer record ({what}, {len} bytes): is the BPF object out of date?");
        }
    }
}

/// Each module's ring buffer: 4 MiB, or `SAFEGUARD_RING_KIB` KiB (a power of two,
/// at least 4), a diagnostic knob with which the tests make the kernel lose events.
pub fn ring_buffer_bytes() -> u32 {
    const DEFAULT: u32 = 4 << 20;
    let Some(kib) = std::env::var("SAFEGUARD_RING_KIB").ok().and_then(|v| v.parse::<u32>().ok()) else {
        return DEFAULT;
    };
    match kib.checked_mul(1024) {
        Some(bytes) if kib >= 4 && kib.is_power_of_two() => bytes,
        _ => {
            log::warn!("SAFEGUARD_RING_KIB={kib} is not a power of two from 4 to 4194304; using 4 MiB");
            DEFAULT
        }
    }
}

/// Connects a module's ring buffer to its decoder: every record goes to `handle`,
/// which decodes and hands off without blocking.
pub fn ring_buffer<'a>(
    name: &str,
    events: &'a dyn MapCore,
    ctx: &ModuleContext,
    mut handle: impl FnMut(&[u8]) + 'a,
) -> anyhow::Result<RingBuffer<'a>> {
    let taken = ctx.taken.clone();
    let mut builder = RingBufferBuilder::new();
    builder
        .add(events, move |data: &[u8]| {
            taken.fetch_add(1, Ordering::Relaxed);
            handle(data);
            0
        })
        .with_context(|| format!("{name}: ring buffer"))?;
    builder.build().with_context(|| format!("{name}: ring buffer"))
}

/// A setup step's value, or None after handing its error to the agent, which then
/// detaches everything and exits 1.
pub fn or_report<T>(result: anyhow::Result<T>, ready: &Sender<anyhow::Result<()>>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(err) => {
            let _ = ready.send(Err(err));
            None
        }
    }
}

const POLL_INTERVAL: Duration = Duration::from_millis(200);
const COUNTER_INTERVAL: Duration = Duration::from_secs(1);
/// How long a stopping instance waits for its last events to show in its counters.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

// Indexes of the per-module counters map (enum sg_counter).
const SG_COUNTER_TRUNCATED: u32 = 0;
const SG_COUNTER_IDENTITIES_FULL: u32 = 1;

/// The maps every module's BPF object shares (bpf/common.bpf.h).
pub struct KernelCounters<'a> {
    /// `sg_counters`
    pub counters: &'a dyn MapCore,
    /// `sg_op_counts`
    pub op_counts: &'a dyn MapCore,
}

/// Polls until the agent stops this instance, running `tick` after every poll on
/// the module's thread (the network module re-resolves its domains there). Then
/// detaches, so that nothing is emitted any more, and drains: the last records
/// and the kernel's final counts agree (see `drain`).
pub fn poll_until_stopped(
    name: &str,
    ring: &RingBuffer<'_>,
    kernel: KernelCounters<'_>,
    links: Vec<Link>,
    ctx: &ModuleContext,
    mut tick: impl FnMut(),
) -> anyhow::Result<()> {
    let mut published = Published::new();
    let mut last_counters = Instant::now();
    while ctx.running.load(Ordering::Relaxed) {
        match ring.poll(POLL_INTERVAL) {
            Ok(()) => {}
            Err(err) if err.kind() == libbpf_rs::ErrorKind::Interrupted => {}
            Err(err) => return Err(err).with_context(|| format!("{name}: poll ring buffer")),
        }
        ring.consume().with_context(|| format!("{name}: consume ring buffer"))?;
        tick();
        if last_counters.elapsed() >= COUNTER_INTERVAL {
            published.update(&kernel, &ctx.stats);
            last_counters = Instant::now();
        }
    }
    drop(links);
    drain(name, ring, &kernel, ctx, &mut published)
}

/// Consumes what is left until every event the kernel queued was taken: a program
/// that was running when its link went may still emit one last record.
fn drain(
    name: &str,
    ring: &RingBuffer<'_>,
    kernel: &KernelCounters<'_>,
    ctx: &ModuleContext,
    published: &mut Published,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + DRAIN_LIMIT;
    loop {
        ring.consume().with_context(|| format!("{name}: consume ring buffer"))?;
        published.update(kernel, &ctx.stats);
        let taken = ctx.taken.load(Ordering::Relaxed);
        if published.queued() == taken {
            return Ok(());
        }
        if Instant::now() >= deadline {
            log::error!("{name}: the kernel queued {} records but {taken} were taken", published.queued());
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The kernel counts of one instance as last added to the module's stats, so that
/// only the difference is added each time (instances share the stats).
struct Published {
    truncated: u64,
    lost_identities: u64,
    emitted: [u64; OP_SLOTS],
    lost: [u64; OP_SLOTS],
}

impl Published {
    fn new() -> Published {
        Published { truncated: 0, lost_identities: 0, emitted: [0; OP_SLOTS], lost: [0; OP_SLOTS] }
    }

    fn update(&mut self, kernel: &KernelCounters<'_>, stats: &ModuleStats) {
        let add = |counter: &AtomicU64, last: &mut u64, now: u64| {
            counter.fetch_add(now.saturating_sub(*last), Ordering::Relaxed);
            *last = now.max(*last);
        };
        add(&stats.truncated, &mut self.truncated, sum_per_cpu(kernel.counters, SG_COUNTER_TRUNCATED, 0));
        let identities = sum_per_cpu(kernel.counters, SG_COUNTER_IDENTITIES_FULL, 0);
        add(&stats.lost_identities, &mut self.lost_identities, identities);
        for op in 0..OP_SLOTS {
            let key = op as u32;
            add(&stats.emitted[op], &mut self.emitted[op], sum_per_cpu(kernel.op_counts, key, 0));
            add(&stats.ringbuf_full[op], &mut self.lost[op], sum_per_cpu(kernel.op_counts, key, 8));
        }
    }

    /// Events this instance's ring buffer took.
    fn queued(&self) -> u64 {
        self.emitted.iter().sum::<u64>() - self.lost.iter().sum::<u64>()
    }
}

/// Sum over the CPUs of the u64 at `offset` in a per-CPU array's value.
fn sum_per_cpu(map: &dyn MapCore, index: u32, offset: usize) -> u64 {
    match map.lookup_percpu(&index.to_ne_bytes(), MapFlags::ANY) {
        Ok(Some(per_cpu)) => per_cpu
            .iter()
            .filter_map(|bytes| bytes.get(offset..offset + 8).and_then(|b| b.try_into().ok()).map(u64::from_ne_bytes))
            .sum(),
        _ => 0,
    }
}
