/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Encoding and decoding of replication stream records: pure, no I/O.  The
 * parser works on byte buffers handed to it and trusts none of them.
 *
 * Rules it keeps (docs/replication-stream.md has the layout):
 * - The header is checked in this order, so the error names the first
 *   thing wrong: magic, version, header length, checksum, flags, reserved
 *   fields, chunk size, origin size, resume index, the two identities.
 * - Every record carries an xxh3-64 check of its prefix, fixed fields and
 *   stored payload, verified before anything in it is used; a chunk's
 *   plaintext has its own xxh3-64, checked after decompression (the
 *   end-to-end check of what the sender read).  Unknown record types and lengths that do not fit the
 *   type are errors before anything else is read.
 * - Chunk and zero records carry strictly increasing indexes below the
 *   image's chunk count (above resume_after in a resumed stream).  A stored
 *   payload is at most chunk_size bytes: uncompressed exactly chunk_size,
 *   zstd less (a chunk that does not shrink goes uncompressed) and exactly
 *   chunk_size once decompressed.  Bytes past the image's end are zero.
 * - Resume points and the trailer repeat the record count and their own
 *   stream offset, which must match what was parsed; nothing follows the
 *   trailer.
 * Every error is -EBADMSG (-EPROTO for an unsupported version or flag) with
 * a sentence naming the field and its value.
 */
#include <errno.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

#include "internal.h"
#include "stream-format.h"

#define HDR_MAGIC 0
#define HDR_VERSION 8
#define HDR_LENGTH 12
#define HDR_FLAGS 16
#define HDR_RESERVED1 20
#define HDR_VOLUME_UUID 24
#define HDR_CHUNK_SIZE 40
#define HDR_RESERVED2 44
#define HDR_ORIGIN_SIZE 48
#define HDR_RESUME_AFTER 56
#define HDR_FROM 64
#define HDR_TO 208
#define HDR_CHECKSUM 352
#define ID_NAME 0 /* within an identity: name[128], ctime i64, source id u32, reserved u32 */
#define ID_CTIME 128
#define ID_SOURCE_ID 136
#define ID_RESERVED 140
#define ID_SIZE 144
_Static_assert(HDR_TO + ID_SIZE == HDR_CHECKSUM, "header layout");
_Static_assert(HDR_CHECKSUM + 8 == SS_STREAM_HEADER_SIZE, "header size");
_Static_assert(SS_NAME_MAX + 1 == ID_CTIME, "identity name field");

static void identity_put(uint8_t *p, const SsStreamSnapshot *id)
{
        strncpy((char *)p + ID_NAME, id->name, SS_NAME_MAX + 1);
        le64_put(p + ID_CTIME, (uint64_t)id->ctime);
        le32_put(p + ID_SOURCE_ID, id->source_id);
        le32_put(p + ID_RESERVED, 0);
}

int ss_stream_header_encode(const SsStreamHeader *h, uint8_t out[SS_STREAM_HEADER_SIZE])
{
        memset(out, 0, SS_STREAM_HEADER_SIZE);
        memcpy(out + HDR_MAGIC, SS_STREAM_MAGIC, 8);
        le32_put(out + HDR_VERSION, SS_STREAM_VERSION);
        le32_put(out + HDR_LENGTH, SS_STREAM_HEADER_SIZE);
        le32_put(out + HDR_FLAGS, h->flags);
        memcpy(out + HDR_VOLUME_UUID, h->volume_uuid, 16);
        le32_put(out + HDR_CHUNK_SIZE, h->chunk_size);
        le64_put(out + HDR_ORIGIN_SIZE, h->origin_size);
        le64_put(out + HDR_RESUME_AFTER, h->resume_after);
        if (h->flags & SS_STREAM_INCREMENTAL)
                identity_put(out + HDR_FROM, &h->from);
        identity_put(out + HDR_TO, &h->to);
        le64_put(out + HDR_CHECKSUM, XXH3_64bits(out, HDR_CHECKSUM));
        return 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (p[i])
                        return false;
        return true;
}

