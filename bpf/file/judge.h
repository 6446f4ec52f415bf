// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The file module's judgement (part of bpf/file.bpf.c, included there first):
 * load-time switches, rule maps, the subject's selectors, the walk to a rule
 * node, the per-op decision (judge) and check(), which every hook calls.
 */
/* Load-time switches (rodata), set by src/file/mod.rs. */
const volatile __u32 sg_agent_tgid = 0;    /* the agent's own operations are not judged */
const volatile __u64 sg_agent_start = 0;   /* ...with its start time: see sg_is_agent */
const volatile __u32 sg_overlay_fake_path = 0; /* before 6.8: see sg_file_open */
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

/* What a record says of its subject that holds for a thread's program image,
 * as this CPU last worked it out: the executable's path and the pid namespace
 * (a thread never changes namespace), and whose they were: a thread (tid and
 * start time) in one program image (its exec count, self_exec_id, and its
 * executable file). A burst of audited events from one process resolves them
 * for the first record only (fill_image). */
struct image_cache {
	__u64 start_time;
	__u64 exec_id;
	__u64 exe_file;
	__u32 tid;
	__u32 len;
	__u32 pidns_inum;
	__u32 flags; /* SG_FLAG_CONTAINER or 0 */
	__u8 path[SG_PATH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct image_cache);
} image_cache SEC(".maps");

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
	uid_gid = sg_task_uid_gid(task);
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

#ifdef SG_BPF_LOOP
/* sg_walk_global level by level (see SG_LEVELS), for every program but
 * sg_file_open: the level's dentry and the filesystem's device as numbers. */
struct sg_global_walk {
	__u64 dentry;
	__u64 dev;
	struct sg_inode_filter *filter;
	struct sg_walk *w;
};

static long sg_global_level(__u64 level, void *state)
{
	struct sg_global_walk *walk = state;
	struct dentry *dentry = (void *)walk->dentry;
	struct inode *inode = SG_READ(dentry, struct dentry, d_inode);
	struct dentry *parent;

	if (sg_lookup_identity(SG_READ(inode, struct inode, i_ino), walk->dev, walk->filter, walk->w))
		return 1;
	parent = SG_READ(dentry, struct dentry, d_parent);
	if (dentry == parent) {
		walk->w->truncated = 2; /* the filesystem's root: the mounts above next */
		return 1;
	}
	walk->dentry = (__u64)parent;
	return 0;
}

__noinline int sg_walk_global_levels(__u32 slot)
{
	struct sg_global_walk walk = {};
	struct sg_walk_call *call;
	struct super_block *sb;
	struct dentry *dentry;
	struct sg_walk *w;
	__u32 zero = 0;

	call = bpf_map_lookup_elem(&walk_calls, &slot);
	walk.filter = bpf_map_lookup_elem(&inode_filter, &zero);
	if (!call)
		return 0;
	w = &call->w;
	walk.w = w;
	walk.dentry = call->dentry;
	w->found = 0;
	w->truncated = 1;
	w->crossed_new = 0;
	w->top = SG_TOP_ROOT;
	w->node_mnt = 0;
	if (!walk.filter || !walk.dentry)
		return 0;
	dentry = (void *)walk.dentry; /* not walk.dentry inside SG_READ: a CO-RE access of our struct */
	sb = SG_READ(dentry, struct dentry, d_sb);
	walk.dev = SG_READ(sb, struct super_block, s_dev);
	/* where it ends at the filesystem's root, w->truncated = 2: the caller
	 * goes on with sg_mounts_levels */
	bpf_loop(SG_MAX_DEPTH, sg_global_level, &walk, 0);
	return 0;
}

/* sg_walk_global's path_new, in a frame of its own too. */
__noinline int sg_path_new_global(__u32 slot)
{
	struct sg_walk_call *call = bpf_map_lookup_elem(&walk_calls, &slot);

	if (call)
		call->path_new = call->mnt && !sg_mounts_known_to_top((void *)call->mnt);
	return 0;
}

/* Then the mounts above, each from the caller's frame (see sg_mounts_levels). */
static __always_inline void sg_walk_call_levels(struct sg_walk_call *call)
{
	call->path_new = 0;
	if (sg_mount_check)
		sg_path_new_global(0);
	sg_walk_global_levels(0);
	if (call->w.truncated == 2)
		sg_mounts_levels_checked((void *)call->mnt, &call->w);
}
#else
#define sg_walk_call_levels(call) sg_walk_global(0)
#endif

/* Path mode: sg_resolve of the slot's mount and dentry, verified once per
 * program too (each of path_rename's judgements would verify it again);
 * sg_file_open's and the others', as above. */
static __always_inline int sg_resolve_call(__u32 slot, const int bounded)
{
	struct sg_walk_call *call = bpf_map_lookup_elem(&walk_calls, &slot);
	struct sg_pathbuf *pb = sg_pathbuf();

	if (!call || !pb)
		return 0;
	sg_resolve_walk((void *)call->mnt, (void *)call->dentry, pb, &call->resolved, bounded);
	return 0;
}

