/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A volume's mount configuration, the pure part of zuma-mounterd: no bus,
 * no mounts, no root; tests/mounterd tests it.
 *
 * One file per configured volume, STATE_DIR/mounts/UUID.conf (GKeyFile,
 * group [Mount]): Uuid, Volume (the name last seen, for people), At (the
 * origin's mount point, "" for none), Snapshots ("all", "none",
 * "newest:N"), Template ("" for the daemon's default), Options (the
 * origin's mount options), Force (mount the origin over a directory that
 * is not empty), Views (the snapshot views, zuma-mount-views.c: true
 * or false), GmtDir and NamesDir (their directories, "" for the
 * defaults below).  Unknown keys are kept out of the way (ignored).
 *
 * A template is an absolute path with placeholders: {snapshot} (the
 * snapshot's name, required: every snapshot needs its own directory) and
 * {volume} (the volume's name).  Names are one path component by the one
 * rule (busapi/zuma-name-rule.h: no "/", no leading "."), so an expanded
 * template stays below the template's fixed prefix.
 *
 * Mount points are absolute, without "." or ".." and never "/"; a
 * trailing "/" is dropped.
 *
 * The snapshot views' directories are absolute too, two different ones,
 * neither the origin's mount point.  By default they are siblings of the
 * snapshots' mount points, outside the origin: TEMPLATE_BASE/VOLUME.gmt
 * (the "@GMT-YYYY.MM.DD-HH.MM.SS" entries Samba's shadow_copy2 reads)
 * and TEMPLATE_BASE/VOLUME.snapshot (the snapshots by name), where
 * TEMPLATE_BASE is the fixed directory of the volume's template
 * ("/var/mount/zumastor").  Outside the origin, so the views never land
 * in the volume's own data (every later snapshot, every backup of it
 * would carry them) and need no origin mount at all; a volume name has
 * no "@", so VOLUME.gmt never meets a snapshot's VOLUME@NAME.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ZUMA_MOUNT_DEFAULT_ROOT "/var/mount/zumastor"
#define ZUMA_MOUNT_TEMPLATE_TAIL "{volume}@{snapshot}"
/* The most snapshots "newest:N" mounts. */
#define ZUMA_MOUNT_NEWEST_MAX 1000

typedef enum {
        ZUMA_MOUNT_SNAPSHOTS_ALL,
        ZUMA_MOUNT_SNAPSHOTS_NONE,
        ZUMA_MOUNT_SNAPSHOTS_NEWEST,
} ZumaMountSnapshots;

typedef struct ZumaMountConfig {
        char *uuid;
        char *volume_name; /* the name last seen, for messages */
        char *at;          /* the origin's mount point; "" for none */
        ZumaMountSnapshots snapshots;
        guint newest;   /* with ZUMA_MOUNT_SNAPSHOTS_NEWEST */
        char *template; /* "" for the daemon's default */
        char *options;  /* the origin's mount options, "" for none */
        gboolean force;
        gboolean views;  /* the snapshot views, on by default */
        char *gmt_dir;   /* "" for the default */
        char *names_dir; /* "" for the default */
} ZumaMountConfig;

typedef enum {
        ZUMA_MOUNT_VIEW_GMT,   /* "@GMT-..." entries, for Samba */
        ZUMA_MOUNT_VIEW_NAMES, /* snapshot names, for local users */
} ZumaMountView;

ZumaMountConfig *zuma_mount_config_new(const char *uuid, const char *volume_name);
void zuma_mount_config_free(ZumaMountConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaMountConfig, zuma_mount_config_free)

/* Takes the keys of an a{sv} (SetMount's config: "at", "snapshots",
 * "template", "options", "views" (b), "gmt_dir", "names_dir"), each checked; an unknown key or a bad value is
 * InvalidArgument naming it, and config is left as it was. */
gboolean zuma_mount_config_update(ZumaMountConfig *config, GVariant *values, GError **error);

/* The configuration as ListMounts shows it; with default_template (the
 * daemon's) it adds the view directories in use, "gmt_path" and
 * "names_path" ("" with the views off). */
GVariant *zuma_mount_config_to_variant(const ZumaMountConfig *config, const char *default_template);

/* The directory of a view: the configured one, or the default for the
 * volume's template (config's, else default_template). */
char *zuma_mount_config_view_dir(const ZumaMountConfig *config, ZumaMountView view,
                                 const char *default_template);

gboolean zuma_mount_config_equal(const ZumaMountConfig *a, const ZumaMountConfig *b);

GKeyFile *zuma_mount_config_to_keyfile(const ZumaMountConfig *config);
/* Every value is checked again: a file is untrusted too. */
ZumaMountConfig *zuma_mount_config_from_keyfile(GKeyFile *key_file, GError **error);

/* "all", "none", "newest:N". */
gboolean zuma_mount_parse_snapshots(const char *text, ZumaMountSnapshots *ret_mode,
                                    guint *ret_newest, GError **error);
char *zuma_mount_snapshots_to_string(ZumaMountSnapshots mode, guint newest);

/* A mount point: absolute, no "." or "..", not "/".  *ret_path (may be
 * NULL) gets it without a trailing "/". */
gboolean zuma_mount_check_point(const char *what, const char *path, char **ret_path,
                                GError **error);
/* A template as described above. */
gboolean zuma_mount_check_template(const char *template, GError **error);
/* The template's path for one snapshot (the names must be valid). */
char *zuma_mount_expand_template(const char *template, const char *volume, const char *snapshot);
/* The fixed directory a template's paths all lie under (the part before
 * the first placeholder, cut at its last "/"): "/var/mount/zumastor". */
char *zuma_mount_template_base(const char *template);

/* Whether path is dir or lies below it. */
gboolean zuma_mount_path_within(const char *path, const char *dir);

/* Mount options ("noatime,nodev,commit=30") as mount(2) takes them: the
 * flags it knows (ro, rw, noatime, nodev, nosuid, noexec...) and the rest
 * as the file system's data string.  For a snapshot (snapshot TRUE) the
 * mount is read-only whatever the options say, and gets what its fstype
 * needs to mount a read-only image that was never cleanly unmounted:
 * "noload" (ext3, ext4: no journal replay) or "norecovery,nouuid" (xfs:
 * no log recovery; every snapshot carries the origin's UUID).  Options
 * that would change what is mounted ("bind", "move", "remount", "loop")
 * are InvalidArgument. */
gboolean zuma_mount_options_parse(const char *text, gboolean snapshot, const char *fstype,
                                  unsigned long *ret_flags, char **ret_data, GError **error);
/* The options as people read them ("ro,noload"), for ListMounts. */
char *zuma_mount_options_describe(unsigned long flags, const char *data);

G_END_DECLS
