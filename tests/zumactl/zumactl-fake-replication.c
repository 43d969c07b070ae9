/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zumactl-fake-replication: a stand-in for zuma-sendd and zuma-recvd, so
 * that test-zumactl-replication.sh checks what zumactl sends and shows
 * without TLS, streams or a second host.  It owns org.zumastor.Send1 and
 * org.zumastor.Recv1 on the system bus (DBUS_SYSTEM_BUS_ADDRESS) and
 * exports, for the volume of UUID FAKE_UUID ("vol0" of
 * zumactl-fake-server):
 *
 *   Send1: the Manager, and the target "offsite" (failed, LastSnapshot
 *     vol0-s1 two hours old, 4 KiB pending).  DefineTarget exports a
 *     target whose properties are the options it got; ForgetTarget
 *     removes one; Replicate starts a job of 3 MiB done in three steps
 *     (snapshot "broken": the job fails "connection reset by peer");
 *     Verify answers "same" (snapshot "changed": different).  Volume
 *     "nosuch" is NotFound everywhere.
 *   Recv1: the Manager and the source of the volume (idle, vol0-s1
 *     received a minute ago); DefineSource and ForgetSource.
 *
 * SIGTERM ends it.
 */
#define G_LOG_DOMAIN "zumactl-fake-replication"

#include <glib-unix.h>
#include <signal.h>

#include "zuma-bus-generated.h"
#include "zuma-error.h"
#include "zuma-names.h"
#include "zuma-recv-generated.h"
#include "zuma-send-generated.h"

#define FAKE_UUID "0f0f0f0f-0000-4000-8000-000000000001"
#define MIB (1024 * 1024)

typedef struct {
        GDBusObjectManagerServer *send;
        GDBusObjectManagerServer *recv;
        guint jobs;
} Fake;

static gboolean known_volume(GDBusMethodInvocation *invocation, const char *volume)
{
        if (g_strcmp0(volume, "nosuch") != 0)
                return TRUE;
        g_dbus_method_invocation_return_error(invocation, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                                              "no volume '%s'", volume);
        return FALSE;
}

static char *target_path(const char *name)
{
        return g_strdup_printf(ZUMA_SENDD_OBJECT_ROOT "/targets/%s_%s", "0f0f", name);
}

static void export_target(Fake *fake, const char *name, const char *address, GVariant *options)
{
        g_autofree char *path = target_path(name);
        g_autoptr(ZumaSendObjectSkeleton) object = zuma_send_object_skeleton_new(path);
        g_autoptr(ZumaSendTarget) target = zuma_send_target_skeleton_new();
        g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(options);
        g_autoptr(GVariant) keep = g_variant_dict_lookup_value(&dict, "keep", NULL);
        guint64 number = 0;
        gint32 level = 3;
        gboolean after = FALSE;

        zuma_send_target_set_volume(target, FAKE_UUID);
        zuma_send_target_set_volume_name(target, "vol0");
        zuma_send_target_set_name(target, name);
        zuma_send_target_set_address(target, address);
        zuma_send_target_set_state(target, "idle");
        if (g_variant_dict_lookup(&dict, "period", "t", &number))
                zuma_send_target_set_period(target, number);
        if (g_variant_dict_lookup(&dict, "rate_limit", "t", &number))
                zuma_send_target_set_rate_limit(target, number);
        g_variant_dict_lookup(&dict, "compress", "i", &level);
        zuma_send_target_set_compress(target, level);
        g_variant_dict_lookup(&dict, "after_snapshot", "b", &after);
        zuma_send_target_set_after_snapshot(target, after);
        zuma_send_target_set_keep(
                target, keep != NULL ? keep : g_variant_new_array(G_VARIANT_TYPE("{su}"), NULL, 0));
        zuma_send_object_skeleton_set_target(object, target);
        g_dbus_object_manager_server_export(fake->send, G_DBUS_OBJECT_SKELETON(object));
}

static gboolean on_define_target(ZumaSendManager *manager, GDBusMethodInvocation *invocation,
                                 const char *volume, const char *name, const char *address,
                                 GVariant *options, Fake *fake)
{
        g_autofree char *path = target_path(name[0] != '\0' ? name : address);

        if (!known_volume(invocation, volume))
                return TRUE;
        export_target(fake, name[0] != '\0' ? name : address, address, options);
        zuma_send_manager_complete_define_target(manager, invocation, path);
        return TRUE;
}

static gboolean on_forget_target(ZumaSendManager *manager, GDBusMethodInvocation *invocation,
                                 const char *volume, const char *name, GVariant *options,
                                 Fake *fake)
{
        g_autofree char *path = target_path(name[0] != '\0' ? name : "offsite");

        if (!known_volume(invocation, volume))
                return TRUE;
        if (!g_dbus_object_manager_server_unexport(fake->send, path)) {
                g_dbus_method_invocation_return_error(invocation, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                                                      "volume '%s' has no target '%s'", volume,
                                                      name);
                return TRUE;
        }
        zuma_send_manager_complete_forget_target(manager, invocation);
        return TRUE;
}

