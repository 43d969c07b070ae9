/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaVolumeFace (zuma-volume-face.h): the Volume interface.
 *
 * How a bus call becomes a volume call, all on the main thread: GDBus
 * hands the call to the skeleton, whose generated handle-* signal reaches
 * the method table (zuma_method_table_bind()): volume_known() (the
 * definition was not forgotten meanwhile), the caller check for the
 * mutating methods (zuma-auth.h: uid 0, the administrators' group or
 * polkit; it may wait for the bus daemon's answer; FindSnapshot only reads
 * and is open to every caller), volume_known() again, the argument types,
 * then the method's function below: it reads the arguments and the a{sv}
 * options (an unknown option is InvalidArgument, before anything else is
 * checked) and calls the volume's typed operation, whose GError becomes
 * the bus error (zuma-reply.h).
 *
 * What the volume changes comes back the other way: a property's notify
 * sets the skeleton's property (GBinding; the skeleton sends
 * PropertiesChanged for values that differ), and a signal of the volume
 * is emitted on the bus, after the pending property changes for
 * Started, Stopped and Failed (g_dbus_interface_skeleton_flush()), so a
 * client that sees the signal reads the new State and LastError.
 */
#define G_LOG_DOMAIN "zuma-volume"

#include "zuma-volume-face.h"

#include "zuma-error.h"
#include "zuma-method-table.h"
#include "zuma-mount-release.h"
#include "zuma-options.h"
#include "zuma-snapshot-face.h"
#include "zuma-stream-state.h"

#include <gio/gunixfdlist.h>
#include <unistd.h>

struct _ZumaVolumeFace {
        ZumaBusVolumeSkeleton parent_instance;
        ZumaVolume *volume;
        ZumaAuth *auth;
        /* Weak: the manager's.  NULL off the bus, and after unexport. */
        GDBusObjectManagerServer *objects;
        gboolean exported;
        GHashTable *snapshots; /* id → ZumaBusObjectSkeleton with a ZumaSnapshotFace */
        GPtrArray *bindings;   /* GBinding, one per property */
        ZumaMethodBinding *methods;
};

G_DEFINE_TYPE(ZumaVolumeFace, zuma_volume_face, ZUMA_BUS_TYPE_VOLUME_SKELETON)

/* The Volume interface's properties; the volume has each under the same
 * name (zuma-volume.h). */
static const char *const bound_properties[] = {
        "name",
        "uuid",
        "origin-device",
        "origin-identity",
        "store-device",
        "mount-point",
        "state",
        "last-error",
        "store-warning",
        "device",
        "chunk-size",
        "full-policy",
        "origin-size",
        "store-size",
        "store-data-bytes",
        "store-metadata-bytes",
        "store-free-bytes",
        "snapshot-count",
        "store-usage-rate",
        "store-full-in-seconds",
};

/* --- the methods --- */

static gboolean volume_known(gpointer object, GError **error)
{
        return zuma_volume_check_known(ZUMA_VOLUME_FACE(object)->volume, error);
}

static GVariant *start_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        gboolean accept_rollback = FALSE;

        if (!zuma_options_parse(call->options, error, "accept_rollback", "b", &accept_rollback,
                                NULL) ||
            !zuma_volume_start(self->volume,
                               ZUMA_VOLUME_START_REQUESTED |
                                       (accept_rollback ? ZUMA_VOLUME_START_ACCEPT_ROLLBACK : 0),
                               error))
                return NULL;
        return g_variant_new("()");
}

/* Devices of the volume that are open may be zuma-mounterd's mounts: it
 * is asked to let go first (zuma-mount-release.h: ids, or NULL for the
 * whole volume), and the call answers later.  FALSE (ids freed): nothing
 * to wait for, the method goes on at once. */
static gboolean release_first(ZumaVolumeFace *self, ZumaCall *call, GArray *ids, gboolean force,
                              ZumaReleasedFunc func, gpointer data, GDestroyNotify free_data)
{
        const char *uuid = zuma_volume_get_config(self->volume)->uuid;

        if (!call->invocation || !uuid || !uuid[0] || (ids && ids->len == 0) ||
            (!ids && !zuma_volume_device_is_busy(self->volume, ZUMA_VOLUME_ANY_DEVICE))) {
                if (ids)
                        g_array_unref(ids);
                return FALSE;
        }
        zuma_mount_release_then(G_OBJECT(self), zuma_call_defer(call), uuid, ids, force, func, data,
                                free_data);
        return TRUE;
}

