//! `[agent] persist` (SPEC section 7): the pins that keep enforcement in place when the
//! agent exits, their adoption by the next agent, and `safeguard unload`.
//!
//! Layout: `/sys/fs/bpf/safeguard/<instance>/` per module instance, where `<instance>`
//! is `<module>_<pid>_<seq>_<policy hash>_<version>`; in it `link_<program>` (these
//! keep the programs attached), `prog_<program>` and `map_<map>`. bpffs refuses names
//! with a dot (EPERM: reserved for the kernel), so dots become `-` (version) or `_`. The policy hash is
//! that of the module's config section: an adopting agent tells from it whether the
//! pinned policy is the one it loads, and the version whether it may decode the
//! records left in the pinned ring buffer. The name is the metadata: bpffs holds no
//! regular files, and a name is visible to an administrator's `ls`.
//!
//! One agent at a time: the agent holds an exclusive `flock` on the pin directory for
//! its lifetime (the kernel drops it with the process, SIGKILL included), so a second
//! agent, or `unload`, cannot take the pins from under a running one.

use std::collections::HashSet;
use std::ffi::CString;
use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};

pub const BPF_FS: &str = "/sys/fs/bpf";
pub const PIN_ROOT: &str = "/sys/fs/bpf/safeguard";
/// `BPF_FS_MAGIC` (include/uapi/linux/magic.h).
const BPF_FS_MAGIC: u32 = 0xcafe_4a11;

/// What the agent holds while it may pin or adopt: the lock on the pin directory.
pub struct Persist {
    pub root: PathBuf,
    /// `[agent] persist`: pin this agent's instances. Off, an agent still adopts (and so
    /// removes) pins it finds: that is how persist is switched off with no gap.
    pub pin: bool,
    /// bpffs was not mounted on /sys/fs/bpf and the agent mounted it.
    pub mounted_bpffs: bool,
    _lock: File,
}

/// Instance directories this process made: a reload's old instance is stopped by the
/// agent itself, never adopted.
static OURS: Mutex<Option<HashSet<String>>> = Mutex::new(None);
static SEQ: AtomicU64 = AtomicU64::new(0);

/// Prepares pinning (`pin`) or adoption: mounts bpffs where it is missing, makes the
/// pin directory and takes its lock. None: persist is off and nothing is pinned.
pub fn open(pin: bool) -> anyhow::Result<Option<Persist>> {
    let root = PathBuf::from(PIN_ROOT);
    if !pin && !root.is_dir() {
        return Ok(None);
    }
    let mounted_bpffs = ensure_bpffs()?;
    if pin && !root.is_dir() {
        fs::DirBuilder::new().mode(0o700).create(&root).with_context(|| format!("persist: create {PIN_ROOT}"))?;
    }
    let lock = lock(&root)?.with_context(|| {
        format!("persist: another safeguard agent is running (it holds the lock on {PIN_ROOT}); stop it first")
    })?;
    Ok(Some(Persist { root, pin, mounted_bpffs, _lock: lock }))
}

/// The exclusive lock on `root`; None when another process holds it.
fn lock(root: &Path) -> anyhow::Result<Option<File>> {
    let dir = File::open(root).with_context(|| format!("persist: open {}", root.display()))?;
    // SAFETY: flock on a descriptor we own; no memory is passed.
    let rc = unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(Some(dir));
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        return Ok(None);
    }
    Err(err).with_context(|| format!("persist: lock {}", root.display()))
}

/// Mounts bpffs on /sys/fs/bpf unless it is there; true when this call mounted it.
pub fn ensure_bpffs() -> anyhow::Result<bool> {
    if is_bpffs(Path::new(BPF_FS)) {
        return Ok(false);
    }
    let cstr = |s: &str| CString::new(s).context("persist: mount arguments");
    let (source, target, fstype, options) = (cstr("bpf")?, cstr(BPF_FS)?, cstr("bpf")?, cstr("mode=0700")?);
    // SAFETY: all pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::mount(source.as_ptr(), target.as_ptr(), fstype.as_ptr(), 0, options.as_ptr().cast::<libc::c_void>())
    };
    if rc != 0 {
        return Err(io::Error::last_os_error()).with_context(|| format!("persist: mount bpffs on {BPF_FS}"));
    }
    Ok(true)
}

