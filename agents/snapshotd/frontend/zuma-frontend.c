/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-frontend.h's functions: each hands the call to the frontend the
 * server started, the FUSE one (zuma-fuse-frontend.c) or the kernel one
 * (zuma-kernel-frontend.c).
 */
#define G_LOG_DOMAIN "zuma-frontend"

#include "zuma-frontend.h"

#include "zuma-fuse-frontend.h"
#include "zuma-kernel-frontend.h"

struct ZumaFrontend {
        FuseFrontend *fuse; /* one of the two */
        KernelFrontend *kernel;
};

#define DISPATCH(f, call, ...) \
        ((f)->kernel ? kernel_frontend_##call((f)->kernel, __VA_ARGS__) \
                     : fuse_frontend_##call((f)->fuse, __VA_ARGS__))

ZumaFrontend *zuma_frontend_new(const char *run_dir, GError **error)
{
        FuseFrontend *fuse = fuse_frontend_new(run_dir, error);
        ZumaFrontend *frontend;

        if (!fuse)
                return NULL;
        frontend = g_new0(ZumaFrontend, 1);
        frontend->fuse = fuse;
        return frontend;
}

ZumaFrontend *zuma_frontend_new_kernel(const char *run_dir, GError **error)
{
        KernelFrontend *kernel = kernel_frontend_new(run_dir, error);
        ZumaFrontend *frontend;

        if (!kernel)
                return NULL;
        frontend = g_new0(ZumaFrontend, 1);
        frontend->kernel = kernel;
        return frontend;
}

gboolean zuma_frontend_kernel_available(GError **error)
{
        return kernel_frontend_available(error);
}

void zuma_frontend_set_timeout(ZumaFrontend *frontend, guint timeout_ms)
{
        DISPATCH(frontend, set_timeout, timeout_ms);
}

void zuma_frontend_free(ZumaFrontend *frontend)
{
        if (frontend->kernel)
                kernel_frontend_free(frontend->kernel);
        else
                fuse_frontend_free(frontend->fuse);
        g_free(frontend);
}

gboolean zuma_frontend_add_volume(ZumaFrontend *frontend, const char *volume,
                                  const char *volume_uuid, ZumaEngine *engine, GError **error)
{
        return DISPATCH(frontend, add_volume, volume, volume_uuid, engine, error);
}

gboolean zuma_frontend_remove_volume(ZumaFrontend *frontend, const char *volume, GError **error)
{
        return DISPATCH(frontend, remove_volume, volume, error);
}

gboolean zuma_frontend_attach(ZumaFrontend *frontend, const char *volume, guint32 id,
                              const char *snapshot_name, gboolean writable, char **ret_device,
                              GError **error)
{
        return DISPATCH(frontend, attach, volume, id, snapshot_name, writable, ret_device, error);
}

gboolean zuma_frontend_is_busy(ZumaFrontend *frontend, const char *volume, guint32 id)
{
        return DISPATCH(frontend, is_busy, volume, id);
}

gboolean zuma_frontend_detach(ZumaFrontend *frontend, const char *volume, guint32 id,
                              gboolean force, GError **error)
{
        return DISPATCH(frontend, detach, volume, id, force, error);
}

gboolean zuma_frontend_set_size(ZumaFrontend *frontend, const char *volume, guint32 id,
                                guint64 size, GError **error)
{
        return DISPATCH(frontend, set_size, volume, id, size, error);
}

gboolean zuma_frontend_update(ZumaFrontend *frontend, const char *volume, guint32 id,
                              const char *snapshot_name, gboolean writable, GError **error)
{
        return DISPATCH(frontend, update, volume, id, snapshot_name, writable, error);
}
