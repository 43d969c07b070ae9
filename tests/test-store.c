/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of the engine through its public API, on memory devices:
 * copy-out, sharing, snapshot reads, writable snapshots, deletion and
 * cleanup, delta, revert, usage, growth, store-full policies, reopen,
 * refusing bad input, the change count that unlocked readers check, and
 * reading a closed store's label (ss_store_probe).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-check.h"
#include "faultdev.h"
#include "model.h"
#include "snapstore.h"
#include "test-util.h"

#define CHUNK 4096u
#define ORIGIN_SIZE (64u * CHUNK)
#define STORE_SIZE (4u << 20)

typedef struct Env {
        FaultDomain *fd;
        SsBlockDev *origin, *store;
        SsStore *s;
} Env;

static void report(void *user, const char *msg)
{
        (void)user;
        fprintf(stderr, "  check: %s\n", msg);
}

static void env_open(Env *e)
{
        SsOpenOptions o = { .cache_bytes = 1 << 20 };
        CHECK_SS(ss_store_open(e->origin, e->store, &o, &e->s) == 0);
}

static void env_new_sized(Env *e, uint64_t origin_size, uint64_t store_size, SsFullPolicy policy)
{
        e->fd = fault_domain_new(1);
        e->origin = faultdev_new(e->fd, "origin", origin_size);
        e->store = faultdev_new(e->fd, "store", store_size);
        SsCreateOptions c = { .volume_name = "vol", .chunk_size = CHUNK, .full_policy = policy };
        CHECK_SS(ss_store_create(e->origin, e->store, &c) == 0);
        env_open(e);
}

static void env_new(Env *e, uint64_t store_size, SsFullPolicy policy)
{
        env_new_sized(e, ORIGIN_SIZE, store_size, policy);
}

static void env_check(Env *e)
{
        CHECK_SS(ss_check(e->s, report, NULL) == 0);
}

static void env_free(Env *e)
{
        env_check(e);
        CHECK_SS(ss_store_close(e->s) == 0);
        ss_blockdev_close(e->origin);
        ss_blockdev_close(e->store);
        fault_domain_free(e->fd);
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
        for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)(seed * 31 + i / 512);
}

static void write_chunk(Env *e, uint64_t c, unsigned seed)
{
        static uint8_t buf[CHUNK];
        fill(buf, CHUNK, seed);
        CHECK_SS(ss_origin_write(e->s, buf, c * CHUNK, CHUNK) == 0);
}

static bool snap_chunk_is(Env *e, uint32_t id, uint64_t c, unsigned seed)
{
        static uint8_t got[CHUNK], want[CHUNK];
        fill(want, CHUNK, seed);
        if (ss_snapshot_read(e->s, id, got, c * CHUNK, CHUNK) != 0)
                return false;
        return memcmp(got, want, CHUNK) == 0;
}

static bool origin_chunk_is(Env *e, uint64_t c, unsigned seed)
{
        static uint8_t got[CHUNK], want[CHUNK];
        fill(want, CHUNK, seed);
        if (ss_origin_read(e->s, got, c * CHUNK, CHUNK) != 0)
                return false;
        return memcmp(got, want, CHUNK) == 0;
}

static void test_copy_out_and_sharing(void)
{
        Env e;
        SsStoreInfo info;
        uint32_t a, b, c;

        env_new(&e, STORE_SIZE, SS_FULL_REFUSE);
        for (uint64_t i = 0; i < 64; i++)
                write_chunk(&e, i, 1);
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.shared_exceptions == 0);
        CHECK_SS(ss_snapshot_create(e.s, "a", 0, 0, &a) == 0 && a == 1);
        CHECK_SS(ss_snapshot_create(e.s, "b", 0, 0, &b) == 0 && b == 2);
        write_chunk(&e, 5, 2);
        /* One copy serves both snapshots. */
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.shared_exceptions == 1);
        write_chunk(&e, 5, 3); /* already copied: no new exception */
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.shared_exceptions == 1);
        CHECK_SS(ss_snapshot_create(e.s, "c", 0, 0, &c) == 0);
        write_chunk(&e, 5, 4);
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.shared_exceptions == 2);
        CHECK_SS(snap_chunk_is(&e, a, 5, 1) && snap_chunk_is(&e, b, 5, 1));
        CHECK_SS(snap_chunk_is(&e, c, 5, 3) && origin_chunk_is(&e, 5, 4));
        CHECK_SS(snap_chunk_is(&e, a, 6, 1));

        SsExtent ext[4];
        int n = ss_snapshot_map_read(e.s, a, 4 * CHUNK, 3 * CHUNK, ext, 4);
        CHECK_SS(n == 3 && ext[0].kind == SS_EXTENT_ORIGIN && ext[1].kind == SS_EXTENT_STORE &&
                 ext[2].kind == SS_EXTENT_ORIGIN);

        /* Deleting a frees nothing b still needs; deleting b frees the copy. */
        CHECK_SS(ss_snapshot_delete(e.s, a) == 0);
        while (ss_cleanup_step(e.s, 1) == 1)
                ;
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.shared_exceptions == 2);
        CHECK_SS(snap_chunk_is(&e, b, 5, 1));
        CHECK_SS(ss_snapshot_delete(e.s, b) == 0);
        CHECK_SS(ss_cleanup_step(e.s, 100) == 0);
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.shared_exceptions == 1);
        CHECK_SS(snap_chunk_is(&e, c, 5, 3));
        env_check(&e);

        /* Everything survives a reopen. */
        CHECK_SS(ss_store_close(e.s) == 0);
        env_open(&e);
        CHECK_SS(snap_chunk_is(&e, c, 5, 3) && origin_chunk_is(&e, 5, 4));
        SsSnapshotInfo si;
        CHECK_SS(ss_snapshot_get(e.s, c, &si) == 0 && strcmp(si.name, "c") == 0);
        CHECK_SS(ss_snapshot_get(e.s, a, &si) == -ENOENT);
        env_free(&e);
}

