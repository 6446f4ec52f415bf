/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Helpers shared by every module's BPF object: load-time switches, the event
 * ring buffer and loss counters, the subject of an event, and path resolution.
 * Each .bpf.c includes this once, so each module owns its own copies of these
 * maps and switches.
 */
#ifndef SAFEGUARD_COMMON_BPF_H
#define SAFEGUARD_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "safeguard.h"

#define EPERM 1
#define MAX_ERRNO 4095

/* Set by the agent before load (rodata): the verifier sees them as constants
 * and prunes what the configuration switches off. */
const volatile __u32 sg_target = SG_TARGET_ALL;
const volatile __u32 sg_agent_pidns = 0; /* pid namespace inode of the agent */
const volatile __u32 sg_block = 0;       /* 1: deny, 0: monitor (log only) */

/* Wake the consumer only once this much is queued: a wake-up per event costs
 * more than the event itself at high rates. The agent polls every 200 ms, so
 * a quiet buffer is still drained promptly. */
#define SG_WAKEUP_BYTES (64 * 1024)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* set by the agent before load */
} sg_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sg_counters SEC(".maps");

static __always_inline void sg_count(__u32 counter)
{
	__u64 *value = bpf_map_lookup_elem(&sg_counters, &counter);

	if (value)
		*value += 1; /* per-CPU: no atomics needed */
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_OP_SLOTS);
	__type(key, __u32);
	__type(value, struct sg_op_count);
} sg_op_counts SEC(".maps");

/* Decisions per rule (`safeguard status`, the metrics): a record's rule in
 * sg_emit, an allow rule where its module lets an operation through (sg_count_allow).
 * Per-CPU, exact (counted before the ring buffer can refuse the record); the agent sizes
 * it to its rules before load (SG_RULE_SPECIAL_SLOTS in bpf/safeguard.h), and an
 * id past the end finds no slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_RULE_SPECIAL_SLOTS + 1);
	__type(key, __u32);
	__type(value, __u64);
} sg_rule_hits SEC(".maps");

/* One operation an allow rule let through: allow rules are config rules
 * (no special id), so the slot needs no test. */
static __always_inline void sg_count_allow(__u32 rule)
{
	__u32 slot = rule + (SG_RULE_SPECIAL_SLOTS - 1);
	__u64 *hits = bpf_map_lookup_elem(&sg_rule_hits, &slot);

	if (hits)
		*hits += 1;
}

/* Queue a finished record (it starts with struct sg_header). Called only after
 * the decision: a full ring buffer loses the record (counted per op) and never
 * changes a verdict. A record's rule is counted here; an allow rule, which
 * writes no record, where it lets the operation through. */
static __always_inline void sg_emit(void *event, __u64 size)
{
	struct sg_header *hdr = event;
	__u32 op = hdr->op & (SG_OP_SLOTS - 1);
	struct sg_op_count *count = bpf_map_lookup_elem(&sg_op_counts, &op);
	__u32 rule = hdr->rule_id;

	if (rule != SG_RULE_NONE && hdr->action != SG_ACTION_NONE) {
		__u32 slot = rule >= SG_RULE_NEW_MOUNT ? ~rule : rule + (SG_RULE_SPECIAL_SLOTS - 1);
		__u64 *hits = bpf_map_lookup_elem(&sg_rule_hits, &slot);

		if (hits)
			*hits += 1;
	}
	__u64 flags = bpf_ringbuf_query(&sg_events, BPF_RB_AVAIL_DATA) >= SG_WAKEUP_BYTES ?
			      BPF_RB_FORCE_WAKEUP :
			      BPF_RB_NO_WAKEUP;
	long err = bpf_ringbuf_output(&sg_events, event, size, flags);

	/* Per-CPU, so plain increments. Not __sync_fetch_and_add: with it, 6.1
	 * ran check() in file.bpf.c to a BLOCKED record and yet returned 0 (the
	 * open succeeded); see the README's development notes. */
	if (count) {
		count->emitted += 1;
		if (err)
			count->lost += 1;
	}
}

/* A previous BPF LSM program already refused the operation: keep its error.
 * 6.12's verifier rejects a return value it cannot bound to [-4095, 0]. */
static __always_inline int sg_keep_denial(int ret)
{
	if (ret >= -MAX_ERRNO && ret < 0)
		return ret;
	return -EPERM;
}

/* A hook's return: -EPERM where expr is true, else 0. Constants, not an
 * expression: 6.12's verifier checks the range of what an LSM program returns. */
#define VERDICT(expr)                  \
	do {                           \
		if (expr)              \
			return -EPERM; \
		return 0;              \
	} while (0)

/* The inode number of the pid namespace the task lives in (not the one its
 * children will be created in). */
static __always_inline __u32 sg_pidns_inum(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};
	void *numbers = (void *)pid + bpf_core_field_offset(struct pid, numbers);

	bpf_probe_read_kernel(&upid, sizeof(upid),
			      numbers + (level & 31) * bpf_core_type_size(struct upid));
	return BPF_CORE_READ(upid.ns, ns.inum);
}

/*
 * Is the task in a container? A container is a pid namespace other than the
 * agent's that a privileged process made (a container runtime): some pid
 * namespace between the task's and the agent's belongs to a user namespace
 * created by root (the initial user namespace, or one whose owner is uid 0).
 * A pid namespace that an unprivileged user made for itself (`unshare -Urp`)
 * is no container: its tasks stay the host's, so no unprivileged user can
 * step out of `target = "host"` rules. A task whose pid namespace is not below
 * the agent's at all is in a container.
 */
#define SG_MAX_PIDNS_LEVEL 33 /* MAX_PID_NS_LEVEL (32) + the initial namespace */

static __always_inline int sg_is_container(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	void *numbers = (void *)pid + bpf_core_field_offset(struct pid, numbers);
	struct pid_namespace *ns = 0;
	int privileged = 0;

	bpf_probe_read_kernel(&ns, sizeof(ns),
			      numbers + (level & 31) * bpf_core_type_size(struct upid) +
				      bpf_core_field_offset(struct upid, ns));
	for (int i = 0; i < SG_MAX_PIDNS_LEVEL; i++) {
		if (!ns)
			return 1;
		if (BPF_CORE_READ(ns, ns.inum) == sg_agent_pidns)
			return privileged;
		if (BPF_CORE_READ(ns, user_ns, owner.val) == 0)
			privileged = 1;
		ns = BPF_CORE_READ(ns, parent);
	}
	return 1;
}

/* Is this task within the configured `target` (host, container or all)? */
static __always_inline int sg_in_target(struct task_struct *task)
{
	if (sg_target == SG_TARGET_ALL)
		return 1;
	return sg_is_container(task) == (sg_target == SG_TARGET_CONTAINER);
}

/*
 * The task's own uid and gid: its objective credentials (real_cred). Where kernel
 * code acts for it on other credentials, current's cred (what
 * bpf_get_current_uid_gid reads) is not the process's: overlayfs does its upper
 * layer changes and, from 6.8, opens the real file on the mounter's
 * (override_creds), so a user's operations through an overlay that root mounted
 * would be judged and recorded as root's. Elsewhere both are the same.
 */
static __always_inline __u64 sg_task_uid_gid(struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, real_cred);

	return (__u64)BPF_CORE_READ(cred, gid.val) << 32 | BPF_CORE_READ(cred, uid.val);
}

