/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume, the volume core, driven directly: no bus connection, no
 * root, no data frontend (host.frontend NULL, as with --frontend=none).
 * Origin and store are regular files in a temporary directory; jobs are
 * run by iterating the main context.  Origin writes and snapshot reads go
 * through the engine's own operations (zuma-engine.h), as a frontend's
 * would.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zuma-bus-generated.h"
#include "zuma-engine.h"
#include "zuma-volume-jobs.h"

#define KiB 1024u
#define MiB (1024u * KiB)
#define ORIGIN_SIZE (8 * MiB)
#define STORE_SIZE (16 * MiB)
#define CHUNK 4096u

typedef struct Fixture {
        char *dir;
        char *origin;
        char *store;
        char *volumes_dir;
        ZumaAuth *auth;
        ZumaVolumeHost host;
        ZumaVolume *volume;
        guint jobs;
        ZumaJob *last_job;
        /* what the volume announced */
        guint added, changed, removed;
} Fixture;

static gboolean host_check_job_limit(gpointer owner, GError **error)
{
        return TRUE;
}

static ZumaJob *host_add_job(gpointer owner, const char *operation, const char *volume_path,
                             gboolean cancelable, const ZumaJobOps *ops, gpointer data)
{
        Fixture *f = owner;
        g_autofree char *path = g_strdup_printf("/test/jobs/%u", ++f->jobs);
        const ZumaJobSpec spec = {
                .operation = operation,
                .volume_path = volume_path,
                .cancelable = cancelable,
        };
        ZumaJob *job = zuma_job_new(f->auth, path, &spec, ops, data);

        g_set_object(&f->last_job, job);
        return job;
}

static void on_added(ZumaVolume *volume, guint id, Fixture *f)
{
        g_assert_nonnull(zuma_volume_get_snapshot(volume, id));
        f->added++;
}

static void on_changed(ZumaVolume *volume, guint id, Fixture *f)
{
        g_assert_nonnull(zuma_volume_get_snapshot(volume, id));
        f->changed++;
}

static void on_removed(ZumaVolume *volume, guint id, Fixture *f)
{
        /* Announced while the record is still there to look at. */
        g_assert_nonnull(zuma_volume_get_snapshot(volume, id));
        f->removed++;
}

static void make_file(const char *path, guint64 size)
{
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
        close(fd);
}

static ZumaVolume *new_volume(Fixture *f)
{
        ZumaVolumeConfig *config = zuma_volume_config_new("vol", f->origin, f->store);
        ZumaVolume *volume;

        config->chunk_size = CHUNK;
        volume = zuma_volume_new(&f->host, config);
        g_signal_connect(volume, "snapshot-added", G_CALLBACK(on_added), f);
        g_signal_connect(volume, "snapshot-changed", G_CALLBACK(on_changed), f);
        g_signal_connect(volume, "snapshot-removed", G_CALLBACK(on_removed), f);
        return volume;
}

static void fixture_set_up(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        SsCreateOptions create = { .volume_name = "vol", .chunk_size = CHUNK };

        f->dir = g_dir_make_tmp("zuma-volume-XXXXXX", &error);
        g_assert_no_error(error);
        f->origin = g_build_filename(f->dir, "origin", NULL);
        f->store = g_build_filename(f->dir, "store", NULL);
        f->volumes_dir = g_build_filename(f->dir, "volumes", NULL);
        g_assert_cmpint(g_mkdir(f->volumes_dir, 0700), ==, 0);
        make_file(f->origin, ORIGIN_SIZE);
        make_file(f->store, STORE_SIZE);
        if (!data) {
                g_assert_true(zuma_engine_initialize(f->origin, f->store, &create, &error));
                g_assert_no_error(error);
        }
        /* An authorisation object that never met a bus: only bus callers
         * are ever checked against it. */
        f->auth = g_object_new(ZUMA_TYPE_AUTH, NULL);
        f->host = (ZumaVolumeHost){
                .auth = f->auth,
                .volumes_dir = f->volumes_dir,
                .check_job_limit = host_check_job_limit,
                .add_job = host_add_job,
                .owner = f,
        };
        f->volume = new_volume(f);
}

static void remove_tree(const char *dir)
{
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *path = g_build_filename(dir, name, NULL);

                if (g_file_test(path, G_FILE_TEST_IS_DIR))
                        remove_tree(path);
                else
                        g_unlink(path);
        }
        g_rmdir(dir);
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
        g_clear_object(&f->volume);
        g_clear_object(&f->last_job);
        g_clear_object(&f->auth);
        while (g_main_context_iteration(NULL, FALSE))
                ;
        remove_tree(f->dir);
        g_free(f->dir);
        g_free(f->origin);
        g_free(f->store);
        g_free(f->volumes_dir);
}

static const char *state(Fixture *f)
{
        ZumaBusObjectSkeleton *object = ZUMA_BUS_OBJECT_SKELETON(zuma_volume_get_object(f->volume));
        g_autoptr(ZumaBusVolume) iface = zuma_bus_object_get_volume(ZUMA_BUS_OBJECT(object));

        /* The interface outlives this reference: the object holds one. */
        return zuma_bus_volume_get_state(iface);
}

