/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume's replication streams: send, receive and digest, each a
 * ZumaJob whose work runs on one worker thread while the job's steps on
 * the main loop only watch it (progress, end).  Stands on the job layer
 * (zuma-volume-jobs.h).
 *
 * Why a thread.  A stream moves a whole snapshot through a file
 * descriptor whose peer may be slow or stall; the engine's
 * ss_stream_send()/ss_stream_receive() are one call each.  The job's
 * main-loop steps cannot bound that work, so the call runs on a thread
 * of its own and the main thread keeps answering the bus.
 *
 * Locking.  The thread calls zuma_engine_stream_send/receive(), which hold
 * the engine's `lock` for the engine work and release it around every
 * read or write of the fd (zuma-engine.h says why that is safe), so a
 * stalled peer holds up neither origin writes nor the main thread.  Every
 * wait on the fd is a poll() that the job's cancellable ends
 * (zuma-stream-fd.h); a job ended for any reason (done, Cancel, the volume
 * stopping) joins its thread in its finish hook, before the volume may
 * close the engine.
 *
 * What a receive protects, from its start until its job ends:
 *  - the origin: zuma_engine_refuse_origin_writes() makes every origin
 *    write (the frontend's) answer Busy; Revert, Resize, CreateSnapshot
 *    and another receive answer Busy (volume_require_no_receive()); a
 *    receive into an origin whose device is open or mounted is refused up
 *    front (the stream writes underneath the page cache);
 *  - the base snapshot: held (Delete answers Busy) and pinned, so the full
 *    policy cannot auto-delete it; a pin the receive added is removed
 *    when it ends (one left by a kill -9 stays: visible as Pinned);
 *  - the snapshots: the engine creates the new one only after the
 *    trailer's digest matched the origin, and never touches the others.
 * A send holds its from- and to-snapshot the same way.
 *
 * Resume.  A receive first reads the stream's header (its own phase, on
 * the thread), so that the main thread knows the stream's identity
 * (to-name, to-ctime, from-name) before anything is written: it checks
 * the base, pins it, looks up the base's digest and, with the resume
 * option, the durable point of the same stream.  At every on_durable the
 * thread saves the point (zuma-stream-state.h); a completed stream
 * removes it; a failed one keeps it.
 *
 * Digests.  After a send or a receive the to-snapshot's digest (the
 * engine's stats) is kept in the digest cache and passed as from_digest
 * or base_digest to the next stream built on it, so an incremental stream
 * never reads its base in full.
 */
#define G_LOG_DOMAIN "zuma-volume"

#include "zuma-volume-jobs.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "stream-format.h"
#include "zuma-error.h"
#include "zuma-stream-fd.h"
#include "zuma-stream-state.h"

typedef enum {
        STREAM_SEND,
        STREAM_RECEIVE,
        STREAM_DIGEST,
} StreamKind;

typedef struct StreamJob {
        StreamKind kind;
        ZumaVolume *volume;
        ZumaEngine *engine; /* the volume's, open until the job ends */
        ZumaStreamFd io;    /* fd ours; cancellable ends every wait */
        GThread *thread;
        gint thread_done; /* atomic */
        /* What the thread left (read after the join). */
        int r;
        char *failure; /* what went wrong, the engine's sentence included */
        SsStreamStats stats;
        /* A send's chunks out and to go (SsStreamProgressFn), under
         * progress_lock: the thread writes, the job's step reads. */
        GMutex progress_lock;
        guint64 chunks_done, chunks_total;
        /* Held snapshot ids (released when the job ends). */
        GArray *held;
        /* send and digest: the snapshot whose digest the job learns */
        guint32 from_id, to_id;
        char to_name[SS_NAME_MAX + 1];
        gint64 to_ctime;
        gboolean have_from_digest;
        SsStreamDigest from_digest;
        ZumaStreamSendOptions send;
        /* receive */
        ZumaStreamReceiveOptions receive;
        gboolean header_read; /* the header phase is over */
        guint8 header[SS_STREAM_HEADER_SIZE];
        gsize header_served;
        gboolean have_base_digest;
        SsStreamDigest base_digest;
        ZumaReceivePoint point;
        char *state_dir, *volume_uuid; /* copies, for the thread */
        guint32 pinned_base;           /* 0, or the base this job pinned */
        SsSnapshotInfo received;
} StreamJob;

