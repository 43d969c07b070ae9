/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A target: one replica of a volume on another host, as DefineTarget took
 * it, and how it stands.  Kept in STATE_DIR/targets/UUID/NAME.conf
 * (GKeyFile, saved durably), so that a restart knows the targets, their
 * last replicated snapshot and when the next run is due:
 *
 *   [Target]
 *   VolumeName=vol
 *   Address=backup.example.org:7890      (or ssh://root@backup)
 *   Period=3600
 *   AfterSnapshot=false
 *   RateLimit=0
 *   Compress=3
 *   Keep=hourly:24;daily:7;
 *   Pin=sha256:...        Ca=...        SshKey=...      RelayCommand=...
 *   [Status]
 *   LastSnapshot=vol-hourly-2026-12-07-03:00
 *   LastSnapshotTime=1796612400
 *   LastSuccess=1796612433
 *   LastError=
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct ZumaTarget {
        char *uuid;
        char *volume_name;
        char *name;
        char *address;
        guint64 period; /* seconds; 0: only when asked */
        gboolean after_snapshot;
        guint64 rate_limit;  /* bytes per second; 0: none */
        gint32 compress;     /* zstd level 0..19 */
        GVariant *keep;      /* a{su} */
        char *pin;           /* the receiver's fingerprint, or NULL */
        char *ca;            /* or a CA file */
        char *ssh_key;       /* ssh transport: identity file, or NULL */
        char *relay_command; /* ssh transport: what runs on the host */
        /* Status. */
        char *last_snapshot;
        gint64 last_snapshot_time;
        gint64 last_success;
        char *last_error;
} ZumaTarget;

#define ZUMA_TARGET_DEFAULT_COMPRESS 3
#define ZUMA_TARGET_DEFAULT_RELAY "zuma-recvd --relay"

ZumaTarget *zuma_target_new(const char *uuid, const char *volume_name, const char *name,
                            const char *address);
ZumaTarget *zuma_target_copy(const ZumaTarget *target);
void zuma_target_free(ZumaTarget *target);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaTarget, zuma_target_free)

/* Whether the address is "ssh://[USER@]HOST[:PORT]". */
gboolean zuma_target_is_ssh(const ZumaTarget *target);

/* STATE_DIR/targets/UUID/NAME.conf */
char *zuma_target_path(const char *state_dir, const char *uuid, const char *name);
ZumaTarget *zuma_target_load(const char *path, GError **error);
gboolean zuma_target_save(const ZumaTarget *target, const char *state_dir, GError **error);

G_END_DECLS
