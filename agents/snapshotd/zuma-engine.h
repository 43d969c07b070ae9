/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaEngine: one open snapshot store and its two devices, shared by the
 * bus side (the main thread, on the GLib main loop) and the data
 * frontend's I/O threads.
 *
 * Locking contract.  The engine is opaque and every operation below
 * carries this out itself; it is written here because a new operation
 * must keep it, and so that a frontend knows what it may wait for:
 *
 *  - `lock` serialises every ss_* call on `store` but ss_copy_plan_io()
 *    (the copy-out I/O of the group commit, which snapstore.h allows
 *    without it) and the two unserialised reads below.  Hold it only
 *    around engine calls and the device I/O named below, never across a
 *    wait for the bus, a FUSE reply or another lock.
 *  - `write_gate` orders origin writes against snapshot creation.  An
 *    origin write holds it shared from before its copy-out (group commit)
 *    until its own write to origin_dev has returned; snapshot creation and
 *    revert steps take it exclusively.  So no snapshot is ever taken
 *    between a copy-out and the write that copy-out protects, while origin
 *    writes to different chunks still run in parallel.
 *    Lock order: write_gate before lock.
 *    It prefers the writer: once snapshot creation waits for it, new
 *    shared holders queue behind it, so a stream of overlapping origin
 *    writes from many FUSE threads cannot starve CreateSnapshot (glibc's
 *    default rwlock, and GRWLock, admit readers as long as any is inside;
 *    one create once waited 2.2 s that way).  The price: a thread must
 *    never take the shared side while it holds it already, since the
 *    second request would wait behind the queued writer, which waits for
 *    the first.  Nobody does: the only shared holders are
 *    zuma_engine_origin_write() and zuma_engine_snapshot_write(), each
 *    one take and one release around ss_* calls and an origin pwrite
 *    that never come back into the frontend; a frontend request that
 *    writes several pieces (unaligned edges, write-zeroes) calls them once
 *    per piece.  A shared holder waits
 *    for nothing but `lock` and the devices (FUSE threads never wait for
 *    the main thread), so a queued writer's wait always ends.  The
 *    exclusive side is taken only by the main thread, holding no other
 *    engine lock, around ss_* calls that wait for nothing but the store's
 *    own I/O.
 *  - Origin reads go straight to origin_dev without a lock (pread is
 *    thread-safe and a block device gives no ordering between concurrent
 *    reads and writes of the same sectors either).
 *  - A snapshot read maps under `lock` and reads without it: under `lock`
 *    it takes ss_store_changes() and ss_snapshot_map_read()'s extents,
 *    releases `lock`, preads the extents from origin_dev and store_dev,
 *    then takes ss_store_changes() again.  If the count is unchanged the
 *    data is the snapshot's; if it moved, the read is redone with `lock`
 *    held from the map until the reads have returned (ss_snapshot_read()),
 *    and the unlocked data is thrown away.  Why an unchanged count is
 *    enough: an extent goes stale only when the device range it names is
 *    rewritten while it no longer holds the snapshot's data for that
 *    range.  On the origin that is an origin write to a chunk the snapshot
 *    still reads there; the write's ss_origin_prepare_write() first copies
 *    the chunk out for the snapshot and commits, and snapshot creation
 *    cannot slip between the copy-out and the write (write_gate), so no
 *    origin write prepared before the map can still be in flight for such
 *    a chunk.  In the store it is a block freed (the snapshot deleted, or
 *    cleanup) and then reused, which is allocatable only after the commit
 *    that freed it, or a writable snapshot's private chunk written in
 *    place.  libsnapstore moves the count before each of these reaches a
 *    device, at every commit and before every in-place write (internal.h,
 *    store_changed()), while the writer holds `lock`, and with a release
 *    fence; ss_store_changes() loads it after an acquire fence.  So if any
 *    pread saw such a write, the second load sees its increment.  The
 *    count is taken with the map under one hold of `lock`, so a change
 *    committed before the map moved it already and the map reflects it.
 *    A redo does what every read did before, so a store that changes all
 *    the time costs one wasted unlocked read per request, never wrong data;
 *    a pread that fails while the count moved is redone too, one that
 *    fails while it held is the store's failure as under `lock`.
 *  - Flushes call zuma_engine_flush(), which needs no lock.
 *  - Nobody holds `lock` or `write_gate` across a call that makes the
 *    kernel send the server's own FUSE file system a request (opening an
 *    image file, LOOP_CONFIGURE, closing a loop device, writing a
 *    uevent): a FUSE worker may need either to answer it.  Those calls run
 *    on the frontend's kernel-call thread with a deadline, never on the
 *    main thread (THE RULE in frontend/zuma-frontend.c).  The main thread
 *    takes `lock` for bus operations and waits for the store then, but its
 *    periodic work only tries it.
 *
 * Events the engine raises on an I/O thread (a snapshot auto-deleted by
 * the full policy, the store failing) are delivered to the callbacks on
 * the main context the engine was opened on, never on the I/O thread.
 */