static void test_names_and_bad_input(void)
{
        Env e;
        uint32_t a, id;
        uint8_t buf[CHUNK] = { 0 };

        env_new(&e, STORE_SIZE, SS_FULL_REFUSE);
        CHECK_SS(ss_snapshot_create(e.s, "a", 0, 0, &a) == 0);
        CHECK_SS(ss_snapshot_create(e.s, "a", 0, 0, &id) == -EEXIST);
        CHECK_SS(ss_snapshot_create(e.s, "", 0, 0, &id) == -EINVAL);
        CHECK_SS(ss_snapshot_create(e.s, "a/b", 0, 0, &id) == -EINVAL);
        CHECK_SS(ss_snapshot_create(e.s, "-x", 0, 0, &id) == -EINVAL);
        CHECK_SS(ss_snapshot_create(e.s, "x", 0x80, 0, &id) == -EINVAL);
        CHECK_SS(ss_snapshot_create(e.s, NULL, 0, 0, &id) == 0);
        SsSnapshotInfo si;
        CHECK_SS(ss_snapshot_get(e.s, id, &si) == 0 && strncmp(si.name, "vol-", 4) == 0);
        CHECK_SS(ss_snapshot_rename(e.s, a, si.name) == -EEXIST);
        CHECK_SS(ss_snapshot_rename(e.s, a, "b") == 0);
        CHECK_SS(ss_snapshot_find(e.s, "b", &id) == 0 && id == a);
        CHECK_SS(ss_snapshot_find(e.s, "a", &id) == -ENOENT);
        CHECK_SS(ss_snapshot_delete(e.s, 999) == -ENOENT);
        CHECK_SS(ss_origin_write(e.s, buf, 1, CHUNK) == -EINVAL);
        CHECK_SS(ss_origin_write(e.s, buf, ORIGIN_SIZE, CHUNK) == -EINVAL);
        CHECK_SS(ss_snapshot_write(e.s, a, buf, 0, CHUNK) == -EROFS);
        CHECK_SS(ss_snapshot_read(e.s, a, buf, ORIGIN_SIZE - 512, CHUNK) == -EINVAL);

        SsCreateOptions c = { .volume_name = "vol" };
        CHECK_SS(ss_store_create(e.origin, e.store, &c) == -EEXIST);
        c.chunk_size = 3000;
        c.force = true;
        CHECK_SS(ss_store_create(e.origin, e.store, &c) == -EINVAL);
        env_free(&e);
}

static void test_writable_snapshot(void)
{
        Env e;
        uint32_t w;
        uint8_t buf[CHUNK];

        env_new(&e, STORE_SIZE, SS_FULL_REFUSE);
        write_chunk(&e, 3, 1);
        CHECK_SS(ss_snapshot_create(e.s, "w", SS_SNAP_WRITABLE, 0, &w) == 0);
        fill(buf, CHUNK, 9);
        CHECK_SS(ss_snapshot_write(e.s, w, buf + 512, 3 * CHUNK + 512, 1024) == 0);
        CHECK_SS(origin_chunk_is(&e, 3, 1));
        uint8_t got[CHUNK], want[CHUNK];
        fill(want, CHUNK, 1);
        memcpy(want + 512, buf + 512, 1024);
        CHECK_SS(ss_snapshot_read(e.s, w, got, 3 * CHUNK, CHUNK) == 0 &&
                 memcmp(got, want, CHUNK) == 0);
        write_chunk(&e, 3, 2);
        CHECK_SS(ss_snapshot_read(e.s, w, got, 3 * CHUNK, CHUNK) == 0 &&
                 memcmp(got, want, CHUNK) == 0);
        SsSnapshotUsage u;
        CHECK_SS(ss_snapshot_usage(e.s, w, &u) == 0 && u.private_chunks == 1 &&
                 u.shared_chunks == 0);

        /* Revert brings the written snapshot's image back onto the origin. */
        CHECK_SS(ss_revert_origin(e.s, w) == 0);
        CHECK_SS(ss_origin_read(e.s, got, 3 * CHUNK, CHUNK) == 0 && memcmp(got, want, CHUNK) == 0);
        CHECK_SS(ss_snapshot_delete(e.s, w) == 0);
        CHECK_SS(ss_cleanup_step(e.s, 1000) == 0);
        SsStoreInfo info;
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.private_exceptions == 0 &&
                 info.data_bytes == 0);
        env_free(&e);
}

static void test_delta_and_revert(void)
{
        Env e;
        uint32_t a, b;
        uint64_t chunks[128];
        SsDeltaCursor cur;

        env_new(&e, STORE_SIZE, SS_FULL_REFUSE);
        for (uint64_t i = 0; i < 64; i++)
                write_chunk(&e, i, 1);
        CHECK_SS(ss_snapshot_create(e.s, "a", 0, 0, &a) == 0);
        write_chunk(&e, 7, 2);
        write_chunk(&e, 9, 2);
        CHECK_SS(ss_snapshot_create(e.s, "b", 0, 0, &b) == 0);
        write_chunk(&e, 9, 3);
        write_chunk(&e, 11, 3);
        CHECK_SS(ss_delta_begin(e.s, a, b, &cur) == 0);
        int n = ss_delta_next(e.s, &cur, chunks, 128);
        CHECK_SS(n == 2 && chunks[0] == 7 && chunks[1] == 9);
        CHECK_SS(ss_delta_next(e.s, &cur, chunks, 128) == 0);
        CHECK_SS(ss_delta_begin(e.s, b, 0, &cur) == 0);
        n = ss_delta_next(e.s, &cur, chunks, 128);
        CHECK_SS(n == 2 && chunks[0] == 9 && chunks[1] == 11);
        CHECK_SS(ss_delta_begin(e.s, 0, a, &cur) == 0);
        CHECK_SS(ss_delta_next(e.s, &cur, chunks, 128) == 64);

        CHECK_SS(ss_revert_origin(e.s, a) == 0);
        for (uint64_t i = 0; i < 64; i++)
                CHECK_SS(origin_chunk_is(&e, i, 1));
        CHECK_SS(snap_chunk_is(&e, b, 9, 2) && snap_chunk_is(&e, b, 7, 2));
        env_free(&e);
}

