/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume life cycle: start, stop, failure.
 *
 * Start first finds where the devices are now, by their identities
 * (zuma-volume-devices.c), then opens both exclusively through ZumaEngine, checks that the
 * store belongs to this volume, makes the volume known to the frontend,
 * takes one record per snapshot from the engine ("snapshot-added", which
 * the face turns into a bus object) and attaches the origin and the
 * snapshots that were attached when the volume last ran (the definition
 * keeps their ids; see zuma-volume-config.h).  A revert that a crash
 * interrupted is finished first, by a revert job; the origin is attached
 * when it is done.
 *
 * Stop refuses while a device of the volume is open (unless forced), then
 * ends the volume's jobs, detaches every device and closes the engine;
 * the snapshot records stay, read-only.
 *
 * The engine reports two events on the main loop: a snapshot the full
 * policy deleted ("snapshot-deleted" with reason "store-full") and a
 * failed I/O or commit, or metadata found damaged (state "failed",
 * "failed" and "stopped" "failed").  A failed I/O fails every later
 * engine call until Stop and Start.  Damage (like ext4's
 * errors=remount-ro) stops every change at once, the moment the engine
 * notes it (volume_require_running asks the engine, not only the state):
 * no commit, no cleanup step, no job step, no change of the store's
 * settings; the devices stay attached and serve what can still be read.  The damage is recorded in the
 * definition, so a server restart leaves the volume failed; only an
 * administrator's Start opens the store again.
 *
 * Layers, each calling only those below it: zuma-volume.c (this file:
 * the type, start, stop, engine events) over zuma-volume-jobs.c over
 * zuma-volume-snapshots.c over zuma-volume-state.c (shared state,
 * properties and signals, checks, figures, cleanup).  The core knows no
 * bus: zuma-volume-face.c, the Volume interface, stands on its public API
 * (zuma-volume.h) and follows its properties and signals; the manager
 * makes one face per volume.
 *
 * Everything here runs on the main thread: bus calls (through the face),
 * job steps and timers, and the engine's events, which the engine
 * delivers on the main context whichever thread found them.
 */
#define G_LOG_DOMAIN "zuma-volume"

#include "zuma-volume-jobs.h"

#include <sys/stat.h>

#include "zuma-device-identity.h"
#include "zuma-error.h"
#include "zuma-options.h"
#include "zuma-volume-devices.h"

G_DEFINE_TYPE(ZumaVolume, zuma_volume, G_TYPE_OBJECT)

static void on_engine_autodeleted(gpointer user, guint32 id, const char *name)
{
        ZumaVolume *self = user;
        ZumaSnapshotRecord *snapshot = g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(id));

        g_message("volume %s: store full, snapshot %u (%s) deleted to make room",
                  self->config->name, id, name);
        if (snapshot)
                volume_drop_snapshot(self, snapshot, "store-full");
        else {
                /* Never loaded as a record: the face names it by the
                 * path it would have had. */
                g_signal_emit(self, volume_signals[VOLUME_SIGNAL_SNAPSHOT_DELETED], 0, id, name,
                              "store-full");
        }
        volume_refresh(self);
}

/* The volume goes to "failed" with message as LastError, and says so
 * ("failed"; "stopped" "failed" too when it was running). */
static void enter_failed(ZumaVolume *self, gboolean was_running, const char *message)
{
        volume_set_state(self, VOLUME_FAILED);
        volume_set_last_error(self, message);
        g_signal_emit(self, volume_signals[VOLUME_SIGNAL_FAILED], 0, self->last_error);
        if (was_running)
                g_signal_emit(self, volume_signals[VOLUME_SIGNAL_STOPPED], 0, "failed");
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
        volume_set_state(self, VOLUME_FAILED);
        g_clear_handle_id(&self->refresh_id, g_source_remove);
        g_clear_handle_id(&self->cleanup_id, g_source_remove);
        why = g_strdup_printf("volume %s failed: %s", self->config->name, message);
        volume_end_jobs(self, damaged ? ZUMA_ERROR_CORRUPT : ZUMA_ERROR_IO, why);
        enter_failed(self, TRUE, last_error ? last_error : message);
}

