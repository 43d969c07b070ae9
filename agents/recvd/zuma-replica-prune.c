/* SPDX-License-Identifier: GPL-2.0-only */
#include "zuma-replica-prune.h"

#include "zuma-schedule-name.h"

typedef struct {
        const char *name;
        gint64 instant;
} Scheduled;

static gint newest_first(gconstpointer a, gconstpointer b)
{
        const Scheduled *x = a, *y = b;

        return x->instant < y->instant ? 1 : x->instant > y->instant ? -1 : 0;
}

char **zuma_replica_prune(const char *source_volume, const char *const *names, guint n,
                          GVariant *keep, const char *newest)
{
        g_autoptr(GPtrArray) doomed = g_ptr_array_new();
        GVariantIter iter;
        const char *class_name;
        guint32 count;

        g_variant_iter_init(&iter, keep);
        while (g_variant_iter_next(&iter, "{&su}", &class_name, &count)) {
                g_autoptr(GArray) of_class = g_array_new(FALSE, FALSE, sizeof(Scheduled));
                ZumaScheduleClass wanted;

                if (!zuma_schedule_class_from_name(class_name, &wanted))
                        continue; /* checked when defined; an unknown one keeps all */
                for (guint i = 0; i < n; i++) {
                        ZumaScheduleClass class_;
                        Scheduled s = { names[i], 0 };

                        if (zuma_schedule_name_parse(source_volume, names[i], &class_,
                                                     &s.instant) &&
                            class_ == wanted)
                                g_array_append_val(of_class, s);
                }
                g_array_sort(of_class, newest_first);
                for (guint i = count; i < of_class->len; i++) {
                        const char *name = g_array_index(of_class, Scheduled, i).name;

                        if (g_strcmp0(name, newest) != 0)
                                g_ptr_array_add(doomed, g_strdup(name));
                }
        }
        g_ptr_array_add(doomed, NULL);
        return (char **)g_ptr_array_steal(doomed, NULL);
}
