// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detect module: built-in detections of intrusion techniques, judged in the
 * LSM hook where the technique happens, so that the response (EPERM, or SIGKILL
 * to the task) lands before the technique's next step. Which detections run
 * and how each responds are load-time switches set by src/detect/mod.rs; the
 * agent fills the exclusions (by executable identity, task name and uid) and
 * the names of shells and interpreters.
 */
#include "common.bpf.h"
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SIGKILL 9
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IWOTH 00002
#define AF_INET 2
#define AF_INET6 10
#define PTRACE_MODE_ATTACH 0x02
#define BPF_PROG_LOAD_CMD 5
#define __FMODE_EXEC 0x20 /* in f_flags */

/* Load-time switches (rodata), set by src/detect/mod.rs. */
const volatile __u32 sg_detections = 0;             /* mask of 1 << enum sg_detection */
const volatile __u32 sg_response[SG_DET_COUNT] = {}; /* enum sg_response; all ALERT in monitor mode */
/* The exclusions (bpf/safeguard.h): the entries with a command selector, with
 * a uid selector, and those covering each detection. */
const volatile __u64 sg_exclude_need_command = 0;
const volatile __u64 sg_exclude_need_uid = 0;
const volatile __u64 sg_exclude_detection[SG_DET_COUNT] = {};
const volatile __u32 sg_agent_tgid = 0; /* bpf_load: the agent's own loads are not detections */
/* The bit of every watched inode number (sg_watches): an open whose file and
 * directory have none is no detection's, found without a lookup. */
const volatile __u64 sg_watch_filter[SG_WATCH_FILTER_WORDS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} sg_detect_uids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct sg_command_key);
	__type(value, __u64);
} sg_detect_commands SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct sg_interp_key);
	__type(value, __u32);
} sg_interpreters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_detect_event);
} detect_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sg_inode_key);
	__type(value, __u32);
} sg_watches SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sg_watch_name);
	__type(value, __u32);
} sg_watch_names SEC(".maps");

static __always_inline int enabled(__u32 det)
{
	return sg_detections & (1U << det);
}

/* Does an `exclude` entry cover this task for `det`? One whose every selector
 * matches: masks, no loop over the entries. */
__noinline int sg_detect_excluded(__u32 det)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_command_key key = {};
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	__u64 entries = 0, commands = 0, uids = 0, *mask;

	if (det < SG_DET_COUNT)
		entries = sg_exclude_detection[det];
	if (!entries)
		return 0;
	if (exe) {
		key.ino = BPF_CORE_READ(exe, f_inode, i_ino);
		key.dev = BPF_CORE_READ(exe, f_inode, i_sb, s_dev);
		mask = bpf_map_lookup_elem(&sg_detect_commands, &key);
		if (mask)
			commands |= *mask;
	}
	key.ino = 0;
	key.dev = 0;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	mask = bpf_map_lookup_elem(&sg_detect_commands, &key);
	if (mask)
		commands |= *mask;
	mask = bpf_map_lookup_elem(&sg_detect_uids, &uid);
	if (mask)
		uids = *mask;
	entries &= ~sg_exclude_need_command | commands;
	entries &= ~sg_exclude_need_uid | uids;
	return entries != 0;
}

/* A record for `det` about the current task, or 0 when the detection is off
 * or an exclusion covers the task. */
static __always_inline struct sg_detect_event *detection(__u32 det)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_detect_event *ev;
	__u32 zero = 0;

	if (!enabled(det) || !sg_in_target(task) || sg_detect_excluded(det))
		return 0;
	ev = bpf_map_lookup_elem(&detect_scratch, &zero);
	if (!ev)
		return 0;
	ev->hdr.kind = SG_KIND_DETECT;
	ev->hdr.op = SG_OP_DETECT_FIRST + det;
	ev->hdr.action = SG_ACTION_ALERT;
	ev->hdr.rule_id = SG_RULE_NONE;
	ev->hdr.flags = 0;
	sg_fill_subject(&ev->hdr, task);
	ev->detection = det;
	ev->target_pid = 0;
	ev->arg = 0;
	ev->port = 0;
	ev->family = 0;
	ev->path_len = 0;
	ev->source[0] = 0;
	__builtin_memset(ev->addr, 0, sizeof(ev->addr));
	__builtin_memset(ev->target_comm, 0, sizeof(ev->target_comm));
	__builtin_memset(ev->name, 0, sizeof(ev->name));
	return ev;
}

/*
 * The heavy parts (path walks) are global functions: the verifier checks each
 * once, not once per call site, which took several minutes under TCG. Global
 * functions take only scalars (5.10), so they work on the per-CPU record.
 */
static __always_inline struct sg_detect_event *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&detect_scratch, &zero);
}

enum exe_of { EXE_TASK, EXE_PARENT, EXE_GRANDPARENT };

/* The executable of the current task, its parent or its grandparent into the
 * record. */
