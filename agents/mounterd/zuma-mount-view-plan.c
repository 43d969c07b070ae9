/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-mounterd"

#include "zuma-mount-view-plan.h"

char *zuma_mount_gmt_name(guint64 creation_time)
{
        g_autoptr(GDateTime) time = NULL;

        if (creation_time > (guint64)G_MAXINT64)
                return NULL;
        time = g_date_time_new_from_unix_utc((gint64)creation_time);
        if (!time)
                return NULL;
        return g_date_time_format(time, "@GMT-%Y.%m.%d-%H.%M.%S");
}

void zuma_mount_view_plan(const ZumaViewSource *sources, guint n_sources, GHashTable **ret_gmt,
                          GHashTable **ret_names)
{
        g_autoptr(GHashTable) gmt = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr(GHashTable) names =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        /* GMT name -> the id that holds it. */
        g_autoptr(GHashTable) holder = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        for (guint i = 0; i < n_sources; i++) {
                const ZumaViewSource *source = &sources[i];
                g_autofree char *gmt_name = zuma_mount_gmt_name(source->creation_time);
                gpointer held;

                g_hash_table_replace(names, g_strdup(source->name), g_strdup(source->target));
                if (!gmt_name)
                        continue;
                if (g_hash_table_lookup_extended(holder, gmt_name, NULL, &held) &&
                    GPOINTER_TO_UINT(held) > source->id)
                        continue;
                g_hash_table_replace(holder, g_strdup(gmt_name), GUINT_TO_POINTER(source->id));
                g_hash_table_replace(gmt, g_steal_pointer(&gmt_name), g_strdup(source->target));
        }
        *ret_gmt = g_steal_pointer(&gmt);
        *ret_names = g_steal_pointer(&names);
}
