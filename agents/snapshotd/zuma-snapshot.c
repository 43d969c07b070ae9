/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-snapshot"

#include "zuma-snapshot.h"

#include "zuma-bus-generated.h"
#include "zuma-error.h"
#include "zuma-options.h"
#include "zuma-reply.h"

struct _ZumaSnapshot {
        GObject parent_instance;
        ZumaVolume *volume; /* unowned: the volume orphans its snapshots before it goes */
        guint32 id;
        char *object_path;
        ZumaBusObjectSkeleton *object;
        ZumaBusSnapshot *iface;
};

G_DEFINE_TYPE(ZumaSnapshot, zuma_snapshot, G_TYPE_OBJECT)

guint32 zuma_snapshot_get_id(ZumaSnapshot *self)
{
        return self->id;
}

const char *zuma_snapshot_get_name(ZumaSnapshot *self)
{
        return zuma_bus_snapshot_get_name(self->iface);
}

gboolean zuma_snapshot_get_writable(ZumaSnapshot *self)
{
        return zuma_bus_snapshot_get_writable(self->iface);
}

const char *zuma_snapshot_get_device(ZumaSnapshot *self)
{
        return zuma_bus_snapshot_get_device(self->iface);
}

const char *zuma_snapshot_get_object_path(ZumaSnapshot *self)
{
        return self->object_path;
}

GDBusObjectSkeleton *zuma_snapshot_get_object(ZumaSnapshot *self)
{
        return G_DBUS_OBJECT_SKELETON(self->object);
}

void zuma_snapshot_update(ZumaSnapshot *self, const SsSnapshotInfo *info)
{
        zuma_bus_snapshot_set_name(self->iface, info->name);
        zuma_bus_snapshot_set_creation_time(self->iface,
                                            info->ctime > 0 ? (guint64)info->ctime : 0);
        zuma_bus_snapshot_set_priority(self->iface, info->priority);
        zuma_bus_snapshot_set_pinned(self->iface, (info->flags & SS_SNAP_PINNED) != 0);
        zuma_bus_snapshot_set_writable(self->iface, (info->flags & SS_SNAP_WRITABLE) != 0);
        zuma_bus_snapshot_set_size(self->iface, info->origin_size);
}

void zuma_snapshot_set_device(ZumaSnapshot *self, const char *device)
{
        zuma_bus_snapshot_set_device(self->iface, device ? device : "");
}

void zuma_snapshot_orphan(ZumaSnapshot *self)
{
        self->volume = NULL;
}

/* The volume of a call that passed the checks, or NULL after answering
 * NotFound. */
static ZumaVolume *volume_or_reply(ZumaSnapshot *self, GDBusMethodInvocation *invocation)
{
        if (!self->volume) {
                zuma_reply_error(invocation, ZUMA_ERROR_NOT_FOUND, "snapshot %u no longer exists",
                                 self->id);
                return NULL;
        }
        return self->volume;
}

/* Reads the trailing options of a call (its last argument). */
static GVariant *call_options(GDBusMethodInvocation *invocation)
{
        GVariant *params = g_dbus_method_invocation_get_parameters(invocation);

        return g_variant_get_child_value(params, g_variant_n_children(params) - 1);
}

static void delete_authorized(gpointer object, GDBusMethodInvocation *invocation)
{
        ZumaSnapshot *self = object;
        g_autoptr(GVariant) options = call_options(invocation);
        g_autoptr(GError) error = NULL;
        gboolean force = FALSE;
        ZumaVolume *volume = volume_or_reply(self, invocation);

        if (!volume)
                return;
        if (!zuma_options_parse(options, &error, "force", "b", &force, NULL) ||
            !zuma_volume_delete_snapshot(volume, self->id, force, &error)) {
                zuma_reply_gerror(invocation, error);
                return;
        }
        zuma_bus_snapshot_complete_delete(self->iface, invocation);
}

static void rename_authorized(gpointer object, GDBusMethodInvocation *invocation)
{
        ZumaSnapshot *self = object;
        g_autoptr(GVariant) options = call_options(invocation);
        g_autoptr(GError) error = NULL;
        const char *name = NULL;
        ZumaVolume *volume = volume_or_reply(self, invocation);

        if (!volume)
                return;
        g_variant_get_child(g_dbus_method_invocation_get_parameters(invocation), 0, "&s", &name);
        if (!zuma_options_parse(options, &error, NULL) ||
            !zuma_volume_rename_snapshot(volume, self->id, name, &error)) {
                zuma_reply_gerror(invocation, error);
                return;
        }
        zuma_bus_snapshot_complete_rename(self->iface, invocation);
}

