/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A volume's schedule: how many snapshots each class keeps, and the
 * commands run around each snapshot.
 *
 *   class    instants (UTC)                           name label
 *   every    multiples of --every since the epoch     every
 *   hourly   every hour on the hour                   hourly
 *   daily    00:00                                    daily
 *   weekly   Monday 00:00                             weekly
 *   monthly  the 1st, 00:00                           monthly
 *   yearly   January 1st, 00:00                       yearly
 *
 * A class is on when it keeps at least one snapshot; a schedule has at
 * least one class on.  The classes are ordered by the length of their
 * period (the every class by its interval, below a calendar class of the
 * same length): the order picks the class a snapshot is named after (the
 * largest it serves) and the auto-delete priorities (zuma-schedule-prune.h).
 *
 * Everything here is checked as untrusted input: counts 1..65536 (and at
 * most ZUMA_MAX_SNAPSHOTS together), the every interval whole minutes from
 * 1m to 366d, commands at most ZUMA_SCHEDULE_COMMAND_MAX bytes of printable
 * UTF-8 whose first word is an absolute path (they run without a shell,
 * split into words as a shell would), the command timeout 1s..1h.  Errors
 * are ZUMA_ERROR_INVALID_ARGUMENT (ZUMA_ERROR_LIMIT_EXCEEDED for a total
 * over ZUMA_MAX_SNAPSHOTS) and name the field as the bus option and the
 * zumactl option call it ("hourly", "every", "keep", "pre", "post",
 * "command_timeout").
 *
 * Key file form (one group per volume, group name chosen by the caller):
 *
 *   Hourly=24  Daily=7  Weekly=4  Monthly=12  Yearly=2   (absent: off)
 *   Every=15m  Keep=8                                    (together or not at all)
 *   Pre=/usr/local/sbin/db-flush --quiet  Post=...       (absent: none)
 *   CommandTimeout=1m                                    (absent: 1m)
 *
 * a{sv} form, as the bus method will take it: "hourly", "daily", "weekly",
 * "monthly", "yearly", "keep" (i), "every", "pre", "post",
 * "command_timeout" (s).
 */
#pragma once

#include <gio/gio.h>

#include "zuma-limits.h"

G_BEGIN_DECLS

typedef enum {
        ZUMA_SCHEDULE_EVERY,
        ZUMA_SCHEDULE_HOURLY,
        ZUMA_SCHEDULE_DAILY,
        ZUMA_SCHEDULE_WEEKLY,
        ZUMA_SCHEDULE_MONTHLY,
        ZUMA_SCHEDULE_YEARLY,
} ZumaScheduleClass;

#define ZUMA_SCHEDULE_N_CLASSES 6
/* A set of classes, as a bit mask. */
#define ZUMA_SCHEDULE_CLASS_BIT(c) (1u << (c))
#define ZUMA_SCHEDULE_ALL_CLASSES ((1u << ZUMA_SCHEDULE_N_CLASSES) - 1)

#define ZUMA_SCHEDULE_KEEP_MAX ZUMA_MAX_SNAPSHOTS
#define ZUMA_SCHEDULE_EVERY_MIN 60                               /* 1m */
#define ZUMA_SCHEDULE_EVERY_MAX (366 * G_GINT64_CONSTANT(86400)) /* 366d */
#define ZUMA_SCHEDULE_COMMAND_MAX 1024                           /* bytes */
#define ZUMA_SCHEDULE_COMMAND_TIMEOUT_MIN 1                      /* 1s */
#define ZUMA_SCHEDULE_COMMAND_TIMEOUT_MAX 3600                   /* 1h */
#define ZUMA_SCHEDULE_COMMAND_TIMEOUT_DEFAULT 60                 /* 1m */

typedef struct {
        guint32 keep[ZUMA_SCHEDULE_N_CLASSES]; /* snapshots each class keeps; 0: off */
        gint64 every;                          /* seconds between every-class instants; 0: off */
        char *pre_command;                     /* run before each snapshot; NULL: none */
        char *post_command;                    /* run after each snapshot; NULL: none */
        gint64 command_timeout;                /* seconds each command may run */
} ZumaSchedule;

/* An empty schedule (no class on: not valid until one is set). */
ZumaSchedule *zuma_schedule_new(void);
ZumaSchedule *zuma_schedule_copy(const ZumaSchedule *schedule);
void zuma_schedule_free(ZumaSchedule *schedule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaSchedule, zuma_schedule_free)

gboolean zuma_schedule_equal(const ZumaSchedule *a, const ZumaSchedule *b);

/* Whether schedule holds together, as described above. */
gboolean zuma_schedule_validate(const ZumaSchedule *schedule, GError **error);

/* The schedule in group of key_file, validated.  A missing group is
 * ZUMA_ERROR_NOT_FOUND; an unknown key, a malformed value or an invalid
 * schedule is ZUMA_ERROR_INVALID_ARGUMENT naming the key. */
ZumaSchedule *zuma_schedule_from_keyfile(GKeyFile *key_file, const char *group, GError **error);

/* Replaces group of key_file with schedule (valid). */
void zuma_schedule_to_keyfile(const ZumaSchedule *schedule, GKeyFile *key_file, const char *group);

/* The schedule an a{sv} of options describes, validated. */
ZumaSchedule *zuma_schedule_from_options(GVariant *options, GError **error);

/* schedule (valid) as a floating a{sv} that zuma_schedule_from_options()
 * reads back to an equal schedule. */
GVariant *zuma_schedule_to_options(const ZumaSchedule *schedule);

static inline gboolean zuma_schedule_has_class(const ZumaSchedule *schedule,
                                               ZumaScheduleClass class_)
{
        return schedule->keep[class_] > 0;
}

/* The classes that are on, as a mask. */
guint zuma_schedule_classes(const ZumaSchedule *schedule);

/* "every", "hourly", ... as in names and messages; and back (FALSE for
 * anything else, *ret_class untouched). */
const char *zuma_schedule_class_name(ZumaScheduleClass class_);
gboolean zuma_schedule_class_from_name(const char *name, ZumaScheduleClass *ret_class);

/* The longest time between two instants of a class: the every interval,
 * 1h, 1d, 7d, 31d, 366d. */
gint64 zuma_schedule_class_longest_gap(const ZumaSchedule *schedule, ZumaScheduleClass class_);

/* The class's place in the order of classes, 0 (shortest period) to
 * ZUMA_SCHEDULE_N_CLASSES - 1.  Depends on the every interval only. */
guint zuma_schedule_class_rank(const ZumaSchedule *schedule, ZumaScheduleClass class_);

/* The largest class of a non-empty mask, by rank. */
ZumaScheduleClass zuma_schedule_largest_class(const ZumaSchedule *schedule, guint classes);

G_END_DECLS
