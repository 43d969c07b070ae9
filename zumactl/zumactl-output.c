/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-output.h"

#include <math.h>
#include <string.h>

char *zumactl_format_size(guint64 bytes)
{
        static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double value = (double)bytes;
        guint unit = 0;

        if (bytes < 1024)
                return g_strdup_printf("%" G_GUINT64_FORMAT " B", bytes);
        value /= 1024.0;
        /* Move up while the value would print as 1024.0 or more, so that
         * 1048575 bytes shows as "1.0 MiB", not "1024.0 KiB". */
        while (unit + 1 < G_N_ELEMENTS(units) && round(value * 10.0) >= 1024.0 * 10.0) {
                value /= 1024.0;
                unit++;
        }
        return g_strdup_printf("%.1f %s", value, units[unit]);
}

char *zumactl_format_time_local(guint64 seconds)
{
        g_autoptr(GDateTime) time = NULL;

        if (seconds > G_MAXINT64)
                return g_strdup("?");
        time = g_date_time_new_from_unix_local((gint64)seconds);
        if (time == NULL)
                return g_strdup("?");
        return g_date_time_format(time, "%Y-%m-%d %H:%M:%S");
}

char *zumactl_format_time_iso8601(guint64 seconds)
{
        g_autoptr(GDateTime) time = NULL;

        if (seconds > G_MAXINT64)
                return NULL;
        time = g_date_time_new_from_unix_utc((gint64)seconds);
        if (time == NULL)
                return NULL;
        return g_date_time_format(time, "%Y-%m-%dT%H:%M:%SZ");
}

char *zumactl_format_duration_about(gint64 seconds)
{
        static const struct {
                const char *unit;
                gint64 seconds; /* of one unit */
                gint64 below;   /* used below this many seconds */
        } units[] = {
                { "second", 1, 90 },
                { "minute", 60, 90 * 60 },
                { "hour", 3600, 36 * 3600 },
                { "day", 86400, 730 * 86400 },
                { "year", 365 * 86400, G_MAXINT64 },
        };
        guint i = 0;
        gint64 count;

        if (seconds < 0)
                return NULL;
        /* The last unit takes everything left (G_MAXINT64 included). */
        while (i + 1 < G_N_ELEMENTS(units) && seconds >= units[i].below)
                i++;
        count = seconds / units[i].seconds +
                (seconds % units[i].seconds >= (units[i].seconds + 1) / 2 ? 1 : 0);
        count = MAX(count, 1);
        return g_strdup_printf("about %" G_GINT64_FORMAT " %s%s", count, units[i].unit,
                               count == 1 ? "" : "s");
}

double zumactl_percent(guint64 part, guint64 whole)
{
        if (whole == 0)
                return 0.0;
        return round((double)part * 1000.0 / (double)whole) / 10.0;
}

struct ZumactlTable {
        GPtrArray *headers; /* char * */
        GPtrArray *rows;    /* GStrv, one cell per column */
        GArray *numeric;    /* gboolean per column */
};

ZumactlTable *zumactl_table_new(const char *first_header, ...)
{
        ZumactlTable *table = g_new0(ZumactlTable, 1);
        va_list ap;

        table->headers = g_ptr_array_new_with_free_func(g_free);
        table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
        va_start(ap, first_header);
        for (const char *header = first_header; header != NULL; header = va_arg(ap, const char *))
                g_ptr_array_add(table->headers, g_strdup(header));
        va_end(ap);
        table->numeric = g_array_new(FALSE, TRUE, sizeof(gboolean));
        g_array_set_size(table->numeric, table->headers->len);
        return table;
}

void zumactl_table_free(ZumactlTable *table)
{
        g_ptr_array_unref(table->headers);
        g_ptr_array_unref(table->rows);
        g_array_unref(table->numeric);
        g_free(table);
}

guint zumactl_table_get_n_columns(ZumactlTable *table)
{
        return table->headers->len;
}

void zumactl_table_set_numeric(ZumactlTable *table, guint column)
{
        g_return_if_fail(column < table->headers->len);
        g_array_index(table->numeric, gboolean, column) = TRUE;
}

void zumactl_table_add_row(ZumactlTable *table, const char *const *cells)
{
        char **row = g_new0(char *, table->headers->len + 1);

        for (guint i = 0; i < table->headers->len; i++)
                row[i] = g_strdup(cells[i] != NULL && cells[i][0] != '\0' ? cells[i] : "-");
        g_ptr_array_add(table->rows, row);
}

