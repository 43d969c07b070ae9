/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The copied-out map (agents/snapshotd/zuma-copied-map.c) alone, against
 * a model, and inside the engine: a rewrite of a chunk copied out since
 * the newest snapshot goes past a held store lock, a snapshot creation
 * makes the next write of every chunk copy out again, and writers racing
 * snapshot creations never leave a snapshot holding data written after it
 * was created.  Random: ZUMA_TEST_SEED=N repeats a run (the seed is
 * printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine-test-wait.h"
#include "zuma-copied-map.h"
#include "zuma-engine.h"

#define KiB 1024u

static guint32 test_seed;

/* ---- the map against a model ---- */

static void check_against(ZumaCopiedMap *map, const gboolean *model, guint64 chunks, guint32 chunk,
                          GRand *rand)
{
        for (int i = 0; i < 200; i++) {
                guint64 first = (guint64)g_rand_int_range(rand, 0, (gint32)chunks + 2);
                guint64 count = (guint64)g_rand_int_range(rand, 1, 140);
                guint64 offset = first * chunk + (guint64)g_rand_int_range(rand, 0, (gint32)chunk);
                guint64 length = count * chunk - (guint64)g_rand_int_range(rand, 0, (gint32)chunk);
                guint64 last = (offset + length - 1) / chunk;
                gboolean expect = last < chunks;

                for (guint64 c = offset / chunk; expect && c <= last; c++)
                        expect = model[c];
                if (zuma_copied_map_covers(map, offset, length) != expect)
                        g_error("covers(%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                                ") is not %d (seed %u)",
                                offset, length, expect, test_seed);
        }
}

static void test_model(void)
{
        const guint32 chunk = 4 * KiB;
        const guint64 chunks = 300; /* five words, the last one partly */
        g_autoptr(GRand) rand = g_rand_new_with_seed(test_seed);
        g_autofree gboolean *model = g_new0(gboolean, chunks);
        ZumaCopiedMap *map = zuma_copied_map_new(chunks * chunk - 512, chunk);

        g_assert_false(zuma_copied_map_covers(map, 0, 0));
        g_assert_false(zuma_copied_map_covers(map, 0, 1));
        g_assert_false(zuma_copied_map_covers(NULL, 0, chunk));
        for (int round = 0; round < 40; round++) {
                guint64 first = (guint64)g_rand_int_range(rand, 0, (gint32)chunks + 4);
                guint64 count = (guint64)g_rand_int_range(rand, 1, 130);
                guint64 offset = first * chunk + 512 * (guint64)g_rand_int_range(rand, 0, 8);
                guint64 length = count * chunk - 512 * (guint64)g_rand_int_range(rand, 0, 8);

                zuma_copied_map_mark(map, offset, length);
                for (guint64 c = offset / chunk; c <= (offset + length - 1) / chunk && c < chunks;
                     c++)
                        model[c] = TRUE;
                check_against(map, model, chunks, chunk, rand);
                if (round % 10 == 9) {
                        zuma_copied_map_clear(map);
                        memset(model, 0, chunks * sizeof(*model));
                        check_against(map, model, chunks, chunk, rand);
                }
        }
        /* The whole origin, then one chunk cleared by a clear of all. */
        zuma_copied_map_mark(map, 0, chunks * chunk);
        g_assert_true(zuma_copied_map_covers(map, 0, chunks * chunk));
        g_assert_false(zuma_copied_map_covers(map, 0, chunks * chunk + 1));
        g_assert_false(zuma_copied_map_covers(map, G_MAXUINT64 - 10, 20));
        zuma_copied_map_clear(map);
        g_assert_false(zuma_copied_map_covers(map, 63 * chunk, 2 * chunk));
        zuma_copied_map_free(map);
}

/* ---- inside the engine ---- */

typedef struct Fixture {
        char *dir, *origin, *store;
        guint32 chunk;
        guint64 origin_size;
        ZumaEngine *engine;
} Fixture;

static void make_file(const char *path, guint64 size, GRand *rand)
{
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        g_autofree guint32 *data = NULL;

        g_assert_cmpint(fd, >=, 0);
        if (rand) {
                data = g_malloc(size);
                for (guint64 i = 0; i < size / 4; i++)
                        data[i] = g_rand_int(rand);
                g_assert_cmpint(pwrite(fd, data, size, 0), ==, (gssize)size);
        } else {
                g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
        }
        close(fd);
}

