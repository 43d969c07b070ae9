/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedule-prune"

#include "zuma-schedule-prune.h"

#include <string.h>

#include "zuma-schedule-calendar.h"
#include "zuma-schedule-name.h"

gint32 zuma_schedule_class_priority(const ZumaSchedule *schedule, ZumaScheduleClass class_)
{
        guint rank = zuma_schedule_class_rank(schedule, class_);

        return -ZUMA_SCHEDULE_PRIORITY_STEP * (gint32)(ZUMA_SCHEDULE_N_CLASSES - rank);
}

typedef struct {
        gint64 instant;
        gsize index; /* into the snapshots */
} Counted;

static gint compare_counted(gconstpointer a, gconstpointer b)
{
        const Counted *x = a, *y = b;

        if (x->instant != y->instant)
                return x->instant < y->instant ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

static gint32 priority_of(const ZumaSchedule *schedule, guint kept_by)
{
        gint32 priority = G_MININT32;

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (kept_by & ZUMA_SCHEDULE_CLASS_BIT(c))
                        priority = MAX(priority, zuma_schedule_class_priority(schedule, c));
        return kept_by ? priority : -ZUMA_SCHEDULE_PRIORITY_STEP * ZUMA_SCHEDULE_N_CLASSES;
}

/* Marks in kept_by the first snapshot of each of class_'s newest keep
 * periods; counted is sorted oldest first. */
static void keep_class(const ZumaSchedule *schedule, ZumaScheduleClass class_,
                       const Counted *counted, gsize n_counted, ZumaPruneVerdict *verdicts)
{
        guint32 left = schedule->keep[class_];

        /* From the newest down: a snapshot opens its period when the one
         * before it (older) lies in an earlier period. */
        for (gsize i = n_counted; i-- > 0 && left > 0;) {
                gint64 start = zuma_schedule_period_start(schedule, class_, counted[i].instant);

                if (i > 0 && counted[i - 1].instant >= start)
                        continue;
                verdicts[counted[i].index].kept_by |= ZUMA_SCHEDULE_CLASS_BIT(class_);
                left--;
        }
}

void zuma_schedule_prune(const ZumaSchedule *schedule, const char *volume, gint64 now,
                         const ZumaPruneSnapshot *snapshots, gsize n,
                         ZumaPruneVerdict *ret_verdicts)
{
        g_autoptr(GArray) counted = g_array_new(FALSE, FALSE, sizeof(Counted));
        g_autofree ZumaPruneVerdict *verdicts = g_new0(ZumaPruneVerdict, MAX(n, 1));

        g_return_if_fail(zuma_schedule_classes(schedule) != 0);
        g_return_if_fail(n == 0 || (snapshots && ret_verdicts));

        for (gsize i = 0; i < n; i++) {
                ZumaPruneVerdict *v = &verdicts[i];

                if (!zuma_schedule_name_parse(volume, snapshots[i].name, &v->label, &v->instant)) {
                        v->action = ZUMA_PRUNE_NOT_SCHEDULED;
                        continue;
                }
                v->action = ZUMA_PRUNE_DELETE; /* unless kept, below */
                if (v->instant <= now) {
                        Counted c = { v->instant, i };

                        g_array_append_val(counted, c);
                }
        }
        g_array_sort(counted, compare_counted);
        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (zuma_schedule_has_class(schedule, c))
                        keep_class(schedule, c, (const Counted *)counted->data, counted->len,
                                   verdicts);

        for (gsize i = 0; i < n; i++) {
                ZumaPruneVerdict *v = &verdicts[i];

                if (v->action == ZUMA_PRUNE_NOT_SCHEDULED)
                        continue;
                if (v->instant > now) {
                        v->action = ZUMA_PRUNE_KEEP;
                        v->priority = zuma_schedule_class_priority(schedule, v->label);
                } else if (v->kept_by || snapshots[i].pinned) {
                        v->action = ZUMA_PRUNE_KEEP;
                        v->priority = priority_of(schedule, v->kept_by);
                }
        }
        /* With no snapshots both may be NULL, which memcpy may not get. */
        if (n)
                memcpy(ret_verdicts, verdicts, n * sizeof(*verdicts));
}
