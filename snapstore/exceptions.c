/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exceptions: adding and removing them, the one place that changes the
 * exception trees.
 *
 * A shared exception (c, hi) lives in two indexes that must always agree:
 * the shared tree keyed (chunk, hi), which answers reads and copy-out
 * decisions, and the by-hi tree keyed (hi, chunk), which cleanup, delta and
 * revert scan by snapshot range.  A private exception of writable snapshot
 * s lives in the private tree keyed (s, chunk).  Adding one records a chunk
 * the caller has already allocated and written; removing one also frees its
 * chunk.  The callers (copy-out, snapshot writes, cleanup) decide what to add
 * and remove; this layer keeps the indexes in step, on top of btree.c.
 */
#include "internal.h"

static int free_chunk(SsStore *s, uint64_t block)
{
        int r = sm_free(s, block, s->chunk_blocks);
        if (r == 0)
                s->sb.data_blocks -= s->chunk_blocks;
        return r;
}

int exception_add(SsStore *s, uint64_t chunk, uint32_t hi, uint64_t block)
{
        int r = bt_insert(s, SS_TREE_SHARED, key_make(chunk, hi), &block, false);
        if (r == 0)
                r = bt_insert(s, SS_TREE_BYHI, key_make(hi, chunk), NULL, false);
        return r;
}

int exception_remove(SsStore *s, uint64_t chunk, uint32_t hi, uint64_t block)
{
        int r = bt_delete(s, SS_TREE_SHARED, key_make(chunk, hi));
        if (r == 0)
                r = bt_delete(s, SS_TREE_BYHI, key_make(hi, chunk));
        if (r == -ENOENT)
                r = ss_error(-EUCLEAN,
                             "exception (chunk %llu, snapshot %u) is missing from "
                             "an index",
                             (unsigned long long)chunk, hi);
        return r < 0 ? r : free_chunk(s, block);
}

int private_exception_add(SsStore *s, uint32_t id, uint64_t chunk, uint64_t block)
{
        return bt_insert(s, SS_TREE_PRIVATE, key_make(id, chunk), &block, false);
}

int private_exception_remove(SsStore *s, uint32_t id, uint64_t chunk, uint64_t block)
{
        int r = bt_delete(s, SS_TREE_PRIVATE, key_make(id, chunk));
        return r < 0 ? r : free_chunk(s, block);
}
