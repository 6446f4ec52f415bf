//! A sender thread behind a bounded queue: an output whose receiver may be slow or
//! away (journald, a syslog socket, a TCP collector) never blocks the writer thread.
//! The writer's `push` fails at once when the queue is full (the caller counts the
//! record as lost); the thread counts what it delivers and what it cannot.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, RecvTimeoutError, Sender, TrySendError};

use super::OutputStats;

/// Records waiting for one output; past this they are counted as lost.
pub const CAPACITY: usize = 4096;
/// How long a stopping output may take to deliver what is queued (the stop record).
const FINISH: Duration = Duration::from_secs(2);

pub struct Queued {
    name: &'static str,
    sender: Option<Sender<Vec<u8>>>,
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Queued {
    /// `deliver` sends one message (it may block, bounded by its own timeouts, and
    /// should give up when `running` clears).
    pub fn start(
        name: &'static str,
        stats: Arc<OutputStats>,
        mut deliver: impl FnMut(&[u8], &AtomicBool) -> io::Result<()> + Send + 'static,
    ) -> io::Result<Queued> {
        let (sender, queue) = bounded::<Vec<u8>>(CAPACITY);
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let thread = std::thread::Builder::new().name(name.into()).spawn(move || {
            let mut failing = false;
            loop {
                let message = match queue.recv_timeout(Duration::from_millis(200)) {
                    Ok(message) => message,
                    Err(RecvTimeoutError::Timeout) if flag.load(Ordering::Relaxed) => continue,
                    Err(_) => break,
                };
                match deliver(&message, &flag) {
                    Ok(()) => {
                        stats.sent.fetch_add(1, Ordering::Relaxed);
                        if failing {
                            log::warn!("{name}: sending again");
                            failing = false;
                        }
                    }
                    Err(err) => {
                        stats.lost.fetch_add(1, Ordering::Relaxed);
                        if !failing {
                            log::error!(
                                "{name}: cannot send a record: {err}; what it cannot take is counted (lost_outputs)"
                            );
                            failing = true;
                        }
                    }
                }
            }
            stats.lost.fetch_add(queue.try_iter().count() as u64, Ordering::Relaxed);
        })?;
        Ok(Queued { name, sender: Some(sender), running, thread: Some(thread) })
    }

    pub fn push(&self, message: Vec<u8>) -> io::Result<()> {
        let Some(sender) = &self.sender else { return Err(io::Error::other("closed")) };
        match sender.try_send(message) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{}: queue of {CAPACITY} records full (receiver away or slow)", self.name),
            )),
            Err(TrySendError::Disconnected(_)) => Err(io::Error::other(format!("{}: sender ended", self.name))),
        }
    }
}

impl Drop for Queued {
    /// Gives the thread a moment to deliver what is queued, then stops it; what it
    /// could not send is counted as lost.
    fn drop(&mut self) {
        self.sender = None;
        let deadline = Instant::now() + FINISH;
        if let Some(thread) = self.thread.take() {
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            self.running.store(false, Ordering::Relaxed);
            let _ = thread.join();
        }
    }
}
