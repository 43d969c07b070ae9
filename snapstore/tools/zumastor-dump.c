/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zumastor-dump: print what a Zumastor store holds, as text or JSON.
 *
 * Opens the store read-only.  Prints the superblock (identity, sizes,
 * counters, cleanup jobs, an unfinished revert), every snapshot with its
 * usage, a summary of each B-tree from a walk over its nodes and, with
 * --exceptions, every shared and private exception.  The tree walk and the
 * exception listing use the engine's internal B-tree calls: like the engine,
 * this tool is one of the places that know the format.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define SCAN_BATCH 512u
#define MAX_LEVELS 16u

static const char *const tree_names[SS_TREE_COUNT] = {
        [SS_TREE_SHARED] = "shared",
        [SS_TREE_BYHI] = "byhi",
        [SS_TREE_PRIVATE] = "private",
        [SS_TREE_SNAPSHOTS] = "snapshots",
};

/* ---- a small JSON writer: pretty-printed, strings escaped ---- */

typedef struct Json {
        FILE *f;
        unsigned depth;
        bool need_comma[32];
} Json;

static void json_key(Json *j, const char *key)
{
        if (j->need_comma[j->depth])
                fputc(',', j->f);
        j->need_comma[j->depth] = true;
        fputc('\n', j->f);
        fprintf(j->f, "%*s", (int)(2 * j->depth), "");
        if (key)
                fprintf(j->f, "\"%s\": ", key); /* keys are literals of this file */
}

static void json_string_body(Json *j, const char *str)
{
        fputc('"', j->f);
        for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", j->f);
                        break;
                case '\\':
                        fputs("\\\\", j->f);
                        break;
                case '\n':
                        fputs("\\n", j->f);
                        break;
                case '\t':
                        fputs("\\t", j->f);
                        break;
                default:
                        /* Control bytes and bytes that are not ASCII are
                         * escaped, so the output is valid JSON whatever
                         * bytes a name holds. */
                        if (*p < 0x20 || *p >= 0x7f)
                                fprintf(j->f, "\\u%04x", *p);
                        else
                                fputc(*p, j->f);
                }
        }
        fputc('"', j->f);
}

static void json_open(Json *j, const char *key, char bracket)
{
        json_key(j, key);
        fputc(bracket, j->f);
        assert(j->depth + 1 < ARRAY_SIZE(j->need_comma));
        j->depth++;
        j->need_comma[j->depth] = false;
}

static void json_close(Json *j, char bracket)
{
        bool had_members = j->need_comma[j->depth];

        j->depth--;
        if (had_members)
                fprintf(j->f, "\n%*s", (int)(2 * j->depth), "");
        fputc(bracket, j->f);
}

static void json_u64(Json *j, const char *key, uint64_t v)
{
        json_key(j, key);
        fprintf(j->f, "%" PRIu64, v);
}

static void json_i64(Json *j, const char *key, int64_t v)
{
        json_key(j, key);
        fprintf(j->f, "%" PRId64, v);
}

static void json_bool(Json *j, const char *key, bool v)
{
        json_key(j, key);
        fputs(v ? "true" : "false", j->f);
}

static void json_str(Json *j, const char *key, const char *v)
{
        json_key(j, key);
        json_string_body(j, v);
}

/* ---- formatting helpers ---- */

static void format_uuid(const uint8_t u[16], char out[37])
{
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
                 u[13], u[14], u[15]);
}

static void format_time(int64_t t, char *out, size_t len)
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (localtime_r(&tt, &tm) && strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm) > 0)
                return;
        snprintf(out, len, "@%" PRId64, t);
}

/* Human-readable size: exact bytes below 1 KiB, else one decimal. */
static void format_size(uint64_t bytes, char *out, size_t len)
{
        static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double v = (double)bytes;
        unsigned u = 0;

        if (bytes < 1024) {
                snprintf(out, len, "%" PRIu64 " B", bytes);
                return;
        }
        v /= 1024;
        while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
                v /= 1024;
                u++;
        }
        snprintf(out, len, "%.1f %s", v, units[u]);
}

static const char *policy_name(uint32_t p)
{
        switch (p) {
        case SS_FULL_REFUSE:
                return "refuse";
        case SS_FULL_AUTODELETE:
                return "autodelete";
        default:
                return "unknown";
        }
}

