/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hot-plug: volumes start when both their devices are present and stop
 * when one leaves; stores no volume owns are reported, never adopted.
 *
 * Why here, in zuma-mounterd: a volume that appears is wanted mounted,
 * and one whose device leaves must be unmounted before it can stop; the
 * mounter already follows the server and owns the release handshake that
 * a stop goes through.  zuma-snapshotd stays a server that does what it
 * is asked (it only resolves a definition's identities at Start), so a
 * host without udev events (a container, the CI) runs it unchanged, and
 * the policy of when to start lives with the policy of where to mount.
 *
 * What is watched: udev's block events (zuma-udev-monitor.c), and
 * zuma-snapshotd's name.  Each event of a device that is not the
 * frontend's own asks for one look on the next idle (a burst costs one
 * look).  A look lists the server's volumes (Manager.ListVolumes) and
 * every block device udev knows, then for each volume that has a UUID
 * and an OriginIdentity (zuma-device-identity.h; a volume known only by
 * path is left alone until a start records its identity):
 *
 *   stopped, both present   started (Volume.Start) when they were not
 *                           both present at the previous look, or at the
 *                           mounter's first look: a volume an
 *                           administrator stopped stays stopped while its
 *                           devices stay.  "failed" volumes are left to
 *                           the administrator.  The mounter then mounts
 *                           it as configured, as any started volume.
 *   running, one gone       stopped (Volume.Stop), which asks the mounter
 *                           to release its mounts first (the handshake of
 *                           docs/bus-api.md); a busy mount fails the stop,
 *                           logged, and the next event tries again.
 *
 * "Present" for the origin: a device with its identity; for the store: a
 * device udev's store probe found holding the volume's UUID
 * (ZUMASTOR_STORE_VOLUME_UUID); for a running volume, the device nodes
 * it runs on.  A loop device that is leaving (zuma-block-devices.h) is
 * not present: `losetup -d` of a device the server holds open only marks
 * it to detach at its last close, without an event from the kernel or
 * udev; zuma-loop-watch.c sees losetup close the device node and asks
 * for a look.
 *
 * Calls to the server are asynchronous: the server calls the mounter
 * (Release) while it stops a volume, and a mounter waiting on that stop
 * would not answer.  One call per volume at a time.
 *
 * Unknown stores: a device udev found holding a store whose volume UUID
 * no volume has (nor, for a volume not started yet, its name), or whose
 * superblock cannot be read (ZUMASTOR_STORE_ERROR, the reason), is listed
 * in the Manager's UnknownStores and announced once with
 * UnknownStoreFound; `zumactl import` adopts one.
 */
#define G_LOG_DOMAIN "zuma-mounterd"

#include "zuma-hotplug.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "zuma-block-devices.h"
#include "zuma-error.h"
#include "zuma-loop-watch.h"
#include "zuma-names.h"
#include "zuma-server-client.h"
#include "zuma-udev-monitor.h"

struct ZumaHotplug {
        GDBusConnection *connection;
        ZumaMountManager *manager;
        ZumaUdevMonitor *monitor;
        ZumaLoopWatch *loop_watch;
        GCancellable *cancellable;
        guint server_watch;
        guint objects_subscription;
        guint look_idle;
        gboolean server_up;
        GHashTable *present;  /* volume uuid -> GINT_TO_POINTER(both present at the last look) */
        GHashTable *calls;    /* volume path -> the call in flight ("Start" or "Stop") */
        GHashTable *reported; /* device -> the unknown store's text, as last announced */
        GHashTable *suspects; /* device -> Suspect: unknown, not yet for SETTLE_US */
        guint settle_timer;
        guint hotplugged; /* volumes with an identity, at the last look */
};

typedef struct {
        char *path;
        char *name;
        char *uuid;
        char *state;
        char *origin_identity;
        char *origin_device;
        char *store_device;
} HotplugVolume;

typedef struct {
        GHashTable *nodes;      /* "MAJ:MIN" of every present device */
        GHashTable *identities; /* identity -> device node */
        GHashTable *stores;     /* volume uuid (lower case) -> device node */
        GPtrArray *labels;      /* of GVariant a{sv}: every store found, known or not */
} DeviceScan;

