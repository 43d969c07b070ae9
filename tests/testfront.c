/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-testfront: a minimal FUSE frontend for the end-to-end tests.
 *
 *     zuma-testfront ORIGIN STORE MOUNTPOINT [--create] [--chunk-size N]
 *
 * It serves one store in MOUNTPOINT:
 *
 *     origin   the volume: reads go through ss_origin_read(), writes through
 *              ss_origin_write() (the copy-out path), fsync and flush through
 *              ss_store_flush()
 *     NAME     one read-only file per snapshot, read with ss_snapshot_read()
 *     ctl      write "snapshot NAME\n" or "delete NAME\n" (one command per
 *              line); read it for a line "# store key=value..." of store
 *              statistics, then "ID NAME BYTES" per snapshot
 *
 * A loop device attached to `origin` or to a snapshot file then carries a
 * real file system, so the engine is exercised by ext4 and xfs themselves.
 *
 * Why it looks the way it does:
 *  - The lowlevel API with fixed inode numbers (root 1, origin 2, ctl 3,
 *    snapshot id + 16): snapshot ids are never reused, so an inode never
 *    changes meaning and no lookup counting is needed.
 *  - Every file is opened with direct_io, so the kernel's page cache of the
 *    FUSE files never answers a read the engine did not see.  The writeback
 *    cache stays off for the same reason.
 *  - Single-threaded (fuse_session_loop): the store handle is not
 *    thread-safe and a test frontend has no use for parallelism.
 *  - Requests that are not 512-byte aligned (a shell's `cat`, a `dd` with
 *    odd sizes) are served by read-modify-write of the edge sectors, since
 *    the engine only takes whole sectors.
 *  - SETATTR is accepted when it changes nothing the engine owns (times,
 *    suid-kill, a size equal to the current one); the kernel sends it on
 *    some paths (utimensat, open with O_TRUNC, suid clearing).  Changing the
 *    size of origin or a snapshot is refused: the volume has a fixed size.
 *  - FALLOCATE is served on origin, because a loop device turns discard and
 *    write-zeroes requests (mkfs zeroing its journal, fstrim) into
 *    fallocate(PUNCH_HOLE / ZERO_RANGE) on its file: both become writes of
 *    zeroes through the copy-out path, so a snapshot keeps the old data.
 *    Without it the kernel logs an error for each such request.
 *  - A snapshot whose file is open cannot be deleted (EBUSY): a loop device
 *    on it would otherwise read a vanished image.
 *
 * On SIGTERM/SIGINT/SIGHUP or an unmount, the loop ends, the mount is
 * removed, the store is closed cleanly, and a line of request statistics is
 * printed (what the kernel really sent: useful when writing a frontend).
 */
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/falloc.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snapstore.h"

#define SECTOR 512u
#define MAX_WRITE (1u << 20)
#define CTL_LINE_MAX 4096
#define CLEANUP_BUDGET 4096

enum {
        INO_ROOT = 1,
        INO_ORIGIN = 2,
        INO_CTL = 3,
        INO_SNAP_BASE = 16, /* snapshot id + INO_SNAP_BASE */
};

typedef struct OpenSnap {
        uint32_t id;
        unsigned opens;
} OpenSnap;

typedef struct Stats {
        uint64_t reads, writes, unaligned_reads, unaligned_writes;
        uint64_t max_read, max_write;
        uint64_t flushes, fsyncs, setattrs, setattr_size, fallocates;
        unsigned setattr_valid; /* union of every to_set mask seen */
} Stats;

typedef struct Front {
        SsStore *store;
        uint64_t origin_size;
        time_t start_time;
        OpenSnap *open_snaps;
        size_t n_open_snaps, cap_open_snaps;
        Stats stats;
} Front;

static Front *front_of(fuse_req_t req)
{
        return fuse_req_userdata(req);
}

static bool is_snap_ino(fuse_ino_t ino)
{
        return ino >= INO_SNAP_BASE && ino - INO_SNAP_BASE <= UINT32_MAX;
}

static uint32_t snap_id(fuse_ino_t ino)
{
        return (uint32_t)(ino - INO_SNAP_BASE);
}

static void log_failure(const char *what, int r)
{
        fprintf(stderr, "zuma-testfront: %s: %s (%s)\n", what, strerror(-r), ss_last_error());
}

/* ---- snapshot open counts ---- */

