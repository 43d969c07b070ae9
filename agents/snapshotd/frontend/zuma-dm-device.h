/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Device-mapper devices by name, through dmsetup(8): the few table
 * operations the kernel frontend needs.  Each runs dmsetup under
 * timeout(1), so a device-mapper or udev that never answers fails the
 * call (ZUMA_ERROR_TIMED_OUT) instead of freezing the server; dmsetup's
 * own message becomes the error's.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Whether the kernel has device-mapper (its control node exists). */
gboolean zuma_dm_present(void);

/* Creates and resumes device name with one table line; read-only loads
 * the table read-only.  *ret_device: its node, "/dev/dm-N". */
gboolean zuma_dm_create(const char *name, const char *uuid, const char *table, gboolean read_only,
                        guint timeout_ms, char **ret_device, GError **error);

/* Loads a new table into device name and resumes it (dm suspends it for
 * the switch, waiting for the I/O in flight); *ret_device (may be NULL)
 * as zuma_dm_create()'s. */
gboolean zuma_dm_reload(const char *name, const char *table, gboolean read_only, guint timeout_ms,
                        char **ret_device, GError **error);

/* Removes device name.  Without force an open device fails
 * (ZUMA_ERROR_BUSY); with force its table is replaced by one that fails
 * every I/O and the device goes when its last user closes it.  A device
 * that does not exist is removed already. */
gboolean zuma_dm_remove(const char *name, gboolean force, guint timeout_ms, GError **error);

/* Every device whose dm uuid starts with prefix: their names. */
GStrv zuma_dm_list_by_uuid_prefix(const char *prefix, guint timeout_ms, GError **error);

G_END_DECLS
