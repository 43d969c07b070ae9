/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replication streams: the chunks of one snapshot (a full stream) or the
 * chunks that changed between two snapshots (an incremental stream), in the
 * versioned wire format of docs/replication-stream.md, and the digest of a
 * whole snapshot that both ends compare.
 *
 * The engine knows nothing of transports: a stream goes out through a write
 * callback and comes in through a read callback (ss_stream_fd_write and
 * ss_stream_fd_read pass it through a file descriptor).  Every byte read is
 * untrusted (stream-format.c checks each field against the header).
 *
 * Resume.  A stream carries resume points.  At each one the receiver makes
 * what it applied durable (ss_store_flush) and only then calls on_durable
 * with the last chunk index; the caller persists that index.  After a cut,
 * the sender is restarted with resume_after = that index and sends only the
 * chunks above it; the receiver is restarted with the same index and
 * refuses a stream that does not resume exactly there.
 *
 * What a receive never does: create the snapshot before the trailer's
 * digest matches the target's own origin, or touch an existing snapshot
 * (chunks go through ss_origin_write, so copy-out keeps every snapshot
 * intact).  A stream that fails half way leaves the origin partly updated
 * and no new snapshot; resuming or a new stream completes it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapstore.h"

/* Sum mod 2^128 over the chunks of a snapshot image that are not all
 * zero, of XXH3-128 of the chunk's chunk_size bytes (zero-padded past the
 * image end) seeded with the chunk index.  All-zero chunks add nothing, so
 * a hole and a chunk of zeros digest alike; a sum can be updated by the
 * changed chunks alone (subtract the old chunk's term, add the new one). */
typedef struct SsStreamDigest {
        uint64_t lo, hi;
} SsStreamDigest;

/* Identity of a snapshot in a stream: what the receiver matches its base
 * against and names the new snapshot after. */
typedef struct SsStreamSnapshot {
        char name[SS_NAME_MAX + 1];
        int64_t ctime;      /* seconds since the epoch, on the source */
        uint32_t source_id; /* the snapshot's id on the source (informational) */
} SsStreamSnapshot;

/* Returns 0 after writing all len bytes, or -errno. */
typedef int (*SsStreamWriteFn)(void *user, const void *buf, size_t len);
/* Returns how many bytes it read (1..len), 0 at the end of the stream, or -errno. */
typedef int (*SsStreamReadFn)(void *user, void *buf, size_t len);
/* Called once everything up to and including chunk last_index is durable
 * on the target; a negative return stops the receive with that error. */
typedef int (*SsStreamDurableFn)(void *user, uint64_t last_index, uint64_t records);

/* Callbacks for a file descriptor: user points to the int fd. */
int ss_stream_fd_write(void *user, const void *buf, size_t len);
int ss_stream_fd_read(void *user, void *buf, size_t len);

typedef struct SsStreamStats {
        uint64_t chunk_records; /* chunk records (with data) written or applied */
        uint64_t zero_records;  /* zero-run records */
        uint64_t zero_chunks;   /* chunks those runs cover */
        uint64_t resume_points; /* resume points passed */
        uint64_t bytes;         /* stream bytes, header and trailer included */
        uint64_t payload_bytes; /* stored (compressed) chunk bytes */
        uint64_t plain_bytes;   /* the same chunks before compression */
        SsStreamDigest digest;  /* of the to-snapshot */
        uint64_t last_index;    /* last chunk index sent or applied */
} SsStreamStats;

/* Progress of a send: of the `total` chunks the stream visits (every
 * chunk of the image above the resume point for a full stream, the
 * changed ones for an incremental one), `done` are out.  Called once
 * planned (done = 0) and after every chunk, with the engine's lock held
 * by zuma-snapshotd: it must only record the figures. */
typedef void (*SsStreamProgressFn)(void *user, uint64_t done, uint64_t total);

typedef struct SsStreamSendOptions {
        SsStreamWriteFn write; /* required */
        void *user;
        int zstd_level;                    /* 1..19; 0 = chunks go uncompressed */
        bool resume;                       /* send only the chunks above resume_after */
        uint64_t resume_after;             /* the receiver's durable chunk index */
        uint32_t resume_every_records;     /* resume point after this many records; 0 = 1024 */
        uint64_t resume_every_bytes;       /* ... or this many stream bytes; 0 = 64 MiB */
        const SsStreamDigest *from_digest; /* digest of `from` if known; NULL: read it */
        SsStreamProgressFn progress;       /* may be NULL */
        void *progress_user;
} SsStreamSendOptions;

/* Writes the stream of snapshot `to` (a full stream when from is 0, else
 * the chunks that changed since snapshot `from`, which must be older and
 * of the same size). */
int ss_stream_send(SsStore *s, uint32_t from, uint32_t to, const SsStreamSendOptions *opts,
                   SsStreamStats *ret_stats);

typedef struct SsStreamReceiveOptions {
        SsStreamReadFn read; /* required */
        void *user;
        bool resume;           /* the stream must resume after resume_after */
        uint64_t resume_after; /* the index last reported to on_durable */
        SsStreamDurableFn on_durable;
        void *durable_user;
        const SsStreamDigest *base_digest; /* digest of the base if known; NULL: read it */
        int32_t priority;                  /* of the snapshot created */
} SsStreamReceiveOptions;

/* Applies a stream to the store's origin and, once its digest matches,
 * creates the to-snapshot with the stream's name and creation time.
 * ret_id: the new snapshot.  On failure no snapshot is created and the
 * existing ones are intact. */
int ss_stream_receive(SsStore *s, const SsStreamReceiveOptions *opts, SsStreamStats *ret_stats,
                      uint32_t *ret_id);

/* The digest of snapshot id (SS_ORIGIN_ID: the current origin), by reading
 * every chunk of it. */
int ss_snapshot_digest(SsStore *s, uint32_t id, SsStreamDigest *ret_digest);
