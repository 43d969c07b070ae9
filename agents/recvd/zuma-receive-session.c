/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-recvd"

#include "zuma-receive-session.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <unistd.h>

#include "zuma-error.h"
#include "zuma-name-rule.h"
#include "zuma-receiver.h"
#include "zuma-replica-prune.h"
#include "zuma-repl-wire.h"
#include "zuma-server-client.h"
#include "zuma-server-stream.h"
#include "zuma-source.h"

/* How long the server may take to end a receive job once its stream is
 * complete (the digest check and the snapshot's commit), or to compute a
 * digest for verify (it reads the whole snapshot). */
#define RECEIVE_END_TIMEOUT_MS (10 * 60 * 1000)
#define DIGEST_TIMEOUT_MS (60 * 60 * 1000)
/* How long a refused sender's data is still read (drain()). */
#define DRAIN_US (3 * G_USEC_PER_SEC)

typedef struct {
        ZumaReceiveSession *session;
        GInputStream *in;
        GOutputStream *out;
        ZumaSource *source;
        ZumaServerVolume *volume; /* the local volume, as listed at HELLO */
        guint64 bytes;            /* stream bytes received */
} Session;

static GVariant *snapshot_list(const ZumaServerVolume *volume)
{
        GVariantBuilder list = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a(sx)"));

        for (guint i = 0; i < volume->snapshots->len; i++) {
                const ZumaServerSnapshot *s = g_ptr_array_index(volume->snapshots, i);

                g_variant_builder_add(&list, "(sx)", s->name, (gint64)s->creation_time);
        }
        return g_variant_builder_end(&list);
}

static const ZumaServerSnapshot *find_snapshot(const ZumaServerVolume *volume, const char *name)
{
        for (guint i = 0; i < volume->snapshots->len; i++) {
                const ZumaServerSnapshot *s = g_ptr_array_index(volume->snapshots, i);

                if (g_str_equal(s->name, name))
                        return s;
        }
        return NULL;
}

/* The local volume of the source, fresh from the server. */
static ZumaServerVolume *local_volume(Session *s, GError **error)
{
        g_autoptr(GPtrArray) volumes = zuma_server_list_volumes(s->session->connection, error);
        ZumaServerVolume *volume = NULL;

        if (!volumes)
                return NULL;
        for (guint i = 0; i < volumes->len && !volume; i++) {
                const ZumaServerVolume *v = g_ptr_array_index(volumes, i);

                if (g_ascii_strcasecmp(v->uuid, s->source->uuid) == 0)
                        volume = g_ptr_array_steal_index(volumes, i);
        }
        if (!volume) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "volume %s (%s) is not defined on this host", s->source->volume_name,
                            s->source->uuid);
                return NULL;
        }
        if (!g_str_equal(volume->state, "running")) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING,
                            "volume %s is %s on this host", volume->name, volume->state);
                zuma_server_volume_free(volume);
                return NULL;
        }
        return volume;
}

static gboolean greet(Session *s, char **ret_purpose, GError **error)
{
        g_autoptr(GVariant) hello = NULL;
        const char *uuid = NULL, *purpose = NULL;
        guint32 protocol = 0;

        if (!zuma_wire_expect(s->in, ZUMA_WIRE_HELLO, &hello, s->session->cancellable, error))
                return FALSE;
        if (!g_variant_lookup(hello, "protocol", "u", &protocol) ||
            protocol != ZUMA_WIRE_PROTOCOL_VERSION) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED,
                            "protocol %u is not supported (this receiver speaks %u)", protocol,
                            ZUMA_WIRE_PROTOCOL_VERSION);
                return FALSE;
        }
        if (!g_variant_lookup(hello, "volume", "&s", &uuid) ||
            !g_variant_lookup(hello, "purpose", "&s", &purpose) ||
            (!g_str_equal(purpose, "replicate") && !g_str_equal(purpose, "verify"))) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "HELLO needs volume (s) and purpose (\"replicate\" or "
                                    "\"verify\")");
                return FALSE;
        }
        s->source = zuma_receiver_admit(s->session->receiver, s->session, uuid, error);
        if (!s->source)
                return FALSE;
        s->volume = local_volume(s, error);
        if (!s->volume)
                return FALSE;
        *ret_purpose = g_strdup(purpose);
        return zuma_wire_write(
                s->out, ZUMA_WIRE_WELCOME,
                g_variant_new_parsed("{'snapshots': <%@a(sx)>}", snapshot_list(s->volume)),
                s->session->cancellable, error);
}

