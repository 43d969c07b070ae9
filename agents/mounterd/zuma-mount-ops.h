/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What zuma-mounterd does to the system: mount(2), umount2(2) and the
 * directories mount points need.  Never a shell command, never a lazy
 * unmount (MNT_DETACH hides a busy mount from its user and leaves the
 * device open; the mounter fails Busy instead), never a mount by file
 * system UUID (every snapshot carries its origin's).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The file system type on device ("ext4", "xfs"), by libblkid when built
 * with it, else by trying the block file systems of /proc/filesystems at
 * mount time (returns "" then).  NotFound when blkid finds none. */
char *zuma_mount_probe_fstype(const char *device, GError **error);

/* mount(2) of device at path; fstype "" tries every block file system the
 * kernel has. */
gboolean zuma_mount_device(const char *device, const char *path, const char *fstype,
                           unsigned long flags, const char *data, char **ret_fstype,
                           GError **error);

/* umount2(path, 0): Busy (EBUSY) when a process uses it. */
gboolean zuma_mount_unmount(const char *path, GError **error);

/* MS_MOVE of the mount at from to to (to must exist).  Fails (EINVAL)
 * when from's parent mount is shared: the caller mounts again then. */
gboolean zuma_mount_move(const char *from, const char *to, GError **error);

/* Makes path a directory to mount on: creates it (and its parents, 0755)
 * when missing (*ret_created TRUE), else it must be a directory, and
 * empty unless allow_nonempty (AlreadyExists otherwise). */
gboolean zuma_mount_prepare_dir(const char *path, gboolean allow_nonempty, gboolean *ret_created,
                                GError **error);

/* Whether path is a directory with entries; FALSE when missing. */
gboolean zuma_mount_dir_has_entries(const char *path);

/* rmdir of a directory the mounter created; a directory that is not
 * empty (someone put files there) stays. */
void zuma_mount_remove_dir(const char *path);

G_END_DECLS
