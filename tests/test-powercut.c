/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crash test: for each scripted workload (tests/workload.h), run it once to
 * count its writes W and flushes F, then for every N in 1..W start afresh,
 * cut the power at write N, bring it back losing unflushed writes (all of
 * them, and a seeded random mix of kept, dropped and torn ones); and for
 * every K in 1..F likewise cut it when flush K is issued (losing a random
 * mix, or keeping all of the writes it would have made durable: a cut at a
 * write never catches a commit whose superblock is written but not yet
 * flushed).  After each cut, reopen and require:
 *  - the store opens and ss_check() finds nothing;
 *  - every step acknowledged before the cut is there;
 *  - the interrupted step either happened or did not (an interrupted write
 *    may leave each 512-byte sector of its image old or new);
 *  - the recovered store keeps working (snapshot, overwrite, delete all,
 *    clean up, no space lost).
 *
 * Before the workloads, the same for a store's first life (workload
 * "create"): cuts during ss_store_create, the first open and the first
 * commits (see cut_first_life()).
 *
 *     test-powercut [--seed N] [--every K] [--only WORKLOAD] [--at N] [-v]
 *
 * --every K tries every K-th write and flush only; --only and --at replay
 * one case (--at N: write N and flush N).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#include "faultdev.h"
#include "snapstore.h"
#include "workload.h"

static TestArgs args;
static void cut_workload(const Workload *wl, uint64_t data_seed, WorkTally *tally);

static const WorkDriver driver = {
        .prog = "test-powercut",
        .cases_name = "power cuts",
        .args = &args,
        .random_steps = 40,
        .random_shape = 100,
        .random_data = 200,
        .run_cases = cut_workload,
};

static const char *loss_name(FaultLoss loss)
{
        return loss == FAULT_LOSS_RANDOM     ? "random"
               : loss == FAULT_LOSS_DROP_ALL ? "drop-all"
                                             : "keep-all";
}

typedef enum CutAt { CUT_AT_WRITE, CUT_AT_FLUSH } CutAt;

static __attribute__((noreturn)) void fail_case(const Workload *wl, CutAt at, uint64_t n,
                                                FaultLoss loss, size_t step, const char *what,
                                                const char *why)
{
        char fault[80];

        snprintf(fault, sizeof(fault), "cut at %s %" PRIu64 " (loss %s)",
                 at == CUT_AT_WRITE ? "write" : "flush", n, loss_name(loss));
        work_fail(&driver, wl, n, fault, step, what, why);
}

static void run_cut(const Workload *wl, uint64_t data_seed, CutAt at, uint64_t n, FaultLoss loss)
{
        WorkRun run;
        char why[1024];
        Model *before = NULL, *after = NULL;
        size_t i;

        if (work_start(&run, wl, data_seed, seed_mix(args.seed, n * 8 + at * 4 + loss), why,
                       sizeof(why)))
                fail_case(wl, at, n, loss, SIZE_MAX, "setup", why);
        if (at == CUT_AT_WRITE)
                fault_domain_cut_at_write(run.dom, n);
        else
                work_cut_at_flush(&run, n);
        for (i = 0; i < wl->nsteps; i++) {
                before = model_clone(run.m);
                int r = work_step(&run, i, &after, why, sizeof(why));
                if (r == 0) {
                        if (fault_domain_is_off(run.dom))
                                fail_case(wl, at, n, loss, i, "acknowledged",
                                          "the step returned success although the power was "
                                          "cut during it");
                        model_free(before);
                        model_free(after);
                        continue;
                }
                if (r > 0)
                        fail_case(wl, at, n, loss, i, "wrong answer", why);
                if (!fault_domain_is_off(run.dom))
                        fail_case(wl, at, n, loss, i, "failed before the power cut", why);
                break;
        }
        if (i == wl->nsteps)
                fail_case(wl, at, n, loss, SIZE_MAX, "cut never happened",
                          "the workload issued fewer writes or flushes than when counted "
                          "(non-deterministic I/O pattern)");
        if (args.verbose)
                printf("  %s %" PRIu64 " (%s): step %zu failed: %s\n",
                       at == CUT_AT_WRITE ? "write" : "flush", n, loss_name(loss), i, why);

        fault_domain_power_cycle(run.dom, loss);
        if (work_reopen(&run, why, sizeof(why)))
                fail_case(wl, at, n, loss, i, "recovery", why);
        if (work_compare(&run, i, before, after, why, sizeof(why)))
                fail_case(wl, at, n, loss, i, "state after recovery", why);
        if (work_afterlife(&run, why, sizeof(why)))
                fail_case(wl, at, n, loss, i, "using the recovered store", why);
        model_free(before);
        model_free(after);
        work_end(&run);
}

