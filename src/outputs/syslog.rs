//! syslog (RFC 5424): one message per record, to a local datagram socket, over UDP,
//! or over TCP with octet-counting framing (RFC 6587 section 3.4.1).
//!
//! `<PRI>1 TIMESTAMP HOST safeguard PID MSGID [safeguard@32473 ...] MSG`: facility
//! authpriv (security records), the severity from the level, MSGID `module.op`,
//! the record's head and fields as structured data (SD-ID under 32473, the
//! enterprise number RFC 5612 reserves for documentation: we have none of our own),
//! and the record's JSON line as MSG, so a collector can take either.
//!
//! TCP runs on a thread of its own behind a bounded queue: a collector that is down
//! or slow never blocks the writer; it reconnects with a growing pause (up to 30 s)
//! and the records that find the queue full are counted as lost.

use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};

use super::OutputStats;
use crate::config::SyslogTarget;
use crate::logging::{write_json_value, write_rfc3339, Level, Record, Value};

/// LOG_AUTHPRIV
const FACILITY: u8 = 10;
const SD_ID: &str = "safeguard@32473";
/// Messages waiting for a TCP collector; past this they are counted as lost.
pub const TCP_QUEUE: usize = 4096;

pub fn severity(level: Level) -> u8 {
    super::journald::priority(level)
}

/// Host and process as RFC 5424 wants them: printable ASCII, `-` when empty.
pub struct Header {
    pub hostname: String,
    pub pid: u32,
}

fn printable(text: &str, max: usize) -> String {
    let cleaned: String = text.chars().filter(|c| c.is_ascii_graphic()).take(max).collect();
    if cleaned.is_empty() {
        "-".into()
    } else {
        cleaned
    }
}

/// A PARAM-NAME: printable ASCII but `=`, space, `]` and `"`, at most 32.
fn param_name(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_graphic() && !matches!(c, '=' | ']' | '"')).take(32).collect()
}

/// A PARAM-VALUE: UTF-8 with `"`, `\` and `]` escaped by a backslash; bytes that
/// are not UTF-8 as `\xNN` (the log's own escaping; RFC 5424 keeps a backslash
/// before any other character as it is).
fn param_value(out: &mut Vec<u8>, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        for byte in chunk.valid().bytes() {
            if matches!(byte, b'"' | b'\\' | b']') {
                out.push(b'\\');
            }
            out.push(byte);
        }
        for byte in chunk.invalid() {
            out.extend_from_slice(format!("\\x{byte:02x}").as_bytes());
        }
    }
}

fn value_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::Str(text) => text.as_bytes().to_vec(),
        Value::Bytes(bytes) => bytes.clone(),
        Value::Uint(n) => n.to_string().into_bytes(),
        Value::Int(n) => n.to_string().into_bytes(),
        Value::Bool(b) => b.to_string().into_bytes(),
        Value::List(_) | Value::Map(_) => {
            let mut out = Vec::new();
            write_json_value(&mut out, value);
            out
        }
    }
}

/// One RFC 5424 message (no framing, no trailing newline). `json` is the record's
/// JSON line.
pub fn encode(record: &Record, json: &[u8], header: &Header) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + json.len() * 2);
    let pri = FACILITY * 8 + severity(record.level);
    out.extend_from_slice(format!("<{pri}>1 ").as_bytes());
    write_rfc3339(&mut out, record.time);
    let msgid = printable(&format!("{}.{}", record.module, record.op), 32);
    out.extend_from_slice(
        format!(" {} safeguard {} {msgid} [{SD_ID}", printable(&header.hostname, 255), header.pid).as_bytes(),
    );
    let param = |out: &mut Vec<u8>, name: &str, value: &[u8]| {
        let name = param_name(name);
        if name.is_empty() {
            return;
        }
        out.push(b' ');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        param_value(out, value);
        out.push(b'"');
    };
    param(&mut out, "level", record.level.name().as_bytes());
    param(&mut out, "module", record.module.as_bytes());
    param(&mut out, "op", record.op.as_bytes());
    if let Some(action) = record.action {
        param(&mut out, "action", action.name().as_bytes());
    }
    if let Some(rule) = &record.rule {
        param(&mut out, "rule", rule.as_bytes());
    }
    for (name, value) in &record.fields {
        param(&mut out, name, &value_bytes(value));
    }
    out.extend_from_slice(b"] ");
    out.extend_from_slice(json.strip_suffix(b"\n").unwrap_or(json));
    out
}