static GVariant *no_options(void)
{
        return g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
}

static guint32 create(Fixture *f, const char *name)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) options = no_options();
        g_autofree char *path = NULL;
        g_autofree char *created = NULL;
        ZumaSnapshotRecord *record;
        guint added = f->added;

        g_assert_true(volume_create_snapshot(f->volume, name, options, &path, &created, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(created, ==, name);
        g_assert_cmpuint(f->added, ==, added + 1);
        record = volume_find_snapshot(f->volume, name, &error);
        g_assert_no_error(error);
        g_assert_nonnull(record);
        g_assert_cmpstr(record->device, ==, "");
        {
                g_autofree char *expected =
                        zuma_volume_dup_snapshot_path(f->volume, record->info.id);

                g_assert_cmpstr(path, ==, expected);
        }
        return record->info.id;
}

static const ZumaSnapshotRecord *volume_find_snapshot_record(Fixture *f, const char *name)
{
        g_autoptr(GArray) ids = zuma_volume_dup_snapshot_ids(f->volume);

        for (guint i = 0; i < ids->len; i++) {
                const ZumaSnapshotRecord *record =
                        zuma_volume_get_snapshot(f->volume, g_array_index(ids, guint32, i));

                if (g_str_equal(record->info.name, name))
                        return record;
        }
        return NULL;
}

static void *filled(guint8 value)
{
        void *buf = ss_alloc_io_buffer(CHUNK);

        g_assert_nonnull(buf);
        memset(buf, value, CHUNK);
        return buf;
}

/* Through the engine, as a frontend writes: copy-out first. */
static void origin_write(Fixture *f, guint64 offset, guint8 value)
{
        g_autofree void *buf = filled(value);

        g_assert_cmpint(zuma_engine_origin_write(f->volume->engine, buf, offset, CHUNK, NULL), ==,
                        0);
}

static void assert_reads(Fixture *f, guint32 id, guint64 offset, guint8 value)
{
        g_autofree guint8 *buf = ss_alloc_io_buffer(CHUNK);
        int r;

        if (id == SS_ORIGIN_ID)
                r = zuma_engine_origin_read(f->volume->engine, buf, offset, CHUNK, NULL);
        else
                r = zuma_engine_snapshot_read(f->volume->engine, id, buf, offset, CHUNK, NULL);
        g_assert_cmpint(r, ==, 0);
        for (guint i = 0; i < CHUNK; i++)
                if (buf[i] != value)
                        g_error("image %u at %" G_GUINT64_FORMAT ": byte %u is %#x, not %#x", id,
                                offset, i, buf[i], value);
}

static void run_jobs(Fixture *f)
{
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        g_assert_nonnull(f->last_job);
        while (!zuma_job_is_finished(f->last_job)) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_main_context_iteration(NULL, TRUE);
        }
}