static void cut_workload(const Workload *wl, uint64_t data_seed, WorkTally *tally)
{
        static const FaultLoss write_losses[] = { FAULT_LOSS_RANDOM, FAULT_LOSS_DROP_ALL };
        static const FaultLoss flush_losses[] = { FAULT_LOSS_RANDOM, FAULT_LOSS_KEEP_ALL };
        WorkCount count;
        size_t step;
        const char *what;
        char why[1024];

        if (work_count(wl, data_seed, true, &count, &step, &what, why, sizeof(why)))
                fail_case(wl, CUT_AT_WRITE, 0, FAULT_LOSS_KEEP_ALL, step, what, why);
        for (uint64_t n = args.at ? args.at : 1; n <= (args.at ? args.at : count.writes);
             n += args.every)
                for (size_t l = 0; l < 2; l++) {
                        run_cut(wl, data_seed, CUT_AT_WRITE, n, write_losses[l]);
                        tally->cases++;
                }
        for (uint64_t n = args.at ? args.at : 1; n <= (args.at ? args.at : count.flushes);
             n += args.every)
                for (size_t l = 0; l < 2; l++) {
                        run_cut(wl, data_seed, CUT_AT_FLUSH, n, flush_losses[l]);
                        tally->cases++;
                }
        snprintf(tally->counts, sizeof(tally->counts), "%4" PRIu64 " writes, %4" PRIu64 " flushes",
                 count.writes, count.flushes);
        tally->autodeleted = count.autodeleted;
}

/* ---- power cuts while a store is created and first used ----
 *
 * The workloads above start from a store created without faults.  Here the
 * power is cut at every write N of a fresh store's first life: creation,
 * the first open, the first snapshots, copy-out, delete and close.  If the
 * creation was not acknowledged, the device must hold either no store (open
 * fails with a clear error and creation can be run again) or a valid empty
 * one; after that, the state of the last acknowledged step or of the one
 * that was cut.  Either way the store must then work. */

#define FIRST_CHUNK 4096u
#define FIRST_ORIGIN (16u * FIRST_CHUNK)
#define FIRST_STORE (1u << 20)

enum {
        FIRST_CREATE,
        FIRST_OPEN,
        FIRST_SNAP_A,
        FIRST_WRITE,
        FIRST_SNAP_B,
        FIRST_DELETE_A,
        FIRST_CLOSE,
        FIRST_STEPS,
};

static const char *const first_names[FIRST_STEPS] = {
        "ss_store_create",      "ss_store_open",         "ss_snapshot_create a", "origin write",
        "ss_snapshot_create b", "delete a and clean up", "ss_store_close",
};

static const Workload first_workload = { .name = "create" };

typedef struct FirstRun {
        FaultDomain *dom;
        SsBlockDev *origin_media, *store_media;
        SsBlockDev *origin, *store; /* what the engine sees: they count flushes */
        uint64_t flushes, cut_flush;
        SsStore *s;
        uint8_t *buf; /* one chunk, aligned */
        uint64_t seed;
        CutAt at;
        uint64_t n;
        FaultLoss loss;
} FirstRun;

static __attribute__((noreturn)) void first_fail(const FirstRun *fr, int step, const char *what,
                                                 const char *why)
{
        char fault[160];

        snprintf(fault, sizeof(fault), "cut at %s %" PRIu64 " (loss %s) during %s",
                 fr->at == CUT_AT_WRITE ? "write" : "flush", fr->n, loss_name(fr->loss),
                 step < FIRST_STEPS ? first_names[step] : "no step");
        work_fail(&driver, &first_workload, fr->n, fault, SIZE_MAX, what, why);
}

