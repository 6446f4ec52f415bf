//! Prometheus metrics (text exposition format 0.0.4) from the agent's `Snapshot`:
//! served on `GET /metrics` by a small HTTP server on its own thread (one request
//! at a time, bounded in size and time), or written as a node_exporter textfile
//! (`*.prom`, replaced atomically by rename).

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::status::{unix_seconds, Snapshot};
use crate::config::MetricsTarget;

/// Module states a module can be in: each gets a 0/1 series, so that an alert can
/// ask for "not enforcing" without knowing the others.
const STATES: [&str; 3] = ["enforcing", "audit-only", "off"];

/// `\`, `"` and newline escaped, as the format wants in label values.
fn label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

struct Exposition {
    out: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (index, (key, value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.out.push(',');
                }
                self.out.push_str(key);
                self.out.push_str("=\"");
                label(&mut self.out, value);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }
}

fn total(snapshot: &Snapshot, name: &str) -> u64 {
    snapshot.totals.iter().find(|(key, _)| key == name).map_or(0, |(_, value)| *value)
}

pub fn render(snapshot: &Snapshot) -> String {
    let mut e = Exposition { out: String::with_capacity(4096 + snapshot.rules.len() * 96) };
    e.family("safeguard_info", "gauge", "The running agent: version and host identity (always 1).");
    e.sample(
        "safeguard_info",
        &[("version", &snapshot.version), ("host", &snapshot.host), ("machine_id", &snapshot.machine_id)],
        1,
    );
    e.family("safeguard_start_time_seconds", "gauge", "When the agent started (Unix time).");
    e.sample("safeguard_start_time_seconds", &[], unix_seconds(snapshot.started));
    e.family("safeguard_config_load_time_seconds", "gauge", "When the running config was loaded (Unix time).");
    e.sample("safeguard_config_load_time_seconds", &[], unix_seconds(snapshot.config_loaded));
    e.family("safeguard_module_state", "gauge", "1 for each module's effective state: enforcing, audit-only or off.");
    for (module, state) in &snapshot.modules {
        for candidate in STATES {
            e.sample(
                "safeguard_module_state",
                &[("module", module), ("state", candidate)],
                u8::from(state == candidate),
            );
        }
    }
    e.family(
        "safeguard_events_total",
        "counter",
        "Events the agent received from the kernel, by module, op and action.",
    );
    for (module, op, action, count) in &snapshot.events {
        e.sample("safeguard_events_total", &[("module", module), ("op", op), ("action", action)], count);
    }
    for (name, key, help) in [
        ("safeguard_events_produced_total", "produced", "Events the kernel emitted."),
        ("safeguard_events_written_total", "written", "Events written to the log."),
        ("safeguard_events_filtered_total", "filtered", "Events below [log] level (left out by configuration)."),
        ("safeguard_paths_truncated_total", "truncated", "Paths resolved only in part."),
        ("safeguard_identities_lost_total", "lost_identities", "File rule identities the kernel map had no room for."),
    ] {
        e.family(name, "counter", help);
        e.sample(name, &[], total(snapshot, key));
    }
    e.family(
        "safeguard_events_lost_total",
        "counter",
        "Events lost, by where: kernel ring buffer, agent queue, undecodable, log write error.",
    );
    for (reason, key) in [
        ("kernel", "lost_kernel"),
        ("queue", "lost_queue"),
        ("malformed", "malformed"),
        ("write_error", "write_errors"),
    ] {
        e.sample("safeguard_events_lost_total", &[("reason", reason)], total(snapshot, key));
    }
    e.family("safeguard_output_records_total", "counter", "Records an output (journald, syslog) took.");
    for (name, configured, sent, _) in &snapshot.outputs {
        if *configured {
            e.sample("safeguard_output_records_total", &[("output", name)], sent);
        }
    }
    e.family(
        "safeguard_output_lost_total",
        "counter",
        "Records an output could not take (they are still in the log file).",
    );
    for (name, configured, _, lost) in &snapshot.outputs {
        if *configured {
            e.sample("safeguard_output_lost_total", &[("output", name)], lost);
        }
    }
    e.family("safeguard_queue_records", "gauge", "Records waiting for the writer thread.");
    e.sample("safeguard_queue_records", &[], snapshot.queue_len);
    e.family("safeguard_queue_capacity", "gauge", "Capacity of the writer's queue (past it, events are lost).");
    e.sample("safeguard_queue_capacity", &[], snapshot.queue_capacity);
    e.family("safeguard_reloads_total", "counter", "Config reloads (SIGHUP), by result.");
    e.sample("safeguard_reloads_total", &[("result", "ok")], snapshot.reloads_ok);
    e.sample("safeguard_reloads_total", &[("result", "failed")], snapshot.reloads_failed);
    e.family(
        "safeguard_last_reload_success",
        "gauge",
        "0 when the last reload was refused (the old config runs), else 1.",
    );
    e.sample("safeguard_last_reload_success", &[], u8::from(snapshot.last_reload_ok != Some(false)));
    e.family(
        "safeguard_rule_hits_total",
        "counter",
        "Decisions each rule made (deny, monitor, audit), counted in the kernel.",
    );
    for rule in &snapshot.rules {
        let id = rule.id.to_string();
        e.sample("safeguard_rule_hits_total", &[("module", rule.module), ("id", &id), ("rule", &rule.rule)], rule.hits);
    }
    e.out
}

