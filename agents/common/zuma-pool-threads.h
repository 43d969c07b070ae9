/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * GLib's pool threads at exit.  GTask and the TLS backend (glib-networking)
 * run work on GLib's shared thread pool, whose threads linger half a
 * second for more.  Under LeakSanitizer such a thread, still alive at exit
 * with the backend's dynamic thread-local storage, crashes the leak check
 * ("Tracer caught signal 11") and the process exits with a failure.
 * tests/common/test-repl-tls keeps no idle pool thread
 * (zuma_pool_threads_keep_none() at start) and waits for the last to end
 * before it exits, which is enough there.  It is not enough for zuma-sendd
 * and zuma-recvd, whose TLS work also runs on threads of their own: under
 * ASan the tests run them without the leak check (REPL_TLS_ASAN_OPTIONS in
 * tests/e2e/e2e-replication.sh).
 */
#pragma once

#include <glib.h>

/* From now on a pool thread ends once it has nothing to do. */
void zuma_pool_threads_keep_none(void);

/* Waits (a poll, at most timeout_ms) until no GLib pool thread is left;
 * FALSE if some still are. */
gboolean zuma_pool_threads_wait_gone(guint timeout_ms);
