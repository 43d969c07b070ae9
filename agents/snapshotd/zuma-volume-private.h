/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the files of ZumaVolume share: its struct and the bottom layer,
 * zuma-volume-state.c.  The layers above declare theirs in
 * zuma-volume-snapshots.h and zuma-volume-jobs.h; each file calls only
 * the layers below it (zuma-volume.c says which).  Nothing outside the
 * volume's files includes these headers.
 *
 * Engine calls run on the main thread through the engine's operations,
 * which take the engine's locks themselves (zuma-engine.h).
 *
 * What the volume shows (its properties and signals, zuma-volume.h) is
 * changed only through the volume_set_*() below and emitted with
 * volume_signals[]: no bus type appears in the core.
 */
#pragma once

#include "zuma-engine.h"
#include "zuma-error.h"
#include "zuma-usage-rate.h"
#include "zuma-volume.h"

typedef enum {
        VOLUME_STOPPED,
        VOLUME_RUNNING,
        VOLUME_FAILED,
} VolumeState;

typedef enum {
        VOLUME_SIGNAL_SNAPSHOT_ADDED,
        VOLUME_SIGNAL_SNAPSHOT_CHANGED,
        VOLUME_SIGNAL_SNAPSHOT_REMOVED,
        VOLUME_SIGNAL_STARTED,
        VOLUME_SIGNAL_STOPPED,
        VOLUME_SIGNAL_FAILED,
        VOLUME_SIGNAL_SNAPSHOT_CREATED,
        VOLUME_SIGNAL_SNAPSHOT_DELETED,
        VOLUME_SIGNAL_USAGE_THRESHOLD,
        VOLUME_N_SIGNALS,
} VolumeSignal;

/* Filled in by volume_class_install() (zuma-volume-state.c). */
extern guint volume_signals[VOLUME_N_SIGNALS];

/* The store figures the properties show (0 while stopped). */
typedef struct VolumeFigures {
        guint64 origin_size;
        guint64 store_size;
        guint64 data_bytes;
        guint64 metadata_bytes;
        guint64 free_bytes;
        guint32 snapshot_count;
} VolumeFigures;

struct _ZumaVolume {
        GObject parent_instance;
        const ZumaVolumeHost *host; /* unowned: the host outlives its volumes */
        ZumaVolumeConfig *config;
        char *object_path;
        VolumeState state;
        /* Shown (properties), besides the state and the definition's
         * name, uuid, devices, mount point and full policy. */
        char *last_error;
        char *store_warning;
        char *device; /* the origin's, "" when not attached */
        guint32 chunk_size;
        VolumeFigures figures;
        gboolean forgotten;
        ZumaEngine *engine;         /* open while running, and while failed until Stop */
        gboolean frontend_added;    /* the frontend knows the volume */
        GHashTable *snapshots;      /* id → ZumaSnapshotRecord, while the engine is open */
        GPtrArray *jobs;            /* running ZumaJob of this volume */
        ZumaJob *revert_job;        /* the running revert (also in jobs) */
        gboolean revert_abandoning; /* AbandonRevert is ending revert_job */
        ZumaJob *receive_job;       /* the running stream receive (also in jobs) */
        /* Snapshot id → how many running stream jobs read or build on it:
         * those may not be deleted (zuma-volume-stream.c). */
        GHashTable *stream_holds;
        SsStreamStats last_stream_stats; /* zuma_volume_get_last_stream_stats() */
        gboolean has_last_stream_stats;
        guint refresh_id;        /* periodic store figures and thresholds */
        guint cleanup_id;        /* frees deleted snapshots' space */
        gboolean cleanup_broken; /* a cleanup step failed: no retry until restart */
        guint usage_level;       /* highest usage threshold crossed: 0, 80, 90, 95 */
        /* Growth of the used space (zuma-usage-rate.h), and what the
         * properties show of it: published at most every
         * USAGE_RATE_PUBLISH_US, rounded. */
        ZumaUsageRate usage_rate;
        double usage_rate_shown;    /* StoreUsageRate, bytes/s */
        gint64 full_in_shown;       /* StoreFullInSeconds, -1 unknown */
        gint64 usage_rate_shown_at; /* monotonic µs of the last publication */
};

/* zuma-volume-state.c: the layer the others stand on */
/* The properties, their getter and the signals, for zuma-volume.c's
 * class_init. */
void volume_class_install(GObjectClass *klass);
const char *volume_state_name(VolumeState state);
void volume_set_state(ZumaVolume *self, VolumeState state);
void volume_set_last_error(ZumaVolume *self, const char *message);
void volume_set_store_warning(ZumaVolume *self, const char *warning);
/* The store's identity as start found it: uuid and chunk size. */
void volume_set_identity(ZumaVolume *self, const char *uuid, guint32 chunk_size);
/* Ends every job of the volume with code and message. */
void volume_end_jobs(ZumaVolume *self, ZumaError code, const char *message);
/* Store figures to zero (the volume stopped). */
void volume_clear_figures(ZumaVolume *self);
SsFullPolicy volume_policy_from_name(const char *name);
/* The first refresh (silent) and the periodic ones, at start. */
void volume_start_refreshing(ZumaVolume *self);
/* NotFound once the definition was forgotten (a call still on its way). */
gboolean volume_require_known(ZumaVolume *self, GError **error);
/* Running, and its store neither failed nor damaged: whatever changes
 * the store or the volume requires this.  A damaged store answers
 * Corrupt, a stopped or failed volume NotRunning. */
gboolean volume_require_running(ZumaVolume *self, GError **error);
/* zuma_volume_is_readable(), or NotRunning: for what only reads. */
gboolean volume_require_readable(ZumaVolume *self, GError **error);
/* Busy while a revert runs; what_next names what the caller may do once
 * it is done ("delete snapshots"). */
gboolean volume_require_no_revert(ZumaVolume *self, const char *what_next, GError **error);
/* Busy while a replication stream is received into the volume. */
gboolean volume_require_no_receive(ZumaVolume *self, const char *what_next, GError **error);
/* A running stream job reads snapshot id, or builds on it: Delete
 * answers Busy until every hold is released. */
void volume_hold_snapshot(ZumaVolume *self, guint32 id);
void volume_release_snapshot(ZumaVolume *self, guint32 id);
/* Busy while snapshot id (name) is held. */
gboolean volume_require_not_held(ZumaVolume *self, guint32 id, const char *name, GError **error);
/* Right after the engine operation that failed with r, on its thread:
 * notes r on the engine and sets error ("what: <the store's sentence>"). */
gboolean volume_engine_error(ZumaVolume *self, int r, const char *what, GError **error);
/* Saves the definition; a failure is logged (the running state is right,
 * only the next start would differ). */
void volume_save_config_or_warn(ZumaVolume *self);
/* Store figures to properties, usage thresholds, background cleanup. */
void volume_refresh(ZumaVolume *self);
/* Lets a job of this volume be ended when the volume stops. */
void volume_track_job(ZumaVolume *self, ZumaJob *job);
ZumaFrontend *volume_frontend(ZumaVolume *self);
void volume_set_device(ZumaVolume *self, const char *device);
/* The origin's device node and identity, the store's node, as
 * zuma-volume-devices.c resolved them (saved by the caller). */
void volume_set_origin(ZumaVolume *self, const char *device, const char *identity);
void volume_set_store_device(ZumaVolume *self, const char *device);
gboolean volume_attach_origin(ZumaVolume *self, GError **error);