static const ZumaEngineCallbacks engine_callbacks = {
        .autodeleted = on_engine_autodeleted,
        .failed = on_engine_failed,
};

/* --- start and stop --- */

/* Undoes a start: ends jobs, detaches every device, drops the snapshot
 * objects and closes the engine.  The state is set by the caller. */
static void teardown(ZumaVolume *self)
{
        ZumaFrontend *frontend = volume_frontend(self);
        g_autofree char *why = g_strdup_printf("volume %s stopped", self->config->name);
        g_autoptr(GError) error = NULL;

        g_clear_handle_id(&self->refresh_id, g_source_remove);
        g_clear_handle_id(&self->cleanup_id, g_source_remove);
        volume_end_jobs(self, ZUMA_ERROR_NOT_RUNNING, why);
        volume_detach_all_snapshots(self);
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
                        volume_set_last_error(self, error->message);
                }
        }
        volume_clear_figures(self);
        self->cleanup_broken = FALSE;
        self->usage_level = 0;
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
        while (zuma_engine_snapshot_next(engine, after, &info) == 0) {
                if (count < ROLLBACK_NAMES_SHOWN)
                        g_string_append_printf(names, "%s%s", count ? ", " : "", info.name);
                count++;
                after = info.id;
        }
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
        r = zuma_engine_info(engine, &info);
        if (r < 0) {
                zuma_engine_set_error(error, r, "cannot read the store");
        } else if (!g_str_equal(info.volume_name, self->config->name)) {
                g_autofree char *quoted = zuma_quote(info.volume_name);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT,
                            "store %s holds volume %s, not %s", self->config->store_device, quoted,
                            self->config->name);
                r = -EINVAL;
        } else if (info.full_policy != volume_policy_from_name(self->config->full_policy)) {
                r = zuma_engine_set_full_policy(engine,
                                                volume_policy_from_name(self->config->full_policy));
                if (r < 0)
                        zuma_engine_set_error(error, r, "cannot set the full policy");
        }
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
        volume_set_store_warning(self, warning);
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

/* zuma_volume_start() with a local error: what it logs and keeps as
 * LastError needs the message whether the caller asked for it or not. */
static gboolean start(ZumaVolume *self, ZumaVolumeStartFlags flags, GError **error)
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
        if (!volume_resolve_devices(self, error)) {
                g_prefix_error(error, "cannot start volume %s: ", self->config->name);
                g_warning("%s", (*error)->message);
                volume_set_last_error(self, (*error)->message);
                volume_set_state(self, VOLUME_STOPPED);
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
                        volume_set_last_error(self, (*error)->message);
                        volume_set_state(self, VOLUME_STOPPED);
                }
                return FALSE;
        }
        uuid = zuma_uuid_string(info.volume_uuid);
        volume_set_identity(self, uuid, info.chunk_size);
        /* Running from here on, so what start_serving() sets up is undone
         * by teardown() if it fails. */
        volume_set_state(self, VOLUME_RUNNING);
        if (!start_serving(self, &info, error)) {
                g_prefix_error(error, "cannot start volume %s: ", self->config->name);
                volume_set_state(self, VOLUME_STOPPED);
                teardown(self);
                volume_set_last_error(self, (*error)->message);
                g_warning("%s", (*error)->message);
                return FALSE;
        }
        volume_set_last_error(self, "");
        volume_record_origin_identity(self);
        self->config->running = TRUE;
        if (self->config->damage[0]) {
                g_message("volume %s: started by request after its store was found damaged (%s)",
                          self->config->name, self->config->damage);
                g_free(self->config->damage);
                self->config->damage = g_strdup("");
        }
        volume_save_config_or_warn(self);
        volume_start_refreshing(self);
        if (info.revert_target)
                volume_resume_revert(self, info.revert_target);
        volume_resume_deletes(self);
        g_message("volume %s started: %u snapshots, origin %s", self->config->name,
                  info.snapshot_count, self->device[0] ? self->device : "not attached");
        g_signal_emit(self, volume_signals[VOLUME_SIGNAL_STARTED], 0);
        return TRUE;
}

