//! The module runtime: the life cycle every module shares, written once.
//!
//! open the BPF object → the module's `configure` (load-time constants, map sizes,
//! which programs load) → load → the module's `fill` (rule maps) → attach every
//! program that loaded → report ready → poll the ring buffer through the module's
//! decoder until the agent stops the instance → detach → drain.
//!
//! The guarantees live here and nowhere else: ready is reported only once every
//! program is attached; every `Link` stays in this thread's frame until the instance
//! stops (a dropped link detaches silently); links go before the last drain, so the
//! kernel's count of what it queued and what was taken agree. A reload runs a new
//! instance next to the old one (src/agent/mod.rs): nothing here is shared between
//! instances but the module's stats.
//!
//! `[agent] persist` (src/agent/persist.rs) is generic here, so every module is pinned
//! without code of its own: once attached, an instance pins its maps, programs and
//! links, then adopts the instances of the same module that an earlier agent left
//! pinned (detaches them, reads what their ring buffers hold, removes their pins),
//! and only then reports ready. When the agent exits with persist on, an instance
//! leaves its pins (the kernel keeps enforcing); replaced by a reload, it removes them.

use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};
use crossbeam_channel::{Receiver, Sender};
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{Link, MapCore, MapFlags, MapHandle, OpenObject};

use super::hits::{RuleHits, RuleNames};
use super::log_thread::ToWriter;
use super::module::{Adoption, ModuleContext, ModuleState, ModuleStats, Prepared, OP_SLOTS};
use super::persist::{self, InstanceName, Persist};
use super::ring::Ring;
use crate::logging::Value;
use crate::probe::HookKind;

