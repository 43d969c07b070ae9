/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Transactions: the commit, and how open chooses the commit to start from.
 *
 * THE COMMIT RULE.  Shadow paging with two alternating superblock copies,
 * each with a mirror (format.h: copy txid mod 2 at block 0 or 32, its
 * mirror at block 64 or 96):
 *   1. Nothing that the last committed superblock references is ever
 *      written: B-tree nodes are shadowed into blocks allocated by the open
 *      transaction, space-map bitmaps are written to the slot the committed
 *      superblock does not use, and copied-out chunks go to blocks that were
 *      free when the last transaction committed.
 *   2. Commit writes the dirty nodes and bitmaps, flushes, writes the new
 *      superblock (txid + 1) over the older of the two copies, and flushes
 *      again: that flush acknowledges the commit.  Then it writes the same
 *      superblock to that copy's mirror WITHOUT a flush of its own: the
 *      mirror becomes durable with the next commit's first flush (or at
 *      close, or ss_store_flush()).  No flush is added per commit.
 *   3. Open reads all four areas.  Per pair (a copy and its mirror) the
 *      valid area with the highest txid stands for the pair; the pair with
 *      the highest txid is the newest commit:
 *      - its primary valid: use it.  A damaged mirror is reported, and
 *        rewritten at a writable open (later commits heal it too);
 *      - its primary damaged, its mirror valid and newer than the other
 *        pair: recover from the mirror (reported, not a rollback); a
 *        writable open rewrites the primary;
 *      - a primary damaged whose mirror holds an OLDER txid than the other
 *        pair: that was a commit torn in flight, never acknowledged (the
 *        mirror is written only after the primary's flush), so the other
 *        pair is the newest commit: ordinary crash recovery, not an error;
 *      - both areas of a pair damaged: that pair may have held the newest
 *        commit, so opening on the other pair may roll the store back:
 *        -ESTALE, unless SS_OPEN_ACCEPT_ROLLBACK (then rolled_back, and
 *        lost_txid from a damaged header when its txid field is readable).
 *        ss_store_create() writes both pairs (txid 1, then 2), so a pair is
 *        never legitimately empty;
 *      - an area that never carried the superblock magic while the newest
 *        commit is one of creation's own (txid <= 2): creation was cut
 *        short, there is no store yet: -ENODATA, and create may run again.
 *   A crash can tear at most one area that matters: the newest commit's
 *   mirror (before the next commit's first flush) or the other pair's
 *   primary (the next commit in flight).  ss_check() reports every damaged
 *   area except that one; a writable open rewrites the newest commit's
 *   mirror when it does not hold that commit, so the next crash finds it
 *   intact.
 *
 * The origin side of the rule: a copy-out is durable only when the commit
 * that records it has returned, so an origin write waits for that (origin.c;
 * several writers may share one commit: ss_origin_prepare_writes()).  The
 * split copy-out writes its chunks before its transaction begins, into
 * blocks reserved outside every transaction (free on disk until the commit
 * that claims them; rule 1 holds), and this commit's first flush makes
 * them durable before the superblock that references them (origin.c, THE
 * SPLIT COPY-OUT).
 *
 * Every mutating call is one transaction.  If it fails before committing,
 * txn_abort() returns the handle to the last committed state.  If a commit
 * itself fails the handle is marked failed: what reached the disk is not
 * known, so only reopening (which finds the newest valid superblock) is safe.
 *
 * DAMAGE.  Whoever finds corrupt on-disk metadata (node reads, bitmap
 * reads, a space map that disagrees with the trees) calls store_damaged()
 * (error.c, below every layer that reads metadata): from then on
 * store_writable() refuses every change and copy-out, so a
 * store known to be damaged is never written to (like errors=remount-ro).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int store_writable(SsStore *s)
{
        if (s->damaged)
                return ss_error(-EUCLEAN, "store is damaged: %s", s->damage);
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

static int write_super(SsStore *s, const SsSuper *sb, bool mirror)
{
        size_t len = ss_super_encode_at(sb, s->block_buf, (size_t)SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE,
                                        mirror);
        uint64_t blk = ss_sb_area_block(sb->txid, mirror);

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
        r = cache_write_dirty(s);
        if (r == 0)
                r = sm_write_dirty(s);
        if (r == 0)
                r = ss_dev_flush(s->dev);
        if (r == 0) {
                s->sb.txid = s->txn;
                r = write_super(s, &s->sb, false);
        }
        if (r == 0)
                r = ss_dev_flush(s->dev);
        if (r < 0)
                return txn_fail(s, r);

        /* Durable now.  A failed mirror write leaves an older or torn
         * mirror, which open tolerates; like any failed commit it fails the
         * call and the handle (the caller cannot tell the two apart). */
        r = write_super(s, &s->sb, true);
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

/* ---- choosing the commit at open (rule 3) ---- */

static const char *const area_names[SS_SB_AREAS] = { "copy 0", "copy 1", "mirror 0", "mirror 1" };

static uint64_t copy_txid(const SsSuperPick *p, int area)
{
        return area < 0 ? 0 : p->copy[area].txid;
}

static void note_damaged(SsSuperCopy *c, const void *buf, const char *why)
{
        const SsDiskSuperblock *d = buf;

        c->valid = false;
        c->txid = le32_get(&d->magic) == SS_MAGIC_SUPERBLOCK ? le64_get(&d->txid) : 0;
        snprintf(c->why, sizeof(c->why), "%s", why);
}

/* No area carries the superblock magic: a device that never held a store,
 * or a store whose superblocks were all destroyed (its space map says so). */
static int no_superblock(SsBlockDev *dev, void *buf)
{
        uint64_t blk = SS_FIRST_GROUP_RESERVED;

        if (ss_dev_size(dev) >= (blk + 1) * SS_BLOCK_SIZE &&
            ss_dev_pread(dev, buf, SS_BLOCK_SIZE, blk << SS_BLOCK_SHIFT) == 0 &&
            le32_get((const uint8_t *)buf + offsetof(SsDiskBlockHeader, magic)) == SS_MAGIC_BITMAP)
                return ss_error(-EUCLEAN,
                                "%s: no superblock copy is left, but block %llu holds a "
                                "Zumastor space map: every superblock area was destroyed",
                                dev->name, (unsigned long long)blk);
        return ss_error(-ENODATA, "%s does not hold a Zumastor store", dev->name);
}

static int refuse_rollback(SsBlockDev *dev, const SsSuperPick *p, unsigned other, unsigned chosen,
                           uint64_t lost)
{
        char lost_txt[64] = "";

        if (lost)
                snprintf(lost_txt, sizeof(lost_txt), " (their headers say transaction %llu)",
                         (unsigned long long)lost);
        return ss_error(-ESTALE,
                        "%s: superblock %s (block %llu: %.70s) and %s (block %llu: %.70s) are "
                        "damaged and may hold a newer commit%s than transaction %llu (%s, "
                        "block %llu); opening on it would roll the store back, and snapshots "
                        "whose chunks the lost commit copied out would read newer data: open "
                        "only if the rollback is accepted",
                        dev->name, area_names[other], (unsigned long long)p->copy[other].blocknr,
                        p->copy[other].why, area_names[other + 2],
                        (unsigned long long)p->copy[other + 2].blocknr, p->copy[other + 2].why,
                        lost_txt, (unsigned long long)p->copy[chosen].txid, area_names[chosen],
                        (unsigned long long)p->copy[chosen].blocknr);
}

/* Marks the one damaged area an interrupted commit explains, if any. */
static void explain_crash(SsSuperPick *p, unsigned newest, unsigned other, bool other_readable)
{
        SsSuperCopy *mirror = &p->copy[newest + 2], *primary = &p->copy[other];

        if (!other_readable) {
                /* Only reached for txid 1: create stopped before the second pair. */
                p->copy[other].explained = !p->copy[other].valid;
                p->copy[other + 2].explained = !p->copy[other + 2].valid;
                return;
        }
        bool torn_mirror = !mirror->valid;
        bool torn_primary = !primary->valid && p->copy[other + 2].valid;
        if (torn_mirror && !torn_primary)
                mirror->explained = true;
        else if (torn_primary && !torn_mirror)
                primary->explained = true;
}

int super_pick(SsBlockDev *dev, void *buf, unsigned flags, SsSuperPick *ret_pick, SsSuper *ret_sb)
{
        size_t area = (size_t)SS_SB_AREA_BLOCKS * SS_BLOCK_SIZE;
        SsSuper sb[SS_SB_AREAS] = { 0 };
        SsSuperPick pick = { 0 };
        bool magic = false;
        int unwritten = -1; /* an area without the superblock magic */
        int best[SS_SB_COPIES] = { -1, -1 };
        int r = 0;

        if (ss_dev_size(dev) < SS_SB_AREAS * area)
                return ss_error(-EINVAL, "%s is too small to hold a store", dev->name);
        for (unsigned i = 0; i < SS_SB_AREAS; i++) {
                SsSuperCopy *c = &pick.copy[i];
                c->blocknr = (uint64_t)i * SS_SB_AREA_BLOCKS;
                r = ss_dev_pread(dev, buf, area, c->blocknr << SS_BLOCK_SHIFT);
                if (r < 0)
                        goto out;
                if (le32_get((uint8_t *)buf + offsetof(SsDiskSuperblock, magic)) ==
                    SS_MAGIC_SUPERBLOCK)
                        magic = true;
                else if (unwritten < 0)
                        unwritten = (int)i;
                r = ss_super_decode(buf, area, c->blocknr, &sb[i]);
                if (r == -EPROTONOSUPPORT || r == -ENOMEM)
                        goto out; /* not damage: the whole store is unusable here */
                if (r < 0) {
                        note_damaged(c, buf, ss_last_error());
                        pick.damaged++;
                        r = 0;
                        continue;
                }
                c->valid = true;
                c->txid = sb[i].txid;
                unsigned pair = i % SS_SB_COPIES;
                if (best[pair] < 0 || c->txid > pick.copy[best[pair]].txid)
                        best[pair] = (int)i;
        }
        if (best[0] < 0 && best[1] < 0) {
                if (!magic)
                        r = no_superblock(dev, buf);
                else
                        r = ss_error(-EUCLEAN,
                                     "%s: no valid superblock (copy 0: %.90s; copy 1: %.90s; "
                                     "mirror 0: %.90s; mirror 1: %.90s)",
                                     dev->name, pick.copy[0].why, pick.copy[1].why,
                                     pick.copy[2].why, pick.copy[3].why);
                goto out;
        }

        unsigned newest = copy_txid(&pick, best[0]) > copy_txid(&pick, best[1]) ? 0 : 1;
        unsigned other = 1 - newest;
        unsigned chosen = (unsigned)best[newest];
        uint64_t txid = pick.copy[chosen].txid;
        bool other_readable = best[other] >= 0;

        /* Creation writes every area's header, then the pair of txid 1,
         * flushes, then the pair of txid 2 and flushes: once it returned,
         * every area carries the magic for good (a torn superblock write
         * keeps it in its first sector, old or new).  An area without it
         * next to commits of creation alone: creation never finished, and
         * there is no store to open, only one to create again. */
        if (txid <= 2 && unwritten >= 0) {
                r = ss_error(-ENODATA,
                             "%s: the creation of a store was interrupted (superblock area at "
                             "block %llu was never written); create it again",
                             dev->name, (unsigned long long)pick.copy[unwritten].blocknr);
                goto out;
        }

        if (!other_readable && txid > 1) {
                uint64_t lost = 0;
                for (unsigned i = other; i < SS_SB_AREAS; i += SS_SB_COPIES)
                        if (pick.copy[i].txid > txid && pick.copy[i].txid % SS_SB_COPIES == other)
                                lost = MAX(lost, pick.copy[i].txid);
                if (!(flags & SS_OPEN_ACCEPT_ROLLBACK)) {
                        r = refuse_rollback(dev, &pick, other, chosen, lost);
                        goto out;
                }
                pick.rolled_back = true;
                pick.lost_txid = lost;
        } else {
                explain_crash(&pick, newest, other, other_readable);
        }
        pick.chosen = chosen;
        pick.from_mirror = chosen >= SS_SB_COPIES;
        *ret_sb = sb[chosen];
        memset(&sb[chosen], 0, sizeof(sb[chosen]));
        *ret_pick = pick;
out:
        for (unsigned i = 0; i < SS_SB_AREAS; i++)
                ss_super_release(&sb[i]);
        return r;
}

/* At a writable open: rewrites the areas of the chosen commit that do not
 * hold it (a damaged primary, a damaged or older mirror), so that one more
 * damaged or torn area cannot lose it. */
int super_heal(SsStore *s)
{
        const SsSuper *sb = &s->committed;
        const SsSuperCopy *primary = &s->pick.copy[sb->txid % SS_SB_COPIES];
        const SsSuperCopy *mirror = &s->pick.copy[sb->txid % SS_SB_COPIES + SS_SB_COPIES];
        bool primary_ok = primary->valid && primary->txid == sb->txid;
        bool mirror_ok = mirror->valid && mirror->txid == sb->txid;
        int r = 0;

        if (s->readonly || (primary_ok && mirror_ok))
                return 0;
        if (!primary_ok)
                r = write_super(s, sb, false);
        if (r == 0 && !mirror_ok)
                r = write_super(s, sb, true);
        if (r == 0)
                r = ss_dev_flush(s->dev);
        return r;
}