gboolean zuma_volume_start(ZumaVolume *self, ZumaVolumeStartFlags flags, GError **error)
{
        g_autoptr(GError) local = NULL;

        if (start(self, flags, &local))
                return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
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
                return self->device;
        g_hash_table_iter_init(&iter, self->snapshots);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                ZumaSnapshotRecord *snapshot = value;

                if (zuma_frontend_is_busy(frontend, self->config->name,
                                          snapshot_record_id(snapshot)))
                        return snapshot_record_device(snapshot);
        }
        return NULL;
}

gboolean zuma_volume_device_is_busy(ZumaVolume *self, guint32 id)
{
        ZumaFrontend *frontend = volume_frontend(self);

        if (id == ZUMA_VOLUME_ANY_DEVICE)
                return busy_device(self) != NULL;
        if (!frontend || !self->frontend_added)
                return FALSE;
        if (id != SS_ORIGIN_ID && !g_hash_table_contains(self->snapshots, GUINT_TO_POINTER(id)))
                return FALSE;
        return zuma_frontend_is_busy(frontend, self->config->name, id);
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
                volume_set_state(self, VOLUME_STOPPED);
                teardown(self);
        }
        if (requested && self->config->running) {
                self->config->running = FALSE;
                volume_save_config_or_warn(self);
        }
        if (was_running) {
                g_message("volume %s stopped", self->config->name);
                g_signal_emit(self, volume_signals[VOLUME_SIGNAL_STOPPED], 0, reason);
        }
        return TRUE;
}

void zuma_volume_forget(ZumaVolume *self)
{
        self->forgotten = TRUE;
        volume_drop_all_snapshots(self);
}

ZumaVolume *zuma_volume_new(const ZumaVolumeHost *host, ZumaVolumeConfig *config)
{
        ZumaVolume *self = g_object_new(ZUMA_TYPE_VOLUME, NULL);
        g_autofree char *escaped = g_dbus_escape_object_path(config->name);

        self->host = host;
        self->config = config;
        self->object_path = g_strdup_printf(ZUMA_OBJECT_ROOT "/volumes/%s", escaped);
        self->chunk_size = config->chunk_size;
        volume_list_stored_snapshots(self);
        return self;
}

static void zuma_volume_dispose(GObject *object)
{
        ZumaVolume *self = ZUMA_VOLUME(object);

        if (self->engine || self->state != VOLUME_STOPPED) {
                volume_set_state(self, VOLUME_STOPPED);
                teardown(self);
        }
        G_OBJECT_CLASS(zuma_volume_parent_class)->dispose(object);
}

static void zuma_volume_finalize(GObject *object)
{
        ZumaVolume *self = ZUMA_VOLUME(object);

        g_hash_table_unref(self->snapshots);
        g_ptr_array_unref(self->jobs);
        g_hash_table_unref(self->stream_holds);
        zuma_volume_config_free(self->config);
        g_free(self->object_path);
        g_free(self->last_error);
        g_free(self->store_warning);
        g_free(self->device);
        G_OBJECT_CLASS(zuma_volume_parent_class)->finalize(object);
}

static void zuma_volume_class_init(ZumaVolumeClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);

        object_class->dispose = zuma_volume_dispose;
        object_class->finalize = zuma_volume_finalize;
        volume_class_install(object_class);
}

static void zuma_volume_init(ZumaVolume *self)
{
        self->state = VOLUME_STOPPED;
        self->last_error = g_strdup("");
        self->store_warning = g_strdup("");
        self->device = g_strdup("");
        self->full_in_shown = -1;
        self->snapshots = volume_new_snapshot_table();
        self->jobs = g_ptr_array_new_with_free_func(g_object_unref);
        self->stream_holds = g_hash_table_new(g_direct_hash, g_direct_equal);
}
