/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit test of the file backend of SsBlockDev, on a temporary file in
 * /var/tmp (a disk file system, so O_DIRECT is normally in effect).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapstore.h"
#include "test-check.h"

#define FILE_SIZE (4u << 20)

static char path[] = "/var/tmp/test-blockdev-XXXXXX";

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
        for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)(i * 7 + i / 4096 + seed);
}

/* Whether some fd of this process opened on path has O_DIRECT: read from
 * /proc so the test sees what the kernel sees, not what the backend says. */
static bool direct_in_effect(const char *file)
{
        char link[64], target[4096], info[64], line[256];
        bool direct = false;

        for (int fd = 0; fd < 1024 && !direct; fd++) {
                ssize_t n;
                FILE *f;

                snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
                n = readlink(link, target, sizeof(target) - 1);
                if (n < 0)
                        continue;
                target[n] = '\0';
                if (strcmp(target, file) != 0)
                        continue;
                snprintf(info, sizeof(info), "/proc/self/fdinfo/%d", fd);
                f = fopen(info, "re");
                if (!f)
                        continue;
                while (fgets(line, sizeof(line), f)) {
                        unsigned long flags;

                        if (sscanf(line, "flags: %lo", &flags) == 1)
                                direct = flags & O_DIRECT;
                }
                fclose(f);
        }
        return direct;
}

static void test_read_write(void)
{
        uint8_t *wbuf = ss_alloc_io_buffer(FILE_SIZE), *rbuf = ss_alloc_io_buffer(FILE_SIZE);
        /* Deliberately misaligned views, to exercise the bounce buffer. */
        uint8_t *wodd = malloc(FILE_SIZE + 8), *rodd = malloc(FILE_SIZE + 8);
        SsBlockDev *dev = NULL;
        int r;

        CHECK(wbuf && rbuf && wodd && rodd, "allocation");
        CHECK((uintptr_t)wbuf % SS_IO_ALIGN == 0, "ss_alloc_io_buffer is aligned");

        r = ss_blockdev_open_file(path, 0, &dev);
        CHECK(r == 0, "open: %d %s", r, ss_last_error());
        if (r < 0)
                return;
        printf("# O_DIRECT in effect: %s\n", direct_in_effect(path) ? "yes" : "no");
        CHECK(ss_dev_size(dev) == FILE_SIZE, "size %" PRIu64, ss_dev_size(dev));
        CHECK(strcmp(dev->name, path) == 0, "name %s", dev->name);

        /* Aligned buffer. */
        fill(wbuf, 65536, 1);
        CHECK(ss_dev_pwrite(dev, wbuf, 65536, 4096) == 0, "aligned write: %s", ss_last_error());
        memset(rbuf, 0, 65536);
        CHECK(ss_dev_pread(dev, rbuf, 65536, 4096) == 0, "aligned read: %s", ss_last_error());
        CHECK(memcmp(rbuf, wbuf, 65536) == 0, "aligned data read back");

        /* Misaligned buffers, larger than one bounce piece, at a 512-byte offset. */
        size_t len = (1u << 20) + 512;
        fill(wodd + 1, len, 2);
        CHECK(ss_dev_pwrite(dev, wodd + 1, len, 512 * 301) == 0, "unaligned write: %s",
              ss_last_error());
        memset(rodd, 0, len + 3);
        CHECK(ss_dev_pread(dev, rodd + 3, len, 512 * 301) == 0, "unaligned read: %s",
              ss_last_error());
        CHECK(memcmp(rodd + 3, wodd + 1, len) == 0, "unaligned data read back");

        /* Last sector of the device. */
        fill(wbuf, 512, 3);
        CHECK(ss_dev_pwrite(dev, wbuf, 512, FILE_SIZE - 512) == 0, "last sector");
        CHECK(ss_dev_flush(dev) == 0, "flush: %s", ss_last_error());
        ss_blockdev_close(dev);

        /* A second, buffered handle sees the data. */
        r = ss_blockdev_open_file(path, SS_BLOCKDEV_BUFFERED, &dev);
        CHECK(r == 0, "buffered open: %d", r);
        if (r == 0) {
                CHECK(!direct_in_effect(path), "BUFFERED did not use O_DIRECT");
                CHECK(ss_dev_pread(dev, rbuf, len, 512 * 301) == 0, "read");
                CHECK(memcmp(rbuf, wodd + 1, len) == 0, "data persisted");
                CHECK(ss_dev_pread(dev, rbuf, 512, FILE_SIZE - 512) == 0, "read");
                CHECK(memcmp(rbuf, wbuf, 512) == 0, "last sector persisted");
                ss_blockdev_close(dev);
        }

        free(wbuf);
        free(rbuf);
        free(wodd);
        free(rodd);
        printf("ok read-write\n");
}

