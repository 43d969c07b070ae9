/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedule-plan"

#include "zuma-schedule-plan.h"

#include <stdlib.h>

#include "zuma-schedule-calendar.h"
#include "zuma-schedule-name.h"
#include "zuma-utc.h"

static int compare_instants(const void *a, const void *b)
{
        gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

        return (x > y) - (x < y);
}

void zuma_schedule_plan(const ZumaSchedule *schedule, gint64 last_handled, gint64 now,
                        const gint64 *taken, gsize n_taken, ZumaSchedulePlan *ret_plan)
{
        ZumaSchedulePlan plan = { 0 };
        gint64 latest = zuma_schedule_latest_instant(schedule, now);
        gint64 previous = ZUMA_SCHEDULE_NEVER; /* the newest snapshot at or before now */
        gint64 handled;

        g_return_if_fail(zuma_schedule_classes(schedule) != 0);
        g_return_if_fail(zuma_utc_in_range(now));
        g_return_if_fail(n_taken == 0 || taken);

        for (gsize i = 0; i < n_taken; i++)
                if (taken[i] <= now)
                        previous = MAX(previous, taken[i]);
        /* The clock went back: what lies after now was handled in a future
         * that did not happen; only the snapshots taken then count. */
        handled = last_handled <= now ? MAX(last_handled, previous) : previous;

        if (latest > handled && latest >= ZUMA_UTC_MIN) {
                plan.due = TRUE;
                plan.instant = latest;
                plan.classes = zuma_schedule_classes_starting(schedule, previous, latest);
                plan.label = zuma_schedule_largest_class(schedule, plan.classes);
                handled = latest;
        }
        plan.handled = handled;

        /* Instants that already have a snapshot (the clock went back) are
         * skipped; each step passes one of them, so this ends.  Past the
         * range no name, so no snapshot: the calendar stops there. */
        plan.next = zuma_schedule_next_instant(schedule, now);
        if (n_taken > 0) {
                g_autofree gint64 *sorted = g_memdup2(taken, n_taken * sizeof(*taken));

                qsort(sorted, n_taken, sizeof(*sorted), compare_instants);
                while (zuma_utc_in_range(plan.next) &&
                       bsearch(&plan.next, sorted, n_taken, sizeof(*sorted), compare_instants))
                        plan.next = zuma_schedule_next_instant(schedule, plan.next);
        }
        *ret_plan = plan;
}

char *zuma_schedule_plan_name(const ZumaSchedulePlan *plan, const char *volume)
{
        g_return_val_if_fail(plan->due, NULL);
        return zuma_schedule_name_format(volume, plan->label, plan->instant);
}
