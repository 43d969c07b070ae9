/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-fake-server: a stand-in for zuma-snapshotd that speaks the kernel
 * protocol (kernel/include/uapi/dm-zumastor.h, docs/kernel-protocol.md)
 * for the in-guest tests of the zumastor dm target.
 *
 * Its "store" is trivial: an exception list in memory, saved to a state
 * file after every change so a restarted server knows it, and copied-out
 * chunks placed one after another in the store device from sector 1024.
 * QUERY_WRITE copies the origin chunk out (O_DIRECT, fdatasync) when a
 * snapshot newer than the chunk's last copy exists, then answers WRITE_OK;
 * QUERY_SNAPSHOT_READ answers the snapshot's private copy, else the first
 * exception of the chunk with hi >= snapshot, else the origin (the model of
 * docs/format.md); QUERY_SNAPSHOT_WRITE makes the private copy if needed.
 *
 * Commands, one per line on the FIFO given with --commands:
 *   snapshot   BARRIER_BEGIN(create), then on READY a new snapshot, END;
 *              prints "snapshot N created"
 *   delete N   BARRIER_BEGIN(delete N), on READY END; prints "snapshot N
 *              deleted" (the fake frees nothing: its copies stay valid)
 *   revert N   BARRIER_BEGIN(revert N), on READY the origin gets snapshot N's
 *              contents (newer snapshots keep theirs), END; prints "reverted to N"
 *   begin      BARRIER_BEGIN(create) and nothing more; prints "barrier
 *              ready" (to test a server that dies inside a barrier)
 *   hold       keep QUERY_WRITEs unanswered (prints "held N" per query)
 *   release    answer the held ones, stop holding
 *   quit       exit
 *
 * --fuzz SEED: before answering each query, send 0..4 malformed,
 * out-of-range, duplicate or unexpected messages, each of which the kernel
 * must refuse; sometimes answer ERROR(EIO) or not at all.  Prints the seed
 * (0 picks one) and at exit how many bad messages were refused and
 * accepted; exits 1 if any was accepted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <endian.h>
#include <getopt.h>

#include "../../kernel/include/uapi/dm-zumastor.h"
#include "../../agents/snapshotd/frontend/zuma-kernel-msg.h"
#include "../test-util.h"

#define STORE_FIRST_SECTOR 1024

typedef struct Exception {
        uint64_t chunk;
        uint32_t hi; /* shared: serves snapshots (previous hi, hi]; private: the snapshot */
        uint64_t store_sector; /* where the copy starts */
        bool private;          /* a writable snapshot's own copy */
} Exception;

typedef struct Fake {
        int ctl, origin, store, fifo;
        const char *tag;
        const char *state_path;
        uint32_t chunk_sectors;
        uint64_t store_sectors;
        uint32_t newest; /* newest snapshot, 0: none */
        uint64_t next_sector;
        Exception *exc;
        size_t n_exc, cap_exc;
        bool hold;
        uint64_t held[1024]; /* held QUERY_WRITEs: id, chunk, count packed as three entries */
        size_t n_held;
        uint64_t barrier_id;
        uint32_t barrier_kind, barrier_snapshot;
        bool barrier_open; /* "begin": never END */
        bool fuzz;
        Rng rng;
        uint64_t bad_refused, bad_accepted;
        void *buf; /* one chunk, aligned for O_DIRECT */
} Fake;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

/* Sends one message the kernel must accept; -errno on refusal.  ENOENT
 * (the kernel no longer waits for that request: it timed out) is logged and
 * is no error, as docs/kernel-protocol.md asks of a server. */
static int send_msg(Fake *f, const void *msg, size_t size)
{
        const struct zuma_msg_header *h = msg;
        ssize_t n = write(f->ctl, msg, size);

        if (n < 0 && errno == ENOENT) {
                printf("late reply to request %" PRIu64 "\n", (uint64_t)le64toh(h->id));
                fflush(stdout);
                return 0;
        }
        if (n < 0)
                return -errno;
        return n == (ssize_t)size ? 0 : -EIO;
}

/* Sends one message the kernel must refuse, and counts the verdict. */
static void send_bad(Fake *f, const void *msg, size_t size, const char *what)
{
        ssize_t n = write(f->ctl, msg, size);

        if (n < 0) {
                f->bad_refused++;
                return;
        }
        f->bad_accepted++;
        fprintf(stderr, "fake-server: the kernel accepted a bad message: %s\n", what);
}

