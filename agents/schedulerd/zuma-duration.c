/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-duration"

#include "zuma-duration.h"

#include <string.h>

#include "zuma-error.h"
#include "zuma-options.h"

typedef struct {
        char letter;
        gint64 seconds;
} DurationUnit;

/* Largest first: the order units must appear in, and the order of output. */
static const DurationUnit units[] = {
        { 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};

static gboolean fail(GError **error, const char *what, const char *text, const char *why)
{
        g_autofree char *quoted = zuma_quote(text);

        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT, "%s %s: %s", what, quoted, why);
        return FALSE;
}

gboolean zuma_duration_parse(const char *what, const char *text, gint64 min, gint64 max,
                             gint64 *ret_seconds, GError **error)
{
        const char *p = text;
        gsize next_unit = 0;
        gint64 total = 0;

        g_return_val_if_fail(min >= 0 && min <= max, FALSE);
        if (!*text)
                return fail(error, what, text, "is empty (write a duration such as 15m, 2h, 1d)");
        if (strlen(text) > ZUMA_DURATION_TEXT_MAX)
                return fail(error, what, text, "is too long for a duration");
        if (*text == '-' || *text == '+')
                return fail(error, what, text, "a duration has no sign");

        while (*p) {
                gint64 number = 0;
                gsize u;

                if (!g_ascii_isdigit(*p))
                        return fail(error, what, text,
                                    "expected a number (write a duration such as 15m, 2h, 1d)");
                while (g_ascii_isdigit(*p)) {
                        number = number * 10 + (*p - '0');
                        /* 32 characters of digits overflow; stop well before. */
                        if (number > ZUMA_DURATION_TEXT_MAX * G_GINT64_CONSTANT(1000000000000))
                                return fail(error, what, text, "is far too large");
                        p++;
                }
                if (!*p)
                        return fail(error, what, text,
                                    "a number needs a unit: s, m, h, d or w (as in 15m)");
                for (u = 0; u < G_N_ELEMENTS(units) && units[u].letter != *p; u++)
                        ;
                if (u == G_N_ELEMENTS(units)) {
                        g_autofree char *why = NULL;

                        if (g_ascii_isprint(*p))
                                why = g_strdup_printf("unknown unit '%c': use s, m, h, d or w", *p);
                        else
                                why = g_strdup("unknown unit: use s, m, h, d or w");
                        return fail(error, what, text, why);
                }
                if (u < next_unit)
                        return fail(error, what, text,
                                    "units must appear once each, largest first (as in 1h30m)");
                next_unit = u + 1;
                if (number > (G_MAXINT64 - total) / units[u].seconds)
                        return fail(error, what, text, "is far too large");
                total += number * units[u].seconds;
                p++;
        }

        if (total < min || total > max) {
                g_autofree char *low = zuma_duration_format(min);
                g_autofree char *high = zuma_duration_format(max);
                g_autofree char *why = g_strdup_printf("must be between %s and %s", low, high);

                return fail(error, what, text, why);
        }
        *ret_seconds = total;
        return TRUE;
}

char *zuma_duration_format(gint64 seconds)
{
        GString *out;

        g_return_val_if_fail(seconds >= 0, NULL);
        out = g_string_new(NULL);
        for (gsize u = 0; u < G_N_ELEMENTS(units); u++) {
                gint64 n = seconds / units[u].seconds;

                if (n) {
                        g_string_append_printf(out, "%" G_GINT64_FORMAT "%c", n, units[u].letter);
                        seconds -= n * units[u].seconds;
                }
        }
        if (!out->len)
                g_string_append(out, "0s");
        return g_string_free(out, FALSE);
}
