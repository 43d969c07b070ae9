/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Why the file system looks the way it does (facts found with the first
 * test frontend, since retired):
 *  - Lowlevel API, inode numbers fixed by zuma-image-table.c, so an inode
 *    never changes meaning and forget has nothing to do.
 *  - Every open gets direct_io and the writeback cache stays off: the
 *    kernel's page cache of an image must never answer a read the engine
 *    did not see.  With direct_io the loop device's own direct I/O works on
 *    these files and requests reach us asynchronously (async DIO), up to
 *    max_write = 1 MiB each (libfuse derives max_pages from it).
 *  - Entry and attribute timeouts are 0: images and volumes come and go
 *    under the main thread, and lookups only happen when a file is opened.
 *  - SETATTR is accepted when it changes nothing (times, suid clearing, the
 *    current size); an image has a fixed size.
 *  - FALLOCATE (PUNCH_HOLE / ZERO_RANGE, from discard and write-zeroes on
 *    the loop device) writes zeroes through the copy-out path, so snapshots
 *    keep the old data.
 *  - FLUSH (sent at every close()) promises nothing and does nothing:
 *    durability is what FSYNC asks for, and a loop device sends FSYNC for
 *    every flush request it gets.  So the server's own close() of an image
 *    file (after LOOP_CONFIGURE) never waits for a store flush.
 *  - A worker is always free for synchronous requests.  Requests from a
 *    loop device's asynchronous direct I/O travel as background requests,
 *    and the kernel keeps at most MAX_BACKGROUND of them in flight; there
 *    are MAX_THREADS > MAX_BACKGROUND workers, so RESERVED_THREADS of them
 *    can only ever serve synchronous requests: the lookups, opens, getattrs,
 *    statfs, fsyncs and getxattrs that the server's own attach and detach
 *    (LOOP_CONFIGURE asks for statfs), udev's probe and loop flushes make.
 *    However many writes wait on a slow (or frozen) store, those requests
 *    are answered; none of their handlers takes an engine lock but fsync's
 *    flush, which waits for the devices only.  (With 64 background
 *    requests and 16 workers, every worker could be a copy-out queued on
 *    the engine lock while the main thread's LOOP_CONFIGURE waited for its
 *    statfs: a 25 s bus timeout under load, and an unkillable server when
 *    the harness then sent SIGKILL.)
 *  - Requests in flight (issue 15).  Figures from bench/frontend-bench.sh
 *    in quick mode (ZUMA_BENCH_PHASES=0snap,1snap), main's HEAD and this
 *    build in interleaved runs on the shared 2-core machine; other
 *    engineers' test runs made even the plain loop's 4 KiB figure swing
 *    from 38 to 300 MiB/s between runs, so only runs close together are
 *    compared.  With 16 background requests in flight and at most 8 idle
 *    workers, libfuse ended a worker each time more than 8 were idle and
 *    started one each time none was: a thread, a /dev/fuse clone (open
 *    and ioctl) and two 1 MiB buffers (its own and zuma-image-io.c's) per
 *    burst of 4 KiB writes; a profile of the server during fio's random
 *    writes showed thread creation, mmap and munmap, open and TLS setup
 *    beside the FUSE reads and writes.  Workers that started stay now
 *    (MAX_IDLE_THREADS = MAX_THREADS, as libfuse's own comment advises),
 *    and rewrites of chunks that need no copy-out skip the store lock and
 *    the group commit (agents/snapshotd/zuma-copied-map.c).  Both
 *    together, two rounds each, plain loop at 230-300 MiB/s: 4 KiB random
 *    writes at iodepth 16 with no snapshot 78 and 94 -> 102 and 128 MiB/s
 *    (ratio 0.27, 0.32 -> 0.37, 0.44); the same after one snapshot, every
 *    chunk copied out, 77 and 80 -> 81 and 106 MiB/s; 1 MiB sequential
 *    writes with no snapshot 0.64, 0.69 -> 0.73, 0.84.  Each change alone
 *    (one earlier batch, more disturbed): keeping the workers took the
 *    0-snapshot random writes from 72 to 91 MiB/s, the map on top 92 at a
 *    plain loop of half the speed.  After one snapshot, in a third batch
 *    (1snap phase only, two rounds): random writes 47 and 51 MiB/s on
 *    main, 84 and 87 with both changes, 57 and 86 with the map alone.
 *    Not changed: the copy-out pass right after a snapshot (1 MiB writes,
 *    iodepth 4): 238 and 241 MiB/s on main against 217 and 184 in one
 *    batch, but 197 against 211 (and 215 with the map alone) in the
 *    third; neither change touches a first write, and the pass is bound
 *    by the copy-out under the store lock.  Tried and
 *    not kept: max_write 256 KiB instead of 1 MiB (1 MiB writes arrive as
 *    four requests, 16 in flight, for the group commit to gather): the
 *    copy-out pass ran 184 MiB/s against 170 with 1 MiB, within the noise,
 *    as it is bound by the copy-out under the store lock, not by requests
 *    in flight.  Not tried, and why: splice.  SPLICE_READ needs write_buf
 *    and leaves a write's data 80 bytes into a pipe page, unaligned for
 *    the O_DIRECT origin, so it costs the same copy; SPLICE_WRITE of a
 *    read reply is copied out of the pipe by the kernel just as writev's
 *    data is.  What is left for 4 KiB writes is the FUSE round trip itself
 *    (two context switches, a read and a writev of /dev/fuse and a
 *    blocking pwrite per request, where the plain loop submits
 *    asynchronous I/O), on 2 cores shared with the loop device's workers
 *    and fio: FUSE over io_uring (Linux 6.14, not in libfuse 3.14) or the
 *    kernel target are the ways past it.
 *  - The xattrs of zuma-image-xattr.h carry what udev's probe needs.
 *  - Stopping: the main thread looks up a reserved name through a
 *    descriptor of the mount root (so this works even if someone detached
 *    the mount); the worker that serves it calls fuse_session_exit() and
 *    answers, then ends the loop, which cancels the other workers.  (Calling
 *    fuse_session_exit() from the main thread first would make libfuse drop
 *    the waking request unanswered.)
 */
#define G_LOG_DOMAIN "zuma-frontend"
#define FUSE_USE_VERSION 312

#include "zuma-fuse-server.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "zuma-error.h"
#include "zuma-image-io.h"
#include "zuma-image-xattr.h"

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

/* See "A worker is always free" above: MAX_BACKGROUND < MAX_THREADS.
 * Idle workers are kept, all of them ("Requests in flight" above). */
#define MAX_BACKGROUND 16
#define RESERVED_THREADS 8
#define MAX_THREADS (MAX_BACKGROUND + RESERVED_THREADS)
#define MAX_IDLE_THREADS MAX_THREADS
_Static_assert(MAX_BACKGROUND < MAX_THREADS, "workers are reserved for synchronous requests");
#define STOP_NAME ".zuma-stop"

struct ZumaFuseServer {
        ZumaImageTable *table;
        char *mount_dir;
        struct fuse_session *session;
        GThread *thread;
        int root_fd;
        guint connection; /* fusectl's number for this mount, 0 if unknown */
        time_t start_time;
        gint stopping; /* atomic */
        /* Every handle opened and not yet released: a file still open
         * (a loop device someone holds) when the session ends gets no
         * RELEASE, so stopping frees what is left here. */
        GMutex handles_lock;
        GHashTable *open_handles;
};

static ZumaFuseServer *server_of(fuse_req_t req)
{
        return fuse_req_userdata(req);
}

static void handle_track(ZumaFuseServer *server, ZumaImageHandle *handle)
{
        g_mutex_lock(&server->handles_lock);
        g_hash_table_add(server->open_handles, handle);
        g_mutex_unlock(&server->handles_lock);
}

static void handle_release(ZumaFuseServer *server, ZumaImageHandle *handle)
{
        g_mutex_lock(&server->handles_lock);
        g_hash_table_remove(server->open_handles, handle);
        g_mutex_unlock(&server->handles_lock);
        zuma_image_handle_free(handle);
}

static ZumaImageHandle *handle_of(struct fuse_file_info *fi)
{
        return (ZumaImageHandle *)(uintptr_t)fi->fh;
}

/* What inode ino stands for; answers ENOENT and returns FALSE when it is
 * gone (a volume or image removed since the kernel looked it up). */
static gboolean resolve_or_reply(fuse_req_t req, fuse_ino_t ino, ZumaNode *ret_node)
{
        if (zuma_image_table_resolve(server_of(req)->table, ino, ret_node))
                return TRUE;
        fuse_reply_err(req, ENOENT);
        return FALSE;
}

/* ---- attributes ---- */

static void fill_attr(ZumaFuseServer *server, const ZumaNode *node, struct stat *st)
{
        memset(st, 0, sizeof(*st));
        st->st_ino = node->ino;
        st->st_uid = getuid();
        st->st_gid = getgid();
        st->st_blksize = 4096;
        st->st_atime = st->st_mtime = st->st_ctime = server->start_time;
        if (node->kind == ZUMA_NODE_IMAGE) {
                st->st_mode = S_IFREG | (zuma_image_is_writable(node->image) ? 0600 : 0400);
                st->st_nlink = 1;
                st->st_size = (off_t)zuma_image_get_size(node->image);
                st->st_blocks = (blkcnt_t)(st->st_size / 512);
        } else {
                st->st_mode = S_IFDIR | 0755;
                st->st_nlink = 2;
        }
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
        conn->max_write = ZUMA_IMAGE_IO_MAX;
        conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
        if (conn->capable & FUSE_CAP_ASYNC_DIO)
                conn->want |= FUSE_CAP_ASYNC_DIO;
        if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
                conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
        /* Asynchronous direct I/O from loop devices travels as background
         * requests: enough in flight to keep the devices busy, and fewer
         * than the workers (see the top of the file). */
        conn->max_background = MAX_BACKGROUND;
        conn->congestion_threshold = MAX_BACKGROUND * 3 / 4;
        g_debug("FUSE connection up (protocol %u.%u, max_write %u)", conn->proto_major,
                conn->proto_minor, conn->max_write);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        ZumaFuseServer *server = server_of(req);
        struct fuse_entry_param entry = { 0 };
        g_auto(ZumaNode) node = { 0 };

        if (parent == ZUMA_INO_ROOT && strcmp(name, STOP_NAME) == 0 &&
            g_atomic_int_get(&server->stopping)) {
                fuse_session_exit(server->session);
                fuse_reply_err(req, ENOENT);
                return;
        }
        if (!zuma_image_table_lookup(server->table, parent, name, &node)) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        entry.ino = node.ino;
        fill_attr(server, &node, &entry.attr);
        entry.attr_timeout = entry.entry_timeout = 0.0;
        fuse_reply_entry(req, &entry);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        ZumaFuseServer *server = server_of(req);
        g_auto(ZumaNode) node = { 0 };
        struct stat st;

        if (!resolve_or_reply(req, ino, &node))
                return;
        fill_attr(server, &node, &st);
        fuse_reply_attr(req, &st, 0.0);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
        ZumaFuseServer *server = server_of(req);
        g_auto(ZumaNode) node = { 0 };
        struct stat st;

        if (!resolve_or_reply(req, ino, &node))
                return;
        fill_attr(server, &node, &st);
        if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
                fuse_reply_err(req, EPERM);
                return;
        }
        if ((to_set & FUSE_SET_ATTR_SIZE) && attr->st_size != st.st_size) {
                if (node.kind != ZUMA_NODE_IMAGE)
                        fuse_reply_err(req, EISDIR);
                else
                        fuse_reply_err(req, zuma_image_is_writable(node.image) ? EINVAL : EROFS);
                return;
        }
        /* Times and suid/sgid clearing: nothing to keep. */
        fuse_reply_attr(req, &st, 0.0);
}

/* ---- directories ---- */

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
        ZumaFuseServer *server = server_of(req);
        g_autoptr(GPtrArray) entries = zuma_image_table_list_dir(server->table, ino);
        g_autofree char *buf = NULL;
        size_t used = 0;

        if (!entries) {
                fuse_reply_err(req, ENOTDIR);
                return;
        }
        buf = g_malloc(size);
        /* Offsets count entries: 1 and 2 are "." and "..". */
        for (guint64 i = off < 0 ? 0 : (guint64)off; i < entries->len + 2; i++) {
                const ZumaDirEntry *entry = i >= 2 ? g_ptr_array_index(entries, i - 2) : NULL;
                struct stat st = { 0 };
                size_t need;

                st.st_ino = entry ? entry->ino : ino;
                st.st_mode = entry && !entry->is_dir ? S_IFREG : S_IFDIR;
                need = fuse_add_direntry(req, buf + used, size - used,
                                         entry ? entry->name : (i == 0 ? "." : ".."), &st,
                                         (off_t)(i + 1));
                if (need > size - used)
                        break;
                used += need;
        }
        fuse_reply_buf(req, buf, used);
}

