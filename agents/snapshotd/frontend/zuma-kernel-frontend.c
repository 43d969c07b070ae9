/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel data frontend of zuma-snapshotd: each started volume's origin
 * and attached snapshots are device-mapper devices of the `zumastor`
 * target (kernel/, docs/kernel-protocol.md), whose reads and writes stay
 * in the kernel; the server only answers where data lives and when a
 * copy-out is durable, through the volume's ZumaKernelSession.
 *
 *     /dev/mapper/zumastor-VOLUME         the origin
 *     /dev/mapper/zumastor-VOLUME@ID      snapshot ID
 *
 * with dm uuids ZUMASTOR-VOLUME_UUID-ID, from which udev/ rules make the
 * /dev/zumastor names.  The tables:
 *
 *     0 SECTORS zumastor origin   ORIGIN STORE CHUNK_SECTORS VOLUME
 *     0 SECTORS zumastor snapshot ORIGIN STORE CHUNK_SECTORS VOLUME ID
 *
 * loaded read-only for a read-only snapshot.  ORIGIN and STORE are the
 * devices the engine opened; the engine's own I/O (copy-outs, revert)
 * goes to them underneath the dm devices (dm holds them open exclusively
 * against other claimers, which the engine is not).
 *
 * Order.  add_volume opens the session (HELLO) and installs its barrier
 * on the engine before any device exists; remove_volume removes the
 * barrier and closes the session after the last device went.  Snapshot
 * create, delete and revert are bracketed by the engine itself
 * (zuma-engine.h, ZumaEngineBarrier).
 *
 * A server killed with I/O held: the devices stay, their held I/O waits
 * (up to the module's timeout), and the next server's add_volume opens a
 * new session, which the kernel hands the unanswered requests; attaching
 * an image whose device exists reloads its table and adopts it, so a
 * mounted origin survives the restart.
 *
 * Threads.  Every function runs on the main thread.  The dmsetup calls
 * wait for nothing of this server's (the session thread answers the held
 * I/O a table switch waits for), and run under a deadline
 * (zuma-dm-device.h).
 */
#define G_LOG_DOMAIN "zuma-frontend"

#include "zuma-kernel-frontend.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "zuma-dm-device.h"
#include "zuma-error.h"
#include "zuma-image-xattr.h"
#include "zuma-kernel-session.h"

#define CALL_TIMEOUT_MS_DEFAULT 20000

struct KernelFrontend {
        char *run_dir;
        GHashTable *volumes; /* name -> KernelVolume */
        guint timeout_ms;
};

typedef struct KernelVolume {
        char *name;
        char *uuid;
        ZumaEngine *engine;
        ZumaKernelSession *session;
        GHashTable *images; /* GUINT_TO_POINTER(id) -> KernelImage */
} KernelVolume;

typedef struct KernelImage {
        char *dm_name;
        char *device; /* /dev/dm-N */
        gboolean writable;
} KernelImage;

static void image_free(gpointer data)
{
        KernelImage *image = data;

        g_free(image->dm_name);
        g_free(image->device);
        g_free(image);
}

static void volume_free(gpointer data)
{
        KernelVolume *v = data;

        if (v->engine)
                zuma_engine_set_barrier(v->engine, NULL, NULL);
        zuma_kernel_session_free(v->session);
        g_hash_table_unref(v->images);
        g_free(v->name);
        g_free(v->uuid);
        g_free(v);
}

static char *names_path(const char *dm_name)
{
        return g_build_filename(ZUMA_DM_NAMES_DIR, dm_name, NULL);
}

/* Writes the names file udev's probe reads for device dm_name. */
static gboolean write_names(KernelVolume *v, guint32 id, const char *snapshot_name,
                            const char *dm_name, GError **error)
{
        g_autofree char *path = names_path(dm_name);
        g_autofree char *text = g_strdup_printf("%s\n%s\n%u\n%s\n", v->name, v->uuid, id,
                                                id == SS_ORIGIN_ID ? "" : snapshot_name);

        if (g_mkdir_with_parents(ZUMA_DM_NAMES_DIR, 0755) < 0) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED, "cannot create %s: %s",
                            ZUMA_DM_NAMES_DIR, g_strerror(errno));
                return FALSE;
        }
        return g_file_set_contents(path, text, -1, error);
}

/* Asks udev to read the device's names again. */
static void send_change(const char *device)
{
        g_autofree char *uevent =
                g_strdup_printf("/sys/class/block/%s/uevent", device + strlen("/dev/"));
        g_autoptr(GError) error = NULL;

        if (!g_file_set_contents_full(uevent, "change", -1, G_FILE_SET_CONTENTS_NONE, 0644, &error))
                g_warning("cannot signal udev about %s: %s", device, error->message);
}

static gboolean run_modprobe(void)
{
        const char *argv[] = { "modprobe", "-q", "dm-zumastor", NULL };
        int status = 0;

        return g_spawn_sync(NULL, (char **)argv, NULL,
                            G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                            NULL, NULL, NULL, NULL, &status, NULL) &&
               g_spawn_check_wait_status(status, NULL);
}