static bool chunk_is_zero(Env *e, uint32_t id, uint64_t c)
{
        static uint8_t got[CHUNK], zero[CHUNK];
        int r = id ? ss_snapshot_read(e->s, id, got, c * CHUNK, CHUNK)
                   : ss_origin_read(e->s, got, c * CHUNK, CHUNK);
        return r == 0 && memcmp(got, zero, CHUNK) == 0;
}

static void test_refuse_and_autodelete(void)
{
        Env e;
        uint32_t s1, s2;
        uint8_t buf[CHUNK];
        uint64_t i;
        int r = 0;

        memset(buf, 0xab, sizeof(buf));
        env_new(&e, (128 + 2 + 48) * 4096, SS_FULL_REFUSE);
        CHECK_SS(ss_snapshot_create(e.s, "s1", 0, 0, &s1) == 0);
        for (i = 0; i < 64; i++) {
                r = ss_origin_write(e.s, buf, i * CHUNK, CHUNK);
                if (r < 0)
                        break;
        }
        CHECK_SS(r == -ENOSPC && i > 8 && i < 64);
        /* The refused write touched neither the origin nor the snapshot. */
        CHECK_SS(chunk_is_zero(&e, 0, i) && chunk_is_zero(&e, s1, i));
        CHECK_SS(chunk_is_zero(&e, s1, 0));
        env_check(&e);

        CHECK_SS(ss_store_set_full_policy(e.s, SS_FULL_AUTODELETE) == 0);
        CHECK_SS(ss_snapshot_create(e.s, "s2", SS_SNAP_PINNED, 0, &s2) == 0);
        CHECK_SS(ss_origin_write(e.s, buf, i * CHUNK, CHUNK) == 0);
        SsSnapshotInfo si;
        CHECK_SS(ss_snapshot_get(e.s, s1, &si) == -ENOENT);
        CHECK_SS(ss_snapshot_get(e.s, s2, &si) == 0);
        /* Only pinned snapshots left: the store refuses instead. */
        for (i = 0; i < 64 && r == 0; i++)
                r = ss_origin_write(e.s, buf, i * CHUNK, CHUNK);
        CHECK_SS(ss_snapshot_create(e.s, "s3", SS_SNAP_PINNED, 0, &s1) == 0);
        memset(buf, 0xcd, sizeof(buf));
        for (i = 0; i < 64; i++)
                if ((r = ss_origin_write(e.s, buf, i * CHUNK, CHUNK)) < 0)
                        break;
        CHECK_SS(r == -ENOSPC);
        CHECK_SS(ss_snapshot_get(e.s, s2, &si) == 0 && ss_snapshot_get(e.s, s1, &si) == 0);
        env_free(&e);
}

/* Copied-out chunks the model's live snapshots need: per chunk, the
 * distinct contents (by buffer) snapshots hold that the origin does not.
 * Cleanup is exact, so once it finished the store holds exactly these. */
static uint64_t model_needed_chunks(const Model *m)
{
        uint64_t need = 0;
        const ModelChunk **seen = malloc((m->nsnaps + 1) * sizeof(*seen));

        for (uint64_t c = 0; c < m->origin.nchunks; c++) {
                size_t n = 0;
                for (size_t i = 0; i < m->nsnaps; i++) {
                        const ModelImage *img = &m->snaps[i].image;
                        if (c >= img->nchunks || img->chunks[c] == m->origin.chunks[c])
                                continue;
                        size_t j = 0;
                        while (j < n && seen[j] != img->chunks[c])
                                j++;
                        if (j == n)
                                seen[n++] = img->chunks[c];
                }
                need += n;
        }
        free(seen);
        return need;
}

/* Every live snapshot's whole image and the origin equal the model. */
static void verify_all_images(Env *e, Model *m)
{
        char why[512];
        int bad = 0;

        for (size_t i = 0; i < m->nsnaps && bad < 5; i++)
                if (model_verify_image(e->s, m, m->snaps[i].id, why, sizeof(why)) != 0) {
                        fprintf(stderr, "FAIL: snapshot %u: %s\n", m->snaps[i].id, why);
                        bad++;
                }
        if (model_verify(e->s, m, MV_META | MV_ORIGIN, why, sizeof(why)) != 0) {
                fprintf(stderr, "FAIL: %s\n", why);
                bad++;
        }
        CHECK_SS(bad == 0);
}

/* 10,000 snapshots of a small origin (so reading every image stays cheap,
 * also under ASan), with seeded origin writes between them: every image is
 * compared with the model, across a reopen; then all but every 100th are
 * deleted, cleanup runs to the end, and the store must be consistent, hold
 * exactly the copies the survivors need and have returned the rest to free
 * space; finally the survivors go too and no data is left. */
