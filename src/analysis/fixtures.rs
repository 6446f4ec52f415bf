//! The log fixtures of `tests/fixtures/analysis/scenario-{json,text}/`: one day of a web
//! server as the agent would log it, written by the real `logging` writers so that they
//! are byte for byte what the agent writes. The same records in both formats, rotated
//! differently, each set with one malformed line.
//!
//! The day: nginx serving clients and reading its tree, a Python app reading and writing
//! its data and calling a database and an API, hourly backups, sshd logins. The first
//! half is quiet. In the second half `nc` runs, a miner appears in /tmp/.hidden, calls
//! a new destination, touches /etc/shadow, and bursts at 15:30; the agent restarts once
//! and loses 3 events once. Paths include non-UTF-8 bytes, a backslash and a newline.
//!
//! `cargo test fixtures_are_current` checks the committed files against this code;
//! after changing it, regenerate them with
//! `cargo test regenerate_fixtures -- --ignored`.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use crate::logging::{write_json, write_text, Action, Level, Record, Value};

/// 2026-11-20T00:00:00Z.
pub const START_SECONDS: u64 = 1_795_132_800;

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analysis")
}

/// A line the agent did not finish (a crash mid-write), inserted into the JSON set.
pub const MALFORMED_JSON: &str = r#"{"time":"2026-11-20T09:00:00.000000Z","level":"INFO","level_no":20,"module":"proc"#;
/// A text line with an unterminated quote, inserted into the text set.
pub const MALFORMED_TEXT: &str = r#"time=2026-11-20T20:00:00.000000Z level=INFO level_no=20 module=process op="exec"#;

struct Subject {
    pid: u64,
    ppid: u64,
    uid: u64,
    comm: &'static [u8],
    exe: &'static [u8],
    parent_comm: &'static [u8],
}

const NGINX: Subject =
    Subject { pid: 1200, ppid: 1, uid: 33, comm: b"nginx", exe: b"/usr/sbin/nginx", parent_comm: b"systemd" };
const APP: Subject =
    Subject { pid: 2300, ppid: 1, uid: 1000, comm: b"python3", exe: b"/usr/bin/python3.11", parent_comm: b"systemd" };
const CRON: Subject =
    Subject { pid: 900, ppid: 1, uid: 0, comm: b"cron", exe: b"/usr/sbin/cron", parent_comm: b"systemd" };
const SSHD: Subject =
    Subject { pid: 800, ppid: 1, uid: 0, comm: b"sshd", exe: b"/usr/sbin/sshd", parent_comm: b"systemd" };
const SHELL: Subject =
    Subject { pid: 5100, ppid: 5000, uid: 1000, comm: b"bash", exe: b"/usr/bin/bash", parent_comm: b"sshd" };
const MINER: Subject =
    Subject { pid: 6600, ppid: 5100, uid: 1000, comm: b"miner", exe: b"/tmp/.hidden/miner", parent_comm: b"bash" };

struct Scenario {
    records: Vec<Record>,
    rng: u64,
}

