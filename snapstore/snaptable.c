/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The snapshot table: every live snapshot's record, persisted in the
 * snapshot B-tree keyed by id and mirrored in memory as an array sorted by
 * id, so the questions the copy-out path asks ("newest live snapshot",
 * "first live snapshot above x") cost a binary search, not a tree walk.
 * Records are 160 bytes: 10,000 snapshots keep 1.6 MB in memory.
 */
#include <string.h>

#include "internal.h"

void snaps_destroy(SsSnapTable *t)
{
        free(t->v);
        t->v = NULL;
        t->n = t->cap = 0;
}

/* Index of the first snapshot with id >= id. */
static size_t index_of(const SsSnapTable *t, uint32_t id)
{
        size_t lo = 0, hi = t->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (t->v[mid].id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int table_insert(SsSnapTable *t, const SsSnapshotInfo *info)
{
        size_t i = index_of(t, info->id);

        if (i < t->n && t->v[i].id == info->id) {
                t->v[i] = *info;
                return 0;
        }
        if (t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 64;
                SsSnapshotInfo *v = realloc(t->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                t->v = v;
                t->cap = cap;
        }
        memmove(t->v + i + 1, t->v + i, (t->n - i) * sizeof(*t->v));
        t->v[i] = *info;
        t->n++;
        return 0;
}

static int cmp_name(const void *a, const void *b)
{
        return strcmp((*(const SsSnapshotInfo *const *)a)->name,
                      (*(const SsSnapshotInfo *const *)b)->name);
}

/* Sorting pointers keeps the check O(n log n) for thousands of snapshots. */
static int check_unique_names(const SsSnapTable *t)
{
        const SsSnapshotInfo **v = malloc((t->n + 1) * sizeof(*v));
        int r = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++)
                v[i] = &t->v[i];
        qsort(v, t->n, sizeof(*v), cmp_name);
        for (size_t i = 1; i < t->n && r == 0; i++)
                if (strcmp(v[i - 1]->name, v[i]->name) == 0)
                        r = ss_error(-EUCLEAN, "snapshots %u and %u share the name %s",
                                     v[i - 1]->id, v[i]->id, v[i]->name);
        free(v);
        return r;
}

int snaps_load(SsStore *s)
{
        SsSnapTable t = { 0 };
        SsKey keys[64];
        uint8_t(*recs)[sizeof(SsDiskSnapshot)] = malloc(64 * sizeof(SsDiskSnapshot));
        SsKey from = key_make(0, 0);
        int r;

        if (!recs)
                return -ENOMEM;
        for (;;) {
                r = bt_scan(s, SS_TREE_SNAPSHOTS, from, KEY_MAX, 64, keys, recs);
                if (r <= 0)
                        break;
                for (int i = 0; i < r; i++) {
                        SsSnapshotInfo info;
                        int k = ss_snaprec_decode(recs[i], keys[i].a, &info);
                        if (k == 0 && info.id >= s->sb.next_snapshot)
                                k = ss_error(-EUCLEAN, "snapshot %u is beyond the next id %u",
                                             info.id, s->sb.next_snapshot);
                        if (k == 0)
                                k = table_insert(&t, &info);
                        if (k < 0) {
                                r = k;
                                goto out;
                        }
                }
                from = key_make(keys[r - 1].a + 1, 0);
        }
        if (r == 0)
                r = check_unique_names(&t);
        if (r == 0 && t.n != s->sb.snapshot_count)
                r = ss_error(-EUCLEAN, "snapshot table holds %zu snapshots, superblock says %u",
                             t.n, s->sb.snapshot_count);
out:
        free(recs);
        if (r < 0) {
                snaps_destroy(&t);
                return r;
        }
        snaps_destroy(&s->snaps);
        s->snaps = t;
        return 0;
}

SsSnapshotInfo *snaps_find(SsStore *s, uint32_t id)
{
        size_t i = index_of(&s->snaps, id);

        return i < s->snaps.n && s->snaps.v[i].id == id ? &s->snaps.v[i] : NULL;
}

SsSnapshotInfo *snaps_find_name(SsStore *s, const char *name)
{
        for (size_t i = 0; i < s->snaps.n; i++)
                if (strcmp(s->snaps.v[i].name, name) == 0)
                        return &s->snaps.v[i];
        return NULL;
}

int snaps_put(SsStore *s, const SsSnapshotInfo *info)
{
        uint8_t rec[sizeof(SsDiskSnapshot)];
        bool is_new = !snaps_find(s, info->id);

        ss_snaprec_encode(info, rec);
        int r = bt_insert(s, SS_TREE_SNAPSHOTS, key_make(info->id, 0), rec, true);
        if (r < 0)
                return r;
        r = table_insert(&s->snaps, info);
        if (r < 0)
                return r;
        if (is_new)
                s->sb.snapshot_count++;
        return 0;
}

int snaps_remove(SsStore *s, uint32_t id)
{
        size_t i = index_of(&s->snaps, id);

        if (i >= s->snaps.n || s->snaps.v[i].id != id)
                return -ENOENT;
        int r = bt_delete(s, SS_TREE_SNAPSHOTS, key_make(id, 0));
        if (r < 0)
                return r;
        memmove(s->snaps.v + i, s->snaps.v + i + 1, (s->snaps.n - i - 1) * sizeof(*s->snaps.v));
        s->snaps.n--;
        s->sb.snapshot_count--;
        return 0;
}

uint32_t snaps_newest(const SsStore *s)
{
        return s->snaps.n ? s->snaps.v[s->snaps.n - 1].id : 0;
}

uint32_t snaps_live_above(const SsStore *s, uint32_t after)
{
        if (after == UINT32_MAX)
                return 0;
        size_t i = index_of(&s->snaps, after + 1);
        return i < s->snaps.n ? s->snaps.v[i].id : 0;
}

uint32_t snaps_live_below(const SsStore *s, uint32_t before)
{
        size_t i = index_of(&s->snaps, before);
        return i > 0 ? s->snaps.v[i - 1].id : 0;
}
