// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The network module: decisions on socket operations by address (one
 * longest-prefix trie for IPv4 and IPv6), by command, uid and gid, and by port
 * (one array slot per TCP or UDP port: bind's local port, connect's and
 * sendmsg's destination port).
 *
 * Hooks (each op is a sub-module the agent switches with autoload and sg_ops):
 *   connect      lsm/socket_connect      the address asked for
 *   sendmsg      lsm/socket_sendmsg      msg_name as the protocol reads it (AF_UNSPEC
 *                                        included), else the connected peer; with
 *                                        IP_HDRINCL also the IP header's destination;
 *                                        a TCP fast-open send is judged as a connect;
 *                                        AF_PACKET: the IP header inside the frame
 * connect and sendmsg also judge a source route's first hop (IPv4 options, an
 * IPv6 routing header), where the kernel sends the packet first.
 *   bind         lsm/socket_bind         the local address asked for
 *   getpeername  lsm/socket_getpeername  the connected peer
 *   accept       lsm/inet_conn_request   the peer of a SYN reaching a listener
 *                                        (socket_accept runs before the new socket
 *                                        knows its peer; refusing drops the SYN)
 *   recvmsg      lsm/socket_sock_rcv_skb the source of each arriving UDP datagram
 *                                        (socket_recvmsg runs before the datagram is
 *                                        known; refusing drops it)
 * The last two run in softirq context, where the current task is whoever was
 * interrupted: their subject is the socket's owner, kept in the socket's own
 * storage (sg_net_owners) when it was put to listen, bound, connected or first
 * sent from, together with an exemption mark set when an allow-listed subject
 * connected or sent through it. Traffic between two local sockets (it arrives
 * on a loopback device) was judged at its sender when that op is on: the
 * receiver then applies only its subject deny lists.
 *
 * The agent's own DNS queries (for `domain` entries) are no subject of the
 * rules: a port or address rule covering the name server would otherwise stop
 * the agent from resolving the names it denies. The agent marks each query's
 * socket in sg_net_owners (`agent`) before it connects it; only a map update,
 * which needs the agent's map, sets the mark. It is looked at only once a rule
 * has denied.
 *
 * Without BPF LSM, tp_btf/inet_sock_set_state reports (audit-only) TCP
 * connects (-> SYN_SENT, process context) and accepts (SYN_RECV -> ESTABLISHED).
 */
#include "common.bpf.h"
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define SOCK_STREAM 1
#define SOCK_RAW 3
#define MSG_FASTOPEN 0x20000000
#define LOOPBACK_IFINDEX 1
#define TCP_ESTABLISHED_STATE 1
#define SIN6_LEN_RFC2133 24 /* the shortest sockaddr_in6 the kernel accepts */

/* Load-time switches (rodata), set by src/network/mod.rs. */
const volatile __u32 sg_ops = 0;          /* 1 << (op - SG_OP_CONNECT) for each op on */
const volatile __u32 sg_allowlist = 0;    /* an address no entry covers is denied */
const volatile __u32 sg_have_comm = 0;    /* rules in sg_net_comm */
const volatile __u32 sg_have_exe = 0;     /* rules in sg_net_exe */
const volatile __u32 sg_have_uid = 0;
const volatile __u32 sg_have_gid = 0;
const volatile __u32 sg_track_owners = 0; /* note socket owners (accept, recvmsg on) */
const volatile __u32 sg_have_ports = 0;   /* entries in sg_net_ports */
const volatile __u32 sg_owner_required = 0; /* comm, exe or gid deny lists: refuse ownerless */
const volatile __u32 sg_have_rules = 0;   /* any rule at all (raw headers must be read) */

#define OP_ON(op) (sg_ops & (1U << ((op) - SG_OP_CONNECT)))

/* CIDR and domain entries: IPv4 as IPv4-mapped IPv6, prefixes + 96. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1); /* sized by the agent before load */
	__type(key, struct sg_net_addr_key);
	__type(value, struct sg_net_rule);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} sg_net_cidr SEC(".maps");

/* Subject lists: a deny entry refuses every op of the subject, an allow entry
 * exempts it from address denials. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct sg_comm_key);
	__type(value, struct sg_net_rule);
} sg_net_comm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct sg_inode_key); /* the executable's (dev, inode) */
	__type(value, struct sg_net_rule);
} sg_net_exe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_net_rule);
} sg_net_uid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_net_rule);
} sg_net_gid SEC(".maps");

/* Port entries, flattened by the agent (narrowest range, deny at ties, the allow
 * list) into one slot per port: SG_NET_PORT_TCP or SG_NET_PORT_UDP + port. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* SG_NET_PORT_SLOTS when there are port entries */
	__type(key, __u32);
	__type(value, struct sg_net_rule);
} sg_net_ports SEC(".maps");

/* The task that owns a listening or datagram socket, for the softirq hooks:
 * socket-local storage, so it lives exactly as long as the socket (a map keyed
 * by address would evict or outlive it). */
struct sg_net_owner {
	struct sg_header hdr; /* subject and flags; the rest is rewritten per event */
	struct sg_inode_key exe;
	__u32 known;  /* hdr and exe are filled */
	__u32 exempt; /* an allow-listed subject connected or sent through it */
	__u32 agent;  /* the agent's own socket (its DNS queries): marked by the agent */
	__u32 unused; /* the size stays a multiple of 8 (src/network/owners.rs) */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sg_net_owner);
} sg_net_owners SEC(".maps");

/* The owners of MPTCP sockets, for the subflows the kernel connects for them
 * (sg_net_subflow_enter): noted at connect and at listen, and cloned with a
 * listener into each connection it accepts (BPF_F_CLONE: sk_clone_lock, which
 * MPTCP calls for a new connection), so that a server's own subflows have its
 * owner too. A map of its own: cloning sg_net_owners would cost every TCP accept. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct sg_net_owner);
} sg_net_mptcp_owners SEC(".maps");

/* Records are built here, not on the 512-byte stack. */
struct sg_net_scratch {
	struct sg_net_event ev;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_net_scratch);
} sg_net_scratch SEC(".maps");

/* The two ends of an operation, as the record will show them. */
struct flow {
	__u8 src[SG_NET_ADDR_LEN];
	__u8 dst[SG_NET_ADDR_LEN];
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u16 protocol;
	__u32 judge_src; /* bind, accept, recvmsg: the address judged is src */
	__u32 to_peer;   /* sendmsg to the connected peer: its port was judged at connect */
	__u32 no_addr;   /* no address the kernel will use: subject deny lists only */
	__u32 raw_hdr;   /* RAW_HDR_*: an IP header written by the sender */
	__u8 hdr_dst[SG_NET_ADDR_LEN]; /* its destination (RAW_HDR_READ) */
	__u32 route;   /* RAW_HDR_*: a source route (IPv4 options, IPv6 routing header) */
	__u8 route_dst[SG_NET_ADDR_LEN]; /* its first hop, where the packet goes first */
};

#define RAW_HDR_NONE 0
#define RAW_HDR_READ 1
#define RAW_HDR_UNREADABLE 2

/* Who is asking, as far as the rules need it. */
struct who {
	struct sg_comm_key comm;
	struct sg_inode_key exe;
	__u32 uid;
	__u32 gid;
	__u32 exempt; /* the socket carries an allow-listed subject's mark */
};

static __always_inline void map_v4(__u8 *out, __be32 addr)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &addr, 4);
}

