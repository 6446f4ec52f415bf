//! What a module thread gets from the agent: its state, its stats, and a context
//! that hands records to the writer without ever blocking. The life cycle that uses
//! them is `runtime.rs`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Sender, TrySendError};

use super::log_thread::ToWriter;
use super::persist::Persist;
use crate::config::Mode;
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

/// A module thread's body: it reports on the sender once attached (or failed), with
/// the pinned instances it adopted.
pub type ModuleBody =
    Box<dyn FnOnce(ModuleContext, Sender<anyhow::Result<Vec<Adoption>>>) -> anyhow::Result<()> + Send>;

/// A pinned instance of another agent that a new instance replaced (`[agent] persist`).
#[derive(Clone, Debug)]
pub struct Adoption {
    /// Its directory name under /sys/fs/bpf/safeguard.
    pub instance: String,
    pub pinned_at: std::time::SystemTime,
    /// Records read from its ring buffer (produced while no agent ran, or not yet read
    /// when its agent died).
    pub records: u64,
    /// Its kernel's count of events its ring buffer could not take, since it was loaded.
    pub lost: u64,
    /// Its policy was loaded from the same config section as the new instance's.
    pub same_policy: bool,
    /// Its agent was this version: its records could be decoded.
    pub same_version: bool,
    /// What went wrong while taking it over (it may still be pinned).
    pub error: Option<String>,
}

/// A module ready to start: its effective state and the body of its thread, which
/// opens, loads and attaches its BPF object, reports on `ready`, then polls until
/// the agent stops. Everything it attached lives in that thread's frame.
pub struct Prepared {
    pub name: &'static str,
    pub state: ModuleState,
    pub run: ModuleBody,
}

/// The inode of the agent's own pid namespace: the kernel side counts a task as in a
/// "container" when a privileged process made a pid namespace between it and this one.
pub fn agent_pidns() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self/ns/pid").map(|m| m.ino() as u32).unwrap_or(0)
}

/// `SG_OP_SLOTS` (bpf/safeguard.h): kernel event counts are kept per op number.
pub const OP_SLOTS: usize = crate::bpf::sg::sg_op_slots::SG_OP_SLOTS.0 as usize;

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
    /// Records read from the ring buffers of pinned instances this agent adopted
    /// (their kernel counts belong to the agent that loaded them).
    pub adopted: AtomicU64,
}

impl Default for ModuleStats {
    fn default() -> ModuleStats {
        ModuleStats {
            events: AtomicU64::new(0),
            queue_full: AtomicU64::new(0),
            truncated: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            lost_identities: AtomicU64::new(0),
            adopted: AtomicU64::new(0),
            emitted: std::array::from_fn(|_| AtomicU64::new(0)),
            ringbuf_full: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// What one running instance of a module gets from the agent.
#[derive(Clone)]
pub struct ModuleContext {
    pub records: Sender<ToWriter>,
    pub stats: Arc<ModuleStats>,
    /// Cleared by the agent to stop this instance (at exit, or when a reload replaced it).
    pub running: Arc<AtomicBool>,
    /// Records this instance took from its ring buffer: at its end the kernel's
    /// count of what it queued must reach this.
    pub taken: Arc<AtomicU64>,
    /// Where this instance publishes its rules' hit counters (`status`, metrics).
    pub rules: super::hits::RuleSlot,
    /// `[agent] persist`, or pins left to adopt: where this instance pins, adopts.
    pub persist: Option<Arc<Persist>>,
    /// The hash of the module's config section, in its pin directory's name.
    pub policy: u64,
    /// Set by the agent before it clears `running` when the instance must stay pinned
    /// (the agent exits with persist on) rather than be detached (replaced by a reload).
    pub keep: Arc<AtomicBool>,
}

impl ModuleContext {
    pub fn new(records: Sender<ToWriter>, stats: Arc<ModuleStats>, running: Arc<AtomicBool>) -> ModuleContext {
        ModuleContext {
            records,
            stats,
            running,
            taken: Arc::default(),
            rules: Arc::default(),
            persist: None,
            policy: 0,
            keep: Arc::default(),
        }
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
        match self.records.try_send(ToWriter::Record(record)) {
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
