//! Reading log files: a log and its rotated predecessors in time order, line by line,
//! and following a live log across rotation the way `tail -F` does.
//!
//! A line that is not a record is reported (file and line number) and skipped; a file
//! that cannot be read is reported and the others are still read. Neither is fatal.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::entry::Entry;

/// Bytes read from the disk at once.
const READ_BUFFER: usize = 1 << 20;

/// The files that hold the log `path`, oldest first: `path.N` … `path.1`, then `path`
/// (SPEC section 6: the writer renames `name` to `name.1`, `name.1` to `name.2`, ...).
/// Only canonical numbers count (`name.01` and `name.1.gz` are not ours). Fails only when
/// there is neither the file nor a rotated one.
pub fn log_set(path: &Path) -> io::Result<Vec<PathBuf>> {
    let name = path.file_name().map(|name| name.as_encoded_bytes().to_vec()).unwrap_or_default();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut rotated: Vec<(u64, PathBuf)> = Vec::new();
    if !name.is_empty() {
        if let Ok(entries) = fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let Some(suffix) = file_name.as_encoded_bytes().strip_prefix(name.as_slice()) else { continue };
                let Some(digits) = suffix.strip_prefix(b".") else { continue };
                let canonical = !digits.is_empty()
                    && digits.iter().all(u8::is_ascii_digit)
                    && digits[0] != b'0'
                    && digits.len() <= 9;
                if canonical {
                    let number = std::str::from_utf8(digits).ok().and_then(|d| d.parse().ok()).unwrap_or(0);
                    rotated.push((number, path.with_file_name(&file_name)));
                }
            }
        }
    }
    rotated.sort_by_key(|(number, _)| std::cmp::Reverse(*number));
    let mut files: Vec<PathBuf> = rotated.into_iter().map(|(_, path)| path).collect();
    match fs::metadata(path) {
        Ok(_) => files.push(path.to_path_buf()),
        Err(err) if files.is_empty() => return Err(err),
        Err(_) => {}
    }
    Ok(files)
}

/// Where problems with the input go: stderr for the commands, a list in tests.
#[derive(Debug, Default)]
pub struct Diagnostics {
    /// Keep messages in `messages` instead of printing them.
    pub quiet: bool,
    pub messages: Vec<String>,
    /// Lines skipped because they are not records.
    pub malformed: u64,
    /// Files (or reads) that failed.
    pub failures: u64,
}

impl Diagnostics {
    pub fn stderr() -> Diagnostics {
        Diagnostics::default()
    }

    #[cfg(test)]
    pub fn captured() -> Diagnostics {
        Diagnostics { quiet: true, ..Diagnostics::default() }
    }

    pub fn note(&mut self, message: String) {
        if self.quiet {
            self.messages.push(message);
        } else {
            eprintln!("safeguard: {message}");
        }
    }

    pub fn failure(&mut self, message: String) {
        self.failures += 1;
        self.note(message);
    }

    /// The record on this line; `None` for a blank line (silently) or a malformed one
    /// (reported with file and line number).
    pub fn parse<'l>(&mut self, path: &Path, number: u64, line: &'l [u8]) -> Option<Entry<'l>> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        match Entry::parse(line) {
            Ok(entry) => Some(entry),
            Err(err) => {
                self.malformed += 1;
                self.note(format!("{}:{number}: skipped malformed record: {err}", path.display()));
                None
            }
        }
    }
}

/// One line handed out by a `LineReader`: its file, its number (from 1), its bytes
/// without the `\n`.
pub struct Line<'l> {
    pub path: &'l Path,
    pub number: u64,
    pub bytes: &'l [u8],
}

/// What `LineReader::check` found at the path.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    None,
    /// The path names another file now (rotated, or replaced): reopened from its start.
    Reopened,
    /// The file is shorter than what was read (copytruncate): read again from the start.
    Truncated,
    /// Nothing is at the path (between a rotation's rename and the new file).
    Missing,
}

/// Reads a file line by line; can resume after EOF (follow) and notice rotation.
pub struct LineReader {
    path: PathBuf,
    reader: BufReader<File>,
    /// The line being assembled; an incomplete last line stays here until its `\n`.
    pending: Vec<u8>,
    number: u64,
    /// Bytes of the file consumed (complete lines plus `pending`).
    offset: u64,
    identity: (u64, u64),
}

