/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-udev-probe: udev helper for the data frontends of zuma-snapshotd.
 *
 *     zuma-udev-probe KERNEL_NAME        (from a rule: IMPORT{program}="... %k")
 *
 * If KERNEL_NAME is a loop device attached to an image file of the FUSE
 * frontend, or a device-mapper device of the kernel frontend, prints the
 * udev properties
 *
 *     ZUMASTOR_VOLUME=NAME
 *     ZUMASTOR_VOLUME_UUID=UUID
 *     ZUMASTOR_SNAPSHOT=NAME          (not printed for the origin: udev
 *                                     refuses an empty value)
 *     ZUMASTOR_SNAPSHOT_ID=ID         (0 for the origin)
 *
 * read from the file's user.zumastor.* attributes (loop) or from the
 * device's names file (dm: zuma-image-xattr.h), and nothing for any other
 * device.  Every value is checked before it is printed, names by the rule
 * the snapshot server and the engine use (busapi/zuma-name-rule.h): the
 * output becomes device link names.  Exit status 0 unless the values are
 * there but invalid.
 *
 * For a loop device it calls into the FUSE file system, whose worker
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

/* Whether name is prefix followed by 1 to 9 digits. */
static bool kernel_name_is(const char *name, const char *prefix)
{
        size_t digits, n = strlen(prefix);

        if (strncmp(name, prefix, n) != 0)
                return false;
        digits = strlen(name + n);
        return digits >= 1 && digits <= 9 && strspn(name + n, "0123456789") == digits;
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

/* Reads the first line of file path (without its newline) into line;
 * false if there is none or it has a NUL byte. */
static bool read_line(FILE *f, char *line, size_t size)
{
        size_t n;

        if (!fgets(line, (int)size, f))
                return false;
        n = strlen(line);
        if (n > 0 && line[n - 1] == '\n')
                line[--n] = '\0';
        return true;
}

/* The first line of a small sysfs file, or false. */
static bool read_sys_file(const char *kernel_name, const char *file, char *value, size_t size)
{
        char sys_path[128];
        FILE *f;
        bool ok;

        snprintf(sys_path, sizeof(sys_path), "/sys/block/%s/%s", kernel_name, file);
        f = fopen(sys_path, "re");
        if (!f)
                return false;
        ok = read_line(f, value, size) && value[0] != '\0';
        fclose(f);
        return ok;
}

typedef struct Image {
        char volume[ZUMA_XATTR_VALUE_MAX + 2], uuid[ZUMA_XATTR_VALUE_MAX + 2];
        char snapshot[ZUMA_XATTR_VALUE_MAX + 2], id[ZUMA_XATTR_VALUE_MAX + 2];
} Image;

/* A loop device: 1 read from its backing file's attributes, 0 not the
 * FUSE frontend's, -1 invalid. */
static int probe_loop(const char *kernel_name, Image *image)
{
        char path[PATH_MAX + 1];
        struct statfs sfs;
        int r;

        if (!read_sys_file(kernel_name, "loop/backing_file", path, sizeof(path)) || path[0] != '/')
                return 0;
        /* Only files of a FUSE file system can be the frontend's. */
        if (statfs(path, &sfs) < 0 || sfs.f_type != FUSE_SUPER_MAGIC)
                return 0;
        r = read_xattr(path, ZUMA_XATTR_VOLUME, image->volume, sizeof(image->volume));
        if (r <= 0)
                return r;
        if (read_xattr(path, ZUMA_XATTR_VOLUME_UUID, image->uuid, sizeof(image->uuid)) <= 0 ||
            read_xattr(path, ZUMA_XATTR_SNAPSHOT_ID, image->id, sizeof(image->id)) <= 0 ||
            read_xattr(path, ZUMA_XATTR_SNAPSHOT, image->snapshot, sizeof(image->snapshot)) < 0) {
                fprintf(stderr, "zuma-udev-probe: %s: incomplete Zumastor attributes\n", path);
                return -1;
        }
        return 1;
}

/* A device-mapper device: 1 read from its names file, 0 not the kernel
 * frontend's, -1 invalid. */
static int probe_dm(const char *kernel_name, Image *image)
{
        char uuid[160], name[160], path[sizeof(ZUMA_DM_NAMES_DIR) + 160];
        FILE *f;
        bool ok;

        if (!read_sys_file(kernel_name, "dm/uuid", uuid, sizeof(uuid)) ||
            strncmp(uuid, ZUMA_DM_UUID_PREFIX, strlen(ZUMA_DM_UUID_PREFIX)) != 0 ||
            !read_sys_file(kernel_name, "dm/name", name, sizeof(name)) || strchr(name, '/'))
                return 0;
        snprintf(path, sizeof(path), "%s/%s", ZUMA_DM_NAMES_DIR, name);
        f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "zuma-udev-probe: %s: %s: %s\n", kernel_name, path,
                        strerror(errno));
                return -1;
        }
        ok = read_line(f, image->volume, sizeof(image->volume)) &&
             read_line(f, image->uuid, sizeof(image->uuid)) &&
             read_line(f, image->id, sizeof(image->id)) &&
             read_line(f, image->snapshot, sizeof(image->snapshot));
        fclose(f);
        if (!ok) {
                fprintf(stderr, "zuma-udev-probe: %s: incomplete\n", path);
                return -1;
        }
        return 1;
}

int main(int argc, char **argv)
{
        Image image;
        int r;

        memset(&image, 0, sizeof(image));
        if (argc != 2 || !(kernel_name_is(argv[1], "loop") || kernel_name_is(argv[1], "dm-"))) {
                fprintf(stderr, "usage: zuma-udev-probe loopN|dm-N\n");
                return 2;
        }
        r = kernel_name_is(argv[1], "loop") ? probe_loop(argv[1], &image)
                                            : probe_dm(argv[1], &image);
        if (r <= 0)
                return r < 0 ? 1 : 0;
        if (!zuma_volume_name_valid(image.volume) || !uuid_valid(image.uuid) ||
            !id_valid(image.id)) {
                fprintf(stderr, "zuma-udev-probe: %s: invalid Zumastor values\n", argv[1]);
                return 1;
        }
        if (strcmp(image.id, "0") == 0) {
                image.snapshot[0] = '\0';
        } else if (!zuma_snapshot_name_valid(image.snapshot)) {
                fprintf(stderr, "zuma-udev-probe: %s: invalid snapshot name, not linked by name\n",
                        argv[1]);
                image.snapshot[0] = '\0';
        }
        printf("ZUMASTOR_VOLUME=%s\n", image.volume);
        printf("ZUMASTOR_VOLUME_UUID=%s\n", image.uuid);
        if (image.snapshot[0])
                printf("ZUMASTOR_SNAPSHOT=%s\n", image.snapshot);
        printf("ZUMASTOR_SNAPSHOT_ID=%s\n", image.id);
        return 0;
}