fn is_bpffs(path: &Path) -> bool {
    let Ok(cpath) = CString::new(path.as_os_str().as_encoded_bytes()) else { return false };
    let mut stat = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: a valid NUL-terminated path and a buffer of the size statfs writes.
    let rc = unsafe { libc::statfs(cpath.as_ptr(), stat.as_mut_ptr()) };
    // SAFETY: statfs filled the buffer when it returned 0.
    rc == 0 && unsafe { stat.assume_init() }.f_type as u32 == BPF_FS_MAGIC
}

/// FNV-1a, 64 bits: a stable hash of a module's config section across runs (std's
/// hasher is randomly keyed per process).
pub fn policy_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// A pinned instance's directory and what its name says.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InstanceName {
    pub module: String,
    pub pid: u32,
    pub policy: u64,
    pub version: String,
}

impl InstanceName {
    pub fn parse(name: &str) -> Option<InstanceName> {
        let mut parts = name.splitn(5, '_');
        let module = parts.next()?.to_string();
        let pid = parts.next()?.parse().ok()?;
        let _seq: u64 = parts.next()?.parse().ok()?;
        let policy = u64::from_str_radix(parts.next()?, 16).ok()?;
        let version = parts.next()?.to_string();
        Some(InstanceName { module, pid, policy, version })
    }
}

/// The directory of a new instance of `module` (made, empty).
pub fn new_instance_dir(root: &Path, module: &str, policy: u64) -> anyhow::Result<PathBuf> {
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let name = format!("{module}_{}_{seq}_{policy:016x}_{}", std::process::id(), version_tag());
    let dir = root.join(&name);
    fs::DirBuilder::new().mode(0o700).create(&dir).with_context(|| format!("{module}: create {}", dir.display()))?;
    if let Ok(mut ours) = OURS.lock() {
        ours.get_or_insert_with(HashSet::new).insert(name);
    }
    Ok(dir)
}

/// This version as it appears in instance names.
pub fn version_tag() -> String {
    env!("CARGO_PKG_VERSION").replace('.', "-")
}

/// A pin's file name: bpffs refuses dots.
pub fn pin_name(kind: &str, name: &str) -> String {
    format!("{kind}_{}", name.replace('.', "_"))
}

/// Pinned instances of `module` left by another agent, oldest first.
pub fn left_behind(root: &Path, module: &str) -> Vec<(PathBuf, InstanceName, SystemTime)> {
    let ours = OURS.lock().ok().and_then(|ours| ours.clone()).unwrap_or_default();
    let Ok(entries) = fs::read_dir(root) else { return Vec::new() };
    let mut found: Vec<(PathBuf, InstanceName, SystemTime)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_string();
            let parsed = InstanceName::parse(&name).filter(|parsed| parsed.module == module)?;
            if ours.contains(&name) {
                return None;
            }
            let pinned_at = entry.metadata().ok().map_or(SystemTime::UNIX_EPOCH, |m| ctime(&m));
            Some((entry.path(), parsed, pinned_at))
        })
        .collect();
    found.sort_by_key(|(_, _, at)| *at);
    found
}

/// Pinned instances of another agent whose module is not in `running`: a module the
/// config turns off (or that this version lacks) adopts nothing, and its pins would keep
/// enforcing an old policy until `safeguard unload`.
pub fn orphans(root: &Path, running: &[&str]) -> Vec<(PathBuf, InstanceName)> {
    let ours = OURS.lock().ok().and_then(|ours| ours.clone()).unwrap_or_default();
    let Ok(entries) = fs::read_dir(root) else { return Vec::new() };
    let mut found: Vec<(PathBuf, InstanceName)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_string();
            let parsed = InstanceName::parse(&name)?;
            let orphan = !ours.contains(&name) && !running.contains(&parsed.module.as_str());
            orphan.then(|| (entry.path(), parsed))
        })
        .collect();
    found.sort();
    found
}

fn ctime(meta: &fs::Metadata) -> SystemTime {
    let secs = u64::try_from(meta.ctime()).unwrap_or(0);
    let nanos = u32::try_from(meta.ctime_nsec()).unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
}

