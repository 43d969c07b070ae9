/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replication stream's wire layout (docs/replication-stream.md is the
 * specification; this header is its C form) and the parser that checks
 * every record against the header.  Little-endian throughout.
 *
 *   header   360 bytes, once: magic, version, flags, volume, sizes, the
 *            resume index, from- and to-identity, xxh3-64 of all before it
 *   records  each: u32 type, u32 length (bytes after these 8), fixed
 *            fields, a u64 check, then (chunk records only) the stored
 *            payload; check = XXH3_64_withSeed(payload, seed = XXH3_64(the
 *            bytes before the check))
 *   trailer  a record of type TRAILER, last; nothing may follow it
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

#define SS_STREAM_MAGIC "ZUMASTRM" /* 8 bytes, no NUL */
#define SS_STREAM_VERSION 1u
#define SS_STREAM_HEADER_SIZE 360u

enum {
        SS_STREAM_INCREMENTAL = 1u << 0, /* from-identity present */
        SS_STREAM_RESUMED = 1u << 1,     /* only chunks above resume_after */
        SS_STREAM_KNOWN_FLAGS = SS_STREAM_INCREMENTAL | SS_STREAM_RESUMED,
};

enum {
        SS_REC_CHUNK = 1,   /* one chunk's data */
        SS_REC_ZERO = 2,    /* a run of all-zero chunks, no payload */
        SS_REC_RESUME = 3,  /* a resume point */
        SS_REC_TRAILER = 4, /* counts and the to-snapshot's digest; last */
};

enum {
        SS_COMPRESS_NONE = 0,
        SS_COMPRESS_ZSTD = 1,
};

/* Whole fixed sizes, the 8-byte prefix and the check included. */
#define SS_REC_PREFIX_SIZE 8u
#define SS_REC_CHUNK_SIZE 40u /* + stored payload */
#define SS_REC_ZERO_SIZE 32u
#define SS_REC_RESUME_SIZE 40u
#define SS_REC_TRAILER_SIZE 48u
#define SS_REC_MAX_FIXED 48u

typedef struct SsStreamHeader {
        uint32_t version;
        uint32_t flags; /* SS_STREAM_* */
        uint8_t volume_uuid[16];
        uint32_t chunk_size;   /* bytes */
        uint64_t origin_size;  /* bytes of the to-snapshot's image */
        uint64_t resume_after; /* chunk index, with SS_STREAM_RESUMED; else 0 */
        SsStreamSnapshot from; /* all zero in a full stream */
        SsStreamSnapshot to;
} SsStreamHeader;

typedef struct SsStreamRecord {
        uint32_t type;
        uint32_t length;        /* bytes after the prefix */
        uint64_t index;         /* CHUNK: its index; ZERO: the first; RESUME: the last so far */
        uint64_t count;         /* ZERO: chunks in the run */
        uint64_t plain_hash;    /* CHUNK: xxh3-64 of the chunk_size plaintext bytes */
        uint32_t compression;   /* CHUNK: SS_COMPRESS_* */
        uint32_t stored_length; /* CHUNK: payload bytes */
        uint64_t records;       /* RESUME, TRAILER: chunk and zero records before it */
        uint64_t bytes;         /* RESUME, TRAILER: stream offset of this record */
        SsStreamDigest digest;  /* TRAILER */
} SsStreamRecord;

/* Where a parse stands: what the next record may be. */
typedef struct SsStreamParser {
        SsStreamHeader header;
        uint64_t chunks;     /* chunks of the to-image */
        uint64_t next_index; /* the lowest index the next chunk or zero record may carry */
        uint64_t records;    /* chunk and zero records so far */
        uint64_t bytes;      /* stream offset of the next record */
        bool trailer_seen;
        void *zstd; /* ZSTD_DCtx, made on the first compressed chunk */
} SsStreamParser;

int ss_stream_header_encode(const SsStreamHeader *h, uint8_t out[SS_STREAM_HEADER_SIZE]);
/* Checks magic, version, length, checksum, flags and every field. */
int ss_stream_header_decode(const uint8_t *buf, size_t len, SsStreamHeader *ret_header);

/* A record's check: rec holds its fixed part (fixed bytes, the check last). */
uint64_t ss_stream_record_check(const uint8_t *rec, size_t fixed, const uint8_t *payload,
                                size_t payload_len);
/* Record encoders: fill the fixed part (prefix and check included) and
 * return its size; the caller appends a chunk's payload. */
size_t ss_stream_encode_chunk(uint8_t *out, uint64_t index, uint64_t plain_hash,
                              uint32_t compression, const uint8_t *payload, uint32_t stored_length);
size_t ss_stream_encode_zero(uint8_t *out, uint64_t first, uint64_t count);
size_t ss_stream_encode_resume(uint8_t *out, uint64_t records, uint64_t last_index, uint64_t bytes);
size_t ss_stream_encode_trailer(uint8_t *out, uint64_t records, uint64_t bytes,
                                const SsStreamDigest *digest);

int ss_stream_parser_init(SsStreamParser *p, const SsStreamHeader *header);
void ss_stream_parser_fini(SsStreamParser *p);
/* From the 8-byte prefix: the type must be known and the length fit it
 * (a chunk's at most its fixed part plus chunk_size).  Returns the whole
 * record's size. */
int ss_stream_record_size(SsStreamParser *p, const uint8_t prefix[SS_REC_PREFIX_SIZE],
                          size_t *ret_size);
/* Decodes a whole record of the size ss_stream_record_size() gave:
 * check, fields, order and counts; advances the parser. */
int ss_stream_record_decode(SsStreamParser *p, const uint8_t *buf, size_t size,
                            SsStreamRecord *ret_record);
/* Turns a chunk record's payload into chunk_size bytes of plaintext and
 * checks its length, its hash and that bytes past the image end are zero. */
int ss_stream_chunk_plaintext(SsStreamParser *p, const SsStreamRecord *rec, const uint8_t *payload,
                              uint8_t *ret_plain);

/* Parses a whole stream held in memory (the fuzz target's entry). */
int ss_stream_parse_buffer(const uint8_t *buf, size_t len, SsStreamStats *ret_stats);
