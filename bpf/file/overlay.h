// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The real file behind an overlayfs file (part of bpf/file.bpf.c, included
 * last so that the code of everything before is unchanged). Before 6.8 the
 * kernel opens an overlay's real file with the overlay's path (common.bpf.h,
 * sg_overlay_real): sg_file_open and the others judge that path, which holds
 * the rules that name the overlay (its mount point, the merged directory);
 * check_real, called by sg_file_open on an open (sg_overlay_fake_path) and by
 * these programs (a second program on mprotect and mmap_file), judges the real
 * file's identity walk within its layer, so a rule on a lower or upper
 * directory (or any directory above one, in the layer's filesystem) holds
 * through the overlay. Deny and audit rules only: the allow
 * list was judged on the path the process opened (an overlay's real files live
 * in directories such as /var/lib/docker, which no allow list names).
 */
/* The record of a decision on an overlay's real file. Its path is the one the
 * process opened (the overlay's), where there is one, else the real file's,
 * relative to the root of its layer's filesystem (no mount); its rule names the
 * layer's directory. `target`: the new name of a link or rename, or 0. */
static __always_inline void emit_real(struct file *file, __u64 real, __u32 op, __u32 rule_id, __u32 verdict,
				      struct dentry *target)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_file_event *ev;
	__u32 zero = 0;

	ev = bpf_map_lookup_elem(&file_scratch, &zero);
	if (!ev)
		return;
	ev->hdr.kind = SG_KIND_FILE;
	ev->hdr.op = SG_OP_FILE_FIRST + op;
	ev->hdr.rule_id = rule_id;
	ev->hdr.flags = 0;
	ev->hdr.action = verdict == SG_VERDICT_AUDIT ? SG_ACTION_ALLOWED :
			 sg_block		       ? SG_ACTION_BLOCKED :
						 SG_ACTION_MONITOR;
	ev->file_op = op;
	sg_fill_current_subject(&ev->hdr);
	if (file)
		ev->path_len = copy_path(ev->names, file->f_path.mnt, file->f_path.dentry, &ev->hdr.flags, 0);
	else
		ev->path_len = copy_path(ev->names, 0, (struct dentry *)real, &ev->hdr.flags, 0);
	emit_names(ev, task, 0, target, 0);
}

static __noinline int check_real(struct file *file, __u64 real, __u32 ops)
{
	struct sg_file_node *node;
	struct sg_walk w;
	__u32 node_id, verdict = 0, rule_id = SG_RULE_NONE, decided_op = 0;
	__u64 subject, hit;

	ops &= sg_ops_enabled & sg_ops_ruled;
	if (!ops || !real)
		return 0;
	if (sg_target != SG_TARGET_ALL && !sg_in_target((struct task_struct *)bpf_get_current_task()))
		return 0;
	sg_walk_real_levels(real, &w);
	if (!w.found) {
		/* too deep to tell: never silently allowed where a deny rule could apply */
		if (!w.truncated || !sg_have_deny)
			return 0;
		verdict = SG_VERDICT_DENY;
		rule_id = SG_RULE_UNRESOLVED;
		decided_op = lowest_bit(ops);
	} else {
		node_id = w.match.id;
		node = bpf_map_lookup_elem(&nodes, &node_id);
		if (!node)
			return 0;
		subject = subject_selectors();
		for (__u32 op = 0; op < SG_FILE_OPS; op++) {
			struct sg_file_op_rules *rules = &node->ops[op];
			__u32 v = rules->verdict, id = rules->rule_id;

			if (!op_on(ops, op))
				continue;
			hit = rules->candidates & subject;
			if (hit) {
				__u32 index = lowest_bit(hit);
				struct sg_selector_rule *selector = bpf_map_lookup_elem(&selector_rules, &index);

				v = selector ? selector->verdict : 0;
				id = selector ? selector->rule_id : SG_RULE_NONE;
			}
			if (v == SG_VERDICT_DENY || (v == SG_VERDICT_AUDIT && !verdict)) {
				verdict = v;
				rule_id = id;
				decided_op = op;
				if (v == SG_VERDICT_DENY)
					break;
			}
		}
	}
	if (!verdict || (bpf_get_current_pid_tgid() >> 32) == sg_agent_tgid)
		return 0;
	emit_real(file, real, decided_op, rule_id, verdict, 0);
	return verdict == SG_VERDICT_DENY && sg_block;
}

