/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copy-on-write B-trees keyed by (a, b) pairs.
 *
 * Every node has exactly one parent (trees are never shared), so there are
 * no reference counts: before a node is changed it is shadowed, i.e. moved
 * to a block allocated by the open transaction unless it already lives in
 * one, and its parent's pointer is updated, up to the root in the in-memory
 * superblock.  The committed trees are therefore never written over.
 *
 * Branch entry i holds a key no greater than every key in child i, and
 * greater than every key in child i - 1.  Leaves are encoded compactly (see
 * codec.c); a node splits when its encoding would not fit a block, unevenly
 * when the insertion was an append, so sequential inserts fill leaves.
 * Nodes that fall under a quarter full are merged with a neighbour.
 */
#include <string.h>

#include "internal.h"

/* ---- node lifetime ---- */

static int node_grow(SsStore *s, SsNode *n, uint32_t need)
{
        if (need <= n->cap)
                return 0;
        size_t before = node_mem(n);
        int r = ss_node_reserve(n, MAX(need, n->cap * 2));
        cache_resized(&s->cache, n, before);
        return r;
}

/* What the pointer that leads to a node says it must be.  A node read from
 * the device is checked against it, as dm-persistent-data's validators and
 * btrfs's tree checker do, so a node with a valid checksum but the wrong
 * content (written to the wrong place, or a stale version) is caught on the
 * read path and not only by ss_check(). */
typedef struct NodeExpect {
        unsigned tree;
        int level;         /* -1: any */
        SsKey lo, hi;      /* every key in [lo, hi) */
        uint64_t max_born; /* not written after its parent (or the last commit) */
        const char *above; /* what max_born is: "its parent" or "the last commit" */
} NodeExpect;

static NodeExpect expect_root(const SsStore *s, unsigned tree)
{
        return (NodeExpect){ .tree = tree,
                             .level = (int)s->sb.roots[tree].depth - 1,
                             .lo = key_make(0, 0),
                             .hi = KEY_MAX,
                             .max_born = s->txn,
                             .above = "the last commit" };
}

/* Child i of branch n, whose own keys lie below hi. */
static NodeExpect expect_child(const SsNode *n, uint32_t i, SsKey hi)
{
        return (NodeExpect){ .tree = n->tree,
                             .level = n->level - 1,
                             .lo = n->keys[i],
                             .hi = i + 1 < n->count ? n->keys[i + 1] : hi,
                             .max_born = n->born,
                             .above = "its parent" };
}

/* Checks a node just read from the device against its pointer. */
static int node_check(const SsNode *n, const NodeExpect *e)
{
        unsigned long long blk = (unsigned long long)n->blocknr;

        if (n->born > e->max_born)
                return ss_error(-EUCLEAN,
                                "B-tree node %llu: written by transaction %llu, after %s "
                                "(transaction %llu): a stale or misplaced block",
                                blk, (unsigned long long)n->born, e->above,
                                (unsigned long long)e->max_born);
        if (n->tree != e->tree || (e->level >= 0 && n->level != e->level))
                return ss_error(-EUCLEAN,
                                "B-tree node %llu: found tree %u level %u where "
                                "tree %u level %d belongs",
                                blk, n->tree, n->level, e->tree, e->level);
        if (key_cmp(n->keys[0], e->lo) < 0 || key_cmp(n->keys[n->count - 1], e->hi) >= 0)
                return ss_error(-EUCLEAN,
                                "B-tree node %llu: keys (%llu, %llu)..(%llu, %llu) outside the "
                                "range [(%llu, %llu), (%llu, %llu)) its parent gives: a stale or "
                                "misplaced block",
                                blk, (unsigned long long)n->keys[0].a,
                                (unsigned long long)n->keys[0].b,
                                (unsigned long long)n->keys[n->count - 1].a,
                                (unsigned long long)n->keys[n->count - 1].b,
                                (unsigned long long)e->lo.a, (unsigned long long)e->lo.b,
                                (unsigned long long)e->hi.a, (unsigned long long)e->hi.b);
        return 0;
}

