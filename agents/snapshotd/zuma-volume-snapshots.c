/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume's snapshots: one ZumaSnapshot object per snapshot of a
 * running volume, created and deleted with the engine's records, and the
 * snapshot operations behind the Snapshot interface.
 *
 * Order of work, so that a failure leaves no half state the caller cannot
 * see: arguments are checked first, then the device (a busy device fails
 * before the store changes), then the engine, then the bus objects and
 * signals.
 *
 * Attachment is on demand: a snapshot gets a device when it is created
 * with "attach", or by Attach, and keeps it across restarts (the volume's
 * definition lists it) until Detach or its deletion.  Stopping the volume
 * detaches every device but forgets none of that.
 */
#define G_LOG_DOMAIN "zuma-volume"

#include "zuma-volume-private.h"

#include "zuma-error.h"
#include "zuma-options.h"

/* Attach failures at start logged one by one; the rest are counted. */
#define ATTACH_WARNINGS 3

static ZumaSnapshot *lookup_snapshot(ZumaVolume *self, guint32 id, GError **error)
{
        ZumaSnapshot *snapshot = g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(id));

        if (!snapshot)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "snapshot %u of volume %s no longer exists", id, self->config->name);
        return snapshot;
}

ZumaSnapshot *volume_lookup_snapshot(ZumaVolume *self, guint32 id, GError **error)
{
        if (!volume_require_running(self, error))
                return NULL;
        return lookup_snapshot(self, id, error);
}

ZumaSnapshot *volume_lookup_snapshot_to_read(ZumaVolume *self, guint32 id, GError **error)
{
        if (!volume_require_readable(self, error))
                return NULL;
        return lookup_snapshot(self, id, error);
}

static ZumaSnapshot *find_snapshot(ZumaVolume *self, const char *name, GError **error);

ZumaSnapshot *volume_find_snapshot(ZumaVolume *self, const char *name, GError **error)
{
        if (!volume_require_running(self, error))
                return NULL;
        return find_snapshot(self, name, error);
}

ZumaSnapshot *volume_find_snapshot_to_read(ZumaVolume *self, const char *name, GError **error)
{
        if (!volume_require_readable(self, error))
                return NULL;
        return find_snapshot(self, name, error);
}

static ZumaSnapshot *find_snapshot(ZumaVolume *self, const char *name, GError **error)
{
        GHashTableIter iter;
        gpointer value;

        if (!zuma_check_snapshot_name(name, error))
                return NULL;
        g_hash_table_iter_init(&iter, self->snapshots);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                if (g_str_equal(zuma_snapshot_get_name(value), name))
                        return value;
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "volume %s has no snapshot named %s",
                    self->config->name, name);
        return NULL;
}

static ZumaSnapshot *add_snapshot(ZumaVolume *self, const SsSnapshotInfo *info)
{
        ZumaSnapshot *snapshot = zuma_snapshot_new(self, info);

        g_hash_table_insert(self->snapshots, GUINT_TO_POINTER(info->id), snapshot);
        g_dbus_object_manager_server_export(zuma_manager_get_object_manager(self->manager),
                                            zuma_snapshot_get_object(snapshot));
        return snapshot;
}

gboolean volume_load_snapshots(ZumaVolume *self, GError **error)
{
        SsSnapshotInfo info;
        guint32 after = 0;
        int r;

        for (;;) {
                g_mutex_lock(&self->engine->lock);
                r = ss_snapshot_next(self->engine->store, after, &info);
                g_mutex_unlock(&self->engine->lock);
                if (r == -ENOENT)
                        return TRUE;
                if (r < 0)
                        return zuma_engine_set_error(error, r, "cannot list the snapshots");
                add_snapshot(self, &info);
                after = info.id;
        }
}

/* Records whether the snapshot is to be attached when the volume starts. */
static void remember_attached(ZumaVolume *self, guint32 id, gboolean attached)
{
        if (zuma_volume_config_set_snapshot_attached(self->config, id, attached))
                volume_save_config_or_warn(self);
}

