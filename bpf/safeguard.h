/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ABI between the BPF programs and the agent: constants and the records the
 * kernel side writes into ring buffers. This is the only place the C/Rust
 * contract is written; Rust decodes these structs from the skeletons'
 * generated `types` and asserts their sizes at compile time (src/bpf.rs).
 *
 * Rules for every struct here: fixed sizes, natural alignment, largest fields
 * first, no bool, no pointers, an explicit length beside every byte array.
 */
#ifndef SAFEGUARD_ABI_H
#define SAFEGUARD_ABI_H

#define SG_COMM_LEN 16
#define SG_HOSTNAME_LEN 72 /* __NEW_UTS_LEN (64) + NUL, rounded up to 8 */
#define SG_PATH_LEN 4096   /* PATH_MAX; a power of two (used as a mask) */
#define SG_FILENAME_LEN 512
#define SG_ARGV_LEN 1024   /* a power of two (used as a mask) */
#define SG_RULE_PATH_LEN 256 /* LPM trie data limit: rule paths are shorter */

/* Message kinds: one explicit numbered enum; each module owns a range
 * (process 1-9, file 10-29, network 30-49, mount 50-59, detect 60-79, protect 80-83,
 * telemetry 90-99). */
enum sg_kind {
	SG_KIND_EXEC = 1,
	SG_KIND_FORK = 2,
	SG_KIND_EXIT = 3,
	SG_KIND_PROCESS_PATH = 4, /* struct sg_file_event: process rules on a mapping, link or rename */
	SG_KIND_FILE = 10,
	SG_KIND_NET = 30,   /* struct sg_net_event: a network decision */
	SG_KIND_MOUNT = 50, /* struct sg_mount_event: a mount decision or record */
	SG_KIND_DETECT = 60, /* struct sg_detect_event: a detection */
	SG_KIND_PROTECT = 80, /* struct sg_protect_event: an attempt on the agent, or a signal let through */
	SG_KIND_TELEMETRY = 90, /* no ring-buffer record: the agent reads the telemetry maps */
};

/* Operations, as logged in the record's `op` field; the same ranges. */
enum sg_op {
	SG_OP_EXEC = 1,
	SG_OP_FORK = 2,
	SG_OP_EXIT = 3,
	SG_OP_MMAP = 4,     /* process: an executable mapping of a file */
	SG_OP_MPROTECT = 5, /* process: a file mapping made executable */
	SG_OP_LINK = 6,     /* process: a hard link to a denied file */
	SG_OP_RENAME = 7,   /* process: a rename of a denied file */
	/* file: SG_OP_FILE_FIRST + the op's index in enum sg_file_op */
	SG_OP_FILE_FIRST = 10,
};

/* File operations: the index of each op's entry in struct sg_file_node, and
 * bit positions in op masks. The order is config::FileOp's. */
enum sg_file_op {
	SG_FILE_READ = 0,
	SG_FILE_WRITE = 1,
	SG_FILE_EXEC = 2,
	SG_FILE_CREATE = 3,
	SG_FILE_DELETE = 4,
	SG_FILE_RENAME = 5,
	SG_FILE_LINK = 6,
	SG_FILE_CHMOD = 7,
	SG_FILE_CHOWN = 8,
	SG_FILE_SETATTR = 9,
	SG_FILE_MMAP = 10,
	SG_FILE_OPS = 11,
};

/* The record's `action`. SG_ACTION_NONE marks life-cycle records. */
enum sg_action {
	SG_ACTION_NONE = 0,
	SG_ACTION_ALLOWED = 1, /* an audit rule matched */
	SG_ACTION_MONITOR = 2, /* block mode would deny */
	SG_ACTION_BLOCKED = 3, /* denied with EPERM */
	SG_ACTION_ALERT = 4,   /* detect: a detection, let through */
	SG_ACTION_KILLED = 5,  /* detect: the task got SIGKILL (and the operation EPERM) */
};

/* Rule ids index the agent's table of rules as written; 0 is "no rule". The
 * ids from the top down are refusals that no rule of the config names. Constants
 * the agent reads are enums, not #defines, so that they reach BTF and the
 * generated Rust view of this header. */