static __always_inline void sg_fill_subject(struct sg_header *hdr, struct task_struct *task)
{
	struct sg_subject *subject = &hdr->subject;
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	__u64 uid_gid = sg_task_uid_gid(task);

	hdr->time_ns = bpf_ktime_get_boot_ns();
	subject->cgroup_id = bpf_get_current_cgroup_id();
	subject->start_time = BPF_CORE_READ(task, start_time);
	subject->pid = BPF_CORE_READ(task, tgid);
	subject->tid = BPF_CORE_READ(task, pid);
	subject->ppid = BPF_CORE_READ(parent, tgid);
	subject->uid = (__u32)uid_gid;
	subject->gid = uid_gid >> 32;
	subject->pidns_inum = sg_pidns_inum(task);
	if (sg_is_container(task))
		hdr->flags |= SG_FLAG_CONTAINER;
	bpf_get_current_comm(subject->comm, sizeof(subject->comm));
	BPF_CORE_READ_STR_INTO(&subject->parent_comm, parent, comm);
	BPF_CORE_READ_STR_INTO(&subject->hostname, task, nsproxy, uts_ns, name.nodename);
}

/* sg_fill_subject for the current task, but for its pid namespace (pidns_inum and
 * SG_FLAG_CONTAINER: sg_fill_pidns), which is the same for a thread's whole life:
 * the caller fills it, from a cache of its own where it has one. BTF loads
 * where the kernel has bpf_get_current_task_btf (5.11+): a load costs a few
 * instructions, a BPF_CORE_READ a helper call, about a hundred. 5.10 reads
 * everything as sg_fill_subject does. */
static __always_inline void sg_fill_current_subject(struct sg_header *hdr)
{
	struct sg_subject *subject = &hdr->subject;
	struct task_struct *task, *parent;
	const struct cred *cred;

	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)) {
		sg_fill_subject(hdr, (struct task_struct *)bpf_get_current_task());
		return;
	}
	task = bpf_get_current_task_btf();
	parent = task->real_parent;
	cred = task->real_cred;
	hdr->time_ns = bpf_ktime_get_boot_ns();
	subject->cgroup_id = bpf_get_current_cgroup_id();
	subject->start_time = task->start_time;
	subject->pid = task->tgid;
	subject->tid = task->pid;
	subject->ppid = parent->tgid;
	subject->uid = cred->uid.val;
	subject->gid = cred->gid.val;
	bpf_get_current_comm(subject->comm, sizeof(subject->comm));
	bpf_probe_read_kernel_str(subject->parent_comm, sizeof(subject->parent_comm), parent->comm);
	bpf_probe_read_kernel_str(subject->hostname, sizeof(subject->hostname), task->nsproxy->uts_ns->name.nodename);
}

/* The rest of sg_fill_subject: the task's pid namespace and whether that is a
 * container. */
static __always_inline void sg_fill_pidns(struct sg_header *hdr, struct task_struct *task)
{
	hdr->subject.pidns_inum = sg_pidns_inum(task);
	if (sg_is_container(task))
		hdr->flags |= SG_FLAG_CONTAINER;
}

/*
 * Path resolution. A path is built right to left, from the dentry up to the
 * root of the task's mount namespace, crossing mount points; a chroot does not
 * stop it (the path is the one the host administrator sees). The result ends
 * at buf[SG_PATH_LEN]; the second half of the buffer only absorbs the bounded
 * writes the verifier insists on.
 *
 * The walk keeps its state (offset, the inode rule found) in the per-CPU
 * buffer rather than in registers: values loaded from a map are unknown to the
 * verifier, so every branch of an iteration ends in the same state and the
 * verifier's work grows with the depth, not exponentially with it.
 */
#define SG_MAX_DEPTH 64
#define SG_NAME_MASK 255

/*
 * A walk of up to SG_MAX_DEPTH levels: step(state) does one level and returns
 * 1 where the walk ends. As a bounded loop the verifier follows every level,
 * about 64 times the step's work per walk per program. The object built with
 * SG_BPF_LOOP (build.rs; the agent opens it where the kernel has bpf_loop,
 * 5.17+) makes a walk that is not `bounded` a bpf_loop callback, which the
 * verifier checks once (before 6.7) or until its states repeat (6.7+). The
 * hot walks (sg_file_open's) stay bounded loops: a callback costs a call and
 * the state's loads and stores at every level.
 *
 * Before 6.7 a callback is verified with the state of the first call only, so
 * everything a step branches on must be unknown to the verifier there: map
 * memory or a pointer, never a constant on the stack (a branch the first
 * level cannot take would be removed as dead code). bpf_loop's state must be
 * on the stack: it holds pointers, to map memory where values change.
 */
#define SG_LEVELS_BOUNDED(step, state)                                  \
	do {                                                            \
		for (int level_ = 0; level_ < SG_MAX_DEPTH; level_++)   \
			if (step(state))                                \
				break;                                  \
	} while (0)
#ifdef SG_BPF_LOOP
#define SG_LEVELS(bounded, step, state)                                    \
	do {                                                               \
		if (bounded)                                               \
			SG_LEVELS_BOUNDED(step, state);                    \
		else                                                       \
			bpf_loop(SG_MAX_DEPTH, step##_callback, state, 0); \
	} while (0)
#define SG_LEVEL_CALLBACK(step, type)                            \
	static long step##_callback(__u64 level, void *state)    \
	{                                                        \
		return step((type *)state);                      \
	}
#define SG_CALLBACKS 1
#else
#define SG_LEVELS(bounded, step, state) SG_LEVELS_BOUNDED(step, state)
#define SG_LEVEL_CALLBACK(step, type)
#define SG_CALLBACKS 0
#endif

struct sg_resolved {
	__u32 len;   /* bytes of the path, ending at buf[SG_PATH_LEN] */
	__u32 flags; /* SG_FLAG_TRUNCATED */
	__u32 top;   /* SG_TOP_*: where the walk ended (when not truncated) */
};

struct sg_pathbuf {
	char buf[SG_PATH_LEN * 2];
	__u32 off;      /* start of the path in buf */
	__u32 found;    /* an inode rule was met */
	struct sg_match by_inode; /* the deepest one */
	/* sg_resolve's call of sg_resolve_shared: the path's mount and dentry in,
	 * the outcome out (a global function takes only numbers); then the walk's
	 * struct mount and dentry */
	__u64 at_mnt;
	__u64 at_dentry;
	struct sg_resolved resolved;
	/* the mount crossing as a callback (sg_cross_level, SG_BPF_LOOP): the
	 * level's mount (a struct mount), the parent of the directory looked up
	 * last, and whether that was the root of its filesystem */
	__u64 cross_mnt;
	__u64 cross_parent;
	__u64 cross_at_top;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_pathbuf);
} sg_pathbufs SEC(".maps");

static __always_inline struct sg_pathbuf *sg_pathbuf(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sg_pathbufs, &zero);
}

/* Rules that name an existing directory or file by identity (device, inode):
 * they hold through hard links, bind mounts, chroots and other namespaces. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized by the agent before load */
	__type(key, struct sg_inode_key);
	__type(value, struct sg_match);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} sg_inode_rules SEC(".maps");

/* Rules by path: the longest matching prefix on component boundaries (rules
 * and looked-up paths both end in '/'). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1); /* sized by the agent before load */
	__type(key, struct sg_path_key);
	__type(value, struct sg_match);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} sg_path_rules SEC(".maps");

