/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reverting the origin to a snapshot.
 *
 * The chunks where the origin differs from snapshot t are those written
 * since t was taken (an exception with hi >= t) and, for a writable t, its
 * private chunks.  Each is written back through the ordinary copy-out path,
 * so snapshots newer than t keep what they saw.  The origin keeps its size;
 * chunks past t's image are left alone.
 *
 * A step copies out what the batch needs and commits, writes t's data over
 * the origin, flushes the origin, then commits its cursor.  The target and
 * cursor live in the superblock: after a crash a step redoes at most its
 * last batch, and writing the same data twice is harmless.
 *
 * A full store.  The copy-outs follow the store's full policy as origin
 * writes do: under autodelete a step that runs out of space deletes the
 * least wanted snapshot (never t, which autodelete_one() always spares
 * while a revert to it is pending) and tries the batch again.  When no
 * snapshot can go, or under the refuse policy, the step fails with -ENOSPC
 * and says how much space the rest of the revert needs; the revert stays
 * pending (and resumable after a reopen) until the store grows, snapshots
 * are deleted, or ss_revert_abandon() gives it up.  Giving up is safe at
 * any point between steps: every snapshot already has what it needs, and
 * the origin simply keeps the chunks reverted so far.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define REVERT_BATCH 256u

int ss_revert_begin(SsStore *s, uint32_t id)
{
        int r = store_writable(s);
        if (r == 0)
                r = origin_no_plans(s, "revert the origin");
        if (r < 0)
                return r;
        if (!snaps_find(s, id))
                return ss_error(-ENOENT, "snapshot %u does not exist", id);
        if (s->sb.revert_target && s->sb.revert_target != id)
                return ss_error(-EBUSY, "a revert to snapshot %u is unfinished",
                                s->sb.revert_target);
        if (s->sb.revert_target == id)
                return 0;
        s->sb.revert_target = id;
        s->sb.revert_phase = 0;
        s->sb.revert_cursor_hi = id;
        s->sb.revert_cursor_chunk = 0;
        s->sb.revert_done = 0;
        s->txn_dirty = true;
        return txn_commit(s);
}

/* The next batch of chunks to revert, advancing the in-memory cursor. */
static int next_batch(SsStore *s, uint32_t t, uint64_t nchunks, uint64_t *out, unsigned max,
                      unsigned *ret_n)
{
        SsSuper *sb = &s->sb;
        SsKey keys[REVERT_BATCH];
        unsigned n = 0;

        while (n == 0 && sb->revert_phase < 2) {
                int got;
                if (sb->revert_phase == 0)
                        got = bt_scan(s, SS_TREE_BYHI,
                                      key_make(sb->revert_cursor_hi, sb->revert_cursor_chunk),
                                      KEY_MAX, max, keys, NULL);
                else
                        got = s->sb.roots[SS_TREE_PRIVATE].block
                                      ? bt_scan(s, SS_TREE_PRIVATE,
                                                key_make(t, sb->revert_cursor_chunk),
                                                key_make((uint64_t)t + 1, 0), max, keys, NULL)
                                      : 0;
                if (got < 0)
                        return got;
                if (got == 0) {
                        sb->revert_phase++;
                        sb->revert_cursor_chunk = 0;
                        continue;
                }
                for (int i = 0; i < got; i++) {
                        uint64_t c = sb->revert_phase == 0 ? keys[i].b : keys[i].b;
                        bool take = c < nchunks;
                        if (sb->revert_phase == 0) {
                                /* Once per chunk: at its first exception >= t. */
                                SsKey k;
                                int r = bt_seek_ge(s, SS_TREE_SHARED, key_make(c, t), &k, NULL);
                                if (r < 0)
                                        return r;
                                take = take && k.b == keys[i].a;
                                sb->revert_cursor_hi = (uint32_t)keys[i].a;
                        }
                        sb->revert_cursor_chunk = c + 1;
                        if (take)
                                out[n++] = c;
                }
        }
        *ret_n = n;
        return 0;
}

static int revert_chunks(SsStore *s, uint32_t t, const uint64_t *chunks, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                int r = origin_copy_out(s, chunks[i], chunks[i]);
                if (r < 0)
                        return r;
        }
        int r = txn_commit(s);
        for (unsigned i = 0; r == 0 && i < n; i++) {
                uint64_t start = chunks[i] << s->chunk_shift;
                /* Never past the snapshot's image: the origin keeps what lies beyond. */
                const SsSnapshotInfo *ti = snaps_find(s, t);
                uint64_t end = ti ? MIN(ti->origin_size, s->sb.origin_size) : s->sb.origin_size;
                size_t len = (size_t)MIN((uint64_t)s->sb.chunk_size, end - start);
                r = read_chunk_of(s, t, chunks[i], s->chunk_buf);
                if (r == 0)
                        r = ss_dev_pwrite(s->origin, s->chunk_buf, len, start);
        }
        if (r == 0)
                r = ss_dev_flush(s->origin);
        return r;
}

/* One batch of the revert to t: copy-outs, origin writes, cursor, each
 * committed.  On failure the open transaction is aborted. */
