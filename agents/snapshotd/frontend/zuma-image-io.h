/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data path of one open image file: reads, writes, zeroing and
 * flushes against the engine, following the locking contract of
 * zuma-engine.h.  Called on FUSE threads; every function returns 0 (or a
 * count) or -errno ready for the kernel.
 */
#pragma once

#include "zuma-image-table.h"

G_BEGIN_DECLS

/* One open file of an image (fuse_file_info.fh). */
typedef struct ZumaImageHandle {
        ZumaImage *image; /* a reference */
        gint epoch;       /* the attachment generation it was opened in */
        gboolean for_write;
} ZumaImageHandle;

ZumaImageHandle *zuma_image_handle_new(ZumaImage *image, gboolean for_write);
void zuma_image_handle_free(ZumaImageHandle *handle);

/* Reads up to size bytes at offset (fewer at the end of the image) into a
 * buffer owned by the calling thread, valid until its next call here. */
int zuma_image_io_read(ZumaImageHandle *handle, guint64 offset, size_t size, const void **ret_data,
                       size_t *ret_length);
/* Any offset and size; a range past the end of the image is -ENOSPC. */
int zuma_image_io_write(ZumaImageHandle *handle, const void *data, guint64 offset, size_t size);
/* Writes zeroes over [offset, offset + length), which lies in the image. */
int zuma_image_io_zero(ZumaImageHandle *handle, guint64 offset, guint64 length);
int zuma_image_io_flush(ZumaImageHandle *handle);

/* The largest request the FUSE side lets the kernel send. */
#define ZUMA_IMAGE_IO_MAX (1u << 20)

G_END_DECLS
