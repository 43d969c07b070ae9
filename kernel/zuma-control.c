// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/zumastor-control: the server's side of the protocol
 * (include/uapi/dm-zumastor.h, docs/kernel-protocol.md).
 *
 * Why a misc device and not generic netlink: the open file *is* the
 * session.  When the server exits or crashes the file is closed and the
 * kernel knows at once (release()), with no port-id bookkeeping; poll()
 * makes the file an ordinary source in a GLib main loop; no family
 * registration and no attribute policy are needed for a dozen fixed-size
 * messages.  Permission is the device node's (root only, 0600).
 *
 * Each write() is one whole message and is checked completely before
 * anything changes: header (magic, version, flags, length equal to the
 * write's size and to the type's size), type, padding, then against the
 * request it answers (known id, sent to this session, matching type,
 * exactly the request's chunk range and snapshot, store sectors inside
 * the store).  A bad message is refused (-EINVAL, or -ENOENT for an id the
 * kernel no longer waits for), counted and logged ratelimited; it never
 * changes state.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "zumastor.h"

struct zuma_session {
	struct mutex lock;	 /* serialises write()s of this file */
	struct zuma_volume *vol; /* after HELLO */
};

static int zuma_refuse(struct zuma_session *s, int err, const char *why, u64 id)
{
	struct zuma_volume *vol = s->vol;
	unsigned long flags;

	if (vol) {
		spin_lock_irqsave(&vol->lock, flags);
		vol->refused++;
		spin_unlock_irqrestore(&vol->lock, flags);
	}
	DMWARN_LIMIT("%s: refused a server message (id %llu): %s", vol ? vol->tag : "(no session)",
		     id, why);
	return err;
}

static void zuma_fill_header(struct zuma_msg_header *hdr, u16 type, size_t size, u64 id)
{
	hdr->magic = cpu_to_le32(ZUMA_MSG_MAGIC);
	hdr->version = cpu_to_le16(ZUMA_PROTO_VERSION);
	hdr->type = cpu_to_le16(type);
	hdr->length = cpu_to_le32(size);
	hdr->flags = 0;
	hdr->id = cpu_to_le64(id);
}

static struct zuma_outmsg *zuma_outmsg_new(size_t size)
{
	struct zuma_outmsg *msg = kzalloc(sizeof(*msg) + size, GFP_KERNEL);

	if (msg)
		msg->size = size;
	return msg;
}

static int zuma_control_open(struct inode *inode, struct file *file)
{
	struct zuma_session *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	mutex_init(&s->lock);
	file->private_data = s;
	return stream_open(inode, file);
}

static int zuma_control_release(struct inode *inode, struct file *file)
{
	struct zuma_session *s = file->private_data;
	struct zuma_volume *vol = s->vol;
	struct bio_list release;
	unsigned long flags;

	if (vol) {
		bio_list_init(&release);
		mutex_lock(&zuma_volumes_mutex);
		spin_lock_irqsave(&vol->lock, flags);
		zuma_session_detached_locked(vol, &release);
		spin_unlock_irqrestore(&vol->lock, flags);
		mutex_unlock(&zuma_volumes_mutex);
		zuma_resubmit(vol, &release);
		DMINFO("%s: server session closed", vol->tag);
		zuma_volume_put(vol);
	}
	kfree(s);
	return 0;
}

static bool zuma_has_message(struct zuma_volume *vol)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&vol->lock, flags);
	ret = !list_empty(&vol->outbox) || !list_empty(&vol->unsent);
	spin_unlock_irqrestore(&vol->lock, flags);
	return ret;
}

/*
 * Takes the next message for the server into @buf (ZUMA_MSG_MAX bytes):
 * answers first, then requests in the order they were made.  Returns its
 * size, 0 if there is none, or -EINVAL if it does not fit @room.
 */
