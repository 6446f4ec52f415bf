//! The agent's state as `safeguard status` and the metrics see it: what the main
//! loop changes (module states, rules, reloads) behind a lock, and the counters the
//! threads keep. `snapshot` copies it at one moment.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crossbeam_channel::Receiver;

use super::hits::RuleHits;
use super::log_thread::{EventCounts, ToWriter};
use super::module::ModuleState;
use super::stats::StatsReporter;
use crate::config::OutputConfig;
use crate::outputs::status::Snapshot;
use crate::outputs::{Identity, OutputStatsSet};

pub struct Board {
    started: SystemTime,
    config: PathBuf,
    identity: Identity,
    reporter: StatsReporter,
    events: EventCounts,
    outputs: OutputStatsSet,
    /// The outputs configured now, by name (for the stats record too).
    configured: Arc<Mutex<Vec<&'static str>>>,
    queue: Receiver<ToWriter>,
    queue_capacity: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    config_loaded: Option<SystemTime>,
    modules: Vec<(&'static str, ModuleState)>,
    rules: Vec<Arc<RuleHits>>,
    reloads_ok: u64,
    reloads_failed: u64,
    last_reload_ok: Option<bool>,
}

/// What the board is made of; the agent keeps the counters' other ends.
pub struct BoardParts {
    pub config: PathBuf,
    pub identity: Identity,
    pub reporter: StatsReporter,
    pub events: EventCounts,
    pub outputs: OutputStatsSet,
    pub configured: Arc<Mutex<Vec<&'static str>>>,
    pub queue: Receiver<ToWriter>,
    pub queue_capacity: usize,
}

/// Output names configured in `config`.
pub fn configured_outputs(config: &OutputConfig) -> Vec<&'static str> {
    let mut names = Vec::new();
    if config.journald {
        names.push("journald");
    }
    if config.syslog.is_some() {
        names.push("syslog");
    }
    names
}

impl Board {
    pub fn new(parts: BoardParts) -> Board {
        Board {
            started: SystemTime::now(),
            config: parts.config,
            identity: parts.identity,
            reporter: parts.reporter,
            events: parts.events,
            outputs: parts.outputs,
            configured: parts.configured,
            queue: parts.queue,
            queue_capacity: parts.queue_capacity,
            state: Mutex::new(State::default()),
        }
    }

    /// After start and after every reload that applied: the modules' states and rules.
    pub fn loaded(&self, modules: &[(&'static str, ModuleState)], rules: Vec<Arc<RuleHits>>, reload: bool) {
        if let Ok(mut state) = self.state.lock() {
            state.config_loaded = Some(SystemTime::now());
            state.modules = modules.to_vec();
            state.rules = rules;
            if reload {
                state.reloads_ok += 1;
                state.last_reload_ok = Some(true);
            }
        }
    }

    pub fn reload_failed(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.reloads_failed += 1;
            state.last_reload_ok = Some(false);
        }
    }

    pub fn set_outputs(&self, config: &OutputConfig) {
        if let Ok(mut configured) = self.configured.lock() {
            *configured = configured_outputs(config);
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let configured = self.configured.lock().map(|c| c.clone()).unwrap_or_default();
        let mut snapshot = Snapshot {
            version: env!("CARGO_PKG_VERSION").into(),
            pid: std::process::id(),
            host: self.identity.host.to_string(),
            machine_id: self.identity.machine_id.to_string(),
            config: self.config.display().to_string(),
            started: Some(self.started),
            now: Some(SystemTime::now()),
            totals: self.reporter.now().numbers().iter().map(|(name, n)| (name.to_string(), *n)).collect(),
            events: self
                .events
                .lock()
                .map(|events| {
                    events.iter().map(|((m, o, a), n)| (m.to_string(), o.to_string(), a.to_string(), *n)).collect()
                })
                .unwrap_or_default(),
            outputs: self
                .outputs
                .by_name()
                .iter()
                .map(|(name, stats)| {
                    let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
                    (name.to_string(), configured.contains(name), load(&stats.sent), load(&stats.lost))
                })
                .collect(),
            queue_len: self.queue.len() as u64,
            queue_capacity: self.queue_capacity as u64,
            ..Snapshot::default()
        };
        if let Ok(state) = self.state.lock() {
            snapshot.config_loaded = state.config_loaded;
            snapshot.modules = state.modules.iter().map(|(m, s)| (m.to_string(), s.name().to_string())).collect();
            snapshot.rules = state.rules.iter().flat_map(|hits| hits.rules()).collect();
            snapshot.reloads_ok = state.reloads_ok;
            snapshot.reloads_failed = state.reloads_failed;
            snapshot.last_reload_ok = state.last_reload_ok;
        }
        snapshot
    }
}
