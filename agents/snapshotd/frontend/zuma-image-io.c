/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine works in whole 512-byte sectors on buffers aligned for
 * O_DIRECT.  The kernel's requests (a loop device sends whole sectors, a
 * shell's `cat` does not) are copied once into a page-aligned buffer of the
 * calling FUSE thread; the edge sectors of an unaligned write are read
 * first (read-modify-write).  Reads land in that buffer and go to the
 * kernel from there.
 *
 * Locking, per the contract in zuma-engine.h:
 *   origin read      no engine lock; ss_dev_pread on origin_dev
 *   origin write     write_gate shared { lock { prepare_write } ; pwrite }
 *   snapshot read    lock { map, count } ; ss_dev_pread each extent ;
 *                    count unchanged, or else lock { ss_snapshot_read }
 *   snapshot write   write_gate shared { lock { ss_snapshot_write } }
 *   flush            zuma_engine_flush, no lock
 * and around all of them the volume's io_gate shared, so that removing the
 * volume waits for running requests and fails later ones.
 */
#define G_LOG_DOMAIN "zuma-frontend"

#include "zuma-image-io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512u
#define ERRORS_LOGGED_MAX 8

typedef struct IoBuffer {
        void *data;
        size_t size;
} IoBuffer;

static void io_buffer_free(gpointer data)
{
        IoBuffer *buffer = data;

        free(buffer->data);
        g_free(buffer);
}

/* One aligned buffer per FUSE thread, grown on demand, freed when the
 * thread ends. */
static GPrivate io_buffer_key = G_PRIVATE_INIT(io_buffer_free);

static void *thread_buffer(size_t size)
{
        IoBuffer *buffer = g_private_get(&io_buffer_key);

        if (!buffer) {
                buffer = g_new0(IoBuffer, 1);
                g_private_set(&io_buffer_key, buffer);
        }
        if (buffer->size < size) {
                size_t want = MAX(size, (size_t)ZUMA_IMAGE_IO_MAX + 2 * SS_IO_ALIGN);

                free(buffer->data);
                buffer->data = ss_alloc_io_buffer(want);
                buffer->size = buffer->data ? want : 0;
        }
        return buffer->data;
}

/* Shared, never written after it was set up. */
static const void *zero_buffer(void)
{
        static gsize zeroes = 0;

        if (g_once_init_enter(&zeroes)) {
                void *buffer = ss_alloc_io_buffer(ZUMA_IMAGE_IO_MAX);

                if (!buffer)
                        g_error("cannot allocate the zero buffer");
                memset(buffer, 0, ZUMA_IMAGE_IO_MAX);
                g_once_init_leave(&zeroes, (gsize)buffer);
        }
        return (const void *)zeroes;
}

ZumaImageHandle *zuma_image_handle_new(ZumaImage *image, gboolean for_write)
{
        ZumaImageHandle *handle = g_new0(ZumaImageHandle, 1);

        handle->image = zuma_image_ref(image);
        handle->epoch = g_atomic_int_get(&image->epoch);
        handle->for_write = for_write;
        return handle;
}

void zuma_image_handle_free(ZumaImageHandle *handle)
{
        zuma_image_unref(handle->image);
        g_free(handle);
}

static void log_error(ZumaImage *image, const char *what, guint64 offset, guint64 length, int r,
                      const char *detail)
{
        int n = g_atomic_int_add(&image->errors_logged, 1);

        if (n >= ERRORS_LOGGED_MAX)
                return;
        g_warning("volume %s image %" G_GUINT32_FORMAT ": %s of %" G_GUINT64_FORMAT
                  " bytes at %" G_GUINT64_FORMAT " failed: %s%s%s%s%s",
                  image->volume->name, image->id, what, length, offset, g_strerror(-r),
                  detail ? " (" : "", detail ? detail : "", detail ? ")" : "",
                  n + 1 == ERRORS_LOGGED_MAX ? "; not logging further errors of this image" : "");
}

/* An engine call failed: lock held.  A full store stays ENOSPC (the refuse
 * policy); anything else is recorded on the engine and becomes EIO. */
static int engine_failure(ZumaImage *image, ZumaEngine *engine, int r, const char *what,
                          guint64 offset, guint64 length)
{
        log_error(image, what, offset, length, r, ss_last_error());
        if (r == -ENOSPC)
                return r;
        zuma_engine_note_error(engine, r);
        return -EIO;
}

static int device_failure(ZumaImage *image, int r, const char *what, guint64 offset, guint64 length)
{
        log_error(image, what, offset, length, r, NULL);
        return -EIO;
}

static gboolean engine_failed(ZumaEngine *engine)
{
        return g_atomic_int_get((gint *)&engine->failed);
}

/* Starts a request: the volume must still have its engine, the handle's
 * attachment must not have been torn down by force, the engine must work. */
static int io_begin(ZumaImageHandle *handle, ZumaEngine **ret_engine)
{
        ZumaVolume *volume = handle->image->volume;

        g_rw_lock_reader_lock(&volume->io_gate);
        if (!volume->engine || engine_failed(volume->engine) ||
            handle->epoch <= g_atomic_int_get(&handle->image->dead_epoch)) {
                g_rw_lock_reader_unlock(&volume->io_gate);
                return -EIO;
        }
        *ret_engine = volume->engine;
        return 0;
}

