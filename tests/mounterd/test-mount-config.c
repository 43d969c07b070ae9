/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of zuma-mounterd's pure part (agents/mounterd/zuma-mount-config.c)
 * and of the mount table parser it shares (agents/common/zuma-mountinfo.c):
 * mount points, templates, "snapshots", mount options per file system,
 * the configuration's a{sv} and key file forms, and that every bad input
 * is refused with InvalidArgument and a message naming what was wrong.
 */
#include <string.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include "zuma-error.h"
#include "zuma-mount-config.h"
#include "zuma-mountinfo.h"

static void assert_invalid(GError **error, const char *word)
{
        g_assert_error(*error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        if (!strstr((*error)->message, word))
                g_error("message \"%s\" does not name \"%s\"", (*error)->message, word);
        g_clear_error(error);
}

static void test_mount_point(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;

        g_assert_true(zuma_mount_check_point("mount point", "/home/", &path, &error));
        g_assert_cmpstr(path, ==, "/home");
        g_assert_true(zuma_mount_check_point("mount point", "/srv/data", NULL, &error));

        g_assert_false(zuma_mount_check_point("mount point", "home", NULL, &error));
        assert_invalid(&error, "not an absolute path");
        g_assert_false(zuma_mount_check_point("mount point", "/", NULL, &error));
        assert_invalid(&error, "\"/\"");
        g_assert_false(zuma_mount_check_point("mount point", "///", NULL, &error));
        assert_invalid(&error, "\"/\"");
        g_assert_false(zuma_mount_check_point("mount point", "/srv/../etc", NULL, &error));
        assert_invalid(&error, "\"..\"");
        g_assert_false(zuma_mount_check_point("mount point", "/srv//x", NULL, &error));
        assert_invalid(&error, "//");
        g_assert_false(zuma_mount_check_point("mount point", "", NULL, &error));
        assert_invalid(&error, "empty");
}

static void test_within(void)
{
        g_assert_true(zuma_mount_path_within("/a/b", "/a"));
        g_assert_true(zuma_mount_path_within("/a", "/a"));
        g_assert_false(zuma_mount_path_within("/ab", "/a"));
        g_assert_false(zuma_mount_path_within("/a", "/a/b"));
        g_assert_true(zuma_mount_path_within("/x", "/"));
}

static void test_template(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *base = NULL;
        g_autofree char *nested_base = NULL;

        g_assert_true(zuma_mount_check_template("/var/mount/zumastor/{volume}@{snapshot}", &error));
        path = zuma_mount_expand_template("/var/mount/zumastor/{volume}@{snapshot}", "vol0",
                                          "daily-2027-03-20");
        g_assert_cmpstr(path, ==, "/var/mount/zumastor/vol0@daily-2027-03-20");
        base = zuma_mount_template_base("/var/mount/zumastor/{volume}@{snapshot}");
        g_assert_cmpstr(base, ==, "/var/mount/zumastor");
        nested_base = zuma_mount_template_base("/srv/snap/{volume}/x{snapshot}");
        g_assert_cmpstr(nested_base, ==, "/srv/snap");
        g_assert_true(zuma_mount_check_template("/home/.snapshot/{snapshot}", &error));

        g_assert_false(zuma_mount_check_template("/srv/snap/{volume}", &error));
        assert_invalid(&error, "{snapshot}");
        g_assert_false(zuma_mount_check_template("/srv/{name}/{snapshot}", &error));
        assert_invalid(&error, "{name}");
        g_assert_false(zuma_mount_check_template("srv/{snapshot}", &error));
        assert_invalid(&error, "not an absolute path");
        g_assert_false(zuma_mount_check_template("/{snapshot}", &error));
        assert_invalid(&error, "below \"/\"");
        g_assert_false(zuma_mount_check_template("/srv/../{snapshot}", &error));
        assert_invalid(&error, "\"..\"");
}

static void test_snapshots(void)
{
        g_autoptr(GError) error = NULL;
        ZumaMountSnapshots mode;
        guint n;
        g_autofree char *text = NULL;

        g_assert_true(zuma_mount_parse_snapshots("all", &mode, &n, &error));
        g_assert_cmpint(mode, ==, ZUMA_MOUNT_SNAPSHOTS_ALL);
        g_assert_true(zuma_mount_parse_snapshots("none", &mode, &n, &error));
        g_assert_cmpint(mode, ==, ZUMA_MOUNT_SNAPSHOTS_NONE);
        g_assert_true(zuma_mount_parse_snapshots("newest:7", &mode, &n, &error));
        g_assert_cmpint(mode, ==, ZUMA_MOUNT_SNAPSHOTS_NEWEST);
        g_assert_cmpuint(n, ==, 7);
        text = zuma_mount_snapshots_to_string(mode, n);
        g_assert_cmpstr(text, ==, "newest:7");
        for (guint i = 0; i < 6; i++) {
                static const char *const bad[] = { "newest:0",    "newest:", "newest:-1",
                                                   "newest:1001", "some",    "newest:2x" };

                g_assert_false(zuma_mount_parse_snapshots(bad[i], &mode, &n, &error));
                assert_invalid(&error, "newest:N");
        }
}

static void test_options(void)
{
        g_autoptr(GError) error = NULL;
        unsigned long flags;
        char *data = NULL;

        g_assert_true(zuma_mount_options_parse("noatime,nodev,commit=30", FALSE, "ext4", &flags,
                                               &data, &error));
        g_assert_cmphex(flags, ==, MS_NOATIME | MS_NODEV);
        g_assert_cmpstr(data, ==, "commit=30");
        g_clear_pointer(&data, g_free);

        /* A snapshot is read-only whatever the options say, with what its
         * file system needs to mount an image never cleanly unmounted. */
        g_assert_true(zuma_mount_options_parse("rw,noatime", TRUE, "ext4", &flags, &data, &error));
        g_assert_cmphex(flags, ==, MS_RDONLY | MS_NOATIME);
        g_assert_cmpstr(data, ==, "noload");
        g_clear_pointer(&data, g_free);
        g_assert_true(zuma_mount_options_parse("", TRUE, "xfs", &flags, &data, &error));
        g_assert_cmphex(flags, ==, MS_RDONLY);
        g_assert_cmpstr(data, ==, "norecovery,nouuid");
        g_clear_pointer(&data, g_free);
        g_assert_true(zuma_mount_options_parse("", TRUE, "btrfs", &flags, &data, &error));
        g_assert_cmpstr(data, ==, "");
        g_clear_pointer(&data, g_free);
        g_assert_true(zuma_mount_options_parse("", FALSE, "ext4", &flags, &data, &error));
        g_assert_cmphex(flags, ==, 0);
        g_clear_pointer(&data, g_free);
        {
                g_autofree char *described =
                        zuma_mount_options_describe(MS_RDONLY | MS_NOATIME, "noload");

                g_assert_cmpstr(described, ==, "ro,noatime,noload");
        }

        g_assert_false(zuma_mount_options_parse("bind", FALSE, "ext4", &flags, &data, &error));
        assert_invalid(&error, "bind");
        g_assert_false(zuma_mount_options_parse("remount,ro", FALSE, "", &flags, &data, &error));
        assert_invalid(&error, "remount");
        g_assert_false(zuma_mount_options_parse("a b", FALSE, "", &flags, &data, &error));
        assert_invalid(&error, "a b");
}

static GVariant *values(const char *first_key, ...) G_GNUC_NULL_TERMINATED;

static GVariant *values(const char *first_key, ...)
{
        GVariantDict dict;
        va_list ap;

        g_variant_dict_init(&dict, NULL);
        va_start(ap, first_key);
        for (const char *key = first_key; key; key = va_arg(ap, const char *))
                g_variant_dict_insert(&dict, key, "s", va_arg(ap, const char *));
        va_end(ap);
        return g_variant_ref_sink(g_variant_dict_end(&dict));
}

#define UUID "0f6b8d1e-5c2a-4b7e-9a53-3d1f2e4c5b6a"

static void test_config_update(void)
{
        g_autoptr(ZumaMountConfig) config = zuma_mount_config_new(UUID, "vol0");
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) good = values("at", "/home/", "snapshots", "newest:3", "template",
                                          "/srv/{volume}/{snapshot}", "options", "noatime", NULL);
        g_autoptr(GVariant) bad_at = values("at", "rel", "snapshots", "none", NULL);
        g_autoptr(GVariant) bad_key = values("where", "/x", NULL);
        g_autoptr(GVariant) bad_template = values("template", "/srv/fixed", NULL);
        g_autoptr(GVariant) bad_options = values("options", "move", NULL);
        g_autoptr(GVariant) shown = NULL;
        const char *text;

        g_assert_cmpstr(config->at, ==, "");
        g_assert_cmpint(config->snapshots, ==, ZUMA_MOUNT_SNAPSHOTS_ALL);
        g_assert_true(zuma_mount_config_update(config, good, &error));
        g_assert_cmpstr(config->at, ==, "/home");
        g_assert_cmpint(config->snapshots, ==, ZUMA_MOUNT_SNAPSHOTS_NEWEST);
        g_assert_cmpuint(config->newest, ==, 3);
        g_assert_cmpstr(config->template, ==, "/srv/{volume}/{snapshot}");
        g_assert_cmpstr(config->options, ==, "noatime");

        /* A refused update changes nothing. */
        g_assert_false(zuma_mount_config_update(config, bad_at, &error));
        assert_invalid(&error, "not an absolute path");
        g_assert_cmpint(config->snapshots, ==, ZUMA_MOUNT_SNAPSHOTS_NEWEST);
        g_assert_false(zuma_mount_config_update(config, bad_key, &error));
        assert_invalid(&error, "where");
        g_assert_false(zuma_mount_config_update(config, bad_template, &error));
        assert_invalid(&error, "{snapshot}");
        g_assert_false(zuma_mount_config_update(config, bad_options, &error));
        assert_invalid(&error, "move");
        g_assert_cmpstr(config->at, ==, "/home");

        shown = g_variant_ref_sink(zuma_mount_config_to_variant(config));
        g_assert_true(g_variant_lookup(shown, "snapshots", "&s", &text));
        g_assert_cmpstr(text, ==, "newest:3");
        g_assert_true(g_variant_lookup(shown, "volume", "&s", &text));
        g_assert_cmpstr(text, ==, "vol0");
}