static gboolean serve_verify(Session *s, GError **error)
{
        for (;;) {
                g_autoptr(GVariant) ask = NULL;
                g_autoptr(GError) local = NULL;
                g_autofree char *digest = NULL;
                const char *name = NULL;
                const ZumaServerSnapshot *snapshot;
                gint64 ctime = 0;

                if (!zuma_wire_expect(s->in, ZUMA_WIRE_VERIFY, &ask, s->session->cancellable,
                                      &local)) {
                        if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
                                return TRUE; /* the sender is done asking */
                        g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
                if (!g_variant_lookup(ask, "name", "&s", &name) ||
                    !g_variant_lookup(ask, "ctime", "x", &ctime)) {
                        g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                            "VERIFY needs name (s) and ctime (x)");
                        return FALSE;
                }
                snapshot = find_snapshot(s->volume, name);
                if (!snapshot || (gint64)snapshot->creation_time != ctime)
                        local = g_error_new(ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                                            "the target has no snapshot %s of that time", name);
                else
                        zuma_server_snapshot_digest(s->session->connection, s->volume->path, name,
                                                    DIGEST_TIMEOUT_MS, &digest, &local);
                if (!zuma_wire_write(s->out, ZUMA_WIRE_DIGEST,
                                     g_variant_new_parsed("{'found': <%b>, 'digest': <%s>, "
                                                          "'error': <%s>}",
                                                          digest != NULL, digest ? digest : "",
                                                          local ? local->message : ""),
                                     s->session->cancellable, error))
                        return FALSE;
        }
}

typedef struct {
        const char *to, *from, *volume_name;
        gint64 to_ctime, from_ctime;
        GVariant *keep;
} SendRequest;

static gboolean read_send_request(GVariant *send, SendRequest *r, GError **error)
{
        if (!g_variant_lookup(send, "to", "&s", &r->to) ||
            !g_variant_lookup(send, "to_ctime", "x", &r->to_ctime) ||
            !g_variant_lookup(send, "from", "&s", &r->from) ||
            !g_variant_lookup(send, "from_ctime", "x", &r->from_ctime) ||
            !g_variant_lookup(send, "volume_name", "&s", &r->volume_name)) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "SEND needs to (s), to_ctime (x), from (s), from_ctime (x) "
                                    "and volume_name (s)");
                return FALSE;
        }
        r->keep = g_variant_lookup_value(send, "keep", G_VARIANT_TYPE("a{su}"));
        if (!zuma_snapshot_name_valid(r->to) ||
            (r->from[0] && !zuma_snapshot_name_valid(r->from))) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "SEND: a snapshot name breaks the name rule");
                return FALSE;
        }
        return TRUE;
}

/* Checks the stream the sender asks for against the local volume: the
 * base must be here with the same creation time, the new snapshot not. */
static gboolean check_send_request(Session *s, const SendRequest *r, GError **error)
{
        const ZumaServerSnapshot *base = r->from[0] ? find_snapshot(s->volume, r->from) : NULL;

        if (find_snapshot(s->volume, r->to)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ALREADY_EXISTS,
                            "the target holds snapshot %s already", r->to);
                return FALSE;
        }
        if (r->from[0] && (!base || (gint64)base->creation_time != r->from_ctime)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "the target has no snapshot %s of that time to apply the "
                            "incremental stream to: send a full stream",
                            r->from);
                return FALSE;
        }
        return TRUE;
}

/* DATA frames into the pipe until END.  FALSE with error when the peer
 * breaks off or misbehaves; *ret_pipe_closed when the server's job
 * stopped reading (it failed: its own error says why). */
