/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-job"

#include "zuma-job.h"

#include "zuma-bus-generated.h"
#include "zuma-error.h"
#include "zuma-method-table.h"
#include "zuma-options.h"
#include "zuma-reply.h"

/* Milliseconds between two steps of a job whose steps do its work: long
 * enough for a waiting I/O thread to take the engine lock, short enough
 * that a job is not slowed down (ZumaJobOps.step_interval_ms for the
 * others). */
#define STEP_INTERVAL_MS 1

/* For crash tests: ZUMA_SNAPSHOTD_JOB_STEP_LIMIT=N makes every job stop
 * after N steps and wait there until it is aborted (the volume stops, the
 * server ends or is killed) or cancelled, so a test can kill the server or
 * cancel the job at a known point of a job without timing.  Unset (always, outside tests): no limit. */
#define STEP_LIMIT_ENV "ZUMA_SNAPSHOTD_JOB_STEP_LIMIT"

static guint64 step_limit(void)
{
        static gsize once;
        static guint64 limit = G_MAXUINT64;

        if (g_once_init_enter(&once)) {
                const char *text = g_getenv(STEP_LIMIT_ENV);

                if (text && !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &limit, NULL))
                        g_warning("ignoring %s=%s: not a number", STEP_LIMIT_ENV, text);
                else if (text)
                        g_warning("%s=%s: jobs stop after that many steps (for tests only)",
                                  STEP_LIMIT_ENV, text);
                g_once_init_leave(&once, 1);
        }
        return limit;
}

struct _ZumaJob {
        GObject parent_instance;
        ZumaAuth *auth;
        char *object_path;
        ZumaBusObjectSkeleton *object;
        ZumaBusJob *iface;
        ZumaMethodBinding *methods;
        ZumaJobOps ops;
        gpointer data;
        guint step_id;
        guint64 steps; /* taken so far */
        gboolean held; /* at the test step limit: only a cancel or an abort moves it */
        gboolean cancel_requested;
        guint64 done, total;     /* the owner's latest figures */
        gint64 progress_us;      /* when they last went to the bus */
        guint progress_flush_id; /* sends figures held back meanwhile */
        gboolean finished;
};

G_DEFINE_TYPE(ZumaJob, zuma_job, G_TYPE_OBJECT)

enum { SIGNAL_COMPLETED, N_SIGNALS };
static guint signals[N_SIGNALS];

const char *zuma_job_get_object_path(ZumaJob *self)
{
        return self->object_path;
}

const char *zuma_job_get_operation(ZumaJob *self)
{
        return zuma_bus_job_get_operation(self->iface);
}

guint32 zuma_job_get_started_by_uid(ZumaJob *self)
{
        return zuma_bus_job_get_started_by_uid(self->iface);
}

GDBusObjectSkeleton *zuma_job_get_object(ZumaJob *self)
{
        return G_DBUS_OBJECT_SKELETON(self->object);
}

gboolean zuma_job_is_finished(ZumaJob *self)
{
        return self->finished;
}

/* Progress reaches the bus at most this often (PropertiesChanged for every
 * millisecond's step would flood every client); the end always does. */
#define PROGRESS_INTERVAL_US (G_USEC_PER_SEC / 10)

static void publish_progress(ZumaJob *self)
{
        g_clear_handle_id(&self->progress_flush_id, g_source_remove);
        self->progress_us = g_get_monotonic_time();
        zuma_bus_job_set_done(self->iface, self->done);
        zuma_bus_job_set_total(self->iface, self->total);
        zuma_bus_job_set_progress(self->iface,
                                  self->total ? (double)self->done / (double)self->total : 0.0);
}

static gboolean on_progress_flush(gpointer data)
{
        ZumaJob *self = data;

        self->progress_flush_id = 0;
        publish_progress(self);
        return G_SOURCE_REMOVE;
}

