/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inode numbers.  The root is 1.  Volume number v (counted from 1 and never
 * reused in one run) owns the inodes v << 33 (its directory) and
 * (v << 33) + id + 1 (image id: 0 the origin, then snapshot ids).  So an
 * inode never changes meaning while the file system is mounted, and the
 * kernel needs no lookup counting from us: forget is a no-op.
 */
#define G_LOG_DOMAIN "zuma-frontend"

#include "zuma-image-table.h"

#include <errno.h>
#include <string.h>

#include "zuma-error.h"
#include "zuma-image-xattr.h"

/* Holds the table's mutex until the end of the enclosing block. */
#define TABLE_LOCKED_IN_SCOPE(table) \
        G_GNUC_UNUSED g_autoptr(GMutexLocker) table_locker = g_mutex_locker_new(&(table)->lock)

#define VOLUME_SHIFT 33
#define VOLUME_INDEX_MAX (1u << 29)

struct ZumaImageTable {
        GMutex lock;
        GHashTable *volumes;  /* name -> ZumaServedVolume (a reference) */
        GHashTable *by_index; /* index -> ZumaServedVolume (borrowed from volumes) */
        guint next_index;
};

static guint64 volume_ino(guint index)
{
        return (guint64)index << VOLUME_SHIFT;
}

static guint64 image_ino(guint index, guint32 id)
{
        return volume_ino(index) + (guint64)id + 1;
}

ZumaServedVolume *zuma_served_volume_ref(ZumaServedVolume *volume)
{
        g_atomic_int_inc(&volume->refs);
        return volume;
}

void zuma_served_volume_unref(ZumaServedVolume *volume)
{
        if (!g_atomic_int_dec_and_test(&volume->refs))
                return;
        g_assert(volume->images == NULL);
        g_rw_lock_clear(&volume->io_gate);
        g_free(volume->name);
        g_free(volume->uuid);
        g_free(volume);
}

ZumaImage *zuma_image_ref(ZumaImage *image)
{
        g_atomic_int_inc(&image->refs);
        return image;
}

void zuma_image_unref(ZumaImage *image)
{
        if (!g_atomic_int_dec_and_test(&image->refs))
                return;
        g_assert(image->loop == NULL);
        zuma_served_volume_unref(image->volume);
        g_free(image->snapshot_name);
        g_free(image);
}

guint64 zuma_image_get_size(ZumaImage *image)
{
        return __atomic_load_n(&image->size, __ATOMIC_RELAXED);
}

void zuma_image_set_size(ZumaImage *image, guint64 size)
{
        __atomic_store_n(&image->size, size, __ATOMIC_RELAXED);
}

gboolean zuma_image_is_writable(ZumaImage *image)
{
        return image->id == 0 || g_atomic_int_get(&image->writable);
}

ZumaImageTable *zuma_image_table_new(void)
{
        ZumaImageTable *table = g_new0(ZumaImageTable, 1);

        g_mutex_init(&table->lock);
        table->volumes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                               (GDestroyNotify)zuma_served_volume_unref);
        table->by_index = g_hash_table_new(g_direct_hash, g_direct_equal);
        table->next_index = 1;
        return table;
}

/* Breaks the volume <-> image reference cycle; table lock held. */
static void unlink_volume(ZumaImageTable *table, ZumaServedVolume *volume)
{
        GHashTable *images = volume->images;

        g_hash_table_remove(table->by_index, GUINT_TO_POINTER(volume->index));
        volume->images = NULL;
        g_hash_table_unref(images);
}

void zuma_image_table_free(ZumaImageTable *table)
{
        GHashTableIter iter;
        gpointer value;

        if (!table)
                return;
        g_hash_table_iter_init(&iter, table->volumes);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                unlink_volume(table, value);
        g_hash_table_unref(table->volumes);
        g_hash_table_unref(table->by_index);
        g_mutex_clear(&table->lock);
        g_free(table);
}

ZumaServedVolume *zuma_image_table_add_volume(ZumaImageTable *table, const char *name,
                                              const char *uuid, ZumaEngine *engine, GError **error)
{
        TABLE_LOCKED_IN_SCOPE(table);
        ZumaServedVolume *volume;

        if (g_hash_table_contains(table->volumes, name)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ALREADY_EXISTS,
                            "volume %s is already served by the frontend", name);
                return NULL;
        }
        if (table->next_index >= VOLUME_INDEX_MAX) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_LIMIT_EXCEEDED,
                            "volume %s: the frontend ran out of inode numbers; restart it", name);
                return NULL;
        }
        volume = g_new0(ZumaServedVolume, 1);
        volume->refs = 1;
        volume->name = g_strdup(name);
        volume->uuid = g_strdup(uuid);
        volume->index = table->next_index++;
        volume->engine = engine;
        g_rw_lock_init(&volume->io_gate);
        volume->images = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                               (GDestroyNotify)zuma_image_unref);
        g_hash_table_insert(table->volumes, volume->name, volume);
        g_hash_table_insert(table->by_index, GUINT_TO_POINTER(volume->index), volume);
        return zuma_served_volume_ref(volume);
}

