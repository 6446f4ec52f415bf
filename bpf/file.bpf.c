// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The file module: every operation of SPEC 3.1 judged in an LSM hook.
 *
 * A decision costs a bounded number of map lookups whatever the number of
 * rules: the rules are flattened by the agent into "nodes" (one per rule path,
 * every ancestor rule folded in), found by identity (device, inode of the file
 * or the deepest ancestor directory that is a rule path: this holds through
 * hard links, bind mounts, chroots and mount namespaces) or, for rule paths
 * that did not exist when the agent started, by a longest-prefix lookup of
 * the resolved path. Subject selectors (uid, gid, command) become one bit mask
 * per subject, from three or four hash lookups. The path string is built only
 * when a record is emitted.
 */
/* The identity walk of common.bpf.h; sg_resolve then only builds paths. */
#define SG_IDENTITY_WALK
#define SG_WALK_NS_ROOT /* sg_task_ns_root: common.bpf.h */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_EXEC 0x20
#define __FMODE_EXEC 0x20 /* in f_flags */
#define PROT_EXEC 0x4
#define RENAME_EXCHANGE (1 << 1)
/* In check()'s ops, beside the op bits: a rename is an exchange (both files move). */
#define SG_EXCHANGE (1U << 31)
/* What replacing a file's name (rename over it) does to that file. */
#define SG_REPLACED (1U << SG_FILE_WRITE | 1U << SG_FILE_DELETE)
/* The ops that move or add a name of the file, which its own rules then guard. */
#define SG_MOVES (1U << SG_FILE_RENAME | 1U << SG_FILE_LINK)

/* Load-time switches (rodata), set by src/file/mod.rs. */
const volatile __u32 sg_agent_tgid = 0;    /* the agent's own operations are not judged */
const volatile __u32 sg_ops_enabled = 0;   /* bit per enum sg_file_op: `ops` */
const volatile __u32 sg_ops_ruled = 0;     /* ops some rule or the allow list speaks of */
const volatile __u32 sg_ops_allowlisted = 0;
const volatile __u32 sg_have_deny = 0;
const volatile __u32 sg_need_path = 0;     /* some rule path had no identity at load */
const volatile __u32 sg_have_selectors = 0;
const volatile __u64 sg_uid_any = 0;       /* selector rules that name no uid */
const volatile __u64 sg_gid_any = 0;
const volatile __u64 sg_command_any = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* sized by the agent before load */
	__type(key, __u32);
	__type(value, struct sg_file_node);
} nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct sg_selector_rule);
} selector_rules SEC(".maps");

/* Selector masks: which selector rules a uid, gid, comm or executable satisfies. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} uid_selectors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} gid_selectors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u8[SG_COMM_LEN]);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} comm_selectors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct sg_inode_key);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} exe_selectors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_file_event);
} file_scratch SEC(".maps");

/* check()'s op mask for the new name of a rename or link, see there. */
struct sg_check_ops {
	__u32 ops2;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_check_ops);
} ops_scratch SEC(".maps");

static __always_inline int op_on(__u32 ops, __u32 op)
{
	return ops & (1U << op);
}

/* Which selector rules the current task satisfies. */
static __always_inline __u64 subject_selectors(void)
{
	__u64 uid_gid, uid_mask, gid_mask, command_mask, *found;
	__u32 uid, gid;
	struct sg_inode_key exe;
	__u8 comm[SG_COMM_LEN];
	struct task_struct *task;
	struct inode *inode;

	if (!sg_have_selectors)
		return 0;
	/* Zeroed only here: every open without selectors passes by. */
	__builtin_memset(&exe, 0, sizeof(exe));
	__builtin_memset(comm, 0, sizeof(comm));
	task = (struct task_struct *)bpf_get_current_task();
	uid_gid = bpf_get_current_uid_gid();
	uid = (__u32)uid_gid;
	gid = uid_gid >> 32;

	uid_mask = sg_uid_any;
	found = bpf_map_lookup_elem(&uid_selectors, &uid);
	if (found)
		uid_mask |= *found;
	gid_mask = sg_gid_any;
	found = bpf_map_lookup_elem(&gid_selectors, &gid);
	if (found)
		gid_mask |= *found;

	command_mask = sg_command_any;
	bpf_get_current_comm(comm, sizeof(comm));
	found = bpf_map_lookup_elem(&comm_selectors, comm);
	if (found)
		command_mask |= *found;
	inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	exe.ino = BPF_CORE_READ(inode, i_ino);
	exe.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	found = bpf_map_lookup_elem(&exe_selectors, &exe);
	if (found)
		command_mask |= *found;

	return uid_mask & gid_mask & command_mask;
}

/* Index of the lowest set bit of a non-zero mask (BPF has no ctz). */
static __always_inline __u32 lowest_bit(__u64 mask)
{
	__u32 index = 0;

	mask &= -mask;
	if (mask & 0xffffffff00000000ULL)
		index += 32;
	if (mask & 0xffff0000ffff0000ULL)
		index += 16;
	if (mask & 0xff00ff00ff00ff00ULL)
		index += 8;
	if (mask & 0xf0f0f0f0f0f0f0f0ULL)
		index += 4;
	if (mask & 0xccccccccccccccccULL)
		index += 2;
	if (mask & 0xaaaaaaaaaaaaaaaaULL)
		index += 1;
	return index;
}