/* A sockaddr passed to connect, bind or sendmsg (a kernel copy). Returns its
 * family, 0 when it is no inet address. `btf` (a constant): sa is a BTF pointer
 * (connect's and bind's argument; a send's msg_name is not), and a struct
 * sockaddr_in, no larger than struct sockaddr, is read with plain loads. */
static __always_inline __u16 read_sockaddr(struct sockaddr *sa, int len, __u8 *addr, __u16 *port, int btf)
{
	__u16 family = 0;

	if (!sa)
		return 0;
	if (btf)
		family = sa->sa_family;
	else
		bpf_probe_read_kernel(&family, sizeof(family), &sa->sa_family);
	if (family == AF_INET && len >= (int)sizeof(struct sockaddr_in)) {
		struct sockaddr_in in = {};

		if (btf) {
			const struct sockaddr_in *from = (const void *)sa;

			in.sin_addr.s_addr = from->sin_addr.s_addr;
			in.sin_port = from->sin_port;
		} else {
			bpf_probe_read_kernel(&in, sizeof(in), sa);
		}
		map_v4(addr, in.sin_addr.s_addr);
		*port = bpf_ntohs(in.sin_port);
		return AF_INET;
	}
	if (family == AF_INET6 && len >= SIN6_LEN_RFC2133) {
		struct sockaddr_in6 in6 = {};

		bpf_probe_read_kernel(&in6, SIN6_LEN_RFC2133, sa);
		__builtin_memcpy(addr, &in6.sin6_addr, SG_NET_ADDR_LEN);
		*port = bpf_ntohs(in6.sin6_port);
		return AF_INET6;
	}
	return 0;
}

/*
 * The hooks' socket, skb and request arguments are BTF pointers, and so is what is
 * loaded from their pointer fields (sock->sk): their fields are read with plain
 * loads, a few instructions each, where a BPF_CORE_READ is a helper call of about a
 * hundred (every packet a socket receives passes sg_net_recv). The verifier refuses
 * such a load through a pointer read any other way (a probe read, the iterator's
 * private_data): those keep BPF_CORE_READ.
 */

/* The socket's own ends: local into (laddr, lport), peer into (raddr, rport).
 * `c` is a BTF pointer. */
static __always_inline void read_ends(const struct sock_common *c, __u16 family, __u8 *laddr, __u16 *lport,
				      __u8 *raddr, __u16 *rport)
{
	if (family == AF_INET) {
		map_v4(laddr, c->skc_rcv_saddr);
		map_v4(raddr, c->skc_daddr);
	} else {
		__builtin_memcpy(laddr, &c->skc_v6_rcv_saddr, SG_NET_ADDR_LEN);
		__builtin_memcpy(raddr, &c->skc_v6_daddr, SG_NET_ADDR_LEN);
	}
	*lport = c->skc_num;
	*rport = bpf_ntohs(c->skc_dport);
}

/* An inet socket's family and protocol into f; 0 for any other socket. `sk` is a
 * BTF pointer. */
static __always_inline int inet_socket(struct sock *sk, struct flow *f)
{
	__u16 family;

	if (!sk)
		return 0;
	family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	f->family = family;
	f->protocol = sk->sk_protocol;
	return 1;
}

static __always_inline void note(struct sg_net_rule *rule, __u32 *deny_id, __u32 *allow_id)
{
	if (!rule)
		return;
	if (rule->verdict == SG_VERDICT_DENY) {
		if (!*deny_id)
			*deny_id = rule->rule_id;
	} else if (rule->verdict == SG_VERDICT_ALLOW) {
		if (!*allow_id)
			*allow_id = rule->rule_id;
	}
}

/* The rules, in order: a subject deny list refuses everything; then the
 * longest CIDR or domain entry (or the posture) decides the address; a subject
 * allow list exempts from an address denial. One trie lookup and at most four
 * hash lookups, whatever the number of rules. */
static __always_inline __u32 judge(const __u8 *addr, const struct who *w, __u32 *rule_id)
{
	struct sg_net_addr_key key = { .prefixlen = SG_NET_ADDR_LEN * 8 };
	__u32 deny_id = 0, allow_id = 0;
	struct sg_net_rule *rule;

	if (sg_have_comm)
		note(bpf_map_lookup_elem(&sg_net_comm, &w->comm), &deny_id, &allow_id);
	if (sg_have_exe && w->exe.ino)
		note(bpf_map_lookup_elem(&sg_net_exe, &w->exe), &deny_id, &allow_id);
	if (sg_have_uid)
		note(bpf_map_lookup_elem(&sg_net_uid, &w->uid), &deny_id, &allow_id);
	if (sg_have_gid)
		note(bpf_map_lookup_elem(&sg_net_gid, &w->gid), &deny_id, &allow_id);
	if (deny_id) {
		*rule_id = deny_id;
		return SG_VERDICT_DENY;
	}
	if (!addr)
		return SG_VERDICT_ALLOW; /* no address: the subject deny lists alone */

	__builtin_memcpy(key.addr, addr, SG_NET_ADDR_LEN);
	rule = bpf_map_lookup_elem(&sg_net_cidr, &key);
	if (rule && rule->verdict != SG_NET_VERDICT_NONE) {
		if (rule->verdict != SG_VERDICT_DENY) {
			sg_count_allow(rule->rule_id); /* the allow entry that decided */
			return SG_VERDICT_ALLOW;
		}
		*rule_id = rule->rule_id;
	} else if (sg_allowlist) {
		*rule_id = SG_RULE_NOT_ALLOWED;
	} else {
		return SG_VERDICT_ALLOW;
	}
	if (allow_id)
		sg_count_allow(allow_id); /* the subject's allow rule exempts it */
	if (allow_id || w->exempt)
		return SG_VERDICT_ALLOW; /* exempt from address denials */
	return SG_VERDICT_DENY;
}

/* The port rules: bind is judged by the local port, connect and sendmsg by the
 * destination port, of TCP (and MPTCP, which serves TCP clients on the same
 * port) and UDP (and UDP-Lite) sockets. Port 0 of bind asks the kernel to choose
 * an ephemeral port and is not judged. A send to the connected peer is not
 * judged by port either: a client's connect was, and a server's peer port is
 * the client's ephemeral one. One array lookup. */
static __always_inline __u32 judge_port(__u32 op, const struct flow *f, __u32 *rule_id)
{
	struct sg_net_rule *rule;
	__u32 slot;

	if (!sg_have_ports)
		return SG_VERDICT_ALLOW;
	if (op == SG_OP_BIND) {
		if (!f->sport)
			return SG_VERDICT_ALLOW;
		slot = f->sport;
	} else if (op == SG_OP_CONNECT || (op == SG_OP_SENDMSG && !f->to_peer)) {
		slot = f->dport;
	} else {
		return SG_VERDICT_ALLOW;
	}
	if (f->protocol == IPPROTO_TCP || f->protocol == IPPROTO_MPTCP)
		slot += SG_NET_PORT_TCP;
	else if (f->protocol == IPPROTO_UDP || f->protocol == IPPROTO_UDPLITE)
		slot += SG_NET_PORT_UDP;
	else
		return SG_VERDICT_ALLOW;
	rule = bpf_map_lookup_elem(&sg_net_ports, &slot);
	if (!rule || rule->verdict != SG_VERDICT_DENY) {
		if (rule && rule->verdict == SG_VERDICT_ALLOW)
			sg_count_allow(rule->rule_id);
		return SG_VERDICT_ALLOW;
	}
	*rule_id = rule->rule_id;
	return SG_VERDICT_DENY;
}

