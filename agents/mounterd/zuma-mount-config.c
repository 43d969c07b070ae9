/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-mounterd"

#include "zuma-mount-config.h"

#include <string.h>
#include <sys/mount.h>

#include "zuma-error.h"
#include "zuma-limits.h"
#include "zuma-options.h"

#define GROUP "Mount"

ZumaMountConfig *zuma_mount_config_new(const char *uuid, const char *volume_name)
{
        ZumaMountConfig *config = g_new0(ZumaMountConfig, 1);

        config->uuid = g_strdup(uuid);
        config->volume_name = g_strdup(volume_name ? volume_name : "");
        config->at = g_strdup("");
        config->snapshots = ZUMA_MOUNT_SNAPSHOTS_ALL;
        config->template = g_strdup("");
        config->options = g_strdup("");
        config->views = TRUE;
        config->gmt_dir = g_strdup("");
        config->names_dir = g_strdup("");
        return config;
}

void zuma_mount_config_free(ZumaMountConfig *config)
{
        if (!config)
                return;
        g_free(config->uuid);
        g_free(config->volume_name);
        g_free(config->at);
        g_free(config->template);
        g_free(config->options);
        g_free(config->gmt_dir);
        g_free(config->names_dir);
        g_free(config);
}

gboolean zuma_mount_path_within(const char *path, const char *dir)
{
        gsize len = strlen(dir);

        if (g_str_equal(dir, "/"))
                return TRUE;
        return strncmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

gboolean zuma_mount_check_point(const char *what, const char *path, char **ret_path, GError **error)
{
        g_autofree char *trimmed = g_strdup(path);
        gsize len = strlen(trimmed);

        while (len > 1 && trimmed[len - 1] == '/')
                trimmed[--len] = '\0';
        if (!zuma_check_path(what, trimmed, error))
                return FALSE;
        if (strstr(trimmed, "//")) {
                g_autofree char *quoted = zuma_quote(path);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the %s %s has an empty component (\"//\")", what, quoted);
                return FALSE;
        }
        if (g_str_equal(trimmed, "/")) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the %s must not be \"/\" (the root file system)", what);
                return FALSE;
        }
        if (ret_path)
                *ret_path = g_steal_pointer(&trimmed);
        return TRUE;
}

/* Counts the placeholders of template; FALSE on an unknown one. */
static gboolean count_placeholders(const char *template, guint *ret_volume, guint *ret_snapshot,
                                   char **ret_unknown)
{
        *ret_volume = *ret_snapshot = 0;
        for (const char *p = strchr(template, '{'); p; p = strchr(p + 1, '{')) {
                if (g_str_has_prefix(p, "{volume}"))
                        (*ret_volume)++;
                else if (g_str_has_prefix(p, "{snapshot}"))
                        (*ret_snapshot)++;
                else {
                        const char *end = strchr(p, '}');

                        *ret_unknown = g_strndup(p, end ? (gsize)(end - p + 1) : strlen(p));
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean zuma_mount_check_template(const char *template, GError **error)
{
        g_autofree char *unknown = NULL;
        g_autofree char *example = NULL;
        g_autofree char *base = NULL;
        guint volume, snapshot;

        if (!count_placeholders(template, &volume, &snapshot, &unknown)) {
                g_autofree char *quoted = zuma_quote(unknown);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the template has an unknown placeholder %s (it may hold {volume} "
                            "and {snapshot})",
                            quoted);
                return FALSE;
        }
        if (snapshot == 0) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "the template must hold {snapshot}: each snapshot needs a "
                                    "mount point of its own");
                return FALSE;
        }
        /* The form of the paths with short names; their length below. */
        example = zuma_mount_expand_template(template, "v", "s");
        if (!zuma_mount_check_point("template", example, NULL, error))
                return FALSE;
        if (strlen(template) + (volume * 63) + (snapshot * 127) > ZUMA_PATH_MAX) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the template is too long for the longest names (at most %d bytes "
                            "once expanded)",
                            ZUMA_PATH_MAX);
                return FALSE;
        }
        base = zuma_mount_template_base(template);
        if (g_str_equal(base, "/")) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "the template must put snapshots in a directory below \"/\"");
                return FALSE;
        }
        return TRUE;
}

char *zuma_mount_expand_template(const char *template, const char *volume, const char *snapshot)
{
        GString *out = g_string_new(NULL);

        for (const char *p = template; *p;) {
                if (g_str_has_prefix(p, "{volume}")) {
                        g_string_append(out, volume);
                        p += strlen("{volume}");
                } else if (g_str_has_prefix(p, "{snapshot}")) {
                        g_string_append(out, snapshot);
                        p += strlen("{snapshot}");
                } else {
                        g_string_append_c(out, *p++);
                }
        }
        return g_string_free(out, FALSE);
}

