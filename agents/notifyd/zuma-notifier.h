/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaNotifier: what zuma-notifyd does.  It follows the system-bus agents
 * through their object managers (busapi's generated clients):
 *
 *   org.zumastor.Zumastor1 (zuma-snapshotd), every Volume object:
 *     SnapshotCreated            -> "snapshot-taken", coalesced per volume
 *     SnapshotDeleted store-full -> "snapshot-deleted", coalesced per volume
 *     UsageThreshold             -> "usage", with the forecast read from
 *                                   the volume's StoreFullInSeconds (none
 *                                   when the server has no such property)
 *     Failed                     -> "failure"
 *     Stopped, reason other than requested/failed/shutdown -> "failure"
 *                                   (Failed already told of "failed")
 *     the name lost while volumes ran (a crash) -> "failure"
 *   org.zumastor.Scheduler1 (zuma-schedulerd), every Schedule object:
 *     Overdue becoming true      -> "missed" (once until it is false again;
 *                                   remembered across the scheduler's
 *                                   restarts, so a restart does not repeat it)
 *     SnapshotFailed             -> "missed" (once until a SnapshotTaken of
 *                                   that volume: it is retried every minute)
 *     CommandFailed              -> "command"
 *   org.zumastor.Send1 (zuma-sendd), every Target object:
 *     Finished                   -> "replication", coalesced per target
 *                                   (a target replicated every 5 minutes
 *                                   updates one notification at most once
 *                                   per [coalesce] window)
 *     Failed                     -> "replication-failure" (once until a
 *                                   Finished of that target: the sender
 *                                   retries, each retry failing alike)
 *   org.zumastor.Recv1 (zuma-recvd), every Source object:
 *     Received                   -> "replication", coalesced per replica
 *     Failed                     -> "replication-failure" (once until a
 *                                   Received of that replica)
 *   A target or source forgotten forgets its failure; one whose agent
 *   restarts does not (the retry after the restart is told no more than
 *   the retries before it).
 *
 * Scheduled snapshots are counted from the server's SnapshotCreated, like
 * every other snapshot, not from the scheduler's SnapshotTaken (which would
 * count them twice).  An object manager client follows its name's owner:
 * when an agent restarts, its objects are read again and its signals come
 * through as before; the names are also watched (g_bus_watch_name) to
 * notice a server that left with volumes running.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-notify-config.h"

G_BEGIN_DECLS

typedef struct ZumaNotifier ZumaNotifier;

/* Follows the agents on system, posts on session. */
ZumaNotifier *zuma_notifier_new(GDBusConnection *system, GDBusConnection *session,
                                const ZumaNotifyConfig *config, GError **error);
void zuma_notifier_free(ZumaNotifier *self);

/* "zuma-snapshotd on the bus (2 volumes running), zuma-schedulerd away, ...",
 * for STATUS=. */
char *zuma_notifier_describe(ZumaNotifier *self);

G_END_DECLS
