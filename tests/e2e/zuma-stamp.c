/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-stamp: durable-write witness for the crash tests.
 *
 * `write` writes 4 KiB blocks at pseudo-random block numbers below BLOCKS
 * (from SEED) with O_DIRECT | O_DSYNC.  Each block carries a stamp (magic,
 * block number, generation, seed: four little-endian 64-bit words) and filler
 * derived from them, so that a block is either some write's exact data or
 * visibly wrong.  Generations count the writes to each block from 1.
 *
 * The log is text.  Line 1, written before the first write:
 *
 *     zuma-stamp log: seed SEED blocks BLOCKS
 *
 * then one line "BLOCK GENERATION" per write, appended and flushed after the
 * write returned: the log lists only acknowledged writes, and whatever
 * happens to the device's server after that, those writes must survive.
 * Line numbers count the header, so `wc -l` of a log being written is always
 * a valid LO or HI for verify-range.
 *
 * `verify` checks every block the log names: its stamp is intact, carries
 * the log's seed, and holds at least the last acknowledged generation (a
 * later write may have landed without being acknowledged).
 *
 * `verify-range` checks the whole region [0, BLOCKS) against a window of the
 * log, for an image fixed while the writer ran (a snapshot) or after it
 * stopped, of a region that was all zeroes before the writer started:
 *   - a block written in the first LO lines holds a stamp at least as new as
 *     its last generation there;
 *   - every stamped block is intact, carries the log's seed and is no newer
 *     than its last generation in the first HI lines (0 when not written
 *     there), except at most SLACK blocks exactly one generation newer (a
 *     write in flight whose acknowledgement never came or came too late);
 *   - every other block is all zeroes.
 */
#include <endian.h>
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
#define LOG_HEADER "zuma-stamp log: seed %" PRIu64 " blocks %" PRIu64 "\n"
#define LOG_HEADER_SCAN "zuma-stamp log: seed %" SCNu64 " blocks %" SCNu64 "%n"

enum {
        EXIT_GOOD = 0,         /* verified; or `write` ran for SECONDS */
        EXIT_BAD = 1,          /* the device does not hold what the log says */
        EXIT_USAGE = 2,        /* bad arguments, no device, a log unusable or malformed */
        EXIT_WRITE_FAILED = 3, /* `write`: a write to the device failed */
};

static const char usage[] =
        "usage: zuma-stamp write DEVICE LOG SEED BLOCKS [SECONDS]\n"
        "       zuma-stamp verify DEVICE LOG\n"
        "       zuma-stamp verify-range DEVICE LOG LO HI [SLACK]\n"
        "\n"
        "write         write stamped 4 KiB blocks below BLOCKS in an order drawn from SEED,\n"
        "              with O_DIRECT | O_DSYNC, logging each write to LOG once acknowledged;\n"
        "              until SECONDS passed (default: until killed) or a write failed\n"
        "verify        every block named in LOG holds a stamp of LOG's seed with at least\n"
        "              its last logged generation\n"
        "verify-range  every block below LOG's BLOCKS holds, for LOG's seed, at least its\n"
        "              last generation in LOG's first LO lines and at most its last one in\n"
        "              the first HI lines, or one more for at most SLACK blocks (default 0);\n"
        "              blocks without a stamp are zeroes (line 1 of LOG is its header)\n"
        "\n"
        "exit status: 0 verified, or SECONDS passed without a failed write;\n"
        "             1 the device does not hold what LOG says;\n"
        "             2 usage error, no device, or LOG unreadable, unwritable or malformed;\n"
        "             3 a write to the device failed (LOG holds every acknowledged one)\n";

typedef struct Stamp {
        uint64_t magic;      /* STAMP_MAGIC */
        uint64_t block;      /* block number, in 4 KiB blocks */
        uint64_t generation; /* writes to this block so far, from 1 */
        uint64_t seed;       /* the writer's SEED */
} Stamp;
_Static_assert(sizeof(Stamp) == 32, "the stamp is four 64-bit words");

