/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test-frontend: zuma-snapshotd's data frontend without the bus.
 *
 * Each test makes a sparse origin and store under /var/tmp, initializes and
 * opens an engine on them, starts a frontend with its run directory in the
 * same temporary directory, and then works through real loop devices: data
 * written to the origin device must read back, a snapshot must keep the old
 * data while the origin is overwritten, ext4 must build and check on the
 * devices, a mounted device must be busy, writable and read-only snapshots
 * must behave, discard and write-zeroes must zero through the copy-out path,
 * snapshot reads served without the engine lock must stay exact while the
 * origin is overwritten and snapshots come and go,
 * udev must name the devices (when udevd can run), and a killed server's
 * leftovers must be cleaned up by its successor.
 *
 * Needs root and /dev/fuse; exits 77 (skipped) without them.  Random data
 * comes from a seed that is printed and can be given as ZUMA_TEST_SEED.
 * ZUMA_UDEV_PROBE and ZUMA_UDEV_RULES (set by meson) name the build-tree
 * probe and rules.
 */
#define G_LOG_DOMAIN "test-frontend"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "zuma-engine.h"
#include "zuma-error.h"
#include "zuma-frontend.h"

#define MiB (1024u * 1024u)
#define ORIGIN_SIZE (64 * MiB)
#define STORE_SIZE (192 * MiB)
#define VOLUME "vol"
#define VOLUME_UUID "0f0e0d0c-0b0a-0908-0706-050403020100"
#define DEADLINE_US (15 * G_USEC_PER_SEC)
#define RULES_INSTALLED "/run/udev/rules.d/60-zumastor-test-frontend.rules"

static guint32 seed;
static GRand *rng;

typedef struct Fixture {
        char *dir;
        char *run_dir;
        char *origin_path;
        char *store_path;
        char *mnt;
        ZumaEngine *engine;
        ZumaFrontend *frontend;
        guint8 *origin_model; /* what the origin must hold */
        GPid udevd_started;   /* a udevd this test started, to stop */
        gboolean rules_installed;
} Fixture;

/* ---- helpers ---- */

static void *aligned_buffer(size_t length)
{
        void *buf = NULL;

        g_assert_cmpint(posix_memalign(&buf, 4096, length), ==, 0);
        return buf;
}

static void fill_random(guint8 *buf, size_t length)
{
        for (size_t i = 0; i < length; i += 4) {
                guint32 v = g_rand_int(rng);

                memcpy(buf + i, &v, MIN(4, length - i));
        }
}

static void create_sparse(const char *path, guint64 size)
{
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
        close(fd);
}

/* Whole-range I/O with O_DIRECT, as a file system above the device does. */
static void device_write(const char *device, const guint8 *data, guint64 offset, size_t length)
{
        guint8 *buf = aligned_buffer(length);
        int fd = open(device, O_WRONLY | O_DIRECT | O_CLOEXEC);
        gssize n;

        g_assert_cmpint(fd, >=, 0);
        memcpy(buf, data, length);
        n = pwrite(fd, buf, length, (off_t)offset);
        if (n != (gssize)length)
                g_error("%s: writing %zu bytes at %" G_GUINT64_FORMAT " returned %zd: %s", device,
                        length, offset, n, n < 0 ? g_strerror(errno) : "short write");
        g_assert_cmpint(fsync(fd), ==, 0);
        close(fd);
        free(buf);
}

static guint8 *device_read(const char *device, guint64 offset, size_t length)
{
        guint8 *buf = aligned_buffer(length);
        int fd = open(device, O_RDONLY | O_DIRECT | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pread(fd, buf, length, (off_t)offset), ==, (gssize)length);
        close(fd);
        return buf;
}

static void assert_same(const guint8 *got, const guint8 *want, size_t length, const char *what)
{
        for (size_t i = 0; i < length; i++) {
                if (got[i] != want[i])
                        g_error("%s: first difference at byte %zu (got 0x%02x, want 0x%02x); "
                                "seed %u",
                                what, i, got[i], want[i], seed);
        }
}

static void assert_device_holds(const char *device, const guint8 *model, guint64 offset,
                                size_t length, const char *what)
{
        guint8 *got = device_read(device, offset, length);

        assert_same(got, model + offset, length, what);
        free(got);
}

/* Runs a command; returns its exit status, logging its output on failure. */
static int run(const char *const *argv)
{
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *line = g_strjoinv(" ", (char **)argv);
        int status;

        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                          &status, &error)) {
                g_test_message("%s: %s", line, error->message);
                return -1;
        }
        if (!g_spawn_check_wait_status(status, NULL)) {
                g_test_message("%s failed:\n%s%s", line, out, err);
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        return 0;
}

static char *run_output(const char *const *argv)
{
        char *out = NULL;
        int status;

        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                          &status, NULL) ||
            !g_spawn_check_wait_status(status, NULL)) {
                g_free(out);
                return NULL;
        }
        return out;
}

static char *image_file(Fixture *f, const char *name)
{
        return g_build_filename(f->run_dir, "fuse", VOLUME, name, NULL);
}

static char *id_file(Fixture *f, guint32 id)
{
        g_autofree char *name = g_strdup_printf("%u", id);

        return image_file(f, name);
}

static guint32 create_snapshot(Fixture *f, const char *name, guint32 flags)
{
        SsSnapshotInfo info;
        int r;

        r = zuma_engine_snapshot_create(f->engine, name, flags, 0, &info);
        if (r < 0)
                g_error("snapshot %s: %s (%s)", name, g_strerror(-r), ss_last_error());
        return info.id;
}

static char *attach(Fixture *f, guint32 id, const char *name, gboolean writable)
{
        g_autoptr(GError) error = NULL;
        char *device = NULL;

        g_assert_true(
                zuma_frontend_attach(f->frontend, VOLUME, id, name, writable, &device, &error));
        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(device, "/dev/loop"));
        return device;
}

static void detach(Fixture *f, guint32 id)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(zuma_frontend_detach(f->frontend, VOLUME, id, FALSE, &error));
        g_assert_no_error(error);
}

static char *backing_file_of(const char *device)
{
        g_autofree char *sys =
                g_strdup_printf("/sys/block/%s/loop/backing_file", device + strlen("/dev/"));
        char *contents = NULL;

        if (!g_file_get_contents(sys, &contents, NULL, NULL))
                return NULL;
        return g_strchomp(contents);
}

/* The device lets go of its file (possibly after udevd closed it). */
static void wait_cleared(const char *device, const char *old_backing_file)
{
        gint64 deadline = g_get_monotonic_time() + DEADLINE_US;

        for (;;) {
                g_autofree char *backing = backing_file_of(device);

                if (!backing || g_strcmp0(backing, old_backing_file) != 0)
                        return;
                if (g_get_monotonic_time() > deadline)
                        g_error("%s still attached to %s", device, backing);
                g_usleep(20000);
        }
}

/* ---- fixture ---- */

/* The files go under base: /var/tmp unless a test asks for another. */
static void fixture_files(Fixture *f, const char *base)
{
        GError *error = NULL;

        f->dir = g_build_filename(base ? base : "/var/tmp", "zuma-frontend-XXXXXX", NULL);
        g_assert_nonnull(g_mkdtemp(f->dir));
        f->run_dir = g_build_filename(f->dir, "run", NULL);
        f->origin_path = g_build_filename(f->dir, "origin.img", NULL);
        f->store_path = g_build_filename(f->dir, "store.img", NULL);
        f->mnt = g_build_filename(f->dir, "mnt", NULL);
        g_assert_cmpint(mkdir(f->mnt, 0755), ==, 0);
        create_sparse(f->origin_path, ORIGIN_SIZE);
        create_sparse(f->store_path, STORE_SIZE);
        g_assert_true(zuma_engine_initialize(
                f->origin_path, f->store_path,
                &(SsCreateOptions){ .volume_name = VOLUME, .chunk_size = 16384 }, &error));
        g_assert_no_error(error);
        f->origin_model = g_malloc0(ORIGIN_SIZE);
}

/* ---- failing without hanging ----
 *
 * This process is both the FUSE server and, through the loop devices, a
 * client of itself.  A failed assertion aborts it while another of its
 * threads waits in the block layer for a loop request that waits for this
 * very server: the process can never finish exiting.  So SIGABRT first
 * aborts the FUSE connection (fusectl), which fails those requests. */

#define FUSECTL_DIR "/sys/fs/fuse/connections"

static char fuse_abort_path[64]; /* the current frontend's, or "" */
static gboolean fusectl_mounted_here;

static void abort_fuse_connection(int sig)
{
        int fd = fuse_abort_path[0] ? open(fuse_abort_path, O_WRONLY | O_CLOEXEC) : -1;

        if (fd >= 0) {
                if (write(fd, "1", 1) < 0) {
                        /* nothing more to try from a signal handler */
                }
                close(fd);
        }
        signal(sig, SIG_DFL);
        raise(sig);
}

