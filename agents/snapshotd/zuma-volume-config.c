/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-volume-config"

#include "zuma-volume-config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "snapstore.h"
#include "zuma-error.h"
#include "zuma-device-identity.h"
#include "zuma-keyfile.h"
#include "zuma-options.h"

#define GROUP "Volume"
#define FORMAT_VERSION 1
#define SUFFIX ".conf"

ZumaVolumeConfig *zuma_volume_config_new(const char *name, const char *origin_device,
                                         const char *store_device)
{
        ZumaVolumeConfig *config = g_new0(ZumaVolumeConfig, 1);

        config->name = g_strdup(name);
        config->origin_device = g_strdup(origin_device);
        config->origin_identity = g_strdup("");
        config->store_device = g_strdup(store_device);
        config->mount_point = g_strdup("");
        config->full_policy = g_strdup("autodelete");
        config->uuid = g_strdup("");
        config->attached_snapshots = g_array_new(FALSE, FALSE, sizeof(guint32));
        config->pending_deletes = g_array_new(FALSE, FALSE, sizeof(guint32));
        config->damage = g_strdup("");
        return config;
}

void zuma_volume_config_free(ZumaVolumeConfig *config)
{
        if (!config)
                return;
        g_free(config->name);
        g_free(config->origin_device);
        g_free(config->origin_identity);
        g_free(config->store_device);
        g_free(config->mount_point);
        g_free(config->full_policy);
        g_free(config->uuid);
        if (config->attached_snapshots)
                g_array_unref(config->attached_snapshots);
        if (config->pending_deletes)
                g_array_unref(config->pending_deletes);
        g_free(config->damage);
        g_free(config);
}

static char *config_path(const char *dir, const char *name)
{
        g_autofree char *file = g_strconcat(name, SUFFIX, NULL);

        return g_build_filename(dir, file, NULL);
}

