/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume's snapshots: one plain ZumaSnapshotRecord per snapshot the
 * volume knows (the engine's record and its device), kept in step with
 * the engine and announced with "snapshot-added", "-changed" and
 * "-removed" (ZumaVolumeFace follows them with one ZumaSnapshotFace per
 * record); and the snapshot operations behind the Volume interface's
 * CreateSnapshot and FindSnapshot and the Snapshot interface's methods.
 * Stands on zuma-volume-state.c only.
 *
 * Order of work, so that a failure leaves no half state the caller cannot
 * see: arguments are checked first, then the device (a busy device fails
 * before the store changes), then the engine, then the records and the
 * signals ("snapshot-created", "snapshot-deleted").
 *
 * Attachment is on demand: a snapshot gets a device when it is created
 * with "attach", or by Attach, and keeps it across restarts (the volume's
 * definition lists it) until Detach or its deletion.  Stopping the volume
 * detaches every device but forgets none of that.
 */
#define G_LOG_DOMAIN "zuma-volume"

#include "zuma-volume-snapshots.h"

#include "zuma-error.h"
#include "zuma-options.h"

/* Attach failures at start logged one by one; the rest are counted. */
#define ATTACH_WARNINGS 3

static ZumaSnapshotRecord *lookup_snapshot(ZumaVolume *self, guint32 id, GError **error)
{
        ZumaSnapshotRecord *snapshot = g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(id));

        if (!snapshot)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "snapshot %u of volume %s no longer exists", id, self->config->name);
        return snapshot;
}

ZumaSnapshotRecord *volume_lookup_snapshot(ZumaVolume *self, guint32 id, GError **error)
{
        if (!volume_require_running(self, error))
                return NULL;
        return lookup_snapshot(self, id, error);
}

ZumaSnapshotRecord *volume_lookup_snapshot_to_read(ZumaVolume *self, guint32 id, GError **error)
{
        if (!volume_require_readable(self, error))
                return NULL;
        return lookup_snapshot(self, id, error);
}

static ZumaSnapshotRecord *find_snapshot(ZumaVolume *self, const char *name, GError **error);

ZumaSnapshotRecord *volume_find_snapshot(ZumaVolume *self, const char *name, GError **error)
{
        if (!volume_require_running(self, error))
                return NULL;
        return find_snapshot(self, name, error);
}

ZumaSnapshotRecord *volume_find_snapshot_to_read(ZumaVolume *self, const char *name, GError **error)
{
        if (!volume_require_readable(self, error))
                return NULL;
        return find_snapshot(self, name, error);
}

gboolean zuma_volume_find_snapshot(ZumaVolume *self, const char *name, guint32 *ret_id,
                                   GError **error)
{
        ZumaSnapshotRecord *snapshot = volume_find_snapshot_to_read(self, name, error);

        if (!snapshot)
                return FALSE;
        *ret_id = snapshot_record_id(snapshot);
        return TRUE;
}

static int compare_record_ids(gconstpointer a, gconstpointer b)
{
        guint32 x = snapshot_record_id(*(ZumaSnapshotRecord *const *)a);
        guint32 y = snapshot_record_id(*(ZumaSnapshotRecord *const *)b);

        return x < y ? -1 : x > y;
}

GPtrArray *zuma_volume_list_snapshots(ZumaVolume *self, GError **error)
{
        GPtrArray *records;
        GHashTableIter iter;
        gpointer value;

        if (!volume_require_readable(self, error))
                return NULL;
        records = g_ptr_array_sized_new(g_hash_table_size(self->snapshots));
        g_hash_table_iter_init(&iter, self->snapshots);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                g_ptr_array_add(records, value);
        g_ptr_array_sort(records, compare_record_ids);
        return records;
}

static void set_no_such_name(ZumaVolume *self, const char *name, GError **error)
{
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "volume %s has no snapshot named %s",
                    self->config->name, name);
}

