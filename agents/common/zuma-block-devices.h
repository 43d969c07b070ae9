/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Block devices as libudev sees them, for hot-plug: the identity of a
 * device (zuma-device-identity.h), the device that has an identity now,
 * and the device holding a volume's store.  A store is known by the
 * properties udev/60-zumastor.rules sets from udev/zuma-udev-probe.c's
 * reading of its superblock:
 *
 *   ZUMASTOR_STORE_UUID            the store's own UUID
 *   ZUMASTOR_STORE_VOLUME_UUID     the volume it belongs to (what
 *                                  volume definitions record as Uuid=)
 *   ZUMASTOR_STORE_VOLUME          the volume's name
 *   ZUMASTOR_STORE_ERROR           instead of those: a store whose
 *                                  superblock cannot be read, and why
 *
 * A loop device that is leaving (no backing file, or set to detach on its
 * last close, which is what `losetup -d` does to a device in use) counts
 * as absent: the volume using it has to let go for it to go.
 */
#pragma once

#include <gio/gio.h>
#include <libudev.h>

G_BEGIN_DECLS

/* Names g_autoptr() can take. */
typedef struct udev ZumaUdev;
typedef struct udev_device ZumaUdevDevice;
typedef struct udev_enumerate ZumaUdevEnumerate;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaUdev, udev_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaUdevDevice, udev_device_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaUdevEnumerate, udev_enumerate_unref)

/* The identity of device, or NULL if it has none. */
char *zuma_udev_device_identity(struct udev_device *device);

/* Whether device is a loop device that is leaving (see above). */
gboolean zuma_udev_device_leaving(struct udev_device *device);

/* The identity of the block device at devnode (a path to a device node);
 * NULL with NotFound for a device without one, or the error that kept it
 * from being read. */
char *zuma_block_device_identity(const char *devnode, GError **error);

/* The device node of the block device with identity (not leaving), or
 * NULL if none is present. */
char *zuma_block_device_find_identity(const char *identity);

/* The device node of the block device udev found holding the store of the
 * volume volume_uuid (not leaving), or NULL. */
char *zuma_block_device_find_store(const char *volume_uuid);

G_END_DECLS
