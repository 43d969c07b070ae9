/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal structures of libsnapstore, shared by its files and its tools.
 * Nothing outside snapstore/ (and the white-box tests) includes this.
 */
#pragma once

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "snapstore.h"
#include "zuma-name-rule.h"

#define _cleanup_(f) __attribute__((cleanup(f)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* error.c: the per-thread sentence behind the last -errno. */
void ss_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ss_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- keys and in-memory B-tree nodes ---- */

typedef struct SsKey {
        uint64_t a, b;
} SsKey;

static inline int key_cmp(SsKey x, SsKey y)
{
        if (x.a != y.a)
                return x.a < y.a ? -1 : 1;
        if (x.b != y.b)
                return x.b < y.b ? -1 : 1;
        return 0;
}

static inline SsKey key_make(uint64_t a, uint64_t b)
{
        return (SsKey){ a, b };
}

#define KEY_MAX ((SsKey){ UINT64_MAX, UINT64_MAX })

/* Copy-out reads at most this many chunks, and this many bytes, at once. */
#define COPY_BATCH_MAX 256u
#define COPY_BATCH_BYTES (1u << 20)

typedef struct SsNode SsNode;
struct SsNode {
        uint64_t blocknr;
        uint64_t born; /* transaction that allocated the block */
        uint16_t tree;
        uint16_t level;
        uint32_t count;
        uint32_t cap;
        uint32_t val_size;  /* bytes per value: 8 in branches, per tree in leaves */
        uint32_t enc_bytes; /* encoded payload size */
        bool snap_compact;  /* a snapshot leaf in the compact encoding (on disk) */
        SsKey *keys;
        uint8_t *vals;
        bool dirty;
        /* cache bookkeeping */
        uint32_t pins;
        SsNode *hnext;
        SsNode *lru_prev, *lru_next;
};

static inline uint64_t node_u64(const SsNode *n, uint32_t i)
{
        uint64_t v;
        memcpy(&v, n->vals + (size_t)i * 8, 8);
        return v;
}

static inline void node_set_u64(SsNode *n, uint32_t i, uint64_t v)
{
        memcpy(n->vals + (size_t)i * 8, &v, 8);
}

uint32_t tree_leaf_val_size(unsigned tree);

/* codec.c: one place that turns blocks into structures and back.  Decoders
 * check everything and return -EUCLEAN/-EILSEQ with ss_last_error() set. */
typedef struct SsSuper SsSuper;
int ss_block_verify(const void *block, uint32_t magic, uint64_t blocknr, const char *what);
void ss_block_seal(void *block, uint32_t magic, uint64_t blocknr, uint64_t txid);
/* incompat: the store's SS_FEATURE_INCOMPAT_* bits, which choose the
 * encoding of snapshot leaves. */
int ss_node_decode(const void *block, uint64_t blocknr, uint64_t incompat, SsNode *node);
int ss_node_encode(const SsNode *node, uint64_t txid, void *block);
uint32_t ss_leaf_entry_bytes(const SsNode *n, int32_t prev, uint32_t i);
int ss_node_reserve(SsNode *n, uint32_t cap);
void ss_node_free_arrays(SsNode *n);
int ss_super_decode(const void *buf, size_t len, uint64_t blocknr, SsSuper *sb);
size_t ss_super_encode(const SsSuper *sb, void *buf, size_t len); /* the primary copy */
size_t ss_super_encode_at(const SsSuper *sb, void *buf, size_t len, bool mirror);
int ss_snaprec_decode(const void *rec, uint64_t key, SsSnapshotInfo *info);
void ss_snaprec_encode(const SsSnapshotInfo *info, void *rec);

/* ---- the in-memory superblock ---- */

typedef struct SsRoot {
        uint64_t block;
        uint64_t entries;
        uint32_t depth;
        uint32_t nodes;
} SsRoot;

typedef struct SsCleanupJob {
        uint32_t kind, from, to, cursor_hi;
        uint64_t cursor_chunk;
} SsCleanupJob;

struct SsSuper {
        uint64_t txid;
        uint64_t feature_compat, feature_ro_compat, feature_incompat;
        uint8_t uuid[16], volume_uuid[16];
        char volume_name[SS_VOLUME_NAME_MAX + 1];
        uint32_t chunk_size;
        uint32_t full_policy;
        uint64_t origin_size;
        uint64_t store_blocks;
        int64_t created;
        uint32_t next_snapshot;
        uint32_t snapshot_count;
        SsRoot roots[SS_TREE_COUNT];
        uint64_t data_blocks, meta_blocks, free_blocks;
        uint32_t group_count;
        uint32_t cleanup_count;
        SsCleanupJob cleanup[SS_MAX_CLEANUP_JOBS];
        uint32_t revert_target, revert_phase, revert_cursor_hi;
        uint64_t revert_cursor_chunk, revert_done;
        /* group table */
        uint8_t *slot_bits;   /* ceil(group_count / 8) bytes */
        uint16_t *group_free; /* group_count entries */
};

