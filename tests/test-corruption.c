/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Damaged metadata (issue 10): builds a real store with snapshots,
 * copy-outs and a writable snapshot, then damages each kind of metadata
 * block in turn, on a fresh copy of the image each time, and requires the
 * documented outcome:
 *   - open refused with the right errno and a message naming the block; or
 *   - open succeeds and every snapshot read equals the reference image, or
 *     fails with -EUCLEAN/-EILSEQ (never wrong data); and once a read found
 *     damage, the handle refuses every change and writes nothing more.
 * Which byte of a block is damaged comes from the seed (printed; --seed N
 * replays a run).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faultdev.h"
#include "internal.h"
#include "test-check.h"
#include "test-util.h"

#define CHUNK 4096u
#define ORIGIN_CHUNKS 512u
#define ORIGIN_SIZE ((uint64_t)ORIGIN_CHUNKS * CHUNK)
#define STORE_SIZE (16u << 20)
#define SNAPS 4u

typedef struct Reference {
        uint8_t *origin;          /* origin image after the build */
        uint8_t *store;           /* store image after the build (closed cleanly) */
        uint8_t *snap[SNAPS + 2]; /* image of each snapshot id (1..) */
        uint32_t ids[SNAPS + 1];
        uint32_t nids;
        /* where the metadata lives, from the clean store */
        uint64_t txid;
        uint64_t root[SS_TREE_COUNT];
        uint32_t depth[SS_TREE_COUNT];
        uint64_t leaf[2]; /* two leaves of the shared tree (children 0 and 1 of its root) */
        unsigned bitmap_slot;
} Reference;

static Rng rng;

static void fill_chunk(uint8_t *p, uint64_t c, unsigned round)
{
        for (size_t i = 0; i < CHUNK; i += 8) {
                uint64_t v = (c << 32) ^ ((uint64_t)round << 24) ^ i;
                memcpy(p + i, &v, 8);
        }
}

/* Builds the store: SNAPS snapshots, every chunk written after each, one
 * writable snapshot with private chunks.  Returns the reference images. */
static void build(Reference *ref)
{
        FaultDomain *d = fault_domain_new(1);
        SsBlockDev *origin = faultdev_new(d, "origin", ORIGIN_SIZE);
        SsBlockDev *store = faultdev_new(d, "store", STORE_SIZE);
        SsCreateOptions co = { .volume_name = "vol", .chunk_size = CHUNK };
        SsOpenOptions oo = { .cache_bytes = 256 << 10 };
        SsStore *s = NULL;
        uint8_t *buf = xcalloc(1, CHUNK);

        CHECK(ss_store_create(origin, store, &co) == 0, "create: %s", ss_last_error());
        CHECK(ss_store_open(origin, store, &oo, &s) == 0, "open: %s", ss_last_error());
        for (uint64_t c = 0; c < ORIGIN_CHUNKS; c++) {
                fill_chunk(buf, c, 0);
                CHECK(ss_origin_write(s, buf, c * CHUNK, CHUNK) == 0, "write");
        }
        for (unsigned round = 1; round <= SNAPS; round++) {
                char name[16];
                uint32_t id;
                snprintf(name, sizeof(name), "s%u", round);
                CHECK(ss_snapshot_create(s, name, round == 2 ? SS_SNAP_WRITABLE : 0, 0, &id) == 0,
                      "snapshot: %s", ss_last_error());
                ref->ids[ref->nids++] = id;
                for (uint64_t c = 0; c < ORIGIN_CHUNKS; c += round == SNAPS ? 3 : 1) {
                        fill_chunk(buf, c, round);
                        CHECK(ss_origin_write(s, buf, c * CHUNK, CHUNK) == 0, "write: %s",
                              ss_last_error());
                }
        }
        for (uint64_t c = 0; c < 40; c++) {
                fill_chunk(buf, c, 100);
                CHECK(ss_snapshot_write(s, ref->ids[1], buf, c * CHUNK, CHUNK) == 0,
                      "snapshot write: %s", ss_last_error());
        }
        for (uint32_t i = 0; i < ref->nids; i++) {
                uint32_t id = ref->ids[i];
                ref->snap[id] = xcalloc(1, ORIGIN_SIZE);
                CHECK(ss_snapshot_read(s, id, ref->snap[id], 0, ORIGIN_SIZE) == 0, "read");
        }
        CHECK(ss_check(s, NULL, NULL) == 0, "clean store has problems");
        ref->txid = s->committed.txid;
        for (unsigned t = 0; t < SS_TREE_COUNT; t++) {
                ref->root[t] = s->committed.roots[t].block;
                ref->depth[t] = s->committed.roots[t].depth;
        }
        CHECK(ref->depth[SS_TREE_SHARED] >= 2, "shared tree depth %u", ref->depth[SS_TREE_SHARED]);
        SsNode *root;
        CHECK(node_get(s, ref->root[SS_TREE_SHARED], SS_TREE_SHARED, &root) == 0, "root");
        CHECK(root->count >= 2, "root has %u children", root->count);
        ref->leaf[0] = node_u64(root, 0);
        ref->leaf[1] = node_u64(root, 1);
        node_put(s, root);
        ref->bitmap_slot = s->committed.slot_bits[0] & 1;
        CHECK(ss_store_close(s) == 0, "close");

        ref->origin = xcalloc(1, ORIGIN_SIZE);
        ref->store = xcalloc(1, STORE_SIZE);
        memcpy(ref->origin, faultdev_contents(origin), ORIGIN_SIZE);
        memcpy(ref->store, faultdev_contents(store), STORE_SIZE);
        ss_blockdev_close(origin);
        ss_blockdev_close(store);
        fault_domain_free(d);
        free(buf);
        printf("built: txid %" PRIu64 ", shared tree depth %u, root %" PRIu64 ", leaves %" PRIu64
               " %" PRIu64 "\n",
               ref->txid, ref->depth[SS_TREE_SHARED], ref->root[SS_TREE_SHARED], ref->leaf[0],
               ref->leaf[1]);
}

