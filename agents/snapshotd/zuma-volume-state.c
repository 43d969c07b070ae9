/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume's shared state, the layer every other part of the volume
 * stands on: the properties and signals (what a face follows), accessors,
 * the checks a request passes (known, running, readable, no revert),
 * engine errors, the definition on disk, the volume's jobs, store figures
 * and usage thresholds, background cleanup, the full policy and the
 * origin's device.  It calls nothing above it (zuma-volume-snapshots.c,
 * -jobs.c, zuma-volume.c).
 *
 * A property changes through its volume_set_*() only, which notifies when
 * the value differs, right away (no freezing): a face copies each change
 * as it comes, so the bus sees them in the order they were made.
 *
 * Usage thresholds: the share of the store in use (data and metadata) is
 * sampled after each operation and every REFRESH_INTERVAL_S, since origin
 * writes from the frontend change it behind the bus's back.  Crossing 80,
 * 90 or 95 % upwards emits UsageThreshold(percent, true); falling
 * THRESHOLD_HYSTERESIS points below emits (percent, false), so a store
 * hovering at a threshold does not flood the bus.  The level found when
 * the volume starts is taken silently.
 *
 * Usage rate: each refresh also feeds the used space (data + metadata)
 * with its monotonic time to the volume's ZumaUsageRate (its design:
 * zuma-usage-rate.h); StoreUsageRate and StoreFullInSeconds show the
 * estimate, rounded, changed at most every USAGE_RATE_PUBLISH_US so that
 * a store that grows does not send PropertiesChanged at every refresh.
 * Leaving "running" (stopped, failed) forgets the samples (0 and -1).
 */
#define G_LOG_DOMAIN "zuma-volume"

#include "zuma-volume-private.h"

#include <stdarg.h>
#include <sys/stat.h>

#include "zuma-error.h"
#include "zuma-options.h"

#define REFRESH_INTERVAL_S 1
#define CLEANUP_INTERVAL_MS 2
#define CLEANUP_BUDGET 256
#define THRESHOLD_HYSTERESIS 2.0
#define USAGE_RATE_PUBLISH_US (5 * G_USEC_PER_SEC)

static const guint thresholds[] = { 80, 90, 95 };

/* --- properties and signals --- */

enum {
        PROP_0,
        PROP_NAME,
        PROP_UUID,
        PROP_ORIGIN_DEVICE,
        PROP_ORIGIN_IDENTITY,
        PROP_STORE_DEVICE,
        PROP_MOUNT_POINT,
        PROP_STATE,
        PROP_LAST_ERROR,
        PROP_STORE_WARNING,
        PROP_DEVICE,
        PROP_CHUNK_SIZE,
        PROP_FULL_POLICY,
        PROP_ORIGIN_SIZE,
        PROP_STORE_SIZE,
        PROP_STORE_DATA_BYTES,
        PROP_STORE_METADATA_BYTES,
        PROP_STORE_FREE_BYTES,
        PROP_SNAPSHOT_COUNT,
        PROP_STORE_USAGE_RATE,
        PROP_STORE_FULL_IN_SECONDS,
        N_PROPS,
};

static GParamSpec *props[N_PROPS];
guint volume_signals[VOLUME_N_SIGNALS];

static void get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
        /* A plain cast: ZUMA_VOLUME() would call up into zuma-volume.c
         * (zuma_volume_get_type()), and GObject passes only volumes here. */
        ZumaVolume *self = (ZumaVolume *)object;
        const ZumaVolumeConfig *config = self->config;

        switch (prop_id) {
        case PROP_NAME:
                g_value_set_string(value, config->name);
                break;
        case PROP_UUID:
                g_value_set_string(value, config->uuid);
                break;
        case PROP_ORIGIN_DEVICE:
                g_value_set_string(value, config->origin_device);
                break;
        case PROP_ORIGIN_IDENTITY:
                g_value_set_string(value, config->origin_identity);
                break;
        case PROP_STORE_DEVICE:
                g_value_set_string(value, config->store_device);
                break;
        case PROP_MOUNT_POINT:
                g_value_set_string(value, config->mount_point);
                break;
        case PROP_STATE:
                g_value_set_string(value, volume_state_name(self->state));
                break;
        case PROP_LAST_ERROR:
                g_value_set_string(value, self->last_error);
                break;
        case PROP_STORE_WARNING:
                g_value_set_string(value, self->store_warning);
                break;
        case PROP_DEVICE:
                g_value_set_string(value, self->device);
                break;
        case PROP_CHUNK_SIZE:
                g_value_set_uint(value, self->chunk_size);
                break;
        case PROP_FULL_POLICY:
                g_value_set_string(value, config->full_policy);
                break;
        case PROP_ORIGIN_SIZE:
                g_value_set_uint64(value, self->figures.origin_size);
                break;
        case PROP_STORE_SIZE:
                g_value_set_uint64(value, self->figures.store_size);
                break;
        case PROP_STORE_DATA_BYTES:
                g_value_set_uint64(value, self->figures.data_bytes);
                break;
        case PROP_STORE_METADATA_BYTES:
                g_value_set_uint64(value, self->figures.metadata_bytes);
                break;
        case PROP_STORE_FREE_BYTES:
                g_value_set_uint64(value, self->figures.free_bytes);
                break;
        case PROP_SNAPSHOT_COUNT:
                g_value_set_uint(value, self->figures.snapshot_count);
                break;
        case PROP_STORE_USAGE_RATE:
                g_value_set_double(value, self->usage_rate_shown);
                break;
        case PROP_STORE_FULL_IN_SECONDS:
                g_value_set_int64(value, self->full_in_shown);
                break;
        default:
                G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        }
}

