/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The volume model shared by test-model, test-powercut and test-fault; see
 * model.h.  Nothing here knows the store's format: the store is reached only
 * through the public API, exactly as a frontend would.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "test-util.h"

#define SECTOR 512u
/* Largest piece read from the store at once while verifying. */
#define VERIFY_PIECE (1u << 20)

/* ---- images ---- */

static ModelChunk *chunk_new(uint32_t chunk_size)
{
        ModelChunk *c = xcalloc(1, sizeof(*c) + chunk_size);

        c->refs = 1;
        return c;
}

static void chunk_put(ModelChunk *c)
{
        if (c && --c->refs == 0)
                free(c);
}

static void image_init(ModelImage *img, uint32_t chunk_size, uint64_t size)
{
        img->chunk_size = chunk_size;
        img->size = size;
        img->nchunks = (size + chunk_size - 1) / chunk_size;
        img->chunks = xcalloc(img->nchunks, sizeof(*img->chunks));
}

static void image_release(ModelImage *img)
{
        for (uint64_t c = 0; c < img->nchunks; c++)
                chunk_put(img->chunks[c]);
        free(img->chunks);
        img->chunks = NULL;
        img->nchunks = img->size = 0;
}

static void image_copy(ModelImage *dst, const ModelImage *src)
{
        *dst = *src;
        dst->chunks = xcalloc(src->nchunks, sizeof(*dst->chunks));
        for (uint64_t c = 0; c < src->nchunks; c++) {
                dst->chunks[c] = src->chunks[c];
                if (dst->chunks[c])
                        dst->chunks[c]->refs++;
        }
}

/* Chunk c of img, private to img (copied if shared) so it may be written. */
static ModelChunk *image_own_chunk(ModelImage *img, uint64_t c)
{
        ModelChunk *old = img->chunks[c];

        if (old && old->refs == 1)
                return old;
        ModelChunk *n = chunk_new(img->chunk_size);
        if (old) {
                memcpy(n->data, old->data, img->chunk_size);
                chunk_put(old);
        }
        img->chunks[c] = n;
        return n;
}

static void image_write(ModelImage *img, const void *buf, uint64_t offset, uint64_t length)
{
        const uint8_t *p = buf;
        uint32_t cs = img->chunk_size;

        if (offset > img->size || length > img->size - offset) {
                fprintf(stderr,
                        "FAIL: model write [%" PRIu64 ", +%" PRIu64 ") beyond an image of %" PRIu64
                        " bytes\n",
                        offset, length, img->size);
                exit(99);
        }
        while (length) {
                uint64_t c = offset / cs;
                uint64_t in = offset % cs;
                uint64_t n = cs - in < length ? cs - in : length;

                memcpy(image_own_chunk(img, c)->data + in, p, n);
                p += n;
                offset += n;
                length -= n;
        }
}

/* Bytes of chunk c inside the image. */
static uint64_t image_chunk_bytes(const ModelImage *img, uint64_t c)
{
        uint64_t off = c * img->chunk_size;

        if (c >= img->nchunks)
                return 0;
        return img->size - off < img->chunk_size ? img->size - off : img->chunk_size;
}

static bool all_zero(const uint8_t *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (p[i])
                        return false;
        return true;
}

static const uint8_t *chunk_bytes(const ModelChunk *c)
{
        static const uint8_t *zeros;

        if (c)
                return c->data;
        if (!zeros)
                zeros = xcalloc(1, SS_CHUNK_SIZE_MAX);
        return zeros;
}

void model_read(const ModelImage *img, void *buf, uint64_t offset, uint64_t length)
{
        uint8_t *p = buf;
        uint32_t cs = img->chunk_size;

        while (length) {
                uint64_t c = offset / cs;
                uint64_t in = offset % cs;
                uint64_t n = cs - in < length ? cs - in : length;

                memcpy(p, chunk_bytes(img->chunks[c]) + in, n);
                p += n;
                offset += n;
                length -= n;
        }
}

