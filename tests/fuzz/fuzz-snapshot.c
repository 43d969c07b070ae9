/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz target: snapshot record decoding.
 *
 * The input's first 160 bytes (zero-padded) are one record; the next 8
 * bytes, when present, are the key it is looked up under, else the key is
 * the record's own id.  The decoder checks every field, so a record that
 * decodes must encode back to exactly the same bytes.  (Shorter input is
 * zero-padded first, and it is the padded record that must come back.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t rec[sizeof(SsDiskSnapshot)] = { 0 }, enc[sizeof(SsDiskSnapshot)];
        SsSnapshotInfo info;
        uint64_t key;

        memcpy(rec, data, size < sizeof(rec) ? size : sizeof(rec));
        if (size >= sizeof(rec) + 8)
                key = le64_get(data + sizeof(rec));
        else
                key = le32_get(rec + offsetof(SsDiskSnapshot, id));

        fuzz_verdict = FUZZ_REJECTED;
        if (ss_snaprec_decode(rec, key, &info) == 0) {
                fuzz_verdict = FUZZ_ACCEPTED;
                ss_snaprec_encode(&info, enc);
                if (memcmp(rec, enc, sizeof(rec))) {
                        fprintf(stderr, "fuzz-snapshot: record %u changed in a round trip\n",
                                info.id);
                        abort();
                }
        }
        return 0;
}