/// What a module brings: its skeleton, configure, fill and decode (and, if it has
/// work between polls, `tick`). Its hook table is a `Program` list beside it.
pub trait Module: Send + Sized + 'static {
    /// The module's name in records and errors ("file").
    const NAME: &'static str;
    /// An instance with no program to attach is an error (process, mount), not an
    /// idle instance (file and network when no op is in scope).
    const NEEDS_A_PROGRAM: bool = false;
    /// Its ring buffer's size: room for the records of a burst while the agent's
    /// thread waits for a CPU. Kernel memory, and mapped into the agent (its RSS).
    const RING_BYTES: u32 = 1 << 20;
    /// The skeleton builder generated from `bpf/<module>.bpf.c`.
    type Skel: for<'obj> SkelBuilder<'obj> + Default;

    /// Before load: `const volatile` switches, map sizes, autoload of each program.
    fn configure(&self, open: &mut OpenSkelOf<'_, Self>) -> anyhow::Result<()>;
    /// After load, before attach: the rule maps.
    fn fill(&mut self, skel: &LoadedSkelOf<'_, Self>, ctx: &ModuleContext) -> anyhow::Result<()>;
    /// The ring-buffer decoder: runs inside the callback, so it decodes, hands the
    /// record to `ctx` (which never blocks) and never panics.
    fn decoder(&self) -> Decoder;
    /// After attach, before ready (the network module notes the owners of sockets set
    /// up while it was attaching).
    fn attached(&mut self, _skel: &LoadedSkelOf<'_, Self>, _ctx: &ModuleContext) -> anyhow::Result<()> {
        Ok(())
    }
    /// On the module's thread after every poll (the network module re-resolves domains).
    fn tick(&mut self, _skel: &LoadedSkelOf<'_, Self>, _ctx: &ModuleContext) {}
    /// Its rules by id, for the per-rule hit counters (`status`, metrics).
    fn rule_names(&self) -> RuleNames {
        RuleNames::default()
    }
}

pub type Decoder = Box<dyn FnMut(&[u8], &ModuleContext)>;
pub type OpenSkelOf<'obj, M> = <<M as Module>::Skel as SkelBuilder<'obj>>::Output;
pub type LoadedSkelOf<'obj, M> = <OpenSkelOf<'obj, M> as OpenSkel<'obj>>::Output;

/// One program of a module's hook table: what it attaches to, which is the kernel
/// requirement `probe` checks, and the ops it serves.
pub struct Program<Op: 'static> {
    /// The program's name in `bpf/<module>.bpf.c`.
    pub name: &'static str,
    pub kind: HookKind,
    /// The LSM hook, tracepoint or kernel function.
    pub hook: &'static str,
    pub ops: &'static [Op],
}

impl<Op> Program<Op> {
    pub const fn new(name: &'static str, kind: HookKind, hook: &'static str, ops: &'static [Op]) -> Program<Op> {
        Program { name, kind, hook, ops }
    }
}

/// A module ready to start: `make` builds it on its own thread (rule compilation may
/// read the filesystem), which then runs the life cycle.
pub fn prepare<M: Module>(state: ModuleState, make: impl FnOnce() -> anyhow::Result<M> + Send + 'static) -> Prepared {
    Prepared { name: M::NAME, state, run: Box::new(move |ctx, ready| run(make, ctx, ready)) }
}

/// The module's thread. Everything attached lives in this frame: returning detaches it
/// (unless it is pinned).
fn run<M: Module>(
    make: impl FnOnce() -> anyhow::Result<M>,
    ctx: ModuleContext,
    ready: Sender<anyhow::Result<Vec<Adoption>>>,
) -> anyhow::Result<()> {
    let name = M::NAME;
    let mut storage = MaybeUninit::uninit();
    let Some(mut module) = or_report(make(), &ready) else { return Ok(()) };
    let hits = Arc::new(RuleHits::new(name, module.rule_names()));
    if let Ok(mut slot) = ctx.rules.lock() {
        *slot = Some(hits.clone());
    }
    let Some(mut skel) = or_report(load(&module, hits.slots(), &mut storage), &ready) else { return Ok(()) };
    let filled = module.fill(&skel, &ctx);
    let Some(mut links) = or_report(filled.and_then(|()| attach::<M>(skel.object())), &ready) else { return Ok(()) };
    let Some(()) = or_report(module.attached(&skel, &ctx), &ready) else { return Ok(()) };
    let pinning = match &ctx.persist {
        Some(persist) if persist.pin => pin(name, persist, ctx.policy, skel.object_mut(), &mut links).map(Some),
        _ => Ok(None),
    };
    let Some(pinned) = or_report(pinning, &ready) else { return Ok(()) };
    let mut guard = PinGuard(pinned);

    let maps: Vec<libbpf_rs::Map<'_>> = skel.object().maps().collect();
    let map =
        |wanted: &str| maps.iter().find(|map| map.name() == wanted).with_context(|| format!("{name}: no map {wanted}"));
    let shared = map("sg_events")
        .and_then(|events| Ok((events, map("sg_counters")?, map("sg_op_counts")?, map("sg_rule_hits")?)));
    let Some((events, counters, op_counts, rule_hits)) = or_report(shared, &ready) else { return Ok(()) };
    let mut decode = module.decoder();
    let callback_ctx = ctx.clone();
    let ring = ring_buffer(name, events, &ctx, move |data| decode(data, &callback_ctx));
    let Some(mut ring) = or_report(ring, &ready) else { return Ok(()) };
    // Attached (and pinned): only now may an earlier agent's instance go.
    let adopted = match &ctx.persist {
        Some(persist) => adopt(name, persist, &module, &ctx),
        None => Vec::new(),
    };
    let _ = ready.send(Ok(adopted));

    let kernel = KernelCounters { counters, op_counts, rule_hits, hits };
    let pinned = guard.0.take();
    poll_until_stopped(name, &mut ring, kernel, links, pinned, &ctx, || module.tick(&skel, &ctx))
}

/// Removes an instance's pins when its start fails after pinning (the instance did
/// not start, so nothing of it may stay attached).
struct PinGuard(Option<PathBuf>);

impl Drop for PinGuard {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            if let Err(err) = persist::remove_instance(&dir) {
                log::error!("remove the pins of an instance that failed to start: {err:#}");
            }
        }
    }
}

/// Pins the instance in a new directory: every map, every loaded program and every
/// link (a pinned link keeps its program attached with no process holding it).
fn pin(
    name: &str,
    persist: &Persist,
    policy: u64,
    object: &mut libbpf_rs::Object,
    links: &mut [Attached],
) -> anyhow::Result<PathBuf> {
    let dir = persist::new_instance_dir(&persist.root, name, policy)?;
    let pinned = pin_into(name, &dir, object, links).with_context(|| format!("{name}: pin in {}", dir.display()));
    match pinned {
        Ok(()) => Ok(dir),
        Err(err) => {
            if let Err(cleanup) = persist::remove_instance(&dir) {
                log::error!("{cleanup:#}");
            }
            Err(err)
        }
    }
}