static const char *cleanup_kind_name(uint32_t kind)
{
        switch (kind) {
        case SS_CLEANUP_SHARED:
                return "shared";
        case SS_CLEANUP_PRIVATE:
                return "private";
        default:
                return "unknown";
        }
}

static void format_flags(uint32_t flags, char *out, size_t len)
{
        snprintf(out, len, "%s%s%s", flags & SS_SNAP_WRITABLE ? "writable" : "",
                 (flags & SS_SNAP_WRITABLE) && (flags & SS_SNAP_PINNED) ? "," : "",
                 flags & SS_SNAP_PINNED ? "pinned" : "");
        if (!out[0])
                snprintf(out, len, "-");
}

/* ---- tree walk ---- */

typedef struct TreeStats {
        uint64_t nodes[MAX_LEVELS];   /* by level, 0 = leaves */
        uint64_t entries[MAX_LEVELS]; /* by level */
        uint64_t payload_bytes;       /* encoded bytes used in leaves */
        uint32_t levels;
} TreeStats;

static int count_node(SsStore *s, const SsNode *n, SsKey lo, SsKey hi, void *user)
{
        TreeStats *st = user;
        unsigned level = MIN(n->level, MAX_LEVELS - 1);

        st->nodes[level]++;
        st->entries[level] += n->count;
        if (n->level == 0)
                st->payload_bytes += n->enc_bytes;
        st->levels = MAX(st->levels, level + 1);
        return 0;
}

/* ---- exception listing ---- */

typedef int (*EntryFn)(void *user, SsKey key, const uint8_t *val);

static bool key_next(SsKey *k)
{
        if (++k->b != 0)
                return true;
        return ++k->a != 0;
}

/* Calls fn for every entry of a tree, in key order. */
static int scan_tree(SsStore *s, unsigned tree, EntryFn fn, void *user)
{
        uint32_t val_size = tree_leaf_val_size(tree);
        _cleanup_free_ SsKey *keys = calloc(SCAN_BATCH, sizeof(*keys));
        _cleanup_free_ uint8_t *vals = calloc(SCAN_BATCH, MAX(val_size, 1u));
        SsKey from = key_make(0, 0);
        int n, r;

        if (!keys || !vals)
                return -ENOMEM;
        for (;;) {
                n = bt_scan(s, tree, from, KEY_MAX, SCAN_BATCH, keys, vals);
                if (n < 0)
                        return n;
                if (n == 0)
                        return 0;
                for (int i = 0; i < n; i++) {
                        r = fn(user, keys[i], vals + (size_t)i * val_size);
                        if (r < 0)
                                return r;
                }
                from = keys[n - 1];
                if (!key_next(&from))
                        return 0;
        }
}

typedef struct ListState {
        Json *json; /* NULL: text */
        uint64_t prev_chunk;
        uint64_t prev_hi;
        bool have_prev;
} ListState;

static uint64_t val_u64(const uint8_t *val)
{
        uint64_t v;

        memcpy(&v, val, sizeof(v));
        return v;
}

/* A shared exception (chunk, hi) serves the snapshots in (previous hi of the
 * same chunk, hi]; the tree is ordered by (chunk, hi), so the previous entry
 * tells the lower bound. */
static int list_shared(void *user, SsKey key, const uint8_t *val)
{
        ListState *ls = user;
        uint64_t lo = ls->have_prev && ls->prev_chunk == key.a ? ls->prev_hi : 0;
        uint64_t block = val_u64(val);

        if (ls->json) {
                json_open(ls->json, NULL, '{');
                json_u64(ls->json, "chunk", key.a);
                json_u64(ls->json, "hi", key.b);
                json_u64(ls->json, "serves_from", lo + 1);
                json_u64(ls->json, "serves_to", key.b);
                json_u64(ls->json, "block", block);
                json_close(ls->json, '}');
        } else {
                printf("  chunk %-10" PRIu64 " snapshots %" PRIu64 "..%-8" PRIu64 " block %" PRIu64
                       "\n",
                       key.a, lo + 1, key.b, block);
        }
        ls->prev_chunk = key.a;
        ls->prev_hi = key.b;
        ls->have_prev = true;
        return 0;
}

