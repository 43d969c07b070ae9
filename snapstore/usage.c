/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exact per-snapshot usage: the space that deleting this snapshot alone
 * would free.  With p and n the live neighbours of s, a shared exception is
 * s's alone when it serves s and nothing else live: hi in [s, n) and its low
 * end lo in [p, s).  The scan covers the by-hi range [s, n) only, and the
 * private exceptions of s.
 */
#include "internal.h"

#define BATCH 256u

static int count_shared(SsStore *s, uint32_t id, uint64_t *ret)
{
        uint32_t prev = snaps_live_below(s, id), next = snaps_live_above(s, id);
        uint64_t end = next ? next : (uint64_t)UINT32_MAX + 1, count = 0;
        SsKey from = key_make(id, 0), keys[BATCH];

        for (;;) {
                int n = bt_scan(s, SS_TREE_BYHI, from, key_make(end, 0), BATCH, keys, NULL);
                if (n <= 0) {
                        if (n < 0)
                                return n;
                        break;
                }
                for (int i = 0; i < n; i++) {
                        uint64_t c = keys[i].b, hi = keys[i].a;
                        SsKey k;
                        int r = bt_seek_le(s, SS_TREE_SHARED, key_make(c, hi - 1), &k, NULL);
                        uint64_t lo = (r == 0 && k.a == c) ? k.b : 0;
                        if (r < 0 && r != -ENOENT)
                                return r;
                        if (lo >= prev && lo < id)
                                count++;
                }
                from = key_make(keys[n - 1].a, keys[n - 1].b + 1);
        }
        *ret = count;
        return 0;
}

static int count_private(SsStore *s, uint32_t id, uint64_t *ret)
{
        SsKey from = key_make(id, 0), keys[BATCH];
        uint64_t count = 0;

        while (s->sb.roots[SS_TREE_PRIVATE].block) {
                int n = bt_scan(s, SS_TREE_PRIVATE, from, key_make((uint64_t)id + 1, 0), BATCH,
                                keys, NULL);
                if (n < 0)
                        return n;
                if (n == 0)
                        break;
                count += (uint64_t)n;
                from = key_make(id, keys[n - 1].b + 1);
        }
        *ret = count;
        return 0;
}

int ss_snapshot_usage(SsStore *s, uint32_t id, SsSnapshotUsage *ret)
{
        SsSnapshotUsage u = { 0 };

        if (!snaps_find(s, id))
                return ss_error(-ENOENT, "snapshot %u does not exist", id);
        int r = count_shared(s, id, &u.shared_chunks);
        if (r == 0)
                r = count_private(s, id, &u.private_chunks);
        if (r < 0)
                return r;
        u.exclusive_bytes = (u.shared_chunks + u.private_chunks) * s->sb.chunk_size;
        *ret = u;
        return cache_shrink(s) < 0 ? -EIO : 0;
}