/* One step of a run: a third of the stream, or its end. */
static gboolean job_step(gpointer data)
{
        ZumaBusJob *job = data;
        gboolean broken = g_object_get_data(G_OBJECT(job), "broken") != NULL;
        guint64 done = zuma_bus_job_get_done(job) + MIB;

        if (broken && done > MIB) {
                const char *name = "org.zumastor.Zumastor1.Error.Failed";
                const char *message = "sending to backup:7890: connection reset by peer";

                zuma_bus_job_set_finished(job, TRUE);
                zuma_bus_job_set_error_name(job, name);
                zuma_bus_job_set_error_message(job, message);
                zuma_bus_job_emit_completed(job, FALSE, name, message);
                return G_SOURCE_REMOVE;
        }
        zuma_bus_job_set_done(job, done);
        zuma_bus_job_set_progress(job, (double)done / (3.0 * MIB));
        if (done < 3 * MIB)
                return G_SOURCE_CONTINUE;
        zuma_bus_job_set_finished(job, TRUE);
        zuma_bus_job_set_success(job, TRUE);
        zuma_bus_job_emit_completed(job, TRUE, "", "");
        return G_SOURCE_REMOVE;
}

static gboolean on_replicate(ZumaSendManager *manager, GDBusMethodInvocation *invocation,
                             const char *volume, const char *name, GVariant *options, Fake *fake)
{
        g_autofree char *path = g_strdup_printf(ZUMA_SENDD_OBJECT_ROOT "/jobs/%u", ++fake->jobs);
        g_autoptr(ZumaBusObjectSkeleton) object = zuma_bus_object_skeleton_new(path);
        ZumaBusJob *job = zuma_bus_job_skeleton_new();
        const char *snapshot = "";

        if (!known_volume(invocation, volume))
                return TRUE;
        g_variant_lookup(options, "snapshot", "&s", &snapshot);
        zuma_bus_job_set_operation(job, "replicate");
        /* As zuma-sendd does: the job's Volume is the target's object. */
        {
                g_autofree char *target = target_path("offsite");

                zuma_bus_job_set_volume(job, target);
        }
        if (g_strcmp0(snapshot, "broken") == 0)
                g_object_set_data(G_OBJECT(job), "broken", GINT_TO_POINTER(TRUE));
        zuma_bus_job_set_total(job, 3 * MIB);
        zuma_bus_object_skeleton_set_job(object, job);
        g_dbus_object_manager_server_export(fake->send, G_DBUS_OBJECT_SKELETON(object));
        g_timeout_add_full(G_PRIORITY_DEFAULT, 50, job_step, job, g_object_unref);
        zuma_send_manager_complete_replicate(manager, invocation, path);
        return TRUE;
}

static gboolean on_verify(ZumaSendManager *manager, GDBusMethodInvocation *invocation,
                          const char *volume, const char *name, GVariant *options, Fake *fake)
{
        g_auto(GVariantBuilder) result = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
        const char *snapshot = "vol0-s1";
        gboolean same;

        if (!known_volume(invocation, volume))
                return TRUE;
        g_variant_lookup(options, "snapshot", "&s", &snapshot);
        same = g_strcmp0(snapshot, "changed") != 0;
        g_variant_builder_add(&result, "{sv}", "snapshot", g_variant_new_string(snapshot));
        g_variant_builder_add(&result, "{sv}", "local_digest", g_variant_new_string("xxh3:aaaa"));
        g_variant_builder_add(&result, "{sv}", "remote_digest",
                              g_variant_new_string(same ? "xxh3:aaaa" : "xxh3:bbbb"));
        g_variant_builder_add(&result, "{sv}", "same", g_variant_new_boolean(same));
        zuma_send_manager_complete_verify(manager, invocation, g_variant_builder_end(&result));
        return TRUE;
}

