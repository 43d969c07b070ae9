/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data frontend: how the snapshot server makes each started volume's
 * origin and snapshots usable as block devices.
 *
 * The bus side calls these functions from the main thread only.  The
 * frontend serves I/O on threads of its own and follows the locking
 * contract in zuma-engine.h.  Each call below runs on a thread of the
 * frontend's own (zuma-kernel-call.h), since it may make the kernel ask
 * the server's own file system something; the main thread waits for it
 * only up to the frontend's timeout (ZUMA_ERROR_TIMED_OUT past it, and the
 * call goes on in the background, in order with the later ones).  Adding
 * and removing a volume wait without a deadline: the engine they get must
 * outlive them.  Two frontends implement it: FUSE files on loop devices
 * (zuma-fuse-frontend.c) and the kernel's `zumastor` device-mapper target
 * (zuma-kernel-frontend.c); zuma-frontend.c hands each call to the one
 * the server started.
 *
 * Images are named by (volume name, snapshot id); id 0 is the origin.  Each
 * attached image is a block device whose udev properties carry
 * ZUMASTOR_VOLUME, ZUMASTOR_VOLUME_UUID, ZUMASTOR_SNAPSHOT (name, empty
 * for the origin) and ZUMASTOR_SNAPSHOT_ID, from which udev/ rules make
 * /dev/zumastor/VOLUME, /dev/zumastor/VOLUME@SNAPSHOT and
 * /dev/zumastor/by-id/VOLUME_UUID[-ID].
 */
#pragma once

#include <gio/gio.h>

#include "zuma-engine.h"

G_BEGIN_DECLS

typedef struct ZumaFrontend ZumaFrontend;

/* Starts the FUSE frontend with its files under run_dir (created if
 * missing).  Cleans up what a killed predecessor left there (stale mount,
 * loop devices still attached to its files). */
ZumaFrontend *zuma_frontend_new(const char *run_dir, GError **error);

/* Starts the kernel frontend (device-mapper and the dm-zumastor module;
 * zuma_frontend_kernel_available() says whether the host has them). */
ZumaFrontend *zuma_frontend_new_kernel(const char *run_dir, GError **error);
gboolean zuma_frontend_kernel_available(GError **error);

/* How long the main thread waits for one call (default 20 s). */
void zuma_frontend_set_timeout(ZumaFrontend *frontend, guint timeout_ms);

/* Detaches every device (forcibly) and stops serving.  A call still stuck
 * in the kernel after the timeout gets its FUSE connection aborted. */
void zuma_frontend_free(ZumaFrontend *frontend);

/* Makes a started volume known: its images can then be attached.  The
 * engine must stay open until zuma_frontend_remove_volume() returned. */
gboolean zuma_frontend_add_volume(ZumaFrontend *frontend, const char *volume,
                                  const char *volume_uuid, ZumaEngine *engine, GError **error);

/* Forgets a volume; fails with ZUMA_ERROR_BUSY while an image is attached. */
gboolean zuma_frontend_remove_volume(ZumaFrontend *frontend, const char *volume, GError **error);

/* Attaches a block device to an image (id 0: the origin, read-write;
 * otherwise snapshot id, read-only unless writable).  Returns the device
 * path ("/dev/loop7") in *ret_device; attaching an attached image returns
 * its device. */
gboolean zuma_frontend_attach(ZumaFrontend *frontend, const char *volume, guint32 id,
                              const char *snapshot_name, gboolean writable, char **ret_device,
                              GError **error);

/* Whether an attached image's device is open exclusively (mounted, or in
 * use by another exclusive opener). */
gboolean zuma_frontend_is_busy(ZumaFrontend *frontend, const char *volume, guint32 id);

/* Detaches an image's device.  Without force, a busy device fails with
 * ZUMA_ERROR_BUSY.  With force, the image fails every further I/O with EIO
 * and the device goes away when its last user closes it.  Detaching an
 * image that is not attached succeeds. */
gboolean zuma_frontend_detach(ZumaFrontend *frontend, const char *volume, guint32 id,
                              gboolean force, GError **error);

/* The image's size changed (the origin grew): its file and its attached
 * device take the new size (bytes) before this returns. */
gboolean zuma_frontend_set_size(ZumaFrontend *frontend, const char *volume, guint32 id,
                                guint64 size, GError **error);

/* A snapshot was renamed or changed writability: updates what udev sees
 * (and re-triggers its rules so /dev/zumastor links follow) and whether
 * writes are accepted. */
gboolean zuma_frontend_update(ZumaFrontend *frontend, const char *volume, guint32 id,
                              const char *snapshot_name, gboolean writable, GError **error);

G_END_DECLS
