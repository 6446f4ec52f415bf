//! The daemon (`safeguard run`): probe the kernel, open the log, start one thread per
//! module, write the start record once everything is attached, report statistics
//! periodically, and detach cleanly on SIGTERM or SIGINT.
//!
//! Records flow one way: module thread (ring-buffer callback, decode) -> bounded
//! channel -> the writer thread, which alone owns the log.

pub mod module;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use crossbeam_channel::{bounded, Sender};

use crate::config::Config;
use crate::logging::{Level, Record, Value};
use crate::probe::{self, Enforcement};
use crate::{file, process};
use module::{ModuleContext, ModuleState, ModuleStats};
use writer::WriterStats;

/// Records waiting for the writer. Past this, module threads count drops rather
/// than block their ring buffers.
const QUEUE_CAPACITY: usize = 16 * 1024;

struct RunningModule {
    name: &'static str,
    stats: Arc<ModuleStats>,
    thread: JoinHandle<anyhow::Result<()>>,
}

pub fn run(config: Config, config_path: &Path, require_enforcement: bool) -> anyhow::Result<()> {
    let caps = probe::probe();
    match caps.enforcement() {
        Enforcement::Unsupported => bail!("{}", caps.unsupported_reason().unwrap_or_default()),
        Enforcement::Degraded if require_enforcement => bail!(
            "{} (refusing to start: --require-enforcement)",
            caps.degraded_reason().unwrap_or_default()
        ),
        // The one line an administrator needs: what is wrong, and the remedy.
        Enforcement::Degraded => eprintln!("safeguard: {}", caps.degraded_reason().unwrap_or_default()),
        Enforcement::Full => {}
    }

    let log = writer::open(&config.log)?;
    let (records, queue) = bounded::<Record>(QUEUE_CAPACITY);
    let writer_stats = Arc::new(WriterStats::default());
    let writer_thread = writer::spawn(log, queue, writer_stats.clone())?;

    let running = Arc::new(AtomicBool::new(true));
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone()).context("install signal handlers")?;
    }
    // SIGHUP must not end the agent (its default action): reload is not implemented yet,
    // so it is refused with an ERROR record and the running policy stays.
    let hangup = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hangup.clone()).context("install signal handlers")?;

    let mut states: Vec<(&'static str, ModuleState)> = Vec::new();
    let mut modules = Vec::new();
    let started = start_modules(&config, &caps, &records, &running, &mut states, &mut modules);
    if let Err(err) = started {
        running.store(false, Ordering::Relaxed);
        join_modules(modules);
        drop(records);
        let _ = writer_thread.join();
        return Err(err);
    }

    let mut start = Record::new(Level::Info, "agent", "start")
        .field("version", Value::Str(env!("CARGO_PKG_VERSION").into()))
        .field("config", Value::Bytes(config_path.as_os_str().as_encoded_bytes().to_vec()));
    start.fields.extend(caps.record_fields());
    start.fields.push((
        "modules",
        Value::Map(states.iter().map(|(name, state)| (name.to_string(), Value::Str(state.name().into()))).collect()),
    ));
    if let Some(note) = caps.degraded_reason() {
        start.fields.push(("note", Value::Str(note)));
    }
    let _ = records.send(start);
    notify_systemd("READY=1");

    let mut reporter = StatsReporter::new(&modules, writer_stats.clone());
    let mut last_report = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(100));
        if hangup.swap(false, Ordering::Relaxed) {
            let refused = "reload on SIGHUP is not implemented in this version; the running policy stays \
                           (restart the agent to apply a new one)";
            log::error!("{refused}");
            let _ = records.send(Record::new(Level::Error, "agent", "reload").field("error", Value::Str(refused.into())));
        }
        if last_report.elapsed() >= config.log.stats_interval {
            let _ = records.send(reporter.periodic());
            last_report = Instant::now();
        }
        if let Some(dead) = modules.iter().find(|m| m.thread.is_finished()) {
            let name = dead.name;
            running.store(false, Ordering::Relaxed);
            let failure = join_modules(modules).unwrap_or_else(|| anyhow::anyhow!("{name}: module thread ended"));
            let _ = records.send(Record::new(Level::Error, "agent", "stop").field("error", Value::Str(format!("{failure:#}"))));
            drop(records);
            let _ = writer_thread.join();
            return Err(failure);
        }
    }

    notify_systemd("STOPPING=1");
    running.store(false, Ordering::Relaxed);
    let failure = join_modules(std::mem::take(&mut modules));
    let _ = records.send(reporter.stop());
    drop(records);
    let _ = writer_thread.join();
    match failure {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// Starts every enabled module, one after the other, each attached before the next.
fn start_modules(
    config: &Config,
    caps: &probe::Capabilities,
    records: &Sender<Record>,
    running: &Arc<AtomicBool>,
    states: &mut Vec<(&'static str, ModuleState)>,
    modules: &mut Vec<RunningModule>,
) -> anyhow::Result<()> {
    let pidns = module::agent_pidns();
    let prepared = [
        file::prepare(&config.file, caps, pidns),
        crate::network::prepare(&config.network, caps, pidns),
        crate::mount::prepare(&config.mount, caps, pidns),
        process::prepare(&config.process, caps, pidns),
    ];
    for module in prepared {
        states.push((module.name, module.state));
        if module.state == ModuleState::Off {
            continue;
        }
        let name = module.name;
        let stats = Arc::new(ModuleStats::default());
        let ctx = ModuleContext { records: records.clone(), stats: stats.clone(), running: running.clone() };
        let (ready_tx, ready_rx) = bounded(1);
        let run = module.run;
        let thread = thread::Builder::new()
            .name(name.into())
            .spawn(move || run(ctx, ready_tx))
            .with_context(|| format!("{name}: start thread"))?;
        modules.push(RunningModule { name, stats, thread });
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(err),
            Err(_) => bail!("{name}: module thread ended before it was ready"),
        }
    }
    Ok(())
}

/// Joins every module thread; returns the first failure.
fn join_modules(modules: Vec<RunningModule>) -> Option<anyhow::Error> {
    let mut failure = None;
    for module in modules {
        let result = match module.thread.join() {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!("{}: module thread panicked", module.name)),
        };
        if let Err(err) = result {
            failure.get_or_insert(err);
        }
    }
    failure
}

