// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-zumastor volumes: everything the targets of one volume tag share.
 *
 * A volume is found by its tag and lives while a target or a session holds
 * it (kref; the registry list and the last put under zuma_volumes_mutex).
 * It owns the two caches, the requests to the server, the barrier and the
 * routing of every bio (zuma_route()).
 *
 * Caches.  `copied` has a bit per origin chunk: set when the server said
 * WRITE_OK for it in the current epoch, so the chunk has been copied out
 * for every snapshot that exists and later writes to it need no question.
 * Each snapshot target's `maps` xarray holds chunk -> origin or store
 * sector from READ_MAP.  A WRITE_OK erases the "origin" entries of its
 * chunks in every snapshot target (those snapshots now read the copy).
 * BARRIER_END invalidates by kind (create: all bits; delete: that
 * snapshot's maps; revert: everything) and bumps `epoch`; a reply to a
 * request made in an older epoch is not cached, its bios are routed again.
 *
 * Origin chunks under snapshot reads.  A snapshot read that a map sends to
 * the origin counts itself in readers[hash(chunk)] (under vol->lock, with
 * the lookup) until it ends; an origin write to a chunk whose bucket is
 * busy waits in `parked` until the bucket empties.  A write may so wait
 * for a read of another chunk of the same bucket, never the reverse.  The
 * kernel holds these writes itself, so the protocol needs no READ_DONE.
 *
 * Every held bio is released by routing it again (zuma_resubmit()), so one
 * function, zuma_route(), makes every decision.
 */
#include <linux/blkdev.h>
#include <linux/ctype.h>
#include <linux/hash.h>
#include <linux/mempool.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "zumastor.h"

static LIST_HEAD(zuma_volumes);
DEFINE_MUTEX(zuma_volumes_mutex);
static mempool_t *zuma_request_pool;

static void zuma_timeout_fn(struct work_struct *work);
static void zuma_drain_fn(struct work_struct *work);
static void zuma_release_fn(struct work_struct *work);

bool zuma_tag_valid(const char *tag, size_t size)
{
	size_t len = strnlen(tag, size);
	size_t i;

	if (len == 0 || len >= size || tag[0] == '-' || tag[0] == '.')
		return false;
	for (i = 0; i < len; i++) {
		char c = tag[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '+' && c != '-')
			return false;
	}
	for (i = len; i < size; i++)
		if (tag[i])
			return false;
	return true;
}

/**
 * zuma_volume_get - find or create the volume of @tag and take a reference
 * @tag: a valid tag (zuma_tag_valid())
 *
 * Called with zuma_volumes_mutex held.  Returns NULL when out of memory.
 */
struct zuma_volume *zuma_volume_get(const char *tag)
{
	struct zuma_volume *vol;
	int i;

	lockdep_assert_held(&zuma_volumes_mutex);
	list_for_each_entry(vol, &zuma_volumes, node) {
		if (!strncmp(vol->tag, tag, ZUMA_TAG_MAX)) {
			kref_get(&vol->kref);
			return vol;
		}
	}
	vol = kzalloc(sizeof(*vol), GFP_KERNEL);
	if (!vol)
		return NULL;
	kref_init(&vol->kref);
	strscpy(vol->tag, tag, sizeof(vol->tag));
	spin_lock_init(&vol->lock);
	INIT_LIST_HEAD(&vol->targets);
	init_waitqueue_head(&vol->server_wq);
	INIT_LIST_HEAD(&vol->outbox);
	INIT_LIST_HEAD(&vol->requests);
	INIT_LIST_HEAD(&vol->unsent);
	xa_init(&vol->ids);
	xa_init(&vol->pending_writes);
	vol->next_id = 1;
	INIT_DELAYED_WORK(&vol->timeout_work, zuma_timeout_fn);
	bio_list_init(&vol->deferred);
	INIT_WORK(&vol->drain_work, zuma_drain_fn);
	INIT_WORK(&vol->release_work, zuma_release_fn);
	atomic_set(&vol->inflight, 0);
	init_waitqueue_head(&vol->drain_wq);
	atomic_set(&vol->readers_total, 0);
	for (i = 0; i < ZUMA_READER_BUCKETS; i++)
		atomic_set(&vol->readers[i], 0);
	bio_list_init(&vol->parked);
	list_add(&vol->node, &zuma_volumes);
	return vol;
}

static void zuma_volume_release(struct kref *kref)
{
	struct zuma_volume *vol = container_of(kref, struct zuma_volume, kref);

	/* Called with zuma_volumes_mutex held; no target, no session. */
	list_del(&vol->node);
	cancel_delayed_work_sync(&vol->timeout_work);
	cancel_work_sync(&vol->drain_work);
	cancel_work_sync(&vol->release_work);
	WARN_ON(!list_empty(&vol->requests));
	WARN_ON(!list_empty(&vol->outbox));
	WARN_ON(!bio_list_empty(&vol->deferred) || !bio_list_empty(&vol->parked));
	xa_destroy(&vol->ids);
	xa_destroy(&vol->pending_writes);
	kvfree(vol->copied);
	kfree(vol);
}

void zuma_volume_put(struct zuma_volume *vol)
{
	if (kref_put_mutex(&vol->kref, zuma_volume_release, &zuma_volumes_mutex))
		mutex_unlock(&zuma_volumes_mutex);
}

/**
 * zuma_volume_attach_target - add @t to @vol, fixing or checking geometry
 * @vol: the volume of @t's tag
 * @t: a target whose devices and max_io_len are set
 * @error: receives dm's error message on failure
 *
 * Called with zuma_volumes_mutex held.  The first target fixes the chunk
 * size and the two devices; every later one must name the same.
 */
int zuma_volume_attach_target(struct zuma_volume *vol, struct zuma_target *t, char **error)
{
	unsigned int chunk_shift = ilog2(t->ti->max_io_len);
	dev_t origin_dev = t->origin->bdev->bd_dev;
	dev_t store_dev = t->store->bdev->bd_dev;
	unsigned long *copied = NULL;
	unsigned long flags;

	lockdep_assert_held(&zuma_volumes_mutex);
	if (vol->nr_targets) {
		if (vol->chunk_shift != chunk_shift || vol->origin_dev != origin_dev ||
		    vol->store_dev != store_dev) {
			*error = "the tag's other targets name other devices or another chunk size";
			return -EINVAL;
		}
	} else {
		sector_t origin_sectors = bdev_nr_sectors(t->origin->bdev);
		u64 nr_chunks = DIV_ROUND_UP_ULL(origin_sectors, 1ULL << chunk_shift);

		copied = kvcalloc(BITS_TO_LONGS(nr_chunks), sizeof(long), GFP_KERNEL);
		if (!copied) {
			*error = "cannot allocate the copied-out bitmap";
			return -ENOMEM;
		}
		kvfree(vol->copied);
		vol->copied = copied;
		vol->nr_chunks = nr_chunks;
		vol->chunk_shift = chunk_shift;
		vol->origin_sectors = origin_sectors;
		vol->store_sectors = bdev_nr_sectors(t->store->bdev);
		vol->origin_dev = origin_dev;
		vol->store_dev = store_dev;
	}
	if (t->ti->len > vol->origin_sectors) {
		*error = "the target is longer than the origin device";
		return -EINVAL;
	}
	spin_lock_irqsave(&vol->lock, flags);
	list_add_tail(&t->node, &vol->targets);
	vol->nr_targets++;
	spin_unlock_irqrestore(&vol->lock, flags);
	return 0;
}

/* Called with zuma_volumes_mutex held, the target's I/O ended (dm's dtr). */
void zuma_volume_detach_target(struct zuma_volume *vol, struct zuma_target *t)
{
	unsigned long flags;

	lockdep_assert_held(&zuma_volumes_mutex);
	spin_lock_irqsave(&vol->lock, flags);
	list_del(&t->node);
	vol->nr_targets--;
	spin_unlock_irqrestore(&vol->lock, flags);
	xa_destroy(&t->maps);
	xa_destroy(&t->pending);
}

static void zuma_inflight_dec(struct zuma_volume *vol)
{
	if (atomic_dec_and_test(&vol->inflight) && READ_ONCE(vol->barrier))
		wake_up(&vol->drain_wq);
}

static unsigned int zuma_bucket(u64 chunk)
{
	return hash_64(chunk, ilog2(ZUMA_READER_BUCKETS));
}

void zuma_kick_timeout(struct zuma_volume *vol)
{
	unsigned long delay = min_t(unsigned long, HZ, zuma_timeout_jiffies() / 4);

	queue_delayed_work(zuma_wq, &vol->timeout_work, max(delay, 1UL));
}

void zuma_request_free(struct zuma_request *req)
{
	mempool_free(req, zuma_request_pool);
}

/* A snapshot target's reads and writes of one chunk wait on separate requests. */
static unsigned long zuma_pending_key(u64 chunk, u16 type)
{
	return (unsigned long)chunk << 1 | (type == ZUMA_MSG_QUERY_SNAPSHOT_WRITE);
}

/* Takes @req off every index of @vol; called with vol->lock held. */
void zuma_request_remove(struct zuma_volume *vol, struct zuma_request *req)
{
	list_del(&req->node);
	list_del_init(&req->unsent);
	xa_erase(&vol->ids, req->id);
	if (req->type == ZUMA_MSG_QUERY_WRITE)
		xa_cmpxchg(&vol->pending_writes, req->chunk, req, NULL, GFP_ATOMIC);
	else
		xa_cmpxchg(&req->target->pending, zuma_pending_key(req->chunk, req->type), req,
			   NULL, GFP_ATOMIC);
	vol->nr_requests--;
	vol->held_bios -= bio_list_size(&req->bios);
}

/*
 * Holds @bio on a request for @chunk: the one already waiting, or a new one
 * made of *@fresh.  Called with vol->lock held; returns 0, -EAGAIN if a new
 * request is needed and *@fresh is NULL, or -ENOMEM.
 */
static int zuma_hold(struct zuma_target *t, struct bio *bio, u64 chunk, u16 type,
		     struct zuma_request **fresh)
{
	struct zuma_volume *vol = t->vol;
	bool origin = type == ZUMA_MSG_QUERY_WRITE;
	struct xarray *index = origin ? &vol->pending_writes : &t->pending;
	unsigned long key = origin ? chunk : zuma_pending_key(chunk, type);
	struct zuma_request *req = xa_load(index, key);

	if (!req) {
		req = *fresh;
		if (!req)
			return -EAGAIN;
		req->id = vol->next_id;
		if (xa_insert(&vol->ids, req->id, req, GFP_ATOMIC))
			return -ENOMEM;
		if (xa_insert(index, key, req, GFP_ATOMIC)) {
			xa_erase(&vol->ids, req->id);
			return -ENOMEM;
		}
		*fresh = NULL;
		vol->next_id++;
		req->type = type;
		req->sent = false;
		req->epoch = vol->epoch;
		req->target = t;
		req->chunk = chunk;
		req->count = 1;
		req->snapshot = t->mode == ZUMA_MODE_SNAPSHOT ? t->snapshot : 0;
		req->deadline = jiffies + zuma_timeout_jiffies();
		bio_list_init(&req->bios);
		list_add_tail(&req->node, &vol->requests);
		list_add_tail(&req->unsent, &vol->unsent);
		vol->nr_requests++;
		if (vol->session)
			wake_up_interruptible(&vol->server_wq);
	}
	bio_list_add(&req->bios, bio);
	vol->held_bios++;
	return 0;
}

/* The decision for a bio that needs vol->lock; see zuma_route(). */
static int zuma_route_locked(struct zuma_target *t, struct bio *bio, u64 chunk, bool write,
			     unsigned long *ret_map)
{
	struct zuma_volume *vol = t->vol;
	struct zuma_bio *zb = zuma_bio_data(bio);
	struct zuma_request *fresh = NULL;
	unsigned int b = zuma_bucket(chunk);
	unsigned long flags;
	int ret, err;
	bool origin = t->mode == ZUMA_MODE_ORIGIN;
	u16 type = origin  ? ZUMA_MSG_QUERY_WRITE
		   : write ? ZUMA_MSG_QUERY_SNAPSHOT_WRITE
			   : ZUMA_MSG_QUERY_SNAPSHOT_READ;
	void *entry;

again:
	ret = DM_MAPIO_SUBMITTED;
	spin_lock_irqsave(&vol->lock, flags);
	if (vol->barrier) {
		bio_list_add(&vol->deferred, bio);
		vol->held_bios++;
		goto out;
	}
	if (origin) {
		if (test_bit(chunk, vol->copied)) {
			if (!atomic_read(&vol->readers[b])) {
				ret = DM_MAPIO_REMAPPED;
				goto out;
			}
			bio_list_add(&vol->parked, bio);
			vol->held_bios++;
			goto out;
		}
	} else if (write) {
		entry = xa_load(&t->maps, chunk);
		if (entry && zuma_map_private(xa_to_value(entry))) {
			*ret_map = xa_to_value(entry);
			ret = DM_MAPIO_REMAPPED;
			goto out;
		}
	} else {
		entry = xa_load(&t->maps, chunk);
		if (entry && xa_to_value(entry) == 0) {
			atomic_inc(&vol->readers[b]);
			atomic_inc(&vol->readers_total);
			zb->reader = 1;
			zb->bucket = b;
			ret = DM_MAPIO_REMAPPED;
			goto out;
		}
		if (entry) {
			*ret_map = xa_to_value(entry);
			ret = DM_MAPIO_REMAPPED;
			goto out;
		}
	}
	err = zuma_hold(t, bio, chunk, type, &fresh);
	if (err == -EAGAIN) {
		/* Sleep for memory without the lock, then decide again. */
		spin_unlock_irqrestore(&vol->lock, flags);
		fresh = mempool_alloc(zuma_request_pool, GFP_NOIO);
		goto again;
	}
	if (err)
		ret = DM_MAPIO_KILL;
out:
	if (ret != DM_MAPIO_REMAPPED) {
		zb->counted = 0;
		zuma_inflight_dec(vol);
	}
	spin_unlock_irqrestore(&vol->lock, flags);
	if (fresh)
		mempool_free(fresh, zuma_request_pool);
	if (ret == DM_MAPIO_SUBMITTED)
		zuma_kick_timeout(vol);
	return ret;
}

/* Points @bio at the origin, or at the store when @map (a cached map value,
 * zuma_map_value()) says so. */
static int zuma_remap(struct zuma_target *t, struct bio *bio, sector_t offset, unsigned long map)
{
	struct zuma_volume *vol = t->vol;

	if (map && bio_sectors(bio)) {
		sector_t in_chunk = offset & ((1ULL << vol->chunk_shift) - 1);

		bio_set_dev(bio, t->store->bdev);
		bio->bi_iter.bi_sector = zuma_map_sector(map) + in_chunk;
		return DM_MAPIO_REMAPPED;
	}
	bio_set_dev(bio, t->origin->bdev);
	bio->bi_iter.bi_sector = offset;
	return DM_MAPIO_REMAPPED;
}

/**
 * zuma_route - decide what happens to a bio of @t
 * @t: the target
 * @bio: a bio inside one chunk (dm splits at max_io_len) or an empty flush
 *
 * Returns DM_MAPIO_REMAPPED (remapped to a device and counted in
 * vol->inflight: the caller returns it to dm or submits it),
 * DM_MAPIO_SUBMITTED (held: on a request, a barrier or a busy reader
 * bucket; released later through zuma_resubmit()) or DM_MAPIO_KILL.
 * May sleep (GFP_NOIO); called without locks.
 */
int zuma_route(struct zuma_target *t, struct bio *bio)
{
	struct zuma_volume *vol = t->vol;
	struct zuma_bio *zb = zuma_bio_data(bio);
	sector_t offset = dm_target_offset(t->ti, bio->bi_iter.bi_sector);
	u64 chunk = offset >> vol->chunk_shift;
	bool write = op_is_write(bio_op(bio));
	unsigned long map = 0;
	void *entry;
	int ret;

	zb->t = t;
	zb->reader = 0;
	/* Count first, then look at the barrier: a barrier that is set after
	 * this check waits for the count to drop (zuma_drain_fn()). */
	atomic_inc(&vol->inflight);
	zb->counted = 1;
	smp_mb__after_atomic();
	if (unlikely(READ_ONCE(vol->barrier)))
		goto slow;

	/* An empty flush; a writable snapshot's second one goes to the store. */
	if (!bio_sectors(bio)) {
		if (dm_bio_get_target_bio_nr(bio) == 1) {
			bio_set_dev(bio, t->store->bdev);
			return DM_MAPIO_REMAPPED;
		}
		return zuma_remap(t, bio, offset, 0);
	}
	if (t->mode == ZUMA_MODE_ORIGIN) {
		if (!write)
			return zuma_remap(t, bio, offset, 0);
		if (test_bit(chunk, vol->copied)) {
			smp_rmb(); /* pairs with the barrier before set_bit() */
			if (!atomic_read(&vol->readers_total))
				return zuma_remap(t, bio, offset, 0);
		}
	} else {
		if (write && !t->writable) {
			zb->counted = 0;
			zuma_inflight_dec(vol);
			return DM_MAPIO_KILL; /* a read-only table: cannot happen */
		}
		entry = xa_load(&t->maps, chunk);
		map = entry ? xa_to_value(entry) : 0;
		/* Reads: any store copy; writes: only the snapshot's own. */
		if (write ? zuma_map_private(map) : map != 0)
			return zuma_remap(t, bio, offset, map);
		map = 0;
	}
slow:
	ret = zuma_route_locked(t, bio, chunk, write, &map);
	if (ret == DM_MAPIO_REMAPPED)
		return zuma_remap(t, bio, offset, map);
	return ret;
}

/* dm's end_io for every bio of a target: undo what zuma_route() counted. */
void zuma_bio_end(struct zuma_target *t, struct bio *bio)
{
	struct zuma_volume *vol = t->vol;
	struct zuma_bio *zb = zuma_bio_data(bio);
	unsigned long flags;

	if (zb->reader) {
		zb->reader = 0;
		spin_lock_irqsave(&vol->lock, flags);
		atomic_dec(&vol->readers_total);
		if (atomic_dec_and_test(&vol->readers[zb->bucket]) && !bio_list_empty(&vol->parked))
			queue_work(zuma_wq, &vol->release_work);
		spin_unlock_irqrestore(&vol->lock, flags);
	}
	if (zb->counted) {
		zb->counted = 0;
		zuma_inflight_dec(vol);
	}
}

/* Routes held bios again; process context, no locks held. */
void zuma_resubmit(struct zuma_volume *vol, struct bio_list *bios)
{
	struct bio *bio;

	while ((bio = bio_list_pop(bios))) {
		struct zuma_bio *zb = zuma_bio_data(bio);

		switch (zuma_route(zb->t, bio)) {
		case DM_MAPIO_REMAPPED:
			dm_submit_bio_remap(bio, NULL);
			break;
		case DM_MAPIO_KILL:
			bio_io_error(bio);
			break;
		default:
			break;
		}
	}
}

void zuma_fail_bios(struct bio_list *bios, blk_status_t status)
{
	struct bio *bio;

	while ((bio = bio_list_pop(bios))) {
		bio->bi_status = status;
		bio_endio(bio);
	}
}

/* Erases the "origin" read maps of chunks that were just copied out;
 * vol->lock held. */
void zuma_invalidate_origin_maps(struct zuma_volume *vol, u64 chunk, u32 count)
{
	struct zuma_target *t;
	u64 c;

	list_for_each_entry(t, &vol->targets, node) {
		if (t->mode != ZUMA_MODE_SNAPSHOT)
			continue;
		for (c = chunk; c < chunk + count; c++) {
			void *entry = xa_load(&t->maps, c);

			if (entry && xa_to_value(entry) == 0) {
				xa_erase(&t->maps, c);
				atomic_dec(&t->map_count);
			}
		}
	}
}

/* Drops the read maps of one snapshot (or all); vol->lock held. */
void zuma_invalidate_all_maps(struct zuma_volume *vol, bool all_snapshots, u32 snapshot)
{
	struct zuma_target *t;

	list_for_each_entry(t, &vol->targets, node) {
		if (t->mode != ZUMA_MODE_SNAPSHOT || (!all_snapshots && t->snapshot != snapshot))
			continue;
		xa_destroy(&t->maps);
		atomic_set(&t->map_count, 0);
	}
}

/**
 * zuma_barrier_end_locked - end the barrier, invalidating by @kind
 * @vol: the volume
 * @kind: enum zuma_barrier_kind
 * @snapshot: the snapshot a ZUMA_BARRIER_SNAPSHOT_DELETE deletes
 * @release: receives the deferred bios, to route again without the lock
 *
 * vol->lock held.  An aborted barrier (session gone, timeout) passes
 * ZUMA_BARRIER_REVERT: forgetting everything is always safe.
 */
void zuma_barrier_end_locked(struct zuma_volume *vol, u32 kind, u32 snapshot,
			     struct bio_list *release)
{
	if (kind != ZUMA_BARRIER_SNAPSHOT_DELETE && vol->copied)
		bitmap_zero(vol->copied, vol->nr_chunks);
	if (kind != ZUMA_BARRIER_SNAPSHOT_CREATE)
		zuma_invalidate_all_maps(vol, kind == ZUMA_BARRIER_REVERT, snapshot);
	vol->epoch++;
	WRITE_ONCE(vol->barrier, 0);
	vol->held_bios -= bio_list_size(&vol->deferred);
	bio_list_merge(release, &vol->deferred);
	bio_list_init(&vol->deferred);
}

/* The session went away; vol->lock held.  Requests stay, to be re-sent to
 * the next session; messages for this one are dropped. */
void zuma_session_detached_locked(struct zuma_volume *vol, struct bio_list *release)
{
	struct zuma_outmsg *msg, *next;
	struct zuma_request *req;

	vol->session = NULL;
	list_for_each_entry_safe(msg, next, &vol->outbox, node) {
		list_del(&msg->node);
		kfree(msg);
	}
	list_for_each_entry(req, &vol->requests, node) {
		req->sent = false;
		list_del(&req->unsent);
		list_add_tail(&req->unsent, &vol->unsent);
	}
	if (vol->barrier) {
		DMWARN("%s: server went away during a barrier; caches dropped", vol->tag);
		zuma_barrier_end_locked(vol, ZUMA_BARRIER_REVERT, 0, release);
	}
}

static void zuma_timeout_fn(struct work_struct *work)
{
	struct zuma_volume *vol =
		container_of(to_delayed_work(work), struct zuma_volume, timeout_work);
	struct zuma_request *req, *next;
	struct bio_list failed, release;
	unsigned long flags;
	bool again;

	bio_list_init(&failed);
	bio_list_init(&release);
	spin_lock_irqsave(&vol->lock, flags);
	list_for_each_entry_safe(req, next, &vol->requests, node) {
		if (time_before(jiffies, req->deadline))
			break;
		zuma_request_remove(vol, req);
		bio_list_merge(&failed, &req->bios);
		vol->timed_out++;
		DMWARN_LIMIT("%s: request %llu (chunk %llu) timed out: no server answer", vol->tag,
			     req->id, req->chunk);
		zuma_request_free(req);
	}
	if (vol->barrier && time_after_eq(jiffies, vol->barrier_deadline)) {
		DMWARN("%s: barrier %llu not ended in time; caches dropped", vol->tag,
		       vol->barrier_id);
		zuma_barrier_end_locked(vol, ZUMA_BARRIER_REVERT, 0, &release);
	}
	again = vol->nr_requests || vol->barrier;
	spin_unlock_irqrestore(&vol->lock, flags);
	zuma_fail_bios(&failed, BLK_STS_IOERR);
	zuma_resubmit(vol, &release);
	if (again)
		zuma_kick_timeout(vol);
}

/* Waits for in-flight bios to end, then answers BARRIER_READY. */
static void zuma_drain_fn(struct work_struct *work)
{
	struct zuma_volume *vol = container_of(work, struct zuma_volume, drain_work);
	struct zuma_outmsg *msg;
	struct zuma_msg_barrier *ready;
	unsigned long flags;
	long left;
	u32 status = 0;
	u64 barrier_id;

	spin_lock_irqsave(&vol->lock, flags);
	barrier_id = vol->barrier_id;
	spin_unlock_irqrestore(&vol->lock, flags);
	left = wait_event_timeout(vol->drain_wq, atomic_read(&vol->inflight) == 0,
				  zuma_timeout_jiffies());
	if (!left)
		status = ETIMEDOUT;
	msg = kzalloc(sizeof(*msg) + sizeof(*ready), GFP_KERNEL);
	spin_lock_irqsave(&vol->lock, flags);
	if (vol->barrier && vol->barrier_id == barrier_id && !vol->barrier_ready_sent) {
		vol->barrier_ready_sent = true;
		if (msg && vol->session) {
			ready = (struct zuma_msg_barrier *)msg->data;
			msg->size = sizeof(*ready);
			ready->hdr.magic = cpu_to_le32(ZUMA_MSG_MAGIC);
			ready->hdr.version = cpu_to_le16(ZUMA_PROTO_VERSION);
			ready->hdr.type = cpu_to_le16(ZUMA_MSG_BARRIER_READY);
			ready->hdr.length = cpu_to_le32(sizeof(*ready));
			ready->hdr.id = cpu_to_le64(vol->barrier_id);
			ready->kind = cpu_to_le32(status);
			ready->snapshot = cpu_to_le32(vol->barrier_snapshot);
			list_add_tail(&msg->node, &vol->outbox);
			msg = NULL;
			wake_up_interruptible(&vol->server_wq);
		}
	}
	spin_unlock_irqrestore(&vol->lock, flags);
	kfree(msg);
}

/* Routes the parked origin writes again once a reader bucket emptied. */
static void zuma_release_fn(struct work_struct *work)
{
	struct zuma_volume *vol = container_of(work, struct zuma_volume, release_work);
	struct bio_list release;
	unsigned long flags;

	spin_lock_irqsave(&vol->lock, flags);
	release = vol->parked;
	vol->held_bios -= bio_list_size(&vol->parked);
	bio_list_init(&vol->parked);
	spin_unlock_irqrestore(&vol->lock, flags);
	zuma_resubmit(vol, &release);
}

int zuma_init_volumes(void)
{
	zuma_request_pool = mempool_create_kmalloc_pool(64, sizeof(struct zuma_request));
	return zuma_request_pool ? 0 : -ENOMEM;
}

void zuma_exit_volumes(void)
{
	WARN_ON(!list_empty(&zuma_volumes));
	mempool_destroy(zuma_request_pool);
}
