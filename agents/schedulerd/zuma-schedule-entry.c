/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedulerd"

#include "zuma-schedule-entry.h"

#include "zuma-error.h"
#include "zuma-keyfile.h"
#include "zuma-names.h"
#include "zuma-schedule-calendar.h"

#define GROUP_SCHEDULE "Schedule"
#define GROUP_STATE "State"
#define KEY_VOLUME_NAME "VolumeName"
#define KEY_LAST_HANDLED "LastHandled"

char *zuma_schedule_entry_state_path(const char *state_dir, const char *uuid)
{
        g_autofree char *file = g_strconcat(uuid, ".conf", NULL);

        return g_build_filename(state_dir, "schedules", file, NULL);
}

ZumaScheduleEntry *zuma_schedule_entry_new(const char *state_dir, const char *uuid,
                                           const char *volume_name, const ZumaSchedule *schedule)
{
        ZumaScheduleEntry *entry = g_new0(ZumaScheduleEntry, 1);
        g_autofree char *escaped = g_dbus_escape_object_path(uuid);
        g_autofree char *path =
                g_strconcat(ZUMA_SCHEDULERD_OBJECT_ROOT "/schedules/", escaped, NULL);
        g_autoptr(GVariant) schedule_options =
                g_variant_ref_sink(zuma_schedule_to_options(schedule));

        entry->uuid = g_strdup(uuid);
        entry->volume_name = g_strdup(volume_name);
        entry->schedule = zuma_schedule_copy(schedule);
        entry->last_handled = ZUMA_SCHEDULE_NEVER;
        entry->wake_at = 0;
        entry->state_path = zuma_schedule_entry_state_path(state_dir, uuid);
        entry->iface = zuma_sched_schedule_skeleton_new();
        entry->object = zuma_sched_object_skeleton_new(path);
        zuma_sched_object_skeleton_set_schedule(entry->object, entry->iface);
        zuma_sched_schedule_set_volume_uuid(entry->iface, uuid);
        zuma_sched_schedule_set_volume_name(entry->iface, volume_name);
        zuma_sched_schedule_set_schedule(entry->iface, schedule_options);
        zuma_sched_schedule_set_newest_age(entry->iface, -1);
        zuma_sched_schedule_set_health(entry->iface, "CRITICAL");
        zuma_sched_schedule_set_kept(entry->iface, g_variant_new("a{su}", NULL));
        return entry;
}

void zuma_schedule_entry_free(ZumaScheduleEntry *entry)
{
        if (!entry)
                return;
        g_free(entry->uuid);
        g_free(entry->volume_name);
        zuma_schedule_free(entry->schedule);
        g_free(entry->state_path);
        g_clear_pointer(&entry->binding, zuma_method_binding_free);
        g_clear_object(&entry->iface);
        g_clear_object(&entry->object);
        g_free(entry);
}

ZumaScheduleEntry *zuma_schedule_entry_load(const char *state_dir, const char *path, GError **error)
{
        g_autoptr(GKeyFile) key_file = g_key_file_new();
        g_autoptr(ZumaSchedule) schedule = NULL;
        g_autofree char *base = g_path_get_basename(path);
        g_autofree char *volume_name = NULL;
        g_autofree char *uuid = NULL;
        ZumaScheduleEntry *entry;

        if (!g_str_has_suffix(base, ".conf")) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s: not a schedule file", path);
                return NULL;
        }
        uuid = g_strndup(base, strlen(base) - strlen(".conf"));
        if (!g_uuid_string_is_valid(uuid)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s: not named after a volume UUID", path);
                return NULL;
        }
        if (!g_key_file_load_from_file(key_file, path, G_KEY_FILE_NONE, error))
                return NULL;
        schedule = zuma_schedule_from_keyfile(key_file, GROUP_SCHEDULE, error);
        if (!schedule)
                return NULL;
        volume_name = g_key_file_get_string(key_file, GROUP_STATE, KEY_VOLUME_NAME, NULL);
        entry = zuma_schedule_entry_new(state_dir, uuid, volume_name ? volume_name : "", schedule);
        if (g_key_file_has_key(key_file, GROUP_STATE, KEY_LAST_HANDLED, NULL)) {
                GError *local = NULL;
                gint64 last = g_key_file_get_int64(key_file, GROUP_STATE, KEY_LAST_HANDLED, &local);

                if (local) {
                        g_warning("%s: %s: %s; planning as if none was handled", path,
                                  KEY_LAST_HANDLED, local->message);
                        g_error_free(local);
                } else {
                        entry->last_handled = last;
                }
        }
        return entry;
}

gboolean zuma_schedule_entry_save(ZumaScheduleEntry *entry, GError **error)
{
        g_autoptr(GKeyFile) key_file = g_key_file_new();

        zuma_schedule_to_keyfile(entry->schedule, key_file, GROUP_SCHEDULE);
        g_key_file_set_string(key_file, GROUP_STATE, KEY_VOLUME_NAME, entry->volume_name);
        if (entry->last_handled != ZUMA_SCHEDULE_NEVER)
                g_key_file_set_int64(key_file, GROUP_STATE, KEY_LAST_HANDLED, entry->last_handled);
        return zuma_keyfile_save(key_file, entry->state_path, 0644, error);
}

const char *zuma_schedule_entry_path(ZumaScheduleEntry *entry)
{
        return g_dbus_object_get_object_path(G_DBUS_OBJECT(entry->object));
}

void zuma_schedule_entry_show(ZumaScheduleEntry *entry, const ZumaScheduleFigures *figures,
                              gint64 now)
{
        ZumaScheduleHealth health;
        GVariantBuilder kept;

        zuma_schedule_health(entry->schedule,
                             figures->newest_name ? figures->newest : ZUMA_SCHEDULE_NEVER, now, 0,
                             &health);
        g_variant_builder_init(&kept, G_VARIANT_TYPE("a{su}"));
        for (guint c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++) {
                if (zuma_schedule_has_class(entry->schedule, c))
                        g_variant_builder_add(&kept, "{su}", zuma_schedule_class_name(c),
                                              figures->kept[c]);
        }
        zuma_sched_schedule_set_volume_name(entry->iface, entry->volume_name);
        zuma_sched_schedule_set_kept(entry->iface, g_variant_builder_end(&kept));
        zuma_sched_schedule_set_next_snapshot(entry->iface, (guint64)MAX(figures->next, 0));
        zuma_sched_schedule_set_last_snapshot(entry->iface,
                                              figures->newest_name ? figures->newest_name : "");
        zuma_sched_schedule_set_last_snapshot_time(
                entry->iface, figures->newest_name ? (guint64)MAX(figures->newest, 0) : 0);
        zuma_sched_schedule_set_newest_age(entry->iface, health.has_snapshot ? health.age : -1);
        zuma_sched_schedule_set_overdue(entry->iface, health.overdue);
        zuma_sched_schedule_set_health(entry->iface, zuma_health_status_name(health.status));
        zuma_sched_schedule_set_last_error(entry->iface, figures->error ? figures->error : "");
}