static void io_end(ZumaImageHandle *handle)
{
        g_rw_lock_reader_unlock(&handle->image->volume->io_gate);
}

/* ---- whole sectors, aligned buffers ---- */

/* A snapshot read the safe way: the map and the reads of its extents all
 * under lock, so nothing can change the extents in between. */
static int read_snapshot_locked(ZumaImage *image, ZumaEngine *engine, void *buf, guint64 offset,
                                size_t length)
{
        int r;

        g_mutex_lock(&engine->lock);
        r = engine->failed ? -EIO : ss_snapshot_read(engine->store, image->id, buf, offset, length);
        if (r < 0 && !engine->failed)
                r = engine_failure(image, engine, r, "snapshot read", offset, length);
        g_mutex_unlock(&engine->lock);
        return r < 0 ? -EIO : 0;
}

/* Extents mapped per round of read_snapshot_unlocked(): 1 MiB of 16 KiB
 * chunks even if none of them are contiguous in the store. */
#define READ_EXTENTS_MAX 64

/* Reads a prefix of the range through extents mapped under lock and read
 * without it (zuma-engine.h says why that is safe).  Returns the bytes
 * read, 0 if the store changed meanwhile so the data may be stale (the
 * caller reads again under lock), or -EIO. */
static gssize read_snapshot_unlocked(ZumaImage *image, ZumaEngine *engine, guint8 *buf,
                                     guint64 offset, size_t length)
{
        SsExtent extents[READ_EXTENTS_MAX];
        guint64 changes;
        size_t done = 0;
        int n, r = 0;

        g_mutex_lock(&engine->lock);
        if (engine->failed) {
                g_mutex_unlock(&engine->lock);
                return -EIO;
        }
        changes = ss_store_changes(engine->store);
        n = ss_snapshot_map_read(engine->store, image->id, offset, length, extents,
                                 G_N_ELEMENTS(extents));
        if (n <= 0)
                engine_failure(image, engine, n < 0 ? n : -EIO, "snapshot read", offset, length);
        g_mutex_unlock(&engine->lock);
        if (n <= 0)
                return -EIO;

        for (int i = 0; i < n && r == 0; i++) {
                SsBlockDev *dev =
                        extents[i].kind == SS_EXTENT_STORE ? engine->store_dev : engine->origin_dev;

                r = ss_dev_pread(dev, buf + done, extents[i].length, extents[i].dev_offset);
                done += extents[i].length;
        }
        /* A failed read of a stale extent is no error: the read is redone. */
        if (ss_store_changes(engine->store) != changes)
                return 0;
        if (r < 0) {
                /* The store's own sentence for it (ss_last_error() is per
                 * thread), handled as ss_snapshot_read()'s failure is. */
                g_mutex_lock(&engine->lock);
                if (!engine->failed)
                        engine_failure(image, engine, r, "snapshot read", offset, length);
                g_mutex_unlock(&engine->lock);
                return -EIO;
        }
        return (gssize)done;
}

static int read_snapshot_sectors(ZumaImage *image, ZumaEngine *engine, guint8 *buf, guint64 offset,
                                 size_t length)
{
        while (length) {
                gssize n = read_snapshot_unlocked(image, engine, buf, offset, length);

                if (n < 0)
                        return (int)n;
                if (n == 0) {
                        g_atomic_int_inc(&engine->snapshot_reads_redone);
                        return read_snapshot_locked(image, engine, buf, offset, length);
                }
                g_atomic_int_inc(&engine->snapshot_reads_unlocked);
                buf += n;
                offset += (guint64)n;
                length -= (size_t)n;
        }
        return 0;
}

static int read_sectors(ZumaImage *image, ZumaEngine *engine, void *buf, guint64 offset,
                        size_t length)
{
        int r;

        if (image->id == 0) {
                r = ss_dev_pread(engine->origin_dev, buf, length, offset);
                return r < 0 ? device_failure(image, r, "origin read", offset, length) : 0;
        }
        return read_snapshot_sectors(image, engine, buf, offset, length);
}

static int write_origin_sectors(ZumaImage *image, ZumaEngine *engine, const void *buf,
                                guint64 offset, size_t length)
{
        int r;

        zuma_engine_gate_shared(engine);
        g_mutex_lock(&engine->lock);
        r = engine->failed ? -EIO : ss_origin_prepare_write(engine->store, offset, length);
        if (r < 0 && !engine->failed)
                r = engine_failure(image, engine, r, "copy-out", offset, length);
        g_mutex_unlock(&engine->lock);
        if (r == 0) {
                r = ss_dev_pwrite(engine->origin_dev, buf, length, offset);
                if (r < 0)
                        r = device_failure(image, r, "origin write", offset, length);
        }
        zuma_engine_ungate_shared(engine);
        return r < 0 ? r : 0;
}