/* Of two matching rules the one with the longer path wins; at equal length,
 * deny beats allow. */
static __always_inline struct sg_match *sg_better(struct sg_match *best,
						       struct sg_match *candidate)
{
	if (!candidate)
		return best;
	if (!best || candidate->path_len > best->path_len ||
	    (candidate->path_len == best->path_len && candidate->verdict == SG_VERDICT_DENY))
		return candidate;
	return best;
}

static __always_inline void sg_match_inode(struct dentry *dentry, struct sg_pathbuf *pb)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	struct sg_inode_key key = {};
	struct sg_match *rule;

	key.ino = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	rule = bpf_map_lookup_elem(&sg_inode_rules, &key);
	if (rule) {
		pb->by_inode = *rule;
		pb->found = 1;
	}
}

/*
 * Mounts present when the agent loaded its rules (sg_mounts, filled from
 * /proc/self/mountinfo): an allow rule does not reach a file through a mount
 * made later — a tmpfs or bind mount placed on an allowed directory, or over
 * the namespace's root, would otherwise lend its files the rule. Checked only
 * where allow rules exist (sg_mount_check, set before load).
 */
const volatile __u32 sg_mount_check = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized by the agent before load */
	__type(key, struct sg_mount_key);
	__type(value, __u32); /* unused */
	__uint(map_flags, BPF_F_NO_PREALLOC);
} sg_mounts SEC(".maps");

/*
 * Above a file's mount a walk needs struct mount, which no hook argument has.
 * bpf_rdonly_cast (6.2 and later) makes it readable like a BTF pointer; older
 * kernels read it with probe reads, about a hundred instructions each. The
 * kfunc is weak: where it is missing the verifier sees a constant and keeps
 * only the probe-read branch.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

#define SG_READ(ptr, type, field)                                          \
	(bpf_ksym_exists(bpf_rdonly_cast) ? bpf_core_cast(ptr, type)->field : \
					    BPF_CORE_READ((type *)(ptr), field))

/* Is the mount `root` on `mountpoint` one of those present at load? A null
 * mountpoint: on the root directory of the mount namespace. */
static __always_inline int sg_mount_known(struct dentry *root, struct dentry *mountpoint)
{
	struct sg_mount_key key = {};
	struct inode *inode = SG_READ(root, struct dentry, d_inode);
	struct super_block *sb = SG_READ(inode, struct inode, i_sb);

	key.root_ino = SG_READ(inode, struct inode, i_ino);
	key.root_dev = SG_READ(sb, struct super_block, s_dev);
	if (mountpoint) {
		inode = SG_READ(mountpoint, struct dentry, d_inode);
		sb = SG_READ(inode, struct inode, i_sb);
		key.mp_ino = SG_READ(inode, struct inode, i_ino);
		key.mp_dev = SG_READ(sb, struct super_block, s_dev);
	}
	return bpf_map_lookup_elem(&sg_mounts, &key) != 0;
}

/* dentry->d_flags: a dentry made for an inode without its path (d_obtain_alias),
 * until it is connected to its parent; the same bit on 5.10, 6.1 and 6.12. */
#define SG_DCACHE_DISCONNECTED 0x20

/* What the top of a walk (a mount that is its own parent) is. */
#define SG_TOP_ROOT 0     /* the root of a mount namespace: paths are real */
#define SG_TOP_DETACHED 1 /* a detached tree (umount -l, open_tree clone, fsmount)
			   * or a dentry no longer under its mount's root */
#define SG_TOP_INTERNAL 2 /* a kernel-internal mount (memfd, pipes): no rule path is there */

static __always_inline __u32 sg_top_kind(struct mount *top)
{
	struct mnt_namespace *ns = SG_READ(top, struct mount, mnt_ns);

	if ((unsigned long)ns >= (unsigned long)-MAX_ERRNO)
		return SG_TOP_INTERNAL; /* MNT_NS_INTERNAL */
	/* Detached mounts have no namespace; open_tree and fsmount give theirs
	 * an anonymous one, which has no inode number. */
	if (!ns || !SG_READ(ns, struct mnt_namespace, ns.inum))
		return SG_TOP_DETACHED;
	return SG_TOP_ROOT;
}

/* Were all mounts from this one up to the top present at load? A path that
 * crosses another is real, but no allow rule's path: that mount put new files
 * under the name. A loop of its own, ending at the first unknown mount, apart
 * from sg_resolve: checks inside a walk split the verifier's states. */
static __always_inline int sg_mounts_known_to_top(struct vfsmount *vfsmnt)
{
	struct mount *mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);

	for (int i = 0; i < SG_MAX_DEPTH; i++) {
		struct mount *parent = SG_READ(mnt, struct mount, mnt_parent);
		struct dentry *mountpoint;

		if (parent == mnt)
			return 1;
		mountpoint = SG_READ(mnt, struct mount, mnt_mountpoint);
		/* On the root directory of the top mount: the key has no mount
		 * point identity. */
		if (SG_READ(parent, struct mount, mnt_parent) == parent &&
		    SG_READ(parent, struct mount, mnt.mnt_root) == mountpoint)
			mountpoint = 0;
		if (!sg_mount_known(SG_READ(mnt, struct mount, mnt.mnt_root), mountpoint))
			return 0;
		mnt = parent;
	}
	return 0;
}

/* sg_resolve_walk's state: the per-CPU buffer (the level's mount and dentry,
 * the path so far) and where the outcome goes. A level returns 1 where the walk
 * ends (the top, or truncated). */
struct sg_resolve_state {
	struct sg_pathbuf *pb;
	struct sg_resolved *out;
};

static __always_inline long sg_resolve_level(struct sg_resolve_state *state)
{
	struct sg_pathbuf *pb = state->pb;
	struct sg_resolved *out = state->out;
	struct mount *mnt = (void *)pb->at_mnt;
	struct dentry *dentry = (void *)pb->at_dentry;
	struct dentry *mnt_root = SG_READ(mnt, struct mount, mnt.mnt_root);
	struct dentry *parent = SG_READ(dentry, struct dentry, d_parent);
	struct qstr name;
	__u32 len, off;

#ifndef SG_IDENTITY_WALK
	if (!pb->found)
		sg_match_inode(dentry, pb);
#endif

	if (dentry == mnt_root) {
		struct mount *mnt_parent = SG_READ(mnt, struct mount, mnt_parent);

		if (mnt == mnt_parent) {
			out->flags = 0; /* the top: a namespace's root, or detached */
			out->top = sg_top_kind(mnt);
			return 1;
		}
		pb->at_dentry = (__u64)SG_READ(mnt, struct mount, mnt_mountpoint);
		pb->at_mnt = (__u64)mnt_parent;
		return 0;
	}
	if (dentry == parent) {
		/* The root of a filesystem that is not the mount's root: a dentry
		 * moved out from under a bind mount, or disconnected; or a pseudo
		 * file of a kernel-internal mount (a memfd's dentry is its own
		 * parent). */
		out->flags = 0;
		out->top = sg_top_kind(mnt) == SG_TOP_INTERNAL ? SG_TOP_INTERNAL : SG_TOP_DETACHED;
		return 1;
	}

	if (bpf_ksym_exists(bpf_rdonly_cast)) {
		name.len = SG_READ(dentry, struct dentry, d_name.len);
		name.name = SG_READ(dentry, struct dentry, d_name.name);
	} else {
		name = BPF_CORE_READ(dentry, d_name); /* one probe read, not two */
	}
	len = name.len & SG_NAME_MASK;
	off = pb->off;
	if (off > SG_PATH_LEN || len + 1 > off)
		return 1; /* longer than PATH_MAX: truncated */
	off -= len;
	bpf_probe_read_kernel(&pb->buf[off & (SG_PATH_LEN - 1)], len, name.name);
	off -= 1;
	pb->buf[off & (SG_PATH_LEN - 1)] = '/';
	pb->off = off;
	pb->at_dentry = (__u64)parent;
	return 0;
}

