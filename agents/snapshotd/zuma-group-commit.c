/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Group commit of origin copy-outs, with their I/O outside the store lock.
 *
 * THE RULE (the crash contract, unchanged by batching and by the split):
 * no origin write reaches the device before the copy-out it needs and the
 * metadata that records that copy-out are durable.  A request returns 0
 * from zuma_group_commit_prepare() only after the commit that covers its
 * range returned (ss_copy_plans_apply() or ss_origin_prepare_write(),
 * whose final flush acknowledges it, snapstore/txn.c), and only then does
 * its caller write the origin.
 *
 * Why the pipeline cannot break it (the store's half of the argument is
 * THE SPLIT COPY-OUT at the top of snapstore/origin.c):
 *  - A request's copy-out is planned under the store lock; its data is
 *    read and written without it, into blocks that are only reserved; it
 *    becomes part of the store only in an apply, which re-checks every
 *    chunk and commits, under the store lock.  Between plan and apply the
 *    request's range is in flight: the store refuses to plan or prepare
 *    any range touching it (-EAGAIN), so no other writer is told it may
 *    write those chunks until the apply's commit returned; such a request
 *    waits here for the next apply and is planned again (it then finds the
 *    chunks copied out, or in another plan).
 *  - A request whose plan is empty (nothing needs a copy-out, nothing in
 *    flight touches it) is answered at once, as ss_origin_prepare_write()
 *    answers it without a commit: its chunks' copy-outs, if any, were
 *    committed before.
 *  - An apply runs with the store lock from its first change to its
 *    commit's last flush, so no other call sees the open transaction; the
 *    requests it covers are answered only after it returned.
 *  - Failures go the old way: a failed plan (a full store, an I/O error)
 *    or a failed apply (every plan in it: the store aborted the
 *    transaction and released the reservations) sends the request alone
 *    to prepare_one on its own thread, for its own exact error and the
 *    store-full policy.  prepare_one answers -EAGAIN while another plan
 *    holds the range; the request then waits for the next apply.
 *
 * How (leader/follower, without threads of its own: every step runs on a
 * requesting thread).  A request queues.  Whoever finds the queue with no
 * planner plans it: takes the store lock, plans every queued request
 * (each gets its own plan), releases the lock.  Each request's own thread
 * then does its plan's I/O, so the batch's reads and writes are in flight
 * together, and puts the plan on the ready list.  Once every plan of its
 * batch finished its I/O, and every batch planned before that moment too
 * (apply_due()), a request that finds no apply running applies every ready
 * plan: store lock, one ss_copy_plans_apply(), one commit (batches whose
 * I/O overlapped share it).  While an apply holds the lock and
 * flushes, the plans made before it do their I/O, and new requests queue
 * (they are planned right after the apply releases the lock; under steady
 * load, their I/O then overlaps the next apply).  A waiting request
 * (planned -EAGAIN, or alone -EAGAIN) notes the count of applies under
 * the store lock, when it was refused, and waits for it to move: the plan
 * that held its range can only leave flight through an apply, which moves
 * it afterwards, so no wake-up is lost.
 *
 * Lock order: the store lock before `mutex`; nobody holds `mutex` while
 * waiting for the store lock.
 */
#define G_LOG_DOMAIN "zuma-engine"

#include "zuma-group-commit.h"

#include <errno.h>

typedef enum RequestState {
        REQUEST_QUEUED,  /* waiting for a planner */
        REQUEST_WAITING, /* its range is held by a plan in flight: next apply */
        REQUEST_PLANNED, /* its own thread does the plan's I/O */
        REQUEST_READY,   /* I/O done: waiting for an apply */
        REQUEST_ALONE,   /* prepare it alone (prepare_one) */
        REQUEST_DONE,    /* `result` is the answer */
} RequestState;

/* One planning round's plans: it is applied once all finished their I/O. */
typedef struct Batch {
        guint64 seq;      /* rounds are numbered from 1 */
        guint io_pending; /* plans of the round still in I/O */
        guint refs;       /* its requests not answered yet */
} Batch;

typedef struct Request {
        SsRange range;
        gpointer caller;    /* the request pointer of zuma_group_commit_prepare() */
        RequestState state; /* under mutex */
        SsCopyPlan *plan;
        Batch *batch;         /* PLANNED, READY: its planning round */
        guint64 applies_seen; /* WAITING: the count of applies when refused */
        int result;
} Request;

struct ZumaGroupCommit {
        GMutex *store_lock;
        ZumaGroupCommitOps ops;
        gpointer user;

