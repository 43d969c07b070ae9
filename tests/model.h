/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An in-memory model of one volume, for the randomised model test and the
 * crash tests: the origin image plus the full image and metadata of every
 * live snapshot, kept in the plainest possible way so that it is obviously
 * right.  The store under test is compared against it.
 *
 * Images are arrays of chunk buffers shared copy-on-write between images
 * (a snapshot create only copies pointers), so hundreds of snapshots cost
 * little memory and two images can be compared chunk by chunk, mostly by
 * pointer.  A NULL chunk reads as zeros.  Bytes of a chunk buffer beyond the
 * image size are always zero.
 *
 * The seeded PRNG and the command line live in test-util.h; the scripted
 * workloads that test-powercut and test-fault interrupt in workload.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapstore.h"

/* ---- the model ---- */

typedef struct ModelChunk {
        uint32_t refs;
        uint8_t data[];
} ModelChunk;

typedef struct ModelImage {
        uint32_t chunk_size;
        uint64_t size; /* bytes, multiple of 512 */
        uint64_t nchunks;
        ModelChunk **chunks; /* NULL entries read as zeros */
} ModelImage;

typedef struct ModelSnap {
        uint32_t id;
        uint32_t flags; /* SS_SNAP_* */
        int32_t priority;
        int64_t ctime; /* as first read back from the store; 0 = not seen yet */
        char name[SS_NAME_MAX + 1];
        ModelImage image;
        uint8_t *written; /* bit per chunk written through ss_snapshot_write */
        uint64_t written_count;
} ModelSnap;

typedef struct Model {
        uint32_t chunk_size;
        ModelImage origin;
        ModelSnap *snaps; /* ascending id */
        size_t nsnaps, cap;
} Model;

/* A model of a fresh store whose origin holds `image` (size bytes; NULL =
 * zeros).  NULL on ENOMEM. */
Model *model_new(uint32_t chunk_size, const void *image, uint64_t size);
/* A deep copy sharing chunk buffers (cheap). */
Model *model_clone(const Model *m);
void model_free(Model *m);

ModelSnap *model_snap(const Model *m, uint32_t id);
ModelSnap *model_snap_by_name(const Model *m, const char *name);
/* The image of snapshot id, or the origin for SS_ORIGIN_ID; NULL if none. */
const ModelImage *model_image(const Model *m, uint32_t id);
uint32_t model_last_id(const Model *m); /* highest live id, 0 if none */

void model_origin_write(Model *m, const void *buf, uint64_t offset, uint64_t length);
/* The device grew: bytes [origin.size, new_size) of the origin now hold tail. */
void model_origin_grow(Model *m, uint64_t new_size, const void *tail);
void model_snapshot_create(Model *m, uint32_t id, const char *name, uint32_t flags,
                           int32_t priority);
void model_snapshot_delete(Model *m, uint32_t id);
void model_snapshot_rename(Model *m, uint32_t id, const char *name);
void model_snapshot_write(Model *m, uint32_t id, const void *buf, uint64_t offset, uint64_t length);
/* The origin becomes snapshot id's image; where the origin is larger (it
 * grew since), the bytes past the snapshot's image stay as they are. */
void model_revert(Model *m, uint32_t id);

/* Copies [offset, offset + length) of an image into buf. */
void model_read(const ModelImage *img, void *buf, uint64_t offset, uint64_t length);
/* Whether chunk c differs between two images (a missing part reads as
 * zeros, only bytes inside the smaller image are compared, and a chunk that
 * one image has and the other lacks differs). */
bool model_chunk_differs(const ModelImage *a, const ModelImage *b, uint64_t chunk);
/* Whether two models describe the same snapshots (ids, names, flags,
 * priorities, images) and the same origin. */
bool model_equal(const Model *a, const Model *b);

/* ---- comparing a store with the model ---- */

enum {
        MV_META = 1u << 0,   /* snapshot list, get, find, store info */
        MV_ORIGIN = 1u << 1, /* the whole origin image */
        MV_SNAPS = 1u << 2,  /* every snapshot image */
        MV_USAGE = 1u << 3,  /* private chunk counts */
        MV_ALL = MV_META | MV_ORIGIN | MV_SNAPS | MV_USAGE,
};

/* Compares the store with the model.  Returns 0 when they agree, 1 on a
 * difference, -errno when a store call failed; on anything but 0, why gets
 * a sentence naming what differed (snapshot, byte offset, values).  Learns
 * ctimes it has not seen yet into m. */
int model_verify(SsStore *s, Model *m, unsigned what, char *why, size_t why_len);
/* The same for one whole image (id SS_ORIGIN_ID: the origin). */
int model_verify_image(SsStore *s, const Model *m, uint32_t id, char *why, size_t why_len);
/* The same for chunk `chunk` of one image. */
int model_verify_chunk(SsStore *s, const Model *m, uint32_t id, uint64_t chunk, char *why,
                       size_t why_len);
/* Image id (SS_ORIGIN_ID: the origin) after an interrupted write to it:
 * every 512-byte sector must equal that sector in `before` or in `after`. */
int model_verify_sectors(SsStore *s, uint32_t id, const Model *before, const Model *after,
                         char *why, size_t why_len);
/* Reads [offset, offset + length) of image id (SS_ORIGIN_ID: the origin)
 * from the store: 0, or -errno (a short read is -EIO). */
int store_image_read(SsStore *s, uint32_t id, void *buf, uint64_t offset, size_t length);
