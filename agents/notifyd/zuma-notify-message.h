/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What each event says: summary, body and urgency of its notification.
 * Pure functions of the event's facts (no bus, no clock), tested in
 * tests/notifyd/.  Urgency follows severity (the hint "urgency" of the
 * Desktop Notifications Specification):
 *
 *   low       snapshots taken; store usage back below a threshold;
 *             snapshots replicated to a target or received from a peer
 *   normal    snapshots auto-deleted because the store filled; store
 *             usage above 80%
 *   critical  store usage above 90% or more; a volume failed or stopped
 *             unexpectedly (the snapshot server left the bus with volumes
 *             running); a scheduled snapshot missed or failed; a pre or
 *             post command failed; a replication to a target failed;
 *             receiving a replica failed
 *
 * Sizes are g_format_size()'s: decimal units ("12.3 MB"), the number and
 * the unit joined by a no-break space, in the user's locale.
 */
#pragma once

#include <glib.h>

#include "zuma-notify-coalesce.h"

G_BEGIN_DECLS

typedef enum {
        ZUMA_URGENCY_LOW = 0,
        ZUMA_URGENCY_NORMAL = 1,
        ZUMA_URGENCY_CRITICAL = 2,
} ZumaUrgency;

typedef struct {
        char *summary;
        char *body;
        ZumaUrgency urgency;
} ZumaMessage;

void zuma_message_free(ZumaMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaMessage, zuma_message_free)

/* Usage at or above this percent is critical. */
#define ZUMA_USAGE_CRITICAL_PERCENT 90

/* A batch of snapshots taken; now_wall (µs) decides how "since" reads:
 * "14:00" the same local day, "Sun 14:00" before. */
ZumaMessage *zuma_message_taken(const ZumaBatch *batch, gint64 now_wall);
/* A batch of snapshots auto-deleted because the store filled. */
ZumaMessage *zuma_message_autodeleted(const ZumaBatch *batch, gint64 now_wall);
/* UsageThreshold; full_in_seconds from StoreFullInSeconds (-1: none). */
ZumaMessage *zuma_message_usage(const char *volume, guint percent, gboolean rising,
                                gint64 full_in_seconds);
ZumaMessage *zuma_message_failed(const char *volume, const char *message);
/* Stopped with a reason other than "requested", "failed", "shutdown". */
ZumaMessage *zuma_message_stopped(const char *volume, const char *reason);
/* The snapshot server left the bus while volumes (NULL-terminated) ran. */
ZumaMessage *zuma_message_server_gone(const char *const *volumes);
/* The schedule's Overdue became true. */
ZumaMessage *zuma_message_missed(const char *volume, gint64 newest_age, const char *last_error);
/* Scheduler1.Schedule.SnapshotFailed. */
ZumaMessage *zuma_message_snapshot_failed(const char *volume, const char *name,
                                          const char *message);
/* Scheduler1.Schedule.CommandFailed; which is "pre" or "post". */
ZumaMessage *zuma_message_command_failed(const char *volume, const char *which,
                                         const char *message);

/* A batch of Send1.Target.Finished of one target (batch->peer: the
 * target's name; bytes and seconds of the newest run). */
ZumaMessage *zuma_message_replicated(const ZumaBatch *batch, gint64 now_wall);
/* Send1.Target.Failed; message is the target's new LastError. */
ZumaMessage *zuma_message_replication_failed(const char *volume, const char *target,
                                             const char *message);
/* A batch of Recv1.Source.Received of one replica (batch->peer: the
 * sender's address, "" when not known). */
ZumaMessage *zuma_message_received(const ZumaBatch *batch, gint64 now_wall);
/* Recv1.Source.Failed. */
ZumaMessage *zuma_message_receive_failed(const char *volume, const char *message);

G_END_DECLS
