/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The writers phase of zuma-bench: several writer threads making their
 * first writes after a snapshot through the group commit
 * (agents/snapshotd/zuma-group-commit.c), with the ops zuma-snapshotd's
 * engine gives it (plans under the store lock, their copy-out I/O without
 * it, ready plans applied in one commit), against as many threads writing
 * the raw origin, in the same run.  The engine's other locks (its write
 * gate) cost nothing measurable here and are left out; so is the FUSE
 * frontend (bench/frontend-bench.sh measures that).
 *
 * Interleaved as the other phases (workload.h): every turn, the raw
 * threads and the store's threads take the same share of the origin, who
 * goes first alternating, and each turn ends with its flush.  The data is
 * not stamped (the stamps' generation counter is not shared between
 * threads), so this phase runs after every phase that reads the origin
 * back.
 */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"
#include "zuma-group-commit.h"

#define SEQ_WRITERS 4
#define RAND_WRITERS 8

typedef struct Shared {
        Bench *b;
        SsBlockDev *origin; /* what the writes go to */
        SsStore *store;     /* NULL: the raw origin */
        GMutex lock;        /* the store lock */
        ZumaGroupCommit *gc;
} Shared;

typedef struct Writer {
        Shared *sh;
        const uint64_t *offs; /* this turn's offsets: every nth from first */
        uint64_t first, count, step;
        size_t len;
        uint8_t *buf;
        int result;
        GThread *thread;
} Writer;

static int op_prepare_one(gpointer user, guint64 offset, guint64 length, gpointer request)
{
        Shared *sh = user;

        (void)request;
        return ss_origin_prepare_write(sh->store, offset, length);
}

static int op_plan(gpointer user, guint64 offset, guint64 length, gpointer request,
                   SsCopyPlan **ret_plan)
{
        Shared *sh = user;

        (void)request;
        return ss_copy_plan(sh->store, offset, length, ret_plan);
}

static int op_plan_io(gpointer user, SsCopyPlan *plan, gpointer request)
{
        Shared *sh = user;

        (void)request;
        return ss_copy_plan_io(sh->store, plan);
}

static int op_apply(gpointer user, SsCopyPlan *const *plans, gsize n)
{
        Shared *sh = user;

        return ss_copy_plans_apply(sh->store, plans, n);
}

static const ZumaGroupCommitOps ops = {
        .prepare_one = op_prepare_one,
        .plan = op_plan,
        .plan_io = op_plan_io,
        .apply = op_apply,
};

static gpointer writer_run(gpointer data)
{
        Writer *w = data;
        Shared *sh = w->sh;

        /* As the engine: the origin device written once the prepare
         * returned (zuma_engine_origin_write()). */
        for (uint64_t i = w->first; i < w->count && w->result == 0; i += w->step) {
                uint64_t off = w->offs[i];

                if (sh->store)
                        w->result = zuma_group_commit_prepare(sh->gc, off, w->len, NULL);
                if (w->result == 0)
                        w->result = ss_dev_pwrite(sh->origin, w->buf, w->len, off);
        }
        return NULL;
}

/* One turn: n threads write offs[0..count) (thread k every nth from k),
 * then the flush.  Returns the turn's seconds, or a negative errno. */
static double turn(Shared *sh, Writer *w, unsigned n, const uint64_t *offs, uint64_t count,
                   size_t len)
{
        double t0 = now_sec();
        int r = 0;

        for (unsigned k = 0; k < n; k++) {
                w[k].sh = sh;
                w[k].offs = offs;
                w[k].first = k;
                w[k].count = count;
                w[k].step = n;
                w[k].len = len;
                w[k].result = 0;
                w[k].thread = g_thread_new("bench-writer", writer_run, &w[k]);
        }
        for (unsigned k = 0; k < n; k++) {
                g_thread_join(w[k].thread);
                if (w[k].result < 0 && r == 0)
                        r = fail(sh->b, w[k].result,
                                 sh->store ? "origin write through the group commit" : "raw write");
        }
        if (r == 0)
                r = sh->store ? ss_store_flush(sh->store) : ss_dev_flush(sh->b->raw);
        if (r < 0)
                return fail(sh->b, r, sh->store ? "ss_store_flush" : "raw flush");
        return now_sec() - t0;
}

/* Raw and store, interleaved turn by turn over offs in turns of per_turn
 * requests; adds each side's time to sec[0] (raw) and sec[1] (store). */
static int run_pair(Shared *raw, Shared *store, unsigned n, const uint64_t *offs, uint64_t count,
                    uint64_t per_turn, size_t len, double sec[2])
{
        Writer w[RAND_WRITERS > SEQ_WRITERS ? RAND_WRITERS : SEQ_WRITERS];

        for (unsigned k = 0; k < n; k++) {
                w[k].buf = ss_alloc_io_buffer(len);
                if (!w[k].buf)
                        die("out of memory");
                memset(w[k].buf, 0x5a + k, len);
        }
        for (uint64_t first = 0, t = 0; first < count; first += per_turn, t++) {
                uint64_t m = count - first < per_turn ? count - first : per_turn;

                for (unsigned side = 0; side < 2; side++) {
                        unsigned which = (unsigned)((t + side) % 2);
                        double s = turn(which ? store : raw, w, n, offs + first, m, len);

                        if (s < 0) {
                                for (unsigned k = 0; k < n; k++)
                                        free(w[k].buf);
                                return (int)s;
                        }
                        sec[which] += s;
                }
        }
        for (unsigned k = 0; k < n; k++)
                free(w[k].buf);
        return 0;
}