void zuma_job_set_progress(ZumaJob *self, guint64 done, guint64 total)
{
        gint64 since = g_get_monotonic_time() - self->progress_us;

        if (total && done > total)
                done = total;
        self->done = done;
        self->total = total;
        if (since >= PROGRESS_INTERVAL_US || (total && done == total) || self->finished) {
                publish_progress(self);
                return;
        }
        /* Too soon: these figures go when the interval is over, unless
         * newer ones replace them first. */
        if (!self->progress_flush_id)
                self->progress_flush_id =
                        g_timeout_add((guint)((PROGRESS_INTERVAL_US - since) / 1000) + 1,
                                      on_progress_flush, self);
}

static void complete(ZumaJob *self, const GError *error)
{
        g_autofree char *error_name = NULL;
        g_autofree char *message = NULL;

        if (self->finished)
                return;
        /* The handlers of "completed" may drop the last other reference. */
        g_object_ref(self);
        self->finished = TRUE;
        g_clear_handle_id(&self->step_id, g_source_remove);
        if (self->ops.finish)
                self->ops.finish(self, self->data, error);
        if (self->ops.free_data)
                g_clear_pointer(&self->data, self->ops.free_data);

        if (error) {
                /* The figures the failure found, not the last sent. */
                publish_progress(self);
                error_name = error->domain == ZUMA_ERROR ? g_dbus_error_encode_gerror(error)
                                                         : g_strdup(ZUMA_ERROR_PREFIX "Failed");
                message = g_utf8_make_valid(error->message, -1);
                g_message("job %s (%s) failed: %s", self->object_path, zuma_job_get_operation(self),
                          message);
        } else {
                guint64 all = MAX(self->total, self->done);

                zuma_job_set_progress(self, all, all);
                zuma_bus_job_set_progress(self->iface, 1.0);
                g_message("job %s (%s) done", self->object_path, zuma_job_get_operation(self));
        }
        zuma_bus_job_set_cancelable(self->iface, FALSE);
        zuma_bus_job_set_finished(self->iface, TRUE);
        zuma_bus_job_set_success(self->iface, error == NULL);
        zuma_bus_job_set_error_name(self->iface, error_name ? error_name : "");
        zuma_bus_job_set_error_message(self->iface, message ? message : "");
        /* Properties first, so a proxy's cache is current at Completed. */
        g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self->iface));
        zuma_bus_job_emit_completed(self->iface, error == NULL, error_name ? error_name : "",
                                    message ? message : "");
        g_signal_emit(self, signals[SIGNAL_COMPLETED], 0);
        g_object_unref(self);
}

static gboolean on_step(gpointer user_data)
{
        g_autoptr(ZumaJob) self = g_object_ref(user_data);
        g_autoptr(GError) error = NULL;
        gboolean finished = FALSE;

        if (self->cancel_requested) {
                g_set_error_literal(&error, ZUMA_ERROR, ZUMA_ERROR_CANCELLED,
                                    "the job was cancelled");
                complete(self, error);
                return G_SOURCE_REMOVE;
        }
        if (self->steps >= step_limit()) {
                g_message("job %s held after %" G_GUINT64_FORMAT " steps (%s)", self->object_path,
                          self->steps, STEP_LIMIT_ENV);
                self->step_id = 0;
                self->held = TRUE;
                return G_SOURCE_REMOVE;
        }
        self->steps++;
        if (!self->ops.step(self, self->data, &finished, &error)) {
                complete(self, error);
                return G_SOURCE_REMOVE;
        }
        if (finished) {
                complete(self, NULL);
                return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
}

void zuma_job_start(ZumaJob *self)
{
        g_return_if_fail(!self->step_id && !self->finished);
        g_message("job %s (%s) started", self->object_path, zuma_job_get_operation(self));
        self->step_id = g_timeout_add(self->ops.step_interval_ms ? self->ops.step_interval_ms
                                                                 : STEP_INTERVAL_MS,
                                      on_step, self);
}

void zuma_job_abort(ZumaJob *self, const GError *error)
{
        complete(self, error);
}

static GVariant *cancel_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaJob *self = ZUMA_JOB(object);

        if (!zuma_options_parse(call->options, error, NULL))
                return NULL;
        if (self->finished)
                /* Nothing left to stop: the caller gets what it wanted. */
                return g_variant_new("()");
        if (!zuma_bus_job_get_cancelable(self->iface)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY, "a %s job cannot be cancelled",
                            zuma_job_get_operation(self));
                return NULL;
        }
        g_message("job %s (%s): cancel requested by uid %u", self->object_path,
                  zuma_job_get_operation(self), call->uid);
        self->cancel_requested = TRUE;
        if (self->held) { /* its next step ends it */
                self->held = FALSE;
                self->step_id = g_idle_add(on_step, self);
        }
        return g_variant_new("()");
}

