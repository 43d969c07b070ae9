/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The FUSE data frontend of zuma-snapshotd.
 *
 * Shape.  One FUSE file system, mounted by this library on RUN_DIR/fuse,
 * serves every started volume:
 *
 *     RUN_DIR/fuse/VOLUME/origin    the volume (snapshot id 0)
 *     RUN_DIR/fuse/VOLUME/ID        snapshot ID, once it was attached
 *
 * Each attached image gets a loop device on its file (LOOP_CONFIGURE:
 * direct I/O, read-only for read-only snapshots, autoclear), and udev
 * names it: the files carry user.zumastor.* xattrs, which
 * udev/zuma-udev-probe reads through /sys/block/loopN/loop/backing_file to
 * set ZUMASTOR_* properties, from which udev/60-zumastor.rules makes
 * /dev/zumastor/VOLUME[@SNAPSHOT] and /dev/zumastor/by-id/UUID[-ID].  After
 * a detach the file stays served until the volume is removed.
 *
 * Threads.  The bus side calls the functions of zuma-frontend.h on the main
 * thread; each runs on the kernel-call thread (zuma-kernel-call.h) while
 * the main thread waits for it up to a deadline, so FuseFrontend's own
 * state (the images' loop devices) belongs to that one thread.  The file
 * system is served by libfuse's multi-threaded loop (fuse_session_loop_mt
 * on a GThread owned here, up to 24 workers, 8 of them kept for
 * synchronous requests (zuma-fuse-server.c), each with its own /dev/fuse
 * clone, kept once started), because a single-threaded passthrough was
 * measured at ~0.23x of a plain loop device: the loop device submits
 * asynchronous direct I/O of up to 1 MiB, and reads of the origin, writes
 * to different chunks and the engine's own device I/O overlap only when
 * several requests are served at once.  (Measured on 2 cores against a
 * direct-I/O loop device on a file in the same directory: ~0.78x for
 * sequential 1 MiB O_DIRECT dd, ~0.93x at queue depth 4, ~0.56x for 4 KiB
 * random I/O at queue depth 16, where the FUSE round trip dominates.)
 *
 * The written contract for how they share the engine (zuma-engine.h is the
 * binding part; this is how the frontend follows it):
 *
 *  - FUSE threads never call into the main thread and never wait for it;
 *    they hold, for the length of one request, the served volume's
 *    io_gate (shared), and inside it call the engine's data-path
 *    operations (zuma_engine_origin_write, _snapshot_read, ...), which
 *    take the engine's write_gate and lock themselves, in the engine's
 *    order, and release them before they return.  The image table's mutex
 *    is taken alone, for map lookups only, and never together with those.
 *  - The engine records its own errors (zuma_engine_note_error); they
 *    reach the kernel as EIO, a full store under the refuse policy as
 *    ENOSPC.
 *  - The bus side never calls into the frontend while it holds an engine
 *    lock (remove_volume waits for running requests, which may need them).
 *  - THE RULE: the server never waits on a request that only it can
 *    answer without a worker free to answer it and a deadline.  Opening an
 *    image file, LOOP_CONFIGURE (statfs), closing or clearing a loop
 *    device and writing a uevent all make the kernel send FUSE requests
 *    (lookup, open, getattr, statfs, release, and udev's getxattr from its
 *    probe).  So: (1) they run on the kernel-call thread, never the main
 *    thread, which waits at most the frontend's timeout and answers
 *    TimedOut past it; (2) that thread holds no lock across them (its
 *    engine calls, zuma_engine_info and _snapshot_get, come before); (3)
 *    the FUSE server keeps workers that background requests (the data
 *    path) can never occupy, and none of those requests' handlers waits
 *    for an engine lock (FLUSH does nothing; FSYNC waits for the devices).
 *    tests/e2e/test-frontend-busy.sh holds every data worker on a frozen
 *    device and checks each part.
 *  - The main thread's periodic work (property refresh, cleanup) only
 *    tries the engine's lock (zuma_engine_try_info, _try_cleanup_step):
 *    workers hold it across copy-outs, which wait for the store.
 *  - Fields of ZumaImage that only the kernel-call thread touches (the
 *    loop device) need no lock; those the workers read are atomics (size,
 *    writable, epochs) or under the table mutex (the snapshot name).
 *  - A forced detach sets the image's dead_epoch to its current attachment
 *    generation: every file opened during that attachment (the loop
 *    device's) fails each further request with EIO, while a later attach
 *    opens the file in a new generation.  A failed engine fails every
 *    request too.  remove_volume takes io_gate exclusively to clear the
 *    engine pointer, so no request outlives the volume's engine, and files
 *    still open then (a forcibly detached device still mounted) get EIO.
 *  - fuse_frontend_free waits for the kernel-call thread (aborting the
 *    FUSE connection through fusectl if a call is still stuck after the
 *    timeout, so the server can always exit), detaches everything
 *    forcibly (flushing the engines), then stops the loop (a reserved lookup, whose worker calls
 *    fuse_session_exit), joins the thread and unmounts.
 *
 * Recovery.  fuse_frontend_new refuses a run directory whose mount still
 * answers (another server), detaches the loop devices a killed predecessor
 * left on RUN_DIR/fuse, lazily unmounts its dead mount, and mounts afresh.
 */
#define G_LOG_DOMAIN "zuma-frontend"

#include "zuma-fuse-frontend.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "zuma-error.h"
#include "zuma-fuse-server.h"
#include "zuma-image-table.h"
#include "zuma-kernel-call.h"
#include "zuma-loop-device.h"
#include "zuma-name-rule.h"

#define UUID_TEXT_MAX 64
#define CALL_TIMEOUT_MS_DEFAULT 20000

struct FuseFrontend {
        char *run_dir;
        char *mount_dir;
        ZumaImageTable *table;
        ZumaFuseServer *server;
        ZumaKernelCaller *caller; /* every call below runs on its thread */
        guint timeout_ms;
};

static gboolean uuid_text_valid(const char *uuid)
{
        size_t length = strlen(uuid);

        if (length == 0 || length > UUID_TEXT_MAX)
                return FALSE;
        for (const char *p = uuid; *p; p++)
                if (!g_ascii_isxdigit(*p) && *p != '-')
                        return FALSE;
        return TRUE;
}

/* A short phrase naming an image, for messages. */
static char *describe_image(const char *volume, guint32 id, const char *snapshot_name)
{
        if (id == 0)
                return g_strdup_printf("the origin of volume %s", volume);
        if (snapshot_name && *snapshot_name)
                return g_strdup_printf("snapshot %s (id %" G_GUINT32_FORMAT ") of volume %s",
                                       snapshot_name, id, volume);
        return g_strdup_printf("snapshot %" G_GUINT32_FORMAT " of volume %s", id, volume);
}

static ZumaServedVolume *find_volume(FuseFrontend *frontend, const char *volume, GError **error)
{
        ZumaServedVolume *found = zuma_image_table_find_volume(frontend->table, volume);

        if (!found)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "volume %s is not started (unknown to the data frontend)", volume);
        return found;
}

