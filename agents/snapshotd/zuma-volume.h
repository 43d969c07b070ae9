/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume: the volume core, one origin device and its snapshot store.
 * A plain GObject: no bus, no skeleton; what the bus shows of it
 * (org.zumastor.Zumastor1.Volume at /org/zumastor/Zumastor1/volumes/NAME)
 * is its face, ZumaVolumeFace (zuma-volume-face.h), which follows the
 * properties and signals below.  Tests drive it without a bus or root
 * (tests/snapshotd/test-volume.c).
 *
 * States: "stopped" (no engine), "running" (engine open, devices
 * attached, one ZumaSnapshotRecord per snapshot) and "failed" (the store
 * failed an I/O or refused to open; LastError says why; Stop then Start
 * retries).
 *
 * Properties (read-only, notify only when the value changes; each is the
 * bus property of the same name, Volume.xml says what it means):
 *   "name", "uuid", "origin-device", "store-device", "mount-point",
 *   "state", "last-error", "store-warning", "device", "full-policy" (s);
 *   "chunk-size", "snapshot-count" (u); "origin-size", "store-size",
 *   "store-data-bytes", "store-metadata-bytes", "store-free-bytes" (t);
 *   "store-usage-rate" (d); "store-full-in-seconds" (x).
 *
 * Signals (the bus signals of the same name, in the order the bus sends
 * them; property changes made before "started", "stopped" and "failed"
 * are to reach the bus before them):
 *   "started" ()
 *   "stopped" (const char *reason): "requested", "failed", "shutdown"
 *   "failed" (const char *message): the new LastError
 *   "snapshot-created" (guint id, const char *name)
 *   "snapshot-deleted" (guint id, const char *name, const char *reason)
 *   "usage-threshold" (guint percent, gboolean rising)
 * and, for the snapshot records, "snapshot-added", "snapshot-changed",
 * "snapshot-removed" (guint id; see ZumaSnapshotRecord).
 *
 * The implementation is split along its jobs, each file calling only the
 * ones below it: zuma-volume.c (the type, start, stop, engine events) over
 * zuma-volume-jobs.c (DeleteSnapshots, Revert, AbandonRevert, Resize) over
 * zuma-volume-snapshots.c (snapshot records and operations) over
 * zuma-volume-state.c (shared state, properties and signals, checks,
 * figures, cleanup); zuma-volume-private.h is what they share.
 */
#pragma once

#include <gio/gio.h>

#include "snapstore.h"
#include "stream.h"
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
 * argument: the id; "snapshot-removed" while the record is still there);
 * a bus face (ZumaSnapshotFace, made by ZumaVolumeFace) follows them. */
typedef struct ZumaSnapshotRecord {
        ZumaVolume *volume; /* unowned: the volume owns its records */
        SsSnapshotInfo info;
        char *device; /* "" when no device is attached */
} ZumaSnapshotRecord;

/* The record of snapshot id, or NULL. */
const ZumaSnapshotRecord *zuma_volume_get_snapshot(ZumaVolume *self, guint32 id);
/* The ids of the snapshots the volume has records of. */
GArray *zuma_volume_dup_snapshot_ids(ZumaVolume *self);
/* The object path of snapshot id (a copy): where its face is exported,
 * and what SnapshotCreated and SnapshotDeleted name. */
char *zuma_volume_dup_snapshot_path(ZumaVolume *self, guint32 id);

/* Takes over config; host outlives the volume. */
ZumaVolume *zuma_volume_new(const ZumaVolumeHost *host, ZumaVolumeConfig *config);

const char *zuma_volume_get_name(ZumaVolume *self);
/* Where its face is exported (ZUMA_OBJECT_ROOT/volumes/NAME, escaped);
 * jobs name their volume by it. */
const char *zuma_volume_get_object_path(ZumaVolume *self);
const ZumaVolumeConfig *zuma_volume_get_config(ZumaVolume *self);
/* The "state", "last-error" and "device" properties. */
const char *zuma_volume_get_state(ZumaVolume *self);
const char *zuma_volume_get_last_error(ZumaVolume *self);
const char *zuma_volume_get_device(ZumaVolume *self);
gboolean zuma_volume_is_running(ZumaVolume *self);
gboolean zuma_volume_is_stopped(ZumaVolume *self);

/* Whether a device of the volume is open (mounted, or a process holds
 * it): snapshot id's, the origin's (SS_ORIGIN_ID), or with
 * ZUMA_VOLUME_ANY_DEVICE any of them.  The faces ask before a delete,
 * detach or stop, to let zuma-mounterd release its mounts first
 * (zuma-mount-release.h). */
#define ZUMA_VOLUME_ANY_DEVICE G_MAXUINT32
gboolean zuma_volume_device_is_busy(ZumaVolume *self, guint32 id);

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
 * records "running" as the desired state once it succeeded.  error may be
 * NULL (the reason is logged and kept in LastError). */
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

/* NotFound once the definition was forgotten (a call still on its way). */
gboolean zuma_volume_check_known(ZumaVolume *self, GError **error);

