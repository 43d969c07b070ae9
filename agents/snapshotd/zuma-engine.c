/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-engine"

#include "zuma-engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zuma-copied-map.h"
#include "zuma-error.h"
#include "zuma-group-commit.h"

gboolean zuma_engine_set_error(GError **error, int r, const char *what)
{
        zuma_error_set_errno(error, r, "%s: %s", what, ss_last_error());
        return FALSE;
}

static gboolean shared_block_devices; /* zuma_engine_share_block_devices() */

void zuma_engine_share_block_devices(void)
{
        shared_block_devices = TRUE;
}

/* Whether every holder of block device st (a claimer, listed in sysfs) is
 * a device-mapper device of the zumastor target (its dm uuid). */
static gboolean held_by_zumastor_only(const struct stat *st)
{
        g_autofree char *dir = g_strdup_printf("/sys/dev/block/%u:%u/holders", major(st->st_rdev),
                                               minor(st->st_rdev));
        g_autoptr(GDir) holders = g_dir_open(dir, 0, NULL);
        const char *name;
        guint n = 0;

        while (holders && (name = g_dir_read_name(holders))) {
                g_autofree char *uuid_path = g_strdup_printf("/sys/class/block/%s/dm/uuid", name);
                g_autofree char *uuid = NULL;

                if (!g_file_get_contents(uuid_path, &uuid, NULL, NULL) ||
                    !g_str_has_prefix(uuid, "ZUMASTOR-"))
                        return FALSE;
                n++;
        }
        return n > 0;
}

/* In shared mode: fails with EBUSY, as an exclusive open would, if anyone
 * but this server's own zumastor devices holds block device path. */
static int check_unclaimed(const char *path, const struct stat *st)
{
        int fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);

        if (fd >= 0) {
                close(fd);
                return 0;
        }
        if (errno == EBUSY && held_by_zumastor_only(st))
                return 0;
        return -errno;
}

/* Opens one device for the engine.  Block devices are opened with O_EXCL by
 * the blockdev layer (in shared mode: checked, then opened without it); a
 * regular file gets an exclusive flock() instead, held by a second
 * descriptor for as long as the engine runs. */
static gboolean open_device(const char *path, const char *role, unsigned flags,
                            SsBlockDev **ret_dev, int *ret_lock_fd, GError **error)
{
        struct stat st;
        int r, lock_fd = -1;
        unsigned exclusive = SS_BLOCKDEV_EXCLUSIVE;

        if (stat(path, &st) < 0) {
                zuma_error_set_errno(error, -errno, "%s device %s: %s", role, path,
                                     g_strerror(errno));
                return FALSE;
        }
        if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
                zuma_error_set_errno(error, -EINVAL,
                                     "%s device %s: neither a block device nor a regular file",
                                     role, path);
                return FALSE;
        }
        if (S_ISREG(st.st_mode)) {
                lock_fd = open(path, O_RDONLY | O_CLOEXEC);
                if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
                        r = -errno;
                        if (lock_fd >= 0)
                                close(lock_fd);
                        zuma_error_set_errno(error, r == -EWOULDBLOCK ? -EBUSY : r,
                                             "%s device %s: in use by another process (%s)", role,
                                             path, g_strerror(-r));
                        return FALSE;
                }
        }
        if (S_ISBLK(st.st_mode) && shared_block_devices) {
                exclusive = 0;
                r = check_unclaimed(path, &st);
        } else {
                r = 0;
        }
        if (r == 0)
                r = ss_blockdev_open_file(path, flags | exclusive, ret_dev);
        if (r < 0) {
                if (lock_fd >= 0)
                        close(lock_fd);
                if (r == -EBUSY)
                        zuma_error_set_errno(error, r,
                                             "%s device %s is in use (mounted, or held open "
                                             "exclusively by another program)",
                                             role, path);
                else
                        zuma_engine_set_error(error, r, role);
                return FALSE;
        }
        *ret_lock_fd = lock_fd;
        return TRUE;
}

typedef struct EngineLocks {
        int origin_fd, store_fd;
} EngineLocks;

static void close_devices(SsBlockDev *origin, SsBlockDev *store, EngineLocks *locks)
{
        if (store)
                ss_blockdev_close(store);
        if (origin)
                ss_blockdev_close(origin);
        if (locks->store_fd >= 0)
                close(locks->store_fd);
        if (locks->origin_fd >= 0)
                close(locks->origin_fd);
}

