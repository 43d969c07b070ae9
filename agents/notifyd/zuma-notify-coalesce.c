/* SPDX-License-Identifier: GPL-2.0-only */
/* The rules are at the top of zuma-notify-coalesce.h. */
#define G_LOG_DOMAIN "zuma-notifyd"

#include "zuma-notify-coalesce.h"

struct ZumaCoalescer {
        gint64 window;       /* µs */
        gint64 batch;        /* µs */
        GHashTable *batches; /* key -> ZumaBatch */
};

static void batch_free(gpointer data)
{
        ZumaBatch *batch = data;

        g_free(batch->key);
        g_free(batch->volume);
        g_free(batch->newest);
        g_free(batch->peer);
        g_free(batch);
}

ZumaCoalescer *zuma_coalescer_new(gint64 window_seconds, gint64 batch_seconds)
{
        ZumaCoalescer *self = g_new0(ZumaCoalescer, 1);

        self->window = window_seconds * G_USEC_PER_SEC;
        self->batch = batch_seconds * G_USEC_PER_SEC;
        self->batches = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, batch_free);
        return self;
}

void zuma_coalescer_free(ZumaCoalescer *self)
{
        if (!self)
                return;
        g_hash_table_destroy(self->batches);
        g_free(self);
}

static void batch_begin(ZumaBatch *batch, gint64 now, gint64 now_wall)
{
        batch->count = 0;
        batch->bytes_total = 0;
        batch->started = now;
        batch->started_wall = now_wall;
        batch->last_post = 0;
        batch->held = FALSE;
        batch->id = 0;
        batch->generation++;
}

gboolean zuma_coalescer_add(ZumaCoalescer *self, const char *key, const char *volume,
                            const char *name, gint64 now, gint64 now_wall, ZumaBatch **ret_batch)
{
        return zuma_coalescer_add_transfer(self, key, volume, name, NULL, 0, -1, now, now_wall,
                                           ret_batch);
}

gboolean zuma_coalescer_add_transfer(ZumaCoalescer *self, const char *key, const char *volume,
                                     const char *name, const char *peer, guint64 bytes,
                                     gdouble seconds, gint64 now, gint64 now_wall,
                                     ZumaBatch **ret_batch)
{
        ZumaBatch *batch = g_hash_table_lookup(self->batches, key);

        if (!batch) {
                batch = g_new0(ZumaBatch, 1);
                batch->key = g_strdup(key);
                g_hash_table_insert(self->batches, batch->key, batch);
                batch_begin(batch, now, now_wall);
        } else if (!batch->held && now - batch->started >= self->batch) {
                batch_begin(batch, now, now_wall);
        }
        g_free(batch->volume);
        batch->volume = g_strdup(volume);
        g_free(batch->newest);
        batch->newest = g_strdup(name);
        g_free(batch->peer);
        batch->peer = g_strdup(peer);
        batch->bytes = bytes;
        batch->seconds = seconds;
        batch->bytes_total += bytes;
        batch->count++;
        *ret_batch = batch;
        if (batch->last_post == 0 || now - batch->last_post >= self->window)
                return TRUE;
        batch->held = TRUE;
        return FALSE;
}

void zuma_coalescer_posted(ZumaCoalescer *self, ZumaBatch *batch, gint64 now)
{
        batch->last_post = now;
        batch->held = FALSE;
}

gint64 zuma_coalescer_next_due(ZumaCoalescer *self)
{
        GHashTableIter iter;
        ZumaBatch *batch;
        gint64 due = -1;

        g_hash_table_iter_init(&iter, self->batches);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&batch))
                if (batch->held && (due < 0 || batch->last_post + self->window < due))
                        due = batch->last_post + self->window;
        return due;
}

GPtrArray *zuma_coalescer_take_due(ZumaCoalescer *self, gint64 now)
{
        GPtrArray *due = g_ptr_array_new();
        GHashTableIter iter;
        ZumaBatch *batch;

        g_hash_table_iter_init(&iter, self->batches);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&batch))
                if (batch->held && batch->last_post + self->window <= now)
                        g_ptr_array_add(due, batch);
        return due;
}

void zuma_coalescer_set_id(ZumaCoalescer *self, const char *key, guint generation, guint32 id)
{
        ZumaBatch *batch = g_hash_table_lookup(self->batches, key);

        if (batch && batch->generation == generation)
                batch->id = id;
}

void zuma_coalescer_forget_ids(ZumaCoalescer *self)
{
        GHashTableIter iter;
        ZumaBatch *batch;

        g_hash_table_iter_init(&iter, self->batches);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&batch))
                batch->id = 0;
}