impl Scenario {
    fn random(&mut self, below: u64) -> u64 {
        // A 64-bit LCG (Knuth's MMIX constants): fixed, so the fixtures never change.
        self.rng = self.rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.rng >> 33) % below
    }

    fn at(seconds: u64, micros: u64) -> std::time::SystemTime {
        UNIX_EPOCH + Duration::from_secs(START_SECONDS + seconds) + Duration::from_micros(micros)
    }

    fn event(
        &mut self,
        second: u64,
        module: &'static str,
        op: &'static str,
        who: &Subject,
        decision: Option<(Action, &str)>,
    ) -> Record {
        let level = decision.map_or(Level::Info, |(action, _)| action.level());
        let mut record = Record::new(level, module, op);
        record.time = Scenario::at(second, self.random(1_000_000));
        record.action = decision.map(|(action, _)| action);
        record.rule = decision.and_then(|(_, rule)| (!rule.is_empty()).then(|| rule.into()));
        record.fields = vec![
            ("hostname", Value::Bytes(b"web1".to_vec())),
            ("pid", Value::Uint(who.pid)),
            ("ppid", Value::Uint(who.ppid)),
            ("uid", Value::Uint(who.uid)),
            ("gid", Value::Uint(who.uid)),
            ("comm", Value::Bytes(who.comm.to_vec())),
            ("exe", Value::Bytes(who.exe.to_vec())),
            ("parent_comm", Value::Bytes(who.parent_comm.to_vec())),
            ("cgroup_id", Value::Uint(4000 + who.pid)),
            ("container", Value::Bool(false)),
        ];
        record
    }

    fn file(&mut self, second: u64, op: &'static str, who: &Subject, path: &[u8], decision: Option<(Action, &str)>) {
        let record = self.event(second, "file", op, who, decision).field("path", Value::Bytes(path.to_vec()));
        self.records.push(record);
    }

    #[allow(clippy::too_many_arguments)]
    fn net(
        &mut self,
        second: u64,
        op: &'static str,
        who: &Subject,
        dst: &str,
        port: u64,
        domain: Option<&str>,
        decision: Option<(Action, &str)>,
    ) {
        let v6 = dst.contains(':');
        let mut record = self
            .event(second, "network", op, who, decision)
            .field("family", Value::Str(if v6 { "inet6" } else { "inet" }.into()))
            .field("protocol", Value::Str("tcp".into()))
            .field("src_addr", Value::Str(if v6 { "2001:db8::2" } else { "10.0.0.2" }.into()))
            .field("src_port", Value::Uint(if op == "accept" { 443 } else { 40_000 + self.random(20_000) }))
            .field("dst_addr", Value::Str(dst.into()))
            .field("dst_port", Value::Uint(port));
        if let Some(domain) = domain {
            record = record.field("domain", Value::Str(domain.into()));
        }
        self.records.push(record);
    }

    /// fork, exec and exit of a child of `parent`.
    fn run(
        &mut self,
        second: u64,
        parent: &Subject,
        child_pid: u64,
        exe: &'static [u8],
        argv: &[&[u8]],
        decision: Option<(Action, &str)>,
    ) {
        let fork = self.event(second, "process", "fork", parent, None).field("child_pid", Value::Uint(child_pid));
        self.records.push(fork);
        let comm: &'static [u8] = exe.rsplit(|&b| b == b'/').next().unwrap_or(exe);
        let child = Subject { pid: child_pid, ppid: parent.pid, uid: parent.uid, comm, exe, parent_comm: parent.comm };
        if let Some(decision) = decision {
            let mut exec = self.event(second, "process", "exec", &child, Some(decision));
            exec.fields.push(("filename", Value::Bytes(exe.to_vec())));
            self.records.push(exec);
        }
        let mut exec = self.event(second, "process", "exec", &child, None);
        exec.fields.push(("filename", Value::Bytes(exe.to_vec())));
        exec.fields.push(("argv", Value::List(argv.iter().map(|arg| Value::Bytes(arg.to_vec())).collect())));
        self.records.push(exec);
        let exit = self.event(second + 1, "process", "exit", &child, None).field("exit_code", Value::Uint(0));
        self.records.push(exit);
    }

    fn agent(&mut self, second: u64, op: &'static str, fields: Vec<(&'static str, Value)>) {
        let level = if fields.iter().any(|(name, value)| *name == "lost_kernel" && *value != Value::Uint(0)) {
            Level::Error
        } else {
            Level::Info
        };
        let mut record = Record::new(level, "agent", op);
        record.time = Scenario::at(second, 0);
        record.fields = fields;
        self.records.push(record);
    }

    fn start(&mut self, second: u64) {
        let modules = ["file", "network", "process", "mount"]
            .iter()
            .map(|name| (name.to_string(), Value::Str(if *name == "mount" { "off" } else { "audit-only" }.into())))
            .collect();
        self.agent(
            second,
            "start",
            vec![
                ("version", Value::Str("0.1.0".into())),
                ("config", Value::Bytes(b"/etc/safeguard/safeguard.toml".to_vec())),
                ("kernel", Value::Str("6.1.0-27-cloud-amd64".into())),
                ("enforcement", Value::Str("degraded".into())),
                ("modules", Value::Map(modules)),
            ],
        );
    }

    fn stats(&mut self, second: u64, events: u64, lost_kernel: u64) {
        let counters = |events: u64, lost: u64| {
            vec![
                ("events", Value::Uint(events)),
                ("written", Value::Uint(events)),
                ("lost_kernel", Value::Uint(lost)),
                ("lost_queue", Value::Uint(0)),
                ("malformed", Value::Uint(0)),
                ("write_errors", Value::Uint(0)),
                ("truncated", Value::Uint(0)),
            ]
        };
        let mut fields = counters(events, lost_kernel);
        let totals = counters(events, lost_kernel).into_iter().map(|(name, value)| (name.to_string(), value)).collect();
        fields.push(("totals", Value::Map(totals)));
        self.agent(second, "stats", fields);
    }
}

