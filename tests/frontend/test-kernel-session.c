/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The server's side of the kernel protocol (zuma-kernel-session.c) against
 * a stand-in kernel: one end of a SOCK_SEQPACKET pair (message boundaries
 * kept, as /dev/zumastor-control keeps them), an engine on two regular
 * files.  This machine has no device-mapper; tests/kernel/guest/e2e.sh
 * runs the session against the real module in the qemu guest.
 *
 *  - HELLO and the geometry check of HELLO_REPLY;
 *  - QUERY_WRITE makes the copy-out durable before WRITE_OK: a READ_MAP
 *    says "origin" before it and the copy's store sector after, holding the
 *    snapshot's data while the "kernel" rewrites the origin;
 *  - writable snapshots: WRITE_MAP names a private copy written in place;
 *    a read-only snapshot is refused with EROFS;
 *  - bad messages from the kernel: dropped (bad magic, length, type) or
 *    answered ERROR (a query outside the origin, an unknown snapshot), and
 *    the session goes on answering;
 *  - barriers around snapshot creation, and a READY with a status failing
 *    the creation;
 *  - adjacent QUERY_WRITEs read together are prepared as one range: one
 *    request of the group commit for 16 queries, each answered.
 *
 * Data is random: ZUMA_TEST_SEED=N repeats a run (the seed is printed).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dm-zumastor.h"
#include "zuma-kernel-msg.h"
#include "zuma-engine.h"
#include "zuma-error.h"
#include "zuma-kernel-session.h"

#define CHUNK (16 * 1024)
#define ORIGIN_SIZE (1024 * 1024)
#define STORE_SIZE (8 * 1024 * 1024)
#define WAIT_MS 10000

static guint32 test_seed;

typedef struct Fixture {
        char *dir, *origin, *store;
        guint8 *before;
        ZumaEngine *engine;
        ZumaKernelSession *session;
        int k;          /* the stand-in kernel's end */
        int session_fd; /* the server's end, before a test makes the session */
        guint32 snap, writable;
        guint64 next_id;
} Fixture;

static void send_raw(Fixture *f, const void *msg, size_t size)
{
        g_assert_cmpint(write(f->k, msg, size), ==, (ssize_t)size);
}

/* The next message from the server, or 0 bytes if none came in wait_ms. */
static ssize_t receive(Fixture *f, void *buf, size_t size, int wait_ms)
{
        struct pollfd pfd = { .fd = f->k, .events = POLLIN };

        if (poll(&pfd, 1, wait_ms) != 1)
                return 0;
        return read(f->k, buf, size);
}

static void send_hello_reply(int k, guint32 chunk_sectors, guint64 origin_sectors)
{
        struct zuma_msg_hello_reply m;

        memset(&m, 0, sizeof(m));
        zuma_msg_fill_header(&m.hdr, ZUMA_MSG_HELLO_REPLY, sizeof(m), 0);
        m.version = htole32(ZUMA_PROTO_VERSION);
        m.features = htole32(ZUMA_FEATURE_SNAPSHOT_WRITE);
        m.chunk_sectors = htole32(chunk_sectors);
        m.origin_sectors = htole64(origin_sectors);
        m.store_sectors = htole64(chunk_sectors ? STORE_SIZE / 512 : 0);
        g_assert_cmpint(write(k, &m, sizeof(m)), ==, (ssize_t)sizeof(m));
}

static void write_file(const char *path, const void *data, gsize size)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(path, data, (gssize)size, &error));
        g_assert_no_error(error);
}