/* A flow's verdict: its address (none: subject deny lists only), then the
 * destination in an IP header the sender wrote itself, which the packet goes
 * to whatever the sockaddr said. The record shows the address that denied. */
static __always_inline __u32 judge_flow(struct flow *f, const struct who *w, __u32 *rule_id)
{
	const __u8 *addr = f->no_addr ? 0 : (f->judge_src ? f->src : f->dst);
	__u32 verdict = judge(addr, w, rule_id);

	if (verdict == SG_VERDICT_DENY || f->raw_hdr == RAW_HDR_NONE)
		return verdict;
	if (f->raw_hdr == RAW_HDR_UNREADABLE) {
		*rule_id = SG_NET_RULE_NO_HEADER;
		return SG_VERDICT_DENY;
	}
	verdict = judge(f->hdr_dst, w, rule_id);
	if (verdict == SG_VERDICT_DENY)
		__builtin_memcpy(f->dst, f->hdr_dst, SG_NET_ADDR_LEN);
	return verdict;
}

/* judge_flow, then the first hop of a source route, which the packet is sent to
 * whatever the destination named. */
static __always_inline __u32 judge_routed(struct flow *f, const struct who *w, __u32 *rule_id)
{
	__u32 verdict = judge_flow(f, w, rule_id);

	if (verdict == SG_VERDICT_DENY || f->route == RAW_HDR_NONE)
		return verdict;
	if (f->route == RAW_HDR_UNREADABLE) {
		*rule_id = SG_NET_RULE_NO_HEADER;
		return SG_VERDICT_DENY;
	}
	verdict = judge(f->route_dst, w, rule_id);
	if (verdict == SG_VERDICT_DENY)
		__builtin_memcpy(f->dst, f->route_dst, SG_NET_ADDR_LEN);
	return verdict;
}

/* An operation's verdict: both its flow (with a source route's first hop) and
 * its port must allow. A port denial is not exempted by subject allow lists,
 * and a port allowed does not lift an address denial. Pure (flow and subject in, verdict out): the host tier
 * (bpf/test/network_decide.bpf.c) runs it too. */
static __always_inline __u32 judge_op(__u32 op, struct flow *f, const struct who *w, __u32 *rule_id)
{
	if (judge_routed(f, w, rule_id) == SG_VERDICT_DENY || judge_port(op, f, rule_id) == SG_VERDICT_DENY)
		return SG_VERDICT_DENY;
	return SG_VERDICT_ALLOW;
}

static __always_inline void read_exe(struct task_struct *task, struct sg_inode_key *exe)
{
	struct file *file = BPF_CORE_READ(task, mm, exe_file);

	if (!file)
		return;
	exe->ino = BPF_CORE_READ(file, f_inode, i_ino);
	exe->dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
}

static __always_inline struct sg_net_scratch *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sg_net_scratch, &zero);
}

static __always_inline void fill_event(struct sg_net_event *ev, __u32 op, __u32 action, __u32 rule_id,
				       const struct flow *f)
{
	ev->hdr.kind = SG_KIND_NET;
	ev->hdr.op = op;
	ev->hdr.action = action;
	ev->hdr.rule_id = rule_id;
	__builtin_memcpy(ev->src_addr, f->src, SG_NET_ADDR_LEN);
	__builtin_memcpy(ev->dst_addr, f->dst, SG_NET_ADDR_LEN);
	ev->src_port = f->sport;
	ev->dst_port = f->dport;
	ev->family = f->family;
	ev->protocol = f->protocol;
}

/* Notes the current task as the owner of sk (process context) in `owners`, with
 * the mark of an allow-listed subject when exempt. */
static __always_inline void note_owner_in(void *owners, struct sock *sk, __u32 exempt)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_net_owner *o = bpf_sk_storage_get(owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

	if (!o)
		return;
	o->hdr.flags = 0;
	sg_fill_subject(&o->hdr, task);
	o->exe.ino = 0;
	o->exe.dev = 0;
	if (sg_have_exe)
		read_exe(task, &o->exe);
	o->known = 1;
	if (exempt)
		o->exempt = 1;
}

static __always_inline void note_owner(struct sock *sk, __u32 exempt)
{
	note_owner_in(&sg_net_owners, sk, exempt);
}

/* An MPTCP socket's owner, once (a listener's is inherited by what it accepts). */
static __always_inline void note_mptcp_owner(struct sock *sk, __u32 exempt)
{
	struct sg_net_owner *o = bpf_sk_storage_get(&sg_net_mptcp_owners, sk, 0, 0);

	if (!o || !o->known || (exempt && !o->exempt))
		note_owner_in(&sg_net_mptcp_owners, sk, exempt);
}

/* The agent's own socket (see the top of this file). */
static __always_inline int agent_socket(struct sock *sk)
{
	struct sg_net_owner *o = bpf_sk_storage_get(&sg_net_owners, sk, 0, 0);

	return o && o->agent;
}

/* A decision in process context: the current task is the subject. Returns the
 * verdict; emits the record of a denial (MONITOR when !block). An exemption
 * from an address denial marks sk (when given) for its replies. */
static __always_inline __u32 decide_task(__u32 op, struct flow *f, int block, struct sock *sk)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sg_net_scratch *s;
	struct sg_pathbuf *pb;
	struct file *exe;
	struct who w = {};
	__u32 rule_id = 0;
	__u64 uid_gid;

	if (!sg_in_target(task))
		return SG_VERDICT_ALLOW;
	if (sg_have_comm)
		bpf_get_current_comm(w.comm.comm, sizeof(w.comm.comm));
	if (sg_have_exe)
		read_exe(task, &w.exe);
	uid_gid = bpf_get_current_uid_gid();
	w.uid = (__u32)uid_gid;
	w.gid = uid_gid >> 32;
	if (judge_op(op, f, &w, &rule_id) != SG_VERDICT_DENY) {
		if (rule_id && sk && sg_track_owners)
			note_owner(sk, 1);
		if (rule_id && sk && f->protocol == IPPROTO_MPTCP)
			note_mptcp_owner(sk, 1);
		return SG_VERDICT_ALLOW;
	}
	if (sk && agent_socket(sk))
		return SG_VERDICT_ALLOW;

	s = scratch();
	if (!s)
		return SG_VERDICT_DENY;
	s->ev.hdr.flags = 0;
	sg_fill_subject(&s->ev.hdr, task);
	fill_event(&s->ev, op, block ? SG_ACTION_BLOCKED : SG_ACTION_MONITOR, rule_id, f);
	/* The executable now: a short-lived client is gone before the agent reads /proc. */
	s->ev.exe_len = 0;
	exe = BPF_CORE_READ(task, mm, exe_file);
	pb = sg_pathbuf();
	if (exe && pb) {
		struct sg_resolved resolved;

		sg_resolve(&exe->f_path, pb, &resolved);
		s->ev.hdr.flags |= resolved.flags;
		s->ev.exe_len = sg_copy_path(s->ev.exe, pb, &resolved);
	}
	sg_emit(&s->ev, sizeof(s->ev));
	return SG_VERDICT_DENY;
}

/* A decision in softirq context: the socket's owner is the subject. A socket
 * whose owner is unknown (older than the agent) is judged by its uid alone,
 * and only when `target` is "all"; it is refused when comm, executable or gid
 * deny lists exist, which its uid cannot answer (with_storage: the LSM hooks,
 * where the owners are noted). */
