/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One sender's connection to zuma-recvd, served on a thread of its own
 * with blocking I/O (docs/replication-protocol.md has the messages):
 *
 *   HELLO      the volume (UUID) and what for; the source must exist and,
 *              over TLS, allow the sender's certificate (checked before
 *              anything else is answered);
 *   WELCOME    the snapshots the local volume holds (name, creation time);
 *   SEND       the stream the sender chose: to, from, and the retention;
 *   READY      where it resumes (GetReceiveResumePoint: what an earlier,
 *              cut run of the same stream made durable);
 *   DATA...    copied into a pipe whose other end zuma-snapshotd's
 *              ReceiveStream job reads;
 *   END        the pipe is closed; the job ends;
 *   RESULT     its outcome, the new snapshot and its digest.
 *
 * Or, for verify: HELLO, WELCOME, then VERIFY / DIGEST as often as asked.
 *
 * A cut connection closes the pipe too early: the job fails on a
 * truncated stream, after the server made the last resume point durable,
 * and the next session resumes there.  Every wait on the peer has the
 * socket's timeout, and the session's cancellable (ForgetSource, the
 * daemon stopping) ends any of them.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct ZumaReceiver ZumaReceiver;

typedef struct ZumaReceiveSession {
        ZumaReceiver *receiver;
        GDBusConnection *connection; /* to zuma-snapshotd */
        GIOStream *io;               /* TLS, or a relay's unix socket */
        GSocket *socket;             /* under io */
        char *peer;                  /* "ADDR:PORT", or "ssh relay" */
        /* The sender's certificate over TLS; NULL for a relay (ssh
         * authenticated it, and only root reaches the relay socket). */
        GTlsCertificate *peer_certificate;
        GCancellable *cancellable;
        char *volume_uuid; /* once admitted (the receiver's lock guards it) */
} ZumaReceiveSession;

/* Serves the connection to its end (blocking), then closes it. */
void zuma_receive_session_run(ZumaReceiveSession *session);

void zuma_receive_session_free(ZumaReceiveSession *session);

G_END_DECLS
