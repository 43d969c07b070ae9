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

/* Writes the whole origin in SEQ_IO requests, through the store when s is
 * not NULL, else raw, then flushes. */
int write_seq(Bench *b, SsStore *s, double *ret_sec);
/* Writes len bytes at each of offs[0..n), then flushes. */
int write_at(Bench *b, SsStore *s, const uint64_t *offs, uint64_t n, size_t len, double *ret_sec);
/* Reads the whole origin (snap 0) or snapshot snap in SEQ_IO requests and
 * checks each block against expect[]. */
int read_seq(Bench *b, SsStore *s, uint32_t snap, const uint32_t *expect, double *ret_sec,
             uint64_t *ret_bad);

/* One churn round's writes: `chunks` chunk writes in runs of 1..CHURN_RUN_MAX
 * chunks at random chunk-aligned places. */
int churn_writes(Bench *b, SsStore *s, uint64_t chunks);

static inline double mib_per_sec(uint64_t bytes, double sec)
{
        return sec > 0 ? (double)bytes / MIB / sec : 0;
}
