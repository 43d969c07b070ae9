/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The metadata cache: decoded B-tree nodes by block number, least recently
 * used first out, within a byte budget, and their write-back.
 *
 * Nodes in use by an operation are pinned and never evicted.  A dirty node
 * lives in a block allocated by the open transaction, which no committed
 * state references, so evicting it may write it early; the commit writes
 * whatever is still dirty (cache_write_dirty()).  Writing a node back is
 * encoding it (codec.c) and writing its block: this layer owns both, so
 * btree.c and txn.c call down into it and it calls nothing above.  Memory
 * is bounded by the budget plus the pinned nodes of one operation (a path
 * per tree touched).
 */
#include <string.h>

#include "internal.h"

static size_t bucket_of(const SsCache *c, uint64_t blocknr)
{
        return (size_t)((blocknr * 0x9e3779b97f4a7c15ull) >> 20) & (c->buckets - 1);
}

size_t node_mem(const SsNode *n)
{
        return sizeof(*n) + (size_t)n->cap * (sizeof(SsKey) + n->val_size);
}

int cache_init(SsCache *c, size_t budget)
{
        memset(c, 0, sizeof(*c));
        c->budget = budget;
        c->buckets = 1024;
        while (c->buckets < budget / 16384)
                c->buckets <<= 1;
        c->table = calloc(c->buckets, sizeof(*c->table));
        if (!c->table)
                return -ENOMEM;
        c->lru.lru_next = c->lru.lru_prev = &c->lru;
        return 0;
}

static void lru_unlink(SsNode *n)
{
        n->lru_prev->lru_next = n->lru_next;
        n->lru_next->lru_prev = n->lru_prev;
        n->lru_prev = n->lru_next = NULL;
}

static void lru_append(SsCache *c, SsNode *n)
{
        n->lru_prev = c->lru.lru_prev;
        n->lru_next = &c->lru;
        c->lru.lru_prev->lru_next = n;
        c->lru.lru_prev = n;
}

SsNode *cache_find(SsCache *c, uint64_t blocknr)
{
        for (SsNode *n = c->table[bucket_of(c, blocknr)]; n; n = n->hnext)
                if (n->blocknr == blocknr)
                        return n;
        return NULL;
}

void cache_insert(SsCache *c, SsNode *n)
{
        size_t b = bucket_of(c, n->blocknr);

        assert(!cache_find(c, n->blocknr));
        n->hnext = c->table[b];
        c->table[b] = n;
        lru_append(c, n);
        c->nodes++;
        c->bytes += node_mem(n);
}

void cache_remove(SsCache *c, SsNode *n)
{
        SsNode **pp = &c->table[bucket_of(c, n->blocknr)];

        while (*pp != n)
                pp = &(*pp)->hnext;
        *pp = n->hnext;
        n->hnext = NULL;
        lru_unlink(n);
        c->nodes--;
        c->bytes -= node_mem(n);
}

void cache_touch(SsCache *c, SsNode *n)
{
        lru_unlink(n);
        lru_append(c, n);
}

/* n's arrays were `before` bytes (node_mem()) and were just resized. */
void cache_resized(SsCache *c, SsNode *n, size_t before)
{
        if (n->lru_next) {
                c->bytes -= before;
                c->bytes += node_mem(n);
        }
}

/* ---- write-back ---- */

static int node_write(SsStore *s, SsNode *n)
{
        int r = ss_node_encode(n, s->txn, s->node_buf);
        if (r < 0)
                return ss_error(-EUCLEAN, "B-tree node %llu does not fit its block",
                                (unsigned long long)n->blocknr);
        r = ss_dev_pwrite(s->dev, s->node_buf, SS_BLOCK_SIZE, n->blocknr << SS_BLOCK_SHIFT);
        if (r < 0)
                return r;
        n->dirty = false;
        return 0;
}

/* Writes every dirty node, at commit. */
int cache_write_dirty(SsStore *s)
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

/* ---- eviction ---- */

static void node_destroy(SsNode *n)
{
        ss_node_free_arrays(n);
        free(n);
}

int cache_shrink(SsStore *s)
{
        SsCache *c = &s->cache;
        SsNode *n = c->lru.lru_next;

        while (c->bytes > c->budget && n != &c->lru) {
                SsNode *next = n->lru_next;
                if (!n->pins) {
                        if (n->dirty) {
                                int r = node_write(s, n);
                                if (r < 0)
                                        return r;
                        }
                        cache_remove(c, n);
                        node_destroy(n);
                }
                n = next;
        }
        return 0;
}

void cache_drop_all(SsCache *c)
{
        for (size_t b = 0; b < c->buckets; b++) {
                SsNode *n = c->table[b];
                while (n) {
                        SsNode *next = n->hnext;
                        node_destroy(n);
                        n = next;
                }
                c->table[b] = NULL;
        }
        c->nodes = c->bytes = 0;
        c->lru.lru_next = c->lru.lru_prev = &c->lru;
}

void cache_destroy(SsCache *c)
{
        if (!c->table)
                return;
        cache_drop_all(c);
        free(c->table);
        c->table = NULL;
}
