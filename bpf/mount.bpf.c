// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The mount module: mount(2) judged in lsm/sb_mount by its source string,
 * made absolute and normalized here, and then, until path_mount() returns, by
 * what the kernel's own lookups meet (lsm/inode_permission: a directory
 * searched; lsm/inode_follow_link: a /proc magic link followed; see "Lookup
 * guard" below); move_mount(2) (the new mount API) judged in lsm/move_mount by
 * the identity of the tree being attached; a new superblock of a denied type
 * or block device refused where it is made (lsm/sb_set_mnt_opts: mount(2) and
 * fsconfig(FSCONFIG_CMD_CREATE) alike). Without BPF LSM a kprobe on
 * path_mount() makes the string decision, audit-only.
 *
 * Tables (filled by src/mount/rules.rs):
 * - sg_path_rules: normalized denied paths (SG_VERDICT_DENY: the path and all
 *   below it) and their ancestors (SG_MOUNT_VERDICT_EXACT: only the path
 *   itself, because binding it exposes the denied path);
 * - sg_inode_rules: the same by (device, inode), and block devices as
 *   (device number, inode 0);
 * - mount_names: sources that are not paths, and filesystem types.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Load-time switches (rodata), set by src/mount/mod.rs. */
const volatile __u32 sg_have_paths = 0;  /* any path rule: an unresolvable source is refused */
const volatile __u32 sg_log_allowed = 0; /* a record for every mount, ALLOWED when not denied */
/* 1 where the path_rename hook has its flags argument (5.19 and later). */
const volatile __u32 sg_rename_has_flags = 0;

/* mount(2) flags (include/uapi/linux/mount.h) */
#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_MOVE 8192
#define MS_UNBINDABLE (1 << 17)
#define MS_PRIVATE (1 << 18)
#define MS_SLAVE (1 << 19)
#define MS_SHARED (1 << 20)
#define RENAME_EXCHANGE (1 << 1)

#define MAY_EXEC 1
#define PROC_SUPER_MAGIC 0x9fa0

#define SRC_MASK (SG_MOUNT_SOURCE_LEN - 1)
#define NORM_DEPTH 64

/* Lexical normalization state. Kept in map memory, not registers: each loop
 * iteration then ends in the same verifier state (see common.bpf.h). */
struct sg_norm {
	__u8 in[SG_MOUNT_SOURCE_LEN];  /* NUL-terminated input */
	__u8 out[SG_MOUNT_SOURCE_LEN]; /* "/a/b" without a closing '/'; "" is the root */
	__u16 stack[NORM_DEPTH];       /* where each kept component starts in out */
	__u32 olen;
	__u32 depth;
	__u32 cstart;  /* start of the component being copied */
	__u32 in_comp; /* a component is being copied */
	__u32 overflow; /* too long or too deep to normalize */
	__u32 floor;    /* components ".." never removes: the task's root */
};

struct mount_scratch {
	struct sg_mount_event ev;
	struct sg_norm norm;
	struct sg_path_key key;
	struct sg_mount_name name;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mount_scratch);
} mount_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized by the agent before load */
	__type(key, struct sg_mount_name);
	__type(value, struct sg_match);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} mount_names SEC(".maps");

/* Lookup guard: a mount(2) that passed sb_mount, by thread id, from sb_mount
 * until path_mount() returns. The kernel resolves the source (and a new
 * mount's device) only after sb_mount; the hooks of that lookup judge what it
 * really meets and refuse it there (EPERM from the lookup is the mount's
 * error). The value is the mount's record, sent once: BLOCKED or MONITOR by
 * the hook that decides (hdr.action set), else ALLOWED when path_mount()
 * returns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sg_mount_event);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} mount_guards SEC(".maps");

static __always_inline struct mount_scratch *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mount_scratch, &zero);
}

static __always_inline __u32 mount_class(__u64 flags)
{
	/* The order of path_mount(): the first test that holds decides. */
	if (flags & MS_REMOUNT)
		return SG_MOUNT_REMOUNT;
	if (flags & MS_BIND)
		return SG_MOUNT_BIND;
	if (flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE))
		return SG_MOUNT_PROPAGATION;
	if (flags & MS_MOVE)
		return SG_MOUNT_MOVE;
	return SG_MOUNT_NEW;
}

/* A component has been copied to out: drop it if it is "." , drop it and its
 * predecessor if it is "..", else remember where it starts. */
static __always_inline void end_component(struct sg_norm *n)
{
	__u32 cs = n->cstart;
	__u32 len = n->olen - cs - 1;

	n->in_comp = 0;
	if (len == 1 && n->out[(cs + 1) & SRC_MASK] == '.') {
		n->olen = cs;
	} else if (len == 2 && n->out[(cs + 1) & SRC_MASK] == '.' &&
		   n->out[(cs + 2) & SRC_MASK] == '.') {
		n->olen = cs;
		if (n->depth > n->floor) {
			n->depth -= 1;
			n->olen = n->stack[n->depth & (NORM_DEPTH - 1)];
		}
	} else if (n->depth >= NORM_DEPTH) {
		n->overflow = 1;
	} else {
		n->stack[n->depth & (NORM_DEPTH - 1)] = cs;
		n->depth += 1;
	}
}

