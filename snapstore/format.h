/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The on-disk format of a Zumastor store, all of it.  docs/format.md explains
 * it in prose; this header is the authority.
 *
 * Units.  The store is addressed in 4 KiB blocks.  Copied-out chunks
 * (4 KiB..1 MiB) occupy chunk-aligned runs of blocks.  Every integer is
 * little-endian and read through the accessors below.
 *
 * Layout.
 *   blocks [0, 32)    superblock copy 0 (128 KiB area): even transactions
 *   blocks [32, 64)   superblock copy 1: odd transactions
 *   blocks [64, 96)   mirror of copy 0
 *   blocks [96, 128)  mirror of copy 1
 *   A commit writes the copy txid mod 2, flushes, then writes its mirror
 *   (txn.c has the rule and how open chooses among the four).
 *   Then the store is cut into groups of SS_GROUP_BLOCKS blocks, group g
 *   covering [g * SS_GROUP_BLOCKS, (g + 1) * SS_GROUP_BLOCKS).  The first two
 *   blocks of each group (after the superblocks, for group 0) are the two
 *   slots of that group's space-map bitmap.  Everything else (B-tree nodes
 *   and data chunks) is allocated from the bitmaps.
 *
 * Metadata blocks (B-tree nodes, bitmaps) start with SsDiskBlockHeader:
 * checksum, magic, block number and transaction id, so a block read from the
 * wrong place, a stale block or a torn one is recognised.
 */
#pragma once

#include <stdint.h>
#include <string.h>

#define SS_BLOCK_SIZE 4096u
#define SS_BLOCK_SHIFT 12
#define SS_SECTOR_SIZE 512u

#define SS_SB_AREA_BLOCKS 32u /* per superblock copy */
#define SS_SB_COPIES 2u       /* alternating copies: transaction id mod 2 */
#define SS_SB_AREAS 4u        /* each copy and its mirror */
#define SS_SB_HEADER_SIZE 4096u
#define SS_FIRST_GROUP_RESERVED (SS_SB_AREA_BLOCKS * SS_SB_AREAS)

/* Where the copy (or its mirror) that transaction txid writes lives. */
static inline uint64_t ss_sb_area_block(uint64_t txid, int mirror)
{
        return ((txid % SS_SB_COPIES) + (mirror ? SS_SB_COPIES : 0)) * SS_SB_AREA_BLOCKS;
}

/* 126 * 256: a multiple of every chunk size in blocks, so no chunk ever
 * straddles two groups, and the bitmap fits one block with its header. */
#define SS_GROUP_BLOCKS 32256u
#define SS_BITMAP_HEADER_SIZE 64u
_Static_assert(SS_BITMAP_HEADER_SIZE + SS_GROUP_BLOCKS / 8 <= SS_BLOCK_SIZE, "bitmap fits");

/* Per group the superblock holds one slot bit and a 16-bit free count. */
#define SS_SB_GROUP_TABLE_BYTES (SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE - SS_SB_HEADER_SIZE)
#define SS_MAX_GROUPS ((SS_SB_GROUP_TABLE_BYTES * 8u) / 17u)

#define SS_MAGIC_SUPERBLOCK 0x414d555au /* "ZUMA" */
#define SS_MAGIC_NODE 0x45444f4eu       /* "NODE" */
#define SS_MAGIC_BITMAP 0x50414d42u     /* "BMAP" */
#define SS_MAX_DEPTH 16u
#define SS_FORMAT_VERSION 2u /* 2: superblock mirrors */

/* Feature flags.  A reader refuses a store with an incompatible feature it
 * does not know, opens read-only one with an unknown ro_compat feature, and
 * ignores unknown compat features. */
#define SS_FEATURE_COMPAT_SUPP 0ull
#define SS_FEATURE_RO_COMPAT_SUPP 0ull
/* Snapshot-tree leaves hold compact, variable-length records (below)
 * instead of count x SsDiskSnapshot.  A writable open of a store without it
 * rewrites the snapshot tree in one transaction and sets it. */
#define SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS (1ull << 0)
#define SS_FEATURE_INCOMPAT_SUPP SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS

/* B-trees kept by a store.  Keys are (a, b) pairs compared a first. */
enum SsTreeId {
        SS_TREE_SHARED = 0,    /* (chunk, hi) -> store block of the exception */
        SS_TREE_BYHI = 1,      /* (hi, chunk) -> nothing: the same set by hi */
        SS_TREE_PRIVATE = 2,   /* (snapshot, chunk) -> store block */
        SS_TREE_SNAPSHOTS = 3, /* (snapshot, 0) -> SsDiskSnapshot */
        SS_TREE_COUNT = 4,
};