/* The log read up to line HI: per block, the last generation by line LO and by line HI. */
typedef struct StampLog {
        uint64_t seed;
        uint64_t blocks;
        uint64_t lo_line; /* LO, or the log's last line if it ends before */
        uint64_t hi_line; /* HI, or the log's last line if it ends before */
        uint64_t *lo;
        uint64_t *hi;
} StampLog;

#define _cleanup_(f) __attribute__((cleanup(f)))

static void freep(void *p)
{
        free(*(void **)p);
}

static void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}

static void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static uint64_t splitmix(uint64_t *state)
{
        uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static void put_le64(uint8_t *p, uint64_t v)
{
        v = htole64(v);
        memcpy(p, &v, 8);
}

static uint64_t get_le64(const uint8_t *p)
{
        uint64_t v;

        memcpy(&v, p, 8);
        return le64toh(v);
}

static void fill_block(uint8_t *buf, uint64_t block, uint64_t generation, uint64_t seed)
{
        uint64_t state = block * 31 + generation * 7 + seed;

        put_le64(buf, STAMP_MAGIC);
        put_le64(buf + 8, block);
        put_le64(buf + 16, generation);
        put_le64(buf + 24, seed);
        for (size_t i = sizeof(Stamp); i < BLOCK; i += 8)
                put_le64(buf + i, splitmix(&state));
}

static bool all_zeroes(const uint8_t *buf)
{
        return buf[0] == 0 && memcmp(buf, buf + 1, BLOCK - 1) == 0;
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool parse_u64(const char *s, uint64_t *ret)
{
        char *end;

        errno = 0;
        if (*s < '0' || *s > '9')
                return false;
        *ret = strtoull(s, &end, 10);
        return errno == 0 && *end == '\0';
}

static int do_write(const char *device, const char *log_path, uint64_t seed, uint64_t blocks,
                    double seconds)
{
        _cleanup_(freep) uint64_t *generation = calloc(blocks, sizeof(*generation));
        _cleanup_(freep) void *buf = NULL;
        _cleanup_(closep) int fd = -1;
        _cleanup_(fclosep) FILE *log = NULL;
        uint64_t state = seed, written = 0;
        double deadline = now() + seconds; /* none when seconds is 0 */
        int status = EXIT_GOOD;

        if (!generation || posix_memalign(&buf, BLOCK, BLOCK) != 0) {
                fprintf(stderr, "zuma-stamp: out of memory\n");
                return EXIT_USAGE;
        }
        fd = open(device, O_WRONLY | O_DIRECT | O_DSYNC | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "zuma-stamp: %s: %s\n", device, strerror(errno));
                return EXIT_USAGE;
        }
        log = fopen(log_path, "w");
        if (!log || fprintf(log, LOG_HEADER, seed, blocks) < 0 || fflush(log) != 0) {
                fprintf(stderr, "zuma-stamp: %s: %s\n", log_path, strerror(errno));
                return EXIT_USAGE;
        }
        fprintf(stderr, "zuma-stamp: writing %s, seed %" PRIu64 ", %" PRIu64 " blocks\n", device,
                seed, blocks);
        while (seconds <= 0 || now() < deadline) {
                uint64_t block = splitmix(&state) % blocks;
                uint64_t gen = ++generation[block];
                ssize_t n;

                fill_block(buf, block, gen, seed);
                n = pwrite(fd, buf, BLOCK, (off_t)(block * BLOCK));
                if (n != (ssize_t)BLOCK) {
                        fprintf(stderr,
                                "zuma-stamp: %s: write of block %" PRIu64 " (generation %" PRIu64
                                ") failed: %s\n",
                                device, block, gen, n < 0 ? strerror(errno) : "short write");
                        status = EXIT_WRITE_FAILED;
                        break;
                }
                if (fprintf(log, "%" PRIu64 " %" PRIu64 "\n", block, gen) < 0 || fflush(log) != 0) {
                        fprintf(stderr, "zuma-stamp: %s: cannot log a write: %s\n", log_path,
                                strerror(errno));
                        status = EXIT_USAGE;
                        break;
                }
                written++;
        }
        fprintf(stderr, "zuma-stamp: %s: %" PRIu64 " writes acknowledged\n", device, written);
        return status;
}

static void free_log(StampLog *log)
{
        free(log->lo);
        free(log->hi);
}

/*
 * Reads LOG up to line HI (or its end) into RET.  Every line is checked:
 * the header, then records of a block below BLOCKS whose generation is one
 * more than that block's previous one.  Returns EXIT_GOOD or EXIT_USAGE.
 */
static int read_log(const char *path, uint64_t lo_lines, uint64_t hi_lines, StampLog *ret)
{
        _cleanup_(fclosep) FILE *f = fopen(path, "r");
        _cleanup_(free_log) StampLog log = { 0 };
        char line[128];
        uint64_t n = 1;
        int end = 0;

        if (!f) {
                fprintf(stderr, "zuma-stamp: %s: %s\n", path, strerror(errno));
                return EXIT_USAGE;
        }
        if (!fgets(line, sizeof(line), f) ||
            sscanf(line, LOG_HEADER_SCAN, &log.seed, &log.blocks, &end) != 2 || line[end] != '\n' ||
            log.blocks == 0 || log.blocks > UINT64_MAX / BLOCK) {
                fprintf(stderr, "zuma-stamp: %s: line 1: not a zuma-stamp log header\n", path);
                return EXIT_USAGE;
        }
        log.lo = calloc(log.blocks, sizeof(*log.lo));
        log.hi = calloc(log.blocks, sizeof(*log.hi));
        if (!log.lo || !log.hi) {
                fprintf(stderr, "zuma-stamp: %s: out of memory for %" PRIu64 " blocks\n", path,
                        log.blocks);
                return EXIT_USAGE;
        }
        while (n < hi_lines && fgets(line, sizeof(line), f)) {
                uint64_t block, gen;

                n++;
                if (sscanf(line, "%" SCNu64 " %" SCNu64 "%n", &block, &gen, &end) != 2 ||
                    (line[end] != '\n' && line[end] != '\0')) {
                        fprintf(stderr,
                                "zuma-stamp: %s: line %" PRIu64 ": not \"BLOCK GENERATION\"\n",
                                path, n);
                        return EXIT_USAGE;
                }
                if (block >= log.blocks) {
                        fprintf(stderr,
                                "zuma-stamp: %s: line %" PRIu64 ": block %" PRIu64
                                " is past the log's %" PRIu64 " blocks\n",
                                path, n, block, log.blocks);
                        return EXIT_USAGE;
                }
                if (gen != log.hi[block] + 1) {
                        fprintf(stderr,
                                "zuma-stamp: %s: line %" PRIu64 ": block %" PRIu64
                                " generation %" PRIu64 " follows generation %" PRIu64 "\n",
                                path, n, block, gen, log.hi[block]);
                        return EXIT_USAGE;
                }
                log.hi[block] = gen;
                if (n <= lo_lines)
                        log.lo[block] = gen;
        }
        if (ferror(f)) {
                fprintf(stderr, "zuma-stamp: %s: %s\n", path, strerror(errno));
                return EXIT_USAGE;
        }
        log.hi_line = n;
        log.lo_line = lo_lines < n ? lo_lines : n;
        *ret = log;
        log = (StampLog){ 0 }; /* RET owns the arrays now */
        return EXIT_GOOD;
}

typedef enum BlockState {
        BLOCK_BAD,
        BLOCK_ZERO,
        BLOCK_STAMPED,     /* a stamp within the bounds */
        BLOCK_ONE_PAST_HI, /* a stamp one generation past the HI bound */
} BlockState;

/*
 * BUF holds block BLOCK of DEVICE: is it zeroes, or an intact stamp of
 * LOG's seed from at least LO[BLOCK] and at most HI[BLOCK] + 1?  With
 * check_hi false, there is no upper bound.
 */
static BlockState check_block(const char *device, const StampLog *log, uint64_t block,
                              const uint8_t *buf, bool check_hi)
{
        static uint8_t expect[BLOCK];
        uint64_t magic = get_le64(buf), stamped = get_le64(buf + 8);
        uint64_t gen = get_le64(buf + 16), seed = get_le64(buf + 24);
        uint64_t lo = log->lo[block], hi = log->hi[block];

        if (all_zeroes(buf)) {
                if (lo == 0)
                        return BLOCK_ZERO;
                fprintf(stderr,
                        "zuma-stamp: %s: block %" PRIu64 ": zeroes, but generation %" PRIu64
                        " was acknowledged by log line %" PRIu64 "\n",
                        device, block, lo, log->lo_line);
                return BLOCK_BAD;
        }
        if (magic != STAMP_MAGIC) {
                fprintf(stderr, "zuma-stamp: %s: block %" PRIu64 ": neither zeroes nor a stamp\n",
                        device, block);
                return BLOCK_BAD;
        }
        if (stamped != block || seed != log->seed || gen == 0) {
                fprintf(stderr,
                        "zuma-stamp: %s: block %" PRIu64 ": stamp of block %" PRIu64
                        ", generation %" PRIu64 ", seed %" PRIu64 " (want block %" PRIu64
                        ", seed %" PRIu64 ")\n",
                        device, block, stamped, gen, seed, block, log->seed);
                return BLOCK_BAD;
        }
        fill_block(expect, block, gen, seed);
        for (size_t i = 0; i < BLOCK; i++) {
                if (buf[i] != expect[i]) {
                        fprintf(stderr,
                                "zuma-stamp: %s: block %" PRIu64 ": generation %" PRIu64
                                " stamp, but its data differs at byte %zu\n",
                                device, block, gen, i);
                        return BLOCK_BAD;
                }
        }
        if (gen < lo) {
                fprintf(stderr,
                        "zuma-stamp: %s: block %" PRIu64 ": generation %" PRIu64 ", but %" PRIu64
                        " was acknowledged by log line %" PRIu64 "\n",
                        device, block, gen, lo, log->lo_line);
                return BLOCK_BAD;
        }
        if (!check_hi || gen <= hi)
                return BLOCK_STAMPED;
        if (gen == hi + 1)
                return BLOCK_ONE_PAST_HI;
        fprintf(stderr,
                "zuma-stamp: %s: block %" PRIu64 ": generation %" PRIu64
                ", but the log's last one by line %" PRIu64 " is %" PRIu64 "\n",
                device, block, gen, log->hi_line, hi);
        return BLOCK_BAD;
}

/*
 * `verify` (range false: the blocks the log names, no upper bound) and
 * `verify-range` (every block, LO..HI, SLACK).
 */
static int do_verify(const char *device, const char *log_path, bool range, uint64_t lo_lines,
                     uint64_t hi_lines, uint64_t slack)
{
        uint64_t count[BLOCK_ONE_PAST_HI + 1] = { 0 }, checked = 0;
        _cleanup_(free_log) StampLog log = { 0 };
        _cleanup_(freep) void *buf = NULL;
        _cleanup_(closep) int fd = -1;
        bool too_new = false;
        int status;

        status = read_log(log_path, lo_lines, hi_lines, &log);
        if (status != EXIT_GOOD)
                return status;
        fd = open(device, O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "zuma-stamp: %s: %s\n", device, strerror(errno));
                return EXIT_USAGE;
        }
        if (posix_memalign(&buf, BLOCK, BLOCK) != 0) {
                fprintf(stderr, "zuma-stamp: out of memory\n");
                return EXIT_USAGE;
        }
        for (uint64_t block = 0; block < log.blocks; block++) {
                ssize_t n;

                if (!range && log.lo[block] == 0)
                        continue;
                checked++;
                n = pread(fd, buf, BLOCK, (off_t)(block * BLOCK));
                if (n != (ssize_t)BLOCK) {
                        fprintf(stderr, "zuma-stamp: %s: read of block %" PRIu64 " failed: %s\n",
                                device, block, n < 0 ? strerror(errno) : "short read");
                        count[BLOCK_BAD]++;
                        continue;
                }
                count[check_block(device, &log, block, buf, range)]++;
        }
        if (count[BLOCK_ONE_PAST_HI] > slack) {
                too_new = true;
                fprintf(stderr,
                        "zuma-stamp: %s: %" PRIu64 " blocks hold a generation past line %" PRIu64
                        ", at most %" PRIu64 " may\n",
                        device, count[BLOCK_ONE_PAST_HI], log.hi_line, slack);
        }
        if (range)
                printf("zuma-stamp: %s: log lines %" PRIu64 "..%" PRIu64 ": %" PRIu64
                       " blocks stamped, %" PRIu64 " of them one generation past line %" PRIu64
                       ", %" PRIu64 " zero, %" PRIu64 " bad\n",
                       device, log.lo_line, log.hi_line,
                       count[BLOCK_STAMPED] + count[BLOCK_ONE_PAST_HI], count[BLOCK_ONE_PAST_HI],
                       log.hi_line, count[BLOCK_ZERO], count[BLOCK_BAD]);
        else
                printf("zuma-stamp: %s: %" PRIu64 " acknowledged blocks checked, %" PRIu64 " bad\n",
                       device, checked, count[BLOCK_BAD]);
        return count[BLOCK_BAD] || too_new ? EXIT_BAD : EXIT_GOOD;
}