static int write_snapshot_sectors(ZumaImage *image, ZumaEngine *engine, const void *buf,
                                  guint64 offset, size_t length)
{
        SsSnapshotInfo info;
        int r;

        zuma_engine_gate_shared(engine);
        g_mutex_lock(&engine->lock);
        r = engine->failed ? -EIO
                           : ss_snapshot_write(engine->store, image->id, buf, offset, length);
        /* A snapshot made read-only behind the frontend's back refuses the
         * write; that is the caller's error, not a failing store. */
        if (r == -EROFS && ss_snapshot_get(engine->store, image->id, &info) == 0 &&
            !(info.flags & SS_SNAP_WRITABLE))
                r = -EROFS;
        else if (r < 0 && !engine->failed)
                r = engine_failure(image, engine, r, "snapshot write", offset, length);
        g_mutex_unlock(&engine->lock);
        zuma_engine_ungate_shared(engine);
        return r < 0 ? r : 0;
}

static int write_sectors(ZumaImage *image, ZumaEngine *engine, const void *buf, guint64 offset,
                         size_t length)
{
        if (image->id == 0)
                return write_origin_sectors(image, engine, buf, offset, length);
        return write_snapshot_sectors(image, engine, buf, offset, length);
}

/* ---- any range ---- */

static int write_any(ZumaImage *image, ZumaEngine *engine, const void *data, guint64 offset,
                     size_t size)
{
        guint64 start = offset & ~(guint64)(SECTOR - 1);
        guint64 end = (offset + size + SECTOR - 1) & ~(guint64)(SECTOR - 1);
        guint8 *buf = thread_buffer(end - start);
        int r = 0;

        if (!buf)
                return -ENOMEM;
        if (start != offset)
                r = read_sectors(image, engine, buf, start, SECTOR);
        if (r == 0 && end != offset + size && (end - SECTOR != start || start == offset))
                r = read_sectors(image, engine, buf + (end - SECTOR - start), end - SECTOR, SECTOR);
        if (r < 0)
                return r;
        memcpy(buf + (offset - start), data, size);
        return write_sectors(image, engine, buf, start, end - start);
}

int zuma_image_io_read(ZumaImageHandle *handle, guint64 offset, size_t size, const void **ret_data,
                       size_t *ret_length)
{
        ZumaImage *image = handle->image;
        guint64 image_size = zuma_image_get_size(image), start, end;
        ZumaEngine *engine;
        guint8 *buf;
        int r;

        if (offset >= image_size || size == 0) {
                *ret_data = NULL;
                *ret_length = 0;
                return 0;
        }
        size = (size_t)MIN((guint64)size, image_size - offset);
        start = offset & ~(guint64)(SECTOR - 1);
        end = (offset + size + SECTOR - 1) & ~(guint64)(SECTOR - 1);
        buf = thread_buffer(end - start);
        if (!buf)
                return -ENOMEM;
        r = io_begin(handle, &engine);
        if (r < 0)
                return r;
        r = read_sectors(image, engine, buf, start, end - start);
        io_end(handle);
        if (r < 0)
                return r;
        *ret_data = buf + (offset - start);
        *ret_length = size;
        return 0;
}

int zuma_image_io_write(ZumaImageHandle *handle, const void *data, guint64 offset, size_t size)
{
        ZumaImage *image = handle->image;
        guint64 image_size = zuma_image_get_size(image);
        ZumaEngine *engine;
        int r;

        if (offset > image_size || size > image_size - offset)
                return -ENOSPC; /* as a block device answers past its end */
        if (!zuma_image_is_writable(image))
                return -EROFS;
        if (size == 0)
                return 0;
        r = io_begin(handle, &engine);
        if (r < 0)
                return r;
        r = write_any(image, engine, data, offset, size);
        io_end(handle);
        return r;
}

int zuma_image_io_zero(ZumaImageHandle *handle, guint64 offset, guint64 length)
{
        ZumaImage *image = handle->image;
        const guint8 *zeroes = zero_buffer();
        guint64 end = offset + length;
        ZumaEngine *engine;
        int r;

        if (!zuma_image_is_writable(image))
                return -EROFS;
        r = io_begin(handle, &engine);
        if (r < 0)
                return r;
        while (r == 0 && offset < end) {
                guint64 next_sector = (offset + SECTOR) & ~(guint64)(SECTOR - 1);
                size_t piece;

                if (offset % SECTOR || end - offset < SECTOR) {
                        /* an edge: a partial sector */
                        piece = (size_t)(MIN(end, next_sector) - offset);
                        r = write_any(image, engine, zeroes, offset, piece);
                } else {
                        piece = (size_t)MIN(end - offset, (guint64)ZUMA_IMAGE_IO_MAX);
                        piece &= ~(size_t)(SECTOR - 1);
                        r = write_sectors(image, engine, zeroes, offset, piece);
                }
                offset += piece;
        }
        io_end(handle);
        return r;
}

int zuma_image_io_flush(ZumaImageHandle *handle)
{
        ZumaEngine *engine;
        int r;

        r = io_begin(handle, &engine);
        if (r < 0)
                return r;
        r = zuma_engine_flush(engine);
        if (r < 0)
                r = device_failure(handle->image, r, "flush", 0, 0);
        io_end(handle);
        return r;
}
