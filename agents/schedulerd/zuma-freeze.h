/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Freezing a mounted file system for the instant of a snapshot, with the
 * thaw guaranteed on every path.
 *
 * A file system left frozen hangs every writer until someone thaws it, so
 * the thaw must not depend on the scheduler living through the snapshot:
 *
 *   1. zuma_freeze_begin() opens the mount point, makes a pipe and forks
 *      a watchdog before freezing.  The watchdog keeps the read end and
 *      the mount point open and
 *      waits (poll) for the word "done" on the pipe for at most the hard
 *      timeout.  The parent then freezes (FIFREEZE).
 *   2. zuma_freeze_end() thaws (FITHAW), writes "done" and reaps the
 *      watchdog.
 *   3. If the scheduler dies in between (kill -9, a crash), the kernel
 *      closes the write end: the watchdog reads end-of-file and thaws.  If
 *      the scheduler hangs past the timeout (a server that does not
 *      answer), the watchdog thaws at the deadline, and again if the
 *      scheduler dies later (a FIFREEZE still flushing at the deadline
 *      completes after that first thaw).
 *
 * The watchdog does nothing but poll, read, ioctl and _exit (the parent
 * has GDBus threads; after fork only async-signal-safe calls are safe),
 * ignores SIGTERM, SIGINT and SIGHUP (a stop of the scheduler by signal
 * must not take it along) and starts its own process group.  A thaw of a
 * file system already thawed fails with EINVAL and is harmless.
 *
 * Which file system: the one mounted from the volume's origin device,
 * found in /proc/self/mountinfo by device number (the first mount of it:
 * bind mounts share the super block, so freezing one freezes all).
 */
#pragma once

#include <gio/gio.h>

#include "zuma-mountinfo.h"

G_BEGIN_DECLS

typedef struct ZumaFreeze ZumaFreeze;

/* Forks the watchdog, then freezes the file system at mount_point; the
 * watchdog thaws it after timeout_ms whatever happens. */
ZumaFreeze *zuma_freeze_begin(const char *mount_point, guint timeout_ms, GError **error);

/* Thaws, stops the watchdog and frees freeze.  FALSE when the file
 * system had been thawed already by the watchdog (the freeze outlasted its
 * timeout): the snapshot may then not be consistent.  *ret_frozen_us
 * (may be NULL) gets the time from FIFREEZE's return to FITHAW's. */
gboolean zuma_freeze_end(ZumaFreeze *freeze, gint64 *ret_frozen_us, GError **error);

G_END_DECLS