static const char *volume_name(StreamJob *s)
{
        return s->volume->config->name;
}

static void hold(StreamJob *s, guint32 id)
{
        volume_hold_snapshot(s->volume, id);
        g_array_append_val(s->held, id);
}

static void thread_failed(StreamJob *s, int r, const char *what)
{
        s->r = r;
        if (s->failure)
                return;
        if (r == -ECANCELED)
                s->failure = g_strdup_printf("%s: cancelled", what);
        else if (s->io.failed == r)
                s->failure = g_strdup_printf("%s: the stream's file descriptor: %s%s", what,
                                             g_strerror(-r),
                                             r == -EPIPE ? " (the reader closed it)" : "");
        else
                s->failure = g_strdup_printf("%s: %s", what, ss_last_error());
}

/* --- the worker threads --- */

static void send_progress(void *user, uint64_t done, uint64_t total)
{
        StreamJob *s = user;

        g_mutex_lock(&s->progress_lock);
        s->chunks_done = done;
        s->chunks_total = total;
        g_mutex_unlock(&s->progress_lock);
}

static gpointer send_thread(gpointer data)
{
        StreamJob *s = data;
        SsStreamSendOptions options = {
                .write = zuma_stream_fd_write,
                .user = &s->io,
                .zstd_level = s->send.zstd_level,
                .resume = s->send.resume,
                .resume_after = s->send.resume_after,
                .resume_every_records = s->send.resume_every_records,
                .from_digest = s->have_from_digest ? &s->from_digest : NULL,
                .progress = send_progress,
                .progress_user = s,
        };
        int r = zuma_engine_stream_send(s->engine, s->from_id, s->to_id, &options, &s->stats);

        if (r < 0)
                thread_failed(s, r, "cannot send the stream");
        g_atomic_int_set(&s->thread_done, 1);
        return NULL;
}

static gpointer header_thread(gpointer data)
{
        StreamJob *s = data;
        gsize got = 0;

        while (got < sizeof(s->header)) {
                int n = zuma_stream_fd_read(&s->io, s->header + got, sizeof(s->header) - got);

                if (n < 0) {
                        s->r = n;
                        s->failure =
                                g_strdup_printf("cannot read the stream header: %s",
                                                n == -ECANCELED ? "cancelled" : g_strerror(-n));
                        break;
                }
                if (n == 0) {
                        s->r = -EBADMSG;
                        s->failure = g_strdup_printf(
                                "stream is truncated: it ended after %" G_GSIZE_FORMAT
                                " bytes of its %u-byte header",
                                got, (unsigned)SS_STREAM_HEADER_SIZE);
                        break;
                }
                got += (gsize)n;
        }
        g_atomic_int_set(&s->thread_done, 1);
        return NULL;
}

/* The stream as the engine reads it: the header read already, then the fd. */
static int read_after_header(void *user, void *buf, size_t len)
{
        StreamJob *s = user;

        if (s->header_served < sizeof(s->header)) {
                size_t n = MIN(len, sizeof(s->header) - s->header_served);

                memcpy(buf, s->header + s->header_served, n);
                s->header_served += n;
                return (int)n;
        }
        return zuma_stream_fd_read(&s->io, buf, len);
}

