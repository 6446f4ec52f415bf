//! A module's BPF ring buffer, read by the agent itself rather than by libbpf.
//!
//! libbpf maps a ring's data twice, back to back, so that a record that wraps around
//! the end reads as one slice; the kernel inserts every page of both mappings at
//! mmap time, so each ring counted twice its size in the agent's RSS (a 4 MiB ring:
//! 8 MiB, issue 20). Here the data is mapped once, and the rare record that wraps is
//! copied into a scratch buffer. The protocol is the kernel's (kernel/bpf/ringbuf.c):
//! a consumer position page the reader writes, a producer position page and the data
//! it reads; each record is an 8-byte header (length, busy and discard bits) and its
//! bytes, 8-byte aligned. The producer position and a header are read with acquire
//! ordering, the consumer position written with release, as libbpf does.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{bail, Context};
use libbpf_rs::{MapCore, MapType};

const BUSY_BIT: u32 = 1 << 31;
const DISCARD_BIT: u32 = 1 << 30;
const HEADER: u64 = 8;

/// One mapping, unmapped when dropped.
struct Mapping {
    at: NonNull<libc::c_void>,
    len: usize,
}

impl Mapping {
    fn new(fd: BorrowedFd<'_>, len: usize, prot: libc::c_int, offset: usize) -> anyhow::Result<Mapping> {
        let offset = libc::off_t::try_from(offset).context("ring buffer offset")?;
        // SAFETY: a new shared mapping of the map's fd; nothing else refers to it yet.
        let at = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, libc::MAP_SHARED, fd.as_raw_fd(), offset) };
        if at == libc::MAP_FAILED {
            return Err(io::Error::last_os_error()).context("map the ring buffer");
        }
        let at = NonNull::new(at).context("map the ring buffer: null")?;
        Ok(Mapping { at, len })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unmapped once; no reference into it outlives `Ring`.
        unsafe { libc::munmap(self.at.as_ptr(), self.len) };
    }
}

/// A ring buffer and what consumes its records.
pub struct Ring<'a> {
    fd: BorrowedFd<'a>,
    /// The consumer position page (read-write).
    consumer: Mapping,
    /// The producer position page, then the data (read-only).
    producer: Mapping,
    page: usize,
    /// The data's size (a power of two): positions are taken modulo it.
    size: u64,
    /// A record that wraps around the end, made whole.
    scratch: Vec<u8>,
    handle: Handler<'a>,
}

/// What each record is handed to.
type Handler<'a> = Box<dyn FnMut(&[u8]) + 'a>;

impl<'a> Ring<'a> {
    /// Maps `events` (a BPF_MAP_TYPE_RINGBUF map) and hands each record to `handle`.
    pub fn new(events: &'a dyn MapCore, handle: impl FnMut(&[u8]) + 'a) -> anyhow::Result<Ring<'a>> {
        if events.map_type() != MapType::RingBuf {
            bail!("{} is not a ring buffer", events.name().to_string_lossy());
        }
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).context("page size")?;
        let size = events.max_entries() as usize;
        if !size.is_power_of_two() || size % page != 0 {
            bail!("ring buffer of {size} bytes: not a power of two pages");
        }
        let fd = events.as_fd();
        let consumer = Mapping::new(fd, page, libc::PROT_READ | libc::PROT_WRITE, 0)?;
        let producer = Mapping::new(fd, page + size, libc::PROT_READ, page)?;
        Ok(Ring { fd, consumer, producer, page, size: size as u64, scratch: Vec::new(), handle: Box::new(handle) })
    }

    /// Waits up to `timeout` for the kernel's wake-up (records queued, or the
    /// buffer's wake-up threshold reached); an interrupted wait is not an error.
    pub fn poll(&self, timeout: Duration) -> io::Result<()> {
        let mut fds = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one pollfd, valid for the call.
        if unsafe { libc::poll(&mut fds, 1, millis) } < 0 {
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
        Ok(())
    }

    /// Hands every committed record to the handler, in order, and gives its space
    /// back to the kernel; stops at a record still being written. Returns how many
    /// records were handled (discarded ones are skipped, not counted).
    pub fn consume(&mut self) -> usize {
        let mut handled = 0;
        let mut consumed = self.consumer_pos().load(Ordering::Acquire);
        loop {
            let produced = self.producer_pos().load(Ordering::Acquire);
            if consumed >= produced {
                return handled;
            }
            while consumed < produced {
                let at = consumed & (self.size - 1);
                // SAFETY: `at` is 8-byte aligned and below `size`: the header lies
                // within the data, where the kernel writes it atomically.
                let header = unsafe { &*(self.data().add(at as usize) as *const AtomicU32) };
                let len = header.load(Ordering::Acquire);
                if len & BUSY_BIT != 0 {
                    return handled;
                }
                let bytes = u64::from(len & !(BUSY_BIT | DISCARD_BIT));
                if len & DISCARD_BIT == 0 {
                    self.handle_record(((at + HEADER) & (self.size - 1)) as usize, bytes as usize);
                    handled += 1;
                }
                consumed += (bytes + HEADER).div_ceil(8) * 8;
                self.consumer_pos().store(consumed, Ordering::Release);
            }
        }
    }

    /// Calls the handler with the record of `len` bytes at `start` in the data.
    fn handle_record(&mut self, start: usize, len: usize) {
        let size = self.size as usize;
        // SAFETY: the kernel committed these bytes (the header's busy bit is clear)
        // and does not reuse them before the consumer position passes them; `len` is
        // below `size`, the kernel's limit for a record.
        let data = unsafe { std::slice::from_raw_parts(self.data(), size) };
        let len = len.min(size);
        if start + len <= size {
            (self.handle)(&data[start..start + len]);
        } else {
            self.scratch.clear();
            self.scratch.extend_from_slice(&data[start..]);
            self.scratch.extend_from_slice(&data[..len - (size - start)]);
            (self.handle)(&self.scratch);
        }
    }

    fn consumer_pos(&self) -> &AtomicU64 {
        // SAFETY: the first word of the consumer page, mapped as long as `self` lives.
        unsafe { &*(self.consumer.at.as_ptr() as *const AtomicU64) }
    }

    fn producer_pos(&self) -> &AtomicU64 {
        // SAFETY: the first word of the producer page, mapped as long as `self` lives.
        unsafe { &*(self.producer.at.as_ptr() as *const AtomicU64) }
    }

    fn data(&self) -> *const u8 {
        // SAFETY: the data follows the producer page within the same mapping.
        unsafe { (self.producer.at.as_ptr() as *const u8).add(self.page) }
    }
}
