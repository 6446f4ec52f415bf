// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Host tier (tests only, never loaded by the agent): the file module's very
 * source, included, plus a program that runs its whole decision on a file the
 * calling thread holds open: judge() (the identity walk up the real dentries
 * and mounts, path mode's resolution and longest-prefix lookup, the per-op
 * judgement of the node) with subject_selectors() of the calling thread (its
 * real uid and gid, comm, executable), as check() calls them. Run with
 * BPF_PROG_TEST_RUN from src/host_tier/file.rs, which sets the thread's ids and
 * name per case (raw_tp: it runs in the caller's context; sleepable syscall
 * programs may not use LPM tries).
 */
#include "../file.bpf.c"

/* The walks the host's kernel runs: as bpf_loop callbacks where it has bpf_loop
 * (the object built with SG_BPF_LOOP, as every hook but sg_file_open runs them),
 * else sg_file_open's bounded loops. */
#ifdef SG_BPF_LOOP
#define SG_TEST_HOT 0
#else
#define SG_TEST_HOT 1
#endif

struct sg_test_file_case {
	__u32 fd;  /* the file judged: an fd of the calling thread */
	__u32 ops; /* bits of enum sg_file_op */
	struct judgement out;
};

struct sg_test_file_case sg_test_file;

SEC("raw_tp")
int sg_test_file_judge(void *ctx)
{
	struct sg_test_file_case *c = &sg_test_file;
	struct task_struct *task = bpf_get_current_task_btf();
	struct judgement out = {};
	struct file **fds;
	struct file *file;
	void *entry = 0;
	__u32 fd = c->fd, ops;

	if (fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return 1;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	bpf_probe_read_kernel(&entry, sizeof(entry), &fds[fd]);
	if (!entry)
		return 1;
	/* A BTF pointer again, as the hooks get theirs: the walks load through it. */
	file = bpf_core_cast(entry, struct file);
	/* check(): only ops that are on and that some rule speaks of are judged */
	ops = c->ops & sg_ops_enabled & sg_ops_ruled;
	if (ops)
		judge(file->f_path.mnt, file->f_path.dentry, ops, subject_selectors(), &out, SG_TEST_HOT);
	c->out = out;
	return 0;
}
