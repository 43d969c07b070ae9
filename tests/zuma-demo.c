/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-demo: the snapshot store at work, through the public API only.
 *
 *   zuma-demo ORIGIN STORE
 *
 * Creates a store for ORIGIN on STORE (both are overwritten), fills the
 * origin, takes snapshots "monday" and "tuesday" with overwrites in between,
 * and shows that each snapshot still reads back exactly what the origin held
 * when it was taken; then the changed chunks between the two, the space each
 * snapshot holds, deleting one with background cleanup, and the store totals.
 * Exits non-zero if anything reads back wrong.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "snapstore.h"

#define IO_SIZE (1u << 20) /* bytes per read or write call */
#define PATTERN_UNIT 4096u /* bytes: each 4 KiB block carries its own pattern */
#define DELTA_BATCH 256u
#define DEMO_SIZE (64ull << 20) /* bytes of the origin the demo uses */

typedef struct Demo {
        SsStore *s;
        uint64_t size; /* origin bytes used by the demo */
        uint32_t chunk_size;
        uint8_t *buf;      /* IO_SIZE, aligned */
        uint16_t *origin;  /* generation of each 4 KiB unit of the origin */
        uint16_t *monday;  /* ... as snapshot "monday" saw it */
        uint16_t *tuesday; /* ... as snapshot "tuesday" saw it */
        uint32_t monday_id, tuesday_id;
        int mismatches;
} Demo;

static int fail(const char *what, int r)
{
        fprintf(stderr, "zuma-demo: %s failed: %s (%s)\n", what, strerror(-r), ss_last_error());
        return 1;
}

static uint64_t mix(uint64_t x)
{
        x += 0x9e3779b97f4a7c15ull;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        return x ^ (x >> 31);
}

/* The contents of 4 KiB unit `unit` written in generation `gen`. */
static void fill_unit(uint8_t *p, uint64_t unit, uint16_t gen)
{
        uint64_t seed = mix(unit << 16 | gen);

        for (unsigned i = 0; i < PATTERN_UNIT; i += 8) {
                uint64_t v = mix(seed + i);

                memcpy(p + i, &v, 8);
        }
        /* A readable tag at the start of each unit, for anyone with hexdump. */
        snprintf((char *)p, 32, "zuma u%" PRIu64 " g%u", unit, gen);
}

static const char *human(uint64_t bytes, char *out, size_t len)
{
        if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
                snprintf(out, len, "%" PRIu64 " MiB", bytes >> 20);
        else if (bytes >= (1ull << 20))
                snprintf(out, len, "%.1f MiB", (double)bytes / (1 << 20));
        else if (bytes >= 1024)
                snprintf(out, len, "%" PRIu64 " KiB", bytes >> 10);
        else
                snprintf(out, len, "%" PRIu64 " bytes", bytes);
        return out;
}

/* Writes generation `gen` over [offset, offset + length) of the origin. */
static int write_range(Demo *d, uint64_t offset, uint64_t length, uint16_t gen)
{
        char h1[32], h2[32];

        printf("    write %s at %s (generation %u)\n", human(length, h1, sizeof(h1)),
               human(offset, h2, sizeof(h2)), gen);
        for (uint64_t off = offset; off < offset + length; off += IO_SIZE) {
                size_t n =
                        (size_t)(offset + length - off < IO_SIZE ? offset + length - off : IO_SIZE);
                int r;

                for (size_t i = 0; i < n; i += PATTERN_UNIT) {
                        uint64_t unit = (off + i) / PATTERN_UNIT;

                        fill_unit(d->buf + i, unit, gen);
                        d->origin[unit] = gen;
                }
                r = ss_origin_write(d->s, d->buf, off, n);
                if (r < 0)
                        return fail("ss_origin_write", r);
        }
        return 0;
}

