/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Checks of command-line values that zumactl makes before it asks the
 * server: the syntax of sizes, integers and switches.  Whether a name or
 * a size is acceptable is the server's call.  Every failure is a
 * G_OPTION_ERROR_BAD_VALUE, which zumactl reports as a usage error.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "16384", "16K", "16k", "16KiB", "1M", "2GiB", "1T": bytes with an optional
 * binary suffix (K, M, G, T, P, E, alone or followed by "iB", or "B" for
 * bytes).  what names the value in the error ("chunk size"). */
gboolean zumactl_parse_size(const char *text, const char *what, guint64 *ret_bytes, GError **error);

/* A rate in bytes per second: a number, maybe with a fraction, and a
 * binary unit as zumactl_parse_size() takes them (1.5G is 1.5 GiB/s),
 * optionally followed by "/s": "500K", "10M", "1.5GiB/s"; "0" is no
 * limit.  A fraction needs a unit. */
gboolean zumactl_parse_rate(const char *text, const char *what, guint64 *ret_bytes, GError **error);

/* A duration as zuma-schedulerd reads them ("15m", "1h30m", "1d"), in
 * seconds from min to max. */
gboolean zumactl_parse_duration(const char *text, const char *what, gint64 min, gint64 max,
                                gint64 *ret_seconds, GError **error);

/* The --keep values: each "CLASS=N", or several joined by commas
 * ("hourly=24,daily=7"); a class named twice is an error.  *ret_keep is a
 * floating a{su} (class -> count).  Which classes exist is the daemon's
 * call. */
gboolean zumactl_parse_keep(const char *const *items, GVariant **ret_keep, GError **error);

/* A decimal integer from min to max. */
gboolean zumactl_parse_int(const char *text, const char *what, gint64 min, gint64 max,
                           gint64 *ret_value, GError **error);

/* "on"/"off" (also "yes"/"no", "true"/"false", "1"/"0"). */
gboolean zumactl_parse_switch(const char *text, const char *what, gboolean *ret_value,
                              GError **error);

/* "refuse" or "autodelete". */
gboolean zumactl_parse_full_policy(const char *text, GError **error);

/* path made absolute against the working directory, without resolving
 * symbolic links (a /dev/disk/by-id name stays one): the server does not
 * share our working directory. */
char *zumactl_absolute_path(const char *path);

G_END_DECLS
