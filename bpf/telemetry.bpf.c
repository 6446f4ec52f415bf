// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The telemetry module (SPEC section 10): resource and packet counts kept in
 * maps, never one record per event. The agent (src/telemetry/) reads the maps
 * every interval, diffs them and writes the records.
 *
 * Per thread, what the scheduler counts anyway (CPU time, voluntary and
 * involuntary switches, run-queue wait in sched_info): nothing runs per switch
 * to count them. The iterator sg_tel_threads lists every thread's counts each
 * interval, and tp_btf/sched_process_exit keeps an exiting thread's last counts
 * in tel_exited until the agent reads them; the agent diffs and sums per process.
 *
 * Per host, the run-queue waits by length (the histogram): tp_btf/sched_switch,
 * one per-CPU slot increment per wait, no table lookup. On a kernel that keeps no
 * sched_info, tp_btf/sched_wakeup, sched_wakeup_new and sched_switch time the
 * waits themselves (tel_wakeups) and credit them to the process in tel_procs.
 *
 * Per process (tgid, table tel_procs), in the task's own context:
 * fexit/tcp_sendmsg, udp_sendmsg, udpv6_sendmsg: bytes and packets sent;
 * fexit/tcp_recvmsg, tcp_splice_read, fentry/skb_consume_udp: bytes and packets received;
 * fentry/tcp_connect: connections opened.
 * Per host: tp_btf/kfree_skb (drops, by the kernel's reason where it has one,
 * by location on 5.10), fexit/ip_forward and ip6_forward (forwarded).
 *
 * Tables are fixed in size (the agent sets them before load); what does not
 * fit is counted in tel_counters, never silent.
 */
/* common.bpf.h brings path resolution, which telemetry never calls. */
#pragma clang diagnostic ignored "-Wunused-function"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* 1: the threads' counts are read (the cpu or runq measure): sg_tel_exec tells
 * the agent about a thread that took its leader's pid. */
const volatile __u32 sg_tel_threads_on = 0;
/* 1: the run-queue wait is timed by the wake-up programs and tel_wakeups, on a
 * kernel that does not keep its own (sched_info, /proc/PID/schedstat) or where
 * sg_tel_switch cannot read the run queue's clock; 0: the kernel's sched_info,
 * and no wake-up program runs. */
const volatile __u32 sg_tel_runq_wakeups = 0;
/* With sched_info: the histogram measures one wait in this many, picked at random
 * ([telemetry] runq_sample; 1: every wait). Run at every switch, the timing and the
 * slot cost about as much as attaching a program at all; the exact count and sum of
 * the waits come from the threads' sched_info anyway. */
const volatile __u32 sg_tel_runq_sample = 1;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192); /* set by the agent: [telemetry] max_processes */
	__type(key, __u32);        /* tgid */
	__type(value, struct sg_tel_proc);
} tel_procs SEC(".maps");

/* When each runnable thread started waiting (boot-time ns), 0 when it is not
 * waiting. An entry is made on a thread's first wait and then written in place
 * (a lookup, not an insert and a delete per wait); the LRU drops the entries of
 * threads long gone. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768); /* set by the agent */
	__type(key, __u32);         /* tid */
	__type(value, __u64);
} tel_wakeups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct sg_tel_drop_key);
	__type(value, __u64);
} tel_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_TEL_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tel_counters SEC(".maps");

/* The threads that exited since the agent last read this table, with their last
 * counts; and the threads that exec'd as their leader (renamed_from set, key
 * {former tid, 0}: see sg_tel_exec). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192); /* set by the agent: [telemetry] max_processes */
	__type(key, struct sg_tel_thread_key);
	__type(value, struct sg_tel_thread);
} tel_exited SEC(".maps");

/* One row per CPU, written by that CPU only (a switch runs with preemption off):
 * an array indexed by the CPU's number, whose lookup the verifier inlines where a
 * per-CPU array's is a call (before 6.10). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set by the agent: the possible CPUs */
	__type(key, __u32);
	__type(value, struct sg_tel_cpu);
} tel_cpu SEC(".maps");

static __always_inline struct sg_tel_cpu *this_cpu(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&tel_cpu, &cpu);
}

