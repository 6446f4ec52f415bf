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
//!
//! `[agent] persist` (persist.rs) does the same across agents: each instance pins
//! itself, adopts what an earlier agent left pinned, and at exit stays pinned.

mod board;
pub mod hits;
mod log_thread;
pub mod module;
pub mod persist;
pub mod ring;
pub mod runtime;
mod stats;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use crossbeam_channel::{bounded, Sender};

use crate::config::{self, Config};
use crate::logging::{Level, Record, Value};
use crate::outputs::metrics::MetricsServer;
use crate::outputs::status::{StatusServer, SOCKET as STATUS_SOCKET};
use crate::outputs::{Identity, OutputStatsSet, Outputs};
use crate::probe::{self, Capabilities, Enforcement};
use crate::{detect, file, inventory, mount, network, process, protect, telemetry};
use board::{configured_outputs, Board, BoardParts};
use hits::{RuleHits, RuleSlot};
use log_thread::{EventCounts, Extras, Replacement, ToWriter, WriterStats};
use module::{Adoption, ModuleContext, ModuleState, ModuleStats, Prepared};
use persist::Persist;
use stats::{StatsReporter, StopReport};

/// Records waiting for the writer. Past this, module threads count drops rather
/// than block their ring buffers.
const QUEUE_CAPACITY: usize = 16 * 1024;

/// A module: how to prepare it from a config, and whether two configs differ for it.
struct ModuleKind {
    name: &'static str,
    prepare: fn(&Config, &Capabilities, u32) -> Prepared,
    same: fn(&Config, &Config) -> bool,
    /// The module's section as text, for the policy hash of its pins.
    section: fn(&Config) -> String,
    /// Pinned with `[agent] persist`: enforcement that outlives the agent.
    persists: bool,
}

/// In start order: detect first, so that it watches while the others load; the process
/// module after the other policy modules, so that the executables it reports run under
/// their policy already; the inventory (no BPF); protect last, so that it finds every
/// other module's BPF objects attached.
const MODULES: [ModuleKind; 8] = [
    ModuleKind {
        name: "detect",
        prepare: |c, caps, pidns| detect::prepare(&c.detect, caps, pidns),
        same: |a, b| a.detect == b.detect,
        section: |c| format!("{:?}", c.detect),
        persists: false,
    },
    ModuleKind {
        name: "file",
        prepare: |c, caps, pidns| file::prepare(&c.file, caps, pidns),
        same: |a, b| a.file == b.file,
        section: |c| format!("{:?}", c.file),
        persists: true,
    },
    ModuleKind {
        name: "network",
        prepare: |c, caps, pidns| network::prepare(&c.network, caps, pidns),
        same: |a, b| a.network == b.network,
        section: |c| format!("{:?}", c.network),
        persists: true,
    },
    ModuleKind {
        name: "mount",
        prepare: |c, caps, pidns| mount::prepare(&c.mount, caps, pidns),
        same: |a, b| a.mount == b.mount,
        section: |c| format!("{:?}", c.mount),
        persists: true,
    },
    ModuleKind {
        name: "process",
        prepare: |c, caps, pidns| process::prepare(&c.process, caps, pidns),
        same: |a, b| a.process == b.process,
        section: |c| format!("{:?}", c.process),
        persists: true,
    },
    ModuleKind {
        name: "inventory",
        prepare: |c, _, _| inventory::agent::prepare(c),
        same: |a, b| a.inventory == b.inventory,
        section: |c| format!("{:?}", c.inventory),
        persists: false,
    },
    ModuleKind {
        name: "telemetry",
        prepare: |c, caps, pidns| telemetry::prepare(&c.telemetry, caps, pidns),
        same: |a, b| a.telemetry == b.telemetry,
        section: |c| format!("{:?}", c.telemetry),
        persists: false, // counts, no policy: nothing to keep when the agent is gone
    },
    ModuleKind {
        name: "protect",
        prepare: |c, caps, pidns| protect::prepare(c, caps, pidns),
        same: |a, b| a.agent == b.agent && a.log.output == b.log.output,
        section: |c| format!("{:?}", c.agent),
        persists: false,
    },
];

