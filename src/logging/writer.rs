//! `LogWriter`: level threshold, formatting and output of records, one line each.
//!
//! Stdout is flushed after every record (a pipe to journald or a container runtime
//! should see each line at once). A file is written through a 64 KiB buffer that goes
//! to disk when it is full, when the caller calls `flush` (the writer thread does when
//! its channel is momentarily empty), before a rotation and on drop. Rotation and
//! reopening are described in `rotate`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};

use super::rotate::{split, Clock, Limits, RotatingFile, SystemClock};
use super::{write_json_user, write_text_user, Level, Record, UserNames};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

#[derive(Clone, Debug)]
pub struct WriterOptions {
    pub format: Format,
    pub output: Output,
    /// Rotate before a record would make the file larger than this; 0: no size limit.
    pub max_size: u64,
    /// Rotate before writing into a file older than this; zero: no age limit.
    pub max_age: Duration,
    /// Rotated files kept; 0 keeps none.
    pub max_files: u32,
    /// Records below this level are skipped.
    pub level: Level,
    /// Added to every record.
    pub tags: Vec<(String, String)>,
}

pub struct LogWriter {
    format: Format,
    level: Level,
    tags: Vec<(String, String)>,
    sink: Sink,
    /// The line being formatted, reused between records.
    line: Vec<u8>,
    /// Events written to a stream (a file's are counted by `RotatingFile`).
    stream_events: u64,
    /// The `user` field beside each record's `uid`.
    users: UserNames,
}

enum Sink {
    /// Stdout (or, in tests, any stream), written unbuffered.
    Stream(Box<dyn Write + Send>, &'static str),
    File(RotatingFile),
}

impl LogWriter {
    /// Opens the output. A log file's directory must exist and be writable (rotation
    /// renames files in it); it is never created, so a typo in the config is an error
    /// that names the path rather than a new directory somewhere.
    pub fn open(options: WriterOptions) -> anyhow::Result<LogWriter> {
        LogWriter::open_with_clock(options, Box::new(SystemClock))
    }

    pub(super) fn open_with_clock(options: WriterOptions, clock: Box<dyn Clock>) -> anyhow::Result<LogWriter> {
        let sink = match options.output {
            Output::Stdout => Sink::Stream(Box::new(io::stdout()), "stdout"),
            Output::File(path) => {
                check_directory(&path)?;
                let limits =
                    Limits { max_size: options.max_size, max_age: options.max_age, max_files: options.max_files };
                let file = RotatingFile::open(path.clone(), limits, clock)
                    .with_context(|| format!("log: cannot open {}", path.display()))?;
                Sink::File(file)
            }
        };
        Ok(LogWriter {
            format: options.format,
            level: options.level,
            tags: options.tags,
            sink,
            line: Vec::new(),
            stream_events: 0,
            users: UserNames::new(),
        })
    }

    /// A writer to `out` (as to stdout): a failing stream in tests.
    #[cfg(test)]
    pub fn to_stream(format: Format, level: Level, out: Box<dyn Write + Send>) -> LogWriter {
        LogWriter {
            format,
            level,
            tags: Vec::new(),
            sink: Sink::Stream(out, "test stream"),
            line: Vec::new(),
            stream_events: 0,
            users: UserNames::new(),
        }
    }

    /// Writes one record. Ok(false): below the level threshold, skipped. Err: the record
    /// was not written (the caller counts it); the writer stays usable. Ok(true): taken;
    /// its events (`Record::events`) count in `written_events` once it is on disk.
    pub fn write(&mut self, record: &Record) -> io::Result<bool> {
        if record.level < self.level {
            return Ok(false);
        }
        self.line.clear();
        match self.format {
            Format::Json => write_json_user(&mut self.line, record, self.users.for_record(record), &self.tags),
            Format::Text => write_text_user(&mut self.line, record, self.users.for_record(record), &self.tags),
        }
        match &mut self.sink {
            Sink::Stream(out, _) => {
                out.write_all(&self.line)?;
                out.flush()?;
                self.stream_events += record.events();
            }
            Sink::File(file) => file.write_line(&self.line, record.events())?,
        }
        if self.line.capacity() > 1 << 20 {
            self.line = Vec::new(); // do not keep a huge record's buffer
        }
        Ok(true)
    }

