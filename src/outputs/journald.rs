//! journald's native protocol (systemd.journal-fields(7), "Native Journal Protocol"):
//! one datagram per record to /run/systemd/journal/socket, each field `NAME=value\n`,
//! or `NAME\n` + 64-bit little-endian length + bytes + `\n` when the value holds a
//! newline or is not text, so any byte string passes unchanged (paths are bytes). A
//! record too large for a datagram goes in a sealed memfd whose descriptor is sent
//! instead, as sd_journal_sendv() does.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

use super::value_bytes;
use crate::logging::{Level, Record};

pub const SOCKET: &str = "/run/systemd/journal/socket";

/// syslog(3) severities, which journald's `PRIORITY` takes.
pub fn priority(level: Level) -> u8 {
    match level {
        Level::Debug => 7,
        Level::Info => 6,
        Level::Warning => 4,
        Level::Error => 3,
        Level::Critical => 2,
    }
}

/// A journal field name from a record field name: upper case, `_` for anything but
/// letters and digits, at most 64 bytes (journald drops invalid names).
fn field_name(out: &mut Vec<u8>, prefix: &str, name: &str) {
    let start = out.len();
    out.extend_from_slice(prefix.as_bytes());
    for byte in name.bytes() {
        out.push(if byte.is_ascii_alphanumeric() { byte.to_ascii_uppercase() } else { b'_' });
    }
    out.truncate(start + (out.len() - start).min(64));
}

/// One field; binary-safe form whenever the value is not plain one-line text.
fn field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    if value.contains(&b'\n') || std::str::from_utf8(value).is_err() {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
        out.extend_from_slice(value);
    } else {
        out.push(b'=');
        out.extend_from_slice(value);
    }
    out.push(b'\n');
}
/// The datagram for one record. `message` is the record as the log writes it (one
/// line), for `MESSAGE`; the record's head and fields become `SAFEGUARD_*` fields.
pub fn encode(record: &Record, message: &[u8], tags: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 + message.len() * 2);
    let message = message.strip_suffix(b"\n").unwrap_or(message);
    field(&mut out, b"MESSAGE", message);
    field(&mut out, b"PRIORITY", priority(record.level).to_string().as_bytes());
    field(&mut out, b"SYSLOG_IDENTIFIER", b"safeguard");
    let mut name = Vec::new();
    let mut put = |out: &mut Vec<u8>, prefix: &str, key: &str, value: &[u8]| {
        name.clear();
        field_name(&mut name, prefix, key);
        field(out, &name, value);
    };
    put(&mut out, "SAFEGUARD_", "level", record.level.name().as_bytes());
    put(&mut out, "SAFEGUARD_", "module", record.module.as_bytes());
    put(&mut out, "SAFEGUARD_", "op", record.op.as_bytes());
    if let Some(action) = record.action {
        put(&mut out, "SAFEGUARD_", "action", action.name().as_bytes());
    }
    if let Some(rule) = &record.rule {
        put(&mut out, "SAFEGUARD_", "rule", rule.as_bytes());
    }
    for (key, value) in &record.fields {
        put(&mut out, "SAFEGUARD_", key, &value_bytes(value));
    }
    for (key, value) in tags {
        put(&mut out, "SAFEGUARD_TAG_", key, value.as_bytes());
    }
    out
}

/// The journal socket. Sends wait for room (journald reads its socket as fast as it
/// can; a burst beyond `net.unix.max_dgram_qlen` datagrams would otherwise be
/// refused) up to `SEND_TIMEOUT`, on the output's own thread (`queue`), never the
/// writer's.
pub struct Journal {
    socket: UnixDatagram,
    path: PathBuf,
}

const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

impl Journal {
    pub fn open() -> io::Result<Journal> {
        let socket = UnixDatagram::unbound()?;
        socket.set_write_timeout(Some(SEND_TIMEOUT))?;
        Ok(Journal { socket, path: PathBuf::from(SOCKET) })
    }

    pub fn send(&self, datagram: &[u8]) -> io::Result<()> {
        match self.socket.send_to(datagram, &self.path) {
            Ok(_) => Ok(()),
            // Larger than the socket takes in one datagram (EMSGSIZE; ENOBUFS on some
            // kernels): hand journald a sealed memfd instead.
            Err(err) if matches!(err.raw_os_error(), Some(libc::EMSGSIZE) | Some(libc::ENOBUFS)) => {
                self.send_memfd(datagram)
            }
            Err(err) => Err(err),
        }
    }

