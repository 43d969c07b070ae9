/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaCopiedMap: one bit per origin chunk, "copied out since the newest
 * snapshot", so that an origin write whose chunks are all marked skips
 * the engine lock and the group commit.  The rules that make this safe,
 * and what the engine must do to keep them, are at the top of
 * zuma-copied-map.c.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct ZumaCopiedMap ZumaCopiedMap;

/* A map of every chunk of an origin of origin_size bytes (chunk_size a
 * power of two), all unmarked.  Origins of more than ZUMA_COPIED_MAP_MAX
 * chunks are mapped for their first ZUMA_COPIED_MAP_MAX chunks only; the
 * chunks past the map are never marked. */
ZumaCopiedMap *zuma_copied_map_new(guint64 origin_size, guint32 chunk_size);
void zuma_copied_map_free(ZumaCopiedMap *map);

/* Whether every chunk of [offset, offset + length) is marked.  FALSE for
 * an empty range, a range past the map, or a NULL map.  Any thread. */
gboolean zuma_copied_map_covers(ZumaCopiedMap *map, guint64 offset, guint64 length);
/* Marks the chunks of the range that the map holds.  Any thread. */
void zuma_copied_map_mark(ZumaCopiedMap *map, guint64 offset, guint64 length);
/* Unmarks every chunk. */
void zuma_copied_map_clear(ZumaCopiedMap *map);

/* 2^30 chunks: a 128 MiB map, 16 TiB of 16 KiB chunks. */
#define ZUMA_COPIED_MAP_MAX (G_GUINT64_CONSTANT(1) << 30)

G_END_DECLS
