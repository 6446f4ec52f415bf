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
//!   tcp-echo ADDR:PORT                   TCP listener: read, write it back, close, forever
//!   talk ADDR:PORT                       TCP connect, write, read the answer
//!   sock PROTO OP ADDR:PORT              one socket of PROTO (tcp mptcp udp udplite), then
//!                                        OP: bind, listen (bind + listen), connect, sendto
//!   peername ADDR:PORT                   TCP connect, then getpeername
//!   echo ADDR:PORT TIMEOUT_MS            bind UDP, answer one datagram to its sender
//!   ask ADDR:PORT TIMEOUT_MS             one UDP datagram, then wait for the answer
//!   listen-many COUNT                    COUNT (<= 12000) listeners on 127.0.0.1:20000.., all open
//!                                        (the open-file limit raised), then closed
//!   unspec udp|icmp|raw6 ADDR:PORT       sendto with sa_family = AF_UNSPEC from a UDP,
//!                                        raw ICMP or raw ICMPv6 socket
//!   hdrincl raw|udp|raw6|udp6|split SOCKADDR HDR_DST
//!                                        a raw send whose own IP header names HDR_DST while
//!                                        the sockaddr names SOCKADDR (IPPROTO_RAW, or
//!                                        IP(V6)_HDRINCL on a UDP raw socket; split: the
//!                                        header spread over two iovecs)
//!   tfo ADDR:PORT                        TCP fast open: sendto(MSG_FASTOPEN), no connect()
//!   tfo-connect ADDR:PORT                TCP_FASTOPEN_CONNECT, connect(), write()

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
        ["tcp-echo", addr] => tcp_echo(addr),
        ["talk", addr] => talk(addr),
        ["peername", addr] => TcpStream::connect(sock(addr)).and_then(|s| s.peer_addr()).map(|p| format!("ok peer {p}")),
        ["echo", addr, ms] => echo(addr, ms.parse().unwrap_or(3000)),
        ["ask", addr, ms] => ask(addr, ms.parse().unwrap_or(3000)),
        ["listen-many", count] => listen_many(count.parse().unwrap_or(1)),
        ["unspec", kind, addr] => raw::unspec(kind, sock(addr)),
        ["hdrincl", kind, to, dst] => raw::hdrincl(kind, sock(to), ip(dst)),
        ["tfo", addr] => raw::tfo(sock(addr), false),
        ["tfo-connect", addr] => raw::tfo(sock(addr), true),
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

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or_else(|_| {
        eprintln!("not an address: {text}");
        std::process::exit(2)
    })
}

fn echo(addr: &str, ms: u64) -> std::io::Result<String> {
    let socket = UdpSocket::bind(sock(addr))?;
    println!("listening {}", socket.local_addr()?);
    socket.set_read_timeout(Some(Duration::from_millis(ms)))?;
    let mut buf = [0u8; 1500];
    let (n, from) = socket.recv_from(&mut buf)?;
    socket.send_to(&buf[..n], from)?;
    Ok(format!("ok answered {from}"))
}

fn ask(addr: &str, ms: u64) -> std::io::Result<String> {
    let dst = sock(addr);
    let socket = UdpSocket::bind(if dst.is_ipv4() { sock("0.0.0.0:0") } else { sock("[::]:0") })?;
    socket.send_to(b"sg-nettool", dst)?;
    socket.set_read_timeout(Some(Duration::from_millis(ms)))?;
    let mut buf = [0u8; 1500];
    let (n, from) = socket.recv_from(&mut buf)?;
    Ok(format!("ok answer of {n} bytes from {from}"))
}