/* ---- one case: a fresh copy of the image, damaged ---- */

typedef struct Case {
        FaultDomain *d;
        SsBlockDev *origin, *store;
        uint8_t *image; /* the store image to start from */
} Case;

static void case_new(Case *c, const Reference *ref)
{
        c->image = xcalloc(1, STORE_SIZE);
        memcpy(c->image, ref->store, STORE_SIZE);
}

static void case_devices(Case *c, const Reference *ref)
{
        c->d = fault_domain_new(2);
        c->origin = faultdev_new_from(c->d, "origin", ref->origin, ORIGIN_SIZE);
        c->store = faultdev_new_from(c->d, "store", c->image, STORE_SIZE);
}

static void case_free(Case *c)
{
        ss_blockdev_close(c->origin);
        ss_blockdev_close(c->store);
        fault_domain_free(c->d);
        free(c->image);
}

static uint8_t *block_at(Case *c, uint64_t blk)
{
        return c->image + blk * SS_BLOCK_SIZE;
}

/* Flips one byte of the block's checksummed part, chosen by the seed, but
 * not in its first 32 bytes (checksum, magic, location, txid): the damage
 * is found by the checksum alone, and the txid field stays readable. */
static void flip(Case *c, uint64_t blk, size_t len)
{
        size_t off = 32 + (size_t)rng_below(&rng, len - 32);
        block_at(c, blk)[off] ^= (uint8_t)rng_range(&rng, 1, 255);
}

static void damage_super(Case *c, uint64_t txid, int mirror)
{
        uint64_t blk = ss_sb_area_block(txid, mirror);
        flip(c, blk, le32_get(block_at(c, blk) + offsetof(SsDiskSuperblock, sb_bytes)));
}

static int open_store(Case *c, unsigned flags, SsStore **ret)
{
        SsOpenOptions o = { .flags = flags, .cache_bytes = 256 << 10 };
        return ss_store_open(c->origin, c->store, &o, ret);
}

static bool mentions(const char *msg, const char *what)
{
        return strstr(msg, what) != NULL;
}

