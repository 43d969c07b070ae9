/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-recvd: the receiving end of replication.  Owns org.zumastor.Recv1
 * on the system bus (or --bus-address), keeps the sources in its state
 * directory, listens for zuma-sendd over TLS and applies what arrives
 * through zuma-snapshotd (zuma-receiver.h has the design,
 * zuma-receive-session.h one connection).
 *
 * `zuma-recvd --relay [--run-dir DIR]` is not the daemon: it is what an
 * ssh transport runs on this host (zuma-relay.h).
 */
#define G_LOG_DOMAIN "zuma-recvd"

#include <string.h>

#include "zuma-config.h"
#include "zuma-daemon.h"
#include "zuma-names.h"
#include "zuma-receiver.h"
#include "zuma-relay.h"

#define TIMEOUT_DEFAULT 120 /* seconds a sender may stay silent */

typedef struct {
        char *tls_cert;
        char *tls_key;
        gint timeout;
        ZumaReceiver *receiver;
} Receiver;

static gboolean check_options(ZumaDaemon *daemon, gpointer user_data, GError **error)
{
        Receiver *receiver = user_data;

        if (receiver->timeout < 5 || receiver->timeout > 3600) {
                g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    "--timeout must be 5..3600 seconds");
                return FALSE;
        }
        return TRUE;
}

static gboolean load(ZumaDaemon *daemon, gpointer user_data, GError **error)
{
        Receiver *receiver = user_data;
        const ZumaReceiverSetup setup = {
                .connection = zuma_daemon_get_connection(daemon),
                .auth = zuma_daemon_get_auth(daemon),
                .state_dir = zuma_daemon_get_state_dir(daemon),
                .run_dir = zuma_daemon_get_run_dir(daemon),
                .tls_cert = receiver->tls_cert,
                .tls_key = receiver->tls_key,
                .timeout_s = (guint)receiver->timeout,
        };

        receiver->receiver = zuma_receiver_new(&setup);
        return zuma_receiver_load(receiver->receiver, error);
}

static char *describe(ZumaDaemon *daemon, gpointer user_data)
{
        Receiver *receiver = user_data;

        return zuma_receiver_describe(receiver->receiver);
}

static void shutdown(ZumaDaemon *daemon, gpointer user_data)
{
        Receiver *receiver = user_data;

        zuma_receiver_shutdown(receiver->receiver);
}

static void cleanup(ZumaDaemon *daemon, gpointer user_data)
{
        Receiver *receiver = user_data;

        g_clear_pointer(&receiver->receiver, zuma_receiver_free);
}

/* `zuma-recvd --relay [--run-dir DIR]`. */
static int relay_main(int argc, char **argv)
{
        g_autofree char *run_dir = g_strdup(ZUMA_RUN_DIR "/recvd");
        gboolean relay = FALSE;
        const GOptionEntry entries[] = {
                { "relay", 0, 0, G_OPTION_ARG_NONE, &relay, "Relay stdin and stdout", NULL },
                { "run-dir", 0, 0, G_OPTION_ARG_FILENAME, &run_dir, "zuma-recvd's run directory",
                  "DIR" },
                { NULL },
        };
        g_autoptr(GOptionContext) context = g_option_context_new("- ssh relay to zuma-recvd");
        g_autoptr(GError) error = NULL;

        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || argc != 1) {
                g_printerr("zuma-recvd --relay: %s\n",
                           error ? error->message : "unexpected arguments");
                return ZUMA_EXIT_USAGE;
        }
        return zuma_relay_run(run_dir);
}

int main(int argc, char **argv)
{
        Receiver receiver = {
                .tls_cert = g_strdup(ZUMA_TLS_DIR "/host.crt"),
                .tls_key = g_strdup(ZUMA_TLS_DIR "/host.key"),
                .timeout = TIMEOUT_DEFAULT,
        };
        const GOptionEntry entries[] = {
                { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &receiver.tls_cert,
                  "The host's TLS certificate (PEM)", "FILE" },
                { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &receiver.tls_key,
                  "Its private key (PEM)", "FILE" },
                { "timeout", 0, 0, G_OPTION_ARG_INT, &receiver.timeout,
                  "Cut a sender silent this long (default 120)", "SECONDS" },
                { NULL },
        };
        const ZumaDaemonSpec spec = {
                .name = "zuma-recvd",
                .summary = "- Zumastor replication receiver",
                .bus_name = ZUMA_RECVD_BUS_NAME,
                .object_root = ZUMA_RECVD_OBJECT_ROOT,
                .state_dir = ZUMA_STATE_DIR "/recvd",
                .run_dir = ZUMA_RUN_DIR "/recvd",
                .entries = entries,
                .user_data = &receiver,
                .check_options = check_options,
                .load = load,
                .describe = describe,
                .shutdown = shutdown,
                .cleanup = cleanup,
        };
        int status;

        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--relay") == 0)
                        return relay_main(argc, argv);
        status = zuma_daemon_run(&spec, argc, argv);
        g_free(receiver.tls_cert);
        g_free(receiver.tls_key);
        return status;
}