static __always_inline __u32 decide_as_owner(__u32 op, struct sock *sk, struct sg_net_owner *o, struct flow *f,
					      int block, int with_storage)
{
	struct sg_net_scratch *s;
	struct who w = {};
	__u32 rule_id = 0;

	if (o && !o->known)
		o = 0;
	if (o) {
		if (sg_target != SG_TARGET_ALL) {
			int container = !!(o->hdr.flags & SG_FLAG_CONTAINER);

			if (container != (sg_target == SG_TARGET_CONTAINER))
				return SG_VERDICT_ALLOW;
		}
		__builtin_memcpy(w.comm.comm, o->hdr.subject.comm, SG_COMM_LEN);
		w.exe = o->exe;
		w.uid = o->hdr.subject.uid;
		w.gid = o->hdr.subject.gid;
		w.exempt = o->exempt;
	} else {
		if (sg_target != SG_TARGET_ALL)
			return SG_VERDICT_ALLOW;
		w.uid = sk->sk_uid.val;
		w.gid = (__u32)-1;
	}
	if (!o && with_storage && sg_owner_required)
		rule_id = SG_NET_RULE_NO_OWNER;
	else if (judge_op(op, f, &w, &rule_id) != SG_VERDICT_DENY || (o && o->agent))
		return SG_VERDICT_ALLOW;

	s = scratch();
	if (!s)
		return SG_VERDICT_DENY;
	if (o)
		s->ev.hdr = o->hdr;
	else {
		__builtin_memset(&s->ev.hdr, 0, sizeof(s->ev.hdr));
		s->ev.hdr.subject.uid = w.uid;
		s->ev.hdr.subject.gid = w.gid;
	}
	s->ev.hdr.time_ns = bpf_ktime_get_boot_ns();
	s->ev.exe_len = 0;
	fill_event(&s->ev, op, block ? SG_ACTION_BLOCKED : SG_ACTION_MONITOR, rule_id, f);
	sg_emit(&s->ev, sizeof(s->ev));
	return SG_VERDICT_DENY;
}

static __always_inline __u32 decide_owner(__u32 op, struct sock *sk, struct flow *f, int block, int with_storage)
{
	struct sg_net_owner *o = with_storage ? bpf_sk_storage_get(&sg_net_owners, sk, 0, 0) : 0;

	return decide_as_owner(op, sk, o, f, block, with_storage);
}

static __always_inline int is_datagram(const struct flow *f)
{
	return f->protocol == IPPROTO_UDP || f->protocol == IPPROTO_UDPLITE;
}

/* A packet from a local socket: it came in on the loopback device, ifindex 1
 * in every network namespace (the kernel drops a packet with a local source
 * arriving elsewhere). skb->dev is no help: tcp_v4_rcv clears it. */
static __always_inline int from_local(struct sk_buff *skb)
{
	return skb->skb_iif == LOOPBACK_IFINDEX;
}

static __always_inline int owner_known(struct sock *sk)
{
	struct sg_net_owner *o = bpf_sk_storage_get(&sg_net_owners, sk, 0, 0);

	return o && o->known;
}

/* The destination named in a send's msg_name (a kernel copy), as the protocol
 * reads it: IPv4 UDP and raw sockets take AF_UNSPEC for AF_INET, IPv6 raw
 * sockets for AF_INET6 (IPv6 UDP ignores it and uses the connected peer). */
static __always_inline __u16 read_send_name(struct msghdr *msg, __u16 sk_family, __u16 type, __u8 *addr,
					    __u16 *port)
{
	struct sockaddr *sa = BPF_CORE_READ(msg, msg_name);
	int len = BPF_CORE_READ(msg, msg_namelen);
	__u16 family = 0;

	if (!sa || len <= 0)
		return 0;
	bpf_probe_read_kernel(&family, sizeof(family), &sa->sa_family);
	if (family == 0 && sk_family == AF_INET && len >= (int)sizeof(struct sockaddr_in)) {
		struct sockaddr_in in = {};

		bpf_probe_read_kernel(&in, sizeof(in), sa);
		map_v4(addr, in.sin_addr.s_addr);
		*port = bpf_ntohs(in.sin_port);
		return AF_INET;
	}
	if (family == 0 && sk_family == AF_INET6 && type == SOCK_RAW && len >= SIN6_LEN_RFC2133) {
		struct sockaddr_in6 in6 = {};

		bpf_probe_read_kernel(&in6, SIN6_LEN_RFC2133, sa);
		__builtin_memcpy(addr, &in6.sin6_addr, SG_NET_ADDR_LEN);
		*port = bpf_ntohs(in6.sin6_port);
		return AF_INET6;
	}
	return read_sockaddr(sa, len, addr, port, 0);
}

/* Kernels before 6.6 keep IP_HDRINCL in a bitfield, before 6.4 the iovec
 * pointer is `iov`, before 5.14 the iterator's type is `type` (with the
 * direction in bit 0). */
struct inet_sock___old {
	__u8 hdrincl : 1;
} __attribute__((preserve_access_index));

struct iov_iter___old {
	unsigned int type;
	const struct iovec *iov;
} __attribute__((preserve_access_index));

/* A raw socket whose sender writes the IP header (IP_HDRINCL, IPV6_HDRINCL, or
 * IPPROTO_RAW, which implies it). */
static __always_inline int raw_hdrincl(struct sock *sk, __u16 protocol)
{
	if (protocol == IPPROTO_RAW)
		return 1;
	if (bpf_core_field_exists(((struct inet_sock *)0)->inet_flags)) {
		unsigned long flags = BPF_CORE_READ((struct inet_sock *)sk, inet_flags);

		return (flags >> INET_FLAGS_HDRINCL) & 1;
	}
	return BPF_CORE_READ_BITFIELD_PROBED((struct inet_sock___old *)sk, hdrincl);
}

/* Where the data being sent starts in the sender's memory and how much of it is
 * there: 0 when its first segment is no user iovec or ubuf. */
static __always_inline int send_head(struct msghdr *msg, void **base, unsigned long *avail)
{
	struct iov_iter *it = &msg->msg_iter;
	const struct iovec *iov;
	unsigned long off;
	__u32 type;

	if (bpf_core_field_exists(it->iter_type))
		type = BPF_CORE_READ(it, iter_type);
	else
		type = BPF_CORE_READ((struct iov_iter___old *)it, type) & ~1U;
	off = BPF_CORE_READ(it, iov_offset);
	if (bpf_core_enum_value_exists(enum iter_type, ITER_UBUF) &&
	    type == bpf_core_enum_value(enum iter_type, ITER_UBUF)) {
		*base = BPF_CORE_READ(it, ubuf) + off;
		*avail = BPF_CORE_READ(it, count);
	} else if (type == bpf_core_enum_value(enum iter_type, ITER_IOVEC)) {
		if (bpf_core_field_exists(it->__iov))
			iov = BPF_CORE_READ(it, __iov);
		else
			iov = BPF_CORE_READ((struct iov_iter___old *)it, iov);
		*base = BPF_CORE_READ(iov, iov_base) + off;
		*avail = BPF_CORE_READ(iov, iov_len) - off;
	} else {
		return 0;
	}
	return 1;
}

/* The first len bytes of the data being sent, from the sender's memory: 0 when
 * they are not in its first segment (user iovec or ubuf) or cannot be read. */
static __always_inline int read_send_head(struct msghdr *msg, void *buf, __u32 len)
{
	unsigned long avail;
	void *base;

	if (!send_head(msg, &base, &avail) || avail < len)
		return 0;
	return bpf_probe_read_user(buf, len, base) == 0;
}