/// Where the metrics go, on a thread of its own; dropping it writes the textfile a
/// last time and stops the thread.
pub struct MetricsServer {
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How often the textfile is rewritten.
pub const TEXTFILE_INTERVAL: Duration = Duration::from_secs(15);
/// A request's bytes and time at most.
const MAX_REQUEST: usize = 8192;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

impl MetricsServer {
    pub fn start(
        target: &MetricsTarget,
        snapshot: Arc<dyn Fn() -> Snapshot + Send + Sync>,
    ) -> anyhow::Result<MetricsServer> {
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let thread = match target {
            MetricsTarget::Listen(address) => {
                let listener = TcpListener::bind(address).with_context(|| format!("metrics: listen on {address}"))?;
                listener.set_nonblocking(true).context("metrics: socket")?;
                std::thread::Builder::new()
                    .name("metrics".into())
                    .spawn(move || serve(&listener, &flag, &*snapshot))
                    .context("metrics: start thread")?
            }
            MetricsTarget::File(path) => {
                let path = path.clone();
                write_textfile(&path, &render(&snapshot()))
                    .with_context(|| format!("metrics: write {}", path.display()))?;
                std::thread::Builder::new()
                    .name("metrics".into())
                    .spawn(move || textfile_loop(&path, &flag, &*snapshot))
                    .context("metrics: start thread")?
            }
        };
        Ok(MetricsServer { running, thread: Some(thread) })
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Written beside the target and renamed over it: node_exporter never reads half
/// a file.
pub fn write_textfile(path: &Path, text: &str) -> io::Result<()> {
    let mut temp = PathBuf::from(path);
    temp.set_file_name(format!(
        ".{}.{}.tmp",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id()
    ));
    let result = std::fs::File::create(&temp).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    match result.and_then(|()| std::fs::rename(&temp, path)) {
        Ok(()) => Ok(()),
        Err(err) => {
            let _ = std::fs::remove_file(&temp);
            Err(err)
        }
    }
}

fn textfile_loop(path: &Path, running: &AtomicBool, snapshot: &(dyn Fn() -> Snapshot + Send + Sync)) {
    let mut last = Instant::now();
    let mut failing = false;
    loop {
        let stopping = !running.load(Ordering::Relaxed);
        if stopping || last.elapsed() >= TEXTFILE_INTERVAL {
            match write_textfile(path, &render(&snapshot())) {
                Ok(()) => failing = false,
                Err(err) if !failing => {
                    log::error!("metrics: cannot write {}: {err}; retrying", path.display());
                    failing = true;
                }
                Err(_) => {}
            }
            last = Instant::now();
        }
        if stopping {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn serve(listener: &TcpListener, running: &AtomicBool, snapshot: &(dyn Fn() -> Snapshot + Send + Sync)) {
    while running.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => {
                if let Err(err) = answer(stream, snapshot) {
                    log::debug!("metrics: {peer}: {err}");
                }
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(100)),
            Err(err) => {
                log::warn!("metrics: accept: {err}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Reads the request head (at most `MAX_REQUEST` bytes, `REQUEST_TIMEOUT`) and
/// answers `GET /metrics`; anything else gets 404 or 405.
fn answer(mut stream: TcpStream, snapshot: &(dyn Fn() -> Snapshot + Send + Sync)) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        if head.len() >= MAX_REQUEST || Instant::now() >= deadline {
            return respond(&mut stream, "431 Request Header Fields Too Large", "text/plain", b"request too large\n");
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/metrics") => {
            let body = render(&snapshot());
            respond(&mut stream, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body.as_bytes())
        }
        ("GET", _) => respond(&mut stream, "404 Not Found", "text/plain", b"safeguard: metrics are at /metrics\n"),
        _ => respond(&mut stream, "405 Method Not Allowed", "text/plain", b"GET only\n"),
    }
}

fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::hits::RuleHit;
    use std::time::UNIX_EPOCH;

    fn snapshot() -> Snapshot {
        Snapshot {
            version: "0.1.0".into(),
            host: "web1".into(),
            machine_id: "abc".into(),
            started: Some(UNIX_EPOCH + Duration::from_secs(1_764_900_000)),
            modules: vec![("file".into(), "enforcing".into()), ("mount".into(), "off".into())],
            totals: vec![("produced".into(), 10), ("written".into(), 9), ("lost_kernel".into(), 1)],
            events: vec![("file".into(), "read".into(), "BLOCKED".into(), 3)],
            outputs: vec![("journald".into(), true, 12, 1), ("syslog".into(), false, 0, 0)],
            queue_capacity: 16384,
            reloads_failed: 1,
            last_reload_ok: Some(false),
            rules: vec![
                RuleHit { module: "file", id: 1, rule: "{ path = \"/etc/shadow\", ops = [\"read\"] }".into(), hits: 3 },
                RuleHit { module: "file", id: 2, rule: "C:\\x\nnew".into(), hits: 0 },
            ],
            ..Snapshot::default()
        }
    }

    /// Checks the exposition as Prometheus's parser would: every sample's family
    /// declared before it with HELP and TYPE, once; names valid; counters end in
    /// _total; each line `name{labels} value` with a number.
    fn check_format(text: &str) {
        let mut declared: Vec<String> = Vec::new();
        let mut typed = std::collections::HashMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                assert!(!declared.contains(&name.to_string()), "HELP twice: {name}");
                declared.push(name.to_string());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(["counter", "gauge"].contains(&kind));
                assert!(kind != "counter" || name.ends_with("_total"), "{name}");
                typed.insert(name.to_string(), kind.to_string());
            } else {
                let name_end = line.find(['{', ' ']).unwrap();
                let name = &line[..name_end];
                assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{name}");
                assert_eq!(declared.last().map(String::as_str), Some(name), "sample outside its family: {line}");
                assert!(typed.contains_key(name));
                let value = line.rsplit(' ').next().unwrap();
                assert!(value.parse::<f64>().is_ok(), "{line}");
            }
        }
    }

    #[test]
    fn exposition_is_valid_and_complete() {
        let text = render(&snapshot());
        check_format(&text);
        assert!(text.contains("safeguard_module_state{module=\"file\",state=\"enforcing\"} 1\n"));
        assert!(text.contains("safeguard_module_state{module=\"mount\",state=\"enforcing\"} 0\n"));
        assert!(text.contains("safeguard_events_total{module=\"file\",op=\"read\",action=\"BLOCKED\"} 3\n"));
        assert!(text.contains("safeguard_events_lost_total{reason=\"kernel\"} 1\n"));
        assert!(text.contains("safeguard_output_lost_total{output=\"journald\"} 1\n"));
        assert!(!text.contains("output=\"syslog\""), "unconfigured outputs have no series");
        assert!(text.contains("safeguard_last_reload_success 0\n"));
        assert!(text.contains("safeguard_start_time_seconds 1764900000\n"));
        assert!(text.contains(
            "safeguard_rule_hits_total{module=\"file\",id=\"1\",rule=\"{ path = \\\"/etc/shadow\\\", ops = [\\\"read\\\"] }\"} 3\n"
        ));
        assert!(text.contains("safeguard_rule_hits_total{module=\"file\",id=\"2\",rule=\"C:\\\\x\\nnew\"} 0\n"));
    }

    #[test]
    fn http_serves_metrics_and_refuses_the_rest() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let server = MetricsServer::start(&MetricsTarget::Listen(address), Arc::new(snapshot)).unwrap();
        let get = |request: &str| {
            let mut stream = TcpStream::connect(address).unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            answer
        };
        let ok = get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("text/plain; version=0.0.4"));
        let body = ok.split("\r\n\r\n").nth(1).unwrap();
        check_format(body);
        assert!(get("GET /other HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(get("POST /metrics HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 405"));
        let huge = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20000));
        let mut stream = TcpStream::connect(address).unwrap();
        let _ = stream.write_all(huge.as_bytes());
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431"), "{answer}");
        drop(server);
    }

    #[test]
    fn the_textfile_is_replaced_whole() {
        let dir = std::env::temp_dir().join(format!("safeguard-prom-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("safeguard.prom");
        let server = MetricsServer::start(&MetricsTarget::File(path.clone()), Arc::new(snapshot)).unwrap();
        check_format(&std::fs::read_to_string(&path).unwrap());
        drop(server);
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["safeguard.prom"], "no temporary file left");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