/*
 * Path mode (sg_need_path): the identity walk as a global function, which the
 * verifier checks once per program instead of at every call. Inlined beside
 * sg_resolve it took path_rename past the one-million-instruction limit. A
 * global function takes only numbers (5.10) and refuses pointers even cast to
 * numbers, so the file's mount and dentry go through a per-CPU slot, which
 * also holds the result; the walk reads through SG_READ.
 */
struct sg_walk_call {
	struct sg_walk w;
	__u64 mnt;
	__u64 dentry;
	__u32 path_new; /* sg_mount_check: the path crosses a mount not present at load */
	__u32 _pad;
	struct sg_resolved resolved; /* sg_resolve_global's */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_walk_call);
} walk_calls SEC(".maps");

__noinline int sg_walk_global(__u32 slot)
{
	struct sg_inode_filter *filter;
	struct sg_walk_call *call;
	struct vfsmount *vfsmnt;
	struct dentry *dentry;
	struct super_block *sb;
	struct sg_walk *w;
	__u32 zero = 0, dev;
	int depth;

	call = bpf_map_lookup_elem(&walk_calls, &slot);
	filter = bpf_map_lookup_elem(&inode_filter, &zero);
	if (!call)
		return 0;
	w = &call->w;
	vfsmnt = (void *)call->mnt;
	dentry = (void *)call->dentry;
	call->path_new = sg_mount_check && vfsmnt && !sg_mounts_known_to_top(vfsmnt);
	w->found = 0;
	w->truncated = 1;
	w->crossed_new = 0;
	w->top = SG_TOP_ROOT;
	w->node_mnt = 0;
	if (!filter || !dentry)
		return 0;
	sb = SG_READ(dentry, struct dentry, d_sb);
	dev = SG_READ(sb, struct super_block, s_dev);
	for (depth = 0; depth < SG_MAX_DEPTH; depth++) {
		struct inode *inode = SG_READ(dentry, struct dentry, d_inode);
		struct dentry *parent;

		if (sg_lookup_identity(SG_READ(inode, struct inode, i_ino), dev, filter, w))
			return 0;
		parent = SG_READ(dentry, struct dentry, d_parent);
		if (dentry == parent)
			break;
		dentry = parent;
	}
	if (depth == SG_MAX_DEPTH)
		return 0;
	if (!vfsmnt) {
		w->truncated = 0; /* no mount known (inode_setattr) */
		return 0;
	}
	sg_cross_mounts(vfsmnt, filter, w);
	if (sg_mount_check && w->found && w->node_mnt)
		sg_check_crossings(vfsmnt, w);
	return 0;
}

/* Path mode: sg_resolve of the slot's mount and dentry, verified once per
 * program too (each of path_rename's judgements would verify it again). */
__noinline int sg_resolve_global(__u32 slot)
{
	struct sg_walk_call *call = bpf_map_lookup_elem(&walk_calls, &slot);
	struct sg_pathbuf *pb = sg_pathbuf();
	struct path path = {};

	if (!call || !pb)
		return 0;
	path.mnt = (void *)call->mnt;
	path.dentry = (void *)call->dentry;
	sg_resolve(&path, pb, &call->resolved);
	return 0;
}

/* The outcome for one path. */
struct judgement {
	__u32 verdict; /* SG_VERDICT_DENY, SG_VERDICT_AUDIT, or 0: say nothing */
	__u32 rule_id;
	__u32 op;      /* the op that decided */
	__u32 truncated;
	__u32 found;   /* a node applies ... */
	__u32 node;    /* ... this one */
	__u32 guard_rule; /* a rule denying some op on this node, or 0 */
};

/* Judge the ops in `ops` on one path. */
static __always_inline void judge(struct vfsmount *mnt, struct dentry *dentry, __u32 ops, __u64 subject,
			     struct judgement *out)
{
	struct sg_file_node *node = 0;
	struct sg_walk w;
	__u32 truncated, top, found, node_id, new_mount, path_new = 0, zero = 0;
	struct sg_walk_call *call;
	__u64 hit;