/* Where id is, or would go, in the ascending list. */
static gboolean find_id(const GArray *list, guint32 id, guint *ret_index)
{
        guint lo = 0, hi = list->len;

        while (lo < hi) {
                guint mid = lo + (hi - lo) / 2;
                guint32 here = g_array_index(list, guint32, mid);

                if (here == id) {
                        *ret_index = mid;
                        return TRUE;
                }
                if (here < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret_index = lo;
        return FALSE;
}

/* Adds id to, or removes it from, an ascending list; whether it changed. */
static gboolean set_id(GArray *list, guint32 id, gboolean present)
{
        guint index;
        gboolean found = find_id(list, id, &index);

        if (found == present)
                return FALSE;
        if (present)
                g_array_insert_val(list, index, id);
        else
                g_array_remove_index(list, index);
        return TRUE;
}

gboolean zuma_volume_config_get_snapshot_attached(const ZumaVolumeConfig *config, guint32 id)
{
        guint index;

        return find_id(config->attached_snapshots, id, &index);
}

gboolean zuma_volume_config_set_snapshot_attached(ZumaVolumeConfig *config, guint32 id,
                                                  gboolean attached)
{
        return set_id(config->attached_snapshots, id, attached);
}

gboolean zuma_volume_config_has_pending_delete(const ZumaVolumeConfig *config, guint32 id)
{
        guint index;

        return find_id(config->pending_deletes, id, &index);
}

void zuma_volume_config_add_pending_deletes(ZumaVolumeConfig *config, const GArray *ids)
{
        for (guint i = 0; i < ids->len; i++)
                set_id(config->pending_deletes, g_array_index(ids, guint32, i), TRUE);
}

void zuma_volume_config_remove_pending_deletes(ZumaVolumeConfig *config, const GArray *ids)
{
        for (guint i = 0; i < ids->len; i++)
                set_id(config->pending_deletes, g_array_index(ids, guint32, i), FALSE);
}

/* A list of decimal snapshot ids (1..2^32-1). */
static gboolean load_ids(GKeyFile *kf, const char *key, GArray *list, const char *path,
                         GError **error)
{
        g_auto(GStrv) ids = g_key_file_get_string_list(kf, GROUP, key, NULL, NULL);

        for (guint i = 0; ids && ids[i]; i++) {
                guint64 id;

                if (!g_ascii_string_to_unsigned(ids[i], 10, 1, G_MAXUINT32, &id, NULL)) {
                        g_autofree char *quoted = zuma_quote(ids[i]);

                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT,
                                    "%s: %s holds %s, not a snapshot id", path, key, quoted);
                        return FALSE;
                }
                set_id(list, (guint32)id, TRUE);
        }
        return TRUE;
}

static void save_ids(GKeyFile *kf, const char *key, const GArray *list)
{
        g_auto(GStrv) ids = NULL;

        if (list->len == 0)
                return;
        ids = g_new0(char *, list->len + 1);
        for (guint i = 0; i < list->len; i++)
                ids[i] = g_strdup_printf("%" G_GUINT32_FORMAT, g_array_index(list, guint32, i));
        g_key_file_set_string_list(kf, GROUP, key, (const char *const *)ids, list->len);
}

static gboolean chunk_size_valid(guint32 cs)
{
        return cs == 0 || (cs >= SS_CHUNK_SIZE_MIN && cs <= SS_CHUNK_SIZE_MAX && !(cs & (cs - 1)));
}

static gboolean check_config(const ZumaVolumeConfig *config, const char *base, GError **error)
{
        g_autofree char *expected = NULL;

        if (!zuma_check_volume_name(config->name, error) ||
            !zuma_check_path("origin device", config->origin_device, error) ||
            !zuma_check_path("store device", config->store_device, error))
                return FALSE;
        if (config->origin_identity[0] &&
            !zuma_device_identity_check(config->origin_identity, error))
                return FALSE;
        if (config->mount_point[0] && !zuma_check_path("mount point", config->mount_point, error))
                return FALSE;
        expected = g_strconcat(config->name, SUFFIX, NULL);
        if (!g_str_equal(base, expected)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT,
                            "it defines volume %s, so it must be named %s", config->name, expected);
                return FALSE;
        }
        if (!g_str_equal(config->full_policy, "refuse") &&
            !g_str_equal(config->full_policy, "autodelete")) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT, "unknown FullPolicy");
                return FALSE;
        }
        return TRUE;
}