ZumaServedVolume *zuma_image_table_find_volume(ZumaImageTable *table, const char *name)
{
        TABLE_LOCKED_IN_SCOPE(table);
        ZumaServedVolume *volume = g_hash_table_lookup(table->volumes, name);

        return volume ? zuma_served_volume_ref(volume) : NULL;
}

void zuma_image_table_remove_volume(ZumaImageTable *table, ZumaServedVolume *volume)
{
        g_mutex_lock(&table->lock);
        if (volume->images) {
                unlink_volume(table, volume);
                g_hash_table_remove(table->volumes, volume->name);
        }
        g_mutex_unlock(&table->lock);

        g_rw_lock_writer_lock(&volume->io_gate);
        volume->engine = NULL;
        g_rw_lock_writer_unlock(&volume->io_gate);
}

GPtrArray *zuma_image_table_list_volumes(ZumaImageTable *table)
{
        TABLE_LOCKED_IN_SCOPE(table);
        GPtrArray *volumes =
                g_ptr_array_new_with_free_func((GDestroyNotify)zuma_served_volume_unref);
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, table->volumes);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                g_ptr_array_add(volumes, zuma_served_volume_ref(value));
        return volumes;
}

GPtrArray *zuma_image_table_list_images(ZumaImageTable *table, ZumaServedVolume *volume)
{
        TABLE_LOCKED_IN_SCOPE(table);
        GPtrArray *images = g_ptr_array_new_with_free_func((GDestroyNotify)zuma_image_unref);
        GHashTableIter iter;
        gpointer value;

        if (!volume->images)
                return images;
        g_hash_table_iter_init(&iter, volume->images);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                g_ptr_array_add(images, zuma_image_ref(value));
        return images;
}

static ZumaImage *find_image_locked(ZumaServedVolume *volume, guint32 id)
{
        if (!volume->images)
                return NULL;
        return g_hash_table_lookup(volume->images, GUINT_TO_POINTER(id));
}

ZumaImage *zuma_image_table_find_image(ZumaImageTable *table, ZumaServedVolume *volume, guint32 id)
{
        TABLE_LOCKED_IN_SCOPE(table);
        ZumaImage *image = find_image_locked(volume, id);

        return image ? zuma_image_ref(image) : NULL;
}

ZumaImage *zuma_image_table_add_image(ZumaImageTable *table, ZumaServedVolume *volume, guint32 id,
                                      guint64 size, const char *snapshot_name, gboolean writable)
{
        TABLE_LOCKED_IN_SCOPE(table);
        ZumaImage *image = find_image_locked(volume, id);

        if (image)
                return zuma_image_ref(image);
        g_return_val_if_fail(volume->images != NULL, NULL);
        image = g_new0(ZumaImage, 1);
        image->refs = 1;
        image->volume = zuma_served_volume_ref(volume);
        image->id = id;
        image->ino = image_ino(volume->index, id);
        image->size = size;
        image->snapshot_name = g_strdup(id == 0 ? "" : snapshot_name);
        image->writable = id == 0 || writable;
        g_hash_table_insert(volume->images, GUINT_TO_POINTER(id), image);
        return zuma_image_ref(image);
}

void zuma_image_table_set_snapshot_name(ZumaImageTable *table, ZumaImage *image,
                                        const char *snapshot_name)
{
        TABLE_LOCKED_IN_SCOPE(table);

        if (image->id == 0)
                return;
        g_free(image->snapshot_name);
        image->snapshot_name = g_strdup(snapshot_name);
}

void zuma_node_clear(ZumaNode *node)
{
        g_clear_pointer(&node->image, zuma_image_unref);
        g_clear_pointer(&node->volume, zuma_served_volume_unref);
        node->kind = ZUMA_NODE_NONE;
}

gboolean zuma_image_table_resolve(ZumaImageTable *table, guint64 ino, ZumaNode *ret_node)
{
        TABLE_LOCKED_IN_SCOPE(table);
        ZumaServedVolume *volume;
        ZumaImage *image = NULL;
        guint64 low = ino & ((G_GUINT64_CONSTANT(1) << VOLUME_SHIFT) - 1);

        if (ino == ZUMA_INO_ROOT) {
                *ret_node = (ZumaNode){ .kind = ZUMA_NODE_ROOT, .ino = ino };
                return TRUE;
        }
        volume = g_hash_table_lookup(table->by_index,
                                     GUINT_TO_POINTER((guint)(ino >> VOLUME_SHIFT)));
        if (!volume || (ino >> VOLUME_SHIFT) >= VOLUME_INDEX_MAX)
                return FALSE;
        if (low != 0) {
                image = find_image_locked(volume, (guint32)(low - 1));
                if (!image)
                        return FALSE;
        }
        *ret_node = (ZumaNode){
                .kind = image ? ZUMA_NODE_IMAGE : ZUMA_NODE_VOLUME,
                .ino = ino,
                .volume = zuma_served_volume_ref(volume),
                .image = image ? zuma_image_ref(image) : NULL,
        };
        return TRUE;
}

