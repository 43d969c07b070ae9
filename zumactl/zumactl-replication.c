/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Commands on replication: define target, forget target, replicate and
 * verify, answered by zuma-sendd (org.zumastor.Send1) on the sending
 * host; define source and forget source, answered by zuma-recvd
 * (org.zumastor.Recv1) on the receiving host.  zumactl checks the syntax
 * of numbers, durations, rates and --keep, and which options go together;
 * addresses, fingerprints, files and classes are the daemons' to refuse,
 * with the bus API's messages and error codes.
 *
 * "define" and "forget" hand over here when the kind word after them is
 * "target" or "source" (zumactl-volume.c); the kind word comes first, so
 * a volume may be called "target" (define volume target ...).  Each of
 * these commands runs as a command of its own (ZumactlCommand below), so
 * that its usage line and missing-argument messages name its own
 * arguments.
 */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-replication.h"

#include "zuma-names.h"
#include "zumactl-bus.h"
#include "zumactl-errors.h"
#include "zumactl-job.h"
#include "zumactl-output.h"
#include "zumactl-parse.h"
#include "zumactl-render.h"

/* Verify reads the snapshot on both sides when a digest is not known;
 * DefineSource starts listening.  Neither reports progress. */
#define REPLICATION_CALL_TIMEOUT_MS (30 * 60 * 1000)

/* The longest --period: a replica a year old is no replica. */
#define PERIOD_MAX_SECONDS (52 * 7 * 86400)
#define COMPRESS_MAX 19

static const ZumactlCommand define_target_command = {
        "define", "target VOL ADDRESS", "Replicate a volume to another host (zuma-sendd)",
        "ADDRESS is HOST[:PORT] or ssh://[USER@]HOST[:PORT].  HOST[:PORT] is TLS\n"
        "over TCP (port 7890 by default) to a zuma-recvd that has VOL defined as\n"
        "a source; give --pin or --ca.  ssh:// carries the stream through ssh to\n"
        "'zuma-recvd --relay' on HOST.\n"
        "DURATION: 15m, 1h, 1d, 1h30m; RATE: bytes per second, K, M, G binary\n"
        "(1.5G is 1.5 GiB/s).\n"
        "\n"
        "Examples:\n"
        "  zumactl define target vol0 backup.example.com --pin sha256:0f3a... --period 1h\n"
        "  zumactl define target vol0 ssh://root@backup --after-snapshot --keep hourly=24 "
        "--keep daily=7",
        NULL
};

static const ZumactlCommand define_source_command = {
        "define", "source VOL", "Receive replicas of a volume from another host (zuma-recvd)",
        "VOL is the local volume (defined with the source volume's UUID) that the\n"
        "streams are applied to.  Senders are accepted by --allow FINGERPRINT or\n"
        "--ca FILE; with neither, only ssh relays reach the source.\n"
        "\n"
        "Example:\n"
        "  zumactl define source vol0 --listen 0.0.0.0:7890 --allow sha256:9c1e...",
        NULL
};

static const ZumactlCommand forget_target_command = {
        "forget", "target VOL", "Stop replicating a volume to a target (zuma-sendd)",
        "The replica on the other host stays as it is.  --name picks the target\n"
        "when VOL has several.\n"
        "\n"
        "Example:\n"
        "  zumactl forget target vol0 --name offsite",
        NULL
};

static const ZumactlCommand forget_source_command = {
        "forget", "source VOL", "Stop receiving replicas of a volume (zuma-recvd)",
        "The volume and the snapshots received stay.\n"
        "\n"
        "Example:\n"
        "  zumactl forget source vol0",
        NULL
};

