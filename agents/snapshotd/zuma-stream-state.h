/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What zuma-snapshotd keeps of replication streams between runs, in
 * STATE_DIR/replication (ZumaVolumeHost.replication_dir), one pair of
 * files per volume, named by the volume's UUID so that a renamed or
 * redefined volume never picks up another's state:
 *
 *   UUID.receive  the durable point of the stream being received: its
 *                 identity (to-name, to-ctime, from-name: "" for a full
 *                 stream) and the last chunk index the store made durable
 *                 (saved at every on_durable callback; removed when the
 *                 stream completes).  After a kill -9 or a broken link the
 *                 next receive of the same stream resumes from it.
 *   UUID.digests  the digest of snapshots (docs/replication-stream.md,
 *                 digest rule) learnt from a send or a receive, keyed by
 *                 snapshot name and creation time: a snapshot of the same
 *                 name made later has another ctime and misses.  Entries
 *                 of deleted snapshots stay until their name is reused
 *                 (at most one per name).
 *
 * Both are key files saved with zuma_keyfile_save() (temporary file,
 * fsync, rename, fsync of the directory).  They are read back as
 * untrusted: a file that does not parse, or a field out of range, is
 * "nothing kept" (a stream starts from scratch, a digest is computed),
 * never an error that stops a transfer.
 */
#pragma once

#include <gio/gio.h>

#include "snapstore.h"
#include "stream.h"

G_BEGIN_DECLS

typedef struct ZumaReceivePoint {
        char to_name[SS_NAME_MAX + 1];
        gint64 to_ctime;
        char from_name[SS_NAME_MAX + 1]; /* "" for a full stream */
        guint64 last_index;              /* the last chunk index made durable */
        guint64 records;                 /* chunk and zero records durable by then */
} ZumaReceivePoint;

/* *ret_found FALSE when no stream is half received (or the file is not
 * one this code wrote: logged). */
void zuma_receive_point_load(const char *dir, const char *volume_uuid, ZumaReceivePoint *ret_point,
                             gboolean *ret_found);
gboolean zuma_receive_point_save(const char *dir, const char *volume_uuid,
                                 const ZumaReceivePoint *point, GError **error);
gboolean zuma_receive_point_remove(const char *dir, const char *volume_uuid, GError **error);
/* Whether point is of the stream to_name@to_ctime from from_name. */
gboolean zuma_receive_point_matches(const ZumaReceivePoint *point, const char *to_name,
                                    gint64 to_ctime, const char *from_name);

/* A digest as 32 lowercase hex digits, high half first (the digest file's
 * and the bus's form). */
char *zuma_stream_digest_to_string(const SsStreamDigest *digest);

/* The digest kept for snapshot name@ctime, or FALSE. */
gboolean zuma_digest_cache_lookup(const char *dir, const char *volume_uuid, const char *name,
                                  gint64 ctime, SsStreamDigest *ret_digest);
gboolean zuma_digest_cache_store(const char *dir, const char *volume_uuid, const char *name,
                                 gint64 ctime, const SsStreamDigest *digest, GError **error);

G_END_DECLS