__noinline int sg_detect_exe(__u32 whose)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_detect_event *ev = scratch();
	struct sg_pathbuf *pb = sg_pathbuf();
	struct sg_resolved resolved;
	struct file *exe;

	if (!ev || !pb)
		return 0;
	if (whose != EXE_TASK)
		task = BPF_CORE_READ(task, real_parent);
	if (whose == EXE_GRANDPARENT)
		task = BPF_CORE_READ(task, real_parent);
	exe = BPF_CORE_READ(task, mm, exe_file);
	if (!exe)
		return 0;
	sg_resolve(&exe->f_path, pb, &resolved);
	if (whose == EXE_TASK)
		ev->exe_len = sg_copy_path(ev->exe, pb, &resolved);
	else if (whose == EXE_PARENT)
		ev->parent_exe_len = sg_copy_path(ev->parent_exe, pb, &resolved);
	else
		ev->grandparent_exe_len = sg_copy_path(ev->grandparent_exe, pb, &resolved);
	return 0;
}

/* The path of `file` (a struct file *) into the record's evidence. */
__noinline int sg_detect_path(__u64 file)
{
	struct sg_detect_event *ev = scratch();
	struct sg_pathbuf *pb = sg_pathbuf();
	struct sg_resolved resolved;
	struct file *f = (struct file *)file;

	if (!ev || !pb || !f)
		return 0;
	sg_resolve(&f->f_path, pb, &resolved);
	if (resolved.top == SG_TOP_INTERNAL) {
		/* A memfd has no path: its name ("memfd:NAME") is the evidence. */
		long n = bpf_probe_read_kernel_str(ev->path, SG_NAME_LEN,
						   BPF_CORE_READ(f, f_path.dentry, d_name.name));

		ev->path_len = n > 0 ? n - 1 : 0;
		return 0;
	}
	ev->hdr.flags |= resolved.flags;
	ev->path_len = sg_copy_path(ev->path, pb, &resolved);
	return 0;
}

/* Emits the record with the subject's ancestry and applies the detection's
 * response: 1 where the hook is to refuse (block or kill). A hook that cannot
 * refuse (`no_refusal`) kills where the response is block. */
__noinline int sg_detect_respond(__u32 no_refusal)
{
	struct sg_detect_event *ev = scratch();
	__u32 response = SG_RESPONSE_ALERT;
	__u32 det, size;

	if (!ev)
		return 0;
	det = ev->detection;
	if (det < SG_DET_COUNT)
		response = sg_response[det];
	if (no_refusal && response == SG_RESPONSE_BLOCK)
		response = SG_RESPONSE_KILL;
	/* Decided before anything is emitted: a full ring buffer changes nothing. */
	if (response == SG_RESPONSE_KILL) {
		bpf_send_signal(SIGKILL);
		ev->hdr.action = SG_ACTION_KILLED;
	} else if (response == SG_RESPONSE_BLOCK) {
		ev->hdr.action = SG_ACTION_BLOCKED;
	}
	ev->exe_len = 0;
	ev->parent_exe_len = 0;
	ev->grandparent_exe_len = 0;
	sg_detect_exe(EXE_TASK);
	sg_detect_exe(EXE_PARENT);
	sg_detect_exe(EXE_GRANDPARENT);
	ev = scratch();
	if (!ev)
		return response != SG_RESPONSE_ALERT;
	size = offsetof(struct sg_detect_event, path) + (ev->path_len & (SG_PATH_LEN - 1));
	sg_emit(ev, size);
	return response != SG_RESPONSE_ALERT;
}

static __always_inline void set_path(struct sg_detect_event *ev, struct file *file)
{
	__u64 addr = 0;

	/* A hook's own argument is a typed pointer, which a global function
	 * does not take: its value as a plain number. */
	bpf_probe_read_kernel(&addr, sizeof(addr), &file);
	sg_detect_path(addr);
}

static __always_inline int respond(struct sg_detect_event *ev)
{
	return sg_detect_respond(0) != 0;
}

/* VERDICT of a flag several checks set: hidden from the compiler, which would
 * otherwise return its negation (-EPERM * refuse), and the verifier loses the
 * range of a negated register ("R0 has unknown scalar value"). */
#define VERDICT_OF(refuse)            \
	do {                          \
		int __r = (refuse);   \
		barrier_var(__r);     \
		VERDICT(__r);         \
	} while (0)

/* ---- exec: fileless_exec, exec_from_writable, reverse_shell */

/* The first of stdin, stdout and stderr that is an IPv4 or IPv6 socket, with
 * its peer in the record: 1 if there is one. */
__noinline int sg_detect_stdio(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_detect_event *ev = scratch();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);

	if (!ev)
		return 0;
	for (__u32 i = 0; i < 3; i++) {
		struct file *file = 0;
		struct socket *sock;
		struct sock *sk;
		__u16 family;

		if (i >= max)
			break;
		bpf_probe_read_kernel(&file, sizeof(file), &fds[i]);
		if (!file)
			continue;
		if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
			continue;
		sock = BPF_CORE_READ(file, private_data);
		sk = BPF_CORE_READ(sock, sk);
		family = BPF_CORE_READ(sk, __sk_common.skc_family);
		if (family != AF_INET && family != AF_INET6)
			continue;
		ev->arg = i;
		ev->family = family;
		ev->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (family == AF_INET) {
			__u32 daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);

			ev->addr[10] = 0xff;
			ev->addr[11] = 0xff;
			__builtin_memcpy(&ev->addr[12], &daddr, 4);
		} else {
			BPF_CORE_READ_INTO(&ev->addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		}
		return 1;
	}
	return 0;
}

