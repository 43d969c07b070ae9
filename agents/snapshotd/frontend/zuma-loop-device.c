/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-frontend"

#include "zuma-loop-device.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zuma-error.h"

#define ATTACH_ATTEMPTS 16

struct ZumaLoopDevice {
        int fd; /* keeps the autoclear device alive */
        int index;
        gboolean read_only_set; /* by BLKROSET, undone at detach */
        char *path;
};

const char *zuma_loop_device_get_path(ZumaLoopDevice *loop)
{
        return loop->path;
}

static void loop_device_free(ZumaLoopDevice *loop)
{
        if (loop->fd >= 0)
                close(loop->fd);
        g_free(loop->path);
        g_free(loop);
}

static int configure(int loop_fd, int backing_fd, const char *backing_file, guint32 flags)
{
        struct loop_config config = { 0 };

        config.fd = (__u32)backing_fd;
        config.info.lo_flags = flags;
        g_strlcpy((char *)config.info.lo_file_name, backing_file, LO_NAME_SIZE);
        return ioctl(loop_fd, LOOP_CONFIGURE, &config) < 0 ? -errno : 0;
}

static int set_block_read_only(int fd, gboolean read_only)
{
        int value = read_only ? 1 : 0;

        return ioctl(fd, BLKROSET, &value) < 0 ? -errno : 0;
}

/* One free device, configured; -EBUSY when another process took it first. */
static int attach_once(int control_fd, int backing_fd, const char *backing_file, gboolean read_only,
                       ZumaLoopDevice **ret_loop)
{
        guint32 flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0);
        struct loop_info64 info = { 0 };
        g_autofree char *path = NULL;
        ZumaLoopDevice *loop;
        int index, config_fd, fd, r;

        index = ioctl(control_fd, LOOP_CTL_GET_FREE);
        if (index < 0)
                return -errno;
        path = g_strdup_printf("/dev/loop%d", index);
        /* The kernel makes the device read-only unless it is configured
         * through a descriptor open for writing. */
        config_fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (config_fd < 0)
                return -errno;
        r = configure(config_fd, backing_fd, backing_file, flags | LO_FLAGS_DIRECT_IO);
        if (r == -EINVAL) {
                g_debug("%s: no direct I/O on %s, using buffered I/O", path, backing_file);
                r = configure(config_fd, backing_fd, backing_file, flags);
        }
        if (r < 0) {
                close(config_fd);
                return r;
        }
        /* What keeps the autoclear device alive is a read-only descriptor:
         * a writer would stand in the way of mounting it where the kernel
         * refuses to mount devices open for writing. */
        fd = open(path, O_RDONLY | O_CLOEXEC);
        r = fd < 0 ? -errno : 0;
        close(config_fd);
        if (r < 0) {
                g_warning("%s: cannot reopen it (%s); it is cleared again", path, g_strerror(-r));
                return r == -EBUSY ? -EIO : r;
        }
        /* BLKROSET outlives the attachment: a device someone made read-only
         * that way before would refuse our writes. */
        if (!read_only)
                set_block_read_only(fd, FALSE);
        if (ioctl(fd, LOOP_GET_STATUS64, &info) == 0)
                g_debug("%s attached to %s%s%s", path, backing_file,
                        info.lo_flags & LO_FLAGS_DIRECT_IO ? ", direct I/O" : ", buffered",
                        info.lo_flags & LO_FLAGS_READ_ONLY ? ", read-only" : "");
        loop = g_new0(ZumaLoopDevice, 1);
        loop->fd = fd;
        loop->index = index;
        loop->path = g_steal_pointer(&path);
        *ret_loop = loop;
        return 0;
}