gboolean kernel_frontend_available(GError **error)
{
        if (!zuma_dm_present()) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED,
                                    "this kernel has no device-mapper");
                return FALSE;
        }
        if (access(ZUMA_KERNEL_CONTROL_PATH, F_OK) != 0 &&
            (!run_modprobe() || access(ZUMA_KERNEL_CONTROL_PATH, F_OK) != 0)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED,
                            "the dm-zumastor module is not loaded and modprobe cannot load it "
                            "(install it with dkms: kernel/dkms.conf); no %s",
                            ZUMA_KERNEL_CONTROL_PATH);
                return FALSE;
        }
        return TRUE;
}

KernelFrontend *kernel_frontend_new(const char *run_dir, GError **error)
{
        KernelFrontend *frontend;

        if (!kernel_frontend_available(error))
                return NULL;
        zuma_engine_share_block_devices(); /* dm claims them */
        frontend = g_new0(KernelFrontend, 1);
        frontend->run_dir = g_strdup(run_dir);
        frontend->volumes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, volume_free);
        frontend->timeout_ms = CALL_TIMEOUT_MS_DEFAULT;
        return frontend;
}

void kernel_frontend_set_timeout(KernelFrontend *frontend, guint timeout_ms)
{
        frontend->timeout_ms = timeout_ms;
}

static KernelVolume *find_volume(KernelFrontend *frontend, const char *volume, GError **error)
{
        KernelVolume *v = g_hash_table_lookup(frontend->volumes, volume);

        if (!v)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "volume %s is not served by the kernel frontend", volume);
        return v;
}

static char *image_dm_name(const char *volume, guint32 id)
{
        return id == SS_ORIGIN_ID ? g_strdup_printf("zumastor-%s", volume)
                                  : g_strdup_printf("zumastor-%s@%u", volume, id);
}

/* The table line of image id, or NULL (*error set). */
static char *image_table(KernelVolume *v, guint32 id, GError **error)
{
        guint64 chunk_sectors = zuma_engine_get_chunk_size(v->engine) / 512, size;
        const char *origin = zuma_engine_get_origin_path(v->engine);
        const char *store = zuma_engine_get_store_path(v->engine);

        if (id == SS_ORIGIN_ID) {
                zuma_engine_get_device_sizes(v->engine, &size, NULL);
                return g_strdup_printf("0 %" G_GUINT64_FORMAT
                                       " zumastor origin %s %s %" G_GUINT64_FORMAT " %s",
                                       size / 512, origin, store, chunk_sectors, v->name);
        }
        SsSnapshotInfo info;
        int r = zuma_engine_snapshot_get(v->engine, id, &info);
        if (r < 0) {
                zuma_engine_set_error(error, r, "cannot attach the snapshot");
                return NULL;
        }
        return g_strdup_printf("0 %" G_GUINT64_FORMAT " zumastor snapshot %s %s %" G_GUINT64_FORMAT
                               " %s %u",
                               info.origin_size / 512, origin, store, chunk_sectors, v->name, id);
}

gboolean kernel_frontend_add_volume(KernelFrontend *frontend, const char *volume,
                                    const char *volume_uuid, ZumaEngine *engine, GError **error)
{
        KernelVolume *v;
        ZumaKernelSession *session;

        if (g_hash_table_contains(frontend->volumes, volume)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ALREADY_EXISTS,
                            "volume %s is served already", volume);
                return FALSE;
        }
        session = zuma_kernel_session_new(ZUMA_KERNEL_CONTROL_PATH, volume, engine, error);
        if (!session)
                return FALSE;
        v = g_new0(KernelVolume, 1);
        v->name = g_strdup(volume);
        v->uuid = g_strdup(volume_uuid);
        v->engine = engine;
        v->session = session;
        v->images = g_hash_table_new_full(NULL, NULL, NULL, image_free);
        zuma_engine_set_barrier(engine, &zuma_kernel_session_barrier, session);
        g_hash_table_insert(frontend->volumes, v->name, v);
        return TRUE;
}

gboolean kernel_frontend_remove_volume(KernelFrontend *frontend, const char *volume, GError **error)
{
        KernelVolume *v = g_hash_table_lookup(frontend->volumes, volume);

        if (!v)
                return TRUE;
        if (g_hash_table_size(v->images) != 0) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY,
                            "volume %s still has %u attached devices", volume,
                            g_hash_table_size(v->images));
                return FALSE;
        }
        g_hash_table_remove(frontend->volumes, volume);
        return TRUE;
}

