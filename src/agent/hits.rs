//! Per-rule hit counters: the kernel counts every decision that names a rule in a
//! per-CPU array (`sg_rule_hits`, bpf/common.bpf.h); each module instance reads it
//! into its `RuleHits`, which `status` and the metrics show, every rule of the
//! config included, also those that never fired.

use std::sync::{Arc, Mutex};

use crate::bpf::sg::{sg_rule, sg_rule_slots};

/// Slots before the first config rule's: the ids no config rule names.
pub const SPECIAL_SLOTS: usize = sg_rule_slots::SG_RULE_SPECIAL_SLOTS.0 as usize;
const FIRST_SPECIAL: u32 = sg_rule::SG_RULE_NEW_MOUNT.0;

/// A module's rules by id: the config's (`texts[id - 1]`) and the refusals that no
/// config rule names (`specials`: id and what it means), as the log writes them.
#[derive(Clone, Debug, Default)]
pub struct RuleNames {
    pub texts: crate::decode::RuleTexts,
    pub specials: Vec<(u32, String)>,
}

/// The kernel's slot of a rule id (bpf/safeguard.h, `sg_rule_slots`).
pub fn slot(id: u32) -> Option<usize> {
    match id {
        0 => None,
        id if id >= FIRST_SPECIAL => Some(!id as usize),
        id => Some(id as usize + SPECIAL_SLOTS - 1),
    }
}

/// One rule as status and the metrics show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleHit {
    pub module: &'static str,
    /// 0 for the refusals no config rule names.
    pub id: u32,
    pub rule: String,
    pub hits: u64,
}

/// The hits of one module instance's rules, refreshed by its thread.
#[derive(Debug)]
pub struct RuleHits {
    pub module: &'static str,
    pub names: RuleNames,
    /// Per slot: hits carried over from the instance this one replaced (same rule
    /// text), and the kernel's count.
    carried: Mutex<Vec<u64>>,
    kernel: Mutex<Vec<u64>>,
}

impl RuleHits {
    pub fn new(module: &'static str, names: RuleNames) -> RuleHits {
        let slots = names.texts.len() + SPECIAL_SLOTS;
        RuleHits { module, names, carried: Mutex::new(vec![0; slots]), kernel: Mutex::new(vec![0; slots]) }
    }

    /// Entries of the kernel's map.
    pub fn slots(&self) -> usize {
        self.names.texts.len() + SPECIAL_SLOTS
    }

    /// The kernel's counts, slot by slot.
    pub fn update(&self, read: impl Fn(u32) -> u64) {
        let counts: Vec<u64> = (0..self.slots() as u32).map(read).collect();
        if let Ok(mut kernel) = self.kernel.lock() {
            *kernel = counts;
        }
    }

    /// Hits since the module started, where a rule of the same text was in the
    /// instance a reload replaced: the new rules are compiled anew, so the kernel
    /// counts from 0, and these are added.
    pub fn carry_from(&self, old: &RuleHits) {
        let old_rules = old.rules();
        let Ok(mut carried) = self.carried.lock() else { return };
        for hit in old_rules {
            let slot = if hit.id == 0 {
                self.names.specials.iter().find(|(_, name)| *name == hit.rule).and_then(|(id, _)| slot(*id))
            } else {
                self.names.texts.iter().position(|text| **text == *hit.rule).and_then(|i| slot(i as u32 + 1))
            };
            if let Some(value) = slot.and_then(|slot| carried.get_mut(slot)) {
                *value += hit.hits;
            }
        }
    }

    /// Every config rule (0 hits included), then the special refusals that were hit.
    pub fn rules(&self) -> Vec<RuleHit> {
        let kernel = self.kernel.lock().map(|k| k.clone()).unwrap_or_default();
        let carried = self.carried.lock().map(|c| c.clone()).unwrap_or_default();
        let hits = |slot: Option<usize>| {
            slot.map_or(0, |s| kernel.get(s).copied().unwrap_or(0) + carried.get(s).copied().unwrap_or(0))
        };
        let mut rules: Vec<RuleHit> = self
            .names
            .texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let id = i as u32 + 1;
                RuleHit { module: self.module, id, rule: text.to_string(), hits: hits(slot(id)) }
            })
            .collect();
        for (id, name) in &self.names.specials {
            let count = hits(slot(*id));
            if count > 0 {
                rules.push(RuleHit { module: self.module, id: 0, rule: name.clone(), hits: count });
            }
        }
        rules
    }
}

/// Where a module instance publishes its `RuleHits` once it compiled its rules.
pub type RuleSlot = Arc<Mutex<Option<Arc<RuleHits>>>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn names(texts: &[&str]) -> RuleNames {
        RuleNames {
            texts: texts.iter().map(|t| (*t).into()).collect(),
            specials: vec![(u32::MAX, "not in file.allow".into())],
        }
    }

    #[test]
    fn slots_match_the_kernel_layout() {
        assert_eq!(slot(0), None);
        assert_eq!(slot(1), Some(SPECIAL_SLOTS));
        assert_eq!(slot(u32::MAX), Some(0));
        assert_eq!(slot(u32::MAX - 3), Some(3));
        assert_eq!(slot(u32::MAX - 4), Some(u32::MAX as usize - 4 + SPECIAL_SLOTS - 1));
    }

    #[test]
    fn every_rule_is_listed_and_reloads_carry_counts_by_text() {
        let old = RuleHits::new("file", names(&["/a", "/b"]));
        old.update(|slot| match slot {
            0 => 2,
            4 => 5,
            5 => 0,
            _ => 0,
        });
        let listed: Vec<(u32, String, u64)> = old.rules().into_iter().map(|r| (r.id, r.rule, r.hits)).collect();
        assert_eq!(
            listed,
            [(1, "/a".into(), 5), (2, "/b".into(), 0), (0, "not in file.allow".into(), 2)],
            "0-hit rules listed, specials only when hit"
        );
        let new = RuleHits::new("file", names(&["/c", "/a"]));
        new.carry_from(&old);
        new.update(|slot| u64::from(slot == 5));
        let listed: Vec<(u32, u64)> = new.rules().into_iter().map(|r| (r.id, r.hits)).collect();
        assert_eq!(listed, [(1, 0), (2, 6), (0, 2)]);
    }
}
