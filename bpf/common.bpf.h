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

/* Queue a finished record (it starts with struct sg_header). Called only after
 * the decision: a full ring buffer loses the record (counted per op) and never
 * changes a verdict. */
static __always_inline void sg_emit(void *event, __u64 size)
{
	__u32 op = ((struct sg_header *)event)->op & (SG_OP_SLOTS - 1);
	struct sg_op_count *count = bpf_map_lookup_elem(&sg_op_counts, &op);
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

static __always_inline void sg_fill_subject(struct sg_header *hdr, struct task_struct *task)
{
	struct sg_subject *subject = &hdr->subject;
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	__u64 uid_gid = bpf_get_current_uid_gid();

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

struct sg_pathbuf {
	char buf[SG_PATH_LEN * 2];
	__u32 off;      /* start of the path in buf */
	__u32 found;    /* an inode rule was met */
	struct sg_match by_inode; /* the deepest one */
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

struct sg_resolved {
	__u32 len;   /* bytes of the path, ending at buf[SG_PATH_LEN] */
	__u32 flags; /* SG_FLAG_TRUNCATED */
};

/* Resolve `path` into pb and, on the way up, note the deepest inode rule (the
 * first one met): pb->found, pb->by_inode. */
static __noinline void sg_resolve(const struct path *path, struct sg_pathbuf *pb,
				  struct sg_resolved *out)
{
	struct dentry *dentry = BPF_CORE_READ(path, dentry);
	struct vfsmount *vfsmnt = BPF_CORE_READ(path, mnt);
	struct mount *mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	__u32 off;

	out->flags = SG_FLAG_TRUNCATED; /* cleared when the root is reached */
	pb->off = SG_PATH_LEN;
	pb->found = 0;

	for (int i = 0; i < SG_MAX_DEPTH; i++) {
		struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
		struct qstr name;
		__u32 len;

		if (!pb->found)
			sg_match_inode(dentry, pb);

		if (dentry == mnt_root) {
			struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

			if (mnt == mnt_parent) {
				out->flags = 0; /* the root of the namespace */
				break;
			}
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mnt_parent;
			vfsmnt = (void *)mnt + bpf_core_field_offset(struct mount, mnt);
			continue;
		}
		if (dentry == parent) {
			out->flags = 0; /* the root of a detached tree */
			break;
		}

		name = BPF_CORE_READ(dentry, d_name);
		len = name.len & SG_NAME_MASK;
		off = pb->off;
		if (off > SG_PATH_LEN || len + 1 > off)
			break; /* longer than PATH_MAX: truncated */
		off -= len;
		bpf_probe_read_kernel(&pb->buf[off & (SG_PATH_LEN - 1)], len, name.name);
		off -= 1;
		pb->buf[off & (SG_PATH_LEN - 1)] = '/';
		pb->off = off;
		dentry = parent;
	}
	off = pb->off;
	if (off >= SG_PATH_LEN) {
		off = SG_PATH_LEN - 1;
		pb->buf[off] = '/';
	}
	out->len = SG_PATH_LEN - off;
	if (out->flags & SG_FLAG_TRUNCATED)
		sg_count(SG_COUNTER_TRUNCATED);
}

/* Copy the resolved path into an event field of SG_PATH_LEN bytes. */
static __always_inline __u32 sg_copy_path(__u8 *dst, struct sg_pathbuf *pb, const struct sg_resolved *r)
{
	__u32 len = r->len & (SG_PATH_LEN - 1);

	if (r->len >= SG_PATH_LEN)
		len = SG_PATH_LEN - 1;
	bpf_probe_read_kernel(dst, len, &pb->buf[(SG_PATH_LEN - len) & (SG_PATH_LEN - 1)]);
	return len;
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
