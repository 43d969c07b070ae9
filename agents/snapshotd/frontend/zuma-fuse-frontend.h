/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The FUSE + loop-device data frontend (zuma-fuse-frontend.c says how it
 * works).
 * Each function is the one of zuma-frontend.h with the same name after
 * "zuma_frontend_", with the same contract; zuma-frontend.c chooses.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-engine.h"

G_BEGIN_DECLS

typedef struct FuseFrontend FuseFrontend;

FuseFrontend *fuse_frontend_new(const char *run_dir, GError **error);
void fuse_frontend_set_timeout(FuseFrontend *frontend, guint timeout_ms);
void fuse_frontend_free(FuseFrontend *frontend);
gboolean fuse_frontend_add_volume(FuseFrontend *frontend, const char *volume,
                                  const char *volume_uuid, ZumaEngine *engine, GError **error);
gboolean fuse_frontend_remove_volume(FuseFrontend *frontend, const char *volume, GError **error);
gboolean fuse_frontend_attach(FuseFrontend *frontend, const char *volume, guint32 id,
                              const char *snapshot_name, gboolean writable, char **ret_device,
                              GError **error);
gboolean fuse_frontend_is_busy(FuseFrontend *frontend, const char *volume, guint32 id);
gboolean fuse_frontend_detach(FuseFrontend *frontend, const char *volume, guint32 id,
                              gboolean force, GError **error);
gboolean fuse_frontend_set_size(FuseFrontend *frontend, const char *volume, guint32 id,
                                guint64 size, GError **error);
gboolean fuse_frontend_update(FuseFrontend *frontend, const char *volume, guint32 id,
                              const char *snapshot_name, gboolean writable, GError **error);

G_END_DECLS
