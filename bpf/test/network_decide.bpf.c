// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Host tier (tests only, never loaded by the agent): the network module's very
 * source, included, plus a program that runs its decision (judge_op: subject
 * lists, the CIDR trie, ports) on a case the test writes into sg_test_net.
 * Run with BPF_PROG_TEST_RUN from src/host_tier/network.rs. A raw_tp program,
 * not SEC("syscall"): sleepable programs may not use LPM tries.
 */
#include "../network.bpf.c"

struct sg_test_net_case {
	struct flow f;
	struct who w;
	__u32 op;
	__u32 verdict; /* out */
	__u32 rule_id; /* out */
};

struct sg_test_net_case sg_test_net;

SEC("raw_tp")
int sg_test_net_judge(void *ctx)
{
	struct sg_test_net_case *c = &sg_test_net;
	__u32 rule_id = 0;

	c->verdict = judge_op(c->op, &c->f, &c->w, &rule_id);
	c->rule_id = rule_id;
	return 0;
}