/* The destination in the IP header of a raw HDRINCL send into f->hdr_dst. A
 * send shorter than a header carries no destination. */
static __always_inline void read_raw_header(struct msghdr *msg, int size, struct flow *f)
{
	if (f->family == AF_INET) {
		struct iphdr ip = {};

		if (size < (int)sizeof(ip))
			return;
		f->raw_hdr = RAW_HDR_UNREADABLE;
		if (read_send_head(msg, &ip, sizeof(ip))) {
			map_v4(f->hdr_dst, ip.daddr);
			f->raw_hdr = RAW_HDR_READ;
		}
	} else {
		struct ipv6hdr ip6 = {};

		if (size < (int)sizeof(ip6))
			return;
		f->raw_hdr = RAW_HDR_UNREADABLE;
		if (read_send_head(msg, &ip6, sizeof(ip6))) {
			__builtin_memcpy(f->hdr_dst, &ip6.daddr, SG_NET_ADDR_LEN);
			f->raw_hdr = RAW_HDR_READ;
		}
	}
	if (f->raw_hdr == RAW_HDR_UNREADABLE && !sg_have_rules)
		f->raw_hdr = RAW_HDR_NONE;
}

/*
 * Owners of the sockets older than this instance of the module (set up before the
 * agent started, restarted or reloaded): without them, comm, executable and gid deny
 * lists would refuse every connection such a listener accepts. At load time the agent
 * runs this iterator over every task's open files and gets, for each TCP listener and
 * each UDP socket, the descriptor that holds it and the owner its holder makes; it
 * then stores each owner in the socket's storage through that descriptor (pidfd_getfd),
 * unless the socket has one already (BPF_NOEXIST): a hook saw it first. Threads that
 * share their files are visited once.
 */
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define TCP_LISTEN_STATE 10

struct sg_net_seed {
	__u32 pid; /* tgid */
	__u32 fd;
	struct sg_net_owner owner;
};