static void hotplug_volume_free(HotplugVolume *volume)
{
        g_free(volume->path);
        g_free(volume->name);
        g_free(volume->uuid);
        g_free(volume->state);
        g_free(volume->origin_identity);
        g_free(volume->origin_device);
        g_free(volume->store_device);
        g_free(volume);
}

static void device_scan_free(DeviceScan *scan)
{
        g_hash_table_unref(scan->nodes);
        g_hash_table_unref(scan->identities);
        g_hash_table_unref(scan->stores);
        g_ptr_array_unref(scan->labels);
        g_free(scan);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DeviceScan, device_scan_free)

static const char *property_or_empty(GVariant *properties, const char *key)
{
        const char *value = NULL;

        if (!g_variant_lookup(properties, key, "&s", &value))
                return "";
        return value;
}

static GPtrArray *list_volumes(ZumaHotplug *self, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariantIter) iter = NULL;
        g_autoptr(GPtrArray) volumes =
                g_ptr_array_new_with_free_func((GDestroyNotify)hotplug_volume_free);
        const char *path;
        GVariant *properties;

        reply = g_dbus_connection_call_sync(
                self->connection, ZUMA_SNAPSHOTD_BUS_NAME, ZUMA_SNAPSHOTD_MANAGER_PATH,
                ZUMA_INTERFACE_MANAGER, "ListVolumes", g_variant_new("(a{sv})", NULL),
                G_VARIANT_TYPE("(a{oa{sv}})"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                ZUMA_SERVER_CALL_TIMEOUT_MS, NULL, error);
        if (!reply)
                return NULL;
        g_variant_get(reply, "(a{oa{sv}})", &iter);
        while (g_variant_iter_loop(iter, "{&o@a{sv}}", &path, &properties)) {
                HotplugVolume *volume = g_new0(HotplugVolume, 1);

                volume->path = g_strdup(path);
                volume->name = g_strdup(property_or_empty(properties, "Name"));
                volume->uuid = g_ascii_strdown(property_or_empty(properties, "Uuid"), -1);
                volume->state = g_strdup(property_or_empty(properties, "State"));
                volume->origin_identity = g_strdup(property_or_empty(properties, "OriginIdentity"));
                volume->origin_device = g_strdup(property_or_empty(properties, "OriginDevice"));
                volume->store_device = g_strdup(property_or_empty(properties, "StoreDevice"));
                g_ptr_array_add(volumes, volume);
        }
        return g_steal_pointer(&volumes);
}

static char *devnum_key(dev_t devnum)
{
        return g_strdup_printf("%u:%u", major(devnum), minor(devnum));
}