char *zuma_mount_template_base(const char *template)
{
        const char *brace = strchr(template, '{');
        g_autofree char *fixed = brace ? g_strndup(template, brace - template) : g_strdup(template);
        char *slash = strrchr(fixed, '/');

        if (!slash || slash == fixed)
                return g_strdup("/");
        return g_strndup(fixed, slash - fixed);
}

gboolean zuma_mount_parse_snapshots(const char *text, ZumaMountSnapshots *ret_mode,
                                    guint *ret_newest, GError **error)
{
        guint64 n = 0;

        if (g_str_equal(text, "all")) {
                *ret_mode = ZUMA_MOUNT_SNAPSHOTS_ALL;
                *ret_newest = 0;
                return TRUE;
        }
        if (g_str_equal(text, "none")) {
                *ret_mode = ZUMA_MOUNT_SNAPSHOTS_NONE;
                *ret_newest = 0;
                return TRUE;
        }
        if (g_str_has_prefix(text, "newest:") &&
            g_ascii_string_to_unsigned(text + strlen("newest:"), 10, 1, ZUMA_MOUNT_NEWEST_MAX, &n,
                                       NULL)) {
                *ret_mode = ZUMA_MOUNT_SNAPSHOTS_NEWEST;
                *ret_newest = (guint)n;
                return TRUE;
        }
        g_autofree char *quoted = zuma_quote(text);
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                    "snapshots must be \"all\", \"none\" or \"newest:N\" (N 1..%d), not %s",
                    ZUMA_MOUNT_NEWEST_MAX, quoted);
        return FALSE;
}

char *zuma_mount_snapshots_to_string(ZumaMountSnapshots mode, guint newest)
{
        switch (mode) {
        case ZUMA_MOUNT_SNAPSHOTS_NONE:
                return g_strdup("none");
        case ZUMA_MOUNT_SNAPSHOTS_NEWEST:
                return g_strdup_printf("newest:%u", newest);
        case ZUMA_MOUNT_SNAPSHOTS_ALL:
        default:
                return g_strdup("all");
        }
}

/* --- mount options --- */

typedef struct {
        const char *name;
        unsigned long set;
        unsigned long clear;
} FlagOption;

static const FlagOption flag_options[] = {
        { "ro", MS_RDONLY, 0 },
        { "rw", 0, MS_RDONLY },
        { "nosuid", MS_NOSUID, 0 },
        { "suid", 0, MS_NOSUID },
        { "nodev", MS_NODEV, 0 },
        { "dev", 0, MS_NODEV },
        { "noexec", MS_NOEXEC, 0 },
        { "exec", 0, MS_NOEXEC },
        { "sync", MS_SYNCHRONOUS, 0 },
        { "async", 0, MS_SYNCHRONOUS },
        { "dirsync", MS_DIRSYNC, 0 },
        { "noatime", MS_NOATIME, MS_RELATIME | MS_STRICTATIME },
        { "atime", 0, MS_NOATIME },
        { "nodiratime", MS_NODIRATIME, 0 },
        { "diratime", 0, MS_NODIRATIME },
        { "relatime", MS_RELATIME, MS_NOATIME | MS_STRICTATIME },
        { "norelatime", 0, MS_RELATIME },
        { "strictatime", MS_STRICTATIME, MS_NOATIME | MS_RELATIME },
        { "lazytime", MS_LAZYTIME, 0 },
        { "nolazytime", 0, MS_LAZYTIME },
        { "defaults", 0, 0 },
};

static const char *const refused_options[] = { "bind",         "rbind", "move",
                                               "remount",      "loop",  "make-shared",
                                               "make-private", "user",  "users" };

static gboolean option_char_ok(char c)
{
        return g_ascii_isalnum(c) || strchr("_-=.:/+@", c) != NULL;
}

/* Appends to data the options a snapshot of fstype needs. */
static void add_snapshot_options(GString *data, const char *fstype)
{
        const char *extra = NULL;

        if (g_str_equal(fstype, "ext3") || g_str_equal(fstype, "ext4"))
                extra = "noload";
        else if (g_str_equal(fstype, "xfs"))
                extra = "norecovery,nouuid";
        if (extra)
                g_string_append_printf(data, "%s%s", data->len ? "," : "", extra);
}