#pragma once

#include <gio/gio.h>
#include <pthread.h>

#include "snapstore.h"
#include "stream.h"
#include "zuma-group-commit.h"

G_BEGIN_DECLS

typedef struct ZumaEngine ZumaEngine;

typedef struct ZumaEngineCallbacks {
        /* The full policy deleted snapshot id (name) to make room. */
        void (*autodeleted)(gpointer user, guint32 id, const char *name);
        /* The store failed an I/O or a commit; message says why.  Every
         * later engine call fails until the volume is restarted. */
        void (*failed)(gpointer user, const char *message);
} ZumaEngineCallbacks;

/* A frontend that caches where data lives (the kernel target, whose
 * origin writes do not pass through zuma_engine_origin_write()) brackets
 * every change of that with a barrier: snapshot create, delete, each revert
 * step, origin grow and the start and end of a received stream.  begin()
 * runs on the main thread before the engine takes write_gate, and may wait
 * for the frontend's in-flight I/O (never for the main thread); a failure
 * (-errno) means the change is not made and the operation fails with it.
 * end() runs after the change (made or failed) with write_gate released.
 * The kinds are the kernel protocol's (dm-zumastor.h). */
typedef enum ZumaBarrierKind {
        ZUMA_ENGINE_BARRIER_CREATE = 1, /* snapshot: 0 */
        ZUMA_ENGINE_BARRIER_DELETE = 2, /* snapshot: the one deleted */
        ZUMA_ENGINE_BARRIER_REVERT = 3, /* anything else: forget everything */
} ZumaBarrierKind;

typedef struct ZumaEngineBarrier {
        int (*begin)(gpointer user, ZumaBarrierKind kind, guint32 snapshot);
        void (*end)(gpointer user, ZumaBarrierKind kind, guint32 snapshot);
} ZumaEngineBarrier;

/* From now on, engines open block devices without O_EXCL, for a frontend
 * whose kernel devices claim them (device-mapper claims the devices under
 * its tables exclusively).  They check first that nobody else holds them
 * (as O_EXCL would), apart from the zumastor devices of a killed server,
 * which the next one adopts.  Once per process, before any engine opens. */
void zuma_engine_share_block_devices(void);

/* Writes a new, empty store on store_path for the origin at origin_path. */
gboolean zuma_engine_initialize(const char *origin_path, const char *store_path,
                                const SsCreateOptions *options, GError **error);

/* Opens both devices exclusively (O_EXCL on block devices, so nothing else
 * can write the origin behind the server's back) and the store. */
ZumaEngine *zuma_engine_open(const char *origin_path, const char *store_path,
                             const ZumaEngineCallbacks *callbacks, gpointer user, GError **error);
/* The same with ss_store_open()'s flags (SS_OPEN_*); on failure
 * *ret_open_errno (if not NULL) is ss_store_open()'s -errno (-ESTALE: only
 * an older commit is readable), or 0 if a device did not open. */
ZumaEngine *zuma_engine_open_flags(const char *origin_path, const char *store_path,
                                   unsigned open_flags, const ZumaEngineCallbacks *callbacks,
                                   gpointer user, int *ret_open_errno, GError **error);

/* Flushes and closes the store and both devices; frees the engine.  The
 * frontend must have stopped using it. */
gboolean zuma_engine_close(ZumaEngine *engine, GError **error);

/* ---- operations ----
 *
 * Each takes the locks the contract above asks for and releases them
 * before it returns; callers hold none.  They return 0 (or a count) or
 * -errno.  A failure is recorded as zuma_engine_note_error() does (the
 * operations marked "not noted" leave that to the caller), and
 * ss_last_error() on the calling thread names it until that thread's next
 * engine call: zuma_engine_set_error() right after the failed call turns
 * it into a GError. */