static void test_life_cycle(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) options = no_options();
        g_autofree char *job = NULL;
        const ZumaSnapshotRecord *record;
        guint32 one, two;
        guint changed;

        g_assert_true(zuma_volume_is_stopped(f->volume));
        g_assert_cmpstr(state(f), ==, "stopped");
        g_assert_true(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_is_running(f->volume));
        g_assert_cmpstr(state(f), ==, "running");

        /* Snapshots, and the data each one keeps. */
        origin_write(f, 0, 0x11);
        one = create(f, "one");
        origin_write(f, 0, 0x22);
        two = create(f, "two");
        origin_write(f, 0, 0x33);
        assert_reads(f, one, 0, 0x11);
        assert_reads(f, two, 0, 0x22);
        assert_reads(f, SS_ORIGIN_ID, 0, 0x33);
        g_assert_cmpuint(f->added, ==, 2);

        /* Changes of a record are announced, and taken from the engine. */
        changed = f->changed;
        g_assert_true(zuma_volume_rename_snapshot(f->volume, one, "first", &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_set_snapshot_priority(f->volume, one, 7, &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_set_snapshot_pinned(f->volume, one, TRUE, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(f->changed, ==, changed + 3);
        record = zuma_volume_get_snapshot(f->volume, one);
        g_assert_cmpstr(record->info.name, ==, "first");
        g_assert_cmpint(record->info.priority, ==, 7);
        g_assert_true(record->info.flags & SS_SNAP_PINNED);
        g_assert_null(volume_find_snapshot(f->volume, "one", &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND);
        g_clear_error(&error);

        /* Without a frontend there is nothing to attach. */
        g_assert_false(zuma_volume_attach_snapshot(f->volume, one, NULL, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED);
        g_clear_error(&error);

        /* Delete one; the other keeps its data. */
        g_assert_true(zuma_volume_delete_snapshot(f->volume, two, FALSE, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(f->removed, ==, 1);
        g_assert_null(zuma_volume_get_snapshot(f->volume, two));
        assert_reads(f, one, 0, 0x11);

        /* Revert the origin to the first snapshot: a job. */
        g_assert_true(volume_revert(f->volume, "first", options, &job, &error));
        g_assert_no_error(error);
        g_assert_nonnull(job);
        run_jobs(f);
        assert_reads(f, SS_ORIGIN_ID, 0, 0x11);
        g_assert_true(zuma_volume_is_running(f->volume));

        /* Stop: the records stay, read-only. */
        g_assert_true(zuma_volume_stop(f->volume, FALSE, "requested", &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_is_stopped(f->volume));
        g_assert_cmpuint(f->removed, ==, 1);
        record = zuma_volume_get_snapshot(f->volume, one);
        g_assert_nonnull(record);
        g_assert_cmpstr(record->info.name, ==, "first");
        g_assert_false(zuma_volume_rename_snapshot(f->volume, one, "again", &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING);
        g_clear_error(&error);
        g_assert_false(zuma_volume_delete_snapshot(f->volume, one, FALSE, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING);
        g_clear_error(&error);

        /* Start again: the same records, taken from the store again. */
        g_assert_true(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(f->added, ==, 2);
        g_assert_cmpuint(f->removed, ==, 1);
        record = zuma_volume_get_snapshot(f->volume, one);
        g_assert_nonnull(record);
        g_assert_cmpstr(record->info.name, ==, "first");
        assert_reads(f, one, 0, 0x11);
        assert_reads(f, SS_ORIGIN_ID, 0, 0x11);
        g_assert_true(zuma_volume_stop(f->volume, FALSE, "shutdown", &error));
        g_assert_no_error(error);

        /* A new server lists a stopped volume's snapshots from its store. */
        g_clear_object(&f->volume);
        f->added = f->removed = 0;
        f->volume = new_volume(f);
        g_assert_true(zuma_volume_is_stopped(f->volume));
        record = zuma_volume_get_snapshot(f->volume, one);
        g_assert_nonnull(record);
        g_assert_cmpstr(record->info.name, ==, "first");
        g_assert_null(zuma_volume_get_snapshot(f->volume, two));
        g_assert_true(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(f->removed, ==, 0);
        g_assert_true(zuma_volume_stop(f->volume, FALSE, "shutdown", &error));
        g_assert_no_error(error);
}

/* A store that is no store: the volume does not run, says why, and Stop
 * then Start retries. */
static void test_failed_start(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        SsCreateOptions create = { .volume_name = "vol", .chunk_size = CHUNK };

        g_assert_false(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, &error));
        g_assert_nonnull(error);
        g_test_message("start: %s", error->message);
        g_clear_error(&error);
        g_assert_false(zuma_volume_is_running(f->volume));
        g_assert_false(zuma_volume_is_readable(f->volume));
        g_assert_cmpstr(state(f), ==, "failed");

        g_assert_true(zuma_volume_stop(f->volume, FALSE, "requested", &error));
        g_assert_no_error(error);
        g_assert_cmpstr(state(f), ==, "stopped");
        g_assert_true(zuma_engine_initialize(f->origin, f->store, &create, &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(state(f), ==, "running");
        g_assert_true(zuma_volume_stop(f->volume, FALSE, "requested", &error));
        g_assert_no_error(error);
}

/* The store fails under a running volume (as an I/O thread finds it): the
 * engine's event reaches the volume on the main loop, never inside the
 * call that found it; the volume is failed and refuses every change. */
static void test_store_fails(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) options = no_options();
        g_autofree char *path = NULL;
        g_autofree char *name = NULL;
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        g_assert_true(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, &error));
        g_assert_no_error(error);
        create(f, "before");
        /* As a frontend's I/O thread reports a failed store I/O. */
        zuma_engine_note_error(f->volume->engine, -EIO);
        g_assert_true(zuma_engine_is_failed(f->volume->engine));
        while (!g_str_equal(state(f), "failed")) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_main_context_iteration(NULL, TRUE);
        }
        g_assert_false(zuma_volume_is_running(f->volume));
        g_assert_false(zuma_volume_is_readable(f->volume));
        g_assert_false(volume_create_snapshot(f->volume, "after", options, &path, &name, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING);
        g_clear_error(&error);
        g_assert_true(zuma_volume_stop(f->volume, TRUE, "requested", &error));
        g_assert_no_error(error);
        /* Still listed, as the volume last knew them. */
        g_assert_nonnull(volume_find_snapshot_record(f, "before"));
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        /* The volume warns about what fails on purpose here. */
        g_log_set_always_fatal(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
        g_test_add("/volume/life-cycle", Fixture, NULL, fixture_set_up, test_life_cycle,
                   fixture_tear_down);
        g_test_add("/volume/failed-start", Fixture, GINT_TO_POINTER(1), fixture_set_up,
                   test_failed_start, fixture_tear_down);
        g_test_add("/volume/store-fails", Fixture, NULL, fixture_set_up, test_store_fails,
                   fixture_tear_down);
        return g_test_run();
}
