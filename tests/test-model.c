/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Randomised model test: a long random sequence of store operations, each
 * also applied to a plain in-memory model (tests/model.h), and the store is
 * compared with the model all along.
 *
 * The run is split into phases, each with its own store configuration drawn
 * from the seed (chunk size, origin size, possibly a partial last chunk,
 * store size); one phase uses a small store with SS_FULL_AUTODELETE, so the
 * store-full paths run too.  Every operation is followed by a cheap check
 * (one random chunk of one image), every VERIFY_EVERY operations by a full
 * comparison, every CHECK_EVERY by ss_check(); each phase ends with both and
 * with a drain (delete everything, clean up, expect no exceptions left).
 *
 * Both devices are resizable views of larger memory devices, so the origin
 * and the store can grow under an open store (or across a reopen).  Origin
 * writes go through ss_origin_write() or, like a kernel target would,
 * ss_origin_prepare_write() followed by a direct write to the device;
 * or, like the server's group commit, several writers' ranges prepared at
 * once by ss_origin_prepare_writes() (and, when that fails, one at a time)
 * before their direct writes; or through the split copy-out (plans, their
 * I/O in any order with snapshot creates, deletes, cleanups and snapshot
 * writes between, one apply);
 * snapshot reads through ss_snapshot_read() or ss_snapshot_map_read()
 * followed by reads of the extents on the devices.
 *
 *     test-model [--seed N] [--ops N] [-v]      (seed also from $ZUMA_SEED)
 *
 * A failure prints "FAIL: seed=S phase=P op=N (what): ..." and the last
 * operations; rerunning with the same seed and --ops replays it exactly.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faultdev.h"
#include "model.h"
#include "snapstore.h"
#include "test-util.h"

#define IO_MAX (1u << 20)
#define VERIFY_EVERY 1000
#define CHECK_EVERY 5000
#define VERIFY_BUDGET (32u << 20) /* image bytes read by one periodic verify */
#define LOG_LINES 48
#define MAX_ORIGIN_BYTES (2u << 20)

typedef enum OpKind {
        OP_ORIGIN_WRITE,
        OP_CREATE,
        OP_DELETE,
        OP_RENAME,
        OP_PRIORITY,
        OP_FLAGS,
        OP_SNAP_WRITE,
        OP_REVERT,
        OP_CLEANUP,
        OP_REOPEN,
        OP_DELTA,
        OP_READ,
        OP_INVALID,
        OP_GROW,
        OP_POLICY,
        OP_FLUSH,
        OP_STORE_GROW,
        OP_ORIGIN_BATCH,
        OP_ORIGIN_SPLIT,
        OP_KINDS,
} OpKind;

static const struct {
        const char *name;
        unsigned weight;
} op_table[OP_KINDS] = {
        [OP_ORIGIN_WRITE] = { "origin-write", 300 },
        [OP_CREATE] = { "create", 45 },
        [OP_DELETE] = { "delete", 32 },
        [OP_RENAME] = { "rename", 16 },
        [OP_PRIORITY] = { "priority", 8 },
        [OP_FLAGS] = { "flags", 10 },
        [OP_SNAP_WRITE] = { "snapshot-write", 90 },
        [OP_REVERT] = { "revert", 4 },
        [OP_CLEANUP] = { "cleanup", 50 },
        [OP_REOPEN] = { "reopen", 6 },
        [OP_DELTA] = { "delta", 25 },
        [OP_READ] = { "read", 40 },
        [OP_INVALID] = { "invalid", 10 },
        [OP_GROW] = { "grow", 1 },
        [OP_POLICY] = { "policy", 4 },
        [OP_FLUSH] = { "flush", 5 },
        [OP_STORE_GROW] = { "store-grow", 2 },
        [OP_ORIGIN_BATCH] = { "origin-batch", 40 },
        [OP_ORIGIN_SPLIT] = { "origin-split", 40 },
};

typedef struct Harness {
        Rng rng;
        uint64_t seed;
        unsigned phase;
        uint64_t op;
        bool verbose;

        /* configuration of the phase */
        uint32_t chunk_size;
        uint64_t initial_origin_size;
        uint64_t store_size;
        bool small;
        unsigned max_live;
        unsigned grows, store_grows;

        FaultDomain *dom;
        SsBlockDev *origin_dev;   /* a resizable view of origin_media */
        SsBlockDev *origin_media; /* faultdev as large as the origin may grow */
        SsBlockDev *store_dev;    /* a resizable view of store_media */
        SsBlockDev *store_media;  /* faultdev as large as the store may grow */
        SsStore *s;
        Model *m;
        SsFullPolicy policy;
        uint32_t max_id;          /* highest id the store ever returned in this phase */
        uint32_t revert_busy;     /* snapshot being reverted to, 0 if none */
        uint32_t autodelete_keep; /* snapshot being written: not a victim */
        unsigned name_counter;
        uint64_t free_after_create;

        uint8_t *buf, *buf2;

        /* statistics */
        uint64_t count[OP_KINDS];
        uint64_t enospc, autodeleted, delta_chunks, delta_extra, cursor_resumes;
        uint64_t full_verifies, checks, many;

        char log[LOG_LINES][200];
        unsigned log_next;
} Harness;

static Harness H;

static void print_log(void)
{
        fprintf(stderr, "last operations (oldest first):\n");
        for (unsigned i = 0; i < LOG_LINES; i++) {
                const char *line = H.log[(H.log_next + i) % LOG_LINES];

                if (*line)
                        fprintf(stderr, "  %s\n", line);
        }
}

static __attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...)
{
        va_list ap;

        fflush(stdout);
        fprintf(stderr, "FAIL: seed=%" PRIu64 " phase=%u op=%" PRIu64 " (%s): ", H.seed, H.phase,
                H.op, H.log[(H.log_next + LOG_LINES - 1) % LOG_LINES]);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\n");
        print_log();
        fprintf(stderr, "reproduce: test-model --seed %" PRIu64 " --ops <same --ops>\n", H.seed);
        exit(1);
}

static __attribute__((format(printf, 1, 2))) void log_op(const char *fmt, ...)
{
        va_list ap;
        char *line = H.log[H.log_next];
        int n = snprintf(line, sizeof(H.log[0]), "#%" PRIu64 " ", H.op);

        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(H.log[0]) - (size_t)n, fmt, ap);
        va_end(ap);
        H.log_next = (H.log_next + 1) % LOG_LINES;
        if (H.verbose)
                printf("%s\n", line);
}

static const char *err_name(int r)
{
        static char buf[64];

        if (r >= 0) {
                snprintf(buf, sizeof(buf), "%d", r);
                return buf;
        }
        snprintf(buf, sizeof(buf), "-%s", strerror(-r));
        switch (-r) {
        case EINVAL:
                return "-EINVAL";
        case ENOENT:
                return "-ENOENT";
        case EEXIST:
                return "-EEXIST";
        case EROFS:
                return "-EROFS";
        case ENOSPC:
                return "-ENOSPC";
        case EIO:
                return "-EIO";
        case EBUSY:
                return "-EBUSY";
        case EUCLEAN:
                return "-EUCLEAN";
        default:
                return buf;
        }
}

/* Fails unless r is 0 (or, for I/O calls, the byte count). */
static void expect_ok(int r, const char *call)
{
        if (r < 0)
                fail("%s returned %s (%s), expected success", call, err_name(r), ss_last_error());
}

static void expect_err(int r, int want, const char *call)
{
        if (r != want)
                fail("%s returned %s, expected %s", call, err_name(r), err_name(want));
}

static void verify(unsigned what)
{
        char why[512];
        int r = model_verify(H.s, H.m, what, why, sizeof(why));

        if (r)
                fail("store differs from the model: %s", why);
}

static void verify_chunk(uint32_t id, uint64_t chunk)
{
        char why[512];
        int r = model_verify_chunk(H.s, H.m, id, chunk, why, sizeof(why));

        if (r)
                fail("store differs from the model: %s", why);
}

/* Every chunk touched by [offset, offset + length) of image id. */
static void verify_range(uint32_t id, uint64_t offset, uint64_t length)
{
        for (uint64_t c = offset / H.chunk_size; c <= (offset + length - 1) / H.chunk_size; c++)
                verify_chunk(id, c);
}

static void report_problem(void *user, const char *message)
{
        (void)user;
        fprintf(stderr, "  ss_check: %s\n", message);
}

static void run_check(void)
{
        int r = ss_check(H.s, report_problem, NULL);

        H.checks++;
        if (r != 0)
                fail("ss_check returned %s (%s)", err_name(r), ss_last_error());
}

/* ---- random choices ---- */

static uint32_t random_snapshot(void)
{
        if (!H.m->nsnaps)
                return 0;
        return H.m->snaps[rng_below(&H.rng, H.m->nsnaps)].id;
}

static uint32_t random_writable(void)
{
        uint32_t ids[64];
        size_t n = 0;

        for (size_t i = 0; i < H.m->nsnaps && n < 64; i++)
                if (H.m->snaps[i].flags & SS_SNAP_WRITABLE)
                        ids[n++] = H.m->snaps[i].id;
        return n ? ids[rng_below(&H.rng, n)] : 0;
}

/* An id that no live snapshot has. */
static uint32_t missing_id(void)
{
        for (;;) {
                uint32_t id = rng_percent(&H.rng, 50)
                                      ? H.max_id + 1 + (uint32_t)rng_below(&H.rng, 100)
                                      : (uint32_t)rng_range(&H.rng, 1, H.max_id + 1);
                if (!model_snap(H.m, id))
                        return id;
        }
}