/* Pass-through views of the memory devices that count flushes, so a cut
 * can land exactly on one: that flush fails and its writes stay pending. */
typedef struct FirstDev {
        SsBlockDev dev;
        SsBlockDev *media;
        FirstRun *fr;
} FirstDev;

static int firstdev_pread(SsBlockDev *dev, void *buf, size_t len, uint64_t off)
{
        return ss_dev_pread(((FirstDev *)dev)->media, buf, len, off);
}

static int firstdev_pwrite(SsBlockDev *dev, const void *buf, size_t len, uint64_t off)
{
        return ss_dev_pwrite(((FirstDev *)dev)->media, buf, len, off);
}

static int firstdev_flush(SsBlockDev *dev)
{
        FirstDev *f = (FirstDev *)dev;

        if (++f->fr->flushes == f->fr->cut_flush)
                fault_domain_power_off(f->fr->dom);
        return ss_dev_flush(f->media);
}

static uint64_t firstdev_size(SsBlockDev *dev)
{
        return ss_dev_size(((FirstDev *)dev)->media);
}

static void firstdev_close(SsBlockDev *dev)
{
        free(dev);
}

static const SsBlockDevOps firstdev_ops = {
        .pread = firstdev_pread,
        .pwrite = firstdev_pwrite,
        .flush = firstdev_flush,
        .size = firstdev_size,
        .close = firstdev_close,
};

static SsBlockDev *firstdev_new(FirstRun *fr, SsBlockDev *media)
{
        FirstDev *f = xcalloc(1, sizeof(*f));

        f->dev.ops = &firstdev_ops;
        f->dev.name = media->name;
        f->media = media;
        f->fr = fr;
        return &f->dev;
}

static int first_create(FirstRun *fr, bool force)
{
        SsCreateOptions c = {
                .volume_name = "first",
                .chunk_size = FIRST_CHUNK,
                .full_policy = SS_FULL_AUTODELETE,
                .force = force,
        };
        return ss_store_create(fr->origin, fr->store, &c);
}

/* Runs step i, updating *after to the state it leads to. */
static int first_step(FirstRun *fr, int i, Model *after)
{
        uint32_t id = 0;
        int r;

        switch (i) {
        case FIRST_CREATE:
                return first_create(fr, false);
        case FIRST_OPEN:
                return ss_store_open(fr->origin, fr->store, NULL, &fr->s);
        case FIRST_SNAP_A:
        case FIRST_SNAP_B: {
                const char *name = i == FIRST_SNAP_A ? "a" : "b";
                model_snapshot_create(after, i == FIRST_SNAP_A ? 1 : 2, name, 0, 0);
                r = ss_snapshot_create(fr->s, name, 0, 0, &id);
                return r < 0 ? r : id == (i == FIRST_SNAP_A ? 1u : 2u) ? 0 : -EPROTO;
        }
        case FIRST_WRITE: {
                /* One sector: a torn write cannot mix it. */
                Rng rng = { fr->seed };
                rng_fill(&rng, fr->buf, 512);
                model_origin_write(after, fr->buf, 2 * FIRST_CHUNK + 512, 512);
                r = ss_origin_write(fr->s, fr->buf, 2 * FIRST_CHUNK + 512, 512);
                return r < 0 ? r : ss_store_flush(fr->s);
        }
        case FIRST_DELETE_A:
                model_snapshot_delete(after, 1);
                r = ss_snapshot_delete(fr->s, 1);
                if (r == 0)
                        while ((r = ss_cleanup_step(fr->s, 1)) == 1)
                                ;
                return r;
        case FIRST_CLOSE:
                r = ss_store_close(fr->s);
                fr->s = NULL;
                return r;
        }
        return -EINVAL;
}

static void first_setup(FirstRun *fr, const uint8_t *image, uint64_t seed)
{
        fr->dom = fault_domain_new(seed);
        fr->origin_media = faultdev_new_from(fr->dom, "origin", image, FIRST_ORIGIN);
        fr->store_media = faultdev_new(fr->dom, "store", FIRST_STORE);
        fr->origin = firstdev_new(fr, fr->origin_media);
        fr->store = firstdev_new(fr, fr->store_media);
        fr->flushes = fr->cut_flush = 0;
        fr->s = NULL;
        fr->seed = seed;
}

