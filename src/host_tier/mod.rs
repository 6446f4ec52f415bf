//! The host tier of the C decision code (README, Tests): each module's decision
//! functions, compiled from the module's very source with a `raw_tp` wrapper
//! (`bpf/test/<module>_decide.bpf.c`), run through `BPF_PROG_TEST_RUN` on this machine's
//! kernel and compared with a model of the rules written here in plain Rust from SPEC
//! 3.1-3.3. The maps are filled by the modules' own rule compilers. Cases are random
//! (seeded: `SG_HOST_SEED=N` repeats a run) plus the edge cases the documentation
//! promises; a mismatch prints the case, the config and both answers.
//!
//! These tests load BPF programs, so they need root and are `#[ignore]`d in plain
//! `cargo test`; `tests/host/run.sh` runs them (`cargo test host_tier -- --ignored`).

// Each module's cases are test code through and through: they live in tests.rs files.
#[path = "file/tests.rs"]
mod file;
#[path = "mount/tests.rs"]
mod mount;
#[path = "network/tests.rs"]
mod network;
#[path = "ring/tests.rs"]
mod ring;

use libbpf_rs::{ProgramInput, ProgramMut};

/// The seed of this run: `SG_HOST_SEED`, or a fixed one so that a run repeats.
pub fn seed(module: &str) -> u64 {
    let seed = std::env::var("SG_HOST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5afe_9a4d);
    println!("{module}: seed {seed} (SG_HOST_SEED={seed} repeats this run)");
    seed
}

/// splitmix64: small, seedable, good enough to spread cases; no crate needed for it.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability 1/n.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Runs a wrapper once; its input and output are in the object's .bss.
pub fn run(prog: &ProgramMut<'_>) {
    let out = prog.test_run(ProgramInput::default()).expect("BPF_PROG_TEST_RUN");
    assert_eq!(out.return_value, 0, "the wrapper {:?} gave up (a map lookup failed)", prog.name());
}

/// Counts cases and keeps the first mismatches, which the test prints before failing.
#[derive(Default)]
pub struct Tally {
    pub cases: usize,
    pub configs: usize,
    pub mismatches: Vec<String>,
    pub failed: usize,
    /// How many cases ended how (printed, to show the cases reach every outcome).
    pub outcomes: std::collections::BTreeMap<String, usize>,
}

impl Tally {
    pub fn check<T: PartialEq + std::fmt::Debug>(&mut self, kernel: T, model: T, case: impl FnOnce() -> String) {
        self.cases += 1;
        if kernel != model {
            self.failed += 1;
            if self.mismatches.len() < 10 {
                self.mismatches.push(format!("{}\n  kernel: {kernel:?}\n  model:  {model:?}", case()));
            }
        }
    }

    pub fn note(&mut self, outcome: impl Into<String>) {
        *self.outcomes.entry(outcome.into()).or_default() += 1;
    }

    pub fn finish(self, module: &str) {
        for m in &self.mismatches {
            println!("MISMATCH {module}: {m}\n");
        }
        println!("{module}: outcomes {:?}", self.outcomes);
        println!("{module}: {} cases over {} configs, {} mismatches", self.cases, self.configs, self.failed);
        assert_eq!(self.failed, 0, "{module}: the kernel's decisions differ from the model (cases above)");
    }
}

/// Parses generated config text as the agent would (a generator mistake fails loudly).
pub fn parse(text: &str) -> crate::config::Config {
    match crate::config::parse(text, std::path::Path::new("host-tier.toml")) {
        Ok(config) => config,
        Err(err) => panic!("generated config does not parse: {err}\n{text}"),
    }
}

/// A TOML string list.
pub fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}
