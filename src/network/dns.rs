//! A small DNS stub resolver: A and AAAA queries over UDP to the servers of
//! /etc/resolv.conf, with the answer's TTL. Written here rather than pulled in as a
//! crate: the agent needs two record types, no cache and no async runtime, and the
//! static binary stays small (hickory-resolver brings tokio and ~60 crates).
//! Packet building and parsing are pure and unit-tested.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::{FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

pub const TYPE_A: u16 = 1;
pub const TYPE_AAAA: u16 = 28;
const TYPE_CNAME: u16 = 5;
const CLASS_IN: u16 = 1;
/// TTL assumed for a name without addresses (NXDOMAIN or an empty answer).
pub const NEGATIVE_TTL: u32 = 30;

/// The name servers of a resolv.conf (at most three, as libc), port 53; libc's
/// default (the local host) when it names none.
pub fn name_servers(resolv_conf: &str) -> Vec<SocketAddr> {
    let mut servers: Vec<SocketAddr> = resolv_conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next()).flatten()
        })
        .filter_map(|addr| addr.split('%').next()?.parse::<IpAddr>().ok())
        .map(|addr| SocketAddr::new(addr, 53))
        .take(3)
        .collect();
    if servers.is_empty() {
        servers.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53));
    }
    servers
}

/// A query for one name and type, recursion desired.
pub fn query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut packet = Vec::with_capacity(32 + name.len());
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; 1 question
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        packet.push(label.len() as u8);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    packet.extend_from_slice(&qtype.to_be_bytes());
    packet.extend_from_slice(&CLASS_IN.to_be_bytes());
    Some(packet)
}

/// The addresses of the answer and the smallest TTL among the records used
/// (`u32::MAX` from `parse` when it has no address: the other type's TTL counts).
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub addrs: Vec<IpAddr>,
    pub ttl: u32,
}

fn u16_at(buf: &[u8], at: usize) -> Result<u16, String> {
    buf.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).ok_or_else(|| "short packet".to_string())
}

