/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replays a fuzz target over a corpus without libFuzzer, so every compiler
 * runs the corpora as ordinary tests.  Each argument is a file or a
 * directory (its regular files, in name order).  A target that finds a bug
 * aborts, which fails the test; an empty corpus fails too, since it would
 * test nothing.
 *
 *     replay [--bad-rejected] [--valid-accepted] CORPUS_DIR_OR_FILE...
 *
 * --bad-rejected: every input named bad-* is a known-bad sample that the
 * target's decoder must reject (the target reports its verdict through
 * fuzz.h); --valid-accepted: every input named valid-* must be accepted.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool bad_rejected, valid_accepted;

/* Whether the target's verdict on `path` is what its name promises. */
static int check_verdict(const char *path)
{
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

        if (bad_rejected && !strncmp(base, "bad-", 4) && fuzz_verdict != FUZZ_REJECTED) {
                fprintf(stderr, "replay: %s: a known-bad input was %s\n", path,
                        fuzz_verdict == FUZZ_ACCEPTED
                                ? "accepted"
                                : "not judged (the target reports no verdict)");
                return -1;
        }
        if (valid_accepted && !strncmp(base, "valid-", 6) && fuzz_verdict != FUZZ_ACCEPTED) {
                fprintf(stderr,
                        "replay: %s: a valid input was %s (after a format change, regenerate "
                        "the corpus with gen-corpus)\n",
                        path, fuzz_verdict == FUZZ_REJECTED ? "rejected" : "not judged");
                return -1;
        }
        return 0;
}

static int replay_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        uint8_t *buf;
        long len;

        if (!f) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
                fprintf(stderr, "replay: %s: cannot size\n", path);
                fclose(f);
                return -1;
        }
        /* Exactly len bytes, so sanitizers see reads past the input. */
        buf = malloc(len ? (size_t)len : 1);
        if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
                fprintf(stderr, "replay: %s: read failed\n", path);
                free(buf);
                fclose(f);
                return -1;
        }
        fclose(f);
        printf("replay: %s (%ld bytes)\n", path, len);
        fflush(stdout);
        fuzz_verdict = FUZZ_UNKNOWN;
        LLVMFuzzerTestOneInput(buf, (size_t)len);
        free(buf);
        return check_verdict(path);
}

static int is_regular(const struct dirent *e)
{
        return e->d_name[0] != '.';
}

/* Returns how many inputs ran, or -1. */
static int replay_path(const char *path)
{
        struct dirent **names;
        struct stat st;
        int n, done = 0;

        if (stat(path, &st) < 0) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(st.st_mode))
                return replay_file(path) < 0 ? -1 : 1;

        n = scandir(path, &names, is_regular, alphasort);
        if (n < 0) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        for (int i = 0; i < n; i++) {
                char file[4096];

                snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
                if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
                        if (replay_file(file) < 0)
                                done = -1;
                        else if (done >= 0)
                                done++;
                }
                free(names[i]);
        }
        free(names);
        return done;
}

int main(int argc, char **argv)
{
        int total = 0, failed = 0, first = 1;

        for (; first < argc && !strncmp(argv[first], "--", 2); first++) {
                if (!strcmp(argv[first], "--bad-rejected")) {
                        bad_rejected = true;
                } else if (!strcmp(argv[first], "--valid-accepted")) {
                        valid_accepted = true;
                } else {
                        fprintf(stderr, "replay: unknown option %s\n", argv[first]);
                        return 2;
                }
        }
        if (first >= argc) {
                fprintf(stderr,
                        "Usage: %s [--bad-rejected] [--valid-accepted] CORPUS_DIR_OR_FILE...\n",
                        argv[0]);
                return 2;
        }
        for (int i = first; i < argc; i++) {
                int n = replay_path(argv[i]);

                if (n < 0)
                        failed = 1;
                else
                        total += n;
        }
        if (failed)
                return 1;
        if (total == 0) {
                fprintf(stderr, "replay: no inputs found\n");
                return 1;
        }
        printf("replay: %d inputs ran cleanly\n", total);
        return 0;
}