static ZumaSnapshotRecord *find_snapshot(ZumaVolume *self, const char *name, GError **error)
{
        GHashTableIter iter;
        gpointer value;

        if (!zuma_check_snapshot_name(name, error))
                return NULL;
        g_hash_table_iter_init(&iter, self->snapshots);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                if (g_str_equal(snapshot_record_name(value), name))
                        return value;
        set_no_such_name(self, name, error);
        return NULL;
}

GHashTable *volume_index_snapshot_names(ZumaVolume *self, GError **error)
{
        GHashTable *index;
        GHashTableIter iter;
        gpointer value;

        if (!volume_require_running(self, error))
                return NULL;
        index = g_hash_table_new(g_str_hash, g_str_equal);
        g_hash_table_iter_init(&iter, self->snapshots);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                g_hash_table_insert(index, (gpointer)snapshot_record_name(value), value);
        return index;
}

ZumaSnapshotRecord *volume_find_snapshot_in(ZumaVolume *self, GHashTable *index, const char *name,
                                            GError **error)
{
        ZumaSnapshotRecord *snapshot;

        if (!zuma_check_snapshot_name(name, error))
                return NULL;
        snapshot = g_hash_table_lookup(index, name);
        if (!snapshot)
                set_no_such_name(self, name, error);
        return snapshot;
}

static void snapshot_record_free(gpointer data)
{
        ZumaSnapshotRecord *s = data;

        g_free(s->device);
        g_free(s);
}

void snapshot_record_update(ZumaSnapshotRecord *s, const SsSnapshotInfo *info)
{
        s->info = *info;
        g_signal_emit(s->volume, volume_signals[VOLUME_SIGNAL_SNAPSHOT_CHANGED], 0,
                      (guint)s->info.id);
}

void snapshot_record_set_device(ZumaSnapshotRecord *s, const char *device)
{
        if (g_strcmp0(s->device, device ? device : "") == 0)
                return;
        g_free(s->device);
        s->device = g_strdup(device ? device : "");
        g_signal_emit(s->volume, volume_signals[VOLUME_SIGNAL_SNAPSHOT_CHANGED], 0,
                      (guint)s->info.id);
}

const ZumaSnapshotRecord *zuma_volume_get_snapshot(ZumaVolume *self, guint32 id)
{
        return g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(id));
}

char *zuma_volume_dup_snapshot_path(ZumaVolume *self, guint32 id)
{
        return g_strdup_printf("%s/snapshots/%u", zuma_volume_get_object_path(self), id);
}

GHashTable *volume_new_snapshot_table(void)
{
        return g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, snapshot_record_free);
}

static ZumaSnapshotRecord *add_snapshot(ZumaVolume *self, const SsSnapshotInfo *info)
{
        ZumaSnapshotRecord *snapshot = g_new0(ZumaSnapshotRecord, 1);

        snapshot->volume = self;
        snapshot->info = *info;
        snapshot->device = g_strdup("");
        g_hash_table_insert(self->snapshots, GUINT_TO_POINTER(info->id), snapshot);
        g_signal_emit(self, volume_signals[VOLUME_SIGNAL_SNAPSHOT_ADDED], 0, (guint)info->id);
        return snapshot;
}

/* Takes the records of engine: the ones already known are updated, new
 * ones added, and those the store no longer holds forgotten (no
 * SnapshotDeleted: nobody deleted them while the volume ran). */
static gboolean sync_snapshots(ZumaVolume *self, ZumaEngine *engine, GError **error)
{
        g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_autoptr(GList) ids = NULL;
        SsSnapshotInfo info;
        guint32 after = 0;
        int r;

        for (;;) {
                ZumaSnapshotRecord *known;

                r = zuma_engine_snapshot_next(engine, after, &info);
                if (r == -ENOENT)
                        break;
                if (r < 0)
                        return zuma_engine_set_error(error, r, "cannot list the snapshots");
                known = g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(info.id));
                if (known)
                        snapshot_record_update(known, &info);
                else
                        add_snapshot(self, &info);
                g_hash_table_add(seen, GUINT_TO_POINTER(info.id));
                after = info.id;
        }
        ids = g_hash_table_get_keys(self->snapshots);
        for (GList *l = ids; l; l = l->next)
                if (!g_hash_table_contains(seen, l->data)) {
                        g_signal_emit(self, volume_signals[VOLUME_SIGNAL_SNAPSHOT_REMOVED], 0,
                                      GPOINTER_TO_UINT(l->data));
                        g_hash_table_remove(self->snapshots, l->data);
                }
        return TRUE;
}

