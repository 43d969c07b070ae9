/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaKernelCaller: calls run in order on their own thread; a call past its
 * deadline answers TimedOut at once and finishes later, its data freed
 * exactly once whichever side is last.  Here a call "hangs in the kernel"
 * by waiting on a gate the test opens.  No root, no FUSE.
 */
#include <gio/gio.h>
#include <string.h>

#include "zuma-error.h"
#include "zuma-kernel-call.h"

typedef struct Gate {
        GMutex lock;
        GCond cond;
        gboolean open;
} Gate;

static void gate_wait(Gate *gate)
{
        g_mutex_lock(&gate->lock);
        while (!gate->open)
                g_cond_wait(&gate->cond, &gate->lock);
        g_mutex_unlock(&gate->lock);
}

static void gate_open(Gate *gate)
{
        g_mutex_lock(&gate->lock);
        gate->open = TRUE;
        g_cond_broadcast(&gate->cond);
        g_mutex_unlock(&gate->lock);
}

typedef struct Call {
        Gate *gate;       /* NULL: returns at once */
        GPtrArray *order; /* names, in the order the calls ran */
        GMutex *order_lock;
        const char *name;
        gboolean fail;
        gint *freed;
} Call;

static gboolean run(gpointer data, GError **error)
{
        Call *call = data;

        if (call->gate)
                gate_wait(call->gate);
        g_mutex_lock(call->order_lock);
        g_ptr_array_add(call->order, (gpointer)call->name);
        g_mutex_unlock(call->order_lock);
        if (call->fail) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY, "%s failed", call->name);
                return FALSE;
        }
        return TRUE;
}

static void call_free(gpointer data)
{
        Call *call = data;

        g_atomic_int_inc(call->freed);
        g_free(call);
}

static Call *call_new(const char *name, Gate *gate, GPtrArray *order, GMutex *lock, gint *freed)
{
        Call *call = g_new0(Call, 1);

        call->name = name;
        call->gate = gate;
        call->order = order;
        call->order_lock = lock;
        call->freed = freed;
        return call;
}

static void test_in_time(void)
{
        ZumaKernelCaller *caller = zuma_kernel_caller_new();
        g_autoptr(GPtrArray) order = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        GMutex lock;
        gint freed = 0;
        Call *failing;

        g_mutex_init(&lock);
        g_assert_true(zuma_kernel_caller_run(caller, "first", 10000, run,
                                             call_new("first", NULL, order, &lock, &freed),
                                             call_free, &error));
        g_assert_no_error(error);
        failing = call_new("second", NULL, order, &lock, &freed);
        failing->fail = TRUE;
        g_assert_false(zuma_kernel_caller_run(caller, "second", ZUMA_KERNEL_CALL_FOREVER, run,
                                              failing, call_free, &error));
        /* The call's own error, not a timeout. */
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY);
        /* The data goes with whichever side lets go last. */
        g_assert_true(zuma_kernel_caller_drain(caller, ZUMA_KERNEL_CALL_FOREVER));
        g_assert_cmpint(g_atomic_int_get(&freed), ==, 2);
        zuma_kernel_caller_free(caller);
        g_assert_cmpuint(order->len, ==, 2);
        g_mutex_clear(&lock);
}

static void test_timeout(void)
{
        ZumaKernelCaller *caller = zuma_kernel_caller_new();
        g_autoptr(GPtrArray) order = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        Gate gate = { 0 };
        GMutex lock;
        gint freed = 0;

        g_mutex_init(&lock);
        g_mutex_init(&gate.lock);
        g_cond_init(&gate.cond);
        /* Hangs until the gate opens: the caller gives up after 50 ms. */
        g_assert_false(zuma_kernel_caller_run(caller, "attaching a stuck device", 50, run,
                                              call_new("stuck", &gate, order, &lock, &freed),
                                              call_free, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_TIMED_OUT);
        g_assert_nonnull(strstr(error->message, "attaching a stuck device"));
        g_clear_error(&error);
        /* Queued behind the stuck one: times out too, and says behind what. */
        g_assert_false(zuma_kernel_caller_run(caller, "next", 50, run,
                                              call_new("next", NULL, order, &lock, &freed),
                                              call_free, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_TIMED_OUT);
        g_assert_nonnull(strstr(error->message, "queued behind attaching a stuck device"));
        g_clear_error(&error);
        g_assert_false(zuma_kernel_caller_drain(caller, 50));
        g_assert_cmpint(g_atomic_int_get(&freed), ==, 0);
        /* The kernel answers: both finish, in order, each freed once. */
        gate_open(&gate);
        g_assert_true(zuma_kernel_caller_drain(caller, ZUMA_KERNEL_CALL_FOREVER));
        g_assert_cmpint(g_atomic_int_get(&freed), ==, 2);
        g_assert_cmpuint(order->len, ==, 2);
        g_assert_cmpstr(order->pdata[0], ==, "stuck");
        g_assert_cmpstr(order->pdata[1], ==, "next");
        /* And the caller works on. */
        g_assert_true(zuma_kernel_caller_run(caller, "after", 10000, run,
                                             call_new("after", NULL, order, &lock, &freed),
                                             call_free, &error));
        g_assert_no_error(error);
        g_assert_true(zuma_kernel_caller_drain(caller, ZUMA_KERNEL_CALL_FOREVER));
        g_assert_cmpint(g_atomic_int_get(&freed), ==, 3);
        zuma_kernel_caller_free(caller);
        g_mutex_clear(&gate.lock);
        g_cond_clear(&gate.cond);
        g_mutex_clear(&lock);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        /* The caller warns about what times out; that is expected here. */
        g_log_set_always_fatal(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
        g_test_add_func("/kernel-call/in-time", test_in_time);
        g_test_add_func("/kernel-call/timeout", test_timeout);
        return g_test_run();
}
