//! Config errors: each problem is one line, `file:line:column: key.path[i]: message`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// One thing wrong in the config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, counted in characters.
    pub column: usize,
    /// Dotted key path with list indices (`file.deny[1].ops[0]`); empty for a TOML syntax
    /// error, where no key is known.
    pub key: String,
    /// One line.
    pub message: String,
}

impl Problem {
    /// A problem at byte `offset` of `text`.
    pub(super) fn at(text: &str, file: &Path, offset: usize, key: String, message: String) -> Problem {
        Problem::at_line(text, &Lines::new(text), file, offset, key, message)
    }

    /// The same, with the line starts of `text` found once for all its problems (a file
    /// with many thousands of bad entries is reported in linear time).
    pub(super) fn at_line(
        text: &str,
        lines: &Lines,
        file: &Path,
        offset: usize,
        key: String,
        message: String,
    ) -> Problem {
        let (line, column) = lines.position(text, offset);
        // Messages are one line by contract; a TOML parser message may have several.
        let message = message.lines().map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join(": ");
        Problem { file: file.to_path_buf(), line, column, key, message }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

#[derive(Debug)]
pub enum ConfigError {
    /// The file could not be read.
    Read { file: PathBuf, source: io::Error },
    /// The file is not a valid config: at least one problem, in file order.
    Invalid { problems: Vec<Problem> },
}

#[cfg(test)]
impl ConfigError {
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid { problems } => problems,
        }
    }
}

/// One line per problem. The read error's cause is part of the line (and not `source()`),
/// so an error chain printed with `{:#}` does not repeat it.
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { file, source } => write!(f, "{}: cannot read: {source}", file.display()),
            ConfigError::Invalid { problems } => {
                for (i, problem) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{problem}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Where the lines of a text start (byte offsets).
pub(super) struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub(super) fn new(text: &str) -> Lines {
        let newlines = text.bytes().enumerate().filter(|&(_, byte)| byte == b'\n');
        Lines { starts: std::iter::once(0).chain(newlines.map(|(at, _)| at + 1)).collect() }
    }

    /// 1-based line and column (in characters) of byte `offset` of `text`.
    fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        // The last line start at or before offset (starts[0] is 0, so there is one).
        let line = self.starts.partition_point(|&start| start <= offset);
        let line_start = self.starts[line - 1];
        (line, text[line_start..offset].chars().count() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        let position = |offset| Lines::new(text).position(text, offset);
        assert_eq!(position(0), (1, 1));
        assert_eq!(position(4), (1, 5));
        assert_eq!(position(5), (1, 6)); // the newline itself
        assert_eq!(position(6), (2, 1));
        // After "bé = " (é is two bytes): column 6; inside é: its start.
        assert_eq!(position(12), (2, 6));
        assert_eq!(position(8), (2, 2));
        assert_eq!(position(999), (3, 1));
        assert_eq!(Lines::new("").position("", 0), (1, 1));
    }

    #[test]
    fn display_is_one_line_per_problem() {
        let problem = Problem::at("x", Path::new("/etc/s.toml"), 0, "log.level".into(), "bad\nlevel".into());
        assert_eq!(problem.to_string(), "/etc/s.toml:1:1: log.level: bad: level");
        let keyless = Problem { key: String::new(), ..problem.clone() };
        assert_eq!(keyless.to_string(), "/etc/s.toml:1:1: bad: level");
        let error = ConfigError::Invalid { problems: vec![problem, keyless] };
        assert_eq!(error.to_string().lines().count(), 2);
    }
}
