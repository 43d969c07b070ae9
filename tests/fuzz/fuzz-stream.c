/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz target: the replication stream parser (snapstore/stream-format.c).
 *
 * The input is a whole stream.  ss_stream_parse_buffer() checks the header,
 * every record against it, every chunk's decompression and checksum, the
 * order, the counts and the trailer, exactly as a receiver does before it
 * writes anything.  A stream it accepts must also pass a second parse with
 * the same counts (the parser keeps no state between calls).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "stream-format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        SsStreamStats first, again;

        fuzz_verdict = FUZZ_REJECTED;
        if (ss_stream_parse_buffer(data, size, &first) < 0)
                return 0;
        fuzz_verdict = FUZZ_ACCEPTED;
        if (ss_stream_parse_buffer(data, size, &again) != 0 ||
            memcmp(&first, &again, sizeof(first))) {
                fprintf(stderr, "fuzz-stream: a second parse of an accepted stream differs\n");
                abort();
        }
        if (first.bytes != size) {
                fprintf(stderr, "fuzz-stream: accepted %llu of %zu bytes\n",
                        (unsigned long long)first.bytes, size);
                abort();
        }
        return 0;
}
