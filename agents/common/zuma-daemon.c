/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-daemon"

#include "zuma-daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zuma-config.h"
#include "zuma-error.h"

#if ZUMA_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

struct ZumaDaemon {
        const ZumaDaemonSpec *spec;
        GMainLoop *loop;
        GDBusConnection *connection;
        ZumaAuth *auth;
        char *state_dir;
        char *run_dir;
        char *bus_address;
        char *admin_group;
        int exit_status;
        gboolean name_acquired;
        gboolean use_journal;
};

const ZumaDaemonSpec *zuma_daemon_get_spec(ZumaDaemon *self)
{
        return self->spec;
}

GDBusConnection *zuma_daemon_get_connection(ZumaDaemon *self)
{
        return self->connection;
}

ZumaAuth *zuma_daemon_get_auth(ZumaDaemon *self)
{
        return self->auth;
}

const char *zuma_daemon_get_state_dir(ZumaDaemon *self)
{
        return self->state_dir;
}

const char *zuma_daemon_get_run_dir(ZumaDaemon *self)
{
        return self->run_dir;
}

const char *zuma_daemon_get_bus_address(ZumaDaemon *self)
{
        return self->bus_address;
}

static void notify(const char *state)
{
#if ZUMA_HAVE_SYSTEMD
        sd_notify(0, state);
#else
        (void)state;
#endif
}

void zuma_daemon_update_status(ZumaDaemon *self)
{
        g_autofree char *status = NULL;
        g_autofree char *line = NULL;

        if (!self->spec->describe || !self->name_acquired)
                return;
        status = self->spec->describe(self, self->spec->user_data);
        line = g_strdup_printf("STATUS=%s", status);
        g_debug("%s", line);
        notify(line);
}

void zuma_daemon_quit(ZumaDaemon *self, int exit_status)
{
        self->exit_status = exit_status;
        g_main_loop_quit(self->loop);
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
        const ZumaDaemon *self = user_data;

        if (g_log_writer_default_would_drop(level, field_domain(fields, n_fields)))
                return G_LOG_WRITER_HANDLED;
        if (self->use_journal &&
            g_log_writer_journald(level, fields, n_fields, NULL) == G_LOG_WRITER_HANDLED)
                return G_LOG_WRITER_HANDLED;
        return g_log_writer_standard_streams(level, fields, n_fields, NULL);
}

static gboolean on_quit_signal(gpointer user_data)
{
        ZumaDaemon *self = user_data;

        g_message("signal received, shutting down");
        g_main_loop_quit(self->loop);
        return G_SOURCE_CONTINUE;
}

static void on_connection_closed(GDBusConnection *connection, gboolean remote_peer_vanished,
                                 GError *error, gpointer user_data)
{
        ZumaDaemon *self = user_data;

        g_warning("lost the bus connection%s%s", error ? ": " : "", error ? error->message : "");
        zuma_daemon_quit(self, ZUMA_EXIT_FAILURE);
}

static void on_name_acquired(GDBusConnection *connection, const char *name, gpointer user_data)
{
        ZumaDaemon *self = user_data;

        self->name_acquired = TRUE;
        g_message("owning %s", name);
        zuma_daemon_update_status(self);
        notify("READY=1");
        g_message("ready");
}

static void on_name_lost(GDBusConnection *connection, const char *name, gpointer user_data)
{
        ZumaDaemon *self = user_data;

        if (self->name_acquired)
                g_warning("lost the bus name %s", name);
        else
                g_warning("cannot own %s: another %s has it, or the bus policy does not let "
                          "this user own it",
                          name, self->spec->name);
        zuma_daemon_quit(self, ZUMA_EXIT_FAILURE);
}

/* Holds DIR/NAME.lock (flock) for as long as the daemon runs; returns the
 * descriptor, or -1 with error when another instance holds it. */
static int lock_directory(const char *name, const char *dir, GError **error)
{
        g_autofree char *file = g_strconcat(name, ".lock", NULL);
        g_autofree char *path = g_build_filename(dir, file, NULL);
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
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "another %s is using %s", name,
                            dir);
        else
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot lock %s: %s", path,
                            g_strerror(e));
        return -1;
}

