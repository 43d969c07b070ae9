/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-bench: libsnapstore against its baselines, measured in the same run
 * on the same devices.  One JSON object per metric on stdout, progress on
 * stderr; bench/README.md explains every metric, its baseline and its goal.
 *
 * Phases, in order, all over one origin file that is filled first (so raw
 * and store writes both overwrite allocated blocks):
 *   many      10,000 snapshot creates on one store (timed), then creates on
 *             it interleaved with creates on a fresh store
 *   seq       1 MiB first writes over the whole origin: raw, a store with one
 *             snapshot and the 10,000-snapshot store, interleaved; then
 *             rewrites of the copied-out chunks against raw
 *   rand4k    random 4 KiB writes to distinct chunks, raw vs store, then
 *             rewrites
 *   churn     1, 100 and 10,000 snapshots with random chunk writes between
 *             them: metadata bytes per exception
 *   read      the oldest snapshot of the 10,000-snapshot churn store vs the
 *             origin, sequential 1 MiB reads, contents checked
 *   crash     a child writing to that store is SIGKILLed; ss_store_open is
 *             timed against a clean open
 *   writers   4 (1 MiB, sequential) and 8 (4 KiB, random) writer threads
 *             through the group commit after one snapshot, against as many
 *             threads writing raw (writers.c)
 * Compared figures are measured interleaved (workload.h says why).  Every
 * store lives on its own sparse file and is removed after its phase.
 *
 * Environment: ZUMA_BENCH_QUICK=1 (smaller sizes), ZUMA_BENCH_DIR (default
 * /var/tmp), ZUMA_BENCH_LOOP=1 (loop devices over the files),
 * ZUMA_BENCH_PREALLOC=1 (zero-written store files), ZUMA_BENCH_KEEP=1,
 * ZUMA_BENCH_SEED, ZUMA_BENCH_ORIGIN_MB,
 * ZUMA_BENCH_CHUNK_KB, ZUMA_BENCH_SNAPSHOTS, ZUMA_BENCH_RAND_OPS,
 * ZUMA_BENCH_CHURN_CHUNKS, ZUMA_BENCH_PHASES (comma list of the phases above).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "workload.h"

typedef struct Results {
        StoreRun many; /* 10,000 snapshots, no exceptions: for the seq phase */
        bool have_many;
        uint32_t *snap1_gen; /* the origin as snapshot 1 of the big churn store saw it */
        StoreRun big;        /* the 10,000-snapshot churn store, kept for read/crash */
        bool have_big;
} Results;

static Bench *cleanup_bench;

static bool phase_enabled(const char *name)
{
        const char *list = getenv("ZUMA_BENCH_PHASES");
        size_t len = strlen(name);

        if (!list || !*list)
                return true;
        for (const char *p = list; (p = strstr(p, name)); p += len)
                if ((p == list || p[-1] == ',') && (p[len] == 0 || p[len] == ','))
                        return true;
        return false;
}