ZumaLoopDevice *zuma_loop_device_attach(const char *backing_file, gboolean read_only,
                                        GError **error)
{
        ZumaLoopDevice *loop = NULL;
        int control_fd, backing_fd, r = -EBUSY;

        backing_fd = open(backing_file, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (backing_fd < 0) {
                zuma_error_set_errno(error, -errno, "cannot open %s: %s", backing_file,
                                     g_strerror(errno));
                return NULL;
        }
        control_fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (control_fd < 0) {
                r = -errno;
                close(backing_fd);
                zuma_error_set_errno(error, r, "cannot open /dev/loop-control: %s", g_strerror(-r));
                return NULL;
        }
        /* Another process may grab the free device between the two calls. */
        for (int attempt = 0; attempt < ATTACH_ATTEMPTS && r == -EBUSY; attempt++)
                r = attach_once(control_fd, backing_fd, backing_file, read_only, &loop);
        close(control_fd);
        /* The device holds its own reference to the file now. */
        close(backing_fd);
        if (r < 0) {
                zuma_error_set_errno(error, r, "cannot attach a loop device to %s: %s",
                                     backing_file, g_strerror(-r));
                return NULL;
        }
        return loop;
}

/* An exclusive descriptor, or -EBUSY while someone else holds one. */
static int open_exclusive(ZumaLoopDevice *loop)
{
        int fd = open(loop->path, O_RDONLY | O_EXCL | O_NONBLOCK | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

gboolean zuma_loop_device_is_busy(ZumaLoopDevice *loop)
{
        int fd = open_exclusive(loop);

        if (fd >= 0)
                close(fd);
        else if (fd != -EBUSY)
                g_debug("%s: cannot open exclusively: %s", loop->path, g_strerror(-fd));
        return fd == -EBUSY;
}

gboolean zuma_loop_device_detach(ZumaLoopDevice *loop, gboolean force, GError **error)
{
        int excl_fd = open_exclusive(loop);

        if (excl_fd == -EBUSY && !force) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                            "%s is in use (mounted, or open exclusively)", loop->path);
                return FALSE;
        }
        /* Holding the exclusive descriptor keeps mounts out while the
         * device goes: after LOOP_CLR_FD as the last opener it is in
         * rundown and refuses new openers; our close then clears it. */
        /* The next user of the device must not inherit our BLKROSET. */
        if (loop->read_only_set)
                set_block_read_only(loop->fd, FALSE);
        close(loop->fd);
        loop->fd = -1;
        if (excl_fd >= 0) {
                if (ioctl(excl_fd, LOOP_CLR_FD) < 0 && errno != ENXIO)
                        g_debug("%s: LOOP_CLR_FD: %s", loop->path, g_strerror(errno));
                close(excl_fd);
        } else {
                g_message("%s is still in use; it goes away when its last user closes it",
                          loop->path);
        }
        g_debug("%s detached", loop->path);
        loop_device_free(loop);
        return TRUE;
}

gboolean zuma_loop_device_set_read_only(ZumaLoopDevice *loop, gboolean read_only, GError **error)
{
        int r = set_block_read_only(loop->fd, read_only);

        if (r < 0) {
                zuma_error_set_errno(error, r, "%s: cannot make it %s: %s", loop->path,
                                     read_only ? "read-only" : "writable", g_strerror(-r));
                return FALSE;
        }
        loop->read_only_set = read_only;
        return TRUE;
}

gboolean zuma_loop_device_refresh_capacity(ZumaLoopDevice *loop, guint64 *ret_size, GError **error)
{
        guint64 size = 0;

        if (ioctl(loop->fd, LOOP_SET_CAPACITY, 0) < 0 || ioctl(loop->fd, BLKGETSIZE64, &size) < 0) {
                int e = errno;

                zuma_error_set_errno(error, -e, "%s: cannot take the new size of its file: %s",
                                     loop->path, g_strerror(e));
                return FALSE;
        }
        *ret_size = size;
        return TRUE;
}

gboolean zuma_loop_device_trigger_change(ZumaLoopDevice *loop, GError **error)
{
        g_autofree char *uevent = g_strdup_printf("/sys/block/loop%d/uevent", loop->index);
        int fd = open(uevent, O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write(fd, "change", 6) != 6) {
                zuma_error_set_errno(error, -errno, "%s: cannot re-trigger udev: %s", loop->path,
                                     g_strerror(errno));
                if (fd >= 0)
                        close(fd);
                return FALSE;
        }
        close(fd);
        return TRUE;
}

static gboolean backing_file_under(const char *name, const char *prefix)
{
        g_autofree char *file = g_strdup_printf("/sys/block/%s/loop/backing_file", name);
        g_autofree char *contents = NULL;

        if (!g_file_get_contents(file, &contents, NULL, NULL))
                return FALSE; /* not attached */
        g_strchomp(contents);
        return g_str_has_prefix(contents, prefix);
}

guint zuma_loop_device_clear_stale(const char *dir)
{
        g_autofree char *prefix = g_strconcat(dir, "/", NULL);
        g_autoptr(GDir) sys = g_dir_open("/sys/block", 0, NULL);
        const char *name;
        guint count = 0;

        if (!sys)
                return 0;
        while ((name = g_dir_read_name(sys))) {
                g_autofree char *path = NULL;
                int fd;

                if (!g_str_has_prefix(name, "loop") || !backing_file_under(name, prefix))
                        continue;
                path = g_strdup_printf("/dev/%s", name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                        set_block_read_only(fd, FALSE);
                if (fd < 0 || ioctl(fd, LOOP_CLR_FD) < 0) {
                        g_warning("cannot detach the stale loop device %s: %s", path,
                                  g_strerror(errno));
                } else {
                        g_message("detached the stale loop device %s (left by a killed server)",
                                  path);
                        count++;
                }
                if (fd >= 0)
                        close(fd);
        }
        return count;
}