static gboolean attach_snapshot(ZumaVolume *self, ZumaSnapshot *snapshot, GError **error)
{
        ZumaFrontend *frontend = volume_frontend(self);
        g_autofree char *device = NULL;

        if (!frontend) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED,
                            "the server runs without a data frontend (--frontend=none)");
                return FALSE;
        }
        if (!zuma_frontend_attach(frontend, self->config->name, zuma_snapshot_get_id(snapshot),
                                  zuma_snapshot_get_name(snapshot),
                                  zuma_snapshot_get_writable(snapshot), &device, error))
                return FALSE;
        if (!g_str_equal(device, zuma_snapshot_get_device(snapshot)))
                g_message("volume %s: snapshot %s attached as %s", self->config->name,
                          zuma_snapshot_get_name(snapshot), device);
        zuma_snapshot_set_device(snapshot, device);
        remember_attached(self, zuma_snapshot_get_id(snapshot), TRUE);
        return TRUE;
}

void volume_attach_snapshots(ZumaVolume *self)
{
        /* A copy: the loop may forget ids of snapshots that are gone. */
        g_autoptr(GArray) ids = NULL;
        guint failed = 0, gone = 0;

        if (!volume_frontend(self))
                return;
        ids = g_array_copy(self->config->attached_snapshots);
        /* In id order, so device numbers follow snapshot age. */
        for (guint i = 0; i < ids->len; i++) {
                guint32 id = g_array_index(ids, guint32, i);
                ZumaSnapshot *snapshot = g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(id));
                g_autoptr(GError) error = NULL;

                /* Gone from the store, and the definition missed it (it
                 * could not be saved, or the server died in between);
                 * or about to be deleted: no device for it. */
                if (!snapshot || zuma_volume_config_has_pending_delete(self->config, id)) {
                        zuma_volume_config_set_snapshot_attached(self->config, id, FALSE);
                        gone++;
                        continue;
                }
                /* One snapshot without a device (no free loop device) does
                 * not keep the volume from serving the others; it stays
                 * listed, so the next start tries again. */
                if (attach_snapshot(self, snapshot, &error))
                        continue;
                if (++failed <= ATTACH_WARNINGS)
                        g_warning("volume %s: cannot attach snapshot %s: %s", self->config->name,
                                  zuma_snapshot_get_name(snapshot), error->message);
                else
                        g_debug("volume %s: cannot attach snapshot %s: %s", self->config->name,
                                zuma_snapshot_get_name(snapshot), error->message);
        }
        if (failed > ATTACH_WARNINGS)
                g_warning("volume %s: %u snapshots have no device (Attach retries)",
                          self->config->name, failed);
        if (gone > 0)
                volume_save_config_or_warn(self);
}

static gboolean detach_snapshot(ZumaVolume *self, ZumaSnapshot *snapshot, gboolean force,
                                GError **error)
{
        ZumaFrontend *frontend = volume_frontend(self);
        gboolean attached = zuma_snapshot_get_device(snapshot)[0] != '\0';

        if (!frontend || !self->frontend_added)
                return TRUE;
        if (!zuma_frontend_detach(frontend, self->config->name, zuma_snapshot_get_id(snapshot),
                                  force, error)) {
                g_prefix_error(error, "snapshot %s: ", zuma_snapshot_get_name(snapshot));
                return FALSE;
        }
        if (attached)
                g_message("volume %s: snapshot %s detached", self->config->name,
                          zuma_snapshot_get_name(snapshot));
        zuma_snapshot_set_device(snapshot, "");
        return TRUE;
}

void volume_drop_snapshot(ZumaVolume *self, ZumaSnapshot *snapshot, const char *reason)
{
        /* The table holds what may be the last reference. */
        g_autoptr(ZumaSnapshot) snap = g_object_ref(snapshot);
        g_autoptr(GError) error = NULL;
        g_autofree char *name = g_strdup(zuma_snapshot_get_name(snap));
        guint32 id = zuma_snapshot_get_id(snap);

        if (!detach_snapshot(self, snap, TRUE, &error))
                g_warning("volume %s: %s", self->config->name, error->message);
        g_dbus_object_manager_server_unexport(zuma_manager_get_object_manager(self->manager),
                                              zuma_snapshot_get_object_path(snap));
        zuma_snapshot_orphan(snap);
        g_hash_table_remove(self->snapshots, GUINT_TO_POINTER(id));
        if (reason) {
                /* Deleted, not just stopped: nothing to attach next time. */
                remember_attached(self, id, FALSE);
                zuma_bus_volume_emit_snapshot_deleted(
                        self->iface, zuma_snapshot_get_object_path(snap), id, name, reason);
        }
}

