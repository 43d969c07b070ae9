/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The scripted workloads and the crash-test driver; see workload.h.  Like
 * the model, nothing here knows the store's format: the store is reached
 * only through the public API.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faultdev.h"
#include "workload.h"

#define KIB 1024u
/* clang-format off */
#define ORIGIN_W(off, len) { .kind = STEP_ORIGIN_WRITE, .offset = (off), .length = (len) }
#define SNAP_W(k, off, len) { .kind = STEP_SNAP_WRITE, .snap = (k), .offset = (off), .length = (len) }
#define CREATE(nm, fl, pr) { .kind = STEP_CREATE, .name = (nm), .set = (fl), .priority = (pr) }
#define DELETE(k) { .kind = STEP_DELETE, .snap = (k) }
#define CLEANUP(b) { .kind = STEP_CLEANUP, .budget = (b) }
#define RENAME(k, nm) { .kind = STEP_RENAME, .snap = (k), .name = (nm) }
#define PRIORITY(k, p) { .kind = STEP_PRIORITY, .snap = (k), .priority = (p) }
#define FLAGS(k, s, c) { .kind = STEP_FLAGS, .snap = (k), .set = (s), .clear = (c) }
#define REVERT(k) { .kind = STEP_REVERT, .snap = (k) }
#define REOPEN() { .kind = STEP_REOPEN }
#define STORE_GROW(n) { .kind = STEP_STORE_GROW, .length = (n) }
#define ORIGIN_GROW(n) { .kind = STEP_ORIGIN_GROW, .length = (n) }
#define READ(k) { .kind = STEP_READ, .snap = (k) }
#define BATCH(n, ...) { .kind = STEP_ORIGIN_BATCH, .nbatch = (n), .batch = { __VA_ARGS__ } }
#define PLAN(k, off, len) { .kind = STEP_PLAN, .slot = (k), .offset = (off), .length = (len) }
#define PLAN_IO(k) { .kind = STEP_PLAN_IO, .slot = (k) }
#define APPLY(n, ...) { .kind = STEP_APPLY, .nbatch = (n), .batch = { __VA_ARGS__ } }
/* clang-format on */

#define W SS_SNAP_WRITABLE
#define P SS_SNAP_PINNED

/* Origin writes between snapshot creates: copy-out of single sectors,
 * whole chunks, runs of chunks and the partial last chunk. */
static const Step steps_copyout[] = {
        ORIGIN_W(0, 512),
        CREATE("a", 0, 0),
        ORIGIN_W(0, 512),
        ORIGIN_W(4 * KIB, 12 * KIB),
        ORIGIN_W(6 * KIB, 1 * KIB),
        CREATE("b", 0, 1),
        ORIGIN_W(2 * KIB, 8 * KIB),
        ORIGIN_W(60 * KIB, 3 * KIB + 512),
        /* two writers in one chunk, one across a chunk boundary, one in
         * a chunk copied out already */
        BATCH(4, { 24 * KIB + 512, 1 * KIB }, { 24 * KIB, 512 }, { 30 * KIB, 4 * KIB },
              { 2 * KIB, 512 }),
        CREATE("c", 0, 0),
        CREATE("d", 0, 0),
        ORIGIN_W(0, 63 * KIB + 512),
        READ(0),
        ORIGIN_W(16 * KIB, 4 * KIB),
        READ(WORK_ORIGIN),
};

/* Deleting snapshots and freeing their space a little at a time. */
static const Step steps_delete[] = {
        CREATE("a", 0, 0),
        ORIGIN_W(0, 12 * KIB),
        CREATE("b", 0, 0),
        ORIGIN_W(4 * KIB, 12 * KIB),
        CREATE("c", W, 0),
        SNAP_W(2, 20 * KIB, 8 * KIB),
        ORIGIN_W(8 * KIB, 24 * KIB),
        CREATE("d", 0, 0),
        ORIGIN_W(0, 4 * KIB),
        DELETE(1),
        CLEANUP(1),
        CLEANUP(2),
        DELETE(0),
        CLEANUP(1),
        ORIGIN_W(28 * KIB, 8 * KIB),
        DELETE(2),
        CLEANUP(1000),
        READ(3),
        DELETE(3),
        CLEANUP(3),
        CLEANUP(1000),
        ORIGIN_W(0, 8 * KIB),
};

/* Metadata only: names, priorities, flags, and enough snapshots to split
 * the snapshot table's leaves. */
static const Step steps_meta[] = {
        CREATE("alpha", 0, 0),
        RENAME(0, "alpha-renamed"),
        PRIORITY(0, 7),
        FLAGS(0, P, 0),
        CREATE("beta", W, -3),
        FLAGS(0, 0, P),
        RENAME(1, "alpha"),
        PRIORITY(1, 5),
        CREATE("g00", 0, 0),
        CREATE("g01", 0, 1),
        CREATE("g02", 0, 2),
        CREATE("g03", P, 3),
        CREATE("g04", 0, 0),
        CREATE("g05", 0, 1),
        CREATE("g06", 0, 2),
        CREATE("g07", 0, 3),
        CREATE("g08", 0, 0),
        CREATE("g09", 0, 1),
        CREATE("g10", 0, 2),
        CREATE("g11", 0, 3),
        ORIGIN_W(0, 4 * KIB),
        CREATE("g12", 0, 0),
        CREATE("g13", 0, 1),
        CREATE("g14", 0, 2),
        CREATE("g15", 0, 3),
        CREATE("g16", 0, 0),
        CREATE("g17", 0, 1),
        CREATE("g18", 0, 2),
        CREATE("g19", 0, 3),
        CREATE("g20", 0, 0),
        CREATE("g21", 0, 1),
        CREATE("g22", 0, 2),
        CREATE("g23", 0, 3),
        CREATE("g24", 0, 0),
        CREATE("g25", 0, 1),
        RENAME(20, "renamed-in-a-full-table"),
        DELETE(3),
        DELETE(4),
        DELETE(10),
        DELETE(11),
        DELETE(12),
        CLEANUP(1000),
        PRIORITY(25, -9),
        READ(WORK_ORIGIN),
};

/* Writable snapshots: first writes (private copy-out from the origin or
 * from a shared exception), rewrites in place, origin writes around them. */
static const Step steps_writable[] = {
        ORIGIN_W(0, 8 * KIB),
        CREATE("w", W, 0),
        SNAP_W(0, 0, 512),
        SNAP_W(0, 4 * KIB, 8 * KIB),
        ORIGIN_W(0, 16 * KIB),
        CREATE("r", 0, 0),
        SNAP_W(0, 1 * KIB, 2 * KIB),
        ORIGIN_W(20 * KIB, 4 * KIB),
        SNAP_W(0, 18 * KIB, 8 * KIB),
        CREATE("w2", W, 0),
        ORIGIN_W(18 * KIB, 8 * KIB),
        SNAP_W(2, 16 * KIB, 16 * KIB),
        READ(0),
        DELETE(0),
        CLEANUP(1),
        CLEANUP(1000),
        SNAP_W(2, 60 * KIB, 4 * KIB),
        READ(2),
};

/* Reverting the origin to a read-only and to a writable snapshot. */
static const Step steps_revert[] = {
        CREATE("a", 0, 0),
        ORIGIN_W(0, 24 * KIB),
        CREATE("b", W, 0),
        SNAP_W(1, 8 * KIB, 8 * KIB),
        ORIGIN_W(16 * KIB, 32 * KIB),
        CREATE("c", 0, 0),
        ORIGIN_W(4 * KIB, 4 * KIB),
        REVERT(0),
        ORIGIN_W(0, 4 * KIB),
        REVERT(1),
        READ(2),
        REVERT(2),
        DELETE(0),
        CLEANUP(1000),
        READ(WORK_ORIGIN),
};

/* Close and reopen between operations; growing the store and the origin
 * (partial last chunk growing into a whole one). */