__noinline int sg_resolve_global(__u32 slot)
{
	return sg_resolve_call(slot, 1);
}

__noinline int sg_resolve_global_levels(__u32 slot)
{
	return sg_resolve_call(slot, 0);
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

/* A rule denying some op on the node for this subject, or 0: what a new name
 * outside the node would shed (the link and rename guards). */
static __always_inline __u32 node_guard(struct sg_file_node *node, __u64 subject)
{
	__u32 guard = node->deny_rule_id;
	__u64 hit = node->deny_candidates & subject;

	if (hit) {
		__u32 index = lowest_bit(hit);
		struct sg_selector_rule *selector = bpf_map_lookup_elem(&selector_rules, &index);

		if (selector)
			guard = selector->rule_id;
	}
	return guard;
}

/* Judge the ops in `ops` on one path. `hot`: sg_file_open's judgement, whose
 * walks stay bounded loops in both objects (see SG_LEVELS). */
static __always_inline void judge(struct vfsmount *mnt, struct dentry *dentry, __u32 ops, __u64 subject,
			     struct judgement *out, const int hot)
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
		if (hot)
			sg_walk_global(0);
		else
			sg_walk_call_levels(call);
		w = call->w;
		path_new = call->path_new;
	} else {
		if (hot)
			sg_find_by_identity(mnt, dentry, &w);
		else
			sg_find_by_identity_levels(mnt, dentry, &w);
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
		if (hot)
			sg_resolve_global(0);
		else
			sg_resolve_global_levels(0);
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

	out->guard_rule = node_guard(node, subject);

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
		/* Counted per op at once: a rule id carried past the loop took the
		 * path hooks' combined stack over 512 bytes on 6.1. */
		if (verdict == SG_VERDICT_ALLOW)
			sg_count_allow(rule_id);
	}
}

/* The path at (mnt, dentry) into dst. `hot`: sg_file_open's records, resolved
 * by the bounded walk (sg_resolve_global) where sg_resolve's is a callback: 6.12's
 * audited open cost 109 instructions more in the hook that way. */
static __always_inline __u32 copy_path(__u8 *dst, struct vfsmount *mnt, struct dentry *dentry, __u32 *flags,
				       const int hot)
{
	struct sg_pathbuf *pb = sg_pathbuf();
	struct path path = { .mnt = mnt, .dentry = dentry };
	struct sg_resolved resolved;
	struct sg_walk_call *call;
	__u32 zero = 0;

	if (!pb)
		return 0;
	if (hot && SG_CALLBACKS) {
		call = bpf_map_lookup_elem(&walk_calls, &zero);
		if (!call)
			return 0;
		call->mnt = (__u64)mnt;
		call->dentry = (__u64)dentry;
		call->resolved.flags = SG_FLAG_TRUNCATED; /* should the walk not run */
		call->resolved.len = 0;
		sg_resolve_global(0);
		resolved = call->resolved;
	} else {
		sg_resolve(&path, pb, &resolved);
	}
	*flags |= resolved.flags;
	return sg_copy_path(dst, pb, &resolved);
}

/* The subject's executable into dst and its pid namespace into the header (whose
 * subject is filled): from image_cache when this CPU's last record was the same
 * thread's in the same program image, else worked out (and cached). On 5.10
 * sg_fill_current_subject has read the pid namespace already (sg_fill_subject):
 * a miss reads it twice and a hit writes the same values over it, so there only
 * the executable's path is saved. */
static __always_inline __u32 fill_image(__u8 *dst, struct sg_file_event *ev, struct task_struct *task,
					const int hot)
{
	__u32 zero = 0, exe_flags = 0; /* the executable's own truncation is not the record's */
	struct image_cache *cache = bpf_map_lookup_elem(&image_cache, &zero);
	struct file *exe;
	__u64 exec_id;
	__u32 len;

	if (!cache)
		return 0;
	/* BTF loads where there are (5.11+). A kernel thread's mm is 0, and so is
	 * the executable read through it. */
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)) {
		struct task_struct *current = bpf_get_current_task_btf();

		exe = current->mm->exe_file;
		exec_id = current->self_exec_id;
	} else {
		exe = BPF_CORE_READ(task, mm, exe_file);
		exec_id = BPF_CORE_READ(task, self_exec_id);
	}
	if (cache->tid == ev->hdr.subject.tid && cache->start_time == ev->hdr.subject.start_time &&
	    cache->exec_id == exec_id && cache->exe_file == (__u64)exe) {
		ev->hdr.subject.pidns_inum = cache->pidns_inum;
		ev->hdr.flags |= cache->flags;
		len = cache->len & (SG_PATH_LEN - 1);
		bpf_probe_read_kernel(dst, len, cache->path);
		return len;
	}
	sg_fill_pidns(&ev->hdr, task);
	len = copy_path(dst, BPF_CORE_READ(exe, f_path.mnt), BPF_CORE_READ(exe, f_path.dentry), &exe_flags, hot) &
	      (SG_PATH_LEN - 1);
	bpf_probe_read_kernel(cache->path, len, dst);
	cache->tid = ev->hdr.subject.tid;
	cache->start_time = ev->hdr.subject.start_time;
	cache->exec_id = exec_id;
	cache->exe_file = (__u64)exe;
	cache->pidns_inum = ev->hdr.subject.pidns_inum;
	cache->flags = ev->hdr.flags & SG_FLAG_CONTAINER;
	cache->len = len;
	return len;
}

