/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stream-bench: replication streams of libsnapstore (snapstore/stream.h)
 * against zstd of the same chunks, on file-backed stores.  One JSON object
 * per metric on stdout (bench-util.h), progress on stderr; bench/README.md
 * lists the metrics.
 *
 * The source origin has half of its chunks written with text-like data
 * (the rest holes); snapshot A; 1% of the chunks rewritten; snapshot B;
 * then snapshot C with no change.  A full stream of A and incremental
 * streams A..B and B..C go through a file in the bench directory and are
 * applied to a second store.  The baseline of each byte count is the sum
 * of ZSTD_compress() of the same non-zero chunks at the same level, each
 * on its own (what an ideal per-chunk stream would carry).
 *
 * Environment: ZUMA_BENCH_QUICK=1 (128 MiB origin instead of 1024),
 * ZUMA_BENCH_STREAM_MB, ZUMA_BENCH_CHUNK_KB, ZUMA_BENCH_SEED, ZUMA_BENCH_DIR.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "bench-util.h"
#include "stream.h"

#define ZSTD_LEVEL 3

typedef struct Side {
        BenchVol origin_vol, store_vol;
        SsBlockDev *origin, *store;
        SsStore *s;
} Side;

static BenchEnv env;
static uint64_t rng, chunks;
static uint32_t chunk;
static const uint8_t volume_uuid[16] = { 0x5a, 0x75, 0x6d, 0x61, 's', 't', 'r', 'm' };

static void side_new(Side *x, const char *name, uint64_t origin_size)
{
        char n[64];
        SsCreateOptions c = { .volume_name = "bench",
                              .volume_uuid = volume_uuid,
                              .chunk_size = chunk };

        snprintf(n, sizeof(n), "%s-origin", name);
        if (vol_create(&env, n, origin_size, false, &x->origin_vol) < 0)
                die("cannot create %s", n);
        snprintf(n, sizeof(n), "%s-store", name);
        if (vol_create(&env, n, origin_size / 4 + (64u << 20), false, &x->store_vol) < 0)
                die("cannot create %s", n);
        if (vol_open(&x->origin_vol, &x->origin) < 0 || vol_open(&x->store_vol, &x->store) < 0 ||
            ss_store_create(x->origin, x->store, &c) < 0 ||
            ss_store_open(x->origin, x->store, NULL, &x->s) < 0)
                die("cannot make the %s store: %s", name, ss_last_error());
}

static void side_free(Side *x)
{
        ss_store_close(x->s);
        ss_blockdev_close(x->origin);
        ss_blockdev_close(x->store);
        vol_destroy(&env, &x->origin_vol);
        vol_destroy(&env, &x->store_vol);
}

/* Text-like data: words from a small vocabulary, so zstd gets ~3:1. */
static void text_chunk(uint8_t *buf)
{
        static const char *words[] = { "snapshot ", "origin ", "chunk ",    "store ", "volume ",
                                       "replica ",  "stream ", "zumastor ", "\n",     "digest " };
        size_t at = 0;
        while (at < chunk) {
                const char *w = words[rng_below(&rng, 10)];
                size_t len = strlen(w);
                if (rng_below(&rng, 4) == 0) { /* some entropy */
                        buf[at++] = (uint8_t)rng_next(&rng);
                        continue;
                }
                memcpy(buf + at, w, len < chunk - at ? len : chunk - at);
                at += len;
        }
}

static uint64_t zstd_size(const uint8_t *buf, ZSTD_CCtx *cctx, uint8_t *out, size_t cap)
{
        size_t n = ZSTD_compressCCtx(cctx, out, cap, buf, chunk, ZSTD_LEVEL);
        return ZSTD_isError(n) ? chunk : n;
}