GDBusConnection *zuma_daemon_connect_bus(GBusType bus_type, const char *address, GError **error)
{
        if (!address)
                return g_bus_get_sync(bus_type, NULL, error);
        return g_dbus_connection_new_for_address_sync(
                address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, error);
}

/* Parses the command line; returns -1 to go on, or an exit status. */
static int parse_command_line(ZumaDaemon *self, int *argc, char ***argv)
{
        const ZumaDaemonSpec *spec = self->spec;
        gboolean verbose = FALSE, version = FALSE;
        g_autofree char *state_help =
                g_strdup_printf("Where the daemon keeps its state (default %s)", spec->state_dir);
        g_autofree char *run_help = g_strdup_printf(
                "Where the daemon keeps run-time files (default %s)", spec->run_dir);
        const GOptionEntry state_entry = {
                "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &self->state_dir, state_help, "DIR"
        };
        const GOptionEntry run_entry = { "run-dir",      0,        0,    G_OPTION_ARG_FILENAME,
                                         &self->run_dir, run_help, "DIR" };
        const GOptionEntry common_entries[] = {
                { "bus-address", 0, 0, G_OPTION_ARG_STRING, &self->bus_address,
                  spec->session_bus
                          ? "Connect to this bus instead of the session bus"
                          : "Connect to this bus instead of the system bus (no polkit there)",
                  "ADDRESS" },
                { "admin-group", 0, 0, G_OPTION_ARG_STRING, &self->admin_group,
                  "Members of this group may change things besides root (default " ZUMA_ADMIN_GROUP
                  "; \"\" for root only)",
                  "GROUP" },
                { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL },
                { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit",
                  NULL },
                G_OPTION_ENTRY_NULL
        };
        g_autoptr(GOptionContext) context = g_option_context_new(spec->summary);
        g_autoptr(GArray) dir_entries = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
        g_autoptr(GError) error = NULL;

        /* A zero-filled terminator ends the array (g_array_new(TRUE, TRUE)). */
        if (spec->state_dir)
                g_array_append_val(dir_entries, state_entry);
        if (spec->run_dir)
                g_array_append_val(dir_entries, run_entry);
        g_option_context_add_main_entries(context, (GOptionEntry *)dir_entries->data, NULL);
        g_option_context_add_main_entries(context, common_entries, NULL);
        if (spec->entries)
                g_option_context_add_main_entries(context, spec->entries, NULL);
        if (!g_option_context_parse(context, argc, argv, &error)) {
                g_printerr("%s: %s\n", spec->name, error->message);
                return ZUMA_EXIT_USAGE;
        }
        if (*argc > 1) {
                g_printerr("%s: unexpected argument %s\n", spec->name, (*argv)[1]);
                return ZUMA_EXIT_USAGE;
        }
        if (version) {
                g_print("%s %s\n", spec->name, ZUMA_VERSION);
                return ZUMA_EXIT_OK;
        }
        if (spec->state_dir && !self->state_dir)
                self->state_dir = g_strdup(spec->state_dir);
        if (spec->run_dir && !self->run_dir)
                self->run_dir = g_strdup(spec->run_dir);
        if ((self->state_dir && !g_path_is_absolute(self->state_dir)) ||
            (self->run_dir && !g_path_is_absolute(self->run_dir))) {
                g_printerr("%s: --state-dir and --run-dir must be absolute\n", spec->name);
                return ZUMA_EXIT_USAGE;
        }
        if (spec->check_options && !spec->check_options(self, spec->user_data, &error)) {
                g_printerr("%s: %s\n", spec->name, error->message);
                return ZUMA_EXIT_USAGE;
        }
        if (verbose)
                g_log_set_debug_enabled(TRUE);
        return -1;
}

