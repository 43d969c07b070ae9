/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-render.h"

#include "zumactl-bus.h"

/* The D-Bus API says "" for "none"; JSON says null. */
static void json_member_optional(ZumactlJson *json, const char *key, const char *value)
{
        zumactl_json_member_string(json, key, value != NULL && value[0] != '\0' ? value : NULL);
}

static void json_member_time(ZumactlJson *json, const char *key, guint64 seconds)
{
        g_autofree char *iso_key = g_strconcat(key, "_iso8601", NULL);
        g_autofree char *iso = zumactl_format_time_iso8601(seconds);

        zumactl_json_member_uint(json, key, seconds);
        zumactl_json_member_string(json, iso_key, iso);
}

double zumactl_volume_used_percent(ZumaBusVolume *volume)
{
        guint64 size = zuma_bus_volume_get_store_size(volume);
        guint64 free_bytes = zuma_bus_volume_get_store_free_bytes(volume);

        return zumactl_percent(size > free_bytes ? size - free_bytes : 0, size);
}

guint64 zumactl_usage_get(GVariant *usage, const char *key)
{
        guint64 value = 0;

        if (usage == NULL || !g_variant_lookup(usage, key, "t", &value))
                return 0;
        return value;
}

char *zumactl_snapshot_flags(ZumaBusSnapshot *snapshot)
{
        g_autoptr(GPtrArray) flags = g_ptr_array_new_null_terminated(2, NULL, TRUE);

        if (zuma_bus_snapshot_get_pinned(snapshot))
                g_ptr_array_add(flags, (gpointer) "pinned");
        if (zuma_bus_snapshot_get_writable(snapshot))
                g_ptr_array_add(flags, (gpointer) "writable");
        return g_strjoinv(",", (char **)flags->pdata);
}

void zumactl_render_server_json(ZumactlJson *json, ZumaBusManager *manager)
{
        zumactl_json_member_string(json, "version", zuma_bus_manager_get_version(manager));
        zumactl_json_member_string(json, "frontend", zuma_bus_manager_get_frontend(manager));
        zumactl_json_member_string(json, "state_directory",
                                   zuma_bus_manager_get_state_directory(manager));
        zumactl_json_member_string(json, "run_directory",
                                   zuma_bus_manager_get_run_directory(manager));
}

void zumactl_render_volume_json(ZumactlJson *json, ZumaBusVolume *volume)
{
        zumactl_json_member_string(json, "name", zuma_bus_volume_get_name(volume));
        zumactl_json_member_string(json, "object_path", zumactl_bus_path(volume));
        json_member_optional(json, "uuid", zuma_bus_volume_get_uuid(volume));
        zumactl_json_member_string(json, "state", zuma_bus_volume_get_state(volume));
        json_member_optional(json, "last_error", zuma_bus_volume_get_last_error(volume));
        json_member_optional(json, "store_warning", zuma_bus_volume_get_store_warning(volume));
        zumactl_json_member_string(json, "origin_device",
                                   zuma_bus_volume_get_origin_device(volume));
        zumactl_json_member_string(json, "store_device", zuma_bus_volume_get_store_device(volume));
        json_member_optional(json, "device", zuma_bus_volume_get_device(volume));
        json_member_optional(json, "mount_point", zuma_bus_volume_get_mount_point(volume));
        zumactl_json_member_uint(json, "chunk_size", zuma_bus_volume_get_chunk_size(volume));
        zumactl_json_member_string(json, "full_policy", zuma_bus_volume_get_full_policy(volume));
        zumactl_json_member_uint(json, "origin_size", zuma_bus_volume_get_origin_size(volume));
        zumactl_json_member_uint(json, "store_size", zuma_bus_volume_get_store_size(volume));
        zumactl_json_member_uint(json, "store_data_bytes",
                                 zuma_bus_volume_get_store_data_bytes(volume));
        zumactl_json_member_uint(json, "store_metadata_bytes",
                                 zuma_bus_volume_get_store_metadata_bytes(volume));
        zumactl_json_member_uint(json, "store_free_bytes",
                                 zuma_bus_volume_get_store_free_bytes(volume));
        zumactl_json_member_double(json, "store_used_percent", zumactl_volume_used_percent(volume));
        zumactl_json_member_uint(json, "snapshot_count",
                                 zuma_bus_volume_get_snapshot_count(volume));
}

