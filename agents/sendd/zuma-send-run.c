/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-sendd"

#include "zuma-send-run.h"

#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <unistd.h>

#include "zuma-error.h"
#include "zuma-names.h"
#include "zuma-repl-tls.h"
#include "zuma-repl-wire.h"
#include "zuma-send-plan.h"
#include "zuma-server-client.h"
#include "zuma-server-stream.h"
#include "zuma-token-bucket.h"

/* How long the server's send job may take to end once its stream is out,
 * the receiver to answer END (its digest check and commit), and either
 * side to compute a digest for verify (it reads the whole snapshot). */
#define SEND_END_TIMEOUT_MS (10 * 60 * 1000)
#define DIGEST_TIMEOUT_MS (60 * 60 * 1000)
#define PROGRESS_POLL_US (G_USEC_PER_SEC / 2)

typedef struct {
        ZumaSendRun *run;
        GIOStream *io;
        GIOStream *tcp;   /* under io over TLS, NULL over ssh */
        GSubprocess *ssh; /* the ssh transport's child, NULL over TLS */
        GInputStream *in;
        GOutputStream *out;
        ZumaServerVolume *volume;
        gint64 started_us; /* for the timing lines */
} Run;

/* A debug line per phase of a run, with the time since it started: where
 * a run's time goes, from the log alone. */
static void phase(const Run *r, const char *what)
{
        g_debug("to %s: %s after %.3f s", r->run->target->name, what,
                (double)(g_get_monotonic_time() - r->started_us) / G_USEC_PER_SEC);
}

ZumaSendRun *zuma_send_run_new(GDBusConnection *connection, const ZumaTarget *target,
                               GTlsCertificate *identity)
{
        ZumaSendRun *run = g_new0(ZumaSendRun, 1);

        run->connection = g_object_ref(connection);
        run->target = zuma_target_copy(target);
        run->identity = identity ? g_object_ref(identity) : NULL;
        run->cancellable = g_cancellable_new();
        g_mutex_init(&run->lock);
        return run;
}

void zuma_send_run_free(ZumaSendRun *run)
{
        if (!run)
                return;
        g_object_unref(run->connection);
        zuma_target_free(run->target);
        g_clear_object(&run->identity);
        g_free(run->ssh_config);
        g_free(run->snapshot);
        g_object_unref(run->cancellable);
        g_mutex_clear(&run->lock);
        g_free(run->sent);
        g_free(run->local_digest);
        g_free(run->remote_digest);
        g_clear_error(&run->error);
        g_free(run);
}

void zuma_send_run_get_progress(ZumaSendRun *run, guint64 *ret_done, guint64 *ret_total,
                                guint64 *ret_wire_bytes)
{
        g_mutex_lock(&run->lock);
        *ret_done = run->done;
        *ret_total = run->total;
        *ret_wire_bytes = run->wire_bytes;
        g_mutex_unlock(&run->lock);
}

static void add_wire_bytes(ZumaSendRun *run, guint64 n)
{
        g_mutex_lock(&run->lock);
        run->wire_bytes += n;
        g_mutex_unlock(&run->lock);
}

/* --- the transport --- */

static gboolean open_tls(Run *r, GError **error)
{
        const ZumaTarget *t = r->run->target;
        g_autoptr(GIOStream) base = NULL;
        g_autoptr(GSocketConnectable) server = NULL;
        g_autofree char *host = NULL;
        guint16 port = 0;

        if (!r->run->identity) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                                    "this sender has no TLS identity: make one (zuma-sendd(8)) "
                                    "and restart zuma-sendd, or use an ssh:// address");
                return FALSE;
        }
        if (!zuma_repl_parse_address(t->address, ZUMA_REPL_DEFAULT_PORT, &host, &port, error))
                return FALSE;
        base = zuma_repl_connect_tcp(host, port, r->run->timeout_s, r->run->cancellable, error);
        if (!base)
                return FALSE;
        r->tcp = g_object_ref(base);
        server = g_network_address_new(host, port);
        r->io = zuma_tls_client_handshake(base, server, r->run->identity, t->pin, t->ca,
                                          r->run->cancellable, error);
        if (!r->io) {
                g_prefix_error(error, "TLS with %s: ", t->address);
                return FALSE;
        }
        return TRUE;
}