#define MANY 10000u
#define MANY_CHUNKS 8u
static void test_many_snapshots(uint64_t seed)
{
        Env e;
        uint32_t id = 0;
        char name[32];
        static uint8_t buf[CHUNK];
        Rng rng = { seed_mix(seed, MANY) };
        Model *m = model_new(CHUNK, NULL, MANY_CHUNKS * CHUNK);
        SsStoreInfo before, info;

        env_new_sized(&e, MANY_CHUNKS * CHUNK, 40u << 20, SS_FULL_REFUSE);
        for (unsigned i = 1; i <= MANY; i++) {
                snprintf(name, sizeof(name), "s%u", i);
                if (ss_snapshot_create(e.s, name, 0, 0, &id) != 0) {
                        CHECK_SS(!"snapshot create");
                        break;
                }
                model_snapshot_create(m, id, name, 0, 0);
                /* Now and then a burst of writes, so images differ by
                 * anything from nothing to every chunk. */
                for (unsigned w = rng_percent(&rng, 25) ? (unsigned)rng_range(&rng, 1, 3) : 0; w;
                     w--) {
                        uint64_t c = rng_below(&rng, MANY_CHUNKS);
                        rng_fill(&rng, buf, CHUNK);
                        CHECK_SS(ss_origin_write(e.s, buf, c * CHUNK, CHUNK) == 0);
                        model_origin_write(m, buf, c * CHUNK, CHUNK);
                }
        }
        CHECK_SS(id == MANY);
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.snapshot_count == MANY);
        CHECK_SS(ss_store_close(e.s) == 0);
        env_open(&e);
        CHECK_SS(ss_snapshot_find(e.s, "s9999", &id) == 0 && id == 9999);
        verify_all_images(&e, m);
        CHECK_SS(ss_store_info(e.s, &before) == 0 &&
                 before.shared_exceptions == model_needed_chunks(m));

        /* From the top down, which keeps the model's deletions cheap. */
        for (size_t i = m->nsnaps; i-- > 0;) {
                id = m->snaps[i].id;
                if (id % 100 == 0)
                        continue;
                CHECK_SS(ss_snapshot_delete(e.s, id) == 0);
                model_snapshot_delete(m, id);
        }
        int r;
        while ((r = ss_cleanup_step(e.s, 1000)) == 1)
                ;
        CHECK_SS(r == 0);
        env_check(&e);
        uint64_t need = model_needed_chunks(m);
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.snapshot_count == MANY / 100 &&
                 info.cleanup_jobs == 0);
        CHECK_SS(info.shared_exceptions == need && info.data_bytes == need * CHUNK);
        CHECK_SS(need < before.shared_exceptions);
        /* What the deleted snapshots held is free again. */
        CHECK_SS(info.free_bytes + info.data_bytes + info.metadata_bytes ==
                 before.free_bytes + before.data_bytes + before.metadata_bytes);
        CHECK_SS(info.free_bytes >= before.free_bytes + (before.data_bytes - info.data_bytes) -
                                            (info.metadata_bytes > before.metadata_bytes
                                                     ? info.metadata_bytes - before.metadata_bytes
                                                     : 0));
        verify_all_images(&e, m);

        CHECK_SS(ss_store_close(e.s) == 0);
        env_open(&e);
        verify_all_images(&e, m);
        while (m->nsnaps) {
                id = m->snaps[m->nsnaps - 1].id;
                CHECK_SS(ss_snapshot_delete(e.s, id) == 0);
                model_snapshot_delete(m, id);
        }
        while ((r = ss_cleanup_step(e.s, 1000)) == 1)
                ;
        CHECK_SS(r == 0 && ss_store_info(e.s, &info) == 0 && info.snapshot_count == 0);
        CHECK_SS(info.data_bytes == 0 && info.shared_exceptions == 0);
        model_free(m);
        env_free(&e);
}

static void test_grow_and_size_mismatch(void)
{
        Env e;
        SsStoreInfo info;

        env_new(&e, STORE_SIZE, SS_FULL_REFUSE);
        CHECK_SS(ss_store_close(e.s) == 0);
        SsBlockDev *other = faultdev_new(e.fd, "other", ORIGIN_SIZE * 2);
        SsStore *s;
        CHECK_SS(ss_store_open(other, e.store, NULL, &s) == -EINVAL);
        ss_blockdev_close(other);
        env_open(&e);
        CHECK_SS(ss_store_grow(e.s, STORE_SIZE / 2) == -EINVAL);
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.store_size == STORE_SIZE);
        env_free(&e);
}

/* Whether ss_store_changes() moved since *last; remembers where it is now. */
static bool changes_moved(Env *e, uint64_t *last)
{
        uint64_t now = ss_store_changes(e->s);
        bool moved = now != *last;

        *last = now;
        return moved;
}

/* Every kind of call that may change what an extent of
 * ss_snapshot_map_read() reads moves the change count, before the change
 * (here: by the time it returns); reads and writes that change no mapping
 * leave it alone, so they cost unlocked readers nothing. */