ZumaVolumeConfig *zuma_volume_config_load(const char *path, GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(ZumaVolumeConfig) config = g_new0(ZumaVolumeConfig, 1);
        g_autofree char *base = g_path_get_basename(path);
        g_autoptr(GError) local = NULL;
        gint version;
        guint64 chunk_size;

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error))
                return NULL;
        version = g_key_file_get_integer(kf, GROUP, "Version", &local);
        if (local || version != FORMAT_VERSION) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT,
                            "%s: unsupported or missing Version (this server reads %d)", path,
                            FORMAT_VERSION);
                return NULL;
        }
        config->name = g_key_file_get_string(kf, GROUP, "Name", error);
        if (!config->name)
                return NULL;
        config->origin_device = g_key_file_get_string(kf, GROUP, "OriginDevice", error);
        if (!config->origin_device)
                return NULL;
        config->store_device = g_key_file_get_string(kf, GROUP, "StoreDevice", error);
        if (!config->store_device)
                return NULL;
        config->origin_identity = g_key_file_get_string(kf, GROUP, "OriginIdentity", NULL);
        if (!config->origin_identity)
                config->origin_identity = g_strdup("");
        config->mount_point = g_key_file_get_string(kf, GROUP, "MountPoint", NULL);
        if (!config->mount_point)
                config->mount_point = g_strdup("");
        config->full_policy = g_key_file_get_string(kf, GROUP, "FullPolicy", NULL);
        if (!config->full_policy)
                config->full_policy = g_strdup("autodelete");
        config->uuid = g_key_file_get_string(kf, GROUP, "Uuid", NULL);
        if (!config->uuid)
                config->uuid = g_strdup("");
        chunk_size = g_key_file_get_uint64(kf, GROUP, "ChunkSize", NULL);
        config->running = g_key_file_get_boolean(kf, GROUP, "Running", NULL);
        config->attached_snapshots = g_array_new(FALSE, FALSE, sizeof(guint32));
        config->pending_deletes = g_array_new(FALSE, FALSE, sizeof(guint32));
        if (!load_ids(kf, "AttachedSnapshots", config->attached_snapshots, path, error) ||
            !load_ids(kf, "PendingDeletes", config->pending_deletes, path, error))
                return NULL;
        config->damage = g_key_file_get_string(kf, GROUP, "Damage", NULL);
        if (!config->damage)
                config->damage = g_strdup("");

        if (!check_config(config, base, error)) {
                g_prefix_error(error, "%s: ", path);
                return NULL;
        }
        if (chunk_size > G_MAXUINT32 || !chunk_size_valid((guint32)chunk_size)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_CORRUPT, "%s: invalid ChunkSize", path);
                return NULL;
        }
        config->chunk_size = (guint32)chunk_size;
        return g_steal_pointer(&config);
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *zuma_volume_config_load_all(const char *dir)
{
        g_autoptr(GPtrArray) configs =
                g_ptr_array_new_with_free_func((GDestroyNotify)zuma_volume_config_free);
        g_autoptr(GError) error = NULL;
        g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *entry;

        if (!d) {
                if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        g_warning("cannot read volume definitions: %s", error->message);
                return g_steal_pointer(&configs);
        }
        while ((entry = g_dir_read_name(d)))
                if (g_str_has_suffix(entry, SUFFIX) && entry[0] != '.')
                        g_ptr_array_add(names, g_strdup(entry));
        /* Volumes start in name order, so logs and device numbers repeat. */
        g_ptr_array_sort(names, compare_names);
        for (guint i = 0; i < names->len; i++) {
                g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);
                g_autoptr(GError) local = NULL;
                ZumaVolumeConfig *config = zuma_volume_config_load(path, &local);

                if (!config) {
                        g_warning("skipping volume definition: %s", local->message);
                        continue;
                }
                g_ptr_array_add(configs, config);
        }
        return g_steal_pointer(&configs);
}

gboolean zuma_volume_config_save(const ZumaVolumeConfig *config, const char *dir, GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *path = config_path(dir, config->name);

        g_key_file_set_comment(kf, NULL, NULL,
                               " Written by zuma-snapshotd; change it through the bus "
                               "(zumactl), not by hand.",
                               NULL);
        g_key_file_set_integer(kf, GROUP, "Version", FORMAT_VERSION);
        g_key_file_set_string(kf, GROUP, "Name", config->name);
        g_key_file_set_string(kf, GROUP, "OriginDevice", config->origin_device);
        if (config->origin_identity[0])
                g_key_file_set_string(kf, GROUP, "OriginIdentity", config->origin_identity);
        g_key_file_set_string(kf, GROUP, "StoreDevice", config->store_device);
        g_key_file_set_string(kf, GROUP, "MountPoint", config->mount_point);
        g_key_file_set_string(kf, GROUP, "FullPolicy", config->full_policy);
        g_key_file_set_uint64(kf, GROUP, "ChunkSize", config->chunk_size);
        g_key_file_set_string(kf, GROUP, "Uuid", config->uuid);
        g_key_file_set_boolean(kf, GROUP, "Running", config->running);
        save_ids(kf, "AttachedSnapshots", config->attached_snapshots);
        save_ids(kf, "PendingDeletes", config->pending_deletes);
        if (config->damage[0])
                g_key_file_set_string(kf, GROUP, "Damage", config->damage);
        if (!zuma_keyfile_save(kf, path, 0644, error)) {
                g_prefix_error(error, "cannot save volume %s: ", config->name);
                return FALSE;
        }
        g_debug("saved %s (running=%d)", path, config->running);
        return TRUE;
}

gboolean zuma_volume_config_remove(const char *dir, const char *name, GError **error)
{
        g_autofree char *path = config_path(dir, name);

        if (!zuma_file_remove_durable(path, error))
                return FALSE;
        g_debug("removed %s", path);
        return TRUE;
}