/* The store's figures; not noted.  The try variant answers -EAGAIN at
 * once when lock is held (the main thread's periodic work: I/O threads
 * hold lock across copy-outs, which wait for the store). */
int zuma_engine_info(ZumaEngine *engine, SsStoreInfo *ret_info);
int zuma_engine_try_info(ZumaEngine *engine, SsStoreInfo *ret_info);
/* The chunk size, fixed while the engine is open; no lock. */
guint32 zuma_engine_get_chunk_size(ZumaEngine *engine);
/* The devices' sizes in bytes (the origin's rounded down to a sector). */
/* The device paths the engine was opened with. */
const char *zuma_engine_get_origin_path(ZumaEngine *engine);
const char *zuma_engine_get_store_path(ZumaEngine *engine);
void zuma_engine_get_device_sizes(ZumaEngine *engine, guint64 *ret_origin_size,
                                  guint64 *ret_store_size);
/* ss_store_set_full_policy(). */
int zuma_engine_set_full_policy(ZumaEngine *engine, SsFullPolicy policy);

/* Snapshot records: ss_snapshot_get() and ss_snapshot_next(); not noted
 * (-ENOENT is the answer "none"). */
int zuma_engine_snapshot_get(ZumaEngine *engine, guint32 id, SsSnapshotInfo *ret_info);
int zuma_engine_snapshot_next(ZumaEngine *engine, guint32 after, SsSnapshotInfo *ret_info);

/* Creates a snapshot (write_gate exclusive: never between a copy-out and
 * its origin write) and returns its record. */
int zuma_engine_snapshot_create(ZumaEngine *engine, const char *name, guint32 flags,
                                gint32 priority, SsSnapshotInfo *ret_info);
/* Deletes one (write_gate exclusive); its space is freed by cleanup. */
int zuma_engine_snapshot_delete(ZumaEngine *engine, guint32 id);
/* Changes of a snapshot's record; *ret_info is the record after it. */
int zuma_engine_snapshot_rename(ZumaEngine *engine, guint32 id, const char *name,
                                SsSnapshotInfo *ret_info);
int zuma_engine_snapshot_set_priority(ZumaEngine *engine, guint32 id, gint32 priority,
                                      SsSnapshotInfo *ret_info);
int zuma_engine_snapshot_set_flags(ZumaEngine *engine, guint32 id, guint32 set, guint32 clear,
                                   SsSnapshotInfo *ret_info);
int zuma_engine_snapshot_usage(ZumaEngine *engine, guint32 id, SsSnapshotUsage *ret_usage);

/* One step of freeing deleted snapshots' space: > 0 while more is left.
 * The try variant answers -EAGAIN at once when lock is held, and is not
 * noted then. */
int zuma_engine_cleanup_step(ZumaEngine *engine, unsigned budget);
int zuma_engine_try_cleanup_step(ZumaEngine *engine, unsigned budget);

/* The chunks that differ between two snapshots (SS_ORIGIN_ID: the origin),
 * a batch at a time: ss_delta_begin() and ss_delta_next(). */
int zuma_engine_delta_begin(ZumaEngine *engine, guint32 from, guint32 to, SsDeltaCursor *cursor);
int zuma_engine_delta_next(ZumaEngine *engine, SsDeltaCursor *cursor, guint64 *chunks, size_t max);

/* Reverting the origin to a snapshot, each under write_gate exclusive. */
int zuma_engine_revert_begin(ZumaEngine *engine, guint32 target);
int zuma_engine_revert_step(ZumaEngine *engine, unsigned budget, guint64 *done);
int zuma_engine_revert_abandon(ZumaEngine *engine);

/* Grows the origin under write_gate exclusive (snapshots record the
 * origin size they were taken at, so it is ordered against snapshot
 * creation like a write), or the store. */
int zuma_engine_grow_origin(ZumaEngine *engine, guint64 origin_size);
int zuma_engine_grow_store(ZumaEngine *engine, guint64 store_size);

