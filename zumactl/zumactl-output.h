/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What zumactl prints: human sizes and times, aligned tables, and JSON
 * written by hand (json-glib is not a dependency) with proper escaping.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "512 B", "16.0 KiB", "1.5 GiB": binary units, one decimal. */
char *zumactl_format_size(guint64 bytes);

/* Seconds since the epoch as local time, "2024-05-01 12:34:56". */
char *zumactl_format_time_local(guint64 seconds);

/* Seconds since the epoch as ISO 8601 in UTC, "2024-05-01T10:34:56Z". */
char *zumactl_format_time_iso8601(guint64 seconds);

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

/* Appends s to out as a JSON string literal, quotes included.  Invalid
 * UTF-8 becomes U+FFFD; NULL becomes null. */
void zumactl_json_escape(GString *out, const char *s);

/* A JSON value built in order: open containers, name members, add values.
 * The output is indented with two spaces. */
typedef struct ZumactlJson ZumactlJson;

ZumactlJson *zumactl_json_new(void);
void zumactl_json_free(ZumactlJson *json);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumactlJson, zumactl_json_free)

void zumactl_json_begin_object(ZumactlJson *json);
void zumactl_json_end_object(ZumactlJson *json);
void zumactl_json_begin_array(ZumactlJson *json);
void zumactl_json_end_array(ZumactlJson *json);
/* Names the next value inside an object. */
void zumactl_json_key(ZumactlJson *json, const char *key);
void zumactl_json_string(ZumactlJson *json, const char *value);
void zumactl_json_int(ZumactlJson *json, gint64 value);
void zumactl_json_uint(ZumactlJson *json, guint64 value);
void zumactl_json_double(ZumactlJson *json, double value);
void zumactl_json_bool(ZumactlJson *json, gboolean value);
void zumactl_json_null(ZumactlJson *json);

void zumactl_json_member_string(ZumactlJson *json, const char *key, const char *value);
void zumactl_json_member_int(ZumactlJson *json, const char *key, gint64 value);
void zumactl_json_member_uint(ZumactlJson *json, const char *key, guint64 value);
void zumactl_json_member_double(ZumactlJson *json, const char *key, double value);
void zumactl_json_member_bool(ZumactlJson *json, const char *key, gboolean value);

/* The finished text with a trailing newline; every container must be
 * closed. */
char *zumactl_json_finish(ZumactlJson *json);

G_END_DECLS
