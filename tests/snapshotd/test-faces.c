/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The faces (ZumaVolumeFace, ZumaSnapshotFace) following a volume core,
 * without a bus connection: a generated skeleton's properties and signals
 * are plain GObject ones until it is exported, so the test reads them with
 * g_object_get() and connects to them.  Origin and store are regular files,
 * no frontend, no root (as tests/snapshotd/test-volume.c).
 */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "zuma-engine.h"
#include "zuma-volume-face.h"

#define ORIGIN_SIZE (8u << 20)
#define STORE_SIZE (16u << 20)
#define CHUNK 4096u

typedef struct Fixture {
        char *dir;
        char *origin;
        char *store;
        char *volumes_dir;
        ZumaAuth *auth;
        ZumaVolumeHost host;
        ZumaVolume *volume;
        ZumaVolumeFace *face;
        /* what the face emitted */
        GPtrArray *signals; /* "name args" */
} Fixture;

static gboolean host_check_job_limit(gpointer owner, GError **error)
{
        return TRUE;
}

static ZumaJob *host_add_job(gpointer owner, const char *operation, const char *volume_path,
                             gboolean cancelable, const ZumaJobOps *ops, gpointer data)
{
        g_assert_not_reached();
}

static void make_file(const char *path, guint64 size)
{
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
        close(fd);
}

static void on_face_signal(GDBusInterfaceSkeleton *face, const char *signal, GVariant *params,
                           Fixture *f)
{
        g_autofree char *args = g_variant_print(params, FALSE);

        g_ptr_array_add(f->signals, g_strdup_printf("%s %s", signal, args));
}

/* Every signal the face emits, as the bus would carry it: the generated
 * skeleton sends them through its g-signal-less emit functions, so catch
 * them at the GObject signal of each. */
static void on_started(ZumaBusVolume *face, Fixture *f)
{
        on_face_signal(G_DBUS_INTERFACE_SKELETON(face), "Started", g_variant_new("()"), f);
}

static void on_stopped(ZumaBusVolume *face, const char *reason, Fixture *f)
{
        on_face_signal(G_DBUS_INTERFACE_SKELETON(face), "Stopped", g_variant_new("(s)", reason), f);
}

static void on_created(ZumaBusVolume *face, const char *path, guint id, const char *name,
                       Fixture *f)
{
        on_face_signal(G_DBUS_INTERFACE_SKELETON(face), "SnapshotCreated",
                       g_variant_new("(ous)", path, id, name), f);
}

static void on_deleted(ZumaBusVolume *face, const char *path, guint id, const char *name,
                       const char *reason, Fixture *f)
{
        on_face_signal(G_DBUS_INTERFACE_SKELETON(face), "SnapshotDeleted",
                       g_variant_new("(ouss)", path, id, name, reason), f);
}

static ZumaVolumeFace *new_face(Fixture *f, GDBusObjectManagerServer *objects)
{
        ZumaVolumeFace *face = zuma_volume_face_new(f->volume, f->auth, objects);

        g_signal_connect(face, "started", G_CALLBACK(on_started), f);
        g_signal_connect(face, "stopped", G_CALLBACK(on_stopped), f);
        g_signal_connect(face, "snapshot-created", G_CALLBACK(on_created), f);
        g_signal_connect(face, "snapshot-deleted", G_CALLBACK(on_deleted), f);
        return face;
}