/// Removes the link pins of an instance directory: the kernel then detaches the
/// programs (no process holds their links any more). Returns how many went.
pub fn remove_links(dir: &Path) -> anyhow::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let entry = entry.with_context(|| format!("read {}", dir.display()))?;
        if entry.file_name().as_encoded_bytes().starts_with(b"link_") {
            fs::remove_file(entry.path()).with_context(|| format!("remove {}", entry.path().display()))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes an instance directory: its links first (so nothing enforces half a
/// policy with its maps gone), then programs and maps.
pub fn remove_instance(dir: &Path) -> anyhow::Result<()> {
    remove_links(dir)?;
    for entry in fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let entry = entry.with_context(|| format!("read {}", dir.display()))?;
        fs::remove_file(entry.path()).with_context(|| format!("remove {}", entry.path().display()))?;
    }
    fs::remove_dir(dir).with_context(|| format!("remove {}", dir.display()))
}

/// Removes an instance directory and returns once the kernel has freed its programs
/// (an RCU grace period after the last link went): its policy has ended then.
pub fn remove_instance_and_wait(dir: &Path) -> anyhow::Result<()> {
    let programs = program_ids(dir);
    remove_instance(dir)?;
    wait_released(&programs);
    Ok(())
}

/// `safeguard unload`: detaches and removes everything pinned, then the directory.
/// Refused while an agent runs (it holds the lock): stop it first. Returns the
/// instances removed.
pub fn unload() -> anyhow::Result<Vec<String>> {
    let root = Path::new(PIN_ROOT);
    if !root.is_dir() {
        return Ok(Vec::new());
    }
    let Some(_lock) = lock(root)? else {
        bail!(
            "a safeguard agent is running (it holds the lock on {PIN_ROOT}): stop it first \
             (systemctl stop safeguard), then unload"
        );
    };
    let mut names: Vec<PathBuf> = fs::read_dir(root)
        .with_context(|| format!("read {PIN_ROOT}"))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    names.sort();
    let programs: Vec<u32> = names.iter().filter(|dir| dir.is_dir()).flat_map(|dir| program_ids(dir)).collect();
    // Every instance's links first: no module keeps enforcing while another's go.
    for dir in names.iter().filter(|dir| dir.is_dir()) {
        remove_links(dir)?;
    }
    let mut removed = Vec::new();
    for path in &names {
        if path.is_dir() {
            remove_instance(path)?;
        } else {
            fs::remove_file(path).with_context(|| format!("remove {}", path.display()))?;
        }
        removed.push(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    }
    fs::remove_dir(root).with_context(|| format!("remove {PIN_ROOT}"))?;
    wait_released(&programs);
    Ok(removed)
}

/// The ids of the programs pinned in an instance directory.
fn program_ids(dir: &Path) -> Vec<u32> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().as_encoded_bytes().starts_with(b"prog_"))
        .filter_map(|entry| pinned_program_id(&entry.path()))
        .collect()
}

fn pinned_program_id(path: &Path) -> Option<u32> {
    use libbpf_rs::libbpf_sys;
    let cpath = CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: a valid NUL-terminated path; the descriptor is closed below.
    let fd = unsafe { libbpf_sys::bpf_obj_get(cpath.as_ptr()) };
    if fd < 0 {
        return None;
    }
    let mut info = libbpf_sys::bpf_prog_info::default();
    let mut len = std::mem::size_of::<libbpf_sys::bpf_prog_info>() as u32;
    // SAFETY: info is a bpf_prog_info of `len` bytes, which the kernel fills; fd is ours.
    let rc = unsafe { libbpf_sys::bpf_prog_get_info_by_fd(fd, &mut info, &mut len) };
    // SAFETY: closing the descriptor bpf_obj_get returned.
    unsafe { libc::close(fd) };
    (rc == 0).then_some(info.id)
}

