/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume life cycle: start, stop, failure, store figures and usage
 * thresholds, background cleanup.  The Volume interface's methods are in
 * zuma-volume-methods.c.
 *
 * Start opens both devices exclusively through ZumaEngine, checks that the
 * store belongs to this volume, makes the volume known to the frontend,
 * exports one object per snapshot and attaches the origin and the
 * snapshots that were attached when the volume last ran (the definition
 * keeps their ids; see zuma-volume-config.h).  A revert that a crash interrupted is finished first, by a
 * revert job; the origin is attached when it is done.
 *
 * Stop refuses while a device of the volume is open (unless forced), then
 * ends the volume's jobs, detaches every device, drops the snapshot
 * objects and closes the engine.
 *
 * The engine reports two events on the main loop: a snapshot the full
 * policy deleted (SnapshotDeleted with reason "store-full") and a failed
 * I/O or commit, or metadata found damaged (state "failed", Failed and
 * Stopped "failed").  A failed I/O fails every later engine call until
 * Stop and Start.  Damage (like ext4's errors=remount-ro) stops every
 * change at once, the moment the engine notes it (volume_require_running
 * asks the engine, not only the state): no commit, no cleanup step, no
 * job step, no change of the store's settings; the devices stay attached
 * and serve what can still be read.  The damage is recorded in the
 * definition, so a server restart leaves the volume failed; only an
 * administrator's Start opens the store again.
 *
 * Usage thresholds: the share of the store in use (data and metadata) is
 * sampled after each operation and every REFRESH_INTERVAL_S, since origin
 * writes from the frontend change it behind the bus's back.  Crossing 80,
 * 90 or 95 % upwards emits UsageThreshold(percent, true); falling
 * THRESHOLD_HYSTERESIS points below emits (percent, false), so a store
 * hovering at a threshold does not flood the bus.  The level found when
 * the volume starts is taken silently.
 */
#define G_LOG_DOMAIN "zuma-volume"

#include "zuma-volume-private.h"

#include <sys/stat.h>

#include "zuma-error.h"
#include "zuma-options.h"

#define REFRESH_INTERVAL_S 1
#define CLEANUP_INTERVAL_MS 2
#define CLEANUP_BUDGET 256
#define THRESHOLD_HYSTERESIS 2.0

static const guint thresholds[] = { 80, 90, 95 };

G_DEFINE_TYPE(ZumaVolume, zuma_volume, G_TYPE_OBJECT)

const char *zuma_volume_get_name(ZumaVolume *self)
{
        return self->config->name;
}

const char *zuma_volume_get_object_path(ZumaVolume *self)
{
        return self->object_path;
}

GDBusObjectSkeleton *zuma_volume_get_object(ZumaVolume *self)
{
        return G_DBUS_OBJECT_SKELETON(self->object);
}

const ZumaVolumeConfig *zuma_volume_get_config(ZumaVolume *self)
{
        return self->config;
}

ZumaAuth *zuma_volume_get_auth(ZumaVolume *self)
{
        return zuma_manager_get_auth(self->manager);
}

gboolean zuma_volume_is_running(ZumaVolume *self)
{
        return self->state == VOLUME_RUNNING;
}

static gboolean engine_failed(ZumaEngine *engine)
{
        return g_atomic_int_get((gint *)&engine->failed);
}

gboolean zuma_volume_is_readable(ZumaVolume *self)
{
        return !self->forgotten && self->engine && !engine_failed(self->engine) &&
               (self->state == VOLUME_RUNNING || self->state == VOLUME_FAILED);
}

/* Whether the store may be changed now: the engine may have found damage
 * or failed an I/O on a FUSE thread before its event reached the state. */
static gboolean store_changeable(ZumaVolume *self)
{
        return self->state == VOLUME_RUNNING && self->engine && !engine_failed(self->engine) &&
               !zuma_engine_is_damaged(self->engine);
}

gboolean zuma_volume_is_stopped(ZumaVolume *self)
{
        return self->state == VOLUME_STOPPED;
}

ZumaFrontend *volume_frontend(ZumaVolume *self)
{
        return zuma_manager_get_frontend(self->manager);
}

static const char *state_name(VolumeState state)
{
        switch (state) {
        case VOLUME_RUNNING:
                return "running";
        case VOLUME_FAILED:
                return "failed";
        case VOLUME_STOPPED:
        default:
                return "stopped";
        }
}

static void set_state(ZumaVolume *self, VolumeState state)
{
        self->state = state;
        zuma_bus_volume_set_state(self->iface, state_name(state));
}

static void set_last_error(ZumaVolume *self, const char *message)
{
        g_autofree char *valid = g_utf8_make_valid(message, -1);

        zuma_bus_volume_set_last_error(self->iface, valid);
}

void volume_set_device(ZumaVolume *self, const char *device)
{
        zuma_bus_volume_set_device(self->iface, device ? device : "");
}

gboolean zuma_volume_save_config(ZumaVolume *self, GError **error)
{
        return zuma_volume_config_save(self->config, zuma_manager_get_volumes_dir(self->manager),
                                       error);
}

void volume_save_config_or_warn(ZumaVolume *self)
{
        g_autoptr(GError) error = NULL;

        if (!zuma_volume_save_config(self, &error))
                g_warning("volume %s: %s", self->config->name, error->message);
}

static gboolean same_file(const char *a, const struct stat *sb)
{
        struct stat sa;

        if (stat(a, &sa) < 0)
                return FALSE;
        if (S_ISBLK(sa.st_mode) && S_ISBLK(sb->st_mode))
                return sa.st_rdev == sb->st_rdev;
        return !S_ISBLK(sa.st_mode) && !S_ISBLK(sb->st_mode) && sa.st_dev == sb->st_dev &&
               sa.st_ino == sb->st_ino;
}

gboolean zuma_volume_uses_device(ZumaVolume *self, const char *path)
{
        struct stat st;

        if (g_str_equal(path, self->config->origin_device) ||
            g_str_equal(path, self->config->store_device))
                return TRUE;
        if (stat(path, &st) < 0)
                return FALSE;
        return same_file(self->config->origin_device, &st) ||
               same_file(self->config->store_device, &st);
}

gboolean volume_require_known(ZumaVolume *self, GError **error)
{
        if (!self->forgotten)
                return TRUE;
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "volume %s no longer exists",
                    self->config->name);
        return FALSE;
}