/* Checksums what `id` (0: the origin) reads, against what it should hold. */
static int verify(Demo *d, uint32_t id, const char *label, const uint16_t *expect)
{
        XXH3_state_t *got = XXH3_createState(), *want = XXH3_createState();
        uint8_t unit_buf[PATTERN_UNIT];
        uint64_t got_sum, want_sum;
        int ret = 0;

        if (!got || !want) {
                XXH3_freeState(got);
                XXH3_freeState(want);
                return 1;
        }
        XXH3_64bits_reset(got);
        XXH3_64bits_reset(want);
        for (uint64_t off = 0; off < d->size && ret == 0; off += IO_SIZE) {
                size_t n = (size_t)(d->size - off < IO_SIZE ? d->size - off : IO_SIZE);
                int r = id ? ss_snapshot_read(d->s, id, d->buf, off, n)
                           : ss_origin_read(d->s, d->buf, off, n);

                if (r < 0) {
                        ret = fail(id ? "ss_snapshot_read" : "ss_origin_read", r);
                        break;
                }
                XXH3_64bits_update(got, d->buf, n);
                for (size_t i = 0; i < n; i += PATTERN_UNIT) {
                        uint64_t unit = (off + i) / PATTERN_UNIT;

                        fill_unit(unit_buf, unit, expect[unit]);
                        XXH3_64bits_update(want, unit_buf, PATTERN_UNIT);
                }
        }
        got_sum = XXH3_64bits_digest(got);
        want_sum = XXH3_64bits_digest(want);
        XXH3_freeState(got);
        XXH3_freeState(want);
        if (ret)
                return ret;
        printf("    %-22s xxh3 %016" PRIx64 "  expected %016" PRIx64 "  %s\n", label, got_sum,
               want_sum, got_sum == want_sum ? "matches" : "DIFFERS");
        if (got_sum != want_sum)
                d->mismatches++;
        return 0;
}

static int verify_all(Demo *d, bool with_monday)
{
        int r = 0;

        if (with_monday)
                r = verify(d, d->monday_id, "snapshot \"monday\"", d->monday);
        if (!r)
                r = verify(d, d->tuesday_id, "snapshot \"tuesday\"", d->tuesday);
        if (!r)
                r = verify(d, SS_ORIGIN_ID, "origin", d->origin);
        return r;
}

static int take_snapshot(Demo *d, const char *name, uint16_t *copy, uint32_t *ret_id)
{
        int r = ss_snapshot_create(d->s, name, 0, 0, ret_id);

        if (r < 0)
                return fail("ss_snapshot_create", r);
        memcpy(copy, d->origin, d->size / PATTERN_UNIT * sizeof(*copy));
        printf("    snapshot \"%s\" is id %" PRIu32 "\n", name, *ret_id);
        return 0;
}

static void print_range(uint64_t first, uint64_t last)
{
        if (first == last)
                printf(" %" PRIu64, first);
        else
                printf(" %" PRIu64 "-%" PRIu64, first, last);
}

/* Prints the chunks that differ between two snapshots as ranges. */
static int show_delta(Demo *d, uint32_t from, uint32_t to, const char *label)
{
        uint64_t chunks[DELTA_BATCH], first = 0, last = 0, total = 0;
        unsigned ranges = 0;
        SsDeltaCursor cur;
        char h[32];
        int n, r;

        r = ss_delta_begin(d->s, from, to, &cur);
        if (r < 0)
                return fail("ss_delta_begin", r);
        printf("    %s:", label);
        while ((n = ss_delta_next(d->s, &cur, chunks, DELTA_BATCH)) > 0) {
                for (int i = 0; i < n; i++, total++) {
                        if (total && chunks[i] == last + 1) {
                                last = chunks[i];
                                continue;
                        }
                        if (total) {
                                if (ranges < 8)
                                        print_range(first, last);
                                ranges++;
                        }
                        first = last = chunks[i];
                }
        }
        if (n < 0)
                return fail("ss_delta_next", n);
        if (total) {
                if (ranges < 8)
                        print_range(first, last);
                ranges++;
        }
        if (ranges > 8)
                printf(" ... (%u ranges)", ranges);
        printf("\n      = %" PRIu64 " chunks, %s to send\n", total,
               human(total * d->chunk_size, h, sizeof(h)));
        return 0;
}

