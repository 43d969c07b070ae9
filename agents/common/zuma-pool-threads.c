/* SPDX-License-Identifier: GPL-2.0-only */
#include "zuma-pool-threads.h"

/* GLib names its pool threads "pool-..." (/proc/self/task/N/comm). */
static guint pool_threads(void)
{
        g_autoptr(GDir) tasks = g_dir_open("/proc/self/task", 0, NULL);
        const char *task;
        guint n = 0;

        while (tasks && (task = g_dir_read_name(tasks))) {
                g_autofree char *path = g_strdup_printf("/proc/self/task/%s/comm", task);
                g_autofree char *name = NULL;

                if (g_file_get_contents(path, &name, NULL, NULL) && g_str_has_prefix(name, "pool-"))
                        n++;
        }
        return n;
}

void zuma_pool_threads_keep_none(void)
{
        g_thread_pool_set_max_unused_threads(0);
}

gboolean zuma_pool_threads_wait_gone(guint timeout_ms)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

        while (pool_threads() > 0) {
                if (g_get_monotonic_time() >= deadline)
                        return FALSE;
                g_usleep(20000);
        }
        return TRUE;
}