void zumactl_render_snapshot_json(ZumactlJson *json, ZumaBusSnapshot *snapshot,
                                  const char *volume_name)
{
        zumactl_json_member_uint(json, "id", zuma_bus_snapshot_get_id(snapshot));
        zumactl_json_member_string(json, "name", zuma_bus_snapshot_get_name(snapshot));
        zumactl_json_member_string(json, "volume", volume_name);
        zumactl_json_member_string(json, "object_path", zumactl_bus_path(snapshot));
        json_member_time(json, "creation_time", zuma_bus_snapshot_get_creation_time(snapshot));
        zumactl_json_member_int(json, "priority", zuma_bus_snapshot_get_priority(snapshot));
        zumactl_json_member_bool(json, "pinned", zuma_bus_snapshot_get_pinned(snapshot));
        zumactl_json_member_bool(json, "writable", zuma_bus_snapshot_get_writable(snapshot));
        zumactl_json_member_uint(json, "size", zuma_bus_snapshot_get_size(snapshot));
        json_member_optional(json, "device", zuma_bus_snapshot_get_device(snapshot));
}

void zumactl_render_usage_json(ZumactlJson *json, GVariant *usage)
{
        zumactl_json_member_uint(json, "exclusive_bytes",
                                 zumactl_usage_get(usage, "exclusive_bytes"));
        zumactl_json_member_uint(json, "shared_chunks", zumactl_usage_get(usage, "shared_chunks"));
        zumactl_json_member_uint(json, "private_chunks",
                                 zumactl_usage_get(usage, "private_chunks"));
}

void zumactl_render_job_json(ZumactlJson *json, ZumaBusJob *job)
{
        zumactl_json_member_string(json, "object_path", zumactl_bus_path(job));
        zumactl_json_member_string(json, "operation", zuma_bus_job_get_operation(job));
        zumactl_json_member_string(json, "volume_path", zuma_bus_job_get_volume(job));
        json_member_time(json, "start_time", zuma_bus_job_get_start_time(job));
        zumactl_json_member_uint(json, "done", zuma_bus_job_get_done(job));
        zumactl_json_member_uint(json, "total", zuma_bus_job_get_total(job));
        zumactl_json_member_double(json, "progress", zuma_bus_job_get_progress(job));
        zumactl_json_member_bool(json, "finished", zuma_bus_job_get_finished(job));
        zumactl_json_member_bool(json, "success", zuma_bus_job_get_success(job));
        json_member_optional(json, "error_name", zuma_bus_job_get_error_name(job));
        json_member_optional(json, "error_message", zuma_bus_job_get_error_message(job));
}

static void print_json(ZumactlJson *json)
{
        g_autofree char *text = zumactl_json_finish(json);

        zumactl_print(text);
}

void zumactl_print_volume_json(ZumaBusVolume *volume)
{
        g_autoptr(ZumactlJson) json = zumactl_json_new();

        zumactl_json_begin_object(json);
        zumactl_render_volume_json(json, volume);
        zumactl_json_end_object(json);
        print_json(json);
}

void zumactl_print_snapshot_json(ZumaBusSnapshot *snapshot, const char *volume_name)
{
        g_autoptr(ZumactlJson) json = zumactl_json_new();

        zumactl_json_begin_object(json);
        zumactl_render_snapshot_json(json, snapshot, volume_name);
        zumactl_json_end_object(json);
        print_json(json);
}

void zumactl_print_created_json(const char *name, const char *volume_name, const char *path)
{
        g_autoptr(ZumactlJson) json = zumactl_json_new();

        zumactl_json_begin_object(json);
        zumactl_json_member_string(json, "name", name);
        if (volume_name != NULL)
                zumactl_json_member_string(json, "volume", volume_name);
        zumactl_json_member_string(json, "object_path", path);
        zumactl_json_end_object(json);
        print_json(json);
}

void zumactl_print_job_json(ZumaBusJob *job)
{
        g_autoptr(ZumactlJson) json = zumactl_json_new();

        zumactl_json_begin_object(json);
        zumactl_render_job_json(json, job);
        zumactl_json_end_object(json);
        print_json(json);
}

