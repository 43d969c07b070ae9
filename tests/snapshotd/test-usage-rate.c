/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaUsageRate (agents/snapshotd/zuma-usage-rate.h), the estimator
 * behind the Volume properties StoreUsageRate and StoreFullInSeconds,
 * fed made-up monotonic times: steady growth, shrinking, too few samples,
 * and the clock's edge cases.
 */
#include "zuma-usage-rate.h"

#define S G_USEC_PER_SEC
#define GiB (G_GUINT64_CONSTANT(1) << 30)

/* Zeroed, as a volume's struct is. */
static ZumaUsageRate *rate_new(void)
{
        return g_new0(ZumaUsageRate, 1);
}

/* One sample a second from start (seconds) for seconds, growing by
 * per_second from used. */
static void feed(ZumaUsageRate *r, gint64 start, gint64 seconds, guint64 used, gint64 per_second)
{
        for (gint64 t = 0; t < seconds; t++)
                zuma_usage_rate_add(r, (start + t) * S, used + (guint64)(t * per_second));
}

static void test_steady(void)
{
        g_autofree ZumaUsageRate *r = rate_new();
        gint64 full_in = 0;
        double rate;

        /* 20 minutes at 1 MiB/s: more than the window, so the ring wraps. */
        feed(r, 1000, 20 * 60, GiB, 1 << 20);
        g_assert_cmpuint(zuma_usage_rate_count(r), <=, ZUMA_USAGE_RATE_CAPACITY);
        g_assert_cmpuint(zuma_usage_rate_count(r), >=, ZUMA_USAGE_RATE_CAPACITY - 2);
        rate = zuma_usage_rate_estimate(r, 3600 * (guint64)(1 << 20), &full_in);
        g_assert_cmpfloat_with_epsilon(rate, 1 << 20, 1e-3);
        g_assert_cmpint(full_in, >=, 3600);
        g_assert_cmpint(full_in, <=, 3601);
        /* A full store stays full in 0 seconds, not unknown. */
        rate = zuma_usage_rate_estimate(r, 0, &full_in);
        g_assert_cmpint(full_in, ==, 0);

        /* A step: 100 MiB at once, then flat; the slope through the window
         * is positive while the step lies in it. */
        zuma_usage_rate_reset(r);
        feed(r, 0, 60, GiB, 0);
        feed(r, 60, 60, GiB + 100 * (1 << 20), 0);
        rate = zuma_usage_rate_estimate(r, GiB, &full_in);
        g_assert_cmpfloat(rate, >, 0);
        g_assert_cmpint(full_in, >, 0);
        /* Once the step left the window, it is flat: not growing. */
        feed(r, 120, ZUMA_USAGE_RATE_WINDOW_US / S + 60, GiB + 100 * (1 << 20), 0);
        g_assert_cmpfloat(zuma_usage_rate_estimate(r, GiB, &full_in), ==, 0);
        g_assert_cmpint(full_in, ==, -1);
}

static void test_shrink(void)
{
        g_autofree ZumaUsageRate *r = rate_new();
        gint64 full_in = 0;

        /* Deletes free space: a negative slope is "not growing". */
        feed(r, 0, 120, 10 * GiB, -(1 << 20));
        g_assert_cmpfloat(zuma_usage_rate_estimate(r, GiB, &full_in), ==, 0);
        g_assert_cmpint(full_in, ==, -1);
        /* Flat, and slower than 1 B/s, are not growing either. */
        zuma_usage_rate_reset(r);
        feed(r, 0, 120, GiB, 0);
        g_assert_cmpfloat(zuma_usage_rate_estimate(r, GiB, &full_in), ==, 0);
        g_assert_cmpint(full_in, ==, -1);
        zuma_usage_rate_reset(r);
        zuma_usage_rate_add(r, 0, GiB);
        zuma_usage_rate_add(r, 300 * S, GiB);
        zuma_usage_rate_add(r, 600 * S, GiB + 100);
        g_assert_cmpfloat(zuma_usage_rate_estimate(r, GiB, &full_in), ==, 0);
        g_assert_cmpint(full_in, ==, -1);
}

