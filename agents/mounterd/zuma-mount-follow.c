/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Making the mounts match what the configurations ask of the server's
 * volumes as they are now.
 *
 * One rule instead of one handler per signal: whatever the server says
 * (a volume started or stopped, a snapshot created, deleted or renamed, a
 * device attached; the server back on the bus), the mounter lists the
 * server's volumes (one GetManagedObjects) and reconciles:
 *
 *   1. what is wanted: for each configured volume that runs, its origin
 *      at At and its snapshots (all, none or the newest N by id) at the
 *      template's path for their current names, each by device path (a
 *      snapshot without a device is attached first, Snapshot.Attach);
 *      minus what is held for the server (Release, below);
 *   2. mounts gone from the kernel's table (unmounted by hand) are
 *      forgotten;
 *   3. a wanted mount already in place is kept; one mounted elsewhere (a
 *      renamed snapshot) is moved there (MS_MOVE; when the mount cannot
 *      be moved, because its parent mount is shared, it is unmounted and
 *      mounted again at the new path);
 *   4. every other mount of the mounter's is unmounted, never lazily: a
 *      busy one stays and is tried again in 2 s;
 *   5. what is still wanted is mounted: the directory made (snapshots) or
 *      checked (an origin's must be empty unless forced), the fs type
 *      probed on the device, the options computed (zuma-mount-config.h).
 *
 * Release (zuma-mounter-release.c) holds snapshots: step 1 leaves them
 * out, and drops the holds of what is gone.
 */
#define G_LOG_DOMAIN "zuma-mounterd"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "zuma-error.h"
#include "zuma-mount-ops.h"
#include "zuma-mount-views.h"
#include "zuma-mounter-private.h"
#include "zuma-mountinfo.h"
#include "zuma-names.h"

char *zuma_mount_key(const char *uuid, guint32 id)
{
        if (id == ZUMA_MOUNT_WHOLE_VOLUME)
                return g_strdup_printf("%s/ALL", uuid);
        return g_strdup_printf("%s/%u", uuid, id);
}

void zuma_mount_free(ZumaMount *mount)
{
        if (!mount)
                return;
        g_free(mount->path);
        g_free(mount->uuid);
        g_free(mount->volume_name);
        g_free(mount->snapshot_name);
        g_free(mount->device);
        g_free(mount->fstype);
        g_free(mount->options);
        g_free(mount);
}

const char *zuma_mounter_template(ZumaMounter *self, const ZumaMountConfig *config)
{
        return config->template[0] ? config->template : self->default_template;
}

/* What step 1 asks for: one mount. */
typedef struct {
        const ZumaMountConfig *config;
        const ZumaServerVolume *volume;
        const ZumaServerSnapshot *snapshot; /* NULL: the origin */
        char *path;
        char *device;
        gboolean done;
} Want;

static void want_free(gpointer data)
{
        Want *want = data;

        g_free(want->path);
        g_free(want->device);
        g_free(want);
}

static guint32 want_id(const Want *want)
{
        return want->snapshot ? want->snapshot->id : 0;
}

void zuma_mounter_warn_once(ZumaMounter *self, const char *path, const char *message)
{
        const char *last = g_hash_table_lookup(self->warned, path);

        if (last && g_str_equal(last, message))
                return;
        g_warning("%s", message);
        g_hash_table_insert(self->warned, g_strdup(path), g_strdup(message));
}

static gboolean is_held_whole(ZumaMounter *self, const char *uuid)
{
        g_autofree char *whole = zuma_mount_key(uuid, ZUMA_MOUNT_WHOLE_VOLUME);

        return g_hash_table_contains(self->holds, whole);
}

/* id 0: the origin. */
static gboolean is_held(ZumaMounter *self, const char *uuid, guint32 id)
{
        g_autofree char *whole = zuma_mount_key(uuid, ZUMA_MOUNT_WHOLE_VOLUME);
        g_autofree char *one = zuma_mount_key(uuid, id);

        return g_hash_table_contains(self->holds, whole) || g_hash_table_contains(self->holds, one);
}

/* What the mounter attached and the server deleted is no longer its
 * business. */
static void forget_deleted_attachments(ZumaMounter *self)
{
        GHashTableIter iter;
        const char *key;

        g_hash_table_iter_init(&iter, self->attached);
        while (g_hash_table_iter_next(&iter, (gpointer *)&key, NULL)) {
                g_auto(GStrv) parts = g_strsplit(key, "/", 2);
                const ZumaServerVolume *volume =
                        zuma_server_find_volume(self->volumes, parts[0], FALSE);

                if (volume && g_str_equal(volume->state, "running") &&
                    !zuma_server_find_snapshot(volume,
                                               (guint32)g_ascii_strtoull(parts[1], NULL, 10)))
                        g_hash_table_iter_remove(&iter);
        }
}

/* Holds end when what they hold is gone (deleted, the volume stopped) or
 * when they expire. */
static void drop_finished_holds(ZumaMounter *self)
{
        gint64 now = g_get_monotonic_time();
        GHashTableIter iter;
        const char *key;
        gpointer expiry;

        g_hash_table_iter_init(&iter, self->holds);
        while (g_hash_table_iter_next(&iter, (gpointer *)&key, &expiry)) {
                g_auto(GStrv) parts = g_strsplit(key, "/", 2);
                const ZumaServerVolume *volume =
                        zuma_server_find_volume(self->volumes, parts[0], FALSE);
                gboolean gone;

                if (!volume || !g_str_equal(volume->state, "running"))
                        gone = TRUE;
                else if (g_str_equal(parts[1], "ALL"))
                        gone = FALSE;
                else if (g_str_equal(parts[1], "0"))
                        /* The origin, released for a revert: held until the
                         * server detached it (it attaches it again when the
                         * revert is done, and it is mounted again). */
                        gone = !volume->device[0];
                else
                        gone = !zuma_server_find_snapshot(
                                volume, (guint32)g_ascii_strtoull(parts[1], NULL, 10));
                if (gone || now >= *(gint64 *)expiry)
                        g_hash_table_iter_remove(&iter);
        }
}

void zuma_mounter_origin_detached(ZumaMounter *self, const char *volume_path)
{
        for (guint i = 0; self->volumes && i < self->volumes->len; i++) {
                const ZumaServerVolume *volume = g_ptr_array_index(self->volumes, i);
                g_autofree char *key = NULL;

                if (!g_str_equal(volume->path, volume_path) || !volume->uuid[0])
                        continue;
                key = zuma_mount_key(volume->uuid, 0);
                g_hash_table_remove(self->holds, key);
        }
}

/* Seen in the signal itself, not in a later listing: a volume stopped
 * and started again (a forced forget and a define) between two listings
 * would otherwise keep its hold until it expires. */
void zuma_mounter_volume_stopped(ZumaMounter *self, const char *volume_path)
{
        for (guint i = 0; self->volumes && i < self->volumes->len; i++) {
                const ZumaServerVolume *volume = g_ptr_array_index(self->volumes, i);
                g_autofree char *prefix = NULL;
                GHashTableIter iter;
                const char *key;

                if (!g_str_equal(volume->path, volume_path) || !volume->uuid[0])
                        continue;
                prefix = g_strconcat(volume->uuid, "/", NULL);
                g_hash_table_iter_init(&iter, self->holds);
                while (g_hash_table_iter_next(&iter, (gpointer *)&key, NULL))
                        if (g_str_has_prefix(key, prefix))
                                g_hash_table_iter_remove(&iter);
        }
}

static gint compare_snapshot_ids_newest_first(gconstpointer a, gconstpointer b)
{
        const ZumaServerSnapshot *x = *(ZumaServerSnapshot *const *)a;
        const ZumaServerSnapshot *y = *(ZumaServerSnapshot *const *)b;

        return x->id > y->id ? -1 : x->id < y->id ? 1 : 0;
}

static void want_volume(ZumaMounter *self, const ZumaMountConfig *config,
                        const ZumaServerVolume *volume, GPtrArray *wants)
{
        g_autoptr(GPtrArray) snapshots = NULL;
        guint limit;

        if (!g_str_equal(volume->state, "running") || is_held_whole(self, volume->uuid))
                return;
        /* An origin without a device (detached for a revert) leaves the
         * snapshots' mounts alone: they are on devices of their own. */
        if (config->at[0] && volume->device[0] && !is_held(self, volume->uuid, 0)) {
                Want *want = g_new0(Want, 1);

                want->config = config;
                want->volume = volume;
                want->path = g_strdup(config->at);
                want->device = g_strdup(volume->device);
                g_ptr_array_add(wants, want);
        }
        switch (config->snapshots) {
        case ZUMA_MOUNT_SNAPSHOTS_NONE:
                return;
        case ZUMA_MOUNT_SNAPSHOTS_NEWEST:
                limit = config->newest;
                break;
        case ZUMA_MOUNT_SNAPSHOTS_ALL:
        default:
                limit = G_MAXUINT;
                break;
        }
        /* Not g_ptr_array_copy(): the copy would free the snapshots too. */
        snapshots = g_ptr_array_sized_new(volume->snapshots->len);
        for (guint i = 0; i < volume->snapshots->len; i++)
                g_ptr_array_add(snapshots, g_ptr_array_index(volume->snapshots, i));
        g_ptr_array_sort(snapshots, compare_snapshot_ids_newest_first);
        for (guint i = 0; i < snapshots->len && i < limit; i++) {
                const ZumaServerSnapshot *snapshot = g_ptr_array_index(snapshots, i);
                Want *want;

                if (snapshot->id == 0 || is_held(self, volume->uuid, snapshot->id))
                        continue;
                want = g_new0(Want, 1);
                want->config = config;
                want->volume = volume;
                want->snapshot = snapshot;
                want->path = zuma_mount_expand_template(zuma_mounter_template(self, config),
                                                        volume->name, snapshot->name);
                want->device = g_strdup(snapshot->device);
                g_ptr_array_add(wants, want);
        }
}

static GPtrArray *wanted_mounts(ZumaMounter *self)
{
        GPtrArray *wants = g_ptr_array_new_with_free_func(want_free);
        GHashTableIter iter;
        ZumaMountConfig *config;

        g_hash_table_iter_init(&iter, self->configs);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&config)) {
                const ZumaServerVolume *volume =
                        zuma_server_find_volume(self->volumes, config->uuid, FALSE);

                if (!volume)
                        continue;
                if (!g_str_equal(config->volume_name, volume->name)) {
                        g_free(config->volume_name);
                        config->volume_name = g_strdup(volume->name);
                }
                want_volume(self, config, volume, wants);
        }
        return wants;
}