/* ---- replication streams (docs/replication-stream.md) ----
 *
 * Long calls, for a worker thread (never the main thread).  Each holds
 * `lock` for its engine work but releases it around every call of the
 * caller's write or read callback, so a slow or stalled peer never holds
 * up origin writes, snapshot reads or the main thread: the stream code
 * keeps no store state across those callbacks (it re-reads through the
 * store on each chunk), so releasing there is like calling it in pieces.
 * What they do hold `lock` across: computing a digest that is not given
 * (a full read of a snapshot), the changed-chunk list of an incremental
 * stream, and (receive) each resume point's flush and on_durable call.
 * Not noted: the caller reports the failure (ss_last_error() on its
 * thread names it). */

/* ss_stream_send(); the caller keeps `from` and `to` from being deleted
 * while it runs. */
int zuma_engine_stream_send(ZumaEngine *engine, guint32 from, guint32 to,
                            const SsStreamSendOptions *options, SsStreamStats *ret_stats);

/* ss_stream_receive().  Origin writes must be refused first
 * (zuma_engine_refuse_origin_writes()): the stream writes the origin
 * through the store, and its snapshot is created at the end under `lock`
 * only, which keeps the write_gate ordering because no origin write can
 * be between its copy-out and its pwrite then.  ret_info: the new
 * snapshot's record. */
int zuma_engine_stream_receive(ZumaEngine *engine, const SsStreamReceiveOptions *options,
                               SsStreamStats *ret_stats, SsSnapshotInfo *ret_info);

/* ss_snapshot_digest() under `lock` (a full read of the image). */
int zuma_engine_snapshot_digest(ZumaEngine *engine, guint32 id, SsStreamDigest *ret_digest);

/* While refused, zuma_engine_origin_write() answers -EBUSY with the
 * fault "origin write refused: a replication stream is being received".
 * Turning it on takes write_gate exclusively once, so every origin write
 * already past the check has returned when it returns.  Main thread. */
void zuma_engine_refuse_origin_writes(ZumaEngine *engine, gboolean refuse);
gboolean zuma_engine_origin_writes_refused(ZumaEngine *engine);

/* Installs (or with NULL removes) the barrier; main thread, while no
 * operation that takes write_gate exclusively runs.  The frontend that
 * installed it removes it before the engine closes. */
void zuma_engine_set_barrier(ZumaEngine *engine, const ZumaEngineBarrier *barrier, gpointer user);

/* ---- the data path (any thread, I/O threads above all) ----
 *
 * Whole 512-byte sectors on buffers aligned for O_DIRECT.  They return 0
 * or the -errno to hand on: -EIO, -ENOSPC (a full store under the refuse
 * policy), -EROFS (a snapshot that is not writable).  On a failure worth
 * logging, *ret_fault says what failed (and the store's own sentence);
 * an engine that had failed already answers -EIO with fault.what NULL. */
typedef struct ZumaEngineFault {
        const char *what;   /* "copy-out", "origin write", ...; static */
        int r;              /* the -errno of the call that failed */
        const char *detail; /* libsnapstore's sentence (valid until the
                             * thread's next engine call), or NULL */
} ZumaEngineFault;

/* ss_dev_pread on the origin, no lock. */
int zuma_engine_origin_read(ZumaEngine *engine, void *buf, guint64 offset, size_t length,
                            ZumaEngineFault *ret_fault);
/* write_gate shared { group commit { lock { plan } ; copy-out I/O ;
 * lock { apply, commit } } ; pwrite }: concurrent origin writes copy out
 * without `lock` and share one commit (zuma-group-commit.c, THE RULE
 * there). */
int zuma_engine_origin_write(ZumaEngine *engine, const void *buf, guint64 offset, size_t length,
                             ZumaEngineFault *ret_fault);
/* zuma_engine_origin_write() without the write: returns once the
 * copy-outs the range needs are durable, for a frontend that writes the
 * origin itself (the kernel target, after WRITE_OK).  The frontend must
 * keep the write from crossing a snapshot creation itself (its barrier). */
int zuma_engine_origin_prepare(ZumaEngine *engine, guint64 offset, size_t length,
                               ZumaEngineFault *ret_fault);
/* Mapped under lock, read without it, redone under lock if the store
 * changed meanwhile (the contract above). */
int zuma_engine_snapshot_read(ZumaEngine *engine, guint32 id, void *buf, guint64 offset,
                              size_t length, ZumaEngineFault *ret_fault);