static gboolean same_device(const char *a, const char *b)
{
        struct stat sa, sb;

        if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
                return FALSE;
        if (S_ISBLK(sa.st_mode) && S_ISBLK(sb.st_mode))
                return sa.st_rdev == sb.st_rdev;
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static gboolean open_both(const char *origin_path, const char *store_path, unsigned flags,
                          SsBlockDev **origin, SsBlockDev **store, EngineLocks *locks,
                          GError **error)
{
        *locks = (EngineLocks){ -1, -1 };
        *origin = *store = NULL;
        if (same_device(origin_path, store_path)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s is both the origin and the store device", origin_path);
                return FALSE;
        }
        if (!open_device(origin_path, "origin", flags, origin, &locks->origin_fd, error))
                return FALSE;
        if (!open_device(store_path, "store", flags, store, &locks->store_fd, error)) {
                close_devices(*origin, NULL, locks);
                *origin = NULL;
                return FALSE;
        }
        return TRUE;
}

gboolean zuma_engine_initialize(const char *origin_path, const char *store_path,
                                const SsCreateOptions *options, GError **error)
{
        SsBlockDev *origin, *store;
        EngineLocks locks;
        int r;

        if (!open_both(origin_path, store_path, 0, &origin, &store, &locks, error))
                return FALSE;
        r = ss_store_create(origin, store, options);
        if (r == -EEXIST)
                zuma_error_set_errno(error, r,
                                     "%s already holds a snapshot store (use force to "
                                     "overwrite it)",
                                     store_path);
        else if (r < 0)
                zuma_engine_set_error(error, r, "cannot create the store");
        close_devices(origin, store, &locks);
        return r == 0;
}

/* Events queued to the main context hold a reference, so one delivered
 * after zuma_engine_close() finds a closed engine instead of freed memory. */
struct ZumaEngine {
        SsStore *store;
        SsBlockDev *origin_dev;
        SsBlockDev *store_dev;
        GMutex lock;
        pthread_rwlock_t write_gate; /* writer-preferring: zuma-engine.h */
        guint32 chunk_size;
        /* Set once, under lock, when an engine call fails with -EIO/-EROFS;
         * read without it as an atomic. */
        gint failed;
        gint snapshot_reads_unlocked; /* atomic */
        gint snapshot_reads_redone;   /* atomic */
        GMainContext *context;
        ZumaEngineCallbacks callbacks;
        gpointer user;
        char *origin_path, *store_path;   /* as opened */
        const ZumaEngineBarrier *barrier; /* main thread only */
        gpointer barrier_user;
        EngineLocks locks; /* the lock descriptors of regular files */
        gint refs;
        gboolean closed;
        gint damaged;               /* atomic: zuma_engine_is_damaged() */
        char *damage;               /* under lock: the first damage found */
        gint origin_writes_refused; /* atomic: a stream is being received */
        ZumaGroupCommit *copy_outs; /* origin writes share copy-out commits */
        ZumaCopiedMap *copied;      /* chunks needing no copy-out: zuma-copied-map.c */
};

/* Writer preference, so that snapshot creation does not starve behind
 * origin writes (the contract in zuma-engine.h says why this is safe). */
static void write_gate_init(pthread_rwlock_t *gate)
{
        pthread_rwlockattr_t attr;

        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        if (pthread_rwlock_init(gate, &attr) != 0)
                g_error("cannot initialize the engine write gate");
        pthread_rwlockattr_destroy(&attr);
}

static ZumaEngine *engine_ref(ZumaEngine *engine)
{
        g_atomic_int_inc(&engine->refs);
        return engine;
}

static void engine_unref(ZumaEngine *engine)
{
        if (!g_atomic_int_dec_and_test(&engine->refs))
                return;
        zuma_group_commit_free(engine->copy_outs);
        zuma_copied_map_free(engine->copied);
        g_mutex_clear(&engine->lock);
        pthread_rwlock_destroy(&engine->write_gate);
        g_main_context_unref(engine->context);
        g_free(engine->damage);
        g_free(engine->origin_path);
        g_free(engine->store_path);
        g_free(engine);
}

static gboolean engine_closed(ZumaEngine *engine)
{
        return engine->closed;
}

typedef struct EngineEvent {
        ZumaEngine *engine;
        guint32 id;
        char *text;
} EngineEvent;

static void engine_event_free(gpointer data)
{
        EngineEvent *event = data;

        engine_unref(event->engine);
        g_free(event->text);
        g_free(event);
}

static gboolean deliver_autodelete(gpointer data)
{
        EngineEvent *event = data;

        if (!engine_closed(event->engine) && event->engine->callbacks.autodeleted)
                event->engine->callbacks.autodeleted(event->engine->user, event->id, event->text);
        return G_SOURCE_REMOVE;
}

static gboolean deliver_failure(gpointer data)
{
        EngineEvent *event = data;

        if (!engine_closed(event->engine) && event->engine->callbacks.failed)
                event->engine->callbacks.failed(event->engine->user, event->text);
        return G_SOURCE_REMOVE;
}

/* Always through an idle source, never right away: the event is raised
 * with lock held, and on the main thread (a revert step, a snapshot
 * delete) g_main_context_invoke() would run the callback there and then,
 * inside the engine call that raised it. */
static void queue_event(ZumaEngine *engine, GSourceFunc deliver, EngineEvent *event)
{
        g_autoptr(GSource) source = g_idle_source_new();

        g_source_set_priority(source, G_PRIORITY_DEFAULT);
        g_source_set_callback(source, deliver, event, engine_event_free);
        g_source_set_static_name(source, "zuma-engine event");
        g_source_attach(source, engine->context);
}

/* Runs on whatever thread made the engine call, with lock held. */
static void on_autodelete(void *user, uint32_t id, const char *name)
{
        ZumaEngine *engine = user;
        EngineEvent *event = g_new0(EngineEvent, 1);

        event->engine = engine_ref(engine);
        event->id = id;
        event->text = g_strdup(name);
        queue_event(engine, deliver_autodelete, event);
}

static int note_error_locked(ZumaEngine *engine, int r);
static int io_engine_failure(ZumaEngine *engine, int r, const char *what, ZumaEngineFault *fault);

/* Group commit (zuma-group-commit.c), lock held: one origin write's
 * copy-out alone, on its own thread; request is its ZumaEngineFault.
 * -EAGAIN (another writer's copy-out holds the range) is no failure: the
 * group commit waits and asks again. */
static int prepare_one_locked(gpointer user, guint64 offset, guint64 length, gpointer request)
{
        ZumaEngine *engine = user;
        int r = engine->failed ? -EIO : ss_origin_prepare_write(engine->store, offset, length);

        if (r < 0 && r != -EAGAIN && !engine->failed)
                r = io_engine_failure(engine, r, "copy-out", request);
        return r;
}

/* Lock held.  A failed plan is not noted: the request goes alone, and
 * prepare_one_locked() meets the failure again and names it. */
static int plan_locked(gpointer user, guint64 offset, guint64 length, gpointer request,
                       SsCopyPlan **ret_plan)
{
        ZumaEngine *engine = user;

        (void)request;
        return engine->failed ? -EIO : ss_copy_plan(engine->store, offset, length, ret_plan);
}

/* No lock (snapstore.h: ss_copy_plan_io() needs none). */
static int plan_io_unlocked(gpointer user, SsCopyPlan *plan, gpointer request)
{
        ZumaEngine *engine = user;

        (void)request;
        return ss_copy_plan_io(engine->store, plan);
}

/* Several origin writes' copy-outs in one commit.  A failure sends each
 * request back alone; a failure that fails the store (an I/O error, a
 * failed commit, damage) is noted here, on the thread that saw it, so the
 * engine's failure names its cause (the requests alone then answer -EIO).
 * A full store or a bad range is each request's own answer: not noted. */
static int apply_locked(gpointer user, SsCopyPlan *const *plans, gsize n)
{
        ZumaEngine *engine = user;
        int r;

        if (engine->failed) {
                for (gsize i = 0; i < n; i++)
                        ss_copy_plan_drop(engine->store, plans[i]);
                return -EIO;
        }
        r = ss_copy_plans_apply(engine->store, plans, n);
        if (r == -EIO || r == -EROFS || r == -EUCLEAN || r == -EILSEQ)
                note_error_locked(engine, r);
        return r;
}

static const ZumaGroupCommitOps copy_out_ops = {
        .prepare_one = prepare_one_locked,
        .plan = plan_locked,
        .plan_io = plan_io_unlocked,
        .apply = apply_locked,
};

ZumaEngine *zuma_engine_open(const char *origin_path, const char *store_path,
                             const ZumaEngineCallbacks *callbacks, gpointer user, GError **error)
{
        return zuma_engine_open_flags(origin_path, store_path, 0, callbacks, user, NULL, error);
}

ZumaEngine *zuma_engine_open_flags(const char *origin_path, const char *store_path,
                                   unsigned open_flags, const ZumaEngineCallbacks *callbacks,
                                   gpointer user, int *ret_open_errno, GError **error)
{
        ZumaEngine *engine = g_new0(ZumaEngine, 1);
        SsStoreInfo info;
        int r;

        if (ret_open_errno)
                *ret_open_errno = 0;
        if (!open_both(origin_path, store_path, 0, &engine->origin_dev, &engine->store_dev,
                       &engine->locks, error)) {
                g_free(engine);
                return NULL;
        }
        engine->refs = 1;
        engine->origin_path = g_strdup(origin_path);
        engine->store_path = g_strdup(store_path);
        engine->context = g_main_context_ref_thread_default();
        if (callbacks)
                engine->callbacks = *callbacks;
        engine->user = user;
        g_mutex_init(&engine->lock);
        write_gate_init(&engine->write_gate);
        engine->copy_outs = zuma_group_commit_new(&engine->lock, &copy_out_ops, engine);

        r = ss_store_open(engine->origin_dev, engine->store_dev,
                          &(SsOpenOptions){ .flags = open_flags,
                                            .on_autodelete = on_autodelete,
                                            .user = engine },
                          &engine->store);
        if (r == 0)
                r = ss_store_info(engine->store, &info);
        if (r < 0) {
                if (ret_open_errno)
                        *ret_open_errno = r;
                zuma_engine_set_error(error, r, "cannot open the store");
                if (engine->store)
                        ss_store_close(engine->store);
                engine->store = NULL;
                zuma_engine_close(engine, NULL);
                return NULL;
        }
        engine->chunk_size = info.chunk_size;
        engine->copied = zuma_copied_map_new(info.origin_size, info.chunk_size);
        return engine;
}

gboolean zuma_engine_close(ZumaEngine *engine, GError **error)
{
        int r = 0;

        if (engine->store) {
                r = ss_store_close(engine->store);
                if (r < 0)
                        zuma_engine_set_error(error, r, "closing the store failed");
        }
        engine->store = NULL;
        close_devices(engine->origin_dev, engine->store_dev, &engine->locks);
        engine->origin_dev = engine->store_dev = NULL;
        engine->closed = TRUE;
        engine_unref(engine);
        return r == 0;
}

/* The calls below fail only on misuse (EDEADLK: this thread holds the
 * exclusive side already; EAGAIN: 2^30 shared holders); a broken lock
 * contract is a bug to stop at, not an error to answer. */
static void write_gate_check(int r, const char *what)
{
        if (r != 0)
                g_error("engine write gate: %s: %s", what, g_strerror(r));
}

void zuma_engine_lock_exclusive(ZumaEngine *engine)
{
        write_gate_check(pthread_rwlock_wrlock(&engine->write_gate), "exclusive lock");
        g_mutex_lock(&engine->lock);
}

void zuma_engine_unlock_exclusive(ZumaEngine *engine)
{
        g_mutex_unlock(&engine->lock);
        write_gate_check(pthread_rwlock_unlock(&engine->write_gate), "exclusive unlock");
}

void zuma_engine_gate_shared(ZumaEngine *engine)
{
        write_gate_check(pthread_rwlock_rdlock(&engine->write_gate), "shared lock");
}

void zuma_engine_ungate_shared(ZumaEngine *engine)
{
        write_gate_check(pthread_rwlock_unlock(&engine->write_gate), "shared unlock");
}

int zuma_engine_flush(ZumaEngine *engine)
{
        int r = ss_dev_flush(engine->origin_dev);

        if (r == 0)
                r = ss_dev_flush(engine->store_dev);
        return r;
}

static void raise_failure(ZumaEngine *engine, char *text)
{
        EngineEvent *event = g_new0(EngineEvent, 1);

        event->engine = engine_ref(engine);
        event->text = text;
        queue_event(engine, deliver_failure, event);
}

/* libsnapstore's sentence for a damaged store starts with this once the
 * handle knows it is damaged (the calls after the first damage). */
#define DAMAGED_PREFIX "store is damaged: "

static void note_damage(ZumaEngine *engine)
{
        const char *what = ss_last_error();

        if (engine->failed || g_atomic_int_get(&engine->damaged))
                return;
        if (g_str_has_prefix(what, DAMAGED_PREFIX))
                what += strlen(DAMAGED_PREFIX);
        engine->damage = g_strdup(what[0] ? what : "metadata failed its checks");
        g_atomic_int_set(&engine->damaged, TRUE);
        raise_failure(engine, g_strdup_printf(DAMAGED_PREFIX "%s", engine->damage));
}

static int note_error_locked(ZumaEngine *engine, int r)
{
        if (r == -EUCLEAN || r == -EILSEQ) {
                note_damage(engine);
                return r;
        }
        if ((r != -EIO && r != -EROFS) || engine->failed)
                return r;
        g_atomic_int_set(&engine->failed, TRUE);
        raise_failure(engine, g_strdup_printf("the store failed an I/O (%s): %s", g_strerror(-r),
                                              ss_last_error()));
        return r;
}

int zuma_engine_note_error(ZumaEngine *engine, int r)
{
        g_mutex_lock(&engine->lock);
        note_error_locked(engine, r);
        g_mutex_unlock(&engine->lock);
        return r;
}

gboolean zuma_engine_is_damaged(ZumaEngine *engine)
{
        return g_atomic_int_get(&engine->damaged);
}

char *zuma_engine_dup_damage(ZumaEngine *engine)
{
        char *damage;

        g_mutex_lock(&engine->lock);
        damage = g_strdup(engine->damage);
        g_mutex_unlock(&engine->lock);
        return damage;
}

gboolean zuma_engine_is_failed(ZumaEngine *engine)
{
        return g_atomic_int_get(&engine->failed);
}

guint32 zuma_engine_get_chunk_size(ZumaEngine *engine)
{
        return engine->chunk_size;
}

gboolean zuma_engine_gate_try_shared(ZumaEngine *engine)
{
        int r = pthread_rwlock_tryrdlock(&engine->write_gate);

        if (r == EBUSY)
                return FALSE;
        write_gate_check(r, "shared try-lock");
        return TRUE;
}

void zuma_engine_get_commit_stats(ZumaEngine *engine, ZumaGroupCommitStats *ret_stats)
{
        zuma_group_commit_get_stats(engine->copy_outs, ret_stats);
}

void zuma_engine_lock_store(ZumaEngine *engine)
{
        g_mutex_lock(&engine->lock);
}

void zuma_engine_unlock_store(ZumaEngine *engine)
{
        g_mutex_unlock(&engine->lock);
}

void zuma_engine_get_read_stats(ZumaEngine *engine, gint *ret_unlocked, gint *ret_redone)
{
        if (ret_unlocked)
                *ret_unlocked = g_atomic_int_get(&engine->snapshot_reads_unlocked);
        if (ret_redone)
                *ret_redone = g_atomic_int_get(&engine->snapshot_reads_redone);
}

/* ---- operations of the main thread ---- */

/* With lock held, right after the engine call that returned r. */
static int noted(ZumaEngine *engine, int r)
{
        return r < 0 ? note_error_locked(engine, r) : r;
}

int zuma_engine_info(ZumaEngine *engine, SsStoreInfo *ret_info)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = ss_store_info(engine->store, ret_info);
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_try_info(ZumaEngine *engine, SsStoreInfo *ret_info)
{
        int r;

        if (!g_mutex_trylock(&engine->lock))
                return -EAGAIN;
        r = ss_store_info(engine->store, ret_info);
        g_mutex_unlock(&engine->lock);
        return r;
}

const char *zuma_engine_get_origin_path(ZumaEngine *engine)
{
        return engine->origin_path;
}

const char *zuma_engine_get_store_path(ZumaEngine *engine)
{
        return engine->store_path;
}

void zuma_engine_get_device_sizes(ZumaEngine *engine, guint64 *ret_origin_size,
                                  guint64 *ret_store_size)
{
        g_mutex_lock(&engine->lock);
        if (ret_origin_size)
                *ret_origin_size = ss_dev_size(engine->origin_dev) & ~(guint64)511;
        if (ret_store_size)
                *ret_store_size = ss_dev_size(engine->store_dev);
        g_mutex_unlock(&engine->lock);
}

int zuma_engine_set_full_policy(ZumaEngine *engine, SsFullPolicy policy)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = noted(engine, ss_store_set_full_policy(engine->store, policy));
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_snapshot_get(ZumaEngine *engine, guint32 id, SsSnapshotInfo *ret_info)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = ss_snapshot_get(engine->store, id, ret_info);
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_snapshot_next(ZumaEngine *engine, guint32 after, SsSnapshotInfo *ret_info)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = ss_snapshot_next(engine->store, after, ret_info);
        g_mutex_unlock(&engine->lock);
        return r;
}

