/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reaching zuma-snapshotd and finding its objects.  A command that names
 * a volume or a snapshot asks the server for that one object
 * (Manager.FindVolume, Volume.FindSnapshot) and reads its properties
 * through a proxy of its own, so its cost does not grow with the number
 * of snapshots.  The commands that show everything (status, list) ask
 * for the lists (Manager.ListVolumes, Volume.ListSnapshots: one compact
 * answer each, a few milliseconds for 10,000 snapshots) and get objects
 * holding what the lists said (proxies for volumes, never-exported
 * skeletons for snapshots, which are many; neither makes a call to be
 * read); only a stopped volume's snapshots, which
 * ListSnapshots does not list, come from the object manager (one
 * GetManagedObjects call with every object and its properties).  Objects
 * created or changed by this run's own calls are read again through a
 * fresh proxy (zumactl_bus_reload_*).
 */
#pragma once

#include "zuma-names.h"
#include "zumactl.h"

G_BEGIN_DECLS

#define ZUMACTL_BUS_NAME ZUMA_SNAPSHOTD_BUS_NAME
#define ZUMACTL_ROOT_PATH ZUMA_SNAPSHOTD_OBJECT_ROOT
#define ZUMACTL_MANAGER_PATH ZUMA_SNAPSHOTD_MANAGER_PATH

/* For calls that open, initialize or flush devices, which may take longer
 * than D-Bus's default 25 s (starting a volume finishes an interrupted
 * revert). */
#define ZUMACTL_DEVICE_CALL_TIMEOUT_MS (30 * 60 * 1000)

/* Connects to the bus and reads the server's Manager object (starting
 * the server if the bus can activate it); fails with an "unreachable"
 * error (exit code 11) when the server is not there. */
gboolean zumactl_bus_connect(ZumactlContext *ctx, GError **error);

/* Opens ctx->connection only (for other daemons than zuma-snapshotd). */
gboolean zumactl_bus_open(ZumactlContext *ctx, GError **error);

/* zumactl_bus_connect(), then every object of the server with its
 * properties (ctx->object_manager). */
gboolean zumactl_bus_load_objects(ZumactlContext *ctx, GError **error);

/* The Manager proxy (a new reference). */
ZumaBusManager *zumactl_bus_get_manager(ZumactlContext *ctx, GError **error);

/* The volume called name, as the server's FindVolume answers (which also
 * judges the name), with its properties read now. */
ZumaBusVolume *zumactl_bus_find_volume(ZumactlContext *ctx, const char *name, GError **error);

/* The same, with a failure reported as zumactl does: "what: why" (what
 * the command was doing, "stopping volume 'vol0'"). */
ZumaBusVolume *zumactl_bus_find_volume_for(ZumactlContext *ctx, const char *name, const char *what,
                                           GError **error);

/* Every volume with its properties, sorted by name (ZumaBusVolume refs,
 * none when the server has no volume). */
gboolean zumactl_bus_list_volumes(ZumactlContext *ctx, GList **ret_volumes, GError **error);

/* The snapshots of volume with their properties, sorted by id
 * (ZumaBusSnapshot refs, not proxies: call their methods by
 * zumactl_bus_path()): those the server lists for it, running or not
 * (none if its store never opened). */
gboolean zumactl_bus_list_snapshots(ZumactlContext *ctx, ZumaBusVolume *volume,
                                    GList **ret_snapshots, GError **error);

gboolean zumactl_bus_volume_is_running(ZumaBusVolume *volume);

/* Fails with NotRunning unless volume runs: its snapshots are on the bus
 * only then. */
gboolean zumactl_bus_require_running(ZumaBusVolume *volume, GError **error);

/* The snapshot of volume called name, as the server's FindSnapshot
 * answers, with its properties read now; NotRunning if the volume is not
 * running (snapshot objects exist only then), NotFound if it has no such
 * snapshot (or name could not be one's). */
ZumaBusSnapshot *zumactl_bus_find_snapshot(ZumactlContext *ctx, ZumaBusVolume *volume,
                                           const char *name, GError **error);

/* The object at path with its properties read now.  NotFound when the
 * server has no such object; unreachable (exit code 11) when it left the
 * bus before answering. */
ZumaBusVolume *zumactl_bus_reload_volume(ZumactlContext *ctx, const char *path, GError **error);
ZumaBusSnapshot *zumactl_bus_reload_snapshot(ZumactlContext *ctx, const char *path, GError **error);

/* The same for an object the server has just acknowledged creating at
 * path (DefineVolume, CreateSnapshot); a failure never reads as NotFound
 * and its message says the object WAS created at path: unreachable (exit
 * code 11) when the server left the bus before answering, Failed when it
 * is there but the object is gone already. */
ZumaBusVolume *zumactl_bus_reload_created_volume(ZumactlContext *ctx, const char *path,
                                                 GError **error);
ZumaBusSnapshot *zumactl_bus_reload_created_snapshot(ZumactlContext *ctx, const char *path,
                                                     GError **error);

/* The object path of a proxy, or of a snapshot from
 * zumactl_bus_list_snapshots(). */
const char *zumactl_bus_path(gpointer object);

/* An empty a{sv} options argument (floating, as the calls take it). */
GVariant *zumactl_bus_no_options(void);

/* Options with "force" (b) when force is TRUE, else empty (floating). */
GVariant *zumactl_bus_force_options(gboolean force);

G_END_DECLS
