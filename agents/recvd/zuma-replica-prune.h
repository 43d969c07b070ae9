/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Retention on a replica: after a stream brought in snapshot `newest`,
 * which snapshots the target deletes by its own counts per class (the
 * "keep" of the sender's target definition, e.g. {"hourly": 24,
 * "daily": 7}).
 *
 * Only snapshots named as scheduled ones of the source volume
 * (zuma-schedule-name.h: VOLUME-CLASS-YYYY-MM-DD-HH:MM) count; for each
 * class in keep, all but its `count` newest (by the instant in the name)
 * go.  A class keep does not name keeps everything; hand-taken snapshots
 * are never touched; and `newest`, the base of the next incremental
 * stream, is never deleted, whatever the counts (keep 0 included).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* names: the replica's snapshot names (n of them); keep: an a{su}.
 * Returns the names to delete (NULL-terminated, possibly empty). */
char **zuma_replica_prune(const char *source_volume, const char *const *names, guint n,
                          GVariant *keep, const char *newest);

G_END_DECLS