static int save_durable_point(void *user, uint64_t last_index, uint64_t records)
{
        StreamJob *s = user;
        g_autoptr(GError) error = NULL;

        s->point.last_index = last_index;
        s->point.records = records;
        if (zuma_receive_point_save(s->state_dir, s->volume_uuid, &s->point, &error))
                return 0;
        g_free(s->failure);
        s->failure = g_strdup_printf("cannot keep the stream's resume point: %s", error->message);
        return -EIO;
}

static gpointer receive_thread(gpointer data)
{
        StreamJob *s = data;
        SsStreamReceiveOptions options = {
                .read = read_after_header,
                .user = s,
                .resume = s->receive.resume,
                .resume_after = s->receive.resume ? s->point.last_index : 0,
                .on_durable = save_durable_point,
                .durable_user = s,
                .base_digest = s->have_base_digest ? &s->base_digest : NULL,
        };
        int r = zuma_engine_stream_receive(s->engine, &options, &s->stats, &s->received);

        if (r < 0)
                thread_failed(s, r, "cannot apply the stream");
        g_atomic_int_set(&s->thread_done, 1);
        return NULL;
}

static gpointer digest_thread(gpointer data)
{
        StreamJob *s = data;
        int r = zuma_engine_snapshot_digest(s->engine, s->to_id, &s->stats.digest);

        if (r < 0)
                thread_failed(s, r, "cannot compute the digest");
        g_atomic_int_set(&s->thread_done, 1);
        return NULL;
}

static void start_thread(StreamJob *s, GThreadFunc func)
{
        g_atomic_int_set(&s->thread_done, 0);
        s->thread = g_thread_new("zuma-stream", func, s);
}

static void join_thread(StreamJob *s)
{
        if (s->thread)
                g_thread_join(g_steal_pointer(&s->thread));
}

/* --- the job --- */

static StreamJob *stream_job_new(ZumaVolume *self, StreamKind kind, int fd)
{
        StreamJob *s = g_new0(StreamJob, 1);

        s->kind = kind;
        s->volume = g_object_ref(self);
        s->engine = self->engine;
        s->io.fd = fd;
        s->io.cancellable = g_cancellable_new();
        s->held = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_mutex_init(&s->progress_lock);
        s->state_dir = g_strdup(self->host->replication_dir);
        s->volume_uuid = g_strdup(self->config->uuid);
        return s;
}

static void stream_job_free(gpointer data)
{
        StreamJob *s = data;

        g_assert(!s->thread);
        if (s->io.fd >= 0)
                close(s->io.fd);
        g_object_unref(s->io.cancellable);
        g_array_unref(s->held);
        g_mutex_clear(&s->progress_lock);
        g_free(s->failure);
        g_free(s->state_dir);
        g_free(s->volume_uuid);
        g_object_unref(s->volume);
        g_free(s);
}

static void keep_digest(StreamJob *s, const char *name, gint64 ctime, const SsStreamDigest *digest)
{
        g_autoptr(GError) error = NULL;

        if (!zuma_digest_cache_store(s->state_dir, s->volume_uuid, name, ctime, digest, &error))
                g_warning("volume %s: cannot keep the digest of snapshot %s: %s", volume_name(s),
                          name, error->message);
}

static gboolean start_apply(StreamJob *s, GError **error);

/* The thread is done and succeeded: what is left on the main thread. */
static gboolean stream_done(StreamJob *s, gboolean *ret_finished, GError **error)
{
        ZumaVolume *self = s->volume;
        g_autoptr(GError) local = NULL;

        if (s->kind == STREAM_RECEIVE && !s->header_read)
                return start_apply(s, error);
        switch (s->kind) {
        case STREAM_SEND:
        case STREAM_DIGEST:
                keep_digest(s, s->to_name, s->to_ctime, &s->stats.digest);
                break;
        case STREAM_RECEIVE:
                volume_add_created_snapshot(self, &s->received);
                keep_digest(s, s->received.name, s->received.ctime, &s->stats.digest);
                if (!zuma_receive_point_remove(s->state_dir, s->volume_uuid, &local))
                        g_warning("volume %s: %s", volume_name(s), local->message);
                break;
        }
        if (s->kind != STREAM_DIGEST) {
                self->last_stream_stats = s->stats;
                self->has_last_stream_stats = TRUE;
                g_message("volume %s: stream of %s %s: %" G_GUINT64_FORMAT
                          " chunk records, %" G_GUINT64_FORMAT " zero chunks, %" G_GUINT64_FORMAT
                          " bytes",
                          volume_name(s), s->kind == STREAM_SEND ? s->to_name : s->received.name,
                          s->kind == STREAM_SEND ? "sent" : "received", s->stats.chunk_records,
                          s->stats.zero_chunks, s->stats.bytes);
        }
        *ret_finished = TRUE;
        return TRUE;
}

