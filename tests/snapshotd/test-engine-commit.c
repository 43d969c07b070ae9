/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine's group commit (agents/snapshotd/zuma-group-commit.c), driven
 * by several writer threads through zuma_engine_origin_write() right after
 * a snapshot, as the frontend's FUSE workers do.  Each case checks that
 * the snapshot still reads the data from before it, that the origin holds
 * what was written, and what the commit counters say.  Sharing is made
 * certain, not left to timing: the test holds the store lock
 * (zuma_engine_lock_store()) until every writer has queued, so they all
 * fall into one batch.  Data is random: ZUMA_TEST_SEED=N repeats a run
 * (the seed is printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine-test-wait.h"
#include "zuma-engine.h"
#include "zuma-group-commit.h"

#define KiB 1024u

static guint32 test_seed;

typedef struct Fixture {
        char *dir, *origin, *store;
        guint32 chunk;
        guint64 origin_size;
        ZumaEngine *engine;
        guint32 snap;
        guint8 *before; /* the origin when the snapshot was taken */
        guint8 *now;    /* what the origin should hold */
        GRand *rand;
} Fixture;

typedef struct Writer {
        Fixture *f;
        guint64 offset, length;
        guint8 *data;
        int result;
        GThread *thread;
} Writer;

static void write_file(const char *path, const void *data, guint64 size)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(path, data ? data : "", data ? (gssize)size : 0, &error));
        g_assert_no_error(error);
        if (!data) {
                int fd = open(path, O_RDWR | O_CLOEXEC);
                g_assert_cmpint(fd, >=, 0);
                g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
                close(fd);
        }
}

static void open_engine(Fixture *f)
{
        g_autoptr(GError) error = NULL;

        f->engine = zuma_engine_open(f->origin, f->store, NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_nonnull(f->engine);
}

/* A store of store_size bytes with chunk-byte chunks on a random origin,
 * and one snapshot of it. */
static void set_up(Fixture *f, guint32 chunk, guint64 origin_size, guint64 store_size)
{
        g_autoptr(GError) error = NULL;
        SsCreateOptions create = { .volume_name = "vol", .chunk_size = chunk };
        SsSnapshotInfo info;

        f->rand = g_rand_new_with_seed(test_seed);
        f->chunk = chunk;
        f->origin_size = origin_size;
        f->before = g_malloc(origin_size);
        for (guint64 i = 0; i < origin_size; i += 4)
                *(guint32 *)(f->before + i) = g_rand_int(f->rand);
        f->now = g_memdup2(f->before, origin_size);
        f->dir = g_dir_make_tmp("zuma-engine-commit-XXXXXX", &error);
        g_assert_no_error(error);
        f->origin = g_build_filename(f->dir, "origin", NULL);
        f->store = g_build_filename(f->dir, "store", NULL);
        write_file(f->origin, f->before, origin_size);
        write_file(f->store, NULL, store_size);
        zuma_engine_initialize(f->origin, f->store, &create, &error);
        g_assert_no_error(error);
        open_engine(f);
        g_assert_cmpint(zuma_engine_snapshot_create(f->engine, "s", 0, 0, &info), ==, 0);
        f->snap = info.id;
}

static void tear_down(Fixture *f)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(zuma_engine_close(f->engine, &error));
        g_assert_no_error(error);
        g_unlink(f->origin);
        g_unlink(f->store);
        g_rmdir(f->dir);
        g_free(f->origin);
        g_free(f->store);
        g_free(f->dir);
        g_free(f->before);
        g_free(f->now);
        g_rand_free(f->rand);
}

/* Image id (0: the origin) equals expect, in pieces of a chunk. */
static void check_image(Fixture *f, guint32 id, const guint8 *expect, const char *what)
{
        guint8 *buf = ss_alloc_io_buffer(f->chunk);

        for (guint64 off = 0; off < f->origin_size; off += f->chunk) {
                ZumaEngineFault fault;
                int r = id ? zuma_engine_snapshot_read(f->engine, id, buf, off, f->chunk, &fault)
                           : zuma_engine_origin_read(f->engine, buf, off, f->chunk, &fault);
                g_assert_cmpint(r, ==, 0);
                if (memcmp(buf, expect + off, f->chunk) != 0)
                        g_error("%s differs in the chunk at %" G_GUINT64_FORMAT " (seed %u)", what,
                                off, test_seed);
        }
        free(buf);
}

