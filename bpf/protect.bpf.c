// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Self-protection (`[agent] protect = true`, SPEC section 7): while these programs
 * are attached, only the agent's own process may stop, freeze, trace or slow it,
 * take a writable handle on its BPF maps, detach or replace its links, or alter
 * its binary, config, log files and pins. Every refusal is EPERM and a
 * SG_KIND_PROTECT record; a signal from the service manager (pid 1 of the initial
 * pid namespace) is let through and recorded.
 *
 * What is the agent's: the process whose tgid the agent writes before load
 * (sg_agent_tgid); BPF objects whose ids it lists in `protected_ids` (read from
 * its own /proc/self/fdinfo); files by identity (device, inode) in
 * `protected_inodes`, which the agent seeds and which grows by every regular file
 * the agent itself creates (its rotated logs). See src/protect/ and the README,
 * "Self-protection".
 */
/* The path walk of common.bpf.h is not used here: records name files by identity
 * and last component, and the agent adds the path it knows. */
#pragma clang diagnostic ignored "-Wunused-function"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 sg_agent_tgid = 0;
const volatile __u32 sg_agent_mntns = 0; /* the agent's mount namespace inode; 0: unknown */

#define SG_SERVICE_MANAGER 1 /* pid 1 of the initial pid namespace (systemd, init) */

#define FMODE_WRITE 0x2
#define MNT_SHARED 0x1000 /* vfsmount.mnt_flags: in a peer group (include/linux/mount.h) */
#define FMODE_CREATED 0x100000
#define O_TRUNC 00001000
#define S_IFMT 00170000
#define S_IFREG 0100000
#define PTRACE_MODE_ATTACH 0x02
#define FS_IOC_SETFLAGS 0x40086602   /* chattr: +i and +a would blind the agent */
#define FS_IOC_FSSETXATTR 0x401c5820 /* the same flags through the xattr interface */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sg_protect_id);
	__type(value, __u32);
} protected_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sg_inode_key);
	__type(value, __u32); /* enum sg_protect_what */
} protected_inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_protect_event);
} scratch SEC(".maps");

static __always_inline int sg_is_agent(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == sg_agent_tgid;
}

static __always_inline int sg_is_agent_task(struct task_struct *task)
{
	return task && BPF_CORE_READ(task, tgid) == sg_agent_tgid;
}

static __always_inline void sg_inode_key_of(struct inode *inode, struct sg_inode_key *key)
{
	key->ino = BPF_CORE_READ(inode, i_ino);
	key->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key->_pad = 0;
}

/* What the protected set says about an inode: 0 when nothing. */
static __always_inline __u32 sg_protection(struct inode *inode)
{
	struct sg_inode_key key;
	__u32 *what;

	if (!inode)
		return 0;
	sg_inode_key_of(inode, &key);
	what = bpf_map_lookup_elem(&protected_inodes, &key);
	return what ? *what : 0;
}

static __always_inline __u32 sg_id_protected(__u32 kind, __u32 id)
{
	struct sg_protect_id key = { .kind = kind, .id = id };

	return bpf_map_lookup_elem(&protected_ids, &key) != 0;
}

/* A record of the attempt (or of an allowed signal): built in per-CPU memory, sent
 * after the decision. */
static __always_inline struct sg_protect_event *sg_event(__u32 op, __u32 action)
{
	__u32 zero = 0;
	struct sg_protect_event *ev = bpf_map_lookup_elem(&scratch, &zero);

	if (!ev)
		return 0;
	__builtin_memset(&ev->hdr, 0, sizeof(ev->hdr));
	ev->hdr.kind = SG_KIND_PROTECT;
	ev->hdr.op = op;
	ev->hdr.action = action;
	ev->target_ino = 0;
	ev->target_dev = 0;
	ev->target_pid = 0;
	ev->arg = 0;
	ev->object_kind = 0;
	ev->object_id = 0;
	ev->file_op = 0;
	ev->what = 0;
	ev->name_len = 0;
	sg_fill_subject(&ev->hdr, (struct task_struct *)bpf_get_current_task());
	return ev;
}

static __always_inline void sg_send(struct sg_protect_event *ev)
{
	sg_emit(ev, sizeof(*ev));
}

