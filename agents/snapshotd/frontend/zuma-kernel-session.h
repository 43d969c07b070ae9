/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaKernelSession: the server's side of one volume's session with the
 * `zumastor` device-mapper target (docs/kernel-protocol.md,
 * kernel/include/uapi/dm-zumastor.h).
 *
 * One open file of /dev/zumastor-control, tagged with the volume's name.
 * A thread of the session reads the kernel's messages and answers them
 * from the engine:
 *
 *   QUERY_WRITE           zuma_engine_origin_prepare() on a worker of a
 *                         small pool (concurrent queries share the group
 *                         commit), then WRITE_OK, or ERROR with the errno
 *   QUERY_SNAPSHOT_READ   zuma_engine_snapshot_map(), answered at once
 *   QUERY_SNAPSHOT_WRITE  zuma_engine_snapshot_own_chunk(), at once
 *   BARRIER_READY         wakes the barrier's caller (below)
 *
 * THE ORDER OF ANSWERS.  A READ_MAP that says "origin" must reach the
 * kernel before the WRITE_OK of a copy-out of that chunk made after the
 * map was computed (the kernel refuses the late one as stale, and its
 * read would wait for the timeout).  So a READ_MAP or WRITE_MAP is
 * computed and written under `answer_lock`, and a WRITE_OK is written
 * under it: a copy-out that commits while a map is being computed has its
 * WRITE_OK written after that map.
 *
 * Barriers.  zuma_kernel_session_barrier is the engine's ZumaEngineBarrier
 * (zuma-engine.h): begin() writes BARRIER_BEGIN and waits for the
 * kernel's READY while the session thread keeps answering queries (the
 * kernel drains I/O already passed to a device, which never needs an
 * answer; held requests wait across the barrier); end() writes
 * BARRIER_END.  A READY with a status (the kernel's I/O did not drain in
 * time) ends the barrier at once and fails the change.
 *
 * Everything the kernel sends is checked (magic, version, length, type,
 * ranges inside the origin); a bad message is logged and dropped.  A
 * session whose file fails stops answering; the kernel then fails the
 * held I/O at its own timeout, and a new session gets the unanswered
 * requests again.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-engine.h"

G_BEGIN_DECLS

typedef struct ZumaKernelSession ZumaKernelSession;

/* The kernel's control device. */
#define ZUMA_KERNEL_CONTROL_PATH "/dev/zumastor-control"

/* Opens control_path, says HELLO with tag and checks what the kernel
 * answers (the geometry of targets the tag has already against the
 * engine's), then starts answering. */
ZumaKernelSession *zuma_kernel_session_new(const char *control_path, const char *tag,
                                           ZumaEngine *engine, GError **error);

/* The same on an open file (for tests: one end of a SOCK_SEQPACKET pair
 * standing in for the kernel), which the session owns from then on, even
 * on failure. */
ZumaKernelSession *zuma_kernel_session_new_fd(int fd, const char *tag, ZumaEngine *engine,
                                              GError **error);

/* Stops answering (queries being answered finish first) and closes the
 * session; the kernel keeps what waits for the next one. */
void zuma_kernel_session_free(ZumaKernelSession *session);

/* The engine's barrier; its user data is the session. */
extern const ZumaEngineBarrier zuma_kernel_session_barrier;

/* Counters for tests and logs: queries answered, and refused (bad
 * messages from the kernel, or answers the kernel refused). */
void zuma_kernel_session_get_stats(ZumaKernelSession *session, guint64 *ret_answered,
                                   guint64 *ret_refused);

G_END_DECLS