static void export_send(Fake *fake, GDBusConnection *connection)
{
        g_autoptr(ZumaSendObjectSkeleton) object =
                zuma_send_object_skeleton_new(ZUMA_SENDD_MANAGER_PATH);
        g_autoptr(ZumaSendManager) manager = zuma_send_manager_skeleton_new();
        g_autofree char *offsite = target_path("offsite");
        g_autoptr(GDBusObject) target_object = NULL;
        ZumaSendTarget *target;

        fake->send = g_dbus_object_manager_server_new(ZUMA_SENDD_OBJECT_ROOT);
        zuma_send_manager_set_version(manager, "fake");
        zuma_send_manager_set_fingerprint(manager, "sha256:aa");
        g_signal_connect(manager, "handle-define-target", G_CALLBACK(on_define_target), fake);
        g_signal_connect(manager, "handle-forget-target", G_CALLBACK(on_forget_target), fake);
        g_signal_connect(manager, "handle-replicate", G_CALLBACK(on_replicate), fake);
        g_signal_connect(manager, "handle-verify", G_CALLBACK(on_verify), fake);
        zuma_send_object_skeleton_set_manager(object, manager);
        g_dbus_object_manager_server_export(fake->send, G_DBUS_OBJECT_SKELETON(object));

        export_target(fake, "offsite", "backup:7890", g_variant_new("a{sv}", NULL));
        target_object =
                g_dbus_object_manager_get_object(G_DBUS_OBJECT_MANAGER(fake->send), offsite);
        target = zuma_send_object_peek_target(ZUMA_SEND_OBJECT(target_object));
        zuma_send_target_set_state(target, "failed");
        zuma_send_target_set_last_snapshot(target, "vol0-s1");
        zuma_send_target_set_last_snapshot_time(target, g_get_real_time() / G_USEC_PER_SEC - 7200);
        zuma_send_target_set_last_error(target, "connection refused");
        zuma_send_target_set_bytes_pending(target, 4096);
        zuma_send_target_set_bytes_sent(target, MIB);
        g_dbus_object_manager_server_set_connection(fake->send, connection);
}

static gboolean on_define_source(ZumaRecvManager *manager, GDBusMethodInvocation *invocation,
                                 const char *volume, GVariant *options, Fake *fake)
{
        if (!known_volume(invocation, volume))
                return TRUE;
        zuma_recv_manager_complete_define_source(manager, invocation,
                                                 ZUMA_RECVD_OBJECT_ROOT "/sources/0f0f");
        return TRUE;
}

static gboolean on_forget_source(ZumaRecvManager *manager, GDBusMethodInvocation *invocation,
                                 const char *volume, GVariant *options, Fake *fake)
{
        if (!known_volume(invocation, volume))
                return TRUE;
        zuma_recv_manager_complete_forget_source(manager, invocation);
        return TRUE;
}

static void export_recv(Fake *fake, GDBusConnection *connection)
{
        g_autoptr(ZumaRecvObjectSkeleton) object =
                zuma_recv_object_skeleton_new(ZUMA_RECVD_MANAGER_PATH);
        g_autoptr(ZumaRecvManager) manager = zuma_recv_manager_skeleton_new();
        g_autoptr(ZumaRecvObjectSkeleton) source_object =
                zuma_recv_object_skeleton_new(ZUMA_RECVD_OBJECT_ROOT "/sources/0f0f");
        g_autoptr(ZumaRecvSource) source = zuma_recv_source_skeleton_new();

        fake->recv = g_dbus_object_manager_server_new(ZUMA_RECVD_OBJECT_ROOT);
        zuma_recv_manager_set_version(manager, "fake");
        zuma_recv_manager_set_fingerprint(manager, "sha256:bb");
        g_signal_connect(manager, "handle-define-source", G_CALLBACK(on_define_source), fake);
        g_signal_connect(manager, "handle-forget-source", G_CALLBACK(on_forget_source), fake);
        zuma_recv_object_skeleton_set_manager(object, manager);
        g_dbus_object_manager_server_export(fake->recv, G_DBUS_OBJECT_SKELETON(object));

        zuma_recv_source_set_volume(source, FAKE_UUID);
        zuma_recv_source_set_volume_name(source, "vol0");
        zuma_recv_source_set_listen(source, "0.0.0.0:7890");
        zuma_recv_source_set_state(source, "idle");
        zuma_recv_source_set_last_snapshot(source, "vol0-s1");
        zuma_recv_source_set_last_received(source, g_get_real_time() / G_USEC_PER_SEC - 60);
        zuma_recv_object_skeleton_set_source(source_object, source);
        g_dbus_object_manager_server_export(fake->recv, G_DBUS_OBJECT_SKELETON(source_object));
        g_dbus_object_manager_server_set_connection(fake->recv, connection);
}

static gboolean on_sigterm(gpointer data)
{
        g_main_loop_quit(data);
        return G_SOURCE_REMOVE;
}

int main(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusConnection) connection = NULL;
        g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
        Fake fake = { 0 };

        (void)zuma_error_quark();
        connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
        if (connection == NULL)
                g_error("cannot connect to the system bus: %s", error->message);
        export_send(&fake, connection);
        export_recv(&fake, connection);
        g_bus_own_name_on_connection(connection, ZUMA_SENDD_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                     NULL, NULL, NULL, NULL);
        g_bus_own_name_on_connection(connection, ZUMA_RECVD_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                     NULL, NULL, NULL, NULL);
        g_unix_signal_add(SIGTERM, on_sigterm, loop);
        g_main_loop_run(loop);
        g_clear_object(&fake.send);
        g_clear_object(&fake.recv);
        return 0;
}
