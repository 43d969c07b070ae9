/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Encoding and decoding of every on-disk structure (see format.h).
 *
 * Everything read from a device is untrusted: decoders check checksums,
 * magic numbers, locations, bounds and orderings, and answer -EUCLEAN
 * (structure wrong) or -EILSEQ (an encoding that cannot be parsed) with a
 * message naming the block.  They never assert on disk data.
 */
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "internal.h"

static uint64_t block_csum(const void *block, size_t len)
{
        return XXH3_64bits((const uint8_t *)block + 8, len - 8);
}

void ss_block_seal(void *block, uint32_t magic, uint64_t blocknr, uint64_t txid)
{
        SsDiskBlockHeader *h = block;

        LE_PUT(h->magic, magic);
        LE_PUT(h->flags, 0u);
        LE_PUT(h->blocknr, blocknr);
        LE_PUT(h->txid, txid);
        LE_PUT(h->csum, block_csum(block, SS_BLOCK_SIZE));
}

int ss_block_verify(const void *block, uint32_t magic, uint64_t blocknr, const char *what)
{
        const SsDiskBlockHeader *h = block;

        if (LE_GET(h->csum) != block_csum(block, SS_BLOCK_SIZE))
                return ss_error(-EUCLEAN, "%s block %llu: checksum mismatch", what,
                                (unsigned long long)blocknr);
        if (LE_GET(h->magic) != magic)
                return ss_error(-EUCLEAN, "%s block %llu: wrong magic 0x%08x", what,
                                (unsigned long long)blocknr, LE_GET(h->magic));
        if (LE_GET(h->blocknr) != blocknr)
                return ss_error(-EUCLEAN, "%s block %llu: claims to be block %llu", what,
                                (unsigned long long)blocknr,
                                (unsigned long long)LE_GET(h->blocknr));
        return 0;
}

/* ---- varints ---- */

static unsigned varint_len(uint64_t v)
{
        unsigned n = 1;

        while (v >= 0x80) {
                v >>= 7;
                n++;
        }
        return n;
}

static uint8_t *varint_put(uint8_t *p, uint64_t v)
{
        while (v >= 0x80) {
                *p++ = (uint8_t)(v | 0x80);
                v >>= 7;
        }
        *p++ = (uint8_t)v;
        return p;
}

static int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
        uint64_t v = 0;

        for (unsigned shift = 0; shift < 64; shift += 7) {
                if (*p >= end)
                        return -EILSEQ;
                uint8_t b = *(*p)++;
                if (shift == 63 && b > 1)
                        return -EILSEQ;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        /* The shortest encoding only: a zero last byte
                         * would make a second spelling of one value. */
                        if (b == 0 && shift)
                                return -EILSEQ;
                        *ret = v;
                        return 0;
                }
        }
        return -EILSEQ;
}

static uint64_t zigzag(uint64_t delta)
{
        int64_t d = (int64_t)delta;
        return ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
}

static uint64_t unzigzag(uint64_t z)
{
        return (z >> 1) ^ (uint64_t) - (int64_t)(z & 1);
}

/* ---- nodes ---- */

uint32_t tree_leaf_val_size(unsigned tree)
{
        switch (tree) {
        case SS_TREE_SHARED:
        case SS_TREE_PRIVATE:
                return 8;
        case SS_TREE_BYHI:
                return 0;
        case SS_TREE_SNAPSHOTS:
                return sizeof(SsDiskSnapshot);
        }
        return 0;
}

static bool leaf_is_compact(const SsNode *n)
{
        return n->level == 0 && n->tree != SS_TREE_SNAPSHOTS;
}

/* ---- compact snapshot records (SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS) ----
 * In memory a snapshot leaf holds SsDiskSnapshot values; on disk each is
 * spelled as format.h describes, its id, ctime and size relative to the
 * record before it in the leaf. */

typedef struct SnapFields {
        uint64_t id, flags, prio_z, ctime, sectors, name_len;
        const char *name;
} SnapFields;

static SnapFields snap_fields(const SsNode *n, int32_t i)
{
        SnapFields f = { 0 };

        if (i < 0)
                return f;
        const SsDiskSnapshot *d = (const SsDiskSnapshot *)(n->vals + (size_t)i * n->val_size);
        f.id = LE_GET(d->id);
        f.flags = LE_GET(d->flags);
        f.prio_z = zigzag((uint64_t)(int64_t)(int32_t)LE_GET(d->priority));
        f.ctime = LE_GET(d->ctime);
        f.sectors = LE_GET(d->origin_size) / SS_SECTOR_SIZE;
        f.name_len = MIN(LE_GET(d->name_len), (uint32_t)SS_NAME_MAX);
        f.name = d->name;
        return f;
}