static char *image_file_path(FuseFrontend *frontend, ZumaServedVolume *volume, guint32 id)
{
        g_autofree char *file = zuma_image_file_name(id);

        return g_build_filename(frontend->mount_dir, volume->name, file, NULL);
}

/* Detaches one attached image; the image stays served. */
static gboolean detach_image(ZumaImage *image, gboolean force, GError **error)
{
        g_autofree char *device = g_strdup(zuma_loop_device_get_path(image->loop));

        if (force)
                g_atomic_int_set(&image->dead_epoch, g_atomic_int_get(&image->epoch));
        if (!zuma_loop_device_detach(image->loop, force, error))
                return FALSE;
        image->loop = NULL;
        /* The device's own flush on release fails once the image is dead:
         * make what it wrote durable here instead. */
        if (force && zuma_engine_flush(image->volume->engine) < 0)
                g_warning("volume %s: flushing after the forced detach of %s failed",
                          image->volume->name, device);
        g_message("volume %s: image %" G_GUINT32_FORMAT " detached from %s%s", image->volume->name,
                  image->id, device, force ? " (forced)" : "");
        return TRUE;
}

FuseFrontend *fuse_frontend_new(const char *run_dir, GError **error)
{
        g_autofree char *mount_dir = g_build_filename(run_dir, "fuse", NULL);
        FuseFrontend *frontend;
        guint stale;

        if (g_mkdir_with_parents(run_dir, 0755) < 0) {
                zuma_error_set_errno(error, -errno, "cannot create the run directory %s: %s",
                                     run_dir, g_strerror(errno));
                return NULL;
        }
        if (!zuma_fuse_server_check_mount(mount_dir, error))
                return NULL;
        stale = zuma_loop_device_clear_stale(mount_dir);
        if (stale > 0)
                g_debug("detached %u loop device(s) a previous server left on %s", stale,
                        mount_dir);
        if (!zuma_fuse_server_clear_stale_mount(mount_dir, error))
                return NULL;
        if (g_mkdir_with_parents(mount_dir, 0755) < 0) {
                zuma_error_set_errno(error, -errno, "cannot create %s: %s", mount_dir,
                                     g_strerror(errno));
                return NULL;
        }
        frontend = g_new0(FuseFrontend, 1);
        frontend->run_dir = g_strdup(run_dir);
        frontend->mount_dir = g_steal_pointer(&mount_dir);
        frontend->table = zuma_image_table_new();
        frontend->timeout_ms = CALL_TIMEOUT_MS_DEFAULT;
        frontend->server = zuma_fuse_server_start(frontend->mount_dir, frontend->table, error);
        if (!frontend->server) {
                zuma_image_table_free(frontend->table);
                g_free(frontend->mount_dir);
                g_free(frontend->run_dir);
                g_free(frontend);
                return NULL;
        }
        frontend->caller = zuma_kernel_caller_new();
        return frontend;
}

