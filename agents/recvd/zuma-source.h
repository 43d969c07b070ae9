/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A source: a local volume that another host's zuma-sendd replicates
 * into, as DefineSource took it, and how its last stream went.  Kept in
 * STATE_DIR/sources/UUID.conf (GKeyFile, saved durably: temporary file,
 * fsync, rename), so a restart listens again and still knows the last
 * snapshot received:
 *
 *   [Source]
 *   VolumeName=vol
 *   Listen=0.0.0.0:7890
 *   Allow=sha256:0a1b...;sha256:77ee...;
 *   Ca=/etc/zumastor/tls/senders-ca.pem
 *   [Status]
 *   LastSnapshot=vol-hourly-2026-12-07-03:00
 *   LastSnapshotTime=1796612400
 *   LastReceived=1796612433
 *   LastError=
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct ZumaSource {
        char *uuid;
        char *volume_name;
        char *listen; /* "ADDR:PORT" */
        char **allow; /* sender fingerprints, "sha256:HEX" normalised */
        char *ca;     /* PEM file of sender CAs, NULL if none */
        /* Status. */
        char *last_snapshot;
        gint64 last_snapshot_time;
        gint64 last_received;
        char *last_error;
} ZumaSource;

ZumaSource *zuma_source_new(const char *uuid, const char *volume_name);
ZumaSource *zuma_source_copy(const ZumaSource *source);
void zuma_source_free(ZumaSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaSource, zuma_source_free)

/* STATE_DIR/sources/UUID.conf */
char *zuma_source_path(const char *state_dir, const char *uuid);
/* Reads one file; a field that is missing or wrong fails naming it. */
ZumaSource *zuma_source_load(const char *path, GError **error);
gboolean zuma_source_save(const ZumaSource *source, const char *state_dir, GError **error);

G_END_DECLS
