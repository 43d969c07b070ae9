/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The server's side of the kernel protocol, one session per volume
 * (zuma-kernel-session.h says what it answers and in which order).
 */
#define G_LOG_DOMAIN "zuma-kernel"

#include "zuma-kernel-session.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dm-zumastor.h"
#include "zuma-kernel-msg.h"
#include "zuma-error.h"

/* The engine's barrier kinds are the protocol's. */
G_STATIC_ASSERT((int)ZUMA_ENGINE_BARRIER_CREATE == ZUMA_BARRIER_SNAPSHOT_CREATE);
G_STATIC_ASSERT((int)ZUMA_ENGINE_BARRIER_DELETE == ZUMA_BARRIER_SNAPSHOT_DELETE);
G_STATIC_ASSERT((int)ZUMA_ENGINE_BARRIER_REVERT == ZUMA_BARRIER_REVERT);

#define HELLO_TIMEOUT_MS 10000
#define WRITE_WORKERS 8
/* Adjacent QUERY_WRITEs read in one go are prepared as one range of up to
 * this many chunks: one copy-out plan, one I/O, one commit (dm splits a
 * 1 MiB write into chunk-sized requests, each its own query). */
#define WRITE_GROUP_CHUNKS 256
/* The kernel answers a barrier within its own timeout (30 s by default,
 * ETIMEDOUT past it): wait a little longer than the longest it allows. */
#define BARRIER_WAIT_US (10 * 60 * G_USEC_PER_SEC)

struct ZumaKernelSession {
        char *tag;
        int fd;
        int stop_fd; /* eventfd: the thread's wake-up to stop */
        ZumaEngine *engine;
        guint64 chunk_size;
        GThread *thread;
        GThreadPool *writers; /* QUERY_WRITE answers, a WriteGroup each */
        GPtrArray *pending;   /* session thread: QUERY_WRITEs read, not grouped yet */
        GMutex answer_lock;   /* THE ORDER OF ANSWERS (header) */

        GMutex barrier_lock;
        GCond barrier_cond;
        guint64 next_id;
        guint64 barrier_id; /* the barrier waiting for READY, 0 none */
        gboolean barrier_ready;
        guint32 barrier_status;
        gboolean broken; /* the file failed: nothing more is answered */

        gint answered, refused; /* atomics */
};

typedef struct WriteQuery {
        guint64 id, chunk;
        guint32 count;
} WriteQuery;

/* Writes one message.  ENOENT (the kernel stopped waiting for that
 * request: it timed out) is no error for the server. */
static int send_msg(ZumaKernelSession *s, const void *msg, size_t size)
{
        const struct zuma_msg_header *h = msg;
        ssize_t n = write(s->fd, msg, size);

        if (n == (ssize_t)size) {
                g_atomic_int_inc(&s->answered);
                return 0;
        }
        if (n < 0 && errno == ENOENT) {
                g_message("%s: the kernel no longer waits for request %" G_GUINT64_FORMAT
                          " (it timed out)",
                          s->tag, (guint64)le64toh(h->id));
                return 0;
        }
        int r = n < 0 ? -errno : -EIO;
        g_atomic_int_inc(&s->refused);
        g_warning("%s: the kernel refused message type 0x%x (request %" G_GUINT64_FORMAT "): %s",
                  s->tag, le16toh(h->type), (guint64)le64toh(h->id), g_strerror(-r));
        return r;
}

static void send_error(ZumaKernelSession *s, guint64 id, int r)
{
        struct zuma_msg_error m;

        zuma_msg_fill_header(&m.hdr, ZUMA_MSG_ERROR, sizeof(m), id);
        m.error = htole32((guint32)(r < 0 ? -r : EIO));
        m.pad = 0;
        send_msg(s, &m, sizeof(m));
}

static void log_fault(ZumaKernelSession *s, const char *query, guint64 chunk, int r,
                      const ZumaEngineFault *fault)
{
        g_warning("%s: %s of chunk %" G_GUINT64_FORMAT " failed: %s%s%s", s->tag, query, chunk,
                  fault->what ? fault->what : g_strerror(-r), fault->detail ? ": " : "",
                  fault->detail ? fault->detail : "");
}