void zuma_engine_set_barrier(ZumaEngine *engine, const ZumaEngineBarrier *barrier, gpointer user)
{
        engine->barrier = barrier;
        engine->barrier_user = user;
}

static int barrier_begin(ZumaEngine *engine, ZumaBarrierKind kind, guint32 snapshot)
{
        return engine->barrier ? engine->barrier->begin(engine->barrier_user, kind, snapshot) : 0;
}

static void barrier_end(ZumaEngine *engine, ZumaBarrierKind kind, guint32 snapshot)
{
        if (engine->barrier)
                engine->barrier->end(engine->barrier_user, kind, snapshot);
}

/* write_gate exclusive inside the frontend's barrier; 0 or the barrier's
 * -errno (nothing is held then). */
static int exclusive_begin(ZumaEngine *engine, ZumaBarrierKind kind, guint32 snapshot)
{
        int r = barrier_begin(engine, kind, snapshot); /* a failed one is closed */

        if (r < 0)
                return r;
        zuma_engine_lock_exclusive(engine);
        return 0;
}

static void exclusive_end(ZumaEngine *engine, ZumaBarrierKind kind, guint32 snapshot)
{
        zuma_engine_unlock_exclusive(engine);
        barrier_end(engine, kind, snapshot);
}

int zuma_engine_snapshot_create(ZumaEngine *engine, const char *name, guint32 flags,
                                gint32 priority, SsSnapshotInfo *ret_info)
{
        guint32 id = 0;
        int r;

        if ((r = exclusive_begin(engine, ZUMA_ENGINE_BARRIER_CREATE, 0)) < 0)
                return r;
        zuma_copied_map_clear(engine->copied); /* every chunk may need a copy-out */
        r = ss_snapshot_create(engine->store, name, flags, priority, &id);
        if (r == 0)
                r = ss_snapshot_get(engine->store, id, ret_info);
        noted(engine, r);
        exclusive_end(engine, ZUMA_ENGINE_BARRIER_CREATE, 0);
        return r;
}

