/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaGroupCommit: concurrent origin writers share one copy-out commit
 * (leader/follower batching).  The engine owns one per store; see THE
 * RULE at the top of zuma-group-commit.c.
 */
#pragma once

#include <glib.h>

#include "snapstore.h"

G_BEGIN_DECLS

typedef struct ZumaGroupCommit ZumaGroupCommit;

/* Both run with the store lock held.  prepare_one prepares one request
 * alone, on the thread that made it (so its errors and libsnapstore's
 * thread-local sentence are its own; `request` is what that thread passed
 * to zuma_group_commit_prepare()).  prepare_many prepares a batch of
 * several in one transaction and one commit, all or nothing: on failure
 * every request of the batch is prepared again alone. */
typedef int (*ZumaPrepareOneFn)(gpointer user, guint64 offset, guint64 length, gpointer request);
typedef int (*ZumaPrepareManyFn)(gpointer user, const SsRange *ranges, gsize n);

typedef struct ZumaGroupCommitStats {
        guint64 commits;          /* prepare_many calls that succeeded: shared commits */
        guint64 batched_requests; /* requests those commits prepared */
        guint64 batches_failed;   /* prepare_many calls that failed (requests went alone) */
        guint queued;             /* requests waiting for a leader now */
} ZumaGroupCommitStats;

ZumaGroupCommit *zuma_group_commit_new(GMutex *store_lock, ZumaPrepareOneFn prepare_one,
                                       ZumaPrepareManyFn prepare_many, gpointer user);
void zuma_group_commit_free(ZumaGroupCommit *gc);

/* Returns once the copy-outs the range needs are durable (0), or with
 * prepare_one's error.  The caller writes the origin only after a 0.
 * Takes the store lock itself: call it holding none. */
int zuma_group_commit_prepare(ZumaGroupCommit *gc, guint64 offset, guint64 length,
                              gpointer request);

void zuma_group_commit_get_stats(ZumaGroupCommit *gc, ZumaGroupCommitStats *ret_stats);

G_END_DECLS