impl LineReader {
    pub fn open(path: &Path) -> io::Result<LineReader> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        Ok(LineReader {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(READ_BUFFER, file),
            pending: Vec::new(),
            number: 0,
            offset: 0,
            identity: (meta.dev(), meta.ino()),
        })
    }

    /// Hands every complete line up to the current end of the file to `each`. An
    /// incomplete last line is kept for the next call when `hold_partial` (the writer may
    /// be in the middle of it), else handed out too.
    pub fn read_available<F>(&mut self, hold_partial: bool, each: &mut F) -> io::Result<()>
    where
        F: FnMut(Line<'_>) -> io::Result<()>,
    {
        loop {
            let read = self.reader.read_until(b'\n', &mut self.pending)?;
            self.offset += read as u64;
            if read == 0 || self.pending.last() != Some(&b'\n') {
                break;
            }
            self.pending.pop();
            self.number += 1;
            each(Line { path: &self.path, number: self.number, bytes: &self.pending })?;
            self.pending.clear();
        }
        if !hold_partial {
            self.flush_partial(each)?;
        }
        Ok(())
    }

    /// Hands out an incomplete last line: the file is finished.
    fn flush_partial<F>(&mut self, each: &mut F) -> io::Result<()>
    where
        F: FnMut(Line<'_>) -> io::Result<()>,
    {
        if !self.pending.is_empty() {
            self.number += 1;
            each(Line { path: &self.path, number: self.number, bytes: &self.pending })?;
            self.pending.clear();
        }
        Ok(())
    }

    /// For following: compares the path with the open file. On rotation the rest of the
    /// old file is read first (the writer finishes a file before renaming it), then any
    /// file rotated after it in the meantime (`name.1` … newer than the old one), then
    /// the new file from its start; on truncation reading restarts at the start.
    pub fn check<F>(&mut self, each: &mut F) -> io::Result<Change>
    where
        F: FnMut(Line<'_>) -> io::Result<()>,
    {
        let meta = match fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Change::Missing),
            Err(err) => return Err(err),
        };
        if (meta.dev(), meta.ino()) != self.identity {
            self.read_available(false, each)?;
            // Several rotations between two checks: the files after the old one in the
            // set were written after it and never seen. (If the old one was already
            // removed there is no telling, and they are skipped, as `tail -F` does.)
            let set = log_set(&self.path).unwrap_or_default();
            let identity = |file: &PathBuf| fs::metadata(file).ok().map(|m| (m.dev(), m.ino()));
            if let Some(at) = set.iter().position(|file| identity(file) == Some(self.identity)) {
                for file in set[at + 1..].iter().filter(|file| **file != self.path) {
                    LineReader::open(file)?.read_available(false, each)?;
                }
            }
            let path = self.path.clone();
            *self = LineReader::open(&path)?;
            return Ok(Change::Reopened);
        }
        if meta.len() < self.offset {
            self.reader.seek(SeekFrom::Start(0))?;
            self.pending.clear();
            self.offset = 0;
            self.number = 0;
            return Ok(Change::Truncated);
        }
        Ok(Change::None)
    }
}

/// Totals of a read, for the reports' headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadSummary {
    pub files: Vec<PathBuf>,
    pub lines: u64,
    pub records: u64,
}

