/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolume's long operations, each a ZumaJob whose steps run on the
 * main loop with bounded work:
 *
 *  - delete-snapshots: one snapshot per step (detach, delete, drop the
 *    object); cancelable between snapshots.  The space is freed afterwards
 *    by the volume's background cleanup.  Resumes after a crash: the ids
 *    are saved durably in the volume's definition (PendingDeletes, see
 *    zuma-volume-config.h) before the call returns, and dropped from it
 *    when the job ends while the volume runs (done, cancelled, or failed
 *    on its own); a job ended because the volume stopped or failed, or
 *    the server died, leaves them, and the next start deletes whichever
 *    of them the store still has, first thing (each deletion is one
 *    atomic commit, so a snapshot is either deleted or not).
 *  - revert: the origin device is detached first (a mounted origin is
 *    Busy unless forced) and the revert is recorded in the store
 *    (ss_revert_begin) before the call returns.  The steps first count the
 *    chunks to rewrite (the delta from the snapshot to the origin, for
 *    Total), then rewrite up to REVERT_STEP_BYTES per step, each step under
 *    write_gate (exclusive) and lock.  Not cancelable: a started revert
 *    finishes, after a crash too (Start resumes it).  The origin is
 *    attached again when it is done.  A revert that cannot finish (the
 *    store is full under the refuse policy, or no snapshot may be
 *    auto-deleted) leaves the origin detached and LastError saying what
 *    would let it finish: grow the store (Resize) or delete snapshots,
 *    then Revert to the same snapshot again (or Stop and Start) resumes
 *    it; AbandonRevert gives it up (ss_revert_abandon: the origin keeps
 *    what was reverted so far, every snapshot stays intact) and attaches
 *    the origin again.
 *  - resize: takes the grown size of the origin and/or store device in one
 *    step, then makes the attached origin device take the new size;
 *    shrinking is refused before the job starts.
 */
#define G_LOG_DOMAIN "zuma-volume"

#include "zuma-volume-jobs.h"

#include "zuma-error.h"

#define REVERT_STEP_BYTES (4u << 20)
#define COUNT_STEP_CHUNKS 4096

/* --- delete-snapshots --- */

typedef struct DeleteJob {
        ZumaVolume *volume;
        GArray *ids; /* guint32 */
        guint next;
        gboolean force;
} DeleteJob;

static void delete_job_free(gpointer data)
{
        DeleteJob *job = data;

        g_object_unref(job->volume);
        g_array_unref(job->ids);
        g_free(job);
}

static gboolean delete_step(ZumaJob *job, gpointer data, gboolean *ret_finished, GError **error)
{
        DeleteJob *d = data;
        ZumaVolume *self = d->volume;
        guint32 id = g_array_index(d->ids, guint32, d->next);
        ZumaSnapshotRecord *snapshot;

        if (!volume_require_running(self, error))
                return FALSE;
        snapshot = g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(id));
        /* Gone already (the full policy deleted it meanwhile): done too. */
        if (snapshot && !volume_delete_one(self, snapshot, d->force, error))
                return FALSE;
        d->next++;
        zuma_job_set_progress(job, d->next, d->ids->len);
        *ret_finished = d->next == d->ids->len;
        return TRUE;
}

/* Done, cancelled or failed while the volume runs: the ids are no longer
 * pending (cancel means "not the rest").  Otherwise the volume stopped,
 * failed or the server is ending: the next start finishes the job. */
static void delete_finish(ZumaJob *job, gpointer data, const GError *error)
{
        DeleteJob *d = data;
        ZumaVolume *self = d->volume;

        if (self->state != VOLUME_RUNNING || self->forgotten)
                return;
        zuma_volume_config_remove_pending_deletes(self->config, d->ids);
        volume_save_config_or_warn(self);
}

static const ZumaJobOps delete_ops = {
        .step = delete_step,
        .finish = delete_finish,
        .free_data = delete_job_free,
};

gboolean volume_check_job_possible(ZumaVolume *self, GError **error)
{
        return volume_require_running(self, error) &&
               self->host->check_job_limit(self->host->owner, error);
}

ZumaJob *volume_add_job(ZumaVolume *self, const char *operation, gboolean cancelable,
                        const ZumaJobOps *ops, gpointer data)
{
        ZumaJob *job = self->host->add_job(self->host->owner, operation, self->object_path,
                                           cancelable, ops, data);

        volume_track_job(self, job);
        return job;
}