void fuse_frontend_set_timeout(FuseFrontend *frontend, guint timeout_ms)
{
        frontend->timeout_ms = MAX(timeout_ms, 1u);
}

void fuse_frontend_free(FuseFrontend *frontend)
{
        g_autoptr(GPtrArray) volumes = NULL;

        if (!frontend)
                return;
        /* A call the kernel keeps waiting on our own file system would keep
         * the server from ever exiting: abort the connection, which fails
         * what it waits for. */
        if (!zuma_kernel_caller_drain(frontend->caller, frontend->timeout_ms) &&
            zuma_fuse_server_abort(frontend->server))
                zuma_kernel_caller_drain(frontend->caller, ZUMA_KERNEL_CALL_FOREVER);
        zuma_kernel_caller_free(frontend->caller);
        /* No call runs any more: the images are this thread's now. */
        volumes = zuma_image_table_list_volumes(frontend->table);
        for (guint i = 0; i < volumes->len; i++) {
                g_autoptr(GPtrArray) images =
                        zuma_image_table_list_images(frontend->table, volumes->pdata[i]);

                for (guint j = 0; j < images->len; j++) {
                        ZumaImage *image = images->pdata[j];

                        if (image->loop)
                                detach_image(image, TRUE, NULL);
                }
        }
        zuma_fuse_server_stop(frontend->server);
        zuma_image_table_free(frontend->table);
        g_free(frontend->mount_dir);
        g_free(frontend->run_dir);
        g_free(frontend);
}

