/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The copied-out map: one bit per origin chunk, set when an origin write
 * to the chunk was prepared (ss_origin_prepare_write() or a group commit
 * covering it returned 0) and no snapshot was created since.  An origin
 * write whose chunks are all set needs no copy-out, so the engine writes
 * it without the group commit, the store lock or libsnapstore
 * (zuma_engine_origin_write()).  Why: after the first write of a chunk
 * following a snapshot, every rewrite of it (a file system's journal, a
 * database's pages, the random writes of fio) used to queue on the one
 * store lock to hear "nothing to copy", behind copy-outs that wait for
 * the store's flushes, and woke every queued writer at each commit.
 *
 * What a set bit promises: since the chunk was last prepared, the set of
 * live snapshots has not grown, so each live snapshot either had the
 * chunk copied out by that prepare (durably: the prepare returned only
 * after its commit's last flush, THE RULE of zuma-group-commit.c) or
 * never read the chunk from the origin.  Deleting snapshots, cleanup,
 * autodelete, renames and flag changes only shrink what snapshots need,
 * so they leave the bits valid.  What can make a chunk need a copy-out
 * again is a new snapshot, and the engine clears the map at each place
 * one can appear or the origin changes under the store:
 *  - zuma_engine_snapshot_create(), with write_gate held exclusively;
 *  - zuma_engine_revert_begin(), _step() and _abandon(), likewise (a
 *    revert rewrites the origin through the store);
 *  - zuma_engine_refuse_origin_writes() on (write_gate exclusively) and
 *    off (before origin writes are admitted again): a replication stream
 *    writes the origin and creates its snapshot under `lock` only, while
 *    origin writes are refused;
 *  - opening a store: the map is new with every engine, all clear.
 *
 * The crash contract (no origin write reaches the device before the
 * copy-out it needs is durable) holds because a bit is set only after a
 * prepare of that chunk returned 0, i.e. after its copy-out was durable,
 * and is read only by a writer that holds write_gate shared from before
 * the read until its pwrite has returned, the same span the slow path
 * holds it.  Snapshot creation takes write_gate exclusively and clears
 * the map inside it; so for a fast write, either the whole write (check
 * and pwrite) comes before the snapshot, exactly like a slow write that
 * finished before it, or the check comes after the clear and fails, and
 * the write takes the slow path and copies the chunk out for the new
 * snapshot.  A write racing a snapshot creation is therefore ordered
 * exactly as today: by write_gate.  Marking happens under write_gate
 * shared as well (right after the prepare, before the pwrite), so a mark
 * never lands after a clear that followed its prepare.  The rwlock
 * orders the plain (relaxed) bit operations against the clear; for the
 * refuse-off path the clear comes before the engine's atomic store of
 * the refused flag, which writers load before they read the map.
 *
 * What the fast path gives up: a store that failed or was found damaged
 * must refuse origin writes as the slow path does, so the engine checks
 * its failed and damaged flags before it trusts the map (a store that
 * fails in the instant between is no worse than a slow write whose
 * prepare returned just before the failure).  A read-only store never
 * prepares, so never sets a bit.  Chunks past the map (an origin grown
 * since open, or beyond ZUMA_COPIED_MAP_MAX) always take the slow path.
 *
 * Cost: a clear is a memset of origin_chunks / 8 bytes (2 KiB for 256 MiB
 * of 16 KiB chunks, 8 MiB for 1 TiB) with write_gate exclusive, at each
 * snapshot creation.
 */
#define G_LOG_DOMAIN "zuma-engine"

#include "zuma-copied-map.h"

#include <stdatomic.h>
#include <string.h>

#define WORD_BITS 64u

struct ZumaCopiedMap {
        guint32 chunk_shift;
        guint64 chunks;        /* chunks mapped */
        gsize words;           /* chunks / 64, rounded up */
        _Atomic guint64 *bits; /* bit c % 64 of word c / 64: chunk c */
};

ZumaCopiedMap *zuma_copied_map_new(guint64 origin_size, guint32 chunk_size)
{
        ZumaCopiedMap *map;

        g_return_val_if_fail(chunk_size && (chunk_size & (chunk_size - 1)) == 0, NULL);
        map = g_new0(ZumaCopiedMap, 1);
        map->chunk_shift = (guint32)g_bit_nth_lsf(chunk_size, -1);
        map->chunks = MIN((origin_size + chunk_size - 1) >> map->chunk_shift, ZUMA_COPIED_MAP_MAX);
        map->words = (gsize)((map->chunks + WORD_BITS - 1) / WORD_BITS);
        map->bits = g_new0(_Atomic guint64, MAX(map->words, 1));
        return map;
}

void zuma_copied_map_free(ZumaCopiedMap *map)
{
        if (!map)
                return;
        g_free((gpointer)map->bits);
        g_free(map);
}

/* The mask of bits [from, to] (both < 64) of one word. */
static guint64 word_mask(guint64 from, guint64 to)
{
        guint64 upper = to == WORD_BITS - 1 ? G_MAXUINT64 : (G_GUINT64_CONSTANT(1) << (to + 1)) - 1;

        return upper & ~((G_GUINT64_CONSTANT(1) << from) - 1);
}

/* The chunks of a non-empty range, if the map holds all of them. */
static gboolean chunk_span(ZumaCopiedMap *map, guint64 offset, guint64 length, guint64 *ret_first,
                           guint64 *ret_last)
{
        guint64 end;

        if (!map || length == 0 || offset + length < offset)
                return FALSE;
        end = offset + length - 1;
        *ret_first = offset >> map->chunk_shift;
        *ret_last = end >> map->chunk_shift;
        return *ret_last < map->chunks;
}

gboolean zuma_copied_map_covers(ZumaCopiedMap *map, guint64 offset, guint64 length)
{
        guint64 first, last;

        if (!chunk_span(map, offset, length, &first, &last))
                return FALSE;
        for (guint64 w = first / WORD_BITS; w <= last / WORD_BITS; w++) {
                guint64 from = w == first / WORD_BITS ? first % WORD_BITS : 0;
                guint64 to = w == last / WORD_BITS ? last % WORD_BITS : WORD_BITS - 1;
                guint64 mask = word_mask(from, to);

                if ((atomic_load_explicit(&map->bits[w], memory_order_relaxed) & mask) != mask)
                        return FALSE;
        }
        return TRUE;
}

void zuma_copied_map_mark(ZumaCopiedMap *map, guint64 offset, guint64 length)
{
        guint64 first, last;

        if (!map || length == 0 || offset + length < offset)
                return;
        if (!chunk_span(map, offset, length, &first, &last)) {
                /* Mark what the map holds of a range that runs past it. */
                first = offset >> map->chunk_shift;
                if (first >= map->chunks)
                        return;
                last = map->chunks - 1;
        }
        for (guint64 w = first / WORD_BITS; w <= last / WORD_BITS; w++) {
                guint64 from = w == first / WORD_BITS ? first % WORD_BITS : 0;
                guint64 to = w == last / WORD_BITS ? last % WORD_BITS : WORD_BITS - 1;

                atomic_fetch_or_explicit(&map->bits[w], word_mask(from, to), memory_order_relaxed);
        }
}

void zuma_copied_map_clear(ZumaCopiedMap *map)
{
        if (!map)
                return;
        for (gsize w = 0; w < map->words; w++)
                atomic_store_explicit(&map->bits[w], 0, memory_order_relaxed);
}