/* Starts deleting ids (taken); returns the job's path. */
static char *start_delete_job(ZumaVolume *self, GArray *ids, gboolean force)
{
        g_autoptr(ZumaJob) job = NULL;
        DeleteJob *data = g_new0(DeleteJob, 1);

        data->volume = g_object_ref(self);
        data->ids = ids;
        data->force = force;
        job = volume_add_job(self, "delete-snapshots", TRUE, &delete_ops, data);
        zuma_job_set_progress(job, 0, data->ids->len);
        g_message("volume %s: deleting %u snapshots (job %s)", self->config->name, data->ids->len,
                  zuma_job_get_object_path(job));
        zuma_job_start(job);
        return g_strdup(zuma_job_get_object_path(job));
}

gboolean zuma_volume_delete_snapshots(ZumaVolume *self, const char *const *names, gboolean force,
                                      char **ret_job, GError **error)
{
        g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_autoptr(GHashTable) by_name = NULL;
        ZumaFrontend *frontend = volume_frontend(self);
        guint n = g_strv_length((char **)names);

        if (n == 0) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "no snapshot names given");
                return FALSE;
        }
        if (n > ZUMA_MAX_DELETE_NAMES) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_LIMIT_EXCEEDED,
                            "%u snapshot names given, at most %u per call", n,
                            (guint)ZUMA_MAX_DELETE_NAMES);
                return FALSE;
        }
        if (!volume_check_job_possible(self, error))
                return FALSE;
        if (!volume_require_no_revert(self, "delete snapshots", error))
                return FALSE;
        by_name = volume_index_snapshot_names(self, error);
        if (!by_name)
                return FALSE;
        /* Everything is checked before anything is deleted. */
        for (guint i = 0; i < n; i++) {
                ZumaSnapshotRecord *snapshot =
                        volume_find_snapshot_in(self, by_name, names[i], error);
                guint32 id;

                if (!snapshot)
                        return FALSE;
                id = snapshot_record_id(snapshot);
                if (!g_hash_table_add(seen, GUINT_TO_POINTER(id)))
                        continue;
                if (!force && frontend && zuma_frontend_is_busy(frontend, self->config->name, id)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                                    "snapshot %s: device %s is open or mounted (use force)",
                                    names[i], snapshot_record_device(snapshot));
                        return FALSE;
                }
                g_array_append_val(ids, id);
        }
        /* Durably before the first deletion, so a crash cannot leave the
         * request half done. */
        zuma_volume_config_add_pending_deletes(self->config, ids);
        if (!zuma_volume_save_config(self, error)) {
                zuma_volume_config_remove_pending_deletes(self->config, ids);
                g_prefix_error(error, "cannot record the snapshots to delete: ");
                return FALSE;
        }
        *ret_job = start_delete_job(self, g_steal_pointer(&ids), force);
        return TRUE;
}

void volume_resume_deletes(ZumaVolume *self)
{
        g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(guint32));
        GArray *pending = self->config->pending_deletes;

        for (guint i = 0; i < pending->len; i++) {
                guint32 id = g_array_index(pending, guint32, i);

                if (g_hash_table_contains(self->snapshots, GUINT_TO_POINTER(id)))
                        g_array_append_val(ids, id);
                else
                        g_array_append_val(gone, id);
        }
        if (gone->len > 0) {
                zuma_volume_config_remove_pending_deletes(self->config, gone);
                volume_save_config_or_warn(self);
        }
        if (ids->len == 0)
                return;
        /* Past the job limit, like a revert's recovery; forced, since the
         * caller asked for the deletion before the crash. */
        g_message("volume %s: finishing an interrupted deletion of %u snapshots",
                  self->config->name, ids->len);
        g_free(start_delete_job(self, g_steal_pointer(&ids), TRUE));
}

/* --- revert --- */

typedef struct RevertJob {
        ZumaVolume *volume;
        guint32 target;
        char *target_name;
        gboolean counting;
        gboolean counting_started;
        SsDeltaCursor cursor;
        guint64 total;
        guint64 done;
} RevertJob;

static void revert_job_free(gpointer data)
{
        RevertJob *job = data;

        g_object_unref(job->volume);
        g_free(job->target_name);
        g_free(job);
}

