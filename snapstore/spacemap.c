/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The space map: one bitmap block per group of SS_GROUP_BLOCKS blocks, a bit
 * per 4 KiB block.
 *
 * Crash safety without recursion: each group's bitmap has two fixed slots
 * (the group's first two blocks).  The committed superblock says which slot
 * is current.  A transaction writes a changed bitmap to the other slot, and
 * the new superblock, written last, flips the slot bit.  The other slot is
 * only referenced by the superblock copy that the commit overwrites, so a
 * crash at any point leaves the newest valid superblock with intact bitmaps.
 *
 * A block freed in the open transaction is still referenced by the committed
 * trees, so it must not be reused before the commit: a block is allocatable
 * only if it is clear both in the current bitmap and in the bitmap as last
 * committed (kept in memory for every group the transaction dirtied).
 *
 * Placement: data chunks take chunk-aligned runs, next-fit from a cursor.
 * Metadata blocks go into chunks that already hold metadata when the current
 * group has one, else they open a fresh chunk, so metadata does not splinter
 * the space that data chunks need.
 *
 * Copy-outs are placed in origin order where they can be.  A snapshot is
 * read in origin order, and its chunks read fastest when the store holds
 * them in that order too (adjacent extents merge into one read), but churn
 * copies chunks out in random order.  So the copy of origin chunk c first
 * tries one fixed place, the c-th chunk slot of the store (slots are the
 * chunk-aligned runs outside the groups' bitmap and superblock heads;
 * scaled down when the store has fewer slots than the origin has chunks).
 * The first copy of every chunk, which every snapshot older than the
 * chunk's first write reads, lands there when nothing else took it; a
 * later copy of c finds it taken and goes next-fit like any other chunk.
 * When the store has more slots than the origin has chunks, the cursors
 * start past the origin's slots, so the next-fit copies and the metadata
 * leave the slots of chunks not yet copied alone until the rest is full.
 * The price: random copy-outs land all over the store instead of one after
 * the other.  On a device, or a store file written through once, that
 * measured the same; on a sparse store file the file system allocates
 * scattered blocks (random 4 KiB copy-outs ~10% slower, within the noise).
 *
 * Reservations.  A copy-out plan (origin.c, THE SPLIT COPY-OUT) writes its
 * chunks to store blocks before any transaction records them, without the
 * caller's lock.  Its blocks are reserved: set in the group's `reserved`
 * bitmap, in memory only, and left clear in `bits`.  Every allocation skips
 * them (allocatable(), word_full()), so nothing else takes them; no
 * transaction writes them as used, so no commit by another operation makes
 * them durable and txn_abort() leaves them alone; and as they were clear
 * in the current and in the committed bitmap when reserved, no committed
 * metadata references them: a crash leaves only garbage in free blocks.
 * Claiming one (the plan's apply) clears the reservation and allocates it
 * in the open transaction, which commits it with the exception that
 * references it; releasing one just clears the reservation.  Data
 * allocations leave room for the reserved blocks as for the metadata
 * reserve.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define GROUP_BYTES (SS_GROUP_BLOCKS / 8)

static uint64_t group_start(uint32_t g)
{
        return (uint64_t)g * SS_GROUP_BLOCKS;
}

uint64_t sm_bitmap_block(const SsStore *s, uint32_t g, unsigned slot)
{
        (void)s;
        return (g == 0 ? SS_FIRST_GROUP_RESERVED : group_start(g)) + slot;
}

uint64_t sm_group_first_free(uint32_t g)
{
        return (g == 0 ? SS_FIRST_GROUP_RESERVED : group_start(g)) + 2;
}

static unsigned slot_of(const SsSuper *sb, uint32_t g)
{
        return (sb->slot_bits[g / 8] >> (g % 8)) & 1;
}

static void slot_flip(SsSuper *sb, uint32_t g)
{
        sb->slot_bits[g / 8] ^= (uint8_t)(1u << (g % 8));
}

static bool bit_get(const uint8_t *bits, uint32_t i)
{
        return (bits[i / 8] >> (i % 8)) & 1;
}

static void bit_set(uint8_t *bits, uint32_t i, bool v)
{
        if (v)
                bits[i / 8] |= (uint8_t)(1u << (i % 8));
        else
                bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

static uint32_t count_free(const uint8_t *bits)
{
        uint32_t used = 0;

        for (uint32_t i = 0; i < GROUP_BYTES; i += 8) {
                uint64_t w;
                memcpy(&w, bits + i, 8);
                used += (uint32_t)__builtin_popcountll(w);
        }
        return SS_GROUP_BLOCKS - used;
}

/* Fills bits for group g of a store of store_blocks blocks: reserved blocks
 * and blocks past the end are marked used.  Returns the free count. */
int sm_format_group(SsStore *s, uint32_t g, uint64_t store_blocks, uint8_t *bits)
{
        (void)s;
        memset(bits, 0, GROUP_BYTES);
        uint64_t start = group_start(g);
        for (uint64_t b = start; b < sm_group_first_free(g); b++)
                bit_set(bits, (uint32_t)(b - start), true);
        for (uint64_t b = MAX(start, store_blocks); b < start + SS_GROUP_BLOCKS; b++)
                bit_set(bits, (uint32_t)(b - start), true);
        return (int)count_free(bits);
}

/* Chunks of the head of group g: its bitmaps (and, in group 0, the
 * superblock areas) keep them from data. */
static uint64_t head_chunks(const SsStore *s, uint32_t g)
{
        uint32_t cb = s->chunk_blocks;
        return (sm_group_first_free(g) - group_start(g) + cb - 1) / cb;
}

/* First block of copy slot k (see the top of the file); may lie past the
 * end of the store. */
static uint64_t slot_block(const SsStore *s, uint64_t k)
{
        uint32_t cb = s->chunk_blocks;
        uint64_t per = SS_GROUP_BLOCKS / cb, in_first = per - head_chunks(s, 0);

        if (k < in_first)
                return (head_chunks(s, 0) + k) * cb;
        k -= in_first;
        uint64_t in_other = per - head_chunks(s, 1);
        return (1 + k / in_other) * SS_GROUP_BLOCKS + (head_chunks(s, 1) + k % in_other) * cb;
}

/* Copy slots that lie wholly inside a store of store_blocks blocks. */
static uint64_t slot_count(const SsStore *s, uint64_t store_blocks)
{
        uint32_t cb = s->chunk_blocks;
        uint64_t n = 0;

        for (uint32_t g = 0; (uint64_t)g * SS_GROUP_BLOCKS < store_blocks; g++) {
                uint64_t first = group_start(g) + head_chunks(s, g) * cb;
                uint64_t end = MIN(group_start(g) + SS_GROUP_BLOCKS, store_blocks);
                if (end > first)
                        n += (end - first) / cb;
        }
        return n;
}

/* Where the copy of origin chunk c goes first. */
static uint64_t copy_slot(SsStore *s, uint64_t c)
{
        SsSpaceMap *sm = &s->sm;
        uint64_t chunks = origin_chunks(s, s->sb.origin_size);

        if (sm->slots_for != s->sb.store_blocks) {
                sm->slots = slot_count(s, s->sb.store_blocks);
                sm->slots_for = s->sb.store_blocks;
        }
        if (sm->slots >= chunks)
                return slot_block(s, c);
        return slot_block(s, (uint64_t)((unsigned __int128)c * sm->slots / chunks));
}

int sm_init(SsStore *s)
{
        SsSpaceMap *sm = &s->sm;

        memset(sm, 0, sizeof(*sm));
        sm->ngroups = s->sb.group_count;
        sm->groups = calloc(sm->ngroups, sizeof(*sm->groups));
        if (!sm->groups)
                return -ENOMEM;
        /* Bitmaps share the cache budget with the nodes: an eighth of it. */
        sm->max_loaded = (uint32_t)MAX(s->cache.budget / 8 / SS_BLOCK_SIZE, 16u);
        sm->data_cursor = sm_group_first_free(0);
        sm->meta_cursor = sm_group_first_free(0);
        uint64_t chunks = origin_chunks(s, s->sb.origin_size);
        if (slot_count(s, s->sb.store_blocks) > chunks)
                sm->data_cursor = sm->meta_cursor = slot_block(s, chunks);
        return 0;
}

void sm_destroy(SsSpaceMap *sm)
{
        for (uint32_t g = 0; g < sm->ngroups; g++) {
                free(sm->groups[g].bits);
                free(sm->groups[g].committed);
                free(sm->groups[g].reserved);
        }
        free(sm->groups);
        sm->groups = NULL;
        sm->ngroups = 0;
}

static int check_bitmap(const uint8_t *buf, uint64_t blk, uint32_t g, uint16_t expect_free,
                        uint64_t max_txid, uint8_t *bits)
{
        int r = ss_block_verify(buf, SS_MAGIC_BITMAP, blk, "space map");
        if (r < 0)
                return r;
        const SsDiskBitmap *d = (const SsDiskBitmap *)buf;
        if (LE_GET(d->group) != g)
                return ss_error(-EUCLEAN, "space map block %llu: belongs to group %u, not %u",
                                (unsigned long long)blk, LE_GET(d->group), g);
        if (LE_GET(d->hdr.txid) > max_txid)
                return ss_error(-EUCLEAN,
                                "space map block %llu: written by transaction %llu, after the "
                                "last commit (transaction %llu)",
                                (unsigned long long)blk, (unsigned long long)LE_GET(d->hdr.txid),
                                (unsigned long long)max_txid);
        memcpy(bits, d->bits, GROUP_BYTES);
        uint32_t nfree = count_free(bits);
        if (nfree != LE_GET(d->free_blocks) || nfree != expect_free)
                return ss_error(-EUCLEAN,
                                "space map block %llu: %u free blocks, "
                                "superblock says %u",
                                (unsigned long long)blk, nfree, expect_free);
        return 0;
}

/* Reads the bitmap of group g in slot; corrupt contents mark the store damaged. */
static int read_bitmap(SsStore *s, uint32_t g, unsigned slot, uint16_t expect_free,
                       uint64_t max_txid, uint8_t *bits)
{
        uint64_t blk = sm_bitmap_block(s, g, slot);
        int r = ss_dev_pread(s->dev, s->block_buf, SS_BLOCK_SIZE, blk << SS_BLOCK_SHIFT);
        if (r < 0)
                return r;
        return store_damaged(s, check_bitmap(s->block_buf, blk, g, expect_free, max_txid, bits));
}

/* Open reads the current bitmap of every group (a block per 126 MiB), so a
 * store whose space map is damaged is refused before it allocates from it. */
int sm_verify_current(SsStore *s)
{
        const SsSuper *sb = &s->committed;
        uint8_t *bits = malloc(GROUP_BYTES);
        int r = bits ? 0 : -ENOMEM;

        for (uint32_t g = 0; r == 0 && g < sb->group_count; g++) {
                r = read_bitmap(s, g, slot_of(sb, g), sb->group_free[g], sb->txid, bits);
                if (r == -EUCLEAN || r == -EILSEQ)
                        r = ss_error(-EUCLEAN, "store %s: current space map of group %u: %s",
                                     s->dev->name, g, ss_last_error());
        }
        free(bits);
        return r;
}

/* Loads a group's bitmap as committed (for the checker), into a new buffer. */
int sm_load_group(SsStore *s, uint32_t g, bool committed_slot, uint8_t **ret_bits)
{
        const SsSuper *sb = committed_slot ? &s->committed : &s->sb;
        uint8_t *bits = malloc(GROUP_BYTES);
        if (!bits)
                return -ENOMEM;
        int r = read_bitmap(s, g, slot_of(sb, g), sb->group_free[g], sb->txid, bits);
        if (r < 0) {
                free(bits);
                return r;
        }
        *ret_bits = bits;
        return 0;
}

static void evict_clean(SsSpaceMap *sm)
{
        for (uint32_t tries = 0; sm->loaded > sm->max_loaded && tries < sm->ngroups; tries++) {
                SsGroup *grp = &sm->groups[sm->tick++ % sm->ngroups];
                if (grp->bits && !grp->dirty) {
                        free(grp->bits);
                        grp->bits = NULL;
                        sm->loaded--;
                }
        }
}

static int group_get(SsStore *s, uint32_t g, SsGroup **ret)
{
        SsSpaceMap *sm = &s->sm;
        SsGroup *grp = &sm->groups[g];

        if (!grp->bits) {
                uint8_t *bits = malloc(GROUP_BYTES);
                if (!bits)
                        return -ENOMEM;
                /* Not dirty, so the current slot and count are the committed ones. */
                int r = read_bitmap(s, g, slot_of(&s->committed, g), s->committed.group_free[g],
                                    s->txn, bits);
                if (r < 0) {
                        free(bits);
                        return r;
                }
                evict_clean(sm);
                grp->bits = bits;
                sm->loaded++;
        }
        *ret = grp;
        return 0;
}

static int group_dirty(SsStore *s, SsGroup *grp)
{
        if (grp->dirty)
                return 0;
        grp->committed = malloc(GROUP_BYTES);
        if (!grp->committed)
                return -ENOMEM;
        memcpy(grp->committed, grp->bits, GROUP_BYTES);
        grp->dirty = true;
        s->txn_dirty = true;
        return 0;
}

static bool allocatable(const SsGroup *grp, uint32_t i)
{
        return !bit_get(grp->bits, i) && !(grp->committed && bit_get(grp->committed, i)) &&
               !(grp->reserved && bit_get(grp->reserved, i));
}

/* Are blocks [i, i + 64) all taken, now or as committed?  i % 64 == 0. */
static bool word_full(const SsGroup *grp, uint32_t i)
{
        uint64_t w, c = 0, v = 0;

        memcpy(&w, grp->bits + i / 8, 8);
        if (grp->committed)
                memcpy(&c, grp->committed + i / 8, 8);
        if (grp->reserved)
                memcpy(&v, grp->reserved + i / 8, 8);
        return (w | c | v) == UINT64_MAX;
}

/* No block of [i, i + 64) in use now: no chunk there holds metadata. */
static bool word_empty(const SsGroup *grp, uint32_t i)
{
        uint64_t w;

        memcpy(&w, grp->bits + i / 8, 8);
        return w == 0;
}

static bool run_allocatable(const SsGroup *grp, uint32_t i, uint32_t len)
{
        for (uint32_t k = 0; k < len; k++)
                if (!allocatable(grp, i + k))
                        return false;
        return true;
}

static bool run_has_used(const SsGroup *grp, uint32_t i, uint32_t len)
{
        for (uint32_t k = 0; k < len; k++)
                if (bit_get(grp->bits, i + k))
                        return true;
        return false;
}

static int mark(SsStore *s, uint32_t g, uint32_t i, uint32_t len, bool used)
{
        SsGroup *grp;
        int r = group_get(s, g, &grp);
        if (r < 0)
                return r;
        r = group_dirty(s, grp);
        if (r < 0)
                return r;
        for (uint32_t k = 0; k < len; k++) {
                if (bit_get(grp->bits, i + k) == used)
                        return store_damaged(
                                s, ss_error(-EUCLEAN, "space map: block %llu is already %s",
                                            (unsigned long long)(group_start(g) + i + k),
                                            used ? "in use" : "free"));
        }
        for (uint32_t k = 0; k < len; k++)
                bit_set(grp->bits, i + k, used);
        if (used) {
                s->sb.group_free[g] -= (uint16_t)len;
                s->sb.free_blocks -= len;
        } else {
                s->sb.group_free[g] += (uint16_t)len;
                s->sb.free_blocks += len;
        }
        return 0;
}

/* First allocatable aligned run of len blocks in group g at or after block
 * `from`, or -ENOSPC. */
static int find_run(SsStore *s, uint32_t g, uint64_t from, uint32_t len, uint64_t *ret)
{
        SsGroup *grp;

        if (s->sb.group_free[g] < len)
                return -ENOSPC;
        int r = group_get(s, g, &grp);
        if (r < 0)
                return r;
        uint64_t start = group_start(g);
        uint32_t i = from > start ? (uint32_t)(from - start) : 0;
        i = (i + len - 1) & ~(len - 1);
        for (; i + len <= SS_GROUP_BLOCKS; i += len) {
                if (len <= 64 && i % 64 == 0 && i + 64 <= SS_GROUP_BLOCKS && word_full(grp, i)) {
                        i += 64 - len;
                        continue;
                }
                if (run_allocatable(grp, i, len)) {
                        *ret = start + i;
                        return 0;
                }
        }
        return -ENOSPC;
}

static int reserve(SsStore *s, uint32_t g, uint32_t i, uint32_t len)
{
        SsGroup *grp = &s->sm.groups[g];

        if (!grp->reserved) {
                grp->reserved = calloc(1, GROUP_BYTES);
                if (!grp->reserved)
                        return -ENOMEM;
        }
        for (uint32_t k = 0; k < len; k++) {
                assert(!bit_get(grp->reserved, i + k) && !bit_get(grp->bits, i + k));
                bit_set(grp->reserved, i + k, true);
        }
        s->sm.reserved_blocks += len;
        return 0;
}

/* Allocates (mark used) or reserves a run the search found free. */
static int take(SsStore *s, uint32_t g, uint32_t i, uint32_t len, bool reserving)
{
        return reserving ? reserve(s, g, i, len) : mark(s, g, i, len, true);
}

static int alloc_run(SsStore *s, uint64_t *cursor, uint32_t len, bool reserving, uint64_t *ret)
{
        SsSpaceMap *sm = &s->sm;
        uint32_t g0 = (uint32_t)(*cursor / SS_GROUP_BLOCKS) % sm->ngroups;

        for (uint32_t n = 0; n <= sm->ngroups; n++) {
                uint32_t g = (g0 + n) % sm->ngroups;
                uint64_t from = n == 0 ? *cursor : group_start(g);
                uint64_t blk;
                int r = find_run(s, g, from, len, &blk);
                if (r == -ENOSPC)
                        continue;
                if (r < 0)
                        return r;
                r = take(s, g, (uint32_t)(blk - group_start(g)), len, reserving);
                if (r < 0)
                        return r;
                *cursor = blk + len;
                *ret = blk;
                return 0;
        }
        return ss_error(-ENOSPC, "store %s is full", s->dev->name);
}

/* Blocks that data may not take: freeing space needs metadata blocks first
 * (copy-on-write), so a store full of data must still be able to delete. */
static uint64_t metadata_reserve(const SsStore *s)
{
        return MIN(MAX(s->sb.store_blocks / 64, 16u), 2048u);
}

/* Room for one more data chunk: the metadata reserve and the reserved
 * blocks stay free. */
static bool data_room(const SsStore *s)
{
        return s->sb.free_blocks - s->sm.reserved_blocks >= s->chunk_blocks + metadata_reserve(s);
}

static int alloc_chunk(SsStore *s, bool reserving, uint64_t *ret_block)
{
        uint64_t blk;

        if (!data_room(s))
                return ss_error(-ENOSPC, "store %s is full", s->dev->name);
        int r = alloc_run(s, &s->sm.data_cursor, s->chunk_blocks, reserving, &blk);
        if (r < 0)
                return r;
        if (!reserving)
                s->sb.data_blocks += s->chunk_blocks;
        *ret_block = blk;
        return 0;
}

int sm_alloc_chunk(SsStore *s, uint64_t *ret_block)
{
        return alloc_chunk(s, false, ret_block);
}

/* The chunk at hint (rounded down to a chunk boundary) if it is
 * allocatable, else the next-fit chunk. */
static int alloc_chunk_near(SsStore *s, uint64_t hint, bool reserving, uint64_t *ret_block)
{
        uint32_t cb = s->chunk_blocks;
        uint64_t blk = hint & ~(uint64_t)(cb - 1);
        uint32_t g = (uint32_t)MIN(blk / SS_GROUP_BLOCKS, (uint64_t)UINT32_MAX);

        if (!data_room(s))
                return ss_error(-ENOSPC, "store %s is full", s->dev->name);
        if (g < s->sm.ngroups && s->sb.group_free[g] >= cb) {
                SsGroup *grp;
                int r = group_get(s, g, &grp);
                if (r < 0)
                        return r;
                uint32_t i = (uint32_t)(blk - group_start(g));
                /* Head and past-the-end blocks are marked used, so a hint
                 * there is never allocatable. */
                if (run_allocatable(grp, i, cb)) {
                        r = take(s, g, i, cb, reserving);
                        if (r < 0)
                                return r;
                        if (!reserving)
                                s->sb.data_blocks += cb;
                        *ret_block = blk;
                        return 0;
                }
        }
        return alloc_chunk(s, reserving, ret_block);
}

int sm_alloc_chunk_near(SsStore *s, uint64_t hint, uint64_t *ret_block)
{
        return alloc_chunk_near(s, hint, false, ret_block);
}

int sm_alloc_copy(SsStore *s, uint64_t origin_chunk, uint64_t *ret_block)
{
        return alloc_chunk_near(s, copy_slot(s, origin_chunk), false, ret_block);
}

int sm_reserve_copy(SsStore *s, uint64_t origin_chunk, uint64_t *ret_block)
{
        return alloc_chunk_near(s, copy_slot(s, origin_chunk), true, ret_block);
}

void sm_unreserve(SsStore *s, uint64_t block, uint32_t count)
{
        uint32_t g = (uint32_t)(block / SS_GROUP_BLOCKS);
        SsGroup *grp = &s->sm.groups[g];

        assert(g < s->sm.ngroups && grp->reserved);
        for (uint32_t k = 0; k < count; k++) {
                uint32_t i = (uint32_t)(block - group_start(g)) + k;
                assert(bit_get(grp->reserved, i));
                bit_set(grp->reserved, i, false);
        }
        s->sm.reserved_blocks -= count;
}

/* A reserved data run becomes allocated in the open transaction. */
int sm_claim(SsStore *s, uint64_t block, uint32_t count)
{
        sm_unreserve(s, block, count);
        int r = sm_mark_used(s, block, count);
        if (r == 0)
                s->sb.data_blocks += count;
        return r;
}

/* A free block in a chunk that already holds something, in the group of the
 * metadata cursor. */
static int find_meta_in_partial(SsStore *s, uint64_t *ret)
{
        uint32_t cb = s->chunk_blocks;
        uint32_t g = (uint32_t)(s->sm.meta_cursor / SS_GROUP_BLOCKS) % s->sm.ngroups;
        SsGroup *grp;

        if (s->sb.group_free[g] == 0)
                return -ENOSPC;
        int r = group_get(s, g, &grp);
        if (r < 0)
                return r;
        uint64_t start = group_start(g);
        uint32_t from = s->sm.meta_cursor > start ? (uint32_t)(s->sm.meta_cursor - start) : 0;
        for (uint32_t pass = 0; pass < 2; pass++) {
                uint32_t lo = pass ? 0 : from, hi = pass ? from : SS_GROUP_BLOCKS;
                for (uint32_t i = lo; i < hi; i++) {
                        if (i % 64 == 0 && i + 64 <= hi &&
                            (word_full(grp, i) || (cb > 1 && cb <= 64 && word_empty(grp, i)))) {
                                i += 63;
                                continue;
                        }
                        if (!allocatable(grp, i))
                                continue;
                        uint32_t c0 = i & ~(cb - 1);
                        if (cb > 1 && !run_has_used(grp, c0, cb))
                                continue;
                        *ret = start + i;
                        return 0;
                }
        }
        return -ENOSPC;
}

int sm_alloc_meta(SsStore *s, uint64_t *ret_block)
{
        uint64_t blk;
        int r = find_meta_in_partial(s, &blk);
        if (r == -ENOSPC) {
                /* Open a fresh chunk for metadata; only its first block is taken. */
                uint64_t cursor = s->sm.meta_cursor;
                r = alloc_run(s, &cursor, s->chunk_blocks, false, &blk);
                if (r == -ENOSPC)
                        return ss_error(-ENOSPC, "store %s has no room for metadata", s->dev->name);
                if (r < 0)
                        return r;
                uint32_t g = (uint32_t)(blk / SS_GROUP_BLOCKS);
                if (s->chunk_blocks > 1) {
                        r = mark(s, g, (uint32_t)(blk - group_start(g)) + 1, s->chunk_blocks - 1,
                                 false);
                        if (r < 0)
                                return r;
                }
        } else if (r < 0) {
                return r;
        } else {
                uint32_t g = (uint32_t)(blk / SS_GROUP_BLOCKS);
                r = mark(s, g, (uint32_t)(blk - group_start(g)), 1, true);
                if (r < 0)
                        return r;
        }
        s->sm.meta_cursor = blk + 1;
        s->sb.meta_blocks++;
        *ret_block = blk;
        return 0;
}

int sm_free(SsStore *s, uint64_t block, uint32_t count)
{
        if (block < SS_FIRST_GROUP_RESERVED || block + count > s->sb.store_blocks)
                return store_damaged(s, ss_error(-EUCLEAN, "freeing block %llu outside the store",
                                                 (unsigned long long)block));
        uint32_t g = (uint32_t)(block / SS_GROUP_BLOCKS);
        return mark(s, g, (uint32_t)(block - group_start(g)), count, false);
}

int sm_mark_used(SsStore *s, uint64_t block, uint32_t count)
{
        uint32_t g = (uint32_t)(block / SS_GROUP_BLOCKS);
        return mark(s, g, (uint32_t)(block - group_start(g)), count, true);
}

int sm_is_used(SsStore *s, uint64_t block, bool *ret_used)
{
        SsGroup *grp;
        uint32_t g = (uint32_t)(block / SS_GROUP_BLOCKS);

        if (g >= s->sm.ngroups)
                return -ERANGE;
        int r = group_get(s, g, &grp);
        if (r < 0)
                return r;
        *ret_used = bit_get(grp->bits, (uint32_t)(block - group_start(g)));
        return 0;
}

static int write_bitmap(SsStore *s, uint32_t g, unsigned slot, const uint8_t *bits, uint64_t txid)
{
        uint8_t *buf = s->block_buf;
        SsDiskBitmap *d = (SsDiskBitmap *)buf;
        uint64_t blk = sm_bitmap_block(s, g, slot);

        memset(buf, 0, SS_BLOCK_SIZE);
        LE_PUT(d->group, g);
        LE_PUT(d->free_blocks, count_free(bits));
        memcpy(d->bits, bits, GROUP_BYTES);
        ss_block_seal(buf, SS_MAGIC_BITMAP, blk, txid);
        return ss_dev_pwrite(s->dev, buf, SS_BLOCK_SIZE, blk << SS_BLOCK_SHIFT);
}

/* Writes every dirty bitmap to its other slot and flips the slot bits in the
 * superblock about to be committed. */
int sm_write_dirty(SsStore *s)
{
        for (uint32_t g = 0; g < s->sm.ngroups; g++) {
                SsGroup *grp = &s->sm.groups[g];
                if (!grp->dirty)
                        continue;
                unsigned slot = slot_of(&s->committed, g) ^ 1;
                int r = write_bitmap(s, g, slot, grp->bits, s->txn);
                if (r < 0)
                        return r;
                if (slot_of(&s->sb, g) != slot)
                        slot_flip(&s->sb, g);
        }
        return 0;
}

void sm_after_commit(SsStore *s)
{
        for (uint32_t g = 0; g < s->sm.ngroups; g++) {
                SsGroup *grp = &s->sm.groups[g];
                free(grp->committed);
                grp->committed = NULL;
                grp->dirty = false;
        }
        evict_clean(&s->sm);
}

void sm_abort(SsStore *s)
{
        SsSpaceMap *sm = &s->sm;

        for (uint32_t g = 0; g < sm->ngroups; g++) {
                SsGroup *grp = &sm->groups[g];
                if (grp->dirty) {
                        free(grp->bits);
                        grp->bits = grp->committed;
                        grp->committed = NULL;
                        grp->dirty = false;
                }
        }
        /* Forget groups that an aborted grow added. */
        while (sm->ngroups > s->committed.group_count) {
                SsGroup *grp = &sm->groups[--sm->ngroups];
                if (grp->bits)
                        sm->loaded--;
                free(grp->bits);
                free(grp->committed);
                free(grp->reserved);
                memset(grp, 0, sizeof(*grp));
        }
}

/* Adds the groups that a larger store needs (the superblock is updated by the
 * caller's commit).  New groups are written to slot 0 right away: no
 * committed superblock references them yet. */
int sm_grow(SsStore *s, uint64_t new_blocks)
{
        SsSpaceMap *sm = &s->sm;
        uint32_t old_groups = sm->ngroups;
        uint32_t new_groups = (uint32_t)((new_blocks + SS_GROUP_BLOCKS - 1) / SS_GROUP_BLOCKS);
        uint64_t old_blocks = s->sb.store_blocks;

        if (new_groups > SS_MAX_GROUPS)
                return ss_error(
                        -EFBIG, "a store can hold at most %u groups (%llu GiB)", SS_MAX_GROUPS,
                        (unsigned long long)((uint64_t)SS_MAX_GROUPS * SS_GROUP_BLOCKS >> 18));
        /* Free the tail of the last group up to the new end. */
        uint32_t last = old_groups - 1;
        uint64_t tail_end = MIN(new_blocks, group_start(last) + SS_GROUP_BLOCKS);
        if (tail_end > old_blocks) {
                int r = mark(s, last, (uint32_t)(old_blocks - group_start(last)),
                             (uint32_t)(tail_end - old_blocks), false);
                if (r < 0)
                        return r;
        }
        if (new_groups > old_groups) {
                SsGroup *groups = realloc(sm->groups, new_groups * sizeof(*groups));
                if (!groups)
                        return -ENOMEM;
                sm->groups = groups;
                memset(groups + old_groups, 0, (new_groups - old_groups) * sizeof(*groups));
                size_t sbytes = ((new_groups + 7) / 8 + 7) & ~(size_t)7;
                uint8_t *slot_bits = realloc(s->sb.slot_bits, sbytes + 1);
                if (!slot_bits)
                        return -ENOMEM;
                s->sb.slot_bits = slot_bits;
                uint16_t *gf = realloc(s->sb.group_free, 2 * (size_t)new_groups + 2);
                if (!gf)
                        return -ENOMEM;
                s->sb.group_free = gf;
                uint8_t *bits = malloc(GROUP_BYTES);
                if (!bits)
                        return -ENOMEM;
                for (uint32_t g = old_groups; g < new_groups; g++) {
                        int nfree = sm_format_group(s, g, new_blocks, bits);
                        slot_bits[g / 8] &= (uint8_t) ~(1u << (g % 8));
                        gf[g] = (uint16_t)nfree;
                        s->sb.free_blocks += (uint64_t)nfree;
                        int r = write_bitmap(s, g, 0, bits, s->txn);
                        if (r < 0) {
                                free(bits);
                                return r;
                        }
                }
                free(bits);
                sm->ngroups = new_groups;
                s->sb.group_count = new_groups;
        }
        s->sb.store_blocks = new_blocks;
        s->txn_dirty = true;
        return 0;
}
