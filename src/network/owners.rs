//! Owners of the sockets that are older than this instance of the module.
//!
//! Accepts and datagrams are judged in softirq context, where the subject is the
//! socket's owner noted by the hooks when it was put to listen, bound, connected or
//! first sent from (docs/network.md). A socket set up before the agent started, or
//! before a restart or a reload (a new module has new, empty socket storage), has no
//! noted owner; with comm, executable or gid deny lists its every connection would be
//! refused. So at load time the kernel lists them (`sg_net_seed_owners`, an iterator
//! over every task's open files: TCP listeners and UDP sockets, with the owner their
//! holder makes), and the agent stores each owner in the socket's storage through a
//! copy of the holder's descriptor (`pidfd_getfd(2)`, 5.6+): the map is keyed by a
//! socket descriptor of the caller. `BPF_NOEXIST` keeps an owner a hook noted first.

use std::io::Read;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use anyhow::Context;
use libbpf_rs::{MapCore, MapFlags, ProgramMut};

use crate::bpf::network::types::sg_net_owner;

/// `struct sg_net_seed`: pid, fd, then the owner (8-byte aligned, no padding).
const SEED_SIZE: usize = 8 + size_of::<sg_net_owner>();
const _: () = assert!(size_of::<sg_net_owner>() % 8 == 0);

/// What one seeding pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Seeded {
    /// Owners stored.
    pub stored: usize,
    /// Sockets that had an owner already (a hook noted it, or an earlier holder).
    pub known: usize,
    /// Sockets whose holder exited or closed them meanwhile, or that could not be
    /// reached: they stay ownerless.
    pub missed: usize,
}

/// Runs the iterator and stores the owners it lists into `owners` (sg_net_owners).
pub fn seed(iterator: &ProgramMut, owners: &dyn MapCore) -> anyhow::Result<Seeded> {
    let link = iterator.attach().context("network: attach the socket-owner iterator")?;
    let mut listing = libbpf_rs::Iter::new(&link).context("network: open the socket-owner iterator")?;
    let mut seeded = Seeded::default();
    let mut record = [0u8; SEED_SIZE];
    loop {
        match listing.read_exact(&mut record) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(err) => return Err(err).context("network: read the socket-owner iterator"),
        }
        let pid = u32::from_ne_bytes([record[0], record[1], record[2], record[3]]);
        let fd = u32::from_ne_bytes([record[4], record[5], record[6], record[7]]);
        let Some(socket) = copy_descriptor(pid, fd) else {
            seeded.missed += 1;
            continue;
        };
        match owners.update(&socket.as_raw_fd().to_ne_bytes(), &record[8..], MapFlags::NO_EXIST) {
            Ok(()) => seeded.stored += 1,
            Err(err) if err.kind() == libbpf_rs::ErrorKind::AlreadyExists => seeded.known += 1,
            Err(err) => {
                log::debug!("network: owner of socket {pid}/{fd} not stored: {err}");
                seeded.missed += 1;
            }
        }
    }
    Ok(seeded)
}

/// A descriptor of this process for file `fd` of process `pid`, if it still exists.
fn copy_descriptor(pid: u32, fd: u32) -> Option<OwnedFd> {
    // SAFETY: plain system calls; each returned descriptor is owned exactly once.
    unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0);
        if pidfd < 0 {
            return None;
        }
        let pidfd = OwnedFd::from_raw_fd(pidfd as i32);
        let copy = libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd as i32, 0);
        (copy >= 0).then(|| OwnedFd::from_raw_fd(copy as i32))
    }
}
