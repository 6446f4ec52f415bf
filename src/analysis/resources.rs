//! The report's "Resources" section: what the agent's `[telemetry]` module recorded
//! (`resource`, `runq_latency`, `net_drop`, `net_forward` and `overflow` records), summed
//! over the range.
//!
//! Hot spots add each process's (executable, else `[comm]`) interval counts: CPU time,
//! context switches, run-queue wait, traffic. Run-queue latency is the host's histogram
//! of waits (older logs: the written processes' histograms) added up, with its median and 99th percentile (as the lower bound of
//! the histogram slot they fall in). Anomalies, each a rule simple enough to state:
//! - switch storm: one process switching at least `STORM_RATE` times a second over an
//!   interval;
//! - drop spike: an interval in which a drop reason counts at least `SPIKE_FACTOR` times
//!   the median of that reason's intervals, and at least `SPIKE_MIN` drops.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::entry::{printable, Entry};
use super::report::thousands;
use super::time::{self, Micros};

/// Context switches a second, over an interval, that make a switch storm.
pub const STORM_RATE: u64 = 20_000;
/// A drop spike is at least this many times the reason's median interval…
pub const SPIKE_FACTOR: u64 = 10;
/// …and at least this many drops.
pub const SPIKE_MIN: u64 = 100;

/// One process's sums over the range.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    pub name: String,
    pub cpu_ns: u64,
    pub switches_voluntary: u64,
    pub switches_involuntary: u64,
    pub runq_wait_ns: u64,
    pub runq_waits: u64,
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub rx_packets: u64,
}

impl Usage {
    pub fn switches(&self) -> u64 {
        self.switches_voluntary + self.switches_involuntary
    }