static GVariant *stop_released(GObject *object, gpointer data, GError **error)
{
        ZumaVolumeFace *self = ZUMA_VOLUME_FACE(object);

        if (!zuma_volume_check_known(self->volume, error) ||
            !zuma_volume_stop(self->volume, GPOINTER_TO_INT(data), "requested", error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *stop_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        gboolean force = FALSE;

        if (!zuma_options_parse(call->options, error, "force", "b", &force, NULL))
                return NULL;
        if (release_first(self, call, NULL, force, stop_released, GINT_TO_POINTER(force), NULL))
                return NULL;
        return stop_released(object, GINT_TO_POINTER(force), error);
}

static GVariant *create_snapshot_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        g_autofree char *path = NULL;
        g_autofree char *created_name = NULL;
        const char *name = NULL;
        gint32 priority = 0;
        gboolean pinned = FALSE, writable = FALSE, attach = TRUE;

        g_variant_get_child(call->params, 0, "&s", &name);
        if (!zuma_options_parse(call->options, error, "priority", "i", &priority, "pinned", "b",
                                &pinned, "writable", "b", &writable, "attach", "b", &attach, NULL))
                return NULL;
        if (!zuma_volume_create_snapshot(self->volume, name, priority,
                                         (pinned ? ZUMA_SNAPSHOT_CREATE_PINNED : 0) |
                                                 (writable ? ZUMA_SNAPSHOT_CREATE_WRITABLE : 0) |
                                                 (attach ? ZUMA_SNAPSHOT_CREATE_ATTACH : 0),
                                         &path, &created_name, error))
                return NULL;
        return g_variant_new("(os)", path, created_name);
}

/* Reads only: open to every caller. */
static GVariant *find_snapshot_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        g_autofree char *path = NULL;
        const char *name = NULL;
        guint32 id;

        g_variant_get_child(call->params, 0, "&s", &name);
        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_volume_find_snapshot(self->volume, name, &id, error))
                return NULL;
        path = zuma_volume_dup_snapshot_path(self->volume, id);
        return g_variant_new("(o)", path);
}

/* Reads only: open to every caller.  Built from the core's records, not
 * the faces' properties: a few milliseconds for 10,000 snapshots. */
static GVariant *list_snapshots_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        g_autoptr(GPtrArray) records = NULL;
        GVariantBuilder builder;

        if (!zuma_options_parse(call->options, error, NULL))
                return NULL;
        records = zuma_volume_list_snapshots(self->volume, error);
        if (!records)
                return NULL;
        g_variant_builder_init(&builder, G_VARIANT_TYPE("a(ousbitbst)"));
        for (guint i = 0; i < records->len; i++) {
                const ZumaSnapshotRecord *record = g_ptr_array_index(records, i);
                g_autofree char *path =
                        zuma_volume_dup_snapshot_path(self->volume, record->info.id);

                g_variant_builder_add(&builder, "(ousbitbst)", path, record->info.id,
                                      record->info.name, (record->info.flags & SS_SNAP_PINNED) != 0,
                                      record->info.priority, (guint64)MAX(record->info.ctime, 0),
                                      (record->info.flags & SS_SNAP_WRITABLE) != 0, record->device,
                                      record->info.origin_size);
        }
        return g_variant_new("(a(ousbitbst))", &builder);
}

/* The arguments of a DeleteSnapshots or Revert waiting for a release. */
typedef struct {
        char **names;
        gboolean force;
} DeleteRequest;

static void delete_request_free(gpointer data)
{
        DeleteRequest *request = data;

        g_strfreev(request->names);
        g_free(request);
}

static GVariant *delete_snapshots_released(GObject *object, gpointer data, GError **error)
{
        ZumaVolumeFace *self = ZUMA_VOLUME_FACE(object);
        DeleteRequest *request = data;
        g_autofree char *job = NULL;

        if (!zuma_volume_check_known(self->volume, error) ||
            !zuma_volume_delete_snapshots(self->volume, (const char *const *)request->names,
                                          request->force, &job, error))
                return NULL;
        return g_variant_new("(o)", job);
}