gboolean zuma_mount_options_parse(const char *text, gboolean snapshot, const char *fstype,
                                  unsigned long *ret_flags, char **ret_data, GError **error)
{
        g_autoptr(GString) data = g_string_new(NULL);
        g_auto(GStrv) items = NULL;
        unsigned long flags = 0;

        if (strlen(text) > ZUMA_OPTION_STRING_MAX) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the mount options are too long (at most %d bytes)",
                            ZUMA_OPTION_STRING_MAX);
                return FALSE;
        }
        items = g_strsplit(text, ",", -1);
        for (guint i = 0; items[i]; i++) {
                const char *item = items[i];
                gboolean known = FALSE;

                if (!item[0])
                        continue;
                for (const char *c = item; *c; c++) {
                        if (!option_char_ok(*c)) {
                                g_autofree char *quoted = zuma_quote(item);

                                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                            "the mount option %s has a character mount options "
                                            "do not take",
                                            quoted);
                                return FALSE;
                        }
                }
                for (guint r = 0; r < G_N_ELEMENTS(refused_options); r++) {
                        if (g_str_equal(item, refused_options[r])) {
                                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                            "the mount option \"%s\" is not for a volume's "
                                            "configuration",
                                            item);
                                return FALSE;
                        }
                }
                for (guint f = 0; f < G_N_ELEMENTS(flag_options); f++) {
                        if (g_str_equal(item, flag_options[f].name)) {
                                flags = (flags & ~flag_options[f].clear) | flag_options[f].set;
                                known = TRUE;
                                break;
                        }
                }
                if (!known)
                        g_string_append_printf(data, "%s%s", data->len ? "," : "", item);
        }
        if (snapshot) {
                flags |= MS_RDONLY;
                add_snapshot_options(data, fstype ? fstype : "");
        }
        *ret_flags = flags;
        *ret_data = g_strdup(data->str);
        return TRUE;
}

char *zuma_mount_options_describe(unsigned long flags, const char *data)
{
        GString *out = g_string_new(flags & MS_RDONLY ? "ro" : "rw");

        for (guint f = 0; f < G_N_ELEMENTS(flag_options); f++) {
                if (flag_options[f].set && flag_options[f].set != MS_RDONLY &&
                    (flags & flag_options[f].set))
                        g_string_append_printf(out, ",%s", flag_options[f].name);
        }
        if (data && data[0])
                g_string_append_printf(out, ",%s", data);
        return g_string_free(out, FALSE);
}

/* --- the configuration --- */

/* The view directories (trimmed, "" for the defaults) must differ from
 * each other and from the origin's mount point at: a view there would
 * hide the volume, and two views in one directory would remove each
 * other's entries. */
static gboolean check_view_dirs(const char *at, const char *gmt_dir, const char *names_dir,
                                GError **error)
{
        const char *dirs[] = { gmt_dir, names_dir };
        const char *keys[] = { "gmt_dir", "names_dir" };

        if (gmt_dir[0] && g_str_equal(gmt_dir, names_dir)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "gmt_dir and names_dir are both %s: each view needs a directory of "
                            "its own",
                            gmt_dir);
                return FALSE;
        }
        for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
                if (dirs[i][0] && at[0] && zuma_mount_path_within(at, dirs[i])) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "the view directory %s (%s) holds the origin's mount point "
                                    "%s",
                                    dirs[i], keys[i], at);
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean zuma_mount_config_update(ZumaMountConfig *config, GVariant *values, GError **error)
{
        g_autofree char *at = NULL;
        g_autofree char *snapshots = NULL;
        g_autofree char *template = NULL;
        g_autofree char *options = NULL;
        g_autofree char *at_trimmed = NULL;
        g_autofree char *gmt_dir = NULL;
        g_autofree char *names_dir = NULL;
        g_autofree char *gmt_trimmed = NULL;
        g_autofree char *names_trimmed = NULL;
        gboolean views = config->views;
        ZumaMountSnapshots mode = config->snapshots;
        guint newest = config->newest;
        unsigned long flags;
        g_autofree char *data = NULL;

        if (!zuma_options_parse(values, error, "at", "s", &at, "snapshots", "s", &snapshots,
                                "template", "s", &template, "options", "s", &options, "views", "b",
                                &views, "gmt_dir", "s", &gmt_dir, "names_dir", "s", &names_dir,
                                NULL))
                return FALSE;
        if (at && at[0] && !zuma_mount_check_point("mount point", at, &at_trimmed, error))
                return FALSE;
        if (snapshots && !zuma_mount_parse_snapshots(snapshots, &mode, &newest, error))
                return FALSE;
        if (template && template[0] && !zuma_mount_check_template(template, error))
                return FALSE;
        if (options && !zuma_mount_options_parse(options, FALSE, "", &flags, &data, error))
                return FALSE;
        if (gmt_dir && gmt_dir[0] &&
            !zuma_mount_check_point("view directory (gmt_dir)", gmt_dir, &gmt_trimmed, error))
                return FALSE;
        if (names_dir && names_dir[0] &&
            !zuma_mount_check_point("view directory (names_dir)", names_dir, &names_trimmed, error))
                return FALSE;
        if (!check_view_dirs(at ? (at_trimmed ? at_trimmed : "") : config->at,
                             gmt_dir ? (gmt_trimmed ? gmt_trimmed : "") : config->gmt_dir,
                             names_dir ? (names_trimmed ? names_trimmed : "") : config->names_dir,
                             error))
                return FALSE;
        if (at) {
                g_free(config->at);
                config->at = at_trimmed ? g_steal_pointer(&at_trimmed) : g_strdup("");
        }
        config->snapshots = mode;
        config->newest = newest;
        if (template) {
                g_free(config->template);
                config->template = g_steal_pointer(&template);
        }
        if (options) {
                g_free(config->options);
                config->options = g_steal_pointer(&options);
        }
        config->views = views;
        if (gmt_dir) {
                g_free(config->gmt_dir);
                config->gmt_dir = gmt_trimmed ? g_steal_pointer(&gmt_trimmed) : g_strdup("");
        }
        if (names_dir) {
                g_free(config->names_dir);
                config->names_dir = names_trimmed ? g_steal_pointer(&names_trimmed) : g_strdup("");
        }
        return TRUE;
}