/* ---- open files ---- */

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        gboolean for_write = (fi->flags & O_ACCMODE) != O_RDONLY;
        g_auto(ZumaNode) node = { 0 };
        ZumaImageHandle *handle;

        if (!resolve_or_reply(req, ino, &node))
                return;
        if (node.kind != ZUMA_NODE_IMAGE) {
                fuse_reply_err(req, EISDIR);
                return;
        }
        if (for_write && !zuma_image_is_writable(node.image)) {
                fuse_reply_err(req, EROFS);
                return;
        }
        handle = zuma_image_handle_new(node.image, for_write);
        handle_track(server_of(req), handle);
        fi->fh = (uint64_t)(uintptr_t)handle;
        fi->direct_io = 1;
        fi->keep_cache = 0;
        fi->noflush = 1; /* close() needs nothing from us (see the top) */
        /* O_TRUNC is ignored, as a block device ignores it. */
        if (fuse_reply_open(req, fi) != 0)
                handle_release(server_of(req), handle); /* interrupted: no release follows */
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        handle_release(server_of(req), handle_of(fi));
        fuse_reply_err(req, 0);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
        const void *data;
        size_t length;
        int r;

        if (off < 0) {
                fuse_reply_err(req, EINVAL);
                return;
        }
        r = zuma_image_io_read(handle_of(fi), (guint64)off, size, &data, &length);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_buf(req, data, length);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
        int r;

        if (off < 0) {
                fuse_reply_err(req, EINVAL);
                return;
        }
        r = zuma_image_io_write(handle_of(fi), data, (guint64)off, size);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_write(req, size);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t length,
                         struct fuse_file_info *fi)
{
        const int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
        ZumaImageHandle *handle = handle_of(fi);
        guint64 size = zuma_image_get_size(handle->image);
        guint64 start = (guint64)off, end;