	out->verdict = 0;
	out->rule_id = SG_RULE_NONE;
	out->guard_rule = 0;
	/* Identities always, with the full walk (each filesystem's root, across
	 * mounts): a rule path that exists is found however the file is reached. */
	if (sg_need_path) {
		call = bpf_map_lookup_elem(&walk_calls, &zero);
		if (!call)
			return;
		call->mnt = (__u64)mnt;
		call->dentry = (__u64)dentry;
		sg_walk_global(0);
		w = call->w;
		path_new = call->path_new;
	} else {
		sg_find_by_identity(mnt, dentry, &w);
	}
	truncated = w.truncated;
	found = w.found;
	node_id = w.match.id;
	top = found ? SG_TOP_ROOT : w.top;
	new_mount = found && w.crossed_new;
	if (sg_need_path) {
		struct sg_pathbuf *pb = sg_pathbuf();
		struct sg_resolved resolved;
		struct sg_match *match;

		if (!pb)
			return;
		sg_resolve_global(0);
		resolved = call->resolved;
		/* By path only where the mount is known (inode_setattr's path is
		 * relative to the root of the file's filesystem) and the path is
		 * a real one: a path built in a detached tree could spell any
		 * rule path. (A test of mnt around the whole block would have
		 * the verifier explore both walks, past 6.1's limit in
		 * path_rename.) */
		if (mnt && !(resolved.flags & SG_FLAG_TRUNCATED) && resolved.top == SG_TOP_ROOT) {
			match = sg_lookup_path(pb, &resolved);
			if (match && (!found || sg_better(&w.match, match) == match)) {
				found = 1;
				node_id = match->id;
				new_mount = path_new;
				top = SG_TOP_ROOT;
			}
		}
		if (mnt && !found) {
			truncated |= resolved.flags & SG_FLAG_TRUNCATED;
			if (resolved.top != SG_TOP_ROOT)
				top = resolved.top;
		}
		/* Through map memory, so that the branches above leave values the
		 * verifier does not know, and its states merge before the per-op
		 * loop (else each combination verifies the rest again: past 6.1's
		 * limit in path_rename). */
		call->w.found = found;
		call->w.match.id = node_id;
		call->w.truncated = truncated;
		call->w.top = top;
		call->path_new = new_mount;
		asm volatile("" ::: "memory");
		found = call->w.found;
		node_id = call->w.match.id;
		truncated = call->w.truncated;
		top = call->w.top;
		new_mount = call->path_new;
	}
	out->truncated = truncated;
	out->found = found;
	out->node = node_id;
	if (found)
		node = bpf_map_lookup_elem(&nodes, &node_id);
	if (!node) {
		/* No rule speaks of this path (the common case, kept short): only
		 * the allow list refuses it, or, never silently allowed where a
		 * deny rule could apply, a path too deep to resolve or in a
		 * detached tree (its rules may have been above the mount). */
		__u32 unresolved = truncated || top == SG_TOP_DETACHED;
		__u32 refused = unresolved && sg_have_deny ? ops : ops & sg_ops_allowlisted;

		if (refused) {
			out->verdict = SG_VERDICT_DENY;
			out->op = lowest_bit(refused);
			out->rule_id = truncated			? SG_RULE_UNRESOLVED :
				       top == SG_TOP_DETACHED ? SG_RULE_DETACHED :
								SG_RULE_NOT_ALLOWED;
		}
		return;
	}

	out->guard_rule = node->deny_rule_id;
	hit = node->deny_candidates & subject;
	if (hit) {
		__u32 index = lowest_bit(hit);
		struct sg_selector_rule *selector = bpf_map_lookup_elem(&selector_rules, &index);

		if (selector)
			out->guard_rule = selector->rule_id;
	}

	for (__u32 op = 0; op < SG_FILE_OPS; op++) {
		struct sg_file_op_rules *rules = &node->ops[op];
		__u32 verdict = 0, rule_id = SG_RULE_NONE;

		if (!op_on(ops, op))
			continue;
		hit = rules->candidates & subject;
		if (hit) {
			__u32 index = lowest_bit(hit);
			struct sg_selector_rule *selector = bpf_map_lookup_elem(&selector_rules, &index);

			if (selector) {
				verdict = selector->verdict;
				rule_id = selector->rule_id;
			}
		} else {
			verdict = rules->verdict;
			rule_id = rules->rule_id;
		}

		/* Allow rules do not reach across a mount made after the start. */
		if (verdict != SG_VERDICT_DENY && op_on(sg_ops_allowlisted, op) &&
		    (new_mount || !(rules->allowed || (rules->allowed_by & subject)))) {
			verdict = SG_VERDICT_DENY;
			rule_id = new_mount ? SG_RULE_NEW_MOUNT : SG_RULE_NOT_ALLOWED;
		}
		if (verdict == SG_VERDICT_DENY) {
			out->verdict = verdict;
			out->rule_id = rule_id;
			out->op = op;
			return;
		}
		if (verdict == SG_VERDICT_AUDIT && !out->verdict) {
			out->verdict = verdict;
			out->rule_id = rule_id;
			out->op = op;
		}
	}
}

static __always_inline __u32 copy_path(__u8 *dst, struct vfsmount *mnt, struct dentry *dentry, __u32 *flags)
{
	struct sg_pathbuf *pb = sg_pathbuf();
	struct path path = { .mnt = mnt, .dentry = dentry };
	struct sg_resolved resolved;

	if (!pb)
		return 0;
	sg_resolve(&path, pb, &resolved);
	*flags |= resolved.flags;
	return sg_copy_path(dst, pb, &resolved);
}

/*
 * The one entry point of every hook: judge `ops` on the path (mnt, dentry) and,
 * for rename and link, on the new name (mnt2, dentry2); emit one record for a
 * denial or an audited operation; return non-zero to refuse.
 */
static __noinline int check(struct vfsmount *mnt, struct dentry *dentry, __u32 ops,
			    struct vfsmount *mnt2, struct dentry *dentry2)
{
	struct task_struct *task;
	struct judgement first = {}, second = {};
	struct judgement *decided = &first;
	struct sg_file_event *ev;
	__u64 subject;
	__u32 zero = 0, size, exe_flags = 0, exchange = ops & SG_EXCHANGE, ops2 = ops;

