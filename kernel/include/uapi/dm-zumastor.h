/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * dm-zumastor.h - the protocol between the `zumastor` device-mapper target
 * and its user-space server (zuma-snapshotd), over /dev/zumastor-control.
 *
 * docs/kernel-protocol.md is the prose; this header is the authority.
 *
 * One open file of /dev/zumastor-control is one session.  The server opens
 * it, write()s HELLO naming a volume tag, and from then on read()s the
 * kernel's messages and write()s its own, one whole message per call.
 * Closing the file (or the server dying) ends the session at once.
 *
 * Every message starts with struct zuma_msg_header.  Every integer is
 * little-endian; every struct is packed with explicit padding (which must
 * be zero) and a size that is a multiple of 8.  `length` counts the whole
 * message, header included, and is at most ZUMA_MSG_MAX.
 *
 * Requests and replies share `id`: the kernel numbers its requests
 * (QUERY_*) and the server's reply carries the same id; the server numbers
 * its barriers and STATUS and the kernel's answer carries that id.
 */
#ifndef _UAPI_DM_ZUMASTOR_H
#define _UAPI_DM_ZUMASTOR_H

#include <linux/types.h>

#define ZUMA_CONTROL_NAME "zumastor-control" /* /dev/zumastor-control */

#define ZUMA_MSG_MAGIC 0x4b4d555au /* "ZUMK" */
#define ZUMA_PROTO_VERSION 1
#define ZUMA_MSG_MAX 4096u	    /* bytes, largest message either way */
#define ZUMA_MAX_CHUNKS 256u	    /* chunks in one request or reply */
#define ZUMA_TAG_MAX 64u	    /* bytes of the tag field, NUL-padded */
#define ZUMA_MAP_ORIGIN (~(__u64)0) /* READ_MAP entry: read the origin */

/* Message types.  Server to kernel below 0x80, kernel to server above. */
enum zuma_msg_type {
	ZUMA_MSG_HELLO = 0x01,	       /* server: version, features, tag */
	ZUMA_MSG_WRITE_OK = 0x02,      /* server: copy-outs of a QUERY_WRITE durable */
	ZUMA_MSG_READ_MAP = 0x03,      /* server: answer to QUERY_SNAPSHOT_READ */
	ZUMA_MSG_ERROR = 0x04,	       /* server: fail a QUERY_* with an errno */
	ZUMA_MSG_BARRIER_BEGIN = 0x05, /* server: hold new I/O, drain in-flight */
	ZUMA_MSG_BARRIER_END = 0x06,   /* server: invalidate caches, resume I/O */
	ZUMA_MSG_STATUS = 0x07,	       /* server: ask for counters */
	ZUMA_MSG_WRITE_MAP = 0x08,     /* server: answer to QUERY_SNAPSHOT_WRITE */

	ZUMA_MSG_HELLO_REPLY = 0x81,	      /* kernel: accepted version, geometry */
	ZUMA_MSG_QUERY_WRITE = 0x82,	      /* kernel: may the origin chunks be written? */
	ZUMA_MSG_QUERY_SNAPSHOT_READ = 0x83,  /* kernel: where do snapshot chunks live? */
	ZUMA_MSG_QUERY_SNAPSHOT_WRITE = 0x84, /* kernel: where may snapshot chunks be written? */
	ZUMA_MSG_BARRIER_READY = 0x85,	      /* kernel: in-flight I/O drained */
	ZUMA_MSG_STATUS_REPLY = 0x87,	      /* kernel: counters */
};

/* Barrier kinds: what BARRIER_END invalidates. */
enum zuma_barrier_kind {
	ZUMA_BARRIER_SNAPSHOT_CREATE = 1, /* forget "copied out" for every chunk */
	ZUMA_BARRIER_SNAPSHOT_DELETE = 2, /* forget the read maps of `snapshot` */
	ZUMA_BARRIER_REVERT = 3,	  /* forget everything */
};

/* Feature bits (HELLO, HELLO_REPLY).  Optional features only: a side
 * ignores bits it does not know, and the kernel answers with the bits both
 * sides have.  An incompatible change bumps ZUMA_PROTO_VERSION instead. */
#define ZUMA_FEATURE_SNAPSHOT_WRITE (1u << 0) /* QUERY_SNAPSHOT_WRITE / WRITE_MAP */

struct zuma_msg_header {
	__le32 magic;	/* ZUMA_MSG_MAGIC */
	__le16 version; /* ZUMA_PROTO_VERSION */
	__le16 type;	/* enum zuma_msg_type */
	__le32 length;	/* bytes of the whole message, header included */
	__le32 flags;	/* 0 */
	__le64 id;	/* request id (see the top of this file); 0 for HELLO */
} __attribute__((packed));

/* HELLO, server to kernel, first message of a session. */
struct zuma_msg_hello {
	struct zuma_msg_header hdr;
	__le32 features;	/* ZUMA_FEATURE_* the server supports */
	__le32 pad;		/* 0 */
	char tag[ZUMA_TAG_MAX]; /* volume tag: 1..63 bytes of [A-Za-z0-9._+-], NUL-padded */
} __attribute__((packed));