enum sg_rule {
	SG_RULE_NONE = 0,
	SG_RULE_NOT_ALLOWED = 0xffffffff, /* outside a non-empty allow list */
	SG_RULE_UNRESOLVED = 0xfffffffe,  /* a path too deep or long to judge, where rules apply */
	SG_RULE_DETACHED = 0xfffffffd,    /* a file in a detached mount tree: no real path */
	SG_RULE_NEW_MOUNT = 0xfffffffc,   /* an allow rule reached only across a mount made after start */
};

/* Per-rule hit counters (the map sg_rule_hits, bpf/common.bpf.h): the slot of
 * rule id N is N + SG_RULE_SPECIAL_SLOTS - 1; the ids from SG_RULE_NEW_MOUNT up
 * (refusals no config rule names) take slots 0-3 (~id). The agent sizes the map
 * to the module's rules + SG_RULE_SPECIAL_SLOTS. */
enum sg_rule_slots {
	SG_RULE_SPECIAL_SLOTS = 4,
};

/* sg_header.flags */
enum sg_flag {
	SG_FLAG_TRUNCATED = 1 << 0, /* a path could not be resolved completely */
	SG_FLAG_CONTAINER = 1 << 1, /* subject is in a container (sg_is_container) */
	SG_FLAG_ARGV_TRUNCATED = 1 << 2,
};

/* `target` (const volatile in every program) */
enum sg_target {
	SG_TARGET_ALL = 0,
	SG_TARGET_HOST = 1,
	SG_TARGET_CONTAINER = 2,
};

/* Verdict stored in rule maps. */
enum sg_verdict {
	SG_VERDICT_ALLOW = 1,
	SG_VERDICT_DENY = 2,
	SG_VERDICT_AUDIT = 3,
};

/* Per-module counters (a per-CPU array indexed by this enum). */
enum sg_counter {
	SG_COUNTER_TRUNCATED = 0,       /* paths resolved only in part */
	SG_COUNTER_IDENTITIES_FULL = 1, /* file: a rule path's new inode found no room */
	SG_COUNTER_MAX = 2,
};

/* Per-op event accounting (a per-CPU array indexed by sg_header.op, which is
 * below SG_OP_SLOTS in every module): every event a program decided to emit,
 * and those the ring buffer could not take. The agent checks that
 * emitted = records written + events counted as lost. */
enum sg_op_slots {
	SG_OP_SLOTS = 128, /* detect's ops reach 72, protect's 83 */
};
struct sg_op_count {
	__u64 emitted;
	__u64 lost; /* ring buffer full */
};

/* The task an event is about (the subject). */
struct sg_subject {
	__u64 cgroup_id;
	__u64 start_time; /* boot-time ns: with pid, a key that survives pid reuse */
	__u32 pid;        /* tgid, as userspace knows it */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 pidns_inum;
	__u8 comm[SG_COMM_LEN];
	__u8 parent_comm[SG_COMM_LEN];
	__u8 hostname[SG_HOSTNAME_LEN];
};

struct sg_header {
	__u64 time_ns; /* CLOCK_BOOTTIME */
	__u32 kind;    /* enum sg_kind */
	__u32 op;      /* enum sg_op */
	__u32 action;  /* enum sg_action */
	__u32 rule_id;
	__u32 flags;   /* SG_FLAG_* */
	__u32 _pad;
	struct sg_subject subject;
};

/* An exec: a decision (LSM, ACTION set) or the life-cycle record (tracepoint). */
struct sg_exec_event {
	struct sg_header hdr;
	__u32 filename_len;
	__u32 exe_len;
	__u32 argv_len; /* bytes of NUL-separated argv */
	__u32 argc;
	__u8 filename[SG_FILENAME_LEN]; /* as the caller passed it */
	__u8 exe[SG_PATH_LEN];          /* resolved path of the file executed */
	__u8 argv[SG_ARGV_LEN];
};

struct sg_fork_event {
	struct sg_header hdr; /* subject: the parent */
	__u32 child_pid;
	__u32 child_tid;
};

struct sg_exit_event {
	struct sg_header hdr;
	__u32 exit_code; /* wait status: code << 8 | signal */
	__u32 _pad;
};

/* A file operation: the decision and the path(s) it was about (also the process
 * module's SG_KIND_PROCESS_PATH records, with file_op unused). The subject's
 * executable is resolved in the kernel: a short-lived process is gone before
 * the agent could look it up. `names` holds the path, then the target, then
 * the executable, each right after the one before (sg_names_target and
 * sg_names_exe in common.bpf.h), and the event is sent with only the bytes
 * used: a fixed place per name would send the executable's 4 KiB whole, and
 * the ring buffer's copy costs per byte (README, "How it works"). */
