// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The process module: exec decisions (lsm/bprm_check_security; with deny rules
 * also every file the kernel opens to execute, executable mappings, and links
 * and renames that would take a file out of a deny rule) and the life-cycle
 * records fork, exec and exit (BTF tracepoints). When BPF LSM is not available
 * the exec tracepoint makes the same decision, audit-only.
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
/* lsm/file_open judges every exec open against the deny rules: bprm_check then
 * judges only for an allow list, and leaves what the deny rules deny to the open
 * (in monitor mode it would report it twice). */
const volatile __u32 sg_judge_opens = 0;
/* 1 where the path_rename hook has its flags argument (5.19 and later). */
const volatile __u32 sg_rename_has_flags = 0;

#define __FMODE_EXEC 0x20 /* in f_flags: an exec's open (open_exec, do_open_execat, uselib) */
#define PROT_EXEC 0x4
#define RENAME_EXCHANGE (1 << 1)

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
static __always_inline __u32 judge_exec(struct vfsmount *mnt, struct dentry *dentry, struct sg_exec_event *ev)
{
	struct sg_pathbuf *pb = sg_pathbuf();
	struct path path = { .mnt = mnt, .dentry = dentry };
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
	sg_find_by_identity_levels(mnt, dentry, &w);
	sg_resolve(&path, pb, &resolved);
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
		    !sg_mounts_known_to_top(mnt)) {
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

/* exec_event() in two halves for sg_exec_open, which every exec passes: the
 * header judge_exec() needs, and the subject and name (about two thousand
 * instructions of probe reads before 5.11) only for a record. exec_event() is
 * left whole: built from these halves it moved clang's code for the rename
 * guard, and 6.1's verifier went past its limit on sg_exec_rename. */
static __always_inline struct sg_exec_event *exec_header(void)
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
	ev->exe_len = 0;
	return ev;
}