static const Step steps_grow[] = {
        CREATE("a", 0, 0),
        ORIGIN_W(0, 8 * KIB),
        REOPEN(),
        STORE_GROW(512 * KIB),
        CREATE("b", 0, 0),
        ORIGIN_W(56 * KIB, 5 * KIB + 512),
        ORIGIN_GROW(2 * KIB + 512),
        ORIGIN_W(60 * KIB, 4 * KIB),
        CREATE("c", 0, 0),
        ORIGIN_GROW(16 * KIB),
        ORIGIN_W(64 * KIB, 16 * KIB),
        STORE_GROW(1024 * KIB),
        ORIGIN_W(0, 80 * KIB),
        READ(1),
        REVERT(1),
        DELETE(0),
        CLEANUP(1000),
};

/* Bigger chunks: 64 KiB chunks, multi-chunk writes. */
static const Step steps_bigchunk[] = {
        CREATE("a", 0, 0),
        ORIGIN_W(60 * KIB, 8 * KIB),
        CREATE("b", W, 0),
        SNAP_W(1, 100 * KIB, 64 * KIB),
        ORIGIN_W(0, 256 * KIB),
        DELETE(0),
        CLEANUP(1),
        CLEANUP(1000),
        REVERT(1),
};

/* A store that fills up under SS_FULL_AUTODELETE: origin writes and
 * writable-snapshot writes that first delete the lowest-priority, oldest
 * unpinned snapshot (and clean up after it) to make room. */
static const Step steps_autodelete[] = {
        CREATE("a", 0, 0),
        ORIGIN_W(0, 64 * KIB),
        CREATE("b", 0, 1),
        ORIGIN_W(0, 64 * KIB),
        CREATE("c", P, -5),
        ORIGIN_W(0, 32 * KIB),
        CREATE("w", W, 2),
        ORIGIN_W(32 * KIB, 32 * KIB),
        SNAP_W(3, 0, 32 * KIB),
        CREATE("d", 0, 0),
        ORIGIN_W(0, 64 * KIB),
        READ(2),
        SNAP_W(3, 32 * KIB, 32 * KIB),
        CREATE("e", 0, 3),
        ORIGIN_W(0, 64 * KIB),
        CREATE("f", 0, 0),
        ORIGIN_W(16 * KIB, 48 * KIB),
        CREATE("g", 0, -1),
        /* too much for the space left: the batch fails, and each writer
         * alone makes room by the policy */
        BATCH(4, { 48 * KIB, 16 * KIB }, { 0, 16 * KIB }, { 32 * KIB, 16 * KIB },
              { 16 * KIB, 16 * KIB }),
        SNAP_W(3, 0, 64 * KIB),
        READ(WORK_ORIGIN),
};

/* The split copy-out, its stages interleaved with each other and with
 * the calls that change what needs a copy-out in between. */
static const Step steps_split[] = {
        CREATE("a", 0, 0),
        ORIGIN_W(0, 4 * KIB),
        /* plan A, plan B, I/O of B, a snapshot, I/O of A, one apply */
        PLAN(0, 8 * KIB, 8 * KIB),
        PLAN(1, 20 * KIB, 4 * KIB + 512),
        PLAN_IO(1),
        CREATE("b", 0, 0),
        PLAN_IO(0),
        APPLY(2, { 8 * KIB, 8 * KIB }, { 20 * KIB, 4 * KIB + 512 }),
        READ(0),
        READ(1),
        /* chunks 0 and 1 planned for b, chunk 2 in the range copied for
         * b already; a snapshot before the apply: 0 and 1 are recorded
         * for it, and the apply copies chunk 2 for it itself; slot 1 has
         * nothing to copy when planned (its write, late, prepares again) */
        PLAN(0, 0, 8 * KIB + 512),
        PLAN(1, 12 * KIB, 512),
        CREATE("c", 0, 0),
        PLAN_IO(0),
        APPLY(2, { 0, 8 * KIB + 512 }, { 12 * KIB, 512 }),
        READ(1),
        READ(2),
        /* a second writer in a planned chunk waits (prepared alone after
         * the apply); every snapshot deleted meanwhile: the blocks go back */
        CREATE("d", 0, 0),
        PLAN(0, 40 * KIB, 6 * KIB),
        PLAN(1, 46 * KIB, 512),
        PLAN_IO(0),
        DELETE(0),
        DELETE(1),
        CLEANUP(1000),
        DELETE(2),
        DELETE(3),
        APPLY(2, { 40 * KIB, 6 * KIB }, { 46 * KIB, 512 }),
        CLEANUP(1000),
        /* the only snapshot, writable, writes the planned chunk itself:
         * the copy is needless at the apply; the partial last chunk */
        CREATE("w", W, 0),
        PLAN(0, 48 * KIB, 4 * KIB),
        PLAN(1, 52 * KIB, 12 * KIB - 512),
        SNAP_W(4, 48 * KIB, 4 * KIB),
        PLAN_IO(1),
        PLAN_IO(0),
        APPLY(2, { 48 * KIB, 4 * KIB }, { 52 * KIB, 12 * KIB - 512 }),
        READ(4),
        READ(WORK_ORIGIN),
};

static const Workload builtin[] = {
        { "copyout", 4096, 64 * KIB - 512, 1024 * KIB, steps_copyout,
          sizeof(steps_copyout) / sizeof(Step), NULL, SS_FULL_REFUSE },
        { "split", 4096, 64 * KIB - 512, 1024 * KIB, steps_split,
          sizeof(steps_split) / sizeof(Step), NULL, SS_FULL_REFUSE },
        { "delete", 4096, 64 * KIB, 1024 * KIB, steps_delete, sizeof(steps_delete) / sizeof(Step),
          NULL, SS_FULL_REFUSE },
        { "meta", 4096, 64 * KIB, 1024 * KIB, steps_meta, sizeof(steps_meta) / sizeof(Step), NULL,
          SS_FULL_REFUSE },
        { "writable", 4096, 64 * KIB, 1024 * KIB, steps_writable,
          sizeof(steps_writable) / sizeof(Step), NULL, SS_FULL_REFUSE },
        { "revert", 16384, 64 * KIB, 1024 * KIB, steps_revert, sizeof(steps_revert) / sizeof(Step),
          NULL, SS_FULL_REFUSE },
        { "grow", 4096, 62 * KIB - 512, 1024 * KIB, steps_grow, sizeof(steps_grow) / sizeof(Step),
          NULL, SS_FULL_REFUSE },
        { "bigchunk", 65536, 320 * KIB, 4096 * KIB, steps_bigchunk,
          sizeof(steps_bigchunk) / sizeof(Step), NULL, SS_FULL_REFUSE },
        /* 512 KiB of it the superblock areas: the space left must fill up. */
        { "autodelete", 4096, 64 * KIB, 896 * KIB, steps_autodelete,
          sizeof(steps_autodelete) / sizeof(Step), NULL, SS_FULL_AUTODELETE },
};

/* More deleted snapshots waiting for cleanup than the superblock has job
 * slots (SS_MAX_CLEANUP_JOBS is 32): every other one of 66 snapshots is
 * deleted, so no two jobs merge and the 33rd delete must finish a job
 * inside its own transaction. */
#define JOBS_SNAPSHOTS 66
static Step steps_jobs[JOBS_SNAPSHOTS * 2 + JOBS_SNAPSHOTS / 2 + 8];
static char jobs_names[JOBS_SNAPSHOTS][8];

