//! Log levels: names and numbers as SPEC section 4 gives them.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Debug = 10,
    Info = 20,
    Warning = 30,
    Error = 40,
    Critical = 50,
}

impl Level {
    pub const ALL: [Level; 5] = [Level::Debug, Level::Info, Level::Warning, Level::Error, Level::Critical];

    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }

    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn from_number(number: i64) -> Option<Level> {
        Level::ALL.into_iter().find(|level| i64::from(level.number()) == number)
    }
}

impl FromStr for Level {
    type Err = String;

    /// Accepts a name in any case, or one of the numbers 10..50.
    fn from_str(text: &str) -> Result<Level, String> {
        if let Ok(number) = text.trim().parse::<i64>() {
            return Level::from_number(number)
                .ok_or_else(|| format!("unknown level number {number} (use 10, 20, 30, 40 or 50)"));
        }
        Level::ALL
            .into_iter()
            .find(|level| level.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| format!("unknown level {text:?} (use DEBUG, INFO, WARNING, ERROR or CRITICAL)"))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_numbers() {
        assert_eq!("warning".parse::<Level>(), Ok(Level::Warning));
        assert_eq!("CRITICAL".parse::<Level>(), Ok(Level::Critical));
        assert_eq!("10".parse::<Level>(), Ok(Level::Debug));
        assert!("15".parse::<Level>().is_err());
        assert!("loud".parse::<Level>().is_err());
        assert!(Level::Debug < Level::Info);
    }
}