static int revert_batch(SsStore *s, uint32_t t, unsigned budget)
{
        const SsSnapshotInfo *info = snaps_find(s, t);
        if (!info)
                return ss_error(-EUCLEAN, "revert target %u is missing", t);
        uint64_t nchunks = origin_chunks(s, MIN(info->origin_size, s->sb.origin_size));
        uint64_t chunks[REVERT_BATCH];
        unsigned n = 0;

        /* The cursor must not move on disk before the batch is written, so it
         * is computed in a scratch copy and applied after the data is. */
        SsSuper saved = { 0 };
        int r = ss_super_copy(&saved, &s->sb);
        if (r == 0)
                r = next_batch(s, t, nchunks, chunks, MIN(MAX(budget, 1u), REVERT_BATCH), &n);
        uint32_t phase = s->sb.revert_phase, hi = s->sb.revert_cursor_hi;
        uint64_t chunk = s->sb.revert_cursor_chunk;
        if (r == 0) {
                s->sb.revert_phase = saved.revert_phase;
                s->sb.revert_cursor_hi = saved.revert_cursor_hi;
                s->sb.revert_cursor_chunk = saved.revert_cursor_chunk;
                r = revert_chunks(s, t, chunks, n);
        }
        ss_super_release(&saved);
        if (r < 0) {
                txn_abort(s);
                return r;
        }
        s->sb.revert_phase = phase;
        s->sb.revert_cursor_hi = hi;
        s->sb.revert_cursor_chunk = chunk;
        s->sb.revert_done += n;
        if (phase >= 2) {
                s->sb.revert_target = 0;
                s->sb.revert_phase = 0;
                s->sb.revert_cursor_hi = 0;
                s->sb.revert_cursor_chunk = 0;
        }
        s->txn_dirty = true;
        return txn_commit(s);
}

/* How many chunks the rest of the revert to t would copy out now: walks the
 * remaining chunks with the cursor, then puts the cursor back. */
static int revert_copies_left(SsStore *s, uint32_t t, uint64_t *ret_count)
{
        const SsSnapshotInfo *info = snaps_find(s, t);
        uint64_t nchunks = origin_chunks(s, MIN(info->origin_size, s->sb.origin_size));
        uint32_t phase = s->sb.revert_phase, hi = s->sb.revert_cursor_hi;
        uint64_t chunk = s->sb.revert_cursor_chunk, count = 0, chunks[REVERT_BATCH];
        unsigned n;
        int r;

        do {
                r = next_batch(s, t, nchunks, chunks, REVERT_BATCH, &n);
                for (unsigned i = 0; r == 0 && i < n; i++) {
                        r = origin_copy_needed(s, chunks[i]);
                        if (r > 0)
                                count++;
                        r = r < 0 ? r : 0;
                }
        } while (r == 0 && n);
        s->sb.revert_phase = phase;
        s->sb.revert_cursor_hi = hi;
        s->sb.revert_cursor_chunk = chunk;
        if (r == 0)
                *ret_count = count;
        return r;
}

/* The revert to t ran out of space and nothing more may be deleted: says
 * what would let it finish. */
static int revert_full(SsStore *s, uint32_t t)
{
        char why[256];
        uint64_t left = 0;

        snprintf(why, sizeof(why), "%s", ss_last_error());
        int r = revert_copies_left(s, t, &left);
        if (r < 0)
                return r;
        uint64_t need = left * s->sb.chunk_size, free_bytes = s->sb.free_blocks * SS_BLOCK_SIZE;
        return ss_error(-ENOSPC,
                        "the revert to snapshot %u cannot finish: it must still copy out %llu "
                        "chunks (%llu bytes, plus metadata) for newer snapshots and %llu bytes "
                        "are free; grow the store, delete snapshots (those newer than %u need "
                        "the copies), or abandon the revert with ss_revert_abandon() (the origin "
                        "stays partly reverted) [%s]",
                        t, (unsigned long long)left, (unsigned long long)need,
                        (unsigned long long)free_bytes, t, why);
}

int ss_revert_step(SsStore *s, unsigned budget, uint64_t *ret_done)
{
        int r = store_writable(s);
        if (r == 0)
                r = origin_no_plans(s, "revert the origin");
        if (r < 0)
                return r;
        uint32_t t = s->sb.revert_target;
        if (!t)
                return 0;
        for (;;) {
                r = revert_batch(s, t, budget);
                if (r != -ENOSPC)
                        break;
                if (s->sb.full_policy != SS_FULL_AUTODELETE)
                        return revert_full(s, t);
                r = autodelete_one(s, t);
                if (r == -ENOSPC)
                        return revert_full(s, t);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (ret_done)
                *ret_done = s->sb.revert_done;
        return s->sb.revert_target ? 1 : 0;
}

int ss_revert_abandon(SsStore *s)
{
        int r = store_writable(s);
        if (r < 0)
                return r;
        if (!s->sb.revert_target)
                return ss_error(-ENOENT, "store %s has no unfinished revert to abandon",
                                s->dev->name);
        s->sb.revert_target = 0;
        s->sb.revert_phase = 0;
        s->sb.revert_cursor_hi = 0;
        s->sb.revert_cursor_chunk = 0;
        s->sb.revert_done = 0;
        s->txn_dirty = true;
        return txn_commit(s);
}

int ss_revert_origin(SsStore *s, uint32_t id)
{
        int r = ss_revert_begin(s, id);

        while (r == 1 || r == 0) {
                r = ss_revert_step(s, REVERT_BATCH, NULL);
                if (r == 0)
                        return 0;
        }
        return r;
}