char *zuma_image_file_name(guint32 id)
{
        return id == 0 ? g_strdup(ZUMA_ORIGIN_FILE) : g_strdup_printf("%" G_GUINT32_FORMAT, id);
}

/* "origin" is id 0; a snapshot is its id in canonical decimal. */
static gboolean parse_file_name(const char *name, guint32 *ret_id)
{
        guint64 id = 0;

        if (strcmp(name, ZUMA_ORIGIN_FILE) == 0) {
                *ret_id = 0;
                return TRUE;
        }
        if (name[0] < '1' || name[0] > '9' || strlen(name) > 10)
                return FALSE;
        for (const char *p = name; *p; p++) {
                if (*p < '0' || *p > '9')
                        return FALSE;
                id = id * 10 + (guint64)(*p - '0');
        }
        if (id > G_MAXUINT32)
                return FALSE;
        *ret_id = (guint32)id;
        return TRUE;
}

gboolean zuma_image_table_lookup(ZumaImageTable *table, guint64 parent, const char *name,
                                 ZumaNode *ret_node)
{
        g_auto(ZumaNode) dir = { 0 };
        ZumaServedVolume *volume;
        ZumaImage *image;
        guint32 id;

        if (parent == ZUMA_INO_ROOT) {
                TABLE_LOCKED_IN_SCOPE(table);

                volume = g_hash_table_lookup(table->volumes, name);
                if (!volume)
                        return FALSE;
                *ret_node = (ZumaNode){ .kind = ZUMA_NODE_VOLUME,
                                        .ino = volume_ino(volume->index),
                                        .volume = zuma_served_volume_ref(volume) };
                return TRUE;
        }
        if (!parse_file_name(name, &id) || !zuma_image_table_resolve(table, parent, &dir) ||
            dir.kind != ZUMA_NODE_VOLUME)
                return FALSE;
        image = zuma_image_table_find_image(table, dir.volume, id);
        if (!image)
                return FALSE;
        *ret_node = (ZumaNode){ .kind = ZUMA_NODE_IMAGE,
                                .ino = image->ino,
                                .volume = g_steal_pointer(&dir.volume),
                                .image = image };
        return TRUE;
}

static void dir_entry_free(gpointer data)
{
        ZumaDirEntry *entry = data;

        g_free(entry->name);
        g_free(entry);
}

static void add_entry(GPtrArray *entries, char *name, guint64 ino, gboolean is_dir)
{
        ZumaDirEntry *entry = g_new0(ZumaDirEntry, 1);

        entry->name = name;
        entry->ino = ino;
        entry->is_dir = is_dir;
        g_ptr_array_add(entries, entry);
}

static gint compare_images(gconstpointer a, gconstpointer b)
{
        const ZumaImage *ia = *(ZumaImage *const *)a, *ib = *(ZumaImage *const *)b;

        return ia->id < ib->id ? -1 : ia->id > ib->id;
}

GPtrArray *zuma_image_table_list_dir(ZumaImageTable *table, guint64 ino)
{
        GPtrArray *entries = g_ptr_array_new_with_free_func(dir_entry_free);
        g_auto(ZumaNode) node = { 0 };
        g_autoptr(GPtrArray) children = NULL;

        if (!zuma_image_table_resolve(table, ino, &node) || node.kind == ZUMA_NODE_IMAGE) {
                g_ptr_array_unref(entries);
                return NULL;
        }
        if (node.kind == ZUMA_NODE_ROOT) {
                children = zuma_image_table_list_volumes(table);
                for (guint i = 0; i < children->len; i++) {
                        ZumaServedVolume *volume = g_ptr_array_index(children, i);

                        add_entry(entries, g_strdup(volume->name), volume_ino(volume->index), TRUE);
                }
                return entries;
        }
        children = zuma_image_table_list_images(table, node.volume);
        g_ptr_array_sort(children, compare_images);
        for (guint i = 0; i < children->len; i++) {
                ZumaImage *image = g_ptr_array_index(children, i);

                add_entry(entries, zuma_image_file_name(image->id), image->ino, FALSE);
        }
        return entries;
}

char *zuma_image_table_get_xattr(ZumaImageTable *table, ZumaImage *image, const char *name)
{
        TABLE_LOCKED_IN_SCOPE(table);

        if (strcmp(name, ZUMA_XATTR_VOLUME) == 0)
                return g_strdup(image->volume->name);
        if (strcmp(name, ZUMA_XATTR_VOLUME_UUID) == 0)
                return g_strdup(image->volume->uuid);
        if (strcmp(name, ZUMA_XATTR_SNAPSHOT) == 0)
                return g_strdup(image->snapshot_name);
        if (strcmp(name, ZUMA_XATTR_SNAPSHOT_ID) == 0)
                return g_strdup_printf("%" G_GUINT32_FORMAT, image->id);
        return NULL;
}

GBytes *zuma_image_table_list_xattrs(void)
{
        static const char names[] = ZUMA_XATTR_VOLUME
                "\0" ZUMA_XATTR_VOLUME_UUID "\0" ZUMA_XATTR_SNAPSHOT "\0" ZUMA_XATTR_SNAPSHOT_ID;

        return g_bytes_new_static(names, sizeof(names));
}