/* A new table entry is built here: struct sg_tel_proc is too big for the stack
 * next to the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_tel_proc);
} tel_scratch SEC(".maps");

static __always_inline void tel_count(__u32 counter)
{
	__u64 *value = bpf_map_lookup_elem(&tel_counters, &counter);

	if (value)
		*value += 1; /* per-CPU */
}

/* A new entry for the process, made from its task; 0 when the table is full
 * (counted). */
static __always_inline struct sg_tel_proc *proc_new(__u32 tgid, struct task_struct *task)
{
	struct sg_tel_proc *proc;
	__u32 zero = 0;
	long err;

	proc = bpf_map_lookup_elem(&tel_scratch, &zero);
	if (!proc)
		return 0;
	__builtin_memset(proc, 0, sizeof(*proc));
	proc->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	proc->start_time = BPF_CORE_READ(task, group_leader, start_time);
	if (sg_is_container(task))
		proc->flags = SG_FLAG_CONTAINER;
	BPF_CORE_READ_STR_INTO(&proc->comm, task, group_leader, comm);
	err = bpf_map_update_elem(&tel_procs, &tgid, proc, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU made it */) {
		tel_count(SG_TEL_PROCS_FULL);
		return 0;
	}
	return bpf_map_lookup_elem(&tel_procs, &tgid);
}

/* The entry of the process of a task the program was given (a BTF pointer: read
 * directly, no helper call), made on first sight. */
static __always_inline struct sg_tel_proc *proc_of(struct task_struct *task)
{
	__u32 tgid = task->tgid;
	struct sg_tel_proc *proc = bpf_map_lookup_elem(&tel_procs, &tgid);

	return proc ? proc : proc_new(tgid, task);
}

/* The entry of the current process. */
static __always_inline struct sg_tel_proc *proc_of_current(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct sg_tel_proc *proc = bpf_map_lookup_elem(&tel_procs, &tgid);

	return proc ? proc : proc_new(tgid, (struct task_struct *)bpf_get_current_task());
}

/* task->__state (5.14+) or task->state (5.10). */
struct task_struct___state_long {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return task->__state;
	return ((struct task_struct___state_long *)task)->state;
}

/* The histogram slot of a wait in ns: floor(log2(microseconds)), 0 below 2 us,
 * the last slot from 2^23 us. The microseconds by a multiply and a shift (high by
 * at most one part in six million: a wait a few ns short of a slot's bound of 8 ms
 * or more may count in that slot; a division is several instructions more), the
 * logarithm by a binary search over the 23 bits that matter: this runs in the
 * scheduler, for one switch in runq_sample. */
static __always_inline __u32 wait_slot(__u64 ns)
{
	__u64 us;
	__u32 r = 0;

	if (ns >= (1ULL << 23) * 1000)
		return SG_TEL_HIST_SLOTS - 1;
	us = (ns * 1073742) >> 30; /* 2^30 / 1000, rounded up */
	if (us >> 16) {
		us >>= 16;
		r += 16;
	}
	if (us >> 8) {
		us >>= 8;
		r += 8;
	}
	if (us >> 4) {
		us >>= 4;
		r += 4;
	}
	if (us >> 2) {
		us >>= 2;
		r += 2;
	}
	if (us >> 1)
		r += 1;
	return r;
}

static __always_inline void runq_enqueue(__u32 tid, __u64 now)
{
	__u64 *since = bpf_map_lookup_elem(&tel_wakeups, &tid);

	if (since) {
		*since = now;
		return;
	}
	if (bpf_map_update_elem(&tel_wakeups, &tid, &now, BPF_ANY))
		tel_count(SG_TEL_WAKEUPS_FULL);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sg_tel_wakeup, struct task_struct *p)
{
	runq_enqueue(p->pid, bpf_ktime_get_boot_ns());
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sg_tel_wakeup_new, struct task_struct *p)
{
	runq_enqueue(p->pid, bpf_ktime_get_boot_ns());
	return 0;
}

/* The host's run-queue waits, by slot, in this CPU's histogram (no lock, no table
 * lookup; the agent sums the CPUs). */
static __always_inline void count_wait(struct sg_tel_cpu *cur, __u64 wait)
{
	__u32 slot = wait_slot(wait);

	if (slot >= SG_TEL_HIST_SLOTS) /* for the verifier: it is not */
		slot = SG_TEL_HIST_SLOTS - 1;
	cur->hist[slot] += 1;
}