/* "ssh://[USER@]HOST[:PORT]" to ssh's arguments. */
static GPtrArray *ssh_argv(const ZumaSendRun *run, GError **error)
{
        const ZumaTarget *t = run->target;
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *host = NULL;
        const char *rest = t->address + strlen("ssh://");
        const char *at = strchr(rest, '@');
        guint16 port = 22;

        if (!zuma_repl_parse_address(at ? at + 1 : rest, 22, &host, &port, error)) {
                g_prefix_error(error, "address %s: ", t->address);
                return NULL;
        }
        g_ptr_array_add(argv, g_strdup("ssh"));
        if (run->ssh_config) {
                g_ptr_array_add(argv, g_strdup("-F"));
                g_ptr_array_add(argv, g_strdup(run->ssh_config));
        }
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("BatchMode=yes"));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv,
                        g_strdup_printf("ServerAliveInterval=%u", MAX(run->timeout_s / 4, 1u)));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("ServerAliveCountMax=4"));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup_printf("ConnectTimeout=%u", run->timeout_s));
        if (t->ssh_key) {
                g_ptr_array_add(argv, g_strdup("-i"));
                g_ptr_array_add(argv, g_strdup(t->ssh_key));
                g_ptr_array_add(argv, g_strdup("-o"));
                g_ptr_array_add(argv, g_strdup("IdentitiesOnly=yes"));
        }
        g_ptr_array_add(argv, g_strdup("-p"));
        g_ptr_array_add(argv, g_strdup_printf("%u", port));
        g_ptr_array_add(argv, at ? g_strdup_printf("%.*s@%s", (int)(at - rest), rest, host)
                                 : g_strdup(host));
        g_ptr_array_add(argv, g_strdup(t->relay_command));
        g_ptr_array_add(argv, NULL);
        return g_steal_pointer(&argv);
}

static gboolean open_ssh(Run *r, GError **error)
{
        g_autoptr(GPtrArray) argv = ssh_argv(r->run, error);

        if (!argv)
                return FALSE;
        r->ssh = g_subprocess_newv((const char *const *)argv->pdata,
                                   G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                           G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                   error);
        if (!r->ssh) {
                g_prefix_error(error, "cannot run ssh: ");
                return FALSE;
        }
        r->io = g_simple_io_stream_new(g_subprocess_get_stdout_pipe(r->ssh),
                                       g_subprocess_get_stdin_pipe(r->ssh));
        return TRUE;
}

/* What ssh said on stderr, once it has exited: its own reason (a bad
 * key, an unknown host) is the one to report. */
static char *ssh_complaint(Run *r)
{
        GInputStream *err;
        char buf[2048];
        gssize n;

        if (!r->ssh)
                return NULL;
        g_subprocess_force_exit(r->ssh);
        g_subprocess_wait(r->ssh, NULL, NULL);
        err = g_subprocess_get_stderr_pipe(r->ssh);
        n = g_input_stream_read(err, buf, sizeof(buf) - 1, NULL, NULL);
        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        return g_strstrip(g_strdelimit(g_strdup(buf), "\r\n", ' '));
}

/* --- the session --- */

static gboolean hello(Run *r, GVariant **ret_snapshots, GError **error)
{
        g_autoptr(GVariant) welcome = NULL;
        const char *purpose = r->run->verify ? "verify" : "replicate";

        if (!zuma_wire_write(r->out, ZUMA_WIRE_HELLO,
                             g_variant_new_parsed("{'protocol': <%u>, 'volume': <%s>, "
                                                  "'sender': <%s>, 'purpose': <%s>}",
                                                  (guint32)ZUMA_WIRE_PROTOCOL_VERSION,
                                                  r->run->target->uuid, g_get_host_name(), purpose),
                             r->run->cancellable, error) ||
            !zuma_wire_expect(r->in, ZUMA_WIRE_WELCOME, &welcome, r->run->cancellable, error))
                return FALSE;
        *ret_snapshots = g_variant_lookup_value(welcome, "snapshots", G_VARIANT_TYPE("a(sx)"));
        if (!*ret_snapshots) {
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                    "WELCOME has no snapshots (a(sx))");
                return FALSE;
        }
        return TRUE;
}

static gboolean load_volume(Run *r, GError **error)
{
        g_autoptr(GPtrArray) volumes = zuma_server_list_volumes(r->run->connection, error);

        if (!volumes)
                return FALSE;
        for (guint i = 0; i < volumes->len && !r->volume; i++) {
                const ZumaServerVolume *v = g_ptr_array_index(volumes, i);

                if (g_ascii_strcasecmp(v->uuid, r->run->target->uuid) == 0)
                        r->volume = g_ptr_array_steal_index(volumes, i);
        }
        if (!r->volume) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "volume %s (%s) is not defined on this host",
                            r->run->target->volume_name, r->run->target->uuid);
                return FALSE;
        }
        if (!g_str_equal(r->volume->state, "running")) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING, "volume %s is %s",
                            r->volume->name, r->volume->state);
                return FALSE;
        }
        return TRUE;
}

