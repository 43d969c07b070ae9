/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zumactl-fake-server: a stand-in for zuma-snapshotd that answers
 * CreateSnapshot and DefineVolume with an object path and then leaves the
 * bus without ever exporting that object.  That is what zumactl sees when
 * the real server dies after answering and before zumactl asks for the new
 * object's properties; the real daemon cannot be made to die in that
 * window deterministically (a SIGKILL would have to land between its
 * reply and zumactl's next call), so test-zumactl.sh uses this mock.
 *
 * No race either way: it gives up the name org.zumastor.Zumastor1 (and
 * waits for the bus to confirm) before it sends the answer, so the bus
 * knows the server is gone before zumactl has the path.
 *
 *   zumactl-fake-server MODE
 *
 *   leave           like the server: SnapshotCreated(path, id, name) first,
 *                   then leave the bus, answer (path, name), exit
 *   leave-silent    the same without the signal: zumactl learns a
 *                   generated name from the answer alone
 *   leave-nameless  no signal, and an answer with an empty name (no
 *                   server does that): a generated name stays unknown
 *   stay            answer (and signal), never export the object, stay
 *                   on the bus: the snapshot is "gone already"
 *   damaged         a volume whose store cannot measure snapshots: vol0
 *                   has snapshot "snap7" (at ROOT/volumes/vol0/snapshots/7,
 *                   device /dev/zumastor-fake) whose GetUsage answers
 *                   Corrupt, as a damaged tree makes the real server do
 *
 * It exports the object manager at ROOT, ROOT/Manager (with FindVolume
 * and ListVolumes), and one running volume vol0 at ROOT/volumes/vol0
 * (with FindSnapshot and ListSnapshots, which lists no snapshot).  A created snapshot
 * is always ROOT/volumes/vol0/snapshots/7; a generated name is
 * "vol0-generated".
 * SIGTERM ends it.  Uses the system bus (DBUS_SYSTEM_BUS_ADDRESS).
 */
#define G_LOG_DOMAIN "zumactl-fake-server"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "zuma-bus-generated.h"
#include "zuma-names.h"

#define BUS_NAME ZUMA_SNAPSHOTD_BUS_NAME
#define ROOT ZUMA_SNAPSHOTD_OBJECT_ROOT
#define SNAPSHOT_PATH ROOT "/volumes/vol0/snapshots/7"

typedef enum { MODE_LEAVE, MODE_LEAVE_SILENT, MODE_LEAVE_NAMELESS, MODE_STAY, MODE_DAMAGED } Mode;

#define USAGE_ERROR "cannot measure the snapshot: B-tree node block 42: checksum mismatch"

typedef struct Fake {
        Mode mode;
        GDBusConnection *connection;
        GMainLoop *loop;
} Fake;

static gboolean request_name(GDBusConnection *connection, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        guint32 result = 0;

        reply = g_dbus_connection_call_sync(
                connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "RequestName", g_variant_new("(su)", BUS_NAME, 4u), G_VARIANT_TYPE("(u)"),
                G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
        if (reply == NULL)
                return FALSE;
        g_variant_get(reply, "(u)", &result);
        if (result != 1) { /* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s is owned already", BUS_NAME);
                return FALSE;
        }
        return TRUE;
}

/* Before the answer: the bus has processed the release once this returns. */
static void leave_bus(Fake *fake)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GError) error = NULL;

        reply = g_dbus_connection_call_sync(
                fake->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                "org.freedesktop.DBus", "ReleaseName", g_variant_new("(s)", BUS_NAME),
                G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        if (reply == NULL)
                g_error("ReleaseName: %s", error->message);
}

/* After the answer: make sure it left, then end. */
static void finish(Fake *fake)
{
        if (fake->mode == MODE_STAY)
                return;
        g_dbus_connection_flush_sync(fake->connection, NULL, NULL);
        g_main_loop_quit(fake->loop);
}

static gboolean on_create_snapshot(ZumaBusVolume *volume, GDBusMethodInvocation *invocation,
                                   const char *name, GVariant *options, gpointer data)
{
        Fake *fake = data;
        const char *created_name = name[0] ? name : "vol0-generated";

        if (fake->mode == MODE_LEAVE || fake->mode == MODE_STAY)
                zuma_bus_volume_emit_snapshot_created(volume, SNAPSHOT_PATH, 7, created_name);
        if (fake->mode != MODE_STAY)
                leave_bus(fake);
        zuma_bus_volume_complete_create_snapshot(volume, invocation, SNAPSHOT_PATH,
                                                 fake->mode == MODE_LEAVE_NAMELESS ? ""
                                                                                   : created_name);
        finish(fake);
        return TRUE;
}

static gboolean on_define_volume(ZumaBusManager *manager, GDBusMethodInvocation *invocation,
                                 const char *name, const char *origin, const char *store,
                                 GVariant *options, gpointer data)
{
        Fake *fake = data;
        g_autofree char *path = NULL;

        if (!g_regex_match_simple("^[A-Za-z0-9_]+$", name, 0, 0)) {
                g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR,
                                                      G_DBUS_ERROR_INVALID_ARGS,
                                                      "the fake server takes [A-Za-z0-9_] names");
                return TRUE;
        }
        path = g_strdup_printf(ROOT "/volumes/%s", name);
        if (fake->mode != MODE_STAY)
                leave_bus(fake);
        zuma_bus_manager_complete_define_volume(manager, invocation, path);
        finish(fake);
        return TRUE;
}

static gboolean on_find_volume(ZumaBusManager *manager, GDBusMethodInvocation *invocation,
                               const char *name, GVariant *options, gpointer data)
{
        if (strcmp(name, "vol0") != 0) {
                g_dbus_method_invocation_return_dbus_error(invocation,
                                                           "org.zumastor.Zumastor1.Error.NotFound",
                                                           "the fake server has vol0 only");
                return TRUE;
        }
        zuma_bus_manager_complete_find_volume(manager, invocation, ROOT "/volumes/vol0");
        return TRUE;
}

/* vol0 and its properties. */
static gboolean on_list_volumes(ZumaBusManager *manager, GDBusMethodInvocation *invocation,
                                GVariant *options, gpointer data)
{
        GDBusInterfaceSkeleton *volume = data;
        GVariantBuilder builder;

        g_variant_builder_init(&builder, G_VARIANT_TYPE("a{oa{sv}}"));
        g_variant_builder_add(&builder, "{o@a{sv}}", ROOT "/volumes/vol0",
                              g_dbus_interface_skeleton_get_properties(volume));
        zuma_bus_manager_complete_list_volumes(manager, invocation,
                                               g_variant_builder_end(&builder));
        return TRUE;
}

/* A running vol0 has no snapshot (the damaged one fails, and zumactl
 * reads its snapshot from the object manager). */
static gboolean on_list_snapshots(ZumaBusVolume *volume, GDBusMethodInvocation *invocation,
                                  GVariant *options, gpointer data)
{
        zuma_bus_volume_complete_list_snapshots(
                volume, invocation, g_variant_new_array(G_VARIANT_TYPE("(ousbitbst)"), NULL, 0));
        return TRUE;
}

static gboolean on_find_snapshot(ZumaBusVolume *volume, GDBusMethodInvocation *invocation,
                                 const char *name, GVariant *options, gpointer data)
{
        if (strcmp(name, "snap7") != 0) {
                g_dbus_method_invocation_return_dbus_error(
                        invocation, "org.zumastor.Zumastor1.Error.NotFound",
                        "volume vol0 has no snapshot named that");
                return TRUE;
        }
        zuma_bus_volume_complete_find_snapshot(volume, invocation, SNAPSHOT_PATH);
        return TRUE;
}

static gboolean on_get_usage(ZumaBusSnapshot *snapshot, GDBusMethodInvocation *invocation,
                             GVariant *options, gpointer data)
{
        g_dbus_method_invocation_return_dbus_error(
                invocation, "org.zumastor.Zumastor1.Error.Corrupt", USAGE_ERROR);
        return TRUE;
}

static void export_damaged_snapshot(GDBusObjectManagerServer *server, ZumaBusVolume *volume)
{
        g_autoptr(ZumaBusObjectSkeleton) object = zuma_bus_object_skeleton_new(SNAPSHOT_PATH);
        g_autoptr(ZumaBusSnapshot) snapshot = zuma_bus_snapshot_skeleton_new();

        zuma_bus_volume_set_state(volume, "failed");
        zuma_bus_volume_set_last_error(volume, "store is damaged: " USAGE_ERROR);
        zuma_bus_snapshot_set_id(snapshot, 7);
        zuma_bus_snapshot_set_name(snapshot, "snap7");
        zuma_bus_snapshot_set_volume(snapshot, ROOT "/volumes/vol0");
        zuma_bus_snapshot_set_device(snapshot, "/dev/zumastor-fake");
        zuma_bus_snapshot_set_size(snapshot, 1048576);
        g_signal_connect(snapshot, "handle-get-usage", G_CALLBACK(on_get_usage), NULL);
        zuma_bus_object_skeleton_set_snapshot(object, snapshot);
        g_dbus_object_manager_server_export(server, G_DBUS_OBJECT_SKELETON(object));
}

static gboolean on_sigterm(gpointer data)
{
        g_main_loop_quit(data);
        return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusObjectManagerServer) server = NULL;
        g_autoptr(ZumaBusObjectSkeleton) manager_object = NULL, volume_object = NULL;
        g_autoptr(ZumaBusManager) manager = NULL;
        g_autoptr(ZumaBusVolume) volume = NULL;
        Fake fake = { 0 };

        if (argc != 2) {
                fprintf(stderr, "usage: %s leave|leave-silent|leave-nameless|stay|damaged\n",
                        argv[0]);
                return 2;
        }
        if (strcmp(argv[1], "leave") == 0)
                fake.mode = MODE_LEAVE;
        else if (strcmp(argv[1], "leave-silent") == 0)
                fake.mode = MODE_LEAVE_SILENT;
        else if (strcmp(argv[1], "leave-nameless") == 0)
                fake.mode = MODE_LEAVE_NAMELESS;
        else if (strcmp(argv[1], "stay") == 0)
                fake.mode = MODE_STAY;
        else if (strcmp(argv[1], "damaged") == 0)
                fake.mode = MODE_DAMAGED;
        else {
                fprintf(stderr, "%s: unknown mode %s\n", argv[0], argv[1]);
                return 2;
        }
        fake.loop = g_main_loop_new(NULL, FALSE);
        fake.connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
        if (fake.connection == NULL)
                g_error("cannot connect to the system bus: %s", error->message);

        server = g_dbus_object_manager_server_new(ROOT);
        manager_object = zuma_bus_object_skeleton_new(ROOT "/Manager");
        manager = zuma_bus_manager_skeleton_new();
        zuma_bus_object_skeleton_set_manager(manager_object, manager);
        g_signal_connect(manager, "handle-define-volume", G_CALLBACK(on_define_volume), &fake);
        g_signal_connect(manager, "handle-find-volume", G_CALLBACK(on_find_volume), NULL);
        zuma_bus_manager_set_version(manager, "fake");
        g_dbus_object_manager_server_export(server, G_DBUS_OBJECT_SKELETON(manager_object));

        volume_object = zuma_bus_object_skeleton_new(ROOT "/volumes/vol0");
        volume = zuma_bus_volume_skeleton_new();
        zuma_bus_volume_set_name(volume, "vol0");
        /* zumactl-fake-replication's targets and source name this UUID. */
        zuma_bus_volume_set_uuid(volume, "0f0f0f0f-0000-4000-8000-000000000001");
        zuma_bus_volume_set_state(volume, "running");
        zuma_bus_object_skeleton_set_volume(volume_object, volume);
        g_signal_connect(volume, "handle-create-snapshot", G_CALLBACK(on_create_snapshot), &fake);
        g_signal_connect(volume, "handle-find-snapshot", G_CALLBACK(on_find_snapshot), NULL);
        g_signal_connect(volume, "handle-list-snapshots", G_CALLBACK(on_list_snapshots), NULL);
        g_signal_connect(manager, "handle-list-volumes", G_CALLBACK(on_list_volumes), volume);
        g_dbus_object_manager_server_export(server, G_DBUS_OBJECT_SKELETON(volume_object));
        if (fake.mode == MODE_DAMAGED)
                export_damaged_snapshot(server, volume);

        g_dbus_object_manager_server_set_connection(server, fake.connection);
        if (!request_name(fake.connection, &error))
                g_error("%s", error->message);
        g_unix_signal_add(SIGTERM, on_sigterm, fake.loop);
        g_main_loop_run(fake.loop);
        g_object_unref(fake.connection);
        g_main_loop_unref(fake.loop);
        return 0;
}
