/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-render.h"

#include "zumactl-bus.h"

/* The D-Bus API says "" for "none"; JSON says null. */
void zumactl_render_optional_json(JsonBuilder *builder, const char *key, const char *value)
{
        zumactl_json_set_string(builder, key, value != NULL && value[0] != '\0' ? value : NULL);
}

void zumactl_render_time_json(JsonBuilder *builder, const char *key, guint64 seconds)
{
        g_autofree char *iso_key = g_strconcat(key, "_iso8601", NULL);
        g_autofree char *iso = zumactl_format_time_iso8601(seconds);

        zumactl_json_set_uint(builder, key, seconds);
        zumactl_json_set_string(builder, iso_key, iso);
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

void zumactl_render_server_json(JsonBuilder *builder, ZumaBusManager *manager)
{
        zumactl_json_set_string(builder, "version", zuma_bus_manager_get_version(manager));
        zumactl_json_set_string(builder, "frontend", zuma_bus_manager_get_frontend(manager));
        zumactl_json_set_string(builder, "state_directory",
                                zuma_bus_manager_get_state_directory(manager));
        zumactl_json_set_string(builder, "run_directory",
                                zuma_bus_manager_get_run_directory(manager));
}

void zumactl_render_volume_json(JsonBuilder *builder, ZumaBusVolume *volume)
{
        zumactl_json_set_string(builder, "name", zuma_bus_volume_get_name(volume));
        zumactl_json_set_string(builder, "object_path", zumactl_bus_path(volume));
        zumactl_render_optional_json(builder, "uuid", zuma_bus_volume_get_uuid(volume));
        zumactl_json_set_string(builder, "state", zuma_bus_volume_get_state(volume));
        zumactl_render_optional_json(builder, "last_error", zuma_bus_volume_get_last_error(volume));
        zumactl_render_optional_json(builder, "store_warning",
                                     zuma_bus_volume_get_store_warning(volume));
        zumactl_json_set_string(builder, "origin_device",
                                zuma_bus_volume_get_origin_device(volume));
        zumactl_render_optional_json(builder, "origin_identity",
                                     zuma_bus_volume_get_origin_identity(volume));
        zumactl_json_set_string(builder, "store_device", zuma_bus_volume_get_store_device(volume));
        zumactl_render_optional_json(builder, "device", zuma_bus_volume_get_device(volume));
        zumactl_render_optional_json(builder, "mount_point",
                                     zuma_bus_volume_get_mount_point(volume));
        zumactl_json_set_uint(builder, "chunk_size", zuma_bus_volume_get_chunk_size(volume));
        zumactl_json_set_string(builder, "full_policy", zuma_bus_volume_get_full_policy(volume));
        zumactl_json_set_uint(builder, "origin_size", zuma_bus_volume_get_origin_size(volume));
        zumactl_json_set_uint(builder, "store_size", zuma_bus_volume_get_store_size(volume));
        zumactl_json_set_uint(builder, "store_data_bytes",
                              zuma_bus_volume_get_store_data_bytes(volume));
        zumactl_json_set_uint(builder, "store_metadata_bytes",
                              zuma_bus_volume_get_store_metadata_bytes(volume));
        zumactl_json_set_uint(builder, "store_free_bytes",
                              zuma_bus_volume_get_store_free_bytes(volume));
        zumactl_json_set_double(builder, "store_used_percent", zumactl_volume_used_percent(volume));
        zumactl_json_set_uint(builder, "snapshot_count",
                              zuma_bus_volume_get_snapshot_count(volume));
        zumactl_json_set_double(builder, "store_usage_rate",
                                zuma_bus_volume_get_store_usage_rate(volume));
        /* Meaningful only with a rate (a server without these
         * properties reads as 0 and 0). */
        if (zuma_bus_volume_get_store_usage_rate(volume) > 0 &&
            zuma_bus_volume_get_store_full_in_seconds(volume) >= 0)
                zumactl_json_set_int(builder, "store_full_in_seconds",
                                     zuma_bus_volume_get_store_full_in_seconds(volume));
        else
                zumactl_json_set_string(builder, "store_full_in_seconds", NULL);
}

void zumactl_render_snapshot_json(JsonBuilder *builder, ZumaBusSnapshot *snapshot,
                                  const char *volume_name)
{
        zumactl_json_set_uint(builder, "id", zuma_bus_snapshot_get_id(snapshot));
        zumactl_json_set_string(builder, "name", zuma_bus_snapshot_get_name(snapshot));
        zumactl_json_set_string(builder, "volume", volume_name);
        zumactl_json_set_string(builder, "object_path", zumactl_bus_path(snapshot));
        zumactl_render_time_json(builder, "creation_time",
                                 zuma_bus_snapshot_get_creation_time(snapshot));
        zumactl_json_set_int(builder, "priority", zuma_bus_snapshot_get_priority(snapshot));
        zumactl_json_set_bool(builder, "pinned", zuma_bus_snapshot_get_pinned(snapshot));
        zumactl_json_set_bool(builder, "writable", zuma_bus_snapshot_get_writable(snapshot));
        zumactl_json_set_uint(builder, "size", zuma_bus_snapshot_get_size(snapshot));
        zumactl_render_optional_json(builder, "device", zuma_bus_snapshot_get_device(snapshot));
}

void zumactl_render_usage_json(JsonBuilder *builder, GVariant *usage)
{
        zumactl_json_set_uint(builder, "exclusive_bytes",
                              zumactl_usage_get(usage, "exclusive_bytes"));
        zumactl_json_set_uint(builder, "shared_chunks", zumactl_usage_get(usage, "shared_chunks"));
        zumactl_json_set_uint(builder, "private_chunks",
                              zumactl_usage_get(usage, "private_chunks"));
}

void zumactl_render_job_json(JsonBuilder *builder, ZumaBusJob *job)
{
        zumactl_json_set_string(builder, "object_path", zumactl_bus_path(job));
        zumactl_json_set_string(builder, "operation", zuma_bus_job_get_operation(job));
        zumactl_json_set_string(builder, "volume_path", zuma_bus_job_get_volume(job));
        zumactl_render_time_json(builder, "start_time", zuma_bus_job_get_start_time(job));
        zumactl_json_set_uint(builder, "done", zuma_bus_job_get_done(job));
        zumactl_json_set_uint(builder, "total", zuma_bus_job_get_total(job));
        zumactl_json_set_double(builder, "progress", zuma_bus_job_get_progress(job));
        zumactl_json_set_bool(builder, "finished", zuma_bus_job_get_finished(job));
        zumactl_json_set_bool(builder, "success", zuma_bus_job_get_success(job));
        zumactl_render_optional_json(builder, "error_name", zuma_bus_job_get_error_name(job));
        zumactl_render_optional_json(builder, "error_message", zuma_bus_job_get_error_message(job));
}

void zumactl_render_counts_json(JsonBuilder *builder, const char *key, GVariant *counts)
{
        GVariantIter iter;
        const char *name;
        guint32 count;

        json_builder_set_member_name(builder, key);
        json_builder_begin_object(builder);
        if (counts != NULL) {
                g_variant_iter_init(&iter, counts);
                while (g_variant_iter_next(&iter, "{&su}", &name, &count))
                        zumactl_json_set_uint(builder, name, count);
        }
        json_builder_end_object(builder);
}

void zumactl_print_json(JsonBuilder *builder)
{
        g_autofree char *text = zumactl_json_to_text(builder);

        zumactl_print(text);
}

void zumactl_print_volume_json(ZumaBusVolume *volume)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        zumactl_render_volume_json(builder, volume);
        json_builder_end_object(builder);
        zumactl_print_json(builder);
}

