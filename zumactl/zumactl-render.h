/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The server's objects as zumactl shows them: JSON members (the stable
 * schema documented in zumactl(1)) and human-readable detail blocks.
 */
#pragma once

#include "zumactl-output.h"
#include "zumactl.h"

G_BEGIN_DECLS

/* A string member, null when value is "" (the bus's "none"). */
void zumactl_render_optional_json(JsonBuilder *builder, const char *key, const char *value);
/* Seconds since the epoch as key and as key_iso8601. */
void zumactl_render_time_json(JsonBuilder *builder, const char *key, guint64 seconds);

/* An a{su} (name -> count; NULL: none) as the object member key. */
void zumactl_render_counts_json(JsonBuilder *builder, const char *key, GVariant *counts);

/* The builder's value, every container closed, as text on stdout. */
void zumactl_print_json(JsonBuilder *builder);

/* Members of the JSON object of each kind, written into an open object. */
void zumactl_render_server_json(JsonBuilder *builder, ZumaBusManager *manager);
void zumactl_render_volume_json(JsonBuilder *builder, ZumaBusVolume *volume);
void zumactl_render_snapshot_json(JsonBuilder *builder, ZumaBusSnapshot *snapshot,
                                  const char *volume_name);
/* usage is the a{sv} of Snapshot.GetUsage. */
void zumactl_render_usage_json(JsonBuilder *builder, GVariant *usage);
void zumactl_render_job_json(JsonBuilder *builder, ZumaBusJob *job);

/* Prints one object as a whole JSON value on stdout. */
void zumactl_print_volume_json(ZumaBusVolume *volume);
void zumactl_print_snapshot_json(ZumaBusSnapshot *snapshot, const char *volume_name);
void zumactl_print_job_json(ZumaBusJob *job);
/* What is known of an object the server acknowledged creating but left
 * the bus before it could be read: name, volume (for a snapshot; NULL for
 * a volume) and object_path, the other members left out. */
void zumactl_print_created_json(const char *name, const char *volume_name, const char *path);

/* "Label:  value" lines. */
void zumactl_render_volume_human(GString *out, ZumaBusVolume *volume);
void zumactl_render_snapshot_human(GString *out, ZumaBusSnapshot *snapshot, const char *volume_name,
                                   GVariant *usage);

/* "pinned,writable" or "" for a snapshot's flags. */
char *zumactl_snapshot_flags(ZumaBusSnapshot *snapshot);

/* Store bytes in use in percent of the store. */
double zumactl_volume_used_percent(ZumaBusVolume *volume);

/* The store's growth as the server forecasts it (StoreUsageRate,
 * StoreFullInSeconds): "growing 12.0 MiB/min, full in about 6 hours",
 * "not growing". */
char *zumactl_volume_growth(ZumaBusVolume *volume);

/* A value of the GetUsage dictionary, 0 if absent. */
guint64 zumactl_usage_get(GVariant *usage, const char *key);

G_END_DECLS