static uint32_t snaprec_compact_bytes(const SsNode *n, int32_t prev, uint32_t i)
{
        SnapFields p = snap_fields(n, prev), f = snap_fields(n, (int32_t)i);

        return varint_len(f.id - p.id) + varint_len(f.flags) + varint_len(f.prio_z) +
               varint_len(zigzag(f.ctime - p.ctime)) + varint_len(zigzag(f.sectors - p.sectors)) +
               varint_len(f.name_len) + (uint32_t)f.name_len;
}

static uint8_t *snaprec_compact_put(const SsNode *n, uint32_t i, uint8_t *p)
{
        SnapFields pf = snap_fields(n, (int32_t)i - 1), f = snap_fields(n, (int32_t)i);

        p = varint_put(p, f.id - pf.id);
        p = varint_put(p, f.flags);
        p = varint_put(p, f.prio_z);
        p = varint_put(p, zigzag(f.ctime - pf.ctime));
        p = varint_put(p, zigzag(f.sectors - pf.sectors));
        p = varint_put(p, f.name_len);
        memcpy(p, f.name, f.name_len);
        return p + f.name_len;
}

/* Encoded size of entry i following entry prev (-1: none). */
uint32_t ss_leaf_entry_bytes(const SsNode *n, int32_t prev, uint32_t i)
{
        if (n->level > 0)
                return sizeof(SsDiskBranch);
        if (n->tree == SS_TREE_SNAPSHOTS)
                return n->snap_compact ? snaprec_compact_bytes(n, prev, i) : sizeof(SsDiskSnapshot);

        SsKey pk = prev >= 0 ? n->keys[prev] : key_make(0, 0);
        SsKey k = n->keys[i];
        uint32_t len = varint_len(k.a - pk.a);

        len += varint_len(k.a == pk.a ? k.b - pk.b : k.b);
        if (n->val_size) {
                uint64_t pv = prev >= 0 ? node_u64(n, (uint32_t)prev) : 0;
                len += varint_len(zigzag(node_u64(n, i) - pv));
        }
        return len;
}

int ss_node_reserve(SsNode *n, uint32_t cap)
{
        if (cap <= n->cap)
                return 0;
        SsKey *keys = realloc(n->keys, (size_t)cap * sizeof(SsKey));
        if (!keys)
                return -ENOMEM;
        n->keys = keys;
        if (n->val_size) {
                uint8_t *vals = realloc(n->vals, (size_t)cap * n->val_size);
                if (!vals)
                        return -ENOMEM;
                n->vals = vals;
        }
        n->cap = cap;
        return 0;
}

void ss_node_free_arrays(SsNode *n)
{
        free(n->keys);
        free(n->vals);
        n->keys = NULL;
        n->vals = NULL;
        n->cap = n->count = 0;
}

static int node_corrupt(uint64_t blocknr, const char *why)
{
        return ss_error(-EUCLEAN, "B-tree node %llu: %s", (unsigned long long)blocknr, why);
}

static int decode_branches(const SsDiskNode *d, SsNode *n)
{
        for (uint32_t i = 0; i < n->count; i++) {
                const SsDiskBranch *b = (const SsDiskBranch *)d->data + i;
                n->keys[i] = key_make(LE_GET(b->key_a), LE_GET(b->key_b));
                uint64_t child = LE_GET(b->child);
                if (child < SS_FIRST_GROUP_RESERVED)
                        return node_corrupt(n->blocknr, "child pointer into the superblocks");
                node_set_u64(n, i, child);
        }
        return 0;
}

static int snaprec_corrupt(const SsNode *n, uint32_t i, const char *why)
{
        return ss_error(-EUCLEAN, "B-tree node %llu: snapshot record %u: %s",
                        (unsigned long long)n->blocknr, i, why);
}