/* One byte of norm_feed_walk, n->in[i]: 1 where the input ends. */
static __always_inline long norm_byte(struct sg_norm *n, __u32 i)
{
	__u8 c = n->in[i & SRC_MASK];

	if (n->overflow)
		return 1;
	if (c == '/' || c == 0) {
		if (n->in_comp)
			end_component(n);
		return c == 0;
	}
	/* room for this byte, a '/' before it and the key's closing '/' */
	if (n->olen + 3 > SG_MOUNT_SOURCE_LEN) {
		n->overflow = 1;
		return 1;
	}
	if (!n->in_comp) {
		n->cstart = n->olen;
		n->out[n->olen & SRC_MASK] = '/';
		n->olen += 1;
		n->in_comp = 1;
	}
	n->out[n->olen & SRC_MASK] = c;
	n->olen += 1;
	return 0;
}

#ifdef SG_BPF_LOOP
/* A byte per call, verified once (see SG_LEVELS in common.bpf.h): n is map
 * memory, and the byte's index is the callback's own. */
static long norm_byte_callback(__u64 index, void *state)
{
	return norm_byte(*(struct sg_norm **)state, index);
}
#endif

/* Appends n->in to the path in n->out as the kernel's lookup would walk it,
 * lexically: empty components ("//") and "." vanish, ".." removes the
 * previous component (never above n->floor). Symlinks are not followed. */
static __always_inline void norm_feed_walk(struct sg_norm *n)
{
#ifdef SG_BPF_LOOP
	bpf_loop(SG_MOUNT_SOURCE_LEN, norm_byte_callback, &n, 0);
#else
	for (__u32 i = 0; i < SG_MOUNT_SOURCE_LEN; i++) {
		if (norm_byte(n, i))
			break;
	}
#endif
}

/* norm_feed_walk of the scratch's state as a global function, verified once
 * per program rather than at each of sg_sb_mount's calls (see sg_resolve_shared). */
__noinline int norm_feed_shared(__u32 slot)
{
	struct mount_scratch *s = bpf_map_lookup_elem(&mount_scratch, &slot); /* slot: see sg_resolve_shared */

	if (s)
		norm_feed_walk(&s->norm);
	return 0;
}

/* Feeds the scratch's normalization state (scratch()->norm). */
static __always_inline void norm_feed(void)
{
	norm_feed_shared(0);
}

/* The denied-path rule that applies to the normalized source, or 0. `exact`:
 * ancestors of denied paths count (bind and move, not new mounts). */
static __always_inline __u32 lookup_source(struct mount_scratch *s, int exact)
{
	struct sg_norm *n = &s->norm;
	struct sg_path_key *key = &s->key;
	struct sg_match *rule;
	__u32 len = n->olen;
	__u32 key_len;

	if (len == 0) {
		key->path[0] = '/';
		key_len = 1;
	} else if (len >= SG_RULE_PATH_LEN) {
		/* longer than any rule: only a rule above it can match */
		bpf_probe_read_kernel(key->path, SG_RULE_PATH_LEN, n->out);
		key_len = SG_RULE_PATH_LEN;
	} else {
		barrier_var(len);
		len &= SG_RULE_PATH_LEN - 1;
		bpf_probe_read_kernel(key->path, len, n->out);
		key->path[len & (SG_RULE_PATH_LEN - 1)] = '/';
		key_len = len + 1;
	}
	key->prefixlen = key_len * 8;
	rule = bpf_map_lookup_elem(&sg_path_rules, key);
	if (!rule)
		return SG_RULE_NONE;
	if (rule->verdict == SG_VERDICT_DENY)
		return rule->id;
	if (exact && rule->verdict == SG_MOUNT_VERDICT_EXACT && rule->path_len == key_len)
		return rule->id;
	return SG_RULE_NONE;
}

/* Copies a NUL-terminated string of map memory into n->in. */
static __always_inline int norm_input(struct sg_norm *n, const void *src)
{
	long got = bpf_probe_read_kernel_str(n->in, SG_MOUNT_SOURCE_LEN, src);

	if (got < 0 || got >= SG_MOUNT_SOURCE_LEN) {
		n->overflow = 1;
		return -1;
	}
	return 0;
}

/* Starts a normalization (state in map memory). */
static __always_inline void norm_reset(struct sg_norm *n)
{
	n->olen = 0;
	n->depth = 0;
	n->cstart = 0;
	n->in_comp = 0;
	n->overflow = 0;
	n->floor = 0;
}

/* Feeds the base a source is resolved against (a NUL-terminated absolute path
 * in kernel or map memory): the task's root for an absolute source, where ".."
 * then stops (`floor`), its working directory for a relative one. */
static __always_inline void norm_base(struct sg_norm *n, const void *base, int absolute)
{
	if (norm_input(n, base) == 0)
		norm_feed();
	/* "/.." is "/" in a chroot too. (A relative source is resolved against the
	 * working directory's full path: a ".." beyond the task's root is taken
	 * literally there, which can only deny more.) */
	if (absolute)
		n->floor = n->depth;
}

/* The task-free part of judging a source path: ev->source normalized on top of
 * the base already in n, recorded in ev->source_path, and looked up. Pure (the
 * normalization state and the event in, a rule out): the host tier
 * (bpf/test/mount_decide.bpf.c) runs it too. */
