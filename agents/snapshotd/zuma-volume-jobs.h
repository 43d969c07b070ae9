/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume's job layer (zuma-volume-jobs.c): DeleteSnapshots, Revert,
 * Resize.  Stands on the snapshot layer and zuma-volume-state.c.
 */
#pragma once

#include "zuma-volume-snapshots.h"

gboolean volume_delete_snapshots(ZumaVolume *self, const char *const *names, GVariant *options,
                                 char **ret_job, GError **error);
gboolean volume_revert(ZumaVolume *self, const char *name, GVariant *options, char **ret_job,
                       GError **error);
/* Start found snapshots a delete-snapshots job did not get to (the
 * definition's PendingDeletes): delete them. */
void volume_resume_deletes(ZumaVolume *self);
/* Gives up the unfinished revert (running or stuck) and attaches the
 * origin again; NotFound when there is none. */
gboolean volume_abandon_revert(ZumaVolume *self, GVariant *options, GError **error);
/* Start found an unfinished revert in the store: finish it. */
void volume_resume_revert(ZumaVolume *self, guint32 target);
gboolean volume_resize(ZumaVolume *self, GVariant *options, char **ret_job, GError **error);