SG_LEVEL_CALLBACK(sg_resolve_level, struct sg_resolve_state)

/* Resolve the path at vfsmnt and dentry into pb and, on the way up, note the
 * deepest inode rule (the first one met): pb->found, pb->by_inode (not where
 * SG_IDENTITY_WALK is defined: those modules find identities with
 * sg_find_by_identity). Inlined only into global functions (sg_resolve_shared,
 * the file module's sg_resolve_global): elsewhere call sg_resolve. */
static __always_inline void sg_resolve_walk(struct vfsmount *vfsmnt, struct dentry *dentry,
					    struct sg_pathbuf *pb, struct sg_resolved *out, const int bounded)
{
	struct sg_resolve_state state = { .pb = pb, .out = out };
	__u32 off;

	/* SG_READ: BTF loads on 6.2+, probe reads before (see there). The mount
	 * and dentry of each level go round the loop through pb, as numbers: kept
	 * in registers, the typed pointers of the BTF loads split the verifier's
	 * states at every level (6.12's total for a full config 3.4 M -> 6.5 M). */
	pb->at_mnt = (__u64)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	pb->at_dentry = (__u64)dentry;
	out->flags = SG_FLAG_TRUNCATED; /* cleared when the root is reached */
	out->top = SG_TOP_ROOT;
	pb->off = SG_PATH_LEN;
	pb->found = 0;

	SG_LEVELS(bounded, sg_resolve_level, &state);
	off = pb->off;
	if (off >= SG_PATH_LEN) {
		off = SG_PATH_LEN - 1;
		pb->buf[off] = '/';
	}
	out->len = SG_PATH_LEN - off;
	if (out->flags & SG_FLAG_TRUNCATED)
		sg_count(SG_COUNTER_TRUNCATED);
}

/* The walk as a global function: the verifier checks a global function once
 * per program, a static one again at every call with the caller's state (the
 * walk was most of each file program's verification, and three walks took
 * sg_sb_mount to 99% of the one-million-instruction limit on 6.12). It takes
 * only numbers (5.10), so its input and output are in the per-CPU buffer. */
__noinline int sg_resolve_shared(__u32 slot)
{
	/* The slot is used, so that clang passes it: an argument the function
	 * ignored was left unset at the call, and the verifier refused a
	 * kprobe's call with the context still in R1 ("R1 is not a scalar"). */
	struct sg_pathbuf *pb = bpf_map_lookup_elem(&sg_pathbufs, &slot);

	if (pb)
		sg_resolve_walk((void *)pb->at_mnt, (void *)pb->at_dentry, pb, &pb->resolved, 0);
	return 0;
}

/* Resolve `path` into pb, which must be sg_pathbuf()'s (see sg_resolve_walk). */
static __always_inline void sg_resolve(const struct path *path, struct sg_pathbuf *pb,
				       struct sg_resolved *out)
{
	pb->at_mnt = (__u64)BPF_CORE_READ(path, mnt);
	pb->at_dentry = (__u64)BPF_CORE_READ(path, dentry);
	pb->resolved.flags = SG_FLAG_TRUNCATED; /* should the walk not run: refused, not passed */
	pb->resolved.len = 0;
	sg_resolve_shared(0);
	*out = pb->resolved;
}

#ifdef SG_IDENTITY_WALK
/*
 * The identity walk of the file and process modules: from a file up to the
 * first file or directory that is a rule's identity (device, inode), the
 * deepest one. In each mount it goes up to the root of the FILESYSTEM, not of
 * the mount: a bind mount or an open_tree clone of /srv/secret/sub is still
 * below /srv/secret. Then it crosses into the mount above, and so on up to the
 * top mount (a chroot does not stop it).
 *
 * A slot per hash of the inode number of every identity in sg_inode_rules:
 * most directories on a walk are no rule's, and an array read is far cheaper
 * than a hash-map lookup. The device is left out of the hash so that a walk
 * reads it only where a slot is set. The agent sets the slots with the same
 * hash (src/file/rules.rs); the file module sets more when a rule path's name
 * gets a new inode. A slot is a byte, not a bit, so that two CPUs setting
 * slots never lose one another's.
 */
#define SG_FILTER_SLOTS 65536

struct sg_inode_filter {
	__u8 slots[SG_FILTER_SLOTS];
	__u64 host_root;        /* sg_known_root (6.2+): the kernel's, 0 from the agent */
	__u64 host_root_dentry; /* its root directory */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_inode_filter);
} inode_filter SEC(".maps");

static __always_inline __u32 filter_hash(__u64 ino)
{
	return (ino * 0x9E3779B97F4A7C15ULL) >> 48;
}

static __always_inline __u8 *filter_slot(struct sg_inode_filter *filter, __u64 ino)
{
	return &filter->slots[filter_hash(ino) & (SG_FILTER_SLOTS - 1)];
}

/* Where a walk ended: the deepest rule found by identity, if any. */
struct sg_walk {
	__u32 found;
	__u32 truncated;   /* gave up before reaching the top */
	__u32 crossed_new; /* sg_mount_check: found above a mount not present at load */
	__u32 top;         /* SG_TOP_*, where nothing was found */
	struct sg_match match; /* file: match.id is the node */
	struct mount *node_mnt; /* the mount it was found in, above the file's */
};

/* Is (ino, dev) a rule's identity? Then the walk ends there. */
static __always_inline int sg_lookup_identity(__u64 ino, __u32 dev, struct sg_inode_filter *filter,
					      struct sg_walk *w)
{
	struct sg_inode_key key = {};
	struct sg_match *rule;

	if (!*filter_slot(filter, ino))
		return 0;
	key.ino = ino;
	key.dev = dev;
	rule = bpf_map_lookup_elem(&sg_inode_rules, &key);
	if (!rule)
		return 0;
	w->match = *rule;
	w->found = 1;
	w->truncated = 0;
	return 1;
}

