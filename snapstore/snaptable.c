/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The snapshot table: every live snapshot's record, persisted in the
 * snapshot B-tree keyed by id and mirrored in memory as an array sorted by
 * id, so the questions the copy-out path asks ("newest live snapshot",
 * "first live snapshot above x") cost a binary search, not a tree walk.
 *
 * A hash of the names, built at load and kept with every change, answers
 * "which snapshot has this name" in constant time, so creating or renaming
 * a snapshot does not grow with the number of snapshots: a new id is the
 * largest, its record goes at the end of the array (amortised O(1)) and at
 * the right edge of the tree (O(log n)).
 *
 * On disk, the snapshot leaves of a store with
 * SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS hold variable-length records (a
 * few bytes plus the name: some 200 per leaf instead of 25, codec.c).  A
 * writable open of a store without the feature upgrades it in one
 * transaction (snaps_upgrade), so a crash leaves the old format intact.
 */
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "internal.h"

void snaps_destroy(SsSnapTable *t)
{
        free(t->v);
        free(t->by_name);
        t->v = NULL;
        t->by_name = NULL;
        t->n = t->cap = t->name_slots = 0;
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

static SsSnapshotInfo *table_find(const SsSnapTable *t, uint32_t id)
{
        size_t i = index_of(t, id);

        return i < t->n && t->v[i].id == id ? &t->v[i] : NULL;
}

/* ---- the name index ---- */

static size_t name_home(const SsSnapTable *t, const char *name)
{
        return (size_t)XXH3_64bits(name, strlen(name)) & (t->name_slots - 1);
}

/* The slot holding name, or the empty slot where it would go. */
static size_t name_slot(const SsSnapTable *t, const char *name)
{
        size_t i = name_home(t, name);

        while (t->by_name[i] && strcmp(table_find(t, t->by_name[i])->name, name) != 0)
                i = (i + 1) & (t->name_slots - 1);
        return i;
}

static void name_put(SsSnapTable *t, const char *name, uint32_t id)
{
        t->by_name[name_slot(t, name)] = id;
}

static int name_index_reserve(SsSnapTable *t, size_t n)
{
        size_t slots = t->name_slots ? t->name_slots : 64;

        while (slots < 2 * n)
                slots *= 2;
        if (slots == t->name_slots)
                return 0;
        uint32_t *v = calloc(slots, sizeof(*v));
        if (!v)
                return -ENOMEM;
        free(t->by_name);
        t->by_name = v;
        t->name_slots = slots;
        for (size_t i = 0; i < t->n; i++)
                name_put(t, t->v[i].name, t->v[i].id);
        return 0;
}

/* Backward-shift deletion: later entries of the probe run move up so no
 * lookup stops early at the hole. */
static void name_remove(SsSnapTable *t, const char *name)
{
        size_t mask = t->name_slots - 1, hole = name_slot(t, name);

        if (!t->by_name[hole])
                return;
        t->by_name[hole] = 0;
        for (size_t i = (hole + 1) & mask; t->by_name[i]; i = (i + 1) & mask) {
                size_t home = name_home(t, table_find(t, t->by_name[i])->name);
                /* Move entry i into the hole unless its home lies in
                 * (hole, i], cyclically. */
                if (((i - home) & mask) >= ((i - hole) & mask)) {
                        t->by_name[hole] = t->by_name[i];
                        t->by_name[i] = 0;
                        hole = i;
                }
        }
}

static SsSnapshotInfo *name_find(const SsSnapTable *t, const char *name)
{
        if (!t->name_slots)
                return NULL;
        uint32_t id = t->by_name[name_slot(t, name)];
        return id ? table_find(t, id) : NULL;
}

/* ---- the table ---- */

/* Inserts or replaces the record of info->id.  Names must stay unique: the
 * callers check (snapshot.c) or, at load, this reports a duplicate. */
static int table_insert(SsSnapTable *t, const SsSnapshotInfo *info)
{
        size_t i = index_of(t, info->id);

        if (i < t->n && t->v[i].id == info->id) {
                name_remove(t, t->v[i].name);
                t->v[i] = *info;
                name_put(t, info->name, info->id);
                return 0;
        }
        const SsSnapshotInfo *other = name_find(t, info->name);
        if (other)
                return ss_error(-EUCLEAN, "snapshots %u and %u share the name %s", other->id,
                                info->id, info->name);
        int r = name_index_reserve(t, t->n + 1);
        if (r < 0)
                return r;
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
        name_put(t, info->name, info->id);
        return 0;
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
        r = name_index_reserve(&t, s->sb.snapshot_count);
        while (r >= 0) {
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
        return table_find(&s->snaps, id);
}

SsSnapshotInfo *snaps_find_name(SsStore *s, const char *name)
{
        return name_find(&s->snaps, name);
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
        SsSnapTable *t = &s->snaps;
        size_t i = index_of(t, id);

        if (i >= t->n || t->v[i].id != id)
                return -ENOENT;
        int r = bt_delete(s, SS_TREE_SNAPSHOTS, key_make(id, 0));
        if (r < 0)
                return r;
        name_remove(t, t->v[i].name);
        memmove(t->v + i, t->v + i + 1, (t->n - i - 1) * sizeof(*t->v));
        t->n--;
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

/* Rewrites the snapshot tree in the compact encoding and sets the feature,
 * in the open transaction (the caller commits).  First every record leaves
 * the tree under the old encoding, until it is empty; then, the feature
 * set, every record goes back in: no node of the old encoding is reachable
 * once new ones are made, and until the commit the old tree stays intact
 * on the device (its blocks are freed only by the commit). */
int snaps_upgrade(SsStore *s)
{
        uint8_t rec[sizeof(SsDiskSnapshot)];
        int r = 0;

        if (s->sb.feature_incompat & SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS)
                return 0;
        for (size_t i = s->snaps.n; r == 0 && i > 0; i--)
                r = bt_delete(s, SS_TREE_SNAPSHOTS, key_make(s->snaps.v[i - 1].id, 0));
        if (r == 0 && s->sb.roots[SS_TREE_SNAPSHOTS].block)
                r = ss_error(-EUCLEAN, "snapshot tree not empty after removing every record");
        if (r < 0)
                return r;
        s->sb.feature_incompat |= SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS;
        s->txn_dirty = true;
        for (size_t i = 0; r == 0 && i < s->snaps.n; i++) {
                ss_snaprec_encode(&s->snaps.v[i], rec);
                r = bt_insert(s, SS_TREE_SNAPSHOTS, key_make(s->snaps.v[i].id, 0), rec, false);
        }
        return r;
}
