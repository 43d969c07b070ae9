/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The frontend interface for a build without a data frontend (no fuse3):
 * the server then runs with --frontend=none only, and zuma_frontend_new()
 * says why.  The other functions are never reached without a frontend.
 */
#define G_LOG_DOMAIN "zuma-frontend"

#include "zuma-frontend.h"

#include "zuma-error.h"

static gboolean not_built(GError **error)
{
        g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED,
                            "this zuma-snapshotd was built without a data frontend");
        return FALSE;
}

ZumaFrontend *zuma_frontend_new(const char *run_dir, GError **error)
{
        not_built(error);
        return NULL;
}

ZumaFrontend *zuma_frontend_new_kernel(const char *run_dir, GError **error)
{
        not_built(error);
        return NULL;
}

gboolean zuma_frontend_kernel_available(GError **error)
{
        return not_built(error);
}

void zuma_frontend_set_timeout(ZumaFrontend *frontend, guint timeout_ms)
{
}

void zuma_frontend_free(ZumaFrontend *frontend)
{
}

gboolean zuma_frontend_add_volume(ZumaFrontend *frontend, const char *volume,
                                  const char *volume_uuid, ZumaEngine *engine, GError **error)
{
        return not_built(error);
}

gboolean zuma_frontend_remove_volume(ZumaFrontend *frontend, const char *volume, GError **error)
{
        return TRUE;
}

gboolean zuma_frontend_attach(ZumaFrontend *frontend, const char *volume, guint32 id,
                              const char *snapshot_name, gboolean writable, char **ret_device,
                              GError **error)
{
        return not_built(error);
}

gboolean zuma_frontend_is_busy(ZumaFrontend *frontend, const char *volume, guint32 id)
{
        return FALSE;
}

gboolean zuma_frontend_detach(ZumaFrontend *frontend, const char *volume, guint32 id,
                              gboolean force, GError **error)
{
        return TRUE;
}

gboolean zuma_frontend_update(ZumaFrontend *frontend, const char *volume, guint32 id,
                              const char *snapshot_name, gboolean writable, GError **error)
{
        return TRUE;
}

gboolean zuma_frontend_set_size(ZumaFrontend *frontend, const char *volume, guint32 id,
                                guint64 size, GError **error)
{
        return TRUE;
}
