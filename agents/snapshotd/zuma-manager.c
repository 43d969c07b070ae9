/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaManager: the Manager interface, the registry of volumes and jobs.
 *
 * DefineVolume checks everything it can before it changes anything: the
 * name, both paths (absolute, existing, a block device or a regular file,
 * not the same device, not used by another volume), the options; then it
 * creates the store ("initialize") or opens the existing one to check it
 * belongs to this volume; only then is the definition written and the
 * volume exported and (by default) started.  If that start fails the
 * definition is removed again, so an error always means "nothing defined".
 */
#define G_LOG_DOMAIN "zuma-manager"

#include "zuma-manager.h"

#include <errno.h>
#include <sys/stat.h>

#include "zuma-bus-generated.h"
#include "zuma-block-devices.h"
#include "zuma-config.h"
#include "zuma-device-identity.h"
#include "zuma-engine.h"
#include "zuma-error.h"
#include "zuma-method-table.h"
#include "zuma-mount-release.h"
#include "zuma-options.h"
#include "zuma-reply.h"
#include "zuma-volume-face.h"
#include "zuma-volume.h"

struct _ZumaManager {
        GObject parent_instance;
        GDBusConnection *connection;
        GDBusObjectManagerServer *server;
        ZumaBusObjectSkeleton *object;
        ZumaBusManager *iface;
        ZumaMethodBinding *methods;
        ZumaAuth *auth;
        ZumaJobRegistry *jobs;
        ZumaFrontend *frontend;
        char *state_dir;
        char *volumes_dir;
        char *replication_dir;
        char *run_dir;
        char *frontend_name;
        guint frontend_timeout_s; /* for each frontend call (zuma-frontend.h) */
        GHashTable *volumes;      /* name → ZumaVolume */
        GHashTable *faces;        /* name → ZumaVolumeFace of that volume */
        guint status_idle_id;
        ZumaVolumeHost host; /* what its volumes see of it */
};

G_DEFINE_TYPE(ZumaManager, zuma_manager, G_TYPE_OBJECT)

