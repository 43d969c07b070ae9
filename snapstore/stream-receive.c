/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ss_stream_receive(): applies a stream to the store's origin and, when its
 * digest matches, creates the to-snapshot.
 *
 * Rules it keeps:
 * - Before any write: the header decodes (stream-format.c), names this
 *   store's volume UUID, chunk size and origin size, the to-snapshot's
 *   name is free, a resume is expected exactly when the caller asks for
 *   one and at the same index, and the base holds (below).
 * - Base check of an incremental stream, before any write: the store holds
 *   a snapshot with the from-snapshot's name and creation time and the
 *   same image size.  That the origin equals the base outside the chunks
 *   the stream carries is checked at the end, by the digest: it is
 *   computed from the base's digest and every chunk ss_delta lists as
 *   changed on this origin since the base, whoever wrote it (an earlier,
 *   cut or failed run of a stream, or a local write).  So a stream may be
 *   restarted or resumed after any failure without reverting the origin,
 *   and a local write the stream does not overwrite makes the digest
 *   differ: refused, no snapshot.  A full stream needs no base; it
 *   overwrites the whole origin, and existing snapshots stay as they are.
 * - Chunks are written with ss_origin_write (copy-out keeps every existing
 *   snapshot intact).  A zero run writes zeros only where the origin's
 *   chunk is not already zero, so holes stay holes.
 * - At a resume point: ss_store_flush(), then on_durable(last index).
 * - At the trailer: the end of the stream must follow; the origin is made
 *   durable, its digest is computed from the store itself (in full for a
 *   full stream; for an incremental one from the base's digest plus the
 *   chunks changed since the base) and must equal the trailer's; only then
 *   is the snapshot created, with the source's name and creation time.
 * - Memory: one record (at most chunk_size plus its fixed part), one
 *   plaintext chunk, one scratch chunk and, at the end of an incremental
 *   stream, the changed-chunk bitmap.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "stream-format.h"
#include "stream-internal.h"

typedef struct Receiver {
        SsStore *s;
        const SsStreamReceiveOptions *o;
        SsStreamParser p;
        SsStreamStats st;
        uint32_t base; /* id of the base snapshot on this store, 0 for a full stream */
        uint8_t *record, *scratch;
        /* Consecutive chunks not written yet: one ss_origin_write (one
         * copy-out commit) for up to batch_cap of them, not one each. */
        uint8_t *batch;
        uint64_t batch_first;
        size_t batch_len, batch_room, batch_cap; /* chunks held, allocated, at most */
} Receiver;

/* Bytes of consecutive chunks a receive holds before writing them. */
#define RECEIVE_BATCH_BYTES (4u << 20)

static unsigned long long ull(uint64_t v)
{
        return (unsigned long long)v;
}

/* Reads exactly len bytes.  Returns 1 when they were read, 0 at a clean
 * end before the first byte, or -errno (a short read is -EBADMSG). */
static int read_exact(Receiver *x, void *buf, size_t len, const char *what)
{
        size_t got = 0;

        while (got < len) {
                int n = x->o->read(x->o->user, (uint8_t *)buf + got, len - got);
                if (n < 0)
                        return n;
                if (n == 0) {
                        if (got == 0)
                                return 0;
                        return ss_error(-EBADMSG,
                                        "stream is truncated: it ends at byte %llu inside %s",
                                        ull(x->st.bytes + got), what);
                }
                if ((size_t)n > len - got)
                        return ss_error(-EIO, "stream read callback returned %d for %zu bytes", n,
                                        len - got);
                got += (size_t)n;
        }
        x->st.bytes += len;
        return 1;
}