static GVariant *store_label(const char *device, const char *store_uuid, const char *volume_uuid,
                             const char *volume_name, const char *problem)
{
        g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

        g_variant_builder_add(&builder, "{sv}", "device", g_variant_new_string(device));
        g_variant_builder_add(&builder, "{sv}", "store_uuid", g_variant_new_string(store_uuid));
        g_variant_builder_add(&builder, "{sv}", "volume_uuid", g_variant_new_string(volume_uuid));
        g_variant_builder_add(&builder, "{sv}", "volume_name", g_variant_new_string(volume_name));
        g_variant_builder_add(&builder, "{sv}", "problem", g_variant_new_string(problem));
        return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/* Notes what device is: present, its identity, the store on it. */
static void scan_device(DeviceScan *scan, ZumaUdevDevice *device)
{
        const char *devnode = udev_device_get_devnode(device);
        const char *volume_uuid, *problem;
        g_autofree char *identity = NULL;

        if (!devnode || udev_device_get_property_value(device, "ZUMASTOR_VOLUME") ||
            zuma_udev_device_leaving(device))
                return;
        g_hash_table_add(scan->nodes, devnum_key(udev_device_get_devnum(device)));
        identity = zuma_udev_device_identity(device);
        if (identity && !g_hash_table_contains(scan->identities, identity))
                g_hash_table_insert(scan->identities, g_steal_pointer(&identity),
                                    g_strdup(devnode));
        volume_uuid = udev_device_get_property_value(device, "ZUMASTOR_STORE_VOLUME_UUID");
        problem = udev_device_get_property_value(device, "ZUMASTOR_STORE_ERROR");
        if (volume_uuid && g_uuid_string_is_valid(volume_uuid)) {
                const char *store_uuid =
                        udev_device_get_property_value(device, "ZUMASTOR_STORE_UUID");
                const char *name = udev_device_get_property_value(device, "ZUMASTOR_STORE_VOLUME");
                g_autofree char *key = g_ascii_strdown(volume_uuid, -1);

                g_ptr_array_add(scan->labels, store_label(devnode, store_uuid ? store_uuid : "",
                                                          key, name ? name : "", ""));
                if (!g_hash_table_contains(scan->stores, key))
                        g_hash_table_insert(scan->stores, g_steal_pointer(&key), g_strdup(devnode));
        } else if (problem) {
                g_ptr_array_add(scan->labels, store_label(devnode, "", "", "", problem));
        }
}

static DeviceScan *scan_devices(GError **error)
{
        g_autoptr(ZumaUdev) udev = udev_new();
        g_autoptr(ZumaUdevEnumerate) enumerate = NULL;
        g_autoptr(DeviceScan) scan = g_new0(DeviceScan, 1);
        struct udev_list_entry *entry;

        scan->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        scan->identities = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        scan->stores = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        scan->labels = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
        if (udev)
                enumerate = udev_enumerate_new(udev);
        if (!enumerate || udev_enumerate_add_match_subsystem(enumerate, "block") < 0 ||
            udev_enumerate_scan_devices(enumerate) < 0) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                                    "cannot list block devices through libudev");
                return NULL;
        }
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(enumerate))
        {
                g_autoptr(ZumaUdevDevice) device =
                        udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));

                if (device)
                        scan_device(scan, device);
        }
        return g_steal_pointer(&scan);
}

/* Whether the device node path (as a volume records it) is present. */
static gboolean node_present(const DeviceScan *scan, const char *path)
{
        g_autofree char *key = NULL;
        struct stat st;

        if (!path[0] || stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
                return FALSE;
        key = devnum_key(st.st_rdev);
        return g_hash_table_contains(scan->nodes, key);
}

typedef struct {
        ZumaHotplug *self;
        char *path;
        char *name;
        char *uuid;
        char *method;
} VolumeCall;

static void volume_call_free(VolumeCall *call)
{
        g_free(call->path);
        g_free(call->name);
        g_free(call->uuid);
        g_free(call->method);
        g_free(call);
}

static void look_soon(ZumaHotplug *self);

static void on_volume_call_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VolumeCall *call = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply =
                g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                volume_call_free(call);
                return;
        }
        if (reply) {
                g_message("%s: %s by hot-plug", call->name,
                          g_str_equal(call->method, "Start") ? "started" : "stopped");
        } else {
                g_dbus_error_strip_remote_error(error);
                g_warning("%s: hot-plug could not %s it: %s", call->name,
                          g_str_equal(call->method, "Start") ? "start" : "stop", error->message);
                /* As if its devices had not been seen: the next look tries again. */
                if (g_str_equal(call->method, "Start"))
                        g_hash_table_remove(call->self->present, call->uuid);
        }
        g_hash_table_remove(call->self->calls, call->path);
        /* What changed while the call ran is looked at again; a call that
         * failed is tried again by the next event only (a busy mount would
         * otherwise make the stop repeat for as long as it stays busy). */
        if (reply)
                look_soon(call->self);
        volume_call_free(call);
}

static void call_volume(ZumaHotplug *self, const HotplugVolume *volume, const char *method,
                        const char *why)
{
        VolumeCall *call = g_new0(VolumeCall, 1);

        call->self = self;
        call->path = g_strdup(volume->path);
        call->name = g_strdup(volume->name);
        call->uuid = g_strdup(volume->uuid);
        call->method = g_strdup(method);
        g_message("%s: %s, %s", volume->name, why,
                  g_str_equal(method, "Start") ? "starting it" : "stopping it");
        g_hash_table_insert(self->calls, g_strdup(volume->path), g_strdup(method));
        g_dbus_connection_call(self->connection, ZUMA_SNAPSHOTD_BUS_NAME, volume->path,
                               ZUMA_INTERFACE_VOLUME, method, g_variant_new("(a{sv})", NULL),
                               G_VARIANT_TYPE_UNIT, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                               ZUMA_SERVER_CALL_TIMEOUT_MS, self->cancellable, on_volume_call_done,
                               call);
}

