/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume, the volume core, driven directly: no bus connection, no
 * root, no data frontend (host.frontend NULL, as with --frontend=none),
 * and no bus types: the test links the core alone (meson.build).
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
        guint created, deleted, started, stopped, failed;
        guint state_notified;
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

static void on_created(ZumaVolume *volume, guint id, const char *name, Fixture *f)
{
        g_assert_nonnull(zuma_volume_get_snapshot(volume, id));
        g_assert_cmpstr(zuma_volume_get_snapshot(volume, id)->info.name, ==, name);
        f->created++;
}

static void on_deleted(ZumaVolume *volume, guint id, const char *name, const char *reason,
                       Fixture *f)
{
        /* The record is gone by then. */
        g_assert_null(zuma_volume_get_snapshot(volume, id));
        g_assert_cmpstr(reason, ==, "requested");
        f->deleted++;
}

static void on_started(ZumaVolume *volume, Fixture *f)
{
        g_assert_cmpstr(zuma_volume_get_state(volume), ==, "running");
        f->started++;
}

static void on_stopped(ZumaVolume *volume, const char *reason, Fixture *f)
{
        f->stopped++;
}

static void on_failed(ZumaVolume *volume, const char *message, Fixture *f)
{
        /* The new LastError, set before the signal. */
        g_assert_cmpstr(message, ==, zuma_volume_get_last_error(volume));
        g_assert_cmpstr(zuma_volume_get_state(volume), ==, "failed");
        f->failed++;
}