static int show_usage(Demo *d)
{
        SsSnapshotInfo info;
        uint32_t after = 0;
        int r;

        while ((r = ss_snapshot_next(d->s, after, &info)) == 0) {
                SsSnapshotUsage use;
                char h[32];

                r = ss_snapshot_usage(d->s, info.id, &use);
                if (r < 0)
                        return fail("ss_snapshot_usage", r);
                printf("    %-10s id %-3" PRIu32 " holds %-10s alone (%" PRIu64
                       " copied-out chunks only it needs)\n",
                       info.name, info.id, human(use.exclusive_bytes, h, sizeof(h)),
                       use.shared_chunks);
                after = info.id;
        }
        if (r != -ENOENT)
                return fail("ss_snapshot_next", r);
        return 0;
}

static int show_info(Demo *d)
{
        SsStoreInfo info;
        char h[32];
        int r = ss_store_info(d->s, &info);

        if (r < 0)
                return fail("ss_store_info", r);
        printf("    volume \"%s\", chunk size %s, txid %" PRIu64 "\n", info.volume_name,
               human(info.chunk_size, h, sizeof(h)), info.txid);
        printf("    origin %s, ", human(info.origin_size, h, sizeof(h)));
        printf("store %s\n", human(info.store_size, h, sizeof(h)));
        printf("    %" PRIu32 " snapshot(s), next id %" PRIu32 "\n", info.snapshot_count,
               info.next_id);
        printf("    data %s, ", human(info.data_bytes, h, sizeof(h)));
        printf("metadata %s, ", human(info.metadata_bytes, h, sizeof(h)));
        printf("free %s\n", human(info.free_bytes, h, sizeof(h)));
        printf("    %" PRIu64 " shared and %" PRIu64 " private exceptions, %" PRIu32
               " cleanup job(s) pending\n",
               info.shared_exceptions, info.private_exceptions, info.cleanup_jobs);
        return 0;
}

static int run(Demo *d)
{
        uint64_t mib = 1 << 20;
        SsExtent ext[8];
        SsStoreInfo before, after;
        unsigned steps = 0;
        char h[32];
        int r, n;

        printf("\n[2] Fill the origin (%s) through the store\n", human(d->size, h, sizeof(h)));
        if ((r = write_range(d, 0, d->size, 1)))
                return r;

        printf("\n[3] Snapshot \"monday\"\n");
        if ((r = take_snapshot(d, "monday", d->monday, &d->monday_id)))
                return r;

        printf("\n[4] Overwrite parts of the origin: the old chunks are copied out first\n");
        if ((r = write_range(d, 0, 4 * mib, 2)) || (r = write_range(d, 16 * mib, 2 * mib, 2)) ||
            (r = write_range(d, 40 * mib + 4096, 8192, 2)))
                return r;

        printf("\n[5] Snapshot \"tuesday\"\n");
        if ((r = take_snapshot(d, "tuesday", d->tuesday, &d->tuesday_id)))
                return r;

        printf("\n[6] Overwrite again, partly the same places\n");
        if ((r = write_range(d, 2 * mib, 4 * mib, 3)) || (r = write_range(d, 48 * mib, mib, 3)))
                return r;

        printf("\n[7] Every image reads back what it held (xxh3 of the whole image)\n");
        if ((r = verify_all(d, true)))
                return r;

        printf("\n[8] Where \"monday\" reads its first 8 MiB from\n");
        n = ss_snapshot_map_read(d->s, d->monday_id, 0, 8 * mib, ext, 8);
        if (n < 0)
                return fail("ss_snapshot_map_read", n);
        for (int i = 0; i < n; i++)
                printf("    %5" PRIu64 " KiB + %5" PRIu64 " KiB from the %s at byte %" PRIu64 "\n",
                       ext[i].offset >> 10, ext[i].length >> 10,
                       ext[i].kind == SS_EXTENT_STORE ? "store " : "origin", ext[i].dev_offset);

        printf("\n[9] Changed chunks (chunk numbers of %s), the basis of replication\n",
               human(d->chunk_size, h, sizeof(h)));
        if ((r = show_delta(d, d->monday_id, d->tuesday_id, "monday -> tuesday")) ||
            (r = show_delta(d, d->tuesday_id, SS_ORIGIN_ID, "tuesday -> origin")))
                return r;

        printf("\n[10] Space each snapshot holds\n");
        if ((r = show_usage(d)))
                return r;

        printf("\n[11] Delete \"monday\" and free its space in the background\n");
        if ((r = ss_store_info(d->s, &before)) < 0)
                return fail("ss_store_info", r);
        if ((r = ss_snapshot_delete(d->s, d->monday_id)) < 0)
                return fail("ss_snapshot_delete", r);
        while ((r = ss_cleanup_step(d->s, 64)) > 0)
                steps++;
        if (r < 0)
                return fail("ss_cleanup_step", r);
        if ((r = ss_store_info(d->s, &after)) < 0)
                return fail("ss_store_info", r);
        printf("    cleanup ran %u step(s) of up to 64 exceptions\n", steps + 1);
        printf("    free space %s", human(before.free_bytes, h, sizeof(h)));
        printf(" -> %s", human(after.free_bytes, h, sizeof(h)));
        printf(", data %s", human(before.data_bytes, h, sizeof(h)));
        printf(" -> %s\n", human(after.data_bytes, h, sizeof(h)));
        if ((r = verify_all(d, false)))
                return r;

        printf("\n[12] The store now\n");
        if ((r = show_info(d)))
                return r;
        if ((r = show_usage(d)))
                return r;
        return 0;
}

