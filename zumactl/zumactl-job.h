/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Waiting for a Job (org.zumastor.Zumastor1.Job) of any daemon: until its
 * Completed signal, with a progress bar on stderr when stderr is a
 * terminal.  Every daemon that runs long operations exports its jobs
 * under its own bus name; ZumactlJobOwner says which one, and how its
 * jobs count their progress.
 */
#pragma once

#include "zumactl.h"

G_BEGIN_DECLS

typedef struct {
        const char *bus_name; /* "org.zumastor.Zumastor1" */
        const char *daemon;   /* "zuma-snapshotd", in messages */
        /* Done and Total count bytes: the bar shows sizes, rate and ETA. */
        gboolean counts_bytes;
} ZumactlJobOwner;

extern const ZumactlJobOwner zumactl_jobs_of_snapshotd;
extern const ZumactlJobOwner zumactl_jobs_of_sendd;

/* The job of owner at path with its properties read now. */
ZumaBusJob *zumactl_job_load(ZumactlContext *ctx, const ZumactlJobOwner *owner, const char *path,
                             GError **error);

/* Waits until the job at path completes.  A job that failed sets error as
 * a method call would (its ErrorName mapped back to the error domain).
 * ret_job, if not NULL, receives the job as it ended. */
gboolean zumactl_job_wait(ZumactlContext *ctx, const ZumactlJobOwner *owner, const char *path,
                          ZumaBusJob **ret_job, GError **error);

/* The --no-wait option of the commands that start a job, setting
 * *no_wait. */
GOptionEntry zumactl_job_no_wait_option(gboolean *no_wait);

/* What a command that started the job at path prints: with no_wait the
 * job's path (or, with --json, the job); otherwise it waits for the job
 * and, with --json, prints it as it ended.  A failure is "what: why". */
gboolean zumactl_job_finish(ZumactlContext *ctx, const ZumactlJobOwner *owner, const char *path,
                            gboolean no_wait, const char *what, GError **error);

G_END_DECLS
