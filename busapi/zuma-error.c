/* SPDX-License-Identifier: GPL-2.0-only */
#include "zuma-error.h"

#include <errno.h>

static const GDBusErrorEntry entries[] = {
        { ZUMA_ERROR_FAILED, ZUMA_ERROR_PREFIX "Failed" },
        { ZUMA_ERROR_NOT_FOUND, ZUMA_ERROR_PREFIX "NotFound" },
        { ZUMA_ERROR_ALREADY_EXISTS, ZUMA_ERROR_PREFIX "AlreadyExists" },
        { ZUMA_ERROR_BUSY, ZUMA_ERROR_PREFIX "Busy" },
        { ZUMA_ERROR_NO_SPACE, ZUMA_ERROR_PREFIX "NoSpace" },
        { ZUMA_ERROR_INVALID_ARGUMENT, ZUMA_ERROR_PREFIX "InvalidArgument" },
        { ZUMA_ERROR_CORRUPT, ZUMA_ERROR_PREFIX "Corrupt" },
        { ZUMA_ERROR_ACCESS_DENIED, ZUMA_ERROR_PREFIX "AccessDenied" },
        { ZUMA_ERROR_IO, ZUMA_ERROR_PREFIX "IoError" },
        { ZUMA_ERROR_NOT_RUNNING, ZUMA_ERROR_PREFIX "NotRunning" },
        { ZUMA_ERROR_CANCELLED, ZUMA_ERROR_PREFIX "Cancelled" },
        { ZUMA_ERROR_LIMIT_EXCEEDED, ZUMA_ERROR_PREFIX "LimitExceeded" },
        { ZUMA_ERROR_READ_ONLY, ZUMA_ERROR_PREFIX "ReadOnly" },
        { ZUMA_ERROR_NOT_SUPPORTED, ZUMA_ERROR_PREFIX "NotSupported" },
        { ZUMA_ERROR_TIMED_OUT, ZUMA_ERROR_PREFIX "TimedOut" },
};

G_STATIC_ASSERT(G_N_ELEMENTS(entries) == ZUMA_ERROR_N_CODES);

GQuark zuma_error_quark(void)
{
        static gsize quark;

        g_dbus_error_register_error_domain("zuma-error-quark", &quark, entries,
                                           G_N_ELEMENTS(entries));
        return (GQuark)quark;
}

const char *zuma_error_code_name(ZumaError code)
{
        if ((unsigned)code >= G_N_ELEMENTS(entries))
                code = ZUMA_ERROR_FAILED;
        return entries[code].dbus_error_name + strlen(ZUMA_ERROR_PREFIX);
}

ZumaError zuma_error_from_errno(int neg_errno)
{
        switch (-neg_errno) {
        case ENOENT:
        case ENODEV:
        case ENXIO:
                return ZUMA_ERROR_NOT_FOUND;
        case EEXIST:
                return ZUMA_ERROR_ALREADY_EXISTS;
        case EBUSY:
        case ETXTBSY:
        case EAGAIN:
                return ZUMA_ERROR_BUSY;
        case ENOSPC:
        case EFBIG:
                return ZUMA_ERROR_NO_SPACE;
        case EINVAL:
        case ERANGE:
        case ENAMETOOLONG:
        case ENOTBLK:
                return ZUMA_ERROR_INVALID_ARGUMENT;
        case EUCLEAN:
        case EILSEQ:
        case ENODATA: /* the engine: no store on the device */
        case EBADMSG:
        case EPROTO:
                return ZUMA_ERROR_CORRUPT;
        case EACCES:
        case EPERM:
                return ZUMA_ERROR_ACCESS_DENIED;
        case EIO:
                return ZUMA_ERROR_IO;
        case ECANCELED:
                return ZUMA_ERROR_CANCELLED;
        case EMLINK:
        case E2BIG:
        case EDQUOT:
                return ZUMA_ERROR_LIMIT_EXCEEDED;
        case EROFS:
                return ZUMA_ERROR_READ_ONLY;
        case EOPNOTSUPP:
                return ZUMA_ERROR_NOT_SUPPORTED;
        case ETIMEDOUT:
                return ZUMA_ERROR_TIMED_OUT;
        default:
                return ZUMA_ERROR_FAILED;
        }
}

void zuma_error_set_errno(GError **error, int neg_errno, const char *format, ...)
{
        va_list ap;
        g_autofree char *message = NULL;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_set_error_literal(error, ZUMA_ERROR, zuma_error_from_errno(neg_errno), message);
}
