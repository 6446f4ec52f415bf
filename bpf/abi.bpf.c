// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Never loaded. One global of every ABI struct, so that this object's skeleton
 * carries the one Rust view of bpf/safeguard.h (`crate::bpf::abi`), shared by
 * every module's decoder.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "safeguard.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct sg_exec_event sg_abi_exec_event;
struct sg_fork_event sg_abi_fork_event;
struct sg_exit_event sg_abi_exit_event;
struct sg_file_event sg_abi_file_event;
struct sg_file_node sg_abi_file_node;
struct sg_selector_rule sg_abi_selector_rule;
enum sg_file_op sg_abi_file_op;
struct sg_inode_key sg_abi_inode_key;
struct sg_path_key sg_abi_path_key;
struct sg_name_key sg_abi_name_key;
struct sg_mount_key sg_abi_mount_key;
struct sg_match sg_abi_rule_value;
enum sg_kind sg_abi_kind;
enum sg_op sg_abi_op;
enum sg_action sg_abi_action;
enum sg_counter sg_abi_counter;
enum sg_verdict sg_abi_verdict;
enum sg_target sg_abi_target;
enum sg_rule sg_abi_rule;
enum sg_flag sg_abi_flag;
enum sg_op_slots sg_abi_op_slots;
enum sg_rule_slots sg_abi_rule_slots;

/* network module */
struct sg_net_event sg_abi_net_event;
struct sg_net_addr_key sg_abi_net_addr_key;
struct sg_net_rule sg_abi_net_rule;
struct sg_comm_key sg_abi_comm_key;
enum sg_net_rule_id sg_abi_net_rule_id;
enum sg_net_verdict sg_abi_net_verdict;
enum sg_net_port sg_abi_net_port;
enum sg_net_op sg_abi_net_op;

/* mount module */
struct sg_mount_event sg_abi_mount_event;
struct sg_mount_name sg_abi_mount_name;
enum sg_mount_source_flag sg_abi_mount_source_flag;
enum sg_mount_verdict sg_abi_mount_verdict;
enum sg_mount_op sg_abi_mount_op;
enum sg_mount_class sg_abi_mount_class;

/* protect module */
struct sg_protect_event sg_abi_protect_event;
struct sg_protect_id sg_abi_protect_id;
enum sg_protect_op sg_abi_protect_op;
enum sg_protect_task sg_abi_protect_task;
enum sg_protect_file_op sg_abi_protect_file_op;
enum sg_protect_object sg_abi_protect_object;
enum sg_protect_what sg_abi_protect_what;
/* detect module */
struct sg_detect_event sg_abi_detect_event;
struct sg_command_key sg_abi_command_key;
struct sg_interp_key sg_abi_interp_key;
enum sg_detection sg_abi_detection;
enum sg_detect_op sg_abi_detect_op;
enum sg_response sg_abi_response;
enum sg_watch sg_abi_watch;
enum sg_watch_filter sg_abi_watch_filter;
enum sg_watch_access sg_abi_watch_access;
enum sg_escape_via sg_abi_escape_via;
struct sg_watch_name sg_abi_watch_name;
/* telemetry module */
struct sg_tel_proc sg_abi_tel_proc;
struct sg_tel_drop_key sg_abi_tel_drop_key;
struct sg_tel_thread sg_abi_tel_thread;
struct sg_tel_thread_key sg_abi_tel_thread_key;
struct sg_tel_cpu sg_abi_tel_cpu;
enum sg_tel_op sg_abi_tel_op;
enum sg_tel_hist sg_abi_tel_hist;
enum sg_tel_counter sg_abi_tel_counter;
