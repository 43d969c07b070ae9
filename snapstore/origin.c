/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copy-out: the origin write path.
 *
 * Snapshots are numbered in creation order.  When chunk c of the origin is
 * about to be overwritten and the newest live snapshot is L, the snapshots
 * that still read c from the origin are those above the last exception of c
 * (its "hi").  So one comparison decides: copy out iff L > last hi of c.
 * The copy becomes exception (c, L), serving every snapshot in
 * (previous hi of c, L].  Its cost does not depend on how many snapshots
 * exist: one B-tree lookup, and one insert into each of the two indexes.
 *
 * Chunks past the newest snapshot's image (the origin grew after it was
 * taken) need no copy: no snapshot can read them.
 *
 * The rule every caller keeps: the origin write comes only after the
 * prepare call returned, i.e. after the commit that made its copy-outs
 * durable (txn.c).  ss_origin_prepare_writes() is the group commit's
 * entry (agents/snapshotd/zuma-group-commit.c): several writers' ranges,
 * one transaction, one commit, all or nothing.
 */
#include <string.h>

#include "internal.h"

/* The highest hi of any exception of chunk c, 0 if there is none. */
static int last_hi(SsStore *s, uint64_t c, uint32_t *ret)
{
        SsKey k;
        int r = bt_seek_le(s, SS_TREE_SHARED, key_make(c, UINT64_MAX), &k, NULL);
        if (r == -ENOENT || (r == 0 && k.a != c)) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return r;
        *ret = (uint32_t)k.b;
        return 0;
}

static bool needs_copy(const SsStore *s, uint64_t c, uint32_t newest, uint64_t newest_size)
{
        return newest && (c << s->chunk_shift) < newest_size;
}

/* Copies out n consecutive chunks from `first`, already known to need it:
 * one read of the origin, one write per run of contiguous store blocks. */
static int copy_run(SsStore *s, uint64_t first, uint32_t n, uint32_t newest)
{
        uint64_t cs = s->sb.chunk_size, blks[COPY_BATCH_MAX];
        uint64_t start = first << s->chunk_shift;
        size_t len = (size_t)MIN((uint64_t)n * cs, s->sb.origin_size - start);
        uint8_t *buf = s->copy_buf;

        if (len < (size_t)n * cs)
                memset(buf + len - len % cs, 0, cs);
        int r = ss_dev_pread(s->origin, buf, len, start);
        for (uint32_t i = 0; r == 0 && i < n; i++)
                r = sm_alloc_copy(s, first + i, &blks[i]);
        for (uint32_t i = 0; r == 0 && i < n;) {
                uint32_t k = 1;
                while (i + k < n && blks[i + k] == blks[i] + (uint64_t)k * s->chunk_blocks)
                        k++;
                r = ss_dev_pwrite(s->dev, buf + (size_t)i * cs, (size_t)k * cs,
                                  blks[i] << SS_BLOCK_SHIFT);
                i += k;
        }
        for (uint32_t i = 0; r == 0 && i < n; i++)
                r = exception_add(s, first + i, newest, blks[i]);
        return r;
}

/* 1 if every live snapshot in (lo, hi] holds chunk c
 * privately, so none reads it from the origin; 0 if not; -errno. */
static int all_private(SsStore *s, uint64_t c, uint32_t lo, uint32_t hi)
{
        if (!s->sb.roots[SS_TREE_PRIVATE].block)
                return 0;
        for (uint32_t id = snaps_live_above(s, lo); id && id <= hi; id = snaps_live_above(s, id)) {
                uint64_t blk;
                int r = bt_lookup(s, SS_TREE_PRIVATE, key_make(id, c), &blk);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
        }
        return 1;
}

/* 1 if an origin write to chunk c would copy it out now, 0 if not; -errno. */
int origin_copy_needed(SsStore *s, uint64_t c)
{
        uint32_t newest = snaps_newest(s), hi;
        if (!newest || !needs_copy(s, c, newest, snaps_find(s, newest)->origin_size))
                return 0;
        int r = last_hi(s, c, &hi);
        if (r < 0 || hi >= newest)
                return r;
        r = all_private(s, c, hi, newest);
        return r < 0 ? r : !r;
}

/* Copies out chunks [first, last] where needed, in one transaction that the
 * caller commits. */
int origin_copy_out(SsStore *s, uint64_t first, uint64_t last)
{
        uint32_t newest = snaps_newest(s);
        if (!newest)
                return 0;
        uint64_t newest_size = snaps_find(s, newest)->origin_size;
        uint32_t batch = s->copy_buf_chunks;

        for (uint64_t c = first; c <= last && needs_copy(s, c, newest, newest_size);) {
                uint32_t n = 0;
                while (c + n <= last && n < batch && needs_copy(s, c + n, newest, newest_size)) {
                        uint32_t hi;
                        int r = last_hi(s, c + n, &hi);
                        if (r < 0)
                                return r;
                        if (hi >= newest)
                                break;
                        r = all_private(s, c + n, hi, newest);
                        if (r < 0)
                                return r;
                        if (r)
                                break;
                        n++;
                }
                if (n) {
                        int r = copy_run(s, c, n, newest);
                        if (r < 0)
                                return r;
                }
                c += n ? n : 1;
        }
        return 0;
}