/* One identity: a valid name NUL-padded to the end of its field. */
static int identity_get(const uint8_t *p, const char *which, SsStreamSnapshot *ret)
{
        const char *name = (const char *)p + ID_NAME;
        size_t len = strnlen(name, SS_NAME_MAX + 1);

        if (len > SS_NAME_MAX)
                return ss_error(-EBADMSG, "stream header: %s-snapshot name is not terminated",
                                which);
        if (!all_zero(p + len, SS_NAME_MAX + 1 - len))
                return ss_error(-EBADMSG, "stream header: %s-snapshot name has bytes after its end",
                                which);
        if (!ss_name_valid(name, SS_NAME_MAX))
                return ss_error(-EBADMSG, "stream header: %s-snapshot name \"%s\" is invalid",
                                which, name);
        if (le32_get(p + ID_RESERVED))
                return ss_error(-EBADMSG, "stream header: %s-snapshot reserved field is 0x%x",
                                which, le32_get(p + ID_RESERVED));
        memcpy(ret->name, name, len + 1);
        ret->ctime = (int64_t)le64_get(p + ID_CTIME);
        ret->source_id = le32_get(p + ID_SOURCE_ID);
        return 0;
}

int ss_stream_header_decode(const uint8_t *buf, size_t len, SsStreamHeader *ret)
{
        SsStreamHeader h = { 0 };

        if (len < SS_STREAM_HEADER_SIZE)
                return ss_error(-EBADMSG, "stream ends inside its header (%zu of %u bytes)", len,
                                SS_STREAM_HEADER_SIZE);
        if (memcmp(buf + HDR_MAGIC, SS_STREAM_MAGIC, 8))
                return ss_error(-EBADMSG,
                                "stream header: bad magic 0x%016llx (not a Zumastor stream)",
                                (unsigned long long)le64_get(buf + HDR_MAGIC));
        h.version = le32_get(buf + HDR_VERSION);
        if (h.version != SS_STREAM_VERSION)
                return ss_error(-EPROTO,
                                "stream header: version %u is not supported (this engine "
                                "reads version %u)",
                                h.version, SS_STREAM_VERSION);
        if (le32_get(buf + HDR_LENGTH) != SS_STREAM_HEADER_SIZE)
                return ss_error(-EBADMSG, "stream header: header length %u, expected %u",
                                le32_get(buf + HDR_LENGTH), SS_STREAM_HEADER_SIZE);
        uint64_t want = XXH3_64bits(buf, HDR_CHECKSUM), got = le64_get(buf + HDR_CHECKSUM);
        if (want != got)
                return ss_error(-EBADMSG,
                                "stream header: checksum 0x%016llx, the header's bytes give "
                                "0x%016llx",
                                (unsigned long long)got, (unsigned long long)want);
        h.flags = le32_get(buf + HDR_FLAGS);
        if (h.flags & ~(uint32_t)SS_STREAM_KNOWN_FLAGS)
                return ss_error(-EPROTO, "stream header: unknown flags 0x%x",
                                h.flags & ~(uint32_t)SS_STREAM_KNOWN_FLAGS);
        if (le32_get(buf + HDR_RESERVED1) || le32_get(buf + HDR_RESERVED2))
                return ss_error(-EBADMSG, "stream header: reserved fields are not zero");
        memcpy(h.volume_uuid, buf + HDR_VOLUME_UUID, 16);
        h.chunk_size = le32_get(buf + HDR_CHUNK_SIZE);
        if (h.chunk_size < SS_CHUNK_SIZE_MIN || h.chunk_size > SS_CHUNK_SIZE_MAX ||
            (h.chunk_size & (h.chunk_size - 1)))
                return ss_error(-EBADMSG,
                                "stream header: chunk size %u is not a power of two in "
                                "[%u, %u]",
                                h.chunk_size, SS_CHUNK_SIZE_MIN, SS_CHUNK_SIZE_MAX);
        h.origin_size = le64_get(buf + HDR_ORIGIN_SIZE);
        if (h.origin_size == 0 || h.origin_size % 512 || h.origin_size > (UINT64_MAX >> 1))
                return ss_error(-EBADMSG,
                                "stream header: origin size %llu is not a positive multiple of "
                                "512",
                                (unsigned long long)h.origin_size);
        uint64_t chunks = (h.origin_size + h.chunk_size - 1) / h.chunk_size;
        h.resume_after = le64_get(buf + HDR_RESUME_AFTER);
        if ((h.flags & SS_STREAM_RESUMED) ? h.resume_after >= chunks : h.resume_after != 0)
                return ss_error(-EBADMSG,
                                "stream header: resume index %llu does not fit (resumed: %s, "
                                "%llu chunks)",
                                (unsigned long long)h.resume_after,
                                (h.flags & SS_STREAM_RESUMED) ? "yes" : "no",
                                (unsigned long long)chunks);
        int r;
        if (h.flags & SS_STREAM_INCREMENTAL) {
                r = identity_get(buf + HDR_FROM, "from", &h.from);
                if (r < 0)
                        return r;
        } else if (!all_zero(buf + HDR_FROM, ID_SIZE)) {
                return ss_error(-EBADMSG,
                                "stream header: a full stream has a from-snapshot identity");
        }
        r = identity_get(buf + HDR_TO, "to", &h.to);
        if (r < 0)
                return r;
        *ret = h;
        return 0;
}