static gboolean is_wanted(GPtrArray *wants, const char *uuid, guint32 id)
{
        for (guint i = 0; i < wants->len; i++) {
                const Want *want = g_ptr_array_index(wants, i);

                if (want_id(want) == id && g_str_equal(want->volume->uuid, uuid))
                        return TRUE;
        }
        return FALSE;
}

static ZumaMount *find_mount_of(ZumaMounter *self, const char *uuid, guint32 id, const char *device,
                                GHashTable *matched)
{
        GHashTableIter iter;
        ZumaMount *mount;

        g_hash_table_iter_init(&iter, self->mounts);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&mount)) {
                if (g_str_equal(mount->uuid, uuid) && mount->id == id &&
                    g_str_equal(mount->device, device) && !g_hash_table_contains(matched, mount))
                        return mount;
        }
        return NULL;
}

static void take_names(ZumaMount *mount, const Want *want)
{
        g_free(mount->volume_name);
        mount->volume_name = g_strdup(want->volume->name);
        g_free(mount->snapshot_name);
        mount->snapshot_name = g_strdup(want->snapshot ? want->snapshot->name : "");
}

/* Step 3's move: TRUE when mount now is at want->path. */
static gboolean move_mount(ZumaMounter *self, ZumaMount *mount, Want *want)
{
        g_autoptr(GError) error = NULL;
        gboolean created = FALSE;
        ZumaMount *moved;

        if (g_hash_table_contains(self->mounts, want->path) ||
            !zuma_mount_prepare_dir(want->path, FALSE, &created, &error) ||
            !zuma_mount_move(mount->path, want->path, &error)) {
                if (created)
                        zuma_mount_remove_dir(want->path);
                g_debug("%s", error ? error->message : "the new path is taken");
                return FALSE;
        }
        g_message("%s: moved to %s", mount->path, want->path);
        g_hash_table_steal_extended(self->mounts, mount->path, NULL, (gpointer *)&moved);
        if (moved->created_dir)
                zuma_mount_remove_dir(moved->path);
        g_free(moved->path);
        moved->path = g_strdup(want->path);
        moved->created_dir = created;
        take_names(moved, want);
        g_hash_table_insert(self->mounts, moved->path, moved);
        return TRUE;
}

