/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What status shows of replication: each volume's targets (zuma-sendd's
 * org.zumastor.Send1.Target objects) and its source (zuma-recvd's
 * org.zumastor.Recv1.Source), read with one GetManagedObjects call per
 * daemon.  The objects name their volume by UUID, as every daemon does.
 */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-replication.h"

#include "zuma-names.h"
#include "zumactl-bus.h"
#include "zumactl-output.h"
#include "zumactl-render.h"

#define TARGET_INTERFACE ZUMA_SENDD_BUS_NAME ".Target"
#define SOURCE_INTERFACE ZUMA_RECVD_BUS_NAME ".Source"

struct ZumactlReplication {
        GDBusObjectManager *send; /* NULL: zuma-sendd is not running */
        GDBusObjectManager *recv; /* NULL: zuma-recvd is not running */
        GList *targets;           /* ZumaSendTarget refs, by volume name, then name */
        GList *sources;           /* ZumaRecvSource refs, by volume name */
        gint64 now;
};

/* Every object of the daemon at bus_name with its properties, or NULL
 * when it is not running. */
static GDBusObjectManager *load_objects(ZumactlContext *ctx, const char *bus_name, const char *root,
                                        GDBusProxyTypeFunc get_proxy_type)
{
        g_autoptr(GDBusObjectManager) manager = NULL;
        g_autofree char *owner = NULL;

        manager = g_dbus_object_manager_client_new_sync(
                ctx->connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, bus_name,
                root, get_proxy_type, NULL, NULL, NULL, NULL);
        if (manager == NULL)
                return NULL;
        owner = g_dbus_object_manager_client_get_name_owner(G_DBUS_OBJECT_MANAGER_CLIENT(manager));
        return owner != NULL ? g_steal_pointer(&manager) : NULL;
}

/* The interfaces called interface_name of manager's objects (refs). */
static GList *interfaces_of(GDBusObjectManager *manager, const char *interface_name)
{
        GList *objects = manager != NULL ? g_dbus_object_manager_get_objects(manager) : NULL;
        GList *found = NULL;

        for (GList *l = objects; l != NULL; l = l->next) {
                GDBusInterface *iface = g_dbus_object_get_interface(l->data, interface_name);

                if (iface != NULL)
                        found = g_list_prepend(found, iface);
        }
        g_list_free_full(objects, g_object_unref);
        return found;
}

static gint target_compare(gconstpointer a, gconstpointer b)
{
        int by_volume = g_strcmp0(zuma_send_target_get_volume_name((ZumaSendTarget *)a),
                                  zuma_send_target_get_volume_name((ZumaSendTarget *)b));

        return by_volume != 0 ? by_volume
                              : g_strcmp0(zuma_send_target_get_name((ZumaSendTarget *)a),
                                          zuma_send_target_get_name((ZumaSendTarget *)b));
}

static gint source_compare(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(zuma_recv_source_get_volume_name((ZumaRecvSource *)a),
                         zuma_recv_source_get_volume_name((ZumaRecvSource *)b));
}

ZumactlReplication *zumactl_replication_load(ZumactlContext *ctx)
{
        ZumactlReplication *replication = g_new0(ZumactlReplication, 1);

        replication->now = g_get_real_time() / G_USEC_PER_SEC;
        if (!zumactl_bus_open(ctx, NULL))
                return replication;
        replication->send = load_objects(ctx, ZUMA_SENDD_BUS_NAME, ZUMA_SENDD_OBJECT_ROOT,
                                         zuma_send_object_manager_client_get_proxy_type);
        replication->recv = load_objects(ctx, ZUMA_RECVD_BUS_NAME, ZUMA_RECVD_OBJECT_ROOT,
                                         zuma_recv_object_manager_client_get_proxy_type);
        replication->targets =
                g_list_sort(interfaces_of(replication->send, TARGET_INTERFACE), target_compare);
        replication->sources =
                g_list_sort(interfaces_of(replication->recv, SOURCE_INTERFACE), source_compare);
        return replication;
}

void zumactl_replication_free(ZumactlReplication *replication)
{
        g_list_free_full(replication->targets, g_object_unref);
        g_list_free_full(replication->sources, g_object_unref);
        g_clear_object(&replication->send);
        g_clear_object(&replication->recv);
        g_free(replication);
}

/* A time member (and its _iso8601 twin) that is null for 0, "never". */
static void time_json(JsonBuilder *builder, const char *key, gint64 seconds)
{
        g_autofree char *iso_key = NULL;

        if (seconds > 0) {
                zumactl_render_time_json(builder, key, (guint64)seconds);
                return;
        }
        iso_key = g_strconcat(key, "_iso8601", NULL);
        zumactl_json_set_string(builder, key, NULL);
        zumactl_json_set_string(builder, iso_key, NULL);
}