/* HELLO_REPLY, kernel to server, answers HELLO (same id). */
struct zuma_msg_hello_reply {
	struct zuma_msg_header hdr;
	__le32 version;	       /* ZUMA_PROTO_VERSION the kernel speaks */
	__le32 features;       /* features both sides have */
	__le32 chunk_sectors;  /* 512-byte sectors per chunk, 0 if no target yet */
	__le32 targets;	       /* zumastor targets now using this tag */
	__le64 origin_sectors; /* origin device size, sectors (0: no target yet) */
	__le64 store_sectors;  /* store device size, sectors (0: no target yet) */
	__le32 pending;	       /* requests waiting; all are re-sent after this */
	__le32 pad;	       /* 0 */
} __attribute__((packed));

/* QUERY_WRITE (kernel) and WRITE_OK (server): chunks of the origin.  The
 * reply repeats the request's chunk and count exactly. */
struct zuma_msg_chunks {
	struct zuma_msg_header hdr;
	__le64 chunk;	 /* first chunk (origin byte offset / chunk size) */
	__le32 count;	 /* chunks, 1..ZUMA_MAX_CHUNKS */
	__le32 snapshot; /* QUERY_SNAPSHOT_READ: snapshot id; otherwise 0 */
} __attribute__((packed));

/* READ_MAP, server to kernel: where each chunk of a QUERY_SNAPSHOT_READ
 * lives.  WRITE_MAP answers a QUERY_SNAPSHOT_WRITE in the same format, with
 * store sectors only: each the snapshot's own (private) copy of the chunk,
 * already holding the chunk's snapshot contents, durable, so the kernel
 * writes there directly from now on.  chunk, count and snapshot repeat the request's exactly; then
 * `count` entries, each ZUMA_MAP_ORIGIN or the store sector (512-byte units)
 * where the chunk's copy starts: a multiple of 8 (4 KiB), and the whole
 * chunk inside the store device.  length = sizeof(struct zuma_msg_read_map)
 * + 8 * count. */
struct zuma_msg_read_map {
	struct zuma_msg_header hdr;
	__le64 chunk;	 /* first chunk */
	__le32 count;	 /* chunks, 1..ZUMA_MAX_CHUNKS */
	__le32 snapshot; /* snapshot id */
	__le64 map[];	 /* count entries */
} __attribute__((packed));

/* ERROR, server to kernel: the request `id` fails; its waiting bios end
 * with this errno (1..4095; the block layer narrows it to a blk_status). */
struct zuma_msg_error {
	struct zuma_msg_header hdr;
	__le32 error; /* positive errno */
	__le32 pad;   /* 0 */
} __attribute__((packed));

/* BARRIER_BEGIN and BARRIER_END (server; END carries BEGIN's id, kind and
 * snapshot) and BARRIER_READY (kernel, same id; status 0 or a positive
 * errno: ETIMEDOUT if in-flight I/O did not drain in time). */
struct zuma_msg_barrier {
	struct zuma_msg_header hdr;
	__le32 kind;	 /* enum zuma_barrier_kind; READY: status */
	__le32 snapshot; /* the snapshot created, deleted or reverted to */
} __attribute__((packed));

/* STATUS (server, header only) and STATUS_REPLY (kernel, same id). */
struct zuma_msg_status_reply {
	struct zuma_msg_header hdr;
	__le64 epoch;	  /* barriers ended so far on this volume */
	__le32 pending;	  /* requests waiting for a reply */
	__le32 held_bios; /* bios waiting on requests, barriers or readers */
	__le32 targets;	  /* zumastor targets using this tag */
	__le32 barrier;	  /* kind of the barrier in progress, 0 none */
	__le64 timed_out; /* requests failed by the timeout */
	__le64 refused;	  /* replies refused as malformed */
} __attribute__((packed));

#ifdef __KERNEL__
#define ZUMA_CHECK_SIZE(t, n) static_assert(sizeof(t) == (n))
#else
#define ZUMA_CHECK_SIZE(t, n) _Static_assert(sizeof(t) == (n), #t " size")
#endif
ZUMA_CHECK_SIZE(struct zuma_msg_header, 24);
ZUMA_CHECK_SIZE(struct zuma_msg_hello, 96);
ZUMA_CHECK_SIZE(struct zuma_msg_hello_reply, 64);
ZUMA_CHECK_SIZE(struct zuma_msg_chunks, 40);
ZUMA_CHECK_SIZE(struct zuma_msg_read_map, 40);
ZUMA_CHECK_SIZE(struct zuma_msg_error, 32);
ZUMA_CHECK_SIZE(struct zuma_msg_barrier, 32);
ZUMA_CHECK_SIZE(struct zuma_msg_status_reply, 64);

#endif /* _UAPI_DM_ZUMASTOR_H */