void volume_drop_all_snapshots(ZumaVolume *self)
{
        g_autoptr(GList) snapshots = g_hash_table_get_values(self->snapshots);

        for (GList *l = snapshots; l; l = l->next)
                volume_drop_snapshot(self, l->data, NULL);
}

gboolean volume_delete_one(ZumaVolume *self, ZumaSnapshot *snapshot, gboolean force, GError **error)
{
        ZumaEngine *engine = self->engine;
        g_autofree char *name = g_strdup(zuma_snapshot_get_name(snapshot));
        gboolean had_device = zuma_snapshot_get_device(snapshot)[0] != '\0';
        guint32 id = zuma_snapshot_get_id(snapshot);
        int r;

        if (!detach_snapshot(self, snapshot, force, error))
                return FALSE;
        zuma_engine_lock_exclusive(engine);
        r = ss_snapshot_delete(engine->store, id);
        if (r < 0)
                volume_engine_error(self, r, "cannot delete the snapshot", error);
        zuma_engine_unlock_exclusive(engine);
        if (r < 0) {
                g_autoptr(GError) local = NULL;

                if (had_device && self->state == VOLUME_RUNNING &&
                    !attach_snapshot(self, snapshot, &local))
                        g_warning("volume %s: cannot attach snapshot %s again: %s",
                                  self->config->name, name, local->message);
                return FALSE;
        }
        g_message("volume %s: snapshot %u (%s) deleted", self->config->name, id, name);
        volume_drop_snapshot(self, snapshot, "requested");
        volume_refresh(self);
        return TRUE;
}

gboolean volume_create_snapshot(ZumaVolume *self, const char *name, GVariant *options,
                                char **ret_path, char **ret_name, GError **error)
{
        ZumaEngine *engine;
        ZumaSnapshot *snapshot;
        SsSnapshotInfo info;
        gint32 priority = 0;
        gboolean pinned = FALSE, writable = FALSE, attach = TRUE;
        guint32 id = 0;
        int r;

        if (!zuma_options_parse(options, error, "priority", "i", &priority, "pinned", "b", &pinned,
                                "writable", "b", &writable, "attach", "b", &attach, NULL))
                return FALSE;
        if (name[0] && !zuma_check_snapshot_name(name, error))
                return FALSE;
        if (!volume_require_running(self, error))
                return FALSE;
        if (!volume_require_no_revert(self, "snapshot it", error))
                return FALSE;
        if (g_hash_table_size(self->snapshots) >= ZUMA_MAX_SNAPSHOTS) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_LIMIT_EXCEEDED,
                            "volume %s holds %u snapshots, the most this server allows",
                            self->config->name, (guint)ZUMA_MAX_SNAPSHOTS);
                return FALSE;
        }
        engine = self->engine;
        zuma_engine_lock_exclusive(engine);
        r = ss_snapshot_create(engine->store, name[0] ? name : NULL,
                               (writable ? SS_SNAP_WRITABLE : 0) | (pinned ? SS_SNAP_PINNED : 0),
                               priority, &id);
        if (r == 0)
                r = ss_snapshot_get(engine->store, id, &info);
        if (r < 0)
                volume_engine_error(self, r, "cannot create the snapshot", error);
        zuma_engine_unlock_exclusive(engine);
        if (r < 0)
                return FALSE;

        snapshot = add_snapshot(self, &info);
        g_message("volume %s: snapshot %u (%s) created%s%s", self->config->name, id, info.name,
                  writable ? ", writable" : "", pinned ? ", pinned" : "");
        if (attach && volume_frontend(self)) {
                g_autoptr(GError) local = NULL;

                /* The snapshot exists either way; Attach can retry. */
                if (!attach_snapshot(self, snapshot, &local))
                        g_warning("volume %s: cannot attach snapshot %s: %s", self->config->name,
                                  info.name, local->message);
        }
        zuma_bus_volume_emit_snapshot_created(self->iface, zuma_snapshot_get_object_path(snapshot),
                                              id, info.name);
        volume_refresh(self);
        *ret_path = g_strdup(zuma_snapshot_get_object_path(snapshot));
        *ret_name = g_strdup(info.name);
        return TRUE;
}