static __always_inline __u32 judge_normalized(struct mount_scratch *s, int exact)
{
	struct sg_mount_event *ev = &s->ev;
	struct sg_norm *n = &s->norm;

	if (!n->overflow && norm_input(n, ev->source) == 0)
		norm_feed();

	if (n->overflow) {
		ev->mount_flags |= SG_MOUNT_SOURCE_UNRESOLVED;
		/* never silently allowed where a rule could apply */
		return sg_have_paths ? SG_RULE_UNRESOLVED : SG_RULE_NONE;
	}
	if (n->olen == 0) {
		ev->source_path[0] = '/';
		ev->source_path_len = 1;
	} else {
		ev->source_path_len = n->olen & SRC_MASK;
		bpf_probe_read_kernel(ev->source_path, n->olen & SRC_MASK, n->out);
	}
	if (!sg_have_paths)
		return SG_RULE_NONE;
	return lookup_source(s, exact);
}

/* Judges ev->source as a path: made absolute against the task's root (an
 * absolute source) or working directory (a relative one), then normalized. */
static __always_inline __u32 judge_source_path(struct mount_scratch *s, struct task_struct *task, int exact)
{
	struct sg_mount_event *ev = &s->ev;
	struct sg_norm *n = &s->norm;
	struct sg_pathbuf *pb = sg_pathbuf();
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct sg_resolved base;
	__u32 start;

	norm_reset(n);
	if (!pb || !fs)
		return SG_RULE_NONE;

	sg_resolve(ev->source[0] == '/' ? &fs->root : &fs->pwd, pb, &base);
	if ((base.flags & SG_FLAG_TRUNCATED) || base.len >= SG_MOUNT_SOURCE_LEN) {
		n->overflow = 1;
	} else {
		start = (SG_PATH_LEN - base.len) & (SG_PATH_LEN - 1);
		pb->buf[SG_PATH_LEN] = 0; /* the resolved path ends here */
		norm_base(n, &pb->buf[start], ev->source[0] == '/');
	}
	return judge_normalized(s, exact);
}

/* A name rule for `str` (a source or a filesystem type), or 0. */
static __always_inline __u32 lookup_name(struct mount_scratch *s, const __u8 *str, __u32 len)
{
	struct sg_match *rule;

	if (len == 0 || len >= SG_RULE_PATH_LEN)
		return SG_RULE_NONE;
	__builtin_memset(s->name.name, 0, sizeof(s->name.name));
	bpf_probe_read_kernel_str(s->name.name, sizeof(s->name.name), str);
	rule = bpf_map_lookup_elem(&mount_names, &s->name);
	return rule ? rule->id : SG_RULE_NONE;
}

/* The task-free part of judge_mount: the name rule that refuses this mount(2),
 * or 0 with *as_path set when its source is to be judged as a path (*exact:
 * ancestors of denied paths count, see lookup_source). Pure: the host tier runs
 * it too. */
static __always_inline __u32 judge_mount_name(struct mount_scratch *s, int *as_path, int *exact)
{
	struct sg_mount_event *ev = &s->ev;
	__u32 cls = ev->mount_class;
	__u32 rule = SG_RULE_NONE;

	*as_path = 0;
	*exact = cls != SG_MOUNT_NEW;
	/* remount and propagation changes name no source (the kernel ignores it) */
	if (cls != SG_MOUNT_NEW && cls != SG_MOUNT_BIND && cls != SG_MOUNT_MOVE)
		return SG_RULE_NONE;
	if (cls == SG_MOUNT_NEW) {
		/* a filesystem without a device takes any source text: its type counts too */
		rule = lookup_name(s, ev->source, ev->source_len);
		if (!rule)
			rule = lookup_name(s, ev->fstype, ev->fstype_len);
		if (rule)
			return rule;
	}
	*as_path = ev->source_len != 0;
	return SG_RULE_NONE;
}

/* The rule that refuses this mount(2), or 0. ev->source, ev->fstype and
 * ev->mount_class are filled. */
static __always_inline __u32 judge_mount(struct mount_scratch *s, struct task_struct *task)
{
	int as_path, exact;
	__u32 rule = judge_mount_name(s, &as_path, &exact);

	if (rule || !as_path)
		return rule;
	return judge_source_path(s, task, exact);
}

static __always_inline struct mount_scratch *mount_event(struct task_struct *task, __u32 op)
{
	struct mount_scratch *s = scratch();
	struct sg_mount_event *ev;

	if (!s)
		return 0;
	ev = &s->ev;
	ev->hdr.kind = SG_KIND_MOUNT;
	ev->hdr.op = op;
	ev->hdr.action = SG_ACTION_NONE;
	ev->hdr.rule_id = SG_RULE_NONE;
	ev->hdr.flags = 0;
	sg_fill_subject(&ev->hdr, task);
	ev->flags = 0;
	ev->source_ino = 0;
	ev->source_dev = 0;
	ev->mount_class = SG_MOUNT_NEW;
	ev->exe_len = 0;
	ev->target_len = 0;
	ev->source_len = 0;
	ev->source_path_len = 0;
	ev->fstype_len = 0;
	ev->mount_flags = 0;
	return s;
}

