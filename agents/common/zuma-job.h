/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaJob: one long operation on the bus (org.zumastor.Zumastor1.Job).
 *
 * The work runs on the main loop in bounded steps, one per tick of a short
 * timeout source, so bus calls are answered and the frontend's I/O threads
 * get the engine lock between steps.  The owner supplies the steps and a
 * finish hook through ZumaJobOps; the job does progress, cancellation, the
 * Completed signal and the properties that tell a late subscriber how it
 * ended.  A ZumaJobRegistry (zuma-job-registry.h) exports the object,
 * counts it against the daemon's limit and removes it a while after it
 * finished.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-auth.h"

G_BEGIN_DECLS

#define ZUMA_TYPE_JOB (zuma_job_get_type())
G_DECLARE_FINAL_TYPE(ZumaJob, zuma_job, ZUMA, JOB, GObject)

/* step_interval_ms of a job whose steps only watch a thread: its end is
 * seen within 20 ms, 50 wakeups a second instead of 1,000. */
#define ZUMA_JOB_WATCH_INTERVAL_MS 20

typedef struct ZumaJobOps {
        /* Does one bounded piece of work; sets *ret_finished when none is
         * left.  Returns FALSE with error to end the job as failed. */
        gboolean (*step)(ZumaJob *job, gpointer data, gboolean *ret_finished, GError **error);
        /* Runs once when the job ends for any reason (error is NULL on
         * success), before Completed is emitted; may be NULL. */
        void (*finish)(ZumaJob *job, gpointer data, const GError *error);
        GDestroyNotify free_data;
        /* Milliseconds between two steps; 0: 1 ms, for jobs whose steps do
         * the work.  A job whose work runs on a thread of its own and whose
         * steps only watch it takes more (its end is seen that much later,
         * and the main loop is not woken a thousand times a second). */
        guint step_interval_ms;
} ZumaJobOps;

typedef struct ZumaJobSpec {
        /* Operation: "revert", "replicate"... */
        const char *operation;
        /* Volume: NULL for "/" (no one volume). */
        const char *volume_path;
        /* Objects: NULL-terminated, or NULL for [volume_path] (or none). */
        const char *const *objects;
        /* StartedByUID: ZUMA_UID_UNKNOWN when the daemon starts it. */
        guint32 started_by_uid;
        /* Cancel may stop it. */
        gboolean cancelable;
} ZumaJobSpec;

/* auth decides who may Cancel. */
ZumaJob *zuma_job_new(ZumaAuth *auth, const char *object_path, const ZumaJobSpec *spec,
                      const ZumaJobOps *ops, gpointer data);

const char *zuma_job_get_object_path(ZumaJob *self);
const char *zuma_job_get_operation(ZumaJob *self);
guint32 zuma_job_get_started_by_uid(ZumaJob *self);
GDBusObjectSkeleton *zuma_job_get_object(ZumaJob *self);
gboolean zuma_job_is_finished(ZumaJob *self);

/* Sets Done and Total (0: not known yet) and Progress from them. */
void zuma_job_set_progress(ZumaJob *self, guint64 done, guint64 total);

/* Schedules the steps. */
void zuma_job_start(ZumaJob *self);

/* Ends a running job now with error (its volume stopped, the server is
 * shutting down); does nothing to a finished job. */
void zuma_job_abort(ZumaJob *self, const GError *error);

G_END_DECLS