int ss_super_copy(SsSuper *dst, const SsSuper *src);
void ss_super_release(SsSuper *sb);
size_t ss_super_bytes(uint32_t group_count);

/* ---- metadata cache (cache.c) ---- */

typedef struct SsCache {
        SsNode **table;
        size_t buckets;
        size_t nodes;
        size_t bytes, budget;
        SsNode lru; /* sentinel: lru.lru_next is the least recently used */
} SsCache;

/* ---- space map (spacemap.c) ---- */

typedef struct SsGroup {
        uint8_t *bits;      /* current bitmap, NULL if not loaded */
        uint8_t *committed; /* bitmap as last committed, kept while dirty */
        /* Blocks reserved by copy-out plans (origin.c), NULL if none ever
         * was: free in `bits` and on disk, skipped by every allocation.
         * Never evicted, never part of a transaction. */
        uint8_t *reserved;
        bool dirty;
        uint32_t lru_tick;
} SsGroup;

typedef struct SsSpaceMap {
        SsGroup *groups;
        uint32_t ngroups;
        uint32_t loaded;     /* bitmaps in memory */
        uint32_t max_loaded; /* clean bitmaps kept at most */
        uint32_t tick;
        uint64_t data_cursor; /* next-fit hint, blocks */
        uint64_t meta_cursor;
        uint64_t slots, slots_for; /* copy slots in a store of slots_for blocks */
        uint64_t reserved_blocks;  /* set in the groups' `reserved` bitmaps */
} SsSpaceMap;

/* ---- snapshot table (snaptable.c): every live snapshot, in id order ---- */

typedef struct SsSnapTable {
        SsSnapshotInfo *v;
        size_t n, cap;
        /* Name index: open addressing with linear probing, ids by the hash
         * of their name, 0 = empty slot; at most half full. */
        uint32_t *by_name;
        size_t name_slots; /* a power of two, or 0 */
} SsSnapTable;

/* ---- superblock copies as found at open (txn.c) ---- */

typedef struct SsSuperCopy {
        uint64_t blocknr; /* area: copy txid mod 2, +2 areas for the mirror */
        uint64_t txid; /* valid: its txid; damaged: the raw field if the magic is right, else 0 */
        bool valid;
        bool explained; /* damaged, but a commit interrupted by a crash explains it */
        char why[128];  /* damaged: what was wrong */
} SsSuperCopy;

typedef struct SsSuperPick {
        SsSuperCopy copy[SS_SB_AREAS]; /* indexed by area: blocknr / SS_SB_AREA_BLOCKS */
        unsigned chosen;               /* area the open used */
        unsigned damaged;              /* copies that failed their checks */
        bool from_mirror;              /* the newest primary was damaged, its mirror used */
        bool rolled_back;              /* opened on an older commit (accepted) */
        uint64_t lost_txid;            /* with rolled_back, 0 if unknown */
} SsSuperPick;

int super_pick(SsBlockDev *dev, void *buf, unsigned flags, SsSuperPick *ret_pick, SsSuper *ret_sb);
int super_heal(SsStore *s);

/* ---- several reads in flight (readpool.c) ---- */

typedef struct SsRead {
        SsBlockDev *dev;
        void *buf;
        size_t len;
        uint64_t off;
} SsRead;

typedef struct SsReadPool SsReadPool;
int readpool_new(SsReadPool **ret_pool);
void readpool_free(SsReadPool *p);
/* Reads all n, several at once when every device allows it; any thread
 * may call it, with or without the store's lock. */
int readpool_run(SsReadPool *p, const SsRead *reads, size_t n);

/* ---- copy-out plans (origin.c, THE SPLIT COPY-OUT) ---- */

struct SsCopyPlan {
        SsCopyPlan *next;     /* SsStore.plans: every plan in flight */
        uint64_t first, last; /* the range's chunks: no other plan or prepare takes them */
        uint32_t n;           /* chunks to copy out */
        uint64_t *chunks;     /* n, ascending */
        uint64_t *blocks;     /* n: their reserved store blocks; 0 once handed back */
        uint8_t *buf;         /* n chunks, aligned: the origin's data */
        /* What the I/O needs, copied so it reads nothing of the handle. */
        SsBlockDev *origin, *dev;
        uint32_t chunk_shift;
        uint64_t origin_size; /* bytes: the partial last chunk reads short */
        int io;               /* 1 until ss_copy_plan_io(), then its result */
};