static GArray *plan_snapshots(const ZumaServerVolume *volume)
{
        GArray *list = g_array_new(FALSE, FALSE, sizeof(ZumaPlanSnapshot));

        for (guint i = 0; i < volume->snapshots->len; i++) {
                const ZumaServerSnapshot *s = g_ptr_array_index(volume->snapshots, i);
                ZumaPlanSnapshot p = { s->name, (gint64)s->creation_time, s->id };

                g_array_append_val(list, p);
        }
        return list;
}

/* The server's send job's Done and Total, into the run's progress. */
static void poll_job_progress(Run *r, const char *job)
{
        g_autoptr(GVariant) reply = zuma_server_call(
                r->run->connection, job, "org.freedesktop.DBus.Properties", "GetAll",
                g_variant_new("(s)", ZUMA_INTERFACE_JOB), "(a{sv})", NULL, 5000, NULL);
        g_autoptr(GVariant) properties = NULL;
        guint64 done = 0, total = 0;

        if (!reply)
                return;
        properties = g_variant_get_child_value(reply, 0);
        if (g_variant_lookup(properties, "Done", "t", &done) &&
            g_variant_lookup(properties, "Total", "t", &total)) {
                g_mutex_lock(&r->run->lock);
                r->run->done = done;
                r->run->total = total;
                g_mutex_unlock(&r->run->lock);
        }
}

/* FALSE with the receiver's reason when it has sent something while we
 * send DATA: it only ever does so to refuse the stream (ERROR).  The
 * first byte is read without blocking (over TLS, records that carry no
 * data, such as session tickets, make the socket readable too); the rest
 * of the frame then comes at once. */
static gboolean receiver_silent(Run *r, GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autoptr(GInputStream) frame = NULL;
        g_autofree guint8 *buf = NULL;
        g_autoptr(GVariant) body = NULL;
        gsize got = 0;
        guint32 length;
        gssize n;

        if (!G_IS_POLLABLE_INPUT_STREAM(r->in))
                return TRUE;
        buf = g_malloc(ZUMA_WIRE_HEADER_SIZE + ZUMA_WIRE_CONTROL_MAX);
        n = g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(r->in), buf, 1,
                                                     r->run->cancellable, &local);
        if (n < 0 && g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                return TRUE;
        if (n <= 0) {
                if (local)
                        g_propagate_error(error, g_steal_pointer(&local));
                else
                        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                            "the receiver closed the connection during the stream");
                return FALSE;
        }
        if (!g_input_stream_read_all(r->in, buf + 1, ZUMA_WIRE_HEADER_SIZE - 1, &got,
                                     r->run->cancellable, error))
                return FALSE;
        length = GUINT32_FROM_LE(((const ZumaWireHeader *)buf)->length_le);
        if (got == ZUMA_WIRE_HEADER_SIZE - 1 && length <= ZUMA_WIRE_CONTROL_MAX &&
            !g_input_stream_read_all(r->in, buf + ZUMA_WIRE_HEADER_SIZE, length, &got,
                                     r->run->cancellable, error))
                return FALSE;
        frame = g_memory_input_stream_new_from_data(
                buf, ZUMA_WIRE_HEADER_SIZE + MIN(length, (guint32)ZUMA_WIRE_CONTROL_MAX), NULL);
        if (zuma_wire_expect(frame, ZUMA_WIRE_RESULT, &body, NULL, error))
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                    "the receiver sent RESULT before the stream's end");
        return FALSE;
}

/* The pipe's bytes to the receiver as DATA, paced by the rate limit. */
static gboolean pump(Run *r, GInputStream *pipe_in, const char *job, guint64 *ret_bytes,
                     GError **error)
{
        g_autofree guint8 *buf = g_malloc(ZUMA_WIRE_DATA_MAX);
        ZumaTokenBucket bucket;
        gint64 last_poll = 0;

        /* A burst of a quarter second's worth, at least one frame. */
        zuma_token_bucket_init(&bucket, r->run->target->rate_limit,
                               MAX(r->run->target->rate_limit / 4, ZUMA_WIRE_DATA_MAX));
        *ret_bytes = 0;
        for (;;) {
                gsize got = 0;

                if (!g_input_stream_read_all(pipe_in, buf, ZUMA_WIRE_DATA_MAX, &got,
                                             r->run->cancellable, error))
                        return FALSE;
                if (got == 0)
                        return TRUE;
                if (!zuma_token_bucket_wait(&bucket, got + ZUMA_WIRE_HEADER_SIZE,
                                            r->run->cancellable, error) ||
                    !zuma_wire_write_data(r->out, buf, got, r->run->cancellable, error))
                        return FALSE;
                *ret_bytes += got;
                add_wire_bytes(r->run, got + ZUMA_WIRE_HEADER_SIZE);
                if (!receiver_silent(r, error))
                        return FALSE;
                if (g_get_monotonic_time() - last_poll > PROGRESS_POLL_US) {
                        last_poll = g_get_monotonic_time();
                        poll_job_progress(r, job);
                }
        }
}