static void fixture_set_up(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        SsCreateOptions create = { .volume_name = "vol", .chunk_size = CHUNK };
        ZumaVolumeConfig *config;

        f->dir = g_dir_make_tmp("zuma-faces-XXXXXX", &error);
        g_assert_no_error(error);
        f->origin = g_build_filename(f->dir, "origin", NULL);
        f->store = g_build_filename(f->dir, "store", NULL);
        f->volumes_dir = g_build_filename(f->dir, "volumes", NULL);
        g_assert_cmpint(g_mkdir(f->volumes_dir, 0700), ==, 0);
        make_file(f->origin, ORIGIN_SIZE);
        make_file(f->store, STORE_SIZE);
        g_assert_true(zuma_engine_initialize(f->origin, f->store, &create, &error));
        g_assert_no_error(error);
        f->auth = g_object_new(ZUMA_TYPE_AUTH, NULL);
        f->host = (ZumaVolumeHost){
                .volumes_dir = f->volumes_dir,
                .check_job_limit = host_check_job_limit,
                .add_job = host_add_job,
                .owner = f,
        };
        config = zuma_volume_config_new("vol", f->origin, f->store);
        config->chunk_size = CHUNK;
        f->volume = zuma_volume_new(&f->host, config);
        f->signals = g_ptr_array_new_with_free_func(g_free);
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
        const char *names[] = { "origin", "store", "volumes/vol.conf", "volumes", NULL };

        g_clear_object(&f->face);
        g_clear_object(&f->volume);
        g_clear_object(&f->auth);
        g_ptr_array_unref(f->signals);
        while (g_main_context_iteration(NULL, FALSE))
                ;
        for (guint i = 0; names[i]; i++) {
                g_autofree char *path = g_build_filename(f->dir, names[i], NULL);

                if (g_remove(path) < 0)
                        g_test_message("%s: not removed", path);
        }
        g_rmdir(f->dir);
        g_free(f->dir);
        g_free(f->origin);
        g_free(f->store);
        g_free(f->volumes_dir);
}

static char *face_string(gpointer face, const char *property)
{
        char *value = NULL;

        g_object_get(face, property, &value, NULL);
        return value;
}

static void assert_face_string(gpointer face, const char *property, const char *expected)
{
        g_autofree char *value = face_string(face, property);

        g_assert_cmpstr(value, ==, expected);
}

static void assert_signals(Fixture *f, const char *const *expected)
{
        guint n = g_strv_length((char **)expected);

        for (guint i = 0; i < MIN(n, f->signals->len); i++)
                g_assert_cmpstr(f->signals->pdata[i], ==, expected[i]);
        g_assert_cmpuint(f->signals->len, ==, n);
        g_ptr_array_set_size(f->signals, 0);
}

/* Every property of the face is the volume's, now and after a change. */
static void assert_properties_follow(Fixture *f)
{
        GObjectClass *klass = G_OBJECT_GET_CLASS(f->volume);
        guint n;
        g_autofree GParamSpec **pspecs = g_object_class_list_properties(klass, &n);

        g_assert_cmpuint(n, ==, 20);
        for (guint i = 0; i < n; i++) {
                g_auto(GValue) core = G_VALUE_INIT;
                g_auto(GValue) face = G_VALUE_INIT;

                g_object_get_property(G_OBJECT(f->volume), pspecs[i]->name, &core);
                g_object_get_property(G_OBJECT(f->face), pspecs[i]->name, &face);
                if (!g_param_values_cmp(pspecs[i], &core, &face))
                        continue;
                g_error("property %s: the face shows %s, the volume has %s", pspecs[i]->name,
                        g_strdup_value_contents(&face), g_strdup_value_contents(&core));
        }
}