static const Workload *jobs_workload(void)
{
        static Workload wl = { "jobs",     4096, 64 * KIB, 1024 * KIB,
                               steps_jobs, 0,    NULL,     SS_FULL_REFUSE };
        size_t n = 0;

        if (wl.nsteps)
                return &wl;
        for (unsigned k = 0; k < JOBS_SNAPSHOTS; k++) {
                snprintf(jobs_names[k], sizeof(jobs_names[k]), "j%u", k);
                steps_jobs[n++] = (Step)CREATE(jobs_names[k], 0, 0);
                if (k % 2)
                        steps_jobs[n++] = (Step)ORIGIN_W((k % 16) * 4 * KIB, 512);
        }
        for (unsigned k = 0; k < JOBS_SNAPSHOTS; k += 2)
                steps_jobs[n++] = (Step)DELETE(k);
        steps_jobs[n++] = (Step)CLEANUP(5);
        steps_jobs[n++] = (Step)CLEANUP(5);
        steps_jobs[n++] = (Step)ORIGIN_W(0, 64 * KIB);
        steps_jobs[n++] = (Step)CLEANUP(1000);
        steps_jobs[n++] = (Step)READ(1);
        wl.nsteps = n;
        return &wl;
}

const Workload *work_builtin(size_t i)
{
        size_t n = sizeof(builtin) / sizeof(builtin[0]);

        if (i < n)
                return &builtin[i];
        return i == n ? jobs_workload() : NULL;
}

Workload *work_random(const char *wl_name, uint64_t seed, size_t nsteps)
{
        Rng r = { seed ^ 0x5eedf00dull };
        Workload *wl = xcalloc(1, sizeof(*wl));
        Step *steps = xcalloc(nsteps, sizeof(*steps));
        bool live[WORK_MAX_SNAPS] = { false }, writable[WORK_MAX_SNAPS] = { false };
        size_t created = 0, nlive = 0;
        uint64_t size;

        wl->name = wl_name;
        wl->chunk_size = 4096u << (2 * rng_below(&r, 2));
        size = wl->chunk_size * rng_range(&r, 4, 16);
        if (rng_percent(&r, 30))
                size -= 512 * rng_range(&r, 1, wl->chunk_size / 512 - 1);
        wl->origin_size = size;
        wl->store_size = 2048 * KIB;
        wl->names = xcalloc(nsteps, 24);
        wl->steps = steps;

        for (size_t i = 0; i < nsteps; i++) {
                Step *st = &steps[i];
                uint64_t k = rng_below(&r, 100);
                size_t pick = 0, pick_w = 0, nw = 0;

                /* a live snapshot and a live writable one, at random */
                for (size_t j = 0, seen = 0; j < created; j++) {
                        if (!live[j])
                                continue;
                        if (rng_below(&r, ++seen) == 0)
                                pick = j;
                        if (writable[j] && rng_below(&r, ++nw) == 0)
                                pick_w = j;
                }
                if (k < 8) {
                        /* a batch of writers close together, in no order */
                        uint64_t at = 512 * rng_below(&r, size / 512);
                        st->kind = STEP_ORIGIN_BATCH;
                        for (uint32_t n = (uint32_t)rng_range(&r, 2, WORK_BATCH_MAX);
                             st->nbatch < n && at < size;) {
                                SsRange *b = &st->batch[st->nbatch++];
                                b->offset = at;
                                b->length = 512 * rng_range(&r, 1, wl->chunk_size / 512);
                                if (b->length > size - at)
                                        b->length = size - at;
                                at += b->length + 512 * rng_below(&r, wl->chunk_size / 512);
                        }
                        for (uint32_t j = st->nbatch; j > 1; j--) {
                                SsRange t = st->batch[j - 1];
                                uint32_t o = (uint32_t)rng_below(&r, j);
                                st->batch[j - 1] = st->batch[o];
                                st->batch[o] = t;
                        }
                } else if (k < 14 && i + 3 * WORK_PLANS + 1 <= nsteps) {
                        /* the split copy-out: plans, their I/O in any
                         * order with other calls between, one apply */
                        SsRange ranges[WORK_PLANS];
                        uint32_t n = 0, want = (uint32_t)rng_range(&r, 1, WORK_PLANS);
                        uint64_t at = 512 * rng_below(&r, size / 512);
                        for (; n < want && at < size; n++) {
                                ranges[n].offset = at;
                                ranges[n].length = 512 * rng_range(&r, 1, 2 * wl->chunk_size / 512);
                                if (ranges[n].length > size - at)
                                        ranges[n].length = size - at;
                                at += ranges[n].length + 512 * rng_below(&r, wl->chunk_size / 512);
                        }
                        Step *s0 = st;
                        uint32_t perm[WORK_PLANS];
                        for (uint32_t j = 0; j < n; j++)
                                perm[j] = j;
                        for (uint32_t j = n; j > 1; j--) {
                                uint32_t o = (uint32_t)rng_below(&r, j), x = perm[j - 1];
                                perm[j - 1] = perm[o];
                                perm[o] = x;
                        }
                        for (uint32_t j = 0; j < n; j++)
                                *st++ = (Step){ .kind = STEP_PLAN,
                                                .slot = perm[j],
                                                .offset = ranges[perm[j]].offset,
                                                .length = ranges[perm[j]].length };
                        for (uint32_t j = n; j > 1; j--) {
                                uint32_t o = (uint32_t)rng_below(&r, j), x = perm[j - 1];
                                perm[j - 1] = perm[o];
                                perm[o] = x;
                        }
                        bool deleted = false;
                        for (uint32_t j = 0; j < n; j++) {
                                *st++ = (Step){ .kind = STEP_PLAN_IO, .slot = perm[j] };
                                uint64_t e = rng_below(&r, 100);
                                if (e < 20 && created < WORK_MAX_SNAPS && nlive < 8) {
                                        char *name = wl->names + 24 * (size_t)(st - steps);
                                        snprintf(name, 24, "r%zu", created);
                                        *st++ = (Step){ .kind = STEP_CREATE, .name = name };
                                        live[created++] = true;
                                        nlive++;
                                } else if (e < 35 && live[pick] && !deleted) {
                                        /* pick was drawn before this loop:
                                         * with nothing live then, it is 0,
                                         * live only if made just now. */
                                        *st++ = (Step){ .kind = STEP_DELETE,
                                                        .snap = (uint32_t)pick };
                                        live[pick] = false;
                                        nlive--;
                                        deleted = true;
                                } else if (e < 45) {
                                        *st++ = (Step){ .kind = STEP_CLEANUP, .budget = 1000 };
                                } else if (e < 55 && nw && live[pick_w]) {
                                        *st++ = (Step){ .kind = STEP_SNAP_WRITE,
                                                        .snap = (uint32_t)pick_w,
                                                        .offset = ranges[perm[j]].offset,
                                                        .length = ranges[perm[j]].length };
                                }
                        }
                        *st = (Step){ .kind = STEP_APPLY, .nbatch = n };
                        memcpy(st->batch, ranges, n * sizeof(*ranges));
                        i += (size_t)(st - s0);
                } else if (k < 30 || (k >= 80 && !nlive)) {
                        st->kind = STEP_ORIGIN_WRITE;
                        st->offset = 512 * rng_below(&r, size / 512);
                        st->length = 512 * rng_range(&r, 1, 3 * wl->chunk_size / 512);
                        if (st->length > size - st->offset)
                                st->length = size - st->offset;
                } else if (k < 45 && created < WORK_MAX_SNAPS && nlive < 8) {
                        char *name = wl->names + 24 * i;
                        snprintf(name, 24, "r%zu", created);
                        st->kind = STEP_CREATE;
                        st->name = name;
                        st->set = rng_percent(&r, 30) ? SS_SNAP_WRITABLE : 0;
                        st->priority = (int32_t)rng_below(&r, 3);
                        writable[created] = st->set & SS_SNAP_WRITABLE;
                        live[created++] = true;
                        nlive++;
                } else if (k < 55 && nw) {
                        st->kind = STEP_SNAP_WRITE;
                        st->snap = (uint32_t)pick_w;
                        st->offset = 512 * rng_below(&r, size / 512);
                        st->length = 512 * rng_range(&r, 1, 2 * wl->chunk_size / 512);
                        if (st->length > size - st->offset)
                                st->length = size - st->offset;
                } else if (k < 63 && nlive) {
                        st->kind = STEP_DELETE;
                        st->snap = (uint32_t)pick;
                        live[pick] = false;
                        nlive--;
                } else if (k < 72) {
                        st->kind = STEP_CLEANUP;
                        st->budget = rng_percent(&r, 50) ? 1000 : (unsigned)rng_range(&r, 1, 4);
                } else if (k < 75 && nlive) {
                        char *name = wl->names + 24 * i;
                        snprintf(name, 24, "n%zu", i);
                        st->kind = STEP_RENAME;
                        st->snap = (uint32_t)pick;
                        st->name = name;
                } else if (k < 78 && nlive) {
                        st->kind = STEP_PRIORITY;
                        st->snap = (uint32_t)pick;
                        st->priority = (int32_t)rng_below(&r, 10) - 5;
                } else if (k < 80 && nlive) {
                        st->kind = STEP_FLAGS;
                        st->snap = (uint32_t)pick;
                        st->set = rng_percent(&r, 50) ? SS_SNAP_PINNED : 0;
                        st->clear = st->set ? 0 : SS_SNAP_PINNED;
                } else if (k < 85 && nlive) {
                        st->kind = STEP_REVERT;
                        st->snap = (uint32_t)pick;
                } else if (k < 90) {
                        st->kind = STEP_REOPEN;
                } else {
                        st->kind = STEP_READ;
                        st->snap = nlive && rng_percent(&r, 70) ? (uint32_t)pick : WORK_ORIGIN;
                }
        }
        wl->nsteps = nsteps;
        return wl;
}