fn pin_into(name: &str, dir: &Path, object: &mut libbpf_rs::Object, links: &mut [Attached]) -> anyhow::Result<()> {
    for mut map in object.maps_mut() {
        let file = dir.join(persist::pin_name("map", &map.name().to_string_lossy()));
        map.pin(&file).with_context(|| format!("pin map {}", file.display()))?;
    }
    for mut prog in object.progs_mut() {
        if prog.autoload() {
            let file = dir.join(persist::pin_name("prog", &prog.name().to_string_lossy()));
            prog.pin(&file).with_context(|| format!("pin program {}", file.display()))?;
        }
    }
    for attached in links.iter_mut() {
        let file = dir.join(persist::pin_name("link", &attached.program));
        match attached.link.pin(&file) {
            Ok(()) => {}
            // Only BPF links can be pinned: an older kernel attaches a kprobe or a
            // tracepoint through a perf event, which ends with the agent. Those are
            // audit-only programs (degraded mode); an LSM link always pins.
            Err(err) if !attached.lsm => log::warn!(
                "{name}: {} cannot be pinned on this kernel ({err}): its auditing ends when the agent exits",
                attached.program
            ),
            Err(err) => return Err(err).with_context(|| format!("pin link {}", file.display())),
        }
    }
    Ok(())
}

/// Takes over the instances of this module that an earlier agent left pinned: this
/// instance is attached already, so the policy holds throughout (for a moment both
/// enforce, and an event may be logged by both).
fn adopt<M: Module>(name: &str, persist: &Persist, module: &M, ctx: &ModuleContext) -> Vec<Adoption> {
    persist::left_behind(&persist.root, name)
        .into_iter()
        .map(|(dir, instance, pinned_at)| {
            let mut adoption = Adoption {
                instance: dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                pinned_at,
                records: 0,
                lost: 0,
                same_policy: instance.policy == ctx.policy,
                same_version: instance.version == persist::version_tag(),
                error: None,
            };
            if let Err(err) = take_over(&dir, &instance, &mut adoption, module.decoder(), ctx) {
                let err = err.context(format!("{name}: adopt {}", dir.display()));
                log::error!("{err:#}");
                adoption.error = Some(format!("{err:#}"));
            }
            adoption
        })
        .collect()
}