gboolean volume_require_running(ZumaVolume *self, GError **error)
{
        const char *last_error = zuma_bus_volume_get_last_error(self->iface);

        if (!volume_require_known(self, error))
                return FALSE;
        if (store_changeable(self))
                return TRUE;
        if (self->engine && zuma_engine_is_damaged(self->engine)) {
                g_autofree char *damage = zuma_engine_dup_damage(self->engine);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT,
                            "volume %s: the store is damaged (%s); nothing is changed in it "
                            "until an administrator checks it and starts the volume again",
                            self->config->name, damage);
        } else if (self->state == VOLUME_FAILED && last_error[0]) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING, "volume %s is failed: %s",
                            self->config->name, last_error);
        } else {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING, "volume %s is %s",
                            self->config->name,
                            self->state == VOLUME_RUNNING ? "failed" : state_name(self->state));
        }
        return FALSE;
}

gboolean volume_require_readable(ZumaVolume *self, GError **error)
{
        if (!volume_require_known(self, error))
                return FALSE;
        if (zuma_volume_is_readable(self))
                return TRUE;
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING, "volume %s is %s",
                    self->config->name, state_name(self->state));
        return FALSE;
}

gboolean volume_require_no_revert(ZumaVolume *self, const char *what_next, GError **error)
{
        if (!self->revert_job)
                return TRUE;
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                    "volume %s is being reverted; %s when the revert is done", self->config->name,
                    what_next);
        return FALSE;
}

gboolean volume_engine_error(ZumaVolume *self, int r, const char *what, GError **error)
{
        zuma_engine_note_error(self->engine, r);
        return zuma_engine_set_error(error, r, what);
}

static void on_job_completed(ZumaJob *job, ZumaVolume *self);

void volume_track_job(ZumaVolume *self, ZumaJob *job)
{
        g_ptr_array_add(self->jobs, g_object_ref(job));
        /* Jobs tell the volume when they end, so it can forget them. */
        g_signal_connect_object(job, "completed", G_CALLBACK(on_job_completed), self, 0);
}

static void end_jobs(ZumaVolume *self, ZumaError code, const char *message)
{
        g_autoptr(GError) error = g_error_new_literal(ZUMA_ERROR, code, message);
        g_autoptr(GPtrArray) jobs = g_steal_pointer(&self->jobs);

        self->jobs = g_ptr_array_new_with_free_func(g_object_unref);
        for (guint i = 0; i < jobs->len; i++)
                zuma_job_abort(jobs->pdata[i], error);
}