static void random_name(char *name, size_t size)
{
        static const char chars[] =
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
        size_t len;

        snprintf(name, size, "s%u", ++H.name_counter);
        len = strlen(name);
        size_t target = rng_percent(&H.rng, 3) ? SS_NAME_MAX : len + rng_below(&H.rng, 12);
        while (len < target && len + 1 < size)
                name[len++] = chars[rng_below(&H.rng, sizeof(chars) - 1)];
        name[len] = 0;
        if (!ss_name_valid(name, SS_NAME_MAX))
                fail("ss_name_valid rejects the valid name '%s'", name);
}

static const char *invalid_name(char *buf, size_t size)
{
        switch (rng_below(&H.rng, 5)) {
        case 0:
                return "";
        case 1:
                memset(buf, 'a', SS_NAME_MAX + 1);
                buf[SS_NAME_MAX + 1] = 0;
                return buf;
        case 2:
                return "bad/name";
        case 3:
                return "bad\nname";
        default:
                snprintf(buf, size, "ctl\x01x");
                return buf;
        }
}

static int32_t random_priority(void)
{
        if (rng_percent(&H.rng, 90))
                return (int32_t)rng_range(&H.rng, 0, 6) - 3;
        return rng_percent(&H.rng, 50) ? INT32_MIN : INT32_MAX;
}

/* A 512-aligned range inside an image of size bytes, biased towards the
 * interesting shapes: inside one chunk, one whole chunk, several chunks,
 * the (possibly partial) last chunk. */
static void random_range(uint64_t size, uint64_t *ret_off, uint64_t *ret_len)
{
        uint64_t cs = H.chunk_size, sectors = size / 512, nch = (size + cs - 1) / cs;
        uint64_t off, len, k = rng_below(&H.rng, 100);

        if (k < 35) {
                off = 512 * rng_below(&H.rng, sectors);
                len = 512 * rng_range(&H.rng, 1, 16);
        } else if (k < 55) {
                off = cs * rng_below(&H.rng, nch);
                len = cs;
        } else if (k < 75) {
                off = cs * rng_below(&H.rng, nch) + 512 * rng_below(&H.rng, cs / 512);
                len = 512 * rng_range(&H.rng, cs / 512, 4 * cs / 512);
        } else if (k < 85) {
                off = cs * (nch - 1) + 512 * rng_below(&H.rng, cs / 512);
                if (off >= size)
                        off = cs * (nch - 1);
                len = size - off;
        } else {
                off = 512 * rng_below(&H.rng, sectors);
                len = 512 * rng_range(&H.rng, 1, 2 * cs / 512);
        }
        if (off >= size)
                off = size - 512;
        if (len > size - off)
                len = size - off;
        if (len > IO_MAX)
                len = IO_MAX;
        *ret_off = off;
        *ret_len = len;
}

/* ---- the store handle ---- */

/* The victim must be the lowest-priority, oldest unpinned snapshot other
 * than the one being written and the revert target (which the engine
 * keeps). */
static void check_victim(uint32_t id)
{
        const ModelSnap *best = NULL;

        for (size_t i = 0; i < H.m->nsnaps; i++) {
                const ModelSnap *sn = &H.m->snaps[i];

                if ((sn->flags & SS_SNAP_PINNED) || sn->id == H.autodelete_keep ||
                    sn->id == H.revert_busy)
                        continue;
                if (!best || sn->priority < best->priority)
                        best = sn;
        }
        if (!best || best->id != id)
                fail("autodelete chose snapshot %u, but the lowest-priority oldest unpinned one "
                     "is %u",
                     id, best ? best->id : 0);
}

static void on_autodelete(void *user, uint32_t id, const char *name)
{
        Harness *h = user;
        ModelSnap *sn = model_snap(h->m, id);

        log_op("  autodelete %u '%s'", id, name ? name : "(null)");
        if (!sn)
                fail("autodelete reported snapshot %u '%s', which does not exist", id,
                     name ? name : "(null)");
        if (!name || strcmp(name, sn->name))
                fail("autodelete reported snapshot %u as '%s', its name is '%s'", id,
                     name ? name : "(null)", sn->name);
        if (h->policy != SS_FULL_AUTODELETE)
                fail("autodelete deleted snapshot %u under the refuse policy", id);
        if (sn->flags & SS_SNAP_PINNED)
                fail("autodelete deleted pinned snapshot %u", id);
        if (id == h->revert_busy)
                fail("autodelete deleted snapshot %u while the origin is being reverted to it", id);
        check_victim(id);
        model_snapshot_delete(h->m, id);
        h->autodeleted++;
}

static void store_open(unsigned flags)
{
        static const size_t caches[] = { 0, 128u << 10, 1u << 20 };
        SsOpenOptions o = {
                .flags = flags,
                .cache_bytes = caches[rng_below(&H.rng, 3)],
                .on_autodelete = on_autodelete,
                .user = &H,
        };
        int r = ss_store_open(H.origin_dev, H.store_dev, &o, &H.s);

        if (r < 0)
                fail("ss_store_open(flags 0x%x, cache %zu) returned %s (%s)", flags, o.cache_bytes,
                     err_name(r), ss_last_error());
}

static void store_close(void)
{
        int r = ss_store_close(H.s);

        H.s = NULL;
        expect_ok(r, "ss_store_close");
}

/* Reacts to a full store as an administrator would: delete the oldest
 * unpinned snapshot (any, if all are pinned) and clean up. */
static void make_room(void)
{
        uint32_t victim = 0;
        int r;

        H.enospc++;
        for (size_t i = 0; i < H.m->nsnaps && !victim; i++)
                if (!(H.m->snaps[i].flags & SS_SNAP_PINNED) && H.m->snaps[i].id != H.revert_busy)
                        victim = H.m->snaps[i].id;
        for (size_t i = 0; i < H.m->nsnaps && !victim; i++)
                if (H.m->snaps[i].id != H.revert_busy)
                        victim = H.m->snaps[i].id;
        if (victim) {
                log_op("  make room: delete %u", victim);
                r = ss_snapshot_delete(H.s, victim);
                expect_ok(r, "ss_snapshot_delete (making room)");
                model_snapshot_delete(H.m, victim);
        }
        while ((r = ss_cleanup_step(H.s, 1000)) == 1)
                ;
        expect_ok(r, "ss_cleanup_step (making room)");
}

/* Copied-out and private chunks the model's snapshots need at least: per
 * chunk, the distinct contents (by buffer) that snapshots hold and the
 * origin does not. */
static uint64_t needed_chunks(void)
{
        uint64_t need = 0;
        const ModelChunk **seen = calloc(H.m->nsnaps + 1, sizeof(*seen));

        for (uint64_t c = 0; c < H.m->origin.nchunks; c++) {
                size_t n = 0;
                for (size_t i = 0; i < H.m->nsnaps; i++) {
                        const ModelImage *img = &H.m->snaps[i].image;
                        if (c >= img->nchunks || img->chunks[c] == H.m->origin.chunks[c])
                                continue;
                        size_t j = 0;
                        while (j < n && seen[j] != img->chunks[c])
                                j++;
                        if (j == n)
                                seen[n++] = img->chunks[c];
                }
                need += n;
        }
        free(seen);
        return need;
}

/* An operation failed with ENOSPC: legal only when the store holds
 * snapshots (or copy-outs of deleted ones still being freed). */
static void check_enospc_legal(const char *call)
{
        SsStoreInfo info;

        expect_ok(ss_store_info(H.s, &info), "ss_store_info");
        if (!H.m->nsnaps && !info.cleanup_jobs)
                fail("%s returned -ENOSPC on a store with no snapshots (%" PRIu64
                     " bytes free, %" PRIu64 " data bytes)",
                     call, info.free_bytes, info.data_bytes);
        if (H.verbose)
                printf("  ENOSPC: %u snapshots, %" PRIu64 " free, %" PRIu64 " data, %" PRIu64
                       " meta, %u cleanup jobs; the model needs at least %" PRIu64 " data bytes\n",
                       info.snapshot_count, info.free_bytes, info.data_bytes, info.metadata_bytes,
                       info.cleanup_jobs, needed_chunks() * H.chunk_size);
}

/* ---- operations ---- */

static void op_origin_write(void)
{
        uint64_t off, len;
        bool direct = rng_percent(&H.rng, 15);
        int r;

        random_range(H.m->origin.size, &off, &len);
        rng_fill(&H.rng, H.buf, len);
        log_op("origin-write %" PRIu64 " +%" PRIu64 "%s", off, len, direct ? " (prepare)" : "");
        if (direct) {
                r = ss_origin_prepare_write(H.s, off, len);
                if (r == 0) {
                        r = ss_dev_pwrite(H.origin_dev, H.buf, len, off);
                        expect_ok(r, "pwrite to the origin device");
                }
        } else {
                r = ss_origin_write(H.s, H.buf, off, len);
        }
        if (r >= 0) {
                model_origin_write(H.m, H.buf, off, len);
        } else if (r == -ENOSPC) {
                check_enospc_legal("ss_origin_write");
                verify_range(SS_ORIGIN_ID, off, len);
                make_room();
        } else {
                fail("%s(%" PRIu64 ", %" PRIu64 ") returned %s (%s)",
                     direct ? "ss_origin_prepare_write" : "ss_origin_write", off, len, err_name(r),
                     ss_last_error());
        }
        verify_chunk(SS_ORIGIN_ID, off / H.chunk_size);
        if (H.m->nsnaps) {
                uint32_t id = random_snapshot();
                verify_chunk(id, off / H.chunk_size);
        }
}

/* Group commit as the server does it: 2..4 writers' ranges (overlapping
 * or not) prepared in one commit, then written in order.  A failed batch
 * must have changed nothing; then each range is prepared alone. */
