/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-notifyd"

#include "zuma-notify-message.h"

#include "zuma-notify-humanize.h"

void zuma_message_free(ZumaMessage *message)
{
        if (!message)
                return;
        g_free(message->summary);
        g_free(message->body);
        g_free(message);
}

/* Takes summary and body. */
static ZumaMessage *message_new(ZumaUrgency urgency, char *summary, char *body)
{
        ZumaMessage *message = g_new0(ZumaMessage, 1);

        message->urgency = urgency;
        message->summary = summary;
        message->body = body;
        return message;
}

/* "14:00" when then (wall µs) is on now's local day, "Sun 14:00" before. */
static char *since(gint64 then, gint64 now)
{
        g_autoptr(GDateTime) a = g_date_time_new_from_unix_local(then / G_USEC_PER_SEC);
        g_autoptr(GDateTime) b = g_date_time_new_from_unix_local(now / G_USEC_PER_SEC);

        if (!a || !b)
                return g_strdup("?");
        if (g_date_time_get_year(a) == g_date_time_get_year(b) &&
            g_date_time_get_day_of_year(a) == g_date_time_get_day_of_year(b))
                return g_date_time_format(a, "%H:%M");
        return g_date_time_format(a, "%a %H:%M");
}

ZumaMessage *zuma_message_taken(const ZumaBatch *batch, gint64 now_wall)
{
        g_autofree char *from = NULL;

        if (batch->count == 1)
                return message_new(ZUMA_URGENCY_LOW,
                                   g_strdup_printf("Snapshot of %s taken", batch->volume),
                                   g_strdup(batch->newest));
        from = since(batch->started_wall, now_wall);
        return message_new(ZUMA_URGENCY_LOW,
                           g_strdup_printf("%u snapshots of %s taken", batch->count, batch->volume),
                           g_strdup_printf("since %s; the newest is %s", from, batch->newest));
}

ZumaMessage *zuma_message_autodeleted(const ZumaBatch *batch, gint64 now_wall)
{
        g_autofree char *from = NULL;

        if (batch->count == 1)
                return message_new(
                        ZUMA_URGENCY_NORMAL,
                        g_strdup_printf("Snapshot of %s deleted: store full", batch->volume),
                        g_strdup_printf("%s was deleted to make room for writes to %s.",
                                        batch->newest, batch->volume));
        from = since(batch->started_wall, now_wall);
        return message_new(ZUMA_URGENCY_NORMAL,
                           g_strdup_printf("%u snapshots of %s deleted: store full", batch->count,
                                           batch->volume),
                           g_strdup_printf("since %s, to make room for writes; the last was %s.",
                                           from, batch->newest));
}

ZumaMessage *zuma_message_usage(const char *volume, guint percent, gboolean rising,
                                gint64 full_in_seconds)
{
        g_autofree char *forecast = NULL;

        if (!rising)
                return message_new(
                        ZUMA_URGENCY_LOW,
                        g_strdup_printf("Snapshot store of %s below %u%% again", volume, percent),
                        g_strdup(""));
        forecast = zuma_humanize_full_in(full_in_seconds);
        return message_new(percent >= ZUMA_USAGE_CRITICAL_PERCENT ? ZUMA_URGENCY_CRITICAL
                                                                  : ZUMA_URGENCY_NORMAL,
                           g_strdup_printf("Snapshot store of %s over %u%% full", volume, percent),
                           forecast ? g_strdup_printf("Its store will be %s.", forecast)
                                    : g_strdup("No forecast: the store is not growing, or its "
                                               "growth is not known yet."));
}

ZumaMessage *zuma_message_failed(const char *volume, const char *message)
{
        return message_new(ZUMA_URGENCY_CRITICAL, g_strdup_printf("Volume %s failed", volume),
                           g_strdup(message));
}

ZumaMessage *zuma_message_stopped(const char *volume, const char *reason)
{
        return message_new(ZUMA_URGENCY_CRITICAL,
                           g_strdup_printf("Volume %s stopped unexpectedly", volume),
                           g_strdup_printf("The snapshot server gave the reason \"%s\".", reason));
}

ZumaMessage *zuma_message_server_gone(const char *const *volumes)
{
        g_autofree char *names = g_strjoinv(", ", (char **)volumes);
        guint n = g_strv_length((char **)volumes);

        return message_new(ZUMA_URGENCY_CRITICAL,
                           g_strdup("Zumastor snapshot server stopped unexpectedly"),
                           g_strdup_printf("It left the bus while %s %s running.", names,
                                           n == 1 ? "was" : "were"));
}