static void report(Bench *b, const char *what, unsigned n, uint64_t bytes, const double sec[2],
                   const ZumaGroupCommitStats *st, const char *how)
{
        char metric[96], note[NOTE_MAX];
        double raw = mib_per_sec(bytes, sec[0]), one = mib_per_sec(bytes, sec[1]);

        snprintf(metric, sizeof(metric), "raw_write_%s_mibps_%uwriters", what, n);
        snprintf(note, sizeof(note), "%u threads, raw O_DIRECT pwrite, %s; %s", n, how,
                 b->env.device_note);
        emit(metric, raw, "MiB/s", NAN, note);
        snprintf(metric, sizeof(metric), "origin_write_%s_mibps_1snap_%uwriters", what, n);
        snprintf(note, sizeof(note),
                 "%u threads through the group commit right after one snapshot (every write "
                 "a first write: copy-outs planned under the store lock, copied without it, "
                 "applied in shared commits: %llu commits for %llu requests, %llu plans waited "
                 "for another), %s; %s",
                 n, (unsigned long long)st->commits, (unsigned long long)st->batched_requests,
                 (unsigned long long)st->plans_waited, how, b->env.device_note);
        emit(metric, one, "MiB/s", NAN, note);
        snprintf(metric, sizeof(metric), "origin_write_%s_ratio_1snap_%uwriters", what, n);
        snprintf(note, sizeof(note),
                 "origin_write_%s_mibps_1snap_%uwriters / raw_write_%s_mibps_%uwriters "
                 "(baseline, MiB/s), measured interleaved; %s",
                 what, n, what, n, b->env.device_note);
        emit(metric, raw > 0 ? one / raw : NAN, "ratio", raw, note);
}

static int one_pass(Bench *b, const char *what, unsigned n, const uint64_t *offs, uint64_t count,
                    uint64_t per_turn, size_t len, const char *how)
{
        Shared raw = { .b = b, .origin = b->raw }, store = { .b = b };
        StoreRun run = { .vol.loop_nr = -1 };
        ZumaGroupCommitStats st = { 0 };
        double sec[2] = { 0, 0 };
        uint32_t id;
        int r;

        progress("writers: %s, %u threads: raw and through the group commit after one snapshot, "
                 "interleaved",
                 what, n);
        r = store_run_create(b, "store-writers", &run);
        if (r == 0) {
                r = ss_snapshot_create(run.store, "writers-1", 0, 0, &id);
                if (r < 0)
                        fail(b, r, "ss_snapshot_create");
        }
        if (r == 0) {
                store.store = run.store;
                store.origin = run.odev;
                g_mutex_init(&store.lock);
                store.gc = zuma_group_commit_new(&store.lock, &ops, &store);
                r = run_pair(&raw, &store, n, offs, count, per_turn, len, sec);
                zuma_group_commit_get_stats(store.gc, &st);
                zuma_group_commit_free(store.gc);
                g_mutex_clear(&store.lock);
        }
        store_run_destroy(b, &run);
        if (r < 0)
                return r;
        report(b, what, n, count * len, sec, &st, how);
        return 0;
}

void phase_writers(Bench *b)
{
        uint64_t nseq = b->origin.size / SEQ_IO, nrand = b->cfg.rand_ops;
        uint64_t *seq = malloc(nseq * sizeof(*seq));
        uint64_t *rand = random_chunk_offsets(b, nrand);
        char how[160];

        if (!seq || !rand)
                die("out of memory");
        for (uint64_t i = 0; i < nseq; i++)
                seq[i] = i * SEQ_IO;
        snprintf(how, sizeof(how), "1 MiB requests over the whole origin, %u MiB per turn + flush",
                 SLICE_BYTES / MIB);
        if (one_pass(b, "seq", SEQ_WRITERS, seq, nseq, SLICE_BYTES / SEQ_IO, SEQ_IO, how) < 0) {
                b->failures++;
                emit_failed("origin_write_seq_ratio_1snap_4writers", "ratio", "the writers phase");
        }
        snprintf(how, sizeof(how),
                 "4 KiB at %llu random offsets in as many distinct chunks, %u per turn + flush",
                 (unsigned long long)nrand, RAND_TURN * 4);
        if (one_pass(b, "rand4k", RAND_WRITERS, rand, nrand, RAND_TURN * 4, STAMP_BLOCK, how) < 0) {
                b->failures++;
                emit_failed("origin_write_rand4k_ratio_1snap_8writers", "ratio",
                            "the writers phase");
        }
        free(seq);
        free(rand);
}
