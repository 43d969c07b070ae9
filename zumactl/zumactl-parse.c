/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zuma-duration.h"

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

/* The binary unit at *p ("", "B", "K", "KiB", ... "E"): its shift, and
 * the end of the unit in *ret_end. */
static gboolean parse_unit(const char *p, const char **ret_end, guint *ret_shift)
{
        static const char suffixes[] = "KMGTPE";
        const char *found;

        *ret_shift = 0;
        if (*p != '\0' && *p != 'B') {
                found = strchr(suffixes, g_ascii_toupper(*p));
                if (found == NULL)
                        return FALSE;
                *ret_shift = 10 * (guint)(found - suffixes + 1);
                p++;
                if (g_str_has_prefix(p, "iB"))
                        p += 2;
        } else if (*p == 'B') {
                p++;
        }
        *ret_end = p;
        return TRUE;
}

gboolean zumactl_parse_size(const char *text, const char *what, guint64 *ret_bytes, GError **error)
{
        const char *end = NULL;
        guint64 value;
        guint shift = 0;

        if (!parse_digits(text, &end, &value))
                return bad_value(error, what, text,
                                 g_ascii_isdigit(*text) ? "too large"
                                                        : "expected a number of bytes, e.g. 16K");
        if (!parse_unit(end, &end, &shift) || *end != '\0')
                return bad_value(error, what, text, "unknown unit (use B, K, M, G, T, P or E)");
        if (shift > 0 && value > (G_MAXUINT64 >> shift))
                return bad_value(error, what, text, "too large");
        *ret_bytes = value << shift;
        return TRUE;
}

gboolean zumactl_parse_rate(const char *text, const char *what, guint64 *ret_bytes, GError **error)
{
        const char *end = NULL;
        guint64 whole;
        gboolean has_fraction = FALSE;
        double fraction = 0.0;
        double bytes;
        guint shift = 0;

        if (!parse_digits(text, &end, &whole))
                return bad_value(error, what, text,
                                 g_ascii_isdigit(*text)
                                         ? "too large"
                                         : "expected bytes per second, e.g. 500K, 10M, 1.5G");
        if (*end == '.') {
                double scale = 0.1;

                if (!g_ascii_isdigit(end[1]))
                        return bad_value(error, what, text, "expected digits after the point");
                has_fraction = TRUE;
                for (end++; g_ascii_isdigit(*end); end++, scale /= 10.0)
                        fraction += (*end - '0') * scale;
        }
        if (!parse_unit(end, &end, &shift) || (*end != '\0' && strcmp(end, "/s") != 0))
                return bad_value(error, what, text,
                                 "unknown unit (use B, K, M, G, T, P or E, maybe with /s)");
        if (has_fraction && shift == 0)
                return bad_value(error, what, text, "a fraction needs a unit, e.g. 1.5M");
        bytes = ((double)whole + fraction) * (double)(G_GUINT64_CONSTANT(1) << shift);
        /* 2^63: far beyond any link, and exact in a double. */
        if (bytes >= 9223372036854775808.0)
                return bad_value(error, what, text, "too large");
        *ret_bytes = (guint64)bytes;
        return TRUE;
}

gboolean zumactl_parse_duration(const char *text, const char *what, gint64 min, gint64 max,
                                gint64 *ret_seconds, GError **error)
{
        g_autoptr(GError) error_local = NULL;

        if (zuma_duration_parse(what, text, min, max, ret_seconds, &error_local))
                return TRUE;
        /* The scheduler's words, as a usage error. */
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "invalid %s",
                    error_local->message);
        return FALSE;
}

/* One "CLASS=N" into keep, unless its class is there already. */
static gboolean parse_keep_one(const char *item, GHashTable *seen, GVariantBuilder *keep,
                               GError **error)
{
        const char *equals = strchr(item, '=');
        g_autofree char *class = NULL;
        gint64 count;

        if (equals == NULL || equals == item)
                return bad_value(error, "--keep", item, "expected CLASS=N, e.g. hourly=24");
        class = g_strndup(item, (gsize)(equals - item));
        if (!zumactl_parse_int(equals + 1, "--keep count", 0, G_MAXUINT32, &count, error))
                return FALSE;
        if (!g_hash_table_add(seen, g_strdup(class)))
                return bad_value(error, "--keep", item, "that class is given twice");
        g_variant_builder_add(keep, "{su}", class, (guint32)count);
        return TRUE;
}

gboolean zumactl_parse_keep(const char *const *items, GVariant **ret_keep, GError **error)
{
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_auto(GVariantBuilder) keep = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a{su}"));

        for (guint i = 0; items != NULL && items[i] != NULL; i++) {
                g_auto(GStrv) parts = g_strsplit(items[i], ",", -1);

                for (guint j = 0; parts[j] != NULL; j++) {
                        if (!parse_keep_one(parts[j], seen, &keep, error))
                                return FALSE;
                }
        }
        *ret_keep = g_variant_builder_end(&keep);
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
