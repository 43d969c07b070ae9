/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A schedule's pre or post command (zuma-schedule.h checked it: an
 * absolute path first, split as a shell would, run without a shell), run
 * to its end or its timeout.
 *
 * The command inherits the daemon's stderr (its lines go to the journal
 * with the daemon's) and gets /dev/null as stdin and stdout.  At the
 * timeout it is killed (SIGKILL) and reaped.  The wait runs in a private
 * main context, so the scheduler's main loop does not run meanwhile (it
 * does one thing at a time: zuma-scheduler.c).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* FALSE with an error saying how it failed: it could not start, exited
 * with a status other than 0, was killed by a signal, or timed out
 * (ZUMA_ERROR_TIMED_OUT). */
gboolean zuma_schedule_run_command(const char *command, gint64 timeout_seconds, GError **error);

G_END_DECLS