static OpenSnap *find_open(Front *f, uint32_t id)
{
        for (size_t i = 0; i < f->n_open_snaps; i++)
                if (f->open_snaps[i].id == id)
                        return &f->open_snaps[i];
        return NULL;
}

static int open_snap_ref(Front *f, uint32_t id)
{
        OpenSnap *o = find_open(f, id);

        if (o) {
                o->opens++;
                return 0;
        }
        if (f->n_open_snaps == f->cap_open_snaps) {
                size_t cap = f->cap_open_snaps ? 2 * f->cap_open_snaps : 8;
                OpenSnap *n = realloc(f->open_snaps, cap * sizeof(*n));

                if (!n)
                        return -ENOMEM;
                f->open_snaps = n;
                f->cap_open_snaps = cap;
        }
        f->open_snaps[f->n_open_snaps++] = (OpenSnap){ .id = id, .opens = 1 };
        return 0;
}

static void open_snap_unref(Front *f, uint32_t id)
{
        OpenSnap *o = find_open(f, id);

        if (!o)
                return;
        if (--o->opens == 0)
                *o = f->open_snaps[--f->n_open_snaps];
}

/* ---- attributes ---- */

static int fill_attr(Front *f, fuse_ino_t ino, struct stat *st)
{
        memset(st, 0, sizeof(*st));
        st->st_ino = ino;
        st->st_uid = getuid();
        st->st_gid = getgid();
        st->st_blksize = 4096;
        st->st_mtime = st->st_ctime = st->st_atime = f->start_time;

        if (ino == INO_ROOT) {
                st->st_mode = S_IFDIR | 0755;
                st->st_nlink = 2;
        } else if (ino == INO_ORIGIN) {
                st->st_mode = S_IFREG | 0644;
                st->st_nlink = 1;
                st->st_size = (off_t)f->origin_size;
        } else if (ino == INO_CTL) {
                st->st_mode = S_IFREG | 0644;
                st->st_nlink = 1;
        } else if (is_snap_ino(ino)) {
                SsSnapshotInfo si;
                int r = ss_snapshot_get(f->store, snap_id(ino), &si);

                if (r < 0)
                        return r;
                st->st_mode = S_IFREG | 0444;
                st->st_nlink = 1;
                st->st_size = (off_t)si.origin_size;
                st->st_mtime = st->st_ctime = st->st_atime = (time_t)si.ctime;
        } else {
                return -ENOENT;
        }
        st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
        return 0;
}

static int image_size(Front *f, fuse_ino_t ino, uint64_t *ret_size)
{
        SsSnapshotInfo si;
        int r;

        if (ino == INO_ORIGIN) {
                *ret_size = f->origin_size;
                return 0;
        }
        r = ss_snapshot_get(f->store, snap_id(ino), &si);
        if (r < 0)
                return r;
        *ret_size = si.origin_size;
        return 0;
}

/* Snapshots can disappear (ctl delete): never let the kernel cache them. */
static double attr_timeout(fuse_ino_t ino)
{
        return is_snap_ino(ino) ? 0.0 : 3600.0;
}

static bool reserved_name(const char *name)
{
        return strcmp(name, "origin") == 0 || strcmp(name, "ctl") == 0 || strcmp(name, ".") == 0 ||
               strcmp(name, "..") == 0 || strchr(name, '/');
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        Front *f = front_of(req);
        struct fuse_entry_param e = { 0 };
        uint32_t id;
        int r;

        if (parent != INO_ROOT) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        if (strcmp(name, "origin") == 0) {
                e.ino = INO_ORIGIN;
        } else if (strcmp(name, "ctl") == 0) {
                e.ino = INO_CTL;
        } else {
                if (!ss_name_valid(name, SS_NAME_MAX) || reserved_name(name)) {
                        fuse_reply_err(req, ENOENT);
                        return;
                }
                r = ss_snapshot_find(f->store, name, &id);
                if (r < 0) {
                        fuse_reply_err(req, -r);
                        return;
                }
                e.ino = INO_SNAP_BASE + (fuse_ino_t)id;
        }
        r = fill_attr(f, e.ino, &e.attr);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        e.attr_timeout = e.entry_timeout = attr_timeout(e.ino);
        fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        struct stat st;
        int r = fill_attr(front_of(req), ino, &st);

        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_attr(req, &st, attr_timeout(ino));
}

