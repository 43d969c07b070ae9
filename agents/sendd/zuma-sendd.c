/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-sendd: the sending end of replication.  Owns org.zumastor.Send1 on
 * the system bus (or --bus-address), keeps the targets in its state
 * directory and replicates volumes to them: over TLS to zuma-recvd, or
 * through ssh to its relay (zuma-sender.h has the design, zuma-send-run.h
 * one run).
 */
#define G_LOG_DOMAIN "zuma-sendd"

#include "zuma-config.h"
#include "zuma-daemon.h"
#include "zuma-names.h"
#include "zuma-sender.h"

#define TIMEOUT_DEFAULT 120 /* seconds a receiver may stay silent */
#define RETRY_DEFAULT 30    /* seconds before the first retry */

typedef struct {
        char *tls_cert;
        char *tls_key;
        char *ssh_config;
        gint timeout;
        gint retry;
        ZumaSender *sender;
} Sender;

static gboolean check_options(ZumaDaemon *daemon, gpointer user_data, GError **error)
{
        Sender *sender = user_data;

        if (sender->timeout < 5 || sender->timeout > 3600) {
                g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    "--timeout must be 5..3600 seconds");
                return FALSE;
        }
        if (sender->retry < 1 || sender->retry > 3600) {
                g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    "--retry must be 1..3600 seconds");
                return FALSE;
        }
        return TRUE;
}

static gboolean load(ZumaDaemon *daemon, gpointer user_data, GError **error)
{
        Sender *sender = user_data;
        const ZumaSenderSetup setup = {
                .connection = zuma_daemon_get_connection(daemon),
                .auth = zuma_daemon_get_auth(daemon),
                .state_dir = zuma_daemon_get_state_dir(daemon),
                .tls_cert = sender->tls_cert,
                .tls_key = sender->tls_key,
                .ssh_config = sender->ssh_config,
                .timeout_s = (guint)sender->timeout,
                .retry_min_s = (guint)sender->retry,
        };

        sender->sender = zuma_sender_new(&setup);
        return zuma_sender_load(sender->sender, error);
}

static char *describe(ZumaDaemon *daemon, gpointer user_data)
{
        Sender *sender = user_data;

        return zuma_sender_describe(sender->sender);
}

static void shutdown(ZumaDaemon *daemon, gpointer user_data)
{
        Sender *sender = user_data;

        zuma_sender_shutdown(sender->sender);
}

static void cleanup(ZumaDaemon *daemon, gpointer user_data)
{
        Sender *sender = user_data;

        g_clear_pointer(&sender->sender, zuma_sender_free);
}

int main(int argc, char **argv)
{
        Sender sender = {
                .tls_cert = g_strdup(ZUMA_TLS_DIR "/host.crt"),
                .tls_key = g_strdup(ZUMA_TLS_DIR "/host.key"),
                .timeout = TIMEOUT_DEFAULT,
                .retry = RETRY_DEFAULT,
        };
        const GOptionEntry entries[] = {
                { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &sender.tls_cert,
                  "The host's TLS certificate (PEM)", "FILE" },
                { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &sender.tls_key, "Its private key (PEM)",
                  "FILE" },
                { "ssh-config", 0, 0, G_OPTION_ARG_FILENAME, &sender.ssh_config,
                  "ssh's configuration file for ssh:// targets (ssh -F)", "FILE" },
                { "timeout", 0, 0, G_OPTION_ARG_INT, &sender.timeout,
                  "Give up on a receiver silent this long (default 120)", "SECONDS" },
                { "retry", 0, 0, G_OPTION_ARG_INT, &sender.retry,
                  "First retry this long after a failed run, doubling to 10 minutes "
                  "(default 30)",
                  "SECONDS" },
                { NULL },
        };
        const ZumaDaemonSpec spec = {
                .name = "zuma-sendd",
                .summary = "- Zumastor replication sender",
                .bus_name = ZUMA_SENDD_BUS_NAME,
                .object_root = ZUMA_SENDD_OBJECT_ROOT,
                .state_dir = ZUMA_STATE_DIR "/sendd",
                .run_dir = ZUMA_RUN_DIR "/sendd",
                .entries = entries,
                .user_data = &sender,
                .check_options = check_options,
                .load = load,
                .describe = describe,
                .shutdown = shutdown,
                .cleanup = cleanup,
        };
        int status = zuma_daemon_run(&spec, argc, argv);

        g_free(sender.tls_cert);
        g_free(sender.tls_key);
        g_free(sender.ssh_config);
        return status;
}