bool model_chunk_differs(const ModelImage *a, const ModelImage *b, uint64_t chunk)
{
        bool in_a = chunk < a->nchunks, in_b = chunk < b->nchunks;

        if (!in_a || !in_b)
                return in_a != in_b;
        if (a->chunks[chunk] == b->chunks[chunk])
                return false;
        uint64_t na = image_chunk_bytes(a, chunk), nb = image_chunk_bytes(b, chunk);
        return memcmp(chunk_bytes(a->chunks[chunk]), chunk_bytes(b->chunks[chunk]),
                      na < nb ? na : nb) != 0;
}

static bool image_equal(const ModelImage *a, const ModelImage *b)
{
        if (a->size != b->size)
                return false;
        for (uint64_t c = 0; c < a->nchunks; c++)
                if (model_chunk_differs(a, b, c))
                        return false;
        return true;
}

/* ---- the model ---- */

Model *model_new(uint32_t chunk_size, const void *image, uint64_t size)
{
        Model *m = xcalloc(1, sizeof(*m));

        m->chunk_size = chunk_size;
        image_init(&m->origin, chunk_size, size);
        if (image) {
                const uint8_t *p = image;

                for (uint64_t c = 0; c < m->origin.nchunks; c++) {
                        uint64_t n = image_chunk_bytes(&m->origin, c);

                        if (all_zero(p + c * chunk_size, n))
                                continue;
                        m->origin.chunks[c] = chunk_new(chunk_size);
                        memcpy(m->origin.chunks[c]->data, p + c * chunk_size, n);
                }
        }
        return m;
}

static size_t written_bytes(const ModelImage *img)
{
        return img->nchunks / 8 + 1;
}

static void snap_copy(ModelSnap *dst, const ModelSnap *src)
{
        *dst = *src;
        image_copy(&dst->image, &src->image);
        dst->written = xcalloc(1, written_bytes(&src->image));
        memcpy(dst->written, src->written, written_bytes(&src->image));
}

static void snap_release(ModelSnap *sn)
{
        image_release(&sn->image);
        free(sn->written);
        sn->written = NULL;
}

Model *model_clone(const Model *m)
{
        Model *c = xcalloc(1, sizeof(*c));

        c->chunk_size = m->chunk_size;
        image_copy(&c->origin, &m->origin);
        c->cap = m->nsnaps ? m->nsnaps : 1;
        c->snaps = xcalloc(c->cap, sizeof(*c->snaps));
        for (size_t i = 0; i < m->nsnaps; i++)
                snap_copy(&c->snaps[i], &m->snaps[i]);
        c->nsnaps = m->nsnaps;
        return c;
}

void model_free(Model *m)
{
        if (!m)
                return;
        image_release(&m->origin);
        for (size_t i = 0; i < m->nsnaps; i++)
                snap_release(&m->snaps[i]);
        free(m->snaps);
        free(m);
}

