//! The mount module's string decision (bpf/mount.bpf.c: `judge_mount_name`, then the
//! source made absolute against a base and normalised by `norm_base` and
//! `judge_normalized`, then the path table) against SPEC 3.3 and the README's mount
//! rules, written as plain Rust: lexical normalisation (`.`, `..`, `//`, a trailing `/`,
//! `..` never above the caller's root), a denied path covers itself and everything below,
//! its ancestors only themselves and only for binds and moves, names match a new
//! mount's source or type.

use std::mem::MaybeUninit;

use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};

use super::{list, parse, run, seed, Rng, Tally};
use crate::agent::runtime::load_only;
use crate::bpf::mount_decide::types::sg_test_mount_case;
use crate::bpf::mount_decide::{MountDecideSkel, MountDecideSkelBuilder};
use crate::bpf::{bytes_of, sg};
use crate::config::{MountConfig, MountSource};
use crate::mount::rules::{self, MountRule};
use crate::rule_paths::rule_text;

const NEW: u32 = sg::sg_mount_class::SG_MOUNT_NEW.0;
const BIND: u32 = sg::sg_mount_class::SG_MOUNT_BIND.0;
const MOVE: u32 = sg::sg_mount_class::SG_MOUNT_MOVE.0;
const REMOUNT: u32 = sg::sg_mount_class::SG_MOUNT_REMOUNT.0;
const PROPAGATION: u32 = sg::sg_mount_class::SG_MOUNT_PROPAGATION.0;
const UNRESOLVED: u32 = sg::sg_rule::SG_RULE_UNRESOLVED.0;
const SOURCE_UNRESOLVED: u32 = sg::sg_mount_source_flag::SG_MOUNT_SOURCE_UNRESOLVED.0;

/// The normaliser's limits (bpf/mount.bpf.c): a 512-byte buffer for each input string
/// (NUL included) and the output, 64 components.
const SOURCE_LEN: usize = 512;
const DEPTH: usize = 64;

const CONFIGS: usize = 30;
const CASES_PER_CONFIG: usize = 100;
/// Entries of each table: more than any config here compiles to.
const TABLE_SIZE: u32 = 64;

const DENIED: [&str; 8] =
    ["/run/docker.sock", "/var/run", "/etc", "/srv/root/secret", "/home/user", "/a/b/c", "/dev/sda1", "/"];
const NAMES: [&str; 4] = ["tmpfs", "ramfs", "proc", "server:/export"];
const COMPONENTS: [&str; 16] =
    ["run", "var", "docker.sock", "..", ".", "", "etc", "srv", "root", "secret", "home", "user", "a", "b", "c", "x"];
const BASES: [&str; 6] = ["/", "/srv/root", "/home/user/dir", "/run", "/a/b", "/tmp"];

#[derive(Clone, Debug)]
struct Case {
    class: u32,
    source: String,
    fstype: String,
    /// The caller's root (an absolute source) or working directory (a relative one).
    base: String,
}

/// What the kernel said: the rule's text (None: not refused), and the normalised source
/// when it was judged as a path and could be normalised.
type Outcome = (Option<String>, Option<String>);

// ---- the model ----

/// Lexical normalisation as the kernel's lookup would walk the string (no symlinks):
/// None when it is too long or too deep for the kernel's buffers (then refused while
/// any path rule exists).
fn normalise(base: &str, source: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    let mut olen = 0usize; // bytes of "/a/b" as built
    let mut floor = 0usize;
    for (input, is_base) in [(base, true), (source, false)] {
        if input.len() >= SOURCE_LEN - 1 {
            return None;
        }
        for comp in input.split('/').filter(|c| !c.is_empty()) {
            // each byte needs room for itself, its '/' and the key's closing '/'
            // (the component is written first, then "." and ".." are taken back)
            if olen + comp.len() + 2 + usize::from(comp.len() >= 2) > SOURCE_LEN {
                return None;
            }
            match comp {
                "." => {}
                ".." => {
                    if out.len() > floor {
                        olen -= out.pop().map_or(0, |c| c.len() + 1);
                    }
                }
                _ if out.len() >= DEPTH => return None,
                _ => {
                    out.push(comp);
                    olen += comp.len() + 1;
                }
            }
        }
        // ".." stops at the caller's root for an absolute source
        if is_base && source.starts_with('/') {
            floor = out.len();
        }
    }
    Some(if out.is_empty() { "/".to_string() } else { format!("/{}", out.join("/")) })
}