void zumactl_print_snapshot_json(ZumaBusSnapshot *snapshot, const char *volume_name)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        zumactl_render_snapshot_json(builder, snapshot, volume_name);
        json_builder_end_object(builder);
        zumactl_print_json(builder);
}

void zumactl_print_created_json(const char *name, const char *volume_name, const char *path)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        zumactl_json_set_string(builder, "name", name);
        if (volume_name != NULL)
                zumactl_json_set_string(builder, "volume", volume_name);
        zumactl_json_set_string(builder, "object_path", path);
        json_builder_end_object(builder);
        zumactl_print_json(builder);
}

void zumactl_print_job_json(ZumaBusJob *job)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        zumactl_render_job_json(builder, job);
        json_builder_end_object(builder);
        zumactl_print_json(builder);
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

char *zumactl_volume_growth(ZumaBusVolume *volume)
{
        double rate = zuma_bus_volume_get_store_usage_rate(volume);
        gint64 full_in = zuma_bus_volume_get_store_full_in_seconds(volume);
        g_autofree char *per_minute = NULL;
        g_autofree char *when = NULL;

        if (!(rate > 0))
                return g_strdup("not growing");
        per_minute = zumactl_format_size((guint64)MIN(rate * 60.0, (double)G_MAXINT64));
        if (full_in == 0)
                return g_strdup_printf("growing %s/min, full now", per_minute);
        when = zumactl_format_duration_about(full_in);
        if (when == NULL)
                return g_strdup_printf("growing %s/min", per_minute);
        return g_strdup_printf("growing %s/min, full in %s", per_minute, when);
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
        field(out, "Origin identity", zuma_bus_volume_get_origin_identity(volume));
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
                field_take(out, "Store growth", zumactl_volume_growth(volume));
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
