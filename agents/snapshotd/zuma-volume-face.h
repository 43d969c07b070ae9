/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolumeFace: the bus face of one ZumaVolume
 * (org.zumastor.Zumastor1.Volume at /org/zumastor/Zumastor1/volumes/NAME),
 * a subclass of gdbus-codegen's ZumaBusVolumeSkeleton.
 *
 * It follows its volume (the core, zuma-volume.h), which does not know
 * it: every property is bound one to one to the volume's property of the
 * same name, the volume's signals become the bus signals, and each
 * snapshot record gets a ZumaSnapshotFace on its own object
 * (.../snapshots/ID), exported while the record lives.  Its methods are
 * one ZumaMethodTable (zuma-method-table.h), whose functions read the
 * arguments and options and call the volume's typed operations.
 *
 * Ownership, a tree: the manager holds the volume and its face; the face
 * holds a reference to the volume and its snapshot objects (each holding
 * its ZumaSnapshotFace, which holds the volume too); the exported volume
 * object holds the face.  The object manager is the manager's: the face
 * only points at it.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-auth.h"
#include "zuma-bus-generated.h"
#include "zuma-volume.h"

G_BEGIN_DECLS

#define ZUMA_TYPE_VOLUME_FACE (zuma_volume_face_get_type())
G_DECLARE_FINAL_TYPE(ZumaVolumeFace, zuma_volume_face, ZUMA, VOLUME_FACE, ZumaBusVolumeSkeleton)

/* Follows volume from now on; auth decides who may call the mutating
 * methods of the volume and its snapshots.  objects (may be NULL: a face
 * off the bus, for tests) is where the snapshots' objects are exported,
 * the ones the volume has already right away. */
ZumaVolumeFace *zuma_volume_face_new(ZumaVolume *volume, ZumaAuth *auth,
                                     GDBusObjectManagerServer *objects);

ZumaVolume *zuma_volume_face_get_volume(ZumaVolumeFace *self);

/* Exports the face on its own object at the volume's path. */
void zuma_volume_face_export(ZumaVolumeFace *self);

/* Takes the face and its snapshots' objects off the bus for good (the
 * volume was forgotten). */
void zuma_volume_face_unexport(ZumaVolumeFace *self);

/* The server ends: takes the snapshots' objects off the bus and lets go of
 * the object manager, which keeps the volume's own object (and so the
 * face) until it goes itself. */
void zuma_volume_face_detach(ZumaVolumeFace *self);

/* The face of snapshot id, or NULL (for tests). */
ZumaBusSnapshot *zuma_volume_face_peek_snapshot(ZumaVolumeFace *self, guint32 id);

G_END_DECLS
