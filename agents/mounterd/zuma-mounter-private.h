/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaMounter's shared state: zuma-mounter.c (the bus, configurations,
 * following the server) over zuma-mount-follow.c (what is mounted where,
 * made to match what the configurations ask) and zuma-mounter-release.c
 * (Release, for the server).
 */
#pragma once

#include <sys/types.h>

#include "zuma-hotplug.h"
#include "zuma-mount-config.h"
#include "zuma-mounter-generated.h"
#include "zuma-mounter.h"
#include "zuma-method-table.h"
#include "zuma-server-client.h"

/* How long a released snapshot (or volume) is kept unmounted when the
 * server neither deleted nor stopped it. */
#define ZUMA_MOUNT_HOLD_MS 60000
/* Release's default and longest retry of a busy mount. */
#define ZUMA_MOUNT_RELEASE_DEFAULT_MS 5000
#define ZUMA_MOUNT_RELEASE_MAX_MS 300000
#define ZUMA_MOUNT_RETRY_MS 100
/* A mount that was busy when it had to go is tried again after this. */
#define ZUMA_MOUNT_BUSY_RETRY_MS 2000

/* A mount the mounter made (or found made as it would have made it). */
typedef struct {
        char *path;
        char *uuid;
        char *volume_name;
        guint32 id; /* 0: the origin */
        char *snapshot_name;
        char *device;
        char *fstype;
        char *options; /* as people read them */
        gboolean created_dir;
} ZumaMount;

struct ZumaMounter {
        GDBusConnection *connection;
        ZumaAuth *auth;
        char *state_dir;
        char *configs_dir;
        char *default_template;
        GDBusObjectManagerServer *objects;
        ZumaMountObjectSkeleton *manager_object;
        ZumaMountManager *manager_iface;
        ZumaMethodBinding *manager_binding;
        GHashTable *configs; /* uuid -> ZumaMountConfig */
        GHashTable *mounts;  /* path -> ZumaMount */
        GHashTable
                *holds; /* "UUID/ID", or "UUID/ALL" for a volume -> gint64 (monotonic µs expiry) */
        GHashTable *attached;  /* "UUID/ID" the mounter attached */
        GHashTable *warned;    /* path -> the last problem logged about it */
        GHashTable *view_dirs; /* view directory -> ZumaViewDir (zuma-mount-views.h) */
        GPtrArray *volumes;    /* of ZumaServerVolume, the last listing (or NULL) */
        GList *releases;       /* pending Release calls */
        ZumaHotplug *hotplug;  /* NULL when udev cannot be listened to */
        guint server_watch;
        guint signal_subscription;
        guint reconcile_idle;
        guint retry_timer;
        gboolean shutting_down;
};

/* "UUID/ID"; "UUID/ALL" (id ZUMA_MOUNT_WHOLE_VOLUME) for the whole volume. */
char *zuma_mount_key(const char *uuid, guint32 id);
#define ZUMA_MOUNT_WHOLE_VOLUME G_MAXUINT32

void zuma_mount_free(ZumaMount *mount);

/* Lists the server's volumes and makes the mounts match the
 * configurations; FALSE (logged) when the server cannot be asked. */
gboolean zuma_mounter_reconcile(ZumaMounter *self);
void zuma_mounter_reconcile_soon(ZumaMounter *self);
/* The server detached the origin of the volume at volume_path: a hold of
 * the origin (a revert) is done, even when the origin is attached again
 * before the next listing sees it detached. */
void zuma_mounter_origin_detached(ZumaMounter *self, const char *volume_path);
/* The volume at volume_path stopped: every hold of it is done. */
void zuma_mounter_volume_stopped(ZumaMounter *self, const char *volume_path);
/* Unmounts the mounts of volume uuid (every one with id
 * ZUMA_MOUNT_WHOLE_VOLUME); the first busy one in *error (Busy), the
 * others tried all the same. */
gboolean zuma_mounter_unmount_volume(ZumaMounter *self, const char *uuid, guint32 id,
                                     GError **error);
/* Logs a problem with path once, until it changes or path goes from
 * self->warned. */
void zuma_mounter_warn_once(ZumaMounter *self, const char *path, const char *message);
/* zuma-mounter-release.c.  Release: unmounts and holds them (ids: 0 the
 * origin; empty: the whole volume), answering invocation when done. */
void zuma_mounter_release(ZumaMounter *self, GDBusMethodInvocation *invocation, const char *uuid,
                          GArray *ids, guint timeout_ms);
void zuma_mounter_cancel_releases(ZumaMounter *self);
/* The default template, or config's. */
const char *zuma_mounter_template(ZumaMounter *self, const ZumaMountConfig *config);