/*
 * A root mount the walk knows without reading struct mount: a walk that reaches
 * it has reached the top of a real namespace (sg_cross_mounts). Only the file
 * module asks for it (#define SG_WALK_NS_ROOT before including this file): in
 * the process module's rename guard its branches took the verifier past the
 * 1,000,000-instruction limit on 6.1 (sg_exec_rename: 1,000,001, when it still
 * judged both directions of an exchange; not tried since). Which one
 * depends on what reading struct mount costs:
 *  - 6.2 and later (bpf_rdonly_cast: struct mount is read with BTF loads): the
 *    root mount of the initial mount namespace, the host's (init_nsproxy's),
 *    kept in the filter's map value and told by one load (bench-file's open on
 *    6.12: 11 instructions fewer, 28 on a file one mount below the root, than
 *    the current task's namespace root through bpf_get_current_task_btf and
 *    three BTF loads). A process in another mount namespace (a container) reads
 *    its top mount instead (sg_mount_up, sg_top_kind: four BTF loads, about
 *    what the helper call and its three loads cost).
 *  - before (probe reads, about a hundred instructions each): the current
 *    task's namespace root, as every process, in a container or not, has it
 *    without reading struct mount (5.10 has no bpf_get_current_task_btf: 0,
 *    the walk reads the mounts).
 * The host's root mount is read once, with probe reads, from init_nsproxy's
 * address (sg_init_nsproxy: the agent finds it in /proc/kallsyms; 0 where it is
 * hidden, and then nothing matches and every top is told by sg_top_kind). That
 * mount is never freed: the initial namespace lives as long as the kernel, and
 * its root (the rootfs, under everything) cannot be unmounted or pivoted away.
 * A value the agent writes over (the filter's update) is 0 again and read anew.
 */
#ifdef SG_WALK_NS_ROOT
const volatile __u64 sg_init_nsproxy = 0;

static __always_inline __u64 sg_known_root(struct sg_inode_filter *filter)
{
	__u64 *root = &filter->host_root, *dentry = &filter->host_root_dentry;

	if (!bpf_ksym_exists(bpf_rdonly_cast)) {
		if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
			return 0;
		/* No test on the way: a BTF load through a null pointer (an exiting
		 * task's nsproxy) gives 0, and so does the root then. */
		return (__u64)bpf_get_current_task_btf()->nsproxy->mnt_ns->root;
	}
	if (sg_init_nsproxy && !*root) {
		/* Through map memory, no stack: the namespace, its root mount, then
		 * the mount's root directory. Another CPU may see the namespace's
		 * address in `dentry` meanwhile: no dentry, it matches nothing. */
		bpf_probe_read_kernel(dentry, sizeof(*dentry),
				      (void *)sg_init_nsproxy + bpf_core_field_offset(struct nsproxy, mnt_ns));
		bpf_probe_read_kernel(root, sizeof(*root),
				      (void *)*dentry + bpf_core_field_offset(struct mnt_namespace, root));
		bpf_probe_read_kernel(dentry, sizeof(*dentry),
				      (void *)*root + bpf_core_field_offset(struct mount, mnt.mnt_root));
	}
	/* Read back from map memory: both ways above leave the same state. */
	return *(volatile __u64 *)root;
}
#define SG_IS_KNOWN_ROOT(mnt, root) ((__u64)(mnt) == (root)) /* a mount is never 0 */
/* The root directory of that mount: the host's read with it (0 until then), its
 * address computed where it is read (barrier_var): hoisted out of the walk's
 * loop it was one more spilled value, and sg_walk_global's frame took the xattr
 * hooks' combined stack to 544 bytes on 6.1. The task's namespace root's by one
 * BTF load. */
static __always_inline __u64 sg_known_root_dentry(struct sg_inode_filter *filter, __u64 root)
{
	if (!bpf_ksym_exists(bpf_rdonly_cast)) {
		/* 5.10's root is 0 (no bpf_get_current_task_btf): no load through
		 * it, which the verifier refuses (a test of root itself cost 6.1's
		 * open 3 instructions, this one is resolved at load). */
		if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
			return 0;
		return (__u64)((struct mount *)root)->mnt.mnt_root;
	}
	barrier_var(filter);
	return *(volatile __u64 *)&filter->host_root_dentry;
}
#define SG_KNOWN_ROOT_DENTRY(filter, root) sg_known_root_dentry(filter, root)
#else
static __always_inline __u64 sg_known_root(struct sg_inode_filter *filter)
{
	return 0;
}
#define SG_IS_KNOWN_ROOT(mnt, root) ((void)(root), 0)
#define SG_KNOWN_ROOT_DENTRY(filter, root) 0
#endif

/* A mount's parent and mount point: adjacent fields, read with one probe read
 * where there is no bpf_rdonly_cast (two BTF loads where there is). */
struct sg_mount_up {
	struct mount *parent;
	struct dentry *mountpoint;
};

static __always_inline void sg_mount_up(struct mount *mnt, struct sg_mount_up *up)
{
	if (!bpf_ksym_exists(bpf_rdonly_cast) &&
	    bpf_core_field_offset(struct mount, mnt_mountpoint) ==
		    bpf_core_field_offset(struct mount, mnt_parent) + sizeof(void *)) {
		bpf_probe_read_kernel(up, sizeof(*up),
				      (void *)mnt + bpf_core_field_offset(struct mount, mnt_parent));
		return;
	}
	up->parent = SG_READ(mnt, struct mount, mnt_parent);
	up->mountpoint = SG_READ(mnt, struct mount, mnt_mountpoint);
}

/* From the file's mount up through the mount points to the top mount, looking
 * up the identity of every directory on the way. The namespace's root
 * directory itself is not looked up: it is always covered by the root
 * filesystem (rootfs underneath), so no rule path names it. Enters with `w`
 * truncated; clears it on reaching the top. A root mount it knows is
 * told without reading struct mount (sg_known_root); any other top by
 * sg_top_kind. */
static __always_inline void sg_cross_mounts(struct vfsmount *vfsmnt, struct sg_inode_filter *filter,
					    struct sg_walk *w)
{
	struct mount *mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	struct dentry *dentry = 0, *parent = 0;
	int at_top = 1; /* dentry is the root of mnt's filesystem (the file's walk ended there) */
	__u64 root = sg_known_root(filter);

	for (__u64 i = 0; i < SG_MAX_DEPTH; i++) { /* 64 bits: no zero extension per level */
		struct super_block *sb;
		struct inode *inode;
		__u64 ino;

		if (at_top) {
			struct sg_mount_up up;

			if (SG_IS_KNOWN_ROOT(mnt, root))
				goto done_root;
			sg_mount_up(mnt, &up);
			if (mnt == up.parent)
				goto done;
			dentry = up.mountpoint;
			mnt = up.parent;
			/* On the root directory of a top mount: done (not looked up). */
			if (SG_IS_KNOWN_ROOT(mnt, root)) {
				if ((__u64)dentry == SG_KNOWN_ROOT_DENTRY(filter, root))
					goto done_root;
			} else if (dentry == SG_READ(mnt, struct mount, mnt.mnt_root) &&
				   SG_READ(mnt, struct mount, mnt_parent) == mnt) {
				goto done;
			}
		} else {
			dentry = parent;
		}
		inode = SG_READ(dentry, struct dentry, d_inode);
		ino = SG_READ(inode, struct inode, i_ino);
		if (*filter_slot(filter, ino)) { /* the device is read only where it can matter */
			sb = SG_READ(inode, struct inode, i_sb);
			if (sg_lookup_identity(ino, SG_READ(sb, struct super_block, s_dev), filter, w)) {
				w->node_mnt = mnt;
				return;
			}
		}
		parent = SG_READ(dentry, struct dentry, d_parent);
		at_top = dentry == parent;
	}
	return; /* too deep: w->truncated stays set */
done:
	w->truncated = 0;
	w->top = sg_top_kind(mnt);
	return;
done_root:
	w->truncated = 0;
	w->top = SG_TOP_ROOT;
}

/* A rule found above the file's mount is the file's allow rule only if every
 * mount between them was present at load (sg_mount_check). A loop of its own,
 * after the walk, that ends at the first unknown mount: a flag set inside the
 * walk would split the verifier's states at every crossing (path_rename went
 * past 6.1's limit). */