/* Bytes of the origin from the chunk's start, up to count chunks. */
static guint64 range_length(ZumaKernelSession *s, guint64 chunk, guint32 count, guint64 origin_size)
{
        guint64 offset = chunk * s->chunk_size;

        return MIN((guint64)count * s->chunk_size, origin_size - offset);
}

/* ---- QUERY_WRITE, on a worker ---- */

static void send_write_ok(ZumaKernelSession *s, const WriteQuery *q)
{
        struct zuma_msg_chunks m;

        zuma_msg_fill_header(&m.hdr, ZUMA_MSG_WRITE_OK, sizeof(m), q->id);
        m.chunk = htole64(q->chunk);
        m.count = htole32(q->count);
        m.snapshot = 0;
        send_msg(s, &m, sizeof(m));
}

/* A group of QUERY_WRITEs whose chunks are adjacent, in chunk order: one
 * prepare for the whole range, then each its answer. */
static void answer_write_group(gpointer data, gpointer user_data)
{
        g_autoptr(GPtrArray) group = data;
        ZumaKernelSession *s = user_data;
        const WriteQuery *first = group->pdata[0], *last = group->pdata[group->len - 1];
        guint64 end = last->chunk + last->count, origin_size;
        ZumaEngineFault fault;
        int r;

        zuma_engine_get_device_sizes(s->engine, &origin_size, NULL);
        r = zuma_engine_origin_prepare(
                s->engine, first->chunk * s->chunk_size,
                range_length(s, first->chunk, (guint32)(end - first->chunk), origin_size), &fault);
        if (r < 0 && r != -ENOSPC && r != -EBUSY)
                log_fault(s, "copy-out", first->chunk, r, &fault);
        g_mutex_lock(&s->answer_lock);
        for (guint i = 0; i < group->len; i++) {
                if (r == 0)
                        send_write_ok(s, group->pdata[i]);
                else
                        send_error(s, ((WriteQuery *)group->pdata[i])->id, r);
        }
        g_mutex_unlock(&s->answer_lock);
}

static gint compare_chunks(gconstpointer a, gconstpointer b)
{
        const WriteQuery *x = *(WriteQuery *const *)a, *y = *(WriteQuery *const *)b;

        return x->chunk < y->chunk ? -1 : x->chunk > y->chunk;
}

/* Session thread: hands the QUERY_WRITEs read since the last call to the
 * workers, adjacent ones grouped. */
static void flush_writes(ZumaKernelSession *s)
{
        GPtrArray *group = NULL;
        guint64 group_end = 0, group_start = 0;

        g_ptr_array_sort(s->pending, compare_chunks);
        for (guint i = 0; i < s->pending->len; i++) {
                WriteQuery *q = s->pending->pdata[i];

                if (group && (q->chunk != group_end ||
                              q->chunk + q->count - group_start > WRITE_GROUP_CHUNKS)) {
                        g_thread_pool_push(s->writers, group, NULL);
                        group = NULL;
                }
                if (!group) {
                        group = g_ptr_array_new_with_free_func(g_free);
                        group_start = q->chunk;
                }
                g_ptr_array_add(group, q);
                group_end = q->chunk + q->count;
        }
        if (group)
                g_thread_pool_push(s->writers, group, NULL);
        g_ptr_array_set_free_func(s->pending, NULL);
        g_ptr_array_set_size(s->pending, 0);
        g_ptr_array_set_free_func(s->pending, g_free);
}

/* ---- QUERY_SNAPSHOT_READ and _WRITE, on the session thread ---- */

/* The READ_MAP entry of one chunk of snapshot id: ZUMA_MAP_ORIGIN or its
 * store sector, if one extent holds the whole chunk. */
