//! Reading log files: a log and its rotated predecessors in time order, line by line,
//! and following a live log across rotation the way `tail -F` does.
//!
//! A line that is not a record is reported (file and line number) and skipped; a file
//! that cannot be read is reported and the others are still read. Neither is fatal.
//! A line longer than `MAX_LINE` is skipped as it is read (never held whole), reported
//! and counted. Rotated files that logrotate compressed are read through gzip; `-` is
//! standard input.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::entry::Entry;

/// Bytes read from the disk at once.
const READ_BUFFER: usize = 1 << 20;

/// The longest line read; a longer one is skipped and reported (no record the agent
/// writes comes near: argv and paths are bounded in the kernel).
pub const MAX_LINE: usize = 1 << 20;

/// The path that names standard input.
pub const STDIN: &str = "-";

/// The files that hold the log `path`, oldest first, as logrotate and the agent's own
/// writer leave them: `path-DATE[.gz]` (logrotate's `dateext`, oldest date first), then
/// `path.N[.gz]` … `path.1[.gz]` (SPEC section 6: the writer renames `name` to
/// `name.1`, `name.1` to `name.2`, ...; logrotate's `compress` adds `.gz`), then `path`.
/// Only canonical numbers count (`name.01` is not ours); a date is 8 to 14 digits
/// (`-%Y%m%d`, `-%Y%m%d%H`, `-%Y%m%d-%s` without the dash). Fails only when there is
/// neither the file nor a rotated one. `-` (standard input) is itself.
pub fn log_set(path: &Path) -> io::Result<Vec<PathBuf>> {
    if path.as_os_str() == STDIN {
        return Ok(vec![path.to_path_buf()]);
    }
    let name = path.file_name().map(|name| name.as_encoded_bytes().to_vec()).unwrap_or_default();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut rotated: Vec<(u64, PathBuf)> = Vec::new();
    let mut dated: Vec<(Vec<u8>, PathBuf)> = Vec::new();
    if !name.is_empty() {
        if let Ok(entries) = fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let Some(suffix) = file_name.as_encoded_bytes().strip_prefix(name.as_slice()) else { continue };
                let suffix = suffix.strip_suffix(b".gz").unwrap_or(suffix);
                if let Some(digits) = suffix.strip_prefix(b".") {
                    let canonical = !digits.is_empty()
                        && digits.iter().all(u8::is_ascii_digit)
                        && digits[0] != b'0'
                        && digits.len() <= 9;
                    if canonical {
                        let number = std::str::from_utf8(digits).ok().and_then(|d| d.parse().ok()).unwrap_or(0);
                        rotated.push((number, path.with_file_name(&file_name)));
                    }
                } else if let Some(date) = suffix.strip_prefix(b"-") {
                    let digits: Vec<u8> = date.iter().copied().filter(|c| *c != b'-').collect();
                    let is_date = (8..=24).contains(&digits.len())
                        && digits.iter().all(u8::is_ascii_digit)
                        && date.first().is_some_and(u8::is_ascii_digit);
                    if is_date {
                        dated.push((digits, path.with_file_name(&file_name)));
                    }
                }
            }
        }
    }
    dated.sort();
    rotated.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    let mut files: Vec<PathBuf> = dated.into_iter().map(|(_, path)| path).collect();
    files.extend(rotated.into_iter().map(|(_, path)| path));
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
    /// Lines skipped because they are not records (too long ones included).
    pub malformed: u64,
    /// Lines skipped for being longer than `MAX_LINE`.
    pub too_long: u64,
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

    /// The record on a line a reader handed out: `parse`, after reporting a line that
    /// is too long.
    pub fn line<'l>(&mut self, line: &Line<'l>) -> Option<Entry<'l>> {
        if line.too_long {
            self.too_long_line(line.path, line.number);
            return None;
        }
        self.parse(line.path, line.number, line.bytes)
    }

    pub fn too_long_line(&mut self, path: &Path, number: u64) {
        self.malformed += 1;
        self.too_long += 1;
        self.note(format!("{}:{number}: skipped a line longer than {} MiB", path.display(), MAX_LINE >> 20));
    }

    /// The record on this line; `None` for a blank line (silently) or a malformed one
    /// (reported with file and line number).
    #[inline]
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
/// without the `\n`. A line longer than `MAX_LINE` is handed out once, as soon as it
/// is known to be too long, with `too_long` set and only its first bytes.
pub struct Line<'l> {
    pub path: &'l Path,
    pub number: u64,
    pub bytes: &'l [u8],
    pub too_long: bool,
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

/// Where the bytes come from: a file, a gzip file (told by its first bytes, not its
/// name), or standard input.
enum Source {
    Plain(File),
    Gzip(Box<MultiGzDecoder<File>>),
}

