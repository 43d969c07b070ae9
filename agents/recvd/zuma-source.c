/* SPDX-License-Identifier: GPL-2.0-only */
#include "zuma-source.h"

#include <errno.h>
#include <string.h>

#include "zuma-keyfile.h"

#define SOURCE_GROUP "Source"
#define STATUS_GROUP "Status"
#define SOURCE_FILE_MODE 0600

ZumaSource *zuma_source_new(const char *uuid, const char *volume_name)
{
        ZumaSource *source = g_new0(ZumaSource, 1);

        source->uuid = g_strdup(uuid);
        source->volume_name = g_strdup(volume_name);
        source->allow = g_new0(char *, 1);
        return source;
}

ZumaSource *zuma_source_copy(const ZumaSource *source)
{
        ZumaSource *copy = zuma_source_new(source->uuid, source->volume_name);

        copy->listen = g_strdup(source->listen);
        g_strfreev(copy->allow);
        copy->allow = g_strdupv(source->allow);
        copy->ca = g_strdup(source->ca);
        copy->last_snapshot = g_strdup(source->last_snapshot);
        copy->last_snapshot_time = source->last_snapshot_time;
        copy->last_received = source->last_received;
        copy->last_error = g_strdup(source->last_error);
        return copy;
}

void zuma_source_free(ZumaSource *source)
{
        if (!source)
                return;
        g_free(source->uuid);
        g_free(source->volume_name);
        g_free(source->listen);
        g_strfreev(source->allow);
        g_free(source->ca);
        g_free(source->last_snapshot);
        g_free(source->last_error);
        g_free(source);
}

char *zuma_source_path(const char *state_dir, const char *uuid)
{
        g_autofree char *file = g_strconcat(uuid, ".conf", NULL);

        return g_build_filename(state_dir, "sources", file, NULL);
}

ZumaSource *zuma_source_load(const char *path, GError **error)
{
        g_autoptr(GKeyFile) file = g_key_file_new();
        g_autofree char *base = g_path_get_basename(path);
        g_autofree char *uuid = g_strndup(base, strlen(base) - strlen(".conf"));
        g_autofree char *volume_name = NULL;
        g_autoptr(ZumaSource) source = NULL;

        if (!g_str_has_suffix(base, ".conf") || !g_uuid_string_is_valid(uuid)) {
                g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                            "the file name is not UUID.conf");
                return NULL;
        }
        if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, error))
                return NULL;
        volume_name = g_key_file_get_string(file, SOURCE_GROUP, "VolumeName", error);
        if (!volume_name)
                return NULL;
        source = zuma_source_new(uuid, volume_name);
        source->listen = g_key_file_get_string(file, SOURCE_GROUP, "Listen", error);
        if (!source->listen)
                return NULL;
        if (g_key_file_has_key(file, SOURCE_GROUP, "Allow", NULL)) {
                g_strfreev(source->allow);
                source->allow =
                        g_key_file_get_string_list(file, SOURCE_GROUP, "Allow", NULL, error);
                if (!source->allow)
                        return NULL;
        }
        source->ca = g_key_file_get_string(file, SOURCE_GROUP, "Ca", NULL);
        if (source->ca && !source->ca[0])
                g_clear_pointer(&source->ca, g_free);
        source->last_snapshot = g_key_file_get_string(file, STATUS_GROUP, "LastSnapshot", NULL);
        source->last_snapshot_time =
                g_key_file_get_int64(file, STATUS_GROUP, "LastSnapshotTime", NULL);
        source->last_received = g_key_file_get_int64(file, STATUS_GROUP, "LastReceived", NULL);
        source->last_error = g_key_file_get_string(file, STATUS_GROUP, "LastError", NULL);
        return g_steal_pointer(&source);
}

gboolean zuma_source_save(const ZumaSource *source, const char *state_dir, GError **error)
{
        g_autoptr(GKeyFile) file = g_key_file_new();
        g_autofree char *path = zuma_source_path(state_dir, source->uuid);
        g_autofree char *dir = g_path_get_dirname(path);

        if (g_mkdir_with_parents(dir, 0700) != 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot create %s: %s", dir, g_strerror(errno));
                return FALSE;
        }
        g_key_file_set_string(file, SOURCE_GROUP, "VolumeName", source->volume_name);
        g_key_file_set_string(file, SOURCE_GROUP, "Listen", source->listen);
        g_key_file_set_string_list(file, SOURCE_GROUP, "Allow", (const char *const *)source->allow,
                                   g_strv_length(source->allow));
        g_key_file_set_string(file, SOURCE_GROUP, "Ca", source->ca ? source->ca : "");
        g_key_file_set_string(file, STATUS_GROUP, "LastSnapshot",
                              source->last_snapshot ? source->last_snapshot : "");
        g_key_file_set_int64(file, STATUS_GROUP, "LastSnapshotTime", source->last_snapshot_time);
        g_key_file_set_int64(file, STATUS_GROUP, "LastReceived", source->last_received);
        g_key_file_set_string(file, STATUS_GROUP, "LastError",
                              source->last_error ? source->last_error : "");
        return zuma_keyfile_save(file, path, SOURCE_FILE_MODE, error);
}
