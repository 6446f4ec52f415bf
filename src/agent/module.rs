//! What a module thread gets from the agent, and the loop every module runs:
//! poll its ring buffer with a stop flag, hand records to the writer without ever
//! blocking, publish its kernel counters.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use crossbeam_channel::{Sender, TrySendError};
use libbpf_rs::{MapCore, MapFlags, RingBuffer, RingBufferBuilder};

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

/// A module ready to start: its effective state and the body of its thread, which
/// opens, loads and attaches its BPF object, reports on `ready`, then polls until
/// the agent stops. Everything it attached lives in that thread's frame.
pub struct Prepared {
    pub name: &'static str,
    pub state: ModuleState,
    pub run: Box<dyn FnOnce(ModuleContext, Sender<anyhow::Result<()>>) -> anyhow::Result<()> + Send>,
}

/// `enum sg_target` (bpf/safeguard.h) for the `sg_target` switch of every program.
pub fn target_code(target: Target) -> u32 {
    match target {
        Target::All => 0,
        Target::Host => 1,
        Target::Container => 2,
    }
}

/// The inode of the agent's own pid namespace: tasks in any other are "container".
pub fn agent_pidns() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self/ns/pid").map(|m| m.ino() as u32).unwrap_or(0)
}

/// Counters of one module; the kernel's are copied in by the module's thread.
#[derive(Debug, Default)]
pub struct ModuleStats {
    /// Records decoded from the ring buffer.
    pub events: AtomicU64,
    /// Events the kernel could not queue (ring buffer full).
    pub ringbuf_full: AtomicU64,
    /// Records dropped because the writer's queue was full.
    pub queue_full: AtomicU64,
    /// Paths resolved only in part.
    pub truncated: AtomicU64,
    /// Ring-buffer records that could not be decoded.
    pub malformed: AtomicU64,
}

#[derive(Clone)]
pub struct ModuleContext {
    pub records: Sender<Record>,
    pub stats: Arc<ModuleStats>,
    pub running: Arc<AtomicBool>,
}

impl ModuleContext {
    /// Hands a record to the writer; never blocks (this runs inside a ring-buffer
    /// callback): a full queue is counted.
    pub fn send(&self, record: Record) {
        self.stats.events.fetch_add(1, Ordering::Relaxed);
        match self.records.try_send(record) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => {
                self.stats.queue_full.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub fn malformed(&self, what: &str, len: usize) {
        if self.stats.malformed.fetch_add(1, Ordering::Relaxed) == 0 {
            log::error!("undecodable ring-buffer record ({what}, {len} bytes): is the BPF object out of date?");
        }
    }
}

/// Connects a module's ring buffer to its decoder: every record goes to `handle`,
/// which decodes and hands off without blocking.
pub fn ring_buffer<'a>(
    name: &str,
    events: &'a dyn MapCore,
    mut handle: impl FnMut(&[u8]) + 'a,
) -> anyhow::Result<RingBuffer<'a>> {
    let mut builder = RingBufferBuilder::new();
    builder
        .add(events, move |data: &[u8]| {
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

// Indexes of the per-module counters map (enum sg_counter).
const SG_COUNTER_RINGBUF_FULL: u32 = 0;
const SG_COUNTER_TRUNCATED: u32 = 1;

/// Polls until the agent stops. The kernel wakes us only past a fill threshold, so
/// a quiet buffer is drained by the poll timeout followed by `consume`.
pub fn poll_until_stopped(
    name: &str,
    ring: &RingBuffer<'_>,
    counters: &dyn MapCore,
    ctx: &ModuleContext,
) -> anyhow::Result<()> {
    let mut last_counters = Instant::now();
    while ctx.running.load(Ordering::Relaxed) {
        match ring.poll(POLL_INTERVAL) {
            Ok(()) => {}
            Err(err) if err.kind() == libbpf_rs::ErrorKind::Interrupted => {}
            Err(err) => return Err(err).with_context(|| format!("{name}: poll ring buffer")),
        }
        ring.consume().with_context(|| format!("{name}: consume ring buffer"))?;
        if last_counters.elapsed() >= COUNTER_INTERVAL {
            publish_counters(counters, &ctx.stats);
            last_counters = Instant::now();
        }
    }
    ring.consume().with_context(|| format!("{name}: consume ring buffer"))?;
    publish_counters(counters, &ctx.stats);
    Ok(())
}

/// `poll_until_stopped` with `tick` run after every poll on the module's thread (the
/// network module re-resolves its domains there).
pub fn poll_until_stopped_with(
    name: &str,
    ring: &RingBuffer<'_>,
    counters: &dyn MapCore,
    ctx: &ModuleContext,
    mut tick: impl FnMut(),
) -> anyhow::Result<()> {
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
            publish_counters(counters, &ctx.stats);
            last_counters = Instant::now();
        }
    }
    ring.consume().with_context(|| format!("{name}: consume ring buffer"))?;
    publish_counters(counters, &ctx.stats);
    Ok(())
}

fn publish_counters(counters: &dyn MapCore, stats: &ModuleStats) {
    stats.ringbuf_full.store(read_counter(counters, SG_COUNTER_RINGBUF_FULL), Ordering::Relaxed);
    stats.truncated.store(read_counter(counters, SG_COUNTER_TRUNCATED), Ordering::Relaxed);
}

/// Sum of a per-CPU counter.
fn read_counter(counters: &dyn MapCore, index: u32) -> u64 {
    match counters.lookup_percpu(&index.to_ne_bytes(), MapFlags::ANY) {
        Ok(Some(per_cpu)) => per_cpu
            .iter()
            .filter_map(|bytes| bytes.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_ne_bytes))
            .sum(),
        _ => 0,
    }
}