static void field(GString *out, const char *label, const char *value)
{
        g_autofree char *with_colon = g_strconcat(label, ":", NULL);

        g_string_append_printf(out, "%-16s %s\n", with_colon,
                               value != NULL && value[0] != '\0' ? value : "-");
}

static void field_take(GString *out, const char *label, char *value)
{
        field(out, label, value);
        g_free(value);
}

static char *device_with_size(const char *path, guint64 size)
{
        g_autofree char *human = zumactl_format_size(size);

        if (size == 0)
                return g_strdup(path);
        return g_strdup_printf("%s (%s)", path, human);
}

void zumactl_render_volume_human(GString *out, ZumaBusVolume *volume)
{
        const char *last_error = zuma_bus_volume_get_last_error(volume);
        guint64 store_size = zuma_bus_volume_get_store_size(volume);

        field(out, "Volume", zuma_bus_volume_get_name(volume));
        field(out, "State", zuma_bus_volume_get_state(volume));
        const char *store_warning = zuma_bus_volume_get_store_warning(volume);

        if (last_error != NULL && last_error[0] != '\0')
                field(out, "Last error", last_error);
        if (store_warning != NULL && store_warning[0] != '\0')
                field(out, "Store warning", store_warning);
        field(out, "UUID", zuma_bus_volume_get_uuid(volume));
        field_take(out, "Origin",
                   device_with_size(zuma_bus_volume_get_origin_device(volume),
                                    zuma_bus_volume_get_origin_size(volume)));
        field_take(out, "Store",
                   device_with_size(zuma_bus_volume_get_store_device(volume), store_size));
        field(out, "Device", zuma_bus_volume_get_device(volume));
        field(out, "Mount point", zuma_bus_volume_get_mount_point(volume));
        field_take(out, "Chunk size", zumactl_format_size(zuma_bus_volume_get_chunk_size(volume)));
        field(out, "Full policy", zuma_bus_volume_get_full_policy(volume));
        if (store_size > 0) {
                g_autofree char *data =
                        zumactl_format_size(zuma_bus_volume_get_store_data_bytes(volume));
                g_autofree char *meta =
                        zumactl_format_size(zuma_bus_volume_get_store_metadata_bytes(volume));
                g_autofree char *free_bytes =
                        zumactl_format_size(zuma_bus_volume_get_store_free_bytes(volume));

                field_take(out, "Store usage",
                           g_strdup_printf("%.1f%% used: data %s, metadata %s, free %s",
                                           zumactl_volume_used_percent(volume), data, meta,
                                           free_bytes));
        }
        if (g_strcmp0(zuma_bus_volume_get_state(volume), "running") == 0)
                field_take(out, "Snapshots",
                           g_strdup_printf("%u", zuma_bus_volume_get_snapshot_count(volume)));
        else
                field(out, "Snapshots", "- (known while the volume runs)");
}

void zumactl_render_snapshot_human(GString *out, ZumaBusSnapshot *snapshot, const char *volume_name,
                                   GVariant *usage)
{
        field(out, "Snapshot", zuma_bus_snapshot_get_name(snapshot));
        field(out, "Volume", volume_name);
        field_take(out, "Id", g_strdup_printf("%u", zuma_bus_snapshot_get_id(snapshot)));
        field_take(out, "Created",
                   zumactl_format_time_local(zuma_bus_snapshot_get_creation_time(snapshot)));
        field_take(out, "Priority",
                   g_strdup_printf("%d", zuma_bus_snapshot_get_priority(snapshot)));
        field(out, "Pinned", zuma_bus_snapshot_get_pinned(snapshot) ? "yes" : "no");
        field(out, "Writable", zuma_bus_snapshot_get_writable(snapshot) ? "yes" : "no");
        field_take(out, "Size", zumactl_format_size(zuma_bus_snapshot_get_size(snapshot)));
        field(out, "Device", zuma_bus_snapshot_get_device(snapshot));
        if (usage != NULL) {
                field_take(out, "Exclusive",
                           zumactl_format_size(zumactl_usage_get(usage, "exclusive_bytes")));
                field_take(out, "Copied chunks",
                           g_strdup_printf("%" G_GUINT64_FORMAT,
                                           zumactl_usage_get(usage, "shared_chunks")));
                field_take(out, "Written chunks",
                           g_strdup_printf("%" G_GUINT64_FORMAT,
                                           zumactl_usage_get(usage, "private_chunks")));
        }
}