enum { SIGNAL_STATUS_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* A volume and its face (takes over config), registered under its name;
 * the face exports the snapshots the volume lists already.  Returns the
 * volume (the manager's reference). */
static ZumaVolume *add_volume(ZumaManager *self, ZumaVolumeConfig *config)
{
        ZumaVolume *volume = zuma_volume_new(&self->host, config);
        const char *name = zuma_volume_get_name(volume);

        g_hash_table_insert(self->faces, g_strdup(name),
                            zuma_volume_face_new(volume, self->auth, self->server));
        g_hash_table_insert(self->volumes, g_strdup(name), volume);
        return volume;
}

static gboolean on_status_idle(gpointer user_data)
{
        ZumaManager *self = user_data;

        self->status_idle_id = 0;
        g_signal_emit(self, signals[SIGNAL_STATUS_CHANGED], 0);
        return G_SOURCE_REMOVE;
}

/* Tells from the main loop, once per burst of changes, never from inside
 * a volume's state change. */
static void status_changed(ZumaManager *self)
{
        if (!self->status_idle_id)
                self->status_idle_id = g_idle_add(on_status_idle, self);
}

static void on_volume_state(ZumaVolume *volume, GParamSpec *pspec, ZumaManager *self)
{
        status_changed(self);
}

/* Exports volume's face and follows its state for zuma_manager_describe(). */
static void export_volume(ZumaManager *self, ZumaVolume *volume)
{
        zuma_volume_face_export(g_hash_table_lookup(self->faces, zuma_volume_get_name(volume)));
        g_signal_connect_object(volume, "notify::state", G_CALLBACK(on_volume_state), self, 0);
        status_changed(self);
}

ZumaAuth *zuma_manager_get_auth(ZumaManager *self)
{
        return self->auth;
}

ZumaFrontend *zuma_manager_get_frontend(ZumaManager *self)
{
        return self->frontend;
}

GDBusObjectManagerServer *zuma_manager_get_object_manager(ZumaManager *self)
{
        return self->server;
}

const char *zuma_manager_get_volumes_dir(ZumaManager *self)
{
        return self->volumes_dir;
}

char *zuma_manager_describe(ZumaManager *self)
{
        GHashTableIter iter;
        gpointer value;
        guint running = 0;

        g_hash_table_iter_init(&iter, self->volumes);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                running += zuma_volume_is_running(value);
        return g_strdup_printf("%u of %u volumes running", running,
                               g_hash_table_size(self->volumes));
}

/* --- jobs --- */

ZumaJobRegistry *zuma_manager_get_jobs(ZumaManager *self)
{
        return self->jobs;
}

gboolean zuma_manager_check_job_limit(ZumaManager *self, GError **error)
{
        return zuma_job_registry_check_limit(self->jobs, error);
}

ZumaJob *zuma_manager_add_job(ZumaManager *self, const char *operation, const char *volume_path,
                              gboolean cancelable, const ZumaJobOps *ops, gpointer data)
{
        const ZumaJobSpec spec = {
                .operation = operation,
                .volume_path = volume_path,
                .started_by_uid = zuma_auth_get_current_uid(),
                .cancelable = cancelable,
        };

        return zuma_job_registry_add(self->jobs, &spec, ops, data);
}

/* --- DefineVolume --- */

static gboolean check_device(const char *what, const char *path, struct stat *st, GError **error)
{
        if (!zuma_check_path(what, path, error))
                return FALSE;
        if (stat(path, st) < 0) {
                int e = errno;

                zuma_error_set_errno(error, -e, "%s %s: %s", what, path, g_strerror(e));
                return FALSE;
        }
        if (!S_ISBLK(st->st_mode) && !S_ISREG(st->st_mode)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s %s is neither a block device nor a regular file", what, path);
                return FALSE;
        }
        return TRUE;
}

static gboolean same_device(const struct stat *a, const struct stat *b)
{
        if (S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode))
                return a->st_rdev == b->st_rdev;
        return S_ISREG(a->st_mode) && S_ISREG(b->st_mode) && a->st_dev == b->st_dev &&
               a->st_ino == b->st_ino;
}

static gboolean check_device_free(ZumaManager *self, const char *what, const char *path,
                                  GError **error)
{
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, self->volumes);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                if (!zuma_volume_uses_device(value, path))
                        continue;
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ALREADY_EXISTS,
                            "%s %s is already used by volume %s", what, path,
                            zuma_volume_get_name(value));
                return FALSE;
        }
        return TRUE;
}

static gboolean chunk_size_valid(guint32 cs)
{
        return cs >= SS_CHUNK_SIZE_MIN && cs <= SS_CHUNK_SIZE_MAX && !(cs & (cs - 1));
}

typedef struct DefineOptions {
        gboolean initialize;
        gboolean force;
        guint32 chunk_size; /* 0: not given */
        char *full_policy;  /* NULL: not given */
        char *mount_point;  /* NULL: not given */
        char *uuid;         /* NULL: a new one (a replica takes its source's) */
        guint8 uuid_bytes[16];
        gboolean start;
} DefineOptions;

