/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The workloads of zuma-bench and the state they share.
 *
 * Every 4 KiB block the benchmark writes carries a stamp (its offset and a
 * generation number), and the benchmark remembers the generation of every
 * block of the origin.  Reads of the origin and of snapshots are checked
 * against that record, so a benchmark run also tells when the engine
 * returned wrong data; that is reported, never asserted on timing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bench-util.h"
#include "snapstore.h"

#define STAMP_BLOCK 4096u
#define SEQ_IO (1u * MIB) /* sequential passes: 1 MiB requests */
#define CHURN_RUN_MAX 8u  /* churn writes cover 1..8 whole chunks */

typedef struct Config {
        bool quick;
        uint64_t origin_size;
        uint32_t chunk_size;
        uint64_t store_size;
        uint32_t many_snapshots; /* the "10,000" */
        uint32_t mid_snapshots;  /* the "100" */
        uint32_t create_samples; /* creates averaged for the create-time metrics */
        uint64_t rand_ops;       /* random 4 KiB writes, one per distinct chunk */
        uint64_t churn_chunks;   /* chunk writes of each churn workload */
        uint64_t seed;
} Config;

typedef struct Origin {
        uint64_t size;
        uint64_t blocks; /* STAMP_BLOCK blocks */
        uint32_t *gen;   /* current generation of each block */
        uint32_t next_gen;
} Origin;

typedef struct Bench {
        Config cfg;
        BenchEnv env;
        Origin origin;
        BenchVol origin_vol;
        SsBlockDev *raw; /* the origin, for the raw baseline (never while a store writes it) */
        uint8_t *buf;    /* SEQ_IO bytes, aligned */
        uint64_t rng;
        int failures;
        uint64_t bad_blocks; /* stamp mismatches seen in reads */
} Bench;

/* A store on its own sparse file, over the shared origin. */
typedef struct StoreRun {
        BenchVol vol;
        SsBlockDev *odev, *sdev;
        SsStore *store;
} StoreRun;

/* Reports a failed engine call on stderr and returns r. */
int fail(Bench *b, int r, const char *what);

int store_run_create(Bench *b, const char *name, StoreRun *ret_run);
int store_run_open(Bench *b, StoreRun *run, double *ret_open_sec);
void store_run_close(StoreRun *run); /* handle and devices, keeps the file */
void store_run_destroy(Bench *b, StoreRun *run);

/* Stamps [off, off + len) of buf as a new generation, and records it. */
void stamp(Origin *o, void *buf, uint64_t off, size_t len);
/* Blocks of buf (read at off) whose stamp differs from gen[]. */
uint64_t verify(const uint32_t *gen, const void *buf, uint64_t off, size_t len);

/* One way of writing the origin: raw, or through a store. */
typedef struct Target {
        SsStore *store; /* NULL: the raw origin device */
        double sec;     /* time in this target's writes and final flush */
} Target;

/* The machine's other tenants make device latency drift by 10x within
 * seconds, so measurements that are compared run interleaved: every target
 * takes its turn on each slice (rotating who goes first), and drift hits
 * them alike.  A turn ends with the target's flush: a flush empties the
 * device's whole write cache, so without it one target would pay for the
 * other's writes. */
#define SLICE_BYTES (32u * MIB) /* sequential passes: one turn per slice */
#define RAND_TURN 128u          /* random writes: one turn per 128 writes */

/* Writes the whole origin in SEQ_IO requests through every target, one
 * slice and one flush per turn; adds each target's time to its sec. */
int write_seq_interleaved(Bench *b, Target *t, unsigned n);
int write_seq(Bench *b, SsStore *s, double *ret_sec); /* one target */
/* Writes len bytes at offs[0..count) through every target, RAND_TURN
 * writes and one flush per turn. */
int write_at_interleaved(Bench *b, Target *t, unsigned n, const uint64_t *offs, uint64_t count,
                         size_t len);
/* Reads the whole origin and the whole of snapshot snap in SEQ_IO requests,
 * interleaved by slice, and checks every block against b->origin.gen and
 * snap_gen. */
int read_seq_pair(Bench *b, SsStore *s, uint32_t snap, const uint32_t *snap_gen, double *ret_osec,
                  double *ret_ssec, uint64_t *ret_obad, uint64_t *ret_sbad);

/* One churn round's writes: `chunks` chunk writes in runs of 1..CHURN_RUN_MAX
 * chunks at random chunk-aligned places. */
int churn_writes(Bench *b, SsStore *s, uint64_t chunks);

#define NOTE_MAX 2048 /* bytes of a metric's note */

/* zuma-bench.c: a metric that could not be measured. */
void emit_failed(const char *metric, const char *unit, const char *what);
/* n offsets of STAMP_BLOCK blocks, each in its own random chunk. */
uint64_t *random_chunk_offsets(Bench *b, uint64_t n);
/* writers.c: the writers phase (several writer threads). */
void phase_writers(Bench *b);

static inline double mib_per_sec(uint64_t bytes, double sec)
{
        return sec > 0 ? (double)bytes / MIB / sec : 0;
}