static void table_render_line(ZumactlTable *table, GString *out, const char *const *cells,
                              const guint *widths)
{
        guint n = table->headers->len;

        for (guint i = 0; i < n; i++) {
                guint pad = widths[i] - (guint)g_utf8_strlen(cells[i], -1);
                gboolean last = i + 1 == n;

                if (g_array_index(table->numeric, gboolean, i)) {
                        for (guint p = 0; p < pad; p++)
                                g_string_append_c(out, ' ');
                        g_string_append(out, cells[i]);
                } else {
                        g_string_append(out, cells[i]);
                        for (guint p = 0; !last && p < pad; p++)
                                g_string_append_c(out, ' ');
                }
                if (!last)
                        g_string_append(out, "  ");
        }
        g_string_append_c(out, '\n');
}

char *zumactl_table_render(ZumactlTable *table)
{
        guint n = table->headers->len;
        g_autofree guint *widths = g_new0(guint, n);
        GString *out = g_string_new(NULL);

        for (guint i = 0; i < n; i++)
                widths[i] = (guint)g_utf8_strlen(g_ptr_array_index(table->headers, i), -1);
        for (guint r = 0; r < table->rows->len; r++) {
                char **row = g_ptr_array_index(table->rows, r);

                for (guint i = 0; i < n; i++)
                        widths[i] = MAX(widths[i], (guint)g_utf8_strlen(row[i], -1));
        }
        table_render_line(table, out, (const char *const *)table->headers->pdata, widths);
        for (guint r = 0; r < table->rows->len; r++)
                table_render_line(table, out, g_ptr_array_index(table->rows, r), widths);
        return g_string_free(out, FALSE);
}

void zumactl_json_add_string(JsonBuilder *builder, const char *value)
{
        g_autofree char *valid = NULL;

        if (value == NULL) {
                json_builder_add_null_value(builder);
                return;
        }
        if (!g_utf8_validate(value, -1, NULL)) {
                valid = g_utf8_make_valid(value, -1);
                value = valid;
        }
        json_builder_add_string_value(builder, value);
}

void zumactl_json_add_uint(JsonBuilder *builder, guint64 value)
{
        json_builder_add_int_value(builder, (gint64)MIN(value, (guint64)G_MAXINT64));
}

void zumactl_json_add_double(JsonBuilder *builder, double value)
{
        if (isfinite(value))
                json_builder_add_double_value(builder, value);
        else
                json_builder_add_null_value(builder);
}

void zumactl_json_set_string(JsonBuilder *builder, const char *key, const char *value)
{
        json_builder_set_member_name(builder, key);
        zumactl_json_add_string(builder, value);
}

void zumactl_json_set_int(JsonBuilder *builder, const char *key, gint64 value)
{
        json_builder_set_member_name(builder, key);
        json_builder_add_int_value(builder, value);
}

void zumactl_json_set_uint(JsonBuilder *builder, const char *key, guint64 value)
{
        json_builder_set_member_name(builder, key);
        zumactl_json_add_uint(builder, value);
}

void zumactl_json_set_double(JsonBuilder *builder, const char *key, double value)
{
        json_builder_set_member_name(builder, key);
        zumactl_json_add_double(builder, value);
}

void zumactl_json_set_bool(JsonBuilder *builder, const char *key, gboolean value)
{
        json_builder_set_member_name(builder, key);
        json_builder_add_boolean_value(builder, value);
}

char *zumactl_json_to_text(JsonBuilder *builder)
{
        g_autoptr(JsonNode) root = json_builder_get_root(builder);
        g_autoptr(JsonGenerator) generator = json_generator_new();
        g_autofree char *text = NULL;
        GString *out;

        g_return_val_if_fail(root != NULL, NULL);
        json_generator_set_pretty(generator, TRUE);
        json_generator_set_indent(generator, 2);
        json_generator_set_indent_char(generator, ' ');
        json_generator_set_root(generator, root);
        text = json_generator_to_data(generator, NULL);
        /* Pretty output puts no control character between tokens but the
         * newline, and json-glib escapes the newline inside strings: any
         * other control byte is one json-glib left raw inside a string. */
        out = g_string_sized_new(strlen(text) + 2);
        for (const char *p = text; *p != '\0'; p++) {
                if ((unsigned char)*p < 0x20 && *p != '\n')
                        g_string_append_printf(out, "\\u%04x", (unsigned char)*p);
                else
                        g_string_append_c(out, *p);
        }
        g_string_append_c(out, '\n');
        return g_string_free(out, FALSE);
}
