/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The wait is race-free: the job proxy subscribes to the job's signals
 * before it reads the job's properties (GDBusProxy sends AddMatch ahead of
 * GetAll on the same connection, and the bus keeps their order), so
 * either Completed reaches us or Finished is already true when the
 * properties arrive.  The server keeps a finished job on the bus for 30 s
 * so a slow caller still finds it.
 */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-job.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "zuma-error.h"
#include "zumactl-bus.h"
#include "zumactl-errors.h"
#include "zumactl-render.h"

typedef enum {
        PROGRESS_NONE,
        PROGRESS_BAR,   /* one line redrawn in place on a terminal */
        PROGRESS_LINES, /* "revert: 40%" every 10% on a dumb terminal */
} ProgressStyle;

typedef struct {
        const ZumactlJobOwner *owner;
        ZumaBusJob *job;
        GMainLoop *loop;
        ProgressStyle style;
        gboolean drawn;
        int last_step;
        /* Where the rate is measured from (counts_bytes). */
        gint64 start_usec;
        guint64 start_done;
        gboolean completed;
        gboolean success;
        char *error_name;
        char *error_message;
        GError *error; /* lost the server, or interrupted */
} JobWait;

#define BAR_WIDTH 30

const ZumactlJobOwner zumactl_jobs_of_snapshotd = { ZUMA_SNAPSHOTD_BUS_NAME, "zuma-snapshotd",
                                                    FALSE };
const ZumactlJobOwner zumactl_jobs_of_sendd = { ZUMA_SENDD_BUS_NAME, "zuma-sendd", TRUE };

static ProgressStyle progress_style(ZumactlContext *ctx)
{
        const char *term = g_getenv("TERM");

        if (ctx->no_progress || !isatty(STDERR_FILENO))
                return PROGRESS_NONE;
        if (term == NULL || g_strcmp0(term, "dumb") == 0)
                return PROGRESS_LINES;
        return PROGRESS_BAR;
}

static double job_fraction(ZumaBusJob *job)
{
        guint64 total = zuma_bus_job_get_total(job);
        double progress = zuma_bus_job_get_progress(job);

        if (total > 0)
                progress = (double)zuma_bus_job_get_done(job) / (double)total;
        return CLAMP(progress, 0.0, 1.0);
}

/* " (1.2 GiB/3.4 GiB, 45.0 MiB/s, about 50 seconds left)": the rate since
 * the wait began, the time left at that rate (Total is an estimate). */
static void append_bytes(JobWait *wait, GString *line, guint64 done, guint64 total)
{
        double seconds = (double)(g_get_monotonic_time() - wait->start_usec) / G_USEC_PER_SEC;
        double rate = seconds >= 1.0 && done > wait->start_done
                              ? (double)(done - wait->start_done) / seconds
                              : 0.0;
        g_autofree char *done_text = zumactl_format_size(done);
        g_autofree char *total_text = total > 0 ? zumactl_format_size(total) : NULL;

        g_string_append_printf(line, " (%s", done_text);
        if (total_text != NULL)
                g_string_append_printf(line, "/%s", total_text);
        if (rate > 0) {
                g_autofree char *rate_text = zumactl_format_size((guint64)rate);
                g_autofree char *left = total > done
                                                ? zumactl_format_duration_about(
                                                          (gint64)((double)(total - done) / rate))
                                                : NULL;

                g_string_append_printf(line, ", %s/s", rate_text);
                if (left != NULL)
                        g_string_append_printf(line, ", %s left", left);
        }
        g_string_append_c(line, ')');
}