gboolean zuma_volume_delete_snapshot(ZumaVolume *self, guint32 id, gboolean force, GError **error)
{
        ZumaSnapshot *snapshot = volume_lookup_snapshot(self, id, error);

        if (!snapshot)
                return FALSE;
        if (!volume_require_no_revert(self, "delete snapshots", error))
                return FALSE;
        return volume_delete_one(self, snapshot, force, error);
}

/* Ends a change of a snapshot's record, with engine->lock held right
 * after the engine call that returned r: the object takes the record back
 * from the engine, or error says what failed.  Returns whether the change
 * was made. */
static gboolean change_done_locked(ZumaVolume *self, ZumaSnapshot *snapshot, int r,
                                   const char *what, GError **error)
{
        SsSnapshotInfo info;

        if (r == 0)
                r = ss_snapshot_get(self->engine->store, zuma_snapshot_get_id(snapshot), &info);
        if (r < 0)
                return volume_engine_error(self, r, what, error);
        zuma_snapshot_update(snapshot, &info);
        return TRUE;
}

static void update_frontend(ZumaVolume *self, ZumaSnapshot *snapshot)
{
        ZumaFrontend *frontend = volume_frontend(self);
        g_autoptr(GError) error = NULL;

        if (!frontend || !self->frontend_added)
                return;
        if (!zuma_frontend_update(frontend, self->config->name, zuma_snapshot_get_id(snapshot),
                                  zuma_snapshot_get_name(snapshot),
                                  zuma_snapshot_get_writable(snapshot), &error))
                g_warning("volume %s: snapshot %s: %s", self->config->name,
                          zuma_snapshot_get_name(snapshot), error->message);
}

gboolean zuma_volume_rename_snapshot(ZumaVolume *self, guint32 id, const char *name, GError **error)
{
        ZumaSnapshot *snapshot;
        g_autofree char *old_name = NULL;
        gboolean done;

        if (!zuma_check_snapshot_name(name, error))
                return FALSE;
        snapshot = volume_lookup_snapshot(self, id, error);
        if (!snapshot)
                return FALSE;
        old_name = g_strdup(zuma_snapshot_get_name(snapshot));
        g_mutex_lock(&self->engine->lock);
        done = change_done_locked(self, snapshot, ss_snapshot_rename(self->engine->store, id, name),
                                  "cannot rename the snapshot", error);
        g_mutex_unlock(&self->engine->lock);
        if (!done)
                return FALSE;
        g_message("volume %s: snapshot %u renamed from %s to %s", self->config->name, id, old_name,
                  name);
        update_frontend(self, snapshot);
        return TRUE;
}

gboolean zuma_volume_set_snapshot_priority(ZumaVolume *self, guint32 id, gint32 priority,
                                           GError **error)
{
        ZumaSnapshot *snapshot = volume_lookup_snapshot(self, id, error);
        gboolean done;

        if (!snapshot)
                return FALSE;
        g_mutex_lock(&self->engine->lock);
        done = change_done_locked(self, snapshot,
                                  ss_snapshot_set_priority(self->engine->store, id, priority),
                                  "cannot set the snapshot's priority", error);
        g_mutex_unlock(&self->engine->lock);
        if (!done)
                return FALSE;
        g_message("volume %s: snapshot %s priority %d", self->config->name,
                  zuma_snapshot_get_name(snapshot), priority);
        return TRUE;
}

static gboolean set_flag(ZumaVolume *self, ZumaSnapshot *snapshot, guint32 flag, gboolean on,
                         GError **error)
{
        gboolean done;

        g_mutex_lock(&self->engine->lock);
        done = change_done_locked(self, snapshot,
                                  ss_snapshot_set_flags(self->engine->store,
                                                        zuma_snapshot_get_id(snapshot),
                                                        on ? flag : 0, on ? 0 : flag),
                                  "cannot change the snapshot", error);
        g_mutex_unlock(&self->engine->lock);
        return done;
}

