/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-snapshotd on a private system bus, through the generated proxies.
 *
 * Run by test-snapshotd.sh, which sources zuma-test-bus.sh, starts the bus
 * and the daemon and exports ZUMA_TEST_DIR, ZUMA_TEST_HARNESS and
 * DBUS_SYSTEM_BUS_ADDRESS.  The test makes its loop devices and restarts
 * the daemon through the harness ("zuma-test-bus.sh loop-device NAME
 * SIZE", "... restart-daemon", "... kill-daemon"), which also detaches and
 * removes everything at the end.
 *
 * The cases: bad input of every method (checked by exact D-Bus error
 * name), then the happy paths with their properties and signals, the
 * store-full policy, restarts, an unprivileged caller, devices attached on
 * demand (and kept across restarts), writability changes of attached
 * snapshots, and stores whose device fails.  With --frontend=none the parts
 * that write a volume's device are skipped with a reason.
 *
 * Any one case runs alone (-p /bus/NN-name) and in any order.  Most cases
 * define volumes of their own.  The rest are steps of a chain (the "good"
 * volume through its life, the "demand" volume), each step building on
 * the state the steps before it leave: a step whose chain is not right
 * behind it first forgets the chain's volumes, takes fresh devices and
 * runs the steps before it as its setup (their assertions hold there
 * too).  In the written order nothing is run twice.  ZUMA_TEST_SHUFFLE_SEED
 * (a number, or "random") shuffles the order and prints the seed.
 *
 * Run as `nobody` with --unprivileged (the test does that itself), the
 * binary checks that every mutating method is refused and that status can
 * be read.  The plumbing is in bus-test-util.c.
 */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-test-util.h"

static struct {
        gboolean fuse; /* the daemon has a data frontend */
        /* the good volume every case may use */
        char *origin;
        char *store;
        char *vol_path;
        /* spare devices */
        char *spare_origin;
        char *spare_store;
} T;

/* --- the cases --- */

static void test_manager_properties(void)
{
        g_autofree char *frontend = prop_s(MANAGER_PATH, IFACE_MANAGER, "Frontend");
        g_autofree char *version = prop_s(MANAGER_PATH, IFACE_MANAGER, "Version");
        g_autofree char *state = prop_s(MANAGER_PATH, IFACE_MANAGER, "StateDirectory");

        g_assert_true(g_str_equal(frontend, "fuse") || g_str_equal(frontend, "none"));
        /* main() read it already: every case needs it. */
        g_assert_cmpint(T.fuse, ==, g_str_equal(frontend, "fuse"));
        g_assert_cmpstr(version, !=, "");
        g_assert_true(g_str_has_prefix(state, g_getenv("ZUMA_TEST_DIR")));
        g_test_message("frontend: %s", frontend);
}

static void test_define_bad_input(void)
{
        g_autofree char *huge = g_strnfill(1 * MiB, 'a');
        g_autofree char *long_name = g_strnfill(64, 'v');
        g_autofree char *long_path = g_strconcat("/", huge, NULL);
        g_autofree char *huge_opt = g_strdup_printf("{'mount_point': <'/%s'>}", huge);
        g_autofree char *mnt = g_build_filename(g_getenv("ZUMA_TEST_DIR"), "mnt", NULL);
        /* Devices of its own: the store must hold no store yet. */
        g_autofree char *bad_origin = loop_device("bad-origin", "64M");
        g_autofree char *bad_store = loop_device("bad-store", "64M");
        g_autofree char *image = loop_backing_file(bad_origin);
        g_autofree char *tiny = loop_device("tiny-store", "256K");
        g_autofree char *held = loop_device("held", "16M");
        g_autofree char *mounted = loop_device("mounted", "32M");
        g_autofree char *mkfs = NULL;
        g_autofree char *mount = NULL;
        g_autofree char *unmount = NULL;
        g_autofree char *mkfs_ext4 = g_find_program_in_path("mkfs.ext4");
        const char *o = bad_origin, *s = bad_store;
        int fd;

        /* names */
        assert_fails("InvalidArgument", define_fails("", o, s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails("-vol", o, s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails(".vol", o, s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails("a/b", o, s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails("a@b", o, s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails("a:b", o, s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails("a b", o, s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails("ü", o, s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails(long_name, o, s, "{}", &error_));
        assert_fails_mentioning("InvalidArgument", "too long",
                                define_fails(huge, o, s, "{}", &error_));
        /* paths */
        assert_fails("InvalidArgument", define_fails("v", "", s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails("v", "dev/loop0", s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails("v", "/dev/../dev/loop0", s, "{}", &error_));
        assert_fails_mentioning("InvalidArgument", "too long",
                                define_fails("v", long_path, s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails("v", o, long_path, "{}", &error_));
        assert_fails("NotFound", define_fails("v", "/nonexistent/origin", s, "{}", &error_));
        assert_fails("NotFound", define_fails("v", o, "/nonexistent/store", "{}", &error_));
        assert_fails("InvalidArgument", define_fails("v", "/tmp", s, "{}", &error_));
        assert_fails("InvalidArgument", define_fails("v", o, "/dev/null", "{}", &error_));
        /* origin == store, also through another name for the same file */
        assert_fails("InvalidArgument", define_fails("v", o, o, "{'initialize': <true>}", &error_));
        assert_fails("InvalidArgument",
                     define_fails("v", image, image, "{'initialize': <true>}", &error_));
        /* options */
        assert_fails_mentioning("InvalidArgument", "bogus",
                                define_fails("v", o, s, "{'bogus': <true>}", &error_));
        assert_fails_mentioning("InvalidArgument", "initialize",
                                define_fails("v", o, s, "{'initialize': <'yes'>}", &error_));
        assert_fails_mentioning("InvalidArgument", "chunk_size",
                                define_fails("v", o, s,
                                             "{'initialize': <true>, 'chunk_size': <int32 4096>}",
                                             &error_));
        assert_fails_mentioning("InvalidArgument", "chunk_size",
                                define_fails("v", o, s,
                                             "{'initialize': <true>, 'chunk_size': <uint64 4096>}",
                                             &error_));
        for (guint i = 0; i < 6; i++) {
                static const guint32 bad[] = { 0, 1000, 2048, 12288, 2 * MiB, G_MAXUINT32 };
                g_autofree char *text = g_strdup_printf(
                        "{'initialize': <true>, 'chunk_size': <uint32 %u>}", bad[i]);

                assert_fails_mentioning("InvalidArgument", "chunk_size",
                                        define_fails("v", o, s, text, &error_));
        }
        assert_fails("InvalidArgument",
                     define_fails("v", o, s, "{'chunk_size': <uint32 4096>}", &error_));
        assert_fails("InvalidArgument", define_fails("v", o, s, "{'force': <true>}", &error_));
        assert_fails_mentioning("InvalidArgument", "full_policy",
                                define_fails("v", o, s,
                                             "{'initialize': <true>, 'full_policy': <'maybe'>}",
                                             &error_));
        assert_fails("InvalidArgument",
                     define_fails("v", o, s, "{'mount_point': <'relative/dir'>}", &error_));
        assert_fails("InvalidArgument", define_fails("v", o, s, huge_opt, &error_));
        assert_fails("InvalidArgument", define_fails("v", o, s, "{'start': <1>}", &error_));
        /* the store is too small */
        assert_fails_mentioning("NoSpace", "too small",
                                define_fails("v", o, tiny, "{'initialize': <true>}", &error_));
        /* no store on the device, and no initialize */
        assert_fails("Corrupt", define_fails("v", o, s, "{}", &error_));
        /* a device held open exclusively elsewhere */
        fd = open(held, O_RDONLY | O_EXCL | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        assert_fails("Busy", define_fails("v", held, s, "{'initialize': <true>}", &error_));
        assert_fails("Busy", define_fails("v", o, held, "{'initialize': <true>}", &error_));
        close(fd);
        /* a mounted device */
        if (mkfs_ext4) {
                mkfs = g_strdup_printf("mkfs.ext4 -q -F %s", mounted);
                mount = g_strdup_printf("mkdir -p %s && mount %s %s", mnt, mounted, mnt);
                unmount = g_strdup_printf("umount %s", mnt);
                run(mkfs);
                run(mount);
                assert_fails("Busy",
                             define_fails("v", mounted, s, "{'initialize': <true>}", &error_));
                assert_fails("Busy",
                             define_fails("v", o, mounted,
                                          "{'initialize': <true>, 'force': <true>}", &error_));
                run(unmount);
        } else {
                g_test_message("mkfs.ext4 missing: mounted-device case skipped");
        }
        /* nothing was defined by any of this */
        g_assert_false(object_exists(ROOT_PATH "/volumes/v"));
}

static void test_define_good(void)
{
        g_autoptr(GVariant) started = NULL;
        g_autofree char *uuid = NULL;
        g_autofree char *device = NULL;

        T.vol_path = define("good", T.origin, T.store,
                            "{'initialize': <true>, 'chunk_size': <uint32 16384>, "
                            "'mount_point': <'/srv/good'>}",
                            NULL);
        g_assert_nonnull(T.vol_path);
        started = wait_signal(T.vol_path, "Started", NULL);
        assert_prop_s(T.vol_path, IFACE_VOLUME, "Name", "good");
        assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "running");
        assert_prop_s(T.vol_path, IFACE_VOLUME, "LastError", "");
        assert_prop_s(T.vol_path, IFACE_VOLUME, "OriginDevice", T.origin);
        assert_prop_s(T.vol_path, IFACE_VOLUME, "StoreDevice", T.store);
        assert_prop_s(T.vol_path, IFACE_VOLUME, "MountPoint", "/srv/good");
        assert_prop_s(T.vol_path, IFACE_VOLUME, "FullPolicy", "autodelete");
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "ChunkSize"), ==, 16384);
        g_assert_cmpuint(prop_t(T.vol_path, IFACE_VOLUME, "OriginSize"), ==, 64 * MiB);
        g_assert_cmpuint(prop_t(T.vol_path, IFACE_VOLUME, "StoreSize"), ==, 64 * MiB);
        g_assert_cmpuint(prop_t(T.vol_path, IFACE_VOLUME, "StoreFreeBytes"), >, 60 * MiB);
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"), ==, 0);
        /* Just started: fewer than 10 s of samples, the rate not known. */
        g_assert_cmpfloat(prop_d(T.vol_path, IFACE_VOLUME, "StoreUsageRate"), ==, 0);
        g_assert_cmpint(prop_x(T.vol_path, IFACE_VOLUME, "StoreFullInSeconds"), ==, -1);
        uuid = prop_s(T.vol_path, IFACE_VOLUME, "Uuid");
        g_assert_cmpuint(strlen(uuid), ==, 36);
        device = prop_s(T.vol_path, IFACE_VOLUME, "Device");
        if (T.fuse)
                g_assert_true(g_str_has_prefix(device, "/dev/"));
        else
                g_assert_cmpstr(device, ==, "");

        /* Taken: the name, and each device. */
        assert_fails("AlreadyExists", define_fails("good", T.spare_origin, T.spare_store,
                                                   "{'initialize': <true>}", &error_));
        assert_fails("AlreadyExists", define_fails("other", T.origin, T.spare_store,
                                                   "{'initialize': <true>}", &error_));
        assert_fails("AlreadyExists", define_fails("other", T.spare_origin, T.store,
                                                   "{'initialize': <true>}", &error_));
        /* FindVolume */
        {
                g_autoptr(ZumaBusManager) m = manager();
                g_autofree char *found = NULL;
                g_autofree char *huge = g_strnfill(1 * MiB, 'x');

                assert_ok(zuma_bus_manager_call_find_volume_sync(m, "good", NO_OPTS, &found, NULL,
                                                                 &error_));
                g_assert_cmpstr(found, ==, T.vol_path);
                assert_fails("NotFound", zuma_bus_manager_call_find_volume_sync(
                                                 m, "nope", NO_OPTS, NULL, NULL, &error_));
                assert_fails("InvalidArgument", zuma_bus_manager_call_find_volume_sync(
                                                        m, huge, NO_OPTS, NULL, NULL, &error_));
                assert_fails("InvalidArgument",
                             zuma_bus_manager_call_find_volume_sync(m, "good", opts("{'x': <1>}"),
                                                                    NULL, NULL, &error_));
        }
}

static void test_snapshot_create(void)
{
        g_autoptr(ZumaBusVolume) v = volume(T.vol_path);
        g_autofree char *huge = g_strnfill(1 * MiB, 's');
        g_autofree char *long_name = g_strnfill(128, 's');
        g_autofree char *max_name = g_strnfill(127, 'm');
        g_autofree char *s1 = NULL;
        g_autofree char *s2 = NULL;
        g_autofree char *s3 = NULL;
        g_autofree char *s1_name = NULL;
        g_autofree char *auto_name = NULL;
        g_autofree char *auto_want = NULL;
        g_autofree char *want = NULL;
        g_autoptr(GVariant) created = NULL;

        /* bad input */
        assert_fails("InvalidArgument", zuma_bus_volume_call_create_snapshot_sync(
                                                v, "-x", NO_OPTS, NULL, NULL, NULL, &error_));
        assert_fails("InvalidArgument", zuma_bus_volume_call_create_snapshot_sync(
                                                v, "a@b", NO_OPTS, NULL, NULL, NULL, &error_));
        assert_fails("InvalidArgument", zuma_bus_volume_call_create_snapshot_sync(
                                                v, "a/b", NO_OPTS, NULL, NULL, NULL, &error_));
        assert_fails("InvalidArgument", zuma_bus_volume_call_create_snapshot_sync(
                                                v, long_name, NO_OPTS, NULL, NULL, NULL, &error_));
        assert_fails_mentioning("InvalidArgument", "too long",
                                zuma_bus_volume_call_create_snapshot_sync(v, huge, NO_OPTS, NULL,
                                                                          NULL, NULL, &error_));
        assert_fails_mentioning(
                "InvalidArgument", "colour",
                zuma_bus_volume_call_create_snapshot_sync(v, "s", opts("{'colour': <'red'>}"), NULL,
                                                          NULL, NULL, &error_));
        assert_fails_mentioning(
                "InvalidArgument", "priority",
                zuma_bus_volume_call_create_snapshot_sync(v, "s", opts("{'priority': <'high'>}"),
                                                          NULL, NULL, NULL, &error_));
        assert_fails_mentioning(
                "InvalidArgument", "pinned",
                zuma_bus_volume_call_create_snapshot_sync(v, "s", opts("{'pinned': <uint32 1>}"),
                                                          NULL, NULL, NULL, &error_));
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"), ==, 0);

        /* good ones */
        s1 = create_snapshot_named(T.vol_path, "s1", "{'priority': <5>, 'pinned': <true>}",
                                   &s1_name);
        g_assert_cmpstr(s1_name, ==, "s1");
        want = g_strdup_printf("(objectpath '%s', uint32 1, 's1')", s1);
        created = wait_signal(T.vol_path, "SnapshotCreated", want);
        /* Spelled out, not from zuma-names.h: the path layout is the API. */
        g_assert_cmpstr(s1, ==, "/org/zumastor/Zumastor1/volumes/good/snapshots/1");
        assert_prop_s(s1, IFACE_SNAPSHOT, "Name", "s1");
        assert_prop_s(s1, IFACE_SNAPSHOT, "Volume", T.vol_path);
        g_assert_cmpuint(prop_u(s1, IFACE_SNAPSHOT, "Id"), ==, 1);
        g_assert_cmpint(prop_i(s1, IFACE_SNAPSHOT, "Priority"), ==, 5);
        g_assert_true(prop_b(s1, IFACE_SNAPSHOT, "Pinned"));
        g_assert_false(prop_b(s1, IFACE_SNAPSHOT, "Writable"));
        g_assert_cmpuint(prop_t(s1, IFACE_SNAPSHOT, "Size"), ==, 64 * MiB);
        g_assert_cmpuint(prop_t(s1, IFACE_SNAPSHOT, "CreationTime"), >, 0);
        {
                g_autofree char *device = prop_s(s1, IFACE_SNAPSHOT, "Device");

                g_assert_cmpint(g_str_has_prefix(device, "/dev/"), ==, T.fuse);
        }
        s2 = create_snapshot(T.vol_path, "s2", "{'writable': <true>, 'attach': <false>}");
        g_assert_true(prop_b(s2, IFACE_SNAPSHOT, "Writable"));
        assert_prop_s(s2, IFACE_SNAPSHOT, "Device", "");
        /* A generated name comes back in the answer (create_snapshot_named
         * checks it is the object's Name), and the signal says the same. */
        s3 = create_snapshot_named(T.vol_path, "", "{}", &auto_name);
        g_assert_true(g_regex_match_simple(
                "^good-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}:[0-9]{2}:[0-9]{2}$", auto_name, 0, 0));
        auto_want = g_strdup_printf("(objectpath '%s', uint32 3, '%s')", s3, auto_name);
        g_variant_unref(wait_signal(T.vol_path, "SnapshotCreated", auto_want));
        g_assert_cmpuint(prop_u(s3, IFACE_SNAPSHOT, "Id"), ==, 3);
        g_free(create_snapshot(T.vol_path, max_name, "{}"));
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"), ==, 4);
        /* duplicate */
        assert_fails("AlreadyExists", zuma_bus_volume_call_create_snapshot_sync(
                                              v, "s1", NO_OPTS, NULL, NULL, NULL, &error_));
        drain_signals();

        /* FindSnapshot */
        {
                g_autofree char *found = NULL;
                g_autofree char *found_auto = NULL;

                assert_ok(zuma_bus_volume_call_find_snapshot_sync(v, "s1", NO_OPTS, &found, NULL,
                                                                  &error_));
                g_assert_cmpstr(found, ==, s1);
                assert_ok(zuma_bus_volume_call_find_snapshot_sync(v, auto_name, NO_OPTS,
                                                                  &found_auto, NULL, &error_));
                g_assert_cmpstr(found_auto, ==, s3);
                assert_fails_mentioning("NotFound", "nope",
                                        zuma_bus_volume_call_find_snapshot_sync(
                                                v, "nope", NO_OPTS, NULL, NULL, &error_));
                assert_fails("InvalidArgument", zuma_bus_volume_call_find_snapshot_sync(
                                                        v, "", NO_OPTS, NULL, NULL, &error_));
                assert_fails("InvalidArgument", zuma_bus_volume_call_find_snapshot_sync(
                                                        v, "a/b", NO_OPTS, NULL, NULL, &error_));
                assert_fails("InvalidArgument",
                             zuma_bus_volume_call_find_snapshot_sync(v, long_name, NO_OPTS, NULL,
                                                                     NULL, &error_));
                assert_fails_mentioning("InvalidArgument", "too long",
                                        zuma_bus_volume_call_find_snapshot_sync(
                                                v, huge, NO_OPTS, NULL, NULL, &error_));
                assert_fails_mentioning(
                        "InvalidArgument", "colour",
                        zuma_bus_volume_call_find_snapshot_sync(
                                v, "s1", opts("{'colour': <'red'>}"), NULL, NULL, &error_));
        }

        /* ListSnapshots: every snapshot, by id, with what its object says. */
        {
                g_autoptr(GVariant) list = NULL;
                g_autoptr(GVariantIter) iter = NULL;
                const char *path, *name, *device;
                guint32 id, last_id = 0, count = 0;
                gboolean pinned, writable;
                gint32 priority;
                guint64 creation_time, size;

                assert_ok(
                        zuma_bus_volume_call_list_snapshots_sync(v, NO_OPTS, &list, NULL, &error_));
                g_variant_get(list, "a(ousbitbst)", &iter);
                while (g_variant_iter_next(iter, "(&ou&sbitb&st)", &path, &id, &name, &pinned,
                                           &priority, &creation_time, &writable, &device, &size)) {
                        g_assert_cmpuint(id, >, last_id);
                        last_id = id;
                        count++;
                        g_assert_cmpuint(prop_u(path, IFACE_SNAPSHOT, "Id"), ==, id);
                        assert_prop_s(path, IFACE_SNAPSHOT, "Name", name);
                        g_assert_cmpint(prop_b(path, IFACE_SNAPSHOT, "Pinned"), ==, pinned);
                        g_assert_cmpint(prop_i(path, IFACE_SNAPSHOT, "Priority"), ==, priority);
                        g_assert_cmpuint(prop_t(path, IFACE_SNAPSHOT, "CreationTime"), ==,
                                         creation_time);
                        g_assert_cmpuint(creation_time, >, 0);
                        g_assert_cmpint(prop_b(path, IFACE_SNAPSHOT, "Writable"), ==, writable);
                        assert_prop_s(path, IFACE_SNAPSHOT, "Device", device);
                        g_assert_cmpuint(prop_t(path, IFACE_SNAPSHOT, "Size"), ==, size);
                        g_assert_cmpuint(size, >, 0);
                }
                g_assert_cmpuint(count, ==, prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"));
                assert_fails_mentioning(
                        "InvalidArgument", "colour",
                        zuma_bus_volume_call_list_snapshots_sync(v, opts("{'colour': <'red'>}"),
                                                                 NULL, NULL, &error_));
        }
        /* ListVolumes: the volume, with its properties. */
        {
                g_autoptr(ZumaBusManager) m = manager();
                g_autoptr(GVariant) list = NULL;
                g_autoptr(GVariant) properties = NULL;
                const char *name = NULL;

                assert_ok(
                        zuma_bus_manager_call_list_volumes_sync(m, NO_OPTS, &list, NULL, &error_));
                properties = g_variant_lookup_value(list, T.vol_path, G_VARIANT_TYPE_VARDICT);
                g_assert_nonnull(properties);
                g_assert_true(g_variant_lookup(properties, "Name", "&s", &name));
                g_assert_cmpstr(name, ==, "good");
                assert_fails("InvalidArgument",
                             zuma_bus_manager_call_list_volumes_sync(m, opts("{'x': <1>}"), NULL,
                                                                     NULL, &error_));
        }
}

static void test_snapshot_changes(void)
{
        const char *s1 = ROOT_PATH "/volumes/good/snapshots/1";
        const char *s2 = ROOT_PATH "/volumes/good/snapshots/2";
        g_autoptr(ZumaBusSnapshot) p1 = snapshot(s1);
        g_autoptr(ZumaBusSnapshot) p2 = snapshot(s2);
        g_autofree char *huge = g_strnfill(1 * MiB, 'r');
        g_autoptr(GVariant) usage = NULL;
        guint64 value;

        /* Rename */
        assert_fails("InvalidArgument",
                     zuma_bus_snapshot_call_rename_sync(p1, "", NO_OPTS, NULL, &error_));
        assert_fails("InvalidArgument",
                     zuma_bus_snapshot_call_rename_sync(p1, "x@y", NO_OPTS, NULL, &error_));
        assert_fails("InvalidArgument",
                     zuma_bus_snapshot_call_rename_sync(p1, huge, NO_OPTS, NULL, &error_));
        assert_fails("AlreadyExists",
                     zuma_bus_snapshot_call_rename_sync(p1, "s2", NO_OPTS, NULL, &error_));
        assert_fails("InvalidArgument",
                     zuma_bus_snapshot_call_rename_sync(p1, "first", opts("{'now': <true>}"), NULL,
                                                        &error_));
        assert_ok(zuma_bus_snapshot_call_rename_sync(p1, "first", NO_OPTS, NULL, &error_));
        assert_prop_s(s1, IFACE_SNAPSHOT, "Name", "first");
        /* SetPriority */
        assert_fails("InvalidArgument", zuma_bus_snapshot_call_set_priority_sync(
                                                p1, 1, opts("{'x': <1>}"), NULL, &error_));
        assert_ok(zuma_bus_snapshot_call_set_priority_sync(p1, -7, NO_OPTS, NULL, &error_));
        g_assert_cmpint(prop_i(s1, IFACE_SNAPSHOT, "Priority"), ==, -7);
        /* SetPinned */
        assert_fails("InvalidArgument", zuma_bus_snapshot_call_set_pinned_sync(
                                                p1, FALSE, opts("{'x': <1>}"), NULL, &error_));
        assert_ok(zuma_bus_snapshot_call_set_pinned_sync(p1, FALSE, NO_OPTS, NULL, &error_));
        g_assert_false(prop_b(s1, IFACE_SNAPSHOT, "Pinned"));
        assert_ok(zuma_bus_snapshot_call_set_pinned_sync(p1, TRUE, NO_OPTS, NULL, &error_));
        g_assert_true(prop_b(s1, IFACE_SNAPSHOT, "Pinned"));
        /* SetWritable */
        assert_fails("InvalidArgument", zuma_bus_snapshot_call_set_writable_sync(
                                                p2, FALSE, opts("{'x': <1>}"), NULL, &error_));
        assert_ok(zuma_bus_snapshot_call_set_writable_sync(p2, FALSE, NO_OPTS, NULL, &error_));
        g_assert_false(prop_b(s2, IFACE_SNAPSHOT, "Writable"));
        assert_ok(zuma_bus_snapshot_call_set_writable_sync(p2, TRUE, NO_OPTS, NULL, &error_));
        g_assert_true(prop_b(s2, IFACE_SNAPSHOT, "Writable"));
        /* GetUsage */
        assert_fails("InvalidArgument", zuma_bus_snapshot_call_get_usage_sync(
                                                p1, opts("{'x': <1>}"), NULL, NULL, &error_));
        assert_ok(zuma_bus_snapshot_call_get_usage_sync(p1, NO_OPTS, &usage, NULL, &error_));
        g_assert_true(g_variant_lookup(usage, "exclusive_bytes", "t", &value));
        g_assert_true(g_variant_lookup(usage, "shared_chunks", "t", &value));
        g_assert_true(g_variant_lookup(usage, "private_chunks", "t", &value));
        /* Attach / Detach */
        assert_fails("InvalidArgument", zuma_bus_snapshot_call_attach_sync(p2, opts("{'x': <1>}"),
                                                                           NULL, NULL, &error_));
        assert_fails("InvalidArgument", zuma_bus_snapshot_call_detach_sync(
                                                p2, opts("{'force': <'yes'>}"), NULL, &error_));
        if (T.fuse) {
                g_autofree char *device = NULL;
                g_autofree char *again = NULL;

                assert_ok(zuma_bus_snapshot_call_attach_sync(p2, NO_OPTS, &device, NULL, &error_));
                g_assert_true(g_str_has_prefix(device, "/dev/"));
                assert_prop_s(s2, IFACE_SNAPSHOT, "Device", device);
                assert_ok(zuma_bus_snapshot_call_attach_sync(p2, NO_OPTS, &again, NULL, &error_));
                g_assert_cmpstr(again, ==, device);
                /* a writable snapshot's device takes writes */
                write_device(device, 0, 1 * MiB, 0x5a);
                g_assert_true(device_holds(device, 0, 1 * MiB, 0x5a));
                {
                        int fd = open(device, O_RDONLY | O_EXCL | O_CLOEXEC);

                        g_assert_cmpint(fd, >=, 0);
                        assert_fails("Busy", zuma_bus_snapshot_call_detach_sync(p2, NO_OPTS, NULL,
                                                                                &error_));
                        assert_fails("Busy", zuma_bus_snapshot_call_set_writable_sync(
                                                     p2, FALSE, NO_OPTS, NULL, &error_));
                        close(fd);
                }
                assert_ok(zuma_bus_snapshot_call_detach_sync(p2, NO_OPTS, NULL, &error_));
                assert_prop_s(s2, IFACE_SNAPSHOT, "Device", "");
                assert_ok(zuma_bus_snapshot_call_detach_sync(p2, NO_OPTS, NULL, &error_));
        } else {
                assert_fails("NotSupported",
                             zuma_bus_snapshot_call_attach_sync(p2, NO_OPTS, NULL, NULL, &error_));
                assert_ok(zuma_bus_snapshot_call_detach_sync(p2, NO_OPTS, NULL, &error_));
        }
}

static void test_snapshot_delete(void)
{
        g_autofree char *path = create_snapshot(T.vol_path, "doomed", "{}");
        g_autoptr(ZumaBusSnapshot) p = snapshot(path);
        guint32 id = prop_u(path, IFACE_SNAPSHOT, "Id");
        g_autofree char *want =
                g_strdup_printf("(objectpath '%s', uint32 %u, 'doomed', 'requested')", path, id);
        g_autoptr(GVariant) deleted = NULL;

        assert_fails("InvalidArgument",
                     zuma_bus_snapshot_call_delete_sync(p, opts("{'x': <1>}"), NULL, &error_));
        if (T.fuse) {
                g_autofree char *device = prop_s(path, IFACE_SNAPSHOT, "Device");
                int fd = open(device, O_RDONLY | O_EXCL | O_CLOEXEC);

                g_assert_cmpint(fd, >=, 0);
                assert_fails("Busy", zuma_bus_snapshot_call_delete_sync(p, NO_OPTS, NULL, &error_));
                g_assert_true(object_exists(path));
                close(fd);
        }
        assert_ok(zuma_bus_snapshot_call_delete_sync(p, NO_OPTS, NULL, &error_));
        deleted = wait_signal(T.vol_path, "SnapshotDeleted", want);
        g_assert_false(object_exists(path));
        /* GDBus answers UnknownMethod for a path without an object. */
        assert_fails("org.freedesktop.DBus.Error.UnknownMethod",
                     zuma_bus_snapshot_call_delete_sync(p, NO_OPTS, NULL, &error_));
}

static void test_delete_snapshots_job(void)
{
        g_autoptr(ZumaBusVolume) v = volume(T.vol_path);
        g_autofree char *huge = g_strnfill(1 * MiB, 'd');
        g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func(g_free);
        const char *none[] = { NULL };
        const char *unknown[] = { "d1", "no-such", NULL };
        const char *malformed[] = { "d1", "bad@name", NULL };
        const char *huge_names[] = { huge, NULL };
        const char *names[] = { "d1", "d2", "d3", "d1", NULL };
        g_autofree char *job_path = NULL;

        for (guint i = 1; i <= 3; i++) {
                g_autofree char *name = g_strdup_printf("d%u", i);

                g_free(create_snapshot(T.vol_path, name, "{}"));
        }
        for (guint i = 0; i < 1025; i++)
                g_ptr_array_add(many, g_strdup("d1"));
        g_ptr_array_add(many, NULL);
        assert_fails("InvalidArgument", zuma_bus_volume_call_delete_snapshots_sync(
                                                v, none, NO_OPTS, NULL, NULL, &error_));
        assert_fails("NotFound", zuma_bus_volume_call_delete_snapshots_sync(v, unknown, NO_OPTS,
                                                                            NULL, NULL, &error_));
        assert_fails("InvalidArgument", zuma_bus_volume_call_delete_snapshots_sync(
                                                v, malformed, NO_OPTS, NULL, NULL, &error_));
        assert_fails("InvalidArgument", zuma_bus_volume_call_delete_snapshots_sync(
                                                v, huge_names, NO_OPTS, NULL, NULL, &error_));
        assert_fails("LimitExceeded",
                     zuma_bus_volume_call_delete_snapshots_sync(v, (const char *const *)many->pdata,
                                                                NO_OPTS, NULL, NULL, &error_));
        assert_fails("InvalidArgument",
                     zuma_bus_volume_call_delete_snapshots_sync(v, names, opts("{'force': <'x'>}"),
                                                                NULL, NULL, &error_));
        /* nothing was deleted by the refused calls */
        g_assert_true(object_exists(ROOT_PATH "/volumes/good/snapshots/6"));

        drain_signals();
        assert_ok(zuma_bus_volume_call_delete_snapshots_sync(v, names, NO_OPTS, &job_path, NULL,
                                                             &error_));
        g_assert_true(g_str_has_prefix(job_path, ROOT_PATH "/jobs/"));
        assert_prop_s(job_path, IFACE_JOB, "Operation", "delete-snapshots");
        assert_prop_s(job_path, IFACE_JOB, "Volume", T.vol_path);
        wait_job(job_path, "");
        g_assert_cmpuint(prop_t(job_path, IFACE_JOB, "Done"), ==, 3);
        g_assert_cmpuint(prop_t(job_path, IFACE_JOB, "Total"), ==, 3);
        g_assert_cmpfloat(g_variant_get_double(prop(job_path, IFACE_JOB, "Progress")), ==, 1.0);
        for (guint i = 1; i <= 3; i++) {
                g_autofree char *want = g_strdup_printf(
                        "(objectpath '%s/snapshots/%u', uint32 %u, 'd%u', 'requested')", T.vol_path,
                        i + 5, i + 5, i);
                g_variant_unref(wait_signal(T.vol_path, "SnapshotDeleted", want));
        }
        /* Cancel on a finished job has nothing left to stop. */
        {
                g_autoptr(ZumaBusJob) j = job(job_path);

                assert_fails("InvalidArgument",
                             zuma_bus_job_call_cancel_sync(j, opts("{'x': <1>}"), NULL, &error_));
                assert_ok(zuma_bus_job_call_cancel_sync(j, NO_OPTS, NULL, &error_));
        }
}

static void wait_job_done(const char *job_path, guint64 done);

/* Cancel stops a delete-snapshots job between two snapshots.  The job is
 * held after `held` steps (ZUMA_SNAPSHOTD_JOB_STEP_LIMIT), so the cancel
 * lands there whatever the machine's load: 200 steps of a millisecond
 * once ended before a starved test could send it. */
static void test_cancel_job(void)
{
        g_autoptr(ZumaBusVolume) v = NULL;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *job_path = NULL;
        g_autofree char *rest_path = NULL;
        guint32 before = prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount");
        const guint n = 200, held = 50;
        guint64 done;

        for (guint i = 0; i < n; i++) {
                g_autofree char *name = g_strdup_printf("c%03u", i);

                g_free(create_snapshot(T.vol_path, name, "{'attach': <false>}"));
                g_ptr_array_add(names, g_steal_pointer(&name));
        }
        g_ptr_array_add(names, NULL);
        run("ZUMA_SNAPSHOTD_JOB_STEP_LIMIT=50 bash \"$ZUMA_TEST_HARNESS\" restart-daemon");
        v = volume(T.vol_path);
        assert_ok(zuma_bus_volume_call_delete_snapshots_sync(v, (const char *const *)names->pdata,
                                                             NO_OPTS, &job_path, NULL, &error_));
        g_assert_true(prop_b(job_path, IFACE_JOB, "Cancelable"));
        wait_job_done(job_path, held);
        {
                g_autoptr(ZumaBusJob) j = job(job_path);

                assert_ok(zuma_bus_job_call_cancel_sync(j, NO_OPTS, NULL, &error_));
        }
        wait_job(job_path, ZUMA_ERROR_PREFIX "Cancelled");
        done = prop_t(job_path, IFACE_JOB, "Done");
        g_assert_cmpuint(done, ==, held);
        g_free(harness("restart-daemon", NULL, NULL));
        g_clear_object(&v);
        v = volume(T.vol_path);
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"), ==, before + n - done);
        /* The rest goes with another job. */
        assert_ok(zuma_bus_volume_call_delete_snapshots_sync(
                v, (const char *const *)names->pdata + done, NO_OPTS, &rest_path, NULL, &error_));
        wait_job(rest_path, "");
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"), ==, before);
        drain_signals();
}

static void test_revert_job(void)
{
        g_autoptr(ZumaBusVolume) v = volume(T.vol_path);
        g_autofree char *huge = g_strnfill(1 * MiB, 'v');
        g_autofree char *device = prop_s(T.vol_path, IFACE_VOLUME, "Device");
        g_autofree char *job_path = NULL;
        g_autofree char *base = NULL;

        assert_fails("NotFound",
                     zuma_bus_volume_call_revert_sync(v, "no-such", NO_OPTS, NULL, NULL, &error_));
        assert_fails("InvalidArgument",
                     zuma_bus_volume_call_revert_sync(v, huge, NO_OPTS, NULL, NULL, &error_));
        assert_fails("InvalidArgument",
                     zuma_bus_volume_call_revert_sync(v, "s2", opts("{'now': <true>}"), NULL, NULL,
                                                      &error_));
        if (T.fuse)
                write_device(device, 0, 8 * MiB, 0xaa);
        base = create_snapshot(T.vol_path, "base", "{}");
        if (T.fuse) {
                int fd;

                write_device(device, 0, 8 * MiB, 0xbb);
                g_assert_true(device_holds(device, 0, 8 * MiB, 0xbb));
                fd = open(device, O_RDONLY | O_EXCL | O_CLOEXEC);
                g_assert_cmpint(fd, >=, 0);
                assert_fails("Busy", zuma_bus_volume_call_revert_sync(v, "base", NO_OPTS, NULL,
                                                                      NULL, &error_));
                close(fd);
        }
        assert_ok(zuma_bus_volume_call_revert_sync(v, "base", NO_OPTS, &job_path, NULL, &error_));
        assert_prop_s(job_path, IFACE_JOB, "Operation", "revert");
        g_assert_false(prop_b(job_path, IFACE_JOB, "Cancelable"));
        wait_job(job_path, "");
        assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "running");
        if (T.fuse) {
                g_autofree char *after = prop_s(T.vol_path, IFACE_VOLUME, "Device");

                g_assert_true(g_str_has_prefix(after, "/dev/"));
                g_assert_true(device_holds(after, 0, 8 * MiB, 0xaa));
                g_assert_cmpuint(prop_t(job_path, IFACE_JOB, "Done"), >=, 8 * MiB / 16384);
        }
        /* every snapshot is intact */
        g_assert_true(object_exists(base));
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"), ==, 5);
}

static void test_resize_job(void)
{
        g_autoptr(ZumaBusVolume) v = volume(T.vol_path);
        g_autofree char *grow = NULL;
        g_autofree char *job_path = NULL;
        g_autofree char *origin_file = loop_backing_file(T.origin);
        g_autofree char *store_file = loop_backing_file(T.store);

        assert_fails("InvalidArgument",
                     zuma_bus_volume_call_resize_sync(v, NO_OPTS, NULL, NULL, &error_));
        assert_fails("InvalidArgument", zuma_bus_volume_call_resize_sync(
                                                v, opts("{'origin': <false>, 'store': <false>}"),
                                                NULL, NULL, &error_));
        assert_fails("InvalidArgument",
                     zuma_bus_volume_call_resize_sync(v, opts("{'origin': <'yes'>}"), NULL, NULL,
                                                      &error_));
        assert_fails("InvalidArgument",
                     zuma_bus_volume_call_resize_sync(v, opts("{'shrink': <true>}"), NULL, NULL,
                                                      &error_));
        /* Same sizes: a job that changes nothing. */
        assert_ok(zuma_bus_volume_call_resize_sync(v, opts("{'origin': <true>}"), &job_path, NULL,
                                                   &error_));
        assert_prop_s(job_path, IFACE_JOB, "Operation", "resize");
        wait_job(job_path, "");
        g_clear_pointer(&job_path, g_free);
        /* Grow both devices, then take the new sizes. */
        grow = g_strdup_printf("truncate -s 96M %s %s && losetup -c %s && losetup -c %s",
                               origin_file, store_file, T.origin, T.store);
        run(grow);
        assert_ok(zuma_bus_volume_call_resize_sync(v, opts("{'origin': <true>, 'store': <true>}"),
                                                   &job_path, NULL, &error_));
        wait_job(job_path, "");
        g_assert_cmpuint(prop_t(T.vol_path, IFACE_VOLUME, "OriginSize"), ==, 96 * MiB);
        g_assert_cmpuint(prop_t(T.vol_path, IFACE_VOLUME, "StoreSize"), ==, 96 * MiB);
        if (T.fuse) {
                /* The attached origin device grew with it: the new space
                 * is usable at once, without detaching. */
                g_autofree char *device = prop_s(T.vol_path, IFACE_VOLUME, "Device");

                g_assert_cmpuint(device_size(device), ==, 96 * MiB);
                write_device(device, 95 * MiB, 1 * MiB, 0x96);
                g_assert_true(device_holds(device, 95 * MiB, 1 * MiB, 0x96));
        }
}

static void test_full_policy(void)
{
        g_autoptr(ZumaBusVolume) v = volume(T.vol_path);

        assert_fails("InvalidArgument", zuma_bus_volume_call_set_full_policy_sync(
                                                v, "sometimes", NO_OPTS, NULL, &error_));
        assert_fails("InvalidArgument", zuma_bus_volume_call_set_full_policy_sync(
                                                v, "refuse", opts("{'x': <1>}"), NULL, &error_));
        assert_ok(zuma_bus_volume_call_set_full_policy_sync(v, "refuse", NO_OPTS, NULL, &error_));
        assert_prop_s(T.vol_path, IFACE_VOLUME, "FullPolicy", "refuse");
        assert_ok(
                zuma_bus_volume_call_set_full_policy_sync(v, "autodelete", NO_OPTS, NULL, &error_));
        assert_prop_s(T.vol_path, IFACE_VOLUME, "FullPolicy", "autodelete");
}

static void test_stop_start(void)
{
        g_autoptr(ZumaBusVolume) v = volume(T.vol_path);
        const char *s1 = ROOT_PATH "/volumes/good/snapshots/1";

        drain_signals();
        assert_fails("InvalidArgument",
                     zuma_bus_volume_call_stop_sync(v, opts("{'force': <1>}"), NULL, &error_));
        assert_fails("InvalidArgument",
                     zuma_bus_volume_call_start_sync(v, opts("{'x': <1>}"), NULL, &error_));
        /* Start of a running volume succeeds and changes nothing: no Started. */
        assert_ok(zuma_bus_volume_call_start_sync(v, NO_OPTS, NULL, &error_));
        assert_no_signal(T.vol_path, "Started");
        if (T.fuse) {
                g_autofree char *device = prop_s(T.vol_path, IFACE_VOLUME, "Device");
                int fd = open(device, O_RDONLY | O_EXCL | O_CLOEXEC);

                g_assert_cmpint(fd, >=, 0);
                assert_fails("Busy", zuma_bus_volume_call_stop_sync(v, NO_OPTS, NULL, &error_));
                assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "running");
                close(fd);
        }
        assert_ok(zuma_bus_volume_call_stop_sync(v, NO_OPTS, NULL, &error_));
        g_variant_unref(wait_signal(T.vol_path, "Stopped", "('requested',)"));
        assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "stopped");
        assert_prop_s(T.vol_path, IFACE_VOLUME, "Device", "");
        g_assert_cmpuint(prop_t(T.vol_path, IFACE_VOLUME, "StoreSize"), ==, 0);
        /* A stopped volume's snapshots stay on the bus, read-only. */
        g_assert_true(object_exists(s1));
        assert_prop_s(s1, IFACE_SNAPSHOT, "Device", "");
        {
                g_autoptr(ZumaBusSnapshot) s = snapshot(s1);

                assert_fails("NotRunning", zuma_bus_snapshot_call_rename_sync(s, "renamed", NO_OPTS,
                                                                              NULL, &error_));
                assert_fails("NotRunning",
                             zuma_bus_snapshot_call_delete_sync(s, NO_OPTS, NULL, &error_));
                assert_fails("NotRunning",
                             zuma_bus_snapshot_call_attach_sync(s, NO_OPTS, NULL, NULL, &error_));
        }
        assert_ok(zuma_bus_volume_call_stop_sync(v, NO_OPTS, NULL, &error_));
        assert_fails("NotRunning", zuma_bus_volume_call_create_snapshot_sync(v, "x", NO_OPTS, NULL,
                                                                             NULL, NULL, &error_));
        assert_fails("NotRunning",
                     zuma_bus_volume_call_revert_sync(v, "s2", NO_OPTS, NULL, NULL, &error_));
        assert_fails("NotRunning", zuma_bus_volume_call_find_snapshot_sync(v, "first", NO_OPTS,
                                                                           NULL, NULL, &error_));
        assert_fails("NotRunning", zuma_bus_volume_call_resize_sync(v, opts("{'store': <true>}"),
                                                                    NULL, NULL, &error_));
        {
                const char *names[] = { "s2", NULL };

                assert_fails("NotRunning", zuma_bus_volume_call_delete_snapshots_sync(
                                                   v, names, NO_OPTS, NULL, NULL, &error_));
        }
        assert_ok(zuma_bus_volume_call_start_sync(v, NO_OPTS, NULL, &error_));
        g_variant_unref(wait_signal(T.vol_path, "Started", NULL));
        assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "running");
        assert_prop_s(s1, IFACE_SNAPSHOT, "Name", "first");
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"), ==, 5);
}

/* The forecast sees the store grow: StoreUsageRate > 0 and
 * StoreFullInSeconds > 0, once the server has its 10 s of samples and
 * published them (every 5 s).  Polled with a deadline; no timing is
 * asserted. */
static void wait_store_growing(const char *path)
{
        gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
        double rate;
        gint64 full_in;

        for (;;) {
                rate = prop_d(path, IFACE_VOLUME, "StoreUsageRate");
                full_in = prop_x(path, IFACE_VOLUME, "StoreFullInSeconds");
                if (rate > 0 && full_in > 0)
                        break;
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(200 * 1000);
        }
        g_test_message("store growing %.0f B/s, full in %" G_GINT64_FORMAT " s", rate, full_in);
}

static void test_store_full(void)
{
        g_autofree char *origin = NULL;
        g_autofree char *store = NULL;
        g_autofree char *path = NULL;
        g_autofree char *device = NULL;
        g_autofree char *victim = NULL;
        g_autoptr(GVariant) rising = NULL;
        g_autoptr(GVariant) deleted = NULL;
        g_autoptr(GVariant) falling = NULL;
        guint64 store_size, free_bytes, fill;

        if (!T.fuse) {
                g_test_skip("the server runs with --frontend=none: nothing can write an origin");
                return;
        }
        origin = loop_device("full-origin", "48M");
        store = loop_device("full-store", "8M");
        path = define("full", origin, store, "{'initialize': <true>, 'chunk_size': <uint32 4096>}",
                      NULL);
        g_assert_nonnull(path);
        device = prop_s(path, IFACE_VOLUME, "Device");
        victim = create_snapshot(path, "victim", "{}");
        store_size = prop_t(path, IFACE_VOLUME, "StoreSize");
        free_bytes = prop_t(path, IFACE_VOLUME, "StoreFreeBytes");
        /* To about 85 % in use (metadata grows a little on the way). */
        fill = free_bytes - store_size * 15 / 100;
        fill &= ~(guint64)4095;
        g_test_message("store %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT
                       " free, writing %" G_GUINT64_FORMAT,
                       store_size, free_bytes, fill);
        drain_signals();
        write_device(device, 0, fill, 0x11);
        rising = wait_signal(path, "UsageThreshold", "(uint32 80, true)");
        g_assert_true(object_exists(victim));
        wait_store_growing(path);
        /* Past the end of the store: the full policy deletes the snapshot. */
        write_device(device, fill, 48 * MiB - fill, 0x22);
        {
                g_autofree char *want = g_strdup_printf(
                        "(objectpath '%s', uint32 1, 'victim', 'store-full')", victim);

                deleted = wait_signal(path, "SnapshotDeleted", want);
        }
        g_assert_false(object_exists(victim));
        falling = wait_signal(path, "UsageThreshold", "(uint32 80, false)");
        g_assert_true(device_holds(device, 0, fill, 0x11));
        g_assert_true(device_holds(device, fill, 48 * MiB - fill, 0x22));
        assert_prop_s(path, IFACE_VOLUME, "State", "running");
        g_assert_cmpuint(prop_u(path, IFACE_VOLUME, "SnapshotCount"), ==, 0);
}

static void test_good_volume_unharmed(void)
{
        g_autofree char *path = create_snapshot(T.vol_path, "after-all-that", "{}");

        assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "running");
        assert_prop_s(T.vol_path, IFACE_VOLUME, "LastError", "");
        assert_prop_s(path, IFACE_SNAPSHOT, "Name", "after-all-that");
}

static void test_restart(void)
{
        g_autofree char *stopped_path = NULL;
        g_autofree char *out = NULL;
        g_autofree char *names_before = NULL;
        g_autoptr(ZumaBusVolume) v = NULL;
        const char *s1 = ROOT_PATH "/volumes/good/snapshots/1";

        /* A second volume, stopped on purpose: it must stay stopped. */
        stopped_path = define("parked", T.spare_origin, T.spare_store,
                              "{'initialize': <true>, 'start': <false>}", NULL);
        g_assert_nonnull(stopped_path);
        assert_prop_s(stopped_path, IFACE_VOLUME, "State", "stopped");
        names_before = prop_s(s1, IFACE_SNAPSHOT, "Name");

        out = harness("restart-daemon", NULL, NULL);
        assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "running");
        assert_prop_s(stopped_path, IFACE_VOLUME, "State", "stopped");
        assert_prop_s(s1, IFACE_SNAPSHOT, "Name", names_before);
        g_assert_cmpint(prop_i(s1, IFACE_SNAPSHOT, "Priority"), ==, -7);
        g_assert_true(prop_b(s1, IFACE_SNAPSHOT, "Pinned"));
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"), ==, 6);
        assert_prop_s(T.vol_path, IFACE_VOLUME, "MountPoint", "/srv/good");

        /* A crash, right after a revert was asked for: the next server
         * finishes the revert before the origin comes back. */
        v = volume(T.vol_path);
        if (T.fuse) {
                g_autofree char *device = prop_s(T.vol_path, IFACE_VOLUME, "Device");

                write_device(device, 0, 16 * MiB, 0xcc);
        }
        g_free(create_snapshot(T.vol_path, "before-crash", "{}"));
        if (T.fuse) {
                g_autofree char *device = prop_s(T.vol_path, IFACE_VOLUME, "Device");

                write_device(device, 0, 16 * MiB, 0xdd);
        }
        {
                g_autofree char *job_path = NULL;

                assert_ok(zuma_bus_volume_call_revert_sync(v, "before-crash", NO_OPTS, &job_path,
                                                           NULL, &error_));
        }
        g_free(harness("kill-daemon", NULL, NULL));
        g_free(harness("start-daemon", NULL, NULL));
        drain_signals();
        {
                gint64 deadline = g_get_monotonic_time() + SIGNAL_TIMEOUT_S * G_USEC_PER_SEC;

                /* The origin is attached once the revert is done. */
                while (T.fuse) {
                        g_autofree char *device = prop_s(T.vol_path, IFACE_VOLUME, "Device");

                        if (device[0]) {
                                g_assert_true(device_holds(device, 0, 16 * MiB, 0xcc));
                                break;
                        }
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_usleep(50000);
                }
        }
        assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "running");
        assert_prop_s(stopped_path, IFACE_VOLUME, "State", "stopped");
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"), ==, 7);
}

/* --- the unprivileged caller --- */

static void drop_to_nobody(gpointer data)
{
        const struct passwd *pw = data;

        if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
                _exit(99);
}

static void test_unprivileged(void)
{
        g_autoptr(GSubprocessLauncher) launcher = NULL;
        g_autoptr(GSubprocess) child = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        const struct passwd *pw = getpwnam("nobody");
        const char *s1 = ROOT_PATH "/volumes/good/snapshots/1";
        g_autofree char *name_before = prop_s(s1, IFACE_SNAPSHOT, "Name");
        guint32 count_before = prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount");

        g_autofree char *job_path = NULL;

        if (!pw) {
                g_test_skip("no user nobody");
                return;
        }
        /* A job to try Cancel on (jobs do not outlive a restart). */
        {
                g_autoptr(ZumaBusVolume) v = volume(T.vol_path);

                assert_ok(zuma_bus_volume_call_resize_sync(v, opts("{'store': <true>}"), &job_path,
                                                           NULL, &error_));
                wait_job(job_path, "");
        }
        launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                             G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_subprocess_launcher_set_child_setup(launcher, drop_to_nobody, (gpointer)pw, NULL);
        g_subprocess_launcher_setenv(launcher, "ZUMA_TEST_VOLUME", T.vol_path, TRUE);
        g_subprocess_launcher_setenv(launcher, "ZUMA_TEST_SNAPSHOT", s1, TRUE);
        g_subprocess_launcher_setenv(launcher, "ZUMA_TEST_JOB", job_path, TRUE);
        g_subprocess_launcher_setenv(launcher, "ZUMA_TEST_ORIGIN", T.spare_origin, TRUE);
        g_subprocess_launcher_setenv(launcher, "ZUMA_TEST_STORE", T.spare_store, TRUE);
        /* No leak report of a child that only makes calls. */
        g_subprocess_launcher_setenv(launcher, "ASAN_OPTIONS", "detect_leaks=0", TRUE);
        /* The build tree may sit in a directory nobody cannot enter (a clone
         * under mktemp -d): run a copy from the harness's 0755 directory. */
        {
                g_autoptr(GFile) from = g_file_new_for_path(self);
                g_autofree char *copy =
                        g_build_filename(g_getenv("ZUMA_TEST_DIR"), "test-snapshotd-nobody", NULL);
                g_autoptr(GFile) to = g_file_new_for_path(copy);

                g_file_copy(from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error);
                g_assert_no_error(error);
                g_assert_cmpint(chmod(copy, 0755), ==, 0);
                g_free(self);
                self = g_steal_pointer(&copy);
        }
        child = g_subprocess_launcher_spawn(launcher, &error, self, "--unprivileged", NULL);
        g_assert_no_error(error);
        g_subprocess_communicate_utf8(child, NULL, NULL, &out, &err, &error);
        g_assert_no_error(error);
        g_test_message("unprivileged caller:\n%s%s", out, err);
        if (!g_subprocess_get_if_exited(child) || g_subprocess_get_exit_status(child) != 0)
                g_error("the unprivileged caller's checks failed:\n%s%s", out, err);
        /* and nothing changed */
        assert_prop_s(s1, IFACE_SNAPSHOT, "Name", name_before);
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"), ==, count_before);
        assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "running");
        g_assert_false(object_exists(ROOT_PATH "/volumes/intruder"));
}

static int unprivileged_main(void)
{
        const char *vol = g_getenv("ZUMA_TEST_VOLUME");
        const char *snap = g_getenv("ZUMA_TEST_SNAPSHOT");
        const char *job_path = g_getenv("ZUMA_TEST_JOB");
        const char *origin = g_getenv("ZUMA_TEST_ORIGIN");
        const char *store = g_getenv("ZUMA_TEST_STORE");
        g_autoptr(GError) error = NULL;
        g_autoptr(ZumaBusManager) m = NULL;
        g_autoptr(ZumaBusVolume) v = NULL;
        g_autoptr(ZumaBusSnapshot) s = NULL;
        g_autoptr(ZumaBusJob) j = NULL;
        g_autoptr(GVariant) usage = NULL;
        g_autofree char *found = NULL;
        g_autofree char *huge = g_strnfill(1 * MiB, 'n');
        const char *names[] = { "s2", NULL };
        const char *denied = "AccessDenied";

        g_assert_cmpint(getuid(), !=, 0);
        test_bus_init();
        m = manager();
        v = volume(vol);
        s = snapshot(snap);
        j = job(job_path);

        /* every mutating method, with good and with bad arguments */
        assert_fails(denied,
                     define_fails("intruder", origin, store, "{'initialize': <true>}", &error_));
        assert_fails(denied, define_fails(huge, "rel", "rel", "{'bogus': <1>}", &error_));
        assert_fails(denied, zuma_bus_manager_call_forget_volume_sync(
                                     m, "good", opts("{'force': <true>}"), NULL, &error_));
        assert_fails(denied, zuma_bus_volume_call_start_sync(v, NO_OPTS, NULL, &error_));
        assert_fails(denied,
                     zuma_bus_volume_call_stop_sync(v, opts("{'force': <true>}"), NULL, &error_));
        assert_fails(denied, zuma_bus_volume_call_create_snapshot_sync(v, "mine", NO_OPTS, NULL,
                                                                       NULL, NULL, &error_));
        assert_fails(denied, zuma_bus_volume_call_create_snapshot_sync(
                                     v, huge, opts("{'bogus': <1>}"), NULL, NULL, NULL, &error_));
        assert_fails(denied, zuma_bus_volume_call_delete_snapshots_sync(v, names, NO_OPTS, NULL,
                                                                        NULL, &error_));
        assert_fails(denied,
                     zuma_bus_volume_call_revert_sync(v, "s2", NO_OPTS, NULL, NULL, &error_));
        assert_fails(denied, zuma_bus_volume_call_resize_sync(v, opts("{'store': <true>}"), NULL,
                                                              NULL, &error_));
        assert_fails(denied, zuma_bus_volume_call_set_full_policy_sync(v, "refuse", NO_OPTS, NULL,
                                                                       &error_));
        assert_fails(denied, zuma_bus_snapshot_call_delete_sync(s, NO_OPTS, NULL, &error_));
        assert_fails(denied, zuma_bus_snapshot_call_rename_sync(s, "mine", NO_OPTS, NULL, &error_));
        assert_fails(denied,
                     zuma_bus_snapshot_call_set_priority_sync(s, 100, NO_OPTS, NULL, &error_));
        assert_fails(denied,
                     zuma_bus_snapshot_call_set_pinned_sync(s, FALSE, NO_OPTS, NULL, &error_));
        assert_fails(denied,
                     zuma_bus_snapshot_call_set_writable_sync(s, TRUE, NO_OPTS, NULL, &error_));
        assert_fails(denied, zuma_bus_snapshot_call_attach_sync(s, NO_OPTS, NULL, NULL, &error_));
        assert_fails(denied, zuma_bus_snapshot_call_detach_sync(s, opts("{'force': <true>}"), NULL,
                                                                &error_));
        assert_fails(denied, zuma_bus_job_call_cancel_sync(j, NO_OPTS, NULL, &error_));
        g_print("every mutating method: AccessDenied\n");

        /* status */
        {
                g_autoptr(GVariant) objects = g_dbus_connection_call_sync(
                        test_bus, BUS_NAME, ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
                        "GetManagedObjects", NULL, G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
                        G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

                g_assert_no_error(error);
                g_assert_nonnull(objects);
                g_assert_true(object_exists(vol));
                g_assert_true(object_exists(snap));
        }
        {
                g_autoptr(GVariant) all = g_dbus_connection_call_sync(
                        test_bus, BUS_NAME, vol, "org.freedesktop.DBus.Properties", "GetAll",
                        g_variant_new("(s)", IFACE_VOLUME), G_VARIANT_TYPE("(a{sv})"),
                        G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

                g_assert_no_error(error);
                g_assert_nonnull(all);
        }
        {
                g_autoptr(GVariant) xml = g_dbus_connection_call_sync(
                        test_bus, BUS_NAME, vol, "org.freedesktop.DBus.Introspectable",
                        "Introspect", NULL, G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                        &error);

                g_assert_no_error(error);
                g_assert_nonnull(xml);
        }
        assert_prop_s(snap, IFACE_SNAPSHOT, "Volume", vol);
        assert_prop_s(vol, IFACE_VOLUME, "State", "running");
        assert_ok(zuma_bus_snapshot_call_get_usage_sync(s, NO_OPTS, &usage, NULL, &error_));
        assert_ok(
                zuma_bus_manager_call_find_volume_sync(m, "good", NO_OPTS, &found, NULL, &error_));
        g_assert_cmpstr(found, ==, vol);
        {
                g_autofree char *snap_name = prop_s(snap, IFACE_SNAPSHOT, "Name");
                g_autofree char *found_snap = NULL;

                assert_ok(zuma_bus_volume_call_find_snapshot_sync(v, snap_name, NO_OPTS,
                                                                  &found_snap, NULL, &error_));
                g_assert_cmpstr(found_snap, ==, snap);
        }
        g_print("status: readable\n");
        return 0;
}

static void test_forget(void)
{
        g_autoptr(ZumaBusManager) m = manager();
        g_autofree char *again = NULL;

        assert_fails("NotFound",
                     zuma_bus_manager_call_forget_volume_sync(m, "nope", NO_OPTS, NULL, &error_));
        assert_fails("InvalidArgument", zuma_bus_manager_call_forget_volume_sync(
                                                m, "good", opts("{'x': <1>}"), NULL, &error_));
        assert_fails("Busy",
                     zuma_bus_manager_call_forget_volume_sync(m, "good", NO_OPTS, NULL, &error_));
        /* a stopped one goes without force */
        assert_ok(zuma_bus_manager_call_forget_volume_sync(m, "parked", NO_OPTS, NULL, &error_));
        g_assert_false(object_exists(ROOT_PATH "/volumes/parked"));
        drain_signals();
        assert_ok(zuma_bus_manager_call_forget_volume_sync(m, "good", opts("{'force': <true>}"),
                                                           NULL, &error_));
        g_variant_unref(wait_signal(T.vol_path, "Stopped", "('requested',)"));
        g_assert_false(object_exists(T.vol_path));
        /* the store stays: defining the volume again brings it back */
        again = define("good", T.origin, T.store, "{}", NULL);
        g_assert_cmpstr(again, ==, T.vol_path);
        assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "running");
        g_assert_cmpuint(prop_u(T.vol_path, IFACE_VOLUME, "SnapshotCount"), ==, 7);
        /* initialize over an existing store needs force */
        assert_fails("AlreadyExists", define_fails("fresh", T.spare_origin, T.spare_store,
                                                   "{'initialize': <true>}", &error_));
        assert_fails("Corrupt",
                     define_fails("fresh", T.spare_origin, T.spare_store, "{}", &error_));
        g_free(again);
        again = define("fresh", T.spare_origin, T.spare_store,
                       "{'initialize': <true>, 'force': <true>, 'full_policy': <'refuse'>}", NULL);
        g_assert_nonnull(again);
        assert_prop_s(again, IFACE_VOLUME, "FullPolicy", "refuse");
}

/* --- devices on demand --- */

/* The Device of a snapshot, by volume path and snapshot name. */
static char *snapshot_device(const char *snapshot_path)
{
        return prop_s(snapshot_path, IFACE_SNAPSHOT, "Device");
}

static void assert_attached(const char *snapshot_path, gboolean attached)
{
        g_autofree char *device = snapshot_device(snapshot_path);

        if (attached != (device[0] != '\0'))
                g_error("%s: Device is \"%s\", expected it %s", snapshot_path, device,
                        attached ? "attached" : "detached");
}

static void test_attach_on_demand(void)
{
        g_autofree char *origin = NULL;
        g_autofree char *store = NULL;
        g_autofree char *path = NULL;
        g_autofree char *a = NULL;
        g_autofree char *b = NULL;
        g_autofree char *c = NULL;
        g_autoptr(ZumaBusSnapshot) pa = NULL;
        g_autoptr(ZumaBusSnapshot) pc = NULL;
        g_autoptr(ZumaBusVolume) v = NULL;
        g_autofree char *device = NULL;

        if (!T.fuse) {
                g_test_skip("the server runs with --frontend=none: nothing is ever attached");
                return;
        }
        origin = loop_device("demand-origin", "32M");
        store = loop_device("demand-store", "32M");
        path = define("demand", origin, store, "{'initialize': <true>}", NULL);
        g_assert_nonnull(path);
        v = volume(path);
        a = create_snapshot(path, "a", "{'attach': <false>}");
        b = create_snapshot(path, "b", "{'attach': <false>}");
        c = create_snapshot(path, "c", "{}");
        pa = snapshot(a);
        pc = snapshot(c);
        assert_attached(a, FALSE);
        assert_attached(b, FALSE);
        assert_attached(c, TRUE);
        assert_ok(zuma_bus_snapshot_call_attach_sync(pa, NO_OPTS, &device, NULL, &error_));
        assert_ok(zuma_bus_snapshot_call_detach_sync(pc, NO_OPTS, NULL, &error_));

        /* A restart of the server attaches a, not b nor c. */
        g_free(harness("restart-daemon", NULL, NULL));
        assert_prop_s(path, IFACE_VOLUME, "State", "running");
        assert_attached(a, TRUE);
        assert_attached(b, FALSE);
        assert_attached(c, FALSE);
        g_clear_pointer(&device, g_free);
        device = snapshot_device(a);
        g_assert_true(device_read_only(device));

        /* So does Stop and Start of the volume. */
        g_clear_object(&v);
        g_clear_object(&pa);
        v = volume(path);
        assert_ok(zuma_bus_volume_call_stop_sync(v, NO_OPTS, NULL, &error_));
        /* Still listed while stopped, without a device. */
        g_assert_true(object_exists(a));
        assert_attached(a, FALSE);
        assert_ok(zuma_bus_volume_call_start_sync(v, NO_OPTS, NULL, &error_));
        assert_attached(a, TRUE);
        assert_attached(b, FALSE);

        /* A deleted snapshot is not attached again (nor an error). */
        pa = snapshot(a);
        assert_ok(zuma_bus_snapshot_call_delete_sync(pa, NO_OPTS, NULL, &error_));
        g_free(harness("restart-daemon", NULL, NULL));
        assert_prop_s(path, IFACE_VOLUME, "State", "running");
        assert_prop_s(path, IFACE_VOLUME, "LastError", "");
        g_assert_false(object_exists(a));
        assert_attached(b, FALSE);
        assert_attached(c, FALSE);
}

/* SetWritable on an attached snapshot: the device is attached again in
 * the new mode, and the image file's mode follows. */
static void test_writable_toggle(void)
{
        const char *path = ROOT_PATH "/volumes/demand";
        g_autofree char *w = NULL;
        g_autofree char *first = NULL;
        g_autofree char *second = NULL;
        g_autofree char *third = NULL;
        g_autofree char *file = NULL;
        g_autoptr(ZumaBusSnapshot) p = NULL;
        struct stat st;
        int fd;

        if (!T.fuse) {
                g_test_skip("the server runs with --frontend=none: nothing is ever attached");
                return;
        }
        w = create_snapshot(path, "w", "{'writable': <true>}");
        p = snapshot(w);
        first = snapshot_device(w);
        g_assert_false(device_read_only(first));
        write_device(first, 0, 1 * MiB, 0x3c);

        /* to read-only */
        assert_ok(zuma_bus_snapshot_call_set_writable_sync(p, FALSE, NO_OPTS, NULL, &error_));
        g_assert_false(prop_b(w, IFACE_SNAPSHOT, "Writable"));
        second = snapshot_device(w);
        g_assert_true(g_str_has_prefix(second, "/dev/"));
        g_assert_true(device_read_only(second));
        fd = open(second, O_WRONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pwrite(fd, "x", 1, 0), ==, -1);
        close(fd);
        g_assert_true(device_holds(second, 0, 1 * MiB, 0x3c));
        file = loop_backing_file(second);
        g_assert_cmpint(stat(file, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0400);

        /* and back */
        assert_ok(zuma_bus_snapshot_call_set_writable_sync(p, TRUE, NO_OPTS, NULL, &error_));
        g_assert_true(prop_b(w, IFACE_SNAPSHOT, "Writable"));
        third = snapshot_device(w);
        g_assert_false(device_read_only(third));
        g_assert_cmpint(stat(file, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0600);
        write_device(third, 1 * MiB, 1 * MiB, 0xc3);
        g_assert_true(device_holds(third, 0, 1 * MiB, 0x3c));
        g_assert_true(device_holds(third, 1 * MiB, 1 * MiB, 0xc3));

        /* Open: Busy, and nothing changes. */
        fd = open(third, O_RDONLY | O_EXCL | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        assert_fails_mentioning(
                "Busy", "unmount",
                zuma_bus_snapshot_call_set_writable_sync(p, FALSE, NO_OPTS, NULL, &error_));
        g_assert_true(prop_b(w, IFACE_SNAPSHOT, "Writable"));
        assert_prop_s(w, IFACE_SNAPSHOT, "Device", third);
        close(fd);

        /* An unattached snapshot changes mode and stays unattached. */
        {
                g_autoptr(ZumaBusSnapshot) pb = snapshot(ROOT_PATH "/volumes/demand/snapshots/2");

                assert_ok(
                        zuma_bus_snapshot_call_set_writable_sync(pb, TRUE, NO_OPTS, NULL, &error_));
                assert_attached(ROOT_PATH "/volumes/demand/snapshots/2", FALSE);
        }
}

/* --- a failing store --- */

/* Takes snapshots of the volume at path until one fails, which must be
 * with error_name; the volume must then be failed, saying why, refuse
 * further calls, and leave the good volume running. */
static void expect_store_failure(const char *path, const char *error_name)
{
        g_autoptr(ZumaBusVolume) v = volume(path);
        g_autofree char *last_error = NULL;
        gboolean failed = FALSE;

        drain_signals();
        for (guint i = 0; i < 64 && !failed; i++) {
                g_autofree char *name = g_strdup_printf("s%u", i);
                g_autoptr(GError) error = NULL;

                if (zuma_bus_volume_call_create_snapshot_sync(v, name, opts("{'attach': <false>}"),
                                                              NULL, NULL, NULL, &error))
                        continue;
                g_test_message("snapshot %u failed: %s", i, error->message);
                assert_error_name(error, error_name);
                failed = TRUE;
        }
        g_assert_true(failed);
        g_variant_unref(wait_signal(path, "Stopped", "('failed',)"));
        assert_prop_s(path, IFACE_VOLUME, "State", "failed");
        last_error = prop_s(path, IFACE_VOLUME, "LastError");
        g_assert_nonnull(strstr(last_error, "failed"));
        assert_fails("NotRunning", zuma_bus_volume_call_create_snapshot_sync(
                                           v, "after", NO_OPTS, NULL, NULL, NULL, &error_));
        assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "running");
}

/* A store device someone made read-only (BLKROSET) under the server: the
 * call gets ReadOnly (not AccessDenied: the caller lacks no permission)
 * and the volume fails. */
static void test_store_read_only(void)
{
        g_autofree char *origin = loop_device("ro-origin", "32M");
        g_autofree char *store = loop_device("ro-store", "32M");
        g_autofree char *path = define("rostore", origin, store, "{'initialize': <true>}", NULL);
        g_autofree char *setro = g_strdup_printf("blockdev --setro %s", store);
        g_autofree char *setrw = g_strdup_printf("blockdev --setrw %s", store);
        g_autoptr(ZumaBusVolume) v = NULL;
        g_autoptr(ZumaBusManager) m = manager();

        g_assert_nonnull(path);
        v = volume(path);
        run(setro);
        expect_store_failure(path, "ReadOnly");
        assert_ok(zuma_bus_volume_call_stop_sync(v, opts("{'force': <true>}"), NULL, &error_));
        assert_ok(zuma_bus_manager_call_forget_volume_sync(m, "rostore", NO_OPTS, NULL, &error_));
        run(setrw);
}

/* A store whose device fails its writes: the loop device's file lies on a
 * small tmpfs that is then filled, so the loop device answers ENOSPC,
 * which the engine takes as a failed I/O (zuma's own ENOSPC means "the
 * store is full", handled by the full policy).  The call that hits it gets
 * IoError, the volume fails with a reason, and another volume goes on. */
static void test_store_io_error(void)
{
        g_autofree char *dir = g_build_filename(g_getenv("ZUMA_TEST_DIR"), "tiny", NULL);
        g_autofree char *mount = g_strdup_printf("mount -t tmpfs -o size=4M zuma-tiny %s", dir);
        g_autofree char *attach = g_strdup_printf("truncate -s 32M %s/store.img && losetup -f "
                                                  "--show %s/store.img",
                                                  dir, dir);
        g_autofree char *fill =
                g_strdup_printf("dd if=/dev/zero of=%s/filler bs=64k 2>/dev/null; true", dir);
        g_autofree char *store = NULL;
        g_autofree char *origin = NULL;
        g_autofree char *path = NULL;
        g_autofree char *cleanup = NULL;
        g_autoptr(ZumaBusVolume) v = NULL;
        g_autoptr(ZumaBusManager) m = manager();
        g_autoptr(GError) error = NULL;
        int status = 0;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        run(mount);
        g_assert_true(g_spawn_sync(NULL, (char *[]){ "sh", "-c", attach, NULL }, NULL,
                                   G_SPAWN_SEARCH_PATH, NULL, NULL, &store, NULL, &status, &error));
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_strstrip(store);
        origin = loop_device("ioerr-origin", "32M");
        path = define("ioerr", origin, store, "{'initialize': <true>, 'chunk_size': <uint32 4096>}",
                      NULL);
        g_assert_nonnull(path);
        v = volume(path);
        run(fill);
        drain_signals();

        /* Each snapshot commits new metadata: one of the first few needs a
         * page the file system no longer has. */
        expect_store_failure(path, "IoError");

        /* The other volume is untouched. */
        assert_prop_s(T.vol_path, IFACE_VOLUME, "State", "running");
        g_free(create_snapshot(T.vol_path, "beside-a-failed-one", "{'attach': <false>}"));
        if (T.fuse) {
                g_autofree char *device = prop_s(T.vol_path, IFACE_VOLUME, "Device");

                write_device(device, 0, 1 * MiB, 0x71);
                g_assert_true(device_holds(device, 0, 1 * MiB, 0x71));
        }

        assert_ok(zuma_bus_volume_call_stop_sync(v, opts("{'force': <true>}"), NULL, &error_));
        assert_prop_s(path, IFACE_VOLUME, "State", "stopped");
        assert_ok(zuma_bus_manager_call_forget_volume_sync(m, "ioerr", NO_OPTS, NULL, &error_));
        /* Lazily: the loop device lets go of its file asynchronously. */
        cleanup = g_strdup_printf("losetup -d %s && umount -l %s", store, dir);
        run(cleanup);
}

/* --- a store found damaged --- */

/* Whether an O_DIRECT read of len bytes at offset fails (EIO). */
static gboolean read_fails(const char *device, guint64 offset, gsize len)
{
        guint8 *buf = NULL;
        int fd = open(device, O_RDONLY | O_DIRECT | O_CLOEXEC);
        ssize_t n;

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(posix_memalign((void **)&buf, 4096, len), ==, 0);
        n = pread(fd, buf, len, (off_t)offset);
        close(fd);
        free(buf);
        return n < 0;
}

/* A digest of the whole device, read past the page cache. */
static char *device_digest(const char *device)
{
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        gsize block = 1 * MiB;
        guint8 *buf = NULL;
        int fd = open(device, O_RDONLY | O_DIRECT | O_CLOEXEC);
        ssize_t n;

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(posix_memalign((void **)&buf, 4096, block), ==, 0);
        while ((n = read(fd, buf, block)) > 0)
                g_checksum_update(sum, buf, (gsize)n);
        g_assert_cmpint(n, ==, 0);
        close(fd);
        free(buf);
        return g_strdup(g_checksum_get_string(sum));
}

/* Overwrites the middle of one leaf of the shared tree of a stopped
 * volume's store (damage-store.py); returns the block, sets *ret_chunk to
 * the first chunk that leaf maps. */
static guint64 damage_shared_leaf(const char *origin, const char *store, guint64 *ret_chunk)
{
        g_autofree char *script = g_build_filename(g_getenv("ZUMA_SOURCE_DIR"), "tests", "bus",
                                                   "damage-store.py", NULL);
        g_autofree char *dump =
                g_build_filename(g_getenv("ZUMA_BUILD_DIR"), "snapstore", "zumastor-dump", NULL);
        g_autofree char *out = NULL;
        g_autoptr(GError) error = NULL;
        guint64 block = 0;
        int status = 0;

        g_assert_true(g_spawn_sync(NULL,
                                   (char *[]){ "python3", script, dump, (char *)origin,
                                               (char *)store, "shared", NULL },
                                   NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status,
                                   &error));
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_assert_cmpint(sscanf(out, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &block, ret_chunk),
                        ==, 2);
        return block;
}

/* Metadata found damaged while the volume runs (a snapshot read needs a
 * B-tree leaf that fails its checksum): the volume fails at once with
 * Failed and a LastError naming the block, every change is refused with
 * Corrupt and nothing more reaches the store, while what does not need
 * the leaf stays readable.  A server restart leaves it failed; an
 * administrator's Start opens it again. */
static void test_store_damaged(void)
{
        g_autofree char *origin = loop_device("dmg-origin", "16M");
        g_autofree char *store = loop_device("dmg-store", "32M");
        g_autofree char *path = NULL;
        g_autofree char *snap = NULL;
        g_autofree char *device = NULL;
        g_autofree char *snap_device = NULL;
        g_autofree char *block_text = NULL;
        g_autofree char *last_error = NULL;
        g_autofree char *digest = NULL;
        g_autofree char *digest_after = NULL;
        g_autoptr(GVariant) failed = NULL;
        g_autoptr(ZumaBusVolume) v = NULL;
        g_autoptr(ZumaBusManager) m = manager();
        guint64 block, chunk;

        if (!T.fuse) {
                g_test_skip("the server runs with --frontend=none: nothing can write an origin");
                return;
        }
        path = define("dmg", origin, store, "{'initialize': <true>, 'chunk_size': <uint32 4096>}",
                      NULL);
        g_assert_nonnull(path);
        v = volume(path);
        snap = create_snapshot(path, "before", "{}");
        device = prop_s(path, IFACE_VOLUME, "Device");
        /* 4096 copy-outs: a shared tree of several leaves. */
        write_device(device, 0, 16 * MiB, 0x5a);
        assert_ok(zuma_bus_volume_call_stop_sync(v, NO_OPTS, NULL, &error_));
        block = damage_shared_leaf(origin, store, &chunk);
        g_test_message("damaged shared-tree leaf at block %" G_GUINT64_FORMAT
                       ", first chunk %" G_GUINT64_FORMAT,
                       block, chunk);
        g_assert_cmpuint(chunk, >, 0);
        block_text = g_strdup_printf("%" G_GUINT64_FORMAT, block);

        /* Only the leaf is bad, so the store opens.  Anyone may be the
         * first to read what needs the leaf (udev's probe reads each new
         * device at several places), so the signals are collected from
         * before the start, and the state may already say so. */
        drain_signals();
        assert_ok(zuma_bus_volume_call_start_sync(v, NO_OPTS, NULL, &error_));
        {
                g_autofree char *state = prop_s(path, IFACE_VOLUME, "State");

                g_assert_true(g_str_equal(state, "running") || g_str_equal(state, "failed"));
        }
        /* A start attaches the origin afresh, maybe to another loop device. */
        g_free(device);
        device = prop_s(path, IFACE_VOLUME, "Device");
        g_assert_cmpstr(device, !=, "");
        snap_device = prop_s(snap, IFACE_SNAPSHOT, "Device");
        g_assert_cmpstr(snap_device, !=, "");
        g_assert_true(read_fails(snap_device, chunk * 4096, 4096));
        failed = wait_signal(path, "Failed", NULL);
        g_variant_unref(wait_signal(path, "Stopped", "('failed',)"));
        assert_prop_s(path, IFACE_VOLUME, "State", "failed");
        last_error = prop_s(path, IFACE_VOLUME, "LastError");
        g_test_message("LastError: %s", last_error);
        g_assert_nonnull(strstr(last_error, "damaged"));
        g_assert_nonnull(strstr(last_error, block_text));
        {
                const char *message = NULL;

                g_variant_get(failed, "(&s)", &message);
                g_assert_nonnull(strstr(message, block_text));
        }

        /* What does not need the leaf stays readable: the snapshot's
         * first chunks, and the origin. */
        g_assert_true(device_holds(snap_device, 0, 4096, 0));
        g_assert_true(device_holds(device, 0, 1 * MiB, 0x5a));
        g_assert_true(device_holds(device, 15 * MiB, 1 * MiB, 0x5a));

        /* Every change is refused, and none reaches the store. */
        digest = device_digest(store);
        assert_fails_mentioning("Corrupt", block_text,
                                zuma_bus_volume_call_create_snapshot_sync(v, "after", NO_OPTS, NULL,
                                                                          NULL, NULL, &error_));
        assert_fails("Corrupt",
                     zuma_bus_volume_call_delete_snapshots_sync(
                             v, (const char *[]){ "before", NULL }, NO_OPTS, NULL, NULL, &error_));
        assert_fails("Corrupt",
                     zuma_bus_volume_call_revert_sync(v, "before", NO_OPTS, NULL, NULL, &error_));
        assert_fails("Corrupt", zuma_bus_volume_call_set_full_policy_sync(v, "refuse", NO_OPTS,
                                                                          NULL, &error_));
        assert_fails("Corrupt", zuma_bus_volume_call_resize_sync(v, opts("{'store': <true>}"), NULL,
                                                                 NULL, &error_));
        {
                g_autoptr(ZumaBusSnapshot) s = snapshot(snap);

                assert_fails("Corrupt", zuma_bus_snapshot_call_rename_sync(s, "renamed", NO_OPTS,
                                                                           NULL, &error_));
                assert_fails("Corrupt", zuma_bus_snapshot_call_set_priority_sync(s, 3, NO_OPTS,
                                                                                 NULL, &error_));
                assert_fails("Corrupt",
                             zuma_bus_snapshot_call_delete_sync(s, NO_OPTS, NULL, &error_));
        }
        /* Looking up what is there still works. */
        {
                g_autofree char *found = NULL;

                assert_ok(zuma_bus_volume_call_find_snapshot_sync(v, "before", NO_OPTS, &found,
                                                                  NULL, &error_));
                g_assert_cmpstr(found, ==, snap);
        }
        digest_after = device_digest(store);
        g_assert_cmpstr(digest, ==, digest_after);

        /* A server restart does not open the store again on its own. */
        g_free(harness("restart-daemon", NULL, NULL));
        assert_prop_s(path, IFACE_VOLUME, "State", "failed");
        g_free(last_error);
        last_error = prop_s(path, IFACE_VOLUME, "LastError");
        g_assert_nonnull(strstr(last_error, block_text));
        g_free(digest_after);
        digest_after = device_digest(store);
        g_assert_cmpstr(digest, ==, digest_after);
        /* The administrator's Start does.  As at the first start, a reader
         * of the new devices (udev's probe) may reach the damaged leaf at
         * once and fail the volume again: then for the same reason. */
        g_clear_object(&v);
        v = volume(path);
        assert_ok(zuma_bus_volume_call_start_sync(v, NO_OPTS, NULL, &error_));
        {
                g_autofree char *state = prop_s(path, IFACE_VOLUME, "State");

                g_free(last_error);
                last_error = prop_s(path, IFACE_VOLUME, "LastError");
                if (g_str_equal(state, "running")) {
                        g_assert_cmpstr(last_error, ==, "");
                } else {
                        g_test_message("failed again at once: %s", last_error);
                        g_assert_cmpstr(state, ==, "failed");
                        g_assert_nonnull(strstr(last_error, block_text));
                }
        }
        assert_ok(zuma_bus_volume_call_stop_sync(v, opts("{'force': <true>}"), NULL, &error_));
        g_clear_object(&m);
        m = manager();
        assert_ok(zuma_bus_manager_call_forget_volume_sync(m, "dmg", NO_OPTS, NULL, &error_));
}

/* --- a delete-snapshots job cut short by a crash --- */

/* Polls the job's Done until it is done (deadline: SIGNAL_TIMEOUT_S). */
static void wait_job_done(const char *job_path, guint64 done)
{
        gint64 deadline = g_get_monotonic_time() + SIGNAL_TIMEOUT_S * G_USEC_PER_SEC;

        while (prop_t(job_path, IFACE_JOB, "Done") != done) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(20000);
        }
}

/* Polls until the volume holds count snapshots and runs no job. */
static void wait_snapshot_count(const char *vol_path, guint32 count)
{
        gint64 deadline = g_get_monotonic_time() + SIGNAL_TIMEOUT_S * G_USEC_PER_SEC;

        while (prop_u(vol_path, IFACE_VOLUME, "SnapshotCount") != count) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(20000);
        }
}

/* DeleteSnapshots of 19 snapshots, the server SIGKILLed after `after` of
 * the deletions (the job held there by ZUMA_SNAPSHOTD_JOB_STEP_LIMIT): the
 * next server finishes the deletion, all 19 are gone, the others stay. */
static void delete_killed_after(const char *vol_path, guint after)
{
        g_autoptr(ZumaBusVolume) v = volume(vol_path);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *restart = g_strdup_printf(
                "ZUMA_SNAPSHOTD_JOB_STEP_LIMIT=%u bash \"$ZUMA_TEST_HARNESS\" restart-daemon",
                after);
        g_autofree char *job_path = NULL;
        g_autofree char *keep_first = NULL;
        g_autofree char *keep_last = NULL;

        keep_first = create_snapshot(vol_path, "keep-first", "{'attach': <false>}");
        for (guint i = 1; i <= 19; i++) {
                char *name = g_strdup_printf("S%u", i);

                /* A few attached, so their devices are part of it too. */
                g_free(create_snapshot(vol_path, name, i % 6 == 0 ? "{}" : "{'attach': <false>}"));
                g_ptr_array_add(names, name);
        }
        keep_last = create_snapshot(vol_path, "keep-last", "{}");
        g_ptr_array_add(names, NULL);
        g_assert_cmpuint(prop_u(vol_path, IFACE_VOLUME, "SnapshotCount"), ==, 21);

        run(restart);
        g_clear_object(&v);
        v = volume(vol_path);
        assert_ok(zuma_bus_volume_call_delete_snapshots_sync(v, (const char *const *)names->pdata,
                                                             NO_OPTS, &job_path, NULL, &error_));
        wait_job_done(job_path, after);
        g_assert_cmpuint(prop_u(vol_path, IFACE_VOLUME, "SnapshotCount"), ==, 21 - after);
        g_free(harness("kill-daemon", NULL, NULL));
        g_free(harness("start-daemon", NULL, NULL));

        wait_snapshot_count(vol_path, 2);
        assert_prop_s(vol_path, IFACE_VOLUME, "State", "running");
        for (guint i = 0; i < 19; i++) {
                g_autofree char *path =
                        g_strdup_printf("%s/snapshots/%u", vol_path,
                                        prop_u(keep_first, IFACE_SNAPSHOT, "Id") + 1 + i);

                g_assert_false(object_exists(path));
        }
        assert_prop_s(keep_first, IFACE_SNAPSHOT, "Name", "keep-first");
        assert_prop_s(keep_last, IFACE_SNAPSHOT, "Name", "keep-last");
        if (T.fuse) {
                g_autofree char *device = prop_s(keep_last, IFACE_SNAPSHOT, "Device");

                g_assert_cmpstr(device, !=, "");
        }
        /* Nothing left to do: a further restart deletes nothing. */
        g_free(harness("restart-daemon", NULL, NULL));
        g_assert_cmpuint(prop_u(vol_path, IFACE_VOLUME, "SnapshotCount"), ==, 2);
        g_clear_object(&v);
        v = volume(vol_path);
        g_clear_pointer(&job_path, g_free);
        assert_ok(zuma_bus_volume_call_delete_snapshots_sync(
                v, (const char *[]){ "keep-first", "keep-last", NULL }, NO_OPTS, &job_path, NULL,
                &error_));
        wait_snapshot_count(vol_path, 0);
}

static void test_delete_crash(void)
{
        g_autofree char *origin = loop_device("delcrash-origin", "16M");
        g_autofree char *store = loop_device("delcrash-store", "32M");
        g_autofree char *path = define("delcrash", origin, store, "{'initialize': <true>}", NULL);
        g_autoptr(ZumaBusVolume) v = NULL;
        g_autoptr(ZumaBusManager) m = NULL;
        static const guint points[] = { 0, 1, 7, 18, 19 };

        g_assert_nonnull(path);
        for (guint i = 0; i < G_N_ELEMENTS(points); i++) {
                g_test_message("SIGKILL after %u of 19 deletions", points[i]);
                delete_killed_after(path, points[i]);
        }
        v = volume(path);
        assert_ok(zuma_bus_volume_call_stop_sync(v, opts("{'force': <true>}"), NULL, &error_));
        m = manager();
        assert_ok(zuma_bus_manager_call_forget_volume_sync(m, "delcrash", NO_OPTS, NULL, &error_));
}

/* Both copies of the newest superblock damaged: the store could open only
 * on the commit before, so Start refuses (failed, Failed, LastError names
 * the copies and the snapshots at risk) until accept_rollback is given;
 * the volume then runs and StoreWarning says what happened. */
static void test_store_rollback(void)
{
        g_autofree char *origin = loop_device("rb-origin", "16M");
        g_autofree char *store = loop_device("rb-store", "32M");
        g_autofree char *path = NULL;
        g_autofree char *script = g_build_filename(g_getenv("ZUMA_SOURCE_DIR"), "tests", "bus",
                                                   "damage-store.py", NULL);
        g_autofree char *dump =
                g_build_filename(g_getenv("ZUMA_BUILD_DIR"), "snapstore", "zumastor-dump", NULL);
        g_autofree char *damage = NULL;
        g_autofree char *last_error = NULL;
        g_autofree char *warning = NULL;
        g_autoptr(GVariant) failed = NULL;
        g_autoptr(ZumaBusVolume) v = NULL;
        g_autoptr(ZumaBusManager) m = manager();

        path = define("rb", origin, store, "{'initialize': <true>}", NULL);
        g_assert_nonnull(path);
        v = volume(path);
        g_free(create_snapshot(path, "older", "{'attach': <false>}"));
        g_free(create_snapshot(path, "newest", "{'attach': <false>}"));
        assert_ok(zuma_bus_volume_call_stop_sync(v, NO_OPTS, NULL, &error_));
        damage = g_strdup_printf("python3 %s %s %s %s newest-superblock", script, dump, origin,
                                 store);
        run(damage);

        drain_signals();
        assert_fails_mentioning("Corrupt", "accept-rollback",
                                zuma_bus_volume_call_start_sync(v, NO_OPTS, NULL, &error_));
        failed = wait_signal(path, "Failed", NULL);
        assert_prop_s(path, IFACE_VOLUME, "State", "failed");
        last_error = prop_s(path, IFACE_VOLUME, "LastError");
        g_test_message("LastError: %s", last_error);
        g_assert_nonnull(strstr(last_error, "damaged"));
        g_assert_nonnull(strstr(last_error, "older"));
        /* A bad option value is no acceptance. */
        assert_fails("InvalidArgument",
                     zuma_bus_volume_call_start_sync(v, opts("{'accept_rollback': <'yes'>}"), NULL,
                                                     &error_));
        assert_prop_s(path, IFACE_VOLUME, "State", "failed");

        assert_ok(zuma_bus_volume_call_start_sync(v, opts("{'accept_rollback': <true>}"), NULL,
                                                  &error_));
        assert_prop_s(path, IFACE_VOLUME, "State", "running");
        assert_prop_s(path, IFACE_VOLUME, "LastError", "");
        warning = prop_s(path, IFACE_VOLUME, "StoreWarning");
        g_test_message("StoreWarning: %s", warning);
        g_assert_nonnull(strstr(warning, "older commit"));
        assert_ok(zuma_bus_volume_call_stop_sync(v, opts("{'force': <true>}"), NULL, &error_));
        assert_ok(zuma_bus_manager_call_forget_volume_sync(m, "rb", NO_OPTS, NULL, &error_));
}

/* A revert that cannot finish (refuse policy, the store too small for the
 * copy-outs the newer snapshot needs): the job ends NoSpace, LastError
 * says what would let it finish, AbandonRevert gives it up and attaches
 * the origin again; once the store is grown (Resize), Revert to the same
 * snapshot finishes it. */
static void test_revert_stuck(void)
{
        g_autofree char *origin = loop_device("stuck-origin", "16M");
        g_autofree char *store = loop_device("stuck-store", "3M");
        g_autofree char *path = NULL;
        g_autofree char *device = NULL;
        g_autofree char *job_path = NULL;
        g_autofree char *last_error = NULL;
        g_autofree char *grow = NULL;
        g_autofree char *backing = NULL;
        g_autoptr(ZumaBusVolume) v = NULL;
        g_autoptr(ZumaBusManager) m = manager();

        if (!T.fuse) {
                g_test_skip("the server runs with --frontend=none: nothing can write an origin");
                return;
        }
        path = define("stuck", origin, store,
                      "{'initialize': <true>, 'chunk_size': <uint32 4096>, "
                      "'full_policy': <'refuse'>}",
                      NULL);
        g_assert_nonnull(path);
        v = volume(path);
        g_free(create_snapshot(path, "target", "{'attach': <false>}"));
        device = prop_s(path, IFACE_VOLUME, "Device");
        /* 2 MiB copied out for "target"; "newer" needs as much again for
         * the revert to rewrite those chunks, which the store lacks. */
        write_device(device, 0, 2 * MiB, 0x77);
        g_free(create_snapshot(path, "newer", "{'attach': <false>}"));
        assert_ok(zuma_bus_volume_call_revert_sync(v, "target", NO_OPTS, &job_path, NULL, &error_));
        wait_job(job_path, "org.zumastor.Zumastor1.Error.NoSpace");
        last_error = prop_s(path, IFACE_VOLUME, "LastError");
        g_test_message("LastError: %s", last_error);
        g_assert_nonnull(strstr(last_error, "resize --store"));
        g_assert_nonnull(strstr(last_error, "revert --abandon"));
        assert_prop_s(path, IFACE_VOLUME, "Device", "");
        assert_prop_s(path, IFACE_VOLUME, "State", "running");

        /* Given up: the origin is back, partly reverted, and takes writes. */
        assert_ok(zuma_bus_volume_call_abandon_revert_sync(v, NO_OPTS, NULL, &error_));
        assert_prop_s(path, IFACE_VOLUME, "LastError", "");
        g_free(device);
        device = prop_s(path, IFACE_VOLUME, "Device");
        g_assert_cmpstr(device, !=, "");
        assert_fails("NotFound",
                     zuma_bus_volume_call_abandon_revert_sync(v, NO_OPTS, NULL, &error_));
        assert_fails("InvalidArgument", zuma_bus_volume_call_abandon_revert_sync(
                                                v, opts("{'bogus': <1>}"), NULL, &error_));

        /* Stuck again; the store grows; the same Revert finishes it. */
        g_free(job_path);
        job_path = NULL;
        assert_ok(zuma_bus_volume_call_revert_sync(v, "target", NO_OPTS, &job_path, NULL, &error_));
        wait_job(job_path, "org.zumastor.Zumastor1.Error.NoSpace");
        backing = loop_backing_file(store);
        grow = g_strdup_printf("truncate -s 16M %s && losetup -c %s", backing, store);
        run(grow);
        g_free(job_path);
        job_path = NULL;
        assert_ok(zuma_bus_volume_call_resize_sync(v, opts("{'store': <true>}"), &job_path, NULL,
                                                   &error_));
        wait_job(job_path, "");
        g_free(job_path);
        job_path = NULL;
        assert_ok(zuma_bus_volume_call_revert_sync(v, "target", NO_OPTS, &job_path, NULL, &error_));
        wait_job(job_path, "");
        g_free(device);
        device = prop_s(path, IFACE_VOLUME, "Device");
        g_assert_cmpstr(device, !=, "");
        g_assert_true(device_holds(device, 0, 2 * MiB, 0));
        assert_ok(zuma_bus_volume_call_stop_sync(v, opts("{'force': <true>}"), NULL, &error_));
        assert_ok(zuma_bus_manager_call_forget_volume_sync(m, "stuck", NO_OPTS, NULL, &error_));
}

/* --- the order of the cases --- */

/* Volumes that build on each other from case to case. */
typedef struct {
        const char *const *volumes; /* forgotten by a reset */
        void (*fresh_devices)(void);
        guint done; /* steps run on the current volumes; DIRTY: changed by others */
} Chain;

#define DIRTY G_MAXUINT

typedef struct {
        const char *path;
        void (*func)(void);
        Chain *chain; /* NULL: the case stands alone */
        guint step;   /* its place in the chain, from 1 */
        /* Runs on the chain's volumes as it finds them once step is done
         * (which it must not change), or leaves them dirty. */
        gboolean any_later;
        gboolean dirties;
} Case;

static void drop_device(char **device)
{
        g_autofree char *detach = NULL;

        if (*device == NULL)
                return;
        detach = g_strdup_printf("losetup -d %s || true", *device);
        run(detach);
        g_clear_pointer(device, g_free);
}

static void good_fresh_devices(void)
{
        drop_device(&T.origin);
        drop_device(&T.store);
        drop_device(&T.spare_origin);
        drop_device(&T.spare_store);
        g_clear_pointer(&T.vol_path, g_free);
        T.origin = loop_device("origin", "64M");
        T.store = loop_device("store", "64M");
        T.spare_origin = loop_device("spare-origin", "32M");
        T.spare_store = loop_device("spare-store", "32M");
}

static const char *const good_volumes[] = { "good", "parked", "fresh", NULL };
static const char *const demand_volumes[] = { "demand", NULL };
static Chain good_chain = { good_volumes, good_fresh_devices, 0 };
static Chain demand_chain = { demand_volumes, NULL, 0 };

/* clang-format off */
#define ALONE(p, f) { .path = (p), .func = (f) }
#define STEP(p, f, c, n) { .path = (p), .func = (f), .chain = (c), .step = (n) }
#define BESIDE(p, f, c, n, d) \
        { .path = (p), .func = (f), .chain = (c), .step = (n), .any_later = TRUE, .dirties = (d) }
/* clang-format on */

static const Case cases[] = {
        ALONE("/bus/01-manager-properties", test_manager_properties),
        ALONE("/bus/02-define-bad-input", test_define_bad_input),
        STEP("/bus/03-define-good", test_define_good, &good_chain, 1),
        STEP("/bus/04-snapshot-create", test_snapshot_create, &good_chain, 2),
        STEP("/bus/05-snapshot-changes", test_snapshot_changes, &good_chain, 3),
        STEP("/bus/06-snapshot-delete", test_snapshot_delete, &good_chain, 4),
        STEP("/bus/07-job-delete-snapshots", test_delete_snapshots_job, &good_chain, 5),
        STEP("/bus/08-job-cancel", test_cancel_job, &good_chain, 6),
        STEP("/bus/09-job-revert", test_revert_job, &good_chain, 7),
        STEP("/bus/10-job-resize", test_resize_job, &good_chain, 8),
        STEP("/bus/11-volume-full-policy", test_full_policy, &good_chain, 9),
        STEP("/bus/12-volume-stop-start", test_stop_start, &good_chain, 10),
        ALONE("/bus/13-volume-store-full", test_store_full),
        STEP("/bus/14-volume-unharmed", test_good_volume_unharmed, &good_chain, 11),
        STEP("/bus/15-daemon-restart", test_restart, &good_chain, 12),
        STEP("/bus/16-auth-unprivileged", test_unprivileged, &good_chain, 13),
        STEP("/bus/17-manager-forget", test_forget, &good_chain, 14),
        STEP("/bus/18-attach-on-demand", test_attach_on_demand, &demand_chain, 1),
        STEP("/bus/19-writable-toggle", test_writable_toggle, &demand_chain, 2),
        /* Beside a failing volume, the good one (running after every
         * step) goes on. */
        BESIDE("/bus/20-store-io-error", test_store_io_error, &good_chain, 1, TRUE),
        BESIDE("/bus/21-store-read-only", test_store_read_only, &good_chain, 1, FALSE),
        ALONE("/bus/22-store-damaged", test_store_damaged),
        ALONE("/bus/23-delete-crash", test_delete_crash),
        ALONE("/bus/24-store-rollback", test_store_rollback),
        ALONE("/bus/25-revert-stuck", test_revert_stuck),
};

static void chain_reset(Chain *chain)
{
        g_autoptr(ZumaBusManager) m = manager();

        for (guint i = 0; chain->volumes[i] != NULL; i++) {
                g_autofree char *path = g_strconcat(ROOT_PATH "/volumes/", chain->volumes[i], NULL);

                if (object_exists(path))
                        assert_ok(zuma_bus_manager_call_forget_volume_sync(
                                m, chain->volumes[i], opts("{'force': <true>}"), NULL, &error_));
        }
        if (chain->fresh_devices)
                chain->fresh_devices();
        /* No signal of the forgotten volumes may answer a step's wait. */
        drain_signals();
        chain->done = 0;
}

/* Brings chain to just after step `upto` (or, for any_later, at least). */
static void chain_prepare(Chain *chain, guint upto, gboolean any_later)
{
        if (any_later && chain->done >= upto)
                return;
        if (chain->done > upto)
                chain_reset(chain);
        /* A chain's steps are listed in their order. */
        for (guint i = 0; i < G_N_ELEMENTS(cases) && chain->done < upto; i++) {
                if (cases[i].chain != chain || cases[i].any_later ||
                    cases[i].step != chain->done + 1)
                        continue;
                g_test_message("setup: %s", cases[i].path);
                cases[i].func();
                chain->done = cases[i].step;
        }
        g_assert_cmpuint(chain->done, ==, upto);
}

static void run_case(gconstpointer data)
{
        const Case *c = data;

        if (c->chain == NULL) {
                c->func();
                return;
        }
        chain_prepare(c->chain, c->any_later ? c->step : c->step - 1, c->any_later);
        c->func();
        if (c->dirties)
                c->chain->done = DIRTY;
        else if (!c->any_later)
                c->chain->done = c->step;
}

/* The order of the cases: as written, or shuffled with the seed in
 * ZUMA_TEST_SHUFFLE_SEED ("random" or empty picks one), printed so that a
 * failing order can be run again. */
static void add_cases(void)
{
        const char *seed_text = g_getenv("ZUMA_TEST_SHUFFLE_SEED");
        guint order[G_N_ELEMENTS(cases)];

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
                order[i] = i;
        if (seed_text != NULL) {
                guint32 seed = (guint32)g_random_int();
                g_autoptr(GRand) rand = NULL;

                if (seed_text[0] != '\0' && !g_str_equal(seed_text, "random")) {
                        guint64 value = 0;
                        g_autoptr(GError) error = NULL;

                        if (!g_ascii_string_to_unsigned(seed_text, 10, 0, G_MAXUINT32, &value,
                                                        &error))
                                g_error("ZUMA_TEST_SHUFFLE_SEED: %s", error->message);
                        seed = (guint32)value;
                }
                rand = g_rand_new_with_seed(seed);
                for (guint i = G_N_ELEMENTS(cases) - 1; i > 0; i--) {
                        guint j = (guint)g_rand_int_range(rand, 0, (gint32)i + 1);
                        guint swap = order[i];

                        order[i] = order[j];
                        order[j] = swap;
                }
                g_print("# shuffled: ZUMA_TEST_SHUFFLE_SEED=%u\n", seed);
                for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
                        g_print("#   %s\n", cases[order[i]].path);
        }
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
                g_test_add_data_func(cases[order[i]].path, &cases[order[i]], run_case);
}

int main(int argc, char **argv)
{
        g_autofree char *frontend = NULL;
        int status;

        if (argc == 2 && g_str_equal(argv[1], "--unprivileged"))
                return unprivileged_main();
        g_test_init(&argc, &argv, NULL);
        if (!g_getenv("ZUMA_TEST_HARNESS") || !g_getenv("ZUMA_TEST_DIR")) {
                g_printerr("run me through test-snapshotd.sh\n");
                return 77;
        }
        test_bus_init();
        frontend = prop_s(MANAGER_PATH, IFACE_MANAGER, "Frontend");
        T.fuse = g_str_equal(frontend, "fuse");
        good_fresh_devices();
        add_cases();
        status = g_test_run();

        test_bus_fini();
        g_free(T.origin);
        g_free(T.store);
        g_free(T.spare_origin);
        g_free(T.spare_store);
        g_free(T.vol_path);
        return status;
}
