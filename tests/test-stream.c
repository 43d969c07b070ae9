/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of replication streams (snapstore/stream-*.c) on file-backed
 * stores in a temporary directory: full and incremental sends compared
 * byte for byte, holes kept, resume at every resume point, and every kind
 * of bad stream refused with the target's snapshots intact.
 *
 * Random writes are seeded: the seed is printed, ZUMA_TEST_SEED=N replays.
 * The stores live in $TMPDIR, else /dev/shm, else /tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "test-check.h"
#include "fuzz/membuf.h"
#include "format.h"
#include "snapstore.h"
#include "stream-format.h"
#include "test-util.h"

#define CHUNK 4096u
#define CHUNKS 256u
#define ORIGIN_SIZE ((uint64_t)CHUNKS * CHUNK)
#define STORE_SIZE (8u << 20)
#define MONDAY 1700000000
#define TUESDAY 1700086400
#define MIN(a, b) ((a) < (b) ? (a) : (b))

static char workdir[256];
static uint64_t seed;

static const uint8_t source_uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

typedef struct Vol {
        char origin_path[300], store_path[300];
        SsBlockDev *origin, *store;
        SsStore *s;
} Vol;

static void vol_new_sized(Vol *v, const char *name, const uint8_t *uuid, uint32_t chunk,
                          uint64_t origin_size)
{
        snprintf(v->origin_path, sizeof(v->origin_path), "%s/%s.origin", workdir, name);
        snprintf(v->store_path, sizeof(v->store_path), "%s/%s.store", workdir, name);
        unlink(v->origin_path);
        unlink(v->store_path);
        for (int i = 0; i < 2; i++) {
                int fd = open(i ? v->store_path : v->origin_path, O_RDWR | O_CREAT, 0600);
                CHECK_SS(fd >= 0 && ftruncate(fd, i ? STORE_SIZE : (off_t)origin_size) == 0);
                close(fd);
        }
        CHECK_SS(ss_blockdev_open_file(v->origin_path, SS_BLOCKDEV_BUFFERED, &v->origin) == 0);
        CHECK_SS(ss_blockdev_open_file(v->store_path, SS_BLOCKDEV_BUFFERED, &v->store) == 0);
        SsCreateOptions c = { .volume_name = "vol", .volume_uuid = uuid, .chunk_size = chunk };
        CHECK_SS(ss_store_create(v->origin, v->store, &c) == 0);
        CHECK_SS(ss_store_open(v->origin, v->store, NULL, &v->s) == 0);
}

static void vol_new(Vol *v, const char *name, const uint8_t *uuid, uint32_t chunk)
{
        vol_new_sized(v, name, uuid, chunk, ORIGIN_SIZE);
}

static void vol_free(Vol *v)
{
        CHECK_SS(ss_store_close(v->s) == 0);
        ss_blockdev_close(v->origin);
        ss_blockdev_close(v->store);
        unlink(v->origin_path);
        unlink(v->store_path);
}

/* ---- streams in memory ---- */

/* Reads a buffer up to `end` (a cut link), in odd-sized pieces. */
typedef struct Reader {
        const uint8_t *data;
        size_t at, end;
} Reader;

static int reader_read(void *user, void *buf, size_t len)
{
        Reader *r = user;
        size_t n = MIN(MIN(len, r->end - r->at), (size_t)1000);

        memcpy(buf, r->data + r->at, n);
        r->at += n;
        return (int)n;
}

typedef struct Durable {
        bool seen;
        uint64_t index, records;
} Durable;

static int on_durable(void *user, uint64_t index, uint64_t records)
{
        Durable *d = user;
        d->seen = true;
        d->index = index;
        d->records = records;
        return 0;
}

static int send(Vol *v, uint32_t from, uint32_t to, bool resume, uint64_t after, MemBuf *out,
                SsStreamStats *st)
{
        SsStreamSendOptions o = { .write = membuf_write,
                                  .user = out,
                                  .zstd_level = 3,
                                  .resume = resume,
                                  .resume_after = after,
                                  .resume_every_records = 8 };
        out->len = 0;
        return ss_stream_send(v->s, from, to, &o, st);
}