gboolean kernel_frontend_attach(KernelFrontend *frontend, const char *volume, guint32 id,
                                const char *snapshot_name, gboolean writable, char **ret_device,
                                GError **error)
{
        KernelVolume *v = find_volume(frontend, volume, error);
        g_autofree char *table = NULL, *dm_name = NULL, *uuid = NULL, *device = NULL;
        gboolean read_only = id != SS_ORIGIN_ID && !writable;
        KernelImage *image;
        g_autoptr(GError) create_error = NULL;

        if (!v)
                return FALSE;
        image = g_hash_table_lookup(v->images, GUINT_TO_POINTER(id));
        if (image) {
                *ret_device = g_strdup(image->device);
                return TRUE;
        }
        if (!(table = image_table(v, id, error)))
                return FALSE;
        dm_name = image_dm_name(volume, id);
        uuid = g_strdup_printf("%s%s-%u", ZUMA_DM_UUID_PREFIX, v->uuid, id);
        if (!write_names(v, id, snapshot_name, dm_name, error))
                return FALSE;
        if (!zuma_dm_create(dm_name, uuid, table, read_only, frontend->timeout_ms, &device,
                            &create_error)) {
                /* A device a killed server left: adopt it with our table. */
                if (!zuma_dm_reload(dm_name, table, read_only, frontend->timeout_ms, &device,
                                    NULL)) {
                        g_propagate_error(error, g_steal_pointer(&create_error));
                        g_prefix_error(error, "cannot attach %s: ", dm_name);
                        return FALSE;
                }
        }
        image = g_new0(KernelImage, 1);
        image->dm_name = g_steal_pointer(&dm_name);
        image->device = g_strdup(device);
        image->writable = !read_only;
        g_hash_table_insert(v->images, GUINT_TO_POINTER(id), image);
        g_message("volume %s: %s attached as %s (%s)", volume,
                  id == SS_ORIGIN_ID ? "the origin" : snapshot_name, image->dm_name, device);
        *ret_device = g_steal_pointer(&device);
        return TRUE;
}

static KernelImage *find_image(KernelFrontend *frontend, const char *volume, guint32 id)
{
        KernelVolume *v = g_hash_table_lookup(frontend->volumes, volume);

        return v ? g_hash_table_lookup(v->images, GUINT_TO_POINTER(id)) : NULL;
}

gboolean kernel_frontend_is_busy(KernelFrontend *frontend, const char *volume, guint32 id)
{
        KernelImage *image = find_image(frontend, volume, id);
        int fd;

        if (!image)
                return FALSE;
        fd = open(image->device, O_RDONLY | O_EXCL | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return errno == EBUSY;
        close(fd);
        return FALSE;
}

gboolean kernel_frontend_detach(KernelFrontend *frontend, const char *volume, guint32 id,
                                gboolean force, GError **error)
{
        KernelVolume *v = g_hash_table_lookup(frontend->volumes, volume);
        KernelImage *image = v ? g_hash_table_lookup(v->images, GUINT_TO_POINTER(id)) : NULL;

        if (!image)
                return TRUE;
        if (!force && kernel_frontend_is_busy(frontend, volume, id)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY, "%s is in use (mounted?)",
                            image->device);
                return FALSE;
        }
        if (!zuma_dm_remove(image->dm_name, force, frontend->timeout_ms, error))
                return FALSE;
        g_autofree char *names = names_path(image->dm_name);
        unlink(names);
        g_hash_table_remove(v->images, GUINT_TO_POINTER(id));
        return TRUE;
}

gboolean kernel_frontend_set_size(KernelFrontend *frontend, const char *volume, guint32 id,
                                  guint64 size, GError **error)
{
        if (!find_image(frontend, volume, id))
                return TRUE;
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED,
                    "the zumastor target cannot grow a live origin: stop and start volume %s "
                    "to serve its new size",
                    volume);
        return FALSE;
}

gboolean kernel_frontend_update(KernelFrontend *frontend, const char *volume, guint32 id,
                                const char *snapshot_name, gboolean writable, GError **error)
{
        KernelVolume *v = g_hash_table_lookup(frontend->volumes, volume);
        KernelImage *image = v ? g_hash_table_lookup(v->images, GUINT_TO_POINTER(id)) : NULL;
        g_autofree char *table = NULL;

        if (!image || id == SS_ORIGIN_ID)
                return TRUE;
        if (!write_names(v, id, snapshot_name, image->dm_name, error))
                return FALSE;
        send_change(image->device);
        if (image->writable == writable)
                return TRUE;
        if (!(table = image_table(v, id, error)) ||
            !zuma_dm_reload(image->dm_name, table, !writable, frontend->timeout_ms, NULL, error))
                return FALSE;
        image->writable = writable;
        return TRUE;
}

void kernel_frontend_free(KernelFrontend *frontend)
{
        GHashTableIter iter;
        KernelVolume *v;

        g_hash_table_iter_init(&iter, frontend->volumes);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&v)) {
                GHashTableIter images;
                KernelImage *image;
                g_autoptr(GError) error = NULL;

                g_hash_table_iter_init(&images, v->images);
                while (g_hash_table_iter_next(&images, NULL, (gpointer *)&image)) {
                        g_autofree char *names = names_path(image->dm_name);

                        if (!zuma_dm_remove(image->dm_name, TRUE, frontend->timeout_ms, &error)) {
                                g_warning("%s", error->message);
                                g_clear_error(&error);
                        }
                        unlink(names);
                }
        }
        g_hash_table_unref(frontend->volumes);
        g_free(frontend->run_dir);
        g_free(frontend);
}
