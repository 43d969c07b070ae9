/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ss_stream_send(): the stream of one snapshot, full or incremental.
 *
 * Rules it keeps:
 * - Chunks go out in increasing index order: every chunk of `to` for a
 *   full stream, the chunks ss_delta lists between `from` and `to` for an
 *   incremental one.  A chunk that reads all zero goes out as part of a
 *   zero run (no payload), so holes stay holes and a full send of a
 *   sparse volume costs a few bytes per run.
 * - A chunk is zstd-compressed when that makes it smaller, else stored.
 * - With resume, only chunks above resume_after go out; the trailer's
 *   digest still covers the whole to-snapshot.
 * - A resume point follows every resume_every_records chunk/zero records
 *   or resume_every_bytes stream bytes, whichever comes first.
 * - Memory: two chunks, one compressed chunk and the changed-chunk bitmap.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

#include "internal.h"
#include "stream-format.h"
#include "stream-internal.h"

typedef struct Sender {
        SsStore *s;
        const SsStreamSendOptions *o;
        SsStreamStats st;
        ZSTD_CCtx *zstd;
        uint8_t *plain, *packed, fixed[SS_REC_MAX_FIXED];
        uint8_t *scratch; /* a from-snapshot chunk, for the digest */
        uint64_t records, since_resume_records, since_resume_bytes;
        uint64_t zero_first, zero_count; /* pending zero run */
        uint64_t last_index;
} Sender;

static int emit(Sender *x, const void *buf, size_t len)
{
        int r = x->o->write(x->o->user, buf, len);
        if (r < 0)
                return r;
        x->st.bytes += len;
        x->since_resume_bytes += len;
        return 0;
}

static int maybe_resume_point(Sender *x)
{
        uint32_t every = x->o->resume_every_records ? x->o->resume_every_records : 1024;
        uint64_t every_bytes = x->o->resume_every_bytes ? x->o->resume_every_bytes : 64u << 20;

        if (x->since_resume_records == 0 ||
            (x->since_resume_records < every && x->since_resume_bytes < every_bytes))
                return 0;
        size_t n = ss_stream_encode_resume(x->fixed, x->records, x->last_index, x->st.bytes);
        x->since_resume_records = 0;
        x->since_resume_bytes = 0;
        x->st.resume_points++;
        return emit(x, x->fixed, n);
}

static int flush_zero_run(Sender *x)
{
        if (!x->zero_count)
                return 0;
        size_t n = ss_stream_encode_zero(x->fixed, x->zero_first, x->zero_count);
        x->last_index = x->zero_first + x->zero_count - 1;
        x->st.zero_records++;
        x->st.zero_chunks += x->zero_count;
        x->records++;
        x->since_resume_records++;
        x->zero_count = 0;
        int r = emit(x, x->fixed, n);
        return r < 0 ? r : maybe_resume_point(x);
}

static int send_chunk(Sender *x, uint64_t index)
{
        uint32_t chunk = x->s->sb.chunk_size;

        if (stream_chunk_is_zero(x->plain, chunk)) {
                if (x->zero_count && x->zero_first + x->zero_count == index) {
                        x->zero_count++;
                        return 0;
                }
                int r = flush_zero_run(x);
                x->zero_first = index;
                x->zero_count = 1;
                return r;
        }
        int r = flush_zero_run(x);
        if (r < 0)
                return r;
        const uint8_t *payload = x->plain;
        uint32_t stored = chunk, compression = SS_COMPRESS_NONE;
        if (x->zstd) {
                size_t n = ZSTD_compressCCtx(x->zstd, x->packed, chunk - 1, x->plain, chunk,
                                             x->o->zstd_level);
                if (!ZSTD_isError(n)) { /* too big to fit chunk - 1 is an error too */
                        payload = x->packed;
                        stored = (uint32_t)n;
                        compression = SS_COMPRESS_ZSTD;
                }
        }
        size_t n = ss_stream_encode_chunk(x->fixed, index, XXH3_64bits(x->plain, chunk),
                                          compression, payload, stored);
        r = emit(x, x->fixed, n);
        if (r == 0)
                r = emit(x, payload, stored);
        if (r < 0)
                return r;
        x->last_index = index;
        x->st.chunk_records++;
        x->st.payload_bytes += stored;
        x->st.plain_bytes += chunk;
        x->records++;
        x->since_resume_records++;
        return maybe_resume_point(x);
}

static int header_for(SsStore *s, uint32_t from, uint32_t to, const SsStreamSendOptions *o,
                      SsStreamHeader *h, uint64_t *ret_chunks)
{
        SsSnapshotInfo fi, ti;
        int r = ss_snapshot_get(s, to, &ti);

        if (r < 0)
                return ss_error(r, "to-snapshot %u does not exist", to);
        memset(h, 0, sizeof(*h));
        if (from) {
                r = ss_snapshot_get(s, from, &fi);
                if (r < 0)
                        return ss_error(r, "from-snapshot %u does not exist", from);
                if (from >= to)
                        return ss_error(-EINVAL,
                                        "from-snapshot %u is not older than to-snapshot %u", from,
                                        to);
                if (fi.origin_size != ti.origin_size)
                        return ss_error(-EOPNOTSUPP,
                                        "the origin grew between snapshots %u and %u: send a "
                                        "full stream",
                                        from, to);
                h->flags |= SS_STREAM_INCREMENTAL;
                snprintf(h->from.name, sizeof(h->from.name), "%s", fi.name);
                h->from.ctime = fi.ctime;
                h->from.source_id = fi.id;
        }
        *ret_chunks = origin_chunks(s, ti.origin_size);
        if (o->resume) {
                if (o->resume_after >= *ret_chunks)
                        return ss_error(-EINVAL, "resume index %llu is past the last chunk (%llu)",
                                        (unsigned long long)o->resume_after,
                                        (unsigned long long)*ret_chunks - 1);
                h->flags |= SS_STREAM_RESUMED;
                h->resume_after = o->resume_after;
        }
        memcpy(h->volume_uuid, s->sb.volume_uuid, 16);
        h->chunk_size = s->sb.chunk_size;
        h->origin_size = ti.origin_size;
        snprintf(h->to.name, sizeof(h->to.name), "%s", ti.name);
        h->to.ctime = ti.ctime;
        h->to.source_id = ti.id;
        return 0;
}