/// RFC 6587 octet counting: `LEN SP MSG`.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = format!("{} ", message.len()).into_bytes();
    out.extend_from_slice(message);
    out
}

/// Where the messages go.
pub enum Syslog {
    Unix { socket: UnixDatagram, path: PathBuf },
    Udp { socket: UdpSocket },
    Tcp(TcpQueue),
}

impl Syslog {
    pub fn open(target: &SyslogTarget, stats: Arc<OutputStats>) -> io::Result<Syslog> {
        match target {
            SyslogTarget::Unix(path) => {
                let socket = UnixDatagram::unbound()?;
                socket.set_nonblocking(true)?;
                Ok(Syslog::Unix { socket, path: path.clone() })
            }
            SyslogTarget::Udp(address) => {
                let peer = resolve(address)?;
                let socket = UdpSocket::bind(if peer.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" })?;
                socket.connect(peer)?;
                socket.set_nonblocking(true)?;
                Ok(Syslog::Udp { socket })
            }
            SyslogTarget::Tcp(address) => Ok(Syslog::Tcp(TcpQueue::start(address.clone(), stats)?)),
        }
    }

    /// Ok(true): sent (or queued, for TCP: its thread counts what it then loses).
    pub fn send(&self, message: Vec<u8>) -> io::Result<()> {
        match self {
            // The path each time: a restarted syslog daemon makes a new socket there.
            Syslog::Unix { socket, path } => socket.send_to(&message, path).map(drop),
            Syslog::Udp { socket } => socket.send(&message).map(drop),
            Syslog::Tcp(queue) => queue.push(message),
        }
    }
}

fn resolve(address: &str) -> io::Result<std::net::SocketAddr> {
    address
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{address}: no address")))
}

/// The TCP sender's queue and thread.
pub struct TcpQueue {
    sender: Option<Sender<Vec<u8>>>,
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TcpQueue {
    fn start(address: String, stats: Arc<OutputStats>) -> io::Result<TcpQueue> {
        let (sender, queue) = bounded(TCP_QUEUE);
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let thread = std::thread::Builder::new()
            .name("syslog-tcp".into())
            .spawn(move || tcp_sender(&address, &queue, &flag, &stats))?;
        Ok(TcpQueue { sender: Some(sender), running, thread: Some(thread) })
    }

    fn push(&self, message: Vec<u8>) -> io::Result<()> {
        let Some(sender) = &self.sender else { return Err(io::Error::other("syslog: closed")) };
        match sender.try_send(message) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                Err(io::Error::new(io::ErrorKind::WouldBlock, "syslog: TCP queue full (collector down or slow)"))
            }
            Err(TrySendError::Disconnected(_)) => Err(io::Error::other("syslog: TCP sender ended")),
        }
    }
}

impl Drop for TcpQueue {
    /// Gives the sender a moment to deliver what is queued (the stop record), then
    /// stops it; what it could not send is counted as lost.
    fn drop(&mut self) {
        self.sender = None;
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        if let Some(thread) = self.thread.take() {
            while !thread.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            self.running.store(false, Ordering::Relaxed);
            let _ = thread.join();
        }
    }
}