/// Detaches a pinned instance, writes what its ring buffer holds (records of another
/// version are counted as lost: their layout may differ), counts what its kernel
/// could not queue as lost, and removes its pins.
fn take_over(
    dir: &Path,
    instance: &InstanceName,
    adoption: &mut Adoption,
    mut decode: Decoder,
    ctx: &ModuleContext,
) -> anyhow::Result<()> {
    let events = MapHandle::from_pinned_path(dir.join(persist::pin_name("map", "sg_events"))).ok();
    let op_counts = MapHandle::from_pinned_path(dir.join(persist::pin_name("map", "sg_op_counts"))).ok();
    persist::remove_links(dir)?;
    if let Some(events) = &events {
        let (records, forwarded) = crossbeam_channel::unbounded();
        let mut inner = ctx.clone();
        inner.records = records;
        inner.taken = Arc::default();
        let read = Arc::new(AtomicU64::new(0));
        let counted = read.clone();
        let decodable = adoption.same_version;
        let mut ring = Ring::new(events, move |data: &[u8]| {
            counted.fetch_add(1, Ordering::Relaxed);
            if decodable {
                decode(data, &inner);
            }
        })?;
        // A program that was running when its link went may still emit: read until
        // the buffer stays empty for a moment.
        let (deadline, mut last, mut quiet_since) = (Instant::now() + Duration::from_secs(2), 0, Instant::now());
        loop {
            ring.consume();
            forward(&forwarded, ctx, adoption.same_policy);
            let now = read.load(Ordering::Relaxed);
            if now != last {
                (last, quiet_since) = (now, Instant::now());
            } else if quiet_since.elapsed() >= Duration::from_millis(100) || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        adoption.records = last;
    }
    ctx.stats.adopted.fetch_add(adoption.records, Ordering::Relaxed);
    if !adoption.same_version {
        ctx.stats.malformed.fetch_add(adoption.records, Ordering::Relaxed);
        log::warn!(
            "{}: {} records in the pinned ring buffer of safeguard {} were not decoded (counted as lost)",
            instance.module,
            adoption.records,
            instance.version
        );
    }
    if let Some(op_counts) = &op_counts {
        for op in 0..OP_SLOTS {
            let lost = sum_per_cpu(op_counts, op as u32, 8);
            ctx.stats.emitted[op].fetch_add(lost, Ordering::Relaxed);
            ctx.stats.ringbuf_full[op].fetch_add(lost, Ordering::Relaxed);
            adoption.lost += lost;
        }
    }
    drop((events, op_counts));
    persist::remove_instance(dir)
}

/// Hands the records decoded from an adopted instance to the writer, marked
/// `"adopted": true`; a rule id numbered by an older config names no rule of this one.
fn forward(records: &Receiver<ToWriter>, ctx: &ModuleContext, same_policy: bool) {
    while let Ok(message) = records.try_recv() {
        let ToWriter::Record(mut record) = message else { continue };
        record.fields.push(("adopted", Value::Bool(true)));
        if !same_policy && record.rule.is_some() {
            record.rule = Some("unknown: decided by a pinned policy of an older config".into());
        }
        let _ = ctx.records.send(ToWriter::Record(record));
    }
}

fn rfc3339(time: SystemTime) -> String {
    let mut out = Vec::new();
    crate::logging::write_rfc3339(&mut out, time);
    String::from_utf8_lossy(&out).into_owned()
}

/// For the start record: what was adopted, by instance.
pub fn adoption_value(adoption: &Adoption) -> Value {
    let mut fields = vec![
        ("instance".to_string(), Value::Str(adoption.instance.clone())),
        ("pinned_at".to_string(), Value::Str(rfc3339(adoption.pinned_at))),
        ("records".to_string(), Value::Uint(adoption.records)),
        ("lost".to_string(), Value::Uint(adoption.lost)),
        ("same_policy".to_string(), Value::Bool(adoption.same_policy)),
    ];
    if !adoption.same_version {
        fields.push(("other_version".to_string(), Value::Bool(true)));
    }
    if let Some(error) = &adoption.error {
        fields.push(("error".to_string(), Value::Str(error.clone())));
    }
    Value::Map(fields)
}

fn load<'obj, M: Module>(
    module: &M,
    rule_slots: usize,
    storage: &'obj mut MaybeUninit<OpenObject>,
) -> anyhow::Result<LoadedSkelOf<'obj, M>> {
    let name = M::NAME;
    let mut open = M::Skel::default().open(storage).with_context(|| format!("{name}: open BPF object"))?;
    for mut map in open.open_object_mut().maps_mut() {
        if map.name() == "sg_events" {
            map.set_max_entries(ring_buffer_bytes(M::RING_BYTES))
                .with_context(|| format!("{name}: ring buffer size"))?;
        }
        if map.name() == "sg_rule_hits" {
            let slots = u32::try_from(rule_slots).unwrap_or(u32::MAX);
            map.set_max_entries(slots).with_context(|| format!("{name}: rule hit counters size"))?;
        }
    }
    module.configure(&mut open)?;
    // RUST_LOG=debug: the verifier's statistics of every program (instructions
    // processed), which libbpf logs after each load.
    if log::log_enabled!(log::Level::Debug) {
        for mut prog in open.open_object_mut().progs_mut() {
            prog.set_log_level(4);
        }
    }
    open.load().with_context(|| format!("{name}: load BPF programs"))
}

/// A program's link, with what pinning it needs to know.
struct Attached {
    program: String,
    /// An LSM program: enforcement, which must be pinned.
    lsm: bool,
    link: Link,
}

/// Attaches every program that loaded (configure decided which), but iterators:
/// a module runs those itself, they attach to no hook.
fn attach<M: Module>(object: &libbpf_rs::Object) -> anyhow::Result<Vec<Attached>> {
    let name = M::NAME;
    let mut links = Vec::new();
    for prog in object.progs_mut() {
        let section = prog.section().to_string_lossy().into_owned();
        if prog.autoload() && !section.starts_with("iter/") {
            let program = prog.name().to_string_lossy().into_owned();
            let link = prog.attach().with_context(|| format!("{name}: attach {program}"))?;
            links.push(Attached { program, lsm: section.starts_with("lsm"), link });
        }
    }
    if links.is_empty() && M::NEEDS_A_PROGRAM {
        bail!("{name}: nothing to attach (no ops and no rules in scope)");
    }
    Ok(links)
}

