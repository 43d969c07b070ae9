/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replays a fuzz target over a corpus without libFuzzer, so every compiler
 * runs the corpora as ordinary tests.  Each argument is a file or a
 * directory (its regular files, in name order).  A target that finds a bug
 * aborts, which fails the test; an empty corpus fails too, since it would
 * test nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
        LLVMFuzzerTestOneInput(buf, (size_t)len);
        free(buf);
        return 0;
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
        int total = 0;

        if (argc < 2) {
                fprintf(stderr, "Usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                int n = replay_path(argv[i]);

                if (n < 0)
                        return 1;
                total += n;
        }
        if (total == 0) {
                fprintf(stderr, "replay: no inputs found\n");
                return 1;
        }
        printf("replay: %d inputs ran cleanly\n", total);
        return 0;
}
