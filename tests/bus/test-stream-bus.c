/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replication streams through zuma-snapshotd's bus face: SendStream and
 * ReceiveStream with their file descriptors in the call's UnixFDList,
 * GetReceiveResumePoint and GetSnapshotDigest, between two volumes of one
 * server (an "upstream" and its replica, defined with the upstream's
 * UUID).  What the stream itself guarantees is tests/test-stream.c's and
 * tests/snapshotd/test-volume-stream.c's; this checks the bus half: fds
 * passed right, bad handles and options refused, jobs that end as the
 * stream does, the replica's snapshot and data.
 *
 * Run by test-snapshotd.sh (a private bus and a server of its own).
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>

#include "bus-test-util.h"

#define MIB (1024 * 1024)

static struct {
        char *up_path, *down_path;
} T;

/* Volume.METHOD(args..., fds) with the fds in the message's list. */
static GVariant *call_with_fds(const char *path, const char *method, GVariant *args, const int *fds,
                               guint n_fds, GError **error)
{
        g_autoptr(ZumaBusVolume) v = volume(path);
        GDBusConnection *bus = g_dbus_proxy_get_connection(G_DBUS_PROXY(v));
        g_autoptr(GUnixFDList) list = g_unix_fd_list_new();

        for (guint i = 0; i < n_fds; i++)
                g_assert_cmpint(g_unix_fd_list_append(list, fds[i], NULL), ==, (gint)i);
        return g_dbus_connection_call_with_unix_fd_list_sync(
                bus, BUS_NAME, path, IFACE_VOLUME, method, args, NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                list, NULL, NULL, error);
}

static char *send_stream(const char *from, const char *to, int fd, const char *options,
                         GError **error)
{
        g_autoptr(GVariant) reply = call_with_fds(
                T.up_path, "SendStream", g_variant_new("(ssh@a{sv})", from, to, 0, opts(options)),
                &fd, 1, error);
        char *job = NULL;

        if (reply)
                g_variant_get(reply, "(o)", &job);
        return job;
}

static char *receive_stream(int fd, const char *options, GError **error)
{
        g_autoptr(GVariant) reply =
                call_with_fds(T.down_path, "ReceiveStream",
                              g_variant_new("(h@a{sv})", 0, opts(options)), &fd, 1, error);
        char *job = NULL;

        if (reply)
                g_variant_get(reply, "(o)", &job);
        return job;
}

/* A new file under the test directory, open for reading and writing. */
static int stream_file(const char *name)
{
        g_autofree char *path = g_build_filename(g_getenv("ZUMA_TEST_DIR"), name, NULL);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        g_assert_cmpint(fd, >=, 0);
        return fd;
}

static int reopen_for_reading(int fd)
{
        g_autofree char *proc = g_strdup_printf("/proc/self/fd/%d", fd);
        int rfd = open(proc, O_RDONLY | O_CLOEXEC);

        g_assert_cmpint(rfd, >=, 0);
        return rfd;
}

/* The snapshot's digest, waiting for the digest job when it is not known. */
static char *digest_of(const char *vol_path, const char *name)
{
        for (guint round = 0; round < 2; round++) {
                g_autoptr(ZumaBusVolume) v = volume(vol_path);
                g_autofree char *digest = NULL, *job_path = NULL;
                gboolean known = FALSE;

                assert_ok(zuma_bus_volume_call_get_snapshot_digest_sync(
                        v, name, NO_OPTS, &known, &digest, &job_path, NULL, &error_));
                if (known) {
                        g_assert_cmpstr(job_path, ==, "/");
                        g_assert_cmpuint(strlen(digest), ==, 32);
                        return g_steal_pointer(&digest);
                }
                g_assert_cmpstr(digest, ==, "");
                wait_job(job_path, "");
        }
        g_error("%s: the digest of %s is still unknown after its job", vol_path, name);
}

static void assert_snapshot_count(const char *vol_path, guint32 want)
{
        g_assert_cmpuint(prop_u(vol_path, IFACE_VOLUME, "SnapshotCount"), ==, want);
}

