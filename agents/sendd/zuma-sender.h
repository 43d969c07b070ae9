/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaSender: zuma-sendd's state and bus face.  It keeps the targets
 * (zuma-target.h), exports them and the Manager (org.zumastor.Send1), and
 * starts runs (zuma-send-run.h), each on a thread of its own and shown as
 * a Job at /org/zumastor/Send1/jobs/N:
 *
 *  - when asked (Replicate, Verify);
 *  - every Period seconds after the last run began;
 *  - after each new snapshot of the volume (AfterSnapshot: zuma-snapshotd's
 *    SnapshotCreated, for scheduled snapshots and for snapshots received
 *    from upstream alike, which is what makes a chain A→B→C forward);
 *  - again after a failure, 30 s later and doubling up to 10 minutes (or
 *    the period, if shorter), until a run succeeds.
 *
 * One run per target at a time: a request while one runs gets its job;
 * a snapshot that appears meanwhile is sent by one more run right after.
 * Each run's outcome goes to the Target object (LastSnapshot, LastError,
 * BytesSent...), its file, and the Finished or Failed signal.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-auth.h"

G_BEGIN_DECLS

typedef struct ZumaSender ZumaSender;

typedef struct ZumaSenderSetup {
        GDBusConnection *connection;
        ZumaAuth *auth;
        const char *state_dir;
        const char *tls_cert;
        const char *tls_key;
        const char *ssh_config; /* ssh -F FILE, or NULL */
        guint timeout_s;
        guint retry_min_s; /* first retry after a failure */
} ZumaSenderSetup;

ZumaSender *zuma_sender_new(const ZumaSenderSetup *setup);
gboolean zuma_sender_load(ZumaSender *self, GError **error);
char *zuma_sender_describe(ZumaSender *self);
/* Cuts the runs in progress. */
void zuma_sender_shutdown(ZumaSender *self);
void zuma_sender_free(ZumaSender *self);

G_END_DECLS
