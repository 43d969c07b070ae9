/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine works in whole 512-byte sectors on buffers aligned for
 * O_DIRECT.  The kernel's requests (a loop device sends whole sectors, a
 * shell's `cat` does not) are copied once into a page-aligned buffer of the
 * calling FUSE thread; the edge sectors of an unaligned write are read
 * first (read-modify-write).  Reads land in that buffer and go to the
 * kernel from there.
 *
 * The engine's data-path operations take the engine's own locks
 * (zuma-engine.h); a request that writes several pieces calls them once
 * per piece, so it never takes the write gate twice.  Around all of them
 * the served volume's io_gate is held shared, so that removing the volume
 * waits for running requests and fails later ones.
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

/* An engine operation failed with r (to hand on); fault says what. */
static int io_failure(ZumaImage *image, int r, const ZumaEngineFault *fault, guint64 offset,
                      guint64 length)
{
        if (fault->what)
                log_error(image, fault->what, offset, length, fault->r, fault->detail);
        return r;
}

static int device_failure(ZumaImage *image, int r, const char *what, guint64 offset, guint64 length)
{
        log_error(image, what, offset, length, r, NULL);
        return -EIO;
}

/* Starts a request: the volume must still have its engine, the handle's
 * attachment must not have been torn down by force, the engine must work. */
static int io_begin(ZumaImageHandle *handle, ZumaEngine **ret_engine)
{
        ZumaServedVolume *volume = handle->image->volume;

        g_rw_lock_reader_lock(&volume->io_gate);
        if (!volume->engine || zuma_engine_is_failed(volume->engine) ||
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

static int read_sectors(ZumaImage *image, ZumaEngine *engine, void *buf, guint64 offset,
                        size_t length)
{
        ZumaEngineFault fault;
        int r;

        if (image->id == 0)
                r = zuma_engine_origin_read(engine, buf, offset, length, &fault);
        else
                r = zuma_engine_snapshot_read(engine, image->id, buf, offset, length, &fault);
        return r < 0 ? io_failure(image, r, &fault, offset, length) : 0;
}

static int write_sectors(ZumaImage *image, ZumaEngine *engine, const void *buf, guint64 offset,
                         size_t length)
{
        ZumaEngineFault fault;
        int r;

        if (image->id == 0)
                r = zuma_engine_origin_write(engine, buf, offset, length, &fault);
        else
                r = zuma_engine_snapshot_write(engine, image->id, buf, offset, length, &fault);
        return r < 0 ? io_failure(image, r, &fault, offset, length) : 0;
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