/* The volume and its snapshots have a fixed size. */
static int resize_error(fuse_ino_t ino)
{
        if (ino == INO_ROOT)
                return EISDIR;
        if (ino == INO_ORIGIN)
                return EINVAL; /* as ftruncate() on a block device */
        return EROFS;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
        Front *f = front_of(req);
        struct stat st;
        int r;

        f->stats.setattrs++;
        f->stats.setattr_valid |= (unsigned)to_set;
        r = fill_attr(f, ino, &st);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
                fuse_reply_err(req, EPERM);
                return;
        }
        if (to_set & FUSE_SET_ATTR_SIZE) {
                f->stats.setattr_size++;
                /* ctl is a command channel: `echo ... > ctl` truncates it. */
                if (ino != INO_CTL && attr->st_size != st.st_size) {
                        fuse_reply_err(req, resize_error(ino));
                        return;
                }
        }
        /* Times and suid/sgid clearing: nothing to store, accept. */
        fuse_reply_attr(req, &st, attr_timeout(ino));
}

/* ---- directory ---- */

typedef struct DirBuf {
        char *p;
        size_t size;
} DirBuf;

static int dirbuf_add(fuse_req_t req, DirBuf *b, const char *name, fuse_ino_t ino)
{
        struct stat st = { .st_ino = ino };
        size_t old = b->size;
        size_t need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
        char *n = realloc(b->p, old + need);

        if (!n)
                return -ENOMEM;
        b->p = n;
        b->size += need;
        st.st_mode = ino == INO_ROOT ? S_IFDIR : S_IFREG;
        fuse_add_direntry(req, b->p + old, need, name, &st, (off_t)b->size);
        return 0;
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
        Front *f = front_of(req);
        DirBuf b = { 0 };
        SsSnapshotInfo si;
        uint32_t after = 0;
        int r;

        if (ino != INO_ROOT) {
                fuse_reply_err(req, ENOTDIR);
                return;
        }
        r = dirbuf_add(req, &b, ".", INO_ROOT);
        if (r == 0)
                r = dirbuf_add(req, &b, "..", INO_ROOT);
        if (r == 0)
                r = dirbuf_add(req, &b, "origin", INO_ORIGIN);
        if (r == 0)
                r = dirbuf_add(req, &b, "ctl", INO_CTL);
        while (r == 0 && (r = ss_snapshot_next(f->store, after, &si)) == 0) {
                after = si.id;
                r = dirbuf_add(req, &b, si.name, INO_SNAP_BASE + (fuse_ino_t)si.id);
        }
        if (r == -ENOENT)
                r = 0;
        if (r < 0)
                fuse_reply_err(req, -r);
        else if ((size_t)off < b.size)
                fuse_reply_buf(req, b.p + off,
                               b.size - (size_t)off < size ? b.size - (size_t)off : size);
        else
                fuse_reply_buf(req, NULL, 0);
        free(b.p);
}

/* ---- open/release ---- */

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        Front *f = front_of(req);
        int accmode = fi->flags & O_ACCMODE;
        struct stat st;
        int r;

        if (ino == INO_ROOT) {
                fuse_reply_err(req, EISDIR);
                return;
        }
        r = fill_attr(f, ino, &st);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        if (is_snap_ino(ino)) {
                if (accmode != O_RDONLY) {
                        fuse_reply_err(req, EROFS);
                        return;
                }
                r = open_snap_ref(f, snap_id(ino));
                if (r < 0) {
                        fuse_reply_err(req, -r);
                        return;
                }
        }
        /* O_TRUNC is ignored, as a block device ignores it. */
        fi->direct_io = 1;
        fi->keep_cache = 0;
        fuse_reply_open(req, fi);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        if (is_snap_ino(ino))
                open_snap_unref(front_of(req), snap_id(ino));
        fuse_reply_err(req, 0);
}

/* ---- data ---- */

static int image_read(Front *f, fuse_ino_t ino, void *buf, uint64_t off, size_t len)
{
        if (ino == INO_ORIGIN)
                return ss_origin_read(f->store, buf, off, len);
        return ss_snapshot_read(f->store, snap_id(ino), buf, off, len);
}