static GVariant *delete_snapshots_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        DeleteRequest *request = g_new0(DeleteRequest, 1);
        GArray *busy = g_array_new(FALSE, FALSE, sizeof(guint32));
        GVariant *reply;

        g_variant_get_child(call->params, 0, "^as", &request->names);
        if (!zuma_options_parse(call->options, error, "force", "b", &request->force, NULL)) {
                g_array_unref(busy);
                delete_request_free(request);
                return NULL;
        }
        /* Bad names are the core's to refuse, after the release too. */
        for (guint i = 0; request->names[i] && i < ZUMA_MAX_DELETE_NAMES; i++) {
                guint32 id;

                if (zuma_volume_find_snapshot(self->volume, request->names[i], &id, NULL) &&
                    zuma_volume_device_is_busy(self->volume, id))
                        g_array_append_val(busy, id);
        }
        if (release_first(self, call, busy, request->force, delete_snapshots_released, request,
                          delete_request_free))
                return NULL;
        reply = delete_snapshots_released(object, request, error);
        delete_request_free(request);
        return reply;
}

static GVariant *revert_released(GObject *object, gpointer data, GError **error)
{
        ZumaVolumeFace *self = ZUMA_VOLUME_FACE(object);
        DeleteRequest *request = data;
        g_autofree char *job = NULL;

        if (!zuma_volume_check_known(self->volume, error) ||
            !zuma_volume_revert(self->volume, request->names[0], request->force, &job, error))
                return NULL;
        return g_variant_new("(o)", job);
}

/* A mounted origin (zuma-mounterd's) is let go first: id 0 is the origin. */
static GVariant *revert_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        DeleteRequest *request = g_new0(DeleteRequest, 1);
        GArray *origin = g_array_new(FALSE, FALSE, sizeof(guint32));
        const char *name = NULL;
        GVariant *reply;

        g_variant_get_child(call->params, 0, "&s", &name);
        request->names = g_new0(char *, 2);
        request->names[0] = g_strdup(name);
        if (!zuma_options_parse(call->options, error, "force", "b", &request->force, NULL)) {
                g_array_unref(origin);
                delete_request_free(request);
                return NULL;
        }
        if (zuma_volume_device_is_busy(self->volume, SS_ORIGIN_ID)) {
                guint32 id = SS_ORIGIN_ID;

                g_array_append_val(origin, id);
        }
        if (release_first(self, call, origin, request->force, revert_released, request,
                          delete_request_free))
                return NULL;
        reply = revert_released(object, request, error);
        delete_request_free(request);
        return reply;
}

static GVariant *abandon_revert_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;

        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_volume_abandon_revert(self->volume, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *resize_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        g_autofree char *job = NULL;
        gboolean origin = FALSE, store = FALSE;

        if (!zuma_options_parse(call->options, error, "origin", "b", &origin, "store", "b", &store,
                                NULL) ||
            !zuma_volume_resize(self->volume, origin, store, &job, error))
                return NULL;
        return g_variant_new("(o)", job);
}

static GVariant *set_full_policy_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        const char *policy = NULL;

        g_variant_get_child(call->params, 0, "&s", &policy);
        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_volume_set_full_policy(self->volume, policy, error))
                return NULL;
        return g_variant_new("()");
}

/* The fd a call passes as an index into its message's UnixFDList (a new
 * descriptor, closed by the caller), or -1 with InvalidArgument. */
static int call_take_fd(ZumaCall *call, guint arg, GError **error)
{
        GUnixFDList *fds = NULL;
        gint32 index = -1;
        int fd;

        g_variant_get_child(call->params, arg, "h", &index);
        if (call->invocation)
                fds = g_dbus_message_get_unix_fd_list(
                        g_dbus_method_invocation_get_message(call->invocation));
        if (!fds || index < 0 || index >= g_unix_fd_list_get_length(fds)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "fd: handle %d is not in the call's file descriptor list (%d passed)",
                            index, fds ? g_unix_fd_list_get_length(fds) : 0);
                return -1;
        }
        fd = g_unix_fd_list_get(fds, index, error);
        if (fd < 0)
                g_prefix_error(error, "fd: ");
        return fd;
}

#define RESUME_AFTER_ABSENT G_MAXUINT64