/* Unmounts mount and forgets it; FALSE (Busy...) leaves it. */
static gboolean unmount_one(ZumaMounter *self, ZumaMount *mount, GError **error)
{
        g_autoptr(GError) local = NULL;

        zuma_mount_views_drop(self, mount);
        if (!zuma_mount_unmount(mount->path, &local)) {
                if (!g_error_matches(local, ZUMA_ERROR, ZUMA_ERROR_BUSY))
                        g_propagate_error(error, g_steal_pointer(&local));
                else if (mount->id)
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                                    "snapshot %s of %s is busy: mounted at %s (a process uses "
                                    "it)",
                                    mount->snapshot_name, mount->volume_name, mount->path);
                else
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                                    "volume %s is busy: mounted at %s (a process uses it)",
                                    mount->volume_name, mount->path);
                return FALSE;
        }
        g_message("%s: unmounted (%s%s%s)", mount->path, mount->volume_name, mount->id ? "@" : "",
                  mount->snapshot_name);
        if (mount->created_dir)
                zuma_mount_remove_dir(mount->path);
        g_hash_table_remove(self->warned, mount->path);
        g_hash_table_remove(self->mounts, mount->path);
        return TRUE;
}

static void on_detached(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autofree char *what = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply =
                g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

        if (!reply)
                g_debug("cannot detach %s: %s", what, error->message);
}

