//! The log file: append-only writes through our own buffer, rotation by size and age,
//! and reopening when something else (logrotate, an admin) removed or replaced the file.
//!
//! Guarantees, given that every line handed to `write_line` ends in its only `\n`:
//! - records reach the disk in order, each whole in one file: the buffer is written out
//!   to the current file before that file is rotated;
//! - a record `write_line` accepted (returned `Ok`) stays in the buffer until it is on
//!   disk; an I/O error leaves it there to be retried and refuses only new records;
//! - a file removed, renamed away or replaced by someone else (logrotate) is noticed by
//!   comparing the path's device and inode with the open file's, at most once a second
//!   on write and before every write-out of the buffer; the path is then opened again
//!   and the buffer goes there. A file truncated under us (copytruncate) gets its size
//!   recounted by the same check (and a record cut by a failed write is begun again);
//! - a file opened that does not end with a newline (a record cut when an earlier run
//!   stopped on a full disk) gets one first, so new records start lines of their own;
//! - a record is only cut if a write fails half-way and the file is then replaced: the
//!   cut prefix stays at the end of the old file and the whole record goes to the new one.
//!
//! Age is measured from when we created the file; for an existing file we open (agent
//! restart, logrotate's `create`), from its birth time when the filesystem reports it
//! (statx), else its mtime. Birth time survives restarts of the agent, where mtime would
//! keep a busy file young forever. From then on the age runs on the monotonic clock, so
//! wall-clock steps neither rotate early nor delay rotation.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Buffered bytes that trigger a write to the file before the next record is added.
pub(super) const BUFFER_CAPACITY: usize = 64 * 1024;
/// How often the path is compared with the open file (one `stat`) to notice that the file
/// was removed, renamed away or truncated by someone else.
pub(super) const REOPEN_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// New log files: owner read-write, group read (the umask may remove more).
const FILE_MODE: u32 = 0o640;

/// Time source, replaceable in tests.
pub(super) trait Clock: Send {
    /// Monotonic time, for age and check intervals.
    fn now(&self) -> Instant;
    /// Wall-clock time, only to compare with file timestamps.
    fn wall(&self) -> SystemTime;
}

pub(super) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
}

pub(super) struct Limits {
    /// Rotate before a record would make the file larger than this; 0: no size limit.
    pub max_size: u64,
    /// Rotate before writing into a file older than this; zero: no age limit.
    pub max_age: Duration,
    /// Rotated files kept (`name.1` newest .. `name.N` oldest); 0 keeps none.
    pub max_files: u32,
}

pub(super) struct RotatingFile {
    path: PathBuf,
    limits: Limits,
    clock: Box<dyn Clock>,
    /// None after a failed (re)open; the next write tries again.
    current: Option<OpenFile>,
    pending: Pending,
    next_check: Instant,
}

struct OpenFile {
    file: File,
    dev: u64,
    ino: u64,
    /// Bytes in the file plus bytes still pending for it.
    size: u64,
    /// When the file becomes too old; None without an age limit.
    rotate_at: Option<Instant>,
}

impl RotatingFile {
    /// Opens (or creates) `path` for appending.
    pub(super) fn open(path: PathBuf, limits: Limits, clock: Box<dyn Clock>) -> io::Result<RotatingFile> {
        let next_check = clock.now() + REOPEN_CHECK_INTERVAL;
        let mut file = RotatingFile { path, limits, clock, current: None, pending: Pending::default(), next_check };
        file.current = Some(file.open_current()?);
        Ok(file)
    }

