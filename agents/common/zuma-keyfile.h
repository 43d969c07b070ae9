/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Durable state files.  A daemon's state (volume definitions, schedules,
 * replication peers) must be the old file or the new one after a power
 * cut, never a torn or empty one, and a save that returned must survive:
 *
 *   1. write the new contents to a temporary file in the same directory
 *      (same file system, so the rename is atomic), mode as asked;
 *   2. fsync it: the data is on disk before any name points at it;
 *   3. rename it over the old name: readers see old or new, never half;
 *   4. fsync the directory: the rename itself is on disk.
 *
 * Removal is unlink then the directory's fsync, for the same reason.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Saves len bytes of data as path (creating its directory, 0755). */
gboolean zuma_file_save_durable(const char *path, const void *data, gsize len, int mode,
                                GError **error);

/* Saves key_file as path. */
gboolean zuma_keyfile_save(GKeyFile *key_file, const char *path, int mode, GError **error);

/* Removes path (not there: done) and makes the removal durable. */
gboolean zuma_file_remove_durable(const char *path, GError **error);

/* fsync of a directory, so renames and unlinks in it are on disk. */
gboolean zuma_sync_directory(const char *dir, GError **error);

G_END_DECLS