static void define_options_clear(DefineOptions *o)
{
        g_clear_pointer(&o->full_policy, g_free);
        g_clear_pointer(&o->mount_point, g_free);
        g_clear_pointer(&o->uuid, g_free);
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (any case) to 16 bytes. */
static gboolean parse_uuid_option(const char *text, guint8 *ret_bytes, GError **error)
{
        guint n = 0;

        if (!g_uuid_string_is_valid(text)) {
                g_autofree char *quoted = zuma_quote(text);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "option \"uuid\": %s is not a UUID "
                            "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                            quoted);
                return FALSE;
        }
        for (const char *p = text; *p && n < 16; p++) {
                if (*p == '-')
                        continue;
                ret_bytes[n++] =
                        (guint8)(g_ascii_xdigit_value(p[0]) << 4 | g_ascii_xdigit_value(p[1]));
                p++;
        }
        return TRUE;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DefineOptions, define_options_clear)

static gboolean parse_define_options(GVariant *options, DefineOptions *o, GError **error)
{
        g_autoptr(GVariant) chunk = g_variant_lookup_value(options, "chunk_size", NULL);

        o->start = TRUE;
        if (!zuma_options_parse(options, error, "initialize", "b", &o->initialize, "force", "b",
                                &o->force, "chunk_size", "u", &o->chunk_size, "full_policy", "s",
                                &o->full_policy, "mount_point", "s", &o->mount_point, "start", "b",
                                &o->start, "uuid", "s", &o->uuid, NULL))
                return FALSE;
        if (o->uuid && !o->initialize) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "option \"uuid\" only applies with \"initialize\"");
                return FALSE;
        }
        if (o->uuid && !parse_uuid_option(o->uuid, o->uuid_bytes, error))
                return FALSE;
        if (chunk && !chunk_size_valid(o->chunk_size)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "option \"chunk_size\": %u is invalid, use a power of two from %u to "
                            "%u",
                            o->chunk_size, SS_CHUNK_SIZE_MIN, SS_CHUNK_SIZE_MAX);
                return FALSE;
        }
        if (chunk && !o->initialize) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "option \"chunk_size\" only applies with \"initialize\"");
                return FALSE;
        }
        if (o->force && !o->initialize) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "option \"force\" only applies with \"initialize\"");
                return FALSE;
        }
        if (o->full_policy && !g_str_equal(o->full_policy, "refuse") &&
            !g_str_equal(o->full_policy, "autodelete")) {
                g_autofree char *quoted = zuma_quote(o->full_policy);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "option \"full_policy\": unknown policy %s, use \"refuse\" or "
                            "\"autodelete\"",
                            quoted);
                return FALSE;
        }
        if (o->mount_point && o->mount_point[0] &&
            !zuma_check_path("mount point", o->mount_point, error))
                return FALSE;
        return TRUE;
}

/* Opens an existing store to check it is this volume's; fills in what the
 * store records. */
static gboolean check_existing_store(ZumaVolumeConfig *config, gboolean policy_given,
                                     GError **error)
{
        /* Read-only, and on an older commit if need be: this only reads
         * the store's identity; Start decides on a rollback. */
        ZumaEngine *engine = zuma_engine_open_flags(config->origin_device, config->store_device,
                                                    SS_OPEN_READONLY | SS_OPEN_ACCEPT_ROLLBACK,
                                                    NULL, NULL, NULL, error);
        SsStoreInfo info;
        int r;

        if (!engine)
                return FALSE;
        r = zuma_engine_info(engine, &info);
        if (r < 0)
                zuma_engine_set_error(error, r, "cannot read the store");
        zuma_engine_close(engine, NULL);
        if (r < 0)
                return FALSE;
        if (!g_str_equal(info.volume_name, config->name)) {
                g_autofree char *quoted = zuma_quote(info.volume_name);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT,
                            "store %s holds volume %s, not %s (use initialize to make a new "
                            "store)",
                            config->store_device, quoted, config->name);
                return FALSE;
        }
        config->chunk_size = info.chunk_size;
        if (!policy_given) {
                g_free(config->full_policy);
                config->full_policy =
                        g_strdup(info.full_policy == SS_FULL_REFUSE ? "refuse" : "autodelete");
        }
        return TRUE;
}

static void drop_volume(ZumaManager *self, ZumaVolume *volume)
{
        g_autoptr(GError) error = NULL;

        zuma_volume_forget(volume);
        zuma_volume_face_unexport(g_hash_table_lookup(self->faces, zuma_volume_get_name(volume)));
        if (!zuma_volume_config_remove(self->volumes_dir, zuma_volume_get_name(volume), &error))
                g_warning("%s", error->message);
        g_hash_table_remove(self->faces, zuma_volume_get_name(volume));
        g_hash_table_remove(self->volumes, zuma_volume_get_name(volume));
        status_changed(self);
}