static int save_state(Fake *f)
{
        char tmp[4096];
        FILE *out;
        size_t i;

        if (!f->state_path)
                return 0;
        snprintf(tmp, sizeof(tmp), "%s.tmp", f->state_path);
        out = fopen(tmp, "w");
        if (!out)
                return -errno;
        fprintf(out, "newest %" PRIu32 "\nnext %" PRIu64 "\n", f->newest, f->next_sector);
        for (i = 0; i < f->n_exc; i++)
                fprintf(out, "%s %" PRIu64 " %" PRIu32 " %" PRIu64 "\n",
                        f->exc[i].private ? "priv" : "exc", f->exc[i].chunk, f->exc[i].hi,
                        f->exc[i].store_sector);
        if (fflush(out) || fsync(fileno(out)) || fclose(out))
                return -EIO;
        return rename(tmp, f->state_path) ? -errno : 0;
}

static int add_exception(Fake *f, uint64_t chunk, uint32_t hi, uint64_t sector, bool private)
{
        if (f->n_exc == f->cap_exc) {
                size_t cap = f->cap_exc ? 2 * f->cap_exc : 64;
                Exception *e = realloc(f->exc, cap * sizeof(*e));

                if (!e)
                        return -ENOMEM;
                f->exc = e;
                f->cap_exc = cap;
        }
        f->exc[f->n_exc++] =
                (Exception){ .chunk = chunk, .hi = hi, .store_sector = sector, .private = private };
        return 0;
}

static int load_state(Fake *f)
{
        char line[256];
        FILE *in;
        int ret = 0;

        f->next_sector = STORE_FIRST_SECTOR;
        if (!f->state_path)
                return 0;
        in = fopen(f->state_path, "r");
        if (!in)
                return errno == ENOENT ? 0 : -errno;
        while (!ret && fgets(line, sizeof(line), in)) {
                uint64_t a, c;
                uint32_t b;

                if (sscanf(line, "newest %" SCNu32, &b) == 1)
                        f->newest = b;
                else if (sscanf(line, "next %" SCNu64, &a) == 1)
                        f->next_sector = a;
                else if (sscanf(line, "exc %" SCNu64 " %" SCNu32 " %" SCNu64, &a, &b, &c) == 3)
                        ret = add_exception(f, a, b, c, false);
                else if (sscanf(line, "priv %" SCNu64 " %" SCNu32 " %" SCNu64, &a, &b, &c) == 3)
                        ret = add_exception(f, a, b, c, true);
                else
                        ret = -EUCLEAN;
        }
        fclose(in);
        return ret;
}

/* The highest hi of the chunk's exceptions, 0 if none. */
static uint32_t last_hi(const Fake *f, uint64_t chunk)
{
        uint32_t hi = 0;
        size_t i;

        for (i = 0; i < f->n_exc; i++)
                if (!f->exc[i].private && f->exc[i].chunk == chunk && f->exc[i].hi > hi)
                        hi = f->exc[i].hi;
        return hi;
}

/* Where snapshot s reads the chunk: a store sector or ZUMA_MAP_ORIGIN. */
static uint64_t map_chunk(const Fake *f, uint64_t chunk, uint32_t s)
{
        uint64_t best = ZUMA_MAP_ORIGIN;
        uint32_t best_hi = UINT32_MAX;
        size_t i;

        for (i = 0; i < f->n_exc; i++)
                if (f->exc[i].private && f->exc[i].chunk == chunk && f->exc[i].hi == s)
                        return f->exc[i].store_sector;
        for (i = 0; i < f->n_exc; i++) {
                const Exception *e = &f->exc[i];

                if (!e->private && e->chunk == chunk && e->hi >= s && e->hi <= best_hi) {
                        best_hi = e->hi;
                        best = e->store_sector;
                }
        }
        return best;
}

/* Copies the chunk out if the newest snapshot still reads it from the
 * origin, durably, before the caller answers WRITE_OK. */