/* Is the file a shell or an interpreter? By its name, cut at the first digit
 * or dot (python3.11, perl5.36.0): the table is the agent's. */
__noinline int sg_detect_interpreter(__u64 dentry_addr)
{
	struct dentry *dentry = (struct dentry *)dentry_addr;
	struct sg_interp_key key = {};
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	int cut = 0;

	bpf_probe_read_kernel_str(key.name, sizeof(key.name), name);
	for (int i = 1; i < SG_COMM_LEN; i++) {
		__u8 c = key.name[i];

		if (c == '.' || (c >= '0' && c <= '9'))
			cut = 1;
		if (cut)
			key.name[i] = 0;
	}
	return bpf_map_lookup_elem(&sg_interpreters, &key) != 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(sg_detect_exec, struct linux_binprm *bprm, int ret)
{
	struct file *file;
	struct dentry *dentry;
	struct sg_detect_event *ev;
	int refuse = 0;

	if (ret)
		return sg_keep_denial(ret);
	/* For a script this runs twice, for the script and for its interpreter:
	 * bprm->file is the file checked each time. */
	file = BPF_CORE_READ(bprm, file);
	dentry = BPF_CORE_READ(file, f_path.dentry);

	/* A memfd or a deleted file: no name on any filesystem. */
	if (BPF_CORE_READ(file, f_inode, i_nlink) == 0 && (ev = detection(SG_DET_FILELESS_EXEC))) {
		set_path(ev, file);
		refuse |= respond(ev);
	}
	/* The directory's mode now, not its name: any world-writable directory.
	 * A memfd has no directory (its dentry is its own parent). */
	if (BPF_CORE_READ(dentry, d_parent) != dentry &&
	    (BPF_CORE_READ(dentry, d_parent, d_inode, i_mode) & S_IWOTH) &&
	    (ev = detection(SG_DET_EXEC_FROM_WRITABLE))) {
		set_path(ev, file);
		ev->arg = BPF_CORE_READ(dentry, d_parent, d_inode, i_mode) & 07777;
		refuse |= respond(ev);
	}
	if (enabled(SG_DET_REVERSE_SHELL) && sg_detect_interpreter((__u64)dentry) && (ev = detection(SG_DET_REVERSE_SHELL))) {
		if (sg_detect_stdio()) {
			set_path(ev, file);
			refuse |= respond(ev);
		}
	}
	VERDICT(refuse);
}

/* ---- container_escape (T1611): from a task in a container (sg_is_container:
 * a pid namespace other than the agent's, made by a privileged process), the
 * ways out to the host: the kernel's usermode helpers written (core_pattern,
 * modprobe, uevent_helper, a cgroup v1 release_agent), host devices mounted or
 * /proc/sys made writable, a process outside the container reached through
 * /proc (/proc/1/root, the ns files of /proc/PID for setns), modules loaded. */
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define CGROUP_SUPER_MAGIC 0x27e0eb
#define PTRACE_MODE_NOAUDIT 0x04
#define MS_RDONLY 1
#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_MOVE 8192
#define MS_PROPAGATION ((1 << 17) | (1 << 18) | (1 << 19) | (1 << 20)) /* unbindable, private, slave, shared */

__noinline int sg_detect_name(__u64 mnt, __u64 dentry);

/* The cheap first test for the hot paths: a task in the agent's own pid
 * namespace is on the host (sg_is_container says so without its walk). */
static __always_inline int maybe_container(void)
{
	if (!enabled(SG_DET_CONTAINER_ESCAPE))
		return 0;
	return sg_pidns_inum((struct task_struct *)bpf_get_current_task()) != sg_agent_pidns;
}

/* The full test, once something was seen: a global function (its walk of the
 * pid namespaces is verified once). */
__noinline int sg_detect_in_container(void)
{
	return sg_is_container((struct task_struct *)bpf_get_current_task());
}

/* `have` (NUL-terminated, at least n bytes) equals `want` for n bytes. */
static __always_inline int same(const char *have, const char *want, int n)
{
	for (int i = 0; i < n; i++)
		if (have[i] != want[i])
			return 0;
	return 1;
}

/* A container_escape record (via: enum sg_escape_via) for the current task,
 * or 0 where it is no container's or the detection does not apply. */
static __always_inline struct sg_detect_event *escape(__u32 via)
{
	struct sg_detect_event *ev;

	if (!sg_detect_in_container())
		return 0;
	ev = detection(SG_DET_CONTAINER_ESCAPE);
	if (ev)
		ev->arg = via;
	return ev;
}

/* A file opened for writing: a usermode helper's setting? 1 to refuse, 0 for
 * an alert, -1 for nothing. Only procfs, sysfs and cgroup v1 files get past
 * the first test. */
__noinline int sg_detect_escape_file(__u64 file_addr)
{
	struct file *file = (struct file *)file_addr;
	struct sg_detect_event *ev;
	struct dentry *dentry;
	char name[16] = {}, parent[8] = {};
	unsigned long magic;
	__u32 via = 0;

	if (!file)
		return -1;
	magic = BPF_CORE_READ(file, f_inode, i_sb, s_magic);
	if (magic != PROC_SUPER_MAGIC && magic != SYSFS_MAGIC && magic != CGROUP_SUPER_MAGIC)
		return -1;
	dentry = BPF_CORE_READ(file, f_path.dentry);
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(dentry, d_name.name));
	bpf_probe_read_kernel_str(parent, sizeof(parent), BPF_CORE_READ(dentry, d_parent, d_name.name));
	if (magic == CGROUP_SUPER_MAGIC) {
		if (same(name, "release_agent", 14))
			via = SG_ESCAPE_RELEASE_AGENT;
	} else if (same(parent, "kernel", 7)) {
		if (magic == PROC_SUPER_MAGIC && same(name, "core_pattern", 13))
			via = SG_ESCAPE_CORE_PATTERN;
		else if (magic == PROC_SUPER_MAGIC && same(name, "modprobe", 9))
			via = SG_ESCAPE_MODPROBE;
		else if (magic == SYSFS_MAGIC && same(name, "uevent_helper", 14))
			via = SG_ESCAPE_UEVENT_HELPER;
	}
	if (!via)
		return -1;
	ev = escape(via);
	if (!ev)
		return -1;
	sg_detect_path(file_addr);
	return sg_detect_respond(0);
}

