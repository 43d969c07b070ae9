/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An in-memory model of one volume, for the randomised model test and the
 * crash tests: the origin image plus the full image and metadata of every
 * live snapshot, kept in the plainest possible way so that it is obviously
 * right.  The store under test is compared against it.
 *
 * Images are arrays of chunk buffers shared copy-on-write between images
 * (a snapshot create only copies pointers), so hundreds of snapshots cost
 * little memory and two images can be compared chunk by chunk, mostly by
 * pointer.  A NULL chunk reads as zeros.  Bytes of a chunk buffer beyond the
 * image size are always zero.
 *
 * Also here: a seeded PRNG (every random test prints its seed and accepts
 * one), the command line shared by the three programs, and the scripted
 * workloads that test-powercut and test-fault interrupt (a second job; it
 * would move to its own workload.{c,h} if this file grows further).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapstore.h"

/* ---- deterministic randomness (splitmix64) ---- */

typedef struct Rng {
        uint64_t state;
} Rng;

static inline uint64_t rng_u64(Rng *r)
{
        uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n is 0. */
static inline uint64_t rng_below(Rng *r, uint64_t n)
{
        return n ? rng_u64(r) % n : 0;
}

/* Uniform in [lo, hi]. */
static inline uint64_t rng_range(Rng *r, uint64_t lo, uint64_t hi)
{
        return lo + rng_below(r, hi - lo + 1);
}

static inline bool rng_percent(Rng *r, unsigned percent)
{
        return rng_below(r, 100) < percent;
}

/* Fills buf with a pattern chosen at random: random bytes mostly, sometimes
 * zeros or one repeated byte (zero chunks are a classic special case). */
void rng_fill(Rng *r, void *buf, size_t len);

/* ---- command line ---- */

typedef struct TestArgs {
        uint64_t seed;
        uint64_t ops;     /* --ops N, 0 if not given */
        uint64_t every;   /* --every K, 1 if not given */
        uint64_t at;      /* --at N: only this write/op number (crash tests), 0 = all */
        const char *only; /* --only NAME: only this workload (crash tests) */
        bool verbose;     /* -v */
} TestArgs;

/* Parses --seed N (or $ZUMA_SEED; else a fresh one), --ops N, --every K,
 * --at N, --only NAME and -v; prints "seed=N" and exits with a usage
 * message on bad arguments. */
void test_args_parse(int argc, char **argv, TestArgs *ret_args);

/* ---- the model ---- */

typedef struct ModelChunk {
        uint32_t refs;
        uint8_t data[];
} ModelChunk;

typedef struct ModelImage {
        uint32_t chunk_size;
        uint64_t size; /* bytes, multiple of 512 */
        uint64_t nchunks;
        ModelChunk **chunks; /* NULL entries read as zeros */
} ModelImage;

typedef struct ModelSnap {
        uint32_t id;
        uint32_t flags; /* SS_SNAP_* */
        int32_t priority;
        int64_t ctime; /* as first read back from the store; 0 = not seen yet */
        char name[SS_NAME_MAX + 1];
        ModelImage image;
        uint8_t *written; /* bit per chunk written through ss_snapshot_write */
        uint64_t written_count;
} ModelSnap;

typedef struct Model {
        uint32_t chunk_size;
        ModelImage origin;
        ModelSnap *snaps; /* ascending id */
        size_t nsnaps, cap;
} Model;

/* A model of a fresh store whose origin holds `image` (size bytes; NULL =
 * zeros).  NULL on ENOMEM. */
Model *model_new(uint32_t chunk_size, const void *image, uint64_t size);
/* A deep copy sharing chunk buffers (cheap). */
Model *model_clone(const Model *m);
void model_free(Model *m);

ModelSnap *model_snap(const Model *m, uint32_t id);
ModelSnap *model_snap_by_name(const Model *m, const char *name);
/* The image of snapshot id, or the origin for SS_ORIGIN_ID; NULL if none. */
const ModelImage *model_image(const Model *m, uint32_t id);
uint32_t model_last_id(const Model *m); /* highest live id, 0 if none */

void model_origin_write(Model *m, const void *buf, uint64_t offset, uint64_t length);
/* The device grew: bytes [origin.size, new_size) of the origin now hold tail. */
void model_origin_grow(Model *m, uint64_t new_size, const void *tail);
void model_snapshot_create(Model *m, uint32_t id, const char *name, uint32_t flags,
                           int32_t priority);
void model_snapshot_delete(Model *m, uint32_t id);
void model_snapshot_rename(Model *m, uint32_t id, const char *name);
void model_snapshot_write(Model *m, uint32_t id, const void *buf, uint64_t offset, uint64_t length);
/* The origin becomes snapshot id's image; where the origin is larger (it
 * grew since), the bytes past the snapshot's image stay as they are. */
void model_revert(Model *m, uint32_t id);

/* Copies [offset, offset + length) of an image into buf. */
void model_read(const ModelImage *img, void *buf, uint64_t offset, uint64_t length);
/* Whether chunk c differs between two images (a missing part reads as
 * zeros, only bytes inside the smaller image are compared, and a chunk that
 * one image has and the other lacks differs). */
bool model_chunk_differs(const ModelImage *a, const ModelImage *b, uint64_t chunk);
/* Whether two models describe the same snapshots (ids, names, flags,
 * priorities, images) and the same origin. */
bool model_equal(const Model *a, const Model *b);

/* ---- comparing a store with the model ---- */

enum {
        MV_META = 1u << 0,   /* snapshot list, get, find, store info */
        MV_ORIGIN = 1u << 1, /* the whole origin image */
        MV_SNAPS = 1u << 2,  /* every snapshot image */
        MV_USAGE = 1u << 3,  /* private chunk counts */
        MV_ALL = MV_META | MV_ORIGIN | MV_SNAPS | MV_USAGE,
};

/* Compares the store with the model.  Returns 0 when they agree, 1 on a
 * difference, -errno when a store call failed; on anything but 0, why gets
 * a sentence naming what differed (snapshot, byte offset, values).  Learns
 * ctimes it has not seen yet into m. */
int model_verify(SsStore *s, Model *m, unsigned what, char *why, size_t why_len);
/* The same for chunk `chunk` of one image (id SS_ORIGIN_ID: the origin). */
int model_verify_chunk(SsStore *s, const Model *m, uint32_t id, uint64_t chunk, char *why,
                       size_t why_len);
/* Image id (SS_ORIGIN_ID: the origin) after an interrupted write to it:
 * every 512-byte sector must equal that sector in `before` or in `after`. */
int model_verify_sectors(SsStore *s, uint32_t id, const Model *before, const Model *after,
                         char *why, size_t why_len);

/* ---- scripted workloads, for the crash and fault tests ----
 *
 * A workload is a list of steps run against a fresh store on memory devices
 * (tests/faultdev.h).  Before each step the expected state after it is
 * computed from the model, so a test that interrupts a step knows both
 * states the store may legitimately be in afterwards. */

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
} StepKind;

#define WORK_ORIGIN UINT32_MAX /* STEP_READ of the origin */
#define WORK_MAX_SNAPS 256

typedef struct Step {
        StepKind kind;
        uint32_t snap;           /* snapshot by creation order, 0 = the first created */
        uint64_t offset, length; /* bytes: writes; grows: bytes added */
        uint32_t set, clear;     /* create: flags (set); set_flags */
        int32_t priority;
        unsigned budget;  /* cleanup */
        const char *name; /* create, rename */
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
        uint32_t keep;        /* snapshot the current step writes: never a victim */
        char bad_victim[200]; /* set when a victim broke the policy's order */
        uint64_t autodeleted; /* victims since work_start */
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