int zuma_engine_snapshot_delete(ZumaEngine *engine, guint32 id)
{
        int r;

        if ((r = exclusive_begin(engine, ZUMA_ENGINE_BARRIER_DELETE, id)) < 0)
                return r;
        r = noted(engine, ss_snapshot_delete(engine->store, id));
        exclusive_end(engine, ZUMA_ENGINE_BARRIER_DELETE, id);
        return r;
}

/* With lock held, after the change r of snapshot id: its record. */
static int changed_record(ZumaEngine *engine, guint32 id, int r, SsSnapshotInfo *ret_info)
{
        if (r == 0)
                r = ss_snapshot_get(engine->store, id, ret_info);
        return noted(engine, r);
}

int zuma_engine_snapshot_rename(ZumaEngine *engine, guint32 id, const char *name,
                                SsSnapshotInfo *ret_info)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = changed_record(engine, id, ss_snapshot_rename(engine->store, id, name), ret_info);
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_snapshot_set_priority(ZumaEngine *engine, guint32 id, gint32 priority,
                                      SsSnapshotInfo *ret_info)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = changed_record(engine, id, ss_snapshot_set_priority(engine->store, id, priority),
                           ret_info);
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_snapshot_set_flags(ZumaEngine *engine, guint32 id, guint32 set, guint32 clear,
                                   SsSnapshotInfo *ret_info)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = changed_record(engine, id, ss_snapshot_set_flags(engine->store, id, set, clear),
                           ret_info);
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_snapshot_usage(ZumaEngine *engine, guint32 id, SsSnapshotUsage *ret_usage)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = noted(engine, ss_snapshot_usage(engine->store, id, ret_usage));
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_cleanup_step(ZumaEngine *engine, unsigned budget)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = noted(engine, ss_cleanup_step(engine->store, budget));
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_try_cleanup_step(ZumaEngine *engine, unsigned budget)
{
        int r;

        if (!g_mutex_trylock(&engine->lock))
                return -EAGAIN;
        r = noted(engine, ss_cleanup_step(engine->store, budget));
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_delta_begin(ZumaEngine *engine, guint32 from, guint32 to, SsDeltaCursor *cursor)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = noted(engine, ss_delta_begin(engine->store, from, to, cursor));
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_delta_next(ZumaEngine *engine, SsDeltaCursor *cursor, guint64 *chunks, size_t max)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = noted(engine, ss_delta_next(engine->store, cursor, chunks, max));
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_revert_begin(ZumaEngine *engine, guint32 target)
{
        int r;

        if ((r = exclusive_begin(engine, ZUMA_ENGINE_BARRIER_REVERT, target)) < 0)
                return r;
        zuma_copied_map_clear(engine->copied);
        r = noted(engine, ss_revert_begin(engine->store, target));
        exclusive_end(engine, ZUMA_ENGINE_BARRIER_REVERT, target);
        return r;
}

int zuma_engine_revert_step(ZumaEngine *engine, unsigned budget, guint64 *done)
{
        uint64_t chunks = *done;
        int r;

        if ((r = exclusive_begin(engine, ZUMA_ENGINE_BARRIER_REVERT, 0)) < 0)
                return r;
        zuma_copied_map_clear(engine->copied);
        r = noted(engine, ss_revert_step(engine->store, budget, &chunks));
        exclusive_end(engine, ZUMA_ENGINE_BARRIER_REVERT, 0);
        *done = chunks;
        return r;
}

int zuma_engine_revert_abandon(ZumaEngine *engine)
{
        int r;

        if ((r = exclusive_begin(engine, ZUMA_ENGINE_BARRIER_REVERT, 0)) < 0)
                return r;
        zuma_copied_map_clear(engine->copied);
        r = ss_revert_abandon(engine->store);
        if (r != -ENOENT)
                noted(engine, r);
        exclusive_end(engine, ZUMA_ENGINE_BARRIER_REVERT, 0);
        return r;
}

int zuma_engine_grow_origin(ZumaEngine *engine, guint64 origin_size)
{
        int r;

        if ((r = exclusive_begin(engine, ZUMA_ENGINE_BARRIER_REVERT, 0)) < 0)
                return r;
        r = noted(engine, ss_origin_grow(engine->store, origin_size));
        exclusive_end(engine, ZUMA_ENGINE_BARRIER_REVERT, 0);
        return r;
}

int zuma_engine_grow_store(ZumaEngine *engine, guint64 store_size)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = noted(engine, ss_store_grow(engine->store, store_size));
        g_mutex_unlock(&engine->lock);
        return r;
}