impl Seek for Source {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Source::Plain(file) => file.seek(to),
            Source::Gzip(_) => Err(io::Error::new(io::ErrorKind::Unsupported, "a compressed file cannot seek")),
        }
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Plain(file) => file.read(buf),
            Source::Gzip(gz) => gz.read(buf),
        }
    }
}

/// Reads a file line by line; can resume after EOF (follow) and notice rotation.
pub struct LineReader {
    path: PathBuf,
    reader: BufReader<Source>,
    /// The line being assembled across reads; an incomplete last line stays here until
    /// its `\n`. Lines inside one read are handed out from the read buffer directly.
    pending: Vec<u8>,
    /// Inside a line longer than `MAX_LINE`: its bytes are dropped up to its `\n`.
    skipping: bool,
    /// The last call handed out a line: consume `handed` bytes of the read buffer and
    /// clear `pending` before reading on.
    handed_out: bool,
    handed: usize,
    number: u64,
    /// Bytes of the file consumed (complete lines plus `pending`).
    offset: u64,
    identity: (u64, u64),
    compressed: bool,
}

/// The next step of `LineReader::next_line`.
enum Next {
    /// A line ends at this index of the read buffer.
    Line(usize),
    /// The line became too long in this read: hand out its start once.
    TooLong,
    More,
    End,
}

