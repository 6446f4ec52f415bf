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
pub mod intrusions;
pub mod read;
pub mod report;
pub mod resources;
pub mod text;
pub mod time;

pub use events::EventsArgs;
pub use generate::GenerateArgs;
pub use report::ReportArgs;

/// Where the packaged agent writes its log (SPEC section 3, `[log] output`).
pub const DEFAULT_LOG: &str = "/var/log/safeguard/safeguard.log";

/// The values of `module` (SPEC section 4).
pub const MODULES: [&str; 8] = ["file", "network", "process", "mount", "detect", "agent", "inventory", "telemetry"];

/// `--module`: a module name in any case.
pub fn parse_module(text: &str) -> Result<String, String> {
    let module = text.to_ascii_lowercase();
    if MODULES.contains(&module.as_str()) {
        Ok(module)
    } else {
        Err(format!("{text:?} is not a module: use {}", MODULES.join(", ")))
    }
}

/// `--action`: one action in any case, or `DENIED` for both kinds of denial.
pub fn parse_action(text: &str) -> Result<Vec<String>, String> {
    match text.to_ascii_uppercase().as_str() {
        action @ ("ALLOWED" | "MONITOR" | "BLOCKED" | "ALERT" | "KILLED") => Ok(vec![action.to_string()]),
        "DENIED" => Ok(vec!["MONITOR".to_string(), "BLOCKED".to_string()]),
        _ => Err(format!("{text:?} is not an action: use ALLOWED, MONITOR, BLOCKED, ALERT, KILLED or DENIED")),
    }
}

/// `--since`: see `time::parse_bound`; ages count back from now, a day starts at its
/// local midnight.
pub fn parse_since(text: &str) -> Result<time::Micros, String> {
    time::parse_bound(text, time::now(), time::Side::Since, &time::local_offset)
}

/// `--until`: as `--since`, but a day given alone lasts through its end.
pub fn parse_until(text: &str) -> Result<time::Micros, String> {
    time::parse_bound(text, time::now(), time::Side::Until, &time::local_offset)
}

/// `--since` after `--until` is a mistake, not an empty range.
pub fn check_range(since: Option<time::Micros>, until: Option<time::Micros>) -> Result<(), String> {
    match (since, until) {
        (Some(since), Some(until)) if since > until => {
            Err(format!("--since ({}) is after --until ({})", time::format_rfc3339(since), time::format_rfc3339(until)))
        }
        _ => Ok(()),
    }
}

/// Every log named exists (as itself or rotated files): checked before any output, so
/// that a mistyped path is an error rather than an empty report.
pub fn check_inputs(paths: &[std::path::PathBuf]) -> anyhow::Result<()> {
    for path in paths {
        read::log_set(path).map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
    }
    Ok(())
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
