/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A growing memory buffer with a write callback of the SsStreamWriteFn
 * kind, where the corpus generator and test-stream collect streams.  Ends
 * the program (exit 99) on ENOMEM.
 */
#pragma once

#include <stdlib.h>
#include <string.h>

typedef struct MemBuf {
        uint8_t *data;
        size_t len, cap;
} MemBuf;

static inline int membuf_write(void *user, const void *buf, size_t len)
{
        MemBuf *b = user;

        if (b->len + len > b->cap) {
                b->cap = (b->len + len) * 2;
                b->data = realloc(b->data, b->cap);
                if (!b->data)
                        exit(99);
        }
        memcpy(b->data + b->len, buf, len);
        b->len += len;
        return 0;
}