static gboolean replicate(Run *r, GVariant *remote, GError **error)
{
        ZumaSendRun *run = r->run;
        g_autoptr(GArray) local = plan_snapshots(r->volume);
        g_autoptr(GVariant) ready = NULL, result = NULL;
        g_autoptr(GInputStream) pipe_in = NULL;
        g_autoptr(GError) pump_error = NULL;
        g_autofree char *job = NULL;
        ZumaSendPlan plan;
        guint64 bytes = 0;
        gboolean ok = FALSE;
        const char *message = "";
        int fds[2];

        if (!zuma_send_plan((const ZumaPlanSnapshot *)local->data, local->len, remote,
                            run->snapshot, &plan, error))
                return FALSE;
        run->sent = g_strdup(plan.to);
        run->sent_ctime = plan.to_ctime;
        if (plan.up_to_date) {
                run->up_to_date = TRUE;
                return TRUE;
        }
        if (!zuma_wire_write(r->out, ZUMA_WIRE_SEND,
                             g_variant_new_parsed("{'to': <%s>, 'to_ctime': <%x>, 'from': <%s>, "
                                                  "'from_ctime': <%x>, 'volume_name': <%s>, "
                                                  "'keep': <%@a{su}>}",
                                                  plan.to, plan.to_ctime, plan.from,
                                                  plan.from_ctime, r->volume->name,
                                                  run->target->keep),
                             run->cancellable, error) ||
            !zuma_wire_expect(r->in, ZUMA_WIRE_READY, &ready, run->cancellable, error))
                return FALSE;
        phase(r, "READY");
        g_variant_lookup(ready, "resume", "b", &run->resumed);
        g_variant_lookup(ready, "resume_after", "t", &run->resume_after);
        g_message("volume %s to %s: sending %s%s%s%s", r->volume->name, run->target->name, plan.to,
                  plan.from[0] ? " over " : " (full)", plan.from, run->resumed ? " (resumed)" : "");

        if (!g_unix_open_pipe(fds, FD_CLOEXEC, error))
                return FALSE;
        if (!zuma_server_send_stream(run->connection, r->volume->path, plan.from, plan.to, fds[1],
                                     run->target->compress, run->resumed, run->resume_after, &job,
                                     error)) {
                close(fds[0]);
                close(fds[1]);
                return FALSE;
        }
        close(fds[1]);
        pipe_in = g_unix_input_stream_new(fds[0], TRUE);
        if (!pump(r, pipe_in, job, &bytes, &pump_error)) {
                /* Our end broke: the server's job stops on its closed pipe. */
                g_input_stream_close(pipe_in, NULL, NULL);
                zuma_server_cancel_job(run->connection, job);
                g_propagate_error(error, g_steal_pointer(&pump_error));
                return FALSE;
        }
        phase(r, "stream out");
        if (!zuma_server_wait_job(run->connection, job, "send", SEND_END_TIMEOUT_MS, error)) {
                zuma_wire_write_error(r->out, (*error)->message, run->cancellable, NULL);
                return FALSE;
        }
        phase(r, "send job ended");
        poll_job_progress(r, job);
        if (!zuma_wire_write(r->out, ZUMA_WIRE_END, g_variant_new_parsed("{'bytes': <%t>}", bytes),
                             run->cancellable, error) ||
            !zuma_wire_expect(r->in, ZUMA_WIRE_RESULT, &result, run->cancellable, error))
                return FALSE;
        phase(r, "RESULT");
        g_variant_lookup(result, "ok", "b", &ok);
        g_variant_lookup(result, "error", "&s", &message);
        if (!ok) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED, "the receiver says: %s", message);
                return FALSE;
        }
        g_variant_lookup(result, "digest", "s", &run->remote_digest);
        return TRUE;
}