static void set_up(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GRand) rand = g_rand_new_with_seed(test_seed);
        g_autofree guint8 *zeros = g_malloc0(STORE_SIZE);
        SsCreateOptions create = { .volume_name = "kvol", .chunk_size = CHUNK };
        SsSnapshotInfo info;
        int pair[2];

        f->before = g_malloc(ORIGIN_SIZE);
        for (gsize i = 0; i < ORIGIN_SIZE; i += 4)
                *(guint32 *)(f->before + i) = g_rand_int(rand);
        f->dir = g_dir_make_tmp("zuma-kernel-session-XXXXXX", &error);
        g_assert_no_error(error);
        f->origin = g_build_filename(f->dir, "origin", NULL);
        f->store = g_build_filename(f->dir, "store", NULL);
        write_file(f->origin, f->before, ORIGIN_SIZE);
        write_file(f->store, zeros, STORE_SIZE);
        g_assert_true(zuma_engine_initialize(f->origin, f->store, &create, &error));
        f->engine = zuma_engine_open(f->origin, f->store, NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpint(zuma_engine_snapshot_create(f->engine, "s", 0, 0, &info), ==, 0);
        f->snap = info.id;
        g_assert_cmpint(zuma_engine_snapshot_create(f->engine, "w", SS_SNAP_WRITABLE, 0, &info), ==,
                        0);
        f->writable = info.id;

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), ==, 0);
        f->k = pair[0];
        g_assert_cmpint(fcntl(pair[1], F_SETFL, O_NONBLOCK), ==, 0);
        if (GPOINTER_TO_INT(data) == 0) { /* a session, its HELLO read */
                struct zuma_msg_hello hello;

                send_hello_reply(f->k, 0, 0);
                f->session = zuma_kernel_session_new_fd(pair[1], "kvol", f->engine, &error);
                g_assert_no_error(error);
                g_assert_cmpint(receive(f, &hello, sizeof(hello), WAIT_MS), ==, sizeof(hello));
        } else {
                f->session_fd = pair[1]; /* the test makes the session */
        }
}

static void tear_down(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        if (f->session) {
                zuma_engine_set_barrier(f->engine, NULL, NULL);
                zuma_kernel_session_free(f->session);
        }
        close(f->k);
        g_assert_true(zuma_engine_close(f->engine, &error));
        g_unlink(f->origin);
        g_unlink(f->store);
        g_rmdir(f->dir);
        g_free(f->origin);
        g_free(f->store);
        g_free(f->dir);
        g_free(f->before);
}

/* Sends a query; returns its id. */
static guint64 query(Fixture *f, guint16 type, guint64 chunk, guint32 count, guint32 snapshot)
{
        struct zuma_msg_chunks q;
        guint64 id = ++f->next_id + 1000;

        zuma_msg_fill_header(&q.hdr, type, sizeof(q), id);
        q.chunk = htole64(chunk);
        q.count = htole32(count);
        q.snapshot = htole32(snapshot);
        send_raw(f, &q, sizeof(q));
        return id;
}

/* The answer to request id: its type; *ret_entry the first map entry,
 * *ret_errno an ERROR's errno. */
static guint16 answer(Fixture *f, guint64 id, guint64 *ret_entry, guint32 *ret_errno)
{
        guint64 buf[ZUMA_MSG_MAX / 8];
        const struct zuma_msg_header *h = (const void *)buf;
        ssize_t n = receive(f, buf, sizeof(buf), WAIT_MS);

        g_assert_cmpint(n, >=, (ssize_t)sizeof(*h));
        g_assert_cmpuint(le32toh(h->magic), ==, ZUMA_MSG_MAGIC);
        g_assert_cmpuint(le32toh(h->length), ==, (guint32)n);
        g_assert_cmpuint(le64toh(h->id), ==, id);
        switch (le16toh(h->type)) {
        case ZUMA_MSG_READ_MAP:
        case ZUMA_MSG_WRITE_MAP: {
                const struct zuma_msg_read_map *m = (const void *)buf;

                g_assert_cmpuint(n, ==, sizeof(*m) + 8 * le32toh(m->count));
                *ret_entry = le64toh(m->map[0]);
                break;
        }
        case ZUMA_MSG_ERROR: {
                struct zuma_msg_error e;

                g_assert_cmpint(n, ==, sizeof(e));
                memcpy(&e, buf, sizeof(e));
                *ret_errno = le32toh(e.error);
                break;
        }
        default:
                break;
        }
        return le16toh(h->type);
}

