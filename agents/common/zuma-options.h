/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Checking what a bus caller passes: a{sv} options, names and paths.
 *
 * Every argument is untrusted.  A failed check answers
 * ZUMA_ERROR_INVALID_ARGUMENT with a message naming what was wrong; a value
 * quoted in a message is escaped and cut short, so a caller's megabyte of
 * bytes never comes back in an error or a log line.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-limits.h"

G_BEGIN_DECLS

/*
 * Parses an a{sv} of options against a NULL-terminated list of
 * (name, GVariant type string, pointer) triples.  Types: "b" (gboolean *),
 * "u" (guint32 *), "i" (gint32 *), "t" (guint64 *), "@TYPE" for any other
 * type (GVariant **: a new reference, unref it), "s" (char **: replaced by a new string,
 * free it with g_free).  A pointer keeps the caller's default unless the
 * option is given.  An unknown option, a known one of another type, or an
 * over-long string fails, naming the option.
 *
 *   gboolean force = FALSE;
 *   if (!zuma_options_parse(options, error, "force", "b", &force, NULL))
 *           return FALSE;
 *
 * A GVariant that is not an a{sv} (a caller's bug, never a bus caller's:
 * the bus checked the signature) fails with InvalidArgument too.
 */
gboolean zuma_options_parse(GVariant *options, GError **error, ...) G_GNUC_NULL_TERMINATED;

/* A printable, escaped, quoted and shortened form of an untrusted string
 * for messages: "abc", or "abcdef…" (64 characters at most). */
char *zuma_quote(const char *text);

/* Volume and snapshot names by the one rule (busapi/zuma-name-rule.h),
 * InvalidArgument saying what is wrong otherwise. */
gboolean zuma_check_volume_name(const char *name, GError **error);
gboolean zuma_check_snapshot_name(const char *name, GError **error);

/* An absolute path of at most ZUMA_PATH_MAX bytes, without "." or ".."
 * components; what names the argument in the message ("origin device"). */
gboolean zuma_check_path(const char *what, const char *path, GError **error);

G_END_DECLS