static int prepare_write(Fake *f, uint64_t chunk)
{
        size_t bytes = (size_t)f->chunk_sectors * 512;
        uint64_t sector = f->next_sector;
        int ret;

        if (f->newest == 0 || last_hi(f, chunk) >= f->newest)
                return 0;
        if (sector + f->chunk_sectors > f->store_sectors)
                return -ENOSPC;
        if (pread(f->origin, f->buf, bytes, (off_t)(chunk * bytes)) != (ssize_t)bytes)
                return -EIO;
        if (pwrite(f->store, f->buf, bytes, (off_t)(sector * 512)) != (ssize_t)bytes)
                return -EIO;
        if (fdatasync(f->store))
                return -errno;
        ret = add_exception(f, chunk, f->newest, sector, false);
        if (ret < 0)
                return ret;
        f->next_sector = sector + f->chunk_sectors;
        return save_state(f);
}

/* The snapshot's private copy of the chunk, made (holding the chunk's
 * snapshot contents, durably) if it has none; its store sector. */
static int private_copy(Fake *f, uint64_t chunk, uint32_t s, uint64_t *ret_sector)
{
        size_t bytes = (size_t)f->chunk_sectors * 512;
        uint64_t from = map_chunk(f, chunk, s);
        uint64_t sector = f->next_sector;
        size_t i;
        ssize_t n;
        int ret;

        for (i = 0; i < f->n_exc; i++) {
                if (f->exc[i].private && f->exc[i].chunk == chunk && f->exc[i].hi == s) {
                        *ret_sector = f->exc[i].store_sector;
                        return 0;
                }
        }
        if (s == 0 || s > f->newest)
                return -ENOENT;
        if (sector + f->chunk_sectors > f->store_sectors)
                return -ENOSPC;
        if (from == ZUMA_MAP_ORIGIN)
                n = pread(f->origin, f->buf, bytes, (off_t)(chunk * bytes));
        else
                n = pread(f->store, f->buf, bytes, (off_t)(from * 512));
        if (n != (ssize_t)bytes)
                return -EIO;
        if (pwrite(f->store, f->buf, bytes, (off_t)(sector * 512)) != (ssize_t)bytes)
                return -EIO;
        if (fdatasync(f->store))
                return -errno;
        ret = add_exception(f, chunk, s, sector, true);
        if (ret < 0)
                return ret;
        f->next_sector = sector + f->chunk_sectors;
        *ret_sector = sector;
        return save_state(f);
}

/* ---- fuzz: bad messages the kernel must refuse ---- */

