/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hinted allocator of the space map (white box): a free hint is taken
 * as it is, a taken one falls back to next-fit, no block is handed out
 * twice, a block freed in the open transaction is not handed out before
 * that transaction committed, and group free counts stay right.  Copy-outs
 * (sm_alloc_copy) land in origin order, past the heads of the groups.
 *
 * On sparse files: a store of a few groups (126 MiB each) costs no memory.
 *
 * Usage: test-spacemap [--seed N] [-v]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "test-check.h"
#include "test-util.h"

#define CHUNK 16384u
#define CB (CHUNK / SS_BLOCK_SIZE)
#define ORIGIN_SIZE (160ull << 20) /* more chunks than group 0 has slots */
#define STORE_BLOCKS (2ull * SS_GROUP_BLOCKS + SS_GROUP_BLOCKS / 2)

typedef struct Env {
        char dir[64], opath[96], spath[96];
        SsBlockDev *origin, *store;
        SsStore *s;
} Env;

static void make_file(const char *path, uint64_t size)
{
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
                perror(path);
                exit(99);
        }
        close(fd);
}

static void env_new(Env *e)
{
        snprintf(e->dir, sizeof(e->dir), "/var/tmp/test-spacemap-XXXXXX");
        if (!mkdtemp(e->dir)) {
                perror("mkdtemp");
                exit(99);
        }
        snprintf(e->opath, sizeof(e->opath), "%s/origin", e->dir);
        snprintf(e->spath, sizeof(e->spath), "%s/store", e->dir);
        make_file(e->opath, ORIGIN_SIZE);
        make_file(e->spath, STORE_BLOCKS * SS_BLOCK_SIZE);
        int r = ss_blockdev_open_file(e->opath, SS_BLOCKDEV_BUFFERED, &e->origin);
        if (r == 0)
                r = ss_blockdev_open_file(e->spath, SS_BLOCKDEV_BUFFERED, &e->store);
        SsCreateOptions c = { .volume_name = "vol", .chunk_size = CHUNK };
        if (r == 0)
                r = ss_store_create(e->origin, e->store, &c);
        SsOpenOptions o = { .cache_bytes = 1 << 20 };
        if (r == 0)
                r = ss_store_open(e->origin, e->store, &o, &e->s);
        if (r < 0) {
                fprintf(stderr, "cannot make a store: %s\n", ss_last_error());
                exit(99);
        }
}

static void env_free(Env *e)
{
        txn_abort(e->s); /* the test's allocations belong to no exception */
        ss_store_close(e->s);
        ss_blockdev_close(e->origin);
        ss_blockdev_close(e->store);
        unlink(e->opath);
        unlink(e->spath);
        rmdir(e->dir);
}

/* The group free counts add up and match the committed bitmaps. */
static void check_counts(Env *e)
{
        uint64_t sum = 0;

        for (uint32_t g = 0; g < e->s->sb.group_count; g++)
                sum += e->s->sb.group_free[g];
        CHECK(sum == e->s->sb.free_blocks, "group counts %llu, free_blocks %llu",
              (unsigned long long)sum, (unsigned long long)e->s->sb.free_blocks);
        CHECK(sm_verify_current(e->s) == 0, "committed space map: %s", ss_last_error());
}

static void test_hint_taken_or_fallback(void)
{
        Env e;
        uint64_t a, b, c, hint = SS_GROUP_BLOCKS + 40 * CB;

        env_new(&e);
        CHECK(sm_alloc_chunk_near(e.s, hint + 1, &a) == 0 && a == hint,
              "a free hint is taken (rounded to its chunk): %llu", (unsigned long long)a);
        CHECK(sm_alloc_chunk_near(e.s, hint, &b) == 0 && b != a, "a taken hint falls back");
        CHECK(b % CB == 0 && (b + CB <= a || b >= a + CB), "fallback %llu overlaps %llu",
              (unsigned long long)b, (unsigned long long)a);
        /* A hint in a group's head (its bitmaps) or past the end falls back. */
        CHECK(sm_alloc_chunk_near(e.s, SS_GROUP_BLOCKS, &c) == 0 && c != SS_GROUP_BLOCKS,
              "head hint: %llu", (unsigned long long)c);
        CHECK(sm_alloc_chunk_near(e.s, STORE_BLOCKS + 100 * CB, &c) == 0 && c < STORE_BLOCKS,
              "hint past the end: %llu", (unsigned long long)c);
        CHECK(txn_commit(e.s) == 0, "commit: %s", ss_last_error());
        check_counts(&e);
        env_free(&e);
}

static void test_committed_free_rule(void)
{
        Env e;
        uint64_t a, b;

        env_new(&e);
        CHECK(sm_alloc_chunk_near(e.s, 100 * CB, &a) == 0 && a == 100 * CB, "taken: %llu",
              (unsigned long long)a);
        CHECK(txn_commit(e.s) == 0, "commit: %s", ss_last_error());
        CHECK(sm_free(e.s, a, CB) == 0, "free");
        CHECK(sm_alloc_chunk_near(e.s, a, &b) == 0 && b != a,
              "freed in the open transaction, handed out again: %llu", (unsigned long long)b);
        CHECK(txn_commit(e.s) == 0, "commit: %s", ss_last_error());
        CHECK(sm_alloc_chunk_near(e.s, a, &b) == 0 && b == a, "free after the commit: %llu",
              (unsigned long long)b);
        CHECK(txn_commit(e.s) == 0, "commit: %s", ss_last_error());
        check_counts(&e);
        env_free(&e);
}