/* ---- records ---- */

uint64_t ss_stream_record_check(const uint8_t *rec, size_t fixed, const uint8_t *payload,
                                size_t payload_len)
{
        return XXH3_64bits_withSeed(payload, payload_len, XXH3_64bits(rec, fixed - 8));
}

static size_t seal(uint8_t *out, uint32_t type, size_t fixed, const uint8_t *payload,
                   size_t payload_len)
{
        le32_put(out, type);
        le32_put(out + 4, (uint32_t)(fixed + payload_len - SS_REC_PREFIX_SIZE));
        le64_put(out + fixed - 8, ss_stream_record_check(out, fixed, payload, payload_len));
        return fixed;
}

size_t ss_stream_encode_chunk(uint8_t *out, uint64_t index, uint64_t plain_hash,
                              uint32_t compression, const uint8_t *payload, uint32_t stored_length)
{
        le64_put(out + 8, index);
        le64_put(out + 16, plain_hash);
        le32_put(out + 24, compression);
        le32_put(out + 28, stored_length);
        return seal(out, SS_REC_CHUNK, SS_REC_CHUNK_SIZE, payload, stored_length);
}

size_t ss_stream_encode_zero(uint8_t *out, uint64_t first, uint64_t count)
{
        le64_put(out + 8, first);
        le64_put(out + 16, count);
        return seal(out, SS_REC_ZERO, SS_REC_ZERO_SIZE, NULL, 0);
}

size_t ss_stream_encode_resume(uint8_t *out, uint64_t records, uint64_t last_index, uint64_t bytes)
{
        le64_put(out + 8, records);
        le64_put(out + 16, last_index);
        le64_put(out + 24, bytes);
        return seal(out, SS_REC_RESUME, SS_REC_RESUME_SIZE, NULL, 0);
}

size_t ss_stream_encode_trailer(uint8_t *out, uint64_t records, uint64_t bytes,
                                const SsStreamDigest *digest)
{
        le64_put(out + 8, records);
        le64_put(out + 16, bytes);
        le64_put(out + 24, digest->lo);
        le64_put(out + 32, digest->hi);
        return seal(out, SS_REC_TRAILER, SS_REC_TRAILER_SIZE, NULL, 0);
}

int ss_stream_parser_init(SsStreamParser *p, const SsStreamHeader *header)
{
        memset(p, 0, sizeof(*p));
        p->header = *header;
        p->chunks = (header->origin_size + header->chunk_size - 1) / header->chunk_size;
        p->next_index = (header->flags & SS_STREAM_RESUMED) ? header->resume_after + 1 : 0;
        p->bytes = SS_STREAM_HEADER_SIZE;
        return 0;
}

void ss_stream_parser_fini(SsStreamParser *p)
{
        ZSTD_freeDCtx(p->zstd);
        p->zstd = NULL;
}

static unsigned long long ull(uint64_t v)
{
        return (unsigned long long)v;
}

static size_t fixed_size(uint32_t type)
{
        switch (type) {
        case SS_REC_CHUNK:
                return SS_REC_CHUNK_SIZE;
        case SS_REC_ZERO:
                return SS_REC_ZERO_SIZE;
        case SS_REC_RESUME:
                return SS_REC_RESUME_SIZE;
        case SS_REC_TRAILER:
                return SS_REC_TRAILER_SIZE;
        default:
                return 0;
        }
}

int ss_stream_record_size(SsStreamParser *p, const uint8_t prefix[SS_REC_PREFIX_SIZE],
                          size_t *ret_size)
{
        uint32_t type = le32_get(prefix), length = le32_get(prefix + 4);
        size_t fixed = fixed_size(type);

        if (p->trailer_seen)
                return ss_error(-EBADMSG, "stream has data after its trailer (byte %llu)",
                                ull(p->bytes));
        if (!fixed)
                return ss_error(-EBADMSG, "stream record at byte %llu: unknown type %u",
                                ull(p->bytes), type);
        uint64_t size = (uint64_t)length + SS_REC_PREFIX_SIZE;
        uint64_t max = fixed + (type == SS_REC_CHUNK ? p->header.chunk_size : 0);
        if (size < fixed || size > max)
                return ss_error(-EBADMSG,
                                "stream record at byte %llu: length %u does not fit type %u "
                                "(%zu..%llu)",
                                ull(p->bytes), length, type, fixed - SS_REC_PREFIX_SIZE,
                                ull(max - SS_REC_PREFIX_SIZE));
        *ret_size = (size_t)size;
        return 0;
}

