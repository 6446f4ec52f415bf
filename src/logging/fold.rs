//! Flood control: repeated identical denials are folded into one record per second.
//!
//! A process that hammers a denied operation gets EPERM every time (the kernel decides;
//! folding happens only here, in the writer), but the log must not grow by one line per
//! attempt. Records with action BLOCKED or MONITOR that are identical except for `time`
//! share a key:
//! - the first is written at once and opens a window of `FOLD_WINDOW`;
//! - the repeats that arrive while the window is open are only counted;
//! - when the window closes with repeats, ONE record is written: the fields of the first,
//!   the time of the last repeat, and `count` = the number of repeats (the events it
//!   stands for; written only when 2 or more, a single repeat is written as itself).
//!   A new window opens at once, so a sustained flood gives one record per second;
//! - a window that closes without repeats forgets the key.
//!
//! So the sum of `count` (1 where absent) over the records is the number of events.
//! At most `FOLD_KEYS` keys are open; records of further keys are written unfolded.
//! `finish` closes every window (at shutdown), so nothing is held back.
//!
//! Windows run on the writer's monotonic clock (when a record is received), passed in by
//! the caller so that tests control it.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use super::record::COUNT_FIELD;
use super::{Action, Record, Value};

/// How long repeats of a denial are folded before one record says how many there were.
pub const FOLD_WINDOW: Duration = Duration::from_secs(1);
/// Open windows at most; past this, new keys are written unfolded (bounded memory).
pub const FOLD_KEYS: usize = 1024;

pub struct Folder {
    window: Duration,
    max_keys: usize,
    /// Key: the record with `time` set to the epoch.
    open: HashMap<Record, Window>,
    /// Every open key once, in the order its window closes (all windows have the same
    /// length and open at the current time, so pushing at the back keeps the order).
    closing: VecDeque<(Instant, Record)>,
}

struct Window {
    repeats: u64,
    /// The time of the last repeat.
    last: SystemTime,
}

impl Folder {
    pub fn new() -> Folder {
        Folder::with_limits(FOLD_WINDOW, FOLD_KEYS)
    }

    pub fn with_limits(window: Duration, max_keys: usize) -> Folder {
        Folder { window, max_keys, open: HashMap::new(), closing: VecDeque::new() }
    }

    /// Takes one record received at `now`; appends to `out` what is to be written now
    /// (summaries of windows that closed, then the record itself unless it is folded).
    pub fn offer(&mut self, mut record: Record, now: Instant, out: &mut Vec<Record>) {
        self.expire(now, out);
        // Detections are never folded (SPEC section 8).
        if !matches!(record.action, Some(Action::Blocked | Action::Monitor)) || record.module == "detect" {
            out.push(record);
            return;
        }
        let time = std::mem::replace(&mut record.time, SystemTime::UNIX_EPOCH);
        if let Some(window) = self.open.get_mut(&record) {
            window.repeats += 1;
            window.last = time;
            return;
        }
        if self.open.len() < self.max_keys {
            self.closing.push_back((now + self.window, record.clone()));
            self.open.insert(record.clone(), Window { repeats: 0, last: time });
        }
        record.time = time;
        out.push(record);
    }

    /// Closes the windows due at `now`.
    pub fn expire(&mut self, now: Instant, out: &mut Vec<Record>) {
        while self.closing.front().is_some_and(|(closes, _)| *closes <= now) {
            let Some((_, key)) = self.closing.pop_front() else { break };
            self.close(key, Some(now), out);
        }
    }

    /// When the next window closes (the writer waits no longer than that).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.closing.front().map(|(closes, _)| *closes)
    }

    /// Closes every window: at shutdown nothing stays held back.
    pub fn finish(&mut self, out: &mut Vec<Record>) {
        while let Some((_, key)) = self.closing.pop_front() {
            self.close(key, None, out);
        }
    }

    /// Writes the summary of a window with repeats; reopens it at `reopen` (unless
    /// finishing) when there were repeats, forgets the key otherwise.
    fn close(&mut self, key: Record, reopen: Option<Instant>, out: &mut Vec<Record>) {
        let Some(window) = self.open.get_mut(&key) else { return };
        let (repeats, last) = (window.repeats, window.last);
        window.repeats = 0;
        if repeats == 0 || reopen.is_none() {
            self.open.remove(&key);
        }
        if repeats > 0 {
            let mut summary = key.clone();
            summary.time = last;
            if repeats >= 2 {
                summary.fields.push((COUNT_FIELD, Value::Uint(repeats)));
            }
            out.push(summary);
            if let Some(now) = reopen {
                self.closing.push_back((now + self.window, key));
            }
        }
    }

    /// Keys with an open window.
    #[cfg(test)]
    pub fn open_keys(&self) -> usize {
        self.open.len()
    }
}

impl Default for Folder {
    fn default() -> Folder {
        Folder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::Level;

    fn denial(path: &str, seconds: u64) -> Record {
        Record {
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_350_000 + seconds),
            action: Some(Action::Blocked),
            rule: Some("/srv/secret".into()),
            event: true,
            ..Record::new(Level::Warning, "file", "read")
        }
        .field("path", Value::Str(path.into()))
        .field("pid", Value::Uint(42))
    }

    fn count(record: &Record) -> Option<u64> {
        record.fields.iter().find(|(name, _)| *name == COUNT_FIELD).map(|(_, value)| match value {
            Value::Uint(count) => *count,
            other => panic!("count is {other:?}"),
        })
    }

    fn events(records: &[Record]) -> u64 {
        records.iter().map(Record::events).sum()
    }