static int decode_snapshots_compact(const SsDiskNode *d, uint32_t payload, SsNode *n)
{
        const uint8_t *p = d->data, *end = d->data + payload;
        uint64_t id = 0, ctime = 0, sectors = 0;

        for (uint32_t i = 0; i < n->count; i++) {
                uint64_t did, flags, prio_z, dctime, dsectors, len;
                if (varint_get(&p, end, &did) < 0)
                        return snaprec_corrupt(n, i, "bad varint in the id");
                if (did == 0)
                        return snaprec_corrupt(n, i, "ids out of order");
                if (did > UINT32_MAX - id)
                        return snaprec_corrupt(n, i, "id past 2^32 - 1");
                if (varint_get(&p, end, &flags) < 0)
                        return snaprec_corrupt(n, i, "bad varint in the flags");
                if (varint_get(&p, end, &prio_z) < 0)
                        return snaprec_corrupt(n, i, "bad varint in the priority");
                if (varint_get(&p, end, &dctime) < 0)
                        return snaprec_corrupt(n, i, "bad varint in the creation time");
                if (varint_get(&p, end, &dsectors) < 0)
                        return snaprec_corrupt(n, i, "bad varint in the image size");
                if (varint_get(&p, end, &len) < 0)
                        return snaprec_corrupt(n, i, "bad varint in the name length");
                id += did;
                ctime += unzigzag(dctime);
                sectors += unzigzag(dsectors);
                int64_t prio = (int64_t)unzigzag(prio_z);
                if (flags > UINT32_MAX)
                        return snaprec_corrupt(n, i, "flags past 32 bits");
                if (prio < INT32_MIN || prio > INT32_MAX)
                        return snaprec_corrupt(n, i, "priority out of range");
                if (sectors == 0 || sectors > UINT64_MAX / SS_SECTOR_SIZE)
                        return snaprec_corrupt(n, i, "image size out of range");
                if (len == 0 || len > SS_NAME_MAX)
                        return snaprec_corrupt(n, i, "name length out of range");
                if (len > (uint64_t)(end - p))
                        return snaprec_corrupt(n, i, "name length past the payload");

                /* Spelled as a SsDiskSnapshot, the record passes the same
                 * checks as a record of the fixed encoding. */
                SsDiskSnapshot *rec = (SsDiskSnapshot *)(n->vals + (size_t)i * n->val_size);
                SsSnapshotInfo info;
                memset(rec, 0, sizeof(*rec));
                LE_PUT(rec->id, (uint32_t)id);
                LE_PUT(rec->flags, (uint32_t)flags);
                LE_PUT(rec->priority, (int32_t)prio);
                LE_PUT(rec->name_len, (uint32_t)len);
                LE_PUT(rec->ctime, (int64_t)ctime);
                LE_PUT(rec->origin_size, sectors * SS_SECTOR_SIZE);
                memcpy(rec->name, p, len);
                p += len;
                if (ss_snaprec_decode(rec, id, &info) < 0)
                        return node_corrupt(n->blocknr, ss_last_error());
                n->keys[i] = key_make(id, 0);
        }
        if (p != end)
                return node_corrupt(n->blocknr, "payload length does not match its entries");
        return 0;
}

static int decode_snapshots(const SsDiskNode *d, SsNode *n)
{
        for (uint32_t i = 0; i < n->count; i++) {
                const uint8_t *rec = d->data + (size_t)i * sizeof(SsDiskSnapshot);
                SsSnapshotInfo info;
                int r = ss_snaprec_decode(rec, le32_get(rec), &info);
                if (r < 0)
                        return node_corrupt(n->blocknr, ss_last_error());
                n->keys[i] = key_make(info.id, 0);
                memcpy(n->vals + (size_t)i * n->val_size, rec, sizeof(SsDiskSnapshot));
        }
        return 0;
}

static int decode_compact(const SsDiskNode *d, uint32_t payload, SsNode *n)
{
        const uint8_t *p = d->data, *end = d->data + payload;
        SsKey prev = key_make(0, 0);
        uint64_t pv = 0;

        for (uint32_t i = 0; i < n->count; i++) {
                uint64_t da, b, dv;
                if (varint_get(&p, end, &da) < 0 || varint_get(&p, end, &b) < 0)
                        return ss_error(-EILSEQ, "B-tree node %llu: entry %u truncated",
                                        (unsigned long long)n->blocknr, i);
                SsKey k = key_make(prev.a + da, da == 0 ? prev.b + b : b);
                if (k.a < prev.a || (da == 0 && k.b < prev.b))
                        return node_corrupt(n->blocknr, "key overflow");
                n->keys[i] = k;
                if (n->val_size) {
                        if (varint_get(&p, end, &dv) < 0)
                                return ss_error(-EILSEQ, "B-tree node %llu: value %u truncated",
                                                (unsigned long long)n->blocknr, i);
                        pv += unzigzag(dv);
                        node_set_u64(n, i, pv);
                }
                prev = k;
        }
        if (p != end)
                return node_corrupt(n->blocknr, "payload length does not match its entries");
        return 0;
}