/* now - time, or -1 when time is never (0) or ahead. */
static gint64 age_at(gint64 now, gint64 time)
{
        return time > 0 && time <= now ? now - time : -1;
}

static gint64 age(ZumactlReplication *replication, gint64 time)
{
        return age_at(replication->now, time);
}

static void target_json(JsonBuilder *builder, ZumaSendTarget *target, gint64 now)
{
        gint64 snapshot_age = age_at(now, zuma_send_target_get_last_snapshot_time(target));

        zumactl_json_set_string(builder, "name", zuma_send_target_get_name(target));
        zumactl_json_set_string(builder, "object_path", zumactl_bus_path(target));
        zumactl_json_set_string(builder, "volume", zuma_send_target_get_volume_name(target));
        zumactl_json_set_string(builder, "volume_uuid", zuma_send_target_get_volume(target));
        zumactl_json_set_string(builder, "address", zuma_send_target_get_address(target));
        zumactl_json_set_uint(builder, "period", zuma_send_target_get_period(target));
        zumactl_json_set_bool(builder, "after_snapshot",
                              zuma_send_target_get_after_snapshot(target));
        zumactl_json_set_uint(builder, "rate_limit", zuma_send_target_get_rate_limit(target));
        zumactl_json_set_int(builder, "compress", zuma_send_target_get_compress(target));
        zumactl_render_counts_json(builder, "keep", zuma_send_target_get_keep(target));
        zumactl_json_set_string(builder, "state", zuma_send_target_get_state(target));
        zumactl_render_optional_json(builder, "last_snapshot",
                                     zuma_send_target_get_last_snapshot(target));
        time_json(builder, "last_snapshot_time", zuma_send_target_get_last_snapshot_time(target));
        if (snapshot_age >= 0)
                zumactl_json_set_int(builder, "last_snapshot_age", snapshot_age);
        else
                zumactl_json_set_string(builder, "last_snapshot_age", NULL);
        time_json(builder, "last_success", zuma_send_target_get_last_success(target));
        zumactl_render_optional_json(builder, "last_error",
                                     zuma_send_target_get_last_error(target));
        time_json(builder, "next_run", zuma_send_target_get_next_run(target));
        zumactl_json_set_uint(builder, "bytes_pending", zuma_send_target_get_bytes_pending(target));
        zumactl_json_set_uint(builder, "bytes_sent", zuma_send_target_get_bytes_sent(target));
}

static void source_json(JsonBuilder *builder, ZumaRecvSource *source)
{
        const char *const *allow = zuma_recv_source_get_allow(source);

        zumactl_json_set_string(builder, "object_path", zumactl_bus_path(source));
        zumactl_json_set_string(builder, "volume", zuma_recv_source_get_volume_name(source));
        zumactl_json_set_string(builder, "volume_uuid", zuma_recv_source_get_volume(source));
        zumactl_json_set_string(builder, "listen", zuma_recv_source_get_listen(source));
        json_builder_set_member_name(builder, "allow");
        json_builder_begin_array(builder);
        for (guint i = 0; allow != NULL && allow[i] != NULL; i++)
                zumactl_json_add_string(builder, allow[i]);
        json_builder_end_array(builder);
        zumactl_json_set_string(builder, "state", zuma_recv_source_get_state(source));
        zumactl_render_optional_json(builder, "peer", zuma_recv_source_get_peer(source));
        zumactl_render_optional_json(builder, "last_snapshot",
                                     zuma_recv_source_get_last_snapshot(source));
        time_json(builder, "last_snapshot_time", zuma_recv_source_get_last_snapshot_time(source));
        time_json(builder, "last_received", zuma_recv_source_get_last_received(source));
        zumactl_render_optional_json(builder, "last_error",
                                     zuma_recv_source_get_last_error(source));
        zumactl_json_set_uint(builder, "bytes_received",
                              zuma_recv_source_get_bytes_received(source));
}

void zumactl_print_target_json(ZumaSendTarget *target)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        target_json(builder, target, g_get_real_time() / G_USEC_PER_SEC);
        json_builder_end_object(builder);
        zumactl_print_json(builder);
}

void zumactl_print_source_json(ZumaRecvSource *source)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        source_json(builder, source);
        json_builder_end_object(builder);
        zumactl_print_json(builder);
}