    #[test]
    fn a_flood_is_one_record_then_one_per_window() {
        let start = Instant::now();
        let ms = |n: u64| start + Duration::from_millis(n);
        let mut folder = Folder::new();
        let mut out = Vec::new();
        // 100 attempts every 10 ms: 0..990 ms, the first written at once.
        for i in 0..100 {
            folder.offer(denial("/srv/secret/key", i), ms(i * 10), &mut out);
        }
        assert_eq!(out.len(), 1);
        assert_eq!(count(&out[0]), None);
        assert_eq!(out[0], denial("/srv/secret/key", 0));
        assert_eq!(folder.next_deadline(), Some(ms(1000)));
        // The window closes: one record for the 99 repeats, with the last one's time.
        folder.expire(ms(1000), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(count(&out[1]), Some(99));
        assert_eq!(out[1].time, denial("", 99).time);
        assert_eq!(out[1].fields[..2], denial("/srv/secret/key", 0).fields[..]);
        // The flood goes on in the next window, then stops: the window after it is empty
        // and the key is forgotten.
        for i in 100..150 {
            folder.offer(denial("/srv/secret/key", i), ms(i * 10), &mut out);
        }
        folder.expire(ms(2000), &mut out);
        assert_eq!(count(&out[2]), Some(50));
        assert_eq!(folder.open_keys(), 1);
        folder.expire(ms(3000), &mut out);
        assert_eq!((out.len(), folder.open_keys(), folder.next_deadline()), (3, 0, None));
        assert_eq!(events(&out), 150);
        // After that, the same denial is written at once again.
        folder.offer(denial("/srv/secret/key", 500), ms(5000), &mut out);
        assert_eq!(out.len(), 4);
        assert_eq!(count(&out[3]), None);
    }

    #[test]
    fn only_identical_denials_fold() {
        let now = Instant::now();
        let mut folder = Folder::new();
        let mut out = Vec::new();
        folder.offer(denial("/a", 0), now, &mut out);
        folder.offer(denial("/b", 0), now, &mut out); // another path
        let other_pid = denial("/a", 0).field("extra", Value::Bool(true));
        folder.offer(other_pid, now, &mut out);
        let monitor = Record { action: Some(Action::Monitor), ..denial("/a", 0) };
        folder.offer(monitor.clone(), now, &mut out);
        folder.offer(monitor, now, &mut out); // folded
        let allowed = Record { action: Some(Action::Allowed), level: Level::Info, ..denial("/a", 0) };
        folder.offer(allowed.clone(), now, &mut out);
        folder.offer(allowed, now, &mut out); // audit records are never folded
        let agent = Record::new(Level::Info, "agent", "stats");
        folder.offer(agent.clone(), now, &mut out);
        folder.offer(agent, now, &mut out);
        assert_eq!(out.len(), 8);
        folder.finish(&mut out);
        assert_eq!(out.len(), 9); // the single MONITOR repeat, as itself
        assert_eq!(count(&out[8]), None);
        assert_eq!(out[8].action, Some(Action::Monitor));
        assert_eq!(events(&out), 7); // the agent's records are no events
    }

    #[test]
    fn finish_flushes_every_window() {
        let now = Instant::now();
        let mut folder = Folder::new();
        let mut out = Vec::new();
        for round in 0..5 {
            for path in ["/a", "/b", "/c"] {
                folder.offer(denial(path, round), now, &mut out);
            }
        }
        assert_eq!(out.len(), 3);
        folder.finish(&mut out);
        assert_eq!(out.len(), 6);
        assert!(out[3..].iter().all(|record| count(record) == Some(4)));
        assert_eq!(events(&out), 15);
        assert_eq!((folder.open_keys(), folder.next_deadline()), (0, None));
    }

    #[test]
    fn past_the_key_limit_records_are_written_unfolded() {
        let now = Instant::now();
        let mut folder = Folder::with_limits(FOLD_WINDOW, 2);
        let mut out = Vec::new();
        for _ in 0..3 {
            for path in ["/a", "/b", "/c"] {
                folder.offer(denial(path, 0), now, &mut out);
            }
        }
        // /a and /b fold; every /c is written.
        assert_eq!(out.len(), 2 + 3);
        assert_eq!(folder.open_keys(), 2);
        folder.finish(&mut out);
        assert_eq!(events(&out), 9);
        // Once a window closes its key frees a place.
        let mut folder = Folder::with_limits(FOLD_WINDOW, 1);
        let mut out = Vec::new();
        folder.offer(denial("/a", 0), now, &mut out);
        folder.offer(denial("/b", 0), now + FOLD_WINDOW, &mut out);
        folder.offer(denial("/b", 0), now + FOLD_WINDOW, &mut out);
        assert_eq!(out.len(), 2);
        folder.finish(&mut out);
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn a_summary_comes_before_the_record_that_finds_its_window_closed() {
        let start = Instant::now();
        let mut folder = Folder::new();
        let mut out = Vec::new();
        for i in 0..3 {
            folder.offer(denial("/a", i), start, &mut out);
        }
        // No expire call in between: offer closes what is due first.
        folder.offer(denial("/b", 9), start + FOLD_WINDOW * 2, &mut out);
        let paths: Vec<_> = out.iter().map(|record| (record.fields[0].1.clone(), count(record))).collect();
        assert_eq!(
            paths,
            [(Value::Str("/a".into()), None), (Value::Str("/a".into()), Some(2)), (Value::Str("/b".into()), None)]
        );
    }
}