static void test_keyfile(void)
{
        g_autoptr(ZumaMountConfig) config = zuma_mount_config_new(UUID, "vol0");
        g_autoptr(ZumaMountConfig) loaded = NULL;
        g_autoptr(GVariant) set =
                values("at", "/srv/data", "snapshots", "none", "options", "nodev,commit=5", NULL);
        g_autoptr(GKeyFile) key_file = NULL;
        g_autoptr(GKeyFile) parsed = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;

        g_assert_true(zuma_mount_config_update(config, set, &error));
        config->force = TRUE;
        key_file = zuma_mount_config_to_keyfile(config);
        text = g_key_file_to_data(key_file, NULL, NULL);
        g_assert_true(g_key_file_load_from_data(parsed, text, -1, G_KEY_FILE_NONE, &error));
        loaded = zuma_mount_config_from_keyfile(parsed, &error);
        g_assert_no_error(error);
        g_assert_true(zuma_mount_config_equal(config, loaded));
        g_assert_cmpstr(loaded->volume_name, ==, "vol0");

        /* A file is untrusted too. */
        {
                static const struct {
                        const char *text;
                        const char *word;
                } bad[] = {
                        { "[Mount]\nUuid=nope\nAt=\nSnapshots=all\n", "not a UUID" },
                        { "[Mount]\nUuid=" UUID "\nAt=relative\nSnapshots=all\n",
                          "not an absolute path" },
                        { "[Mount]\nUuid=" UUID "\nAt=\nSnapshots=newest:0\n", "newest:N" },
                        { "[Mount]\nUuid=" UUID "\nSnapshots=all\n", "At=" },
                        { "[Mount]\nUuid=" UUID "\nAt=\nSnapshots=all\nTemplate=/x\n",
                          "{snapshot}" },
                };

                for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                        g_autoptr(GKeyFile) file = g_key_file_new();
                        g_autoptr(ZumaMountConfig) refused = NULL;

                        g_assert_true(g_key_file_load_from_data(file, bad[i].text, -1,
                                                                G_KEY_FILE_NONE, NULL));
                        refused = zuma_mount_config_from_keyfile(file, &error);
                        g_assert_null(refused);
                        assert_invalid(&error, bad[i].word);
                }
        }
}

