/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaSnapshot: the bus face of one snapshot of a running volume
 * (org.zumastor.Zumastor1.Snapshot at .../volumes/NAME/snapshots/ID).
 *
 * The face only: its properties mirror the volume's ZumaSnapshotRecord,
 * its methods check options and the caller, then ask the volume by id.
 * The volume does not know its faces; they follow its signals.
 */
#pragma once

#include <gio/gio.h>

#include "snapstore.h"
#include "zuma-volume.h"

G_BEGIN_DECLS

#define ZUMA_TYPE_SNAPSHOT (zuma_snapshot_get_type())
G_DECLARE_FINAL_TYPE(ZumaSnapshot, zuma_snapshot, ZUMA, SNAPSHOT, GObject)

/* Gives the volume's snapshots faces on the bus: one ZumaSnapshot per
 * record, exported on objects while the record lives (the volume's
 * "snapshot-*" signals), for as long as the volume does. */
void zuma_snapshot_follow_volume(ZumaVolume *volume, GDBusObjectManagerServer *objects);

G_END_DECLS
