//! The writer thread: the only owner of the log. It drains the records queue,
//! flushes whenever the queue is momentarily empty, and counts what it writes and
//! what it fails to write.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use anyhow::Context;
use crossbeam_channel::Receiver;

use crate::config::{LogConfig, LogFormat, LogOutput};
use crate::logging::{Format, LogWriter, Output, Record, WriterOptions};

#[derive(Debug, Default)]
pub struct WriterStats {
    /// Event records written (`Record::event`: the agent's and modules' own records are not events).
    pub written: AtomicU64,
    /// Event records that could not be written (disk full, I/O error).
    pub write_errors: AtomicU64,
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
    LogWriter::open(options).context("log: open the log")
}

pub fn spawn(
    mut log: LogWriter,
    queue: Receiver<Record>,
    stats: Arc<WriterStats>,
) -> anyhow::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("writer".into())
        .spawn(move || {
            let mut reported_error = false;
            while let Ok(record) = queue.recv() {
                write_one(&mut log, &record, &stats, &mut reported_error);
                while let Ok(record) = queue.try_recv() {
                    write_one(&mut log, &record, &stats, &mut reported_error);
                }
                if let Err(err) = log.flush() {
                    log::error!("log: flush: {err}");
                }
            }
        })
        .context("log: start writer thread")
}

fn write_one(log: &mut LogWriter, record: &Record, stats: &WriterStats, reported_error: &mut bool) {
    match log.write(record) {
        Ok(written) => {
            if written && record.event {
                stats.written.fetch_add(1, Ordering::Relaxed);
            }
            *reported_error = false;
        }
        Err(err) => {
            if record.event {
                stats.write_errors.fetch_add(1, Ordering::Relaxed);
            }
            // Once per failure streak: a full disk must not flood stderr as well.
            if !*reported_error {
                log::error!("log: write failed (counted; retrying with the next record): {err}");
                *reported_error = true;
            }
        }
    }
}
