/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-mountinfo"

#include "zuma-mountinfo.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "zuma-error.h"

static void mount_entry_free(gpointer data)
{
        ZumaMountEntry *entry = data;

        g_free(entry->mount_point);
        g_free(entry->fstype);
        g_free(entry->source);
        g_free(entry);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape_mountinfo(const char *field)
{
        GString *out = g_string_new(NULL);

        for (const char *p = field; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
                    p[3] >= '0' && p[3] <= '7') {
                        g_string_append_c(
                                out, (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0')));
                        p += 3;
                } else {
                        g_string_append_c(out, *p);
                }
        }
        return g_string_free(out, FALSE);
}

GPtrArray *zuma_mountinfo_parse(const char *text)
{
        GPtrArray *entries = g_ptr_array_new_with_free_func(mount_entry_free);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        for (char **line = lines; *line; line++) {
                /* ID PARENT MAJOR:MINOR ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE
                 * SUPER-OPTIONS */
                g_auto(GStrv) fields = g_strsplit(*line, " ", -1);
                guint n = g_strv_length(fields);
                unsigned int major_number, minor_number;
                ZumaMountEntry *entry;
                guint dash = 6;

                if (n < 5 || sscanf(fields[2], "%u:%u", &major_number, &minor_number) != 2)
                        continue;
                while (dash < n && !g_str_equal(fields[dash], "-"))
                        dash++;
                entry = g_new0(ZumaMountEntry, 1);
                entry->device = makedev(major_number, minor_number);
                entry->mount_point = unescape_mountinfo(fields[4]);
                entry->fstype = g_strdup(dash + 1 < n ? fields[dash + 1] : "");
                entry->source = unescape_mountinfo(dash + 2 < n ? fields[dash + 2] : "");
                g_ptr_array_add(entries, entry);
        }
        return entries;
}

GPtrArray *zuma_mountinfo_read(GError **error)
{
        g_autofree char *text = NULL;

        if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, error))
                return NULL;
        return zuma_mountinfo_parse(text);
}

const ZumaMountEntry *zuma_mountinfo_find_point(GPtrArray *entries, const char *mount_point)
{
        for (guint i = entries->len; i > 0; i--) {
                const ZumaMountEntry *entry = g_ptr_array_index(entries, i - 1);

                if (g_str_equal(entry->mount_point, mount_point))
                        return entry;
        }
        return NULL;
}

const ZumaMountEntry *zuma_mountinfo_find_device(GPtrArray *entries, dev_t device)
{
        for (guint i = 0; i < entries->len; i++) {
                const ZumaMountEntry *entry = g_ptr_array_index(entries, i);

                if (entry->device == device)
                        return entry;
        }
        return NULL;
}

char *zuma_find_mount_point(const char *device, GError **error)
{
        g_autoptr(GPtrArray) entries = NULL;
        const ZumaMountEntry *entry;
        struct stat st;

        if (stat(device, &st) < 0) {
                int err = errno;

                zuma_error_set_errno(error, -err, "cannot stat %s: %s", device, g_strerror(err));
                return NULL;
        }
        if (!S_ISBLK(st.st_mode))
                return NULL;
        entries = zuma_mountinfo_read(error);
        if (!entries)
                return NULL;
        entry = zuma_mountinfo_find_device(entries, st.st_rdev);
        return entry ? g_strdup(entry->mount_point) : NULL;
}