static void set_up(Fixture *f, guint32 chunk, guint64 chunks, GRand *rand)
{
        g_autoptr(GError) error = NULL;
        SsCreateOptions create = { .volume_name = "vol", .chunk_size = chunk };

        f->chunk = chunk;
        f->origin_size = chunks * chunk;
        f->dir = g_dir_make_tmp("zuma-copied-map-XXXXXX", &error);
        g_assert_no_error(error);
        f->origin = g_build_filename(f->dir, "origin", NULL);
        f->store = g_build_filename(f->dir, "store", NULL);
        make_file(f->origin, f->origin_size, rand);
        make_file(f->store, 64 * f->origin_size + 4096 * KiB, NULL);
        zuma_engine_initialize(f->origin, f->store, &create, &error);
        g_assert_no_error(error);
        f->engine = zuma_engine_open(f->origin, f->store, NULL, NULL, &error);
        g_assert_no_error(error);
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
}

static guint8 *filled(guint32 length, guint8 value)
{
        guint8 *buf = ss_alloc_io_buffer(length);

        memset(buf, value, length);
        return buf;
}

static void origin_write(Fixture *f, guint8 value, guint64 offset, guint32 length)
{
        guint8 *buf = filled(length, value);
        ZumaEngineFault fault;

        g_assert_cmpint(zuma_engine_origin_write(f->engine, buf, offset, length, &fault), ==, 0);
        free(buf);
}

static void assert_reads(Fixture *f, guint32 id, guint64 offset, guint32 length, guint8 value)
{
        guint8 *buf = ss_alloc_io_buffer(length);
        ZumaEngineFault fault;
        int r = id ? zuma_engine_snapshot_read(f->engine, id, buf, offset, length, &fault)
                   : zuma_engine_origin_read(f->engine, buf, offset, length, &fault);

        g_assert_cmpint(r, ==, 0);
        for (guint32 i = 0; i < length; i++)
                if (buf[i] != value)
                        g_error("image %u byte %" G_GUINT64_FORMAT " is %u, not %u", id, offset + i,
                                buf[i], value);
        free(buf);
}

static guint32 snapshot(Fixture *f, const char *name)
{
        SsSnapshotInfo info;

        g_assert_cmpint(zuma_engine_snapshot_create(f->engine, name, 0, 0, &info), ==, 0);
        return info.id;
}

typedef struct Write {
        Fixture *f;
        guint8 value;
        guint64 offset;
        guint32 length;
        gint done; /* atomic */
        GThread *thread;
} Write;

static gpointer write_run(gpointer data)
{
        Write *w = data;

        origin_write(w->f, w->value, w->offset, w->length);
        g_atomic_int_set(&w->done, 1);
        return NULL;
}

static void write_start(Write *w, Fixture *f, guint8 value, guint64 offset, guint32 length)
{
        *w = (Write){ .f = f, .value = value, .offset = offset, .length = length };
        w->thread = g_thread_new("writer", write_run, w);
}

/* Polls (a test may) until the write returned, or fails after 30 s. */
static void wait_done(Write *w)
{
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        while (!g_atomic_int_get(&w->done)) {
                if (g_get_monotonic_time() > deadline)
                        g_error("a write of marked chunks waited for the store lock");
                g_usleep(1000);
        }
        g_thread_join(w->thread);
}

/* With the store lock held by the test, a rewrite of a chunk copied out
 * since the newest snapshot returns (it needs no lock), a write of a chunk
 * not yet prepared waits; after a new snapshot, a rewrite of the same
 * chunk waits too and copies the chunk out. */
static void test_snapshot_clears(void)
{
        const guint32 c = 16 * KiB;
        g_autoptr(GRand) rand = g_rand_new_with_seed(test_seed);
        Fixture f = { 0 };
        Write w;
        guint32 s1, s2;

        set_up(&f, c, 32, rand);
        origin_write(&f, 0x11, 0, 2 * c);
        s1 = snapshot(&f, "s1");
        origin_write(&f, 0x22, 0, c); /* copies chunk 0 out for s1 */

        zuma_engine_lock_store(f.engine);
        write_start(&w, &f, 0x33, 512, 4 * KiB); /* chunk 0: marked */
        wait_done(&w);
        write_start(&w, &f, 0x44, c, 4 * KiB); /* chunk 1: not prepared since s1 */
        engine_wait_queued(f.engine, 1);
        g_assert_false(g_atomic_int_get(&w.done));
        zuma_engine_unlock_store(f.engine);
        g_thread_join(w.thread);
        assert_reads(&f, s1, 0, 2 * c, 0x11);

        s2 = snapshot(&f, "s2");
        zuma_engine_lock_store(f.engine);
        write_start(&w, &f, 0x55, 0, c); /* chunk 0 again: s2 needs its copy */
        engine_wait_queued(f.engine, 1);
        g_assert_false(g_atomic_int_get(&w.done));
        zuma_engine_unlock_store(f.engine);
        g_thread_join(w.thread);

        assert_reads(&f, s1, 0, 2 * c, 0x11);
        assert_reads(&f, s2, 0, 512, 0x22);
        assert_reads(&f, s2, 512, 4 * KiB, 0x33);
        assert_reads(&f, s2, 512 + 4 * KiB, c - 512 - 4 * KiB, 0x22);
        assert_reads(&f, s2, c, 4 * KiB, 0x44);
        assert_reads(&f, 0, 0, c, 0x55);
        tear_down(&f);
}