static gboolean stream_step(ZumaJob *job, gpointer data, gboolean *ret_finished, GError **error)
{
        StreamJob *s = data;

        if (s->kind == STREAM_SEND) {
                /* Exact: the chunk bytes out of those the stream carries. */
                guint64 chunk_size = s->volume->config->chunk_size;

                g_mutex_lock(&s->progress_lock);
                zuma_job_set_progress(job, s->chunks_done * chunk_size,
                                      s->chunks_total * chunk_size);
                g_mutex_unlock(&s->progress_lock);
        } else {
                zuma_job_set_progress(job, zuma_stream_fd_get_bytes(&s->io), 0);
        }
        if (!g_atomic_int_get(&s->thread_done))
                return TRUE;
        join_thread(s);
        if (s->r < 0) {
                zuma_error_set_errno(error, s->r, "volume %s: %s", volume_name(s), s->failure);
                return FALSE;
        }
        return stream_done(s, ret_finished, error);
}

/* Any end: the thread stopped and joined, holds released, the origin
 * writable again. */
static void stream_finish(ZumaJob *job, gpointer data, const GError *error)
{
        StreamJob *s = data;
        ZumaVolume *self = s->volume;

        g_cancellable_cancel(s->io.cancellable);
        join_thread(s);
        for (guint i = 0; i < s->held->len; i++)
                volume_release_snapshot(self, g_array_index(s->held, guint32, i));
        g_array_set_size(s->held, 0);
        if (s->kind != STREAM_RECEIVE)
                return;
        if (s->pinned_base && self->state == VOLUME_RUNNING) {
                g_autoptr(GError) local = NULL;

                if (!zuma_volume_set_snapshot_pinned(self, s->pinned_base, FALSE, &local))
                        g_warning("volume %s: cannot unpin the stream's base again: %s",
                                  volume_name(s), local->message);
        }
        zuma_engine_refuse_origin_writes(s->engine, FALSE);
        if (self->receive_job == job)
                self->receive_job = NULL;
}

static const ZumaJobOps stream_ops = {
        .step = stream_step,
        .finish = stream_finish,
        .free_data = stream_job_free,
        .step_interval_ms = ZUMA_JOB_WATCH_INTERVAL_MS,
};

static char *start_job(StreamJob *s, const char *operation, GThreadFunc func)
{
        g_autoptr(ZumaJob) job = volume_add_job(s->volume, operation, TRUE, &stream_ops, s);

        if (s->kind == STREAM_RECEIVE) {
                s->volume->receive_job = job;
                zuma_engine_refuse_origin_writes(s->engine, TRUE);
        }
        start_thread(s, func);
        zuma_job_start(job);
        return g_strdup(zuma_job_get_object_path(job));
}

/* --- send --- */