impl LineReader {
    pub fn open(path: &Path) -> io::Result<LineReader> {
        let mut file = if path.as_os_str() == STDIN {
            use std::os::fd::AsFd;
            File::from(io::stdin().as_fd().try_clone_to_owned()?)
        } else {
            File::open(path)?
        };
        let meta = file.metadata()?;
        let mut magic = [0u8; 2];
        let compressed = meta.is_file() && file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
        if meta.is_file() {
            file.seek(SeekFrom::Start(0))?;
        }
        let source = if compressed { Source::Gzip(Box::new(MultiGzDecoder::new(file))) } else { Source::Plain(file) };
        Ok(LineReader {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(READ_BUFFER, source),
            pending: Vec::new(),
            skipping: false,
            handed_out: false,
            handed: 0,
            number: 0,
            offset: 0,
            identity: (meta.dev(), meta.ino()),
            compressed,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next line, or `None` at the current end of the file. An incomplete last line
    /// is kept for a later call when `hold_partial` (the writer may be in the middle of
    /// it), else handed out. Memory stays bounded by the read buffer and `MAX_LINE`.
    pub fn next_line(&mut self, hold_partial: bool) -> io::Result<Option<Line<'_>>> {
        if self.handed_out {
            self.reader.consume(self.handed);
            self.handed = 0;
            self.handed_out = false;
            self.pending.clear();
        }
        loop {
            let step = {
                let buf = match self.reader.fill_buf() {
                    Ok(buf) => buf,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(err),
                };
                if buf.is_empty() {
                    Next::End
                } else if let Some(at) = memchr::memchr(b'\n', buf) {
                    if self.skipping || self.pending.len() + at <= MAX_LINE {
                        Next::Line(at)
                    } else {
                        Next::TooLong
                    }
                } else if self.skipping {
                    let len = buf.len();
                    self.reader.consume(len);
                    self.offset += len as u64;
                    Next::More
                } else if self.pending.len() + buf.len() > MAX_LINE {
                    Next::TooLong
                } else {
                    let len = buf.len();
                    self.pending.extend_from_slice(buf);
                    self.reader.consume(len);
                    self.offset += len as u64;
                    Next::More
                }
            };
            match step {
                Next::More => continue,
                Next::TooLong => {
                    // Report the line now (`events /dev/zero` says so at once), then drop
                    // its bytes up to its end.
                    self.skipping = true;
                    self.number += 1;
                    let keep = self.pending.len().min(256);
                    self.pending.truncate(keep);
                    self.handed_out = true;
                    return Ok(Some(Line {
                        path: &self.path,
                        number: self.number,
                        bytes: &self.pending,
                        too_long: true,
                    }));
                }
                Next::Line(at) => {
                    self.offset += at as u64 + 1;
                    if self.skipping {
                        self.skipping = false;
                        self.reader.consume(at + 1);
                        self.pending.clear();
                        continue;
                    }
                    self.number += 1;
                    self.handed = at + 1;
                    self.handed_out = true;
                    let buf = self.reader.buffer();
                    let bytes = if self.pending.is_empty() {
                        &buf[..at]
                    } else {
                        self.pending.extend_from_slice(&buf[..at]);
                        &self.pending[..]
                    };
                    return Ok(Some(Line { path: &self.path, number: self.number, bytes, too_long: false }));
                }
                Next::End => {
                    if !hold_partial {
                        self.skipping = false;
                    }
                    if hold_partial || self.pending.is_empty() {
                        return Ok(None);
                    }
                    self.number += 1;
                    self.handed_out = true;
                    return Ok(Some(Line {
                        path: &self.path,
                        number: self.number,
                        bytes: &self.pending,
                        too_long: false,
                    }));
                }
            }
        }
    }

    /// Hands every complete line up to the current end of the file to `each` (see
    /// `next_line` for `hold_partial`).
    pub fn read_available<F>(&mut self, hold_partial: bool, each: &mut F) -> io::Result<()>
    where
        F: FnMut(Line<'_>) -> io::Result<()>,
    {
        while let Some(line) = self.next_line(hold_partial)? {
            each(line)?;
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
        if self.path.as_os_str() == STDIN {
            return Ok(Change::None);
        }
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
        if !self.compressed && meta.len() < self.offset {
            self.reader.seek(SeekFrom::Start(0))?;
            self.pending.clear();
            self.handed = 0;
            self.handed_out = false;
            self.skipping = false;
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
                if let Some(entry) = diag.line(&line) {
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
        for name in [
            "s.log",
            "s.log.1",
            "s.log.2.gz",
            "s.log.10",
            "s.log.01",
            "s.log.1x.gz",
            "s.logx.3",
            "other.1",
            "s.log-20261119.gz",
            "s.log-20261118",
            "s.log-x",
        ] {
            fs::write(dir.join(name), "").unwrap();
        }
        let names = |files: Vec<PathBuf>| -> Vec<String> {
            files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect()
        };
        // logrotate's dateext names first (oldest date first), then the numbered ones.
        let all = ["s.log-20261118", "s.log-20261119.gz", "s.log.10", "s.log.2.gz", "s.log.1", "s.log"];
        assert_eq!(names(log_set(&dir.join("s.log")).unwrap()), all);
        assert_eq!(names(log_set(&dir.join("s.log.2.gz")).unwrap()), ["s.log.2.gz"]);
        fs::remove_file(dir.join("s.log")).unwrap();
        assert_eq!(names(log_set(&dir.join("s.log")).unwrap()), all[..5]);
        assert_eq!(names(log_set(Path::new("-")).unwrap()), ["-"]);
        assert!(log_set(&dir.join("missing.log")).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Lines of every length up to the bound are read whole, across the read buffer's
    /// edges; longer ones are handed out once, cut, as too long, and reading goes on.
    #[test]
    fn long_lines_are_skipped_with_bounded_memory() {
        let dir = temp_dir("long");
        let path = dir.join("s.log");
        let mut content = Vec::new();
        content.extend_from_slice(b"first\n");
        content.extend(std::iter::repeat_n(b'a', MAX_LINE));
        content.extend_from_slice(b"\n");
        content.extend(std::iter::repeat_n(b'b', 3 * MAX_LINE + 17));
        content.extend_from_slice(b"\nlast\n");
        content.extend(std::iter::repeat_n(b'c', MAX_LINE + 1));
        fs::write(&path, &content).unwrap();
        let mut reader = LineReader::open(&path).unwrap();
        let mut got = Vec::new();
        while let Some(line) = reader.next_line(false).unwrap() {
            assert!(line.bytes.len() <= MAX_LINE);
            got.push((line.number, line.bytes.len(), line.too_long, line.bytes.first().copied()));
        }
        assert_eq!(
            got,
            [
                (1, 5, false, Some(b'f')),
                (2, MAX_LINE, false, Some(b'a')),
                (3, 256, true, Some(b'b')),
                (4, 4, false, Some(b'l')),
                (5, 256, true, Some(b'c')),
            ]
        );
        assert!(reader.pending.capacity() <= 2 * MAX_LINE + READ_BUFFER);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A gzip file (as logrotate's `compress` leaves it) reads like the plain one,
    /// whatever its name; several gzip members in a row too.
    #[test]
    fn compressed_files_are_read() {
        use flate2::write::GzEncoder;
        let dir = temp_dir("gz");
        let mut gz = Vec::new();
        for part in ["one\ntwo\n", "three\n"] {
            let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(part.as_bytes()).unwrap();
            gz.extend(encoder.finish().unwrap());
        }
        fs::write(dir.join("s.log-20261120"), &gz).unwrap();
        fs::write(dir.join("s.log"), "four\n").unwrap();
        let mut lines = Vec::new();
        for file in log_set(&dir.join("s.log")).unwrap() {
            let mut reader = LineReader::open(&file).unwrap();
            lines.extend(lines_of(&mut reader, false).into_iter().map(|(_, line)| line));
        }
        assert_eq!(lines, ["one", "two", "three", "four"]);
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
