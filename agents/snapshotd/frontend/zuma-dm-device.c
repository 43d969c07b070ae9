/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dmsetup(8), run under timeout(1) (zuma-dm-device.h).
 */
#define G_LOG_DOMAIN "zuma-frontend"

#include "zuma-dm-device.h"

#include <string.h>
#include <unistd.h>

#include "zuma-error.h"

#define DM_CONTROL "/dev/mapper/control"

gboolean zuma_dm_present(void)
{
        return access(DM_CONTROL, F_OK) == 0 || access("/sys/module/dm_mod", F_OK) == 0;
}

/* Runs dmsetup with args (NULL-terminated); its stdout in *ret_out. */
static gboolean run_dmsetup(const char *const *args, guint timeout_ms, char **ret_out,
                            GError **error)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *out = NULL, *err = NULL, *command = NULL;
        int status = 0;

        g_ptr_array_add(argv, g_strdup("timeout"));
        g_ptr_array_add(argv, g_strdup("--kill-after=5"));
        g_ptr_array_add(argv, g_strdup_printf("%u.%03u", timeout_ms / 1000, timeout_ms % 1000));
        g_ptr_array_add(argv, g_strdup("dmsetup"));
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, g_strdup(*a));
        g_ptr_array_add(argv, NULL);
        command = g_strjoinv(" ", (char **)argv->pdata + 3);
        if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                          &err, &status, error)) {
                g_prefix_error(error, "cannot run %s: ", command);
                return FALSE;
        }
        if (WIFEXITED(status) && (WEXITSTATUS(status) == 124 || WEXITSTATUS(status) == 137)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_TIMED_OUT,
                            "%s did not finish within %u ms", command, timeout_ms);
                return FALSE;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                g_strstrip(err);
                g_set_error(error, ZUMA_ERROR,
                            strstr(err, "Device or resource busy") ? ZUMA_ERROR_BUSY
                                                                   : ZUMA_ERROR_FAILED,
                            "%s failed: %s", command, *err ? err : "no message");
                return FALSE;
        }
        if (ret_out)
                *ret_out = g_steal_pointer(&out);
        return TRUE;
}

static gboolean device_node(const char *name, guint timeout_ms, char **ret_device, GError **error)
{
        const char *args[] = { "info", "-c", "--noheadings", "-o", "blkdevname", name, NULL };
        g_autofree char *out = NULL;

        if (!run_dmsetup(args, timeout_ms, &out, error))
                return FALSE;
        g_strstrip(out);
        if (!g_str_has_prefix(out, "dm-")) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                            "dmsetup info %s named no device (\"%s\")", name, out);
                return FALSE;
        }
        *ret_device = g_strconcat("/dev/", out, NULL);
        return TRUE;
}

gboolean zuma_dm_create(const char *name, const char *uuid, const char *table, gboolean read_only,
                        guint timeout_ms, char **ret_device, GError **error)
{
        const char *args[] = {
                "create", name, "--uuid", uuid, "--table", table, read_only ? "--readonly" : NULL,
                NULL
        };

        if (!run_dmsetup(args, timeout_ms, NULL, error))
                return FALSE;
        if (device_node(name, timeout_ms, ret_device, error))
                return TRUE;
        zuma_dm_remove(name, TRUE, timeout_ms, NULL);
        return FALSE;
}

gboolean zuma_dm_reload(const char *name, const char *table, gboolean read_only, guint timeout_ms,
                        char **ret_device, GError **error)
{
        const char *reload[] = { "reload", name, "--table", table, read_only ? "--readonly" : NULL,
                                 NULL };
        const char *resume[] = { "resume", name, NULL };

        return run_dmsetup(reload, timeout_ms, NULL, error) &&
               run_dmsetup(resume, timeout_ms, NULL, error) &&
               (!ret_device || device_node(name, timeout_ms, ret_device, error));
}

static gboolean device_exists(const char *name, guint timeout_ms)
{
        const char *args[] = { "info", name, NULL };

        return run_dmsetup(args, timeout_ms, NULL, NULL);
}

gboolean zuma_dm_remove(const char *name, gboolean force, guint timeout_ms, GError **error)
{
        const char *plain[] = { "remove", name, NULL };
        const char *forced[] = { "remove", "--force", "--deferred", name, NULL };

        if (!device_exists(name, timeout_ms))
                return TRUE;
        return run_dmsetup(force ? forced : plain, timeout_ms, NULL, error);
}

GStrv zuma_dm_list_by_uuid_prefix(const char *prefix, guint timeout_ms, GError **error)
{
        const char *args[] = { "info", "-c", "--noheadings", "--separator",
                               "\t",   "-o", "name,uuid",    NULL };
        g_autoptr(GStrvBuilder) names = g_strv_builder_new();
        g_autofree char *out = NULL;
        g_auto(GStrv) lines = NULL;

        if (!run_dmsetup(args, timeout_ms, &out, error))
                return NULL;
        lines = g_strsplit(out, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) fields = g_strsplit(*l, "\t", 2);

                if (g_strv_length(fields) == 2 && g_str_has_prefix(g_strstrip(fields[1]), prefix))
                        g_strv_builder_add(names, fields[0]);
        }
        return g_strv_builder_end(names);
}