        if (mode & ~known) {
                fuse_reply_err(req, EOPNOTSUPP);
                return;
        }
        if (off < 0 || length <= 0) {
                fuse_reply_err(req, EINVAL);
                return;
        }
        if (!zuma_image_is_writable(handle->image) || !handle->for_write) {
                fuse_reply_err(req, handle->for_write ? EROFS : EBADF);
                return;
        }
        end = start + (guint64)length;
        if (end < start || end > size) {
                if (!(mode & FALLOC_FL_KEEP_SIZE)) {
                        fuse_reply_err(req, EFBIG); /* an image cannot grow */
                        return;
                }
                end = size;
        }
        /* Allocation alone (mode 0 or KEEP_SIZE) has nothing to do. */
        if (!(mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) || start >= end) {
                fuse_reply_err(req, 0);
                return;
        }
        fuse_reply_err(req, -zuma_image_io_zero(handle, start, end - start));
}

/* close() promises no durability; fsync does (see the top of the file). */
static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
        ZumaImageHandle *handle = handle_of(fi);

        fuse_reply_err(req, handle->for_write ? -zuma_image_io_flush(handle) : 0);
}

/* ---- extended attributes ---- */

static void reply_xattr_value(fuse_req_t req, const char *value, size_t length, size_t size)
{
        if (size == 0)
                fuse_reply_xattr(req, length);
        else if (size < length)
                fuse_reply_err(req, ERANGE);
        else
                fuse_reply_buf(req, value, length);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
        ZumaFuseServer *server = server_of(req);
        g_auto(ZumaNode) node = { 0 };
        g_autofree char *value = NULL;

        if (!resolve_or_reply(req, ino, &node))
                return;
        if (node.kind == ZUMA_NODE_IMAGE)
                value = zuma_image_table_get_xattr(server->table, node.image, name);
        if (!value) {
                fuse_reply_err(req, ENODATA);
                return;
        }
        reply_xattr_value(req, value, strlen(value), size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
        g_auto(ZumaNode) node = { 0 };
        g_autoptr(GBytes) names = NULL;
        gsize length;
        const char *data;

        if (!resolve_or_reply(req, ino, &node))
                return;
        if (node.kind != ZUMA_NODE_IMAGE) {
                reply_xattr_value(req, "", 0, size);
                return;
        }
        names = zuma_image_table_list_xattrs();
        data = g_bytes_get_data(names, &length);
        reply_xattr_value(req, data, length, size);
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
        .getxattr = op_getxattr,
        .listxattr = op_listxattr,
};

/* ---- session ---- */

/* libfuse's log callback: format and args come from libfuse's own calls. */
G_GNUC_PRINTF(2, 0)
static void fuse_log_to_glib(enum fuse_log_level level, const char *format, va_list args)
{
        g_autofree char *text = g_strdup_vprintf(format, args);

        g_strchomp(text);
        if (level <= FUSE_LOG_ERR)
                g_warning("libfuse: %s", text);
        else
                g_debug("libfuse: %s", text);
}

static gpointer serve_thread(gpointer data)
{
        ZumaFuseServer *server = data;
        struct fuse_loop_config *config = fuse_loop_cfg_create();
        sigset_t all;
        int r;

        /* Signals belong to the main loop; the workers inherit this mask. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);
        fuse_loop_cfg_set_clone_fd(config, 1);
        fuse_loop_cfg_set_max_threads(config, MAX_THREADS);
        fuse_loop_cfg_set_idle_threads(config, MAX_IDLE_THREADS);
        r = fuse_session_loop_mt(server->session, config);
        fuse_loop_cfg_destroy(config);
        if (r != 0)
                g_warning("FUSE loop on %s ended: %s", server->mount_dir,
                          r < 0 ? g_strerror(-r) : "signal");
        else
                g_debug("FUSE loop on %s ended", server->mount_dir);
        return NULL;
}

typedef enum {
        MOUNT_NONE, /* nothing mounted on the directory */
        MOUNT_LIVE, /* a file system that answers */
        MOUNT_DEAD, /* a FUSE mount whose server is gone */
} MountState;

static gboolean inspect_mount(const char *mount_dir, MountState *ret_state, GError **error)
{
        struct statx stx;
        struct statfs sfs = { 0 };

        if (statx(AT_FDCWD, mount_dir, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0) {
                if (errno == ENOENT) {
                        *ret_state = MOUNT_NONE;
                        return TRUE;
                }
                if (errno == ENOTCONN || errno == ECONNABORTED) {
                        *ret_state = MOUNT_DEAD;
                        return TRUE;
                }
                zuma_error_set_errno(error, -errno, "cannot inspect %s: %s", mount_dir,
                                     g_strerror(errno));
                return FALSE;
        }
        if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) ||
            !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
                *ret_state = MOUNT_NONE;
                return TRUE;
        }
        if (statfs(mount_dir, &sfs) < 0 && (errno == ENOTCONN || errno == ECONNABORTED)) {
                *ret_state = MOUNT_DEAD;
                return TRUE;
        }
        zuma_error_set_errno(error, -EBUSY,
                             "%s is mounted and answers (%s); is another zuma-snapshotd "
                             "running on this run directory?",
                             mount_dir,
                             sfs.f_type == FUSE_SUPER_MAGIC ? "a live FUSE file system"
                                                            : "not a FUSE file system");
        *ret_state = MOUNT_LIVE;
        return FALSE;
}