/* A snapshot the mounter attached and no longer mounts goes back to
 * having no device.  Asynchronously: the server may ask the mounter to
 * Release it first (a udev probe holding the device for a moment makes
 * it look open), and the mounter must be free to answer. */
static void detach_unwanted(ZumaMounter *self, const char *uuid, guint32 id)
{
        g_autofree char *key = zuma_mount_key(uuid, id);
        const ZumaServerVolume *volume = zuma_server_find_volume(self->volumes, uuid, FALSE);
        const ZumaServerSnapshot *snapshot;

        /* Held: the server deletes or detaches it itself (or stops the
         * volume, and attaches it again at the next start). */
        if (is_held(self, uuid, id) || !g_hash_table_remove(self->attached, key) || !volume)
                return;
        snapshot = zuma_server_find_snapshot(volume, id);
        if (!snapshot)
                return;
        g_dbus_connection_call(
                self->connection, ZUMA_SNAPSHOTD_BUS_NAME, snapshot->path, ZUMA_INTERFACE_SNAPSHOT,
                "Detach", g_variant_new("(@a{sv})", g_variant_new("a{sv}", NULL)),
                G_VARIANT_TYPE("()"), G_DBUS_CALL_FLAGS_NO_AUTO_START, ZUMA_SERVER_CALL_TIMEOUT_MS,
                NULL, on_detached, g_strdup_printf("%s@%s", volume->name, snapshot->name));
}

