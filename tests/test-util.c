/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The PRNG fill, the shared command line and xcalloc; see test-util.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test-util.h"

void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size ? size : 1);

        if (!p) {
                fprintf(stderr, "FAIL: out of memory\n");
                exit(99);
        }
        return p;
}

/* ---- randomness and arguments ---- */

void rng_fill(Rng *r, void *buf, size_t len)
{
        uint8_t *p = buf;
        uint64_t kind = rng_below(r, 100);

        if (kind < 8) {
                memset(p, 0, len);
                return;
        }
        if (kind < 14) {
                memset(p, (int)rng_range(r, 1, 255), len);
                return;
        }
        size_t i = 0;
        for (; i + 8 <= len; i += 8) {
                uint64_t v = rng_u64(r);
                memcpy(p + i, &v, 8);
        }
        for (; i < len; i++)
                p[i] = (uint8_t)rng_u64(r);
}

static uint64_t parse_u64(const char *prog, const char *opt, const char *s)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno || end == s || *end) {
                fprintf(stderr, "%s: %s needs a number, not '%s'\n", prog, opt, s);
                exit(2);
        }
        return v;
}

void test_args_parse(int argc, char **argv, TestArgs *ret_args)
{
        TestArgs a = { .every = 1 };
        bool have_seed = false;
        const char *env = getenv("ZUMA_SEED");

        for (int i = 1; i < argc; i++) {
                const char *opt = argv[i];

                if (!strcmp(opt, "-v") || !strcmp(opt, "--verbose")) {
                        a.verbose = true;
                        continue;
                }
                if (i + 1 < argc && !strcmp(opt, "--only")) {
                        a.only = argv[++i];
                        continue;
                }
                if (i + 1 >= argc || (strcmp(opt, "--seed") && strcmp(opt, "--ops") &&
                                      strcmp(opt, "--every") && strcmp(opt, "--at"))) {
                        fprintf(stderr,
                                "usage: %s [--seed N] [--ops N] [--every K] [--at N] "
                                "[--only NAME] [-v]\n",
                                argv[0]);
                        exit(2);
                }
                uint64_t v = parse_u64(argv[0], opt, argv[++i]);
                if (!strcmp(opt, "--seed")) {
                        a.seed = v;
                        have_seed = true;
                } else if (!strcmp(opt, "--ops")) {
                        a.ops = v;
                } else if (!strcmp(opt, "--at")) {
                        a.at = v;
                } else {
                        a.every = v ? v : 1;
                }
        }
        if (!have_seed && env && *env) {
                a.seed = parse_u64(argv[0], "ZUMA_SEED", env);
                have_seed = true;
        }
        if (!have_seed) {
                struct timespec ts;

                clock_gettime(CLOCK_REALTIME, &ts);
                Rng r = { ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
                          (uint64_t)getpid() << 32 };
                a.seed = rng_u64(&r) % 1000000000000ull;
        }
        printf("seed=%" PRIu64 "\n", a.seed);
        fflush(stdout);
        *ret_args = a;
}