/* The subject's executable and a struct path (the mount point) into ev. */
static __always_inline void fill_paths(struct sg_mount_event *ev, struct task_struct *task,
				       const struct path *target)
{
	struct sg_pathbuf *pb = sg_pathbuf();
	struct sg_resolved resolved;
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);

	if (!pb)
		return;
	if (exe) {
		sg_resolve(&exe->f_path, pb, &resolved);
		ev->exe_len = sg_copy_path(ev->exe, pb, &resolved);
	}
	if (target) {
		sg_resolve(target, pb, &resolved);
		ev->hdr.flags |= resolved.flags;
		ev->target_len = sg_copy_path(ev->target, pb, &resolved);
	}
}

static __always_inline __u32 read_kernel_str(__u8 *dst, __u32 size, const void *src)
{
	long got;

	if (!src)
		return 0;
	got = bpf_probe_read_kernel_str(dst, size, src);
	return got > 0 ? got - 1 : 0;
}

/* Sends the record; returns 1 when the operation must be refused. Called only
 * after the decision: a full ring buffer changes nothing. */
static __always_inline int finish(struct sg_mount_event *ev, __u32 rule, int can_block)
{
	if (rule) {
		ev->hdr.rule_id = rule;
		if (can_block && sg_block) {
			ev->hdr.action = SG_ACTION_BLOCKED;
			sg_emit(ev, sizeof(*ev));
			return 1;
		}
		ev->hdr.action = SG_ACTION_MONITOR;
		sg_emit(ev, sizeof(*ev));
		return 0;
	}
	if (sg_log_allowed) {
		ev->hdr.action = SG_ACTION_ALLOWED;
		sg_emit(ev, sizeof(*ev));
	}
	return 0;
}

/* mount(2) as path_mount() sees it: both the LSM hook and the kprobe of the
 * degraded mode. Returns 1 when the mount must be refused. */
static __always_inline int on_mount(const char *dev_name, const struct path *path, const char *type,
				    unsigned long flags, int can_block)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mount_scratch *s;
	struct sg_mount_event *ev;
	__u32 rule;

	if (!sg_in_target(task))
		return 0;
	s = mount_event(task, SG_OP_MOUNT);
	if (!s)
		return 0;
	ev = &s->ev;
	/* path_mount() drops the old magic number in the high bits first */
	if ((flags & 0xffff0000) == 0xC0ED0000)
		flags &= ~0xffff0000UL;
	ev->flags = flags;
	ev->mount_class = mount_class(flags);
	ev->source_len = read_kernel_str(ev->source, sizeof(ev->source), dev_name);
	ev->fstype_len = read_kernel_str(ev->fstype, sizeof(ev->fstype), type);
	rule = judge_mount(s, task);
	fill_paths(ev, task, path);
	if (can_block && !rule && ev->mount_class != SG_MOUNT_REMOUNT &&
	    ev->mount_class != SG_MOUNT_PROPAGATION) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();

		if (bpf_map_update_elem(&mount_guards, &tid, ev, BPF_ANY) == 0)
			return 0; /* recorded when path_mount() returns, or when refused */
		/* no room to watch the lookup: never silently allowed */
		if (sg_have_paths) {
			ev->mount_flags |= SG_MOUNT_SOURCE_UNRESOLVED;
			rule = SG_RULE_UNRESOLVED;
		}
	}
	return finish(ev, rule, can_block);
}

SEC("lsm/sb_mount")
int BPF_PROG(sg_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	if (on_mount(dev_name, path, type, flags, 1))
		return -EPERM;
	return 0;
}

/* Degraded mode: the same decision at the entry of path_mount() (5.9+, the
 * common path of mount(2) after the strings are copied and the mount point is
 * resolved), audit-only. A kprobe needs neither BPF LSM nor tracefs. */
SEC("kprobe/path_mount")
int BPF_KPROBE(sg_path_mount, const char *dev_name, struct path *path, const char *type,
	       unsigned long flags)
{
	on_mount(dev_name, path, type, flags, 0);
	return 0;
}

/* A denied directory at `dentry` or above it within its filesystem: the
 * dentry's parents up to the filesystem's root, whatever is mounted where. A
 * bind mount or a detached clone of a subdirectory starts below the denied
 * directory, so a walk that follows mounts (sg_resolve) never meets it. */
struct deny_walk {
	__u64 dentry; /* the level's (the caller's pointer, or a number read since) */
	__u32 rule;   /* the outcome: set by the level that ends the walk */
};

static __always_inline long deny_level(struct deny_walk *walk)
{
	struct dentry *dentry = (void *)walk->dentry;
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	struct sg_inode_key key = {};
	struct sg_match *rule;

	key.ino = BPF_CORE_READ(dentry, d_inode, i_ino);
	key.dev = BPF_CORE_READ(dentry, d_sb, s_dev);
	rule = bpf_map_lookup_elem(&sg_inode_rules, &key);
	if (rule && rule->verdict == SG_VERDICT_DENY) {
		walk->rule = rule->id;
		return 1;
	}
	if (!parent || parent == dentry) {
		walk->rule = SG_RULE_NONE;
		return 1;
	}
	walk->dentry = (__u64)parent;
	return 0;
}

SG_LEVEL_CALLBACK(deny_level, struct deny_walk)

