/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One replication run, or one verify, of a target, on a thread of its own
 * with blocking I/O (docs/replication-protocol.md has the messages):
 *
 *  1. the transport: TLS over TCP to the receiver (its certificate pinned
 *     or checked against a CA; ours presented), or an ssh child that runs
 *     the receiver's relay (`ssh HOST zuma-recvd --relay`);
 *  2. HELLO, and WELCOME with the target's snapshots;
 *  3. the plan (zuma-send-plan.h): nothing to do, an incremental stream
 *     or a full one; SEND, and READY says where it resumes;
 *  4. zuma-snapshotd's SendStream writes the stream into a pipe; the run
 *     reads it and sends it as DATA, at most rate_limit bytes a second
 *     (zuma-token-bucket.h), then END;
 *  5. RESULT: the target holds the snapshot, with its digest.
 *
 * A verify asks the digest of one snapshot on both sides instead (VERIFY,
 * DIGEST) and compares them.
 *
 * Everything that waits on the peer has the connection's timeout, and the
 * run's cancellable (Cancel, ForgetTarget, the daemon stopping) ends it;
 * a failed run leaves what the receiver made durable for the next run to
 * resume from.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-target.h"

G_BEGIN_DECLS

typedef struct ZumaSendRun {
        /* In. */
        GDBusConnection *connection; /* to zuma-snapshotd */
        ZumaTarget *target;          /* a copy, the run's own */
        GTlsCertificate *identity;   /* the host's, or NULL */
        char *ssh_config;            /* ssh -F FILE, or NULL */
        char *snapshot;              /* the one asked for, NULL: the newest */
        gboolean verify;
        guint timeout_s;
        GCancellable *cancellable;

        /* Progress, under lock: chunk bytes sent and to send (the
         * server's job's), bytes on the wire. */
        GMutex lock;
        guint64 done, total, wire_bytes;

        /* Out, once the run's thread is done. */
        gboolean up_to_date; /* nothing had to be sent */
        char *sent;          /* the snapshot the target now holds */
        gint64 sent_ctime;
        gboolean resumed;     /* the stream resumed a cut one */
        guint64 resume_after; /* ... after this chunk index */
        char *local_digest;   /* verify */
        char *remote_digest;
        GError *error;
} ZumaSendRun;

ZumaSendRun *zuma_send_run_new(GDBusConnection *connection, const ZumaTarget *target,
                               GTlsCertificate *identity);
void zuma_send_run_free(ZumaSendRun *run);

/* Runs it to its end (blocking). */
void zuma_send_run(ZumaSendRun *run);

void zuma_send_run_get_progress(ZumaSendRun *run, guint64 *ret_done, guint64 *ret_total,
                                guint64 *ret_wire_bytes);

G_END_DECLS