	/* A rename or link onto a name: a new name in its directory is a create
	 * there; an existing file at that name (rename only) has its content
	 * replaced and is removed: write and delete on it. An exchange replaces
	 * both files. One mask per path keeps it one judgement each. */
	if (dentry2) {
		struct sg_check_ops *through = bpf_map_lookup_elem(&ops_scratch, &zero);

		if (exchange)
			ops |= SG_REPLACED;
		ops2 |= BPF_CORE_READ(dentry2, d_inode) ? SG_REPLACED : 1U << SG_FILE_CREATE;
		/* Through map memory, which the verifier reads back as unknown: as a
		 * constant per branch it would verify the second walk twice more
		 * (path_rename went past 6.1's 1M). */
		if (!through)
			return 0;
		*(volatile __u32 *)&through->ops2 = ops2;
		ops2 = *(volatile __u32 *)&through->ops2;
	}
	ops &= sg_ops_enabled & sg_ops_ruled;
	ops2 &= sg_ops_enabled & sg_ops_ruled;
	if (!ops && !ops2)
		return 0;
	/* Every helper call counts on the path of an open that no rule speaks
	 * of: the task is fetched only where it is needed. */
	if (sg_target != SG_TARGET_ALL &&
	    !sg_in_target((struct task_struct *)bpf_get_current_task()))
		return 0;

	subject = subject_selectors();
	judge(mnt, dentry, ops, subject, &first);
	if (dentry2 && first.verdict != SG_VERDICT_DENY) {
		__u32 moves = ops & SG_MOVES;

		judge(mnt2, dentry2, ops2, subject, &second);
		if (second.verdict == SG_VERDICT_DENY || (second.verdict && !first.verdict))
			decided = &second;
		/* A new name (link) or place (rename) outside the file's own rules
		 * would shed them: refused when they deny something. An exchange
		 * moves the second file to the first place as well. */
		if (moves && decided->verdict != SG_VERDICT_DENY && first.guard_rule &&
		    (!second.found || second.node != first.node)) {
			first.verdict = SG_VERDICT_DENY;
			first.rule_id = first.guard_rule;
			first.op = ops & (1U << SG_FILE_LINK) ? SG_FILE_LINK : SG_FILE_RENAME;
			decided = &first;
		} else if (moves && decided->verdict != SG_VERDICT_DENY && exchange && second.guard_rule &&
			   (!first.found || first.node != second.node)) {
			second.verdict = SG_VERDICT_DENY;
			second.rule_id = second.guard_rule;
			second.op = SG_FILE_RENAME;
			decided = &second;
		}
	}
	if (!decided->verdict || (bpf_get_current_pid_tgid() >> 32) == sg_agent_tgid)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();

	/* Decided: from here on nothing changes the verdict. */
	ev = bpf_map_lookup_elem(&file_scratch, &zero);
	if (ev) {
		ev->hdr.kind = SG_KIND_FILE;
		ev->hdr.op = SG_OP_FILE_FIRST + decided->op;
		ev->hdr.rule_id = decided->rule_id;
		ev->hdr.flags = first.truncated || second.truncated ? SG_FLAG_TRUNCATED : 0;
		ev->hdr.action = decided->verdict == SG_VERDICT_AUDIT ? SG_ACTION_ALLOWED :
				 sg_block			       ? SG_ACTION_BLOCKED :
								 SG_ACTION_MONITOR;
		ev->file_op = decided->op;
		sg_fill_subject(&ev->hdr, task);
		ev->exe_len = copy_path(ev->exe, BPF_CORE_READ(task, mm, exe_file, f_path.mnt),
					BPF_CORE_READ(task, mm, exe_file, f_path.dentry), &exe_flags);
		ev->path_len = copy_path(ev->path, mnt, dentry, &ev->hdr.flags);
		ev->target_len = 0;
		size = offsetof(struct sg_file_event, path) + (ev->path_len & (SG_PATH_LEN - 1));
		if (dentry2) {
			ev->target_len = copy_path(ev->target, mnt2, dentry2, &ev->hdr.flags);
			size = offsetof(struct sg_file_event, target) + (ev->target_len & (SG_PATH_LEN - 1));
		}
		sg_emit(ev, size);
	}
	return decided->verdict == SG_VERDICT_DENY && sg_block;
}

/*
 * Audit-only, for kernels without BPF LSM (the degraded mode of SPEC 2): the same
 * judgement in fentry programs on the security_*() functions that call the LSM
 * hooks. They cannot refuse; the agent loads them instead of the LSM programs,
 * with sg_block = 0, so that what block mode would deny is a MONITOR record.
 * Their prototypes are the functions', which match the hooks' except mmap_file.
 * DIR_HOOK and PATH_HOOK define both programs; the other twins follow the LSM
 * programs.
 */

/* Every hook returns constants (6.12's verifier checks the range). */
#define VERDICT(expr)                 \
	do {                          \
		if (expr)             \
			return -EPERM; \
		return 0;             \
	} while (0)

/* The ops of an open. An exec opens its file for reading too: it is judged as
 * exec only. The open carries __FMODE_EXEC in f_flags; f_mode gains FMODE_EXEC
 * later. */
static __always_inline __u32 open_ops(struct file *file)
{
	__u32 mode = file->f_mode;

	if ((file->f_flags & __FMODE_EXEC) || (mode & FMODE_EXEC))
		return 1U << SG_FILE_EXEC;
	return (mode & FMODE_READ ? 1U << SG_FILE_READ : 0) | (mode & FMODE_WRITE ? 1U << SG_FILE_WRITE : 0);
}

static __always_inline __u32 mmap_ops(unsigned long prot)
{
	return 1U << SG_FILE_MMAP | (prot & PROT_EXEC ? 1U << SG_FILE_EXEC : 0);
}