static int list_private(void *user, SsKey key, const uint8_t *val)
{
        ListState *ls = user;
        uint64_t block = val_u64(val);

        if (ls->json) {
                json_open(ls->json, NULL, '{');
                json_u64(ls->json, "snapshot", key.a);
                json_u64(ls->json, "chunk", key.b);
                json_u64(ls->json, "block", block);
                json_close(ls->json, '}');
        } else {
                printf("  snapshot %-8" PRIu64 " chunk %-10" PRIu64 " block %" PRIu64 "\n", key.a,
                       key.b, block);
        }
        return 0;
}

/* ---- text output ---- */

static void print_size_line(const char *label, uint64_t bytes)
{
        char human[32];

        format_size(bytes, human, sizeof(human));
        printf("  %-18s %" PRIu64 " bytes (%s)\n", label, bytes, human);
}

static const char *const area_names[SS_SB_AREAS] = { "copy 0", "copy 1", "mirror 0", "mirror 1" };

/* The four superblock areas as open found them. */
static void text_superblocks(const SsStore *s)
{
        const SsSuperPick *p = &s->pick;

        for (unsigned i = 0; i < SS_SB_AREAS; i++) {
                const SsSuperCopy *c = &p->copy[i];
                printf("  %-18s block %" PRIu64 ": ", area_names[i], c->blocknr);
                if (c->valid)
                        printf("txid %" PRIu64 "%s\n", c->txid, i == p->chosen ? ", in use" : "");
                else
                        printf("damaged%s: %s\n", c->explained ? " (by an interrupted commit)" : "",
                               c->why);
        }
        if (p->rolled_back)
                printf("  %-18s from txid %" PRIu64 " (0: unknown)\n", "rolled back", p->lost_txid);
}

static void json_superblocks(Json *j, const SsStore *s)
{
        const SsSuperPick *p = &s->pick;

        json_open(j, "superblock_copies", '[');
        for (unsigned i = 0; i < SS_SB_AREAS; i++) {
                const SsSuperCopy *c = &p->copy[i];
                json_open(j, NULL, '{');
                json_str(j, "area", area_names[i]);
                json_u64(j, "block", c->blocknr);
                json_bool(j, "valid", c->valid);
                json_u64(j, "txid", c->txid);
                json_bool(j, "in_use", i == p->chosen);
                json_bool(j, "interrupted_commit", c->explained);
                json_str(j, "problem", c->valid ? "" : c->why);
                json_close(j, '}');
        }
        json_close(j, ']');
        json_bool(j, "rolled_back", p->rolled_back);
        json_u64(j, "lost_txid", p->lost_txid);
}

