//! `safeguard status`: the running agent answers on a root-only Unix socket with
//! its state as one JSON document; the command prints it as text or `--json`.
//! The same `Snapshot` feeds the Prometheus metrics.

use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde_json::{json, Value as Json};

use crate::agent::hits::RuleHit;

pub const SOCKET: &str = "/run/safeguard/status.sock";

/// The agent's state at one moment.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub version: String,
    pub pid: u32,
    pub host: String,
    pub machine_id: String,
    pub config: String,
    pub config_loaded: Option<SystemTime>,
    pub started: Option<SystemTime>,
    pub now: Option<SystemTime>,
    /// Module and its effective state (`enforcing`, `audit-only`, `off`).
    pub modules: Vec<(String, String)>,
    /// The accounting totals of the `stats` record, by name.
    pub totals: Vec<(String, u64)>,
    /// Events by module, op and action (`""`: none).
    pub events: Vec<(String, String, String, u64)>,
    /// Output, configured, records sent, records lost.
    pub outputs: Vec<(String, bool, u64, u64)>,
    pub queue_len: u64,
    pub queue_capacity: u64,
    pub reloads_ok: u64,
    pub reloads_failed: u64,
    pub last_reload_ok: Option<bool>,
    pub rules: Vec<RuleHit>,
}

pub fn unix_seconds(time: Option<SystemTime>) -> f64 {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0.0, |d| d.as_secs_f64())
}

fn rfc3339(time: Option<SystemTime>) -> Json {
    match time {
        Some(time) => {
            let mut out = Vec::new();
            crate::logging::write_rfc3339(&mut out, time);
            Json::String(String::from_utf8_lossy(&out).into_owned())
        }
        None => Json::Null,
    }
}

impl Snapshot {
    pub fn to_json(&self) -> Json {
        let uptime = match (self.started, self.now) {
            (Some(start), Some(now)) => now.duration_since(start).map_or(0, |d| d.as_secs()),
            _ => 0,
        };
        json!({
            "version": self.version,
            "pid": self.pid,
            "host": self.host,
            "machine_id": self.machine_id,
            "config": self.config,
            "config_loaded": rfc3339(self.config_loaded),
            "started": rfc3339(self.started),
            "uptime_seconds": uptime,
            "modules": self.modules.iter().map(|(m, s)| (m.clone(), Json::from(s.clone()))).collect::<serde_json::Map<_, _>>(),
            "totals": self.totals.iter().map(|(k, v)| (k.clone(), Json::from(*v))).collect::<serde_json::Map<_, _>>(),
            "outputs": self.outputs.iter().map(|(name, configured, sent, lost)| {
                (name.clone(), json!({"configured": configured, "sent": sent, "lost": lost}))
            }).collect::<serde_json::Map<_, _>>(),
            "queue": {"records": self.queue_len, "capacity": self.queue_capacity},
            "reloads": {"ok": self.reloads_ok, "failed": self.reloads_failed, "last_ok": self.last_reload_ok},
            "rules": self.rules.iter().map(|r| json!({"module": r.module, "id": r.id, "rule": r.rule, "hits": r.hits})).collect::<Vec<_>>(),
        })
    }
}

/// The text `safeguard status` prints from the agent's JSON.
pub fn text(status: &Json) -> String {
    let s = |v: &Json| match v {
        Json::String(text) => text.clone(),
        Json::Null => "-".into(),
        other => other.to_string(),
    };
    let mut out = String::new();
    out.push_str(&format!(
        "safeguard {} (pid {}) on {}\n",
        s(&status["version"]),
        s(&status["pid"]),
        s(&status["host"])
    ));
    out.push_str(&format!("started:  {} (up {}s)\n", s(&status["started"]), s(&status["uptime_seconds"])));
    out.push_str(&format!("config:   {} (loaded {})\n", s(&status["config"]), s(&status["config_loaded"])));
    let reloads = &status["reloads"];
    out.push_str(&format!("reloads:  {} ok, {} failed\n", s(&reloads["ok"]), s(&reloads["failed"])));
    out.push_str("modules:\n");
    if let Some(modules) = status["modules"].as_object() {
        for (name, state) in modules {
            out.push_str(&format!("  {name:<10} {}\n", s(state)));
        }
    }
    out.push_str("totals:\n");
    if let Some(totals) = status["totals"].as_object() {
        for (name, value) in totals {
            out.push_str(&format!("  {name:<16} {}\n", s(value)));
        }
    }
    if let Some(outputs) = status["outputs"].as_object() {
        for (name, o) in outputs.iter().filter(|(_, o)| o["configured"] == true) {
            out.push_str(&format!("output {name}: {} sent, {} lost\n", s(&o["sent"]), s(&o["lost"])));
        }
    }
    out.push_str(&format!("{:<10} {:>10}  RULE\n", "MODULE", "HITS"));
    for rule in status["rules"].as_array().into_iter().flatten() {
        out.push_str(&format!("{:<10} {:>10}  {}\n", s(&rule["module"]), s(&rule["hits"]), s(&rule["rule"])));
    }
    out
}

