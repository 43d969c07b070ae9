/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedulerd"

#include "zuma-schedule-run.h"

#include "zuma-limits.h"
#include "zuma-schedule-calendar.h"
#include "zuma-schedule-name.h"
#include "zuma-schedule-plan.h"
#include "zuma-schedule-prune.h"

typedef struct {
        ZumaScheduleEntry *entry;
} CommandReport;

static void on_command_failed(const char *which, const char *message, gpointer user_data)
{
        CommandReport *report = user_data;

        zuma_sched_schedule_emit_command_failed(report->entry->iface, report->entry->uuid, which,
                                                message);
}

static GArray *taken_instants(const ZumaScheduleEntry *entry, const ZumaServerVolume *volume)
{
        GArray *taken = g_array_new(FALSE, FALSE, sizeof(gint64));

        for (guint i = 0; i < volume->snapshots->len; i++) {
                const ZumaServerSnapshot *snapshot = g_ptr_array_index(volume->snapshots, i);
                gint64 instant;

                if (zuma_schedule_name_parse(volume->name, snapshot->name, NULL, &instant))
                        g_array_append_val(taken, instant);
        }
        return taken;
}

/* Verdicts on every snapshot of volume (n = its snapshot count). */
static ZumaPruneVerdict *judge(const ZumaScheduleEntry *entry, const ZumaServerVolume *volume,
                               gint64 now)
{
        guint n = volume->snapshots->len;
        g_autofree ZumaPruneSnapshot *snapshots = g_new0(ZumaPruneSnapshot, MAX(n, 1));
        ZumaPruneVerdict *verdicts = g_new0(ZumaPruneVerdict, MAX(n, 1));

        for (guint i = 0; i < n; i++) {
                const ZumaServerSnapshot *snapshot = g_ptr_array_index(volume->snapshots, i);

                snapshots[i].name = snapshot->name;
                snapshots[i].creation_time = (gint64)snapshot->creation_time;
                snapshots[i].pinned = snapshot->pinned;
        }
        zuma_schedule_prune(entry->schedule, volume->name, now, snapshots, n, verdicts);
        return verdicts;
}

gint64 zuma_schedule_newest_instant(const ZumaScheduleEntry *entry, const ZumaServerVolume *volume,
                                    gint64 now)
{
        g_autofree ZumaPruneVerdict *verdicts = judge(entry, volume, now);
        gint64 newest = ZUMA_SCHEDULE_NEVER;

        for (guint i = 0; i < volume->snapshots->len; i++) {
                if (verdicts[i].action == ZUMA_PRUNE_KEEP)
                        newest = MAX(newest, verdicts[i].instant);
        }
        return newest;
}

static void delete_snapshots(const ZumaScheduleRunner *runner, const ZumaServerVolume *volume,
                             GPtrArray *names)
{
        for (guint start = 0; start < names->len; start += ZUMA_MAX_DELETE_NAMES) {
                guint count = MIN(names->len - start, ZUMA_MAX_DELETE_NAMES);
                g_autoptr(GPtrArray) batch = g_ptr_array_new();
                g_autoptr(GError) error = NULL;

                for (guint i = 0; i < count; i++)
                        g_ptr_array_add(batch, g_ptr_array_index(names, start + i));
                g_ptr_array_add(batch, NULL);
                if (zuma_server_delete_snapshots(runner->connection, volume,
                                                 (const char *const *)batch->pdata, &error))
                        continue;
                /* One open snapshot fails the whole batch: the rest still go. */
                g_warning("%s: deleting %u expired snapshots: %s; deleting them one by one",
                          volume->name, count, error->message);
                for (guint i = 0; i < count; i++) {
                        const char *one[] = { g_ptr_array_index(names, start + i), NULL };
                        g_autoptr(GError) one_error = NULL;

                        if (!zuma_server_delete_snapshots(runner->connection, volume, one,
                                                          &one_error))
                                g_warning("%s: cannot delete %s: %s", volume->name, one[0],
                                          one_error->message);
                }
        }
}

/* Retention and priorities; fills in the kept counts and the newest. */
static void prune(const ZumaScheduleRunner *runner, ZumaScheduleEntry *entry,
                  ZumaServerVolume *volume, gint64 now, gboolean act, ZumaScheduleFigures *figures)
{
        g_autofree ZumaPruneVerdict *verdicts = judge(entry, volume, now);
        g_autoptr(GPtrArray) expired = g_ptr_array_new();

        for (guint i = 0; i < volume->snapshots->len; i++) {
                ZumaServerSnapshot *snapshot = g_ptr_array_index(volume->snapshots, i);
                const ZumaPruneVerdict *verdict = &verdicts[i];

                if (verdict->action == ZUMA_PRUNE_DELETE) {
                        g_ptr_array_add(expired, snapshot->name);
                        continue;
                }
                if (verdict->action != ZUMA_PRUNE_KEEP)
                        continue;
                for (guint c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++) {
                        if (verdict->kept_by & ZUMA_SCHEDULE_CLASS_BIT(c))
                                figures->kept[c]++;
                }
                if (!figures->newest_name || verdict->instant > figures->newest) {
                        figures->newest = verdict->instant;
                        figures->newest_name = snapshot->name;
                }
                if (act && snapshot->priority != verdict->priority) {
                        g_autoptr(GError) error = NULL;

                        if (zuma_server_set_priority(runner->connection, snapshot->path,
                                                     verdict->priority, &error))
                                snapshot->priority = verdict->priority;
                        else
                                g_warning("%s: cannot set the priority of %s: %s", volume->name,
                                          snapshot->name, error->message);
                }
        }
        if (act && expired->len) {
                g_info("%s: deleting %u expired snapshots", volume->name, expired->len);
                delete_snapshots(runner, volume, expired);
        }
}

