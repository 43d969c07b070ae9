/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Block I/O behind one small vtable.
 *
 * The engine reaches the origin and the store only through SsBlockDev, so
 * tests can swap in a device that injects errors or simulates power loss
 * (tests/faultdev.c) without any test hook in the engine itself.
 *
 * Contract of every implementation:
 *  - pread/pwrite transfer exactly len bytes at off or fail with -errno;
 *    a short transfer is an error (-EIO), never a partial success.
 *  - A write is durable only after a later flush() returned 0.  Until then a
 *    power cut may drop it or tear it at any 512-byte sector boundary.
 *  - size() is the device size in bytes (a multiple of 512).
 *  - Buffers handed to pread/pwrite are aligned to SS_IO_ALIGN and lengths
 *    and offsets are multiples of 512, so backends may use O_DIRECT.
 *  - The file backend takes pread, pwrite, flush and size from several
 *    threads at once (zuma-snapshotd's origin I/O holds no lock, nor does
 *    the split copy-out's ss_copy_plan_io()); see blockdev.c.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SS_IO_ALIGN 4096

typedef struct SsBlockDev SsBlockDev;

typedef struct SsBlockDevOps {
        int (*pread)(SsBlockDev *dev, void *buf, size_t len, uint64_t off);
        int (*pwrite)(SsBlockDev *dev, const void *buf, size_t len, uint64_t off);
        int (*flush)(SsBlockDev *dev);
        uint64_t (*size)(SsBlockDev *dev);
        void (*close)(SsBlockDev *dev);
        /* pread may run on several threads at once, so the engine may keep
         * several reads in flight (readpool.c); false for devices that
         * count their operations in order, as tests/faultdev.c does. */
        bool parallel_reads;
} SsBlockDevOps;

struct SsBlockDev {
        const SsBlockDevOps *ops;
        char *name; /* path or label, for messages; owned by the device */
};

enum {
        SS_BLOCKDEV_READONLY = 1 << 0,
        SS_BLOCKDEV_EXCLUSIVE = 1 << 1, /* O_EXCL on block devices */
        SS_BLOCKDEV_BUFFERED = 1 << 2,  /* do not use O_DIRECT */
};

/* Opens a regular file or a block device.  O_DIRECT is used unless
 * SS_BLOCKDEV_BUFFERED is given or the file system refuses it. */
int ss_blockdev_open_file(const char *path, unsigned flags, SsBlockDev **ret_dev);

/* A device that reports -ENOSPC (a full file system under a file-backed
 * store, a thin pool) has failed an I/O: the engine keeps -ENOSPC for "the
 * store is full", which its full policy may answer by deleting snapshots. */
static inline int device_error(int r)
{
        return r == -ENOSPC ? -EIO : r;
}

static inline int ss_dev_pread(SsBlockDev *d, void *buf, size_t len, uint64_t off)
{
        return device_error(d->ops->pread(d, buf, len, off));
}

static inline int ss_dev_pwrite(SsBlockDev *d, const void *buf, size_t len, uint64_t off)
{
        return device_error(d->ops->pwrite(d, buf, len, off));
}

static inline int ss_dev_flush(SsBlockDev *d)
{
        return device_error(d->ops->flush(d));
}

static inline uint64_t ss_dev_size(SsBlockDev *d)
{
        return d->ops->size(d);
}

void ss_blockdev_close(SsBlockDev *dev);

/* Allocates len bytes aligned to SS_IO_ALIGN (free with free()). */
void *ss_alloc_io_buffer(size_t len);