/* A mapping of an overlay file maps its real file. */
SEC("lsm/mmap_file")
int BPF_PROG(sg_ovl_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	if (!file)
		return 0;
	VERDICT(check_real(file, sg_overlay_real(file), mmap_ops(prot)));
}

/* ... and that mapping's file is then the real one. */
SEC("lsm/file_mprotect")
int BPF_PROG(sg_ovl_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot,
	     int ret)
{
	struct file *file;

	if (ret)
		return sg_keep_denial(ret);
	if (!(prot & PROT_EXEC))
		return 0;
	file = vma->vm_file;
	if (!file)
		return 0;
	VERDICT(check_real(file, sg_overlay_real(file), mmap_ops(prot)));
}

/*
 * overlayfs changes its upper layer's names and attributes itself, with
 * vfs_unlink(), vfs_rename(), vfs_create(), notify_change() and the like: only the
 * inode hooks see those, never the path hooks the rules are judged in. It does so
 * on the mounter's credentials (ovl_override_creds), which tells its calls from a
 * process's own (judged in the path hooks): the current task's cred is then not
 * its real_cred. On every kernel. The dentry is the upper layer's.
 */
static __always_inline int creds_overridden(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, cred) != BPF_CORE_READ(task, real_cred);
}

#define INODE_HOOK(hook, ops, ...)                                                            \
	SEC("lsm/" #hook)                                                                     \
	int BPF_PROG(sg_ovl_##hook, struct inode *dir, struct dentry *dentry, ##__VA_ARGS__, int ret) \
	{                                                                                     \
		if (ret)                                                                      \
			return sg_keep_denial(ret);                                           \
		if (!creds_overridden())                                                      \
			return 0;                                                             \
		VERDICT(check_real(0, (__u64)dentry, (ops)));                                 \
	}

INODE_HOOK(inode_create, 1U << SG_FILE_CREATE, umode_t mode)
INODE_HOOK(inode_mkdir, 1U << SG_FILE_CREATE, umode_t mode)
INODE_HOOK(inode_mknod, 1U << SG_FILE_CREATE, umode_t mode, unsigned int dev)
INODE_HOOK(inode_symlink, 1U << SG_FILE_CREATE, const char *old_name)
INODE_HOOK(inode_unlink, 1U << SG_FILE_DELETE)
INODE_HOOK(inode_rmdir, 1U << SG_FILE_DELETE)

/*
 * A link or rename through the overlay gives the upper file `old` the name `new`
 * in its layer: refused where a rule denying some op covers old and would not
 * cover it at new, as the path hooks refuse it (check, judge.h), or `ln` or `mv`
 * through the overlay would take it out of a rule on its upper directory.
 * overlayfs's own renames into its work directory (sg_in_ovl_work_dir: a
 * directory it removes) keep the rule instead: the inode becomes the node's
 * identity, so that what is in it is not open to a process that reaches the work
 * directory before overlayfs removed it; freed, it loses the identity again
 * (forget_identity). A full identity map refuses (counted). A link there (onto a
 * whited-out name, made in the work directory and then renamed into place) is
 * refused like any other: a carried identity would outlive a refused rename. A
 * whiteout has nothing to keep a rule on (and one inode serves many of them on
 * 5.8 and later).
 */
static __noinline int ovl_sheds(struct dentry *old, struct dentry *new, __u32 op)
{
	struct inode *inode = BPF_CORE_READ(old, d_inode);
	struct sg_inode_filter *filter;
	struct sg_file_node *node;
	struct sg_inode_key key = {};
	struct sg_match kept;
	struct sg_walk w;
	__u32 zero = 0, guard;

	if (!sg_have_deny || !inode || sg_is_whiteout(inode) || (bpf_get_current_pid_tgid() >> 32) == sg_agent_tgid)
		return 0;
	if (sg_target != SG_TARGET_ALL && !sg_in_target((struct task_struct *)bpf_get_current_task()))
		return 0;
	sg_walk_real_levels((__u64)old, &w);
	if (!w.found)
		return 0;
	kept = w.match;
	node = bpf_map_lookup_elem(&nodes, &kept.id);
	guard = node ? node_guard(node, subject_selectors()) : 0;
	if (!guard)
		return 0;
	/* From the new name's directory: a file the rename replaces there may carry
	 * the node's identity itself (another name of a file under the rule). */
	sg_walk_real_levels((__u64)BPF_CORE_READ(new, d_parent), &w);
	if (w.found && w.match.id == kept.id)
		return 0;
	filter = bpf_map_lookup_elem(&inode_filter, &zero);
	if (filter && op == SG_FILE_RENAME && sg_in_ovl_work_dir(new)) {
		key.ino = BPF_CORE_READ(inode, i_ino);
		key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
		if (!bpf_map_update_elem(&sg_inode_rules, &key, &kept, BPF_ANY)) {
			*filter_slot(filter, key.ino) = 1;
			return 0;
		}
		sg_count(SG_COUNTER_IDENTITIES_FULL);
	}
	emit_real(0, (__u64)old, op, guard, SG_VERDICT_DENY, new);
	return sg_block;
}

/* A rename moves the file (rename) and makes a new name (create) or replaces the
 * file there (write, delete); an exchange comes as a second call, reversed. */
static __always_inline int ovl_rename_check(struct dentry *old_dentry, struct dentry *new_dentry)
{
	__u32 ops2 = 1U << SG_FILE_RENAME;

	if (check_real(0, (__u64)old_dentry, 1U << SG_FILE_RENAME))
		return 1;
	ops2 |= BPF_CORE_READ(new_dentry, d_inode) ? SG_REPLACED : 1U << SG_FILE_CREATE;
	if (check_real(0, (__u64)new_dentry, ops2))
		return 1;
	return ovl_sheds(old_dentry, new_dentry, SG_FILE_RENAME);
}

SEC("lsm/inode_rename")
int BPF_PROG(sg_ovl_inode_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	if (!creds_overridden())
		return 0;
	VERDICT(ovl_rename_check(old_dentry, new_dentry));
}

SEC("lsm/inode_link")
int BPF_PROG(sg_ovl_inode_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry,
	     int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	if (!creds_overridden())
		return 0;
	if (check_real(0, (__u64)old_dentry, 1U << SG_FILE_LINK))
		return -EPERM;
	if (check_real(0, (__u64)new_dentry, 1U << SG_FILE_LINK | 1U << SG_FILE_CREATE))
		return -EPERM;
	VERDICT(ovl_sheds(old_dentry, new_dentry, SG_FILE_LINK));
}

/*
 * chmod, chown and truncate through the overlay (ovl_setattr, and a copy-up's
 * ovl_set_attr). Times, and chown before 6.1, are sg_inode_setattr's (it sees every
 * dentry, the upper layer's too): not judged twice here. A mode change that only
 * drops set-id bits (ATTR_KILL_SUID/SGID: a write or a chown of a set-id file) is
 * no chmod, as a process's own is not.
 */
#define ATTR_MODE (1 << 0)
#define ATTR_KILL_SUID (1 << 11)
#define ATTR_KILL_SGID (1 << 12)

static __always_inline int ovl_setattr_check(struct dentry *dentry, struct iattr *attr)
{
	__u32 valid = BPF_CORE_READ(attr, ia_valid), ops = 0;

	if ((valid & ATTR_MODE) && !(valid & (ATTR_KILL_SUID | ATTR_KILL_SGID)))
		ops |= 1U << SG_FILE_CHMOD;
	if ((valid & (ATTR_UID | ATTR_GID)) && !sg_chown_in_setattr)
		ops |= 1U << SG_FILE_CHOWN;
	if (valid & ATTR_SIZE)
		ops |= SG_TRUNCATE;
	if (!ops || !creds_overridden())
		return 0;
	return check_real(0, (__u64)dentry, ops);
}

SEC("lsm/inode_setattr")
int BPF_PROG(sg_ovl_inode_setattr, struct dentry *dentry, struct iattr *attr, int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(ovl_setattr_check(dentry, attr));
}

SEC("lsm/inode_setattr")
int BPF_PROG(sg_ovl_inode_setattr_idmap, struct mnt_idmap *idmap, struct dentry *dentry, struct iattr *attr,
	     int ret)
{
	if (ret)
		return sg_keep_denial(ret);
	VERDICT(ovl_setattr_check(dentry, attr));
}
