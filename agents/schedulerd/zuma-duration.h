/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Durations as people write them: one or more NUMBER UNIT pairs, units in
 * decreasing order, each at most once, no spaces and no sign:
 *
 *   s  second      "30s"
 *   m  minute      "15m"
 *   h  hour        "2h", "1h30m"
 *   d  day         "1d"
 *   w  week        "1w" (7 days)
 *
 * A month or a year is not a duration here (their length varies); the
 * schedule's monthly and yearly classes are calendar classes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bytes in a duration's text. */
#define ZUMA_DURATION_TEXT_MAX 32

/* The seconds text stands for, in [min, max].  what names the field in
 * messages ("every"); a failure is ZUMA_ERROR_INVALID_ARGUMENT saying what
 * is wrong: empty, too long, a sign, a number without unit, an unknown or
 * repeated unit, or out of range (min and max written as durations). */
gboolean zuma_duration_parse(const char *what, const char *text, gint64 min, gint64 max,
                             gint64 *ret_seconds, GError **error);

/* seconds (>= 0) written as zuma_duration_parse() reads it, largest units
 * first: 5400 is "1h30m", 0 is "0s". */
char *zuma_duration_format(gint64 seconds);

G_END_DECLS