static __always_inline void sg_check_crossings(struct vfsmount *vfsmnt, struct sg_walk *w)
{
	struct mount *mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);

	for (int i = 0; i < SG_MAX_DEPTH; i++) {
		if (mnt == w->node_mnt)
			return;
		if (!sg_mount_known(SG_READ(mnt, struct mount, mnt.mnt_root),
				    SG_READ(mnt, struct mount, mnt_mountpoint)))
			break;
		mnt = SG_READ(mnt, struct mount, mnt_parent);
	}
	w->crossed_new = 1; /* an unknown mount, or too deep to tell */
}

/* Walk up from a dentry (crossing mounts, not stopping at a chroot) to the
 * first file or directory that has a rule by identity: the deepest one.
 * Within the file's own filesystem it reads through BTF pointers, the cheap
 * way, and the device only where the filter hits; above it (rarer:
 * a mount point on the way) through sg_cross_mounts(). This loop is most of
 * what an open costs: keep it short. */
static __always_inline void sg_find_by_identity(struct vfsmount *vfsmnt, struct dentry *dentry,
						struct sg_walk *w)
{
	__u32 zero = 0;
	struct sg_inode_filter *filter = bpf_map_lookup_elem(&inode_filter, &zero);
	__u64 depth; /* 64 bits: no zero extension per level */

	w->found = 0;
	w->truncated = 1;
	w->crossed_new = 0;
	w->top = SG_TOP_ROOT;
	if (!filter)
		return;
	for (depth = 0; depth < SG_MAX_DEPTH; depth++) {
		struct inode *inode = dentry->d_inode;
		struct dentry *parent;

		/* A new name (link, rename, create) has no inode yet. Never let
		 * the load fault: 5.10 crashes searching a BPF program's
		 * exception table when one does. The device only where the
		 * filter hits: two loads fewer per open. */
		if (inode) {
			__u64 ino = inode->i_ino;

			if (*filter_slot(filter, ino) &&
			    sg_lookup_identity(ino, inode->i_sb->s_dev, filter, w))
				return;
		}
		parent = dentry->d_parent;
		if (dentry == parent)
			break; /* the root of the filesystem (above the mount's root for a bind mount) */
		dentry = parent;
	}
	if (depth == SG_MAX_DEPTH)
		return; /* too deep */
	/* A disconnected dentry is its own parent without being its filesystem's
	 * root: open_by_handle_at(2) of a file whose dentry the kernel had evicted
	 * (and nfsd's opens by file handle). What lies above it is unknown, as in a
	 * detached tree: refused where a deny rule could apply. d_flags is the
	 * first field of struct dentry: one load where the walk ends. */
	if (dentry->d_flags & SG_DCACHE_DISCONNECTED) {
		w->truncated = 0;
		w->top = SG_TOP_DETACHED;
		return;
	}
	if (!vfsmnt) {
		w->truncated = 0; /* no mount known (inode_setattr) */
		return;
	}
	w->node_mnt = 0;
	sg_cross_mounts(vfsmnt, filter, w);
	if (sg_mount_check && w->found && w->node_mnt)
		sg_check_crossings(vfsmnt, w);
}

#ifdef SG_BPF_LOOP
/*
 * The identity walks as bpf_loop callbacks (see SG_LEVELS), for every program
 * but sg_file_open, which keeps the bounded loops above. Each sits in a
 * function of its own (a subprogram, or a global function): its state on the
 * stack would otherwise add to the frame of check(), whose chain of frames is
 * near the 512-byte limit. The levels mark "reached the filesystem's root,
 * the mounts above are next" with w->truncated = 2.
 */

/* sg_cross_mounts' state: the level's mount, the parent of the directory
 * looked up last and whether that was its filesystem's root, in the per-CPU
 * buffer (map memory: unknown to the verifier at the first call). */
struct sg_crossing {
	struct sg_pathbuf *pb;
	struct sg_walk *w;
	__u64 root; /* sg_known_root's: a BTF pointer on 6.1, hence not in map memory */
};

static long sg_cross_level(__u64 level, void *state)
{
	struct sg_crossing *c = state;
	struct sg_pathbuf *pb = c->pb;
	struct mount *mnt = (void *)pb->cross_mnt;
	struct sg_inode_filter *filter;
	struct dentry *dentry;
	struct super_block *sb;
	struct inode *inode;
	__u32 zero = 0;
	__u64 ino;

	/* Looked up here, not kept in c: sg_mounts_levels' frame stays at 32
	 * bytes, the xattr hooks' chain of frames at 512 (6.1). */
	filter = bpf_map_lookup_elem(&inode_filter, &zero);
	if (!filter)
		return 1; /* w stays truncated */

	if (pb->cross_at_top) {
		struct mount *parent;

		if (SG_IS_KNOWN_ROOT(mnt, c->root))
			goto done_root;
		/* not sg_mount_up: its buffer would take this frame past the
		 * 512 bytes that check()'s chain has (the xattr hooks, 6.1) */
		parent = SG_READ(mnt, struct mount, mnt_parent);
		if (mnt == parent)
			goto done;
		dentry = SG_READ(mnt, struct mount, mnt_mountpoint);
		mnt = parent;
		pb->cross_mnt = (__u64)mnt;
		if (SG_IS_KNOWN_ROOT(mnt, c->root)) {
			/* Equal to mnt here, but on 6.1 only root is a BTF pointer:
			 * read again, or clang reads through mnt, a number (refused). */
			if ((__u64)dentry == SG_KNOWN_ROOT_DENTRY(filter, *(volatile __u64 *)&c->root))
				goto done_root;
		} else if (dentry == SG_READ(mnt, struct mount, mnt.mnt_root) &&
			   SG_READ(mnt, struct mount, mnt_parent) == mnt) {
			goto done;
		}
	} else {
		dentry = (void *)pb->cross_parent;
	}
	inode = SG_READ(dentry, struct dentry, d_inode);
	ino = SG_READ(inode, struct inode, i_ino);
	if (*filter_slot(filter, ino)) {
		sb = SG_READ(inode, struct inode, i_sb);
		if (sg_lookup_identity(ino, SG_READ(sb, struct super_block, s_dev), filter, c->w)) {
			c->w->node_mnt = mnt;
			return 1;
		}
	}
	pb->cross_parent = (__u64)SG_READ(dentry, struct dentry, d_parent);
	pb->cross_at_top = (__u64)dentry == pb->cross_parent;
	return 0;
done:
	c->w->truncated = 0;
	c->w->top = sg_top_kind(mnt);
	return 1;
done_root:
	c->w->truncated = 0;
	c->w->top = SG_TOP_ROOT;
	return 1;
}

/* sg_find_by_identity's state within the file's filesystem: the level's
 * dentry, a BTF pointer (a pointer is no constant the verifier could prune
 * on, so it may stay on the stack). */
struct sg_identity_walk {
	struct dentry *dentry;
	struct sg_inode_filter *filter;
	struct sg_walk *w;
};