static gpointer writer_run(gpointer data)
{
        Writer *w = data;
        ZumaEngineFault fault;

        w->result = zuma_engine_origin_write(w->f->engine, w->data, w->offset, w->length, &fault);
        return NULL;
}

static void writer_start(Fixture *f, Writer *w, guint64 offset, guint64 length)
{
        *w = (Writer){ .f = f, .offset = offset, .length = length };
        w->data = ss_alloc_io_buffer(length);
        for (guint64 i = 0; i < length; i += 4)
                *(guint32 *)(w->data + i) = g_rand_int(f->rand);
        w->thread = g_thread_new("writer", writer_run, w);
}

static void writer_join(Fixture *f, Writer *w)
{
        g_thread_join(w->thread);
        if (w->result == 0)
                memcpy(f->now + w->offset, w->data, w->length);
        free(w->data);
}

static guint64 txid(Fixture *f)
{
        SsStoreInfo info;

        g_assert_cmpint(zuma_engine_info(f->engine, &info), ==, 0);
        return info.txid;
}

/* Eight writers queued together: one batch, one commit.  Pairs of them
 * write the two halves of one chunk (one copy-out serves both: the second
 * of the pair finds the chunk in the first's plan, waits for its commit
 * and then has nothing to copy), one writes across a chunk boundary, one
 * rewrites a chunk two others copied out in the same batch. */
static void test_shared_commit(void)
{
        Fixture f = { 0 };
        Writer w[8];
        ZumaGroupCommitStats stats;
        const guint32 c = 16 * KiB;
        const guint64 ranges[8][2] = {
                { 0, c / 2 },         { c / 2, c / 2 }, { 3 * c, c / 2 }, { 3 * c + c / 2, c / 2 },
                { 5 * c + c / 2, c }, { 8 * c, 2 * c }, { 10 * c, 512 },  { 20 * c, 4 * KiB },
        };
        guint64 before;

        set_up(&f, c, 32 * c, 4096 * KiB);
        before = txid(&f);
        zuma_engine_lock_store(f.engine);
        for (guint i = 0; i < G_N_ELEMENTS(w); i++)
                writer_start(&f, &w[i], ranges[i][0], ranges[i][1]);
        engine_wait_queued(f.engine, G_N_ELEMENTS(w));
        /* Queued, not committed: no writer may have touched the origin. */
        check_image(&f, 0, f.before, "the origin before the commit");
        zuma_engine_unlock_store(f.engine);
        for (guint i = 0; i < G_N_ELEMENTS(w); i++) {
                writer_join(&f, &w[i]);
                g_assert_cmpint(w[i].result, ==, 0);
        }

        zuma_engine_get_commit_stats(f.engine, &stats);
        g_assert_cmpuint(stats.commits, ==, 1);
        g_assert_cmpuint(stats.batched_requests, ==, G_N_ELEMENTS(w) - 2);
        g_assert_cmpuint(stats.plans_waited, >=, 2);
        g_assert_cmpuint(stats.batches_failed, ==, 0);
        g_assert_cmpuint(txid(&f), ==, before + 1);
        check_image(&f, f.snap, f.before, "the snapshot");
        check_image(&f, 0, f.now, "the origin");

        /* What the commit recorded is on the store, not only in memory. */
        g_assert_true(zuma_engine_close(f.engine, NULL));
        open_engine(&f);
        check_image(&f, f.snap, f.before, "the snapshot after reopening");
        check_image(&f, 0, f.now, "the origin after reopening");
        tear_down(&f);
}

/* Writers left to run freely, several rounds each, every round's ranges
 * interleaved so that writers share chunks: whatever batches form, the
 * snapshot keeps the old data and the origin gets the new. */
