// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The file module's name following (part of bpf/file.bpf.c, last): rule paths
 * keep their node when a new inode is bound to their name.
 */
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
 * files and a recycled inode number never inherits a rule. Not an overlay's:
 * where its layers are on two filesystems (xino off) an overlay inode's number
 * is its real inode's, so files of two layers can share one identity; an upper
 * file made with a protected lower file's number, then deleted, would take the
 * rule away (scenarios/overlay-rule-identity.sh). Overlay identities stay,
 * bounded by the map (a full map is counted). */
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
	if (*filter_slot(filter, key.ino) &&
	    BPF_CORE_READ(inode, i_sb, s_magic) != SG_OVERLAYFS_MAGIC)
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