static ssize_t zuma_next_message(struct zuma_volume *vol, u8 *buf, size_t room, u64 *ret_req)
{
	struct zuma_outmsg *msg;
	struct zuma_request *req;
	struct zuma_msg_chunks *q;
	unsigned long flags;
	ssize_t size = 0;

	*ret_req = 0;
	spin_lock_irqsave(&vol->lock, flags);
	msg = list_first_entry_or_null(&vol->outbox, struct zuma_outmsg, node);
	if (msg) {
		size = msg->size <= room ? (ssize_t)msg->size : -EINVAL;
		if (size > 0) {
			memcpy(buf, msg->data, msg->size);
			list_del(&msg->node);
			kfree(msg);
		}
		goto out;
	}
	req = list_first_entry_or_null(&vol->unsent, struct zuma_request, unsent);
	if (req) {
		size = sizeof(*q) <= room ? (ssize_t)sizeof(*q) : -EINVAL;
		if (size > 0) {
			q = (struct zuma_msg_chunks *)buf;
			memset(q, 0, sizeof(*q));
			zuma_fill_header(&q->hdr, req->type, sizeof(*q), req->id);
			q->chunk = cpu_to_le64(req->chunk);
			q->count = cpu_to_le32(req->count);
			q->snapshot = cpu_to_le32(req->snapshot);
			list_del_init(&req->unsent);
			req->sent = true;
			*ret_req = req->id;
		}
	}
out:
	spin_unlock_irqrestore(&vol->lock, flags);
	return size;
}

static ssize_t zuma_control_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	struct zuma_session *s = file->private_data;
	struct zuma_volume *vol = READ_ONCE(s->vol);
	struct zuma_request *req;
	unsigned long flags;
	u8 buf[sizeof(struct zuma_msg_status_reply)];
	ssize_t size;
	u64 req_id;

	static_assert(sizeof(struct zuma_msg_status_reply) >= sizeof(struct zuma_msg_hello_reply));
	if (!vol)
		return -ENOTCONN;
	for (;;) {
		size = zuma_next_message(vol, buf, min(count, sizeof(buf)), &req_id);
		if (size)
			break;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(vol->server_wq, zuma_has_message(vol)))
			return -ERESTARTSYS;
	}
	if (size < 0)
		return size;
	if (copy_to_user(ubuf, buf, size)) {
		/* A request the server did not get is sent again. */
		spin_lock_irqsave(&vol->lock, flags);
		req = req_id ? xa_load(&vol->ids, req_id) : NULL;
		if (req && req->sent) {
			req->sent = false;
			list_add(&req->unsent, &vol->unsent);
		}
		spin_unlock_irqrestore(&vol->lock, flags);
		return -EFAULT;
	}
	return size;
}

