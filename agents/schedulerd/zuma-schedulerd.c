/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-schedulerd: snapshots on a schedule.  Owns org.zumastor.Scheduler1
 * on the system bus (or the bus given with --bus-address), keeps each
 * volume's schedule in its state directory, and takes, names, prunes and
 * prioritises scheduled snapshots through zuma-snapshotd's bus API
 * (docs/schedules.md has the rules, zuma-scheduler.h the timing).
 *
 * The daemon's life is zuma_daemon_run()'s (agents/common/zuma-daemon.h):
 * directories locked, bus connected, then load() reads the schedules and
 * exports them; the name is taken, and the first look at the schedules
 * runs from the main loop.  SIGTERM and SIGINT end it after the look in
 * progress (a frozen file system is always thawed first).
 *
 * Test options (zuma-schedulerd(8)): --test-clock=SECONDS replaces the
 * real clock with one the org.zumastor.Scheduler1.TestClock interface
 * moves; --test-hang-after-freeze makes the daemon stop with a file
 * system frozen, for a test to kill it there (or, through the FIFO
 * RUN_DIR/resume, to let it go on after killing the server).  Both are
 * refused without
 * --bus-address, so a daemon on the system bus never has them.
 */
#define G_LOG_DOMAIN "zuma-schedulerd"

#include "zuma-config.h"
#include "zuma-daemon.h"
#include "zuma-error.h"
#include "zuma-names.h"
#include "zuma-scheduler.h"
#include "zuma-utc.h"

#define FREEZE_TIMEOUT_DEFAULT 10 /* seconds */
#define FREEZE_TIMEOUT_MAX 300

typedef struct {
        gint64 test_clock;
        gboolean test_hang_after_freeze;
        gint freeze_timeout;
        ZumaScheduler *scheduler;
} Scheduler;

#define TEST_CLOCK_OFF G_MININT64

static gboolean check_options(ZumaDaemon *daemon, gpointer user_data, GError **error)
{
        Scheduler *scheduler = user_data;
        gboolean testing = scheduler->test_clock != TEST_CLOCK_OFF;

        if (testing && !zuma_utc_in_range(scheduler->test_clock)) {
                g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    "--test-clock must be seconds since the epoch, 1970..9999");
                return FALSE;
        }
        if ((testing || scheduler->test_hang_after_freeze) &&
            !zuma_daemon_get_bus_address(daemon)) {
                g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    "--test-clock and --test-hang-after-freeze are for tests: "
                                    "they need --bus-address (never the system bus)");
                return FALSE;
        }
        if (scheduler->freeze_timeout < 1 || scheduler->freeze_timeout > FREEZE_TIMEOUT_MAX) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--freeze-timeout must be 1..%d seconds", FREEZE_TIMEOUT_MAX);
                return FALSE;
        }
        return TRUE;
}

static gboolean load(ZumaDaemon *daemon, gpointer user_data, GError **error)
{
        Scheduler *scheduler = user_data;
        const ZumaSchedulerSetup setup = {
                .connection = zuma_daemon_get_connection(daemon),
                .auth = zuma_daemon_get_auth(daemon),
                .state_dir = zuma_daemon_get_state_dir(daemon),
                .run_dir = zuma_daemon_get_run_dir(daemon),
                .test_clock = scheduler->test_clock != TEST_CLOCK_OFF,
                .test_clock_start = scheduler->test_clock,
                .freeze_timeout_ms = (guint)scheduler->freeze_timeout * 1000,
                .test_hang_after_freeze = scheduler->test_hang_after_freeze,
        };

        scheduler->scheduler = zuma_scheduler_new(&setup, error);
        if (!scheduler->scheduler)
                return FALSE;
        return zuma_scheduler_load(scheduler->scheduler, error);
}

static char *describe(ZumaDaemon *daemon, gpointer user_data)
{
        Scheduler *scheduler = user_data;

        return zuma_scheduler_describe(scheduler->scheduler);
}

static void cleanup(ZumaDaemon *daemon, gpointer user_data)
{
        Scheduler *scheduler = user_data;

        g_clear_pointer(&scheduler->scheduler, zuma_scheduler_free);
}

int main(int argc, char **argv)
{
        Scheduler scheduler = {
                .test_clock = TEST_CLOCK_OFF,
                .freeze_timeout = FREEZE_TIMEOUT_DEFAULT,
        };
        const GOptionEntry entries[] = {
                { "freeze-timeout", 0, 0, G_OPTION_ARG_INT, &scheduler.freeze_timeout,
                  "Longest time a file system stays frozen for a snapshot (default 10)",
                  "SECONDS" },
                { "test-clock", 0, 0, G_OPTION_ARG_INT64, &scheduler.test_clock,
                  "Tests only: start a clock that only the TestClock interface moves at SECONDS "
                  "since the epoch (needs --bus-address)",
                  "SECONDS" },
                { "test-hang-after-freeze", 0, 0, G_OPTION_ARG_NONE,
                  &scheduler.test_hang_after_freeze,
                  "Tests only: hang with the file system frozen until killed or resumed "
                  "through RUN_DIR/resume (needs --bus-address)",
                  NULL },
                G_OPTION_ENTRY_NULL
        };
        const ZumaDaemonSpec spec = {
                .name = "zuma-schedulerd",
                .summary = "- Zumastor snapshot scheduler",
                .bus_name = ZUMA_SCHEDULERD_BUS_NAME,
                .object_root = ZUMA_SCHEDULERD_OBJECT_ROOT,
                .state_dir = ZUMA_STATE_DIR "/scheduler",
                .run_dir = ZUMA_RUN_DIR "/scheduler",
                .entries = entries,
                .user_data = &scheduler,
                .check_options = check_options,
                .load = load,
                .describe = describe,
                .cleanup = cleanup,
        };

        return zuma_daemon_run(&spec, argc, argv);
}
