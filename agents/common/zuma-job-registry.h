/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaJobRegistry: a daemon's jobs on the bus.
 *
 * Numbers each job (JOBS_PATH/1, /2...), exports it on the daemon's
 * object manager, counts the running ones against the daemon's limit
 * (ZUMA_MAX_JOBS) and takes a finished job off the bus after it lingered
 * (30 s by default) so a late subscriber can still read how it ended.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-auth.h"
#include "zuma-job.h"

G_BEGIN_DECLS

/* Seconds a finished job stays on the bus by default. */
#define ZUMA_JOB_LINGER_S 30

typedef struct ZumaJobRegistry ZumaJobRegistry;

/* Jobs go to OBJECT_ROOT/jobs/N on server (which need not be on a
 * connection yet); at most max_running run at once. */
ZumaJobRegistry *zuma_job_registry_new(GDBusObjectManagerServer *server, ZumaAuth *auth,
                                       const char *object_root, guint max_running);
/* Aborts nothing: call zuma_job_registry_abort_all() first if jobs may
 * still run. */
void zuma_job_registry_free(ZumaJobRegistry *self);

void zuma_job_registry_set_linger(ZumaJobRegistry *self, guint seconds);

guint zuma_job_registry_get_running(ZumaJobRegistry *self);
/* Running and lingering. */
guint zuma_job_registry_get_exported(ZumaJobRegistry *self);

/* Fails with LimitExceeded while max_running jobs run. */
gboolean zuma_job_registry_check_limit(ZumaJobRegistry *self, GError **error);

/* Creates and exports a job (not yet started: set its progress, then
 * zuma_job_start()); returns a new reference.  Does not check the limit:
 * check it before changing anything, then add. */
ZumaJob *zuma_job_registry_add(ZumaJobRegistry *self, const ZumaJobSpec *spec,
                               const ZumaJobOps *ops, gpointer data);

/* Ends every running job with error (the daemon is shutting down). */
void zuma_job_registry_abort_all(ZumaJobRegistry *self, const GError *error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaJobRegistry, zuma_job_registry_free)

G_END_DECLS
