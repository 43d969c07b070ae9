/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "workload.h"

/* Stamp at the start of every 4 KiB block: magic, offset, generation. */
#define STAMP_MAGIC 0x48434e4542414d5aull /* "ZMABENCH" */

int fail(Bench *b, int r, const char *what)
{
        fprintf(stderr, "zuma-bench: %s failed: %s (%s)\n", what, strerror(-r), ss_last_error());
        return r;
}

int store_run_create(Bench *b, const char *name, StoreRun *ret_run)
{
        SsCreateOptions opts = {
                .volume_name = "bench",
                .chunk_size = b->cfg.chunk_size,
                .full_policy = SS_FULL_REFUSE,
                .force = true,
        };
        StoreRun run = { .vol.loop_nr = -1 };
        int r;

        if (b->env.prealloc)
                progress("  writing the %llu MiB store file through (ZUMA_BENCH_PREALLOC)",
                         (unsigned long long)(b->cfg.store_size / MIB));
        r = vol_create(&b->env, name, b->cfg.store_size, b->env.prealloc, &run.vol);
        if (r < 0)
                return fail(b, r, "creating the store file");
        r = vol_open(&b->origin_vol, &run.odev);
        if (r >= 0)
                r = vol_open(&run.vol, &run.sdev);
        if (r < 0) {
                fail(b, r, "opening the devices");
                store_run_destroy(b, &run);
                return r;
        }
        r = ss_store_create(run.odev, run.sdev, &opts);
        if (r >= 0)
                r = ss_store_open(run.odev, run.sdev, NULL, &run.store);
        if (r < 0) {
                fail(b, r, "ss_store_create/ss_store_open");
                store_run_destroy(b, &run);
                return r;
        }
        *ret_run = run;
        return 0;
}

int store_run_open(Bench *b, StoreRun *run, double *ret_open_sec)
{
        double t0;
        int r;

        r = vol_open(&b->origin_vol, &run->odev);
        if (r >= 0)
                r = vol_open(&run->vol, &run->sdev);
        if (r < 0)
                return fail(b, r, "opening the devices");
        t0 = now_sec();
        r = ss_store_open(run->odev, run->sdev, NULL, &run->store);
        if (ret_open_sec)
                *ret_open_sec = now_sec() - t0;
        if (r < 0) {
                run->store = NULL;
                return fail(b, r, "ss_store_open");
        }
        return 0;
}

void store_run_close(StoreRun *run)
{
        if (run->store) {
                int r = ss_store_close(run->store);

                if (r < 0)
                        fprintf(stderr, "zuma-bench: ss_store_close failed: %s (%s)\n",
                                strerror(-r), ss_last_error());
        }
        run->store = NULL;
        ss_blockdev_close(run->odev);
        ss_blockdev_close(run->sdev);
        run->odev = run->sdev = NULL;
}

void store_run_destroy(Bench *b, StoreRun *run)
{
        store_run_close(run);
        vol_destroy(&b->env, &run->vol);
}

void stamp(Origin *o, void *buf, uint64_t off, size_t len)
{
        uint32_t g = ++o->next_gen;

        for (size_t i = 0; i < len; i += STAMP_BLOCK) {
                uint8_t *p = (uint8_t *)buf + i;

                le64_put(p, STAMP_MAGIC);
                le64_put(p + 8, off + i);
                le32_put(p + 16, g);
                o->gen[(off + i) / STAMP_BLOCK] = g;
        }
}

uint64_t verify(const uint32_t *gen, const void *buf, uint64_t off, size_t len)
{
        uint64_t bad = 0;

        for (size_t i = 0; i < len; i += STAMP_BLOCK) {
                const uint8_t *p = (const uint8_t *)buf + i;
                uint64_t blk = (off + i) / STAMP_BLOCK;

                if (le64_get(p) != STAMP_MAGIC || le64_get(p + 8) != off + i ||
                    le32_get(p + 16) != gen[blk])
                        bad++;
        }
        return bad;
}

static int origin_write(Bench *b, SsStore *s, const void *buf, uint64_t off, size_t len)
{
        if (s)
                return ss_origin_write(s, buf, off, len);
        return ss_dev_pwrite(b->raw, buf, len, off);
}

static int origin_flush(Bench *b, SsStore *s)
{
        return s ? ss_store_flush(s) : ss_dev_flush(b->raw);
}

int write_seq(Bench *b, SsStore *s, double *ret_sec)
{
        Target t = { .store = s };
        int r = write_seq_interleaved(b, &t, 1);

        if (r == 0)
                *ret_sec = t.sec;
        return r;
}

