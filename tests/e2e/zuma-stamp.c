/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-stamp: durable-write witness for the crash tests.
 *
 *     zuma-stamp write DEVICE LOG SEED BLOCKS [SECONDS]
 *     zuma-stamp verify DEVICE LOG
 *
 * `write` writes 4 KiB blocks at pseudo-random block numbers below BLOCKS
 * (from SEED) with O_DIRECT | O_DSYNC, each carrying a stamp (magic, block
 * number, generation, seed) and filler derived from them, until SECONDS
 * passed (default: until killed or until a write fails).  After each write
 * returns it appends "block generation" to LOG and flushes it, so LOG lists
 * only acknowledged writes: whatever happens to the device's server after
 * that, the write must survive.
 *
 * `verify` reads back every block named in LOG.  For each block, the stamp
 * must be intact and its generation at least the last acknowledged one (a
 * later write may have landed without being acknowledged).  Exit status 0
 * when every acknowledged write is there, 1 otherwise, 2 on usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096u
#define STAMP_MAGIC UINT64_C(0x5a554d4153544d50) /* "ZUMASTMP" */

typedef struct Stamp {
        uint64_t magic;
        uint64_t block;
        uint64_t generation;
        uint64_t seed;
} Stamp;

static uint64_t splitmix(uint64_t *state)
{
        uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static void fill_block(uint8_t *buf, uint64_t block, uint64_t generation, uint64_t seed)
{
        Stamp st = { STAMP_MAGIC, block, generation, seed };
        uint64_t state = block * 31 + generation * 7 + seed;

        memcpy(buf, &st, sizeof(st));
        for (size_t i = sizeof(st); i < BLOCK; i += 8) {
                uint64_t v = splitmix(&state);
                memcpy(buf + i, &v, 8);
        }
}

static bool block_valid(const uint8_t *buf, uint64_t block, Stamp *ret)
{
        static uint8_t expect[BLOCK];
        Stamp st;

        memcpy(&st, buf, sizeof(st));
        if (st.magic != STAMP_MAGIC || st.block != block)
                return false;
        fill_block(expect, st.block, st.generation, st.seed);
        if (memcmp(expect, buf, BLOCK) != 0)
                return false;
        *ret = st;
        return true;
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int do_write(const char *device, const char *log_path, uint64_t seed, uint64_t blocks,
                    double seconds)
{
        uint64_t *generation = calloc(blocks, sizeof(*generation));
        uint64_t state = seed, written = 0;
        double deadline = seconds > 0 ? now() + seconds : 0;
        FILE *log = fopen(log_path, "w");
        void *buf = NULL;
        int fd;

        fd = open(device, O_WRONLY | O_DIRECT | O_DSYNC | O_CLOEXEC);
        if (fd < 0 || !log || !generation || posix_memalign(&buf, BLOCK, BLOCK)) {
                fprintf(stderr, "zuma-stamp: %s: %s\n", fd < 0 ? device : log_path,
                        strerror(errno));
                return 1;
        }
        fprintf(stderr, "zuma-stamp: writing %s, seed %" PRIu64 ", %" PRIu64 " blocks\n", device,
                seed, blocks);
        while (!deadline || now() < deadline) {
                uint64_t block = splitmix(&state) % blocks;
                uint64_t gen = ++generation[block];

                fill_block(buf, block, gen, seed);
                if (pwrite(fd, buf, BLOCK, (off_t)(block * BLOCK)) != (ssize_t)BLOCK) {
                        fprintf(stderr, "zuma-stamp: write of block %" PRIu64 " failed: %s\n",
                                block, strerror(errno));
                        break;
                }
                fprintf(log, "%" PRIu64 " %" PRIu64 "\n", block, gen);
                fflush(log);
                written++;
        }
        fprintf(stderr, "zuma-stamp: %" PRIu64 " writes acknowledged\n", written);
        fclose(log);
        close(fd);
        free(buf);
        free(generation);
        return 0;
}

static int do_verify(const char *device, const char *log_path)
{
        uint64_t block, gen, max_block = 0, checked = 0, bad = 0;
        uint64_t *acked = NULL;
        FILE *log = fopen(log_path, "r");
        void *buf = NULL;
        int fd;

        fd = open(device, O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0 || !log || posix_memalign(&buf, BLOCK, BLOCK)) {
                fprintf(stderr, "zuma-stamp: %s: %s\n", fd < 0 ? device : log_path,
                        strerror(errno));
                return 2;
        }
        while (fscanf(log, "%" SCNu64 " %" SCNu64, &block, &gen) == 2) {
                if (block >= max_block) {
                        uint64_t n = block + 1;
                        uint64_t *grown = realloc(acked, n * sizeof(*acked));

                        if (!grown)
                                return 2;
                        memset(grown + max_block, 0, (n - max_block) * sizeof(*acked));
                        acked = grown;
                        max_block = n;
                }
                if (gen > acked[block])
                        acked[block] = gen;
        }
        for (block = 0; block < max_block; block++) {
                Stamp st;

                if (!acked[block])
                        continue;
                checked++;
                if (pread(fd, buf, BLOCK, (off_t)(block * BLOCK)) != (ssize_t)BLOCK) {
                        fprintf(stderr, "zuma-stamp: read of block %" PRIu64 " failed: %s\n", block,
                                strerror(errno));
                        bad++;
                } else if (!block_valid(buf, block, &st)) {
                        fprintf(stderr,
                                "zuma-stamp: block %" PRIu64 ": no valid stamp (acknowledged "
                                "generation %" PRIu64 " lost)\n",
                                block, acked[block]);
                        bad++;
                } else if (st.generation < acked[block]) {
                        fprintf(stderr,
                                "zuma-stamp: block %" PRIu64 ": generation %" PRIu64 " but %" PRIu64
                                " was acknowledged\n",
                                block, st.generation, acked[block]);
                        bad++;
                }
        }
        printf("zuma-stamp: %" PRIu64 " acknowledged blocks checked, %" PRIu64 " bad\n", checked,
               bad);
        fclose(log);
        close(fd);
        free(buf);
        free(acked);
        return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
        if (argc >= 6 && argc <= 7 && !strcmp(argv[1], "write"))
                return do_write(argv[2], argv[3], strtoull(argv[4], NULL, 0),
                                strtoull(argv[5], NULL, 0), argc == 7 ? atof(argv[6]) : 0);
        if (argc == 4 && !strcmp(argv[1], "verify"))
                return do_verify(argv[2], argv[3]);
        fprintf(stderr, "usage: zuma-stamp write DEVICE LOG SEED BLOCKS [SECONDS]\n"
                        "       zuma-stamp verify DEVICE LOG\n");
        return 2;
}
