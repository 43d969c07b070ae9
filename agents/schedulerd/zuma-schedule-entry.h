/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One volume's schedule inside zuma-schedulerd: the schedule, the last
 * instant handled, its state file, and its bus object.
 *
 * State file STATE_DIR/schedules/UUID.conf (agents/common/zuma-keyfile.h:
 * the old file or the new one after a crash, never a torn one), saved
 * when the schedule is defined and after each instant is handled:
 *
 *   [Schedule]    the schedule (zuma-schedule.h's key file form)
 *   [State]
 *   VolumeName=vol      the name last seen (for messages and lookups)
 *   LastHandled=1765029600   the last instant handled, absent: none yet
 *
 * The object is ROOT/schedules/UUID (escaped), with the Schedule
 * interface; its properties are refreshed by zuma_schedule_entry_show().
 */
#pragma once

#include <gio/gio.h>

#include "zuma-method-table.h"
#include "zuma-schedule-health.h"
#include "zuma-schedule.h"
#include "zuma-scheduler-generated.h"

G_BEGIN_DECLS

typedef struct {
        char *uuid;
        char *volume_name;
        ZumaSchedule *schedule;
        gint64 last_handled; /* ZUMA_SCHEDULE_NEVER: none */
        gint64 wake_at;      /* when to look again */
        char *state_path;
        ZumaSchedSchedule *iface;
        ZumaSchedObjectSkeleton *object;
        ZumaMethodBinding *binding; /* the Schedule interface's methods */
} ZumaScheduleEntry;

ZumaScheduleEntry *zuma_schedule_entry_new(const char *state_dir, const char *uuid,
                                           const char *volume_name, const ZumaSchedule *schedule);
void zuma_schedule_entry_free(ZumaScheduleEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaScheduleEntry, zuma_schedule_entry_free)

/* The state file of uuid under state_dir. */
char *zuma_schedule_entry_state_path(const char *state_dir, const char *uuid);

/* Reads the state file path (named UUID.conf). */
ZumaScheduleEntry *zuma_schedule_entry_load(const char *state_dir, const char *path,
                                            GError **error);

gboolean zuma_schedule_entry_save(ZumaScheduleEntry *entry, GError **error);

/* The object path of the entry's object. */
const char *zuma_schedule_entry_path(ZumaScheduleEntry *entry);

/* The figures shown as properties, from one look at the volume. */
typedef struct {
        const char *newest_name; /* NULL: no scheduled snapshot */
        gint64 newest;           /* its instant */
        guint kept[ZUMA_SCHEDULE_N_CLASSES];
        gint64 next;
        const char *error; /* NULL: none */
} ZumaScheduleFigures;

void zuma_schedule_entry_show(ZumaScheduleEntry *entry, const ZumaScheduleFigures *figures,
                              gint64 now);

G_END_DECLS