/* Random hints, frees and commits until the store is full. */
static void test_fill(uint64_t seed)
{
        Env e;
        Rng rng = { seed };
        uint8_t *held = xcalloc(STORE_BLOCKS / CB, 1);           /* chunk handed out */
        uint8_t *held_committed = xcalloc(STORE_BLOCKS / CB, 1); /* as of the last commit */
        uint8_t *freed_open = xcalloc(STORE_BLOCKS / CB, 1);     /* held then, freed since */
        uint64_t *list = xcalloc(STORE_BLOCKS / CB, sizeof(*list)), n = 0, allocs = 0;
        int r = 0;

        env_new(&e);
        while (r == 0) {
                uint64_t hint = rng_below(&rng, STORE_BLOCKS + 4 * CB), blk;
                r = sm_alloc_chunk_near(e.s, hint, &blk);
                if (r < 0)
                        break;
                allocs++;
                uint64_t k = blk / CB;
                CHECK(blk % CB == 0 && blk + CB <= STORE_BLOCKS, "block %llu",
                      (unsigned long long)blk);
                CHECK(!held[k], "block %llu handed out twice", (unsigned long long)blk);
                CHECK(!freed_open[k], "block %llu handed out before its free committed",
                      (unsigned long long)blk);
                held[k] = 1;
                list[n++] = blk;
                if (n > 1 && rng_percent(&rng, 20)) {
                        uint64_t i = rng_below(&rng, n);
                        CHECK(sm_free(e.s, list[i], CB) == 0, "free");
                        held[list[i] / CB] = 0;
                        freed_open[list[i] / CB] = held_committed[list[i] / CB];
                        list[i] = list[--n];
                }
                if (rng_percent(&rng, 2)) {
                        CHECK(txn_commit(e.s) == 0, "commit: %s", ss_last_error());
                        memset(freed_open, 0, STORE_BLOCKS / CB);
                        memcpy(held_committed, held, STORE_BLOCKS / CB);
                        check_counts(&e);
                }
        }
        CHECK(r == -ENOSPC, "ended with %d", r);
        CHECK(allocs > STORE_BLOCKS / CB / 2, "only %llu allocations", (unsigned long long)allocs);
        CHECK(txn_commit(e.s) == 0, "commit: %s", ss_last_error());
        check_counts(&e);
        env_free(&e);
        free(held);
        free(held_committed);
        free(freed_open);
        free(list);
}

/* Where the copy of chunk c belongs, worked out independently of
 * spacemap.c: the c-th chunk after the heads of the groups. */
static uint64_t expected_slot(uint64_t c)
{
        uint64_t per = SS_GROUP_BLOCKS / CB;
        uint64_t head0 = (sm_group_first_free(0) + CB - 1) / CB;
        uint64_t head1 = (sm_group_first_free(1) - SS_GROUP_BLOCKS + CB - 1) / CB;

        if (c < per - head0)
                return (head0 + c) * CB;
        c -= per - head0;
        return (1 + c / (per - head1)) * SS_GROUP_BLOCKS + (head1 + c % (per - head1)) * CB;
}

/* Copies of the chunks land in origin order, skipping the next group's
 * head; a second copy of a chunk goes elsewhere. */
static void test_copy_order(void)
{
        Env e;
        uint64_t chunks = ORIGIN_SIZE / CHUNK, blk, again, wrong = 0, last = 0;

        env_new(&e);
        CHECK(expected_slot(chunks - 1) > SS_GROUP_BLOCKS, "the origin spans one group only");
        for (uint64_t c = 0; c < chunks; c += 1 + (c % 7 == 3)) {
                CHECK(sm_alloc_copy(e.s, c, &blk) == 0, "copy of %llu", (unsigned long long)c);
                wrong += blk != expected_slot(c);
                last = MAX(last, blk);
        }
        CHECK(wrong == 0, "%llu copies out of origin order", (unsigned long long)wrong);
        CHECK(sm_alloc_copy(e.s, 5, &again) == 0 && again > last, "second copy of chunk 5 at %llu",
              (unsigned long long)again);
        CHECK(txn_commit(e.s) == 0, "commit: %s", ss_last_error());
        check_counts(&e);
        env_free(&e);
}

int main(int argc, char **argv)
{
        TestArgs args;

        test_args_parse(argc, argv, &args);
        test_hint_taken_or_fallback();
        test_committed_free_rule();
        test_copy_order();
        test_fill(args.seed);
        if (check_failures) {
                printf("%d failures (seed=%llu)\n", check_failures, (unsigned long long)args.seed);
                return 1;
        }
        printf("ok\n");
        return 0;
}