SEC("iter/task_file")
int sg_net_seed_owners(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct sg_net_seed seed = {};
	struct sg_subject *subject = &seed.owner.hdr.subject;
	struct socket *sock;
	struct sock *sk;
	struct flow f = {};

	if (!task || !file || (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	/* inet_socket() by probe reads: sk is no BTF pointer here */
	f.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (!sk || (f.family != AF_INET && f.family != AF_INET6))
		return 0;
	f.protocol = BPF_CORE_READ(sk, sk_protocol);
	if (!is_datagram(&f) &&
	    !(f.protocol == IPPROTO_TCP && BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_LISTEN_STATE))
		return 0;
	seed.pid = BPF_CORE_READ(task, tgid);
	seed.fd = ctx->fd;
	/* sg_fill_subject reads these of the current task, which is the agent here. The
	 * comm is a map key: zero-padded like bpf_get_current_comm's, not the agent's
	 * name behind the NUL. */
	sg_fill_subject(&seed.owner.hdr, task);
	subject->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	subject->uid = BPF_CORE_READ(task, cred, uid.val);
	subject->gid = BPF_CORE_READ(task, cred, gid.val);
	__builtin_memset(subject->comm, 0, sizeof(subject->comm));
	BPF_CORE_READ_STR_INTO(&subject->comm, task, comm);
	if (sg_have_exe)
		read_exe(task, &seed.owner.exe);
	seed.owner.known = 1;
	bpf_seq_write(ctx->meta->seq, &seed, sizeof(seed));
	return 0;
}

/*
 * AF_PACKET sockets (CAP_NET_RAW) write whole frames: an IP packet inside goes to
 * the destination in its own header, which no sockaddr names. The frame's head is
 * read from the sender's memory (as for IP_HDRINCL) and the IP header found the
 * way the link layer would: SOCK_DGRAM frames start with the payload of the
 * protocol the send names (sockaddr_ll, else the socket's); SOCK_RAW frames with
 * an Ethernet header (up to two VLAN tags). A SOCK_RAW frame that itself looks
 * like an IP packet (devices without a link header: tun, ipip, wireguard) is
 * judged as one too. A head that cannot be read (another iovec, a TX ring) is
 * refused when any rule exists; a frame with no IP header faces the subject deny
 * lists only.
 */
#define AF_PACKET 17
#define SOCK_DGRAM 2
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define FRAME_HEAD 64 /* two VLAN tags + an IPv6 header's destination: 22 + 40 */

static __always_inline __u16 be16_at(const __u8 *b, __u32 i)
{
	return ((__u16)b[i] << 8) | b[i + 1];
}

/* The start of the IP header after the ethertype at type_at (through up to two
 * VLAN tags), or -1 when the frame carries no IP there. */
static __always_inline int frame_ip_at(const __u8 *b, __u32 n, __u32 type_at)
{
	__u16 t;

	if (type_at + 2 > n)
		return -1;
	t = be16_at(b, type_at);
	if (t == ETH_P_8021Q || t == ETH_P_8021AD) {
		type_at += 4;
		if (type_at + 2 > n)
			return -1;
		t = be16_at(b, type_at);
		if (t == ETH_P_8021Q || t == ETH_P_8021AD) {
			type_at += 4;
			if (type_at + 2 > n)
				return -1;
			t = be16_at(b, type_at);
		}
	}
	return t == ETH_P_IP || t == ETH_P_IPV6 ? (int)type_at + 2 : -1;
}

/* The destination of the IP header at off of the frame's head b (n bytes read). */
static __always_inline int frame_ip_dst(const __u8 *b, __u32 n, int off, __u8 *dst, __u16 *family)
{
	if (off < 0 || off > 22)
		return 0;
	if (off + 20 <= (int)n && (b[off] >> 4) == 4) {
		__be32 a;

		__builtin_memcpy(&a, b + off + 16, 4);
		map_v4(dst, a);
		*family = AF_INET;
		return 1;
	}
	if (off + 40 <= (int)n && (b[off] >> 4) == 6) {
		__builtin_memcpy(dst, b + off + 24, SG_NET_ADDR_LEN);
		*family = AF_INET6;
		return 1;
	}
	return 0;
}

/* The first n (1..FRAME_HEAD) bytes of a frame being sent into b. */
static __always_inline int read_frame_head(struct msghdr *msg, __u8 *b, __u32 n)
{
	unsigned long avail;
	void *base;
	__u32 m = n - 1;

	if (!send_head(msg, &base, &avail) || avail < n)
		return 0;
	/* the verifier needs the length bounded where the call is */
	asm volatile("%[m] &= 63" : [m] "+r"(m));
	return bpf_probe_read_user(b, m + 1, base) == 0;
}

struct packet_sock___sg {
	struct packet_ring_buffer tx_ring;
	__be16 num;
} __attribute__((preserve_access_index));

/* The frame's head, off the stack (sendmsg's frame is near the 512-byte limit). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[FRAME_HEAD]);
} sg_net_frame SEC(".maps");

/* fp: zeroed by the caller (its own flow: one flow on the stack, not two). */
static __always_inline int packet_sendmsg(struct socket *sock, struct sock *sk, struct msghdr *msg, int size,
					  struct flow *fp)
{
	__u16 type = BPF_CORE_READ(sock, type), family = 0, proto;
	__u32 n = size > FRAME_HEAD ? FRAME_HEAD : (size > 0 ? size : 0), zero = 0;
	struct sockaddr_ll *ll;
	__u8 *head;
	int off = -1;

	if (!OP_ON(SG_OP_SENDMSG))
		return 0;
	head = bpf_map_lookup_elem(&sg_net_frame, &zero);
	fp->family = AF_INET;
	fp->protocol = IPPROTO_RAW;
	if (!head || BPF_CORE_READ((struct packet_sock___sg *)sk, tx_ring.pg_vec) ||
	    (n && !read_frame_head(msg, head, n))) {
		/* frames in a TX ring or spread over iovecs: not readable here */
		fp->no_addr = 1;
		fp->raw_hdr = sg_have_rules ? RAW_HDR_UNREADABLE : RAW_HDR_NONE;
		goto decide;
	}
	if (type == SOCK_DGRAM) {
		ll = BPF_CORE_READ(msg, msg_name);
		if (ll && BPF_CORE_READ(msg, msg_namelen) >= (int)sizeof(struct sockaddr_ll))
			proto = bpf_ntohs(BPF_CORE_READ(ll, sll_protocol));
		else
			proto = bpf_ntohs(BPF_CORE_READ((struct packet_sock___sg *)sk, num));
		if (proto == ETH_P_IP || proto == ETH_P_IPV6)
			off = 0;
		else if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
			off = frame_ip_at(head, n, 2);
	} else {
		off = frame_ip_at(head, n, 12);
		if (frame_ip_dst(head, n, 0, fp->hdr_dst, &family))
			fp->raw_hdr = RAW_HDR_READ;
	}
	if (frame_ip_dst(head, n, off, fp->dst, &fp->family)) {
		/* judged; with a header-less reading in hdr_dst, that one too */
	} else if (fp->raw_hdr == RAW_HDR_READ) {
		/* only the header-less reading: judge it as the destination */
		__builtin_memcpy(fp->dst, fp->hdr_dst, SG_NET_ADDR_LEN);
		fp->family = family;
		fp->raw_hdr = RAW_HDR_NONE;
	} else {
		fp->no_addr = 1; /* no IP inside: the subject deny lists */
	}
decide:
	if (decide_task(SG_OP_SENDMSG, fp, sg_block, 0) == SG_VERDICT_DENY && sg_block)
		return -EPERM;
	return 0;
}

/*
 * Source routes: an IPv4 loose or strict source route (IP_OPTIONS on the socket, or
 * IP_RETOPTS as a control message of the send, which then replaces the socket's)
 * and an IPv6 routing header (IPV6_RTHDR on the socket or in the send) make the
 * kernel send the packet to the route's first hop, whatever connect or sendmsg
 * named: udp_sendmsg, raw_sendmsg, tcp_v4_connect (opt.faddr) and
 * fl6_update_dst (IPv6 UDP, raw, TCP). That hop is judged as a destination too.
 * Control messages are in kernel memory by the time the hook runs; more of them
 * than the module reads, or options it cannot read, are refused when any rule
 * exists.
 */
#define SOL_IP 0
#define SOL_IPV6 41
#define IP_RETOPTS 7
#define IPV6_2292RTHDR 5
#define IPV6_RTHDR 57
#define IPOPT_LSRR 0x83
#define IPOPT_SSRR 0x89
#define SG_CMSG_MAX 8
#define SG_IPOPT_MAX 40 /* the IPv4 options area */

struct sg_cmsghdr {
	__u64 len;
	int level;
	int type;
};

/* The first hop of IPv4 options (kernel memory, len bytes): the first address of
 * a source route option, as ip_options_compile takes it; returned as
 * (1 << 32) | address, 0 for none, SG_IPOPT_UNREAD when the options go on past
 * the first SG_IPOPT_SEEN (a longer walk costs the verifier too much; real
 * senders put the route first, after at most a no-op). A global function: the
 * verifier checks it once, not at every place a send or connect is judged. */
#define SG_IPOPT_SEEN 4
#define SG_IPOPT_UNREAD (1ULL << 33)
__noinline __u64 sg_ipopt_hop(__u64 opts, __u32 len)
{
	const __u8 *p = (const __u8 *)opts;
	__u32 pos = 0;
	__u8 t, l;
	__u32 a;

	if (len > SG_IPOPT_MAX)
		len = SG_IPOPT_MAX;
	for (int i = 0; i < SG_IPOPT_SEEN; i++) {
		if (pos >= len || bpf_probe_read_kernel(&t, 1, p + pos))
			return 0;
		if (t == 0) /* end of options */
			return 0;
		if (t == 1) { /* no-op */
			pos++;
			continue;
		}
		if (pos + 1 >= len || bpf_probe_read_kernel(&l, 1, p + pos + 1) || l < 2)
			return 0; /* malformed: the kernel refuses the send */
		if ((t == IPOPT_LSRR || t == IPOPT_SSRR) && l >= 7 && pos + 7 <= len) {
			if (bpf_probe_read_kernel(&a, 4, p + pos + 3))
				return SG_IPOPT_UNREAD;
			return (1ULL << 32) | a;
		}
		pos += l;
	}
	return pos < len ? SG_IPOPT_UNREAD : 0;
}

/* 1 with the hop in hop, 0 for none, -1 when the options cannot be read. */
static __always_inline int ipopt_hop(const __u8 *opts, __u32 len, __u8 *hop)
{
	__u64 r = sg_ipopt_hop((__u64)opts, len);

	if (r & SG_IPOPT_UNREAD)
		return -1;
	if (!(r >> 32))
		return 0;
	map_v4(hop, (__be32)r);
	return 1;
}

/* The first hop of an IPv6 routing header (kernel memory), as fl6_update_dst
 * takes it: the first address (types 0 and 2), segments[segments_left] (type 4). */
static __always_inline int rthdr_hop(const __u8 *rt, __u8 *hop)
{
	__u8 h[4];
	__u32 at = 8;

	if (!rt || bpf_probe_read_kernel(h, sizeof(h), rt))
		return 0;
	if (h[2] == 4)
		at += 16 * (__u32)h[3];
	return bpf_probe_read_kernel(hop, SG_NET_ADDR_LEN, rt + at) == 0;
}

#define SG_CMSG_UNREADABLE (~0ULL)

/* The control message of a send (kernel memory, len bytes) that carries a source
 * route: IP_RETOPTS (the last one counts) for an IPv4 destination, IPV6_RTHDR or
 * IPV6_2292RTHDR otherwise. Returns (offset of its data << 32) | data length, 0
 * for none, SG_CMSG_UNREADABLE when there are more messages than it reads. A
 * global function, checked once by the verifier. */
__noinline __u64 sg_cmsg_route(__u64 ctl, __u64 len, __u32 v4)
{
	struct sg_cmsghdr h;
	__u64 pos = 0, found = 0;
	int i;

	for (i = 0; i < SG_CMSG_MAX; i++) {
		if (pos + sizeof(h) > len)
			return found;
		if (bpf_probe_read_kernel(&h, sizeof(h), (const void *)(ctl + pos)))
			return SG_CMSG_UNREADABLE;
		if (h.len < sizeof(h) || h.len > len - pos || h.len - sizeof(h) > 0xffff)
			return found; /* the kernel refuses the send */
		if ((v4 && h.level == SOL_IP && h.type == IP_RETOPTS) ||
		    (!v4 && h.level == SOL_IPV6 && (h.type == IPV6_RTHDR || h.type == IPV6_2292RTHDR)))
			found = ((pos + sizeof(h)) << 32) | (h.len - sizeof(h));
		pos += (h.len + 7) & ~7ULL;
	}
	return pos + sizeof(h) <= len ? SG_CMSG_UNREADABLE : found;
}

/* The source route of a connect (msg 0) or send to dst into f->route_dst. */
static __always_inline void read_route(struct sock *sk, struct msghdr *msg, struct flow *f)
{
	__u32 v4 = f->dst[10] == 0xff && f->dst[11] == 0xff && !f->dst[0] && !f->dst[8];
	const __u8 *ctl = 0;
	__u64 len = 0, found = 0;
	int got = 0;

	if (msg) {
		ctl = BPF_CORE_READ(msg, msg_control);
		len = BPF_CORE_READ(msg, msg_controllen);
	}
	if (ctl && len) {
		found = sg_cmsg_route((__u64)ctl, len, v4);
		if (found == SG_CMSG_UNREADABLE) {
			f->route = sg_have_rules ? RAW_HDR_UNREADABLE : RAW_HDR_NONE;
			return;
		}
	}
	if (found)
		got = v4 ? ipopt_hop(ctl + (found >> 32), (__u32)found, f->route_dst)
			 : rthdr_hop(ctl + (found >> 32), f->route_dst);
	else if (v4) {
		/* struct inet_sock is larger than the hook's struct sock: SG_READ */
		struct ip_options_rcu *o = SG_READ(sk, struct inet_sock, inet_opt);

		if (o && BPF_CORE_READ(o, opt.srr)) {
			map_v4(f->route_dst, BPF_CORE_READ(o, opt.faddr));
			got = 1;
		}
	} else {
		struct ipv6_pinfo *np = SG_READ(sk, struct inet_sock, pinet6);
		struct ipv6_txoptions *opt = np ? SG_READ(np, struct ipv6_pinfo, opt) : 0;

		got = rthdr_hop(opt ? (const __u8 *)SG_READ(opt, struct ipv6_txoptions, srcrt) : 0, f->route_dst);
	}
	if (got > 0)
		f->route = RAW_HDR_READ;
	else if (got < 0)
		f->route = sg_have_rules ? RAW_HDR_UNREADABLE : RAW_HDR_NONE;
}

SEC("lsm/socket_connect")
int BPF_PROG(sg_net_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	struct sock *sk = sock->sk;
	struct flow f = {};
	__u8 ignored[SG_NET_ADDR_LEN];
	__u16 unused;

	if (ret)
		return sg_keep_denial(ret);
	if (!inet_socket(sk, &f))
		return 0;
	if (sg_track_owners && is_datagram(&f))
		note_owner(sk, 0);
	if (!OP_ON(SG_OP_CONNECT) || !read_sockaddr(address, addrlen, f.dst, &f.dport, 1))
		return 0;
	/* Its subflows are judged by this owner (sg_net_subflow_enter). */
	if (f.protocol == IPPROTO_MPTCP)
		note_mptcp_owner(sk, 0);
	read_ends((void *)sk, f.family, f.src, &f.sport, ignored, &unused);
	read_route(sk, 0, &f);
	if (decide_task(SG_OP_CONNECT, &f, sg_block, sk) == SG_VERDICT_DENY && sg_block)
		return -EPERM;
	return 0;
}

/*
 * MPTCP subflows the kernel opens itself. The path manager (in-kernel, from a
 * worker; userspace, from the netlink command of a daemon such as mptcpd)
 * connects each further subflow with kernel_connect(), which calls no
 * socket_connect hook, to an address the peer may have announced (ADD_ADDR):
 * without this, a connection to an allowed address reached a denied one.
 * __mptcp_subflow_connect() is where that address is known: fentry judges it
 * there by the MPTCP socket's owner (noted at its connect) and leaves the verdict
 * for the subflow's socket, which the same call creates next (sock_create_kern:
 * socket_create with kern set); a denial refuses that socket, so no SYN leaves.
 * fexit clears the verdict whatever the call did in between.
 */
#define SG_NET_SUBFLOWS 1024

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_NET_SUBFLOWS);
	__type(key, __u64);   /* pid_tgid of a task in __mptcp_subflow_connect */
	__type(value, __u32); /* SG_VERDICT_* */
} sg_net_subflows SEC(".maps");

