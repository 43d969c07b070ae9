/* SPDX-License-Identifier: GPL-2.0-only */
/* Stable identities of block devices: zuma-device-identity.h says which
 * and why in that order. */
#include "zuma-device-identity.h"

#include "zuma-error.h"

static gboolean present(const char *value)
{
        return value && value[0];
}

/* Values come from udev and sysfs; a control character would break the
 * key file and the log line they go to. */
static gboolean printable(const char *value)
{
        for (const char *p = value; *p; p++) {
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return FALSE;
        }
        return TRUE;
}

char *zuma_device_identity_from_facts(const ZumaDeviceFacts *facts)
{
        char *identity = NULL;

        if (present(facts->loop_backing_file) && facts->loop_backing_file[0] == '/')
                identity = g_strdup_printf("loop:%" G_GUINT64_FORMAT ":%s", facts->loop_offset,
                                           facts->loop_backing_file);
        else if (present(facts->dm_uuid))
                identity = g_strconcat("dm:", facts->dm_uuid, NULL);
        else if (present(facts->part_uuid))
                identity = g_strconcat("partuuid:", facts->part_uuid, NULL);
        else if (present(facts->serial))
                identity = g_strconcat("serial:", facts->serial, NULL);
        if (identity && (strlen(identity) > ZUMA_DEVICE_IDENTITY_MAX || !printable(identity)))
                g_clear_pointer(&identity, g_free);
        return identity;
}

static gboolean invalid(GError **error, const char *text, const char *why)
{
        g_autofree char *shown = g_strndup(text, 80);

        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT, "device identity \"%s%s\": %s",
                    shown, strlen(text) > 80 ? "..." : "", why);
        return FALSE;
}

static gboolean check_loop(const char *text, const char *value, GError **error)
{
        const char *colon = strchr(value, ':');
        guint64 offset;

        if (!colon || colon == value)
                return invalid(error, text, "a loop identity is loop:OFFSET:PATH");
        {
                g_autofree char *digits = g_strndup(value, colon - value);

                if (!g_ascii_string_to_unsigned(digits, 10, 0, G_MAXINT64, &offset, NULL))
                        return invalid(error, text, "the loop offset is not a number of bytes");
        }
        if (colon[1] != '/')
                return invalid(error, text, "the backing file is not an absolute path");
        return TRUE;
}

gboolean zuma_device_identity_check(const char *text, GError **error)
{
        static const char *const kinds[] = { "loop:", "dm:", "partuuid:", "serial:" };
        const char *value = NULL;

        if (strlen(text) > ZUMA_DEVICE_IDENTITY_MAX)
                return invalid(error, text,
                               "longer than " G_STRINGIFY(ZUMA_DEVICE_IDENTITY_MAX) " bytes");
        if (!g_utf8_validate(text, -1, NULL) || !printable(text))
                return invalid(error, text, "not printable UTF-8");
        for (guint i = 0; i < G_N_ELEMENTS(kinds) && !value; i++) {
                if (g_str_has_prefix(text, kinds[i]))
                        value = text + strlen(kinds[i]);
        }
        if (!value)
                return invalid(error, text, "the kind is not loop:, dm:, partuuid: or serial:");
        if (!value[0])
                return invalid(error, text, "nothing after the kind");
        if (g_str_has_prefix(text, "loop:"))
                return check_loop(text, value, error);
        return TRUE;
}

char *zuma_uuid_string(const guint8 *uuid)
{
        return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                               "%02x%02x%02x%02x%02x%02x",
                               uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6],
                               uuid[7], uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13],
                               uuid[14], uuid[15]);
}

char *zuma_device_identity_describe(const char *identity)
{
        const char *colon;

        if (g_str_has_prefix(identity, "loop:") && (colon = strchr(identity + 5, ':'))) {
                if (g_str_has_prefix(identity, "loop:0:"))
                        return g_strdup_printf("the loop device over %s", colon + 1);
                return g_strdup_printf("the loop device over %s at offset %.*s", colon + 1,
                                       (int)(colon - identity - 5), identity + 5);
        }
        if (g_str_has_prefix(identity, "dm:"))
                return g_strdup_printf("the device-mapper device with UUID %s", identity + 3);
        if (g_str_has_prefix(identity, "partuuid:"))
                return g_strdup_printf("the partition with UUID %s", identity + 9);
        if (g_str_has_prefix(identity, "serial:"))
                return g_strdup_printf("the disk with serial %s", identity + 7);
        return g_strdup(identity);
}