static int check_target(Receiver *x, const SsStreamHeader *h)
{
        SsStore *s = x->s;
        uint32_t id;

        if (memcmp(h->volume_uuid, s->sb.volume_uuid, 16))
                return ss_error(-EXDEV, "stream is of another volume (volume UUID differs from "
                                        "this store's)");
        if (h->chunk_size != s->sb.chunk_size)
                return ss_error(-EXDEV, "stream chunk size %u, this store's is %u", h->chunk_size,
                                s->sb.chunk_size);
        if (h->origin_size != s->sb.origin_size)
                return ss_error(-EXDEV,
                                "stream origin size %llu, this store's is %llu (grow the "
                                "origin first)",
                                ull(h->origin_size), ull(s->sb.origin_size));
        if (ss_snapshot_find(s, h->to.name, &id) == 0)
                return ss_error(-EEXIST, "this store already has a snapshot named %s (%u)",
                                h->to.name, id);
        bool resumed = h->flags & SS_STREAM_RESUMED;
        if (resumed != x->o->resume || (resumed && h->resume_after != x->o->resume_after))
                return ss_error(-EBADMSG, "stream resumes %s%llu, the receiver expects %s%llu",
                                resumed ? "after chunk " : "from the start",
                                ull(resumed ? h->resume_after : 0),
                                x->o->resume ? "after chunk " : "from the start",
                                ull(x->o->resume ? x->o->resume_after : 0));
        return 0;
}

static int check_base(Receiver *x, const SsStreamHeader *h)
{
        SsStore *s = x->s;
        SsSnapshotInfo info;
        uint32_t id;
        int n;

        if (!(h->flags & SS_STREAM_INCREMENTAL))
                return 0;
        if (ss_snapshot_find(s, h->from.name, &id) < 0)
                return ss_error(-ENOENT, "base snapshot %s is not on this store", h->from.name);
        n = ss_snapshot_get(s, id, &info);
        if (n < 0)
                return n;
        if (info.ctime != h->from.ctime)
                return ss_error(-ESTALE,
                                "base snapshot %s was created at %lld here, the stream's at "
                                "%lld: not the same snapshot",
                                h->from.name, (long long)info.ctime, (long long)h->from.ctime);
        if (info.origin_size != h->origin_size)
                return ss_error(-ESTALE, "base snapshot %s has %llu bytes, the stream %llu",
                                h->from.name, ull(info.origin_size), ull(h->origin_size));
        x->base = id;
        return 0;
}

/* Writes the chunks held back, in one ss_origin_write. */
static int flush_batch(Receiver *x)
{
        uint32_t chunk = x->s->sb.chunk_size;
        uint64_t start = x->batch_first * chunk;
        size_t len;
        int r;

        if (!x->batch_len)
                return 0;
        len = (size_t)MIN((uint64_t)x->batch_len * chunk, x->s->sb.origin_size - start);
        r = ss_origin_write(x->s, x->batch, start, len);
        if (r < 0)
                return ss_error(r, "cannot write chunks %llu..%llu to the origin: %s",
                                ull(x->batch_first), ull(x->batch_first + x->batch_len - 1),
                                ss_last_error());
        x->batch_len = 0;
        return 0;
}

/* Room for twice as many chunks (up to batch_cap): a stream that is
 * refused early, or carries a few chunks, never allocates the whole batch. */
static int grow_batch(Receiver *x)
{
        size_t chunk = x->s->sb.chunk_size;
        size_t room = MIN(MAX(x->batch_room * 2, (size_t)16), x->batch_cap);
        uint8_t *bigger = ss_alloc_io_buffer(room * chunk);

        if (!bigger)
                return ss_error(-ENOMEM, "cannot allocate the receive batch");
        if (x->batch_len)
                memcpy(bigger, x->batch, x->batch_len * chunk);
        free(x->batch);
        x->batch = bigger;
        x->batch_room = room;
        return 0;
}

/* Where chunk index goes in the batch (written first if it does not
 * follow the chunks held, or the batch is full). */
