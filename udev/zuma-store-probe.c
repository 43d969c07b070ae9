/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-store-probe: udev helper that recognises a Zumastor store.
 *
 *     zuma-store-probe DEVNODE        (from a rule: IMPORT{program}="... $devnode")
 *
 * If the block device DEVNODE carries a store (the superblock magic in any
 * of its superblock areas), reads its superblock with libsnapstore's
 * ss_store_probe() and prints the udev properties
 *
 *     ZUMASTOR_STORE_UUID=UUID            the store's own UUID
 *     ZUMASTOR_STORE_VOLUME_UUID=UUID     the volume it belongs to
 *     ZUMASTOR_STORE_VOLUME=NAME          the volume's name
 *
 * or, when the superblock cannot be read (every copy damaged, an
 * unsupported format), only
 *
 *     ZUMASTOR_STORE_ERROR=WHY            one line, printable ASCII
 *
 * and nothing for any other device.  zuma-mounterd's hot-plug reads them
 * (agents/mounterd/zuma-hotplug.c).  It reads at most the four
 * superblock areas (512 KiB) and only of devices whose first bytes say
 * "store", never writes, and exits 0 unless it cannot run at all: udev
 * must not wait long on it or log a failure for an ordinary disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blockdev.h"
#include "format.h"
#include "snapstore.h"

static void print_uuid(const char *key, const uint8_t uuid[16])
{
        printf("%s=%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n", key,
               uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8],
               uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

/* udev reads one KEY=VALUE a line: the reason loses anything else. */
static void print_error(const char *why)
{
        char line[200];
        size_t i;

        for (i = 0; why[i] && i < sizeof(line) - 1; i++)
                line[i] = why[i] >= 0x20 && why[i] < 0x7f && why[i] != '"' ? why[i] : ' ';
        line[i] = '\0';
        printf("ZUMASTOR_STORE_ERROR=%s\n", line);
}

/* Whether any superblock area starts with the store's magic. */
static int has_store_magic(const char *devnode)
{
        uint8_t header[16];
        int fd = open(devnode, O_RDONLY | O_CLOEXEC);
        int found = 0;

        if (fd < 0)
                return -errno;
        for (unsigned area = 0; area < SS_SB_AREAS && !found; area++) {
                off_t offset = (off_t)area * SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE;

                if (pread(fd, header, sizeof(header), offset) != (ssize_t)sizeof(header))
                        break;
                found = header[8] == (SS_MAGIC_SUPERBLOCK & 0xff) &&
                        header[9] == ((SS_MAGIC_SUPERBLOCK >> 8) & 0xff) &&
                        header[10] == ((SS_MAGIC_SUPERBLOCK >> 16) & 0xff) &&
                        header[11] == (SS_MAGIC_SUPERBLOCK >> 24);
        }
        close(fd);
        return found;
}

int main(int argc, char **argv)
{
        SsBlockDev *dev = NULL;
        SsStoreLabel label;
        int r;

        if (argc != 2 || argv[1][0] != '/') {
                fprintf(stderr, "usage: zuma-store-probe /dev/DEVICE\n");
                return 2;
        }
        r = has_store_magic(argv[1]);
        if (r <= 0)
                return 0; /* not a store, or not readable: nothing to say */
        r = ss_blockdev_open_file(argv[1], SS_BLOCKDEV_READONLY | SS_BLOCKDEV_BUFFERED, &dev);
        if (r < 0) {
                print_error(ss_last_error());
                return 0;
        }
        r = ss_store_probe(dev, &label);
        ss_blockdev_close(dev);
        if (r < 0 && r != -ESTALE) {
                print_error(ss_last_error());
                return 0;
        }
        print_uuid("ZUMASTOR_STORE_UUID", label.uuid);
        print_uuid("ZUMASTOR_STORE_VOLUME_UUID", label.volume_uuid);
        printf("ZUMASTOR_STORE_VOLUME=%s\n", label.volume_name);
        return 0;
}