/* mount(2) (sb_mount; the new mount API does not pass there): a new mount of a
 * source under /dev/ (a host disk), a bind of /proc/sys or /sys onto anything
 * but procfs or sysfs (runc binds /proc/sys onto itself to make it
 * read-only), a remount of /proc/sys or a sysfs that is not read-only. */
__noinline int sg_detect_escape_mount(__u64 dev_name, __u64 type, __u64 flags, __u64 mnt, __u64 dentry_addr)
{
	struct dentry *dentry = (struct dentry *)dentry_addr;
	struct sg_detect_event *ev;
	char src[16] = {}, name[4] = {};
	unsigned long magic;
	__u32 via = 0;

	if (!dentry)
		return -1;
	magic = BPF_CORE_READ(dentry, d_sb, s_magic);
	if (dev_name)
		bpf_probe_read_kernel_str(src, sizeof(src), (void *)dev_name);
	if (flags & MS_REMOUNT) {
		bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(dentry, d_name.name));
		if (!(flags & MS_RDONLY) &&
		    (magic == SYSFS_MAGIC || (magic == PROC_SUPER_MAGIC && same(name, "sys", 4))))
			via = SG_ESCAPE_REMOUNT_SYS;
	} else if (flags & MS_BIND) {
		if (magic != PROC_SUPER_MAGIC && magic != SYSFS_MAGIC &&
		    ((same(src, "/proc/sys", 9) && (src[9] == 0 || src[9] == '/')) ||
		     (same(src, "/sys", 4) && (src[4] == 0 || src[4] == '/'))))
			via = SG_ESCAPE_BIND_SYS;
	} else if (!(flags & (MS_PROPAGATION | MS_MOVE))) {
		if (same(src, "/dev/", 5))
			via = SG_ESCAPE_MOUNT_DEVICE;
	}
	if (!via)
		return -1;
	ev = escape(via);
	if (!ev)
		return -1;
	if (dev_name)
		bpf_probe_read_kernel_str(ev->source, sizeof(ev->source), (void *)dev_name);
	if (type)
		bpf_probe_read_kernel_str(ev->name, sizeof(ev->name), (void *)type);
	sg_detect_name(mnt, dentry_addr);
	return sg_detect_respond(0);
}

/* A process reached through /proc: outside the container when the current
 * task's pid namespace does not see it (its pid has no number at our level,
 * or one in another namespace). */
__noinline int sg_detect_escape_task(__u64 child_addr, __u32 mode)
{
	struct task_struct *child = (struct task_struct *)child_addr;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct pid *mine = BPF_CORE_READ(task, thread_pid);
	struct pid *theirs = BPF_CORE_READ(child, thread_pid);
	unsigned int level = BPF_CORE_READ(mine, level) & 31;
	unsigned long size = bpf_core_type_size(struct upid), offset = bpf_core_field_offset(struct upid, ns);
	unsigned long numbers = bpf_core_field_offset(struct pid, numbers);
	struct pid_namespace *my_ns = 0, *their_ns = 0;
	struct sg_detect_event *ev;

	if (!child || !theirs)
		return -1;
	bpf_probe_read_kernel(&my_ns, sizeof(my_ns), (void *)mine + numbers + level * size + offset);
	if (BPF_CORE_READ(theirs, level) >= level) {
		bpf_probe_read_kernel(&their_ns, sizeof(their_ns), (void *)theirs + numbers + level * size + offset);
		if (their_ns == my_ns)
			return -1; /* inside the container */
	}
	ev = escape(SG_ESCAPE_HOST_PROCESS | mode << 16);
	if (!ev)
		return -1;
	ev->target_pid = BPF_CORE_READ(child, tgid);
	BPF_CORE_READ_STR_INTO(&ev->target_comm, child, comm);
	return sg_detect_respond(0);
}

