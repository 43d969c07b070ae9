/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Scripted workloads, for the crash and fault tests.
 *
 * A workload is a list of steps run against a fresh store on memory devices
 * (tests/faultdev.h).  Before each step the expected state after it is
 * computed from the model (tests/model.h), so a test that interrupts a step
 * knows both states the store may legitimately be in afterwards.
 *
 * Also here: the driver test-powercut and test-fault share, which runs
 * every built-in workload and two random ones through a test's own cases,
 * timing and reporting each, so that every failure names the seed and the
 * command line that replays it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "snapstore.h"
#include "test-util.h"

typedef struct FaultDomain FaultDomain;

typedef enum StepKind {
        STEP_ORIGIN_WRITE, /* ss_origin_write + ss_store_flush */
        STEP_SNAP_WRITE,   /* ss_snapshot_write + ss_store_flush (writable snapshot) */
        STEP_CREATE,
        STEP_DELETE,
        STEP_CLEANUP,
        STEP_RENAME,
        STEP_PRIORITY,
        STEP_FLAGS,
        STEP_REVERT,      /* ss_revert_origin */
        STEP_REOPEN,      /* ss_store_close + ss_store_open */
        STEP_STORE_GROW,  /* close, larger store device, open, ss_store_grow */
        STEP_ORIGIN_GROW, /* close, larger origin device, open, ss_origin_grow */
        STEP_READ,        /* read a whole image back and compare */
        /* Group commit, as the server's concurrent writers: the batch's
         * ranges prepared together (ss_origin_prepare_writes, one commit;
         * when that finds the store full, one at a time, as the server
         * falls back),
         * then each written straight to the origin device, in an order
         * drawn from the step's seed, then ss_store_flush.  Ranges never
         * share a sector (an interrupted step leaves each sector old or
         * new), but may share chunks. */
        STEP_ORIGIN_BATCH,
        /* The split copy-out (snapstore/origin.c, THE SPLIT COPY-OUT), one
         * stage per step, so that other steps (snapshot create and delete,
         * cleanup, snapshot writes) and power cuts fall between them, as
         * the server's concurrent writers and other calls interleave:
         *  - STEP_PLAN: ss_copy_plan of (offset, length) into plan slot
         *    `slot`.  -EAGAIN (another slot's plan holds the range) or
         *    -ENOSPC leave the slot to be prepared alone at the apply.
         *  - STEP_PLAN_IO: ss_copy_plan_io of slot `slot`.
         *  - STEP_APPLY: every slot's plan in one ss_copy_plans_apply
         *    (when that finds the store full, each range alone), then the
         *    slots left alone by ss_origin_prepare_write, then each range
         *    (batch[k] is slot k's) written straight to the origin device
         *    in an order drawn from the step's seed, then ss_store_flush.
         *    The ranges never share a sector. */
        STEP_PLAN,
        STEP_PLAN_IO,
        STEP_APPLY,
} StepKind;

#define WORK_ORIGIN UINT32_MAX /* STEP_READ of the origin */
#define WORK_MAX_SNAPS 256
#define WORK_BATCH_MAX 4
#define WORK_PLANS WORK_BATCH_MAX /* plan slots */

typedef struct Step {
        StepKind kind;
        uint32_t snap;           /* snapshot by creation order, 0 = the first created */
        uint64_t offset, length; /* bytes: writes; grows: bytes added */
        uint32_t set, clear;     /* create: flags (set); set_flags */
        int32_t priority;
        unsigned budget;  /* cleanup */
        const char *name; /* create, rename */
        uint32_t nbatch;  /* origin batch, apply: ranges in batch */
        SsRange batch[WORK_BATCH_MAX];
        uint32_t slot; /* plan, plan I/O */
} Step;

typedef struct Workload {
        const char *name;
        uint32_t chunk_size;
        uint64_t origin_size, store_size; /* bytes at the start */
        const Step *steps;
        size_t nsteps;
        char *names; /* storage for generated names, or NULL */
        SsFullPolicy policy;
} Workload;

typedef struct WorkRun {
        const Workload *wl;
        uint64_t data_seed;
        FaultDomain *dom;
        SsBlockDev *origin, *store;         /* the memory devices (tests/faultdev.h) */
        SsBlockDev *origin_dev, *store_dev; /* what the store sees: they count flushes */
        uint64_t flushes;                   /* flushes issued to either device */
        uint64_t cut_flush; /* power goes off when this flush is issued; 0 = never */
        SsStore *s;         /* NULL while closed */
        Model *m;           /* the state after the last acknowledged step */
        uint32_t ids[WORK_MAX_SNAPS];
        size_t created;
        /* snapshots the store-full policy deleted during the current step */
        uint32_t victims[WORK_MAX_SNAPS];
        size_t nvictims;
        uint32_t keep;          /* snapshot the current step writes: never a victim */
        char bad_victim[200];   /* set when a victim broke the policy's order */
        uint64_t autodeleted;   /* victims since work_start */
        uint64_t batches_alone; /* origin batches that failed and went one at a time */
        /* The split copy-out's plan slots (STEP_PLAN): a plan, or none
         * (nothing to copy), or to be prepared alone at the apply. */
        SsCopyPlan *plans[WORK_PLANS];
        bool planned[WORK_PLANS], alone[WORK_PLANS];
        uint64_t plans_waited; /* plans refused with -EAGAIN since work_start */
} WorkRun;

