/* SPDX-License-Identifier: GPL-2.0-only */
#include "zuma-send-plan.h"

#include "zuma-error.h"

static gboolean older(const ZumaPlanSnapshot *a, const ZumaPlanSnapshot *b)
{
        return a->ctime < b->ctime || (a->ctime == b->ctime && a->id < b->id);
}

/* 1: the target holds name at ctime; -1: it holds name at another time;
 * 0: not at all. */
static int remote_holds(GVariant *remote, const char *name, gint64 ctime)
{
        GVariantIter iter;
        const char *remote_name;
        gint64 remote_ctime;

        g_variant_iter_init(&iter, remote);
        while (g_variant_iter_next(&iter, "(&sx)", &remote_name, &remote_ctime)) {
                if (g_str_equal(remote_name, name))
                        return remote_ctime == ctime ? 1 : -1;
        }
        return 0;
}

gboolean zuma_send_plan(const ZumaPlanSnapshot *local, guint n_local, GVariant *remote,
                        const char *wanted, ZumaSendPlan *ret_plan, GError **error)
{
        const ZumaPlanSnapshot *to = NULL, *from = NULL;
        int held;

        for (guint i = 0; i < n_local; i++) {
                if (wanted ? g_str_equal(local[i].name, wanted) : !to || older(to, &local[i]))
                        to = &local[i];
        }
        if (!to) {
                if (wanted)
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                                    "the volume has no snapshot %s", wanted);
                else
                        g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                                            "the volume has no snapshot to replicate");
                return FALSE;
        }
        *ret_plan = (ZumaSendPlan){ .to = to->name, .to_ctime = to->ctime, .from = "" };
        held = remote_holds(remote, to->name, to->ctime);
        if (held < 0) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ALREADY_EXISTS,
                            "the target holds another snapshot named %s (other creation time)",
                            to->name);
                return FALSE;
        }
        if (held > 0) {
                ret_plan->up_to_date = TRUE;
                return TRUE;
        }
        for (guint i = 0; i < n_local; i++) {
                if (older(&local[i], to) && (!from || older(from, &local[i])) &&
                    remote_holds(remote, local[i].name, local[i].ctime) > 0)
                        from = &local[i];
        }
        if (from) {
                ret_plan->from = from->name;
                ret_plan->from_ctime = from->ctime;
        }
        return TRUE;
}
