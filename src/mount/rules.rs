//! `mount.deny` compiled into the kernel's tables (pure code, unit-tested):
//! - paths: every spelling of a denied path (as written, and with symlinks resolved)
//!   denies the path and everything below it; every ancestor of the resolved path
//!   denies only itself, because binding a directory exposes what is below it;
//! - identities: the same by (device, inode), for move_mount(2), which sees the tree
//!   the kernel resolved; a denied block device also by its device number;
//! - names: sources that are not paths (`tmpfs`, `server:/export`), compared with the
//!   source and the filesystem type of a new mount.
//!
//! An ancestor entry that lies below a denied path is itself denied with everything
//! below it: the kernel finds only the longest match, which must not hide the rule
//! above.

use std::collections::HashMap;

use crate::bpf::sg;
use crate::config::MountSource;
use crate::rule_paths::{path_key, Identity};

/// `sg_match.verdict` values of the mount tables (bpf/safeguard.h).
pub const VERDICT_DENY: u32 = sg::sg_verdict::SG_VERDICT_DENY.0;
pub const VERDICT_EXACT: u32 = sg::sg_mount_verdict::SG_MOUNT_VERDICT_EXACT.0;

/// What the filesystem says about a path at load time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceIdentity {
    pub identity: Identity,
    /// A block device's number, in the kernel's encoding (`st_rdev`).
    pub block_device: Option<u32>,
    /// The file's other names (hard links) in this mount namespace, found at load
    /// time: mount(2) resolves a source after its hook has run, so each name a bind
    /// could use must be in the tables. (A link made later is refused by the module's
    /// name guard.)
    pub other_names: Vec<String>,
}

pub struct MountRule<'a> {
    pub source: &'a MountSource,
    /// The rule as the log's `rule` field shows it.
    pub text: &'a str,
}

#[derive(Debug, Default)]
pub struct CompiledMountRules {
    /// Rule texts; rule id N is `texts[N - 1]`.
    pub texts: Vec<String>,
    pub paths: Vec<(sg::sg_path_key, sg::sg_match)>,
    pub inodes: Vec<(sg::sg_inode_key, sg::sg_match)>,
    pub names: Vec<(sg::sg_mount_name, sg::sg_match)>,
}

impl CompiledMountRules {
    pub fn has_paths(&self) -> bool {
        !self.paths.is_empty() || !self.inodes.is_empty()
    }
}

/// One entry before it is placed in a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Verdict {
    id: u32,
    verdict: u32,
}

/// Deny beats exact; between equals the earlier rule stays.
fn keep<K: std::hash::Hash + Eq>(table: &mut HashMap<K, Verdict>, key: K, value: Verdict) {
    match table.get(&key) {
        Some(current) if current.verdict == VERDICT_DENY || value.verdict != VERDICT_DENY => {}
        _ => {
            table.insert(key, value);
        }
    }
}

/// The strict ancestors of an absolute normalized path, "/" included.
fn ancestors(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    if path == "/" {
        return out;
    }
    let mut rest = path;
    while let Some(cut) = rest.rfind('/') {
        rest = &rest[..cut];
        out.push(if rest.is_empty() { "/".to_string() } else { rest.to_string() });
        if rest.is_empty() {
            break;
        }
    }
    out
}

