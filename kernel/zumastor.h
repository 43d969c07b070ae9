/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-zumastor: internal declarations shared by the module's files.
 *
 * zuma-main.c	   module init/exit and parameters
 * zuma-volume.c   volumes (one per tag): registry, caches, requests,
 *		   timeouts, barriers, the bio routing of both modes
 * zuma-control.c  /dev/zumastor-control: sessions, reading requests,
 *		   validating and applying the server's messages
 * zuma-target.c   the dm target: table line, map, end_io, status
 *
 * Locking (lockdep order, outer first): zuma_volumes_mutex (the registry,
 * sessions attaching and detaching) -> volume->lock (a spinlock taken with
 * irqsave: end_io runs in interrupt context) -> the xarrays' own locks.
 * Nothing sleeps under volume->lock.  The common paths take no lock: an
 * origin write to a chunk already copied out since the newest snapshot
 * tests a bit; a snapshot read with a cached map takes volume->lock once
 * to count itself as a reader of the origin chunk.
 */
#ifndef DM_ZUMASTOR_H
#define DM_ZUMASTOR_H

#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "include/uapi/dm-zumastor.h"

#define DM_MSG_PREFIX "zumastor"

/* Hashed per-chunk counts of snapshot reads in flight on the origin. */
#define ZUMA_READER_BUCKETS 256

extern unsigned int zuma_timeout_secs;
extern unsigned int zuma_max_cached_maps;
extern struct workqueue_struct *zuma_wq;
extern struct mutex zuma_volumes_mutex;

enum zuma_mode {
	ZUMA_MODE_ORIGIN,
	ZUMA_MODE_SNAPSHOT,
};

struct zuma_volume;

/* One `zumastor` target instance (one table line). */
struct zuma_target {
	struct dm_target *ti;
	struct zuma_volume *vol;
	enum zuma_mode mode;
	u32 snapshot; /* snapshot mode: snapshot id */
	struct dm_dev *origin;
	struct dm_dev *store;
	struct list_head node; /* vol->targets */
	struct xarray maps;    /* chunk -> zuma_map_value(); RCU lookups */
	atomic_t map_count;
	struct xarray pending; /* snapshot mode: chunk * 2 + write -> request waiting */
	bool writable;	       /* snapshot mode: table loaded read-write */
};

/* One request to the server, and the bios waiting on it. */
struct zuma_request {
	struct list_head node;	 /* vol->requests, oldest first */
	struct list_head unsent; /* vol->unsent: not yet read by the session */
	u64 id;
	u16 type;  /* ZUMA_MSG_QUERY_WRITE, _QUERY_SNAPSHOT_READ or _WRITE */
	bool sent; /* read by the current session */
	u64 epoch; /* vol->epoch when created */
	struct zuma_target *target;
	u64 chunk;
	u32 count;
	u32 snapshot;
	unsigned long deadline; /* jiffies */
	struct bio_list bios;
};

/* A message queued for the server (answers to its own requests). */
struct zuma_outmsg {
	struct list_head node;
	size_t size;
	u8 data[];
};

/* Per-bio state, in dm's per-bio data. */
struct zuma_bio {
	struct zuma_target *t;
	u8 counted; /* counted in vol->inflight */
	u8 reader;  /* counted in vol->readers[bucket] */
	u16 bucket;
};

struct zuma_volume {
	struct kref kref;
	struct list_head node; /* zuma_volumes */
	char tag[ZUMA_TAG_MAX];
	spinlock_t lock;

	/* Geometry, fixed by the first target; 0 until then. */
	unsigned int chunk_shift; /* log2(sectors per chunk) */
	sector_t origin_sectors;
	sector_t store_sectors;
	dev_t origin_dev, store_dev;
	unsigned long *copied; /* bit per chunk: copied out since newest snapshot */
	u64 nr_chunks;

	struct list_head targets;
	unsigned int nr_targets;
	bool has_origin;

	/* The session: the control file attached by HELLO, or NULL. */
	void *session;
	wait_queue_head_t server_wq;
	struct list_head outbox;

	struct list_head requests;
	struct list_head unsent;
	struct xarray ids;	      /* id -> request */
	struct xarray pending_writes; /* chunk -> QUERY_WRITE request */
	u64 next_id;
	unsigned int nr_requests;
	struct delayed_work timeout_work;

	/* Barrier: while `barrier` is set, new bios wait in `deferred`. */
	u32 barrier; /* enum zuma_barrier_kind, 0 none */
	u32 barrier_snapshot;
	u64 barrier_id;
	unsigned long barrier_deadline;
	bool barrier_ready_sent;
	struct bio_list deferred;
	struct work_struct drain_work;
	struct work_struct release_work;
	atomic_t inflight; /* bios passed to a device and not yet ended */
	wait_queue_head_t drain_wq;
	u64 epoch;

	/* Origin writes parked until snapshot reads of their chunk end. */
	atomic_t readers_total;
	atomic_t readers[ZUMA_READER_BUCKETS];
	struct bio_list parked;

	unsigned int held_bios;
	u64 timed_out;
	u64 refused;
};

/* zuma-volume.c */
struct zuma_volume *zuma_volume_get(const char *tag);
void zuma_volume_put(struct zuma_volume *vol);
int zuma_volume_attach_target(struct zuma_volume *vol, struct zuma_target *t, char **error);
void zuma_volume_detach_target(struct zuma_volume *vol, struct zuma_target *t);
int zuma_route(struct zuma_target *t, struct bio *bio);
void zuma_bio_end(struct zuma_target *t, struct bio *bio);
void zuma_resubmit(struct zuma_volume *vol, struct bio_list *bios);
void zuma_fail_bios(struct bio_list *bios, blk_status_t status);
void zuma_request_remove(struct zuma_volume *vol, struct zuma_request *req);
void zuma_request_free(struct zuma_request *req);
void zuma_barrier_end_locked(struct zuma_volume *vol, u32 kind, u32 snapshot,
			     struct bio_list *release);
void zuma_session_detached_locked(struct zuma_volume *vol, struct bio_list *release);
void zuma_kick_timeout(struct zuma_volume *vol);
void zuma_invalidate_origin_maps(struct zuma_volume *vol, u64 chunk, u32 count);
void zuma_invalidate_all_maps(struct zuma_volume *vol, bool all_snapshots, u32 snapshot);
bool zuma_tag_valid(const char *tag, size_t size);
int zuma_init_volumes(void);
void zuma_exit_volumes(void);

/* The server's answer time: the `timeout` parameter, at least a second. */
static inline unsigned long zuma_timeout_jiffies(void)
{
	return max(READ_ONCE(zuma_timeout_secs), 1U) * (unsigned long)HZ;
}

static inline struct zuma_bio *zuma_bio_data(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct zuma_bio));
}

/*
 * A cached map entry (an xarray value): 0 for the origin, otherwise
 * (store sector << 1 | private) + 1.  Private entries come from WRITE_MAP:
 * the snapshot's own copy, which its writes may overwrite in place.
 */
static inline void *zuma_map_value(u64 map, bool private)
{
	return xa_mk_value(map == ZUMA_MAP_ORIGIN ? 0 : ((unsigned long)map << 1 | private) + 1);
}

static inline sector_t zuma_map_sector(unsigned long value)
{
	return (value - 1) >> 1;
}

static inline bool zuma_map_private(unsigned long value)
{
	return value && ((value - 1) & 1);
}

/* zuma-control.c */
int zuma_control_init(void);
void zuma_control_exit(void);

/* zuma-target.c */
int zuma_target_init(void);
void zuma_target_exit(void);

#endif /* DM_ZUMASTOR_H */
