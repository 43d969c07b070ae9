/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Building messages of the kernel protocol (kernel/include/uapi/
 * dm-zumastor.h) in user space: the server, its tests and the target's
 * stand-in server share this.  Plain C: the stand-in does not link GLib.
 */
#pragma once

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dm-zumastor.h"

/* A header for a message of type and size bytes, request id. */
static inline void zuma_msg_fill_header(struct zuma_msg_header *h, uint16_t type, size_t size,
                                        uint64_t id)
{
        memset(h, 0, sizeof(*h));
        h->magic = htole32(ZUMA_MSG_MAGIC);
        h->version = htole16(ZUMA_PROTO_VERSION);
        h->type = htole16(type);
        h->length = htole32((uint32_t)size);
        h->id = htole64(id);
}