struct sg_file_event {
	struct sg_header hdr;
	__u32 exe_len;
	__u32 path_len;
	__u32 target_len; /* rename and link: the new name */
	__u32 file_op;    /* enum sg_file_op */
	__u8 names[3 * SG_PATH_LEN];
};

/* The file module's rules, flattened per rule path ("node") when compiled: for
 * each op, what the deepest node says about any path at or below it, with
 * every ancestor rule folded in. */
struct sg_file_op_rules {
	/* Rules with subject selectors (uid, gid, command) that rank above
	 * `rule_id`: bit i is selector rule i, numbered in priority order, so the
	 * lowest bit that the subject also matches wins. */
	__u64 candidates;
	/* Selector allow rules covering this node (the allow-list posture). */
	__u64 allowed_by;
	__u32 rule_id;  /* the best rule without selectors; 0: none */
	__u16 verdict;  /* its enum sg_verdict; SG_VERDICT_AUDIT for audit */
	__u16 allowed;  /* an allow rule without selectors covers this node */
};

struct sg_file_node {
	struct sg_file_op_rules ops[SG_FILE_OPS];
	/* What a link or rename out of this node would shed: a rule without
	 * selectors that denies some op here, and the selector rules that may. */
	__u64 deny_candidates;
	__u32 deny_rule_id;
	__u32 _pad;
};

/* A selector rule (bit i of the masks above). */
struct sg_selector_rule {
	__u32 rule_id;
	__u32 verdict;
};

/* Keys of the rule maps, filled by the agent. */
struct sg_inode_key {
	__u64 ino;
	__u32 dev; /* the kernel's s_dev: (major << 20) | minor */
	__u32 _pad;
};

/* A mount present when the agent loaded its rules: the identity of its root
 * and of the directory it covers (mp_ino = mp_dev = 0: the root directory of
 * the mount namespace). Allow rules do not reach through other mounts. */
struct sg_mount_key {
	__u64 root_ino;
	__u64 mp_ino;
	__u32 root_dev; /* the kernel's s_dev */
	__u32 mp_dev;
};

struct sg_path_key {
	__u32 prefixlen; /* bits, LPM trie convention */
	__u8 path[SG_RULE_PATH_LEN]; /* directories end in '/' */
};

/* A rule path by name: its parent directory's identity and its last component.
 * When a rename, link or create binds a new inode to that name, the file module
 * gives the new inode the rule path's node (the rule follows the name). */
#define SG_NAME_LEN 256 /* NAME_MAX (255) + 1 */

struct sg_name_key {
	__u64 parent_ino;
	__u32 parent_dev; /* the kernel's s_dev */
	__u32 len;        /* bytes of name; the rest is zero */
	__u8 name[SG_NAME_LEN];
};

/* What the path and identity tables hold: for the process module a rule, for
 * the file module a node (struct sg_file_node) that folds in every rule above. */
struct sg_match {
	__u32 id;       /* process: rule id; file: node index */
	__u32 verdict;  /* enum sg_verdict */
	__u32 path_len; /* of the rule's path: the longer rule wins */
	__u32 _pad;
};

/* ==== network module (kinds and ops 30-49) ==== */

enum sg_net_op {
	SG_OP_CONNECT = 30,
	SG_OP_SENDMSG = 31,
	SG_OP_ACCEPT = 32,
	SG_OP_RECVMSG = 33,
	SG_OP_GETPEERNAME = 34,
	SG_OP_BIND = 35,
};

/* The verdict of a network rule entry; NONE marks trie entries that only stop
 * an IPv6 prefix from covering IPv4-mapped addresses (the posture decides). */
enum sg_net_verdict {
	SG_NET_VERDICT_NONE = 0,
};

/* Addresses are 16 bytes: IPv6, or IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d),
 * so that one longest-prefix trie serves both families. */
#define SG_NET_ADDR_LEN 16

/* Rule ids of network refusals that no configured entry names (the network
 * module's own ids from the top down, instead of SG_RULE_DETACHED and below). */
enum sg_net_rule_id {
	SG_NET_RULE_NO_OWNER = 0xfffffffd,  /* softirq hook: socket owner unknown, subject deny lists apply */
	SG_NET_RULE_NO_HEADER = 0xfffffffc, /* raw IP_HDRINCL send whose header could not be read */
};

