//! Files the packages ship beside the binary, generated from the real command-line
//! definition so they cannot drift from it: man pages (section 8, one per command) and
//! bash, zsh and fish completions. `safeguard assets DIR` (hidden) writes them for
//! `make package`.

use std::fs;
use std::path::Path;

use anyhow::Context;
use clap_complete::shells::{Bash, Fish, Zsh};
use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;

/// System administration commands and daemons.
const SECTION: &str = "8";

/// Writes `DIR/man/safeguard.8` plus `safeguard-<command>.8` for each visible command,
/// and `DIR/completions/` with `safeguard.bash`, `_safeguard` and `safeguard.fish`.
pub fn write(cmd: clap::Command, dir: &Path) -> anyhow::Result<()> {
    let man_dir = dir.join("man");
    let completions_dir = dir.join("completions");
    for path in [&man_dir, &completions_dir] {
        fs::create_dir_all(path).with_context(|| format!("assets: create {}", path.display()))?;
    }

    let mut cmd = public(&cmd);
    let name = cmd.get_name().to_string();
    let source = format!("{name} {}", cmd.get_version().unwrap_or_default());
    // Pages first: generating completions builds the command with its `help` subcommand.
    // Building names the subcommands "safeguard-run" etc., which titles their pages.
    let mut pages_cmd = cmd.clone().disable_help_subcommand(true);
    pages_cmd.build();
    let man = |cmd: &clap::Command| Man::new(cmd.clone()).section(SECTION).source(source.clone());
    let pages: Vec<Man> = pages_cmd.get_subcommands().map(man).collect();

    let mut top = Vec::new();
    man(&pages_cmd).render(&mut top).context("assets: render man page")?;
    let see_also: Vec<String> = pages.iter().map(Man::get_filename).collect();
    top.extend_from_slice(closing_sections(&see_also).to_roff().as_bytes());
    write_file(&man_dir.join(format!("{name}.{SECTION}")), &top)?;
    for page in pages {
        let mut text = Vec::new();
        page.render(&mut text).with_context(|| format!("assets: render {}", page.get_filename()))?;
        write_file(&man_dir.join(page.get_filename()), &text)?;
    }

    // Generators by type: the `Shell` enum would link the elvish and PowerShell ones too.
    clap_complete::generate_to(Bash, &mut cmd, &name, &completions_dir).context("assets: write bash completions")?;
    clap_complete::generate_to(Zsh, &mut cmd, &name, &completions_dir).context("assets: write zsh completions")?;
    clap_complete::generate_to(Fish, &mut cmd, &name, &completions_dir).context("assets: write fish completions")?;
    Ok(())
}

/// The command as users see it. clap_complete lists hidden subcommands too, and clap
/// cannot remove one, so the top level is rebuilt from the visible ones.
fn public(cmd: &clap::Command) -> clap::Command {
    // The same name and version that `#[command(name, version)]` gives the top level.
    let public = clap::Command::new(env!("CARGO_BIN_NAME"))
        .version(env!("CARGO_PKG_VERSION"))
        .args(cmd.get_arguments().cloned())
        .subcommands(cmd.get_subcommands().filter(|sub| !sub.is_hide_set()).cloned())
        .subcommand_required(cmd.is_subcommand_required_set());
    match cmd.get_about() {
        Some(about) => public.about(about.clone()),
        None => public,
    }
}

/// The sections an administrator looks for that clap does not know about; `pages` are
/// file names such as `safeguard-run.8`.
fn closing_sections(pages: &[String]) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["FILES"]);
    for (path, what) in [
        (crate::DEFAULT_CONFIG, "The policy and log settings; a configuration file that package upgrades keep."),
        ("/var/log/safeguard/", "Where the packaged configuration writes its rotated log (mode 0750)."),
        ("/usr/lib/systemd/system/safeguard.service", "The systemd unit that runs the agent."),
    ] {
        roff.control("TP", []).text([bold(path)]).text([roman(what)]);
    }
    roff.control("SH", ["EXIT STATUS"]);
    roff.text([roman("0 success, 1 runtime failure, 2 bad usage or configuration, 3 (risk --fail-on) a finding at or above the severity.")]);
    roff.control("SH", ["SEE ALSO"]);
    let mut refs = Vec::new();
    for page in pages.iter().map(String::as_str).chain(["systemctl.1", "journalctl.1"]) {
        let (title, section) = page.rsplit_once('.').unwrap_or((page, ""));
        if !refs.is_empty() {
            refs.push(roman(", "));
        }
        refs.extend([bold(title), roman(format!("({section})"))]);
    }
    roff.text(refs);
    roff
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    fs::write(path, bytes).with_context(|| format!("assets: write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn writes_pages_and_completions_without_hidden_commands() {
        let dir = std::env::temp_dir().join(format!("sg-assets-{}", std::process::id()));
        super::write(crate::Cli::command(), &dir).unwrap();
        let read = |path: &str| std::fs::read_to_string(dir.join(path)).unwrap();

        let top = read("man/safeguard.8");
        assert!(top.contains(".TH safeguard 8"), "{top}");
        assert!(top.contains("/etc/safeguard/safeguard.toml") && top.contains("EXIT STATUS"));
        assert!(read("man/safeguard-run.8").contains("require\\-enforcement"));
        for file in ["completions/safeguard.bash", "completions/_safeguard", "completions/safeguard.fish"] {
            let text = read(file);
            assert!(text.contains("probe"), "{file}");
            assert!(!text.contains("assets"), "{file} offers the hidden command");
        }
        assert!(!dir.join("man/safeguard-assets.8").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
