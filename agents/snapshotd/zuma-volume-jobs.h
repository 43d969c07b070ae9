/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume's job layer (zuma-volume-jobs.c): DeleteSnapshots, Revert,
 * AbandonRevert, Resize (their entry points are in zuma-volume.h); here
 * what Start needs of it.  Stands on the snapshot layer and
 * zuma-volume-state.c.
 */
#pragma once

#include "zuma-volume-snapshots.h"

/* Running, and the server below its most jobs. */
gboolean volume_check_job_possible(ZumaVolume *self, GError **error);
/* Creates the job through the host and tracks it (ended when the volume
 * stops); not started. */
ZumaJob *volume_add_job(ZumaVolume *self, const char *operation, gboolean cancelable,
                        const ZumaJobOps *ops, gpointer data);

/* Start found snapshots a delete-snapshots job did not get to (the
 * definition's PendingDeletes): delete them. */
void volume_resume_deletes(ZumaVolume *self);
/* Start found an unfinished revert in the store: finish it. */
void volume_resume_revert(ZumaVolume *self, guint32 target);