gboolean volume_load_snapshots(ZumaVolume *self, GError **error)
{
        return sync_snapshots(self, self->engine, error);
}

void volume_list_stored_snapshots(ZumaVolume *self)
{
        g_autoptr(GError) error = NULL;
        ZumaEngine *engine;

        /* Only the newest commit: an older one's snapshots may be gone. */
        engine = zuma_engine_open_flags(self->config->origin_device, self->config->store_device,
                                        SS_OPEN_READONLY, NULL, NULL, NULL, &error);
        if (engine) {
                sync_snapshots(self, engine, &error);
                zuma_engine_close(engine, NULL);
        }
        if (error)
                g_debug("volume %s: its snapshots are not listed while it is stopped: %s",
                        self->config->name, error->message);
}

GArray *zuma_volume_dup_snapshot_ids(ZumaVolume *self)
{
        GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint32));
        GHashTableIter iter;
        gpointer key;

        g_hash_table_iter_init(&iter, self->snapshots);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
                guint32 id = GPOINTER_TO_UINT(key);

                g_array_append_val(ids, id);
        }
        return ids;
}

/* Records whether the snapshot is to be attached when the volume starts. */
static void remember_attached(ZumaVolume *self, guint32 id, gboolean attached)
{
        if (zuma_volume_config_set_snapshot_attached(self->config, id, attached))
                volume_save_config_or_warn(self);
}

static gboolean attach_snapshot(ZumaVolume *self, ZumaSnapshotRecord *snapshot, GError **error)
{
        ZumaFrontend *frontend = volume_frontend(self);
        g_autofree char *device = NULL;

        if (!frontend) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED,
                            "the server runs without a data frontend (--frontend=none)");
                return FALSE;
        }
        if (!zuma_frontend_attach(frontend, self->config->name, snapshot_record_id(snapshot),
                                  snapshot_record_name(snapshot),
                                  snapshot_record_writable(snapshot), &device, error))
                return FALSE;
        if (!g_str_equal(device, snapshot_record_device(snapshot)))
                g_message("volume %s: snapshot %s attached as %s", self->config->name,
                          snapshot_record_name(snapshot), device);
        snapshot_record_set_device(snapshot, device);
        remember_attached(self, snapshot_record_id(snapshot), TRUE);
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
                ZumaSnapshotRecord *snapshot =
                        g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(id));
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
                                  snapshot_record_name(snapshot), error->message);
                else
                        g_debug("volume %s: cannot attach snapshot %s: %s", self->config->name,
                                snapshot_record_name(snapshot), error->message);
        }
        if (failed > ATTACH_WARNINGS)
                g_warning("volume %s: %u snapshots have no device (Attach retries)",
                          self->config->name, failed);
        if (gone > 0)
                volume_save_config_or_warn(self);
}

static gboolean detach_snapshot(ZumaVolume *self, ZumaSnapshotRecord *snapshot, gboolean force,
                                GError **error)
{
        ZumaFrontend *frontend = volume_frontend(self);
        gboolean attached = snapshot_record_device(snapshot)[0] != '\0';

        if (!frontend || !self->frontend_added)
                return TRUE;
        if (!zuma_frontend_detach(frontend, self->config->name, snapshot_record_id(snapshot), force,
                                  error)) {
                g_prefix_error(error, "snapshot %s: ", snapshot_record_name(snapshot));
                return FALSE;
        }
        if (attached)
                g_message("volume %s: snapshot %s detached", self->config->name,
                          snapshot_record_name(snapshot));
        snapshot_record_set_device(snapshot, "");
        return TRUE;
}