static gboolean do_add_volume(FuseFrontend *frontend, const char *volume, const char *volume_uuid,
                              ZumaEngine *engine, GError **error)
{
        g_autoptr(ZumaServedVolume) added = NULL;
        g_autoptr(ZumaImage) origin = NULL;
        SsStoreInfo info;
        int r;

        if (!zuma_volume_name_valid(volume)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "invalid volume name '%s' for the data frontend", volume);
                return FALSE;
        }
        if (!uuid_text_valid(volume_uuid)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "volume %s: invalid volume UUID '%s'", volume, volume_uuid);
                return FALSE;
        }
        r = zuma_engine_info(engine, &info);
        if (r < 0) {
                g_autofree char *what = g_strdup_printf("volume %s", volume);

                return zuma_engine_set_error(error, r, what);
        }
        added = zuma_image_table_add_volume(frontend->table, volume, volume_uuid, engine, error);
        if (!added)
                return FALSE;
        origin =
                zuma_image_table_add_image(frontend->table, added, 0, info.origin_size, NULL, TRUE);
        g_debug("volume %s (%s) served, origin %" G_GUINT64_FORMAT " bytes", volume, volume_uuid,
                info.origin_size);
        return TRUE;
}

static gboolean do_remove_volume(FuseFrontend *frontend, const char *volume, GError **error)
{
        g_autoptr(ZumaServedVolume) found = find_volume(frontend, volume, error);
        g_autoptr(GPtrArray) images = NULL;

        if (!found)
                return FALSE;
        images = zuma_image_table_list_images(frontend->table, found);
        for (guint i = 0; i < images->len; i++) {
                ZumaImage *image = images->pdata[i];

                if (image->loop) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                                    "volume %s: image %" G_GUINT32_FORMAT
                                    " is still attached to %s",
                                    volume, image->id, zuma_loop_device_get_path(image->loop));
                        return FALSE;
                }
        }
        zuma_image_table_remove_volume(frontend->table, found);
        g_debug("volume %s no longer served", volume);
        return TRUE;
}

/* Size (and, for a snapshot, name and writability) of an image, from the
 * engine. */
static gboolean query_image(ZumaServedVolume *volume, guint32 id, gboolean writable,
                            guint64 *ret_size, char **ret_name, GError **error)
{
        ZumaEngine *engine = volume->engine;
        g_autofree char *what = describe_image(volume->name, id, NULL);
        SsSnapshotInfo snapshot;
        SsStoreInfo info;
        int r;

        if (id == 0) {
                r = zuma_engine_info(engine, &info);
                snapshot.origin_size = info.origin_size;
                snapshot.flags = SS_SNAP_WRITABLE;
                snapshot.name[0] = '\0';
        } else {
                r = zuma_engine_snapshot_get(engine, id, &snapshot);
        }
        if (r < 0)
                return zuma_engine_set_error(error, r, what);
        if (writable && !(snapshot.flags & SS_SNAP_WRITABLE)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_READ_ONLY,
                            "%s is read-only; it cannot be attached writable", what);
                return FALSE;
        }
        *ret_size = snapshot.origin_size;
        *ret_name = g_strdup(snapshot.name);
        return TRUE;
}

static gboolean do_attach(FuseFrontend *frontend, const char *volume, guint32 id,
                          const char *snapshot_name, gboolean writable, char **ret_device,
                          GError **error)
{
        g_autoptr(ZumaServedVolume) found = find_volume(frontend, volume, error);
        g_autoptr(ZumaImage) image = NULL;
        g_autofree char *stored_name = NULL;
        g_autofree char *path = NULL;
        g_autofree char *what = NULL;
        ZumaLoopDevice *loop;
        guint64 size;

        if (!found)
                return FALSE;
        if (id == 0)
                writable = TRUE;
        image = zuma_image_table_find_image(frontend->table, found, id);
        if (image && image->loop) {
                *ret_device = g_strdup(zuma_loop_device_get_path(image->loop));
                return TRUE;
        }
        if (!query_image(found, id, id != 0 && writable, &size, &stored_name, error))
                return FALSE;
        if (!snapshot_name || !*snapshot_name)
                snapshot_name = stored_name;
        if (id != 0 && !zuma_snapshot_name_valid(snapshot_name)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "volume %s: invalid snapshot name '%s'", volume, snapshot_name);
                return FALSE;
        }
        what = describe_image(volume, id, snapshot_name);
        if (image) {
                zuma_image_set_size(image, size);
                zuma_image_table_set_snapshot_name(frontend->table, image, snapshot_name);
                g_atomic_int_set(&image->writable, writable);
        } else {
                image = zuma_image_table_add_image(frontend->table, found, id, size, snapshot_name,
                                                   writable);
        }
        /* Files opened from now on belong to the new attachment. */
        g_atomic_int_inc(&image->epoch);
        path = image_file_path(frontend, found, id);
        loop = zuma_loop_device_attach(path, !writable, error);
        if (!loop) {
                g_prefix_error(error, "%s: ", what);
                return FALSE;
        }
        image->loop = loop;
        *ret_device = g_strdup(zuma_loop_device_get_path(loop));
        g_message("%s attached to %s%s", what, *ret_device, writable ? "" : " (read-only)");
        return TRUE;
}