static void progress_draw(JobWait *wait)
{
        const char *operation = zuma_bus_job_get_operation(wait->job);
        guint64 total = zuma_bus_job_get_total(wait->job);
        double fraction = job_fraction(wait->job);
        int percent = (int)(fraction * 100.0);
        g_autoptr(GString) line = g_string_new(NULL);
        guint filled = (guint)(fraction * BAR_WIDTH);

        if (operation == NULL || operation[0] == '\0')
                operation = "job";
        switch (wait->style) {
        case PROGRESS_NONE:
                return;
        case PROGRESS_LINES:
                if (percent / 10 <= wait->last_step)
                        return;
                wait->last_step = percent / 10;
                fprintf(stderr, "%s: %d%%\n", operation, percent);
                return;
        case PROGRESS_BAR:
                g_string_append_printf(line, "\r%s [", operation);
                for (guint i = 0; i < BAR_WIDTH; i++)
                        g_string_append_c(line, i < filled ? '#' : '-');
                g_string_append_printf(line, "] %3d%%", percent);
                if (wait->owner->counts_bytes)
                        append_bytes(wait, line, zuma_bus_job_get_done(wait->job), total);
                else if (total > 0)
                        g_string_append_printf(line,
                                               " (%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ")",
                                               zuma_bus_job_get_done(wait->job), total);
                else if (zuma_bus_job_get_done(wait->job) > 0)
                        g_string_append_printf(line, " (%" G_GUINT64_FORMAT " done)",
                                               zuma_bus_job_get_done(wait->job));
                g_string_append(line, "\033[K");
                fputs(line->str, stderr);
                fflush(stderr);
                wait->drawn = TRUE;
                return;
        }
}

static void progress_end(JobWait *wait)
{
        if (!wait->drawn)
                return;
        /* Leave the full bar on success, nothing on failure. */
        if (wait->completed && wait->success) {
                progress_draw(wait);
                fputc('\n', stderr);
        } else {
                fputs("\r\033[K", stderr);
        }
        fflush(stderr);
}

static void job_wait_complete(JobWait *wait, gboolean success, const char *error_name,
                              const char *message)
{
        if (wait->completed)
                return;
        wait->completed = TRUE;
        wait->success = success;
        wait->error_name = g_strdup(error_name);
        wait->error_message = g_strdup(message);
        g_main_loop_quit(wait->loop);
}

static void job_completed_cb(ZumaBusJob *job, gboolean success, const char *error_name,
                             const char *message, gpointer user_data)
{
        job_wait_complete(user_data, success, error_name, message);
}

static void job_properties_changed_cb(GDBusProxy *proxy, GVariant *changed, GStrv invalidated,
                                      gpointer user_data)
{
        JobWait *wait = user_data;

        /* Finished may be announced before Completed; either ends the wait. */
        if (zuma_bus_job_get_finished(wait->job)) {
                job_wait_complete(wait, zuma_bus_job_get_success(wait->job),
                                  zuma_bus_job_get_error_name(wait->job),
                                  zuma_bus_job_get_error_message(wait->job));
                return;
        }
        progress_draw(wait);
}

static void job_name_owner_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
        JobWait *wait = user_data;
        g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(object));

        if (owner != NULL || wait->error != NULL)
                return;
        g_set_error(&wait->error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY,
                    "%s left the bus before job %s completed", wait->owner->daemon,
                    zumactl_bus_path(wait->job));
        g_main_loop_quit(wait->loop);
}

static gboolean job_interrupt_cb(gpointer user_data)
{
        JobWait *wait = user_data;

        if (wait->error == NULL)
                g_set_error(&wait->error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                            "interrupted; job %s goes on in %s", zumactl_bus_path(wait->job),
                            wait->owner->daemon);
        g_main_loop_quit(wait->loop);
        return G_SOURCE_CONTINUE;
}

ZumaBusJob *zumactl_job_load(ZumactlContext *ctx, const ZumactlJobOwner *owner, const char *path,
                             GError **error)
{
        g_autoptr(ZumaBusJob) job = NULL;
        g_auto(GStrv) cached = NULL;

        job = zuma_bus_job_proxy_new_sync(ctx->connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                          owner->bus_name, path, NULL, error);
        if (job == NULL)
                return NULL;
        cached = g_dbus_proxy_get_cached_property_names(G_DBUS_PROXY(job));
        if (cached == NULL || cached[0] == NULL) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "job %s is gone from the bus",
                            path);
                return NULL;
        }
        return g_steal_pointer(&job);
}