void volume_drop_snapshot(ZumaVolume *self, ZumaSnapshotRecord *snapshot, const char *reason)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *name = g_strdup(snapshot_record_name(snapshot));
        guint32 id = snapshot_record_id(snapshot);

        if (!detach_snapshot(self, snapshot, TRUE, &error))
                g_warning("volume %s: %s", self->config->name, error->message);
        /* Faces let go of it first; the table frees the record. */
        g_signal_emit(self, volume_signals[VOLUME_SIGNAL_SNAPSHOT_REMOVED], 0, (guint)id);
        g_hash_table_remove(self->snapshots, GUINT_TO_POINTER(id));
        if (reason) {
                /* Deleted, not just stopped: nothing to attach next time. */
                remember_attached(self, id, FALSE);
                g_signal_emit(self, volume_signals[VOLUME_SIGNAL_SNAPSHOT_DELETED], 0, (guint)id,
                              name, reason);
        }
}

void volume_detach_all_snapshots(ZumaVolume *self)
{
        g_autoptr(GList) snapshots = g_hash_table_get_values(self->snapshots);

        for (GList *l = snapshots; l; l = l->next) {
                g_autoptr(GError) error = NULL;

                if (!detach_snapshot(self, l->data, TRUE, &error))
                        g_warning("volume %s: %s", self->config->name, error->message);
        }
}

void volume_drop_all_snapshots(ZumaVolume *self)
{
        g_autoptr(GList) snapshots = g_hash_table_get_values(self->snapshots);

        for (GList *l = snapshots; l; l = l->next)
                volume_drop_snapshot(self, l->data, NULL);
}

gboolean volume_delete_one(ZumaVolume *self, ZumaSnapshotRecord *snapshot, gboolean force,
                           GError **error)
{
        ZumaEngine *engine = self->engine;
        g_autofree char *name = g_strdup(snapshot_record_name(snapshot));
        gboolean had_device = snapshot_record_device(snapshot)[0] != '\0';
        guint32 id = snapshot_record_id(snapshot);
        int r;

        if (!volume_require_not_held(self, id, name, error))
                return FALSE;
        if (!detach_snapshot(self, snapshot, force, error))
                return FALSE;
        r = zuma_engine_snapshot_delete(engine, id);
        if (r < 0)
                volume_engine_error(self, r, "cannot delete the snapshot", error);
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

void volume_add_created_snapshot(ZumaVolume *self, const SsSnapshotInfo *info)
{
        add_snapshot(self, info);
        g_message("volume %s: snapshot %u (%s) created", self->config->name, info->id, info->name);
        g_signal_emit(self, volume_signals[VOLUME_SIGNAL_SNAPSHOT_CREATED], 0, (guint)info->id,
                      info->name);
        volume_refresh(self);
}

gboolean zuma_volume_create_snapshot(ZumaVolume *self, const char *name, gint32 priority,
                                     ZumaSnapshotCreateFlags flags, char **ret_path,
                                     char **ret_name, GError **error)
{
        ZumaEngine *engine;
        ZumaSnapshotRecord *snapshot;
        SsSnapshotInfo info;
        g_autofree char *path = NULL;
        gboolean pinned = (flags & ZUMA_SNAPSHOT_CREATE_PINNED) != 0;
        gboolean writable = (flags & ZUMA_SNAPSHOT_CREATE_WRITABLE) != 0;
        gboolean attach = (flags & ZUMA_SNAPSHOT_CREATE_ATTACH) != 0;
        int r;

        if (name[0] && !zuma_check_snapshot_name(name, error))
                return FALSE;
        if (!volume_require_running(self, error))
                return FALSE;
        if (!volume_require_no_revert(self, "snapshot it", error))
                return FALSE;
        /* A snapshot of a half-applied stream would look like a replica. */
        if (!volume_require_no_receive(self, "snapshot it", error))
                return FALSE;
        if (g_hash_table_size(self->snapshots) >= ZUMA_MAX_SNAPSHOTS) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_LIMIT_EXCEEDED,
                            "volume %s holds %u snapshots, the most this server allows",
                            self->config->name, (guint)ZUMA_MAX_SNAPSHOTS);
                return FALSE;
        }
        engine = self->engine;
        r = zuma_engine_snapshot_create(
                engine, name[0] ? name : NULL,
                (writable ? SS_SNAP_WRITABLE : 0) | (pinned ? SS_SNAP_PINNED : 0), priority, &info);
        if (r < 0)
                volume_engine_error(self, r, "cannot create the snapshot", error);
        if (r < 0)
                return FALSE;

        snapshot = add_snapshot(self, &info);
        g_message("volume %s: snapshot %u (%s) created%s%s", self->config->name, info.id, info.name,
                  writable ? ", writable" : "", pinned ? ", pinned" : "");
        if (attach && volume_frontend(self)) {
                g_autoptr(GError) local = NULL;

                /* The snapshot exists either way; Attach can retry. */
                if (!attach_snapshot(self, snapshot, &local))
                        g_warning("volume %s: cannot attach snapshot %s: %s", self->config->name,
                                  info.name, local->message);
        }
        path = zuma_volume_dup_snapshot_path(self, info.id);
        g_signal_emit(self, volume_signals[VOLUME_SIGNAL_SNAPSHOT_CREATED], 0, (guint)info.id,
                      info.name);
        volume_refresh(self);
        *ret_path = g_steal_pointer(&path);
        *ret_name = g_strdup(info.name);
        return TRUE;
}

