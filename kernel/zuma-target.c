// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `zumastor` device-mapper target: the table line, map, end_io and
 * status.  What happens to a bio is decided in zuma-volume.c.
 *
 * Table lines (lengths and chunk sizes in 512-byte sectors):
 *
 *   <start> <len> zumastor origin <origin_dev> <store_dev> <chunk_sectors> <tag>
 *   <start> <len> zumastor snapshot <origin_dev> <store_dev> <chunk_sectors> <tag> <snapshot_id>
 *
 * chunk_sectors is a power of two from 8 (4 KiB) to 2048 (1 MiB); <tag>
 * names the volume (and so the server session) the target belongs to.
 * Every target of one tag names the same devices and chunk size.  A
 * snapshot table loaded read-write is a writable snapshot: each chunk it
 * first writes gets a private copy in the store (QUERY_SNAPSHOT_WRITE);
 * load it --readonly for a read-only one.
 */
#include <linux/module.h>

#include "zumastor.h"

static int zuma_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct zuma_target *t;
	struct zuma_volume *vol;
	unsigned int chunk_sectors;
	fmode_t mode = FMODE_READ;
	int err;

	if (argc < 5) {
		ti->error =
			"expected: origin|snapshot <origin_dev> <store_dev> <chunk_sectors> <tag> [<snapshot_id>]";
		return -EINVAL;
	}
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t) {
		ti->error = "out of memory";
		return -ENOMEM;
	}
	t->ti = ti;
	xa_init(&t->maps);
	xa_init(&t->pending);
	atomic_set(&t->map_count, 0);
	err = -EINVAL;
	if (!strcmp(argv[0], "origin") && argc == 5) {
		t->mode = ZUMA_MODE_ORIGIN;
		mode |= FMODE_WRITE;
	} else if (!strcmp(argv[0], "snapshot") && argc == 6) {
		t->mode = ZUMA_MODE_SNAPSHOT;
		if (kstrtou32(argv[5], 10, &t->snapshot) || t->snapshot == 0) {
			ti->error = "snapshot id must be a number from 1";
			goto free;
		}
		/* A read-write table makes a writable snapshot: its writes go to
		 * private copies in the store (QUERY_SNAPSHOT_WRITE). */
		t->writable = dm_table_get_mode(ti->table) & FMODE_WRITE;
	} else {
		ti->error = "first argument must be origin (5 arguments) or snapshot (6)";
		goto free;
	}
	if (kstrtouint(argv[3], 10, &chunk_sectors) || !is_power_of_2(chunk_sectors) ||
	    chunk_sectors < 8 || chunk_sectors > 2048) {
		ti->error = "chunk_sectors must be a power of two from 8 to 2048";
		goto free;
	}
	if (!zuma_tag_valid(argv[4], strnlen(argv[4], ZUMA_TAG_MAX) + 1) ||
	    strlen(argv[4]) >= ZUMA_TAG_MAX) {
		ti->error = "tag must be 1..63 bytes of [A-Za-z0-9._+-], not starting with - or .";
		goto free;
	}
	err = dm_get_device(ti, argv[1], mode, &t->origin);
	if (err) {
		ti->error = "cannot open the origin device";
		goto free;
	}
	err = dm_get_device(ti, argv[2], t->writable ? FMODE_READ | FMODE_WRITE : FMODE_READ,
			    &t->store);
	if (err) {
		ti->error = "cannot open the store device";
		goto put_origin;
	}
	err = dm_set_target_max_io_len(ti, chunk_sectors);
	if (err) {
		ti->error = "cannot split I/O at chunk boundaries";
		goto put_store;
	}
	mutex_lock(&zuma_volumes_mutex);
	vol = zuma_volume_get(argv[4]);
	if (!vol) {
		mutex_unlock(&zuma_volumes_mutex);
		ti->error = "out of memory";
		err = -ENOMEM;
		goto put_store;
	}
	t->vol = vol;
	err = zuma_volume_attach_target(vol, t, &ti->error);
	mutex_unlock(&zuma_volumes_mutex);
	if (err) {
		zuma_volume_put(vol);
		goto put_store;
	}
	ti->private = t;
	/* A writable snapshot writes to the store too: flush both devices. */
	ti->num_flush_bios = t->writable ? 2 : 1;
	ti->per_io_data_size = sizeof(struct zuma_bio);
	ti->accounts_remapped_io = true;
	return 0;
put_store:
	dm_put_device(ti, t->store);
put_origin:
	dm_put_device(ti, t->origin);
free:
	kfree(t);
	return err;
}

static void zuma_dtr(struct dm_target *ti)
{
	struct zuma_target *t = ti->private;
	struct zuma_volume *vol = t->vol;

	mutex_lock(&zuma_volumes_mutex);
	zuma_volume_detach_target(vol, t);
	mutex_unlock(&zuma_volumes_mutex);
	zuma_volume_put(vol);
	dm_put_device(ti, t->store);
	dm_put_device(ti, t->origin);
	kfree(t);
}

static int zuma_map(struct dm_target *ti, struct bio *bio)
{
	return zuma_route(ti->private, bio);
}

static int zuma_end_io(struct dm_target *ti, struct bio *bio, blk_status_t *error)
{
	zuma_bio_end(ti->private, bio);
	return DM_ENDIO_DONE;
}

static void zuma_status(struct dm_target *ti, status_type_t type, unsigned int status_flags,
			char *result, unsigned int maxlen)
{
	struct zuma_target *t = ti->private;
	struct zuma_volume *vol = t->vol;
	const char *mode = t->mode == ZUMA_MODE_ORIGIN ? "origin" : "snapshot";
	unsigned long flags;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		spin_lock_irqsave(&vol->lock, flags);
		/* session pending held_bios cached_maps timed_out refused epoch */
		DMEMIT("%s %u %u %d %llu %llu %llu", vol->session ? "connected" : "disconnected",
		       vol->nr_requests, vol->held_bios, atomic_read(&t->map_count), vol->timed_out,
		       vol->refused, vol->epoch);
		spin_unlock_irqrestore(&vol->lock, flags);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s %s %u %s", mode, t->origin->name, t->store->name,
		       1U << vol->chunk_shift, vol->tag);
		if (t->mode == ZUMA_MODE_SNAPSHOT)
			DMEMIT(" %u", t->snapshot);
		break;
	case STATUSTYPE_IMA:
		*result = '\0';
		break;
	}
}

static int zuma_iterate_devices(struct dm_target *ti, iterate_devices_callout_fn fn, void *data)
{
	struct zuma_target *t = ti->private;
	int ret = fn(ti, t->origin, 0, ti->len, data);

	/* The store is mapped in pieces anywhere in it, not as the target's
	 * range: report it whole (a store smaller than the image is normal). */
	if (!ret && t->mode == ZUMA_MODE_SNAPSHOT)
		ret = fn(ti, t->store, 0, bdev_nr_sectors(t->store->bdev), data);
	return ret;
}

static struct target_type zuma_target_type = {
	.name = "zumastor",
	.version = { 0, 1, 0 },
	.module = THIS_MODULE,
	.ctr = zuma_ctr,
	.dtr = zuma_dtr,
	.map = zuma_map,
	.end_io = zuma_end_io,
	.status = zuma_status,
	.iterate_devices = zuma_iterate_devices,
};

int zuma_target_init(void)
{
	return dm_register_target(&zuma_target_type);
}

void zuma_target_exit(void)
{
	dm_unregister_target(&zuma_target_type);
}