static void save(ZumaScheduleEntry *entry)
{
        g_autoptr(GError) error = NULL;

        if (!zuma_schedule_entry_save(entry, &error))
                g_warning("%s: cannot save the schedule's state: %s", entry->volume_name,
                          error->message);
}

static void take(const ZumaScheduleRunner *runner, ZumaScheduleEntry *entry,
                 ZumaServerVolume *volume, const ZumaSchedulePlan *plan, gint64 now,
                 GString *problems)
{
        g_autofree char *name = zuma_schedule_plan_name(plan, volume->name);
        gint32 priority = zuma_schedule_class_priority(entry->schedule, plan->label);
        CommandReport report = { entry };
        ZumaSnapshotTaking how = {
                .freeze_timeout_ms = runner->freeze_timeout_ms,
                .hang_marker = runner->hang_marker,
                .command_failed = on_command_failed,
                .user_data = &report,
        };
        g_autofree char *path = NULL;
        g_autofree char *warnings = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) classes = g_ptr_array_new();

        if (!zuma_take_scheduled_snapshot(runner->connection, volume, entry->schedule, name,
                                          priority, &how, &path, &warnings, &error)) {
                g_warning("%s: cannot take %s: %s", volume->name, name, error->message);
                g_string_append_printf(problems, "%s%s: %s", problems->len ? "; " : "", name,
                                       error->message);
                zuma_sched_schedule_emit_snapshot_failed(entry->iface, entry->uuid, name,
                                                         error->message);
                entry->wake_at = now + ZUMA_SCHEDULE_RETRY_SECONDS;
                return;
        }
        if (warnings)
                g_string_append_printf(problems, "%s%s", problems->len ? "; " : "", warnings);
        g_message("%s: took %s", volume->name, name);
        entry->last_handled = plan->handled;
        save(entry);
        g_ptr_array_add(volume->snapshots, zuma_server_snapshot_new(path, name, FALSE, priority));
        for (guint c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++) {
                if (plan->classes & ZUMA_SCHEDULE_CLASS_BIT(c))
                        g_ptr_array_add(classes, (gpointer)zuma_schedule_class_name(c));
        }
        g_ptr_array_add(classes, NULL);
        zuma_sched_schedule_emit_snapshot_taken(entry->iface, entry->uuid, name,
                                                (const char *const *)classes->pdata);
}

void zuma_schedule_run(const ZumaScheduleRunner *runner, ZumaScheduleEntry *entry,
                       ZumaServerVolume *volume, gint64 now)
{
        ZumaScheduleFigures figures = { 0 };
        g_autoptr(GString) problems = g_string_new(NULL);
        g_autoptr(GArray) taken = NULL;
        ZumaSchedulePlan plan;
        gboolean running;

        entry->wake_at = zuma_schedule_next_instant(entry->schedule, now);
        if (!volume) {
                figures.next = entry->wake_at;
                figures.error = "zuma-snapshotd has no volume with this UUID";
                zuma_schedule_entry_show(entry, &figures, now);
                return;
        }
        if (!g_str_equal(entry->volume_name, volume->name)) {
                g_free(entry->volume_name);
                entry->volume_name = g_strdup(volume->name);
                save(entry);
        }
        running = g_str_equal(volume->state, "running");
        taken = taken_instants(entry, volume);
        zuma_schedule_plan(entry->schedule, entry->last_handled, now, (const gint64 *)taken->data,
                           taken->len, &plan);
        entry->wake_at = plan.next;
        if (plan.due && running) {
                take(runner, entry, volume, &plan, now, problems);
        } else if (plan.due) {
                g_string_append_printf(problems,
                                       "the volume is %s: the snapshot due waits until it runs",
                                       volume->state);
        } else if (plan.handled != entry->last_handled) {
                entry->last_handled = plan.handled;
                save(entry);
        }
        prune(runner, entry, volume, now, running, &figures);
        figures.next = MIN(plan.next, entry->wake_at);
        entry->wake_at = figures.next;
        figures.error = problems->len ? problems->str : NULL;
        zuma_schedule_entry_show(entry, &figures, now);
}
