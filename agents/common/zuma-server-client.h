/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the other daemons (zuma-schedulerd, zuma-mounterd) ask
 * zuma-snapshotd (org.zumastor.Zumastor1), as plain clients of its public
 * bus API.
 *
 * They name volumes by UUID (docs/bus-api.md) and find them, with their
 * snapshots, per look: Manager.ListVolumes, then Volume.ListSnapshots for
 * each (names, pins, priorities, times and devices in one compact answer
 * per volume).  Not the ObjectManager's GetManagedObjects: the server
 * builds that from every snapshot object's properties on its main thread,
 * most of a second with 10,000 snapshots, and snapshot creations waited
 * behind it (schedule_create_ms_max_during_prune in bench/).
 *
 * The calls are synchronous, each with a deadline: the clients do one
 * thing at a time (zuma-scheduler.c says why), and a call never waits on
 * the caller itself (the server calls zuma-mounterd only asynchronously).
 * A server that is not on the bus is ZUMA_ERROR_NOT_RUNNING; the
 * server's own errors keep their code.
 */
#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

G_BEGIN_DECLS

/* Milliseconds a call to the server may take. */
#define ZUMA_SERVER_CALL_TIMEOUT_MS 60000

typedef struct {
        char *path;
        char *name;
        gboolean pinned;
        gint32 priority;
        guint64 creation_time;
        guint32 id; /* 0 when not known (a snapshot just taken) */
        gboolean writable;
        char *device; /* "" while detached */
} ZumaServerSnapshot;

typedef struct {
        char *path;
        char *name;
        char *uuid;           /* "" until first started */
        char *state;          /* "running", "stopped", "failed"... */
        char *device;         /* the origin's block device while running, else "" */
        GPtrArray *snapshots; /* of ZumaServerSnapshot */
} ZumaServerVolume;

void zuma_server_volume_free(ZumaServerVolume *volume);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaServerVolume, zuma_server_volume_free)

ZumaServerSnapshot *zuma_server_snapshot_new(const char *path, const char *name, gboolean pinned,
                                             gint32 priority);
void zuma_server_snapshot_free(ZumaServerSnapshot *snapshot);

/* Every volume the server has, with its snapshots (a GPtrArray of
 * ZumaServerVolume that frees them). */
GPtrArray *zuma_server_list_volumes(GDBusConnection *connection, GError **error);

/* The volume in volumes whose UUID (or, when by_name, whose name) is key;
 * NULL if none. */
ZumaServerVolume *zuma_server_find_volume(GPtrArray *volumes, const char *key, gboolean by_name);

/* The snapshot of volume with id id; NULL if none. */
ZumaServerSnapshot *zuma_server_find_snapshot(const ZumaServerVolume *volume, guint32 id);

/* A volume named by another daemon's caller: a UUID, or a volume name
 * (InvalidArgument otherwise). */
gboolean zuma_server_check_volume_argument(const char *volume, GError **error);

/* The UUID and name of the server's volume volume (a UUID or a name):
 * NotFound (no such volume, or no UUID yet: it never started), or
 * NotRunning (no server on the bus). */
gboolean zuma_server_resolve_volume(GDBusConnection *connection, const char *volume,
                                    char **ret_uuid, char **ret_name, GError **error);

/* Volume.CreateSnapshot(name, {attach: false, priority}); the new
 * snapshot's object path in *ret_path. */
gboolean zuma_server_create_snapshot(GDBusConnection *connection, const ZumaServerVolume *volume,
                                     const char *name, gint32 priority, int timeout_ms,
                                     char **ret_path, GError **error);

/* Volume.DeleteSnapshots(names), and waits for its job to finish. */
gboolean zuma_server_delete_snapshots(GDBusConnection *connection, const ZumaServerVolume *volume,
                                      const char *const *names, GError **error);

/* One call to the server (fds: passed along, may be NULL), its absence
 * from the bus NOT_RUNNING and its errors without the D-Bus prefix. */
GVariant *zuma_server_call(GDBusConnection *connection, const char *path, const char *interface,
                           const char *method, GVariant *params, const char *reply_type,
                           GUnixFDList *fds, int timeout_ms, GError **error);

/* Waits until the server's job job_path ends (Completed, or its object
 * gone: finished), at most timeout_ms: FALSE with FAILED and the job's
 * message when it failed, NOT_RUNNING when the server left the bus,
 * TIMED_OUT.  what names the job in messages ("deletion").  Runs a
 * private main context: callable from any thread. */
gboolean zuma_server_wait_job(GDBusConnection *connection, const char *job_path, const char *what,
                              int timeout_ms, GError **error);

/* Snapshot.Attach(); its device in *ret_device. */
gboolean zuma_server_attach_snapshot(GDBusConnection *connection, const char *snapshot_path,
                                     char **ret_device, GError **error);

/* Snapshot.SetPriority(priority). */
gboolean zuma_server_set_priority(GDBusConnection *connection, const char *snapshot_path,
                                  gint32 priority, GError **error);

G_END_DECLS
