/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading and writing snapshot images.
 *
 * Chunk c of snapshot s comes from, in order: s's private exception of c
 * (writable snapshots), the first shared exception of c whose hi is >= s,
 * or else the origin, which has not been written there since s was taken.
 *
 * Reading without the caller's lock.  ss_snapshot_map_read() answers under
 * the caller's lock, but the reads of its extents need not be: a caller
 * takes ss_store_changes() with the map, reads the extents unlocked, and
 * keeps the data only if the count is still the same afterwards.  The count
 * moves (store_changed() in internal.h) before any change that could make
 * an extent stale reaches a device, so an unchanged count means no such
 * change was under way while the extents were read.
 */
#include <string.h>

#include "internal.h"

int chunk_source(SsStore *s, uint32_t id, uint64_t c, SsExtentKind *ret_kind, uint64_t *ret_block)
{
        SsKey k;
        uint64_t blk;
        int r;

        if (s->sb.roots[SS_TREE_PRIVATE].block) {
                r = bt_lookup(s, SS_TREE_PRIVATE, key_make(id, c), &blk);
                if (r == 0) {
                        *ret_kind = SS_EXTENT_STORE;
                        *ret_block = blk;
                        return 0;
                }
                if (r != -ENOENT)
                        return r;
        }
        r = bt_seek_ge(s, SS_TREE_SHARED, key_make(c, id), &k, &blk);
        if (r == 0 && k.a == c) {
                *ret_kind = SS_EXTENT_STORE;
                *ret_block = blk;
                return 0;
        }
        if (r < 0 && r != -ENOENT)
                return r;
        *ret_kind = SS_EXTENT_ORIGIN;
        *ret_block = 0;
        return 0;
}

static int snapshot_range(SsStore *s, uint32_t id, uint64_t off, uint64_t len,
                          const SsSnapshotInfo **ret)
{
        const SsSnapshotInfo *info = snaps_find(s, id);

        if (!info)
                return ss_error(-ENOENT, "snapshot %u does not exist", id);
        if (off % SS_SECTOR_SIZE || len % SS_SECTOR_SIZE)
                return ss_error(-EINVAL, "snapshot I/O at %llu+%llu is not 512-byte aligned",
                                (unsigned long long)off, (unsigned long long)len);
        if (off > info->origin_size || len > info->origin_size - off)
                return ss_error(-EINVAL,
                                "snapshot %s: I/O at %llu+%llu is past its end (%llu "
                                "bytes)",
                                info->name, (unsigned long long)off, (unsigned long long)len,
                                (unsigned long long)info->origin_size);
        *ret = info;
        return 0;
}

/* The reader's half of the sequence lock of store_changed(): the acquire
 * fence keeps the device reads the caller made before this call from
 * being ordered after the load.  A device write that such a read saw was
 * issued after its store_changed() and its release fence, so the load sees
 * that increment. */
uint64_t ss_store_changes(const SsStore *s)
{
        atomic_thread_fence(memory_order_acquire);
        return atomic_load_explicit(&s->changes, memory_order_relaxed);
}

int ss_snapshot_map_read(SsStore *s, uint32_t id, uint64_t off, uint64_t len, SsExtent *ext,
                         size_t max)
{
        const SsSnapshotInfo *info;
        int r = snapshot_range(s, id, off, len, &info);
        if (r < 0)
                return r;
        size_t n = 0;
        uint64_t end = off + len, cs = s->sb.chunk_size;

        while (off < end) {
                uint64_t c = off >> s->chunk_shift, in = off & (cs - 1);
                uint64_t piece = MIN(cs - in, end - off), blk;
                SsExtentKind kind;
                r = chunk_source(s, id, c, &kind, &blk);
                if (r < 0)
                        return r;
                uint64_t dev_off = kind == SS_EXTENT_STORE ? (blk << SS_BLOCK_SHIFT) + in : off;
                SsExtent *last = n ? &ext[n - 1] : NULL;
                if (last && last->kind == kind && last->dev_offset + last->length == dev_off) {
                        last->length += piece;
                } else {
                        if (n == max)
                                break;
                        ext[n++] = (SsExtent){
                                .offset = off, .length = piece, .dev_offset = dev_off, .kind = kind
                        };
                }
                off += piece;
        }
        return (int)n;
}

/* Extents per round of ss_snapshot_read(): 4 MiB of 16 KiB chunks even if
 * no chunk is next to another in the store. */
#define READ_EXTENTS 256

int ss_extents_read(SsStore *s, const SsExtent *ext, size_t n, void *buf)
{
        SsRead reads[READ_EXTENTS];
        uint8_t *p = buf;

        for (size_t i = 0; i < n;) {
                size_t k = 0;
                for (; k < ARRAY_SIZE(reads) && i + k < n; k++) {
                        const SsExtent *e = &ext[i + k];
                        reads[k] = (SsRead){
                                .dev = e->kind == SS_EXTENT_STORE ? s->dev : s->origin,
                                .buf = p,
                                .len = (size_t)e->length,
                                .off = e->dev_offset,
                        };
                        p += e->length;
                }
                int r = readpool_run(s->reads, reads, k);
                if (r < 0)
                        return r;
                i += k;
        }
        return 0;
}