/* A decision about one socket operation. For connect, sendmsg and getpeername
 * src is the local end and dst the peer; for accept and recvmsg src is the
 * peer and dst the local end; for bind src is the address bound and dst is
 * zero. Ports are in host byte order. */
struct sg_net_event {
	struct sg_header hdr;
	__u8 src_addr[SG_NET_ADDR_LEN];
	__u8 dst_addr[SG_NET_ADDR_LEN];
	__u16 src_port;
	__u16 dst_port;
	__u16 family;   /* of the socket: AF_INET (2) or AF_INET6 (10) */
	__u16 protocol; /* IPPROTO_* of the socket */
	__u32 exe_len;  /* 0: not resolved (a softirq decision: the agent reads /proc) */
	__u32 _pad;
	__u8 exe[SG_PATH_LEN]; /* the subject's executable, resolved in the kernel */
};

/* Key of the network rule trie (BPF_MAP_TYPE_LPM_TRIE). */
struct sg_net_addr_key {
	__u32 prefixlen; /* bits; IPv4 prefixes + 96 */
	__u8 addr[SG_NET_ADDR_LEN];
};

/* Value of every network rule map (trie, comm, exe, uid, gid, ports). */
struct sg_net_rule {
	__u32 rule_id;
	__u32 verdict; /* enum sg_verdict, or SG_NET_VERDICT_NONE */
};

/* The port array (BPF_MAP_TYPE_ARRAY, key __u32, value struct sg_net_rule): one
 * slot per port of each protocol, slot = table base + port; a slot with verdict
 * SG_VERDICT_DENY refuses that port, any other allows it. */
enum sg_net_port {
	SG_NET_PORT_TCP = 0,       /* TCP and MPTCP sockets */
	SG_NET_PORT_UDP = 65536,   /* UDP and UDP-Lite sockets */
	SG_NET_PORT_SLOTS = 131072,
};

/* Key of the `command` map for task names. */
struct sg_comm_key {
	__u8 comm[SG_COMM_LEN];
};

/* ==== end of network module ==== */

/* ==== mount module (kinds and ops 50-59) ==== */

enum sg_mount_op {
	SG_OP_MOUNT = 50,      /* mount(2) (lsm/sb_mount, or its tracepoint) */
	SG_OP_MOVE_MOUNT = 51, /* move_mount(2), the new mount API */
	SG_OP_FSCONFIG = 52,   /* a new superblock (fsconfig(FSCONFIG_CMD_CREATE), lsm/sb_set_mnt_opts) */
	SG_OP_MOUNT_LINK = 53,   /* a hard link that would name a denied source anew (lsm/path_link) */
	SG_OP_MOUNT_RENAME = 54, /* a rename that would (lsm/path_rename) */
};

/* What a mount(2) call does, in the kernel's order of tests (path_mount). */
enum sg_mount_class {
	SG_MOUNT_NEW = 0,
	SG_MOUNT_BIND = 1,
	SG_MOUNT_MOVE = 2,
	SG_MOUNT_REMOUNT = 3,
	SG_MOUNT_PROPAGATION = 4, /* MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE */
};

/* A denied path applies to the path itself and everything below it; its
 * ancestors are denied only as they are (a bind of /var/run exposes
 * /var/run/docker.sock, a bind of /var/run/other does not). Values of
 * sg_match.verdict in the mount module's tables, besides SG_VERDICT_DENY. */
enum sg_mount_verdict {
	SG_MOUNT_VERDICT_EXACT = 4,
};

#define SG_MOUNT_SOURCE_LEN 512 /* a power of two (used as a mask) */
#define SG_FSTYPE_LEN 64

/* sg_mount_event.mount_flags */
enum sg_mount_source_flag {
	/* the source path could not be normalized (too long, too deep) and was
	 * judged as a possible denied path */
	SG_MOUNT_SOURCE_UNRESOLVED = 1 << 0,
	/* decided on what the kernel's own lookup of the source met: a directory
	 * searched, or a /proc magic link followed (source_dev, source_ino: what) */
	SG_MOUNT_SOURCE_LOOKUP = 1 << 1,
};