static void ctl_read(fuse_req_t req, Front *f, size_t size, off_t off)
{
        char *text = NULL;
        size_t text_len = 0;
        FILE *out = open_memstream(&text, &text_len);
        SsSnapshotInfo si;
        SsStoreInfo info;
        uint32_t after = 0;
        int r;

        if (!out) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        r = ss_store_info(f->store, &info);
        if (r == 0)
                fprintf(out,
                        "# store chunk_size=%" PRIu32 " snapshots=%" PRIu32 " data_bytes=%" PRIu64
                        " metadata_bytes=%" PRIu64 " free_bytes=%" PRIu64
                        " shared_exceptions=%" PRIu64 " cleanup_jobs=%" PRIu32 "\n",
                        info.chunk_size, info.snapshot_count, info.data_bytes, info.metadata_bytes,
                        info.free_bytes, info.shared_exceptions, info.cleanup_jobs);
        while (r == 0 && (r = ss_snapshot_next(f->store, after, &si)) == 0) {
                after = si.id;
                fprintf(out, "%" PRIu32 " %s %" PRIu64 "\n", si.id, si.name, si.origin_size);
        }
        fclose(out);
        if (r != -ENOENT)
                fuse_reply_err(req, -r);
        else if (off >= 0 && (size_t)off < text_len)
                fuse_reply_buf(req, text + off,
                               text_len - (size_t)off < size ? text_len - (size_t)off : size);
        else
                fuse_reply_buf(req, NULL, 0);
        free(text);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
        Front *f = front_of(req);
        uint64_t image, start, end, uoff = (uint64_t)off;
        uint8_t *buf;
        int r;

        if (ino == INO_CTL) {
                ctl_read(req, f, size, off);
                return;
        }
        r = image_size(f, ino, &image);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        if (off < 0 || uoff >= image || size == 0) {
                fuse_reply_buf(req, NULL, 0);
                return;
        }
        if (size > image - uoff)
                size = (size_t)(image - uoff);

        f->stats.reads++;
        if (size > f->stats.max_read)
                f->stats.max_read = size;
        start = uoff & ~(uint64_t)(SECTOR - 1);
        end = (uoff + size + SECTOR - 1) & ~(uint64_t)(SECTOR - 1);
        if (start != uoff || end != uoff + size)
                f->stats.unaligned_reads++;

        buf = ss_alloc_io_buffer(end - start);
        if (!buf) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        r = image_read(f, ino, buf, start, end - start);
        if (r < 0) {
                log_failure("read", r);
                fuse_reply_err(req, -r);
        } else {
                fuse_reply_buf(req, (const char *)buf + (uoff - start), size);
        }
        free(buf);
}

/* Whole sectors go straight to the engine (with the caller's buffer, which
 * need not be aligned); anything else reads the edge sectors first. */
static int origin_write_any(Front *f, const char *data, uint64_t off, size_t len)
{
        uint64_t start = off & ~(uint64_t)(SECTOR - 1);
        uint64_t end = (off + len + SECTOR - 1) & ~(uint64_t)(SECTOR - 1);
        uint8_t *buf;
        int r = 0;

        if (start == off && end == off + len)
                return ss_origin_write(f->store, data, off, len);

        f->stats.unaligned_writes++;
        buf = ss_alloc_io_buffer(end - start);
        if (!buf)
                return -ENOMEM;
        if (start != off)
                r = ss_origin_read(f->store, buf, start, SECTOR);
        if (r == 0 && end != off + len && (end - SECTOR != start || start == off))
                r = ss_origin_read(f->store, buf + (end - SECTOR - start), end - SECTOR, SECTOR);
        if (r == 0) {
                memcpy(buf + (off - start), data, len);
                r = ss_origin_write(f->store, buf, start, end - start);
        }
        free(buf);
        return r;
}

static int ctl_command(Front *f, char *line)
{
        char *arg = strchr(line, ' ');
        uint32_t id;
        int r;

        if (!arg)
                return -EINVAL;
        *arg++ = '\0';
        if (!ss_name_valid(arg, SS_NAME_MAX) || reserved_name(arg)) {
                fprintf(stderr, "zuma-testfront: ctl: invalid snapshot name '%s'\n", arg);
                return -EINVAL;
        }
        if (strcmp(line, "snapshot") == 0) {
                r = ss_snapshot_create(f->store, arg, 0, 0, &id);
                if (r < 0) {
                        log_failure("snapshot create", r);
                        return r;
                }
                fprintf(stderr, "zuma-testfront: snapshot '%s' created, id %" PRIu32 "\n", arg, id);
                return 0;
        }
        if (strcmp(line, "delete") == 0) {
                r = ss_snapshot_find(f->store, arg, &id);
                if (r < 0)
                        return r;
                if (find_open(f, id)) {
                        fprintf(stderr, "zuma-testfront: snapshot '%s' is open, not deleted\n",
                                arg);
                        return -EBUSY;
                }
                r = ss_snapshot_delete(f->store, id);
                if (r < 0) {
                        log_failure("snapshot delete", r);
                        return r;
                }
                while ((r = ss_cleanup_step(f->store, CLEANUP_BUDGET)) > 0)
                        ;
                if (r < 0) {
                        log_failure("cleanup", r);
                        return r;
                }
                fprintf(stderr, "zuma-testfront: snapshot '%s' (id %" PRIu32 ") deleted\n", arg,
                        id);
                return 0;
        }
        fprintf(stderr, "zuma-testfront: ctl: unknown command '%s'\n", line);
        return -EINVAL;
}

