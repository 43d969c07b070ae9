/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The snapshot server's client (agents/common/zuma-server-client.c)
 * against a stand-in server on a private dbus-daemon (GTestDBus): the
 * stand-in owns org.zumastor.Zumastor1 in a thread of its own and answers
 * Volume.DeleteSnapshots with a job, which ends (completes, or the
 * stand-in leaves the bus) once the client has read its properties, so
 * the client is waiting by then.  The real server is tested in
 * tests/bus; what this covers is the client's side of a server that
 * dies, which the real one cannot be made to do at a chosen moment:
 *   - a job that completes: the wait returns its outcome;
 *   - the server leaving the bus before its job completes: the wait
 *     ends with NOT_RUNNING, instead of waiting out the 60 s deadline.
 */
#include <gio/gio.h>

#include "zuma-error.h"
#include "zuma-names.h"
#include "zuma-server-client.h"

#define VOLUME_PATH "/org/zumastor/Zumastor1/volumes/v"
#define JOB_PATH "/org/zumastor/Zumastor1/jobs/1"

static const char server_xml[] =
        "<node>"
        " <interface name='" ZUMA_INTERFACE_VOLUME "'>"
        "  <method name='DeleteSnapshots'>"
        "   <arg type='as' direction='in'/><arg type='a{sv}' direction='in'/>"
        "   <arg type='o' direction='out'/>"
        "  </method>"
        " </interface>"
        " <interface name='" ZUMA_INTERFACE_JOB "'>"
        "  <property name='Finished' type='b' access='read'/>"
        "  <property name='Success' type='b' access='read'/>"
        "  <property name='ErrorMessage' type='s' access='read'/>"
        " </interface>"
        "</node>";

typedef enum {
        JOB_COMPLETES,
        SERVER_LEAVES,
} Ending;

typedef struct {
        char *address;
        Ending ending;
        GMainContext *context;
        GMainLoop *loop;
        GDBusConnection *connection;
        GMutex lock;
        GCond cond;
        gboolean named;
} StandIn;

static gboolean end_job(gpointer user_data)
{
        StandIn *self = user_data;

        if (self->ending == JOB_COMPLETES) {
                g_dbus_connection_emit_signal(
                        self->connection, NULL, JOB_PATH, ZUMA_INTERFACE_JOB, "Completed",
                        g_variant_new("(bss)", FALSE, "", "disk on fire"), NULL);
                g_dbus_connection_flush_sync(self->connection, NULL, NULL);
        } else {
                /* What kill -9 does to the bus: the connection goes (after
                 * the properties' answer, so the wait is what ends). */
                g_dbus_connection_flush_sync(self->connection, NULL, NULL);
                g_dbus_connection_close_sync(self->connection, NULL, NULL);
                g_main_loop_quit(self->loop);
        }
        return G_SOURCE_REMOVE;
}

static void on_method(GDBusConnection *connection, const char *sender, const char *path,
                      const char *interface, const char *method, GVariant *params,
                      GDBusMethodInvocation *invocation, gpointer user_data)
{
        g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", JOB_PATH));
}

/* The client reads the job's properties once it listens for the end. */
static GVariant *on_job_property(GDBusConnection *connection, const char *sender, const char *path,
                                 const char *interface, const char *property, GError **error,
                                 gpointer user_data)
{
        StandIn *self = user_data;
        GSource *idle;

        if (g_str_equal(property, "ErrorMessage"))
                return g_variant_new_string("");
        if (g_str_equal(property, "Finished")) {
                idle = g_idle_source_new();
                g_source_set_callback(idle, end_job, self, NULL);
                g_source_attach(idle, self->context);
                g_source_unref(idle);
        }
        return g_variant_new_boolean(FALSE);
}

static const GDBusInterfaceVTable volume_vtable = { on_method, NULL, NULL, { 0 } };
static const GDBusInterfaceVTable job_vtable = { NULL, on_job_property, NULL, { 0 } };

