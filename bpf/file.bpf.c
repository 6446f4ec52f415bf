// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The file module: every operation of SPEC 3.1 judged in an LSM hook.
 *
 * A decision costs a bounded number of map lookups whatever the number of
 * rules: the rules are flattened by the agent into "nodes" (one per rule path,
 * every ancestor rule folded in), found by identity (device, inode of the file
 * or the deepest ancestor directory that is a rule path: this holds through
 * hard links, bind mounts, chroots and mount namespaces) or, for rule paths
 * that did not exist when the agent started, by a longest-prefix lookup of
 * the resolved path. Subject selectors (uid, gid, command) become one bit mask
 * per subject, from three or four hash lookups. The path string is built only
 * when a record is emitted.
 */
/* The identity walk of common.bpf.h; sg_resolve then only builds paths. */
#define SG_IDENTITY_WALK
#define SG_WALK_NS_ROOT /* sg_host_root: common.bpf.h */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_EXEC 0x20
#define __FMODE_EXEC 0x20 /* in f_flags */
#define PROT_EXEC 0x4
#define RENAME_EXCHANGE (1 << 1)
/* In check()'s ops, beside the op bits: a rename is an exchange (both files move). */
#define SG_EXCHANGE (1U << 31)
/* What replacing a file's name (rename over it) does to that file. */
#define SG_REPLACED (1U << SG_FILE_WRITE | 1U << SG_FILE_DELETE)
/* The ops that move or add a name of the file, which its own rules then guard. */
#define SG_MOVES (1U << SG_FILE_RENAME | 1U << SG_FILE_LINK)

/* One object in four parts by concern, included in this order: each uses what
 * the ones before define, and the order is the object's code order (moving code
 * changes clang's output, and 6.1's verifier is near its limit in path_rename).
 * overlay.h comes last: the real files behind overlayfs files. */
#include "file/judge.h"
#include "file/hooks.h"
#include "file/audit.h"
#include "file/names.h"
#include "file/overlay.h"