/* The Volume interface's operations, arguments checked and typed (the
 * face parses the a{sv} options first).  Jobs: *ret_job is the job's
 * object path. */
typedef enum {
        ZUMA_SNAPSHOT_CREATE_PINNED = 1u << 0,
        ZUMA_SNAPSHOT_CREATE_WRITABLE = 1u << 1,
        /* Give it a device (when the server has a data frontend). */
        ZUMA_SNAPSHOT_CREATE_ATTACH = 1u << 2,
} ZumaSnapshotCreateFlags;

/* name "": a generated one.  Sets *ret_path and *ret_name. */
gboolean zuma_volume_create_snapshot(ZumaVolume *self, const char *name, gint32 priority,
                                     ZumaSnapshotCreateFlags flags, char **ret_path,
                                     char **ret_name, GError **error);
/* Only reads: the volume must be readable (zuma_volume_is_readable()). */
gboolean zuma_volume_find_snapshot(ZumaVolume *self, const char *name, guint32 *ret_id,
                                   GError **error);
/* Only reads, like find: every record, oldest (lowest id) first, in a
 * GPtrArray of const ZumaSnapshotRecord * valid until the volume changes. */
GPtrArray *zuma_volume_list_snapshots(ZumaVolume *self, GError **error);
gboolean zuma_volume_delete_snapshots(ZumaVolume *self, const char *const *names, gboolean force,
                                      char **ret_job, GError **error);
gboolean zuma_volume_revert(ZumaVolume *self, const char *name, gboolean force, char **ret_job,
                            GError **error);
gboolean zuma_volume_abandon_revert(ZumaVolume *self, GError **error);
gboolean zuma_volume_resize(ZumaVolume *self, gboolean origin, gboolean store, char **ret_job,
                            GError **error);
/* "refuse" or "autodelete"; a stopped volume's store takes it at start. */
gboolean zuma_volume_set_full_policy(ZumaVolume *self, const char *policy, GError **error);

/* Replication streams (docs/replication-stream.md; the design is at the
 * top of zuma-volume-stream.c).  fd: a pipe, a socket or a regular file
 * open for the direction (else InvalidArgument at once); the volume
 * works on a duplicate, so the caller may close its own.  Each runs as a
 * job (operation "send-stream", "receive-stream", "digest"), cancelable,
 * whose Done counts the stream bytes moved (a send: the chunk bytes sent
 * of Total, the chunk bytes it carries); the figures of the last one
 * that succeeded are zuma_volume_get_last_stream_stats()'s. */
typedef struct ZumaStreamSendOptions {
        int zstd_level;       /* 0: chunks go uncompressed; 1..19 */
        gboolean resume;      /* only the chunks above resume_after */
        guint64 resume_after; /* the receiver's durable index (its resume point) */
        /* A resume point after this many chunk and zero records; 0: the
         * engine's default (1024). */
        guint32 resume_every_records;
} ZumaStreamSendOptions;

/* The stream of snapshot to_name: the chunks changed since from_name, or
 * all of it (a full stream) when from_name is NULL.  Both are kept from
 * Delete while it runs. */
gboolean zuma_volume_send_stream(ZumaVolume *self, const char *from_name, const char *to_name,
                                 int fd, const ZumaStreamSendOptions *options, char **ret_job,
                                 GError **error);

typedef struct ZumaStreamReceiveOptions {
        /* The stream must resume at this volume's durable point of the same
         * stream (zuma_volume_receive_resume_point()); else it must start
         * from scratch. */
        gboolean resume;
} ZumaStreamReceiveOptions;

/* Applies a stream to this (downstream) volume; the snapshot appears once
 * its digest matched.  While it runs: origin writes answer Busy, and so
 * do Revert, Resize, CreateSnapshot and another receive; the base
 * snapshot may not be deleted and is pinned (no auto-delete). */
gboolean zuma_volume_receive_stream(ZumaVolume *self, int fd,
                                    const ZumaStreamReceiveOptions *options, char **ret_job,
                                    GError **error);

/* Where a sender should start the stream to_name@to_ctime from from_name
 * (NULL or "": a full stream): *ret_resumable TRUE and *ret_resume_after
 * the durable index if this volume holds part of exactly that stream,
 * else FALSE (start from scratch). */
gboolean zuma_volume_receive_resume_point(ZumaVolume *self, const char *to_name, gint64 to_ctime,
                                          const char *from_name, gboolean *ret_resumable,
                                          guint64 *ret_resume_after, GError **error);

/* The digest of snapshot name, for verify: *ret_known TRUE and
 * *ret_digest from the cache when a send, a receive or an earlier digest
 * job left it; else *ret_known FALSE and *ret_job a job that reads the
 * snapshot and leaves the digest in the cache (ask again when it is
 * done). */
gboolean zuma_volume_snapshot_digest(ZumaVolume *self, const char *name, gboolean *ret_known,
                                     SsStreamDigest *ret_digest, char **ret_job, GError **error);

/* The figures of the last stream job that succeeded, FALSE if none. */
gboolean zuma_volume_get_last_stream_stats(ZumaVolume *self, SsStreamStats *ret_stats);

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