/* Without sched_info: the process's run-queue wait, which the kernel does not keep. */
static __always_inline void credit_wait(struct task_struct *task, __u64 wait)
{
	struct sg_tel_proc *proc = proc_of(task);

	if (!proc)
		return;
	__sync_fetch_and_add(&proc->runq_wait_ns, wait);
	__sync_fetch_and_add(&proc->runq_waits, 1);
}

/* Without sched_info: the wait that ended when the thread now leaving came on
 * (timed from its wake-up in tel_wakeups), credited to its process; and the wait,
 * if any, of the thread coming on. */
static __always_inline void switch_timed(struct task_struct *prev, struct task_struct *next)
{
	__u32 prev_tid = prev->pid;
	__u32 next_tid = next->pid;
	struct sg_tel_cpu *cur = this_cpu();
	__u64 *since;

	if (!cur)
		return;
	if (prev_tid && cur->tid == prev_tid && cur->waited)
		credit_wait(prev, cur->wait);
	/* preempted and still runnable: back on the run queue */
	if (prev_tid && task_state(prev) == 0)
		runq_enqueue(prev_tid, bpf_ktime_get_boot_ns());
	cur->tid = next_tid;
	cur->waited = 0;
	since = next_tid ? bpf_map_lookup_elem(&tel_wakeups, &next_tid) : 0;
	if (since && *since) {
		__u64 now = bpf_ktime_get_boot_ns();

		cur->wait = now > *since ? now - *since : 0;
		cur->waited = 1;
		*since = 0;
		count_wait(cur, cur->wait);
	}
}

/* The clock of the run queue a thread is on: the scheduler's "now" at a switch (its
 * sched_info times are on this clock), through the thread's CFS queue: every thread
 * has one, whatever its class, and with CONFIG_FAIR_GROUP_SCHED (the agent checks)
 * it points to its run queue. Three loads, no call. (Not the CPU's `runqueues`: a
 * kernel's BTF may name it while the verifier cannot find its address.) */
static __always_inline __u64 rq_clock_of(struct task_struct *task)
{
	if (bpf_core_field_exists(task->se.cfs_rq->rq))
		return task->se.cfs_rq->rq->clock;
	return 0;
}

/* Loaded for the run-queue measure only. The first three arguments are the same on
 * 5.10 to 6.12 (5.18 added prev_state). With sched_info the wait of the thread
 * coming on is what the kernel is about to add to its run_delay: its run queue's
 * clock less sched_info.last_queued (0: it did not wait, like a switch to the idle
 * task). */
SEC("tp_btf/sched_switch")
int BPF_PROG(sg_tel_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct sg_tel_cpu *cur;
	__u64 queued, now;

	if (sg_tel_runq_wakeups) {
		switch_timed(prev, next);
		return 0;
	}
	/* the idle task (pid 0) is never queued: 0 */
	if (!bpf_core_field_exists(next->sched_info.last_queued))
		return 0;
	queued = next->sched_info.last_queued;
	if (!queued)
		return 0;
	cur = this_cpu();
	if (!cur)
		return 0;
	/* At random, not every Nth: a pattern of switches (a ping-pong) would put
	 * every Nth wait in the same place of it. A xorshift per CPU (Marsaglia's
	 * 13, 17, 5), not bpf_get_prandom_u32: that call costs about what timing the
	 * wait does. Seeded by the first wait's clock. */
	if (sg_tel_runq_sample > 1) {
		__u32 x = cur->random ? cur->random : (__u32)queued | 1;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		cur->random = x;
		/* x below 2^32 / N: the high bits, and no division */
		if (((__u64)x * sg_tel_runq_sample) >> 32)
			return 0;
	}
	now = rq_clock_of(next);
	if (now)
		count_wait(cur, now > queued ? now - queued : 0);
	return 0;
}

/* ---- the scheduler's counts of every thread ---- */