/* Calls in __mptcp_subflow_connect whose verdict did not fit in sg_net_subflows:
 * while there are any, every kernel socket without a verdict is refused (filling
 * the table must not let a subflow through). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} sg_net_subflows_unjudged SEC(".maps");

/* Before 6.11 the local end is a struct mptcp_addr_info, since then a struct
 * mptcp_pm_local that begins with one: read through its first member either way. */
SEC("fentry/__mptcp_subflow_connect")
int BPF_PROG(sg_net_subflow_enter, struct sock *sk, const struct mptcp_addr_info *local,
	     const struct mptcp_addr_info *remote)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct flow f = { .protocol = IPPROTO_MPTCP };
	__u32 verdict, zero = 0;
	__s64 *unjudged;
	__u16 family = BPF_CORE_READ(remote, family);

	if (family == AF_INET) {
		map_v4(f.dst, BPF_CORE_READ(remote, addr.s_addr));
		map_v4(f.src, BPF_CORE_READ(local, addr.s_addr));
	} else {
		BPF_CORE_READ_INTO(f.dst, remote, addr6);
		BPF_CORE_READ_INTO(f.src, local, addr6);
	}
	f.family = family;
	f.dport = bpf_ntohs(BPF_CORE_READ(remote, port));
	f.sport = bpf_ntohs(BPF_CORE_READ(local, port));
	verdict = decide_as_owner(SG_OP_CONNECT, sk, bpf_sk_storage_get(&sg_net_mptcp_owners, sk, 0, 0), &f,
				  sg_block, 1);
	if (bpf_map_update_elem(&sg_net_subflows, &id, &verdict, BPF_ANY)) {
		unjudged = bpf_map_lookup_elem(&sg_net_subflows_unjudged, &zero);
		if (unjudged)
			__sync_fetch_and_add(unjudged, 1);
	}
	return 0;
}

SEC("fexit/__mptcp_subflow_connect")
int BPF_PROG(sg_net_subflow_exit, struct sock *sk, const struct mptcp_addr_info *local,
	     const struct mptcp_addr_info *remote, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	__s64 *unjudged;

	if (bpf_map_delete_elem(&sg_net_subflows, &id)) {
		unjudged = bpf_map_lookup_elem(&sg_net_subflows_unjudged, &zero);
		if (unjudged)
			__sync_fetch_and_add(unjudged, -1);
	}
	return 0;
}

/* The subflow's socket: refused where its connect was denied. Sockets of
 * processes (kern 0) and every other kernel socket pass at once. */
SEC("lsm/socket_create")
int BPF_PROG(sg_net_subflow_socket, int family, int type, int protocol, int kern, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 *verdict, zero = 0;
	__s64 *unjudged;

	if (ret)
		return sg_keep_denial(ret);
	if (!kern)
		return 0;
	verdict = bpf_map_lookup_elem(&sg_net_subflows, &id);
	if (verdict)
		VERDICT(*verdict == SG_VERDICT_DENY && sg_block);
	unjudged = bpf_map_lookup_elem(&sg_net_subflows_unjudged, &zero);
	VERDICT(unjudged && *unjudged > 0 && sg_block);
}

