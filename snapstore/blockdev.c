/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The file backend of SsBlockDev: a regular file or a block device.
 *
 * O_DIRECT is used when possible so the store's idea of what is durable is
 * not blurred by the page cache, and so copying a chunk does not evict the
 * origin's cache.  It is dropped, for the whole device, when the file system
 * refuses it at open (tmpfs) or later refuses a transfer with EINVAL (a
 * device whose logical sector is larger than 512 bytes): correctness first.
 *
 * Both backends (this one and tests/faultdev.c) refuse the same requests:
 * offsets and lengths that are not multiples of 512, and ranges beyond the
 * device size, with -EINVAL.  A regular file is never extended by a write.
 * The size of a regular file is rounded down to a multiple of 512.
 *
 * Threads.  One device may be used by several threads at once without a
 * lock: zuma-snapshotd's frontend reads and writes the origin from many
 * threads while the engine (under its own lock) asks for the size.  The
 * fields those calls may change, the cached size and the O_DIRECT flag,
 * are atomics, read once per decision; both only cache a fact about the
 * file (its size, whether the kernel takes O_DIRECT), so relaxed order is
 * enough: any value a thread sees was true at some point.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define SECTOR_SIZE 512u
/* Largest piece copied through a bounce buffer at a time. */
#define BOUNCE_MAX (256u << 10)

typedef struct FileDev {
        SsBlockDev dev;
        int fd;
        _Atomic bool direct; /* O_DIRECT still on; see drop_direct() */
        bool readonly;
        bool is_blockdev;
        _Atomic uint64_t size; /* bytes, multiple of 512; last size seen */
} FileDev;

static FileDev *file_dev(SsBlockDev *dev)
{
        return (FileDev *)dev;
}

static uint64_t known_size(FileDev *f)
{
        return atomic_load_explicit(&f->size, memory_order_relaxed);
}

static void remember_size(FileDev *f, uint64_t size)
{
        atomic_store_explicit(&f->size, size, memory_order_relaxed);
}

static bool direct_io(FileDev *f)
{
        return atomic_load_explicit(&f->direct, memory_order_relaxed);
}

static int query_size(int fd, bool is_blockdev, uint64_t *ret_size)
{
        uint64_t size = 0;

        if (is_blockdev) {
                if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                        return -errno;
        } else {
                struct stat st;

                if (fstat(fd, &st) < 0)
                        return -errno;
                size = (uint64_t)st.st_size;
        }
        *ret_size = size & ~(uint64_t)(SECTOR_SIZE - 1);
        return 0;
}

/* The request is well formed and inside the device.  The size is queried
 * again before refusing, so a device grown since open is usable at once. */
static int check_range(FileDev *f, const char *what, size_t len, uint64_t off)
{
        uint64_t size = known_size(f);

        if (off % SECTOR_SIZE != 0 || len % SECTOR_SIZE != 0)
                return ss_error(-EINVAL,
                                "%s: %s of %zu bytes at %" PRIu64
                                " refused: not a multiple of %u bytes",
                                f->dev.name, what, len, off, SECTOR_SIZE);
        if (off <= size && len <= size - off)
                return 0;
        if (query_size(f->fd, f->is_blockdev, &size) == 0)
                remember_size(f, size);
        if (off <= size && len <= size - off)
                return 0;
        return ss_error(-EINVAL,
                        "%s: %s of %zu bytes at %" PRIu64 " refused: beyond the end (%" PRIu64
                        " bytes)",
                        f->dev.name, what, len, off, size);
}

/* Called once a transfer failed with EINVAL under O_DIRECT: go on buffered.
 * Several threads may get here at once; each retries its transfer. */
static bool drop_direct(FileDev *f)
{
        int fl;

        if (!direct_io(f))
                return false;
        fl = fcntl(f->fd, F_GETFL);
        if (fl < 0 || fcntl(f->fd, F_SETFL, fl & ~O_DIRECT) < 0)
                return false;
        atomic_store_explicit(&f->direct, false, memory_order_relaxed);
        return true;
}

/* Transfers exactly len bytes between buf (aligned if O_DIRECT is on) and the
 * file, looping over short transfers and EINTR. */