static const ZumaMethod job_methods[] = {
        { "Cancel", "cancel jobs", cancel_method },
};

static const ZumaMethodTable job_table = {
        zuma_bus_job_interface_info,
        job_methods,
        G_N_ELEMENTS(job_methods),
        NULL,
};

ZumaJob *zuma_job_new(ZumaAuth *auth, const char *object_path, const ZumaJobSpec *spec,
                      const ZumaJobOps *ops, gpointer data)
{
        ZumaJob *self = g_object_new(ZUMA_TYPE_JOB, NULL);
        const char *volume_path = spec->volume_path ? spec->volume_path : "/";
        const char *const just_volume[] = { volume_path, NULL };
        const char *const none[] = { NULL };
        const char *const *objects = spec->objects;

        self->auth = g_object_ref(auth);
        self->object_path = g_strdup(object_path);
        self->ops = *ops;
        self->data = data;
        self->object = zuma_bus_object_skeleton_new(object_path);
        self->iface = zuma_bus_job_skeleton_new();
        if (!objects)
                objects = spec->volume_path ? just_volume : none;
        zuma_bus_job_set_operation(self->iface, spec->operation);
        zuma_bus_job_set_volume(self->iface, volume_path);
        zuma_bus_job_set_objects(self->iface, objects);
        zuma_bus_job_set_started_by_uid(self->iface, spec->started_by_uid);
        zuma_bus_job_set_start_time(self->iface, (guint64)(g_get_real_time() / G_USEC_PER_SEC));
        zuma_bus_job_set_cancelable(self->iface, spec->cancelable);
        zuma_bus_job_set_error_name(self->iface, "");
        zuma_bus_job_set_error_message(self->iface, "");
        self->methods = zuma_method_table_bind(&job_table, G_DBUS_INTERFACE_SKELETON(self->iface),
                                               auth, G_OBJECT(self));
        zuma_bus_object_skeleton_set_job(self->object, self->iface);
        return self;
}

static void zuma_job_dispose(GObject *object)
{
        ZumaJob *self = ZUMA_JOB(object);

        g_clear_handle_id(&self->step_id, g_source_remove);
        g_clear_handle_id(&self->progress_flush_id, g_source_remove);
        if (self->ops.free_data)
                g_clear_pointer(&self->data, self->ops.free_data);
        g_clear_pointer(&self->methods, zuma_method_binding_free);
        g_clear_object(&self->iface);
        g_clear_object(&self->object);
        g_clear_object(&self->auth);
        G_OBJECT_CLASS(zuma_job_parent_class)->dispose(object);
}

static void zuma_job_finalize(GObject *object)
{
        ZumaJob *self = ZUMA_JOB(object);

        g_free(self->object_path);
        G_OBJECT_CLASS(zuma_job_parent_class)->finalize(object);
}

static void zuma_job_class_init(ZumaJobClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);

        object_class->dispose = zuma_job_dispose;
        object_class->finalize = zuma_job_finalize;
        /* The job ended (Completed was emitted). */
        signals[SIGNAL_COMPLETED] =
                g_signal_new("completed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                             NULL, NULL, G_TYPE_NONE, 0);
}

static void zuma_job_init(ZumaJob *self)
{
}
