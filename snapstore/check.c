/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The consistency checker behind zumastor-check.
 *
 * It rebuilds the space map from what the trees reference and compares it
 * with the bitmaps on disk, and checks every invariant the engine relies on:
 *  - every node: checksum, location, tree, level, key order, keys within the
 *    bounds its parent gives; counts of nodes and entries match the roots;
 *  - no block referenced twice; data chunks aligned and inside the store;
 *  - the by-hi index holds exactly the shared exceptions, mirrored;
 *  - every shared exception serves a live snapshot, unless a pending
 *    cleanup job covers it; private exceptions belong to live snapshots or
 *    to a pending cleanup; snapshot ids below the next id;
 *  - superblock counters (data, metadata, free blocks) add up;
 *  - the four superblock areas as open found them: every damaged copy or
 *    mirror is a problem, except the one area a commit interrupted by a
 *    crash explains (txn.c), and so is an open that rolled back.
 * It reads only the committed state and changes nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct Checker {
        SsStore *s;
        SsReportFn fn;
        void *user;
        unsigned problems;
        uint8_t *seen; /* a bit per store block referenced */
        uint64_t nodes[SS_TREE_COUNT], entries[SS_TREE_COUNT];
        uint64_t data_blocks, meta_blocks;
        SsKey prev_shared; /* previous shared exception, in walk order */
        bool have_prev;
} Checker;

