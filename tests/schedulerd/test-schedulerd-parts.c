/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The parts of zuma-schedulerd that run without a bus or root: the
 * schedule's pre/post commands (success, exit status, signal, timeout,
 * bad command line), the mount point lookup, and the test clock.
 */
#include <glib.h>

#include "zuma-error.h"
#include "zuma-freeze.h"
#include "zuma-schedule-command.h"
#include "zuma-scheduler-clock.h"

static void test_command_success(void)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(zuma_schedule_run_command("/bin/true", 5, &error));
        g_assert_no_error(error);
        g_assert_true(zuma_schedule_run_command("/bin/sh -c 'exit 0'", 5, &error));
        g_assert_no_error(error);
}

static void test_command_exit_status(void)
{
        g_autoptr(GError) error = NULL;

        g_assert_false(zuma_schedule_run_command("/bin/sh -c 'exit 3'", 5, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "status 3"));
}

static void test_command_signal(void)
{
        g_autoptr(GError) error = NULL;

        g_assert_false(zuma_schedule_run_command("/bin/sh -c 'kill -9 $$'", 5, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "signal 9"));
}

static void test_command_timeout(void)
{
        g_autoptr(GError) error = NULL;
        gint64 start = g_get_monotonic_time();

        g_assert_false(zuma_schedule_run_command("/bin/sleep 30", 1, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_TIMED_OUT);
        /* Killed at the timeout, not waited for. */
        g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
}

static void test_command_missing(void)
{
        g_autoptr(GError) error = NULL;

        g_assert_false(zuma_schedule_run_command("/nonexistent/zuma-command", 5, &error));
        g_assert_nonnull(error);
}

static void test_mount_point_not_a_block_device(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *mount_point = zuma_find_mount_point("/dev/null", &error);

        g_assert_no_error(error);
        g_assert_null(mount_point);
        g_assert_null(zuma_find_mount_point("/nonexistent/device", &error));
        g_assert_nonnull(error);
}

static void test_clock(void)
{
        g_autoptr(ZumaSchedulerClock) clock = zuma_scheduler_clock_new_test(1800000000);

        g_assert_true(zuma_scheduler_clock_is_test(clock));
        g_assert_cmpint(zuma_scheduler_clock_now(clock), ==, 1800000000);
        zuma_scheduler_clock_wake_at(clock, 1800003600);
        g_assert_cmpint(zuma_scheduler_clock_now(clock), ==, 1800000000);
        zuma_scheduler_clock_set_test_time(clock, 1700000000);
        g_assert_cmpint(zuma_scheduler_clock_now(clock), ==, 1700000000);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/schedulerd/command/success", test_command_success);
        g_test_add_func("/schedulerd/command/exit-status", test_command_exit_status);
        g_test_add_func("/schedulerd/command/signal", test_command_signal);
        g_test_add_func("/schedulerd/command/timeout", test_command_timeout);
        g_test_add_func("/schedulerd/command/missing", test_command_missing);
        g_test_add_func("/schedulerd/mount-point", test_mount_point_not_a_block_device);
        g_test_add_func("/schedulerd/clock", test_clock);
        return g_test_run();
}
