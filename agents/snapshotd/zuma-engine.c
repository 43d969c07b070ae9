/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-engine"

#include "zuma-engine.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zuma-error.h"

gboolean zuma_engine_set_error(GError **error, int r, const char *what)
{
        zuma_error_set_errno(error, r, "%s: %s", what, ss_last_error());
        return FALSE;
}

/* Opens one device for the engine.  Block devices are opened with O_EXCL by
 * the blockdev layer; a regular file gets an exclusive flock() instead, held
 * by a second descriptor for as long as the engine runs. */
static gboolean open_device(const char *path, const char *role, unsigned flags,
                            SsBlockDev **ret_dev, int *ret_lock_fd, GError **error)
{
        struct stat st;
        int r, lock_fd = -1;

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
        r = ss_blockdev_open_file(path, flags | SS_BLOCKDEV_EXCLUSIVE, ret_dev);
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

/* The engine keeps the lock descriptors of regular files next to it. */
/* Events queued to the main context hold a reference, so one delivered
 * after zuma_engine_close() finds a closed engine instead of freed memory. */
typedef struct EnginePrivate {
        ZumaEngine engine;
        EngineLocks locks;
        gint refs;
        gboolean closed;
        gint damaged; /* atomic: zuma_engine_is_damaged() */
        char *damage; /* under lock: the first damage found */
} EnginePrivate;

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
        g_atomic_int_inc(&((EnginePrivate *)engine)->refs);
        return engine;
}

static void engine_unref(ZumaEngine *engine)
{
        EnginePrivate *priv = (EnginePrivate *)engine;

        if (!g_atomic_int_dec_and_test(&priv->refs))
                return;
        g_mutex_clear(&engine->lock);
        pthread_rwlock_destroy(&engine->write_gate);
        g_main_context_unref(engine->context);
        g_free(priv->damage);
        g_free(priv);
}

static gboolean engine_closed(ZumaEngine *engine)
{
        return ((EnginePrivate *)engine)->closed;
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

ZumaEngine *zuma_engine_open(const char *origin_path, const char *store_path,
                             const ZumaEngineCallbacks *callbacks, gpointer user, GError **error)
{
        return zuma_engine_open_flags(origin_path, store_path, 0, callbacks, user, NULL, error);
}

ZumaEngine *zuma_engine_open_flags(const char *origin_path, const char *store_path,
                                   unsigned open_flags, const ZumaEngineCallbacks *callbacks,
                                   gpointer user, int *ret_open_errno, GError **error)
{
        EnginePrivate *priv = g_new0(EnginePrivate, 1);
        ZumaEngine *engine = &priv->engine;
        SsStoreInfo info;
        int r;

        if (ret_open_errno)
                *ret_open_errno = 0;
        if (!open_both(origin_path, store_path, 0, &engine->origin_dev, &engine->store_dev,
                       &priv->locks, error)) {
                g_free(priv);
                return NULL;
        }
        priv->refs = 1;
        engine->context = g_main_context_ref_thread_default();
        if (callbacks)
                engine->callbacks = *callbacks;
        engine->user = user;
        g_mutex_init(&engine->lock);
        write_gate_init(&engine->write_gate);

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
        return engine;
}

gboolean zuma_engine_close(ZumaEngine *engine, GError **error)
{
        EnginePrivate *priv = (EnginePrivate *)engine;
        int r = 0;

        if (engine->store) {
                r = ss_store_close(engine->store);
                if (r < 0)
                        zuma_engine_set_error(error, r, "closing the store failed");
        }
        engine->store = NULL;
        close_devices(engine->origin_dev, engine->store_dev, &priv->locks);
        engine->origin_dev = engine->store_dev = NULL;
        priv->closed = TRUE;
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
        EnginePrivate *priv = (EnginePrivate *)engine;
        const char *what = ss_last_error();

        if (engine->failed || g_atomic_int_get(&priv->damaged))
                return;
        if (g_str_has_prefix(what, DAMAGED_PREFIX))
                what += strlen(DAMAGED_PREFIX);
        priv->damage = g_strdup(what[0] ? what : "metadata failed its checks");
        g_atomic_int_set(&priv->damaged, TRUE);
        raise_failure(engine, g_strdup_printf(DAMAGED_PREFIX "%s", priv->damage));
}

int zuma_engine_note_error(ZumaEngine *engine, int r)
{
        if (r == -EUCLEAN || r == -EILSEQ) {
                note_damage(engine);
                return r;
        }
        if ((r != -EIO && r != -EROFS) || engine->failed)
                return r;
        engine->failed = TRUE;
        raise_failure(engine, g_strdup_printf("the store failed an I/O (%s): %s", g_strerror(-r),
                                              ss_last_error()));
        return r;
}

gboolean zuma_engine_is_damaged(ZumaEngine *engine)
{
        return g_atomic_int_get(&((EnginePrivate *)engine)->damaged);
}

char *zuma_engine_dup_damage(ZumaEngine *engine)
{
        char *damage;

        g_mutex_lock(&engine->lock);
        damage = g_strdup(((EnginePrivate *)engine)->damage);
        g_mutex_unlock(&engine->lock);
        return damage;
}