int ss_node_decode(const void *block, uint64_t blocknr, uint64_t incompat, SsNode *n)
{
        const SsDiskNode *d = block;
        int r = ss_block_verify(block, SS_MAGIC_NODE, blocknr, "B-tree node");
        if (r < 0)
                return r;

        uint16_t tree = LE_GET(d->tree), level = LE_GET(d->level), count = LE_GET(d->count);
        uint32_t payload = LE_GET(d->payload);

        if (tree >= SS_TREE_COUNT)
                return node_corrupt(blocknr, "unknown tree");
        if (level >= SS_MAX_DEPTH)
                return node_corrupt(blocknr, "level too deep");
        if (payload > SS_NODE_PAYLOAD)
                return node_corrupt(blocknr, "payload longer than the block");
        if (count == 0)
                return node_corrupt(blocknr, "empty node");
        /* One spelling per node: what decodes must encode back to the same
         * block, so reserved fields and the bytes past the payload are 0. */
        if (LE_GET(d->hdr.flags) || LE_GET(d->pad) || LE_GET(d->pad2))
                return node_corrupt(blocknr, "reserved header fields are not zero");
        for (uint32_t i = payload; i < SS_NODE_PAYLOAD; i++)
                if (d->data[i])
                        return node_corrupt(blocknr, "bytes past the payload are not zero");

        n->blocknr = blocknr;
        n->born = LE_GET(d->hdr.txid);
        n->tree = tree;
        n->level = level;
        n->val_size = level ? 8 : tree_leaf_val_size(tree);
        n->count = 0;
        n->snap_compact = level == 0 && tree == SS_TREE_SNAPSHOTS &&
                          (incompat & SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS);

        bool compact = leaf_is_compact(n);
        uint32_t entry = level ? sizeof(SsDiskBranch) : sizeof(SsDiskSnapshot);
        if (!compact && !n->snap_compact && payload != (uint32_t)count * entry)
                return node_corrupt(blocknr, "payload length does not match its entries");
        if (compact && count > payload / 2)
                return node_corrupt(blocknr, "more entries than the payload can hold");
        if (n->snap_compact && count > payload / SS_SNAPREC_COMPACT_MIN)
                return node_corrupt(blocknr, "more snapshot records than the payload can hold");

        r = ss_node_reserve(n, count);
        if (r < 0)
                return r;
        n->count = count;
        if (level)
                r = decode_branches(d, n);
        else if (compact)
                r = decode_compact(d, payload, n);
        else if (n->snap_compact)
                r = decode_snapshots_compact(d, payload, n);
        else
                r = decode_snapshots(d, n);
        if (r < 0) {
                n->count = 0;
                return r;
        }
        for (uint32_t i = 1; i < count; i++)
                if (key_cmp(n->keys[i - 1], n->keys[i]) >= 0) {
                        n->count = 0;
                        return node_corrupt(blocknr, "keys out of order");
                }
        n->enc_bytes = payload;
        return 0;
}

int ss_node_encode(const SsNode *n, uint64_t txid, void *block)
{
        SsDiskNode *d = block;
        /* Entries are built in a scratch area with room for one entry past
         * the payload, then checked against the payload size. */
        uint8_t scratch[SS_NODE_PAYLOAD + sizeof(SsDiskSnapshot)];
        uint8_t *p = scratch;
        const uint8_t *scratch_end = scratch + sizeof(scratch);

        size_t entry_max = n->level             ? sizeof(SsDiskBranch)
                           : leaf_is_compact(n) ? 30
                                                : sizeof(SsDiskSnapshot);

        memset(block, 0, SS_BLOCK_SIZE);
        for (uint32_t i = 0; i < n->count; i++) {
                if (p + entry_max > scratch_end)
                        return -EOVERFLOW;
                if (n->level) {
                        SsDiskBranch *b = (SsDiskBranch *)p;
                        LE_PUT(b->key_a, n->keys[i].a);
                        LE_PUT(b->key_b, n->keys[i].b);
                        LE_PUT(b->child, node_u64(n, i));
                        p += sizeof(*b);
                } else if (n->snap_compact) {
                        p = snaprec_compact_put(n, i, p);
                } else if (!leaf_is_compact(n)) {
                        memcpy(p, n->vals + (size_t)i * n->val_size, sizeof(SsDiskSnapshot));
                        p += sizeof(SsDiskSnapshot);
                } else {
                        SsKey pk = i ? n->keys[i - 1] : key_make(0, 0);
                        SsKey k = n->keys[i];
                        p = varint_put(p, k.a - pk.a);
                        p = varint_put(p, k.a == pk.a ? k.b - pk.b : k.b);
                        if (n->val_size) {
                                uint64_t pv = i ? node_u64(n, i - 1) : 0;
                                p = varint_put(p, zigzag(node_u64(n, i) - pv));
                        }
                }
                if ((size_t)(p - scratch) > SS_NODE_PAYLOAD)
                        return -EOVERFLOW;
        }
        if (n->count == 0 || n->count > UINT16_MAX)
                return -EINVAL;
        memcpy(d->data, scratch, (size_t)(p - scratch));
        LE_PUT(d->tree, n->tree);
        LE_PUT(d->level, n->level);
        LE_PUT(d->count, (uint16_t)n->count);
        LE_PUT(d->payload, (uint32_t)(p - scratch));
        ss_block_seal(block, SS_MAGIC_NODE, n->blocknr, txid);
        return 0;
}