static gboolean pump_data(Session *s, GOutputStream *pipe_out, gboolean *ret_pipe_closed,
                          GError **error)
{
        gint64 last_report = 0;

        for (;;) {
                g_auto(ZumaWireFrame) frame = { 0 };
                g_autoptr(GError) local = NULL;
                gsize len = 0;
                const void *data;

                if (!zuma_wire_read(s->in, &frame, s->session->cancellable, error))
                        return FALSE;
                if (frame.type == ZUMA_WIRE_END)
                        return TRUE;
                if (frame.type != ZUMA_WIRE_DATA) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                    "expected DATA or END, the sender sent %s",
                                    zuma_wire_type_name(frame.type));
                        return FALSE;
                }
                data = g_bytes_get_data(frame.data, &len);
                if (!g_output_stream_write_all(pipe_out, data, len, NULL, s->session->cancellable,
                                               &local)) {
                        if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE)) {
                                *ret_pipe_closed = TRUE;
                                return TRUE;
                        }
                        g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
                s->bytes += len;
                if (g_get_monotonic_time() - last_report > G_USEC_PER_SEC) {
                        last_report = g_get_monotonic_time();
                        zuma_receiver_report_progress(s->session->receiver, s->source->uuid,
                                                      s->bytes);
                }
        }
}

/* Deletes what the target's retention says may go, now that r->to is in. */
static void prune(Session *s, const SendRequest *r)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(ZumaServerVolume) volume = NULL;
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        g_auto(GStrv) doomed = NULL;

        if (!r->keep || g_variant_n_children(r->keep) == 0)
                return;
        volume = local_volume(s, &error);
        if (!volume) {
                g_warning("volume %s: no retention after receiving %s: %s", s->source->volume_name,
                          r->to, error->message);
                return;
        }
        for (guint i = 0; i < volume->snapshots->len; i++)
                g_ptr_array_add(
                        names,
                        ((ZumaServerSnapshot *)g_ptr_array_index(volume->snapshots, i))->name);
        doomed = zuma_replica_prune(r->volume_name, (const char *const *)names->pdata, names->len,
                                    r->keep, r->to);
        if (!doomed[0])
                return;
        if (!zuma_server_delete_snapshots(s->session->connection, volume,
                                          (const char *const *)doomed, &error))
                g_warning("volume %s: retention could not delete %u snapshots: %s", volume->name,
                          g_strv_length(doomed), error->message);
        else
                g_message("volume %s: retention deleted %u snapshots", volume->name,
                          g_strv_length(doomed));
}

