/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Answering a bus call with an error.  Messages may quote device paths and
 * engine sentences; they are made valid UTF-8 before they cross the bus
 * (an invalid string there would cost the daemon its connection).
 */
#pragma once

#include <gio/gio.h>

#include "zuma-error.h"

G_BEGIN_DECLS

/* Returns error (any domain; ZUMA_ERROR codes become
 * org.zumastor.Zumastor1.Error.*) on invocation and logs it. */
void zuma_reply_gerror(GDBusMethodInvocation *invocation, const GError *error);

void zuma_reply_error_literal(GDBusMethodInvocation *invocation, ZumaError code,
                              const char *message);

void zuma_reply_error(GDBusMethodInvocation *invocation, ZumaError code, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

G_END_DECLS