static __always_inline void exec_subject(struct sg_exec_event *ev, struct task_struct *task, const char *filename)
{
	long n = bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), filename);

	sg_fill_subject(&ev->hdr, task);
	ev->argc = 0;
	ev->argv_len = 0;
	ev->filename_len = n > 0 ? n - 1 : 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(sg_exec_check, struct linux_binprm *bprm, int ret)
{
	/* bpf_get_current_task_btf() is 5.11+; reads go through BPF_CORE_READ anyway. */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_exec_event *ev;

	if (ret)
		return sg_keep_denial(ret);
	/* With deny rules every open for execution was judged against them
	 * (sg_exec_open: the program, each script's interpreter, the ELF
	 * interpreter), and bprm->file is the file opened then: only an allow
	 * list is left to this hook (judged once, an exec costs half). */
	if (sg_judge_opens && !sg_allowlist)
		return 0;
	if (!sg_in_target(task))
		return 0;
	ev = exec_event(task, BPF_CORE_READ(bprm, filename));
	if (!ev)
		return 0;
	/* For a script this runs twice: for the script, then the interpreter;
	 * bprm->file is the one being checked each time. */
	if (judge_exec(bprm->file->f_path.mnt, bprm->file->f_path.dentry, ev) != SG_VERDICT_DENY) {
		if (ev->hdr.rule_id != SG_RULE_NONE)
			sg_count_allow(ev->hdr.rule_id); /* the allow rule that let it run */
		return 0;
	}
	/* The exec's open was judged against the same deny rules and already
	 * reported what they deny; only the allow list is this hook's alone. */
	if (sg_judge_opens && !sg_block && ev->hdr.rule_id != SG_RULE_NOT_ALLOWED)
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

/*
 * Beyond bprm_check_security: the kernel runs files that hook never sees. An
 * ELF program's interpreter (PT_INTERP) and uselib(2) are opened with
 * open_exec() and mapped without a bprm check; `ld.so /denied/prog` and a JIT
 * map a file executable with no exec at all. These hooks apply the DENY rules
 * (not the allow list: the dynamic loader and libraries live outside typical
 * allow lists; see the README) to every exec open and every executable file
 * mapping, and guard links and renames so that a denied file keeps its rule.
 */

/* judge_exec() with the deny rules alone: outside an allow list is no denial
 * here, but a path resolved only in part still is where deny rules exist. */
static __always_inline __u32 judge_deny(struct file *file, struct sg_exec_event *ev)
{
	__u32 verdict = judge_exec(file->f_path.mnt, file->f_path.dentry, ev);

	/* the allow list's refusals (not in it, or only through a new mount) are
	 * not deny rules; a detached tree where deny rules exist is */
	if (verdict != SG_VERDICT_DENY ||
	    (ev->hdr.rule_id != SG_RULE_NOT_ALLOWED && ev->hdr.rule_id != SG_RULE_NEW_MOUNT &&
	     (ev->hdr.rule_id != SG_RULE_DETACHED || sg_have_deny)))
		return verdict;
	if (sg_have_deny && (ev->hdr.flags & SG_FLAG_TRUNCATED)) {
		ev->hdr.rule_id = SG_RULE_UNRESOLVED;
		return SG_VERDICT_DENY;
	}
	ev->hdr.rule_id = SG_RULE_NONE;
	return SG_VERDICT_ALLOW;
}

/* An exec record for a denial: emitted; 1 where block mode refuses. */
static __always_inline int deny_exec(struct sg_exec_event *ev)
{
	ev->hdr.action = sg_block ? SG_ACTION_BLOCKED : SG_ACTION_MONITOR;
	sg_emit(ev, sizeof(*ev));
	return sg_block;
}

/* Every open for execution: the program (judged here before bprm_check sees
 * it), a script's interpreter, an ELF interpreter, uselib(2); fexecve and
 * /proc/self/fd/N open the file again. `filename` is the name the kernel
 * opened: the caller's for the program, the #! line or PT_INTERP for an
 * interpreter. */
SEC("lsm/file_open")
int BPF_PROG(sg_exec_open, struct file *file, int ret)
{
	struct task_struct *task;
	struct sg_exec_event *ev;

	if (ret)
		return sg_keep_denial(ret);
	if (!(file->f_flags & __FMODE_EXEC))
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	if (!sg_in_target(task))
		return 0;
	/* Every exec passes here: the subject only for a record. */
	ev = exec_header();
	if (!ev)
		return 0;
	if (judge_deny(file, ev) != SG_VERDICT_DENY)
		return 0;
	exec_subject(ev, task, BPF_CORE_READ(task, nameidata, name, name));
	VERDICT(deny_exec(ev));
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_file_event);
} path_scratch SEC(".maps");

/* Copy a path judge_exec() resolved into ev->exe to a record field. */
static __always_inline __u32 copy_judged(__u8 *dst, struct sg_exec_event *ev)
{
	__u32 len = ev->exe_len & (SG_PATH_LEN - 1);

	bpf_probe_read_kernel(dst, len, ev->exe);
	return len;
}

/* Start a mapping, link or rename record (struct sg_file_event) from the
 * judged event: its subject and decision, and the path judged. */
static __always_inline struct sg_file_event *path_event(struct sg_exec_event *ev, __u32 op)
{
	__u32 zero = 0;
	struct sg_file_event *fev = bpf_map_lookup_elem(&path_scratch, &zero);

	if (!fev)
		return 0;
	fev->hdr = ev->hdr;
	fev->hdr.kind = SG_KIND_PROCESS_PATH;
	fev->hdr.op = op;
	fev->hdr.action = sg_block ? SG_ACTION_BLOCKED : SG_ACTION_MONITOR;
	fev->file_op = 0;
	fev->target_len = 0;
	fev->path_len = copy_judged(fev->names, ev);
	return fev;
}

/* Send the record, its target (if any) in place, with the subject's executable
 * after its names (resolved here: a short-lived process is gone before the
 * agent could read /proc). */
static __always_inline void emit_path_event(struct task_struct *task, struct sg_file_event *fev)
{
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct sg_pathbuf *pb = sg_pathbuf();
	struct sg_resolved resolved;

	fev->exe_len = 0;
	if (exe && pb) {
		sg_resolve(&exe->f_path, pb, &resolved);
		fev->exe_len = sg_copy_path(sg_names_exe(fev), pb, &resolved);
	}
	sg_emit(fev, sg_file_event_size(fev));
}