/* Reads every snapshot chunk by chunk: each read is right or fails as
 * corruption.  Returns how many failed. */
static unsigned read_all(SsStore *s, const Reference *ref, const char *name)
{
        uint8_t *buf = xcalloc(1, CHUNK);
        unsigned failed = 0;

        for (uint32_t i = 0; i < ref->nids; i++) {
                uint32_t id = ref->ids[i];
                for (uint64_t ch = 0; ch < ORIGIN_CHUNKS; ch++) {
                        int r = ss_snapshot_read(s, id, buf, ch * CHUNK, CHUNK);
                        if (r < 0) {
                                CHECK(r == -EUCLEAN || r == -EILSEQ, "%s: read failed with %d",
                                      name, r);
                                failed++;
                                continue;
                        }
                        CHECK(memcmp(buf, ref->snap[id] + ch * CHUNK, CHUNK) == 0,
                              "%s: snapshot %u chunk %" PRIu64 " reads wrong data", name, id, ch);
                }
        }
        free(buf);
        return failed;
}

/* After damage was found: no change is accepted and nothing is written. */
static void expect_stopped(Case *c, SsStore *s, const char *name)
{
        SsStoreInfo info;
        uint8_t *before = xcalloc(1, STORE_SIZE);
        uint8_t buf[CHUNK] = { 0 };
        uint32_t id;

        memcpy(before, faultdev_contents(c->store), STORE_SIZE);
        CHECK(ss_store_info(s, &info) == 0 && info.damaged, "%s: handle not marked damaged", name);
        CHECK(mentions(info.damage, "block"), "%s: damage \"%s\" names no block", name,
              info.damage);
        CHECK(ss_snapshot_create(s, "after", 0, 0, &id) == -EUCLEAN, "%s: snapshot created", name);
        CHECK(mentions(ss_last_error(), "store is damaged: "), "%s: message \"%s\"", name,
              ss_last_error());
        CHECK(ss_origin_prepare_write(s, 0, CHUNK) == -EUCLEAN, "%s: copy-out ran", name);
        CHECK(ss_origin_write(s, buf, 0, CHUNK) == -EUCLEAN, "%s: origin written", name);
        CHECK(ss_snapshot_delete(s, 1) == -EUCLEAN, "%s: snapshot deleted", name);
        CHECK(ss_cleanup_step(s, 10) == -EUCLEAN || ss_cleanup_step(s, 10) == 0, "%s: cleanup ran",
              name);
        CHECK(ss_store_close(s) == 0, "%s: close: %s", name, ss_last_error());
        CHECK(memcmp(before, faultdev_contents(c->store), STORE_SIZE) == 0,
              "%s: the damaged store was written to", name);
        free(before);
}

/* Open must fail with err and a message naming what. */
static void expect_refused(const Reference *ref, Case *c, const char *name, int err,
                           const char *what)
{
        SsStore *s = NULL;
        case_devices(c, ref);
        int r = open_store(c, 0, &s);
        printf("%s: open: %d (%s)\n", name, r, r < 0 ? ss_last_error() : "opened");
        CHECK(r == err, "%s: open returned %d, want %d", name, r, err);
        if (r == 0)
                ss_store_close(s);
        else
                CHECK(mentions(ss_last_error(), what), "%s: message lacks \"%s\"", name, what);
        CHECK(memcmp(c->image, faultdev_contents(c->store), STORE_SIZE) == 0,
              "%s: a refused open wrote to the store", name);
        case_free(c);
}

