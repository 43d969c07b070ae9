/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crash test: for each scripted workload (tests/model.c), run it once to
 * count its writes W, then for every N in 1..W start afresh, cut the power
 * at write N, bring it back losing unflushed writes (all of them, and a
 * seeded random mix of kept, dropped and torn ones), reopen, and require:
 *  - the store opens and ss_check() finds nothing;
 *  - every step acknowledged before the cut is there;
 *  - the interrupted step either happened or did not (an interrupted write
 *    may leave each 512-byte sector of its image old or new);
 *  - the recovered store keeps working (snapshot, overwrite, delete all,
 *    clean up, no space lost).
 *
 *     test-powercut [--seed N] [--every K] [--only WORKLOAD] [--at N] [-v]
 *
 * --every K tries every K-th write only; --only and --at replay one case.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faultdev.h"
#include "model.h"
#include "snapstore.h"

#define RANDOM_STEPS 40

static TestArgs args;
static uint64_t cases;

static const char *loss_name(FaultLoss loss)
{
        return loss == FAULT_LOSS_RANDOM ? "random" : loss == FAULT_LOSS_DROP_ALL ? "drop-all"
                                                                                  : "keep-all";
}

static __attribute__((noreturn)) void fail_case(const Workload *wl, uint64_t n, FaultLoss loss,
                                                 size_t step, const char *what, const char *why)
{
        char desc[200] = "no step";

        if (step < wl->nsteps)
                step_describe(wl, step, desc, sizeof(desc));
        fflush(stdout);
        fprintf(stderr,
                "FAIL: seed=%" PRIu64 " workload=%s cut at write %" PRIu64
                " (loss %s), during %s: %s: %s\n"
                "reproduce: test-powercut --seed %" PRIu64 " --only %s --at %" PRIu64 "\n",
                args.seed, wl->name, n, loss_name(loss), desc, what, why, args.seed, wl->name, n);
        exit(1);
}

static uint64_t mix(uint64_t a, uint64_t b)
{
        Rng r = { a * 0x9e3779b97f4a7c15ull ^ b };
        return rng_u64(&r);
}

/* Runs the workload without faults; returns how many writes it issues. */
static uint64_t count_writes(const Workload *wl, uint64_t data_seed)
{
        WorkRun run;
        char why[1024];
        Model *after;

        if (work_start(&run, wl, data_seed, 1, why, sizeof(why)))
                fail_case(wl, 0, FAULT_LOSS_KEEP_ALL, SIZE_MAX, "setup", why);
        uint64_t w0 = fault_domain_writes(run.dom);
        for (size_t i = 0; i < wl->nsteps; i++) {
                int r = work_step(&run, i, &after, why, sizeof(why));
                model_free(after);
                if (r)
                        fail_case(wl, 0, FAULT_LOSS_KEEP_ALL, i, "without faults", why);
        }
        uint64_t writes = fault_domain_writes(run.dom) - w0;
        if (model_verify(run.s, run.m, MV_ALL, why, sizeof(why)))
                fail_case(wl, 0, FAULT_LOSS_KEEP_ALL, SIZE_MAX, "final state without faults",
                          why);
        int r = ss_check(run.s, NULL, NULL);
        if (r)
                fail_case(wl, 0, FAULT_LOSS_KEEP_ALL, SIZE_MAX, "ss_check without faults",
                          "problems found");
        work_end(&run);
        return writes;
}

static void run_cut(const Workload *wl, uint64_t data_seed, uint64_t n, FaultLoss loss)
{
        WorkRun run;
        char why[1024];
        Model *before = NULL, *after = NULL;
        size_t i;

        cases++;
        if (work_start(&run, wl, data_seed, mix(args.seed, n * 4 + loss), why, sizeof(why)))
                fail_case(wl, n, loss, SIZE_MAX, "setup", why);
        fault_domain_cut_at_write(run.dom, n);
        for (i = 0; i < wl->nsteps; i++) {
                before = model_clone(run.m);
                int r = work_step(&run, i, &after, why, sizeof(why));
                if (r == 0) {
                        if (fault_domain_is_off(run.dom))
                                fail_case(wl, n, loss, i, "acknowledged",
                                          "the step returned success although the power was "
                                          "cut during it");
                        model_free(before);
                        model_free(after);
                        continue;
                }
                if (r > 0)
                        fail_case(wl, n, loss, i, "wrong answer", why);
                if (!fault_domain_is_off(run.dom))
                        fail_case(wl, n, loss, i, "failed before the power cut", why);
                break;
        }
        if (i == wl->nsteps)
                fail_case(wl, n, loss, SIZE_MAX, "cut never happened",
                          "the workload issued fewer writes than when counted "
                          "(non-deterministic write pattern)");
        if (args.verbose)
                printf("  write %" PRIu64 " (%s): step %zu failed: %s\n", n, loss_name(loss), i,
                       why);

        fault_domain_power_cycle(run.dom, loss);
        if (work_reopen(&run, why, sizeof(why)))
                fail_case(wl, n, loss, i, "recovery", why);
        if (work_compare(&run, i, before, after, why, sizeof(why)))
                fail_case(wl, n, loss, i, "state after recovery", why);
        if (work_afterlife(&run, why, sizeof(why)))
                fail_case(wl, n, loss, i, "using the recovered store", why);
        model_free(before);
        model_free(after);
        work_end(&run);
}

static void run_workload(const Workload *wl, uint64_t data_seed)
{
        struct timespec t0, t1;
        static const FaultLoss losses[] = { FAULT_LOSS_RANDOM, FAULT_LOSS_DROP_ALL };

        if (args.only && strcmp(args.only, wl->name))
                return;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        uint64_t writes = count_writes(wl, data_seed);
        uint64_t first = args.at ? args.at : 1, last = args.at ? args.at : writes;
        for (uint64_t n = first; n <= last; n += args.every)
                for (size_t l = 0; l < 2; l++)
                        run_cut(wl, data_seed, n, losses[l]);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%-10s %3zu steps, %4" PRIu64 " writes: ok in %.2f s\n", wl->name, wl->nsteps,
               writes,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        fflush(stdout);
}

int main(int argc, char **argv)
{
        test_args_parse(argc, argv, &args);

        for (size_t i = 0; work_builtin(i); i++)
                run_workload(work_builtin(i), mix(args.seed, i));
        for (uint64_t k = 0; k < 2; k++) {
                Workload *wl = work_random(mix(args.seed, 100 + k), RANDOM_STEPS);
                run_workload(wl, mix(args.seed, 200 + k));
                work_free(wl);
        }
        printf("ok: %" PRIu64 " power cuts\n", cases);
        return 0;
}