/// Reads a (possibly compressed) name, lowercased and without the trailing dot;
/// returns it and the offset after it in place.
fn read_name(buf: &[u8], mut at: usize) -> Result<(String, usize), String> {
    let mut labels: Vec<String> = Vec::new();
    let mut end = None;
    for _ in 0..128 {
        let len = *buf.get(at).ok_or("short packet")?;
        match len {
            0 => return Ok((labels.join("."), end.unwrap_or(at + 1))),
            l if l & 0xc0 == 0xc0 => {
                let low = *buf.get(at + 1).ok_or("short packet")?;
                end.get_or_insert(at + 2);
                at = (usize::from(l & 0x3f) << 8) | usize::from(low);
            }
            l if l & 0xc0 != 0 => return Err("bad label".into()),
            l => {
                let label = buf.get(at + 1..at + 1 + l as usize).ok_or("short packet")?;
                labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
                at += 1 + l as usize;
            }
        }
    }
    Err("name too long".into())
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `buf` is a response to `query(id, name, qtype)`: its id, and its question
/// section is exactly that one question (a spoofed or stray answer to another query is
/// not). The caller checks the source address and port.
pub fn answers_query(buf: &[u8], id: u16, name: &str, qtype: u16) -> bool {
    let matches = || -> Result<bool, String> {
        if u16_at(buf, 0)? != id || u16_at(buf, 2)? & 0x8000 == 0 || u16_at(buf, 4)? != 1 {
            return Ok(false);
        }
        let (qname, at) = read_name(buf, 12)?;
        Ok(qname == normalize(name) && u16_at(buf, at)? == qtype && u16_at(buf, at + 2)? == CLASS_IN)
    };
    matches().unwrap_or(false)
}

/// Parses the response to `query(id, name, qtype)`: the addresses of that type in the
/// answer section whose owner is the name asked or a name its CNAME chain leads to
/// (records about other names are ignored). NXDOMAIN is an empty answer; any other
/// error code is an error; so is a response to another query.
pub fn parse(buf: &[u8], id: u16, name: &str, qtype: u16) -> Result<Answer, String> {
    if !answers_query(buf, id, name, qtype) {
        return Err("answer to another query".into());
    }
    let flags = u16_at(buf, 2)?;
    match flags & 0x000f {
        0 => {}
        3 => return Ok(Answer { addrs: Vec::new(), ttl: u32::MAX }),
        2 => return Err("server failure (SERVFAIL)".into()),
        5 => return Err("query refused (REFUSED)".into()),
        code => return Err(format!("response code {code}")),
    }
    let answers = u16_at(buf, 6)?;
    let mut at = read_name(buf, 12)?.1 + 4;
    let mut cnames: Vec<(String, String, u32)> = Vec::new();
    let mut records: Vec<(String, IpAddr, u32)> = Vec::new();
    for _ in 0..answers {
        let (owner, next) = read_name(buf, at)?;
        at = next;
        let rtype = u16_at(buf, at)?;
        let class = u16_at(buf, at + 2)?;
        let rttl =
            buf.get(at + 4..at + 8).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok_or("short packet")?;
        let len = u16_at(buf, at + 8)? as usize;
        let data = buf.get(at + 10..at + 10 + len).ok_or("short packet")?;
        if class == CLASS_IN {
            match (rtype, len) {
                (TYPE_A, 4) if qtype == TYPE_A => {
                    records.push((owner, IpAddr::V4(Ipv4Addr::new(data[0], data[1], data[2], data[3])), rttl))
                }
                (TYPE_AAAA, 16) if qtype == TYPE_AAAA => {
                    let octets: [u8; 16] = data.try_into().map_err(|_| "short packet")?;
                    records.push((owner, IpAddr::V6(Ipv6Addr::from(octets)), rttl));
                }
                (TYPE_CNAME, _) => cnames.push((owner, read_name(buf, at + 10)?.0, rttl)),
                _ => {}
            }
        }
        at += 10 + len;
    }
    // The names that answer for the question: it, then where its CNAMEs lead.
    let mut chain = vec![normalize(name)];
    let mut ttl = u32::MAX;
    while chain.len() <= 16 {
        let last = chain.last().cloned().unwrap_or_default();
        let Some((_, target, cttl)) = cnames.iter().find(|(owner, _, _)| *owner == last) else { break };
        if chain.contains(target) {
            break; // a loop
        }
        ttl = ttl.min(*cttl);
        chain.push(target.clone());
    }
    let mut addrs = Vec::new();
    for (owner, addr, rttl) in records {
        if chain.contains(&owner) {
            addrs.push(addr);
            ttl = ttl.min(rttl);
        }
    }
    if addrs.is_empty() {
        ttl = u32::MAX;
    }
    Ok(Answer { addrs, ttl })
}

/// A query id nobody off this host can predict, from getrandom(2): a clock and a pid
/// are guessable, and a guessed id (with the port) is all an off-path spoofer needs.
fn query_id() -> Result<u16, String> {
    let mut id = [0u8; 2];
    // SAFETY: getrandom writes at most the 2 bytes of the buffer we own.
    let n = unsafe { libc::getrandom(id.as_mut_ptr().cast(), id.len(), 0) };
    if n != 2 {
        return Err(format!("getrandom: {}", std::io::Error::last_os_error()));
    }
    Ok(u16::from_ne_bytes(id))
}

/// A UDP socket of the server's family, not bound yet: `mark` sees it before any
/// operation the network module judges (connect binds it to a free port itself).
fn unbound_socket(server: SocketAddr) -> Result<UdpSocket, String> {
    let family = if server.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // SAFETY: a plain system call; the descriptor it returns is owned exactly once.
    let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(format!("socket: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fd is a new socket descriptor that nothing else owns.
    Ok(UdpSocket::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Asks one server for the A and AAAA records of `name` (both queries in flight at
/// once, each with its own random id); waits at most `timeout`. Only a datagram from
/// the server's address and port that answers one of the two questions counts; anything
/// else is ignored, so a spoofer can neither answer nor cut the wait short. `mark` is
/// given the socket before it is connected (the network module exempts it from the
/// rules: src/network/mod.rs).
fn ask(server: SocketAddr, name: &str, timeout: Duration, mark: &dyn Fn(&UdpSocket)) -> Result<Answer, String> {
    let socket = unbound_socket(server)?;
    mark(&socket);
    socket.connect(server).map_err(|e| format!("{server}: {e}"))?;
    let mut pending = vec![(query_id()?, TYPE_A), (query_id()?, TYPE_AAAA)];
    for &(qid, qtype) in &pending {
        let packet = query(qid, name, qtype).ok_or_else(|| format!("invalid name {name:?}"))?;
        socket.send(&packet).map_err(|e| format!("{server}: {e}"))?;
    }
    let deadline = Instant::now() + timeout;
    let mut answer = Answer { addrs: Vec::new(), ttl: u32::MAX };
    let mut buf = [0u8; 1500];
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("{server}: no answer within {} ms", timeout.as_millis()));
        }
        socket.set_read_timeout(Some(left)).map_err(|e| format!("socket: {e}"))?;
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(e) => return Err(format!("{server}: {e}")),
        };
        let reply = &buf[..n];
        let asked = pending.iter().position(|&(qid, qtype)| answers_query(reply, qid, name, qtype));
        let (Some(pos), true) = (asked, from == server) else { continue };
        let (qid, qtype) = pending.remove(pos);
        let part = parse(reply, qid, name, qtype).map_err(|e| format!("{server}: {e}"))?;
        answer.addrs.extend(part.addrs);
        answer.ttl = answer.ttl.min(part.ttl);
    }
    if answer.addrs.is_empty() {
        answer.ttl = NEGATIVE_TTL;
    }
    Ok(answer)
}

/// Resolves `name` through the servers in order; the first complete answer counts.
/// `mark` is given each query's socket before it is connected.
pub fn resolve(
    name: &str,
    servers: &[SocketAddr],
    timeout: Duration,
    mark: &dyn Fn(&UdpSocket),
) -> Result<Answer, String> {
    let mut errors = Vec::new();
    for &server in servers {
        match ask(server, name, timeout, mark) {
            Ok(answer) => return Ok(answer),
            Err(err) => errors.push(err),
        }
    }
    Err(errors.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_servers() {
        let conf =
            "# comment\nsearch example\nnameserver 10.0.0.53\nnameserver fe80::1%eth0\nnameserver bogus\noptions x\n";
        assert_eq!(
            name_servers(conf),
            vec!["10.0.0.53:53".parse::<SocketAddr>().unwrap(), "[fe80::1]:53".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(name_servers(""), vec!["127.0.0.1:53".parse::<SocketAddr>().unwrap()]);
    }

    #[test]
    fn query_encodes_labels() {
        let q = query(0x1234, "a.bc.", TYPE_AAAA).unwrap();
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[12..], &[1, b'a', 2, b'b', b'c', 0, 0, 28, 0, 1]);
        assert!(query(1, "a..b", TYPE_A).is_none());
    }

    /// A response to `q` with the given (type, ttl, rdata) answers, names compressed.
    fn response(q: &[u8], rcode: u8, answers: &[(u16, u32, Vec<u8>)]) -> Vec<u8> {
        let mut r = q.to_vec();
        r[2] = 0x81;
        r[3] = 0x80 | rcode;
        r[6..8].copy_from_slice(&(answers.len() as u16).to_be_bytes());
        for (rtype, ttl, data) in answers {
            r.extend_from_slice(&[0xc0, 12]);
            r.extend_from_slice(&rtype.to_be_bytes());
            r.extend_from_slice(&CLASS_IN.to_be_bytes());
            r.extend_from_slice(&ttl.to_be_bytes());
            r.extend_from_slice(&(data.len() as u16).to_be_bytes());
            r.extend_from_slice(data);
        }
        r
    }

    #[test]
    fn parses_addresses_cnames_and_the_smallest_ttl() {
        let q = query(7, "x.test", TYPE_A).unwrap();
        let cname = vec![1, b'y', 0];
        let r = response(
            &q,
            0,
            &[(TYPE_CNAME, 60, cname), (TYPE_A, 300, vec![192, 0, 2, 1]), (TYPE_A, 20, vec![192, 0, 2, 2])],
        );
        let a = parse(&r, 7, "x.test", TYPE_A).unwrap();
        assert_eq!(a.addrs, vec!["192.0.2.1".parse::<IpAddr>().unwrap(), "192.0.2.2".parse().unwrap()]);
        assert_eq!(a.ttl, 20);

        let q6 = query(8, "x.test", TYPE_AAAA).unwrap();
        let mut v6 = vec![0u8; 16];
        v6[0] = 0xfd;
        v6[15] = 3;
        let a = parse(&response(&q6, 0, &[(TYPE_AAAA, 9, v6)]), 8, "X.test.", TYPE_AAAA).unwrap();
        assert_eq!(a.addrs, vec!["fd00::3".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn error_codes_and_mismatches() {
        let q = query(9, "x.test", TYPE_A).unwrap();
        let x = "x.test";
        assert_eq!(parse(&response(&q, 3, &[]), 9, x, TYPE_A).unwrap(), Answer { addrs: vec![], ttl: u32::MAX });
        assert!(parse(&response(&q, 2, &[]), 9, x, TYPE_A).is_err());
        assert!(parse(&response(&q, 0, &[]), 10, x, TYPE_A).is_err());
        assert!(parse(&q, 9, x, TYPE_A).is_err()); // a query is no response
        assert!(parse(&response(&q, 0, &[(TYPE_A, 1, vec![1, 2, 3, 4])])[..36], 9, x, TYPE_A).is_err());
        // The answer to another question (name or type), even with the right id.
        assert!(parse(&response(&q, 3, &[]), 9, "y.test", TYPE_A).is_err());
        assert!(parse(&response(&q, 0, &[]), 9, x, TYPE_AAAA).is_err());
    }

    /// A record of `rtype` owned by `owner` (uncompressed), for answers about other names.
    fn record(owner: &str, rtype: u16, ttl: u32, data: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        for label in owner.split('.') {
            r.push(label.len() as u8);
            r.extend_from_slice(label.as_bytes());
        }
        r.push(0);
        r.extend_from_slice(&rtype.to_be_bytes());
        r.extend_from_slice(&CLASS_IN.to_be_bytes());
        r.extend_from_slice(&ttl.to_be_bytes());
        r.extend_from_slice(&(data.len() as u16).to_be_bytes());
        r.extend_from_slice(data);
        r
    }

    #[test]
    fn only_owners_on_the_cname_chain_count() {
        let q = query(5, "x.test", TYPE_A).unwrap();
        // x.test CNAME y.test; an A for y.test (on the chain) and one for evil.test (not).
        let mut r = response(&q, 0, &[(TYPE_CNAME, 60, vec![1, b'y', 4, b't', b'e', b's', b't', 0])]);
        r.extend(record("Y.test", TYPE_A, 30, &[192, 0, 2, 7]));
        r.extend(record("evil.test", TYPE_A, 30, &[203, 0, 113, 66]));
        r[6..8].copy_from_slice(&3u16.to_be_bytes());
        let a = parse(&r, 5, "x.test", TYPE_A).unwrap();
        assert_eq!(a.addrs, vec!["192.0.2.7".parse::<IpAddr>().unwrap()]);
        assert_eq!(a.ttl, 30);
        // Without the CNAME, y.test's address is not x.test's.
        let mut r = response(&q, 0, &[]);
        r.extend(record("y.test", TYPE_A, 30, &[192, 0, 2, 7]));
        r[6..8].copy_from_slice(&1u16.to_be_bytes());
        assert!(parse(&r, 5, "x.test", TYPE_A).unwrap().addrs.is_empty());
    }

    #[test]
    fn query_ids_are_random() {
        let ids: std::collections::HashSet<u16> = (0..64).map(|_| query_id().unwrap()).collect();
        assert!(ids.len() > 50, "{} distinct ids out of 64", ids.len());
    }

    #[test]
    fn a_spoofing_responder_is_ignored() {
        // Before each true answer a spoofer has its go: a forged answer from another
        // port (right id, question and name), then from the server's own port a wrong
        // id, another question, and a record for another name beside the true one.
        // Only the true address may come out.
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let spoofer = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            for _ in 0..2 {
                let (n, peer) = server.recv_from(&mut buf).unwrap();
                let q = buf[..n].to_vec();
                let qtype = u16::from_be_bytes([q[n - 4], q[n - 3]]);
                let evil = vec![(TYPE_A, 1, vec![203, 0, 113, 66])];
                spoofer.send_to(&response(&q, 0, &evil), peer).unwrap();
                let mut wrong_id = response(&q, 0, &evil);
                wrong_id[1] ^= 1;
                server.send_to(&wrong_id, peer).unwrap();
                let other = query(u16::from_be_bytes([q[0], q[1]]), "other.test", qtype).unwrap();
                server.send_to(&response(&other, 0, &evil), peer).unwrap();
                let mut reply = response(&q, 0, &[]);
                if qtype == TYPE_A {
                    reply = response(&q, 0, &[(TYPE_A, 42, vec![192, 0, 2, 9])]);
                    reply.extend(record("evil.test", TYPE_A, 42, &[203, 0, 113, 66]));
                    reply[6..8].copy_from_slice(&2u16.to_be_bytes());
                }
                server.send_to(&reply, peer).unwrap();
            }
        });
        let answer = resolve("svc.test", &[addr], Duration::from_secs(2), &|_| ()).unwrap();
        thread.join().unwrap();
        assert_eq!(answer.addrs, vec!["192.0.2.9".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn asks_a_real_socket() {
        // A one-shot server on loopback answering A with 192.0.2.9 and AAAA with nothing.
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            for _ in 0..2 {
                let (n, peer) = server.recv_from(&mut buf).unwrap();
                let q = &buf[..n];
                let qtype = u16::from_be_bytes([q[n - 4], q[n - 3]]);
                let answers = if qtype == TYPE_A { vec![(TYPE_A, 42, vec![192, 0, 2, 9])] } else { vec![] };
                server.send_to(&response(q, 0, &answers), peer).unwrap();
            }
        });
        let answer = resolve("svc.test", &[addr], Duration::from_secs(2), &|_| ()).unwrap();
        thread.join().unwrap();
        assert_eq!(answer.addrs, vec!["192.0.2.9".parse::<IpAddr>().unwrap()]);
        assert_eq!(answer.ttl, 42); // the empty AAAA answer does not shorten it
    }
}
