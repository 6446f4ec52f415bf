//! File rules (SPEC 3.1) compiled into what the kernel looks up (pure code, unit-tested).
//!
//! Every distinct rule path becomes a *node* whose value says, for each op, what the
//! deepest rule path at or above a file decides, with every ancestor rule folded in
//! ("inheritance flattened"). The kernel finds the node by identity (device, inode of
//! the file or of its deepest ancestor that is a rule path) or by longest prefix of
//! the path, then reads one entry: the cost does not depend on the number of rules.
//!
//! Precedence (SPEC 3.1): the longest path wins; at equal length a rule with subject
//! selectors beats one without; then deny beats allow beats audit. Selector rules are
//! numbered in that order (bit i of a 64-bit mask), so that the kernel picks the lowest
//! bit both the node and the subject have.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::bail;

use crate::bpf::sg;
use crate::config::{CommandMatch, FileConfig, FileOp, FileRule, Op, RuleKind};
use crate::rule_paths::{path_key, Identity};

pub const MAX_SELECTOR_RULES: usize = 64;
// sg_file_op_rules.verdict is 16 bits wide; the values are enum sg_verdict's.
const VERDICT_ALLOW: u16 = sg::sg_verdict::SG_VERDICT_ALLOW.0 as u16;
const VERDICT_DENY: u16 = sg::sg_verdict::SG_VERDICT_DENY.0 as u16;
const VERDICT_AUDIT: u16 = sg::sg_verdict::SG_VERDICT_AUDIT.0 as u16;

/// What a compiled rule keeps.
struct Rule<'a> {
    id: u32,
    kind: RuleKind,
    /// Symlinks resolved where the path existed at load: the kernel sees resolved paths.
    path: String,
    rule: &'a FileRule,
}

impl Rule<'_> {
    fn verdict(&self) -> u16 {
        match self.kind {
            RuleKind::Deny => VERDICT_DENY,
            RuleKind::Allow => VERDICT_ALLOW,
            RuleKind::Audit => VERDICT_AUDIT,
        }
    }

    /// Smaller is stronger: longer path, then selectors, then deny, allow, audit.
    fn rank(&self) -> (std::cmp::Reverse<usize>, bool, u8) {
        let kind = match self.kind {
            RuleKind::Deny => 0,
            RuleKind::Allow => 1,
            RuleKind::Audit => 2,
        };
        (std::cmp::Reverse(self.path.len()), !self.rule.has_selectors(), kind)
    }
}

#[derive(Default)]
pub struct CompiledFileRules {
    /// Rule texts; rule id N is `texts[N - 1]`.
    pub texts: Vec<String>,
    pub nodes: Vec<sg::sg_file_node>,
    /// Rule paths for the path table: its 260-byte key is made as the map is filled
    /// (`path_key`), so that 100,000 rules hold their paths, not 26 MB of keys.
    pub paths: Vec<(String, sg::sg_match)>,
    pub inodes: Vec<(sg::sg_inode_key, sg::sg_match)>,
    pub selector_rules: Vec<sg::sg_selector_rule>,
    pub uid_selectors: Vec<(u32, u64)>,
    pub gid_selectors: Vec<(u32, u64)>,
    pub comm_selectors: Vec<([u8; 16], u64)>,
    pub exe_selectors: Vec<(sg::sg_inode_key, u64)>,
    pub uid_any: u64,
    pub gid_any: u64,
    pub command_any: u64,
    /// Bit per op: ops some rule or the allow list speaks of.
    pub ops_ruled: u32,
    pub ops_allowlisted: u32,
    pub have_deny: bool,
    /// Some rule path had no identity at load: the kernel must resolve paths.
    pub need_path: bool,
    /// Rule paths that did not exist at load (matched by path only until the next start).
    pub missing: Vec<String>,
    /// Rule paths by (parent directory identity, last component): an inode the kernel
    /// binds to such a name becomes that node's identity (the rule follows the name).
    pub names: Vec<(sg::sg_name_key, sg::sg_match)>,
    /// The parent directories of `names`, the kernel's first, cheap test.
    pub name_parents: Vec<sg::sg_inode_key>,
}

