/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which stream brings a target up to a snapshot, from the two lists of
 * snapshots (the volume's here, the target's from WELCOME), each known by
 * name and creation time:
 *
 *  - to: the snapshot asked for, or the volume's newest;
 *  - nothing, when the target holds `to` (same name and time) already;
 *  - from: the newest snapshot older than `to` that the target holds with
 *    the same name and time, so only the chunks changed since go;
 *  - a full stream when the two hold none in common.
 *
 * Pure: no bus, no I/O (tests/replication checks it).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct ZumaPlanSnapshot {
        const char *name;
        gint64 ctime;
        guint32 id; /* orders snapshots of the same second (0: unknown) */
} ZumaPlanSnapshot;

typedef struct ZumaSendPlan {
        gboolean up_to_date; /* the target holds `to` already */
        const char *to;      /* pointers into the local list */
        gint64 to_ctime;
        const char *from; /* "" for a full stream */
        gint64 from_ctime;
} ZumaSendPlan;

/* local: n_local snapshots of the volume (any order); remote: the
 * target's, an a(sx); wanted: a name, or NULL for the newest.  FALSE with
 * NotFound when wanted is not a snapshot of the volume, or the volume has
 * none; AlreadyExists when the target holds another snapshot of that
 * name. */
gboolean zuma_send_plan(const ZumaPlanSnapshot *local, guint n_local, GVariant *remote,
                        const char *wanted, ZumaSendPlan *ret_plan, GError **error);

G_END_DECLS
