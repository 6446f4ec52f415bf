// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The file module's degraded mode (part of bpf/file.bpf.c, after hooks.h): the
 * fentry twins of the LSM programs, audit-only.
 */
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