static __noinline __u32 deny_in_fs(struct dentry *dentry)
{
	/* deeper than the walk: a rule above may have been missed */
	struct deny_walk walk = { .dentry = (__u64)dentry, .rule = SG_RULE_UNRESOLVED };

	SG_LEVELS(0, deny_level, &walk);
	return walk.rule == SG_RULE_UNRESOLVED && !sg_have_paths ? SG_RULE_NONE : walk.rule;
}

/* A resolved tree (the source of move_mount(2), the target of a /proc magic
 * link) judged by identity: the path itself (a denied path, or an ancestor of
 * one), or a denied directory above it, met on the way up through the mounts
 * (sg_resolve) or within its own filesystem (deny_in_fs). ev->source_ino and
 * source_dev are set; pb and `resolved` hold the path within its mount tree. */
static __always_inline __u32 judge_identity(struct sg_mount_event *ev, const struct path *from,
					    struct sg_pathbuf *pb, struct sg_resolved *resolved)
{
	struct dentry *dentry = BPF_CORE_READ(from, dentry);
	struct super_block *sb = BPF_CORE_READ(dentry, d_sb);
	struct sg_inode_key key = {};
	struct sg_match *rule;
	__u32 found;

	ev->source_ino = BPF_CORE_READ(dentry, d_inode, i_ino);
	ev->source_dev = BPF_CORE_READ(sb, s_dev);
	sg_resolve(from, pb, resolved);
	ev->hdr.flags |= resolved->flags;

	/* the source itself: a denied path, or an ancestor of one */
	key.ino = ev->source_ino;
	key.dev = ev->source_dev;
	rule = bpf_map_lookup_elem(&sg_inode_rules, &key);
	if (rule)
		return rule->id;
	/* below a denied path, through the mounts ... */
	if (pb->found && pb->by_inode.verdict == SG_VERDICT_DENY)
		return pb->by_inode.id;
	/* ... or within the filesystem */
	found = deny_in_fs(dentry);
	if (found)
		return found;
	/* an unresolved walk may have missed a rule above */
	if (sg_have_paths && (resolved->flags & SG_FLAG_TRUNCATED))
		return SG_RULE_UNRESOLVED;
	return SG_RULE_NONE;
}

/* A new filesystem: a name rule for its type, or a denied block device. */
static __always_inline __u32 judge_superblock(struct mount_scratch *s, struct super_block *sb)
{
	struct sg_mount_event *ev = &s->ev;
	struct sg_inode_key key = {};
	struct sg_match *rule;
	__u32 found;

	ev->fstype_len = read_kernel_str(ev->fstype, sizeof(ev->fstype), BPF_CORE_READ(sb, s_type, name));
	found = lookup_name(s, ev->fstype, ev->fstype_len);
	if (found)
		return found;
	if (BPF_CORE_READ(sb, s_bdev)) {
		key.dev = BPF_CORE_READ(sb, s_dev);
		rule = bpf_map_lookup_elem(&sg_inode_rules, &key);
		if (rule)
			return rule->id;
	}
	return SG_RULE_NONE;
}

/* The tree being attached (a clone from open_tree(2), a new filesystem from
 * fsmount(2), or an attached mount being moved) judged by identity
 * (judge_identity); a whole filesystem also by its type and block device. */
static __always_inline __u32 judge_move(struct mount_scratch *s, const struct path *from)
{
	struct sg_mount_event *ev = &s->ev;
	struct sg_pathbuf *pb = sg_pathbuf();
	struct dentry *dentry = BPF_CORE_READ(from, dentry);
	struct super_block *sb = BPF_CORE_READ(dentry, d_sb);
	struct sg_resolved resolved;
	__u32 rule, len;

	if (!pb)
		return SG_RULE_NONE;
	rule = judge_identity(ev, from, pb, &resolved);
	/* the path within its mount tree (a detached tree starts at "/"), cut
	 * to the field; identity decides, not this string */
	len = resolved.len < SG_MOUNT_SOURCE_LEN ? resolved.len : SG_MOUNT_SOURCE_LEN - 1;
	bpf_probe_read_kernel(ev->source, len & SRC_MASK,
			      &pb->buf[(SG_PATH_LEN - resolved.len) & (SG_PATH_LEN - 1)]);
	ev->source_len = len & SRC_MASK;
	if (dentry == BPF_CORE_READ(sb, s_root)) {
		/* a whole filesystem: its type and device count, as for mount(2) */
		__u32 whole = judge_superblock(s, sb);

		if (!rule)
			rule = whole;
	} else {
		ev->fstype_len = read_kernel_str(ev->fstype, sizeof(ev->fstype), BPF_CORE_READ(sb, s_type, name));
	}
	return rule;
}

SEC("lsm/move_mount")
int BPF_PROG(sg_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mount_scratch *s;
	struct sg_mount_event *ev;
	__u32 rule;

	if (ret)
		return sg_keep_denial(ret);
	if (!sg_in_target(task))
		return 0;
	s = mount_event(task, SG_OP_MOVE_MOUNT);
	if (!s)
		return 0;
	ev = &s->ev;
	ev->mount_class = SG_MOUNT_MOVE;
	rule = judge_move(s, from_path);
	fill_paths(ev, task, to_path);
	if (finish(ev, rule, 1))
		return -EPERM;
	return 0;
}