void work_free(Workload *wl)
{
        if (!wl)
                return;
        free((void *)wl->steps);
        free(wl->names);
        free(wl);
}

static const char *const step_names[] = {
        [STEP_ORIGIN_WRITE] = "origin-write",
        [STEP_SNAP_WRITE] = "snapshot-write",
        [STEP_CREATE] = "create",
        [STEP_DELETE] = "delete",
        [STEP_CLEANUP] = "cleanup",
        [STEP_RENAME] = "rename",
        [STEP_PRIORITY] = "priority",
        [STEP_FLAGS] = "flags",
        [STEP_REVERT] = "revert",
        [STEP_REOPEN] = "reopen",
        [STEP_STORE_GROW] = "store-grow",
        [STEP_ORIGIN_GROW] = "origin-grow",
        [STEP_READ] = "read",
        [STEP_ORIGIN_BATCH] = "origin-batch",
        [STEP_PLAN] = "plan",
        [STEP_PLAN_IO] = "plan-io",
        [STEP_APPLY] = "apply",
};

const char *step_describe(const Workload *wl, size_t i, char *buf, size_t len)
{
        const Step *st = &wl->steps[i];

        switch (st->kind) {
        case STEP_ORIGIN_WRITE:
        case STEP_SNAP_WRITE:
                snprintf(buf, len, "step %zu %s snap#%u %" PRIu64 " +%" PRIu64, i,
                         step_names[st->kind], st->snap, st->offset, st->length);
                break;
        case STEP_CREATE:
                snprintf(buf, len, "step %zu create '%s' flags 0x%x priority %d", i, st->name,
                         st->set, st->priority);
                break;
        case STEP_RENAME:
                snprintf(buf, len, "step %zu rename snap#%u '%s'", i, st->snap, st->name);
                break;
        case STEP_CLEANUP:
                snprintf(buf, len, "step %zu cleanup %u", i, st->budget);
                break;
        case STEP_STORE_GROW:
        case STEP_ORIGIN_GROW:
                snprintf(buf, len, "step %zu %s +%" PRIu64, i, step_names[st->kind], st->length);
                break;
        case STEP_PLAN:
                snprintf(buf, len, "step %zu plan slot %u %" PRIu64 " +%" PRIu64, i, st->slot,
                         st->offset, st->length);
                break;
        case STEP_PLAN_IO:
                snprintf(buf, len, "step %zu plan-io slot %u", i, st->slot);
                break;
        case STEP_ORIGIN_BATCH:
        case STEP_APPLY: {
                int n = snprintf(buf, len, "step %zu %s", i, step_names[st->kind]);
                for (uint32_t j = 0; j < st->nbatch && n >= 0 && (size_t)n < len; j++)
                        n += snprintf(buf + n, len - (size_t)n, " %" PRIu64 " +%" PRIu64,
                                      st->batch[j].offset, st->batch[j].length);
                break;
        }
        default:
                snprintf(buf, len, "step %zu %s snap#%d", i, step_names[st->kind],
                         st->snap == WORK_ORIGIN ? -1 : (int)st->snap);
                break;
        }
        return buf;
}

/* The devices the store sees: pass-through to the memory devices, counting
 * flushes so a power cut can land exactly on one. */
typedef struct FlushDev {
        SsBlockDev dev;
        SsBlockDev *media;
        WorkRun *run;
} FlushDev;

static int flushdev_pread(SsBlockDev *dev, void *buf, size_t len, uint64_t off)
{
        return ss_dev_pread(((FlushDev *)dev)->media, buf, len, off);
}

static int flushdev_pwrite(SsBlockDev *dev, const void *buf, size_t len, uint64_t off)
{
        return ss_dev_pwrite(((FlushDev *)dev)->media, buf, len, off);
}

static int flushdev_flush(SsBlockDev *dev)
{
        FlushDev *f = (FlushDev *)dev;
        WorkRun *run = f->run;

        if (++run->flushes == run->cut_flush)
                fault_domain_power_off(run->dom);
        return ss_dev_flush(f->media);
}

static uint64_t flushdev_size(SsBlockDev *dev)
{
        return ss_dev_size(((FlushDev *)dev)->media);
}

static void flushdev_close(SsBlockDev *dev)
{
        free(dev);
}

static const SsBlockDevOps flushdev_ops = {
        .pread = flushdev_pread,
        .pwrite = flushdev_pwrite,
        .flush = flushdev_flush,
        .size = flushdev_size,
        .close = flushdev_close,
};

static SsBlockDev *flushdev_new(WorkRun *run, SsBlockDev *media)
{
        FlushDev *f = xcalloc(1, sizeof(*f));

        f->dev.ops = &flushdev_ops;
        f->dev.name = media->name;
        f->media = media;
        f->run = run;
        return &f->dev;
}

void work_cut_at_flush(WorkRun *run, uint64_t n)
{
        run->cut_flush = n ? run->flushes + n : 0;
}

/* The snapshot the store-full policy must delete next from m: the
 * lowest-priority, oldest unpinned one other than keep; 0 if none. */
static uint32_t next_victim(const Model *m, uint32_t keep)
{
        const ModelSnap *best = NULL;

        for (size_t i = 0; i < m->nsnaps; i++) {
                const ModelSnap *sn = &m->snaps[i];

                if ((sn->flags & SS_SNAP_PINNED) || sn->id == keep)
                        continue;
                if (!best || sn->priority < best->priority)
                        best = sn;
        }
        return best ? best->id : 0;
}

static void work_on_autodelete(void *user, uint32_t id, const char *name)
{
        WorkRun *run = user;
        Model *m = model_clone(run->m);

        for (size_t i = 0; i < run->nvictims; i++)
                if (model_snap(m, run->victims[i]))
                        model_snapshot_delete(m, run->victims[i]);
        uint32_t want = next_victim(m, run->keep);
        if (id != want && !run->bad_victim[0])
                snprintf(run->bad_victim, sizeof(run->bad_victim),
                         "autodelete deleted snapshot %u '%s', the policy picks %u", id, name,
                         want);
        if (run->nvictims < WORK_MAX_SNAPS)
                run->victims[run->nvictims++] = id;
        run->autodeleted++;
        model_free(m);
}