static void test_change_count(void)
{
        Env e;
        uint32_t a, w, b;
        uint8_t buf[CHUNK];
        SsExtent ext[4];
        uint64_t last;
        uint64_t i;
        int r = 0;

        env_new(&e, STORE_SIZE, SS_FULL_REFUSE);
        last = ss_store_changes(e.s);
        write_chunk(&e, 0, 1); /* no snapshot: nothing to copy out */
        CHECK_SS(!changes_moved(&e, &last));
        CHECK_SS(ss_snapshot_create(e.s, "a", 0, 0, &a) == 0);
        CHECK_SS(changes_moved(&e, &last));
        CHECK_SS(ss_snapshot_map_read(e.s, a, 0, CHUNK, ext, 4) == 1 &&
                 ext[0].kind == SS_EXTENT_ORIGIN);
        write_chunk(&e, 0, 2); /* copy-out: the extent above is stale now */
        CHECK_SS(changes_moved(&e, &last));
        write_chunk(&e, 0, 3); /* copied already */
        CHECK_SS(snap_chunk_is(&e, a, 0, 1) && ss_snapshot_map_read(e.s, a, 0, CHUNK, ext, 4) == 1);
        CHECK_SS(!changes_moved(&e, &last));

        CHECK_SS(ss_snapshot_create(e.s, "w", SS_SNAP_WRITABLE, 0, &w) == 0);
        CHECK_SS(changes_moved(&e, &last));
        fill(buf, CHUNK, 4);
        CHECK_SS(ss_snapshot_write(e.s, w, buf, CHUNK, CHUNK) == 0); /* a new private chunk */
        CHECK_SS(changes_moved(&e, &last));
        CHECK_SS(ss_snapshot_write(e.s, w, buf, CHUNK, 512) == 0); /* in place, no commit */
        CHECK_SS(changes_moved(&e, &last));
        CHECK_SS(ss_snapshot_rename(e.s, a, "a2") == 0);
        CHECK_SS(changes_moved(&e, &last));
        CHECK_SS(ss_revert_origin(e.s, a) == 0);
        CHECK_SS(changes_moved(&e, &last));
        CHECK_SS(ss_snapshot_delete(e.s, w) == 0);
        CHECK_SS(changes_moved(&e, &last));
        CHECK_SS(ss_cleanup_step(e.s, 100) == 0); /* frees w's private chunk */
        CHECK_SS(changes_moved(&e, &last));
        CHECK_SS(ss_store_set_full_policy(e.s, SS_FULL_AUTODELETE) == 0);
        CHECK_SS(changes_moved(&e, &last));
        env_free(&e);

        /* The store-full policy deletes a snapshot and reuses its blocks
         * inside one origin write. */
        env_new(&e, (128 + 2 + 48) * 4096, SS_FULL_AUTODELETE);
        CHECK_SS(ss_snapshot_create(e.s, "old", 0, 0, &a) == 0);
        for (i = 0; i < 20 && r == 0; i++)
                r = ss_origin_write(e.s, buf, i * CHUNK, CHUNK);
        CHECK_SS(r == 0);
        CHECK_SS(ss_snapshot_create(e.s, "new", SS_SNAP_PINNED, 0, &b) == 0);
        last = ss_store_changes(e.s);
        for (i = 0; i < 20 && r == 0; i++) {
                r = ss_origin_write(e.s, buf, i * CHUNK, CHUNK);
                CHECK_SS(changes_moved(&e, &last));
        }
        SsSnapshotInfo si;
        CHECK_SS(r == 0 && ss_snapshot_get(e.s, a, &si) == -ENOENT);
        CHECK_SS(ss_snapshot_get(e.s, b, &si) == 0);
        env_free(&e);
}

/* Issue 10: a created snapshot is durable as a whole.  Origin writes that
 * returned before ss_snapshot_create() but were never flushed must be in
 * the snapshot after a power cut that drops every unflushed write. */
static void test_snapshot_create_durable(void)
{
        Env e;
        uint32_t a = 0;

        env_new(&e, STORE_SIZE, SS_FULL_REFUSE);
        write_chunk(&e, 2, 7); /* acknowledged, not flushed */
        write_chunk(&e, 3, 8);
        CHECK_SS(ss_snapshot_create(e.s, "a", 0, 0, &a) == 0);
        fault_domain_power_off(e.fd);
        ss_store_close(e.s); /* fails: the power is off */
        fault_domain_power_cycle(e.fd, FAULT_LOSS_DROP_ALL);
        env_open(&e);
        SsSnapshotInfo si;
        CHECK_SS(ss_snapshot_get(e.s, a, &si) == 0);
        CHECK_SS(snap_chunk_is(&e, a, 2, 7) && snap_chunk_is(&e, a, 3, 8));
        CHECK_SS(origin_chunk_is(&e, 2, 7) && origin_chunk_is(&e, 3, 8));
        env_free(&e);
}

/* A full store with a revert pending: snapshot t (lowest priority, all
 * zeros) is older than the chunks written until the store filled up, and
 * newer snapshots n (and m, if ret_m) still share those chunks with the
 * origin, so reverting to t must copy each of them out first.  Returns how
 * many chunks the revert rewrites; the revert has begun and is stuck. */
static uint64_t full_store_revert(Env *e, uint32_t *ret_t, uint32_t *ret_n, uint32_t *ret_m)
{
        uint64_t i;
        int r = 0;

        /* Superblock copies and mirrors (128 blocks), group 0's bitmaps, 48 more. */
        env_new(e, (128 + 2 + 48) * 4096, SS_FULL_REFUSE);
        CHECK_SS(ss_snapshot_create(e->s, "t", 0, -10, ret_t) == 0);
        for (i = 0; i < 64; i++) {
                static uint8_t buf[CHUNK];
                fill(buf, CHUNK, 1);
                if ((r = ss_origin_write(e->s, buf, i * CHUNK, CHUNK)) < 0)
                        break;
        }
        CHECK_SS(r == -ENOSPC && i > 8 && i < 60);
        CHECK_SS(ss_snapshot_create(e->s, "n", 0, 0, ret_n) == 0);
        if (ret_m)
                CHECK_SS(ss_snapshot_create(e->s, "m", 0, 5, ret_m) == 0);
        CHECK_SS(ss_revert_begin(e->s, *ret_t) == 0);
        while ((r = ss_revert_step(e->s, 4, NULL)) == 1)
                ;
        CHECK_SS(r == -ENOSPC);
        return i;
}