ModelSnap *model_snap(const Model *m, uint32_t id)
{
        size_t lo = 0, hi = m->nsnaps;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;

                if (m->snaps[mid].id == id)
                        return &m->snaps[mid];
                if (m->snaps[mid].id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

ModelSnap *model_snap_by_name(const Model *m, const char *name)
{
        for (size_t i = 0; i < m->nsnaps; i++)
                if (!strcmp(m->snaps[i].name, name))
                        return &m->snaps[i];
        return NULL;
}

const ModelImage *model_image(const Model *m, uint32_t id)
{
        if (id == SS_ORIGIN_ID)
                return &m->origin;
        ModelSnap *sn = model_snap(m, id);
        return sn ? &sn->image : NULL;
}

uint32_t model_last_id(const Model *m)
{
        return m->nsnaps ? m->snaps[m->nsnaps - 1].id : 0;
}

void model_origin_write(Model *m, const void *buf, uint64_t offset, uint64_t length)
{
        image_write(&m->origin, buf, offset, length);
}

void model_origin_grow(Model *m, uint64_t new_size, const void *tail)
{
        ModelImage *o = &m->origin;
        uint64_t old_size = o->size;
        uint64_t nchunks = (new_size + m->chunk_size - 1) / m->chunk_size;

        if (new_size < old_size) {
                fprintf(stderr, "FAIL: model origin cannot shrink\n");
                exit(99);
        }
        ModelChunk **chunks = xcalloc(nchunks, sizeof(*chunks));
        memcpy(chunks, o->chunks, o->nchunks * sizeof(*chunks));
        free(o->chunks);
        o->chunks = chunks;
        o->nchunks = nchunks;
        o->size = new_size;
        if (new_size > old_size && tail)
                image_write(o, tail, old_size, new_size - old_size);
}

void model_snapshot_create(Model *m, uint32_t id, const char *name, uint32_t flags,
                           int32_t priority)
{
        size_t pos = m->nsnaps;

        if (model_snap(m, id)) {
                fprintf(stderr, "FAIL: model already has snapshot %u\n", id);
                exit(99);
        }
        if (m->nsnaps == m->cap) {
                m->cap = m->cap ? 2 * m->cap : 16;
                m->snaps = realloc(m->snaps, m->cap * sizeof(*m->snaps));
                if (!m->snaps) {
                        fprintf(stderr, "FAIL: out of memory\n");
                        exit(99);
                }
        }
        while (pos > 0 && m->snaps[pos - 1].id > id)
                pos--;
        memmove(&m->snaps[pos + 1], &m->snaps[pos], (m->nsnaps - pos) * sizeof(*m->snaps));
        m->nsnaps++;

        ModelSnap *sn = &m->snaps[pos];
        memset(sn, 0, sizeof(*sn));
        sn->id = id;
        sn->flags = flags;
        sn->priority = priority;
        snprintf(sn->name, sizeof(sn->name), "%s", name);
        image_copy(&sn->image, &m->origin);
        sn->written = xcalloc(1, written_bytes(&sn->image));
}

void model_snapshot_delete(Model *m, uint32_t id)
{
        ModelSnap *sn = model_snap(m, id);

        if (!sn) {
                fprintf(stderr, "FAIL: model has no snapshot %u to delete\n", id);
                exit(99);
        }
        size_t pos = (size_t)(sn - m->snaps);
        snap_release(sn);
        memmove(&m->snaps[pos], &m->snaps[pos + 1], (m->nsnaps - pos - 1) * sizeof(*m->snaps));
        m->nsnaps--;
}

void model_snapshot_rename(Model *m, uint32_t id, const char *name)
{
        ModelSnap *sn = model_snap(m, id);

        if (sn)
                snprintf(sn->name, sizeof(sn->name), "%s", name);
}

void model_snapshot_write(Model *m, uint32_t id, const void *buf, uint64_t offset, uint64_t length)
{
        ModelSnap *sn = model_snap(m, id);

        if (!sn || !length)
                return;
        image_write(&sn->image, buf, offset, length);
        for (uint64_t c = offset / m->chunk_size; c <= (offset + length - 1) / m->chunk_size; c++) {
                if (!(sn->written[c / 8] & (1u << (c % 8)))) {
                        sn->written[c / 8] |= (uint8_t)(1u << (c % 8));
                        sn->written_count++;
                }
        }
}

void model_revert(Model *m, uint32_t id)
{
        ModelSnap *sn = model_snap(m, id);

        if (!sn)
                return;
        if (sn->image.size > m->origin.size) {
                fprintf(stderr, "FAIL: model cannot revert to a snapshot larger than the origin\n");
                exit(99);
        }
        /* The origin keeps its size; bytes past the snapshot's image stay. */
        const ModelImage *src = &sn->image;
        ModelImage *o = &m->origin;
        for (uint64_t c = 0; c < src->nchunks; c++) {
                uint64_t n = image_chunk_bytes(src, c);

                if (n == image_chunk_bytes(o, c) || src->chunks[c] == o->chunks[c]) {
                        if (src->chunks[c])
                                src->chunks[c]->refs++;
                        chunk_put(o->chunks[c]);
                        o->chunks[c] = src->chunks[c];
                        continue;
                }
                memcpy(image_own_chunk(o, c)->data, chunk_bytes(src->chunks[c]), n);
        }
}

bool model_equal(const Model *a, const Model *b)
{
        if (a->nsnaps != b->nsnaps || !image_equal(&a->origin, &b->origin))
                return false;
        for (size_t i = 0; i < a->nsnaps; i++) {
                const ModelSnap *x = &a->snaps[i], *y = &b->snaps[i];

                if (x->id != y->id || x->flags != y->flags || x->priority != y->priority ||
                    strcmp(x->name, y->name) || !image_equal(&x->image, &y->image))
                        return false;
        }
        return true;
}

/* ---- comparing a store with the model ---- */

static uint8_t *verify_buffer(void)
{
        static uint8_t *buf;

        if (!buf) {
                buf = ss_alloc_io_buffer(VERIFY_PIECE);
                if (!buf) {
                        fprintf(stderr, "FAIL: out of memory\n");
                        exit(99);
                }
        }
        return buf;
}

static void describe_image(char *out, size_t len, const Model *m, uint32_t id)
{
        const ModelSnap *sn = model_snap(m, id);

        if (id == SS_ORIGIN_ID)
                snprintf(out, len, "origin");
        else
                snprintf(out, len, "snapshot %u '%s'", id, sn ? sn->name : "?");
}

int store_image_read(SsStore *s, uint32_t id, void *buf, uint64_t offset, size_t length)
{
        int r = id == SS_ORIGIN_ID ? ss_origin_read(s, buf, offset, length)
                                   : ss_snapshot_read(s, id, buf, offset, length);
        return r > 0 && (size_t)r != length ? -EIO : r < 0 ? r : 0;
}

/* Compares [offset, offset + length) of image id, read from the store into
 * buf, with the model. */
static int compare_range(const Model *m, uint32_t id, const uint8_t *buf, uint64_t offset,
                         uint64_t length, char *why, size_t why_len)
{
        const ModelImage *img = model_image(m, id);
        uint32_t cs = m->chunk_size;
        uint64_t done = 0;

        while (done < length) {
                uint64_t pos = offset + done;
                uint64_t c = pos / cs, in = pos % cs;
                uint64_t n = cs - in < length - done ? cs - in : length - done;
                const uint8_t *want = chunk_bytes(img->chunks[c]) + in;

                if (memcmp(buf + done, want, n)) {
                        uint64_t i = 0;
                        char what[200];

                        while (buf[done + i] == want[i])
                                i++;
                        describe_image(what, sizeof(what), m, id);
                        snprintf(why, why_len,
                                 "%s byte %" PRIu64 " (chunk %" PRIu64 ", sector %" PRIu64
                                 "): store has 0x%02x, model 0x%02x",
                                 what, pos + i, (pos + i) / cs, (pos + i) / SECTOR, buf[done + i],
                                 want[i]);
                        return 1;
                }
                done += n;
        }
        return 0;
}

int model_verify_image(SsStore *s, const Model *m, uint32_t id, char *why, size_t why_len)
{
        const ModelImage *img = model_image(m, id);
        uint8_t *buf = verify_buffer();
        uint64_t piece = VERIFY_PIECE;

        for (uint64_t off = 0; off < img->size; off += piece) {
                uint64_t n = img->size - off < piece ? img->size - off : piece;
                int r = store_image_read(s, id, buf, off, n);

                if (r < 0) {
                        char what[200];

                        describe_image(what, sizeof(what), m, id);
                        snprintf(why, why_len, "reading %s at %" PRIu64 " (+%" PRIu64 "): %s (%s)",
                                 what, off, n, strerror(-r), ss_last_error());
                        return r;
                }
                r = compare_range(m, id, buf, off, n, why, why_len);
                if (r)
                        return r;
        }
        return 0;
}

int model_verify_chunk(SsStore *s, const Model *m, uint32_t id, uint64_t chunk, char *why,
                       size_t why_len)
{
        const ModelImage *img = model_image(m, id);
        uint8_t *buf = verify_buffer();

        if (!img || chunk >= img->nchunks)
                return 0;
        uint64_t n = image_chunk_bytes(img, chunk);
        int r = store_image_read(s, id, buf, chunk * m->chunk_size, n);
        if (r < 0) {
                char what[200];

                describe_image(what, sizeof(what), m, id);
                snprintf(why, why_len, "reading chunk %" PRIu64 " of %s: %s (%s)", chunk, what,
                         strerror(-r), ss_last_error());
                return r;
        }
        return compare_range(m, id, buf, chunk * m->chunk_size, n, why, why_len);
}

static int verify_meta(SsStore *s, Model *m, char *why, size_t why_len)
{
        SsStoreInfo info;
        SsSnapshotInfo si;
        uint32_t after = 0;
        int r;

        for (size_t i = 0; i <= m->nsnaps; i++) {
                r = ss_snapshot_next(s, after, &si);
                if (i == m->nsnaps) {
                        if (r != -ENOENT) {
                                snprintf(why, why_len,
                                         "ss_snapshot_next(%u) after the last of %zu snapshots "
                                         "returned %d (id %u '%s'), expected -ENOENT",
                                         after, m->nsnaps, r, r >= 0 ? si.id : 0,
                                         r >= 0 ? si.name : "");
                                return r < 0 ? r : 1;
                        }
                        break;
                }
                ModelSnap *sn = &m->snaps[i];
                if (r < 0) {
                        snprintf(why, why_len,
                                 "ss_snapshot_next(%u) returned %s (%s), expected snapshot %u "
                                 "'%s'",
                                 after, strerror(-r), ss_last_error(), sn->id, sn->name);
                        return r == -ENOENT ? 1 : r;
                }
                if (si.id != sn->id) {
                        snprintf(why, why_len,
                                 "ss_snapshot_next(%u) gave snapshot %u '%s', expected %u '%s'",
                                 after, si.id, si.name, sn->id, sn->name);
                        return 1;
                }
                SsSnapshotInfo gi;
                r = ss_snapshot_get(s, sn->id, &gi);
                if (r < 0) {
                        snprintf(why, why_len, "ss_snapshot_get(%u): %s (%s)", sn->id, strerror(-r),
                                 ss_last_error());
                        return r;
                }
                for (int pass = 0; pass < 2; pass++) {
                        const SsSnapshotInfo *x = pass ? &gi : &si;
                        const char *fn = pass ? "ss_snapshot_get" : "ss_snapshot_next";

                        if (x->id != sn->id || strcmp(x->name, sn->name) || x->flags != sn->flags ||
                            x->priority != sn->priority || x->origin_size != sn->image.size ||
                            (sn->ctime && x->ctime != sn->ctime)) {
                                snprintf(why, why_len,
                                         "%s: snapshot %u is '%s' flags 0x%x priority %d size "
                                         "%" PRIu64 " ctime %" PRId64
                                         ", model says %u '%s' flags 0x%x priority %d size "
                                         "%" PRIu64 " ctime %" PRId64,
                                         fn, x->id, x->name, x->flags, x->priority, x->origin_size,
                                         x->ctime, sn->id, sn->name, sn->flags, sn->priority,
                                         sn->image.size, sn->ctime);
                                return 1;
                        }
                }
                if (!sn->ctime)
                        sn->ctime = si.ctime;
                uint32_t found = 0;
                r = ss_snapshot_find(s, sn->name, &found);
                if (r < 0 || found != sn->id) {
                        snprintf(why, why_len, "ss_snapshot_find('%s') gave %d id %u, expected %u",
                                 sn->name, r, r < 0 ? 0 : found, sn->id);
                        return r < 0 && r != -ENOENT ? r : 1;
                }
                after = sn->id;
        }

        r = ss_store_info(s, &info);
        if (r < 0) {
                snprintf(why, why_len, "ss_store_info: %s (%s)", strerror(-r), ss_last_error());
                return r;
        }
        if (info.snapshot_count != m->nsnaps || info.chunk_size != m->chunk_size ||
            info.origin_size != m->origin.size || info.next_id <= model_last_id(m)) {
                snprintf(why, why_len,
                         "ss_store_info: %u snapshots, chunk %u, origin %" PRIu64
                         " bytes, next id %u; model: %zu snapshots, chunk %u, origin %" PRIu64
                         " bytes, last id %u",
                         info.snapshot_count, info.chunk_size, info.origin_size, info.next_id,
                         m->nsnaps, m->chunk_size, m->origin.size, model_last_id(m));
                return 1;
        }
        return 0;
}

static int verify_usage(SsStore *s, const Model *m, char *why, size_t why_len)
{
        for (size_t i = 0; i < m->nsnaps; i++) {
                const ModelSnap *sn = &m->snaps[i];
                SsSnapshotUsage u;
                int r = ss_snapshot_usage(s, sn->id, &u);

                if (r < 0) {
                        snprintf(why, why_len, "ss_snapshot_usage(%u): %s (%s)", sn->id,
                                 strerror(-r), ss_last_error());
                        return r;
                }
                if (u.private_chunks != sn->written_count) {
                        snprintf(why, why_len,
                                 "ss_snapshot_usage(%u '%s'): %" PRIu64
                                 " private chunks, but %" PRIu64
                                 " distinct chunks were written to it",
                                 sn->id, sn->name, u.private_chunks, sn->written_count);
                        return 1;
                }
                if (u.exclusive_bytes < u.private_chunks * m->chunk_size) {
                        snprintf(why, why_len,
                                 "ss_snapshot_usage(%u '%s'): exclusive_bytes %" PRIu64
                                 " smaller than its %" PRIu64 " private chunks",
                                 sn->id, sn->name, u.exclusive_bytes, u.private_chunks);
                        return 1;
                }
        }
        return 0;
}

int model_verify(SsStore *s, Model *m, unsigned what, char *why, size_t why_len)
{
        int r;

        if (what & MV_META) {
                r = verify_meta(s, m, why, why_len);
                if (r)
                        return r;
        }
        if (what & MV_USAGE) {
                r = verify_usage(s, m, why, why_len);
                if (r)
                        return r;
        }
        if (what & MV_ORIGIN) {
                r = model_verify_image(s, m, SS_ORIGIN_ID, why, why_len);
                if (r)
                        return r;
        }
        if (what & MV_SNAPS) {
                for (size_t i = 0; i < m->nsnaps; i++) {
                        r = model_verify_image(s, m, m->snaps[i].id, why, why_len);
                        if (r)
                                return r;
                }
        }
        return 0;
}

int model_verify_sectors(SsStore *s, uint32_t id, const Model *before, const Model *after,
                         char *why, size_t why_len)
{
        const ModelImage *a = model_image(before, id), *b = model_image(after, id);
        uint8_t *buf = verify_buffer();
        uint8_t sa[SECTOR], sb[SECTOR];
        char what[200];

        describe_image(what, sizeof(what), before, id);
        if (!a || !b || a->size != b->size) {
                snprintf(why, why_len, "%s: not the same image in the old and the new state", what);
                return 1;
        }
        for (uint64_t off = 0; off < a->size; off += VERIFY_PIECE) {
                uint64_t n = a->size - off < VERIFY_PIECE ? a->size - off : VERIFY_PIECE;
                int r = store_image_read(s, id, buf, off, n);

                if (r < 0) {
                        snprintf(why, why_len, "reading %s at %" PRIu64 ": %s (%s)", what, off,
                                 strerror(-r), ss_last_error());
                        return r;
                }
                for (uint64_t sec = 0; sec < n; sec += SECTOR) {
                        model_read(a, sa, off + sec, SECTOR);
                        model_read(b, sb, off + sec, SECTOR);
                        if (!memcmp(buf + sec, sa, SECTOR) || !memcmp(buf + sec, sb, SECTOR))
                                continue;
                        snprintf(why, why_len,
                                 "%s sector %" PRIu64 " (byte %" PRIu64
                                 ") matches neither the old nor the new data "
                                 "(store %02x%02x%02x%02x.., old %02x%02x%02x%02x.., new "
                                 "%02x%02x%02x%02x..)",
                                 what, (off + sec) / SECTOR, off + sec, buf[sec], buf[sec + 1],
                                 buf[sec + 2], buf[sec + 3], sa[0], sa[1], sa[2], sa[3], sb[0],
                                 sb[1], sb[2], sb[3]);
                        return 1;
                }
        }
        return 0;
}
