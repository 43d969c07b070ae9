/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the snapshot views of one volume should hold, the pure part of
 * zuma-mount-views.c (no file system, no bus; tests/mounterd tests it).
 *
 * Two directories per volume (where: zuma-mount-config.h), each a set of
 * symbolic links to the snapshots' mount points:
 *
 *   GMT view    "@GMT-YYYY.MM.DD-HH.MM.SS" -> mount point, the snapshot's
 *               creation time in UTC, the names Samba's vfs_shadow_copy2
 *               lists as Windows "Previous Versions";
 *   names view  "NAME" -> mount point, the snapshot's name, for local
 *               users (a ".snapshot" directory).
 *
 * Only mounted snapshots have views: a link always leads to a mounted
 * file system, never to an empty directory.
 *
 * Two snapshots taken in the same second would want one @GMT name (the
 * format has no finer unit, and Samba parses no other).  The newest of
 * them (the highest id) takes it: it is what the volume held at the end
 * of that second, and a link that is already there keeps its name when
 * an older snapshot goes.  The older ones are in the names view only.
 * Times are never shifted to make room: a "Previous Version" labelled
 * with a second at which it was not taken would be a lie, and a shifted
 * name would move when its neighbour is deleted.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* "@GMT-" and 19 characters. */
#define ZUMA_MOUNT_GMT_NAME_LEN 24

typedef struct {
        guint32 id;
        guint64 creation_time; /* seconds since the epoch */
        const char *name;      /* the snapshot's name */
        const char *target;    /* its mount point */
} ZumaViewSource;

/* "@GMT-2027.03.20-10.30.00" for a creation time in seconds since the
 * epoch (UTC); NULL past the year 9999. */
char *zuma_mount_gmt_name(guint64 creation_time);

/* The links of both views for the mounted snapshots sources: *ret_gmt
 * and *ret_names map a link's name to its target (hash tables owning
 * their keys and values).  The GMT view resolves shared seconds as said
 * above. */
void zuma_mount_view_plan(const ZumaViewSource *sources, guint n_sources, GHashTable **ret_gmt,
                          GHashTable **ret_names);

G_END_DECLS
