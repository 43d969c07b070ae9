/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sender's token bucket: exact delays against a fake clock (a burst,
 * a steady rate, unlimited, a send larger than the burst, rounding, the
 * refill cap), then the blocking wait on the real clock and its
 * cancellation.
 */
#include "zuma-token-bucket.h"

#define MS 1000
#define S 1000000

static void test_unlimited(void)
{
        ZumaTokenBucket bucket;

        zuma_token_bucket_init(&bucket, 0, 0);
        for (int i = 0; i < 10; i++)
                g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, G_MAXSIZE, 0), ==, 0);
}

static void test_burst(void)
{
        ZumaTokenBucket bucket;

        /* 1000 B/s, 500 B of burst: the first 500 go at once, then 1 ms a
         * byte. */
        zuma_token_bucket_init(&bucket, 1000, 500);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 200, 0), ==, 0);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 300, 0), ==, 0);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1, 0), ==, 1 * MS);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1, 0), ==, 2 * MS);
}

static void test_steady(void)
{
        ZumaTokenBucket bucket;
        gint64 now = 0;

        /* 1000 B/s, 100 B of burst, 100 B every time the caller may go. */
        zuma_token_bucket_init(&bucket, 1000, 100);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 100, now), ==, 0);
        for (int i = 0; i < 50; i++) {
                gint64 delay = zuma_token_bucket_delay_us(&bucket, 100, now);

                g_assert_cmpint(delay, ==, 100 * MS);
                now += delay;
        }
        /* 5 s for 5100 bytes: the burst, then 1000 B/s exactly. */
        g_assert_cmpint(now, ==, 5 * S);
}

static void test_refill_cap(void)
{
        ZumaTokenBucket bucket;

        zuma_token_bucket_init(&bucket, 1000, 100);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 100, 0), ==, 0);
        /* A long pause fills the bucket to the burst, not beyond. */
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 100, 3600 * (gint64)S), ==, 0);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1, 3600 * (gint64)S), ==, 1 * MS);
        /* Half the way: 50 bytes of credit back after 50 ms... */
        zuma_token_bucket_init(&bucket, 1000, 100);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 100, 10 * S), ==, 0);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 50, 10 * S + 50 * MS), ==, 0);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1, 10 * S + 50 * MS), ==, 1 * MS);
        /* ... and a clock that goes back refills nothing. */
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1, 0), ==, 2 * MS);
}

static void test_above_burst(void)
{
        ZumaTokenBucket bucket;

        /* 5000 bytes through a 100-byte bucket: they go, and the wait pays
         * for the 4900 beyond the burst. */
        zuma_token_bucket_init(&bucket, 1000, 100);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 5000, 0), ==, 4900 * MS);
        /* Paid at 4.9 s: the next byte waits its 1 ms. */
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1, 4900 * MS), ==, 1 * MS);
        /* A full-size DATA frame at 1 MiB/s after the burst. */
        zuma_token_bucket_init(&bucket, 1024 * 1024, 1024 * 1024);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1024 * 1024, 0), ==, 0);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 256 * 1024, 0), ==, S / 4);
}

static void test_rounding(void)
{
        ZumaTokenBucket bucket;

        /* 3 B/s: a byte is 333 333.3 µs, rounded up so the rate holds. */
        zuma_token_bucket_init(&bucket, 3, 1);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1, 0), ==, 0);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1, 0), ==, 333334);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1, 0), ==, 666667);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1, 0), ==, S);
        /* burst 0: one second's worth. */
        zuma_token_bucket_init(&bucket, 10, 0);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 10, 0), ==, 0);
        g_assert_cmpint(zuma_token_bucket_delay_us(&bucket, 1, 0), ==, 100 * MS);
}

static void test_wait(void)
{
        ZumaTokenBucket bucket;
        gint64 start;

        /* 100 kB/s, 1 kB of burst: 2 kB more take 20 ms. */
        zuma_token_bucket_init(&bucket, 100000, 1000);
        start = g_get_monotonic_time();
        g_assert_true(zuma_token_bucket_wait(&bucket, 1000, NULL, NULL));
        g_assert_true(zuma_token_bucket_wait(&bucket, 2000, NULL, NULL));
        g_assert_cmpint(g_get_monotonic_time() - start, >=, 20 * MS);
}

static gpointer cancel_thread(gpointer data)
{
        g_usleep(20 * MS);
        g_cancellable_cancel(data);
        return NULL;
}

static void test_wait_cancelled(void)
{
        g_autoptr(GCancellable) cancellable = g_cancellable_new();
        g_autoptr(GError) error = NULL;
        ZumaTokenBucket bucket;
        GThread *thread;
        gint64 start;

        /* A wait of an hour, cancelled after 20 ms from another thread. */
        zuma_token_bucket_init(&bucket, 1, 1);
        start = g_get_monotonic_time();
        thread = g_thread_new("cancel", cancel_thread, cancellable);
        g_assert_false(zuma_token_bucket_wait(&bucket, 3601, cancellable, &error));
        g_thread_join(thread);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        g_assert_cmpint(g_get_monotonic_time() - start, <, 60 * S);
        /* Already cancelled: at once. */
        g_clear_error(&error);
        g_assert_false(zuma_token_bucket_wait(&bucket, 1, cancellable, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/token-bucket/unlimited", test_unlimited);
        g_test_add_func("/token-bucket/burst", test_burst);
        g_test_add_func("/token-bucket/steady", test_steady);
        g_test_add_func("/token-bucket/refill-cap", test_refill_cap);
        g_test_add_func("/token-bucket/above-burst", test_above_burst);
        g_test_add_func("/token-bucket/rounding", test_rounding);
        g_test_add_func("/token-bucket/wait", test_wait);
        g_test_add_func("/token-bucket/wait-cancelled", test_wait_cancelled);
        return g_test_run();
}