static void op_origin_batch(void)
{
        SsRange ranges[4];
        size_t n = (size_t)rng_range(&H.rng, 2, 4);
        bool alone = false;
        int r;

        for (size_t i = 0; i < n; i++)
                random_range(H.m->origin.size, &ranges[i].offset, &ranges[i].length);
        log_op("origin-batch of %zu: %" PRIu64 " +%" PRIu64 ", %" PRIu64 " +%" PRIu64 ", ...", n,
               ranges[0].offset, ranges[0].length, ranges[1].offset, ranges[1].length);
        r = ss_origin_prepare_writes(H.s, ranges, n);
        if (r == -ENOSPC) {
                check_enospc_legal("ss_origin_prepare_writes");
                verify_range(SS_ORIGIN_ID, ranges[0].offset, ranges[0].length);
                if (H.m->nsnaps)
                        verify_range(random_snapshot(), ranges[0].offset, ranges[0].length);
                alone = true;
        } else if (r < 0) {
                fail("ss_origin_prepare_writes(%zu ranges) returned %s (%s)", n, err_name(r),
                     ss_last_error());
        }
        for (size_t i = 0; i < n; i++) {
                uint64_t off = ranges[i].offset, len = ranges[i].length;

                r = alone ? ss_origin_prepare_write(H.s, off, len) : 0;
                if (r == -ENOSPC) {
                        check_enospc_legal("ss_origin_prepare_write");
                        continue;
                }
                if (r < 0)
                        fail("ss_origin_prepare_write(%" PRIu64 ", %" PRIu64
                             ") after a failed batch returned %s (%s)",
                             off, len, err_name(r), ss_last_error());
                rng_fill(&H.rng, H.buf, len);
                expect_ok(ss_dev_pwrite(H.origin_dev, H.buf, len, off),
                          "pwrite to the origin device");
                model_origin_write(H.m, H.buf, off, len);
        }
        if (alone)
                make_room();
        for (size_t i = 0; i < n; i++) {
                verify_chunk(SS_ORIGIN_ID, ranges[i].offset / H.chunk_size);
                if (H.m->nsnaps)
                        verify_chunk(random_snapshot(), ranges[i].offset / H.chunk_size);
        }
}

static void op_create(void);
static void op_delete(void);
static void op_cleanup(void);
static void op_snap_write(void);

/* The split copy-out (snapstore/origin.c, THE SPLIT COPY-OUT) as the
 * server's group commit drives it: 1..4 writers' ranges (overlapping or
 * not) planned, their I/O in a random order with other operations in
 * between that change what needs a copy-out (snapshot create and delete,
 * cleanup, snapshot writes), snapshot reads while the copies are in
 * flight, one apply for all.  A range whose plan was refused (-EAGAIN:
 * another plan holds it; -ENOSPC) or that had nothing to copy when
 * planned is prepared alone after the apply, as a writer that comes back
 * later.  Then the ranges are written in order. */
static void op_origin_split(void)
{
        SsRange ranges[4];
        SsCopyPlan *plans[4] = { NULL }, *applied[4];
        bool alone[4] = { false }, full = false;
        size_t n = (size_t)rng_range(&H.rng, 1, 4), napplied = 0, order[4];
        int r;

        for (size_t i = 0; i < n; i++) {
                random_range(H.m->origin.size, &ranges[i].offset, &ranges[i].length);
                order[i] = i;
        }
        log_op("origin-split of %zu: %" PRIu64 " +%" PRIu64 ", ...", n, ranges[0].offset,
               ranges[0].length);
        for (size_t i = 0; i < n; i++) {
                r = ss_copy_plan(H.s, ranges[i].offset, ranges[i].length, &plans[i]);
                if (r == -ENOSPC)
                        check_enospc_legal("ss_copy_plan");
                else if (r < 0 && r != -EAGAIN)
                        fail("ss_copy_plan(%" PRIu64 ", %" PRIu64 ") returned %s (%s)",
                             ranges[i].offset, ranges[i].length, err_name(r), ss_last_error());
                if (r < 0)
                        plans[i] = NULL;
                alone[i] = !plans[i];
                full |= r == -ENOSPC;
        }
        for (size_t i = n; i > 1; i--) {
                size_t o = (size_t)rng_below(&H.rng, i), x = order[i - 1];
                order[i - 1] = order[o];
                order[o] = x;
        }
        /* While a plan is in flight: its range refused to a prepare, the
         * calls that would break it refused, and a plan given up. */
        for (size_t i = 0; i < n && rng_percent(&H.rng, 20); i++) {
                if (!plans[i])
                        continue;
                r = ss_origin_prepare_write(H.s, ranges[i].offset, ranges[i].length);
                if (r != -EAGAIN)
                        fail("ss_origin_prepare_write of a range in flight returned %s",
                             err_name(r));
                if (H.m->nsnaps && (r = ss_revert_begin(H.s, H.m->snaps[0].id)) != -EBUSY)
                        fail("ss_revert_begin with a plan in flight returned %s", err_name(r));
                if ((r = ss_origin_grow(H.s, H.m->origin.size)) != -EBUSY)
                        fail("ss_origin_grow with a plan in flight returned %s", err_name(r));
                if (rng_percent(&H.rng, 50)) {
                        ss_copy_plan_drop(H.s, plans[i]);
                        plans[i] = NULL;
                        alone[i] = true;
                }
                break;
        }
        for (size_t j = 0; j < n; j++) {
                size_t i = order[j];
                if (plans[i])
                        expect_ok(ss_copy_plan_io(H.s, plans[i]), "ss_copy_plan_io");
                /* The origin is not written yet: every image reads as before. */
                verify_chunk(SS_ORIGIN_ID, ranges[i].offset / H.chunk_size);
                if (H.m->nsnaps)
                        verify_chunk(random_snapshot(), ranges[i].offset / H.chunk_size);
                uint64_t k = rng_below(&H.rng, 100);
                if (k < 10)
                        op_create();
                else if (k < 18)
                        op_delete();
                else if (k < 24)
                        op_cleanup();
                else if (k < 30)
                        op_snap_write();
        }
        for (size_t i = 0; i < n; i++)
                if (plans[i])
                        applied[napplied++] = plans[i];
        r = napplied ? ss_copy_plans_apply(H.s, applied, napplied) : 0;
        if (r == -ENOSPC) {
                check_enospc_legal("ss_copy_plans_apply");
                for (size_t i = 0; i < n; i++)
                        alone[i] = true;
                full = true;
        } else if (r < 0) {
                fail("ss_copy_plans_apply(%zu plans) returned %s (%s)", napplied, err_name(r),
                     ss_last_error());
        }
        for (size_t i = 0; i < n; i++) {
                uint64_t off = ranges[i].offset, len = ranges[i].length;

                r = alone[i] ? ss_origin_prepare_write(H.s, off, len) : 0;
                if (r == -ENOSPC) {
                        check_enospc_legal("ss_origin_prepare_write");
                        full = true;
                        continue;
                }
                if (r < 0)
                        fail("ss_origin_prepare_write(%" PRIu64 ", %" PRIu64
                             ") after the apply returned %s (%s)",
                             off, len, err_name(r), ss_last_error());
                rng_fill(&H.rng, H.buf, len);
                expect_ok(ss_dev_pwrite(H.origin_dev, H.buf, len, off),
                          "pwrite to the origin device");
                model_origin_write(H.m, H.buf, off, len);
        }
        if (rng_percent(&H.rng, 10))
                run_check();
        if (full)
                make_room();
        for (size_t i = 0; i < n; i++) {
                verify_chunk(SS_ORIGIN_ID, ranges[i].offset / H.chunk_size);
                if (H.m->nsnaps)
                        verify_chunk(random_snapshot(), ranges[i].offset / H.chunk_size);
        }
}

static void op_create(void)
{
        char name[SS_NAME_MAX + 2];
        uint32_t flags = 0, id = 0;
        int32_t prio = random_priority();
        uint64_t k = rng_below(&H.rng, 100);
        int r;

        if (H.m->nsnaps >= H.max_live) {
                log_op("create skipped: %zu live", H.m->nsnaps);
                return;
        }
        if (rng_percent(&H.rng, 25))
                flags |= SS_SNAP_WRITABLE;
        if (rng_percent(&H.rng, H.small ? 3 : 10))
                flags |= SS_SNAP_PINNED;

        if (k < 5 && H.m->nsnaps) {
                const ModelSnap *other = model_snap(H.m, random_snapshot());
                log_op("create '%s' (existing name)", other->name);
                r = ss_snapshot_create(H.s, other->name, flags, prio, &id);
                expect_err(r, -EEXIST, "ss_snapshot_create with an existing name");
                return;
        }
        if (k < 8) {
                const char *bad = invalid_name(name, sizeof(name));
                log_op("create (invalid name, %zu bytes)", strlen(bad));
                if (ss_name_valid(bad, SS_NAME_MAX))
                        fail("ss_name_valid accepts an invalid name (%zu bytes)", strlen(bad));
                r = ss_snapshot_create(H.s, bad, flags, prio, &id);
                expect_err(r, -EINVAL, "ss_snapshot_create with an invalid name");
                return;
        }
        if (k < 10) {
                random_name(name, sizeof(name));
                log_op("create '%s' (unknown flag)", name);
                r = ss_snapshot_create(H.s, name, flags | (1u << 9), prio, &id);
                expect_err(r, -EINVAL, "ss_snapshot_create with an unknown flag");
                return;
        }

        random_name(name, sizeof(name));
        log_op("create '%s' flags 0x%x priority %d", name, flags, prio);
        time_t t0 = time(NULL);
        r = ss_snapshot_create(H.s, name, flags, prio, &id);
        if (r == -ENOSPC) {
                check_enospc_legal("ss_snapshot_create");
                make_room();
                return;
        }
        expect_ok(r, "ss_snapshot_create");
        if (id <= H.max_id)
                fail("ss_snapshot_create gave id %u, not above the previous highest %u", id,
                     H.max_id);
        H.max_id = id;
        model_snapshot_create(H.m, id, name, flags, prio);

        SsSnapshotInfo si;
        expect_ok(ss_snapshot_get(H.s, id, &si), "ss_snapshot_get");
        if (si.ctime < t0 - 1 || si.ctime > time(NULL) + 1)
                fail("snapshot %u has ctime %" PRId64 ", created at %" PRId64, id, si.ctime,
                     (int64_t)t0);
        model_snap(H.m, id)->ctime = si.ctime;
        verify_chunk(id, rng_below(&H.rng, H.m->origin.nchunks));
}