/* A module loaded (finit_module: its file; init_module: 0) or requested (its
 * name) from a container. */
__noinline int sg_detect_escape_module(__u32 via, __u64 addr)
{
	struct sg_detect_event *ev = escape(via);

	if (!ev)
		return -1;
	if (via == SG_ESCAPE_MODULE_LOAD && addr)
		sg_detect_path(addr);
	else if (addr)
		bpf_probe_read_kernel_str(ev->source, sizeof(ev->source), (void *)addr);
	return sg_detect_respond(0);
}

SEC("lsm/sb_mount")
int BPF_PROG(sg_detect_mount, const char *dev_name, const struct path *path, const char *type, unsigned long flags,
	     void *data, int ret)
{
	__u64 dev = 0, fstype = 0, mnt = 0, dentry = 0;

	if (ret)
		return sg_keep_denial(ret);
	if (!maybe_container())
		return 0;
	bpf_probe_read_kernel(&dev, sizeof(dev), &dev_name);
	bpf_probe_read_kernel(&fstype, sizeof(fstype), &type);
	bpf_probe_read_kernel(&mnt, sizeof(mnt), &path->mnt);
	bpf_probe_read_kernel(&dentry, sizeof(dentry), &path->dentry);
	VERDICT(sg_detect_escape_mount(dev, fstype, flags, mnt, dentry) > 0);
}

/* ---- ptrace_inject: ptrace attach (and so poke), process_vm_readv/writev,
 * opening /proc/PID/mem: each asks for PTRACE_MODE_ATTACH on another process. */
SEC("lsm/ptrace_access_check")
int BPF_PROG(sg_detect_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	struct sg_detect_event *ev;
	__u64 addr = 0;
	int refuse = 0;

	if (ret)
		return sg_keep_denial(ret);
	/* container_escape: a process outside the container reached through /proc
	 * (its root, cwd, fd, ns files, memory). The NOAUDIT checks only decide
	 * what /proc shows (ps reading stat). */
	if (maybe_container() && !(mode & PTRACE_MODE_NOAUDIT)) {
		bpf_probe_read_kernel(&addr, sizeof(addr), &child);
		refuse = sg_detect_escape_task(addr, mode) > 0;
	}
	if (!(mode & PTRACE_MODE_ATTACH))
		VERDICT_OF(refuse);
	if (BPF_CORE_READ(child, tgid) == (__u32)(bpf_get_current_pid_tgid() >> 32))
		VERDICT_OF(refuse); /* its own memory */
	ev = detection(SG_DET_PTRACE_INJECT);
	if (!ev)
		VERDICT_OF(refuse);
	ev->target_pid = BPF_CORE_READ(child, tgid);
	ev->arg = mode;
	BPF_CORE_READ_STR_INTO(&ev->target_comm, child, comm);
	refuse |= respond(ev);
	VERDICT_OF(refuse);
}

/* ---- module_load: finit_module reads the module file... */
SEC("lsm/kernel_read_file")
int BPF_PROG(sg_detect_module_file, struct file *file, enum kernel_read_file_id id, bool contents, int ret)
{
	struct sg_detect_event *ev;
	__u64 addr = 0;
	int refuse = 0;

	if (ret)
		return sg_keep_denial(ret);
	if (id != bpf_core_enum_value(enum kernel_read_file_id, READING_MODULE))
		return 0;
	if (maybe_container()) {
		bpf_probe_read_kernel(&addr, sizeof(addr), &file);
		refuse = sg_detect_escape_module(SG_ESCAPE_MODULE_LOAD, addr) > 0;
	}
	ev = detection(SG_DET_MODULE_LOAD);
	if (!ev)
		VERDICT_OF(refuse);
	set_path(ev, file);
	refuse |= respond(ev);
	VERDICT_OF(refuse);
}

/* ...init_module hands it over as a buffer. */
SEC("lsm/kernel_load_data")
int BPF_PROG(sg_detect_module_data, enum kernel_load_data_id id, bool contents, int ret)
{
	struct sg_detect_event *ev;
	int refuse = 0;

	if (ret)
		return sg_keep_denial(ret);
	if (id != bpf_core_enum_value(enum kernel_load_data_id, LOADING_MODULE))
		return 0;
	if (maybe_container())
		refuse = sg_detect_escape_module(SG_ESCAPE_MODULE_LOAD, 0) > 0;
	ev = detection(SG_DET_MODULE_LOAD);
	if (!ev)
		VERDICT_OF(refuse);
	refuse |= respond(ev);
	VERDICT_OF(refuse);
}

/* container_escape: a module the kernel is asked to load for a container's
 * task (a socket family, a filesystem type, a line discipline): the host's
 * modules are the container's attack surface. Not module_load's: the kernel
 * runs modprobe. */
SEC("lsm/kernel_module_request")
int BPF_PROG(sg_detect_module_request, char *kmod_name, int ret)
{
	__u64 addr = 0;

	if (ret)
		return sg_keep_denial(ret);
	if (!maybe_container())
		return 0;
	bpf_probe_read_kernel(&addr, sizeof(addr), &kmod_name);
	VERDICT(sg_detect_escape_module(SG_ESCAPE_MODULE_REQUEST, addr) > 0);
}