/// Loads only the programs `wanted` names (the rest of the object still loads: maps,
/// and programs with autoload off are not verified).
pub fn load_only(object: &mut OpenObject, wanted: impl Fn(&str) -> bool) {
    for mut prog in object.progs_mut() {
        let on = wanted(&prog.name().to_string_lossy());
        prog.set_autoload(on);
    }
}

/// `enum sg_target` (bpf/safeguard.h) for the `sg_target` switch of every program.
pub fn target_code(target: crate::config::Target) -> u32 {
    use crate::bpf::sg::sg_target;
    use crate::config::Target;
    match target {
        Target::All => sg_target::SG_TARGET_ALL.0,
        Target::Host => sg_target::SG_TARGET_HOST.0,
        Target::Container => sg_target::SG_TARGET_CONTAINER.0,
    }
}

/// A module's ring buffer: its `RING_BYTES`, or `SAFEGUARD_RING_KIB` KiB for every
/// module (a power of two, at least 4), a diagnostic knob with which the tests make
/// the kernel lose events.
fn ring_buffer_bytes(default: u32) -> u32 {
    let Some(kib) = std::env::var("SAFEGUARD_RING_KIB").ok().and_then(|v| v.parse::<u32>().ok()) else {
        return default;
    };
    match kib.checked_mul(1024) {
        Some(bytes) if kib >= 4 && kib.is_power_of_two() => bytes,
        _ => {
            log::warn!("SAFEGUARD_RING_KIB={kib} is not a power of two from 4 to 4194304; using {default} bytes");
            default
        }
    }
}

/// Connects a module's ring buffer to its decoder: every record goes to `handle`,
/// which decodes and hands off without blocking.
fn ring_buffer<'a>(
    name: &str,
    events: &'a dyn MapCore,
    ctx: &ModuleContext,
    mut handle: impl FnMut(&[u8]) + 'a,
) -> anyhow::Result<Ring<'a>> {
    let taken = ctx.taken.clone();
    Ring::new(events, move |data: &[u8]| {
        taken.fetch_add(1, Ordering::Relaxed);
        handle(data);
    })
    .with_context(|| format!("{name}: ring buffer"))
}

/// A setup step's value, or None after handing its error to the agent, which then
/// detaches everything and exits 1.
fn or_report<T>(result: anyhow::Result<T>, ready: &Sender<anyhow::Result<Vec<Adoption>>>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(err) => {
            let _ = ready.send(Err(err));
            None
        }
    }
}

const POLL_INTERVAL: Duration = Duration::from_millis(200);
const COUNTER_INTERVAL: Duration = Duration::from_secs(1);
/// How long a stopping instance waits for its last events to show in its counters.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

// Indexes of the per-module counters map.
const COUNTER_TRUNCATED: u32 = crate::bpf::sg::sg_counter::SG_COUNTER_TRUNCATED.0;
const COUNTER_IDENTITIES_FULL: u32 = crate::bpf::sg::sg_counter::SG_COUNTER_IDENTITIES_FULL.0;

/// The maps every module's BPF object shares (bpf/common.bpf.h).
struct KernelCounters<'a> {
    /// `sg_counters`
    counters: &'a dyn MapCore,
    /// `sg_op_counts`
    op_counts: &'a dyn MapCore,
    /// `sg_rule_hits`, read into `hits`
    rule_hits: &'a dyn MapCore,
    hits: Arc<RuleHits>,
}

/// Rules whose hits are read every `COUNTER_INTERVAL`; a larger table (one lookup
/// per rule) every tenth time, and always at the end.
const HITS_EVERY_SECOND: usize = 1024;