        GMutex mutex; /* guards the fields below and every Request but its plan's I/O */
        GCond changed;
        GPtrArray *queue; /* Request *, to plan, in arrival order */
        GPtrArray *ready; /* Request *, planned and I/O done */
        gboolean planning, applying;
        guint64 applies; /* applies finished, success or not */
        guint64 rounds;  /* planning rounds so far */
        GQueue in_io;    /* Batch *, rounds with I/O pending, oldest first */
        /* The next apply waits for every round up to this one to finish
         * its I/O (0: no apply waiting yet); see apply_due(). */
        guint64 horizon;
        ZumaGroupCommitStats stats;
};

ZumaGroupCommit *zuma_group_commit_new(GMutex *store_lock, const ZumaGroupCommitOps *ops,
                                       gpointer user)
{
        ZumaGroupCommit *gc = g_new0(ZumaGroupCommit, 1);

        gc->store_lock = store_lock;
        gc->ops = *ops;
        gc->user = user;
        g_mutex_init(&gc->mutex);
        g_cond_init(&gc->changed);
        gc->queue = g_ptr_array_new();
        gc->ready = g_ptr_array_new();
        g_queue_init(&gc->in_io);
        return gc;
}

void zuma_group_commit_free(ZumaGroupCommit *gc)
{
        if (!gc)
                return;
        g_assert(gc->queue->len == 0 && gc->ready->len == 0 && !gc->planning && !gc->applying &&
                 g_queue_is_empty(&gc->in_io));
        g_ptr_array_unref(gc->queue);
        g_ptr_array_unref(gc->ready);
        g_cond_clear(&gc->changed);
        g_mutex_clear(&gc->mutex);
        g_free(gc);
}

/* The planner's work, entered with mutex held and `planning` set by us;
 * returns with mutex held. */
static void plan_queue(ZumaGroupCommit *gc)
{
        g_autoptr(GPtrArray) batch = NULL;

        g_mutex_unlock(&gc->mutex);
        g_mutex_lock(gc->store_lock);
        g_mutex_lock(&gc->mutex);
        batch = gc->queue;
        gc->queue = g_ptr_array_new();
        g_mutex_unlock(&gc->mutex);

        for (guint i = 0; i < batch->len; i++) {
                Request *req = batch->pdata[i];
                SsCopyPlan *plan = NULL;
                int r = gc->ops.plan(gc->user, req->range.offset, req->range.length, req->caller,
                                     &plan);

                /* Outside mutex, but no other thread reads a QUEUED
                 * request's fields: set them, publish the state below. */
                req->plan = plan;
                req->result = r;
        }
        g_mutex_lock(&gc->mutex);
        Batch *round = g_new0(Batch, 1);
        /* Still under the store lock: see "no wake-up is lost" above. */
        for (guint i = 0; i < batch->len; i++) {
                Request *req = batch->pdata[i];

                if (req->result == -EAGAIN) {
                        req->state = REQUEST_WAITING;
                        req->applies_seen = gc->applies;
                        gc->stats.plans_waited++;
                } else if (req->result < 0) {
                        req->state = REQUEST_ALONE;
                } else if (!req->plan) {
                        req->state = REQUEST_DONE;
                } else {
                        req->state = REQUEST_PLANNED;
                        req->batch = round;
                        round->io_pending++;
                        round->refs++;
                }
        }
        round->seq = ++gc->rounds;
        if (round->io_pending)
                g_queue_push_tail(&gc->in_io, round);
        else
                g_free(round);
        g_mutex_unlock(&gc->mutex);
        g_mutex_unlock(gc->store_lock);
        g_mutex_lock(&gc->mutex);
}

/* The applier's work, entered with mutex held and `applying` set by us;
 * returns with mutex held. */
static void apply_ready(ZumaGroupCommit *gc)
{
        g_autoptr(GPtrArray) batch = gc->ready;
        g_autofree SsCopyPlan **plans = NULL;
        RequestState state;
        int r;

        gc->ready = g_ptr_array_new();
        g_mutex_unlock(&gc->mutex);

        plans = g_new(SsCopyPlan *, batch->len);
        for (guint i = 0; i < batch->len; i++)
                plans[i] = ((Request *)batch->pdata[i])->plan;
        g_mutex_lock(gc->store_lock);
        r = gc->ops.apply(gc->user, plans, batch->len);
        g_mutex_unlock(gc->store_lock);

        state = r == 0 ? REQUEST_DONE : REQUEST_ALONE;
        g_mutex_lock(&gc->mutex);
        for (guint i = 0; i < batch->len; i++) {
                Request *req = batch->pdata[i];

                req->plan = NULL;
                req->result = 0;
                req->state = state;
                if (--req->batch->refs == 0)
                        g_free(req->batch);
                req->batch = NULL;
        }
        gc->applies++;
        if (r == 0) {
                gc->stats.commits++;
                gc->stats.batched_requests += batch->len;
        } else {
                gc->stats.batches_failed++;
        }
}

