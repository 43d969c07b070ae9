/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaSnapshotFace (zuma-snapshot-face.h): the Snapshot interface.
 *
 * A call goes through zuma_method_table_bind()'s path: snapshot_alive()
 * (the record is still there), the caller check for the mutating methods
 * (zuma-auth.h: uid 0, the administrators' group or polkit; GetUsage only
 * reads and is open to every caller), snapshot_alive() again, then the
 * method's function below, which reads its arguments and options and asks
 * the volume by id (zuma-volume.h).  All on the main thread.
 */
#define G_LOG_DOMAIN "zuma-snapshot"

#include "zuma-snapshot-face.h"

#include "zuma-error.h"
#include "zuma-method-table.h"
#include "zuma-mount-release.h"
#include "zuma-options.h"

struct _ZumaSnapshotFace {
        ZumaBusSnapshotSkeleton parent_instance;
        ZumaVolume *volume; /* NULL once the record is gone */
        guint32 id;
        ZumaMethodBinding *methods;
};

G_DEFINE_TYPE(ZumaSnapshotFace, zuma_snapshot_face, ZUMA_BUS_TYPE_SNAPSHOT_SKELETON)

void zuma_snapshot_face_update(ZumaSnapshotFace *self)
{
        ZumaBusSnapshot *iface = ZUMA_BUS_SNAPSHOT(self);
        const ZumaSnapshotRecord *record;
        const SsSnapshotInfo *info;

        if (!self->volume)
                return;
        record = zuma_volume_get_snapshot(self->volume, self->id);
        if (!record)
                return;
        info = &record->info;
        zuma_bus_snapshot_set_name(iface, info->name);
        zuma_bus_snapshot_set_creation_time(iface, info->ctime > 0 ? (guint64)info->ctime : 0);
        zuma_bus_snapshot_set_priority(iface, info->priority);
        zuma_bus_snapshot_set_pinned(iface, (info->flags & SS_SNAP_PINNED) != 0);
        zuma_bus_snapshot_set_writable(iface, (info->flags & SS_SNAP_WRITABLE) != 0);
        zuma_bus_snapshot_set_size(iface, info->origin_size);
        zuma_bus_snapshot_set_device(iface, record->device);
}

void zuma_snapshot_face_forget(ZumaSnapshotFace *self)
{
        g_clear_object(&self->volume);
}

/* --- the methods --- */

static gboolean snapshot_alive(gpointer object, GError **error)
{
        ZumaSnapshotFace *self = object;

        if (self->volume)
                return TRUE;
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "snapshot %u no longer exists",
                    self->id);
        return FALSE;
}

/* A snapshot whose device is open may be mounted by zuma-mounterd: it is
 * asked to let go first (zuma-mount-release.h), and the call answers
 * later.  FALSE: nothing to wait for, the method goes on at once. */
static gboolean release_first(ZumaSnapshotFace *self, ZumaCall *call, gboolean force,
                              ZumaReleasedFunc func)
{
        const char *uuid = zuma_volume_get_config(self->volume)->uuid;
        GArray *ids;

        if (!call->invocation || !uuid || !uuid[0] ||
            !zuma_volume_device_is_busy(self->volume, self->id))
                return FALSE;
        ids = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_array_append_val(ids, self->id);
        zuma_mount_release_then(G_OBJECT(self), zuma_call_defer(call), uuid, ids, force, func,
                                GINT_TO_POINTER(force), NULL);
        return TRUE;
}

