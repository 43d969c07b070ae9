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
#include "zuma-mount-view-plan.h"
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

        shown = g_variant_ref_sink(zuma_mount_config_to_variant(config, NULL));
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

static void test_views_config(void)
{
        g_autoptr(ZumaMountConfig) config = zuma_mount_config_new(UUID, "vol0");
        g_autoptr(ZumaMountConfig) loaded = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) dirs = NULL;
        g_autoptr(GVariant) relative = values("gmt_dir", "srv/gmt", NULL);
        g_autoptr(GVariant) same = values("gmt_dir", "/srv/v", "names_dir", "/srv/v/", NULL);
        g_autoptr(GVariant) over_origin = values("at", "/srv/share", "names_dir", "/srv", NULL);
        g_autoptr(GVariant) shown = NULL;
        g_autoptr(GKeyFile) key_file = NULL;
        g_autoptr(GKeyFile) old_file = g_key_file_new();
        g_autoptr(GKeyFile) bad_file = g_key_file_new();
        g_autofree char *gmt = NULL;
        g_autofree char *names = NULL;
        g_autofree char *custom = NULL;
        const char *text;
        gboolean on;

        /* On by default, siblings of the snapshots' mount points. */
        g_assert_true(config->views);
        gmt = zuma_mount_config_view_dir(config, ZUMA_MOUNT_VIEW_GMT,
                                         "/var/mount/zumastor/{volume}@{snapshot}");
        g_assert_cmpstr(gmt, ==, "/var/mount/zumastor/vol0.gmt");
        names = zuma_mount_config_view_dir(config, ZUMA_MOUNT_VIEW_NAMES,
                                           "/var/mount/zumastor/{volume}@{snapshot}");
        g_assert_cmpstr(names, ==, "/var/mount/zumastor/vol0.snapshot");

        dirs = g_variant_ref_sink(g_variant_new_parsed(
                "{'at': <'/srv/share'>, 'views': <false>, 'gmt_dir': <'/srv/share/.zumastor/'>, "
                "'names_dir': <'/srv/snapshots'>}"));
        g_assert_true(zuma_mount_config_update(config, dirs, &error));
        g_assert_false(config->views);
        g_assert_cmpstr(config->gmt_dir, ==, "/srv/share/.zumastor");
        custom = zuma_mount_config_view_dir(config, ZUMA_MOUNT_VIEW_NAMES, "/x/{snapshot}");
        g_assert_cmpstr(custom, ==, "/srv/snapshots");
        shown = g_variant_ref_sink(
                zuma_mount_config_to_variant(config, "/var/mount/zumastor/{volume}@{snapshot}"));
        g_assert_true(g_variant_lookup(shown, "views", "b", &on));
        g_assert_false(on);
        g_assert_true(g_variant_lookup(shown, "gmt_path", "&s", &text));
        g_assert_cmpstr(text, ==, "");
        g_assert_true(g_variant_lookup(shown, "names_dir", "&s", &text));
        g_assert_cmpstr(text, ==, "/srv/snapshots");

        key_file = zuma_mount_config_to_keyfile(config);
        loaded = zuma_mount_config_from_keyfile(key_file, &error);
        g_assert_no_error(error);
        g_assert_true(zuma_mount_config_equal(config, loaded));

        /* Refused, and nothing changed. */
        g_assert_false(zuma_mount_config_update(config, relative, &error));
        assert_invalid(&error, "not an absolute path");
        g_assert_false(zuma_mount_config_update(config, same, &error));
        assert_invalid(&error, "a directory of its own");
        g_assert_false(zuma_mount_config_update(config, over_origin, &error));
        assert_invalid(&error, "holds the origin's mount point");
        g_assert_cmpstr(config->gmt_dir, ==, "/srv/share/.zumastor");
        g_assert_cmpstr(config->names_dir, ==, "/srv/snapshots");

        /* A file from before the views: on.  A bad Views=: refused. */
        g_assert_true(g_key_file_load_from_data(old_file,
                                                "[Mount]\nUuid=" UUID "\nAt=\nSnapshots=all\n", -1,
                                                G_KEY_FILE_NONE, NULL));
        g_clear_pointer(&loaded, zuma_mount_config_free);
        loaded = zuma_mount_config_from_keyfile(old_file, &error);
        g_assert_no_error(error);
        g_assert_true(loaded->views);
        g_assert_true(g_key_file_load_from_data(
                bad_file, "[Mount]\nUuid=" UUID "\nAt=\nSnapshots=all\nViews=maybe\n", -1,
                G_KEY_FILE_NONE, NULL));
        g_clear_pointer(&loaded, zuma_mount_config_free);
        loaded = zuma_mount_config_from_keyfile(bad_file, &error);
        g_assert_null(loaded);
        assert_invalid(&error, "Views=");
}

static void test_views_gmt_name(void)
{
        g_autofree char *name = zuma_mount_gmt_name(1805538600); /* 2027-03-20 10:30:00 UTC */
        g_autofree char *epoch = zuma_mount_gmt_name(0);
        g_autofree char *far = zuma_mount_gmt_name(G_MAXUINT64);

        g_assert_cmpstr(name, ==, "@GMT-2027.03.20-10.30.00");
        g_assert_cmpuint(strlen(name), ==, ZUMA_MOUNT_GMT_NAME_LEN);
        g_assert_cmpstr(epoch, ==, "@GMT-1970.01.01-00.00.00");
        g_assert_null(far);
}

static void test_views_plan(void)
{
        /* b and c share a second: c, the newer, takes it. */
        const ZumaViewSource sources[] = {
                { 7, 1805538600, "a", "/m/v@a" },
                { 9, 1805538601, "c", "/m/v@c" },
                { 8, 1805538601, "b", "/m/v@b" },
                { 10, G_MAXUINT64, "far", "/m/v@far" },
        };
        g_autoptr(GHashTable) gmt = NULL;
        g_autoptr(GHashTable) names = NULL;

        zuma_mount_view_plan(sources, G_N_ELEMENTS(sources), &gmt, &names);
        g_assert_cmpuint(g_hash_table_size(gmt), ==, 2);
        g_assert_cmpstr(g_hash_table_lookup(gmt, "@GMT-2027.03.20-10.30.00"), ==, "/m/v@a");
        g_assert_cmpstr(g_hash_table_lookup(gmt, "@GMT-2027.03.20-10.30.01"), ==, "/m/v@c");
        g_assert_cmpuint(g_hash_table_size(names), ==, 4);
        g_assert_cmpstr(g_hash_table_lookup(names, "b"), ==, "/m/v@b");
        g_assert_cmpstr(g_hash_table_lookup(names, "far"), ==, "/m/v@far");
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
        g_test_add_func("/mount/views-config", test_views_config);
        g_test_add_func("/mount/views-gmt-name", test_views_gmt_name);
        g_test_add_func("/mount/views-plan", test_views_plan);
        return g_test_run();
}