static void test_follow(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *name = NULL;
        g_autofree char *expected_created = NULL;
        g_autofree char *expected_deleted = NULL;
        ZumaBusSnapshot *snapshot;
        guint32 id;

        f->face = new_face(f, NULL);
        assert_properties_follow(f);
        assert_face_string(f->face, "name", "vol");
        assert_face_string(f->face, "state", "stopped");
        assert_face_string(f->face, "origin-device", f->origin);

        g_assert_true(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, &error));
        g_assert_no_error(error);
        assert_face_string(f->face, "state", "running");
        assert_properties_follow(f);
        assert_signals(f, (const char *const[]){ "Started ()", NULL });

        /* A snapshot: its own face, and the volume's signal with its path. */
        g_assert_true(zuma_volume_create_snapshot(f->volume, "one", 0, 0, &path, &name, &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_find_snapshot(f->volume, "one", &id, &error));
        g_assert_no_error(error);
        expected_created = g_strdup_printf("SnapshotCreated ('%s', %u, 'one')", path, id);
        assert_signals(f, (const char *const[]){ expected_created, NULL });
        assert_properties_follow(f);
        snapshot = zuma_volume_face_peek_snapshot(f->face, id);
        g_assert_nonnull(snapshot);
        g_assert_cmpstr(zuma_bus_snapshot_get_name(snapshot), ==, "one");
        g_assert_cmpuint(zuma_bus_snapshot_get_id(snapshot), ==, id);
        g_assert_cmpstr(zuma_bus_snapshot_get_volume(snapshot), ==,
                        zuma_volume_get_object_path(f->volume));

        /* A change of the record reaches its face. */
        g_assert_true(zuma_volume_rename_snapshot(f->volume, id, "first", &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_set_snapshot_priority(f->volume, id, 5, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(zuma_bus_snapshot_get_name(snapshot), ==, "first");
        g_assert_cmpint(zuma_bus_snapshot_get_priority(snapshot), ==, 5);

        /* The volume's own settings. */
        g_assert_true(zuma_volume_set_full_policy(f->volume, "refuse", &error));
        g_assert_no_error(error);
        assert_face_string(f->face, "full-policy", "refuse");

        /* Deleted: the face goes, the signal names it. */
        g_assert_true(zuma_volume_delete_snapshot(f->volume, id, FALSE, &error));
        g_assert_no_error(error);
        g_assert_null(zuma_volume_face_peek_snapshot(f->face, id));
        expected_deleted =
                g_strdup_printf("SnapshotDeleted ('%s', %u, 'first', 'requested')", path, id);
        assert_signals(f, (const char *const[]){ expected_deleted, NULL });

        g_assert_true(zuma_volume_stop(f->volume, FALSE, "requested", &error));
        g_assert_no_error(error);
        assert_face_string(f->face, "state", "stopped");
        assert_properties_follow(f);
        assert_signals(f, (const char *const[]){ "Stopped ('requested',)", NULL });
}

/* On an object manager (no connection): the volume's object, a
 * snapshot's own, the ones a stopped volume lists from its store. */
static void test_export(Fixture *f, gconstpointer data)
{
        g_autoptr(GDBusObjectManagerServer) objects =
                g_dbus_object_manager_server_new("/org/zumastor/Zumastor1");
        GDBusObjectManager *manager = G_DBUS_OBJECT_MANAGER(objects);
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *name = NULL;
        g_autofree char *volume_path = g_strdup(zuma_volume_get_object_path(f->volume));
        g_autoptr(GDBusObject) object = NULL;
        ZumaVolumeConfig *config;

        f->face = new_face(f, objects);
        zuma_volume_face_export(f->face);
        object = g_dbus_object_manager_get_object(manager, volume_path);
        g_assert_nonnull(object);
        g_clear_object(&object);

        g_assert_true(zuma_volume_start(f->volume, ZUMA_VOLUME_START_REQUESTED, &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_create_snapshot(f->volume, "kept", 0, 0, &path, &name, &error));
        g_assert_no_error(error);
        object = g_dbus_object_manager_get_object(manager, path);
        g_assert_nonnull(object);
        g_clear_object(&object);
        g_assert_true(zuma_volume_stop(f->volume, FALSE, "shutdown", &error));
        g_assert_no_error(error);
        /* Stopped: the records and their objects stay. */
        object = g_dbus_object_manager_get_object(manager, path);
        g_assert_nonnull(object);
        g_clear_object(&object);

        /* A new server: the face of a new volume exports what its store
         * lists, before and without a start. */
        zuma_volume_face_unexport(f->face);
        g_assert_null(g_dbus_object_manager_get_object(manager, path));
        g_assert_null(g_dbus_object_manager_get_object(manager, volume_path));
        g_clear_object(&f->face);
        g_clear_object(&f->volume);
        config = zuma_volume_config_new("vol", f->origin, f->store);
        f->volume = zuma_volume_new(&f->host, config);
        f->face = new_face(f, objects);
        zuma_volume_face_export(f->face);
        object = g_dbus_object_manager_get_object(manager, path);
        g_assert_nonnull(object);
        g_clear_object(&object);

        /* Forgotten (the manager drops it): its objects go. */
        zuma_volume_forget(f->volume);
        g_assert_null(g_dbus_object_manager_get_object(manager, path));
        zuma_volume_face_unexport(f->face);
        g_assert_null(g_dbus_object_manager_get_object(manager, volume_path));
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_log_set_always_fatal(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
        g_test_add("/faces/follow", Fixture, NULL, fixture_set_up, test_follow, fixture_tear_down);
        g_test_add("/faces/export", Fixture, NULL, fixture_set_up, test_export, fixture_tear_down);
        return g_test_run();
}
