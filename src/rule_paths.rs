//! Rule paths as the kernel sees them, shared by every module that has rules on
//! files: a path's identity on this host (device as the kernel encodes it, inode),
//! its key in the longest-prefix path table, the identity pre-filter, the mounts
//! present at start (allow rules reach files only through them), and the text of a
//! rule as records show it.

use std::collections::HashMap;

use crate::bpf::sg;

/// The rule as the log's `rule` field shows it (SPEC: "the rule as written in the
/// config"): a plain string without its quotes, anything else (a table) as written.
pub fn rule_text(text: &str) -> &str {
    let t = text.trim();
    let quoted =
        t.len() >= 2 && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')));
    if quoted {
        &t[1..t.len() - 1]
    } else {
        t
    }
}

/// What the filesystem says about a rule's path at load time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The kernel's encoding of st_dev: (major << 20) | minor.
    pub dev: u32,
    pub ino: u64,
    /// The path with symlinks resolved, when it differs from the rule's.
    pub canonical: String,
}

/// The kernel's key for a rule path: the path and a closing '/' ("/" stays "/").
pub fn path_key(path: &str) -> Option<sg::sg_path_key> {
    let mut bytes = path.as_bytes().to_vec();
    if bytes != b"/" {
        bytes.push(b'/');
    }
    let mut key = sg::sg_path_key::default();
    if bytes.len() > key.path.len() {
        return None;
    }
    key.path[..bytes.len()].copy_from_slice(&bytes);
    key.prefixlen = (bytes.len() * 8) as u32;
    Some(key)
}

/// Identity of a path on this machine as the kernel's inode has it: stat (following
/// symlinks) and realpath, corrected inside overlayfs and /proc/sys (`pinned_identity`).
pub fn identify_on_host(path: &str) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    let canonical = std::fs::canonicalize(path).ok()?.to_string_lossy().into_owned();
    let identity = Identity { dev: kernel_dev(meta.dev()), ino: meta.ino(), canonical };
    // overlayfs and procfs, like every virtual filesystem, have an anonymous device
    if libc::major(meta.dev()) != 0 {
        return Some(identity);
    }
    Some(pinned_identity(path).unwrap_or(identity))
}

/// Where stat(2) does not give the kernel inode's identity for good. procfs numbers a
/// /proc/sys inode from a counter each time it builds it, and so does overlayfs a
/// directory where its layers are on more than one filesystem and `xino` is off
/// (Debian's default): after the kernel evicted the inode (memory pressure,
/// drop_caches) it comes back with a new number. There also a file's st_dev is a
/// pseudo device of its layer while its inode has the overlay's s_dev. So the identity
/// of an overlay's non-directory takes the device of the mount (mountinfo), and the
/// path stays open (O_PATH, `pin`): an open dentry and its ancestors are never
/// evicted, so the numbers of the directories on the way keep what stat said, and so
/// does the parent identity by which the rule follows its name. None: on another
/// filesystem (or it could not be opened).
fn pinned_identity(path: &str) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let (file, fs_type) = open_path(path)?;
    if fs_type != libc::OVERLAYFS_SUPER_MAGIC && fs_type != libc::PROC_SUPER_MAGIC {
        return None;
    }
    // what was opened, not what the path names now
    let meta = file.metadata().ok()?;
    let canonical = std::fs::canonicalize(path).ok()?.to_string_lossy().into_owned();
    let mut identity = Identity { dev: kernel_dev(meta.dev()), ino: meta.ino(), canonical };
    if fs_type == libc::OVERLAYFS_SUPER_MAGIC && !meta.is_dir() {
        identity.dev = mount_dev(&file)?;
    }
    pin(&identity, file);
    Some(identity)
}