/* Checks that ctx->daemon, behind proxy, is on the bus. */
static gboolean daemon_reached(ZumactlContext *ctx, gpointer proxy, GError **error)
{
        g_autofree char *owner = NULL;

        if (proxy == NULL)
                return FALSE;
        owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(proxy));
        if (owner == NULL) {
                g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
                            "%s is not running (nothing owns %s on the %s)", ctx->daemon,
                            g_dbus_proxy_get_name(G_DBUS_PROXY(proxy)),
                            ctx->bus_address != NULL ? "bus" : "system bus");
                return FALSE;
        }
        g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(proxy), REPLICATION_CALL_TIMEOUT_MS);
        return TRUE;
}

/* "what: why", with the bus daemon's words for a daemon that is gone
 * (which zumactl_error_words() would say of zuma-snapshotd) naming the
 * daemon instead. */
static gboolean daemon_fail(ZumactlContext *ctx, GError **error, GError *src, const char *what)
{
        gboolean gone = g_error_matches(src, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
                        g_error_matches(src, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
        gboolean silent = g_error_matches(src, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY);

        if (g_dbus_error_is_remote_error(src) && (gone || silent)) {
                g_dbus_error_strip_remote_error(src);
                g_free(src->message);
                src->message = g_strdup_printf(gone ? "%s is not running" : "%s did not answer",
                                               ctx->daemon);
        }
        return zumactl_fail(error, src, what);
}

/* The proxies start the daemon when the bus can activate it. */
static ZumaSendManager *send_manager(ZumactlContext *ctx, GError **error)
{
        g_autoptr(ZumaSendManager) manager = NULL;

        ctx->daemon = "zuma-sendd";
        if (!zumactl_bus_open(ctx, error))
                return NULL;
        manager = zuma_send_manager_proxy_new_sync(
                ctx->connection, G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS, ZUMA_SENDD_BUS_NAME,
                ZUMA_SENDD_MANAGER_PATH, NULL, error);
        if (!daemon_reached(ctx, manager, error))
                return NULL;
        return g_steal_pointer(&manager);
}

static ZumaRecvManager *recv_manager(ZumactlContext *ctx, GError **error)
{
        g_autoptr(ZumaRecvManager) manager = NULL;

        ctx->daemon = "zuma-recvd";
        if (!zumactl_bus_open(ctx, error))
                return NULL;
        manager = zuma_recv_manager_proxy_new_sync(
                ctx->connection, G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS, ZUMA_RECVD_BUS_NAME,
                ZUMA_RECVD_MANAGER_PATH, NULL, error);
        if (!daemon_reached(ctx, manager, error))
                return NULL;
        return g_steal_pointer(&manager);
}

/* Parses the options of the sub-command, then expects VOL (and ADDRESS). */
static gboolean parse_subcommand(ZumactlContext *ctx, const ZumactlCommand *command,
                                 const GOptionEntry *entries, int *argc, char ***argv,
                                 int n_arguments, GError **error)
{
        ctx->command = command;
        return zumactl_parse_options(ctx, entries, FALSE, argc, argv, error) &&
               zumactl_expect_arguments(ctx, *argc, *argv, n_arguments, n_arguments, error);
}

/* {"volume": VOL, "name": NAME, "forgotten": true} on stdout. */
static void print_forgotten_json(const char *volume, const char *name)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        zumactl_json_set_string(builder, "volume", volume);
        if (name != NULL)
                zumactl_json_set_string(builder, "name", name);
        zumactl_json_set_bool(builder, "forgotten", TRUE);
        json_builder_end_object(builder);
        zumactl_print_json(builder);
}

typedef struct {
        char *name;
        char *period;
        gboolean after_snapshot;
        char *rate_limit;
        char *compress;
        char **keep;
        char *pin;
        char *ca;
        char *ssh_key;
        char *relay_command;
} TargetOptions;

static void target_options_clear(TargetOptions *o)
{
        g_free(o->name);
        g_free(o->period);
        g_free(o->rate_limit);
        g_free(o->compress);
        g_strfreev(o->keep);
        g_free(o->pin);
        g_free(o->ca);
        g_free(o->ssh_key);
        g_free(o->relay_command);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TargetOptions, target_options_clear)

/* The DefineTarget options from the command line, into dict. */
static gboolean target_options_to_dict(const TargetOptions *o, const char *address,
                                       GVariantDict *dict, GError **error)
{
        gboolean over_ssh = g_str_has_prefix(address, "ssh://");
        GVariant *keep = NULL;
        gint64 number;
        guint64 rate;

        if (o->pin != NULL && o->ca != NULL)
                return zumactl_usage_error(error, "give --pin or --ca, not both");
        if (over_ssh && (o->pin != NULL || o->ca != NULL))
                return zumactl_usage_error(error, "--pin and --ca are for TLS targets; ssh checks "
                                                  "the host of an ssh:// target");
        if (!over_ssh && (o->ssh_key != NULL || o->relay_command != NULL))
                return zumactl_usage_error(error,
                                           "--ssh-key and --relay-command are for ssh:// targets");
        if (o->period != NULL) {
                if (!zumactl_parse_duration(o->period, "--period", 0, PERIOD_MAX_SECONDS, &number,
                                            error))
                        return FALSE;
                g_variant_dict_insert(dict, "period", "t", (guint64)number);
        }
        if (o->after_snapshot)
                g_variant_dict_insert(dict, "after_snapshot", "b", TRUE);
        if (o->rate_limit != NULL) {
                if (!zumactl_parse_rate(o->rate_limit, "rate limit", &rate, error))
                        return FALSE;
                g_variant_dict_insert(dict, "rate_limit", "t", rate);
        }
        if (o->compress != NULL) {
                if (!zumactl_parse_int(o->compress, "compression level", 0, COMPRESS_MAX, &number,
                                       error))
                        return FALSE;
                g_variant_dict_insert(dict, "compress", "i", (gint32)number);
        }
        if (o->keep != NULL) {
                if (!zumactl_parse_keep((const char *const *)o->keep, &keep, error))
                        return FALSE;
                g_variant_dict_insert_value(dict, "keep", keep);
        }
        if (o->pin != NULL)
                g_variant_dict_insert(dict, "pin", "s", o->pin);
        if (o->ca != NULL)
                g_variant_dict_insert_value(
                        dict, "ca", g_variant_new_take_string(zumactl_absolute_path(o->ca)));
        if (o->ssh_key != NULL)
                g_variant_dict_insert_value(
                        dict, "ssh_key",
                        g_variant_new_take_string(zumactl_absolute_path(o->ssh_key)));
        if (o->relay_command != NULL)
                g_variant_dict_insert(dict, "relay_command", "s", o->relay_command);
        return TRUE;
}

gboolean zumactl_cmd_define_target(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_auto(TargetOptions) o = { 0 };
        const GOptionEntry entries[] = {
                { "name", 0, 0, G_OPTION_ARG_STRING, &o.name,
                  "The target's name (default: the host)", "NAME" },
                { "period", 0, 0, G_OPTION_ARG_STRING, &o.period,
                  "Replicate this often (15m, 1h, 1d; 0s: only when asked)", "DURATION" },
                { "after-snapshot", 0, 0, G_OPTION_ARG_NONE, &o.after_snapshot,
                  "Replicate after each new snapshot of the volume", NULL },
                { "rate-limit", 0, 0, G_OPTION_ARG_STRING, &o.rate_limit,
                  "At most RATE bytes per second on the wire (10M, 1.5G; 0: none)", "RATE" },
                { "compress", 0, 0, G_OPTION_ARG_STRING, &o.compress,
                  "zstd level, 0 to 19 (default 3)", "LEVEL" },
                { "keep", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.keep,
                  "Snapshots of CLASS the target keeps (repeat: --keep hourly=24 --keep daily=7)",
                  "CLASS=N" },
                { "pin", 0, 0, G_OPTION_ARG_STRING, &o.pin,
                  "Trust the receiver whose certificate has this fingerprint (sha256:HEX)",
                  "FINGERPRINT" },
                { "ca", 0, 0, G_OPTION_ARG_FILENAME, &o.ca,
                  "Trust a receiver whose certificate a CA in FILE (PEM) signed", "FILE" },
                { "ssh-key", 0, 0, G_OPTION_ARG_FILENAME, &o.ssh_key,
                  "ssh identity file for an ssh:// target", "FILE" },
                { "relay-command", 0, 0, G_OPTION_ARG_STRING, &o.relay_command,
                  "What ssh runs on the host (default: zuma-recvd --relay)", "COMMAND" },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GVariantDict) options = g_variant_dict_new(NULL);
        g_autoptr(ZumaSendManager) manager = NULL;
        g_autoptr(ZumaSendTarget) target = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *path = NULL;
        g_autofree char *what = NULL;

        if (!parse_subcommand(ctx, &define_target_command, entries, &argc, &argv, 3, error) ||
            !target_options_to_dict(&o, argv[3], options, error))
                return FALSE;
        what = g_strdup_printf("defining a target of volume '%s'", argv[2]);
        manager = send_manager(ctx, &error_local);
        if (manager == NULL || !zuma_send_manager_call_define_target_sync(
                                       manager, argv[2], o.name != NULL ? o.name : "", argv[3],
                                       g_variant_dict_end(options), &path, NULL, &error_local))
                return daemon_fail(ctx, error, g_steal_pointer(&error_local), what);
        if (!ctx->json)
                return TRUE;
        target = zuma_send_target_proxy_new_sync(ctx->connection,
                                                 G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                                 ZUMA_SENDD_BUS_NAME, path, NULL, &error_local);
        if (target == NULL)
                return daemon_fail(ctx, error, g_steal_pointer(&error_local), what);
        zumactl_print_target_json(target);
        return TRUE;
}

gboolean zumactl_cmd_define_source(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *listen = NULL;
        g_auto(GStrv) allow = NULL;
        g_autofree char *ca = NULL;
        const GOptionEntry entries[] = {
                { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
                  "Listen on ADDR:PORT (default 0.0.0.0:7890)", "ADDR:PORT" },
                { "allow", 0, 0, G_OPTION_ARG_STRING_ARRAY, &allow,
                  "Accept the sender whose certificate has this fingerprint (repeatable)",
                  "FINGERPRINT" },
                { "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca,
                  "Accept senders whose certificate a CA in FILE (PEM) signed", "FILE" },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GVariantDict) options = g_variant_dict_new(NULL);
        g_autoptr(ZumaRecvManager) manager = NULL;
        g_autoptr(ZumaRecvSource) source = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *path = NULL;
        g_autofree char *what = NULL;

        if (!parse_subcommand(ctx, &define_source_command, entries, &argc, &argv, 2, error))
                return FALSE;
        if (listen != NULL)
                g_variant_dict_insert(options, "listen", "s", listen);
        if (allow != NULL)
                g_variant_dict_insert(options, "allow", "^as", allow);
        if (ca != NULL)
                g_variant_dict_insert_value(options, "ca",
                                            g_variant_new_take_string(zumactl_absolute_path(ca)));
        what = g_strdup_printf("defining volume '%s' as a replication source", argv[2]);
        manager = recv_manager(ctx, &error_local);
        if (manager == NULL ||
            !zuma_recv_manager_call_define_source_sync(
                    manager, argv[2], g_variant_dict_end(options), &path, NULL, &error_local))
                return daemon_fail(ctx, error, g_steal_pointer(&error_local), what);
        if (!ctx->json)
                return TRUE;
        source = zuma_recv_source_proxy_new_sync(ctx->connection,
                                                 G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                                 ZUMA_RECVD_BUS_NAME, path, NULL, &error_local);
        if (source == NULL)
                return daemon_fail(ctx, error, g_steal_pointer(&error_local), what);
        zumactl_print_source_json(source);
        return TRUE;
}

gboolean zumactl_cmd_forget_target(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *name = NULL;
        const GOptionEntry entries[] = {
                { "name", 0, 0, G_OPTION_ARG_STRING, &name,
                  "The target to forget (needed when VOL has several)", "NAME" },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(ZumaSendManager) manager = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *what = NULL;

        if (!parse_subcommand(ctx, &forget_target_command, entries, &argc, &argv, 2, error))
                return FALSE;
        what = g_strdup_printf("forgetting the target of volume '%s'", argv[2]);
        manager = send_manager(ctx, &error_local);
        if (manager == NULL || !zuma_send_manager_call_forget_target_sync(
                                       manager, argv[2], name != NULL ? name : "",
                                       zumactl_bus_no_options(), NULL, &error_local))
                return daemon_fail(ctx, error, g_steal_pointer(&error_local), what);
        if (ctx->json)
                print_forgotten_json(argv[2], name);
        return TRUE;
}

gboolean zumactl_cmd_forget_source(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autoptr(ZumaRecvManager) manager = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *what = NULL;

        if (!parse_subcommand(ctx, &forget_source_command, NULL, &argc, &argv, 2, error))
                return FALSE;
        what = g_strdup_printf("forgetting the source of volume '%s'", argv[2]);
        manager = recv_manager(ctx, &error_local);
        if (manager == NULL ||
            !zuma_recv_manager_call_forget_source_sync(manager, argv[2], zumactl_bus_no_options(),
                                                       NULL, &error_local))
                return daemon_fail(ctx, error, g_steal_pointer(&error_local), what);
        if (ctx->json)
                print_forgotten_json(argv[2], NULL);
        return TRUE;
}

/* --target and --snapshot, shared by replicate and verify. */
#define TARGET_ENTRY(target) \
        { \
                "target", 0, 0, G_OPTION_ARG_STRING, &(target), \
                        "The target (needed when VOL has several)", "NAME" \
        }

static GVariant *snapshot_options(const char *snapshot)
{
        g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

        if (snapshot != NULL)
                g_variant_builder_add(&options, "{sv}", "snapshot", g_variant_new_string(snapshot));
        return g_variant_builder_end(&options);
}

/* "vol0: offsite holds tuesday: 1.2 GiB of changed chunks, 310.5 MiB on the
 * wire" once the run succeeded.  The job's Volume is the target's object,
 * whose LastSnapshot and BytesSent tell the rest. */
static void print_replicated(ZumactlContext *ctx, const char *volume, ZumaBusJob *job)
{
        g_autoptr(ZumaSendTarget) target = zuma_send_target_proxy_new_sync(
                ctx->connection, G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS, ZUMA_SENDD_BUS_NAME,
                zuma_bus_job_get_volume(job), NULL, NULL);
        g_autofree char *chunks = zumactl_format_size(zuma_bus_job_get_done(job));
        g_autofree char *wire = NULL;
        g_autofree char *line = NULL;
        const char *name = target ? zuma_send_target_get_name(target) : NULL;
        const char *snapshot = target ? zuma_send_target_get_last_snapshot(target) : NULL;

        if (!name || !snapshot) {
                line = g_strdup_printf("%s: replicated, %s of chunks\n", volume, chunks);
        } else if (zuma_bus_job_get_total(job) == 0) {
                line = g_strdup_printf("%s: %s was up to date (%s)\n", volume, name, snapshot);
        } else {
                wire = zumactl_format_size(zuma_send_target_get_bytes_sent(target));
                line = g_strdup_printf("%s: %s holds %s: %s of changed chunks, %s on the wire\n",
                                       volume, name, snapshot, chunks, wire);
        }
        zumactl_print(line);
}

gboolean zumactl_cmd_replicate(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *target = NULL;
        g_autofree char *snapshot = NULL;
        gboolean no_wait = FALSE;
        const GOptionEntry entries[] = {
                TARGET_ENTRY(target),
                { "snapshot", 0, 0, G_OPTION_ARG_STRING, &snapshot,
                  "Bring the target to this snapshot (default: the newest)", "SNAP" },
                zumactl_job_no_wait_option(&no_wait),
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(ZumaSendManager) manager = NULL;
        g_autoptr(ZumaBusJob) job = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *job_path = NULL;
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error) ||
            !zumactl_expect_arguments(ctx, argc, argv, 1, 1, error))
                return FALSE;
        what = g_strdup_printf("replicating volume '%s'", argv[1]);
        manager = send_manager(ctx, &error_local);
        if (manager == NULL || !zuma_send_manager_call_replicate_sync(
                                       manager, argv[1], target != NULL ? target : "",
                                       snapshot_options(snapshot), &job_path, NULL, &error_local))
                return daemon_fail(ctx, error, g_steal_pointer(&error_local), what);
        if (no_wait || ctx->json)
                return zumactl_job_finish(ctx, &zumactl_jobs_of_sendd, job_path, no_wait, what,
                                          error);
        if (!zumactl_job_wait(ctx, &zumactl_jobs_of_sendd, job_path, &job, &error_local))
                return daemon_fail(ctx, error, g_steal_pointer(&error_local), what);
        print_replicated(ctx, argv[1], job);
        return TRUE;
}

static const char *lookup_string(GVariant *dict, const char *key)
{
        const char *value = NULL;

        return g_variant_lookup(dict, key, "&s", &value) ? value : "";
}

static void print_verify_json(GVariant *result)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();
        gboolean same = FALSE;

        g_variant_lookup(result, "same", "b", &same);
        json_builder_begin_object(builder);
        zumactl_json_set_string(builder, "snapshot", lookup_string(result, "snapshot"));
        zumactl_json_set_string(builder, "local_digest", lookup_string(result, "local_digest"));
        zumactl_json_set_string(builder, "remote_digest", lookup_string(result, "remote_digest"));
        zumactl_json_set_bool(builder, "same", same);
        json_builder_end_object(builder);
        zumactl_print_json(builder);
}