static void test_free_running(void)
{
        enum { WRITERS = 6, ROUNDS = 8 };
        const guint32 c = 4 * KiB;
        const guint64 chunks = 256;
        Fixture f = { 0 };
        ZumaGroupCommitStats stats;

        set_up(&f, c, chunks * c, 8192 * KiB);
        for (guint round = 0; round < ROUNDS; round++) {
                Writer w[WRITERS];
                guint64 first = g_rand_int_range(f.rand, 0, (gint32)(chunks - 2 * WRITERS));

                /* Writers 2k and 2k + 1: two sectors of one chunk. */
                for (guint i = 0; i < WRITERS; i++) {
                        guint64 chunk = first + i / 2, sector = i % 2 + 2 * (round % 2);
                        writer_start(&f, &w[i], chunk * c + 512 * sector, 512);
                }
                for (guint i = 0; i < WRITERS; i++) {
                        writer_join(&f, &w[i]);
                        g_assert_cmpint(w[i].result, ==, 0);
                }
        }
        check_image(&f, f.snap, f.before, "the snapshot");
        check_image(&f, 0, f.now, "the origin");
        zuma_engine_get_commit_stats(f.engine, &stats);
        g_test_message("%" G_GUINT64_FORMAT " shared commits for %" G_GUINT64_FORMAT " requests",
                       stats.commits, stats.batched_requests);
        g_assert_cmpuint(stats.batches_failed, ==, 0);
        tear_down(&f);
}

/* A batch that does not fit in the store: the plans that find no room
 * (or an apply that finds none) send their writers alone, so those that
 * fit write and the others get their own -ENOSPC; no snapshot chunk is
 * lost either way. */
static void test_full_batch_goes_alone(void)
{
        const guint32 c = 64 * KiB;
        Fixture f = { 0 };
        ZumaGroupCommitStats stats;
        SsStoreInfo info;
        guint64 fits;
        guint ok = 0, full = 0, n;
        Writer w[32];

        set_up(&f, c, 32 * c, 2048 * KiB);
        g_assert_cmpint(zuma_engine_info(f.engine, &info), ==, 0);
        fits = info.free_bytes / c;
        n = (guint)fits + 3;
        g_assert_cmpuint(n, <=, G_N_ELEMENTS(w));
        g_assert_cmpuint(n, <=, 32);

        zuma_engine_lock_store(f.engine);
        for (guint i = 0; i < n; i++)
                writer_start(&f, &w[i], (guint64)i * c, c);
        engine_wait_queued(f.engine, n);
        zuma_engine_unlock_store(f.engine);
        for (guint i = 0; i < n; i++) {
                writer_join(&f, &w[i]);
                if (w[i].result == 0)
                        ok++;
                else if (w[i].result == -ENOSPC)
                        full++;
                else
                        g_error("writer %u: %s", i, g_strerror(-w[i].result));
        }
        g_test_message("%u writers: %u wrote, %u found the store full", n, ok, full);
        zuma_engine_get_commit_stats(f.engine, &stats);
        g_assert_cmpuint(stats.batches_failed + stats.commits, >=, 1);
        g_assert_cmpuint(ok, >, 0);
        g_assert_cmpuint(full, >, 0);
        check_image(&f, f.snap, f.before, "the snapshot");
        check_image(&f, 0, f.now, "the origin");
        tear_down(&f);
}

/* ---- the group commit's stages, on a store without the engine ----
 *
 * The group commit over a libsnapstore store on files (the file backend
 * takes pread and pwrite from several threads at once), with each plan's
 * I/O held at a gate that the test opens: so the test looks at the store
 * while copies are in flight, without timing.  The gate is the only thing
 * these ops add to the engine's. */

typedef struct Gated {
        char *dir, *origin_path, *store_path;
        SsBlockDev *origin, *dev;
        SsStore *s;
        GMutex lock; /* the store lock */
        GMutex gate_mutex;
        GCond gate_cond;
        gboolean gate_open;
        guint in_io;           /* plans that reached the gate */
        gint applies_returned; /* atomic */
        ZumaGroupCommit *gc;
        guint32 chunk;
        guint64 size;
        guint8 *before, *now;
        GRand *rand;
} Gated;

typedef struct GatedWriter {
        Gated *g;
        guint64 offset, length;
        guint8 *data;
        int result;
        gint applies_at_return;
        gint returned; /* atomic */
        GThread *thread;
} GatedWriter;