static void test_refused(void)
{
        uint8_t *buf = ss_alloc_io_buffer(8192);
        SsBlockDev *dev = NULL;
        int r;

        r = ss_blockdev_open_file(path, 0, &dev);
        CHECK(r == 0, "open: %d", r);
        if (r < 0)
                return;

        r = ss_dev_pread(dev, buf, 4096, FILE_SIZE);
        CHECK(r == -EINVAL, "read past the end: %d", r);
        CHECK(strstr(ss_last_error(), path) != NULL, "message names the path: %s", ss_last_error());
        r = ss_dev_pread(dev, buf, 1024, FILE_SIZE - 512);
        CHECK(r == -EINVAL, "read across the end: %d", r);
        r = ss_dev_pwrite(dev, buf, 4096, FILE_SIZE);
        CHECK(r == -EINVAL, "write past the end: %d", r);
        CHECK(ss_dev_size(dev) == FILE_SIZE, "a refused write did not extend the file");
        r = ss_dev_pread(dev, buf, 512, UINT64_MAX - 511);
        CHECK(r == -EINVAL, "offset overflow: %d", r);
        r = ss_dev_pread(dev, buf, 512, 100);
        CHECK(r == -EINVAL, "unaligned offset: %d", r);
        r = ss_dev_pread(dev, buf, 100, 0);
        CHECK(r == -EINVAL, "unaligned length: %d", r);

        /* The file shrinks under the open device: a read past the new end
         * transfers nothing and fails with -EIO. */
        CHECK(truncate(path, FILE_SIZE / 2) == 0, "truncate");
        r = ss_dev_pread(dev, buf, 4096, FILE_SIZE / 2);
        CHECK(r == -EIO, "read past the shrunk end: %d", r);
        CHECK(strstr(ss_last_error(), path) != NULL, "message: %s", ss_last_error());
        printf("# after shrinking: %s\n", ss_last_error());
        r = ss_dev_pread(dev, buf, 4096, FILE_SIZE / 2 - 512);
        CHECK(r == -EIO, "read across the shrunk end: %d", r);

        /* Growing the file is seen without reopening. */
        CHECK(truncate(path, FILE_SIZE) == 0, "truncate");
        CHECK(ss_dev_size(dev) == FILE_SIZE, "size after growing back");
        CHECK(ss_dev_pread(dev, buf, 4096, FILE_SIZE - 4096) == 0, "read after growing");

        ss_blockdev_close(dev);
        free(buf);
        printf("ok refused\n");
}

static void test_readonly(void)
{
        uint8_t *buf = ss_alloc_io_buffer(4096);
        SsBlockDev *dev = NULL;
        int r;

        r = ss_blockdev_open_file(path, SS_BLOCKDEV_READONLY, &dev);
        CHECK(r == 0, "read-only open: %d", r);
        if (r < 0)
                return;
        CHECK(ss_dev_pread(dev, buf, 4096, 0) == 0, "read from a read-only device");
        memset(buf, 0xab, 4096);
        r = ss_dev_pwrite(dev, buf, 4096, 0);
        CHECK(r < 0, "write to a read-only device refused: %d", r);
        printf("# read-only write: %s\n", ss_last_error());
        CHECK(ss_dev_flush(dev) == 0, "flush of a read-only device");
        ss_blockdev_close(dev);
        free(buf);
        printf("ok readonly\n");
}

static void test_open_errors(void)
{
        const char *missing = "/var/tmp/test-blockdev-does-not-exist";
        SsBlockDev *dev = (SsBlockDev *)&dev; /* must stay untouched */
        int r;

        r = ss_blockdev_open_file(missing, 0, &dev);
        CHECK(r == -ENOENT, "missing path: %d", r);
        CHECK(dev == (SsBlockDev *)&dev, "ret_dev untouched on failure");
        CHECK(strstr(ss_last_error(), missing) != NULL, "message names the path: %s",
              ss_last_error());
        printf("# missing: %s\n", ss_last_error());

        r = ss_blockdev_open_file("/var/tmp", SS_BLOCKDEV_READONLY, &dev);
        CHECK(r == -EISDIR, "directory: %d", r);
        r = ss_blockdev_open_file("/dev/null", SS_BLOCKDEV_READONLY, &dev);
        CHECK(r == -ENOTBLK, "character device: %d", r);
        CHECK(dev == (SsBlockDev *)&dev, "ret_dev untouched on failure");

        /* EXCLUSIVE only matters for block devices; a file opens fine. */
        r = ss_blockdev_open_file(path, SS_BLOCKDEV_EXCLUSIVE, &dev);
        CHECK(r == 0, "exclusive open of a file: %d", r);
        if (r == 0)
                ss_blockdev_close(dev);

        ss_blockdev_close(NULL);
        printf("ok open-errors\n");
}

static void test_odd_size(void)
{
        SsBlockDev *dev = NULL;
        int r;

        /* A size that is not a multiple of 512 is rounded down. */
        CHECK(truncate(path, 3 * 512 + 100) == 0, "truncate");
        r = ss_blockdev_open_file(path, 0, &dev);
        CHECK(r == 0, "open: %d", r);
        if (r < 0)
                return;
        CHECK(ss_dev_size(dev) == 3 * 512, "size %" PRIu64, ss_dev_size(dev));
        ss_blockdev_close(dev);
        printf("ok odd-size\n");
}

int main(void)
{
        int fd = mkstemp(path);

        if (fd < 0 || ftruncate(fd, FILE_SIZE) < 0) {
                printf("FAIL: cannot create %s: %s\n", path, strerror(errno));
                return 1;
        }
        close(fd);

        test_read_write();
        test_refused();
        test_readonly();
        test_open_errors();
        test_odd_size();

        unlink(path);
        if (check_failures) {
                printf("%d check(s) failed\n", check_failures);
                return 1;
        }
        return 0;
}
