/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Writes the seed corpora of the fuzz targets: valid superblocks, B-tree
 * nodes and snapshot records made by the engine's own encoders, plus a few
 * mutated copies that each break one rule the decoders check; and whole
 * store images (fuzz-store) made through the engine's public API.
 *
 *   gen-corpus tests/fuzz/corpus
 *
 * Output is deterministic, so regenerating after a format change shows up as
 * a reviewable diff of the committed files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <xxhash.h>

#include "internal.h"
#include "membuf.h"
#include "memdev.h"
#include "stream-format.h"

static const char *out_root;
static int failures;

static void make_dir(const char *path)
{
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "gen-corpus: mkdir %s: %s\n", path, strerror(errno));
                exit(1);
        }
}

static void write_sample(const char *kind, const char *name, const void *buf, size_t len)
{
        char dir[4096], path[4200];
        FILE *f;

        snprintf(dir, sizeof(dir), "%s/%s", out_root, kind);
        make_dir(dir);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
                fprintf(stderr, "gen-corpus: cannot write %s\n", path);
                exit(1);
        }
        printf("%s (%zu bytes)\n", path, len);
}

/* Recomputes a checksum after a deliberate mutation, so the sample tests
 * the field it broke and not the checksum. */
static void reseal(void *buf, size_t len)
{
        le64_put(buf, XXH3_64bits((const uint8_t *)buf + 8, len - 8));
}

/* ---- superblocks ---- */

