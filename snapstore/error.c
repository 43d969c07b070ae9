/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What went wrong: the sentence behind the last -errno of this thread, and a
 * store's record of the corrupt metadata found in it.
 *
 * Functions set the sentence where the failure is detected, so the message
 * can name the block, the device or the argument; callers log it where they
 * handle the error.  The layers that read metadata (btree.c, spacemap.c)
 * record corruption with store_damaged(), here at the bottom so that they
 * need not call up into the transaction layer, which acts on the record
 * (store_writable(), txn.c).
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

int store_damaged(SsStore *s, int err)
{
        if ((err == -EUCLEAN || err == -EILSEQ) && !s->damaged) {
                s->damaged = true;
                snprintf(s->damage, sizeof(s->damage), "%s", ss_last_error());
        }
        return err;
}
