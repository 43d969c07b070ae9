/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of zuma-bench: clocks, progress on stderr, one JSON object per
 * metric on stdout, a seeded generator, the environment knobs, and the
 * devices the benchmark runs on (sparse files, or loop devices over them).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapstore.h"

#define MIB (1024u * 1024u)

double now_sec(void); /* CLOCK_MONOTONIC, seconds */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints {"metric", "value", "unit", "baseline", "note"} on one line.  A NaN
 * value or baseline prints as null. */
void emit(const char *metric, double value, const char *unit, double baseline, const char *note);

uint64_t rng_next(uint64_t *state);              /* splitmix64 */
uint64_t rng_below(uint64_t *state, uint64_t n); /* uniform in [0, n) */

bool env_flag(const char *name);
uint64_t env_u64(const char *name, uint64_t def);

/* Writes back dirty pages and drops the page cache (needs root; failure is
 * ignored: every device here is opened with O_DIRECT anyway). */
void drop_caches(void);

/* Where the benchmark keeps its files, and how devices are made. */
typedef struct BenchEnv {
        char dir[256];         /* private directory, removed at exit */
        bool use_loop;         /* loop devices over the files */
        bool keep;             /* leave the files behind */
        bool prealloc;         /* write every store file once before use */
        bool direct;           /* the file system accepts O_DIRECT */
        char device_note[512]; /* what the results were measured on */
} BenchEnv;

/* A sparse backing file, seen directly or through a loop device. */
typedef struct BenchVol {
        char file[320];
        char path[320]; /* what SsBlockDev opens: the file or /dev/loopN */
        int loop_nr;    /* -1 without a loop device */
        uint64_t size;
} BenchVol;

int bench_env_init(BenchEnv *env);
void bench_env_cleanup(BenchEnv *env);
/* A sparse file of size bytes; with prealloc, written through with zeros
 * first so the file system allocates nothing during the measurement. */
int vol_create(BenchEnv *env, const char *name, uint64_t size, bool prealloc, BenchVol *ret_vol);
int vol_open(const BenchVol *vol, SsBlockDev **ret_dev);
void vol_destroy(BenchEnv *env, BenchVol *vol);
