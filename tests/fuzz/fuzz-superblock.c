/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz target: superblock decoding.
 *
 * The input is a superblock copy as read from the device.  Its checksum is
 * recomputed first (when sb_bytes fits the input), so mutations reach the
 * field checks instead of stopping at the checksum; the checksum test itself
 * is one comparison (so the seed checksum-stale decodes here; only open
 * refuses it).  A superblock that decodes must survive encode -> decode
 * unchanged, and every seed named bad-* must be refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
        fprintf(stderr, "fuzz-superblock: round trip changed %s\n", what);
        abort();
}

static void compare(const SsSuper *a, const SsSuper *b)
{
        if (a->txid != b->txid || a->feature_compat != b->feature_compat ||
            a->feature_ro_compat != b->feature_ro_compat ||
            a->feature_incompat != b->feature_incompat)
                fail("txid or features");
        if (memcmp(a->uuid, b->uuid, 16) || memcmp(a->volume_uuid, b->volume_uuid, 16) ||
            strcmp(a->volume_name, b->volume_name))
                fail("identity");
        if (a->chunk_size != b->chunk_size || a->full_policy != b->full_policy ||
            a->origin_size != b->origin_size || a->store_blocks != b->store_blocks ||
            a->created != b->created || a->next_snapshot != b->next_snapshot ||
            a->snapshot_count != b->snapshot_count)
                fail("geometry or counters");
        if (memcmp(a->roots, b->roots, sizeof(a->roots)))
                fail("tree roots");
        if (a->data_blocks != b->data_blocks || a->meta_blocks != b->meta_blocks ||
            a->free_blocks != b->free_blocks || a->group_count != b->group_count)
                fail("space counters");
        if (a->cleanup_count != b->cleanup_count ||
            memcmp(a->cleanup, b->cleanup, a->cleanup_count * sizeof(a->cleanup[0])))
                fail("cleanup jobs");
        if (a->revert_target != b->revert_target || a->revert_phase != b->revert_phase ||
            a->revert_cursor_hi != b->revert_cursor_hi ||
            a->revert_cursor_chunk != b->revert_cursor_chunk || a->revert_done != b->revert_done)
                fail("revert state");
        if (memcmp(a->slot_bits, b->slot_bits, (a->group_count + 7) / 8) ||
            memcmp(a->group_free, b->group_free, 2 * (size_t)a->group_count))
                fail("group table");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        SsSuper sb = { 0 }, again = { 0 };
        uint8_t *buf, *enc;
        uint64_t blocknr;
        size_t bytes;

        /* An exact-size copy, so sanitizers catch any read past the input. */
        buf = malloc(size ? size : 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        if (size >= SS_SB_HEADER_SIZE) {
                SsDiskSuperblock *d = (SsDiskSuperblock *)buf;
                uint32_t sb_bytes = LE_GET(d->sb_bytes);

                if (sb_bytes >= 8 && sb_bytes <= size)
                        LE_PUT(d->csum, XXH3_64bits(buf + 8, sb_bytes - 8));
        }
        /* Decode as the copy the block claims to be, when it names one. */
        blocknr = 0;
        if (size >= SS_SB_HEADER_SIZE) {
                uint64_t claimed = le64_get(buf + offsetof(SsDiskSuperblock, blocknr));
                if (claimed % SS_SB_AREA_BLOCKS == 0 &&
                    claimed < (uint64_t)SS_SB_AREAS * SS_SB_AREA_BLOCKS)
                        blocknr = claimed; /* a copy or a mirror */
        }

        fuzz_verdict = FUZZ_REJECTED;
        if (ss_super_decode(buf, size, blocknr, &sb) == 0) {
                fuzz_verdict = FUZZ_ACCEPTED;
                bytes = ss_super_bytes(sb.group_count);
                enc = calloc(1, bytes);
                if (enc) {
                        size_t n = ss_super_encode(&sb, enc, bytes);
                        uint64_t where = (sb.txid % SS_SB_COPIES) * SS_SB_AREA_BLOCKS;

                        if (n != bytes)
                                fail("encoded size");
                        if (ss_super_decode(enc, n, where, &again) != 0)
                                fail("decodability");
                        compare(&sb, &again);
                        ss_super_release(&again);
                        free(enc);
                }
        }
        ss_super_release(&sb);
        free(buf);
        return 0;
}
