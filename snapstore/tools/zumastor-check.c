/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zumastor-check: verify a Zumastor store offline.
 *
 * Opens the store read-only and runs ss_check(), which verifies the checksum
 * of every metadata block, every superblock copy and mirror, and the
 * invariants between the structures.  Each problem is printed on its own
 * line.  Exit status (zumastor-check(8) says the same):
 *   0  the store is consistent;
 *   1  problems found: damage in the store, including metadata too damaged
 *      to open (-EUCLEAN, -EILSEQ) and a newest commit that cannot be read
 *      (-ESTALE; --accept-rollback checks the older commit instead, and
 *      reports the rollback as a problem);
 *   2  no verdict on the store: a device could not be opened or read, it
 *      holds no Zumastor store, a format or feature this version does not
 *      know, the wrong origin, the command line, or no memory.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapstore.h"

enum {
        EXIT_CLEAN = 0,
        EXIT_PROBLEMS = 1,
        EXIT_UNUSABLE = 2,
};

typedef struct Report {
        const char *store_path;
} Report;

static void report_problem(void *user, const char *message)
{
        Report *r = user;

        printf("%s: problem: %s\n", r->store_path, message);
}

static void usage(FILE *f)
{
        fprintf(f, "Usage: zumastor-check [-q] [--accept-rollback] --origin PATH STORE\n"
                   "Verify every metadata block and invariant of a Zumastor store.\n"
                   "\n"
                   "  -o, --origin PATH    the origin device of the store (required)\n"
                   "  -q, --quiet          print only problems\n"
                   "      --accept-rollback  check the older commit when the newest superblock\n"
                   "                       cannot be read (the rollback is a problem)\n"
                   "  -h, --help           show this help\n"
                   "\n"
                   "Exit status: 0 clean, 1 problems found (including a store too damaged\n"
                   "to open), 2 no verdict (device unreadable, not a store, unknown format,\n"
                   "wrong origin, bad usage).\n");
}

static bool is_corruption(int r)
{
        return r == -EUCLEAN || r == -EILSEQ || r == -ESTALE;
}

/* Opens the store on the two devices, checks it, closes it; returns the exit status. */
static int check_store(SsBlockDev *origin, SsBlockDev *dev, const char *store_path, bool quiet,
                       bool accept_rollback)
{
        SsOpenOptions opts = { .flags = SS_OPEN_READONLY |
                                        (accept_rollback ? SS_OPEN_ACCEPT_ROLLBACK : 0) };
        Report report = { .store_path = store_path };
        SsStore *s = NULL;
        SsStoreInfo info = { .compact_snapshot_table = true };
        int r, ret;

        r = ss_store_open(origin, dev, &opts, &s);
        if (r < 0) {
                if (is_corruption(r)) {
                        printf("%s: problem: cannot open: %s\n", store_path, ss_last_error());
                        if (r == -ESTALE)
                                printf("%s: the older commit can be checked with "
                                       "--accept-rollback\n",
                                       store_path);
                        return EXIT_PROBLEMS;
                }
                fprintf(stderr, "zumastor-check: %s: cannot open: %s\n", store_path,
                        ss_last_error());
                return EXIT_UNUSABLE;
        }

        r = ss_check(s, report_problem, &report);
        if (r < 0) {
                /* Corruption that stops the walk is a finding; anything else
                 * (an I/O error, no memory) means the check did not finish. */
                if (is_corruption(r)) {
                        printf("%s: problem: check stopped: %s\n", store_path, ss_last_error());
                        ret = EXIT_PROBLEMS;
                } else {
                        fprintf(stderr, "zumastor-check: %s: check failed: %s\n", store_path,
                                ss_last_error());
                        ret = EXIT_UNUSABLE;
                }
        } else if (r > 0) {
                printf("%s: %d problem%s found\n", store_path, r, r == 1 ? "" : "s");
                ret = EXIT_PROBLEMS;
        } else {
                ret = EXIT_CLEAN;
                if (!quiet && ss_store_info(s, &info) == 0)
                        printf("%s: clean: txid %" PRIu64 ", %" PRIu32 " snapshot%s, %" PRIu64
                               " shared and %" PRIu64 " private exceptions\n",
                               store_path, info.txid, info.snapshot_count,
                               info.snapshot_count == 1 ? "" : "s", info.shared_exceptions,
                               info.private_exceptions);
                else if (!quiet)
                        printf("%s: clean\n", store_path);
                if (!quiet && !info.compact_snapshot_table)
                        printf("%s: note: the snapshot table has the fixed 160-byte records "
                               "of the first version-2 stores; the next writable open "
                               "rewrites it in the compact encoding\n",
                               store_path);
        }

        r = ss_store_close(s);
        if (r < 0 && ret == EXIT_CLEAN) {
                fprintf(stderr, "zumastor-check: %s: close failed: %s\n", store_path,
                        ss_last_error());
                ret = EXIT_UNUSABLE;
        }
        return ret;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "origin", required_argument, NULL, 'o' },
                { "quiet", no_argument, NULL, 'q' },
                { "accept-rollback", no_argument, NULL, 'R' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        const char *origin_path = NULL, *store_path;
        SsBlockDev *origin = NULL, *dev = NULL;
        bool quiet = false, accept_rollback = false;
        int c, r, ret;

        while ((c = getopt_long(argc, argv, "o:qh", options, NULL)) != -1) {
                switch (c) {
                case 'o':
                        origin_path = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'R':
                        accept_rollback = true;
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_CLEAN;
                default:
                        usage(stderr);
                        return EXIT_UNUSABLE;
                }
        }
        if (optind + 1 != argc || !origin_path) {
                usage(stderr);
                return EXIT_UNUSABLE;
        }
        store_path = argv[optind];

        r = ss_blockdev_open_file(store_path, SS_BLOCKDEV_READONLY, &dev);
        if (r < 0) {
                fprintf(stderr, "zumastor-check: %s\n", ss_last_error());
                return EXIT_UNUSABLE;
        }
        r = ss_blockdev_open_file(origin_path, SS_BLOCKDEV_READONLY, &origin);
        if (r < 0) {
                fprintf(stderr, "zumastor-check: %s\n", ss_last_error());
                ss_blockdev_close(dev);
                return EXIT_UNUSABLE;
        }

        ret = check_store(origin, dev, store_path, quiet, accept_rollback);

        ss_blockdev_close(origin);
        ss_blockdev_close(dev);
        return ret;
}