SEC("lsm/socket_sendmsg")
int BPF_PROG(sg_net_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	struct sock *sk = sock->sk;
	struct flow f = {};
	__u8 ignored[SG_NET_ADDR_LEN];
	__u16 unused, type;
	__u32 op = SG_OP_SENDMSG;

	if (ret)
		return sg_keep_denial(ret);
	if (sk && sk->__sk_common.skc_family == AF_PACKET)
		return packet_sendmsg(sock, sk, msg, size, &f);
	if (!inet_socket(sk, &f))
		return 0;
	type = sock->type;
	if (sg_track_owners && is_datagram(&f) && !owner_known(sk))
		note_owner(sk, 0);
	if (type == SOCK_STREAM) {
		/* TCP (and MPTCP) read msg_name only to connect: a fast-open send
		 * (MSG_FASTOPEN) connects without connect(2). */
		if ((msg->msg_flags & MSG_FASTOPEN) &&
		    read_send_name(msg, f.family, type, f.dst, &f.dport)) {
			if (OP_ON(SG_OP_CONNECT))
				op = SG_OP_CONNECT;
			else if (!OP_ON(SG_OP_SENDMSG))
				return 0;
			read_ends((void *)sk, f.family, f.src, &f.sport, ignored, &unused);
			read_route(sk, 0, &f);
			goto decide;
		}
	}
	if (!OP_ON(SG_OP_SENDMSG))
		return 0;
	if (type != SOCK_STREAM && read_send_name(msg, f.family, type, f.dst, &f.dport)) {
		read_ends((void *)sk, f.family, f.src, &f.sport, ignored, &unused);
	} else {
		read_ends((void *)sk, f.family, f.src, &f.sport, f.dst, &f.dport);
		/* Not connected (raw and ping sockets connect without a port): the
		 * send fails, but a subject denied everything is still refused. A
		 * send to the connected peer is not judged by port (its connect was). */
		if (!f.dport && sk->__sk_common.skc_state != TCP_ESTABLISHED_STATE)
			f.no_addr = 1;
		f.to_peer = 1;
	}
	if (type == SOCK_RAW && raw_hdrincl(sk, f.protocol))
		read_raw_header(msg, size, &f);
	/* TCP reads no IP options from control messages */
	read_route(sk, type == SOCK_STREAM ? 0 : msg, &f);
decide:
	if (decide_task(op, &f, sg_block, sk) == SG_VERDICT_DENY && sg_block)
		return -EPERM;
	return 0;
}

SEC("lsm/socket_bind")
int BPF_PROG(sg_net_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	struct sock *sk = sock->sk;
	struct flow f = { .judge_src = 1 };

	if (ret)
		return sg_keep_denial(ret);
	if (!inet_socket(sk, &f))
		return 0;
	if (OP_ON(SG_OP_BIND) && read_sockaddr(address, addrlen, f.src, &f.sport, 1)) {
		if (decide_task(SG_OP_BIND, &f, sg_block, sk) == SG_VERDICT_DENY && sg_block)
			return -EPERM;
	}
	if (sg_track_owners && is_datagram(&f))
		note_owner(sk, 0);
	return 0;
}

SEC("lsm/socket_getpeername")
int BPF_PROG(sg_net_getpeername, struct socket *sock, int ret)
{
	struct sock *sk = sock->sk;
	struct flow f = {};

	if (ret)
		return sg_keep_denial(ret);
	if (!inet_socket(sk, &f))
		return 0;
	read_ends((void *)sk, f.family, f.src, &f.sport, f.dst, &f.dport);
	if (!f.dport)
		return 0; /* not connected: ENOTCONN anyway */
	if (decide_task(SG_OP_GETPEERNAME, &f, sg_block, 0) == SG_VERDICT_DENY && sg_block)
		return -EPERM;
	return 0;
}

/* The owner of a listener: its accepts are judged in softirq context, and an
 * MPTCP listener's owner judges the subflows of the connections it accepts. */
SEC("lsm/socket_listen")
int BPF_PROG(sg_net_listen, struct socket *sock, int backlog, int ret)
{
	struct sock *sk = sock->sk;
	struct flow f = {};

	if (ret)
		return sg_keep_denial(ret);
	if (!inet_socket(sk, &f))
		return 0;
	if (sg_track_owners)
		note_owner(sk, 0);
	/* what it accepts inherits this owner, for their subflows */
	if (f.protocol == IPPROTO_MPTCP && OP_ON(SG_OP_CONNECT))
		note_mptcp_owner(sk, 0);
	return 0;
}

SEC("lsm/inet_conn_request")
int BPF_PROG(sg_net_accept, struct sock *sk, struct sk_buff *skb, struct request_sock *req, int ret)
{
	struct sock_common *c = (void *)req;
	struct flow f = { .judge_src = 1 };

	if (ret)
		return sg_keep_denial(ret);
	if (!inet_socket(sk, &f))
		return 0;
	/* A dual-stack listener gets IPv4 requests with IPv4 addresses only. */
	if (skb->protocol == bpf_htons(ETH_P_IP))
		read_ends(c, AF_INET, f.dst, &f.dport, f.src, &f.sport);
	else
		read_ends(c, AF_INET6, f.dst, &f.dport, f.src, &f.sport);
	/* A local client's address was judged at its connect, with its lists. */
	if (OP_ON(SG_OP_CONNECT) && from_local(skb))
		f.no_addr = 1;
	if (decide_owner(SG_OP_ACCEPT, sk, &f, sg_block, 1) == SG_VERDICT_DENY && sg_block)
		return -EPERM;
	return 0;
}

SEC("lsm/socket_sock_rcv_skb")
int BPF_PROG(sg_net_recv, struct sock *sk, struct sk_buff *skb, int ret)
{
	struct flow f = { .judge_src = 1 };
	unsigned char *head;
	struct udphdr uh = {};

	if (ret)
		return sg_keep_denial(ret);
	if (!inet_socket(sk, &f) || !is_datagram(&f))
		return 0; /* TCP peers are judged at connect and accept */
	head = skb->head;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip = {};

		bpf_probe_read_kernel(&ip, sizeof(ip), head + skb->network_header);
		map_v4(f.src, ip.saddr);
		map_v4(f.dst, ip.daddr);
	} else {
		struct ipv6hdr ip6 = {};

		bpf_probe_read_kernel(&ip6, sizeof(ip6), head + skb->network_header);
		__builtin_memcpy(f.src, &ip6.saddr, SG_NET_ADDR_LEN);
		__builtin_memcpy(f.dst, &ip6.daddr, SG_NET_ADDR_LEN);
	}
	bpf_probe_read_kernel(&uh, sizeof(uh), head + skb->transport_header);
	f.sport = bpf_ntohs(uh.source);
	f.dport = bpf_ntohs(uh.dest);
	/* A local sender's destination was judged at its send, with its lists. */
	if (OP_ON(SG_OP_SENDMSG) && from_local(skb))
		f.no_addr = 1;
	if (decide_owner(SG_OP_RECVMSG, sk, &f, sg_block, 1) == SG_VERDICT_DENY && sg_block)
		return -EPERM;
	return 0;
}

/* Degraded mode (no BPF LSM): TCP state changes, audit-only. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sg_net_state, struct sock *sk, int oldstate, int newstate)
{
	struct flow f = {};

	if (!inet_socket(sk, &f) || f.protocol != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT && OP_ON(SG_OP_CONNECT)) {
		/* tcp_v4/v6_connect, in the connecting task */
		read_ends((void *)sk, f.family, f.src, &f.sport, f.dst, &f.dport);
		decide_task(SG_OP_CONNECT, &f, 0, 0);
	} else if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED && OP_ON(SG_OP_ACCEPT)) {
		/* the new socket of a passive open, in softirq context */
		f.judge_src = 1;
		read_ends((void *)sk, f.family, f.dst, &f.dport, f.src, &f.sport);
		decide_owner(SG_OP_ACCEPT, sk, &f, 0, 0);
	}
	return 0;
}