static gpointer stand_in_thread(gpointer user_data)
{
        StandIn *self = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml(server_xml, &error);
        g_autoptr(GVariant) reply = NULL;

        g_assert_no_error(error);
        g_main_context_push_thread_default(self->context);
        self->connection = g_dbus_connection_new_for_address_sync(
                self->address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &error);
        g_assert_no_error(error);
        g_dbus_connection_register_object(self->connection, VOLUME_PATH, info->interfaces[0],
                                          &volume_vtable, self, NULL, &error);
        g_assert_no_error(error);
        g_dbus_connection_register_object(self->connection, JOB_PATH, info->interfaces[1],
                                          &job_vtable, self, NULL, &error);
        g_assert_no_error(error);
        reply = g_dbus_connection_call_sync(
                self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                "org.freedesktop.DBus", "RequestName",
                g_variant_new("(su)", ZUMA_SNAPSHOTD_BUS_NAME, 4 /* DO_NOT_QUEUE */),
                G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        g_mutex_lock(&self->lock);
        self->named = TRUE;
        g_cond_signal(&self->cond);
        g_mutex_unlock(&self->lock);
        g_main_loop_run(self->loop);
        g_main_context_pop_thread_default(self->context);
        return NULL;
}

static void delete_against(Ending ending, GError **error)
{
        g_autoptr(GTestDBus) bus = g_test_dbus_new(G_TEST_DBUS_NONE);
        g_autoptr(GDBusConnection) client = NULL;
        g_autoptr(GError) local = NULL;
        const char *names[] = { "s1", NULL };
        ZumaServerVolume volume = { .path = (char *)VOLUME_PATH, .name = (char *)"v" };
        StandIn self = { .ending = ending };
        GThread *thread;

        g_test_dbus_up(bus);
        self.address = g_strdup(g_test_dbus_get_bus_address(bus));
        self.context = g_main_context_new();
        self.loop = g_main_loop_new(self.context, FALSE);
        g_mutex_init(&self.lock);
        g_cond_init(&self.cond);
        thread = g_thread_new("stand-in", stand_in_thread, &self);
        g_mutex_lock(&self.lock);
        while (!self.named)
                g_cond_wait(&self.cond, &self.lock);
        g_mutex_unlock(&self.lock);

        client = g_dbus_connection_new_for_address_sync(
                self.address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &local);
        g_assert_no_error(local);
        g_assert_false(zuma_server_delete_snapshots(client, &volume, names, error));

        if (ending == JOB_COMPLETES)
                g_main_loop_quit(self.loop);
        g_thread_join(thread);
        g_clear_object(&self.connection);
        g_main_loop_unref(self.loop);
        g_main_context_unref(self.context);
        g_mutex_clear(&self.lock);
        g_cond_clear(&self.cond);
        g_free(self.address);
        g_dbus_connection_close_sync(client, NULL, NULL);
        g_test_dbus_down(bus);
}

static void test_job_fails(void)
{
        g_autoptr(GError) error = NULL;

        delete_against(JOB_COMPLETES, &error);
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "disk on fire"));
}

static void test_server_leaves(void)
{
        g_autoptr(GError) error = NULL;

        delete_against(SERVER_LEAVES, &error);
        /* Not ZUMA_ERROR_TIMED_OUT a minute later. */
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING);
        g_assert_nonnull(strstr(error->message, "left the bus"));
}

int main(int argc, char **argv)
{
        g_autofree char *dbus_daemon = g_find_program_in_path("dbus-daemon");

        g_test_init(&argc, &argv, NULL);
        if (!dbus_daemon) {
                g_test_message("dbus-daemon is not installed");
                return 77;
        }
        g_test_add_func("/server-client/job-fails", test_job_fails);
        g_test_add_func("/server-client/server-leaves", test_server_leaves);
        return g_test_run();
}