/* ---- the data path ---- */

static void fault_set(ZumaEngineFault *fault, const char *what, int r, const char *detail)
{
        if (fault) {
                fault->what = what;
                fault->r = r;
                fault->detail = detail;
        }
}

/* An engine call failed: lock held.  A full store stays ENOSPC (the refuse
 * policy); anything else is recorded on the engine and becomes EIO. */
static int io_engine_failure(ZumaEngine *engine, int r, const char *what, ZumaEngineFault *fault)
{
        fault_set(fault, what, r, ss_last_error());
        if (r == -ENOSPC)
                return r;
        note_error_locked(engine, r);
        return -EIO;
}

static int io_device_failure(const char *what, int r, ZumaEngineFault *fault)
{
        fault_set(fault, what, r, NULL);
        return -EIO;
}

int zuma_engine_origin_read(ZumaEngine *engine, void *buf, guint64 offset, size_t length,
                            ZumaEngineFault *ret_fault)
{
        int r;

        fault_set(ret_fault, NULL, 0, NULL);
        r = ss_dev_pread(engine->origin_dev, buf, length, offset);
        return r < 0 ? io_device_failure("origin read", r, ret_fault) : 0;
}

/* write_gate held shared: the copy-outs of an origin write. */
static int origin_prepare_gated(ZumaEngine *engine, guint64 offset, size_t length,
                                ZumaEngineFault *ret_fault)
{
        int r;

        if (g_atomic_int_get(&engine->origin_writes_refused)) {
                fault_set(ret_fault, "origin write refused: a replication stream is being received",
                          -EBUSY, NULL);
                return -EBUSY;
        }
        /* Chunks copied out since the newest snapshot need no prepare
         * (zuma-copied-map.c says why write_gate alone keeps this safe). */
        if (zuma_copied_map_covers(engine->copied, offset, length) &&
            !g_atomic_int_get(&engine->failed) && !g_atomic_int_get(&engine->damaged))
                return 0;
        r = zuma_group_commit_prepare(engine->copy_outs, offset, length, ret_fault);
        if (r == 0)
                zuma_copied_map_mark(engine->copied, offset, length);
        return r;
}

