//! The agent's `[inventory]` module: a module without BPF. At start and every `interval`
//! it collects the inventory, writes one `inventory` record (a summary: assets counted by
//! kind, findings by severity and the most severe of them) and one `drift` record per
//! change since the previous collection, judged by `diff` (WARNING when the change adds
//! risk, with its `severity`). Records: docs/inventory.md, "In the agent".
//!
//! Threads: the module's own thread (the runtime's `Prepared` body) only schedules and
//! writes; each collection runs on a short-lived worker thread at low CPU and I/O
//! priority, so that neither the writer nor a module thread waits for a walk of the
//! filesystem, and a stopping agent (or a reload) never waits for one either: the worker
//! is left to finish alone and its result is dropped.
//!
//! Memory: the previous inventory and its findings (for the diff) and at most one
//! collection in flight; a round writes at most `MAX_DRIFT` drift records (the most
//! severe first), the rest are counted in the inventory record.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, RecvTimeoutError, Sender};

use super::diff::{diff, Drift};
use super::{collect, findings, Finding, Inventory, Root, Severity};
use crate::agent::module::{ModuleContext, ModuleState, Prepared};
use crate::config::Config;
use crate::logging::{Level, Record, Value};

pub const NAME: &str = "inventory";

/// Drift records written per round at most.
pub const MAX_DRIFT: usize = 256;
/// Findings named in the inventory record at most (most severe first).
pub const MAX_RISKS: usize = 20;

/// Set by the agent once its `start` record is queued: the first collection waits for
/// it, so that the `inventory` record at start follows the agent's `start` record.
static AGENT_STARTED: AtomicBool = AtomicBool::new(false);

/// The previous collection, kept across instances of the module: a reload that starts a
/// new instance still reports the drift since the last collection.
static PREVIOUS: Mutex<Option<(Inventory, Vec<Finding>)>> = Mutex::new(None);

pub fn agent_started() {
    AGENT_STARTED.store(true, Ordering::Relaxed);
}

/// The module for `config`: audit-only (it observes, never blocks) when enabled.
pub fn prepare(config: &Config) -> Prepared {
    let state = if config.inventory.enable { ModuleState::AuditOnly } else { ModuleState::Off };
    let interval = config.inventory.interval;
    let config = config.clone();
    Prepared { name: NAME, state, run: Box::new(move |ctx, ready| run(interval, config, ctx, ready)) }
}

/// One collection, as the worker hands it over.
struct Collected {
    inventory: Inventory,
    findings: Vec<Finding>,
    wall: Duration,
    cpu: Duration,
}

