/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of the stable device identities hot-plug finds origins by
 * (agents/common/zuma-device-identity.c): which identity a device's facts
 * give, in which order of preference, that every identity made passes the
 * check, and that malformed ones (a volume definition is a file people can
 * edit) are refused with InvalidArgument naming what was wrong.
 */
#include <string.h>

#include "zuma-device-identity.h"
#include "zuma-error.h"

static void assert_invalid(const char *text, const char *word)
{
        g_autoptr(GError) error = NULL;

        if (zuma_device_identity_check(text, &error))
                g_error("identity \"%s\" was accepted", text);
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        if (!strstr(error->message, word))
                g_error("message \"%s\" does not name \"%s\"", error->message, word);
}

static void assert_identity(const ZumaDeviceFacts *facts, const char *want)
{
        g_autofree char *identity = zuma_device_identity_from_facts(facts);
        g_autoptr(GError) error = NULL;

        g_assert_cmpstr(identity, ==, want);
        if (identity && !zuma_device_identity_check(identity, &error))
                g_error("made \"%s\", then refused it: %s", identity, error->message);
}

static void test_preference(void)
{
        ZumaDeviceFacts facts = { 0 };

        assert_identity(&facts, NULL);
        facts.serial = "ATA_Disk_S123";
        assert_identity(&facts, "serial:ATA_Disk_S123");
        /* A partition also carries its disk's serial: the partition wins. */
        facts.part_uuid = "0f3c2a1e-01";
        assert_identity(&facts, "partuuid:0f3c2a1e-01");
        facts.dm_uuid = "LVM-abcDEF";
        assert_identity(&facts, "dm:LVM-abcDEF");
        /* A loop device is its backing file, whatever udev says besides. */
        facts.loop_backing_file = "/var/lib/images/home.img";
        assert_identity(&facts, "loop:0:/var/lib/images/home.img");
        facts.loop_offset = 1048576;
        assert_identity(&facts, "loop:1048576:/var/lib/images/home.img");
}

static void test_unusable_facts(void)
{
        ZumaDeviceFacts facts = { .serial = "" };

        assert_identity(&facts, NULL);
        /* A relative backing file (not what the kernel reports) is no
         * identity; the next fact is used. */
        facts.loop_backing_file = "home.img";
        facts.serial = "S1";
        assert_identity(&facts, "serial:S1");
        /* A control character would break the key file: nothing. */
        facts.loop_backing_file = "/img/a\nb";
        facts.serial = NULL;
        assert_identity(&facts, NULL);
}

static void test_check(void)
{
        g_autofree char *long_path = g_strnfill(ZUMA_DEVICE_IDENTITY_MAX, 'a');
        g_autofree char *too_long = g_strconcat("serial:", long_path, NULL);

        g_assert_true(zuma_device_identity_check("loop:0:/a b/c.img", NULL));
        g_assert_true(zuma_device_identity_check("dm:LVM-x", NULL));
        g_assert_true(zuma_device_identity_check("partuuid:1234-5678", NULL));
        assert_invalid("", "kind");
        assert_invalid("usb:1234", "kind");
        assert_invalid("serial:", "nothing after the kind");
        assert_invalid("loop:/img", "loop:OFFSET:PATH");
        assert_invalid("loop:x:/img", "offset");
        assert_invalid("loop:-1:/img", "offset");
        assert_invalid("loop:0:img", "absolute");
        assert_invalid("serial:a\tb", "printable");
        assert_invalid("serial:\xff", "printable");
        assert_invalid(too_long, "longer than");
}

static void test_describe(void)
{
        g_autofree char *loop = zuma_device_identity_describe("loop:0:/img/a.img");
        g_autofree char *offset = zuma_device_identity_describe("loop:512:/img/a.img");
        g_autofree char *dm = zuma_device_identity_describe("dm:LVM-x");
        guint8 uuid[16] = { 0x0f, 0x0e, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xff };
        g_autofree char *uuid_text = zuma_uuid_string(uuid);

        g_assert_cmpstr(loop, ==, "the loop device over /img/a.img");
        g_assert_cmpstr(offset, ==, "the loop device over /img/a.img at offset 512");
        g_assert_cmpstr(dm, ==, "the device-mapper device with UUID LVM-x");
        g_assert_cmpstr(uuid_text, ==, "0f0e0001-0203-0405-0607-08090a0b0cff");
        g_assert_true(g_uuid_string_is_valid(uuid_text));
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/device-identity/preference", test_preference);
        g_test_add_func("/device-identity/unusable-facts", test_unusable_facts);
        g_test_add_func("/device-identity/check", test_check);
        g_test_add_func("/device-identity/describe", test_describe);
        return g_test_run();
}
