/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-snapshotd: the snapshot server.  Owns org.zumastor.Zumastor1 on the
 * system bus (or the bus given with --bus-address), serves every defined
 * volume's store and, through the data frontend, its origin and snapshots
 * as block devices.
 *
 * Start-up order: connect to the bus; lock the state and run directories
 * (a second server on them fails here, before it touches a device or the
 * frontend's mount); start the frontend (it cleans up what a killed
 * predecessor left in the run directory) and every volume that should
 * run; only then take the bus name and tell systemd READY=1.  So a client
 * that sees the name sees every volume already loaded.  SIGTERM and SIGINT
 * stop every volume (reason "shutdown": they start again with the next
 * server) and exit 0.
 */
#define G_LOG_DOMAIN "zuma-snapshotd"

#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zuma-config.h"
#include "zuma-error.h"
#include "zuma-manager.h"

#if ZUMA_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#ifndef ZUMA_FRONTEND_DEFAULT
#define ZUMA_FRONTEND_DEFAULT "none"
#endif

enum {
        EXIT_OK = 0,
        EXIT_FAILURE_RUNTIME = 1, /* could not start, or lost the bus */
        EXIT_USAGE = 2,           /* bad command line */
};

typedef struct Daemon {
        GMainLoop *loop;
        GDBusConnection *connection;
        ZumaManager *manager;
        int exit_status;
        gboolean name_acquired;
        gboolean use_journal;
} Daemon;

static void notify(const char *state)
{
#if ZUMA_HAVE_SYSTEMD
        sd_notify(0, state);
#else
        (void)state;
#endif
}

static void notify_status(Daemon *daemon)
{
        g_autofree char *status = zuma_manager_describe(daemon->manager);
        g_autofree char *line = g_strdup_printf("STATUS=%s", status);

        notify(line);
}

static const char *field_domain(const GLogField *fields, gsize n_fields)
{
        for (gsize i = 0; i < n_fields; i++)
                if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
                        return fields[i].value;
        return NULL;
}

/* Journal when stderr goes to journald (as under systemd), plain lines on
 * stderr otherwise.  G_MESSAGES_DEBUG and --verbose decide about debug. */
static GLogWriterOutput log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                                   gpointer user_data)
{
        const Daemon *daemon = user_data;

        if (g_log_writer_default_would_drop(level, field_domain(fields, n_fields)))
                return G_LOG_WRITER_HANDLED;
        if (daemon->use_journal &&
            g_log_writer_journald(level, fields, n_fields, NULL) == G_LOG_WRITER_HANDLED)
                return G_LOG_WRITER_HANDLED;
        return g_log_writer_standard_streams(level, fields, n_fields, NULL);
}

static gboolean on_quit_signal(gpointer user_data)
{
        Daemon *daemon = user_data;

        g_message("signal received, shutting down");
        g_main_loop_quit(daemon->loop);
        return G_SOURCE_CONTINUE;
}

static void on_connection_closed(GDBusConnection *connection, gboolean remote_peer_vanished,
                                 GError *error, gpointer user_data)
{
        Daemon *daemon = user_data;

        g_warning("lost the bus connection%s%s", error ? ": " : "", error ? error->message : "");
        daemon->exit_status = EXIT_FAILURE_RUNTIME;
        g_main_loop_quit(daemon->loop);
}

static void on_name_acquired(GDBusConnection *connection, const char *name, gpointer user_data)
{
        Daemon *daemon = user_data;

        daemon->name_acquired = TRUE;
        g_message("owning %s", name);
        notify_status(daemon);
        notify("READY=1");
        g_message("ready");
}

static void on_name_lost(GDBusConnection *connection, const char *name, gpointer user_data)
{
        Daemon *daemon = user_data;

        if (daemon->name_acquired)
                g_warning("lost the bus name %s", name);
        else
                g_warning("cannot own %s: another zuma-snapshotd has it, or the bus policy "
                          "does not let this user own it",
                          name);
        daemon->exit_status = EXIT_FAILURE_RUNTIME;
        g_main_loop_quit(daemon->loop);
}

/* Holds DIR/zuma-snapshotd.lock (flock) for as long as the server runs;
 * returns the descriptor, or -1 with error when another server holds it. */
static int lock_directory(const char *dir, GError **error)
{
        g_autofree char *path = g_build_filename(dir, "zuma-snapshotd.lock", NULL);
        int fd, e;

        if (g_mkdir_with_parents(dir, 0755) < 0) {
                e = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot create %s: %s",
                            dir, g_strerror(e));
                return -1;
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
                return fd;
        e = errno;
        if (fd >= 0)
                close(fd);
        if (e == EWOULDBLOCK)
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                            "another zuma-snapshotd is using %s", dir);
        else
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot lock %s: %s", path,
                            g_strerror(e));
        return -1;
}

static GDBusConnection *connect_bus(const char *address, GError **error)
{
        if (!address)
                return g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, error);
        return g_dbus_connection_new_for_address_sync(
                address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, error);
}

