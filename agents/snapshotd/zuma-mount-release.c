/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-volume"

#include "zuma-mount-release.h"

#include "zuma-error.h"
#include "zuma-names.h"
#include "zuma-reply.h"

/* After the mounter let go, a device may stay open for a moment (udev's
 * probe on the close's change event): Busy is retried this long. */
#define SETTLE_MS 2000
#define SETTLE_STEP_MS 100
/* The bus call's own deadline, beyond the mounter's wait. */
#define CALL_MARGIN_MS 10000

typedef struct {
        GObject *object;
        GDBusMethodInvocation *invocation;
        ZumaReleasedFunc func;
        gpointer data;
        GDestroyNotify free_data;
        gboolean force;
        gint64 settle_deadline;
} Pending;

static void pending_free(Pending *pending)
{
        if (pending->free_data)
                pending->free_data(pending->data);
        g_clear_object(&pending->object);
        g_clear_object(&pending->invocation);
        g_free(pending);
}

static void answer(Pending *pending, GVariant *reply, const GError *error)
{
        if (reply)
                g_dbus_method_invocation_return_value(pending->invocation, reply);
        else
                zuma_reply_gerror(pending->invocation, error);
        pending_free(pending);
}

/* Runs the operation; TRUE when it answered (FALSE: retry later). */
static gboolean run(Pending *pending, gboolean settling)
{
        g_autoptr(GError) error = NULL;
        GVariant *reply = pending->func(pending->object, pending->data, &error);

        if (!reply && settling && g_error_matches(error, ZUMA_ERROR, ZUMA_ERROR_BUSY) &&
            g_get_monotonic_time() < pending->settle_deadline)
                return FALSE;
        answer(pending, reply, error);
        return TRUE;
}

static gboolean on_settle(gpointer user_data)
{
        return run(user_data, TRUE) ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean no_mounter(const GError *error)
{
        return g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT);
}

static void on_released(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Pending *pending = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply =
                g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

        if (reply) {
                pending->settle_deadline = g_get_monotonic_time() + SETTLE_MS * 1000;
                if (!run(pending, TRUE))
                        g_timeout_add(SETTLE_STEP_MS, on_settle, pending);
                return;
        }
        if (no_mounter(error)) {
                run(pending, FALSE);
                return;
        }
        g_dbus_error_strip_remote_error(error);
        if (g_error_matches(error, ZUMA_ERROR, ZUMA_ERROR_BUSY)) {
                g_message("zuma-mounterd did not release: %s%s", error->message,
                          pending->force ? " (forced all the same)" : "");
                if (!pending->force) {
                        answer(pending, NULL, error);
                        return;
                }
        } else {
                g_warning("zuma-mounterd's Release failed: %s", error->message);
        }
        run(pending, FALSE);
}

void zuma_mount_release_then(GObject *object, GDBusMethodInvocation *invocation,
                             const char *volume_uuid, GArray *ids, gboolean force,
                             ZumaReleasedFunc func, gpointer data, GDestroyNotify free_data)
{
        Pending *pending = g_new0(Pending, 1);
        g_autoptr(GArray) owned_ids = ids;
        GVariantBuilder id_builder;
        GVariantDict options;

        pending->object = g_object_ref(object);
        pending->invocation = invocation;
        pending->func = func;
        pending->data = data;
        pending->free_data = free_data;
        pending->force = force;
        g_variant_builder_init(&id_builder, G_VARIANT_TYPE("au"));
        for (guint i = 0; ids && i < ids->len; i++)
                g_variant_builder_add(&id_builder, "u", g_array_index(ids, guint32, i));
        g_variant_dict_init(&options, NULL);
        g_variant_dict_insert(&options, "timeout_ms", "u", (guint32)ZUMA_RELEASE_TIMEOUT_MS);
        g_dbus_connection_call(
                g_dbus_method_invocation_get_connection(invocation), ZUMA_MOUNTERD_BUS_NAME,
                ZUMA_MOUNTERD_MANAGER_PATH, ZUMA_MOUNTER_INTERFACE_MANAGER, "Release",
                g_variant_new("(s@au@a{sv})", volume_uuid, g_variant_builder_end(&id_builder),
                              g_variant_dict_end(&options)),
                G_VARIANT_TYPE("()"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                ZUMA_RELEASE_TIMEOUT_MS + CALL_MARGIN_MS, NULL, on_released, pending);
}