static void op_delete(void)
{
        int r;

        if (!H.m->nsnaps || rng_percent(&H.rng, 4)) {
                uint32_t id = rng_percent(&H.rng, 20) ? SS_ORIGIN_ID : missing_id();
                log_op("delete %u (missing)", id);
                r = ss_snapshot_delete(H.s, id);
                if (id == SS_ORIGIN_ID && r == -EINVAL)
                        return;
                expect_err(r, -ENOENT, "ss_snapshot_delete of a missing snapshot");
                return;
        }
        uint32_t id = random_snapshot();
        log_op("delete %u", id);
        r = ss_snapshot_delete(H.s, id);
        expect_ok(r, "ss_snapshot_delete");
        model_snapshot_delete(H.m, id);
        r = ss_snapshot_get(H.s, id, &(SsSnapshotInfo){ 0 });
        expect_err(r, -ENOENT, "ss_snapshot_get of a deleted snapshot");
}

static void op_rename(void)
{
        char name[SS_NAME_MAX + 2];
        uint64_t k = rng_below(&H.rng, 100);
        int r;

        if (!H.m->nsnaps) {
                uint32_t id = missing_id();
                random_name(name, sizeof(name));
                log_op("rename %u '%s' (missing)", id, name);
                expect_err(ss_snapshot_rename(H.s, id, name), -ENOENT,
                           "ss_snapshot_rename of a missing snapshot");
                return;
        }
        uint32_t id = random_snapshot();
        if (k < 20 && H.m->nsnaps >= 2) {
                uint32_t other;
                do
                        other = random_snapshot();
                while (other == id);
                const char *taken = model_snap(H.m, other)->name;
                log_op("rename %u '%s' (taken by %u)", id, taken, other);
                r = ss_snapshot_rename(H.s, id, taken);
                expect_err(r, -EEXIST, "ss_snapshot_rename to another snapshot's name");
                return;
        }
        if (k < 40) {
                const char *bad = invalid_name(name, sizeof(name));
                log_op("rename %u (invalid name, %zu bytes)", id, strlen(bad));
                r = ss_snapshot_rename(H.s, id, bad);
                expect_err(r, -EINVAL, "ss_snapshot_rename to an invalid name");
                return;
        }
        random_name(name, sizeof(name));
        log_op("rename %u '%s'", id, name);
        r = ss_snapshot_rename(H.s, id, name);
        expect_ok(r, "ss_snapshot_rename");
        model_snapshot_rename(H.m, id, name);
        uint32_t found = 0;
        expect_ok(ss_snapshot_find(H.s, name, &found), "ss_snapshot_find of the new name");
        if (found != id)
                fail("ss_snapshot_find('%s') gives %u, expected %u", name, found, id);
}

static void op_priority(void)
{
        int32_t prio = random_priority();

        if (!H.m->nsnaps) {
                uint32_t id = missing_id();
                log_op("priority %u (missing)", id);
                expect_err(ss_snapshot_set_priority(H.s, id, prio), -ENOENT,
                           "ss_snapshot_set_priority of a missing snapshot");
                return;
        }
        uint32_t id = random_snapshot();
        log_op("priority %u %d", id, prio);
        expect_ok(ss_snapshot_set_priority(H.s, id, prio), "ss_snapshot_set_priority");
        model_snap(H.m, id)->priority = prio;
}

static void op_flags(void)
{
        uint64_t k = rng_below(&H.rng, 100);
        int r;

        if (!H.m->nsnaps)
                return;
        uint32_t id = random_snapshot();
        ModelSnap *sn = model_snap(H.m, id);
        if (k < 5) {
                log_op("flags %u (unknown bit)", id);
                r = ss_snapshot_set_flags(H.s, id, 1u << 12, 0);
                expect_err(r, -EINVAL, "ss_snapshot_set_flags with an unknown flag");
                return;
        }
        if (k < 20) {
                /* Changing WRITABLE later may be refused; if accepted it
                 * must behave as the flag says. */
                bool set = !(sn->flags & SS_SNAP_WRITABLE);
                log_op("flags %u %s writable", id, set ? "set" : "clear");
                r = ss_snapshot_set_flags(H.s, id, set ? SS_SNAP_WRITABLE : 0,
                                          set ? 0 : SS_SNAP_WRITABLE);
                if (r == 0)
                        sn->flags ^= SS_SNAP_WRITABLE;
                else if (r != -EINVAL && r != -EPERM && r != -EOPNOTSUPP)
                        fail("ss_snapshot_set_flags(writable) returned %s (%s)", err_name(r),
                             ss_last_error());
                return;
        }
        bool pin = rng_percent(&H.rng, H.small ? 30 : 50);
        log_op("flags %u %s pinned", id, pin ? "set" : "clear");
        r = ss_snapshot_set_flags(H.s, id, pin ? SS_SNAP_PINNED : 0, pin ? 0 : SS_SNAP_PINNED);
        expect_ok(r, "ss_snapshot_set_flags");
        sn->flags = pin ? sn->flags | SS_SNAP_PINNED : sn->flags & ~(uint32_t)SS_SNAP_PINNED;
}

static void op_snap_write(void)
{
        uint64_t off, len;
        int r;

        if (!H.m->nsnaps) {
                uint32_t id = missing_id();
                log_op("snapshot-write %u (missing)", id);
                expect_err(ss_snapshot_write(H.s, id, H.buf, 0, 512), -ENOENT,
                           "ss_snapshot_write to a missing snapshot");
                return;
        }
        uint32_t id = rng_percent(&H.rng, 85) ? random_writable() : 0;
        if (!id)
                id = random_snapshot();
        ModelSnap *sn = model_snap(H.m, id);
        random_range(sn->image.size, &off, &len);
        rng_fill(&H.rng, H.buf, len);
        log_op("snapshot-write %u%s %" PRIu64 " +%" PRIu64, id,
               sn->flags & SS_SNAP_WRITABLE ? "" : " (read-only)", off, len);
        H.autodelete_keep = id;
        r = ss_snapshot_write(H.s, id, H.buf, off, len);
        H.autodelete_keep = 0;
        sn = model_snap(H.m, id); /* autodelete may have moved or removed it */
        if (!(sn && sn->flags & SS_SNAP_WRITABLE)) {
                if (sn)
                        expect_err(r, -EROFS, "ss_snapshot_write to a read-only snapshot");
                else if (r >= 0)
                        fail("ss_snapshot_write succeeded on snapshot %u after autodelete "
                             "deleted it",
                             id);
                return;
        }
        if (r == -ENOSPC) {
                check_enospc_legal("ss_snapshot_write");
                verify_range(id, off, len);
                make_room();
                return;
        }
        expect_ok(r, "ss_snapshot_write");
        model_snapshot_write(H.m, id, H.buf, off, len);
        verify_chunk(id, off / H.chunk_size);
}

/* The revert is finished; an unfinished one was recorded in the store. */
static void finish_revert(uint32_t id)
{
        SsStoreInfo info;
        uint64_t done = 0;
        int r, rounds = 0;

        while ((r = ss_revert_step(H.s, (unsigned)rng_range(&H.rng, 1, 64), &done)) != 0) {
                if (r == -ENOSPC) {
                        check_enospc_legal("ss_revert_step");
                        if (++rounds > 1000) {
                                SsStoreInfo si;
                                expect_ok(ss_store_info(H.s, &si), "ss_store_info");
                                fail("ss_revert_step keeps failing with -ENOSPC with only its "
                                     "target left (%u snapshots, %" PRIu64 " bytes free): the "
                                     "revert can neither finish nor be abandoned",
                                     si.snapshot_count, si.free_bytes);
                        }
                        make_room();
                        continue;
                }
                if (r != 1)
                        fail("ss_revert_step returned %s (%s)", err_name(r), ss_last_error());
        }
        expect_ok(ss_store_info(H.s, &info), "ss_store_info");
        if (info.revert_target)
                fail("ss_revert_step returned 0 but revert_target is still %u", info.revert_target);
        (void)id;
}

/* Gives the unfinished revert to id up: every chunk of the origin must be
 * as before the revert or as snapshot id has it, and the model's origin
 * learns which; every snapshot stays as it was. */