static int receive(Vol *v, const uint8_t *data, size_t len, bool resume, uint64_t after, Durable *d,
                   uint32_t *ret_id)
{
        Reader rd = { .data = data, .end = len };
        SsStreamReceiveOptions o = { .read = reader_read,
                                     .user = &rd,
                                     .resume = resume,
                                     .resume_after = after,
                                     .on_durable = on_durable,
                                     .durable_user = d };
        return ss_stream_receive(v->s, &o, NULL, ret_id);
}

/* ---- images ---- */

static void random_chunk(Rng *r, uint8_t *buf)
{
        unsigned kind = (unsigned)rng_below(r, 4);
        if (kind == 0) {
                memset(buf, 0, CHUNK); /* a chunk that becomes zero */
        } else if (kind == 1) {
                for (size_t i = 0; i < CHUNK; i++) /* incompressible */
                        buf[i] = (uint8_t)rng_u64(r);
        } else {
                memset(buf, (int)rng_below(r, 256), CHUNK); /* compressible */
                buf[rng_below(r, CHUNK)] ^= 0x5a;
        }
}

static void random_writes(Vol *v, Rng *r, unsigned count)
{
        static uint8_t buf[CHUNK];
        for (unsigned i = 0; i < count; i++) {
                random_chunk(r, buf);
                CHECK_SS(ss_origin_write(v->s, buf, rng_below(r, CHUNKS) * CHUNK, CHUNK) == 0);
        }
}

/* Whether image a_id of a and b_id of b hold the same bytes (0: origin). */
static bool same_image(Vol *a, uint32_t a_id, Vol *b, uint32_t b_id)
{
        static uint8_t x[CHUNK], y[CHUNK];
        for (uint64_t c = 0; c < CHUNKS; c++) {
                int r1 = a_id ? ss_snapshot_read(a->s, a_id, x, c * CHUNK, CHUNK)
                              : ss_origin_read(a->s, x, c * CHUNK, CHUNK);
                int r2 = b_id ? ss_snapshot_read(b->s, b_id, y, c * CHUNK, CHUNK)
                              : ss_origin_read(b->s, y, c * CHUNK, CHUNK);
                if (r1 || r2 || memcmp(x, y, CHUNK)) {
                        fprintf(stderr, "  images differ at chunk %llu\n", (unsigned long long)c);
                        return false;
                }
        }
        return true;
}

static uint32_t snapshot_count(Vol *v)
{
        SsStoreInfo info;
        CHECK_SS(ss_store_info(v->s, &info) == 0);
        return info.snapshot_count;
}

/* The source: chunks written at random (about a third of them, the rest
 * holes), monday, more random writes, tuesday. */
static void make_source(Vol *src, uint32_t *ret_a, uint32_t *ret_b)
{
        Rng r = { seed };
        vol_new(src, "source", source_uuid, CHUNK);
        random_writes(src, &r, CHUNKS / 3);
        CHECK_SS(ss_snapshot_create_at(src->s, "monday", 0, 0, MONDAY, ret_a) == 0);
        random_writes(src, &r, CHUNKS / 10);
        CHECK_SS(ss_snapshot_create_at(src->s, "tuesday", 0, 0, TUESDAY, ret_b) == 0);
        random_writes(src, &r, 5); /* the live origin moves on */
}

/* A target holding monday, received in full from the source. */
static uint32_t make_target(Vol *tgt, Vol *src, uint32_t a, const char *name)
{
        MemBuf full = { 0 };
        Durable d = { 0 };
        uint32_t id = 0;
        vol_new(tgt, name, source_uuid, CHUNK);
        CHECK_SS(send(src, 0, a, false, 0, &full, NULL) == 0);
        CHECK_SS(receive(tgt, full.data, full.len, false, 0, &d, &id) == 0);
        free(full.data);
        return id;
}

