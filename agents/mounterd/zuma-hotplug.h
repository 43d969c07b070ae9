/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaHotplug: zuma-mounterd starts and stops volumes as their devices
 * come and go (zuma-hotplug.c says how and why here).
 */
#pragma once

#include <gio/gio.h>

#include "zuma-mounter-generated.h"

G_BEGIN_DECLS

typedef struct ZumaHotplug ZumaHotplug;

/* Watches udev and zuma-snapshotd from now on; manager is where
 * UnknownStores is shown and UnknownStoreFound emitted. */
ZumaHotplug *zuma_hotplug_new(GDBusConnection *connection, ZumaMountManager *manager,
                              GError **error);
/* "2 volumes hot-plugged, 1 unknown store", for STATUS=. */
char *zuma_hotplug_describe(ZumaHotplug *self);
void zuma_hotplug_free(ZumaHotplug *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaHotplug, zuma_hotplug_free)

G_END_DECLS
