//! safeguard: a Linux host security agent built on BPF LSM (KRSI).
//! `main` parses the command line and maps outcomes to exit codes: 0 ok,
//! 1 runtime failure, 2 bad usage or config, 3 `risk --fail-on` reached.

mod agent;
mod analysis;
mod assets;
mod bpf;
mod config;
mod decode;
mod detect;
mod file;
#[cfg(test)]
mod host_tier;
mod inventory;
mod logging;
mod mount;
mod network;
mod outputs;
mod probe;
mod process;
mod protect;
mod rule_paths;
mod telemetry;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

const DEFAULT_CONFIG: &str = "/etc/safeguard/safeguard.toml";

#[derive(Parser)]
#[command(name = "safeguard", version, about = "Linux host security agent: BPF LSM audit and enforcement")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// The command line is parsed once; boxing the big `events` arguments would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the agent in the foreground until SIGTERM or SIGINT.
    Run {
        /// The configuration file.
        #[arg(short, long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Exit non-zero instead of running audit-only when BPF LSM cannot enforce.
        #[arg(long)]
        require_enforcement: bool,
    },
    /// Validate a configuration and print the effective policy.
    Check {
        /// The configuration file.
        #[arg(short, long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Report what this kernel lets safeguard do.
    Probe {
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Print the records of the agent's logs (JSON or text, rotated files included).
    Events(analysis::EventsArgs),
    /// Analyse the agent's logs: hot spots, denials, anomalies; optionally as HTML.
    Report(analysis::ReportArgs),
    /// Propose an allow-list config from what a monitor-mode run logged.
    Generate(analysis::GenerateArgs),
    /// List what is security-relevant on the host (or in a mounted root, offline).
    Inventory(inventory::InventoryArgs),
    /// Judge the host's risks: findings with severity, evidence and remedy.
    Risk(inventory::RiskArgs),
    /// Ask the running agent for its state: modules, totals, every rule with its hits.
    Status {
        /// Print the agent's answer as JSON.
        #[arg(long)]
        json: bool,
        /// The agent's status socket.
        #[arg(long, default_value = outputs::status::SOCKET)]
        socket: PathBuf,
    },
    /// Detach and remove the enforcement a persisting agent left pinned (as root; the
    /// agent must be stopped).
    Unload,
    /// Write man pages and shell completions into DIR (for `make package`).
    #[command(hide = true)]
    Assets { dir: PathBuf },
}

fn main() -> ExitCode {
    // The agent's own diagnostics go to stderr; records go to the configured log.
    let _logger = flexi_logger::Logger::try_with_env_or_str("info")
        .and_then(|logger| logger.log_to_stderr().format(flexi_logger::default_format).start());
    bpf::route_libbpf_messages();

    let cli = Cli::parse();
    let range = match &cli.command {
        Command::Events(args) => Some((args.since, args.until)),
        Command::Report(args) => Some((args.since, args.until)),
        Command::Generate(args) => Some((args.since, args.until)),
        _ => None,
    };
    if let Some(Err(message)) = range.map(|(since, until)| analysis::check_range(since, until)) {
        // Bad usage: clap's own message format and exit status 2.
        Cli::command().error(clap::error::ErrorKind::ArgumentConflict, message).exit();
    }
    match cli.command {
        Command::Run { config, require_enforcement } => {
            let parsed = match config::load(&config) {
                Ok(parsed) => parsed,
                Err(err) => return config_error(err),
            };
            report(agent::run(parsed, &config, require_enforcement))
        }
        Command::Check { config } => match config::load(&config) {
            Ok(parsed) => {
                for warning in parsed.warnings() {
                    eprintln!("safeguard: warning: {warning}");
                }
                write_stdout(&parsed.describe())
            }
            Err(err) => config_error(err),
        },
        Command::Probe { json } => {
            if !running_as_root() {
                eprintln!(
                    "safeguard: probe needs root: loading the BPF programs that prove what this kernel \
                     allows takes CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)"
                );
                return ExitCode::from(1);
            }
            let mut caps = probe::probe();
            caps.pinning = Some(agent::persist::probe_pinning());
            if json {
                write_stdout(&format!("{}\n", caps.to_json()))
            } else {
                write_stdout(&caps.to_text())
            }
        }
        Command::Status { json, socket } => match outputs::status::command(&socket, json) {
            Ok(text) => write_stdout(&text),
            Err(err) => {
                eprintln!("safeguard: {err:#}");
                ExitCode::from(1)
            }
        },
        Command::Events(args) => report(analysis::events::run(args)),
        Command::Report(args) => report(analysis::report::run(args)),
        Command::Generate(args) => report(analysis::generate::run(args)),
        Command::Inventory(args) => match inventory::inventory_command(&args) {
            Ok(text) => write_stdout(&text),
            Err(err) => report(Err(err)),
        },
        // --fail-on reached: status 3 once the findings are printed (SPEC section 9).
        Command::Risk(args) => match inventory::risk_command(&args) {
            Ok((text, fail)) => match (write_stdout(&text), fail) {
                (status, false) => status,
                (status, true) if status == ExitCode::SUCCESS => ExitCode::from(3),
                (status, true) => status,
            },
            Err(err) => report(Err(err)),
        },
        Command::Unload => unload(),
        Command::Assets { dir } => report(assets::write(Cli::command(), &dir)),
    }
}

/// `safeguard unload`: what a persisting agent pinned is detached and removed.
fn unload() -> ExitCode {
    if !running_as_root() {
        eprintln!("safeguard: unload needs root: it removes pins under {}", agent::persist::PIN_ROOT);
        return ExitCode::from(1);
    }
    match agent::persist::unload() {
        Ok(removed) if removed.is_empty() => {
            println!("safeguard: nothing pinned under {}", agent::persist::PIN_ROOT);
            ExitCode::SUCCESS
        }
        Ok(removed) => {
            for instance in &removed {
                println!("safeguard: detached and removed {}/{instance}", agent::persist::PIN_ROOT);
            }
            println!("safeguard: persisted enforcement removed ({} instances)", removed.len());
            ExitCode::SUCCESS
        }
        Err(err) => report(Err(err)),
    }
}

/// A config error: every problem on a line of its own as `FILE:LINE:COL: key: message`,
/// the form editors and CI parsers read; an unreadable file as one `safeguard:` line.
fn config_error(err: config::ConfigError) -> ExitCode {
    match err {
        config::ConfigError::Invalid { .. } => eprintln!("{err}"),
        config::ConfigError::Read { .. } => eprintln!("safeguard: {err}"),
    }
    ExitCode::from(2)
}

/// Writes a command's output. A reader that went away (`| head`) ends it quietly with
/// status 0; any other write error (a full disk) is one line and status 1.
fn write_stdout(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("safeguard: writing to standard output: {err}");
            ExitCode::from(1)
        }
    }
}

/// The effective uid is 0 (the owner of /proc/self is the process's effective uid).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("safeguard: {err:#}");
            ExitCode::from(1)
        }
    }
}
