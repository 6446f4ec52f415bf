// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The file module's LSM hooks (part of bpf/file.bpf.c, after judge.h): which ops
 * each operation is, on which paths; each hook calls check().
 */
/*
 * Audit-only, for kernels without BPF LSM (the degraded mode of SPEC 2): the same
 * judgement in fentry programs on the security_*() functions that call the LSM
 * hooks. They cannot refuse; the agent loads them instead of the LSM programs,
 * with sg_block = 0, so that what block mode would deny is a MONITOR record.
 * Their prototypes are the functions', which match the hooks' except mmap_file.
 * DIR_HOOK and PATH_HOOK define both programs; the other twins follow the LSM
 * programs.
 */

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

static int check_real(struct file *file, __u64 real, __u32 ops); /* file/overlay.h */

/* Before 6.8 an overlay's real file is opened with the overlay's path (its
 * f_inode is not its path's): that open is judged on the real file too, here
 * rather than in a second program on the hook, whose trampoline would cost
 * every open. */
SEC("lsm/file_open")
int BPF_PROG(sg_file_open, struct file *file, int ret)
{
	__u32 ops;

	if (ret)
		return sg_keep_denial(ret);
	ops = open_ops(file);
	if (check_inline(file->f_path.mnt, file->f_path.dentry, ops, 0, 0, 1))
		return -EPERM;
	if (sg_overlay_fake_path && file->f_inode != file->f_path.dentry->d_inode)
		VERDICT(check_real(file, sg_overlay_real(file), ops));
	return 0;
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
