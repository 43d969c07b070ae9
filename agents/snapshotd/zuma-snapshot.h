/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaSnapshot: one snapshot of a running volume on the bus
 * (org.zumastor.Zumastor1.Snapshot at .../volumes/NAME/snapshots/ID).
 *
 * The object is the bus face only: its methods check options and the
 * caller, then ask the volume, which owns the engine and the frontend.
 */
#pragma once

#include <gio/gio.h>

#include "snapstore.h"
#include "zuma-volume.h"

G_BEGIN_DECLS

#define ZUMA_TYPE_SNAPSHOT (zuma_snapshot_get_type())
G_DECLARE_FINAL_TYPE(ZumaSnapshot, zuma_snapshot, ZUMA, SNAPSHOT, GObject)

ZumaSnapshot *zuma_snapshot_new(ZumaVolume *volume, const SsSnapshotInfo *info);

guint32 zuma_snapshot_get_id(ZumaSnapshot *self);
const char *zuma_snapshot_get_name(ZumaSnapshot *self);
gboolean zuma_snapshot_get_writable(ZumaSnapshot *self);
const char *zuma_snapshot_get_device(ZumaSnapshot *self);
const char *zuma_snapshot_get_object_path(ZumaSnapshot *self);
GDBusObjectSkeleton *zuma_snapshot_get_object(ZumaSnapshot *self);

/* Takes the engine's record (name, priority, flags...). */
void zuma_snapshot_update(ZumaSnapshot *self, const SsSnapshotInfo *info);
/* "" when no device is attached. */
void zuma_snapshot_set_device(ZumaSnapshot *self, const char *device);

/* The volume dropped the snapshot (deleted, or the volume stopped): a
 * call still on its way gets NotFound. */
void zuma_snapshot_orphan(ZumaSnapshot *self);

G_END_DECLS