static int run(ZumaDaemon *self)
{
        const ZumaDaemonSpec *spec = self->spec;
        g_autoptr(GError) error = NULL;
        guint owner_id = 0, sigterm_id, sigint_id;
        gboolean loaded = FALSE;
        int state_lock = -1, run_lock = -1;

        g_message("%s %s starting%s%s%s%s", spec->name, ZUMA_VERSION,
                  self->state_dir ? ": state " : "", self->state_dir ? self->state_dir : "",
                  self->run_dir ? ", run " : "", self->run_dir ? self->run_dir : "");
        if (self->state_dir) {
                state_lock = lock_directory(spec->name, self->state_dir, &error);
                if (state_lock < 0) {
                        g_warning("%s", error->message);
                        return ZUMA_EXIT_FAILURE;
                }
        }
        if (self->run_dir) {
                run_lock = lock_directory(spec->name, self->run_dir, &error);
                if (run_lock < 0) {
                        g_warning("%s", error->message);
                        if (state_lock >= 0)
                                close(state_lock);
                        return ZUMA_EXIT_FAILURE;
                }
        }
        self->connection =
                zuma_daemon_connect_bus(spec->session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
                                        self->bus_address, &error);
        if (!self->connection) {
                g_warning("cannot connect to the %s: %s",
                          self->bus_address   ? "bus"
                          : spec->session_bus ? "session bus"
                                              : "system bus",
                          error->message);
                self->exit_status = ZUMA_EXIT_FAILURE;
                goto unlock;
        }
        g_dbus_connection_set_exit_on_close(self->connection, FALSE);
        if (!spec->session_bus) {
                /* polkitd answers for names on the system bus only. */
                const ZumaAuthOptions auth_options = {
                        .admin_group = self->admin_group,
                        .use_polkit = self->bus_address == NULL,
                };

                self->auth = zuma_auth_new_full(self->connection, &auth_options);
                g_message("callers allowed to change things: %s%s", zuma_auth_describe(self->auth),
                          ZUMA_HAVE_POLKIT && !self->bus_address
                                  ? ", and those polkit allows " ZUMA_POLKIT_ACTION_MANAGE
                                  : "");
        }
        self->loop = g_main_loop_new(NULL, FALSE);
        g_signal_connect(self->connection, "closed", G_CALLBACK(on_connection_closed), self);
        sigterm_id = g_unix_signal_add(SIGTERM, on_quit_signal, self);
        sigint_id = g_unix_signal_add(SIGINT, on_quit_signal, self);
        loaded = !spec->load || spec->load(self, spec->user_data, &error);
        if (loaded) {
                owner_id = g_bus_own_name_on_connection(self->connection, spec->bus_name,
                                                        G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                        on_name_acquired, on_name_lost, self, NULL);
                g_main_loop_run(self->loop);
        } else {
                g_warning("%s", error->message);
                self->exit_status = ZUMA_EXIT_FAILURE;
        }

        notify("STOPPING=1");
        notify("STATUS=stopping");
        g_message("stopping");
        if (loaded && spec->shutdown)
                spec->shutdown(self, spec->user_data);
        /* Only now: the daemon's last signals went out under the name. */
        if (owner_id)
                g_bus_unown_name(owner_id);
        g_source_remove(sigterm_id);
        g_source_remove(sigint_id);
        g_signal_handlers_disconnect_by_data(self->connection, self);
        if (!g_dbus_connection_is_closed(self->connection))
                g_dbus_connection_flush_sync(self->connection, NULL, NULL);
        if (spec->cleanup)
                spec->cleanup(self, spec->user_data);
        g_clear_object(&self->auth);
        g_dbus_connection_close_sync(self->connection, NULL, NULL);
        g_clear_object(&self->connection);
        g_main_loop_unref(self->loop);
unlock:
        if (run_lock >= 0)
                close(run_lock);
        if (state_lock >= 0)
                close(state_lock);
        g_message("stopped");
        return self->exit_status;
}

int zuma_daemon_run(const ZumaDaemonSpec *spec, int argc, char **argv)
{
        /* The log writer keeps a pointer to it for the life of the process. */
        static ZumaDaemon self;
        int status;

        self.spec = spec;
        setlocale(LC_ALL, "");
        g_set_prgname(spec->name);
        status = parse_command_line(&self, &argc, &argv);
        if (status < 0) {
                self.use_journal = g_log_writer_is_journald(fileno(stderr));
                g_log_set_writer_func(log_writer, &self, NULL);
                umask(022);
                signal(SIGPIPE, SIG_IGN);
                /* Registers the error domain before any reply needs it. */
                (void)ZUMA_ERROR;
                status = run(&self);
        }
        g_free(self.state_dir);
        g_free(self.run_dir);
        g_free(self.bus_address);
        g_free(self.admin_group);
        return status;
}