    /// Adds one complete line that stands for `events` events (see `written_events`).
    /// Ok means the line is accepted: it is in the buffer or in the file. Err means it
    /// was not taken (rotation, reopen or writing the buffer out failed); the writer
    /// stays usable and the next call tries again.
    pub(super) fn write_line(&mut self, line: &[u8], events: u64) -> io::Result<()> {
        let now = self.clock.now();
        if now >= self.next_check {
            self.next_check = now + REOPEN_CHECK_INTERVAL;
            self.check_replaced();
        }
        if self.rotation_due(line.len() as u64, now) {
            self.rotate()?;
        }
        if !self.pending.is_empty() && self.pending.len() + line.len() > BUFFER_CAPACITY {
            self.drain()?;
        }
        self.ensure_open()?;
        if let Some(current) = self.current.as_mut() {
            current.size += line.len() as u64;
        }
        self.pending.push(line, events);
        Ok(())
    }

    /// Writes the buffer to the file.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.drain()
    }

    /// Records accepted but not yet completely on disk (to count them if a final flush
    /// fails).
    pub(super) fn unwritten_records(&self) -> usize {
        self.pending.lines.len()
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Events (the weights given to `write_line`) whose lines are completely in a file,
    /// since the start. A line counts once its last byte is written.
    pub(super) fn written_events(&self) -> u64 {
        self.pending.done
    }

    /// Drops what is still buffered (a final flush failed) and returns its events.
    pub(super) fn discard_pending(&mut self) -> u64 {
        self.pending.discard()
    }

    fn ensure_open(&mut self) -> io::Result<()> {
        if self.current.is_none() {
            self.current = Some(self.open_current()?);
        }
        Ok(())
    }

    /// Writes the buffer to the file now at the path: buffered records of a file that was
    /// removed meanwhile go to its successor, not into an unlinked inode.
    fn drain(&mut self) -> io::Result<()> {
        self.check_replaced();
        self.ensure_open()?;
        match self.current.as_mut() {
            Some(current) => self.pending.drain(&mut current.file),
            None => Err(io::Error::other("log file not open")), // ensure_open succeeded
        }
    }

    fn rotation_due(&mut self, incoming: u64, now: Instant) -> bool {
        let Some(current) = self.current.as_mut() else { return false };
        if current.size == 0 {
            // Nothing to rotate away: an old but empty file just starts its age again.
            if current.rotate_at.is_some_and(|at| now >= at) {
                current.rotate_at = now.checked_add(self.limits.max_age);
            }
            return false;
        }
        let too_big = self.limits.max_size > 0 && current.size.saturating_add(incoming) > self.limits.max_size;
        let too_old = current.rotate_at.is_some_and(|at| now >= at);
        too_big || too_old
    }

    /// `name` → `name.1` → `name.2` ..., keeping `max_files` rotated files, then a new
    /// `name`. Any failure before the rename of `name` leaves the current file in use.
    fn rotate(&mut self) -> io::Result<()> {
        if self.check_replaced() {
            return Ok(()); // someone else moved it away; a new file follows
        }
        if let Some(current) = self.current.as_mut() {
            self.pending.drain(&mut current.file)?;
        }
        let keep = u64::from(self.limits.max_files);
        let rotated = self.rotated_numbers()?;
        // Numbers at or past `keep` would end up beyond it after the shift.
        for &number in rotated.iter().filter(|&&number| number >= keep.max(1)) {
            remove_if_present(&numbered(&self.path, number))?;
        }
        for &number in rotated.iter().rev().filter(|&&number| number < keep) {
            rename_if_present(&numbered(&self.path, number), &numbered(&self.path, number + 1))?;
        }
        if keep > 0 {
            // Already gone (removed since the last check): nothing to move.
            rename_if_present(&self.path, &numbered(&self.path, 1))?;
        } else {
            remove_if_present(&self.path)?;
        }
        // The old file is complete (drained above); from here on only a new one will do.
        self.current = None;
        self.current = Some(self.open_current()?);
        Ok(())
    }

    /// The N of every `name.N` next to the log file, ascending.
    fn rotated_numbers(&self) -> io::Result<Vec<u64>> {
        let (dir, name) = split(&self.path);
        let mut prefix = name.as_bytes().to_vec();
        prefix.push(b'.');
        let mut numbers = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry_name = entry?.file_name();
            let Some(suffix) = entry_name.as_bytes().strip_prefix(prefix.as_slice()) else { continue };
            let Ok(suffix) = std::str::from_utf8(suffix) else { continue };
            // Only canonical numbers: `name.1.gz` or `name.01` are not ours to move.
            if let Ok(number) = suffix.parse::<u64>() {
                if number > 0 && number.to_string() == suffix {
                    numbers.push(number);
                }
            }
        }
        numbers.sort_unstable();
        Ok(numbers)
    }

    /// Notices a log file that was removed, renamed away or replaced, and drops it so the
    /// next write opens the path again (true); notices truncation and recounts the size.
    fn check_replaced(&mut self) -> bool {
        let Some(current) = self.current.as_mut() else { return false };
        let same = match fs::symlink_metadata(&self.path) {
            Ok(meta) => meta.dev() == current.dev && meta.ino() == current.ino,
            Err(error) if error.kind() == io::ErrorKind::NotFound => false,
            Err(_) => return false, // cannot tell; keep the file we have
        };
        if same {
            if let Ok(meta) = current.file.metadata() {
                let on_disk = current.size.saturating_sub(self.pending.unwritten() as u64);
                if meta.len() < on_disk {
                    // Truncated under us (copytruncate): the start of a record cut by a
                    // failed write went with it, so the record is written again whole.
                    self.pending.restart_record();
                }
                current.size = meta.len() + self.pending.unwritten() as u64;
            }
            return false;
        }
        // Whatever is buffered goes whole into the new file, including a record cut by a
        // failed write whose first part stays at the end of the old one.
        self.pending.restart_record();
        self.current = None;
        true
    }

    fn open_current(&self) -> io::Result<OpenFile> {
        let mut options = OpenOptions::new();
        // A root daemon must not follow a link planted where its log file goes; a FIFO
        // without a reader must fail instead of blocking, a tty must not become ours.
        options.append(true).mode(FILE_MODE).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
        let (file, created) = match options.clone().create_new(true).open(&self.path) {
            Ok(file) => (file, true),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => (options.open(&self.path)?, false),
            Err(error) => return Err(error),
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            // Rotation renames the path; never do that to a device or a pipe.
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
        }
        let mut meta = meta;
        if !created && meta.len() > 0 && !ends_with_newline(&self.path, meta.len())? {
            // A record cut when an earlier run stopped on a full disk: end that line, so
            // the next record starts a line of its own.
            (&file).write_all(b"\n")?;
            meta = file.metadata()?;
        }
        let age = if created {
            Duration::ZERO
        } else {
            let wall = self.clock.wall();
            wall.duration_since(age_origin(meta.created(), meta.modified(), wall)).unwrap_or(Duration::ZERO)
        };
        let rotate_at = if self.limits.max_age.is_zero() {
            None
        } else {
            self.clock.now().checked_add(self.limits.max_age.saturating_sub(age))
        };
        Ok(OpenFile { file, dev: meta.dev(), ino: meta.ino(), size: meta.len() + self.pending.len() as u64, rotate_at })
    }
}