/* The defined volume whose store carries uuid (any case), or NULL. */
static ZumaVolume *volume_with_uuid(ZumaManager *self, const char *uuid)
{
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, self->volumes);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                const ZumaVolumeConfig *config = zuma_volume_get_config(value);

                if (config->uuid && g_ascii_strcasecmp(config->uuid, uuid) == 0)
                        return value;
        }
        return NULL;
}

static ZumaVolume *define_volume(ZumaManager *self, const char *name, const char *origin,
                                 const char *store, GVariant *options, GError **error)
{
        g_auto(DefineOptions) o = { 0 };
        g_autoptr(ZumaVolumeConfig) config = NULL;
        g_autoptr(ZumaVolume) volume = NULL;
        g_autofree char *origin_identity = NULL;
        struct stat origin_st, store_st;

        if (!parse_define_options(options, &o, error) || !zuma_check_volume_name(name, error) ||
            !zuma_check_path("origin device", origin, error) ||
            !zuma_check_path("store device", store, error))
                return NULL;
        if (g_hash_table_contains(self->volumes, name)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ALREADY_EXISTS,
                            "a volume named %s exists already", name);
                return NULL;
        }
        if (g_hash_table_size(self->volumes) >= ZUMA_MAX_VOLUMES) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_LIMIT_EXCEEDED,
                            "%u volumes are defined, the most this server allows",
                            g_hash_table_size(self->volumes));
                return NULL;
        }
        if (!check_device("origin device", origin, &origin_st, error) ||
            !check_device("store device", store, &store_st, error))
                return NULL;
        if (same_device(&origin_st, &store_st)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s and %s are the same device: the store must be another one", origin,
                            store);
                return NULL;
        }
        if (!check_device_free(self, "origin device", origin, error) ||
            !check_device_free(self, "store device", store, error))
                return NULL;

        config = zuma_volume_config_new(name, origin, store);
        /* Hot-plug and every start find the origin by it (zuma-volume-devices.c). */
        origin_identity = zuma_block_device_identity(origin, NULL);
        if (origin_identity) {
                g_free(config->origin_identity);
                config->origin_identity = g_steal_pointer(&origin_identity);
        }
        if (o.full_policy) {
                g_free(config->full_policy);
                config->full_policy = g_strdup(o.full_policy);
        }
        if (o.mount_point) {
                g_free(config->mount_point);
                config->mount_point = g_strdup(o.mount_point);
        }
        if (o.uuid && volume_with_uuid(self, o.uuid)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ALREADY_EXISTS,
                            "option \"uuid\": %s is volume %s's already", o.uuid,
                            zuma_volume_get_config(volume_with_uuid(self, o.uuid))->name);
                return NULL;
        }
        if (o.initialize) {
                SsCreateOptions create = {
                        .volume_name = name,
                        .chunk_size = o.chunk_size,
                        .volume_uuid = o.uuid ? o.uuid_bytes : NULL,
                        .full_policy = g_str_equal(config->full_policy, "refuse")
                                               ? SS_FULL_REFUSE
                                               : SS_FULL_AUTODELETE,
                        .force = o.force,
                };

                if (!zuma_engine_initialize(origin, store, &create, error))
                        return NULL;
                config->chunk_size = o.chunk_size ? o.chunk_size : SS_CHUNK_SIZE_DEFAULT;
                g_message("volume %s: new store written on %s (chunk size %u)", name, store,
                          config->chunk_size);
        } else if (!check_existing_store(config, o.full_policy != NULL, error)) {
                return NULL;
        }
        config->running = o.start;
        if (!zuma_volume_config_save(config, self->volumes_dir, error))
                return NULL;
        volume = g_object_ref(add_volume(self, g_steal_pointer(&config)));
        export_volume(self, volume);
        g_message("volume %s defined: origin %s, store %s", name, origin, store);
        if (o.start && !zuma_volume_start(volume, ZUMA_VOLUME_START_REQUESTED, error)) {
                g_message("volume %s: definition withdrawn, it did not start", name);
                drop_volume(self, volume);
                return NULL;
        }
        return g_steal_pointer(&volume);
}