static int gated_prepare_one(gpointer user, guint64 offset, guint64 length, gpointer request)
{
        Gated *g = user;

        (void)request;
        return ss_origin_prepare_write(g->s, offset, length);
}

static int gated_plan(gpointer user, guint64 offset, guint64 length, gpointer request,
                      SsCopyPlan **ret_plan)
{
        Gated *g = user;

        (void)request;
        return ss_copy_plan(g->s, offset, length, ret_plan);
}

static int gated_plan_io(gpointer user, SsCopyPlan *plan, gpointer request)
{
        Gated *g = user;

        (void)request;
        g_mutex_lock(&g->gate_mutex);
        g->in_io++;
        g_cond_broadcast(&g->gate_cond);
        while (!g->gate_open)
                g_cond_wait(&g->gate_cond, &g->gate_mutex);
        g_mutex_unlock(&g->gate_mutex);
        return ss_copy_plan_io(g->s, plan);
}

static int gated_apply(gpointer user, SsCopyPlan *const *plans, gsize n)
{
        Gated *g = user;
        int r = ss_copy_plans_apply(g->s, plans, n);

        g_atomic_int_inc(&g->applies_returned);
        return r;
}

static const ZumaGroupCommitOps gated_ops = {
        .prepare_one = gated_prepare_one,
        .plan = gated_plan,
        .plan_io = gated_plan_io,
        .apply = gated_apply,
};

static void gated_open(Gated *g)
{
        g_assert_cmpint(ss_blockdev_open_file(g->origin_path, 0, &g->origin), ==, 0);
        g_assert_cmpint(ss_blockdev_open_file(g->store_path, 0, &g->dev), ==, 0);
        g_assert_cmpint(ss_store_open(g->origin, g->dev, &(SsOpenOptions){ 0 }, &g->s), ==, 0);
}

static void gated_close(Gated *g)
{
        g_assert_cmpint(ss_store_close(g->s), ==, 0);
        ss_blockdev_close(g->dev);
        ss_blockdev_close(g->origin);
}

/* 64 chunks of 16 KiB on a random origin, a store, snapshot 1. */
static void gated_set_up(Gated *g)
{
        g_autoptr(GError) error = NULL;
        SsCreateOptions create = { .volume_name = "vol", .chunk_size = 16 * KiB };
        guint32 id;

        g->rand = g_rand_new_with_seed(test_seed);
        g->chunk = 16 * KiB;
        g->size = 64 * g->chunk;
        g->before = g_malloc(g->size);
        for (guint64 i = 0; i < g->size; i += 4)
                *(guint32 *)(g->before + i) = g_rand_int(g->rand);
        g->now = g_memdup2(g->before, g->size);
        g->dir = g_dir_make_tmp("zuma-group-commit-XXXXXX", &error);
        g_assert_no_error(error);
        g->origin_path = g_build_filename(g->dir, "origin", NULL);
        g->store_path = g_build_filename(g->dir, "store", NULL);
        write_file(g->origin_path, g->before, g->size);
        write_file(g->store_path, NULL, 4096 * KiB);
        g_assert_cmpint(ss_blockdev_open_file(g->origin_path, 0, &g->origin), ==, 0);
        g_assert_cmpint(ss_blockdev_open_file(g->store_path, 0, &g->dev), ==, 0);
        g_assert_cmpint(ss_store_create(g->origin, g->dev, &create), ==, 0);
        ss_blockdev_close(g->dev);
        ss_blockdev_close(g->origin);
        gated_open(g);
        g_assert_cmpint(ss_snapshot_create(g->s, "one", 0, 0, &id), ==, 0);
        g_assert_cmpuint(id, ==, 1);
        g_mutex_init(&g->lock);
        g_mutex_init(&g->gate_mutex);
        g_cond_init(&g->gate_cond);
        g->gc = zuma_group_commit_new(&g->lock, &gated_ops, g);
}

static void gated_tear_down(Gated *g)
{
        zuma_group_commit_free(g->gc);
        gated_close(g);
        g_mutex_clear(&g->lock);
        g_mutex_clear(&g->gate_mutex);
        g_cond_clear(&g->gate_cond);
        g_unlink(g->origin_path);
        g_unlink(g->store_path);
        g_rmdir(g->dir);
        g_free(g->origin_path);
        g_free(g->store_path);
        g_free(g->dir);
        g_free(g->before);
        g_free(g->now);
        g_rand_free(g->rand);
}