static void set_priority_authorized(gpointer object, GDBusMethodInvocation *invocation)
{
        ZumaSnapshot *self = object;
        g_autoptr(GVariant) options = call_options(invocation);
        g_autoptr(GError) error = NULL;
        gint32 priority = 0;
        ZumaVolume *volume = volume_or_reply(self, invocation);

        if (!volume)
                return;
        g_variant_get_child(g_dbus_method_invocation_get_parameters(invocation), 0, "i", &priority);
        if (!zuma_options_parse(options, &error, NULL) ||
            !zuma_volume_set_snapshot_priority(volume, self->id, priority, &error)) {
                zuma_reply_gerror(invocation, error);
                return;
        }
        zuma_bus_snapshot_complete_set_priority(self->iface, invocation);
}

static void set_pinned_authorized(gpointer object, GDBusMethodInvocation *invocation)
{
        ZumaSnapshot *self = object;
        g_autoptr(GVariant) options = call_options(invocation);
        g_autoptr(GError) error = NULL;
        gboolean pinned = FALSE;
        ZumaVolume *volume = volume_or_reply(self, invocation);

        if (!volume)
                return;
        g_variant_get_child(g_dbus_method_invocation_get_parameters(invocation), 0, "b", &pinned);
        if (!zuma_options_parse(options, &error, NULL) ||
            !zuma_volume_set_snapshot_pinned(volume, self->id, pinned, &error)) {
                zuma_reply_gerror(invocation, error);
                return;
        }
        zuma_bus_snapshot_complete_set_pinned(self->iface, invocation);
}

static void set_writable_authorized(gpointer object, GDBusMethodInvocation *invocation)
{
        ZumaSnapshot *self = object;
        g_autoptr(GVariant) options = call_options(invocation);
        g_autoptr(GError) error = NULL;
        gboolean writable = FALSE;
        ZumaVolume *volume = volume_or_reply(self, invocation);

        if (!volume)
                return;
        g_variant_get_child(g_dbus_method_invocation_get_parameters(invocation), 0, "b", &writable);
        if (!zuma_options_parse(options, &error, NULL) ||
            !zuma_volume_set_snapshot_writable(volume, self->id, writable, &error)) {
                zuma_reply_gerror(invocation, error);
                return;
        }
        zuma_bus_snapshot_complete_set_writable(self->iface, invocation);
}

static void attach_authorized(gpointer object, GDBusMethodInvocation *invocation)
{
        ZumaSnapshot *self = object;
        g_autoptr(GVariant) options = call_options(invocation);
        g_autoptr(GError) error = NULL;
        g_autofree char *device = NULL;
        ZumaVolume *volume = volume_or_reply(self, invocation);

        if (!volume)
                return;
        if (!zuma_options_parse(options, &error, NULL) ||
            !zuma_volume_attach_snapshot(volume, self->id, &device, &error)) {
                zuma_reply_gerror(invocation, error);
                return;
        }
        zuma_bus_snapshot_complete_attach(self->iface, invocation, device);
}

static void detach_authorized(gpointer object, GDBusMethodInvocation *invocation)
{
        ZumaSnapshot *self = object;
        g_autoptr(GVariant) options = call_options(invocation);
        g_autoptr(GError) error = NULL;
        gboolean force = FALSE;
        ZumaVolume *volume = volume_or_reply(self, invocation);

        if (!volume)
                return;
        if (!zuma_options_parse(options, &error, "force", "b", &force, NULL) ||
            !zuma_volume_detach_snapshot(volume, self->id, force, &error)) {
                zuma_reply_gerror(invocation, error);
                return;
        }
        zuma_bus_snapshot_complete_detach(self->iface, invocation);
}

/* Every mutating method goes through the caller check first. */
static gboolean require_root(ZumaSnapshot *self, GDBusMethodInvocation *invocation,
                             const char *action, ZumaAuthFunc func)
{
        if (!volume_or_reply(self, invocation))
                return TRUE;
        zuma_auth_require_root(zuma_volume_get_auth(self->volume), invocation, action, self, func);
        return TRUE;
}

static gboolean on_handle_delete(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                 GVariant *options, ZumaSnapshot *self)
{
        return require_root(self, invocation, "delete snapshots", delete_authorized);
}

static gboolean on_handle_rename(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                 const char *name, GVariant *options, ZumaSnapshot *self)
{
        return require_root(self, invocation, "rename snapshots", rename_authorized);
}

static gboolean on_handle_set_priority(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                       gint priority, GVariant *options, ZumaSnapshot *self)
{
        return require_root(self, invocation, "change snapshots", set_priority_authorized);
}