gboolean zuma_volume_delete_snapshot(ZumaVolume *self, guint32 id, gboolean force, GError **error)
{
        ZumaSnapshotRecord *snapshot = volume_lookup_snapshot(self, id, error);

        if (!snapshot)
                return FALSE;
        if (!volume_require_no_revert(self, "delete snapshots", error))
                return FALSE;
        return volume_delete_one(self, snapshot, force, error);
}

/* Ends a change of a snapshot's record, right after the engine call that
 * returned r and the record *info: the object takes the record, or error
 * says what failed.  Returns whether the change was made. */
static gboolean change_done(ZumaVolume *self, ZumaSnapshotRecord *snapshot, int r,
                            const SsSnapshotInfo *info, const char *what, GError **error)
{
        if (r < 0)
                return volume_engine_error(self, r, what, error);
        snapshot_record_update(snapshot, info);
        return TRUE;
}

static void update_frontend(ZumaVolume *self, ZumaSnapshotRecord *snapshot)
{
        ZumaFrontend *frontend = volume_frontend(self);
        g_autoptr(GError) error = NULL;

        if (!frontend || !self->frontend_added)
                return;
        if (!zuma_frontend_update(frontend, self->config->name, snapshot_record_id(snapshot),
                                  snapshot_record_name(snapshot),
                                  snapshot_record_writable(snapshot), &error))
                g_warning("volume %s: snapshot %s: %s", self->config->name,
                          snapshot_record_name(snapshot), error->message);
}

gboolean zuma_volume_rename_snapshot(ZumaVolume *self, guint32 id, const char *name, GError **error)
{
        ZumaSnapshotRecord *snapshot;
        g_autofree char *old_name = NULL;
        SsSnapshotInfo info;
        gboolean done;
        int r;

        if (!zuma_check_snapshot_name(name, error))
                return FALSE;
        snapshot = volume_lookup_snapshot(self, id, error);
        if (!snapshot)
                return FALSE;
        old_name = g_strdup(snapshot_record_name(snapshot));
        r = zuma_engine_snapshot_rename(self->engine, id, name, &info);
        done = change_done(self, snapshot, r, &info, "cannot rename the snapshot", error);
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
        ZumaSnapshotRecord *snapshot = volume_lookup_snapshot(self, id, error);
        SsSnapshotInfo info;
        gboolean done;
        int r;

        if (!snapshot)
                return FALSE;
        r = zuma_engine_snapshot_set_priority(self->engine, id, priority, &info);
        done = change_done(self, snapshot, r, &info, "cannot set the snapshot's priority", error);
        if (!done)
                return FALSE;
        g_message("volume %s: snapshot %s priority %d", self->config->name,
                  snapshot_record_name(snapshot), priority);
        return TRUE;
}

