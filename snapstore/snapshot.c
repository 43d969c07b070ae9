/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Snapshot lifecycle: create, delete, rename, priority and flags, lookups,
 * and the store-full policy that deletes snapshots to make room.
 *
 * Creating a snapshot writes one record and the superblock: nothing is
 * copied, and the cost does not grow with the number of snapshots.
 * Deleting one removes its record and queues a cleanup job; the exceptions
 * that only it needed are freed by ss_cleanup_step() (cleanup.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static int commit_or_abort(SsStore *s, int r)
{
        if (r == 0)
                return txn_commit(s);
        txn_abort(s);
        return r;
}

static int default_name(SsStore *s, char *buf, size_t len)
{
        time_t now = time(NULL);
        struct tm tm;
        char stamp[32];

        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%d-%H:%M:%S", &tm);
        snprintf(buf, len, "%s-%s", s->sb.volume_name, stamp);
        for (unsigned n = 2; snaps_find_name(s, buf); n++)
                snprintf(buf, len, "%s-%s.%u", s->sb.volume_name, stamp, n);
        return 0;
}

static int check_new_name(SsStore *s, const char *name)
{
        if (!ss_name_valid(name, SS_NAME_MAX))
                return ss_error(-EINVAL,
                                "snapshot name \"%.*s\" is invalid: use " ZUMA_SNAPSHOT_NAME_RULE,
                                SS_NAME_MAX, name);
        const SsSnapshotInfo *other = snaps_find_name(s, name);
        if (other)
                return ss_error(-EEXIST, "snapshot name %s is taken by snapshot %u", name,
                                other->id);
        return 0;
}

int ss_snapshot_create(SsStore *s, const char *name, uint32_t flags, int32_t priority,
                       uint32_t *ret_id)
{
        return ss_snapshot_create_at(s, name, flags, priority, time(NULL), ret_id);
}

int ss_snapshot_create_at(SsStore *s, const char *name, uint32_t flags, int32_t priority,
                          int64_t ctime, uint32_t *ret_id)
{
        SsSnapshotInfo info = { 0 };
        int r = store_writable(s);
        if (r < 0)
                return r;
        if (flags & ~(uint32_t)(SS_SNAP_WRITABLE | SS_SNAP_PINNED))
                return ss_error(-EINVAL, "unknown snapshot flags 0x%x", flags);
        if (name) {
                r = check_new_name(s, name);
                if (r < 0)
                        return r;
                snprintf(info.name, sizeof(info.name), "%s", name);
        } else {
                default_name(s, info.name, sizeof(info.name));
        }
        if (s->sb.next_snapshot == UINT32_MAX)
                return ss_error(-EOVERFLOW, "store %s has used up its snapshot ids", s->dev->name);
        info.id = s->sb.next_snapshot;
        info.flags = flags;
        info.priority = priority;
        info.ctime = ctime;
        info.origin_size = s->sb.origin_size;
        /* The snapshot holds every origin write that returned before it:
         * those still in the origin device's cache become durable first,
         * so the commit below never records a snapshot whose data a power
         * cut could still take back. */
        r = ss_dev_flush(s->origin);
        if (r < 0)
                return ss_error(r, "cannot flush origin %s before the snapshot", s->origin->name);
        s->sb.next_snapshot++;
        r = commit_or_abort(s, snaps_put(s, &info));
        if (r == 0 && ret_id)
                *ret_id = info.id;
        return r;
}

/* Removes the record of snapshot id and queues the freeing of its space. */
int snapshot_delete_locked(SsStore *s, uint32_t id)
{
        if (id && s->sb.revert_target == id)
                return ss_error(-EBUSY,
                                "snapshot %u is the target of an unfinished revert: finish the "
                                "revert or abandon it first",
                                id);
        uint32_t above = snaps_live_above(s, id);
        int r = snaps_remove(s, id);
        if (r == -ENOENT)
                return ss_error(-ENOENT, "snapshot %u does not exist", id);
        if (r == 0)
                r = cleanup_add(s, SS_CLEANUP_SHARED, id, above ? above : s->sb.next_snapshot);
        if (r == 0 && s->sb.roots[SS_TREE_PRIVATE].block) {
                SsKey k;
                int p = bt_seek_ge(s, SS_TREE_PRIVATE, key_make(id, 0), &k, NULL);
                if (p == 0 && k.a == id)
                        r = cleanup_add(s, SS_CLEANUP_PRIVATE, id, id + 1);
                else if (p < 0 && p != -ENOENT)
                        r = p;
        }
        return r;
}

int ss_snapshot_delete(SsStore *s, uint32_t id)
{
        int r = store_writable(s);
        if (r < 0)
                return r;
        return commit_or_abort(s, snapshot_delete_locked(s, id));
}

static int find_or_fail(SsStore *s, uint32_t id, SsSnapshotInfo **ret)
{
        SsSnapshotInfo *info = snaps_find(s, id);

        if (!info)
                return ss_error(-ENOENT, "snapshot %u does not exist", id);
        *ret = info;
        return 0;
}

static int update(SsStore *s, uint32_t id, const char *name, const int32_t *priority, uint32_t set,
                  uint32_t clear)
{
        SsSnapshotInfo *cur = NULL;
        int r = store_writable(s);
        if (r == 0)
                r = find_or_fail(s, id, &cur);
        if (r < 0)
                return r;
        SsSnapshotInfo info = *cur;
        if (name && strcmp(name, info.name) != 0) {
                r = check_new_name(s, name);
                if (r < 0)
                        return r;
                snprintf(info.name, sizeof(info.name), "%s", name);
        }
        if (priority)
                info.priority = *priority;
        if ((set | clear) & ~(uint32_t)(SS_SNAP_WRITABLE | SS_SNAP_PINNED))
                return ss_error(-EINVAL, "unknown snapshot flags 0x%x", set | clear);
        info.flags = (info.flags | set) & ~clear;
        if (memcmp(&info, cur, sizeof(info)) == 0)
                return 0;
        return commit_or_abort(s, snaps_put(s, &info));
}

int ss_snapshot_rename(SsStore *s, uint32_t id, const char *name)
{
        if (!name)
                return ss_error(-EINVAL, "no snapshot name given");
        return update(s, id, name, NULL, 0, 0);
}

int ss_snapshot_set_priority(SsStore *s, uint32_t id, int32_t priority)
{
        return update(s, id, NULL, &priority, 0, 0);
}

int ss_snapshot_set_flags(SsStore *s, uint32_t id, uint32_t set, uint32_t clear)
{
        return update(s, id, NULL, NULL, set, clear);
}

int ss_snapshot_get(SsStore *s, uint32_t id, SsSnapshotInfo *ret)
{
        SsSnapshotInfo *info = NULL;
        int r = find_or_fail(s, id, &info);
        if (r == 0)
                *ret = *info;
        return r;
}

int ss_snapshot_find(SsStore *s, const char *name, uint32_t *ret_id)
{
        const SsSnapshotInfo *info = name ? snaps_find_name(s, name) : NULL;

        if (!info)
                return ss_error(-ENOENT, "no snapshot is named %s", name ? name : "(null)");
        *ret_id = info->id;
        return 0;
}

int ss_snapshot_next(SsStore *s, uint32_t after, SsSnapshotInfo *ret)
{
        uint32_t id = snaps_live_above(s, after);

        if (!id)
                return -ENOENT;
        *ret = *snaps_find(s, id);
        return 0;
}

/* The store is full: delete the unpinned snapshot with the lowest priority,
 * the oldest among equals, free its space and commit.  Never `keep` (the
 * snapshot being written) nor the target of an unfinished revert: deleting
 * that is refused (the revert needs it), and a write must not fail because
 * of a revert. */
int autodelete_one(SsStore *s, uint32_t keep)
{
        const SsSnapshotInfo *victim = NULL;
        uint32_t target = s->sb.revert_target;

        for (size_t i = 0; i < s->snaps.n; i++) {
                const SsSnapshotInfo *c = &s->snaps.v[i];
                if ((c->flags & SS_SNAP_PINNED) || c->id == keep || c->id == target)
                        continue;
                if (!victim || c->priority < victim->priority)
                        victim = c;
        }
        if (!victim && target && snaps_find(s, target))
                return ss_error(-ENOSPC,
                                "store %s is full and no snapshot can be deleted to make room: "
                                "the others are pinned%s, and snapshot %u is the target of an "
                                "unfinished revert",
                                s->dev->name, keep ? " or being written" : "", target);
        if (!victim)
                return ss_error(-ENOSPC, "store %s is full and every snapshot is pinned%s",
                                s->dev->name, keep ? " or being written" : "");
        uint32_t id = victim->id;
        char name[SS_NAME_MAX + 1];
        snprintf(name, sizeof(name), "%s", victim->name);

        int r = commit_or_abort(s, snapshot_delete_locked(s, id));
        if (r == 0 && s->on_autodelete)
                s->on_autodelete(s->user, id, name);
        /* Free in small transactions: what one frees, the next may use. */
        while (r == 0 && s->sb.cleanup_count) {
                r = cleanup_run(s, 256, NULL);
                r = commit_or_abort(s, r < 0 ? r : 0);
        }
        return r;
}
