/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A plain memory block device for the store-image fuzz target and the
 * corpus generator, which link the engine alone (no test helpers).  It
 * checks bounds like a real device and never fails otherwise.
 */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blockdev.h"

typedef struct MemDev {
        SsBlockDev dev;
        uint8_t *data;
        uint64_t size;
} MemDev;

static inline int memdev_range(const MemDev *m, size_t len, uint64_t off)
{
        return off % 512 || len % 512 || off > m->size || len > m->size - off ? -EINVAL : 0;
}

static inline int memdev_pread(SsBlockDev *dev, void *buf, size_t len, uint64_t off)
{
        MemDev *m = (MemDev *)dev;
        int r = memdev_range(m, len, off);

        if (r == 0)
                memcpy(buf, m->data + off, len);
        return r;
}

static inline int memdev_pwrite(SsBlockDev *dev, const void *buf, size_t len, uint64_t off)
{
        MemDev *m = (MemDev *)dev;
        int r = memdev_range(m, len, off);

        if (r == 0)
                memcpy(m->data + off, buf, len);
        return r;
}

static inline int memdev_flush(SsBlockDev *dev)
{
        (void)dev;
        return 0;
}

static inline uint64_t memdev_size(SsBlockDev *dev)
{
        return ((MemDev *)dev)->size;
}

static inline void memdev_close(SsBlockDev *dev)
{
        MemDev *m = (MemDev *)dev;

        if (m) {
                free(m->data);
                free(m);
        }
}

static const SsBlockDevOps memdev_ops = {
        .pread = memdev_pread,
        .pwrite = memdev_pwrite,
        .flush = memdev_flush,
        .size = memdev_size,
        .close = memdev_close,
};

/* Zero-filled, size a multiple of 512; NULL on ENOMEM.  Free with
 * memdev_close(). */
static inline MemDev *memdev_new(const char *name, uint64_t size)
{
        MemDev *m = calloc(1, sizeof(*m));

        if (!m)
                return NULL;
        m->data = calloc(1, size ? size : 1);
        if (!m->data) {
                free(m);
                return NULL;
        }
        m->dev.ops = &memdev_ops;
        m->dev.name = (char *)name;
        m->size = size;
        return m;
}

/* ---- the store-image input format (fuzz-store, gen-corpus) ----
 *
 *   u32 LE  origin size in 512-byte sectors (clamped to 1..8192)
 *   u32 LE  store size in 4 KiB blocks (clamped to 1..2048)
 *   then any number of records: u32 LE block number, then that block's
 *   4096 bytes (a last record may be short; blocks past the store are
 *   ignored); every block no record names is zero.
 *
 * Sparse, so a committed image is a few KiB and mutations land on the
 * blocks that matter.  The origin holds a fixed pattern: the store's own
 * data is what is under test. */
#define STORE_IMAGE_MAX_SECTORS 8192u
#define STORE_IMAGE_MAX_BLOCKS 2048u
#define STORE_IMAGE_BLOCK 4096u