static void test_full(void)
{
        Vol src, tgt;
        uint32_t a, b, id = 0;
        MemBuf buf = { 0 };
        SsStreamStats st;
        SsSnapshotInfo info;
        Durable d = { 0 };
        struct stat sb;

        make_source(&src, &a, &b);
        vol_new(&tgt, "target", source_uuid, CHUNK);
        CHECK_SS(send(&src, 0, a, false, 0, &buf, &st) == 0);
        CHECK_SS(receive(&tgt, buf.data, buf.len, false, 0, &d, &id) == 0);
        CHECK_SS(d.seen);
        CHECK_SS(same_image(&src, a, &tgt, id) && same_image(&src, a, &tgt, 0));
        CHECK_SS(ss_snapshot_get(tgt.s, id, &info) == 0 && !strcmp(info.name, "monday") &&
                 info.ctime == MONDAY);
        SsStreamDigest ds, dt;
        CHECK_SS(ss_snapshot_digest(src.s, a, &ds) == 0 && ss_snapshot_digest(tgt.s, id, &dt) == 0);
        CHECK_SS(ds.lo == dt.lo && ds.hi == dt.hi && ds.lo == st.digest.lo);
        /* Holes stay holes: the target's origin file holds only the data chunks. */
        CHECK_SS(stat(tgt.origin_path, &sb) == 0);
        CHECK_SS((uint64_t)sb.st_blocks * 512 <= (st.chunk_records + 2) * CHUNK);
        CHECK_SS(st.chunk_records + st.zero_chunks == CHUNKS);
        printf("full: %llu data chunks, %llu zero chunks in %llu runs, %llu stream bytes, "
               "%llu on disk\n",
               (unsigned long long)st.chunk_records, (unsigned long long)st.zero_chunks,
               (unsigned long long)st.zero_records, (unsigned long long)st.bytes,
               (unsigned long long)sb.st_blocks * 512);
        /* The same snapshot again: its name is taken. */
        CHECK_SS(receive(&tgt, buf.data, buf.len, false, 0, &d, NULL) == -EEXIST);
        free(buf.data);
        vol_free(&tgt);
        vol_free(&src);
}