/* The newest snapshot of the volume the target holds (same time). */
static const ZumaServerSnapshot *newest_common(const ZumaServerVolume *volume, GVariant *remote)
{
        const ZumaServerSnapshot *best = NULL;

        for (guint i = 0; i < volume->snapshots->len; i++) {
                const ZumaServerSnapshot *s = g_ptr_array_index(volume->snapshots, i);
                GVariantIter iter;
                const char *name;
                gint64 ctime;

                g_variant_iter_init(&iter, remote);
                while (g_variant_iter_next(&iter, "(&sx)", &name, &ctime)) {
                        if (g_str_equal(name, s->name) && ctime == (gint64)s->creation_time &&
                            (!best || best->creation_time < s->creation_time ||
                             (best->creation_time == s->creation_time && best->id < s->id)))
                                best = s;
                }
        }
        return best;
}

static gboolean verify(Run *r, GVariant *remote, GError **error)
{
        ZumaSendRun *run = r->run;
        const ZumaServerSnapshot *snapshot = NULL;
        g_autoptr(GVariant) answer = NULL;
        gboolean found = FALSE;
        const char *message = "";

        if (run->snapshot) {
                for (guint i = 0; i < r->volume->snapshots->len && !snapshot; i++) {
                        const ZumaServerSnapshot *s = g_ptr_array_index(r->volume->snapshots, i);

                        if (g_str_equal(s->name, run->snapshot))
                                snapshot = s;
                }
        } else {
                snapshot = newest_common(r->volume, remote);
        }
        if (!snapshot) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            run->snapshot ? "the volume has no snapshot %s"
                                          : "the target holds none of the volume's snapshots%s",
                            run->snapshot ? run->snapshot : "");
                return FALSE;
        }
        run->sent = g_strdup(snapshot->name);
        run->sent_ctime = (gint64)snapshot->creation_time;
        if (!zuma_server_snapshot_digest(run->connection, r->volume->path, snapshot->name,
                                         DIGEST_TIMEOUT_MS, &run->local_digest, error) ||
            !zuma_wire_write(r->out, ZUMA_WIRE_VERIFY,
                             g_variant_new_parsed("{'name': <%s>, 'ctime': <%x>}", snapshot->name,
                                                  (gint64)snapshot->creation_time),
                             run->cancellable, error) ||
            !zuma_wire_expect(r->in, ZUMA_WIRE_DIGEST, &answer, run->cancellable, error))
                return FALSE;
        g_variant_lookup(answer, "found", "b", &found);
        g_variant_lookup(answer, "error", "&s", &message);
        if (!found) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "the receiver says: %s",
                            message);
                return FALSE;
        }
        g_variant_lookup(answer, "digest", "s", &run->remote_digest);
        return TRUE;
}

void zuma_send_run(ZumaSendRun *run)
{
        Run r = { .run = run, .started_us = g_get_monotonic_time() };
        g_autoptr(GVariant) remote = NULL;
        GError *error = NULL;
        gboolean ok;

        ok = load_volume(&r, &error);
        if (ok) {
                phase(&r, "volume listed");
                ok = zuma_target_is_ssh(run->target) ? open_ssh(&r, &error) : open_tls(&r, &error);
        }
        if (ok) {
                phase(&r, "transport open");
                r.in = g_io_stream_get_input_stream(r.io);
                r.out = g_io_stream_get_output_stream(r.io);
                ok = hello(&r, &remote, &error);
        }
        if (ok) {
                phase(&r, "WELCOME");
                ok = (run->verify ? verify(&r, remote, &error) : replicate(&r, remote, &error));
        }
        /* After a failure the peer may be unreachable: closing TCP first
         * spares TLS's close_notify, which would wait out a whole timeout
         * (and the retry with it) on a dead link. */
        if (!ok && r.tcp)
                g_io_stream_close(r.tcp, NULL, NULL);
        if (r.io)
                g_io_stream_close(r.io, NULL, NULL);
        if (!ok) {
                g_autofree char *complaint = ssh_complaint(&r);

                /* ssh's own reason (a refused key...) says more than a
                 * closed pipe. */
                if (complaint && complaint[0])
                        g_prefix_error(&error, "ssh: %s; ", complaint);
        } else if (r.ssh) {
                g_subprocess_wait(r.ssh, NULL, NULL);
        }
        run->error = error;
        g_clear_object(&r.io);
        g_clear_object(&r.tcp);
        g_clear_object(&r.ssh);
        if (r.volume)
                zuma_server_volume_free(r.volume);
}
