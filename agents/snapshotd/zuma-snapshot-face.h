/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaSnapshotFace: the bus face of one snapshot record of a volume
 * (org.zumastor.Zumastor1.Snapshot at .../volumes/NAME/snapshots/ID), a
 * subclass of gdbus-codegen's ZumaBusSnapshotSkeleton.
 *
 * Its properties mirror the volume's ZumaSnapshotRecord; its methods are
 * one ZumaMethodTable (zuma-method-table.h: caller check, options, reply)
 * whose functions ask the volume by id.  The volume does not know its
 * faces: ZumaVolumeFace makes one per record, updates it when the record
 * changes and forgets it when the record goes.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-auth.h"
#include "zuma-bus-generated.h"
#include "zuma-volume.h"

G_BEGIN_DECLS

#define ZUMA_TYPE_SNAPSHOT_FACE (zuma_snapshot_face_get_type())
G_DECLARE_FINAL_TYPE(ZumaSnapshotFace, zuma_snapshot_face, ZUMA, SNAPSHOT_FACE,
                     ZumaBusSnapshotSkeleton)

/* The face of volume's record id (which must exist); auth decides who may
 * call its mutating methods. */
ZumaSnapshotFace *zuma_snapshot_face_new(ZumaVolume *volume, guint32 id, ZumaAuth *auth);

/* Takes the record's fields again (after "snapshot-changed"). */
void zuma_snapshot_face_update(ZumaSnapshotFace *self);

/* The record is gone: lets go of the volume; a call still on its way
 * answers NotFound. */
void zuma_snapshot_face_forget(ZumaSnapshotFace *self);

G_END_DECLS
