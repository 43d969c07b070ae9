/* SPDX-License-Identifier: GPL-2.0-only */
/* ZumaUsageRate: the design is at the top of zuma-usage-rate.h. */
#include "zuma-usage-rate.h"

#include <math.h>

/* Anything slower counts as not growing: under one 16 KiB chunk in four
 * and a half hours. */
#define MIN_RATE 1.0
/* Past any store size; keeps the conversion to gint64 defined. */
#define MAX_FULL_IN_S 1e15

static ZumaUsageSample *sample_at(ZumaUsageRate *self, guint i)
{
        return &self->samples[(self->first + i) % ZUMA_USAGE_RATE_CAPACITY];
}

static const ZumaUsageSample *sample_at_const(const ZumaUsageRate *self, guint i)
{
        return &self->samples[(self->first + i) % ZUMA_USAGE_RATE_CAPACITY];
}

static void drop_oldest(ZumaUsageRate *self)
{
        self->first = (self->first + 1) % ZUMA_USAGE_RATE_CAPACITY;
        self->count--;
}

void zuma_usage_rate_reset(ZumaUsageRate *self)
{
        self->first = 0;
        self->count = 0;
}

guint zuma_usage_rate_count(const ZumaUsageRate *self)
{
        return self->count;
}

void zuma_usage_rate_add(ZumaUsageRate *self, gint64 time_us, guint64 used_bytes)
{
        const ZumaUsageSample *newest = self->count ? sample_at(self, self->count - 1) : NULL;
        const ZumaUsageSample *before = self->count >= 2 ? sample_at(self, self->count - 2) : NULL;

        if (newest && time_us < newest->time_us)
                zuma_usage_rate_reset(self);
        else if (newest &&
                 (time_us == newest->time_us ||
                  (before && newest->time_us - before->time_us < ZUMA_USAGE_RATE_SPACING_US)))
                self->count--; /* the newest was provisional: replaced */
        if (self->count == ZUMA_USAGE_RATE_CAPACITY)
                drop_oldest(self);
        *sample_at(self, self->count) = (ZumaUsageSample){ time_us, used_bytes };
        self->count++;
        while (self->count > 1 && time_us - sample_at(self, 0)->time_us > ZUMA_USAGE_RATE_WINDOW_US)
                drop_oldest(self);
}

/* a - b as a double, without wrapping when b > a. */
static double difference(guint64 a, guint64 b)
{
        return a >= b ? (double)(a - b) : -(double)(b - a);
}

double zuma_usage_rate_estimate(const ZumaUsageRate *self, guint64 free_bytes,
                                gint64 *ret_full_in_s)
{
        const ZumaUsageSample *oldest, *newest;
        double mean_t = 0, mean_y = 0, sxy = 0, sxx = 0, rate, full_in;

        if (ret_full_in_s)
                *ret_full_in_s = -1;
        if (self->count < ZUMA_USAGE_RATE_MIN_SAMPLES)
                return 0;
        oldest = sample_at_const(self, 0);
        newest = sample_at_const(self, self->count - 1);
        if (newest->time_us - oldest->time_us < ZUMA_USAGE_RATE_MIN_SPAN_US)
                return 0;
        /* Times in seconds after the oldest, bytes above the oldest: small
         * numbers, so the sums lose nothing that matters. */
        for (guint i = 0; i < self->count; i++) {
                const ZumaUsageSample *s = sample_at_const(self, i);

                mean_t += (double)(s->time_us - oldest->time_us) / G_USEC_PER_SEC;
                mean_y += difference(s->used_bytes, oldest->used_bytes);
        }
        mean_t /= self->count;
        mean_y /= self->count;
        for (guint i = 0; i < self->count; i++) {
                const ZumaUsageSample *s = sample_at_const(self, i);
                double dt = (double)(s->time_us - oldest->time_us) / G_USEC_PER_SEC - mean_t;
                double dy = difference(s->used_bytes, oldest->used_bytes) - mean_y;

                sxy += dt * dy;
                sxx += dt * dt;
        }
        rate = sxx > 0 ? sxy / sxx : 0;
        if (!(rate >= MIN_RATE))
                return 0;
        full_in = ceil((double)free_bytes / rate);
        if (ret_full_in_s)
                *ret_full_in_s = (gint64)MIN(full_in, MAX_FULL_IN_S);
        return rate;
}

static double round_significant(double x, int digits)
{
        double scale;

        if (!(x > 0))
                return x;
        scale = pow(10, floor(log10(x)) - digits + 1);
        return round(x / scale) * scale;
}

void zuma_usage_rate_round(double *rate, gint64 *full_in_s)
{
        *rate = round_significant(*rate, 3);
        if (*full_in_s > 0)
                *full_in_s = (gint64)round_significant((double)*full_in_s, 2);
}