static int node_read(SsStore *s, uint64_t blocknr, const NodeExpect *e, SsNode **ret)
{
        if (blocknr < SS_FIRST_GROUP_RESERVED || blocknr >= s->sb.store_blocks)
                return store_damaged(s, ss_error(-EUCLEAN,
                                                 "B-tree pointer to block %llu is outside "
                                                 "the store",
                                                 (unsigned long long)blocknr));
        int r = ss_dev_pread(s->dev, s->node_buf, SS_BLOCK_SIZE, blocknr << SS_BLOCK_SHIFT);
        if (r < 0)
                return r;
        SsNode *n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        r = ss_node_decode(s->node_buf, blocknr, s->sb.feature_incompat, n);
        if (r == 0)
                r = node_check(n, e);
        if (r < 0) {
                ss_node_free_arrays(n);
                free(n);
                return store_damaged(s, r);
        }
        cache_insert(&s->cache, n);
        *ret = n;
        return 0;
}

static int node_get_expect(SsStore *s, uint64_t blocknr, const NodeExpect *e, SsNode **ret)
{
        SsNode *n = cache_find(&s->cache, blocknr);

        if (!n) {
                int r = node_read(s, blocknr, e, &n);
                if (r < 0)
                        return r;
        } else {
                cache_touch(&s->cache, n);
        }
        if (n->tree != e->tree || (e->level >= 0 && n->level != e->level))
                return store_damaged(s, ss_error(-EUCLEAN,
                                                 "B-tree node %llu: found tree %u level %u where "
                                                 "tree %u level %d belongs",
                                                 (unsigned long long)blocknr, n->tree, n->level,
                                                 e->tree, e->level));
        n->pins++;
        *ret = n;
        return 0;
}

static int child_get(SsStore *s, SsNode *n, uint32_t i, SsKey hi, SsNode **ret)
{
        NodeExpect e = expect_child(n, i, hi);
        return node_get_expect(s, node_u64(n, i), &e, ret);
}

static int root_get(SsStore *s, unsigned tree, SsNode **ret)
{
        NodeExpect e = expect_root(s, tree);
        return node_get_expect(s, s->sb.roots[tree].block, &e, ret);
}

int node_get_root_at_open(SsStore *s, unsigned tree, SsNode **ret)
{
        NodeExpect e = expect_root(s, tree);
        e.max_born = s->committed.txid;
        return node_get_expect(s, s->sb.roots[tree].block, &e, ret);
}

int node_get(SsStore *s, uint64_t blocknr, unsigned tree, SsNode **ret)
{
        NodeExpect e = { .tree = tree,
                         .level = -1,
                         .lo = key_make(0, 0),
                         .hi = KEY_MAX,
                         .max_born = s->txn,
                         .above = "the last commit" };
        return node_get_expect(s, blocknr, &e, ret);
}

void node_put(SsStore *s, SsNode *n)
{
        (void)s;
        if (n) {
                assert(n->pins > 0);
                n->pins--;
        }
}

static int node_new(SsStore *s, unsigned tree, uint16_t level, SsNode **ret)
{
        uint64_t blk;
        int r = sm_alloc_meta(s, &blk);
        if (r < 0)
                return r;
        SsNode *n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->blocknr = blk;
        n->born = s->txn;
        n->tree = tree;
        n->level = level;
        n->val_size = level ? 8 : tree_leaf_val_size(tree);
        n->snap_compact = level == 0 && tree == SS_TREE_SNAPSHOTS &&
                          (s->sb.feature_incompat & SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS);
        n->dirty = true;
        n->pins = 1;
        cache_insert(&s->cache, n);
        s->sb.roots[tree].nodes++;
        s->txn_dirty = true;
        *ret = n;
        return 0;
}

static int meta_free(SsStore *s, uint64_t blk)
{
        int r = sm_free(s, blk, 1);
        if (r < 0)
                return r;
        s->sb.meta_blocks--;
        return 0;
}

