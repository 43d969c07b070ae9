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
 *     test-powercut [--seed N] [--every K] [--only WORKLOAD] [--at N] [-v]
 *
 * --every K tries every K-th write and flush only; --only and --at replay
 * one case (--at N: write N and flush N).
 */
#include <inttypes.h>
#include <stdio.h>

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

int main(int argc, char **argv)
{
        test_args_parse(argc, argv, &args);
        work_drive(&driver);
        return 0;
}