/* Cleanup jobs: deletions whose exceptions are not all freed yet. */
enum SsCleanupKind {
        SS_CLEANUP_SHARED = 1,  /* scan byhi for hi in [from, to) */
        SS_CLEANUP_PRIVATE = 2, /* drop private exceptions of snapshot `from` */
};
#define SS_MAX_CLEANUP_JOBS 32u

typedef struct __attribute__((packed)) SsDiskCleanupJob {
        uint8_t kind; /* SsCleanupKind, 0 = unused slot */
        uint8_t pad[3];
        uint32_t from;         /* snapshot id */
        uint32_t to;           /* snapshot id, exclusive (shared jobs) */
        uint32_t cursor_hi;    /* resume position (shared: hi) */
        uint64_t cursor_chunk; /* resume position: chunk number */
} SsDiskCleanupJob;
_Static_assert(sizeof(SsDiskCleanupJob) == 24, "cleanup job size");

typedef struct __attribute__((packed)) SsDiskRoot {
        uint64_t block;   /* root node, 0 = empty tree */
        uint64_t entries; /* entries in the tree */
        uint32_t depth;   /* levels, 0 for an empty tree */
        uint32_t nodes;   /* nodes in the tree */
} SsDiskRoot;
_Static_assert(sizeof(SsDiskRoot) == 24, "root size");

/* Superblock header: the first 4 KiB of a superblock copy.  The group table
 * follows it: ceil(groups / 8) bytes of slot bits (bit g set: group g's
 * current bitmap is in slot 1), padded to 8 bytes, then groups x le16 free
 * block counts.  The checksum covers [8, sb_bytes). */
typedef struct __attribute__((packed)) SsDiskSuperblock {
        uint64_t csum;              /* xxh3-64 of bytes [8, sb_bytes) */
        uint32_t magic;             /* SS_MAGIC_SUPERBLOCK */
        uint32_t version;           /* SS_FORMAT_VERSION */
        uint64_t blocknr;           /* where it lives: 0, 32 (copies), 64, 96 (mirrors) */
        uint64_t txid;              /* transaction that wrote this copy; its parity is the copy's */
        uint32_t sb_bytes;          /* header + group table, bytes */
        uint32_t block_size;        /* SS_BLOCK_SIZE */
        uint64_t feature_compat;    /* may be ignored */
        uint64_t feature_ro_compat; /* unknown bits: open read-only */
        uint64_t feature_incompat;  /* unknown bits: refuse */
        uint8_t uuid[16];           /* this store */
        uint8_t volume_uuid[16];    /* the volume it belongs to */
        char volume_name[64];       /* NUL-padded */
        uint32_t chunk_size;        /* bytes, power of two */
        uint32_t full_policy;       /* SsFullPolicy */
        uint64_t origin_size;       /* bytes */
        uint64_t store_blocks;      /* blocks of the store in use */
        int64_t created;            /* seconds since the epoch */
        uint32_t next_snapshot;     /* id the next snapshot gets (>= 1) */
        uint32_t snapshot_count;    /* live snapshots */
        SsDiskRoot roots[SS_TREE_COUNT];
        uint64_t data_blocks;   /* blocks holding copied-out chunks */
        uint64_t meta_blocks;   /* blocks holding nodes (not sb/bitmaps) */
        uint64_t free_blocks;   /* sum of the group free counts */
        uint32_t group_count;   /* groups covering store_blocks */
        uint32_t cleanup_count; /* used entries of cleanup[] */
        SsDiskCleanupJob cleanup[SS_MAX_CLEANUP_JOBS];
        uint32_t revert_target;    /* snapshot being reverted to, 0 = none */
        uint32_t revert_phase;     /* 0 = shared exceptions, 1 = private */
        uint32_t revert_cursor_hi; /* resume position of the revert */
        uint32_t pad0;
        uint64_t revert_cursor_chunk;
        uint64_t revert_done; /* chunks reverted so far */
} SsDiskSuperblock;
_Static_assert(sizeof(SsDiskSuperblock) <= SS_SB_HEADER_SIZE, "superblock header fits");

/* Header of B-tree nodes and bitmap blocks. */
typedef struct __attribute__((packed)) SsDiskBlockHeader {
        uint64_t csum;    /* xxh3-64 of bytes [8, SS_BLOCK_SIZE) */
        uint32_t magic;   /* SS_MAGIC_NODE or SS_MAGIC_BITMAP */
        uint32_t flags;   /* reserved, 0 */
        uint64_t blocknr; /* where this block lives */
        uint64_t txid;    /* transaction that wrote it */
} SsDiskBlockHeader;
_Static_assert(sizeof(SsDiskBlockHeader) == 32, "block header size");

