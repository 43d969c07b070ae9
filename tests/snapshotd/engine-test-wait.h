/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the engine tests wait for: a test may poll with a deadline (the
 * daemon never does), here until n origin writes queue in the group commit.
 */
#pragma once

#include <glib.h>

#include "zuma-engine.h"

static inline void engine_wait_queued(ZumaEngine *engine, guint n)
{
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
        ZumaGroupCommitStats stats;

        for (;;) {
                zuma_engine_get_commit_stats(engine, &stats);
                if (stats.queued == n)
                        return;
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(1000);
        }
}