static void follow_volume(ZumaHotplug *self, const DeviceScan *scan, const HotplugVolume *volume)
{
        gboolean origin_here = g_hash_table_contains(scan->identities, volume->origin_identity);
        gboolean store_here = g_hash_table_contains(scan->stores, volume->uuid);
        gpointer was;
        gboolean seen_before =
                g_hash_table_lookup_extended(self->present, volume->uuid, NULL, &was);
        gboolean both = origin_here && store_here;

        self->hotplugged++;
        if (g_hash_table_contains(self->calls, volume->path))
                return; /* its answer asks for another look */
        if (g_str_equal(volume->state, "running")) {
                gboolean origin_stays = node_present(scan, volume->origin_device);
                gboolean store_stays = node_present(scan, volume->store_device);

                if (!origin_stays || !store_stays) {
                        g_autofree char *why = g_strdup_printf(
                                "its %s %s left", !origin_stays ? "origin" : "store",
                                !origin_stays ? volume->origin_device : volume->store_device);

                        call_volume(self, volume, "Stop", why);
                        both = FALSE;
                }
        } else if (g_str_equal(volume->state, "stopped") && both &&
                   (!seen_before || !GPOINTER_TO_INT(was))) {
                g_autofree char *why = g_strdup_printf(
                        "origin %s and store %s are present",
                        (const char *)g_hash_table_lookup(scan->identities,
                                                          volume->origin_identity),
                        (const char *)g_hash_table_lookup(scan->stores, volume->uuid));

                call_volume(self, volume, "Start", why);
        }
        g_hash_table_insert(self->present, g_strdup(volume->uuid), GINT_TO_POINTER(both));
}

static gboolean store_known(GPtrArray *volumes, GVariant *label)
{
        const char *volume_uuid = property_or_empty(label, "volume_uuid");
        const char *volume_name = property_or_empty(label, "volume_name");
        const char *device = property_or_empty(label, "device");

        for (guint i = 0; i < volumes->len; i++) {
                const HotplugVolume *volume = g_ptr_array_index(volumes, i);

                if (volume_uuid[0]
                            ? g_str_equal(volume->uuid, volume_uuid) ||
                                      (!volume->uuid[0] && g_str_equal(volume->name, volume_name))
                            : g_str_equal(volume->store_device, device))
                        return TRUE; /* (a running store's transient error is no news) */
        }
        return FALSE;
}

/* A store is reported only once it has looked the same for this long: a
 * store being created (`zumactl define --initialize`) is read by udev's
 * probe half written, and a new one exists a moment before its volume is
 * defined. */
#define SETTLE_US (2 * G_USEC_PER_SEC)

typedef struct {
        char *text; /* the label as printed */
        gint64 since;
} Suspect;

static void suspect_free(gpointer data)
{
        Suspect *suspect = data;

        g_free(suspect->text);
        g_free(suspect);
}

static gboolean on_settled(gpointer user_data)
{
        ZumaHotplug *self = user_data;

        self->settle_timer = 0;
        look_soon(self);
        return G_SOURCE_REMOVE;
}

/* TRUE when the label of device has been text for SETTLE_US; otherwise it
 * is remembered (in next, the suspects of this look) and a look is due
 * when it would have settled. */
static gboolean settled(ZumaHotplug *self, GHashTable *next, const char *device, const char *text)
{
        Suspect *before = g_hash_table_lookup(self->suspects, device);
        Suspect *suspect = g_new0(Suspect, 1);
        gint64 now = g_get_monotonic_time();

        suspect->text = g_strdup(text);
        suspect->since = before && g_str_equal(before->text, text) ? before->since : now;
        g_hash_table_insert(next, g_strdup(device), suspect);
        if (now - suspect->since >= SETTLE_US)
                return TRUE;
        if (!self->settle_timer)
                self->settle_timer = g_timeout_add(
                        (guint)((suspect->since + SETTLE_US - now) / 1000) + 10, on_settled, self);
        return FALSE;
}

