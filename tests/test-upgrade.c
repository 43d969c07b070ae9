/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The upgrade to the compact snapshot table, on a store written by the
 * format before it (tests/upgrade/: the fixture, the script that made it
 * and the sha256 of each snapshot's image then):
 *   - a read-only open reads it in the old format and changes nothing;
 *   - a writable open rewrites the snapshot table and sets the feature;
 *     every snapshot keeps its record and its image, ss_check and
 *     zumastor-check find nothing, and it reopens;
 *   - a power cut at every write of the upgrade leaves a store that opens,
 *     in the old format or the new, with every image intact, and that the
 *     next writable open upgrades;
 *   - the same for a snapshot table of several levels of old records, made
 *     by this test (white-box).
 * The power cuts resolve unflushed writes at random: the seed is printed
 * and --seed N replays a run.  $ZUMA_FIXTURE_DIR names tests/upgrade and
 * $ZUMASTOR_CHECK the zumastor-check binary.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "faultdev.h"
#include "internal.h"
/* after internal.h: GLib replaces its MIN and MAX with the same */
#include <glib.h>
#include "test-check.h"
#include "test-util.h"

#define MAX_SNAPS 16

typedef struct Fixture {
        uint8_t *origin, *store;
        size_t origin_size, store_size;
        uint32_t ids[MAX_SNAPS];
        char sha[MAX_SNAPS][65];
        unsigned n;
        SsSnapshotInfo info[MAX_SNAPS]; /* as the read-only open saw them */
} Fixture;

static uint8_t *unzstd(const char *dir, const char *name, size_t *ret_size)
{
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *packed = NULL;
        gsize len = 0;

        if (!g_file_get_contents(path, &packed, &len, NULL)) {
                fprintf(stderr, "test-upgrade: cannot read %s\n", path);
                exit(1);
        }
        unsigned long long size = ZSTD_getFrameContentSize(packed, len);
        if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
                fprintf(stderr, "test-upgrade: %s is no zstd frame with a size\n", path);
                exit(1);
        }
        uint8_t *out = xcalloc(1, size);
        if (ZSTD_decompress(out, size, packed, len) != size) {
                fprintf(stderr, "test-upgrade: %s does not decompress\n", path);
                exit(1);
        }
        *ret_size = size;
        return out;
}

static void fixture_load(Fixture *f, const char *dir)
{
        g_autofree char *path = g_build_filename(dir, "v2-fixture.sha256", NULL);
        g_autofree char *text = NULL;

        f->origin = unzstd(dir, "v2-origin.img.zst", &f->origin_size);
        f->store = unzstd(dir, "v2-store.img.zst", &f->store_size);
        if (!g_file_get_contents(path, &text, NULL, NULL)) {
                fprintf(stderr, "test-upgrade: cannot read %s\n", path);
                exit(1);
        }
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
                unsigned id;
                char sha[65];
                if (**l == '#' || !**l)
                        continue;
                if (sscanf(*l, "%u %64s", &id, sha) != 2 || f->n == MAX_SNAPS) {
                        fprintf(stderr, "test-upgrade: bad line in %s: %s\n", path, *l);
                        exit(1);
                }
                f->ids[f->n] = id;
                memcpy(f->sha[f->n++], sha, 65);
        }
        CHECK(f->n >= 5, "the fixture lists %u snapshots", f->n);
}

static bool compact(const SsStore *s)
{
        return s->sb.feature_incompat & SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS;
}

static void report(void *user, const char *message)
{
        printf("  ss_check (%s): %s\n", (const char *)user, message);
}

/* Every snapshot's image against its recorded sha256, its record against
 * the first read, and ss_check. */