static GVariant *define_volume_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaManager *self = object;
        const char *name, *origin, *store;
        g_autoptr(ZumaVolume) volume = NULL;

        g_variant_get(call->params, "(&s&s&s@a{sv})", &name, &origin, &store, NULL);
        volume = define_volume(self, name, origin, store, call->options, error);
        if (!volume)
                return NULL;
        return g_variant_new("(o)", zuma_volume_get_object_path(volume));
}

/* --- ImportVolume --- */

/* The label of the store on store_device; Corrupt with the reason when
 * the superblock cannot be read. */
static gboolean read_store_label(const char *store_device, SsStoreLabel *ret_label, GError **error)
{
        SsBlockDev *dev = NULL;
        int r;

        r = ss_blockdev_open_file(store_device, SS_BLOCKDEV_READONLY | SS_BLOCKDEV_BUFFERED, &dev);
        if (r < 0) {
                zuma_engine_set_error(error, r, "cannot open the store");
                return FALSE;
        }
        r = ss_store_probe(dev, ret_label);
        ss_blockdev_close(dev);
        if (r == -ENODATA) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s holds no Zumastor store", store_device);
                return FALSE;
        }
        if (r < 0 && r != -ESTALE) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT,
                            "the superblock of %s cannot be read: %s", store_device,
                            ss_last_error());
                return FALSE;
        }
        return TRUE;
}

static GVariant *import_volume_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaManager *self = object;
        g_autoptr(ZumaVolume) volume = NULL;
        g_autofree char *name = NULL;
        g_autofree char *volume_uuid = NULL;
        g_auto(GVariantBuilder) define = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
        g_autoptr(GVariant) define_options = NULL;
        const char *store, *origin;
        gboolean start = TRUE;
        SsStoreLabel label;
        ZumaVolume *holder;

        g_variant_get(call->params, "(&s&s@a{sv})", &store, &origin, NULL);
        if (!zuma_options_parse(call->options, error, "name", "s", &name, "start", "b", &start,
                                NULL) ||
            !zuma_check_path("store device", store, error) ||
            !zuma_check_path("origin device", origin, error) ||
            !read_store_label(store, &label, error))
                return NULL;
        if (name && !g_str_equal(name, label.volume_name)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the store on %s holds volume %s, not %s (a store keeps its name)",
                            store, label.volume_name, name);
                return NULL;
        }
        volume_uuid = zuma_uuid_string(label.volume_uuid);
        holder = volume_with_uuid(self, volume_uuid);
        if (holder) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ALREADY_EXISTS,
                            "the store on %s is volume %s's (UUID %s): nothing to import", store,
                            zuma_volume_get_config(holder)->name, volume_uuid);
                return NULL;
        }
        g_variant_builder_add(&define, "{sv}", "start", g_variant_new_boolean(start));
        define_options = g_variant_ref_sink(g_variant_builder_end(&define));
        volume = define_volume(self, label.volume_name, origin, store, define_options, error);
        if (!volume)
                return NULL;
        g_message("volume %s imported from the store on %s (UUID %s)", label.volume_name, store,
                  volume_uuid);
        return g_variant_new("(o)", zuma_volume_get_object_path(volume));
}

static ZumaVolume *lookup_volume(ZumaManager *self, const char *name, GError **error)
{
        ZumaVolume *volume;

        if (!zuma_check_volume_name(name, error))
                return NULL;
        volume = g_hash_table_lookup(self->volumes, name);
        if (!volume)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "no volume is named %s", name);
        return volume;
}

