/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Durations for people, as a notification says them: "about 6 hours".
 *
 * Rounded to the nearest unit that keeps the number small, because a
 * forecast is an estimate and "5 hours 47 minutes" claims a precision it
 * does not have:
 *
 *   under 1 minute        "less than a minute"
 *   under 59.5 minutes    "about N minutes" ("about a minute" for 1)
 *   under 36 hours        "about N hours"   ("about an hour" for 1)
 *   beyond                "about N days"    (36 hours are "about 2 days")
 *
 * 59 min 40 s is "about an hour", not "about 60 minutes": the minutes end
 * where their rounding would reach the hour.  Hours end at a day and a
 * half, where "about 2 days" is as true as "about 36 hours" and easier.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* seconds (negative counts as 0) in words; free with g_free(). */
char *zuma_humanize_duration(gint64 seconds);

/* The usage forecast's sentence from the Volume property
 * StoreFullInSeconds: "full in about 6 hours at the current rate", or
 * NULL when there is no forecast (negative: unknown or not growing). */
char *zuma_humanize_full_in(gint64 full_in_seconds);

/* How long a transfer took, exact enough to compare runs: "0.4 s",
 * "4 s", "3 min 20 s", "2 h 5 min" (negative counts as 0). */
char *zuma_humanize_elapsed(gdouble seconds);

G_END_DECLS