static void forget_finished_jobs(ZumaVolume *self)
{
        for (guint i = self->jobs->len; i-- > 0;)
                if (zuma_job_is_finished(self->jobs->pdata[i]))
                        g_ptr_array_remove_index(self->jobs, i);
}

/* --- store figures, thresholds, cleanup --- */

static void clear_figures(ZumaVolume *self)
{
        zuma_bus_volume_set_origin_size(self->iface, 0);
        zuma_bus_volume_set_store_size(self->iface, 0);
        zuma_bus_volume_set_store_data_bytes(self->iface, 0);
        zuma_bus_volume_set_store_metadata_bytes(self->iface, 0);
        zuma_bus_volume_set_store_free_bytes(self->iface, 0);
        zuma_bus_volume_set_snapshot_count(self->iface, 0);
}

static void update_thresholds(ZumaVolume *self, const SsStoreInfo *info, gboolean emit)
{
        double used;

        if (!info->store_size)
                return;
        used = 100.0 * (double)(info->store_size - MIN(info->free_bytes, info->store_size)) /
               (double)info->store_size;
        for (guint i = 0; i < G_N_ELEMENTS(thresholds); i++) {
                if (used < thresholds[i] || self->usage_level >= thresholds[i])
                        continue;
                self->usage_level = thresholds[i];
                if (!emit)
                        continue;
                g_message("volume %s: store usage above %u%% (%.1f%%)", self->config->name,
                          thresholds[i], used);
                zuma_bus_volume_emit_usage_threshold(self->iface, thresholds[i], TRUE);
        }
        for (guint i = G_N_ELEMENTS(thresholds); i-- > 0;) {
                if (self->usage_level < thresholds[i] ||
                    used >= thresholds[i] - THRESHOLD_HYSTERESIS)
                        continue;
                self->usage_level = i ? thresholds[i - 1] : 0;
                if (!emit)
                        continue;
                g_message("volume %s: store usage back below %u%% (%.1f%%)", self->config->name,
                          thresholds[i], used);
                zuma_bus_volume_emit_usage_threshold(self->iface, thresholds[i], FALSE);
        }
}

static void kick_cleanup(ZumaVolume *self);

/* periodic: a timer's sampling, which skips a round rather than wait for
 * the engine lock: FUSE workers hold it across copy-outs, and a slow
 * store must not stall the main loop every second. */
static void refresh(ZumaVolume *self, gboolean emit, gboolean periodic)
{
        SsStoreInfo info;
        int r;

        if (self->state != VOLUME_RUNNING || !self->engine)
                return;
        if (periodic) {
                if (!g_mutex_trylock(&self->engine->lock))
                        return;
        } else {
                g_mutex_lock(&self->engine->lock);
        }
        r = ss_store_info(self->engine->store, &info);
        g_mutex_unlock(&self->engine->lock);
        if (r < 0)
                return;
        zuma_bus_volume_set_origin_size(self->iface, info.origin_size);
        zuma_bus_volume_set_store_size(self->iface, info.store_size);
        zuma_bus_volume_set_store_data_bytes(self->iface, info.data_bytes);
        zuma_bus_volume_set_store_metadata_bytes(self->iface, info.metadata_bytes);
        zuma_bus_volume_set_store_free_bytes(self->iface, info.free_bytes);
        zuma_bus_volume_set_snapshot_count(self->iface, info.snapshot_count);
        zuma_bus_volume_set_chunk_size(self->iface, info.chunk_size);
        update_thresholds(self, &info, emit);
        if (info.cleanup_jobs > 0)
                kick_cleanup(self);
}

void volume_refresh(ZumaVolume *self)
{
        refresh(self, TRUE, FALSE);
}

static gboolean on_refresh(gpointer user_data)
{
        refresh(user_data, TRUE, TRUE);
        return G_SOURCE_CONTINUE;
}