/// Polls until the agent stops this instance, running `tick` after every poll. Then
/// detaches, so that nothing is emitted any more, and drains: the last records and
/// the kernel's final counts agree (see `drain`). A pinned instance that the agent
/// keeps (it exits with persist on) is not detached: it takes what is queued and
/// leaves the rest to the agent that adopts it.
fn poll_until_stopped(
    name: &str,
    ring: &mut Ring<'_>,
    kernel: KernelCounters<'_>,
    links: Vec<Attached>,
    pinned: Option<PathBuf>,
    ctx: &ModuleContext,
    mut tick: impl FnMut(),
) -> anyhow::Result<()> {
    let mut published = Published::new();
    let mut last_counters = Instant::now();
    let mut rounds = 0usize;
    while ctx.running.load(Ordering::Relaxed) {
        ring.poll(POLL_INTERVAL).with_context(|| format!("{name}: poll ring buffer"))?;
        ring.consume();
        tick();
        if last_counters.elapsed() >= COUNTER_INTERVAL {
            published.update(&kernel, &ctx.stats);
            if kernel.hits.slots() <= HITS_EVERY_SECOND || rounds % 10 == 0 {
                read_hits(&kernel);
            }
            rounds += 1;
            last_counters = Instant::now();
        }
    }
    let Some(dir) = pinned else {
        drop(links);
        return drain(name, ring, &kernel, ctx, &mut published);
    };
    if ctx.keep.load(Ordering::Relaxed) {
        ring.consume();
        published.update(&kernel, &ctx.stats);
        log::info!("{name}: left pinned in {} (enforcement continues)", dir.display());
        return Ok(()); // the pins hold the links: dropping ours detaches nothing
    }
    // Replaced by a reload: unpin, detach, drain, then remove the maps' pins.
    let unpinned = persist::remove_links(&dir);
    drop(links);
    let drained = drain(name, ring, &kernel, ctx, &mut published);
    unpinned.and_then(|_| persist::remove_instance(&dir)).with_context(|| format!("{name}: remove pins"))?;
    drained
}

/// Consumes what is left until every event the kernel queued was taken: a program
/// that was running when its link went may still emit one last record.
fn drain(
    name: &str,
    ring: &mut Ring<'_>,
    kernel: &KernelCounters<'_>,
    ctx: &ModuleContext,
    published: &mut Published,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + DRAIN_LIMIT;
    read_hits(kernel);
    loop {
        ring.consume();
        published.update(kernel, &ctx.stats);
        let taken = ctx.taken.load(Ordering::Relaxed);
        if published.queued() == taken {
            return Ok(());
        }
        if Instant::now() >= deadline {
            log::error!("{name}: the kernel queued {} records but {taken} were taken", published.queued());
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The kernel counts of one instance as last added to the module's stats, so that
/// only the difference is added each time (instances share the stats).
struct Published {
    truncated: u64,
    lost_identities: u64,
    emitted: [u64; OP_SLOTS],
    lost: [u64; OP_SLOTS],
}

impl Published {
    fn new() -> Published {
        Published { truncated: 0, lost_identities: 0, emitted: [0; OP_SLOTS], lost: [0; OP_SLOTS] }
    }

    fn update(&mut self, kernel: &KernelCounters<'_>, stats: &ModuleStats) {
        let add = |counter: &AtomicU64, last: &mut u64, now: u64| {
            counter.fetch_add(now.saturating_sub(*last), Ordering::Relaxed);
            *last = now.max(*last);
        };
        add(&stats.truncated, &mut self.truncated, sum_per_cpu(kernel.counters, COUNTER_TRUNCATED, 0));
        let identities = sum_per_cpu(kernel.counters, COUNTER_IDENTITIES_FULL, 0);
        add(&stats.lost_identities, &mut self.lost_identities, identities);
        for op in 0..OP_SLOTS {
            let key = op as u32;
            add(&stats.emitted[op], &mut self.emitted[op], sum_per_cpu(kernel.op_counts, key, 0));
            add(&stats.ringbuf_full[op], &mut self.lost[op], sum_per_cpu(kernel.op_counts, key, 8));
        }
    }

    /// Events this instance's ring buffer took.
    fn queued(&self) -> u64 {
        self.emitted.iter().sum::<u64>() - self.lost.iter().sum::<u64>()
    }
}

fn read_hits(kernel: &KernelCounters<'_>) {
    kernel.hits.update(|slot| sum_per_cpu(kernel.rule_hits, slot, 0));
}

/// Sum over the CPUs of the u64 at `offset` in a per-CPU array's value.
fn sum_per_cpu(map: &dyn MapCore, index: u32, offset: usize) -> u64 {
    match map.lookup_percpu(&index.to_ne_bytes(), MapFlags::ANY) {
        Ok(Some(per_cpu)) => per_cpu
            .iter()
            .filter_map(|bytes| bytes.get(offset..offset + 8).and_then(|b| b.try_into().ok()).map(u64::from_ne_bytes))
            .sum(),
        _ => 0,
    }
}