/* Sends from..to into a file, applies it to the target; returns stream bytes. */
static uint64_t transfer(Side *src, Side *tgt, uint32_t from, uint32_t to, const char *what,
                         const SsStreamDigest *from_digest, SsStreamDigest *ret_digest,
                         double *ret_send, double *ret_recv)
{
        char path[400];
        snprintf(path, sizeof(path), "%s/stream", env.dir);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        SsStreamStats st, rst;
        if (fd < 0)
                die("cannot create %s: %s", path, strerror(errno));
        SsStreamSendOptions so = { .write = ss_stream_fd_write,
                                   .user = &fd,
                                   .zstd_level = ZSTD_LEVEL,
                                   .from_digest = from_digest };
        double t0 = now_sec();
        if (ss_stream_send(src->s, from, to, &so, &st) < 0)
                die("%s: send: %s", what, ss_last_error());
        if (fsync(fd) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                die("%s: %s", path, strerror(errno));
        double t1 = now_sec();
        SsStreamReceiveOptions ro = { .read = ss_stream_fd_read,
                                      .user = &fd,
                                      .base_digest = from_digest };
        if (ss_stream_receive(tgt->s, &ro, &rst, NULL) < 0)
                die("%s: receive: %s", what, ss_last_error());
        double t2 = now_sec();
        close(fd);
        unlink(path);
        progress("%s: %llu stream bytes, %llu chunks, %llu zero chunks, send %.3f s, receive "
                 "%.3f s",
                 what, (unsigned long long)st.bytes, (unsigned long long)st.chunk_records,
                 (unsigned long long)st.zero_chunks, t1 - t0, t2 - t1);
        *ret_digest = rst.digest;
        *ret_send = t1 - t0;
        *ret_recv = t2 - t1;
        return st.bytes;
}

int main(void)
{
        bool quick = env_flag("ZUMA_BENCH_QUICK");
        uint64_t origin_size = env_u64("ZUMA_BENCH_STREAM_MB", quick ? 128 : 1024) * MIB;
        uint64_t zstd_full = 0, zstd_changed = 0, changed = 0;
        uint32_t a, b, c;
        Side src, tgt;
        SsStreamDigest da, db, dc;
        double send_s, recv_s, send2_s, recv2_s;
        char note[256];

        chunk = (uint32_t)env_u64("ZUMA_BENCH_CHUNK_KB", 16) << 10;
        rng = env_u64("ZUMA_BENCH_SEED", (uint64_t)time(NULL));
        chunks = origin_size / chunk;
        if (bench_env_init(&env) < 0)
                return 2;
        progress("stream-bench: origin %llu MiB, chunk %u KiB, seed %llu, in %s",
                 (unsigned long long)(origin_size / MIB), chunk >> 10, (unsigned long long)rng,
                 env.dir);
        side_new(&src, "source", origin_size);
        side_new(&tgt, "target", origin_size);

        uint8_t *buf = ss_alloc_io_buffer(chunk), *out = malloc(ZSTD_compressBound(chunk));
        uint8_t *written = calloc(chunks, 1);
        ZSTD_CCtx *cctx = ZSTD_createCCtx();
        if (!buf || !out || !written || !cctx)
                die("out of memory");
        for (uint64_t i = 0; i < chunks; i++) {
                if (rng_below(&rng, 2))
                        continue;
                text_chunk(buf);
                written[i] = 1;
                if (ss_origin_write(src.s, buf, i * chunk, chunk) < 0)
                        die("origin write: %s", ss_last_error());
                zstd_full += zstd_size(buf, cctx, out, ZSTD_compressBound(chunk));
        }
        if (ss_snapshot_create(src.s, "a", 0, 0, &a) < 0)
                die("snapshot: %s", ss_last_error());
        for (uint64_t n = 0; n < chunks / 100; n++) {
                uint64_t i = rng_below(&rng, chunks);
                if (written[i] == 2)
                        continue;
                written[i] = 2;
                text_chunk(buf);
                if (ss_origin_write(src.s, buf, i * chunk, chunk) < 0)
                        die("origin write: %s", ss_last_error());
                zstd_changed += zstd_size(buf, cctx, out, ZSTD_compressBound(chunk));
                changed++;
        }
        if (ss_snapshot_create(src.s, "b", 0, 0, &b) < 0 ||
            ss_snapshot_create(src.s, "c", 0, 0, &c) < 0)
                die("snapshot: %s", ss_last_error());

        uint64_t full = transfer(&src, &tgt, 0, a, "full", NULL, &da, &send_s, &recv_s);
        snprintf(note, sizeof(note),
                 "full stream of %llu MiB, half written: bytes / zstd-%d of "
                 "the written chunks",
                 (unsigned long long)(origin_size / MIB), ZSTD_LEVEL);
        emit("repl_full_bytes_ratio_vs_zstd", (double)full / (double)zstd_full, "ratio",
             (double)zstd_full, note);
        emit("repl_full_send_mibps", (double)origin_size / MIB / send_s, "MiB/s", NAN,
             "full send of the origin's image, stream to a file");
        emit("repl_full_receive_mibps", (double)origin_size / MIB / recv_s, "MiB/s", NAN,
             "full receive into an empty store, digest included");

        uint64_t incr = transfer(&src, &tgt, a, b, "incremental", &da, &db, &send2_s, &recv2_s);
        snprintf(note, sizeof(note),
                 "1%% of the chunks changed (%llu): bytes / zstd-%d of "
                 "the changed chunks",
                 (unsigned long long)changed, ZSTD_LEVEL);
        emit("repl_bytes_ratio_vs_zstd_changed", (double)incr / (double)zstd_changed, "ratio",
             (double)zstd_changed, note);
        emit("repl_incremental_s", send2_s + recv2_s, "s", NAN,
             "send and receive of the 1% change, base digests known");

        transfer(&src, &tgt, b, c, "no change", &db, &dc, &send2_s, &recv2_s);
        emit("repl_zero_change_s", send2_s + recv2_s, "s", NAN,
             "send and receive between two snapshots with nothing between them");

        ZSTD_freeCCtx(cctx);
        free(buf);
        free(out);
        free(written);
        side_free(&tgt);
        side_free(&src);
        bench_env_cleanup(&env);
        return 0;
}