/* Step 5 for one want. */
static void mount_wanted(ZumaMounter *self, Want *want, GPtrArray *table)
{
        const ZumaMountConfig *config = want->config;
        gboolean snapshot = want->snapshot != NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *fstype = NULL;
        g_autofree char *mounted_type = NULL;
        g_autofree char *data = NULL;
        const ZumaMountEntry *there;
        unsigned long flags = 0;
        gboolean created = FALSE;
        struct stat st;
        ZumaMount *mount;

        if (snapshot && !want->device[0]) {
                g_autofree char *key = zuma_mount_key(want->volume->uuid, want->snapshot->id);

                g_clear_pointer(&want->device, g_free);
                if (!zuma_server_attach_snapshot(self->connection, want->snapshot->path,
                                                 &want->device, &error)) {
                        want->device = g_strdup("");
                        goto failed;
                }
                g_hash_table_add(self->attached, g_steal_pointer(&key));
        }
        if (stat(want->device, &st) < 0 || !S_ISBLK(st.st_mode)) {
                g_set_error(&error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "%s is not a block device",
                            want->device);
                goto failed;
        }
        there = zuma_mountinfo_find_point(table, want->path);
        if (there && there->device != st.st_rdev) {
                g_set_error(&error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                            "%s is a mount point of something else already (%s)", want->path,
                            there->source);
                goto failed;
        }
        if (!there) {
                if (!zuma_mount_prepare_dir(want->path, snapshot ? FALSE : config->force, &created,
                                            &error))
                        goto failed;
                fstype = zuma_mount_probe_fstype(want->device, &error);
                if (!fstype ||
                    !zuma_mount_options_parse(config->options, snapshot, fstype, &flags, &data,
                                              &error) ||
                    !zuma_mount_device(want->device, want->path, fstype, flags, data, &mounted_type,
                                       &error)) {
                        if (created)
                                zuma_mount_remove_dir(want->path);
                        goto failed;
                }
                g_message("%s: mounted %s (%s%s%s) as %s", want->path, want->device,
                          want->volume->name, snapshot ? "@" : "",
                          snapshot ? want->snapshot->name : "", mounted_type);
        } else {
                /* Ours from before (a restarted mounter): taken as it is. */
                mounted_type = g_strdup(there->fstype);
                zuma_mount_options_parse(config->options, snapshot, mounted_type, &flags, &data,
                                         NULL);
                g_message("%s: %s was mounted there already", want->path, want->device);
        }
        mount = g_new0(ZumaMount, 1);
        mount->path = g_strdup(want->path);
        mount->uuid = g_strdup(want->volume->uuid);
        mount->id = want_id(want);
        mount->device = g_strdup(want->device);
        mount->fstype = g_steal_pointer(&mounted_type);
        mount->options = zuma_mount_options_describe(flags, data);
        mount->created_dir = created;
        take_names(mount, want);
        g_hash_table_insert(self->mounts, mount->path, mount);
        g_hash_table_remove(self->warned, want->path);
        return;

failed : {
        g_autofree char *message = g_strdup_printf(
                "%s@%s: not mounted at %s: %s", want->volume->name,
                snapshot ? want->snapshot->name : "origin", want->path, error->message);

        zuma_mounter_warn_once(self, want->path, message);
}
}

static gboolean on_retry(gpointer user_data)
{
        ZumaMounter *self = user_data;

        self->retry_timer = 0;
        zuma_mounter_reconcile(self);
        return G_SOURCE_REMOVE;
}

static void retry_later(ZumaMounter *self, guint ms)
{
        if (!self->retry_timer)
                self->retry_timer = g_timeout_add(ms, on_retry, self);
}