/* Upstream: two snapshots with different data, and their streams (a
 * full one of s1, an incremental s1..s2) in files.  Then the upstream is
 * forgotten (the server refuses two volumes with one UUID) and a replica
 * takes its UUID on devices of its own, for the receive half. */
static void test_stream_bus(void)
{
        g_autofree char *up_origin = loop_device("up-origin", "32M");
        g_autofree char *up_store = loop_device("up-store", "32M");
        g_autofree char *down_origin = loop_device("down-origin", "32M");
        g_autofree char *down_store = loop_device("down-store", "32M");
        g_autofree char *uuid = NULL, *options = NULL, *up_device = NULL;
        g_autofree char *job_path = NULL, *s1 = NULL, *s2 = NULL;
        g_autofree char *up_digest1 = NULL, *up_digest2 = NULL;
        g_autofree char *down_digest1 = NULL, *down_digest2 = NULL;
        g_autofree char *replica_s2 = NULL, *device = NULL;
        g_autoptr(ZumaBusManager) m = manager();
        int full = stream_file("full.zstream"), incremental = stream_file("incr.zstream");
        int garbage = stream_file("garbage.zstream");
        gboolean resumable = TRUE;
        guint64 resume_after = 1;

        T.up_path = define("upstream", up_origin, up_store, "{'initialize': <true>}", NULL);
        uuid = prop_s(T.up_path, IFACE_VOLUME, "Uuid");
        g_assert_cmpuint(strlen(uuid), ==, 36);
        /* A UUID is one volume's on a server; the option is checked. */
        options = g_strdup_printf("{'initialize': <true>, 'uuid': <'%s'>}", uuid);
        assert_fails_mentioning("AlreadyExists", "upstream",
                                define_fails("replica", down_origin, down_store, options, &error_));
        assert_fails_mentioning("InvalidArgument", "not a UUID",
                                define_fails("replica", down_origin, down_store,
                                             "{'initialize': <true>, 'uuid': <'nope'>}", &error_));
        assert_fails_mentioning("InvalidArgument", "initialize",
                                define_fails("replica", down_origin, down_store,
                                             "{'uuid': <'00000000-0000-0000-0000-000000000001'>}",
                                             &error_));

        up_device = prop_s(T.up_path, IFACE_VOLUME, "Device");
        write_device(up_device, 0, MIB, 0x11);
        write_device(up_device, 8 * MIB, 256 * 1024, 0x22);
        s1 = create_snapshot(T.up_path, "s1", "{}");
        write_device(up_device, 8 * MIB, 64 * 1024, 0x33);
        write_device(up_device, 20 * MIB, 64 * 1024, 0x44);
        s2 = create_snapshot(T.up_path, "s2", "{}");

        /* Bad handles and options are refused before anything runs. */
        assert_fails_mentioning("InvalidArgument", "handle",
                                call_with_fds(T.up_path, "SendStream",
                                              g_variant_new("(ssh@a{sv})", "", "s1", 3, NO_OPTS),
                                              &full, 1, &error_) != NULL);
        assert_fails_mentioning("InvalidArgument", "compress",
                                send_stream("", "s1", full, "{'compress': <25>}", &error_) != NULL);
        assert_fails("NotFound", send_stream("", "nope", full, "{}", &error_) != NULL);
        assert_fails("InvalidArgument", send_stream("s2", "s1", full, "{}", &error_) != NULL);

        assert_ok((job_path = send_stream("", "s1", full, "{'compress': <3>}", &error_)) != NULL);
        wait_job(job_path, "");
        g_clear_pointer(&job_path, g_free);
        assert_ok((job_path = send_stream("s1", "s2", incremental, "{}", &error_)) != NULL);
        wait_job(job_path, "");
        /* Progress is exact: the 8 chunks of 16 KiB written after s1. */
        g_assert_cmpuint(prop_t(job_path, IFACE_JOB, "Total"), ==, 8 * 16384);
        g_assert_cmpuint(prop_t(job_path, IFACE_JOB, "Done"), ==, 8 * 16384);
        /* A send leaves both digests known. */
        up_digest1 = digest_of(T.up_path, "s1");
        up_digest2 = digest_of(T.up_path, "s2");
        g_assert_cmpstr(up_digest1, !=, up_digest2);
        g_assert_cmpint(write(garbage, "not a stream at all", 19), ==, 19);

        assert_ok(zuma_bus_manager_call_forget_volume_sync(m, "upstream", opts("{'force': <true>}"),
                                                           NULL, &error_));
        T.down_path = define("replica", down_origin, down_store, options, NULL);
        assert_prop_s(T.down_path, IFACE_VOLUME, "Uuid", uuid);

        /* Nothing durable yet: a sender starts from scratch. */
        assert_ok(zuma_bus_volume_call_get_receive_resume_point_sync(volume(T.down_path), "s1", 0,
                                                                     "", NO_OPTS, &resumable,
                                                                     &resume_after, NULL, &error_));
        g_assert_false(resumable);
        g_assert_cmpuint(resume_after, ==, 0);

        /* Garbage, and an incremental stream before its base: jobs that
         * fail naming why, and no snapshot. */
        {
                int rfd = reopen_for_reading(garbage);

                g_clear_pointer(&job_path, g_free);
                assert_ok((job_path = receive_stream(rfd, "{}", &error_)) != NULL);
                close(rfd);
                wait_job(job_path, "org.zumastor.Zumastor1.Error.Corrupt");
                assert_snapshot_count(T.down_path, 0);
        }
        {
                int rfd = reopen_for_reading(incremental);

                g_clear_pointer(&job_path, g_free);
                assert_ok((job_path = receive_stream(rfd, "{}", &error_)) != NULL);
                close(rfd);
                wait_job(job_path, "org.zumastor.Zumastor1.Error.NotFound");
                assert_snapshot_count(T.down_path, 0);
        }
        /* The full stream, then the incremental one. */
        for (guint i = 0; i < 2; i++) {
                int rfd = reopen_for_reading(i == 0 ? full : incremental);

                g_clear_pointer(&job_path, g_free);
                assert_ok((job_path = receive_stream(rfd, "{}", &error_)) != NULL);
                close(rfd);
                wait_job(job_path, "");
                assert_snapshot_count(T.down_path, i + 1);
        }
        down_digest1 = digest_of(T.down_path, "s1");
        down_digest2 = digest_of(T.down_path, "s2");
        g_assert_cmpstr(down_digest1, ==, up_digest1);
        g_assert_cmpstr(down_digest2, ==, up_digest2);
        /* The same stream again: its snapshot exists already. */
        {
                int rfd = reopen_for_reading(incremental);

                g_clear_pointer(&job_path, g_free);
                assert_ok((job_path = receive_stream(rfd, "{}", &error_)) != NULL);
                close(rfd);
                wait_job(job_path, "org.zumastor.Zumastor1.Error.AlreadyExists");
                assert_snapshot_count(T.down_path, 2);
        }

        /* The replica's s2 holds the upstream's s2. */
        assert_ok(zuma_bus_volume_call_find_snapshot_sync(volume(T.down_path), "s2", NO_OPTS,
                                                          &replica_s2, NULL, &error_));
        assert_ok(zuma_bus_snapshot_call_attach_sync(snapshot(replica_s2), NO_OPTS, &device, NULL,
                                                     &error_));
        g_assert_true(device_holds(device, 0, MIB, 0x11));
        g_assert_true(device_holds(device, 8 * MIB, 64 * 1024, 0x33));
        g_assert_true(device_holds(device, 8 * MIB + 64 * 1024, 192 * 1024, 0x22));
        g_assert_true(device_holds(device, 20 * MIB, 64 * 1024, 0x44));
        g_assert_true(device_holds(device, 4 * MIB, 64 * 1024, 0));

        close(full);
        close(incremental);
        close(garbage);
}

int main(int argc, char **argv)
{
        int status;

        g_test_init(&argc, &argv, NULL);
        if (!g_getenv("ZUMA_TEST_HARNESS") || !g_getenv("ZUMA_TEST_DIR")) {
                g_printerr("run me through test-snapshotd.sh\n");
                return 77;
        }
        test_bus_init();
        g_test_add_func("/bus/stream/send-receive", test_stream_bus);
        status = g_test_run();
        test_bus_fini();
        return status;
}
