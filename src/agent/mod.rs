//! The daemon (`safeguard run`): probe the kernel, open the log, start one thread per
//! module, write the start record once everything is attached, reload the config on
//! SIGHUP, report statistics periodically, and detach cleanly on SIGTERM or SIGINT.
//!
//! Records flow one way: module thread (ring-buffer callback, decode) -> bounded
//! channel -> the writer thread, which alone owns the log.
//!
//! Reload never leaves a gap: a module whose section changed gets a new instance,
//! loaded and attached next to the old one, and only when every new instance is
//! attached are the old ones detached. For that moment both enforce (either one's
//! denial holds) and an event may be logged by both.

pub mod module;
pub mod runtime;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use crossbeam_channel::{bounded, Sender};

use crate::config::{self, Config};
use crate::logging::{Level, LogWriter, Record, Value};
use crate::probe::{self, Capabilities, Enforcement};
use crate::{file, mount, network, process};
use module::{ModuleContext, ModuleState, ModuleStats, Prepared, OP_SLOTS};
use writer::WriterStats;

/// Records waiting for the writer. Past this, module threads count drops rather
/// than block their ring buffers.
const QUEUE_CAPACITY: usize = 16 * 1024;

/// A module: how to prepare it from a config, and whether two configs differ for it.
struct ModuleKind {
    name: &'static str,
    prepare: fn(&Config, &Capabilities, u32) -> Prepared,
    same: fn(&Config, &Config) -> bool,
}

/// In start order: the process module last, so that the executables it reports
/// run under the other modules' policy already.
const MODULES: [ModuleKind; 4] = [
    ModuleKind {
        name: "file",
        prepare: |c, caps, pidns| file::prepare(&c.file, caps, pidns),
        same: |a, b| a.file == b.file,
    },
    ModuleKind {
        name: "network",
        prepare: |c, caps, pidns| network::prepare(&c.network, caps, pidns),
        same: |a, b| a.network == b.network,
    },
    ModuleKind {
        name: "mount",
        prepare: |c, caps, pidns| mount::prepare(&c.mount, caps, pidns),
        same: |a, b| a.mount == b.mount,
    },
    ModuleKind {
        name: "process",
        prepare: |c, caps, pidns| process::prepare(&c.process, caps, pidns),
        same: |a, b| a.process == b.process,
    },
];