static gboolean set_flag(ZumaVolume *self, ZumaSnapshotRecord *snapshot, guint32 flag, gboolean on,
                         GError **error)
{
        SsSnapshotInfo info;
        int r;

        r = zuma_engine_snapshot_set_flags(self->engine, snapshot_record_id(snapshot),
                                           on ? flag : 0, on ? 0 : flag, &info);
        return change_done(self, snapshot, r, &info, "cannot change the snapshot", error);
}

gboolean zuma_volume_set_snapshot_pinned(ZumaVolume *self, guint32 id, gboolean pinned,
                                         GError **error)
{
        ZumaSnapshotRecord *snapshot = volume_lookup_snapshot(self, id, error);

        if (!snapshot || !set_flag(self, snapshot, SS_SNAP_PINNED, pinned, error))
                return FALSE;
        g_message("volume %s: snapshot %s %s", self->config->name, snapshot_record_name(snapshot),
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
        ZumaSnapshotRecord *snapshot = volume_lookup_snapshot(self, id, error);
        ZumaFrontend *frontend = volume_frontend(self);
        g_autoptr(GError) local = NULL;
        gboolean attached;

        if (!snapshot)
                return FALSE;
        if (snapshot_record_writable(snapshot) == writable)
                return TRUE;
        if (frontend && zuma_frontend_is_busy(frontend, self->config->name, id)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                            "snapshot %s: device %s is open or mounted; unmount it first (its "
                            "device is attached again in the new mode)",
                            snapshot_record_name(snapshot), snapshot_record_device(snapshot));
                return FALSE;
        }
        attached = snapshot_record_device(snapshot)[0] != '\0';
        if (attached && !detach_snapshot(self, snapshot, FALSE, error))
                return FALSE;
        if (!set_flag(self, snapshot, SS_SNAP_WRITABLE, writable, error)) {
                if (attached && self->state == VOLUME_RUNNING &&
                    !attach_snapshot(self, snapshot, &local))
                        g_warning("volume %s: cannot attach snapshot %s again: %s",
                                  self->config->name, snapshot_record_name(snapshot),
                                  local->message);
                return FALSE;
        }
        g_message("volume %s: snapshot %s %s", self->config->name, snapshot_record_name(snapshot),
                  writable ? "writable" : "read-only");
        update_frontend(self, snapshot);
        if (attached && !attach_snapshot(self, snapshot, &local)) {
                g_set_error(error, ZUMA_ERROR,
                            local->domain == ZUMA_ERROR ? local->code : ZUMA_ERROR_FAILED,
                            "snapshot %s is now %s, but its device could not be attached again "
                            "(Attach retries): %s",
                            snapshot_record_name(snapshot), writable ? "writable" : "read-only",
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
        ZumaSnapshotRecord *snapshot = volume_lookup_snapshot_to_read(self, id, error);

        if (!snapshot || !attach_snapshot(self, snapshot, error))
                return FALSE;
        *ret_device = g_strdup(snapshot_record_device(snapshot));
        return TRUE;
}

gboolean zuma_volume_detach_snapshot(ZumaVolume *self, guint32 id, gboolean force, GError **error)
{
        ZumaSnapshotRecord *snapshot = volume_lookup_snapshot_to_read(self, id, error);

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
        r = zuma_engine_snapshot_usage(self->engine, id, ret_usage);
        if (r < 0)
                volume_engine_error(self, r, "cannot measure the snapshot", error);
        return r == 0;
}