/* Open must succeed; every read right; problems: what ss_check must say. */
static void expect_opens(const Reference *ref, Case *c, const char *name, unsigned damaged_copies,
                         bool check_problems)
{
        SsStore *s = NULL;
        SsStoreInfo info;
        case_devices(c, ref);
        int r = open_store(c, SS_OPEN_READONLY, &s);
        printf("%s: open: %d (%s)\n", name, r, r < 0 ? ss_last_error() : "opened");
        CHECK(r == 0, "%s: open failed: %s", name, ss_last_error());
        if (r < 0) {
                case_free(c);
                return;
        }
        CHECK(ss_store_info(s, &info) == 0 && info.txid == ref->txid && !info.rolled_back,
              "%s: opened txid %" PRIu64 ", want %" PRIu64, name, info.txid, ref->txid);
        CHECK(info.superblock_copies_damaged == damaged_copies, "%s: %u damaged copies, want %u",
              name, info.superblock_copies_damaged, damaged_copies);
        CHECK(read_all(s, ref, name) == 0, "%s: reads failed", name);
        int problems = ss_check(s, NULL, NULL);
        CHECK(check_problems ? problems > 0 : problems == 0, "%s: ss_check found %d problems", name,
              problems);
        CHECK(ss_store_close(s) == 0, "close");

        /* A writable open heals the chosen commit's copies and works on. */
        CHECK(open_store(c, 0, &s) == 0, "%s: writable open: %s", name, ss_last_error());
        uint32_t id;
        CHECK(ss_snapshot_create(s, "more", 0, 0, &id) == 0, "%s: create: %s", name,
              ss_last_error());
        CHECK(ss_store_close(s) == 0, "close");
        CHECK(open_store(c, SS_OPEN_READONLY, &s) == 0, "%s: reopen: %s", name, ss_last_error());
        CHECK(ss_check(s, NULL, NULL) == 0, "%s: problems after healing", name);
        CHECK(ss_store_close(s) == 0, "close");
        case_free(c);
}

/* Open succeeds (only roots and bitmaps are verified there); reading finds
 * the damage; from then on the handle stops. */
static void expect_found_at_run_time(const Reference *ref, Case *c, const char *name,
                                     const char *what)
{
        SsStore *s = NULL;
        case_devices(c, ref);
        int r = open_store(c, 0, &s);
        CHECK(r == 0, "%s: open failed: %s", name, ss_last_error());
        if (r < 0) {
                case_free(c);
                return;
        }
        unsigned failed = read_all(s, ref, name);
        SsStoreInfo info;
        CHECK(ss_store_info(s, &info) == 0, "info");
        printf("%s: %u reads failed; damage: %s\n", name, failed, info.damage);
        CHECK(failed > 0, "%s: no read found the damage", name);
        CHECK(mentions(info.damage, what), "%s: damage \"%s\" lacks \"%s\"", name, info.damage,
              what);
        expect_stopped(c, s, name);
        case_free(c);
}

/* ---- node surgery (white-box) ---- */

/* Decodes the node at blk of the case image, lets fn change it, and seals
 * it again with a valid checksum at block `at` with transaction txid. */
static void reseal_node(Case *c, uint64_t blk, uint64_t at, uint64_t txid)
{
        SsNode n = { 0 };
        CHECK(ss_node_decode(block_at(c, blk), blk, SS_FEATURE_INCOMPAT_SUPP, &n) == 0,
              "decode %" PRIu64, blk);
        n.blocknr = at;
        CHECK(ss_node_encode(&n, txid, block_at(c, at)) == 0, "encode");
        ss_node_free_arrays(&n);
}

/* Malformed compact snapshot records (the snapshot tree's root is its one
 * leaf): each sealed with a valid checksum, so the record decoder alone
 * must find it. */
enum { SNAPREC_BAD_VARINT, SNAPREC_NAME_PAST_PAYLOAD, SNAPREC_IDS_OUT_OF_ORDER };