const char *step_describe(const Workload *wl, size_t i, char *buf, size_t len);
/* The built-in workloads: NULL past the last. */
const Workload *work_builtin(size_t i);
/* A random workload of nsteps steps from seed (free with work_free); name
 * must outlive it. */
Workload *work_random(const char *name, uint64_t seed, size_t nsteps);
void work_free(Workload *wl);

/* Fresh devices in a new fault domain, a store created and opened on them,
 * the model of it.  0, or non-zero with why filled. */
int work_start(WorkRun *run, const Workload *wl, uint64_t data_seed, uint64_t fault_seed, char *why,
               size_t why_len);
/* Runs step i.  Before calling the store it computes the state expected
 * after the step into *ret_after (the caller frees it).  Returns 0 when the
 * step was acknowledged (run->m then is that state), the -errno of the
 * first store call that failed, or 1 when the store answered wrongly
 * (why says how). */
int work_step(WorkRun *run, size_t i, Model **ret_after, char *why, size_t why_len);
/* Whether step writes the origin: the ranges it writes (0 if none). */
uint32_t step_origin_ranges(const Step *st, SsRange *ret_ranges);
/* After a failed step: close the handle if any, open the store again
 * (finishing an interrupted revert) and run ss_check.  0, or non-zero with
 * why filled. */
int work_reopen(WorkRun *run, char *why, size_t why_len);
/* Whether the store equals `before` or `after` of step i (for writes,
 * sector by sector in the image written), or, when the step made the
 * store-full policy delete snapshots, `before` less the first k of them
 * (the next one predicted from the policy).  0, or non-zero with why
 * filled.  On success run->m becomes a copy of the matching state (for an
 * interrupted write, of the state before the write: the written image may
 * be mixed). */
int work_compare(WorkRun *run, size_t i, const Model *before, const Model *after, char *why,
                 size_t why_len);
/* Uses the recovered store some more: snapshot, overwrite the origin,
 * compare, delete every snapshot, clean up, expect no data left, check. */
int work_afterlife(WorkRun *run, char *why, size_t why_len);
void work_end(WorkRun *run);
/* Cuts the power when the nth flush from now is issued: that flush fails and
 * the writes it would have made durable stay pending (so a power cycle may
 * keep, drop or tear them).  fault_domain_cut_at_write() cuts at writes. */
void work_cut_at_flush(WorkRun *run, uint64_t n);

/* ---- the driver shared by the crash tests ---- */

/* What the fault-free run of a workload found. */
typedef struct WorkCount {
        uint64_t writes;      /* writes to either memory device */
        uint64_t flushes;     /* flushes issued through the store's views */
        uint64_t ops;         /* I/O operations on either memory device */
        uint64_t autodeleted; /* snapshots the store-full policy deleted */
} WorkCount;

/* Runs the workload on a fresh store without faults, counting the I/O of
 * its steps into *ret_count; with verify_end, then compares the store with
 * the model and runs ss_check.  0, or non-zero with *fail_step (the step
 * that failed, SIZE_MAX if none), *fail_what and why filled. */
int work_count(const Workload *wl, uint64_t data_seed, bool verify_end, WorkCount *ret_count,
               size_t *fail_step, const char **fail_what, char *why, size_t why_len);

/* What a test's cases for one workload report back to the driver. */
typedef struct WorkTally {
        char counts[80];      /* what the fault-free run counted ("  46 writes,   34 flushes") */
        uint64_t autodeleted; /* by the store-full policy in that run */
        uint64_t cases;       /* cases run */
} WorkTally;

typedef struct WorkDriver {
        const char *prog;       /* the command in the replay line: "test-powercut" */
        const char *cases_name; /* what the total counts: "power cuts" */
        const TestArgs *args;
        /* Random workload k ("random0", "random1") has random_steps steps
         * built from seed_mix(seed, random_shape + k), and its data from
         * seed_mix(seed, random_data + k). */
        size_t random_steps;
        uint64_t random_shape, random_data;
        /* Runs the test's cases for one workload; exits on a failure. */
        void (*run_cases)(const Workload *wl, uint64_t data_seed, WorkTally *tally);
} WorkDriver;

/* Runs the cases of every built-in workload i (data from seed_mix(seed, i)),
 * then of two random ones, "random0" and "random1" (only the one --only
 * names, if given); prints a line with counts and time for each workload,
 * and the total of cases. */
void work_drive(const WorkDriver *d);

/* Reports a failed case and exits 1: the seed, the workload, the fault
 * ("cut at write 5 (loss random)"), the step it hit (SIZE_MAX: none), what
 * was being checked and why it failed, then the command that replays it
 * (--at n). */
__attribute__((noreturn)) void work_fail(const WorkDriver *d, const Workload *wl, uint64_t n,
                                         const char *fault, size_t step, const char *what,
                                         const char *why);