static bool revert_done_to_zero(Env *e, uint64_t nchunks)
{
        SsStoreInfo info;
        bool ok = ss_store_info(e->s, &info) == 0 && info.revert_target == 0;
        for (uint64_t c = 0; c < nchunks; c++)
                ok = ok && chunk_is_zero(e, 0, c);
        return ok;
}

/* Issue 10: under the refuse policy a revert that runs out of space fails
 * with -ENOSPC saying what would let it finish, its target cannot be
 * deleted, origin writes fail with -ENOSPC and never -EBUSY, and
 * ss_revert_abandon() gives it up leaving every snapshot intact. */
static void test_revert_full_refuse(void)
{
        Env e;
        uint32_t t, n;
        SsStoreInfo info;
        uint8_t buf[CHUNK];

        uint64_t k = full_store_revert(&e, &t, &n, NULL);
        CHECK_SS(ss_revert_step(e.s, 4, NULL) == -ENOSPC);
        const char *msg = ss_last_error();
        CHECK_SS(strstr(msg, "grow the store") && strstr(msg, "ss_revert_abandon") &&
                 strstr(msg, "bytes"));
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.revert_target == t);
        CHECK_SS(ss_snapshot_delete(e.s, t) == -EBUSY);
        fill(buf, CHUNK, 3);
        CHECK_SS(ss_origin_write(e.s, buf, 62 * CHUNK, CHUNK) == -ENOSPC);
        CHECK_SS(ss_store_set_full_policy(e.s, SS_FULL_AUTODELETE) == 0);
        CHECK_SS(ss_store_set_full_policy(e.s, SS_FULL_REFUSE) == 0);
        env_check(&e);

        CHECK_SS(ss_revert_abandon(e.s) == 0);
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.revert_target == 0);
        CHECK_SS(ss_revert_abandon(e.s) == -ENOENT);
        for (uint64_t c = 0; c < k; c++)
                CHECK_SS(chunk_is_zero(&e, t, c) && snap_chunk_is(&e, n, c, 1));
        CHECK_SS(ss_snapshot_delete(e.s, t) == 0);
        CHECK_SS(ss_cleanup_step(e.s, 1000) == 0);
        env_check(&e);
        /* The abandoned revert stays abandoned across a reopen. */
        CHECK_SS(ss_store_close(e.s) == 0);
        env_open(&e);
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.revert_target == 0);
        CHECK_SS(snap_chunk_is(&e, n, 0, 1));
        env_free(&e);
}

/* Issue 10: under autodelete the revert's copy-outs delete the least wanted
 * snapshots, never the target even when it has the lowest priority; an
 * origin write during the revert never fails with -EBUSY. */
static void test_revert_full_autodelete(void)
{
        Env e;
        uint32_t t, n, m;
        SsSnapshotInfo si;
        uint8_t buf[CHUNK];

        uint64_t k = full_store_revert(&e, &t, &n, &m);
        CHECK_SS(ss_store_set_full_policy(e.s, SS_FULL_AUTODELETE) == 0);
        fill(buf, CHUNK, 3);
        /* t is the lowest priority, yet n goes, then m; then nothing is left
         * to delete for chunk 62, which t still shares with the origin. */
        int r = ss_origin_write(e.s, buf, 62 * CHUNK, CHUNK);
        CHECK_SS(r == -ENOSPC);
        CHECK_SS(ss_snapshot_get(e.s, t, &si) == 0);
        CHECK_SS(ss_snapshot_get(e.s, n, &si) == -ENOENT &&
                 ss_snapshot_get(e.s, m, &si) == -ENOENT);
        while ((r = ss_revert_step(e.s, 4, NULL)) == 1)
                ;
        CHECK_SS(r == 0 && revert_done_to_zero(&e, k));
        env_free(&e);

        /* The revert step itself deletes n and m to make room. */
        k = full_store_revert(&e, &t, &n, &m);
        CHECK_SS(ss_store_set_full_policy(e.s, SS_FULL_AUTODELETE) == 0);
        while ((r = ss_revert_step(e.s, 4, NULL)) == 1)
                ;
        CHECK_SS(r == 0 && revert_done_to_zero(&e, k));
        CHECK_SS(ss_snapshot_get(e.s, t, &si) == 0 && ss_snapshot_get(e.s, n, &si) == -ENOENT);
        CHECK_SS(ss_snapshot_get(e.s, m, &si) == -ENOENT);
        env_free(&e);
}

/* Issue 10: a revert stuck in a full store when the power goes finishes on
 * reopen under autodelete. */
static void test_revert_full_powercut(void)
{
        Env e;
        uint32_t t, n;
        SsSnapshotInfo si;
        SsStoreInfo info;

        uint64_t k = full_store_revert(&e, &t, &n, NULL);
        CHECK_SS(ss_store_set_full_policy(e.s, SS_FULL_AUTODELETE) == 0);
        fault_domain_power_off(e.fd);
        ss_store_close(e.s);
        fault_domain_power_cycle(e.fd, FAULT_LOSS_DROP_ALL);
        env_open(&e);
        CHECK_SS(ss_store_info(e.s, &info) == 0 && info.revert_target == t);
        int r;
        while ((r = ss_revert_step(e.s, 4, NULL)) == 1)
                ;
        CHECK_SS(r == 0 && revert_done_to_zero(&e, k));
        CHECK_SS(ss_snapshot_get(e.s, t, &si) == 0 && ss_snapshot_get(e.s, n, &si) == -ENOENT);
        env_free(&e);
}

/* A device that holds every caller to the block device contract on buffer
 * alignment (SS_IO_ALIGN, what O_DIRECT needs) and forwards to a faultdev. */
typedef struct StrictDev {
        SsBlockDev dev;
        SsBlockDev *inner;
        unsigned misaligned;
} StrictDev;