struct sg_mount_event {
	struct sg_header hdr;
	__u64 flags;          /* mount(2) flags (MS_*); move_mount(2): its flags */
	__u64 source_ino;     /* move_mount: the source's identity; mount(2): what its lookup met */
	__u32 source_dev;     /* (major << 20) | minor; 0: unknown */
	__u32 mount_class;    /* enum sg_mount_class */
	__u32 exe_len;
	__u32 target_len;
	__u32 source_len;     /* the source as the caller passed it */
	__u32 source_path_len; /* 0: not a path, or not normalized */
	__u32 fstype_len;
	__u32 mount_flags;    /* SG_MOUNT_SOURCE_* */
	__u8 exe[SG_PATH_LEN];
	__u8 target[SG_PATH_LEN];
	__u8 source[SG_MOUNT_SOURCE_LEN];
	__u8 source_path[SG_MOUNT_SOURCE_LEN]; /* absolute, '.', '..' and '//' collapsed */
	__u8 fstype[SG_FSTYPE_LEN];
};

/* Key of the mount module's name rules: sources that are not paths (`tmpfs`,
 * `server:/export`) and filesystem types, NUL-padded. */
struct sg_mount_name {
	__u8 name[SG_RULE_PATH_LEN];
};

/* ==== end of mount module ==== */

/* ==== detect module (kinds and ops 60-79) ==== */

/* The built-in detections: the index of each in the agent's table
 * (src/detect/mod.rs, the same order), bit positions in masks, and the record's
 * op (SG_OP_DETECT_FIRST + index). */
enum sg_detection {
	SG_DET_REVERSE_SHELL = 0,
	SG_DET_FILELESS_EXEC = 1,
	SG_DET_EXEC_FROM_WRITABLE = 2,
	SG_DET_MODULE_LOAD = 3,
	SG_DET_PTRACE_INJECT = 4,
	SG_DET_CREDENTIAL_ACCESS = 5,
	SG_DET_ACCOUNT_TAMPER = 6,
	SG_DET_PERSISTENCE = 7,
	SG_DET_LOG_TAMPER = 8,
	SG_DET_PRIVILEGE_ESCALATION = 9,
	SG_DET_CONTAINER_ESCAPE = 10,
	SG_DET_BPF_LOAD = 11,
	SG_DET_USERNS_CREATE = 12,
	SG_DET_COUNT = 13,
};

enum sg_detect_op {
	SG_OP_DETECT_FIRST = 60,
};

/* What a detection does (sg_response[detection], set before load). */
enum sg_response {
	SG_RESPONSE_ALERT = 0,
	SG_RESPONSE_BLOCK = 1, /* EPERM from the hook */
	SG_RESPONSE_KILL = 2,  /* SIGKILL to the task, and EPERM from the hook */
};

/* The `exclude` entries of [detect], as the kernel matches them: entry i is bit
 * i of the masks (at most SG_DETECT_EXCLUSIONS). A subject is excluded from a
 * detection when an entry covering that detection has all its selectors
 * matched: its executable (by identity) or task name (sg_detect_commands) and
 * its uid (sg_detect_uids). */
#define SG_DETECT_EXCLUSIONS 64

/* Key of sg_detect_commands: an executable by identity (ino, dev; comm zero)
 * or a task name (comm; ino and dev zero). The value is the mask of the
 * exclusions (bit i: entry i) that name it; sg_detect_uids maps a uid (__u32)
 * to the same kind of mask. */
struct sg_command_key {
	__u64 ino;
	__u32 dev; /* the kernel's s_dev */
	__u32 _pad;
	__u8 comm[SG_COMM_LEN];
};

/* A detection. Evidence: `path` (the file executed, opened or loaded), the
 * peer of a socket (reverse_shell), the target task (ptrace_inject), `arg`
 * (a number whose meaning is the detection's: the fd, the ptrace mode, the BPF
 * program type). Sent with only the bytes used: up to path + path_len. */
struct sg_detect_event {
	struct sg_header hdr;
	__u32 detection; /* enum sg_detection */
	__u32 target_pid;
	__u32 arg;
	__u32 port;      /* the peer's, host byte order */
	__u16 family;    /* of the peer: AF_INET, AF_INET6; 0: none */
	__u16 _pad;
	__u32 exe_len;
	__u32 parent_exe_len;
	__u32 grandparent_exe_len;
	__u32 path_len;
	__u32 _pad2;
	__u8 addr[SG_NET_ADDR_LEN]; /* IPv4 as IPv4-mapped IPv6 */
	__u8 target_comm[SG_COMM_LEN];
	__u8 name[SG_COMM_LEN]; /* bpf_load: the program's name */
	__u8 exe[SG_PATH_LEN];
	__u8 parent_exe[SG_PATH_LEN];
	__u8 grandparent_exe[SG_PATH_LEN];
	__u8 source[SG_MOUNT_SOURCE_LEN]; /* container_escape: the mount's source string */
	__u8 path[SG_PATH_LEN];
};

