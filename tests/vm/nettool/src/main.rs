//! sg-nettool: socket operations for the VM scenarios, each reporting the kernel's
//! answer on stdout (`ok ...` and exit 0, or `error: <os error>` and exit 1).
//!
//!   connect ADDR:PORT [TIMEOUT_MS]       TCP connect (an IPv6 socket for [::ffff:a.b.c.d])
//!   sendto ADDR:PORT                     one UDP datagram from an unbound socket
//!   sendfrom SRC:PORT ADDR:PORT          one UDP datagram from a bound socket
//!   bind ADDR:PORT                       bind a UDP socket
//!   recv ADDR:PORT TIMEOUT_MS            bind UDP, wait for one datagram, print its source
//!   serve ADDR:PORT                      TCP listener: accept and close, forever
//!   dnsd ADDR:PORT ZONEFILE              a DNS responder: A and AAAA from ZONEFILE lines
//!                                        "name ttl address", re-read for every query
//!   bench ADDR:PORT COUNT                COUNT x (connect + accept + close) to a listener
//!                                        of its own; prints the time per operation
//!   echo ADDR:PORT                       TCP listener: read, write it back, close, forever
//!   talk ADDR:PORT                       TCP connect, write, read the answer
//!   sock PROTO OP ADDR:PORT              one socket of PROTO (tcp mptcp udp udplite), then
//!                                        OP: bind, listen (bind + listen), connect, sendto

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["connect", addr] => connect(addr, 3000),
        ["connect", addr, ms] => connect(addr, ms.parse().unwrap_or(3000)),
        ["sendto", addr] => sendto(None, addr),
        ["sendfrom", src, addr] => sendto(Some(src), addr),
        ["bind", addr] => UdpSocket::bind(sock(addr)).map(|s| format!("ok bound {}", s.local_addr().unwrap_or(sock(addr)))),
        ["recv", addr, ms] => recv(addr, ms.parse().unwrap_or(3000)),
        ["serve", addr] => serve(addr),
        ["dnsd", addr, zone] => dnsd(addr, zone),
        ["bench", addr, count] => bench(addr, count.parse().unwrap_or(1000)),
        ["sock", proto, op, addr] => raw_sock(proto, op, addr),
        ["echo", addr] => echo(addr),
        ["talk", addr] => talk(addr),
        _ => {
            eprintln!("usage: sg-nettool connect|sendto|sendfrom|bind|recv|serve|dnsd|bench ...");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn sock(text: &str) -> SocketAddr {
    text.parse().unwrap_or_else(|_| {
        eprintln!("not an ADDR:PORT: {text}");
        std::process::exit(2)
    })
}

fn connect(addr: &str, ms: u64) -> std::io::Result<String> {
    let stream = TcpStream::connect_timeout(&sock(addr), Duration::from_millis(ms))?;
    Ok(format!("ok connected {} -> {}", stream.local_addr()?, stream.peer_addr()?))
}

fn sendto(src: Option<&str>, addr: &str) -> std::io::Result<String> {
    let dst = sock(addr);
    let local = match src {
        Some(src) => sock(src),
        None if dst.is_ipv4() => sock("0.0.0.0:0"),
        None => sock("[::]:0"),
    };
    let socket = UdpSocket::bind(local)?;
    let n = socket.send_to(b"sg-nettool", dst)?;
    Ok(format!("ok sent {n} bytes to {dst}"))
}

fn recv(addr: &str, ms: u64) -> std::io::Result<String> {
    let socket = UdpSocket::bind(sock(addr))?;
    println!("listening {}", socket.local_addr()?);
    socket.set_read_timeout(Some(Duration::from_millis(ms)))?;
    let mut buf = [0u8; 1500];
    let (n, from) = socket.recv_from(&mut buf)?;
    Ok(format!("ok received {n} bytes from {from}"))
}

fn serve(addr: &str) -> std::io::Result<String> {
    let listener = TcpListener::bind(sock(addr))?;
    println!("listening {}", listener.local_addr()?);
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                println!("accepted {peer}");
                drop(stream);
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}

fn echo(addr: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let listener = TcpListener::bind(sock(addr))?;
    println!("listening {}", listener.local_addr()?);
    loop {
        let (mut stream, peer) = listener.accept()?;
        let mut buf = [0u8; 64];
        let result = stream.read(&mut buf).and_then(|n| stream.write_all(&buf[..n]).map(|()| n));
        match result {
            Ok(n) => println!("echoed {n} bytes to {peer}"),
            Err(err) => println!("error: echo to {peer}: {err}"),
        }
    }
}

fn talk(addr: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect_timeout(&sock(addr), Duration::from_millis(3000))?;
    stream.set_read_timeout(Some(Duration::from_millis(3000)))?;
    stream.write_all(b"ping")?;
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf)?;
    Ok(format!("ok answer {:?} from {}", String::from_utf8_lossy(&buf[..n]), stream.peer_addr()?))
}

fn bench(addr: &str, count: u32) -> std::io::Result<String> {
    let listener = TcpListener::bind(sock(addr))?;
    let target = listener.local_addr()?;
    let cpu_start = cpu_ns();
    let start = Instant::now();
    for _ in 0..count {
        let client = TcpStream::connect(target)?;
        let (server, _) = listener.accept()?;
        drop(client);
        drop(server);
    }
    let ns = start.elapsed().as_nanos();
    let cpu = cpu_ns().saturating_sub(cpu_start);
    let per = |total: u128| total / u128::from(count.max(1));
    Ok(format!("ok bench count={count} total_ns={ns} ns_per_op={} cpu_ns_per_op={}", per(ns), per(cpu.into())))
}

