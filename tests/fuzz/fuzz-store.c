/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz target: a whole store image (format in memdev.h), through the
 * public API as a frontend and an administrator would use it.
 *
 * Read-only first: open, then every snapshot's whole image, its usage and
 * its delta against the origin, the origin itself, and ss_check.  Then, if
 * all of that worked, read-write: run cleanup and an unfinished revert to
 * the end, take a snapshot, write the origin, read both back and check
 * again.  Every call must return cleanly whatever the bytes; any crash,
 * sanitizer report or abort is a bug.  The input is accepted when every
 * call succeeded and ss_check found nothing, rejected otherwise.
 *
 * Work per input is bounded (store and origin sizes are clamped, so are
 * the snapshots read and the cleanup and revert steps run).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "memdev.h"
#include "snapstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SNAPSHOTS 64
#define MAX_STEPS 4096

static uint32_t get_le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Rebuilds the devices from the input; false on a malformed header. */
static bool load(const uint8_t *data, size_t size, MemDev **ret_origin, MemDev **ret_store)
{
        if (size < 8)
                return false;
        uint64_t sectors = get_le32(data), blocks = get_le32(data + 4);
        sectors = sectors < 1                         ? 1
                  : sectors > STORE_IMAGE_MAX_SECTORS ? STORE_IMAGE_MAX_SECTORS
                                                      : sectors;
        blocks = blocks < 1 ? 1 : blocks > STORE_IMAGE_MAX_BLOCKS ? STORE_IMAGE_MAX_BLOCKS : blocks;
        MemDev *origin = memdev_new("origin", sectors * 512);
        MemDev *store = memdev_new("store", blocks * STORE_IMAGE_BLOCK);
        if (!origin || !store) {
                memdev_close(origin ? &origin->dev : NULL);
                memdev_close(store ? &store->dev : NULL);
                return false;
        }
        for (uint64_t i = 0; i < origin->size; i++)
                origin->data[i] = (uint8_t)(i / 512 * 37 + i % 7);
        for (size_t off = 8; off + 4 < size;) {
                uint32_t blk = get_le32(data + off);
                size_t len =
                        size - off - 4 < STORE_IMAGE_BLOCK ? size - off - 4 : STORE_IMAGE_BLOCK;
                if (blk < blocks)
                        memcpy(store->data + (uint64_t)blk * STORE_IMAGE_BLOCK, data + off + 4,
                               len);
                off += 4 + len;
        }
        *ret_origin = origin;
        *ret_store = store;
        return true;
}

/* Reads [0, size) of snapshot id (SS_ORIGIN_ID: the origin) in pieces. */
static bool read_image(SsStore *s, uint32_t id, uint64_t size, uint8_t *buf, size_t piece)
{
        for (uint64_t off = 0; off < size; off += piece) {
                size_t n = size - off < piece ? (size_t)(size - off) : piece;
                int r = id ? ss_snapshot_read(s, id, buf, off, n) : ss_origin_read(s, buf, off, n);
                if (r < 0)
                        return false;
                /* Each extent of the map must lie inside its device. */
                SsExtent ext[8];
                int m = id ? ss_snapshot_map_read(s, id, off, n, ext, 8) : 0;
                if (m < 0)
                        return false;
        }
        return true;
}

static bool read_everything(SsStore *s, uint8_t *buf, size_t piece)
{
        SsStoreInfo info;
        SsSnapshotInfo si;
        uint32_t after = 0;
        bool ok = ss_store_info(s, &info) == 0 && read_image(s, 0, info.origin_size, buf, piece);

        for (int k = 0; ok && k < MAX_SNAPSHOTS && ss_snapshot_next(s, after, &si) == 0; k++) {
                SsSnapshotUsage u;
                SsDeltaCursor cur;
                uint64_t chunks[64];
                int n = 0, steps = 0;

                after = si.id;
                ok = read_image(s, si.id, si.origin_size, buf, piece) &&
                     ss_snapshot_usage(s, si.id, &u) == 0 && ss_delta_begin(s, si.id, 0, &cur) == 0;
                while (ok && (n = ss_delta_next(s, &cur, chunks, 64)) > 0 && ++steps < MAX_STEPS)
                        ;
                ok = ok && n >= 0;
        }
        return ok && ss_check(s, NULL, NULL) == 0;
}

static bool use_readwrite(SsStore *s, uint8_t *buf, size_t piece)
{
        SsStoreInfo info;
        uint32_t id = 0;
        int r = 0, steps = 0;

        while (steps++ < MAX_STEPS && (r = ss_cleanup_step(s, 64)) == 1)
                ;
        if (r != 0)
                return false;
        while (steps++ < MAX_STEPS && (r = ss_revert_step(s, 16, NULL)) == 1)
                ;
        if (r != 0 || ss_store_info(s, &info) != 0 || info.cleanup_jobs || info.revert_target)
                return false;
        if (ss_snapshot_create(s, "fuzz-new", 0, 0, &id) != 0)
                return false;
        memset(buf, 0xa5, 512);
        return ss_origin_write(s, buf, 0, 512) == 0 &&
               read_image(s, id, info.origin_size, buf, piece) &&
               read_image(s, 0, info.origin_size, buf, piece) && ss_check(s, NULL, NULL) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        MemDev *origin = NULL, *store = NULL;
        SsStore *s = NULL;
        const size_t piece = 64u << 10;
        uint8_t *buf = ss_alloc_io_buffer(piece);
        bool ok = buf && load(data, size, &origin, &store);

        fuzz_verdict = FUZZ_REJECTED;
        if (ok) {
                SsOpenOptions ro = { .flags = SS_OPEN_READONLY, .cache_bytes = 256u << 10 };
                ok = ss_store_open(&origin->dev, &store->dev, &ro, &s) == 0;
                ok = ok && read_everything(s, buf, piece);
                if (s)
                        ss_store_close(s);
                s = NULL;
        }
        if (ok) {
                SsOpenOptions rw = { .cache_bytes = 256u << 10 };
                ok = ss_store_open(&origin->dev, &store->dev, &rw, &s) == 0;
                ok = ok && use_readwrite(s, buf, piece);
                if (s)
                        ok = ss_store_close(s) == 0 && ok;
        }
        if (ok)
                fuzz_verdict = FUZZ_ACCEPTED;
        if (origin)
                memdev_close(&origin->dev);
        if (store)
                memdev_close(&store->dev);
        free(buf);
        return 0;
}