/*
 * Lookup guard (see mount_guards). sb_mount has only the source string; the
 * kernel resolves it afterwards (do_loopback(), do_move_mount_old(), a
 * filesystem's device lookup), following symlinks, /proc magic links and
 * mounts the string does not show. While a guarded mount(2) runs, its lookups
 * are judged by what they meet:
 * - a directory searched (lsm/inode_permission, MAY_EXEC, the lookup's own
 *   current directory) that is denied or below a denied directory: the source
 *   lies below it, whatever the spelling;
 * - a /proc magic link followed (lsm/inode_follow_link; procfs links outside
 *   the procfs root: <pid>/root, cwd, exe, fd/N): the kernel jumps to a path
 *   the string does not show, so its target is judged like a move_mount(2)
 *   source (ancestors of a denied path included: /proc/self/root is "/").
 *   links in ns/ (nsfs files, `ip netns add`) pass; other magic links are
 *   refused as unresolved;
 * - a plain symlink followed: its body, as a source string (judge_link_body).
 * The last component of a lookup meets no hook: a hard link naming a denied
 * path itself is not seen (README).
 */
static __always_inline struct sg_mount_event *guarded(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sg_mount_event *ev = bpf_map_lookup_elem(&mount_guards, &tid);

	/* decided already: the lookup that was refused has ended */
	if (!ev || ev->hdr.action != SG_ACTION_NONE)
		return 0;
	return ev;
}

/* Records the guarded mount's decision; returns 1 when it must be refused. */
static __always_inline int decide_guarded(struct sg_mount_event *ev, __u32 rule)
{
	ev->hdr.rule_id = rule;
	ev->mount_flags |= SG_MOUNT_SOURCE_LOOKUP;
	if (rule == SG_RULE_UNRESOLVED)
		ev->mount_flags |= SG_MOUNT_SOURCE_UNRESOLVED;
	if (sg_block) {
		ev->hdr.action = SG_ACTION_BLOCKED;
		sg_emit(ev, sizeof(*ev));
		return 1;
	}
	ev->hdr.action = SG_ACTION_MONITOR;
	sg_emit(ev, sizeof(*ev));
	return 0;
}

SEC("lsm/inode_permission")
int BPF_PROG(sg_mount_lookup_dir, struct inode *inode, int mask, int ret)
{
	struct task_struct *task;
	struct sg_mount_event *ev;
	struct nameidata *nd;
	struct dentry *dir;
	__u32 rule;

	if (ret)
		return sg_keep_denial(ret);
	if (!(mask & MAY_EXEC))
		return 0;
	ev = guarded();
	if (!ev)
		return 0;
	/* a step of a path lookup: the directory it stands in */
	task = (struct task_struct *)bpf_get_current_task();
	nd = BPF_CORE_READ(task, nameidata);
	if (!nd || BPF_CORE_READ(nd, inode) != inode)
		return 0;
	dir = BPF_CORE_READ(nd, path.dentry);
	rule = deny_in_fs(dir);
	if (!rule)
		return 0;
	ev->source_ino = BPF_CORE_READ(inode, i_ino);
	ev->source_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (decide_guarded(ev, rule))
		return -EPERM;
	return 0;
}

/* A plain symlink followed in a guarded lookup, judged by its body: made
 * absolute against the task's root (an absolute body) or the directory the
 * link lies in (nd->path at that moment), normalized, and looked up as a
 * mount(2) source string is, as if the link ended the lookup (a link in the
 * middle then stands for a path above the final one: refusing it can only
 * refuse more). Only a body the inode holds in memory (i_link: tmpfs, ext4
 * fast symlinks) can be read; others are not judged (README). */
static __always_inline __u32 judge_link_body(struct mount_scratch *s, struct sg_mount_event *ev,
					     const char *body, struct nameidata *nd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct sg_norm *n = &s->norm;
	struct sg_pathbuf *pb = sg_pathbuf();
	struct sg_resolved base;
	__u8 first = 0;
	__u32 start;

	n->olen = 0;
	n->depth = 0;
	n->cstart = 0;
	n->in_comp = 0;
	n->overflow = 0;
	n->floor = 0;
	if (!pb || !fs)
		return SG_RULE_NONE;
	bpf_probe_read_kernel(&first, 1, body);
	sg_resolve(first == '/' ? &fs->root : &nd->path, pb, &base);
	if ((base.flags & SG_FLAG_TRUNCATED) || base.len >= SG_MOUNT_SOURCE_LEN) {
		n->overflow = 1;
	} else {
		start = (SG_PATH_LEN - base.len) & (SG_PATH_LEN - 1);
		pb->buf[SG_PATH_LEN] = 0;
		if (norm_input(n, &pb->buf[start]) == 0)
			norm_feed();
		if (first == '/')
			n->floor = n->depth;
	}
	if (!n->overflow && norm_input(n, body) == 0)
		norm_feed();
	if (n->overflow)
		return SG_RULE_UNRESOLVED;
	if (n->olen == 0) {
		ev->source_path[0] = '/';
		ev->source_path_len = 1;
	} else {
		ev->source_path_len = n->olen & SRC_MASK;
		bpf_probe_read_kernel(ev->source_path, n->olen & SRC_MASK, n->out);
	}
	return lookup_source(s, ev->mount_class != SG_MOUNT_NEW);
}

/* A dentry's name of up to 7 bytes as a number to compare (NUL-padded), or
 * ~0. Short names are inline in the dentry, so reading 8 bytes is safe. */