static void fuzz_bad(Fake *f, const struct zuma_msg_chunks *q)
{
        uint64_t id = le64toh(q->hdr.id);
        uint16_t qtype = le16toh(q->hdr.type);
        uint16_t rtype = qtype == ZUMA_MSG_QUERY_WRITE           ? ZUMA_MSG_WRITE_OK
                         : qtype == ZUMA_MSG_QUERY_SNAPSHOT_READ ? ZUMA_MSG_READ_MAP
                                                                 : ZUMA_MSG_WRITE_MAP;
        uint8_t raw[ZUMA_MSG_MAX + 64];
        struct zuma_msg_read_map *m = (void *)raw;
        size_t size = rtype == ZUMA_MSG_WRITE_OK ? sizeof(struct zuma_msg_chunks) : sizeof(*m) + 8;
        unsigned kind = (unsigned)rng_below(&f->rng, 16);
        const char *what = "?";
        size_t i;

        memset(raw, 0, sizeof(raw));
        zuma_msg_fill_header(&m->hdr, rtype, size, id);
        m->chunk = q->chunk;
        m->count = q->count;
        m->snapshot = q->snapshot;
        if (rtype != ZUMA_MSG_WRITE_OK)
                m->map[0] =
                        htole64(rtype == ZUMA_MSG_READ_MAP ? ZUMA_MAP_ORIGIN : STORE_FIRST_SECTOR);
        switch (kind) {
        case 0:
                m->hdr.magic ^= htole32(1u << rng_below(&f->rng, 32));
                what = "wrong magic";
                break;
        case 1:
                m->hdr.version = htole16((uint16_t)rng_range(&f->rng, 2, 0xffff));
                what = "wrong version";
                break;
        case 2:
                m->hdr.length = htole32((uint32_t)size + 8 * (uint32_t)rng_range(&f->rng, 1, 4));
                what = "length larger than the write";
                break;
        case 3:
                m->hdr.flags = htole32((uint32_t)rng_range(&f->rng, 1, UINT32_MAX));
                what = "flags set";
                break;
        case 4:
                m->hdr.type = htole16((uint16_t)rng_range(&f->rng, 0x08, 0xffff));
                what = "unknown type";
                break;
        case 5:
                m->hdr.id = htole64(id + rng_range(&f->rng, 1000000, UINT32_MAX));
                what = "unknown id";
                break;
        case 6:
                m->hdr.type =
                        htole16(rtype == ZUMA_MSG_WRITE_OK ? ZUMA_MSG_READ_MAP : ZUMA_MSG_WRITE_OK);
                size = le16toh(m->hdr.type) == ZUMA_MSG_WRITE_OK ? sizeof(struct zuma_msg_chunks)
                                                                 : sizeof(*m) + 8;
                m->hdr.length = htole32((uint32_t)size);
                what = "a reply of the other type";
                break;
        case 7:
                m->chunk = htole64(le64toh(q->chunk) + rng_range(&f->rng, 1, UINT32_MAX));
                what = "another chunk";
                break;
        case 8:
                m->count = htole32(rng_percent(&f->rng, 50) ? 0 : 300);
                what = "count 0 or too large";
                break;
        case 9:
                if (rtype == ZUMA_MSG_WRITE_OK)
                        m->snapshot = htole32(7);
                else if (rtype == ZUMA_MSG_WRITE_MAP)
                        m->map[0] = htole64(ZUMA_MAP_ORIGIN);
                else
                        m->map[0] = htole64(rng_percent(&f->rng, 50)
                                                    ? f->store_sectors + rng_below(&f->rng, 1 << 20)
                                                    : STORE_FIRST_SECTOR + 1);
                what = "store sector outside the store, unaligned, or a snapshot in WRITE_OK";
                break;
        case 10: {
                struct zuma_msg_error *e = (void *)raw;

                size = sizeof(*e);
                zuma_msg_fill_header(&e->hdr, ZUMA_MSG_ERROR, size, id);
                e->error = htole32(
                        rng_percent(&f->rng, 50) ? 0 : 4095 + (uint32_t)rng_below(&f->rng, 100000));
                what = "ERROR with no errno";
                break;
        }
        case 11:
                size = (size_t)rng_range(&f->rng, 1, size - 1);
                what = "truncated";
                break;
        case 12:
                size = ZUMA_MSG_MAX + (size_t)rng_range(&f->rng, 1, 64);
                what = "longer than ZUMA_MSG_MAX";
                break;
        case 13:
                size = (size_t)rng_range(&f->rng, 1, ZUMA_MSG_MAX);
                for (i = 0; i < size; i++)
                        raw[i] = (uint8_t)rng_u64(&f->rng);
                what = "random bytes";
                break;
        case 14: {
                struct zuma_msg_barrier *b = (void *)raw;

                size = sizeof(*b);
                zuma_msg_fill_header(&b->hdr,
                                     rng_percent(&f->rng, 50) ? ZUMA_MSG_BARRIER_END
                                                              : ZUMA_MSG_BARRIER_BEGIN,
                                     size, rng_u64(&f->rng));
                b->kind = htole32(le16toh(b->hdr.type) == ZUMA_MSG_BARRIER_END ? 1 : 9);
                what = "BARRIER_END without BEGIN or BEGIN of an unknown kind";
                break;
        }
        default: {
                struct zuma_msg_hello *h = (void *)raw;

                size = sizeof(*h);
                zuma_msg_fill_header(&h->hdr, ZUMA_MSG_HELLO, size, 0);
                snprintf(h->tag, sizeof(h->tag), "%s", f->tag);
                what = "a second HELLO";
                break;
        }
        }
        send_bad(f, raw, size, what);
}

/* ---- answers ---- */

static int answer_write(Fake *f, uint64_t id, uint64_t chunk, uint32_t count)
{
        struct zuma_msg_chunks r;
        uint32_t i;
        int ret = 0;

        for (i = 0; i < count && ret == 0; i++)
                ret = prepare_write(f, chunk + i);
        if (ret < 0) {
                struct zuma_msg_error e;

                memset(&e, 0, sizeof(e));
                zuma_msg_fill_header(&e.hdr, ZUMA_MSG_ERROR, sizeof(e), id);
                e.error = htole32((uint32_t)-ret);
                return send_msg(f, &e, sizeof(e));
        }
        memset(&r, 0, sizeof(r));
        zuma_msg_fill_header(&r.hdr, ZUMA_MSG_WRITE_OK, sizeof(r), id);
        r.chunk = htole64(chunk);
        r.count = htole32(count);
        ret = send_msg(f, &r, sizeof(r));
        if (ret == 0 && f->fuzz && rng_percent(&f->rng, 30))
                send_bad(f, &r, sizeof(r), "a duplicate WRITE_OK");
        return ret;
}