int main(int argc, char **argv)
{
        g_autofree char *state_dir = NULL;
        g_autofree char *run_dir = NULL;
        g_autofree char *frontend = NULL;
        g_autofree char *bus_address = NULL;
        gboolean verbose = FALSE, version = FALSE;
        gint frontend_timeout = 20;
        const GOptionEntry entries[] = {
                { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
                  "Where volume definitions are kept (default " ZUMA_STATE_DIR ")", "DIR" },
                { "run-dir", 0, 0, G_OPTION_ARG_FILENAME, &run_dir,
                  "Where the data frontend mounts its files (default " ZUMA_RUN_DIR ")", "DIR" },
                { "frontend", 0, 0, G_OPTION_ARG_STRING, &frontend,
                  "Data frontend: fuse or none (default " ZUMA_FRONTEND_DEFAULT ")", "NAME" },
                { "frontend-timeout", 0, 0, G_OPTION_ARG_INT, &frontend_timeout,
                  "Seconds to wait for the kernel to attach or detach a device (default 20)",
                  "SECONDS" },
                { "bus-address", 0, 0, G_OPTION_ARG_STRING, &bus_address,
                  "Connect to this bus instead of the system bus", "ADDRESS" },
                { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL },
                { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit",
                  NULL },
                G_OPTION_ENTRY_NULL
        };
        g_autoptr(GOptionContext) context = NULL;
        g_autoptr(GError) error = NULL;
        Daemon daemon = { 0 };
        guint owner_id = 0, sigterm_id, sigint_id;
        int state_lock, run_lock;

        setlocale(LC_ALL, "");
        g_set_prgname("zuma-snapshotd");
        context = g_option_context_new("- Zumastor snapshot server");
        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error)) {
                g_printerr("zuma-snapshotd: %s\n", error->message);
                return EXIT_USAGE;
        }
        if (argc > 1) {
                g_printerr("zuma-snapshotd: unexpected argument %s\n", argv[1]);
                return EXIT_USAGE;
        }
        if (version) {
                g_print("zuma-snapshotd %s\n", ZUMA_VERSION);
                return EXIT_OK;
        }
        if (!frontend)
                frontend = g_strdup(ZUMA_FRONTEND_DEFAULT);
        if (!g_str_equal(frontend, "fuse") && !g_str_equal(frontend, "none")) {
                g_printerr("zuma-snapshotd: unknown frontend \"%s\" (use fuse or none)\n",
                           frontend);
                return EXIT_USAGE;
        }
        if (frontend_timeout < 1 || frontend_timeout > 3600) {
                g_printerr("zuma-snapshotd: --frontend-timeout must be 1..3600 seconds\n");
                return EXIT_USAGE;
        }
        if (!state_dir)
                state_dir = g_strdup(ZUMA_STATE_DIR);
        if (!run_dir)
                run_dir = g_strdup(ZUMA_RUN_DIR);
        if (!g_path_is_absolute(state_dir) || !g_path_is_absolute(run_dir)) {
                g_printerr("zuma-snapshotd: --state-dir and --run-dir must be absolute\n");
                return EXIT_USAGE;
        }

        daemon.use_journal = g_log_writer_is_journald(fileno(stderr));
        g_log_set_writer_func(log_writer, &daemon, NULL);
        if (verbose)
                g_log_set_debug_enabled(TRUE);
        umask(022);
        signal(SIGPIPE, SIG_IGN);
        /* Registers the error domain before any reply needs it. */
        (void)ZUMA_ERROR;

        g_message("zuma-snapshotd %s starting: state %s, run %s, frontend %s", ZUMA_VERSION,
                  state_dir, run_dir, frontend);
        state_lock = lock_directory(state_dir, &error);
        if (state_lock < 0) {
                g_warning("%s", error->message);
                return EXIT_FAILURE_RUNTIME;
        }
        run_lock = lock_directory(run_dir, &error);
        if (run_lock < 0) {
                g_warning("%s", error->message);
                close(state_lock);
                return EXIT_FAILURE_RUNTIME;
        }
        daemon.connection = connect_bus(bus_address, &error);
        if (!daemon.connection) {
                g_warning("cannot connect to the %s: %s", bus_address ? "bus" : "system bus",
                          error->message);
                close(run_lock);
                close(state_lock);
                return EXIT_FAILURE_RUNTIME;
        }
        g_dbus_connection_set_exit_on_close(daemon.connection, FALSE);
        daemon.loop = g_main_loop_new(NULL, FALSE);
        g_signal_connect(daemon.connection, "closed", G_CALLBACK(on_connection_closed), &daemon);
        sigterm_id = g_unix_signal_add(SIGTERM, on_quit_signal, &daemon);
        sigint_id = g_unix_signal_add(SIGINT, on_quit_signal, &daemon);
        {
                g_autoptr(ZumaAuth) auth = zuma_auth_new(daemon.connection);

                daemon.manager =
                        zuma_manager_new(daemon.connection, auth, state_dir, run_dir, frontend);
        }
        zuma_manager_set_frontend_timeout(daemon.manager, (guint)frontend_timeout);
        if (zuma_manager_load(daemon.manager, &error)) {
                owner_id = g_bus_own_name_on_connection(
                        daemon.connection, ZUMA_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                        on_name_acquired, on_name_lost, &daemon, NULL);
                g_main_loop_run(daemon.loop);
        } else {
                g_warning("%s", error->message);
                daemon.exit_status = EXIT_FAILURE_RUNTIME;
        }

        notify("STOPPING=1");
        g_message("stopping");
        zuma_manager_shutdown(daemon.manager);
        /* Only now: the volumes' Stopped signals went out under the name. */
        if (owner_id)
                g_bus_unown_name(owner_id);
        g_source_remove(sigterm_id);
        g_source_remove(sigint_id);
        g_signal_handlers_disconnect_by_data(daemon.connection, &daemon);
        if (!g_dbus_connection_is_closed(daemon.connection))
                g_dbus_connection_flush_sync(daemon.connection, NULL, NULL);
        g_clear_object(&daemon.manager);
        g_dbus_connection_close_sync(daemon.connection, NULL, NULL);
        g_clear_object(&daemon.connection);
        g_main_loop_unref(daemon.loop);
        close(run_lock);
        close(state_lock);
        g_message("stopped");
        return daemon.exit_status;
}