static void test_hello(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        struct zuma_msg_hello hello;

        /* A kernel whose targets of this tag have another chunk size. */
        send_hello_reply(f->k, CHUNK / 512 * 2, ORIGIN_SIZE / 512);
        g_assert_null(zuma_kernel_session_new_fd(f->session_fd, "kvol", f->engine, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_test_message("refused: %s", error->message);
        g_assert_cmpint(receive(f, &hello, sizeof(hello), WAIT_MS), ==, sizeof(hello));
        g_assert_cmpuint(le16toh(hello.hdr.type), ==, ZUMA_MSG_HELLO);
        g_assert_cmpstr(hello.tag, ==, "kvol");
        g_assert_cmpuint(le32toh(hello.features), ==, ZUMA_FEATURE_SNAPSHOT_WRITE);
}

static void test_copy_out_before_write_ok(Fixture *f, gconstpointer data)
{
        guint64 entry = 0, chunk = 5;
        guint32 err = 0;
        g_autofree guint8 *copy = g_malloc(CHUNK);
        g_autofree guint8 *fresh = g_malloc(CHUNK);
        int fd;

        g_assert_cmpuint(
                answer(f, query(f, ZUMA_MSG_QUERY_SNAPSHOT_READ, chunk, 1, f->snap), &entry, &err),
                ==, ZUMA_MSG_READ_MAP);
        g_assert_cmpuint(entry, ==, ZUMA_MAP_ORIGIN);
        g_assert_cmpuint(answer(f, query(f, ZUMA_MSG_QUERY_WRITE, chunk, 1, 0), &entry, &err), ==,
                         ZUMA_MSG_WRITE_OK);
        /* The kernel writes the origin once WRITE_OK came. */
        memset(fresh, 0x5a, CHUNK);
        fd = open(f->origin, O_RDWR | O_CLOEXEC);
        g_assert_cmpint(pwrite(fd, fresh, CHUNK, chunk * CHUNK), ==, CHUNK);
        close(fd);
        g_assert_cmpuint(
                answer(f, query(f, ZUMA_MSG_QUERY_SNAPSHOT_READ, chunk, 1, f->snap), &entry, &err),
                ==, ZUMA_MSG_READ_MAP);
        g_assert_cmpuint(entry, !=, ZUMA_MAP_ORIGIN);
        g_assert_cmpuint(entry % 8, ==, 0);
        fd = open(f->store, O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(pread(fd, copy, CHUNK, (off_t)(entry * 512)), ==, CHUNK);
        close(fd);
        g_assert_cmpmem(copy, CHUNK, f->before + chunk * CHUNK, CHUNK);
        /* So does the engine's own read of the snapshot. */
        g_assert_cmpint(
                zuma_engine_snapshot_read(f->engine, f->snap, copy, chunk * CHUNK, CHUNK, NULL), ==,
                0);
        g_assert_cmpmem(copy, CHUNK, f->before + chunk * CHUNK, CHUNK);
}

static void test_snapshot_write(Fixture *f, gconstpointer data)
{
        guint64 entry = 0, chunk = 9;
        guint32 err = 0;
        g_autofree guint8 *buf = g_malloc(CHUNK);
        int fd;

        g_assert_cmpuint(
                answer(f, query(f, ZUMA_MSG_QUERY_SNAPSHOT_WRITE, chunk, 1, f->snap), &entry, &err),
                ==, ZUMA_MSG_ERROR);
        g_assert_cmpuint(err, ==, EROFS);
        g_assert_cmpuint(answer(f, query(f, ZUMA_MSG_QUERY_SNAPSHOT_WRITE, chunk, 1, f->writable),
                                &entry, &err),
                         ==, ZUMA_MSG_WRITE_MAP);
        g_assert_cmpuint(entry, !=, ZUMA_MAP_ORIGIN);
        /* The private copy holds the snapshot's data; the kernel writes it. */
        fd = open(f->store, O_RDWR | O_CLOEXEC);
        g_assert_cmpint(pread(fd, buf, CHUNK, (off_t)(entry * 512)), ==, CHUNK);
        g_assert_cmpmem(buf, CHUNK, f->before + chunk * CHUNK, CHUNK);
        memset(buf, 0xa5, CHUNK);
        g_assert_cmpint(pwrite(fd, buf, CHUNK, (off_t)(entry * 512)), ==, CHUNK);
        close(fd);
        memset(buf, 0, CHUNK);
        g_assert_cmpint(
                zuma_engine_snapshot_read(f->engine, f->writable, buf, chunk * CHUNK, CHUNK, NULL),
                ==, 0);
        for (gsize i = 0; i < CHUNK; i++)
                g_assert_cmpuint(buf[i], ==, 0xa5);
        /* The origin and the other snapshot keep theirs. */
        g_assert_cmpint(
                zuma_engine_snapshot_read(f->engine, f->snap, buf, chunk * CHUNK, CHUNK, NULL), ==,
                0);
        g_assert_cmpmem(buf, CHUNK, f->before + chunk * CHUNK, CHUNK);
        /* Asked again, the same copy. */
        guint64 again = 0;
        g_assert_cmpuint(answer(f, query(f, ZUMA_MSG_QUERY_SNAPSHOT_WRITE, chunk, 1, f->writable),
                                &again, &err),
                         ==, ZUMA_MSG_WRITE_MAP);
        g_assert_cmpuint(again, ==, entry);
}

static void test_bad_messages(Fixture *f, gconstpointer data)
{
        struct zuma_msg_chunks q;
        guint64 buf[ZUMA_MSG_MAX / 8], entry = 0, answered, refused;
        guint32 err = 0;

        /* Bad magic, a short message, an unknown type: dropped, counted,
         * each named in the log. */
        static const char *const why[] = {
                "40 bytes: bad magic or version",
                "10 bytes: shorter than a header",
                "40 bytes: unknown type",
                "40 bytes: length differs from the bytes read",
                "40 bytes: chunks outside the origin",
                "40 bytes: chunk count out of range",
        };
        for (gsize i = 0; i < G_N_ELEMENTS(why); i++) {
                g_autofree char *text =
                        g_strdup_printf("kvol: dropped a kernel message of %s", why[i]);
                g_test_expect_message("zuma-kernel", G_LOG_LEVEL_WARNING, text);
        }
        zuma_msg_fill_header(&q.hdr, ZUMA_MSG_QUERY_WRITE, sizeof(q), 1);
        q.hdr.magic = htole32(0xdeadbeef);
        q.chunk = 0;
        q.count = htole32(1);
        q.snapshot = 0;
        send_raw(f, &q, sizeof(q));
        send_raw(f, &q, 10);
        zuma_msg_fill_header(&q.hdr, 0x99, sizeof(q), 2);
        send_raw(f, &q, sizeof(q));
        /* A length field that disagrees with the bytes. */
        zuma_msg_fill_header(&q.hdr, ZUMA_MSG_QUERY_WRITE, sizeof(q) + 8, 3);
        send_raw(f, &q, sizeof(q));
        g_assert_cmpint(receive(f, buf, sizeof(buf), 300), ==, 0);
        zuma_kernel_session_get_stats(f->session, &answered, &refused);
        g_assert_cmpuint(refused, ==, 4);

        /* Well-formed but wrong: answered with an errno. */
        g_assert_cmpuint(
                answer(f, query(f, ZUMA_MSG_QUERY_WRITE, ORIGIN_SIZE / CHUNK, 1, 0), &entry, &err),
                ==, ZUMA_MSG_ERROR);
        g_assert_cmpuint(err, ==, EINVAL);
        g_assert_cmpuint(answer(f, query(f, ZUMA_MSG_QUERY_WRITE, 0, 0, 0), &entry, &err), ==,
                         ZUMA_MSG_ERROR);
        g_assert_cmpuint(err, ==, EINVAL);
        g_assert_cmpuint(answer(f, query(f, ZUMA_MSG_QUERY_SNAPSHOT_READ, 0, 1, 99), &entry, &err),
                         ==, ZUMA_MSG_ERROR);
        g_assert_cmpuint(err, ==, ENOENT);
        g_test_assert_expected_messages();
        /* The session goes on. */
        g_assert_cmpuint(answer(f, query(f, ZUMA_MSG_QUERY_WRITE, 1, 2, 0), &entry, &err), ==,
                         ZUMA_MSG_WRITE_OK);
}

typedef struct Kernel {
        Fixture *f;
        guint32 ready_status;
        guint32 kind, snapshot;
        gboolean ended;
} Kernel;

/* The kernel's side of one barrier: BEGIN, READY(status), END. */
static gpointer kernel_barrier(gpointer data)
{
        Kernel *k = data;
        struct zuma_msg_barrier m, ready;

        g_assert_cmpint(receive(k->f, &m, sizeof(m), WAIT_MS), ==, sizeof(m));
        g_assert_cmpuint(le16toh(m.hdr.type), ==, ZUMA_MSG_BARRIER_BEGIN);
        k->kind = le32toh(m.kind);
        k->snapshot = le32toh(m.snapshot);
        ready = m;
        ready.hdr.type = htole16(ZUMA_MSG_BARRIER_READY);
        ready.kind = htole32(k->ready_status);
        send_raw(k->f, &ready, sizeof(ready));
        struct zuma_msg_barrier end;
        if (receive(k->f, &end, sizeof(end), WAIT_MS) == sizeof(end)) {
                g_assert_cmpuint(le16toh(end.hdr.type), ==, ZUMA_MSG_BARRIER_END);
                g_assert_cmpuint(le64toh(end.hdr.id), ==, le64toh(m.hdr.id));
                g_assert_cmpuint(le32toh(end.kind), ==, k->kind);
                k->ended = TRUE;
        }
        return NULL;
}

static void test_barriers(Fixture *f, gconstpointer data)
{
        Kernel k = { .f = f };
        SsSnapshotInfo info;
        GThread *thread;

        zuma_engine_set_barrier(f->engine, &zuma_kernel_session_barrier, f->session);
        thread = g_thread_new("kernel", kernel_barrier, &k);
        g_assert_cmpint(zuma_engine_snapshot_create(f->engine, "b1", 0, 0, &info), ==, 0);
        g_thread_join(thread);
        g_assert_cmpuint(k.kind, ==, ZUMA_BARRIER_SNAPSHOT_CREATE);
        g_assert_true(k.ended);

        /* The kernel could not drain its I/O: no snapshot, the barrier ends. */
        k = (Kernel){ .f = f, .ready_status = ETIMEDOUT };
        g_test_expect_message("zuma-kernel", G_LOG_LEVEL_WARNING,
                              "kvol: the kernel did not drain its I/O for a barrier: *");
        thread = g_thread_new("kernel", kernel_barrier, &k);
        g_assert_cmpint(zuma_engine_snapshot_create(f->engine, "b2", 0, 0, &info), ==, -ETIMEDOUT);
        g_thread_join(thread);
        g_test_assert_expected_messages();
        g_assert_true(k.ended);
        g_assert_cmpint(zuma_engine_snapshot_get(f->engine, info.id + 1, &info), ==, -ENOENT);

        k = (Kernel){ .f = f };
        thread = g_thread_new("kernel", kernel_barrier, &k);
        g_assert_cmpint(zuma_engine_snapshot_delete(f->engine, f->snap), ==, 0);
        g_thread_join(thread);
        g_assert_cmpuint(k.kind, ==, ZUMA_BARRIER_SNAPSHOT_DELETE);
        g_assert_cmpuint(k.snapshot, ==, f->snap);
        g_assert_true(k.ended);
}

static void test_adjacent_writes_grouped(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree guint8 *buf = g_malloc(CHUNK);
        const guint n = 16, first = 20;
        guint64 ids[16], entry = 0;
        guint32 err = 0;
        struct zuma_msg_hello hello;
        ZumaGroupCommitStats before, after;
        int fd;

        /* The queries wait in the socket before the session reads: its
         * thread finds all of them at its first read. */
        send_hello_reply(f->k, 0, 0);
        for (guint i = 0; i < n; i++)
                ids[i] = query(f, ZUMA_MSG_QUERY_WRITE, first + (n - 1 - i), 1, 0);
        zuma_engine_get_commit_stats(f->engine, &before);
        f->session = zuma_kernel_session_new_fd(f->session_fd, "kvol", f->engine, &error);
        g_assert_no_error(error);
        g_assert_cmpint(receive(f, &hello, sizeof(hello), WAIT_MS), ==, sizeof(hello));
        for (guint i = 0; i < n; i++) {
                guint64 buf64[ZUMA_MSG_MAX / 8];
                struct zuma_msg_chunks ok;

                g_assert_cmpint(receive(f, buf64, sizeof(buf64), WAIT_MS), ==, sizeof(ok));
                memcpy(&ok, buf64, sizeof(ok));
                g_assert_cmpuint(le16toh(ok.hdr.type), ==, ZUMA_MSG_WRITE_OK);
                /* In chunk order: the last query sent names the first chunk. */
                g_assert_cmpuint(le64toh(ok.hdr.id), ==, ids[n - 1 - i]);
                g_assert_cmpuint(le64toh(ok.chunk), ==, first + i);
        }
        zuma_engine_get_commit_stats(f->engine, &after);
        g_assert_cmpuint(after.batched_requests - before.batched_requests, ==, 1);
        /* Every chunk was copied out: the snapshot keeps it after the
         * "kernel" rewrites the origin. */
        fd = open(f->origin, O_RDWR | O_CLOEXEC);
        memset(buf, 0x33, CHUNK);
        for (guint i = 0; i < n; i++)
                g_assert_cmpint(pwrite(fd, buf, CHUNK, (first + i) * CHUNK), ==, CHUNK);
        close(fd);
        for (guint i = 0; i < n; i++) {
                g_assert_cmpuint(
                        answer(f, query(f, ZUMA_MSG_QUERY_SNAPSHOT_READ, first + i, 1, f->snap),
                               &entry, &err),
                        ==, ZUMA_MSG_READ_MAP);
                g_assert_cmpuint(entry, !=, ZUMA_MAP_ORIGIN);
                g_assert_cmpint(zuma_engine_snapshot_read(f->engine, f->snap, buf,
                                                          (first + i) * CHUNK, CHUNK, NULL),
                                ==, 0);
                g_assert_cmpmem(buf, CHUNK, f->before + (first + i) * CHUNK, CHUNK);
        }
}

int main(int argc, char **argv)
{
        const char *seed = g_getenv("ZUMA_TEST_SEED");

        g_test_init(&argc, &argv, NULL);
        test_seed = seed ? (guint32)strtoul(seed, NULL, 10) : (guint32)g_get_real_time();
        g_printerr("# ZUMA_TEST_SEED=%u\n", test_seed);
        g_test_add("/kernel-session/hello-geometry", Fixture, GINT_TO_POINTER(1), set_up,
                   test_hello, tear_down);
        g_test_add("/kernel-session/copy-out-before-write-ok", Fixture, NULL, set_up,
                   test_copy_out_before_write_ok, tear_down);
        g_test_add("/kernel-session/snapshot-write", Fixture, NULL, set_up, test_snapshot_write,
                   tear_down);
        g_test_add("/kernel-session/bad-messages", Fixture, NULL, set_up, test_bad_messages,
                   tear_down);
        g_test_add("/kernel-session/barriers", Fixture, NULL, set_up, test_barriers, tear_down);
        g_test_add("/kernel-session/adjacent-writes-grouped", Fixture, GINT_TO_POINTER(1), set_up,
                   test_adjacent_writes_grouped, tear_down);
        return g_test_run();
}