    fn send_memfd(&self, datagram: &[u8]) -> io::Result<()> {
        // SAFETY: a NUL-terminated name and flags; the result is checked before use.
        let fd =
            unsafe { libc::memfd_create(c"safeguard-journal".as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a new descriptor that nothing else owns.
        let memfd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut file = std::fs::File::from(memfd);
        file.write_all(datagram)?;
        let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE | libc::F_SEAL_SEAL;
        // SAFETY: fcntl on a descriptor we own; journald refuses unsealed memfds.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
            return Err(io::Error::last_os_error());
        }
        send_fd(&self.socket, &self.path, file.as_raw_fd())
    }
}

/// sendmsg(2) with no data and one descriptor (SCM_RIGHTS) to the socket at `path`.
fn send_fd(socket: &UnixDatagram, path: &std::path::Path, fd: i32) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: sockaddr_un is plain data; zeroed is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() >= addr.sun_path.len() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "journal socket path too long"));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    // Room for one cmsghdr carrying one int, aligned as CMSG_SPACE wants.
    let mut control = [0u64; 4];
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<i32>() as u32) } as usize;
    if space > std::mem::size_of_val(&control) {
        return Err(io::Error::other("control buffer too small"));
    }
    // SAFETY: msghdr is plain data; zeroed is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&mut addr as *mut libc::sockaddr_un).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: msg_control points at `control`, which holds at least CMSG_SPACE(int)
    // bytes, so CMSG_FIRSTHDR is non-null and CMSG_DATA has room for the int.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<i32>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<i32>(), fd);
    }
    // SAFETY: every pointer in msg refers to locals that outlive the call.
    if unsafe { libc::sendmsg(socket.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::{Action, Value};

    /// Parses a native-protocol datagram back into (name, value) pairs, as journald does.
    fn parse(mut data: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut fields = Vec::new();
        while !data.is_empty() {
            let line_end = data.iter().position(|&b| b == b'\n').unwrap();
            let line = &data[..line_end];
            if let Some(eq) = line.iter().position(|&b| b == b'=') {
                fields.push((String::from_utf8(line[..eq].to_vec()).unwrap(), line[eq + 1..].to_vec()));
                data = &data[line_end + 1..];
            } else {
                let name = String::from_utf8(line.to_vec()).unwrap();
                let rest = &data[line_end + 1..];
                let len = u64::from_le_bytes(rest[..8].try_into().unwrap()) as usize;
                fields.push((name, rest[8..8 + len].to_vec()));
                assert_eq!(rest[8 + len], b'\n');
                data = &rest[8 + len + 1..];
            }
        }
        fields
    }

    fn get<'a>(fields: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
        &fields.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}: {fields:?}")).1
    }

    #[test]
    fn fields_priority_and_binary_values() {
        let path = b"/tmp/evil\nname\xff".to_vec();
        let record = Record {
            action: Some(Action::Blocked),
            rule: Some("/tmp/".into()),
            ..Record::new(Level::Warning, "file", "read")
        }
        .field("path", Value::Bytes(path.clone()))
        .field("pid", Value::Uint(42))
        .field("argv", Value::List(vec![Value::Str("a b".into()), Value::Str("c".into())]))
        .field("target-path", Value::Str(String::new()));
        let data = encode(&record, b"one line\n", &[("env".into(), "prod".into())]);
        let fields = parse(&data);
        assert_eq!(get(&fields, "MESSAGE"), b"one line");
        assert_eq!(get(&fields, "PRIORITY"), b"4");
        assert_eq!(get(&fields, "SYSLOG_IDENTIFIER"), b"safeguard");
        assert_eq!(get(&fields, "SAFEGUARD_MODULE"), b"file");
        assert_eq!(get(&fields, "SAFEGUARD_ACTION"), b"BLOCKED");
        assert_eq!(get(&fields, "SAFEGUARD_RULE"), b"/tmp/");
        assert_eq!(get(&fields, "SAFEGUARD_PATH"), &path[..], "binary-safe: newline and a non-UTF-8 byte");
        assert_eq!(get(&fields, "SAFEGUARD_PID"), b"42");
        assert_eq!(get(&fields, "SAFEGUARD_ARGV"), br#"["a b","c"]"#);
        assert_eq!(get(&fields, "SAFEGUARD_TARGET_PATH"), b"");
        assert_eq!(get(&fields, "SAFEGUARD_TAG_ENV"), b"prod");
        // A message with a newline takes the binary form too.
        let fields = parse(&encode(&record, b"two\nlines", &[]));
        assert_eq!(get(&fields, "MESSAGE"), b"two\nlines");
    }

    #[test]
    fn priorities_follow_the_levels() {
        let levels: Vec<u8> = Level::ALL.iter().map(|&l| priority(l)).collect();
        assert_eq!(levels, [7, 6, 4, 3, 2]);
    }

    #[test]
    fn names_are_valid_journal_field_names() {
        let mut name = Vec::new();
        field_name(&mut name, "SAFEGUARD_", &"x".repeat(100));
        assert_eq!(name.len(), 64);
        name.clear();
        field_name(&mut name, "SAFEGUARD_", "lost_kernel.by-op");
        assert_eq!(name, b"SAFEGUARD_LOST_KERNEL_BY_OP");
    }

    #[test]
    fn a_big_record_goes_through_a_memfd() {
        // A private socket standing in for journald's.
        let dir = std::env::temp_dir().join(format!("safeguard-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("socket");
        let server = UnixDatagram::bind(&path).unwrap();
        let journal = Journal { socket: UnixDatagram::unbound().unwrap(), path: path.clone() };
        journal.send(b"MESSAGE=small\n").unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"MESSAGE=small\n");
        let big = vec![b'x'; 4 << 20];
        journal.send(&big).unwrap();
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(n, 0, "the datagram carries only the descriptor");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
