//! The `domain` entries as addresses: each name is resolved (A and AAAA), kept until
//! its TTL expires (clamped to 5 s .. 1 h), then resolved again; a failed resolution
//! keeps the last good answer and is retried soon. The lookup is a parameter, so the
//! schedule and the bookkeeping are tested without a network.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::dns::Answer;
use super::rules::Verdict;

pub const MIN_TTL: Duration = Duration::from_secs(5);
pub const MAX_TTL: Duration = Duration::from_secs(3600);
/// Retry after a failure (the last good answer stays meanwhile).
pub const RETRY: Duration = Duration::from_secs(5);
/// Addresses kept per name: the trie is sized for this many per domain.
pub const MAX_ADDRS: usize = 32;

pub struct Domain {
    pub name: String,
    pub verdict: Verdict,
    pub rule_id: u32,
    pub addrs: Vec<IpAddr>,
    next: Option<Instant>,
    failing: bool,
}

/// What one round of resolution brought.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Some domain's addresses changed: the trie must be updated.
    pub changed: bool,
    /// (domain, error) for each name that started failing in this round.
    pub failures: Vec<(String, String)>,
    /// (domain, old, new) for each change, for the agent's diagnostics.
    pub changes: Vec<(String, Vec<IpAddr>, Vec<IpAddr>)>,
}

pub struct Domains {
    pub list: Vec<Domain>,
}

impl Domains {
    /// The names to resolve, each due at once; `known` holds the last answers an
    /// earlier instance of the module had (a reload): they stand until the first
    /// answer of this one, and stay if that fails, as any last good answer does.
    pub fn new(domains: &[(String, Verdict, u32)], known: &BTreeMap<String, Vec<IpAddr>>) -> Domains {
        let list = domains
            .iter()
            .map(|(name, verdict, rule_id)| Domain {
                name: name.clone(),
                verdict: *verdict,
                rule_id: *rule_id,
                addrs: known.get(name).cloned().unwrap_or_default(),
                next: None,
                failing: false,
            })
            .collect();
        Domains { list }
    }

    /// Each name's current addresses, for the next instance (`new`).
    pub fn answers(&self) -> BTreeMap<String, Vec<IpAddr>> {
        self.list.iter().map(|d| (d.name.clone(), d.addrs.clone())).collect()
    }

    /// Resolves every name whose time has come.
    pub fn refresh(&mut self, now: Instant, mut lookup: impl FnMut(&str) -> Result<Answer, String>) -> Outcome {
        let mut outcome = Outcome::default();
        for d in &mut self.list {
            if d.next.is_some_and(|next| next > now) {
                continue;
            }
            match lookup(&d.name) {
                Ok(answer) => {
                    let mut addrs = answer.addrs;
                    addrs.sort();
                    addrs.dedup();
                    addrs.truncate(MAX_ADDRS);
                    let ttl = Duration::from_secs(answer.ttl.into()).clamp(MIN_TTL, MAX_TTL);
                    d.next = Some(now + ttl);
                    d.failing = false;
                    if addrs != d.addrs {
                        outcome.changed = true;
                        outcome.changes.push((d.name.clone(), d.addrs.clone(), addrs.clone()));
                        d.addrs = addrs;
                    }
                }
                Err(err) => {
                    d.next = Some(now + RETRY);
                    if !d.failing {
                        outcome.failures.push((d.name.clone(), err));
                    }
                    d.failing = true;
                }
            }
        }
        outcome
    }

    /// The domain each resolved address belongs to, for the records' `domain` field.
    pub fn names_by_addr(&self) -> HashMap<IpAddr, String> {
        let mut map = HashMap::new();
        for d in &self.list {
            for &addr in &d.addrs {
                map.entry(addr).or_insert_with(|| d.name.clone());
            }
        }
        map
    }

    /// How long until the next name is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.list.iter().filter_map(|d| d.next).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(addrs: &[&str], ttl: u32) -> Result<Answer, String> {
        Ok(Answer { addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(), ttl })
    }

    #[test]
    fn resolves_when_due_and_keeps_the_last_good_answer() {
        let mut d = Domains::new(&[("a.test".into(), Verdict::Deny, 3)], &BTreeMap::new());
        let t0 = Instant::now();
        let out = d.refresh(t0, |_| answer(&["192.0.2.1"], 1));
        assert!(out.changed);
        assert_eq!(d.list[0].addrs, vec!["192.0.2.1".parse::<IpAddr>().unwrap()]);
        // TTL 1 s is clamped to 5 s: nothing is due before that
        let out = d.refresh(t0 + Duration::from_secs(4), |_| panic!("not due"));
        assert_eq!(out, Outcome::default());
        // a failure keeps the address, warns once, retries
        let out = d.refresh(t0 + Duration::from_secs(5), |_| Err("timeout".into()));
        assert_eq!(out.failures, vec![("a.test".to_string(), "timeout".to_string())]);
        assert!(!out.changed);
        assert_eq!(d.list[0].addrs.len(), 1);
        let out = d.refresh(t0 + Duration::from_secs(10), |_| Err("timeout".into()));
        assert!(out.failures.is_empty(), "warned twice: {out:?}");
        // a new answer replaces the old addresses
        let out = d.refresh(t0 + Duration::from_secs(15), |_| answer(&["192.0.2.2", "fd00::2"], 100_000));
        assert!(out.changed);
        assert_eq!(d.names_by_addr().get(&"fd00::2".parse().unwrap()).map(String::as_str), Some("a.test"));
        assert!(!d.names_by_addr().contains_key(&"192.0.2.1".parse().unwrap()));
        // TTL clamped to one hour
        assert_eq!(d.next_due(), Some(t0 + Duration::from_secs(15) + MAX_TTL));
    }

    #[test]
    fn an_empty_answer_removes_the_addresses() {
        let mut d = Domains::new(&[("gone.test".into(), Verdict::Deny, 1)], &BTreeMap::new());
        let t0 = Instant::now();
        d.refresh(t0, |_| answer(&["192.0.2.1"], 5));
        let out = d.refresh(t0 + MIN_TTL, |_| answer(&[], 30));
        assert!(out.changed);
        assert!(d.list[0].addrs.is_empty());
    }

    #[test]
    fn a_new_instance_starts_from_the_last_answers() {
        let mut before = Domains::new(&[("a.test".into(), Verdict::Deny, 1)], &BTreeMap::new());
        let t0 = Instant::now();
        before.refresh(t0, |_| answer(&["192.0.2.1"], 60));
        // a reload: the new instance's first query fails (the old rules judge it)
        let names = [("a.test".into(), Verdict::Deny, 4), ("new.test".into(), Verdict::Deny, 5)];
        let mut after = Domains::new(&names, &before.answers());
        assert_eq!(after.names_by_addr().get(&"192.0.2.1".parse().unwrap()).map(String::as_str), Some("a.test"));
        let out = after.refresh(t0, |_| Err("refused".into()));
        assert!(!out.changed);
        assert_eq!(after.list[0].addrs, vec!["192.0.2.1".parse::<IpAddr>().unwrap()]);
        assert!(after.list[1].addrs.is_empty());
        // and asks again soon, as after any failure
        assert_eq!(after.next_due(), Some(t0 + RETRY));
    }
}
