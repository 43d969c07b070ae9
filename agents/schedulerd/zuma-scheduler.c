/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedulerd"

#include "zuma-scheduler.h"

#include "zuma-config.h"
#include "zuma-duration.h"
#include "zuma-error.h"
#include "zuma-keyfile.h"
#include "zuma-method-table.h"
#include "zuma-names.h"
#include "zuma-options.h"
#include "zuma-schedule-calendar.h"
#include "zuma-schedule-entry.h"
#include "zuma-schedule-run.h"
#include "zuma-scheduler-clock.h"
#include "zuma-scheduler-generated.h"
#include "zuma-utc.h"

#define MANAGER_PATH ZUMA_SCHEDULERD_OBJECT_ROOT "/Manager"
#define SCHEDULER_KEY "zuma-scheduler"
#define ENTRY_KEY "zuma-schedule-entry"

struct ZumaScheduler {
        GDBusConnection *connection;
        ZumaAuth *auth;
        char *state_dir;
        char *hang_marker;
        ZumaScheduleRunner runner;
        ZumaSchedulerClock *clock;
        GDBusObjectManagerServer *objects;
        ZumaSchedObjectSkeleton *manager_object;
        ZumaSchedManager *manager_iface;
        ZumaSchedTestClock *clock_iface;
        ZumaMethodBinding *manager_binding;
        ZumaMethodBinding *clock_binding;
        GHashTable *entries; /* uuid -> ZumaScheduleEntry */
        guint server_watch;
        guint started_subscription;
        guint replan_idle;
};

/* --- looking at the schedules --- */

static void plan_all(ZumaScheduler *self)
{
        gint64 now = zuma_scheduler_clock_now(self->clock);
        g_autoptr(GPtrArray) volumes = NULL;
        g_autoptr(GError) error = NULL;
        gint64 wake_at = ZUMA_UTC_MAX;
        GHashTableIter iter;
        ZumaScheduleEntry *entry;

        if (g_hash_table_size(self->entries) > 0) {
                volumes = zuma_server_list_volumes(self->connection, &error);
                if (!volumes)
                        g_message("cannot list volumes: %s; waiting for zuma-snapshotd",
                                  error->message);
        }
        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry)) {
                if (volumes)
                        zuma_schedule_run(&self->runner, entry,
                                          zuma_server_find_volume(volumes, entry->uuid, FALSE),
                                          now);
                else {
                        /* The rest of what it shows stays as last seen. */
                        zuma_sched_schedule_set_last_error(entry->iface, error->message);
                        entry->wake_at = zuma_schedule_next_instant(entry->schedule, now);
                }
                wake_at = MIN(wake_at, entry->wake_at);
        }
        zuma_scheduler_clock_wake_at(self->clock, wake_at);
}

static gboolean on_replan_idle(gpointer user_data)
{
        ZumaScheduler *self = user_data;

        self->replan_idle = 0;
        plan_all(self);
        return G_SOURCE_REMOVE;
}

static void replan_soon(ZumaScheduler *self)
{
        if (!self->replan_idle)
                self->replan_idle = g_idle_add(on_replan_idle, self);
}

static void on_clock(gboolean clock_set, gpointer user_data)
{
        plan_all(user_data);
}

static void on_server_appeared(GDBusConnection *connection, const char *name, const char *owner,
                               gpointer user_data)
{
        g_message("zuma-snapshotd is on the bus (%s): planning", owner);
        replan_soon(user_data);
}

static void on_server_vanished(GDBusConnection *connection, const char *name, gpointer user_data)
{
        g_message("zuma-snapshotd is not on the bus");
}

static void on_volume_started(GDBusConnection *connection, const char *sender, const char *path,
                              const char *interface, const char *member, GVariant *params,
                              gpointer user_data)
{
        replan_soon(user_data);
}

/* --- finding schedules --- */

static ZumaScheduleEntry *find_entry(ZumaScheduler *self, const char *volume)
{
        GHashTableIter iter;
        ZumaScheduleEntry *entry = g_hash_table_lookup(self->entries, volume);

        if (entry)
                return entry;
        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry)) {
                if (g_str_equal(entry->volume_name, volume))
                        return entry;
        }
        return NULL;
}

static ZumaScheduleEntry *find_entry_or_fail(ZumaScheduler *self, const char *volume,
                                             GError **error)
{
        ZumaScheduleEntry *entry;
        g_autofree char *quoted = NULL;

        if (!zuma_server_check_volume_argument(volume, error))
                return NULL;
        entry = find_entry(self, volume);
        if (entry)
                return entry;
        quoted = zuma_quote(volume);
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "volume %s has no schedule", quoted);
        return NULL;
}

/* --- the Schedule objects --- */