void zumactl_replication_volume_json(ZumactlReplication *replication, const char *uuid,
                                     JsonBuilder *builder)
{
        if (replication->send != NULL) {
                json_builder_set_member_name(builder, "targets");
                json_builder_begin_array(builder);
                for (GList *l = replication->targets; l != NULL; l = l->next) {
                        if (g_strcmp0(zuma_send_target_get_volume(l->data), uuid) != 0)
                                continue;
                        json_builder_begin_object(builder);
                        target_json(builder, l->data, replication->now);
                        json_builder_end_object(builder);
                }
                json_builder_end_array(builder);
        }
        if (replication->recv != NULL) {
                json_builder_set_member_name(builder, "sources");
                json_builder_begin_array(builder);
                for (GList *l = replication->sources; l != NULL; l = l->next) {
                        if (g_strcmp0(zuma_recv_source_get_volume(l->data), uuid) != 0)
                                continue;
                        json_builder_begin_object(builder);
                        source_json(builder, l->data);
                        json_builder_end_object(builder);
                }
                json_builder_end_array(builder);
        }
}

/* "vol0-hourly-2026-12-06-14:00 (about 2 hours old)", "-" for none. */
static char *snapshot_with_age(ZumactlReplication *replication, const char *snapshot, gint64 time)
{
        g_autofree char *about = zumactl_format_duration_about(age(replication, time));

        if (snapshot == NULL || snapshot[0] == '\0')
                return g_strdup("-");
        if (about == NULL)
                return g_strdup(snapshot);
        return g_strdup_printf("%s (%s old)", snapshot, about);
}

static char *target_line(ZumactlReplication *replication, ZumaSendTarget *target)
{
        g_autofree char *last =
                snapshot_with_age(replication, zuma_send_target_get_last_snapshot(target),
                                  zuma_send_target_get_last_snapshot_time(target));
        GString *line = g_string_new(NULL);
        const char *last_error = zuma_send_target_get_last_error(target);
        guint64 pending = zuma_send_target_get_bytes_pending(target);

        g_string_append_printf(line, "%s at %s, %s; last %s", zuma_send_target_get_name(target),
                               zuma_send_target_get_address(target),
                               zuma_send_target_get_state(target), last);
        if (pending > 0) {
                g_autofree char *size = zumactl_format_size(pending);

                g_string_append_printf(line, "; %s pending", size);
        }
        if (last_error != NULL && last_error[0] != '\0')
                g_string_append_printf(line, "; error: %s", last_error);
        return g_string_free(line, FALSE);
}

static char *source_line(ZumactlReplication *replication, ZumaRecvSource *source)
{
        g_autofree char *last =
                snapshot_with_age(replication, zuma_recv_source_get_last_snapshot(source),
                                  zuma_recv_source_get_last_snapshot_time(source));
        g_autofree char *received =
                zuma_recv_source_get_last_received(source) > 0
                        ? zumactl_format_time_local(
                                  (guint64)zuma_recv_source_get_last_received(source))
                        : g_strdup("never");
        GString *line = g_string_new(NULL);
        const char *peer = zuma_recv_source_get_peer(source);
        const char *last_error = zuma_recv_source_get_last_error(source);

        g_string_append_printf(line, "%s on %s", zuma_recv_source_get_state(source),
                               zuma_recv_source_get_listen(source));
        if (peer != NULL && peer[0] != '\0')
                g_string_append_printf(line, " from %s", peer);
        g_string_append_printf(line, "; last %s, received %s", last, received);
        if (last_error != NULL && last_error[0] != '\0')
                g_string_append_printf(line, "; error: %s", last_error);
        return g_string_free(line, FALSE);
}

void zumactl_replication_volume_human(ZumactlReplication *replication, const char *uuid,
                                      GString *out)
{
        for (GList *l = replication->targets; l != NULL; l = l->next) {
                g_autofree char *line = NULL;

                if (g_strcmp0(zuma_send_target_get_volume(l->data), uuid) != 0)
                        continue;
                line = target_line(replication, l->data);
                g_string_append_printf(out, "%-16s %s\n", "Target:", line);
        }
        for (GList *l = replication->sources; l != NULL; l = l->next) {
                g_autofree char *line = NULL;

                if (g_strcmp0(zuma_recv_source_get_volume(l->data), uuid) != 0)
                        continue;
                line = source_line(replication, l->data);
                g_string_append_printf(out, "%-16s %s\n", "Source:", line);
        }
}

