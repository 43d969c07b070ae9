/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The snapshot views of zuma-mounterd (what they hold:
 * zuma-mount-view-plan.h; where: zuma-mount-config.h).
 *
 * Symbolic links, not bind mounts.  smbd's shadow_copy2 follows a link in
 * its snapdir (an absolute path outside the share) to the snapshot's
 * mount without "wide links": it checks the paths it serves against the
 * snapshot's own root (shadow_copy2's connectpath), not against the
 * share's.  A link holds no file system, so the release handshake
 * (zuma-mounter-release.c) has nothing more to unmount, a busy view is a
 * busy snapshot mount and is reported as one, and a mount moved by a
 * rename needs only a new link.  Links to a snapshot are removed before
 * its mount goes (zuma_mount_views_drop(), called by every unmount), so
 * no link ever leads to an unmounted directory; the rest follows each
 * reconcile (zuma_mount_views_sync()).
 *
 * The view directories belong to the mounter: it creates them (0755),
 * removes from them every symbolic link it does not want, and removes
 * each one when its volume no longer has views (stopped, forgotten, the
 * views turned off or moved, the mounter stopping) if nothing else is in
 * it, with the parents it created for it.  Files that are not links are left alone, and logged.  A view
 * directory inside the origin's mount point is used only while the
 * origin is mounted (it would otherwise be made on the directory below,
 * which the origin's mount needs empty).
 */
#pragma once

#include "zuma-mounter-private.h"

/* A view directory the mounter keeps (ZumaMounter's view_dirs). */
typedef struct {
        char *uuid;        /* its volume's */
        char *created_top; /* the topmost directory made for it (removed with it), or NULL */
} ZumaViewDir;

void zuma_view_dir_free(ZumaViewDir *view);

/* Makes every volume's view directories hold what its mounted snapshots
 * ask; removes the directories no volume wants. */
void zuma_mount_views_sync(ZumaMounter *self);

/* Before mount is unmounted: a snapshot's links go; for an origin, the
 * view directories of its volume that lie inside it go whole. */
void zuma_mount_views_drop(ZumaMounter *self, const ZumaMount *mount);

/* A view directory of config must not lie in (or be) any snapshot's
 * mount point, be another mount of the mounter's or another volume's
 * view, nor hold the snapshots' mount points (the template's fixed
 * directory) or the other view (InvalidArgument naming it). */
gboolean zuma_mount_views_check(ZumaMounter *self, const ZumaMountConfig *config, GError **error);