static gboolean on_cleanup(gpointer user_data)
{
        ZumaVolume *self = user_data;
        g_autoptr(GError) error = NULL;
        int r;

        if (!store_changeable(self)) {
                self->cleanup_id = 0;
                return G_SOURCE_REMOVE;
        }
        /* Another round, rather than a main loop waiting for the engine
         * lock (see refresh()). */
        if (!g_mutex_trylock(&self->engine->lock))
                return G_SOURCE_CONTINUE;
        r = ss_cleanup_step(self->engine->store, CLEANUP_BUDGET);
        if (r < 0)
                volume_engine_error(self, r, "freeing deleted snapshots failed", &error);
        g_mutex_unlock(&self->engine->lock);
        if (r > 0)
                return G_SOURCE_CONTINUE;
        self->cleanup_id = 0;
        if (r < 0) {
                g_warning("volume %s: %s", self->config->name, error->message);
                self->cleanup_broken = TRUE;
        } else {
                g_debug("volume %s: deleted snapshots' space freed", self->config->name);
        }
        volume_refresh(self);
        return G_SOURCE_REMOVE;
}

static void kick_cleanup(ZumaVolume *self)
{
        if (self->cleanup_id || self->cleanup_broken || !store_changeable(self))
                return;
        self->cleanup_id = g_timeout_add(CLEANUP_INTERVAL_MS, on_cleanup, self);
}

/* --- engine events --- */

static void on_engine_autodeleted(gpointer user, guint32 id, const char *name)
{
        ZumaVolume *self = user;
        ZumaSnapshot *snapshot = g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(id));

        g_message("volume %s: store full, snapshot %u (%s) deleted to make room",
                  self->config->name, id, name);
        if (snapshot)
                volume_drop_snapshot(self, snapshot, "store-full");
        else {
                /* Never loaded as an object; its path is still the one it had. */
                g_autofree char *path = g_strdup_printf("%s/snapshots/%u", self->object_path, id);

                zuma_bus_volume_emit_snapshot_deleted(self->iface, path, id, name, "store-full");
        }
        volume_refresh(self);
}

/* The volume goes to "failed" with message as LastError, and says so on
 * the bus (Failed; Stopped "failed" too when it was running). */
static void enter_failed(ZumaVolume *self, gboolean was_running, const char *message)
{
        set_state(self, VOLUME_FAILED);
        set_last_error(self, message);
        g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self->iface));
        zuma_bus_volume_emit_failed(self->iface, zuma_bus_volume_get_last_error(self->iface));
        if (was_running)
                zuma_bus_volume_emit_stopped(self->iface, "failed");
}

static void on_engine_failed(gpointer user, const char *message)
{
        ZumaVolume *self = user;
        gboolean damaged = self->engine && zuma_engine_is_damaged(self->engine);
        g_autofree char *why = NULL;
        g_autofree char *last_error = NULL;

        if (self->state != VOLUME_RUNNING)
                return;
        g_warning("volume %s failed: %s", self->config->name, message);
        if (damaged) {
                g_autofree char *damage = zuma_engine_dup_damage(self->engine);

                last_error = g_strdup_printf(
                        "%s; nothing more is written to store %s, and what does not need the "
                        "damaged metadata stays readable: check the store (zumastor-check), "
                        "then Stop and Start the volume",
                        message, self->config->store_device);
                /* A server restart must not start it again on its own. */
                g_free(self->config->damage);
                self->config->damage = g_strdup(damage ? damage : message);
                volume_save_config_or_warn(self);
        }
        /* Failed before the jobs end, so that they see it (a deletion
         * stays pending, to be resumed by the next start). */
        set_state(self, VOLUME_FAILED);
        g_clear_handle_id(&self->refresh_id, g_source_remove);
        g_clear_handle_id(&self->cleanup_id, g_source_remove);
        why = g_strdup_printf("volume %s failed: %s", self->config->name, message);
        end_jobs(self, damaged ? ZUMA_ERROR_CORRUPT : ZUMA_ERROR_IO, why);
        enter_failed(self, TRUE, last_error ? last_error : message);
}

static const ZumaEngineCallbacks engine_callbacks = {
        .autodeleted = on_engine_autodeleted,
        .failed = on_engine_failed,
};

/* --- start and stop --- */

gboolean volume_attach_origin(ZumaVolume *self, GError **error)
{
        ZumaFrontend *frontend = volume_frontend(self);
        g_autofree char *device = NULL;

        if (!frontend)
                return TRUE;
        if (!zuma_frontend_attach(frontend, self->config->name, SS_ORIGIN_ID, "", TRUE, &device,
                                  error)) {
                g_prefix_error(error,
                               "cannot attach the origin of volume %s: ", self->config->name);
                return FALSE;
        }
        g_message("volume %s: origin attached as %s", self->config->name, device);
        volume_set_device(self, device);
        return TRUE;
}

