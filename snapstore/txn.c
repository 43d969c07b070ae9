/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Transactions.
 *
 * THE COMMIT RULE.  Shadow paging with two alternating superblocks:
 *   1. Nothing that the last committed superblock references is ever
 *      written: B-tree nodes are shadowed into blocks allocated by the open
 *      transaction, space-map bitmaps are written to the slot the committed
 *      superblock does not use, and copied-out chunks go to blocks that were
 *      free when the last transaction committed.
 *   2. Commit writes the dirty nodes and bitmaps, flushes, then writes the
 *      new superblock (txid + 1) over the older of the two copies, and
 *      flushes again.
 *   3. Open reads both copies and takes the valid one with the highest txid.
 * A crash before the second flush leaves the previous superblock, and all it
 * references, intact; a torn superblock fails its checksum and loses to the
 * other copy.
 *
 * Every mutating call is one transaction.  If it fails before committing,
 * txn_abort() returns the handle to the last committed state.  If a commit
 * itself fails the handle is marked failed: what reached the disk is not
 * known, so only reopening (which finds the newest valid superblock) is safe.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int store_writable(SsStore *s)
{
        if (s->readonly)
                return ss_error(-EROFS, "store %s is open read-only", s->dev->name);
        if (s->failed)
                return ss_error(-EIO, "store %s failed an earlier write; close and reopen it",
                                s->dev->name);
        return 0;
}

int txn_fail(SsStore *s, int err)
{
        s->failed = true;
        return err;
}

static int write_dirty_nodes(SsStore *s)
{
        SsCache *c = &s->cache;

        for (size_t b = 0; b < c->buckets; b++)
                for (SsNode *n = c->table[b]; n; n = n->hnext)
                        if (n->dirty) {
                                int r = node_write(s, n);
                                if (r < 0)
                                        return r;
                        }
        return 0;
}

static int write_super(SsStore *s)
{
        size_t len =
                ss_super_encode(&s->sb, s->block_buf, (size_t)SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE);
        uint64_t blk = (s->sb.txid % SS_SB_COPIES) * SS_SB_AREA_BLOCKS;

        len = (len + SS_BLOCK_SIZE - 1) & ~(size_t)(SS_BLOCK_SIZE - 1);
        return ss_dev_pwrite(s->dev, s->block_buf, len, blk << SS_BLOCK_SHIFT);
}

int txn_commit(SsStore *s)
{
        int r = store_writable(s);
        if (r < 0)
                return r;
        if (!s->txn_dirty)
                return 0;

        /* Before any write: see store_changed(). */
        store_changed(s);
        r = write_dirty_nodes(s);
        if (r == 0)
                r = sm_write_dirty(s);
        if (r == 0)
                r = ss_dev_flush(s->dev);
        if (r == 0) {
                s->sb.txid = s->txn;
                r = write_super(s);
        }
        if (r == 0)
                r = ss_dev_flush(s->dev);
        if (r < 0)
                return txn_fail(s, r);

        r = ss_super_copy(&s->committed, &s->sb);
        if (r < 0)
                return txn_fail(s, r);
        sm_after_commit(s);
        s->txn++;
        s->txn_dirty = false;
        return cache_shrink(s) < 0 ? txn_fail(s, -EIO) : 0;
}

void txn_abort(SsStore *s)
{
        if (!s->txn_dirty)
                return;
        cache_drop_all(&s->cache);
        sm_abort(s);
        if (ss_super_copy(&s->sb, &s->committed) < 0 || snaps_load(s) < 0)
                s->failed = true;
        s->txn_dirty = false;
}