static long sg_identity_level(__u64 level, void *state)
{
	struct sg_identity_walk *walk = state;
	struct dentry *dentry = walk->dentry;
	struct inode *inode = dentry->d_inode;
	struct dentry *parent;

	if (inode) {
		__u64 ino = inode->i_ino;

		if (*filter_slot(walk->filter, ino) &&
		    sg_lookup_identity(ino, inode->i_sb->s_dev, walk->filter, walk->w))
			return 1;
	}
	parent = dentry->d_parent;
	if (dentry == parent) {
		walk->w->truncated = 2;
		return 1;
	}
	walk->dentry = parent;
	return 0;
}

/* sg_find_by_identity within the file's filesystem, level by level; where it
 * ends at the filesystem's root, w->truncated = 2: sg_mounts_levels next. */
static __noinline int sg_identity_levels(struct dentry *dentry, struct sg_walk *w)
{
	struct sg_identity_walk walk = { .dentry = dentry, .w = w };
	__u32 zero = 0;

	w->found = 0;
	w->truncated = 1;
	w->crossed_new = 0;
	w->top = SG_TOP_ROOT;
	walk.filter = bpf_map_lookup_elem(&inode_filter, &zero);
	if (!walk.filter)
		return 0;
	bpf_loop(SG_MAX_DEPTH, sg_identity_level, &walk, 0);
	/* a disconnected dentry: as sg_find_by_identity */
	if (w->truncated == 2 && (walk.dentry->d_flags & SG_DCACHE_DISCONNECTED)) {
		w->truncated = 0;
		w->top = SG_TOP_DETACHED;
	}
	return 0;
}

/* The rest of an identity walk whose levels reached the root of the file's
 * filesystem (w->truncated == 2): the mounts above, level by level. A
 * function of its own, called after the levels below, not from them: each
 * frame adds to the chain of check()'s (the limit is 512 bytes). */
static __noinline int sg_mounts_levels(struct vfsmount *vfsmnt, struct sg_walk *w)
{
	struct sg_crossing c = { .w = w };
	struct sg_inode_filter *filter;
	__u32 zero = 0; /* one key for both lookups: this frame has 32 bytes */

	w->truncated = 1;
	if (!vfsmnt) {
		w->truncated = 0; /* no mount known (inode_setattr) */
		return 0;
	}
	filter = bpf_map_lookup_elem(&inode_filter, &zero);
	c.pb = bpf_map_lookup_elem(&sg_pathbufs, &zero);
	if (!filter || !c.pb)
		return 0; /* w stays truncated */
	w->node_mnt = 0;
	c.pb->cross_mnt = (__u64)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	c.pb->cross_at_top = 1;
	c.root = sg_known_root(filter);
	bpf_loop(SG_MAX_DEPTH, sg_cross_level, &c, 0);
	return 0;
}

/* sg_check_crossings level by level: from the file's mount up to the one the
 * rule was found in (w->node_mnt), each known at load. */
struct sg_crossings_check {
	__u64 mnt;
	struct sg_walk *w;
};

static long sg_crossing_known(__u64 level, void *state)
{
	struct sg_crossings_check *c = state;
	struct mount *mnt = (void *)c->mnt;

	if (mnt == c->w->node_mnt) {
		c->w->crossed_new = 0;
		return 1;
	}
	if (!sg_mount_known(SG_READ(mnt, struct mount, mnt.mnt_root), SG_READ(mnt, struct mount, mnt_mountpoint)))
		return 1;
	c->mnt = (__u64)SG_READ(mnt, struct mount, mnt_parent);
	return 0;
}

static __noinline int sg_check_crossings_levels(struct vfsmount *vfsmnt, struct sg_walk *w)
{
	struct sg_crossings_check c = { .mnt = (__u64)vfsmnt - bpf_core_field_offset(struct mount, mnt), .w = w };

	w->crossed_new = 1; /* an unknown mount, or too deep to tell, unless the levels get there */
	bpf_loop(SG_MAX_DEPTH, sg_crossing_known, &c, 0);
	return 0;
}

/* sg_mounts_levels and then, as sg_find_by_identity does, the check of the
 * crossings: each a call from the caller's frame. */
static __always_inline void sg_mounts_levels_checked(struct vfsmount *vfsmnt, struct sg_walk *w)
{
	sg_mounts_levels(vfsmnt, w);
	if (sg_mount_check && w->found && w->node_mnt)
		sg_check_crossings_levels(vfsmnt, w);
}

/* sg_find_by_identity level by level, for every program but sg_file_open. */
static __always_inline void sg_find_by_identity_levels(struct vfsmount *vfsmnt, struct dentry *dentry,
						       struct sg_walk *w)
{
	sg_identity_levels(dentry, w);
	if (w->truncated == 2)
		sg_mounts_levels_checked(vfsmnt, w);
}
#else
#define sg_find_by_identity_levels sg_find_by_identity
#endif

/*
 * overlayfs before 6.8 opens the real (upper or lower) file of an overlay file
 * with the OVERLAY's path (open_with_fake_path, then backing_file_open until
 * 6.8 made f_path the real one): the hooks see the overlay's mount and dentry
 * with the real inode, and a walk from there never meets a rule on the layer's
 * directories. The programs that judge the real file (sg_ovl_*: loaded only on
 * such kernels) start from the real inode's dentry instead, its first alias (a
 * file's hard links under a rule have identities of their own). No BTF pointer
 * can be derived from i_dentry before 6.2: it is a number, read with probe
 * reads. Returns 0 where the file is no such real file.
 *  - a real file: f_inode is not its path's inode (file_open, file_mprotect:
 *    an overlay's mapping is of its real file);
 *  - an overlay's own regular file (mmap_file): its private_data is the real
 *    file that overlayfs opened and maps.
 */
#define SG_OVERLAYFS_MAGIC 0x794c7630
#define SG_S_IFMT 0170000
#define SG_S_IFREG 0100000
#define SG_S_IFCHR 0020000
#define SG_S_IFDIR 0040000

static __always_inline __u64 sg_overlay_real(struct file *file)
{
	struct inode *inode = file->f_inode;
	struct dentry *dentry = file->f_path.dentry;
	struct hlist_node *first;

	if (!inode || !dentry)
		return 0;
	if (inode == dentry->d_inode) {
		if (inode->i_sb->s_magic != SG_OVERLAYFS_MAGIC || (inode->i_mode & SG_S_IFMT) != SG_S_IFREG)
			return 0;
		inode = BPF_CORE_READ((struct file *)file->private_data, f_inode);
		if (!inode)
			return 0;
	}
	first = BPF_CORE_READ(inode, i_dentry.first);
	if (!first)
		return 0;
	return (__u64)first - bpf_core_field_offset(struct dentry, d_u.d_alias);
}

/* The identity walk from such a dentry (a number) up to its filesystem's root:
 * the layer's mount is overlayfs's private clone, attached nowhere, so there
 * is no mount to cross. */