/* ---- snapshot records ---- */

/* The records hold what the rule allows, no more. */
_Static_assert(SS_NAME_MAX == ZUMA_SNAPSHOT_NAME_MAX, "snapshot name limit differs from the rule");
_Static_assert(SS_VOLUME_NAME_MAX == ZUMA_VOLUME_NAME_MAX,
               "volume name limit differs from the rule");

bool ss_name_valid(const char *name, size_t max_len)
{
        if (max_len > SS_NAME_MAX)
                max_len = SS_NAME_MAX;
        return zuma_name_check(name, max_len, true, NULL) == ZUMA_NAME_VALID;
}

bool ss_volume_name_valid(const char *name)
{
        return zuma_volume_name_valid(name);
}

int ss_snaprec_decode(const void *rec, uint64_t key, SsSnapshotInfo *info)
{
        const SsDiskSnapshot *d = rec;
        uint32_t id = LE_GET(d->id), len = LE_GET(d->name_len), flags = LE_GET(d->flags);
        uint64_t size = LE_GET(d->origin_size);
        SsSnapshotInfo out = { 0 };

        if (id == 0 || id != key)
                return ss_error(-EUCLEAN, "snapshot record %llu: id %u does not match",
                                (unsigned long long)key, id);
        if (len == 0 || len > SS_NAME_MAX)
                return ss_error(-EUCLEAN, "snapshot %u: name length %u out of range", id, len);
        for (size_t i = len; i < sizeof(d->name); i++)
                if (d->name[i])
                        return ss_error(-EUCLEAN, "snapshot %u: name not NUL-padded", id);
        if (memchr(d->name, 0, len))
                return ss_error(-EUCLEAN, "snapshot %u: NUL inside its name", id);
        memcpy(out.name, d->name, len);
        if (!ss_name_valid(out.name, SS_NAME_MAX))
                return ss_error(-EUCLEAN, "snapshot %u: invalid name", id);
        if (flags & ~(uint32_t)(SS_SNAP_WRITABLE | SS_SNAP_PINNED))
                return ss_error(-EUCLEAN, "snapshot %u: unknown flags 0x%x", id, flags);
        if (size == 0 || size % SS_SECTOR_SIZE)
                return ss_error(-EUCLEAN, "snapshot %u: bad image size %llu", id,
                                (unsigned long long)size);
        out.id = id;
        out.flags = flags;
        out.priority = (int32_t)LE_GET(d->priority);
        out.ctime = (int64_t)LE_GET(d->ctime);
        out.origin_size = size;
        *info = out;
        return 0;
}

void ss_snaprec_encode(const SsSnapshotInfo *info, void *rec)
{
        SsDiskSnapshot *d = rec;
        size_t len = strnlen(info->name, SS_NAME_MAX);

        memset(d, 0, sizeof(*d));
        LE_PUT(d->id, info->id);
        LE_PUT(d->flags, info->flags);
        LE_PUT(d->priority, (uint32_t)info->priority);
        LE_PUT(d->name_len, (uint32_t)len);
        LE_PUT(d->ctime, (uint64_t)info->ctime);
        LE_PUT(d->origin_size, info->origin_size);
        memcpy(d->name, info->name, len);
}

/* ---- superblock ---- */

static size_t slot_bytes(uint32_t groups)
{
        return ((groups + 7) / 8 + 7) & ~(size_t)7;
}

size_t ss_super_bytes(uint32_t groups)
{
        return SS_SB_HEADER_SIZE + slot_bytes(groups) + 2 * (size_t)groups;
}