static void break_snapshot_leaf(Case *c, uint64_t blk, int how)
{
        SsDiskNode *d = (SsDiskNode *)block_at(c, blk);
        uint32_t payload = LE_GET(d->payload);
        SsNode n = { 0 };

        CHECK(LE_GET(d->tree) == SS_TREE_SNAPSHOTS && LE_GET(d->level) == 0 &&
                      LE_GET(d->count) >= 2,
              "snapshot root %" PRIu64 " is a leaf of two records or more", blk);
        switch (how) {
        case SNAPREC_BAD_VARINT: /* the first id delta in two bytes */
                memmove(d->data + 2, d->data + 1, payload - 1);
                d->data[0] |= 0x80;
                d->data[1] = 0;
                LE_PUT(d->payload, payload + 1);
                break;
        case SNAPREC_NAME_PAST_PAYLOAD: /* the last name cut short */
                d->data[payload - 1] = 0;
                LE_PUT(d->payload, payload - 1);
                break;
        case SNAPREC_IDS_OUT_OF_ORDER: /* the second record takes the first's id */
                CHECK(ss_node_decode(d, blk, SS_FEATURE_INCOMPAT_SUPP, &n) == 0, "decode");
                memcpy(n.vals + n.val_size, n.vals, 4);
                CHECK(ss_node_encode(&n, LE_GET(d->hdr.txid), d) == 0, "encode");
                ss_node_free_arrays(&n);
                return;
        }
        ss_block_seal(d, SS_MAGIC_NODE, blk, LE_GET(d->hdr.txid));
}

static uint64_t node_txid(Case *c, uint64_t blk)
{
        return le64_get(block_at(c, blk) + offsetof(SsDiskBlockHeader, txid));
}