static int map_chunk(ZumaKernelSession *s, guint32 id, guint64 chunk, guint64 size,
                     guint64 *ret_entry)
{
        guint64 offset = chunk * s->chunk_size, length = MIN(s->chunk_size, size - offset);
        ZumaEngineFault fault;
        SsExtent ext;
        int n = zuma_engine_snapshot_map(s->engine, id, offset, length, &ext, 1, &fault);

        if (n < 0) {
                if (n != -ENOENT)
                        log_fault(s, "snapshot map", chunk, n, &fault);
                return n;
        }
        if (n != 1 || ext.offset != offset || ext.length < length) {
                g_warning("%s: snapshot %u chunk %" G_GUINT64_FORMAT
                          " is not one extent: the kernel target cannot map it",
                          s->tag, id, chunk);
                return -EIO;
        }
        *ret_entry = ext.kind == SS_EXTENT_ORIGIN ? ZUMA_MAP_ORIGIN : ext.dev_offset / 512;
        return 0;
}

static int own_chunk(ZumaKernelSession *s, guint32 id, guint64 chunk, guint64 size,
                     guint64 *ret_entry)
{
        guint64 offset = chunk * s->chunk_size, store_offset;
        ZumaEngineFault fault;
        int r = zuma_engine_snapshot_own_chunk(
                s->engine, id, offset, MIN(s->chunk_size, size - offset), &store_offset, &fault);

        if (r < 0) {
                if (r != -ENOENT && r != -EROFS && r != -ENOSPC)
                        log_fault(s, "snapshot write", chunk, r, &fault);
                return r;
        }
        *ret_entry = store_offset / 512;
        return 0;
}

typedef int (*MapFunc)(ZumaKernelSession *s, guint32 id, guint64 chunk, guint64 size,
                       guint64 *ret_entry);

static void answer_map(ZumaKernelSession *s, const struct zuma_msg_chunks *q, guint16 reply_type,
                       MapFunc map)
{
        guint64 id = le64toh(q->hdr.id), chunk = le64toh(q->chunk);
        guint32 count = le32toh(q->count), snapshot = le32toh(q->snapshot);
        size_t size = sizeof(struct zuma_msg_read_map) + 8 * (size_t)count;
        g_autofree struct zuma_msg_read_map *m = g_malloc0(size);
        SsSnapshotInfo info;
        int r;

        g_mutex_lock(&s->answer_lock);
        r = zuma_engine_snapshot_get(s->engine, snapshot, &info);
        if (r == 0 && (chunk + count) * s->chunk_size >= info.origin_size + s->chunk_size)
                r = -EINVAL; /* past the snapshot's image */
        for (guint32 i = 0; r == 0 && i < count; i++) {
                guint64 entry = 0;

                r = map(s, snapshot, chunk + i, info.origin_size, &entry);
                m->map[i] = htole64(entry);
        }
        if (r == 0) {
                zuma_msg_fill_header(&m->hdr, reply_type, size, id);
                m->chunk = q->chunk;
                m->count = q->count;
                m->snapshot = q->snapshot;
                send_msg(s, m, size);
        } else {
                send_error(s, id, r);
        }
        g_mutex_unlock(&s->answer_lock);
}

/* ---- reading the kernel's messages ---- */

static size_t expected_size(guint16 type)
{
        switch (type) {
        case ZUMA_MSG_HELLO_REPLY:
                return sizeof(struct zuma_msg_hello_reply);
        case ZUMA_MSG_QUERY_WRITE:
        case ZUMA_MSG_QUERY_SNAPSHOT_READ:
        case ZUMA_MSG_QUERY_SNAPSHOT_WRITE:
                return sizeof(struct zuma_msg_chunks);
        case ZUMA_MSG_BARRIER_READY:
                return sizeof(struct zuma_msg_barrier);
        case ZUMA_MSG_STATUS_REPLY:
                return sizeof(struct zuma_msg_status_reply);
        default:
                return 0;
        }
}

/* What is wrong with a message of n bytes, or NULL. */
static const char *check_msg(ZumaKernelSession *s, const void *buf, ssize_t n)
{
        const struct zuma_msg_header *h = buf;
        size_t want;

        if (n < (ssize_t)sizeof(*h))
                return "shorter than a header";
        if (le32toh(h->magic) != ZUMA_MSG_MAGIC || le16toh(h->version) != ZUMA_PROTO_VERSION)
                return "bad magic or version";
        if (le32toh(h->length) != (guint32)n)
                return "length differs from the bytes read";
        want = expected_size(le16toh(h->type));
        if (want == 0)
                return "unknown type";
        if ((size_t)n != want)
                return "wrong size for its type";
        if (want == sizeof(struct zuma_msg_chunks)) {
                const struct zuma_msg_chunks *q = buf;
                guint32 count = le32toh(q->count);
                guint64 chunk = le64toh(q->chunk), origin_size;

                zuma_engine_get_device_sizes(s->engine, &origin_size, NULL);
                if (count == 0 || count > ZUMA_MAX_CHUNKS)
                        return "chunk count out of range";
                if (chunk > G_MAXUINT64 / s->chunk_size - count ||
                    chunk * s->chunk_size >= origin_size)
                        return "chunks outside the origin";
        }
        return NULL;
}