static int strict_pread(SsBlockDev *d, void *buf, size_t len, uint64_t off)
{
        StrictDev *sd = (StrictDev *)d;
        if ((uintptr_t)buf % SS_IO_ALIGN) {
                sd->misaligned++;
                return -EINVAL;
        }
        return sd->inner->ops->pread(sd->inner, buf, len, off);
}

static int strict_pwrite(SsBlockDev *d, const void *buf, size_t len, uint64_t off)
{
        StrictDev *sd = (StrictDev *)d;
        if ((uintptr_t)buf % SS_IO_ALIGN) {
                sd->misaligned++;
                return -EINVAL;
        }
        return sd->inner->ops->pwrite(sd->inner, buf, len, off);
}

static int strict_flush(SsBlockDev *d)
{
        return ((StrictDev *)d)->inner->ops->flush(((StrictDev *)d)->inner);
}

static uint64_t strict_size(SsBlockDev *d)
{
        return ((StrictDev *)d)->inner->ops->size(((StrictDev *)d)->inner);
}

static void strict_close(SsBlockDev *d)
{
        (void)d; /* the StrictDev lives on the caller's stack */
}

static const SsBlockDevOps strict_ops = {
        .pread = strict_pread,
        .pwrite = strict_pwrite,
        .flush = strict_flush,
        .size = strict_size,
        .close = strict_close,
};

/* Issue 10: ss_origin_write passed the caller's buffer straight to the
 * device.  Misaligned buffers now work for origin and snapshot I/O, and
 * never reach the device. */
static void test_unaligned_buffers(void)
{
        Env e;
        uint32_t w = 0;
        static uint8_t raw[3 * CHUNK + SS_IO_ALIGN] __attribute__((aligned(SS_IO_ALIGN)));
        uint8_t *odd = raw + 512, *want = malloc(2 * CHUNK);

        env_new(&e, STORE_SIZE, SS_FULL_REFUSE);
        CHECK_SS(ss_store_close(e.s) == 0);
        StrictDev so = { .dev = { .ops = &strict_ops, .name = e.origin->name }, .inner = e.origin };
        StrictDev ss = { .dev = { .ops = &strict_ops, .name = e.store->name }, .inner = e.store };
        CHECK_SS(ss_store_open(&so.dev, &ss.dev, NULL, &e.s) == 0);

        fill(want, 2 * CHUNK, 5);
        memcpy(odd, want, 2 * CHUNK);
        CHECK_SS(ss_origin_write(e.s, odd, 4 * CHUNK, 2 * CHUNK) == 0);
        CHECK_SS(ss_snapshot_create(e.s, "w", SS_SNAP_WRITABLE, 0, &w) == 0);
        memset(odd, 0, 2 * CHUNK);
        CHECK_SS(ss_origin_read(e.s, odd, 4 * CHUNK, 2 * CHUNK) == 0 &&
                 memcmp(odd, want, 2 * CHUNK) == 0);
        memset(odd, 0, 2 * CHUNK);
        CHECK_SS(ss_snapshot_read(e.s, w, odd, 4 * CHUNK, 2 * CHUNK) == 0 &&
                 memcmp(odd, want, 2 * CHUNK) == 0);
        fill(want, 2 * CHUNK, 6);
        memcpy(odd + 1, want, 1024); /* odd by one byte too */
        CHECK_SS(ss_snapshot_write(e.s, w, odd + 1, 4 * CHUNK + 512, 1024) == 0);
        memset(odd, 0, 2 * CHUNK);
        CHECK_SS(ss_snapshot_read(e.s, w, odd + 3, 4 * CHUNK + 512, 1024) == 0 &&
                 memcmp(odd + 3, want, 1024) == 0);
        CHECK_SS(so.misaligned == 0 && ss.misaligned == 0);
        CHECK_SS(ss_check(e.s, report, NULL) == 0);
        CHECK_SS(ss_store_close(e.s) == 0);
        env_open(&e);
        free(want);
        env_free(&e);
}

/* Both UUIDs are random version 4 UUIDs of the RFC 4122 variant, and differ. */
static void test_uuids(void)
{
        Env e;
        SsStoreInfo info;

        env_new(&e, STORE_SIZE, SS_FULL_REFUSE);
        CHECK_SS(ss_store_info(e.s, &info) == 0);
        CHECK_SS(info.uuid[6] >> 4 == 4 && info.uuid[8] >> 6 == 2);
        CHECK_SS(info.volume_uuid[6] >> 4 == 4 && info.volume_uuid[8] >> 6 == 2);
        CHECK_SS(memcmp(info.uuid, info.volume_uuid, 16) != 0);
        env_free(&e);
}

/* ss_store_probe(): the label of a closed store without its origin; a
 * device without a store is -ENODATA, one whose every superblock area is
 * damaged -EUCLEAN with the reason (what hot-plug reports). */
