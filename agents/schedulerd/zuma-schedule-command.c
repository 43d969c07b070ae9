/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedulerd"

#include "zuma-schedule-command.h"

#include "zuma-error.h"

typedef struct {
        gboolean exited;
        gboolean timed_out;
        GSubprocess *process;
} CommandRun;

static void on_exited(GObject *source, GAsyncResult *result, gpointer user_data)
{
        CommandRun *run = user_data;

        g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
        run->exited = TRUE;
}

static gboolean on_timeout(gpointer user_data)
{
        CommandRun *run = user_data;

        run->timed_out = TRUE;
        g_subprocess_force_exit(run->process);
        return G_SOURCE_REMOVE;
}

gboolean zuma_schedule_run_command(const char *command, gint64 timeout_seconds, GError **error)
{
        g_autoptr(GMainContext) context = g_main_context_new();
        g_autoptr(GSource) timeout = NULL;
        g_auto(GStrv) argv = NULL;
        g_autoptr(GSubprocess) process = NULL;
        CommandRun run = { 0 };
        int status;

        if (!g_shell_parse_argv(command, NULL, &argv, error))
                return FALSE;
        process = g_subprocess_newv((const char *const *)argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE,
                                    error);
        if (!process)
                return FALSE;
        run.process = process;

        g_main_context_push_thread_default(context);
        g_subprocess_wait_async(process, NULL, on_exited, &run);
        timeout = g_timeout_source_new_seconds((guint)timeout_seconds);
        g_source_set_callback(timeout, on_timeout, &run, NULL);
        g_source_attach(timeout, context);
        while (!run.exited)
                g_main_context_iteration(context, TRUE);
        g_source_destroy(timeout);
        g_main_context_pop_thread_default(context);

        if (run.timed_out) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_TIMED_OUT,
                            "did not finish in %" G_GINT64_FORMAT " s and was killed",
                            timeout_seconds);
                return FALSE;
        }
        if (g_subprocess_get_if_signaled(process)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED, "was killed by signal %d",
                            g_subprocess_get_term_sig(process));
                return FALSE;
        }
        status = g_subprocess_get_exit_status(process);
        if (status != 0) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED, "exited with status %d", status);
                return FALSE;
        }
        return TRUE;
}
