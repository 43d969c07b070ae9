/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Coalescing: many events of one kind about one volume (snapshots taken,
 * snapshots auto-deleted) make one notification, updated in place, not one
 * notification each.  A day of hourly snapshots is one notification that
 * ends up saying "24 snapshots of vol taken since 00:00, the newest
 * vol-hourly-2026-12-06-23:00".
 *
 * A batch is the events under one key ("taken/VOL", "sent/TARGET-PATH")
 * and the one
 * notification that shows them (its id from the notification server, given
 * back as replaces_id so the server updates it instead of adding one):
 *
 *   - The first event of a batch is posted at once: the user learns of a
 *     first snapshot without waiting.
 *   - A later event is posted at once too if the window (config
 *     [coalesce] window, default 1 h) has passed since the batch was last
 *     posted; otherwise it is held and the batch is posted, as one update
 *     counting everything held, when the window ends (the daemon's flush
 *     timer, at zuma_coalescer_next_due()).  So a notification changes at
 *     most once per window, and a burst of snapshots is one update.
 *   - A batch counts events for at most [coalesce] batch (default 1 d)
 *     from its first; the first event after that (with nothing held)
 *     starts a new batch, which is a new notification.
 *
 * Times are passed in (monotonic and wall-clock microseconds), so the
 * logic is tested without clocks or a bus (tests/notifyd/).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
        char *key;
        char *volume;
        char *newest; /* the newest event's snapshot name */
        guint count;  /* events in this batch */
        /* Transfers (replication) only, else NULL and 0: */
        char *peer;          /* the newest event's target or sending peer */
        guint64 bytes;       /* the newest event's bytes on the wire */
        gdouble seconds;     /* the newest event's duration; < 0: not known */
        guint64 bytes_total; /* bytes of all the batch's events */
        gint64 started;      /* monotonic µs of the first event */
        gint64 started_wall; /* wall-clock µs of the first event */
        gint64 last_post;    /* monotonic µs of the last post; 0: never */
        gboolean held;       /* events since the last post */
        guint32 id;          /* the notification's id; 0: none yet */
        guint generation;    /* which batch under this key (new notification) */
} ZumaBatch;

typedef struct ZumaCoalescer ZumaCoalescer;

/* window and batch in seconds (ZumaNotifyConfig). */
ZumaCoalescer *zuma_coalescer_new(gint64 window_seconds, gint64 batch_seconds);
void zuma_coalescer_free(ZumaCoalescer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaCoalescer, zuma_coalescer_free)

/* Counts one event.  TRUE: post the batch now (then
 * zuma_coalescer_posted()); FALSE: it is held until
 * zuma_coalescer_next_due().  The batch stays the coalescer's. */
gboolean zuma_coalescer_add(ZumaCoalescer *self, const char *key, const char *volume,
                            const char *name, gint64 now, gint64 now_wall, ZumaBatch **ret_batch);

/* The same for a transfer (a replication finished or received): peer,
 * bytes and seconds (< 0: not known) kept as the newest event's. */
gboolean zuma_coalescer_add_transfer(ZumaCoalescer *self, const char *key, const char *volume,
                                     const char *name, const char *peer, guint64 bytes,
                                     gdouble seconds, gint64 now, gint64 now_wall,
                                     ZumaBatch **ret_batch);

/* The batch was posted (now): its held events are shown. */
void zuma_coalescer_posted(ZumaCoalescer *self, ZumaBatch *batch, gint64 now);

/* When the earliest held batch is due (monotonic µs), -1 when none is. */
gint64 zuma_coalescer_next_due(ZumaCoalescer *self);

/* The held batches due at now, to post (and mark posted); the array holds
 * the coalescer's batches, free it with g_ptr_array_unref(). */
GPtrArray *zuma_coalescer_take_due(ZumaCoalescer *self, gint64 now);

/* The notification server answered a post of key's batch generation with
 * id; ignored when the batch moved on to another generation since. */
void zuma_coalescer_set_id(ZumaCoalescer *self, const char *key, guint generation, guint32 id);

/* The notification server went away: no id stays valid. */
void zuma_coalescer_forget_ids(ZumaCoalescer *self);

G_END_DECLS