void ss_super_release(SsSuper *sb)
{
        free(sb->slot_bits);
        free(sb->group_free);
        sb->slot_bits = NULL;
        sb->group_free = NULL;
}

int ss_super_copy(SsSuper *dst, const SsSuper *src)
{
        uint8_t *bits = malloc(slot_bytes(src->group_count) + 1);
        uint16_t *free_counts = malloc(2 * (size_t)src->group_count + 2);

        if (!bits || !free_counts) {
                free(bits);
                free(free_counts);
                return -ENOMEM;
        }
        memcpy(bits, src->slot_bits, slot_bytes(src->group_count));
        memcpy(free_counts, src->group_free, 2 * (size_t)src->group_count);
        ss_super_release(dst);
        *dst = *src;
        dst->slot_bits = bits;
        dst->group_free = free_counts;
        return 0;
}

static int sb_corrupt(uint64_t blocknr, const char *why)
{
        return ss_error(-EUCLEAN, "superblock at block %llu: %s", (unsigned long long)blocknr, why);
}

static int check_root(const SsRoot *r, uint64_t store_blocks)
{
        if (r->depth > SS_MAX_DEPTH)
                return -1;
        if ((r->block == 0) != (r->depth == 0))
                return -1;
        if (r->block && (r->block < SS_FIRST_GROUP_RESERVED || r->block >= store_blocks))
                return -1;
        return 0;
}

