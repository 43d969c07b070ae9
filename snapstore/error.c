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

void ss_set_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(last_error, sizeof(last_error), fmt, ap);
        va_end(ap);
}

int ss_error(int err, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(last_error, sizeof(last_error), fmt, ap);
        va_end(ap);
        return err;
}

const char *ss_last_error(void)
{
        return last_error[0] ? last_error : "no error";
}
