/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The file descriptor a replication stream goes through (handed over by a
 * bus caller in a GUnixFDList, or a pipe in the tests): checked up front,
 * then read or written from the stream's worker thread with every wait a
 * poll() that a cancellation ends, so stopping the volume or cancelling
 * the job never waits for a peer that stalls.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
        ZUMA_STREAM_FD_READ,
        ZUMA_STREAM_FD_WRITE,
} ZumaStreamFdDirection;

/* A duplicate (close-on-exec) of fd, which must be a pipe, a socket or a
 * regular file opened for direction; else an error naming what it is. */
int zuma_stream_fd_take(int fd, ZumaStreamFdDirection direction, GError **error);

typedef struct ZumaStreamFd {
        int fd;
        GCancellable *cancellable;
        /* Bytes moved so far; read with zuma_stream_fd_get_bytes() from
         * any thread. */
        guint64 bytes;
        /* The -errno of the read or write that failed (not a
         * cancellation), else 0: the engine knows only the number. */
        int failed;
} ZumaStreamFd;

/* The engine's SsStreamReadFn and SsStreamWriteFn (stream.h) on a
 * ZumaStreamFd: -ECANCELED once the cancellable is cancelled. */
int zuma_stream_fd_read(void *user, void *buf, size_t len);
int zuma_stream_fd_write(void *user, const void *buf, size_t len);
guint64 zuma_stream_fd_get_bytes(ZumaStreamFd *stream);

G_END_DECLS