static char *targets_table(ZumactlReplication *replication)
{
        g_autoptr(ZumactlTable) table =
                zumactl_table_new("VOLUME", "TARGET", "ADDRESS", "STATE", "LAST SNAPSHOT", "AGE",
                                  "PENDING", "LAST ERROR", NULL);

        zumactl_table_set_numeric(table, 6);
        for (GList *l = replication->targets; l != NULL; l = l->next) {
                ZumaSendTarget *target = l->data;
                g_autofree char *about = zumactl_format_duration_about(
                        age(replication, zuma_send_target_get_last_snapshot_time(target)));
                guint64 pending = zuma_send_target_get_bytes_pending(target);
                g_autofree char *size = pending > 0 ? zumactl_format_size(pending) : NULL;
                const char *cells[] = {
                        zuma_send_target_get_volume_name(target),
                        zuma_send_target_get_name(target),
                        zuma_send_target_get_address(target),
                        zuma_send_target_get_state(target),
                        zuma_send_target_get_last_snapshot(target),
                        about,
                        size,
                        zuma_send_target_get_last_error(target),
                };

                zumactl_table_add_row(table, cells);
        }
        return zumactl_table_render(table);
}

static char *sources_table(ZumactlReplication *replication)
{
        g_autoptr(ZumactlTable) table = zumactl_table_new(
                "VOLUME", "STATE", "LISTEN", "LAST SNAPSHOT", "RECEIVED", "LAST ERROR", NULL);

        for (GList *l = replication->sources; l != NULL; l = l->next) {
                ZumaRecvSource *source = l->data;
                gint64 received_at = zuma_recv_source_get_last_received(source);
                g_autofree char *received =
                        received_at > 0 ? zumactl_format_time_local((guint64)received_at) : NULL;
                const char *cells[] = {
                        zuma_recv_source_get_volume_name(source),
                        zuma_recv_source_get_state(source),
                        zuma_recv_source_get_listen(source),
                        zuma_recv_source_get_last_snapshot(source),
                        received,
                        zuma_recv_source_get_last_error(source),
                };

                zumactl_table_add_row(table, cells);
        }
        return zumactl_table_render(table);
}

/* The Fingerprint of a daemon's Manager (at path, with interface), the
 * certificate's that the other side pins or allows: NULL when the daemon
 * is not running, "" when it has no certificate. */
static char *manager_fingerprint(GDBusObjectManager *objects, const char *path,
                                 const char *interface)
{
        g_autoptr(GDBusInterface) manager = NULL;
        g_autoptr(GVariant) value = NULL;

        if (objects != NULL)
                manager = g_dbus_object_manager_get_interface(objects, path, interface);
        if (manager != NULL)
                value = g_dbus_proxy_get_cached_property(G_DBUS_PROXY(manager), "Fingerprint");
        if (value == NULL || !g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
                return objects != NULL ? g_strdup("") : NULL;
        return g_variant_dup_string(value, NULL);
}

static char *send_fingerprint(ZumactlReplication *replication)
{
        return manager_fingerprint(replication->send, ZUMA_SENDD_MANAGER_PATH,
                                   ZUMA_SENDD_BUS_NAME ".Manager");
}

static char *recv_fingerprint(ZumactlReplication *replication)
{
        return manager_fingerprint(replication->recv, ZUMA_RECVD_MANAGER_PATH,
                                   ZUMA_RECVD_BUS_NAME ".Manager");
}

void zumactl_replication_host_json(ZumactlReplication *replication, JsonBuilder *builder)
{
        g_autofree char *sender = send_fingerprint(replication);
        g_autofree char *receiver = recv_fingerprint(replication);

        if (sender != NULL)
                zumactl_render_optional_json(builder, "sender_fingerprint", sender);
        if (receiver != NULL)
                zumactl_render_optional_json(builder, "receiver_fingerprint", receiver);
}

/* "Certificate of zuma-sendd: sha256:..." */
static void fingerprint_line(GString *out, const char *daemon, const char *fingerprint)
{
        if (fingerprint != NULL)
                g_string_append_printf(out, "Certificate of %s: %s\n", daemon,
                                       fingerprint[0] != '\0' ? fingerprint : "none (ssh only)");
}

char *zumactl_replication_tables(ZumactlReplication *replication)
{
        g_autofree char *sender = send_fingerprint(replication);
        g_autofree char *receiver = recv_fingerprint(replication);
        GString *out = g_string_new(NULL);

        if (replication->targets != NULL) {
                g_autofree char *table = targets_table(replication);

                g_string_append_printf(out, "\nReplication targets (zuma-sendd):\n%s", table);
        }
        if (replication->sources != NULL) {
                g_autofree char *table = sources_table(replication);

                g_string_append_printf(out, "\nReplication sources (zuma-recvd):\n%s", table);
        }
        if (sender != NULL || receiver != NULL)
                g_string_append_c(out, '\n');
        fingerprint_line(out, "zuma-sendd", sender);
        fingerprint_line(out, "zuma-recvd", receiver);
        return g_string_free(out, FALSE);
}