/* The whole request is mapped (in rounds of READ_EXTENTS) and its extents
 * read together, several in flight (readpool.c).  A request that is not in
 * whole 4 KiB blocks of an aligned buffer has extents the devices cannot
 * take as they are; it goes one extent at a time through the store's bounce
 * buffer. */
int ss_snapshot_read(SsStore *s, uint32_t id, void *buf, uint64_t off, size_t len)
{
        bool aligned = (uintptr_t)buf % SS_IO_ALIGN == 0 && off % SS_IO_ALIGN == 0 &&
                       len % SS_IO_ALIGN == 0;
        SsExtent ext[READ_EXTENTS];
        uint8_t *p = buf;

        while (len) {
                int n = ss_snapshot_map_read(s, id, off, len, ext, ARRAY_SIZE(ext));
                if (n <= 0)
                        return n < 0 ? n : -EIO;
                uint64_t got = ext[n - 1].offset + ext[n - 1].length - off;
                if (aligned) {
                        int r = ss_extents_read(s, ext, (size_t)n, p);
                        if (r < 0)
                                return r;
                } else {
                        uint8_t *at = p;
                        for (int i = 0; i < n; i++) {
                                SsBlockDev *dev =
                                        ext[i].kind == SS_EXTENT_STORE ? s->dev : s->origin;
                                int r = dev_io_any(s, dev, false, at, ext[i].length,
                                                   ext[i].dev_offset);
                                if (r < 0)
                                        return r;
                                at += ext[i].length;
                        }
                }
                p += got;
                off += got;
                len -= (size_t)got;
        }
        return 0;
}

/* Reads the whole chunk c of snapshot id (zero-padded past the image end). */
int read_chunk_of(SsStore *s, uint32_t id, uint64_t c, void *buf)
{
        const SsSnapshotInfo *info = snaps_find(s, id);
        SsExtentKind kind;
        uint64_t blk;
        int r = chunk_source(s, id, c, &kind, &blk);
        if (r < 0)
                return r;
        if (kind == SS_EXTENT_STORE)
                return ss_dev_pread(s->dev, buf, s->sb.chunk_size, blk << SS_BLOCK_SHIFT);
        uint64_t start = c << s->chunk_shift;
        size_t len = (size_t)MIN((uint64_t)s->sb.chunk_size, info->origin_size - start);
        if (len < s->sb.chunk_size)
                memset(buf, 0, s->sb.chunk_size);
        return ss_dev_pread(s->origin, buf, len, start);
}

/* Gives chunk c of a writable snapshot a private copy; returns its block. */
static int private_chunk(SsStore *s, uint32_t id, uint64_t c, uint64_t *ret_block)
{
        uint64_t blk;
        int r = bt_lookup(s, SS_TREE_PRIVATE, key_make(id, c), &blk);
        if (r != -ENOENT) {
                if (r == 0)
                        *ret_block = blk;
                return r;
        }
        r = read_chunk_of(s, id, c, s->chunk_buf);
        if (r == 0)
                r = sm_alloc_chunk(s, &blk);
        if (r == 0)
                r = ss_dev_pwrite(s->dev, s->chunk_buf, s->sb.chunk_size, blk << SS_BLOCK_SHIFT);
        if (r == 0)
                r = private_exception_add(s, id, c, blk);
        if (r == 0)
                *ret_block = blk;
        return r;
}

static int write_privately(SsStore *s, uint32_t id, const uint8_t *p, uint64_t off, size_t len)
{
        uint64_t cs = s->sb.chunk_size, end = off + len;

        /* First give every touched chunk its private copy and commit, so the
         * in-place writes below never land in a block the committed state
         * does not own. */
        for (uint64_t c = off >> s->chunk_shift; c <= (end - 1) >> s->chunk_shift; c++) {
                uint64_t blk;
                int r = private_chunk(s, id, c, &blk);
                if (r < 0)
                        return r;
        }
        int r = txn_commit(s);
        if (r < 0)
                return r;
        /* The blocks below may be mapped by an unlocked reader already. */
        store_changed(s);
        while (off < end) {
                uint64_t c = off >> s->chunk_shift, in = off & (cs - 1);
                uint64_t piece = MIN(cs - in, end - off), blk;
                r = bt_lookup(s, SS_TREE_PRIVATE, key_make(id, c), &blk);
                if (r == 0)
                        r = dev_io_any(s, s->dev, true, (void *)p, piece,
                                       (blk << SS_BLOCK_SHIFT) + in);
                if (r < 0)
                        return r;
                p += piece;
                off += piece;
        }
        return 0;
}

int ss_snapshot_write(SsStore *s, uint32_t id, const void *buf, uint64_t off, size_t len)
{
        const SsSnapshotInfo *info;
        int r = store_writable(s);
        if (r == 0)
                r = snapshot_range(s, id, off, len, &info);
        if (r < 0)
                return r;
        if (!(info->flags & SS_SNAP_WRITABLE))
                return ss_error(-EROFS, "snapshot %s is read-only", info->name);
        if (len == 0)
                return 0;
        for (;;) {
                r = write_privately(s, id, buf, off, len);
                if (r == 0)
                        return 0;
                txn_abort(s);
                if (r != -ENOSPC || s->sb.full_policy != SS_FULL_AUTODELETE)
                        return r;
                r = autodelete_one(s, id);
                if (r < 0)
                        return r;
                if (!snaps_find(s, id))
                        return ss_error(-ENOSPC, "snapshot %u was deleted to make room", id);
        }
}