static gboolean count_step(RevertJob *d, GError **error)
{
        ZumaEngine *engine = d->volume->engine;
        g_autofree guint64 *chunks = g_new(guint64, COUNT_STEP_CHUNKS);
        int r = 0;

        if (!d->counting_started) {
                r = zuma_engine_delta_begin(engine, d->target, SS_ORIGIN_ID, &d->cursor);
                d->counting_started = r == 0;
        }
        if (r == 0)
                r = zuma_engine_delta_next(engine, &d->cursor, chunks, COUNT_STEP_CHUNKS);
        if (r < 0)
                volume_engine_error(d->volume, r, "cannot count the chunks to revert", error);
        if (r < 0)
                return FALSE;
        d->total += (guint64)r;
        d->counting = r > 0;
        return TRUE;
}

static gboolean revert_step(ZumaJob *job, gpointer data, gboolean *ret_finished, GError **error)
{
        RevertJob *d = data;
        ZumaVolume *self = d->volume;
        ZumaEngine *engine;
        guint64 done = d->done;
        unsigned budget;
        int r;

        if (!volume_require_running(self, error))
                return FALSE;
        engine = self->engine;
        if (d->counting) {
                if (!count_step(d, error))
                        return FALSE;
                zuma_job_set_progress(job, d->done, d->total);
                return TRUE;
        }
        budget = MAX(1u, REVERT_STEP_BYTES / zuma_engine_get_chunk_size(engine));
        r = zuma_engine_revert_step(engine, budget, &done);
        if (r < 0)
                volume_engine_error(self, r, "reverting failed", error);
        if (r < 0)
                return FALSE;
        d->done = done;
        zuma_job_set_progress(job, d->done, MAX(d->total, d->done));
        *ret_finished = r == 0;
        return TRUE;
}

static void revert_finish(ZumaJob *job, gpointer data, const GError *error)
{
        RevertJob *d = data;
        ZumaVolume *self = d->volume;
        g_autoptr(GError) local = NULL;

        if (self->revert_job == job)
                self->revert_job = NULL;
        if (self->state != VOLUME_RUNNING)
                return;
        if (self->revert_abandoning)
                return;
        if (error) {
                /* A half-reverted origin must not take writes that the
                 * unfinished revert would later overwrite. */
                g_autofree char *message = g_strdup_printf(
                        "the revert to snapshot %s is unfinished (%s); %s, then revert to %s "
                        "again (zumactl revert %s %s) to finish it, or abandon the revert "
                        "(zumactl revert --abandon %s; the origin stays partly reverted)",
                        d->target_name, error->message,
                        g_error_matches(error, ZUMA_ERROR, ZUMA_ERROR_NO_SPACE)
                                ? "grow the store device and take its size (zumactl resize "
                                  "--store), or delete snapshots"
                                : "remove the cause",
                        d->target_name, self->config->name, d->target_name, self->config->name);

                g_warning("volume %s: %s", self->config->name, message);
                volume_set_last_error(self, message);
                return;
        }
        g_message("volume %s reverted to snapshot %s (%" G_GUINT64_FORMAT " chunks)",
                  self->config->name, d->target_name, d->done);
        if (!volume_attach_origin(self, &local))
                g_warning("volume %s: %s", self->config->name, local->message);
        volume_refresh(self);
}

static const ZumaJobOps revert_ops = {
        .step = revert_step,
        .finish = revert_finish,
        .free_data = revert_job_free,
};

static void start_revert_job(ZumaVolume *self, guint32 target, const char *target_name,
                             char **ret_job)
{
        g_autoptr(ZumaJob) job = NULL;
        RevertJob *data = g_new0(RevertJob, 1);

        data->volume = g_object_ref(self);
        data->target = target;
        data->target_name = g_strdup(target_name);
        data->counting = TRUE;
        job = volume_add_job(self, "revert", FALSE, &revert_ops, data);
        self->revert_job = job;
        g_message("volume %s: reverting to snapshot %s (job %s)", self->config->name, target_name,
                  zuma_job_get_object_path(job));
        zuma_job_start(job);
        if (ret_job)
                *ret_job = g_strdup(zuma_job_get_object_path(job));
}