static GParamSpec *string_prop(const char *name)
{
        return g_param_spec_string(name, NULL, NULL, "",
                                   G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                           G_PARAM_STATIC_STRINGS);
}

static GParamSpec *uint_prop(const char *name)
{
        return g_param_spec_uint(name, NULL, NULL, 0, G_MAXUINT32, 0,
                                 G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                         G_PARAM_STATIC_STRINGS);
}

static GParamSpec *uint64_prop(const char *name)
{
        return g_param_spec_uint64(name, NULL, NULL, 0, G_MAXUINT64, 0,
                                   G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                           G_PARAM_STATIC_STRINGS);
}

static GParamSpec *double_prop(const char *name)
{
        return g_param_spec_double(name, NULL, NULL, 0, G_MAXDOUBLE, 0,
                                   G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                           G_PARAM_STATIC_STRINGS);
}

static GParamSpec *int64_prop(const char *name, gint64 minimum, gint64 default_value)
{
        return g_param_spec_int64(name, NULL, NULL, minimum, G_MAXINT64, default_value,
                                  G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                          G_PARAM_STATIC_STRINGS);
}

static guint new_signal(GObjectClass *klass, const char *name, guint n_params, ...)
{
        va_list args;
        guint id;

        va_start(args, n_params);
        id = g_signal_new_valist(name, G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, NULL, NULL,
                                 NULL, NULL, G_TYPE_NONE, n_params, args);
        va_end(args);
        return id;
}

void volume_class_install(GObjectClass *klass)
{
        klass->get_property = get_property;
        /* The names of the bus properties (gdbus-codegen's), so a face
         * binds them one to one. */
        props[PROP_NAME] = string_prop("name");
        props[PROP_UUID] = string_prop("uuid");
        props[PROP_ORIGIN_DEVICE] = string_prop("origin-device");
        props[PROP_ORIGIN_IDENTITY] = string_prop("origin-identity");
        props[PROP_STORE_DEVICE] = string_prop("store-device");
        props[PROP_MOUNT_POINT] = string_prop("mount-point");
        props[PROP_STATE] = string_prop("state");
        props[PROP_LAST_ERROR] = string_prop("last-error");
        props[PROP_STORE_WARNING] = string_prop("store-warning");
        props[PROP_DEVICE] = string_prop("device");
        props[PROP_CHUNK_SIZE] = uint_prop("chunk-size");
        props[PROP_FULL_POLICY] = string_prop("full-policy");
        props[PROP_ORIGIN_SIZE] = uint64_prop("origin-size");
        props[PROP_STORE_SIZE] = uint64_prop("store-size");
        props[PROP_STORE_DATA_BYTES] = uint64_prop("store-data-bytes");
        props[PROP_STORE_METADATA_BYTES] = uint64_prop("store-metadata-bytes");
        props[PROP_STORE_FREE_BYTES] = uint64_prop("store-free-bytes");
        props[PROP_SNAPSHOT_COUNT] = uint_prop("snapshot-count");
        props[PROP_STORE_USAGE_RATE] = double_prop("store-usage-rate");
        props[PROP_STORE_FULL_IN_SECONDS] = int64_prop("store-full-in-seconds", -1, -1);
        g_object_class_install_properties(klass, N_PROPS, props);

        /* A snapshot record came, changed (record or device) or went; the
         * argument is its id (zuma-volume.h). */
        volume_signals[VOLUME_SIGNAL_SNAPSHOT_ADDED] =
                new_signal(klass, "snapshot-added", 1, G_TYPE_UINT);
        volume_signals[VOLUME_SIGNAL_SNAPSHOT_CHANGED] =
                new_signal(klass, "snapshot-changed", 1, G_TYPE_UINT);
        volume_signals[VOLUME_SIGNAL_SNAPSHOT_REMOVED] =
                new_signal(klass, "snapshot-removed", 1, G_TYPE_UINT);
        /* The bus signals of the Volume interface. */
        volume_signals[VOLUME_SIGNAL_STARTED] = new_signal(klass, "started", 0);
        volume_signals[VOLUME_SIGNAL_STOPPED] = new_signal(klass, "stopped", 1, G_TYPE_STRING);
        volume_signals[VOLUME_SIGNAL_FAILED] = new_signal(klass, "failed", 1, G_TYPE_STRING);
        volume_signals[VOLUME_SIGNAL_SNAPSHOT_CREATED] =
                new_signal(klass, "snapshot-created", 2, G_TYPE_UINT, G_TYPE_STRING);
        volume_signals[VOLUME_SIGNAL_SNAPSHOT_DELETED] =
                new_signal(klass, "snapshot-deleted", 3, G_TYPE_UINT, G_TYPE_STRING, G_TYPE_STRING);
        volume_signals[VOLUME_SIGNAL_USAGE_THRESHOLD] =
                new_signal(klass, "usage-threshold", 2, G_TYPE_UINT, G_TYPE_BOOLEAN);
}