impl CompiledFileRules {
    /// Once the maps are filled the kernel holds the tables: keeps the texts (records,
    /// rule hits) and the switches, drops the rest (issue 20: agent memory).
    pub fn drop_tables(&mut self) {
        self.nodes = Vec::new();
        self.paths = Vec::new();
        self.inodes = Vec::new();
        self.selector_rules = Vec::new();
        self.uid_selectors = Vec::new();
        self.gid_selectors = Vec::new();
        self.comm_selectors = Vec::new();
        self.exe_selectors = Vec::new();
        self.missing = Vec::new();
        self.names = Vec::new();
        self.name_parents = Vec::new();
    }
}

pub fn op_bit(op: FileOp) -> u32 {
    1 << FileOp::ALL.iter().position(|&o| o == op).unwrap_or(0)
}

/// The ancestors of a path (itself included), deepest first: "/a/b" -> "/a/b", "/a", "/".
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.rfind('/') {
            _ if current == "/" => None,
            Some(0) => Some("/"),
            Some(i) => Some(&current[..i]),
            None => None,
        };
        Some(current)
    })
}

/// Compiles the `[file]` rules. `identify` stats a path (following symlinks);
/// `linked_files` lists the files with more than one hard link under a directory
/// (bounded by the caller), so that a hard link made before the agent started
/// cannot reach a protected file by another name; `layers` gives the same path in
/// the layers of the overlay it is inside of (rule_paths::overlay_layer_paths).
pub fn compile(
    config: &FileConfig,
    identify: impl Fn(&str) -> Option<Identity>,
    linked_files: impl Fn(&str) -> Vec<(String, Identity)>,
    layers: impl Fn(&str) -> Vec<String>,
) -> anyhow::Result<CompiledFileRules> {
    let mut out = CompiledFileRules::default();

    // Rules, with ids in config order (allow, deny, audit) and resolved paths.
    let mut rules = Vec::new();
    let mut identities: HashMap<String, Identity> = HashMap::new();
    let mut in_layers = Vec::new();
    for (kind, rule) in config.rules() {
        out.texts.push(crate::rule_paths::rule_text(&rule.text).to_string());
        let identity = identify(&rule.path);
        let path = identity.as_ref().map_or_else(|| rule.path.clone(), |id| id.canonical.clone());
        match identity {
            Some(identity) => {
                identities.insert(path.clone(), identity);
            }
            None => out.missing.push(rule.path.clone()),
        }
        let id = out.texts.len() as u32;
        rules.push(Rule { id, kind, path, rule });
        // A restriction on a path inside an overlay holds on the same path in its
        // layers (which would read or run what the overlay refuses); an allow rule
        // is not widened to them.
        if kind != RuleKind::Allow {
            for layer in layers(&rule.path) {
                let Some(identity) = identify(&layer) else { continue };
                let path = identity.canonical.clone();
                identities.insert(path.clone(), identity);
                in_layers.push(Rule { id, kind, path, rule });
            }
        }
    }
    // Within the selector bits: a layer copy of a selector rule takes a bit of its own.
    let mut selector_rules = rules.iter().filter(|r| r.rule.has_selectors()).count();
    for rule in in_layers {
        if rule.rule.has_selectors() {
            if selector_rules == MAX_SELECTOR_RULES {
                log::warn!("file: rule {:?} does not reach {} (selector rules full)", rule.rule.path, rule.path);
                continue;
            }
            selector_rules += 1;
        }
        rules.push(rule);
    }

    // Selector rules, numbered strongest first.
    let mut selector_order: Vec<usize> = (0..rules.len()).filter(|&i| rules[i].rule.has_selectors()).collect();
    selector_order.sort_by_key(|&i| (rules[i].rank(), rules[i].id));
    if selector_order.len() > MAX_SELECTOR_RULES {
        bail!(
            "file: {} rules have uid, gid or command selectors; at most {MAX_SELECTOR_RULES} are supported",
            selector_order.len()
        );
    }
    let mut selector_bit: HashMap<usize, u64> = HashMap::new();
    let (mut uids, mut gids, mut comms, mut exes) =
        (BTreeMap::<u32, u64>::new(), BTreeMap::<u32, u64>::new(), BTreeMap::new(), BTreeMap::new());
    for (bit_index, &i) in selector_order.iter().enumerate() {
        let bit = 1u64 << bit_index;
        let rule = rules[i].rule;
        selector_bit.insert(i, bit);
        out.selector_rules.push(sg::sg_selector_rule { rule_id: rules[i].id, verdict: rules[i].verdict().into() });
        if rule.uid.is_empty() {
            out.uid_any |= bit;
        }
        for &uid in &rule.uid {
            *uids.entry(uid).or_default() |= bit;
        }
        if rule.gid.is_empty() {
            out.gid_any |= bit;
        }
        for &gid in &rule.gid {
            *gids.entry(gid).or_default() |= bit;
        }
        if rule.command.is_empty() {
            out.command_any |= bit;
        }
        for command in &rule.command {
            match command {
                CommandMatch::Comm(name) => {
                    let mut key = [0u8; 16];
                    let bytes = name.as_bytes();
                    key[..bytes.len().min(15)].copy_from_slice(&bytes[..bytes.len().min(15)]);
                    *comms.entry(key).or_default() |= bit;
                }
                CommandMatch::Exe(path) => {
                    if let Some(id) = identify(path) {
                        *exes.entry((id.dev, id.ino)).or_default() |= bit;
                    } else {
                        log::warn!("file: command {path:?} does not exist; rules naming it match nothing");
                    }
                }
            }
        }
    }
    out.uid_selectors = uids.into_iter().collect();
    out.gid_selectors = gids.into_iter().collect();
    out.comm_selectors = comms.into_iter().collect();
    out.exe_selectors = exes
        .into_iter()
        .map(|((dev, ino), mask)| (sg::sg_inode_key { dev, ino, ..Default::default() }, mask))
        .collect();

    // Which ops the kernel must look at all.
    let allowlisted = config.allow_listed_ops();
    for &op in FileOp::ALL {
        if allowlisted.contains(&op) {
            out.ops_allowlisted |= op_bit(op);
        }
        let ruled = rules.iter().any(|r| r.rule.applies_to(op) && !(r.kind == RuleKind::Allow && r.path == "/"));
        if ruled || allowlisted.contains(&op) {
            out.ops_ruled |= op_bit(op);
        }
    }
    out.have_deny = rules.iter().any(|r| r.kind == RuleKind::Deny);
    // A link or rename out of a tree would shed its deny rules: the kernel guards both
    // whenever something is denied (bpf/file.bpf.c, check()).
    if out.have_deny {
        out.ops_ruled |= op_bit(FileOp::Link) | op_bit(FileOp::Rename);
    }
    out.need_path = !out.missing.is_empty();

    // One node per distinct rule path.
    let mut by_path: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, rule) in rules.iter().enumerate() {
        by_path.entry(rule.path.as_str()).or_default().push(i);
    }
    let node_paths: Vec<&str> = by_path.keys().copied().collect();
    // Exactly: grown by doubling, the node table of 100,000 rules held 37 MB, not 28.
    out.nodes.reserve_exact(node_paths.len());
    out.paths.reserve_exact(node_paths.len());
    let mut node_of: HashMap<&str, u32> = HashMap::new();
    for (index, path) in node_paths.iter().enumerate() {
        node_of.insert(path, index as u32);
        let applicable: Vec<usize> = ancestors(path).filter_map(|a| by_path.get(a)).flatten().copied().collect();
        let node = flatten(&rules, &applicable, &selector_bit);
        out.nodes.push(node);
        // "/" allowing everything (the default allow list) decides nothing the kernel
        // would not decide without it: leave it out and save every walk a lookup.
        if *path == "/" && allows_all(&node, out.ops_allowlisted) {
            continue;
        }
        let found = sg::sg_match { id: index as u32, path_len: path.len() as u32, ..Default::default() };
        if path_key(path).is_some() {
            out.paths.push((path.to_string(), found));
        }
        if let Some(identity) = identities.get(*path) {
            out.inodes.push((inode_key(identity), found));
        }
        // Its name, where the directory holding it exists (a rule path created later
        // gets its identity when it appears).
        if let Some((parent, key)) = name_key(path, &identify) {
            out.names.push((key, found));
            out.name_parents.push(parent);
        }
    }
    out.name_parents.sort_by_key(|k| (k.dev, k.ino));
    out.name_parents.dedup_by_key(|k| (k.dev, k.ino));

    // Files with other names elsewhere, under rules that restrict or audit.
    let mut seen: BTreeSet<(u32, u64)> = out.inodes.iter().map(|(k, _)| (k.dev, k.ino)).collect();
    for rule in rules.iter().filter(|r| r.kind != RuleKind::Allow && identities.contains_key(&r.path)) {
        for (file, identity) in linked_files(&rule.path) {
            let Some(node) = ancestors(&file).find_map(|a| node_of.get(a)) else { continue };
            if seen.insert((identity.dev, identity.ino)) {
                let found = sg::sg_match { id: *node, path_len: file.len() as u32, ..Default::default() };
                out.inodes.push((inode_key(&identity), found));
            }
        }
    }
    Ok(out)
}