static void abandon_revert(uint32_t id)
{
        const ModelImage *t = &model_snap(H.m, id)->image;
        uint64_t cs = H.chunk_size, reverted = 0;
        SsStoreInfo info;

        expect_ok(ss_revert_abandon(H.s), "ss_revert_abandon");
        expect_err(ss_revert_abandon(H.s), -ENOENT, "ss_revert_abandon with no revert pending");
        expect_ok(ss_store_info(H.s, &info), "ss_store_info");
        if (info.revert_target)
                fail("after ss_revert_abandon revert_target is %u", info.revert_target);
        for (uint64_t c = 0; c < H.m->origin.nchunks; c++) {
                uint64_t off = c * cs;
                uint64_t len = H.m->origin.size - off < cs ? H.m->origin.size - off : cs;
                expect_ok(ss_origin_read(H.s, H.buf, off, len), "ss_origin_read");
                model_read(&H.m->origin, H.buf2, off, len);
                if (!memcmp(H.buf, H.buf2, len))
                        continue;
                if (off < t->size)
                        model_read(t, H.buf2, off, t->size - off < len ? t->size - off : len);
                if (memcmp(H.buf, H.buf2, len))
                        fail("after an abandoned revert to %u, origin chunk %" PRIu64
                             " is neither as before nor as the snapshot",
                             id, c);
                model_origin_write(H.m, H.buf, off, len);
                reverted++;
        }
        log_op("  abandoned the revert to %u: %" PRIu64 " chunks reverted", id, reverted);
        if (H.m->origin.size <= (256u << 10))
                verify(MV_ALL);
}

static void op_revert(void)
{
        uint32_t ids[64];
        size_t n = 0;
        int r;

        for (size_t i = 0; i < H.m->nsnaps && n < 64; i++)
                ids[n++] = H.m->snaps[i].id;
        if (!n || rng_percent(&H.rng, 5)) {
                uint32_t id = missing_id();
                log_op("revert %u (missing)", id);
                expect_err(ss_revert_origin(H.s, id), -ENOENT, "ss_revert_origin to a missing id");
                return;
        }
        uint32_t id = ids[rng_below(&H.rng, n)];
        bool stepwise = rng_percent(&H.rng, 50);
        log_op("revert %u%s", id, stepwise ? " (stepwise)" : "");
        H.revert_busy = id;
        r = stepwise ? ss_revert_begin(H.s, id) : ss_revert_origin(H.s, id);
        if (r < 0 && r != -ENOSPC)
                fail("%s(%u) returned %s (%s)", stepwise ? "ss_revert_begin" : "ss_revert_origin",
                     id, err_name(r), ss_last_error());
        SsStoreInfo info;
        expect_ok(ss_store_info(H.s, &info), "ss_store_info");
        if (r == -ENOSPC && info.revert_target != id) {
                /* Refused before it started: nothing changed. */
                check_enospc_legal("ss_revert_origin");
                H.revert_busy = 0;
                verify_chunk(SS_ORIGIN_ID, rng_below(&H.rng, H.m->origin.nchunks));
                make_room();
                return;
        }
        if (r == 0 && !stepwise && info.revert_target)
                fail("ss_revert_origin returned 0 but revert_target is %u", info.revert_target);
        if (stepwise && info.revert_target != id)
                fail("after ss_revert_begin(%u) revert_target is %u", id, info.revert_target);
        if (stepwise && info.revert_target) {
                /* While it is unfinished: no second revert, no deleting its target. */
                uint32_t other = random_snapshot();
                if (other != id)
                        expect_err(ss_revert_begin(H.s, other), -EBUSY,
                                   "ss_revert_begin during an unfinished revert");
                expect_err(ss_snapshot_delete(H.s, id), -EBUSY,
                           "ss_snapshot_delete of the target of an unfinished revert");
        }
        if (stepwise && rng_percent(&H.rng, 50)) {
                uint64_t done = 0;
                r = ss_revert_step(H.s, (unsigned)rng_range(&H.rng, 1, 8), &done);
                if (r < 0 && r != -ENOSPC)
                        fail("ss_revert_step returned %s (%s)", err_name(r), ss_last_error());
        }
        if (stepwise && rng_percent(&H.rng, 20) && ss_store_info(H.s, &info) == 0 &&
            info.revert_target) {
                abandon_revert(id);
                H.revert_busy = 0;
                return;
        }
        if (stepwise && rng_percent(&H.rng, 30)) {
                log_op("  reopen during the revert");
                store_close();
                store_open(0);
                expect_ok(ss_store_info(H.s, &info), "ss_store_info");
                if (info.revert_target != id && info.revert_target != 0)
                        fail("after reopen revert_target is %u, expected %u", info.revert_target,
                             id);
        }
        finish_revert(id);
        H.revert_busy = 0;
        if (!model_snap(H.m, id))
                fail("snapshot %u vanished during the revert to it", id);
        model_revert(H.m, id);
        if (H.m->origin.size <= (256u << 10))
                verify(MV_ORIGIN);
        else
                for (int i = 0; i < 4; i++)
                        verify_chunk(SS_ORIGIN_ID, rng_below(&H.rng, H.m->origin.nchunks));
}

static void op_cleanup(void)
{
        unsigned budget = rng_percent(&H.rng, 10) ? 1000 : (unsigned)rng_range(&H.rng, 1, 32);
        SsStoreInfo info;

        log_op("cleanup %u", budget);
        int r = ss_cleanup_step(H.s, budget);
        if (r != 0 && r != 1)
                fail("ss_cleanup_step(%u) returned %s (%s)", budget, err_name(r), ss_last_error());
        expect_ok(ss_store_info(H.s, &info), "ss_store_info");
        if (r == 0 && info.cleanup_jobs)
                fail("ss_cleanup_step returned 0 with %u cleanup jobs left", info.cleanup_jobs);
        if (H.m->nsnaps)
                verify_chunk(random_snapshot(), rng_below(&H.rng, H.m->origin.nchunks));
}

static void readonly_stint(void)
{
        char name[SS_NAME_MAX + 2];
        uint32_t id = 0;

        log_op("  read-only stint");
        store_close();
        store_open(SS_OPEN_READONLY);
        verify(MV_META);
        verify_chunk(SS_ORIGIN_ID, rng_below(&H.rng, H.m->origin.nchunks));
        if (H.m->nsnaps)
                verify_chunk(random_snapshot(), rng_below(&H.rng, H.m->origin.nchunks));
        random_name(name, sizeof(name));
        expect_err(ss_snapshot_create(H.s, name, 0, 0, &id), -EROFS,
                   "ss_snapshot_create on a read-only store");
        expect_err(ss_origin_write(H.s, H.buf, 0, 512), -EROFS,
                   "ss_origin_write on a read-only store");
        if (H.m->nsnaps) {
                uint32_t sid = random_snapshot();
                expect_err(ss_snapshot_delete(H.s, sid), -EROFS,
                           "ss_snapshot_delete on a read-only store");
                expect_err(ss_snapshot_write(H.s, sid, H.buf, 0, 512), -EROFS,
                           "ss_snapshot_write on a read-only store");
        }
        run_check();
        store_close();
        store_open(0);
}

static void op_reopen(void)
{
        log_op("reopen");
        if (rng_percent(&H.rng, 15)) {
                readonly_stint();
                return;
        }
        store_close();
        store_open(0);
        verify(MV_META);
}

/* Collects the chunks of a delta iteration from cur to its end. */
static uint64_t *delta_collect(SsDeltaCursor *cur, size_t *ret_n, size_t batch)
{
        size_t n = 0, cap = 256;
        uint64_t *v = malloc(cap * sizeof(*v));

        for (;;) {
                if (n + batch > cap) {
                        cap = 2 * (n + batch);
                        v = realloc(v, cap * sizeof(*v));
                }
                if (!v)
                        fail("out of memory");
                int r = ss_delta_next(H.s, cur, v + n, batch);
                if (r < 0)
                        fail("ss_delta_next(%u -> %u) returned %s (%s)", cur->from, cur->to,
                             err_name(r), ss_last_error());
                if ((size_t)r > batch)
                        fail("ss_delta_next returned %d for room of %zu", r, batch);
                if (r == 0)
                        break;
                n += (size_t)r;
                if (n > 64 * H.m->origin.nchunks + 1024)
                        fail("ss_delta_next(%u -> %u) does not end", cur->from, cur->to);
        }
        *ret_n = n;
        return v;
}