static void job_wait_clear(JobWait *wait)
{
        g_clear_object(&wait->job);
        g_clear_pointer(&wait->loop, g_main_loop_unref);
        g_clear_pointer(&wait->error_name, g_free);
        g_clear_pointer(&wait->error_message, g_free);
        g_clear_error(&wait->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(JobWait, job_wait_clear)

gboolean zumactl_job_wait(ZumactlContext *ctx, const ZumactlJobOwner *owner, const char *path,
                          ZumaBusJob **ret_job, GError **error)
{
        g_auto(JobWait) wait = { 0 };
        guint sigint_id;

        wait.owner = owner;
        wait.job = zumactl_job_load(ctx, owner, path, error);
        if (wait.job == NULL)
                return FALSE;
        wait.start_usec = g_get_monotonic_time();
        wait.start_done = zuma_bus_job_get_done(wait.job);
        wait.loop = g_main_loop_new(NULL, FALSE);
        wait.style = progress_style(ctx);
        wait.last_step = -1;
        g_signal_connect(wait.job, "completed", G_CALLBACK(job_completed_cb), &wait);
        g_signal_connect(wait.job, "g-properties-changed", G_CALLBACK(job_properties_changed_cb),
                         &wait);
        g_signal_connect(wait.job, "notify::g-name-owner", G_CALLBACK(job_name_owner_cb), &wait);

        if (zuma_bus_job_get_finished(wait.job)) {
                job_wait_complete(&wait, zuma_bus_job_get_success(wait.job),
                                  zuma_bus_job_get_error_name(wait.job),
                                  zuma_bus_job_get_error_message(wait.job));
        } else {
                progress_draw(&wait);
                sigint_id = g_unix_signal_add(SIGINT, job_interrupt_cb, &wait);
                g_main_loop_run(wait.loop);
                g_source_remove(sigint_id);
        }
        progress_end(&wait);
        g_signal_handlers_disconnect_by_data(wait.job, &wait);

        if (wait.error != NULL) {
                g_propagate_error(error, g_steal_pointer(&wait.error));
                return FALSE;
        }
        if (!wait.success) {
                if (wait.error_name != NULL && wait.error_name[0] != '\0') {
                        g_autoptr(GError) job_error = g_dbus_error_new_for_dbus_error(
                                wait.error_name,
                                wait.error_message != NULL ? wait.error_message : "");
                        g_dbus_error_strip_remote_error(job_error);
                        g_propagate_error(error, g_steal_pointer(&job_error));
                } else {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED, "%s",
                                    wait.error_message != NULL && wait.error_message[0] != '\0'
                                            ? wait.error_message
                                            : "the job failed");
                }
                return FALSE;
        }
        if (ret_job != NULL) {
                /* Read the final Done/Total: their PropertiesChanged may
                 * trail the Completed signal. */
                *ret_job = zumactl_job_load(ctx, owner, path, NULL);
                if (*ret_job == NULL)
                        *ret_job = g_steal_pointer(&wait.job);
        }
        return TRUE;
}

GOptionEntry zumactl_job_no_wait_option(gboolean *no_wait)
{
        return (GOptionEntry){ "no-wait", 0,
                               0,         G_OPTION_ARG_NONE,
                               no_wait,   "Print the job and return without waiting for it",
                               NULL };
}

gboolean zumactl_job_finish(ZumactlContext *ctx, const ZumactlJobOwner *owner, const char *path,
                            gboolean no_wait, const char *what, GError **error)
{
        g_autoptr(ZumaBusJob) job = NULL;
        g_autoptr(GError) error_local = NULL;

        if (no_wait && !ctx->json) {
                g_autofree char *line = g_strdup_printf("%s\n", path);

                zumactl_print(line);
                return TRUE;
        }
        if (no_wait)
                job = zumactl_job_load(ctx, owner, path, &error_local);
        else
                zumactl_job_wait(ctx, owner, path, &job, &error_local);
        if (job == NULL)
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        if (ctx->json)
                zumactl_print_job_json(job);
        return TRUE;
}
