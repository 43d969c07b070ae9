/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-udev-probe: udev helper for the FUSE frontend of zuma-snapshotd.
 *
 *     zuma-udev-probe KERNEL_NAME        (from a rule: IMPORT{program}="... %k")
 *
 * If the loop device KERNEL_NAME is attached to an image file of the
 * frontend, prints the udev properties
 *
 *     ZUMASTOR_VOLUME=NAME
 *     ZUMASTOR_VOLUME_UUID=UUID
 *     ZUMASTOR_SNAPSHOT=NAME          (not printed for the origin: udev
 *                                     refuses an empty value)
 *     ZUMASTOR_SNAPSHOT_ID=ID         (0 for the origin)
 *
 * read from the file's user.zumastor.* attributes, and nothing for any
 * other device.  Every value is checked before it is printed, names by the
 * rule the snapshot server and the engine use (busapi/zuma-name-rule.h):
 * the output becomes device link names.  Exit status 0 unless the
 * attributes are there but invalid.
 *
 * It runs inside udevd and calls into the FUSE file system, whose worker
 * threads answer while zuma-snapshotd's main thread waits in LOOP_CONFIGURE.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/xattr.h>

#include "zuma-image-xattr.h"
#include "zuma-name-rule.h"

#define FUSE_SUPER_MAGIC 0x65735546
#define UUID_TEXT_MAX 64

static bool kernel_name_valid(const char *name)
{
        size_t digits;

        if (strncmp(name, "loop", 4) != 0)
                return false;
        digits = strlen(name + 4);
        return digits >= 1 && digits <= 9 && strspn(name + 4, "0123456789") == digits;
}

static bool uuid_valid(const char *uuid)
{
        size_t length = strlen(uuid);

        return length >= 1 && length <= UUID_TEXT_MAX &&
               strspn(uuid, "0123456789abcdefABCDEF-") == length;
}

static bool id_valid(const char *id)
{
        size_t length = strlen(id);

        if (length < 1 || length > 10 || strspn(id, "0123456789") != length ||
            (length > 1 && id[0] == '0'))
                return false;
        return strtoull(id, NULL, 10) <= UINT32_MAX;
}

/* 1: read, 0: the file has no such attribute, -1: error. */
static int read_xattr(const char *path, const char *name, char *value, size_t size)
{
        ssize_t n = lgetxattr(path, name, value, size - 1);

        if (n < 0) {
                if (errno == ENODATA || errno == ENOTSUP)
                        return 0;
                fprintf(stderr, "zuma-udev-probe: %s: %s: %s\n", path, name, strerror(errno));
                return -1;
        }
        value[n] = '\0';
        if (strlen(value) != (size_t)n) {
                fprintf(stderr, "zuma-udev-probe: %s: %s holds a NUL byte\n", path, name);
                return -1;
        }
        return 1;
}

/* The backing file of the loop device, or false if it has none. */
static bool read_backing_file(const char *kernel_name, char *path, size_t size)
{
        char sys_path[128];
        FILE *f;
        size_t n;

        snprintf(sys_path, sizeof(sys_path), "/sys/block/%s/loop/backing_file", kernel_name);
        f = fopen(sys_path, "re");
        if (!f)
                return false;
        n = fread(path, 1, size - 1, f);
        fclose(f);
        path[n] = '\0';
        if (n > 0 && path[n - 1] == '\n')
                path[--n] = '\0';
        return n > 0 && path[0] == '/' && strlen(path) == n;
}

int main(int argc, char **argv)
{
        char path[PATH_MAX + 1];
        char volume[ZUMA_XATTR_VALUE_MAX + 2], uuid[ZUMA_XATTR_VALUE_MAX + 2];
        char snapshot[ZUMA_XATTR_VALUE_MAX + 2], id[ZUMA_XATTR_VALUE_MAX + 2];
        struct statfs sfs;
        int r;

        if (argc != 2 || !kernel_name_valid(argv[1])) {
                fprintf(stderr, "usage: zuma-udev-probe loopN\n");
                return 2;
        }
        if (!read_backing_file(argv[1], path, sizeof(path)))
                return 0;
        /* Only files of a FUSE file system can be the frontend's. */
        if (statfs(path, &sfs) < 0 || sfs.f_type != FUSE_SUPER_MAGIC)
                return 0;
        r = read_xattr(path, ZUMA_XATTR_VOLUME, volume, sizeof(volume));
        if (r <= 0)
                return r < 0 ? 1 : 0;
        if (read_xattr(path, ZUMA_XATTR_VOLUME_UUID, uuid, sizeof(uuid)) <= 0 ||
            read_xattr(path, ZUMA_XATTR_SNAPSHOT_ID, id, sizeof(id)) <= 0 ||
            read_xattr(path, ZUMA_XATTR_SNAPSHOT, snapshot, sizeof(snapshot)) < 0) {
                fprintf(stderr, "zuma-udev-probe: %s: incomplete Zumastor attributes\n", path);
                return 1;
        }
        if (!zuma_volume_name_valid(volume) || !uuid_valid(uuid) || !id_valid(id)) {
                fprintf(stderr, "zuma-udev-probe: %s: invalid Zumastor attributes\n", path);
                return 1;
        }
        if (strcmp(id, "0") == 0) {
                snapshot[0] = '\0';
        } else if (!zuma_snapshot_name_valid(snapshot)) {
                fprintf(stderr, "zuma-udev-probe: %s: invalid snapshot name, not linked by name\n",
                        path);
                snapshot[0] = '\0';
        }
        printf("ZUMASTOR_VOLUME=%s\n", volume);
        printf("ZUMASTOR_VOLUME_UUID=%s\n", uuid);
        if (snapshot[0])
                printf("ZUMASTOR_SNAPSHOT=%s\n", snapshot);
        printf("ZUMASTOR_SNAPSHOT_ID=%s\n", id);
        return 0;
}