static int answer_error(Fake *f, uint64_t id, int err)
{
        struct zuma_msg_error e;

        memset(&e, 0, sizeof(e));
        zuma_msg_fill_header(&e.hdr, ZUMA_MSG_ERROR, sizeof(e), id);
        e.error = htole32((uint32_t)-err);
        return send_msg(f, &e, sizeof(e));
}

/* READ_MAP, or WRITE_MAP (making the snapshot's private copies). */
static int answer_read(Fake *f, uint64_t id, uint64_t chunk, uint32_t count, uint32_t snapshot,
                       bool write)
{
        uint8_t raw[ZUMA_MSG_MAX];
        struct zuma_msg_read_map *m = (void *)raw;
        size_t size = sizeof(*m) + 8 * (size_t)count;
        uint32_t i;
        int ret;

        memset(raw, 0, sizeof(*m));
        zuma_msg_fill_header(&m->hdr, write ? ZUMA_MSG_WRITE_MAP : ZUMA_MSG_READ_MAP, size, id);
        m->chunk = htole64(chunk);
        m->count = htole32(count);
        m->snapshot = htole32(snapshot);
        for (i = 0; i < count; i++) {
                uint64_t sector = map_chunk(f, chunk + i, snapshot);

                if (write) {
                        ret = private_copy(f, chunk + i, snapshot, &sector);
                        if (ret < 0)
                                return answer_error(f, id, ret);
                }
                m->map[i] = htole64(sector);
        }
        ret = send_msg(f, m, size);
        if (ret == 0 && f->fuzz && rng_percent(&f->rng, 30))
                send_bad(f, m, size, "a duplicate READ_MAP");
        return ret;
}

/* Checks a kernel message as docs/kernel-protocol.md asks of the server. */
static int check_kernel_msg(const Fake *f, const uint8_t *buf, ssize_t n)
{
        const struct zuma_msg_header *h = (const void *)buf;
        size_t want;

        if (n < (ssize_t)sizeof(*h) || le32toh(h->magic) != ZUMA_MSG_MAGIC ||
            le16toh(h->version) != ZUMA_PROTO_VERSION || le32toh(h->length) != (uint32_t)n)
                return -EPROTO;
        switch (le16toh(h->type)) {
        case ZUMA_MSG_HELLO_REPLY:
                want = sizeof(struct zuma_msg_hello_reply);
                break;
        case ZUMA_MSG_QUERY_WRITE:
        case ZUMA_MSG_QUERY_SNAPSHOT_READ:
        case ZUMA_MSG_QUERY_SNAPSHOT_WRITE:
                want = sizeof(struct zuma_msg_chunks);
                break;
        case ZUMA_MSG_BARRIER_READY:
                want = sizeof(struct zuma_msg_barrier);
                break;
        case ZUMA_MSG_STATUS_REPLY:
                want = sizeof(struct zuma_msg_status_reply);
                break;
        default:
                return -EPROTO;
        }
        if ((size_t)n != want)
                return -EPROTO;
        if (want == sizeof(struct zuma_msg_chunks)) {
                const struct zuma_msg_chunks *q = (const void *)buf;
                uint32_t count = le32toh(q->count);

                if (count == 0 || count > ZUMA_MAX_CHUNKS)
                        return -EPROTO;
        }
        (void)f;
        return 0;
}

