/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Release: the mounter's half of the delete handshake (docs/bus-api.md,
 * "Deleting a mounted snapshot"; the server's half is
 * agents/snapshotd/zuma-mount-release.c).
 *
 * The snapshots named (0: the origin; none: the whole volume) are held,
 * so a reconcile leaves them out (zuma-mount-follow.c), and their mounts
 * are unmounted, never lazily, a busy one retried every 100 ms until the
 * caller's timeout.  Then the answer: success, with the hold kept until
 * the server deleted them, detached the origin or stopped the volume (a
 * reconcile drops holds of what is gone) or 60 s passed; or Busy naming
 * the mount, the hold dropped and the mounts put back.  The server waits
 * for the answer without blocking (an asynchronous call), so the
 * mounter's calls to the server meanwhile are answered.
 */
#define G_LOG_DOMAIN "zuma-mounterd"

#include "zuma-error.h"
#include "zuma-mounter-private.h"
#include "zuma-reply.h"

typedef struct {
        ZumaMounter *mounter;
        GDBusMethodInvocation *invocation;
        char *uuid;
        GArray *ids; /* empty: the whole volume */
        GPtrArray *held_keys;
        gint64 deadline;
        guint timer;
} Release;

static void release_free(Release *release)
{
        if (release->timer)
                g_source_remove(release->timer);
        g_clear_object(&release->invocation);
        g_free(release->uuid);
        g_array_unref(release->ids);
        g_ptr_array_unref(release->held_keys);
        g_free(release);
}

static void release_end(Release *release, const GError *error)
{
        ZumaMounter *self = release->mounter;

        if (error) {
                for (guint i = 0; i < release->held_keys->len; i++)
                        g_hash_table_remove(self->holds, g_ptr_array_index(release->held_keys, i));
                zuma_reply_gerror(release->invocation, error);
                zuma_mounter_reconcile_soon(self);
        } else {
                g_dbus_method_invocation_return_value(release->invocation, g_variant_new("()"));
        }
        g_clear_object(&release->invocation);
        self->releases = g_list_remove(self->releases, release);
        release_free(release);
}

/* One attempt; TRUE when nothing of the release is mounted any more. */
static gboolean release_try(Release *release, GError **error)
{
        ZumaMounter *self = release->mounter;
        gboolean ok = TRUE;

        if (release->ids->len == 0)
                return zuma_mounter_unmount_volume(self, release->uuid, ZUMA_MOUNT_WHOLE_VOLUME,
                                                   error);
        for (guint i = 0; i < release->ids->len; i++) {
                g_autoptr(GError) local = NULL;

                if (!zuma_mounter_unmount_volume(self, release->uuid,
                                                 g_array_index(release->ids, guint32, i), &local)) {
                        if (ok)
                                g_propagate_error(error, g_steal_pointer(&local));
                        ok = FALSE;
                }
        }
        return ok;
}

static gboolean on_release_retry(gpointer user_data)
{
        Release *release = user_data;
        g_autoptr(GError) error = NULL;

        if (release_try(release, &error)) {
                release->timer = 0;
                g_message("released %s after waiting", release->uuid);
                release_end(release, NULL);
                return G_SOURCE_REMOVE;
        }
        if (g_get_monotonic_time() < release->deadline &&
            g_error_matches(error, ZUMA_ERROR, ZUMA_ERROR_BUSY))
                return G_SOURCE_CONTINUE;
        release->timer = 0;
        g_message("cannot release: %s", error->message);
        release_end(release, error);
        return G_SOURCE_REMOVE;
}

static void hold(ZumaMounter *self, Release *release, guint32 id)
{
        gint64 *expiry = g_new(gint64, 1);
        char *key = zuma_mount_key(release->uuid, id);

        *expiry = g_get_monotonic_time() + (gint64)ZUMA_MOUNT_HOLD_MS * 1000 +
                  (release->deadline - g_get_monotonic_time());
        g_hash_table_insert(self->holds, key, expiry);
        g_ptr_array_add(release->held_keys, g_strdup(key));
}

void zuma_mounter_release(ZumaMounter *self, GDBusMethodInvocation *invocation, const char *uuid,
                          GArray *ids, guint timeout_ms)
{
        Release *release = g_new0(Release, 1);
        g_autoptr(GError) error = NULL;

        release->mounter = self;
        release->invocation = invocation;
        release->uuid = g_strdup(uuid);
        release->ids = g_array_ref(ids);
        release->held_keys = g_ptr_array_new_with_free_func(g_free);
        release->deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
        self->releases = g_list_prepend(self->releases, release);
        if (ids->len == 0)
                hold(self, release, ZUMA_MOUNT_WHOLE_VOLUME);
        for (guint i = 0; i < ids->len; i++)
                hold(self, release, g_array_index(ids, guint32, i));
        if (release_try(release, &error)) {
                release_end(release, NULL);
                return;
        }
        if (!g_error_matches(error, ZUMA_ERROR, ZUMA_ERROR_BUSY) || timeout_ms == 0) {
                release_end(release, error);
                return;
        }
        g_message("%s; waiting up to %u ms", error->message, timeout_ms);
        release->timer = g_timeout_add(ZUMA_MOUNT_RETRY_MS, on_release_retry, release);
}

void zuma_mounter_cancel_releases(ZumaMounter *self)
{
        while (self->releases) {
                g_autoptr(GError) error = g_error_new_literal(ZUMA_ERROR, ZUMA_ERROR_CANCELLED,
                                                              "zuma-mounterd is stopping");

                release_end(self->releases->data, error);
        }
}
