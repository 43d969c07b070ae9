/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-frontend"

#include "zuma-kernel-call.h"

#include <errno.h>

#include "zuma-error.h"

struct ZumaKernelCaller {
        GThreadPool *pool; /* one exclusive thread: calls run in order */
        GMutex lock;
        GCond idle_cond;
        guint queued;         /* under lock: pushed and not yet finished */
        char *running;        /* under lock: what runs now, or NULL */
        gint64 running_since; /* under lock: monotonic µs */
};

typedef struct KernelCall {
        gint refs; /* the waiting main thread, the running thread */
        ZumaKernelCaller *caller;
        char *what;
        ZumaKernelCallFunc func;
        gpointer data;
        GDestroyNotify free_data;
        GMutex lock;
        GCond done_cond;
        gboolean done, abandoned; /* under lock */
        gboolean ok;
        GError *error;
        gint64 started; /* monotonic µs */
} KernelCall;

static void kernel_call_unref(KernelCall *call)
{
        if (!g_atomic_int_dec_and_test(&call->refs))
                return;
        if (call->free_data)
                call->free_data(call->data);
        g_clear_error(&call->error);
        g_mutex_clear(&call->lock);
        g_cond_clear(&call->done_cond);
        g_free(call->what);
        g_free(call);
}

static void run_call(gpointer item, gpointer pool_data)
{
        KernelCall *call = item;
        ZumaKernelCaller *caller = pool_data;
        gboolean abandoned;

        g_mutex_lock(&caller->lock);
        caller->running = call->what; /* cleared before the call is freed */
        caller->running_since = g_get_monotonic_time();
        g_mutex_unlock(&caller->lock);

        call->ok = call->func(call->data, &call->error);

        g_mutex_lock(&call->lock);
        call->done = TRUE;
        abandoned = call->abandoned;
        g_cond_signal(&call->done_cond);
        g_mutex_unlock(&call->lock);
        if (abandoned)
                g_message("%s finished after %.1f s, after its caller gave up: %s", call->what,
                          (double)(g_get_monotonic_time() - call->started) / G_USEC_PER_SEC,
                          call->ok ? "done" : call->error->message);

        g_mutex_lock(&caller->lock);
        caller->running = NULL;
        g_mutex_unlock(&caller->lock);
        /* Before the call counts as finished: a drained caller holds no
         * data of any call. */
        kernel_call_unref(call);
        g_mutex_lock(&caller->lock);
        caller->queued--;
        g_cond_broadcast(&caller->idle_cond);
        g_mutex_unlock(&caller->lock);
}

ZumaKernelCaller *zuma_kernel_caller_new(void)
{
        ZumaKernelCaller *caller = g_new0(ZumaKernelCaller, 1);

        g_mutex_init(&caller->lock);
        g_cond_init(&caller->idle_cond);
        /* Exclusive with one thread: the thread exists from now on, so a
         * call never waits for one to be created. */
        caller->pool = g_thread_pool_new(run_call, caller, 1, TRUE, NULL);
        return caller;
}

static gint64 deadline_of(guint timeout_ms)
{
        if (timeout_ms == ZUMA_KERNEL_CALL_FOREVER)
                return G_MAXINT64;
        return g_get_monotonic_time() + (gint64)timeout_ms * G_TIME_SPAN_MILLISECOND;
}

gboolean zuma_kernel_caller_drain(ZumaKernelCaller *caller, guint timeout_ms)
{
        gint64 deadline = deadline_of(timeout_ms);
        gboolean idle;

        g_mutex_lock(&caller->lock);
        while (caller->queued > 0)
                if (!g_cond_wait_until(&caller->idle_cond, &caller->lock, deadline))
                        break;
        idle = caller->queued == 0;
        if (!idle)
                g_warning("%s has waited for the kernel for %.0f s", caller->running,
                          (double)(g_get_monotonic_time() - caller->running_since) /
                                  G_USEC_PER_SEC);
        g_mutex_unlock(&caller->lock);
        return idle;
}

void zuma_kernel_caller_free(ZumaKernelCaller *caller)
{
        if (!caller)
                return;
        g_thread_pool_free(caller->pool, FALSE, TRUE);
        g_cond_clear(&caller->idle_cond);
        g_mutex_clear(&caller->lock);
        g_free(caller);
}

gboolean zuma_kernel_caller_run(ZumaKernelCaller *caller, const char *what, guint timeout_ms,
                                ZumaKernelCallFunc func, gpointer data, GDestroyNotify free_data,
                                GError **error)
{
        KernelCall *call = g_new0(KernelCall, 1);
        gint64 deadline = deadline_of(timeout_ms);
        gboolean done, ok = FALSE;

        call->refs = 2;
        call->caller = caller;
        call->what = g_strdup(what);
        call->func = func;
        call->data = data;
        call->free_data = free_data;
        call->started = g_get_monotonic_time();
        g_mutex_init(&call->lock);
        g_cond_init(&call->done_cond);

        g_mutex_lock(&caller->lock);
        caller->queued++;
        g_mutex_unlock(&caller->lock);
        g_thread_pool_push(caller->pool, call, NULL);

        g_mutex_lock(&call->lock);
        while (!call->done)
                if (!g_cond_wait_until(&call->done_cond, &call->lock, deadline))
                        break;
        done = call->done;
        if (!done)
                call->abandoned = TRUE;
        g_mutex_unlock(&call->lock);

        if (done) {
                ok = call->ok;
                if (!ok)
                        g_propagate_error(error, g_steal_pointer(&call->error));
        } else {
                g_autofree char *running = NULL;
                g_autofree char *behind = NULL;
                GError *timed_out = NULL;

                g_mutex_lock(&caller->lock);
                running = g_strdup(caller->running);
                g_mutex_unlock(&caller->lock);
                if (running && !g_str_equal(running, what))
                        behind = g_strdup_printf(" (queued behind %s)", running);
                zuma_error_set_errno(&timed_out, -ETIMEDOUT,
                                     "%s: no answer from the kernel within %g s%s; it goes on in "
                                     "the background",
                                     what, timeout_ms / 1000.0, behind ? behind : "");
                g_warning("%s", timed_out->message);
                g_propagate_error(error, timed_out);
        }
        kernel_call_unref(call);
        return ok;
}