static void demo_free(Demo *d)
{
        free(d->buf);
        free(d->origin);
        free(d->monday);
        free(d->tuesday);
}

/* Creates and opens the store, runs the demo, closes the store. */
static int demo_on(Demo *d, SsBlockDev *origin, SsBlockDev *store, const char *store_path)
{
        SsCreateOptions create = { .volume_name = "demo", .force = true };
        SsOpenOptions open_opts = { 0 };
        SsStoreInfo info;
        size_t units;
        char h[32];
        int r, ret;

        if (ss_dev_size(origin) < d->size) {
                fprintf(stderr, "zuma-demo: the origin must hold at least %s\n",
                        human(d->size, h, sizeof(h)));
                return 2;
        }
        units = d->size / PATTERN_UNIT;
        d->buf = ss_alloc_io_buffer(IO_SIZE);
        d->origin = calloc(units, sizeof(uint16_t));
        d->monday = calloc(units, sizeof(uint16_t));
        d->tuesday = calloc(units, sizeof(uint16_t));
        if (!d->buf || !d->origin || !d->monday || !d->tuesday)
                return fail("allocating buffers", -ENOMEM);

        if ((r = ss_store_create(origin, store, &create)) < 0)
                return fail("ss_store_create", r);
        if ((r = ss_store_open(origin, store, &open_opts, &d->s)) < 0)
                return fail("ss_store_open", r);
        if ((r = ss_store_info(d->s, &info)) < 0) {
                ret = fail("ss_store_info", r);
        } else {
                d->chunk_size = info.chunk_size;
                printf("    volume \"%s\", chunk size %s, store %s\n", info.volume_name,
                       human(info.chunk_size, h, sizeof(h)), store_path);
                ret = run(d);
        }
        r = ss_store_close(d->s);
        d->s = NULL;
        if (r < 0 && !ret)
                ret = fail("ss_store_close", r);
        return ret;
}

int main(int argc, char **argv)
{
        SsBlockDev *origin = NULL, *store = NULL;
        Demo d = { .size = DEMO_SIZE };
        int r, ret;

        if (argc != 3) {
                fprintf(stderr, "Usage: %s ORIGIN STORE   (both are overwritten)\n", argv[0]);
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);

        printf("[1] Create a store for origin %s on %s\n", argv[1], argv[2]);
        if ((r = ss_blockdev_open_file(argv[1], 0, &origin)) < 0)
                return fail("opening the origin", r);
        if ((r = ss_blockdev_open_file(argv[2], 0, &store)) < 0) {
                ss_blockdev_close(origin);
                return fail("opening the store", r);
        }

        ret = demo_on(&d, origin, store, argv[2]);
        if (!ret && d.mismatches) {
                printf("\nzuma-demo: %d image(s) read back wrong\n", d.mismatches);
                ret = 1;
        }
        demo_free(&d);
        ss_blockdev_close(store);
        ss_blockdev_close(origin);
        if (!ret)
                printf("\nzuma-demo: every snapshot read back exactly what it held\n");
        return ret;
}