/// The listening socket and its thread; dropping it stops the thread and removes
/// the socket.
pub struct StatusServer {
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl StatusServer {
    /// Binds `path` (its directory made if missing; a stale socket replaced), mode
    /// 0600: only its owner (root, for the service) may connect.
    pub fn start(path: &Path, snapshot: Arc<dyn Fn() -> Snapshot + Send + Sync>) -> anyhow::Result<StatusServer> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("status: create {}", dir.display()))?;
        }
        let _ = std::fs::remove_file(path);
        // Connecting takes write permission on the socket: with any usual umask (022;
        // the unit's 077) others have none from the start, and the chmod makes it so
        // whatever the umask.
        let listener = UnixListener::bind(path).with_context(|| format!("status: bind {}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("status: chmod {}", path.display()))?;
        listener.set_nonblocking(true).context("status: socket")?;
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let thread = std::thread::Builder::new()
            .name("status".into())
            .spawn(move || serve(&listener, &flag, &*snapshot))
            .context("status: start thread")?;
        Ok(StatusServer { running, thread: Some(thread), path: path.to_path_buf() })
    }
}

impl Drop for StatusServer {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One client at a time, each bounded by a write timeout: a stuck client cannot
/// hold the agent.
fn serve(listener: &UnixListener, running: &AtomicBool, snapshot: &(dyn Fn() -> Snapshot + Send + Sync)) {
    while running.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
                let mut body = snapshot().to_json().to_string();
                body.push('\n');
                let _ = stream.write_all(body.as_bytes());
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(100)),
            Err(err) => {
                log::warn!("status: accept: {err}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// `safeguard status [--json]`: asks the agent at `path`.
pub fn command(path: &Path, as_json: bool) -> anyhow::Result<String> {
    let mut stream = UnixStream::connect(path).with_context(|| {
        format!("status: cannot connect to {} (is `safeguard run` running, and are you root?)", path.display())
    })?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).context("status: socket")?;
    let mut body = String::new();
    stream.read_to_string(&mut body).with_context(|| format!("status: read {}", path.display()))?;
    let status: Json = serde_json::from_str(&body).context("status: the agent's answer is not JSON")?;
    if as_json {
        Ok(format!("{}\n", serde_json::to_string_pretty(&status).unwrap_or(body)))
    } else {
        Ok(text(&status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> Snapshot {
        Snapshot {
            version: "0.1.0".into(),
            pid: 42,
            host: "web1".into(),
            machine_id: "0123".into(),
            config: "/etc/safeguard/safeguard.toml".into(),
            config_loaded: Some(UNIX_EPOCH + Duration::from_secs(1_764_900_000)),
            started: Some(UNIX_EPOCH + Duration::from_secs(1_764_900_000)),
            now: Some(UNIX_EPOCH + Duration::from_secs(1_764_900_090)),
            modules: vec![("file".into(), "enforcing".into()), ("network".into(), "off".into())],
            totals: vec![("produced".into(), 5), ("lost_kernel".into(), 1)],
            events: vec![("file".into(), "read".into(), "BLOCKED".into(), 3)],
            outputs: vec![("journald".into(), true, 7, 0), ("syslog".into(), false, 0, 0)],
            queue_len: 0,
            queue_capacity: 16384,
            reloads_ok: 1,
            reloads_failed: 0,
            last_reload_ok: Some(true),
            rules: vec![
                RuleHit { module: "file", id: 1, rule: "/srv/secret".into(), hits: 3 },
                RuleHit { module: "file", id: 2, rule: "{ path = \"/x\" }".into(), hits: 0 },
            ],
        }
    }

    #[test]
    fn the_socket_serves_the_snapshot_and_the_command_prints_it() {
        let dir = std::env::temp_dir().join(format!("safeguard-status-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("run/status.sock");
        let server = StatusServer::start(&path, Arc::new(sample)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let json: Json = serde_json::from_str(&command(&path, true).unwrap()).unwrap();
        assert_eq!(json["uptime_seconds"], 90);
        assert_eq!(json["modules"]["file"], "enforcing");
        assert_eq!(json["rules"][1]["hits"], 0);
        assert_eq!(json["config_loaded"], "2025-12-05T02:00:00.000000Z");
        let text = command(&path, false).unwrap();
        assert!(text.contains("file                3  /srv/secret\n"), "{text}");
        assert!(text.contains("file                0  { path = \"/x\" }\n"), "{text}");
        assert!(text.contains("output journald: 7 sent, 0 lost"), "{text}");
        assert!(!text.contains("output syslog"), "{text}");
        drop(server);
        assert!(!path.exists());
        assert!(command(&path, false).unwrap_err().to_string().contains("cannot connect"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
