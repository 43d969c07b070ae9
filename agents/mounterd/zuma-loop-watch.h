/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaLoopWatch: tells when a loop device in use is being detached.
 *
 * `losetup -d` of a loop device that zuma-snapshotd holds open only marks
 * it to detach at its last close (loop/autoclear), and neither the kernel
 * nor udev sends an event for that (losetup opens the device read-only,
 * so udev's close-after-write watch does not fire either).  The one trace
 * is the close of the device node by losetup: this watch (inotify, a
 * GSource on the main loop) sees every close of the device nodes it is
 * given and reports those whose loop/autoclear is then set.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct ZumaLoopWatch ZumaLoopWatch;

/* devnode: "/dev/loopN", now set to detach at its last close. */
typedef void (*ZumaLoopLeavingFn)(const char *devnode, gpointer user_data);

ZumaLoopWatch *zuma_loop_watch_new(ZumaLoopLeavingFn fn, gpointer user_data, GError **error);
/* Watches exactly devnodes (NULL-terminated; those that are not loop
 * devices are ignored). */
void zuma_loop_watch_set(ZumaLoopWatch *self, const char *const *devnodes);
void zuma_loop_watch_free(ZumaLoopWatch *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaLoopWatch, zuma_loop_watch_free)

/* Whether the loop device devnode is set to detach at its last close. */
gboolean zuma_loop_is_leaving(const char *devnode);

G_END_DECLS