static gboolean do_is_busy(FuseFrontend *frontend, const char *volume, guint32 id)
{
        g_autoptr(ZumaServedVolume) found = zuma_image_table_find_volume(frontend->table, volume);
        g_autoptr(ZumaImage) image = NULL;

        if (!found)
                return FALSE;
        image = zuma_image_table_find_image(frontend->table, found, id);
        return image && image->loop && zuma_loop_device_is_busy(image->loop);
}

static gboolean do_detach(FuseFrontend *frontend, const char *volume, guint32 id, gboolean force,
                          GError **error)
{
        g_autoptr(ZumaServedVolume) found = zuma_image_table_find_volume(frontend->table, volume);
        g_autoptr(ZumaImage) image = NULL;
        g_autofree char *what = NULL;

        if (found)
                image = zuma_image_table_find_image(frontend->table, found, id);
        if (!image || !image->loop)
                return TRUE;
        if (detach_image(image, force, error))
                return TRUE;
        what = describe_image(volume, id, image->snapshot_name);
        g_prefix_error(error, "cannot detach %s: ", what);
        return FALSE;
}

/* The kernel keeps the size of a FUSE file in its inode, and a loop
 * device sizes itself from the file: a forced getattr (answered by a
 * worker; no lock is held here) makes the inode take the image's new size
 * first, then LOOP_SET_CAPACITY makes the device follow. */
static gboolean do_set_size(FuseFrontend *frontend, const char *volume, guint32 id, guint64 size,
                            GError **error)
{
        g_autoptr(ZumaServedVolume) found = find_volume(frontend, volume, error);
        g_autoptr(ZumaImage) image = NULL;
        g_autofree char *path = NULL;
        g_autofree char *what = NULL;
        struct statx stx;
        guint64 device_size;

        if (!found)
                return FALSE;
        image = zuma_image_table_find_image(frontend->table, found, id);
        if (!image)
                return TRUE; /* never attached: the next attach reads the size afresh */
        zuma_image_set_size(image, size);
        if (!image->loop)
                return TRUE;
        what = describe_image(volume, id, NULL);
        path = image_file_path(frontend, found, id);
        if (statx(AT_FDCWD, path, AT_STATX_FORCE_SYNC, STATX_SIZE, &stx) < 0) {
                int e = errno;

                zuma_error_set_errno(error, -e, "%s: cannot refresh the size of %s: %s", what, path,
                                     g_strerror(e));
                return FALSE;
        }
        if (!zuma_loop_device_refresh_capacity(image->loop, &device_size, error)) {
                g_prefix_error(error, "%s: ", what);
                return FALSE;
        }
        if (device_size != size) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                            "%s: device %s is %" G_GUINT64_FORMAT
                            " bytes after the resize, not %" G_GUINT64_FORMAT,
                            what, zuma_loop_device_get_path(image->loop), device_size, size);
                return FALSE;
        }
        g_message("%s: device %s resized to %" G_GUINT64_FORMAT " bytes", what,
                  zuma_loop_device_get_path(image->loop), size);
        return TRUE;
}