static void fusectl_unmount(void)
{
        if (fusectl_mounted_here)
                umount2(FUSECTL_DIR, MNT_DETACH);
}

/* fusectl mounted (by us if it was not) and the SIGABRT handler set. */
static void fuse_abort_guard_install(void)
{
        struct sigaction sa = { .sa_handler = abort_fuse_connection };

        if (mount("fusectl", FUSECTL_DIR, "fusectl", 0, NULL) == 0) {
                fusectl_mounted_here = TRUE;
                atexit(fusectl_unmount);
        } else if (errno != EBUSY) {
                g_test_message("fusectl is not available (%s): a failed check may hang",
                               g_strerror(errno));
        }
        sigaction(SIGABRT, &sa, NULL);
}

/* Points the guard at the frontend mounted on mount_dir. */
static void fuse_abort_guard_arm(const char *mount_dir)
{
        struct stat st;

        fuse_abort_path[0] = '\0';
        if (stat(mount_dir, &st) == 0)
                snprintf(fuse_abort_path, sizeof(fuse_abort_path), FUSECTL_DIR "/%u/abort",
                         minor(st.st_dev));
}

static void fixture_start(Fixture *f)
{
        GError *error = NULL;
        g_autofree char *mount_dir = g_build_filename(f->run_dir, "fuse", NULL);

        f->engine = zuma_engine_open(f->origin_path, f->store_path, NULL, NULL, &error);
        g_assert_no_error(error);
        f->frontend = zuma_frontend_new(f->run_dir, &error);
        g_assert_no_error(error);
        fuse_abort_guard_arm(mount_dir);
        g_assert_true(
                zuma_frontend_add_volume(f->frontend, VOLUME, VOLUME_UUID, f->engine, &error));
        g_assert_no_error(error);
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
        fixture_files(f, data);
        fixture_start(f);
}

static void udev_cleanup(Fixture *f);

static void fixture_teardown(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        const char *const rm[] = { "rm", "-rf", "--one-file-system", f->dir, NULL };

        umount2(f->mnt, MNT_DETACH);
        zuma_frontend_free(f->frontend);
        if (f->engine) {
                g_assert_true(zuma_engine_close(f->engine, &error));
                g_assert_no_error(error);
        }
        udev_cleanup(f);
        g_assert_cmpint(run(rm), ==, 0);
        g_free(f->origin_model);
        g_free(f->dir);
        g_free(f->run_dir);
        g_free(f->origin_path);
        g_free(f->store_path);
        g_free(f->mnt);
}

/* ---- data path ---- */

static void check_probe(const char *device, const char *want_snapshot, guint32 want_id)
{
        const char *probe = g_getenv("ZUMA_UDEV_PROBE");
        const char *argv[] = { probe, device + strlen("/dev/"), NULL };
        g_autofree char *out = NULL;
        g_autofree char *want = NULL;

        if (!probe) {
                g_test_message("ZUMA_UDEV_PROBE not set: probe not checked");
                return;
        }
        out = run_output(argv);
        g_assert_nonnull(out);
        /* No empty ZUMASTOR_SNAPSHOT= for the origin: udev rejects the line. */
        want = g_strdup_printf("ZUMASTOR_VOLUME=" VOLUME "\nZUMASTOR_VOLUME_UUID=" VOLUME_UUID
                               "\n%s%s%sZUMASTOR_SNAPSHOT_ID=%u\n",
                               *want_snapshot ? "ZUMASTOR_SNAPSHOT=" : "", want_snapshot,
                               *want_snapshot ? "\n" : "", want_id);
        g_assert_cmpstr(out, ==, want);
}