static int batch_slot(Receiver *x, uint64_t index, uint8_t **ret_slot)
{
        int r = 0;

        if (!x->batch_cap)
                x->batch_cap = (size_t)MIN(MAX(RECEIVE_BATCH_BYTES / x->s->sb.chunk_size, 1u),
                                           origin_chunks(x->s, x->s->sb.origin_size));
        if (x->batch_len &&
            (index != x->batch_first + x->batch_len || x->batch_len == x->batch_cap))
                r = flush_batch(x);
        if (r == 0 && x->batch_len == x->batch_room)
                r = grow_batch(x);
        if (r < 0)
                return r;
        if (!x->batch_len)
                x->batch_first = index;
        *ret_slot = x->batch + (size_t)x->batch_len++ * x->s->sb.chunk_size;
        return 0;
}

static int apply_chunk(Receiver *x, const SsStreamRecord *rec)
{
        uint32_t chunk = x->s->sb.chunk_size;
        uint8_t *slot;
        int r = batch_slot(x, rec->index, &slot);

        if (r < 0)
                return r;
        r = ss_stream_chunk_plaintext(&x->p, rec, x->record + SS_REC_CHUNK_SIZE, slot);
        if (r < 0) {
                x->batch_len--; /* the slot holds nothing to write */
                return r;
        }
        x->st.chunk_records++;
        x->st.payload_bytes += rec->stored_length;
        x->st.plain_bytes += chunk;
        return 0;
}

/* Zeros where the origin's chunk is not zero already: holes stay holes. */
static int apply_zero_run(Receiver *x, const SsStreamRecord *rec)
{
        uint32_t chunk = x->s->sb.chunk_size;
        uint64_t size = x->s->sb.origin_size;
        int r = flush_batch(x);

        for (uint64_t c = rec->index; r == 0 && c < rec->index + rec->count; c++) {
                uint8_t *slot;

                r = stream_read_chunk(x->s, SS_ORIGIN_ID, size, c, x->scratch);
                if (r < 0 || stream_chunk_is_zero(x->scratch, chunk))
                        continue;
                r = batch_slot(x, c, &slot);
                if (r == 0)
                        memset(slot, 0, chunk);
        }
        if (r < 0)
                return r;
        x->st.zero_records++;
        x->st.zero_chunks += rec->count;
        return 0;
}

static int make_durable(Receiver *x, const SsStreamRecord *rec)
{
        int r = flush_batch(x);

        if (r == 0)
                r = ss_store_flush(x->s);

        if (r < 0)
                return ss_error(r, "cannot make the received chunks durable: %s", ss_last_error());
        x->st.resume_points++;
        if (x->o->on_durable) {
                r = x->o->on_durable(x->o->durable_user, rec->index, rec->records);
                if (r < 0)
                        return ss_error(r, "receive stopped by its durable-index callback");
        }
        return 0;
}

/* The origin's digest, computed from the store: in full, or from the
 * base's digest and the chunks changed since the base. */
static int origin_digest(Receiver *x, SsStreamDigest *ret)
{
        uint64_t chunks = origin_chunks(x->s, x->s->sb.origin_size), *changed;
        int r;

        if (!x->base)
                return ss_snapshot_digest(x->s, SS_ORIGIN_ID, ret);
        if (x->o->base_digest)
                *ret = *x->o->base_digest;
        else if ((r = ss_snapshot_digest(x->s, x->base, ret)) < 0)
                return r;
        r = stream_changed_bitmap(x->s, x->base, SS_ORIGIN_ID, chunks, &changed);
        if (r < 0)
                return r;
        r = stream_digest_update(x->s, x->base, SS_ORIGIN_ID, changed, chunks, ret);
        free(changed);
        return r;
}

