/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Creating, opening and closing a store; store-wide settings and growth.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"

static bool chunk_size_valid(uint32_t cs)
{
        return cs >= SS_CHUNK_SIZE_MIN && cs <= SS_CHUNK_SIZE_MAX && !(cs & (cs - 1));
}

static uint32_t log2_u32(uint32_t v)
{
        return (uint32_t)__builtin_ctz(v);
}

static int write_zero_headers(SsBlockDev *dev, void *buf)
{
        memset(buf, 0, SS_BLOCK_SIZE);
        for (unsigned i = 0; i < SS_SB_AREAS; i++) {
                uint64_t off = (uint64_t)i * SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE;
                int r = ss_dev_pwrite(dev, buf, SS_BLOCK_SIZE, off);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Writes both areas of the pair of sb->txid in the commit's order: the
 * primary, a flush, then the mirror and a flush (txn.c, rule 2), so a cut
 * tears what a cut in a commit may tear and nothing more. */
static int write_pair(SsBlockDev *dev, const SsSuper *sb, void *buf)
{
        size_t area = (size_t)SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE;
        int r = 0;

        for (int mirror = 0; r == 0 && mirror < 2; mirror++) {
                size_t len = ss_super_encode_at(sb, buf, area, mirror);
                len = (len + SS_BLOCK_SIZE - 1) & ~(size_t)(SS_BLOCK_SIZE - 1);
                r = ss_dev_pwrite(dev, buf, len,
                                  ss_sb_area_block(sb->txid, mirror) << SS_BLOCK_SHIFT);
                if (r == 0)
                        r = ss_dev_flush(dev);
        }
        return r;
}

/* A random (version 4, RFC 4122 variant) UUID, as blkid and udev expect. */
static int random_uuid(uint8_t uuid[16])
{
        if (getrandom(uuid, 16, 0) != 16)
                return -errno;
        uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
        uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
        return 0;
}

static int check_create_options(SsBlockDev *origin, SsBlockDev *store, const SsCreateOptions *opts,
                                uint32_t *ret_chunk)
{
        uint32_t cs = opts->chunk_size ? opts->chunk_size : SS_CHUNK_SIZE_DEFAULT;

        if (!opts->volume_name || !ss_volume_name_valid(opts->volume_name))
                return ss_error(-EINVAL,
                                "volume name \"%.*s\" is invalid: use " ZUMA_VOLUME_NAME_RULE,
                                SS_VOLUME_NAME_MAX, opts->volume_name ? opts->volume_name : "");
        if (!chunk_size_valid(cs))
                return ss_error(-EINVAL,
                                "chunk size %u is invalid: use a power of two from "
                                "4096 to 1048576 bytes",
                                cs);
        if (opts->full_policy != SS_FULL_REFUSE && opts->full_policy != SS_FULL_AUTODELETE)
                return ss_error(-EINVAL, "unknown store-full policy %d", opts->full_policy);
        uint64_t osize = ss_dev_size(origin) & ~(uint64_t)(SS_SECTOR_SIZE - 1);
        if (osize == 0)
                return ss_error(-EINVAL, "origin %s is empty", origin->name);
        uint64_t min_blocks = SS_FIRST_GROUP_RESERVED + 2 + 16 * (cs / SS_BLOCK_SIZE);
        if (ss_dev_size(store) / SS_BLOCK_SIZE < min_blocks)
                return ss_error(-ENOSPC,
                                "store %s is too small: %llu bytes, need at least "
                                "%llu",
                                store->name, (unsigned long long)ss_dev_size(store),
                                (unsigned long long)(min_blocks * SS_BLOCK_SIZE));
        *ret_chunk = cs;
        return 0;
}

int ss_store_create(SsBlockDev *origin, SsBlockDev *store, const SsCreateOptions *opts)
{
        uint32_t cs = 0;
        int r = check_create_options(origin, store, opts, &cs);
        if (r < 0)
                return r;

        size_t area = (size_t)SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE;
        _cleanup_free_ void *buf = ss_alloc_io_buffer(area);
        if (!buf)
                return -ENOMEM;
        SsSuper old = { 0 };
        SsSuperPick pick;
        r = super_pick(store, buf, SS_OPEN_ACCEPT_ROLLBACK, &pick, &old);
        if (r == 0) {
                if (!opts->force) {
                        r = ss_error(-EEXIST,
                                     "%s already holds the store of volume %s; "
                                     "force is needed to overwrite it",
                                     store->name, old.volume_name);
                        ss_super_release(&old);
                        return r;
                }
                ss_super_release(&old);
        } else if ((r == -EUCLEAN || r == -ESTALE || r == -EPROTONOSUPPORT) && !opts->force) {
                return ss_error(-EEXIST,
                                "%s holds a damaged store or one of another format "
                                "version; force is needed to overwrite it",
                                store->name);
        } else if (r == -EIO || r == -ENOMEM) {
                return r;
        }

        SsStore tmp = { .dev = store, .chunk_shift = log2_u32(cs) };
        SsSuper *sb = &tmp.sb;
        uint64_t blocks =
                MIN(ss_dev_size(store) / SS_BLOCK_SIZE, (uint64_t)SS_MAX_GROUPS * SS_GROUP_BLOCKS);
        sb->txid = 1;
        sb->chunk_size = cs;
        sb->full_policy = opts->full_policy;
        sb->origin_size = ss_dev_size(origin) & ~(uint64_t)(SS_SECTOR_SIZE - 1);
        sb->store_blocks = blocks;
        sb->created = time(NULL);
        sb->next_snapshot = 1;
        sb->feature_incompat = SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS;
        sb->group_count = (uint32_t)((blocks + SS_GROUP_BLOCKS - 1) / SS_GROUP_BLOCKS);
        snprintf(sb->volume_name, sizeof(sb->volume_name), "%s", opts->volume_name);
        r = random_uuid(sb->uuid);
        if (r < 0)
                return ss_error(r, "cannot get random bytes for the store uuid");
        if (opts->volume_uuid)
                memcpy(sb->volume_uuid, opts->volume_uuid, 16);
        else if ((r = random_uuid(sb->volume_uuid)) < 0)
                return ss_error(r, "cannot get random bytes for the volume uuid");
        sb->slot_bits = calloc(1, ss_super_bytes(sb->group_count));
        sb->group_free = calloc(sb->group_count + 1, sizeof(uint16_t));
        uint8_t *bits = malloc(SS_BLOCK_SIZE);
        if (!sb->slot_bits || !sb->group_free || !bits) {
                r = -ENOMEM;
                goto out;
        }

        r = write_zero_headers(store, buf);
        for (uint32_t g = 0; r == 0 && g < sb->group_count; g++) {
                SsDiskBitmap *d = buf;
                int nfree = sm_format_group(&tmp, g, blocks, bits);
                uint64_t blk = sm_bitmap_block(&tmp, g, 0);
                sb->group_free[g] = (uint16_t)nfree;
                sb->free_blocks += (uint64_t)nfree;
                memset(buf, 0, SS_BLOCK_SIZE);
                LE_PUT(d->group, g);
                LE_PUT(d->free_blocks, (uint32_t)nfree);
                memcpy(d->bits, bits, SS_GROUP_BLOCKS / 8);
                ss_block_seal(buf, SS_MAGIC_BITMAP, blk, sb->txid);
                r = ss_dev_pwrite(store, buf, SS_BLOCK_SIZE, blk << SS_BLOCK_SHIFT);
        }
        if (r == 0)
                r = ss_dev_flush(store);
        /* Both pairs, so that no pair is ever empty (txn.c, rule 3); the
         * second only once the first is durable. */
        if (r == 0)
                r = write_pair(store, sb, buf);
        if (r == 0) {
                sb->txid = 2;
                r = write_pair(store, sb, buf);
        }
out:
        free(bits);
        ss_super_release(sb);
        return r;
}

static const char *const tree_names[SS_TREE_COUNT] = { "shared", "by-hi", "private", "snapshot" };

/* Open reads every tree root (cheap, a few blocks) so that a store whose
 * roots are damaged is refused before anything runs on it. */
static int verify_roots(SsStore *s)
{
        for (unsigned t = 0; t < SS_TREE_COUNT; t++) {
                SsNode *n;
                if (!s->sb.roots[t].block)
                        continue;
                int r = node_get_root_at_open(s, t, &n);
                if (r == -EUCLEAN || r == -EILSEQ)
                        return ss_error(-EUCLEAN, "store %s: root of the %s tree: %s", s->dev->name,
                                        tree_names[t], ss_last_error());
                if (r < 0)
                        return r;
                node_put(s, n);
        }
        return 0;
}

static int store_setup(SsStore *s, const SsOpenOptions *opts)
{
        s->chunk_shift = log2_u32(s->sb.chunk_size);
        s->chunk_blocks = s->sb.chunk_size / SS_BLOCK_SIZE;
        s->chunk_buf = ss_alloc_io_buffer(s->sb.chunk_size);
        s->node_buf = ss_alloc_io_buffer(SS_BLOCK_SIZE);
        s->copy_buf_chunks = MIN(MAX(COPY_BATCH_BYTES >> s->chunk_shift, 1u), COPY_BATCH_MAX);
        s->copy_buf = ss_alloc_io_buffer((size_t)s->copy_buf_chunks << s->chunk_shift);
        if (!s->chunk_buf || !s->node_buf || !s->copy_buf)
                return -ENOMEM;
        int r = readpool_new(&s->reads);
        if (r < 0)
                return r;
        size_t budget = opts && opts->cache_bytes ? opts->cache_bytes : SS_CACHE_DEFAULT;
        r = cache_init(&s->cache, MAX(budget, (size_t)256 << 10));
        if (r < 0)
                return r;
        r = ss_super_copy(&s->committed, &s->sb);
        if (r < 0)
                return r;
        r = sm_init(s);
        if (r < 0)
                return r;
        s->txn = s->sb.txid + 1;
        r = verify_roots(s);
        if (r == 0)
                r = sm_verify_current(s);
        if (r < 0)
                return r;
        return snaps_load(s);
}

static void store_free(SsStore *s)
{
        readpool_free(s->reads);
        snaps_destroy(&s->snaps);
        cache_destroy(&s->cache);
        sm_destroy(&s->sm);
        ss_super_release(&s->sb);
        ss_super_release(&s->committed);
        free(s->chunk_buf);
        free(s->copy_buf);
        free(s->node_buf);
        free(s->block_buf);
        free(s);
}

/* A store written before the compact snapshot table is rewritten in it by
 * the first writable open: one transaction, so a crash leaves the old
 * format intact, and the next open tries again.  A store too full for the
 * new nodes stays in the old format, which the engine still reads and
 * writes. */
static int upgrade(SsStore *s)
{
        if (s->readonly || (s->sb.feature_incompat & SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS))
                return 0;
        if (store_writable(s) < 0)
                return 0;
        int r = snaps_upgrade(s);
        if (r == 0)
                return txn_commit(s);
        txn_abort(s);
        if (r == -ENOSPC)
                return 0;
        return ss_error(r, "store %s: cannot rewrite the snapshot table in the compact format: %s",
                        s->dev->name, ss_last_error());
}

static int check_sizes(SsStore *s, unsigned flags)
{
        uint64_t osize = ss_dev_size(s->origin) & ~(uint64_t)(SS_SECTOR_SIZE - 1);

        if (ss_dev_size(s->dev) / SS_BLOCK_SIZE < s->sb.store_blocks)
                return ss_error(-EINVAL, "store %s is %llu bytes but its metadata says %llu",
                                s->dev->name, (unsigned long long)ss_dev_size(s->dev),
                                (unsigned long long)(s->sb.store_blocks * SS_BLOCK_SIZE));
        if (osize < s->sb.origin_size ||
            (osize > s->sb.origin_size && !(flags & SS_OPEN_GROW_ORIGIN)))
                return ss_error(-EINVAL,
                                "origin %s is %llu bytes but store %s belongs to an "
                                "origin of %llu bytes (volume %s)",
                                s->origin->name, (unsigned long long)osize, s->dev->name,
                                (unsigned long long)s->sb.origin_size, s->sb.volume_name);
        return 0;
}

int ss_store_open(SsBlockDev *origin, SsBlockDev *store, const SsOpenOptions *opts,
                  SsStore **ret_store)
{
        unsigned flags = opts ? opts->flags : 0;
        SsStore *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->origin = origin;
        s->dev = store;
        s->readonly = flags & SS_OPEN_READONLY;
        if (opts) {
                s->on_autodelete = opts->on_autodelete;
                s->user = opts->user;
        }
        s->block_buf = ss_alloc_io_buffer((size_t)SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE);
        int r = s->block_buf ? super_pick(store, s->block_buf, flags, &s->pick, &s->sb) : -ENOMEM;
        if (r == 0 && (s->sb.feature_ro_compat & ~SS_FEATURE_RO_COMPAT_SUPP))
                s->readonly = true;
        if (r == 0)
                r = check_sizes(s, flags);
        if (r == 0)
                r = store_setup(s, opts);
        if (r == 0)
                r = super_heal(s);
        if (r == 0)
                r = upgrade(s);
        if (r == 0 && (flags & SS_OPEN_GROW_ORIGIN) && !s->readonly)
                r = ss_origin_grow(s, ss_dev_size(origin) & ~(uint64_t)(SS_SECTOR_SIZE - 1));
        if (r < 0) {
                store_free(s);
                return r;
        }
        *ret_store = s;
        return 0;
}

int ss_store_close(SsStore *s)
{
        int r = 0;

        if (!s)
                return 0;
        r = origin_no_plans(s, "close the store");
        if (r < 0)
                return r;
        if (!s->readonly && !s->failed && !s->damaged) {
                r = txn_commit(s);
                if (r == 0)
                        r = ss_store_flush(s);
        }
        store_free(s);
        return r;
}

int ss_store_flush(SsStore *s)
{
        int r = s->readonly ? 0 : ss_dev_flush(s->origin);
        if (r == 0 && !s->readonly)
                r = ss_dev_flush(s->dev);
        return r;
}

int ss_store_probe(SsBlockDev *store, SsStoreLabel *ret_label)
{
        _cleanup_free_ void *buf = ss_alloc_io_buffer((size_t)SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE);
        SsSuperPick pick;
        SsSuper sb = { 0 };
        SsStoreLabel label = { 0 };
        int r;

        if (!buf)
                return -ENOMEM;
        r = super_pick(store, buf, 0, &pick, &sb);
        if (r == -ESTALE)
                r = super_pick(store, buf, SS_OPEN_ACCEPT_ROLLBACK, &pick, &sb) < 0 ? r : -ESTALE;
        if (r < 0 && r != -ESTALE) {
                ss_super_release(&sb);
                return r;
        }
        memcpy(label.uuid, sb.uuid, 16);
        memcpy(label.volume_uuid, sb.volume_uuid, 16);
        memcpy(label.volume_name, sb.volume_name, sizeof(label.volume_name));
        label.volume_name[SS_VOLUME_NAME_MAX] = '\0';
        label.chunk_size = sb.chunk_size;
        label.origin_size = sb.origin_size;
        label.txid = sb.txid;
        ss_super_release(&sb);
        if (!ss_volume_name_valid(label.volume_name))
                return ss_error(-EUCLEAN, "%s: the superblock's volume name is not valid",
                                store->name);
        *ret_label = label;
        return r;
}

int ss_store_info(SsStore *s, SsStoreInfo *ret)
{
        const SsSuper *sb = &s->sb;
        SsStoreInfo info = { 0 };
        uint64_t fixed = SS_FIRST_GROUP_RESERVED + 2ull * sb->group_count;

        memcpy(info.uuid, sb->uuid, 16);
        memcpy(info.volume_uuid, sb->volume_uuid, 16);
        memcpy(info.volume_name, sb->volume_name, sizeof(info.volume_name));
        info.chunk_size = sb->chunk_size;
        info.compact_snapshot_table = sb->feature_incompat & SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS;
        info.origin_size = sb->origin_size;
        info.store_size = sb->store_blocks * SS_BLOCK_SIZE;
        info.txid = s->committed.txid;
        info.snapshot_count = sb->snapshot_count;
        info.next_id = sb->next_snapshot;
        info.data_bytes = sb->data_blocks * SS_BLOCK_SIZE;
        info.metadata_bytes = (sb->meta_blocks + fixed) * SS_BLOCK_SIZE;
        info.free_bytes = sb->free_blocks * SS_BLOCK_SIZE;
        info.shared_exceptions = sb->roots[SS_TREE_SHARED].entries;
        info.private_exceptions = sb->roots[SS_TREE_PRIVATE].entries;
        info.cleanup_jobs = sb->cleanup_count;
        info.revert_target = sb->revert_target;
        info.full_policy = (SsFullPolicy)sb->full_policy;
        info.superblock_copies_damaged = s->pick.damaged;
        info.rolled_back = s->pick.rolled_back;
        info.lost_txid = s->pick.lost_txid;
        info.damaged = s->damaged;
        snprintf(info.damage, sizeof(info.damage), "%s", s->damage);
        *ret = info;
        return 0;
}

int ss_store_set_full_policy(SsStore *s, SsFullPolicy policy)
{
        int r = store_writable(s);
        if (r < 0)
                return r;
        if (policy != SS_FULL_REFUSE && policy != SS_FULL_AUTODELETE)
                return ss_error(-EINVAL, "unknown store-full policy %d", policy);
        if (s->sb.full_policy == (uint32_t)policy)
                return 0;
        s->sb.full_policy = policy;
        s->txn_dirty = true;
        return txn_commit(s);
}

int ss_origin_grow(SsStore *s, uint64_t new_size)
{
        int r = store_writable(s);
        /* A plan read the partial last chunk short (origin.c). */
        if (r == 0)
                r = origin_no_plans(s, "grow the origin");
        if (r < 0)
                return r;
        if (new_size % SS_SECTOR_SIZE || new_size < s->sb.origin_size)
                return ss_error(-EINVAL,
                                "origin size %llu is invalid: it must be a multiple "
                                "of 512 and not below the current %llu",
                                (unsigned long long)new_size,
                                (unsigned long long)s->sb.origin_size);
        if (ss_dev_size(s->origin) < new_size)
                return ss_error(-EINVAL, "origin %s is only %llu bytes", s->origin->name,
                                (unsigned long long)ss_dev_size(s->origin));
        if (new_size == s->sb.origin_size)
                return 0;
        s->sb.origin_size = new_size;
        s->txn_dirty = true;
        return txn_commit(s);
}

int ss_store_grow(SsStore *s, uint64_t new_size)
{
        int r = store_writable(s);
        if (r < 0)
                return r;
        uint64_t blocks = new_size / SS_BLOCK_SIZE;
        if (blocks < s->sb.store_blocks)
                return ss_error(-EINVAL, "a store cannot shrink (%llu < %llu bytes)",
                                (unsigned long long)new_size,
                                (unsigned long long)(s->sb.store_blocks * SS_BLOCK_SIZE));
        if (ss_dev_size(s->dev) / SS_BLOCK_SIZE < blocks)
                return ss_error(-EINVAL, "store %s is only %llu bytes", s->dev->name,
                                (unsigned long long)ss_dev_size(s->dev));
        if (blocks == s->sb.store_blocks)
                return 0;
        r = sm_grow(s, blocks);
        if (r == 0)
                r = txn_commit(s);
        else
                txn_abort(s);
        return r;
}