static __always_inline void thread_counts(struct task_struct *task, struct sg_tel_thread *t)
{
	struct task_struct *leader = task->group_leader;

	t->tid = task->pid;
	t->tgid = task->tgid;
	t->start_time = task->start_time;
	t->leader_start = BPF_CORE_READ(leader, start_time);
	t->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	t->cpu_ns = task->se.sum_exec_runtime;
	t->nvcsw = task->nvcsw;
	t->nivcsw = task->nivcsw;
	if (bpf_core_field_exists(task->sched_info.run_delay)) {
		t->run_delay = task->sched_info.run_delay;
		t->pcount = task->sched_info.pcount;
	}
	if (sg_is_container(task))
		t->flags = SG_FLAG_CONTAINER;
	BPF_CORE_READ_STR_INTO(&t->comm, leader, comm);
}

#define SG_PF_EXITING 0x00000004 /* include/linux/sched.h */

/* Every thread, every interval (the agent runs it): its counts so far. Not a thread
 * that is exiting: its last counts come from sg_tel_thread_exit, and a zombie stays
 * listed until it is reaped (listed after its exit was read, it would count again). */
SEC("iter/task")
int sg_tel_threads(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct sg_tel_thread t = {};

	if (!task || (task->flags & SG_PF_EXITING))
		return 0;
	thread_counts(task, &t);
	bpf_seq_write(ctx->meta->seq, &t, sizeof(t));
	return 0;
}

/* A thread exits: its last counts, until the agent reads them. Once per thread,
 * not per switch. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sg_tel_thread_exit, struct task_struct *p)
{
	struct sg_tel_thread t = {};
	struct sg_tel_thread_key key = {};

	thread_counts(p, &t);
	key.start_time = t.start_time;
	key.tid = t.tid;
	if (bpf_map_update_elem(&tel_exited, &key, &t, BPF_ANY))
		tel_count(SG_TEL_EXITS_FULL);
	return 0;
}

/* A new program image: the process's name changes. A thread other than the leader
 * that execs takes the leader's pid and start time (de_thread, after the leader's
 * exit): the agent is told its old tid and its counts at the exec, so that what it
 * counted before is not counted again under its new name. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sg_tel_exec, struct task_struct *p, pid_t old_pid)
{
	__u32 tgid = p->tgid;
	struct sg_tel_proc *proc = bpf_map_lookup_elem(&tel_procs, &tgid);
	struct sg_tel_thread t = {};
	struct sg_tel_thread_key key = {};

	if (proc)
		BPF_CORE_READ_STR_INTO(&proc->comm, p, comm);
	if (!sg_tel_threads_on || (__u32)old_pid == tgid)
		return 0;
	thread_counts(p, &t);
	t.renamed_from = old_pid;
	key.tid = old_pid; /* start_time 0: no thread's */
	if (bpf_map_update_elem(&tel_exited, &key, &t, BPF_ANY))
		tel_count(SG_TEL_EXITS_FULL);
	return 0;
}

/* ---- traffic, in the sending or receiving task's context ---- */

static __always_inline void sent(int ret)
{
	struct sg_tel_proc *proc;

	if (ret <= 0)
		return;
	proc = proc_of_current();
	if (!proc)
		return;
	__sync_fetch_and_add(&proc->tx_bytes, ret);
	__sync_fetch_and_add(&proc->tx_packets, 1);
}

static __always_inline void received(__u32 bytes)
{
	struct sg_tel_proc *proc = proc_of_current();

	if (!proc)
		return;
	__sync_fetch_and_add(&proc->rx_bytes, bytes);
	__sync_fetch_and_add(&proc->rx_packets, 1);
}

SEC("fexit/tcp_sendmsg")
int BPF_PROG(sg_tel_tcp_send, struct sock *sk, struct msghdr *msg, size_t size, int ret)
{
	sent(ret);
	return 0;
}

SEC("fexit/udp_sendmsg")
int BPF_PROG(sg_tel_udp_send, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	sent(ret);
	return 0;
}

SEC("fexit/udpv6_sendmsg")
int BPF_PROG(sg_tel_udp6_send, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	sent(ret);
	return 0;
}

#define SG_MSG_PEEK 2 /* include/linux/socket.h */

/* What tcp_recvmsg copied to the user: its return value, unless it only peeked (the
 * data stays queued, counted when it is read). Not tcp_cleanup_rbuf's `copied`:
 * tcp_recvmsg also calls it inside its loop with the running total (before it waits
 * for more, as with MSG_WAITALL; on 5.10 also when packets wait in the backlog) and
 * again at the end, which counted the same bytes twice. */
