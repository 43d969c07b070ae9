/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-stream-state"

#include "zuma-stream-state.h"

#include <errno.h>
#include <string.h>

#include "zuma-keyfile.h"

#define RECEIVE_GROUP "Receive"
#define DIGEST_GROUP_PREFIX "Snapshot "
#define STATE_FILE_MODE 0600

static char *state_path(const char *dir, const char *volume_uuid, const char *suffix)
{
        g_autofree char *base = g_strconcat(volume_uuid, suffix, NULL);

        return g_build_filename(dir, base, NULL);
}

static gboolean copy_name(char *dest, const char *value)
{
        if (!value || strlen(value) > SS_NAME_MAX)
                return FALSE;
        strcpy(dest, value);
        return TRUE;
}

void zuma_receive_point_load(const char *dir, const char *volume_uuid, ZumaReceivePoint *ret_point,
                             gboolean *ret_found)
{
        g_autofree char *path = state_path(dir, volume_uuid, ".receive");
        g_autoptr(GKeyFile) file = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *to_name = NULL, *from_name = NULL;
        ZumaReceivePoint point = { 0 };

        *ret_found = FALSE;
        if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, &error)) {
                if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        g_warning("%s: %s; the next stream starts from scratch", path,
                                  error->message);
                return;
        }
        to_name = g_key_file_get_string(file, RECEIVE_GROUP, "ToName", NULL);
        from_name = g_key_file_get_string(file, RECEIVE_GROUP, "FromName", NULL);
        point.to_ctime = g_key_file_get_int64(file, RECEIVE_GROUP, "ToCtime", &error);
        if (!error)
                point.last_index = g_key_file_get_uint64(file, RECEIVE_GROUP, "LastIndex", &error);
        if (!error)
                point.records = g_key_file_get_uint64(file, RECEIVE_GROUP, "Records", &error);
        if (error || !copy_name(point.to_name, to_name) || !copy_name(point.from_name, from_name) ||
            !point.to_name[0]) {
                g_warning("%s: not a receive point (%s); the next stream starts from scratch", path,
                          error ? error->message : "a name is missing or too long");
                return;
        }
        *ret_point = point;
        *ret_found = TRUE;
}

gboolean zuma_receive_point_save(const char *dir, const char *volume_uuid,
                                 const ZumaReceivePoint *point, GError **error)
{
        g_autofree char *path = state_path(dir, volume_uuid, ".receive");
        g_autoptr(GKeyFile) file = g_key_file_new();

        g_key_file_set_string(file, RECEIVE_GROUP, "ToName", point->to_name);
        g_key_file_set_int64(file, RECEIVE_GROUP, "ToCtime", point->to_ctime);
        g_key_file_set_string(file, RECEIVE_GROUP, "FromName", point->from_name);
        g_key_file_set_uint64(file, RECEIVE_GROUP, "LastIndex", point->last_index);
        g_key_file_set_uint64(file, RECEIVE_GROUP, "Records", point->records);
        return zuma_keyfile_save(file, path, STATE_FILE_MODE, error);
}

gboolean zuma_receive_point_remove(const char *dir, const char *volume_uuid, GError **error)
{
        g_autofree char *path = state_path(dir, volume_uuid, ".receive");

        return zuma_file_remove_durable(path, error);
}

gboolean zuma_receive_point_matches(const ZumaReceivePoint *point, const char *to_name,
                                    gint64 to_ctime, const char *from_name)
{
        return g_str_equal(point->to_name, to_name) && point->to_ctime == to_ctime &&
               g_str_equal(point->from_name, from_name ? from_name : "");
}

static char *digest_group(const char *name)
{
        return g_strconcat(DIGEST_GROUP_PREFIX, name, NULL);
}

static GKeyFile *load_digests(const char *path)
{
        GKeyFile *file = g_key_file_new();
        g_autoptr(GError) error = NULL;

        if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, &error) &&
            !g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                g_warning("%s: %s; digests will be computed again", path, error->message);
        return file;
}

/* 32 hex digits: the high half, then the low. */
static gboolean parse_digest(const char *text, SsStreamDigest *ret_digest)
{
        char half[17];
        char *end;

        if (!text || strlen(text) != 32 || !g_str_is_ascii(text))
                return FALSE;
        for (int i = 0; i < 32; i++)
                if (!g_ascii_isxdigit(text[i]))
                        return FALSE;
        memcpy(half, text, 16);
        half[16] = '\0';
        ret_digest->hi = g_ascii_strtoull(half, &end, 16);
        ret_digest->lo = g_ascii_strtoull(text + 16, &end, 16);
        return TRUE;
}

gboolean zuma_digest_cache_lookup(const char *dir, const char *volume_uuid, const char *name,
                                  gint64 ctime, SsStreamDigest *ret_digest)
{
        g_autofree char *path = state_path(dir, volume_uuid, ".digests");
        g_autoptr(GKeyFile) file = load_digests(path);
        g_autofree char *group = digest_group(name);
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;
        gint64 stored_ctime;

        stored_ctime = g_key_file_get_int64(file, group, "Ctime", &error);
        if (error || stored_ctime != ctime)
                return FALSE;
        text = g_key_file_get_string(file, group, "Digest", NULL);
        if (!parse_digest(text, ret_digest)) {
                g_warning("%s: [%s] Digest is not 32 hex digits; it will be computed again", path,
                          group);
                return FALSE;
        }
        return TRUE;
}

char *zuma_stream_digest_to_string(const SsStreamDigest *digest)
{
        return g_strdup_printf("%016" G_GINT64_MODIFIER "x%016" G_GINT64_MODIFIER "x",
                               (guint64)digest->hi, (guint64)digest->lo);
}

gboolean zuma_digest_cache_store(const char *dir, const char *volume_uuid, const char *name,
                                 gint64 ctime, const SsStreamDigest *digest, GError **error)
{
        g_autofree char *path = state_path(dir, volume_uuid, ".digests");
        g_autoptr(GKeyFile) file = load_digests(path);
        g_autofree char *group = digest_group(name);
        g_autofree char *text = zuma_stream_digest_to_string(digest);

        g_key_file_set_int64(file, group, "Ctime", ctime);
        g_key_file_set_string(file, group, "Digest", text);
        return zuma_keyfile_save(file, path, STATE_FILE_MODE, error);
}
