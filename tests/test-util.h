/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by test-model, test-powercut and test-fault: a seeded PRNG
 * (every random test prints its seed and accepts one), the command line the
 * three programs share, and an allocator that ends the test on ENOMEM.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* A seed derived from two numbers (a run's seed and a case number), so each
 * case gets its own stream while the whole run replays from one seed. */
static inline uint64_t seed_mix(uint64_t a, uint64_t b)
{
        Rng r = { a * 0x9e3779b97f4a7c15ull ^ b };
        return rng_u64(&r);
}

/* calloc that never returns NULL: on ENOMEM the test fails with exit 99. */
void *xcalloc(size_t n, size_t size);

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