static void test_data_path(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dev0 = attach(f, 0, NULL, TRUE);
        g_autofree char *again = attach(f, 0, NULL, TRUE);
        g_autofree char *origin_file = image_file(f, "origin");
        g_autofree char *snap_file = NULL, *dev1 = NULL, *backing0 = NULL, *backing1 = NULL;
        g_autofree guint8 *snap_model = NULL;
        guint8 *chunk = g_malloc(8 * MiB);
        guint8 small[4096], value[128];
        guint32 id;
        ssize_t n;
        int fd;

        g_assert_cmpstr(dev0, ==, again);
        backing0 = backing_file_of(dev0);
        g_assert_cmpstr(backing0, ==, origin_file);
        check_probe(dev0, "", 0);

        /* Origin writes read back. */
        fill_random(f->origin_model, 8 * MiB);
        device_write(dev0, f->origin_model, 0, 8 * MiB);
        fill_random(f->origin_model + 40 * MiB, MiB);
        device_write(dev0, f->origin_model + 40 * MiB, 40 * MiB, MiB);
        assert_device_holds(dev0, f->origin_model, 0, ORIGIN_SIZE, "origin after writes");

        /* A snapshot keeps the data of its moment. */
        id = create_snapshot(f, "snap1", 0);
        snap_model = g_memdup2(f->origin_model, ORIGIN_SIZE);
        dev1 = attach(f, id, "snap1", FALSE);
        snap_file = id_file(f, id);
        backing1 = backing_file_of(dev1);
        g_assert_cmpstr(backing1, ==, snap_file);
        check_probe(dev1, "snap1", id);
        assert_device_holds(dev1, snap_model, 0, ORIGIN_SIZE, "fresh snapshot");

        fill_random(chunk, 8 * MiB);
        memcpy(f->origin_model + 4 * MiB, chunk, 8 * MiB);
        device_write(dev0, chunk, 4 * MiB, 8 * MiB);
        assert_device_holds(dev0, f->origin_model, 0, ORIGIN_SIZE, "origin after overwrite");
        assert_device_holds(dev1, snap_model, 0, ORIGIN_SIZE, "snapshot after overwrite");

        /* Unaligned requests through the files themselves. */
        fd = open(origin_file, O_RDWR | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        n = pread(fd, small, 1000, 4 * MiB - 300);
        g_assert_cmpint(n, ==, 1000);
        assert_same(small, f->origin_model + 4 * MiB - 300, 1000, "unaligned origin read");
        fill_random(small, 777);
        g_assert_cmpint(pwrite(fd, small, 777, 12345), ==, 777);
        memcpy(f->origin_model + 12345, small, 777);
        fill_random(small, 100);
        g_assert_cmpint(pwrite(fd, small, 100, 20000), ==, 100); /* inside one sector */
        memcpy(f->origin_model + 20000, small, 100);
        g_assert_cmpint(pwrite(fd, small, 100, ORIGIN_SIZE - 50), ==, -1);
        g_assert_cmpint(errno, ==, ENOSPC);
        g_assert_cmpint(fsync(fd), ==, 0);
        close(fd);
        assert_device_holds(dev0, f->origin_model, 0, 64 * 1024, "origin after unaligned writes");
        assert_device_holds(dev1, snap_model, 0, 64 * 1024, "snapshot after unaligned writes");

        fd = open(snap_file, O_RDWR | O_CLOEXEC);
        g_assert_cmpint(fd, ==, -1);
        g_assert_cmpint(errno, ==, EROFS);
        fd = open(snap_file, O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pread(fd, small, 513, 511), ==, 513);
        assert_same(small, snap_model + 511, 513, "unaligned snapshot read");
        g_assert_cmpint(pread(fd, small, 4096, ORIGIN_SIZE - 1000), ==, 1000);
        g_assert_cmpint(pread(fd, small, 4096, ORIGIN_SIZE), ==, 0);
        close(fd);

        /* What udev's probe reads, and the directory listing. */
        n = getxattr(snap_file, "user.zumastor.snapshot", value, sizeof(value));
        g_assert_cmpint(n, ==, 5);
        g_assert_cmpmem(value, 5, "snap1", 5);
        g_assert_true(zuma_frontend_update(f->frontend, VOLUME, id, "renamed", FALSE, &error));
        g_assert_no_error(error);
        check_probe(dev1, "renamed", id);
        {
                g_autofree char *vol_dir = g_build_filename(f->run_dir, "fuse", VOLUME, NULL);
                g_autoptr(GDir) listing = g_dir_open(vol_dir, 0, &error);
                g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
                const char *name;

                g_assert_no_error(error);
                while ((name = g_dir_read_name(listing)))
                        g_ptr_array_add(names, g_strdup(name));
                g_assert_cmpuint(names->len, ==, 2);
                g_assert_true(g_ptr_array_find_with_equal_func(names, "origin", g_str_equal, NULL));
                g_assert_true(g_ptr_array_find_with_equal_func(names, "1", g_str_equal, NULL));
        }

        /* Removal waits for the images to be detached. */
        g_assert_false(zuma_frontend_remove_volume(f->frontend, VOLUME, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY);
        g_clear_error(&error);
        detach(f, 0);
        detach(f, id);
        detach(f, id); /* not attached: fine */
        wait_cleared(dev0, backing0);
        wait_cleared(dev1, backing1);
        g_assert_true(g_file_test(snap_file, G_FILE_TEST_EXISTS)); /* still served */
        g_assert_true(zuma_frontend_remove_volume(f->frontend, VOLUME, &error));
        g_assert_no_error(error);
        g_assert_false(g_file_test(origin_file, G_FILE_TEST_EXISTS));
        g_free(chunk);
}

/* ---- ext4, busy, forced detach ---- */

static void write_file(const char *path, const guint8 *data, size_t length)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(write(fd, data, length), ==, (gssize)length);
        g_assert_cmpint(fsync(fd), ==, 0);
        close(fd);
}

static void check_file(const char *path, const guint8 *data, size_t length)
{
        g_autofree char *contents = NULL;
        gsize got = 0;
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_get_contents(path, &contents, &got, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(got, ==, length);
        assert_same((const guint8 *)contents, data, length, path);
}

static void test_ext4(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dev0 = attach(f, 0, NULL, TRUE);
        g_autofree char *dev1 = NULL, *backing0 = backing_file_of(dev0), *hello = NULL;
        g_autofree char *again = NULL;
        const char *mkfs[] = { "mkfs.ext4", "-q", "-F", dev0, NULL };
        const char *fsck0[] = { "e2fsck", "-f", "-n", dev0, NULL };
        const char *fsck1[] = { "e2fsck", "-f", "-n", NULL, NULL };
        guint8 *old_data = g_malloc(MiB), *new_data = g_malloc(MiB);
        gboolean failed = FALSE;
        guint8 *super;
        guint32 id;
        int fd;

        hello = g_build_filename(f->mnt, "hello", NULL);
        fill_random(old_data, MiB);
        fill_random(new_data, MiB);
        g_assert_cmpint(run(mkfs), ==, 0);
        g_assert_cmpint(run(fsck0), ==, 0);

        g_assert_cmpint(mount(dev0, f->mnt, "ext4", 0, NULL), ==, 0);
        write_file(hello, old_data, MiB);
        g_assert_true(zuma_frontend_is_busy(f->frontend, VOLUME, 0));
        g_assert_false(zuma_frontend_detach(f->frontend, VOLUME, 0, FALSE, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY);
        g_clear_error(&error);
        g_assert_false(zuma_frontend_remove_volume(f->frontend, VOLUME, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY);
        g_clear_error(&error);
        g_assert_cmpint(umount2(f->mnt, 0), ==, 0);
        g_assert_false(zuma_frontend_is_busy(f->frontend, VOLUME, 0));

        /* A snapshot of the file system checks clean and keeps the file. */
        id = create_snapshot(f, "fs1", 0);
        dev1 = attach(f, id, NULL, FALSE);
        fsck1[3] = dev1;
        g_assert_cmpint(run(fsck1), ==, 0);
        g_assert_cmpint(mount(dev0, f->mnt, "ext4", 0, NULL), ==, 0);
        write_file(hello, new_data, MiB);
        g_assert_cmpint(umount2(f->mnt, 0), ==, 0);
        g_assert_cmpint(run(fsck0), ==, 0);
        g_assert_cmpint(run(fsck1), ==, 0);
        g_assert_cmpint(mount(dev1, f->mnt, "ext4", MS_RDONLY, "noload"), ==, 0);
        g_assert_true(zuma_frontend_is_busy(f->frontend, VOLUME, id));
        check_file(hello, old_data, MiB);
        g_assert_cmpint(umount2(f->mnt, 0), ==, 0);
        g_assert_cmpint(mount(dev0, f->mnt, "ext4", 0, NULL), ==, 0);
        check_file(hello, new_data, MiB);

        /* Forced detach under a mounted file system: its I/O fails, the
         * device goes when the file system is unmounted. */
        g_assert_true(zuma_frontend_detach(f->frontend, VOLUME, 0, TRUE, &error));
        g_assert_no_error(error);
        g_assert_false(zuma_frontend_is_busy(f->frontend, VOLUME, 0));
        {
                g_autofree char *other = g_build_filename(f->mnt, "after-detach", NULL);

                fd = open(other, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, new_data, MiB) != (gssize)MiB || fsync(fd) < 0)
                        failed = TRUE;
                if (fd >= 0)
                        close(fd);
        }
        g_assert_true(failed);
        if (umount2(f->mnt, 0) < 0)
                g_assert_cmpint(umount2(f->mnt, MNT_DETACH), ==, 0);
        wait_cleared(dev0, backing0);

        /* A new attachment works again. */
        again = attach(f, 0, NULL, TRUE);
        super = device_read(again, 1024, 4096);
        g_assert_cmpuint(super[56] | super[57] << 8, ==, 0xef53); /* ext4 magic */
        free(super);
        detach(f, 0);
        detach(f, id);
        g_assert_true(zuma_frontend_remove_volume(f->frontend, VOLUME, &error));
        g_assert_no_error(error);
        g_free(old_data);
        g_free(new_data);
}

/* ---- writable and read-only snapshots ---- */

static void assert_write_refused(const char *device)
{
        int fd = open(device, O_WRONLY | O_CLOEXEC);
        int saved;

        if (fd >= 0) {
                char buf[512] = { 0 };
                ssize_t n = pwrite(fd, buf, sizeof(buf), 0);

                saved = errno;
                close(fd);
                g_assert_cmpint(n, ==, -1);
        } else {
                saved = errno;
        }
        if (saved != EROFS && saved != EPERM && saved != EACCES)
                g_error("%s: write refused with %s, want EROFS/EPERM/EACCES", device,
                        g_strerror(saved));
}

static void test_snapshot_modes(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dev0 = attach(f, 0, NULL, TRUE);
        g_autofree char *devw = NULL, *devr = NULL, *ro_file = NULL, *device = NULL;
        g_autofree guint8 *snap_model = NULL;
        guint32 ws, rs, rs2;
        int fd, ro = 0;

        fill_random(f->origin_model, 4 * MiB);
        device_write(dev0, f->origin_model, 0, 4 * MiB);
        ws = create_snapshot(f, "writable", SS_SNAP_WRITABLE);
        rs = create_snapshot(f, "readonly", 0);
        rs2 = create_snapshot(f, "readonly2", 0);
        snap_model = g_memdup2(f->origin_model, ORIGIN_SIZE);

        /* A writable snapshot takes writes; the origin does not see them. */
        devw = attach(f, ws, NULL, TRUE);
        fill_random(snap_model + MiB, MiB + 4096);
        device_write(devw, snap_model + MiB, MiB, MiB + 4096);
        assert_device_holds(devw, snap_model, 0, 8 * MiB, "writable snapshot");
        assert_device_holds(dev0, f->origin_model, 0, 8 * MiB, "origin beside it");

        /* A read-only one refuses them, at the device and at the file. */
        devr = attach(f, rs, "readonly", FALSE);
        assert_write_refused(devr);
        fd = open(devr, O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(ioctl(fd, BLKROGET, &ro), ==, 0);
        g_assert_cmpint(ro, ==, 1);
        close(fd);
        ro_file = id_file(f, rs);
        g_assert_cmpint(open(ro_file, O_WRONLY | O_CLOEXEC), ==, -1);
        g_assert_cmpint(errno, ==, EROFS);
        assert_device_holds(devr, f->origin_model, 0, 8 * MiB, "read-only snapshot");
        g_assert_false(zuma_frontend_attach(f->frontend, VOLUME, rs2, NULL, TRUE, &device, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_READ_ONLY);
        g_clear_error(&error);
        g_assert_false(
                zuma_frontend_attach(f->frontend, VOLUME, 999, NULL, FALSE, &device, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_false(
                zuma_frontend_attach(f->frontend, "nosuch", 0, NULL, FALSE, &device, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND);
        g_clear_error(&error);

        /* Made read-only while attached: writes stop. */
        g_assert_true(zuma_frontend_update(f->frontend, VOLUME, ws, "writable", FALSE, &error));
        g_assert_no_error(error);
        assert_write_refused(devw);
        assert_device_holds(devw, snap_model, 0, 8 * MiB, "writable snapshot made read-only");

        detach(f, 0);
        detach(f, ws);
        detach(f, rs);
}

/* ---- discard and write-zeroes ---- */

static void test_discard(Fixture *f, gconstpointer data)
{
        g_autofree char *dev0 = attach(f, 0, NULL, TRUE);
        g_autofree char *origin_file = image_file(f, "origin");
        g_autofree char *devs = NULL;
        g_autofree guint8 *snap_model = NULL;
        const char *discard[] = { "blkdiscard", "-o", "1048576", "-l", "2097152", dev0, NULL };
        const char *zeroout[] = {
                "blkdiscard", "-z", "-o", "5242880", "-l", "1048576", dev0, NULL
        };
        const char *punch[] = { "fallocate", "-p", "-o", "8000", "-l", "10000", origin_file, NULL };
        const char *zero_range[] = { "fallocate", "-z",   "-o",        "7340132",
                                     "-l",        "4096", origin_file, NULL };
        const char *grow[] = { "fallocate", "-o", "0", "-l", "128MiB", origin_file, NULL };
        guint32 id;

        fill_random(f->origin_model, 16 * MiB);
        device_write(dev0, f->origin_model, 0, 16 * MiB);
        id = create_snapshot(f, "before", 0);
        snap_model = g_memdup2(f->origin_model, ORIGIN_SIZE);
        devs = attach(f, id, NULL, FALSE);

        g_assert_cmpint(run(discard), ==, 0);
        memset(f->origin_model + MiB, 0, 2 * MiB);
        g_assert_cmpint(run(zeroout), ==, 0);
        memset(f->origin_model + 5 * MiB, 0, MiB);
        g_assert_cmpint(run(punch), ==, 0);
        memset(f->origin_model + 8000, 0, 10000);
        g_assert_cmpint(run(zero_range), ==, 0);
        memset(f->origin_model + 7340132, 0, 4096);
        g_assert_cmpint(run(grow), !=, 0); /* an image has a fixed size */

        assert_device_holds(dev0, f->origin_model, 0, 16 * MiB, "origin after discards");
        assert_device_holds(devs, snap_model, 0, 16 * MiB, "snapshot after discards");
        detach(f, 0);
        detach(f, id);
}

/* ---- snapshots under concurrent writers ---- */

#define WRITERS 4
#define WRITER_BLOCKS 512 /* 4 KiB blocks per writer: 2 MiB regions */
#define WRITER_PASSES 4
#define CONCURRENT_SNAPSHOTS 6

typedef struct Writer {
        const char *device;
        guint index;
        gint *completed; /* atomic, shared by all writers */
} Writer;

/* Every 32-bit word of a block names its writer, block and pass, so a torn
 * or misplaced block shows. */
static void fill_tagged(guint32 *block, guint writer, guint index, guint pass)
{
        guint32 tag = 0x5a000000u | writer << 20 | index << 4 | pass;

        for (guint i = 0; i < 4096 / 4; i++)
                block[i] = tag;
}

static gpointer writer_thread(gpointer data)
{
        Writer *w = data;
        guint32 *block = aligned_buffer(4096);
        int fd = open(w->device, O_WRONLY | O_DIRECT | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        for (guint pass = 1; pass <= WRITER_PASSES; pass++) {
                for (guint i = 0; i < WRITER_BLOCKS; i++) {
                        guint64 offset = ((guint64)w->index * WRITER_BLOCKS + i) * 4096;

                        fill_tagged(block, w->index, i, pass);
                        g_assert_cmpint(pwrite(fd, block, 4096, (off_t)offset), ==, 4096);
                        g_atomic_int_inc(w->completed);
                }
        }
        close(fd);
        free(block);
        return NULL;
}

/* The pass a block holds (0: never written), or -1 if it is torn. */
static int block_pass(const guint32 *block, guint writer, guint index)
{
        guint32 first = block[0];
        guint pass = first & 0xf;

        for (guint i = 1; i < 4096 / 4; i++)
                if (block[i] != first)
                        return -1;
        if (first == 0)
                return 0;
        if (first != (0x5a000000u | writer << 20 | index << 4 | pass))
                return -1;
        return (int)pass;
}

/* A snapshot taken while each writer rewrote its region block after block
 * must show, per region, passes that never rise along the region and span
 * at most two neighbouring values: what had been written when it was taken. */
static void check_snapshot_image(const char *device, guint32 id, gint min_writes, gint max_writes)
{
        guint8 *image = device_read(device, 0, (size_t)WRITERS * WRITER_BLOCKS * 4096);
        gint writes = 0;

        for (guint w = 0; w < WRITERS; w++) {
                int first = -1, previous = -1;

                for (guint i = 0; i < WRITER_BLOCKS; i++) {
                        const guint32 *block =
                                (const guint32 *)(image + ((gsize)w * WRITER_BLOCKS + i) * 4096);
                        int pass = block_pass(block, w, i);

                        if (pass < 0)
                                g_error("snapshot %u: writer %u block %u is torn or misplaced "
                                        "(0x%08x); seed %u",
                                        id, w, i, block[0], seed);
                        if (i == 0)
                                first = pass;
                        if ((previous >= 0 && pass > previous) || first - pass > 1)
                                g_error("snapshot %u: writer %u block %u holds pass %d after "
                                        "pass %d (region starts with %d)",
                                        id, w, i, pass, previous, first);
                        previous = pass;
                        writes += pass;
                }
        }
        /* Each completed write raised one block's pass by one. */
        if (writes < min_writes || writes > max_writes)
                g_error("snapshot %u holds %d writes, want %d..%d (taken while those "
                        "completed); seed %u",
                        id, writes, min_writes, max_writes, seed);
        free(image);
}

static void test_concurrent_snapshots(Fixture *f, gconstpointer data)
{
        g_autofree char *dev0 = attach(f, 0, NULL, TRUE);
        Writer writers[WRITERS];
        GThread *threads[WRITERS];
        guint32 ids[CONCURRENT_SNAPSHOTS];
        gint before[CONCURRENT_SNAPSHOTS], after[CONCURRENT_SNAPSHOTS];
        const gint total = WRITERS * WRITER_BLOCKS * WRITER_PASSES;
        gint completed = 0;
        gint64 deadline = g_get_monotonic_time() + 10 * DEADLINE_US;

        for (guint w = 0; w < WRITERS; w++) {
                writers[w] = (Writer){ .device = dev0, .index = w, .completed = &completed };
                threads[w] = g_thread_new("writer", writer_thread, &writers[w]);
        }
        /* Snapshots spread over the writing, each once a share of the
         * writes has completed (a bounded poll). */
        for (guint n = 0; n < CONCURRENT_SNAPSHOTS; n++) {
                g_autofree char *name = g_strdup_printf("during%u", n);
                gint due = total * (gint)(n + 1) / (CONCURRENT_SNAPSHOTS + 1);

                while (g_atomic_int_get(&completed) < due) {
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_usleep(1000);
                }
                before[n] = g_atomic_int_get(&completed);
                ids[n] = create_snapshot(f, name, 0);
                /* a write in flight per writer may land on either side */
                after[n] = g_atomic_int_get(&completed) + WRITERS;
        }
        for (guint w = 0; w < WRITERS; w++)
                g_thread_join(threads[w]);
        g_test_message("%d writes by %d threads, %d snapshots taken meanwhile", total, WRITERS,
                       CONCURRENT_SNAPSHOTS);

        for (guint n = 0; n < CONCURRENT_SNAPSHOTS; n++) {
                g_autofree char *device = attach(f, ids[n], NULL, FALSE);

                check_snapshot_image(device, ids[n], before[n], after[n]);
                detach(f, ids[n]);
        }
        check_snapshot_image(dev0, 0, total, total);
        detach(f, 0);
}

/* ---- snapshot creation does not starve behind origin writes ---- */

/* The write gate prefers the writer (zuma-engine.h).  Threads through the
 * engine's own helpers, in a fixed order, no timing: an origin write holds
 * the gate shared; a snapshot creation asks for it exclusively and waits;
 * from then on a new shared request (a later origin write) must wait
 * behind the creation instead of overtaking it.  With a reader-preferring
 * lock (GRWLock, glibc's default) the later write gets in at once, over
 * and over under sustained writing, which is how a CreateSnapshot once
 * waited 2.2 s.  The deadline only bounds how long that failure takes to
 * show. */

typedef struct GateProbe {
        ZumaEngine *engine;
        GMutex mutex;
        gint step;          /* under mutex: the order of events */
        gint created_at;    /* step at which the creation got in, or -1 */
        gint late_write_at; /* step at which the later write got in, or -1 */
} GateProbe;

static gint probe_step(GateProbe *p)
{
        gint step;

        g_mutex_lock(&p->mutex);
        step = p->step++;
        g_mutex_unlock(&p->mutex);
        return step;
}

static gpointer probe_create_thread(gpointer data)
{
        GateProbe *p = data;

        zuma_engine_lock_exclusive(p->engine);
        p->created_at = probe_step(p);
        zuma_engine_unlock_exclusive(p->engine);
        return NULL;
}

static gpointer probe_write_thread(gpointer data)
{
        GateProbe *p = data;

        zuma_engine_gate_shared(p->engine);
        p->late_write_at = probe_step(p);
        zuma_engine_ungate_shared(p->engine);
        return NULL;
}

/* TRUE once a new shared request is refused: an exclusive request waits
 * (or holds the gate).  Never blocks. */
static gboolean gate_refuses_shared(ZumaEngine *engine)
{
        if (zuma_engine_gate_try_shared(engine)) {
                zuma_engine_ungate_shared(engine);
                return FALSE;
        }
        return TRUE;
}

static void test_gate_prefers_writer(Fixture *f, gconstpointer data)
{
        GateProbe p = { .engine = f->engine, .created_at = -1, .late_write_at = -1 };
        gint64 deadline = g_get_monotonic_time() + DEADLINE_US;
        GThread *create, *write;
        gint released_at;

        g_mutex_init(&p.mutex);
        /* An origin write in flight: between its copy-out and its write. */
        zuma_engine_gate_shared(f->engine);
        g_assert_false(gate_refuses_shared(f->engine)); /* shared: readers share */
        create = g_thread_new("create", probe_create_thread, &p);
        while (!gate_refuses_shared(f->engine)) {
                if (g_get_monotonic_time() > deadline)
                        g_error("a snapshot creation waits for the write gate, and new origin "
                                "writes still get in ahead of it: the gate prefers readers");
                g_thread_yield();
        }
        write = g_thread_new("later write", probe_write_thread, &p);
        /* Neither may pass the write in flight... */
        g_mutex_lock(&p.mutex);
        g_assert_cmpint(p.created_at, ==, -1);
        g_mutex_unlock(&p.mutex);
        released_at = probe_step(&p);
        zuma_engine_ungate_shared(f->engine);
        g_thread_join(create);
        g_thread_join(write);
        /* ...and once it is done, the creation goes first. */
        g_test_message("write done at step %d, creation at %d, later write at %d", released_at,
                       p.created_at, p.late_write_at);
        g_assert_cmpint(p.created_at, >, released_at);
        g_assert_cmpint(p.late_write_at, >, p.created_at);
        g_mutex_clear(&p.mutex);
}

/* The same through the frontend under load: STARVE_WRITERS threads
 * hammer the origin device with O_DIRECT writes (each request a FUSE
 * write on a worker thread, many in flight) while STARVE_SNAPSHOTS
 * snapshots are taken, each only after every writer completed writes
 * since the last one, so the writing is sustained throughout.  Asserted,
 * for every snapshot: its creation completes, and no origin write that
 * the application started after the creation was seen waiting at the gate
 * completed before the creation was done and let go of the gate.  That
 * is an ordering, not a duration: it holds for any scheduling if every
 * origin write passes the gate and the gate prefers the writer; a write
 * path that bypassed the gate would show as writes completing during the
 * creation's commit.  (A reader-preferring gate passes this case too,
 * because the moment the creation starts to wait is then not observable
 * from outside; test_gate_prefers_writer is the deterministic check of
 * the preference.) */

#define STARVE_WRITERS 8
#define STARVE_SNAPSHOTS 8
#define STARVE_WRITE_SIZE (16 * 1024)
#define STARVE_REGION (4 * MiB) /* per writer */
#define STEP_UNSET G_MAXINT

typedef struct StarveState {
        ZumaEngine *engine;
        const char *device;
        GMutex mutex;
        gint step;                      /* under mutex: the order of events */
        gint waiting_at;                /* under mutex: creation seen waiting, or unset */
        gint released_at;               /* under mutex: creation done, or unset */
        gint overtaken;                 /* under mutex: writes that passed a creation */
        gint stop;                      /* atomic */
        gint completed[STARVE_WRITERS]; /* atomic, per writer */
        guint32 seed;
        char *name; /* of the snapshot being created */
        guint32 id; /* the id it got */
} StarveState;

typedef struct StarveWriter {
        StarveState *state;
        guint index;
} StarveWriter;

static gpointer starve_writer_thread(gpointer data)
{
        StarveWriter *w = data;
        StarveState *s = w->state;
        g_autoptr(GRand) own = g_rand_new_with_seed(s->seed + w->index);
        guint8 *buf = aligned_buffer(STARVE_WRITE_SIZE);
        int fd = open(s->device, O_WRONLY | O_DIRECT | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        memset(buf, 0xa0 + w->index, STARVE_WRITE_SIZE);
        while (!g_atomic_int_get(&s->stop)) {
                guint64 offset =
                        (guint64)w->index * STARVE_REGION +
                        (guint64)g_rand_int_range(own, 0, STARVE_REGION / STARVE_WRITE_SIZE) *
                                STARVE_WRITE_SIZE;
                gint started;

                g_mutex_lock(&s->mutex);
                started = s->step++;
                g_mutex_unlock(&s->mutex);
                g_assert_cmpint(pwrite(fd, buf, STARVE_WRITE_SIZE, (off_t)offset), ==,
                                STARVE_WRITE_SIZE);
                g_mutex_lock(&s->mutex);
                s->step++;
                /* The creation releases the gate inside
                 * zuma_engine_snapshot_create(), before released_at is
                 * set: a write that completes in between got in after
                 * it, which the gate still refusing readers rules out. */
                if (started > s->waiting_at && s->released_at == STEP_UNSET &&
                    gate_refuses_shared(s->engine))
                        s->overtaken++;
                g_mutex_unlock(&s->mutex);
                g_atomic_int_inc(&s->completed[w->index]);
        }
        close(fd);
        free(buf);
        return NULL;
}

/* CreateSnapshot's engine section (zuma-volume-snapshots.c). */
static gpointer starve_create_thread(gpointer data)
{
        StarveState *s = data;
        SsSnapshotInfo info;
        int r;

        r = zuma_engine_snapshot_create(s->engine, s->name, 0, 0, &info);
        if (r < 0)
                g_error("snapshot %s: %s (%s)", s->name, g_strerror(-r), ss_last_error());
        g_mutex_lock(&s->mutex);
        s->id = info.id;
        s->released_at = s->step++;
        g_mutex_unlock(&s->mutex);
        return NULL;
}

static gboolean starve_create_done(StarveState *s)
{
        gboolean done;

        g_mutex_lock(&s->mutex);
        done = s->released_at != STEP_UNSET;
        g_mutex_unlock(&s->mutex);
        return done;
}

static void test_create_under_writes(Fixture *f, gconstpointer data)
{
        g_autofree char *dev0 = attach(f, 0, NULL, TRUE);
        StarveState s = { .engine = f->engine, .device = dev0, .seed = seed };
        StarveWriter writers[STARVE_WRITERS];
        GThread *threads[STARVE_WRITERS];
        gint seen[STARVE_WRITERS] = { 0 };
        gint64 deadline = g_get_monotonic_time() + 10 * DEADLINE_US;
        guint32 last_id = 0;

        g_mutex_init(&s.mutex);
        s.waiting_at = s.released_at = STEP_UNSET;
        for (guint w = 0; w < STARVE_WRITERS; w++) {
                writers[w] = (StarveWriter){ .state = &s, .index = w };
                threads[w] = g_thread_new("hammer", starve_writer_thread, &writers[w]);
        }
        for (guint n = 0; n < STARVE_SNAPSHOTS; n++) {
                g_autofree char *name = g_strdup_printf("hammered%u", n);
                GThread *create;

                /* Sustained writing: every writer got writes done since the
                 * last snapshot (a bounded poll). */
                for (guint w = 0; w < STARVE_WRITERS; w++) {
                        while (g_atomic_int_get(&s.completed[w]) < seen[w] + 2) {
                                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                                g_usleep(1000);
                        }
                        seen[w] = g_atomic_int_get(&s.completed[w]);
                }
                s.name = name;
                create = g_thread_new("create", starve_create_thread, &s);
                /* Waiting for the gate, or holding it already; or done
                 * already, when this thread did not run meanwhile (a
                 * loaded machine): that round sees no writer overtake. */
                while (!gate_refuses_shared(f->engine) && !starve_create_done(&s)) {
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_thread_yield();
                }
                g_mutex_lock(&s.mutex);
                s.waiting_at = s.step++;
                g_mutex_unlock(&s.mutex);
                g_thread_join(create);
                g_mutex_lock(&s.mutex);
                s.waiting_at = s.released_at = STEP_UNSET;
                g_mutex_unlock(&s.mutex);
                g_assert_cmpuint(s.id, >, last_id);
                last_id = s.id;
        }
        g_atomic_int_set(&s.stop, 1);
        for (guint w = 0; w < STARVE_WRITERS; w++) {
                g_thread_join(threads[w]);
                g_test_message("writer %u: %d writes", w, g_atomic_int_get(&s.completed[w]));
        }
        g_assert_cmpint(s.overtaken, ==, 0);
        g_mutex_clear(&s.mutex);
        detach(f, 0);
}

/* ---- growing the origin under I/O ---- */

#define GROW_READERS 2
#define GROW_ROUNDS 200

typedef struct Reader {
        const char *device;
        guint32 seed;
        gint *stop;    /* atomic */
        gint reads;    /* atomic: completed reads */
        gint failures; /* atomic: reads that returned less than asked */
} Reader;

/* Reads random 64 KiB pieces of the first ORIGIN_SIZE bytes until told to
 * stop: the frontend serves them straight from the origin, without a lock,
 * while the main thread grows the origin. */
static gpointer reader_thread(gpointer data)
{
        Reader *r = data;
        g_autoptr(GRand) own = g_rand_new_with_seed(r->seed);
        guint8 *buf = aligned_buffer(64 * 1024);
        int fd = open(r->device, O_RDONLY | O_DIRECT | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        while (!g_atomic_int_get(r->stop)) {
                guint64 offset = (guint64)g_rand_int_range(own, 0, ORIGIN_SIZE / 65536) * 65536;

                if (pread(fd, buf, 65536, (off_t)offset) != 65536)
                        g_atomic_int_inc(&r->failures);
                g_atomic_int_inc(&r->reads);
        }
        close(fd);
        free(buf);
        return NULL;
}

/* Resize's path (zuma-volume-jobs.c): the engine takes the grown origin
 * while readers use it, then the attached device takes the new size.  Run
 * under ThreadSanitizer this also checks that the block device layer's
 * cached size is safe to refresh while other threads do origin I/O. */
static void test_grow_origin(Fixture *f, gconstpointer data)
{
        g_autofree char *dev0 = attach(f, 0, NULL, TRUE);
        g_autofree char *origin_file = image_file(f, "origin");
        g_autoptr(GError) error = NULL;
        const guint64 grown = 2 * (guint64)ORIGIN_SIZE;
        g_autofree guint8 *tail = g_malloc(MiB);
        Reader readers[GROW_READERS];
        GThread *threads[GROW_READERS];
        gint stop = 0;
        guint64 size = 0;
        struct stat st;
        int fd, r;

        for (guint i = 0; i < GROW_READERS; i++) {
                readers[i] = (Reader){ .device = dev0, .seed = seed + i + 1, .stop = &stop };
                threads[i] = g_thread_new("reader", reader_thread, &readers[i]);
        }
        fd = open(f->origin_path, O_WRONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ftruncate(fd, (off_t)grown), ==, 0);
        close(fd);
        /* The engine asks for the device size repeatedly, as Resize and the
         * store's checks do, while the readers run. */
        for (guint round = 0; round < GROW_ROUNDS; round++) {
                zuma_engine_get_device_sizes(f->engine, &size, NULL);
                g_assert_cmpuint(size, ==, grown);
        }
        r = zuma_engine_grow_origin(f->engine, grown);
        if (r < 0)
                g_error("growing the origin: %s (%s)", g_strerror(-r), ss_last_error());
        g_assert_true(zuma_frontend_set_size(f->frontend, VOLUME, 0, grown, &error));
        g_assert_no_error(error);

        /* The file and the device have the new size, and it is usable. */
        g_assert_cmpint(stat(origin_file, &st), ==, 0);
        g_assert_cmpuint((guint64)st.st_size, ==, grown);
        fd = open(dev0, O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ioctl(fd, BLKGETSIZE64, &size), ==, 0);
        close(fd);
        g_assert_cmpuint(size, ==, grown);
        fill_random(tail, MiB);
        device_write(dev0, tail, grown - MiB, MiB);
        {
                g_autofree guint8 *got = device_read(dev0, grown - MiB, MiB);

                assert_same(got, tail, MiB, "the grown tail of the origin");
        }

        g_atomic_int_set(&stop, 1);
        for (guint i = 0; i < GROW_READERS; i++) {
                g_thread_join(threads[i]);
                g_test_message("reader %u: %d reads", i, g_atomic_int_get(&readers[i].reads));
                g_assert_cmpint(g_atomic_int_get(&readers[i].failures), ==, 0);
        }
        detach(f, 0);
}

/* ---- snapshot reads without the engine lock ---- */

/* zuma_engine_snapshot_read() reads a snapshot's extents without the engine lock and keeps
 * the data only if the store's change count held meanwhile, else reads
 * again under the lock (zuma-engine.h).  UNLOCKED_READERS threads read one
 * snapshot at random offsets and lengths, half through its loop device
 * with O_DIRECT, half through its image file at any byte, while
 * UNLOCKED_WRITERS threads overwrite the origin (the first write of a chunk
 * copies it out, and the snapshot's origin extent for it goes stale) and
 * the main thread creates, deletes and cleans up other snapshots (commits
 * that move the count, blocks freed and reused).  Every byte read must be
 * the snapshot's as it was taken.  Each of UNLOCKED_ROUNDS rounds reads a
 * fresh snapshot of the origin the writers left, and deletes it after, so
 * that its blocks are reused.  Asserted as well: reads were served without
 * the lock, and some were redone under it (the count moved under them), so
 * both paths ran and their data was checked. */

#define UNLOCKED_READERS 4
#define UNLOCKED_WRITERS 2
#define UNLOCKED_ROUNDS 4
#define UNLOCKED_READS 150              /* per reader and round, at least */
#define UNLOCKED_WRITE_BYTES (8 * MiB)  /* per writer and round */
#define UNLOCKED_WRITE_MAX (128 * 1024) /* bytes per origin write */
#define UNLOCKED_REGION (ORIGIN_SIZE / UNLOCKED_WRITERS)

typedef struct UnlockedState {
        const char *snap_device; /* the snapshot's loop device */
        const char *snap_file;   /* and its image file */
        const char *origin_device;
        const guint8 *snap_model; /* the origin when the snapshot was taken */
        guint8 *origin_model;     /* each writer updates its own region */
        guint32 seed;
        guint round;
        gint stop;                    /* atomic */
        gint reads[UNLOCKED_READERS]; /* atomic */
        gint writers_done;            /* atomic */
        GMutex mutex;
        char *failure; /* under mutex: the first thing that went wrong */
} UnlockedState;

/* A thread failed: the main thread reports it once every thread is
 * joined.  (Failing on the spot would leave the others waiting forever in
 * FUSE requests to this very process, which is exiting.) */
static void unlocked_fail(UnlockedState *s, char *failure)
{
        g_mutex_lock(&s->mutex);
        if (!s->failure)
                s->failure = g_steal_pointer(&failure);
        g_mutex_unlock(&s->mutex);
        g_free(failure);
        g_atomic_int_set(&s->stop, 1);
}

typedef struct UnlockedThread {
        UnlockedState *state;
        guint index;
} UnlockedThread;

static gpointer unlocked_reader_thread(gpointer data)
{
        UnlockedThread *t = data;
        UnlockedState *s = t->state;
        g_autoptr(GRand) own = g_rand_new_with_seed(s->seed + 1000 * s->round + 100 + t->index);
        gboolean direct = t->index % 2 == 0;
        guint8 *buf = aligned_buffer(MiB);
        int fd = open(direct ? s->snap_device : s->snap_file,
                      O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));

        g_assert_cmpint(fd, >=, 0);
        while (!g_atomic_int_get(&s->stop)) {
                gint32 length, offset, i = 0;
                gssize n;

                if (direct) {
                        length = g_rand_int_range(own, 1, MiB / 512 + 1) * 512;
                        offset = g_rand_int_range(own, 0, (ORIGIN_SIZE - length) / 512 + 1) * 512;
                } else {
                        length = g_rand_int_range(own, 1, MiB + 1);
                        offset = g_rand_int_range(own, 0, ORIGIN_SIZE - length + 1);
                }
                n = pread(fd, buf, (size_t)length, offset);
                if (n != length) {
                        unlocked_fail(s,
                                      g_strdup_printf("round %u reader %u: %d bytes at %d of the "
                                                      "snapshot returned %zd: %s",
                                                      s->round, t->index, length, offset, n,
                                                      n < 0 ? g_strerror(errno) : "short read"));
                        break;
                }
                if (memcmp(buf, s->snap_model + offset, (size_t)length) != 0) {
                        while (buf[i] == s->snap_model[offset + i])
                                i++;
                        unlocked_fail(
                                s, g_strdup_printf("round %u reader %u (%s): %d bytes at %d of "
                                                   "the snapshot: first difference at byte %d "
                                                   "(got 0x%02x, want 0x%02x)",
                                                   s->round, t->index,
                                                   direct ? "device, O_DIRECT" : "file", length,
                                                   offset, i, buf[i], s->snap_model[offset + i]));
                        break;
                }
                g_atomic_int_inc(&s->reads[t->index]);
        }
        close(fd);
        free(buf);
        return NULL;
}

static gpointer unlocked_writer_thread(gpointer data)
{
        UnlockedThread *t = data;
        UnlockedState *s = t->state;
        g_autoptr(GRand) own = g_rand_new_with_seed(s->seed + 1000 * s->round + t->index);
        guint8 *buf = aligned_buffer(UNLOCKED_WRITE_MAX);
        guint64 region = (guint64)t->index * UNLOCKED_REGION;
        int fd = open(s->origin_device, O_WRONLY | O_DIRECT | O_CLOEXEC);
        size_t written = 0;

        g_assert_cmpint(fd, >=, 0);
        while (written < UNLOCKED_WRITE_BYTES && !g_atomic_int_get(&s->stop)) {
                size_t length =
                        (size_t)g_rand_int_range(own, 1, UNLOCKED_WRITE_MAX / 512 + 1) * 512;
                guint64 offset = region + (guint64)g_rand_int_range(
                                                  own, 0, (UNLOCKED_REGION - length) / 512 + 1) *
                                                  512;

                for (size_t i = 0; i < length; i += 4) {
                        guint32 v = g_rand_int(own);

                        memcpy(buf + i, &v, 4);
                }
                if (pwrite(fd, buf, length, (off_t)offset) != (gssize)length) {
                        unlocked_fail(s, g_strdup_printf("round %u writer %u: writing %zu bytes "
                                                         "at %" G_GUINT64_FORMAT " failed: %s",
                                                         s->round, t->index, length, offset,
                                                         g_strerror(errno)));
                        break;
                }
                memcpy(s->origin_model + offset, buf, length);
                written += length;
        }
        close(fd);
        free(buf);
        g_atomic_int_inc(&s->writers_done);
        return NULL;
}

static gint reads_unlocked(ZumaEngine *engine)
{
        gint unlocked;

        zuma_engine_get_read_stats(engine, &unlocked, NULL);
        return unlocked;
}

static gint reads_redone(ZumaEngine *engine)
{
        gint redone;

        zuma_engine_get_read_stats(engine, NULL, &redone);
        return redone;
}

static void delete_snapshot(Fixture *f, guint32 id)
{
        int r;

        r = zuma_engine_snapshot_delete(f->engine, id);
        if (r < 0)
                g_error("deleting snapshot %u: %s (%s)", id, g_strerror(-r), ss_last_error());
        /* What zuma-volume.c's cleanup does, to the end. */
        do
                r = zuma_engine_cleanup_step(f->engine, 64);
        while (r > 0);
        if (r < 0)
                g_error("cleanup after snapshot %u: %s (%s)", id, g_strerror(-r), ss_last_error());
}

static gboolean unlocked_round_done(UnlockedState *s)
{
        if (g_atomic_int_get(&s->writers_done) < UNLOCKED_WRITERS)
                return FALSE;
        for (guint i = 0; i < UNLOCKED_READERS; i++)
                if (g_atomic_int_get(&s->reads[i]) < UNLOCKED_READS)
                        return FALSE;
        return TRUE;
}

/* On tmpfs (the fixture's data): a copy-out's commit flushes nothing
 * there, so an origin write can overtake a snapshot read in flight far
 * more often than on a disk, which is the race this case is after. */
static void test_snapshot_read_unlocked(Fixture *f, gconstpointer data)
{
        g_autofree char *dev0 = attach(f, 0, NULL, TRUE);
        gint64 deadline = g_get_monotonic_time() + 10 * DEADLINE_US;
        guint32 other = 0, others = 0;
        gint unlocked, redone;

        fill_random(f->origin_model, ORIGIN_SIZE);
        device_write(dev0, f->origin_model, 0, ORIGIN_SIZE);
        for (guint round = 0; round < UNLOCKED_ROUNDS; round++) {
                g_autofree char *name = g_strdup_printf("read%u", round);
                guint32 id = create_snapshot(f, name, 0);
                g_autofree guint8 *snap_model = g_memdup2(f->origin_model, ORIGIN_SIZE);
                g_autofree char *device = attach(f, id, NULL, FALSE);
                g_autofree char *file = id_file(f, id);
                UnlockedState s = { .snap_device = device,
                                    .snap_file = file,
                                    .origin_device = dev0,
                                    .snap_model = snap_model,
                                    .origin_model = f->origin_model,
                                    .seed = seed,
                                    .round = round };
                UnlockedThread readers[UNLOCKED_READERS], writers[UNLOCKED_WRITERS];
                GThread *reader_threads[UNLOCKED_READERS], *writer_threads[UNLOCKED_WRITERS];

                if (round == 0) {
                        /* Nothing changes the store: served without the lock, not redone. */
                        unlocked = reads_unlocked(f->engine);
                        redone = reads_redone(f->engine);
                        assert_device_holds(device, snap_model, 0, 4 * MiB, "quiet snapshot");
                        g_assert_cmpint(reads_unlocked(f->engine), >, unlocked);
                        g_assert_cmpint(reads_redone(f->engine), ==, redone);
                }
                g_mutex_init(&s.mutex);
                for (guint i = 0; i < UNLOCKED_READERS; i++) {
                        readers[i] = (UnlockedThread){ .state = &s, .index = i };
                        reader_threads[i] =
                                g_thread_new("reader", unlocked_reader_thread, &readers[i]);
                }
                for (guint i = 0; i < UNLOCKED_WRITERS; i++) {
                        writers[i] = (UnlockedThread){ .state = &s, .index = i };
                        writer_threads[i] =
                                g_thread_new("writer", unlocked_writer_thread, &writers[i]);
                }
                /* Other snapshots come and go meanwhile; the last round also
                 * goes on until some read was redone (a bounded poll). */
                while (!g_atomic_int_get(&s.stop) &&
                       (!unlocked_round_done(&s) ||
                        (round == UNLOCKED_ROUNDS - 1 && reads_redone(f->engine) == 0))) {
                        g_autofree char *other_name = g_strdup_printf("other%u", others++);
                        guint32 next = create_snapshot(f, other_name, 0);

                        if (other)
                                delete_snapshot(f, other);
                        other = next;
                        if (g_get_monotonic_time() > deadline)
                                unlocked_fail(&s, g_strdup_printf(
                                                          "round %u: %d writers done, %d "
                                                          "snapshot reads redone when the time "
                                                          "was up",
                                                          round, g_atomic_int_get(&s.writers_done),
                                                          reads_redone(f->engine)));
                        g_usleep(2000);
                }
                g_atomic_int_set(&s.stop, 1);
                for (guint i = 0; i < UNLOCKED_WRITERS; i++)
                        g_thread_join(writer_threads[i]);
                for (guint i = 0; i < UNLOCKED_READERS; i++)
                        g_thread_join(reader_threads[i]);
                if (s.failure)
                        g_error("%s; seed %u", s.failure, seed);
                g_mutex_clear(&s.mutex);
                g_test_message("round %u: reads %d %d %d %d", round, s.reads[0], s.reads[1],
                               s.reads[2], s.reads[3]);
                detach(f, id);
                delete_snapshot(f, id);
        }
        unlocked = reads_unlocked(f->engine);
        redone = reads_redone(f->engine);
        g_test_message("%u other snapshots; snapshot reads: %d rounds unlocked, %d redone", others,
                       unlocked, redone);
        g_assert_cmpint(unlocked, >, 0);
        g_assert_cmpint(redone, >, 0);
        assert_device_holds(dev0, f->origin_model, 0, ORIGIN_SIZE, "origin after the writers");
        detach(f, 0);
}

/* ---- udev names ---- */

static gboolean udevd_running(void)
{
        const char *argv[] = { "pgrep", "-x", "systemd-udevd", NULL };
        g_autofree char *out = run_output(argv);

        return out != NULL;
}

static GPid udevd_pid(void)
{
        const char *argv[] = { "pgrep", "-x", "-n", "systemd-udevd", NULL };
        g_autofree char *out = run_output(argv);

        return out ? (GPid)atoi(out) : 0;
}

/* A running udevd with the build tree's rules, or FALSE and why not. */
static gboolean udev_setup(Fixture *f, char **ret_reason)
{
        const char *rules = g_getenv("ZUMA_UDEV_RULES");
        const char *start[] = { "/lib/systemd/systemd-udevd", "--daemon", NULL };
        const char *ping[] = { "udevadm", "control", "--ping", NULL };
        const char *reload[] = { "udevadm", "control", "--reload", NULL };
        g_autofree char *contents = NULL;
        gint64 deadline;

        if (!rules || !g_file_get_contents(rules, &contents, NULL, NULL)) {
                *ret_reason = g_strdup("ZUMA_UDEV_RULES does not name the build-tree rules");
                return FALSE;
        }
        if (!udevd_running()) {
                if (!g_file_test(start[0], G_FILE_TEST_IS_EXECUTABLE)) {
                        *ret_reason = g_strdup("no systemd-udevd on this machine");
                        return FALSE;
                }
                if (run(start) != 0) {
                        *ret_reason = g_strdup("systemd-udevd --daemon failed to start");
                        return FALSE;
                }
                f->udevd_started = udevd_pid();
                g_test_message("started systemd-udevd (pid %d) for this test",
                               (int)f->udevd_started);
        }
        deadline = g_get_monotonic_time() + DEADLINE_US;
        while (run(ping) != 0) {
                if (g_get_monotonic_time() > deadline) {
                        *ret_reason = g_strdup("udevd does not answer udevadm control --ping");
                        return FALSE;
                }
                g_usleep(50000);
        }
        g_assert_cmpint(g_mkdir_with_parents("/run/udev/rules.d", 0755), ==, 0);
        g_assert_true(g_file_set_contents(RULES_INSTALLED, contents, -1, NULL));
        f->rules_installed = TRUE;
        g_assert_cmpint(run(reload), ==, 0);
        return TRUE;
}

static void udev_cleanup(Fixture *f)
{
        const char *reload[] = { "udevadm", "control", "--reload", NULL };
        gint64 deadline = g_get_monotonic_time() + DEADLINE_US;

        if (f->rules_installed) {
                unlink(RULES_INSTALLED);
                run(reload);
                f->rules_installed = FALSE;
        }
        if (f->udevd_started <= 0)
                return;
        kill(f->udevd_started, SIGTERM);
        while (kill(f->udevd_started, 0) == 0 && g_get_monotonic_time() < deadline)
                g_usleep(20000);
        f->udevd_started = 0;
}

static void settle(void)
{
        const char *argv[] = { "udevadm", "settle", "--timeout=30", NULL };

        g_assert_cmpint(run(argv), ==, 0);
}

/* Polls (after settling) until link points at device, or is gone when
 * device is NULL. */
static void wait_link(const char *link, const char *device)
{
        gint64 deadline = g_get_monotonic_time() + DEADLINE_US;

        settle();
        for (;;) {
                g_autofree char *target = realpath(link, NULL);

                if (g_strcmp0(target, device) == 0)
                        return;
                if (g_get_monotonic_time() > deadline)
                        g_error("%s points at %s, want %s", link, target ? target : "nothing",
                                device ? device : "nothing");
                g_usleep(50000);
        }
}

static void test_udev(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL, *dev0 = NULL, *dev1 = NULL;
        g_autofree char *by_id_snap = NULL;
        guint32 id;

        if (!udev_setup(f, &reason)) {
                g_test_skip(reason);
                return;
        }
        id = create_snapshot(f, "first", 0);
        dev0 = attach(f, 0, NULL, TRUE);
        dev1 = attach(f, id, "first", FALSE);
        by_id_snap = g_strdup_printf("/dev/zumastor/by-id/" VOLUME_UUID "-%u", id);
        wait_link("/dev/zumastor/" VOLUME, dev0);
        wait_link("/dev/zumastor/by-id/" VOLUME_UUID, dev0);
        wait_link("/dev/zumastor/" VOLUME "@first", dev1);
        wait_link(by_id_snap, dev1);
        g_test_message("udev linked /dev/zumastor/" VOLUME " -> %s, " VOLUME "@first -> %s", dev0,
                       dev1);

        /* A rename moves the name link. */
        g_assert_true(zuma_frontend_update(f->frontend, VOLUME, id, "second", FALSE, &error));
        g_assert_no_error(error);
        wait_link("/dev/zumastor/" VOLUME "@second", dev1);
        wait_link("/dev/zumastor/" VOLUME "@first", NULL);
        wait_link(by_id_snap, dev1);

        detach(f, 0);
        detach(f, id);
        wait_link("/dev/zumastor/" VOLUME, NULL);
        wait_link("/dev/zumastor/" VOLUME "@second", NULL);
        wait_link(by_id_snap, NULL);
}

/* ---- a killed server's leftovers ---- */

/* Runs in a child: serves the origin on a loop device, prints the device,
 * and waits to be killed. */
static int stale_child(char **argv)
{
        GError *error = NULL;
        ZumaEngine *engine = zuma_engine_open(argv[3], argv[4], NULL, NULL, &error);
        ZumaFrontend *frontend;
        char *device = NULL;

        if (!engine || !(frontend = zuma_frontend_new(argv[2], &error)) ||
            !zuma_frontend_add_volume(frontend, VOLUME, VOLUME_UUID, engine, &error) ||
            !zuma_frontend_attach(frontend, VOLUME, 0, NULL, TRUE, &device, &error)) {
                g_printerr("stale child: %s\n", error->message);
                return 1;
        }
        g_print("%s\n", device);
        fflush(stdout);
        for (;;)
                pause();
}

static void test_stale(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
        g_autofree char *device = NULL, *backing = NULL, *dev0 = NULL;
        g_autofree char *mount_dir = NULL;
        g_autoptr(GSubprocess) child = NULL;
        g_autoptr(GDataInputStream) out = NULL;
        struct stat st;
        int hold;

        fixture_files(f, NULL);
        mount_dir = g_build_filename(f->run_dir, "fuse", NULL);
        child = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, self, "--stale-child",
                                 f->run_dir, f->origin_path, f->store_path, NULL);
        g_assert_no_error(error);
        out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(child));
        device = g_data_input_stream_read_line(out, NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_nonnull(device);
        g_assert_true(g_str_has_prefix(device, "/dev/loop"));

        /* Someone still has the device open when the server dies. */
        hold = open(device, O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(hold, >=, 0);
        g_subprocess_send_signal(child, SIGKILL);
        g_subprocess_wait(child, NULL, &error);
        g_assert_no_error(error);
        backing = backing_file_of(device);
        g_assert_nonnull(backing);
        g_assert_true(g_str_has_prefix(backing, mount_dir));
        g_assert_cmpint(stat(mount_dir, &st), ==, -1);
        g_assert_cmpint(errno, ==, ENOTCONN);

        /* The successor detaches the device (once its user lets go) and
         * replaces the dead mount. */
        fixture_start(f);
        close(hold);
        wait_cleared(device, backing);
        g_assert_cmpint(stat(mount_dir, &st), ==, 0);
        dev0 = attach(f, 0, NULL, TRUE);
        fill_random(f->origin_model, MiB);
        device_write(dev0, f->origin_model, 0, MiB);
        assert_device_holds(dev0, f->origin_model, 0, 2 * MiB, "origin after restart");
        detach(f, 0);
}

static void fixture_setup_files_later(Fixture *f, gconstpointer data)
{
}

int main(int argc, char **argv)
{
        const char *seed_text = g_getenv("ZUMA_TEST_SEED");
        int fd;

        if (argc == 5 && strcmp(argv[1], "--stale-child") == 0)
                return stale_child(argv);
        g_test_init(&argc, &argv, NULL);
        if (getuid() != 0) {
                g_print("SKIP: test-frontend needs root (loop devices, mounts)\n");
                return 77;
        }
        fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                g_print("SKIP: /dev/fuse cannot be opened: %s\n", g_strerror(errno));
                return 77;
        }
        close(fd);
        if (access("/dev/loop-control", F_OK) < 0) {
                g_print("SKIP: /dev/loop-control is missing (no loop driver)\n");
                return 77;
        }
        seed = seed_text ? (guint32)strtoul(seed_text, NULL, 0) : g_random_int();
        g_print("# seed %u (set ZUMA_TEST_SEED to repeat)\n", seed);
        rng = g_rand_new_with_seed(seed);
        fuse_abort_guard_install();

        g_test_add("/frontend/data-path", Fixture, NULL, fixture_setup, test_data_path,
                   fixture_teardown);
        g_test_add("/frontend/snapshot-modes", Fixture, NULL, fixture_setup, test_snapshot_modes,
                   fixture_teardown);
        g_test_add("/frontend/discard", Fixture, NULL, fixture_setup, test_discard,
                   fixture_teardown);
        g_test_add("/frontend/ext4", Fixture, NULL, fixture_setup, test_ext4, fixture_teardown);
        g_test_add("/frontend/concurrent-snapshots", Fixture, NULL, fixture_setup,
                   test_concurrent_snapshots, fixture_teardown);
        g_test_add("/frontend/gate-prefers-writer", Fixture, NULL, fixture_setup,
                   test_gate_prefers_writer, fixture_teardown);
        g_test_add("/frontend/create-under-writes", Fixture, NULL, fixture_setup,
                   test_create_under_writes, fixture_teardown);
        g_test_add("/frontend/grow-origin", Fixture, NULL, fixture_setup, test_grow_origin,
                   fixture_teardown);
        g_test_add("/frontend/snapshot-read-unlocked", Fixture, "/dev/shm", fixture_setup,
                   test_snapshot_read_unlocked, fixture_teardown);
        g_test_add("/frontend/udev", Fixture, NULL, fixture_setup, test_udev, fixture_teardown);
        g_test_add("/frontend/stale", Fixture, NULL, fixture_setup_files_later, test_stale,
                   fixture_teardown);
        return g_test_run();
}