/// Reads every record of the logs `paths` (each with its rotated files, oldest first) and
/// hands each to `each`; problems go to `diag`.
pub fn read_logs<F>(paths: &[PathBuf], diag: &mut Diagnostics, mut each: F) -> ReadSummary
where
    F: FnMut(&Entry<'_>),
{
    let mut summary = ReadSummary::default();
    for path in paths {
        let files = match log_set(path) {
            Ok(files) => files,
            Err(err) => {
                diag.failure(format!("{}: {err}", path.display()));
                continue;
            }
        };
        for file in files {
            let mut reader = match LineReader::open(&file) {
                Ok(reader) => reader,
                Err(err) => {
                    diag.failure(format!("{}: {err}", file.display()));
                    continue;
                }
            };
            let result = reader.read_available(false, &mut |line: Line<'_>| {
                summary.lines += 1;
                if let Some(entry) = diag.parse(line.path, line.number, line.bytes) {
                    summary.records += 1;
                    each(&entry);
                }
                Ok(())
            });
            if let Err(err) = result {
                diag.failure(format!("{}: {err}", file.display()));
            }
            summary.files.push(file);
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("safeguard-read-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn lines_of(reader: &mut LineReader, hold: bool) -> Vec<(u64, String)> {
        let mut got = Vec::new();
        reader
            .read_available(hold, &mut |line: Line<'_>| {
                got.push((line.number, String::from_utf8_lossy(line.bytes).into_owned()));
                Ok(())
            })
            .unwrap();
        got
    }

    #[test]
    fn rotated_files_come_oldest_first() {
        let dir = temp_dir("set");
        for name in ["s.log", "s.log.1", "s.log.2", "s.log.10", "s.log.01", "s.log.1.gz", "s.logx.3", "other.1"] {
            fs::write(dir.join(name), "").unwrap();
        }
        let names = |files: Vec<PathBuf>| -> Vec<String> {
            files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect()
        };
        assert_eq!(names(log_set(&dir.join("s.log")).unwrap()), ["s.log.10", "s.log.2", "s.log.1", "s.log"]);
        assert_eq!(names(log_set(&dir.join("s.log.2")).unwrap()), ["s.log.2"]);
        fs::remove_file(dir.join("s.log")).unwrap();
        assert_eq!(names(log_set(&dir.join("s.log")).unwrap()), ["s.log.10", "s.log.2", "s.log.1"]);
        assert!(log_set(&dir.join("missing.log")).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn partial_lines_wait_for_their_end_when_following() {
        let dir = temp_dir("partial");
        let path = dir.join("s.log");
        let mut file = File::create(&path).unwrap();
        file.write_all(b"one\ntw").unwrap();
        let mut reader = LineReader::open(&path).unwrap();
        assert_eq!(lines_of(&mut reader, true), [(1, "one".to_string())]);
        file.write_all(b"o\nthree").unwrap();
        assert_eq!(lines_of(&mut reader, true), [(2, "two".to_string())]);
        assert_eq!(lines_of(&mut reader, false), [(3, "three".to_string())]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rotation_and_truncation_are_noticed() {
        let dir = temp_dir("rotate");
        let path = dir.join("s.log");
        fs::write(&path, "a\nb\n").unwrap();
        let mut reader = LineReader::open(&path).unwrap();
        assert_eq!(lines_of(&mut reader, true).len(), 2);
        let seen = std::cell::RefCell::new(Vec::new());
        let mut collect = |line: Line<'_>| {
            seen.borrow_mut().push(String::from_utf8_lossy(line.bytes).into_owned());
            Ok(())
        };
        assert_eq!(reader.check(&mut collect).unwrap(), Change::None);

        // The writer appends a last record, renames, starts a new file.
        fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"c\nd").unwrap();
        fs::rename(&path, dir.join("s.log.1")).unwrap();
        assert_eq!(reader.check(&mut collect).unwrap(), Change::Missing);
        fs::write(&path, "e\n").unwrap();
        assert_eq!(reader.check(&mut collect).unwrap(), Change::Reopened);
        assert_eq!(*seen.borrow(), ["c", "d"]);
        assert_eq!(lines_of(&mut reader, true), [(1, "e".to_string())]);

        // Two rotations between checks: the file in between is read too, in order.
        fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"e2\n").unwrap();
        let rotate = |next: &str| {
            for n in (1..3).rev() {
                let _ = fs::rename(dir.join(format!("s.log.{n}")), dir.join(format!("s.log.{}", n + 1)));
            }
            fs::rename(&path, dir.join("s.log.1")).unwrap();
            fs::write(&path, next).unwrap();
        };
        rotate("f1\n");
        rotate("g\n");
        seen.borrow_mut().clear();
        assert_eq!(reader.check(&mut collect).unwrap(), Change::Reopened);
        assert_eq!(*seen.borrow(), ["e2", "f1"]);
        assert_eq!(lines_of(&mut reader, true), [(1, "g".to_string())]);

        // copytruncate: same file, shorter than what was read.
        fs::OpenOptions::new().write(true).truncate(true).open(&path).unwrap();
        assert_eq!(reader.check(&mut collect).unwrap(), Change::Truncated);
        fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"h\n").unwrap();
        assert_eq!(lines_of(&mut reader, true), [(1, "h".to_string())]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
