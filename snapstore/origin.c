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
 *
 * THE SPLIT COPY-OUT (ss_copy_plan(), ss_copy_plan_io(),
 * ss_copy_plans_apply()): the same copy-outs with their device I/O outside
 * the caller's lock, so that one batch reads and writes its chunks while
 * another commits.
 *   1. Plan (serialised): the chunks of the range that need a copy-out
 *      (origin_copy_needed()) get store blocks placed as sm_alloc_copy()
 *      places them, but RESERVED, not allocated (spacemap.c): free in the
 *      last committed state and in every transaction, skipped by every
 *      allocation.  The plan dirties no transaction.  Its range becomes
 *      IN FLIGHT: until it is applied or dropped, no other plan takes a
 *      chunk of it and ss_origin_prepare_write[s]() refuse it (-EAGAIN).
 *   2. I/O (not serialised): read the chunks from the origin into the
 *      plan's own buffer, write them to the reserved blocks.
 *   3. Apply (serialised): for each planned chunk, ask again whether it
 *      needs a copy-out now; if so, claim its block in the open
 *      transaction and add exception (c, newest snapshot now, block); if
 *      not, release the block.  Then origin_copy_out() over the whole
 *      range copies, the ordinary way, any chunk that came to need a copy
 *      since the plan (a snapshot created meanwhile).  One commit for
 *      every plan applied together; its first flush also makes the
 *      plans' data writes durable, before the superblock that references
 *      them.
 * Why the crash contract holds (no origin write reaches the device before
 * the copy-out it needs and the metadata recording it are durable):
 *  - The data recorded for chunk c is c's origin content as read in step 2.
 *    Nobody writes an in-flight range: its writer waits for the apply's
 *    commit, other writers' plans and prepares are refused, and the calls
 *    that write the origin themselves (revert) refuse while any plan is in
 *    flight.  So c's origin content at the apply is what step 2 read, and
 *    that content is exactly what every snapshot up to the newest one at
 *    the apply sees of c, when the apply's re-check says they need it.
 *    Snapshot creation or deletion between plan and apply only changes the
 *    answer of that re-check (and of origin_copy_out() after it), which is
 *    made on the metadata of the moment.
 *  - A reserved block is free on disk until the commit that claims it,
 *    and no other commit (a snapshot created, another plan applied, a
 *    cleanup) writes it as used: a crash before the apply's commit leaves
 *    garbage in a free block (txn.c, rule 1).  Released blocks were never
 *    allocated.
 *  - The caller writes the range only after the apply's commit returned,
 *    as after ss_origin_prepare_write().
 *  - Snapshot reads meanwhile map the in-flight chunks to the origin, which
 *    does not change before the apply's commit; the commit moves
 *    ss_store_changes() before it writes (txn_commit()), so a read that
 *    mapped before it and reads after the origin write is redone.
 * What waits: the calls that write the origin themselves (ss_revert_begin
 * and ss_revert_step), ss_origin_grow() (a plan read the partial last
 * chunk short, and a snapshot of the grown origin would see that) and
 * ss_store_close() refuse with -EBUSY while plans are in flight; a caller
 * drains its plans first (zuma-snapshotd does: every plan belongs to an
 * origin write holding the engine's write gate shared, revert, origin
 * growth and stream receive take it exclusively, and the engine is closed
 * only after the frontend's volume was removed, which waits for every
 * request in it).  Snapshot create and delete, cleanup, snapshot writes,
 * store growth and reads need no barrier:
 * the re-check at the apply makes them safe.  On any failure the apply
 * aborts its transaction and releases every reservation; the caller then
 * prepares each range alone (exact errors, the store-full policy).
 */
#include <assert.h>
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

/* ---- the split copy-out (THE SPLIT COPY-OUT above) ---- */

/* Chunks one plan takes at most (4 MiB); the rest of a longer range is
 * copied at the apply, under the lock, as before. */
#define PLAN_MAX_BYTES (4u << 20)

static const SsCopyPlan *plan_holding(const SsStore *s, uint64_t first, uint64_t last)
{
        for (const SsCopyPlan *p = s->plans; p; p = p->next)
                if (p->first <= last && first <= p->last)
                        return p;
        return NULL;
}

