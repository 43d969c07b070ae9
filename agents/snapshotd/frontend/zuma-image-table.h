/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The registry of what the FUSE frontend serves: volumes (one directory
 * each) and their images (origin and snapshot files), with stable inode
 * numbers.  Shared by the main thread, which adds and removes entries, and
 * the FUSE threads, which resolve inodes and names; one mutex guards the
 * maps and the mutable names, and is only held for map operations.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-engine.h"

G_BEGIN_DECLS

#define ZUMA_INO_ROOT 1
#define ZUMA_ORIGIN_FILE "origin"

/* A volume the frontend serves: its own refcounted record, apart from
 * the daemon's ZumaVolume (zuma-volume.h). */
typedef struct ZumaServedVolume {
        gint refs;
        char *name;
        char *uuid;
        guint index; /* never reused: the inode numbers derive from it */
        /* The engine, or NULL once the volume was removed.  Every I/O holds
         * io_gate shared while it uses the engine; removal takes it
         * exclusively to clear the pointer, so no I/O outlives the engine. */
        GRWLock io_gate;
        ZumaEngine *engine;
        GHashTable *images; /* id -> ZumaImage (a reference); table lock */
} ZumaServedVolume;

typedef struct ZumaImage {
        gint refs;
        ZumaServedVolume *volume; /* a reference */
        guint32 id;               /* 0: the origin */
        guint64 ino;
        guint64 size;        /* bytes; __atomic */
        char *snapshot_name; /* table lock; "" for the origin */
        gint writable;       /* atomic */
        /* Attachment generations: a handle opened during generation g
         * fails every request once dead_epoch >= g (a forced detach). */
        gint epoch;      /* atomic */
        gint dead_epoch; /* atomic */
        gint errors_logged;
        /* Main thread only: the attached block device, or NULL. */
        gpointer loop;
} ZumaImage;

typedef struct ZumaImageTable ZumaImageTable;

typedef enum {
        ZUMA_NODE_NONE,
        ZUMA_NODE_ROOT,
        ZUMA_NODE_VOLUME,
        ZUMA_NODE_IMAGE,
} ZumaNodeKind;

/* What an inode stands for; holds references until zuma_node_clear(). */
typedef struct ZumaNode {
        ZumaNodeKind kind;
        guint64 ino;
        ZumaServedVolume *volume;
        ZumaImage *image;
} ZumaNode;

typedef struct ZumaDirEntry {
        char *name;
        guint64 ino;
        gboolean is_dir;
} ZumaDirEntry;

ZumaServedVolume *zuma_served_volume_ref(ZumaServedVolume *volume);
void zuma_served_volume_unref(ZumaServedVolume *volume);
ZumaImage *zuma_image_ref(ZumaImage *image);
void zuma_image_unref(ZumaImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaServedVolume, zuma_served_volume_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaImage, zuma_image_unref)

guint64 zuma_image_get_size(ZumaImage *image);
void zuma_image_set_size(ZumaImage *image, guint64 size);
gboolean zuma_image_is_writable(ZumaImage *image);

ZumaImageTable *zuma_image_table_new(void);
void zuma_image_table_free(ZumaImageTable *table);

/* Main thread. */
ZumaServedVolume *zuma_image_table_add_volume(ZumaImageTable *table, const char *name,
                                              const char *uuid, ZumaEngine *engine, GError **error);
ZumaServedVolume *zuma_image_table_find_volume(ZumaImageTable *table, const char *name);
/* Unlinks the volume and its images, then waits for running I/O on it and
 * clears its engine: open files of it fail with EIO from then on. */
void zuma_image_table_remove_volume(ZumaImageTable *table, ZumaServedVolume *volume);
GPtrArray *zuma_image_table_list_volumes(ZumaImageTable *table);
GPtrArray *zuma_image_table_list_images(ZumaImageTable *table, ZumaServedVolume *volume);
ZumaImage *zuma_image_table_find_image(ZumaImageTable *table, ZumaServedVolume *volume, guint32 id);
/* The image of (volume, id), created if missing. */
ZumaImage *zuma_image_table_add_image(ZumaImageTable *table, ZumaServedVolume *volume, guint32 id,
                                      guint64 size, const char *snapshot_name, gboolean writable);
void zuma_image_table_set_snapshot_name(ZumaImageTable *table, ZumaImage *image,
                                        const char *snapshot_name);

/* FUSE threads. */
gboolean zuma_image_table_resolve(ZumaImageTable *table, guint64 ino, ZumaNode *ret_node);
gboolean zuma_image_table_lookup(ZumaImageTable *table, guint64 parent, const char *name,
                                 ZumaNode *ret_node);
/* The entries of a directory inode (without . and ..), or NULL. */
GPtrArray *zuma_image_table_list_dir(ZumaImageTable *table, guint64 ino);
/* The value of one ZUMA_XATTR_* of an image, or NULL if it has none. */
char *zuma_image_table_get_xattr(ZumaImageTable *table, ZumaImage *image, const char *name);
/* The names of the attributes an image carries, each NUL-terminated. */
GBytes *zuma_image_table_list_xattrs(void);

void zuma_node_clear(ZumaNode *node);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ZumaNode, zuma_node_clear)

/* The file name of an image in its volume directory. */
char *zuma_image_file_name(guint32 id);

G_END_DECLS
