/* SPDX-License-Identifier: GPL-2.0-only */
/* The snapshot views on the file system; the design is in zuma-mount-views.h. */
#define G_LOG_DOMAIN "zuma-mounterd"

#include "zuma-mount-views.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zuma-error.h"
#include "zuma-mount-view-plan.h"

/* One view directory a reconcile wants. */
typedef struct {
        char *uuid;
        GHashTable *links; /* name -> target */
        char *created_top; /* what creating it creates first, or NULL */
} WantedDir;

static void wanted_dir_free(gpointer data)
{
        WantedDir *wanted = data;

        g_free(wanted->uuid);
        g_free(wanted->created_top);
        g_hash_table_unref(wanted->links);
        g_free(wanted);
}

/* Removes the links of dir that keep does not hold as they are (keep
 * NULL: every link), or with only_target, just the links leading there.
 * What is not a link stays (logged when keep is given: a sync). */
static void remove_links(ZumaMounter *self, const char *dir, GHashTable *keep,
                         const char *only_target)
{
        g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
        const char *name;

        if (!listing)
                return;
        while ((name = g_dir_read_name(listing))) {
                g_autofree char *path = g_build_filename(dir, name, NULL);
                g_autofree char *target = g_file_read_link(path, NULL);
                const char *wanted;

                if (!target) {
                        if (keep) {
                                g_autofree char *message = g_strdup_printf(
                                        "%s is not a link of the snapshot views: left alone", path);

                                zuma_mounter_warn_once(self, path, message);
                        }
                        continue;
                }
                if (only_target && !g_str_equal(target, only_target))
                        continue;
                wanted = keep ? g_hash_table_lookup(keep, name) : NULL;
                if (wanted && g_str_equal(wanted, target))
                        continue;
                if (unlink(path) < 0 && errno != ENOENT)
                        g_warning("cannot remove the view link %s: %s", path, g_strerror(errno));
        }
}

/* Adds the links of links that dir lacks, each in one rename() so a
 * reader sees the old link or the new one, never none. */
static void add_links(ZumaMounter *self, const char *dir, GHashTable *links)
{
        GHashTableIter iter;
        const char *name;
        const char *target;

        g_hash_table_iter_init(&iter, links);
        while (g_hash_table_iter_next(&iter, (gpointer *)&name, (gpointer *)&target)) {
                g_autofree char *path = g_build_filename(dir, name, NULL);
                g_autofree char *existing = g_file_read_link(path, NULL);
                /* Names never start with ".": no link is called this. */
                g_autofree char *hidden = g_strdup_printf(".%s.new", name);
                g_autofree char *staging = g_build_filename(dir, hidden, NULL);
                g_autofree char *message = NULL;
                struct stat st;
                int err;

                if (existing && g_str_equal(existing, target))
                        continue;
                if (!existing && lstat(path, &st) == 0)
                        continue; /* not a link: remove_links() said so */
                (void)unlink(staging);
                if (symlink(target, staging) == 0 && rename(staging, path) == 0) {
                        g_hash_table_remove(self->warned, path);
                        continue;
                }
                err = errno;
                (void)unlink(staging);
                message =
                        g_strdup_printf("cannot link %s to %s: %s", path, target, g_strerror(err));
                zuma_mounter_warn_once(self, path, message);
        }
}

/* The topmost directory of dir's path that does not exist yet (what
 * mkdir -p would create first), or NULL when dir exists. */
static char *first_missing(const char *dir)
{
        g_autofree char *path = g_strdup(dir);
        char *missing = NULL;

        while (!g_str_equal(path, "/") && !g_file_test(path, G_FILE_TEST_EXISTS)) {
                char *parent = g_path_get_dirname(path);

                g_free(missing);
                missing = g_steal_pointer(&path);
                path = parent;
        }
        return missing;
}

static gboolean make_dir(const char *dir, GError **error)
{
        struct stat st;
        int err;

        if (g_mkdir_with_parents(dir, 0755) < 0) {
                err = errno;
                zuma_error_set_errno(error, -err, "cannot create the view directory %s: %s", dir,
                                     g_strerror(err));
                return FALSE;
        }
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the view directory %s is not a directory", dir);
                return FALSE;
        }
        return TRUE;
}

/* Its links, then the directory and the parents the mounter created for
 * it (up to view->created_top), each only when nothing else is in it. */