/* An executable mapping of `file`: 1 where block mode refuses it. The kernel
 * maps an exec's program and interpreter itself, within the exec: those were
 * judged at their open and are skipped here. */
static __always_inline int judge_mapping(struct file *file, __u32 op)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_exec_event *ev;
	struct sg_file_event *fev;

	if (BPF_CORE_READ_BITFIELD_PROBED(task, in_execve))
		return 0;
	if (!sg_in_target(task))
		return 0;
	ev = exec_event(task, 0);
	if (!ev || judge_deny(file, ev) != SG_VERDICT_DENY)
		return 0;
	fev = path_event(ev, op);
	if (fev)
		emit_path_event(task, fev);
	return sg_block;
}

SEC("lsm/mmap_file")
int BPF_PROG(sg_exec_mmap, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	if (!file || !(prot & PROT_EXEC))
		return 0;
	VERDICT(judge_mapping(file, SG_OP_MMAP));
}

SEC("lsm/file_mprotect")
int BPF_PROG(sg_exec_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot,
	     int ret)
{
	struct file *file;

	if (ret)
		return sg_keep_denial(ret);
	if (!(prot & PROT_EXEC))
		return 0;
	file = vma->vm_file;
	if (!file)
		return 0; /* anonymous memory */
	VERDICT(judge_mapping(file, SG_OP_MPROTECT));
}

/* The rule on a file's or directory's own identity, or 0: it follows the
 * inode to any name. */
static __always_inline __u32 own_rule(struct dentry *dentry)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	struct sg_inode_key key = {};
	struct sg_match *rule;

	key.ino = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	rule = bpf_map_lookup_elem(&sg_inode_rules, &key);
	return rule ? rule->id : 0;
}

/* A link or rename would give `src` (a file or a directory) the name `dst`:
 * refused (1 in block mode) when a deny rule covers src and would not cover
 * it at dst, so that a denied file cannot be run from a new name. A rule on
 * src's own identity follows it. Outside an allow list is no rule to keep (a
 * new name inside one is the allow list's business). */
static __noinline int guard(struct vfsmount *src_mnt, struct dentry *src, struct vfsmount *dst_mnt,
				 struct dentry *dst, __u32 op)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_exec_event *ev;
	struct sg_file_event *fev;
	__u32 rule;

	if (!sg_in_target(task))
		return 0;
	ev = exec_event(task, 0);
	if (!ev || judge_exec(src_mnt, src, ev) != SG_VERDICT_DENY)
		return 0;
	rule = ev->hdr.rule_id;
	/* Only a deny rule can be shed: an allow list's refusals are not rules.
	 * A source too deep to resolve, in a detached tree or with a
	 * disconnected dentry (open_by_handle_at) may be under a deny rule (it is
	 * refused to run for that): it gets no new name at all, or a deep file
	 * would be taken out of its rule by ln or mv (attack4), also to a name as
	 * deep, which a rename of a directory above then brings within reach
	 * (attack5). */
	if (rule == SG_RULE_NOT_ALLOWED || rule == SG_RULE_NEW_MOUNT)
		return 0;
	if (own_rule(src) == rule)
		return 0;
	fev = path_event(ev, op);
	if (!fev)
		return 0;
	if (judge_exec(dst_mnt, dst, ev) == SG_VERDICT_DENY && ev->hdr.rule_id == rule &&
	    rule != SG_RULE_UNRESOLVED && rule != SG_RULE_DETACHED)
		return 0;
	fev->hdr.rule_id = rule;
	fev->hdr.flags |= ev->hdr.flags;
	fev->target_len = copy_judged(sg_names_target(fev), ev);
	emit_path_event(task, fev);
	return sg_block;
}

