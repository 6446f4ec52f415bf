//! The writer thread: the only owner of the log. It drains the records queue, folds
//! repeated denials (`logging::Folder`), flushes whenever the queue is momentarily
//! empty, and accounts for every event it receives (see `WriterStats`).
//!
//! A failing log (disk full, directory gone) never stops the agent or slows the
//! modules: what cannot be written is counted, the failure is reported once per streak
//! on stderr, and every batch tries again, so writing resumes by itself when space
//! returns. The records buffered meanwhile are written whole (never a half line).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use anyhow::Context;
use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::stats::StopReport;
use crate::config::{LogConfig, LogFormat, LogOutput};
use crate::logging::{Folder, Format, LogWriter, Output, Record, WriterOptions};

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

/// `replacements`: a log opened from a reloaded config. The agent sends it before the
/// reload record, so that record and every later one go to the new log.
pub fn spawn(
    log: LogWriter,
    queue: Receiver<ToWriter>,
    replacements: Receiver<LogWriter>,
    stats: Arc<WriterStats>,
) -> anyhow::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("writer".into())
        .spawn(move || Writer::new(log, stats).run(&queue, &replacements))
        .context("log: start writer thread")
}

struct Writer {
    log: LogWriter,
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
    fn new(log: LogWriter, stats: Arc<WriterStats>) -> Writer {
        Writer {
            log,
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
    fn run(mut self, queue: &Receiver<ToWriter>, replacements: &Receiver<LogWriter>) {
        loop {
            let received = match self.folder.next_deadline() {
                Some(deadline) => queue.recv_deadline(deadline),
                None => queue.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            if let Ok(log) = replacements.try_recv() {
                self.replace(log);
            }
            match received {
                Ok(message) => {
                    self.receive(message);
                    for message in queue.try_iter().take(BATCH - 1) {
                        self.receive(message);
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

    fn receive(&mut self, message: ToWriter) {
        match message {
            ToWriter::Record(record) => self.take(record),
            ToWriter::Stop(report) => self.stop(report),
        }
    }

    /// The last record: everything before it is settled first, so that its totals
    /// are the final ones.
    fn stop(&mut self, report: StopReport) {
        self.finish();
        let record = report.record(self.written(), self.filtered, self.write_errors);
        self.write(&record);
    }

    fn take(&mut self, record: Record) {
        self.folder.offer(record, Instant::now(), &mut self.out);
        self.write_out();
    }

    fn write_out(&mut self) {
        let mut out = std::mem::take(&mut self.out);
        for record in out.drain(..) {
            self.write(&record);
        }
        self.out = out; // keeps its allocation
    }

    fn write(&mut self, record: &Record) {
        match self.log.write(record) {
            Ok(true) => self.taken_while_failing = true,
            Ok(false) => self.filtered += record.events(),
            Err(err) => {
                self.write_errors += record.events();
                self.streak_errors += record.events();
                self.failed(&err);
            }
        }
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

    fn publish(&self) {
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

    fn stop() -> ToWriter {
        ToWriter::Stop(StopReport { totals: Counters::default(), error: None, persisted: false })
    }

    /// Sends `records` through a writer thread on `log`, then the stop record; returns
    /// the final stats.
    fn run(log: LogWriter, records: impl IntoIterator<Item = Record>) -> (u64, u64, u64) {
        let (sender, queue) = bounded(16);
        let stats = Arc::new(WriterStats::default());
        let thread = spawn(log, queue, crossbeam_channel::never(), stats.clone()).unwrap();
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
        let thread = spawn(old, queue, replacements, stats.clone()).unwrap();
        for i in 0..3 {
            sender.send(ToWriter::Record(denial(&format!("/before/{i}")))).unwrap();
        }
        // As the agent does: the new log, then the record that must land in it.
        while stats.written.load(Ordering::Relaxed) < 3 {
            std::thread::sleep(Duration::from_millis(5));
        }
        replace.send(new).unwrap();
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
        let mut writer = Writer::new(log, Arc::new(WriterStats::default()));
        let mut sent = 0;
        let mut send = |writer: &mut Writer, n: u64| {
            for i in 0..n {
                writer.take(denial(&format!("/x/{sent}/{i}")));
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
        writer.receive(stop());
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
        let thread = spawn(log, queue, crossbeam_channel::never(), stats.clone()).unwrap();
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
}