static void remove_dir(ZumaMounter *self, const char *dir, const ZumaViewDir *view)
{
        g_autofree char *path = g_strdup(dir);

        remove_links(self, dir, NULL, NULL);
        g_hash_table_remove(self->warned, dir);
        if (rmdir(dir) < 0) {
                if (errno != ENOENT)
                        g_message("left the view directory %s: %s", dir, g_strerror(errno));
                return;
        }
        while (view->created_top && !g_str_equal(path, view->created_top)) {
                char *parent = g_path_get_dirname(path);

                g_free(path);
                path = parent;
                if (!zuma_mount_path_within(path, view->created_top) || rmdir(path) < 0)
                        return;
        }
}

static gboolean origin_mounted(ZumaMounter *self, const ZumaMountConfig *config)
{
        const ZumaMount *mount = g_hash_table_lookup(self->mounts, config->at);

        return mount && mount->id == 0 && g_str_equal(mount->uuid, config->uuid);
}

static void want_dir(ZumaMounter *self, const ZumaMountConfig *config, ZumaMountView view,
                     GHashTable *links, GHashTable *wanted)
{
        g_autofree char *dir = zuma_mount_config_view_dir(config, view, self->default_template);
        WantedDir *entry;

        if ((config->at[0] && zuma_mount_path_within(dir, config->at) &&
             !origin_mounted(self, config)) ||
            g_hash_table_contains(wanted, dir)) {
                g_hash_table_unref(links);
                return;
        }
        entry = g_new0(WantedDir, 1);
        entry->uuid = g_strdup(config->uuid);
        entry->links = links;
        g_hash_table_insert(wanted, g_steal_pointer(&dir), entry);
}

static void want_views(ZumaMounter *self, const ZumaMountConfig *config, GHashTable *wanted)
{
        g_autoptr(GArray) sources = g_array_new(FALSE, FALSE, sizeof(ZumaViewSource));
        const ZumaServerVolume *volume;
        GHashTable *gmt;
        GHashTable *names;
        GHashTableIter iter;
        const ZumaMount *mount;

        if (!config->views || !self->volumes)
                return;
        volume = zuma_server_find_volume(self->volumes, config->uuid, FALSE);
        if (!volume || !g_str_equal(volume->state, "running"))
                return;
        g_hash_table_iter_init(&iter, self->mounts);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&mount)) {
                const ZumaServerSnapshot *record;
                ZumaViewSource source;

                if (mount->id == 0 || !g_str_equal(mount->uuid, config->uuid))
                        continue;
                record = zuma_server_find_snapshot(volume, mount->id);
                if (!record)
                        continue;
                source.id = mount->id;
                source.creation_time = record->creation_time;
                source.name = mount->snapshot_name;
                source.target = mount->path;
                g_array_append_val(sources, source);
        }
        zuma_mount_view_plan((const ZumaViewSource *)(void *)sources->data, sources->len, &gmt,
                             &names);
        want_dir(self, config, ZUMA_MOUNT_VIEW_GMT, gmt, wanted);
        want_dir(self, config, ZUMA_MOUNT_VIEW_NAMES, names, wanted);
}

void zuma_view_dir_free(ZumaViewDir *view)
{
        if (!view)
                return;
        g_free(view->uuid);
        g_free(view->created_top);
        g_free(view);
}

void zuma_mount_views_sync(ZumaMounter *self)
{
        g_autoptr(GHashTable) wanted =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, wanted_dir_free);
        GHashTableIter iter;
        const char *dir;
        gpointer value;

        if (!self->shutting_down) {
                g_hash_table_iter_init(&iter, self->configs);
                while (g_hash_table_iter_next(&iter, NULL, &value))
                        want_views(self, value, wanted);
        }
        g_hash_table_iter_init(&iter, self->view_dirs);
        while (g_hash_table_iter_next(&iter, (gpointer *)&dir, &value)) {
                if (!g_hash_table_contains(wanted, dir)) {
                        remove_dir(self, dir, value);
                        g_message("%s: snapshot view removed", dir);
                        g_hash_table_iter_remove(&iter);
                }
        }
        /* What is missing before any is made: two views in one new
         * directory both remove it, whichever goes last. */
        g_hash_table_iter_init(&iter, wanted);
        while (g_hash_table_iter_next(&iter, (gpointer *)&dir, &value))
                ((WantedDir *)value)->created_top = first_missing(dir);
        g_hash_table_iter_init(&iter, wanted);
        while (g_hash_table_iter_next(&iter, (gpointer *)&dir, &value)) {
                WantedDir *entry = value;
                g_autoptr(GError) error = NULL;
                ZumaViewDir *view;

                if (!make_dir(dir, &error)) {
                        zuma_mounter_warn_once(self, dir, error->message);
                        continue;
                }
                remove_links(self, dir, entry->links, NULL);
                add_links(self, dir, entry->links);
                view = g_hash_table_lookup(self->view_dirs, dir);
                if (!view) {
                        g_message("%s: snapshot view", dir);
                        view = g_new0(ZumaViewDir, 1);
                        view->uuid = g_strdup(entry->uuid);
                        g_hash_table_insert(self->view_dirs, g_strdup(dir), view);
                }
                if (entry->created_top) {
                        g_free(view->created_top);
                        view->created_top = g_steal_pointer(&entry->created_top);
                }
        }
}

