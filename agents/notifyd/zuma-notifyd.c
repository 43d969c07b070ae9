/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-notifyd: the user's desktop notifier.  One per session, on the
 * session bus, where it owns org.zumastor.Notify1 only to stay single (a
 * second one exits with status 1; it exports nothing).  It follows the
 * system-bus agents (zuma-snapshotd, zuma-schedulerd) and tells the user
 * through org.freedesktop.Notifications what they did: zuma-notifier.h
 * says which events, zuma-notify-coalesce.h how snapshots are coalesced,
 * zuma-notify-config.h the configuration file, zuma-notifyd(1) all of it.
 *
 * The life is zuma_daemon_run()'s (agents/common/zuma-daemon.h), on the
 * session bus (--bus-address overrides it); load() reads the
 * configuration and connects to the system bus (--system-bus-address
 * overrides it: tests use private buses).  The daemon owns no system-bus
 * name.  Losing either bus ends it with status 1 (the user unit restarts
 * it); the agents and the notification server may come and go.
 */
#define G_LOG_DOMAIN "zuma-notifyd"

#include "zuma-daemon.h"
#include "zuma-names.h"
#include "zuma-notifier.h"
#include "zuma-notify-config.h"

typedef struct {
        char *config_path;
        char *system_bus_address;
        GDBusConnection *system;
        ZumaNotifier *notifier;
        ZumaDaemon *daemon;
} Notifyd;

static void on_system_bus_closed(GDBusConnection *connection, gboolean remote_peer_vanished,
                                 GError *error, gpointer user_data)
{
        Notifyd *notifyd = user_data;

        g_warning("lost the system bus connection%s%s", error ? ": " : "",
                  error ? error->message : "");
        zuma_daemon_quit(notifyd->daemon, ZUMA_EXIT_FAILURE);
}

/* --session-bus-address: the session bus as GIO finds it, before
 * zuma_daemon_run() connects (one thread, at option parsing). */
static gboolean set_session_bus_address(const char *option_name, const char *value, gpointer data,
                                        GError **error)
{
        if (!*value) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "%s needs a bus address", option_name);
                return FALSE;
        }
        g_setenv("DBUS_SESSION_BUS_ADDRESS", value, TRUE);
        return TRUE;
}

static void load_config(Notifyd *notifyd, ZumaNotifyConfig *config)
{
        g_autofree char *default_path = zuma_notify_config_default_path();
        const char *path = notifyd->config_path ? notifyd->config_path : default_path;
        g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);

        zuma_notify_config_init(config);
        zuma_notify_config_load(config, path, problems);
        for (guint i = 0; i < problems->len; i++)
                g_warning("%s", (const char *)problems->pdata[i]);
        g_message("configuration %s: window %" G_GINT64_FORMAT " s, batch %" G_GINT64_FORMAT " s",
                  path, config->window_seconds, config->batch_seconds);
}

static gboolean load(ZumaDaemon *daemon, gpointer user_data, GError **error)
{
        Notifyd *notifyd = user_data;
        ZumaNotifyConfig config;

        notifyd->daemon = daemon;
        load_config(notifyd, &config);
        notifyd->system =
                zuma_daemon_connect_bus(G_BUS_TYPE_SYSTEM, notifyd->system_bus_address, error);
        if (!notifyd->system) {
                g_prefix_error(error, "cannot connect to the system bus: ");
                return FALSE;
        }
        g_dbus_connection_set_exit_on_close(notifyd->system, FALSE);
        g_signal_connect(notifyd->system, "closed", G_CALLBACK(on_system_bus_closed), notifyd);
        notifyd->notifier = zuma_notifier_new(notifyd->system, zuma_daemon_get_connection(daemon),
                                              &config, error);
        return notifyd->notifier != NULL;
}

static char *describe(ZumaDaemon *daemon, gpointer user_data)
{
        Notifyd *notifyd = user_data;

        return zuma_notifier_describe(notifyd->notifier);
}

static void cleanup(ZumaDaemon *daemon, gpointer user_data)
{
        Notifyd *notifyd = user_data;

        g_clear_pointer(&notifyd->notifier, zuma_notifier_free);
        if (notifyd->system) {
                g_signal_handlers_disconnect_by_data(notifyd->system, notifyd);
                g_dbus_connection_close_sync(notifyd->system, NULL, NULL);
                g_clear_object(&notifyd->system);
        }
}

int main(int argc, char **argv)
{
        Notifyd notifyd = { 0 };
        const GOptionEntry entries[] = {
                { "config", 0, 0, G_OPTION_ARG_FILENAME, &notifyd.config_path,
                  "Read this configuration file (default "
                  "$XDG_CONFIG_HOME/zumastor/notify.conf)",
                  "FILE" },
                { "system-bus-address", 0, 0, G_OPTION_ARG_STRING, &notifyd.system_bus_address,
                  "Follow the agents on this bus instead of the system bus", "ADDRESS" },
                { "session-bus-address", 0, 0, G_OPTION_ARG_CALLBACK, set_session_bus_address,
                  "Post on this bus instead of the session bus (like --bus-address)", "ADDRESS" },
                G_OPTION_ENTRY_NULL
        };
        const ZumaDaemonSpec spec = {
                .name = "zuma-notifyd",
                .summary = "- Zumastor desktop notifier",
                .bus_name = ZUMA_NOTIFYD_BUS_NAME,
                .object_root = ZUMA_NOTIFYD_OBJECT_ROOT,
                .session_bus = TRUE,
                .entries = entries,
                .user_data = &notifyd,
                .load = load,
                .describe = describe,
                .cleanup = cleanup,
        };
        int status = zuma_daemon_run(&spec, argc, argv);

        g_free(notifyd.config_path);
        g_free(notifyd.system_bus_address);
        return status;
}