static void on_state_notify(ZumaVolume *volume, GParamSpec *pspec, Fixture *f)
{
        f->state_notified++;
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
        g_signal_connect(volume, "snapshot-created", G_CALLBACK(on_created), f);
        g_signal_connect(volume, "snapshot-deleted", G_CALLBACK(on_deleted), f);
        g_signal_connect(volume, "started", G_CALLBACK(on_started), f);
        g_signal_connect(volume, "stopped", G_CALLBACK(on_stopped), f);
        g_signal_connect(volume, "failed", G_CALLBACK(on_failed), f);
        g_signal_connect(volume, "notify::state", G_CALLBACK(on_state_notify), f);
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

/* The "state" property, as a face reads it. */
static const char *state(Fixture *f)
{
        g_autofree char *value = NULL;

        g_object_get(f->volume, "state", &value, NULL);
        g_assert_cmpstr(value, ==, zuma_volume_get_state(f->volume));
        return zuma_volume_get_state(f->volume);
}

static guint32 create(Fixture *f, const char *name)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *created = NULL;
        ZumaSnapshotRecord *record;
        guint added = f->added, created_signals = f->created;
        guint32 found = 0;

        g_assert_true(zuma_volume_create_snapshot(f->volume, name, 0, ZUMA_SNAPSHOT_CREATE_ATTACH,
                                                  &path, &created, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(created, ==, name);
        g_assert_cmpuint(f->added, ==, added + 1);
        g_assert_cmpuint(f->created, ==, created_signals + 1);
        g_assert_true(zuma_volume_find_snapshot(f->volume, name, &found, &error));
        g_assert_no_error(error);
        record = volume_find_snapshot(f->volume, name, &error);
        g_assert_no_error(error);
        g_assert_nonnull(record);
        g_assert_cmpstr(record->device, ==, "");
        {
                g_autofree char *expected =
                        zuma_volume_dup_snapshot_path(f->volume, record->info.id);

                g_assert_cmpstr(path, ==, expected);
        }
        g_assert_cmpuint(found, ==, record->info.id);
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

/* StoreUsageRate 0 and StoreFullInSeconds -1 (zuma-usage-rate.h). */
static void assert_usage_rate_unknown(Fixture *f)
{
        double rate = -1;
        gint64 full_in = 0;

        g_object_get(f->volume, "store-usage-rate", &rate, "store-full-in-seconds", &full_in, NULL);
        g_assert_cmpfloat(rate, ==, 0);
        g_assert_cmpint(full_in, ==, -1);
}

static void test_life_cycle(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *job = NULL;
        g_autofree char *uuid = NULL;
        guint64 store_size = 0;
        const ZumaSnapshotRecord *record;
        guint32 one, two;
        guint changed;

        g_assert_true(zuma_volume_is_stopped(f->volume));
        g_assert_cmpstr(state(f), ==, "stopped");
        g_assert_true(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_is_running(f->volume));
        g_assert_cmpstr(state(f), ==, "running");
        g_assert_cmpuint(f->started, ==, 1);
        g_assert_cmpuint(f->state_notified, ==, 1);
        /* Started again: nothing to do, nothing announced. */
        g_assert_true(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(f->started, ==, 1);
        g_assert_cmpuint(f->state_notified, ==, 1);
        g_object_get(f->volume, "uuid", &uuid, "store-size", &store_size, NULL);
        g_assert_cmpuint(strlen(uuid), ==, 36);
        g_assert_cmpuint(store_size, ==, STORE_SIZE);
        /* Just started: too few samples for a usage rate. */
        assert_usage_rate_unknown(f);

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
        g_assert_cmpuint(f->deleted, ==, 1);
        g_assert_null(zuma_volume_get_snapshot(f->volume, two));
        assert_reads(f, one, 0, 0x11);

        /* Revert the origin to the first snapshot: a job. */
        g_assert_true(zuma_volume_revert(f->volume, "first", FALSE, &job, &error));
        g_assert_no_error(error);
        g_assert_nonnull(job);
        run_jobs(f);
        assert_reads(f, SS_ORIGIN_ID, 0, 0x11);
        g_assert_true(zuma_volume_is_running(f->volume));

        /* Stop: the records stay, read-only. */
        g_assert_true(zuma_volume_stop(f->volume, FALSE, "requested", &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_is_stopped(f->volume));
        g_assert_cmpuint(f->stopped, ==, 1);
        g_object_get(f->volume, "store-size", &store_size, NULL);
        g_assert_cmpuint(store_size, ==, 0);
        g_assert_cmpuint(f->removed, ==, 1);
        assert_usage_rate_unknown(f);
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

        /* Without an error to fill in, as the server starts its volumes:
         * the reason is still logged and kept. */
        g_assert_false(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, NULL));
        g_assert_cmpstr(state(f), ==, "failed");
        g_assert_cmpstr(zuma_volume_get_last_error(f->volume), !=, "");
        g_assert_cmpuint(f->failed, ==, 1);

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

        /* A store recorded as damaged: the server does not start it by
         * itself (error NULL again), an administrator's request does. */
        g_free(f->volume->config->damage);
        f->volume->config->damage = g_strdup("block 7: bad checksum");
        f->failed = 0;
        g_assert_false(zuma_volume_start(f->volume, 0, NULL));
        g_assert_cmpstr(state(f), ==, "failed");
        g_assert_nonnull(strstr(zuma_volume_get_last_error(f->volume), "block 7"));
        g_assert_cmpuint(f->failed, ==, 1);

        g_assert_true(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(state(f), ==, "running");
        g_assert_cmpstr(zuma_volume_get_last_error(f->volume), ==, "");
        g_assert_cmpstr(f->volume->config->damage, ==, "");
        g_assert_true(zuma_volume_stop(f->volume, FALSE, "requested", &error));
        g_assert_no_error(error);
}

/* The store fails under a running volume (as an I/O thread finds it): the
 * engine's event reaches the volume on the main loop, never inside the
 * call that found it; the volume is failed and refuses every change. */
static void test_store_fails(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
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
        g_assert_cmpuint(f->failed, ==, 1);
        g_assert_cmpuint(f->stopped, ==, 1);
        g_assert_false(zuma_volume_create_snapshot(f->volume, "after", 0, 0, &path, &name, &error));
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
