/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The frames of the replication protocol between zuma-sendd and
 * zuma-recvd (docs/replication-protocol.md is the specification: the
 * message set, its keys and the order of a session).
 *
 * Every frame is an 8-byte header and a payload:
 *
 *   u8  type         ZumaWireType
 *   u8  reserved[3]  zero
 *   u32 length       payload bytes, little-endian
 *
 * A control frame (every type but DATA) carries one GVariant of type a{sv}
 * in its serialized normal form, at most ZUMA_WIRE_CONTROL_MAX bytes (an
 * empty dictionary is 0 bytes).  A DATA frame carries 1 to
 * ZUMA_WIRE_DATA_MAX bytes of the replication stream, which this layer
 * never looks into.
 *
 * Every byte from the peer is untrusted: the header is checked before any
 * payload is read, so a reader never holds more than one maximal frame,
 * and every refusal is G_IO_ERROR_INVALID_DATA naming the field and its
 * value.  The calls block (the daemons run a session on its own thread
 * with blocking GIO streams); a stream is not shared between threads.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ZUMA_WIRE_PROTOCOL_VERSION 1
#define ZUMA_WIRE_HEADER_SIZE 8
#define ZUMA_WIRE_CONTROL_MAX (64 * 1024) /* bytes of a control frame's a{sv} */
#define ZUMA_WIRE_DATA_MAX (256 * 1024)   /* bytes of one DATA frame */
/* Bytes of an ERROR message kept from the peer (cut at a character). */
#define ZUMA_WIRE_MESSAGE_MAX 1024

typedef enum {
        ZUMA_WIRE_HELLO = 1,   /* S->R: who is sending which volume, and why */
        ZUMA_WIRE_WELCOME = 2, /* R->S: the target's snapshots and resume point */
        ZUMA_WIRE_SEND = 3,    /* S->R: the stream that follows */
        ZUMA_WIRE_DATA = 4,    /* S->R: stream bytes (raw, not a{sv}) */
        ZUMA_WIRE_END = 5,     /* S->R: the stream is complete */
        ZUMA_WIRE_RESULT = 6,  /* R->S: how the receive ended */
        ZUMA_WIRE_VERIFY = 7,  /* S->R: asks for a snapshot's digest */
        ZUMA_WIRE_DIGEST = 8,  /* R->S: the digest asked for */
        ZUMA_WIRE_ERROR = 9,   /* either way: a refusal; its sender then closes */
        ZUMA_WIRE_READY = 10,  /* R->S: SEND accepted, and where the stream resumes */
        ZUMA_WIRE_LAST = ZUMA_WIRE_READY,
} ZumaWireType;

/* The header as it is on the wire; read and written through the accessors
 * in zuma-repl-wire.c only. */
typedef struct __attribute__((packed)) ZumaWireHeader {
        guint8 type;        /* ZumaWireType */
        guint8 reserved[3]; /* zero; a non-zero byte is refused */
        guint32 length_le;  /* payload bytes, little-endian */
} ZumaWireHeader;

_Static_assert(sizeof(ZumaWireHeader) == ZUMA_WIRE_HEADER_SIZE, "the frame header is 8 bytes");

/* One frame read.  Zero-initialise it; zuma_wire_frame_clear() frees what
 * it holds and leaves it ready for the next read. */
typedef struct ZumaWireFrame {
        ZumaWireType type;
        GVariant *body; /* a{sv}, every type but DATA */
        GBytes *data;   /* DATA only */
} ZumaWireFrame;

void zuma_wire_frame_clear(ZumaWireFrame *frame);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ZumaWireFrame, zuma_wire_frame_clear)

/* "HELLO", ..., "ERROR"; "unknown" for anything else. */
const char *zuma_wire_type_name(ZumaWireType type);

/*
 * Writes one control frame.  body is an a{sv} (a floating reference is
 * sunk) or NULL for an empty dictionary; it is written in normal form.  A
 * body above ZUMA_WIRE_CONTROL_MAX bytes fails with
 * G_IO_ERROR_MESSAGE_TOO_LARGE before anything is written.
 */
gboolean zuma_wire_write(GOutputStream *out, ZumaWireType type, GVariant *body,
                         GCancellable *cancellable, GError **error);

/* Writes len bytes as DATA frames of at most ZUMA_WIRE_DATA_MAX bytes each
 * (none for len 0). */
gboolean zuma_wire_write_data(GOutputStream *out, const void *buf, gsize len,
                              GCancellable *cancellable, GError **error);

/* Writes ERROR {message: s} (message cut to ZUMA_WIRE_MESSAGE_MAX bytes);
 * the caller closes the connection next. */
gboolean zuma_wire_write_error(GOutputStream *out, const char *message, GCancellable *cancellable,
                               GError **error);

/*
 * Reads one frame into *ret (untouched on failure).  The peer closing the
 * connection before a frame: G_IO_ERROR_CONNECTION_CLOSED "the peer closed
 * the connection"; inside one: G_IO_ERROR_INVALID_DATA "truncated frame
 * ...".  An ERROR frame is returned as a frame like any other.
 */
gboolean zuma_wire_read(GInputStream *in, ZumaWireFrame *ret, GCancellable *cancellable,
                        GError **error);

/*
 * Reads one control frame that must be of type want (not DATA) and returns
 * its body in *ret_body (may be NULL to drop it).  An ERROR frame becomes
 * G_IO_ERROR_FAILED "the receiver says: MESSAGE" (or "the sender says",
 * by the direction want travels); another type fails with
 * G_IO_ERROR_INVALID_DATA naming both types.
 */
gboolean zuma_wire_expect(GInputStream *in, ZumaWireType want, GVariant **ret_body,
                          GCancellable *cancellable, GError **error);

/*
 * Sets *error from the body of an ERROR frame the peer sent, for a reader
 * that takes frames with zuma_wire_read() (the receiver's DATA loop):
 * G_IO_ERROR_FAILED "the PEER says: MESSAGE", the message checked and
 * cleaned (control characters become spaces, cut to ZUMA_WIRE_MESSAGE_MAX).
 * peer is "sender" or "receiver".
 */
void zuma_wire_set_peer_error(GError **error, const char *peer, GVariant *body);

G_END_DECLS
