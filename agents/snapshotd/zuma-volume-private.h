/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the three files of ZumaVolume share (zuma-volume.c,
 * zuma-volume-snapshots.c, zuma-volume-jobs.c).  Nothing else includes it.
 *
 * Engine calls from here run on the main thread and follow the locking
 * contract of zuma-engine.h: engine->lock around every ss_* call, and
 * engine->write_gate taken exclusively first by whatever must not run
 * between a copy-out and its origin write (snapshot create and delete,
 * revert steps, growing the origin).
 */
#pragma once

#include "zuma-bus-generated.h"
#include "zuma-engine.h"
#include "zuma-volume.h"

typedef enum {
        VOLUME_STOPPED,
        VOLUME_RUNNING,
        VOLUME_FAILED,
} VolumeState;

struct _ZumaVolume {
        GObject parent_instance;
        const ZumaVolumeHost *host; /* unowned: the host outlives its volumes */
        ZumaVolumeConfig *config;
        char *object_path;
        ZumaBusObjectSkeleton *object;
        ZumaBusVolume *iface;
        VolumeState state;
        gboolean forgotten;
        ZumaEngine *engine;         /* open while running, and while failed until Stop */
        gboolean frontend_added;    /* the frontend knows the volume */
        GHashTable *snapshots;      /* id → ZumaSnapshotRecord, while the engine is open */
        GPtrArray *jobs;            /* running ZumaJob of this volume */
        ZumaJob *revert_job;        /* the running revert (also in jobs) */
        gboolean revert_abandoning; /* AbandonRevert is ending revert_job */
        guint refresh_id;           /* periodic store figures and thresholds */
        guint cleanup_id;           /* frees deleted snapshots' space */
        gboolean cleanup_broken;    /* a cleanup step failed: no retry until restart */
        guint usage_level;          /* highest usage threshold crossed: 0, 80, 90, 95 */
};

/* zuma-volume.c */
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
/* Call with engine->lock held right after the failing call r. */
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
gboolean volume_attach_origin(ZumaVolume *self, GError **error);

/* "refuse" or "autodelete"; a stopped volume's store takes it at start. */
gboolean volume_set_full_policy(ZumaVolume *self, const char *policy, GError **error);

/* zuma-volume-methods.c: answers the Volume interface's calls. */
void volume_connect_methods(ZumaVolume *self);

/* zuma-volume-snapshots.c */
/* A snapshot to change (volume_require_running) or only to read
 * (volume_require_readable), by id or by name. */
ZumaSnapshotRecord *volume_lookup_snapshot(ZumaVolume *self, guint32 id, GError **error);
ZumaSnapshotRecord *volume_lookup_snapshot_to_read(ZumaVolume *self, guint32 id, GError **error);
ZumaSnapshotRecord *volume_find_snapshot(ZumaVolume *self, const char *name, GError **error);
ZumaSnapshotRecord *volume_find_snapshot_to_read(ZumaVolume *self, const char *name,
                                                 GError **error);
gboolean volume_load_snapshots(ZumaVolume *self, GError **error);
/* id → ZumaSnapshotRecord, freeing its records. */
GHashTable *volume_new_snapshot_table(void);
/* Attaches the snapshots the definition lists as attached. */
void volume_attach_snapshots(ZumaVolume *self);
/* Forgets a snapshot the engine no longer has: detaches its device,
 * removes the object and, with a reason, emits SnapshotDeleted. */
void volume_drop_snapshot(ZumaVolume *self, ZumaSnapshotRecord *snapshot, const char *reason);
void volume_drop_all_snapshots(ZumaVolume *self);
/* Detaches (force: even if open) and deletes one snapshot. */
gboolean volume_delete_one(ZumaVolume *self, ZumaSnapshotRecord *snapshot, gboolean force,
                           GError **error);
/* Sets *ret_path and *ret_name (the generated one when name is ""). */
gboolean volume_create_snapshot(ZumaVolume *self, const char *name, GVariant *options,
                                char **ret_path, char **ret_name, GError **error);

/* A record's fields. */
static inline guint32 snapshot_record_id(const ZumaSnapshotRecord *s)
{
        return s->info.id;
}

static inline const char *snapshot_record_name(const ZumaSnapshotRecord *s)
{
        return s->info.name;
}

static inline gboolean snapshot_record_writable(const ZumaSnapshotRecord *s)
{
        return (s->info.flags & SS_SNAP_WRITABLE) != 0;
}

static inline const char *snapshot_record_device(const ZumaSnapshotRecord *s)
{
        return s->device;
}

/* Takes the engine's record, or a device ("" for none), and announces the
 * change ("snapshot-changed"). */
void snapshot_record_update(ZumaSnapshotRecord *s, const SsSnapshotInfo *info);
void snapshot_record_set_device(ZumaSnapshotRecord *s, const char *device);

/* zuma-volume-jobs.c */
gboolean volume_delete_snapshots(ZumaVolume *self, const char *const *names, GVariant *options,
                                 char **ret_job, GError **error);
gboolean volume_revert(ZumaVolume *self, const char *name, GVariant *options, char **ret_job,
                       GError **error);
/* Start found snapshots a delete-snapshots job did not get to (the
 * definition's PendingDeletes): delete them. */
void volume_resume_deletes(ZumaVolume *self);
/* Gives up the unfinished revert (running or stuck) and attaches the
 * origin again; NotFound when there is none. */
gboolean volume_abandon_revert(ZumaVolume *self, GVariant *options, GError **error);
/* Start found an unfinished revert in the store: finish it. */
void volume_resume_revert(ZumaVolume *self, guint32 target);
gboolean volume_resize(ZumaVolume *self, GVariant *options, char **ret_job, GError **error);
