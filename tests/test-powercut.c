/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crash test: for each scripted workload (tests/model.c), run it once to
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
static uint64_t autodeleted; /* by the store-full policy in the counting run */

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
        char desc[200] = "no step";

        if (step < wl->nsteps)
                step_describe(wl, step, desc, sizeof(desc));
        fflush(stdout);
        fprintf(stderr,
                "FAIL: seed=%" PRIu64 " workload=%s cut at %s %" PRIu64
                " (loss %s), during %s: %s: %s\n"
                "reproduce: test-powercut --seed %" PRIu64 " --only %s --at %" PRIu64 "\n",
                args.seed, wl->name, at == CUT_AT_WRITE ? "write" : "flush", n, loss_name(loss),
                desc, what, why, args.seed, wl->name, n);
        exit(1);
}

static uint64_t mix(uint64_t a, uint64_t b)
{
        Rng r = { a * 0x9e3779b97f4a7c15ull ^ b };
        return rng_u64(&r);
}

/* Runs the workload without faults, counting its writes and flushes. */
static void count_io(const Workload *wl, uint64_t data_seed, uint64_t *ret_writes,
                     uint64_t *ret_flushes)
{
        WorkRun run;
        char why[1024];
        Model *after;

        if (work_start(&run, wl, data_seed, 1, why, sizeof(why)))
                fail_case(wl, CUT_AT_WRITE, 0, FAULT_LOSS_KEEP_ALL, SIZE_MAX, "setup", why);
        uint64_t w0 = fault_domain_writes(run.dom), f0 = run.flushes;
        for (size_t i = 0; i < wl->nsteps; i++) {
                int r = work_step(&run, i, &after, why, sizeof(why));
                model_free(after);
                if (r)
                        fail_case(wl, CUT_AT_WRITE, 0, FAULT_LOSS_KEEP_ALL, i, "without faults",
                                  why);
        }
        *ret_writes = fault_domain_writes(run.dom) - w0;
        *ret_flushes = run.flushes - f0;
        if (model_verify(run.s, run.m, MV_ALL, why, sizeof(why)))
                fail_case(wl, CUT_AT_WRITE, 0, FAULT_LOSS_KEEP_ALL, SIZE_MAX,
                          "final state without faults", why);
        int r = ss_check(run.s, NULL, NULL);
        if (r)
                fail_case(wl, CUT_AT_WRITE, 0, FAULT_LOSS_KEEP_ALL, SIZE_MAX,
                          "ss_check without faults", "problems found");
        autodeleted = run.autodeleted;
        work_end(&run);
}

static void run_cut(const Workload *wl, uint64_t data_seed, CutAt at, uint64_t n, FaultLoss loss)
{
        WorkRun run;
        char why[1024];
        Model *before = NULL, *after = NULL;
        size_t i;

        cases++;
        if (work_start(&run, wl, data_seed, mix(args.seed, n * 8 + at * 4 + loss), why,
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

static void run_workload(const Workload *wl, uint64_t data_seed)
{
        static const FaultLoss write_losses[] = { FAULT_LOSS_RANDOM, FAULT_LOSS_DROP_ALL };
        static const FaultLoss flush_losses[] = { FAULT_LOSS_RANDOM, FAULT_LOSS_KEEP_ALL };
        struct timespec t0, t1;
        uint64_t writes, flushes;

        if (args.only && strcmp(args.only, wl->name))
                return;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        count_io(wl, data_seed, &writes, &flushes);
        for (uint64_t n = args.at ? args.at : 1; n <= (args.at ? args.at : writes); n += args.every)
                for (size_t l = 0; l < 2; l++)
                        run_cut(wl, data_seed, CUT_AT_WRITE, n, write_losses[l]);
        for (uint64_t n = args.at ? args.at : 1; n <= (args.at ? args.at : flushes);
             n += args.every)
                for (size_t l = 0; l < 2; l++)
                        run_cut(wl, data_seed, CUT_AT_FLUSH, n, flush_losses[l]);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%-10s %3zu steps, %4" PRIu64 " writes, %4" PRIu64 " flushes, %2" PRIu64
               " autodeleted: ok in %.2f s\n",
               wl->name, wl->nsteps, writes, flushes, autodeleted,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        fflush(stdout);
}

int main(int argc, char **argv)
{
        test_args_parse(argc, argv, &args);

        for (size_t i = 0; work_builtin(i); i++)
                run_workload(work_builtin(i), mix(args.seed, i));
        for (uint64_t k = 0; k < 2; k++) {
                Workload *wl = work_random(k ? "random1" : "random0", mix(args.seed, 100 + k),
                                           RANDOM_STEPS);
                run_workload(wl, mix(args.seed, 200 + k));
                work_free(wl);
        }
        printf("ok: %" PRIu64 " power cuts\n", cases);
        return 0;
}