static gboolean serve_replicate(Session *s, GError **error)
{
        g_autoptr(GVariant) send = NULL;
        g_autoptr(GOutputStream) pipe_out = NULL;
        g_autoptr(GError) pump_error = NULL;
        g_autoptr(GError) job_error = NULL;
        g_autofree char *job = NULL, *digest = NULL;
        SendRequest r = { 0 };
        gboolean resumable = FALSE, pipe_closed = FALSE, pumped;
        guint64 resume_after = 0;
        int fds[2];

        if (!zuma_wire_expect(s->in, ZUMA_WIRE_SEND, &send, s->session->cancellable, error) ||
            !read_send_request(send, &r, error) || !check_send_request(s, &r, error))
                goto fail;
        if (!zuma_server_receive_resume_point(s->session->connection, s->volume->path, r.to,
                                              r.to_ctime, r.from, &resumable, &resume_after, error))
                goto fail;
        if (g_unix_open_pipe(fds, FD_CLOEXEC, error) == FALSE)
                goto fail;
        if (!zuma_server_receive_stream(s->session->connection, s->volume->path, fds[0], resumable,
                                        &job, error)) {
                close(fds[0]);
                close(fds[1]);
                goto fail;
        }
        close(fds[0]);
        pipe_out = g_unix_output_stream_new(fds[1], TRUE);
        zuma_receiver_report_start(s->session->receiver, s->source->uuid, s->session->peer);
        g_message("volume %s: receiving %s%s%s from %s%s", s->source->volume_name, r.to,
                  r.from[0] ? " over " : " (full)", r.from, s->session->peer,
                  resumable ? " (resumed)" : "");
        if (!zuma_wire_write(s->out, ZUMA_WIRE_READY,
                             g_variant_new_parsed("{'resume': <%b>, 'resume_after': <%t>}",
                                                  resumable, resume_after),
                             s->session->cancellable, error)) {
                zuma_server_cancel_job(s->session->connection, job);
                goto fail;
        }

        pumped = pump_data(s, pipe_out, &pipe_closed, &pump_error);
        /* End of stream for the job: complete, or cut short. */
        g_output_stream_close(pipe_out, NULL, NULL);
        if (!zuma_server_wait_job(s->session->connection, job, "receive", RECEIVE_END_TIMEOUT_MS,
                                  &job_error)) {
                /* The peer's fault comes first: the job only saw a
                 * truncated stream. */
                if (!pumped)
                        g_propagate_prefixed_error(error, g_steal_pointer(&pump_error),
                                                   "the connection broke after %" G_GUINT64_FORMAT
                                                   " stream bytes: ",
                                                   s->bytes);
                else
                        g_propagate_error(error, g_steal_pointer(&job_error));
                goto fail;
        }
        /* The job succeeded: it had the whole stream, trailer included,
         * whatever became of the connection after it. */
        zuma_server_snapshot_digest(s->session->connection, s->volume->path, r.to,
                                    DIGEST_TIMEOUT_MS, &digest, NULL);
        zuma_receiver_report_end(s->session->receiver, s->source->uuid, r.to, r.to_ctime, s->bytes,
                                 NULL);
        g_message("volume %s: received %s (%" G_GUINT64_FORMAT " stream bytes)",
                  s->source->volume_name, r.to, s->bytes);
        prune(s, &r);
        g_clear_pointer(&r.keep, g_variant_unref);
        return zuma_wire_write(s->out, ZUMA_WIRE_RESULT,
                               g_variant_new_parsed("{'ok': <true>, 'snapshot': <%s>, "
                                                    "'digest': <%s>, 'error': <''>}",
                                                    r.to, digest ? digest : ""),
                               s->session->cancellable, error);
fail:
        g_clear_pointer(&r.keep, g_variant_unref);
        return FALSE;
}

/* After ERROR: what the sender still sends is read and dropped, a few
 * seconds at most, so that closing does not reset the connection under
 * the ERROR before the sender has read it (a sender looks for it between
 * DATA frames). */
static void drain(Session *s)
{
        g_autofree guint8 *buf = g_malloc(64 * 1024);
        gint64 deadline = g_get_monotonic_time() + DRAIN_US;

        g_socket_set_timeout(s->session->socket, DRAIN_US / G_USEC_PER_SEC);
        while (g_get_monotonic_time() < deadline &&
               g_input_stream_read(s->in, buf, 64 * 1024, s->session->cancellable, NULL) > 0)
                ;
}

void zuma_receive_session_run(ZumaReceiveSession *session)
{
        Session s = {
                .session = session,
                .in = g_io_stream_get_input_stream(session->io),
                .out = g_io_stream_get_output_stream(session->io),
        };
        g_autoptr(GError) error = NULL;
        g_autofree char *purpose = NULL;
        gboolean replicating = FALSE;

        if (greet(&s, &purpose, &error)) {
                replicating = g_str_equal(purpose, "replicate");
                if (replicating)
                        serve_replicate(&s, &error);
                else
                        serve_verify(&s, &error);
        }
        if (error) {
                g_message("%s%s%s: %s", session->peer, s.source ? ", volume " : "",
                          s.source ? s.source->volume_name : "", error->message);
                /* Tell the sender why, if it still listens. */
                if (zuma_wire_write_error(s.out, error->message, session->cancellable, NULL))
                        drain(&s);
                if (s.source && replicating)
                        zuma_receiver_report_end(session->receiver, s.source->uuid, NULL, 0,
                                                 s.bytes, error->message);
        }
        g_io_stream_close(session->io, NULL, NULL);
        zuma_source_free(s.source);
        if (s.volume)
                zuma_server_volume_free(s.volume);
}

void zuma_receive_session_free(ZumaReceiveSession *session)
{
        if (!session)
                return;
        g_clear_object(&session->connection);
        g_clear_object(&session->io);
        g_clear_object(&session->socket);
        g_free(session->peer);
        g_clear_object(&session->peer_certificate);
        g_clear_object(&session->cancellable);
        g_free(session->volume_uuid);
        g_free(session);
}