impl Drop for RotatingFile {
    fn drop(&mut self) {
        let _ = self.flush(); // best effort; the agent flushes and counts before exit
    }
}

/// Whether the file at `path`, `len` bytes long, ends with a newline.
fn ends_with_newline(path: &Path, len: u64) -> io::Result<bool> {
    use std::os::unix::fs::FileExt;
    let file = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)?;
    let mut last = [0u8];
    file.read_exact_at(&mut last, len - 1)?;
    Ok(last[0] == b'\n')
}

/// When a file's age starts: its birth time if known, else its mtime, else now; never
/// in the future.
pub(super) fn age_origin(
    created: io::Result<SystemTime>,
    modified: io::Result<SystemTime>,
    now: SystemTime,
) -> SystemTime {
    created.or(modified).unwrap_or(now).min(now)
}

/// `path.N`
fn numbered(path: &Path, number: u64) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(format!(".{number}"));
    PathBuf::from(name)
}

/// The directory (`.` for a bare name) and file name of the log path.
pub(super) fn split(path: &Path) -> (&Path, &OsStr) {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    (dir, path.file_name().unwrap_or(path.as_os_str()))
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

fn rename_if_present(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// Complete lines waiting to be written. `written` bytes of the first line are already
/// in the file (a write stopped half-way); everything before that line is gone from
/// the buffer, so the buffer always starts at a line boundary.
#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    written: usize,
    /// Length and event weight of each line in `bytes`, in order.
    lines: VecDeque<(usize, u64)>,
    /// Events of the lines written out completely, since the start.
    done: u64,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn len(&self) -> usize {
        self.bytes.len()
    }

    fn unwritten(&self) -> usize {
        self.bytes.len() - self.written
    }

    fn push(&mut self, line: &[u8], events: u64) {
        self.bytes.extend_from_slice(line);
        self.lines.push_back((line.len(), events));
    }

    /// Forgets every line; returns their events.
    fn discard(&mut self) -> u64 {
        let events = self.lines.drain(..).map(|(_, events)| events).sum();
        self.bytes.clear();
        self.written = 0;
        events
    }

    /// Writes everything; on error keeps what was not written, from its line's start.
    fn drain(&mut self, out: &mut impl Write) -> io::Result<()> {
        while self.written < self.bytes.len() {
            match out.write(&self.bytes[self.written..]) {
                Ok(0) => return self.stop(io::ErrorKind::WriteZero.into()),
                Ok(count) => self.written += count,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return self.stop(error),
            }
        }
        self.done += self.lines.drain(..).map(|(_, events)| events).sum::<u64>();
        self.bytes.clear();
        if self.bytes.capacity() > 4 * BUFFER_CAPACITY {
            self.bytes.shrink_to(BUFFER_CAPACITY); // after one huge record
        }
        self.written = 0;
        Ok(())
    }

    /// Drops the lines written completely before the error, counting their events.
    fn stop(&mut self, error: io::Error) -> io::Result<()> {
        let mut cut = 0;
        while let Some(&(len, events)) = self.lines.front() {
            if cut + len > self.written {
                break;
            }
            cut += len;
            self.done += events;
            self.lines.pop_front();
        }
        self.bytes.drain(..cut);
        self.written -= cut;
        Err(error)
    }

    /// The output changed: the first line is written again from its start.
    fn restart_record(&mut self) {
        self.written = 0;
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// A fresh directory under the system temp dir, removed on drop.
    pub struct TempDir(pub PathBuf);

    impl TempDir {
        pub fn new(name: &str) -> TempDir {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("safeguard-{name}-{}-{unique}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// A clock that moves only when told to; clones share it.
    #[derive(Clone)]
    pub struct FakeClock(Arc<Mutex<(Instant, SystemTime)>>);

    impl FakeClock {
        pub fn new() -> FakeClock {
            FakeClock(Arc::new(Mutex::new((Instant::now(), SystemTime::now()))))
        }

        pub fn advance(&self, by: Duration) {
            let mut times = self.0.lock().unwrap();
            times.0 += by;
            times.1 += by;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.0.lock().unwrap().0
        }

        fn wall(&self) -> SystemTime {
            self.0.lock().unwrap().1
        }
    }

    /// Accepts at most `chunk` bytes per call and fails every call whose number is in
    /// `failing`.
    struct Flaky {
        written: Vec<u8>,
        chunk: usize,
        calls: usize,
        failing: fn(usize) -> bool,
    }

    impl Write for Flaky {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.calls += 1;
            if (self.failing)(self.calls) {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            let count = bytes.len().min(self.chunk);
            self.written.extend_from_slice(&bytes[..count]);
            Ok(count)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn pending_survives_errors_and_short_writes() {
        let mut out = Flaky { written: Vec::new(), chunk: 7, calls: 0, failing: |call| call % 3 == 0 };
        let mut pending = Pending::default();
        let mut expected = Vec::new();
        for number in 0..200 {
            let line = format!("record {number} {}\n", "x".repeat(number % 13));
            pending.push(line.as_bytes(), number as u64);
            expected.extend_from_slice(line.as_bytes());
            // Errors leave the rest pending and the buffer at a line boundary.
            while let Err(error) = pending.drain(&mut out) {
                assert_eq!(error.raw_os_error(), Some(libc::ENOSPC));
                // Exactly the lines completely in the output are counted (weight = number).
                let complete = out.written.iter().filter(|&&byte| byte == b'\n').count() as u64;
                assert_eq!(pending.done, (0..complete).sum::<u64>());
                assert!(pending.written < pending.bytes.iter().position(|&byte| byte == b'\n').unwrap() + 1);
            }
        }
        assert!(pending.is_empty());
        assert_eq!(out.written, expected);
        assert_eq!(pending.done, (0..200).sum::<u64>());
    }

    #[test]
    fn a_cut_record_is_written_whole_to_the_next_output() {
        let mut old = Flaky { written: Vec::new(), chunk: 5, calls: 0, failing: |call| call >= 2 };
        let mut pending = Pending::default();
        pending.push(b"first line\n", 1);
        pending.push(b"second\n", 2);
        assert!(pending.drain(&mut old).is_err());
        assert_eq!(old.written, b"first");
        assert_eq!(pending.done, 0);
        pending.restart_record();
        let mut new = Vec::new();
        pending.drain(&mut new).unwrap();
        assert_eq!(new, b"first line\nsecond\n");
        assert_eq!(pending.done, 3);
    }

    #[test]
    fn truncation_after_a_cut_record_rewrites_it_whole() {
        let dir = TempDir::new("cut-truncate");
        let path = dir.0.join("safeguard.log");
        let limits = Limits { max_size: 0, max_age: Duration::ZERO, max_files: 1 };
        let mut file = RotatingFile::open(path.clone(), limits, Box::new(SystemClock)).unwrap();
        file.write_line(b"first\n", 1).unwrap();
        file.flush().unwrap();
        // As after ENOSPC half-way through "second": its first 3 bytes are in the file.
        file.write_line(b"second\n", 1).unwrap();
        fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"sec").unwrap();
        file.pending.written = 3;
        // copytruncate empties the file; the next write-out starts "second" again.
        fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
        file.flush().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second\n");
        assert_eq!(file.written_events(), 2);
    }

    #[test]
    fn age_starts_at_birth_else_mtime_else_now() {
        let now = SystemTime::now();
        let hour_ago = now - Duration::from_secs(3600);
        let day_ago = now - Duration::from_secs(86_400);
        let unsupported = || Err(io::Error::from(io::ErrorKind::Unsupported));
        assert_eq!(age_origin(Ok(day_ago), Ok(hour_ago), now), day_ago);
        assert_eq!(age_origin(unsupported(), Ok(hour_ago), now), hour_ago);
        assert_eq!(age_origin(unsupported(), unsupported(), now), now);
        assert_eq!(age_origin(Ok(now + Duration::from_secs(60)), unsupported(), now), now);
    }

    #[test]
    fn only_regular_files() {
        let limits = || Limits { max_size: 0, max_age: Duration::ZERO, max_files: 1 };
        let error = RotatingFile::open("/dev/null".into(), limits(), Box::new(SystemClock)).err().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        let dir = TempDir::new("regular");
        assert!(RotatingFile::open(dir.0.clone(), limits(), Box::new(SystemClock)).is_err());
    }

    #[test]
    fn numbered_names() {
        assert_eq!(
            numbered(Path::new("/var/log/safeguard/safeguard.log"), 3),
            Path::new("/var/log/safeguard/safeguard.log.3")
        );
        assert_eq!(split(Path::new("safeguard.log")), (Path::new("."), OsStr::new("safeguard.log")));
        assert_eq!(split(Path::new("/a/b.log")), (Path::new("/a"), OsStr::new("b.log")));
    }
}
