/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz target: B-tree node decoding.
 *
 * The input becomes one 4 KiB block (zero-padded or truncated); bit 0 of
 * a byte past the block, if the input has one, decodes it as a node of a
 * store with the compact snapshot table (a 4097-byte input).  The
 * checksum is recomputed and the block is decoded at the location its header
 * claims, so mutations reach the node checks.  A node that decodes must
 * survive encode -> decode with the same keys and values, and encode back
 * to exactly the bytes it was decoded from: the decoder accepts one
 * spelling per node.
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
        fprintf(stderr, "fuzz-node: round trip changed %s\n", what);
        abort();
}

static void compare(const SsNode *a, const SsNode *b)
{
        if (a->tree != b->tree || a->level != b->level || a->count != b->count ||
            a->val_size != b->val_size || a->blocknr != b->blocknr)
                fail("the node header");
        if (memcmp(a->keys, b->keys, a->count * sizeof(a->keys[0])))
                fail("keys");
        if (a->val_size && memcmp(a->vals, b->vals, (size_t)a->count * a->val_size))
                fail("values");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        SsNode node = { 0 }, again = { 0 };
        uint8_t *block, *enc;
        uint64_t blocknr;

        block = ss_alloc_io_buffer(SS_BLOCK_SIZE);
        enc = ss_alloc_io_buffer(SS_BLOCK_SIZE);
        if (!block || !enc) {
                free(block);
                free(enc);
                return 0;
        }
        memset(block, 0, SS_BLOCK_SIZE);
        memcpy(block, data, size < SS_BLOCK_SIZE ? size : SS_BLOCK_SIZE);
        LE_PUT(((SsDiskBlockHeader *)block)->csum, XXH3_64bits(block + 8, SS_BLOCK_SIZE - 8));
        blocknr = le64_get(block + offsetof(SsDiskBlockHeader, blocknr));

        uint64_t incompat = size > SS_BLOCK_SIZE && (data[SS_BLOCK_SIZE] & 1)
                                    ? SS_FEATURE_INCOMPAT_COMPACT_SNAPSHOTS
                                    : 0;
        fuzz_verdict = FUZZ_REJECTED;
        if (ss_node_decode(block, blocknr, incompat, &node) == 0) {
                uint64_t txid = le64_get(block + offsetof(SsDiskBlockHeader, txid));

                fuzz_verdict = FUZZ_ACCEPTED;
                if (ss_node_encode(&node, txid, enc) != 0)
                        fail("encodability");
                if (memcmp(enc, block, SS_BLOCK_SIZE) != 0)
                        fail("the bytes");
                if (ss_node_decode(enc, blocknr, incompat, &again) != 0)
                        fail("decodability");
                compare(&node, &again);
        }
        ss_node_free_arrays(&again);
        ss_node_free_arrays(&node);
        free(enc);
        free(block);
        return 0;
}
