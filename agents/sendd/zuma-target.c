/* SPDX-License-Identifier: GPL-2.0-only */
#include "zuma-target.h"

#include <errno.h>
#include <string.h>

#include "zuma-keyfile.h"

#define TARGET_GROUP "Target"
#define STATUS_GROUP "Status"
#define TARGET_FILE_MODE 0600

ZumaTarget *zuma_target_new(const char *uuid, const char *volume_name, const char *name,
                            const char *address)
{
        ZumaTarget *target = g_new0(ZumaTarget, 1);

        target->uuid = g_strdup(uuid);
        target->volume_name = g_strdup(volume_name);
        target->name = g_strdup(name);
        target->address = g_strdup(address);
        target->compress = ZUMA_TARGET_DEFAULT_COMPRESS;
        target->keep = g_variant_ref_sink(g_variant_new("a{su}", NULL));
        target->relay_command = g_strdup(ZUMA_TARGET_DEFAULT_RELAY);
        return target;
}

ZumaTarget *zuma_target_copy(const ZumaTarget *t)
{
        ZumaTarget *copy = zuma_target_new(t->uuid, t->volume_name, t->name, t->address);

        copy->period = t->period;
        copy->after_snapshot = t->after_snapshot;
        copy->rate_limit = t->rate_limit;
        copy->compress = t->compress;
        g_variant_unref(copy->keep);
        copy->keep = g_variant_ref(t->keep);
        copy->pin = g_strdup(t->pin);
        copy->ca = g_strdup(t->ca);
        copy->ssh_key = g_strdup(t->ssh_key);
        g_free(copy->relay_command);
        copy->relay_command = g_strdup(t->relay_command);
        copy->last_snapshot = g_strdup(t->last_snapshot);
        copy->last_snapshot_time = t->last_snapshot_time;
        copy->last_success = t->last_success;
        copy->last_error = g_strdup(t->last_error);
        return copy;
}

void zuma_target_free(ZumaTarget *t)
{
        if (!t)
                return;
        g_free(t->uuid);
        g_free(t->volume_name);
        g_free(t->name);
        g_free(t->address);
        g_clear_pointer(&t->keep, g_variant_unref);
        g_free(t->pin);
        g_free(t->ca);
        g_free(t->ssh_key);
        g_free(t->relay_command);
        g_free(t->last_snapshot);
        g_free(t->last_error);
        g_free(t);
}

gboolean zuma_target_is_ssh(const ZumaTarget *target)
{
        return g_str_has_prefix(target->address, "ssh://");
}

char *zuma_target_path(const char *state_dir, const char *uuid, const char *name)
{
        g_autofree char *file = g_strconcat(name, ".conf", NULL);

        return g_build_filename(state_dir, "targets", uuid, file, NULL);
}

/* "" in the file for NULL. */
static char *optional_string(GKeyFile *file, const char *group, const char *key)
{
        char *value = g_key_file_get_string(file, group, key, NULL);

        if (value && !value[0])
                g_clear_pointer(&value, g_free);
        return value;
}

static GVariant *keep_from_list(char **list, GError **error)
{
        GVariantBuilder keep = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a{su}"));

        for (guint i = 0; list && list[i]; i++) {
                const char *colon = strchr(list[i], ':');
                g_autofree char *class_ = NULL;
                guint64 count = 0;

                if (!colon ||
                    !g_ascii_string_to_unsigned(colon + 1, 10, 0, G_MAXUINT32, &count, NULL)) {
                        g_variant_builder_clear(&keep);
                        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                    "Keep: \"%s\" is not CLASS:COUNT", list[i]);
                        return NULL;
                }
                class_ = g_strndup(list[i], (gsize)(colon - list[i]));
                g_variant_builder_add(&keep, "{su}", class_, (guint32)count);
        }
        return g_variant_ref_sink(g_variant_builder_end(&keep));
}