static void on_barrier_ready(ZumaKernelSession *s, const struct zuma_msg_barrier *m)
{
        guint64 id = le64toh(m->hdr.id);

        g_mutex_lock(&s->barrier_lock);
        if (id != 0 && id == s->barrier_id) {
                s->barrier_ready = TRUE;
                s->barrier_status = le32toh(m->kind);
                g_cond_broadcast(&s->barrier_cond);
        } else {
                g_warning("%s: BARRIER_READY for barrier %" G_GUINT64_FORMAT
                          ", which is not waiting",
                          s->tag, id);
        }
        g_mutex_unlock(&s->barrier_lock);
}

static void dispatch(ZumaKernelSession *s, const void *buf, ssize_t n)
{
        const struct zuma_msg_header *h = buf;
        const char *bad = check_msg(s, buf, n);

        if (bad) {
                g_atomic_int_inc(&s->refused);
                g_warning("%s: dropped a kernel message of %zd bytes: %s", s->tag, n, bad);
                /* A well-framed query with wrong contents still waits in
                 * the kernel: fail it rather than let it time out. */
                if (n == sizeof(struct zuma_msg_chunks) && le32toh(h->magic) == ZUMA_MSG_MAGIC &&
                    le16toh(h->version) == ZUMA_PROTO_VERSION && le32toh(h->length) == (guint32)n &&
                    le16toh(h->type) >= ZUMA_MSG_QUERY_WRITE &&
                    le16toh(h->type) <= ZUMA_MSG_QUERY_SNAPSHOT_WRITE)
                        send_error(s, le64toh(h->id), -EINVAL);
                return;
        }
        switch (le16toh(h->type)) {
        case ZUMA_MSG_QUERY_WRITE: {
                const struct zuma_msg_chunks *q = buf;
                WriteQuery *w = g_new(WriteQuery, 1);

                w->id = le64toh(q->hdr.id);
                w->chunk = le64toh(q->chunk);
                w->count = le32toh(q->count);
                g_ptr_array_add(s->pending, w); /* flush_writes() after the read */
                break;
        }
        case ZUMA_MSG_QUERY_SNAPSHOT_READ:
                answer_map(s, buf, ZUMA_MSG_READ_MAP, map_chunk);
                break;
        case ZUMA_MSG_QUERY_SNAPSHOT_WRITE:
                answer_map(s, buf, ZUMA_MSG_WRITE_MAP, own_chunk);
                break;
        case ZUMA_MSG_BARRIER_READY:
                on_barrier_ready(s, buf);
                break;
        default: /* HELLO_REPLY again, STATUS_REPLY: nothing waits for them */
                break;
        }
}

static void mark_broken(ZumaKernelSession *s, int err)
{
        g_warning("%s: the kernel session failed (%s); held I/O fails at the kernel's timeout "
                  "unless the volume is started again",
                  s->tag, g_strerror(err));
        g_mutex_lock(&s->barrier_lock);
        s->broken = TRUE;
        g_cond_broadcast(&s->barrier_cond);
        g_mutex_unlock(&s->barrier_lock);
}

static gpointer session_thread(gpointer data)
{
        ZumaKernelSession *s = data;
        guint64 buf[ZUMA_MSG_MAX / 8];

        for (;;) {
                struct pollfd fds[2] = { { .fd = s->fd, .events = POLLIN },
                                         { .fd = s->stop_fd, .events = POLLIN } };
                ssize_t n;

                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        mark_broken(s, errno);
                        break;
                }
                if (fds[1].revents)
                        break;
                while ((n = read(s->fd, buf, sizeof(buf))) > 0)
                        dispatch(s, buf, n);
                flush_writes(s);
                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                        mark_broken(s, errno);
                        break;
                }
                if (n == 0) {
                        mark_broken(s, ECONNRESET);
                        break;
                }
        }
        return NULL;
}