int main(int argc, char **argv)
{
        static const char *const tree_names[SS_TREE_COUNT] = { "shared", "byhi", "private",
                                                               "snapshots" };
        TestArgs args;
        Reference ref = { 0 };
        Case c;
        char name[96], what[64];

        test_args_parse(argc, argv, &args);
        rng.state = args.seed;
        build(&ref);
        uint64_t newest = ref.txid, older = ref.txid - 1;

        /* Superblock copies, one area at a time. */
        case_new(&c, &ref);
        damage_super(&c, newest, 0);
        expect_opens(&ref, &c, "newest primary", 1, true);
        case_new(&c, &ref);
        damage_super(&c, newest, 1);
        expect_opens(&ref, &c, "newest mirror", 1, false); /* as a crash leaves it */
        case_new(&c, &ref);
        damage_super(&c, older, 0);
        expect_opens(&ref, &c, "older primary", 1, false); /* as a torn commit leaves it */
        case_new(&c, &ref);
        damage_super(&c, older, 1);
        expect_opens(&ref, &c, "older mirror", 1, true);
        case_new(&c, &ref);
        damage_super(&c, newest, 1);
        damage_super(&c, older, 0);
        expect_opens(&ref, &c, "newest mirror and older primary", 2, true);

        /* Newest commit unreadable: -ESTALE, or a rollback when accepted. */
        case_new(&c, &ref);
        damage_super(&c, newest, 0);
        damage_super(&c, newest, 1);
        uint8_t *keep = xcalloc(1, STORE_SIZE);
        memcpy(keep, c.image, STORE_SIZE);
        snprintf(what, sizeof(what), "block %" PRIu64, ss_sb_area_block(newest, 0));
        expect_refused(&ref, &c, "newest primary and mirror", -ESTALE, what);
        c.image = keep;
        case_devices(&c, &ref);
        SsStore *s = NULL;
        CHECK(open_store(&c, SS_OPEN_READONLY | SS_OPEN_ACCEPT_ROLLBACK, &s) == 0,
              "accepted rollback: %s", ss_last_error());
        if (s) {
                SsStoreInfo info;
                CHECK(ss_store_info(s, &info) == 0 && info.rolled_back &&
                              info.lost_txid == newest && info.txid == older &&
                              info.superblock_copies_damaged == 2,
                      "rollback info: rolled_back %d lost %" PRIu64 " txid %" PRIu64,
                      info.rolled_back, info.lost_txid, info.txid);
                CHECK(ss_check(s, NULL, NULL) > 0, "a rollback is a problem");
                ss_store_close(s);
        }
        case_free(&c);

        /* Every area damaged. */
        case_new(&c, &ref);
        for (int m = 0; m < 2; m++) {
                damage_super(&c, newest, m);
                damage_super(&c, older, m);
        }
        expect_refused(&ref, &c, "all four superblock areas", -EUCLEAN, "no valid superblock");

        /* Each tree root: refused at open, naming the block. */
        for (unsigned t = 0; t < SS_TREE_COUNT; t++) {
                if (!ref.root[t])
                        continue;
                case_new(&c, &ref);
                flip(&c, ref.root[t], SS_BLOCK_SIZE);
                snprintf(name, sizeof(name), "root of the %s tree", tree_names[t]);
                snprintf(what, sizeof(what), "block %" PRIu64, ref.root[t]);
                expect_refused(&ref, &c, name, -EUCLEAN, what);
        }

        /* Malformed compact snapshot records. */
        static const struct {
                int how;
                const char *name, *what;
        } snaprec_cases[] = {
                { SNAPREC_BAD_VARINT, "snapshot record: bad varint",
                  "record 0: bad varint in the id" },
                { SNAPREC_NAME_PAST_PAYLOAD, "snapshot record: name past the payload",
                  "name length past the payload" },
                { SNAPREC_IDS_OUT_OF_ORDER, "snapshot record: ids out of order",
                  "record 1: ids out of order" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(snaprec_cases); i++) {
                case_new(&c, &ref);
                break_snapshot_leaf(&c, ref.root[SS_TREE_SNAPSHOTS], snaprec_cases[i].how);
                expect_refused(&ref, &c, snaprec_cases[i].name, -EUCLEAN, snaprec_cases[i].what);
        }

        /* A stale root: a valid block written after the last commit. */
        case_new(&c, &ref);
        reseal_node(&c, ref.root[SS_TREE_SHARED], ref.root[SS_TREE_SHARED], ref.txid + 3);
        expect_refused(&ref, &c, "root from a later transaction", -EUCLEAN,
                       "after the last commit");

        /* Space map: the current slot refuses the open, the other is free. */
        uint64_t slot_cur = SS_FIRST_GROUP_RESERVED + ref.bitmap_slot;
        uint64_t slot_other = SS_FIRST_GROUP_RESERVED + (ref.bitmap_slot ^ 1);
        case_new(&c, &ref);
        flip(&c, slot_cur, SS_BLOCK_SIZE);
        snprintf(what, sizeof(what), "space map block %" PRIu64, slot_cur);
        expect_refused(&ref, &c, "current space-map slot", -EUCLEAN, what);
        case_new(&c, &ref);
        flip(&c, slot_other, SS_BLOCK_SIZE);
        expect_opens(&ref, &c, "other space-map slot", 0, false);

        /* A leaf (and the inner node above it is the root, covered above). */
        case_new(&c, &ref);
        flip(&c, ref.leaf[0], SS_BLOCK_SIZE);
        snprintf(what, sizeof(what), "%" PRIu64 ":", ref.leaf[0]);
        expect_found_at_run_time(&ref, &c, "leaf", what);

        /* A node copied to the wrong place, checksum valid: its header
         * names another block. */
        case_new(&c, &ref);
        memcpy(block_at(&c, ref.leaf[1]), block_at(&c, ref.leaf[0]), SS_BLOCK_SIZE);
        snprintf(what, sizeof(what), "%" PRIu64 ":", ref.leaf[1]);
        expect_found_at_run_time(&ref, &c, "node copied to the wrong place", what);

        /* ... sealed for its new place too: its keys are outside the range
         * the parent gives. */
        case_new(&c, &ref);
        reseal_node(&c, ref.leaf[0], ref.leaf[1], node_txid(&c, ref.leaf[1]));
        expect_found_at_run_time(&ref, &c, "node written to the wrong place", "outside the range");

        /* A stale node: written after its parent. */
        case_new(&c, &ref);
        reseal_node(&c, ref.leaf[0], ref.leaf[0], node_txid(&c, ref.root[SS_TREE_SHARED]) + 1);
        expect_found_at_run_time(&ref, &c, "node newer than its parent", "after its parent");

        for (uint32_t i = 0; i < ref.nids; i++)
                free(ref.snap[ref.ids[i]]);
        free(ref.origin);
        free(ref.store);
        if (check_failures)
                printf("%d check(s) failed (seed=%" PRIu64 ")\n", check_failures, args.seed);
        else
                printf("ok\n");
        return check_failures ? 1 : 0;
}
