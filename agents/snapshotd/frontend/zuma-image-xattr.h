/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The extended attributes every image file of the FUSE frontend carries,
 * shared with udev/zuma-udev-probe.c, which reads them through the loop
 * device's backing file and turns them into ZUMASTOR_* udev properties.
 * Plain C: the probe does not link GLib.
 */
#pragma once

#define ZUMA_XATTR_VOLUME "user.zumastor.volume"           /* volume name */
#define ZUMA_XATTR_VOLUME_UUID "user.zumastor.volume_uuid" /* volume UUID, text */
#define ZUMA_XATTR_SNAPSHOT "user.zumastor.snapshot"       /* name; empty for the origin */
#define ZUMA_XATTR_SNAPSHOT_ID "user.zumastor.snapshot_id" /* decimal; 0 for the origin */

/* The longest value any of them has (a snapshot name), without NUL. */
#define ZUMA_XATTR_VALUE_MAX 127