gboolean zuma_volume_send_stream(ZumaVolume *self, const char *from_name, const char *to_name,
                                 int fd, const ZumaStreamSendOptions *options, char **ret_job,
                                 GError **error)
{
        ZumaSnapshotRecord *from = NULL, *to;
        StreamJob *s;
        int copy;

        if (!volume_check_job_possible(self, error))
                return FALSE;
        to = volume_find_snapshot(self, to_name, error);
        if (!to)
                return FALSE;
        if (from_name) {
                from = volume_find_snapshot(self, from_name, error);
                if (!from)
                        return FALSE;
                if (snapshot_record_id(from) >= snapshot_record_id(to)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "volume %s: snapshot %s is not older than %s, so no stream "
                                    "goes from it to %s",
                                    self->config->name, from_name, to_name, to_name);
                        return FALSE;
                }
        }
        if (options->zstd_level < 0 || options->zstd_level > 19) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "zstd level %d is out of range (0 for none, 1..19)",
                            options->zstd_level);
                return FALSE;
        }
        copy = zuma_stream_fd_take(fd, ZUMA_STREAM_FD_WRITE, error);
        if (copy < 0)
                return FALSE;
        s = stream_job_new(self, STREAM_SEND, copy);
        s->send = *options;
        s->to_id = snapshot_record_id(to);
        g_strlcpy(s->to_name, to_name, sizeof(s->to_name));
        s->to_ctime = to->info.ctime;
        hold(s, s->to_id);
        if (from) {
                s->from_id = snapshot_record_id(from);
                hold(s, s->from_id);
                s->have_from_digest = zuma_digest_cache_lookup(
                        s->state_dir, s->volume_uuid, from_name, from->info.ctime, &s->from_digest);
        }
        *ret_job = start_job(s, "send-stream", send_thread);
        g_message("volume %s: sending %s%s%s%s (job %s)", self->config->name,
                  from ? "the changes from " : "snapshot ", from ? from_name : "",
                  from ? " to " : "", to_name, *ret_job);
        return TRUE;
}

/* --- receive --- */

gboolean zuma_volume_receive_stream(ZumaVolume *self, int fd,
                                    const ZumaStreamReceiveOptions *options, char **ret_job,
                                    GError **error)
{
        ZumaFrontend *frontend = volume_frontend(self);
        StreamJob *s;
        int copy;

        if (!volume_check_job_possible(self, error))
                return FALSE;
        if (!volume_require_no_revert(self, "receive the stream", error) ||
            !volume_require_no_receive(self, "receive another", error))
                return FALSE;
        if (frontend && self->frontend_added &&
            zuma_frontend_is_busy(frontend, self->config->name, SS_ORIGIN_ID)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                            "volume %s: origin device %s is open or mounted; a stream rewrites "
                            "the origin underneath it (unmount it first)",
                            self->config->name, self->device);
                return FALSE;
        }
        copy = zuma_stream_fd_take(fd, ZUMA_STREAM_FD_READ, error);
        if (copy < 0)
                return FALSE;
        s = stream_job_new(self, STREAM_RECEIVE, copy);
        s->receive = *options;
        *ret_job = start_job(s, "receive-stream", header_thread);
        g_message("volume %s: receiving a stream (job %s)", self->config->name, *ret_job);
        return TRUE;
}

/* Main thread, the header read: the checks that need the volume, then the
 * thread that applies the stream. */
