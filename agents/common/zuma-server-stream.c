/* SPDX-License-Identifier: GPL-2.0-only */
#include "zuma-server-stream.h"

#include "zuma-error.h"
#include "zuma-names.h"
#include "zuma-server-client.h"

static GVariant *call_with_fd(GDBusConnection *connection, const char *volume_path,
                              const char *method, GVariant *params, int fd, GError **error)
{
        g_autoptr(GUnixFDList) fds = g_unix_fd_list_new();

        if (g_unix_fd_list_append(fds, fd, error) < 0)
                return NULL;
        return zuma_server_call(connection, volume_path, ZUMA_INTERFACE_VOLUME, method, params,
                                "(o)", fds, ZUMA_SERVER_CALL_TIMEOUT_MS, error);
}

gboolean zuma_server_send_stream(GDBusConnection *connection, const char *volume_path,
                                 const char *from, const char *to, int fd, gint32 compress,
                                 gboolean resume, guint64 resume_after, char **ret_job,
                                 GError **error)
{
        g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
        g_autoptr(GVariant) reply = NULL;

        g_variant_builder_add(&options, "{sv}", "compress", g_variant_new_int32(compress));
        if (resume)
                g_variant_builder_add(&options, "{sv}", "resume_after",
                                      g_variant_new_uint64(resume_after));
        reply = call_with_fd(
                connection, volume_path, "SendStream",
                g_variant_new("(ssh@a{sv})", from, to, 0, g_variant_builder_end(&options)), fd,
                error);
        if (!reply)
                return FALSE;
        g_variant_get(reply, "(o)", ret_job);
        return TRUE;
}

gboolean zuma_server_receive_stream(GDBusConnection *connection, const char *volume_path, int fd,
                                    gboolean resume, char **ret_job, GError **error)
{
        g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
        g_autoptr(GVariant) reply = NULL;

        g_variant_builder_add(&options, "{sv}", "resume", g_variant_new_boolean(resume));
        reply = call_with_fd(connection, volume_path, "ReceiveStream",
                             g_variant_new("(h@a{sv})", 0, g_variant_builder_end(&options)), fd,
                             error);
        if (!reply)
                return FALSE;
        g_variant_get(reply, "(o)", ret_job);
        return TRUE;
}

gboolean zuma_server_receive_resume_point(GDBusConnection *connection, const char *volume_path,
                                          const char *to, gint64 to_ctime, const char *from,
                                          gboolean *ret_resumable, guint64 *ret_resume_after,
                                          GError **error)
{
        g_autoptr(GVariant) reply = zuma_server_call(
                connection, volume_path, ZUMA_INTERFACE_VOLUME, "GetReceiveResumePoint",
                g_variant_new("(sxs@a{sv})", to, to_ctime, from, g_variant_new("a{sv}", NULL)),
                "(bt)", NULL, ZUMA_SERVER_CALL_TIMEOUT_MS, error);

        if (!reply)
                return FALSE;
        g_variant_get(reply, "(bt)", ret_resumable, ret_resume_after);
        return TRUE;
}

gboolean zuma_server_snapshot_digest(GDBusConnection *connection, const char *volume_path,
                                     const char *name, int timeout_ms, char **ret_digest,
                                     GError **error)
{
        /* Known, or a job that makes it known: asked twice at most. */
        for (guint round = 0; round < 2; round++) {
                g_autoptr(GVariant) reply = zuma_server_call(
                        connection, volume_path, ZUMA_INTERFACE_VOLUME, "GetSnapshotDigest",
                        g_variant_new("(s@a{sv})", name, g_variant_new("a{sv}", NULL)), "(bso)",
                        NULL, ZUMA_SERVER_CALL_TIMEOUT_MS, error);
                const char *digest, *job;
                gboolean known;

                if (!reply)
                        return FALSE;
                g_variant_get(reply, "(b&s&o)", &known, &digest, &job);
                if (known) {
                        *ret_digest = g_strdup(digest);
                        return TRUE;
                }
                if (!zuma_server_wait_job(connection, job, "digest", timeout_ms, error))
                        return FALSE;
        }
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                    "the digest of snapshot %s is still unknown after its digest job", name);
        return FALSE;
}

void zuma_server_cancel_job(GDBusConnection *connection, const char *job_path)
{
        g_autoptr(GVariant) reply =
                zuma_server_call(connection, job_path, ZUMA_INTERFACE_JOB, "Cancel",
                                 g_variant_new("(@a{sv})", g_variant_new("a{sv}", NULL)), NULL,
                                 NULL, ZUMA_SERVER_CALL_TIMEOUT_MS, NULL);

        (void)reply;
}