static void first_teardown(FirstRun *fr)
{
        if (fr->s)
                ss_store_close(fr->s);
        ss_blockdev_close(fr->origin);
        ss_blockdev_close(fr->store);
        ss_blockdev_close(fr->origin_media);
        ss_blockdev_close(fr->store_media);
        fault_domain_free(fr->dom);
}

/* The recovered store keeps working: snapshot, copy-out, delete, clean up. */
static int first_afterlife(FirstRun *fr, Model *m, char *why, size_t why_len)
{
        SsStoreInfo info;
        uint32_t id = 0;
        int r = ss_snapshot_create(fr->s, "z", 0, 0, &id);

        if (r == 0) {
                model_snapshot_create(m, id, "z", 0, 0);
                memset(fr->buf, 0x5a, FIRST_CHUNK);
                r = ss_origin_write(fr->s, fr->buf, 0, FIRST_CHUNK);
                model_origin_write(m, fr->buf, 0, FIRST_CHUNK);
        }
        if (r < 0) {
                snprintf(why, why_len, "%s (%s)", strerror(-r), ss_last_error());
                return r;
        }
        r = model_verify(fr->s, m, MV_ALL, why, why_len);
        while (r == 0 && m->nsnaps) {
                r = ss_snapshot_delete(fr->s, m->snaps[0].id);
                model_snapshot_delete(m, m->snaps[0].id);
        }
        if (r == 0)
                while ((r = ss_cleanup_step(fr->s, 100)) == 1)
                        ;
        if (r == 0)
                r = ss_store_info(fr->s, &info);
        if (r == 0 && (info.data_bytes || info.snapshot_count)) {
                snprintf(why, why_len, "%" PRIu64 " data bytes and %u snapshots left",
                         info.data_bytes, info.snapshot_count);
                return 1;
        }
        if (r == 0 && ss_check(fr->s, NULL, NULL) != 0) {
                snprintf(why, why_len, "ss_check: %s", ss_last_error());
                return 1;
        }
        if (r < 0 && !why[0])
                snprintf(why, why_len, "%s (%s)", strerror(-r), ss_last_error());
        return r;
}

static void first_cut(const uint8_t *image, CutAt at, uint64_t n, FaultLoss loss, unsigned variant)
{
        FirstRun fr = { .buf = ss_alloc_io_buffer(FIRST_CHUNK), .at = at, .n = n, .loss = loss };
        Model *m = model_new(FIRST_CHUNK, image, FIRST_ORIGIN), *after = NULL;
        char why[1024] = "";
        int i, r;

        first_setup(&fr, image, seed_mix(args.seed, (n * 8 + at * 4 + loss) * 16 + variant));
        if (at == CUT_AT_WRITE)
                fault_domain_cut_at_write(fr.dom, n);
        else
                fr.cut_flush = n;
        for (i = 0; i < FIRST_STEPS; i++) {
                after = model_clone(m);
                r = first_step(&fr, i, after);
                if (r == 0 && fault_domain_is_off(fr.dom))
                        first_fail(&fr, i, "acknowledged",
                                   "the step returned success although the power was cut");
                if (r == 0) {
                        model_free(m);
                        m = after;
                        after = NULL;
                        continue;
                }
                if (!fault_domain_is_off(fr.dom)) {
                        snprintf(why, sizeof(why), "%s (%s)", strerror(-r), ss_last_error());
                        first_fail(&fr, i, "failed before the power cut", why);
                }
                break;
        }
        if (i == FIRST_STEPS)
                first_fail(&fr, i, "cut never happened", "fewer writes than when counted");
        if (fr.s)
                ss_store_close(fr.s); /* fails: the power is off */
        fr.s = NULL;
        fault_domain_power_cycle(fr.dom, loss);

        r = ss_store_open(fr.origin, fr.store, NULL, &fr.s);
        if (i == FIRST_CREATE && r < 0) {
                /* No store: a clear error, and creation works again. */
                const char *msg = ss_last_error();
                if (r != -ENODATA && r != -EUCLEAN)
                        first_fail(&fr, i, "open after an interrupted creation", msg);
                if (!strstr(msg, "store"))
                        first_fail(&fr, i, "open's error names no store", msg);
                r = first_create(&fr, false);
                if (r == -EEXIST && strstr(ss_last_error(), "force"))
                        r = first_create(&fr, true);
                if (r < 0)
                        first_fail(&fr, i, "creating again", ss_last_error());
                r = ss_store_open(fr.origin, fr.store, NULL, &fr.s);
        }
        if (r < 0)
                first_fail(&fr, i, "open after the cut", ss_last_error());
        if (ss_check(fr.s, NULL, NULL) != 0)
                first_fail(&fr, i, "ss_check after the cut", ss_last_error());
        /* The last acknowledged state, or the cut step's. */
        r = model_verify(fr.s, m, MV_ALL, why, sizeof(why));
        if (r != 0 && after) {
                char why2[1024];
                if (model_verify(fr.s, after, MV_ALL, why2, sizeof(why2)) == 0) {
                        model_free(m);
                        m = after;
                        after = NULL;
                        r = 0;
                }
        }
        if (r != 0)
                first_fail(&fr, i, "state after recovery", why);
        why[0] = 0;
        if (first_afterlife(&fr, m, why, sizeof(why)))
                first_fail(&fr, i, "using the recovered store", why);
        model_free(m);
        model_free(after);
        first_teardown(&fr);
        free(fr.buf);
}