/* Each write holds whole commands, one per line. */
static int ctl_write(Front *f, const char *data, size_t len)
{
        char text[CTL_LINE_MAX + 1];
        char *line, *save = NULL;
        int r;

        if (len > CTL_LINE_MAX)
                return -EINVAL;
        memcpy(text, data, len);
        text[len] = '\0';
        if (strlen(text) != len)
                return -EINVAL;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                size_t n = strlen(line);

                while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
                        line[--n] = '\0';
                if (n == 0)
                        continue;
                r = ctl_command(f, line);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
        Front *f = front_of(req);
        uint64_t uoff = (uint64_t)off;
        int r;

        if (ino == INO_CTL) {
                r = ctl_write(f, data, size);
        } else if (ino != INO_ORIGIN) {
                r = -EROFS;
        } else if (off < 0 || uoff > f->origin_size || size > f->origin_size - uoff) {
                r = -ENOSPC; /* as a block device answers past its end */
        } else {
                f->stats.writes++;
                if (size > f->stats.max_write)
                        f->stats.max_write = size;
                r = size ? origin_write_any(f, data, uoff, size) : 0;
                if (r < 0)
                        log_failure("origin write", r);
        }
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_write(req, size);
}

/* Discard and write-zeroes from a loop device: zeroes through the copy-out
 * path.  Allocation alone (mode 0 or KEEP_SIZE) has nothing to do. */
static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t length,
                         struct fuse_file_info *fi)
{
        Front *f = front_of(req);
        const int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
        uint64_t uoff = (uint64_t)off, end;
        uint8_t *zeroes;
        int r = 0;

        f->stats.fallocates++;
        if (ino != INO_ORIGIN) {
                fuse_reply_err(req, ino == INO_CTL ? EOPNOTSUPP : EROFS);
                return;
        }
        if ((mode & ~known) || off < 0 || length <= 0) {
                fuse_reply_err(req, (mode & ~known) ? EOPNOTSUPP : EINVAL);
                return;
        }
        end = uoff + (uint64_t)length;
        if (end < uoff || end > f->origin_size) {
                if (!(mode & FALLOC_FL_KEEP_SIZE)) {
                        fuse_reply_err(req, EINVAL); /* the volume cannot grow */
                        return;
                }
                end = f->origin_size;
        }
        if (!(mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) || uoff >= end) {
                fuse_reply_err(req, 0);
                return;
        }
        zeroes = ss_alloc_io_buffer(MAX_WRITE);
        if (!zeroes) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        memset(zeroes, 0, MAX_WRITE);
        while (r == 0 && uoff < end) {
                size_t piece = end - uoff < MAX_WRITE ? (size_t)(end - uoff) : MAX_WRITE;

                r = origin_write_any(f, (const char *)zeroes, uoff, piece);
                uoff += piece;
        }
        free(zeroes);
        if (r < 0)
                log_failure("fallocate", r);
        fuse_reply_err(req, -r);
}

static void sync_reply(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        Front *f = front_of(req);
        int r = 0;

        if (ino == INO_ORIGIN && (fi->flags & O_ACCMODE) != O_RDONLY) {
                r = ss_store_flush(f->store);
                if (r < 0)
                        log_failure("flush", r);
        }
        fuse_reply_err(req, -r);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        front_of(req)->stats.flushes++;
        sync_reply(req, ino, fi);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
        front_of(req)->stats.fsyncs++;
        sync_reply(req, ino, fi);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
        conn->max_write = MAX_WRITE;
        conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
        if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
                conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
}

static const struct fuse_lowlevel_ops ops = {
        .init = op_init,
        .lookup = op_lookup,
        .getattr = op_getattr,
        .setattr = op_setattr,
        .readdir = op_readdir,
        .open = op_open,
        .release = op_release,
        .read = op_read,
        .write = op_write,
        .flush = op_flush,
        .fsync = op_fsync,
        .fallocate = op_fallocate,
};

