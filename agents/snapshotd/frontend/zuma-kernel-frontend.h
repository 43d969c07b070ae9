/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel data frontend: the `zumastor` device-mapper target
 * (zuma-kernel-frontend.c says how it works).
 * Each function is the one of zuma-frontend.h with the same name after
 * "zuma_frontend_", with the same contract; zuma-frontend.c chooses.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-engine.h"

G_BEGIN_DECLS

typedef struct KernelFrontend KernelFrontend;

/* Whether this host can run it: device-mapper and the dm-zumastor module
 * (loaded with modprobe if it is not); *error says what is missing. */
gboolean kernel_frontend_available(GError **error);
KernelFrontend *kernel_frontend_new(const char *run_dir, GError **error);
void kernel_frontend_set_timeout(KernelFrontend *frontend, guint timeout_ms);
void kernel_frontend_free(KernelFrontend *frontend);
gboolean kernel_frontend_add_volume(KernelFrontend *frontend, const char *volume,
                                    const char *volume_uuid, ZumaEngine *engine, GError **error);
gboolean kernel_frontend_remove_volume(KernelFrontend *frontend, const char *volume,
                                       GError **error);
gboolean kernel_frontend_attach(KernelFrontend *frontend, const char *volume, guint32 id,
                                const char *snapshot_name, gboolean writable, char **ret_device,
                                GError **error);
gboolean kernel_frontend_is_busy(KernelFrontend *frontend, const char *volume, guint32 id);
gboolean kernel_frontend_detach(KernelFrontend *frontend, const char *volume, guint32 id,
                                gboolean force, GError **error);
gboolean kernel_frontend_set_size(KernelFrontend *frontend, const char *volume, guint32 id,
                                  guint64 size, GError **error);
gboolean kernel_frontend_update(KernelFrontend *frontend, const char *volume, guint32 id,
                                const char *snapshot_name, gboolean writable, GError **error);

G_END_DECLS