static GVariant *send_stream_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        ZumaStreamSendOptions options = { 0 };
        g_autofree char *job = NULL;
        const char *from = NULL, *to = NULL;
        guint64 resume_after = RESUME_AFTER_ABSENT;
        gboolean sent;
        int fd;

        g_variant_get_child(call->params, 0, "&s", &from);
        g_variant_get_child(call->params, 1, "&s", &to);
        if (!zuma_options_parse(call->options, error, "compress", "i", &options.zstd_level,
                                "resume_after", "t", &resume_after, "resume_every", "u",
                                &options.resume_every_records, NULL))
                return NULL;
        if (options.zstd_level < 0 || options.zstd_level > 19) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "option \"compress\" must be 0..19, not %d", options.zstd_level);
                return NULL;
        }
        options.resume = resume_after != RESUME_AFTER_ABSENT;
        options.resume_after = options.resume ? resume_after : 0;
        fd = call_take_fd(call, 2, error);
        if (fd < 0)
                return NULL;
        sent = zuma_volume_send_stream(self->volume, *from ? from : NULL, to, fd, &options, &job,
                                       error);
        close(fd); /* the volume works on its own duplicate */
        return sent ? g_variant_new("(o)", job) : NULL;
}

static GVariant *receive_stream_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        ZumaStreamReceiveOptions options = { 0 };
        g_autofree char *job = NULL;
        gboolean started;
        int fd;

        if (!zuma_options_parse(call->options, error, "resume", "b", &options.resume, NULL))
                return NULL;
        fd = call_take_fd(call, 0, error);
        if (fd < 0)
                return NULL;
        started = zuma_volume_receive_stream(self->volume, fd, &options, &job, error);
        close(fd);
        return started ? g_variant_new("(o)", job) : NULL;
}

/* Reads only: open to every caller. */
static GVariant *get_receive_resume_point_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        const char *to = NULL, *from = NULL;
        gint64 to_ctime = 0;
        gboolean resumable = FALSE;
        guint64 resume_after = 0;

        g_variant_get(call->params, "(&sx&s@a{sv})", &to, &to_ctime, &from, NULL);
        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_volume_receive_resume_point(self->volume, to, to_ctime, from, &resumable,
                                              &resume_after, error))
                return NULL;
        return g_variant_new("(bt)", resumable, resume_after);
}

static GVariant *get_snapshot_digest_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaVolumeFace *self = object;
        g_autofree char *job = NULL;
        g_autofree char *text = NULL;
        SsStreamDigest digest = { 0 };
        gboolean known = FALSE;
        const char *name = NULL;

        g_variant_get_child(call->params, 0, "&s", &name);
        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_volume_snapshot_digest(self->volume, name, &known, &digest, &job, error))
                return NULL;
        text = known ? zuma_stream_digest_to_string(&digest) : g_strdup("");
        return g_variant_new("(bso)", known, text, known ? "/" : job);
}

/* action completes "only root or group ... may ...". */
static const ZumaMethod volume_methods[] = {
        { "Start", "start volumes", start_method },
        { "Stop", "stop volumes", stop_method },
        { "CreateSnapshot", "create snapshots", create_snapshot_method },
        { "FindSnapshot", NULL, find_snapshot_method },
        { "ListSnapshots", NULL, list_snapshots_method },
        { "DeleteSnapshots", "delete snapshots", delete_snapshots_method },
        { "Revert", "revert volumes", revert_method },
        { "AbandonRevert", "revert volumes", abandon_revert_method },
        { "Resize", "resize volumes", resize_method },
        { "SetFullPolicy", "change volumes", set_full_policy_method },
        { "SendStream", "replicate volumes", send_stream_method },
        { "ReceiveStream", "replicate volumes", receive_stream_method },
        { "GetReceiveResumePoint", NULL, get_receive_resume_point_method },
        { "GetSnapshotDigest", "replicate volumes", get_snapshot_digest_method },
};

static const ZumaMethodTable volume_table = {
        zuma_bus_volume_interface_info,
        volume_methods,
        G_N_ELEMENTS(volume_methods),
        volume_known,
};

/* --- following the volume's signals --- */

static void on_started(ZumaVolume *volume, ZumaVolumeFace *self)
{
        g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self));
        zuma_bus_volume_emit_started(ZUMA_BUS_VOLUME(self));
}