/* ---- bpf_load: a BPF program loaded by anything but this agent. */
SEC("lsm/bpf")
int BPF_PROG(sg_detect_bpf, int cmd, union bpf_attr *attr)
{
	struct sg_detect_event *ev;

	/* No `ret`: 6.9 added an argument, so its position moves (an earlier
	 * program's denial stands anyway: the kernel stops at the first). */
	if (cmd != BPF_PROG_LOAD_CMD)
		return 0;
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) == sg_agent_tgid)
		return 0;
	ev = detection(SG_DET_BPF_LOAD);
	if (!ev)
		return 0;
	ev->arg = BPF_CORE_READ(attr, prog_type);
	bpf_probe_read_kernel(ev->name, sizeof(ev->name), &attr->prog_name);
	VERDICT(respond(ev));
}

/* ---- userns_create (6.7 and later): a user namespace made by a task that is
 * not root (root's are container runtimes'). */
SEC("lsm/userns_create")
int BPF_PROG(sg_detect_userns, const struct cred *cred, int ret)
{
	struct sg_detect_event *ev;

	if (ret)
		return sg_keep_denial(ret);
	if (BPF_CORE_READ(cred, euid.val) == 0)
		return 0;
	ev = detection(SG_DET_USERNS_CREATE);
	if (!ev)
		return 0;
	VERDICT(respond(ev));
}

/* ---- credential_access, account_tamper, persistence, log_tamper: the files
 * of the agent's table (sg_watches), by identity: a hard link or a bind mount
 * is the same inode, and a new name is judged by its directory's identity. */
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2

/* May the inode number be a key of sg_watches? No means surely not (the
 * filter's bit is clear). In rodata: one load, no lookup. */
static __always_inline int maybe_watched(__u64 ino)
{
	return (sg_watch_filter[(ino / 64) % SG_WATCH_FILTER_WORDS] >> (ino % 64)) & 1;
}

/* What the name means: the file's own entry (when it exists) and its
 * directory's. A global function: verified once for every hook. */
__noinline __u32 sg_detect_watch(__u64 dentry_addr)
{
	struct dentry *dentry = (struct dentry *)dentry_addr;
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	struct sg_inode_key key = {};
	__u32 *bits, out = 0;

	if (!dentry)
		return 0;
	if (inode) {
		key.ino = BPF_CORE_READ(inode, i_ino);
		if (maybe_watched(key.ino)) {
			key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
			bits = bpf_map_lookup_elem(&sg_watches, &key);
			if (bits && !(*bits & SG_WATCH_DIR))
				out |= *bits;
		}
	}
	inode = BPF_CORE_READ(dentry, d_parent, d_inode);
	if (!inode)
		return out;
	key.ino = BPF_CORE_READ(inode, i_ino);
	if (!maybe_watched(key.ino))
		return out;
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	bits = bpf_map_lookup_elem(&sg_watches, &key);
	if (!bits)
		return out;
	if (*bits & SG_WATCH_DIR)
		out |= *bits & ~(SG_WATCH_DIR | SG_WATCH_NAMES);
	if (*bits & SG_WATCH_NAMES) {
		struct sg_watch_name name = {};

		name.ino = key.ino;
		name.dev = key.dev;
		bpf_probe_read_kernel_str(name.name, sizeof(name.name), BPF_CORE_READ(dentry, d_name.name));
		bits = bpf_map_lookup_elem(&sg_watch_names, &name);
		if (bits)
			out |= *bits;
	}
	return out;
}

#define WATCH_READ 1
#define WATCH_WRITE 2  /* the name gets content: written, created, renamed or linked to */
#define WATCH_REMOVE 4 /* the content goes: truncated, deleted, renamed away or over */

/* The detection that touching (`how`) a name with these watch bits is, or -1. */
static __always_inline int watch_detection(__u32 bits, __u32 how)
{
	if ((how & WATCH_WRITE) && (bits & SG_WATCH_WRITE_ACCOUNT))
		return SG_DET_ACCOUNT_TAMPER;
	if ((how & WATCH_WRITE) && (bits & SG_WATCH_WRITE_PERSIST))
		return SG_DET_PERSISTENCE;
	if (((how & WATCH_REMOVE) && (bits & (SG_WATCH_LOG | SG_WATCH_LOGIN_RECORD))) ||
	    ((how & WATCH_WRITE) && (bits & SG_WATCH_LOGIN_RECORD)))
		return SG_DET_LOG_TAMPER;
	if ((how & WATCH_READ) && (bits & SG_WATCH_READ_CREDENTIAL))
		return SG_DET_CREDENTIAL_ACCESS;
	return -1;
}

/* The path of a name (its directory's mount and its dentry) into the record. */
__noinline int sg_detect_name(__u64 mnt, __u64 dentry)
{
	struct sg_detect_event *ev = scratch();
	struct sg_pathbuf *pb = sg_pathbuf();
	struct sg_resolved resolved;
	struct path path = {};

	if (!ev || !pb)
		return 0;
	path.mnt = (struct vfsmount *)mnt;
	path.dentry = (struct dentry *)dentry;
	sg_resolve(&path, pb, &resolved);
	ev->hdr.flags |= resolved.flags;
	ev->path_len = sg_copy_path(ev->path, pb, &resolved);
	return 0;
}