static void super_init(SsSuper *sb, uint64_t txid, uint64_t store_blocks)
{
        static const uint8_t uuid[16] = { 0x5a, 0x75, 0x6d, 0x61, 0x73, 0x74, 0x6f, 0x72,
                                          0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
        static const uint8_t vuuid[16] = { 0x76, 0x6f, 0x6c, 0x75, 0x6d, 0x65, 0x00, 0x01,
                                           0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80 };
        uint64_t free_left;

        memset(sb, 0, sizeof(*sb));
        sb->txid = txid;
        memcpy(sb->uuid, uuid, 16);
        memcpy(sb->volume_uuid, vuuid, 16);
        snprintf(sb->volume_name, sizeof(sb->volume_name), "demo");
        sb->chunk_size = SS_CHUNK_SIZE_DEFAULT;
        sb->full_policy = SS_FULL_REFUSE;
        sb->origin_size = 64ull << 20;
        sb->store_blocks = store_blocks;
        sb->created = 1700000000;
        sb->next_snapshot = 1;
        sb->group_count = (uint32_t)((store_blocks + SS_GROUP_BLOCKS - 1) / SS_GROUP_BLOCKS);
        sb->slot_bits = calloc((sb->group_count + 7) / 8 + 8, 1);
        sb->group_free = calloc(sb->group_count, sizeof(uint16_t));
        if (!sb->slot_bits || !sb->group_free)
                exit(1);
        /* Every group but its two bitmap blocks (and the superblocks in
         * group 0) is free; groups alternate their current slot. */
        free_left = 0;
        for (uint32_t g = 0; g < sb->group_count; g++) {
                uint64_t first = (uint64_t)g * SS_GROUP_BLOCKS;
                uint64_t end = MIN(first + SS_GROUP_BLOCKS, store_blocks);
                uint64_t used = 2 + (g == 0 ? SS_FIRST_GROUP_RESERVED : 0);

                sb->group_free[g] = (uint16_t)(end - first - used);
                free_left += sb->group_free[g];
                if (g % 2)
                        sb->slot_bits[g / 8] |= (uint8_t)(1u << (g % 8));
        }
        sb->free_blocks = free_left;
}

/* Takes n blocks from group 0 for metadata or data. */
static void super_use(SsSuper *sb, uint32_t meta, uint32_t data)
{
        sb->group_free[0] = (uint16_t)(sb->group_free[0] - meta - data);
        sb->free_blocks -= meta + data;
        sb->meta_blocks += meta;
        sb->data_blocks += data;
}

static size_t super_emit(const SsSuper *sb, uint8_t *buf, size_t cap)
{
        size_t n = ss_super_encode(sb, buf, cap);
        SsSuper check = { 0 };
        uint64_t where = (sb->txid % SS_SB_COPIES) * SS_SB_AREA_BLOCKS;

        /* Valid samples must decode: a failure here means the generator and
         * the engine disagree on the format. */
        if (ss_super_decode(buf, n, where, &check) != 0) {
                fprintf(stderr, "gen-corpus: encoded superblock does not decode: %s\n",
                        ss_last_error());
                failures++;
        }
        ss_super_release(&check);
        return n;
}

static void gen_superblocks(void)
{
        size_t cap = SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE;
        uint8_t *buf = calloc(1, cap);
        SsDiskSuperblock *d = (SsDiskSuperblock *)buf;
        SsSuper sb;
        size_t n;

        if (!buf)
                exit(1);

        /* A new, empty store of 80 MiB: one group. */
        super_init(&sb, 2, 20480);
        n = super_emit(&sb, buf, cap);
        write_sample("superblock", "valid-empty", buf, n);
        ss_super_release(&sb);

        /* 128 MiB store with snapshots, trees and an odd txid (copy 1). */
        super_init(&sb, 7, 32768);
        sb.next_snapshot = 4;
        sb.snapshot_count = 2;
        sb.roots[SS_TREE_SHARED] = (SsRoot){ 200, 120, 1, 1 };
        sb.roots[SS_TREE_BYHI] = (SsRoot){ 201, 120, 1, 1 };
        sb.roots[SS_TREE_SNAPSHOTS] = (SsRoot){ 202, 2, 1, 1 };
        super_use(&sb, 3, 480);
        n = super_emit(&sb, buf, cap);
        write_sample("superblock", "valid-snapshots", buf, n);

        /* The same with a cleanup job of each kind and autodelete. */
        sb.txid = 8;
        sb.full_policy = SS_FULL_AUTODELETE;
        sb.cleanup_count = 2;
        sb.cleanup[0] = (SsCleanupJob){ SS_CLEANUP_SHARED, 1, 3, 2, 77 };
        sb.cleanup[1] = (SsCleanupJob){ SS_CLEANUP_PRIVATE, 2, 0, 0, 5 };
        sb.roots[SS_TREE_PRIVATE] = (SsRoot){ 203, 9, 1, 1 };
        n = super_emit(&sb, buf, cap);
        write_sample("superblock", "valid-cleanup", buf, n);

        /* An unfinished revert. */
        sb.txid = 10;
        sb.cleanup_count = 0;
        memset(sb.cleanup, 0, sizeof(sb.cleanup));
        sb.revert_target = 3;
        sb.revert_phase = 1;
        sb.revert_cursor_hi = 3;
        sb.revert_cursor_chunk = 1234;
        sb.revert_done = 99;
        n = super_emit(&sb, buf, cap);
        write_sample("superblock", "valid-revert", buf, n);
        /* The same commit as its mirror writes it (format version 2). */
        n = ss_super_encode_at(&sb, buf, cap, true);
        write_sample("superblock", "valid-mirror", buf, n);
        ss_super_release(&sb);

        /* A 10 GiB store: 82 groups, a group table past one byte of slot
         * bits, deeper trees, the largest chunk size. */
        super_init(&sb, 1000, 2621440);
        sb.chunk_size = SS_CHUNK_SIZE_MAX;
        sb.origin_size = 100ull << 30;
        sb.next_snapshot = 1000;
        sb.snapshot_count = 500;
        snprintf(sb.volume_name, sizeof(sb.volume_name), "%s",
                 "a-volume-name-that-uses-all-of-its-sixty-three-bytes.0123456789");
        sb.roots[SS_TREE_SHARED] = (SsRoot){ 5000, 200000, 3, 400 };
        sb.roots[SS_TREE_BYHI] = (SsRoot){ 5001, 200000, 3, 300 };
        sb.roots[SS_TREE_SNAPSHOTS] = (SsRoot){ 5002, 500, 2, 21 };
        super_use(&sb, 721, 8000);
        n = super_emit(&sb, buf, cap);
        write_sample("superblock", "valid-large", buf, n);
        ss_super_release(&sb);

        /* Mutations of a valid superblock, one broken rule each. */
        super_init(&sb, 4, 32768);
        sb.next_snapshot = 2;
        sb.snapshot_count = 1;
        n = super_emit(&sb, buf, cap);

        LE_PUT(d->magic, 0x12345678u);
        reseal(buf, n);
        write_sample("superblock", "bad-magic", buf, n);
        super_emit(&sb, buf, cap);

        le64_put(buf, LE_GET(d->csum) ^ 1);
        write_sample("superblock", "checksum-stale", buf, n);
        super_emit(&sb, buf, cap);

        write_sample("superblock", "bad-truncated", buf, SS_SB_HEADER_SIZE + 4);

        LE_PUT(d->chunk_size, 3000u);
        reseal(buf, n);
        write_sample("superblock", "bad-chunk-size", buf, n);
        super_emit(&sb, buf, cap);

        LE_PUT(d->feature_incompat, 1ull << 40);
        reseal(buf, n);
        write_sample("superblock", "bad-unknown-incompat", buf, n);
        super_emit(&sb, buf, cap);

        memset(d->volume_name, 'x', sizeof(d->volume_name));
        reseal(buf, n);
        write_sample("superblock", "bad-unterminated-name", buf, n);
        super_emit(&sb, buf, cap);

        le16_put(buf + n - 2, 1);
        reseal(buf, n);
        write_sample("superblock", "bad-free-counts", buf, n);
        super_emit(&sb, buf, cap);

        LE_PUT(d->cleanup_count, 1u);
        d->cleanup[0].kind = SS_CLEANUP_SHARED;
        LE_PUT(d->cleanup[0].from, 5u);
        LE_PUT(d->cleanup[0].to, 3u);
        reseal(buf, n);
        write_sample("superblock", "bad-cleanup-job", buf, n);
        super_emit(&sb, buf, cap);

        LE_PUT(d->roots[SS_TREE_SHARED].block, 10u);
        LE_PUT(d->roots[SS_TREE_SHARED].depth, 1u);
        reseal(buf, n);
        write_sample("superblock", "bad-root-in-superblock", buf, n);

        ss_super_release(&sb);
        free(buf);
}

/* ---- B-tree nodes ---- */

static void node_init(SsNode *n, unsigned tree, unsigned level, uint64_t blocknr, uint32_t count)
{
        memset(n, 0, sizeof(*n));
        n->blocknr = blocknr;
        n->tree = (uint16_t)tree;
        n->level = (uint16_t)level;
        n->val_size = level ? 8 : tree_leaf_val_size(tree);
        if (ss_node_reserve(n, count) < 0)
                exit(1);
        n->count = count;
}

/* A node sample of a store with the compact snapshot table carries one
 * byte past the block, 1 (fuzz-node.c). */
static void write_node_sample(const char *name, const uint8_t *block, bool compact)
{
        uint8_t buf[SS_BLOCK_SIZE + 1];

        memcpy(buf, block, SS_BLOCK_SIZE);
        buf[SS_BLOCK_SIZE] = 1;
        write_sample("node", name, buf, SS_BLOCK_SIZE + (compact ? 1 : 0));
}

static void node_emit(const char *name, SsNode *n, uint64_t txid, uint8_t *block)
{
        SsNode check = { 0 };
        int r = ss_node_encode(n, txid, block);
        uint64_t incompat = n->snap_compact ? SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS : 0;

        if (r < 0) {
                fprintf(stderr, "gen-corpus: node %s does not encode: %d\n", name, r);
                failures++;
                return;
        }
        if (ss_node_decode(block, n->blocknr, incompat, &check) != 0) {
                fprintf(stderr, "gen-corpus: node %s does not decode: %s\n", name, ss_last_error());
                failures++;
        }
        ss_node_free_arrays(&check);
        write_node_sample(name, block, n->snap_compact);
}

/* Compact snapshot leaves (SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS): names of
 * several lengths up to the longest, every flag, extreme priorities, gaps
 * in the ids; then one broken rule each. */
static void gen_compact_snapshot_nodes(uint8_t *block)
{
        SsDiskNode *d = (SsDiskNode *)block;
        SsNode n;
        char longest[SS_NAME_MAX + 1];

        memset(longest, 'x', SS_NAME_MAX);
        longest[SS_NAME_MAX] = 0;
        const char *const names[] = { "a", "monday", "hourly.2026-01-01T00:00", longest, "B" };
        node_init(&n, SS_TREE_SNAPSHOTS, 0, 208, 5);
        n.snap_compact = true;
        for (uint32_t i = 0; i < n.count; i++) {
                SsSnapshotInfo info = {
                        .id = 1 + i * i * 1000,
                        .flags = i % 4,
                        .priority = i == 2   ? INT32_MIN
                                    : i == 3 ? INT32_MAX
                                             : (int32_t)i - 1,
                        .ctime = i == 4 ? -1 : 1700000000 + (int64_t)i * 3600,
                        .origin_size = (64ull << 20) + (i == 3 ? 512 : 0),
                };
                snprintf(info.name, sizeof(info.name), "%s", names[i]);
                n.keys[i] = key_make(info.id, 0);
                ss_snaprec_encode(&info, n.vals + (size_t)i * n.val_size);
        }
        node_emit("valid-snapshot-leaf-compact", &n, 5, block);

        /* The first record's id delta, 1, spelt in two bytes. */
        uint32_t payload = LE_GET(d->payload);
        memmove(d->data + 2, d->data + 1, payload - 1);
        d->data[0] = 0x81;
        d->data[1] = 0x00;
        LE_PUT(d->payload, payload + 1);
        reseal(block, SS_BLOCK_SIZE);
        write_node_sample("bad-snaprec-varint", block, true);

        /* The last record's name runs past the payload. */
        ss_node_encode(&n, 5, block);
        d->data[LE_GET(d->payload) - 2] = 0;
        d->data[LE_GET(d->payload) - 1] = 0;
        LE_PUT(d->payload, LE_GET(d->payload) - 2);
        reseal(block, SS_BLOCK_SIZE);
        write_node_sample("bad-snaprec-name-past-payload", block, true);

        /* Two records with one id: a zero id delta. */
        SsDiskSnapshot *second = (SsDiskSnapshot *)(n.vals + n.val_size);
        LE_PUT(second->id, 1u);
        ss_node_encode(&n, 5, block);
        write_node_sample("bad-snaprec-id-order", block, true);
        LE_PUT(second->id, 2u);

        /* A fixed-size leaf read as compact, and the other way round. */
        ss_node_encode(&n, 5, block);
        write_node_sample("bad-snaprec-read-as-fixed", block, false);
        n.snap_compact = false;
        ss_node_encode(&n, 5, block);
        write_node_sample("bad-snaprec-fixed-read-as-compact", block, true);
        ss_node_free_arrays(&n);
}

static void gen_nodes(void)
{
        uint8_t *block = ss_alloc_io_buffer(SS_BLOCK_SIZE);
        SsDiskNode *d = (SsDiskNode *)block;
        SsNode n;

        if (!block)
                exit(1);

        /* Shared exceptions: a few chunks, some copied out more than once. */
        node_init(&n, SS_TREE_SHARED, 0, 200, 8);
        for (uint32_t i = 0; i < n.count; i++) {
                n.keys[i] = key_make(10 + i / 2 * 7, 1 + (i % 2) * 3);
                node_set_u64(&n, i, 1000 + (uint64_t)i * 4 - (i == 5 ? 40 : 0));
        }
        node_emit("shared-leaf", &n, 5, block);
        ss_node_free_arrays(&n);

        /* A full-looking shared leaf with large chunk numbers. */
        node_init(&n, SS_TREE_SHARED, 0, 201, 300);
        for (uint32_t i = 0; i < n.count; i++) {
                n.keys[i] = key_make(1ull << 33 | (uint64_t)i * 3, 1 + i % 5);
                node_set_u64(&n, i, 70000 + (uint64_t)i * 4);
        }
        node_emit("shared-leaf-large", &n, 6, block);
        ss_node_free_arrays(&n);

        /* The byhi mirror: keys only. */
        node_init(&n, SS_TREE_BYHI, 0, 202, 6);
        for (uint32_t i = 0; i < n.count; i++)
                n.keys[i] = key_make(1 + i / 3, 10 + (i % 3) * 7);
        node_emit("byhi-leaf", &n, 5, block);
        ss_node_free_arrays(&n);

        /* Private exceptions of two writable snapshots. */
        node_init(&n, SS_TREE_PRIVATE, 0, 203, 5);
        for (uint32_t i = 0; i < n.count; i++) {
                n.keys[i] = key_make(2 + i / 3, 4 + i);
                node_set_u64(&n, i, 5000 - (uint64_t)i * 4);
        }
        node_emit("private-leaf", &n, 5, block);
        ss_node_free_arrays(&n);

        /* Snapshot records. */
        node_init(&n, SS_TREE_SNAPSHOTS, 0, 204, 3);
        {
                static const char *const names[] = { "monday", "tuesday", "hourly.2026-01-01" };

                for (uint32_t i = 0; i < n.count; i++) {
                        SsSnapshotInfo info = {
                                .id = i + 1,
                                .flags = i == 1 ? SS_SNAP_WRITABLE : 0,
                                .priority = (int32_t)i - 1,
                                .ctime = 1700000000 + i * 86400,
                                .origin_size = 64ull << 20,
                        };

                        snprintf(info.name, sizeof(info.name), "%s", names[i]);
                        n.keys[i] = key_make(i + 1, 0);
                        ss_snaprec_encode(&info, n.vals + (size_t)i * n.val_size);
                }
        }
        node_emit("snapshot-leaf", &n, 5, block);
        ss_node_free_arrays(&n);

        /* A branch node of the shared tree. */
        node_init(&n, SS_TREE_SHARED, 1, 205, 4);
        for (uint32_t i = 0; i < n.count; i++) {
                n.keys[i] = key_make((uint64_t)i * 1000, i ? 1 : 0);
                node_set_u64(&n, i, 300 + i);
        }
        node_emit("shared-branch", &n, 9, block);

        /* Mutations of the branch, one broken rule each. */
        LE_PUT(d->count, 0);
        reseal(block, SS_BLOCK_SIZE);
        write_sample("node", "bad-empty", block, SS_BLOCK_SIZE);
        ss_node_encode(&n, 9, block);

        LE_PUT(d->level, 40);
        reseal(block, SS_BLOCK_SIZE);
        write_sample("node", "bad-level", block, SS_BLOCK_SIZE);
        ss_node_encode(&n, 9, block);

        LE_PUT(d->tree, 9);
        reseal(block, SS_BLOCK_SIZE);
        write_sample("node", "bad-tree", block, SS_BLOCK_SIZE);

        n.keys[2] = n.keys[1];
        ss_node_encode(&n, 9, block);
        write_sample("node", "bad-key-order", block, SS_BLOCK_SIZE);

        n.keys[2] = key_make(2000, 1);
        node_set_u64(&n, 3, 3);
        ss_node_encode(&n, 9, block);
        write_sample("node", "bad-child", block, SS_BLOCK_SIZE);
        ss_node_free_arrays(&n);

        /* A compact leaf whose payload ends inside a varint. */
        node_init(&n, SS_TREE_PRIVATE, 0, 206, 2);
        n.keys[0] = key_make(1, 1);
        n.keys[1] = key_make(1, 1ull << 40);
        node_set_u64(&n, 0, 400);
        node_set_u64(&n, 1, 404);
        ss_node_encode(&n, 3, block);
        LE_PUT(d->payload, LE_GET(d->payload) - 3);
        reseal(block, SS_BLOCK_SIZE);
        write_sample("node", "bad-truncated-varint", block, SS_BLOCK_SIZE);
        ss_node_free_arrays(&n);

        /* Second spellings of a valid leaf, which the decoder refuses so
         * that whatever it accepts encodes back to the same bytes. */
        node_init(&n, SS_TREE_SHARED, 0, 207, 2);
        n.keys[0] = key_make(1, 1);
        n.keys[1] = key_make(1, 5);
        node_set_u64(&n, 0, 400);
        node_set_u64(&n, 1, 404);
        node_emit("shared-leaf-small", &n, 3, block);

        d->data[LE_GET(d->payload) + 10] = 1;
        reseal(block, SS_BLOCK_SIZE);
        write_sample("node", "bad-past-payload", block, SS_BLOCK_SIZE);
        ss_node_encode(&n, 3, block);

        LE_PUT(d->hdr.flags, 1u);
        reseal(block, SS_BLOCK_SIZE);
        write_sample("node", "bad-header-flags", block, SS_BLOCK_SIZE);
        ss_node_encode(&n, 3, block);

        LE_PUT(d->pad, 1);
        reseal(block, SS_BLOCK_SIZE);
        write_sample("node", "bad-reserved", block, SS_BLOCK_SIZE);
        ss_node_encode(&n, 3, block);

        /* The first key's delta, 1, spelt in two bytes (0x81 0x00). */
        {
                uint32_t payload = LE_GET(d->payload);
                if (d->data[0] != 1) {
                        fprintf(stderr, "gen-corpus: unexpected leaf encoding\n");
                        failures++;
                }
                memmove(d->data + 2, d->data + 1, payload - 1);
                d->data[0] = 0x81;
                d->data[1] = 0x00;
                LE_PUT(d->payload, payload + 1);
                reseal(block, SS_BLOCK_SIZE);
                write_sample("node", "bad-long-varint", block, SS_BLOCK_SIZE);
        }
        ss_node_free_arrays(&n);

        gen_compact_snapshot_nodes(block);
        free(block);
}

/* ---- snapshot records ---- */

static void snap_emit(const char *name, const SsSnapshotInfo *info)
{
        uint8_t rec[sizeof(SsDiskSnapshot)];
        SsSnapshotInfo check;

        ss_snaprec_encode(info, rec);
        if (ss_snaprec_decode(rec, info->id, &check) != 0) {
                fprintf(stderr, "gen-corpus: record %s does not decode: %s\n", name,
                        ss_last_error());
                failures++;
        }
        write_sample("snapshot", name, rec, sizeof(rec));
}

static void gen_snapshots(void)
{
        SsSnapshotInfo info = {
                .id = 1,
                .priority = 0,
                .ctime = 1700000000,
                .origin_size = 64ull << 20,
                .name = "monday",
        };
        uint8_t rec[sizeof(SsDiskSnapshot) + 8];
        SsDiskSnapshot *d = (SsDiskSnapshot *)rec;

        snap_emit("valid-monday", &info);

        info.id = 42;
        info.flags = SS_SNAP_WRITABLE | SS_SNAP_PINNED;
        info.priority = -5;
        info.ctime = -1;
        info.origin_size = 512;
        snprintf(info.name, sizeof(info.name), "scratch_branch:1+x");
        snap_emit("valid-writable-pinned", &info);

        info.id = UINT32_MAX;
        info.flags = SS_SNAP_PINNED;
        info.priority = INT32_MAX;
        info.ctime = INT64_MAX;
        info.origin_size = 1ull << 50;
        memset(info.name, 'n', SS_NAME_MAX);
        info.name[SS_NAME_MAX] = 0;
        snap_emit("valid-limits", &info);

        /* Mutations of "monday". */
        info = (SsSnapshotInfo){ .id = 1, .ctime = 1700000000, .origin_size = 64ull << 20 };
        snprintf(info.name, sizeof(info.name), "monday");

        ss_snaprec_encode(&info, rec);
        LE_PUT(d->id, 0u);
        write_sample("snapshot", "bad-id-zero", rec, sizeof(SsDiskSnapshot));

        ss_snaprec_encode(&info, rec);
        le64_put(rec + sizeof(SsDiskSnapshot), 2);
        write_sample("snapshot", "bad-key-mismatch", rec, sizeof(rec));

        ss_snaprec_encode(&info, rec);
        LE_PUT(d->name_len, 200u);
        write_sample("snapshot", "bad-name-length", rec, sizeof(SsDiskSnapshot));

        ss_snaprec_encode(&info, rec);
        d->name[100] = 'x';
        write_sample("snapshot", "bad-name-padding", rec, sizeof(SsDiskSnapshot));

        /* name_len counts a NUL: the name is shorter than the record says. */
        ss_snaprec_encode(&info, rec);
        LE_PUT(d->name_len, 7u);
        write_sample("snapshot", "bad-name-nul", rec, sizeof(SsDiskSnapshot));

        ss_snaprec_encode(&info, rec);
        d->name[2] = '/';
        write_sample("snapshot", "bad-name-char", rec, sizeof(SsDiskSnapshot));

        /* '@' joins volume and snapshot in device links: never in a name. */
        ss_snaprec_encode(&info, rec);
        d->name[2] = '@';
        write_sample("snapshot", "bad-name-at", rec, sizeof(SsDiskSnapshot));

        ss_snaprec_encode(&info, rec);
        LE_PUT(d->flags, 0x80u);
        write_sample("snapshot", "bad-flags", rec, sizeof(SsDiskSnapshot));

        ss_snaprec_encode(&info, rec);
        LE_PUT(d->origin_size, 1000u);
        write_sample("snapshot", "bad-size", rec, sizeof(SsDiskSnapshot));

        ss_snaprec_encode(&info, rec);
        write_sample("snapshot", "short", rec, 40);
}

/* ---- whole store images (fuzz-store) ----
 *
 * Made by the engine itself through its public API, so regenerating after
 * a format change gives images in the new format.  Store creation draws a
 * random UUID and snapshots take the time; both are pinned here (these
 * definitions take the place of libc's in this program only), so the output
 * stays deterministic. */

ssize_t getrandom(void *buf, size_t len, unsigned int flags);
ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
        static uint8_t next = 0x42;

        (void)flags;
        for (size_t i = 0; i < len; i++)
                ((uint8_t *)buf)[i] = next++;
        return (ssize_t)len;
}