static void op_delta(void)
{
        uint64_t k = rng_below(&H.rng, 100);
        uint32_t from, to;
        SsDeltaCursor cur;
        int r;

        if (k < 4) {
                uint32_t id = missing_id();
                log_op("delta %u (missing)", id);
                r = rng_percent(&H.rng, 50) ? ss_delta_begin(H.s, id, random_snapshot(), &cur)
                                            : ss_delta_begin(H.s, 0, id, &cur);
                expect_err(r, -ENOENT, "ss_delta_begin with a missing snapshot");
                return;
        }
        if (k < 25) {
                from = 0;
                to = rng_percent(&H.rng, 30) ? SS_ORIGIN_ID : random_snapshot();
        } else if (k < 55) {
                from = random_snapshot();
                to = SS_ORIGIN_ID;
        } else {
                from = random_snapshot();
                to = random_snapshot();
                if (from > to) {
                        uint32_t t = from;
                        from = to;
                        to = t;
                }
        }
        size_t batch = (size_t)rng_range(&H.rng, 1, 64);
        log_op("delta %u -> %u (batch %zu)", from, to, batch);
        r = ss_delta_begin(H.s, from, to, &cur);
        if (from && from == to && r == -EINVAL)
                return; /* "no changes against itself": refusing is fine */
        expect_ok(r, "ss_delta_begin");
        if (cur.from != from || cur.to != to)
                fail("ss_delta_begin(%u, %u) gave a cursor for %u -> %u", from, to, cur.from,
                     cur.to);

        /* Walk part of it, save the cursor, walk the rest. */
        const ModelImage *ti = model_image(H.m, to), *fi = from ? model_image(H.m, from) : NULL;
        uint64_t nch = ti->nchunks;
        size_t skip = (size_t)rng_below(&H.rng, nch / 2 + 2);
        size_t n_head = 0, n_tail = 0;
        uint64_t *head = malloc((skip + 64) * sizeof(*head));
        while (n_head < skip) {
                r = ss_delta_next(H.s, &cur, head + n_head, 1);
                if (r < 0)
                        fail("ss_delta_next returned %s (%s)", err_name(r), ss_last_error());
                if (r == 0)
                        break;
                n_head += (size_t)r;
        }
        SsDeltaCursor saved = cur;
        uint64_t *tail = delta_collect(&cur, &n_tail, batch);

        /* Every reported chunk inside the image, none twice, every changed
         * chunk reported. */
        uint8_t *seen = calloc(1, nch / 8 + 1);
        for (size_t i = 0; i < n_head + n_tail; i++) {
                uint64_t c = i < n_head ? head[i] : tail[i - n_head];
                if (c >= nch)
                        fail("delta %u -> %u reported chunk %" PRIu64 ", beyond the %" PRIu64
                             " chunks of the image",
                             from, to, c, nch);
                if (seen[c / 8] & (1u << (c % 8)))
                        fail("delta %u -> %u reported chunk %" PRIu64 " twice", from, to, c);
                seen[c / 8] |= (uint8_t)(1u << (c % 8));
        }
        for (uint64_t c = 0; c < nch; c++) {
                bool changed = !fi || model_chunk_differs(fi, ti, c);
                bool reported = seen[c / 8] & (1u << (c % 8));
                if (changed && !reported)
                        fail("delta %u -> %u did not report chunk %" PRIu64
                             ", which differs (%zu chunks reported)",
                             from, to, c, n_head + n_tail);
                if (reported && !changed)
                        H.delta_extra++;
        }
        H.delta_chunks += n_head + n_tail;
        free(seen);

        /* Resume the saved cursor, maybe after a reopen: same sequence. */
        if (rng_percent(&H.rng, 10)) {
                log_op("  reopen before resuming the cursor");
                store_close();
                store_open(0);
        }
        size_t n_again = 0;
        uint64_t *again = delta_collect(&saved, &n_again, (size_t)rng_range(&H.rng, 1, 64));
        if (n_again != n_tail || memcmp(again, tail, n_tail * sizeof(*tail))) {
                size_t i = 0;
                while (i < n_again && i < n_tail && again[i] == tail[i])
                        i++;
                fail("delta %u -> %u resumed from a saved cursor (after %zu chunks) gives %zu "
                     "more chunks, the first walk %zu; first difference at %zu (%" PRIu64
                     " vs %" PRIu64 ")",
                     from, to, n_head, n_again, n_tail, i, i < n_again ? again[i] : UINT64_MAX,
                     i < n_tail ? tail[i] : UINT64_MAX);
        }
        H.cursor_resumes++;
        free(again);
        free(head);
        free(tail);
}

/* Compares what ss_snapshot_map_read says with the model, reading the
 * devices directly. */
static void check_map_read(uint32_t id, uint64_t off, uint64_t len)
{
        SsExtent ext[8];
        const ModelImage *img = model_image(H.m, id);
        int n = ss_snapshot_map_read(H.s, id, off, len, ext, 8);

        if (n <= 0)
                fail("ss_snapshot_map_read(%u, %" PRIu64 ", %" PRIu64 ") returned %s (%s)", id, off,
                     len, err_name(n), ss_last_error());
        if (n > 8)
                fail("ss_snapshot_map_read returned %d extents for room of 8", n);
        uint64_t pos = off;
        for (int i = 0; i < n; i++) {
                const SsExtent *e = &ext[i];
                SsBlockDev *dev = e->kind == SS_EXTENT_ORIGIN ? H.origin_media : H.store_media;

                if (e->offset != pos || !e->length || e->length > off + len - pos)
                        fail("ss_snapshot_map_read(%u, %" PRIu64 ", %" PRIu64 "): extent %d covers "
                             "%" PRIu64 " +%" PRIu64 ", expected to start at %" PRIu64,
                             id, off, len, i, e->offset, e->length, pos);
                if (e->kind != SS_EXTENT_ORIGIN && e->kind != SS_EXTENT_STORE)
                        fail("extent kind %d", (int)e->kind);
                if (e->dev_offset > faultdev_size(dev) ||
                    e->length > faultdev_size(dev) - e->dev_offset)
                        fail("extent %d of snapshot %u points beyond the %s device", i, id,
                             e->kind == SS_EXTENT_ORIGIN ? "origin" : "store");
                if (e->kind == SS_EXTENT_ORIGIN && e->dev_offset != e->offset)
                        fail("origin extent %d of snapshot %u maps %" PRIu64 " to origin %" PRIu64,
                             i, id, e->offset, e->dev_offset);
                model_read(img, H.buf2, e->offset, e->length);
                if (memcmp(faultdev_contents(dev) + e->dev_offset, H.buf2, e->length))
                        fail("extent %d of snapshot %u (%" PRIu64 " +%" PRIu64 " on %s at %" PRIu64
                             ") holds other data than the model",
                             i, id, e->offset, e->length,
                             e->kind == SS_EXTENT_ORIGIN ? "origin" : "store", e->dev_offset);
                pos += e->length;
        }
}

static void op_read(void)
{
        uint32_t id = H.m->nsnaps && rng_percent(&H.rng, 75) ? random_snapshot() : SS_ORIGIN_ID;
        const ModelImage *img = model_image(H.m, id);
        uint64_t off, len;
        int r;

        random_range(img->size, &off, &len);
        if (id != SS_ORIGIN_ID && rng_percent(&H.rng, 30)) {
                log_op("map-read %u %" PRIu64 " +%" PRIu64, id, off, len);
                check_map_read(id, off, len);
                return;
        }
        log_op("read %u %" PRIu64 " +%" PRIu64, id, off, len);
        r = id ? ss_snapshot_read(H.s, id, H.buf, off, len) : ss_origin_read(H.s, H.buf, off, len);
        expect_ok(r, id ? "ss_snapshot_read" : "ss_origin_read");
        model_read(img, H.buf2, off, len);
        if (memcmp(H.buf, H.buf2, len)) {
                uint64_t i = 0;
                while (H.buf[i] == H.buf2[i])
                        i++;
                fail("reading %u at %" PRIu64 " +%" PRIu64 ": byte %" PRIu64
                     " is 0x%02x, model 0x%02x",
                     id, off, len, off + i, H.buf[i], H.buf2[i]);
        }
}

static void op_invalid(void)
{
        uint64_t size = H.m->origin.size;
        uint32_t id = H.m->nsnaps ? random_snapshot() : 0;
        SsSnapshotInfo si;
        uint32_t found;
        int r;

        switch (rng_below(&H.rng, 9)) {
        case 0:
                log_op("invalid: unaligned origin write");
                r = ss_origin_write(H.s, H.buf, 512 * rng_below(&H.rng, size / 512) + 100, 512);
                expect_err(r, -EINVAL, "ss_origin_write at an unaligned offset");
                break;
        case 1:
                log_op("invalid: origin write of an odd length");
                r = ss_origin_write(H.s, H.buf, 0, 700);
                expect_err(r, -EINVAL, "ss_origin_write of 700 bytes");
                break;
        case 2:
                log_op("invalid: origin write past the end");
                r = ss_origin_write(H.s, H.buf, size - 512, 1024);
                expect_err(r, -EINVAL, "ss_origin_write across the end of the origin");
                r = ss_origin_write(H.s, H.buf, size, 512);
                expect_err(r, -EINVAL, "ss_origin_write past the end of the origin");
                break;
        case 3:
                log_op("invalid: origin read past the end");
                r = ss_origin_read(H.s, H.buf, size, 512);
                expect_err(r, -EINVAL, "ss_origin_read past the end of the origin");
                break;
        case 4:
                log_op("invalid: read of a missing snapshot");
                r = ss_snapshot_read(H.s, missing_id(), H.buf, 0, 512);
                expect_err(r, -ENOENT, "ss_snapshot_read of a missing snapshot");
                break;
        case 5:
                if (!id)
                        break;
                log_op("invalid: snapshot %u read past its end", id);
                r = ss_snapshot_read(H.s, id, H.buf, model_snap(H.m, id)->image.size, 512);
                expect_err(r, -EINVAL, "ss_snapshot_read past the end of the snapshot");
                break;
        case 6:
                log_op("invalid: get/find missing");
                expect_err(ss_snapshot_get(H.s, missing_id(), &si), -ENOENT,
                           "ss_snapshot_get of a missing snapshot");
                expect_err(ss_snapshot_find(H.s, "no-such-snapshot", &found), -ENOENT,
                           "ss_snapshot_find of a missing name");
                break;
        case 7:
                if (!id)
                        break;
                log_op("invalid: snapshot %u write past its end", id);
                r = ss_snapshot_write(H.s, id, H.buf, model_snap(H.m, id)->image.size, 512);
                if (r != -EINVAL && r != -EROFS)
                        fail("ss_snapshot_write past the end returned %s", err_name(r));
                break;
        default:
                log_op("invalid: set_priority/rename of id 0");
                r = ss_snapshot_set_priority(H.s, SS_ORIGIN_ID, 1);
                if (r != -ENOENT && r != -EINVAL)
                        fail("ss_snapshot_set_priority(0) returned %s", err_name(r));
                break;
        }
        verify_chunk(SS_ORIGIN_ID, H.m->origin.nchunks - 1);
        verify_chunk(SS_ORIGIN_ID, 0);
}

/* The origin device as the store sees it: a view of the first `size` bytes
 * of a larger memory device, so it can grow under an open store, as a
 * logical volume does. */
