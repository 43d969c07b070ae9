/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * I/O error test: for each scripted workload (tests/workload.h), count its I/O
 * operations O, then for every N in 1..O start afresh and make operation N
 * fail with -EIO, and separately with -ENOSPC, once (non-sticky) or from
 * then on (sticky).  Required:
 *  - the step that met the error returns a negative errno (a read that
 *    returns success returns the right data);
 *  - further calls on the handle do not crash: it either refuses every
 *    change cleanly (a handle marked failed) or, when the engine rolled the
 *    step back cleanly, keeps working; with a sticky error nothing succeeds;
 *  - after closing it and reopening without faults, ss_check() finds
 *    nothing and the state is the one before or after the failed step;
 *  - the reopened store keeps working.
 *
 *     test-fault [--seed N] [--every K] [--only WORKLOAD] [--at N] [-v]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faultdev.h"
#include "snapstore.h"
#include "workload.h"

typedef struct Variant {
        int err;
        bool sticky;
        const char *name;
} Variant;

static const Variant variants[] = {
        { -EIO, false, "EIO once" },
        { -EIO, true, "EIO sticky" },
        { -ENOSPC, false, "ENOSPC once" },
        { -ENOSPC, true, "ENOSPC sticky" },
};

static TestArgs args;
static void fault_workload(const Workload *wl, uint64_t data_seed, WorkTally *tally);

static const WorkDriver driver = {
        .prog = "test-fault",
        .cases_name = "injected faults",
        .args = &args,
        .random_steps = 30,
        .random_shape = 300,
        .random_data = 400,
        .run_cases = fault_workload,
};

static __attribute__((noreturn)) void fail_case(const Workload *wl, uint64_t n, const Variant *v,
                                                size_t step, const char *what, const char *why)
{
        char fault[80];

        snprintf(fault, sizeof(fault), "I/O op %" PRIu64 " fails (%s)", n, v ? v->name : "none");
        work_fail(&driver, wl, n, fault, step, what, why);
}

/* A sector of the origin outside what step wrote (the same in the state
 * before and after it), or UINT64_MAX if there is none. */
static uint64_t untouched_sector(const Workload *wl, size_t step, const Model *m)
{
        const Step *st = &wl->steps[step];

        if (st->kind == STEP_REVERT)
                return UINT64_MAX;

        SsRange ranges[WORK_BATCH_MAX];
        uint32_t n = step_origin_ranges(st, ranges);

        for (uint64_t off = 0; off < m->origin.size; off += 512) {
                bool written = false;
                for (uint32_t j = 0; j < n; j++)
                        written |= off + 512 > ranges[j].offset &&
                                   off < ranges[j].offset + ranges[j].length;
                if (!written)
                        return off;
        }
        return UINT64_MAX;
}

/* Calls on the handle whose step failed.  The engine may have rolled the
 * handle back cleanly (then it keeps working) or marked it failed (then
 * every change is refused until it is reopened); either way nothing may
 * crash, nothing may change behind the model's back, and a refused handle
 * stays refused.  With every I/O failing, nothing can succeed. */
static void probe_failed_handle(const Workload *wl, uint64_t n, const Variant *v, size_t step,
                                WorkRun *run)
{
        SsStore *s = run->s;
        uint8_t *buf = ss_alloc_io_buffer(4096);
        SsSnapshotInfo si;
        SsStoreInfo info;
        uint32_t id = 0;
        bool refused = false;
        char why[300];
        int r;

        (void)ss_store_info(s, &info);
        (void)ss_snapshot_next(s, 0, &si);

        /* Rewrite one sector with what it holds in both states (not where
         * a full store may delete snapshots to make room for it). */
        uint64_t sector = untouched_sector(wl, step, run->m);
        if (sector != UINT64_MAX && wl->policy != SS_FULL_AUTODELETE) {
                model_read(&run->m->origin, buf, sector, 512);
                r = ss_origin_write(s, buf, sector, 512);
                if (r >= 0 && v->sticky)
                        fail_case(wl, n, v, step, "with every I/O failing",
                                  "ss_origin_write succeeded");
                /* -EAGAIN: a copy-out plan of the split path still holds
                 * the sector's chunk (a refusal of the range, not a
                 * failure of the handle) */
                refused = r < 0 && r != -ENOSPC && r != -EAGAIN;
        }

        r = ss_snapshot_create(s, "probe-after-failure", 0, 0, &id);
        if (r >= 0 && (v->sticky || refused)) {
                snprintf(why, sizeof(why), "ss_snapshot_create succeeded (id %u) %s", id,
                         v->sticky ? "with every I/O failing" : "after a refused write");
                fail_case(wl, n, v, step, "the failed handle accepted a change", why);
        }
        if (r >= 0) {
                r = ss_snapshot_delete(s, id);
                if (r < 0) {
                        snprintf(why, sizeof(why),
                                 "ss_snapshot_create of a probe worked, deleting it failed: %s",
                                 strerror(-r));
                        fail_case(wl, n, v, step, "the handle after the failure", why);
                }
        } else {
                refused = true;
        }
        if (refused && run->m->nsnaps) {
                r = ss_snapshot_delete(s, run->m->snaps[0].id);
                if (r >= 0)
                        fail_case(wl, n, v, step, "the failed handle accepted a change",
                                  "ss_snapshot_delete succeeded after a refused change");
        }
        if (v->sticky) {
                r = ss_origin_read(s, buf, 0, 512);
                if (r >= 0)
                        fail_case(wl, n, v, step, "read with every I/O failing",
                                  "ss_origin_read succeeded");
        }
        (void)ss_cleanup_step(s, 10);
        (void)ss_store_flush(s);
        free(buf);
}