static int run_open(WorkRun *run, unsigned flags, char *why, size_t why_len)
{
        SsOpenOptions o = { .flags = flags, .on_autodelete = work_on_autodelete, .user = run };
        int r = ss_store_open(run->origin_dev, run->store_dev, &o, &run->s);

        if (r < 0) {
                run->s = NULL;
                snprintf(why, why_len, "ss_store_open: %s (%s)", strerror(-r), ss_last_error());
        }
        return r;
}

int work_start(WorkRun *run, const Workload *wl, uint64_t data_seed, uint64_t fault_seed, char *why,
               size_t why_len)
{
        Rng r = { data_seed };
        uint8_t *image = xcalloc(1, wl->origin_size);

        memset(run, 0, sizeof(*run));
        run->wl = wl;
        run->data_seed = data_seed;
        for (uint64_t off = 0; off < wl->origin_size; off += 4096) {
                uint64_t n = wl->origin_size - off < 4096 ? wl->origin_size - off : 4096;
                rng_fill(&r, image + off, n);
        }
        run->dom = fault_domain_new(fault_seed);
        run->origin = faultdev_new_from(run->dom, "origin", image, wl->origin_size);
        run->store = faultdev_new(run->dom, "store", wl->store_size);
        if (!run->dom || !run->origin || !run->store) {
                free(image);
                snprintf(why, why_len, "cannot create the memory devices");
                return -ENOMEM;
        }
        run->origin_dev = flushdev_new(run, run->origin);
        run->store_dev = flushdev_new(run, run->store);
        SsCreateOptions co = {
                .volume_name = "crash-vol",
                .chunk_size = wl->chunk_size,
                .full_policy = wl->policy,
        };
        int e = ss_store_create(run->origin_dev, run->store_dev, &co);
        if (e < 0) {
                free(image);
                snprintf(why, why_len, "ss_store_create: %s (%s)", strerror(-e), ss_last_error());
                return e;
        }
        run->m = model_new(wl->chunk_size, image, wl->origin_size);
        free(image);
        return run_open(run, 0, why, why_len);
}

/* Gives up the split copy-out's plans (before the handle closes). */
static void drop_plans(WorkRun *run)
{
        for (uint32_t k = 0; k < WORK_PLANS; k++) {
                if (run->plans[k] && run->s)
                        ss_copy_plan_drop(run->s, run->plans[k]);
                run->plans[k] = NULL;
                run->planned[k] = run->alone[k] = false;
        }
}

void work_end(WorkRun *run)
{
        drop_plans(run);
        if (run->s)
                ss_store_close(run->s);
        run->s = NULL;
        ss_blockdev_close(run->origin_dev);
        ss_blockdev_close(run->store_dev);
        ss_blockdev_close(run->origin);
        ss_blockdev_close(run->store);
        fault_domain_free(run->dom);
        model_free(run->m);
        memset(run, 0, sizeof(*run));
}

/* Swaps a memory device (and the view of it) for a larger one holding the
 * same contents plus tail (zeros if NULL). */
static void grow_device(WorkRun *run, SsBlockDev **media, SsBlockDev **view, const char *name,
                        uint64_t add, const uint8_t *tail)
{
        uint64_t old = faultdev_size(*media);
        uint8_t *image = xcalloc(1, old + add);

        memcpy(image, faultdev_contents(*media), old);
        if (tail)
                memcpy(image + old, tail, add);
        ss_blockdev_close(*view);
        ss_blockdev_close(*media);
        *media = faultdev_new_from(run->dom, name, image, old + add);
        free(image);
        if (!*media) {
                fprintf(stderr, "FAIL: cannot grow the memory device\n");
                exit(99);
        }
        *view = flushdev_new(run, *media);
}

static int fail_call(int r, const char *call, char *why, size_t why_len)
{
        snprintf(why, why_len, "%s: %s (%s)", call, strerror(-r), ss_last_error());
        return r;
}

/* A batch step: the server's group commit without its threads.  The
 * writers' origin writes go straight to the device, as the server's do, so
 * nothing but the batch's own commit can make their copy-outs durable. */
static int run_batch(WorkRun *run, const Step *st, Rng *rng, Model *after, char *why,
                     size_t why_len)
{
        uint8_t *bufs[WORK_BATCH_MAX] = { NULL };
        uint32_t order[WORK_BATCH_MAX];
        int r;

        for (uint32_t j = 0; j < st->nbatch; j++) {
                bufs[j] = ss_alloc_io_buffer(st->batch[j].length);
                rng_fill(rng, bufs[j], st->batch[j].length);
                model_origin_write(after, bufs[j], st->batch[j].offset, st->batch[j].length);
                order[j] = j;
        }
        for (uint32_t j = st->nbatch; j > 1; j--) {
                uint32_t o = (uint32_t)rng_below(rng, j), t = order[j - 1];
                order[j - 1] = order[o];
                order[o] = t;
        }
        const char *what = "ss_origin_prepare_writes";
        r = ss_origin_prepare_writes(run->s, st->batch, st->nbatch);
        /* As the server: a full store sends each writer alone (its own
         * answer, the full policy); an I/O error fails them all, since it
         * fails the engine. */
        if (r == -ENOSPC) {
                run->batches_alone++;
                what = "ss_origin_prepare_write after a failed batch";
                r = 0;
                for (uint32_t j = 0; j < st->nbatch && r == 0; j++)
                        r = ss_origin_prepare_write(run->s, st->batch[j].offset,
                                                    st->batch[j].length);
        }
        if (r == 0)
                what = "a batch's write to the origin device";
        for (uint32_t j = 0; j < st->nbatch && r == 0; j++) {
                const SsRange *b = &st->batch[order[j]];
                r = ss_dev_pwrite(run->origin_dev, bufs[order[j]], b->length, b->offset);
        }
        if (r == 0) {
                what = "ss_store_flush";
                r = ss_store_flush(run->s);
        }
        for (uint32_t j = 0; j < st->nbatch; j++)
                free(bufs[j]);
        return r < 0 ? fail_call(r, what, why, why_len) : 0;
}

/* ---- the split copy-out's stages ---- */

static int run_plan(WorkRun *run, const Step *st, char *why, size_t why_len)
{
        uint32_t k = st->slot;

        if (k >= WORK_PLANS || run->planned[k]) {
                snprintf(why, why_len, "workload error: plan slot %u taken or out of range", k);
                return 1;
        }
        int r = ss_copy_plan(run->s, st->offset, st->length, &run->plans[k]);
        /* As the group commit: a range another plan holds waits for that
         * plan's apply, then is prepared; a full store sends it alone. */
        if (r == -EAGAIN)
                run->plans_waited++;
        if (r == -EAGAIN || r == -ENOSPC) {
                run->plans[k] = NULL;
                run->alone[k] = true;
                r = 0;
        }
        if (r < 0)
                return fail_call(r, "ss_copy_plan", why, why_len);
        run->planned[k] = true;
        return 0;
}

static int run_plan_io(WorkRun *run, const Step *st, char *why, size_t why_len)
{
        uint32_t k = st->slot;

        if (k >= WORK_PLANS || !run->planned[k]) {
                snprintf(why, why_len, "workload error: plan slot %u is empty", k);
                return 1;
        }
        int r = run->plans[k] ? ss_copy_plan_io(run->s, run->plans[k]) : 0;
        return r < 0 ? fail_call(r, "ss_copy_plan_io", why, why_len) : 0;
}