/// `path` opened with O_PATH (the file itself is not opened: no FIFO blocks, no device
/// is opened) and its filesystem's type (statfs f_type).
fn open_path(path: &str) -> Option<(std::fs::File, libc::__fsword_t)> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_PATH).open(path).ok()?;
    let mut fs = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: fstatfs fills the buffer it is given when it returns 0.
    if unsafe { libc::fstatfs(file.as_raw_fd(), fs.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstatfs returned 0.
    let fs_type = unsafe { fs.assume_init() }.f_type;
    Some((file, fs_type))
}

/// The s_dev (kernel encoding) of the mount an open file is on.
fn mount_dev(file: &std::fs::File) -> Option<u32> {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let id = mount_id(file)?;
    parse_mountinfo(&mounts).into_iter().find(|m| m.id == id).map(|m| m.dev)
}

/// The id of the mount an open file is on (/proc/self/fdinfo's mnt_id), as mountinfo
/// numbers mounts.
fn mount_id(file: &std::fs::File) -> Option<u32> {
    use std::os::unix::io::AsRawFd;
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", file.as_raw_fd())).ok()?;
    info.lines().find_map(|line| line.strip_prefix("mnt_id:"))?.trim().parse().ok()
}

/// The same file or directory as `path` in each layer of the overlayfs mount that
/// `path` is inside of, where it exists there: the upper layer and every lower one
/// (a file a higher layer hides too). A rule naming a path inside an overlay holds on
/// these as well, so that the layer directories do not read or run what the overlay
/// refuses. The layers are the absolute paths of the mount's lowerdir= and upperdir=
/// options as mountinfo shows them, reached from this mount namespace; a layer given
/// by a relative path, or not visible here, is left out. Empty when `path` is not
/// inside an overlay.
pub fn overlay_layer_paths(path: &str) -> Vec<String> {
    overlay_layers_of(path).unwrap_or_default()
}

fn overlay_layers_of(path: &str) -> Option<Vec<String>> {
    let (file, fs_type) = open_path(path)?;
    if fs_type != libc::OVERLAYFS_SUPER_MAGIC {
        return None;
    }
    let id = mount_id(&file)?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let line = mounts.lines().find(|line| line.split(' ').next() == Some(id.to_string().as_str()))?;
    let canonical = std::fs::canonicalize(path).ok()?.to_string_lossy().into_owned();
    let within = overlay_relative(line, &canonical)?;
    Some(
        overlay_layers(line)
            .into_iter()
            .map(|layer| format!("{}{within}", layer.trim_end_matches('/')))
            .filter(|candidate| std::fs::symlink_metadata(candidate).is_ok())
            .collect(),
    )
}

/// `canonical`'s path inside the overlay's filesystem ("" for its root, else starting
/// with '/'), from its mountinfo line: the mount's root (a bind mount of a directory
/// of the overlay) and mount point.
fn overlay_relative(line: &str, canonical: &str) -> Option<String> {
    let mut fields = line.split(' ');
    let root = unescape_mount_field(fields.nth(3)?);
    let mount_point = unescape_mount_field(fields.next()?);
    let below = if mount_point == "/" {
        canonical
    } else {
        let rest = canonical.strip_prefix(mount_point.as_str())?;
        if !rest.is_empty() && !rest.starts_with('/') {
            return None;
        }
        rest
    };
    Some(format!("{}{below}", root.trim_end_matches('/')).trim_end_matches('/').to_string())
}

/// The absolute layer directories of an overlay's mountinfo line: upperdir= and each
/// lowerdir= (':' separates lower layers, "::" data-only ones; 6.7+ may show
/// lowerdir+= and datadir+= one layer each).
fn overlay_layers(line: &str) -> Vec<String> {
    let mut layers = Vec::new();
    for (name, value) in overlay_options(line) {
        match name {
            "upperdir" | "lowerdir+" | "datadir+" => layers.push(value),
            "lowerdir" => layers.extend(split_lowerdir(&value)),
            _ => {}
        }
    }
    layers.retain(|layer| layer.starts_with('/'));
    layers
}

/// The (name, unescaped value) options of a mountinfo line of an overlayfs mount;
/// none for another filesystem.
fn overlay_options(line: &str) -> impl Iterator<Item = (&str, String)> {
    let after = line.split_once(" - ").map_or("", |(_, after)| after);
    let mut fields = after.split(' ');
    let options = if fields.next() == Some("overlay") { fields.nth(1).unwrap_or("") } else { "" };
    options
        .split(',')
        .filter_map(|option| option.split_once('='))
        .map(|(name, value)| (name, unescape_mount_field(value)))
}

/// overlayfs's own directories in the workdir= of each overlay mount in `mountinfo`
/// (absolute paths only): `work`, where it makes a file before renaming it into the
/// upper layer and moves one it removes (exchanged with a whiteout), and `index`.
/// Only overlayfs reaches them through an overlay; the link and rename guards of the
/// file and process modules tell its own moves there from a process's by these.
pub fn overlay_work_dir_paths(mountinfo: &str) -> Vec<String> {
    let mut dirs = Vec::new();
    for line in mountinfo.lines() {
        for (name, value) in overlay_options(line) {
            if name == "workdir" && value.starts_with('/') {
                let base = value.trim_end_matches('/');
                dirs.extend(["work", "index"].map(|dir| format!("{base}/{dir}")));
            }
        }
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

/// The identities of overlay_work_dir_paths that exist now (the agent's mount
/// namespace at load: an overlay mounted later is not among them, README, overlayfs).
pub fn overlay_work_dirs() -> Vec<sg::sg_inode_key> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    overlay_work_dir_paths(&mountinfo)
        .iter()
        .filter_map(|dir| identify_on_host(dir))
        .map(|id| sg::sg_inode_key { dev: id.dev, ino: id.ino, ..Default::default() })
        .collect()
}

/// lowerdir's layers: split at ':' not escaped by '\' ("\:" is a ':' in a name).
fn split_lowerdir(value: &str) -> Vec<String> {
    let mut layers = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => layers.last_mut().into_iter().for_each(|l| l.extend(chars.next())),
            ':' => layers.push(String::new()),
            c => layers.last_mut().into_iter().for_each(|l| l.push(c)),
        }
    }
    layers.retain(|layer| !layer.is_empty());
    layers
}