static gboolean schedule_check_alive(gpointer object, GError **error)
{
        if (g_object_get_data(object, ENTRY_KEY))
                return TRUE;
        g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "the schedule was forgotten");
        return FALSE;
}

static GVariant *check_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaScheduleEntry *entry = g_object_get_data(object, ENTRY_KEY);
        ZumaScheduler *self = g_object_get_data(object, SCHEDULER_KEY);
        g_autofree char *max_age_text = NULL;
        g_autoptr(GPtrArray) volumes = NULL;
        g_autofree char *line = NULL;
        ZumaServerVolume *volume;
        ZumaScheduleHealth health;
        gint64 max_age = 0;
        gint64 now;

        if (!zuma_options_parse(call->options, error, "max_age", "s", &max_age_text, NULL))
                return NULL;
        if (max_age_text &&
            !zuma_duration_parse("max_age", max_age_text, 1, ZUMA_UTC_MAX, &max_age, error))
                return NULL;
        volumes = zuma_server_list_volumes(self->connection, error);
        if (!volumes)
                return NULL;
        volume = zuma_server_find_volume(volumes, entry->uuid, FALSE);
        if (!volume) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING,
                            "zuma-snapshotd has no volume %s (%s)", entry->volume_name,
                            entry->uuid);
                return NULL;
        }
        now = zuma_scheduler_clock_now(self->clock);
        zuma_schedule_health(entry->schedule, zuma_schedule_newest_instant(entry, volume, now), now,
                             max_age, &health);
        line = zuma_schedule_health_line(&health, volume->name);
        return g_variant_new("(us)", (guint32)health.status, line);
}

static const ZumaMethod schedule_methods[] = {
        { "Check", NULL, check_method },
};

static const ZumaMethodTable schedule_table = {
        zuma_sched_schedule_interface_info,
        schedule_methods,
        G_N_ELEMENTS(schedule_methods),
        schedule_check_alive,
};

static void export_entry(ZumaScheduler *self, ZumaScheduleEntry *entry)
{
        g_object_set_data(G_OBJECT(entry->iface), ENTRY_KEY, entry);
        g_object_set_data(G_OBJECT(entry->iface), SCHEDULER_KEY, self);
        entry->binding =
                zuma_method_table_bind(&schedule_table, G_DBUS_INTERFACE_SKELETON(entry->iface),
                                       self->auth, G_OBJECT(entry->iface));
        g_hash_table_insert(self->entries, entry->uuid, entry);
        g_dbus_object_manager_server_export(self->objects, G_DBUS_OBJECT_SKELETON(entry->object));
}

static void unexport_entry(ZumaScheduler *self, ZumaScheduleEntry *entry)
{
        g_object_set_data(G_OBJECT(entry->iface), ENTRY_KEY, NULL);
        g_dbus_object_manager_server_unexport(self->objects, zuma_schedule_entry_path(entry));
        g_hash_table_remove(self->entries, entry->uuid);
}

/* --- the Manager --- */

static gboolean check_scheduler_alive(gpointer object, GError **error)
{
        return TRUE;
}

static GVariant *define_schedule_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaScheduler *self = g_object_get_data(object, SCHEDULER_KEY);
        const char *volume;
        g_autoptr(GVariant) schedule_options = NULL;
        g_autoptr(ZumaSchedule) schedule = NULL;
        g_autofree char *uuid = NULL;
        g_autofree char *name = NULL;
        ZumaScheduleEntry *entry;

        g_variant_get_child(call->params, 0, "&s", &volume);
        schedule_options = g_variant_get_child_value(call->params, 1);
        if (!zuma_options_parse(call->options, error, NULL) ||
            !zuma_server_check_volume_argument(volume, error))
                return NULL;
        schedule = zuma_schedule_from_options(schedule_options, error);
        if (!schedule || !zuma_server_resolve_volume(self->connection, volume, &uuid, &name, error))
                return NULL;

        entry = g_hash_table_lookup(self->entries, uuid);
        if (entry && zuma_schedule_equal(entry->schedule, schedule))
                return g_variant_new("(o)", zuma_schedule_entry_path(entry));
        if (entry) {
                g_autoptr(ZumaSchedule) old = entry->schedule;

                entry->schedule = g_steal_pointer(&schedule);
                if (!zuma_schedule_entry_save(entry, error)) {
                        schedule = entry->schedule;
                        entry->schedule = g_steal_pointer(&old);
                        return NULL;
                }
                zuma_sched_schedule_set_schedule(entry->iface,
                                                 zuma_schedule_to_options(entry->schedule));
                g_message("%s: schedule replaced", name);
        } else {
                g_autoptr(ZumaScheduleEntry) created =
                        zuma_schedule_entry_new(self->state_dir, uuid, name, schedule);

                if (!zuma_schedule_entry_save(created, error))
                        return NULL;
                entry = g_steal_pointer(&created);
                export_entry(self, entry);
                g_message("%s: schedule defined", name);
        }
        plan_all(self);
        return g_variant_new("(o)", zuma_schedule_entry_path(entry));
}