fn at_or_below(path: &str, dir: &str) -> bool {
    dir == "/" || path == dir || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

fn model(config: &MountConfig, case: &Case) -> Outcome {
    let text = |e: &crate::config::Entry<MountSource>| rule_text(&e.text).to_string();
    let paths: Vec<(&str, String)> = config
        .deny
        .iter()
        .filter_map(|e| match &e.value {
            MountSource::Path(p) => Some((p.as_str(), text(e))),
            MountSource::Name(_) => None,
        })
        .collect();
    if ![NEW, BIND, MOVE].contains(&case.class) {
        return (None, None); // remounts and propagation changes name no source
    }
    if case.class == NEW {
        for wanted in [&case.source, &case.fstype] {
            let hit = config.deny.iter().find(|e| matches!(&e.value, MountSource::Name(n) if n == wanted));
            if let Some(e) = hit {
                return (Some(text(e)), None);
            }
        }
    }
    if case.source.is_empty() {
        return (None, None);
    }
    let Some(path) = normalise(&case.base, &case.source) else {
        return (if paths.is_empty() { None } else { Some("<unresolved>".into()) }, None);
    };
    // The deepest denied path covering it; else, for binds and moves, a denied path it
    // is an ancestor of (the first such rule).
    let covering = paths.iter().filter(|(dir, _)| at_or_below(&path, dir)).max_by_key(|(dir, _)| dir.len());
    let rule = match covering {
        Some((_, t)) => Some(t.clone()),
        None if case.class != NEW => {
            paths.iter().find(|(denied, _)| *denied != path && at_or_below(denied, &path)).map(|(_, t)| t.clone())
        }
        None => None,
    };
    (rule, Some(path))
}

// ---- generation ----

fn random_path(rng: &mut Rng, absolute: bool) -> String {
    let n = 1 + rng.below(6);
    let comps: Vec<&str> = (0..n).map(|_| rng.pick(&COMPONENTS)).collect();
    let mut s = comps.join(if rng.one_in(5) { "//" } else { "/" });
    if absolute {
        s.insert(0, '/');
    }
    if rng.one_in(5) {
        s.push('/');
    }
    s
}

fn random_config(rng: &mut Rng) -> String {
    let mut deny: Vec<String> = Vec::new();
    for _ in 0..1 + rng.below(4) {
        deny.push(match rng.below(4) {
            0 => rng.pick(&NAMES).to_string(),
            1 => {
                let comps: Vec<&str> = (0..1 + rng.below(4)).map(|_| rng.pick(&COMPONENTS[6..])).collect();
                format!("/{}", comps.join("/"))
            }
            _ => rng.pick(&DENIED).to_string(),
        });
    }
    format!("[mount]\nenable = true\nmode = \"block\"\ndeny = {}\n", list(&deny))
}

fn random_case(rng: &mut Rng) -> Case {
    let class = rng.pick(&[NEW, NEW, BIND, BIND, MOVE, REMOUNT, PROPAGATION]);
    let source = match rng.below(8) {
        0 => rng.pick(&NAMES).to_string(),
        1 => String::new(),
        2 => rng.pick(&DENIED).to_string(),
        3 => random_path(rng, false),
        // too deep or too long for the kernel's buffers
        4 if rng.one_in(4) => {
            match rng.below(3) {
                0 => "/x".repeat(60 + rng.below(10)),
                1 => format!("/{}", "y".repeat(200 + rng.below(320))),
                // around the output's limit, on top of a base
                _ => "y".repeat(490 + rng.below(25)),
            }
        }
        _ => random_path(rng, true),
    };
    let fstype = rng.pick(&["tmpfs", "ext4", "ramfs", "proc", "nfs", ""]).to_string();
    let base =
        if rng.one_in(10) { format!("/deep{}", "/d".repeat(55 + rng.below(12))) } else { rng.pick(&BASES).into() };
    Case { class, source, fstype, base }
}

// ---- the kernel side ----

fn copy(dst: &mut [u8], s: &str) -> u32 {
    let n = s.len().min(dst.len() - 1);
    dst[..n].copy_from_slice(&s.as_bytes()[..n]);
    n as u32
}

fn encode(case: &Case) -> sg_test_mount_case {
    let mut c = sg_test_mount_case::default();
    copy(&mut c.base, &case.base);
    c.source_len = copy(&mut c.source, &case.source);
    c.fstype_len = copy(&mut c.fstype, &case.fstype);
    c.mount_class = case.class;
    c
}

/// The wrapper object with `sg_have_paths` as given, its tables sized for any config
/// here. Verifying it takes seconds under load, so each is loaded once and refilled per
/// config.
fn load(storage: &mut MaybeUninit<libbpf_rs::OpenObject>, have_paths: bool) -> MountDecideSkel<'_> {
    let mut open = MountDecideSkelBuilder::default().open(storage).expect("open mount_decide");
    open.maps.rodata_data.as_deref_mut().expect("rodata").sg_have_paths = u32::from(have_paths);
    open.maps.sg_path_rules.set_max_entries(TABLE_SIZE).expect("size");
    open.maps.mount_names.set_max_entries(TABLE_SIZE).expect("size");
    load_only(open.open_object_mut(), |name| name == "sg_test_mount_judge");
    open.load().expect("load mount_decide")
}