static void on_stopped(ZumaVolume *volume, const char *reason, ZumaVolumeFace *self)
{
        g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self));
        zuma_bus_volume_emit_stopped(ZUMA_BUS_VOLUME(self), reason);
}

static void on_failed(ZumaVolume *volume, const char *message, ZumaVolumeFace *self)
{
        g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self));
        zuma_bus_volume_emit_failed(ZUMA_BUS_VOLUME(self), message);
}

static void on_snapshot_created(ZumaVolume *volume, guint id, const char *name,
                                ZumaVolumeFace *self)
{
        g_autofree char *path = zuma_volume_dup_snapshot_path(volume, id);

        zuma_bus_volume_emit_snapshot_created(ZUMA_BUS_VOLUME(self), path, id, name);
}

static void on_snapshot_deleted(ZumaVolume *volume, guint id, const char *name, const char *reason,
                                ZumaVolumeFace *self)
{
        g_autofree char *path = zuma_volume_dup_snapshot_path(volume, id);

        zuma_bus_volume_emit_snapshot_deleted(ZUMA_BUS_VOLUME(self), path, id, name, reason);
}

static void on_usage_threshold(ZumaVolume *volume, guint percent, gboolean rising,
                               ZumaVolumeFace *self)
{
        zuma_bus_volume_emit_usage_threshold(ZUMA_BUS_VOLUME(self), percent, rising);
}

/* --- the snapshots' faces --- */

static ZumaSnapshotFace *snapshot_face(ZumaBusObjectSkeleton *object)
{
        return ZUMA_SNAPSHOT_FACE(zuma_bus_object_peek_snapshot(ZUMA_BUS_OBJECT(object)));
}

ZumaBusSnapshot *zuma_volume_face_peek_snapshot(ZumaVolumeFace *self, guint32 id)
{
        ZumaBusObjectSkeleton *object = g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(id));

        return object ? ZUMA_BUS_SNAPSHOT(snapshot_face(object)) : NULL;
}

static void on_snapshot_added(ZumaVolume *volume, guint id, ZumaVolumeFace *self)
{
        g_autoptr(ZumaSnapshotFace) face = NULL;
        g_autofree char *path = NULL;
        ZumaBusObjectSkeleton *object;

        if (!zuma_volume_get_snapshot(volume, id))
                return;
        face = zuma_snapshot_face_new(volume, id, self->auth);
        path = zuma_volume_dup_snapshot_path(volume, id);
        object = zuma_bus_object_skeleton_new(path);
        zuma_bus_object_skeleton_set_snapshot(object, ZUMA_BUS_SNAPSHOT(face));
        g_hash_table_replace(self->snapshots, GUINT_TO_POINTER(id), object);
        if (self->objects)
                g_dbus_object_manager_server_export(self->objects, G_DBUS_OBJECT_SKELETON(object));
}

static void on_snapshot_changed(ZumaVolume *volume, guint id, ZumaVolumeFace *self)
{
        ZumaBusObjectSkeleton *object = g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(id));

        if (object)
                zuma_snapshot_face_update(snapshot_face(object));
}

/* Off the bus; a call still on its way to the face gets NotFound. */
static void drop_snapshot_face(ZumaVolumeFace *self, ZumaBusObjectSkeleton *object)
{
        const char *path = g_dbus_object_get_object_path(G_DBUS_OBJECT(object));

        if (self->objects)
                g_dbus_object_manager_server_unexport(self->objects, path);
        zuma_snapshot_face_forget(snapshot_face(object));
}

static void on_snapshot_removed(ZumaVolume *volume, guint id, ZumaVolumeFace *self)
{
        ZumaBusObjectSkeleton *object = g_hash_table_lookup(self->snapshots, GUINT_TO_POINTER(id));

        if (!object)
                return;
        drop_snapshot_face(self, object);
        g_hash_table_remove(self->snapshots, GUINT_TO_POINTER(id));
}

static void drop_all_snapshot_faces(ZumaVolumeFace *self)
{
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, self->snapshots);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                drop_snapshot_face(self, value);
                g_hash_table_iter_remove(&iter);
        }
}

/* --- life cycle --- */