static int run_apply(WorkRun *run, const Step *st, Rng *rng, Model *after, char *why,
                     size_t why_len)
{
        uint8_t *bufs[WORK_PLANS] = { NULL };
        SsCopyPlan *plans[WORK_PLANS];
        uint32_t order[WORK_PLANS], n = 0;
        const char *what = "ss_copy_plans_apply";
        int r = 0;

        for (uint32_t k = 0; k < WORK_PLANS; k++)
                if (run->planned[k] != (k < st->nbatch)) {
                        snprintf(why, why_len,
                                 "workload error: the apply's ranges are not the "
                                 "planned slots");
                        return 1;
                }
        for (uint32_t k = 0; k < st->nbatch; k++) {
                bufs[k] = ss_alloc_io_buffer(st->batch[k].length);
                rng_fill(rng, bufs[k], st->batch[k].length);
                model_origin_write(after, bufs[k], st->batch[k].offset, st->batch[k].length);
                order[k] = k;
                if (run->plans[k])
                        plans[n++] = run->plans[k];
                else /* nothing to copy when planned, or refused: the late
                      * write prepares again, alone */
                        run->alone[k] = true;
        }
        for (uint32_t j = st->nbatch; j > 1; j--) {
                uint32_t o = (uint32_t)rng_below(rng, j), t = order[j - 1];
                order[j - 1] = order[o];
                order[o] = t;
        }
        if (n)
                r = ss_copy_plans_apply(run->s, plans, n);
        for (uint32_t k = 0; k < st->nbatch; k++) {
                /* As the server: a full store sends each writer alone. */
                if (r == -ENOSPC && run->plans[k])
                        run->alone[k] = true;
                run->plans[k] = NULL;
        }
        if (r == -ENOSPC) {
                run->batches_alone++;
                r = 0;
        }
        for (uint32_t k = 0; k < st->nbatch && r == 0; k++) {
                what = "ss_origin_prepare_write after the apply";
                if (run->alone[k])
                        r = ss_origin_prepare_write(run->s, st->batch[k].offset,
                                                    st->batch[k].length);
        }
        for (uint32_t j = 0; j < st->nbatch && r == 0; j++) {
                const SsRange *b = &st->batch[order[j]];
                what = "an applied range's write to the origin device";
                r = ss_dev_pwrite(run->origin_dev, bufs[order[j]], b->length, b->offset);
        }
        if (r == 0) {
                what = "ss_store_flush";
                r = ss_store_flush(run->s);
        }
        for (uint32_t k = 0; k < st->nbatch; k++)
                free(bufs[k]);
        drop_plans(run);
        return r < 0 ? fail_call(r, what, why, why_len) : 0;
}

uint32_t step_origin_ranges(const Step *st, SsRange *ret_ranges)
{
        switch (st->kind) {
        case STEP_ORIGIN_WRITE:
                ret_ranges[0] = (SsRange){ st->offset, st->length };
                return 1;
        case STEP_ORIGIN_BATCH:
        case STEP_APPLY:
                memcpy(ret_ranges, st->batch, st->nbatch * sizeof(*ret_ranges));
                return st->nbatch;
        default:
                return 0;
        }
}

int work_step(WorkRun *run, size_t i, Model **ret_after, char *why, size_t why_len)
{
        const Step *st = &run->wl->steps[i];
        Model *after = model_clone(run->m);
        Rng rng = { run->data_seed ^ (0x9e3779b97f4a7c15ull * (i + 1)) };
        uint32_t id = st->snap < run->created ? run->ids[st->snap] : 0;
        uint8_t *buf = NULL;
        int r = 0;

        *ret_after = after;
        run->nvictims = 0;
        /* The engine never deletes the snapshot being written, nor the
         * target of a revert. */
        run->keep = st->kind == STEP_SNAP_WRITE || st->kind == STEP_REVERT ? id : 0;
        run->bad_victim[0] = 0;
        if (!run->s)
                return fail_call(-EBADF, "store not open", why, why_len);
        if ((st->kind == STEP_SNAP_WRITE || st->kind == STEP_DELETE || st->kind == STEP_RENAME ||
             st->kind == STEP_PRIORITY || st->kind == STEP_FLAGS || st->kind == STEP_REVERT ||
             (st->kind == STEP_READ && st->snap != WORK_ORIGIN)) &&
            !model_snap(run->m, id)) {
                snprintf(why, why_len, "workload error: step %zu names snapshot #%u, not live", i,
                         st->snap);
                return 1;
        }

        switch (st->kind) {
        case STEP_ORIGIN_WRITE:
        case STEP_SNAP_WRITE:
                buf = ss_alloc_io_buffer(st->length);
                rng_fill(&rng, buf, st->length);
                if (st->kind == STEP_ORIGIN_WRITE) {
                        model_origin_write(after, buf, st->offset, st->length);
                        r = ss_origin_write(run->s, buf, st->offset, st->length);
                        if (r < 0)
                                return free(buf), fail_call(r, "ss_origin_write", why, why_len);
                } else {
                        model_snapshot_write(after, id, buf, st->offset, st->length);
                        r = ss_snapshot_write(run->s, id, buf, st->offset, st->length);
                        if (r < 0)
                                return free(buf), fail_call(r, "ss_snapshot_write", why, why_len);
                }
                free(buf);
                r = ss_store_flush(run->s);
                if (r < 0)
                        return fail_call(r, "ss_store_flush", why, why_len);
                break;
        case STEP_ORIGIN_BATCH:
                r = run_batch(run, st, &rng, after, why, why_len);
                if (r)
                        return r;
                break;
        case STEP_PLAN:
                r = run_plan(run, st, why, why_len);
                if (r)
                        return r;
                break;
        case STEP_PLAN_IO:
                r = run_plan_io(run, st, why, why_len);
                if (r)
                        return r;
                break;
        case STEP_APPLY:
                r = run_apply(run, st, &rng, after, why, why_len);
                if (r)
                        return r;
                break;
        case STEP_CREATE: {
                SsStoreInfo info;
                uint32_t got = 0;

                r = ss_store_info(run->s, &info);
                if (r < 0)
                        return fail_call(r, "ss_store_info", why, why_len);
                model_snapshot_create(after, info.next_id, st->name, st->set, st->priority);
                r = ss_snapshot_create(run->s, st->name, st->set, st->priority, &got);
                if (r < 0)
                        return fail_call(r, "ss_snapshot_create", why, why_len);
                if (got != info.next_id) {
                        snprintf(why, why_len, "ss_snapshot_create gave id %u, next_id was %u", got,
                                 info.next_id);
                        return 1;
                }
                if (run->created >= WORK_MAX_SNAPS) {
                        snprintf(why, why_len, "workload creates too many snapshots");
                        return 1;
                }
                run->ids[run->created++] = got;
                break;
        }
        case STEP_DELETE:
                model_snapshot_delete(after, id);
                r = ss_snapshot_delete(run->s, id);
                if (r < 0)
                        return fail_call(r, "ss_snapshot_delete", why, why_len);
                break;
        case STEP_CLEANUP:
                r = ss_cleanup_step(run->s, st->budget);
                if (r < 0)
                        return fail_call(r, "ss_cleanup_step", why, why_len);
                break;
        case STEP_RENAME:
                model_snapshot_rename(after, id, st->name);
                r = ss_snapshot_rename(run->s, id, st->name);
                if (r < 0)
                        return fail_call(r, "ss_snapshot_rename", why, why_len);
                break;
        case STEP_PRIORITY:
                model_snap(after, id)->priority = st->priority;
                r = ss_snapshot_set_priority(run->s, id, st->priority);
                if (r < 0)
                        return fail_call(r, "ss_snapshot_set_priority", why, why_len);
                break;
        case STEP_FLAGS: {
                ModelSnap *sn = model_snap(after, id);
                sn->flags = (sn->flags | st->set) & ~st->clear;
                r = ss_snapshot_set_flags(run->s, id, st->set, st->clear);
                if (r < 0)
                        return fail_call(r, "ss_snapshot_set_flags", why, why_len);
                break;
        }
        case STEP_REVERT:
                model_revert(after, id);
                r = ss_revert_origin(run->s, id);
                if (r < 0)
                        return fail_call(r, "ss_revert_origin", why, why_len);
                break;
        case STEP_REOPEN:
                r = ss_store_close(run->s);
                run->s = NULL;
                if (r < 0)
                        return fail_call(r, "ss_store_close", why, why_len);
                r = run_open(run, 0, why, why_len);
                if (r < 0)
                        return r;
                break;
        case STEP_STORE_GROW:
        case STEP_ORIGIN_GROW: {
                bool store = st->kind == STEP_STORE_GROW;
                uint8_t *tail = NULL;

                r = ss_store_close(run->s);
                run->s = NULL;
                if (r < 0)
                        return fail_call(r, "ss_store_close", why, why_len);
                if (store) {
                        grow_device(run, &run->store, &run->store_dev, "store", st->length, NULL);
                } else {
                        tail = xcalloc(1, st->length);
                        rng_fill(&rng, tail, st->length);
                        model_origin_grow(after, after->origin.size + st->length, tail);
                        grow_device(run, &run->origin, &run->origin_dev, "origin", st->length,
                                    tail);
                        free(tail);
                }
                /* A grown origin is taken at open; the store grows online. */
                r = run_open(run, store ? 0 : SS_OPEN_GROW_ORIGIN, why, why_len);
                if (r < 0)
                        return r;
                if (store) {
                        r = ss_store_grow(run->s, faultdev_size(run->store));
                        if (r < 0)
                                return fail_call(r, "ss_store_grow", why, why_len);
                }
                break;
        }
        case STEP_READ: {
                uint32_t rid = st->snap == WORK_ORIGIN ? SS_ORIGIN_ID : id;
                r = model_verify_image(run->s, run->m, rid, why, why_len);
                if (r)
                        return r;
                break;
        }
        }
        if (run->bad_victim[0]) {
                snprintf(why, why_len, "%s", run->bad_victim);
                return 1;
        }
        for (size_t v = 0; v < run->nvictims; v++)
                if (model_snap(after, run->victims[v]))
                        model_snapshot_delete(after, run->victims[v]);
        model_free(run->m);
        run->m = model_clone(after);
        return 0;
}

