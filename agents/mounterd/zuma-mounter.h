/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaMounter: zuma-mounterd's state and its bus side (the Manager of
 * org.zumastor.Mounter1, dbus/org.zumastor.Mounter1.Manager.xml).
 */
#pragma once

#include <gio/gio.h>

#include "zuma-auth.h"

G_BEGIN_DECLS

typedef struct ZumaMounter ZumaMounter;

typedef struct {
        GDBusConnection *connection;
        ZumaAuth *auth;
        const char *state_dir;
        /* Where snapshots go when a configuration names no template. */
        const char *default_template;
} ZumaMounterSetup;

ZumaMounter *zuma_mounter_new(const ZumaMounterSetup *setup);
/* Reads the configurations, exports the Manager, follows the server. */
gboolean zuma_mounter_load(ZumaMounter *self, GError **error);
/* "3 mounts of 2 volumes", for STATUS=. */
char *zuma_mounter_describe(ZumaMounter *self);
/* Unmounts what the mounter mounted (busy mounts stay, logged). */
void zuma_mounter_shutdown(ZumaMounter *self);
void zuma_mounter_free(ZumaMounter *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaMounter, zuma_mounter_free)

G_END_DECLS
