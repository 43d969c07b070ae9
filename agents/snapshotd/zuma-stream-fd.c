/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-stream-fd"

#include "zuma-stream-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zuma-error.h"

static const char *fd_kind(mode_t mode)
{
        if (S_ISDIR(mode))
                return "a directory";
        if (S_ISCHR(mode))
                return "a character device";
        if (S_ISBLK(mode))
                return "a block device";
        if (S_ISLNK(mode))
                return "a symbolic link";
        return "of an unknown kind";
}

int zuma_stream_fd_take(int fd, ZumaStreamFdDirection direction, GError **error)
{
        gboolean reading = direction == ZUMA_STREAM_FD_READ;
        struct stat st;
        int flags, access, copy;

        if (fd < 0 || fstat(fd, &st) < 0) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "stream file descriptor %d is not open", fd);
                return -1;
        }
        if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISREG(st.st_mode)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "stream file descriptor %d is %s, not a pipe, a socket or a "
                            "regular file",
                            fd, fd_kind(st.st_mode));
                return -1;
        }
        flags = fcntl(fd, F_GETFL);
        access = flags & O_ACCMODE;
        if (flags < 0 || (reading && access == O_WRONLY) || (!reading && access == O_RDONLY)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "stream file descriptor %d is not open for %s", fd,
                            reading ? "reading" : "writing");
                return -1;
        }
        copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0) {
                int e = errno;

                zuma_error_set_errno(error, -e, "cannot duplicate stream file descriptor %d: %s",
                                     fd, g_strerror(e));
                return -1;
        }
        return copy;
}

/* Waits until fd is ready for events or the cancellable fires. */
static int wait_ready(ZumaStreamFd *stream, short events)
{
        struct pollfd fds[2] = {
                { .fd = stream->fd, .events = events },
                { .fd = g_cancellable_get_fd(stream->cancellable), .events = POLLIN },
        };
        int r;

        do
                r = poll(fds, fds[1].fd >= 0 ? 2 : 1, -1);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return stream->failed = -errno;
        if (g_cancellable_is_cancelled(stream->cancellable))
                return -ECANCELED;
        return 0;
}

int zuma_stream_fd_read(void *user, void *buf, size_t len)
{
        ZumaStreamFd *stream = user;
        ssize_t n;
        int r;

        for (;;) {
                r = wait_ready(stream, POLLIN);
                if (r < 0)
                        return r;
                n = read(stream->fd, buf, MIN(len, (size_t)G_MAXINT));
                if (n >= 0)
                        break;
                if (errno != EINTR && errno != EAGAIN)
                        return stream->failed = -errno;
        }
        __atomic_add_fetch(&stream->bytes, (guint64)n, __ATOMIC_RELAXED);
        return (int)n;
}

int zuma_stream_fd_write(void *user, const void *buf, size_t len)
{
        ZumaStreamFd *stream = user;
        const guint8 *p = buf;

        while (len > 0) {
                ssize_t n;
                int r = wait_ready(stream, POLLOUT);

                if (r < 0)
                        return r;
                n = write(stream->fd, p, len);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return stream->failed = -errno;
                }
                p += n;
                len -= (size_t)n;
                __atomic_add_fetch(&stream->bytes, (guint64)n, __ATOMIC_RELAXED);
        }
        return 0;
}

guint64 zuma_stream_fd_get_bytes(ZumaStreamFd *stream)
{
        return __atomic_load_n(&stream->bytes, __ATOMIC_RELAXED);
}
