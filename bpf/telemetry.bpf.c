// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The telemetry module (SPEC section 10): resource and packet counts kept in
 * maps, never one record per event. The agent (src/telemetry/) reads the maps
 * every interval, diffs them and writes the records.
 *
 * Per process (tgid, table tel_procs):
 * - tp_btf/sched_switch: CPU time and run-queue wait, as the scheduler counts
 *   them for each thread (se.sum_exec_runtime, sched_info: the differences
 *   between a thread's coming on a CPU and its leaving it), and voluntary and
 *   involuntary switches;
 * - on a kernel that keeps no sched_info: tp_btf/sched_wakeup, sched_wakeup_new
 *   and sched_switch time the wait from the wake-up (or the preemption) to the
 *   coming on the CPU, in tel_wakeups;
 * - fexit/tcp_sendmsg, udp_sendmsg, udpv6_sendmsg: bytes and packets sent;
 *   fentry/tcp_cleanup_rbuf, skb_consume_udp: bytes and packets received;
 *   fentry/tcp_connect: connections opened. All in the task's own context.
 * Per host: tp_btf/kfree_skb (drops, by the kernel's reason where it has one,
 * by location on 5.10), fentry/ip_forward and ip6_forward (forwarded).
 *
 * Tables are fixed in size (the agent sets them before load); what does not
 * fit is counted in tel_counters, never silent.
 */
/* common.bpf.h brings path resolution, which telemetry never calls. */
#pragma clang diagnostic ignored "-Wunused-function"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Which measures are on: the verifier prunes the rest. */
const volatile __u32 sg_tel_cpu = 0;  /* CPU time and context switches */
const volatile __u32 sg_tel_runq = 0; /* run-queue wait */
/* 1: the run-queue wait is timed by the wake-up programs and tel_wakeups, on a
 * kernel that does not keep its own (sched_info, /proc/PID/schedstat); 0: read
 * from the kernel's sched_info at each switch, and no wake-up program runs. */
const volatile __u32 sg_tel_runq_wakeups = 0;

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

/* The thread on this CPU, and what the kernel had counted for it when it came
 * on: its CPU time and its run-queue wait are the differences when it leaves,
 * credited then with one lookup of its process (no clock read, no per-thread
 * table). */
struct tel_oncpu {
	__u64 runtime;   /* se.sum_exec_runtime */
	__u64 run_delay; /* sched_info.run_delay (before this arrival) */
	__u64 pcount;    /* sched_info.pcount (arrivals) */
	__u64 wait;      /* sg_tel_runq_wakeups: the wait that ended */
	__u32 tid;
	__u32 waited; /* sg_tel_runq_wakeups: wait is to be credited */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tel_oncpu);
} tel_oncpu SEC(".maps");

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

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
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

/* The run-queue wait that ended when the task on this CPU came on; 0 if none. */
static __always_inline bool runq_wait(struct tel_oncpu *cur, struct task_struct *task, __u64 *wait)
{
	if (sg_tel_runq_wakeups) {
		*wait = cur->wait;
		return cur->waited;
	}
	if (!bpf_core_field_exists(task->sched_info.run_delay))
		return false;
	/* one arrival since it came on: the kernel added that wait */
	if (task->sched_info.pcount != cur->pcount + 1)
		return false;
	*wait = task->sched_info.run_delay - cur->run_delay;
	return true;
}

/* The first three arguments are the same on 5.10 to 6.12 (5.18 added prev_state).
 * pid 0 is the idle task: idle time is nobody's, and it never waits. */
SEC("tp_btf/sched_switch")
int BPF_PROG(sg_tel_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 prev_tid = prev->pid;
	__u32 next_tid = next->pid;
	struct sg_tel_proc *proc;
	struct tel_oncpu *cur;
	__u32 zero = 0;

	cur = bpf_map_lookup_elem(&tel_oncpu, &zero);
	if (!cur)
		return 0;
	if (prev_tid) {
		long state = task_state(prev);
		bool mine = cur->tid == prev_tid;
		__u64 wait = 0;

		/* preempted and still runnable: back on the run queue */
		if (sg_tel_runq && sg_tel_runq_wakeups && state == 0)
			runq_enqueue(prev_tid, bpf_ktime_get_boot_ns());
		if (sg_tel_cpu || mine)
			proc = proc_of(prev);
		else
			proc = 0;
		if (proc && sg_tel_cpu) {
			/* CPU time as the scheduler counts it */
			if (mine)
				__sync_fetch_and_add(&proc->cpu_ns, prev->se.sum_exec_runtime - cur->runtime);
			/* as the kernel counts nvcsw: a switch that is not a
			 * preemption, by a task that is going to sleep */
			if (!preempt && state != 0)
				__sync_fetch_and_add(&proc->switches_voluntary, 1);
			else
				__sync_fetch_and_add(&proc->switches_involuntary, 1);
		}
		if (proc && sg_tel_runq && mine && runq_wait(cur, prev, &wait)) {
			__u32 slot = wait < 1000 ? 0 : log2_u64(wait / 1000);

			if (slot >= SG_TEL_HIST_SLOTS)
				slot = SG_TEL_HIST_SLOTS - 1;
			__sync_fetch_and_add(&proc->runq_wait_ns, wait);
			__sync_fetch_and_add(&proc->runq_waits, 1);
			__sync_fetch_and_add(&proc->runq_hist[slot], 1);
		}
	}
	cur->tid = next_tid;
	if (sg_tel_cpu)
		cur->runtime = next->se.sum_exec_runtime;
	if (sg_tel_runq && !sg_tel_runq_wakeups && bpf_core_field_exists(next->sched_info.run_delay)) {
		cur->run_delay = next->sched_info.run_delay;
		cur->pcount = next->sched_info.pcount;
	}
	if (sg_tel_runq && sg_tel_runq_wakeups) {
		__u64 *since = next_tid ? bpf_map_lookup_elem(&tel_wakeups, &next_tid) : 0;
		__u64 now;

		cur->waited = 0;
		if (since && *since) {
			now = bpf_ktime_get_boot_ns();
			cur->wait = now > *since ? now - *since : 0;
			cur->waited = 1;
			*since = 0;
		}
	}
	return 0;
}

/* A new program image: the process's name changes. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sg_tel_exec, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct sg_tel_proc *proc = bpf_map_lookup_elem(&tel_procs, &tgid);

	if (proc)
		BPF_CORE_READ_STR_INTO(&proc->comm, p, comm);
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

/* Called by tcp_recvmsg with what it copied to the user (and by splice). */
SEC("fentry/tcp_cleanup_rbuf")
int BPF_PROG(sg_tel_tcp_recv, struct sock *sk, int copied)
{
	if (copied > 0)
		received(copied);
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

SEC("fentry/ip_forward")
int BPF_PROG(sg_tel_forward, struct sk_buff *skb)
{
	tel_count(SG_TEL_FORWARDED);
	return 0;
}

SEC("fentry/ip6_forward")
int BPF_PROG(sg_tel_forward6, struct sk_buff *skb)
{
	tel_count(SG_TEL_FORWARDED);
	return 0;
}