char *zuma_mount_config_view_dir(const ZumaMountConfig *config, ZumaMountView view,
                                 const char *default_template)
{
        const char *configured = view == ZUMA_MOUNT_VIEW_GMT ? config->gmt_dir : config->names_dir;
        g_autofree char *base = NULL;

        if (configured[0])
                return g_strdup(configured);
        base = zuma_mount_template_base(config->template[0] ? config->template : default_template);
        return g_strdup_printf("%s/%s.%s", base,
                               config->volume_name[0] ? config->volume_name : config->uuid,
                               view == ZUMA_MOUNT_VIEW_GMT ? "gmt" : "snapshot");
}

GVariant *zuma_mount_config_to_variant(const ZumaMountConfig *config, const char *default_template)
{
        g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
        g_autofree char *snapshots =
                zuma_mount_snapshots_to_string(config->snapshots, config->newest);

        g_variant_builder_add(&builder, "{sv}", "volume",
                              g_variant_new_string(config->volume_name));
        g_variant_builder_add(&builder, "{sv}", "uuid", g_variant_new_string(config->uuid));
        g_variant_builder_add(&builder, "{sv}", "at", g_variant_new_string(config->at));
        g_variant_builder_add(&builder, "{sv}", "snapshots", g_variant_new_string(snapshots));
        g_variant_builder_add(&builder, "{sv}", "template", g_variant_new_string(config->template));
        g_variant_builder_add(&builder, "{sv}", "options", g_variant_new_string(config->options));
        g_variant_builder_add(&builder, "{sv}", "force", g_variant_new_boolean(config->force));
        g_variant_builder_add(&builder, "{sv}", "views", g_variant_new_boolean(config->views));
        g_variant_builder_add(&builder, "{sv}", "gmt_dir", g_variant_new_string(config->gmt_dir));
        g_variant_builder_add(&builder, "{sv}", "names_dir",
                              g_variant_new_string(config->names_dir));
        if (default_template) {
                g_autofree char *gmt =
                        zuma_mount_config_view_dir(config, ZUMA_MOUNT_VIEW_GMT, default_template);
                g_autofree char *names =
                        zuma_mount_config_view_dir(config, ZUMA_MOUNT_VIEW_NAMES, default_template);

                g_variant_builder_add(&builder, "{sv}", "gmt_path",
                                      g_variant_new_string(config->views ? gmt : ""));
                g_variant_builder_add(&builder, "{sv}", "names_path",
                                      g_variant_new_string(config->views ? names : ""));
        }
        return g_variant_builder_end(&builder);
}

