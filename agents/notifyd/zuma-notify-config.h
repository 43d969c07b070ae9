/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-notifyd's configuration: which event classes it tells the user
 * about and how it coalesces snapshot notifications.  A GKeyFile,
 * $XDG_CONFIG_HOME/zumastor/notify.conf unless --config names another:
 *
 *   [events]
 *   snapshot-taken=true      snapshots taken (coalesced)           low
 *   snapshot-deleted=true    auto-deleted because the store filled normal
 *   usage=true               store usage past 80/90/95%            normal,
 *                                                                  critical >= 90%
 *   failure=true             a volume failed or stopped unexpectedly critical
 *   missed=true              a scheduled snapshot missed or failed  critical
 *   command=true             a pre/post command failed              critical
 *   replication=true         snapshots replicated to a target or    low
 *                            received from a peer (coalesced)
 *   replication-failure=true a replication or a receive failed     critical
 *                            (once until that target or replica
 *                            succeeds again)
 *
 *   [coalesce]
 *   window=1h                at most one update of a notification per window
 *   batch=1d                 how long one notification keeps counting
 *
 * Durations as docs/schedules.md writes them (30s, 15m, 1h, 1d).  A file
 * that is missing is the defaults.  A file that cannot be read or parsed,
 * a key with a bad value, an unknown group or key: each is one problem
 * line naming the file, the group and the key, and the value in question
 * keeps its default (the rest of the file still counts).  Nothing in it
 * can stop the daemon.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
        ZUMA_NOTIFY_SNAPSHOT_TAKEN,
        ZUMA_NOTIFY_SNAPSHOT_DELETED,
        ZUMA_NOTIFY_USAGE,
        ZUMA_NOTIFY_FAILURE,
        ZUMA_NOTIFY_MISSED,
        ZUMA_NOTIFY_COMMAND,
        ZUMA_NOTIFY_REPLICATION,
        ZUMA_NOTIFY_REPLICATION_FAILURE,
        ZUMA_NOTIFY_N_CLASSES
} ZumaNotifyClass;

#define ZUMA_NOTIFY_WINDOW_DEFAULT (60 * 60)     /* seconds */
#define ZUMA_NOTIFY_BATCH_DEFAULT (24 * 60 * 60) /* seconds */
#define ZUMA_NOTIFY_WINDOW_MAX (24 * 60 * 60)
#define ZUMA_NOTIFY_BATCH_MAX (28 * 24 * 60 * 60)

typedef struct {
        gboolean enabled[ZUMA_NOTIFY_N_CLASSES];
        /* At most one update of a coalesced notification per window
         * (0: every event updates it at once). */
        gint64 window_seconds;
        /* A coalesced notification counts the events of at most this long
         * from its first; the next event starts a new notification. */
        gint64 batch_seconds;
} ZumaNotifyConfig;

/* "snapshot-taken", ... (the key in [events]). */
const char *zuma_notify_class_key(ZumaNotifyClass klass);

void zuma_notify_config_init(ZumaNotifyConfig *config);

/* $XDG_CONFIG_HOME/zumastor/notify.conf; free with g_free(). */
char *zuma_notify_config_default_path(void);

/* Reads path over config's current values (zuma_notify_config_init()
 * first).  Each problem found is appended to problems as a sentence
 * (owned by the array: make it with g_ptr_array_new_with_free_func(g_free)). */
void zuma_notify_config_load(ZumaNotifyConfig *config, const char *path, GPtrArray *problems);

/* The same from the file's text; path only names it in problems. */
void zuma_notify_config_load_data(ZumaNotifyConfig *config, const char *path, const char *data,
                                  gsize len, GPtrArray *problems);

G_END_DECLS