/* Whether self's thread should apply now, mutex held.  Not while another
 * apply runs, nor before self's own round finished its I/O.  Then the
 * first request to get here fixes a horizon, the newest round planned so
 * far, and the apply waits for every round up to it: plans whose I/O
 * overlapped this round's share its commit (one commit costs two
 * flushes), while rounds planned later cannot hold it back for ever. */
static gboolean apply_due(ZumaGroupCommit *gc, Request *self)
{
        const Batch *oldest;

        if (gc->applying || self->batch->io_pending)
                return FALSE;
        if (!gc->horizon)
                gc->horizon = gc->rounds;
        oldest = g_queue_peek_head(&gc->in_io);
        return !oldest || oldest->seq > gc->horizon;
}

/* A request alone, on its own thread; waits out plans holding its range. */
static int prepare_alone(ZumaGroupCommit *gc, Request *self)
{
        for (;;) {
                guint64 seen;
                int r;

                g_mutex_lock(gc->store_lock);
                r = gc->ops.prepare_one(gc->user, self->range.offset, self->range.length,
                                        self->caller);
                g_mutex_lock(&gc->mutex);
                seen = gc->applies;
                g_mutex_unlock(gc->store_lock);
                if (r != -EAGAIN) {
                        g_mutex_unlock(&gc->mutex);
                        return r;
                }
                gc->stats.plans_waited++;
                while (gc->applies == seen)
                        g_cond_wait(&gc->changed, &gc->mutex);
                g_mutex_unlock(&gc->mutex);
        }
}

int zuma_group_commit_prepare(ZumaGroupCommit *gc, guint64 offset, guint64 length, gpointer request)
{
        Request self = { .range = { offset, length }, .caller = request, .state = REQUEST_QUEUED };

        g_mutex_lock(&gc->mutex);
        g_ptr_array_add(gc->queue, &self);
        for (;;) {
                switch (self.state) {
                case REQUEST_QUEUED:
                        if (gc->planning)
                                break;
                        gc->planning = TRUE;
                        plan_queue(gc);
                        gc->planning = FALSE;
                        g_cond_broadcast(&gc->changed);
                        continue;
                case REQUEST_WAITING:
                        if (gc->applies == self.applies_seen)
                                break;
                        self.state = REQUEST_QUEUED;
                        g_ptr_array_add(gc->queue, &self);
                        continue;
                case REQUEST_PLANNED:
                        if (gc->applying)
                                gc->stats.io_while_applying++;
                        g_mutex_unlock(&gc->mutex);
                        /* A failure is kept in the plan: the apply fails. */
                        gc->ops.plan_io(gc->user, self.plan, request);
                        g_mutex_lock(&gc->mutex);
                        self.state = REQUEST_READY;
                        g_ptr_array_add(gc->ready, &self);
                        if (--self.batch->io_pending == 0) {
                                g_queue_remove(&gc->in_io, self.batch);
                                g_cond_broadcast(&gc->changed);
                        }
                        continue;
                case REQUEST_READY:
                        if (!apply_due(gc, &self))
                                break;
                        gc->applying = TRUE;
                        gc->horizon = 0;
                        apply_ready(gc);
                        gc->applying = FALSE;
                        g_cond_broadcast(&gc->changed);
                        continue;
                case REQUEST_ALONE:
                        g_mutex_unlock(&gc->mutex);
                        return prepare_alone(gc, &self);
                case REQUEST_DONE:
                        g_mutex_unlock(&gc->mutex);
                        return self.result;
                default:
                        g_assert_not_reached();
                }
                g_cond_wait(&gc->changed, &gc->mutex);
        }
}

void zuma_group_commit_get_stats(ZumaGroupCommit *gc, ZumaGroupCommitStats *ret_stats)
{
        g_mutex_lock(&gc->mutex);
        *ret_stats = gc->stats;
        ret_stats->queued = gc->queue->len;
        g_mutex_unlock(&gc->mutex);
}
