/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaKernelCaller: one thread that makes, one at a time and in order, the
 * calls of the data frontend that wait for the kernel, while the main
 * thread waits for each only up to a deadline.
 *
 * Why: opening an image file, LOOP_CONFIGURE, clearing a loop device or
 * writing a uevent make the kernel ask the server's own FUSE file system
 * (lookup, open, getattr, statfs, getxattr).  The workers answer them (a
 * worker is always kept free for such requests: zuma-fuse-server.c), but a
 * kernel that never answers must not freeze the main loop, and with it
 * every bus caller: past the deadline the caller gets ZUMA_ERROR_TIMED_OUT
 * naming what hangs, the server keeps answering, and the call finishes on
 * its own thread whenever the kernel lets it (later calls queue behind
 * it, so their order never changes).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct ZumaKernelCaller ZumaKernelCaller;

/* Runs on the caller's thread; data belongs to the call. */
typedef gboolean (*ZumaKernelCallFunc)(gpointer data, GError **error);

#define ZUMA_KERNEL_CALL_FOREVER G_MAXUINT

ZumaKernelCaller *zuma_kernel_caller_new(void);

/* Waits for every queued call to end, up to timeout_ms; FALSE (and a
 * warning naming the call) if one is still running then. */
gboolean zuma_kernel_caller_drain(ZumaKernelCaller *caller, guint timeout_ms);

/* Ends the thread after the queued calls: drain it first. */
void zuma_kernel_caller_free(ZumaKernelCaller *caller);

/* Runs func(data) on the caller's thread and waits up to timeout_ms
 * (ZUMA_KERNEL_CALL_FOREVER: no deadline) for its result.  free_data
 * (may be NULL) is called on data once the call is done and nobody waits
 * for it any more, on either thread.  What (a phrase such as "attaching
 * snapshot 3 of volume v") names the call in the timeout error and in the
 * late result's log line. */
gboolean zuma_kernel_caller_run(ZumaKernelCaller *caller, const char *what, guint timeout_ms,
                                ZumaKernelCallFunc func, gpointer data, GDestroyNotify free_data,
                                GError **error);

G_END_DECLS