/* The to-snapshot's digest goes in the trailer; the send loop computes it
 * from the chunks it reads anyway (a full stream reads them all; an
 * incremental one adds each changed chunk's new term and takes away its
 * old one), so no chunk is read twice before the header goes out.  Here,
 * the start: nothing for a full stream, the from-snapshot's digest for an
 * incremental one, plus the chunks below `first` that a resumed stream
 * does not visit. */
static int digest_start(Sender *x, uint32_t from, uint32_t to, const uint64_t *changed,
                        uint64_t first, uint64_t size)
{
        int r = 0;

        memset(&x->st.digest, 0, sizeof(x->st.digest));
        if (!from) {
                for (uint64_t c = 0; r == 0 && c < first; c++) {
                        r = stream_read_chunk(x->s, to, size, c, x->plain);
                        if (r == 0)
                                stream_digest_add(&x->st.digest, c, x->plain, x->s->sb.chunk_size);
                }
                return r;
        }
        if (x->o->from_digest)
                x->st.digest = *x->o->from_digest;
        else
                r = ss_snapshot_digest(x->s, from, &x->st.digest);
        if (r == 0)
                r = stream_digest_update(x->s, from, to, changed, first, &x->st.digest);
        return r;
}

/* Chunk index of the to-snapshot, just read into x->plain, into the digest. */
static int digest_chunk(Sender *x, uint32_t from, uint64_t size, uint64_t index)
{
        uint32_t chunk = x->s->sb.chunk_size;
        int r;

        stream_digest_add(&x->st.digest, index, x->plain, chunk);
        if (!from)
                return 0;
        r = stream_read_chunk(x->s, from, size, index, x->scratch);
        if (r == 0)
                stream_digest_sub(&x->st.digest, index, x->scratch, chunk);
        return r;
}

int ss_stream_send(SsStore *s, uint32_t from, uint32_t to, const SsStreamSendOptions *o,
                   SsStreamStats *ret_stats)
{
        Sender x = { .s = s, .o = o };
        uint8_t header[SS_STREAM_HEADER_SIZE];
        uint64_t *changed = NULL, chunks = 0, size;
        uint64_t first, total = 0, done = 0; /* chunks visited, for progress */
        SsStreamHeader h;
        int r;

        if (!o || !o->write)
                return ss_error(-EINVAL, "ss_stream_send needs a write callback");
        if (o->zstd_level < 0 || o->zstd_level > ZSTD_maxCLevel())
                return ss_error(-EINVAL, "zstd level %d is out of range (0..%d)", o->zstd_level,
                                ZSTD_maxCLevel());
        r = header_for(s, from, to, o, &h, &chunks);
        if (r < 0)
                return r;
        size = h.origin_size;
        first = o->resume ? o->resume_after + 1 : 0;
        x.plain = ss_alloc_io_buffer(s->sb.chunk_size);
        x.packed = malloc(s->sb.chunk_size);
        if (from) {
                x.scratch = ss_alloc_io_buffer(s->sb.chunk_size);
                r = x.scratch ? stream_changed_bitmap(s, from, to, chunks, &changed)
                              : ss_error(-ENOMEM, "cannot allocate chunk buffers");
        }
        if (r == 0 && (!x.plain || !x.packed))
                r = ss_error(-ENOMEM, "cannot allocate chunk buffers");
        if (r == 0)
                r = digest_start(&x, from, to, changed, first, size);
        if (r == 0 && o->zstd_level && !(x.zstd = ZSTD_createCCtx()))
                r = ss_error(-ENOMEM, "cannot allocate a zstd compressor");
        if (r == 0) {
                ss_stream_header_encode(&h, header);
                r = emit(&x, header, sizeof(header));
        }
        for (uint64_t c = first; c < chunks; c++)
                total += !changed || stream_bit(changed, c);
        if (r == 0 && o->progress)
                o->progress(o->progress_user, 0, total);
        for (uint64_t c = first; r == 0 && c < chunks; c++) {
                if (changed && !stream_bit(changed, c))
                        continue;
                r = stream_read_chunk(s, to, size, c, x.plain);
                if (r == 0)
                        r = digest_chunk(&x, from, size, c);
                if (r == 0)
                        r = send_chunk(&x, c);
                if (r == 0 && o->progress)
                        o->progress(o->progress_user, ++done, total);
        }
        if (r == 0)
                r = flush_zero_run(&x);
        if (r == 0) {
                size_t n = ss_stream_encode_trailer(x.fixed, x.records, x.st.bytes, &x.st.digest);
                r = emit(&x, x.fixed, n);
        }
        ZSTD_freeCCtx(x.zstd);
        free(x.plain);
        free(x.packed);
        free(x.scratch);
        free(changed);
        if (r == 0 && ret_stats) {
                x.st.last_index = x.last_index;
                *ret_stats = x.st;
        }
        return r;
}