/* ---- main ---- */

static void usage(FILE *out)
{
        fprintf(out, "usage: zuma-testfront ORIGIN STORE MOUNTPOINT [--create] "
                     "[--chunk-size BYTES]\n");
}

static void print_stats(const Stats *s)
{
        fprintf(stderr,
                "zuma-testfront: stats: reads %" PRIu64 " (unaligned %" PRIu64 ", max %" PRIu64
                ") writes %" PRIu64 " (unaligned %" PRIu64 ", max %" PRIu64 ") flushes %" PRIu64
                " fsyncs %" PRIu64 " setattrs %" PRIu64 " (size %" PRIu64
                ", valid mask 0x%x) fallocates %" PRIu64 "\n",
                s->reads, s->unaligned_reads, s->max_read, s->writes, s->unaligned_writes,
                s->max_write, s->flushes, s->fsyncs, s->setattrs, s->setattr_size, s->setattr_valid,
                s->fallocates);
}

static int serve(Front *f, const char *argv0, const char *mountpoint)
{
        char *fuse_argv[] = { (char *)argv0, "-o", "fsname=zuma-testfront,subtype=zuma", NULL };
        struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
        struct fuse_session *se;
        int r = 1;

        se = fuse_session_new(&args, &ops, sizeof(ops), f);
        if (!se)
                return 1;
        if (fuse_set_signal_handlers(se) == 0) {
                if (fuse_session_mount(se, mountpoint) == 0) {
                        fprintf(stderr, "zuma-testfront: serving %s\n", mountpoint);
                        r = fuse_session_loop(se) < 0 ? 1 : 0;
                        fuse_session_unmount(se);
                }
                fuse_remove_signal_handlers(se);
        }
        fuse_session_destroy(se);
        fuse_opt_free_args(&args);
        return r;
}

int main(int argc, char **argv)
{
        const char *paths[3];
        int n_paths = 0;
        bool create = false;
        uint32_t chunk_size = 0;
        SsBlockDev *origin = NULL, *store = NULL;
        Front f = { .start_time = time(NULL) };
        SsStoreInfo info;
        int r, ret = 1;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--create") == 0) {
                        create = true;
                } else if (strcmp(argv[i], "--chunk-size") == 0 && i + 1 < argc) {
                        char *end;
                        unsigned long v = strtoul(argv[++i], &end, 0);

                        if (*end || v == 0 || v > UINT32_MAX) {
                                fprintf(stderr, "zuma-testfront: bad chunk size '%s'\n", argv[i]);
                                return 2;
                        }
                        chunk_size = (uint32_t)v;
                } else if (strcmp(argv[i], "--help") == 0) {
                        usage(stdout);
                        return 0;
                } else if (argv[i][0] != '-' && n_paths < 3) {
                        paths[n_paths++] = argv[i];
                } else {
                        usage(stderr);
                        return 2;
                }
        }
        if (n_paths != 3) {
                usage(stderr);
                return 2;
        }

        r = ss_blockdev_open_file(paths[0], 0, &origin);
        if (r < 0) {
                fprintf(stderr, "zuma-testfront: %s: %s\n", paths[0], strerror(-r));
                goto out;
        }
        r = ss_blockdev_open_file(paths[1], 0, &store);
        if (r < 0) {
                fprintf(stderr, "zuma-testfront: %s: %s\n", paths[1], strerror(-r));
                goto out;
        }
        if (create) {
                SsCreateOptions copts = { .volume_name = "test", .chunk_size = chunk_size };

                r = ss_store_create(origin, store, &copts);
                if (r < 0) {
                        log_failure("store create", r);
                        goto out;
                }
        }
        r = ss_store_open(origin, store, &(SsOpenOptions){ 0 }, &f.store);
        if (r < 0) {
                log_failure("store open", r);
                goto out;
        }
        r = ss_store_info(f.store, &info);
        if (r < 0) {
                log_failure("store info", r);
                goto out;
        }
        f.origin_size = info.origin_size;

        ret = serve(&f, argv[0], paths[2]);
        print_stats(&f.stats);
out:
        if (f.store) {
                r = ss_store_close(f.store);
                if (r < 0) {
                        log_failure("store close", r);
                        ret = 1;
                }
        }
        if (store)
                ss_blockdev_close(store);
        if (origin)
                ss_blockdev_close(origin);
        free(f.open_snaps);
        return ret;
}
