/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loop devices over the frontend's image files.
 *
 * A device is configured in one LOOP_CONFIGURE with direct I/O (when the
 * kernel accepts it), read-only when asked, and autoclear: the frontend
 * keeps one plain (non-exclusive) read-only descriptor open for as long as
 * the image is attached, so a killed server leaves no loop device behind
 * unless something still uses it.
 *
 * Every call here may make the kernel open or close the backing file, which
 * sends FUSE requests: the caller must hold no lock the FUSE threads take.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct ZumaLoopDevice ZumaLoopDevice;

ZumaLoopDevice *zuma_loop_device_attach(const char *backing_file, gboolean read_only,
                                        GError **error);

/* "/dev/loopN" */
const char *zuma_loop_device_get_path(ZumaLoopDevice *loop);

/* Open exclusively by someone (a mount, another O_EXCL opener). */
gboolean zuma_loop_device_is_busy(ZumaLoopDevice *loop);

/* Lets the device go.  Without force a busy device fails with
 * ZUMA_ERROR_BUSY and stays attached; with force the device is cleared when
 * its last user closes it.  On success the object is freed. */
gboolean zuma_loop_device_detach(ZumaLoopDevice *loop, gboolean force, GError **error);

/* Marks the block device read-only (writes then fail with EPERM/EROFS). */
gboolean zuma_loop_device_set_read_only(ZumaLoopDevice *loop, gboolean read_only, GError **error);

/* Makes the device take its backing file's current size (the image
 * grew); returns the device's size in bytes in *ret_size. */
gboolean zuma_loop_device_refresh_capacity(ZumaLoopDevice *loop, guint64 *ret_size, GError **error);

/* Asks udev to run its rules again ("change" uevent). */
gboolean zuma_loop_device_trigger_change(ZumaLoopDevice *loop, GError **error);

/* Detaches every loop device whose backing file lies under dir (what a
 * killed server left); returns how many. */
guint zuma_loop_device_clear_stale(const char *dir);

G_END_DECLS
