/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sentence behind the last -errno of this thread.  Functions set it where
 * the failure is detected, so the message can name the block, the device or
 * the argument; callers log it where they handle the error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char last_error[512];

/* Formats into a scratch buffer first: a caller may pass ss_last_error()
 * itself as an argument, to wrap the message in context. */
static void set_error(const char *fmt, va_list ap)
{
        char msg[sizeof(last_error)];

        vsnprintf(msg, sizeof(msg), fmt, ap);
        memcpy(last_error, msg, sizeof(msg));
}

void ss_set_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        set_error(fmt, ap);
        va_end(ap);
}

int ss_error(int err, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        set_error(fmt, ap);
        va_end(ap);
        return err;
}

const char *ss_last_error(void)
{
        return last_error[0] ? last_error : "no error";
}