    pub fn traffic(&self) -> u64 {
        self.tx_bytes + self.rx_bytes
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    pub time: Micros,
    pub what: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resources {
    /// `resource` records read.
    pub records: u64,
    pub by_cpu: Vec<Usage>,
    pub by_switches: Vec<Usage>,
    pub by_runq: Vec<Usage>,
    pub by_traffic: Vec<Usage>,
    /// Waits by histogram slot label, in slot order.
    pub runq_hist: Vec<(String, u64)>,
    pub runq_p50: Option<String>,
    pub runq_p99: Option<String>,
    /// Drops by reason (or `unknown @ location`), most first.
    pub drops: Vec<(String, u64)>,
    pub forwarded: u64,
    /// `overflow` records: intervals in which the kernel's tables had no room.
    pub overflows: u64,
    pub anomalies: Vec<Anomaly>,
    usage: HashMap<String, Usage>,
    hist: BTreeMap<u64, (String, u64)>,
    drop_intervals: HashMap<String, Vec<(Micros, u64)>>,
}

/// The lower bound in microseconds of a histogram label (`<2us`, `>=8us`, `>=1ms`,
/// `>=2s`), for ordering; None for a label this version does not write.
fn slot_micros(label: &str) -> Option<u64> {
    if label == "<2us" {
        return Some(0);
    }
    let rest = label.strip_prefix(">=")?;
    let (number, scale) = if let Some(n) = rest.strip_suffix("us") {
        (n, 1)
    } else if let Some(n) = rest.strip_suffix("ms") {
        (n, 1000)
    } else {
        (rest.strip_suffix('s')?, 1_000_000)
    };
    number.parse::<u64>().ok().map(|n| n * scale)
}

impl Resources {
    /// A telemetry record at `at`.
    pub fn add(&mut self, entry: &Entry<'_>, at: Micros) {
        match entry.op.as_str() {
            "resource" => self.resource(entry, at),
            "runq_latency" => self.runq_hist(entry),
            "net_drop" => {
                let reason = entry.reason.as_ref().map_or("unknown", |r| r.as_str());
                let name = match &entry.location {
                    Some(location) => format!("{reason} @ {}", location.as_str()),
                    None => reason.to_string(),
                };
                let count = entry.count.unwrap_or(0);
                self.drop_intervals.entry(printable(&name).into_owned()).or_default().push((at, count));
            }
            "net_forward" => self.forwarded += entry.count.unwrap_or(0),
            "overflow" => self.overflows += 1,
            _ => {}
        }
    }

    fn resource(&mut self, entry: &Entry<'_>, at: Micros) {
        self.records += 1;
        let name = entry.process().map_or_else(|| "(unknown)".to_string(), |p| printable(&p).into_owned());
        let n = |v: Option<u64>| v.unwrap_or(0);
        let switches = n(entry.switches_voluntary) + n(entry.switches_involuntary);
        let seconds = n(entry.interval_ms).max(1000) / 1000;
        if switches / seconds >= STORM_RATE {
            let pid = entry.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
            let what = format!(
                "switch storm: {name}{pid} switched {} times a second over {} s",
                thousands(switches / seconds),
                seconds
            );
            self.anomalies.push(Anomaly { time: at, what });
        }
        let usage = self.usage.entry(name.clone()).or_insert_with(|| Usage { name, ..Usage::default() });
        usage.cpu_ns += n(entry.cpu_ns);
        usage.switches_voluntary += n(entry.switches_voluntary);
        usage.switches_involuntary += n(entry.switches_involuntary);
        usage.runq_wait_ns += n(entry.runq_wait_ns);
        usage.runq_waits += n(entry.runq_waits);
        usage.tx_bytes += n(entry.tx_bytes);
        usage.rx_bytes += n(entry.rx_bytes);
        usage.tx_packets += n(entry.tx_packets);
        usage.rx_packets += n(entry.rx_packets);
        // logs written before the host-wide `runq_latency` record: per process
        self.runq_hist(entry);
    }

    fn runq_hist(&mut self, entry: &Entry<'_>) {
        for (label, count) in entry.runq_hist.iter().flatten() {
            if let Some(us) = slot_micros(label) {
                self.hist.entry(us).or_insert_with(|| (label.clone(), 0)).1 += count;
            }
        }
    }

    /// Ranks and judges once every record is in; `top` 0 keeps every row.
    pub fn finish(&mut self, top: usize) {
        let rows: Vec<Usage> = self.usage.values().cloned().collect();
        let ranked = |key: fn(&Usage) -> u64| {
            let mut rows: Vec<Usage> = rows.iter().filter(|u| key(u) > 0).cloned().collect();
            rows.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.name.cmp(&b.name)));
            if top > 0 {
                rows.truncate(top);
            }
            rows
        };
        self.by_cpu = ranked(|u| u.cpu_ns);
        self.by_switches = ranked(Usage::switches);
        self.by_runq = ranked(|u| u.runq_wait_ns);
        self.by_traffic = ranked(Usage::traffic);
        self.runq_hist = self.hist.values().cloned().collect();
        let total: u64 = self.runq_hist.iter().map(|(_, n)| n).sum();
        let quantile = |q: f64| {
            let want = (total as f64 * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            self.runq_hist.iter().find(|(_, n)| {
                seen += n;
                seen >= want
            })
        };
        if total > 0 {
            self.runq_p50 = quantile(0.5).map(|(label, _)| label.clone());
            self.runq_p99 = quantile(0.99).map(|(label, _)| label.clone());
        }
        let mut drops: Vec<(String, u64)> = Vec::new();
        for (reason, intervals) in &self.drop_intervals {
            drops.push((reason.clone(), intervals.iter().map(|(_, n)| n).sum()));
            let mut counts: Vec<u64> = intervals.iter().map(|(_, n)| *n).collect();
            counts.sort_unstable();
            let median = counts[counts.len() / 2];
            for &(at, count) in intervals {
                if count >= SPIKE_MIN && count >= SPIKE_FACTOR * median.max(1) && intervals.len() > 1 {
                    let what = format!(
                        "drop spike: {} packets dropped ({reason}) in one interval, the median is {}",
                        thousands(count),
                        thousands(median)
                    );
                    self.anomalies.push(Anomaly { time: at, what });
                }
            }
        }
        drops.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.drops = drops;
        self.anomalies.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.what.cmp(&b.what)));
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0 && self.drop_intervals.is_empty() && self.forwarded == 0 && self.overflows == 0
    }
}