gboolean zuma_mount_config_equal(const ZumaMountConfig *a, const ZumaMountConfig *b)
{
        return g_str_equal(a->uuid, b->uuid) && g_str_equal(a->at, b->at) &&
               a->snapshots == b->snapshots && a->newest == b->newest &&
               g_str_equal(a->template, b->template) && g_str_equal(a->options, b->options) &&
               a->force == b->force && a->views == b->views &&
               g_str_equal(a->gmt_dir, b->gmt_dir) && g_str_equal(a->names_dir, b->names_dir);
}

GKeyFile *zuma_mount_config_to_keyfile(const ZumaMountConfig *config)
{
        GKeyFile *key_file = g_key_file_new();
        g_autofree char *snapshots =
                zuma_mount_snapshots_to_string(config->snapshots, config->newest);

        g_key_file_set_string(key_file, GROUP, "Uuid", config->uuid);
        g_key_file_set_string(key_file, GROUP, "Volume", config->volume_name);
        g_key_file_set_string(key_file, GROUP, "At", config->at);
        g_key_file_set_string(key_file, GROUP, "Snapshots", snapshots);
        g_key_file_set_string(key_file, GROUP, "Template", config->template);
        g_key_file_set_string(key_file, GROUP, "Options", config->options);
        g_key_file_set_boolean(key_file, GROUP, "Force", config->force);
        g_key_file_set_boolean(key_file, GROUP, "Views", config->views);
        g_key_file_set_string(key_file, GROUP, "GmtDir", config->gmt_dir);
        g_key_file_set_string(key_file, GROUP, "NamesDir", config->names_dir);
        return key_file;
}

static char *get_string(GKeyFile *key_file, const char *key, GError **error)
{
        char *value = g_key_file_get_string(key_file, GROUP, key, NULL);

        if (!value)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT, "no %s= in [%s]", key,
                            GROUP);
        return value;
}

ZumaMountConfig *zuma_mount_config_from_keyfile(GKeyFile *key_file, GError **error)
{
        g_autofree char *uuid = get_string(key_file, "Uuid", error);
        g_autofree char *name = NULL;
        g_autoptr(ZumaMountConfig) config = NULL;
        g_autoptr(GVariant) values = NULL;
        g_autofree char *at = NULL;
        g_autofree char *snapshots = NULL;
        g_autofree char *template = NULL;
        g_autofree char *options = NULL;
        g_autofree char *gmt_dir = NULL;
        g_autofree char *names_dir = NULL;
        g_autoptr(GError) views_error = NULL;
        gboolean views;
        GVariantDict dict;

        if (!uuid)
                return NULL;
        if (!g_uuid_string_is_valid(uuid)) {
                g_autofree char *quoted = zuma_quote(uuid);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT, "Uuid=%s is not a UUID",
                            quoted);
                return NULL;
        }
        name = g_key_file_get_string(key_file, GROUP, "Volume", NULL);
        if (name && name[0] && !zuma_check_volume_name(name, NULL))
                g_clear_pointer(&name, g_free);
        at = get_string(key_file, "At", error);
        snapshots = at ? get_string(key_file, "Snapshots", error) : NULL;
        if (!snapshots)
                return NULL;
        template = g_key_file_get_string(key_file, GROUP, "Template", NULL);
        options = g_key_file_get_string(key_file, GROUP, "Options", NULL);
        gmt_dir = g_key_file_get_string(key_file, GROUP, "GmtDir", NULL);
        names_dir = g_key_file_get_string(key_file, GROUP, "NamesDir", NULL);
        /* Files from before the views have no Views=: on, the default. */
        views = g_key_file_get_boolean(key_file, GROUP, "Views", &views_error);
        if (g_error_matches(views_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
                views = TRUE;
        else if (views_error) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "Views= in [%s] is not true or false", GROUP);
                return NULL;
        }
        g_variant_dict_init(&dict, NULL);
        g_variant_dict_insert(&dict, "at", "s", at);
        g_variant_dict_insert(&dict, "snapshots", "s", snapshots);
        g_variant_dict_insert(&dict, "template", "s", template ? template : "");
        g_variant_dict_insert(&dict, "options", "s", options ? options : "");
        g_variant_dict_insert(&dict, "views", "b", views);
        g_variant_dict_insert(&dict, "gmt_dir", "s", gmt_dir ? gmt_dir : "");
        g_variant_dict_insert(&dict, "names_dir", "s", names_dir ? names_dir : "");
        values = g_variant_ref_sink(g_variant_dict_end(&dict));
        config = zuma_mount_config_new(uuid, name);
        if (!zuma_mount_config_update(config, values, error))
                return NULL;
        config->force = g_key_file_get_boolean(key_file, GROUP, "Force", NULL);
        return g_steal_pointer(&config);
}