static gboolean forget_volume(ZumaManager *self, const char *name, GVariant *options,
                              GError **error)
{
        gboolean force = FALSE;
        ZumaVolume *volume;

        if (!zuma_options_parse(options, error, "force", "b", &force, NULL))
                return FALSE;
        volume = lookup_volume(self, name, error);
        if (!volume)
                return FALSE;
        if (!zuma_volume_is_stopped(volume) && !force) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                            "volume %s is %s: stop it first, or use force", name,
                            zuma_volume_is_running(volume) ? "running" : "failed");
                return FALSE;
        }
        if (!zuma_volume_stop(volume, TRUE, "requested", error))
                return FALSE;
        if (!zuma_volume_config_remove(self->volumes_dir, name, error))
                return FALSE;
        g_message("volume %s forgotten (its devices are left as they are)", name);
        drop_volume(self, volume);
        return TRUE;
}

static GVariant *forget_released(GObject *object, gpointer data, GError **error)
{
        GVariant *params = data;
        const char *name;
        g_autoptr(GVariant) options = NULL;

        g_variant_get(params, "(&s@a{sv})", &name, &options);
        if (!forget_volume(ZUMA_MANAGER(object), name, options, error))
                return NULL;
        return g_variant_new("()");
}

/* A forced forget of a running volume stops it: zuma-mounterd is asked
 * to let go of its mounts first, as for Stop (zuma-mount-release.h). */
static GVariant *forget_volume_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaManager *self = object;
        const char *name, *uuid;
        gboolean force = FALSE;
        ZumaVolume *volume;

        g_variant_get_child(call->params, 0, "&s", &name);
        if (!zuma_options_parse(call->options, error, "force", "b", &force, NULL))
                return NULL;
        volume = lookup_volume(self, name, error);
        if (!volume)
                return NULL;
        uuid = zuma_volume_get_config(volume)->uuid;
        if (force && call->invocation && uuid && uuid[0] &&
            zuma_volume_device_is_busy(volume, ZUMA_VOLUME_ANY_DEVICE)) {
                zuma_mount_release_then(G_OBJECT(self), zuma_call_defer(call), uuid, NULL, TRUE,
                                        forget_released, g_variant_ref_sink(call->params),
                                        (GDestroyNotify)g_variant_unref);
                return NULL;
        }
        return forget_released(G_OBJECT(self), call->params, error);
}

/* Reads only: open to every caller. */
static GVariant *find_volume_method(gpointer object, ZumaCall *call, GError **error)
{
        const char *name;
        ZumaVolume *volume;

        g_variant_get_child(call->params, 0, "&s", &name);
        if (!zuma_options_parse(call->options, error, NULL))
                return NULL;
        volume = lookup_volume(object, name, error);
        if (!volume)
                return NULL;
        return g_variant_new("(o)", zuma_volume_get_object_path(volume));
}

/* Reads only: open to every caller.  Each volume's face gives the same
 * properties GetAll would. */
static GVariant *list_volumes_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaManager *self = object;
        GVariantBuilder builder;
        GHashTableIter iter;
        gpointer face;

        if (!zuma_options_parse(call->options, error, NULL))
                return NULL;
        g_variant_builder_init(&builder, G_VARIANT_TYPE("a{oa{sv}}"));
        g_hash_table_iter_init(&iter, self->faces);
        while (g_hash_table_iter_next(&iter, NULL, &face)) {
                /* Ours (transfer full), floating or not: take it. */
                g_autoptr(GVariant) properties = g_variant_take_ref(
                        g_dbus_interface_skeleton_get_properties(G_DBUS_INTERFACE_SKELETON(face)));

                g_variant_builder_add(
                        &builder, "{o@a{sv}}",
                        zuma_volume_get_object_path(zuma_volume_face_get_volume(face)), properties);
        }
        return g_variant_new("(a{oa{sv}})", &builder);
}

static const ZumaMethod manager_methods[] = {
        { "DefineVolume", "define volumes", define_volume_method },
        { "ImportVolume", "import volumes", import_volume_method },
        { "ForgetVolume", "forget volumes", forget_volume_method },
        { "FindVolume", NULL, find_volume_method },
        { "ListVolumes", NULL, list_volumes_method },
};

static const ZumaMethodTable manager_table = {
        zuma_bus_manager_interface_info,
        manager_methods,
        G_N_ELEMENTS(manager_methods),
        NULL,
};

/* --- life cycle --- */

