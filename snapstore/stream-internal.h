/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What stream-send.c and stream-receive.c share from stream-digest.c: the
 * digest's terms, chunk reads of an image, changed-chunk bitmaps.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "stream.h"

bool stream_chunk_is_zero(const uint8_t *buf, size_t len);
void stream_digest_add(SsStreamDigest *d, uint64_t index, const uint8_t *buf, size_t len);
void stream_digest_sub(SsStreamDigest *d, uint64_t index, const uint8_t *buf, size_t len);
/* Bytes in the image of snapshot id (SS_ORIGIN_ID: the origin). */
int stream_image_size(SsStore *s, uint32_t id, uint64_t *ret_size);
/* Chunk index of the image (chunk_size bytes, zero past image_size). */
int stream_read_chunk(SsStore *s, uint32_t id, uint64_t image_size, uint64_t index, uint8_t *buf);
/* The chunks below `chunks` that ss_delta lists between from and to, as
 * a bitmap (free() it). */
int stream_changed_bitmap(SsStore *s, uint32_t from, uint32_t to, uint64_t chunks,
                          uint64_t **ret_bitmap);
bool stream_bit(const uint64_t *bitmap, uint64_t index);
/* digest of old_id's image -> digest of new_id's, reading the changed chunks of both. */
int stream_digest_update(SsStore *s, uint32_t old_id, uint32_t new_id, const uint64_t *changed,
                         uint64_t chunks, SsStreamDigest *digest);