static int refuse_in_flight(SsStore *s, uint64_t first, uint64_t last)
{
        const SsCopyPlan *p = plan_holding(s, first, last);

        if (!p)
                return 0;
        return ss_error(-EAGAIN,
                        "origin chunks %llu-%llu are being copied out for another writer "
                        "(chunks %llu-%llu); prepare again once its copy-out is committed",
                        (unsigned long long)first, (unsigned long long)last,
                        (unsigned long long)p->first, (unsigned long long)p->last);
}

int origin_no_plans(SsStore *s, const char *what)
{
        unsigned n = 0;

        for (const SsCopyPlan *p = s->plans; p; p = p->next)
                n++;
        if (!n)
                return 0;
        return ss_error(-EBUSY,
                        "cannot %s: %u origin copy-out%s in flight; apply or drop them first", what,
                        n, n == 1 ? " is" : "s are");
}

static void plan_free(SsCopyPlan *p)
{
        if (!p)
                return;
        free(p->chunks);
        free(p->blocks);
        free(p->buf);
        free(p);
}

/* Hands back the blocks still reserved, takes the plan out of flight and
 * frees it. */
static void plan_release(SsStore *s, SsCopyPlan *plan)
{
        for (uint32_t i = 0; i < plan->n; i++)
                if (plan->blocks[i])
                        sm_unreserve(s, plan->blocks[i], s->chunk_blocks);
        for (SsCopyPlan **pp = &s->plans; *pp; pp = &(*pp)->next)
                if (*pp == plan) {
                        *pp = plan->next;
                        break;
                }
        plan_free(plan);
}

/* The chunks of [first, last] that need a copy-out now, at most max. */
static int chunks_to_copy(SsStore *s, uint64_t first, uint64_t last, uint64_t *ret, uint32_t max,
                          uint32_t *ret_n)
{
        uint32_t n = 0;

        for (uint64_t c = first; c <= last && n < max; c++) {
                int r = origin_copy_needed(s, c);
                if (r < 0)
                        return r;
                if (r)
                        ret[n++] = c;
        }
        *ret_n = n;
        return 0;
}

int ss_copy_plan(SsStore *s, uint64_t off, uint64_t len, SsCopyPlan **ret_plan)
{
        int r = store_writable(s);
        if (r == 0)
                r = check_origin_range(s, off, len);
        if (r < 0)
                return r;
        if (len == 0) {
                *ret_plan = NULL;
                return 0;
        }
        uint64_t first = off >> s->chunk_shift, last = (off + len - 1) >> s->chunk_shift;
        r = refuse_in_flight(s, first, last);
        if (r < 0)
                return r;
        if (!snaps_newest(s)) {
                *ret_plan = NULL;
                return 0;
        }

        uint32_t max = (uint32_t)MIN(last - first + 1, MAX(PLAN_MAX_BYTES >> s->chunk_shift, 1u));
        SsCopyPlan *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->chunks = calloc(max, sizeof(*p->chunks));
        p->blocks = calloc(max, sizeof(*p->blocks));
        r = p->chunks && p->blocks ? chunks_to_copy(s, first, last, p->chunks, max, &p->n)
                                   : -ENOMEM;
        if (r < 0 || p->n == 0) {
                plan_free(p);
                if (r == 0)
                        *ret_plan = NULL;
                return r;
        }
        p->buf = ss_alloc_io_buffer((size_t)p->n << s->chunk_shift);
        if (!p->buf) {
                plan_free(p);
                return -ENOMEM;
        }
        for (uint32_t i = 0; i < p->n; i++) {
                r = sm_reserve_copy(s, p->chunks[i], &p->blocks[i]);
                if (r < 0) {
                        for (uint32_t k = 0; k < i; k++)
                                sm_unreserve(s, p->blocks[k], s->chunk_blocks);
                        plan_free(p);
                        return r;
                }
        }
        p->first = first;
        p->last = last;
        p->origin = s->origin;
        p->dev = s->dev;
        p->chunk_shift = s->chunk_shift;
        p->origin_size = s->sb.origin_size;
        p->io = 1;
        p->next = s->plans;
        s->plans = p;
        *ret_plan = p;
        return 0;
}