static void verify(Fixture *f, SsStore *s, const char *when, bool record_info)
{
        uint8_t *buf = xcalloc(1, f->origin_size);
        SsSnapshotInfo info;
        SsStoreInfo si;

        CHECK(ss_store_info(s, &si) == 0 && si.snapshot_count == f->n, "%s: %u snapshots", when,
              si.snapshot_count);
        for (unsigned i = 0; i < f->n; i++) {
                int r = ss_snapshot_read(s, f->ids[i], buf, 0, f->origin_size);
                CHECK(r == 0, "%s: read snapshot %u: %s", when, f->ids[i], ss_last_error());
                g_autofree char *sha =
                        g_compute_checksum_for_data(G_CHECKSUM_SHA256, buf, f->origin_size);
                CHECK(r == 0 && !strcmp(sha, f->sha[i]), "%s: snapshot %u reads %s, want %s", when,
                      f->ids[i], sha, f->sha[i]);
                CHECK(ss_snapshot_get(s, f->ids[i], &info) == 0, "%s: get %u", when, f->ids[i]);
                if (record_info)
                        f->info[i] = info;
                else
                        CHECK(!memcmp(&info, &f->info[i], sizeof(info)),
                              "%s: snapshot %u's record changed", when, f->ids[i]);
                uint32_t id = 0;
                CHECK(ss_snapshot_find(s, info.name, &id) == 0 && id == f->ids[i], "%s: find %s",
                      when, info.name);
        }
        CHECK(ss_check(s, report, (void *)when) == 0, "%s: ss_check found problems", when);
        free(buf);
}

/* Opens the fixture's devices (fresh or as they are); NULL on failure. */
static SsStore *open_on(SsBlockDev *origin, SsBlockDev *store, unsigned flags, int *ret)
{
        SsOpenOptions o = { .flags = flags, .cache_bytes = 256 << 10 };
        SsStore *s = NULL;

        *ret = ss_store_open(origin, store, &o, &s);
        return *ret == 0 ? s : NULL;
}

/* zumastor-check on the store as it is, through files. */
static void run_zumastor_check(const Fixture *f, const uint8_t *store)
{
        const char *check = getenv("ZUMASTOR_CHECK");
        g_autofree char *dir = g_dir_make_tmp("test-upgrade-XXXXXX", NULL);
        g_autofree char *opath = g_build_filename(dir, "origin.img", NULL);
        g_autofree char *spath = g_build_filename(dir, "store.img", NULL);

        if (!check || !dir) {
                printf("zumastor-check: skipped ($ZUMASTOR_CHECK not set)\n");
                return;
        }
        CHECK(g_file_set_contents(opath, (const char *)f->origin, (gssize)f->origin_size, NULL) &&
                      g_file_set_contents(spath, (const char *)store, (gssize)f->store_size, NULL),
              "write the images to %s", dir);
        g_autofree char *cmd = g_strdup_printf("'%s' --origin '%s' '%s'", check, opath, spath);
        int status = system(cmd);
        CHECK(status == 0, "%s exited with %d", cmd, status);
        unlink(opath);
        unlink(spath);
        rmdir(dir);
}

/* Read-only, then writable (the upgrade), then reopened. */
static void upgrade_plain(Fixture *f)
{
        FaultDomain *d = fault_domain_new(1);
        SsBlockDev *origin = faultdev_new_from(d, "origin", f->origin, f->origin_size);
        SsBlockDev *store = faultdev_new_from(d, "store", f->store, f->store_size);
        int r;

        SsStore *s = open_on(origin, store, SS_OPEN_READONLY, &r);
        CHECK(s, "read-only open: %s", ss_last_error());
        if (!s)
                exit(1);
        CHECK(!compact(s), "the fixture is in the old format");
        CHECK(s->sb.roots[SS_TREE_SNAPSHOTS].depth == 1, "one snapshot leaf");
        verify(f, s, "read-only, old format", true);
        ss_store_close(s);
        CHECK(!memcmp(faultdev_contents(store), f->store, f->store_size),
              "a read-only open wrote to the store");
        run_zumastor_check(f, faultdev_contents(store));

        s = open_on(origin, store, 0, &r);
        CHECK(s, "writable open: %s", ss_last_error());
        if (!s)
                exit(1);
        CHECK(compact(s), "a writable open upgraded the store");
        verify(f, s, "upgraded", false);
        ss_store_close(s);
        run_zumastor_check(f, faultdev_contents(store));

        for (int ro = 1; ro >= 0; ro--) {
                s = open_on(origin, store, ro ? SS_OPEN_READONLY : 0, &r);
                CHECK(s && compact(s), "reopen (%s): %s", ro ? "read-only" : "writable",
                      ss_last_error());
                if (s) {
                        verify(f, s, ro ? "reopened read-only" : "reopened", false);
                        ss_store_close(s);
                }
        }
        ss_blockdev_close(origin);
        ss_blockdev_close(store);
        fault_domain_free(d);
}