int work_reopen(WorkRun *run, char *why, size_t why_len)
{
        SsStoreInfo info;
        uint64_t done = 0;
        int r;

        drop_plans(run);
        if (run->s)
                ss_store_close(run->s);
        run->s = NULL;
        r = run_open(run, 0, why, why_len);
        /* An origin grow was interrupted after the device grew: the
         * administrator finishes it by accepting the new size. */
        if (r == -EINVAL && faultdev_size(run->origin) > run->m->origin.size)
                r = run_open(run, SS_OPEN_GROW_ORIGIN, why, why_len);
        if (r < 0)
                return r;
        r = ss_store_info(run->s, &info);
        if (r < 0)
                return fail_call(r, "ss_store_info", why, why_len);
        if (info.revert_target) {
                while ((r = ss_revert_step(run->s, 4, &done)) == 1)
                        ;
                if (r < 0)
                        return fail_call(r, "ss_revert_step (finishing a revert)", why, why_len);
        }
        r = ss_check(run->s, NULL, NULL);
        if (r != 0) {
                snprintf(why, why_len, "ss_check found %d problem(s) (%s)", r, ss_last_error());
                return r < 0 ? r : 1;
        }
        return 0;
}

/* Every image except `skip` equals the model; then the meta data. */
static int verify_except(SsStore *s, Model *m, uint32_t skip, char *why, size_t why_len)
{
        int r = model_verify(s, m, MV_META, why, why_len);

        if (r)
                return r;
        if (skip != SS_ORIGIN_ID) {
                r = model_verify_image(s, m, SS_ORIGIN_ID, why, why_len);
                if (r)
                        return r;
        }
        for (size_t i = 0; i < m->nsnaps; i++) {
                if (m->snaps[i].id == skip)
                        continue;
                r = model_verify_image(s, m, m->snaps[i].id, why, why_len);
                if (r)
                        return r;
        }
        return 0;
}

/* The states the store may be in after step i failed: before it, before
 * it less the first k snapshots the store-full policy deleted (and the one
 * it would have deleted next), and after it.  Returns how many. */
static size_t candidate_states(WorkRun *run, const Model *before, const Model *after, Model **out,
                               size_t max)
{
        size_t n = 0;
        Model *m = model_clone(before);

        out[n++] = model_clone(before);
        for (size_t v = 0; v < run->nvictims && n + 3 < max; v++) {
                if (model_snap(m, run->victims[v]))
                        model_snapshot_delete(m, run->victims[v]);
                out[n++] = model_clone(m);
        }
        if (run->wl->policy == SS_FULL_AUTODELETE && n + 2 < max) {
                uint32_t next = next_victim(m, run->keep);
                if (next) {
                        Model *x = model_clone(m);
                        model_snapshot_delete(x, next);
                        out[n++] = x;
                }
        }
        model_free(m);
        m = model_clone(after);
        for (size_t v = 0; v < run->nvictims; v++)
                if (model_snap(m, run->victims[v]))
                        model_snapshot_delete(m, run->victims[v]);
        out[n++] = m;
        return n;
}

int work_compare(WorkRun *run, size_t i, const Model *before, const Model *after, char *why,
                 size_t why_len)
{
        const Step *st = &run->wl->steps[i];
        bool write = st->kind == STEP_ORIGIN_WRITE || st->kind == STEP_SNAP_WRITE ||
                     st->kind == STEP_ORIGIN_BATCH || st->kind == STEP_APPLY;
        uint32_t target = st->kind == STEP_SNAP_WRITE ? run->ids[st->snap] : SS_ORIGIN_ID;
        Model *cand[WORK_MAX_SNAPS + 4];
        size_t n = candidate_states(run, before, after, cand, WORK_MAX_SNAPS + 4);
        char first[600] = "", last[600] = "";
        int r = 1;

        for (size_t c = 0; c < n && r; c++) {
                char *w = c == 0 ? first : last;
                size_t wl = c == 0 ? sizeof(first) : sizeof(last);

                if (!write) {
                        r = model_verify(run->s, cand[c], MV_ALL, w, wl);
                } else {
                        /* Everything but the written image exactly; that
                         * one sector by sector, old or new. */
                        Model *a = model_clone(after);
                        r = verify_except(run->s, cand[c], target, w, wl);
                        if (!r)
                                r = model_verify_sectors(run->s, target, before, a, w, wl);
                        if (!r && model_verify(run->s, cand[c], MV_USAGE, w, wl)) {
                                /* private chunk counts: old or new */
                                Model *u = model_clone(cand[c]);
                                ModelSnap *su = model_snap(u, target), *sa = model_snap(a, target);
                                if (su && sa) {
                                        su->written_count = sa->written_count;
                                        memcpy(su->written, sa->written, su->image.nchunks / 8 + 1);
                                }
                                r = model_verify(run->s, u, MV_USAGE, w, wl);
                                model_free(u);
                        }
                        model_free(a);
                }
                if (!r) {
                        model_free(run->m);
                        run->m = cand[c];
                        cand[c] = NULL;
                }
        }
        if (r)
                snprintf(why, why_len,
                         "the store matches none of the %zu states the step may leave: not the "
                         "state before it (%s), nor after it (%s)",
                         n, first, last);
        for (size_t c = 0; c < n; c++)
                model_free(cand[c]);
        return r;
}

/* Reads a whole image into a new buffer. */
static int read_image(SsStore *s, uint32_t id, uint64_t size, uint8_t **ret)
{
        uint8_t *buf = ss_alloc_io_buffer(size ? size : 512);
        int r = store_image_read(s, id, buf, 0, size);

        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        return 0;
}

