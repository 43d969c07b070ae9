/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Snapshot reads that span many extents return exactly the right bytes.
 *
 * A seeded random history (origin writes in runs and pieces of chunks,
 * zero and patterned data, read-only and writable snapshots with private
 * writes, a deleted snapshot) leaves each snapshot's image a patchwork of
 * origin extents and shared and private store chunks, some next to each
 * other on the device and some not.  Every snapshot is then read whole and
 * at random offsets, lengths and buffer alignments, through
 * ss_snapshot_read() and through ss_snapshot_map_read() +
 * ss_extents_read() (the frontend's unlocked path), and compared with an
 * in-memory model.  It runs on file devices, whose reads are issued from
 * several threads, and on memory devices, read one at a time.
 *
 * Usage: test-snapread [--seed N] [-v]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-check.h"
#include "faultdev.h"
#include "snapstore.h"
#include "test-util.h"

#define ORIGIN_CHUNKS 1200u
#define ROUNDS 6u
#define READS_PER_SNAPSHOT 60u
#define READ_MAX (1u << 20)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

typedef struct Snap {
        uint32_t id;
        bool writable;
        uint8_t *image; /* what a read must return */
} Snap;

typedef struct World {
        Rng rng;
        uint32_t chunk;
        uint64_t size;
        uint8_t *origin; /* the model of the origin */
        Snap snaps[ROUNDS];
        unsigned nsnaps;
        SsStore *s;
} World;

static void report(void *user, const char *msg)
{
        (void)user;
        fprintf(stderr, "  check: %s\n", msg);
}

/* A piece of [0, size): whole chunk runs mostly, sometimes sector pieces. */
static void pick_range(World *w, uint64_t *ret_off, uint64_t *ret_len)
{
        uint64_t chunks = w->size / w->chunk;

        if (rng_percent(&w->rng, 75)) {
                uint64_t first = rng_below(&w->rng, chunks), run = rng_range(&w->rng, 1, 8);
                *ret_off = first * w->chunk;
                *ret_len = MIN(run, chunks - first) * w->chunk;
        } else {
                uint64_t sectors = w->size / 512, first = rng_below(&w->rng, sectors);
                uint64_t n = rng_range(&w->rng, 1, 3 * w->chunk / 512);
                *ret_off = first * 512;
                *ret_len = MIN(n, sectors - first) * 512;
        }
}

static void origin_writes(World *w, unsigned count)
{
        uint8_t *buf = ss_alloc_io_buffer(8u * w->chunk + 4096);

        for (unsigned k = 0; k < count; k++) {
                uint64_t off, len;
                pick_range(w, &off, &len);
                len = MIN(len, 8u * w->chunk);
                rng_fill(&w->rng, buf, len);
                CHECK_SS(ss_origin_write(w->s, buf, off, len) == 0);
                memcpy(w->origin + off, buf, len);
        }
        free(buf);
}

static void private_writes(World *w, Snap *sn, unsigned count)
{
        uint8_t *buf = ss_alloc_io_buffer(8u * w->chunk);

        for (unsigned k = 0; k < count; k++) {
                uint64_t off, len;
                pick_range(w, &off, &len);
                len = MIN(len, 8u * w->chunk);
                rng_fill(&w->rng, buf, len);
                CHECK_SS(ss_snapshot_write(w->s, sn->id, buf, off, len) == 0);
                memcpy(sn->image + off, buf, len);
        }
        free(buf);
}

static void build_history(World *w)
{
        uint8_t *buf = ss_alloc_io_buffer(w->size);

        rng_fill(&w->rng, buf, w->size);
        CHECK_SS(ss_origin_write(w->s, buf, 0, w->size) == 0);
        memcpy(w->origin, buf, w->size);
        free(buf);
        for (unsigned r = 0; r < ROUNDS; r++) {
                Snap *sn = &w->snaps[w->nsnaps++];
                char name[32];
                snprintf(name, sizeof(name), "s%u", r);
                sn->writable = rng_percent(&w->rng, 35);
                CHECK_SS(ss_snapshot_create(w->s, name, sn->writable ? SS_SNAP_WRITABLE : 0, 0,
                                            &sn->id) == 0);
                sn->image = xcalloc(1, w->size);
                memcpy(sn->image, w->origin, w->size);
                origin_writes(w, (unsigned)rng_range(&w->rng, 20, 120));
                if (sn->writable)
                        private_writes(w, sn, (unsigned)rng_range(&w->rng, 5, 40));
        }
        /* One snapshot in the middle goes: its neighbours keep the chunks
         * they share with it. */
        unsigned gone = 1 + (unsigned)rng_below(&w->rng, w->nsnaps - 2);
        CHECK_SS(ss_snapshot_delete(w->s, w->snaps[gone].id) == 0);
        free(w->snaps[gone].image);
        memmove(&w->snaps[gone], &w->snaps[gone + 1], (w->nsnaps - gone - 1) * sizeof(Snap));
        w->nsnaps--;
        while (ss_cleanup_step(w->s, 16) > 0)
                ;
}

/* Reads [off, off + len) of sn through ss_snapshot_read() into a buffer
 * misaligned by skew bytes and compares. */
static void check_read(World *w, Snap *sn, uint64_t off, uint64_t len, size_t skew)
{
        uint8_t *mem = ss_alloc_io_buffer(len + 4096);

        memset(mem, 0xa5, len + 4096);
        int r = ss_snapshot_read(w->s, sn->id, mem + skew, off, len);
        CHECK_SS(r == 0);
        if (r == 0 && memcmp(mem + skew, sn->image + off, len) != 0) {
                fprintf(stderr, "FAIL snapshot %u: read at %llu+%llu (buffer skew %zu) differs\n",
                        sn->id, (unsigned long long)off, (unsigned long long)len, skew);
                check_failures++;
        }
        free(mem);
}

/* The frontend's path: map (max extents at a time), then ss_extents_read(). */
static void check_extents_read(World *w, Snap *sn, uint64_t off, uint64_t len, size_t max)
{
        SsExtent ext[64];
        uint8_t *mem = ss_alloc_io_buffer(len);
        uint64_t at = off;

        while (at < off + len) {
                int n = ss_snapshot_map_read(w->s, sn->id, at, off + len - at, ext, max);
                CHECK_SS(n > 0);
                if (n <= 0)
                        break;
                CHECK_SS(ext[0].offset == at);
                CHECK_SS(ss_extents_read(w->s, ext, (size_t)n, mem + (at - off)) == 0);
                at = ext[n - 1].offset + ext[n - 1].length;
        }
        if (memcmp(mem, sn->image + off, len) != 0) {
                fprintf(stderr, "FAIL snapshot %u: extents read at %llu+%llu differs\n", sn->id,
                        (unsigned long long)off, (unsigned long long)len);
                check_failures++;
        }
        free(mem);
}

/* Extents of a whole-image read, and how many come from the store. */
static void count_extents(World *w, Snap *sn, size_t *ret_all, size_t *ret_store)
{
        SsExtent ext[64];
        uint64_t at = 0;

        *ret_all = *ret_store = 0;
        while (at < w->size) {
                int n = ss_snapshot_map_read(w->s, sn->id, at, w->size - at, ext, 64);
                CHECK_SS(n > 0);
                if (n <= 0)
                        return;
                for (int i = 0; i < n; i++)
                        *ret_store += ext[i].kind == SS_EXTENT_STORE;
                *ret_all += (size_t)n;
                at = ext[n - 1].offset + ext[n - 1].length;
        }
}

static void check_snapshots(World *w, bool verbose)
{
        for (unsigned k = 0; k < w->nsnaps; k++) {
                Snap *sn = &w->snaps[k];
                size_t all, store;
                count_extents(w, sn, &all, &store);
                if (verbose)
                        printf("  snapshot %u: %zu extents, %zu in the store\n", sn->id, all,
                               store);
                /* The history must give the reads something to do. */
                CHECK_SS(store > 0 && all - store > 0);
                check_read(w, sn, 0, w->size, 0);
                check_extents_read(w, sn, 0, w->size, 64);
                for (unsigned i = 0; i < READS_PER_SNAPSHOT; i++) {
                        uint64_t sectors = w->size / 512;
                        bool whole_blocks = rng_percent(&w->rng, 60);
                        uint64_t unit = whole_blocks ? 8 : 1;
                        uint64_t off = rng_below(&w->rng, sectors / unit) * unit;
                        uint64_t max = MIN(sectors - off, READ_MAX / 512);
                        uint64_t len = rng_range(&w->rng, 1, max) / unit * unit;
                        len = MAX(len, unit);
                        len = MIN(len, sectors - off);
                        size_t skew = rng_percent(&w->rng, 70) ? 0
                                                               : 512 * rng_range(&w->rng, 0, 7) +
                                                                         rng_below(&w->rng, 2);
                        check_read(w, sn, off * 512, len * 512, skew);
                        check_extents_read(w, sn, off * 512, len * 512,
                                           (size_t)rng_range(&w->rng, 1, 64));
                }
        }
}

static void run(uint64_t seed, bool on_files, bool verbose)
{
        World w = { .rng = { seed } };
        w.chunk = rng_percent(&w.rng, 50) ? 4096 : 16384;
        w.size = (uint64_t)ORIGIN_CHUNKS * w.chunk;
        w.origin = xcalloc(1, w.size);
        uint64_t store_size = 4 * w.size + (16u << 20);
        FaultDomain *fd = NULL;
        SsBlockDev *origin = NULL, *store = NULL;
        char dir[] = "/var/tmp/test-snapread-XXXXXX", opath[64], spath[64];

        printf("%s devices, chunk %u\n", on_files ? "file" : "memory", w.chunk);
        if (on_files) {
                if (!mkdtemp(dir)) {
                        perror("mkdtemp");
                        exit(99);
                }
                snprintf(opath, sizeof(opath), "%s/origin", dir);
                snprintf(spath, sizeof(spath), "%s/store", dir);
                FILE *f1 = fopen(opath, "w"), *f2 = fopen(spath, "w");
                CHECK_SS(f1 && f2 && ftruncate(fileno(f1), (off_t)w.size) == 0 &&
                         ftruncate(fileno(f2), (off_t)store_size) == 0);
                fclose(f1);
                fclose(f2);
                CHECK_SS(ss_blockdev_open_file(opath, 0, &origin) == 0);
                CHECK_SS(ss_blockdev_open_file(spath, 0, &store) == 0);
        } else {
                fd = fault_domain_new(seed);
                origin = faultdev_new(fd, "origin", w.size);
                store = faultdev_new(fd, "store", store_size);
        }
        SsCreateOptions c = { .volume_name = "vol", .chunk_size = w.chunk };
        CHECK_SS(ss_store_create(origin, store, &c) == 0);
        SsOpenOptions o = { .cache_bytes = 1 << 20 };
        CHECK_SS(ss_store_open(origin, store, &o, &w.s) == 0);

        build_history(&w);
        check_snapshots(&w, verbose);
        CHECK_SS(ss_check(w.s, report, NULL) == 0);

        CHECK_SS(ss_store_close(w.s) == 0);
        ss_blockdev_close(origin);
        ss_blockdev_close(store);
        if (fd)
                fault_domain_free(fd);
        if (on_files) {
                unlink(opath);
                unlink(spath);
                rmdir(dir);
        }
        for (unsigned k = 0; k < w.nsnaps; k++)
                free(w.snaps[k].image);
        free(w.origin);
}

int main(int argc, char **argv)
{
        TestArgs args;

        test_args_parse(argc, argv, &args);
        run(seed_mix(args.seed, 1), true, args.verbose);
        run(seed_mix(args.seed, 1), false, args.verbose);
        run(seed_mix(args.seed, 2), true, args.verbose);
        if (check_failures) {
                fprintf(stderr, "%d checks failed (seed=%llu)\n", check_failures,
                        (unsigned long long)args.seed);
                return 1;
        }
        printf("ok\n");
        return 0;
}