static int transfer(FileDev *f, bool write, void *buf, size_t len, uint64_t off)
{
        size_t done = 0;

        while (done < len) {
                ssize_t n;

                if (write)
                        n = pwrite(f->fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
                else
                        n = pread(f->fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EINVAL && drop_direct(f))
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO; /* past the end: the file shrank */
                done += (size_t)n;
        }
        return 0;
}

/* Bounces through an aligned buffer when O_DIRECT is on and buf is not. */
static int transfer_any(FileDev *f, bool write, void *buf, size_t len, uint64_t off)
{
        _cleanup_free_ uint8_t *bounce = NULL;
        size_t done = 0;
        int r = 0;

        if (!direct_io(f) || len == 0 || (uintptr_t)buf % SS_IO_ALIGN == 0)
                return transfer(f, write, buf, len, off);

        bounce = ss_alloc_io_buffer(MIN(len, BOUNCE_MAX));
        if (!bounce)
                return -ENOMEM;
        while (done < len && r == 0) {
                size_t piece = MIN(len - done, BOUNCE_MAX);

                if (write)
                        memcpy(bounce, (uint8_t *)buf + done, piece);
                r = transfer(f, write, bounce, piece, off + done);
                if (r == 0 && !write)
                        memcpy((uint8_t *)buf + done, bounce, piece);
                done += piece;
        }
        return r;
}

static int file_pread(SsBlockDev *dev, void *buf, size_t len, uint64_t off)
{
        FileDev *f = file_dev(dev);
        int r;

        r = check_range(f, "read", len, off);
        if (r < 0)
                return r;
        r = transfer_any(f, false, buf, len, off);
        if (r < 0)
                ss_set_error("%s: read of %zu bytes at %" PRIu64 " failed: %s", dev->name, len, off,
                             strerror(-r));
        return r;
}

static int file_pwrite(SsBlockDev *dev, const void *buf, size_t len, uint64_t off)
{
        FileDev *f = file_dev(dev);
        int r;

        if (f->readonly)
                return ss_error(-EROFS,
                                "%s: write of %zu bytes at %" PRIu64 " refused: opened read-only",
                                dev->name, len, off);
        r = check_range(f, "write", len, off);
        if (r < 0)
                return r;
        /* transfer() never writes through buf; the cast only shares code. */
        r = transfer_any(f, true, (void *)buf, len, off);
        /* A block device made read-only under us (BLKROSET) refuses with
         * EPERM: a read-only device, not a permission the caller lacks. */
        if (r == -EPERM && f->is_blockdev)
                r = -EROFS;
        if (r < 0)
                ss_set_error("%s: write of %zu bytes at %" PRIu64 " failed: %s", dev->name, len,
                             off, strerror(-r));
        return r;
}

static int file_flush(SsBlockDev *dev)
{
        FileDev *f = file_dev(dev);
        int r;

        r = f->is_blockdev ? fsync(f->fd) : fdatasync(f->fd);
        if (r < 0) {
                r = -errno;
                ss_set_error("%s: flush failed: %s", dev->name, strerror(-r));
        }
        return r;
}

static uint64_t file_size(SsBlockDev *dev)
{
        FileDev *f = file_dev(dev);
        uint64_t size = 0;

        if (query_size(f->fd, f->is_blockdev, &size) < 0)
                return known_size(f);
        remember_size(f, size);
        return size;
}

static void file_close(SsBlockDev *dev)
{
        FileDev *f = file_dev(dev);

        close(f->fd);
        free(dev->name);
        free(f);
}

static const SsBlockDevOps file_ops = {
        .pread = file_pread,
        .pwrite = file_pwrite,
        .flush = file_flush,
        .size = file_size,
        .close = file_close,
        .parallel_reads = true,
};

/* Opens path with O_DIRECT if wanted, falling back to buffered I/O when the
 * file system refuses O_DIRECT.  Returns the fd or -errno. */
static int open_fd(const char *path, int oflags, bool want_direct, bool *ret_direct)
{
        int fd;

        if (want_direct) {
                fd = open(path, oflags | O_DIRECT);
                if (fd >= 0) {
                        *ret_direct = true;
                        return fd;
                }
                if (errno != EINVAL)
                        return -errno;
        }
        fd = open(path, oflags);
        if (fd < 0)
                return -errno;
        *ret_direct = false;
        return fd;
}

/* Wraps an open fd in a FileDev; the caller closes fd on failure. */
static int file_dev_new(const char *path, int fd, bool direct, bool readonly, SsBlockDev **ret_dev)
{
        uint64_t size = 0;
        struct stat st;
        FileDev *f;
        int r;

        if (fstat(fd, &st) < 0) {
                r = -errno;
                ss_set_error("%s: cannot stat: %s", path, strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return ss_error(S_ISDIR(st.st_mode) ? -EISDIR : -ENOTBLK,
                                "%s: cannot open: not a regular file or a block device", path);

        f = calloc(1, sizeof(*f));
        if (!f)
                return ss_error(-ENOMEM, "%s: cannot open: %s", path, strerror(ENOMEM));
        f->dev.ops = &file_ops;
        f->fd = fd;
        atomic_init(&f->direct, direct);
        f->readonly = readonly;
        f->is_blockdev = S_ISBLK(st.st_mode);
        f->dev.name = strdup(path);
        r = f->dev.name ? query_size(fd, f->is_blockdev, &size) : -ENOMEM;
        if (r < 0) {
                ss_set_error("%s: cannot read the size: %s", path, strerror(-r));
                free(f->dev.name);
                free(f);
                return r;
        }
        atomic_init(&f->size, size);
        *ret_dev = &f->dev;
        return 0;
}

int ss_blockdev_open_file(const char *path, unsigned flags, SsBlockDev **ret_dev)
{
        bool readonly = flags & SS_BLOCKDEV_READONLY;
        int oflags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
        struct stat st;
        bool direct = false;
        int fd, r;

        /* O_EXCL without O_CREAT is defined only for block devices. */
        if (stat(path, &st) < 0) {
                r = -errno;
                ss_set_error("%s: cannot open: %s", path, strerror(-r));
                return r;
        }
        if (S_ISBLK(st.st_mode) && (flags & SS_BLOCKDEV_EXCLUSIVE))
                oflags |= O_EXCL;

        fd = open_fd(path, oflags, !(flags & SS_BLOCKDEV_BUFFERED), &direct);
        if (fd < 0) {
                ss_set_error("%s: cannot open: %s", path, strerror(-fd));
                return fd;
        }
        r = file_dev_new(path, fd, direct, readonly, ret_dev);
        if (r < 0)
                close(fd);
        return r;
}

void ss_blockdev_close(SsBlockDev *dev)
{
        if (dev)
                dev->ops->close(dev);
}

void *ss_alloc_io_buffer(size_t len)
{
        void *p;

        if (posix_memalign(&p, SS_IO_ALIGN, len) != 0)
                return NULL;
        return p;
}
