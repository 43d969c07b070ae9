/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-notifyd"

#include "zuma-notify-config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "zuma-duration.h"

/* A configuration is a few lines; a larger file is a mistake. */
#define CONFIG_SIZE_MAX (64 * 1024)
#define GROUP_EVENTS "events"
#define GROUP_COALESCE "coalesce"

static const char *const class_keys[ZUMA_NOTIFY_N_CLASSES] = {
        [ZUMA_NOTIFY_SNAPSHOT_TAKEN] = "snapshot-taken",
        [ZUMA_NOTIFY_SNAPSHOT_DELETED] = "snapshot-deleted",
        [ZUMA_NOTIFY_USAGE] = "usage",
        [ZUMA_NOTIFY_FAILURE] = "failure",
        [ZUMA_NOTIFY_MISSED] = "missed",
        [ZUMA_NOTIFY_COMMAND] = "command",
        [ZUMA_NOTIFY_REPLICATION] = "replication",
        [ZUMA_NOTIFY_REPLICATION_FAILURE] = "replication-failure",
};

const char *zuma_notify_class_key(ZumaNotifyClass klass)
{
        g_return_val_if_fail(klass < ZUMA_NOTIFY_N_CLASSES, "");
        return class_keys[klass];
}

void zuma_notify_config_init(ZumaNotifyConfig *config)
{
        for (guint i = 0; i < ZUMA_NOTIFY_N_CLASSES; i++)
                config->enabled[i] = TRUE;
        config->window_seconds = ZUMA_NOTIFY_WINDOW_DEFAULT;
        config->batch_seconds = ZUMA_NOTIFY_BATCH_DEFAULT;
}

char *zuma_notify_config_default_path(void)
{
        return g_build_filename(g_get_user_config_dir(), "zumastor", "notify.conf", NULL);
}

static void problem(GPtrArray *problems, const char *path, const char *group, const char *key,
                    const char *what)
{
        g_ptr_array_add(problems, g_strdup_printf("%s: [%s] %s: %s; using the default", path, group,
                                                  key, what));
}

static int class_of_key(const char *key)
{
        for (guint i = 0; i < ZUMA_NOTIFY_N_CLASSES; i++)
                if (g_str_equal(key, class_keys[i]))
                        return (int)i;
        return -1;
}

static void load_events(ZumaNotifyConfig *config, GKeyFile *file, const char *path,
                        GPtrArray *problems)
{
        g_auto(GStrv) keys = g_key_file_get_keys(file, GROUP_EVENTS, NULL, NULL);

        for (guint i = 0; keys && keys[i]; i++) {
                int klass = class_of_key(keys[i]);
                g_autoptr(GError) error = NULL;
                gboolean value;

                if (klass < 0) {
                        problem(problems, path, GROUP_EVENTS, keys[i],
                                "unknown event class (snapshot-taken, snapshot-deleted, usage, "
                                "failure, missed, command, replication, replication-failure)");
                        continue;
                }
                value = g_key_file_get_boolean(file, GROUP_EVENTS, keys[i], &error);
                if (error)
                        problem(problems, path, GROUP_EVENTS, keys[i],
                                "not a boolean (true or false)");
                else
                        config->enabled[klass] = value;
        }
}

static void load_duration(GKeyFile *file, const char *path, const char *key, gint64 min, gint64 max,
                          gint64 *value, GPtrArray *problems)
{
        g_autofree char *text = g_key_file_get_value(file, GROUP_COALESCE, key, NULL);
        g_autoptr(GError) error = NULL;

        if (!text)
                return;
        g_strstrip(text);
        if (!zuma_duration_parse(key, text, min, max, value, &error))
                problem(problems, path, GROUP_COALESCE, key, error->message);
}

static void load_coalesce(ZumaNotifyConfig *config, GKeyFile *file, const char *path,
                          GPtrArray *problems)
{
        g_auto(GStrv) keys = g_key_file_get_keys(file, GROUP_COALESCE, NULL, NULL);

        for (guint i = 0; keys && keys[i]; i++)
                if (!g_str_equal(keys[i], "window") && !g_str_equal(keys[i], "batch"))
                        problem(problems, path, GROUP_COALESCE, keys[i],
                                "unknown key (window, batch)");
        load_duration(file, path, "window", 0, ZUMA_NOTIFY_WINDOW_MAX, &config->window_seconds,
                      problems);
        load_duration(file, path, "batch", 1, ZUMA_NOTIFY_BATCH_MAX, &config->batch_seconds,
                      problems);
}

void zuma_notify_config_load_data(ZumaNotifyConfig *config, const char *path, const char *data,
                                  gsize len, GPtrArray *problems)
{
        g_autoptr(GKeyFile) file = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) groups = NULL;

        if (!g_key_file_load_from_data(file, data, len, G_KEY_FILE_NONE, &error)) {
                g_ptr_array_add(problems, g_strdup_printf("%s: %s; using the defaults", path,
                                                          error->message));
                return;
        }
        groups = g_key_file_get_groups(file, NULL);
        for (guint i = 0; groups[i]; i++)
                if (!g_str_equal(groups[i], GROUP_EVENTS) &&
                    !g_str_equal(groups[i], GROUP_COALESCE))
                        g_ptr_array_add(problems, g_strdup_printf("%s: unknown group [%s] (events, "
                                                                  "coalesce); ignored",
                                                                  path, groups[i]));
        load_events(config, file, path, problems);
        load_coalesce(config, file, path, problems);
}

void zuma_notify_config_load(ZumaNotifyConfig *config, const char *path, GPtrArray *problems)
{
        g_autofree char *data = NULL;
        g_autoptr(GError) error = NULL;
        GStatBuf st;
        gsize len;

        /* Before reading it: a huge file is not read at all. */
        if (g_stat(path, &st) == 0 && st.st_size > CONFIG_SIZE_MAX) {
                g_ptr_array_add(problems,
                                g_strdup_printf("%s: larger than %d bytes; using the defaults",
                                                path, CONFIG_SIZE_MAX));
                return;
        }
        if (!g_file_get_contents(path, &data, &len, &error)) {
                if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        g_ptr_array_add(problems, g_strdup_printf("%s: %s; using the defaults",
                                                                  path, error->message));
                return;
        }
        zuma_notify_config_load_data(config, path, data, len, problems);
}