static gpointer gated_writer_run(gpointer data)
{
        GatedWriter *w = data;

        w->result = zuma_group_commit_prepare(w->g->gc, w->offset, w->length, NULL);
        w->applies_at_return = g_atomic_int_get(&w->g->applies_returned);
        if (w->result == 0)
                w->result = ss_dev_pwrite(w->g->origin, w->data, w->length, w->offset);
        g_atomic_int_set(&w->returned, 1);
        return NULL;
}

static void gated_writer_start(Gated *g, GatedWriter *w, guint64 offset, guint64 length)
{
        *w = (GatedWriter){ .g = g, .offset = offset, .length = length };
        w->data = ss_alloc_io_buffer(length);
        for (guint64 i = 0; i < length; i += 4)
                *(guint32 *)(w->data + i) = g_rand_int(g->rand);
        w->thread = g_thread_new("gated-writer", gated_writer_run, w);
}

/* Joins a writer that needed a copy-out: it wrote only after an apply
 * had returned. */
static void gated_writer_join(Gated *g, GatedWriter *w)
{
        g_thread_join(w->thread);
        g_assert_cmpint(w->result, ==, 0);
        g_assert_cmpint(w->applies_at_return, >=, 1);
        memcpy(g->now + w->offset, w->data, w->length);
        free(w->data);
}

static void gated_wait_in_io(Gated *g, guint n)
{
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        g_mutex_lock(&g->gate_mutex);
        while (g->in_io < n)
                g_assert_true(g_cond_wait_until(&g->gate_cond, &g->gate_mutex, deadline) ||
                              g->in_io >= n);
        g_mutex_unlock(&g->gate_mutex);
}

static void gated_open_gate(Gated *g)
{
        g_mutex_lock(&g->gate_mutex);
        g->gate_open = TRUE;
        g_cond_broadcast(&g->gate_cond);
        g_mutex_unlock(&g->gate_mutex);
}

/* Image id (0: the origin) equals expect; the caller holds the store lock. */
static void gated_check_image(Gated *g, guint32 id, const guint8 *expect, const char *what)
{
        guint8 *buf = ss_alloc_io_buffer(g->size);
        int r = id ? ss_snapshot_read(g->s, id, buf, 0, g->size)
                   : ss_origin_read(g->s, buf, 0, g->size);

        g_assert_cmpint(r, ==, 0);
        for (guint64 off = 0; off < g->size; off += g->chunk)
                if (memcmp(buf + off, expect + off, g->chunk) != 0)
                        g_error("%s differs in the chunk at %" G_GUINT64_FORMAT " (seed %u)", what,
                                off, test_seed);
        free(buf);
}

static void gated_check_store(Gated *g)
{
        g_assert_cmpint(ss_check(g->s, NULL, NULL), ==, 0);
}

/* Four writers' copy-outs in flight at once, held in their I/O: the store
 * lock is free meanwhile, no writer has returned, snapshot and origin
 * read the old data, a fifth writer in a chunk they hold waits, and a
 * snapshot taken now gets the planned chunks too (the apply's re-check).
 * Then the gate opens: every writer returns only after an apply, and
 * everything reads as it should, before and after reopening. */