/* ---- the store ---- */

struct SsStore {
        SsBlockDev *origin;
        SsBlockDev *dev;
        bool readonly;
        bool failed;       /* an I/O failed mid-transaction: reopen to continue */
        bool damaged;      /* corrupt metadata found: no more changes (store_damaged()) */
        char damage[256];  /* the first damage found */
        SsSuperPick pick;  /* the superblock copies found at open */
        SsSuper sb;        /* current, being modified */
        SsSuper committed; /* as last committed */
        uint64_t txn;      /* id of the open transaction: committed txid + 1 */
        bool txn_dirty;
        SsCache cache;
        SsSpaceMap sm;
        SsSnapTable snaps;
        uint32_t chunk_shift;  /* log2(chunk_size) */
        uint32_t chunk_blocks; /* 4 KiB blocks per chunk */
        void *chunk_buf;       /* aligned, one chunk */
        void *copy_buf;        /* aligned, copy_buf_chunks chunks: copy-out batches */
        uint32_t copy_buf_chunks;
        void *block_buf;   /* aligned, SS_SB_AREA_BLOCKS blocks: sb, bitmaps */
        void *node_buf;    /* aligned, one block: node I/O */
        SsReadPool *reads; /* snapshot reads; thread-safe on its own */
        SsAutodeleteFn on_autodelete;
        void *user;
        SsCopyPlan *plans; /* in flight: planned, not yet applied or dropped */
        /* ss_store_changes(): read by other threads without the caller's
         * lock, so an atomic; moved only by store_changed(). */
        _Atomic uint64_t changes;
};

/* Call before anything that may change what an extent handed out by
 * ss_snapshot_map_read() reads: before the data on the devices changes.
 * Two places do, and between them every such change:
 *   - txn_commit(), for a dirty transaction, before it writes anything.
 *     Every change of where a snapshot's chunk lives commits: a copy-out
 *     (the caller overwrites the origin only after the commit of
 *     ss_origin_prepare_write(); revert writes the origin only after
 *     committing its copy-outs), a new private chunk, a snapshot deleted,
 *     cleanup and autodelete freeing blocks.  A freed block is allocatable
 *     only once the transaction that freed it committed (spacemap.c), so
 *     it is rewritten only after that commit moved the count.
 *   - write_privately(), before it overwrites a writable snapshot's
 *     private chunk in place, the one write to a block that committed
 *     metadata references.
 * The writer's half of a sequence lock: the increment, then a release
 * fence, then the device writes; the reader's half is in
 * ss_store_changes(). */