/* A mapping that becomes executable (mmap(PROT_READ) then mprotect(PROT_EXEC)) is
 * judged like an executable mmap. `prot` is the effective protection: the kernel
 * has already added PROT_EXEC for a READ_IMPLIES_EXEC personality (which
 * `reqprot` lacks), as mmap_file's `prot` has. Anonymous memory has no file. */
static __always_inline int mprotect_check(struct vm_area_struct *vma, unsigned long prot)
{
	struct file *file;

	if (!(prot & PROT_EXEC))
		return 0;
	file = vma->vm_file; /* BTF loads: check() walks from these pointers */
	if (!file)
		return 0;
	return check(file->f_path.mnt, file->f_path.dentry, mmap_ops(prot), 0, 0);
}

SEC("lsm/file_mprotect")
int BPF_PROG(sg_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot,
	     int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(mprotect_check(vma, prot));
}

SEC("lsm/file_open")
int BPF_PROG(sg_file_open, struct file *file, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(check(file->f_path.mnt, file->f_path.dentry, open_ops(file), 0, 0));
}

SEC("lsm/mmap_file")
int BPF_PROG(sg_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	if (!file)
		return 0; /* anonymous memory */
	VERDICT(check(file->f_path.mnt, file->f_path.dentry, mmap_ops(prot), 0, 0));
}

/* Creating, deleting: the directory's mount and the (new or old) dentry; with
 * the audit-only twin. */