/* Drops a node whose block is freed (its parent no longer points to it). */
static int node_discard(SsStore *s, SsNode *n)
{
        int r = meta_free(s, n->blocknr);
        s->sb.roots[n->tree].nodes--;
        assert(n->pins == 1);
        cache_remove(&s->cache, n);
        ss_node_free_arrays(n);
        free(n);
        return r;
}

/* Makes n writable in the open transaction; its block may change. */
static int node_shadow(SsStore *s, SsNode *n)
{
        s->txn_dirty = true;
        if (n->born == s->txn) {
                n->dirty = true;
                return 0;
        }
        uint64_t blk;
        int r = sm_alloc_meta(s, &blk);
        if (r < 0)
                return r;
        r = meta_free(s, n->blocknr);
        if (r < 0)
                return r;
        cache_remove(&s->cache, n);
        n->blocknr = blk;
        n->born = s->txn;
        n->dirty = true;
        cache_insert(&s->cache, n);
        return 0;
}

/* ---- entries ---- */

static uint32_t node_capacity(const SsNode *n)
{
        return (uint32_t)SS_NODE_PAYLOAD;
}

static bool node_overfull(const SsNode *n)
{
        return n->enc_bytes > node_capacity(n) || n->count > UINT16_MAX;
}

static bool node_underfull(const SsNode *n)
{
        return n->enc_bytes < node_capacity(n) / 4;
}

static uint32_t entry_bytes(const SsNode *n, uint32_t i)
{
        return ss_leaf_entry_bytes(n, (int32_t)i - 1, i);
}

static void node_recount(SsNode *n)
{
        uint32_t total = 0;

        for (uint32_t i = 0; i < n->count; i++)
                total += entry_bytes(n, i);
        n->enc_bytes = total;
}

/* Bytes that entries i and i + 1 take, as encoded after their predecessor. */
static uint32_t pair_bytes(const SsNode *n, uint32_t i)
{
        uint32_t b = i < n->count ? entry_bytes(n, i) : 0;
        return b + (i + 1 < n->count ? entry_bytes(n, i + 1) : 0);
}