void volume_resume_revert(ZumaVolume *self, guint32 target)
{
        ZumaSnapshotRecord *snapshot =
                g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(target));
        g_autofree char *name =
                snapshot ? g_strdup(snapshot_record_name(snapshot)) : g_strdup_printf("%u", target);

        /* Recovery runs even past the job limit: the origin stays detached
         * until it is done. */
        g_message("volume %s: finishing an interrupted revert", self->config->name);
        start_revert_job(self, target, name, NULL);
}

gboolean zuma_volume_revert(ZumaVolume *self, const char *name, gboolean force, char **ret_job,
                            GError **error)
{
        ZumaFrontend *frontend = volume_frontend(self);
        ZumaSnapshotRecord *snapshot;
        ZumaEngine *engine;
        SsStoreInfo info;
        guint32 target;
        int r;

        snapshot = volume_find_snapshot(self, name, error);
        if (!snapshot)
                return FALSE;
        if (self->revert_job) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                            "volume %s is already being reverted", self->config->name);
                return FALSE;
        }
        if (!volume_require_no_receive(self, "revert it", error))
                return FALSE;
        if (!volume_check_job_possible(self, error))
                return FALSE;
        if (frontend && self->frontend_added) {
                if (!force && zuma_frontend_is_busy(frontend, self->config->name, SS_ORIGIN_ID)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                                    "volume %s: origin device %s is open or mounted (unmount "
                                    "it, or use force)",
                                    self->config->name, self->device);
                        return FALSE;
                }
                if (!zuma_frontend_detach(frontend, self->config->name, SS_ORIGIN_ID, force, error))
                        return FALSE;
                volume_set_device(self, "");
        }
        target = snapshot_record_id(snapshot);
        engine = self->engine;
        r = zuma_engine_info(engine, &info);
        if (r == 0 && info.revert_target == target) {
                /* A revert that could not finish, asked for again: resume. */
                g_message("volume %s: resuming the unfinished revert to snapshot %s",
                          self->config->name, name);
                start_revert_job(self, target, name, ret_job);
                return TRUE;
        }
        if (r == 0 && info.revert_target) {
                ZumaSnapshotRecord *pending =
                        g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(info.revert_target));

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                            "volume %s has an unfinished revert to snapshot %s: finish it "
                            "(revert to that snapshot again) or abandon it first",
                            self->config->name,
                            pending ? snapshot_record_name(pending) : "(deleted)");
                return FALSE;
        }
        r = zuma_engine_revert_begin(engine, target);
        if (r < 0)
                volume_engine_error(self, r, "cannot start the revert", error);
        if (r < 0) {
                g_autoptr(GError) local = NULL;

                if (self->state == VOLUME_RUNNING && !volume_attach_origin(self, &local))
                        g_warning("volume %s: %s", self->config->name, local->message);
                return FALSE;
        }
        start_revert_job(self, target, name, ret_job);
        return TRUE;
}

/* Gives up the unfinished revert (running or stuck) and attaches the
 * origin again; NotFound when there is none. */
gboolean zuma_volume_abandon_revert(ZumaVolume *self, GError **error)
{
        ZumaEngine *engine;
        int r;

        if (!volume_require_running(self, error))
                return FALSE;
        if (self->revert_job) {
                g_autoptr(GError) why =
                        g_error_new(ZUMA_ERROR, ZUMA_ERROR_CANCELLED, "the revert was abandoned");
                self->revert_abandoning = TRUE;
                zuma_job_abort(self->revert_job, why);
                self->revert_abandoning = FALSE;
        }
        engine = self->engine;
        r = zuma_engine_revert_abandon(engine);
        if (r == -ENOENT)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "volume %s has no unfinished revert", self->config->name);
        else if (r < 0)
                volume_engine_error(self, r, "cannot abandon the revert", error);
        if (r < 0)
                return FALSE;
        g_message("volume %s: revert abandoned, the origin stays partly reverted",
                  self->config->name);
        volume_set_last_error(self, "");
        if (!self->device[0] && !volume_attach_origin(self, error))
                return FALSE;
        volume_refresh(self);
        return TRUE;
}

/* --- resize --- */

typedef struct ResizeJob {
        ZumaVolume *volume;
        guint64 origin_size; /* 0: keep */
        guint64 store_size;  /* 0: keep */
} ResizeJob;

static void resize_job_free(gpointer data)
{
        ResizeJob *job = data;

        g_object_unref(job->volume);
        g_free(job);
}