static void report_unknown_stores(ZumaHotplug *self, GPtrArray *volumes, const DeviceScan *scan)
{
        g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
        g_autoptr(GHashTable) reported =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr(GHashTable) suspects =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, suspect_free);
        g_autoptr(GVariant) unknown = NULL;
        GVariant *shown;

        for (guint i = 0; i < scan->labels->len; i++) {
                GVariant *label = g_ptr_array_index(scan->labels, i);
                const char *device = property_or_empty(label, "device");
                const char *problem = property_or_empty(label, "problem");
                g_autofree char *text = NULL;

                if (store_known(volumes, label))
                        continue;
                text = g_variant_print(label, FALSE);
                if (!settled(self, suspects, device, text))
                        continue;
                g_variant_builder_add_value(&builder, label);
                if (g_strcmp0(g_hash_table_lookup(self->reported, device), text) != 0) {
                        if (problem[0])
                                g_warning("%s holds a store whose superblock cannot be read: "
                                          "%s; nothing started",
                                          device, problem);
                        else
                                g_warning("%s holds the store of volume %s (UUID %s), which no "
                                          "volume owns; nothing started (zumactl import %s "
                                          "ORIGIN adopts it)",
                                          device, property_or_empty(label, "volume_name"),
                                          property_or_empty(label, "volume_uuid"), device);
                        zuma_mount_manager_emit_unknown_store_found(self->manager, label);
                }
                g_hash_table_insert(reported, g_strdup(device), g_steal_pointer(&text));
        }
        g_hash_table_unref(self->reported);
        self->reported = g_steal_pointer(&reported);
        g_hash_table_unref(self->suspects);
        self->suspects = g_steal_pointer(&suspects);
        unknown = g_variant_ref_sink(g_variant_builder_end(&builder));
        shown = zuma_mount_manager_get_unknown_stores(self->manager);
        if (!shown || !g_variant_equal(shown, unknown))
                zuma_mount_manager_set_unknown_stores(self->manager, unknown);
}

/* The loop devices running hot-plugged volumes use, whose detach only
 * their close shows (zuma-loop-watch.h). */
static void watch_running_loops(ZumaHotplug *self, GPtrArray *volumes)
{
        g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < volumes->len; i++) {
                const HotplugVolume *volume = g_ptr_array_index(volumes, i);
                char *origin, *store;

                if (!volume->uuid[0] || !volume->origin_identity[0] ||
                    !g_str_equal(volume->state, "running"))
                        continue;
                origin = realpath(volume->origin_device, NULL);
                store = realpath(volume->store_device, NULL);
                if (origin)
                        g_ptr_array_add(nodes, origin);
                if (store)
                        g_ptr_array_add(nodes, store);
        }
        g_ptr_array_add(nodes, NULL);
        zuma_loop_watch_set(self->loop_watch, (const char *const *)nodes->pdata);
}

static void look(ZumaHotplug *self)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) volumes = NULL;
        g_autoptr(DeviceScan) scan = NULL;

        volumes = list_volumes(self, &error);
        if (!volumes) {
                g_debug("hot-plug: cannot list the server's volumes: %s", error->message);
                return;
        }
        scan = scan_devices(&error);
        if (!scan) {
                g_warning("hot-plug: %s", error->message);
                return;
        }
        self->hotplugged = 0;
        for (guint i = 0; i < volumes->len; i++) {
                const HotplugVolume *volume = g_ptr_array_index(volumes, i);

                if (volume->uuid[0] && volume->origin_identity[0])
                        follow_volume(self, scan, volume);
        }
        report_unknown_stores(self, volumes, scan);
        watch_running_loops(self, volumes);
}

static void on_loop_leaving(const char *devnode, gpointer user_data)
{
        g_message("%s is set to detach at its last close", devnode);
        look_soon(user_data);
}

static gboolean on_look_idle(gpointer user_data)
{
        ZumaHotplug *self = user_data;

        self->look_idle = 0;
        if (self->server_up)
                look(self);
        return G_SOURCE_REMOVE;
}