int zuma_engine_origin_prepare(ZumaEngine *engine, guint64 offset, size_t length,
                               ZumaEngineFault *ret_fault)
{
        int r;

        fault_set(ret_fault, NULL, 0, NULL);
        zuma_engine_gate_shared(engine);
        r = origin_prepare_gated(engine, offset, length, ret_fault);
        zuma_engine_ungate_shared(engine);
        return r < 0 ? r : 0;
}

int zuma_engine_origin_write(ZumaEngine *engine, const void *buf, guint64 offset, size_t length,
                             ZumaEngineFault *ret_fault)
{
        int r;

        fault_set(ret_fault, NULL, 0, NULL);
        zuma_engine_gate_shared(engine);
        r = origin_prepare_gated(engine, offset, length, ret_fault);
        if (r == 0) {
                r = ss_dev_pwrite(engine->origin_dev, buf, length, offset);
                if (r < 0)
                        r = io_device_failure("origin write", r, ret_fault);
        }
        zuma_engine_ungate_shared(engine);
        return r < 0 ? r : 0;
}

int zuma_engine_snapshot_write(ZumaEngine *engine, guint32 id, const void *buf, guint64 offset,
                               size_t length, ZumaEngineFault *ret_fault)
{
        SsSnapshotInfo info;
        int r;

        fault_set(ret_fault, NULL, 0, NULL);
        zuma_engine_gate_shared(engine);
        g_mutex_lock(&engine->lock);
        r = engine->failed ? -EIO : ss_snapshot_write(engine->store, id, buf, offset, length);
        /* A snapshot made read-only behind the frontend's back refuses the
         * write; that is the caller's error, not a failing store. */
        if (r == -EROFS && ss_snapshot_get(engine->store, id, &info) == 0 &&
            !(info.flags & SS_SNAP_WRITABLE))
                r = -EROFS;
        else if (r < 0 && !engine->failed)
                r = io_engine_failure(engine, r, "snapshot write", ret_fault);
        g_mutex_unlock(&engine->lock);
        zuma_engine_ungate_shared(engine);
        return r < 0 ? r : 0;
}

