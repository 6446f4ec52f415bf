// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The process module: exec decisions (lsm/bprm_check_security) and the
 * life-cycle records fork, exec and exit (BTF tracepoints). When BPF LSM is
 * not available the exec tracepoint makes the same decision, audit-only.
 */
/* The identity walk of common.bpf.h (the file module's); sg_resolve then only
 * builds paths. */
#define SG_IDENTITY_WALK
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Load-time switches (rodata), set by src/process.rs. */
const volatile __u32 sg_allowlist = 0;       /* a non-empty allow list: all else is denied */
const volatile __u32 sg_have_deny = 0;       /* any deny rule */
const volatile __u32 sg_decide_in_tracepoint = 0; /* degraded mode: judge at exec, audit-only */
const volatile __u32 sg_log_exec = 0;

/* Records are built here, not on the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_exec_event);
} exec_scratch SEC(".maps");

/* Judge the file about to be executed (`file` is a BTF pointer). Fills
 * ev->exe (and its flags) on the way, because the rules need the resolved path
 * anyway. */
static __always_inline __u32 judge_exec(struct file *file, struct sg_exec_event *ev)
{
	struct sg_pathbuf *pb = sg_pathbuf();
	struct sg_resolved resolved;
	struct sg_match *rule = 0, *by_path;
	struct sg_walk w;
	__u32 truncated, dropped = 0;

	if (!pb)
		return SG_VERDICT_ALLOW;
	/* By identity: the file and every directory above it up to its
	 * filesystem's root, then across each mount point (the file module's
	 * walk), so a bind mount or clone of a denied directory's subdirectory
	 * is still below it. */
	sg_find_by_identity(file->f_path.mnt, file->f_path.dentry, &w);
	sg_resolve(&file->f_path, pb, &resolved);
	ev->hdr.flags |= resolved.flags;
	ev->exe_len = sg_copy_path(ev->exe, pb, &resolved);
	truncated = (resolved.flags & SG_FLAG_TRUNCATED) || (!w.found && w.truncated);

	/* An identity rule met on the walk is deeper than any part left
	 * unresolved, so it decides even for a truncated path; an allow rule
	 * only if no mount made after the start lies between it and the file. */
	if (w.found) {
		if (w.match.verdict == SG_VERDICT_ALLOW && w.crossed_new)
			dropped = 1;
		else
			rule = &w.match;
	}
	/* By path only for a real path: a truncated one is only its tail, and one
	 * built in a detached tree could spell any rule path. A path that crosses
	 * a mount made after the start is real, but no allow rule's path: the
	 * mount put new files under that name. */
	if (!truncated && resolved.top == SG_TOP_ROOT) {
		by_path = sg_lookup_path(pb, &resolved);
		if (by_path && by_path->verdict == SG_VERDICT_ALLOW && sg_mount_check &&
		    !sg_mounts_known_to_top(file->f_path.mnt)) {
			dropped = 1;
			by_path = 0;
		}
		rule = sg_better(rule, by_path);
	}
	if (rule) {
		ev->hdr.rule_id = rule->id;
		return rule->verdict;
	}
	if (sg_allowlist) {
		ev->hdr.rule_id = resolved.top == SG_TOP_DETACHED ? SG_RULE_DETACHED :
				  dropped			    ? SG_RULE_NEW_MOUNT :
								      SG_RULE_NOT_ALLOWED;
		return SG_VERDICT_DENY;
	}
	/* A path that could not be resolved completely, or one in a detached
	 * tree, is never silently allowed where a deny rule could apply: the
	 * unresolved part might be under it. */
	if (sg_have_deny && truncated) {
		ev->hdr.rule_id = SG_RULE_UNRESOLVED;
		return SG_VERDICT_DENY;
	}
	if (sg_have_deny && resolved.top == SG_TOP_DETACHED) {
		ev->hdr.rule_id = SG_RULE_DETACHED;
		return SG_VERDICT_DENY;
	}
	return SG_VERDICT_ALLOW;
}

