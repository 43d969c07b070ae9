/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedulerd"

#include "zuma-scheduler-clock.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "zuma-error.h"
#include "zuma-utc.h"

struct ZumaSchedulerClock {
        gboolean test;
        gint64 test_now;
        int timer_fd;
        guint watch_id;
        ZumaClockFunc func;
        gpointer user_data;
};

static gboolean on_timer(int fd, GIOCondition condition, gpointer user_data)
{
        ZumaSchedulerClock *clock = user_data;
        guint64 expirations;
        ssize_t n = read(fd, &expirations, sizeof(expirations));

        if (n < 0 && errno == ECANCELED) {
                g_message("the clock was set: planning again");
                clock->func(TRUE, clock->user_data);
        } else if (n == (ssize_t)sizeof(expirations)) {
                clock->func(FALSE, clock->user_data);
        }
        /* EAGAIN: the timer was re-armed between the wake-up and the read. */
        return G_SOURCE_CONTINUE;
}

ZumaSchedulerClock *zuma_scheduler_clock_new_real(ZumaClockFunc func, gpointer user_data,
                                                  GError **error)
{
        ZumaSchedulerClock *clock;
        int fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);

        if (fd < 0) {
                int err = errno;

                zuma_error_set_errno(error, -err, "timerfd_create: %s", g_strerror(err));
                return NULL;
        }
        clock = g_new0(ZumaSchedulerClock, 1);
        clock->timer_fd = fd;
        clock->func = func;
        clock->user_data = user_data;
        clock->watch_id = g_unix_fd_add(fd, G_IO_IN, on_timer, clock);
        zuma_scheduler_clock_wake_at(clock, ZUMA_UTC_MAX);
        return clock;
}

ZumaSchedulerClock *zuma_scheduler_clock_new_test(gint64 start)
{
        ZumaSchedulerClock *clock = g_new0(ZumaSchedulerClock, 1);

        clock->test = TRUE;
        clock->test_now = start;
        clock->timer_fd = -1;
        return clock;
}

void zuma_scheduler_clock_free(ZumaSchedulerClock *clock)
{
        if (!clock)
                return;
        if (clock->watch_id)
                g_source_remove(clock->watch_id);
        if (clock->timer_fd >= 0)
                close(clock->timer_fd);
        g_free(clock);
}

gboolean zuma_scheduler_clock_is_test(const ZumaSchedulerClock *clock)
{
        return clock->test;
}

gint64 zuma_scheduler_clock_now(const ZumaSchedulerClock *clock)
{
        if (clock->test)
                return clock->test_now;
        return g_get_real_time() / G_USEC_PER_SEC;
}

void zuma_scheduler_clock_wake_at(ZumaSchedulerClock *clock, gint64 t)
{
        struct itimerspec spec = { 0 };

        if (clock->test)
                return;
        /* 0 would disarm the timer: the past fires at once anyway. */
        spec.it_value.tv_sec = (time_t)MAX(t, 1);
        if (timerfd_settime(clock->timer_fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec,
                            NULL) < 0)
                g_warning("cannot arm the timer: %s", g_strerror(errno));
}

void zuma_scheduler_clock_set_test_time(ZumaSchedulerClock *clock, gint64 t)
{
        g_return_if_fail(clock->test);
        clock->test_now = t;
}