/* A power cut at every write of the upgrade. */
static void upgrade_cut(Fixture *f, uint64_t seed)
{
        uint64_t writes = 0;
        unsigned old_format = 0, new_format = 0;
        int r;

        for (uint64_t cut = 1; writes == 0 || cut <= writes; cut++) {
                FaultDomain *d = fault_domain_new(seed_mix(seed, cut));
                SsBlockDev *origin = faultdev_new_from(d, "origin", f->origin, f->origin_size);
                SsBlockDev *store = faultdev_new_from(d, "store", f->store, f->store_size);
                char when[64];

                if (writes == 0) { /* the first round counts the upgrade's writes */
                        SsStore *s = open_on(origin, store, 0, &r);
                        CHECK(s, "writable open: %s", ss_last_error());
                        writes = fault_domain_writes(d);
                        if (s)
                                ss_store_close(s);
                        printf("the upgrade writes %" PRIu64 " times\n", writes);
                        cut = 0;
                } else {
                        fault_domain_cut_at_write(d, cut);
                        SsStore *s = open_on(origin, store, 0, &r);
                        if (s)
                                ss_store_close(s);
                        fault_domain_power_cycle(d, FAULT_LOSS_RANDOM);
                        s = open_on(origin, store, SS_OPEN_READONLY, &r);
                        snprintf(when, sizeof(when), "cut at write %" PRIu64, cut);
                        CHECK(s, "%s: read-only open: %s", when, ss_last_error());
                        if (s) {
                                *(compact(s) ? &new_format : &old_format) += 1;
                                verify(f, s, when, false);
                                ss_store_close(s);
                        }
                        s = open_on(origin, store, 0, &r);
                        CHECK(s && compact(s), "%s: writable open after the cut: %s", when,
                              ss_last_error());
                        if (s) {
                                verify(f, s, when, false);
                                ss_store_close(s);
                        }
                }
                ss_blockdev_close(origin);
                ss_blockdev_close(store);
                fault_domain_free(d);
        }
        printf("power cuts: %u left the old format, %u the new\n", old_format, new_format);
        CHECK(old_format > 0, "some cut leaves the old format");
}

/* ---- a deeper old-format tree, made here ----
 * The fixture's snapshot table is one leaf.  This store gets several
 * levels of 160-byte records: it is created with the compact table, which
 * is then switched off before any snapshot exists (white-box), so every
 * leaf is written in the fixed encoding. */
#define DEEP_SNAPS 300
#define DEEP_ORIGIN (1u << 20)
#define DEEP_STORE (8u << 20)

typedef struct Deep {
        uint8_t *origin, *store;
        uint32_t ids[DEEP_SNAPS];
        char names[DEEP_SNAPS][SS_NAME_MAX + 1];
        unsigned n;
} Deep;

static void deep_build(Deep *t, Rng *r)
{
        FaultDomain *d = fault_domain_new(2);
        SsBlockDev *origin = faultdev_new(d, "origin", DEEP_ORIGIN);
        SsBlockDev *store = faultdev_new(d, "store", DEEP_STORE);
        SsCreateOptions co = { .volume_name = "deep", .chunk_size = 4096 };
        int ret;

        CHECK(ss_store_create(origin, store, &co) == 0, "create: %s", ss_last_error());
        SsStore *s = open_on(origin, store, 0, &ret);
        if (!s)
                exit(1);
        s->sb.feature_incompat &= ~SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS;
        s->txn_dirty = true;
        CHECK(txn_commit(s) == 0, "commit without the feature");
        for (unsigned i = 0; i < DEEP_SNAPS; i++) {
                unsigned len = (unsigned)snprintf(t->names[t->n], SS_NAME_MAX + 1, "deep-%u-", i);
                unsigned extra = (unsigned)rng_below(r, SS_NAME_MAX - len + 1);
                memset(t->names[t->n] + len, 'a' + i % 26, extra);
                t->names[t->n][len + extra] = 0;
                CHECK(ss_snapshot_create(s, t->names[t->n], i % 4, (int32_t)i - 150,
                                         &t->ids[t->n]) == 0,
                      "create %u: %s", i, ss_last_error());
                if (i % 7 == 3) /* gaps in the ids */
                        CHECK(ss_snapshot_delete(s, t->ids[t->n]) == 0, "delete");
                else
                        t->n++;
        }
        CHECK(!compact(s) && s->sb.roots[SS_TREE_SNAPSHOTS].depth >= 2,
              "an old-format tree of depth %u", s->sb.roots[SS_TREE_SNAPSHOTS].depth);
        ss_store_close(s);
        t->origin = xcalloc(1, DEEP_ORIGIN);
        t->store = xcalloc(1, DEEP_STORE);
        memcpy(t->origin, faultdev_contents(origin), DEEP_ORIGIN);
        memcpy(t->store, faultdev_contents(store), DEEP_STORE);
        ss_blockdev_close(origin);
        ss_blockdev_close(store);
        fault_domain_free(d);
}