typedef struct ResizableDev {
        SsBlockDev dev;
        SsBlockDev *media;
        uint64_t size;
} ResizableDev;

static int resizable_pread(SsBlockDev *dev, void *buf, size_t len, uint64_t off)
{
        ResizableDev *d = (ResizableDev *)dev;

        if (off > d->size || len > d->size - off)
                return -EINVAL;
        return ss_dev_pread(d->media, buf, len, off);
}

static int resizable_pwrite(SsBlockDev *dev, const void *buf, size_t len, uint64_t off)
{
        ResizableDev *d = (ResizableDev *)dev;

        if (off > d->size || len > d->size - off)
                return -EINVAL;
        return ss_dev_pwrite(d->media, buf, len, off);
}

static int resizable_flush(SsBlockDev *dev)
{
        return ss_dev_flush(((ResizableDev *)dev)->media);
}

static uint64_t resizable_size(SsBlockDev *dev)
{
        return ((ResizableDev *)dev)->size;
}

static void resizable_close(SsBlockDev *dev)
{
        free(dev);
}

static const SsBlockDevOps resizable_ops = {
        .pread = resizable_pread,
        .pwrite = resizable_pwrite,
        .flush = resizable_flush,
        .size = resizable_size,
        .close = resizable_close,
};

static SsBlockDev *resizable_new(SsBlockDev *media, uint64_t size)
{
        ResizableDev *d = calloc(1, sizeof(*d));

        if (!d)
                fail("out of memory");
        d->dev.ops = &resizable_ops;
        d->dev.name = media->name;
        d->media = media;
        d->size = size;
        return &d->dev;
}

/* Grows the origin device, then the store's idea of it: online with
 * ss_origin_grow(), or across a reopen with SS_OPEN_GROW_ORIGIN. */
static void op_grow(void)
{
        uint64_t old = H.m->origin.size;
        uint64_t limit = faultdev_size(H.origin_media);

        if (H.grows >= 3 || old + 512 > limit || H.small)
                return;
        H.grows++;
        uint64_t add = 512 * rng_range(&H.rng, 1, (limit - old) / 512);
        uint64_t new_size = old + add;
        bool at_open = rng_percent(&H.rng, 50);
        log_op("grow origin %" PRIu64 " -> %" PRIu64 "%s", old, new_size,
               at_open ? " (at open)" : " (online)");

        if (at_open) {
                store_close();
                ((ResizableDev *)H.origin_dev)->size = new_size;
                /* Without the flag, a larger origin is kept at its recorded
                 * size or refused; never taken silently. */
                SsOpenOptions o = { .on_autodelete = on_autodelete, .user = &H };
                int r = ss_store_open(H.origin_dev, H.store_dev, &o, &H.s);
                if (r == 0) {
                        SsStoreInfo info;
                        expect_ok(ss_store_info(H.s, &info), "ss_store_info");
                        if (info.origin_size != old)
                                fail("without SS_OPEN_GROW_ORIGIN the origin size became "
                                     "%" PRIu64,
                                     info.origin_size);
                        store_close();
                } else if (r != -EINVAL) {
                        fail("ss_store_open of a grown origin without SS_OPEN_GROW_ORIGIN "
                             "returned %s",
                             err_name(r));
                }
                store_open(SS_OPEN_GROW_ORIGIN);
        } else {
                ((ResizableDev *)H.origin_dev)->size = new_size;
                expect_ok(ss_origin_grow(H.s, new_size), "ss_origin_grow");
        }
        model_origin_grow(H.m, new_size, faultdev_contents(H.origin_media) + old);
        verify(MV_META);
        verify_chunk(SS_ORIGIN_ID, H.m->origin.nchunks - 1);
        if (old % H.chunk_size)
                for (size_t i = 0; i < H.m->nsnaps; i++)
                        verify_chunk(H.m->snaps[i].id, old / H.chunk_size);
}

/* Grows the store device under the open store, then the store. */
static void op_store_grow(void)
{
        ResizableDev *view = (ResizableDev *)H.store_dev;
        uint64_t old = view->size, limit = faultdev_size(H.store_media);
        SsStoreInfo before, after;

        if (old + 65536 > limit || H.store_grows >= 2)
                return;
        H.store_grows++;
        uint64_t new_size = rng_percent(&H.rng, 30)
                                    ? limit
                                    : old + 65536 * rng_range(&H.rng, 1, (limit - old) / 65536);
        log_op("grow store %" PRIu64 " -> %" PRIu64, old, new_size);
        expect_ok(ss_store_info(H.s, &before), "ss_store_info");
        view->size = new_size;
        expect_ok(ss_store_grow(H.s, new_size), "ss_store_grow");
        expect_ok(ss_store_info(H.s, &after), "ss_store_info");
        if (after.store_size != new_size || after.free_bytes <= before.free_bytes)
                fail("after ss_store_grow(%" PRIu64 "): store_size %" PRIu64 ", free %" PRIu64
                     " bytes, before %" PRIu64,
                     new_size, after.store_size, after.free_bytes, before.free_bytes);
        H.free_after_create += after.free_bytes - before.free_bytes;
        int r = ss_store_grow(H.s, old);
        if (r != -EINVAL)
                fail("ss_store_grow to a smaller size returned %s, expected -EINVAL", err_name(r));
        run_check();
}

static void op_policy(void)
{
        SsStoreInfo info;

        if (!H.small)
                return;
        SsFullPolicy p = H.policy == SS_FULL_AUTODELETE ? SS_FULL_REFUSE : SS_FULL_AUTODELETE;
        log_op("policy %s", p == SS_FULL_AUTODELETE ? "autodelete" : "refuse");
        expect_ok(ss_store_set_full_policy(H.s, p), "ss_store_set_full_policy");
        H.policy = p;
        expect_ok(ss_store_info(H.s, &info), "ss_store_info");
        if (info.full_policy != p)
                fail("full_policy is %d after setting %d", info.full_policy, p);
}

static void op_flush(void)
{
        log_op("flush");
        expect_ok(ss_store_flush(H.s), "ss_store_flush");
}

/* Creates hundreds of snapshots in a row, with a few origin writes between,
 * checks them, then deletes most of them. */
static void many_snapshots(void)
{
        unsigned count = (unsigned)rng_range(&H.rng, 200, 400);
        unsigned saved_max = H.max_live;
        char name[SS_NAME_MAX + 2];

        log_op("many-snapshots %u", count);
        H.many++;
        H.max_live = H.m->nsnaps + count;
        for (unsigned i = 0; i < count; i++) {
                uint32_t id;
                random_name(name, sizeof(name));
                uint32_t flags = rng_percent(&H.rng, 5) ? SS_SNAP_WRITABLE : 0;
                int32_t prio = random_priority();
                int r = ss_snapshot_create(H.s, name, flags, prio, &id);
                if (r == -ENOSPC) {
                        check_enospc_legal("ss_snapshot_create");
                        break;
                }
                expect_ok(r, "ss_snapshot_create (many)");
                if (id <= H.max_id)
                        fail("ss_snapshot_create gave id %u, not above %u", id, H.max_id);
                H.max_id = id;
                model_snapshot_create(H.m, id, name, flags, prio);
                if (i % 3 == 0) {
                        uint64_t off, len;
                        random_range(H.m->origin.size, &off, &len);
                        if (len > 4 * 512)
                                len = 4 * 512;
                        rng_fill(&H.rng, H.buf, len);
                        r = ss_origin_write(H.s, H.buf, off, len);
                        if (r == -ENOSPC) {
                                check_enospc_legal("ss_origin_write");
                                break;
                        }
                        expect_ok(r, "ss_origin_write (many)");
                        model_origin_write(H.m, H.buf, off, len);
                }
        }
        verify(MV_META);
        for (size_t i = 0; i < H.m->nsnaps; i++)
                for (int j = 0; j < 2; j++)
                        verify_chunk(H.m->snaps[i].id, rng_below(&H.rng, H.m->origin.nchunks));
        if (H.m->nsnaps * H.m->origin.size <= (512u << 20))
                verify(MV_SNAPS);

        /* Delete back down to the usual count, in random order. */
        while (H.m->nsnaps > saved_max / 2) {
                uint32_t id = random_snapshot();
                int r = ss_snapshot_delete(H.s, id);
                expect_ok(r, "ss_snapshot_delete (many)");
                model_snapshot_delete(H.m, id);
                if (rng_percent(&H.rng, 20)) {
                        r = ss_cleanup_step(H.s, (unsigned)rng_range(&H.rng, 1, 100));
                        if (r != 0 && r != 1)
                                fail("ss_cleanup_step returned %s (%s)", err_name(r),
                                     ss_last_error());
                }
        }
        H.max_live = saved_max;
        verify(MV_ALL);
        run_check();
}

/* ---- phases ---- */