/* A refusal that concerns a file: its identity and last name component. */
static __always_inline int sg_refuse_file(__u32 file_op, struct dentry *dentry, __u32 what, __u32 arg)
{
	struct sg_protect_event *ev = sg_event(SG_OP_PROTECT_FILE, SG_ACTION_BLOCKED);

	if (ev) {
		struct inode *inode = BPF_CORE_READ(dentry, d_inode);
		const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
		long len;

		if (inode) {
			ev->target_ino = BPF_CORE_READ(inode, i_ino);
			ev->target_dev = BPF_CORE_READ(inode, i_sb, s_dev);
		}
		ev->file_op = file_op;
		ev->what = what;
		ev->arg = arg;
		len = bpf_probe_read_kernel_str(ev->name, sizeof(ev->name), name);
		ev->name_len = len > 0 ? len - 1 : 0;
		sg_send(ev);
	}
	return -EPERM;
}

static __always_inline int sg_refuse_task(__u32 op, struct task_struct *target, __u32 arg)
{
	struct sg_protect_event *ev = sg_event(op, SG_ACTION_BLOCKED);

	if (ev) {
		ev->target_pid = BPF_CORE_READ(target, pid);
		ev->arg = arg;
		sg_send(ev);
	}
	return -EPERM;
}

static __always_inline int sg_refuse_object(__u32 kind, __u32 id, __u32 arg)
{
	struct sg_protect_event *ev = sg_event(SG_OP_PROTECT_BPF, SG_ACTION_BLOCKED);

	if (ev) {
		ev->object_kind = kind;
		ev->object_id = id;
		ev->arg = arg;
		sg_send(ev);
	}
	return -EPERM;
}

/* ---- the agent's process */

/* Signals. Only signals a task sends reach this hook (the kernel's own, such as
 * SIGCHLD or the OOM killer's, do not). Signal 0 only asks whether the process
 * exists. */
SEC("lsm/task_kill")
int BPF_PROG(sg_protect_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	__u32 sender;

	if (ret)
		return sg_keep_denial(ret);
	if (sig == 0 || !sg_is_agent_task(p) || sg_is_agent())
		return 0;
	sender = bpf_get_current_pid_tgid() >> 32;
	if (sender == SG_SERVICE_MANAGER) {
		struct sg_protect_event *ev = sg_event(SG_OP_PROTECT_SIGNAL, SG_ACTION_ALLOWED);

		if (ev) {
			ev->target_pid = BPF_CORE_READ(p, pid);
			ev->arg = sig;
			sg_send(ev);
		}
		return 0;
	}
	return sg_refuse_task(SG_OP_PROTECT_SIGNAL, p, sig);
}

/* ptrace attach, /proc/PID/mem, process_vm_writev (and _readv), pidfd_getfd: all ask
 * for PTRACE_MODE_ATTACH. Read access (ps, /proc/PID/status) stays open. */
SEC("lsm/ptrace_access_check")
int BPF_PROG(sg_protect_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	if (!(mode & PTRACE_MODE_ATTACH) || !sg_is_agent_task(child) || sg_is_agent())
		return 0;
	return sg_refuse_task(SG_OP_PROTECT_TASK, child, SG_PROTECT_TASK_PTRACE);
}

/* Starving it: rlimits (RLIMIT_CPU ends in SIGXCPU, from the kernel), nice,
 * scheduling class, I/O priority. */
