/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Chunks that changed between two snapshots: the basis of replication.
 *
 * For live snapshots a < b, chunk c was written between them exactly when c
 * has an exception with hi in [a, b): a write while the newest live snapshot
 * was in [a, b) copied it out, or an earlier one in the same window did.
 * The by-hi index lists those in order, so the work is proportional to the
 * answer.  A chunk is reported at its first exception with hi >= a only.
 * Then come the private chunks of a and of b (writable snapshots), and the
 * chunks b has beyond the end of a (the origin grew), each once.
 *
 * The cursor is plain data: phase and position in the index of that phase.
 */
#include <string.h>

#include "internal.h"

enum {
        PHASE_SHARED = 0,
        PHASE_PRIVATE_FROM = 1,
        PHASE_PRIVATE_TO = 2,
        PHASE_GROWN = 3,
        PHASE_DONE = 4,
};

#define BATCH 256u

typedef struct DeltaEnds {
        uint32_t from, to;    /* to = 0: origin */
        uint64_t from_chunks; /* chunks in from's image (0 when from = 0) */
        uint64_t to_chunks;   /* chunks in to's image */
        uint64_t to_hi_end;   /* exclusive bound on hi for the shared phase */
} DeltaEnds;

static int resolve(SsStore *s, const SsDeltaCursor *cur, DeltaEnds *e)
{
        const SsSnapshotInfo *f = cur->from ? snaps_find(s, cur->from) : NULL;
        const SsSnapshotInfo *t = cur->to ? snaps_find(s, cur->to) : NULL;

        if ((cur->from && !f) || (cur->to && !t))
                return ss_error(-ENOENT, "snapshot %u no longer exists",
                                cur->from && !f ? cur->from : cur->to);
        e->from = cur->from;
        e->to = cur->to;
        e->from_chunks = f ? origin_chunks(s, f->origin_size) : 0;
        e->to_chunks = origin_chunks(s, t ? t->origin_size : s->sb.origin_size);
        e->to_hi_end = cur->to ? cur->to : (uint64_t)UINT32_MAX + 1;
        return 0;
}

int ss_delta_begin(SsStore *s, uint32_t from, uint32_t to, SsDeltaCursor *ret)
{
        SsDeltaCursor cur = { .from = from, .to = to };
        DeltaEnds e;

        if (from && to && from > to) {
                cur.from = to;
                cur.to = from;
        }
        if (from && from == to)
                return ss_error(-EINVAL, "a snapshot has no changes against itself");
        int r = resolve(s, &cur, &e);
        if (r < 0)
                return r;
        cur.phase = from ? PHASE_SHARED : PHASE_GROWN;
        cur.hi = cur.from;
        cur.chunk = 0;
        *ret = cur;
        return 0;
}

/* Does chunk c have an exception with hi in [from, hi_end)?  Its first one
 * at or above from is returned in *ret_hi. */
static int first_hi_at_or_above(SsStore *s, uint64_t c, uint32_t from, uint64_t *ret_hi)
{
        SsKey k;
        int r = bt_seek_ge(s, SS_TREE_SHARED, key_make(c, from), &k, NULL);
        if (r == -ENOENT || (r == 0 && k.a != c)) {
                *ret_hi = UINT64_MAX;
                return 0;
        }
        if (r == 0)
                *ret_hi = k.b;
        return r;
}

static int shared_phase(SsStore *s, SsDeltaCursor *cur, const DeltaEnds *e, uint64_t *out,
                        size_t max, size_t *n)
{
        SsKey keys[BATCH];
        int got = bt_scan(s, SS_TREE_BYHI, key_make(cur->hi, cur->chunk), key_make(e->to_hi_end, 0),
                          MIN(max - *n, BATCH), keys, NULL);
        if (got < 0)
                return got;
        for (int i = 0; i < got; i++) {
                uint64_t c = keys[i].b, first = 0;
                int r = first_hi_at_or_above(s, c, e->from, &first);
                if (r < 0)
                        return r;
                cur->hi = (uint32_t)keys[i].a;
                cur->chunk = c + 1;
                if (first == keys[i].a && c < e->from_chunks)
                        out[(*n)++] = c;
        }
        return got == 0 ? 1 : 0; /* 1: phase finished */
}

static int changed_in_shared(SsStore *s, uint64_t c, const DeltaEnds *e, bool *ret)
{
        uint64_t first;
        int r = first_hi_at_or_above(s, c, e->from, &first);
        if (r == 0)
                *ret = first < e->to_hi_end;
        return r;
}

static int private_phase(SsStore *s, SsDeltaCursor *cur, const DeltaEnds *e, uint32_t id,
                         bool check_from, uint64_t *out, size_t max, size_t *n)
{
        SsKey keys[BATCH];
        uint64_t bound = cur->phase == PHASE_PRIVATE_FROM ? e->from_chunks : e->to_chunks;

        if (!id || !s->sb.roots[SS_TREE_PRIVATE].block)
                return 1;
        int got = bt_scan(s, SS_TREE_PRIVATE, key_make(id, cur->chunk),
                          key_make((uint64_t)id + 1, 0), MIN(max - *n, BATCH), keys, NULL);
        if (got < 0)
                return got;
        for (int i = 0; i < got; i++) {
                uint64_t c = keys[i].b;
                bool seen = false;
                int r = changed_in_shared(s, c, e, &seen);
                if (r == 0 && !seen && check_from) {
                        r = bt_lookup(s, SS_TREE_PRIVATE, key_make(e->from, c), NULL);
                        seen = r == 0;
                        r = r == -ENOENT ? 0 : r;
                }
                if (r < 0)
                        return r;
                cur->chunk = c + 1;
                if (!seen && c < bound && c < e->from_chunks)
                        out[(*n)++] = c;
        }
        return got == 0 ? 1 : 0;
}

int ss_delta_next(SsStore *s, SsDeltaCursor *cur, uint64_t *out, size_t max)
{
        DeltaEnds e;
        size_t n = 0;
        int r = resolve(s, cur, &e);
        if (r < 0)
                return r;

        while (n < max && cur->phase < PHASE_DONE) {
                switch (cur->phase) {
                case PHASE_SHARED:
                        r = shared_phase(s, cur, &e, out, max, &n);
                        break;
                case PHASE_PRIVATE_FROM:
                        r = private_phase(s, cur, &e, e.from, false, out, max, &n);
                        break;
                case PHASE_PRIVATE_TO:
                        r = private_phase(s, cur, &e, e.to, true, out, max, &n);
                        break;
                case PHASE_GROWN:
                        if (cur->chunk < e.from_chunks)
                                cur->chunk = e.from_chunks;
                        while (n < max && cur->chunk < e.to_chunks)
                                out[n++] = cur->chunk++;
                        r = cur->chunk >= e.to_chunks;
                        break;
                default:
                        return ss_error(-EINVAL, "delta cursor has unknown phase %u", cur->phase);
                }
                if (r < 0)
                        return r;
                if (r == 1) {
                        cur->phase++;
                        cur->hi = 0;
                        cur->chunk = 0;
                }
        }
        int c = cache_shrink(s);
        return c < 0 ? c : (int)n;
}