static __poll_t zuma_control_poll(struct file *file, poll_table *wait)
{
	struct zuma_session *s = file->private_data;
	struct zuma_volume *vol = READ_ONCE(s->vol);
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	if (!vol)
		return mask;
	poll_wait(file, &vol->server_wq, wait);
	if (zuma_has_message(vol))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static int zuma_handle_hello(struct zuma_session *s, const struct zuma_msg_hello *m, size_t size)
{
	struct zuma_msg_hello_reply *r;
	struct zuma_outmsg *msg;
	struct zuma_volume *vol;
	struct zuma_request *req;
	unsigned long flags;
	int err = 0;

	if (s->vol)
		return zuma_refuse(s, -EISCONN, "HELLO on a session that has one", 0);
	if (size != sizeof(*m) || m->pad)
		return zuma_refuse(s, -EINVAL, "HELLO of the wrong size or with padding set", 0);
	if (!zuma_tag_valid(m->tag, sizeof(m->tag)))
		return zuma_refuse(s, -EINVAL, "HELLO with an invalid tag", 0);
	msg = zuma_outmsg_new(sizeof(*r));
	if (!msg)
		return -ENOMEM;
	mutex_lock(&zuma_volumes_mutex);
	vol = zuma_volume_get(m->tag);
	if (!vol) {
		err = -ENOMEM;
		goto unlock;
	}
	spin_lock_irqsave(&vol->lock, flags);
	if (vol->session) {
		spin_unlock_irqrestore(&vol->lock, flags);
		err = -EBUSY;
		goto unlock;
	}
	vol->session = s;
	r = (struct zuma_msg_hello_reply *)msg->data;
	zuma_fill_header(&r->hdr, ZUMA_MSG_HELLO_REPLY, sizeof(*r), le64_to_cpu(m->hdr.id));
	r->version = cpu_to_le32(ZUMA_PROTO_VERSION);
	r->features = cpu_to_le32(le32_to_cpu(m->features) & ZUMA_FEATURE_SNAPSHOT_WRITE);
	r->chunk_sectors = cpu_to_le32(vol->nr_targets ? 1U << vol->chunk_shift : 0);
	r->targets = cpu_to_le32(vol->nr_targets);
	r->origin_sectors = cpu_to_le64(vol->nr_targets ? vol->origin_sectors : 0);
	r->store_sectors = cpu_to_le64(vol->nr_targets ? vol->store_sectors : 0);
	r->pending = cpu_to_le32(vol->nr_requests);
	list_add_tail(&msg->node, &vol->outbox);
	msg = NULL;
	/* Every waiting request goes to the new server, oldest first. */
	INIT_LIST_HEAD(&vol->unsent);
	list_for_each_entry(req, &vol->requests, node) {
		req->sent = false;
		list_add_tail(&req->unsent, &vol->unsent);
	}
	wake_up_interruptible(&vol->server_wq);
	spin_unlock_irqrestore(&vol->lock, flags);
	WRITE_ONCE(s->vol, vol);
	vol = NULL;
unlock:
	mutex_unlock(&zuma_volumes_mutex);
	if (vol)
		zuma_volume_put(vol);
	kfree(msg);
	if (!err)
		DMINFO("%s: server session opened", s->vol->tag);
	return err;
}

/*
 * Looks up the request a reply answers and checks it matches; vol->lock
 * held.  Returns the request or NULL with *why set.
 */
static struct zuma_request *zuma_answered(struct zuma_volume *vol, u64 id, u16 type, u64 chunk,
					  u32 count, u32 snapshot, const char **why)
{
	struct zuma_request *req = xa_load(&vol->ids, id);

	if (!req || !req->sent) {
		*why = "no request with this id waits for an answer";
		return NULL;
	}
	if (type && req->type != type) {
		*why = "the reply's type does not answer the request's";
		return NULL;
	}
	if (type && (req->chunk != chunk || req->count != count || req->snapshot != snapshot)) {
		*why = "the reply's chunks or snapshot are not the request's";
		return NULL;
	}
	return req;
}

static int zuma_handle_write_ok(struct zuma_session *s, const struct zuma_msg_chunks *m,
				size_t size)
{
	struct zuma_volume *vol = s->vol;
	u64 id = le64_to_cpu(m->hdr.id);
	u64 chunk = le64_to_cpu(m->chunk);
	u32 count = le32_to_cpu(m->count);
	struct zuma_request *req;
	struct bio_list release;
	const char *why = NULL;
	unsigned long flags;
	u64 c;

	if (size != sizeof(*m) || m->snapshot)
		return zuma_refuse(s, -EINVAL, "WRITE_OK of the wrong size or with a snapshot", id);
	spin_lock_irqsave(&vol->lock, flags);
	req = zuma_answered(vol, id, ZUMA_MSG_QUERY_WRITE, chunk, count, 0, &why);
	if (!req) {
		spin_unlock_irqrestore(&vol->lock, flags);
		return zuma_refuse(s, xa_load(&vol->ids, id) ? -EINVAL : -ENOENT, why, id);
	}
	zuma_request_remove(vol, req);
	if (req->epoch == vol->epoch && !vol->barrier) {
		zuma_invalidate_origin_maps(vol, chunk, count);
		smp_mb__before_atomic(); /* erased maps before the bits: zuma_route() */
		for (c = chunk; c < chunk + count; c++)
			set_bit(c, vol->copied);
	}
	release = req->bios;
	spin_unlock_irqrestore(&vol->lock, flags);
	zuma_request_free(req);
	zuma_resubmit(vol, &release);
	return 0;
}

/* Caches the entries of a READ_MAP or WRITE_MAP for @t; vol->lock held. */
static blk_status_t zuma_cache_maps(struct zuma_target *t, const struct zuma_msg_read_map *m,
				    bool private)
{
	struct zuma_volume *vol = t->vol;
	u64 chunk = le64_to_cpu(m->chunk);
	u32 count = le32_to_cpu(m->count);
	struct zuma_target *other;
	u32 i;

	if (atomic_read(&t->map_count) + count > zuma_max_cached_maps) {
		xa_destroy(&t->maps);
		atomic_set(&t->map_count, 0);
	}
	for (i = 0; i < count; i++) {
		u64 map = le64_to_cpu(m->map[i]);
		void *entry = xa_load(&t->maps, chunk + i);
		void *old;

		/* A read of a private copy keeps it private. */
		if (!private && entry && zuma_map_private(xa_to_value(entry)) &&
		    zuma_map_sector(xa_to_value(entry)) == map)
			continue;
		old = xa_store(&t->maps, chunk + i, zuma_map_value(map, private), GFP_ATOMIC);
		if (xa_is_err(old))
			return BLK_STS_RESOURCE;
		if (!old)
			atomic_inc(&t->map_count);
		if (!private)
			continue;
		/* Other targets of the same snapshot ask again. */
		list_for_each_entry(other, &vol->targets, node) {
			if (other != t && other->mode == ZUMA_MODE_SNAPSHOT &&
			    other->snapshot == t->snapshot && xa_erase(&other->maps, chunk + i))
				atomic_dec(&other->map_count);
		}
	}
	return BLK_STS_OK;
}

static int zuma_handle_read_map(struct zuma_session *s, const struct zuma_msg_read_map *m,
				size_t size, bool write_map)
{
	struct zuma_volume *vol = s->vol;
	u64 id = le64_to_cpu(m->hdr.id);
	u64 chunk = le64_to_cpu(m->chunk);
	u32 count = le32_to_cpu(m->count);
	u32 snapshot = le32_to_cpu(m->snapshot);
	struct zuma_request *req;
	struct zuma_target *t;
	struct bio_list release;
	const char *why = NULL;
	unsigned long flags;
	blk_status_t status = BLK_STS_OK;
	sector_t chunk_sectors;
	u32 i;

	if (count == 0 || count > ZUMA_MAX_CHUNKS || size != sizeof(*m) + 8 * (size_t)count)
		return zuma_refuse(s, -EINVAL, "READ_MAP of the wrong size for its count", id);
	spin_lock_irqsave(&vol->lock, flags);
	req = zuma_answered(
		vol, id, write_map ? ZUMA_MSG_QUERY_SNAPSHOT_WRITE : ZUMA_MSG_QUERY_SNAPSHOT_READ,
		chunk, count, snapshot, &why);
	if (!req) {
		spin_unlock_irqrestore(&vol->lock, flags);
		return zuma_refuse(s, xa_load(&vol->ids, id) ? -EINVAL : -ENOENT, why, id);
	}
	chunk_sectors = 1ULL << vol->chunk_shift;
	for (i = 0; i < count; i++) {
		u64 map = le64_to_cpu(m->map[i]);

		if (map == ZUMA_MAP_ORIGIN && write_map) {
			why = "WRITE_MAP sends a snapshot write to the origin";
			break;
		}
		if (map == ZUMA_MAP_ORIGIN) {
			/* Copied out since the newest snapshot: no snapshot reads
			 * the origin there any more. */
			if (req->epoch == vol->epoch && test_bit(chunk + i, vol->copied)) {
				why = "READ_MAP sends a read to an origin chunk already copied out";
				break;
			}
			continue;
		}
		if (map & 7 || map >= vol->store_sectors ||
		    vol->store_sectors - map < chunk_sectors) {
			why = "READ_MAP names a store sector outside the store or not 4 KiB aligned";
			break;
		}
	}
	if (why) {
		spin_unlock_irqrestore(&vol->lock, flags);
		return zuma_refuse(s, -EINVAL, why, id);
	}
	zuma_request_remove(vol, req);
	t = req->target;
	if (req->epoch == vol->epoch && !vol->barrier)
		status = zuma_cache_maps(t, m, write_map);
	release = req->bios;
	spin_unlock_irqrestore(&vol->lock, flags);
	zuma_request_free(req);
	if (status != BLK_STS_OK)
		zuma_fail_bios(&release, status);
	else
		zuma_resubmit(vol, &release);
	return 0;
}

static int zuma_handle_error(struct zuma_session *s, const struct zuma_msg_error *m, size_t size)
{
	struct zuma_volume *vol = s->vol;
	u64 id = le64_to_cpu(m->hdr.id);
	u32 error = le32_to_cpu(m->error);
	struct zuma_request *req;
	struct bio_list failed;
	const char *why = NULL;
	unsigned long flags;

	if (size != sizeof(*m) || m->pad || error == 0 || error >= MAX_ERRNO)
		return zuma_refuse(s, -EINVAL, "ERROR of the wrong size or with no errno", id);
	spin_lock_irqsave(&vol->lock, flags);
	req = zuma_answered(vol, id, 0, 0, 0, 0, &why);
	if (!req) {
		spin_unlock_irqrestore(&vol->lock, flags);
		return zuma_refuse(s, -ENOENT, why, id);
	}
	zuma_request_remove(vol, req);
	failed = req->bios;
	spin_unlock_irqrestore(&vol->lock, flags);
	DMWARN_LIMIT("%s: server failed request %llu (chunk %llu) with errno %u", vol->tag, id,
		     req->chunk, error);
	zuma_request_free(req);
	zuma_fail_bios(&failed, errno_to_blk_status(-(int)error));
	return 0;
}

static int zuma_handle_barrier(struct zuma_session *s, const struct zuma_msg_barrier *m,
			       size_t size, bool begin)
{
	struct zuma_volume *vol = s->vol;
	u64 id = le64_to_cpu(m->hdr.id);
	u32 kind = le32_to_cpu(m->kind);
	u32 snapshot = le32_to_cpu(m->snapshot);
	struct bio_list release;
	const char *why = NULL;
	unsigned long flags;

	if (size != sizeof(*m) || kind < ZUMA_BARRIER_SNAPSHOT_CREATE || kind > ZUMA_BARRIER_REVERT)
		return zuma_refuse(s, -EINVAL, "barrier of the wrong size or of an unknown kind",
				   id);
	bio_list_init(&release);
	spin_lock_irqsave(&vol->lock, flags);
	if (begin) {
		if (vol->barrier) {
			why = "BARRIER_BEGIN while another barrier is in progress";
		} else {
			vol->barrier_id = id;
			vol->barrier_snapshot = snapshot;
			vol->barrier_ready_sent = false;
			vol->barrier_deadline = jiffies + 2 * zuma_timeout_jiffies();
			smp_store_mb(vol->barrier, kind); /* before reading inflight */
		}
	} else {
		if (!vol->barrier || vol->barrier_id != id || vol->barrier != kind ||
		    vol->barrier_snapshot != snapshot)
			why = "BARRIER_END does not match the barrier in progress";
		else if (!vol->barrier_ready_sent)
			why = "BARRIER_END before BARRIER_READY";
		else
			zuma_barrier_end_locked(vol, kind, snapshot, &release);
	}
	spin_unlock_irqrestore(&vol->lock, flags);
	if (why)
		return zuma_refuse(s, -EINVAL, why, id);
	if (begin) {
		queue_work(zuma_wq, &vol->drain_work);
		zuma_kick_timeout(vol);
	} else {
		zuma_resubmit(vol, &release);
	}
	return 0;
}

static int zuma_handle_status(struct zuma_session *s, const struct zuma_msg_header *m, size_t size)
{
	struct zuma_volume *vol = s->vol;
	struct zuma_msg_status_reply *r;
	struct zuma_outmsg *msg;
	unsigned long flags;

	if (size != sizeof(*m))
		return zuma_refuse(s, -EINVAL, "STATUS of the wrong size", le64_to_cpu(m->id));
	msg = zuma_outmsg_new(sizeof(*r));
	if (!msg)
		return -ENOMEM;
	r = (struct zuma_msg_status_reply *)msg->data;
	zuma_fill_header(&r->hdr, ZUMA_MSG_STATUS_REPLY, sizeof(*r), le64_to_cpu(m->id));
	spin_lock_irqsave(&vol->lock, flags);
	r->epoch = cpu_to_le64(vol->epoch);
	r->pending = cpu_to_le32(vol->nr_requests);
	r->held_bios = cpu_to_le32(vol->held_bios);
	r->targets = cpu_to_le32(vol->nr_targets);
	r->barrier = cpu_to_le32(vol->barrier);
	r->timed_out = cpu_to_le64(vol->timed_out);
	r->refused = cpu_to_le64(vol->refused);
	list_add_tail(&msg->node, &vol->outbox);
	wake_up_interruptible(&vol->server_wq);
	spin_unlock_irqrestore(&vol->lock, flags);
	return 0;
}

static int zuma_dispatch(struct zuma_session *s, const u8 *buf, size_t size)
{
	const struct zuma_msg_header *hdr = (const void *)buf;
	u16 type = le16_to_cpu(hdr->type);
	u64 id = le64_to_cpu(hdr->id);

	if (le32_to_cpu(hdr->magic) != ZUMA_MSG_MAGIC || le32_to_cpu(hdr->length) != size ||
	    hdr->flags)
		return zuma_refuse(s, -EINVAL, "bad magic, length or flags in the header", id);
	if (le16_to_cpu(hdr->version) != ZUMA_PROTO_VERSION)
		return zuma_refuse(s, type == ZUMA_MSG_HELLO ? -EPROTONOSUPPORT : -EINVAL,
				   "unsupported protocol version", id);
	if (type == ZUMA_MSG_HELLO)
		return zuma_handle_hello(s, (const void *)buf, size);
	if (!s->vol)
		return zuma_refuse(s, -ENOTCONN, "a message before HELLO", id);
	switch (type) {
	case ZUMA_MSG_WRITE_OK:
		return zuma_handle_write_ok(s, (const void *)buf, size);
	case ZUMA_MSG_READ_MAP:
	case ZUMA_MSG_WRITE_MAP:
		return zuma_handle_read_map(s, (const void *)buf, size, type == ZUMA_MSG_WRITE_MAP);
	case ZUMA_MSG_ERROR:
		return zuma_handle_error(s, (const void *)buf, size);
	case ZUMA_MSG_BARRIER_BEGIN:
	case ZUMA_MSG_BARRIER_END:
		return zuma_handle_barrier(s, (const void *)buf, size,
					   type == ZUMA_MSG_BARRIER_BEGIN);
	case ZUMA_MSG_STATUS:
		return zuma_handle_status(s, hdr, size);
	default:
		return zuma_refuse(s, -EINVAL, "unknown message type", id);
	}
}

static ssize_t zuma_control_write(struct file *file, const char __user *ubuf, size_t count,
				  loff_t *ppos)
{
	struct zuma_session *s = file->private_data;
	u8 *buf;
	int err;

	if (count < sizeof(struct zuma_msg_header) || count > ZUMA_MSG_MAX)
		return zuma_refuse(s, -EINVAL, "a write that is not one whole message", 0);
	buf = memdup_user(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	mutex_lock(&s->lock);
	err = zuma_dispatch(s, buf, count);
	mutex_unlock(&s->lock);
	kfree(buf);
	return err ? err : (ssize_t)count;
}

static const struct file_operations zuma_control_fops = {
	.owner = THIS_MODULE,
	.open = zuma_control_open,
	.release = zuma_control_release,
	.read = zuma_control_read,
	.write = zuma_control_write,
	.poll = zuma_control_poll,
	.llseek = no_llseek,
};

static struct miscdevice zuma_control_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = ZUMA_CONTROL_NAME,
	.fops = &zuma_control_fops,
	.mode = 0600,
};

int zuma_control_init(void)
{
	return misc_register(&zuma_control_dev);
}

void zuma_control_exit(void)
{
	misc_deregister(&zuma_control_dev);
}
