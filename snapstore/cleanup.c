/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Freeing the space of deleted snapshots, incrementally.
 *
 * An exception (c, hi) serves the snapshots in (lo, hi], lo being the hi of
 * the previous exception of c (0 if none).  It is dead when no live snapshot
 * is in that range.  When snapshot s is deleted, with n the next live
 * snapshot above it, only exceptions with hi in [s, n) can have died, so a
 * cleanup job scans the by-hi index over exactly that range: the work is
 * proportional to what the snapshot held, not to the size of the store.
 *
 * Jobs live in the superblock with their cursor, so each step is bounded and
 * a crash resumes where the last committed step stopped.  The liveness test
 * is exact, so rescanning a range (after a crash, or when overlapping jobs
 * are merged) frees nothing twice and nothing still needed.
 */
#include <string.h>

#include "internal.h"

#define SCAN_BATCH 256u

static void job_remove(SsSuper *sb, uint32_t i)
{
        memmove(&sb->cleanup[i], &sb->cleanup[i + 1],
                (sb->cleanup_count - i - 1) * sizeof(sb->cleanup[0]));
        sb->cleanup_count--;
}

int cleanup_add(SsStore *s, uint32_t kind, uint32_t from, uint32_t to)
{
        SsSuper *sb = &s->sb;

        s->txn_dirty = true;
        if (kind == SS_CLEANUP_SHARED) {
                /* Overlapping ranges merge; a range reaching below the cursor
                 * sends the cursor back, as rescanning is harmless. */
                for (uint32_t i = 0; i < sb->cleanup_count; i++) {
                        SsCleanupJob *j = &sb->cleanup[i];
                        if (j->kind != SS_CLEANUP_SHARED || from > j->to || j->from > to)
                                continue;
                        if (from <= j->cursor_hi) {
                                j->cursor_hi = from;
                                j->cursor_chunk = 0;
                        }
                        j->from = MIN(j->from, from);
                        j->to = MAX(j->to, to);
                        return 0;
                }
        }
        /* No room: finish the oldest job now, inside this transaction. */
        while (sb->cleanup_count == SS_MAX_CLEANUP_JOBS) {
                int r = cleanup_run(s, SCAN_BATCH * 16, NULL);
                if (r < 0)
                        return r;
        }
        sb->cleanup[sb->cleanup_count++] = (SsCleanupJob){ kind, from, to, from, 0 };
        return 0;
}

/* The low end of exception (c, hi)'s range. */
static int exception_lo(SsStore *s, uint64_t c, uint32_t hi, uint32_t *ret)
{
        SsKey k;
        int r = bt_seek_le(s, SS_TREE_SHARED, key_make(c, (uint64_t)hi - 1), &k, NULL);
        if (r == -ENOENT || (r == 0 && k.a != c)) {
                *ret = 0;
                return 0;
        }
        if (r == 0)
                *ret = (uint32_t)k.b;
        return r;
}

static bool serves_live(const SsStore *s, uint32_t lo, uint32_t hi)
{
        uint32_t live = snaps_live_above(s, lo);
        return live && live <= hi;
}

/* One batch of a shared job.  Returns entries scanned, 0 when the job is done. */
static int shared_batch(SsStore *s, SsCleanupJob *j, unsigned budget, uint64_t *freed)
{
        SsKey keys[SCAN_BATCH];
        int n = bt_scan(s, SS_TREE_BYHI, key_make(j->cursor_hi, j->cursor_chunk),
                        key_make(j->to, 0), MIN(budget, SCAN_BATCH), keys, NULL);
        for (int i = 0; i < n; i++) {
                uint32_t hi = (uint32_t)keys[i].a, lo;
                uint64_t c = keys[i].b, blk;
                int r = bt_lookup(s, SS_TREE_SHARED, key_make(c, hi), &blk);
                if (r == -ENOENT)
                        return ss_error(-EUCLEAN,
                                        "by-hi index lists exception (chunk %llu, "
                                        "snapshot %u) that the chunk index lacks",
                                        (unsigned long long)c, hi);
                if (r == 0)
                        r = exception_lo(s, c, hi, &lo);
                if (r == 0 && !serves_live(s, lo, hi)) {
                        r = exception_remove(s, c, hi, blk);
                        if (freed)
                                (*freed)++;
                }
                if (r < 0)
                        return r;
                j->cursor_hi = hi;
                j->cursor_chunk = c + 1;
        }
        return n;
}

static int private_batch(SsStore *s, SsCleanupJob *j, unsigned budget, uint64_t *freed)
{
        SsKey keys[SCAN_BATCH];
        uint64_t blks[SCAN_BATCH];
        int n = bt_scan(s, SS_TREE_PRIVATE, key_make(j->from, j->cursor_chunk),
                        key_make((uint64_t)j->from + 1, 0), MIN(budget, SCAN_BATCH), keys, blks);
        for (int i = 0; i < n; i++) {
                int r = private_exception_remove(s, (uint32_t)keys[i].a, keys[i].b, blks[i]);
                if (r < 0)
                        return r;
                if (freed)
                        (*freed)++;
                j->cursor_chunk = keys[i].b + 1;
        }
        return n;
}

/* Runs up to `budget` entries of cleanup inside the open transaction.
 * Returns 1 while jobs remain, 0 when none do. */
int cleanup_run(SsStore *s, unsigned budget, uint64_t *ret_freed)
{
        SsSuper *sb = &s->sb;

        while (budget && sb->cleanup_count) {
                SsCleanupJob *j = &sb->cleanup[0];
                s->txn_dirty = true;
                int n = j->kind == SS_CLEANUP_SHARED ? shared_batch(s, j, budget, ret_freed)
                                                     : private_batch(s, j, budget, ret_freed);
                if (n < 0)
                        return n;
                if (n == 0)
                        job_remove(sb, 0);
                budget -= MIN(budget, (unsigned)n);
                int r = cache_shrink(s);
                if (r < 0)
                        return r;
        }
        return sb->cleanup_count ? 1 : 0;
}

int ss_cleanup_step(SsStore *s, unsigned budget)
{
        int r = store_writable(s);
        if (r < 0)
                return r;
        if (!s->sb.cleanup_count)
                return 0;
        r = cleanup_run(s, MAX(budget, 1u), NULL);
        if (r < 0) {
                txn_abort(s);
                return r;
        }
        int c = txn_commit(s);
        return c < 0 ? c : r;
}