static __always_inline void sg_walk_real(__u64 start, struct sg_walk *w)
{
	__u32 zero = 0;
	struct sg_inode_filter *filter = bpf_map_lookup_elem(&inode_filter, &zero);
	struct dentry *dentry = (void *)start;
	int depth;

	w->found = 0;
	w->truncated = 1;
	w->crossed_new = 0;
	w->top = SG_TOP_ROOT;
	w->node_mnt = 0;
	if (!filter || !dentry)
		return;
	for (depth = 0; depth < SG_MAX_DEPTH; depth++) {
		struct inode *inode = BPF_CORE_READ(dentry, d_inode);
		struct dentry *parent;
		__u64 ino = BPF_CORE_READ(inode, i_ino);

		if (inode && *filter_slot(filter, ino) &&
		    sg_lookup_identity(ino, BPF_CORE_READ(inode, i_sb, s_dev), filter, w))
			return;
		parent = BPF_CORE_READ(dentry, d_parent);
		if (!parent || dentry == parent)
			break;
		dentry = parent;
	}
	/* Ended at a disconnected alias (its own parent, not its filesystem's
	 * root: made by open_by_handle_at(2) or an overlay's decoding of a file
	 * handle): what lies above it is unknown, so it stays unresolved, refused
	 * where a deny rule could apply, as sg_find_by_identity does. */
	if (depth < SG_MAX_DEPTH && !(BPF_CORE_READ(dentry, d_flags) & SG_DCACHE_DISCONNECTED))
		w->truncated = 0;
}

#ifdef SG_BPF_LOOP
/* sg_walk_real, level by level (see sg_find_by_identity_levels): the level's
 * dentry is a number, unknown to the verifier. */
struct sg_real_walk {
	__u64 dentry;
	struct sg_inode_filter *filter;
	struct sg_walk *w;
};

static long sg_real_level(__u64 level, void *state)
{
	struct sg_real_walk *walk = state;
	struct dentry *dentry = (void *)walk->dentry;
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	struct dentry *parent;
	__u64 ino = BPF_CORE_READ(inode, i_ino);

	if (inode && *filter_slot(walk->filter, ino) &&
	    sg_lookup_identity(ino, BPF_CORE_READ(inode, i_sb, s_dev), walk->filter, walk->w))
		return 1;
	parent = BPF_CORE_READ(dentry, d_parent);
	if (!parent || dentry == parent) {
		walk->w->truncated = 2;
		return 1;
	}
	walk->dentry = (__u64)parent;
	return 0;
}

static __always_inline void sg_walk_real_levels(__u64 start, struct sg_walk *w)
{
	struct sg_real_walk walk = { .dentry = start, .w = w };
	struct dentry *end;
	__u32 zero = 0;

	w->found = 0;
	w->truncated = 1;
	w->crossed_new = 0;
	w->top = SG_TOP_ROOT;
	w->node_mnt = 0;
	walk.filter = bpf_map_lookup_elem(&inode_filter, &zero);
	if (!walk.filter || !start)
		return;
	bpf_loop(SG_MAX_DEPTH, sg_real_level, &walk, 0);
	if (w->truncated != 2)
		return; /* found, or too deep */
	/* as sg_walk_real (the dentry out of walk first: inside BPF_CORE_READ its
	 * access would be a CO-RE relocation of our own struct) */
	end = (void *)walk.dentry;
	w->truncated = !!(BPF_CORE_READ(end, d_flags) & SG_DCACHE_DISCONNECTED);
}
#else
#define sg_walk_real_levels sg_walk_real
#endif

/*
 * overlayfs's own work directories (<workdir>/work and /index of each overlay
 * mounted at load, rule_paths::overlay_work_dirs): to remove an upper directory
 * that a lower layer also has, overlayfs exchanges it with a whiteout (or, for a
 * directory emptied of lower entries, an opaque directory) made there, then
 * removes it. Only overlayfs reaches them through an overlay, so a rename whose
 * new name is in one is overlayfs's own, not a process's. (A removed file is not
 * moved: the whiteout is renamed over it.)
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized by the agent before load */
	__type(key, struct sg_inode_key);
	__type(value, __u32); /* unused */
	__uint(map_flags, BPF_F_NO_PREALLOC);
} sg_ovl_work_dirs SEC(".maps");

/* An overlay's whiteout (a character device 0:0): nothing in it to keep a rule on. */
static __always_inline int sg_is_whiteout(struct inode *inode)
{
	return inode && (BPF_CORE_READ(inode, i_mode) & SG_S_IFMT) == SG_S_IFCHR && !BPF_CORE_READ(inode, i_rdev);
}

static __always_inline int sg_in_ovl_work_dir(struct dentry *dentry)
{
	struct inode *dir = BPF_CORE_READ(dentry, d_parent, d_inode);
	struct sg_inode_key key = {};

	if (!dir)
		return 0;
	key.ino = BPF_CORE_READ(dir, i_ino);
	key.dev = BPF_CORE_READ(dir, i_sb, s_dev);
	return bpf_map_lookup_elem(&sg_ovl_work_dirs, &key) != 0;
}
#endif /* SG_IDENTITY_WALK */

/* Copy the resolved path into an event field of SG_PATH_LEN bytes. */
static __always_inline __u32 sg_copy_path(__u8 *dst, struct sg_pathbuf *pb, const struct sg_resolved *r)
{
	__u32 len = r->len & (SG_PATH_LEN - 1);

	if (r->len >= SG_PATH_LEN)
		len = SG_PATH_LEN - 1;
	bpf_probe_read_kernel(dst, len, &pb->buf[(SG_PATH_LEN - len) & (SG_PATH_LEN - 1)]);
	return len;
}

/* Where struct sg_file_event's target and executable go in `names`: after the
 * names before them, with lengths masked so that the verifier knows each place
 * and the copy into it stay inside the event. */
static __always_inline __u8 *sg_names_target(struct sg_file_event *ev)
{
	return ev->names + (ev->path_len & (SG_PATH_LEN - 1));
}

static __always_inline __u8 *sg_names_exe(struct sg_file_event *ev)
{
	return sg_names_target(ev) + (ev->target_len & (SG_PATH_LEN - 1));
}

/* The bytes of the event to send: up to the end of its last name. */
static __always_inline __u32 sg_file_event_size(struct sg_file_event *ev)
{
	return offsetof(struct sg_file_event, names) + (ev->path_len & (SG_PATH_LEN - 1)) +
	       (ev->target_len & (SG_PATH_LEN - 1)) + (ev->exe_len & (SG_PATH_LEN - 1));
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_path_key);
} sg_path_keys SEC(".maps");

/* The longest path rule covering the resolved path. Paths longer than the
 * key are looked up by their first SG_RULE_PATH_LEN bytes, which still covers
 * every rule (rules are shorter). */
static __always_inline struct sg_match *sg_lookup_path(struct sg_pathbuf *pb,
							   const struct sg_resolved *r)
{
	__u32 zero = 0;
	struct sg_path_key *key = bpf_map_lookup_elem(&sg_path_keys, &zero);
	__u32 start = (SG_PATH_LEN - r->len) & (SG_PATH_LEN - 1);
	__u32 len = r->len;

	if (!key)
		return 0;
	if (len >= SG_RULE_PATH_LEN) {
		bpf_probe_read_kernel(key->path, SG_RULE_PATH_LEN, &pb->buf[start]);
		key->prefixlen = SG_RULE_PATH_LEN * 8;
	} else {
		/* Keep the mask where the verifier sees it: clang would otherwise
		 * reuse the unmasked register for the index below. */
		barrier_var(len);
		len &= SG_RULE_PATH_LEN - 1;
		bpf_probe_read_kernel(key->path, len, &pb->buf[start]);
		/* "/" is a complete key; any other path gets its closing '/' */
		if (len > 1) {
			key->path[len & (SG_RULE_PATH_LEN - 1)] = '/';
			len += 1;
		}
		key->prefixlen = len * 8;
	}
	return bpf_map_lookup_elem(&sg_path_rules, key);
}

#endif /* SAFEGUARD_COMMON_BPF_H */