/// A rule path's name key: the identity of the directory that holds it (symlinks
/// followed) and its last component. None for "/" and where the directory does not
/// exist.
fn name_key(path: &str, identify: impl Fn(&str) -> Option<Identity>) -> Option<(sg::sg_inode_key, sg::sg_name_key)> {
    let slash = path.rfind('/')?;
    let (dir, name) = (if slash == 0 { "/" } else { &path[..slash] }, &path[slash + 1..]);
    let mut key = sg::sg_name_key::default();
    if name.is_empty() || name.len() >= key.name.len() {
        return None;
    }
    let parent = inode_key(&identify(dir)?);
    key.parent_ino = parent.ino;
    key.parent_dev = parent.dev;
    key.len = name.len() as u32;
    key.name[..name.len()].copy_from_slice(name.as_bytes());
    Some((parent, key))
}

fn inode_key(identity: &Identity) -> sg::sg_inode_key {
    sg::sg_inode_key { dev: identity.dev, ino: identity.ino, ..Default::default() }
}

/// Does this node allow every op without a record, and would its absence change
/// nothing (no op is allow-listed)?
fn allows_all(node: &sg::sg_file_node, ops_allowlisted: u32) -> bool {
    ops_allowlisted == 0
        && node.ops.iter().all(|op| op.candidates == 0 && (op.verdict == 0 || op.verdict == VERDICT_ALLOW))
        && node.deny_rule_id == 0
        && node.deny_candidates == 0
}

