/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The digest of a snapshot image, and the helpers both ends of a stream
 * share to read an image chunk by chunk and to list changed chunks in
 * index order.
 *
 * Digest rule (stream.h, docs/replication-stream.md): the sum mod 2^128,
 * over the chunks that are not all zero, of XXH3-128 of the chunk's
 * chunk_size bytes (zero-padded past the image end) seeded with its index.
 * Because it is a sum, digest(new) = digest(old) + Σ over the changed
 * chunks of (term(new) - term(old)): an incremental send or receive reads
 * only the changed chunks once the base's digest is known.
 *
 * Changed chunks come from ss_delta_next() in index order of each phase,
 * not overall, so they are collected in a bitmap of the image's chunks
 * (one bit per chunk: 8 MiB for 1 TiB of 16 KiB chunks) and walked in
 * order.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "internal.h"
#include "stream-internal.h"

static unsigned __int128 widen(SsStreamDigest d)
{
        return ((unsigned __int128)d.hi << 64) | d.lo;
}

static SsStreamDigest narrow(unsigned __int128 v)
{
        return (SsStreamDigest){ .lo = (uint64_t)v, .hi = (uint64_t)(v >> 64) };
}

bool stream_chunk_is_zero(const uint8_t *buf, size_t len)
{
        static const uint8_t zeros[4096];

        for (size_t at = 0; at < len; at += sizeof(zeros))
                if (memcmp(buf + at, zeros, MIN(sizeof(zeros), len - at)))
                        return false;
        return true;
}

/* The chunk's term of the digest sum. */
static unsigned __int128 chunk_term(uint64_t index, const uint8_t *buf, size_t len)
{
        if (stream_chunk_is_zero(buf, len))
                return 0;
        XXH128_hash_t h = XXH3_128bits_withSeed(buf, len, index);
        return ((unsigned __int128)h.high64 << 64) | h.low64;
}

void stream_digest_add(SsStreamDigest *d, uint64_t index, const uint8_t *buf, size_t len)
{
        *d = narrow(widen(*d) + chunk_term(index, buf, len));
}

void stream_digest_sub(SsStreamDigest *d, uint64_t index, const uint8_t *buf, size_t len)
{
        *d = narrow(widen(*d) - chunk_term(index, buf, len));
}

int stream_image_size(SsStore *s, uint32_t id, uint64_t *ret_size)
{
        SsSnapshotInfo info;
        int r;

        if (id == SS_ORIGIN_ID) {
                *ret_size = s->sb.origin_size;
                return 0;
        }
        r = ss_snapshot_get(s, id, &info);
        if (r < 0)
                return ss_error(r, "snapshot %u does not exist", id);
        *ret_size = info.origin_size;
        return 0;
}

int stream_read_chunk(SsStore *s, uint32_t id, uint64_t image_size, uint64_t index, uint8_t *buf)
{
        uint32_t chunk = s->sb.chunk_size;
        uint64_t start = index * chunk;
        size_t len = (size_t)MIN((uint64_t)chunk, image_size - start);
        int r;

        if (len < chunk)
                memset(buf + len, 0, chunk - len);
        r = id == SS_ORIGIN_ID ? ss_origin_read(s, buf, start, len)
                               : ss_snapshot_read(s, id, buf, start, len);
        if (r < 0)
                return ss_error(r, "cannot read chunk %llu of %s %u: %s", (unsigned long long)index,
                                id ? "snapshot" : "origin", id, ss_last_error());
        return 0;
}

int ss_snapshot_digest(SsStore *s, uint32_t id, SsStreamDigest *ret_digest)
{
        SsStreamDigest d = { 0 };
        uint64_t size;
        uint8_t *buf;
        int r = stream_image_size(s, id, &size);

        if (r < 0)
                return r;
        buf = ss_alloc_io_buffer(s->sb.chunk_size);
        if (!buf)
                return ss_error(-ENOMEM, "cannot allocate a chunk buffer");
        for (uint64_t c = 0; r == 0 && c < origin_chunks(s, size); c++) {
                r = stream_read_chunk(s, id, size, c, buf);
                if (r == 0)
                        stream_digest_add(&d, c, buf, s->sb.chunk_size);
        }
        free(buf);
        if (r == 0)
                *ret_digest = d;
        return r;
}

int stream_changed_bitmap(SsStore *s, uint32_t from, uint32_t to, uint64_t chunks,
                          uint64_t **ret_bitmap)
{
        uint64_t *bits = calloc((size_t)(chunks / 64 + 1), sizeof(uint64_t));
        uint64_t batch[256];
        SsDeltaCursor cur;
        int n;

        if (!bits)
                return ss_error(-ENOMEM, "cannot allocate a bitmap of %llu chunks",
                                (unsigned long long)chunks);
        n = ss_delta_begin(s, from, to, &cur);
        while (n >= 0 && (n = ss_delta_next(s, &cur, batch, ARRAY_SIZE(batch))) > 0)
                for (int i = 0; i < n; i++)
                        if (batch[i] < chunks)
                                bits[batch[i] / 64] |= 1ull << (batch[i] % 64);
        if (n < 0) {
                free(bits);
                return n;
        }
        *ret_bitmap = bits;
        return 0;
}

bool stream_bit(const uint64_t *bitmap, uint64_t index)
{
        return bitmap[index / 64] >> (index % 64) & 1;
}

int stream_digest_update(SsStore *s, uint32_t old_id, uint32_t new_id, const uint64_t *changed,
                         uint64_t chunks, SsStreamDigest *digest)
{
        uint32_t chunk = s->sb.chunk_size;
        uint64_t old_size, new_size;
        uint8_t *buf;
        int r = stream_image_size(s, old_id, &old_size);

        if (r == 0)
                r = stream_image_size(s, new_id, &new_size);
        if (r < 0)
                return r;
        buf = ss_alloc_io_buffer(chunk);
        if (!buf)
                return ss_error(-ENOMEM, "cannot allocate a chunk buffer");
        for (uint64_t c = 0; r == 0 && c < chunks; c++) {
                if (!stream_bit(changed, c))
                        continue;
                r = stream_read_chunk(s, old_id, old_size, c, buf);
                if (r == 0) {
                        stream_digest_sub(digest, c, buf, chunk);
                        r = stream_read_chunk(s, new_id, new_size, c, buf);
                }
                if (r == 0)
                        stream_digest_add(digest, c, buf, chunk);
        }
        free(buf);
        return r;
}

int ss_stream_fd_write(void *user, const void *buf, size_t len)
{
        int fd = *(const int *)user;
        const uint8_t *p = buf;

        while (len) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return ss_error(-errno, "cannot write the stream: %s", strerror(errno));
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int ss_stream_fd_read(void *user, void *buf, size_t len)
{
        int fd = *(const int *)user;

        for (;;) {
                ssize_t n = read(fd, buf, MIN(len, (size_t)INT_MAX));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return ss_error(-errno, "cannot read the stream: %s", strerror(errno));
                return (int)n;
        }
}
