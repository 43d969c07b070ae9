/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume's snapshot layer (zuma-volume-snapshots.c): the records of
 * the volume's snapshots and the operations on them (the public ones are
 * in zuma-volume.h).  Stands on zuma-volume-state.c only.
 */
#pragma once

#include "zuma-volume-private.h"

/* A snapshot to change (volume_require_running) or only to read
 * (volume_require_readable), by id or by name. */
ZumaSnapshotRecord *volume_lookup_snapshot(ZumaVolume *self, guint32 id, GError **error);
ZumaSnapshotRecord *volume_lookup_snapshot_to_read(ZumaVolume *self, guint32 id, GError **error);
ZumaSnapshotRecord *volume_find_snapshot(ZumaVolume *self, const char *name, GError **error);
ZumaSnapshotRecord *volume_find_snapshot_to_read(ZumaVolume *self, const char *name,
                                                 GError **error);
/* Many names at once (DeleteSnapshots, the scheduler's prune): the
 * records indexed by name once, then each name found in the index, not by
 * a walk over every record (1,024 names among 10,000 snapshots were 10
 * million name compares on the main thread).  The index is valid until
 * the records change. */
GHashTable *volume_index_snapshot_names(ZumaVolume *self, GError **error);
ZumaSnapshotRecord *volume_find_snapshot_in(ZumaVolume *self, GHashTable *index, const char *name,
                                            GError **error);
/* Start: takes the engine's records (updates those listed while stopped). */
gboolean volume_load_snapshots(ZumaVolume *self, GError **error);
/* While stopped: lists the store's snapshots through a read-only open of
 * its newest commit, so they stay visible; a store that does not open
 * leaves the list as it was. */
void volume_list_stored_snapshots(ZumaVolume *self);
/* Stop: detaches every snapshot's device; the records stay. */
void volume_detach_all_snapshots(ZumaVolume *self);
/* id → ZumaSnapshotRecord, freeing its records. */
GHashTable *volume_new_snapshot_table(void);
/* Attaches the snapshots the definition lists as attached. */
void volume_attach_snapshots(ZumaVolume *self);
/* Forgets a snapshot the engine no longer has: detaches its device,
 * drops the record ("snapshot-removed") and, with a reason, emits
 * "snapshot-deleted". */
void volume_drop_snapshot(ZumaVolume *self, ZumaSnapshotRecord *snapshot, const char *reason);
void volume_drop_all_snapshots(ZumaVolume *self);
/* A snapshot the engine created outside zuma_volume_create_snapshot()
 * (a received stream's): its record, "snapshot-created". */
void volume_add_created_snapshot(ZumaVolume *self, const SsSnapshotInfo *info);
/* Detaches (force: even if open) and deletes one snapshot. */
gboolean volume_delete_one(ZumaVolume *self, ZumaSnapshotRecord *snapshot, gboolean force,
                           GError **error);

/* A record's fields. */
static inline guint32 snapshot_record_id(const ZumaSnapshotRecord *s)
{
        return s->info.id;
}

static inline const char *snapshot_record_name(const ZumaSnapshotRecord *s)
{
        return s->info.name;
}

static inline gboolean snapshot_record_writable(const ZumaSnapshotRecord *s)
{
        return (s->info.flags & SS_SNAP_WRITABLE) != 0;
}

static inline const char *snapshot_record_device(const ZumaSnapshotRecord *s)
{
        return s->device;
}

/* Takes the engine's record, or a device ("" for none), and announces the
 * change ("snapshot-changed"). */
void snapshot_record_update(ZumaSnapshotRecord *s, const SsSnapshotInfo *info);
void snapshot_record_set_device(ZumaSnapshotRecord *s, const char *device);