int ss_super_decode(const void *buf, size_t len, uint64_t blocknr, SsSuper *ret)
{
        const SsDiskSuperblock *d = buf;
        SsSuper sb = { 0 };

        if (len < SS_SB_HEADER_SIZE)
                return sb_corrupt(blocknr, "truncated");
        if (LE_GET(d->magic) != SS_MAGIC_SUPERBLOCK)
                return ss_error(-EUCLEAN, "block %llu holds no Zumastor superblock",
                                (unsigned long long)blocknr);
        uint32_t sb_bytes = LE_GET(d->sb_bytes);
        if (sb_bytes < SS_SB_HEADER_SIZE || sb_bytes > len ||
            sb_bytes > SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE)
                return sb_corrupt(blocknr, "size out of range");
        if (LE_GET(d->csum) != block_csum(buf, sb_bytes))
                return sb_corrupt(blocknr, "checksum mismatch");
        if (LE_GET(d->version) == 1)
                return ss_error(-EPROTONOSUPPORT,
                                "superblock at block %llu: format version 1 (no superblock "
                                "mirrors) is not supported by this version, which reads "
                                "version %u: create the store again",
                                (unsigned long long)blocknr, SS_FORMAT_VERSION);
        if (LE_GET(d->version) != SS_FORMAT_VERSION)
                return ss_error(-EPROTONOSUPPORT,
                                "superblock at block %llu: format version %u "
                                "is not supported",
                                (unsigned long long)blocknr, LE_GET(d->version));
        if (LE_GET(d->blocknr) != blocknr)
                return sb_corrupt(blocknr, "copy claims another location");
        /* A copy written to the wrong area of the pair carries the wrong parity. */
        if (LE_GET(d->txid) % SS_SB_COPIES != (blocknr / SS_SB_AREA_BLOCKS) % SS_SB_COPIES)
                return sb_corrupt(blocknr, "transaction id does not belong in this copy");
        if (LE_GET(d->block_size) != SS_BLOCK_SIZE)
                return sb_corrupt(blocknr, "block size is not 4096");

        sb.txid = LE_GET(d->txid);
        sb.feature_compat = LE_GET(d->feature_compat);
        sb.feature_ro_compat = LE_GET(d->feature_ro_compat);
        sb.feature_incompat = LE_GET(d->feature_incompat);
        if (sb.feature_incompat & ~SS_FEATURE_INCOMPAT_SUPP)
                return ss_error(-EPROTONOSUPPORT,
                                "store uses unknown incompatible features "
                                "0x%llx",
                                (unsigned long long)sb.feature_incompat);
        memcpy(sb.uuid, d->uuid, 16);
        memcpy(sb.volume_uuid, d->volume_uuid, 16);
        if (!memchr(d->volume_name, 0, sizeof(d->volume_name)))
                return sb_corrupt(blocknr, "volume name not terminated");
        memcpy(sb.volume_name, d->volume_name, sizeof(sb.volume_name));
        sb.volume_name[SS_VOLUME_NAME_MAX] = 0;
        sb.chunk_size = LE_GET(d->chunk_size);
        if (sb.chunk_size < SS_CHUNK_SIZE_MIN || sb.chunk_size > SS_CHUNK_SIZE_MAX ||
            (sb.chunk_size & (sb.chunk_size - 1)))
                return sb_corrupt(blocknr, "chunk size out of range");
        sb.full_policy = LE_GET(d->full_policy);
        if (sb.full_policy > SS_FULL_AUTODELETE)
                return sb_corrupt(blocknr, "unknown store-full policy");
        sb.origin_size = LE_GET(d->origin_size);
        if (sb.origin_size == 0 || sb.origin_size % SS_SECTOR_SIZE)
                return sb_corrupt(blocknr, "origin size not a multiple of 512");
        sb.store_blocks = LE_GET(d->store_blocks);
        sb.created = (int64_t)LE_GET(d->created);
        sb.next_snapshot = LE_GET(d->next_snapshot);
        sb.snapshot_count = LE_GET(d->snapshot_count);
        if (sb.next_snapshot == 0 || sb.snapshot_count >= sb.next_snapshot)
                return sb_corrupt(blocknr, "snapshot counters inconsistent");
        sb.group_count = LE_GET(d->group_count);
        if (sb.group_count == 0 || sb.group_count > SS_MAX_GROUPS ||
            sb.group_count != (sb.store_blocks + SS_GROUP_BLOCKS - 1) / SS_GROUP_BLOCKS)
                return sb_corrupt(blocknr, "group count does not match the store size");
        if (sb.store_blocks < SS_FIRST_GROUP_RESERVED + 2 + 16)
                return sb_corrupt(blocknr, "store too small");
        if (sb_bytes != ss_super_bytes(sb.group_count))
                return sb_corrupt(blocknr, "size does not match the group count");
        for (int t = 0; t < SS_TREE_COUNT; t++) {
                SsRoot *r = &sb.roots[t];
                r->block = LE_GET(d->roots[t].block);
                r->entries = LE_GET(d->roots[t].entries);
                r->depth = LE_GET(d->roots[t].depth);
                r->nodes = LE_GET(d->roots[t].nodes);
                if (check_root(r, sb.store_blocks) < 0)
                        return sb_corrupt(blocknr, "tree root out of range");
        }
        sb.data_blocks = LE_GET(d->data_blocks);
        sb.meta_blocks = LE_GET(d->meta_blocks);
        sb.free_blocks = LE_GET(d->free_blocks);
        if (sb.free_blocks > sb.store_blocks || sb.data_blocks > sb.store_blocks ||
            sb.meta_blocks > sb.store_blocks)
                return sb_corrupt(blocknr, "space counters exceed the store");
        sb.cleanup_count = LE_GET(d->cleanup_count);
        if (sb.cleanup_count > SS_MAX_CLEANUP_JOBS)
                return sb_corrupt(blocknr, "too many cleanup jobs");
        for (uint32_t i = 0; i < sb.cleanup_count; i++) {
                const SsDiskCleanupJob *j = &d->cleanup[i];
                SsCleanupJob *c = &sb.cleanup[i];
                c->kind = j->kind;
                c->from = LE_GET(j->from);
                c->to = LE_GET(j->to);
                c->cursor_hi = LE_GET(j->cursor_hi);
                c->cursor_chunk = LE_GET(j->cursor_chunk);
                if ((c->kind != SS_CLEANUP_SHARED && c->kind != SS_CLEANUP_PRIVATE) ||
                    c->from == 0 || c->from >= sb.next_snapshot ||
                    (c->kind == SS_CLEANUP_SHARED &&
                     (c->to <= c->from || c->to > sb.next_snapshot)))
                        return sb_corrupt(blocknr, "malformed cleanup job");
        }
        sb.revert_target = LE_GET(d->revert_target);
        sb.revert_phase = LE_GET(d->revert_phase);
        sb.revert_cursor_hi = LE_GET(d->revert_cursor_hi);
        sb.revert_cursor_chunk = LE_GET(d->revert_cursor_chunk);
        sb.revert_done = LE_GET(d->revert_done);
        if (sb.revert_target >= sb.next_snapshot || sb.revert_phase > 1)
                return sb_corrupt(blocknr, "malformed revert state");

        size_t sbytes = slot_bytes(sb.group_count);
        sb.slot_bits = malloc(sbytes + 1);
        sb.group_free = malloc(2 * (size_t)sb.group_count + 2);
        if (!sb.slot_bits || !sb.group_free) {
                ss_super_release(&sb);
                return -ENOMEM;
        }
        const uint8_t *table = (const uint8_t *)buf + SS_SB_HEADER_SIZE;
        memcpy(sb.slot_bits, table, sbytes);
        uint64_t total_free = 0;
        for (uint32_t g = 0; g < sb.group_count; g++) {
                sb.group_free[g] = le16_get(table + sbytes + 2 * (size_t)g);
                if (sb.group_free[g] > SS_GROUP_BLOCKS) {
                        ss_super_release(&sb);
                        return sb_corrupt(blocknr, "group free count out of range");
                }
                total_free += sb.group_free[g];
        }
        if (total_free != sb.free_blocks) {
                ss_super_release(&sb);
                return sb_corrupt(blocknr, "free counts do not add up");
        }
        *ret = sb;
        return 0;
}