static int handle_query(Fake *f, const struct zuma_msg_chunks *q)
{
        uint64_t id = le64toh(q->hdr.id);
        uint64_t chunk = le64toh(q->chunk);
        uint32_t count = le32toh(q->count);
        unsigned i, bad;

        if (f->fuzz) {
                bad = (unsigned)rng_below(&f->rng, 5);
                for (i = 0; i < bad; i++)
                        fuzz_bad(f, q);
                if (rng_percent(&f->rng, 5))
                        return 0; /* no answer: the kernel's timeout fails it */
                if (rng_percent(&f->rng, 5)) {
                        struct zuma_msg_error e;

                        memset(&e, 0, sizeof(e));
                        zuma_msg_fill_header(&e.hdr, ZUMA_MSG_ERROR, sizeof(e), id);
                        e.error = htole32(EIO);
                        return send_msg(f, &e, sizeof(e));
                }
        }
        if (le16toh(q->hdr.type) != ZUMA_MSG_QUERY_WRITE)
                return answer_read(f, id, chunk, count, le32toh(q->snapshot),
                                   le16toh(q->hdr.type) == ZUMA_MSG_QUERY_SNAPSHOT_WRITE);
        if (f->hold) {
                if (f->n_held + 3 > sizeof(f->held) / sizeof(f->held[0]))
                        return -ENOSPC;
                f->held[f->n_held++] = id;
                f->held[f->n_held++] = chunk;
                f->held[f->n_held++] = count;
                printf("held %" PRIu64 "\n", chunk);
                fflush(stdout);
                return 0;
        }
        return answer_write(f, id, chunk, count);
}

static int release_held(Fake *f)
{
        size_t i;
        int ret = 0;

        f->hold = false;
        for (i = 0; i + 2 < f->n_held && ret == 0; i += 3)
                ret = answer_write(f, f->held[i], f->held[i + 1], (uint32_t)f->held[i + 2]);
        f->n_held = 0;
        printf("released\n");
        fflush(stdout);
        return ret;
}

static int begin_barrier(Fake *f, uint32_t kind, uint32_t snapshot, bool open)
{
        struct zuma_msg_barrier b;

        if (f->barrier_id)
                return -EBUSY;
        f->barrier_id = 1000000 + f->newest + 1;
        f->barrier_kind = kind;
        f->barrier_snapshot = snapshot;
        f->barrier_open = open;
        memset(&b, 0, sizeof(b));
        zuma_msg_fill_header(&b.hdr, ZUMA_MSG_BARRIER_BEGIN, sizeof(b), f->barrier_id);
        b.kind = htole32(kind);
        b.snapshot = htole32(snapshot);
        return send_msg(f, &b, sizeof(b));
}

/* Writes snapshot s's contents back over the origin where they differ,
 * each chunk copied out first for the newer snapshots (the engine's rule). */
static int revert_origin(Fake *f, uint32_t s)
{
        size_t bytes = (size_t)f->chunk_sectors * 512;
        size_t i, n = f->n_exc;
        int ret = 0;

        for (i = 0; i < n && ret == 0; i++) {
                uint64_t chunk = f->exc[i].chunk;
                uint64_t from = map_chunk(f, chunk, s);

                if (from == ZUMA_MAP_ORIGIN)
                        continue;
                ret = prepare_write(f, chunk);
                if (ret == 0 &&
                    pread(f->store, f->buf, bytes, (off_t)(from * 512)) != (ssize_t)bytes)
                        ret = -EIO;
                if (ret == 0 &&
                    pwrite(f->origin, f->buf, bytes, (off_t)(chunk * bytes)) != (ssize_t)bytes)
                        ret = -EIO;
        }
        if (ret == 0 && fdatasync(f->origin))
                ret = -errno;
        return ret;
}

/* BARRIER_READY: make the change (if the drain worked), then END. */
static int end_barrier(Fake *f, const struct zuma_msg_barrier *ready)
{
        struct zuma_msg_barrier b;
        uint32_t status = le32toh(ready->kind);
        bool create = f->barrier_kind == ZUMA_BARRIER_SNAPSHOT_CREATE;
        int ret;

        if (le64toh(ready->hdr.id) != f->barrier_id ||
            le32toh(ready->snapshot) != f->barrier_snapshot)
                return -EPROTO;
        if (f->barrier_open) {
                printf("barrier ready\n");
                fflush(stdout);
                return 0;
        }
        if (status == 0 && create) {
                f->newest++;
                ret = save_state(f);
                if (ret < 0)
                        return ret;
        }
        if (status == 0 && f->barrier_kind == ZUMA_BARRIER_REVERT) {
                ret = revert_origin(f, f->barrier_snapshot);
                if (ret < 0)
                        return ret;
        }
        memset(&b, 0, sizeof(b));
        zuma_msg_fill_header(&b.hdr, ZUMA_MSG_BARRIER_END, sizeof(b), f->barrier_id);
        b.kind = htole32(f->barrier_kind);
        b.snapshot = htole32(f->barrier_snapshot);
        ret = send_msg(f, &b, sizeof(b));
        f->barrier_id = 0;
        if (ret == 0) {
                if (status)
                        printf("barrier failed: %s\n", strerror((int)status));
                else if (f->barrier_kind == ZUMA_BARRIER_REVERT)
                        printf("reverted to %" PRIu32 "\n", f->barrier_snapshot);
                else
                        printf("snapshot %" PRIu32 " %s\n", f->barrier_snapshot,
                               create ? "created" : "deleted");
                fflush(stdout);
        }
        return ret;
}