gboolean zuma_fuse_server_check_mount(const char *mount_dir, GError **error)
{
        MountState state;

        return inspect_mount(mount_dir, &state, error);
}

gboolean zuma_fuse_server_clear_stale_mount(const char *mount_dir, GError **error)
{
        /* Mounts may be stacked; each round removes one. */
        for (int round = 0; round < 16; round++) {
                MountState state;

                if (!inspect_mount(mount_dir, &state, error))
                        return FALSE;
                if (state == MOUNT_NONE)
                        return TRUE;
                if (umount2(mount_dir, MNT_DETACH) < 0) {
                        zuma_error_set_errno(error, -errno,
                                             "cannot unmount the stale FUSE mount on %s: %s",
                                             mount_dir, g_strerror(errno));
                        return FALSE;
                }
                g_message("unmounted the stale FUSE mount on %s (left by a killed server)",
                          mount_dir);
        }
        zuma_error_set_errno(error, -EBUSY, "%s: too many stacked mounts", mount_dir);
        return FALSE;
}

ZumaFuseServer *zuma_fuse_server_start(const char *mount_dir, ZumaImageTable *table, GError **error)
{
        struct stat st;
        char *argv[] = { "zuma-snapshotd", "-o", "fsname=zumastor,subtype=zumastor", NULL };
        struct fuse_args args = FUSE_ARGS_INIT(3, argv);
        ZumaFuseServer *server = g_new0(ZumaFuseServer, 1);

        fuse_set_log_func(fuse_log_to_glib);
        server->table = table;
        server->mount_dir = g_strdup(mount_dir);
        server->start_time = time(NULL);
        server->root_fd = -1;
        g_mutex_init(&server->handles_lock);
        server->open_handles = g_hash_table_new(NULL, NULL);
        server->session = fuse_session_new(&args, &ops, sizeof(ops), server);
        fuse_opt_free_args(&args);
        if (!server->session) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                            "cannot create a FUSE session (is /dev/fuse usable?)");
                goto fail;
        }
        if (fuse_session_mount(server->session, mount_dir) != 0) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                            "cannot mount the FUSE frontend on %s (see the libfuse message "
                            "before this one)",
                            mount_dir);
                fuse_session_destroy(server->session);
                goto fail;
        }
        server->thread = g_thread_try_new("zuma-fuse", serve_thread, server, error);
        if (!server->thread) {
                fuse_session_unmount(server->session);
                fuse_session_destroy(server->session);
                goto fail;
        }
        /* Keeps a way into the file system for stopping it, even after
         * someone detaches the mount. */
        server->root_fd = open(mount_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (server->root_fd < 0)
                g_warning("cannot keep a descriptor of %s: %s", mount_dir, g_strerror(errno));
        /* Asked now, while the workers surely answer: the number under
         * which fusectl lists the connection, for zuma_fuse_server_abort(). */
        if (stat(mount_dir, &st) == 0 && major(st.st_dev) == 0)
                server->connection = minor(st.st_dev);
        g_message("FUSE frontend mounted on %s", mount_dir);
        return server;
fail:
        g_hash_table_unref(server->open_handles);
        g_mutex_clear(&server->handles_lock);
        g_free(server->mount_dir);
        g_free(server);
        return NULL;
}

