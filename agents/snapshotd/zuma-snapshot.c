/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-snapshot"

#include "zuma-snapshot.h"

#include "zuma-bus-generated.h"
#include "zuma-error.h"
#include "zuma-options.h"
#include "zuma-reply.h"

struct _ZumaSnapshot {
        GObject parent_instance;
        ZumaVolume *volume; /* unowned; NULL once the record is gone (Follower) */
        guint32 id;
        char *object_path;
        ZumaBusObjectSkeleton *object;
        ZumaBusSnapshot *iface;
};

G_DEFINE_TYPE(ZumaSnapshot, zuma_snapshot, G_TYPE_OBJECT)

static void update_from_record(ZumaSnapshot *self, const ZumaSnapshotRecord *record)
{
        const SsSnapshotInfo *info = &record->info;

        zuma_bus_snapshot_set_name(self->iface, info->name);
        zuma_bus_snapshot_set_creation_time(self->iface,
                                            info->ctime > 0 ? (guint64)info->ctime : 0);
        zuma_bus_snapshot_set_priority(self->iface, info->priority);
        zuma_bus_snapshot_set_pinned(self->iface, (info->flags & SS_SNAP_PINNED) != 0);
        zuma_bus_snapshot_set_writable(self->iface, (info->flags & SS_SNAP_WRITABLE) != 0);
        zuma_bus_snapshot_set_size(self->iface, info->origin_size);
        zuma_bus_snapshot_set_device(self->iface, record->device);
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

/* --- the methods ---
 *
 * Each reads its arguments (params, the call's tuple) and options, asks
 * the volume and returns the reply tuple (floating), or NULL with error
 * set.  run_method() does what every call shares. */

typedef GVariant *(*SnapshotMethodFunc)(ZumaSnapshot *self, ZumaVolume *volume, GVariant *params,
                                        GVariant *options, GError **error);

static GVariant *delete_method(ZumaSnapshot *self, ZumaVolume *volume, GVariant *params,
                               GVariant *options, GError **error)
{
        gboolean force = FALSE;

        if (!zuma_options_parse(options, error, "force", "b", &force, NULL) ||
            !zuma_volume_delete_snapshot(volume, self->id, force, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *rename_method(ZumaSnapshot *self, ZumaVolume *volume, GVariant *params,
                               GVariant *options, GError **error)
{
        const char *name = NULL;

        g_variant_get_child(params, 0, "&s", &name);
        if (!zuma_options_parse(options, error, NULL) ||
            !zuma_volume_rename_snapshot(volume, self->id, name, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *set_priority_method(ZumaSnapshot *self, ZumaVolume *volume, GVariant *params,
                                     GVariant *options, GError **error)
{
        gint32 priority = 0;

        g_variant_get_child(params, 0, "i", &priority);
        if (!zuma_options_parse(options, error, NULL) ||
            !zuma_volume_set_snapshot_priority(volume, self->id, priority, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *set_pinned_method(ZumaSnapshot *self, ZumaVolume *volume, GVariant *params,
                                   GVariant *options, GError **error)
{
        gboolean pinned = FALSE;

        g_variant_get_child(params, 0, "b", &pinned);
        if (!zuma_options_parse(options, error, NULL) ||
            !zuma_volume_set_snapshot_pinned(volume, self->id, pinned, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *set_writable_method(ZumaSnapshot *self, ZumaVolume *volume, GVariant *params,
                                     GVariant *options, GError **error)
{
        gboolean writable = FALSE;

        g_variant_get_child(params, 0, "b", &writable);
        if (!zuma_options_parse(options, error, NULL) ||
            !zuma_volume_set_snapshot_writable(volume, self->id, writable, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *attach_method(ZumaSnapshot *self, ZumaVolume *volume, GVariant *params,
                               GVariant *options, GError **error)
{
        g_autofree char *device = NULL;

        if (!zuma_options_parse(options, error, NULL) ||
            !zuma_volume_attach_snapshot(volume, self->id, &device, error))
                return NULL;
        return g_variant_new("(s)", device);
}

static GVariant *detach_method(ZumaSnapshot *self, ZumaVolume *volume, GVariant *params,
                               GVariant *options, GError **error)
{
        gboolean force = FALSE;

        if (!zuma_options_parse(options, error, "force", "b", &force, NULL) ||
            !zuma_volume_detach_snapshot(volume, self->id, force, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *get_usage_method(ZumaSnapshot *self, ZumaVolume *volume, GVariant *params,
                                  GVariant *options, GError **error)
{
        g_auto(GVariantBuilder) usage = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
        SsSnapshotUsage u;

        if (!zuma_options_parse(options, error, NULL) ||
            !zuma_volume_get_snapshot_usage(volume, self->id, &u, error))
                return NULL;
        g_variant_builder_add(&usage, "{sv}", "exclusive_bytes",
                              g_variant_new_uint64(u.exclusive_bytes));
        g_variant_builder_add(&usage, "{sv}", "shared_chunks",
                              g_variant_new_uint64(u.shared_chunks));
        g_variant_builder_add(&usage, "{sv}", "private_chunks",
                              g_variant_new_uint64(u.private_chunks));
        return g_variant_new("(@a{sv})", g_variant_builder_end(&usage));
}

/* The mutating methods, found by name once the caller check passed; action
 * completes "only root may ...". */
static const struct {
        const char *name;
        const char *action;
        SnapshotMethodFunc func;
} mutating_methods[] = {
        { "Delete", "delete snapshots", delete_method },
        { "Rename", "rename snapshots", rename_method },
        { "SetPriority", "change snapshots", set_priority_method },
        { "SetPinned", "change snapshots", set_pinned_method },
        { "SetWritable", "change snapshots", set_writable_method },
        { "Attach", "attach snapshots", attach_method },
        { "Detach", "detach snapshots", detach_method },
};

static guint mutating_method_index(GDBusMethodInvocation *invocation)
{
        const char *name = g_dbus_method_invocation_get_method_name(invocation);

        for (guint i = 0; i < G_N_ELEMENTS(mutating_methods); i++)
                if (g_str_equal(mutating_methods[i].name, name))
                        return i;
        g_assert_not_reached();
}

/* What every call shares: the snapshot must still exist, the options are
 * the call's last argument, and the method's answer or error is the
 * reply. */
static void run_method(ZumaSnapshot *self, GDBusMethodInvocation *invocation,
                       SnapshotMethodFunc func)
{
        GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
        g_autoptr(GVariant) options =
                g_variant_get_child_value(params, g_variant_n_children(params) - 1);
        g_autoptr(GError) error = NULL;
        ZumaVolume *volume = volume_or_reply(self, invocation);
        GVariant *reply;

        if (!volume)
                return;
        reply = func(self, volume, params, options, &error);
        if (!reply) {
                zuma_reply_gerror(invocation, error);
                return;
        }
        g_dbus_method_invocation_return_value(invocation, reply);
}

static void mutating_authorized(gpointer object, GDBusMethodInvocation *invocation)
{
        run_method(object, invocation, mutating_methods[mutating_method_index(invocation)].func);
}

/* Every mutating method goes through the caller check first. */
static gboolean on_handle_mutating(ZumaSnapshot *self, GDBusMethodInvocation *invocation)
{
        if (!volume_or_reply(self, invocation))
                return TRUE;
        zuma_auth_require_root(zuma_volume_get_auth(self->volume), invocation,
                               mutating_methods[mutating_method_index(invocation)].action, self,
                               mutating_authorized);
        return TRUE;
}

/* The generated signals differ in their arguments; the methods read them
 * from the invocation. */

static gboolean on_handle_rename(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                 const char *name, GVariant *options, ZumaSnapshot *self)
{
        return on_handle_mutating(self, invocation);
}

/* SetPriority (i), SetPinned and SetWritable (b): a gboolean is a gint. */
static gboolean on_handle_int_argument(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                       gint value, GVariant *options, ZumaSnapshot *self)
{
        return on_handle_mutating(self, invocation);
}

static gboolean on_handle_options_only(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                       GVariant *options, ZumaSnapshot *self)
{
        return on_handle_mutating(self, invocation);
}

static gboolean on_handle_get_usage(ZumaBusSnapshot *iface, GDBusMethodInvocation *invocation,
                                    GVariant *options, ZumaSnapshot *self)
{
        run_method(self, invocation, get_usage_method);
        return TRUE;
}

static ZumaSnapshot *snapshot_new(ZumaVolume *volume, const ZumaSnapshotRecord *record)
{
        ZumaSnapshot *self = g_object_new(ZUMA_TYPE_SNAPSHOT, NULL);

        self->volume = volume;
        self->id = record->info.id;
        self->object_path = zuma_volume_dup_snapshot_path(volume, self->id);
        self->object = zuma_bus_object_skeleton_new(self->object_path);
        self->iface = zuma_bus_snapshot_skeleton_new();
        zuma_bus_snapshot_set_volume(self->iface, zuma_volume_get_object_path(volume));
        zuma_bus_snapshot_set_id(self->iface, self->id);
        update_from_record(self, record);
        g_signal_connect(self->iface, "handle-delete", G_CALLBACK(on_handle_options_only), self);
        g_signal_connect(self->iface, "handle-rename", G_CALLBACK(on_handle_rename), self);
        g_signal_connect(self->iface, "handle-set-priority", G_CALLBACK(on_handle_int_argument),
                         self);
        g_signal_connect(self->iface, "handle-set-pinned", G_CALLBACK(on_handle_int_argument),
                         self);
        g_signal_connect(self->iface, "handle-set-writable", G_CALLBACK(on_handle_int_argument),
                         self);
        g_signal_connect(self->iface, "handle-attach", G_CALLBACK(on_handle_options_only), self);
        g_signal_connect(self->iface, "handle-detach", G_CALLBACK(on_handle_options_only), self);
        g_signal_connect(self->iface, "handle-get-usage", G_CALLBACK(on_handle_get_usage), self);
        zuma_bus_object_skeleton_set_snapshot(self->object, self->iface);
        return self;
}

/* --- following a volume --- */

typedef struct Follower {
        GDBusObjectManagerServer *objects;
        GHashTable *faces; /* id → ZumaSnapshot */
} Follower;

static void follower_free(gpointer data)
{
        Follower *f = data;
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, f->faces);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                g_dbus_object_manager_server_unexport(f->objects,
                                                      ZUMA_SNAPSHOT(value)->object_path);
                ZUMA_SNAPSHOT(value)->volume = NULL;
        }
        g_hash_table_unref(f->faces);
        g_object_unref(f->objects);
        g_free(f);
}

static void on_snapshot_added(ZumaVolume *volume, guint id, Follower *f)
{
        const ZumaSnapshotRecord *record = zuma_volume_get_snapshot(volume, id);
        ZumaSnapshot *face;

        if (!record)
                return;
        face = snapshot_new(volume, record);
        g_hash_table_replace(f->faces, GUINT_TO_POINTER(id), face);
        g_dbus_object_manager_server_export(f->objects, G_DBUS_OBJECT_SKELETON(face->object));
}

static void on_snapshot_changed(ZumaVolume *volume, guint id, Follower *f)
{
        const ZumaSnapshotRecord *record = zuma_volume_get_snapshot(volume, id);
        ZumaSnapshot *face = g_hash_table_lookup(f->faces, GUINT_TO_POINTER(id));

        if (record && face)
                update_from_record(face, record);
}

/* A call still on its way to the face gets NotFound. */
static void on_snapshot_removed(ZumaVolume *volume, guint id, Follower *f)
{
        ZumaSnapshot *face = g_hash_table_lookup(f->faces, GUINT_TO_POINTER(id));

        if (!face)
                return;
        g_dbus_object_manager_server_unexport(f->objects, face->object_path);
        face->volume = NULL;
        g_hash_table_remove(f->faces, GUINT_TO_POINTER(id));
}

void zuma_snapshot_follow_volume(ZumaVolume *volume, GDBusObjectManagerServer *objects)
{
        Follower *f = g_new0(Follower, 1);

        f->objects = g_object_ref(objects);
        f->faces = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_object_unref);
        /* Freed with the volume, after its signal handlers are gone. */
        g_object_set_data_full(G_OBJECT(volume), "zuma-snapshot-follower", f, follower_free);
        g_signal_connect(volume, "snapshot-added", G_CALLBACK(on_snapshot_added), f);
        g_signal_connect(volume, "snapshot-changed", G_CALLBACK(on_snapshot_changed), f);
        g_signal_connect(volume, "snapshot-removed", G_CALLBACK(on_snapshot_removed), f);
        /* The records the volume has already (listed from its store). */
        {
                g_autoptr(GArray) ids = zuma_volume_dup_snapshot_ids(volume);

                for (guint i = 0; i < ids->len; i++)
                        on_snapshot_added(volume, g_array_index(ids, guint32, i), f);
        }
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