static gboolean host_check_job_limit(gpointer owner, GError **error)
{
        return zuma_manager_check_job_limit(owner, error);
}

/* Starts the data frontend named: "kernel", "fuse", "auto" (the kernel
 * one where device-mapper and the dm-zumastor module are, FUSE elsewhere)
 * or "none".  The bus's Frontend property says which one runs. */
static gboolean start_frontend(ZumaManager *self, GError **error)
{
        g_autoptr(GError) why = NULL;
        const char *name = self->frontend_name;

        if (g_str_equal(name, "auto")) {
                name = zuma_frontend_kernel_available(&why) ? "kernel" : "fuse";
                g_message("frontend auto: %s%s%s%s", name, why ? " (" : "", why ? why->message : "",
                          why ? ")" : "");
        }
        if (g_str_equal(name, "kernel"))
                self->frontend = zuma_frontend_new_kernel(self->run_dir, error);
        else if (g_str_equal(name, "fuse"))
                self->frontend = zuma_frontend_new(self->run_dir, error);
        if (!self->frontend && !g_str_equal(name, "none")) {
                g_prefix_error(error, "cannot start the %s frontend: ",
                               g_str_equal(name, "kernel") ? "kernel" : "FUSE");
                return FALSE;
        }
        self->host.frontend = self->frontend;
        if (self->frontend)
                zuma_frontend_set_timeout(self->frontend, self->frontend_timeout_s * 1000);
        zuma_bus_manager_set_frontend(self->iface, name);
        return TRUE;
}

static ZumaJob *host_add_job(gpointer owner, const char *operation, const char *volume_path,
                             gboolean cancelable, const ZumaJobOps *ops, gpointer data)
{
        return zuma_manager_add_job(owner, operation, volume_path, cancelable, ops, data);
}

ZumaManager *zuma_manager_new(GDBusConnection *connection, ZumaAuth *auth, const char *state_dir,
                              const char *run_dir, const char *frontend_name)
{
        ZumaManager *self = g_object_new(ZUMA_TYPE_MANAGER, NULL);

        self->connection = g_object_ref(connection);
        self->state_dir = g_strdup(state_dir);
        self->volumes_dir = g_build_filename(state_dir, "volumes", NULL);
        self->replication_dir = g_build_filename(state_dir, "replication", NULL);
        self->run_dir = g_strdup(run_dir);
        self->frontend_name = g_strdup(frontend_name);
        self->frontend_timeout_s = 20;
        self->auth = g_object_ref(auth);
        self->server = g_dbus_object_manager_server_new(ZUMA_OBJECT_ROOT);
        self->jobs = zuma_job_registry_new(self->server, auth, ZUMA_OBJECT_ROOT, ZUMA_MAX_JOBS);
        self->object = zuma_bus_object_skeleton_new(ZUMA_MANAGER_PATH);
        self->iface = zuma_bus_manager_skeleton_new();
        zuma_bus_manager_set_version(self->iface, ZUMA_VERSION);
        zuma_bus_manager_set_state_directory(self->iface, state_dir);
        zuma_bus_manager_set_run_directory(self->iface, run_dir);
        zuma_bus_manager_set_frontend(self->iface, frontend_name);
        self->methods = zuma_method_table_bind(
                &manager_table, G_DBUS_INTERFACE_SKELETON(self->iface), auth, G_OBJECT(self));
        zuma_bus_object_skeleton_set_manager(self->object, self->iface);
        g_dbus_object_manager_server_export(self->server, G_DBUS_OBJECT_SKELETON(self->object));
        g_dbus_object_manager_server_set_connection(self->server, connection);
        self->host = (ZumaVolumeHost){
                .volumes_dir = self->volumes_dir,
                .replication_dir = self->replication_dir,
                .check_job_limit = host_check_job_limit,
                .add_job = host_add_job,
                .owner = self,
        };
        return self;
}

void zuma_manager_set_frontend_timeout(ZumaManager *self, guint seconds)
{
        self->frontend_timeout_s = seconds;
}

