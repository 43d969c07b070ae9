/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-mounterd"

#include "zuma-mount-ops.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zuma-config.h"
#include "zuma-error.h"

#if ZUMA_HAVE_BLKID
#include <blkid.h>
#endif

char *zuma_mount_probe_fstype(const char *device, GError **error)
{
#if ZUMA_HAVE_BLKID
        blkid_probe probe = blkid_new_probe_from_filename(device);
        const char *type = NULL;
        char *result = NULL;
        int r;

        if (!probe) {
                int err = errno ? errno : EIO;

                zuma_error_set_errno(error, -err, "cannot probe %s: %s", device, g_strerror(err));
                return NULL;
        }
        blkid_probe_enable_superblocks(probe, 1);
        blkid_probe_set_superblocks_flags(probe, BLKID_SUBLKS_TYPE);
        r = blkid_do_safeprobe(probe);
        if (r == 0 && blkid_probe_lookup_value(probe, "TYPE", &type, NULL) == 0 && type)
                result = g_strdup(type);
        blkid_free_probe(probe);
        if (!result)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "%s holds no file system that blkid knows%s", device,
                            r == -2 ? " (it finds several: ambiguous)" : "");
        return result;
#else
        return g_strdup("");
#endif
}

/* The block file systems the kernel has (no "nodev" in /proc/filesystems). */
static GPtrArray *kernel_block_fstypes(void)
{
        GPtrArray *types = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;

        if (!g_file_get_contents("/proc/filesystems", &text, NULL, NULL))
                return types;
        lines = g_strsplit(text, "\n", -1);
        for (char **line = lines; *line; line++) {
                const char *name = g_strstrip(*line);

                if (name[0] && !g_str_has_prefix(*line, "nodev"))
                        g_ptr_array_add(types, g_strdup(name));
        }
        return types;
}

gboolean zuma_mount_device(const char *device, const char *path, const char *fstype,
                           unsigned long flags, const char *data, char **ret_fstype, GError **error)
{
        g_autoptr(GPtrArray) types = NULL;
        int err = 0;

        if (fstype[0]) {
                if (mount(device, path, fstype, flags, data[0] ? data : NULL) == 0) {
                        *ret_fstype = g_strdup(fstype);
                        return TRUE;
                }
                err = errno;
        } else {
                types = kernel_block_fstypes();
                err = ENODEV;
                for (guint i = 0; i < types->len; i++) {
                        const char *type = g_ptr_array_index(types, i);

                        if (mount(device, path, type, flags, data[0] ? data : NULL) == 0) {
                                *ret_fstype = g_strdup(type);
                                return TRUE;
                        }
                        if (errno != EINVAL && errno != ENODEV)
                                err = errno;
                }
        }
        zuma_error_set_errno(error, -err, "cannot mount %s%s%s at %s: %s", device,
                             fstype[0] ? " as " : "", fstype, path, g_strerror(err));
        return FALSE;
}

gboolean zuma_mount_unmount(const char *path, GError **error)
{
        int err;

        if (umount2(path, UMOUNT_NOFOLLOW) == 0)
                return TRUE;
        err = errno;
        if (err == EBUSY)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY, "%s is busy (a process uses it)",
                            path);
        else
                zuma_error_set_errno(error, -err, "cannot unmount %s: %s", path, g_strerror(err));
        return FALSE;
}

gboolean zuma_mount_move(const char *from, const char *to, GError **error)
{
        int err;

        if (mount(from, to, NULL, MS_MOVE, NULL) == 0)
                return TRUE;
        err = errno;
        zuma_error_set_errno(error, -err, "cannot move the mount %s to %s: %s", from, to,
                             g_strerror(err));
        return FALSE;
}

gboolean zuma_mount_dir_has_entries(const char *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);

        return dir && g_dir_read_name(dir) != NULL;
}

gboolean zuma_mount_prepare_dir(const char *path, gboolean allow_nonempty, gboolean *ret_created,
                                GError **error)
{
        struct stat st;
        int err;

        *ret_created = FALSE;
        if (lstat(path, &st) == 0) {
                if (!S_ISDIR(st.st_mode)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "the mount point %s exists and is not a directory", path);
                        return FALSE;
                }
                if (!allow_nonempty && zuma_mount_dir_has_entries(path)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ALREADY_EXISTS,
                                    "the mount point %s is a directory that is not empty (force "
                                    "mounts over it)",
                                    path);
                        return FALSE;
                }
                return TRUE;
        }
        if (errno != ENOENT) {
                err = errno;
                zuma_error_set_errno(error, -err, "cannot look at %s: %s", path, g_strerror(err));
                return FALSE;
        }
        if (g_mkdir_with_parents(path, 0755) < 0) {
                err = errno;
                zuma_error_set_errno(error, -err, "cannot create the mount point %s: %s", path,
                                     g_strerror(err));
                return FALSE;
        }
        *ret_created = TRUE;
        return TRUE;
}

void zuma_mount_remove_dir(const char *path)
{
        if (rmdir(path) < 0 && errno != ENOENT)
                g_message("left the directory %s: %s", path, g_strerror(errno));
}