/// The rule paths inside overlayfs mounts and /proc that the agent keeps open, by
/// identity, for as long as it runs (a reload pins again what it names; what it no
/// longer names stays open, within the budget). A plain umount of such an overlay fails with EBUSY
/// while the agent runs (README, File rules, overlayfs).
static PINS: std::sync::Mutex<std::collections::BTreeMap<(u32, u64), std::fs::File>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// At most this many pins, and never more than a quarter of the open-file limit.
const MAX_PINS: usize = 65_536;

fn pin(identity: &Identity, file: std::fs::File) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let Ok(mut pins) = PINS.lock() else { return };
    let key = (identity.dev, identity.ino);
    if pins.contains_key(&key) {
        return;
    }
    if pins.len() >= MAX_PINS.min(open_file_limit() / 4) {
        if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            log::warn!(
                "{} rule paths inside overlayfs mounts and /proc are kept open, no more: rules \
                 naming directories there may stop matching once the kernel evicts them \
                 (README, File rules, overlayfs)",
                pins.len()
            );
        }
        return;
    }
    pins.insert(key, file);
}

/// The soft RLIMIT_NOFILE.
fn open_file_limit() -> usize {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit fills the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
}

/// Raises the soft open-file limit to the hard one (the agent keeps overlay rule paths
/// open, `pin`); called once at start.
pub fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// st_dev as the kernel's `s_dev`: (major << 20) | minor.
pub fn kernel_dev(st_dev: u64) -> u32 {
    let major = libc::major(st_dev);
    let minor = libc::minor(st_dev);
    (major << 20) | minor
}

/// A line of /proc/self/mountinfo, the fields the mount snapshot needs.
#[derive(Debug, PartialEq, Eq)]
pub struct MountLine {
    pub id: u32,
    pub parent: u32,
    /// The filesystem's `s_dev` in the kernel's encoding.
    pub dev: u32,
    pub mount_point: String,
}

/// Parses /proc/self/mountinfo ("36 35 98:0 /root /mnt opts ... - type source opts");
/// lines that do not parse are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountLine> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let id = fields.next()?.parse().ok()?;
            let parent = fields.next()?.parse().ok()?;
            let (major, minor) = fields.next()?.split_once(':')?;
            let dev = (major.parse::<u32>().ok()? << 20) | minor.parse::<u32>().ok()?;
            let _root = fields.next()?;
            let mount_point = unescape_mount_field(fields.next()?);
            Some(MountLine { id, parent, dev, mount_point })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mount_field(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let digits =
            bytes.get(i + 1..i + 4).filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match digits {
            Some(d) => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8).wrapping_add(c - b'0')));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Directory entries `other_links` reads at most: a host's whole root filesystem is