static int finish(Receiver *x, const SsStreamRecord *trailer, uint32_t *ret_id)
{
        const SsStreamHeader *h = &x->p.header;
        SsStreamDigest got;
        uint8_t extra;
        int r = read_exact(x, &extra, 1, "the end");

        if (r != 0)
                return r < 0 ? r
                             : ss_error(-EBADMSG, "stream has data after its trailer (byte %llu)",
                                        ull(x->st.bytes - 1));
        r = flush_batch(x);
        if (r == 0)
                r = ss_store_flush(x->s);
        if (r == 0)
                r = origin_digest(x, &got);
        if (r < 0)
                return r;
        if (got.lo != trailer->digest.lo || got.hi != trailer->digest.hi)
                return ss_error(-EBADMSG,
                                "digest of the received snapshot %s is %016llx%016llx, the "
                                "stream's %016llx%016llx: not created",
                                h->to.name, ull(got.hi), ull(got.lo), ull(trailer->digest.hi),
                                ull(trailer->digest.lo));
        x->st.digest = got;
        return ss_snapshot_create_at(x->s, h->to.name, 0, x->o->priority, h->to.ctime, ret_id);
}

static int receive_records(Receiver *x, uint32_t *ret_id)
{
        for (;;) {
                SsStreamRecord rec;
                size_t size;
                int r = read_exact(x, x->record, SS_REC_PREFIX_SIZE, "a record");

                if (r == 0)
                        return ss_error(-EBADMSG,
                                        "stream is truncated: it ends at byte %llu before its "
                                        "trailer",
                                        ull(x->st.bytes));
                if (r > 0)
                        r = ss_stream_record_size(&x->p, x->record, &size);
                if (r >= 0)
                        r = read_exact(x, x->record + SS_REC_PREFIX_SIZE, size - SS_REC_PREFIX_SIZE,
                                       "a record");
                if (r == 0)
                        r = ss_error(-EBADMSG, "stream is truncated inside a record at byte %llu",
                                     ull(x->st.bytes));
                if (r > 0)
                        r = ss_stream_record_decode(&x->p, x->record, size, &rec);
                if (r < 0)
                        return r;
                switch (rec.type) {
                case SS_REC_CHUNK:
                        r = apply_chunk(x, &rec);
                        break;
                case SS_REC_ZERO:
                        r = apply_zero_run(x, &rec);
                        break;
                case SS_REC_RESUME:
                        r = make_durable(x, &rec);
                        break;
                case SS_REC_TRAILER:
                        return finish(x, &rec, ret_id);
                }
                if (r < 0)
                        return r;
                if (rec.type == SS_REC_CHUNK || rec.type == SS_REC_ZERO)
                        x->st.last_index = rec.index + rec.count - 1;
        }
}

int ss_stream_receive(SsStore *s, const SsStreamReceiveOptions *o, SsStreamStats *ret_stats,
                      uint32_t *ret_id)
{
        Receiver x = { .s = s, .o = o };
        uint8_t header[SS_STREAM_HEADER_SIZE];
        SsStreamHeader h;
        uint32_t id = 0;
        int r;

        if (!o || !o->read)
                return ss_error(-EINVAL, "ss_stream_receive needs a read callback");
        r = read_exact(&x, header, sizeof(header), "its header");
        if (r == 0)
                r = ss_error(-EBADMSG, "stream is truncated: it is empty");
        if (r > 0)
                r = ss_stream_header_decode(header, sizeof(header), &h);
        if (r == 0)
                r = check_target(&x, &h);
        if (r == 0)
                r = check_base(&x, &h);
        if (r < 0)
                return r;
        ss_stream_parser_init(&x.p, &h);
        x.record = malloc(SS_REC_CHUNK_SIZE + s->sb.chunk_size);
        x.scratch = ss_alloc_io_buffer(s->sb.chunk_size);
        if (!x.record || !x.scratch)
                r = ss_error(-ENOMEM, "cannot allocate stream buffers");
        if (r == 0)
                r = receive_records(&x, &id);
        ss_stream_parser_fini(&x.p);
        free(x.record);
        free(x.batch);
        free(x.scratch);
        if (r < 0)
                return r;
        if (ret_stats)
                *ret_stats = x.st;
        if (ret_id)
                *ret_id = id;
        return 0;
}