/* Key of sg_interpreters: the name of a shell or interpreter's file, cut at
 * its first digit or dot (python3.11 -> python), NUL-padded. */
struct sg_interp_key {
	__u8 name[SG_COMM_LEN];
};

/* Value of sg_watches (key struct sg_inode_key): what touching the file (or,
 * with SG_WATCH_DIR, a name directly in the directory, new ones included)
 * means. Filled by the agent from its table of paths at start, by identity, so
 * that another name (a hard link, a bind mount) is the same file. */
enum sg_watch {
	SG_WATCH_READ_CREDENTIAL = 1 << 0, /* read: credential_access */
	SG_WATCH_WRITE_ACCOUNT = 1 << 1,   /* written, created, renamed over, linked: account_tamper */
	SG_WATCH_WRITE_PERSIST = 1 << 2,   /* the same: persistence */
	SG_WATCH_LOG = 1 << 3,             /* truncated, deleted, renamed: log_tamper */
	SG_WATCH_LOGIN_RECORD = 1 << 4,    /* written (wtmp, btmp, lastlog): log_tamper */
	SG_WATCH_NAMES = 1 << 6,           /* a directory: look its names up in sg_watch_names */
	SG_WATCH_DIR = 1 << 7,             /* the bits apply to the names in the directory */
};

/* sg_watch_filter: a bit per inode number (bit ino % (64 * WORDS) of the
 * array's words) of every key of sg_watches, so that an open that concerns none
 * of the table (nearly all) costs two array reads, not two hash lookups. */
enum sg_watch_filter {
	SG_WATCH_FILTER_WORDS = 64,
};

/* Key of sg_watch_names: a name in a directory (by identity), for the files of
 * the table that may not exist at start (/etc/ld.so.preload, authorized_keys):
 * creating one, or renaming or linking something to that name, is seen. The
 * value holds enum sg_watch bits. */
#define SG_WATCH_NAME_LEN 32
struct sg_watch_name {
	__u64 ino;
	__u32 dev;
	__u32 _pad;
	__u8 name[SG_WATCH_NAME_LEN]; /* NUL-padded */
};

/* sg_detect_event.arg of the file detections: what was done to the file. */
enum sg_watch_access {
	SG_ACCESS_READ = 1,
	SG_ACCESS_WRITE = 2,    /* opened for writing (or created) */
	SG_ACCESS_TRUNCATE = 3, /* truncate(2), ftruncate(2), O_TRUNC */
	SG_ACCESS_DELETE = 4,   /* unlink */
	SG_ACCESS_RENAME = 5,   /* renamed away, over, or into the directory */
	SG_ACCESS_LINK = 6,     /* a hard link made in the directory */
};

/* sg_detect_event.arg of container_escape: the technique seen. */
enum sg_escape_via {
	SG_ESCAPE_CORE_PATTERN = 1,  /* /proc/sys/kernel/core_pattern opened for writing */
	SG_ESCAPE_MODPROBE = 2,      /* /proc/sys/kernel/modprobe opened for writing */
	SG_ESCAPE_UEVENT_HELPER = 3, /* /sys/kernel/uevent_helper opened for writing */
	SG_ESCAPE_RELEASE_AGENT = 4, /* a cgroup v1 release_agent opened for writing */
	SG_ESCAPE_MOUNT_DEVICE = 5,  /* a new mount of a source under /dev/ */
	SG_ESCAPE_BIND_SYS = 6,      /* a bind of /proc/sys or /sys elsewhere */
	SG_ESCAPE_REMOUNT_SYS = 7,   /* /proc/sys or a sysfs remounted without read-only */
	SG_ESCAPE_HOST_PROCESS = 8,  /* a process outside the container's pid namespace reached through /proc */
	SG_ESCAPE_MODULE_LOAD = 9,   /* init_module, finit_module */
	SG_ESCAPE_MODULE_REQUEST = 10, /* a module the kernel is asked to load on the task's behalf */
};

