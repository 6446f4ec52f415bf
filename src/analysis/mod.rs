//! Reading the agent's own logs back: `safeguard events` (filter and print records),
//! `safeguard report` (behaviour analysis, text or a self-contained HTML page) and
//! `safeguard generate` (an allow-list config proposed from what monitor mode saw).
//!
//! Everything here reads what `logging` writes, in either format, through `entry`
//! (one record) and `read` (rotated file sets, following, malformed lines).

pub mod entry;
pub mod events;
#[cfg(test)]
pub mod fixtures;
pub mod generate;
pub mod html;
pub mod read;
pub mod report;
pub mod text;
pub mod time;

pub use events::EventsArgs;
pub use generate::GenerateArgs;
pub use report::ReportArgs;

/// Where the packaged agent writes its log (SPEC section 3, `[log] output`).
pub const DEFAULT_LOG: &str = "/var/log/safeguard/safeguard.log";

/// The values of `module` (SPEC section 4).
pub const MODULES: [&str; 5] = ["file", "network", "process", "mount", "agent"];

/// `--action`: one action in any case, or `DENIED` for both kinds of denial.
pub fn parse_action(text: &str) -> Result<Vec<String>, String> {
    match text.to_ascii_uppercase().as_str() {
        action @ ("ALLOWED" | "MONITOR" | "BLOCKED") => Ok(vec![action.to_string()]),
        "DENIED" => Ok(vec!["MONITOR".to_string(), "BLOCKED".to_string()]),
        _ => Err(format!("{text:?} is not an action: use ALLOWED, MONITOR, BLOCKED or DENIED")),
    }
}

/// `--since`/`--until`: see `time::parse_bound`; ages count back from now.
pub fn parse_time(text: &str) -> Result<time::Micros, String> {
    time::parse_bound(text, time::now())
}

/// Writes `text` to stdout; a reader that went away (`| head`) is not an error.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}
