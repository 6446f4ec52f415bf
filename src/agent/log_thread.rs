//! The writer thread: the only owner of the log. It drains the records queue, folds
//! repeated denials (`logging::Folder`), flushes whenever the queue is momentarily
//! empty, and accounts for every event it receives (see `WriterStats`).
//!
//! A failing log (disk full, directory gone) never stops the agent or slows the
//! modules: what cannot be written is counted, the failure is reported once per streak
//! on stderr, and every batch tries again, so writing resumes by itself when space
//! returns. The records buffered meanwhile are written whole (never a half line).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use anyhow::Context;
use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::stats::StopReport;
use crate::config::{LogConfig, LogFormat, LogOutput};
use crate::logging::{Folder, Format, LogWriter, Output, Record, Value, WriterOptions};
use crate::outputs::{Identity, Outputs};

/// What a reload replaces in the writer.
pub enum Replacement {
    /// The log of a reloaded config; the agent sends it before the reload record, so
    /// that record and every later one go to the new log.
    Log(LogWriter),
    /// The outputs (journald, syslog) of a reloaded config.
    Outputs(Outputs),
}

/// Events the writer received, by module, op and action (`""`: none), for the metrics.
pub type EventCounts = Arc<Mutex<BTreeMap<(&'static str, &'static str, &'static str), u64>>>;

/// What the writer thread receives, in order.
pub enum ToWriter {
    /// A record to write: a module's event, or the agent's own record.
    Record(Record),
    /// The last message: the stop record, whose totals the writer completes with its
    /// final counts once everything queued before it is settled.
    Stop(StopReport),
}

/// Records taken from the queue between two flushes (and stats updates) at most.
const BATCH: usize = 4096;

/// Counts of EVENTS (records of a module; the agent's own records are in none), where a
/// folded record counts as the events it stands for (`Record::events`). Once the writer
/// thread has ended, every event it received is in exactly one of the three.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Events whose record is completely in the log (counted when on disk, not when
    /// buffered).
    pub written: AtomicU64,
    /// Events whose record could not be written (disk full, I/O error), including those
    /// still buffered when the final flush failed.
    pub write_errors: AtomicU64,
    /// Events below `[log] level`: left out by configuration, not lost.
    pub filtered: AtomicU64,
}

pub fn open(config: &LogConfig) -> anyhow::Result<LogWriter> {
    let options = WriterOptions {
        format: match config.format {
            LogFormat::Json => Format::Json,
            LogFormat::Text => Format::Text,
        },
        output: match &config.output {
            LogOutput::Stdout => Output::Stdout,
            LogOutput::File(path) => Output::File(path.clone()),
        },
        max_size: config.max_size,
        max_age: config.max_age,
        max_files: config.max_files,
        level: config.level,
        tags: config.tags.clone(),
    };
    // The errors name the path and the cause ("log: directory ... is not writable: ...").
    LogWriter::open(options)
}

/// What the writer writes besides the log: the outputs, the host identity every
/// record gets, and where it counts events for the metrics.
pub struct Extras {
    pub outputs: Outputs,
    pub identity: Identity,
    pub events: EventCounts,
}

pub fn spawn(
    log: LogWriter,
    extras: Extras,
    queue: Receiver<ToWriter>,
    replacements: Receiver<Replacement>,
    stats: Arc<WriterStats>,
) -> anyhow::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("writer".into())
        .spawn(move || Writer::new(log, extras, stats).run(&queue, &replacements))
        .context("log: start writer thread")
}

struct Writer {
    log: LogWriter,
    extras: Extras,
    /// Events by module, op and action since the last `publish`.
    counted: BTreeMap<(&'static str, &'static str, &'static str), u64>,
    /// Events written to the logs this one replaced (reloads).
    written_before: u64,
    folder: Folder,
    stats: Arc<WriterStats>,
    /// Records the folder released, to be written now.
    out: Vec<Record>,
    write_errors: u64,
    filtered: u64,
    /// In a failure streak: reported once, until a record got to disk again.
    failing: bool,
    /// A record was taken since the streak began (a flush that then succeeds means the
    /// log works again; a flush with nothing to write proves nothing).
    taken_while_failing: bool,
    /// Events lost in the current streak, for the message when it ends.
    streak_errors: u64,
}

impl Writer {
    fn new(log: LogWriter, extras: Extras, stats: Arc<WriterStats>) -> Writer {
        Writer {
            log,
            extras,
            counted: BTreeMap::new(),
            written_before: 0,
            folder: Folder::new(),
            stats,
            out: Vec::new(),
            write_errors: 0,
            filtered: 0,
            failing: false,
            taken_while_failing: false,
            streak_errors: 0,
        }
    }