static void report(Checker *ck, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(Checker *ck, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        ck->problems++;
        if (ck->fn && ck->problems <= 1000)
                ck->fn(ck->user, msg);
}

static bool seen_get(const Checker *ck, uint64_t b)
{
        return (ck->seen[b / 8] >> (b % 8)) & 1;
}

static void claim(Checker *ck, uint64_t blk, uint32_t count, const char *what)
{
        for (uint32_t i = 0; i < count; i++) {
                uint64_t b = blk + i;
                if (b >= ck->s->sb.store_blocks) {
                        report(ck, "%s: block %llu is outside the store", what,
                               (unsigned long long)b);
                        return;
                }
                if (seen_get(ck, b))
                        report(ck, "%s: block %llu is referenced twice", what,
                               (unsigned long long)b);
                ck->seen[b / 8] |= (uint8_t)(1u << (b % 8));
        }
}

static bool covered_by_cleanup(const SsStore *s, uint32_t kind, uint64_t a)
{
        for (uint32_t i = 0; i < s->sb.cleanup_count; i++) {
                const SsCleanupJob *j = &s->sb.cleanup[i];
                if (j->kind != kind)
                        continue;
                if (kind == SS_CLEANUP_SHARED && a >= j->from && a < j->to)
                        return true;
                if (kind == SS_CLEANUP_PRIVATE && a == j->from)
                        return true;
        }
        return false;
}

static void check_shared_entry(Checker *ck, SsKey k, uint64_t blk)
{
        SsStore *s = ck->s;
        uint64_t c = k.a, hi = k.b;
        char what[96];

        snprintf(what, sizeof(what), "exception (chunk %llu, snapshot %llu)", (unsigned long long)c,
                 (unsigned long long)hi);
        if (c >= origin_chunks(s, s->sb.origin_size))
                report(ck, "%s: chunk beyond the origin", what);
        if (hi == 0 || hi >= s->sb.next_snapshot)
                report(ck, "%s: snapshot id out of range", what);
        if (blk % s->chunk_blocks || blk < SS_FIRST_GROUP_RESERVED)
                report(ck, "%s: data block %llu misaligned", what, (unsigned long long)blk);
        else
                claim(ck, blk, s->chunk_blocks, what);
        ck->data_blocks += s->chunk_blocks;

        uint64_t lo = ck->have_prev && ck->prev_shared.a == c ? ck->prev_shared.b : 0;
        uint32_t live = snaps_live_above(s, (uint32_t)lo);
        if (!(live && live <= hi) && !covered_by_cleanup(s, SS_CLEANUP_SHARED, hi))
                report(ck, "%s serves no live snapshot and no cleanup is pending", what);
        if (bt_lookup(s, SS_TREE_BYHI, key_make(hi, c), NULL) != 0)
                report(ck, "%s is missing from the by-hi index", what);
        ck->prev_shared = k;
        ck->have_prev = true;
}

static void check_private_entry(Checker *ck, SsKey k, uint64_t blk)
{
        SsStore *s = ck->s;
        char what[96];

        snprintf(what, sizeof(what), "private chunk %llu of snapshot %llu", (unsigned long long)k.b,
                 (unsigned long long)k.a);
        const SsSnapshotInfo *info = k.a <= UINT32_MAX ? snaps_find(s, (uint32_t)k.a) : NULL;
        if (!info && !covered_by_cleanup(s, SS_CLEANUP_PRIVATE, k.a))
                report(ck, "%s: the snapshot is gone and no cleanup is pending", what);
        if (info && k.b >= origin_chunks(s, info->origin_size))
                report(ck, "%s: beyond the snapshot's image", what);
        if (blk % s->chunk_blocks || blk < SS_FIRST_GROUP_RESERVED)
                report(ck, "%s: data block %llu misaligned", what, (unsigned long long)blk);
        else
                claim(ck, blk, s->chunk_blocks, what);
        ck->data_blocks += s->chunk_blocks;
}

static void check_byhi_entry(Checker *ck, SsKey k)
{
        if (bt_lookup(ck->s, SS_TREE_SHARED, key_make(k.b, k.a), NULL) != 0)
                report(ck, "by-hi entry (snapshot %llu, chunk %llu) has no exception",
                       (unsigned long long)k.a, (unsigned long long)k.b);
}

static int visit(SsStore *s, const SsNode *n, SsKey lo, SsKey hi, void *user)
{
        Checker *ck = user;
        char what[64];

        snprintf(what, sizeof(what), "B-tree node %llu", (unsigned long long)n->blocknr);
        claim(ck, n->blocknr, 1, what);
        ck->nodes[n->tree]++;
        ck->meta_blocks++;
        for (uint32_t i = 0; i < n->count; i++) {
                if (key_cmp(n->keys[i], lo) < 0 || key_cmp(n->keys[i], hi) >= 0)
                        report(ck, "%s: key (%llu, %llu) outside the range its parent gives", what,
                               (unsigned long long)n->keys[i].a, (unsigned long long)n->keys[i].b);
        }
        if (n->level > 0)
                return 0;
        ck->entries[n->tree] += n->count;
        for (uint32_t i = 0; i < n->count; i++) {
                switch (n->tree) {
                case SS_TREE_SHARED:
                        check_shared_entry(ck, n->keys[i], node_u64(n, i));
                        break;
                case SS_TREE_PRIVATE:
                        check_private_entry(ck, n->keys[i], node_u64(n, i));
                        break;
                case SS_TREE_BYHI:
                        check_byhi_entry(ck, n->keys[i]);
                        break;
                case SS_TREE_SNAPSHOTS:
                        if (i == 0 && n->snap_compact != !!(s->sb.feature_incompat &
                                                            SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS))
                                report(ck, "%s: snapshot leaf not in the store's encoding", what);
                        if (!snaps_find(s, (uint32_t)n->keys[i].a))
                                report(ck, "snapshot record %llu is not in the loaded table",
                                       (unsigned long long)n->keys[i].a);
                        break;
                }
        }
        return 0;
}

static void check_space_map(Checker *ck)
{
        SsStore *s = ck->s;
        uint64_t total_free = 0;

        for (uint32_t g = 0; g < s->committed.group_count; g++) {
                uint8_t *bits;
                int r = sm_load_group(s, g, true, &bits);
                if (r < 0) {
                        report(ck, "space map of group %u: %s", g, ss_last_error());
                        continue;
                }
                uint64_t start = (uint64_t)g * SS_GROUP_BLOCKS;
                uint64_t reserved_end = sm_group_first_free(g);
                unsigned shown = 0;
                for (uint32_t i = 0; i < SS_GROUP_BLOCKS; i++) {
                        uint64_t b = start + i;
                        bool used = (bits[i / 8] >> (i % 8)) & 1;
                        bool expect =
                                b < reserved_end || b >= s->sb.store_blocks || seen_get(ck, b);
                        if (!used)
                                total_free++;
                        if (used == expect)
                                continue;
                        if (shown++ < 8)
                                report(ck, "block %llu is %s in the space map but %s",
                                       (unsigned long long)b, used ? "used" : "free",
                                       used ? "nothing references it" : "referenced");
                        else
                                ck->problems++;
                }
                free(bits);
        }
        if (total_free != s->sb.free_blocks)
                report(ck, "superblock counts %llu free blocks, the space map %llu",
                       (unsigned long long)s->sb.free_blocks, (unsigned long long)total_free);
}

static void check_counters(Checker *ck)
{
        SsStore *s = ck->s;

        for (int t = 0; t < SS_TREE_COUNT; t++) {
                if (ck->nodes[t] != s->sb.roots[t].nodes)
                        report(ck, "tree %d: %llu nodes, root says %u", t,
                               (unsigned long long)ck->nodes[t], s->sb.roots[t].nodes);
                if (ck->entries[t] != s->sb.roots[t].entries)
                        report(ck, "tree %d: %llu entries, root says %llu", t,
                               (unsigned long long)ck->entries[t],
                               (unsigned long long)s->sb.roots[t].entries);
        }
        if (ck->entries[SS_TREE_SHARED] != ck->entries[SS_TREE_BYHI])
                report(ck, "%llu shared exceptions but %llu by-hi entries",
                       (unsigned long long)ck->entries[SS_TREE_SHARED],
                       (unsigned long long)ck->entries[SS_TREE_BYHI]);
        if (ck->data_blocks != s->sb.data_blocks)
                report(ck, "superblock counts %llu data blocks, the trees %llu",
                       (unsigned long long)s->sb.data_blocks, (unsigned long long)ck->data_blocks);
        if (ck->meta_blocks != s->sb.meta_blocks)
                report(ck, "superblock counts %llu metadata blocks, the trees %llu",
                       (unsigned long long)s->sb.meta_blocks, (unsigned long long)ck->meta_blocks);
        if (s->snaps.n != s->sb.snapshot_count)
                report(ck, "%zu snapshots loaded, superblock says %u", s->snaps.n,
                       s->sb.snapshot_count);
        for (size_t i = 0; i < s->snaps.n; i++) {
                const SsSnapshotInfo *v = &s->snaps.v[i];
                if (v->origin_size > s->sb.origin_size)
                        report(ck, "snapshot %u is larger than the origin", v->id);
                if (snaps_find_name(s, v->name) != v)
                        report(ck, "the name index does not lead to snapshot %u (%s)", v->id,
                               v->name);
        }
        if (s->sb.revert_target && !snaps_find(s, s->sb.revert_target))
                report(ck, "revert target %u does not exist", s->sb.revert_target);
}

static const char *const area_names[SS_SB_AREAS] = { "copy 0", "copy 1", "mirror 0", "mirror 1" };

static void check_superblocks(Checker *ck)
{
        const SsSuperPick *p = &ck->s->pick;

        for (unsigned i = 0; i < SS_SB_AREAS; i++) {
                const SsSuperCopy *c = &p->copy[i];
                if (!c->valid && !c->explained)
                        report(ck, "superblock %s at block %llu is damaged: %s", area_names[i],
                               (unsigned long long)c->blocknr, c->why);
        }
        if (p->rolled_back) {
                char lost[48] = "an unknown transaction";
                if (p->lost_txid)
                        snprintf(lost, sizeof(lost), "transaction %llu",
                                 (unsigned long long)p->lost_txid);
                report(ck,
                       "the store was opened on transaction %llu, rolled back from %s that "
                       "could not be read: snapshots whose chunks that commit copied out may "
                       "read newer data",
                       (unsigned long long)ck->s->committed.txid, lost);
        }
}

int ss_check(SsStore *s, SsReportFn fn, void *user)
{
        Checker ck = { .s = s, .fn = fn, .user = user };

        if (s->txn_dirty)
                return ss_error(-EBUSY, "store has an uncommitted transaction");
        ck.seen = calloc(1, s->sb.store_blocks / 8 + 1);
        if (!ck.seen)
                return -ENOMEM;
        check_superblocks(&ck);
        if (s->damaged)
                report(&ck, "damage found before this check: %s", s->damage);
        for (int t = 0; t < SS_TREE_COUNT; t++) {
                ck.have_prev = false;
                int r = bt_walk(s, (unsigned)t, visit, &ck);
                if (r < 0)
                        report(&ck, "tree %d: %s", t, ss_last_error());
        }
        check_space_map(&ck);
        check_counters(&ck);
        free(ck.seen);
        return (int)MIN(ck.problems, (unsigned)INT32_MAX);
}