pub fn run(config: Config, config_path: &Path, require_enforcement: bool) -> anyhow::Result<()> {
    let caps = probe::probe();
    match caps.enforcement() {
        Enforcement::Unsupported => bail!("{}", caps.unsupported_reason().unwrap_or_default()),
        Enforcement::Degraded if require_enforcement => {
            bail!("{} (refusing to start: --require-enforcement)", caps.degraded_reason().unwrap_or_default())
        }
        // The one line an administrator needs: what is wrong, and the remedy.
        Enforcement::Degraded => eprintln!("safeguard: {}", caps.degraded_reason().unwrap_or_default()),
        Enforcement::Full => {}
    }
    for warning in config.warnings() {
        log::warn!("{warning}");
    }

    let log = writer::open(&config.log)?;
    let (records, queue) = bounded::<Record>(QUEUE_CAPACITY);
    let (log_replacements, replacements) = bounded(1);
    let writer_stats = Arc::new(WriterStats::default());
    let writer_thread = writer::spawn(log, queue, replacements, writer_stats.clone())?;

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone()).context("install signal handlers")?;
    }
    let hangup = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hangup.clone()).context("install signal handlers")?;

    let mut agent = Agent::new(caps, config, records, log_replacements);
    if let Err(err) = agent.start_all() {
        agent.stop_all();
        drop(agent);
        let _ = writer_thread.join();
        return Err(err);
    }

    let mut start = Record::new(Level::Info, "agent", "start")
        .field("version", Value::Str(env!("CARGO_PKG_VERSION").into()))
        .field("config", Value::Bytes(config_path.as_os_str().as_encoded_bytes().to_vec()));
    start.fields.extend(agent.caps.record_fields());
    start.fields.push(("modules", agent.states_map()));
    if let Some(note) = agent.caps.degraded_reason() {
        start.fields.push(("note", Value::Str(note)));
    }
    agent.send(start);
    notify_systemd("READY=1");

    let mut reporter = StatsReporter::new(&agent.stats, writer_stats.clone());
    let mut last_report = Instant::now();
    let mut failure = None;
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(100));
        if hangup.swap(false, Ordering::Relaxed) {
            notify_systemd("RELOADING=1");
            let record = agent.reload(config_path);
            agent.send(record);
            notify_systemd("READY=1");
        }
        if last_report.elapsed() >= agent.config.log.stats_interval {
            agent.send(reporter.periodic());
            last_report = Instant::now();
        }
        if let Some(dead) = agent.instances.iter().position(|i| i.thread.is_finished()) {
            let dead = agent.instances.remove(dead);
            let name = dead.name;
            failure = Some(dead.stop().err().unwrap_or_else(|| anyhow::anyhow!("{name}: module thread ended")));
            break;
        }
    }

    notify_systemd("STOPPING=1");
    if let Some(err) = agent.stop_all() {
        failure.get_or_insert(err);
    }
    let mut stop = reporter.stop();
    if let Some(err) = &failure {
        stop.level = Level::Error;
        stop.fields.push(("error", Value::Str(format!("{err:#}"))));
    }
    agent.send(stop);
    drop(agent);
    let _ = writer_thread.join();
    match failure {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// The running agent: its policy, and at most one running instance per module.
struct Agent {
    caps: Capabilities,
    pidns: u32,
    records: Sender<Record>,
    /// To the writer: the log of a reloaded config.
    log_replacements: Sender<LogWriter>,
    config: Config,
    /// Each module's effective state under `config`, in `MODULES` order.
    states: Vec<(&'static str, ModuleState)>,
    /// One per module for the agent's lifetime: its instances add to them.
    stats: Vec<(&'static str, Arc<ModuleStats>)>,
    instances: Vec<Instance>,
}

/// One running instance of a module: a thread that holds its attached BPF object.
struct Instance {
    name: &'static str,
    running: Arc<AtomicBool>,
    thread: JoinHandle<anyhow::Result<()>>,
}

impl Instance {
    /// Detaches (the thread drains its ring buffer first) and joins.
    fn stop(self) -> anyhow::Result<()> {
        self.running.store(false, Ordering::Relaxed);
        match self.thread.join() {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!("{}: module thread panicked", self.name)),
        }
    }
}

impl Agent {
    fn new(caps: Capabilities, config: Config, records: Sender<Record>, log_replacements: Sender<LogWriter>) -> Agent {
        let stats = MODULES.iter().map(|m| (m.name, Arc::new(ModuleStats::default()))).collect();
        let pidns = module::agent_pidns();
        Agent { caps, pidns, records, log_replacements, config, states: Vec::new(), stats, instances: Vec::new() }
    }

    fn send(&self, record: Record) {
        // The writer's queue is bounded: the agent's own records may wait for room.
        let _ = self.records.send(record);
    }

    /// Starts every enabled module, one after the other, each attached before the next.
    fn start_all(&mut self) -> anyhow::Result<()> {
        for (index, kind) in MODULES.iter().enumerate() {
            let prepared = (kind.prepare)(&self.config, &self.caps, self.pidns);
            self.states.push((kind.name, prepared.state));
            if let Some(instance) = self.start(index, prepared)? {
                self.instances.push(instance);
            }
        }
        Ok(())
    }

    /// Starts one instance and waits until it is attached (None: the module is off).
    fn start(&self, index: usize, prepared: Prepared) -> anyhow::Result<Option<Instance>> {
        if prepared.state == ModuleState::Off {
            return Ok(None);
        }
        let name = prepared.name;
        let running = Arc::new(AtomicBool::new(true));
        let ctx = ModuleContext::new(self.records.clone(), self.stats[index].1.clone(), running.clone());
        let (ready_tx, ready_rx) = bounded(1);
        let run = prepared.run;
        let thread = thread::Builder::new()
            .name(name.into())
            .spawn(move || run(ctx, ready_tx))
            .with_context(|| format!("{name}: start thread"))?;
        let instance = Instance { name, running, thread };
        let failure = match ready_rx.recv() {
            Ok(Ok(())) => return Ok(Some(instance)),
            Ok(Err(err)) => err,
            Err(_) => anyhow::anyhow!("{name}: module thread ended before it was ready"),
        };
        if let Err(err) = instance.stop() {
            log::error!("{err:#}");
        }
        Err(failure)
    }

    /// Stops every instance; returns the first failure.
    fn stop_all(&mut self) -> Option<anyhow::Error> {
        let mut failure = None;
        for instance in self.instances.drain(..) {
            if let Err(err) = instance.stop() {
                failure.get_or_insert(err);
            }
        }
        failure
    }

    /// Applies the config file anew; returns the `reload` record. A config that does
    /// not parse, or a module that does not load, leaves everything as it was.
    fn reload(&mut self, path: &Path) -> Record {
        let outcome =
            config::load(path).map_err(|err| anyhow::anyhow!("{err}")).and_then(|new| self.replace_changed(new));
        let mut record = match outcome {
            Ok(changed) => Record::new(Level::Info, "agent", "reload")
                .field("changed", Value::List(changed.iter().map(|name| Value::Str(name.to_string())).collect()))
                .field("modules", self.states_map()),
            Err(err) => {
                log::error!("reload refused, the running policy stays: {err:#}");
                Record::new(Level::Error, "agent", "reload")
                    .field("error", Value::Str(format!("{err:#}")))
                    .field("note", Value::Str("refused: the running policy stays".into()))
            }
        };
        record.fields.insert(0, ("config", Value::Bytes(path.as_os_str().as_encoded_bytes().to_vec())));
        record
    }

    /// Starts a new instance of every module whose section changed; once all are
    /// attached, stops the instances they replace. Returns the changed modules.
    fn replace_changed(&mut self, new: Config) -> anyhow::Result<Vec<&'static str>> {
        // The new log first: a log that cannot be opened refuses the reload.
        let log = if new.log != self.config.log { Some(writer::open(&new.log)?) } else { None };
        let mut started: Vec<(usize, ModuleState, Option<Instance>)> = Vec::new();
        for (index, kind) in MODULES.iter().enumerate() {
            if (kind.same)(&self.config, &new) {
                continue;
            }
            let prepared = (kind.prepare)(&new, &self.caps, self.pidns);
            let state = prepared.state;
            match self.start(index, prepared) {
                Ok(instance) => started.push((index, state, instance)),
                Err(err) => {
                    for instance in started.into_iter().filter_map(|(_, _, instance)| instance) {
                        if let Err(err) = instance.stop() {
                            log::error!("{err:#}");
                        }
                    }
                    return Err(err.context(format!("{}: the new config does not load", kind.name)));
                }
            }
        }
        let mut changed = Vec::new();
        if let Some(log) = log {
            let _ = self.log_replacements.send(log);
            changed.push("log");
        }
        for (index, state, instance) in started {
            let name = MODULES[index].name;
            if let Some(old) = self.instances.iter().position(|i| i.name == name) {
                if let Err(err) = self.instances.remove(old).stop() {
                    log::error!("{err:#}");
                }
            }
            self.instances.extend(instance);
            self.states[index].1 = state;
            changed.push(name);
        }
        self.config = new;
        Ok(changed)
    }

    fn states_map(&self) -> Value {
        Value::Map(
            self.states.iter().map(|(name, state)| (name.to_string(), Value::Str(state.name().into()))).collect(),
        )
    }
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

/// The kinds of loss, as the counters name them: ring buffer full, the writer's queue
/// full, an undecodable record, a failed write.
const LOSSES: [&str; 4] = ["lost_kernel", "lost_queue", "malformed", "write_errors"];

/// Totals of every counter, and the deltas since the last periodic record.
struct StatsReporter {
    modules: Vec<(&'static str, Arc<ModuleStats>)>,
    writer: Arc<WriterStats>,
    last: Counters,
}

/// The accounting: every event the kernel emitted (`produced`) ends as exactly one
/// of written, filtered (below `[log] level`: left out by configuration) or one of
/// the `LOSSES`, once the agent has stopped.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
struct Counters {
    produced: u64,
    written: u64,
    filtered: u64,
    lost_kernel: u64,
    lost_queue: u64,
    malformed: u64,
    lost_identities: u64,
    write_errors: u64,
    truncated: u64,
    /// lost_kernel by "module.op", for the ops that lost any.
    lost_kernel_by_op: Vec<(String, u64)>,
}

impl Counters {
    fn minus(&self, o: &Counters) -> Counters {
        let before = |key: &str| o.lost_kernel_by_op.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n);
        Counters {
            produced: self.produced - o.produced,
            written: self.written - o.written,
            filtered: self.filtered - o.filtered,
            lost_kernel: self.lost_kernel - o.lost_kernel,
            lost_queue: self.lost_queue - o.lost_queue,
            malformed: self.malformed - o.malformed,
            lost_identities: self.lost_identities - o.lost_identities,
            write_errors: self.write_errors - o.write_errors,
            truncated: self.truncated - o.truncated,
            lost_kernel_by_op: self
                .lost_kernel_by_op
                .iter()
                .map(|(key, n)| (key.clone(), n - before(key)))
                .filter(|(_, n)| *n > 0)
                .collect(),
        }
    }

    fn lost(&self) -> u64 {
        self.lost_kernel + self.lost_queue + self.malformed + self.write_errors
    }

    /// Anything lost: events, or (file) rule identities, which leave a gap in the policy.
    fn anything_lost(&self) -> bool {
        self.lost() > 0 || self.lost_identities > 0
    }

    fn fields(&self) -> Vec<(&'static str, Value)> {
        let mut fields: Vec<(&'static str, Value)> = [
            ("produced", self.produced),
            ("written", self.written),
            ("filtered", self.filtered),
            ("lost", self.lost()),
            ("lost_kernel", self.lost_kernel),
            ("lost_queue", self.lost_queue),
            ("malformed", self.malformed),
            ("write_errors", self.write_errors),
            ("truncated", self.truncated),
            ("lost_identities", self.lost_identities),
        ]
        .into_iter()
        .map(|(name, value)| (name, Value::Uint(value)))
        .collect();
        if !self.lost_kernel_by_op.is_empty() {
            let by_op = self.lost_kernel_by_op.iter().map(|(key, n)| (key.clone(), Value::Uint(*n))).collect();
            fields.push(("lost_kernel_by_op", Value::Map(by_op)));
        }
        fields
    }

    fn as_map(&self) -> Value {
        Value::Map(self.fields().into_iter().map(|(name, value)| (name.to_string(), value)).collect())
    }
}

impl StatsReporter {
    fn new(modules: &[(&'static str, Arc<ModuleStats>)], writer: Arc<WriterStats>) -> StatsReporter {
        StatsReporter { modules: modules.to_vec(), writer, last: Counters::default() }
    }

    fn now(&self) -> Counters {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut c = Counters {
            written: load(&self.writer.written),
            filtered: load(&self.writer.filtered),
            write_errors: load(&self.writer.write_errors),
            ..Counters::default()
        };
        for (name, stats) in &self.modules {
            c.lost_queue += load(&stats.queue_full);
            c.malformed += load(&stats.malformed);
            c.truncated += load(&stats.truncated);
            for op in 0..OP_SLOTS {
                c.produced += load(&stats.emitted[op]);
                let lost = load(&stats.ringbuf_full[op]);
                if lost > 0 {
                    c.lost_kernel += lost;
                    c.lost_kernel_by_op.push((format!("{name}.{}", crate::decode::op_name(op as u32)), lost));
                }
            }
            c.lost_identities += load(&stats.lost_identities);
        }
        c
    }

    /// `op = "stats"`: the deltas since the last one, and the totals; ERROR when
    /// anything was lost in the interval.
    fn periodic(&mut self) -> Record {
        let now = self.now();
        let delta = now.minus(&self.last);
        let level = if delta.anything_lost() { Level::Error } else { Level::Info };
        let mut record = Record::new(level, "agent", "stats");
        record.fields = delta.fields();
        record.fields.push(("totals", now.as_map()));
        self.last = now;
        record
    }

    /// `op = "stop"`: the totals, once every module has stopped and drained.
    fn stop(&self) -> Record {
        let totals = self.now();
        let level = if totals.anything_lost() { Level::Error } else { Level::Info };
        Record::new(level, "agent", "stop").field("totals", totals.as_map())
    }
}