ZumaTarget *zuma_target_load(const char *path, GError **error)
{
        g_autoptr(GKeyFile) file = g_key_file_new();
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *uuid = g_path_get_basename(dir);
        g_autofree char *base = g_path_get_basename(path);
        g_autofree char *name = NULL, *volume_name = NULL, *address = NULL;
        g_auto(GStrv) keep = NULL;
        g_autoptr(ZumaTarget) t = NULL;
        GError *local = NULL;

        if (!g_str_has_suffix(base, ".conf") || !g_uuid_string_is_valid(uuid)) {
                g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                            "not at targets/UUID/NAME.conf");
                return NULL;
        }
        name = g_strndup(base, strlen(base) - strlen(".conf"));
        if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, error))
                return NULL;
        volume_name = g_key_file_get_string(file, TARGET_GROUP, "VolumeName", error);
        if (!volume_name)
                return NULL;
        address = g_key_file_get_string(file, TARGET_GROUP, "Address", error);
        if (!address)
                return NULL;
        t = zuma_target_new(uuid, volume_name, name, address);
        t->period = g_key_file_get_uint64(file, TARGET_GROUP, "Period", &local);
        if (!local)
                t->after_snapshot =
                        g_key_file_get_boolean(file, TARGET_GROUP, "AfterSnapshot", &local);
        if (!local)
                t->rate_limit = g_key_file_get_uint64(file, TARGET_GROUP, "RateLimit", &local);
        if (!local)
                t->compress = g_key_file_get_integer(file, TARGET_GROUP, "Compress", &local);
        if (local) {
                g_propagate_error(error, local);
                return NULL;
        }
        if (t->compress < 0 || t->compress > 19) {
                g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                            "Compress: %d is not 0..19", t->compress);
                return NULL;
        }
        keep = g_key_file_get_string_list(file, TARGET_GROUP, "Keep", NULL, NULL);
        g_variant_unref(t->keep);
        t->keep = keep_from_list(keep, error);
        if (!t->keep)
                return NULL;
        t->pin = optional_string(file, TARGET_GROUP, "Pin");
        t->ca = optional_string(file, TARGET_GROUP, "Ca");
        t->ssh_key = optional_string(file, TARGET_GROUP, "SshKey");
        if (g_key_file_has_key(file, TARGET_GROUP, "RelayCommand", NULL)) {
                g_free(t->relay_command);
                t->relay_command = g_key_file_get_string(file, TARGET_GROUP, "RelayCommand", NULL);
        }
        t->last_snapshot = optional_string(file, STATUS_GROUP, "LastSnapshot");
        t->last_snapshot_time = g_key_file_get_int64(file, STATUS_GROUP, "LastSnapshotTime", NULL);
        t->last_success = g_key_file_get_int64(file, STATUS_GROUP, "LastSuccess", NULL);
        t->last_error = optional_string(file, STATUS_GROUP, "LastError");
        return g_steal_pointer(&t);
}

gboolean zuma_target_save(const ZumaTarget *t, const char *state_dir, GError **error)
{
        g_autoptr(GKeyFile) file = g_key_file_new();
        g_autofree char *path = zuma_target_path(state_dir, t->uuid, t->name);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
        GVariantIter iter;
        const char *class_;
        guint32 count;

        if (g_mkdir_with_parents(dir, 0700) != 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot create %s: %s", dir, g_strerror(errno));
                return FALSE;
        }
        g_variant_iter_init(&iter, t->keep);
        while (g_variant_iter_next(&iter, "{&su}", &class_, &count))
                g_ptr_array_add(keep, g_strdup_printf("%s:%u", class_, count));
        g_key_file_set_string(file, TARGET_GROUP, "VolumeName", t->volume_name);
        g_key_file_set_string(file, TARGET_GROUP, "Address", t->address);
        g_key_file_set_uint64(file, TARGET_GROUP, "Period", t->period);
        g_key_file_set_boolean(file, TARGET_GROUP, "AfterSnapshot", t->after_snapshot);
        g_key_file_set_uint64(file, TARGET_GROUP, "RateLimit", t->rate_limit);
        g_key_file_set_integer(file, TARGET_GROUP, "Compress", t->compress);
        g_key_file_set_string_list(file, TARGET_GROUP, "Keep", (const char *const *)keep->pdata,
                                   keep->len);
        g_key_file_set_string(file, TARGET_GROUP, "Pin", t->pin ? t->pin : "");
        g_key_file_set_string(file, TARGET_GROUP, "Ca", t->ca ? t->ca : "");
        g_key_file_set_string(file, TARGET_GROUP, "SshKey", t->ssh_key ? t->ssh_key : "");
        g_key_file_set_string(file, TARGET_GROUP, "RelayCommand", t->relay_command);
        g_key_file_set_string(file, STATUS_GROUP, "LastSnapshot",
                              t->last_snapshot ? t->last_snapshot : "");
        g_key_file_set_int64(file, STATUS_GROUP, "LastSnapshotTime", t->last_snapshot_time);
        g_key_file_set_int64(file, STATUS_GROUP, "LastSuccess", t->last_success);
        g_key_file_set_string(file, STATUS_GROUP, "LastError", t->last_error ? t->last_error : "");
        return zuma_keyfile_save(file, path, TARGET_FILE_MODE, error);
}