static void phase_setup(bool small)
{
        static const uint32_t chunk_sizes[] = { 4096, 16384, 65536 };
        uint32_t cs = chunk_sizes[rng_below(&H.rng, 3)];
        uint64_t max_chunks = MAX_ORIGIN_BYTES / cs < 256 ? MAX_ORIGIN_BYTES / cs : 256;
        uint64_t nchunks = rng_range(&H.rng, 32, max_chunks);
        uint64_t size = nchunks * cs;
        int r;

        if (rng_percent(&H.rng, 35))
                size -= 512 * rng_range(&H.rng, 1, cs / 512 - 1);
        H.chunk_size = cs;
        H.initial_origin_size = size;
        H.small = small;
        H.max_live = small ? 16 : 24;
        H.grows = H.store_grows = 0;
        H.max_id = 0;
        H.policy = small ? SS_FULL_AUTODELETE : SS_FULL_REFUSE;
        /* Room for every live snapshot to hold a good part of the origin,
         * plus metadata; the small store holds a few chunks only. */
        H.store_size = small ? (1u << 20) + (nchunks / 2 + 8) * cs : 12 * size + (4u << 20);
        H.store_size = (H.store_size + 65535) & ~(uint64_t)65535;
        /* The store may grow to twice its size (not the small one). */
        uint64_t store_media_size = small ? H.store_size : 2 * H.store_size;

        /* The origin may grow by a quarter (not in the small store). */
        uint64_t media_size = small ? size : size + (size / 4 & ~(uint64_t)511);
        uint8_t *image = malloc(media_size);
        if (!image)
                fail("out of memory");
        for (uint64_t off = 0; off < media_size; off += cs)
                rng_fill(&H.rng, image + off, media_size - off < cs ? media_size - off : cs);

        printf("phase %u: chunk %u, origin %" PRIu64 " bytes (%" PRIu64 " chunks%s), store %" PRIu64
               " bytes, %s\n",
               H.phase, cs, size, (size + cs - 1) / cs, size % cs ? ", partial last" : "",
               H.store_size, small ? "small, autodelete" : "refuse");
        fflush(stdout);

        H.dom = fault_domain_new(H.seed ^ (0x1000u + H.phase));
        H.origin_media = faultdev_new_from(H.dom, "origin", image, media_size);
        H.store_media = faultdev_new(H.dom, "store", store_media_size);
        if (!H.dom || !H.origin_media || !H.store_media)
                fail("cannot create the memory devices");
        H.store_dev = resizable_new(H.store_media, H.store_size);
        H.origin_dev = resizable_new(H.origin_media, size);

        SsCreateOptions co = {
                .volume_name = "model-vol",
                .chunk_size = cs,
                .full_policy = H.policy,
        };
        log_op("create store");
        r = ss_store_create(H.origin_dev, H.store_dev, &co);
        expect_ok(r, "ss_store_create");
        r = ss_store_create(H.origin_dev, H.store_dev, &co);
        expect_err(r, -EEXIST, "ss_store_create on a device that holds a store");
        store_open(0);

        SsStoreInfo info;
        expect_ok(ss_store_info(H.s, &info), "ss_store_info");
        if (info.chunk_size != cs || info.origin_size != size || info.snapshot_count ||
            info.full_policy != H.policy || strcmp(info.volume_name, "model-vol"))
                fail("fresh store: chunk %u origin %" PRIu64 " snapshots %u policy %d volume '%s'",
                     info.chunk_size, info.origin_size, info.snapshot_count, info.full_policy,
                     info.volume_name);
        H.free_after_create = info.free_bytes;
        H.m = model_new(cs, image, size);
        free(image);
        verify(MV_ALL);
}

/* Deletes everything, cleans up, and expects an empty store back. */
static void phase_drain(void)
{
        SsStoreInfo info;
        int r;

        log_op("drain");
        while (H.m->nsnaps) {
                uint32_t id = H.m->snaps[H.m->nsnaps - 1].id;
                expect_ok(ss_snapshot_delete(H.s, id), "ss_snapshot_delete (drain)");
                model_snapshot_delete(H.m, id);
        }
        while ((r = ss_cleanup_step(H.s, 1000)) == 1)
                ;
        expect_ok(r, "ss_cleanup_step (drain)");
        expect_ok(ss_store_info(H.s, &info), "ss_store_info");
        if (info.data_bytes || info.shared_exceptions || info.private_exceptions ||
            info.cleanup_jobs || info.snapshot_count)
                fail("after deleting every snapshot and cleaning up: %" PRIu64
                     " data bytes, %" PRIu64 " shared and %" PRIu64
                     " private exceptions, %u cleanup jobs, %u snapshots",
                     info.data_bytes, info.shared_exceptions, info.private_exceptions,
                     info.cleanup_jobs, info.snapshot_count);
        if (info.free_bytes + (64u << 10) < H.free_after_create)
                fail("after draining, %" PRIu64 " bytes free; %" PRIu64
                     " were free on the fresh store",
                     info.free_bytes, H.free_after_create);
        run_check();
        verify(MV_ALL);
}

static void phase_teardown(void)
{
        store_close();
        ss_blockdev_close(H.origin_dev);
        ss_blockdev_close(H.origin_media);
        ss_blockdev_close(H.store_dev);
        ss_blockdev_close(H.store_media);
        fault_domain_free(H.dom);
        model_free(H.m);
        H.m = NULL;
}

static void periodic_verify(void)
{
        uint64_t budget = VERIFY_BUDGET, per = H.m->origin.size;

        H.full_verifies++;
        verify(MV_META | MV_USAGE | MV_ORIGIN);
        if ((H.m->nsnaps + 1) * per <= budget) {
                verify(MV_SNAPS);
                return;
        }
        /* Too much to read every time: a random subset within the budget. */
        for (uint64_t done = 0; done + per <= budget; done += per) {
                uint32_t id = random_snapshot();
                for (uint64_t c = 0; c < model_snap(H.m, id)->image.nchunks; c++)
                        verify_chunk(id, c);
        }
}

static OpKind pick_op(void)
{
        static unsigned total;
        if (!total)
                for (int i = 0; i < OP_KINDS; i++)
                        total += op_table[i].weight;
        uint64_t x = rng_below(&H.rng, total);
        for (int i = 0; i < OP_KINDS; i++) {
                if (x < op_table[i].weight)
                        return (OpKind)i;
                x -= op_table[i].weight;
        }
        return OP_ORIGIN_WRITE;
}

static void run_phase(uint64_t ops, bool small)
{
        uint64_t many_at = ops >= 2000 && !small ? rng_range(&H.rng, ops / 4, ops / 2) : UINT64_MAX;
        uint64_t enospc0 = H.enospc, autodeleted0 = H.autodeleted;

        phase_setup(small);
        for (uint64_t i = 0; i < ops; i++, H.op++) {
                OpKind k = pick_op();

                H.count[k]++;
                switch (k) {
                case OP_ORIGIN_WRITE:
                        op_origin_write();
                        break;
                case OP_ORIGIN_BATCH:
                        op_origin_batch();
                        break;
                case OP_ORIGIN_SPLIT:
                        op_origin_split();
                        break;
                case OP_CREATE:
                        op_create();
                        break;
                case OP_DELETE:
                        op_delete();
                        break;
                case OP_RENAME:
                        op_rename();
                        break;
                case OP_PRIORITY:
                        op_priority();
                        break;
                case OP_FLAGS:
                        op_flags();
                        break;
                case OP_SNAP_WRITE:
                        op_snap_write();
                        break;
                case OP_REVERT:
                        op_revert();
                        break;
                case OP_CLEANUP:
                        op_cleanup();
                        break;
                case OP_REOPEN:
                        op_reopen();
                        break;
                case OP_DELTA:
                        op_delta();
                        break;
                case OP_READ:
                        op_read();
                        break;
                case OP_INVALID:
                        op_invalid();
                        break;
                case OP_GROW:
                        op_grow();
                        break;
                case OP_POLICY:
                        op_policy();
                        break;
                case OP_FLUSH:
                        op_flush();
                        break;
                case OP_STORE_GROW:
                        op_store_grow();
                        break;
                case OP_KINDS:
                        break;
                }
                if (i == many_at)
                        many_snapshots();
                /* The cheap check after every operation. */
                uint32_t id = H.m->nsnaps && rng_percent(&H.rng, 75) ? random_snapshot() : 0;
                verify_chunk(id, rng_below(&H.rng, model_image(H.m, id)->nchunks));
                if ((i + 1) % VERIFY_EVERY == 0)
                        periodic_verify();
                if ((i + 1) % CHECK_EVERY == 0)
                        run_check();
        }
        verify(MV_ALL);
        run_check();
        phase_drain();
        phase_teardown();
        printf("  done: %" PRIu64 " ENOSPC, %" PRIu64 " autodeleted\n", H.enospc - enospc0,
               H.autodeleted - autodeleted0);
}

int main(int argc, char **argv)
{
        TestArgs args;
        struct timespec t0, t1;

        test_args_parse(argc, argv, &args);
        H.seed = args.seed;
        H.verbose = args.verbose;
        H.rng.state = args.seed;
        uint64_t ops = args.ops ? args.ops : 100000;
        H.buf = ss_alloc_io_buffer(IO_MAX);
        H.buf2 = ss_alloc_io_buffer(IO_MAX);
        if (!H.buf || !H.buf2)
                fail("out of memory");

        clock_gettime(CLOCK_MONOTONIC, &t0);
        unsigned phases = ops >= 5000 ? 5 : 2;
        unsigned small_phase = (unsigned)rng_below(&H.rng, phases);
        for (H.phase = 0; H.phase < phases; H.phase++) {
                uint64_t n = ops / phases + (H.phase < ops % phases ? 1 : 0);
                run_phase(n, H.phase == small_phase);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);

        printf("ok: %" PRIu64 " operations in %.1f s:", H.op,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        for (int i = 0; i < OP_KINDS; i++)
                printf(" %s=%" PRIu64, op_table[i].name, H.count[i]);
        printf("\n    enospc=%" PRIu64 " autodeleted=%" PRIu64 " delta-chunks=%" PRIu64
               " (not changed: %" PRIu64 ") cursor-resumes=%" PRIu64 " full-verifies=%" PRIu64
               " checks=%" PRIu64 " many-snapshot-runs=%" PRIu64 "\n",
               H.enospc, H.autodeleted, H.delta_chunks, H.delta_extra, H.cursor_resumes,
               H.full_verifies, H.checks, H.many);
        free(H.buf);
        free(H.buf2);
        return 0;
}