static GVariant *forget_schedule_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaScheduler *self = g_object_get_data(object, SCHEDULER_KEY);
        const char *volume;
        ZumaScheduleEntry *entry;

        g_variant_get_child(call->params, 0, "&s", &volume);
        if (!zuma_options_parse(call->options, error, NULL))
                return NULL;
        entry = find_entry_or_fail(self, volume, error);
        if (!entry || !zuma_file_remove_durable(entry->state_path, error))
                return NULL;
        g_message("%s: schedule forgotten", entry->volume_name);
        unexport_entry(self, entry);
        plan_all(self);
        return g_variant_new("()");
}

static GVariant *find_schedule_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaScheduler *self = g_object_get_data(object, SCHEDULER_KEY);
        const char *volume;
        ZumaScheduleEntry *entry;

        g_variant_get_child(call->params, 0, "&s", &volume);
        if (!zuma_options_parse(call->options, error, NULL))
                return NULL;
        entry = find_entry_or_fail(self, volume, error);
        if (!entry)
                return NULL;
        return g_variant_new("(o)", zuma_schedule_entry_path(entry));
}

static const ZumaMethod manager_methods[] = {
        { "DefineSchedule", "define schedules", define_schedule_method },
        { "ForgetSchedule", "forget schedules", forget_schedule_method },
        { "FindSchedule", NULL, find_schedule_method },
};

static const ZumaMethodTable manager_table = {
        zuma_sched_manager_interface_info,
        manager_methods,
        G_N_ELEMENTS(manager_methods),
        check_scheduler_alive,
};

/* --- the test clock --- */

static gboolean move_test_clock(ZumaScheduler *self, gint64 t, GError **error)
{
        if (!zuma_utc_in_range(t)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "time %" G_GINT64_FORMAT " is outside 1970..9999", t);
                return FALSE;
        }
        zuma_scheduler_clock_set_test_time(self->clock, t);
        zuma_sched_test_clock_set_now(self->clock_iface, t);
        plan_all(self);
        return TRUE;
}

static GVariant *set_time_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaScheduler *self = g_object_get_data(object, SCHEDULER_KEY);
        gint64 t;

        g_variant_get_child(call->params, 0, "x", &t);
        if (!zuma_options_parse(call->options, error, NULL) || !move_test_clock(self, t, error))
                return NULL;
        return g_variant_new("()");
}

static GVariant *advance_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaScheduler *self = g_object_get_data(object, SCHEDULER_KEY);
        gint64 seconds;
        gint64 now = zuma_scheduler_clock_now(self->clock);

        g_variant_get_child(call->params, 0, "x", &seconds);
        if (!zuma_options_parse(call->options, error, NULL))
                return NULL;
        if (seconds > ZUMA_UTC_MAX || seconds < -ZUMA_UTC_MAX) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "cannot move the clock by %" G_GINT64_FORMAT " s", seconds);
                return NULL;
        }
        if (!move_test_clock(self, now + seconds, error))
                return NULL;
        return g_variant_new("()");
}

static const ZumaMethod clock_methods[] = {
        { "SetTime", "set the test clock", set_time_method },
        { "Advance", "set the test clock", advance_method },
};

static const ZumaMethodTable clock_table = {
        zuma_sched_test_clock_interface_info,
        clock_methods,
        G_N_ELEMENTS(clock_methods),
        check_scheduler_alive,
};

/* --- life --- */

ZumaScheduler *zuma_scheduler_new(const ZumaSchedulerSetup *setup, GError **error)
{
        g_autoptr(ZumaScheduler) self = g_new0(ZumaScheduler, 1);

        self->connection = g_object_ref(setup->connection);
        self->auth = setup->auth ? g_object_ref(setup->auth) : NULL;
        self->state_dir = g_strdup(setup->state_dir);
        self->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                              (GDestroyNotify)zuma_schedule_entry_free);
        if (setup->test_hang_after_freeze)
                self->hang_marker = g_build_filename(setup->run_dir, "frozen", NULL);
        self->runner.connection = self->connection;
        self->runner.freeze_timeout_ms = setup->freeze_timeout_ms;
        self->runner.hang_marker = self->hang_marker;
        if (setup->test_clock) {
                self->clock = zuma_scheduler_clock_new_test(setup->test_clock_start);
        } else {
                self->clock = zuma_scheduler_clock_new_real(on_clock, self, error);
                if (!self->clock)
                        return NULL;
        }
        return g_steal_pointer(&self);
}