int main(int argc, char **argv)
{
        uint64_t seed, blocks, lo, hi, slack = 0;
        const char *mode = argc > 1 ? argv[1] : "";
        double seconds = 0;
        char *end;

        if (!strcmp(mode, "-h") || !strcmp(mode, "--help")) {
                fputs(usage, stdout);
                return EXIT_GOOD;
        }
        if (!strcmp(mode, "write") && (argc == 6 || argc == 7)) {
                if (!parse_u64(argv[4], &seed) || !parse_u64(argv[5], &blocks) || blocks == 0 ||
                    blocks > UINT64_MAX / BLOCK) {
                        fprintf(stderr, "zuma-stamp: SEED and BLOCKS must be numbers, BLOCKS "
                                        "above 0\n");
                        return EXIT_USAGE;
                }
                if (argc == 7) {
                        errno = 0;
                        seconds = strtod(argv[6], &end);
                        if (errno || *end || end == argv[6] || !(seconds > 0)) {
                                fprintf(stderr, "zuma-stamp: SECONDS must be a number above "
                                                "0\n");
                                return EXIT_USAGE;
                        }
                }
                return do_write(argv[2], argv[3], seed, blocks, seconds);
        }
        if (!strcmp(mode, "verify") && argc == 4)
                return do_verify(argv[2], argv[3], false, UINT64_MAX, UINT64_MAX, 0);
        if (!strcmp(mode, "verify-range") && (argc == 6 || argc == 7)) {
                if (!parse_u64(argv[4], &lo) || !parse_u64(argv[5], &hi) || lo > hi ||
                    (argc == 7 && !parse_u64(argv[6], &slack))) {
                        fprintf(stderr, "zuma-stamp: LO, HI and SLACK must be numbers, LO at "
                                        "most HI\n");
                        return EXIT_USAGE;
                }
                return do_verify(argv[2], argv[3], true, lo, hi, slack);
        }
        fputs(usage, stderr);
        return EXIT_USAGE;
}