static gboolean do_update(FuseFrontend *frontend, const char *volume, guint32 id,
                          const char *snapshot_name, gboolean writable, GError **error)
{
        g_autoptr(ZumaServedVolume) found = find_volume(frontend, volume, error);
        g_autoptr(ZumaImage) image = NULL;
        gboolean was_writable;

        if (!found)
                return FALSE;
        if (id != 0 && snapshot_name && !zuma_snapshot_name_valid(snapshot_name)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "volume %s: invalid snapshot name '%s'", volume, snapshot_name);
                return FALSE;
        }
        image = zuma_image_table_find_image(frontend->table, found, id);
        if (!image || id == 0)
                return TRUE; /* never attached: the next attach reads everything afresh */
        if (snapshot_name)
                zuma_image_table_set_snapshot_name(frontend->table, image, snapshot_name);
        was_writable = g_atomic_int_get(&image->writable);
        g_atomic_int_set(&image->writable, writable);
        if (!image->loop)
                return TRUE;
        if (was_writable && !writable) {
                if (!zuma_loop_device_set_read_only(image->loop, TRUE, error))
                        return FALSE;
        } else if (!was_writable && writable) {
                g_message("volume %s: %s stays read-only until it is detached and attached "
                          "again",
                          volume, zuma_loop_device_get_path(image->loop));
        }
        return zuma_loop_device_trigger_change(image->loop, error);
}

/* ---- the public calls: each runs on the kernel-call thread ---- */

/* The arguments and answers of one call.  Shared: a call that outlives
 * its deadline must not point into the caller's stack, and the caller
 * reads the answer only when the call ended in time (it returned TRUE). */
typedef struct FrontendCall {
        gint refs;
        FuseFrontend *frontend;
        char *volume;
        char *volume_uuid;
        ZumaEngine *engine;
        guint32 id;
        char *snapshot_name;
        guint64 size;
        gboolean writable;
        gboolean force;
        gboolean busy; /* is_busy's answer */
        char *device;  /* attach's answer */
} FrontendCall;