/// read only when a denied file has other names, and then within this bound.
const LINK_WALK_BUDGET: usize = 500_000;

/// What `other_links` found.
pub struct OtherLinks {
    /// Paths of the file other than `canonical`, through every mount of its filesystem.
    pub names: Vec<String>,
    /// All the file's names were found: false when the budget ran out, a name is not
    /// UTF-8 (rule paths are), or some are not reachable through this namespace's mounts.
    pub complete: bool,
    /// Directory entries read.
    pub read: usize,
}

/// The other names (hard links) of the file `canonical` (st_dev, ino, with `links`
/// names): a walk of each mount of its filesystem in this mount namespace, never
/// following a symlink or crossing into another filesystem, that stops at a mount once
/// it has seen all `links` names there.
pub fn other_links(canonical: &str, st_dev: u64, ino: u64, links: u64) -> OtherLinks {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return OtherLinks { names: Vec::new(), complete: false, read: 0 };
    };
    let dev = kernel_dev(st_dev);
    let mounts: Vec<String> =
        parse_mountinfo(&text).into_iter().filter(|m| m.dev == dev).map(|m| m.mount_point).collect();
    links_below(&mounts, canonical, (st_dev, ino, links), LINK_WALK_BUDGET)
}

/// `other_links` below the given directories (the file: st_dev, ino, link count).
fn links_below(roots: &[String], canonical: &str, file: (u64, u64, u64), budget: usize) -> OtherLinks {
    use std::os::unix::fs::{DirEntryExt, MetadataExt};
    let (st_dev, ino, links) = file;
    let mut out = OtherLinks { names: Vec::new(), complete: true, read: 0 };
    'roots: for root in roots {
        let mut seen = 0u64;
        let mut queue = std::collections::VecDeque::from([std::path::PathBuf::from(root)]);
        while let Some(dir) = queue.pop_front() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                out.read += 1;
                if out.read > budget {
                    out.complete = false;
                    break 'roots;
                }
                // stat only directories (a mount point shows another filesystem) and
                // entries with the file's inode number
                let Ok(kind) = entry.file_type() else { continue };
                if !kind.is_dir() && entry.ino() != ino {
                    continue;
                }
                let Ok(meta) = entry.metadata() else { continue };
                if meta.dev() != st_dev {
                    continue;
                }
                if kind.is_dir() {
                    queue.push_back(entry.path());
                } else if meta.ino() == ino {
                    seen += 1;
                    match entry.path().to_str() {
                        Some(name) if name == canonical => {}
                        Some(name) => out.names.push(name.to_string()),
                        None => out.complete = false,
                    }
                }
            }
            if seen >= links {
                break;
            }
        }
    }
    out.names.sort();
    out.names.dedup();
    // fewer names than links: the others are where this namespace cannot see them
    if (out.names.len() as u64) + 1 < links {
        out.complete = false;
    }
    out
}

/// The mounts of this mount namespace now, as the kernel's `sg_mounts` keys: the
/// identity of each mount's root and of the directory it covers (0, 0 for a mount on
/// the namespace's root directory). Allow rules reach files only through these
/// (bpf/common.bpf.h, `sg_mount_check`). Mounts covered by another mount on the same
/// place, or whose covered directory cannot be read, are left out: their files lose
/// the allow rules above them, never gain one.
pub fn mounts_now() -> Vec<sg::sg_mount_key> {
    use std::os::unix::fs::MetadataExt;
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else { return Vec::new() };
    mount_keys(&parse_mountinfo(&text), |path| std::fs::metadata(path).ok().map(|m| m.ino()), covered_ino)
}

/// The inode number of the directory entry `path` as its parent directory lists it:
/// the directory a mount on `path` covers (stat would show the mount's root).
fn covered_ino(path: &str) -> Option<u64> {
    use std::os::unix::fs::DirEntryExt;
    let (dir, name) = path.rsplit_once('/')?;
    let dir = if dir.is_empty() { "/" } else { dir };
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|e| e.file_name().as_encoded_bytes() == name.as_bytes())
        .map(|e| e.ino())
}