/* watch_check's part past the filter: apart (a call) so that the pointers'
 * spills for the probe reads stay off the path of every other open. */
static __noinline int watch_hit(struct vfsmount *mnt, struct dentry *dentry, __u32 how, __u32 access)
{
	struct sg_detect_event *ev;
	__u64 m = 0, d = 0;
	__u32 bits;
	int det;

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) == sg_agent_tgid)
		return -1; /* its own logs, and the inventory's reads */
	/* Hook arguments are typed pointers, which global functions do not take. */
	bpf_probe_read_kernel(&d, sizeof(d), &dentry);
	bpf_probe_read_kernel(&m, sizeof(m), &mnt);
	bits = sg_detect_watch(d);
	if (!bits)
		return -1;
	det = watch_detection(bits, how);
	if (det < 0)
		return -1;
	ev = detection(det);
	if (!ev)
		return -1;
	ev->arg = access;
	sg_detect_name(m, d);
	return respond(ev);
}

/* Judges touching (`how`) the name (mnt, dentry), recorded as `access` (enum
 * sg_watch_access): 1 where the hook is to refuse, 0 for an alert, -1 where
 * nothing was detected. */
static __always_inline int watch_check(struct vfsmount *mnt, struct dentry *dentry, __u32 how, __u32 access)
{
	struct inode *inode, *dir;
	struct dentry *parent;

	/* Every open comes here: first the filter, through BTF pointers (a load
	 * each), for the file and its directory, which rules out nearly every
	 * name; the probe reads past it cost about a hundred instructions each
	 * (bench-detect: 850 per open when they came first). No load through a
	 * null pointer: 5.10 crashes searching the exception table. */
	if (!dentry)
		return -1;
	inode = dentry->d_inode;
	parent = dentry->d_parent;
	dir = parent ? parent->d_inode : 0;
	if (!(inode && maybe_watched(inode->i_ino)) && !(dir && maybe_watched(dir->i_ino)))
		return -1;
	return watch_hit(mnt, dentry, how, access);
}

SEC("lsm/file_open")
int BPF_PROG(sg_detect_open, struct file *file, int ret)
{
	__u32 mode;

	if (ret)
		return sg_keep_denial(ret);
	mode = file->f_mode;
	if (file->f_flags & __FMODE_EXEC)
		return 0; /* exec is the exec hook's */
	/* Truncation at open is the truncate hooks'. */
	if (mode & FMODE_WRITE) {
		struct inode *inode = file->f_inode;
		unsigned long magic = inode ? inode->i_sb->s_magic : 0;
		__u64 addr = 0;
		int refuse = 0;

		/* The helpers' files first (BTF loads), the pid namespace's probe
		 * reads only then: every write open passes here. */
		if ((magic == PROC_SUPER_MAGIC || magic == SYSFS_MAGIC || magic == CGROUP_SUPER_MAGIC) &&
		    maybe_container()) {
			bpf_probe_read_kernel(&addr, sizeof(addr), &file);
			refuse = sg_detect_escape_file(addr) > 0;
		}
		if (watch_check(file->f_path.mnt, file->f_path.dentry, WATCH_WRITE, SG_ACCESS_WRITE) > 0)
			refuse = 1;
		VERDICT_OF(refuse);
	}
	VERDICT(watch_check(file->f_path.mnt, file->f_path.dentry, WATCH_READ, SG_ACCESS_READ) > 0);
}

/* truncate(2) everywhere; before 6.2 also ftruncate and O_TRUNC. */
SEC("lsm/path_truncate")
int BPF_PROG(sg_detect_path_truncate, const struct path *path, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(watch_check(path->mnt, path->dentry, WATCH_REMOVE, SG_ACCESS_TRUNCATE) > 0);
}

/* ftruncate and O_TRUNC from 6.2; loaded only where the hook exists. */
SEC("lsm/file_truncate")
int BPF_PROG(sg_detect_file_truncate, struct file *file, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(watch_check(file->f_path.mnt, file->f_path.dentry, WATCH_REMOVE, SG_ACCESS_TRUNCATE) > 0);
}

SEC("lsm/path_unlink")
int BPF_PROG(sg_detect_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(watch_check(dir->mnt, dentry, WATCH_REMOVE, SG_ACCESS_DELETE) > 0);
}

/* A hard link made in a watched directory (a crontab or sudoers drop-in under a
 * name the agent never saw). */
SEC("lsm/path_link")
int BPF_PROG(sg_detect_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry,
	     int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(watch_check(new_dir->mnt, new_dentry, WATCH_WRITE, SG_ACCESS_LINK) > 0);
}

/* Both names of a rename: a watched file renamed away or over, a name moved into
 * or out of a watched directory. An exchange needs nothing more (both sides are
 * judged either way), so the flags argument (5.19) is not read. */