time_t time(time_t *t)
{
        if (t)
                *t = 1700000000;
        return 1700000000;
}

#define IMG_CHUNK 4096u
#define IMG_ORIGIN (16u * IMG_CHUNK)
#define IMG_STORE_BLOCKS 160u

typedef struct Image {
        MemDev *origin, *store;
        SsStore *s;
} Image;

static void img_check(int r, const char *what)
{
        if (r < 0) {
                fprintf(stderr, "gen-corpus: store image: %s: %s\n", what, ss_last_error());
                exit(1);
        }
}

static void img_new(Image *im)
{
        SsCreateOptions c = { .volume_name = "fuzz", .chunk_size = IMG_CHUNK };

        im->origin = memdev_new("origin", IMG_ORIGIN);
        im->store = memdev_new("store", (uint64_t)IMG_STORE_BLOCKS * SS_BLOCK_SIZE);
        if (!im->origin || !im->store)
                exit(1);
        img_check(ss_store_create(&im->origin->dev, &im->store->dev, &c), "create");
        img_check(ss_store_open(&im->origin->dev, &im->store->dev, NULL, &im->s), "open");
}

static void img_write(Image *im, uint64_t chunk, uint8_t fillbyte)
{
        uint8_t *buf = ss_alloc_io_buffer(IMG_CHUNK);

        if (!buf)
                exit(1);
        memset(buf, fillbyte, IMG_CHUNK);
        img_check(ss_origin_write(im->s, buf, chunk * IMG_CHUNK, IMG_CHUNK), "origin write");
        free(buf);
}

