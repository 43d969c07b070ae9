/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replication streams asked of zuma-snapshotd (Volume.SendStream,
 * ReceiveStream, GetReceiveResumePoint, GetSnapshotDigest), for
 * zuma-sendd and zuma-recvd.  The stream's bytes go through a file
 * descriptor passed in the call (a pipe's end the agent keeps the other
 * end of), so the agents never read or write the store themselves.
 * Synchronous, callable from a session's thread.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Starts the stream of snapshot to (incremental from `from`, full when
 * from is "") into fd; resume: only the chunks above resume_after.  The
 * job's path in *ret_job. */
gboolean zuma_server_send_stream(GDBusConnection *connection, const char *volume_path,
                                 const char *from, const char *to, int fd, gint32 compress,
                                 gboolean resume, guint64 resume_after, char **ret_job,
                                 GError **error);

/* Starts applying the stream read from fd to the volume. */
gboolean zuma_server_receive_stream(GDBusConnection *connection, const char *volume_path, int fd,
                                    gboolean resume, char **ret_job, GError **error);

/* Where the stream to@to_ctime from `from` ("" full) resumes on the volume. */
gboolean zuma_server_receive_resume_point(GDBusConnection *connection, const char *volume_path,
                                          const char *to, gint64 to_ctime, const char *from,
                                          gboolean *ret_resumable, guint64 *ret_resume_after,
                                          GError **error);

/* The snapshot's digest (32 hex digits), waiting for the digest job (at
 * most timeout_ms) when the server has to read the snapshot first. */
gboolean zuma_server_snapshot_digest(GDBusConnection *connection, const char *volume_path,
                                     const char *name, int timeout_ms, char **ret_digest,
                                     GError **error);

/* Job.Cancel (errors ignored: the job may have ended meanwhile). */
void zuma_server_cancel_job(GDBusConnection *connection, const char *job_path);

G_END_DECLS