/* ---- barriers (main thread) ---- */

static int send_barrier(ZumaKernelSession *s, guint16 type, guint64 id, ZumaBarrierKind kind,
                        guint32 snapshot)
{
        struct zuma_msg_barrier m;

        zuma_msg_fill_header(&m.hdr, type, sizeof(m), id);
        m.kind = htole32(kind);
        m.snapshot = htole32(snapshot);
        return send_msg(s, &m, sizeof(m));
}

static int barrier_begin(gpointer user, ZumaBarrierKind kind, guint32 snapshot)
{
        ZumaKernelSession *s = user;
        gint64 deadline = g_get_monotonic_time() + BARRIER_WAIT_US;
        guint64 id;
        int r;

        g_mutex_lock(&s->barrier_lock);
        if (s->broken) {
                g_mutex_unlock(&s->barrier_lock);
                return -ENOTCONN;
        }
        id = s->barrier_id = ++s->next_id;
        s->barrier_ready = FALSE;
        g_mutex_unlock(&s->barrier_lock);

        r = send_barrier(s, ZUMA_MSG_BARRIER_BEGIN, id, kind, snapshot);
        g_mutex_lock(&s->barrier_lock);
        while (r == 0 && !s->barrier_ready && !s->broken)
                if (!g_cond_wait_until(&s->barrier_cond, &s->barrier_lock, deadline))
                        break;
        if (r == 0 && !s->barrier_ready)
                r = s->broken ? -ENOTCONN : -ETIMEDOUT;
        else if (r == 0 && s->barrier_status != 0)
                r = -(int)MIN(s->barrier_status, 4095u);
        g_mutex_unlock(&s->barrier_lock);
        if (r < 0) {
                g_warning("%s: the kernel did not drain its I/O for a barrier: %s", s->tag,
                          g_strerror(-r));
                /* Closed at once (with no READY the kernel closes it itself
                 * after twice its timeout, as a revert). */
                if (s->barrier_ready)
                        send_barrier(s, ZUMA_MSG_BARRIER_END, id, kind, snapshot);
                s->barrier_id = 0;
        }
        return r;
}

static void barrier_end(gpointer user, ZumaBarrierKind kind, guint32 snapshot)
{
        ZumaKernelSession *s = user;
        guint64 id;

        g_mutex_lock(&s->barrier_lock);
        id = s->barrier_id;
        s->barrier_id = 0;
        g_mutex_unlock(&s->barrier_lock);
        if (id != 0)
                send_barrier(s, ZUMA_MSG_BARRIER_END, id, kind, snapshot);
}

const ZumaEngineBarrier zuma_kernel_session_barrier = {
        .begin = barrier_begin,
        .end = barrier_end,
};

/* ---- the session's life ---- */

/* Reads HELLO_REPLY (the first message the kernel sends) and checks it. */
static gboolean read_hello_reply(ZumaKernelSession *s, GError **error)
{
        struct zuma_msg_hello_reply m;
        struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
        guint64 origin_size, store_size;
        ssize_t n;

        if (poll(&pfd, 1, HELLO_TIMEOUT_MS) <= 0 ||
            (n = read(s->fd, &m, sizeof(m))) != (ssize_t)sizeof(m) || check_msg(s, &m, n) ||
            le16toh(m.hdr.type) != ZUMA_MSG_HELLO_REPLY) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                            "the kernel did not answer HELLO for volume %s", s->tag);
                return FALSE;
        }
        if (le32toh(m.version) != ZUMA_PROTO_VERSION) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED,
                            "the kernel speaks protocol version %u, this server %u",
                            le32toh(m.version), ZUMA_PROTO_VERSION);
                return FALSE;
        }
        zuma_engine_get_device_sizes(s->engine, &origin_size, &store_size);
        if (le32toh(m.chunk_sectors) != 0 &&
            ((guint64)le32toh(m.chunk_sectors) * 512 != s->chunk_size ||
             le64toh(m.origin_sectors) * 512 != origin_size ||
             le64toh(m.store_sectors) * 512 > store_size)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the kernel's zumastor targets of volume %s have another geometry "
                            "(chunk %u sectors, origin %" G_GUINT64_FORMAT
                            " sectors) than its store; remove them (dmsetup remove)",
                            s->tag, le32toh(m.chunk_sectors), (guint64)le64toh(m.origin_sectors));
                return FALSE;
        }
        if (le32toh(m.pending) != 0)
                g_message("%s: the kernel has %u requests from an earlier session: answering them",
                          s->tag, le32toh(m.pending));
        return TRUE;
}