SEC("lsm/path_rename")
int BPF_PROG(sg_detect_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry)
{
	/* The new name gets content, and loses its own where it exists. */
	__u32 how = BPF_CORE_READ(new_dentry, d_inode) ? WATCH_WRITE | WATCH_REMOVE : WATCH_WRITE;
	int seen;

	/* No `ret`: 5.19 added an argument before it (as in the file module). One
	 * record per rename: the new name's, else the old one's. */
	seen = watch_check(new_dir->mnt, new_dentry, how, SG_ACCESS_RENAME);
	if (seen < 0)
		seen = watch_check(old_dir->mnt, old_dentry, WATCH_REMOVE, SG_ACCESS_RENAME);
	VERDICT(seen > 0);
}

/* ---- privilege_escalation: a task with no root id (real, effective, saved all
 * non-zero) gets one. The kernel's own ways there leave a mark first: the
 * setuid family (task_fix_setuid, after its capability check) and exec of a
 * setuid file (bprm_committing_creds) each mark the cred they are about to
 * commit; commit_creds of an unmarked cred is what an exploit does
 * (commit_creds(prepare_kernel_cred(0))). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);   /* thread id */
	__type(value, __u64); /* the cred about to be committed */
} sg_cred_marks SEC(".maps");

static __always_inline int no_root_id(const struct cred *cred)
{
	return BPF_CORE_READ(cred, uid.val) && BPF_CORE_READ(cred, euid.val) && BPF_CORE_READ(cred, suid.val);
}

static __always_inline int any_root_id(const struct cred *cred)
{
	return !BPF_CORE_READ(cred, uid.val) || !BPF_CORE_READ(cred, euid.val) || !BPF_CORE_READ(cred, suid.val) ||
	       !BPF_CORE_READ(cred, fsuid.val);
}

static __always_inline void mark_cred(const struct cred *cred)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 value = 0;

	bpf_probe_read_kernel(&value, sizeof(value), &cred);
	bpf_map_update_elem(&sg_cred_marks, &tid, &value, BPF_ANY);
}

/* setuid(0), setreuid, setresuid, setfsuid by a task that holds CAP_SETUID
 * without any root id: a leaked or file capability used to become root. The
 * hook can refuse. */
SEC("lsm/task_fix_setuid")
int BPF_PROG(sg_detect_setuid, struct cred *new, const struct cred *old, int flags, int ret)
{
	struct sg_detect_event *ev;

	if (ret)
		return sg_keep_denial(ret);
	mark_cred(new);
	if (!no_root_id(old) || !any_root_id(new))
		return 0;
	ev = detection(SG_DET_PRIVILEGE_ESCALATION);
	if (!ev)
		return 0;
	ev->arg = flags; /* LSM_SETID_ID, _RE, _RES, _FS */
	ev->target_pid = BPF_CORE_READ(old, uid.val);
	VERDICT(respond(ev));
}

SEC("lsm/bprm_committing_creds")
int BPF_PROG(sg_detect_exec_creds, struct linux_binprm *bprm)
{
	mark_cred(BPF_CORE_READ(bprm, cred));
	return 0;
}

/* Permitted capabilities in `new` that `old` lacks, in the same user namespace
 * (a new one gives every capability inside it: unshare, setns). kernel_cap_t is
 * two __u32 before 6.3 and one __u64 after: the same 8 bytes either way. */
static __always_inline int gains_caps(const struct cred *new, const struct cred *old)
{
	__u64 new_caps = 0, old_caps = 0;

	if (BPF_CORE_READ(new, user_ns) != BPF_CORE_READ(old, user_ns))
		return 0;
	bpf_core_read(&new_caps, sizeof(new_caps), &new->cap_permitted);
	bpf_core_read(&old_caps, sizeof(old_caps), &old->cap_permitted);
	return (new_caps & ~old_caps) != 0;
}

#define PF_KTHREAD 0x00200000
#define VIA_COMMIT_ROOT 0x100 /* commit_creds: a root id */
#define VIA_COMMIT_CAPS 0x200 /* commit_creds: capabilities */

/* The commit itself: a root id, or permitted capabilities, that neither way
 * marked (capset and prctl only shrink the permitted set). fentry cannot
 * refuse, so `block` and `kill` both kill (the escalation has happened). */
SEC("fentry/commit_creds")
int BPF_PROG(sg_detect_commit_creds, struct cred *new)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct cred *old = BPF_CORE_READ(task, real_cred);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sg_detect_event *ev;
	__u64 *mark, value = 0;
	__u32 via;

	bpf_probe_read_kernel(&value, sizeof(value), &new);
	mark = bpf_map_lookup_elem(&sg_cred_marks, &tid);
	if (mark && *mark == value) {
		bpf_map_delete_elem(&sg_cred_marks, &tid);
		return 0;
	}
	if (!old || (BPF_CORE_READ(task, flags) & PF_KTHREAD))
		return 0;
	if (no_root_id(old) && any_root_id(new))
		via = VIA_COMMIT_ROOT;
	else if (gains_caps(new, old))
		via = VIA_COMMIT_CAPS;
	else
		return 0;
	ev = detection(SG_DET_PRIVILEGE_ESCALATION);
	if (!ev)
		return 0;
	ev->arg = via;
	ev->target_pid = BPF_CORE_READ(old, uid.val);
	sg_detect_respond(1);
	return 0;
}
