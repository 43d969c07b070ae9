/* SPDX-License-Identifier: GPL-2.0-only */
/* The token bucket (the model is at the top of zuma-token-bucket.h). */
#define G_LOG_DOMAIN "zuma-token-bucket"

#include "zuma-token-bucket.h"

#define US_PER_S G_GINT64_CONSTANT(1000000)
/* 2^40 bytes: credit in byte-microseconds stays below 2^60, so neither a
 * refill nor a debt overflows a gint64. */
#define BUCKET_MAX (G_GUINT64_CONSTANT(1) << 40)

void zuma_token_bucket_init(ZumaTokenBucket *bucket, guint64 rate, guint64 burst)
{
        bucket->rate = MIN(rate, BUCKET_MAX);
        bucket->burst = MIN(burst ? burst : bucket->rate, BUCKET_MAX);
        bucket->credit = (gint64)bucket->burst * US_PER_S;
        bucket->last_us = -1;
}

static void refill(ZumaTokenBucket *bucket, gint64 now_us)
{
        gint64 full = (gint64)bucket->burst * US_PER_S;
        gint64 elapsed;

        /* The first call starts the clock; a clock going back refills
         * nothing (and the monotonic clock never does). */
        if (bucket->last_us < 0)
                bucket->last_us = now_us;
        if (now_us <= bucket->last_us)
                return;
        elapsed = now_us - bucket->last_us;
        bucket->last_us = now_us;
        /* Longer than refilling from the deepest debt to full takes: full. */
        if (elapsed >= (full - bucket->credit) / (gint64)bucket->rate + 1)
                bucket->credit = full;
        else
                bucket->credit += elapsed * (gint64)bucket->rate;
}

gint64 zuma_token_bucket_delay_us(ZumaTokenBucket *bucket, gsize n, gint64 now_us)
{
        gint64 rate = (gint64)bucket->rate;

        if (rate == 0)
                return 0;
        refill(bucket, now_us);
        bucket->credit -= (gint64)MIN((guint64)n, BUCKET_MAX) * US_PER_S;
        if (bucket->credit >= 0)
                return 0;
        /* Rounded up: after the delay, the debt is paid. */
        return (-bucket->credit + rate - 1) / rate;
}

gboolean zuma_token_bucket_wait(ZumaTokenBucket *bucket, gsize n, GCancellable *cancellable,
                                GError **error)
{
        gint64 deadline = g_get_monotonic_time();
        GPollFD pollfd = { .fd = -1, .events = G_IO_IN };
        gboolean have_fd, cancelled = FALSE;
        gint64 left;

        deadline += zuma_token_bucket_delay_us(bucket, n, deadline);
        have_fd = g_cancellable_make_pollfd(cancellable, &pollfd);
        while (!(cancelled = g_cancellable_is_cancelled(cancellable)) &&
               (left = deadline - g_get_monotonic_time()) > 0) {
                if (have_fd)
                        g_poll(&pollfd, 1, (gint)MIN((left + 999) / 1000, G_MAXINT));
                else
                        g_usleep((gulong)left);
        }
        if (have_fd)
                g_cancellable_release_fd(cancellable);
        if (cancelled)
                return !g_cancellable_set_error_if_cancelled(cancellable, error);
        return TRUE;
}