/* Undoes a start: ends jobs, detaches every device, drops the snapshot
 * objects and closes the engine.  The state is set by the caller. */
static void teardown(ZumaVolume *self)
{
        ZumaFrontend *frontend = volume_frontend(self);
        g_autofree char *why = g_strdup_printf("volume %s stopped", self->config->name);
        g_autoptr(GError) error = NULL;

        g_clear_handle_id(&self->refresh_id, g_source_remove);
        g_clear_handle_id(&self->cleanup_id, g_source_remove);
        end_jobs(self, ZUMA_ERROR_NOT_RUNNING, why);
        volume_drop_all_snapshots(self);
        if (frontend && self->frontend_added) {
                if (!zuma_frontend_detach(frontend, self->config->name, SS_ORIGIN_ID, TRUE,
                                          &error)) {
                        g_warning("volume %s: %s", self->config->name, error->message);
                        g_clear_error(&error);
                }
                if (!zuma_frontend_remove_volume(frontend, self->config->name, &error)) {
                        g_warning("volume %s: %s", self->config->name, error->message);
                        g_clear_error(&error);
                }
                self->frontend_added = FALSE;
        }
        volume_set_device(self, "");
        if (self->engine) {
                ZumaEngine *engine = g_steal_pointer(&self->engine);

                if (!zuma_engine_close(engine, &error)) {
                        g_warning("volume %s: %s", self->config->name, error->message);
                        set_last_error(self, error->message);
                }
        }
        clear_figures(self);
        self->cleanup_broken = FALSE;
        self->usage_level = 0;
}

static char *uuid_string(const guint8 *uuid)
{
        return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                               "%02x%02x%02x%02x%02x%02x",
                               uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6],
                               uuid[7], uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13],
                               uuid[14], uuid[15]);
}

static SsFullPolicy policy_from_name(const char *name)
{
        return g_str_equal(name, "refuse") ? SS_FULL_REFUSE : SS_FULL_AUTODELETE;
}

/* How many snapshots the shown names may be of, at most. */
#define ROLLBACK_NAMES_SHOWN 10

/* What a rollback would cost, in words: the store is opened read-only on
 * the older commit to list the snapshots it holds.  Every one of them may
 * read newer data for chunks the lost commit copied out (the origin has
 * been written since), and which chunks those were is what was lost, so
 * no snapshot can be named safe. */
static char *rollback_cost(ZumaVolume *self)
{
        g_autoptr(GString) names = g_string_new(NULL);
        ZumaEngine *engine;
        SsSnapshotInfo info;
        guint32 after = 0;
        guint count = 0;

        engine = zuma_engine_open_flags(self->config->origin_device, self->config->store_device,
                                        SS_OPEN_READONLY | SS_OPEN_ACCEPT_ROLLBACK, NULL, NULL,
                                        NULL, NULL);
        if (!engine)
                return g_strdup("snapshots taken in the lost commit would be gone, and every "
                                "snapshot may read newer data for the chunks it copied out");
        g_mutex_lock(&engine->lock);
        while (ss_snapshot_next(engine->store, after, &info) == 0) {
                if (count < ROLLBACK_NAMES_SHOWN)
                        g_string_append_printf(names, "%s%s", count ? ", " : "", info.name);
                count++;
                after = info.id;
        }
        g_mutex_unlock(&engine->lock);
        zuma_engine_close(engine, NULL);
        if (count == 0)
                return g_strdup("snapshots taken in the lost commit would be gone; the older "
                                "commit holds no snapshot");
        if (count == 1)
                return g_strdup_printf("snapshots taken in the lost commit would be gone, and "
                                       "the older commit's one snapshot (%s) may read newer data "
                                       "for the chunks it copied out",
                                       names->str);
        return g_strdup_printf("snapshots taken in the lost commit would be gone, and all %u "
                               "snapshots of the older commit (%s%s) may read newer data for "
                               "the chunks it copied out",
                               count, names->str, count > ROLLBACK_NAMES_SHOWN ? ", ..." : "");
}

/* What the store said about itself at open that the administrator must
 * know: a rollback accepted, superblock copies that failed their checks. */