/// The day's records in time order.
pub fn records() -> Vec<Record> {
    let mut s = Scenario { records: Vec::new(), rng: 42 };
    let audit = |rule: &'static str| Some((Action::Allowed, rule));
    s.start(0);
    for hour in 0..24u64 {
        let h = hour * 3600;
        if hour == 14 {
            // The agent restarts (a package upgrade).
            s.agent(h + 5, "stop", vec![]);
            s.start(h + 10);
        }
        let events_before = s.records.len();

        // nginx: clients, its configuration and its tree.
        for i in 0..6 {
            let client = format!("203.0.113.{}", 1 + (hour * 6 + i) % 25);
            let port = 50_000 + s.random(10_000);
            s.net(h + 60 + i * 500, "accept", &NGINX, &client, port, None, audit(""));
            let page = format!(
                "/var/www/html/{}.html",
                ["index", "about", "blog/post-1", "blog/post-2", "img/logo"][(i % 5) as usize]
            );
            s.file(h + 61 + i * 500, "read", &NGINX, page.as_bytes(), audit("/var/www/"));
        }
        if hour % 6 == 0 {
            s.file(h + 30, "read", &NGINX, b"/etc/nginx/nginx.conf", audit("/etc/"));
        }
        // The app: its data, a database, an API (IPv4 and IPv6).
        for i in 0..4 {
            let second = h + 120 + i * 800;
            let data = format!("/srv/app/data/{}.db", ["users", "orders", "sessions"][(i % 3) as usize]);
            s.file(second, if i % 2 == 0 { "read" } else { "write" }, &APP, data.as_bytes(), audit("/srv/"));
            s.net(second + 1, "connect", &APP, "10.0.0.5", 5432, None, audit(""));
        }
        s.net(h + 2000, "connect", &APP, "93.184.216.34", 443, Some("api.example.com"), audit(""));
        s.net(h + 2001, "connect", &APP, "2001:db8::34", 443, Some("api.example.com"), audit(""));
        s.file(h + 2100, "write", &APP, format!("/srv/app/cache/page-{}.json", hour % 4).as_bytes(), audit("/srv/"));
        // Hourly backup from cron.
        let backup_pid = 10_000 + hour * 10;
        s.run(h + 300, &CRON, backup_pid, b"/usr/local/bin/backup", &[b"backup", b"--full"], None);
        let backup = Subject {
            pid: backup_pid,
            ppid: CRON.pid,
            uid: 0,
            comm: b"backup",
            exe: b"/usr/local/bin/backup",
            parent_comm: b"cron",
        };
        s.file(h + 301, "read", &backup, b"/srv/app/data/users.db", audit("/srv/"));
        s.file(h + 302, "create", &backup, format!("/backup/2026-11-20/{hour:02}00.tar").as_bytes(), audit("/backup/"));
        // The cloud-init agent polls the metadata service: denied by the config.
        if hour % 4 == 1 {
            let curl = Subject {
                pid: 12_000 + hour,
                ppid: 1,
                uid: 0,
                comm: b"curl",
                exe: b"/usr/bin/curl",
                parent_comm: b"systemd",
            };
            s.net(
                h + 900,
                "connect",
                &curl,
                "169.254.169.254",
                80,
                None,
                Some((Action::Monitor, "169.254.169.254/32")),
            );
        }
        // Logins: sshd accepts and the shell starts.
        if hour % 3 == 2 {
            s.net(h + 1500, "accept", &SSHD, "198.51.100.7", 51_000 + hour, None, audit(""));
            s.run(h + 1501, &SSHD, SHELL.pid + hour, b"/usr/bin/bash", &[b"-bash"], None);
            // Uploaded files with awkward names: Latin-1 bytes, a backslash, a newline.
            s.file(h + 1510, "create", &SHELL, b"/srv/app/uploads/r\xe9sum\xe9.pdf", audit("/srv/"));
            s.file(h + 1511, "create", &SHELL, b"/srv/app/uploads/a\\b.txt", audit("/srv/"));
            s.file(h + 1512, "rename", &SHELL, b"/srv/app/uploads/evil\nname", audit("/srv/"));
            if let Some(last) = s.records.last_mut() {
                last.fields.push(("target_path", Value::Bytes(b"/srv/app/uploads/evil-name".to_vec())));
            }
        }

        // The second half: what a report should point at.
        if hour == 14 {
            s.run(
                h + 1600,
                &SHELL,
                6500,
                b"/usr/bin/nc",
                &[b"nc", b"-l", b"4444"],
                Some((Action::Monitor, "/usr/bin/nc")),
            );
        }
        if (15..24).contains(&hour) {
            let rule = Some((Action::Monitor, "/tmp/"));
            if hour == 15 {
                s.run(
                    h + 1790,
                    &SHELL,
                    MINER.pid,
                    b"/tmp/.hidden/miner",
                    &[b"./miner", b"--pool", b"45.77.1.2:3333"],
                    rule,
                );
            }
            s.net(
                h + 1800,
                "connect",
                &MINER,
                "45.77.1.2",
                3333,
                None,
                Some((Action::Monitor, "not in network.cidr.allow")),
            );
            s.file(
                h + 1801,
                "read",
                &MINER,
                b"/etc/shadow",
                Some((Action::Monitor, "{ path = \"/etc/shadow\", ops = [\"read\"] }")),
            );
            s.file(h + 1802, "write", &MINER, b"/tmp/.hidden/out.log", rule);
            if hour == 15 {
                // 15:30: the burst, the miner scanning the app's tree.
                for i in 0..120 {
                    let path = format!("/srv/app/data/blob-{i:03}.bin");
                    s.file(h + 1810 + i / 4, "read", &MINER, path.as_bytes(), audit("/srv/"));
                }
            }
        }

        let events = (s.records.len() - events_before) as u64;
        s.stats(h + 3599, events, if hour == 20 { 3 } else { 0 });
    }
    s.agent(24 * 3600 - 1, "stop", vec![]);
    s.records.sort_by_key(|record| record.time);
    s.records
}

