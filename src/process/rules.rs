//! Exec rules compiled into the kernel's two lookup tables (pure code, unit-tested):
//! - a longest-prefix table of paths, so one lookup decides whatever the number of
//!   rules; rule and looked-up paths end in '/' to match on component boundaries;
//! - an identity table (device, inode) for rules that name an existing file or
//!   directory, checked for the executed file and each of its ancestors, so that a
//!   hard link, a bind mount, a chroot or another mount namespace reaches the rule.
//!
//! Of two matching rules the longer path wins; at equal length deny beats allow.

use std::collections::HashMap;

use crate::bpf::sg;
use crate::rule_paths::{path_key, Identity};

/// A rule's id in the kernel is its index in `RuleTable::texts` plus one (0 is "none").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Verdict {
    Allow = sg::sg_verdict::SG_VERDICT_ALLOW.0,
    Deny = sg::sg_verdict::SG_VERDICT_DENY.0,
}

pub struct ExecRule<'a> {
    pub path: &'a str,
    /// The rule as the log's `rule` field shows it.
    pub text: &'a str,
    pub verdict: Verdict,
}

#[derive(Debug, Default)]
pub struct CompiledRules {
    /// Rule texts; rule id N is `texts[N - 1]`.
    pub texts: Vec<String>,
    pub paths: Vec<(sg::sg_path_key, sg::sg_match)>,
    pub inodes: Vec<(sg::sg_inode_key, sg::sg_match)>,
}

fn better(current: &sg::sg_match, candidate: &sg::sg_match) -> bool {
    candidate.path_len > current.path_len
        || (candidate.path_len == current.path_len
            && candidate.verdict == Verdict::Deny as u32
            && current.verdict != Verdict::Deny as u32)
}

fn insert<K: std::hash::Hash + Eq>(table: &mut HashMap<K, sg::sg_match>, key: K, value: sg::sg_match) {
    match table.get(&key) {
        Some(current) if !better(current, &value) => {}
        _ => {
            table.insert(key, value);
        }
    }
}

/// Compiles the rules; `identify` stats a path (following symlinks) and is a
/// parameter so that tests need no filesystem.
pub fn compile(rules: &[ExecRule<'_>], identify: impl Fn(&str) -> Option<Identity>) -> CompiledRules {
    let mut texts = Vec::with_capacity(rules.len());
    let mut paths: HashMap<Vec<u8>, sg::sg_match> = HashMap::new();
    let mut keys: HashMap<Vec<u8>, sg::sg_path_key> = HashMap::new();
    let mut inodes: HashMap<(u32, u64), sg::sg_match> = HashMap::new();

    for rule in rules {
        texts.push(rule.text.to_string());
        let rule_id = texts.len() as u32;
        let value = |path_len: usize| sg::sg_match {
            id: rule_id,
            verdict: rule.verdict as u32,
            path_len: path_len as u32,
            ..Default::default()
        };
        let identity = identify(rule.path);
        let mut spellings = vec![rule.path.to_string()];
        if let Some(identity) = &identity {
            if identity.canonical != rule.path {
                spellings.push(identity.canonical.clone());
            }
        }
        for spelling in &spellings {
            // Config validation keeps rule paths within the key; a canonical form that
            // is longer still has its identity entry below.
            if let Some(key) = path_key(spelling) {
                let bytes = key.path[..(key.prefixlen / 8) as usize].to_vec();
                insert(&mut paths, bytes.clone(), value(spelling.len()));
                keys.insert(bytes, key);
            }
        }
        if let Some(identity) = identity {
            insert(&mut inodes, (identity.dev, identity.ino), value(identity.canonical.len()));
        }
    }

    let mut compiled = CompiledRules { texts, ..Default::default() };
    compiled.paths = paths.into_iter().map(|(bytes, value)| (keys[&bytes], value)).collect();
    compiled.inodes = inodes
        .into_iter()
        .map(|((dev, ino), value)| (sg::sg_inode_key { dev, ino, ..Default::default() }, value))
        .collect();
    compiled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_text(key: &sg::sg_path_key) -> String {
        String::from_utf8_lossy(&key.path[..(key.prefixlen / 8) as usize]).into_owned()
    }

    #[test]
    fn identities_and_symlink_targets_are_added() {
        let rules = [
            ExecRule { path: "/usr/bin/nc", text: "/usr/bin/nc", verdict: Verdict::Deny },
            ExecRule { path: "/opt/missing", text: "/opt/missing", verdict: Verdict::Deny },
        ];
        let compiled = compile(&rules, |path| {
            (path == "/usr/bin/nc").then(|| Identity { dev: 0x800001, ino: 42, canonical: "/bin/nc.openbsd".into() })
        });
        assert_eq!(compiled.texts, ["/usr/bin/nc", "/opt/missing"]);
        let mut keys: Vec<String> = compiled.paths.iter().map(|(k, _)| key_text(k)).collect();
        keys.sort();
        assert_eq!(keys, ["/bin/nc.openbsd/", "/opt/missing/", "/usr/bin/nc/"]);
        assert_eq!(compiled.inodes.len(), 1);
        let (key, value) = &compiled.inodes[0];
        assert_eq!((key.dev, key.ino), (0x800001, 42));
        assert_eq!((value.id, value.verdict, value.path_len), (1, Verdict::Deny as u32, 15));
    }

    #[test]
    fn the_same_path_allowed_and_denied_is_denied() {
        let rules = [
            ExecRule { path: "/opt/x", text: "allow", verdict: Verdict::Allow },
            ExecRule { path: "/opt/x", text: "deny", verdict: Verdict::Deny },
            ExecRule { path: "/opt/x", text: "allow again", verdict: Verdict::Allow },
        ];
        let compiled = compile(&rules, |_| Some(Identity { dev: 1, ino: 7, canonical: "/opt/x".into() }));
        assert_eq!(compiled.paths.len(), 1);
        assert_eq!(compiled.paths[0].1.id, 2);
        assert_eq!(compiled.inodes.len(), 1);
        assert_eq!(compiled.inodes[0].1.id, 2);
    }
}