/* Writes the store device in the sparse format of memdev.h, flipping one
 * byte of block `corrupt` first when it is not UINT64_MAX.  Blocks the
 * space map calls free are left out (they read as zeros): stale copies of
 * metadata would only make the sample bigger. */
static void img_emit(Image *im, const char *name, uint64_t corrupt, size_t at)
{
        uint64_t blocks = im->store->size / SS_BLOCK_SIZE;
        size_t cap = 8 + blocks * (4 + SS_BLOCK_SIZE), n = 8;
        uint8_t *out = calloc(1, cap), zero[SS_BLOCK_SIZE] = { 0 };
        bool *used = calloc(blocks, sizeof(bool));
        uint8_t *flipped = NULL;
        SsOpenOptions ro = { .flags = SS_OPEN_READONLY };
        SsStore *s;

        if (!out || !used)
                exit(1);
        img_check(ss_store_open(&im->origin->dev, &im->store->dev, &ro, &s), "open to emit");
        for (uint64_t b = 0; b < blocks; b++)
                if (b < SS_FIRST_GROUP_RESERVED)
                        used[b] = true;
                else
                        img_check(sm_is_used(s, b, &used[b]), "space map");
        ss_store_close(s);
        if (corrupt != UINT64_MAX) {
                flipped = im->store->data + corrupt * SS_BLOCK_SIZE + at;
                *flipped ^= 0x5a;
        }
        le32_put(out, (uint32_t)(im->origin->size / 512));
        le32_put(out + 4, (uint32_t)blocks);
        for (uint64_t b = 0; b < blocks; b++) {
                const uint8_t *blk = im->store->data + b * SS_BLOCK_SIZE;
                if (!used[b] || !memcmp(blk, zero, SS_BLOCK_SIZE))
                        continue;
                le32_put(out + n, (uint32_t)b);
                memcpy(out + n + 4, blk, SS_BLOCK_SIZE);
                n += 4 + SS_BLOCK_SIZE;
        }
        if (flipped)
                *flipped ^= 0x5a;
        write_sample("store", name, out, n);
        free(used);
        free(out);
}