static __always_inline struct sg_exec_event *exec_event(struct task_struct *task, const char *filename)
{
	__u32 zero = 0;
	struct sg_exec_event *ev = bpf_map_lookup_elem(&exec_scratch, &zero);

	if (!ev)
		return 0;
	ev->hdr.kind = SG_KIND_EXEC;
	ev->hdr.op = SG_OP_EXEC;
	ev->hdr.action = SG_ACTION_NONE;
	ev->hdr.rule_id = SG_RULE_NONE;
	ev->hdr.flags = 0;
	sg_fill_subject(&ev->hdr, task);
	ev->argc = 0;
	ev->argv_len = 0;
	ev->exe_len = 0;
	ev->filename_len = 0;
	if (filename) {
		long n = bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), filename);

		ev->filename_len = n > 0 ? n - 1 : 0;
	}
	return ev;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(sg_exec_check, struct linux_binprm *bprm, int ret)
{
	/* bpf_get_current_task_btf() is 5.11+; reads go through BPF_CORE_READ anyway. */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_exec_event *ev;

	if (ret)
		return sg_keep_denial(ret);
	if (!sg_in_target(task))
		return 0;
	ev = exec_event(task, BPF_CORE_READ(bprm, filename));
	if (!ev)
		return 0;
	/* For a script this runs twice: for the script, then the interpreter;
	 * bprm->file is the one being checked each time. */
	if (judge_exec(bprm->file, ev) != SG_VERDICT_DENY)
		return 0;

	if (sg_block) {
		ev->hdr.action = SG_ACTION_BLOCKED;
		sg_emit(ev, sizeof(*ev));
		return -EPERM;
	}
	ev->hdr.action = SG_ACTION_MONITOR;
	sg_emit(ev, sizeof(*ev));
	return 0;
}

/* argv of the new program, NUL-separated, from its stack. */
static __always_inline void read_argv(struct task_struct *task, struct linux_binprm *bprm,
				      struct sg_exec_event *ev)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long start = BPF_CORE_READ(mm, arg_start);
	unsigned long end = BPF_CORE_READ(mm, arg_end);
	unsigned long len = end - start;

	ev->argc = BPF_CORE_READ(bprm, argc);
	if (end <= start)
		return;
	if (len > SG_ARGV_LEN) {
		len = SG_ARGV_LEN;
		ev->hdr.flags |= SG_FLAG_ARGV_TRUNCATED;
	}
	if (bpf_probe_read_user(ev->argv, len & (SG_ARGV_LEN - 1) ? len & (SG_ARGV_LEN - 1) : SG_ARGV_LEN,
				(void *)start) == 0)
		ev->argv_len = len;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sg_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct sg_exec_event *ev;

	if (!sg_in_target(task))
		return 0;
	ev = exec_event(task, BPF_CORE_READ(bprm, filename));
	if (!ev)
		return 0;

	if (sg_decide_in_tracepoint) {
		/* Too late to refuse: say what block mode would have done. */
		if (judge_exec(bprm->file, ev) == SG_VERDICT_DENY) {
			ev->hdr.action = SG_ACTION_MONITOR;
			sg_emit(ev, sizeof(*ev));
		}
	}
	if (!sg_log_exec)
		return 0;
	if (!sg_decide_in_tracepoint) {
		struct sg_pathbuf *pb = sg_pathbuf();
		struct sg_resolved resolved;

		if (!pb)
			return 0;
		sg_resolve(&BPF_CORE_READ(bprm, file)->f_path, pb, &resolved);
		ev->hdr.flags |= resolved.flags;
		ev->exe_len = sg_copy_path(ev->exe, pb, &resolved);
	}
	ev->hdr.action = SG_ACTION_NONE;
	ev->hdr.rule_id = SG_RULE_NONE;
	read_argv(task, bprm, ev);
	sg_emit(ev, sizeof(*ev));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sg_fork, struct task_struct *parent, struct task_struct *child)
{
	struct sg_fork_event ev = {};
	__u32 child_tgid = BPF_CORE_READ(child, tgid);

	/* A new thread is not a new process. */
	if (child_tgid == BPF_CORE_READ(parent, tgid))
		return 0;
	if (!sg_in_target(parent))
		return 0;
	ev.hdr.kind = SG_KIND_FORK;
	ev.hdr.op = SG_OP_FORK;
	sg_fill_subject(&ev.hdr, parent);
	ev.child_pid = child_tgid;
	ev.child_tid = BPF_CORE_READ(child, pid);
	sg_emit(&ev, sizeof(ev));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sg_exit, struct task_struct *task)
{
	struct sg_exit_event ev = {};

	/* One record per process: when its last thread exits. */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	if (!sg_in_target(task))
		return 0;
	ev.hdr.kind = SG_KIND_EXIT;
	ev.hdr.op = SG_OP_EXIT;
	sg_fill_subject(&ev.hdr, task);
	ev.exit_code = BPF_CORE_READ(task, exit_code);
	sg_emit(&ev, sizeof(ev));
	return 0;
}