static int handle_kernel(Fake *f)
{
        uint8_t buf[ZUMA_MSG_MAX];
        const struct zuma_msg_header *h = (const void *)buf;
        ssize_t n = read(f->ctl, buf, sizeof(buf));
        int ret;

        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        ret = check_kernel_msg(f, buf, n);
        if (ret < 0) {
                fprintf(stderr, "fake-server: a malformed message from the kernel\n");
                return ret;
        }
        switch (le16toh(h->type)) {
        case ZUMA_MSG_HELLO_REPLY: {
                const struct zuma_msg_hello_reply *r = (const void *)buf;
                uint32_t cs = le32toh(r->chunk_sectors);

                if (le32toh(r->targets) && cs != f->chunk_sectors) {
                        fprintf(stderr,
                                "fake-server: the targets use %" PRIu32
                                " sectors per chunk, not %" PRIu32 "\n",
                                cs, f->chunk_sectors);
                        return -EINVAL;
                }
                printf("hello: %" PRIu32 " targets, %" PRIu32 " pending\n", le32toh(r->targets),
                       le32toh(r->pending));
                fflush(stdout);
                return 0;
        }
        case ZUMA_MSG_QUERY_WRITE:
        case ZUMA_MSG_QUERY_SNAPSHOT_READ:
        case ZUMA_MSG_QUERY_SNAPSHOT_WRITE:
                return handle_query(f, (const void *)buf);
        case ZUMA_MSG_BARRIER_READY:
                return end_barrier(f, (const void *)buf);
        default:
                return 0;
        }
}

static int handle_command(Fake *f)
{
        char line[256];
        ssize_t n = read(f->fifo, line, sizeof(line) - 1);
        char *cmd, *save = NULL;
        int ret = 0;

        if (n <= 0)
                return 0;
        line[n] = '\0';
        for (cmd = strtok_r(line, "\n", &save); cmd && ret == 0;
             cmd = strtok_r(NULL, "\n", &save)) {
                unsigned long id;

                if (!strcmp(cmd, "snapshot"))
                        ret = begin_barrier(f, ZUMA_BARRIER_SNAPSHOT_CREATE, f->newest + 1, false);
                else if (sscanf(cmd, "delete %lu", &id) == 1 && id >= 1 && id <= f->newest)
                        ret = begin_barrier(f, ZUMA_BARRIER_SNAPSHOT_DELETE, (uint32_t)id, false);
                else if (sscanf(cmd, "revert %lu", &id) == 1 && id >= 1 && id <= f->newest)
                        ret = begin_barrier(f, ZUMA_BARRIER_REVERT, (uint32_t)id, false);
                else if (!strcmp(cmd, "begin"))
                        ret = begin_barrier(f, ZUMA_BARRIER_SNAPSHOT_CREATE, f->newest + 1, true);
                else if (!strcmp(cmd, "hold"))
                        f->hold = true;
                else if (!strcmp(cmd, "release"))
                        ret = release_held(f);
                else if (!strcmp(cmd, "quit"))
                        stop = 1;
                else
                        fprintf(stderr, "fake-server: unknown command '%s'\n", cmd);
        }
        return ret;
}

static int hello(Fake *f)
{
        struct zuma_msg_hello h;

        memset(&h, 0, sizeof(h));
        zuma_msg_fill_header(&h.hdr, ZUMA_MSG_HELLO, sizeof(h), 0);
        h.features = htole32(ZUMA_FEATURE_SNAPSHOT_WRITE);
        snprintf(h.tag, sizeof(h.tag), "%s", f->tag);
        return send_msg(f, &h, sizeof(h));
}

