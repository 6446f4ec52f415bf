//! The agent's ring-buffer reader (src/agent/ring.rs) against the kernel's producer:
//! a small ring (four pages) filled by `bpf/test/ring_emit.bpf.c` with records of
//! random sizes, some after discarded reservations, read back after each run. Every
//! record must arrive once, whole and in order, including those that wrap around the
//! end of the data (the reader maps the data once and puts those together itself).

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::rc::Rc;

use libbpf_rs::skel::{OpenSkel, SkelBuilder};

use super::{seed, Rng};
use crate::agent::ring::Ring;
use crate::bpf::ring_emit::RingEmitSkelBuilder;

const RING: usize = 16 * 1024;
const MAX_RECORD: usize = 4096;

/// Where a record of `len` bytes written at producer position `at` ends, and whether
/// its bytes wrap around the end of the data.
fn place(at: usize, len: usize) -> (usize, bool) {
    let start = (at + 8) % RING;
    (at + (len + 8).div_ceil(8) * 8, start + len > RING)
}

#[test]
#[ignore = "loads BPF programs (root): tests/host/run.sh"]
fn the_reader_takes_every_record_whole_and_in_order() {
    let mut rng = Rng::new(seed("ring"));
    let mut storage = MaybeUninit::uninit();
    let mut open = RingEmitSkelBuilder::default().open(&mut storage).expect("open ring_emit");
    open.maps.sg_events.set_max_entries(RING as u32).expect("ring size");
    let mut skel = open.load().expect("load ring_emit");

    let taken: Rc<RefCell<Vec<Vec<u8>>>> = Rc::default();
    let sink = taken.clone();
    let mut ring = Ring::new(&skel.maps.sg_events, move |data: &[u8]| sink.borrow_mut().push(data.to_vec()))
        .expect("map the ring");
    let (mut position, mut seq, mut records, mut wrapped, mut discarded) = (0usize, 0u8, 0usize, 0usize, 0usize);
    for round in 0..3000 {
        // Sizes near the 8-byte steps and the largest, then any.
        let size = match rng.below(4) {
            0 => rng.pick(&[1, 7, 8, 9, 15, 16, 17, MAX_RECORD - 8, MAX_RECORD - 1, MAX_RECORD]),
            _ => 1 + rng.below(MAX_RECORD),
        };
        let discard = rng.one_in(3);
        let each = (size + 8).div_ceil(8) * 8 + if discard { 24 } else { 0 };
        // The kernel takes a record only while less than the whole ring is in use.
        let count = 1 + rng.below(((RING - 1) / each).clamp(1, 16));
        let data: Vec<u8> = (0..MAX_RECORD).map(|_| rng.next() as u8).collect();

        let case = &mut skel.maps.bss_data.as_deref_mut().expect("bss").sg_test_ring;
        (case.size, case.count, case.discard, case.seq) = (size as u32, count as u32, u32::from(discard), seq);
        case.data.copy_from_slice(&data);
        super::run(&skel.progs.sg_test_ring_emit);
        let written = skel.maps.bss_data.as_deref().expect("bss").sg_test_ring.written as usize;
        assert_eq!(written, count, "round {round}: the kernel refused records of a ring that was empty");

        assert_eq!(ring.consume(), count, "round {round}: records handled");
        let got = std::mem::take(&mut *taken.borrow_mut());
        assert_eq!(got.len(), count, "round {round}");
        for record in got {
            if discard {
                position += 24;
                discarded += 1;
            }
            let (next, wraps) = place(position, size);
            position = next;
            wrapped += usize::from(wraps);
            let mut expected = data[..size].to_vec();
            expected[0] = seq;
            assert!(record == expected, "round {round}: record {seq} of {size} bytes (wraps: {wraps}) differs");
            seq = seq.wrapping_add(1);
            records += 1;
        }
        assert_eq!(ring.consume(), 0, "round {round}: nothing left");
    }
    println!("ring: {records} records, {wrapped} wrapped around the end, {discarded} discarded before them");
    assert!(wrapped >= 100, "too few records wrapped ({wrapped}) to prove the reader joins them");
}