/* ==== end of detect module ==== */

/* ==== protect module (kinds and ops 80-83) ==== */

/* What an attempt on the agent tried (the record's `tried`); the record's `op` is
 * always `tamper`, or `signal` for a signal the service manager sent. Several
 * kinds of attempt share an op number (the counters' slots are few): `arg` and
 * the event's fields tell them apart. */
enum sg_protect_op {
	SG_OP_PROTECT_SIGNAL = 80,   /* task_kill; arg: the signal */
	SG_OP_PROTECT_TASK = 81,     /* ptrace, rlimit, nice, scheduler, I/O priority (arg: enum sg_protect_task) */
	SG_OP_PROTECT_BPF = 82,      /* a writable map fd, a link or program detach (object_kind, object_id) */
	SG_OP_PROTECT_FILE = 83,     /* write, truncate, chmod, flags, delete, rename, mount over (file_op) */
};

/* sg_protect_event.arg of SG_OP_PROTECT_TASK */
enum sg_protect_task {
	SG_PROTECT_TASK_PTRACE = 1,
	SG_PROTECT_TASK_RLIMIT = 2,
	SG_PROTECT_TASK_NICE = 3,
	SG_PROTECT_TASK_IOPRIO = 4,
	SG_PROTECT_TASK_SCHEDULER = 5,
};

/* sg_protect_event.file_op of SG_OP_PROTECT_FILE */
enum sg_protect_file_op {
	SG_PROTECT_WRITE = 1,
	SG_PROTECT_TRUNCATE = 2,
	SG_PROTECT_CHMOD = 3,
	SG_PROTECT_FLAGS = 4, /* chattr (FS_IOC_SETFLAGS, FS_IOC_FSSETXATTR) */
	SG_PROTECT_DELETE = 5,
	SG_PROTECT_RENAME = 6,
	SG_PROTECT_MOUNT = 7, /* mount(2) or move_mount(2) over it */
	SG_PROTECT_CREATE = 8, /* a new name in a protected directory (a forged log or pin) */
};

/* Kinds of protected BPF objects (struct sg_protect_id.kind); the BPF ids
 * themselves come from the agent's /proc/self/fdinfo. */
enum sg_protect_object {
	SG_PROTECT_MAP = 1,
	SG_PROTECT_PROG = 2,
	SG_PROTECT_LINK = 3,
};

struct sg_protect_id {
	__u32 kind; /* enum sg_protect_object */
	__u32 id;
};

/* Values of the protected-inode map: bits. */
enum sg_protect_what {
	SG_PROTECT_FILE = 1 << 0,    /* the inode itself: no write, truncate, removal, rename, mount over */
	SG_PROTECT_DIR = 1 << 1,     /* a directory whose entries are the agent's (pins, logs) */
	SG_PROTECT_CREATED = 1 << 0 | 1 << 2, /* a file the agent created (a rotated log) */
};

struct sg_protect_event {
	struct sg_header hdr;
	__u64 target_ino;   /* file attempts: the file's identity */
	__u32 target_dev;   /* the kernel's s_dev */
	__u32 target_pid;   /* signal and task attempts: the agent's thread */
	__u32 arg;          /* signal, ptrace mode, enum sg_protect_task, fmode, bpf cmd, mode, ioctl cmd */
	__u32 object_kind;  /* enum sg_protect_object */
	__u32 object_id;    /* the BPF map, program or link */
	__u32 file_op;      /* enum sg_protect_file_op */
	__u32 what;         /* the protected-inode map's bits for the file (or its directory) */
	__u32 name_len;
	__u8 name[SG_NAME_LEN]; /* the file's last name component */
};

/* ==== end of protect module ==== */

/* ==== telemetry module (kind 90, ops 90-99): aggregated in maps, read by the agent ==== */

/* Records the agent writes from the maps (nothing goes through the ring buffer). */
enum sg_tel_op {
	SG_OP_TEL_RESOURCE = 90, /* one process in an interval */
	SG_OP_TEL_NET_DROP = 91, /* packets dropped for one reason in an interval */
	SG_OP_TEL_FORWARD = 92,  /* packets forwarded in an interval */
	SG_OP_TEL_OVERFLOW = 93, /* what the bounded tables had no room for */
	SG_OP_TEL_RUNQ = 94,     /* the host's run-queue waits in an interval, by slot */
};

