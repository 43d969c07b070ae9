/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The scheduler's clock: the time it plans with, and the wake-up at the
 * next planned instant.
 *
 * The real clock is CLOCK_REALTIME (UTC seconds) with a timerfd armed at
 * an absolute time (TFD_TIMER_ABSTIME) and TFD_TIMER_CANCEL_ON_SET: when
 * someone sets the clock (by hand, NTP stepping it, a resume that finds
 * it far off) the read fails with ECANCELED and the scheduler re-plans,
 * so a jump forward or back is seen at once rather than at the old
 * deadline.  A CLOCK_REALTIME deadline that passed while the host was
 * suspended fires at resume.  The timer stays armed (at ZUMA_UTC_MAX when
 * nothing is planned) so that clock changes are always noticed.
 *
 * The test clock (zuma-schedulerd --test-clock=SECONDS) reads no clock
 * and sets no timer: its time is what the TestClock interface sets
 * (org.zumastor.Scheduler1.TestClock), and the scheduler plans whenever
 * it is moved.  It is an explicit option of the daemon, not a build.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct ZumaSchedulerClock ZumaSchedulerClock;

/* Called from the main loop when the wake-up time came (clock_set FALSE)
 * or the real clock was set (clock_set TRUE); the callback re-arms. */
typedef void (*ZumaClockFunc)(gboolean clock_set, gpointer user_data);

ZumaSchedulerClock *zuma_scheduler_clock_new_real(ZumaClockFunc func, gpointer user_data,
                                                  GError **error);
ZumaSchedulerClock *zuma_scheduler_clock_new_test(gint64 start);
void zuma_scheduler_clock_free(ZumaSchedulerClock *clock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaSchedulerClock, zuma_scheduler_clock_free)

gboolean zuma_scheduler_clock_is_test(const ZumaSchedulerClock *clock);

/* UTC seconds since the epoch. */
gint64 zuma_scheduler_clock_now(const ZumaSchedulerClock *clock);

/* Arms the wake-up at t (the past: at once); the test clock ignores it. */
void zuma_scheduler_clock_wake_at(ZumaSchedulerClock *clock, gint64 t);

/* Sets the test clock's time (the test clock only). */
void zuma_scheduler_clock_set_test_time(ZumaSchedulerClock *clock, gint64 t);

G_END_DECLS
