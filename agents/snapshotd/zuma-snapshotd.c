/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-snapshotd: the snapshot server.  Owns org.zumastor.Zumastor1 on the
 * system bus (or the bus given with --bus-address), serves every defined
 * volume's store and, through the data frontend, its origin and snapshots
 * as block devices.
 *
 * The daemon's life is zuma_daemon_run()'s (agents/common/zuma-daemon.h):
 * directories locked, bus connected, then load() here starts the frontend
 * (it cleans up what a killed predecessor left in the run directory) and
 * every volume that should run; only then is the name taken and READY=1
 * sent.  STATUS= says how many volumes run, updated as they start and
 * stop.  SIGTERM and SIGINT stop every volume (reason "shutdown": they
 * start again with the next server) and exit 0.
 */
#define G_LOG_DOMAIN "zuma-snapshotd"

#include "zuma-config.h"
#include "zuma-daemon.h"
#include "zuma-error.h"
#include "zuma-manager.h"

#ifndef ZUMA_FRONTEND_DEFAULT
#define ZUMA_FRONTEND_DEFAULT "none"
#endif

typedef struct Server {
        char *frontend;
        gint frontend_timeout;
        ZumaManager *manager;
} Server;

static gboolean check_options(ZumaDaemon *daemon, gpointer user_data, GError **error)
{
        Server *server = user_data;

        if (!server->frontend)
                server->frontend = g_strdup(ZUMA_FRONTEND_DEFAULT);
        if (!g_strv_contains((const char *const[]){ "auto", "kernel", "fuse", "none", NULL },
                             server->frontend)) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "unknown frontend \"%s\" (use auto, kernel, fuse or none)",
                            server->frontend);
                return FALSE;
        }
        if (server->frontend_timeout < 1 || server->frontend_timeout > 3600) {
                g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    "--frontend-timeout must be 1..3600 seconds");
                return FALSE;
        }
        return TRUE;
}

static void on_status_changed(ZumaManager *manager, ZumaDaemon *daemon)
{
        zuma_daemon_update_status(daemon);
}

static gboolean load(ZumaDaemon *daemon, gpointer user_data, GError **error)
{
        Server *server = user_data;

        g_message("frontend %s", server->frontend);
        server->manager =
                zuma_manager_new(zuma_daemon_get_connection(daemon), zuma_daemon_get_auth(daemon),
                                 zuma_daemon_get_state_dir(daemon), zuma_daemon_get_run_dir(daemon),
                                 server->frontend);
        zuma_manager_set_frontend_timeout(server->manager, (guint)server->frontend_timeout);
        g_signal_connect(server->manager, "status-changed", G_CALLBACK(on_status_changed), daemon);
        return zuma_manager_load(server->manager, error);
}

static char *describe(ZumaDaemon *daemon, gpointer user_data)
{
        Server *server = user_data;

        return zuma_manager_describe(server->manager);
}

static void shutdown_server(ZumaDaemon *daemon, gpointer user_data)
{
        Server *server = user_data;

        g_signal_handlers_disconnect_by_data(server->manager, daemon);
        zuma_manager_shutdown(server->manager);
}

static void cleanup(ZumaDaemon *daemon, gpointer user_data)
{
        Server *server = user_data;

        g_clear_object(&server->manager);
}

int main(int argc, char **argv)
{
        Server server = { .frontend_timeout = 20 };
        const GOptionEntry entries[] = {
                { "frontend", 0, 0, G_OPTION_ARG_STRING, &server.frontend,
                  "Data frontend: kernel (the zumastor dm target), fuse, auto (kernel where "
                  "device-mapper and the module are, else fuse) or none (default " ZUMA_FRONTEND_DEFAULT
                  ")",
                  "NAME" },
                { "frontend-timeout", 0, 0, G_OPTION_ARG_INT, &server.frontend_timeout,
                  "Seconds to wait for the kernel to attach or detach a device (default 20)",
                  "SECONDS" },
                G_OPTION_ENTRY_NULL
        };
        const ZumaDaemonSpec spec = {
                .name = "zuma-snapshotd",
                .summary = "- Zumastor snapshot server",
                .bus_name = ZUMA_BUS_NAME,
                .object_root = ZUMA_OBJECT_ROOT,
                .state_dir = ZUMA_STATE_DIR,
                .run_dir = ZUMA_RUN_DIR,
                .entries = entries,
                .user_data = &server,
                .check_options = check_options,
                .load = load,
                .describe = describe,
                .shutdown = shutdown_server,
                .cleanup = cleanup,
        };
        int status = zuma_daemon_run(&spec, argc, argv);

        g_free(server.frontend);
        return status;
}
