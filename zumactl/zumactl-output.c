/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-output.h"

#include <math.h>

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

void zumactl_json_escape(GString *out, const char *s)
{
        g_autofree char *valid = NULL;

        if (s == NULL) {
                g_string_append(out, "null");
                return;
        }
        if (!g_utf8_validate(s, -1, NULL)) {
                valid = g_utf8_make_valid(s, -1);
                s = valid;
        }
        g_string_append_c(out, '"');
        for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
                switch (*p) {
                case '"':
                        g_string_append(out, "\\\"");
                        break;
                case '\\':
                        g_string_append(out, "\\\\");
                        break;
                case '\b':
                        g_string_append(out, "\\b");
                        break;
                case '\f':
                        g_string_append(out, "\\f");
                        break;
                case '\n':
                        g_string_append(out, "\\n");
                        break;
                case '\r':
                        g_string_append(out, "\\r");
                        break;
                case '\t':
                        g_string_append(out, "\\t");
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                g_string_append_printf(out, "\\u%04x", *p);
                        else
                                g_string_append_c(out, (char)*p);
                }
        }
        g_string_append_c(out, '"');
}

struct ZumactlJson {
        GString *out;
        GArray *counts; /* values so far in each open container */
        gboolean after_key;
};

ZumactlJson *zumactl_json_new(void)
{
        ZumactlJson *json = g_new0(ZumactlJson, 1);

        json->out = g_string_new(NULL);
        json->counts = g_array_new(FALSE, FALSE, sizeof(guint));
        return json;
}

void zumactl_json_free(ZumactlJson *json)
{
        g_string_free(json->out, TRUE);
        g_array_unref(json->counts);
        g_free(json);
}

static void json_newline(ZumactlJson *json)
{
        g_string_append_c(json->out, '\n');
        for (guint i = 0; i < json->counts->len; i++)
                g_string_append(json->out, "  ");
}

/* Separates a value (or a key) from the one before it. */
static void json_before_value(ZumactlJson *json)
{
        guint *count;

        if (json->after_key) {
                json->after_key = FALSE;
                return;
        }
        if (json->counts->len == 0)
                return;
        count = &g_array_index(json->counts, guint, json->counts->len - 1);
        if (*count > 0)
                g_string_append_c(json->out, ',');
        (*count)++;
        json_newline(json);
}

static void json_begin(ZumactlJson *json, char open)
{
        guint zero = 0;

        json_before_value(json);
        g_string_append_c(json->out, open);
        g_array_append_val(json->counts, zero);
}

static void json_end(ZumactlJson *json, char close)
{
        guint count;

        g_return_if_fail(json->counts->len > 0);
        count = g_array_index(json->counts, guint, json->counts->len - 1);
        g_array_set_size(json->counts, json->counts->len - 1);
        if (count > 0)
                json_newline(json);
        g_string_append_c(json->out, close);
}

void zumactl_json_begin_object(ZumactlJson *json)
{
        json_begin(json, '{');
}

void zumactl_json_end_object(ZumactlJson *json)
{
        json_end(json, '}');
}

void zumactl_json_begin_array(ZumactlJson *json)
{
        json_begin(json, '[');
}

void zumactl_json_end_array(ZumactlJson *json)
{
        json_end(json, ']');
}

void zumactl_json_key(ZumactlJson *json, const char *key)
{
        json_before_value(json);
        zumactl_json_escape(json->out, key);
        g_string_append(json->out, ": ");
        json->after_key = TRUE;
}

void zumactl_json_string(ZumactlJson *json, const char *value)
{
        json_before_value(json);
        zumactl_json_escape(json->out, value);
}

void zumactl_json_int(ZumactlJson *json, gint64 value)
{
        json_before_value(json);
        g_string_append_printf(json->out, "%" G_GINT64_FORMAT, value);
}

void zumactl_json_uint(ZumactlJson *json, guint64 value)
{
        json_before_value(json);
        g_string_append_printf(json->out, "%" G_GUINT64_FORMAT, value);
}

void zumactl_json_double(ZumactlJson *json, double value)
{
        char buf[G_ASCII_DTOSTR_BUF_SIZE];

        json_before_value(json);
        if (!isfinite(value)) {
                g_string_append(json->out, "null");
                return;
        }
        /* Locale-free; 15 significant digits unless the value needs all 17
         * to read back the same (25.2, not 25.199999999999999). */
        g_ascii_formatd(buf, sizeof(buf), "%.15g", value);
        if (g_ascii_strtod(buf, NULL) != value)
                g_ascii_formatd(buf, sizeof(buf), "%.17g", value);
        g_string_append(json->out, buf);
}

void zumactl_json_bool(ZumactlJson *json, gboolean value)
{
        json_before_value(json);
        g_string_append(json->out, value ? "true" : "false");
}

void zumactl_json_null(ZumactlJson *json)
{
        json_before_value(json);
        g_string_append(json->out, "null");
}

void zumactl_json_member_string(ZumactlJson *json, const char *key, const char *value)
{
        zumactl_json_key(json, key);
        zumactl_json_string(json, value);
}

void zumactl_json_member_int(ZumactlJson *json, const char *key, gint64 value)
{
        zumactl_json_key(json, key);
        zumactl_json_int(json, value);
}

void zumactl_json_member_uint(ZumactlJson *json, const char *key, guint64 value)
{
        zumactl_json_key(json, key);
        zumactl_json_uint(json, value);
}

void zumactl_json_member_double(ZumactlJson *json, const char *key, double value)
{
        zumactl_json_key(json, key);
        zumactl_json_double(json, value);
}

void zumactl_json_member_bool(ZumactlJson *json, const char *key, gboolean value)
{
        zumactl_json_key(json, key);
        zumactl_json_bool(json, value);
}

char *zumactl_json_finish(ZumactlJson *json)
{
        g_return_val_if_fail(json->counts->len == 0, NULL);
        return g_strdup_printf("%s\n", json->out->str);
}