static inline void store_changed(SsStore *s)
{
        atomic_fetch_add_explicit(&s->changes, 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
}

static inline uint64_t origin_chunks(const SsStore *s, uint64_t size)
{
        return (size + s->sb.chunk_size - 1) >> s->chunk_shift;
}

/* error.c: records corrupt on-disk data (err -EUCLEAN or -EILSEQ,
 * ss_last_error() set) as the store's damage; returns err. */
int store_damaged(SsStore *s, int err);

/* cache.c */
int cache_init(SsCache *c, size_t budget);
void cache_destroy(SsCache *c);
SsNode *cache_find(SsCache *c, uint64_t blocknr);
void cache_insert(SsCache *c, SsNode *n);
void cache_remove(SsCache *c, SsNode *n);
void cache_touch(SsCache *c, SsNode *n);
size_t node_mem(const SsNode *n);
void cache_resized(SsCache *c, SsNode *n, size_t before);
int cache_shrink(SsStore *s); /* evicts, writing dirty victims back */
int cache_write_dirty(SsStore *s);
void cache_drop_all(SsCache *c);

/* btree.c */
int node_get(SsStore *s, uint64_t blocknr, unsigned tree, SsNode **ret);
int node_get_root_at_open(SsStore *s, unsigned tree, SsNode **ret);
void node_put(SsStore *s, SsNode *n);
int bt_lookup(SsStore *s, unsigned tree, SsKey key, void *ret_val);
int bt_seek_ge(SsStore *s, unsigned tree, SsKey key, SsKey *ret_key, void *ret_val);
int bt_seek_le(SsStore *s, unsigned tree, SsKey key, SsKey *ret_key, void *ret_val);
int bt_insert(SsStore *s, unsigned tree, SsKey key, const void *val, bool replace);
int bt_delete(SsStore *s, unsigned tree, SsKey key);
int bt_scan(SsStore *s, unsigned tree, SsKey from, SsKey to, size_t max, SsKey *ret_keys,
            void *ret_vals);

typedef int (*SsNodeVisitor)(SsStore *s, const SsNode *n, SsKey lo, SsKey hi, void *user);
int bt_walk(SsStore *s, unsigned tree, SsNodeVisitor fn, void *user);

/* spacemap.c */
int sm_init(SsStore *s);
void sm_destroy(SsSpaceMap *sm);
int sm_alloc_meta(SsStore *s, uint64_t *ret_block);
int sm_alloc_chunk(SsStore *s, uint64_t *ret_block);
int sm_alloc_chunk_near(SsStore *s, uint64_t hint, uint64_t *ret_block);
/* A chunk for the copy of origin chunk c: in origin order where it can. */
int sm_alloc_copy(SsStore *s, uint64_t origin_chunk, uint64_t *ret_block);
/* Copy-out plans (origin.c): a chunk run placed as sm_alloc_copy() would,
 * but reserved instead of allocated (spacemap.c says what that means);
 * released again, or claimed (allocated in the open transaction). */
int sm_reserve_copy(SsStore *s, uint64_t origin_chunk, uint64_t *ret_block);
void sm_unreserve(SsStore *s, uint64_t block, uint32_t count);
int sm_claim(SsStore *s, uint64_t block, uint32_t count);
int sm_free(SsStore *s, uint64_t block, uint32_t count);
int sm_is_used(SsStore *s, uint64_t block, bool *ret_used);
int sm_mark_used(SsStore *s, uint64_t block, uint32_t count);
int sm_write_dirty(SsStore *s);
void sm_after_commit(SsStore *s);
void sm_abort(SsStore *s);
int sm_load_group(SsStore *s, uint32_t g, bool committed_slot, uint8_t **ret_bits);
int sm_verify_current(SsStore *s);
uint64_t sm_bitmap_block(const SsStore *s, uint32_t g, unsigned slot);
uint64_t sm_group_first_free(uint32_t g);
int sm_grow(SsStore *s, uint64_t new_blocks);
int sm_format_group(SsStore *s, uint32_t g, uint64_t store_blocks, uint8_t *bits);

/* exceptions.c: the only writer of the shared, by-hi and private trees.
 * Removing an exception frees its chunk; adding one records a chunk the
 * caller allocated. */
int exception_add(SsStore *s, uint64_t chunk, uint32_t hi, uint64_t block);
int exception_remove(SsStore *s, uint64_t chunk, uint32_t hi, uint64_t block);
int private_exception_add(SsStore *s, uint32_t id, uint64_t chunk, uint64_t block);
int private_exception_remove(SsStore *s, uint32_t id, uint64_t chunk, uint64_t block);

/* snaptable.c */
int snaps_load(SsStore *s);
void snaps_destroy(SsSnapTable *t);
SsSnapshotInfo *snaps_find(SsStore *s, uint32_t id);
SsSnapshotInfo *snaps_find_name(SsStore *s, const char *name);
int snaps_put(SsStore *s, const SsSnapshotInfo *info);
int snaps_remove(SsStore *s, uint32_t id);
uint32_t snaps_newest(const SsStore *s);
uint32_t snaps_live_above(const SsStore *s, uint32_t after);  /* 0 if none */
uint32_t snaps_live_below(const SsStore *s, uint32_t before); /* 0 if none */
int snaps_upgrade(SsStore *s); /* to SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS, in the open txn */

/* txn.c */
int txn_begin(SsStore *s);
int txn_commit(SsStore *s);
void txn_abort(SsStore *s);
int txn_fail(SsStore *s, int err);
int store_writable(SsStore *s);

/* origin.c */
int origin_copy_out(SsStore *s, uint64_t first_chunk, uint64_t last_chunk);
int origin_copy_needed(SsStore *s, uint64_t chunk); /* 1 if a write would copy it out */
/* -EBUSY (with the sentence) while copy-out plans are in flight: for the
 * calls that write the origin themselves or end the handle. */
int origin_no_plans(SsStore *s, const char *what);
/* pread/pwrite of a caller's buffer of any alignment (bounced if needed). */
int dev_io_any(SsStore *s, SsBlockDev *dev, bool write, void *buf, size_t len, uint64_t off);

/* snapio.c */
int chunk_source(SsStore *s, uint32_t id, uint64_t chunk, SsExtentKind *ret_kind,
                 uint64_t *ret_block);
int read_chunk_of(SsStore *s, uint32_t id, uint64_t chunk, void *buf);

/* snapshot.c */
int snapshot_delete_locked(SsStore *s, uint32_t id);
int cleanup_add(SsStore *s, uint32_t kind, uint32_t from, uint32_t to);
int autodelete_one(SsStore *s, uint32_t keep);
int cleanup_run(SsStore *s, unsigned budget, uint64_t *ret_freed);