/// Tells systemd (Type=notify) where we are; a no-op elsewhere.
fn notify_systemd(state: &str) {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else { return };
    let Ok(sender) = std::os::unix::net::UnixDatagram::unbound() else { return };
    let bytes = socket.as_encoded_bytes();
    let result = if let Some(abstract_name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(abstract_name)
            .and_then(|addr| sender.send_to_addr(state.as_bytes(), &addr))
    } else {
        sender.send_to(state.as_bytes(), Path::new(&socket))
    };
    if let Err(err) = result {
        log::warn!("notify systemd ({state}): {err}");
    }
}

/// Totals of every counter, and the deltas since the last periodic record.
struct StatsReporter {
    modules: Vec<(&'static str, Arc<ModuleStats>)>,
    writer: Arc<WriterStats>,
    last: Counters,
}

#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct Counters {
    events: u64,
    lost_kernel: u64,
    lost_queue: u64,
    malformed: u64,
    truncated: u64,
    written: u64,
    write_errors: u64,
}

impl Counters {
    fn minus(self, o: Counters) -> Counters {
        Counters {
            events: self.events - o.events,
            lost_kernel: self.lost_kernel - o.lost_kernel,
            lost_queue: self.lost_queue - o.lost_queue,
            malformed: self.malformed - o.malformed,
            truncated: self.truncated - o.truncated,
            written: self.written - o.written,
            write_errors: self.write_errors - o.write_errors,
        }
    }

    fn lost(&self) -> u64 {
        self.lost_kernel + self.lost_queue + self.malformed + self.write_errors
    }

    fn fields(&self) -> Vec<(&'static str, Value)> {
        [
            ("events", self.events),
            ("written", self.written),
            ("lost_kernel", self.lost_kernel),
            ("lost_queue", self.lost_queue),
            ("malformed", self.malformed),
            ("write_errors", self.write_errors),
            ("truncated", self.truncated),
        ]
        .into_iter()
        .map(|(name, value)| (name, Value::Uint(value)))
        .collect()
    }

    fn as_map(&self) -> Value {
        Value::Map(self.fields().into_iter().map(|(name, value)| (name.to_string(), value)).collect())
    }
}

impl StatsReporter {
    fn new(modules: &[RunningModule], writer: Arc<WriterStats>) -> StatsReporter {
        let modules = modules.iter().map(|m| (m.name, m.stats.clone())).collect();
        StatsReporter { modules, writer, last: Counters::default() }
    }

    fn now(&self) -> Counters {
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let mut c = Counters {
            written: load(&self.writer.written),
            write_errors: load(&self.writer.write_errors),
            ..Counters::default()
        };
        for (_, stats) in &self.modules {
            c.events += load(&stats.events);
            c.lost_kernel += load(&stats.ringbuf_full);
            c.lost_queue += load(&stats.queue_full);
            c.malformed += load(&stats.malformed);
            c.truncated += load(&stats.truncated);
        }
        c
    }

    /// `op = "stats"`: the deltas since the last one, and the totals; ERROR when
    /// anything was lost in the interval.
    fn periodic(&mut self) -> Record {
        let now = self.now();
        let delta = now.minus(self.last);
        self.last = now;
        let level = if delta.lost() > 0 { Level::Error } else { Level::Info };
        let mut record = Record::new(level, "agent", "stats");
        record.fields = delta.fields();
        record.fields.push(("totals", now.as_map()));
        record
    }

    fn stop(&self) -> Record {
        let totals = self.now();
        let level = if totals.lost() > 0 { Level::Error } else { Level::Info };
        Record::new(level, "agent", "stop").field("totals", totals.as_map())
    }
}
