//! safeguard: a Linux host security agent built on BPF LSM (KRSI).

mod bpf;
mod config;
mod logging;

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::SUCCESS
}
