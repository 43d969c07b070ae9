/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * How zumactl turns a GError into words on stderr and an exit code.
 *
 * The exit code says what kind of failure it was, so that scripts can
 * tell "no such snapshot" from "the server is down" without parsing text:
 *
 *    0  success
 *    1  failure: Failed, IoError, Cancelled, ReadOnly, NotSupported, TimedOut, other
 *    2  usage: a bad command line (nothing was asked of the server)
 *    3  NotFound: no such volume, snapshot, device or job
 *    4  AlreadyExists: a name or device is taken, or the volume is running
 *    5  Busy: a device is open or mounted
 *    6  AccessDenied: the server or the bus policy refused the caller
 *    7  NoSpace or LimitExceeded
 *    8  InvalidArgument: the server refused a value
 *    9  Corrupt: the store's metadata is damaged
 *   10  NotRunning: the volume is stopped or failed
 *   11  the server cannot be reached (no bus, no zuma-snapshotd, no answer)
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
        ZUMACTL_EXIT_OK = 0,
        ZUMACTL_EXIT_FAILURE = 1,
        ZUMACTL_EXIT_USAGE = 2,
        ZUMACTL_EXIT_NOT_FOUND = 3,
        ZUMACTL_EXIT_ALREADY_EXISTS = 4,
        ZUMACTL_EXIT_BUSY = 5,
        ZUMACTL_EXIT_ACCESS_DENIED = 6,
        ZUMACTL_EXIT_NO_SPACE = 7,
        ZUMACTL_EXIT_INVALID_ARGUMENT = 8,
        ZUMACTL_EXIT_CORRUPT = 9,
        ZUMACTL_EXIT_NOT_RUNNING = 10,
        ZUMACTL_EXIT_UNREACHABLE = 11,
} ZumactlExit;

/* The exit code for error (ZUMACTL_EXIT_OK for NULL). */
ZumactlExit zumactl_exit_code(const GError *error);

/* The message of error in words: the remote "GDBus.Error:NAME: " prefix
 * gone, bus-policy jargon replaced, an empty message filled in. */
char *zumactl_error_words(const GError *error);

/* Moves src into dest with the remote prefix stripped and "what: " in
 * front, what being what zumactl was doing ("starting volume 'vol0'"). */
void zumactl_error_propagate(GError **dest, GError *src, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

/* zumactl_error_propagate() with what as the prefix; returns FALSE, for
 * `return zumactl_fail(error, g_steal_pointer(&local), what);`. */
gboolean zumactl_fail(GError **dest, GError *src, const char *what);

/* Sets a usage error (exit code 2) and returns FALSE. */
gboolean zumactl_usage_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

G_END_DECLS