static char *store_warning(const SsStoreInfo *info)
{
        g_autoptr(GString) warning = g_string_new(NULL);

        if (info->rolled_back) {
                g_string_append_printf(
                        warning, "opened on an older commit (transaction %" G_GUINT64_FORMAT ")",
                        info->txid);
                if (info->lost_txid)
                        g_string_append_printf(warning,
                                               ", transaction %" G_GUINT64_FORMAT " is lost",
                                               info->lost_txid);
                g_string_append(warning, ": snapshots may read newer data for chunks it had "
                                         "copied out");
        }
        if (info->superblock_copies_damaged > 0)
                g_string_append_printf(warning,
                                       "%s%u superblock cop%s failed %s checks at open (rewritten "
                                       "by the next commit); check the store (zumastor-check)",
                                       warning->len ? "; " : "", info->superblock_copies_damaged,
                                       info->superblock_copies_damaged == 1 ? "y" : "ies",
                                       info->superblock_copies_damaged == 1 ? "its" : "their");
        return g_string_free(g_steal_pointer(&warning), FALSE);
}

/* Opens the engine and checks the store is this volume's; applies the
 * configured full policy. */
static gboolean open_engine(ZumaVolume *self, ZumaVolumeStartFlags flags, SsStoreInfo *ret_info,
                            GError **error)
{
        g_autofree char *warning = NULL;
        ZumaEngine *engine;
        SsStoreInfo info;
        int open_errno = 0;
        int r;

        engine = zuma_engine_open_flags(
                self->config->origin_device, self->config->store_device,
                flags & ZUMA_VOLUME_START_ACCEPT_ROLLBACK ? SS_OPEN_ACCEPT_ROLLBACK : 0,
                &engine_callbacks, self, &open_errno, error);
        if (!engine && open_errno == -ESTALE) {
                g_autofree char *cost = rollback_cost(self);
                g_autofree char *why = g_strdup((*error)->message);

                g_clear_error(error);
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT,
                            "%s; %s.  To open it on the older commit anyway, start the volume "
                            "with accept_rollback (zumactl start --accept-rollback %s)",
                            why, cost, self->config->name);
        }
        if (!engine)
                return FALSE;
        g_mutex_lock(&engine->lock);
        r = ss_store_info(engine->store, &info);
        if (r < 0) {
                zuma_engine_set_error(error, r, "cannot read the store");
        } else if (!g_str_equal(info.volume_name, self->config->name)) {
                g_autofree char *quoted = zuma_quote(info.volume_name);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT,
                            "store %s holds volume %s, not %s", self->config->store_device, quoted,
                            self->config->name);
                r = -EINVAL;
        } else if (info.full_policy != policy_from_name(self->config->full_policy)) {
                r = ss_store_set_full_policy(engine->store,
                                             policy_from_name(self->config->full_policy));
                if (r < 0)
                        zuma_engine_set_error(error, r, "cannot set the full policy");
        }
        g_mutex_unlock(&engine->lock);
        if (r < 0) {
                zuma_engine_close(engine, NULL);
                return FALSE;
        }
        self->engine = engine;
        *ret_info = info;
        warning = store_warning(&info);
        if (warning[0])
                g_warning("volume %s: store %s %s", self->config->name, self->config->store_device,
                          warning);
        zuma_bus_volume_set_store_warning(self->iface, warning);
        return TRUE;
}

static gboolean start_serving(ZumaVolume *self, const SsStoreInfo *info, GError **error)
{
        ZumaFrontend *frontend = volume_frontend(self);

        if (frontend) {
                if (!zuma_frontend_add_volume(frontend, self->config->name, self->config->uuid,
                                              self->engine, error))
                        return FALSE;
                self->frontend_added = TRUE;
        }
        if (!volume_load_snapshots(self, error))
                return FALSE;
        if (!info->revert_target && !volume_attach_origin(self, error))
                return FALSE;
        volume_attach_snapshots(self);
        return TRUE;
}