static void img_close(Image *im)
{
        img_check(ss_store_close(im->s), "close");
        im->s = NULL;
}

static void img_reopen(Image *im)
{
        img_check(ss_store_open(&im->origin->dev, &im->store->dev, NULL, &im->s), "reopen");
}

static void img_free(Image *im)
{
        if (im->s)
                ss_store_close(im->s);
        memdev_close(&im->origin->dev);
        memdev_close(&im->store->dev);
}

static void gen_store_images(void)
{
        Image im;
        uint32_t a, b, c;
        uint8_t *buf = ss_alloc_io_buffer(IMG_CHUNK);

        if (!buf)
                exit(1);

        /* A new store. */
        img_new(&im);
        img_close(&im);
        img_emit(&im, "valid-empty", UINT64_MAX, 0);
        img_free(&im);

        /* Snapshots sharing copy-outs, a writable one with a private chunk,
         * a deleted one whose space is still being freed. */
        img_new(&im);
        for (uint64_t i = 0; i < 16; i++)
                img_write(&im, i, (uint8_t)(1 + i));
        img_check(ss_snapshot_create(im.s, "a", 0, 0, &a), "snapshot a");
        img_write(&im, 2, 0x20);
        img_write(&im, 3, 0x21);
        img_check(ss_snapshot_create(im.s, "b", SS_SNAP_WRITABLE, 5, &b), "snapshot b");
        img_write(&im, 3, 0x30);
        img_write(&im, 9, 0x31);
        memset(buf, 0x77, IMG_CHUNK);
        img_check(ss_snapshot_write(im.s, b, buf, 5 * IMG_CHUNK, IMG_CHUNK), "snapshot write");
        img_check(ss_snapshot_create(im.s, "c", SS_SNAP_PINNED, -1, &c), "snapshot c");
        img_write(&im, 9, 0x40);
        img_check(ss_snapshot_delete(im.s, a), "delete a");
        img_close(&im);
        img_emit(&im, "valid-snapshots", UINT64_MAX, 0);

        /* Known-bad: one byte of a metadata block changed. */
        img_reopen(&im);
        uint64_t snaps_root = im.s->sb.roots[SS_TREE_SNAPSHOTS].block;
        uint64_t shared_root = im.s->sb.roots[SS_TREE_SHARED].block;
        uint64_t bitmap = sm_bitmap_block(im.s, 0, im.s->sb.slot_bits[0] & 1);
        img_close(&im);
        img_emit(&im, "bad-snapshot-node", snaps_root, 100);
        img_emit(&im, "bad-shared-node", shared_root, 64);
        img_emit(&im, "bad-bitmap", bitmap, 200);

        /* An unfinished revert to b. */
        img_reopen(&im);
        img_check(ss_revert_begin(im.s, b), "revert begin");
        img_check(ss_revert_step(im.s, 1, NULL), "revert step");
        img_close(&im);
        img_emit(&im, "valid-revert", UINT64_MAX, 0);
        img_free(&im);
        free(buf);
}