static int check_index_run(SsStreamParser *p, const char *what, uint64_t first, uint64_t count)
{
        if (first >= p->chunks || count > p->chunks - first)
                return ss_error(-EBADMSG,
                                "stream record at byte %llu: %s index %llu (+%llu) is out of "
                                "range (the image has %llu chunks)",
                                ull(p->bytes), what, ull(first), ull(count), ull(p->chunks));
        if (first < p->next_index)
                return ss_error(-EBADMSG,
                                "stream record at byte %llu: %s index %llu is out of order "
                                "(the next may be %llu at the lowest)",
                                ull(p->bytes), what, ull(first), ull(p->next_index));
        return 0;
}

int ss_stream_record_decode(SsStreamParser *p, const uint8_t *buf, size_t size, SsStreamRecord *ret)
{
        SsStreamRecord rec = { .type = le32_get(buf), .length = le32_get(buf + 4) };
        size_t fixed = fixed_size(rec.type);
        int r;

        assert(fixed && size >= fixed && size == (size_t)rec.length + SS_REC_PREFIX_SIZE);
        uint64_t want = ss_stream_record_check(buf, fixed, buf + fixed, size - fixed);
        uint64_t got = le64_get(buf + fixed - 8);
        if (want != got)
                return ss_error(-EBADMSG,
                                "stream record at byte %llu (type %u): check 0x%016llx, its "
                                "bytes give 0x%016llx",
                                ull(p->bytes), rec.type, ull(got), ull(want));
        switch (rec.type) {
        case SS_REC_CHUNK:
                rec.index = le64_get(buf + 8);
                rec.count = 1;
                rec.plain_hash = le64_get(buf + 16);
                rec.compression = le32_get(buf + 24);
                rec.stored_length = le32_get(buf + 28);
                if (rec.stored_length != size - fixed)
                        return ss_error(-EBADMSG,
                                        "stream record at byte %llu: stored length %u, the "
                                        "record holds %zu",
                                        ull(p->bytes), rec.stored_length, size - fixed);
                if (rec.compression == SS_COMPRESS_NONE
                            ? rec.stored_length != p->header.chunk_size
                            : rec.compression != SS_COMPRESS_ZSTD ||
                                      rec.stored_length >= p->header.chunk_size)
                        return ss_error(-EBADMSG,
                                        "stream record at byte %llu: compression %u with stored "
                                        "length %u (chunk size %u)",
                                        ull(p->bytes), rec.compression, rec.stored_length,
                                        p->header.chunk_size);
                r = check_index_run(p, "chunk", rec.index, 1);
                if (r < 0)
                        return r;
                p->next_index = rec.index + 1;
                p->records++;
                break;
        case SS_REC_ZERO:
                rec.index = le64_get(buf + 8);
                rec.count = le64_get(buf + 16);
                if (rec.count == 0)
                        return ss_error(-EBADMSG, "stream record at byte %llu: empty zero run",
                                        ull(p->bytes));
                r = check_index_run(p, "zero-run", rec.index, rec.count);
                if (r < 0)
                        return r;
                p->next_index = rec.index + rec.count;
                p->records++;
                break;
        case SS_REC_RESUME:
        case SS_REC_TRAILER:
                rec.records = le64_get(buf + 8);
                if (rec.type == SS_REC_RESUME) {
                        rec.index = le64_get(buf + 16);
                        rec.bytes = le64_get(buf + 24);
                } else {
                        rec.bytes = le64_get(buf + 16);
                        rec.digest.lo = le64_get(buf + 24);
                        rec.digest.hi = le64_get(buf + 32);
                }
                if (rec.records != p->records || rec.bytes != p->bytes)
                        return ss_error(-EBADMSG,
                                        "stream %s at byte %llu: says %llu records and byte "
                                        "%llu, the stream has %llu and %llu",
                                        rec.type == SS_REC_RESUME ? "resume point" : "trailer",
                                        ull(p->bytes), ull(rec.records), ull(rec.bytes),
                                        ull(p->records), ull(p->bytes));
                if (rec.type == SS_REC_RESUME &&
                    (p->records == 0 || rec.index + 1 != p->next_index))
                        return ss_error(-EBADMSG,
                                        "stream resume point at byte %llu: last index %llu, the "
                                        "stream's is %llu (%llu records)",
                                        ull(p->bytes), ull(rec.index), ull(p->next_index - 1),
                                        ull(p->records));
                if (rec.type == SS_REC_TRAILER)
                        p->trailer_seen = true;
                break;
        }
        p->bytes += size;
        *ret = rec;
        return 0;
}