/* Send a file record whose path is in place: the new name of a rename or link
 * (dentry2, else none) and the subject's executable go after it. */
static __always_inline void emit_names(struct sg_file_event *ev, struct task_struct *task, struct vfsmount *mnt2,
				       struct dentry *dentry2, const int hot)
{
	ev->target_len = 0;
	if (dentry2)
		ev->target_len = copy_path(sg_names_target(ev), mnt2, dentry2, &ev->hdr.flags, hot);
	ev->exe_len = fill_image(sg_names_exe(ev), ev, task, hot);
	sg_emit(ev, sg_file_event_size(ev));
}

/* The agent itself, whose own operations are not judged. Its pid alone would not
 * do: with [agent] persist these programs outlive the agent, and a process that later
 * gets its pid must not inherit the exemption. The start time tells them apart, in
 * clock ticks (USER_HZ, 100) as /proc/self/stat gives it to the agent. A subprogram:
 * inlined into check() it took the combined stack of the path hooks to 544 bytes on
 * 5.10 and 6.1 (limit 512); as a call from check() its frame adds to check()'s
 * only, beside judge()'s deeper chain. */
static __noinline int sg_is_agent(void)
{
	struct task_struct *task;

	if ((bpf_get_current_pid_tgid() >> 32) != sg_agent_tgid)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(task, group_leader, start_boottime) / 10000000ULL == sg_agent_start;
}

/* The same test where the current task is a BTF pointer (5.11 and later): inline,
 * with loads that take no stack, and no subprogram call (bench-file's open on 6.12:
 * 7 instructions more than no test at all, against about 40 for the call of
 * sg_is_agent). The pid compared inline, the start time only for the agent's pid:
 * 6.1 loads path_rename with the audit-only config too (bench-audit). */
static __always_inline int sg_agent_now(void)
{
	struct task_struct *task;

	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
		return sg_is_agent();
	task = bpf_get_current_task_btf();
	if (task->tgid != sg_agent_tgid)
		return 0;
	return task->group_leader->start_boottime / 10000000ULL == sg_agent_start;
}

/*
 * The one entry point of every hook: judge `ops` on the path (mnt, dentry) and,
 * for rename and link, on the new name (mnt2, dentry2); emit one record for a
 * denial or an audited operation; return non-zero to refuse. The hooks call it as
 * a subprogram (check(), below); sg_file_open, which every open on the host runs,
 * inlines it: no call, no frame, and none of the second path's work (bench-file's
 * open on 6.12: 606 -> 537 extra instructions, on a file one mount below the root
 * 740 -> 680; 6.1: 654 -> 612 and 1,557 -> 1,486; the verifier's total +3%).
 */
static __always_inline int check_inline(struct vfsmount *mnt, struct dentry *dentry, __u32 ops,
					struct vfsmount *mnt2, struct dentry *dentry2, const int hot)
{
	struct task_struct *task;
	struct judgement first = {}, second = {};
	struct judgement *decided = &first;
	struct sg_file_event *ev;
	__u64 subject;
	__u32 zero = 0, exchange = ops & SG_EXCHANGE, ops2 = ops;

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

	/* The agent's own operations: before the walks, so that the verifier follows
	 * them once, not once per way out of sg_is_agent (placed after them, the
	 * call pushed path_rename past 6.1's million instructions). */
	if (sg_agent_now())
		return 0;
	subject = subject_selectors();
	judge(mnt, dentry, ops, subject, &first, hot);
	if (dentry2 && first.verdict != SG_VERDICT_DENY) {
		__u32 moves = ops & SG_MOVES;

		judge(mnt2, dentry2, ops2, subject, &second, hot);
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
	if (!decided->verdict)
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
		sg_fill_current_subject(&ev->hdr);
		ev->path_len = copy_path(ev->names, mnt, dentry, &ev->hdr.flags, hot);
		emit_names(ev, task, mnt2, dentry2, hot);
	}
	return decided->verdict == SG_VERDICT_DENY && sg_block;
}

static __noinline int check(struct vfsmount *mnt, struct dentry *dentry, __u32 ops, struct vfsmount *mnt2,
			    struct dentry *dentry2)
{
	return check_inline(mnt, dentry, ops, mnt2, dentry2, 0);
}
