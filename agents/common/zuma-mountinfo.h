/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mount table of this process's mount namespace, from
 * /proc/self/mountinfo (proc(5)): what the scheduler freezes and what the
 * mounter follows.  The kernel's file, not /etc/mtab or libmount's
 * utab: a mount made with mount(2) shows here at once.
 */
#pragma once

#include <sys/types.h>

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct ZumaMountEntry {
        dev_t device;      /* MAJOR:MINOR of the mounted file system */
        char *mount_point; /* unescaped */
        char *fstype;
        char *source; /* "/dev/loop3"; unescaped */
} ZumaMountEntry;

/* Parses the text of a mountinfo file into a GPtrArray of ZumaMountEntry
 * (freed with it), in the file's order; malformed lines are skipped. */
GPtrArray *zuma_mountinfo_parse(const char *text);

/* Reads and parses /proc/self/mountinfo. */
GPtrArray *zuma_mountinfo_read(GError **error);

/* The last (topmost) entry mounted at mount_point, or NULL. */
const ZumaMountEntry *zuma_mountinfo_find_point(GPtrArray *entries, const char *mount_point);

/* The first entry of block device number device, or NULL. */
const ZumaMountEntry *zuma_mountinfo_find_device(GPtrArray *entries, dev_t device);

/* Where the block device device is mounted, or NULL (no error) when it is
 * not; a device that cannot be stat'ed is an error. */
char *zuma_find_mount_point(const char *device, GError **error);

G_END_DECLS
