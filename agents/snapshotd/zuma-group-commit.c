/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Group commit of origin copy-outs.
 *
 * THE RULE (the crash contract, unchanged by batching): no origin write
 * reaches the device before the copy-out it needs and the metadata that
 * records that copy-out are durable.  ss_origin_prepare_write() and
 * ss_origin_prepare_writes() return only after that commit's final flush
 * (snapstore/txn.c), and a request returns from zuma_group_commit_prepare()
 * only after the commit that covers its range returned, so its caller's
 * origin write always comes after it.
 *
 * Why batching cannot break it: every commit of a copy-out happens with
 * the store lock held from the first copy-out of the transaction through
 * the commit's last flush, and a request is answered only after the lock
 * is released.  Two requests touching the same chunk in one batch both wait
 * for the same commit; a request in a later batch, or one going alone,
 * takes the lock only after that commit, so it never sees an exception
 * that is not yet durable (it finds the chunk copied out and committed,
 * needs no copy, and may write).  Snapshot reads and every other engine
 * call also take the lock, so none sees the open transaction either.
 *
 * How: a request queues its range and waits while another thread leads.
 * When no one leads, it leads: takes the store lock (more requests queue
 * meanwhile, and while the previous commit flushes), takes every request
 * queued so far, prepares them all in one transaction and one commit,
 * releases the lock, then publishes the result and wakes the others; those
 * that arrived meanwhile form the next batch.  A batch of one is prepared
 * alone (prepare_one: exactly the path without batching).  A failed batch
 * (store full, a bad range, an I/O error) is aborted as a whole, and each
 * of its requests is then prepared alone on its own thread, so each gets
 * its own exact error and the store-full policy, and no request's work is
 * lost because another's failed.
 *
 * Lock order: the store lock before `mutex`; nobody holds `mutex` while
 * waiting for the store lock.
 */
#define G_LOG_DOMAIN "zuma-engine"

#include "zuma-group-commit.h"

typedef enum RequestState {
        REQUEST_QUEUED,   /* waiting for a leader */
        REQUEST_PREPARED, /* a shared commit covers it: write */
        REQUEST_ALONE,    /* its batch failed: prepare it alone */
        REQUEST_ANSWERED, /* prepared alone by its own thread as leader: `result` */
} RequestState;

typedef struct Request {
        SsRange range;
        RequestState state; /* under mutex */
        int result;
} Request;

struct ZumaGroupCommit {
        GMutex *store_lock;
        ZumaPrepareOneFn prepare_one;
        ZumaPrepareManyFn prepare_many;
        gpointer user;

        GMutex mutex; /* guards the fields below and every Request.state */
        GCond answered;
        GPtrArray *queue; /* Request *, in arrival order */
        gboolean leading; /* a leader took the queue and has not answered yet */
        ZumaGroupCommitStats stats;
};

ZumaGroupCommit *zuma_group_commit_new(GMutex *store_lock, ZumaPrepareOneFn prepare_one,
                                       ZumaPrepareManyFn prepare_many, gpointer user)
{
        ZumaGroupCommit *gc = g_new0(ZumaGroupCommit, 1);

        gc->store_lock = store_lock;
        gc->prepare_one = prepare_one;
        gc->prepare_many = prepare_many;
        gc->user = user;
        g_mutex_init(&gc->mutex);
        g_cond_init(&gc->answered);
        gc->queue = g_ptr_array_new();
        return gc;
}

void zuma_group_commit_free(ZumaGroupCommit *gc)
{
        if (!gc)
                return;
        g_assert(gc->queue->len == 0 && !gc->leading);
        g_ptr_array_unref(gc->queue);
        g_cond_clear(&gc->answered);
        g_mutex_clear(&gc->mutex);
        g_free(gc);
}

/* The leader's work: with the store lock held, prepare the whole queue. */
static void lead(ZumaGroupCommit *gc, Request *self, gpointer request)
{
        g_autoptr(GPtrArray) batch = NULL;
        g_autofree SsRange *ranges = NULL;
        RequestState state;
        int r;

        g_mutex_lock(gc->store_lock);
        g_mutex_lock(&gc->mutex);
        batch = gc->queue;
        gc->queue = g_ptr_array_new();
        g_mutex_unlock(&gc->mutex);

        if (batch->len == 1) {
                self->result =
                        gc->prepare_one(gc->user, self->range.offset, self->range.length, request);
                g_mutex_unlock(gc->store_lock);
                g_mutex_lock(&gc->mutex);
                self->state = REQUEST_ANSWERED;
                g_mutex_unlock(&gc->mutex);
                return;
        }
        ranges = g_new(SsRange, batch->len);
        for (guint i = 0; i < batch->len; i++)
                ranges[i] = ((Request *)batch->pdata[i])->range;
        r = gc->prepare_many(gc->user, ranges, batch->len);
        g_mutex_unlock(gc->store_lock);

        state = r == 0 ? REQUEST_PREPARED : REQUEST_ALONE;
        g_mutex_lock(&gc->mutex);
        for (guint i = 0; i < batch->len; i++)
                ((Request *)batch->pdata[i])->state = state;
        if (r == 0) {
                gc->stats.commits++;
                gc->stats.batched_requests += batch->len;
        } else {
                gc->stats.batches_failed++;
        }
        g_mutex_unlock(&gc->mutex);
}

int zuma_group_commit_prepare(ZumaGroupCommit *gc, guint64 offset, guint64 length, gpointer request)
{
        Request self = { .range = { offset, length }, .state = REQUEST_QUEUED };
        int r;

        g_mutex_lock(&gc->mutex);
        g_ptr_array_add(gc->queue, &self);
        while (self.state == REQUEST_QUEUED && gc->leading)
                g_cond_wait(&gc->answered, &gc->mutex);
        if (self.state == REQUEST_QUEUED) {
                gc->leading = TRUE;
                g_mutex_unlock(&gc->mutex);
                lead(gc, &self, request);
                g_mutex_lock(&gc->mutex);
                gc->leading = FALSE;
                g_cond_broadcast(&gc->answered);
        }
        g_mutex_unlock(&gc->mutex);

        switch (self.state) {
        case REQUEST_PREPARED:
                return 0;
        case REQUEST_ANSWERED:
                return self.result;
        case REQUEST_ALONE:
                g_mutex_lock(gc->store_lock);
                r = gc->prepare_one(gc->user, offset, length, request);
                g_mutex_unlock(gc->store_lock);
                return r;
        case REQUEST_QUEUED:
        default:
                g_assert_not_reached();
        }
}

void zuma_group_commit_get_stats(ZumaGroupCommit *gc, ZumaGroupCommitStats *ret_stats)
{
        g_mutex_lock(&gc->mutex);
        *ret_stats = gc->stats;
        ret_stats->queued = gc->queue->len;
        g_mutex_unlock(&gc->mutex);
}
