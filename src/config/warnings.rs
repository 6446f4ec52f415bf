//! `Config::warnings`: valid configurations that do not mean what they seem to. `check`
//! prints them, `run` logs them at start; neither refuses the config.

use super::{CommandMatch, Config, Entry};

impl Config {
    /// One line per rule that selects subjects by task name (comm): any process may rename
    /// itself (`prctl(PR_SET_NAME)`, `exec -a`), so a deny by comm is advisory and an allow
    /// by comm is granted to whoever takes the name. Select by executable path instead.
    ///
    /// Also: a config that enables no module, and a module enabled with `ops = []`: both
    /// run and judge nothing.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let modules = [
            ("file", self.file.enable, self.file.ops.is_empty()),
            ("network", self.network.enable, self.network.ops.is_empty()),
            // exec rules are judged whatever `ops` says: ops only chooses the life-cycle records
            (
                "process",
                self.process.enable,
                self.process.ops.is_empty() && self.process.allow.is_empty() && self.process.deny.is_empty(),
            ),
            ("mount", self.mount.enable, false), // mount has no ops
            ("detect", self.detect.enable, false),
            ("telemetry", self.telemetry.enable, self.telemetry.measures.is_empty()),
        ];
        if modules.iter().all(|&(_, enable, _)| !enable) && !self.inventory.enable {
            out.push(
                "no module is enabled (a module's section turns it on): the agent would log only its own \
                 start and stop"
                    .to_string(),
            );
        }
        for (name, _, _) in modules.iter().filter(|&&(_, enable, idle)| enable && idle) {
            let key = if *name == "telemetry" { "measures" } else { "ops" };
            out.push(format!("{name}.{key} is empty: the module is on and does nothing"));
        }
        if self.file.enable {
            for (kind, rule) in self.file.rules() {
                if let Some(comm) = by_comm(&rule.command) {
                    out.push(comm_warning(&format!("file.{}", kind.name()), &rule.text, comm));
                }
            }
        }
        if self.network.enable {
            for (list, entries) in [("allow", &self.network.command.allow), ("deny", &self.network.command.deny)] {
                for Entry { value, text } in entries {
                    if let CommandMatch::Comm(comm) = value {
                        out.push(comm_warning(&format!("network.command.{list}"), text, comm));
                    }
                }
            }
        }
        if self.detect.enable {
            for exclusion in &self.detect.exclude {
                if let Some(comm) = by_comm(&exclusion.command) {
                    out.push(comm_warning("detect.exclude", &exclusion.text, comm));
                }
            }
        }
        out
    }
}

fn by_comm(command: &[CommandMatch]) -> Option<&str> {
    command.iter().find_map(|c| match c {
        CommandMatch::Comm(comm) => Some(comm.as_str()),
        CommandMatch::Exe(_) => None,
    })
}

fn comm_warning(list: &str, text: &str, comm: &str) -> String {
    format!(
        "{list}: {text} selects by task name {comm:?}, which any process can take or drop \
         (prctl PR_SET_NAME); select by executable path (a value with '/') to make it hold"
    )
}