    /// Until every sender is gone: take a batch, close the fold windows that are due
    /// (waiting no longer than the next one), write, flush. Then close every window.
    fn run(mut self, queue: &Receiver<ToWriter>, replacements: &Receiver<Replacement>) {
        loop {
            let received = match self.folder.next_deadline() {
                Some(deadline) => queue.recv_deadline(deadline),
                None => queue.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            for replacement in replacements.try_iter() {
                match replacement {
                    Replacement::Log(log) => self.replace(log),
                    Replacement::Outputs(outputs) => self.extras.outputs = outputs,
                }
            }
            match received {
                Ok(message) => {
                    // One clock read per batch: fold windows last seconds.
                    let now = Instant::now();
                    self.receive(message, now);
                    for message in queue.try_iter().take(BATCH - 1) {
                        self.receive(message, now);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.folder.expire(Instant::now(), &mut self.out);
            self.write_out();
            self.flush();
        }
        self.finish();
    }

    fn receive(&mut self, message: ToWriter, now: Instant) {
        match message {
            ToWriter::Record(record) => self.take(record, now),
            ToWriter::Stop(report) => self.stop(report),
        }
    }

    /// The last record: everything before it is settled first, so that its totals
    /// are the final ones.
    fn stop(&mut self, report: StopReport) {
        self.finish();
        let mut record = report.record(self.written(), self.filtered, self.write_errors);
        self.identify(&mut record);
        self.write(&record);
    }

    /// Every record carries the agent's host identity (SPEC section 11).
    fn identify(&self, record: &mut Record) {
        let identity = &self.extras.identity;
        record.fields.push(("host", Value::Text(identity.host.clone())));
        record.fields.push(("machine_id", Value::Text(identity.machine_id.clone())));
    }

    fn take(&mut self, mut record: Record, now: Instant) {
        if record.event {
            let action = record.action.map_or("", |action| action.name());
            *self.counted.entry((record.module, record.op, action)).or_default() += record.events();
        }
        self.identify(&mut record);
        self.folder.offer(record, now, &mut self.out);
        self.write_out();
    }

    fn write_out(&mut self) {
        let mut out = std::mem::take(&mut self.out);
        for record in out.drain(..) {
            self.write(&record);
        }
        self.out = out; // keeps its allocation
    }

    /// To the log, then to each output: one failing never keeps a record from the others.
    fn write(&mut self, record: &Record) {
        match self.log.write(record) {
            Ok(true) => self.taken_while_failing = true,
            Ok(false) => {
                self.filtered += record.events();
                return;
            }
            Err(err) => {
                self.write_errors += record.events();
                self.streak_errors += record.events();
                self.failed(&err);
            }
        }
        self.extras.outputs.send(record);
    }

    fn flush(&mut self) {
        match self.log.flush() {
            Ok(()) if self.failing && self.taken_while_failing => {
                log::warn!(
                    "log: writing to {} again; {} events could not be written meanwhile (counted in write_errors)",
                    self.log.destination(),
                    self.streak_errors
                );
                self.failing = false;
            }
            Ok(()) => {}
            Err(err) => self.failed(&err),
        }
        self.publish();
    }

    /// Reports the first failure of a streak only: a full disk must not flood stderr.
    fn failed(&mut self, err: &std::io::Error) {
        if !self.failing {
            log::error!(
                "log: cannot write to {}: {err}; records that cannot be written are counted \
                 (write_errors) and writing is retried with every batch",
                self.log.destination()
            );
            self.failing = true;
            self.streak_errors = 0;
        }
        self.taken_while_failing = false;
    }

    /// Finishes the current log (its fold windows closed, its buffer written or
    /// counted) and continues in `log`.
    fn replace(&mut self, log: LogWriter) {
        self.finish();
        self.written_before += self.log.written_events();
        self.log = log;
        self.publish();
    }

    /// Events written to this log and the ones it replaced.
    fn written(&self) -> u64 {
        self.written_before + self.log.written_events()
    }

    /// Closes every fold window and writes everything out; what still cannot be written
    /// is given up and counted. Runs at the stop record and when the queue closes.
    fn finish(&mut self) {
        self.folder.finish(&mut self.out);
        self.write_out();
        self.flush();
        let records = self.log.unwritten_records();
        if records > 0 {
            let lost = self.log.discard_unwritten();
            self.write_errors += lost;
            log::error!(
                "log: {lost} buffered events ({records} records) could not be written before exit \
                 (counted in write_errors)"
            );
        }
        self.publish();
    }

    fn publish(&mut self) {
        if !self.counted.is_empty() {
            if let Ok(mut events) = self.extras.events.lock() {
                for (key, count) in std::mem::take(&mut self.counted) {
                    *events.entry(key).or_default() += count;
                }
            }
        }
        self.stats.written.store(self.written(), Ordering::Relaxed);
        self.stats.write_errors.store(self.write_errors, Ordering::Relaxed);
        self.stats.filtered.store(self.filtered, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::stats::Counters;
    use crate::logging::{Action, Level, Value, FOLD_WINDOW};
    use crossbeam_channel::bounded;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    fn options(output: Output, level: Level) -> WriterOptions {
        WriterOptions {
            format: Format::Json,
            output,
            max_size: 0,
            max_age: Duration::ZERO,
            max_files: 1,
            level,
            tags: Vec::new(),
        }
    }

    fn denial(path: &str) -> Record {
        Record { action: Some(Action::Blocked), event: true, ..Record::new(Level::Warning, "file", "read") }
            .field("path", Value::Str(path.into()))
    }

    fn audit(path: &str) -> Record {
        Record { action: Some(Action::Allowed), event: true, ..Record::new(Level::Debug, "file", "read") }
            .field("path", Value::Str(path.into()))
    }

    fn extras() -> Extras {
        Extras {
            outputs: Outputs::none(Default::default()),
            identity: Identity { host: "web1".into(), machine_id: "m1".into() },
            events: EventCounts::default(),
        }
    }

    fn stop() -> ToWriter {
        ToWriter::Stop(StopReport { totals: Counters::default(), error: None, persisted: false })
    }

    /// Sends `records` through a writer thread on `log`, then the stop record; returns
    /// the final stats.
    fn run(log: LogWriter, records: impl IntoIterator<Item = Record>) -> (u64, u64, u64) {
        let (sender, queue) = bounded(16);
        let stats = Arc::new(WriterStats::default());
        let thread = spawn(log, extras(), queue, crossbeam_channel::never(), stats.clone()).unwrap();
        for record in records {
            sender.send(ToWriter::Record(record)).unwrap();
        }
        sender.send(stop()).unwrap();
        drop(sender);
        thread.join().unwrap();
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        (load(&stats.written), load(&stats.write_errors), load(&stats.filtered))
    }

    /// Events read back from a JSON log: the sum of `count` (1 where absent) over the
    /// module records, and the stop record's totals.
    fn read_back(path: &Path) -> (u64, serde_json::Value) {
        let text = std::fs::read_to_string(path).unwrap();
        let mut events = 0;
        let mut stop = serde_json::Value::Null;
        for line in text.lines() {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            if record["module"] == "agent" {
                stop = record;
            } else {
                events += record["count"].as_u64().unwrap_or(1);
            }
        }
        (events, stop)
    }

    fn temp_log(name: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("safeguard-writer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        (dir.join("safeguard.log"), dir)
    }

    /// The audited-event pipeline's user-space half (decode, record, JSON, write) for a
    /// profiler on the host (README, "How it works"): SG_PROFILE_EVENTS audited opens
    /// as the kernel queues them, through the file module's decoder and a writer thread
    /// into a JSON log. `make bench`'s audit-event measures the whole of it in a VM.
    #[test]
    #[ignore]
    fn audit_pipeline_profile() {
        let n = std::env::var("SG_PROFILE_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
        let (path, dir) = temp_log("profile");
        let log = LogWriter::open(options(Output::File(path.clone()), Level::Info)).unwrap();
        let (sender, queue) = bounded(n + 1);
        let thread = spawn(log, extras(), queue, crossbeam_channel::never(), Arc::default()).unwrap();
        let ctx = crate::agent::module::ModuleContext::new(sender, Arc::default(), Arc::default());
        let mut decode = crate::file::profile::decoder(&["file.audit /srv/audit/p"]);
        let event = crate::file::profile::audited_open(b"/usr/local/bin/sg-loop", b"/srv/audit/p");
        for _ in 0..n {
            decode(&event, &ctx);
        }
        ctx.records.send(stop()).unwrap();
        drop(ctx);
        thread.join().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().filter(|line| line.contains(r#""path":"/srv/audit/p""#)).count(), n);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn every_event_is_written_or_filtered_and_folds_add_up() {
        let (path, dir) = temp_log("account");
        let log = LogWriter::open(options(Output::File(path.clone()), Level::Info)).unwrap();
        // A flood of one denial, a few other denials, and records below the level.
        let records = (0..5000).map(|i| match i % 50 {
            0 => denial(&format!("/other/{i}")),
            1 => audit("/etc/hosts"),
            _ => denial("/srv/secret"),
        });
        let (written, write_errors, filtered) = run(log, records);
        assert_eq!((written, write_errors, filtered), (4900, 0, 100));
        let (events, stop) = read_back(&path);
        assert_eq!(events, 4900);
        assert_eq!(stop["totals"]["written"], 4900);
        assert_eq!(stop["totals"]["write_errors"], 0);
        assert_eq!(stop["level"], "INFO");
        // Folded: far fewer lines than events (the first of the flood, then its count).
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(lines < 200, "{lines} lines");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_replaced_log_gets_every_later_record_and_the_counts_go_on() {
        let (old_path, dir) = temp_log("replace");
        let new_path = dir.join("new.log");
        let old = LogWriter::open(options(Output::File(old_path.clone()), Level::Info)).unwrap();
        let new = LogWriter::open(options(Output::File(new_path.clone()), Level::Info)).unwrap();
        let (sender, queue) = bounded(16);
        let (replace, replacements) = bounded(1);
        let stats = Arc::new(WriterStats::default());
        let thread = spawn(old, extras(), queue, replacements, stats.clone()).unwrap();
        for i in 0..3 {
            sender.send(ToWriter::Record(denial(&format!("/before/{i}")))).unwrap();
        }
        // As the agent does: the new log, then the record that must land in it.
        while stats.written.load(Ordering::Relaxed) < 3 {
            std::thread::sleep(Duration::from_millis(5));
        }
        replace.send(Replacement::Log(new)).unwrap();
        for i in 0..2 {
            sender.send(ToWriter::Record(denial(&format!("/after/{i}")))).unwrap();
        }
        sender.send(stop()).unwrap();
        drop(sender);
        thread.join().unwrap();
        let (before, _) = read_back(&old_path);
        let (after, stop) = read_back(&new_path);
        assert_eq!((before, after), (3, 2));
        assert_eq!(stop["totals"]["written"], 5);
        assert!(std::fs::read_to_string(&new_path).unwrap().contains("/after/0"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failing_log_counts_every_event_as_an_error() {
        // /dev/full: every write fails with ENOSPC.
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let log = LogWriter::to_stream(Format::Json, Level::Info, Box::new(full));
        let records = (0..3000).map(|i| match i % 3 {
            0 => denial(&format!("/x/{i}")),
            _ => denial("/flood"),
        });
        let (written, write_errors, filtered) = run(log, records);
        assert_eq!((written, write_errors, filtered), (0, 3000, 0));
    }

    #[test]
    fn a_log_that_fails_then_recovers_loses_only_what_it_counted() {
        let (path, dir) = temp_log("recover");
        let log = LogWriter::open(options(Output::File(path.clone()), Level::Info)).unwrap();
        let mut writer = Writer::new(log, extras(), Arc::new(WriterStats::default()));
        let mut sent = 0;
        let mut send = |writer: &mut Writer, n: u64| {
            for i in 0..n {
                writer.take(denial(&format!("/x/{sent}/{i}")), Instant::now());
            }
            writer.flush();
            sent += n;
        };
        send(&mut writer, 100);
        assert!(!writer.failing);
        // The directory goes away (as a full disk, but without root): the next flush
        // notices, cannot reopen, and every record from then on fails.
        std::fs::remove_dir_all(&dir).unwrap();
        send(&mut writer, 100);
        assert!(writer.failing);
        send(&mut writer, 100);
        assert!(writer.write_errors > 0);
        std::fs::create_dir_all(&dir).unwrap();
        send(&mut writer, 100);
        assert!(!writer.failing, "recovered");
        writer.receive(stop(), Instant::now());
        writer.flush();
        let stats = &writer.stats;
        let (written, errors) = (stats.written.load(Ordering::Relaxed), stats.write_errors.load(Ordering::Relaxed));
        assert_eq!(written + errors, sent);
        // The recreated file has exactly the records counted after the first 100, whole.
        let (events, last) = read_back(&path);
        assert_eq!(events, written - 100);
        assert_eq!(last["totals"]["written"], written);
        assert_eq!(last["totals"]["write_errors"], errors);
        assert_eq!(last["level"], "ERROR");
        drop(writer);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn open_windows_are_flushed_when_the_queue_closes() {
        let (path, dir) = temp_log("shutdown");
        let log = LogWriter::open(options(Output::File(path.clone()), Level::Info)).unwrap();
        let (sender, queue) = bounded(16);
        let stats = Arc::new(WriterStats::default());
        let thread = spawn(log, extras(), queue, crossbeam_channel::never(), stats.clone()).unwrap();
        for _ in 0..10 {
            sender.send(ToWriter::Record(denial("/a"))).unwrap();
        }
        drop(sender); // no stop record: the agent failed; the windows are still flushed
        let started = Instant::now();
        thread.join().unwrap();
        assert!(started.elapsed() < FOLD_WINDOW, "waited for the window");
        assert_eq!(stats.written.load(Ordering::Relaxed), 10);
        assert_eq!(read_back(&path).0, 10);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.lines().nth(1).unwrap().contains(r#""count":9"#), "{text}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn outputs_get_every_record_with_the_host_identity_and_one_failing_stops_nothing() {
        use crate::config::{OutputConfig, SyslogTarget};
        use crate::outputs::OutputStatsSet;
        let (path, dir) = temp_log("outputs");
        let log = LogWriter::open(options(Output::File(path.clone()), Level::Info)).unwrap();
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let config = OutputConfig {
            // Whether or not this machine runs journald: sent or counted, never blocking.
            journald: true,
            syslog: Some(SyslogTarget::Udp(receiver.local_addr().unwrap().to_string())),
            metrics: None,
        };
        let stats = OutputStatsSet::default();
        let identity = Identity { host: "web1".into(), machine_id: "m1".into() };
        let events = EventCounts::default();
        let extras =
            Extras { outputs: Outputs::open(&config, &[], stats.clone(), &identity), identity, events: events.clone() };
        let (sender, queue) = bounded(16);
        let thread = spawn(log, extras, queue, crossbeam_channel::never(), Arc::new(WriterStats::default())).unwrap();
        for i in 0..5 {
            sender.send(ToWriter::Record(denial(&format!("/x/{i}")))).unwrap();
        }
        sender.send(stop()).unwrap();
        drop(sender);
        thread.join().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 6);
        assert!(text.lines().all(|line| line.contains(r#""host":"web1","machine_id":"m1""#)), "{text}");
        let mut buf = [0u8; 65536];
        for _ in 0..6 {
            let n = receiver.recv(&mut buf).unwrap();
            assert!(buf[..n].starts_with(b"<8"), "{}", String::from_utf8_lossy(&buf[..n]));
        }
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        assert_eq!((load(&stats.syslog.sent), load(&stats.syslog.lost)), (6, 0));
        assert_eq!(load(&stats.journald.sent) + load(&stats.journald.lost), 6);
        assert_eq!(events.lock().unwrap().get(&("file", "read", "BLOCKED")), Some(&5));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