gboolean zuma_volume_set_snapshot_pinned(ZumaVolume *self, guint32 id, gboolean pinned,
                                         GError **error)
{
        ZumaSnapshot *snapshot = volume_lookup_snapshot(self, id, error);

        if (!snapshot || !set_flag(self, snapshot, SS_SNAP_PINNED, pinned, error))
                return FALSE;
        g_message("volume %s: snapshot %s %s", self->config->name, zuma_snapshot_get_name(snapshot),
                  pinned ? "pinned" : "unpinned");
        return TRUE;
}

/* A loop device's mode is fixed when it is configured (its backing file is
 * opened read-only or read-write), so an attached snapshot changes mode by
 * being detached and attached again: its device may get another number,
 * the /dev/zumastor link follows.  A device in use is never pulled from
 * under its user: that is Busy, and the mode stays. */
gboolean zuma_volume_set_snapshot_writable(ZumaVolume *self, guint32 id, gboolean writable,
                                           GError **error)
{
        ZumaSnapshot *snapshot = volume_lookup_snapshot(self, id, error);
        ZumaFrontend *frontend = volume_frontend(self);
        g_autoptr(GError) local = NULL;
        gboolean attached;

        if (!snapshot)
                return FALSE;
        if (zuma_snapshot_get_writable(snapshot) == writable)
                return TRUE;
        if (frontend && zuma_frontend_is_busy(frontend, self->config->name, id)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                            "snapshot %s: device %s is open or mounted; unmount it first (its "
                            "device is attached again in the new mode)",
                            zuma_snapshot_get_name(snapshot), zuma_snapshot_get_device(snapshot));
                return FALSE;
        }
        attached = zuma_snapshot_get_device(snapshot)[0] != '\0';
        if (attached && !detach_snapshot(self, snapshot, FALSE, error))
                return FALSE;
        if (!set_flag(self, snapshot, SS_SNAP_WRITABLE, writable, error)) {
                if (attached && self->state == VOLUME_RUNNING &&
                    !attach_snapshot(self, snapshot, &local))
                        g_warning("volume %s: cannot attach snapshot %s again: %s",
                                  self->config->name, zuma_snapshot_get_name(snapshot),
                                  local->message);
                return FALSE;
        }
        g_message("volume %s: snapshot %s %s", self->config->name, zuma_snapshot_get_name(snapshot),
                  writable ? "writable" : "read-only");
        update_frontend(self, snapshot);
        if (attached && !attach_snapshot(self, snapshot, &local)) {
                g_set_error(error, ZUMA_ERROR,
                            local->domain == ZUMA_ERROR ? local->code : ZUMA_ERROR_FAILED,
                            "snapshot %s is now %s, but its device could not be attached again "
                            "(Attach retries): %s",
                            zuma_snapshot_get_name(snapshot), writable ? "writable" : "read-only",
                            local->message);
                return FALSE;
        }
        return TRUE;
}

/* Attach and Detach change no store: a damaged store's snapshots can be
 * attached to copy out what is still readable. */
gboolean zuma_volume_attach_snapshot(ZumaVolume *self, guint32 id, char **ret_device,
                                     GError **error)
{
        ZumaSnapshot *snapshot = volume_lookup_snapshot_to_read(self, id, error);

        if (!snapshot || !attach_snapshot(self, snapshot, error))
                return FALSE;
        *ret_device = g_strdup(zuma_snapshot_get_device(snapshot));
        return TRUE;
}

gboolean zuma_volume_detach_snapshot(ZumaVolume *self, guint32 id, gboolean force, GError **error)
{
        ZumaSnapshot *snapshot = volume_lookup_snapshot_to_read(self, id, error);

        if (!snapshot || !detach_snapshot(self, snapshot, force, error))
                return FALSE;
        remember_attached(self, id, FALSE);
        return TRUE;
}

gboolean zuma_volume_get_snapshot_usage(ZumaVolume *self, guint32 id, SsSnapshotUsage *ret_usage,
                                        GError **error)
{
        int r;

        if (!volume_lookup_snapshot_to_read(self, id, error))
                return FALSE;
        g_mutex_lock(&self->engine->lock);
        r = ss_snapshot_usage(self->engine->store, id, ret_usage);
        if (r < 0)
                volume_engine_error(self, r, "cannot measure the snapshot", error);
        g_mutex_unlock(&self->engine->lock);
        return r == 0;
}