static bool was_victim(const WorkRun *run, uint32_t id)
{
        for (size_t i = 0; i < run->nvictims; i++)
                if (run->victims[i] == id)
                        return true;
        return false;
}

int work_afterlife(WorkRun *run, char *why, size_t why_len)
{
        SsStore *s = run->s;
        SsSnapshotInfo si;
        SsStoreInfo info;
        uint32_t ids[WORK_MAX_SNAPS + 1], id;
        uint8_t *images[WORK_MAX_SNAPS + 1] = { NULL };
        uint64_t sizes[WORK_MAX_SNAPS + 1];
        size_t n = 0;
        uint8_t *old_origin = NULL, *fresh = NULL, *back = NULL;
        Rng rng = { run->data_seed ^ 0xaf7e71feull };
        int r, ret = 1;

        r = ss_store_info(s, &info);
        if (r < 0)
                return fail_call(r, "ss_store_info", why, why_len);
        uint64_t osize = info.origin_size;
        for (uint32_t after = 0; n < WORK_MAX_SNAPS && ss_snapshot_next(s, after, &si) == 0;
             after = si.id) {
                ids[n] = si.id;
                sizes[n] = si.origin_size;
                r = read_image(s, si.id, si.origin_size, &images[n]);
                n++;
                if (r < 0) {
                        fail_call(r, "ss_snapshot_read (after recovery)", why, why_len);
                        goto out;
                }
        }
        r = read_image(s, SS_ORIGIN_ID, osize, &old_origin);
        if (r < 0) {
                fail_call(r, "ss_origin_read (after recovery)", why, why_len);
                goto out;
        }
        run->nvictims = 0;
        run->keep = 0;
        r = ss_snapshot_create(s, "afterlife", 0, 0, &id);
        if (r < 0) {
                fail_call(r, "ss_snapshot_create (after recovery)", why, why_len);
                goto out;
        }
        fresh = ss_alloc_io_buffer(osize);
        rng_fill(&rng, fresh, osize);
        r = ss_origin_write(s, fresh, 0, osize);
        if (r < 0) {
                fail_call(r, "ss_origin_write (after recovery)", why, why_len);
                goto out;
        }
        r = was_victim(run, id) ? 0 : read_image(s, id, osize, &back);
        if (r < 0) {
                fail_call(r, "ss_snapshot_read (after recovery)", why, why_len);
                goto out;
        }
        if (back && memcmp(back, old_origin, osize)) {
                snprintf(why, why_len, "after recovery, a new snapshot does not keep the origin");
                goto out;
        }
        free(back);
        back = NULL;
        r = read_image(s, SS_ORIGIN_ID, osize, &back);
        if (r < 0 || memcmp(back, fresh, osize)) {
                snprintf(why, why_len, "after recovery, the origin does not read back");
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                if (was_victim(run, ids[i]))
                        continue;
                free(back);
                back = NULL;
                r = read_image(s, ids[i], sizes[i], &back);
                if (r < 0 || memcmp(back, images[i], sizes[i])) {
                        snprintf(why, why_len,
                                 "after recovery, snapshot %u changed when the origin was "
                                 "overwritten",
                                 ids[i]);
                        goto out;
                }
        }
        ids[n++] = id;
        for (size_t i = 0; i < n; i++) {
                if (was_victim(run, ids[i]))
                        continue;
                r = ss_snapshot_delete(s, ids[i]);
                if (r < 0) {
                        fail_call(r, "ss_snapshot_delete (after recovery)", why, why_len);
                        goto out;
                }
        }
        while ((r = ss_cleanup_step(s, 1000)) == 1)
                ;
        if (r < 0) {
                fail_call(r, "ss_cleanup_step (after recovery)", why, why_len);
                goto out;
        }
        r = ss_store_info(s, &info);
        if (r < 0 || info.data_bytes || info.shared_exceptions || info.private_exceptions ||
            info.snapshot_count) {
                snprintf(why, why_len,
                         "after recovery, deleting everything leaves %" PRIu64
                         " data bytes, %" PRIu64 " shared and %" PRIu64
                         " private exceptions, %u snapshots",
                         info.data_bytes, info.shared_exceptions, info.private_exceptions,
                         info.snapshot_count);
                goto out;
        }
        r = ss_check(s, NULL, NULL);
        if (r != 0) {
                snprintf(why, why_len, "after recovery and more use, ss_check found %d problem(s)",
                         r);
                goto out;
        }
        ret = 0;
out:
        for (size_t i = 0; i < n; i++)
                free(images[i]);
        free(old_origin);
        free(fresh);
        free(back);
        return ret;
}

/* ---- the driver shared by the crash tests ---- */

int work_count(const Workload *wl, uint64_t data_seed, bool verify_end, WorkCount *ret_count,
               size_t *fail_step, const char **fail_what, char *why, size_t why_len)
{
        WorkRun run;
        WorkCount count;
        Model *after;
        int r = 0;

        *fail_step = SIZE_MAX;
        *fail_what = "setup";
        if (work_start(&run, wl, data_seed, 1, why, why_len))
                return 1;
        uint64_t w0 = fault_domain_writes(run.dom), f0 = run.flushes;
        uint64_t ops0 = fault_domain_ops(run.dom);
        for (size_t i = 0; i < wl->nsteps && !r; i++) {
                r = work_step(&run, i, &after, why, why_len);
                model_free(after);
                if (r) {
                        *fail_step = i;
                        *fail_what = "without faults";
                }
        }
        count.writes = fault_domain_writes(run.dom) - w0;
        count.flushes = run.flushes - f0;
        count.ops = fault_domain_ops(run.dom) - ops0;
        count.autodeleted = run.autodeleted;
        if (!r && verify_end) {
                r = model_verify(run.s, run.m, MV_ALL, why, why_len);
                if (r) {
                        *fail_what = "final state without faults";
                } else if (ss_check(run.s, NULL, NULL)) {
                        *fail_what = "ss_check without faults";
                        snprintf(why, why_len, "problems found");
                        r = 1;
                }
        }
        work_end(&run);
        if (r)
                return 1;
        *ret_count = count;
        return 0;
}

void work_fail(const WorkDriver *d, const Workload *wl, uint64_t n, const char *fault, size_t step,
               const char *what, const char *why)
{
        char desc[200] = "no step";

        if (step < wl->nsteps)
                step_describe(wl, step, desc, sizeof(desc));
        fflush(stdout);
        fprintf(stderr,
                "FAIL: seed=%" PRIu64 " workload=%s %s, during %s: %s: %s\n"
                "reproduce: %s --seed %" PRIu64 " --only %s --at %" PRIu64 "\n",
                d->args->seed, wl->name, fault, desc, what, why, d->prog, d->args->seed, wl->name,
                n);
        exit(1);
}

static uint64_t drive_workload(const WorkDriver *d, const Workload *wl, uint64_t data_seed)
{
        WorkTally tally = { .counts = "" };
        struct timespec t0, t1;

        if (d->args->only && strcmp(d->args->only, wl->name))
                return 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        d->run_cases(wl, data_seed, &tally);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%-10s %3zu steps, %s, %2" PRIu64 " autodeleted: ok in %.2f s\n", wl->name,
               wl->nsteps, tally.counts, tally.autodeleted,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        fflush(stdout);
        return tally.cases;
}

void work_drive(const WorkDriver *d)
{
        uint64_t seed = d->args->seed, cases = 0;

        for (size_t i = 0; work_builtin(i); i++)
                cases += drive_workload(d, work_builtin(i), seed_mix(seed, i));
        for (uint64_t k = 0; k < 2; k++) {
                Workload *wl = work_random(k ? "random1" : "random0",
                                           seed_mix(seed, d->random_shape + k), d->random_steps);
                cases += drive_workload(d, wl, seed_mix(seed, d->random_data + k));
                work_free(wl);
        }
        printf("ok: %" PRIu64 " %s\n", cases, d->cases_name);
}
