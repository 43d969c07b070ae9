/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * repl-zstd-changed: the zstd baseline of repl-bench.sh.  Reads two images
 * of one volume (two snapshots' devices) chunk by chunk and prints, on one
 * line, "CHANGED ZSTD_BYTES": how many chunks differ, and the sum of
 * ZSTD_compress() at level 3 of each such chunk of the second image on its
 * own, as stream-bench does for the chunks it rewrote: what an ideal
 * per-chunk stream of exactly the changed chunks would carry.
 *
 *   repl-zstd-changed FROM TO CHUNK_BYTES
 *
 * Chunks are compared by content, so a chunk written again with the same
 * bytes does not count: the baseline is the least any sender could send.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define ZSTD_LEVEL 3
#define READ_BYTES (1u << 20)

static int open_image(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                fprintf(stderr, "repl-zstd-changed: cannot open %s: %s\n", path, strerror(errno));
        return fd;
}

/* Up to len bytes at the current offset; returns how many (0 at the end),
 * -1 on an error. */
static ssize_t read_full(int fd, const char *path, uint8_t *buf, size_t len)
{
        size_t got = 0;

        while (got < len) {
                ssize_t n = read(fd, buf + got, len - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, "repl-zstd-changed: reading %s: %s\n", path,
                                strerror(errno));
                        return -1;
                }
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        return (ssize_t)got;
}

int main(int argc, char **argv)
{
        uint64_t changed = 0, zstd_bytes = 0;
        unsigned long chunk;
        char *end = NULL;
        uint8_t *a, *b, *out;
        size_t cap;
        ZSTD_CCtx *cctx;
        int fa, fb;

        if (argc != 4) {
                fprintf(stderr, "usage: repl-zstd-changed FROM TO CHUNK_BYTES\n");
                return 2;
        }
        errno = 0;
        chunk = strtoul(argv[3], &end, 10);
        if (errno || !end || *end || chunk < 512 || chunk > READ_BYTES || READ_BYTES % chunk) {
                fprintf(stderr, "repl-zstd-changed: chunk size %s: a divisor of 1 MiB, >= 512\n",
                        argv[3]);
                return 2;
        }
        fa = open_image(argv[1]);
        fb = open_image(argv[2]);
        if (fa < 0 || fb < 0)
                return 1;
        cap = ZSTD_compressBound(chunk);
        a = malloc(READ_BYTES);
        b = malloc(READ_BYTES);
        out = malloc(cap);
        cctx = ZSTD_createCCtx();
        if (!a || !b || !out || !cctx) {
                fprintf(stderr, "repl-zstd-changed: out of memory\n");
                return 1;
        }
        for (;;) {
                ssize_t na = read_full(fa, argv[1], a, READ_BYTES);
                ssize_t nb = read_full(fb, argv[2], b, READ_BYTES);

                if (na < 0 || nb < 0)
                        return 1;
                if (na != nb) {
                        fprintf(stderr, "repl-zstd-changed: %s and %s differ in size\n", argv[1],
                                argv[2]);
                        return 1;
                }
                if (nb == 0)
                        break;
                for (size_t off = 0; off < (size_t)nb; off += chunk) {
                        size_t len = (size_t)nb - off < chunk ? (size_t)nb - off : chunk;
                        size_t n;

                        if (memcmp(a + off, b + off, len) == 0)
                                continue;
                        changed++;
                        n = ZSTD_compressCCtx(cctx, out, cap, b + off, len, ZSTD_LEVEL);
                        zstd_bytes += ZSTD_isError(n) ? len : n;
                }
        }
        printf("%" PRIu64 " %" PRIu64 "\n", changed, zstd_bytes);
        ZSTD_freeCCtx(cctx);
        free(a);
        free(b);
        free(out);
        close(fa);
        close(fb);
        return 0;
}