static int check_origin_range(SsStore *s, uint64_t off, uint64_t len)
{
        if (off % SS_SECTOR_SIZE || len % SS_SECTOR_SIZE)
                return ss_error(-EINVAL, "origin I/O at %llu+%llu is not 512-byte aligned",
                                (unsigned long long)off, (unsigned long long)len);
        if (off > s->sb.origin_size || len > s->sb.origin_size - off)
                return ss_error(-EINVAL, "origin I/O at %llu+%llu is past the end (%llu bytes)",
                                (unsigned long long)off, (unsigned long long)len,
                                (unsigned long long)s->sb.origin_size);
        return 0;
}

int ss_origin_prepare_write(SsStore *s, uint64_t off, uint64_t len)
{
        int r = store_writable(s);
        if (r == 0)
                r = check_origin_range(s, off, len);
        if (r < 0 || len == 0)
                return r;
        uint64_t first = off >> s->chunk_shift, last = (off + len - 1) >> s->chunk_shift;

        for (;;) {
                r = origin_copy_out(s, first, last);
                if (r == 0)
                        return txn_commit(s);
                txn_abort(s);
                if (r != -ENOSPC || s->sb.full_policy != SS_FULL_AUTODELETE)
                        return r;
                r = autodelete_one(s, 0);
                if (r < 0)
                        return r;
        }
}

/* Group commit: the copy-outs of several writers in one transaction and
 * one commit.  The crash contract is ss_origin_prepare_write()'s for every
 * range: it returns 0 only after the commit that records every copy-out the
 * ranges need is durable, and none of the callers may write the origin
 * before it returned.  All or nothing: on any error (a bad range, -ENOSPC,
 * an I/O error before the commit) the transaction is aborted, nothing is
 * copied out, and the caller retries each range alone through
 * ss_origin_prepare_write(), which gives each its own answer (and applies
 * the full policy).  The full policy is not applied here on purpose: which
 * range overflowed the store is not known, and one range alone may fit. */
int ss_origin_prepare_writes(SsStore *s, const SsRange *ranges, size_t n)
{
        int r = store_writable(s);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = check_origin_range(s, ranges[i].offset, ranges[i].length);
        for (size_t i = 0; r == 0 && i < n; i++) {
                if (ranges[i].length == 0)
                        continue;
                r = origin_copy_out(s, ranges[i].offset >> s->chunk_shift,
                                    (ranges[i].offset + ranges[i].length - 1) >> s->chunk_shift);
        }
        if (r == 0)
                return txn_commit(s);
        txn_abort(s);
        return r;
}

/* Device I/O on a caller's buffer.  The block device contract
 * (blockdev.h) wants buffers aligned to SS_IO_ALIGN, as O_DIRECT does; a
 * caller's buffer that is not goes through the store's aligned copy
 * buffer, one piece at a time, so any buffer works and an aligned one costs
 * no copy. */
int dev_io_any(SsStore *s, SsBlockDev *dev, bool write, void *buf, size_t len, uint64_t off)
{
        if ((uintptr_t)buf % SS_IO_ALIGN == 0)
                return write ? ss_dev_pwrite(dev, buf, len, off) : ss_dev_pread(dev, buf, len, off);

        size_t cap = (size_t)s->copy_buf_chunks << s->chunk_shift;
        uint8_t *p = buf;
        while (len) {
                size_t piece = MIN(len, cap);
                int r;
                if (write) {
                        memcpy(s->copy_buf, p, piece);
                        r = ss_dev_pwrite(dev, s->copy_buf, piece, off);
                } else {
                        r = ss_dev_pread(dev, s->copy_buf, piece, off);
                        if (r == 0)
                                memcpy(p, s->copy_buf, piece);
                }
                if (r < 0)
                        return r;
                p += piece;
                off += piece;
                len -= piece;
        }
        return 0;
}

int ss_origin_write(SsStore *s, const void *buf, uint64_t off, size_t len)
{
        int r = ss_origin_prepare_write(s, off, len);
        if (r == 0 && len)
                r = dev_io_any(s, s->origin, true, (void *)buf, len, off);
        return r;
}

int ss_origin_read(SsStore *s, void *buf, uint64_t off, size_t len)
{
        int r = check_origin_range(s, off, len);
        if (r == 0 && len)
                r = dev_io_any(s, s->origin, false, buf, len, off);
        return r;
}