fn run(
    interval: Duration,
    config: Config,
    ctx: ModuleContext,
    ready: Sender<anyhow::Result<Vec<crate::agent::module::Adoption>>>,
) -> anyhow::Result<()> {
    let _ = ready.send(Ok(Vec::new())); // nothing pinned, nothing adopted
    while !AGENT_STARTED.load(Ordering::Relaxed) {
        if !ctx.running.load(Ordering::Relaxed) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (results, collected) = bounded::<Collected>(1);
    let mut next = Instant::now();
    // The collection running: when it started, and its thread.
    let mut in_flight: Option<(Instant, std::thread::JoinHandle<()>)> = None;
    while ctx.running.load(Ordering::Relaxed) {
        if in_flight.is_none() && Instant::now() >= next {
            let results = results.clone();
            let config = config.clone();
            let spawned = std::thread::Builder::new().name("inventory-collect".into()).spawn(move || {
                let _ = results.send(collect_now(&config));
            });
            match spawned {
                Ok(worker) => in_flight = Some((Instant::now(), worker)),
                Err(err) => {
                    log::error!("inventory: cannot start a collection: {err}");
                    next = Instant::now() + interval;
                }
            }
        }
        let round = match collected.recv_timeout(Duration::from_millis(200)) {
            Ok(round) => Some(round),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let started = in_flight.as_ref().map_or_else(Instant::now, |(started, _)| *started);
        match round {
            Some(round) => {
                in_flight = None;
                // Never two at once: a collection longer than the interval delays the next.
                next = (started + interval).max(Instant::now());
                if ctx.running.load(Ordering::Relaxed) {
                    for record in round_records(round) {
                        ctx.report(record);
                    }
                }
            }
            // A worker that ended without a result panicked (a bug): say so once per
            // round and try again at the next interval rather than never.
            None if in_flight.as_ref().is_some_and(|(_, worker)| worker.is_finished()) && collected.is_empty() => {
                in_flight = None;
                next = started + interval;
                log::error!("inventory: a collection failed; the next one is due in {interval:?}");
            }
            None => {}
        }
    }
    Ok(())
}

/// The worker: collects at low priority and judges.
fn collect_now(config: &Config) -> Collected {
    lower_priority();
    let wall = Instant::now();
    let cpu = thread_cpu();
    let inventory = collect(&Root::live(), None);
    let found = findings(&inventory, Some(config));
    Collected { inventory, findings: found, wall: wall.elapsed(), cpu: thread_cpu().saturating_sub(cpu) }
}

/// The records of one round; updates the previous collection.
fn round_records(round: Collected) -> Vec<Record> {
    let mut previous = PREVIOUS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let drift = previous.as_ref().map(|(inv, found)| diff(inv, found, &round.inventory, &round.findings));
    let records = records(&round.inventory, &round.findings, drift, round.wall, round.cpu);
    *previous = Some((round.inventory, round.findings));
    records
}

/// The `inventory` record and the `drift` records of a round (`drift` None: the first
/// collection, nothing to compare with).
pub fn records(
    inv: &Inventory,
    found: &[Finding],
    drift: Option<Vec<Drift>>,
    wall: Duration,
    cpu: Duration,
) -> Vec<Record> {
    let mut drift = drift;
    let mut omitted = 0;
    if let Some(changes) = drift.as_mut() {
        // Most severe first (stable: inventory order within a severity) when some must go.
        if changes.len() > MAX_DRIFT {
            changes.sort_by_key(|d| std::cmp::Reverse(d.severity));
            omitted = changes.len() - MAX_DRIFT;
            changes.truncate(MAX_DRIFT);
        }
    }
    let mut summary = summary(inv, found, wall, cpu);
    match &drift {
        None => summary.fields.push(("baseline", Value::Bool(true))),
        Some(changes) => {
            summary.fields.push(("drift", Value::Uint((changes.len() + omitted) as u64)));
            if omitted > 0 {
                summary.fields.push(("drift_omitted", Value::Uint(omitted as u64)));
            }
        }
    }
    let mut out = vec![summary];
    out.extend(drift.into_iter().flatten().map(|d| drift_record(&d)));
    out
}

/// The counts of each asset kind (the sections of `diff`).
fn assets(inv: &Inventory) -> Vec<(String, Value)> {
    let count = |n: usize| Value::Uint(n as u64);
    vec![
        ("users".into(), count(inv.users.len())),
        ("uid0".into(), count(inv.users.iter().filter(|u| u.uid == 0).count())),
        ("authorized_keys".into(), count(inv.users.iter().map(|u| u.authorized_keys.len()).sum())),
        ("sudo_rules".into(), count(inv.sudo_rules.len())),
        ("listeners".into(), count(inv.listeners.len())),
        ("deleted_executables".into(), count(inv.deleted_executables.len())),
        ("setid_files".into(), count(inv.setid_files.len())),
        ("file_capabilities".into(), count(inv.file_capabilities.len())),
        ("kernel_modules".into(), count(inv.kernel_modules.loaded.len())),
        ("services".into(), count(inv.services.len())),
        ("cron".into(), count(inv.cron.len())),
        ("packages".into(), count(inv.packages.dpkg.iter().chain(&inv.packages.rpm).map(Vec::len).sum())),
        ("containers".into(), count(inv.containers.running.len())),
    ]
}

fn summary(inv: &Inventory, found: &[Finding], wall: Duration, cpu: Duration) -> Record {
    let by_severity = Severity::ALL
        .iter()
        .rev()
        .map(|s| (s.name().to_string(), Value::Uint(found.iter().filter(|f| f.severity == *s).count() as u64)))
        .collect();
    // `findings` sorts most severe first.
    let risks = found.iter().take(MAX_RISKS).map(|f| Value::Str(format!("{} {}: {}", f.severity, f.id, f.title)));
    let mut record = Record::new(Level::Info, NAME, "inventory")
        .field("assets", Value::Map(assets(inv)))
        .field("findings", Value::Map(by_severity))
        .field("risks", Value::List(risks.collect()));
    if found.len() > MAX_RISKS {
        record.fields.push(("risks_omitted", Value::Uint((found.len() - MAX_RISKS) as u64)));
    }
    record.fields.push(("walk_entries", Value::Uint(inv.walk.entries)));
    if inv.walk.truncated {
        record.fields.push(("walk_truncated", Value::Bool(true)));
    }
    if !inv.unavailable.is_empty() {
        let sections = inv.unavailable.iter().map(|u| Value::Str(u.section.clone())).collect();
        record.fields.push(("unavailable", Value::List(sections)));
    }
    record.fields.push(("duration_ms", Value::Uint(wall.as_millis() as u64)));
    record.fields.push(("cpu_ms", Value::Uint(cpu.as_millis() as u64)));
    record
}

/// One change: WARNING with its `severity` when it adds risk, else INFO.
pub fn drift_record(d: &Drift) -> Record {
    let level = if d.severity.is_some() { Level::Warning } else { Level::Info };
    let mut record = Record::new(level, NAME, "drift")
        .field("asset", Value::Str(d.section.into()))
        .field("change", Value::Str(d.change.into()))
        .field("item", Value::Str(d.item.clone()));
    if let Some(before) = &d.before {
        record.fields.push(("before", Value::Str(before.clone())));
    }
    if let Some(after) = &d.after {
        record.fields.push(("after", Value::Str(after.clone())));
    }
    if let Some(severity) = d.severity {
        record.fields.push(("severity", Value::Str(severity.name().into())));
    }
    if let Some((id, title)) = &d.finding {
        record.fields.push(("finding", Value::Str((*id).into())));
        record.fields.push(("title", Value::Str(title.clone())));
    }
    if !d.resolved.is_empty() {
        record.fields.push(("resolved", Value::List(d.resolved.iter().map(|id| Value::Str((*id).into())).collect())));
    }
    record
}

/// Nice 10 and the idle I/O class for the calling thread (the collector): the walk is
/// one `lstat` per file and must yield to everything else on the host. Failures are
/// harmless (the collection runs at normal priority).
fn lower_priority() {
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) };
    let Ok(tid) = libc::id_t::try_from(tid) else { return };
    // SAFETY: setpriority on this thread's own id; no memory is passed.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, 10) };
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    const IOPRIO_CLASS_IDLE: libc::c_long = 3;
    const IOPRIO_CLASS_SHIFT: libc::c_long = 13;
    // SAFETY: ioprio_set with integer arguments only, on this thread's own id.
    unsafe {
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            tid as libc::c_long,
            IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT,
        )
    };
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(now.tv_sec.max(0) as u64, now.tv_nsec.clamp(0, 999_999_999) as u32)
}