SEC("lsm/path_link")
int BPF_PROG(sg_exec_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, int ret)
{
	struct vfsmount *mnt = new_dir->mnt; /* links never cross mounts */

	if (ret)
		return sg_keep_denial(ret);
	VERDICT(guard(mnt, old_dentry, mnt, new_dentry, SG_OP_LINK));
}

SEC("lsm/path_rename")
int BPF_PROG(sg_exec_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry)
{
	/* No `ret` here: 5.19 added the flags argument, so its position moves (as
	 * in file.bpf.c). */
	VERDICT(guard(old_dir->mnt, old_dentry, new_dir->mnt, new_dentry, SG_OP_RENAME));
}

/* An exchange moves the file at the new name to the old one as well. Before
 * 5.19 the kernel calls the hook a second time, reversed, for an exchange, and
 * this program is not loaded (src/process/mod.rs). A program of its own rather
 * than a second guard() in sg_exec_rename: the verifier walks a subprogram once
 * per call, and two guards with an allow list took 6.1 past its limit. */
SEC("lsm/path_rename")
int BPF_PROG(sg_exec_rename_exchange, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry)
{
	__u64 flags = sg_rename_has_flags ? ctx[4] : 0;

	if (!(flags & RENAME_EXCHANGE))
		return 0;
	VERDICT(guard(new_dir->mnt, new_dentry, old_dir->mnt, old_dentry, SG_OP_RENAME));
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
		if (judge_exec(bprm->file->f_path.mnt, bprm->file->f_path.dentry, ev) == SG_VERDICT_DENY) {
			ev->hdr.action = SG_ACTION_MONITOR;
			sg_emit(ev, sizeof(*ev));
		} else if (ev->hdr.rule_id != SG_RULE_NONE) {
			sg_count_allow(ev->hdr.rule_id);
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

/*
 * The real file behind an overlayfs file, on kernels that open it with the
 * overlay's path (before 6.8; common.bpf.h, sg_overlay_real): the deny rules
 * judged on the real file's identities within its layer, so that a denied
 * directory used as (or below) an overlay's layer does not run from the
 * overlay. Second programs on the hooks above, loaded only on such kernels;
 * the rules naming the overlay's own path are judged by those. Appended here
 * so that the code of everything above is unchanged.
 */
static __noinline int exec_real(struct file *file, __u64 real, __u32 op)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_exec_event *ev;
	struct sg_file_event *fev;
	struct sg_pathbuf *pb;
	struct sg_resolved resolved;
	struct sg_walk w;

	if (!real || !sg_have_deny || !sg_in_target(task))
		return 0;
	sg_walk_real_levels(real, &w);
	if (w.found && w.match.verdict != SG_VERDICT_DENY)
		return 0;
	if (!w.found && !w.truncated)
		return 0;
	ev = exec_event(task, op == SG_OP_EXEC ? BPF_CORE_READ(task, nameidata, name, name) : 0);
	pb = sg_pathbuf();
	if (!ev || !pb)
		return 0;
	/* the record's path: the one the process named (the overlay's) */
	ev->hdr.rule_id = w.found ? w.match.id : SG_RULE_UNRESOLVED;
	sg_resolve(&file->f_path, pb, &resolved);
	ev->hdr.flags |= resolved.flags;
	ev->exe_len = sg_copy_path(ev->exe, pb, &resolved);
	if (op == SG_OP_EXEC)
		return deny_exec(ev);
	fev = path_event(ev, op);
	if (fev)
		emit_path_event(task, fev);
	return sg_block;
}

SEC("lsm/file_open")
int BPF_PROG(sg_ovl_exec_open, struct file *file, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	if (!(file->f_flags & __FMODE_EXEC) || file->f_inode == file->f_path.dentry->d_inode)
		return 0;
	VERDICT(exec_real(file, sg_overlay_real(file), SG_OP_EXEC));
}

SEC("lsm/mmap_file")
int BPF_PROG(sg_ovl_exec_mmap, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (ret)
		return sg_keep_denial(ret);
	if (!file || !(prot & PROT_EXEC) || BPF_CORE_READ_BITFIELD_PROBED(task, in_execve))
		return 0;
	VERDICT(exec_real(file, sg_overlay_real(file), SG_OP_MMAP));
}

SEC("lsm/file_mprotect")
int BPF_PROG(sg_ovl_exec_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot,
	     int ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *file;

	if (ret)
		return sg_keep_denial(ret);
	if (!(prot & PROT_EXEC) || BPF_CORE_READ_BITFIELD_PROBED(task, in_execve))
		return 0;
	file = vma->vm_file;
	if (!file)
		return 0;
	VERDICT(exec_real(file, sg_overlay_real(file), SG_OP_MPROTECT));
}

/*
 * Links and renames through an overlay: overlayfs makes them in its upper layer
 * itself (vfs_link, vfs_rename: the inode hooks only, on the mounter's
 * credentials, which tell them from a process's own), so the path hooks' guard
 * above judged only the overlay's names. Here the upper file's identity walk: a
 * program under a deny rule on its upper directory gets no new name outside that
 * rule, or `ln` or `mv` through the overlay would run it from there. overlayfs's
 * own move of a directory it removes (exchanged with a whiteout or an opaque
 * directory in its work directory, then removed) is let through; its link onto a
 * whited-out name (made in the work directory, then renamed into place) is refused
 * for such a program, as any link out of the rule (README, File rules, overlayfs).
 */
static __noinline int ovl_guard(struct dentry *src, struct dentry *dst, __u32 op)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct inode *dst_inode;
	struct sg_exec_event *ev;
	struct sg_file_event *fev;
	struct sg_pathbuf *pb;
	struct sg_resolved resolved;
	struct path path = {};
	struct sg_walk w;
	__u32 rule;

	if (!sg_have_deny || BPF_CORE_READ(task, cred) == BPF_CORE_READ(task, real_cred) ||
	    sg_is_whiteout(BPF_CORE_READ(src, d_inode)) || !sg_in_target(task))
		return 0;
	sg_walk_real_levels((__u64)src, &w);
	if (w.found && w.match.verdict != SG_VERDICT_DENY)
		return 0;
	if (!w.found && !w.truncated)
		return 0;
	rule = w.found ? w.match.id : SG_RULE_UNRESOLVED;
	if (w.found && own_rule(src) == rule)
		return 0;
	/* From the new name's directory: a file the rename replaces there may carry
	 * the rule's identity itself (another name of a file under it). */
	sg_walk_real_levels((__u64)BPF_CORE_READ(dst, d_parent), &w);
	if (w.found && w.match.verdict == SG_VERDICT_DENY && w.match.id == rule)
		return 0;
	dst_inode = BPF_CORE_READ(dst, d_inode);
	if (op == SG_OP_RENAME && dst_inode && sg_in_ovl_work_dir(dst) &&
	    (sg_is_whiteout(dst_inode) || (BPF_CORE_READ(dst_inode, i_mode) & SG_S_IFMT) == SG_S_IFDIR))
		return 0;
	ev = exec_event(task, 0);
	pb = sg_pathbuf();
	if (!ev || !pb)
		return 0;
	/* the paths: relative to the root of the upper layer's filesystem */
	ev->hdr.rule_id = rule;
	path.dentry = src;
	sg_resolve(&path, pb, &resolved);
	ev->hdr.flags |= resolved.flags;
	ev->exe_len = sg_copy_path(ev->exe, pb, &resolved);
	fev = path_event(ev, op);
	if (!fev)
		return 0;
	path.dentry = dst;
	sg_resolve(&path, pb, &resolved);
	fev->hdr.flags |= resolved.flags;
	fev->target_len = sg_copy_path(sg_names_target(fev), pb, &resolved);
	emit_path_event(task, fev);
	return sg_block;
}

SEC("lsm/inode_link")
int BPF_PROG(sg_ovl_exec_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(ovl_guard(old_dentry, new_dentry, SG_OP_LINK));
}

/* An exchange comes as a second call, reversed. */
SEC("lsm/inode_rename")
int BPF_PROG(sg_ovl_exec_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(ovl_guard(old_dentry, new_dentry, SG_OP_RENAME));
}