static void frontend_call_unref(gpointer data)
{
        FrontendCall *call = data;

        if (!g_atomic_int_dec_and_test(&call->refs))
                return;
        g_free(call->volume);
        g_free(call->volume_uuid);
        g_free(call->snapshot_name);
        g_free(call->device);
        g_free(call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FrontendCall, frontend_call_unref)

static FrontendCall *frontend_call_new(FuseFrontend *frontend, const char *volume, guint32 id,
                                       const char *snapshot_name)
{
        FrontendCall *call = g_new0(FrontendCall, 1);

        call->refs = 1;
        call->frontend = frontend;
        call->volume = g_strdup(volume);
        call->id = id;
        call->snapshot_name = g_strdup(snapshot_name);
        return call;
}

/* Runs func on the kernel-call thread (it gets a reference of its own) and
 * waits up to timeout_ms. */
static gboolean frontend_run(ZumaKernelCallFunc func, FrontendCall *call, guint timeout_ms,
                             const char *verb, GError **error)
{
        g_autofree char *image = describe_image(call->volume, call->id, call->snapshot_name);
        g_autofree char *what = g_strdup_printf("%s %s", verb, image);

        g_atomic_int_inc(&call->refs);
        return zuma_kernel_caller_run(call->frontend->caller, what, timeout_ms, func, call,
                                      frontend_call_unref, error);
}

static gboolean call_add_volume(gpointer data, GError **error)
{
        FrontendCall *c = data;

        return do_add_volume(c->frontend, c->volume, c->volume_uuid, c->engine, error);
}

gboolean fuse_frontend_add_volume(FuseFrontend *frontend, const char *volume,
                                  const char *volume_uuid, ZumaEngine *engine, GError **error)
{
        g_autoptr(FrontendCall) call = frontend_call_new(frontend, volume, SS_ORIGIN_ID, NULL);

        call->volume_uuid = g_strdup(volume_uuid);
        call->engine = engine;
        /* No deadline: the caller must not close the engine while a call
         * that got it may still run. */
        return frontend_run(call_add_volume, call, ZUMA_KERNEL_CALL_FOREVER, "serving", error);
}

static gboolean call_remove_volume(gpointer data, GError **error)
{
        FrontendCall *c = data;

        return do_remove_volume(c->frontend, c->volume, error);
}

gboolean fuse_frontend_remove_volume(FuseFrontend *frontend, const char *volume, GError **error)
{
        g_autoptr(FrontendCall) call = frontend_call_new(frontend, volume, SS_ORIGIN_ID, NULL);

        /* No deadline either: the engine is closed after it.  It waits for
         * the volume's running requests, which wait for its devices only,
         * and for the calls queued before it. */
        return frontend_run(call_remove_volume, call, ZUMA_KERNEL_CALL_FOREVER, "no longer serving",
                            error);
}

static gboolean call_attach(gpointer data, GError **error)
{
        FrontendCall *c = data;

        return do_attach(c->frontend, c->volume, c->id, c->snapshot_name, c->writable, &c->device,
                         error);
}

gboolean fuse_frontend_attach(FuseFrontend *frontend, const char *volume, guint32 id,
                              const char *snapshot_name, gboolean writable, char **ret_device,
                              GError **error)
{
        g_autoptr(FrontendCall) call = frontend_call_new(frontend, volume, id, snapshot_name);

        call->writable = writable;
        if (!frontend_run(call_attach, call, frontend->timeout_ms, "attaching", error))
                return FALSE;
        *ret_device = g_steal_pointer(&call->device);
        return TRUE;
}

static gboolean call_is_busy(gpointer data, GError **error)
{
        FrontendCall *c = data;

        c->busy = do_is_busy(c->frontend, c->volume, c->id);
        return TRUE;
}

gboolean fuse_frontend_is_busy(FuseFrontend *frontend, const char *volume, guint32 id)
{
        g_autoptr(FrontendCall) call = frontend_call_new(frontend, volume, id, NULL);
        g_autoptr(GError) error = NULL;

        /* Unknown counts as busy: nothing is torn down on a guess. */
        if (!frontend_run(call_is_busy, call, frontend->timeout_ms, "checking", &error))
                return TRUE;
        return call->busy;
}

static gboolean call_detach(gpointer data, GError **error)
{
        FrontendCall *c = data;

        return do_detach(c->frontend, c->volume, c->id, c->force, error);
}

gboolean fuse_frontend_detach(FuseFrontend *frontend, const char *volume, guint32 id,
                              gboolean force, GError **error)
{
        g_autoptr(FrontendCall) call = frontend_call_new(frontend, volume, id, NULL);

        call->force = force;
        return frontend_run(call_detach, call, frontend->timeout_ms, "detaching", error);
}

static gboolean call_set_size(gpointer data, GError **error)
{
        FrontendCall *c = data;

        return do_set_size(c->frontend, c->volume, c->id, c->size, error);
}

gboolean fuse_frontend_set_size(FuseFrontend *frontend, const char *volume, guint32 id,
                                guint64 size, GError **error)
{
        g_autoptr(FrontendCall) call = frontend_call_new(frontend, volume, id, NULL);

        call->size = size;
        return frontend_run(call_set_size, call, frontend->timeout_ms, "resizing", error);
}

static gboolean call_update(gpointer data, GError **error)
{
        FrontendCall *c = data;

        return do_update(c->frontend, c->volume, c->id, c->snapshot_name, c->writable, error);
}

gboolean fuse_frontend_update(FuseFrontend *frontend, const char *volume, guint32 id,
                              const char *snapshot_name, gboolean writable, GError **error)
{
        g_autoptr(FrontendCall) call = frontend_call_new(frontend, volume, id, snapshot_name);

        call->writable = writable;
        return frontend_run(call_update, call, frontend->timeout_ms, "updating", error);
}
