//! Outputs besides the log file (SPEC section 11): journald and syslog, which the
//! writer thread feeds with the same records the log gets, and the agent's state for
//! Prometheus (`metrics`) and `safeguard status` (`status`).
//!
//! Each output fails on its own: a record it cannot take is counted in its `lost`
//! and never stops the log or another output.

pub mod journald;
pub mod metrics;
mod queue;
pub mod status;
pub mod syslog;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::OutputConfig;
use crate::logging::{write_json, write_json_value, write_text, Record, Value};

/// Records one output took and lost, for the agent's lifetime (reloads included).
#[derive(Debug, Default)]
pub struct OutputStats {
    pub sent: AtomicU64,
    pub lost: AtomicU64,
}

/// The stats of every output, whether configured or not.
#[derive(Debug, Default, Clone)]
pub struct OutputStatsSet {
    pub journald: Arc<OutputStats>,
    pub syslog: Arc<OutputStats>,
}

impl OutputStatsSet {
    pub fn by_name(&self) -> [(&'static str, &OutputStats); 2] {
        [("journald", &self.journald), ("syslog", &self.syslog)]
    }
}

/// The host identity every record carries (SPEC section 11).
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub host: Arc<str>,
    pub machine_id: Arc<str>,
}

impl Identity {
    pub fn of_this_host() -> Identity {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().into();
        let machine_id = std::fs::read_to_string("/etc/machine-id").unwrap_or_default().trim().into();
        Identity { host, machine_id }
    }
}

/// How long an output that could not open waits before it tries again.
const REOPEN_PAUSE: Duration = Duration::from_secs(10);

/// The configured outputs, owned by the writer thread.
pub struct Outputs {
    config: OutputConfig,
    stats: OutputStatsSet,
    journal: Option<queue::Queued>,
    syslog: Option<syslog::Syslog>,
    header: syslog::Header,
    tags: Vec<(String, String)>,
    /// The last failed open (journald, syslog), and whether its failure was reported.
    retry: [Option<Instant>; 2],
    failing: [bool; 2],
    buffer: Vec<u8>,
}

impl Outputs {
    #[cfg(test)]
    pub fn none(stats: OutputStatsSet) -> Outputs {
        Outputs::open(&OutputConfig::default(), &[], stats, &Identity::default())
    }

    pub fn open(
        config: &OutputConfig,
        tags: &[(String, String)],
        stats: OutputStatsSet,
        identity: &Identity,
    ) -> Outputs {
        let mut outputs = Outputs {
            config: config.clone(),
            stats,
            journal: None,
            syslog: None,
            header: syslog::Header { hostname: identity.host.to_string(), pid: std::process::id() },
            tags: tags.to_vec(),
            retry: [None, None],
            failing: [false, false],
            buffer: Vec::new(),
        };
        outputs.reopen();
        outputs
    }

    pub fn is_empty(&self) -> bool {
        !self.config.journald && self.config.syslog.is_none()
    }

    /// Opens what is configured and not open, at most once per `REOPEN_PAUSE`.
    fn reopen(&mut self) {
        let due = |at: &Option<Instant>| at.is_none_or(|at| at.elapsed() >= REOPEN_PAUSE);
        if self.config.journald && self.journal.is_none() && due(&self.retry[0]) {
            let opened = journald::Journal::open().and_then(|journal| {
                let deliver = move |datagram: &[u8], _: &std::sync::atomic::AtomicBool| journal.send(datagram);
                queue::Queued::start("journald", self.stats.journald.clone(), deliver)
            });
            match opened {
                Ok(journal) => self.journal = Some(journal),
                Err(err) => {
                    log::error!("journald: cannot open a socket: {err}; records for it are counted as lost");
                    self.retry[0] = Some(Instant::now());
                }
            }
        }
        if let Some(target) = &self.config.syslog {
            if self.syslog.is_none() && due(&self.retry[1]) {
                match syslog::Syslog::open(target, self.stats.syslog.clone()) {
                    Ok(syslog) => self.syslog = Some(syslog),
                    Err(err) => {
                        log::error!("syslog: cannot open {target:?}: {err}; retrying every {}s, records meanwhile counted as lost", REOPEN_PAUSE.as_secs());
                        self.retry[1] = Some(Instant::now());
                    }
                }
            }
        }
    }

    /// Hands `record` to every output; what one cannot take is counted in its stats.
    pub fn send(&mut self, record: &Record) {
        if self.is_empty() {
            return;
        }
        self.reopen();
        if self.config.journald {
            self.buffer.clear();
            write_text(&mut self.buffer, record, &self.tags);
            // Queued: its thread counts what it sends and loses; a full queue here.
            match &self.journal {
                Some(journal) => {
                    let result = journal.push(journald::encode(record, &self.buffer, &self.tags));
                    if result.is_err() {
                        self.account(0, "journald", result);
                    }
                }
                None => self.account(0, "journald", Err(std::io::Error::other("no socket"))),
            }
        }
        if self.config.syslog.is_some() {
            self.buffer.clear();
            write_json(&mut self.buffer, record, &self.tags);
            let message = syslog::encode(record, &self.buffer, &self.header);
            let result = match &self.syslog {
                Some(syslog) => syslog.send(message),
                None => Err(std::io::Error::other("not connected")),
            };
            // Queued (unix, TCP): its thread counts what it sends and loses.
            let queued = self.syslog.as_ref().is_some_and(syslog::Syslog::counts_itself) && result.is_ok();
            if !queued {
                self.account(1, "syslog", result);
            }
        }
    }

    fn account(&mut self, index: usize, name: &str, result: std::io::Result<()>) {
        let stats = if index == 0 { &self.stats.journald } else { &self.stats.syslog };
        match result {
            Ok(()) => {
                stats.sent.fetch_add(1, Ordering::Relaxed);
                if self.failing[index] {
                    log::warn!("{name}: sending again");
                    self.failing[index] = false;
                }
            }
            Err(err) => {
                stats.lost.fetch_add(1, Ordering::Relaxed);
                if !self.failing[index] {
                    log::error!(
                        "{name}: cannot send a record: {err}; records it cannot take are counted (lost_outputs)"
                    );
                    self.failing[index] = true;
                }
            }
        }
    }
}

/// A field's value as bytes, for the journal and syslog: text as is, numbers in
/// decimal, lists and maps as JSON.
pub(crate) fn value_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::Str(text) => text.as_bytes().to_vec(),
        Value::Text(text) => text.as_bytes().to_vec(),
        Value::Bytes(bytes) => bytes.clone(),
        Value::Shared(bytes) => bytes.to_vec(),
        Value::Uint(n) => n.to_string().into_bytes(),
        Value::Bool(b) => b.to_string().into_bytes(),
        Value::List(_) | Value::Map(_) => {
            let mut out = Vec::new();
            write_json_value(&mut out, value);
            out
        }
    }
}