/* Writers rewrite their own chunk with rising versions while snapshots
 * are created under them.  Each snapshot must hold, in each chunk, a
 * version written no earlier than the last one completed before the
 * create began and no later than the last one started before it
 * returned: a write that started after a snapshot was created must copy
 * the chunk out, whatever it wrote before. */
enum { RACE_WRITERS = 4, RACE_SNAPSHOTS = 24 };

typedef struct RaceWriter {
        Fixture *f;
        guint index;
        gint started;   /* atomic: the version being written, or last written */
        gint completed; /* atomic: the last version whose write returned */
        gint *stop;
        GThread *thread;
} RaceWriter;

static gpointer race_run(gpointer data)
{
        RaceWriter *w = data;
        guint32 *buf = ss_alloc_io_buffer(w->f->chunk);
        ZumaEngineFault fault;

        for (guint32 version = 1; !g_atomic_int_get(w->stop); version++) {
                for (guint32 i = 0; i < w->f->chunk / 4; i++)
                        buf[i] = version;
                g_atomic_int_set(&w->started, (gint)version);
                g_assert_cmpint(zuma_engine_origin_write(w->f->engine, buf,
                                                         (guint64)w->index * w->f->chunk,
                                                         w->f->chunk, &fault),
                                ==, 0);
                g_atomic_int_set(&w->completed, (gint)version);
        }
        free(buf);
        return NULL;
}

static void test_race(void)
{
        const guint32 c = 4 * KiB;
        g_autoptr(GRand) rand = g_rand_new_with_seed(test_seed);
        Fixture f = { 0 };
        RaceWriter writers[RACE_WRITERS];
        guint32 ids[RACE_SNAPSHOTS];
        gint lo[RACE_SNAPSHOTS][RACE_WRITERS], hi[RACE_SNAPSHOTS][RACE_WRITERS];
        guint32 *buf = ss_alloc_io_buffer(c);
        gint stop = 0;

        set_up(&f, c, RACE_WRITERS, NULL); /* a zero origin: version 0 */
        for (guint i = 0; i < RACE_WRITERS; i++) {
                writers[i] = (RaceWriter){ .f = &f, .index = i, .stop = &stop };
                writers[i].thread = g_thread_new("race", race_run, &writers[i]);
        }
        for (guint s = 0; s < RACE_SNAPSHOTS; s++) {
                g_autofree char *name = g_strdup_printf("s%u", s);
                /* Let the writers run on a while, a random while. */
                for (guint spins = g_rand_int_range(rand, 0, 2000000); spins; spins--)
                        g_atomic_int_get(&stop);
                for (guint i = 0; i < RACE_WRITERS; i++)
                        lo[s][i] = g_atomic_int_get(&writers[i].completed);
                ids[s] = snapshot(&f, name);
                for (guint i = 0; i < RACE_WRITERS; i++)
                        hi[s][i] = g_atomic_int_get(&writers[i].started);
        }
        g_atomic_int_set(&stop, 1);
        for (guint i = 0; i < RACE_WRITERS; i++)
                g_thread_join(writers[i].thread);

        for (guint s = 0; s < RACE_SNAPSHOTS; s++) {
                for (guint i = 0; i < RACE_WRITERS; i++) {
                        ZumaEngineFault fault;
                        gint version;

                        g_assert_cmpint(zuma_engine_snapshot_read(f.engine, ids[s], buf,
                                                                  (guint64)i * c, c, &fault),
                                        ==, 0);
                        version = (gint)buf[0];
                        for (guint32 k = 1; k < c / 4; k++)
                                if (buf[k] != buf[0])
                                        g_error("snapshot %u chunk %u is torn (seed %u)", s, i,
                                                test_seed);
                        if (version < lo[s][i] || version > hi[s][i])
                                g_error("snapshot %u chunk %u holds version %d, not one in "
                                        "[%d, %d] (seed %u)",
                                        s, i, version, lo[s][i], hi[s][i], test_seed);
                }
        }
        g_test_message("writers reached versions %d %d %d %d", writers[0].completed,
                       writers[1].completed, writers[2].completed, writers[3].completed);
        free(buf);
        tear_down(&f);
}

int main(int argc, char **argv)
{
        const char *seed = g_getenv("ZUMA_TEST_SEED");

        g_test_init(&argc, &argv, NULL);
        test_seed = seed ? (guint32)strtoul(seed, NULL, 10) : (guint32)g_get_real_time();
        g_printerr("# ZUMA_TEST_SEED=%u\n", test_seed);
        g_test_add_func("/copied-map/model", test_model);
        g_test_add_func("/copied-map/snapshot-clears", test_snapshot_clears);
        g_test_add_func("/copied-map/race", test_race);
        return g_test_run();
}