size_t ss_super_encode(const SsSuper *sb, void *buf, size_t len)
{
        return ss_super_encode_at(sb, buf, len, false);
}

size_t ss_super_encode_at(const SsSuper *sb, void *buf, size_t len, bool mirror)
{
        SsDiskSuperblock *d = buf;
        size_t bytes = ss_super_bytes(sb->group_count);
        uint64_t blocknr = ss_sb_area_block(sb->txid, mirror);

        assert(len >= bytes);
        memset(buf, 0, bytes);
        LE_PUT(d->magic, SS_MAGIC_SUPERBLOCK);
        LE_PUT(d->version, SS_FORMAT_VERSION);
        LE_PUT(d->blocknr, blocknr);
        LE_PUT(d->txid, sb->txid);
        LE_PUT(d->sb_bytes, (uint32_t)bytes);
        LE_PUT(d->block_size, SS_BLOCK_SIZE);
        LE_PUT(d->feature_compat, sb->feature_compat);
        LE_PUT(d->feature_ro_compat, sb->feature_ro_compat);
        LE_PUT(d->feature_incompat, sb->feature_incompat);
        memcpy(d->uuid, sb->uuid, 16);
        memcpy(d->volume_uuid, sb->volume_uuid, 16);
        memcpy(d->volume_name, sb->volume_name, strnlen(sb->volume_name, SS_VOLUME_NAME_MAX));
        LE_PUT(d->chunk_size, sb->chunk_size);
        LE_PUT(d->full_policy, sb->full_policy);
        LE_PUT(d->origin_size, sb->origin_size);
        LE_PUT(d->store_blocks, sb->store_blocks);
        LE_PUT(d->created, (uint64_t)sb->created);
        LE_PUT(d->next_snapshot, sb->next_snapshot);
        LE_PUT(d->snapshot_count, sb->snapshot_count);
        for (int t = 0; t < SS_TREE_COUNT; t++) {
                LE_PUT(d->roots[t].block, sb->roots[t].block);
                LE_PUT(d->roots[t].entries, sb->roots[t].entries);
                LE_PUT(d->roots[t].depth, sb->roots[t].depth);
                LE_PUT(d->roots[t].nodes, sb->roots[t].nodes);
        }
        LE_PUT(d->data_blocks, sb->data_blocks);
        LE_PUT(d->meta_blocks, sb->meta_blocks);
        LE_PUT(d->free_blocks, sb->free_blocks);
        LE_PUT(d->group_count, sb->group_count);
        LE_PUT(d->cleanup_count, sb->cleanup_count);
        for (uint32_t i = 0; i < sb->cleanup_count; i++) {
                SsDiskCleanupJob *j = &d->cleanup[i];
                j->kind = (uint8_t)sb->cleanup[i].kind;
                LE_PUT(j->from, sb->cleanup[i].from);
                LE_PUT(j->to, sb->cleanup[i].to);
                LE_PUT(j->cursor_hi, sb->cleanup[i].cursor_hi);
                LE_PUT(j->cursor_chunk, sb->cleanup[i].cursor_chunk);
        }
        LE_PUT(d->revert_target, sb->revert_target);
        LE_PUT(d->revert_phase, sb->revert_phase);
        LE_PUT(d->revert_cursor_hi, sb->revert_cursor_hi);
        LE_PUT(d->revert_cursor_chunk, sb->revert_cursor_chunk);
        LE_PUT(d->revert_done, sb->revert_done);

        uint8_t *table = (uint8_t *)buf + SS_SB_HEADER_SIZE;
        size_t sbytes = slot_bytes(sb->group_count);
        memcpy(table, sb->slot_bits, (sb->group_count + 7) / 8);
        for (uint32_t g = 0; g < sb->group_count; g++)
                le16_put(table + sbytes + 2 * (size_t)g, sb->group_free[g]);
        LE_PUT(d->csum, block_csum(buf, bytes));
        return bytes;
}