gboolean zumactl_cmd_verify(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *target = NULL;
        g_autofree char *snapshot = NULL;
        const GOptionEntry entries[] = {
                TARGET_ENTRY(target),
                { "snapshot", 0, 0, G_OPTION_ARG_STRING, &snapshot,
                  "The snapshot to compare (default: the newest the target holds)", "SNAP" },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(ZumaSendManager) manager = NULL;
        g_autoptr(GVariant) result = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *what = NULL;
        gboolean same = FALSE;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error) ||
            !zumactl_expect_arguments(ctx, argc, argv, 1, 1, error))
                return FALSE;
        what = g_strdup_printf("verifying the replica of volume '%s'", argv[1]);
        manager = send_manager(ctx, &error_local);
        if (manager == NULL || !zuma_send_manager_call_verify_sync(
                                       manager, argv[1], target != NULL ? target : "",
                                       snapshot_options(snapshot), &result, NULL, &error_local))
                return daemon_fail(ctx, error, g_steal_pointer(&error_local), what);
        g_variant_lookup(result, "same", "b", &same);
        /* Only "same" is a success, for scripts as for people. */
        ctx->exit_status = same ? ZUMACTL_EXIT_OK : ZUMACTL_EXIT_FAILURE;
        if (ctx->json) {
                print_verify_json(result);
        } else {
                g_autofree char *line = NULL;

                if (same)
                        line = g_strdup_printf("snapshot %s: same (digest %s)\n",
                                               lookup_string(result, "snapshot"),
                                               lookup_string(result, "local_digest"));
                else
                        line = g_strdup_printf("snapshot %s: DIFFERENT: local %s remote %s\n",
                                               lookup_string(result, "snapshot"),
                                               lookup_string(result, "local_digest"),
                                               lookup_string(result, "remote_digest"));
                zumactl_print(line);
        }
        return TRUE;
}