gboolean zuma_manager_load(ZumaManager *self, GError **error)
{
        g_autoptr(GPtrArray) configs = NULL;
        g_autoptr(GPtrArray) started = g_ptr_array_new();

        if (g_mkdir_with_parents(self->volumes_dir, 0755) < 0) {
                int e = errno;

                zuma_error_set_errno(error, -e, "cannot create %s: %s", self->volumes_dir,
                                     g_strerror(e));
                return FALSE;
        }
        if (!start_frontend(self, error))
                return FALSE;
        configs = zuma_volume_config_load_all(self->volumes_dir);
        for (guint i = 0; i < configs->len; i++) {
                ZumaVolumeConfig *config = g_steal_pointer(&configs->pdata[i]);
                ZumaVolume *volume;

                if (g_hash_table_contains(self->volumes, config->name) ||
                    g_hash_table_size(self->volumes) >= ZUMA_MAX_VOLUMES) {
                        g_warning("skipping volume definition %s: duplicate or over the limit",
                                  config->name);
                        zuma_volume_config_free(config);
                        continue;
                }
                volume = add_volume(self, config);
                export_volume(self, volume);
                if (config->running)
                        g_ptr_array_add(started, volume);
        }
        g_message("%u volumes defined in %s", g_hash_table_size(self->volumes), self->volumes_dir);
        /* Configs come sorted by name, so volumes start in name order. */
        for (guint i = 0; i < started->len; i++) {
                g_autoptr(GError) local = NULL;

                /* A failure is logged and kept in the volume's LastError. */
                zuma_volume_start(started->pdata[i], 0, &local);
        }
        return TRUE;
}

void zuma_manager_shutdown(ZumaManager *self)
{
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, self->volumes);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                g_autoptr(GError) error = NULL;

                if (!zuma_volume_stop(value, TRUE, "shutdown", &error))
                        g_warning("%s", error->message);
        }
}

static void zuma_manager_dispose(GObject *object)
{
        ZumaManager *self = ZUMA_MANAGER(object);

        if (self->volumes) {
                GHashTableIter iter;
                gpointer face;

                zuma_manager_shutdown(self);
                /* The faces first: they hold their volumes.  The snapshots'
                 * objects leave the bus; the volumes' go with the server. */
                g_hash_table_iter_init(&iter, self->faces);
                while (g_hash_table_iter_next(&iter, NULL, &face))
                        zuma_volume_face_detach(face);
                g_clear_pointer(&self->faces, g_hash_table_unref);
                g_clear_pointer(&self->volumes, g_hash_table_unref);
        }
        g_clear_handle_id(&self->status_idle_id, g_source_remove);
        g_clear_pointer(&self->jobs, zuma_job_registry_free);
        g_clear_pointer(&self->frontend, zuma_frontend_free);
        self->host.frontend = NULL;
        g_clear_pointer(&self->methods, zuma_method_binding_free);
        g_clear_object(&self->iface);
        g_clear_object(&self->object);
        g_clear_object(&self->server);
        g_clear_object(&self->auth);
        g_clear_object(&self->connection);
        G_OBJECT_CLASS(zuma_manager_parent_class)->dispose(object);
}

static void zuma_manager_finalize(GObject *object)
{
        ZumaManager *self = ZUMA_MANAGER(object);

        g_free(self->state_dir);
        g_free(self->volumes_dir);
        g_free(self->replication_dir);
        g_free(self->run_dir);
        g_free(self->frontend_name);
        G_OBJECT_CLASS(zuma_manager_parent_class)->finalize(object);
}

static void zuma_manager_class_init(ZumaManagerClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);

        object_class->dispose = zuma_manager_dispose;
        object_class->finalize = zuma_manager_finalize;
        /* What zuma_manager_describe() says may have changed. */
        signals[SIGNAL_STATUS_CHANGED] =
                g_signal_new("status-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                             NULL, NULL, G_TYPE_NONE, 0);
}

static void zuma_manager_init(ZumaManager *self)
{
        self->volumes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
        self->faces = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
}