static void config_init(Config *c)
{
        uint64_t chunks, data;

        c->quick = env_flag("ZUMA_BENCH_QUICK");
        c->origin_size = env_u64("ZUMA_BENCH_ORIGIN_MB", c->quick ? 256 : 1024) * MIB;
        c->chunk_size = (uint32_t)env_u64("ZUMA_BENCH_CHUNK_KB", SS_CHUNK_SIZE_DEFAULT >> 10) << 10;
        if (c->chunk_size < SS_CHUNK_SIZE_MIN || c->chunk_size > SS_CHUNK_SIZE_MAX ||
            (c->chunk_size & (c->chunk_size - 1)))
                die("ZUMA_BENCH_CHUNK_KB: a power of two from 4 to 1024");
        if (c->origin_size < 16 * MIB)
                die("ZUMA_BENCH_ORIGIN_MB: at least 16");
        chunks = c->origin_size / c->chunk_size;
        /* Every snapshot create and every copy-out is a durable commit (two
         * flushes), so the quick run keeps their count down: metric names
         * carry the snapshot count actually used. */
        c->many_snapshots = (uint32_t)env_u64("ZUMA_BENCH_SNAPSHOTS", c->quick ? 1000 : 10000);
        c->mid_snapshots = c->many_snapshots < 100 ? c->many_snapshots : 100;
        c->create_samples = 50;
        if (c->create_samples > c->many_snapshots / 2)
                c->create_samples = c->many_snapshots / 2 ? c->many_snapshots / 2 : 1;
        c->rand_ops = env_u64("ZUMA_BENCH_RAND_OPS", c->quick ? 2048 : 8192);
        if (c->rand_ops > chunks)
                c->rand_ops = chunks;
        /* One write per chunk (half in the quick run): about 63% (39%) of
         * the chunks get copied out at least once, many of them several
         * times under different hi. */
        c->churn_chunks = env_u64("ZUMA_BENCH_CHURN_CHUNKS", c->quick ? chunks / 2 : chunks);
        data = c->churn_chunks * c->chunk_size;
        if (data < c->origin_size)
                data = c->origin_size;
        c->store_size = (data + data / 4 + 256 * (uint64_t)MIB) & ~((uint64_t)MIB - 1);
        c->seed = env_u64("ZUMA_BENCH_SEED", (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
}

void emit_failed(const char *metric, const char *unit, const char *what)
{
        char note[NOTE_MAX];

        snprintf(note, sizeof(note), "not measured: %s failed (see stderr)", what);
        emit(metric, NAN, unit, NAN, note);
}

/* ---- fill and sequential writes ---- */

static int phase_fill(Bench *b)
{
        double sec;
        int r;

        progress("filling the %llu MiB origin (%s)", (unsigned long long)(b->origin.size / MIB),
                 b->origin_vol.path);
        r = write_seq(b, NULL, &sec);
        if (r < 0)
                return r;
        progress("  filled at %.0f MiB/s", mib_per_sec(b->origin.size, sec));
        return 0;
}

/* Raw, one snapshot and (with the many phase) 10,000 snapshots, interleaved
 * slice by slice: first writes, then rewrites of raw and one snapshot. */
static void phase_seq(Bench *b, Results *res)
{
        const char *dev = b->env.device_note;
        uint64_t size = b->origin.size;
        uint32_t n = b->cfg.many_snapshots;
        Target first[3] = { { 0 } }, again[2] = { { 0 } };
        unsigned targets = res->have_many ? 3 : 2;
        double raw, one, many, raw2, rewrite;
        char note[NOTE_MAX], metric[96];
        StoreRun run = { .vol.loop_nr = -1 };
        uint32_t id;
        int r;

        progress("seq: 1 MiB first writes over the origin: raw, 1 snapshot%s, interleaved",
                 res->have_many ? ", many snapshots" : "");
        r = store_run_create(b, "store-seq", &run);
        if (r == 0) {
                r = ss_snapshot_create(run.store, "seq-1", 0, 0, &id);
                if (r < 0)
                        fail(b, r, "ss_snapshot_create");
        }
        if (r == 0) {
                first[1].store = run.store;
                first[2].store = res->have_many ? res->many.store : NULL;
                r = write_seq_interleaved(b, first, targets);
        }
        if (r == 0) {
                progress("seq: rewrites of the copied-out chunks, and raw, interleaved");
                again[1].store = run.store;
                r = write_seq_interleaved(b, again, 2);
        }
        store_run_destroy(b, &run);
        if (res->have_many)
                store_run_destroy(b, &res->many);
        res->have_many = false;
        if (r < 0) {
                b->failures++;
                emit_failed("origin_write_seq_ratio_1snap", "ratio", "the seq phase");
                emit_failed("origin_rewrite_ratio", "ratio", "the seq phase");
                return;
        }
        raw = mib_per_sec(size, first[0].sec);
        one = mib_per_sec(size, first[1].sec);
        many = mib_per_sec(size, first[2].sec);
        raw2 = mib_per_sec(size, again[0].sec);
        rewrite = mib_per_sec(size, again[1].sec);

        snprintf(note, sizeof(note),
                 "raw O_DIRECT 1 MiB pwrite over the whole %llu MiB origin, in turns of 32 MiB "
                 "+ fdatasync interleaved with the store passes (each turn of a store ends with "
                 "ss_store_flush); %s",
                 (unsigned long long)(size / MIB), dev);
        emit("raw_write_seq_mibps", raw, "MiB/s", NAN, note);
        snprintf(note, sizeof(note),
                 "ss_origin_write 1 MiB over the whole origin right after the first snapshot "
                 "(every chunk copied out, %u KiB chunks) + ss_store_flush; %s",
                 b->cfg.chunk_size >> 10, dev);
        emit("origin_write_seq_mibps_1snap", one, "MiB/s", NAN, note);
        snprintf(note, sizeof(note),
                 "origin_write_seq_mibps_1snap / raw_write_seq_mibps (baseline, MiB/s); a "
                 "copy-out reads the chunk and writes it to the store first, so the device moves "
                 "3x the bytes: ~0.33 is the I/O-bound ceiling; %s",
                 dev);
        emit("origin_write_seq_ratio_1snap", one / raw, "ratio", raw, note);
        if (targets == 3) {
                snprintf(note, sizeof(note),
                         "as origin_write_seq_mibps_1snap, on a store with %u snapshots (and no "
                         "exceptions), interleaved with it; %s",
                         n + b->cfg.create_samples, dev);
                snprintf(metric, sizeof(metric), "origin_write_seq_mibps_%usnap", n);
                emit(metric, many, "MiB/s", NAN, note);
                snprintf(note, sizeof(note),
                         "origin_write_seq_mibps_%usnap / origin_write_seq_mibps_1snap (baseline, "
                         "MiB/s); goal ~1: origin writes are O(1) in the number of snapshots; %s",
                         n, dev);
                snprintf(metric, sizeof(metric), "origin_write_ratio_%u_vs_1", n);
                emit(metric, many / one, "ratio", one, note);
        }
        snprintf(note, sizeof(note),
                 "ss_origin_write 1 MiB over the whole origin again, no new snapshot (no copy-out, "
                 "no commit) + ss_store_flush; %s",
                 dev);
        emit("origin_rewrite_seq_mibps", rewrite, "MiB/s", NAN, note);
        snprintf(note, sizeof(note),
                 "origin_rewrite_seq_mibps / raw 1 MiB writes interleaved with it (baseline, "
                 "MiB/s); goal ~1; %s",
                 dev);
        emit("origin_rewrite_ratio", rewrite / raw2, "ratio", raw2, note);
}

/* ---- random 4 KiB writes to distinct chunks ---- */

uint64_t *random_chunk_offsets(Bench *b, uint64_t n)
{
        uint64_t cs = b->cfg.chunk_size, nchunks = b->origin.size / cs;
        uint32_t *perm = malloc(nchunks * sizeof(*perm));
        uint64_t *offs = malloc(n * sizeof(*offs));

        if (!perm || !offs)
                die("out of memory");
        for (uint64_t i = 0; i < nchunks; i++)
                perm[i] = (uint32_t)i;
        for (uint64_t i = 0; i < n; i++) {
                uint64_t j = i + rng_below(&b->rng, nchunks - i);
                uint32_t t = perm[i];

                perm[i] = perm[j];
                perm[j] = t;
                offs[i] = perm[i] * cs + rng_below(&b->rng, cs / STAMP_BLOCK) * STAMP_BLOCK;
        }
        free(perm);
        return offs;
}

static void phase_rand4k(Bench *b)
{
        const char *dev = b->env.device_note;
        uint64_t n = b->cfg.rand_ops, bytes = n * STAMP_BLOCK;
        uint64_t *offs = random_chunk_offsets(b, n);
        Target first[2] = { { 0 } }, again[2] = { { 0 } };
        double raw, one, raw2, rewrite;
        char note[NOTE_MAX];
        StoreRun run = { .vol.loop_nr = -1 };
        uint32_t id;
        int r;

        progress("rand4k: %llu random 4 KiB first writes to distinct chunks: raw and 1 snapshot, "
                 "interleaved",
                 (unsigned long long)n);
        r = store_run_create(b, "store-rand", &run);
        if (r == 0) {
                r = ss_snapshot_create(run.store, "rand-1", 0, 0, &id);
                if (r < 0)
                        fail(b, r, "ss_snapshot_create");
        }
        if (r == 0) {
                first[1].store = run.store;
                r = write_at_interleaved(b, first, 2, offs, n, STAMP_BLOCK);
        }
        if (r == 0) {
                progress("rand4k: rewrites, and raw, interleaved");
                again[1].store = run.store;
                r = write_at_interleaved(b, again, 2, offs, n, STAMP_BLOCK);
        }
        store_run_destroy(b, &run);
        free(offs);
        if (r < 0) {
                b->failures++;
                emit_failed("origin_write_rand4k_ratio_1snap", "ratio", "the rand4k phase");
                return;
        }
        raw = mib_per_sec(bytes, first[0].sec);
        one = mib_per_sec(bytes, first[1].sec);
        raw2 = mib_per_sec(bytes, again[0].sec);
        rewrite = mib_per_sec(bytes, again[1].sec);
        snprintf(note, sizeof(note),
                 "raw O_DIRECT 4 KiB pwrite at %llu random offsets, one in each of as many "
                 "distinct %u KiB chunks, in turns of %u writes + fdatasync interleaved with the "
                 "store's turns (writes + ss_store_flush); %s",
                 (unsigned long long)n, b->cfg.chunk_size >> 10, RAND_TURN, dev);
        emit("raw_write_rand4k_mibps", raw, "MiB/s", NAN, note);
        snprintf(note, sizeof(note),
                 "ss_origin_write 4 KiB at the same offsets after one snapshot (each a copy-out "
                 "and a durable commit) + ss_store_flush; %s",
                 dev);
        emit("origin_write_rand4k_mibps_1snap", one, "MiB/s", NAN, note);
        emit("origin_write_rand4k_us_1snap", first[1].sec / (double)n * 1e6, "us/write", NAN, note);
        snprintf(note, sizeof(note),
                 "origin_write_rand4k_mibps_1snap / raw_write_rand4k_mibps (baseline, MiB/s); the "
                 "raw side flushes once, the store commits (two flushes) per copy-out; %s",
                 dev);
        emit("origin_write_rand4k_ratio_1snap", one / raw, "ratio", raw, note);
        snprintf(note, sizeof(note),
                 "4 KiB rewrites of the same, already copied-out chunks / raw rewrites interleaved "
                 "with them (baseline, MiB/s); goal ~1; %s",
                 dev);
        emit("origin_rewrite_rand4k_ratio", rewrite / raw2, "ratio", raw2, note);
}

/* ---- many snapshots ---- */

static int timed_create(SsStore *s, const char *prefix, uint32_t i, double *ret_sec)
{
        char name[32];
        uint32_t id;
        double t0 = now_sec();
        int r;

        snprintf(name, sizeof(name), "%s-%u", prefix, i + 1);
        r = ss_snapshot_create(s, name, 0, 0, &id);
        *ret_sec = now_sec() - t0;
        return r;
}

/* 10,000 creates on one store, then creates on it interleaved with creates
 * on a fresh store (the "at 1" baseline).  The store stays open for the seq
 * phase. */
static void phase_many(Bench *b, Results *res)
{
        const char *dev = b->env.device_note;
        uint32_t n = b->cfg.many_snapshots, k = b->cfg.create_samples;
        double total = 0, sum1 = 0, sumn = 0, sec, at1, atn;
        char note[NOTE_MAX], metric[96];
        StoreRun run = { .vol.loop_nr = -1 }, fresh = { .vol.loop_nr = -1 };
        int r;

        progress("many: creating %u snapshots", n);
        r = store_run_create(b, "store-many", &run);
        for (uint32_t i = 0; r == 0 && i < n; i++) {
                r = timed_create(run.store, "many", i, &sec);
                total += sec;
                if ((i + 1) % (n / 10 ? n / 10 : 1) == 0)
                        progress("  %u snapshots, %.2f ms per create so far", i + 1,
                                 total / (i + 1) * 1e3);
        }
        if (r == 0) {
                progress("many: %u more creates, interleaved with creates on a fresh store", k);
                r = store_run_create(b, "store-fresh", &fresh);
        }
        /* The fresh store's first snapshot is not timed: the baseline is a
         * create with 1..k snapshots existing.  Who goes first alternates. */
        if (r == 0)
                r = timed_create(fresh.store, "fresh", 0, &sec);
        for (uint32_t i = 0; r == 0 && i < k; i++) {
                for (unsigned turn = 0; turn < 2 && r == 0; turn++) {
                        bool on_many = (turn == 0) == (i % 2 == 1);

                        r = timed_create(on_many ? run.store : fresh.store,
                                         on_many ? "many" : "fresh", on_many ? n + i : i + 1, &sec);
                        *(on_many ? &sumn : &sum1) += sec;
                }
        }
        if (r < 0)
                fail(b, r, "ss_snapshot_create");
        store_run_destroy(b, &fresh);
        if (r < 0) {
                store_run_destroy(b, &run);
                b->failures++;
                snprintf(metric, sizeof(metric), "snapshot_create_ms_at_%u", n);
                emit_failed(metric, "ms", "the many-snapshot phase");
                return;
        }
        res->many = run;
        res->have_many = true;
        at1 = sum1 / k;
        atn = sumn / k;

        snprintf(note, sizeof(note),
                 "wall time of %u durable ss_snapshot_create calls on a "
                 "fresh store, no writes between them; %s",
                 n, dev);
        snprintf(metric, sizeof(metric), "snapshot_create_total_s_%u", n);
        emit(metric, total, "s", NAN, note);
        snprintf(note, sizeof(note),
                 "mean of %u creates on a fresh store with 1..%u snapshots, "
                 "interleaved one by one with the creates of snapshot_create_ms_at_%u; %s",
                 k, k, n, dev);
        emit("snapshot_create_ms_at_1", at1 * 1e3, "ms", NAN, note);
        snprintf(note, sizeof(note), "mean of %u creates with %u..%u snapshots existing; %s", k, n,
                 n + k - 1, dev);
        snprintf(metric, sizeof(metric), "snapshot_create_ms_at_%u", n);
        emit(metric, atn * 1e3, "ms", NAN, note);
        snprintf(note, sizeof(note),
                 "snapshot_create_ms_at_%u / snapshot_create_ms_at_1 "
                 "(baseline, ms); goal ~1, lower is better; %s",
                 n, dev);
        snprintf(metric, sizeof(metric), "snapshot_create_ratio_%u_vs_1", n);
        emit(metric, atn / at1, "ratio", at1 * 1e3, note);
}

/* ---- churn and metadata accounting ---- */

typedef struct SbSummary {
        uint64_t txid, meta_blocks;
        uint32_t group_count;
        uint64_t nodes[SS_TREE_COUNT];
} SbSummary;

/* The newest superblock copy with the right magic; accounting only, so the
 * checksum is not verified. */
static int read_superblock(SsBlockDev *sdev, SbSummary *ret)
{
        uint8_t *buf = ss_alloc_io_buffer(SS_BLOCK_SIZE);
        bool found = false;
        int r = 0;

        if (!buf)
                return -ENOMEM;
        for (unsigned copy = 0; copy < SS_SB_COPIES && r == 0; copy++) {
                const SsDiskSuperblock *sb = (const SsDiskSuperblock *)buf;

                r = ss_dev_pread(sdev, buf, SS_BLOCK_SIZE,
                                 (uint64_t)copy * SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE);
                if (r < 0 || LE_GET(sb->magic) != SS_MAGIC_SUPERBLOCK)
                        continue;
                if (found && LE_GET(sb->txid) <= ret->txid)
                        continue;
                found = true;
                ret->txid = LE_GET(sb->txid);
                ret->meta_blocks = LE_GET(sb->meta_blocks);
                ret->group_count = LE_GET(sb->group_count);
                for (unsigned t = 0; t < SS_TREE_COUNT; t++)
                        ret->nodes[t] = LE_GET(sb->roots[t].nodes);
        }
        free(buf);
        return r < 0 ? r : found ? 0 : -ENOENT;
}

static void metadata_report(Bench *b, StoreRun *run, uint32_t nsnaps)
{
        uint64_t blocks, groups, fixed, node_bytes, exceptions, tree_bytes;
        char note[NOTE_MAX], metric[96];
        SsStoreInfo info;
        SbSummary sb = { 0 };
        int r;

        snprintf(metric, sizeof(metric), "metadata_bytes_per_exception_%usnap", nsnaps);
        r = ss_store_info(run->store, &info);
        if (r < 0) {
                fail(b, r, "ss_store_info");
                b->failures++;
                emit_failed(metric, "bytes/exception", "ss_store_info");
                return;
        }
        blocks = info.store_size / SS_BLOCK_SIZE;
        groups = (blocks + SS_GROUP_BLOCKS - 1) / SS_GROUP_BLOCKS;
        fixed = ((uint64_t)SS_FIRST_GROUP_RESERVED + 2 * groups) * SS_BLOCK_SIZE;
        node_bytes = info.metadata_bytes > fixed ? info.metadata_bytes - fixed : 0;
        exceptions = info.shared_exceptions + info.private_exceptions;
        progress("  store: %u snapshots, %llu shared + %llu private exceptions, metadata "
                 "%llu bytes (%llu of nodes), data %llu MiB",
                 info.snapshot_count, (unsigned long long)info.shared_exceptions,
                 (unsigned long long)info.private_exceptions,
                 (unsigned long long)info.metadata_bytes, (unsigned long long)node_bytes,
                 (unsigned long long)(info.data_bytes / MIB));
        snprintf(note, sizeof(note),
                 "(metadata_bytes - %u superblock blocks - 2 bitmap blocks x %llu groups) x "
                 "4096-byte blocks = %llu node bytes (every B-tree incl. the snapshot table) / "
                 "%llu exceptions (shared + private), after %u rounds of snapshot + random "
                 "1..%u-chunk writes (%llu chunk writes in all) over the %llu MiB origin; "
                 "goal <= 16",
                 SS_FIRST_GROUP_RESERVED, (unsigned long long)groups,
                 (unsigned long long)node_bytes, (unsigned long long)exceptions, nsnaps,
                 CHURN_RUN_MAX, (unsigned long long)b->cfg.churn_chunks,
                 (unsigned long long)(b->origin.size / MIB));
        if (info.metadata_bytes <= fixed)
                fprintf(stderr,
                        "zuma-bench: warning: metadata_bytes %llu <= fixed area %llu: "
                        "the engine's accounting differs from format.h\n",
                        (unsigned long long)info.metadata_bytes, (unsigned long long)fixed);
        emit(metric, exceptions ? (double)node_bytes / (double)exceptions : NAN, "bytes/exception",
             NAN, note);

        r = read_superblock(run->sdev, &sb);
        if (r < 0) {
                fprintf(stderr, "zuma-bench: cannot read the superblock: %s\n", strerror(-r));
                return;
        }
        if (sb.meta_blocks * SS_BLOCK_SIZE != node_bytes)
                fprintf(stderr,
                        "zuma-bench: warning: superblock meta_blocks = %llu blocks "
                        "(%llu bytes) but metadata_bytes - fixed = %llu bytes\n",
                        (unsigned long long)sb.meta_blocks,
                        (unsigned long long)(sb.meta_blocks * SS_BLOCK_SIZE),
                        (unsigned long long)node_bytes);
        tree_bytes =
                (sb.nodes[SS_TREE_SHARED] + sb.nodes[SS_TREE_BYHI] + sb.nodes[SS_TREE_PRIVATE]) *
                SS_BLOCK_SIZE;
        progress("  nodes per tree: shared %llu, byhi %llu, private %llu, snapshots %llu; "
                 "superblock meta_blocks %llu",
                 (unsigned long long)sb.nodes[SS_TREE_SHARED],
                 (unsigned long long)sb.nodes[SS_TREE_BYHI],
                 (unsigned long long)sb.nodes[SS_TREE_PRIVATE],
                 (unsigned long long)sb.nodes[SS_TREE_SNAPSHOTS],
                 (unsigned long long)sb.meta_blocks);
        snprintf(note, sizeof(note),
                 "nodes of the exception trees only (shared %llu + byhi %llu + private %llu, "
                 "from the superblock roots; the snapshot table's %llu nodes left out) x 4096 / "
                 "%llu exceptions",
                 (unsigned long long)sb.nodes[SS_TREE_SHARED],
                 (unsigned long long)sb.nodes[SS_TREE_BYHI],
                 (unsigned long long)sb.nodes[SS_TREE_PRIVATE],
                 (unsigned long long)sb.nodes[SS_TREE_SNAPSHOTS], (unsigned long long)exceptions);
        snprintf(metric, sizeof(metric), "exception_tree_bytes_per_exception_%usnap", nsnaps);
        emit(metric, exceptions ? (double)tree_bytes / (double)exceptions : NAN, "bytes/exception",
             NAN, note);
}

/* nsnaps rounds of (snapshot, random chunk writes).  With keep, the store
 * stays open in res->big and snapshot 1's view is kept for the read phase. */
static void phase_churn(Bench *b, Results *res, uint32_t nsnaps, bool keep)
{
        uint64_t e = b->cfg.churn_chunks;
        char name[64], metric[96];
        StoreRun run = { .vol.loop_nr = -1 };
        double t0 = now_sec();
        int r;

        progress("churn: %u snapshots, %llu chunk writes between them", nsnaps,
                 (unsigned long long)e);
        snprintf(name, sizeof(name), "store-churn-%u", nsnaps);
        r = store_run_create(b, name, &run);
        for (uint32_t k = 0; r == 0 && k < nsnaps; k++) {
                uint32_t id;

                snprintf(name, sizeof(name), "churn-%u", k + 1);
                r = ss_snapshot_create(run.store, name, 0, 0, &id);
                if (r < 0) {
                        fail(b, r, "ss_snapshot_create");
                        break;
                }
                if (k == 0 && keep) {
                        res->snap1_gen = malloc(b->origin.blocks * sizeof(uint32_t));
                        if (!res->snap1_gen)
                                die("out of memory");
                        memcpy(res->snap1_gen, b->origin.gen, b->origin.blocks * sizeof(uint32_t));
                }
                r = churn_writes(b, run.store, e * (k + 1) / nsnaps - e * k / nsnaps);
                if ((k + 1) % (nsnaps / 10 ? nsnaps / 10 : 1) == 0)
                        progress("  round %u/%u", k + 1, nsnaps);
        }
        if (r == 0) {
                r = ss_store_flush(run.store);
                if (r < 0)
                        fail(b, r, "ss_store_flush");
        }
        if (r < 0) {
                b->failures++;
                snprintf(metric, sizeof(metric), "metadata_bytes_per_exception_%usnap", nsnaps);
                emit_failed(metric, "bytes/exception", "the churn workload");
                store_run_destroy(b, &run);
                return;
        }
        progress("  churn done in %.1f s", now_sec() - t0);
        metadata_report(b, &run, nsnaps);
        if (keep) {
                res->big = run;
                res->have_big = true;
        } else {
                store_run_destroy(b, &run);
        }
}

/* ---- reads of an old snapshot ---- */

/* How snapshot snap maps: bytes from the store, extents (adjacent
 * pieces on the same device merged) and those in the store.  A figure of
 * the placement alone, free of the timing noise of a shared machine. */
typedef struct MapSummary {
        uint64_t store_bytes, extents, store_extents;
} MapSummary;

static int snapshot_map_summary(Bench *b, SsStore *s, uint32_t snap, MapSummary *ret)
{
        SsExtent ext[256];
        uint64_t off = 0, size = b->origin.size;
        MapSummary m = { 0 };

        while (off < size) {
                int n = ss_snapshot_map_read(s, snap, off, size - off, ext, 256);

                if (n <= 0)
                        return fail(b, n < 0 ? n : -EIO, "ss_snapshot_map_read");
                for (int i = 0; i < n; i++) {
                        if (ext[i].kind == SS_EXTENT_STORE) {
                                m.store_bytes += ext[i].length;
                                m.store_extents++;
                        }
                        m.extents++;
                }
                off = ext[n - 1].offset + ext[n - 1].length;
        }
        *ret = m;
        return 0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Interleaved passes over origin and snapshot; the median pass (by ratio)
 * is reported, so one pass slowed by a neighbour on the machine does not
 * make the figure. */
#define READ_PASSES 3

static void phase_read(Bench *b, Results *res)
{
        const char *dev = b->env.device_note;
        StoreRun *run = &res->big;
        uint64_t obad = 0, sbad = 0, size = b->origin.size;
        double osec[READ_PASSES], ssec[READ_PASSES], ratio[READ_PASSES], omibps = 0, smibps = 0;
        MapSummary m = { 0 };
        char note[NOTE_MAX];
        int r;

        progress("read: snapshot 1 of the %u-snapshot churn store vs the origin",
                 b->cfg.many_snapshots);
        r = snapshot_map_summary(b, run->store, 1, &m);
        store_run_close(run);
        drop_caches();
        if (r == 0)
                r = store_run_open(b, run, NULL);
        for (int p = 0; p < READ_PASSES && r == 0; p++) {
                osec[p] = ssec[p] = 0;
                r = read_seq_pair(b, run->store, 1, res->snap1_gen, &osec[p], &ssec[p], &obad,
                                  &sbad);
                ratio[p] = osec[p] / ssec[p];
                progress("  pass %d: origin %.0f MiB/s, snapshot %.0f MiB/s, ratio %.3f", p + 1,
                         mib_per_sec(size, osec[p]), mib_per_sec(size, ssec[p]), ratio[p]);
        }
        if (r < 0) {
                b->failures++;
                emit_failed("snapshot_read_seq_ratio", "ratio", "the read phase");
                return;
        }
        if (obad || sbad) {
                fprintf(stderr,
                        "zuma-bench: WRONG DATA: %llu origin blocks and %llu blocks of "
                        "snapshot 1 differ from what was written\n",
                        (unsigned long long)obad, (unsigned long long)sbad);
                b->bad_blocks += obad + sbad;
                b->failures++;
        }
        double sorted[READ_PASSES];
        memcpy(sorted, ratio, sizeof(sorted));
        qsort(sorted, READ_PASSES, sizeof(double), cmp_double);
        for (int p = 0; p < READ_PASSES; p++)
                if (ratio[p] == sorted[READ_PASSES / 2]) {
                        omibps = mib_per_sec(size, osec[p]);
                        smibps = mib_per_sec(size, ssec[p]);
                        break;
                }
        snprintf(note, sizeof(note),
                 "ss_origin_read 1 MiB sequential over the %llu MiB origin, "
                 "fresh handle; the median of %d passes; %llu wrong blocks; %s",
                 (unsigned long long)(size / MIB), READ_PASSES, (unsigned long long)obad, dev);
        emit("origin_read_seq_mibps", omibps, "MiB/s", NAN, note);
        snprintf(note, sizeof(note),
                 "ss_snapshot_read 1 MiB sequential of snapshot 1 (oldest) of "
                 "the %u-snapshot churn store; %.0f%% of its bytes come from the store; "
                 "the median of %d passes; %llu wrong blocks; %s",
                 b->cfg.many_snapshots, 100.0 * (double)m.store_bytes / (double)size, READ_PASSES,
                 (unsigned long long)sbad, dev);
        emit("snapshot_read_seq_mibps", smibps, "MiB/s", NAN, note);
        snprintf(note, sizeof(note),
                 "snapshot 1 maps to %llu extents (%llu in the store, %.0f%% of its bytes) "
                 "in %llu MiB: each is one read, the fewer the better",
                 (unsigned long long)m.extents, (unsigned long long)m.store_extents,
                 100.0 * (double)m.store_bytes / (double)size, (unsigned long long)(size / MIB));
        emit("snapshot_read_extents_per_mib", (double)m.extents / (double)(size / MIB),
             "extents/MiB", NAN, note);
        snprintf(note, sizeof(note),
                 "snapshot_read_seq_mibps / origin_read_seq_mibps (baseline), the median of %d "
                 "interleaved passes; %.0f%% of the snapshot copied out; %s",
                 READ_PASSES, 100.0 * (double)m.store_bytes / (double)size, dev);
        emit("snapshot_read_seq_ratio", smibps / omibps, "ratio", omibps, note);
}

/* ---- open after a crash ---- */

static void count_problem(void *user, const char *message)
{
        unsigned *count = user;

        if (++*count <= 10)
                fprintf(stderr, "zuma-bench: check: %s\n", message);
}

/* The child: writes and snapshots until it is killed. */
static _Noreturn void crash_child(Bench *b, StoreRun *run, int ready_fd)
{
        bool told = false;

        if (store_run_open(b, run, NULL) < 0)
                _exit(3);
        b->rng ^= (uint64_t)getpid();
        for (uint32_t round = 0;; round++) {
                char name[64];
                uint32_t id;

                snprintf(name, sizeof(name), "crash-%u", round + 1);
                if (ss_snapshot_create(run->store, name, 0, 0, &id) < 0 ||
                    churn_writes(b, run->store, 32) < 0)
                        _exit(4);
                if (!told) {
                        told = write(ready_fd, "x", 1) == 1;
                }
        }
}

static void phase_crash(Bench *b, Results *res)
{
        const char *dev = b->env.device_note;
        StoreRun *run = &res->big;
        double clean_sec = 0, crash_sec = 0, check_sec = 0, t0;
        unsigned problems = 0;
        char note[NOTE_MAX], c;
        SsStoreInfo info;
        int fds[2], status, r;
        pid_t pid;

        progress("crash: clean open of the %u-snapshot churn store", b->cfg.many_snapshots);
        store_run_close(run);
        drop_caches();
        r = store_run_open(b, run, &clean_sec);
        store_run_close(run);
        if (r < 0 || pipe(fds) < 0)
                goto failed;
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                goto failed;
        if (pid == 0) {
                close(fds[0]);
                crash_child(b, run, fds[1]);
        }
        close(fds[1]);
        if (read(fds[0], &c, 1) != 1) {
                close(fds[0]);
                waitpid(pid, &status, 0);
                fprintf(stderr, "zuma-bench: the crash child failed before its first write\n");
                goto failed;
        }
        close(fds[0]);
        {
                /* Let it run a random while, so the kill lands anywhere. */
                uint64_t ms = 300 + rng_below(&b->rng, 500);
                struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

                nanosleep(&ts, NULL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        progress("crash: child killed (%s); reopening",
                 WIFSIGNALED(status) ? "mid-workload" : "it had exited on its own");
        drop_caches();
        r = store_run_open(b, run, &crash_sec);
        if (r < 0)
                goto failed;
        if (ss_store_info(run->store, &info) < 0)
                memset(&info, 0, sizeof(info));
        progress("crash: open took %.1f ms; checking", crash_sec * 1e3);
        t0 = now_sec();
        r = ss_check(run->store, count_problem, &problems);
        check_sec = now_sec() - t0;
        if (r < 0)
                fail(b, r, "ss_check");
        if (r > 0 || problems) {
                fprintf(stderr, "zuma-bench: ss_check found %d problems after the crash\n",
                        r > 0 ? r : (int)problems);
                b->failures++;
        }

        snprintf(
                note, sizeof(note),
                "ss_store_open after a clean ss_store_close, page cache "
                "dropped; the store (as reopened after the crash): %u snapshots, %llu exceptions, %llu metadata bytes; %s",
                info.snapshot_count,
                (unsigned long long)(info.shared_exceptions + info.private_exceptions),
                (unsigned long long)info.metadata_bytes, dev);
        emit("open_clean_ms", clean_sec * 1e3, "ms", NAN, note);
        snprintf(note, sizeof(note),
                 "ss_store_open after a child writing and snapshotting on "
                 "the largest store was SIGKILLed mid-workload (process crash, not a power cut); "
                 "baseline: clean open (ms); %s",
                 dev);
        emit("open_after_crash_ms", crash_sec * 1e3, "ms", clean_sec * 1e3, note);
        snprintf(note, sizeof(note), "ss_check of that store right after the crash open: %s%s",
                 r < 0                 ? "failed"
                 : (r > 0 || problems) ? "PROBLEMS FOUND"
                                       : "consistent",
                 "; the metric is its wall time");
        emit("check_after_crash_ms", check_sec * 1e3, "ms", NAN, note);
        store_run_destroy(b, run);
        res->have_big = false;
        return;

failed:
        b->failures++;
        emit_failed("open_after_crash_ms", "ms", "the crash phase");
        store_run_destroy(b, run);
        res->have_big = false;
}

/* ---- main ---- */

static void cleanup_at_exit(void)
{
        Bench *b = cleanup_bench;

        if (!b)
                return;
        cleanup_bench = NULL;
        ss_blockdev_close(b->raw);
        b->raw = NULL;
        vol_destroy(&b->env, &b->origin_vol);
        bench_env_cleanup(&b->env);
}

static void on_signal(int sig)
{
        /* Detaches loop devices and removes the files; good enough for ^C. */
        cleanup_at_exit();
        signal(sig, SIG_DFL);
        raise(sig);
}

int main(void)
{
        static Bench bench;
        Bench *b = &bench;
        Results res = { 0 };
        double t0 = now_sec();
        int r;

        config_init(&b->cfg);
        b->rng = b->cfg.seed;
        if (bench_env_init(&b->env) < 0)
                return 2;
        cleanup_bench = b;
        atexit(cleanup_at_exit);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        progress("zuma-bench%s: origin %llu MiB, chunk %u KiB, store file %llu MiB (sparse), "
                 "%u snapshots, seed %llu, in %s",
                 b->cfg.quick ? " (quick)" : "", (unsigned long long)(b->cfg.origin_size / MIB),
                 b->cfg.chunk_size >> 10, (unsigned long long)(b->cfg.store_size / MIB),
                 b->cfg.many_snapshots, (unsigned long long)b->cfg.seed, b->env.dir);
        progress("devices: %s", b->env.device_note);

        b->origin.size = b->cfg.origin_size;
        b->origin.blocks = b->origin.size / STAMP_BLOCK;
        b->origin.gen = calloc(b->origin.blocks, sizeof(uint32_t));
        b->buf = ss_alloc_io_buffer(SEQ_IO);
        if (!b->origin.gen || !b->buf)
                die("out of memory");
        memset(b->buf, 0xa5, SEQ_IO);
        r = vol_create(&b->env, "origin", b->origin.size, false, &b->origin_vol);
        if (r < 0)
                die("cannot create the origin in %s: %s", b->env.dir, strerror(-r));
        r = vol_open(&b->origin_vol, &b->raw);
        if (r < 0)
                die("cannot open %s: %s", b->origin_vol.path, ss_last_error());
        if (phase_fill(b) < 0)
                die("cannot fill the origin");

        if (phase_enabled("many"))
                phase_many(b, &res);
        if (phase_enabled("seq"))
                phase_seq(b, &res);
        if (res.have_many)
                store_run_destroy(b, &res.many);
        if (phase_enabled("rand4k"))
                phase_rand4k(b);
        if (phase_enabled("churn")) {
                phase_churn(b, &res, 1, false);
                if (b->cfg.mid_snapshots > 1)
                        phase_churn(b, &res, b->cfg.mid_snapshots, false);
                phase_churn(b, &res, b->cfg.many_snapshots, true);
        }
        if (phase_enabled("churn") && !res.have_big) {
                /* The read and crash phases run on the big churn store. */
                if (phase_enabled("read"))
                        emit_failed("snapshot_read_seq_ratio", "ratio", "the churn workload");
                if (phase_enabled("crash"))
                        emit_failed("open_after_crash_ms", "ms", "the churn workload");
        }
        if (res.have_big && phase_enabled("read"))
                phase_read(b, &res);
        if (res.have_big && phase_enabled("crash"))
                phase_crash(b, &res);
        if (res.have_big)
                store_run_destroy(b, &res.big);
        free(res.snap1_gen);
        /* Last: it leaves the origin unstamped (writers.c). */
        if (phase_enabled("writers"))
                phase_writers(b);

        progress("done in %.1f s, %d failure%s%s", now_sec() - t0, b->failures,
                 b->failures == 1 ? "" : "s", b->bad_blocks ? ", WRONG DATA seen" : "");
        cleanup_at_exit();
        free(b->origin.gen);
        free(b->buf);
        return b->failures ? 1 : 0;
}