/// `path` is `dir` or below it, on component boundaries.
fn at_or_below(path: &str, dir: &str) -> bool {
    dir == "/" || path == dir || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// Compiles the rules; `identify` stats a path (following symlinks) and is a
/// parameter so that tests need no filesystem.
pub fn compile(rules: &[MountRule<'_>], identify: impl Fn(&str) -> Option<SourceIdentity>) -> CompiledMountRules {
    let mut texts = Vec::with_capacity(rules.len());
    let mut denied: Vec<(String, u32)> = Vec::new(); // spellings denied with all below
    let mut exact: Vec<(String, Option<Identity>, u32)> = Vec::new(); // ancestors
    let mut inodes: HashMap<(u32, u64), Verdict> = HashMap::new();
    let mut names: HashMap<String, Verdict> = HashMap::new();

    for rule in rules {
        texts.push(rule.text.to_string());
        let id = texts.len() as u32;
        let deny = Verdict { id, verdict: VERDICT_DENY };
        let path = match rule.source {
            MountSource::Name(name) => {
                keep(&mut names, name.clone(), deny);
                continue;
            }
            MountSource::Path(path) => path,
        };
        let found = identify(path);
        let canonical = found.as_ref().map_or(path.clone(), |f| f.identity.canonical.clone());
        denied.push((path.clone(), id));
        if canonical != *path {
            denied.push((canonical.clone(), id));
        }
        if let Some(found) = &found {
            keep(&mut inodes, (found.identity.dev, found.identity.ino), deny);
            if let Some(rdev) = found.block_device {
                keep(&mut inodes, (rdev, 0), deny);
            }
        }
        // Binding an ancestor exposes the denied path: every ancestor of the resolved
        // path, and every ancestor of the written one that resolves to one of those
        // (/var/run -> /run); /var does not (its symlink run -> /run, once bound
        // elsewhere, points into the namespace of whoever follows it). The file's other
        // names are resolved paths too: each is denied, and its ancestors with it.
        let other_names = found.as_ref().map_or(&[][..], |f| &f.other_names[..]);
        for name in other_names {
            denied.push((name.clone(), id));
            for ancestor in ancestors(name) {
                exact.push((ancestor.clone(), identify(&ancestor).map(|f| f.identity), id));
            }
        }
        let resolved_ancestors = ancestors(&canonical);
        for ancestor in &resolved_ancestors {
            exact.push((ancestor.clone(), identify(ancestor).map(|f| f.identity), id));
        }
        for ancestor in ancestors(path) {
            if let Some(found) = identify(&ancestor) {
                if found.identity.canonical != ancestor && resolved_ancestors.contains(&found.identity.canonical) {
                    exact.push((ancestor, Some(found.identity), id));
                }
            }
        }
    }

    let mut paths: HashMap<String, Verdict> = HashMap::new();
    for (path, id) in &denied {
        keep(&mut paths, path.clone(), Verdict { id: *id, verdict: VERDICT_DENY });
    }
    for (path, identity, id) in exact {
        // Below a denied path: denied with everything below it (see the module doc).
        let covering = denied.iter().filter(|(dir, _)| at_or_below(&path, dir)).max_by_key(|(dir, _)| dir.len());
        let value = match covering {
            Some((_, covering_id)) => Verdict { id: *covering_id, verdict: VERDICT_DENY },
            None => Verdict { id, verdict: VERDICT_EXACT },
        };
        keep(&mut paths, path, value);
        if let Some(identity) = identity {
            keep(&mut inodes, (identity.dev, identity.ino), value);
        }
    }

    let to_match =
        |v: Verdict, path_len: u32| sg::sg_match { id: v.id, verdict: v.verdict, path_len, ..Default::default() };
    CompiledMountRules {
        texts,
        // Config validation keeps rule paths within a key; a longer resolved spelling
        // still has its identity entry.
        paths: paths
            .into_iter()
            .filter_map(|(path, v)| path_key(&path).map(|key| (key, to_match(v, key.prefixlen / 8))))
            .collect(),
        inodes: inodes
            .into_iter()
            .map(|((dev, ino), v)| (sg::sg_inode_key { dev, ino, ..Default::default() }, to_match(v, 0)))
            .collect(),
        names: names.into_iter().filter_map(|(name, v)| name_key(&name).map(|key| (key, to_match(v, 0)))).collect(),
    }
}

/// The kernel's key for a name: the bytes, NUL-padded (and at least one NUL).
pub fn name_key(name: &str) -> Option<sg::sg_mount_name> {
    let mut key = sg::sg_mount_name::default();
    if name.is_empty() || name.len() >= key.name.len() {
        return None;
    }
    key.name[..name.len()].copy_from_slice(name.as_bytes());
    Some(key)
}

/// Identity of a path on this machine: stat (following symlinks), realpath, and
/// the device number of a block device node.
pub fn identify_on_host(path: &str) -> Option<SourceIdentity> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let identity = crate::rule_paths::identify_on_host(path)?;
    let meta = std::fs::metadata(path).ok()?;
    let block_device = meta.file_type().is_block_device().then(|| crate::rule_paths::kernel_dev(meta.rdev()));
    let mut other_names = Vec::new();
    if !meta.is_dir() && meta.nlink() > 1 {
        let links = crate::rule_paths::other_links(&identity.canonical, meta.dev(), meta.ino(), meta.nlink());
        if !links.complete {
            log::warn!(
                "mount: {path:?} has {} names; {} other found ({} entries read): a bind of another is not refused",
                meta.nlink(),
                links.names.len(),
                links.read
            );
        }
        other_names = links.names;
    }
    Some(SourceIdentity { identity, block_device, other_names })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_text(key: &sg::sg_path_key) -> String {
        String::from_utf8_lossy(&key.path[..(key.prefixlen / 8) as usize]).into_owned()
    }

    /// What the kernel's longest-prefix lookup (lookup_source in bpf/mount.bpf.c)
    /// decides for a normalized source: the rule id, or 0.
    fn decide(compiled: &CompiledMountRules, source: &str, exact: bool) -> u32 {
        let wanted = key_text(&path_key(source).unwrap());
        let best = compiled
            .paths
            .iter()
            .filter(|(key, _)| wanted.starts_with(&key_text(key)))
            .max_by_key(|(key, _)| key.prefixlen);
        match best {
            Some((_, m)) if m.verdict == VERDICT_DENY => m.id,
            Some((_, m)) if exact && m.verdict == VERDICT_EXACT && m.path_len as usize == wanted.len() => m.id,
            _ => 0,
        }
    }

    fn ident(dev: u32, ino: u64, canonical: &str) -> SourceIdentity {
        SourceIdentity {
            identity: Identity { dev, ino, canonical: canonical.into() },
            block_device: None,
            other_names: Vec::new(),
        }
    }

    fn docker_host(path: &str) -> Option<SourceIdentity> {
        match path {
            "/var/run/docker.sock" | "/run/docker.sock" => Some(ident(20, 7, "/run/docker.sock")),
            "/run" | "/var/run" => Some(ident(20, 1, "/run")),
            "/var" => Some(ident(8 << 20 | 1, 50, "/var")),
            "/" => Some(ident(8 << 20 | 1, 2, "/")),
            "/dev/sdb1" => Some(SourceIdentity { block_device: Some(8 << 20 | 17), ..ident(5, 300, "/dev/sdb1") }),
            "/dev" => Some(ident(5, 1, "/dev")),
            _ => None,
        }
    }

    #[test]
    fn a_denied_socket_its_spellings_and_ancestors() {
        let source = MountSource::Path("/var/run/docker.sock".into());
        let compiled = compile(&[MountRule { source: &source, text: "/var/run/docker.sock" }], docker_host);
        assert_eq!(compiled.texts, ["/var/run/docker.sock"]);
        let mut keys: Vec<(String, u32)> = compiled.paths.iter().map(|(k, m)| (key_text(k), m.verdict)).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                ("/".to_string(), VERDICT_EXACT),
                ("/run/".to_string(), VERDICT_EXACT),
                ("/run/docker.sock/".to_string(), VERDICT_DENY),
                ("/var/run/".to_string(), VERDICT_EXACT),
                ("/var/run/docker.sock/".to_string(), VERDICT_DENY),
            ]
        );
        // both spellings, binds of the parents, never a sibling or a longer name
        assert_eq!(decide(&compiled, "/var/run/docker.sock", true), 1);
        assert_eq!(decide(&compiled, "/run/docker.sock", true), 1);
        assert_eq!(decide(&compiled, "/run", true), 1);
        assert_eq!(decide(&compiled, "/var/run", true), 1);
        assert_eq!(decide(&compiled, "/", true), 1);
        assert_eq!(decide(&compiled, "/var", true), 0);
        assert_eq!(decide(&compiled, "/run/other", true), 0);
        assert_eq!(decide(&compiled, "/run/docker.sockx", true), 0);
        // a new mount's source is never an ancestor
        assert_eq!(decide(&compiled, "/run", false), 0);
        let mut inodes: Vec<((u32, u64), u32)> =
            compiled.inodes.iter().map(|(k, m)| ((k.dev, k.ino), m.verdict)).collect();
        inodes.sort();
        assert_eq!(inodes, [((20, 1), VERDICT_EXACT), ((20, 7), VERDICT_DENY), ((8 << 20 | 1, 2), VERDICT_EXACT)]);
    }

    #[test]
    fn the_other_names_of_a_denied_file_are_denied_with_their_ancestors() {
        let source = MountSource::Path("/run/docker.sock".into());
        let host = |path: &str| match path {
            "/run/docker.sock" => Some(SourceIdentity {
                other_names: vec!["/srv/x/hard.sock".into()],
                ..ident(20, 7, "/run/docker.sock")
            }),
            "/srv" => Some(ident(8 << 20 | 1, 60, "/srv")),
            _ => docker_host(path),
        };
        let compiled = compile(&[MountRule { source: &source, text: "/run/docker.sock" }], host);
        assert_eq!(decide(&compiled, "/srv/x/hard.sock", true), 1);
        assert_eq!(decide(&compiled, "/srv/x", true), 1); // binding its directory exposes it
        assert_eq!(decide(&compiled, "/srv", true), 1);
        assert_eq!(decide(&compiled, "/srv/x/other", true), 0);
        assert_eq!(decide(&compiled, "/srv/y", true), 0);
        assert!(compiled.inodes.iter().any(|(k, m)| (k.dev, k.ino) == (8 << 20 | 1, 60) && m.verdict == VERDICT_EXACT));
    }

    #[test]
    fn an_ancestor_below_a_denied_directory_does_not_hide_it() {
        let dir = MountSource::Path("/srv".into());
        let file = MountSource::Path("/srv/a/b".into());
        let compiled =
            compile(&[MountRule { source: &dir, text: "/srv" }, MountRule { source: &file, text: "/srv/a/b" }], |_| {
                None
            });
        // /srv/a is an ancestor of rule 2 and below rule 1: denied with all below it
        assert_eq!(decide(&compiled, "/srv/a/x", true), 1);
        assert_eq!(decide(&compiled, "/srv/a", false), 1);
        assert_eq!(decide(&compiled, "/srv/a/b/c", true), 2);
        assert_eq!(decide(&compiled, "/", true), 1); // an ancestor of both: the first rule
        assert_eq!(decide(&compiled, "/srvx", true), 0);
    }

    #[test]
    fn block_devices_and_names() {
        let dev = MountSource::Path("/dev/sdb1".into());
        let name = MountSource::Name("tmpfs".into());
        let compiled = compile(
            &[MountRule { source: &dev, text: "/dev/sdb1" }, MountRule { source: &name, text: "tmpfs" }],
            docker_host,
        );
        assert!(compiled.inodes.iter().any(|(k, m)| (k.dev, k.ino) == (8 << 20 | 17, 0) && m.id == 1));
        assert_eq!(compiled.names.len(), 1);
        let (key, m) = &compiled.names[0];
        assert_eq!(&key.name[..6], b"tmpfs\0");
        assert_eq!(m.id, 2);
        assert!(name_key("").is_none());
        assert!(name_key(&"x".repeat(256)).is_none());
    }

    #[test]
    fn the_first_rule_names_a_shared_entry() {
        let a = MountSource::Path("/data".into());
        let b = MountSource::Path("/data".into());
        let compiled =
            compile(&[MountRule { source: &a, text: "first" }, MountRule { source: &b, text: "second" }], |_| None);
        assert_eq!(decide(&compiled, "/data/x", true), 1);
    }

    #[test]
    fn ancestors_walk_up_to_the_root() {
        assert_eq!(ancestors("/a/b/c"), ["/a/b", "/a", "/"]);
        assert_eq!(ancestors("/a"), ["/"]);
        assert!(ancestors("/").is_empty());
        assert!(at_or_below("/a/b", "/a") && at_or_below("/a", "/a") && !at_or_below("/ab", "/a"));
    }
}