/// `1.5 s`, `20 ms`, `300 us` for nanoseconds.
pub fn duration_ns(ns: u64) -> String {
    if ns >= 1_000_000_000 {
        format!("{:.1} s", ns as f64 / 1e9)
    } else if ns >= 1_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else {
        format!("{} us", ns / 1000)
    }
}

/// `12.3 MB`, `512 B`.
pub fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn mean_wait(u: &Usage) -> String {
    duration_ns(u.runq_wait_ns / u.runq_waits.max(1))
}

pub fn render_text(r: &Resources, out: &mut String) {
    out.push_str("\nResources\n");
    if r.is_empty() {
        out.push_str("  (no telemetry record: the agent's [telemetry] module writes them)\n");
        return;
    }
    let _ = writeln!(out, "  {} resource records", thousands(r.records));
    let list = |out: &mut String, title: &str, rows: &[Usage], line: &dyn Fn(&Usage) -> String| {
        let _ = writeln!(out, "  {title}");
        if rows.is_empty() {
            out.push_str("    (none)\n");
        }
        for u in rows {
            let _ = writeln!(out, "    {:<40} {}", u.name, line(u));
        }
    };
    list(out, "CPU time", &r.by_cpu, &|u| duration_ns(u.cpu_ns));
    list(out, "Context switches (voluntary + involuntary)", &r.by_switches, &|u| {
        format!(
            "{} ({} + {})",
            thousands(u.switches()),
            thousands(u.switches_voluntary),
            thousands(u.switches_involuntary)
        )
    });
    list(out, "Run-queue wait (total, waits, mean)", &r.by_runq, &|u| {
        format!("{}, {}, {}", duration_ns(u.runq_wait_ns), thousands(u.runq_waits), mean_wait(u))
    });
    list(out, "Traffic (sent / received)", &r.by_traffic, &|u| {
        format!(
            "{} / {} ({} / {} packets)",
            bytes(u.tx_bytes),
            bytes(u.rx_bytes),
            thousands(u.tx_packets),
            thousands(u.rx_packets)
        )
    });
    if let (Some(p50), Some(p99)) = (&r.runq_p50, &r.runq_p99) {
        let _ = writeln!(out, "  Run-queue latency: median {p50}, 99th percentile {p99}");
        let hist: Vec<String> = r.runq_hist.iter().map(|(label, n)| format!("{label} {}", thousands(*n))).collect();
        let _ = writeln!(out, "    {}", hist.join(", "));
    }
    out.push_str("  Packet drops by reason\n");
    if r.drops.is_empty() {
        out.push_str("    (none)\n");
    }
    for (reason, n) in &r.drops {
        let _ = writeln!(out, "    {reason:<40} {}", thousands(*n));
    }
    if r.forwarded > 0 {
        let _ = writeln!(out, "  Packets forwarded: {}", thousands(r.forwarded));
    }
    if r.overflows > 0 {
        let _ = writeln!(
            out,
            "  The kernel's tables were full in {} interval(s): some counts are missing (see the overflow records)",
            r.overflows
        );
    }
    let _ = writeln!(
        out,
        "  Anomalies (switch storm: {} switches/s; drop spike: {}x the median and {} drops)",
        thousands(STORM_RATE),
        SPIKE_FACTOR,
        SPIKE_MIN
    );
    if r.anomalies.is_empty() {
        out.push_str("    (none)\n");
    }
    for a in &r.anomalies {
        let _ = writeln!(out, "    {}  {}", time::format_short(a.time), a.what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::entry::Entry;

    fn add(r: &mut Resources, line: &str, at: Micros) {
        let entry = Entry::parse(line.as_bytes()).unwrap();
        r.add(&entry, at);
    }

    fn resource(pid: u32, exe: &str, cpu: u64, switches: u64, tx: u64) -> String {
        format!(
            r#"{{"time":"2026-12-05T10:00:00Z","level":"INFO","module":"telemetry","op":"resource","pid":{pid},"comm":"x","exe":"{exe}","interval_ms":10000,"cpu_ns":{cpu},"switches_voluntary":{switches},"switches_involuntary":1,"runq_wait_ns":2000000,"runq_waits":2,"runq_hist":{{"<2us":1,">=1ms":1}},"tx_bytes":{tx},"rx_bytes":0,"tx_packets":1,"rx_packets":0}}"#
        )
    }

    fn drop(reason: &str, count: u64) -> String {
        format!(
            r#"{{"time":"2026-12-05T10:00:00Z","level":"INFO","module":"telemetry","op":"net_drop","reason":"{reason}","count":{count},"interval_ms":10000}}"#
        )
    }

    #[test]
    fn hot_spots_latency_drops_and_anomalies() {
        let mut r = Resources::default();
        add(&mut r, &resource(1, "/usr/bin/burn", 9_000_000_000, 10, 0), 1);
        add(&mut r, &resource(1, "/usr/bin/burn", 8_000_000_000, 10, 0), 2);
        // 300,001 switches in 10 s: a storm
        add(&mut r, &resource(2, "/usr/bin/ping", 100, 300_000, 0), 2);
        add(&mut r, &resource(3, "/usr/bin/send", 200, 5, 5000), 3);
        for (at, n) in [(10, 2), (20, 3), (30, 2), (40, 500)] {
            add(&mut r, &drop("NO_SOCKET", n), at);
        }
        add(&mut r, &drop("TCP_CSUM", 1), 5);
        r.finish(2);
        assert_eq!(r.records, 4);
        assert_eq!(r.by_cpu.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["/usr/bin/burn", "/usr/bin/send"]);
        assert_eq!(r.by_cpu[0].cpu_ns, 17_000_000_000);
        assert_eq!(r.by_switches[0].name, "/usr/bin/ping");
        assert_eq!(r.by_traffic.len(), 1);
        assert_eq!(r.runq_hist, vec![("<2us".to_string(), 4), (">=1ms".to_string(), 4)]);
        assert_eq!((r.runq_p50.as_deref(), r.runq_p99.as_deref()), (Some("<2us"), Some(">=1ms")));
        assert_eq!(r.drops, vec![("NO_SOCKET".to_string(), 507), ("TCP_CSUM".to_string(), 1)]);
        let anomalies: Vec<&str> = r.anomalies.iter().map(|a| a.what.as_str()).collect();
        assert_eq!(anomalies.len(), 2, "{anomalies:?}");
        assert!(anomalies[0].starts_with("switch storm: /usr/bin/ping (pid 2) switched 30,000 times"), "{anomalies:?}");
        assert!(anomalies[1].starts_with("drop spike: 500 packets dropped (NO_SOCKET)"), "{anomalies:?}");

        let mut text = String::new();
        render_text(&r, &mut text);
        for expected in [
            "Resources",
            "CPU time",
            "/usr/bin/burn",
            "17.0 s",
            "Run-queue latency: median <2us, 99th percentile >=1ms",
            "NO_SOCKET",
            "drop spike",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }

    #[test]
    fn without_telemetry_the_section_says_how_to_get_it() {
        let mut r = Resources::default();
        r.finish(10);
        let mut text = String::new();
        render_text(&r, &mut text);
        assert!(text.contains("[telemetry] module"), "{text}");
    }

    #[test]
    fn labels_order_by_their_bound() {
        assert_eq!(slot_micros("<2us"), Some(0));
        assert_eq!(slot_micros(">=512us"), Some(512));
        assert_eq!(slot_micros(">=2ms"), Some(2000));
        assert_eq!(slot_micros(">=8s"), Some(8_000_000));
        assert_eq!(slot_micros("soon"), None);
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(duration_ns(1_500_000), "1.5 ms");
    }
}