static gboolean on_handle_set_pinned(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                     gboolean pinned, GVariant *options, ZumaSnapshot *self)
{
        return require_root(self, invocation, "change snapshots", set_pinned_authorized);
}

static gboolean on_handle_set_writable(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                       gboolean writable, GVariant *options, ZumaSnapshot *self)
{
        return require_root(self, invocation, "change snapshots", set_writable_authorized);
}

static gboolean on_handle_attach(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                 GVariant *options, ZumaSnapshot *self)
{
        return require_root(self, invocation, "attach snapshots", attach_authorized);
}

static gboolean on_handle_detach(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                 GVariant *options, ZumaSnapshot *self)
{
        return require_root(self, invocation, "detach snapshots", detach_authorized);
}

static gboolean on_handle_get_usage(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                    GVariant *options, ZumaSnapshot *self)
{
        g_autoptr(GError) error = NULL;
        g_auto(GVariantBuilder) usage = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
        SsSnapshotUsage u;
        ZumaVolume *volume = volume_or_reply(self, invocation);

        if (!volume)
                return TRUE;
        if (!zuma_options_parse(options, &error, NULL) ||
            !zuma_volume_get_snapshot_usage(volume, self->id, &u, &error)) {
                zuma_reply_gerror(invocation, error);
                return TRUE;
        }
        g_variant_builder_add(&usage, "{sv}", "exclusive_bytes",
                              g_variant_new_uint64(u.exclusive_bytes));
        g_variant_builder_add(&usage, "{sv}", "shared_chunks",
                              g_variant_new_uint64(u.shared_chunks));
        g_variant_builder_add(&usage, "{sv}", "private_chunks",
                              g_variant_new_uint64(u.private_chunks));
        zuma_bus_snapshot_complete_get_usage(iface, invocation, g_variant_builder_end(&usage));
        return TRUE;
}

ZumaSnapshot *zuma_snapshot_new(ZumaVolume *volume, const SsSnapshotInfo *info)
{
        ZumaSnapshot *self = g_object_new(ZUMA_TYPE_SNAPSHOT, NULL);

        self->volume = volume;
        self->id = info->id;
        self->object_path =
                g_strdup_printf("%s/snapshots/%u", zuma_volume_get_object_path(volume), info->id);
        self->object = zuma_bus_object_skeleton_new(self->object_path);
        self->iface = zuma_bus_snapshot_skeleton_new();
        zuma_bus_snapshot_set_volume(self->iface, zuma_volume_get_object_path(volume));
        zuma_bus_snapshot_set_id(self->iface, info->id);
        zuma_bus_snapshot_set_device(self->iface, "");
        zuma_snapshot_update(self, info);
        g_signal_connect(self->iface, "handle-delete", G_CALLBACK(on_handle_delete), self);
        g_signal_connect(self->iface, "handle-rename", G_CALLBACK(on_handle_rename), self);
        g_signal_connect(self->iface, "handle-set-priority", G_CALLBACK(on_handle_set_priority),
                         self);
        g_signal_connect(self->iface, "handle-set-pinned", G_CALLBACK(on_handle_set_pinned), self);
        g_signal_connect(self->iface, "handle-set-writable", G_CALLBACK(on_handle_set_writable),
                         self);
        g_signal_connect(self->iface, "handle-attach", G_CALLBACK(on_handle_attach), self);
        g_signal_connect(self->iface, "handle-detach", G_CALLBACK(on_handle_detach), self);
        g_signal_connect(self->iface, "handle-get-usage", G_CALLBACK(on_handle_get_usage), self);
        zuma_bus_object_skeleton_set_snapshot(self->object, self->iface);
        return self;
}

static void zuma_snapshot_dispose(GObject *object)
{
        ZumaSnapshot *self = ZUMA_SNAPSHOT(object);

        if (self->iface)
                g_signal_handlers_disconnect_by_data(self->iface, self);
        g_clear_object(&self->iface);
        g_clear_object(&self->object);
        G_OBJECT_CLASS(zuma_snapshot_parent_class)->dispose(object);
}

static void zuma_snapshot_finalize(GObject *object)
{
        ZumaSnapshot *self = ZUMA_SNAPSHOT(object);

        g_free(self->object_path);
        G_OBJECT_CLASS(zuma_snapshot_parent_class)->finalize(object);
}

static void zuma_snapshot_class_init(ZumaSnapshotClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);

        object_class->dispose = zuma_snapshot_dispose;
        object_class->finalize = zuma_snapshot_finalize;
}

static void zuma_snapshot_init(ZumaSnapshot *self)
{
}