/* Sets *field to value and notifies prop, if it differs. */
static void set_string(ZumaVolume *self, char **field, const char *value, guint prop)
{
        if (g_strcmp0(*field, value) == 0)
                return;
        g_free(*field);
        *field = g_strdup(value);
        g_object_notify_by_pspec(G_OBJECT(self), props[prop]);
}

static void set_uint64(ZumaVolume *self, guint64 *field, guint64 value, guint prop)
{
        if (*field == value)
                return;
        *field = value;
        g_object_notify_by_pspec(G_OBJECT(self), props[prop]);
}

static void set_uint(ZumaVolume *self, guint32 *field, guint32 value, guint prop)
{
        if (*field == value)
                return;
        *field = value;
        g_object_notify_by_pspec(G_OBJECT(self), props[prop]);
}

/* --- accessors --- */

const char *zuma_volume_get_name(ZumaVolume *self)
{
        return self->config->name;
}

const char *zuma_volume_get_object_path(ZumaVolume *self)
{
        return self->object_path;
}

const ZumaVolumeConfig *zuma_volume_get_config(ZumaVolume *self)
{
        return self->config;
}

const char *zuma_volume_get_state(ZumaVolume *self)
{
        return volume_state_name(self->state);
}

const char *zuma_volume_get_last_error(ZumaVolume *self)
{
        return self->last_error;
}

const char *zuma_volume_get_device(ZumaVolume *self)
{
        return self->device;
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

static void forget_usage_rate(ZumaVolume *self);

void volume_set_state(ZumaVolume *self, VolumeState state)
{
        if (self->state == state)
                return;
        self->state = state;
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATE]);
        /* Only a running volume is sampled: the rate is not known now. */
        if (state != VOLUME_RUNNING)
                forget_usage_rate(self);
}

void volume_set_last_error(ZumaVolume *self, const char *message)
{
        g_autofree char *valid = g_utf8_make_valid(message, -1);

        set_string(self, &self->last_error, valid, PROP_LAST_ERROR);
}

void volume_set_store_warning(ZumaVolume *self, const char *warning)
{
        set_string(self, &self->store_warning, warning, PROP_STORE_WARNING);
}

void volume_set_identity(ZumaVolume *self, const char *uuid, guint32 chunk_size)
{
        self->config->chunk_size = chunk_size;
        set_string(self, &self->config->uuid, uuid, PROP_UUID);
        set_uint(self, &self->chunk_size, chunk_size, PROP_CHUNK_SIZE);
}

void volume_set_origin(ZumaVolume *self, const char *device, const char *identity)
{
        set_string(self, &self->config->origin_device, device, PROP_ORIGIN_DEVICE);
        set_string(self, &self->config->origin_identity, identity, PROP_ORIGIN_IDENTITY);
}

void volume_set_store_device(ZumaVolume *self, const char *device)
{
        set_string(self, &self->config->store_device, device, PROP_STORE_DEVICE);
}