/* write_gate shared { lock { ss_snapshot_write } }. */
int zuma_engine_snapshot_write(ZumaEngine *engine, guint32 id, const void *buf, guint64 offset,
                               size_t length, ZumaEngineFault *ret_fault);

/* Where snapshot id's bytes [offset, offset + length) live now: up to max
 * extents covering a prefix of the range (ss_snapshot_map_read() under
 * lock); the count, or -errno.  Valid until the next change of the store:
 * a caching frontend relies on its barriers and on the order of its
 * answers (docs/kernel-protocol.md). */
int zuma_engine_snapshot_map(ZumaEngine *engine, guint32 id, guint64 offset, guint64 length,
                             SsExtent *ret_extents, size_t max, ZumaEngineFault *ret_fault);
/* Gives writable snapshot id its own copy of the chunk at offset (chunk
 * aligned, length one chunk or the origin's partial last one), holding
 * the snapshot's contents, durable; *ret_store_offset is where it starts
 * in the store.  A frontend writes that copy in place from then on. */
int zuma_engine_snapshot_own_chunk(ZumaEngine *engine, guint32 id, guint64 offset, size_t length,
                                   guint64 *ret_store_offset, ZumaEngineFault *ret_fault);

/* Makes every origin and snapshot write that returned before the call
 * durable (metadata is committed by each engine call already); no lock. */
int zuma_engine_flush(ZumaEngine *engine);

/* Counters, for tests and diagnostics (they wrap): rounds of snapshot
 * reads served without the lock, and snapshot reads redone under it
 * because the store changed meanwhile. */
void zuma_engine_get_read_stats(ZumaEngine *engine, gint *ret_unlocked, gint *ret_redone);
/* The group commit's counters (shared commits, the requests they covered,
 * failed applies, plans that waited for another, plans whose I/O began
 * during an apply, requests queued now). */
void zuma_engine_get_commit_stats(ZumaEngine *engine, ZumaGroupCommitStats *ret_stats);
/* Hold `lock` alone, for tests only (like zuma_engine_lock_exclusive()):
 * origin writes queue for the group commit meanwhile. */
void zuma_engine_lock_store(ZumaEngine *engine);
void zuma_engine_unlock_store(ZumaEngine *engine);

/* ---- state ---- */

/* Whether an engine call failed with -EIO/-EROFS: the data path answers
 * -EIO from then on.  Any thread, no lock needed. */
gboolean zuma_engine_is_failed(ZumaEngine *engine);

/* Records that an engine call failed with r (< 0): -EIO and -EROFS mark
 * the engine failed, -EUCLEAN and -EILSEQ (metadata that fails its
 * checks) mark it damaged; either raises the failed callback once.  The
 * operations call it themselves; callers need it only for a failure they
 * found on their own (an operation that noted it already is no matter:
 * each state is raised once).  Takes lock.  Returns r. */
int zuma_engine_note_error(ZumaEngine *engine, int r);

/* Whether an engine call found the store's metadata damaged.  A damaged
 * engine is not failed: reads that do not need the damaged blocks go on
 * (libsnapstore refuses every change of a damaged store), but its owner
 * makes no more changes.  Any thread, no lock needed. */
gboolean zuma_engine_is_damaged(ZumaEngine *engine);

/* The first damage found, as libsnapstore named it (block and what was
 * wrong), or NULL if none; a copy.  Takes lock. */
char *zuma_engine_dup_damage(ZumaEngine *engine);

/* Sets *error from an engine -errno, with the engine's own sentence:
 * "what: <ss_last_error()>".  Call right after the failed operation, on
 * its thread (ss_last_error is per thread).  Returns FALSE. */
gboolean zuma_engine_set_error(GError **error, int r, const char *what);

/* ---- the write gate itself ----
 *
 * The operations above take it; these exist for tests that probe its
 * ordering (tests/frontend).  Exclusive: write_gate, then lock, in the
 * contract's order.  Shared: write_gate only, never twice on one thread.
 * try_shared never blocks: FALSE while an exclusive holder has it or
 * waits for it. */
void zuma_engine_lock_exclusive(ZumaEngine *engine);
void zuma_engine_unlock_exclusive(ZumaEngine *engine);
void zuma_engine_gate_shared(ZumaEngine *engine);
void zuma_engine_ungate_shared(ZumaEngine *engine);
gboolean zuma_engine_gate_try_shared(ZumaEngine *engine);

G_END_DECLS
