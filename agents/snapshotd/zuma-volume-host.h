/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a volume needs from the server that holds it, handed down at
 * creation so that a volume never calls up into its owner (ZumaManager
 * fills one in and keeps it for as long as its volumes live).  Also the
 * bus names every part of the server shares.  Who may call what is the
 * faces' business (their method tables), not the volume's: no ZumaAuth.
 *
 * The limits are in zuma-limits.h (agents/common).
 */
#pragma once

#include <gio/gio.h>

#include "zuma-frontend.h"
#include "zuma-job.h"
#include "zuma-limits.h"
#include "zuma-names.h"

G_BEGIN_DECLS

#define ZUMA_BUS_NAME ZUMA_SNAPSHOTD_BUS_NAME
#define ZUMA_OBJECT_ROOT ZUMA_SNAPSHOTD_OBJECT_ROOT
#define ZUMA_MANAGER_PATH ZUMA_SNAPSHOTD_MANAGER_PATH

typedef struct ZumaVolumeHost {
        /* The data frontend, or NULL (--frontend=none, or not yet started). */
        ZumaFrontend *frontend;
        /* STATE_DIR/volumes: where definitions are saved. */
        const char *volumes_dir;
        /* STATE_DIR/replication: receive points and digests
         * (zuma-stream-state.h). */
        const char *replication_dir;
        /* Fails with LimitExceeded while the server runs its most jobs. */
        gboolean (*check_job_limit)(gpointer owner, GError **error);
        /* Creates and exports a job, not yet started (zuma_job_start()). */
        ZumaJob *(*add_job)(gpointer owner, const char *operation, const char *volume_path,
                            gboolean cancelable, const ZumaJobOps *ops, gpointer data);
        gpointer owner;
} ZumaVolumeHost;

G_END_DECLS