gboolean zuma_volume_start(ZumaVolume *self, ZumaVolumeStartFlags flags, GError **error)
{
        g_autofree char *uuid = NULL;
        SsStoreInfo info;

        if (!volume_require_known(self, error))
                return FALSE;
        if (self->state == VOLUME_RUNNING)
                return TRUE; /* already what was asked (docs/bus-api.md, idempotency) */
        if (self->engine)
                teardown(self); /* failed: Start retries */
        if (self->config->damage[0] && !(flags & ZUMA_VOLUME_START_REQUESTED)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT,
                            "volume %s is not started: its store %s was found damaged (%s); "
                            "check it (zumastor-check), then start the volume",
                            self->config->name, self->config->store_device, self->config->damage);
                g_warning("%s", (*error)->message);
                enter_failed(self, FALSE, (*error)->message);
                return FALSE;
        }
        g_message("starting volume %s (origin %s, store %s)", self->config->name,
                  self->config->origin_device, self->config->store_device);
        if (!open_engine(self, flags, &info, error)) {
                g_prefix_error(error, "cannot start volume %s: ", self->config->name);
                g_warning("%s", (*error)->message);
                if (g_error_matches(*error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT)) {
                        enter_failed(self, FALSE, (*error)->message);
                } else {
                        set_last_error(self, (*error)->message);
                        set_state(self, VOLUME_STOPPED);
                }
                return FALSE;
        }
        uuid = uuid_string(info.volume_uuid);
        g_free(self->config->uuid);
        self->config->uuid = g_strdup(uuid);
        self->config->chunk_size = info.chunk_size;
        zuma_bus_volume_set_uuid(self->iface, uuid);
        zuma_bus_volume_set_chunk_size(self->iface, info.chunk_size);
        /* Running from here on, so what start_serving() sets up is undone
         * by teardown() if it fails. */
        set_state(self, VOLUME_RUNNING);
        if (!start_serving(self, &info, error)) {
                g_prefix_error(error, "cannot start volume %s: ", self->config->name);
                set_state(self, VOLUME_STOPPED);
                teardown(self);
                set_last_error(self, (*error)->message);
                g_warning("%s", (*error)->message);
                return FALSE;
        }
        set_last_error(self, "");
        self->config->running = TRUE;
        if (self->config->damage[0]) {
                g_message("volume %s: started by request after its store was found damaged (%s)",
                          self->config->name, self->config->damage);
                g_free(self->config->damage);
                self->config->damage = g_strdup("");
        }
        volume_save_config_or_warn(self);
        refresh(self, FALSE, FALSE);
        self->refresh_id = g_timeout_add_seconds(REFRESH_INTERVAL_S, on_refresh, self);
        if (info.revert_target)
                volume_resume_revert(self, info.revert_target);
        volume_resume_deletes(self);
        g_message("volume %s started: %u snapshots, origin %s", self->config->name,
                  info.snapshot_count,
                  zuma_bus_volume_get_device(self->iface)[0]
                          ? zuma_bus_volume_get_device(self->iface)
                          : "not attached");
        g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self->iface));
        zuma_bus_volume_emit_started(self->iface);
        return TRUE;
}

/* The first attached device of the volume that is open, or NULL. */
static const char *busy_device(ZumaVolume *self)
{
        ZumaFrontend *frontend = volume_frontend(self);
        GHashTableIter iter;
        gpointer value;

        if (!frontend || !self->frontend_added)
                return NULL;
        if (zuma_frontend_is_busy(frontend, self->config->name, SS_ORIGIN_ID))
                return zuma_bus_volume_get_device(self->iface);
        g_hash_table_iter_init(&iter, self->snapshots);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                ZumaSnapshot *snapshot = value;

                if (zuma_frontend_is_busy(frontend, self->config->name,
                                          zuma_snapshot_get_id(snapshot)))
                        return zuma_snapshot_get_device(snapshot);
        }
        return NULL;
}

gboolean zuma_volume_stop(ZumaVolume *self, gboolean force, const char *reason, GError **error)
{
        gboolean was_running = self->state == VOLUME_RUNNING;
        gboolean requested = g_str_equal(reason, "requested");
        const char *busy;

        if (self->state != VOLUME_STOPPED || self->engine) {
                busy = busy_device(self);
                if (busy && !force) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                                    "volume %s: device %s is open or mounted (unmount it, or "
                                    "use force)",
                                    self->config->name, busy[0] ? busy : "(detached)");
                        return FALSE;
                }
                g_message("stopping volume %s (%s%s)", self->config->name, reason,
                          busy ? ", forced while in use" : "");
                set_state(self, VOLUME_STOPPED);
                teardown(self);
        }
        if (requested && self->config->running) {
                self->config->running = FALSE;
                volume_save_config_or_warn(self);
        }
        if (was_running) {
                g_message("volume %s stopped", self->config->name);
                g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self->iface));
                zuma_bus_volume_emit_stopped(self->iface, reason);
        }
        return TRUE;
}