static void usage(void)
{
        fprintf(stderr,
                "usage: zuma-fake-server --tag TAG --origin DEV --store DEV --chunk-sectors N\n"
                "         [--state FILE] [--commands FIFO] [--hold] [--fuzz SEED]\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "tag", required_argument, NULL, 't' },
                { "origin", required_argument, NULL, 'o' },
                { "store", required_argument, NULL, 's' },
                { "chunk-sectors", required_argument, NULL, 'c' },
                { "state", required_argument, NULL, 'S' },
                { "commands", required_argument, NULL, 'C' },
                { "hold", no_argument, NULL, 'h' },
                { "fuzz", required_argument, NULL, 'f' },
                { NULL, 0, NULL, 0 },
        };
        Fake f = { .ctl = -1, .origin = -1, .store = -1, .fifo = -1 };
        const char *origin = NULL, *store = NULL, *commands = NULL;
        uint64_t seed = 0;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (opt) {
                case 't':
                        f.tag = optarg;
                        break;
                case 'o':
                        origin = optarg;
                        break;
                case 's':
                        store = optarg;
                        break;
                case 'c':
                        f.chunk_sectors = (uint32_t)strtoul(optarg, NULL, 10);
                        break;
                case 'S':
                        f.state_path = optarg;
                        break;
                case 'C':
                        commands = optarg;
                        break;
                case 'h':
                        f.hold = true;
                        break;
                case 'f':
                        f.fuzz = true;
                        seed = strtoull(optarg, NULL, 0);
                        break;
                default:
                        usage();
                        return 2;
                }
        }
        if (!f.tag || !origin || !store || f.chunk_sectors < 8 || f.chunk_sectors > 2048) {
                usage();
                return 2;
        }
        if (f.fuzz) {
                if (seed == 0)
                        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
                f.rng.state = seed;
                printf("fuzz seed %" PRIu64 " (rerun: --fuzz %" PRIu64 ")\n", seed, seed);
                fflush(stdout);
        }
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        f.origin = open(origin, O_RDWR | O_DIRECT | O_CLOEXEC); /* revert writes it */
        f.store = open(store, O_RDWR | O_DIRECT | O_CLOEXEC);
        if (f.origin < 0 || f.store < 0 ||
            posix_memalign(&f.buf, 4096, (size_t)f.chunk_sectors * 512)) {
                perror("fake-server: open origin/store");
                return 1;
        }
        f.store_sectors = (uint64_t)lseek(f.store, 0, SEEK_END) / 512;
        ret = load_state(&f);
        if (ret < 0) {
                fprintf(stderr, "fake-server: state file: %s\n", strerror(-ret));
                return 1;
        }
        if (commands) {
                f.fifo = open(commands, O_RDWR | O_NONBLOCK | O_CLOEXEC);
                if (f.fifo < 0) {
                        perror("fake-server: commands");
                        return 1;
                }
        }
        f.ctl = open("/dev/" ZUMA_CONTROL_NAME, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (f.ctl < 0) {
                perror("fake-server: /dev/" ZUMA_CONTROL_NAME);
                return 1;
        }
        ret = hello(&f);
        if (ret < 0) {
                fprintf(stderr, "fake-server: HELLO refused: %s\n", strerror(-ret));
                return 1;
        }
        printf("serving %s (newest snapshot %" PRIu32 ")\n", f.tag, f.newest);
        fflush(stdout);
        while (!stop && ret == 0) {
                struct pollfd p[2] = { { .fd = f.ctl, .events = POLLIN },
                                       { .fd = f.fifo, .events = POLLIN } };

                if (poll(p, f.fifo >= 0 ? 2 : 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        ret = -errno;
                        break;
                }
                if (p[0].revents & POLLIN)
                        ret = handle_kernel(&f);
                if (ret == 0 && f.fifo >= 0 && (p[1].revents & POLLIN))
                        ret = handle_command(&f);
        }
        if (ret < 0)
                fprintf(stderr, "fake-server: %s\n", strerror(-ret));
        if (f.fuzz) {
                printf("fuzz: %" PRIu64 " bad messages refused, %" PRIu64 " accepted (seed %" PRIu64
                       ")\n",
                       f.bad_refused, f.bad_accepted, seed);
                fflush(stdout);
        }
        free(f.exc);
        free(f.buf);
        return ret < 0 || f.bad_accepted ? 1 : 0;
}
