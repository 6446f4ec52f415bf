//! syslog (RFC 5424): one message per record, to a local datagram socket, over UDP,
//! or over TCP with octet-counting framing (RFC 6587 section 3.4.1).
//!
//! `<PRI>1 TIMESTAMP HOST safeguard PID MSGID [safeguard@32473 ...] MSG`: facility
//! authpriv (security records), the severity from the level, MSGID `module.op`,
//! the record's head and fields as structured data (SD-ID under 32473, the
//! enterprise number RFC 5612 reserves for documentation: we have none of our own),
//! and the record's JSON line as MSG, so a collector can take either.
//!
//! TCP and the local socket run on a thread of their own behind a bounded queue
//! (`queue`): a collector that is down or slow never blocks the writer; TCP
//! reconnects with a growing pause (up to 30 s), and the records that find the queue
//! full are counted as lost.

use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::queue::Queued;
use super::{value_bytes, OutputStats};
use crate::config::SyslogTarget;
use crate::logging::{write_rfc3339, Level, Record};

/// LOG_AUTHPRIV
const FACILITY: u8 = 10;
const SD_ID: &str = "safeguard@32473";

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

/// Where the messages go: UDP straight from the writer (a datagram is sent or
/// refused at once), the others through a queue and a thread of their own.
pub enum Syslog {
    Udp { socket: UdpSocket },
    Queued(Queued),
}

/// A datagram socket or a TCP connection waits this long at most for room.
const SEND_TIMEOUT: Duration = Duration::from_secs(1);

impl Syslog {
    pub fn open(target: &SyslogTarget, stats: Arc<OutputStats>) -> io::Result<Syslog> {
        match target {
            SyslogTarget::Unix(path) => {
                let socket = UnixDatagram::unbound()?;
                // A local daemon takes datagrams as fast as it reads them
                // (net.unix.max_dgram_qlen): wait a little rather than drop a burst.
                socket.set_write_timeout(Some(SEND_TIMEOUT))?;
                let path = path.clone();
                // The path each time: a restarted syslog daemon makes a new socket there.
                let deliver = move |message: &[u8], _: &AtomicBool| socket.send_to(message, &path).map(drop);
                Ok(Syslog::Queued(Queued::start("syslog", stats, deliver)?))
            }
            SyslogTarget::Udp(address) => {
                let peer = resolve(address)?;
                let socket = UdpSocket::bind(if peer.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" })?;
                socket.connect(peer)?;
                socket.set_nonblocking(true)?;
                Ok(Syslog::Udp { socket })
            }
            SyslogTarget::Tcp(address) => {
                let mut tcp = Tcp { address: address.clone(), stream: None, pause: RETRY_FIRST, reported: false };
                let deliver = move |message: &[u8], running: &AtomicBool| tcp.deliver(message, running);
                Ok(Syslog::Queued(Queued::start("syslog", stats, deliver)?))
            }
        }
    }

    /// Ok: sent (UDP), or queued (its thread counts what it then sends or loses).
    pub fn send(&self, message: Vec<u8>) -> io::Result<()> {
        match self {
            Syslog::Udp { socket } => socket.send(&message).map(drop),
            Syslog::Queued(queue) => queue.push(message),
        }
    }

    pub fn counts_itself(&self) -> bool {
        matches!(self, Syslog::Queued(_))
    }
}

fn resolve(address: &str) -> io::Result<std::net::SocketAddr> {
    address
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{address}: no address")))
}

const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// A TCP collector: connected on demand, reconnected with a growing pause while it
/// is away (the queue fills meanwhile).
struct Tcp {
    address: String,
    stream: Option<TcpStream>,
    pause: Duration,
    reported: bool,
}

impl Tcp {
    fn deliver(&mut self, message: &[u8], running: &AtomicBool) -> io::Result<()> {
        while self.stream.is_none() {
            if !running.load(Ordering::Relaxed) {
                return Err(io::Error::other("stopping, not connected"));
            }
            match connect(&self.address) {
                Ok(stream) => {
                    if self.reported {
                        log::warn!("syslog: connected to tcp:{} again", self.address);
                    }
                    self.stream = Some(stream);
                    self.pause = RETRY_FIRST;
                    self.reported = false;
                }
                Err(err) => {
                    if !self.reported {
                        log::error!(
                            "syslog: cannot connect to tcp:{}: {err}; retrying, records wait in a queue of {} (then counted as lost)",
                            self.address,
                            super::queue::CAPACITY
                        );
                        self.reported = true;
                    }
                    // In steps, so that a stopping agent is not held by a long pause.
                    let until = std::time::Instant::now() + self.pause;
                    while running.load(Ordering::Relaxed) && std::time::Instant::now() < until {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    self.pause = (self.pause * 2).min(RETRY_MAX);
                }
            }
        }
        let Some(stream) = self.stream.as_mut() else { return Err(io::Error::other("not connected")) };
        let result = stream.write_all(&frame(message));
        if result.is_err() {
            // Whether the collector got part of it is unknown: counted as lost, and
            // the next record reconnects.
            self.stream = None;
        }
        result
    }
}

fn connect(address: &str) -> io::Result<TcpStream> {
    let peer = resolve(address)?;
    let stream = TcpStream::connect_timeout(&peer, Duration::from_secs(5))?;
    stream.set_write_timeout(Some(SEND_TIMEOUT * 5))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::{Action, Value};
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