static void look_soon(ZumaHotplug *self)
{
        if (!self->look_idle)
                self->look_idle = g_idle_add(on_look_idle, self);
}

static void on_block_event(const char *action, ZumaUdevDevice *device, gpointer user_data)
{
        /* The frontend's own devices come and go with every snapshot. */
        if (udev_device_get_property_value(device, "ZUMASTOR_VOLUME"))
                return;
        g_debug("hot-plug: %s %s", action, udev_device_get_sysname(device));
        look_soon(user_data);
}

/* A volume defined, imported or forgotten may own a store or not. */
static void on_server_objects_changed(GDBusConnection *connection, const char *sender,
                                      const char *path, const char *interface, const char *member,
                                      GVariant *params, gpointer user_data)
{
        look_soon(user_data);
}

static void on_server_appeared(GDBusConnection *connection, const char *name, const char *owner,
                               gpointer user_data)
{
        ZumaHotplug *self = user_data;

        self->server_up = TRUE;
        look_soon(self);
}

static void on_server_vanished(GDBusConnection *connection, const char *name, gpointer user_data)
{
        ZumaHotplug *self = user_data;

        self->server_up = FALSE;
}

ZumaHotplug *zuma_hotplug_new(GDBusConnection *connection, ZumaMountManager *manager,
                              GError **error)
{
        g_autoptr(ZumaHotplug) self = g_new0(ZumaHotplug, 1);

        self->connection = g_object_ref(connection);
        self->manager = g_object_ref(manager);
        self->cancellable = g_cancellable_new();
        self->present = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        self->calls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        self->reported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        self->suspects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, suspect_free);
        zuma_mount_manager_set_unknown_stores(manager,
                                              g_variant_new_array(G_VARIANT_TYPE_VARDICT, NULL, 0));
        self->monitor = zuma_udev_monitor_new(on_block_event, self, error);
        if (!self->monitor)
                return NULL;
        self->loop_watch = zuma_loop_watch_new(on_loop_leaving, self, error);
        if (!self->loop_watch)
                return NULL;
        self->server_watch = g_bus_watch_name_on_connection(
                connection, ZUMA_SNAPSHOTD_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                on_server_appeared, on_server_vanished, self, NULL);
        self->objects_subscription = g_dbus_connection_signal_subscribe(
                connection, ZUMA_SNAPSHOTD_BUS_NAME, "org.freedesktop.DBus.ObjectManager", NULL,
                NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_server_objects_changed, self, NULL);
        return g_steal_pointer(&self);
}

char *zuma_hotplug_describe(ZumaHotplug *self)
{
        GVariant *unknown = zuma_mount_manager_get_unknown_stores(self->manager);
        gsize stores = unknown ? g_variant_n_children(unknown) : 0;

        return g_strdup_printf("%u volume%s hot-plugged, %" G_GSIZE_FORMAT " unknown store%s",
                               self->hotplugged, self->hotplugged == 1 ? "" : "s", stores,
                               stores == 1 ? "" : "s");
}

void zuma_hotplug_free(ZumaHotplug *self)
{
        if (!self)
                return;
        if (self->cancellable)
                g_cancellable_cancel(self->cancellable);
        if (self->look_idle)
                g_source_remove(self->look_idle);
        if (self->settle_timer)
                g_source_remove(self->settle_timer);
        if (self->server_watch)
                g_bus_unwatch_name(self->server_watch);
        if (self->objects_subscription)
                g_dbus_connection_signal_unsubscribe(self->connection, self->objects_subscription);
        g_clear_pointer(&self->monitor, zuma_udev_monitor_free);
        g_clear_pointer(&self->loop_watch, zuma_loop_watch_free);
        g_clear_object(&self->cancellable);
        g_clear_object(&self->manager);
        g_clear_object(&self->connection);
        g_clear_pointer(&self->present, g_hash_table_unref);
        g_clear_pointer(&self->calls, g_hash_table_unref);
        g_clear_pointer(&self->reported, g_hash_table_unref);
        g_clear_pointer(&self->suspects, g_hash_table_unref);
        g_free(self);
}