void volume_set_device(ZumaVolume *self, const char *device)
{
        set_string(self, &self->device, device ? device : "", PROP_DEVICE);
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

gboolean zuma_volume_check_known(ZumaVolume *self, GError **error)
{
        return volume_require_known(self, error);
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
        const char *last_error = self->last_error;

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

gboolean volume_require_no_receive(ZumaVolume *self, const char *what_next, GError **error)
{
        if (!self->receive_job)
                return TRUE;
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                    "volume %s is receiving a replication stream (job %s); %s when it is done",
                    self->config->name, zuma_job_get_object_path(self->receive_job), what_next);
        return FALSE;
}

void volume_hold_snapshot(ZumaVolume *self, guint32 id)
{
        guint held =
                GPOINTER_TO_UINT(g_hash_table_lookup(self->stream_holds, GUINT_TO_POINTER(id)));

        g_hash_table_insert(self->stream_holds, GUINT_TO_POINTER(id), GUINT_TO_POINTER(held + 1));
}

void volume_release_snapshot(ZumaVolume *self, guint32 id)
{
        guint held =
                GPOINTER_TO_UINT(g_hash_table_lookup(self->stream_holds, GUINT_TO_POINTER(id)));

        g_return_if_fail(held > 0);
        if (held == 1)
                g_hash_table_remove(self->stream_holds, GUINT_TO_POINTER(id));
        else
                g_hash_table_insert(self->stream_holds, GUINT_TO_POINTER(id),
                                    GUINT_TO_POINTER(held - 1));
}

gboolean volume_require_not_held(ZumaVolume *self, guint32 id, const char *name, GError **error)
{
        if (!g_hash_table_contains(self->stream_holds, GUINT_TO_POINTER(id)))
                return TRUE;
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                    "volume %s: snapshot %s is in use by a running replication stream (sent, or "
                    "the base of one being received); delete it when the stream is done",
                    self->config->name, name);
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

/* In the order the bus has always seen them change. */
static void set_figures(ZumaVolume *self, const VolumeFigures *figures)
{
        VolumeFigures *f = &self->figures;

        set_uint64(self, &f->origin_size, figures->origin_size, PROP_ORIGIN_SIZE);
        set_uint64(self, &f->store_size, figures->store_size, PROP_STORE_SIZE);
        set_uint64(self, &f->data_bytes, figures->data_bytes, PROP_STORE_DATA_BYTES);
        set_uint64(self, &f->metadata_bytes, figures->metadata_bytes, PROP_STORE_METADATA_BYTES);
        set_uint64(self, &f->free_bytes, figures->free_bytes, PROP_STORE_FREE_BYTES);
        set_uint(self, &f->snapshot_count, figures->snapshot_count, PROP_SNAPSHOT_COUNT);
}

static void set_usage_rate(ZumaVolume *self, double rate, gint64 full_in_s)
{
        if (self->usage_rate_shown != rate) {
                self->usage_rate_shown = rate;
                g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STORE_USAGE_RATE]);
        }
        if (self->full_in_shown != full_in_s) {
                self->full_in_shown = full_in_s;
                g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STORE_FULL_IN_SECONDS]);
        }
}

static void forget_usage_rate(ZumaVolume *self)
{
        zuma_usage_rate_reset(&self->usage_rate);
        self->usage_rate_shown_at = 0;
        set_usage_rate(self, 0, -1);
}

void volume_clear_figures(ZumaVolume *self)
{
        set_figures(self, &(VolumeFigures){ 0 });
        forget_usage_rate(self);
}

/* A sample of the used space; the estimate shown, when it is time. */
static void update_usage_rate(ZumaVolume *self, const SsStoreInfo *info)
{
        gint64 now = g_get_monotonic_time();
        gint64 full_in_s;
        double rate;

        zuma_usage_rate_add(&self->usage_rate, now, info->data_bytes + info->metadata_bytes);
        if (self->usage_rate_shown_at && now - self->usage_rate_shown_at < USAGE_RATE_PUBLISH_US)
                return;
        rate = zuma_usage_rate_estimate(&self->usage_rate, info->free_bytes, &full_in_s);
        zuma_usage_rate_round(&rate, &full_in_s);
        self->usage_rate_shown_at = now;
        set_usage_rate(self, rate, full_in_s);
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
                g_signal_emit(self, volume_signals[VOLUME_SIGNAL_USAGE_THRESHOLD], 0, thresholds[i],
                              TRUE);
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
                g_signal_emit(self, volume_signals[VOLUME_SIGNAL_USAGE_THRESHOLD], 0, thresholds[i],
                              FALSE);
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
        set_figures(self, &(VolumeFigures){
                                  .origin_size = info.origin_size,
                                  .store_size = info.store_size,
                                  .data_bytes = info.data_bytes,
                                  .metadata_bytes = info.metadata_bytes,
                                  .free_bytes = info.free_bytes,
                                  .snapshot_count = info.snapshot_count,
                          });
        set_uint(self, &self->chunk_size, info.chunk_size, PROP_CHUNK_SIZE);
        update_thresholds(self, &info, emit);
        update_usage_rate(self, &info);
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

gboolean zuma_volume_set_full_policy(ZumaVolume *self, const char *policy, GError **error)
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
        set_string(self, &self->config->full_policy, policy, PROP_FULL_POLICY);
        volume_save_config_or_warn(self);
        g_message("volume %s: full policy %s", self->config->name, policy);
        return TRUE;
}

static void on_job_completed(ZumaJob *job, ZumaVolume *self)
{
        forget_finished_jobs(self);
}