/// This task's CPU time in ns (the scheduler's exact sum, /proc/self/schedstat): other
/// tasks running meanwhile do not count, softirq work done in our context does.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

// ---- the DNS responder

fn dnsd(addr: &str, zone: &str) -> std::io::Result<String> {
    let socket = UdpSocket::bind(sock(addr))?;
    println!("dnsd on {}", socket.local_addr()?);
    let mut buf = [0u8; 512];
    loop {
        let (n, peer) = socket.recv_from(&mut buf)?;
        let text = std::fs::read_to_string(zone).unwrap_or_default();
        if let Some(reply) = answer(&buf[..n], &text) {
            let _ = socket.send_to(&reply, peer);
        }
    }
}

/// The reply to one query: the zone's addresses of the asked type, NXDOMAIN when the
/// zone does not know the name.
fn answer(query: &[u8], zone: &str) -> Option<Vec<u8>> {
    if query.len() < 17 {
        return None;
    }
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = *query.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_lowercase());
        at += len;
    }
    let name = labels.join(".");
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    let question_end = at + 4;
    let mut known = false;
    let mut records = Vec::new();
    for line in zone.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [zname, ttl, address] = words.as_slice() else { continue };
        if zname.trim_end_matches('.').to_lowercase() != name {
            continue;
        }
        known = true;
        let ttl: u32 = ttl.parse().unwrap_or(5);
        match address.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) if qtype == 1 => records.push((1u16, ttl, v4.octets().to_vec())),
            Ok(IpAddr::V6(v6)) if qtype == 28 => records.push((28u16, ttl, v6.octets().to_vec())),
            _ => {}
        }
    }
    let mut reply = query.get(..question_end)?.to_vec();
    reply[2] = 0x84 | (query[2] & 0x01); // response, authoritative, RD copied
    reply[3] = if known { 0x80 } else { 0x83 }; // RA; NXDOMAIN when unknown
    reply[4..6].copy_from_slice(&[0, 1]);
    reply[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
    reply[8..12].copy_from_slice(&[0, 0, 0, 0]);
    for (rtype, ttl, data) in records {
        reply.extend_from_slice(&[0xc0, 12]);
        reply.extend_from_slice(&rtype.to_be_bytes());
        reply.extend_from_slice(&[0, 1]);
        reply.extend_from_slice(&ttl.to_be_bytes());
        reply.extend_from_slice(&(data.len() as u16).to_be_bytes());
        reply.extend_from_slice(&data);
    }
    Some(reply)
}

// ---- sockets std cannot make (MPTCP, UDP-Lite), through libc directly

mod libc {
    extern "C" {
        pub fn socket(domain: i32, ty: i32, protocol: i32) -> i32;
        pub fn bind(fd: i32, addr: *const u8, len: u32) -> i32;
        pub fn listen(fd: i32, backlog: i32) -> i32;
        pub fn connect(fd: i32, addr: *const u8, len: u32) -> i32;
        pub fn sendto(fd: i32, buf: *const u8, len: usize, flags: i32, addr: *const u8, alen: u32) -> isize;
        pub fn close(fd: i32) -> i32;
    }
}

fn raw_sock(proto: &str, op: &str, addr: &str) -> std::io::Result<String> {
    let (ty, protocol) = match proto {
        "tcp" => (1, 6),
        "mptcp" => (1, 262),
        "udp" => (2, 17),
        "udplite" => (2, 136),
        _ => {
            eprintln!("unknown protocol {proto}");
            std::process::exit(2)
        }
    };
    let target = sock(addr);
    let mut raw = Vec::new();
    let domain = match target {
        SocketAddr::V4(v4) => {
            raw.extend_from_slice(&2u16.to_ne_bytes());
            raw.extend_from_slice(&v4.port().to_be_bytes());
            raw.extend_from_slice(&v4.ip().octets());
            raw.extend_from_slice(&[0; 8]);
            2
        }
        SocketAddr::V6(v6) => {
            raw.extend_from_slice(&10u16.to_ne_bytes());
            raw.extend_from_slice(&v6.port().to_be_bytes());
            raw.extend_from_slice(&[0; 4]);
            raw.extend_from_slice(&v6.ip().octets());
            raw.extend_from_slice(&[0; 4]);
            10
        }
    };
    let check = |what: &str, rc: isize| {
        if rc < 0 {
            let err = std::io::Error::last_os_error();
            Err(std::io::Error::new(err.kind(), format!("{what}: {err}")))
        } else {
            Ok(())
        }
    };
    // SAFETY: plain syscalls on a socket this function owns, with buffers that outlive them.
    unsafe {
        let fd = libc::socket(domain, ty, protocol);
        check("socket", fd as isize)?;
        let len = raw.len() as u32;
        let result = match op {
            "bind" => check("bind", libc::bind(fd, raw.as_ptr(), len) as isize),
            "listen" => check("bind", libc::bind(fd, raw.as_ptr(), len) as isize)
                .and_then(|()| check("listen", libc::listen(fd, 8) as isize)),
            "connect" => check("connect", libc::connect(fd, raw.as_ptr(), len) as isize),
            "sendto" => check("sendto", libc::sendto(fd, b"sg".as_ptr(), 2, 0, raw.as_ptr(), len)),
            _ => {
                eprintln!("unknown op {op}");
                std::process::exit(2)
            }
        };
        libc::close(fd);
        result.map(|()| format!("ok {op} {proto} {target}"))
    }
}