static gboolean say_hello(ZumaKernelSession *s, GError **error)
{
        struct zuma_msg_hello m;

        memset(&m, 0, sizeof(m));
        zuma_msg_fill_header(&m.hdr, ZUMA_MSG_HELLO, sizeof(m), 0);
        m.features = htole32(ZUMA_FEATURE_SNAPSHOT_WRITE);
        g_strlcpy(m.tag, s->tag, sizeof(m.tag));
        if (write(s->fd, &m, sizeof(m)) != (ssize_t)sizeof(m)) {
                int e = errno;

                g_set_error(error, ZUMA_ERROR, e == EBUSY ? ZUMA_ERROR_BUSY : ZUMA_ERROR_FAILED,
                            "the kernel refused a session for volume %s: %s", s->tag,
                            e == EBUSY ? "another server serves it" : g_strerror(e));
                return FALSE;
        }
        return read_hello_reply(s, error);
}

ZumaKernelSession *zuma_kernel_session_new_fd(int fd, const char *tag, ZumaEngine *engine,
                                              GError **error)
{
        ZumaKernelSession *s = g_new0(ZumaKernelSession, 1);

        s->tag = g_strdup(tag);
        s->engine = engine;
        s->chunk_size = zuma_engine_get_chunk_size(engine);
        s->fd = fd;
        s->stop_fd = -1;
        g_mutex_init(&s->answer_lock);
        g_mutex_init(&s->barrier_lock);
        g_cond_init(&s->barrier_cond);
        if (!say_hello(s, error)) {
                zuma_kernel_session_free(s);
                return NULL;
        }
        s->stop_fd = eventfd(0, EFD_CLOEXEC);
        s->writers = g_thread_pool_new(answer_write_group, s, WRITE_WORKERS, FALSE, NULL);
        s->pending = g_ptr_array_new_with_free_func(g_free);
        s->thread = g_thread_new("zuma-kernel", session_thread, s);
        return s;
}

ZumaKernelSession *zuma_kernel_session_new(const char *control_path, const char *tag,
                                           ZumaEngine *engine, GError **error)
{
        int fd = open(control_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

        if (fd < 0) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED,
                            "cannot open %s: %s (is the dm-zumastor module loaded?)", control_path,
                            g_strerror(errno));
                return NULL;
        }
        return zuma_kernel_session_new_fd(fd, tag, engine, error);
}

void zuma_kernel_session_free(ZumaKernelSession *s)
{
        if (!s)
                return;
        if (s->thread) {
                guint64 one = 1;

                if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
                        g_warning("%s: cannot wake the session thread", s->tag);
                g_thread_join(s->thread);
        }
        if (s->writers)
                g_thread_pool_free(s->writers, FALSE, TRUE); /* answers the queued ones */
        if (s->pending)
                g_ptr_array_unref(s->pending);
        if (s->fd >= 0)
                close(s->fd);
        if (s->stop_fd >= 0)
                close(s->stop_fd);
        g_mutex_clear(&s->answer_lock);
        g_mutex_clear(&s->barrier_lock);
        g_cond_clear(&s->barrier_cond);
        g_free(s->tag);
        g_free(s);
}

void zuma_kernel_session_get_stats(ZumaKernelSession *s, guint64 *ret_answered,
                                   guint64 *ret_refused)
{
        *ret_answered = (guint)g_atomic_int_get(&s->answered);
        *ret_refused = (guint)g_atomic_int_get(&s->refused);
}