void zuma_mount_views_drop(ZumaMounter *self, const ZumaMount *mount)
{
        GHashTableIter iter;
        const char *dir;
        ZumaViewDir *view;

        g_hash_table_iter_init(&iter, self->view_dirs);
        while (g_hash_table_iter_next(&iter, (gpointer *)&dir, (gpointer *)&view)) {
                if (!g_str_equal(view->uuid, mount->uuid))
                        continue;
                if (mount->id) {
                        remove_links(self, dir, NULL, mount->path);
                } else if (zuma_mount_path_within(dir, mount->path)) {
                        remove_dir(self, dir, view);
                        g_hash_table_iter_remove(&iter);
                }
        }
}

gboolean zuma_mount_views_check(ZumaMounter *self, const ZumaMountConfig *config, GError **error)
{
        static const ZumaMountView views[] = { ZUMA_MOUNT_VIEW_GMT, ZUMA_MOUNT_VIEW_NAMES };

        g_autofree char *base = NULL;

        if (!config->views)
                return TRUE;
        base = zuma_mount_template_base(zuma_mounter_template(self, config));
        for (guint v = 0; v < G_N_ELEMENTS(views); v++) {
                g_autofree char *dir =
                        zuma_mount_config_view_dir(config, views[v], self->default_template);
                g_autofree char *sibling =
                        zuma_mount_config_view_dir(config, views[1 - v], self->default_template);
                GHashTableIter iter;
                const ZumaMount *mount;
                const ZumaMountConfig *other;

                /* A view's directory holds its links only: the mounter
                 * would take everything else in it for a stranger's. */
                if (zuma_mount_path_within(base, dir)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "the view directory %s holds the snapshots' mount points "
                                    "(%s)",
                                    dir, base);
                        return FALSE;
                }
                if (zuma_mount_path_within(sibling, dir)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "the view directory %s holds the other view's, %s", dir,
                                    sibling);
                        return FALSE;
                }

                g_hash_table_iter_init(&iter, self->mounts);
                while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&mount)) {
                        if (mount->id && zuma_mount_path_within(dir, mount->path)) {
                                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                            "the view directory %s lies inside %s, where "
                                            "snapshot %s of volume %s is mounted",
                                            dir, mount->path, mount->snapshot_name,
                                            mount->volume_name);
                                return FALSE;
                        }
                        if (!mount->id && g_str_equal(dir, mount->path)) {
                                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                            "the view directory %s is where volume %s is mounted",
                                            dir, mount->volume_name);
                                return FALSE;
                        }
                }
                g_hash_table_iter_init(&iter, self->configs);
                while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&other)) {
                        g_autofree char *gmt = NULL;
                        g_autofree char *names = NULL;

                        if (g_str_equal(other->uuid, config->uuid) || !other->views)
                                continue;
                        gmt = zuma_mount_config_view_dir(other, ZUMA_MOUNT_VIEW_GMT,
                                                         self->default_template);
                        names = zuma_mount_config_view_dir(other, ZUMA_MOUNT_VIEW_NAMES,
                                                           self->default_template);
                        if (g_str_equal(dir, gmt) || g_str_equal(dir, names)) {
                                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                            "the view directory %s is volume %s's already", dir,
                                            other->volume_name);
                                return FALSE;
                        }
                }
        }
        return TRUE;
}