#define FUSECTL_DIR "/sys/fs/fuse/connections"

gboolean zuma_fuse_server_abort(ZumaFuseServer *server)
{
        g_autofree char *path = NULL;
        int fd;

        if (!server->connection) {
                g_warning("cannot abort the FUSE connection of %s: its number is unknown",
                          server->mount_dir);
                return FALSE;
        }
        /* fusectl may not be mounted yet (it is, where systemd runs). */
        if (mount("fusectl", FUSECTL_DIR, "fusectl", 0, NULL) < 0 && errno != EBUSY)
                g_debug("mounting fusectl on " FUSECTL_DIR ": %s", g_strerror(errno));
        path = g_strdup_printf(FUSECTL_DIR "/%u/abort", server->connection);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "1", 1) != 1) {
                g_warning("cannot abort the FUSE connection of %s through %s: %s",
                          server->mount_dir, path, g_strerror(errno));
                if (fd >= 0)
                        close(fd);
                return FALSE;
        }
        close(fd);
        g_warning("aborted the FUSE connection of %s: every request still waiting fails",
                  server->mount_dir);
        return TRUE;
}

static void free_handle(gpointer handle, gpointer value, gpointer user_data)
{
        zuma_image_handle_free(handle);
}

void zuma_fuse_server_stop(ZumaFuseServer *server)
{
        struct stat st;

        if (!server)
                return;
        g_atomic_int_set(&server->stopping, 1);
        if (server->root_fd >= 0) {
                if (fstatat(server->root_fd, STOP_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
                    errno != ENOENT)
                        g_debug("stopping the FUSE loop: wake-up lookup: %s", g_strerror(errno));
        } else {
                g_autofree char *path = g_build_filename(server->mount_dir, STOP_NAME, NULL);

                if (lstat(path, &st) == 0 || errno != ENOENT)
                        g_debug("stopping the FUSE loop: wake-up lookup: %s", g_strerror(errno));
        }
        /* Should the lookup not have reached a worker (the connection is
         * gone), the loop has ended or ends on its own. */
        fuse_session_exit(server->session);
        g_thread_join(server->thread);
        if (server->root_fd >= 0)
                close(server->root_fd);
        fuse_session_unmount(server->session);
        fuse_session_destroy(server->session);
        g_message("FUSE frontend on %s unmounted", server->mount_dir);
        /* The workers are gone: no lock needed. */
        if (g_hash_table_size(server->open_handles) > 0)
                g_debug("%u image file(s) were still open at unmount",
                        g_hash_table_size(server->open_handles));
        g_hash_table_foreach(server->open_handles, free_handle, NULL);
        g_hash_table_unref(server->open_handles);
        g_mutex_clear(&server->handles_lock);
        g_free(server->mount_dir);
        g_free(server);
}
