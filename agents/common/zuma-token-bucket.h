/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A token bucket: at most rate bytes a second on average, with bursts of
 * at most burst bytes after a pause.  The sender paces its DATA frames
 * with it.
 *
 * The bucket holds up to burst bytes of credit and starts full; it
 * refills at rate bytes a second.  Sending n bytes takes n of credit, and
 * may take the credit below zero (a DATA frame larger than the burst
 * still goes, once): the caller then waits until the debt is paid.  So
 * the long-run rate is exact whatever the sizes, and the first burst
 * bytes go at once.  Credit is kept in byte-microseconds, integers only,
 * so the delays are exact to the microsecond and the tests can check
 * them against a fake clock.
 *
 * Not thread-safe: one bucket per session.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct ZumaTokenBucket {
        guint64 rate;   /* bytes a second; 0 = unlimited */
        guint64 burst;  /* bytes of credit at most */
        gint64 credit;  /* byte-microseconds (bytes × 1 000 000); below 0 = debt */
        gint64 last_us; /* the clock at the last call; -1 before the first */
} ZumaTokenBucket;

/* rate in bytes a second (0: unlimited); burst in bytes (0: one second's
 * worth, rate).  Both are capped at 1 TiB, far above any link. */
void zuma_token_bucket_init(ZumaTokenBucket *bucket, guint64 rate, guint64 burst);

/* Takes n bytes from the bucket at now_us (a monotonic clock in
 * microseconds) and returns how long to wait before sending them (0: at
 * once). */
gint64 zuma_token_bucket_delay_us(ZumaTokenBucket *bucket, gsize n, gint64 now_us);

/* Takes n bytes and sleeps the delay on g_get_monotonic_time();
 * cancellable ends the sleep early with G_IO_ERROR_CANCELLED. */
gboolean zuma_token_bucket_wait(ZumaTokenBucket *bucket, gsize n, GCancellable *cancellable,
                                GError **error);

G_END_DECLS
