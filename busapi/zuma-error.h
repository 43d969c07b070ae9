/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Zumastor error domain, registered with GDBus so that each code
 * crosses the bus as org.zumastor.Zumastor1.Error.NAME and comes back to a
 * GLib caller as the same GError code.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ZUMA_ERROR (zuma_error_quark())
#define ZUMA_ERROR_PREFIX "org.zumastor.Zumastor1.Error."

typedef enum {
        ZUMA_ERROR_FAILED,           /* Failed: anything not listed below */
        ZUMA_ERROR_NOT_FOUND,        /* NotFound: no such volume, snapshot, device */
        ZUMA_ERROR_ALREADY_EXISTS,   /* AlreadyExists: name or device taken */
        ZUMA_ERROR_BUSY,             /* Busy: open, mounted, or in use */
        ZUMA_ERROR_NO_SPACE,         /* NoSpace: the store is full or too small */
        ZUMA_ERROR_INVALID_ARGUMENT, /* InvalidArgument: a bad argument or option */
        ZUMA_ERROR_CORRUPT,          /* Corrupt: the store's metadata is damaged */
        ZUMA_ERROR_ACCESS_DENIED,    /* AccessDenied: caller not allowed */
        ZUMA_ERROR_IO,               /* IoError: a device failed an I/O */
        ZUMA_ERROR_NOT_RUNNING,      /* NotRunning: the volume is stopped or failed */
        ZUMA_ERROR_CANCELLED,        /* Cancelled: a job was cancelled */
        ZUMA_ERROR_LIMIT_EXCEEDED,   /* LimitExceeded: too many of something */
        ZUMA_ERROR_READ_ONLY,        /* ReadOnly: the store or image is read-only */
        ZUMA_ERROR_NOT_SUPPORTED,    /* NotSupported: not on this host or build */
        ZUMA_ERROR_TIMED_OUT,        /* TimedOut: the kernel did not answer in time */
} ZumaError;

#define ZUMA_ERROR_N_CODES (ZUMA_ERROR_TIMED_OUT + 1)

GQuark zuma_error_quark(void);

/* The short D-Bus name of a code ("NotFound"), for messages. */
const char *zuma_error_code_name(ZumaError code);

/* The error code an engine or system -errno stands for. */
ZumaError zuma_error_from_errno(int neg_errno);

/* Sets *error to the code of neg_errno with the formatted message. */
void zuma_error_set_errno(GError **error, int neg_errno, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

G_END_DECLS