static void test_incremental(void)
{
        Vol src, tgt;
        uint32_t a, b, ta, tb = 0;
        MemBuf buf = { 0 };
        SsStreamStats st;
        Durable d = { 0 };

        make_source(&src, &a, &b);
        ta = make_target(&tgt, &src, a, "target");
        CHECK_SS(send(&src, a, b, false, 0, &buf, &st) == 0);
        CHECK_SS(receive(&tgt, buf.data, buf.len, false, 0, &d, &tb) == 0);
        CHECK_SS(same_image(&src, b, &tgt, tb) && same_image(&src, a, &tgt, ta));
        CHECK_SS(snapshot_count(&tgt) == 2);
        /* A known base digest gives the same answer as reading the base. */
        SsStreamDigest base;
        MemBuf again = { 0 };
        CHECK_SS(ss_snapshot_digest(src.s, a, &base) == 0);
        SsStreamSendOptions o = { .write = membuf_write, .user = &again, .from_digest = &base };
        SsStreamStats st2;
        CHECK_SS(ss_stream_send(src.s, a, b, &o, &st2) == 0);
        CHECK_SS(st2.digest.lo == st.digest.lo && st2.digest.hi == st.digest.hi);
        printf("incremental: %llu chunks changed (%llu zero), %llu stream bytes for %llu "
               "payload bytes\n",
               (unsigned long long)(st.chunk_records + st.zero_chunks),
               (unsigned long long)st.zero_chunks, (unsigned long long)st.bytes,
               (unsigned long long)st.payload_bytes);
        /* Two snapshots with nothing between them: header and trailer only. */
        uint32_t c, e, tc = 0, te = 0;
        struct timespec t0, t1;
        CHECK_SS(ss_snapshot_create_at(src.s, "wednesday", 0, 0, TUESDAY + 86400, &c) == 0);
        CHECK_SS(ss_snapshot_create_at(src.s, "thursday", 0, 0, TUESDAY + 2 * 86400, &e) == 0);
        CHECK_SS(send(&src, b, c, false, 0, &buf, NULL) == 0);
        CHECK_SS(receive(&tgt, buf.data, buf.len, false, 0, &d, &tc) == 0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_SS(send(&src, c, e, false, 0, &buf, &st) == 0);
        CHECK_SS(st.chunk_records == 0 && st.zero_records == 0);
        CHECK_SS(buf.len == SS_STREAM_HEADER_SIZE + SS_REC_TRAILER_SIZE);
        CHECK_SS(receive(&tgt, buf.data, buf.len, false, 0, &d, &te) == 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK_SS(same_image(&src, c, &tgt, tc) && same_image(&src, e, &tgt, te));
        printf("no change: %zu stream bytes, send and receive in %.3f s\n", buf.len,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        free(again.data);
        free(buf.data);
        vol_free(&tgt);
        vol_free(&src);
}

/* Offsets just past each resume point of a stream. */
static size_t resume_offsets(const MemBuf *b, size_t *out, size_t max)
{
        SsStreamHeader h;
        SsStreamParser p;
        size_t at = SS_STREAM_HEADER_SIZE, n = 0;

        CHECK_SS(ss_stream_header_decode(b->data, b->len, &h) == 0);
        ss_stream_parser_init(&p, &h);
        while (at < b->len) {
                SsStreamRecord rec;
                size_t size;
                if (ss_stream_record_size(&p, b->data + at, &size) < 0 ||
                    ss_stream_record_decode(&p, b->data + at, size, &rec) < 0)
                        break;
                at += size;
                if (rec.type == SS_REC_RESUME && n < max)
                        out[n++] = at;
        }
        ss_stream_parser_fini(&p);
        return n;
}

/* Cuts the stream half way between each resume point and the next (so
 * records past the durable point were applied before the cut), restarts
 * both ends from the durable index and compares.  Resent: the bytes the
 * first run received past its last durable point. */
static void resume_case(bool incremental)
{
        Vol src, tgt;
        uint32_t a, b, id;
        MemBuf buf = { 0 }, rest = { 0 };
        size_t cuts[256], ncuts;
        uint64_t resent = 0, total = 0;

        make_source(&src, &a, &b);
        CHECK_SS(send(&src, incremental ? a : 0, b, false, 0, &buf, NULL) == 0);
        ncuts = resume_offsets(&buf, cuts, 256);
        CHECK_SS(ncuts >= 2);
        for (size_t k = 0; k < ncuts; k++) {
                Durable d = { 0 };
                size_t next = k + 1 < ncuts ? cuts[k + 1] : buf.len;
                size_t cut = cuts[k] + (next - cuts[k]) / 2;
                if (incremental)
                        make_target(&tgt, &src, a, "resume");
                else
                        vol_new(&tgt, "resume", source_uuid, CHUNK);
                uint32_t before = snapshot_count(&tgt);
                CHECK_SS(receive(&tgt, buf.data, cut, false, 0, &d, NULL) == -EBADMSG);
                CHECK_SS(snapshot_count(&tgt) == before && d.seen);
                CHECK_SS(send(&src, incremental ? a : 0, b, true, d.index, &rest, NULL) == 0);
                /* The resumed stream carries no more than what followed the durable point. */
                CHECK_SS(rest.len - SS_STREAM_HEADER_SIZE <= buf.len - cuts[k]);
                Durable d2 = { 0 };
                id = 0;
                CHECK_SS(receive(&tgt, rest.data, rest.len, true, d.index, &d2, &id) == 0);
                CHECK_SS(id && same_image(&src, b, &tgt, id));
                resent += cut - cuts[k];
                total += buf.len;
                vol_free(&tgt);
        }
        printf("resume (%s): %zu cuts, %llu bytes resent in all (%.1f%% of %llu sent), plus "
               "a %u-byte header per resume\n",
               incremental ? "incremental" : "full", ncuts, (unsigned long long)resent,
               100.0 * (double)resent / (double)total, (unsigned long long)total,
               SS_STREAM_HEADER_SIZE);
        /* A resumed stream is refused by a receiver that expects another index. */
        if (incremental)
                make_target(&tgt, &src, a, "resume");
        else
                vol_new(&tgt, "resume", source_uuid, CHUNK);
        CHECK_SS(send(&src, incremental ? a : 0, b, true, 3, &rest, NULL) == 0);
        Durable d = { 0 };
        CHECK_SS(receive(&tgt, rest.data, rest.len, true, 4, &d, NULL) == -EBADMSG);
        CHECK_SS(strstr(ss_last_error(), "resumes after chunk 3"));
        CHECK_SS(receive(&tgt, rest.data, rest.len, false, 0, &d, NULL) == -EBADMSG);
        vol_free(&tgt);
        free(buf.data);
        free(rest.data);
        vol_free(&src);
}

static void test_resume(void)
{
        resume_case(false);
        resume_case(true);
}

/* A bad stream: the expected error, no new snapshot, monday intact. */
static void expect_refused(Vol *tgt, Vol *src, uint32_t a, uint32_t ta, const uint8_t *data,
                           size_t len, int err, const char *words)
{
        Durable d = { 0 };
        uint32_t before = snapshot_count(tgt), id = 0;
        int r = receive(tgt, data, len, false, 0, &d, &id);

        if ((err && r != err) || (!err && r >= 0) || (words && !strstr(ss_last_error(), words))) {
                fprintf(stderr, "FAIL: expected %d (\"%s\"), got %d: %s\n", err, words ? words : "",
                        r, ss_last_error());
                check_failures++;
        }
        CHECK_SS(snapshot_count(tgt) == before && id == 0);
        uint32_t found;
        CHECK_SS(ss_snapshot_find(tgt->s, "tuesday", &found) == -ENOENT);
        if (src)
                CHECK_SS(same_image(src, a, tgt, ta));
}

static void reseal_record(uint8_t *rec, size_t fixed)
{
        size_t payload = le32_get(rec + 4) + SS_REC_PREFIX_SIZE - fixed;
        le64_put(rec + fixed - 8, ss_stream_record_check(rec, fixed, rec + fixed, payload));
}

static void reseal_header(uint8_t *h)
{
        le64_put(h + SS_STREAM_HEADER_SIZE - 8, XXH3_64bits(h, SS_STREAM_HEADER_SIZE - 8));
}

/* Offset of the first record of a type. */
static size_t first_record(const MemBuf *b, uint32_t type)
{
        size_t at = SS_STREAM_HEADER_SIZE;
        while (at + 8 <= b->len && le32_get(b->data + at) != type)
                at += 8 + le32_get(b->data + at + 4);
        return at;
}

static void test_refused(void)
{
        Vol src, tgt, other;
        uint32_t a, b, ta, id;
        MemBuf buf = { 0 }, full = { 0 };
        uint8_t *copy;
        Rng r = { seed ^ 0x5eed };

        make_source(&src, &a, &b);
        ta = make_target(&tgt, &src, a, "target");
        CHECK_SS(send(&src, a, b, false, 0, &buf, NULL) == 0);
        CHECK_SS(send(&src, 0, b, false, 0, &full, NULL) == 0);
        copy = malloc(buf.len);

        /* Wrong base: none, or one of another creation time. */
        vol_new(&other, "other", source_uuid, CHUNK);
        expect_refused(&other, NULL, 0, 0, buf.data, buf.len, -ENOENT, "base snapshot monday");
        CHECK_SS(ss_snapshot_create_at(other.s, "monday", 0, 0, MONDAY + 1, &id) == 0);
        expect_refused(&other, NULL, 0, 0, buf.data, buf.len, -ESTALE, "not the same snapshot");
        vol_free(&other);
        /* A local write the stream does not overwrite: the digest says no. */
        make_target(&other, &src, a, "other");
        {
                static uint8_t junk[CHUNK];
                memset(junk, 0xee, CHUNK);
                uint64_t c = 0;
                SsDeltaCursor cur;
                uint64_t changed[CHUNKS];
                int n;
                CHECK_SS(ss_delta_begin(src.s, a, b, &cur) == 0);
                n = ss_delta_next(src.s, &cur, changed, CHUNKS);
                for (bool hit = true; hit; c++) {
                        hit = false;
                        for (int i = 0; i < n; i++)
                                hit |= changed[i] == c;
                        if (!hit)
                                break;
                }
                CHECK_SS(ss_origin_write(other.s, junk, c * CHUNK, CHUNK) == 0);
                expect_refused(&other, NULL, 0, 0, buf.data, buf.len, -EBADMSG, "digest");
        }
        vol_free(&other);
        /* Wrong volume, wrong chunk size. */
        static const uint8_t stranger[16] = { 0xff };
        vol_new(&other, "other", stranger, CHUNK);
        expect_refused(&other, NULL, 0, 0, full.data, full.len, -EXDEV, "volume UUID");
        vol_free(&other);
        vol_new(&other, "other", source_uuid, 2 * CHUNK);
        expect_refused(&other, NULL, 0, 0, full.data, full.len, -EXDEV, "chunk size 4096");
        vol_free(&other);

        /* Bad magic, version, header checksum. */
        memcpy(copy, buf.data, buf.len);
        copy[0] = 'X';
        expect_refused(&tgt, &src, a, ta, copy, buf.len, -EBADMSG, "bad magic");
        memcpy(copy, buf.data, buf.len);
        le32_put(copy + 8, 2);
        reseal_header(copy);
        expect_refused(&tgt, &src, a, ta, copy, buf.len, -EPROTO, "version 2");
        memcpy(copy, buf.data, buf.len);
        copy[41] ^= 1;
        expect_refused(&tgt, &src, a, ta, copy, buf.len, -EBADMSG, "stream header: checksum");

        /* Index out of range, bad chunk checksum, unknown type (each resealed). */
        size_t at = first_record(&buf, SS_REC_CHUNK);
        CHECK_SS(at < buf.len);
        memcpy(copy, buf.data, buf.len);
        le64_put(copy + at + 8, CHUNKS);
        reseal_record(copy + at, SS_REC_CHUNK_SIZE);
        expect_refused(&tgt, &src, a, ta, copy, buf.len, -EBADMSG,
                       "index 256 (+1) is out of range");
        memcpy(copy, buf.data, buf.len);
        le64_put(copy + at + 16, le64_get(copy + at + 16) ^ 1);
        reseal_record(copy + at, SS_REC_CHUNK_SIZE);
        expect_refused(&tgt, &src, a, ta, copy, buf.len, -EBADMSG, "checksum 0x");
        memcpy(copy, buf.data, buf.len);
        le32_put(copy + at, 9);
        expect_refused(&tgt, &src, a, ta, copy, buf.len, -EBADMSG, "unknown type 9");
        /* A wrong digest in the trailer. */
        memcpy(copy, buf.data, buf.len);
        size_t trailer = buf.len - SS_REC_TRAILER_SIZE;
        copy[trailer + 24] ^= 1;
        reseal_record(copy + trailer, SS_REC_TRAILER_SIZE);
        expect_refused(&tgt, &src, a, ta, copy, buf.len, -EBADMSG, "digest of the received");

        /* Truncation at many offsets, and one flipped bit at many places. */
        unsigned truncations = 0, flips = 0;
        for (size_t cut = 0; cut < buf.len; cut += 1 + rng_below(&r, 97), truncations++)
                expect_refused(&tgt, NULL, a, ta, buf.data, cut, -EBADMSG, "truncated");
        for (size_t pos = 0; pos < buf.len; pos += 1 + rng_below(&r, 61), flips++) {
                memcpy(copy, buf.data, buf.len);
                unsigned bit = (unsigned)rng_below(&r, 8);
                copy[pos] ^= (uint8_t)(1u << bit);
                int before = check_failures;
                expect_refused(&tgt, NULL, a, ta, copy, buf.len, 0, NULL);
                if (check_failures != before)
                        fprintf(stderr, "  (bit %u of byte %zu flipped)\n", bit, pos);
        }
        CHECK_SS(same_image(&src, a, &tgt, ta));
        printf("refused: %u truncations and %u bit flips of a %zu-byte stream\n", truncations,
               flips, buf.len);
        /* After all that, the real stream still applies. */
        id = 0;
        Durable d = { 0 };
        CHECK_SS(receive(&tgt, buf.data, buf.len, false, 0, &d, &id) == 0);
        CHECK_SS(id && same_image(&src, b, &tgt, id) && same_image(&src, a, &tgt, ta));
        free(copy);
        free(buf.data);
        free(full.data);
        vol_free(&tgt);
        vol_free(&src);
}

/* An image whose last chunk is partial: its bytes past the end travel as
 * zeros, and a stream with data there is refused. */
static void test_partial_chunk(void)
{
        const uint64_t size = 10 * CHUNK + 2048;
        static uint8_t data[CHUNK], got[CHUNK];
        Vol src, tgt;
        uint32_t a, id = 0;
        MemBuf buf = { 0 };
        Durable d = { 0 };
        Rng r = { seed };

        vol_new_sized(&src, "partial-source", source_uuid, CHUNK, size);
        vol_new_sized(&tgt, "partial-target", source_uuid, CHUNK, size);
        for (size_t i = 0; i < CHUNK; i++)
                data[i] = (uint8_t)rng_u64(&r);
        CHECK_SS(ss_origin_write(src.s, data, 3 * CHUNK, CHUNK) == 0);
        CHECK_SS(ss_origin_write(src.s, data, 10 * CHUNK, 2048) == 0);
        CHECK_SS(ss_snapshot_create_at(src.s, "monday", 0, 0, MONDAY, &a) == 0);
        SsStreamSendOptions o = { .write = membuf_write, .user = &buf }; /* uncompressed */
        CHECK_SS(ss_stream_send(src.s, 0, a, &o, NULL) == 0);
        CHECK_SS(receive(&tgt, buf.data, buf.len, false, 0, &d, &id) == 0);
        CHECK_SS(ss_snapshot_read(tgt.s, id, got, 10 * CHUNK, 2048) == 0 &&
                 !memcmp(got, data, 2048));
        CHECK_SS(ss_snapshot_read(tgt.s, id, got, 3 * CHUNK, CHUNK) == 0 &&
                 !memcmp(got, data, CHUNK));
        SsStreamDigest ds, dt;
        CHECK_SS(ss_snapshot_digest(src.s, a, &ds) == 0 && ss_snapshot_digest(tgt.s, id, &dt) == 0);
        CHECK_SS(ds.lo == dt.lo && ds.hi == dt.hi);

        /* The last chunk's record with a byte set past the end, all checks redone. */
        size_t at = SS_STREAM_HEADER_SIZE;
        while (at < buf.len &&
               !(le32_get(buf.data + at) == SS_REC_CHUNK && le64_get(buf.data + at + 8) == 10))
                at += SS_REC_PREFIX_SIZE + le32_get(buf.data + at + 4);
        CHECK_SS(at < buf.len && le32_get(buf.data + at + 24) == SS_COMPRESS_NONE);
        uint8_t *plain = buf.data + at + SS_REC_CHUNK_SIZE;
        plain[CHUNK - 1] = 1;
        le64_put(buf.data + at + 16, XXH3_64bits(plain, CHUNK));
        reseal_record(buf.data + at, SS_REC_CHUNK_SIZE);
        vol_free(&tgt);
        vol_new_sized(&tgt, "partial-target", source_uuid, CHUNK, size);
        expect_refused(&tgt, NULL, 0, 0, buf.data, buf.len, -EBADMSG, "past the image's end");
        free(buf.data);
        vol_free(&tgt);
        vol_free(&src);
}

static void run(const char *name, void (*fn)(void))
{
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%s: %.2f s\n", name,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        fflush(stdout);
}

int main(void)
{
        const char *env = getenv("ZUMA_TEST_SEED");
        const char *tmp = getenv("TMPDIR");

        seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
        printf("seed=%llu (ZUMA_TEST_SEED=%llu replays)\n", (unsigned long long)seed,
               (unsigned long long)seed);
        /* Every commit flushes: on tmpfs that costs nothing, so the test
         * times its own work and not the disk's. */
        if (!tmp)
                tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(workdir, sizeof(workdir), "%s/test-stream-XXXXXX", tmp);
        if (!mkdtemp(workdir)) {
                perror("mkdtemp");
                return 99;
        }
        run("full", test_full);
        run("incremental", test_incremental);
        run("resume", test_resume);
        run("refused", test_refused);
        run("partial chunk", test_partial_chunk);
        rmdir(workdir);
        if (check_failures) {
                fprintf(stderr, "%d checks failed (seed=%llu)\n", check_failures,
                        (unsigned long long)seed);
                return 1;
        }
        return 0;
}