fn listen_many(count: u32) -> std::io::Result<String> {
    raw::raise_nofile(u64::from(count) + 64)?;
    let mut all = Vec::new();
    // Ports of their own, below the ephemeral range: a search for a free port each
    // time would make this quadratic.
    for i in 0..count.min(12000) {
        all.push(TcpListener::bind(("127.0.0.1", 20000 + i as u16))?);
    }
    Ok(format!("ok {} listeners", all.len()))
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

fn tcp_echo(addr: &str) -> std::io::Result<String> {
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

// ---- raw sockets, AF_UNSPEC and TCP fast open, through libc (std has no API for them)

mod raw {
    use std::io::{Error, Result};
    use std::net::{IpAddr, SocketAddr};

    const AF_INET: i32 = 2;
    const AF_INET6: i32 = 10;
    const SOCK_STREAM: i32 = 1;
    const SOCK_DGRAM: i32 = 2;
    const SOCK_RAW: i32 = 3;
    const IPPROTO_IP: i32 = 0;
    const IPPROTO_ICMP: i32 = 1;
    const IPPROTO_TCP: i32 = 6;
    const IPPROTO_UDP: i32 = 17;
    const IPPROTO_IPV6: i32 = 41;
    const IPPROTO_ICMPV6: i32 = 58;
    const IPPROTO_RAW: i32 = 255;
    const IP_HDRINCL: i32 = 3;
    const IPV6_HDRINCL: i32 = 36;
    const TCP_FASTOPEN_CONNECT: i32 = 30;
    const MSG_FASTOPEN: i32 = 0x2000_0000;
    const RLIMIT_NOFILE: i32 = 7;

    #[repr(C)]
    struct IoVec {
        base: *const u8,
        len: usize,
    }

    #[repr(C)]
    struct MsgHdr {
        name: *const u8,
        namelen: u32,
        iov: *const IoVec,
        iovlen: usize,
        control: *const u8,
        controllen: usize,
        flags: i32,
    }

    #[repr(C)]
    struct RLimit {
        cur: u64,
        max: u64,
    }

    extern "C" {
        fn socket(domain: i32, kind: i32, protocol: i32) -> i32;
        fn setsockopt(fd: i32, level: i32, name: i32, value: *const i32, len: u32) -> i32;
        fn sendto(fd: i32, buf: *const u8, len: usize, flags: i32, addr: *const u8, addrlen: u32) -> isize;
        fn sendmsg(fd: i32, msg: *const MsgHdr, flags: i32) -> isize;
        fn connect(fd: i32, addr: *const u8, addrlen: u32) -> i32;
        fn write(fd: i32, buf: *const u8, len: usize) -> isize;
        fn close(fd: i32) -> i32;
        fn setrlimit(resource: i32, limit: *const RLimit) -> i32;
    }

    struct Fd(i32);

    impl Drop for Fd {
        fn drop(&mut self) {
            // SAFETY: the descriptor is ours and closed once.
            unsafe { close(self.0) };
        }
    }

    fn check(ret: isize) -> Result<usize> {
        if ret < 0 {
            Err(Error::last_os_error())
        } else {
            Ok(ret as usize)
        }
    }

    /// RLIMIT_NOFILE to n (root may raise the hard limit).
    pub fn raise_nofile(n: u64) -> Result<()> {
        let limit = RLimit { cur: n, max: n };
        // SAFETY: the limit lives across the call.
        check(unsafe { setrlimit(RLIMIT_NOFILE, &limit) } as isize).map(|_| ())
    }

    fn open(domain: i32, kind: i32, protocol: i32) -> Result<Fd> {
        // SAFETY: plain syscall wrapper.
        let fd = unsafe { socket(domain, kind, protocol) };
        check(fd as isize).map(|_| Fd(fd))
    }

    fn set(fd: &Fd, level: i32, name: i32) -> Result<()> {
        let one = 1i32;
        // SAFETY: the option value is a live i32.
        check(unsafe { setsockopt(fd.0, level, name, &one, 4) } as isize).map(|_| ())
    }

    /// A sockaddr_in or sockaddr_in6 for addr with the given sa_family.
    fn sockaddr(addr: SocketAddr, family: u16) -> Vec<u8> {
        let mut sa = Vec::new();
        sa.extend_from_slice(&family.to_ne_bytes());
        sa.extend_from_slice(&addr.port().to_be_bytes());
        match addr.ip() {
            IpAddr::V4(v4) => {
                sa.extend_from_slice(&v4.octets());
                sa.extend_from_slice(&[0; 8]);
            }
            IpAddr::V6(v6) => {
                sa.extend_from_slice(&[0; 4]);
                sa.extend_from_slice(&v6.octets());
                sa.extend_from_slice(&[0; 4]);
            }
        }
        sa
    }

    fn send_to(fd: &Fd, data: &[u8], flags: i32, sa: &[u8]) -> Result<usize> {
        // SAFETY: both buffers live across the call.
        check(unsafe { sendto(fd.0, data.as_ptr(), data.len(), flags, sa.as_ptr(), sa.len() as u32) })
    }

    fn echo_request(kind: u8) -> Vec<u8> {
        let mut p = vec![kind, 0, 0, 0, 0x53, 0x47, 0, 1, b's', b'g'];
        let sum = checksum(&p);
        p[2..4].copy_from_slice(&sum.to_be_bytes());
        p
    }

    fn checksum(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in data.chunks(2) {
            sum += u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    pub fn unspec(kind: &str, to: SocketAddr) -> Result<String> {
        let (fd, data) = match kind {
            "udp" => (open(AF_INET, SOCK_DGRAM, 0)?, b"sg-nettool".to_vec()),
            "icmp" => (open(AF_INET, SOCK_RAW, IPPROTO_ICMP)?, echo_request(8)),
            "raw6" => (open(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)?, echo_request(128)),
            _ => return Err(Error::other("unspec: udp, icmp or raw6")),
        };
        let n = send_to(&fd, &data, 0, &sockaddr(to, 0))?;
        Ok(format!("ok sent {n} bytes to {to} with AF_UNSPEC"))
    }

    /// An IP header to dst (source = dst: a local address) with a UDP datagram to
    /// port 9 (checksum 0: none, allowed for IPv4).
    fn packet(dst: IpAddr) -> Vec<u8> {
        let udp = [0x30, 0x39, 0, 9, 0, 10, 0, 0, b's', b'g'];
        let mut p = Vec::new();
        match dst {
            IpAddr::V4(v4) => {
                p.extend_from_slice(&[0x45, 0, 0, (20 + udp.len()) as u8, 0, 0, 0, 0, 64, 17, 0, 0]);
                p.extend_from_slice(&v4.octets());
                p.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                p.extend_from_slice(&[0x60, 0, 0, 0, 0, udp.len() as u8, 17, 64]);
                p.extend_from_slice(&v6.octets());
                p.extend_from_slice(&v6.octets());
            }
        }
        p.extend_from_slice(&udp);
        p
    }

    pub fn hdrincl(kind: &str, to: SocketAddr, dst: IpAddr) -> Result<String> {
        let domain = if to.is_ipv4() { AF_INET } else { AF_INET6 };
        let fd = match kind {
            "raw" | "raw6" | "split" => open(domain, SOCK_RAW, IPPROTO_RAW)?,
            "udp" => {
                let fd = open(AF_INET, SOCK_RAW, IPPROTO_UDP)?;
                set(&fd, IPPROTO_IP, IP_HDRINCL)?;
                fd
            }
            "udp6" => {
                let fd = open(AF_INET6, SOCK_RAW, IPPROTO_UDP)?;
                set(&fd, IPPROTO_IPV6, IPV6_HDRINCL)?;
                fd
            }
            _ => return Err(Error::other("hdrincl: raw, udp, raw6, udp6 or split")),
        };
        let data = packet(dst);
        let sa = sockaddr(to, domain as u16);
        let n = if kind == "split" {
            let iov = [IoVec { base: data.as_ptr(), len: 4 }, IoVec { base: data[4..].as_ptr(), len: data.len() - 4 }];
            let msg = MsgHdr {
                name: sa.as_ptr(),
                namelen: sa.len() as u32,
                iov: iov.as_ptr(),
                iovlen: 2,
                control: std::ptr::null(),
                controllen: 0,
                flags: 0,
            };
            // SAFETY: msg and everything it points to live across the call.
            check(unsafe { sendmsg(fd.0, &msg, 0) })?
        } else {
            send_to(&fd, &data, 0, &sa)?
        };
        Ok(format!("ok sent {n} bytes to {to} with a header for {dst}"))
    }

    pub fn tfo(to: SocketAddr, connect_first: bool) -> Result<String> {
        let domain = if to.is_ipv4() { AF_INET } else { AF_INET6 };
        let fd = open(domain, SOCK_STREAM, 0)?;
        let sa = sockaddr(to, domain as u16);
        let n = if connect_first {
            set(&fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT)?;
            // SAFETY: sa lives across the call.
            check(unsafe { connect(fd.0, sa.as_ptr(), sa.len() as u32) } as isize)?;
            // SAFETY: the buffer lives across the call.
            check(unsafe { write(fd.0, b"sg".as_ptr(), 2) })?
        } else {
            send_to(&fd, b"sg", MSG_FASTOPEN, &sa)?
        };
        Ok(format!("ok fast open to {to}: sent {n} bytes"))
    }
}