fn tcp_sender(address: &str, queue: &Receiver<Vec<u8>>, running: &AtomicBool, stats: &OutputStats) {
    let mut stream: Option<TcpStream> = None;
    let mut pause = Duration::from_millis(250);
    let mut reported = false;
    loop {
        let message = match queue.recv_timeout(Duration::from_millis(200)) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) if running.load(Ordering::Relaxed) => continue,
            Err(_) => break,
        };
        // Connect (again) before sending; while the collector is away the queue fills.
        while stream.is_none() && running.load(Ordering::Relaxed) {
            match connect(address) {
                Ok(connected) => {
                    if reported {
                        log::warn!("syslog: connected to tcp:{address} again");
                    }
                    stream = Some(connected);
                    pause = Duration::from_millis(250);
                    reported = false;
                }
                Err(err) => {
                    if !reported {
                        log::error!("syslog: cannot connect to tcp:{address}: {err}; retrying, records wait in a queue of {TCP_QUEUE} (then counted as lost)");
                        reported = true;
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(30));
                }
            }
        }
        let Some(connection) = stream.as_mut() else {
            stats.lost.fetch_add(1, Ordering::Relaxed);
            break;
        };
        match connection.write_all(&frame(&message)) {
            Ok(()) => {
                stats.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(err) => {
                // Whether the collector got part of it is unknown: counted as lost.
                stats.lost.fetch_add(1, Ordering::Relaxed);
                log::error!("syslog: tcp:{address}: {err}; reconnecting");
                reported = true;
                stream = None;
            }
        }
    }
    let left = queue.try_iter().count() as u64;
    stats.lost.fetch_add(left, Ordering::Relaxed);
}

fn connect(address: &str) -> io::Result<TcpStream> {
    let peer = resolve(address)?;
    let stream = TcpStream::connect_timeout(&peer, Duration::from_secs(5))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::Action;
    use std::io::Read;
    use std::time::UNIX_EPOCH;

    fn record() -> Record {
        Record {
            time: UNIX_EPOCH + Duration::from_micros(1_764_900_000_123_456),
            action: Some(Action::Blocked),
            rule: Some("{ path = \"/etc/shadow\" }".into()),
            ..Record::new(Level::Warning, "file", "read")
        }
        .field("path", Value::Bytes(b"/x]y\"z\\\xff".to_vec()))
        .field("pid", Value::Uint(7))
    }

    #[test]
    fn rfc5424_message_with_structured_data() {
        let header = Header { hostname: "web 1".into(), pid: 99 };
        let message = encode(&record(), b"{\"json\":1}\n", &header);
        let text = String::from_utf8(message).unwrap();
        assert_eq!(
            text,
            concat!(
                "<84>1 2025-12-05T02:00:00.123456Z web1 safeguard 99 file.read [safeguard@32473 level=\"WARNING\" ",
                "module=\"file\" op=\"read\" action=\"BLOCKED\" rule=\"{ path = \\\"/etc/shadow\\\" }\" ",
                "path=\"/x\\]y\\\"z\\\\\\xff\" pid=\"7\"] {\"json\":1}"
            )
        );
        // authpriv (10) * 8 + severity: ERROR is 3, INFO 6.
        let info = Record::new(Level::Info, "agent", "start");
        assert!(encode(&info, b"{}", &header).starts_with(b"<86>1 "));
        let empty = Header { hostname: String::new(), pid: 1 };
        assert!(String::from_utf8(encode(&info, b"{}", &empty)).unwrap().contains("Z - safeguard 1 agent.start ["));
    }

    #[test]
    fn octet_counting_frames() {
        assert_eq!(frame(b"<86>1 x"), b"7 <86>1 x");
        assert_eq!(frame("é".as_bytes()), "2 é".as_bytes(), "the length counts bytes");
    }

    #[test]
    fn tcp_reconnects_and_counts_what_it_loses() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let stats = Arc::new(OutputStats::default());
        let syslog = Syslog::open(&SyslogTarget::Tcp(address), stats.clone()).unwrap();
        syslog.send(b"one".to_vec()).unwrap();
        syslog.send(b"two".to_vec()).unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        let mut got = vec![0u8; 10];
        conn.read_exact(&mut got).unwrap();
        assert_eq!(got, b"3 one3 two");
        drop(conn);
        drop(listener);
        // The collector is gone: the sender notices on a later write, reconnects (and
        // fails); nothing blocks the caller, and at the end everything is accounted.
        for _ in 0..20 {
            let _ = syslog.send(b"more".to_vec());
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(syslog);
        let (sent, lost) = (stats.sent.load(Ordering::Relaxed), stats.lost.load(Ordering::Relaxed));
        assert_eq!(sent + lost, 22, "sent {sent} lost {lost}");
        assert!(lost > 0);
    }
}
