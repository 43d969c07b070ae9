/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaReceiver: zuma-recvd's state and bus face.  It keeps the sources
 * (zuma-source.h), exports them and the Manager (org.zumastor.Recv1),
 * listens where they ask (one GSocketService per distinct address, TLS
 * with the host's certificate) and on RUN_DIR/relay.sock for ssh relays
 * (root only, no TLS: ssh authenticated the peer), and runs every
 * accepted connection as a session on a thread of its own
 * (zuma-receive-session.h).
 *
 * The sessions call back from their threads: zuma_receiver_admit() (under
 * the receiver's lock) decides whether a sender may write into a volume,
 * and the report functions carry a session's state to the main thread,
 * where the Source object and its file are updated and its signals sent.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-auth.h"
#include "zuma-receive-session.h"
#include "zuma-source.h"

G_BEGIN_DECLS

typedef struct ZumaReceiverSetup {
        GDBusConnection *connection;
        ZumaAuth *auth;
        const char *state_dir;
        const char *run_dir;
        const char *tls_cert; /* PEM files of the host's identity */
        const char *tls_key;
        guint timeout_s; /* a sender silent this long is cut */
} ZumaReceiverSetup;

ZumaReceiver *zuma_receiver_new(const ZumaReceiverSetup *setup);
/* Loads the sources, exports the objects and starts listening. */
gboolean zuma_receiver_load(ZumaReceiver *self, GError **error);
char *zuma_receiver_describe(ZumaReceiver *self);
/* Cuts every session and waits for their threads. */
void zuma_receiver_shutdown(ZumaReceiver *self);
void zuma_receiver_free(ZumaReceiver *self);

/* From a session's thread.  The source of volume uuid, copied, if it
 * accepts the session's sender (no peer certificate: an ssh relay); else
 * NULL and an error fit to send back (AccessDenied names the
 * fingerprint).  The session then counts as the volume's, for
 * ForgetSource to cut. */
ZumaSource *zuma_receiver_admit(ZumaReceiver *self, ZumaReceiveSession *session, const char *uuid,
                                GError **error);
void zuma_receiver_report_start(ZumaReceiver *self, const char *uuid, const char *peer);
void zuma_receiver_report_progress(ZumaReceiver *self, const char *uuid, guint64 bytes);
/* snapshot: what arrived, or NULL and error: why the stream failed. */
void zuma_receiver_report_end(ZumaReceiver *self, const char *uuid, const char *snapshot,
                              gint64 snapshot_time, guint64 bytes, const char *error);

G_END_DECLS
