/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaGroupCommit: concurrent origin writers' copy-outs, planned under the
 * store lock, read and written without it, and applied together in one
 * commit.  The engine owns one per store; see THE RULE at the top of
 * zuma-group-commit.c.
 */
#pragma once

#include <glib.h>

#include "snapstore.h"

G_BEGIN_DECLS

typedef struct ZumaGroupCommit ZumaGroupCommit;

/* What the group commit asks of the store, each on the thread of the
 * request it is for.  `request` is what that thread passed to
 * zuma_group_commit_prepare(). */
typedef struct ZumaGroupCommitOps {
        /* Store lock held.  The request alone, the way without the split
         * (exact errors, the store-full policy).  -EAGAIN: a plan in
         * flight holds a chunk of the range; called again after the next
         * apply. */
        int (*prepare_one)(gpointer user, guint64 offset, guint64 length, gpointer request);
        /* Store lock held.  ss_copy_plan(): 0 and no plan (nothing to copy),
         * 0 and a plan, -EAGAIN (planned again after the next apply), or
         * another error (the request then goes alone). */
        int (*plan)(gpointer user, guint64 offset, guint64 length, gpointer request,
                    SsCopyPlan **ret_plan);
        /* No lock: ss_copy_plan_io().  A failure fails the apply that
         * takes the plan (its requests then go alone). */
        int (*plan_io)(gpointer user, SsCopyPlan *plan, gpointer request);
        /* Store lock held: ss_copy_plans_apply() of several requests'
         * plans, one commit, all or nothing; the plans are gone after. */
        int (*apply)(gpointer user, SsCopyPlan *const *plans, gsize n);
} ZumaGroupCommitOps;

typedef struct ZumaGroupCommitStats {
        guint64 commits;           /* applies that succeeded: shared commits */
        guint64 batched_requests;  /* requests those commits covered */
        guint64 batches_failed;    /* applies that failed (their requests went alone) */
        guint64 plans_waited;      /* plans refused because another held the range */
        guint64 io_while_applying; /* plans whose I/O began while an apply ran */
        guint queued;              /* requests waiting to be planned now */
} ZumaGroupCommitStats;

ZumaGroupCommit *zuma_group_commit_new(GMutex *store_lock, const ZumaGroupCommitOps *ops,
                                       gpointer user);
void zuma_group_commit_free(ZumaGroupCommit *gc);

/* Returns once the copy-outs the range needs are durable (0), or with
 * prepare_one's error.  The caller writes the origin only after a 0.
 * Takes the store lock itself: call it holding none. */
int zuma_group_commit_prepare(ZumaGroupCommit *gc, guint64 offset, guint64 length,
                              gpointer request);

void zuma_group_commit_get_stats(ZumaGroupCommit *gc, ZumaGroupCommitStats *ret_stats);

G_END_DECLS