ZumaMessage *zuma_message_missed(const char *volume, gint64 newest_age, const char *last_error)
{
        g_autofree char *age = NULL;

        if (last_error && *last_error)
                return message_new(ZUMA_URGENCY_CRITICAL,
                                   g_strdup_printf("Scheduled snapshot of %s missed", volume),
                                   g_strdup_printf("The scheduler's last attempt: %s", last_error));
        if (newest_age < 0)
                return message_new(ZUMA_URGENCY_CRITICAL,
                                   g_strdup_printf("Scheduled snapshot of %s missed", volume),
                                   g_strdup("No scheduled snapshot was taken yet."));
        age = zuma_humanize_duration(newest_age);
        return message_new(ZUMA_URGENCY_CRITICAL,
                           g_strdup_printf("Scheduled snapshot of %s missed", volume),
                           g_strdup_printf("The newest scheduled snapshot is %s old.", age));
}

ZumaMessage *zuma_message_snapshot_failed(const char *volume, const char *name, const char *message)
{
        return message_new(ZUMA_URGENCY_CRITICAL,
                           g_strdup_printf("Scheduled snapshot of %s failed", volume),
                           g_strdup_printf("%s: %s (retried in a minute)", name, message));
}

ZumaMessage *zuma_message_command_failed(const char *volume, const char *which, const char *message)
{
        return message_new(
                ZUMA_URGENCY_CRITICAL,
                g_strdup_printf("%s command of %s failed",
                                g_str_equal(which, "pre") ? "Pre-snapshot" : "Post-snapshot",
                                volume),
                g_strdup(message));
}

/* "Snapshot S, 12.3 MB in 4 s" (the newest transfer of the batch); a run
 * that found the target holding S already sent nothing. */
static char *transfer(const ZumaBatch *batch, const char *what)
{
        g_autofree char *size = NULL;
        g_autofree char *took = NULL;

        if (batch->bytes == 0)
                return g_strdup_printf("%s %s, nothing new to send", what, batch->newest);
        size = g_format_size(batch->bytes);
        if (batch->seconds < 0)
                return g_strdup_printf("%s %s, %s", what, batch->newest, size);
        took = zuma_humanize_elapsed(batch->seconds);
        return g_strdup_printf("%s %s, %s in %s", what, batch->newest, size, took);
}

/* "since 14:00, 40.1 MB in all" */
static char *batch_total(const ZumaBatch *batch, gint64 now_wall)
{
        g_autofree char *from = since(batch->started_wall, now_wall);
        g_autofree char *total = NULL;

        if (batch->bytes_total == 0)
                return g_strdup_printf("since %s, nothing new to send", from);
        total = g_format_size(batch->bytes_total);
        return g_strdup_printf("since %s, %s in all", from, total);
}

ZumaMessage *zuma_message_replicated(const ZumaBatch *batch, gint64 now_wall)
{
        const char *target = batch->peer ? batch->peer : "?";
        g_autofree char *newest = NULL;
        g_autofree char *total = NULL;

        if (batch->count == 1)
                return message_new(
                        ZUMA_URGENCY_LOW,
                        g_strdup_printf("Volume %s replicated to %s", batch->volume, target),
                        transfer(batch, "Snapshot"));
        newest = transfer(batch, "the newest is");
        total = batch_total(batch, now_wall);
        return message_new(ZUMA_URGENCY_LOW,
                           g_strdup_printf("Volume %s replicated to %s %u times", batch->volume,
                                           target, batch->count),
                           g_strdup_printf("%s; %s", total, newest));
}

ZumaMessage *zuma_message_replication_failed(const char *volume, const char *target,
                                             const char *message)
{
        return message_new(ZUMA_URGENCY_CRITICAL,
                           g_strdup_printf("Replication of %s to %s failed", volume, target),
                           g_strdup(message));
}

ZumaMessage *zuma_message_received(const ZumaBatch *batch, gint64 now_wall)
{
        g_autofree char *from_peer = batch->peer && *batch->peer
                                             ? g_strdup_printf(" from %s", batch->peer)
                                             : g_strdup("");
        g_autofree char *size = g_format_size(batch->bytes);
        g_autofree char *total = NULL;

        if (batch->count == 1)
                return message_new(ZUMA_URGENCY_LOW,
                                   g_strdup_printf("Replica %s received snapshot %s%s",
                                                   batch->volume, batch->newest, from_peer),
                                   g_strdup_printf("%s on the wire", size));
        total = batch_total(batch, now_wall);
        return message_new(ZUMA_URGENCY_LOW,
                           g_strdup_printf("Replica %s received %u snapshots%s", batch->volume,
                                           batch->count, from_peer),
                           g_strdup_printf("%s; the newest is %s, %s", total, batch->newest, size));
}

ZumaMessage *zuma_message_receive_failed(const char *volume, const char *message)
{
        return message_new(ZUMA_URGENCY_CRITICAL, g_strdup_printf("Receiving %s failed", volume),
                           g_strdup(message));
}
