/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The names of scheduled snapshots:
 *
 *   VOLUME-CLASS-YYYY-MM-DD-HH:MM      vol-hourly-2026-12-06-14:00
 *                                      vol-daily-2026-12-06-00:00
 *
 * CLASS is the largest class the snapshot served when it was taken
 * ("every", "hourly", "daily", "weekly", "monthly", "yearly"), the time is
 * the instant it stands for (not the second it was taken) in UTC, always
 * in UTC whatever the host's time zone.  ':' is allowed in snapshot names
 * (busapi/zuma-name-rule.h keeps it for this, and for the server's own
 * VOLUME-YYYY-MM-DD-HH:MM:SS) and never in volume names, so the longest
 * name, a 63-byte volume and "-monthly-YYYY-MM-DD-HH:MM", is 88 bytes, well
 * within the 127 a snapshot name may have.
 *
 * The scheduler recognises its snapshots by this name alone, parsed
 * strictly: exactly the volume's name and '-', a class name, '-', and a
 * time with two-digit fields (four for the year) that exists in the
 * calendar, and nothing after.  The server's default names
 * (VOLUME-YYYY-MM-DD-HH:MM:SS) and anything else are hand-taken snapshots
 * the scheduler never touches.  A snapshot a user names like a scheduled one
 * is taken for one.
 */
#pragma once

#include <glib.h>

#include "zuma-schedule.h"

G_BEGIN_DECLS

/* The name of volume's (a valid volume name) snapshot at instant (whole
 * minutes, in range), named after class_. */
char *zuma_schedule_name_format(const char *volume, ZumaScheduleClass class_, gint64 instant);

/* Whether name is one of volume's scheduled snapshots; if so (and when not
 * NULL) *ret_class and *ret_instant get its class and instant, otherwise
 * they are left untouched. */
gboolean zuma_schedule_name_parse(const char *volume, const char *name,
                                  ZumaScheduleClass *ret_class, gint64 *ret_instant);

G_END_DECLS
