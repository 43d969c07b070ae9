/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaManager: the snapshot server of one host on the bus.
 *
 * Owns the GDBusObjectManagerServer at /org/zumastor/Zumastor1, the
 * Manager object at /org/zumastor/Zumastor1/Manager, the registry of
 * volumes (loaded from the state directory at start) and of jobs, the
 * caller authorisation (the daemon's, zuma-auth.h) and the data frontend.
 * The jobs live in a ZumaJobRegistry (agents/common); the limits are in
 * zuma-limits.h.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-auth.h"
#include "zuma-frontend.h"
#include "zuma-job-registry.h"
#include "zuma-job.h"
#include "zuma-limits.h"
#include "zuma-names.h"

G_BEGIN_DECLS

#define ZUMA_BUS_NAME ZUMA_SNAPSHOTD_BUS_NAME
#define ZUMA_OBJECT_ROOT ZUMA_SNAPSHOTD_OBJECT_ROOT
#define ZUMA_MANAGER_PATH ZUMA_SNAPSHOTD_MANAGER_PATH

#define ZUMA_TYPE_MANAGER (zuma_manager_get_type())
G_DECLARE_FINAL_TYPE(ZumaManager, zuma_manager, ZUMA, MANAGER, GObject)

/* Exports the Manager object on connection; auth decides who may change
 * anything.  frontend_name: "fuse" or "none". */
ZumaManager *zuma_manager_new(GDBusConnection *connection, ZumaAuth *auth, const char *state_dir,
                              const char *run_dir, const char *frontend_name);

/* Creates the state directory, starts the frontend (which cleans up what
 * a killed predecessor left in the run directory: call it only while
 * holding the directories' locks), loads every volume definition and
 * starts the volumes that were running. */
/* Seconds the main thread waits for one data-frontend call (before load). */
void zuma_manager_set_frontend_timeout(ZumaManager *self, guint seconds);

gboolean zuma_manager_load(ZumaManager *self, GError **error);

/* Stops every volume (reason "shutdown": they start again with the next
 * server) and ends every job. */
void zuma_manager_shutdown(ZumaManager *self);

/* "N of M volumes running", for sd_notify STATUS=; the manager's
 * "status-changed" signal tells when it may have changed. */
char *zuma_manager_describe(ZumaManager *self);

ZumaAuth *zuma_manager_get_auth(ZumaManager *self);
ZumaFrontend *zuma_manager_get_frontend(ZumaManager *self);
GDBusObjectManagerServer *zuma_manager_get_object_manager(ZumaManager *self);
/* STATE_DIR/volumes */
const char *zuma_manager_get_volumes_dir(ZumaManager *self);

ZumaJobRegistry *zuma_manager_get_jobs(ZumaManager *self);

/* Fails with LimitExceeded while ZUMA_MAX_JOBS jobs run. */
gboolean zuma_manager_check_job_limit(ZumaManager *self, GError **error);

/* Creates and exports a job on volume_path (not yet started: set its
 * progress, then zuma_job_start()), started by the caller whose
 * authorised method runs now (zuma_auth_get_current_uid()).  It leaves the
 * bus 30 s after it finished. */
ZumaJob *zuma_manager_add_job(ZumaManager *self, const char *operation, const char *volume_path,
                              gboolean cancelable, const ZumaJobOps *ops, gpointer data);

G_END_DECLS
