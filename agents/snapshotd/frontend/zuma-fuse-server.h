/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The FUSE file system of the frontend: one mount, a directory per volume,
 * a file per image (see zuma-image-table.h), served by libfuse's
 * multi-threaded loop on a thread of its own.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-image-table.h"

G_BEGIN_DECLS

typedef struct ZumaFuseServer ZumaFuseServer;

/* Fails (ZUMA_ERROR_BUSY) when a live file system is mounted on mount_dir:
 * another server uses the run directory. */
gboolean zuma_fuse_server_check_mount(const char *mount_dir, GError **error);

/* Makes mount_dir usable after a killed predecessor: lazily unmounts the
 * dead FUSE mounts it left there; fails like the check on a live one. */
gboolean zuma_fuse_server_clear_stale_mount(const char *mount_dir, GError **error);

/* Mounts on mount_dir (which must exist) and starts serving table. */
ZumaFuseServer *zuma_fuse_server_start(const char *mount_dir, ZumaImageTable *table,
                                       GError **error);

/* The last resort for a kernel that keeps the server waiting on itself:
 * aborts the FUSE connection through fusectl, so every request waiting
 * for an answer fails (ENOTCONN) and so does all later I/O on the images.
 * Only for stopping. */
gboolean zuma_fuse_server_abort(ZumaFuseServer *server);

/* Stops the threads, unmounts (lazily if files are still open) and frees. */
void zuma_fuse_server_stop(ZumaFuseServer *server);

G_END_DECLS