static GVariant *delete_released(GObject *object, gpointer data, GError **error)
{
        ZumaSnapshotFace *self = ZUMA_SNAPSHOT_FACE(object);

        if (!snapshot_alive(self, error) ||
            !zuma_volume_delete_snapshot(self->volume, self->id, GPOINTER_TO_INT(data), error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *delete_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSnapshotFace *self = object;
        gboolean force = FALSE;

        if (!zuma_options_parse(call->options, error, "force", "b", &force, NULL))
                return NULL;
        if (release_first(self, call, force, delete_released))
                return NULL;
        return delete_released(object, GINT_TO_POINTER(force), error);
}

static GVariant *rename_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSnapshotFace *self = object;
        const char *name = NULL;

        g_variant_get_child(call->params, 0, "&s", &name);
        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_volume_rename_snapshot(self->volume, self->id, name, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *set_priority_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSnapshotFace *self = object;
        gint32 priority = 0;

        g_variant_get_child(call->params, 0, "i", &priority);
        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_volume_set_snapshot_priority(self->volume, self->id, priority, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *set_pinned_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSnapshotFace *self = object;
        gboolean pinned = FALSE;

        g_variant_get_child(call->params, 0, "b", &pinned);
        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_volume_set_snapshot_pinned(self->volume, self->id, pinned, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *set_writable_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSnapshotFace *self = object;
        gboolean writable = FALSE;

        g_variant_get_child(call->params, 0, "b", &writable);
        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_volume_set_snapshot_writable(self->volume, self->id, writable, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *attach_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSnapshotFace *self = object;
        g_autofree char *device = NULL;

        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_volume_attach_snapshot(self->volume, self->id, &device, error))
                return NULL;
        return g_variant_new("(s)", device);
}

static GVariant *detach_released(GObject *object, gpointer data, GError **error)
{
        ZumaSnapshotFace *self = ZUMA_SNAPSHOT_FACE(object);

        if (!snapshot_alive(self, error) ||
            !zuma_volume_detach_snapshot(self->volume, self->id, GPOINTER_TO_INT(data), error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *detach_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSnapshotFace *self = object;
        gboolean force = FALSE;

        if (!zuma_options_parse(call->options, error, "force", "b", &force, NULL))
                return NULL;
        if (release_first(self, call, force, detach_released))
                return NULL;
        return detach_released(object, GINT_TO_POINTER(force), error);
}

static GVariant *get_usage_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSnapshotFace *self = object;
        g_auto(GVariantBuilder) usage = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
        SsSnapshotUsage u;

        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_volume_get_snapshot_usage(self->volume, self->id, &u, error))
                return NULL;
        g_variant_builder_add(&usage, "{sv}", "exclusive_bytes",
                              g_variant_new_uint64(u.exclusive_bytes));
        g_variant_builder_add(&usage, "{sv}", "shared_chunks",
                              g_variant_new_uint64(u.shared_chunks));
        g_variant_builder_add(&usage, "{sv}", "private_chunks",
                              g_variant_new_uint64(u.private_chunks));
        return g_variant_new("(@a{sv})", g_variant_builder_end(&usage));
}

/* action completes "only root or group ... may ...". */
static const ZumaMethod snapshot_methods[] = {
        { "Delete", "delete snapshots", delete_method },
        { "Rename", "rename snapshots", rename_method },
        { "SetPriority", "change snapshots", set_priority_method },
        { "SetPinned", "change snapshots", set_pinned_method },
        { "SetWritable", "change snapshots", set_writable_method },
        { "Attach", "attach snapshots", attach_method },
        { "Detach", "detach snapshots", detach_method },
        { "GetUsage", NULL, get_usage_method },
};

static const ZumaMethodTable snapshot_table = {
        zuma_bus_snapshot_interface_info,
        snapshot_methods,
        G_N_ELEMENTS(snapshot_methods),
        snapshot_alive,
};

ZumaSnapshotFace *zuma_snapshot_face_new(ZumaVolume *volume, guint32 id, ZumaAuth *auth)
{
        ZumaSnapshotFace *self = g_object_new(ZUMA_TYPE_SNAPSHOT_FACE, NULL);
        ZumaBusSnapshot *iface = ZUMA_BUS_SNAPSHOT(self);

        self->volume = g_object_ref(volume);
        self->id = id;
        zuma_bus_snapshot_set_volume(iface, zuma_volume_get_object_path(volume));
        zuma_bus_snapshot_set_id(iface, id);
        zuma_snapshot_face_update(self);
        self->methods = zuma_method_table_bind(&snapshot_table, G_DBUS_INTERFACE_SKELETON(self),
                                               auth, G_OBJECT(self));
        return self;
}

static void zuma_snapshot_face_dispose(GObject *object)
{
        ZumaSnapshotFace *self = ZUMA_SNAPSHOT_FACE(object);

        g_clear_pointer(&self->methods, zuma_method_binding_free);
        g_clear_object(&self->volume);
        G_OBJECT_CLASS(zuma_snapshot_face_parent_class)->dispose(object);
}

static void zuma_snapshot_face_class_init(ZumaSnapshotFaceClass *klass)
{
        G_OBJECT_CLASS(klass)->dispose = zuma_snapshot_face_dispose;
}

static void zuma_snapshot_face_init(ZumaSnapshotFace *self)
{
}