int zuma_engine_snapshot_map(ZumaEngine *engine, guint32 id, guint64 offset, guint64 length,
                             SsExtent *ret_extents, size_t max, ZumaEngineFault *ret_fault)
{
        int r;

        fault_set(ret_fault, NULL, 0, NULL);
        g_mutex_lock(&engine->lock);
        r = engine->failed
                    ? -EIO
                    : ss_snapshot_map_read(engine->store, id, offset, length, ret_extents, max);
        if (r < 0 && r != -ENOENT && !engine->failed)
                r = io_engine_failure(engine, r, "snapshot map", ret_fault);
        g_mutex_unlock(&engine->lock);
        return r;
}

/* Lock held: where the chunk at offset of snapshot id starts in the store,
 * if one store extent holds all of it. */
static int chunk_store_offset(ZumaEngine *engine, guint32 id, guint64 offset, size_t length,
                              guint64 *ret_store_offset)
{
        SsExtent ext;
        int n = ss_snapshot_map_read(engine->store, id, offset, length, &ext, 1);

        if (n < 0)
                return n;
        if (n != 1 || ext.kind != SS_EXTENT_STORE || ext.offset != offset || ext.length < length)
                return -EAGAIN;
        *ret_store_offset = ext.dev_offset;
        return 0;
}

int zuma_engine_snapshot_own_chunk(ZumaEngine *engine, guint32 id, guint64 offset, size_t length,
                                   guint64 *ret_store_offset, ZumaEngineFault *ret_fault)
{
        void *chunk = NULL;
        int r;

        fault_set(ret_fault, NULL, 0, NULL);
        if (posix_memalign(&chunk, 4096, length) != 0)
                return -ENOMEM;
        /* Rewriting the chunk with its own contents gives the snapshot its
         * private copy (ss_snapshot_write() places one before it writes a
         * chunk the snapshot shares), durable when the write returns. */
        zuma_engine_gate_shared(engine);
        g_mutex_lock(&engine->lock);
        r = engine->failed ? -EIO : ss_snapshot_read(engine->store, id, chunk, offset, length);
        if (r == 0)
                r = ss_snapshot_write(engine->store, id, chunk, offset, length);
        if (r == 0)
                r = chunk_store_offset(engine, id, offset, length, ret_store_offset);
        if (r == -EAGAIN) {
                fault_set(ret_fault, "snapshot write: the private copy is not one store extent",
                          -EIO, NULL);
                r = -EIO;
        } else if (r < 0 && r != -EROFS && r != -ENOENT && !engine->failed) {
                r = io_engine_failure(engine, r, "snapshot write", ret_fault);
        }
        g_mutex_unlock(&engine->lock);
        zuma_engine_ungate_shared(engine);
        free(chunk);
        return r;
}

/* A snapshot read the safe way: the map and the reads of its extents all
 * under lock, so nothing can change the extents in between. */
static int read_snapshot_locked(ZumaEngine *engine, guint32 id, void *buf, guint64 offset,
                                size_t length, ZumaEngineFault *fault)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = engine->failed ? -EIO : ss_snapshot_read(engine->store, id, buf, offset, length);
        if (r < 0 && !engine->failed)
                r = io_engine_failure(engine, r, "snapshot read", fault);
        g_mutex_unlock(&engine->lock);
        return r < 0 ? -EIO : 0;
}

/* Extents mapped per round of read_snapshot_unlocked(): 4 MiB of 16 KiB
 * chunks even if none of them are contiguous in the store, so a 1 MiB
 * request is one round and all its extents are in flight together. */
#define READ_EXTENTS_MAX 256

/* Reads a prefix of the range through extents mapped under lock and read
 * without it (zuma-engine.h says why that is safe).  Returns the bytes
 * read, 0 if the store changed meanwhile so the data may be stale (the
 * caller reads again under lock), or -EIO. */
static gssize read_snapshot_unlocked(ZumaEngine *engine, guint32 id, guint8 *buf, guint64 offset,
                                     size_t length, ZumaEngineFault *fault)
{
        SsExtent extents[READ_EXTENTS_MAX];
        guint64 changes;
        size_t done;
        int n, r;

        g_mutex_lock(&engine->lock);
        if (engine->failed) {
                g_mutex_unlock(&engine->lock);
                return -EIO;
        }
        changes = ss_store_changes(engine->store);
        n = ss_snapshot_map_read(engine->store, id, offset, length, extents, G_N_ELEMENTS(extents));
        if (n <= 0)
                io_engine_failure(engine, n < 0 ? n : -EIO, "snapshot read", fault);
        g_mutex_unlock(&engine->lock);
        if (n <= 0)
                return -EIO;

        /* Several extents in flight at once (snapstore/readpool.c). */
        r = ss_extents_read(engine->store, extents, (size_t)n, buf);
        done = (size_t)(extents[n - 1].offset + extents[n - 1].length - offset);
        /* A failed read of a stale extent is no error: the read is redone. */
        if (ss_store_changes(engine->store) != changes)
                return 0;
        if (r < 0) {
                /* The store's own sentence for it (ss_last_error() is per
                 * thread), handled as ss_snapshot_read()'s failure is. */
                g_mutex_lock(&engine->lock);
                if (!engine->failed)
                        io_engine_failure(engine, r, "snapshot read", fault);
                g_mutex_unlock(&engine->lock);
                return -EIO;
        }
        return (gssize)done;
}

