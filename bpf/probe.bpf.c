// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The capability probe: trivial programs, each loaded and attached on its own.
 * If the LSM program loads AND attaches, the kernel lets us attach BPF LSM
 * programs; whether they enforce is read from the active LSM list (an attached
 * program enforces nothing when `bpf` is not in lsm=). See src/probe.rs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("lsm/file_open")
int BPF_PROG(sg_probe_file_open, struct file *file, int ret)
{
	/* keep a denial by an earlier program; constants satisfy 6.12's return-range check */
	if (ret)
		return -1;
	return 0;
}

/* A tracepoint program: the degraded (audit-only) mode needs these. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sg_probe_tracepoint, struct task_struct *task)
{
	return 0;
}

/* An fentry program: the file module's audit-only mode (no BPF LSM) needs these. */
SEC("fentry/security_file_open")
int BPF_PROG(sg_probe_fentry, struct file *file)
{
	return 0;
}
