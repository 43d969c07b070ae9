/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume: one origin device and its snapshot store
 * (org.zumastor.Zumastor1.Volume at /org/zumastor/Zumastor1/volumes/NAME).
 *
 * States: "stopped" (no engine), "running" (engine open, devices
 * attached, one ZumaSnapshotRecord per snapshot) and "failed" (the store
 * failed an I/O or refused to open; LastError says why; Stop then Start
 * retries).  The implementation is split along its jobs:
 * zuma-volume.c (life cycle, properties, usage), zuma-volume-methods.c
 * (the bus methods), zuma-volume-snapshots.c (snapshot operations) and
 * zuma-volume-jobs.c (DeleteSnapshots, Revert, Resize).
 */
#pragma once

#include <gio/gio.h>

#include "snapstore.h"
#include "zuma-volume-host.h"
#include "zuma-volume-config.h"

G_BEGIN_DECLS

#define ZUMA_TYPE_VOLUME (zuma_volume_get_type())
G_DECLARE_FINAL_TYPE(ZumaVolume, zuma_volume, ZUMA, VOLUME, GObject)

/* One snapshot as the volume keeps it: the engine's record and its
 * device.  A running volume keeps them with the engine; a stopped or
 * failed one keeps the last it knew (or, after the server started, the
 * ones its store lists), read-only: every operation on them answers
 * NotRunning.  The volume announces each with the signals
 * "snapshot-added", "snapshot-changed" and "snapshot-removed" (one guint
 * argument: the id); a bus face (ZumaSnapshot) follows them. */
typedef struct ZumaSnapshotRecord {
        ZumaVolume *volume; /* unowned: the volume owns its records */
        SsSnapshotInfo info;
        char *device; /* "" when no device is attached */
} ZumaSnapshotRecord;

/* The record of snapshot id, or NULL. */
const ZumaSnapshotRecord *zuma_volume_get_snapshot(ZumaVolume *self, guint32 id);
/* The ids of the snapshots the volume has records of. */
GArray *zuma_volume_dup_snapshot_ids(ZumaVolume *self);
/* The object path of snapshot id (a copy). */
char *zuma_volume_dup_snapshot_path(ZumaVolume *self, guint32 id);

/* Takes over config; host outlives the volume. */
ZumaVolume *zuma_volume_new(const ZumaVolumeHost *host, ZumaVolumeConfig *config);

const char *zuma_volume_get_name(ZumaVolume *self);
const char *zuma_volume_get_object_path(ZumaVolume *self);
GDBusObjectSkeleton *zuma_volume_get_object(ZumaVolume *self);
const ZumaVolumeConfig *zuma_volume_get_config(ZumaVolume *self);
ZumaAuth *zuma_volume_get_auth(ZumaVolume *self);
gboolean zuma_volume_is_running(ZumaVolume *self);
gboolean zuma_volume_is_stopped(ZumaVolume *self);

/* Whether path names the volume's origin or store device (same block
 * device, or same file). */
gboolean zuma_volume_uses_device(ZumaVolume *self, const char *path);

typedef enum {
        /* An administrator asked (Volume.Start, DefineVolume), not the
         * server starting its volumes: a damage recorded when the volume
         * last ran no longer keeps it from starting. */
        ZUMA_VOLUME_START_REQUESTED = 1u << 0,
        /* Open the store on an older commit when the newest cannot be
         * read (SS_OPEN_ACCEPT_ROLLBACK); without it such a store keeps
         * the volume "failed", LastError saying what would be lost. */
        ZUMA_VOLUME_START_ACCEPT_ROLLBACK = 1u << 1,
} ZumaVolumeStartFlags;

/* Start and Stop.  reason: "requested" records the desired state,
 * "shutdown" keeps it (the volume starts with the next server).  Start
 * records "running" as the desired state once it succeeded. */
gboolean zuma_volume_start(ZumaVolume *self, ZumaVolumeStartFlags flags, GError **error);
gboolean zuma_volume_stop(ZumaVolume *self, gboolean force, const char *reason, GError **error);

/* The definition is being removed: the volume is stopped; it answers
 * NotFound from now on. */
void zuma_volume_forget(ZumaVolume *self);

/* Writes the definition to the state directory. */
gboolean zuma_volume_save_config(ZumaVolume *self, GError **error);

/* Whether the volume's snapshots can be read and looked up: running, or
 * failed because its store is damaged (reads go on, changes do not). */
gboolean zuma_volume_is_readable(ZumaVolume *self);

/* Snapshot operations, for the Snapshot interface's methods (by id). */
gboolean zuma_volume_delete_snapshot(ZumaVolume *self, guint32 id, gboolean force, GError **error);
gboolean zuma_volume_rename_snapshot(ZumaVolume *self, guint32 id, const char *name,
                                     GError **error);
gboolean zuma_volume_set_snapshot_priority(ZumaVolume *self, guint32 id, gint32 priority,
                                           GError **error);
gboolean zuma_volume_set_snapshot_pinned(ZumaVolume *self, guint32 id, gboolean pinned,
                                         GError **error);
gboolean zuma_volume_set_snapshot_writable(ZumaVolume *self, guint32 id, gboolean writable,
                                           GError **error);
gboolean zuma_volume_attach_snapshot(ZumaVolume *self, guint32 id, char **ret_device,
                                     GError **error);
gboolean zuma_volume_detach_snapshot(ZumaVolume *self, guint32 id, gboolean force, GError **error);
gboolean zuma_volume_get_snapshot_usage(ZumaVolume *self, guint32 id, SsSnapshotUsage *ret_usage,
                                        GError **error);

G_END_DECLS