/* First index whose key is >= key. */
static uint32_t lower_bound(const SsNode *n, SsKey key)
{
        uint32_t lo = 0, hi = n->count;

        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (key_cmp(n->keys[mid], key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* Child of a branch that may hold key: the last entry <= key, or 0. */
static uint32_t child_index(const SsNode *n, SsKey key)
{
        uint32_t i = lower_bound(n, key);

        if (i < n->count && key_cmp(n->keys[i], key) == 0)
                return i;
        return i ? i - 1 : 0;
}

static int entry_insert(SsStore *s, SsNode *n, uint32_t i, SsKey key, const void *val)
{
        int r = node_grow(s, n, n->count + 1);
        if (r < 0)
                return r;
        uint32_t before = i < n->count ? entry_bytes(n, i) : 0;
        memmove(n->keys + i + 1, n->keys + i, (n->count - i) * sizeof(SsKey));
        if (n->val_size)
                memmove(n->vals + (size_t)(i + 1) * n->val_size, n->vals + (size_t)i * n->val_size,
                        (size_t)(n->count - i) * n->val_size);
        n->keys[i] = key;
        if (n->val_size)
                memcpy(n->vals + (size_t)i * n->val_size, val, n->val_size);
        n->count++;
        n->enc_bytes = n->enc_bytes - before + pair_bytes(n, i);
        return 0;
}

static void entry_remove(SsNode *n, uint32_t i)
{
        uint32_t before = pair_bytes(n, i);

        memmove(n->keys + i, n->keys + i + 1, (n->count - i - 1) * sizeof(SsKey));
        if (n->val_size)
                memmove(n->vals + (size_t)i * n->val_size, n->vals + (size_t)(i + 1) * n->val_size,
                        (size_t)(n->count - i - 1) * n->val_size);
        n->count--;
        n->enc_bytes = n->enc_bytes - before + (i < n->count ? entry_bytes(n, i) : 0);
}

static void entry_set_val(SsNode *n, uint32_t i, const void *val)
{
        uint32_t before = pair_bytes(n, i);

        memcpy(n->vals + (size_t)i * n->val_size, val, n->val_size);
        n->enc_bytes = n->enc_bytes - before + pair_bytes(n, i);
}

static void entry_set_key(SsNode *n, uint32_t i, SsKey key)
{
        uint32_t before = pair_bytes(n, i);

        n->keys[i] = key;
        n->enc_bytes = n->enc_bytes - before + pair_bytes(n, i);
}

/* Moves entries [from, count) of n into the empty node right. */
static int move_tail(SsStore *s, SsNode *n, uint32_t from, SsNode *right)
{
        uint32_t k = n->count - from;
        int r = node_grow(s, right, k);
        if (r < 0)
                return r;
        memcpy(right->keys, n->keys + from, k * sizeof(SsKey));
        if (n->val_size)
                memcpy(right->vals, n->vals + (size_t)from * n->val_size, (size_t)k * n->val_size);
        right->count = k;
        n->count = from;
        node_recount(n);
        node_recount(right);
        return 0;
}

/* Appends all of right to left. */
static int append_all(SsStore *s, SsNode *left, const SsNode *right)
{
        int r = node_grow(s, left, left->count + right->count);
        if (r < 0)
                return r;
        memcpy(left->keys + left->count, right->keys, right->count * sizeof(SsKey));
        if (left->val_size)
                memcpy(left->vals + (size_t)left->count * left->val_size, right->vals,
                       (size_t)right->count * right->val_size);
        left->count += right->count;
        node_recount(left);
        return 0;
}

/* ---- insert ---- */

static int split(SsStore *s, SsNode *n, uint32_t inserted_at, SsNode **ret_right)
{
        uint32_t at;

        if (inserted_at == n->count - 1 && n->count > 1) {
                at = n->count - 1; /* append: keep the left node full */
        } else {
                uint32_t half = n->enc_bytes / 2, acc = 0;
                for (at = 0; at < n->count - 1 && acc < half; at++)
                        acc += entry_bytes(n, at);
                at = MAX(at, 1u);
        }
        SsNode *right;
        int r = node_new(s, n->tree, n->level, &right);
        if (r < 0)
                return r;
        right->val_size = n->val_size;
        r = move_tail(s, n, at, right);
        if (r < 0) {
                node_put(s, right);
                return r;
        }
        *ret_right = right;
        return 0;
}

static int insert_into(SsStore *s, SsNode *n, SsKey hi, SsKey key, const void *val, bool replace,
                       SsNode **ret_split)
{
        int r;

        *ret_split = NULL;
        if (n->level == 0) {
                uint32_t i = lower_bound(n, key);
                if (i < n->count && key_cmp(n->keys[i], key) == 0) {
                        if (!replace)
                                return -EEXIST;
                        /* A longer value (a compact snapshot record with
                         * a longer name) may overfill the leaf. */
                        entry_set_val(n, i, val);
                        return node_overfull(n) ? split(s, n, i, ret_split) : 0;
                }
                r = entry_insert(s, n, i, key, val);
                if (r < 0)
                        return r;
                s->sb.roots[n->tree].entries++;
                return node_overfull(n) ? split(s, n, i, ret_split) : 0;
        }

        uint32_t ci = child_index(n, key);
        SsKey child_hi = ci + 1 < n->count ? n->keys[ci + 1] : hi;
        SsNode *child, *right;
        r = child_get(s, n, ci, hi, &child);
        if (r < 0)
                return r;
        r = node_shadow(s, child);
        if (r == 0) {
                uint64_t blk = child->blocknr;
                entry_set_val(n, ci, &blk);
                if (key_cmp(key, n->keys[ci]) < 0)
                        entry_set_key(n, ci, key);
                r = insert_into(s, child, child_hi, key, val, replace, &right);
        }
        node_put(s, child);
        if (r < 0 || !right)
                return r;
        uint64_t rblk = right->blocknr;
        SsKey rkey = right->keys[0];
        node_put(s, right);
        r = entry_insert(s, n, ci + 1, rkey, &rblk);
        if (r < 0)
                return r;
        return node_overfull(n) ? split(s, n, ci + 1, ret_split) : 0;
}

static int root_get_shadowed(SsStore *s, unsigned tree, SsNode **ret)
{
        SsRoot *root = &s->sb.roots[tree];
        SsNode *n;
        int r = root_get(s, tree, &n);
        if (r < 0)
                return r;
        r = node_shadow(s, n);
        if (r < 0) {
                node_put(s, n);
                return r;
        }
        root->block = n->blocknr;
        *ret = n;
        return 0;
}

int bt_insert(SsStore *s, unsigned tree, SsKey key, const void *val, bool replace)
{
        SsRoot *root = &s->sb.roots[tree];
        SsNode *n, *right;
        int r;

        if (root->block == 0) {
                r = node_new(s, tree, 0, &n);
                if (r < 0)
                        return r;
                r = entry_insert(s, n, 0, key, val);
                if (r == 0) {
                        root->block = n->blocknr;
                        root->depth = 1;
                        root->entries = 1;
                }
                node_put(s, n);
                return r;
        }
        r = root_get_shadowed(s, tree, &n);
        if (r < 0)
                return r;
        r = insert_into(s, n, KEY_MAX, key, val, replace, &right);
        if (r < 0 || !right) {
                node_put(s, n);
                return r;
        }
        SsNode *top;
        r = node_new(s, tree, (uint16_t)(n->level + 1), &top);
        if (r == 0) {
                uint64_t lblk = n->blocknr, rblk = right->blocknr;
                r = entry_insert(s, top, 0, n->keys[0], &lblk);
                if (r == 0)
                        r = entry_insert(s, top, 1, right->keys[0], &rblk);
                if (r == 0) {
                        root->block = top->blocknr;
                        root->depth++;
                }
                node_put(s, top);
        }
        node_put(s, right);
        node_put(s, n);
        return r;
}

/* ---- delete ---- */

/* Merges child ci of branch n with a neighbour if both are small. */
static int rebalance(SsStore *s, SsNode *n, SsKey hi, uint32_t ci, SsNode *child)
{
        if (child->count == 0) {
                entry_remove(n, ci);
                return 1; /* caller discards child */
        }
        if (!node_underfull(child) || n->count < 2)
                return 0;

        bool with_right = ci + 1 < n->count;
        uint32_t si = with_right ? ci + 1 : ci - 1;
        SsNode *sib;
        int r = child_get(s, n, si, hi, &sib);
        if (r < 0)
                return r;
        if (sib->enc_bytes + child->enc_bytes + 32 > node_capacity(child) * 3 / 4) {
                node_put(s, sib);
                return 0;
        }
        if (with_right) {
                /* child absorbs its right neighbour, which is freed. */
                r = append_all(s, child, sib);
                if (r == 0) {
                        entry_remove(n, si);
                        r = node_discard(s, sib);
                } else {
                        node_put(s, sib);
                }
                return r;
        }
        /* The left neighbour absorbs child; the caller discards child. */
        r = node_shadow(s, sib);
        if (r == 0)
                r = append_all(s, sib, child);
        if (r == 0) {
                uint64_t blk = sib->blocknr;
                entry_set_val(n, si, &blk);
                entry_remove(n, ci);
                r = 1;
        }
        node_put(s, sib);
        return r;
}

static int delete_from(SsStore *s, SsNode *n, SsKey hi, SsKey key)
{
        if (n->level == 0) {
                uint32_t i = lower_bound(n, key);
                if (i >= n->count || key_cmp(n->keys[i], key) != 0)
                        return -ENOENT;
                entry_remove(n, i);
                s->sb.roots[n->tree].entries--;
                return 0;
        }
        uint32_t ci = child_index(n, key);
        SsKey child_hi = ci + 1 < n->count ? n->keys[ci + 1] : hi;
        SsNode *child;
        int r = child_get(s, n, ci, hi, &child);
        if (r < 0)
                return r;
        r = node_shadow(s, child);
        if (r == 0) {
                uint64_t blk = child->blocknr;
                entry_set_val(n, ci, &blk);
                r = delete_from(s, child, child_hi, key);
        }
        if (r == 0)
                r = rebalance(s, n, hi, ci, child);
        if (r == 1)
                return node_discard(s, child);
        node_put(s, child);
        return r;
}

int bt_delete(SsStore *s, unsigned tree, SsKey key)
{
        SsRoot *root = &s->sb.roots[tree];
        SsNode *n;

        int r = bt_lookup(s, tree, key, NULL);
        if (r < 0)
                return r;
        r = root_get_shadowed(s, tree, &n);
        if (r < 0)
                return r;
        r = delete_from(s, n, KEY_MAX, key);
        if (r < 0) {
                node_put(s, n);
                return r;
        }
        /* Shrink the tree from the top. */
        while (n->level > 0 && n->count == 1) {
                SsNode *child;
                r = child_get(s, n, 0, KEY_MAX, &child);
                if (r < 0)
                        break;
                r = node_discard(s, n);
                n = child;
                root->block = n->blocknr;
                root->depth--;
                if (r < 0)
                        break;
        }
        if (r == 0 && n->count == 0) {
                r = node_discard(s, n);
                root->block = 0;
                root->depth = 0;
                return r;
        }
        node_put(s, n);
        return r;
}

/* ---- lookups ---- */

typedef struct BtPath {
        SsNode *node[SS_MAX_DEPTH];
        uint32_t idx[SS_MAX_DEPTH];
        SsKey hi[SS_MAX_DEPTH]; /* upper bound of each node's keys */
        uint32_t depth;         /* nodes held */
} BtPath;

static void path_release(SsStore *s, BtPath *p)
{
        for (uint32_t l = 0; l < p->depth; l++)
                node_put(s, p->node[l]);
        p->depth = 0;
}

/* Descends from p->node[p->depth - 1] at p->idx along the leftmost (or
 * rightmost) edge down to a leaf. */
static int path_descend(SsStore *s, unsigned tree, BtPath *p, bool rightmost)
{
        while (p->node[p->depth - 1]->level > 0) {
                SsNode *top = p->node[p->depth - 1], *child;
                uint32_t i = p->idx[p->depth - 1];
                int r = child_get(s, top, i, p->hi[p->depth - 1], &child);
                if (r < 0)
                        return r;
                p->hi[p->depth] = i + 1 < top->count ? top->keys[i + 1] : p->hi[p->depth - 1];
                p->node[p->depth] = child;
                p->idx[p->depth] = rightmost ? child->count - 1 : 0;
                p->depth++;
        }
        return 0;
}

/* Positions p at the first entry >= key; -ENOENT if there is none. */
static int path_seek(SsStore *s, unsigned tree, SsKey key, BtPath *p)
{
        SsRoot *root = &s->sb.roots[tree];

        p->depth = 0;
        if (root->block == 0)
                return -ENOENT;
        for (int level = (int)root->depth - 1; level >= 0; level--) {
                SsNode *n;
                int r;
                if (p->depth == 0) {
                        r = root_get(s, tree, &n);
                        p->hi[0] = KEY_MAX;
                } else {
                        SsNode *top = p->node[p->depth - 1];
                        uint32_t i = p->idx[p->depth - 1];
                        r = child_get(s, top, i, p->hi[p->depth - 1], &n);
                        p->hi[p->depth] =
                                i + 1 < top->count ? top->keys[i + 1] : p->hi[p->depth - 1];
                }
                if (r < 0) {
                        path_release(s, p);
                        return r;
                }
                p->node[p->depth] = n;
                p->idx[p->depth] = level ? child_index(n, key) : lower_bound(n, key);
                p->depth++;
        }
        return 0;
}

/* Moves to the next leaf entry when idx ran off the end of the leaf. */
static int path_fix_forward(SsStore *s, unsigned tree, BtPath *p)
{
        uint32_t l = p->depth - 1;

        if (p->idx[l] < p->node[l]->count)
                return 0;
        while (l > 0) {
                node_put(s, p->node[l]);
                p->depth--;
                l--;
                if (++p->idx[l] < p->node[l]->count)
                        return path_descend(s, tree, p, false);
        }
        return -ENOENT;
}

static int path_prev(SsStore *s, unsigned tree, BtPath *p)
{
        uint32_t l = p->depth - 1;

        if (p->idx[l] > 0) {
                p->idx[l]--;
                return 0;
        }
        while (l > 0) {
                node_put(s, p->node[l]);
                p->depth--;
                l--;
                if (p->idx[l] > 0) {
                        p->idx[l]--;
                        return path_descend(s, tree, p, true);
                }
        }
        return -ENOENT;
}

static void path_entry(const BtPath *p, SsKey *ret_key, void *ret_val)
{
        const SsNode *leaf = p->node[p->depth - 1];
        uint32_t i = p->idx[p->depth - 1];

        if (ret_key)
                *ret_key = leaf->keys[i];
        if (ret_val && leaf->val_size)
                memcpy(ret_val, leaf->vals + (size_t)i * leaf->val_size, leaf->val_size);
}

int bt_seek_ge(SsStore *s, unsigned tree, SsKey key, SsKey *ret_key, void *ret_val)
{
        BtPath p;
        int r = path_seek(s, tree, key, &p);
        if (r < 0)
                return r;
        r = path_fix_forward(s, tree, &p);
        if (r == 0)
                path_entry(&p, ret_key, ret_val);
        path_release(s, &p);
        return r;
}

int bt_seek_le(SsStore *s, unsigned tree, SsKey key, SsKey *ret_key, void *ret_val)
{
        BtPath p;
        int r = path_seek(s, tree, key, &p);
        if (r < 0)
                return r;
        const SsNode *leaf = p.node[p.depth - 1];
        uint32_t i = p.idx[p.depth - 1];
        if (!(i < leaf->count && key_cmp(leaf->keys[i], key) == 0))
                r = path_prev(s, tree, &p); /* lower_bound overshot by one */
        else if (i >= leaf->count)
                r = -ENOENT;
        if (r == 0)
                path_entry(&p, ret_key, ret_val);
        path_release(s, &p);
        return r;
}

int bt_lookup(SsStore *s, unsigned tree, SsKey key, void *ret_val)
{
        SsKey found;
        int r = bt_seek_ge(s, tree, key, &found, ret_val);
        if (r < 0)
                return r;
        return key_cmp(found, key) == 0 ? 0 : -ENOENT;
}

int bt_scan(SsStore *s, unsigned tree, SsKey from, SsKey to, size_t max, SsKey *ret_keys,
            void *ret_vals)
{
        BtPath p;
        size_t n = 0, vs = tree_leaf_val_size(tree);
        int r = path_seek(s, tree, from, &p);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        while (n < max) {
                r = path_fix_forward(s, tree, &p);
                if (r == -ENOENT) {
                        r = 0;
                        break;
                }
                if (r < 0)
                        break;
                SsKey k;
                path_entry(&p, &k, ret_vals ? (uint8_t *)ret_vals + n * vs : NULL);
                if (key_cmp(k, to) >= 0)
                        break;
                ret_keys[n++] = k;
                p.idx[p.depth - 1]++;
        }
        path_release(s, &p);
        return r < 0 ? r : (int)n;
}

/* ---- walking every node (checker, dump) ---- */

static int walk(SsStore *s, uint64_t blk, const NodeExpect *e, SsNodeVisitor fn, void *user)
{
        SsNode *n;
        int r = node_get_expect(s, blk, e, &n);
        if (r < 0)
                return r;
        r = fn(s, n, e->lo, e->hi, user);
        for (uint32_t i = 0; r >= 0 && n->level > 0 && i < n->count; i++) {
                NodeExpect ce = expect_child(n, i, e->hi);
                r = walk(s, node_u64(n, i), &ce, fn, user);
        }
        node_put(s, n);
        if (r >= 0)
                r = cache_shrink(s) < 0 ? -EIO : r;
        return r;
}

int bt_walk(SsStore *s, unsigned tree, SsNodeVisitor fn, void *user)
{
        SsRoot *root = &s->sb.roots[tree];

        if (root->block == 0)
                return 0;
        NodeExpect e = expect_root(s, tree);
        return walk(s, root->block, &e, fn, user);
}
