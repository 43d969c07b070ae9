/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaUsageRate: how fast a store's used space grows, and when it will be
 * full at that pace.  A ring of (monotonic time, used bytes) samples, fed
 * by the volume's refreshes; no clock of its own, no GObject, so
 * tests/snapshotd/test-usage-rate.c drives it with made-up times.
 *
 * The estimate (the contract of the Volume properties StoreUsageRate and
 * StoreFullInSeconds, dbus/org.zumastor.Zumastor1.Volume.xml):
 *
 * - Samples: every refresh offers one.  The newest sample is provisional
 *   while it lies less than ZUMA_USAGE_RATE_SPACING_US after the one
 *   before it: the next sample replaces it.  So the ring holds samples
 *   that far apart (the newest excepted), and a burst of refreshes costs
 *   no room.  Samples
 *   older than ZUMA_USAGE_RATE_WINDOW_US before the newest drop out.
 * - Clock: a sample at the newest's time replaces it; one from before it
 *   (a clock that went back: never CLOCK_MONOTONIC, but the caller's
 *   business) forgets every sample and starts again from it.
 * - Rate: the least-squares slope of used bytes over time through every
 *   sample in the window, in bytes per second; unknown (0) with fewer
 *   than ZUMA_USAGE_RATE_MIN_SAMPLES samples or a span under
 *   ZUMA_USAGE_RATE_MIN_SPAN_US.  A slope under 1 B/s (shrinking: deletes
 *   freed space; or flat) is "not growing", 0.
 * - Full in: ceil(free bytes / rate) seconds, -1 when the rate is 0.
 *
 * zuma_usage_rate_round() gives the figures the volume publishes: the
 * rate to three significant digits, the time to two, so that a steady
 * pace does not change a property at every refresh.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ZUMA_USAGE_RATE_WINDOW_US (15 * 60 * G_USEC_PER_SEC)
#define ZUMA_USAGE_RATE_SPACING_US (5 * G_USEC_PER_SEC)
#define ZUMA_USAGE_RATE_MIN_SAMPLES 3
#define ZUMA_USAGE_RATE_MIN_SPAN_US (10 * G_USEC_PER_SEC)
/* Enough for a full window at the spacing, and the newest. */
#define ZUMA_USAGE_RATE_CAPACITY \
        ((guint)(ZUMA_USAGE_RATE_WINDOW_US / ZUMA_USAGE_RATE_SPACING_US) + 2)

typedef struct {
        gint64 time_us;     /* monotonic microseconds */
        guint64 used_bytes; /* data + metadata */
} ZumaUsageSample;

typedef struct {
        ZumaUsageSample samples[ZUMA_USAGE_RATE_CAPACITY];
        guint first; /* index of the oldest sample */
        guint count;
} ZumaUsageRate;

/* Forgets every sample (the volume stopped). */
void zuma_usage_rate_reset(ZumaUsageRate *self);
void zuma_usage_rate_add(ZumaUsageRate *self, gint64 time_us, guint64 used_bytes);
guint zuma_usage_rate_count(const ZumaUsageRate *self);
/* Bytes per second the used space grew over the window, 0 when not
 * growing or unknown; *ret_full_in_s (may be NULL) the seconds until
 * free_bytes are used up at that rate, -1 when the rate is 0. */
double zuma_usage_rate_estimate(const ZumaUsageRate *self, guint64 free_bytes,
                                gint64 *ret_full_in_s);
/* The published figures: rate to three significant digits, full-in to two
 * (-1 stays -1). */
void zuma_usage_rate_round(double *rate, gint64 *full_in_s);

G_END_DECLS