/// The files of one set: (file name, hour at which the next file starts).
const JSON_SET: [(&str, u64); 3] = [("safeguard.log.2", 8), ("safeguard.log.1", 16), ("safeguard.log", 24)];
const TEXT_SET: [(&str, u64); 2] = [("safeguard.log.1", 12), ("safeguard.log", 24)];

/// (path relative to `dir()`, contents) of every fixture file.
pub fn files() -> Vec<(String, Vec<u8>)> {
    let records = records();
    let tags = [("env".to_string(), "prod".to_string())];
    let mut out = Vec::new();
    for (set, json, malformed, malformed_file) in [
        (&JSON_SET[..], true, MALFORMED_JSON, "safeguard.log.1"),
        (&TEXT_SET[..], false, MALFORMED_TEXT, "safeguard.log"),
    ] {
        let dir = if json { "scenario-json" } else { "scenario-text" };
        let mut from = 0;
        for (name, until_hour) in set {
            let until = UNIX_EPOCH + Duration::from_secs(START_SECONDS + until_hour * 3600);
            let mut bytes = Vec::new();
            let mut count = 0;
            for record in records[from..].iter().take_while(|record| record.time < until) {
                if *name == malformed_file && count == 10 {
                    bytes.extend_from_slice(malformed.as_bytes());
                    bytes.push(b'\n');
                }
                if json {
                    write_json(&mut bytes, record, &tags);
                } else {
                    write_text(&mut bytes, record, &tags);
                }
                count += 1;
            }
            from += count;
            out.push((format!("{dir}/{name}"), bytes));
        }
    }
    out
}

/// Writes the day's records over and over (one day later each time) to `path` until it
/// holds `megabytes` MB: the input of `tests/analysis/bench.sh`.
pub fn write_large_log(path: &Path, megabytes: u64, json: bool) -> std::io::Result<u64> {
    use std::io::Write;
    let records = records();
    let tags = [("env".to_string(), "prod".to_string())];
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let (mut written, mut day, mut line) = (0u64, 0u64, Vec::new());
    while written < megabytes * 1_000_000 {
        for record in &records {
            let mut record = record.clone();
            record.time += Duration::from_secs(day * 86_400);
            line.clear();
            if json {
                write_json(&mut line, &record, &tags);
            } else {
                write_text(&mut line, &record, &tags);
            }
            file.write_all(&line)?;
            written += line.len() as u64;
        }
        day += 1;
    }
    file.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `SAFEGUARD_BENCH_LOG=/tmp/big.log SAFEGUARD_BENCH_MB=200 SAFEGUARD_BENCH_FORMAT=json
    /// cargo test --release write_bench_log -- --ignored`
    #[test]
    #[ignore = "writes a large log for tests/analysis/bench.sh"]
    fn write_bench_log() {
        let path = std::env::var("SAFEGUARD_BENCH_LOG").unwrap_or_else(|_| "/tmp/safeguard-bench.log".to_string());
        let megabytes = std::env::var("SAFEGUARD_BENCH_MB").ok().and_then(|mb| mb.parse().ok()).unwrap_or(200);
        let json = std::env::var("SAFEGUARD_BENCH_FORMAT").map_or(true, |format| format != "text");
        let written = write_large_log(Path::new(&path), megabytes, json).unwrap();
        eprintln!("wrote {written} bytes to {path}");
    }

    #[test]
    fn fixtures_are_current() {
        for (name, expected) in files() {
            let path = dir().join(&name);
            let committed = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            assert!(
                committed == expected,
                "{name} differs from fixtures::files(); run `cargo test regenerate_fixtures -- --ignored`"
            );
        }
    }

    #[test]
    #[ignore = "writes tests/fixtures/analysis; run after changing the scenario"]
    fn regenerate_fixtures() {
        for (name, bytes) in files() {
            let path = dir().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
    }
}
