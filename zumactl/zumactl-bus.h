/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reaching zuma-snapshotd and finding its objects.  A command that names
 * a volume or a snapshot asks the server for that one object
 * (Manager.FindVolume, Volume.FindSnapshot) and reads its properties
 * through a proxy of its own, so its cost does not grow with the number
 * of snapshots.  Only the commands that show everything (status, list)
 * load the object manager: one GetManagedObjects call with every volume
 * and snapshot and their properties.  Objects created or changed by this
 * run's own calls are read again through a fresh proxy
 * (zumactl_bus_reload_*).
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
 * properties, for zumactl_bus_list_volumes() and _list_snapshots(). */
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

/* Every volume, sorted by name (ZumaBusVolume refs); needs
 * zumactl_bus_load_objects(). */
GList *zumactl_bus_list_volumes(ZumactlContext *ctx);

/* The snapshots of volume, sorted by id (ZumaBusSnapshot refs); needs
 * zumactl_bus_load_objects(). */
GList *zumactl_bus_list_snapshots(ZumactlContext *ctx, ZumaBusVolume *volume);

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

const char *zumactl_bus_path(gpointer proxy);

/* An empty a{sv} options argument (floating, as the calls take it). */
GVariant *zumactl_bus_no_options(void);

/* Options with "force" (b) when force is TRUE, else empty (floating). */
GVariant *zumactl_bus_force_options(gboolean force);

G_END_DECLS
