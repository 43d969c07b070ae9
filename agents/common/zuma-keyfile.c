/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-keyfile"

#include "zuma-keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zuma-error.h"

static gboolean fail_errno(GError **error, int e, const char *what, const char *path)
{
        zuma_error_set_errno(error, -e, "cannot %s %s: %s", what, path, g_strerror(e));
        return FALSE;
}

gboolean zuma_sync_directory(const char *dir, GError **error)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int e;

        if (fd < 0)
                return fail_errno(error, errno, "open", dir);
        if (fsync(fd) < 0) {
                e = errno;
                close(fd);
                return fail_errno(error, e, "flush", dir);
        }
        close(fd);
        return TRUE;
}

static gboolean write_all(int fd, const char *data, gsize len)
{
        while (len > 0) {
                ssize_t n = write(fd, data, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return FALSE;
                data += n;
                len -= (gsize)n;
        }
        return TRUE;
}

gboolean zuma_file_save_durable(const char *path, const void *data, gsize len, int mode,
                                GError **error)
{
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *base = g_path_get_basename(path);
        g_autofree char *temp = NULL;
        int fd, e;

        if (g_mkdir_with_parents(dir, 0755) < 0)
                return fail_errno(error, errno, "create", dir);
        /* A dot file: daemons load *.conf and the like, never ".*". */
        temp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
        fd = g_mkstemp_full(temp, O_RDWR | O_CLOEXEC, mode);
        if (fd < 0)
                return fail_errno(error, errno, "create a temporary file in", dir);
        if (fchmod(fd, (mode_t)mode) < 0 || !write_all(fd, data, len) || fsync(fd) < 0) {
                e = errno ? errno : EIO;
                close(fd);
                g_unlink(temp);
                return fail_errno(error, e, "write", temp);
        }
        if (close(fd) < 0) {
                e = errno;
                g_unlink(temp);
                return fail_errno(error, e, "write", temp);
        }
        if (g_rename(temp, path) < 0) {
                e = errno;
                g_unlink(temp);
                return fail_errno(error, e, "replace", path);
        }
        return zuma_sync_directory(dir, error);
}

gboolean zuma_keyfile_save(GKeyFile *key_file, const char *path, int mode, GError **error)
{
        gsize len = 0;
        g_autofree char *data = g_key_file_to_data(key_file, &len, NULL);

        return zuma_file_save_durable(path, data, len, mode, error);
}

gboolean zuma_file_remove_durable(const char *path, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(path);

        if (g_unlink(path) < 0) {
                if (errno == ENOENT)
                        return TRUE;
                return fail_errno(error, errno, "remove", path);
        }
        return zuma_sync_directory(dir, error);
}
