/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-reply"

#include "zuma-reply.h"

void zuma_reply_gerror(GDBusMethodInvocation *invocation, const GError *error)
{
        g_autofree char *message = g_utf8_make_valid(error->message, -1);

        g_debug("%s from %s failed: %s", g_dbus_method_invocation_get_method_name(invocation),
                g_dbus_method_invocation_get_sender(invocation), message);
        if (error->domain == ZUMA_ERROR)
                g_dbus_method_invocation_return_error_literal(invocation, ZUMA_ERROR, error->code,
                                                              message);
        else
                /* Anything else is a plain failure of ours, not of the caller. */
                g_dbus_method_invocation_return_error_literal(invocation, ZUMA_ERROR,
                                                              ZUMA_ERROR_FAILED, message);
}

void zuma_reply_error_literal(GDBusMethodInvocation *invocation, ZumaError code,
                              const char *message)
{
        g_autoptr(GError) error = g_error_new_literal(ZUMA_ERROR, code, message);

        zuma_reply_gerror(invocation, error);
}

void zuma_reply_error(GDBusMethodInvocation *invocation, ZumaError code, const char *format, ...)
{
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        zuma_reply_error_literal(invocation, code, message);
}
