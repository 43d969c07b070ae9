/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static gboolean bad_value(GError **error, const char *what, const char *text, const char *why)
{
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "invalid %s '%s': %s", what,
                    text, why);
        return FALSE;
}

static gboolean parse_digits(const char *text, const char **ret_end, guint64 *ret_value)
{
        guint64 value = 0;
        const char *p = text;

        if (!g_ascii_isdigit(*p))
                return FALSE;
        for (; g_ascii_isdigit(*p); p++) {
                guint digit = (guint)(*p - '0');

                if (value > (G_MAXUINT64 - digit) / 10)
                        return FALSE;
                value = value * 10 + digit;
        }
        *ret_end = p;
        *ret_value = value;
        return TRUE;
}

gboolean zumactl_parse_size(const char *text, const char *what, guint64 *ret_bytes, GError **error)
{
        static const char suffixes[] = "KMGTPE";
        const char *end = NULL;
        const char *found;
        guint64 value;
        guint shift = 0;

        if (!parse_digits(text, &end, &value))
                return bad_value(error, what, text,
                                 g_ascii_isdigit(*text) ? "too large"
                                                        : "expected a number of bytes, e.g. 16K");
        if (*end != '\0' && *end != 'B') {
                found = strchr(suffixes, g_ascii_toupper(*end));
                if (found == NULL)
                        return bad_value(error, what, text,
                                         "unknown unit (use B, K, M, G, T, P or E)");
                shift = 10 * (guint)(found - suffixes + 1);
                end++;
                if (strcmp(end, "iB") == 0)
                        end += 2;
        } else if (*end == 'B') {
                end++;
        }
        if (*end != '\0')
                return bad_value(error, what, text, "unknown unit (use B, K, M, G, T, P or E)");
        if (shift > 0 && value > (G_MAXUINT64 >> shift))
                return bad_value(error, what, text, "too large");
        *ret_bytes = value << shift;
        return TRUE;
}

gboolean zumactl_parse_int(const char *text, const char *what, gint64 min, gint64 max,
                           gint64 *ret_value, GError **error)
{
        g_autofree char *range = NULL;
        char *end = NULL;
        gint64 value;

        errno = 0;
        value = g_ascii_strtoll(text, &end, 10);
        if (text[0] == '\0' || g_ascii_isspace(text[0]) || end == NULL || *end != '\0')
                return bad_value(error, what, text, "not a whole number");
        range = g_strdup_printf("out of range (%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT ")", min,
                                max);
        if (errno == ERANGE || value < min || value > max)
                return bad_value(error, what, text, range);
        *ret_value = value;
        return TRUE;
}

gboolean zumactl_parse_switch(const char *text, const char *what, gboolean *ret_value,
                              GError **error)
{
        static const char *const on[] = { "on", "yes", "true", "1" };
        static const char *const off[] = { "off", "no", "false", "0" };

        for (guint i = 0; i < G_N_ELEMENTS(on); i++) {
                if (g_ascii_strcasecmp(text, on[i]) == 0) {
                        *ret_value = TRUE;
                        return TRUE;
                }
                if (g_ascii_strcasecmp(text, off[i]) == 0) {
                        *ret_value = FALSE;
                        return TRUE;
                }
        }
        return bad_value(error, what, text, "expected on or off");
}

gboolean zumactl_parse_full_policy(const char *text, GError **error)
{
        if (g_strcmp0(text, "refuse") == 0 || g_strcmp0(text, "autodelete") == 0)
                return TRUE;
        return bad_value(error, "full policy", text, "expected refuse or autodelete");
}

char *zumactl_absolute_path(const char *path)
{
        return g_canonicalize_filename(path, NULL);
}