#define TASK_HOOK(hook, what, ...)                                                       \
	SEC("lsm/" #hook)                                                                \
	int BPF_PROG(sg_protect_##hook, struct task_struct *p, ##__VA_ARGS__, int ret)    \
	{                                                                                \
		if (ret)                                                                 \
			return sg_keep_denial(ret);                                      \
		if (!sg_is_agent_task(p) || sg_is_agent())                               \
			return 0;                                                        \
		return sg_refuse_task(SG_OP_PROTECT_TASK, p, what);                      \
	}

TASK_HOOK(task_setrlimit, SG_PROTECT_TASK_RLIMIT, unsigned int resource, struct rlimit *new_rlim)
TASK_HOOK(task_setnice, SG_PROTECT_TASK_NICE, int nice)
TASK_HOOK(task_setioprio, SG_PROTECT_TASK_IOPRIO, int ioprio)

SEC("lsm/task_setscheduler")
int BPF_PROG(sg_protect_task_setscheduler, struct task_struct *p, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	if (!sg_is_agent_task(p) || sg_is_agent())
		return 0;
	return sg_refuse_task(SG_OP_PROTECT_TASK, p, SG_PROTECT_TASK_SCHEDULER);
}

/* ---- its BPF objects */

/* A new fd on one of its maps (BPF_MAP_GET_FD_BY_ID, BPF_OBJ_GET of a pin): only
 * read-only. Without FMODE_WRITE the kernel itself refuses updates, deletes and
 * freezing through that fd. */
SEC("lsm/bpf_map")
int BPF_PROG(sg_protect_bpf_map, struct bpf_map *map, fmode_t fmode, int ret)
{
	__u32 id;

	if (ret)
		return sg_keep_denial(ret);
	if (!(fmode & FMODE_WRITE) || sg_is_agent())
		return 0;
	id = BPF_CORE_READ(map, id);
	if (!sg_id_protected(SG_PROTECT_MAP, id))
		return 0;
	return sg_refuse_object(SG_PROTECT_MAP, id, fmode);
}

/* The id of the BPF link or program (`kind`) an fd of the current task refers to;
 * 0 when the fd is no such object. */
static __always_inline __u32 sg_fd_object_id(int fd, __u32 kind)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = 0;
	const unsigned char *name;
	char got[9] = {};
	void *object;

	if (fd < 0 || (unsigned int)fd >= max)
		return 0;
	bpf_probe_read_kernel(&file, sizeof(file), fds + fd);
	if (!file)
		return 0;
	name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	bpf_probe_read_kernel_str(got, sizeof(got), name);
	object = BPF_CORE_READ(file, private_data);
	if (!object)
		return 0;
	/* "bpf_link" when the link was made, "bpf-link" for an fd by id (and the same
	 * for programs, in case a kernel spells it the other way too). */
	if (got[0] != 'b' || got[1] != 'p' || got[2] != 'f' || (got[3] != '_' && got[3] != '-'))
		return 0;
	if (kind == SG_PROTECT_LINK && got[4] == 'l' && got[5] == 'i' && got[6] == 'n' && got[7] == 'k')
		return BPF_CORE_READ((struct bpf_link *)object, id);
	if (kind == SG_PROTECT_PROG && got[4] == 'p' && got[5] == 'r' && got[6] == 'o' && got[7] == 'g')
		return BPF_CORE_READ((struct bpf_prog *)object, aux, id);
	return 0;
}

/* Links: BPF_LINK_GET_FD_BY_ID has no LSM hook, so the commands are judged:
 * detaching or updating one of its links, detaching one of its programs. */
SEC("lsm/bpf")
int BPF_PROG(sg_protect_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	__u32 kind, id;
	int fd;

	if (ret)
		return sg_keep_denial(ret);
	if (cmd != BPF_LINK_DETACH && cmd != BPF_LINK_UPDATE && cmd != BPF_PROG_DETACH)
		return 0;
	if (sg_is_agent())
		return 0;
	if (cmd == BPF_PROG_DETACH) {
		kind = SG_PROTECT_PROG;
		fd = BPF_CORE_READ(attr, attach_bpf_fd);
	} else {
		kind = SG_PROTECT_LINK;
		fd = BPF_CORE_READ(attr, link_detach.link_fd); /* link_update.link_fd: the same place */
	}
	id = sg_fd_object_id(fd, kind);
	if (!id || !sg_id_protected(kind, id))
		return 0;
	return sg_refuse_object(kind, id, cmd);
}

/* ---- its files and pins */

/* Writing (and truncating at open) a protected file; the agent's own new regular
 * files join the protected set (its rotated logs). */
SEC("lsm/file_open")
int BPF_PROG(sg_protect_file_open, struct file *file, int ret)
{
	struct inode *inode;
	__u32 what;

	if (ret)
		return sg_keep_denial(ret);
	inode = file->f_inode;
	if (sg_is_agent()) {
		if ((file->f_mode & FMODE_CREATED) && (BPF_CORE_READ(inode, i_mode) & S_IFMT) == S_IFREG) {
			struct sg_inode_key key;
			__u32 created = SG_PROTECT_CREATED;

			sg_inode_key_of(inode, &key);
			bpf_map_update_elem(&protected_inodes, &key, &created, BPF_ANY);
		}
		return 0;
	}
	if (!(file->f_mode & FMODE_WRITE) && !(file->f_flags & O_TRUNC))
		return 0;
	what = sg_protection(inode);
	if (!(what & SG_PROTECT_FILE))
		return 0;
	return sg_refuse_file(SG_PROTECT_WRITE, file->f_path.dentry, what, file->f_flags);
}

SEC("lsm/path_truncate")
int BPF_PROG(sg_protect_path_truncate, const struct path *path, int ret)
{
	struct dentry *dentry;
	__u32 what;

	if (ret)
		return sg_keep_denial(ret);
	if (sg_is_agent())
		return 0;
	dentry = path->dentry;
	what = sg_protection(dentry->d_inode);
	if (!(what & SG_PROTECT_FILE))
		return 0;
	return sg_refuse_file(SG_PROTECT_TRUNCATE, dentry, what, 0);
}

/* ftruncate() and O_TRUNC from 6.2 (earlier kernels call path_truncate); loaded only
 * where the hook exists. */
SEC("lsm/file_truncate")
int BPF_PROG(sg_protect_file_truncate, struct file *file, int ret)
{
	__u32 what;

	if (ret)
		return sg_keep_denial(ret);
	if (sg_is_agent())
		return 0;
	what = sg_protection(file->f_inode);
	if (!(what & SG_PROTECT_FILE))
		return 0;
	return sg_refuse_file(SG_PROTECT_TRUNCATE, file->f_path.dentry, what, 0);
}

/* chmod: `chmod -x` on the binary would stop the next start. */
SEC("lsm/path_chmod")
int BPF_PROG(sg_protect_path_chmod, const struct path *path, umode_t mode, int ret)
{
	struct dentry *dentry;
	__u32 what;

	if (ret)
		return sg_keep_denial(ret);
	if (sg_is_agent())
		return 0;
	dentry = path->dentry;
	what = sg_protection(dentry->d_inode);
	if (!(what & SG_PROTECT_FILE))
		return 0;
	return sg_refuse_file(SG_PROTECT_CHMOD, dentry, what, mode);
}

/* chattr +i / +a on a log file would make the agent's own writes fail. */
SEC("lsm/file_ioctl")
int BPF_PROG(sg_protect_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	__u32 what;

	if (ret)
		return sg_keep_denial(ret);
	if (cmd != FS_IOC_SETFLAGS && cmd != FS_IOC_FSSETXATTR)
		return 0;
	if (sg_is_agent())
		return 0;
	what = sg_protection(file->f_inode);
	if (!(what & SG_PROTECT_FILE))
		return 0;
	return sg_refuse_file(SG_PROTECT_FLAGS, file->f_path.dentry, what, cmd);
}

/* Removing a name: a protected file or directory, or any entry of a protected
 * directory (the pins, the log directory). The agent's own removals (old rotated
 * logs) drop the file from the set. */
static __noinline int sg_guard_remove(struct inode *dir, struct dentry *dentry)
{
	struct inode *inode;
	__u32 what;

	if (!dentry)
		return 0;
	inode = BPF_CORE_READ(dentry, d_inode);
	if (sg_is_agent()) {
		if (inode) {
			struct sg_inode_key key;

			sg_inode_key_of(inode, &key);
			bpf_map_delete_elem(&protected_inodes, &key);
		}
		return 0;
	}
	what = sg_protection(inode);
	if (!(what & SG_PROTECT_FILE) && !(sg_protection(dir) & SG_PROTECT_DIR))
		return 0;
	return sg_refuse_file(SG_PROTECT_DELETE, dentry, what, 0);
}

SEC("lsm/inode_unlink")
int BPF_PROG(sg_protect_inode_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	return sg_guard_remove(dir, dentry) ? -EPERM : 0;
}

SEC("lsm/inode_rmdir")
int BPF_PROG(sg_protect_inode_rmdir, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	return sg_guard_remove(dir, dentry) ? -EPERM : 0;
}

/* A new name in a protected directory: a forged log file beside the real ones, or a
 * pin. Creating, mkdir, mknod, symlink and hard links all come here. */
static __noinline int sg_guard_create(struct inode *dir, struct dentry *dentry)
{
	if (!dentry || sg_is_agent() || !(sg_protection(dir) & SG_PROTECT_DIR))
		return 0;
	return sg_refuse_file(SG_PROTECT_CREATE, dentry, SG_PROTECT_DIR, 0);
}

#define CREATE_HOOK(hook, ...)                                                           \
	SEC("lsm/" #hook)                                                                \
	int BPF_PROG(sg_protect_##hook, ##__VA_ARGS__, int ret)                           \
	{                                                                                \
		if (ret)                                                                 \
			return sg_keep_denial(ret);                                      \
		return sg_guard_create(dir, dentry) ? -EPERM : 0;                        \
	}

CREATE_HOOK(inode_create, struct inode *dir, struct dentry *dentry, umode_t mode)
CREATE_HOOK(inode_mkdir, struct inode *dir, struct dentry *dentry, umode_t mode)
CREATE_HOOK(inode_mknod, struct inode *dir, struct dentry *dentry, umode_t mode, dev_t dev)
CREATE_HOOK(inode_symlink, struct inode *dir, struct dentry *dentry, const char *old_name)
CREATE_HOOK(inode_link, struct dentry *old_dentry, struct inode *dir, struct dentry *dentry)

/* Renaming a protected file or directory away, renaming anything over one (mv over
 * the binary: dpkg's way of replacing it), or moving entries into or out of a
 * protected directory. */
static __noinline int sg_guard_rename(struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
				      struct dentry *new_dentry)
{
	struct inode *old_inode, *new_inode;
	__u32 what;

	if (!old_dentry || !new_dentry || sg_is_agent())
		return 0;
	old_inode = BPF_CORE_READ(old_dentry, d_inode);
	new_inode = BPF_CORE_READ(new_dentry, d_inode);
	what = sg_protection(old_inode);
	if (what & SG_PROTECT_FILE)
		return sg_refuse_file(SG_PROTECT_RENAME, old_dentry, what, 0);
	what = sg_protection(new_inode);
	if (what & SG_PROTECT_FILE)
		return sg_refuse_file(SG_PROTECT_RENAME, new_dentry, what, 0);
	if ((sg_protection(old_dir) & SG_PROTECT_DIR) || (sg_protection(new_dir) & SG_PROTECT_DIR))
		return sg_refuse_file(SG_PROTECT_RENAME, old_dentry, SG_PROTECT_DIR, 0);
	return 0;
}

SEC("lsm/inode_rename")
int BPF_PROG(sg_protect_inode_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	return sg_guard_rename(old_dir, old_dentry, new_dir, new_dentry) ? -EPERM : 0;
}

/* A mount that the agent cannot see: made in another mount namespace than the agent's,
 * on a mount that is not shared, so that it propagates to no other namespace (private
 * or slave). systemd sets up each sandboxed command of a unit (ExecReload= of the
 * agent's own) in such a namespace by bind-mounting its writable paths, the agent's
 * log directory and pins among them, over themselves. A mount in the agent's
 * namespace, or on a shared mount, is judged. */
static __always_inline int sg_mount_unseen(const struct path *path)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	int flags = BPF_CORE_READ(path, mnt, mnt_flags);

	if (!sg_agent_mntns || !ns || ns == sg_agent_mntns)
		return 0;
	return !(flags & MNT_SHARED);
}

/* Mounting over a protected file or directory (a bind mount over the config would
 * hand a reload another file). */
SEC("lsm/sb_mount")
int BPF_PROG(sg_protect_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	struct dentry *dentry;
	__u32 what;

	if (ret)
		return sg_keep_denial(ret);
	if (sg_is_agent() || sg_mount_unseen(path))
		return 0;
	dentry = path->dentry;
	what = sg_protection(dentry->d_inode);
	if (!(what & SG_PROTECT_FILE))
		return 0;
	return sg_refuse_file(SG_PROTECT_MOUNT, dentry, what, 0);
}

SEC("lsm/move_mount")
int BPF_PROG(sg_protect_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	struct dentry *dentry;
	__u32 what;

	if (ret)
		return sg_keep_denial(ret);
	if (sg_is_agent() || sg_mount_unseen(to_path))
		return 0;
	dentry = to_path->dentry;
	what = sg_protection(dentry->d_inode);
	if (!(what & SG_PROTECT_FILE))
		return 0;
	return sg_refuse_file(SG_PROTECT_MOUNT, dentry, what, 0);
}