pub fn run(config: Config, config_path: &Path, require_enforcement: bool) -> anyhow::Result<()> {
    one_malloc_arena();
    crate::rule_paths::raise_open_file_limit();
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

    protect::set_config_path(config_path);
    // Before anything is attached: a second agent must not start beside a persisting one.
    let persist = persist::open(config.agent.persist)?.map(Arc::new);
    let log = log_thread::open(&config.log)?;
    let (records, queue) = bounded::<ToWriter>(QUEUE_CAPACITY);
    let board_queue = queue.clone();
    let (log_replacements, replacements) = bounded(2);
    let writer_stats = Arc::new(WriterStats::default());
    let identity = Identity::of_this_host();
    let output_stats = OutputStatsSet::default();
    let configured = Arc::new(Mutex::new(configured_outputs(&config.output)));
    let events = EventCounts::default();
    let extras = Extras {
        outputs: Outputs::open(&config.output, &config.log.tags, output_stats.clone(), &identity),
        identity: identity.clone(),
        events: events.clone(),
    };
    let writer_thread = log_thread::spawn(log, extras, queue, replacements, writer_stats.clone())?;

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone()).context("install signal handlers")?;
    }
    let hangup = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hangup.clone()).context("install signal handlers")?;

    let persist_on = config.agent.persist;
    let mut agent = Agent::new(caps, config, records, log_replacements, persist.clone());
    agent.identity = identity.clone();
    agent.output_stats = output_stats.clone();
    if let Err(err) = agent.start_all() {
        agent.stop_all(persist_on);
        drop(agent);
        let _ = writer_thread.join();
        return Err(err);
    }
    release_freed_heap();

    let mut start = Record::new(Level::Info, "agent", "start")
        .field("version", Value::Str(env!("CARGO_PKG_VERSION").into()))
        .field("config", Value::Bytes(config_path.as_os_str().as_encoded_bytes().to_vec()));
    start.fields.extend(agent.caps.record_fields());
    start.fields.push(("modules", agent.states_map()));
    start.fields.extend(agent.persist_fields());
    if let Some(note) = agent.caps.degraded_reason() {
        start.fields.push(("note", Value::Str(note)));
    }
    agent.send(start);
    agent.remove_orphan_pins();

    let reporter = |configured: &Arc<Mutex<Vec<&'static str>>>| {
        StatsReporter::new(&agent.stats, writer_stats.clone(), configured.clone(), output_stats.clone())
    };
    let board = Arc::new(Board::new(BoardParts {
        config: config_path.to_path_buf(),
        identity,
        reporter: reporter(&configured),
        events,
        outputs: output_stats.clone(),
        configured: configured.clone(),
        queue: board_queue,
        queue_capacity: QUEUE_CAPACITY,
    }));
    board.loaded(&agent.states, agent.rule_hits(), false);
    let snapshot = {
        let board = board.clone();
        Arc::new(move || board.snapshot())
    };
    // Status and metrics fail on their own: the agent enforces without them.
    let status = StatusServer::start(std::path::Path::new(STATUS_SOCKET), snapshot.clone())
        .map_err(|err| log::error!("{err:#}; `safeguard status` will not answer"))
        .ok();
    let mut metrics_target = agent.config.output.metrics.clone();
    let start_metrics = |target: &Option<crate::config::MetricsTarget>| {
        let target = target.as_ref()?;
        MetricsServer::start(target, snapshot.clone()).map_err(|err| log::error!("{err:#}")).ok()
    };
    let mut metrics = start_metrics(&metrics_target);
    inventory::agent::agent_started();
    if let Some(warning) = agent.older_policy_adopted() {
        log::warn!("{warning}");
        agent.send(Record::new(Level::Warning, "agent", "persist").field("note", Value::Str(warning)));
    }
    notify_systemd("READY=1");

    let mut reporter = reporter(&configured);
    let mut last_report = Instant::now();
    let mut failure = None;
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(100));
        if hangup.swap(false, Ordering::Relaxed) {
            notify_systemd("RELOADING=1");
            let (record, applied) = agent.reload(config_path);
            agent.send(record);
            release_freed_heap();
            if applied {
                agent.remove_orphan_pins();
                board.loaded(&agent.states, agent.rule_hits(), true);
                board.set_outputs(&agent.config.output);
                if agent.config.output.metrics != metrics_target {
                    drop(metrics.take());
                    metrics_target = agent.config.output.metrics.clone();
                    metrics = start_metrics(&metrics_target);
                }
            } else {
                board.reload_failed();
            }
            notify_systemd("READY=1");
        }
        if last_report.elapsed() >= agent.config.log.stats_interval {
            agent.send(reporter.periodic());
            last_report = Instant::now();
        }
        if let Some(dead) = agent.instances.iter().position(|i| i.thread.is_finished()) {
            let dead = agent.instances.remove(dead);
            let name = dead.name;
            failure =
                Some(dead.stop(persist_on).err().unwrap_or_else(|| anyhow::anyhow!("{name}: module thread ended")));
            break;
        }
    }

    notify_systemd("STOPPING=1");
    // With persist on every exit leaves the policy pinned (SPEC section 7): a stop
    // too; `safeguard unload` is the way to end it.
    let persisted = persist_on && !agent.instances.is_empty();
    if let Some(err) = agent.stop_all(persist_on) {
        failure.get_or_insert(err);
    }
    // The writer completes the totals with its own final counts (what it wrote,
    // filtered and could not write) once everything queued before is settled.
    let error = failure.as_ref().map(|err| format!("{err:#}"));
    let stop = StopReport { totals: reporter.now(), error, persisted };
    let _ = agent.records.send(ToWriter::Stop(stop));
    drop(agent);
    let _ = writer_thread.join();
    // The textfile's last write, with the final counts.
    drop(metrics);
    drop(status);
    match failure {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// The running agent: its policy, and at most one running instance per module.
struct Agent {
    caps: Capabilities,
    pidns: u32,
    records: Sender<ToWriter>,
    /// To the writer: the log and outputs of a reloaded config.
    log_replacements: Sender<Replacement>,
    identity: Identity,
    output_stats: OutputStatsSet,
    config: Config,
    /// Each module's effective state under `config`, in `MODULES` order.
    states: Vec<(&'static str, ModuleState)>,
    /// One per module for the agent's lifetime: its instances add to them.
    stats: Vec<(&'static str, Arc<ModuleStats>)>,
    instances: Vec<Instance>,
    /// Pinning and adoption (`[agent] persist`, or pins left by an earlier agent).
    persist: Option<Arc<Persist>>,
    /// The pinned instances of earlier agents that this one took over, by module.
    adopted: Vec<(&'static str, Adoption)>,
}

/// One running instance of a module: a thread that holds its attached BPF object.
struct Instance {
    name: &'static str,
    running: Arc<AtomicBool>,
    keep: Arc<AtomicBool>,
    thread: JoinHandle<anyhow::Result<()>>,
    rules: RuleSlot,
}

impl Instance {
    fn hits(&self) -> Option<Arc<RuleHits>> {
        self.rules.lock().ok().and_then(|slot| slot.clone())
    }

    /// Detaches (the thread drains its ring buffer first) and joins; with `keep`, a
    /// pinned instance stays attached through its pins.
    fn stop(self, keep: bool) -> anyhow::Result<()> {
        self.keep.store(keep, Ordering::Relaxed);
        self.running.store(false, Ordering::Relaxed);
        match self.thread.join() {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!("{}: module thread panicked", self.name)),
        }
    }
}

impl Agent {
    fn new(
        caps: Capabilities,
        config: Config,
        records: Sender<ToWriter>,
        log_replacements: Sender<Replacement>,
        persist: Option<Arc<Persist>>,
    ) -> Agent {
        let stats = MODULES.iter().map(|m| (m.name, Arc::new(ModuleStats::default()))).collect();
        let pidns = module::agent_pidns();
        Agent {
            caps,
            pidns,
            records,
            log_replacements,
            identity: Identity::default(),
            output_stats: OutputStatsSet::default(),
            config,
            states: Vec::new(),
            stats,
            instances: Vec::new(),
            persist,
            adopted: Vec::new(),
        }
    }

    /// The rules of the running instances with their hits, in module order.
    fn rule_hits(&self) -> Vec<Arc<RuleHits>> {
        MODULES
            .iter()
            .filter_map(|kind| self.instances.iter().find(|i| i.name == kind.name).and_then(Instance::hits))
            .collect()
    }

    fn send(&self, record: Record) {
        // The writer's queue is bounded: the agent's own records may wait for room.
        let _ = self.records.send(ToWriter::Record(record));
    }

    /// Starts every enabled module, one after the other, each attached before the next.
    fn start_all(&mut self) -> anyhow::Result<()> {
        for (index, kind) in MODULES.iter().enumerate() {
            let prepared = (kind.prepare)(&self.config, &self.caps, self.pidns);
            self.states.push((kind.name, prepared.state));
            let config = self.config.clone();
            if let Some(instance) = self.start(index, prepared, &config)? {
                self.instances.push(instance);
            }
        }
        Ok(())
    }

    /// Starts one instance and waits until it is attached (None: the module is off).
    /// A module that is off adopts nothing: `remove_orphan_pins` removes what an earlier
    /// agent left pinned for it, once every module that is on runs.
    fn start(&mut self, index: usize, prepared: Prepared, config: &Config) -> anyhow::Result<Option<Instance>> {
        if prepared.state == ModuleState::Off {
            return Ok(None);
        }
        let name = prepared.name;
        let running = Arc::new(AtomicBool::new(true));
        let mut ctx = ModuleContext::new(self.records.clone(), self.stats[index].1.clone(), running.clone());
        // Only the policy modules outlive the agent: detect and protect know the agent by
        // its pid, which a pinned instance would keep after the agent is gone.
        ctx.persist = if MODULES[index].persists { self.persist.clone() } else { None };
        ctx.policy = persist::policy_hash(&(MODULES[index].section)(config));
        let keep = ctx.keep.clone();
        let rules = ctx.rules.clone();
        let (ready_tx, ready_rx) = bounded(1);
        let run = prepared.run;
        let thread = thread::Builder::new()
            .name(name.into())
            .spawn(move || run(ctx, ready_tx))
            .with_context(|| format!("{name}: start thread"))?;
        let instance = Instance { name, running, keep, thread, rules };
        let failure = match ready_rx.recv() {
            Ok(Ok(adopted)) => {
                self.adopted.extend(adopted.into_iter().map(|adoption| (name, adoption)));
                return Ok(Some(instance));
            }
            Ok(Err(err)) => err,
            Err(_) => anyhow::anyhow!("{name}: module thread ended before it was ready"),
        };
        if let Err(err) = instance.stop(false) {
            log::error!("{err:#}");
        }
        Err(failure)
    }

    /// Removes the pinned instances an earlier agent left for modules that have no
    /// instance now (off in this config): adoption takes over only the modules that run.
    /// One `agent` `persist` record per instance, WARNING (its policy ends), or ERROR
    /// when the pins could not be removed.
    fn remove_orphan_pins(&self) {
        let Some(persist) = &self.persist else { return };
        let running: Vec<&str> = self.instances.iter().map(|instance| instance.name).collect();
        for (dir, instance) in persist::orphans(&persist.root, &running) {
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let mut record = Record::new(Level::Warning, "agent", "persist")
                .field("instance", Value::Str(name.clone()))
                .field("pinned_module", Value::Str(instance.module.clone()));
            match persist::remove_instance_and_wait(&dir) {
                Ok(()) => {
                    log::warn!("persist: removed {name}: {} is off in this config", instance.module);
                    record = record.field(
                        "note",
                        Value::Str(format!(
                            "removed: {} is off in this config, its pinned policy ended",
                            instance.module
                        )),
                    );
                }
                Err(err) => {
                    log::error!("persist: remove {}: {err:#}", dir.display());
                    record.level = Level::Error;
                    record = record.field("error", Value::Str(format!("{err:#}")));
                }
            }
            self.send(record);
        }
    }

    /// Stops every instance (`keep`: leaves them pinned); returns the first failure.
    fn stop_all(&mut self, keep: bool) -> Option<anyhow::Error> {
        let mut failure = None;
        for instance in self.instances.drain(..) {
            if let Err(err) = instance.stop(keep) {
                failure.get_or_insert(err);
            }
        }
        failure
    }

    /// Applies the config file anew; returns the `reload` record and whether it
    /// applied. A config that does not parse, or a module that does not load, leaves
    /// everything as it was.
    fn reload(&mut self, path: &Path) -> (Record, bool) {
        let outcome =
            config::load(path).map_err(|err| anyhow::anyhow!("{err}")).and_then(|new| self.replace_changed(new));
        let applied = outcome.is_ok();
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
        (record, applied)
    }

    /// Starts a new instance of every module whose section changed; once all are
    /// attached, stops the instances they replace. Returns the changed modules.
    fn replace_changed(&mut self, new: Config) -> anyhow::Result<Vec<&'static str>> {
        // The new log first: a log that cannot be opened refuses the reload.
        let log = if new.log != self.config.log { Some(log_thread::open(&new.log)?) } else { None };
        if new.agent != self.config.agent {
            log::warn!("reload: [agent] changes (persist) take effect at the next start");
        }
        let mut started: Vec<(usize, ModuleState, Option<Instance>)> = Vec::new();
        for (index, kind) in MODULES.iter().enumerate() {
            if (kind.same)(&self.config, &new) {
                continue;
            }
            let prepared = (kind.prepare)(&new, &self.caps, self.pidns);
            let state = prepared.state;
            match self.start(index, prepared, &new) {
                Ok(instance) => started.push((index, state, instance)),
                Err(err) => {
                    for instance in started.into_iter().filter_map(|(_, _, instance)| instance) {
                        if let Err(err) = instance.stop(false) {
                            log::error!("{err:#}");
                        }
                    }
                    return Err(err.context(format!("{}: the new config does not load", kind.name)));
                }
            }
        }
        let mut changed = Vec::new();
        if let Some(log) = log {
            let _ = self.log_replacements.send(Replacement::Log(log));
            changed.push("log");
        }
        // The outputs carry the tags too: new tags reopen them, but only a changed
        // [output] is reported as changed.
        if new.output != self.config.output || new.log.tags != self.config.log.tags {
            let outputs = Outputs::open(&new.output, &new.log.tags, self.output_stats.clone(), &self.identity);
            let _ = self.log_replacements.send(Replacement::Outputs(outputs));
            if new.output != self.config.output {
                changed.push("output");
            }
        }
        for (index, state, instance) in started {
            let name = MODULES[index].name;
            if let Some(old) = self.instances.iter().position(|i| i.name == name) {
                let old = self.instances.remove(old);
                let old_hits = old.hits();
                if let Err(err) = old.stop(false) {
                    log::error!("{err:#}");
                }
                // Hits since start: a rule that stays keeps its count.
                if let (Some(old_hits), Some(new_hits)) = (old_hits, instance.as_ref().and_then(Instance::hits)) {
                    new_hits.carry_from(&old_hits);
                }
            }
            self.instances.extend(instance);
            self.states[index].1 = state;
            changed.push(name);
        }
        self.config = new;
        Ok(changed)
    }

    /// The start record's `persist`, `adopted` (and what was adopted, by module) and
    /// `bpffs_mounted` fields.
    fn persist_fields(&self) -> Vec<(&'static str, Value)> {
        let mut fields = vec![("persist", Value::Bool(self.config.agent.persist))];
        fields.push(("adopted", Value::Bool(!self.adopted.is_empty())));
        if !self.adopted.is_empty() {
            let mut by_module: Vec<(String, Value)> = Vec::new();
            for (name, adoption) in &self.adopted {
                let value = runtime::adoption_value(adoption);
                match by_module.iter_mut().find(|(module, _)| module == name) {
                    Some((_, Value::List(list))) => list.push(value),
                    _ => by_module.push((name.to_string(), Value::List(vec![value]))),
                }
            }
            fields.push(("adoption", Value::Map(by_module)));
        }
        if self.persist.as_ref().is_some_and(|p| p.mounted_bpffs) {
            fields.push(("bpffs_mounted", Value::Str(persist::BPF_FS.into())));
        }
        fields
    }

    /// The warning when a pinned policy came from another config than the one on disk
    /// (the agent was stopped, the config edited): it held until this start.
    fn older_policy_adopted(&self) -> Option<String> {
        let older: Vec<&str> =
            self.adopted.iter().filter(|(_, adoption)| !adoption.same_policy).map(|(name, _)| *name).collect();
        if older.is_empty() {
            return None;
        }
        Some(format!(
            "the pinned policy of {} was loaded from an older config than the one on disk; it enforced until \
             this start, which replaced it (its records carry no rule name)",
            older.join(", ")
        ))
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

/// Every thread allocates from glibc's one main arena. By default each thread that
/// allocates gets an arena of its own (up to 8 per core): each module compiles its
/// rules on its own thread, and `malloc_trim` returns the free top of a thread's arena
/// only for the main arena, so every module kept the high-water mark of its
/// compilation (10 MB with 10,000 process rules, measured). The agent's threads
/// allocate little once started (records are formatted on the writer thread), so
/// sharing one arena costs no measurable contention. Before any thread starts.
fn one_malloc_arena() {
    // SAFETY: mallopt sets a glibc tunable; no pointer is involved.
    if unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) } == 0 {
        log::warn!("mallopt(M_ARENA_MAX, 1) failed: each thread keeps a heap of its own");
    }
}

/// Gives back to the kernel the heap that compiling and loading the rules used: glibc
/// keeps freed memory for reuse, and the rule tables, built once and freed once the
/// maps are filled, are never reused. With 10,000 rules, 2-7 MB of RSS per module on
/// 6.12 (bench-memory's configs one module at a time; README "Tests", issue 20).
fn release_freed_heap() {
    // SAFETY: malloc_trim walks glibc's own arenas only; it is given no pointer.
    unsafe {
        libc::malloc_trim(0);
    }
}