/* The origin image (its FUSE file and loop device) takes the size the store
 * now records, so the grown space is usable once the job is done. */
static gboolean resize_origin_device(ZumaVolume *self, guint64 origin_size, GError **error)
{
        ZumaFrontend *frontend = volume_frontend(self);

        if (!frontend || !self->frontend_added)
                return TRUE;
        if (!zuma_frontend_set_size(frontend, self->config->name, SS_ORIGIN_ID, origin_size,
                                    error)) {
                g_prefix_error(error, "the store took the new origin size, but ");
                return FALSE;
        }
        return TRUE;
}

static gboolean resize_step(ZumaJob *job, gpointer data, gboolean *ret_finished, GError **error)
{
        ResizeJob *d = data;
        ZumaVolume *self = d->volume;
        ZumaEngine *engine;
        SsStoreInfo info;
        int r = 0;

        if (!volume_require_running(self, error))
                return FALSE;
        engine = self->engine;
        /* Snapshots record the origin size they were taken at, so growing
         * the origin is ordered against snapshot creation like a write. */
        if (d->origin_size) {
                r = zuma_engine_grow_origin(engine, d->origin_size);
                if (r < 0)
                        volume_engine_error(self, r, "cannot grow the origin", error);
        }
        if (r == 0 && d->store_size) {
                r = zuma_engine_grow_store(engine, d->store_size);
                if (r < 0)
                        volume_engine_error(self, r, "cannot grow the store", error);
        }
        if (r == 0) {
                r = zuma_engine_info(engine, &info);
                if (r < 0)
                        volume_engine_error(self, r, "cannot read the store", error);
        }
        /* The frontend is called with no engine lock held (its workers may
         * need them to answer the kernel). */
        if (r < 0 || (d->origin_size && !resize_origin_device(self, info.origin_size, error)))
                return FALSE;
        zuma_job_set_progress(job, 1, 1);
        *ret_finished = TRUE;
        return TRUE;
}

static void resize_finish(ZumaJob *job, gpointer data, const GError *error)
{
        ResizeJob *d = data;
        ZumaVolume *self = d->volume;

        if (error)
                return;
        if (d->origin_size)
                g_message("volume %s: origin grown to %" G_GUINT64_FORMAT " bytes",
                          self->config->name, d->origin_size);
        if (d->store_size)
                g_message("volume %s: store grown to %" G_GUINT64_FORMAT " bytes",
                          self->config->name, d->store_size);
        volume_refresh(self);
}

static const ZumaJobOps resize_ops = {
        .step = resize_step,
        .finish = resize_finish,
        .free_data = resize_job_free,
};

gboolean zuma_volume_resize(ZumaVolume *self, gboolean origin, gboolean store, char **ret_job,
                            GError **error)
{
        g_autoptr(ZumaJob) job = NULL;
        guint64 origin_now, store_now;
        ZumaEngine *engine;
        ResizeJob *data;
        SsStoreInfo info;

        if (!origin && !store) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "nothing to resize: set option \"origin\" or \"store\"");
                return FALSE;
        }
        if (!volume_require_no_receive(self, "resize it", error))
                return FALSE;
        if (!volume_check_job_possible(self, error))
                return FALSE;
        engine = self->engine;
        zuma_engine_info(engine, &info);
        zuma_engine_get_device_sizes(engine, &origin_now, &store_now);
        if (origin && origin_now < info.origin_size) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "origin %s is %" G_GUINT64_FORMAT
                            " bytes, less than the %" G_GUINT64_FORMAT
                            " the store records: an origin cannot shrink",
                            self->config->origin_device, origin_now, info.origin_size);
                return FALSE;
        }
        if (store && store_now < info.store_size) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "store %s is %" G_GUINT64_FORMAT
                            " bytes, less than the %" G_GUINT64_FORMAT
                            " in use: a store cannot shrink",
                            self->config->store_device, store_now, info.store_size);
                return FALSE;
        }
        data = g_new0(ResizeJob, 1);
        data->volume = g_object_ref(self);
        data->origin_size = origin ? origin_now : 0;
        data->store_size = store ? store_now : 0;
        job = volume_add_job(self, "resize", FALSE, &resize_ops, data);
        zuma_job_set_progress(job, 0, 1);
        zuma_job_start(job);
        *ret_job = g_strdup(zuma_job_get_object_path(job));
        return TRUE;
}
