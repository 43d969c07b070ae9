/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libsnapstore: one store holds the copied-out chunks and the metadata of
 * every snapshot of one origin device.
 *
 * Model.  Snapshots are numbered 1, 2, 3... in creation order and never
 * renumbered (the number is the snapshot id).  The origin stays in place:
 * before a chunk of the origin is overwritten for the first time after a
 * snapshot was taken, its old contents are copied into the store (copy-out)
 * and recorded as an exception that serves every snapshot which saw that
 * content.  Writable snapshots keep private exceptions of their own.
 *
 * Errors.  Every function returns 0 (or a count) on success and -errno on
 * failure; output parameters are left untouched on failure.  -EUCLEAN (or
 * -EILSEQ) means corrupt metadata, -ENOSPC a full store, -EROFS a store
 * opened read-only, -EIO one that failed an I/O and must be reopened.
 * ss_last_error() gives a sentence naming what was wrong for the last
 * failure in this thread.
 *
 * Damage.  ss_store_open() verifies every superblock copy, every tree root
 * and the current space-map bitmap of every group; a damaged root or bitmap
 * refuses the open with -EUCLEAN naming the block.  When the newest commit
 * cannot be read from its superblock copy nor from that copy's mirror, only
 * an older commit is left, and opening on it would roll the store back (the
 * origin may already hold data written after the lost commit's copy-outs):
 * open returns -ESTALE unless SS_OPEN_ACCEPT_ROLLBACK, and ss_store_info()
 * then says rolled_back.  Corrupt metadata found later marks the handle
 * damaged: every call that would change metadata or copy out fails with
 * -EUCLEAN ("store is damaged: ..."), reads that do not touch the damage and
 * ss_store_info() keep working, and nothing more is written to the store.
 *
 * Threading.  A store handle is not thread-safe: the caller serialises every
 * call on one handle (one mutex around the handle is enough).  Extents
 * returned by ss_snapshot_map_read() stay valid only until the next call
 * that may write (origin write, snapshot create/delete/write, cleanup,
 * revert, grow): a frontend that reads the origin or the store through an
 * extent must either finish that read before it lets such a call run for
 * the same chunks, or check ss_store_changes() (below) after the read.
 * Separate handles on separate stores are independent.
 *
 * Durability.  Every mutating call commits its metadata before it returns,
 * so a returned 0 survives a power cut.  ss_origin_prepare_write() returns
 * only once the copy-outs it needed are durable; the caller's own write to
 * the origin is durable after ss_store_flush().  ss_snapshot_create()
 * flushes the origin before it commits, so a created snapshot is durable
 * as a whole: after a power cut it holds every origin write that returned
 * before ss_snapshot_create() was called, flushed or not.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blockdev.h"

typedef struct SsStore SsStore;

#define SS_CHUNK_SIZE_MIN (4u << 10)
#define SS_CHUNK_SIZE_MAX (1u << 20)
#define SS_CHUNK_SIZE_DEFAULT (16u << 10)
#define SS_NAME_MAX 127       /* bytes in a snapshot name, without NUL */
#define SS_VOLUME_NAME_MAX 63 /* bytes in a volume name, without NUL */
#define SS_CACHE_DEFAULT (64u << 20)
#define SS_ORIGIN_ID 0 /* "the current origin" where a snapshot id is taken */

typedef enum SsFullPolicy {
        SS_FULL_REFUSE = 0,     /* an origin write that needs space fails */
        SS_FULL_AUTODELETE = 1, /* drop lowest-priority, oldest unpinned */
} SsFullPolicy;

enum {
        SS_SNAP_WRITABLE = 1u << 0,
        SS_SNAP_PINNED = 1u << 1, /* never auto-deleted */
};

enum {
        SS_OPEN_READONLY = 1u << 0,
        SS_OPEN_GROW_ORIGIN = 1u << 1, /* accept and record a larger origin */
        /* clang-format off */
        SS_OPEN_ACCEPT_ROLLBACK = 1u << 2, /* open on an older commit when the newest is unreadable */
        /* clang-format on */
};

typedef struct SsCreateOptions {
        const char *volume_name;    /* required; ss_volume_name_valid() */
        const uint8_t *volume_uuid; /* 16 bytes, or NULL for a random one */
        uint32_t chunk_size;        /* bytes, power of two; 0 = default */
        SsFullPolicy full_policy;
        bool force; /* overwrite a device that already holds a store */
} SsCreateOptions;

/* Called when the store-full policy deleted a snapshot to make room. */
typedef void (*SsAutodeleteFn)(void *user, uint32_t id, const char *name);

typedef struct SsOpenOptions {
        unsigned flags;     /* SS_OPEN_* */
        size_t cache_bytes; /* metadata cache budget; 0 = SS_CACHE_DEFAULT */
        SsAutodeleteFn on_autodelete;
        void *user;
} SsOpenOptions;

typedef struct SsStoreInfo {
        uint8_t uuid[16];
        uint8_t volume_uuid[16];
        char volume_name[SS_VOLUME_NAME_MAX + 1];
        uint32_t chunk_size;
        uint64_t origin_size; /* bytes */
        uint64_t store_size;  /* bytes of the store device in use */
        uint64_t txid;        /* last committed transaction */
        uint32_t snapshot_count;
        uint32_t next_id;
        uint64_t data_bytes;     /* copied-out chunks, shared and private */
        uint64_t metadata_bytes; /* superblocks, space map, B-tree nodes */
        uint64_t free_bytes;
        uint64_t shared_exceptions;
        uint64_t private_exceptions;
        uint32_t cleanup_jobs;  /* deletions whose space is still being freed */
        uint32_t revert_target; /* snapshot an unfinished revert goes to, or 0 */
        SsFullPolicy full_policy;
        /* clang-format off */
        uint32_t superblock_copies_damaged; /* copies that failed their checks at open */
        bool rolled_back;                   /* opened on an older commit (SS_OPEN_ACCEPT_ROLLBACK) */
        uint64_t lost_txid;                 /* with rolled_back: the newest txid that could not be read, 0 if unknown */
        bool damaged;                       /* metadata damage found since open: no more changes */
        char damage[256];                   /* the first damage found ("" if none): block and what was wrong */
        bool compact_snapshot_table;        /* false: the version-2 table of 160-byte records, until a writable open upgrades it */
        /* clang-format on */
} SsStoreInfo;

typedef struct SsSnapshotInfo {
        uint32_t id;
        uint32_t flags; /* SS_SNAP_* */
        int32_t priority;
        int64_t ctime;        /* seconds since the epoch */
        uint64_t origin_size; /* bytes: the size of this snapshot's image */
        char name[SS_NAME_MAX + 1];
} SsSnapshotInfo;

typedef struct SsSnapshotUsage {
        uint64_t exclusive_bytes; /* freed if this snapshot alone is deleted */
        uint64_t shared_chunks;   /* copied-out chunks only this one needs */
        uint64_t private_chunks;  /* chunks written to this writable snapshot */
} SsSnapshotUsage;

typedef enum SsExtentKind {
        SS_EXTENT_ORIGIN = 0,
        SS_EXTENT_STORE = 1,
} SsExtentKind;

typedef struct SsExtent {
        uint64_t offset;     /* bytes into the snapshot image */
        uint64_t length;     /* bytes */
        uint64_t dev_offset; /* bytes into the origin or the store device */
        SsExtentKind kind;
} SsExtent;

/* Position of a changed-chunk iteration.  Plain data: a caller may save it
 * (e.g. with a replication checkpoint) and resume later on the same store,
 * as long as both snapshots still exist. */
typedef struct SsDeltaCursor {
        uint32_t from, to; /* snapshot ids; from 0 = everything, to 0 = origin */
        uint32_t phase;    /* internal: which index is being walked */
        uint32_t hi;       /* internal: position in that index */
        uint64_t chunk;    /* internal: position in that index */
} SsDeltaCursor;

typedef void (*SsReportFn)(void *user, const char *message);

/* The sentence describing the last failure of this thread. */
const char *ss_last_error(void);

/* Store lifecycle.  Devices stay owned by the caller and must outlive the
 * handle.  ss_store_create() refuses a device that already carries a store
 * (-EEXIST) unless opts->force. */
int ss_store_create(SsBlockDev *origin, SsBlockDev *store, const SsCreateOptions *opts);
int ss_store_open(SsBlockDev *origin, SsBlockDev *store, const SsOpenOptions *opts,
                  SsStore **ret_store);
int ss_store_close(SsStore *s);
/* What a store's superblock says about itself, without opening the store
 * (no origin needed, nothing written): the label hot-plug recognises a
 * store by (udev/zuma-udev-probe.c).  -ENODATA: the device holds no
 * store; -EUCLEAN and the other errors of ss_store_open(): it holds one
 * that cannot be read (ss_last_error() says why); -ESTALE: only an older
 * commit is readable (the label is still filled in). */
typedef struct SsStoreLabel {
        uint8_t uuid[16];        /* this store */
        uint8_t volume_uuid[16]; /* the volume it belongs to */
        char volume_name[SS_VOLUME_NAME_MAX + 1];
        uint32_t chunk_size;  /* bytes */
        uint64_t origin_size; /* bytes */
        uint64_t txid;        /* newest readable commit */
} SsStoreLabel;
int ss_store_probe(SsBlockDev *store, SsStoreLabel *ret_label);
int ss_store_info(SsStore *s, SsStoreInfo *ret_info);
int ss_store_set_full_policy(SsStore *s, SsFullPolicy policy);
int ss_store_flush(SsStore *s); /* makes in-place origin/snapshot writes durable */

/* Grow the origin or the store after its device was grown; never shrinks.
 * The store's metadata lives in the same space map as its data, so growing
 * the store grows the room for metadata too. */
int ss_origin_grow(SsStore *s, uint64_t new_origin_size);
int ss_store_grow(SsStore *s, uint64_t new_store_size);

/* Snapshots.  ss_snapshot_create() flushes the origin device, then commits
 * (see Durability above). */
int ss_snapshot_create(SsStore *s, const char *name, uint32_t flags, int32_t priority,
                       uint32_t *ret_id);
/* The same with a given creation time (seconds since the epoch): a
 * replica's snapshot keeps the time its source took it. */
int ss_snapshot_create_at(SsStore *s, const char *name, uint32_t flags, int32_t priority,
                          int64_t ctime, uint32_t *ret_id);
int ss_snapshot_delete(SsStore *s, uint32_t id);
int ss_snapshot_rename(SsStore *s, uint32_t id, const char *name);
int ss_snapshot_set_priority(SsStore *s, uint32_t id, int32_t priority);
int ss_snapshot_set_flags(SsStore *s, uint32_t id, uint32_t set, uint32_t clear);
int ss_snapshot_get(SsStore *s, uint32_t id, SsSnapshotInfo *ret_info);
int ss_snapshot_find(SsStore *s, const char *name, uint32_t *ret_id);
/* The first snapshot with an id greater than after_id; -ENOENT past the last. */
int ss_snapshot_next(SsStore *s, uint32_t after_id, SsSnapshotInfo *ret_info);
int ss_snapshot_usage(SsStore *s, uint32_t id, SsSnapshotUsage *ret_usage);
/* The one rule for names (busapi/zuma-name-rule.h): a snapshot name of
 * at most max_len bytes (SS_NAME_MAX at most), and a volume name. */
bool ss_name_valid(const char *name, size_t max_len);
bool ss_volume_name_valid(const char *name);

/* Origin I/O.  Offsets and lengths are multiples of 512 bytes.  Buffers may
 * have any alignment: one aligned to SS_IO_ALIGN goes to the device as it
 * is (O_DIRECT needs that), any other is copied through an aligned buffer
 * of the store's.  The same holds for ss_snapshot_read/write. */
int ss_origin_prepare_write(SsStore *s, uint64_t offset, uint64_t length);
/* Group commit: prepares several writers' ranges in one transaction and one
 * commit, with the same guarantee for each range as
 * ss_origin_prepare_write().  All or nothing: after a failure nothing was
 * copied out, and each range must be prepared alone
 * (ss_origin_prepare_write()) for its own result; the store-full policy is
 * applied only there. */
typedef struct SsRange {
        uint64_t offset; /* bytes */
        uint64_t length; /* bytes */
} SsRange;
int ss_origin_prepare_writes(SsStore *s, const SsRange *ranges, size_t n);
/* The split copy-out: a prepare in three calls, so that its device I/O
 * runs without the caller's lock and several writers' copy-outs share one
 * commit (the design, and why the crash contract holds, at the top of
 * snapstore/origin.c).  A range is done once its plan was applied (or
 * none was needed) with the same guarantee as ss_origin_prepare_write().
 *  - ss_copy_plan() (serialised, as every call): finds the chunks of the
 *    range that need a copy-out and reserves store blocks for them.  0 and
 *    *ret_plan NULL: nothing to copy, write now.  0 and a plan: the range
 *    is in flight until the plan is applied or dropped.  -EAGAIN: another
 *    plan in flight holds a chunk of the range; plan again after that plan
 *    was applied or dropped.  Other errors as ss_origin_prepare_write()
 *    (no store-full policy: prepare the range alone for it).
 *  - ss_copy_plan_io() (NOT serialised: any thread, while other calls run
 *    on the handle and other plans' I/O runs): reads the chunks from the
 *    origin and writes them to the reserved blocks.  The devices must
 *    allow concurrent pread/pwrite when plans do I/O on several threads.
 *  - ss_copy_plans_apply() (serialised): records every plan's chunks that
 *    still need a copy-out, copies any chunk of their ranges that came to
 *    need one since, and commits once.  All or nothing; the plans are
 *    freed either way; after a failure each range must be prepared alone
 *    (ss_origin_prepare_write()) for its own answer.
 *  - ss_copy_plan_drop() (serialised): gives up a plan.
 * While plans are in flight, ss_origin_prepare_write[s]() answer -EAGAIN
 * for ranges that touch theirs, and ss_revert_begin(), ss_revert_step(),
 * ss_origin_grow() and ss_store_close() answer -EBUSY. */
typedef struct SsCopyPlan SsCopyPlan;
int ss_copy_plan(SsStore *s, uint64_t offset, uint64_t length, SsCopyPlan **ret_plan);
int ss_copy_plan_io(SsStore *s, SsCopyPlan *plan);
int ss_copy_plans_apply(SsStore *s, SsCopyPlan *const *plans, size_t n);
void ss_copy_plan_drop(SsStore *s, SsCopyPlan *plan);
int ss_origin_write(SsStore *s, const void *buf, uint64_t offset, size_t length);
int ss_origin_read(SsStore *s, void *buf, uint64_t offset, size_t length);

/* Snapshot I/O.  map_read fills up to max extents covering a prefix of the
 * range and returns how many it filled. */
int ss_snapshot_map_read(SsStore *s, uint32_t id, uint64_t offset, uint64_t length,
                         SsExtent *ret_extents, size_t max);
int ss_snapshot_read(SsStore *s, uint32_t id, void *buf, uint64_t offset, size_t length);
/* A count that moves before any change that may alter what an extent from
 * ss_snapshot_map_read() reads reaches the devices (a copy-out, a block
 * freed, a snapshot deleted, an in-place snapshot write; any commit).  The
 * one call that needs no serialisation: any thread may make it while
 * another runs a call on the handle.  To read extents without holding the
 * lock: take the count and the map under the lock, read the extents
 * without it, then take the count again; if it moved, the data may be
 * stale and the read must be redone (under the lock).  Never moves for
 * reads. */
uint64_t ss_store_changes(const SsStore *s);
/* Reads the n extents of one ss_snapshot_map_read() answer into buf (at
 * the extents' offsets relative to the first), several in flight at once.
 * Like ss_store_changes(), it needs no serialisation: it reads the devices
 * and nothing of the handle's state.  buf and the extents as for
 * ss_dev_pread(): aligned to SS_IO_ALIGN for devices opened O_DIRECT. */
int ss_extents_read(SsStore *s, const SsExtent *ext, size_t n, void *buf);
int ss_snapshot_write(SsStore *s, uint32_t id, const void *buf, uint64_t offset, size_t length);

/* Chunks that may differ between snapshot `from` and `to` (to = 0: the
 * current origin; from = 0: every chunk of `to`).  Each chunk is reported
 * once.  next() returns how many chunk numbers it stored, 0 at the end. */
int ss_delta_begin(SsStore *s, uint32_t from, uint32_t to, SsDeltaCursor *ret_cursor);
int ss_delta_next(SsStore *s, SsDeltaCursor *cursor, uint64_t *ret_chunks, size_t max);

/* Frees the space of deleted snapshots, at most `budget` exceptions per call.
 * Returns 1 while work remains, 0 when none is left. */
int ss_cleanup_step(SsStore *s, unsigned budget);

/* Revert the origin to a snapshot; every snapshot stays intact.  The work is
 * recorded in the store, so after a crash ss_revert_step() finishes it.
 * step() returns 1 while chunks remain, 0 when the origin equals the
 * snapshot.  A step's copy-outs follow the store's full policy (autodelete
 * never picks the revert target); a step that still finds no room fails
 * with -ENOSPC, leaves the revert pending, and ss_last_error() says how much
 * space the rest needs and what would free it. */
int ss_revert_begin(SsStore *s, uint32_t id);
int ss_revert_step(SsStore *s, unsigned budget, uint64_t *ret_chunks_done);
int ss_revert_origin(SsStore *s, uint32_t id);
/* Gives up an unfinished revert: the origin keeps what the revert wrote
 * so far (partly reverted) and takes writes again; every snapshot stays
 * intact.  -ENOENT when no revert is pending. */
int ss_revert_abandon(SsStore *s);

/* Offline checks.  ss_check() reports each problem through fn and returns
 * how many it found (0: the store is consistent). */
int ss_check(SsStore *s, SsReportFn fn, void *user);