int ss_stream_chunk_plaintext(SsStreamParser *p, const SsStreamRecord *rec, const uint8_t *payload,
                              uint8_t *ret_plain)
{
        uint32_t chunk = p->header.chunk_size;

        if (rec->compression == SS_COMPRESS_NONE) {
                memcpy(ret_plain, payload, chunk);
        } else {
                if (!p->zstd && !(p->zstd = ZSTD_createDCtx()))
                        return ss_error(-ENOMEM, "cannot allocate a zstd decompressor");
                size_t n =
                        ZSTD_decompressDCtx(p->zstd, ret_plain, chunk, payload, rec->stored_length);
                if (ZSTD_isError(n))
                        return ss_error(-EBADMSG, "stream chunk %llu does not decompress: %s",
                                        ull(rec->index), ZSTD_getErrorName(n));
                if (n != chunk)
                        return ss_error(-EBADMSG,
                                        "stream chunk %llu decompresses to %zu bytes, the chunk "
                                        "size is %u",
                                        ull(rec->index), n, chunk);
        }
        uint64_t hash = XXH3_64bits(ret_plain, chunk);
        if (hash != rec->plain_hash)
                return ss_error(-EBADMSG,
                                "stream chunk %llu: checksum 0x%016llx, its data gives "
                                "0x%016llx",
                                ull(rec->index), ull(rec->plain_hash), ull(hash));
        uint64_t start = rec->index * chunk;
        if (p->header.origin_size - start < chunk) {
                size_t inside = (size_t)(p->header.origin_size - start);
                if (!all_zero(ret_plain + inside, chunk - inside))
                        return ss_error(-EBADMSG, "stream chunk %llu has data past the image's end",
                                        ull(rec->index));
        }
        return 0;
}

int ss_stream_parse_buffer(const uint8_t *buf, size_t len, SsStreamStats *ret_stats)
{
        SsStreamStats st = { 0 };
        SsStreamHeader h;
        SsStreamParser p;
        uint8_t *plain;
        size_t at = SS_STREAM_HEADER_SIZE;
        int r = ss_stream_header_decode(buf, len, &h);

        if (r < 0)
                return r;
        plain = malloc(h.chunk_size);
        if (!plain)
                return -ENOMEM;
        ss_stream_parser_init(&p, &h);
        while (!p.trailer_seen) {
                SsStreamRecord rec;
                size_t size;

                if (len - at < SS_REC_PREFIX_SIZE) {
                        r = ss_error(-EBADMSG, "stream ends at byte %zu before its trailer", len);
                        break;
                }
                r = ss_stream_record_size(&p, buf + at, &size);
                if (r == 0 && len - at < size)
                        r = ss_error(-EBADMSG, "stream ends at byte %zu inside a record", len);
                if (r == 0)
                        r = ss_stream_record_decode(&p, buf + at, size, &rec);
                if (r == 0 && rec.type == SS_REC_CHUNK)
                        r = ss_stream_chunk_plaintext(&p, &rec, buf + at + SS_REC_CHUNK_SIZE,
                                                      plain);
                if (r < 0)
                        break;
                at += size;
                st.chunk_records += rec.type == SS_REC_CHUNK;
                st.zero_records += rec.type == SS_REC_ZERO;
                st.zero_chunks += rec.type == SS_REC_ZERO ? rec.count : 0;
                st.resume_points += rec.type == SS_REC_RESUME;
                if (rec.type == SS_REC_CHUNK || rec.type == SS_REC_ZERO)
                        st.last_index = rec.index + rec.count - 1;
                if (rec.type == SS_REC_TRAILER)
                        st.digest = rec.digest;
        }
        if (r == 0 && at != len)
                r = ss_error(-EBADMSG, "stream has %zu bytes after its trailer", len - at);
        ss_stream_parser_fini(&p);
        free(plain);
        if (r == 0 && ret_stats) {
                st.bytes = len;
                *ret_stats = st;
        }
        return r;
}