/// `mounts_now` on given lines; `root_ino` stats a mount point (the mount's root),
/// `covered_ino` reads the covered directory's entry (parameters so that tests need no
/// filesystem).
pub fn mount_keys(
    lines: &[MountLine],
    root_ino: impl Fn(&str) -> Option<u64>,
    covered_ino: impl Fn(&str) -> Option<u64>,
) -> Vec<sg::sg_mount_key> {
    let by_id: HashMap<u32, &MountLine> = lines.iter().map(|m| (m.id, m)).collect();
    let is_top = |m: &MountLine| m.parent == m.id || !by_id.contains_key(&m.parent);
    let mut keys = Vec::new();
    for m in lines {
        let Some(parent) = by_id.get(&m.parent).filter(|_| !is_top(m)) else { continue };
        if lines.iter().any(|o| o.parent == m.id && o.mount_point == m.mount_point) {
            continue; // covered by a mount on the same place: stat would show that one
        }
        let Some(ino) = root_ino(&m.mount_point) else { continue };
        let mut key = sg::sg_mount_key { root_ino: ino, root_dev: m.dev, ..Default::default() };
        if m.mount_point == "/" {
            if !is_top(parent) {
                continue; // on another mount's root at "/": not walked that way
            }
        } else {
            let Some(covered) = covered_ino(&m.mount_point) else { continue };
            key.mp_ino = covered;
            key.mp_dev = parent.dev;
        }
        keys.push(key);
    }
    keys
}

/// The kernel's pre-filter of identities (`inode_filter` in bpf/file.bpf.c): one byte
/// per hash of the inode number (the device is read only past a set slot), 65,536
/// slots; the kernel sets slots too. After them the kernel keeps the host's namespace
/// root mount and its root directory (`sg_known_root`, 8 bytes each): the agent writes 0.
pub const FILTER_SLOTS: usize = 65536;
const FILTER_BYTES: usize = FILTER_SLOTS + 16;