/* Reads and writes nothing of the handle but the devices (see above). */
int ss_copy_plan_io(SsStore *s, SsCopyPlan *p)
{
        uint64_t cs = (uint64_t)1 << p->chunk_shift;
        int r = 0;

        (void)s;
        /* One read per run of consecutive origin chunks. */
        for (uint32_t i = 0; r == 0 && i < p->n;) {
                uint32_t k = 1;
                while (i + k < p->n && p->chunks[i + k] == p->chunks[i] + k)
                        k++;
                uint64_t start = p->chunks[i] << p->chunk_shift;
                size_t len = (size_t)MIN((uint64_t)k * cs, p->origin_size - start);
                uint8_t *at = p->buf + (size_t)i * cs;
                if (len < (size_t)k * cs)
                        memset(at + len - len % cs, 0, cs);
                r = ss_dev_pread(p->origin, at, len, start);
                i += k;
        }
        /* One write per run of contiguous store blocks. */
        for (uint32_t i = 0; r == 0 && i < p->n;) {
                uint32_t k = 1;
                while (i + k < p->n &&
                       p->blocks[i + k] ==
                               p->blocks[i] + ((uint64_t)k << (p->chunk_shift - SS_BLOCK_SHIFT)))
                        k++;
                r = ss_dev_pwrite(p->dev, p->buf + (size_t)i * cs, (size_t)k * cs,
                                  p->blocks[i] << SS_BLOCK_SHIFT);
                i += k;
        }
        p->io = r;
        return r;
}

/* Records what the plan copied that is still needed (see above). */
static int plan_apply(SsStore *s, SsCopyPlan *p)
{
        if (p->io > 0)
                return ss_error(-EINVAL, "a copy-out plan was applied before its I/O");
        if (p->io < 0)
                return ss_error(p->io, "copying out origin chunks %llu-%llu failed",
                                (unsigned long long)p->first, (unsigned long long)p->last);
        uint32_t newest = snaps_newest(s);
        for (uint32_t i = 0; i < p->n; i++) {
                int need = origin_copy_needed(s, p->chunks[i]);
                if (need < 0)
                        return need;
                uint64_t blk = p->blocks[i];
                p->blocks[i] = 0;
                if (!need) {
                        sm_unreserve(s, blk, s->chunk_blocks);
                        continue;
                }
                int r = sm_claim(s, blk, s->chunk_blocks);
                if (r == 0)
                        r = exception_add(s, p->chunks[i], newest, blk);
                if (r < 0)
                        return r;
        }
        /* Chunks that came to need a copy since the plan, and the rest of
         * a range longer than one plan takes. */
        return origin_copy_out(s, p->first, p->last);
}

int ss_copy_plans_apply(SsStore *s, SsCopyPlan *const *plans, size_t n)
{
        int r = store_writable(s);

        for (size_t i = 0; r == 0 && i < n; i++)
                r = plan_apply(s, plans[i]);
        if (r == 0)
                r = txn_commit(s);
        else
                txn_abort(s);
        for (size_t i = 0; i < n; i++)
                plan_release(s, plans[i]);
        return r;
}

void ss_copy_plan_drop(SsStore *s, SsCopyPlan *plan)
{
        if (plan)
                plan_release(s, plan);
}

/* ---- prepare in one call ---- */

int ss_origin_prepare_write(SsStore *s, uint64_t off, uint64_t len)
{
        int r = store_writable(s);
        if (r == 0)
                r = check_origin_range(s, off, len);
        if (r < 0 || len == 0)
                return r;
        uint64_t first = off >> s->chunk_shift, last = (off + len - 1) >> s->chunk_shift;
        r = refuse_in_flight(s, first, last);
        if (r < 0)
                return r;

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
        for (size_t i = 0; r == 0 && i < n; i++)
                if (ranges[i].length)
                        r = refuse_in_flight(s, ranges[i].offset >> s->chunk_shift,
                                             (ranges[i].offset + ranges[i].length - 1) >>
                                                     s->chunk_shift);
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