/// Fills the tables of the object that matches `config` (the module's own compiler),
/// runs every case and checks it; then empties the tables again.
fn check_config(skels: &mut [MountDecideSkel<'_>; 2], text: &str, cases: &[Case], tally: &mut Tally) {
    let config = parse(text).mount;
    let mount_rules: Vec<MountRule<'_>> =
        config.deny.iter().map(|e| MountRule { source: &e.value, text: rule_text(&e.text) }).collect();
    // No identities: the string decision uses only the path and name tables.
    let rules = rules::compile(&mount_rules, |_| None);
    assert!(rules.paths.len() as u32 <= TABLE_SIZE && rules.names.len() as u32 <= TABLE_SIZE);
    let skel = &mut skels[usize::from(rules.has_paths())];
    for (key, value) in &rules.paths {
        skel.maps.sg_path_rules.update(bytes_of(key), bytes_of(value), MapFlags::ANY).expect("paths");
    }
    for (key, value) in &rules.names {
        skel.maps.mount_names.update(bytes_of(key), bytes_of(value), MapFlags::ANY).expect("names");
    }

    tally.configs += 1;
    for case in cases {
        skel.maps.bss_data.as_deref_mut().expect("bss").sg_test_mount = encode(case);
        run(&skel.progs.sg_test_mount_judge);
        let out = &skel.maps.bss_data.as_deref().expect("bss").sg_test_mount;
        let rule = match out.rule {
            0 => None,
            UNRESOLVED => Some("<unresolved>".to_string()),
            id => Some(rules.texts.get(id as usize - 1).cloned().unwrap_or_else(|| format!("<unknown id {id}>"))),
        };
        let normalised = (out.as_path != 0 && out.mount_flags & SOURCE_UNRESOLVED == 0 && out.source_path_len > 0)
            .then(|| String::from_utf8_lossy(&out.source_path[..out.source_path_len as usize]).into_owned());
        tally.note(match (&rule, out.as_path != 0) {
            (None, false) => "allowed (no path)",
            (None, true) => "allowed",
            (Some(t), _) if t.starts_with('<') => "unresolved",
            (Some(_), false) => "denied by name",
            (Some(_), true) => "denied by path",
        });
        tally.check((rule, normalised), model(&config, case), || format!("{case:?}\n  config:\n{text}"));
    }

    for (key, _) in &rules.paths {
        skel.maps.sg_path_rules.delete(bytes_of(key)).expect("empty paths");
    }
    for (key, _) in &rules.names {
        skel.maps.mount_names.delete(bytes_of(key)).expect("empty names");
    }
}

fn edge_cases() -> Vec<(String, Vec<Case>)> {
    let case = |class: u32, source: &str, base: &str| Case {
        class,
        source: source.into(),
        fstype: "ext4".into(),
        base: base.into(),
    };
    vec![(
        "[mount]\ndeny = [\"/var/run//docker.sock/\", \"/srv/data\", \"ramfs\", \"server:/export\"]\n".into(),
        vec![
            // `..` and `//` collapse; a trailing '/' changes nothing
            case(BIND, "/var/run/../run/./docker.sock", "/"),
            case(BIND, "/var//run///docker.sock/", "/"),
            case(BIND, "/var/run/docker.sock/../docker.sock/x", "/"),
            case(BIND, "/srv/data/..", "/"),
            case(BIND, "/srv/database", "/"),
            // relative sources against the working directory; absolute ones against
            // the root, where ".." stops
            case(BIND, "data/sub", "/srv"),
            case(BIND, "../../srv/data", "/home/user"),
            case(BIND, "/../../srv/data", "/jail"),
            case(BIND, "/srv/data", "/jail"),
            case(BIND, "../srv/data", "/jail"),
            // ancestors: refused for binds and moves only, and only themselves
            case(BIND, "/var", "/"),
            case(MOVE, "/var/run", "/"),
            case(NEW, "/var/run", "/"),
            case(BIND, "/", "/"),
            case(BIND, "/var/other", "/"),
            // names: a new mount's source or type
            case(NEW, "ramfs", "/"),
            Case { fstype: "ramfs".into(), ..case(NEW, "anything", "/") },
            case(NEW, "server:/export", "/"),
            case(BIND, "ramfs", "/srv"),
            case(REMOUNT, "/srv/data", "/"),
            case(PROPAGATION, "/srv/data", "/"),
            case(NEW, "", "/"),
            // too long or too deep: refused while a path rule exists
            case(BIND, &format!("/{}", "z".repeat(510)), "/"),
            case(BIND, &format!("/{}", "z".repeat(509)), "/"),
            // the output's limit: "/srv" + "/" + 506 bytes leaves no room for the key's '/'
            case(BIND, &"z".repeat(506), "/srv"),
            case(BIND, &"z".repeat(505), "/srv"),
            case(BIND, &"/d".repeat(64), "/"),
            case(BIND, &"/d".repeat(65), "/"),
            case(BIND, &format!("{}/..", "/d".repeat(65)), "/"),
        ],
    )]
}

#[test]
#[ignore = "loads BPF programs (root): tests/host/run.sh"]
fn mount_decisions_match_the_model() {
    let mut rng = Rng::new(seed("mount"));
    let mut tally = Tally::default();
    let (mut without_paths, mut with_paths) = (MaybeUninit::uninit(), MaybeUninit::uninit());
    let mut skels = [load(&mut without_paths, false), load(&mut with_paths, true)];
    for (text, cases) in edge_cases() {
        check_config(&mut skels, &text, &cases, &mut tally);
    }
    for _ in 0..CONFIGS {
        let text = random_config(&mut rng);
        let cases: Vec<Case> = (0..CASES_PER_CONFIG).map(|_| random_case(&mut rng)).collect();
        check_config(&mut skels, &text, &cases, &mut tally);
    }
    tally.finish("mount");
}

#[test]
fn the_model_normalises_as_documented() {
    assert_eq!(normalise("/", "/a//b/./c/../d/").as_deref(), Some("/a/b/d"));
    assert_eq!(normalise("/jail", "/../x").as_deref(), Some("/jail/x"));
    assert_eq!(normalise("/home/u", "../../../x").as_deref(), Some("/x"));
    assert_eq!(normalise("/", &"/d".repeat(65)), None);
}