ZumaVolumeFace *zuma_volume_face_new(ZumaVolume *volume, ZumaAuth *auth,
                                     GDBusObjectManagerServer *objects)
{
        ZumaVolumeFace *self = g_object_new(ZUMA_TYPE_VOLUME_FACE, NULL);
        g_autoptr(GArray) ids = NULL;

        self->volume = g_object_ref(volume);
        self->auth = g_object_ref(auth);
        g_set_weak_pointer(&self->objects, objects);
        for (guint i = 0; i < G_N_ELEMENTS(bound_properties); i++)
                g_ptr_array_add(self->bindings,
                                g_object_ref(g_object_bind_property(volume, bound_properties[i],
                                                                    self, bound_properties[i],
                                                                    G_BINDING_SYNC_CREATE)));
        self->methods = zuma_method_table_bind(&volume_table, G_DBUS_INTERFACE_SKELETON(self), auth,
                                               G_OBJECT(self));
        g_signal_connect(volume, "started", G_CALLBACK(on_started), self);
        g_signal_connect(volume, "stopped", G_CALLBACK(on_stopped), self);
        g_signal_connect(volume, "failed", G_CALLBACK(on_failed), self);
        g_signal_connect(volume, "snapshot-created", G_CALLBACK(on_snapshot_created), self);
        g_signal_connect(volume, "snapshot-deleted", G_CALLBACK(on_snapshot_deleted), self);
        g_signal_connect(volume, "usage-threshold", G_CALLBACK(on_usage_threshold), self);
        g_signal_connect(volume, "snapshot-added", G_CALLBACK(on_snapshot_added), self);
        g_signal_connect(volume, "snapshot-changed", G_CALLBACK(on_snapshot_changed), self);
        g_signal_connect(volume, "snapshot-removed", G_CALLBACK(on_snapshot_removed), self);
        /* The records the volume has already (listed from its store). */
        ids = zuma_volume_dup_snapshot_ids(volume);
        for (guint i = 0; i < ids->len; i++)
                on_snapshot_added(volume, g_array_index(ids, guint32, i), self);
        return self;
}

ZumaVolume *zuma_volume_face_get_volume(ZumaVolumeFace *self)
{
        return self->volume;
}

void zuma_volume_face_export(ZumaVolumeFace *self)
{
        g_autoptr(ZumaBusObjectSkeleton) object = NULL;

        g_return_if_fail(self->objects && !self->exported);
        object = zuma_bus_object_skeleton_new(zuma_volume_get_object_path(self->volume));
        zuma_bus_object_skeleton_set_volume(object, ZUMA_BUS_VOLUME(self));
        g_dbus_object_manager_server_export(self->objects, G_DBUS_OBJECT_SKELETON(object));
        self->exported = TRUE;
}

void zuma_volume_face_unexport(ZumaVolumeFace *self)
{
        drop_all_snapshot_faces(self);
        if (self->objects && self->exported)
                g_dbus_object_manager_server_unexport(self->objects,
                                                      zuma_volume_get_object_path(self->volume));
        self->exported = FALSE;
        g_clear_weak_pointer(&self->objects);
}

void zuma_volume_face_detach(ZumaVolumeFace *self)
{
        drop_all_snapshot_faces(self);
        g_clear_weak_pointer(&self->objects);
}

static void zuma_volume_face_dispose(GObject *object)
{
        ZumaVolumeFace *self = ZUMA_VOLUME_FACE(object);

        g_clear_pointer(&self->methods, zuma_method_binding_free);
        if (self->volume)
                g_signal_handlers_disconnect_by_data(self->volume, self);
        for (guint i = 0; self->bindings && i < self->bindings->len; i++)
                g_binding_unbind(self->bindings->pdata[i]);
        g_clear_pointer(&self->bindings, g_ptr_array_unref);
        if (self->snapshots)
                drop_all_snapshot_faces(self);
        g_clear_pointer(&self->snapshots, g_hash_table_unref);
        g_clear_weak_pointer(&self->objects);
        g_clear_object(&self->volume);
        g_clear_object(&self->auth);
        G_OBJECT_CLASS(zuma_volume_face_parent_class)->dispose(object);
}

static void zuma_volume_face_class_init(ZumaVolumeFaceClass *klass)
{
        G_OBJECT_CLASS(klass)->dispose = zuma_volume_face_dispose;
}

static void zuma_volume_face_init(ZumaVolumeFace *self)
{
        self->snapshots =
                g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_object_unref);
        self->bindings = g_ptr_array_new_with_free_func(g_object_unref);
}