/// Waits (10 s at most) until the kernel has freed these programs: it releases a link
/// whose last pin went only after an RCU grace period (measured on 5.10: the file was
/// still refused right after the pins were removed), and a program is freed only after
/// its links. So when `unload` returns, nothing enforces any more.
fn wait_released(programs: &[u32]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let alive = programs.iter().filter(|&&id| {
            // SAFETY: a syscall wrapper; the descriptor it returns is closed at once.
            let fd = unsafe { libbpf_rs::libbpf_sys::bpf_prog_get_fd_by_id(id) };
            if fd >= 0 {
                // SAFETY: closing the descriptor just returned.
                unsafe { libc::close(fd) };
            }
            fd >= 0
        });
        let left = alive.count();
        if left == 0 {
            return;
        }
        if std::time::Instant::now() >= deadline {
            log::warn!("persist: {left} programs are still loaded 10 s after their pins were removed");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// This process's start time in clock ticks since boot (/proc/self/stat field 22): with
/// its pid, what tells the agent from a later process with the same pid (the file
/// module exempts the agent's own operations, and persisted programs outlive it).
pub fn own_start_ticks() -> anyhow::Result<u64> {
    let stat = fs::read_to_string("/proc/self/stat").context("read /proc/self/stat")?;
    start_ticks(&stat).context("parse /proc/self/stat")
}

fn start_ticks(stat: &str) -> Option<u64> {
    // Field 2 (comm) is parenthesised and may hold spaces: count from its end.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// For `probe`: whether this kernel lets safeguard pin (bpffs mounted or mountable, a
/// map pinned and removed).
pub fn probe_pinning() -> Result<(), String> {
    use libbpf_rs::{MapHandle, MapType};
    ensure_bpffs().map_err(|err| format!("{err:#}"))?;
    let opts = libbpf_rs::libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_rs::libbpf_sys::bpf_map_create_opts>() as libbpf_rs::libbpf_sys::size_t,
        ..Default::default()
    };
    let mut map = MapHandle::create(MapType::Array, Some("sg_probe_pin"), 4, 4, 1, &opts)
        .map_err(|err| format!("create a map: {err}"))?;
    let path = Path::new(BPF_FS).join(format!("safeguard-probe-{}", std::process::id()));
    map.pin(&path).map_err(|err| format!("pin a map in {BPF_FS}: {err}"))?;
    map.unpin(&path).map_err(|err| format!("remove a pin from {BPF_FS}: {err}"))
}

/// For `probe` and `check`: the instances pinned now (directory names).
pub fn pinned_now() -> Vec<String> {
    let Ok(entries) = fs::read_dir(PIN_ROOT) else { return Vec::new() };
    let mut names: Vec<String> =
        entries.filter_map(Result::ok).filter_map(|e| e.file_name().to_str().map(str::to_string)).collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_round_trip() {
        let name = format!("file_4242_3_{:016x}_0-1-0-rc_1", 0xdead_beef_u64);
        let parsed = InstanceName::parse(&name).unwrap();
        assert_eq!(parsed.module, "file");
        assert_eq!(parsed.pid, 4242);
        assert_eq!(parsed.policy, 0xdead_beef);
        assert_eq!(parsed.version, "0-1-0-rc_1");
        assert_eq!(pin_name("map", "file_bpf.rodata"), "map_file_bpf_rodata");
        assert!(InstanceName::parse("file").is_none());
        assert!(InstanceName::parse("file_x_1_00_0.1.0").is_none());
    }

    #[test]
    fn orphans_are_other_agents_instances_of_modules_not_running() {
        let root = std::env::temp_dir().join(format!("sg-orphans-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        let file = format!("file_11_0_{:016x}_0-1-0", 1);
        let network = format!("network_11_1_{:016x}_0-1-0", 2);
        let gone = format!("oldmodule_11_2_{:016x}_0-0-9", 3);
        for name in [&file, &network, &gone, &"pin-like".to_string()] {
            fs::create_dir(root.join(name)).unwrap();
        }
        // One of this process's own instances is never an orphan: the agent stops it.
        let ours = new_instance_dir(&root, "mount", 4).unwrap();
        let found: Vec<String> = orphans(&root, &["file", "protect"]).into_iter().map(|(_, i)| i.module).collect();
        assert_eq!(found, ["network", "oldmodule"]);
        assert!(ours.is_dir());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn start_ticks_come_after_the_command_name() {
        let stat = "4242 (a b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(start_ticks(stat), Some(987_654));
        assert_eq!(start_ticks("4242 (x) S 1"), None);
    }

    #[test]
    fn policy_hash_is_stable_and_tells_sections_apart() {
        // FNV-1a's published test vector: the hash must not change between runs or builds.
        assert_eq!(policy_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(policy_hash("FileConfig { enable: true }"), policy_hash("FileConfig { enable: false }"));
    }
}
