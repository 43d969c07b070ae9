/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Writes the version-2 fixture store of test-upgrade: a 2 MiB origin, a
 * 4 MiB store with 4 KiB chunks, six live snapshots (names of several
 * lengths up to the maximum, every flag, extreme priorities, a writable one
 * written to, a deleted one leaving a gap in the ids) and copied-out chunks
 * between them, plus each live snapshot's image as snap-<id>.img so the
 * script can record its sha256.  make-v2-fixture.sh runs it; it was run
 * with the engine of the commit named in v2-fixture.sha256, before the
 * compact snapshot table existed.
 *
 *   make-v2-fixture DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockdev.h"
#include "snapstore.h"

#define ORIGIN_SIZE (2u << 20)
#define STORE_SIZE (4u << 20)
#define CHUNK 4096u

static void check(int r, const char *what)
{
        if (r < 0) {
                fprintf(stderr, "make-v2-fixture: %s: %s\n", what, ss_last_error());
                exit(1);
        }
}

static void make_file(const char *path, uint64_t size)
{
        FILE *f = fopen(path, "w");

        if (!f || ftruncate(fileno(f), (off_t)size) < 0 || fclose(f) != 0) {
                perror(path);
                exit(1);
        }
}

/* Deterministic contents that compress well: every 4 KiB block repeats
 * its offset and the pass that wrote it. */
static void fill(uint8_t *buf, size_t len, uint64_t offset, unsigned pass)
{
        for (size_t i = 0; i < len; i += 16) {
                uint64_t v[2] = { (offset + i) & ~(uint64_t)(CHUNK - 1), pass };
                memcpy(buf + i, v, 16);
        }
}

static void write_origin(SsStore *s, uint64_t offset, size_t len, unsigned pass)
{
        uint8_t *buf = ss_alloc_io_buffer(len);

        fill(buf, len, offset, pass);
        check(ss_origin_write(s, buf, offset, len), "ss_origin_write");
        free(buf);
}

static void dump_snapshot(SsStore *s, const char *dir, uint32_t id)
{
        char path[4096];
        uint8_t *buf = ss_alloc_io_buffer(ORIGIN_SIZE);
        FILE *f;

        check(ss_snapshot_read(s, id, buf, 0, ORIGIN_SIZE), "ss_snapshot_read");
        snprintf(path, sizeof(path), "%s/snap-%u.img", dir, id);
        f = fopen(path, "w");
        if (!f || fwrite(buf, 1, ORIGIN_SIZE, f) != ORIGIN_SIZE || fclose(f) != 0) {
                perror(path);
                exit(1);
        }
        free(buf);
}

int main(int argc, char **argv)
{
        char opath[4096], spath[4096], longest[128];
        SsBlockDev *origin, *store;
        SsStore *s;
        uint32_t id[8];

        if (argc != 2) {
                fprintf(stderr, "usage: make-v2-fixture DIR\n");
                return 2;
        }
        snprintf(opath, sizeof(opath), "%s/origin.img", argv[1]);
        snprintf(spath, sizeof(spath), "%s/store.img", argv[1]);
        make_file(opath, ORIGIN_SIZE);
        make_file(spath, STORE_SIZE);
        check(ss_blockdev_open_file(opath, SS_BLOCKDEV_BUFFERED, &origin), opath);
        check(ss_blockdev_open_file(spath, SS_BLOCKDEV_BUFFERED, &store), spath);
        SsCreateOptions copts = { .volume_name = "fixture-v2", .chunk_size = CHUNK };
        check(ss_store_create(origin, store, &copts), "ss_store_create");
        SsOpenOptions oopts = { 0 };
        check(ss_store_open(origin, store, &oopts, &s), "ss_store_open");

        memset(longest, 'z', 127);
        longest[0] = 'L';
        longest[127] = 0;
        write_origin(s, 0, ORIGIN_SIZE, 1);
        check(ss_snapshot_create_at(s, "a", 0, 0, 1700000000, &id[0]), "create a");
        write_origin(s, 0, 64 * CHUNK, 2);
        check(ss_snapshot_create_at(s, longest, SS_SNAP_PINNED, -5, 1700000100, &id[1]),
              "create longest");
        write_origin(s, 32 * CHUNK, 64 * CHUNK, 3);
        check(ss_snapshot_create_at(s, "gone", 0, 0, 1700000150, &id[2]), "create gone");
        write_origin(s, 100 * CHUNK, 8 * CHUNK, 4);
        check(ss_snapshot_create_at(s, "nightly-2026-12-07T06:00", SS_SNAP_WRITABLE, 7, 1700000200,
                                    &id[3]),
              "create writable");
        check(ss_snapshot_delete(s, id[2]), "delete gone");
        write_origin(s, 200 * CHUNK, 100 * CHUNK, 5);
        uint8_t *buf = ss_alloc_io_buffer(16 * CHUNK);
        fill(buf, 16 * CHUNK, 7 * CHUNK, 6);
        check(ss_snapshot_write(s, id[3], buf, 7 * CHUNK, 16 * CHUNK), "ss_snapshot_write");
        free(buf);
        check(ss_snapshot_create_at(s, "mid.len_name+x:y-0123456789", SS_SNAP_PINNED, 2147483647,
                                    1700000300, &id[4]),
              "create mid");
        write_origin(s, 0, 16 * CHUNK, 7);
        write_origin(s, 480 * CHUNK, 32 * CHUNK, 8);
        check(ss_snapshot_create_at(s, "last", 0, -2147483647 - 1, 1700000400, &id[5]),
              "create last");
        write_origin(s, 500 * CHUNK, 12 * CHUNK, 9);
        check(ss_snapshot_create_at(s, "B", SS_SNAP_WRITABLE | SS_SNAP_PINNED, 1, 1700000500,
                                    &id[6]),
              "create B");
        while (ss_cleanup_step(s, 64) > 0)
                ;
        check(ss_store_flush(s), "ss_store_flush");
        for (unsigned i = 0; i < 7; i++)
                if (i != 2)
                        dump_snapshot(s, argv[1], id[i]);
        check(ss_store_close(s), "ss_store_close");
        ss_blockdev_close(origin);
        ss_blockdev_close(store);
        return 0;
}