static void run_fault(const Workload *wl, uint64_t data_seed, uint64_t n, const Variant *v)
{
        WorkRun run;
        char why[1024];
        Model *before = NULL, *after = NULL;
        size_t i;

        if (work_start(&run, wl, data_seed, 1, why, sizeof(why)))
                fail_case(wl, n, v, SIZE_MAX, "setup", why);
        uint64_t ops0 = fault_domain_ops(run.dom);
        fault_domain_fail_op(run.dom, n, v->err, v->sticky);
        for (i = 0; i < wl->nsteps; i++) {
                before = model_clone(run.m);
                int r = work_step(&run, i, &after, why, sizeof(why));
                bool fired = fault_domain_ops(run.dom) - ops0 >= n;
                if (r == 0) {
                        if (fired)
                                fail_case(wl, n, v, i, "acknowledged",
                                          "the step returned success although one of its I/O "
                                          "operations failed");
                        model_free(before);
                        model_free(after);
                        continue;
                }
                if (r > 0)
                        fail_case(wl, n, v, i, "wrong answer", why);
                if (!fired)
                        fail_case(wl, n, v, i, "failed before the fault", why);
                break;
        }
        if (i == wl->nsteps)
                fail_case(wl, n, v, SIZE_MAX, "fault never fired",
                          "the workload issued fewer I/O operations than when counted");
        if (args.verbose)
                printf("  op %" PRIu64 " (%s): step %zu failed: %s\n", n, v->name, i, why);

        if (run.s && wl->steps[i].kind != STEP_READ)
                probe_failed_handle(wl, n, v, i, &run);

        fault_domain_fail_op(run.dom, 0, 0, false);
        if (work_reopen(&run, why, sizeof(why)))
                fail_case(wl, n, v, i, "reopening without faults", why);
        if (work_compare(&run, i, before, after, why, sizeof(why)))
                fail_case(wl, n, v, i, "state after reopening", why);
        if (work_afterlife(&run, why, sizeof(why)))
                fail_case(wl, n, v, i, "using the reopened store", why);
        model_free(before);
        model_free(after);
        work_end(&run);
}

static void fault_workload(const Workload *wl, uint64_t data_seed, WorkTally *tally)
{
        WorkCount count;
        size_t step;
        const char *what;
        char why[1024];

        if (work_count(wl, data_seed, false, &count, &step, &what, why, sizeof(why)))
                fail_case(wl, 0, NULL, step, what, why);
        uint64_t first = args.at ? args.at : 1, last = args.at ? args.at : count.ops;
        for (uint64_t n = first; n <= last; n += args.every)
                for (size_t k = 0; k < sizeof(variants) / sizeof(variants[0]); k++) {
                        run_fault(wl, data_seed, n, &variants[k]);
                        tally->cases++;
                }
        snprintf(tally->counts, sizeof(tally->counts), "%4" PRIu64 " I/O ops", count.ops);
        tally->autodeleted = count.autodeleted;
}

int main(int argc, char **argv)
{
        test_args_parse(argc, argv, &args);
        work_drive(&driver);
        return 0;
}
