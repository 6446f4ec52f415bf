//! The agent's accounting: every event the kernel emitted ends as exactly one of
//! written, filtered or lost (by kind) once the agent has stopped. The periodic
//! `stats` record gives the deltas and the totals; the `stop` record's totals are
//! completed by the writer thread (`StopReport`), which alone knows its final counts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::log_thread::WriterStats;
use super::module::{ModuleStats, OP_SLOTS};
use crate::logging::{Level, Record, Value};

/// Totals of every counter, and the deltas since the last periodic record.
pub struct StatsReporter {
    modules: Vec<(&'static str, Arc<ModuleStats>)>,
    writer: Arc<WriterStats>,
    /// The outputs configured (by name) and every output's stats.
    outputs: Arc<std::sync::Mutex<Vec<&'static str>>>,
    output_stats: crate::outputs::OutputStatsSet,
    last: Counters,
}

/// The accounting: every event the kernel emitted (`produced`) ends as exactly one
/// of written, filtered (below `[log] level`: left out by configuration) or one of
/// the kinds of loss (`lost`), once the agent has stopped.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Counters {
    produced: u64,
    pub written: u64,
    pub filtered: u64,
    lost_kernel: u64,
    lost_queue: u64,
    malformed: u64,
    lost_identities: u64,
    pub write_errors: u64,
    truncated: u64,
    /// lost_kernel by "module.op", for the ops that lost any.
    lost_kernel_by_op: Vec<(String, u64)>,
    /// Records each configured output (journald, syslog) could not take; they are
    /// in the log, so not in `lost`.
    lost_outputs: Vec<(String, u64)>,
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
            lost_outputs: self
                .lost_outputs
                .iter()
                .map(|(key, n)| (key.clone(), n - o.lost_outputs.iter().find(|(k, _)| k == key).map_or(0, |(_, b)| *b)))
                .collect(),
        }
    }

    fn lost(&self) -> u64 {
        self.lost_kernel + self.lost_queue + self.malformed + self.write_errors
    }

    /// Anything lost: events, or (file) rule identities, which leave a gap in the policy.
    pub fn anything_lost(&self) -> bool {
        self.lost() > 0 || self.lost_identities > 0 || self.lost_outputs.iter().any(|(_, n)| *n > 0)
    }

    /// The counts by name, as the `stats` record and the metrics give them.
    pub fn numbers(&self) -> [(&'static str, u64); 10] {
        [
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
    }

    fn fields(&self) -> Vec<(&'static str, Value)> {
        let mut fields: Vec<(&'static str, Value)> =
            self.numbers().into_iter().map(|(name, value)| (name, Value::Uint(value))).collect();
        if !self.lost_kernel_by_op.is_empty() {
            let by_op = self.lost_kernel_by_op.iter().map(|(key, n)| (key.clone(), Value::Uint(*n))).collect();
            fields.push(("lost_kernel_by_op", Value::Map(by_op)));
        }
        if !self.lost_outputs.is_empty() {
            let outputs = self.lost_outputs.iter().map(|(key, n)| (key.clone(), Value::Uint(*n))).collect();
            fields.push(("lost_outputs", Value::Map(outputs)));
        }
        fields
    }

    pub fn as_map(&self) -> Value {
        Value::Map(self.fields().into_iter().map(|(name, value)| (name.to_string(), value)).collect())
    }
}

impl StatsReporter {
    pub fn new(
        modules: &[(&'static str, Arc<ModuleStats>)],
        writer: Arc<WriterStats>,
        outputs: Arc<std::sync::Mutex<Vec<&'static str>>>,
        output_stats: crate::outputs::OutputStatsSet,
    ) -> StatsReporter {
        StatsReporter { modules: modules.to_vec(), writer, outputs, output_stats, last: Counters::default() }
    }

    pub fn now(&self) -> Counters {
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
            c.produced += load(&stats.adopted);
        }
        let configured = self.outputs.lock().map(|o| o.clone()).unwrap_or_default();
        for (name, stats) in self.output_stats.by_name() {
            if configured.contains(&name) || load(&stats.lost) > 0 {
                c.lost_outputs.push((name.to_string(), load(&stats.lost)));
            }
        }
        c
    }

    /// `op = "stats"`: the deltas since the last one, and the totals; ERROR when
    /// anything was lost in the interval.
    pub fn periodic(&mut self) -> Record {
        let now = self.now();
        let delta = now.minus(&self.last);
        let level = if delta.anything_lost() { Level::Error } else { Level::Info };
        let mut record = Record::new(level, "agent", "stats");
        record.fields = delta.fields();
        record.fields.push(("totals", now.as_map()));
        // The compromised-host view: detections since start, by severity.
        record.fields.push(("detections", crate::detect::severity_counts()));
        self.last = now;
        record
    }
}

/// The stop record as the agent hands it to the writer, the last message: its totals
/// as the agent read them, and the error the agent stops with, if any.
#[derive(Debug)]
pub struct StopReport {
    pub totals: Counters,
    pub error: Option<String>,
    /// The agent left its programs pinned: enforcement continues (`[agent] persist`).
    pub persisted: bool,
}

impl StopReport {
    /// `op = "stop"` with the writer's final `written`, `filtered` and `write_errors`
    /// in its totals; ERROR when anything was lost or the agent failed.
    pub fn record(mut self, written: u64, filtered: u64, write_errors: u64) -> Record {
        self.totals.written = written;
        self.totals.filtered = filtered;
        self.totals.write_errors = write_errors;
        let level = if self.totals.anything_lost() || self.error.is_some() { Level::Error } else { Level::Info };
        let mut record = Record::new(level, "agent", "stop").field("totals", self.totals.as_map());
        if self.persisted {
            record.fields.push(("persisted", Value::Bool(true)));
        }
        if let Some(error) = self.error {
            record.fields.push(("error", Value::Str(error)));
        }
        record
    }
}