static void deep_verify(const Deep *t, SsStore *s, const char *when)
{
        SsSnapshotInfo info;
        uint32_t after = 0, id;
        unsigned i = 0;

        while (ss_snapshot_next(s, after, &info) == 0) {
                CHECK(i < t->n && info.id == t->ids[i] && !strcmp(info.name, t->names[i]) &&
                              info.flags == (info.id - 1) % 4 &&
                              info.priority == (int32_t)info.id - 151,
                      "%s: snapshot %u (%s)", when, info.id, info.name);
                CHECK(ss_snapshot_find(s, t->names[i], &id) == 0 && id == t->ids[i], "%s: find %u",
                      when, t->ids[i]);
                after = info.id;
                i++;
        }
        CHECK(i == t->n, "%s: %u snapshots, want %u", when, i, t->n);
        CHECK(ss_check(s, report, (void *)when) == 0, "%s: ss_check found problems", when);
}

static void upgrade_deep(uint64_t seed)
{
        Rng r = { seed_mix(seed, 2) };
        Deep *t = xcalloc(1, sizeof(*t));
        uint64_t writes = 0;
        int ret;

        deep_build(t, &r);
        for (uint64_t cut = 0; cut == 0 || cut <= writes; cut++) {
                FaultDomain *d = fault_domain_new(seed_mix(seed, 1000 + cut));
                SsBlockDev *origin = faultdev_new_from(d, "origin", t->origin, DEEP_ORIGIN);
                SsBlockDev *store = faultdev_new_from(d, "store", t->store, DEEP_STORE);
                char when[64];

                snprintf(when, sizeof(when), "deep tree, cut at write %" PRIu64, cut);
                if (cut)
                        fault_domain_cut_at_write(d, cut);
                SsStore *s = open_on(origin, store, 0, &ret);
                if (!cut) {
                        writes = fault_domain_writes(d);
                        CHECK(s && compact(s), "deep tree: writable open: %s", ss_last_error());
                        printf("deep tree: the upgrade writes %" PRIu64 " times\n", writes);
                }
                if (s)
                        ss_store_close(s);
                fault_domain_power_cycle(d, FAULT_LOSS_RANDOM);
                s = open_on(origin, store, SS_OPEN_READONLY, &ret);
                CHECK(s, "%s: read-only open: %s", when, ss_last_error());
                if (s) {
                        deep_verify(t, s, when);
                        ss_store_close(s);
                }
                s = open_on(origin, store, 0, &ret);
                CHECK(s && compact(s), "%s: writable open: %s", when, ss_last_error());
                if (s) {
                        deep_verify(t, s, when);
                        ss_store_close(s);
                }
                ss_blockdev_close(origin);
                ss_blockdev_close(store);
                fault_domain_free(d);
        }
        free(t->origin);
        free(t->store);
        free(t);
}

int main(int argc, char **argv)
{
        const char *dir = getenv("ZUMA_FIXTURE_DIR");
        Fixture f = { 0 };
        TestArgs args;

        test_args_parse(argc, argv, &args);
        fixture_load(&f, dir ? dir : "tests/upgrade");
        upgrade_plain(&f);
        upgrade_cut(&f, args.seed);
        upgrade_deep(args.seed);
        free(f.origin);
        free(f.store);
        if (check_failures)
                printf("%d check(s) failed (seed=%" PRIu64 ")\n", check_failures, args.seed);
        else
                printf("ok\n");
        return check_failures ? 1 : 0;
}