gboolean zuma_mounter_reconcile(ZumaMounter *self)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) volumes = NULL;
        g_autoptr(GPtrArray) wants = NULL;
        g_autoptr(GPtrArray) table = NULL;
        g_autoptr(GHashTable) matched = g_hash_table_new(NULL, NULL);
        g_autoptr(GList) mounts = NULL;
        gboolean busy = FALSE;
        gint64 next_expiry = G_MAXINT64;
        GHashTableIter iter;
        gpointer value;

        if (self->shutting_down)
                return TRUE;
        volumes = zuma_server_list_volumes(self->connection, &error);
        if (!volumes) {
                g_message("cannot list the server's volumes: %s; the mounts stay as they are",
                          error->message);
                return FALSE;
        }
        g_clear_pointer(&self->volumes, g_ptr_array_unref);
        self->volumes = g_steal_pointer(&volumes);
        drop_finished_holds(self);
        forget_deleted_attachments(self);
        table = zuma_mountinfo_read(&error);
        if (!table) {
                g_warning("%s", error->message);
                return FALSE;
        }

        /* 2: unmounted by someone else. */
        mounts = g_hash_table_get_values(self->mounts);
        for (GList *l = mounts; l; l = l->next) {
                ZumaMount *mount = l->data;

                if (!zuma_mountinfo_find_point(table, mount->path)) {
                        g_message("%s: no longer mounted (unmounted by hand?)", mount->path);
                        if (mount->created_dir)
                                zuma_mount_remove_dir(mount->path);
                        g_hash_table_remove(self->mounts, mount->path);
                }
        }

        /* 1 and 3. */
        wants = wanted_mounts(self);
        for (guint i = 0; i < wants->len; i++) {
                Want *want = g_ptr_array_index(wants, i);
                ZumaMount *mount = g_hash_table_lookup(self->mounts, want->path);

                if (mount && g_str_equal(mount->uuid, want->volume->uuid) &&
                    mount->id == want_id(want) &&
                    (!want->device[0] || g_str_equal(mount->device, want->device))) {
                        take_names(mount, want);
                        g_hash_table_add(matched, mount);
                        want->done = TRUE;
                }
        }
        for (guint i = 0; i < wants->len; i++) {
                Want *want = g_ptr_array_index(wants, i);
                ZumaMount *mount;

                if (want->done || !want->device[0])
                        continue;
                mount = find_mount_of(self, want->volume->uuid, want_id(want), want->device,
                                      matched);
                if (mount && !g_hash_table_contains(self->mounts, want->path) &&
                    move_mount(self, mount, want)) {
                        g_hash_table_add(matched, g_hash_table_lookup(self->mounts, want->path));
                        want->done = TRUE;
                }
        }

        /* 4. */
        g_clear_pointer(&mounts, g_list_free);
        mounts = g_hash_table_get_values(self->mounts);
        for (GList *l = mounts; l; l = l->next) {
                ZumaMount *mount = l->data;
                g_autoptr(GError) local = NULL;
                g_autofree char *uuid = NULL;
                guint32 id;

                if (g_hash_table_contains(matched, mount))
                        continue;
                uuid = g_strdup(mount->uuid);
                id = mount->id;
                if (!unmount_one(self, mount, &local)) {
                        zuma_mounter_warn_once(self, mount->path, local->message);
                        busy = TRUE;
                        continue;
                }
                if (id && !is_wanted(wants, uuid, id))
                        detach_unwanted(self, uuid, id);
        }

        /* 5. */
        for (guint i = 0; i < wants->len; i++) {
                Want *want = g_ptr_array_index(wants, i);

                if (!want->done)
                        mount_wanted(self, want, table);
        }
        zuma_mount_views_sync(self);

        if (busy)
                retry_later(self, ZUMA_MOUNT_BUSY_RETRY_MS);
        g_hash_table_iter_init(&iter, self->holds);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                next_expiry = MIN(next_expiry, *(gint64 *)value);
        if (next_expiry != G_MAXINT64) {
                gint64 ms = (next_expiry - g_get_monotonic_time()) / 1000 + 1;

                retry_later(self, (guint)CLAMP(ms, 1, ZUMA_MOUNT_HOLD_MS));
        }
        return TRUE;
}

static gboolean on_reconcile_idle(gpointer user_data)
{
        ZumaMounter *self = user_data;

        self->reconcile_idle = 0;
        zuma_mounter_reconcile(self);
        return G_SOURCE_REMOVE;
}

void zuma_mounter_reconcile_soon(ZumaMounter *self)
{
        if (!self->reconcile_idle && !self->shutting_down)
                self->reconcile_idle = g_idle_add(on_reconcile_idle, self);
}

static gint compare_mount_paths(gconstpointer a, gconstpointer b)
{
        return strcmp(((const ZumaMount *)a)->path, ((const ZumaMount *)b)->path);
}

gboolean zuma_mounter_unmount_volume(ZumaMounter *self, const char *uuid, guint32 id,
                                     GError **error)
{
        g_autoptr(GList) mounts = g_hash_table_get_values(self->mounts);
        gboolean ok = TRUE;

        /* Innermost first: a snapshot mounted inside the origin's tree
         * goes before the origin. */
        mounts = g_list_sort(mounts, compare_mount_paths);
        for (GList *l = g_list_last(mounts); l; l = l->prev) {
                ZumaMount *mount = l->data;
                g_autoptr(GError) local = NULL;

                if (!g_str_equal(mount->uuid, uuid) ||
                    (id != ZUMA_MOUNT_WHOLE_VOLUME && mount->id != id))
                        continue;
                g_autofree char *mount_uuid = g_strdup(mount->uuid);
                guint32 mount_id = mount->id;

                if (!unmount_one(self, mount, &local)) {
                        if (ok)
                                g_propagate_error(error, g_steal_pointer(&local));
                        ok = FALSE;
                        continue;
                }
                /* Held (Release): the server is about to delete or detach
                 * it itself. */
                if (mount_id)
                        detach_unwanted(self, mount_uuid, mount_id);
        }
        return ok;
}