static gboolean load_schedules(ZumaScheduler *self, GError **error)
{
        g_autofree char *dir_path = g_build_filename(self->state_dir, "schedules", NULL);
        g_autoptr(GDir) dir = NULL;
        g_autoptr(GError) local = NULL;
        const char *file;

        dir = g_dir_open(dir_path, 0, &local);
        if (!dir) {
                if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        return TRUE;
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        while ((file = g_dir_read_name(dir))) {
                g_autofree char *path = g_build_filename(dir_path, file, NULL);
                g_autoptr(GError) entry_error = NULL;
                ZumaScheduleEntry *entry;

                if (!g_str_has_suffix(file, ".conf"))
                        continue;
                entry = zuma_schedule_entry_load(self->state_dir, path, &entry_error);
                if (!entry) {
                        /* One damaged file must not stop the other schedules. */
                        g_warning("%s: %s: skipped", path, entry_error->message);
                        continue;
                }
                export_entry(self, entry);
                g_message("%s: schedule loaded",
                          entry->volume_name[0] ? entry->volume_name : entry->uuid);
        }
        return TRUE;
}

gboolean zuma_scheduler_load(ZumaScheduler *self, GError **error)
{
        self->objects = g_dbus_object_manager_server_new(ZUMA_SCHEDULERD_OBJECT_ROOT);
        self->manager_object = zuma_sched_object_skeleton_new(MANAGER_PATH);
        self->manager_iface = zuma_sched_manager_skeleton_new();
        zuma_sched_manager_set_version(self->manager_iface, ZUMA_VERSION);
        zuma_sched_object_skeleton_set_manager(self->manager_object, self->manager_iface);
        g_object_set_data(G_OBJECT(self->manager_iface), SCHEDULER_KEY, self);
        self->manager_binding = zuma_method_table_bind(
                &manager_table, G_DBUS_INTERFACE_SKELETON(self->manager_iface), self->auth,
                G_OBJECT(self->manager_iface));
        if (zuma_scheduler_clock_is_test(self->clock)) {
                self->clock_iface = zuma_sched_test_clock_skeleton_new();
                zuma_sched_test_clock_set_now(self->clock_iface,
                                              zuma_scheduler_clock_now(self->clock));
                zuma_sched_object_skeleton_set_test_clock(self->manager_object, self->clock_iface);
                g_object_set_data(G_OBJECT(self->clock_iface), SCHEDULER_KEY, self);
                self->clock_binding = zuma_method_table_bind(
                        &clock_table, G_DBUS_INTERFACE_SKELETON(self->clock_iface), self->auth,
                        G_OBJECT(self->clock_iface));
                g_message("test clock at %" G_GINT64_FORMAT ": the real clock is not read",
                          zuma_scheduler_clock_now(self->clock));
        }
        if (!load_schedules(self, error))
                return FALSE;
        g_dbus_object_manager_server_export(self->objects,
                                            G_DBUS_OBJECT_SKELETON(self->manager_object));
        g_dbus_object_manager_server_set_connection(self->objects, self->connection);

        self->started_subscription = g_dbus_connection_signal_subscribe(
                self->connection, ZUMA_SNAPSHOTD_BUS_NAME, ZUMA_INTERFACE_VOLUME, "Started", NULL,
                NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_volume_started, self, NULL);
        self->server_watch = g_bus_watch_name_on_connection(
                self->connection, ZUMA_SNAPSHOTD_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                on_server_appeared, on_server_vanished, self, NULL);
        replan_soon(self);
        return TRUE;
}

char *zuma_scheduler_describe(ZumaScheduler *self)
{
        guint n = g_hash_table_size(self->entries);

        return g_strdup_printf("%u schedule%s", n, n == 1 ? "" : "s");
}

void zuma_scheduler_free(ZumaScheduler *self)
{
        GHashTableIter iter;
        ZumaScheduleEntry *entry;

        if (!self)
                return;
        if (self->replan_idle)
                g_source_remove(self->replan_idle);
        if (self->server_watch)
                g_bus_unwatch_name(self->server_watch);
        if (self->started_subscription)
                g_dbus_connection_signal_unsubscribe(self->connection, self->started_subscription);
        if (self->entries) {
                g_hash_table_iter_init(&iter, self->entries);
                while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry))
                        g_object_set_data(G_OBJECT(entry->iface), ENTRY_KEY, NULL);
                g_hash_table_destroy(self->entries);
        }
        g_clear_pointer(&self->manager_binding, zuma_method_binding_free);
        g_clear_pointer(&self->clock_binding, zuma_method_binding_free);
        g_clear_object(&self->objects);
        g_clear_object(&self->manager_object);
        g_clear_object(&self->manager_iface);
        g_clear_object(&self->clock_iface);
        zuma_scheduler_clock_free(self->clock);
        g_clear_object(&self->auth);
        g_clear_object(&self->connection);
        g_free(self->state_dir);
        g_free(self->hang_marker);
        g_free(self);
}
