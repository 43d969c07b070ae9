/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume's shared state, the layer every other part of the volume
 * stands on: accessors, the checks a request passes (known, running,
 * readable, no revert), engine errors, the definition on disk, the
 * volume's jobs, store figures and usage thresholds, background cleanup,
 * the full policy and the origin's device.  It calls nothing above it
 * (zuma-volume-snapshots.c, -jobs.c, zuma-volume.c).
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
        return self->host->auth;
}

gboolean zuma_volume_is_running(ZumaVolume *self)
{
        return self->state == VOLUME_RUNNING;
}

gboolean zuma_volume_is_readable(ZumaVolume *self)
{
        return !self->forgotten && self->engine && !zuma_engine_is_failed(self->engine) &&
               (self->state == VOLUME_RUNNING || self->state == VOLUME_FAILED);
}

/* Whether the store may be changed now: the engine may have found damage
 * or failed an I/O on a FUSE thread before its event reached the state. */
static gboolean store_changeable(ZumaVolume *self)
{
        return self->state == VOLUME_RUNNING && self->engine &&
               !zuma_engine_is_failed(self->engine) && !zuma_engine_is_damaged(self->engine);
}

gboolean zuma_volume_is_stopped(ZumaVolume *self)
{
        return self->state == VOLUME_STOPPED;
}

ZumaFrontend *volume_frontend(ZumaVolume *self)
{
        return self->host->frontend;
}

const char *volume_state_name(VolumeState state)
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

void volume_set_state(ZumaVolume *self, VolumeState state)
{
        self->state = state;
        zuma_bus_volume_set_state(self->iface, volume_state_name(state));
}

void volume_set_last_error(ZumaVolume *self, const char *message)
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
        return zuma_volume_config_save(self->config, self->host->volumes_dir, error);
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
                            self->state == VOLUME_RUNNING ? "failed"
                                                          : volume_state_name(self->state));
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
                    self->config->name, volume_state_name(self->state));
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

void volume_end_jobs(ZumaVolume *self, ZumaError code, const char *message)
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

void volume_clear_figures(ZumaVolume *self)
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
        if (periodic)
                r = zuma_engine_try_info(self->engine, &info);
        else
                r = zuma_engine_info(self->engine, &info);
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

static gboolean on_refresh(gpointer user_data);

void volume_start_refreshing(ZumaVolume *self)
{
        refresh(self, FALSE, FALSE);
        self->refresh_id = g_timeout_add_seconds(REFRESH_INTERVAL_S, on_refresh, self);
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
        r = zuma_engine_try_cleanup_step(self->engine, CLEANUP_BUDGET);
        if (r == -EAGAIN)
                return G_SOURCE_CONTINUE;
        if (r < 0)
                volume_engine_error(self, r, "freeing deleted snapshots failed", &error);
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

SsFullPolicy volume_policy_from_name(const char *name)
{
        return g_str_equal(name, "refuse") ? SS_FULL_REFUSE : SS_FULL_AUTODELETE;
}

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
                r = zuma_engine_set_full_policy(self->engine, volume_policy_from_name(policy));
                if (r < 0)
                        volume_engine_error(self, r, "cannot set the full policy", error);
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