void zuma_volume_forget(ZumaVolume *self)
{
        self->forgotten = TRUE;
}

/* --- full policy --- */

gboolean volume_set_full_policy(ZumaVolume *self, const char *policy, GError **error)
{
        int r = 0;

        if (!g_str_equal(policy, "refuse") && !g_str_equal(policy, "autodelete")) {
                g_autofree char *quoted = zuma_quote(policy);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "unknown full policy %s: use \"refuse\" or \"autodelete\"", quoted);
                return FALSE;
        }
        /* A failed volume's store takes no settings: a damaged one is not
         * to be written before an administrator looked at it. */
        if (self->state != VOLUME_STOPPED && !volume_require_running(self, error))
                return FALSE;
        if (self->engine && self->state == VOLUME_RUNNING) {
                g_mutex_lock(&self->engine->lock);
                r = ss_store_set_full_policy(self->engine->store, policy_from_name(policy));
                if (r < 0)
                        volume_engine_error(self, r, "cannot set the full policy", error);
                g_mutex_unlock(&self->engine->lock);
        }
        if (r < 0)
                return FALSE;
        /* A stopped volume's store takes the policy when it starts. */
        g_free(self->config->full_policy);
        self->config->full_policy = g_strdup(policy);
        zuma_bus_volume_set_full_policy(self->iface, policy);
        volume_save_config_or_warn(self);
        g_message("volume %s: full policy %s", self->config->name, policy);
        return TRUE;
}

static void on_job_completed(ZumaJob *job, ZumaVolume *self)
{
        forget_finished_jobs(self);
}

ZumaVolume *zuma_volume_new(ZumaManager *manager, ZumaVolumeConfig *config)
{
        ZumaVolume *self = g_object_new(ZUMA_TYPE_VOLUME, NULL);
        g_autofree char *escaped = g_dbus_escape_object_path(config->name);

        self->manager = manager;
        self->config = config;
        self->object_path = g_strdup_printf(ZUMA_OBJECT_ROOT "/volumes/%s", escaped);
        self->object = zuma_bus_object_skeleton_new(self->object_path);
        self->iface = zuma_bus_volume_skeleton_new();
        zuma_bus_volume_set_name(self->iface, config->name);
        zuma_bus_volume_set_uuid(self->iface, config->uuid);
        zuma_bus_volume_set_origin_device(self->iface, config->origin_device);
        zuma_bus_volume_set_store_device(self->iface, config->store_device);
        zuma_bus_volume_set_mount_point(self->iface, config->mount_point);
        zuma_bus_volume_set_state(self->iface, state_name(VOLUME_STOPPED));
        zuma_bus_volume_set_last_error(self->iface, "");
        zuma_bus_volume_set_store_warning(self->iface, "");
        zuma_bus_volume_set_device(self->iface, "");
        zuma_bus_volume_set_chunk_size(self->iface, config->chunk_size);
        zuma_bus_volume_set_full_policy(self->iface, config->full_policy);
        volume_connect_methods(self);
        zuma_bus_object_skeleton_set_volume(self->object, self->iface);
        return self;
}

static void zuma_volume_dispose(GObject *object)
{
        ZumaVolume *self = ZUMA_VOLUME(object);

        if (self->engine || self->state != VOLUME_STOPPED) {
                set_state(self, VOLUME_STOPPED);
                teardown(self);
        }
        if (self->iface)
                g_signal_handlers_disconnect_by_data(self->iface, self);
        g_clear_object(&self->iface);
        g_clear_object(&self->object);
        G_OBJECT_CLASS(zuma_volume_parent_class)->dispose(object);
}

static void zuma_volume_finalize(GObject *object)
{
        ZumaVolume *self = ZUMA_VOLUME(object);

        g_hash_table_unref(self->snapshots);
        g_ptr_array_unref(self->jobs);
        zuma_volume_config_free(self->config);
        g_free(self->object_path);
        G_OBJECT_CLASS(zuma_volume_parent_class)->finalize(object);
}

static void zuma_volume_class_init(ZumaVolumeClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);

        object_class->dispose = zuma_volume_dispose;
        object_class->finalize = zuma_volume_finalize;
}

static void zuma_volume_init(ZumaVolume *self)
{
        self->state = VOLUME_STOPPED;
        self->snapshots =
                g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_object_unref);
        self->jobs = g_ptr_array_new_with_free_func(g_object_unref);
}