int zuma_engine_snapshot_read(ZumaEngine *engine, guint32 id, void *buf, guint64 offset,
                              size_t length, ZumaEngineFault *ret_fault)
{
        guint8 *at = buf;

        fault_set(ret_fault, NULL, 0, NULL);
        while (length) {
                gssize n = read_snapshot_unlocked(engine, id, at, offset, length, ret_fault);

                if (n < 0)
                        return (int)n;
                if (n == 0) {
                        g_atomic_int_inc(&engine->snapshot_reads_redone);
                        return read_snapshot_locked(engine, id, at, offset, length, ret_fault);
                }
                g_atomic_int_inc(&engine->snapshot_reads_unlocked);
                at += n;
                offset += (guint64)n;
                length -= (size_t)n;
        }
        return 0;
}

/* --- replication streams --- */

/* The caller's callback, called with `lock` released (zuma-engine.h). */
typedef struct UnlockedCall {
        ZumaEngine *engine;
        SsStreamWriteFn write;
        SsStreamReadFn read;
        void *user;
} UnlockedCall;

static int write_unlocked(void *user, const void *buf, size_t len)
{
        UnlockedCall *call = user;
        int r;

        g_mutex_unlock(&call->engine->lock);
        r = call->write(call->user, buf, len);
        g_mutex_lock(&call->engine->lock);
        return r;
}

static int read_unlocked(void *user, void *buf, size_t len)
{
        UnlockedCall *call = user;
        int r;

        g_mutex_unlock(&call->engine->lock);
        r = call->read(call->user, buf, len);
        g_mutex_lock(&call->engine->lock);
        return r;
}

int zuma_engine_stream_send(ZumaEngine *engine, guint32 from, guint32 to,
                            const SsStreamSendOptions *options, SsStreamStats *ret_stats)
{
        UnlockedCall call = { .engine = engine, .write = options->write, .user = options->user };
        SsStreamSendOptions unlocked = *options;
        int r;

        unlocked.write = write_unlocked;
        unlocked.user = &call;
        g_mutex_lock(&engine->lock);
        r = engine->failed ? -EIO : ss_stream_send(engine->store, from, to, &unlocked, ret_stats);
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_stream_receive(ZumaEngine *engine, const SsStreamReceiveOptions *options,
                               SsStreamStats *ret_stats, SsSnapshotInfo *ret_info)
{
        UnlockedCall call = { .engine = engine, .read = options->read, .user = options->user };
        SsStreamReceiveOptions unlocked = *options;
        guint32 id = 0;
        int r;

        g_return_val_if_fail(g_atomic_int_get(&engine->origin_writes_refused), -EINVAL);
        unlocked.read = read_unlocked;
        unlocked.user = &call;
        g_mutex_lock(&engine->lock);
        r = engine->failed ? -EIO : ss_stream_receive(engine->store, &unlocked, ret_stats, &id);
        if (r == 0)
                r = ss_snapshot_get(engine->store, id, ret_info);
        g_mutex_unlock(&engine->lock);
        return r;
}

int zuma_engine_snapshot_digest(ZumaEngine *engine, guint32 id, SsStreamDigest *ret_digest)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = engine->failed ? -EIO : ss_snapshot_digest(engine->store, id, ret_digest);
        g_mutex_unlock(&engine->lock);
        return r;
}

void zuma_engine_refuse_origin_writes(ZumaEngine *engine, gboolean refuse)
{
        /* A caching frontend forgets what it knows, at the start (its
         * writes ask again, and are refused) and at the end (the stream
         * made a snapshot and rewrote origin chunks).  A failed barrier
         * was closed as a revert by the kernel: it forgot all the same. */
        int r = barrier_begin(engine, ZUMA_ENGINE_BARRIER_REVERT, 0);

        if (!refuse) {
                /* A received stream made a snapshot (zuma-copied-map.c). */
                zuma_copied_map_clear(engine->copied);
                g_atomic_int_set(&engine->origin_writes_refused, 0);
        } else {
                /* Exclusive: every origin write that passed the check has ended. */
                write_gate_check(pthread_rwlock_wrlock(&engine->write_gate), "exclusive lock");
                zuma_copied_map_clear(engine->copied);
                g_atomic_int_set(&engine->origin_writes_refused, 1);
                write_gate_check(pthread_rwlock_unlock(&engine->write_gate), "unlock");
        }
        if (r == 0)
                barrier_end(engine, ZUMA_ENGINE_BARRIER_REVERT, 0);
}

gboolean zuma_engine_origin_writes_refused(ZumaEngine *engine)
{
        return g_atomic_int_get(&engine->origin_writes_refused) != 0;
}