typedef struct __attribute__((packed)) SsDiskBitmap {
        SsDiskBlockHeader hdr;
        uint32_t group;       /* group number */
        uint32_t free_blocks; /* clear bits */
        uint8_t pad[SS_BITMAP_HEADER_SIZE - sizeof(SsDiskBlockHeader) - 8];
        uint8_t bits[SS_GROUP_BLOCKS / 8]; /* bit i set: block g*G+i is in use */
} SsDiskBitmap;
_Static_assert(sizeof(SsDiskBitmap) <= SS_BLOCK_SIZE, "bitmap size");

/* B-tree node.  Internal nodes hold count x SsDiskBranch.  Leaves hold an
 * encoding chosen by the tree (see codec.c):
 *   exception trees: per entry varint(a - prev_a); then varint(b - prev_b)
 *     when a is unchanged, else varint(b); then, for trees with values,
 *     zigzag varint(value - prev_value).  prev_* start at 0.
 *   snapshot tree, with SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS: per record,
 *     with prev_id, prev_ctime, prev_sectors starting at 0:
 *       varint(id - prev_id)              >= 1: ids strictly increase
 *       varint(flags)                     SS_SNAP_*
 *       zigzag varint(priority)           int32
 *       zigzag varint(ctime - prev_ctime) seconds
 *       zigzag varint(sectors - prev_sectors)  origin_size / 512, >= 1
 *       varint(name_len)                  1 .. SS_NAME_MAX
 *       name_len bytes of name            no NUL, no padding
 *   snapshot tree without it (format 2 as first released): count x
 *     SsDiskSnapshot (the key is (id, 0)).  In memory a snapshot leaf holds
 *     SsDiskSnapshot values whatever the encoding on disk. */
typedef struct __attribute__((packed)) SsDiskNode {
        SsDiskBlockHeader hdr;
        uint16_t tree;  /* SsTreeId */
        uint16_t level; /* 0 = leaf */
        uint16_t count; /* entries */
        uint16_t pad;
        uint32_t payload; /* bytes of payload used */
        uint32_t pad2;
        uint8_t data[SS_BLOCK_SIZE - sizeof(SsDiskBlockHeader) - 16];
} SsDiskNode;
_Static_assert(sizeof(SsDiskNode) == SS_BLOCK_SIZE, "node size");
#define SS_NODE_PAYLOAD (SS_BLOCK_SIZE - sizeof(SsDiskBlockHeader) - 16)

typedef struct __attribute__((packed)) SsDiskBranch {
        uint64_t key_a;
        uint64_t key_b;
        uint64_t child; /* block number */
} SsDiskBranch;
_Static_assert(sizeof(SsDiskBranch) == 24, "branch size");
#define SS_BRANCH_MAX ((unsigned)(SS_NODE_PAYLOAD / sizeof(SsDiskBranch)))

typedef struct __attribute__((packed)) SsDiskSnapshot {
        uint32_t id;          /* snapshot id, equals the key */
        uint32_t flags;       /* SS_SNAP_* */
        int32_t priority;     /* higher survives longer under autodelete */
        uint32_t name_len;    /* bytes used in name */
        int64_t ctime;        /* seconds since the epoch */
        uint64_t origin_size; /* bytes of the image */
        char name[128];       /* NUL-padded */
} SsDiskSnapshot;
_Static_assert(sizeof(SsDiskSnapshot) == 160, "snapshot record size");
#define SS_SNAPSHOTS_PER_LEAF ((unsigned)(SS_NODE_PAYLOAD / sizeof(SsDiskSnapshot)))
/* A compact record takes at least one byte per field and of name. */
#define SS_SNAPREC_COMPACT_MIN 7u

/* Little-endian accessors. */
static inline uint16_t le16_get(const void *p)
{
        const uint8_t *b = p;
        return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t le32_get(const void *p)
{
        const uint8_t *b = p;
        return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t le64_get(const void *p)
{
        return (uint64_t)le32_get(p) | (uint64_t)le32_get((const uint8_t *)p + 4) << 32;
}

static inline void le16_put(void *p, uint16_t v)
{
        uint8_t *b = p;
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
}

static inline void le32_put(void *p, uint32_t v)
{
        uint8_t *b = p;
        for (int i = 0; i < 4; i++)
                b[i] = (uint8_t)(v >> (8 * i));
}

static inline void le64_put(void *p, uint64_t v)
{
        le32_put(p, (uint32_t)v);
        le32_put((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

/* clang-format 14 cannot lay out _Generic associations. */
/* clang-format off */
#define LE_GET(field) \
        _Generic((field), uint16_t: le16_get, int16_t: le16_get, uint32_t: le32_get, \
                 int32_t: le32_get, uint64_t: le64_get, int64_t: le64_get)(&(field))
#define LE_PUT(field, v) \
        _Generic((field), uint16_t: le16_put, int16_t: le16_put, uint32_t: le32_put, \
                 int32_t: le32_put, uint64_t: le64_put, int64_t: le64_put)(&(field), (v))
/* clang-format on */
