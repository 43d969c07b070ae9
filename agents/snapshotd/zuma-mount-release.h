/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The server's half of the delete handshake with zuma-mounterd
 * (docs/bus-api.md, "Deleting a mounted snapshot").
 *
 * Before a face deletes or detaches a snapshot, or stops a volume, whose
 * device is open, it asks org.zumastor.Mounter1.Manager.Release (volume
 * UUID, snapshot ids or none for the whole volume, {timeout_ms}) and
 * defers its own answer.  The call is asynchronous: the server's main
 * loop runs on while the mounter unmounts (the mounter asks the server
 * things meanwhile).  Then:
 *
 *   - the mounter answered: the operation runs (a device a udev probe
 *     still holds for a moment is retried for up to 2 s);
 *   - it answered Busy: the operation fails Busy with the mounter's
 *     message, which names the busy mount; with force it runs all the
 *     same, as before (the device is pulled from under its user);
 *   - no mounter on the bus, or it failed otherwise: the operation runs
 *     and gives its own answer (Busy if the device is still open).
 *
 * This lives on the bus side, not in the volume core: the core knows no
 * bus (zuma-volume.c).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* How long the mounter may wait for a busy mount to be let go. */
#define ZUMA_RELEASE_TIMEOUT_MS 5000

/* The operation to run once released, on object (kept alive meanwhile):
 * the reply tuple, or NULL with error. */
typedef GVariant *(*ZumaReleasedFunc)(GObject *object, gpointer data, GError **error);

/* Asks the mounter, then runs func and answers invocation (taken).  ids:
 * snapshot ids (taken), NULL for the whole volume. */
void zuma_mount_release_then(GObject *object, GDBusMethodInvocation *invocation,
                             const char *volume_uuid, GArray *ids, gboolean force,
                             ZumaReleasedFunc func, gpointer data, GDestroyNotify free_data);

G_END_DECLS