/// What a node says for each op, from the rules that apply at or above it.
fn flatten(rules: &[Rule<'_>], applicable: &[usize], selector_bit: &HashMap<usize, u64>) -> sg::sg_file_node {
    let mut node = sg::sg_file_node::default();
    for (index, &op) in FileOp::ALL.iter().enumerate() {
        let entry = &mut node.ops[index];
        let for_op: Vec<&usize> = applicable.iter().filter(|&&i| rules[i].rule.applies_to(op)).collect();
        let best = for_op
            .iter()
            .filter(|&&&i| !rules[i].rule.has_selectors())
            .min_by_key(|&&&i| (rules[i].rank(), rules[i].id))
            .map(|&&i| i);
        if let Some(best) = best {
            entry.rule_id = rules[best].id;
            entry.verdict = rules[best].verdict();
        }
        for &&i in &for_op {
            let rule = &rules[i];
            if let Some(&bit) = selector_bit.get(&i) {
                if best.is_none_or(|b| rule.rank() < rules[b].rank()) {
                    entry.candidates |= bit;
                }
                if rule.kind == RuleKind::Allow {
                    entry.allowed_by |= bit;
                }
            } else if rule.kind == RuleKind::Allow {
                entry.allowed = 1;
            }
        }
        if entry.verdict == VERDICT_DENY && node.deny_rule_id == 0 {
            node.deny_rule_id = entry.rule_id;
        }
        for &&i in &for_op {
            if let Some(&bit) = selector_bit.get(&i) {
                if rules[i].kind == RuleKind::Deny && entry.candidates & bit != 0 {
                    node.deny_candidates |= bit;
                }
            }
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use std::path::Path;

    fn compile_text(text: &str) -> CompiledFileRules {
        let config = parse(text, Path::new("t.toml")).unwrap();
        compile(&config.file, |_| None, |_| Vec::new(), |_| Vec::new()).unwrap()
    }

    fn node_for(c: &CompiledFileRules, path: &str) -> sg::sg_file_node {
        // The kernel's longest-prefix lookup, done the slow way; no node: nothing applies.
        c.paths
            .iter()
            .filter(|(rule, _)| covers(rule, path))
            .max_by_key(|(rule, _)| rule.len())
            .map_or_else(sg::sg_file_node::default, |(_, found)| c.nodes[found.id as usize])
    }

    /// What the kernel decides: (verdict, rule text) for a subject with `selectors`.
    fn decide(c: &CompiledFileRules, path: &str, op: FileOp, selectors: u64) -> (u16, Option<String>) {
        let index = FileOp::ALL.iter().position(|&o| o == op).unwrap();
        let node = node_for(c, path);
        let entry = &node.ops[index];
        let hit = entry.candidates & selectors;
        let (verdict, rule_id) = if hit != 0 {
            let s = &c.selector_rules[hit.trailing_zeros() as usize];
            (s.verdict as u16, s.rule_id)
        } else {
            (entry.verdict, entry.rule_id)
        };
        let allowed = entry.allowed != 0 || entry.allowed_by & selectors != 0;
        if verdict != VERDICT_DENY && c.ops_allowlisted & op_bit(op) != 0 && !allowed {
            return (VERDICT_DENY, Some("not in file.allow".into()));
        }
        (verdict, (rule_id != 0).then(|| c.texts[rule_id as usize - 1].clone()))
    }

    /// Is `ancestor` the same path as `path` or above it, on component boundaries?
    fn covers(ancestor: &str, path: &str) -> bool {
        ancestor == "/"
            || path == ancestor
            || (path.len() > ancestor.len() && path.starts_with(ancestor) && path.as_bytes()[ancestor.len()] == b'/')
    }

    const SECTION: &str = "[file]\nmode = \"block\"\n";

    #[test]
    fn component_boundaries() {
        assert!(covers("/etc", "/etc"));
        assert!(covers("/etc", "/etc/passwd"));
        assert!(!covers("/etc", "/etcx"));
        assert!(covers("/", "/anything"));
        assert_eq!(ancestors("/a/b/c").collect::<Vec<_>>(), ["/a/b/c", "/a/b", "/a", "/"]);
        assert_eq!(ancestors("/").collect::<Vec<_>>(), ["/"]);
    }

    #[test]
    fn longest_path_wins_and_inherits() {
        let c = compile_text(&format!(
            "{SECTION}deny = [\"/srv\"]\nallow = [\"/\", \"/srv/public\"]\naudit = [\"/srv/public/log\"]\n"
        ));
        assert_eq!(decide(&c, "/srv/x", FileOp::Read, 0), (VERDICT_DENY, Some("/srv".into())));
        assert_eq!(decide(&c, "/srv/public/x", FileOp::Read, 0), (VERDICT_ALLOW, Some("/srv/public".into())));
        assert_eq!(decide(&c, "/srv/public/log/a", FileOp::Write, 0), (VERDICT_AUDIT, Some("/srv/public/log".into())));
        assert_ne!(decide(&c, "/srvx", FileOp::Read, 0).0, VERDICT_DENY);
    }

    #[test]
    fn per_op_rules_fall_back_to_shorter_rules() {
        let c = compile_text(&format!(
            "{SECTION}deny = [{{ path = \"/data/f\", ops = [\"write\"] }}, \"/data/secret\"]\naudit = [\"/data\"]\n"
        ));
        assert_eq!(decide(&c, "/data/f", FileOp::Write, 0).0, VERDICT_DENY);
        // read is not in the /data/f rule: the /data audit rule decides.
        assert_eq!(decide(&c, "/data/f", FileOp::Read, 0), (VERDICT_AUDIT, Some("/data".into())));
        assert_eq!(c.ops_ruled & op_bit(FileOp::Write), op_bit(FileOp::Write));
    }

    #[test]
    fn nodes_know_what_a_link_out_would_shed() {
        let c = compile_text(&format!(
            "{SECTION}deny = [{{ path = \"/srv/le\", ops = [\"read\"] }}, {{ path = \"/srv/u\", uid = [7] }}]\n"
        ));
        let le = node_for(&c, "/srv/le/key");
        assert_eq!(c.texts[le.deny_rule_id as usize - 1], "{ path = \"/srv/le\", ops = [\"read\"] }");
        let u = node_for(&c, "/srv/u/f");
        assert_eq!((u.deny_rule_id, u.deny_candidates), (0, 1));
        assert_eq!(node_for(&c, "/elsewhere").deny_rule_id, 0);
    }

    #[test]
    fn equal_length_deny_beats_allow_beats_audit() {
        let c = compile_text(&format!("{SECTION}allow = [\"/x\"]\ndeny = [\"/x\"]\naudit = [\"/x\"]\n"));
        assert_eq!(decide(&c, "/x/y", FileOp::Read, 0), (VERDICT_DENY, Some("/x".into())));
        let c = compile_text(&format!("{SECTION}allow = [\"/\", \"/x\"]\naudit = [\"/x\"]\n"));
        assert_eq!(decide(&c, "/x/y", FileOp::Read, 0).0, VERDICT_ALLOW);
    }

    #[test]
    fn selectors_apply_only_to_matching_subjects_and_win_at_equal_length() {
        let c = compile_text(&format!(
            "{SECTION}deny = [{{ path = \"/etc/shadow\", uid = [1000] }}]\naudit = [\"/etc/shadow\", \"/etc\"]\n"
        ));
        assert_eq!(c.selector_rules.len(), 1);
        assert_eq!(c.uid_selectors, vec![(1000, 1)]);
        assert_eq!((c.uid_any, c.gid_any, c.command_any), (0, 1, 1));
        // uid 1000: its mask has bit 0 (uid match & gid any & command any).
        let uid_1000 = (c.uid_any | 1) & c.gid_any & c.command_any;
        let root = c.uid_any & c.gid_any & c.command_any;
        assert_eq!(decide(&c, "/etc/shadow", FileOp::Read, uid_1000).0, VERDICT_DENY);
        assert_eq!(decide(&c, "/etc/shadow", FileOp::Read, root), (VERDICT_AUDIT, Some("/etc/shadow".into())));
    }

    #[test]
    fn a_selector_rule_above_a_longer_unconditional_rule_loses() {
        let c = compile_text(&format!(
            "{SECTION}deny = [{{ path = \"/srv\", command = [\"cat\"] }}]\nallow = [\"/\", \"/srv/pub\"]\n"
        ));
        let cat = 1;
        assert_eq!(decide(&c, "/srv/x", FileOp::Read, cat).0, VERDICT_DENY);
        assert_eq!(decide(&c, "/srv/pub/x", FileOp::Read, cat).0, VERDICT_ALLOW);
        assert_eq!(c.comm_selectors.len(), 1);
        assert_eq!(&c.comm_selectors[0].0[..4], b"cat\0");
    }

    #[test]
    fn allow_list_posture_per_op() {
        let c = compile_text(&format!("{SECTION}allow = [{{ path = \"/usr\", ops = [\"exec\"] }}]\n"));
        assert_eq!(c.ops_allowlisted, op_bit(FileOp::Exec));
        assert_eq!(decide(&c, "/usr/bin/ls", FileOp::Exec, 0).0, VERDICT_ALLOW);
        assert_eq!(decide(&c, "/tmp/evil", FileOp::Exec, 0), (VERDICT_DENY, Some("not in file.allow".into())));
        // Other ops are not allow-listed.
        assert_eq!(c.ops_allowlisted & op_bit(FileOp::Read), 0);
        // The default allow = ["/"] allow-lists nothing.
        let c = compile_text(&format!("{SECTION}deny = [\"/x\"]\n"));
        assert_eq!(c.ops_allowlisted, 0);
    }

    #[test]
    fn identities_symlinks_and_hard_links() {
        let config = parse(&format!("{SECTION}deny = [\"/etc/link\", \"/protected\"]\n"), Path::new("t")).unwrap();
        let c = compile(
            &config.file,
            |path| match path {
                "/" => Some(Identity { dev: 1, ino: 2, canonical: "/".into() }),
                "/etc/link" => Some(Identity { dev: 1, ino: 10, canonical: "/etc/real".into() }),
                "/protected" => Some(Identity { dev: 1, ino: 20, canonical: "/protected".into() }),
                _ => None,
            },
            |dir| {
                if dir == "/protected" {
                    vec![("/protected/sub/file".into(), Identity { dev: 1, ino: 30, canonical: String::new() })]
                } else {
                    vec![]
                }
            },
            |_| vec![],
        )
        .unwrap();
        assert!(!c.need_path, "every rule path exists");
        assert!(!c.inodes.iter().any(|(k, _)| k.ino == 2), "the default allow of / is left out");
        let by_ino: HashMap<u64, &sg::sg_match> = c.inodes.iter().map(|(k, v)| (k.ino, v)).collect();
        let real = by_ino[&10];
        assert_eq!(c.nodes[real.id as usize].ops[0].verdict, VERDICT_DENY);
        // The node path is the resolved one.
        let paths: Vec<&str> = c.paths.iter().map(|(path, _)| path.as_str()).collect();
        assert!(paths.contains(&"/etc/real"), "{paths:?}");
        // The hard-linked file maps to the /protected node, deeper than it.
        assert_eq!(by_ino[&30].id, by_ino[&20].id);
        assert_eq!(by_ino[&30].path_len, "/protected/sub/file".len() as u32);
    }

    #[test]
    fn restrictions_inside_an_overlay_reach_its_layers_and_allow_rules_do_not() {
        let config = parse(
            &format!("{SECTION}deny = [\"/o/secret\"]\nallow = [\"/\", \"/o/open\"]\nops = [\"read\", \"write\"]\n"),
            Path::new("t"),
        )
        .unwrap();
        let c = compile(
            &config.file,
            |path| {
                let ino = match path {
                    "/" => 2,
                    "/o/secret" => 10,
                    "/l/secret" => 11,
                    "/u/secret" => 12,
                    "/o/open" => 20,
                    "/l/open" => 21,
                    _ => return None,
                };
                Some(Identity { dev: 1, ino, canonical: path.into() })
            },
            |_| vec![],
            |path| match path {
                "/o/secret" => vec!["/l/secret".into(), "/u/secret".into(), "/gone/secret".into()],
                "/o/open" => vec!["/l/open".into()],
                _ => vec![],
            },
        )
        .unwrap();
        assert!(!c.need_path, "a layer path that does not exist is left out");
        let by_ino: HashMap<u64, &sg::sg_match> = c.inodes.iter().map(|(k, v)| (k.ino, v)).collect();
        for ino in [10, 11, 12] {
            let node = &c.nodes[by_ino[&ino].id as usize];
            assert_eq!(node.ops[0].verdict, VERDICT_DENY, "inode {ino}");
            assert_eq!(node.ops[0].rule_id, c.nodes[by_ino[&10].id as usize].ops[0].rule_id);
        }
        assert!(!by_ino.contains_key(&21), "an allow rule is not widened to the layers");
    }

    #[test]
    fn rule_paths_are_also_named_by_parent_identity_and_last_component() {
        let config = parse(
            &format!("{SECTION}deny = [\"/etc/link\", \"/srv/rp/passwd\", \"/srv/rp/late\", \"/nodir/x\"]\n"),
            Path::new("t"),
        )
        .unwrap();
        let c = compile(
            &config.file,
            |path| match path {
                "/" => Some(Identity { dev: 1, ino: 2, canonical: "/".into() }),
                "/etc" => Some(Identity { dev: 1, ino: 3, canonical: "/etc".into() }),
                "/etc/link" => Some(Identity { dev: 1, ino: 10, canonical: "/etc/real".into() }),
                "/srv/rp" => Some(Identity { dev: 5, ino: 40, canonical: "/srv/rp".into() }),
                "/srv/rp/passwd" => Some(Identity { dev: 5, ino: 41, canonical: "/srv/rp/passwd".into() }),
                _ => None, // /srv/rp/late does not exist yet, nor /nodir
            },
            |_| vec![],
            |_| vec![],
        )
        .unwrap();
        let names: HashMap<(u32, u64, String), &sg::sg_match> = c
            .names
            .iter()
            .map(|(k, v)| ((k.parent_dev, k.parent_ino, String::from_utf8_lossy(&k.name[..k.len as usize]).into()), v))
            .collect();
        // A symlinked rule path is named by its target; a missing one by its future
        // name where its directory exists; none without a directory.
        assert_eq!(names.len(), 3, "{:?}", names.keys());
        let real = names[&(1, 3, "real".to_string())];
        let passwd = names[&(5, 40, "passwd".to_string())];
        let late = names[&(5, 40, "late".to_string())];
        assert_eq!(c.inodes.iter().find(|(k, _)| k.ino == 41).unwrap().1.id, passwd.id);
        assert_eq!(c.inodes.iter().find(|(k, _)| k.ino == 10).unwrap().1.id, real.id);
        assert_ne!(late.id, passwd.id);
        assert_eq!(passwd.path_len, "/srv/rp/passwd".len() as u32);
        // The rest of each key is zero: the kernel builds keys the same way.
        for (key, _) in &c.names {
            assert!(key.name[key.len as usize..].iter().all(|&b| b == 0));
        }
        // Parents once each.
        let parents: Vec<(u32, u64)> = c.name_parents.iter().map(|k| (k.dev, k.ino)).collect();
        assert_eq!(parents, vec![(1, 3), (5, 40)]);
    }

    #[test]
    fn too_many_selector_rules_is_an_error() {
        let rules: Vec<String> = (0..65).map(|uid| format!("{{ path = \"/x\", uid = [{uid}] }}")).collect();
        let config = parse(&format!("{SECTION}deny = [{}]\n", rules.join(", ")), Path::new("t")).unwrap();
        let err = compile(&config.file, |_| None, |_| Vec::new(), |_| Vec::new()).err().unwrap();
        assert!(err.to_string().contains("at most 64"), "{err}");
    }
}