static __always_inline __u64 short_name(struct dentry *dentry)
{
	struct qstr name = BPF_CORE_READ(dentry, d_name);
	__u64 value = 0;

	if (name.len == 0 || name.len > 7)
		return ~0ULL;
	bpf_probe_read_kernel(&value, sizeof(value), name.name);
	return value & ((1ULL << (name.len * 8)) - 1);
}

#define NAME2(a, b) ((__u64)(a) | (__u64)(b) << 8)
#define NAME3(a, b, c) (NAME2(a, b) | (__u64)(c) << 16)
#define NAME4(a, b, c, d) (NAME3(a, b, c) | (__u64)(d) << 24)

/* Where a /proc magic link leads, or 0 (unknown). *nsfs: an ns/ link. */
static __always_inline const struct path *proc_link_target(struct dentry *link, struct inode *inode,
							   int *nsfs)
{
	struct proc_inode *pi = (void *)inode - bpf_core_field_offset(struct proc_inode, vfs_inode);
	struct pid *pid = BPF_CORE_READ(pi, pid);
	struct hlist_node *first = 0;
	struct task_struct *task;
	__u64 name = short_name(link);
	__u64 dir = short_name(BPF_CORE_READ(link, d_parent));

	*nsfs = 0;
	if (dir == NAME2('n', 's')) {
		*nsfs = 1;
		return 0;
	}
	if (!pid)
		return 0;
	bpf_core_read(&first, sizeof(first), &pid->tasks[PIDTYPE_PID].first);
	if (!first)
		return 0;
	task = (void *)first - bpf_core_field_offset(struct task_struct, pid_links);
	if (dir == NAME2('f', 'd')) {
		struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
		unsigned int fd = BPF_CORE_READ(pi, fd);
		struct file **fds = BPF_CORE_READ(fdt, fd);
		struct file *file = 0;

		if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
			return 0;
		bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
		return file ? &file->f_path : 0;
	}
	if (name == NAME4('r', 'o', 'o', 't') || name == NAME3('c', 'w', 'd')) {
		struct fs_struct *fs = BPF_CORE_READ(task, fs);

		if (!fs)
			return 0;
		return name == NAME3('c', 'w', 'd') ? &fs->pwd : &fs->root;
	}
	if (name == NAME3('e', 'x', 'e')) {
		struct file *exe = BPF_CORE_READ(task, mm, exe_file);

		return exe ? &exe->f_path : 0;
	}
	return 0;
}

SEC("lsm/inode_follow_link")
int BPF_PROG(sg_mount_lookup_link, struct dentry *dentry, struct inode *inode, bool rcu, int ret)
{
	struct sg_mount_event *ev;
	struct super_block *sb;
	const struct path *target;
	struct sg_pathbuf *pb;
	struct sg_resolved resolved;
	int nsfs;
	__u32 rule;

	if (ret)
		return sg_keep_denial(ret);
	ev = guarded();
	if (!ev)
		return 0;
	sb = BPF_CORE_READ(dentry, d_sb);
	if (BPF_CORE_READ(sb, s_magic) != PROC_SUPER_MAGIC) {
		const char *body = BPF_CORE_READ(inode, i_link);
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();
		struct nameidata *nd = BPF_CORE_READ(task, nameidata);
		struct mount_scratch *s = scratch();

		if (!body || !nd || !s)
			return 0;
		rule = judge_link_body(s, ev, body, nd);
		if (!rule)
			return 0;
		ev->source_ino = BPF_CORE_READ(inode, i_ino);
		ev->source_dev = BPF_CORE_READ(sb, s_dev);
		if (decide_guarded(ev, rule))
			return -EPERM;
		return 0;
	}
	/* self, thread-self, mounts, net: plain links within /proc */
	if (BPF_CORE_READ(dentry, d_parent) == BPF_CORE_READ(sb, s_root))
		return 0;
	target = proc_link_target(dentry, inode, &nsfs);
	if (nsfs)
		return 0;
	pb = sg_pathbuf();
	if (!pb)
		return 0;
	if (target) {
		rule = judge_identity(ev, target, pb, &resolved);
	} else {
		ev->source_ino = BPF_CORE_READ(inode, i_ino);
		ev->source_dev = BPF_CORE_READ(sb, s_dev);
		rule = sg_have_paths ? SG_RULE_UNRESOLVED : SG_RULE_NONE;
	}
	if (!rule)
		return 0;
	if (decide_guarded(ev, rule))
		return -EPERM;
	return 0;
}

/*
 * Name guard. mount(2) judges its source by the string it is given and by the
 * directories its lookup searches; the last component meets no hook. The
 * string table holds the denied paths and their ancestors where they were at
 * start, so a rename of one of them (`mv /run/docker.sock /run/x`, `mv /srv
 * /srv2` above a denied /srv/secret), of anything out of a denied directory,
 * or a hard link made to a file below one would give the denied tree a name
 * that neither the table nor the lookup sees, and a bind of that name would
 * pass. Such a link or rename is refused (block mode) like the mount it
 * prepares, with its own record (op link or rename). A link or rename that
 * stays below the same denied directory keeps it covered and passes. Hard
 * links made before the start stay a limit (README).
 */