#define DIR_HOOK(hook, op, ...)                                                              \
	SEC("lsm/" #hook)                                                                    \
	int BPF_PROG(sg_##hook, const struct path *dir, struct dentry *dentry, ##__VA_ARGS__, \
		     int ret)                                                                \
	{                                                                                    \
		if (ret)                                                                     \
			return sg_keep_denial(ret);                                          \
		VERDICT(check(dir->mnt, dentry, 1U << (op), 0, 0));                         \
	}                                                                                    \
	SEC("fentry/security_" #hook)                                                        \
	int BPF_PROG(sg_audit_##hook, const struct path *dir, struct dentry *dentry, ##__VA_ARGS__) \
	{                                                                                    \
		check(dir->mnt, dentry, 1U << (op), 0, 0);                                   \
		return 0;                                                                    \
	}

DIR_HOOK(path_mknod, SG_FILE_CREATE, umode_t mode, unsigned int dev)
DIR_HOOK(path_mkdir, SG_FILE_CREATE, umode_t mode)
DIR_HOOK(path_symlink, SG_FILE_CREATE, const char *old_name)
DIR_HOOK(path_unlink, SG_FILE_DELETE)
DIR_HOOK(path_rmdir, SG_FILE_DELETE)

/* 1 where the path_rename hook has its flags argument (5.19 and later; before,
 * the kernel calls the hook a second time, reversed, for an exchange). */
const volatile __u32 sg_rename_has_flags = 0;

static __always_inline __u32 rename_ops(__u64 flags)
{
	return 1U << SG_FILE_RENAME | (flags & RENAME_EXCHANGE ? SG_EXCHANGE : 0);
}

SEC("lsm/path_rename")
int BPF_PROG(sg_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry)
{
	/* No `ret` here: 5.19 added the flags argument, so its position moves. A
	 * denial by an earlier BPF program is still final: the kernel stops at the
	 * first program that returns an error. */
	__u32 ops = rename_ops(sg_rename_has_flags ? ctx[4] : 0);

	VERDICT(check(old_dir->mnt, old_dentry, ops, new_dir->mnt, new_dentry));
}

SEC("lsm/path_link")
int BPF_PROG(sg_path_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, int ret)
{
	struct vfsmount *mnt = new_dir->mnt; /* links never cross mounts */

	if (ret)
		return sg_keep_denial(ret);
	VERDICT(check(mnt, old_dentry, 1U << SG_FILE_LINK, mnt, new_dentry));
}

/* Attribute changes of an existing path (`ops`: a mask); with the audit-only twin. */
#define PATH_HOOK(hook, ops, ...)                                                            \
	SEC("lsm/" #hook)                                                                    \
	int BPF_PROG(sg_##hook, const struct path *path, ##__VA_ARGS__, int ret)             \
	{                                                                                    \
		if (ret)                                                                     \
			return sg_keep_denial(ret);                                          \
		VERDICT(check(path->mnt, path->dentry, (ops), 0, 0));                        \
	}                                                                                    \
	SEC("fentry/security_" #hook)                                                        \
	int BPF_PROG(sg_audit_##hook, const struct path *path, ##__VA_ARGS__)               \
	{                                                                                    \
		check(path->mnt, path->dentry, (ops), 0, 0);                                 \
		return 0;                                                                    \
	}

PATH_HOOK(path_chmod, 1U << SG_FILE_CHMOD, umode_t mode)
PATH_HOOK(path_chown, 1U << SG_FILE_CHOWN, __u32 uid, __u32 gid) /* kuid_t, kgid_t: unread */
/* A truncation changes the file's content: it is a write as well as setattr
 * (open(O_RDONLY | O_TRUNC) opens for reading and truncates; truncate(2) opens
 * nothing). */
#define SG_TRUNCATE (1U << SG_FILE_SETATTR | 1U << SG_FILE_WRITE)

PATH_HOOK(path_truncate, SG_TRUNCATE)

/* ftruncate() and O_TRUNC on 6.2 and later (earlier kernels call path_truncate). */
SEC("lsm/file_truncate")
int BPF_PROG(sg_file_truncate, struct file *file, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(check(file->f_path.mnt, file->f_path.dentry, SG_TRUNCATE, 0, 0));
}

/*
 * Times (utimensat, touch) and, before 6.1, chown: judged on the attribute change
 * itself, by its dentry (no mount: paths are relative to the filesystem's root,
 * identities hold). Truncation sets ATTR_MTIME too but is judged where the mount
 * is known (path_truncate, file_truncate), so a size change is skipped here;
 * mode changes are path_chmod's. The hook gained an idmap argument in 6.3: one
 * program per prototype, and the agent loads the one this kernel's BTF has.
 */
#define ATTR_UID (1 << 1)
#define ATTR_GID (1 << 2)
#define ATTR_SIZE (1 << 3)
#define ATTR_ATIME (1 << 4)
#define ATTR_MTIME (1 << 5)

/* 1 where path_chown cannot attach (before 6.1: by-value kuid_t/kgid_t). */
const volatile __u32 sg_chown_in_setattr = 0;

static __always_inline int setattr_check(struct dentry *dentry, struct iattr *attr)
{
	__u32 valid = BPF_CORE_READ(attr, ia_valid), ops = 0;

	if ((valid & (ATTR_ATIME | ATTR_MTIME)) && !(valid & ATTR_SIZE))
		ops |= 1U << SG_FILE_SETATTR;
	if (sg_chown_in_setattr && (valid & (ATTR_UID | ATTR_GID)))
		ops |= 1U << SG_FILE_CHOWN;
	if (!ops)
		return 0;
	return check(0, dentry, ops, 0, 0);
}

/* Before 6.3: (dentry, attr). */
SEC("lsm/inode_setattr")
int BPF_PROG(sg_inode_setattr, struct dentry *dentry, struct iattr *attr, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(setattr_check(dentry, attr));
}

/* 6.3 and later: (idmap, dentry, attr). */
SEC("lsm/inode_setattr")
int BPF_PROG(sg_inode_setattr_idmap, struct mnt_idmap *idmap, struct dentry *dentry,
	     struct iattr *attr, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(setattr_check(dentry, attr));
}

/*
 * Extended attributes (setxattr, removexattr, their f- and l- forms, io_uring's
 * IORING_OP_SETXATTR: all reach these hooks). Every change of one is `setattr`;
 * a POSIX ACL is the file's mode, and a file capability (security.capability)
 * grants privilege as a set-uid bit does: those are `chmod` too. From 6.2 on
 * ACLs go through inode_set_acl and inode_remove_acl instead. Like
 * inode_setattr these see a dentry and no mount, and the prototypes gained a
 * user namespace (5.12, an idmap from 6.3) first: one program per prototype.
 */
#define SG_XATTR_NAME 24
#define SG_ACL_OPS (1U << SG_FILE_CHMOD | 1U << SG_FILE_SETATTR)

/* Does the NUL-terminated `buf` start with `prefix` (a string literal)? */
#define HAS_PREFIX(buf, prefix) has_prefix(buf, prefix, sizeof(prefix) - 1)

static __always_inline int has_prefix(const char *buf, const char *prefix, int len)
{
#pragma unroll
	for (int i = 0; i < len; i++)
		if (buf[i] != prefix[i])
			return 0;
	return 1;
}

static __always_inline int xattr_check(struct dentry *dentry, const char *name)
{
	char buf[SG_XATTR_NAME] = {};
	__u32 ops = 1U << SG_FILE_SETATTR;

	bpf_probe_read_kernel_str(buf, sizeof(buf), name);
	/* system.posix_acl_access, system.posix_acl_default; security.capability */
	if (HAS_PREFIX(buf, "system.posix_acl_") || HAS_PREFIX(buf, "security.capability\0"))
		ops = SG_ACL_OPS;
	return check(0, dentry, ops, 0, 0);
}

/* Before 5.12: (dentry, name, value, size, flags). */
SEC("lsm/inode_setxattr")
int BPF_PROG(sg_inode_setxattr, struct dentry *dentry, const char *name, const void *value,
	     size_t size, int flags, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(xattr_check(dentry, name));
}

/* 5.12 and later: (user namespace or idmap, dentry, name, value, size, flags). */
SEC("lsm/inode_setxattr")
int BPF_PROG(sg_inode_setxattr_idmap, void *idmap, struct dentry *dentry, const char *name,
	     const void *value, size_t size, int flags, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(xattr_check(dentry, name));
}

SEC("lsm/inode_removexattr")
int BPF_PROG(sg_inode_removexattr, struct dentry *dentry, const char *name, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(xattr_check(dentry, name));
}

SEC("lsm/inode_removexattr")
int BPF_PROG(sg_inode_removexattr_idmap, void *idmap, struct dentry *dentry, const char *name, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(xattr_check(dentry, name));
}

/* 6.2 and later: (user namespace or idmap, dentry, acl_name, acl). */
SEC("lsm/inode_set_acl")
int BPF_PROG(sg_inode_set_acl, void *idmap, struct dentry *dentry, const char *acl_name, void *kacl,
	     int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(check(0, dentry, SG_ACL_OPS, 0, 0));
}

SEC("lsm/inode_remove_acl")
int BPF_PROG(sg_inode_remove_acl, void *idmap, struct dentry *dentry, const char *acl_name, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(check(0, dentry, SG_ACL_OPS, 0, 0));
}

/* Inode flags (chattr: immutable, append-only, ...) and fsxattr change through an
 * ioctl on a descriptor opened for reading: setattr. (32-bit callers reach
 * file_ioctl_compat from 6.8 on, file_ioctl before.) */
#define FS_IOC_SETFLAGS 0x40086602
#define FS_IOC32_SETFLAGS 0x40046602
#define FS_IOC_FSSETXATTR 0x401c5820

static __always_inline int ioctl_check(struct file *file, unsigned int cmd)
{
	if (cmd != FS_IOC_SETFLAGS && cmd != FS_IOC32_SETFLAGS && cmd != FS_IOC_FSSETXATTR)
		return 0;
	return check(file->f_path.mnt, file->f_path.dentry, 1U << SG_FILE_SETATTR, 0, 0);
}

SEC("lsm/file_ioctl")
int BPF_PROG(sg_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(ioctl_check(file, cmd));
}

SEC("lsm/file_ioctl_compat")
int BPF_PROG(sg_file_ioctl_compat, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(ioctl_check(file, cmd));
}

/* The audit-only twins of the hooks above. */
SEC("fentry/security_file_open")
int BPF_PROG(sg_audit_file_open, struct file *file)
{
	check(file->f_path.mnt, file->f_path.dentry, open_ops(file), 0, 0);
	return 0;
}

#define PROT_READ 0x1
#define READ_IMPLIES_EXEC 0x0400000
#define MNT_NOEXEC 0x04
#define SB_I_NOEXEC 0x02

/* security_mmap_file() gets the requested protection; the hook gets it with
 * PROT_EXEC added for a READ_IMPLIES_EXEC personality (mmap_prot() in
 * security/security.c): the twin adds it the same way. */
static __always_inline unsigned long effective_mmap_prot(struct file *file, unsigned long prot)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if ((prot & (PROT_READ | PROT_EXEC)) != PROT_READ ||
	    !(BPF_CORE_READ(task, personality) & READ_IMPLIES_EXEC))
		return prot;
	if ((BPF_CORE_READ(file, f_path.mnt, mnt_flags) & MNT_NOEXEC) ||
	    (BPF_CORE_READ(file, f_path.mnt, mnt_sb, s_iflags) & SB_I_NOEXEC))
		return prot;
	return prot | PROT_EXEC;
}

SEC("fentry/security_mmap_file")
int BPF_PROG(sg_audit_mmap_file, struct file *file, unsigned long prot, unsigned long flags)
{
	if (!file)
		return 0;
	check(file->f_path.mnt, file->f_path.dentry, mmap_ops(effective_mmap_prot(file, prot)), 0, 0);
	return 0;
}

/* security_file_mprotect() gets the effective protection, as the hook does. */
SEC("fentry/security_file_mprotect")
int BPF_PROG(sg_audit_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot)
{
	mprotect_check(vma, prot);
	return 0;
}

/* security_path_rename() has had its flags argument on every kernel here. */
SEC("fentry/security_path_rename")
int BPF_PROG(sg_audit_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags)
{
	check(old_dir->mnt, old_dentry, rename_ops(flags), new_dir->mnt, new_dentry);
	return 0;
}

SEC("fentry/security_path_link")
int BPF_PROG(sg_audit_path_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry)
{
	check(new_dir->mnt, old_dentry, 1U << SG_FILE_LINK, new_dir->mnt, new_dentry);
	return 0;
}

SEC("fentry/security_file_truncate")
int BPF_PROG(sg_audit_file_truncate, struct file *file)
{
	check(file->f_path.mnt, file->f_path.dentry, SG_TRUNCATE, 0, 0);
	return 0;
}

SEC("fentry/security_inode_setattr")
int BPF_PROG(sg_audit_inode_setattr, struct dentry *dentry, struct iattr *attr)
{
	setattr_check(dentry, attr);
	return 0;
}

/* 5.12 and later: (user namespace before 6.3, idmap after, dentry, attr). */
SEC("fentry/security_inode_setattr")
int BPF_PROG(sg_audit_inode_setattr_idmap, void *idmap, struct dentry *dentry, struct iattr *attr)
{
	setattr_check(dentry, attr);
	return 0;
}

SEC("fentry/security_file_ioctl")
int BPF_PROG(sg_audit_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg)
{
	ioctl_check(file, cmd);
	return 0;
}

SEC("fentry/security_file_ioctl_compat")
int BPF_PROG(sg_audit_file_ioctl_compat, struct file *file, unsigned int cmd, unsigned long arg)
{
	ioctl_check(file, cmd);
	return 0;
}

SEC("fentry/security_inode_setxattr")
int BPF_PROG(sg_audit_inode_setxattr, struct dentry *dentry, const char *name, const void *value,
	     size_t size, int flags)
{
	xattr_check(dentry, name);
	return 0;
}

SEC("fentry/security_inode_setxattr")
int BPF_PROG(sg_audit_inode_setxattr_idmap, void *idmap, struct dentry *dentry, const char *name,
	     const void *value, size_t size, int flags)
{
	xattr_check(dentry, name);
	return 0;
}

SEC("fentry/security_inode_removexattr")
int BPF_PROG(sg_audit_inode_removexattr, struct dentry *dentry, const char *name)
{
	xattr_check(dentry, name);
	return 0;
}

SEC("fentry/security_inode_removexattr")
int BPF_PROG(sg_audit_inode_removexattr_idmap, void *idmap, struct dentry *dentry, const char *name)
{
	xattr_check(dentry, name);
	return 0;
}

SEC("fentry/security_inode_set_acl")
int BPF_PROG(sg_audit_inode_set_acl, void *idmap, struct dentry *dentry, const char *acl_name, void *kacl)
{
	check(0, dentry, SG_ACL_OPS, 0, 0);
	return 0;
}

SEC("fentry/security_inode_remove_acl")
int BPF_PROG(sg_audit_inode_remove_acl, void *idmap, struct dentry *dentry, const char *acl_name)
{
	check(0, dentry, SG_ACL_OPS, 0, 0);
	return 0;
}

/*
 * Rule paths follow their names. A rule path's file or directory may be
 * replaced while the agent runs: `sed -i` and editors rename a new file over
 * it, `rm` + create or `ln` bind a new inode to the name, a directory is
 * removed and made again. Each of these binds an inode to a name in the dcache
 * through d_instantiate (create, mkdir, mknod, symlink, link, and lookups),
 * d_move (rename) or d_exchange (RENAME_EXCHANGE); just BEFORE the binding,
 * the inode is given the node of the rule path with that (parent directory
 * identity, name), so no lookup can see the name with an unprotected inode.
 * These run on every create and rename: a hash lookup of the parent directory
 * ends the cost for names in directories that hold no rule path.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized by the agent before load */
	__type(key, struct sg_inode_key);
	__type(value, __u32); /* unused */
	__uint(map_flags, BPF_F_NO_PREALLOC);
} rule_parents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized by the agent before load */
	__type(key, struct sg_name_key);
	__type(value, struct sg_match);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} rule_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_name_key);
} name_scratch SEC(".maps");

/* `inode` is about to be bound to `dentry`'s name: if that name is a rule
 * path, the inode becomes that rule path's identity. */
static __noinline void follow_name(struct inode *inode, struct dentry *dentry)
{
	struct inode *dir = BPF_CORE_READ(dentry, d_parent, d_inode);
	struct sg_inode_key parent = {}, key = {};
	struct sg_name_key *name_key;
	struct sg_inode_filter *filter;
	struct sg_match *match, node;
	struct qstr name;
	__u32 zero = 0;

	if (!inode || !dir)
		return;
	parent.ino = BPF_CORE_READ(dir, i_ino);
	parent.dev = BPF_CORE_READ(dir, i_sb, s_dev);
	if (!bpf_map_lookup_elem(&rule_parents, &parent))
		return;
	name_key = bpf_map_lookup_elem(&name_scratch, &zero);
	filter = bpf_map_lookup_elem(&inode_filter, &zero);
	if (!name_key || !filter)
		return;
	name = BPF_CORE_READ(dentry, d_name);
	if (name.len >= SG_NAME_LEN)
		return;
	__builtin_memset(name_key, 0, sizeof(*name_key));
	name_key->parent_ino = parent.ino;
	name_key->parent_dev = parent.dev;
	name_key->len = name.len;
	bpf_probe_read_kernel(name_key->name, name.len & (SG_NAME_LEN - 1), name.name);
	match = bpf_map_lookup_elem(&rule_names, name_key);
	if (!match)
		return;
	node = *match;
	key.ino = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	*filter_slot(filter, key.ino) = 1;
	if (bpf_map_update_elem(&sg_inode_rules, &key, &node, BPF_ANY))
		sg_count(SG_COUNTER_IDENTITIES_FULL);
}

SEC("lsm/d_instantiate")
int BPF_PROG(sg_d_instantiate, struct dentry *dentry, struct inode *inode)
{
	follow_name(inode, dentry);
	return 0;
}

SEC("fentry/security_d_instantiate")
int BPF_PROG(sg_audit_d_instantiate, struct dentry *dentry, struct inode *inode)
{
	follow_name(inode, dentry);
	return 0;
}

/* A rename: `dentry`'s inode takes `target`'s name. */
SEC("fentry/d_move")
int BPF_PROG(sg_d_move, struct dentry *dentry, struct dentry *target)
{
	follow_name(BPF_CORE_READ(dentry, d_inode), target);
	return 0;
}

SEC("fentry/d_exchange")
int BPF_PROG(sg_d_exchange, struct dentry *dentry1, struct dentry *dentry2)
{
	follow_name(BPF_CORE_READ(dentry1, d_inode), dentry2);
	follow_name(BPF_CORE_READ(dentry2, d_inode), dentry1);
	return 0;
}

/* An identity dies with its file: when a deleted inode (no links left) is
 * freed, its entry goes, so that the identity map stays bounded by the live
 * files and a recycled inode number never inherits a rule. */
static __always_inline void forget_identity(struct inode *inode)
{
	struct sg_inode_key key = {};
	struct sg_inode_filter *filter;
	__u32 zero = 0;

	if (BPF_CORE_READ(inode, i_nlink))
		return;
	filter = bpf_map_lookup_elem(&inode_filter, &zero);
	if (!filter)
		return;
	key.ino = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (*filter_slot(filter, key.ino))
		bpf_map_delete_elem(&sg_inode_rules, &key);
}

SEC("lsm/inode_free_security")
int BPF_PROG(sg_inode_free_security, struct inode *inode)
{
	forget_identity(inode);
	return 0;
}

/* security_inode_free() calls the inode_free_security hook. */
SEC("fentry/security_inode_free")
int BPF_PROG(sg_audit_inode_free_security, struct inode *inode)
{
	forget_identity(inode);
	return 0;
}