    /// Puts buffered records on disk. An error does not lose them: they stay buffered
    /// and are retried by the next write or flush.
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stream(out, _) => out.flush(),
            Sink::File(file) => file.flush(),
        }
    }

    /// Records accepted but not yet on disk; after a failed final flush these are lost.
    pub fn unwritten_records(&self) -> usize {
        match &self.sink {
            Sink::Stream(..) => 0,
            Sink::File(file) => file.unwritten_records(),
        }
    }

    /// Events (`Record::events`) of the records completely written out, since the start.
    pub fn written_events(&self) -> u64 {
        match &self.sink {
            Sink::Stream(..) => self.stream_events,
            Sink::File(file) => file.written_events(),
        }
    }

    /// Gives up on what is still buffered (the final flush failed); returns its events.
    pub fn discard_unwritten(&mut self) -> u64 {
        match &mut self.sink {
            Sink::Stream(..) => 0,
            Sink::File(file) => file.discard_pending(),
        }
    }

    /// Where records go, for messages.
    pub fn destination(&self) -> String {
        match &self.sink {
            Sink::Stream(_, name) => (*name).into(),
            Sink::File(file) => file.path().display().to_string(),
        }
    }
}

/// The directory must exist and take new files. Checked once at start by creating and
/// removing a probe file: that answers for the effective user, read-only mounts and
/// ACLs alike, where `access(2)` answers for the real user only.
fn check_directory(path: &std::path::Path) -> anyhow::Result<()> {
    let (dir, name) = split(path);
    if path.file_name().is_none() {
        bail!("log: output {} is not a file path", path.display());
    }
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => bail!("log: {} (the directory of {}) is not a directory", dir.display(), path.display()),
        Err(error) => {
            return Err(error).with_context(|| {
                format!("log: directory {} for {} is missing (it is not created)", dir.display(), path.display())
            })
        }
    }
    let mut probe_name = std::ffi::OsString::from(".");
    probe_name.push(name);
    probe_name.push(format!(".probe-{}", std::process::id()));
    let probe = dir.join(probe_name);
    let _ = std::fs::remove_file(&probe); // left over from a crash of a process with our pid
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .with_context(|| {
            format!("log: directory {} is not writable (rotating {} needs it)", dir.display(), path.display())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::rotate::tests::{FakeClock, TempDir};
    use crate::logging::rotate::REOPEN_CHECK_INTERVAL;
    use crate::logging::Value;
    use std::fs;
    use std::path::Path;

    fn options(path: &Path, max_size: u64, max_files: u32) -> WriterOptions {
        WriterOptions {
            format: Format::Json,
            output: Output::File(path.to_path_buf()),
            max_size,
            max_age: Duration::ZERO,
            max_files,
            level: Level::Info,
            tags: vec![("env".into(), "test".into())],
        }
    }

    fn numbered(seq: u64) -> Record {
        // Varying length and bytes that need escaping, so line lengths differ.
        let pad = b"/tmp/\xff\"x\n".repeat((seq % 17) as usize);
        let record = Record::new(Level::Info, "agent", "test");
        Record { time: std::time::UNIX_EPOCH + Duration::from_secs(1_795_350_896), ..record }
            .field("seq", Value::Uint(seq))
            .field("pad", Value::Bytes(pad))
    }

    /// `name.N` for the highest N first, down to `name.1`, then `name`.
    fn files_oldest_first(path: &Path) -> Vec<PathBuf> {
        let mut rotated: Vec<u64> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|entry| {
                let name = entry.unwrap().file_name().into_string().unwrap();
                name.strip_prefix("safeguard.log.")?.parse().ok()
            })
            .collect();
        rotated.sort_unstable_by(|a, b| b.cmp(a));
        let mut files: Vec<PathBuf> = rotated.iter().map(|n| path.with_extension(format!("log.{n}"))).collect();
        if path.exists() {
            files.push(path.to_path_buf());
        }
        files
    }

    /// The `seq` of every line of `file`, checking that each line is one JSON record.
    fn sequence(file: &Path) -> Vec<u64> {
        let text = fs::read_to_string(file).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'), "{} ends mid-line", file.display());
        text.lines()
            .map(|line| {
                let record: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(record["tags"]["env"], "test");
                record["seq"].as_u64().unwrap()
            })
            .collect()
    }

    fn all_sequences(path: &Path) -> Vec<u64> {
        files_oldest_first(path).iter().flat_map(|file| sequence(file)).collect()
    }

    #[test]
    fn level_threshold_skips_lower_records() {
        let dir = TempDir::new("level");
        let path = dir.0.join("safeguard.log");
        let mut writer = LogWriter::open(WriterOptions { level: Level::Warning, ..options(&path, 0, 1) }).unwrap();
        let at = |level| Record { level, ..numbered(0) };
        assert!(!writer.write(&at(Level::Debug)).unwrap());
        assert!(!writer.write(&at(Level::Info)).unwrap());
        assert!(writer.write(&at(Level::Warning)).unwrap());
        assert!(writer.write(&at(Level::Critical)).unwrap());
        writer.flush().unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let levels: Vec<&str> = text.lines().map(|line| &line[40..60]).collect();
        assert_eq!(levels.len(), 2, "{text}");
        assert!(levels[0].contains("\"WARNING\"") && levels[1].contains("\"CRITICAL\""), "{text}");
    }

    #[test]
    fn rotation_under_a_stream_loses_and_splits_nothing() {
        let dir = TempDir::new("stream");
        let path = dir.0.join("safeguard.log");
        let max_size = 16 * 1024;
        let mut writer = LogWriter::open(options(&path, max_size, 10_000)).unwrap();
        for seq in 0..20_000 {
            assert!(writer.write(&numbered(seq)).unwrap());
            if seq % 97 == 0 {
                writer.flush().unwrap();
            }
        }
        writer.flush().unwrap();
        assert_eq!(writer.unwritten_records(), 0);
        let files = files_oldest_first(&path);
        assert!(files.len() > 50, "only {} files", files.len());
        for file in &files {
            let size = fs::metadata(file).unwrap().len();
            assert!(size > 0 && size <= max_size, "{}: {size} bytes", file.display());
        }
        assert_eq!(all_sequences(&path), (0..20_000).collect::<Vec<u64>>());
    }

    #[test]
    fn text_format_rotates_on_line_boundaries_too() {
        let dir = TempDir::new("text");
        let path = dir.0.join("safeguard.log");
        let mut writer = LogWriter::open(WriterOptions { format: Format::Text, ..options(&path, 2048, 1000) }).unwrap();
        for seq in 0..1000 {
            writer.write(&numbered(seq)).unwrap();
        }
        writer.flush().unwrap();
        let mut expected = 0;
        for file in files_oldest_first(&path) {
            for line in fs::read_to_string(&file).unwrap().lines() {
                assert!(line.starts_with("time=") && line.ends_with("tags.env=test"), "{line}");
                assert!(line.contains(&format!(" seq={expected} ")), "{line}");
                expected += 1;
            }
        }
        assert_eq!(expected, 1000);
    }

    #[test]
    fn max_files_keeps_exactly_that_many() {
        let dir = TempDir::new("prune");
        let path = dir.0.join("safeguard.log");
        // Left by an earlier config with more files, and a compressed one that is not ours.
        fs::write(dir.0.join("safeguard.log.7"), "stale\n").unwrap();
        fs::write(dir.0.join("safeguard.log.1.gz"), "gzip\n").unwrap();
        let mut writer = LogWriter::open(options(&path, 300, 3)).unwrap();
        for seq in 0..200 {
            writer.write(&numbered(seq)).unwrap();
        }
        writer.flush().unwrap();
        let files = files_oldest_first(&path);
        let names: Vec<_> = files.iter().map(|file| file.file_name().unwrap().to_str().unwrap()).collect();
        assert_eq!(names, ["safeguard.log.3", "safeguard.log.2", "safeguard.log.1", "safeguard.log"]);
        // What is kept is the newest records, without a gap.
        let kept = all_sequences(&path);
        assert_eq!(kept, (200 - kept.len() as u64..200).collect::<Vec<u64>>());
        assert!(dir.0.join("safeguard.log.1.gz").exists());
    }

    #[test]
    fn max_files_zero_keeps_only_the_current_file() {
        let dir = TempDir::new("zero");
        let path = dir.0.join("safeguard.log");
        let mut writer = LogWriter::open(options(&path, 300, 0)).unwrap();
        for seq in 0..50 {
            writer.write(&numbered(seq)).unwrap();
        }
        writer.flush().unwrap();
        assert_eq!(files_oldest_first(&path), std::slice::from_ref(&path));
        assert_eq!(sequence(&path).last(), Some(&49));
    }

    #[test]
    fn a_record_larger_than_max_size_gets_a_file_of_its_own() {
        let dir = TempDir::new("large");
        let path = dir.0.join("safeguard.log");
        let mut writer = LogWriter::open(options(&path, 10, 10)).unwrap();
        for seq in 0..3 {
            writer.write(&numbered(seq)).unwrap();
        }
        writer.flush().unwrap();
        let files = files_oldest_first(&path);
        assert_eq!(files.len(), 3);
        for (seq, file) in files.iter().enumerate() {
            assert_eq!(sequence(file), [seq as u64]);
        }
    }

    #[test]
    fn an_existing_file_is_appended_and_its_size_counted() {
        let dir = TempDir::new("existing");
        let path = dir.0.join("safeguard.log");
        fs::write(&path, "{\"seq\":0}\n").unwrap();
        let mut line = Vec::new();
        crate::logging::write_json(&mut line, &numbered(1), &[("env".into(), "test".into())]);
        // Room for exactly one more record.
        let mut writer = LogWriter::open(options(&path, 10 + line.len() as u64, 10)).unwrap();
        writer.write(&numbered(1)).unwrap();
        writer.write(&numbered(1)).unwrap();
        writer.flush().unwrap();
        let rotated = fs::read_to_string(dir.0.join("safeguard.log.1")).unwrap();
        assert!(rotated.starts_with("{\"seq\":0}\n{\"time\""));
        assert_eq!(rotated.len(), 10 + line.len());
        assert_eq!(fs::read(&path).unwrap(), line);
    }

    #[test]
    fn a_line_cut_by_an_earlier_run_is_ended_before_the_next_record() {
        let dir = TempDir::new("cut");
        let path = dir.0.join("safeguard.log");
        fs::write(&path, "{\"seq\":0}\n{\"time\":\"2026-").unwrap();
        let mut writer = LogWriter::open(options(&path, 0, 10)).unwrap();
        writer.write(&numbered(1)).unwrap();
        writer.flush().unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[1], "{\"time\":\"2026-");
        assert_eq!(sequence_of_line(lines[2]), 1);
    }

    fn sequence_of_line(line: &str) -> u64 {
        serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"].as_u64().unwrap()
    }

    #[test]
    fn new_files_are_0640() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("mode");
        let path = dir.0.join("safeguard.log");
        let mut writer = LogWriter::open(options(&path, 0, 1)).unwrap();
        writer.write(&numbered(0)).unwrap();
        writer.flush().unwrap();
        // The umask can only take bits away.
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o137, 0);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777 & !0o640, 0);
    }

    #[test]
    fn age_rotation_runs_on_the_injected_clock() {
        let dir = TempDir::new("age");
        let path = dir.0.join("safeguard.log");
        let clock = FakeClock::new();
        let hour = Duration::from_secs(3600);
        let options = WriterOptions { max_age: hour, ..options(&path, 0, 10) };
        let mut writer = LogWriter::open_with_clock(options, Box::new(clock.clone())).unwrap();
        writer.write(&numbered(0)).unwrap();
        clock.advance(hour / 2);
        writer.write(&numbered(1)).unwrap();
        clock.advance(hour / 2);
        writer.write(&numbered(2)).unwrap();
        clock.advance(hour / 2);
        writer.write(&numbered(3)).unwrap();
        writer.flush().unwrap();
        assert_eq!(sequence(&dir.0.join("safeguard.log.1")), [0, 1]);
        assert_eq!(sequence(&path), [2, 3]);
    }

    #[test]
    fn an_existing_file_ages_from_its_timestamps() {
        let dir = TempDir::new("aged");
        let path = dir.0.join("safeguard.log");
        fs::write(&path, "{\"seq\":0,\"tags\":{\"env\":\"test\"}}\n").unwrap();
        let clock = FakeClock::new();
        let hour = Duration::from_secs(3600);
        clock.advance(2 * hour); // the file was written two hours before the agent starts
        let options = WriterOptions { max_age: hour, ..options(&path, 0, 10) };
        let mut writer = LogWriter::open_with_clock(options, Box::new(clock.clone())).unwrap();
        writer.write(&numbered(1)).unwrap();
        writer.write(&numbered(2)).unwrap();
        writer.flush().unwrap();
        assert_eq!(sequence(&dir.0.join("safeguard.log.1")), [0]);
        assert_eq!(sequence(&path), [1, 2]);
    }

    #[test]
    fn an_old_empty_file_is_not_rotated() {
        let dir = TempDir::new("empty");
        let path = dir.0.join("safeguard.log");
        let clock = FakeClock::new();
        let hour = Duration::from_secs(3600);
        let options = WriterOptions { max_age: hour, ..options(&path, 0, 10) };
        let mut writer = LogWriter::open_with_clock(options, Box::new(clock.clone())).unwrap();
        clock.advance(2 * hour);
        writer.write(&numbered(0)).unwrap();
        writer.write(&numbered(1)).unwrap();
        writer.flush().unwrap();
        assert_eq!(files_oldest_first(&path), std::slice::from_ref(&path));
        assert_eq!(sequence(&path), [0, 1]);
    }

    #[test]
    fn reopens_a_file_removed_or_renamed_away() {
        let dir = TempDir::new("reopen");
        let path = dir.0.join("safeguard.log");
        let clock = FakeClock::new();
        let mut writer = LogWriter::open_with_clock(options(&path, 0, 10), Box::new(clock.clone())).unwrap();
        writer.write(&numbered(0)).unwrap();
        writer.flush().unwrap();

        // logrotate's default: rename, then expect the program to write a new file.
        fs::rename(&path, dir.0.join("old.log")).unwrap();
        writer.write(&numbered(1)).unwrap(); // buffered: goes where the path now points
        writer.flush().unwrap();
        assert_eq!(sequence(&dir.0.join("old.log")), [0]);
        assert_eq!(sequence(&path), [1]);

        // Removed while nothing is buffered: noticed by the periodic check.
        fs::remove_file(&path).unwrap();
        clock.advance(REOPEN_CHECK_INTERVAL);
        writer.write(&numbered(2)).unwrap();
        assert!(path.exists());
        writer.flush().unwrap();
        assert_eq!(sequence(&path), [2]);
    }

    #[test]
    fn a_truncated_file_has_its_size_recounted() {
        let dir = TempDir::new("truncate");
        let path = dir.0.join("safeguard.log");
        let clock = FakeClock::new();
        let mut writer = LogWriter::open_with_clock(options(&path, 4000, 10), Box::new(clock.clone())).unwrap();
        for seq in 0..10 {
            writer.write(&numbered(seq)).unwrap();
        }
        writer.flush().unwrap();
        let before = fs::metadata(&path).unwrap().len();
        assert!(before > 2000 && before < 4000, "{before}");
        // logrotate copytruncate: same inode, now empty.
        fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
        clock.advance(REOPEN_CHECK_INTERVAL);
        for seq in 10..20 {
            writer.write(&numbered(seq)).unwrap();
        }
        writer.flush().unwrap();
        assert!(!dir.0.join("safeguard.log.1").exists());
        assert_eq!(sequence(&path), (10..20).collect::<Vec<u64>>());
    }

    #[test]
    fn open_fails_naming_a_missing_directory() {
        let dir = TempDir::new("missing");
        let path = dir.0.join("nope/safeguard.log");
        let error = LogWriter::open(options(&path, 0, 1)).err().unwrap();
        let message = format!("{error:#}");
        assert!(message.contains(&dir.0.join("nope").display().to_string()), "{message}");
        assert!(message.contains("missing"), "{message}");
        assert!(!dir.0.join("nope").exists());
    }

    #[test]
    fn open_refuses_what_is_not_a_regular_file() {
        let dir = TempDir::new("notfile");
        let error = LogWriter::open(options(&dir.0, 0, 1)).err().unwrap();
        assert!(format!("{error:#}").contains(&dir.0.display().to_string()));
        let link = dir.0.join("safeguard.log");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        let error = LogWriter::open(options(&link, 0, 1)).err().unwrap();
        assert!(format!("{error:#}").contains("safeguard.log"), "{error:#}");
        assert!(Path::new("/dev/null").exists());
    }
}