static int target_write(Bench *b, Target *t, uint64_t off, size_t len)
{
        double t0 = now_sec();
        int r;

        stamp(&b->origin, b->buf, off, len);
        r = origin_write(b, t->store, b->buf, off, len);
        t->sec += now_sec() - t0;
        if (r < 0)
                return fail(b, r, t->store ? "ss_origin_write" : "raw write");
        return 0;
}

static int target_flush(Bench *b, Target *t)
{
        double t0 = now_sec();
        int r = origin_flush(b, t->store);

        t->sec += now_sec() - t0;
        if (r < 0)
                return fail(b, r, t->store ? "ss_store_flush" : "raw flush");
        return 0;
}

int write_seq_interleaved(Bench *b, Target *t, unsigned n)
{
        uint64_t size = b->origin.size;
        int r = 0;

        for (uint64_t slice = 0; slice * SLICE_BYTES < size; slice++) {
                uint64_t start = slice * SLICE_BYTES;
                uint64_t end = size - start < SLICE_BYTES ? size : start + SLICE_BYTES;

                for (unsigned k = 0; k < n; k++) {
                        Target *cur = &t[(slice + k) % n];

                        for (uint64_t off = start; off < end && r == 0; off += SEQ_IO) {
                                size_t len = end - off < SEQ_IO ? (size_t)(end - off) : SEQ_IO;

                                r = target_write(b, cur, off, len);
                        }
                        if (r == 0)
                                r = target_flush(b, cur);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int write_at_interleaved(Bench *b, Target *t, unsigned n, const uint64_t *offs, uint64_t count,
                         size_t len)
{
        int r = 0;

        for (uint64_t first = 0, turn = 0; first < count; first += RAND_TURN, turn++) {
                uint64_t last = count - first < RAND_TURN ? count : first + RAND_TURN;

                for (unsigned k = 0; k < n; k++) {
                        Target *cur = &t[(turn + k) % n];

                        for (uint64_t i = first; i < last && r == 0; i++)
                                r = target_write(b, cur, offs[i], len);
                        if (r == 0)
                                r = target_flush(b, cur);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int timed_read(Bench *b, SsStore *s, uint32_t snap, const uint32_t *expect, uint64_t off,
                      size_t len, double *sec, uint64_t *bad)
{
        double t0 = now_sec();
        int r = snap ? ss_snapshot_read(s, snap, b->buf, off, len)
                     : ss_origin_read(s, b->buf, off, len);

        *sec += now_sec() - t0; /* the checking below is not the engine's time */
        if (r < 0)
                return fail(b, r, snap ? "ss_snapshot_read" : "ss_origin_read");
        *bad += verify(expect, b->buf, off, len);
        return 0;
}

int read_seq_pair(Bench *b, SsStore *s, uint32_t snap, const uint32_t *snap_gen, double *ret_osec,
                  double *ret_ssec, uint64_t *ret_obad, uint64_t *ret_sbad)
{
        uint64_t size = b->origin.size, obad = 0, sbad = 0;
        double osec = 0, ssec = 0;
        int r = 0;

        for (uint64_t slice = 0; slice * SLICE_BYTES < size; slice++) {
                uint64_t start = slice * SLICE_BYTES;
                uint64_t end = size - start < SLICE_BYTES ? size : start + SLICE_BYTES;

                for (unsigned k = 0; k < 2 && r == 0; k++) {
                        bool snap_turn = (slice + k) % 2;

                        for (uint64_t off = start; off < end && r == 0; off += SEQ_IO) {
                                size_t len = end - off < SEQ_IO ? (size_t)(end - off) : SEQ_IO;

                                if (snap_turn)
                                        r = timed_read(b, s, snap, snap_gen, off, len, &ssec,
                                                       &sbad);
                                else
                                        r = timed_read(b, s, 0, b->origin.gen, off, len, &osec,
                                                       &obad);
                        }
                }
        }
        if (r == 0) {
                *ret_osec = osec;
                *ret_ssec = ssec;
                *ret_obad = obad;
                *ret_sbad = sbad;
        }
        return r;
}

int churn_writes(Bench *b, SsStore *s, uint64_t chunks)
{
        uint64_t cs = b->cfg.chunk_size, nchunks = b->origin.size / cs;
        uint64_t run_max = SEQ_IO / cs < CHURN_RUN_MAX ? SEQ_IO / cs : CHURN_RUN_MAX;
        int r;

        while (chunks > 0) {
                uint64_t run = 1 + rng_below(&b->rng, run_max);
                uint64_t first = rng_below(&b->rng, nchunks);

                if (run > chunks)
                        run = chunks;
                if (run > nchunks - first)
                        run = nchunks - first;
                stamp(&b->origin, b->buf, first * cs, run * cs);
                r = ss_origin_write(s, b->buf, first * cs, run * cs);
                if (r < 0)
                        return fail(b, r, "ss_origin_write (churn)");
                chunks -= run;
        }
        return 0;
}