static void test_too_few(void)
{
        g_autofree ZumaUsageRate *r = rate_new();
        gint64 full_in = 0;

        g_assert_cmpfloat(zuma_usage_rate_estimate(r, GiB, &full_in), ==, 0);
        g_assert_cmpint(full_in, ==, -1);
        zuma_usage_rate_add(r, 0, 0);
        zuma_usage_rate_add(r, 60 * S, GiB);
        g_assert_cmpuint(zuma_usage_rate_count(r), ==, 2);
        g_assert_cmpfloat(zuma_usage_rate_estimate(r, GiB, &full_in), ==, 0);
        g_assert_cmpint(full_in, ==, -1);
        /* Three samples, but less than the minimum span. */
        zuma_usage_rate_reset(r);
        zuma_usage_rate_add(r, 0, 0);
        zuma_usage_rate_add(r, 5 * S, GiB);
        zuma_usage_rate_add(r, 9 * S, 2 * GiB);
        g_assert_cmpuint(zuma_usage_rate_count(r), ==, 3);
        g_assert_cmpfloat(zuma_usage_rate_estimate(r, GiB, &full_in), ==, 0);
        /* The minimum span reached. */
        zuma_usage_rate_add(r, 10 * S, 2 * GiB);
        g_assert_cmpfloat(zuma_usage_rate_estimate(r, GiB, &full_in), >, 0);
        g_assert_cmpint(full_in, >, 0);
}

static void test_clock(void)
{
        g_autofree ZumaUsageRate *r = rate_new();
        gint64 full_in = 0;

        /* A burst of refreshes within the spacing costs no room: the
         * newest is replaced, the estimate sees its latest value. */
        zuma_usage_rate_add(r, 0, 0);
        for (int i = 1; i <= 1000; i++)
                zuma_usage_rate_add(r, i * 1000, (guint64)i);
        g_assert_cmpuint(zuma_usage_rate_count(r), ==, 2);
        /* The same time again replaces the newest. */
        zuma_usage_rate_add(r, 1000 * 1000, 5);
        g_assert_cmpuint(zuma_usage_rate_count(r), ==, 2);

        /* A clock that goes back starts again from that sample. */
        zuma_usage_rate_reset(r);
        feed(r, 1000, 120, GiB, 1000);
        g_assert_cmpfloat_with_epsilon(zuma_usage_rate_estimate(r, GiB, NULL), 1000, 1e-6);
        zuma_usage_rate_add(r, 10 * S, GiB);
        g_assert_cmpuint(zuma_usage_rate_count(r), ==, 1);
        g_assert_cmpfloat(zuma_usage_rate_estimate(r, GiB, &full_in), ==, 0);
        g_assert_cmpint(full_in, ==, -1);

        /* A gap longer than the window (the refresh stalled): the old
         * samples drop out, and the estimate waits for new ones. */
        zuma_usage_rate_reset(r);
        feed(r, 0, 120, GiB, 1000);
        zuma_usage_rate_add(r, 120 * S + ZUMA_USAGE_RATE_WINDOW_US + S, GiB);
        g_assert_cmpuint(zuma_usage_rate_count(r), ==, 1);
        g_assert_cmpfloat(zuma_usage_rate_estimate(r, GiB, NULL), ==, 0);

        /* Times near the end of gint64 and sizes near the end of guint64
         * lose nothing: only differences are summed. */
        zuma_usage_rate_reset(r);
        feed(r, G_MAXINT64 / S - 200, 120, G_MAXUINT64 - 10 * GiB, 4096);
        g_assert_cmpfloat_with_epsilon(zuma_usage_rate_estimate(r, 4096 * 100, &full_in), 4096,
                                       1e-6);
        g_assert_cmpint(full_in, ==, 100);

        /* A tiny rate against a huge store stays a defined number. */
        zuma_usage_rate_reset(r);
        feed(r, 0, 120, 0, 2);
        zuma_usage_rate_estimate(r, G_MAXUINT64, &full_in);
        g_assert_cmpint(full_in, >, 0);
}

static void test_round(void)
{
        double rate = 1234567.0;
        gint64 full_in = 21599;

        zuma_usage_rate_round(&rate, &full_in);
        g_assert_cmpfloat_with_epsilon(rate, 1230000.0, 1e-6);
        g_assert_cmpint(full_in, ==, 22000);
        rate = 0;
        full_in = -1;
        zuma_usage_rate_round(&rate, &full_in);
        g_assert_cmpfloat(rate, ==, 0);
        g_assert_cmpint(full_in, ==, -1);
        rate = 1.004;
        full_in = 7;
        zuma_usage_rate_round(&rate, &full_in);
        g_assert_cmpfloat_with_epsilon(rate, 1.0, 1e-9);
        g_assert_cmpint(full_in, ==, 7);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/usage-rate/steady", test_steady);
        g_test_add_func("/usage-rate/shrink", test_shrink);
        g_test_add_func("/usage-rate/too-few", test_too_few);
        g_test_add_func("/usage-rate/clock", test_clock);
        g_test_add_func("/usage-rate/round", test_round);
        return g_test_run();
}
