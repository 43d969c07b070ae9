/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The extended attributes every image file of the FUSE frontend carries,
 * and the names files of the kernel frontend's devices (below),
 * shared with udev/zuma-udev-probe.c, which reads them through the loop
 * device's backing file and turns them into ZUMASTOR_* udev properties.
 * Plain C: the probe does not link GLib.
 */
#pragma once

#define ZUMA_XATTR_VOLUME "user.zumastor.volume"           /* volume name */
#define ZUMA_XATTR_VOLUME_UUID "user.zumastor.volume_uuid" /* volume UUID, text */
#define ZUMA_XATTR_SNAPSHOT "user.zumastor.snapshot"       /* name; empty for the origin */
#define ZUMA_XATTR_SNAPSHOT_ID "user.zumastor.snapshot_id" /* decimal; 0 for the origin */

/* The kernel frontend's devices carry the same four values in a file
 * ZUMA_DM_NAMES_DIR/DM_NAME (DM_NAME as zumastor-VOLUME[@ID]), one per
 * line in this order: volume, volume uuid, snapshot id, snapshot name
 * (empty for the origin).  The directory is machine-wide, as dm names
 * are; the probe reads it for a dm device whose dm uuid starts with
 * ZUMA_DM_UUID_PREFIX. */
#define ZUMA_DM_NAMES_DIR "/run/zumastor-dm"
#define ZUMA_DM_UUID_PREFIX "ZUMASTOR-"

/* The longest value any of them has (a snapshot name), without NUL. */
#define ZUMA_XATTR_VALUE_MAX 127
