/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A volume definition as kept under the state directory: one GKeyFile per
 * volume, STATE_DIR/volumes/NAME.conf, replaced atomically on every change
 * (write a temporary file, fsync, rename).
 *
 *   [Volume]
 *   Version=1
 *   Name=home
 *   OriginDevice=/dev/vg0/home
 *   OriginIdentity=dm:LVM-...  (zuma-device-identity.h; "" or absent: none known)
 *   StoreDevice=/dev/vg0/home-snap
 *   MountPoint=/home
 *   FullPolicy=autodelete
 *   ChunkSize=16384
 *   Uuid=0f0e...            (from the store, once started)
 *   Running=true            (desired state: start it when the server starts)
 *   AttachedSnapshots=3;17; (snapshot ids whose device is attached)
 *   PendingDeletes=4;5;6;   (snapshot ids a delete-snapshots job is to delete)
 *   Damage=B-tree node 93: checksum mismatch   (the store was found damaged)
 *
 * Running records what the administrator asked for, not what happened: a
 * volume that was running when the server stopped or died starts again
 * with the server, one stopped with Stop stays stopped.
 *
 * AttachedSnapshots likewise: a volume starts with its origin attached and
 * only the snapshots that were attached when it last ran (Attach,
 * CreateSnapshot with "attach" add one, Detach and deletion remove it),
 * so a volume with thousands of snapshots does not need a loop device for
 * each.  Older servers ignore the key.
 *
 * PendingDeletes makes DeleteSnapshots survive a crash: the ids are saved
 * (durably) before the job deletes the first one and dropped when it
 * ends; a volume that starts with ids left finishes deleting them, first
 * thing.  Snapshot ids are never reused in a store, so an id left over
 * names the snapshot it was meant for or none.
 *
 * OriginIdentity is how hot-plug finds the origin again when its device
 * node changes: recorded at define time when the device has one, and by
 * the first start of a definition that predates it; each start resolves
 * it to the current node and records that as OriginDevice
 * (zuma-volume-devices.c).  Older servers ignore the key.
 *
 * Damage records that the running store was found damaged, so the server
 * does not start the volume again on its own (a restart is not an
 * administrator's decision): the volume stays "failed" until Volume.Start
 * is called, which clears it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct ZumaVolumeConfig {
        char *name;
        char *origin_device;
        char *origin_identity; /* "" if none known */
        char *store_device;
        char *mount_point;          /* "" if none */
        char *full_policy;          /* "refuse" or "autodelete" */
        guint32 chunk_size;         /* bytes, 0 until known */
        char *uuid;                 /* "" until first started */
        gboolean running;           /* desired state */
        GArray *attached_snapshots; /* guint32 ids, ascending, no duplicates */
        GArray *pending_deletes;    /* guint32 ids, ascending, no duplicates */
        char *damage;               /* "" unless the store was found damaged */
} ZumaVolumeConfig;

ZumaVolumeConfig *zuma_volume_config_new(const char *name, const char *origin_device,
                                         const char *store_device);
void zuma_volume_config_free(ZumaVolumeConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaVolumeConfig, zuma_volume_config_free)

/* Whether snapshot id is to be attached when the volume starts. */
gboolean zuma_volume_config_get_snapshot_attached(const ZumaVolumeConfig *config, guint32 id);

/* Records whether snapshot id is attached; returns whether that changed
 * anything (and the definition needs saving). */
gboolean zuma_volume_config_set_snapshot_attached(ZumaVolumeConfig *config, guint32 id,
                                                  gboolean attached);

/* Whether id is in PendingDeletes; adds the ids to, or removes them
 * from, it. */
gboolean zuma_volume_config_has_pending_delete(const ZumaVolumeConfig *config, guint32 id);
void zuma_volume_config_add_pending_deletes(ZumaVolumeConfig *config, const GArray *ids);
void zuma_volume_config_remove_pending_deletes(ZumaVolumeConfig *config, const GArray *ids);

/* Reads and checks one definition. */
ZumaVolumeConfig *zuma_volume_config_load(const char *path, GError **error);

/* Every definition in dir (STATE_DIR/volumes): a file that cannot be read
 * or fails a check is logged and skipped, so one bad file never keeps the
 * others from starting. */
GPtrArray *zuma_volume_config_load_all(const char *dir);

/* Writes config to dir/NAME.conf atomically and durably. */
gboolean zuma_volume_config_save(const ZumaVolumeConfig *config, const char *dir, GError **error);

/* Removes dir/NAME.conf; a missing file is no error. */
gboolean zuma_volume_config_remove(const char *dir, const char *name, GError **error);

G_END_DECLS
