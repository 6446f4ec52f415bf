// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Host tier (tests only, never loaded by the agent): the mount module's very
 * source, included, plus a program that runs its string decision (the name
 * rules, then the source made absolute against a base and normalized, then the
 * path table) on a case the test writes into sg_test_mount. The base stands in
 * for the task's root or working directory, which the hook resolves first.
 * Run with BPF_PROG_TEST_RUN from src/host_tier/mount.rs (raw_tp: sleepable
 * programs may not use LPM tries).
 */
#include "../mount.bpf.c"

struct sg_test_mount_case {
	__u8 base[SG_MOUNT_SOURCE_LEN]; /* NUL-terminated absolute path */
	__u8 source[SG_MOUNT_SOURCE_LEN];
	__u8 fstype[SG_FSTYPE_LEN];
	__u32 source_len;
	__u32 fstype_len;
	__u32 mount_class;
	__u32 rule;        /* out */
	__u32 as_path;     /* out: judged as a path */
	__u32 source_path_len; /* out */
	__u32 mount_flags;     /* out: SG_MOUNT_SOURCE_* */
	__u8 source_path[SG_MOUNT_SOURCE_LEN]; /* out: the normalized source */
};

struct sg_test_mount_case sg_test_mount;

SEC("raw_tp")
int sg_test_mount_judge(void *ctx)
{
	struct sg_test_mount_case *c = &sg_test_mount;
	struct mount_scratch *s = scratch();
	struct sg_mount_event *ev;
	int as_path = 0, exact = 0;
	__u32 rule;

	if (!s)
		return 1;
	ev = &s->ev;
	__builtin_memcpy(ev->source, c->source, sizeof(c->source));
	__builtin_memcpy(ev->fstype, c->fstype, sizeof(c->fstype));
	ev->source_len = c->source_len;
	ev->fstype_len = c->fstype_len;
	ev->mount_class = c->mount_class;
	ev->mount_flags = 0;
	ev->source_path_len = 0;
	rule = judge_mount_name(s, &as_path, &exact);
	if (!rule && as_path) {
		norm_reset(&s->norm);
		norm_base(&s->norm, c->base, ev->source[0] == '/');
		rule = judge_normalized(s, exact);
	}
	c->rule = rule;
	c->as_path = as_path;
	c->source_path_len = ev->source_path_len;
	c->mount_flags = ev->mount_flags;
	__builtin_memcpy(c->source_path, ev->source_path, sizeof(c->source_path));
	return 0;
}
