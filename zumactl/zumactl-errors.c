/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-errors.h"

#include "zuma-error.h"
#include "zuma-names.h"

static ZumactlExit exit_code_zuma(gint code)
{
        switch ((ZumaError)code) {
        case ZUMA_ERROR_NOT_FOUND:
                return ZUMACTL_EXIT_NOT_FOUND;
        case ZUMA_ERROR_ALREADY_EXISTS:
                return ZUMACTL_EXIT_ALREADY_EXISTS;
        case ZUMA_ERROR_BUSY:
                return ZUMACTL_EXIT_BUSY;
        case ZUMA_ERROR_ACCESS_DENIED:
                return ZUMACTL_EXIT_ACCESS_DENIED;
        case ZUMA_ERROR_NO_SPACE:
        case ZUMA_ERROR_LIMIT_EXCEEDED:
                return ZUMACTL_EXIT_NO_SPACE;
        case ZUMA_ERROR_INVALID_ARGUMENT:
                return ZUMACTL_EXIT_INVALID_ARGUMENT;
        case ZUMA_ERROR_CORRUPT:
                return ZUMACTL_EXIT_CORRUPT;
        case ZUMA_ERROR_NOT_RUNNING:
                return ZUMACTL_EXIT_NOT_RUNNING;
        case ZUMA_ERROR_FAILED:
        case ZUMA_ERROR_IO:
        case ZUMA_ERROR_CANCELLED:
        case ZUMA_ERROR_READ_ONLY:
        case ZUMA_ERROR_NOT_SUPPORTED:
        case ZUMA_ERROR_TIMED_OUT:
        default:
                return ZUMACTL_EXIT_FAILURE;
        }
}

static ZumactlExit exit_code_dbus(gint code)
{
        switch ((GDBusError)code) {
        case G_DBUS_ERROR_ACCESS_DENIED:
        case G_DBUS_ERROR_AUTH_FAILED:
                return ZUMACTL_EXIT_ACCESS_DENIED;
        case G_DBUS_ERROR_SERVICE_UNKNOWN:
        case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
        case G_DBUS_ERROR_NO_SERVER:
        case G_DBUS_ERROR_NO_REPLY:
        case G_DBUS_ERROR_TIMEOUT:
        case G_DBUS_ERROR_TIMED_OUT:
        case G_DBUS_ERROR_DISCONNECTED:
        case G_DBUS_ERROR_NO_NETWORK:
        case G_DBUS_ERROR_ADDRESS_IN_USE:
        case G_DBUS_ERROR_BAD_ADDRESS:
        case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
        case G_DBUS_ERROR_SPAWN_FORK_FAILED:
        case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
        case G_DBUS_ERROR_SPAWN_CHILD_SIGNALED:
        case G_DBUS_ERROR_SPAWN_FAILED:
        case G_DBUS_ERROR_SPAWN_SETUP_FAILED:
        case G_DBUS_ERROR_SPAWN_CONFIG_INVALID:
        case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
        case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
        case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
        case G_DBUS_ERROR_SPAWN_FILE_INVALID:
        case G_DBUS_ERROR_SPAWN_NO_MEMORY:
                return ZUMACTL_EXIT_UNREACHABLE;
        case G_DBUS_ERROR_UNKNOWN_OBJECT:
                /* The object went away between looking it up and calling it. */
                return ZUMACTL_EXIT_NOT_FOUND;
        case G_DBUS_ERROR_INVALID_ARGS:
                return ZUMACTL_EXIT_INVALID_ARGUMENT;
        case G_DBUS_ERROR_LIMITS_EXCEEDED:
                return ZUMACTL_EXIT_NO_SPACE;
        default:
                return ZUMACTL_EXIT_FAILURE;
        }
}

ZumactlExit zumactl_exit_code(const GError *error)
{
        if (error == NULL)
                return ZUMACTL_EXIT_OK;
        if (error->domain == ZUMA_ERROR)
                return exit_code_zuma(error->code);
        if (error->domain == G_OPTION_ERROR)
                return ZUMACTL_EXIT_USAGE;
        if (error->domain == G_DBUS_ERROR)
                return exit_code_dbus(error->code);
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
            g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
            g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
                return ZUMACTL_EXIT_UNREACHABLE;
        return ZUMACTL_EXIT_FAILURE;
}

static const char *default_words(const GError *error)
{
        if (error->domain == ZUMA_ERROR) {
                switch ((ZumaError)error->code) {
                case ZUMA_ERROR_NOT_FOUND:
                        return "not found";
                case ZUMA_ERROR_ALREADY_EXISTS:
                        return "already exists";
                case ZUMA_ERROR_BUSY:
                        return "busy (open or mounted)";
                case ZUMA_ERROR_NO_SPACE:
                        return "no space left in the store";
                case ZUMA_ERROR_INVALID_ARGUMENT:
                        return "invalid argument";
                case ZUMA_ERROR_CORRUPT:
                        return "the store is corrupt";
                case ZUMA_ERROR_ACCESS_DENIED:
                        return "permission denied";
                case ZUMA_ERROR_IO:
                        return "input/output error";
                case ZUMA_ERROR_NOT_RUNNING:
                        return "the volume is not running";
                case ZUMA_ERROR_CANCELLED:
                        return "cancelled";
                case ZUMA_ERROR_LIMIT_EXCEEDED:
                        return "limit exceeded";
                case ZUMA_ERROR_READ_ONLY:
                        return "read-only";
                case ZUMA_ERROR_NOT_SUPPORTED:
                        return "not supported";
                case ZUMA_ERROR_TIMED_OUT:
                        return "timed out";
                case ZUMA_ERROR_FAILED:
                default:
                        break;
                }
        }
        return "failed";
}

char *zumactl_error_words(const GError *error)
{
        g_autoptr(GError) copy = g_error_copy(error);
        /* The bus daemon's own words, not zumactl's (which name the daemon
         * they could not reach). */
        gboolean remote = g_dbus_error_is_remote_error(error);

        g_dbus_error_strip_remote_error(copy);
        if (g_error_matches(copy, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED))
                /* The bus daemon's own text lists match rules; say it plainly. */
                return g_strdup("permission denied (refused by the D-Bus policy)");
        if (remote && (g_error_matches(copy, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
                       g_error_matches(copy, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)))
                return g_strdup("nothing owns the name " ZUMA_SNAPSHOTD_BUS_NAME " on the bus");
        if (remote && g_error_matches(copy, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY))
                return g_strdup("zuma-snapshotd did not answer");
        if (copy->message == NULL || copy->message[0] == '\0')
                return g_strdup(default_words(copy));
        return g_strdup(copy->message);
}

void zumactl_error_propagate(GError **dest, GError *src, const char *format, ...)
{
        g_autofree char *what = NULL;
        g_autofree char *words = NULL;
        va_list ap;

        va_start(ap, format);
        what = g_strdup_vprintf(format, ap);
        va_end(ap);
        words = zumactl_error_words(src);
        g_free(src->message);
        src->message = g_strdup_printf("%s: %s", what, words);
        g_propagate_error(dest, src);
}

gboolean zumactl_fail(GError **dest, GError *src, const char *what)
{
        zumactl_error_propagate(dest, src, "%s", what);
        return FALSE;
}

gboolean zumactl_usage_error(GError **error, const char *format, ...)
{
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, message);
        return FALSE;
}