static __noinline int name_guard(struct vfsmount *src_mnt, struct dentry *src, struct vfsmount *dst_mnt,
				 struct dentry *dst, __u32 op)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_pathbuf *pb;
	struct sg_inode_key key = {};
	struct sg_resolved resolved;
	struct mount_scratch *s;
	struct sg_mount_event *ev;
	struct sg_match *own;
	struct path named;
	__u32 rule, len;

	if (!src || !sg_in_target(task))
		return 0;
	key.ino = BPF_CORE_READ(src, d_inode, i_ino);
	key.dev = BPF_CORE_READ(src, d_sb, s_dev);
	own = bpf_map_lookup_elem(&sg_inode_rules, &key);
	if (own) {
		/* a denied path or an ancestor of one: the table knows it by its place */
		rule = own->id;
	} else {
		rule = deny_in_fs(src);
		if (!rule)
			return 0;
		/* still below the same denied directory: its new name is covered */
		if (rule != SG_RULE_UNRESOLVED && deny_in_fs(BPF_CORE_READ(dst, d_parent)) == rule)
			return 0;
	}
	s = mount_event(task, op);
	pb = sg_pathbuf();
	if (!s || !pb)
		return sg_block;
	ev = &s->ev;
	ev->source_ino = key.ino;
	ev->source_dev = key.dev;
	named.mnt = src_mnt;
	named.dentry = src;
	sg_resolve(&named, pb, &resolved);
	len = resolved.len < SG_MOUNT_SOURCE_LEN ? resolved.len : SG_MOUNT_SOURCE_LEN - 1;
	bpf_probe_read_kernel(ev->source, len & SRC_MASK,
			      &pb->buf[(SG_PATH_LEN - resolved.len) & (SG_PATH_LEN - 1)]);
	ev->source_len = len & SRC_MASK;
	named.mnt = dst_mnt;
	named.dentry = dst;
	fill_paths(ev, task, &named);
	return finish(ev, rule, 1);
}

SEC("lsm/path_link")
int BPF_PROG(sg_mount_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry,
	     int ret)
{
	struct vfsmount *mnt = BPF_CORE_READ(new_dir, mnt); /* links never cross mounts */

	if (ret)
		return sg_keep_denial(ret);
	return name_guard(mnt, old_dentry, mnt, new_dentry, SG_OP_MOUNT_LINK) ? -EPERM : 0;
}

SEC("lsm/path_rename")
int BPF_PROG(sg_mount_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry)
{
	/* No `ret`: 5.19 added the flags argument before it (as in process.bpf.c).
	 * Before 5.19 the kernel calls the hook a second time, reversed, for an
	 * exchange. */
	__u64 flags = sg_rename_has_flags ? ctx[4] : 0;
	struct vfsmount *old_mnt = BPF_CORE_READ(old_dir, mnt), *new_mnt = BPF_CORE_READ(new_dir, mnt);

	if (name_guard(old_mnt, old_dentry, new_mnt, new_dentry, SG_OP_MOUNT_RENAME))
		return -EPERM;
	/* an exchange moves what is at the new name to the old one as well */
	if ((flags & RENAME_EXCHANGE) &&
	    name_guard(new_mnt, new_dentry, old_mnt, old_dentry, SG_OP_MOUNT_RENAME))
		return -EPERM;
	return 0;
}

/* The end of a guarded mount(2): its ALLOWED record if nothing decided. */
SEC("fexit/path_mount")
int BPF_PROG(sg_path_mount_exit, const char *dev_name, struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sg_mount_event *ev = bpf_map_lookup_elem(&mount_guards, &tid);

	if (!ev)
		return 0;
	if (ev->hdr.action == SG_ACTION_NONE && sg_log_allowed) {
		ev->hdr.action = SG_ACTION_ALLOWED;
		sg_emit(ev, sizeof(*ev));
	}
	bpf_map_delete_elem(&mount_guards, &tid);
	return 0;
}

/* Every new superblock (vfs_get_tree(): mount(2), fsconfig(FSCONFIG_CMD_CREATE),
 * the kernel's own mounts) before it can be used: a denied type or block
 * device. fsmount(2) has no hook, and its tree can be used through the fd
 * without move_mount(2). Only refusals are recorded: the mount(2) or
 * move_mount(2) that follows has its own record. */
SEC("lsm/sb_set_mnt_opts")
int BPF_PROG(sg_sb_set_mnt_opts, struct super_block *sb, void *mnt_opts, unsigned long kern_flags,
	     unsigned long *set_kern_flags, int ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_mount_event *guard;
	struct mount_scratch *s;
	struct sg_mount_event *ev;
	__u32 rule;

	if (ret)
		return sg_keep_denial(ret);
	if (!sg_in_target(task))
		return 0;
	s = mount_event(task, SG_OP_FSCONFIG);
	if (!s)
		return 0;
	ev = &s->ev;
	rule = judge_superblock(s, sb);
	if (!rule)
		return 0;
	guard = guarded();
	if (guard) {
		/* within mount(2): its record */
		guard->source_dev = BPF_CORE_READ(sb, s_dev);
		if (decide_guarded(guard, rule))
			return -EPERM;
		return 0;
	}
	ev->source_dev = BPF_CORE_READ(sb, s_dev);
	fill_paths(ev, task, 0);
	if (finish(ev, rule, 1))
		return -EPERM;
	return 0;
}