/* Run-queue wait histogram: slot i counts waits of [2^i, 2^(i+1)) microseconds
 * (slot 0 also below 1 us); the last slot everything longer. */
enum sg_tel_hist {
	SG_TEL_HIST_SLOTS = 24, /* 2^23 us = 8.4 s and more in the last slot */
};

/* Per-CPU counters of the telemetry object (the map tel_counters). */
enum sg_tel_counter {
	SG_TEL_PROCS_FULL = 0,   /* a process found no room in tel_procs: its counts were not kept */
	SG_TEL_WAKEUPS_FULL = 1, /* a wake-up found no room in tel_wakeups: its run-queue wait was not measured */
	SG_TEL_DROPS_FULL = 2,   /* a drop reason found no room in tel_drops: the drop was not counted */
	SG_TEL_FORWARDED = 3,    /* packets that entered the IPv4/IPv6 forward path */
	SG_TEL_EXITS_FULL = 4,   /* a thread's exit found no room in tel_exited: its last counts were lost */
	SG_TEL_COUNTER_MAX = 5,
};

/* What the telemetry programs count of one process (tgid) that the kernel does not:
 * traffic, and the run-queue wait on a kernel without sched_info. Counted since
 * the entry was made; the agent diffs successive reads. Atomic adds from every CPU. */
struct sg_tel_proc {
	__u64 runq_wait_ns; /* without sched_info only (tel_wakeups) */
	__u64 runq_waits;   /* wake-up-to-run intervals measured */
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u64 tx_packets; /* UDP datagrams sent, TCP sendmsg calls that sent data */
	__u64 rx_packets; /* UDP datagrams received, TCP receives that copied data */
	__u64 connections; /* TCP connects started */
	__u64 cgroup_id;
	__u64 start_time; /* of the task that made the entry (boot-time ns) */
	__u32 flags; /* SG_FLAG_CONTAINER */
	__u32 _pad;
	__u8 comm[SG_COMM_LEN]; /* refreshed at exec */
};

/* One thread as the scheduler counts it (its CPU time, switches and run-queue wait
 * since it started): listed by the iterator sg_tel_threads every interval, and
 * kept by sg_tel_thread_exit in tel_exited when it exits, so that what it counted
 * after the last listing is not lost. The agent diffs each thread's reads. */
struct sg_tel_thread {
	__u64 start_time;   /* the thread's (boot-time ns): with tid, which thread */
	__u64 leader_start; /* the process's: with tgid, which process */
	__u64 cgroup_id;
	__u64 cpu_ns;       /* se.sum_exec_runtime */
	__u64 nvcsw;        /* voluntary switches */
	__u64 nivcsw;       /* involuntary switches */
	__u64 run_delay;    /* sched_info.run_delay: ns waited on a run queue (0 without sched_info) */
	__u64 pcount;       /* sched_info.pcount: arrivals on a CPU */
	__u32 tid;
	__u32 tgid;
	__u32 flags; /* SG_FLAG_CONTAINER */
	__u32 renamed_from; /* in tel_exited: not an exit but an exec by this former tid */
	__u8 comm[SG_COMM_LEN]; /* the process's (its group leader's) */
};

/* Per CPU (tel_cpu): the host's run-queue waits measured on this CPU, by slot (1 in
 * sg_tel_runq_sample, picked by the xorshift state `random`); and, on a kernel
 * without sched_info, the thread on the CPU and the wait that ended when it came on
 * (credited to its process when it leaves). */
struct sg_tel_cpu {
	__u64 hist[SG_TEL_HIST_SLOTS];
	__u64 wait;
	__u32 tid;
	__u32 waited;
	__u32 random; /* the CPU's xorshift state: which waits the histogram measures */
	__u32 _pad32;
	__u64 _pad[5]; /* 256 bytes: CPUs next to each other write no common cache line */
};

/* tel_exited key: a thread that exited since the agent last read the table. */
struct sg_tel_thread_key {
	__u64 start_time;
	__u32 tid;
	__u32 _pad;
};

/* tel_drops key: the kernel's drop reason (5.17+), or where the packet was
 * freed (5.10: no reasons; reason 0, location the caller's address). */
struct sg_tel_drop_key {
	__u64 location;
	__u32 reason;
	__u32 _pad;
};

#endif /* SAFEGUARD_ABI_H */