static void test_copies_outside_the_lock(void)
{
        Gated g = { 0 };
        GatedWriter w[5];
        const guint32 c = 16 * KiB;
        const guint64 ranges[4][2] = {
                { 0, 2 * c }, { 4 * c, c / 2 }, { 8 * c + 512, 3 * c }, { 20 * c, 4 * KiB }
        };
        ZumaGroupCommitStats stats;
        guint32 id2;
        gint64 deadline;

        gated_set_up(&g);
        for (guint i = 0; i < 4; i++)
                gated_writer_start(&g, &w[i], ranges[i][0], ranges[i][1]);
        gated_wait_in_io(&g, 4);

        /* Copies in flight: the store lock is free, and taken here. */
        g_assert_true(g_mutex_trylock(&g.lock));
        for (guint i = 0; i < 4; i++)
                g_assert_cmpint(g_atomic_int_get(&w[i].returned), ==, 0);
        gated_check_image(&g, 1, g.before, "snapshot 1 while copies are in flight");
        gated_check_image(&g, 0, g.before, "the origin while copies are in flight");
        /* A snapshot between plan and apply. */
        g_assert_cmpint(ss_snapshot_create(g.s, "two", 0, 0, &id2), ==, 0);
        g_mutex_unlock(&g.lock);

        /* The other half of chunk 4, which writer 1's plan holds. */
        gated_writer_start(&g, &w[4], 4 * c + c / 2, c / 2);
        deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
        for (;;) {
                zuma_group_commit_get_stats(g.gc, &stats);
                if (stats.plans_waited >= 1)
                        break;
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(1000);
        }
        g_assert_cmpint(g_atomic_int_get(&w[4].returned), ==, 0);
        g_assert_cmpint(g_atomic_int_get(&g.applies_returned), ==, 0);

        gated_open_gate(&g);
        for (guint i = 0; i < G_N_ELEMENTS(w); i++)
                gated_writer_join(&g, &w[i]);

        g_mutex_lock(&g.lock);
        gated_check_image(&g, 1, g.before, "snapshot 1");
        gated_check_image(&g, id2, g.before, "snapshot 2, taken while copies were in flight");
        gated_check_image(&g, 0, g.now, "the origin");
        gated_check_store(&g);
        gated_close(&g);
        gated_open(&g);
        gated_check_image(&g, 1, g.before, "snapshot 1 after reopening");
        gated_check_image(&g, id2, g.before, "snapshot 2 after reopening");
        gated_check_image(&g, 0, g.now, "the origin after reopening");
        g_mutex_unlock(&g.lock);
        gated_tear_down(&g);
}

/* The only snapshot deleted while its copies are in flight: the apply
 * finds nothing to record and every reserved block goes back. */
static void test_delete_while_copying(void)
{
        Gated g = { 0 };
        GatedWriter w[3];
        const guint32 c = 16 * KiB;
        SsStoreInfo before, after;

        gated_set_up(&g);
        g_assert_cmpint(ss_store_info(g.s, &before), ==, 0);
        for (guint i = 0; i < G_N_ELEMENTS(w); i++)
                gated_writer_start(&g, &w[i], (guint64)(10 * i) * c, 2 * c);
        gated_wait_in_io(&g, G_N_ELEMENTS(w));
        g_mutex_lock(&g.lock);
        g_assert_cmpint(ss_snapshot_delete(g.s, 1), ==, 0);
        while (ss_cleanup_step(g.s, 1000) == 1)
                ;
        g_mutex_unlock(&g.lock);
        gated_open_gate(&g);
        for (guint i = 0; i < G_N_ELEMENTS(w); i++)
                gated_writer_join(&g, &w[i]);

        g_mutex_lock(&g.lock);
        g_assert_cmpint(ss_store_info(g.s, &after), ==, 0);
        g_assert_cmpuint(after.data_bytes, ==, 0);
        g_assert_cmpuint(after.shared_exceptions, ==, 0);
        g_assert_cmpuint(after.free_bytes, >=, before.free_bytes);
        gated_check_image(&g, 0, g.now, "the origin");
        gated_check_store(&g);
        g_mutex_unlock(&g.lock);
        gated_tear_down(&g);
}

int main(int argc, char **argv)
{
        const char *seed = g_getenv("ZUMA_TEST_SEED");

        g_test_init(&argc, &argv, NULL);
        test_seed = seed ? (guint32)strtoul(seed, NULL, 10) : (guint32)g_get_real_time();
        g_printerr("# ZUMA_TEST_SEED=%u\n", test_seed);
        g_test_add_func("/engine-commit/shared-commit", test_shared_commit);
        g_test_add_func("/engine-commit/free-running", test_free_running);
        g_test_add_func("/engine-commit/full-batch-goes-alone", test_full_batch_goes_alone);
        g_test_add_func("/engine-commit/copies-outside-the-lock", test_copies_outside_the_lock);
        g_test_add_func("/engine-commit/delete-while-copying", test_delete_while_copying);
        return g_test_run();
}