static __always_inline void tcp_read(int flags, int ret)
{
	if (ret > 0 && !(flags & SG_MSG_PEEK))
		received(ret);
}

/* From 5.19 (`nonblock` folded into flags); the agent loads the one of these two
 * whose parameters the kernel's BTF gives tcp_recvmsg. */
SEC("fexit/tcp_recvmsg")
int BPF_PROG(sg_tel_tcp_recv, struct sock *sk, struct msghdr *msg, size_t len, int flags, int *addr_len,
	     int ret)
{
	tcp_read(flags, ret);
	return 0;
}

/* Before 5.19. */
SEC("fexit/tcp_recvmsg")
int BPF_PROG(sg_tel_tcp_recv_nonblock, struct sock *sk, struct msghdr *msg, size_t len, int nonblock,
	     int flags, int *addr_len, int ret)
{
	tcp_read(flags, ret);
	return 0;
}

/* A splice from the socket: what it moved to the pipe. (Not tcp_read_sock, which
 * does the work: gcc inlines it into its caller in tcp.c, and the fexit on its
 * exported copy never ran for a splice.) */
SEC("fexit/tcp_splice_read")
int BPF_PROG(sg_tel_tcp_splice, struct socket *sock, loff_t *ppos, struct pipe_inode_info *pipe, size_t len,
	     unsigned int flags, long ret)
{
	if (ret > 0)
		received(ret);
	return 0;
}

/* A datagram delivered by udp_recvmsg or udpv6_recvmsg: its payload (the UDP
 * header was pulled when it was queued). */
SEC("fentry/skb_consume_udp")
int BPF_PROG(sg_tel_udp_recv, struct sock *sk, struct sk_buff *skb, int len)
{
	received(skb->len);
	return 0;
}

SEC("fentry/tcp_connect")
int BPF_PROG(sg_tel_connect, struct sock *sk)
{
	struct sg_tel_proc *proc = proc_of_current();

	if (proc)
		__sync_fetch_and_add(&proc->connections, 1);
	return 0;
}

/* ---- per host ---- */

/* 5.10: (skb, location); 5.17+: (skb, location, reason[, rx_sk]). The reason is
 * read only where the kernel has the enum: the verifier never walks the other
 * branch, so the third argument is never read on 5.10. */
SEC("tp_btf/kfree_skb")
int sg_tel_kfree_skb(__u64 *ctx)
{
	struct sg_tel_drop_key key = {};
	__u64 one = 1, *count;

	if (bpf_core_type_exists(enum skb_drop_reason))
		key.reason = (__u32)ctx[2];
	else
		key.location = ctx[1];
	count = bpf_map_lookup_elem(&tel_drops, &key);
	if (count) {
		__sync_fetch_and_add(count, 1);
		return 0;
	}
	if (bpf_map_update_elem(&tel_drops, &key, &one, BPF_NOEXIST)) {
		count = bpf_map_lookup_elem(&tel_drops, &key);
		if (count)
			__sync_fetch_and_add(count, 1);
		else
			tel_count(SG_TEL_DROPS_FULL);
	}
	return 0;
}

/* A packet forwarded: ip_forward and ip6_forward return what sending it on returned
 * (through the FORWARD hook and out: 0, or NET_XMIT_CN when the device queue took it
 * but is congested), else they dropped it (its TTL or hop limit spent, no route, a
 * policy, a full queue: NET_RX_DROP and NET_XMIT_DROP are both 1): a drop, counted by
 * sg_tel_kfree_skb under its reason and not here. */
#define SG_NET_XMIT_CN 2 /* queued; the queue signals congestion */

static __always_inline void forwarded(int ret)
{
	if (ret == 0 || ret == SG_NET_XMIT_CN)
		tel_count(SG_TEL_FORWARDED);
}

SEC("fexit/ip_forward")
int BPF_PROG(sg_tel_forward, struct sk_buff *skb, int ret)
{
	forwarded(ret);
	return 0;
}

SEC("fexit/ip6_forward")
int BPF_PROG(sg_tel_forward6, struct sk_buff *skb, int ret)
{
	forwarded(ret);
	return 0;
}