static void test_probe(void)
{
        static uint8_t block[4096] __attribute__((aligned(4096)));
        FaultDomain *empty_domain = fault_domain_new(2);
        SsBlockDev *empty = faultdev_new(empty_domain, "empty", STORE_SIZE);
        SsStoreLabel label;
        SsStoreInfo info;
        Env e;

        env_new(&e, STORE_SIZE, SS_FULL_REFUSE);
        CHECK_SS(ss_snapshot_create(e.s, "one", 0, 0, NULL) == 0);
        CHECK_SS(ss_store_info(e.s, &info) == 0);
        CHECK_SS(ss_store_close(e.s) == 0);
        CHECK_SS(ss_store_probe(e.store, &label) == 0);
        CHECK_SS(memcmp(label.uuid, info.uuid, 16) == 0);
        CHECK_SS(memcmp(label.volume_uuid, info.volume_uuid, 16) == 0);
        CHECK_SS(strcmp(label.volume_name, "vol") == 0);
        CHECK_SS(label.chunk_size == CHUNK && label.origin_size == ORIGIN_SIZE);
        CHECK_SS(label.txid == info.txid);

        CHECK_SS(ss_store_probe(empty, &label) == -ENODATA);
        CHECK_SS(strstr(ss_last_error(), "does not hold a Zumastor store") != NULL);

        /* The volume name of every area, under each one's checksum (whole
         * blocks: the device takes aligned writes only). */
        for (uint64_t area = 0; area < 4; area++) {
                uint64_t offset = area * 32 * 4096;

                CHECK_SS(ss_dev_pread(e.store, block, sizeof(block), offset) == 0);
                memset(block + 100, 'X', 8);
                CHECK_SS(ss_dev_pwrite(e.store, block, sizeof(block), offset) == 0);
        }
        memset(&label, 0xa5, sizeof(label));
        CHECK_SS(ss_store_probe(e.store, &label) == -EUCLEAN);
        CHECK_SS(strstr(ss_last_error(), "no valid superblock") != NULL);
        CHECK_SS(label.chunk_size == 0xa5a5a5a5u); /* untouched on failure */

        ss_blockdev_close(empty);
        fault_domain_free(empty_domain);
        ss_blockdev_close(e.origin);
        ss_blockdev_close(e.store);
        fault_domain_free(e.fd);
}

/* The name index and the compact snapshot leaves: random creates, renames
 * and deletes (names up to the longest, so leaves split and merge by
 * encoded size), each name looked up against a plain list, across
 * reopens. */
#define NAMES_N 400

static void random_name(Rng *r, char *name, unsigned i)
{
        int len = snprintf(name, SS_NAME_MAX + 1, "n%u-", i);
        unsigned extra =
                rng_percent(r, 20) ? SS_NAME_MAX - (unsigned)len : (unsigned)rng_below(r, 24);
        for (unsigned k = 0; k < extra; k++)
                name[len++] = "abcxyz0189._-:"[rng_below(r, 14)];
        name[len] = 0;
}

static void check_names(Env *e, char (*names)[SS_NAME_MAX + 1], const uint32_t *ids, unsigned n,
                        const char *gone)
{
        uint32_t id;

        for (unsigned i = 0; i < n; i++) {
                CHECK_SS(ss_snapshot_find(e->s, names[i], &id) == 0 && id == ids[i]);
                if (!ids[i])
                        CHECK_SS(ss_snapshot_find(e->s, names[i], &id) == -ENOENT);
        }
        if (gone)
                CHECK_SS(ss_snapshot_find(e->s, gone, &id) == -ENOENT);
}

static void test_name_index(uint64_t seed)
{
        static char names[NAMES_N][SS_NAME_MAX + 1];
        char gone[SS_NAME_MAX + 1] = "";
        uint32_t ids[NAMES_N] = { 0 }, id;
        Rng r = { seed_mix(seed, 15) };
        unsigned n = 0;
        Env e;

        env_new(&e, STORE_SIZE, SS_FULL_REFUSE);
        for (unsigned step = 0; step < 3 * NAMES_N; step++) {
                unsigned op = (unsigned)rng_below(&r, 10), i = n ? (unsigned)rng_below(&r, n) : 0;
                if (n < NAMES_N && (op < 5 || n == 0)) {
                        random_name(&r, names[n], step);
                        CHECK_SS(ss_snapshot_create(e.s, names[n], 0, (int32_t)op - 5, &ids[n]) ==
                                 0);
                        n++;
                } else if (op < 8) {
                        snprintf(gone, sizeof(gone), "%s", names[i]);
                        random_name(&r, names[i], step);
                        CHECK_SS(ss_snapshot_rename(e.s, ids[i], names[i]) == 0);
                        if (n > 1)
                                CHECK_SS(ss_snapshot_rename(e.s, ids[i], names[(i + 1) % n]) ==
                                         -EEXIST);
                } else {
                        snprintf(gone, sizeof(gone), "%s", names[i]);
                        CHECK_SS(ss_snapshot_delete(e.s, ids[i]) == 0);
                        n--;
                        memcpy(names[i], names[n], sizeof(names[i]));
                        ids[i] = ids[n];
                }
                if (step % 97 == 0)
                        check_names(&e, names, ids, n, gone);
                if (step % 389 == 0) {
                        CHECK_SS(ss_store_close(e.s) == 0);
                        env_open(&e);
                }
        }
        check_names(&e, names, ids, n, gone);
        CHECK_SS(ss_snapshot_create(e.s, names[0], 0, 0, &id) == -EEXIST);
        env_check(&e);
        CHECK_SS(ss_store_close(e.s) == 0);
        env_open(&e);
        check_names(&e, names, ids, n, gone);
        env_check(&e);
        env_free(&e);
}

int main(int argc, char **argv)
{
        TestArgs args;

        test_args_parse(argc, argv, &args);
        test_uuids();
        test_probe();
        test_copy_out_and_sharing();
        test_names_and_bad_input();
        test_writable_snapshot();
        test_delta_and_revert();
        test_refuse_and_autodelete();
        test_grow_and_size_mismatch();
        test_many_snapshots(args.seed);
        test_name_index(args.seed);
        test_change_count();
        test_snapshot_create_durable();
        test_unaligned_buffers();
        test_revert_full_refuse();
        test_revert_full_autodelete();
        test_revert_full_powercut();
        if (check_failures) {
                fprintf(stderr, "%d check(s) failed\n", check_failures);
                return 1;
        }
        printf("ok\n");
        return 0;
}
