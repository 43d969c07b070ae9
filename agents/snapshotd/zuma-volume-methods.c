/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Volume interface's methods: each checks that the volume still
 * exists and that the caller may change it (root; FindSnapshot, which
 * only reads, is open to all), reads its arguments
 * and options, and asks the volume.  The methods are found by name in one
 * table, so the caller check, the options argument and the reply are
 * written once (run_method()).
 */
#define G_LOG_DOMAIN "zuma-volume"

#include "zuma-volume-methods.h"

#include "zuma-volume-jobs.h"

#include "zuma-error.h"
#include "zuma-options.h"
#include "zuma-reply.h"

/* Reads the call's arguments (params, its tuple) and options, asks the
 * volume; returns the reply tuple (floating), or NULL with error set. */
typedef GVariant *(*VolumeMethodFunc)(ZumaVolume *self, GVariant *params, GVariant *options,
                                      GError **error);

static GVariant *start_method(ZumaVolume *self, GVariant *params, GVariant *options, GError **error)
{
        gboolean accept_rollback = FALSE;

        if (!zuma_options_parse(options, error, "accept_rollback", "b", &accept_rollback, NULL) ||
            !zuma_volume_start(self,
                               ZUMA_VOLUME_START_REQUESTED |
                                       (accept_rollback ? ZUMA_VOLUME_START_ACCEPT_ROLLBACK : 0),
                               error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *stop_method(ZumaVolume *self, GVariant *params, GVariant *options, GError **error)
{
        gboolean force = FALSE;

        if (!zuma_options_parse(options, error, "force", "b", &force, NULL) ||
            !zuma_volume_stop(self, force, "requested", error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *create_snapshot_method(ZumaVolume *self, GVariant *params, GVariant *options,
                                        GError **error)
{
        g_autofree char *path = NULL;
        g_autofree char *created_name = NULL;
        const char *name = NULL;

        g_variant_get_child(params, 0, "&s", &name);
        if (!volume_create_snapshot(self, name, options, &path, &created_name, error))
                return NULL;
        return g_variant_new("(os)", path, created_name);
}

static GVariant *delete_snapshots_method(ZumaVolume *self, GVariant *params, GVariant *options,
                                         GError **error)
{
        g_autofree const char **names = NULL;
        g_autofree char *job = NULL;

        g_variant_get_child(params, 0, "^a&s", &names);
        if (!volume_delete_snapshots(self, names, options, &job, error))
                return NULL;
        return g_variant_new("(o)", job);
}

static GVariant *revert_method(ZumaVolume *self, GVariant *params, GVariant *options,
                               GError **error)
{
        g_autofree char *job = NULL;
        const char *name = NULL;

        g_variant_get_child(params, 0, "&s", &name);
        if (!volume_revert(self, name, options, &job, error))
                return NULL;
        return g_variant_new("(o)", job);
}

static GVariant *abandon_revert_method(ZumaVolume *self, GVariant *params, GVariant *options,
                                       GError **error)
{
        if (!volume_abandon_revert(self, options, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *resize_method(ZumaVolume *self, GVariant *params, GVariant *options,
                               GError **error)
{
        g_autofree char *job = NULL;

        if (!volume_resize(self, options, &job, error))
                return NULL;
        return g_variant_new("(o)", job);
}

static GVariant *set_full_policy_method(ZumaVolume *self, GVariant *params, GVariant *options,
                                        GError **error)
{
        const char *policy = NULL;

        g_variant_get_child(params, 0, "&s", &policy);
        if (!zuma_options_parse(options, error, NULL) ||
            !volume_set_full_policy(self, policy, error))
                return NULL;
        return g_variant_new("()");
}

/* Every method changes the volume; action completes "only root may ...". */
static const struct {
        const char *name;
        const char *action;
        VolumeMethodFunc func;
} methods[] = {
        { "Start", "start volumes", start_method },
        { "Stop", "stop volumes", stop_method },
        { "CreateSnapshot", "create snapshots", create_snapshot_method },
        { "DeleteSnapshots", "delete snapshots", delete_snapshots_method },
        { "Revert", "revert volumes", revert_method },
        { "AbandonRevert", "revert volumes", abandon_revert_method },
        { "Resize", "resize volumes", resize_method },
        { "SetFullPolicy", "change volumes", set_full_policy_method },
};

static guint method_index(GDBusMethodInvocation *invocation)
{
        const char *name = g_dbus_method_invocation_get_method_name(invocation);

        for (guint i = 0; i < G_N_ELEMENTS(methods); i++)
                if (g_str_equal(methods[i].name, name))
                        return i;
        g_assert_not_reached();
}

/* What every call shares once the caller passed the check: a forgotten
 * volume answers NotFound, the options are the call's last argument, and
 * the method's answer or error is the reply. */
static void run_method(gpointer object, GDBusMethodInvocation *invocation)
{
        ZumaVolume *self = object;
        GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
        g_autoptr(GVariant) options =
                g_variant_get_child_value(params, g_variant_n_children(params) - 1);
        g_autoptr(GError) error = NULL;
        GVariant *reply;

        if (!volume_require_known(self, &error)) {
                zuma_reply_gerror(invocation, error);
                return;
        }
        reply = methods[method_index(invocation)].func(self, params, options, &error);
        if (!reply) {
                zuma_reply_gerror(invocation, error);
                return;
        }
        g_dbus_method_invocation_return_value(invocation, reply);
}

static gboolean on_handle_method(ZumaVolume *self, GDBusMethodInvocation *invocation)
{
        zuma_auth_require_root(zuma_volume_get_auth(self), invocation,
                               methods[method_index(invocation)].action, self, run_method);
        return TRUE;
}

/* The generated signals differ in their arguments; the methods read them
 * from the invocation.  One handler per signature: */

static gboolean on_handle_options_only(ZumaBusVolume *iface, GDBusMethodInvocation *invocation,
                                       GVariant *options, ZumaVolume *self)
{
        return on_handle_method(self, invocation);
}

static gboolean on_handle_string_argument(ZumaBusVolume *iface, GDBusMethodInvocation *invocation,
                                          const char *value, GVariant *options, ZumaVolume *self)
{
        return on_handle_method(self, invocation);
}

static gboolean on_handle_strv_argument(ZumaBusVolume *iface, GDBusMethodInvocation *invocation,
                                        const char *const *value, GVariant *options,
                                        ZumaVolume *self)
{
        return on_handle_method(self, invocation);
}

/* FindSnapshot only reads, so it is open to every caller and bypasses the
 * root check of the table above. */
static gboolean on_handle_find_snapshot(ZumaBusVolume *iface, GDBusMethodInvocation *invocation,
                                        const char *name, GVariant *options, ZumaVolume *self)
{
        g_autoptr(GError) error = NULL;
        ZumaSnapshotRecord *snapshot = NULL;
        g_autofree char *path = NULL;

        if (zuma_options_parse(options, &error, NULL))
                snapshot = volume_find_snapshot_to_read(self, name, &error);
        if (!snapshot) {
                zuma_reply_gerror(invocation, error);
                return TRUE;
        }
        path = zuma_volume_dup_snapshot_path(self, snapshot_record_id(snapshot));
        zuma_bus_volume_complete_find_snapshot(iface, invocation, path);
        return TRUE;
}

void zuma_volume_connect_methods(ZumaVolume *self)
{
        static const struct {
                const char *signal;
                GCallback handler;
        } handlers[] = {
                { "handle-start", G_CALLBACK(on_handle_options_only) },
                { "handle-stop", G_CALLBACK(on_handle_options_only) },
                { "handle-create-snapshot", G_CALLBACK(on_handle_string_argument) },
                { "handle-delete-snapshots", G_CALLBACK(on_handle_strv_argument) },
                { "handle-revert", G_CALLBACK(on_handle_string_argument) },
                { "handle-abandon-revert", G_CALLBACK(on_handle_options_only) },
                { "handle-resize", G_CALLBACK(on_handle_options_only) },
                { "handle-set-full-policy", G_CALLBACK(on_handle_string_argument) },
        };

        for (guint i = 0; i < G_N_ELEMENTS(handlers); i++)
                g_signal_connect(self->iface, handlers[i].signal, handlers[i].handler, self);
        g_signal_connect(self->iface, "handle-find-snapshot", G_CALLBACK(on_handle_find_snapshot),
                         self);
}
