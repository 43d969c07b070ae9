/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stable identities of block devices, as recorded in a volume definition
 * (OriginIdentity=) so that hot-plug finds a volume's origin again when
 * its device node changes (loop numbers change across re-attach, disks
 * across plugs).  One text, "KIND:VALUE", chosen in this order, the first
 * the device has:
 *
 *   loop:OFFSET:PATH   a loop device: its backing file (absolute path, as
 *                      the kernel reports it) and the offset into it in
 *                      bytes.  Loop numbers are not stable; the file is.
 *   dm:DM_UUID         a device-mapper device (an LVM LV: "LVM-<vg><lv>"
 *                      UUIDs), which keeps its UUID across activations.
 *   partuuid:UUID      a partition, by its partition-table entry's UUID
 *                      (udev's ID_PART_ENTRY_UUID; MBR disks have one too).
 *   serial:SERIAL      a whole disk, by udev's ID_SERIAL (model and serial
 *                      number).
 *
 * A device with none of them (a RAM disk, a disk without a serial) has no
 * identity: its volume keeps working by path, and hot-plug leaves it alone.
 *
 * This file is the pure part (facts in, text out; parsing and checking),
 * unit tested in tests/mounterd/; zuma-block-devices.h gets the facts
 * from libudev.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest identity text accepted (a path of PATH_MAX and a prefix). */
#define ZUMA_DEVICE_IDENTITY_MAX 4200

/* What udev and sysfs say about a block device; NULL or "" when absent. */
typedef struct {
        const char *loop_backing_file; /* loop/backing_file */
        guint64 loop_offset;           /* loop/offset, bytes */
        const char *dm_uuid;           /* DM_UUID */
        const char *part_uuid;         /* ID_PART_ENTRY_UUID */
        const char *serial;            /* ID_SERIAL */
} ZumaDeviceFacts;

/* The identity the facts give, or NULL if they give none. */
char *zuma_device_identity_from_facts(const ZumaDeviceFacts *facts);

/* Whether text is a well-formed identity; InvalidArgument naming what is
 * wrong otherwise.  "" is not one (callers treat "" as "none recorded"). */
gboolean zuma_device_identity_check(const char *text, GError **error);

/* "the loop device over /var/img/home.img" and the like, for messages. */
char *zuma_device_identity_describe(const char *identity);

/* The usual text of a 16-byte UUID (lower case), as volumes show it. */
char *zuma_uuid_string(const guint8 *uuid);

G_END_DECLS