static void test_mountinfo(void)
{
        static const char text[] =
                "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
                "40 22 7:3 / /srv/with\\040space rw,relatime shared:20 - ext4 /dev/loop3 "
                "rw\n"
                "41 22 7:4 / /var/mount/zumastor/vol0@s1 ro,relatime - ext4 /dev/loop4 "
                "ro,noload\n"
                "42 41 7:5 / /var/mount/zumastor/vol0@s1 ro - xfs /dev/loop5 ro\n"
                "garbage line\n";
        g_autoptr(GPtrArray) entries = zuma_mountinfo_parse(text);
        const ZumaMountEntry *entry;

        g_assert_cmpuint(entries->len, ==, 4);
        entry = zuma_mountinfo_find_point(entries, "/srv/with space");
        g_assert_nonnull(entry);
        g_assert_cmpstr(entry->fstype, ==, "ext4");
        g_assert_cmpstr(entry->source, ==, "/dev/loop3");
        g_assert_true(entry->device == makedev(7, 3));
        /* The topmost of two mounts at one point. */
        entry = zuma_mountinfo_find_point(entries, "/var/mount/zumastor/vol0@s1");
        g_assert_cmpstr(entry->fstype, ==, "xfs");
        entry = zuma_mountinfo_find_device(entries, makedev(7, 4));
        g_assert_cmpstr(entry->mount_point, ==, "/var/mount/zumastor/vol0@s1");
        g_assert_null(zuma_mountinfo_find_point(entries, "/nowhere"));
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/mount/point", test_mount_point);
        g_test_add_func("/mount/within", test_within);
        g_test_add_func("/mount/template", test_template);
        g_test_add_func("/mount/snapshots", test_snapshots);
        g_test_add_func("/mount/options", test_options);
        g_test_add_func("/mount/config-update", test_config_update);
        g_test_add_func("/mount/keyfile", test_keyfile);
        g_test_add_func("/mount/mountinfo", test_mountinfo);
        return g_test_run();
}