static int dump_text(SsStore *s, const char *store_path, bool exceptions)
{
        const SsSuper *sb = &s->committed;
        SsStoreInfo info;
        SsSnapshotInfo snap;
        char uuid[37], vuuid[37], when[64];
        uint32_t after = 0;
        int r;

        r = ss_store_info(s, &info);
        if (r < 0)
                return r;
        format_uuid(info.uuid, uuid);
        format_uuid(info.volume_uuid, vuuid);
        format_time(sb->created, when, sizeof(when));

        printf("Store %s\n", store_path);
        printf("  %-18s %s\n", "uuid", uuid);
        printf("  %-18s %s (%s)\n", "volume", info.volume_name, vuuid);
        printf("  %-18s %s\n", "created", when);
        printf("  %-18s %" PRIu64 "\n", "txid", info.txid);
        text_superblocks(s);
        printf("  %-18s compat %#" PRIx64 ", ro_compat %#" PRIx64 ", incompat %#" PRIx64 "%s\n",
               "features", sb->feature_compat, sb->feature_ro_compat, sb->feature_incompat,
               sb->feature_incompat & SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS ? " (compact-snapshots)"
                                                                            : "");
        printf("  %-18s %s\n", "snapshot table",
               sb->feature_incompat & SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS
                       ? "compact records"
                       : "fixed 160-byte records (a writable open upgrades it)");
        printf("  %-18s %" PRIu32 " bytes\n", "chunk size", info.chunk_size);
        print_size_line("origin size", info.origin_size);
        print_size_line("store size", info.store_size);
        printf("  %-18s %" PRIu32 " of %u blocks\n", "space-map groups", sb->group_count,
               SS_GROUP_BLOCKS);
        print_size_line("data", info.data_bytes);
        print_size_line("metadata", info.metadata_bytes);
        print_size_line("free", info.free_bytes);
        printf("  %-18s %" PRIu64 " shared, %" PRIu64 " private\n", "exceptions",
               info.shared_exceptions, info.private_exceptions);
        printf("  %-18s %s\n", "when full", policy_name(info.full_policy));
        printf("  %-18s %" PRIu32 " live, next id %" PRIu32 "\n", "snapshots", info.snapshot_count,
               info.next_id);
        printf("  %-18s %" PRIu32 "\n", "cleanup jobs", sb->cleanup_count);
        for (uint32_t i = 0; i < sb->cleanup_count && i < SS_MAX_CLEANUP_JOBS; i++) {
                const SsCleanupJob *job = &sb->cleanup[i];

                printf("    %s: snapshots [%" PRIu32 ", %" PRIu32 "), at hi %" PRIu32
                       " chunk %" PRIu64 "\n",
                       cleanup_kind_name(job->kind), job->from, job->to, job->cursor_hi,
                       job->cursor_chunk);
        }
        if (sb->revert_target)
                printf("  %-18s to snapshot %" PRIu32 ", phase %" PRIu32 ", %" PRIu64
                       " chunks done\n",
                       "revert", sb->revert_target, sb->revert_phase, sb->revert_done);
        else
                printf("  %-18s none\n", "revert");

        printf("\nSnapshots\n");
        printf("  %5s  %-20s %-19s %8s %-16s %12s %12s %10s %10s\n", "ID", "NAME", "CREATED",
               "PRIORITY", "FLAGS", "SIZE", "EXCLUSIVE", "SHARED", "PRIVATE");
        while ((r = ss_snapshot_next(s, after, &snap)) == 0) {
                SsSnapshotUsage use;
                char flags[32], size[32], excl[32];

                r = ss_snapshot_usage(s, snap.id, &use);
                if (r < 0)
                        return r;
                format_time(snap.ctime, when, sizeof(when));
                format_flags(snap.flags, flags, sizeof(flags));
                format_size(snap.origin_size, size, sizeof(size));
                format_size(use.exclusive_bytes, excl, sizeof(excl));
                printf("  %5" PRIu32 "  %-20s %-19s %8" PRId32 " %-16s %12s %12s %10" PRIu64
                       " %10" PRIu64 "\n",
                       snap.id, snap.name, when, snap.priority, flags, size, excl,
                       use.shared_chunks, use.private_chunks);
                after = snap.id;
        }
        if (r != -ENOENT)
                return r;

        printf("\nTrees\n");
        printf("  %-10s %10s %12s %6s %8s %8s %8s %6s\n", "TREE", "ROOT", "ENTRIES", "DEPTH",
               "NODES", "LEAVES", "BRANCH", "FILL");
        for (unsigned t = 0; t < SS_TREE_COUNT; t++) {
                const SsRoot *root = &sb->roots[t];
                TreeStats st = { 0 };
                uint64_t branches = 0;
                double fill = 0;

                r = bt_walk(s, t, count_node, &st);
                if (r < 0)
                        return r;
                for (unsigned l = 1; l < MAX_LEVELS; l++)
                        branches += st.nodes[l];
                if (st.nodes[0])
                        fill = 100.0 * (double)st.payload_bytes /
                               ((double)st.nodes[0] * (double)SS_NODE_PAYLOAD);
                printf("  %-10s %10" PRIu64 " %12" PRIu64 " %6" PRIu32 " %8" PRIu32 " %8" PRIu64
                       " %8" PRIu64 " %5.1f%%\n",
                       tree_names[t], root->block, root->entries, root->depth, root->nodes,
                       st.nodes[0], branches, fill);
        }

        if (exceptions) {
                ListState ls = { 0 };

                printf("\nShared exceptions (chunk, snapshots served, store block)\n");
                r = scan_tree(s, SS_TREE_SHARED, list_shared, &ls);
                if (r < 0)
                        return r;
                printf("\nPrivate exceptions (snapshot, chunk, store block)\n");
                r = scan_tree(s, SS_TREE_PRIVATE, list_private, &ls);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- JSON output ---- */

static int dump_json(SsStore *s, const char *store_path, bool exceptions)
{
        const SsSuper *sb = &s->committed;
        Json j = { .f = stdout };
        SsStoreInfo info;
        SsSnapshotInfo snap;
        char uuid[37];
        uint32_t after = 0;
        int r;

        r = ss_store_info(s, &info);
        if (r < 0)
                return r;

        fputc('{', j.f);
        j.depth = 1;
        json_str(&j, "store", store_path);

        json_open(&j, "superblock", '{');
        format_uuid(info.uuid, uuid);
        json_str(&j, "uuid", uuid);
        format_uuid(info.volume_uuid, uuid);
        json_str(&j, "volume_uuid", uuid);
        json_str(&j, "volume_name", info.volume_name);
        json_i64(&j, "created", sb->created);
        json_u64(&j, "txid", info.txid);
        json_superblocks(&j, s);
        json_u64(&j, "feature_compat", sb->feature_compat);
        json_u64(&j, "feature_ro_compat", sb->feature_ro_compat);
        json_u64(&j, "feature_incompat", sb->feature_incompat);
        json_str(&j, "snapshot_table",
                 sb->feature_incompat & SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS ? "compact"
                                                                              : "fixed");
        json_u64(&j, "chunk_size", info.chunk_size);
        json_u64(&j, "origin_size", info.origin_size);
        json_u64(&j, "store_size", info.store_size);
        json_u64(&j, "store_blocks", sb->store_blocks);
        json_u64(&j, "group_count", sb->group_count);
        json_u64(&j, "data_bytes", info.data_bytes);
        json_u64(&j, "metadata_bytes", info.metadata_bytes);
        json_u64(&j, "free_bytes", info.free_bytes);
        json_u64(&j, "shared_exceptions", info.shared_exceptions);
        json_u64(&j, "private_exceptions", info.private_exceptions);
        json_str(&j, "full_policy", policy_name(info.full_policy));
        json_u64(&j, "snapshot_count", info.snapshot_count);
        json_u64(&j, "next_id", info.next_id);
        json_open(&j, "cleanup_jobs", '[');
        for (uint32_t i = 0; i < sb->cleanup_count && i < SS_MAX_CLEANUP_JOBS; i++) {
                const SsCleanupJob *job = &sb->cleanup[i];

                json_open(&j, NULL, '{');
                json_str(&j, "kind", cleanup_kind_name(job->kind));
                json_u64(&j, "from", job->from);
                json_u64(&j, "to", job->to);
                json_u64(&j, "cursor_hi", job->cursor_hi);
                json_u64(&j, "cursor_chunk", job->cursor_chunk);
                json_close(&j, '}');
        }
        json_close(&j, ']');
        json_open(&j, "revert", '{');
        json_u64(&j, "target", sb->revert_target);
        json_u64(&j, "phase", sb->revert_phase);
        json_u64(&j, "cursor_hi", sb->revert_cursor_hi);
        json_u64(&j, "cursor_chunk", sb->revert_cursor_chunk);
        json_u64(&j, "done", sb->revert_done);
        json_close(&j, '}');
        json_close(&j, '}');

        json_open(&j, "snapshots", '[');
        while ((r = ss_snapshot_next(s, after, &snap)) == 0) {
                SsSnapshotUsage use;

                r = ss_snapshot_usage(s, snap.id, &use);
                if (r < 0)
                        return r;
                json_open(&j, NULL, '{');
                json_u64(&j, "id", snap.id);
                json_str(&j, "name", snap.name);
                json_i64(&j, "ctime", snap.ctime);
                json_i64(&j, "priority", snap.priority);
                json_bool(&j, "writable", snap.flags & SS_SNAP_WRITABLE);
                json_bool(&j, "pinned", snap.flags & SS_SNAP_PINNED);
                json_u64(&j, "origin_size", snap.origin_size);
                json_open(&j, "usage", '{');
                json_u64(&j, "exclusive_bytes", use.exclusive_bytes);
                json_u64(&j, "shared_chunks", use.shared_chunks);
                json_u64(&j, "private_chunks", use.private_chunks);
                json_close(&j, '}');
                json_close(&j, '}');
                after = snap.id;
        }
        if (r != -ENOENT)
                return r;
        json_close(&j, ']');

        json_open(&j, "trees", '[');
        for (unsigned t = 0; t < SS_TREE_COUNT; t++) {
                const SsRoot *root = &sb->roots[t];
                TreeStats st = { 0 };

                r = bt_walk(s, t, count_node, &st);
                if (r < 0)
                        return r;
                json_open(&j, NULL, '{');
                json_str(&j, "name", tree_names[t]);
                json_u64(&j, "root", root->block);
                json_u64(&j, "entries", root->entries);
                json_u64(&j, "depth", root->depth);
                json_u64(&j, "nodes", root->nodes);
                json_u64(&j, "leaf_payload_bytes", st.payload_bytes);
                json_open(&j, "nodes_by_level", '[');
                for (unsigned l = 0; l < st.levels; l++)
                        json_u64(&j, NULL, st.nodes[l]);
                json_close(&j, ']');
                json_close(&j, '}');
        }
        json_close(&j, ']');

        if (exceptions) {
                ListState ls = { .json = &j };

                json_open(&j, "shared_exceptions", '[');
                r = scan_tree(s, SS_TREE_SHARED, list_shared, &ls);
                if (r < 0)
                        return r;
                json_close(&j, ']');
                json_open(&j, "private_exceptions", '[');
                r = scan_tree(s, SS_TREE_PRIVATE, list_private, &ls);
                if (r < 0)
                        return r;
                json_close(&j, ']');
        }
        json_close(&j, '}');
        fputc('\n', j.f);
        return 0;
}

static void usage(FILE *f)
{
        fprintf(f, "Usage: zumastor-dump [--json] [--exceptions] --origin PATH STORE\n"
                   "Print the superblock, snapshots and trees of a Zumastor store.\n"
                   "\n"
                   "  -o, --origin PATH  the origin device of the store (required)\n"
                   "  -j, --json         print JSON instead of text\n"
                   "  -e, --exceptions   also list every shared and private exception\n"
                   "      --accept-rollback  open on an older commit when the newest\n"
                   "                     superblock cannot be read\n"
                   "  -h, --help         show this help\n");
}

static int dump_store(SsBlockDev *origin, SsBlockDev *dev, const char *store_path, bool json,
                      bool exceptions, bool accept_rollback)
{
        SsOpenOptions opts = { .flags = SS_OPEN_READONLY |
                                        (accept_rollback ? SS_OPEN_ACCEPT_ROLLBACK : 0) };
        SsStore *s = NULL;
        int r;

        r = ss_store_open(origin, dev, &opts, &s);
        if (r < 0) {
                fprintf(stderr, "zumastor-dump: %s: cannot open: %s\n", store_path,
                        ss_last_error());
                return 1;
        }
        r = json ? dump_json(s, store_path, exceptions) : dump_text(s, store_path, exceptions);
        fflush(stdout);
        if (r < 0)
                fprintf(stderr, "zumastor-dump: %s: %s\n", store_path,
                        ss_last_error()[0] ? ss_last_error() : strerror(-r));
        ss_store_close(s);
        return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "origin", required_argument, NULL, 'o' },
                { "json", no_argument, NULL, 'j' },
                { "exceptions", no_argument, NULL, 'e' },
                { "accept-rollback", no_argument, NULL, 'R' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        const char *origin_path = NULL, *store_path;
        SsBlockDev *origin = NULL, *dev = NULL;
        bool json = false, exceptions = false, accept_rollback = false;
        int c, r, ret;

        while ((c = getopt_long(argc, argv, "o:jeh", options, NULL)) != -1) {
                switch (c) {
                case 'o':
                        origin_path = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'e':
                        exceptions = true;
                        break;
                case 'R':
                        accept_rollback = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind + 1 != argc || !origin_path) {
                usage(stderr);
                return 2;
        }
        store_path = argv[optind];

        r = ss_blockdev_open_file(store_path, SS_BLOCKDEV_READONLY, &dev);
        if (r < 0) {
                fprintf(stderr, "zumastor-dump: %s\n", ss_last_error());
                return 1;
        }
        r = ss_blockdev_open_file(origin_path, SS_BLOCKDEV_READONLY, &origin);
        if (r < 0) {
                fprintf(stderr, "zumastor-dump: %s\n", ss_last_error());
                ss_blockdev_close(dev);
                return 1;
        }
        ret = dump_store(origin, dev, store_path, json, exceptions, accept_rollback);
        ss_blockdev_close(origin);
        ss_blockdev_close(dev);
        return ret;
}