/* ---- replication streams (fuzz-stream) ---- */

static void stream_emit(Image *im, const char *name, uint32_t from, uint32_t to, bool resume,
                        uint64_t after, MemBuf *ret)
{
        SsStreamSendOptions o = { .write = membuf_write,
                                  .user = ret,
                                  .zstd_level = 3,
                                  .resume = resume,
                                  .resume_after = after,
                                  .resume_every_records = 2 };

        ret->len = 0;
        img_check(ss_stream_send(im->s, from, to, &o, NULL), name);
        write_sample("stream", name, ret->data, ret->len);
}

/* A copy of the stream with one change, written as a known-bad sample. */
static void stream_mutant(const MemBuf *b, const char *name, size_t at, uint8_t xor, size_t len)
{
        uint8_t *copy = malloc(b->len);

        if (!copy)
                exit(1);
        memcpy(copy, b->data, b->len);
        if (at < len)
                copy[at] ^= xor;
        write_sample("stream", name, copy, len);
        free(copy);
}

static void gen_streams(void)
{
        static const uint8_t vuuid[16] = { 0x76, 0x6f, 0x6c, 0x75, 0x6d, 0x65, 0x00, 0x02 };
        SsCreateOptions c = { .volume_name = "fuzz",
                              .chunk_size = IMG_CHUNK,
                              .volume_uuid = vuuid };
        MemBuf full = { 0 }, incr = { 0 }, other = { 0 };
        uint8_t *buf = ss_alloc_io_buffer(IMG_CHUNK);
        Image im;
        uint32_t a, b;

        im.origin = memdev_new("origin", IMG_ORIGIN);
        im.store = memdev_new("store", (uint64_t)IMG_STORE_BLOCKS * SS_BLOCK_SIZE);
        if (!im.origin || !im.store || !buf)
                exit(1);
        img_check(ss_store_create(&im.origin->dev, &im.store->dev, &c), "create");
        img_check(ss_store_open(&im.origin->dev, &im.store->dev, NULL, &im.s), "open");
        /* Chunks 0-3 and 8 written (one compressible, one not), the rest holes. */
        for (uint64_t i = 0; i < 4; i++)
                img_write(&im, i, (uint8_t)(0x10 + i));
        for (size_t i = 0; i < IMG_CHUNK; i++)
                buf[i] = (uint8_t)(i * 2654435761u >> 13);
        img_check(ss_origin_write(im.s, buf, 8 * IMG_CHUNK, IMG_CHUNK), "origin write");
        img_check(ss_snapshot_create_at(im.s, "monday", 0, 0, 1700000000, &a), "snapshot a");
        img_write(&im, 2, 0x22);
        img_write(&im, 3, 0);
        img_write(&im, 12, 0x33);
        img_check(ss_snapshot_create_at(im.s, "tuesday", 0, 0, 1700086400, &b), "snapshot b");

        stream_emit(&im, "valid-full", 0, a, false, 0, &full);
        stream_emit(&im, "valid-incremental", a, b, false, 0, &incr);
        stream_emit(&im, "valid-full-resumed", 0, b, true, 3, &other);
        SsStreamSendOptions plain = { .write = membuf_write, .user = &other };
        other.len = 0;
        img_check(ss_stream_send(im.s, a, b, &plain, NULL), "uncompressed");
        write_sample("stream", "valid-incremental-uncompressed", other.data, other.len);

        stream_mutant(&full, "bad-empty", 0, 0, 0);
        stream_mutant(&full, "bad-magic", 0, 0x01, full.len);
        stream_mutant(&full, "bad-version", 8, 0x02, full.len);
        stream_mutant(&full, "bad-header-checksum", 40, 0x01, full.len);
        stream_mutant(&full, "bad-truncated-header", 0, 0, 100);
        stream_mutant(&full, "bad-truncated-record", 0, 0, SS_STREAM_HEADER_SIZE + 20);
        stream_mutant(&full, "bad-no-trailer", 0, 0, full.len - SS_REC_TRAILER_SIZE);
        stream_mutant(&full, "bad-truncated-last-byte", 0, 0, full.len - 1);
        stream_mutant(&full, "bad-record-type", SS_STREAM_HEADER_SIZE, 0x40, full.len);
        stream_mutant(&full, "bad-record-check", SS_STREAM_HEADER_SIZE + 8, 0x01, full.len);
        stream_mutant(&full, "bad-payload-bit", SS_STREAM_HEADER_SIZE + 50, 0x08, full.len);
        stream_mutant(&full, "bad-trailer-bit", full.len - 20, 0x01, full.len);
        stream_mutant(&incr, "bad-incremental-payload-bit", incr.len / 2, 0x80, incr.len);
        stream_mutant(&incr, "bad-incremental-truncated", 0, 0, incr.len * 2 / 3);
        /* A valid stream with one byte after its trailer. */
        other.len = 0;
        membuf_write(&other, full.data, full.len);
        membuf_write(&other, "x", 1);
        write_sample("stream", "bad-trailing-byte", other.data, other.len);

        img_close(&im);
        img_free(&im);
        free(full.data);
        free(incr.data);
        free(other.data);
        free(buf);
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "Usage: %s OUTPUT_DIR   (e.g. tests/fuzz/corpus)\n", argv[0]);
                return 2;
        }
        out_root = argv[1];
        make_dir(out_root);
        gen_superblocks();
        gen_nodes();
        gen_snapshots();
        gen_store_images();
        gen_streams();
        if (failures) {
                fprintf(stderr, "gen-corpus: %d valid samples did not round-trip\n", failures);
                return 1;
        }
        return 0;
}