pub fn filter_hash(ino: u64) -> u32 {
    (ino.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as u32
}

pub fn inode_filter(inodes: &[(sg::sg_inode_key, sg::sg_match)]) -> Vec<u8> {
    let mut slots = vec![0u8; FILTER_BYTES];
    for (key, _) in inodes {
        slots[filter_hash(key.ino) as usize % FILTER_SLOTS] = 1;
    }
    slots
}

/// The address of a kernel (not a module's) symbol in `/proc/kallsyms` text; 0 where it is
/// absent or hidden (`kptr_restrict` prints zeros).
pub fn kallsyms_address(text: impl std::io::BufRead, name: &str) -> u64 {
    text.lines()
        .map_while(Result::ok)
        .find_map(|line| {
            let mut parts = line.split_whitespace();
            let (addr, _kind, sym) = (parts.next()?, parts.next()?, parts.next()?);
            (sym == name && parts.next().is_none()).then(|| u64::from_str_radix(addr, 16).unwrap_or(0))
        })
        .unwrap_or(0)
}

/// `init_nsproxy`'s address, for the file module's `sg_known_root` (`sg_init_nsproxy`): 0
/// where it cannot be read, and the walks then tell the host's root like any other top.
pub fn init_nsproxy_address() -> u64 {
    std::fs::File::open("/proc/kallsyms")
        .map(|file| kallsyms_address(std::io::BufReader::new(file), "init_nsproxy"))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_symbol_is_found_by_its_whole_name() {
        let text = "ffffffff81000000 T _stext\nffffffff82a1b2c0 D init_nsproxy_x\nffffffffc0001000 d init_nsproxy\t[mod]\nffffffff82a1b2e0 D init_nsproxy\n";
        assert_eq!(kallsyms_address(text.as_bytes(), "init_nsproxy"), 0xffff_ffff_82a1_b2e0);
        assert_eq!(kallsyms_address(text.as_bytes(), "init_task"), 0);
        assert_eq!(kallsyms_address("0000000000000000 D init_nsproxy\n".as_bytes(), "init_nsproxy"), 0);
    }

    fn key_text(key: &sg::sg_path_key) -> String {
        String::from_utf8_lossy(&key.path[..(key.prefixlen / 8) as usize]).into_owned()
    }

    #[test]
    fn the_other_names_of_a_file_are_found_without_following_symlinks() {
        use std::os::unix::fs::MetadataExt;
        let dir = std::env::temp_dir().join(format!("sg-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        let file = dir.join("denied.sock");
        std::fs::write(&file, "x").unwrap();
        std::fs::hard_link(&file, dir.join("a/b/link")).unwrap();
        std::fs::hard_link(&file, dir.join("a/other")).unwrap();
        std::os::unix::fs::symlink(&file, dir.join("a/symlink")).unwrap();
        std::fs::write(dir.join("a/b/unrelated"), "y").unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        let canonical = file.to_str().unwrap();
        let root = [dir.to_str().unwrap().to_string()];
        let found = links_below(&root, canonical, (meta.dev(), meta.ino(), meta.nlink()), 1000);
        let want: Vec<String> = ["a/b/link", "a/other"].iter().map(|n| dir.join(n).to_str().unwrap().into()).collect();
        assert_eq!(found.names, want);
        assert!(found.complete);
        // a budget too small for the walk: what was found, and incomplete
        let cut = links_below(&root, canonical, (meta.dev(), meta.ino(), meta.nlink()), 2);
        assert!(!cut.complete && cut.names.len() < 2);
        // a link the walk cannot reach (outside the roots): incomplete
        let only_b = [dir.join("a/b").to_str().unwrap().to_string()];
        let part = links_below(&only_b, canonical, (meta.dev(), meta.ino(), meta.nlink()), 1000);
        assert_eq!(part.names, [dir.join("a/b/link").to_str().unwrap()]);
        assert!(!part.complete);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rule_text_drops_the_quotes_of_plain_strings_only() {
        assert_eq!(rule_text("\"/usr/bin/nc\""), "/usr/bin/nc");
        assert_eq!(rule_text("'10.0.0.0/8'"), "10.0.0.0/8");
        assert_eq!(rule_text("{ path = \"/x\" }"), "{ path = \"/x\" }");
        assert_eq!(rule_text(" \"/a\" "), "/a");
    }

    #[test]
    fn keys_end_on_a_component_boundary() {
        assert_eq!(key_text(&path_key("/usr/bin").unwrap()), "/usr/bin/");
        assert_eq!(key_text(&path_key("/").unwrap()), "/");
        assert!(path_key(&format!("/{}", "a".repeat(255))).is_none());
        assert!(path_key(&format!("/{}", "a".repeat(254))).is_some());
    }

    #[test]
    fn overlay_layers_come_from_the_mount_options() {
        let line = "61 28 0:45 / /mnt/o rw,relatime shared:33 - overlay none \
                    rw,lowerdir=/l/one:/l/t\\:wo::/l/data,upperdir=/u/up,workdir=/u/work,uuid=on";
        assert_eq!(overlay_layers(line), ["/l/one", "/l/t:wo", "/l/data", "/u/up"]);
        let relative = "61 28 0:45 / /mnt/o rw - overlay none rw,lowerdir=l/ABC:l/DEF,upperdir=/u/up,workdir=/u/w";
        assert_eq!(overlay_layers(relative), ["/u/up"]);
        let added = "61 28 0:45 / /mnt/o rw - overlay none rw,lowerdir+=/l/a,lowerdir+=/l/b,datadir+=/d,upperdir=/u";
        assert_eq!(overlay_layers(added), ["/l/a", "/l/b", "/d", "/u"]);
        let not_overlay = "62 28 0:46 / /mnt/x rw - tmpfs tmpfs rw,upperdir=/u";
        assert!(overlay_layers(not_overlay).is_empty());
    }

    #[test]
    fn overlay_work_dirs_come_from_workdir_options() {
        let mountinfo = [
            r"61 28 0:45 / /mnt/o rw - overlay none rw,lowerdir=/l,upperdir=/u/up,workdir=/u/w\040x/",
            "62 28 0:46 / /mnt/p rw - overlay none rw,lowerdir=/l,upperdir=u,workdir=rel",
            "63 28 0:47 / /mnt/q rw - tmpfs tmpfs rw,workdir=/not",
            r"64 28 0:45 / /mnt/r rw - overlay none rw,lowerdir=/l,upperdir=/u/up,workdir=/u/w\040x",
        ]
        .join("\n");
        assert_eq!(overlay_work_dir_paths(&mountinfo), ["/u/w x/index", "/u/w x/work"]);
    }

    #[test]
    fn a_path_inside_an_overlay_is_taken_relative_to_its_root() {
        let line = "61 28 0:45 / /mnt/o rw - overlay none rw,upperdir=/u";
        assert_eq!(overlay_relative(line, "/mnt/o/a/b").as_deref(), Some("/a/b"));
        assert_eq!(overlay_relative(line, "/mnt/o").as_deref(), Some(""));
        assert_eq!(overlay_relative(line, "/mnt/other"), None);
        // a bind mount of the overlay's directory /sub on /srv/b
        let bind = "62 28 0:45 /sub /srv/b rw - overlay none rw,upperdir=/u";
        assert_eq!(overlay_relative(bind, "/srv/b/k").as_deref(), Some("/sub/k"));
        let root = "1 1 0:45 / / rw - overlay overlay rw,upperdir=/media/root-rw/overlay";
        assert_eq!(overlay_relative(root, "/etc/shadow").as_deref(), Some("/etc/shadow"));
    }

    #[test]
    fn kernel_dev_encoding() {
        // makedev(8, 1) is /dev/sda1; the kernel keeps it as (8 << 20) | 1.
        assert_eq!(kernel_dev(libc::makedev(8, 1)), (8 << 20) | 1);
        assert_eq!(kernel_dev(libc::makedev(259, 3)), (259 << 20) | 3);
    }
    #[test]
    fn mountinfo_parses_and_unescapes() {
        let text = "1 1 0:2 / / rw - rootfs rootfs rw\n\
                    22 1 0:21 / /proc rw - proc proc rw\n\
                    30 22 0:30 / /proc/a\\040b rw - tmpfs none rw\n\
                    garbage\n";
        let lines = parse_mountinfo(text);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2], MountLine { id: 30, parent: 22, dev: 30, mount_point: "/proc/a b".into() });
        assert_eq!(lines[1].dev, 21);
    }

    #[test]
    fn mount_keys_pair_root_and_covered_directory() {
        let line = |id, parent, dev, mp: &str| MountLine { id, parent, dev, mount_point: mp.into() };
        let lines = [
            line(1, 0, 2, "/"),              // the namespace's root (parent not listed)
            line(20, 1, (8 << 20) | 1, "/"), // the real root, over rootfs
            line(21, 20, 5, "/tmp"),
            line(22, 20, 6, "/mnt"), // covered by 23
            line(23, 22, 7, "/mnt"),
        ];
        let keys = mount_keys(&lines, |p| Some(if p == "/" { 2 } else { 100 }), |p| (p == "/tmp").then_some(55));
        let got: Vec<_> = keys.iter().map(|k| (k.root_dev, k.root_ino, k.mp_dev, k.mp_ino)).collect();
        // 22 is covered; 23's covered directory is 22's root, which readdir cannot show.
        assert_eq!(got, [((8 << 20) | 1, 2, 0, 0), (5, 100, (8 << 20) | 1, 55)]);
    }
    #[test]
    fn the_filter_has_a_slot_for_every_identity() {
        let inodes: Vec<_> = (1..500u64)
            .map(|ino| (sg::sg_inode_key { ino, dev: 8 << 20, ..Default::default() }, sg::sg_match::default()))
            .collect();
        let slots = inode_filter(&inodes);
        assert_eq!(slots.len(), FILTER_BYTES);
        assert!(slots[FILTER_SLOTS..].iter().all(|&b| b == 0), "the host root is the kernel's to set");
        for (key, _) in &inodes {
            assert_eq!(slots[filter_hash(key.ino) as usize], 1);
        }
        let set = slots.iter().filter(|&&s| s != 0).count();
        assert!(set > 450, "hashes spread: {set} slots for 499 identities");
    }
}
