// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Host tier (tests only, never loaded by the agent): a producer for the agent's own
 * ring-buffer reader (src/agent/ring.rs). Each run writes `count` records of `size`
 * bytes (the case's data, its first byte the record's number), with a discarded
 * reservation before each when `discard` is set, so that the reader meets records
 * that wrap around the end of the data and discarded ones. Run with
 * BPF_PROG_TEST_RUN from src/host_tier/ring/tests.rs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define RING_TEST_MAX_RECORD 4096
#define RING_TEST_MAX_COUNT 16

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024); /* set by the test */
} sg_events SEC(".maps");

struct sg_test_ring_case {
	__u32 size;
	__u32 count;
	__u32 discard;
	__u32 written; /* out: records the kernel took */
	__u8 seq;      /* in and out: the next record's number */
	__u8 data[RING_TEST_MAX_RECORD];
};

struct sg_test_ring_case sg_test_ring;

SEC("raw_tp")
int sg_test_ring_emit(void *ctx)
{
	struct sg_test_ring_case *c = &sg_test_ring;
	__u32 size = c->size;
	void *gap;
	int k;

	c->written = 0;
	if (size > RING_TEST_MAX_RECORD)
		return 1;
	for (k = 0; k < RING_TEST_MAX_COUNT && k < c->count; k++) {
		if (c->discard) {
			gap = bpf_ringbuf_reserve(&sg_events, 16, 0);
			if (gap)
				bpf_ringbuf_discard(gap, 0);
		}
		c->data[0] = c->seq;
		if (bpf_ringbuf_output(&sg_events, c->data, size, 0))
			continue;
		c->seq++;
		c->written++;
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
