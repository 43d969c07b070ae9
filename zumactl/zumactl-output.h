/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What zumactl prints: human sizes and times, aligned tables, and JSON
 * through json-glib.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* "512 B", "16.0 KiB", "1.5 GiB": binary units, one decimal. */
char *zumactl_format_size(guint64 bytes);

/* Seconds since the epoch as local time, "2024-05-01 12:34:56". */
char *zumactl_format_time_local(guint64 seconds);

/* Seconds since the epoch as ISO 8601 in UTC, "2024-05-01T10:34:56Z". */
char *zumactl_format_time_iso8601(guint64 seconds);

/* A rough span ahead: "about 40 seconds", "about 1 minute", "about 6
 * hours", "about 12 days", "about 3 years" (rounded in the largest unit up
 * to 90 seconds, 90 minutes, 36 hours, 730 days).  NULL when seconds is
 * negative (unknown). */
char *zumactl_format_duration_about(gint64 seconds);

/* Percentage of part in whole with one decimal, 0 when whole is 0. */
double zumactl_percent(guint64 part, guint64 whole);

/* A table printed with columns aligned on the widest cell.  Columns
 * marked numeric are aligned right. */
typedef struct ZumactlTable ZumactlTable;

ZumactlTable *zumactl_table_new(const char *first_header, ...) G_GNUC_NULL_TERMINATED;
void zumactl_table_set_numeric(ZumactlTable *table, guint column);
/* One cell per column; a NULL cell prints as "-". */
void zumactl_table_add_row(ZumactlTable *table, const char *const *cells);
guint zumactl_table_get_n_columns(ZumactlTable *table);
char *zumactl_table_render(ZumactlTable *table);
void zumactl_table_free(ZumactlTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumactlTable, zumactl_table_free)

/* JSON goes through json-glib: the commands fill a JsonBuilder with the
 * helpers below and print zumactl_json_to_text().  The helpers keep what
 * json-glib alone would get wrong for the strings and numbers a server
 * can send:
 *  - strings: invalid UTF-8 becomes U+FFFD, NULL becomes null, and every
 *    control character is escaped (json-glib 1.6 leaves U+001F raw);
 *  - integers: json-glib holds them as gint64.  No size, time or count
 *    zumactl prints comes near 2^63 (the kernel's sizes and offsets are
 *    signed 64-bit loff_t), so a guint64 above G_MAXINT64 is written as
 *    G_MAXINT64 instead of wrapping to a negative number;
 *  - doubles: NaN and infinities (which json-glib prints as "nan.0" and
 *    "inf.0") become null. */
void zumactl_json_add_string(JsonBuilder *builder, const char *value);
void zumactl_json_add_uint(JsonBuilder *builder, guint64 value);
void zumactl_json_add_double(JsonBuilder *builder, double value);

/* Name a member of the open object and add its value. */
void zumactl_json_set_string(JsonBuilder *builder, const char *key, const char *value);
void zumactl_json_set_int(JsonBuilder *builder, const char *key, gint64 value);
void zumactl_json_set_uint(JsonBuilder *builder, const char *key, guint64 value);
void zumactl_json_set_double(JsonBuilder *builder, const char *key, double value);
void zumactl_json_set_bool(JsonBuilder *builder, const char *key, gboolean value);

/* The builder's value as json-glib's pretty text (two-space indent,
 * "key" : value) with a trailing newline; every container must be
 * closed. */
char *zumactl_json_to_text(JsonBuilder *builder);

G_END_DECLS