/* Runs are cheap here, so a random loss is tried with several seeds. */
static unsigned first_variants(FaultLoss loss)
{
        return loss == FAULT_LOSS_RANDOM ? 8 : 1;
}

static void cut_first_life(void)
{
        static const FaultLoss losses[] = { FAULT_LOSS_RANDOM, FAULT_LOSS_DROP_ALL,
                                            FAULT_LOSS_KEEP_ALL };
        if (args.only && strcmp(args.only, first_workload.name))
                return;

        uint8_t *image = malloc(FIRST_ORIGIN);
        Rng rng = { seed_mix(args.seed, 0xc0ffee) };
        FirstRun fr = { .buf = ss_alloc_io_buffer(FIRST_CHUNK) };
        Model *m = model_new(FIRST_CHUNK, NULL, FIRST_ORIGIN);
        uint64_t writes, flushes, cases = 0;
        int r = 0;

        rng_fill(&rng, image, FIRST_ORIGIN);
        /* Count the writes of an undisturbed first life. */
        first_setup(&fr, image, args.seed);
        for (int i = 0; i < FIRST_STEPS && r == 0; i++)
                if ((r = first_step(&fr, i, m)) != 0)
                        first_fail(&fr, i, "without faults", ss_last_error());
        writes = fault_domain_writes(fr.dom);
        flushes = fr.flushes;
        first_teardown(&fr);
        model_free(m);
        free(fr.buf);
        for (uint64_t n = args.at ? args.at : 1; n <= (args.at ? args.at : writes); n += args.every)
                for (size_t l = 0; l < ARRAY_LEN(losses); l++)
                        for (unsigned v = 0; v < first_variants(losses[l]); v++, cases++)
                                first_cut(image, CUT_AT_WRITE, n, losses[l], v);
        for (uint64_t n = args.at ? args.at : 1; n <= (args.at ? args.at : flushes);
             n += args.every)
                for (size_t l = 0; l < ARRAY_LEN(losses); l++)
                        for (unsigned v = 0;
                             losses[l] != FAULT_LOSS_DROP_ALL && v < first_variants(losses[l]);
                             v++, cases++)
                                first_cut(image, CUT_AT_FLUSH, n, losses[l], v);
        free(image);
        printf("%-10s %3d steps, %4" PRIu64 " writes, %4" PRIu64 " flushes: ok, %" PRIu64
               " power cuts\n",
               first_workload.name, FIRST_STEPS, writes, flushes, cases);
}

int main(int argc, char **argv)
{
        test_args_parse(argc, argv, &args);
        cut_first_life();
        work_drive(&driver);
        return 0;
}