static gboolean start_apply(StreamJob *s, GError **error)
{
        ZumaVolume *self = s->volume;
        gboolean incremental;
        ZumaReceivePoint kept;
        gboolean found;
        SsStreamHeader h;
        int r;

        s->header_read = TRUE;
        r = ss_stream_header_decode(s->header, sizeof(s->header), &h);
        if (r < 0) {
                zuma_error_set_errno(error, r, "volume %s: stream refused: %s", volume_name(s),
                                     ss_last_error());
                return FALSE;
        }
        incremental = (h.flags & SS_STREAM_INCREMENTAL) != 0;
        g_strlcpy(s->point.to_name, h.to.name, sizeof(s->point.to_name));
        s->point.to_ctime = h.to.ctime;
        g_strlcpy(s->point.from_name, incremental ? h.from.name : "", sizeof(s->point.from_name));
        if (incremental) {
                ZumaSnapshotRecord *base = volume_find_snapshot(self, h.from.name, NULL);

                if (!base || base->info.ctime != h.from.ctime) {
                        g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc(h.from.ctime);
                        g_autofree char *created =
                                when ? g_date_time_format_iso8601(when)
                                     : g_strdup_printf("%" G_GINT64_FORMAT, h.from.ctime);

                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                                    "volume %s has no snapshot %s created %s, the base of stream "
                                    "%s: send a full stream, or one from a snapshot both sides "
                                    "hold",
                                    volume_name(s), h.from.name, created, h.to.name);
                        return FALSE;
                }
                hold(s, snapshot_record_id(base));
                if (!(base->info.flags & SS_SNAP_PINNED)) {
                        if (!zuma_volume_set_snapshot_pinned(self, snapshot_record_id(base), TRUE,
                                                             error))
                                return FALSE;
                        s->pinned_base = snapshot_record_id(base);
                }
                s->have_base_digest = zuma_digest_cache_lookup(
                        s->state_dir, s->volume_uuid, h.from.name, h.from.ctime, &s->base_digest);
        }
        if (s->receive.resume) {
                zuma_receive_point_load(s->state_dir, s->volume_uuid, &kept, &found);
                if (!found || !zuma_receive_point_matches(&kept, s->point.to_name,
                                                          s->point.to_ctime, s->point.from_name)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "volume %s holds no resume point of stream %s (%s%s): start "
                                    "it from scratch",
                                    volume_name(s), s->point.to_name,
                                    incremental ? "from " : "full", s->point.from_name);
                        return FALSE;
                }
                s->point.last_index = kept.last_index;
                s->point.records = kept.records;
        }
        start_thread(s, receive_thread);
        return TRUE;
}

gboolean zuma_volume_receive_resume_point(ZumaVolume *self, const char *to_name, gint64 to_ctime,
                                          const char *from_name, gboolean *ret_resumable,
                                          guint64 *ret_resume_after, GError **error)
{
        ZumaReceivePoint point;
        gboolean found;

        if (!volume_require_known(self, error))
                return FALSE;
        if (!self->config->uuid[0]) {
                *ret_resumable = FALSE;
                *ret_resume_after = 0;
                return TRUE;
        }
        zuma_receive_point_load(self->host->replication_dir, self->config->uuid, &point, &found);
        *ret_resumable = found && zuma_receive_point_matches(&point, to_name, to_ctime, from_name);
        *ret_resume_after = *ret_resumable ? point.last_index : 0;
        return TRUE;
}

/* --- digest --- */

gboolean zuma_volume_snapshot_digest(ZumaVolume *self, const char *name, gboolean *ret_known,
                                     SsStreamDigest *ret_digest, char **ret_job, GError **error)
{
        ZumaSnapshotRecord *snapshot = volume_find_snapshot_to_read(self, name, error);
        StreamJob *s;

        if (!snapshot)
                return FALSE;
        if (zuma_digest_cache_lookup(self->host->replication_dir, self->config->uuid, name,
                                     snapshot->info.ctime, ret_digest)) {
                *ret_known = TRUE;
                *ret_job = NULL;
                return TRUE;
        }
        if (!volume_check_job_possible(self, error))
                return FALSE;
        s = stream_job_new(self, STREAM_DIGEST, -1);
        s->to_id = snapshot_record_id(snapshot);
        g_strlcpy(s->to_name, name, sizeof(s->to_name));
        s->to_ctime = snapshot->info.ctime;
        hold(s, s->to_id);
        *ret_known = FALSE;
        *ret_job = start_job(s, "digest", digest_thread);
        return TRUE;
}

gboolean zuma_volume_get_last_stream_stats(ZumaVolume *self, SsStreamStats *ret_stats)
{
        if (!self->has_last_stream_stats)
                return FALSE;
        *ret_stats = self->last_stream_stats;
        return TRUE;
}
