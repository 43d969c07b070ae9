/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replication streams through the volume core (zuma-volume-stream.c): two
 * volumes on regular files in a temporary directory, the upstream (src)
 * and the downstream (dst), each with its own state directory; no bus, no
 * root, no frontend.  The stream goes src's send job → pipe → a relay
 * thread (which can cut it after N bytes, like a broken link) → pipe →
 * dst's receive job.  Data is random: ZUMA_TEST_SEED=N repeats a run (the
 * seed is printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "zuma-bus-generated.h"
#include "zuma-engine.h"
#include "stream-format.h"
#include "zuma-volume-jobs.h"

#define KiB 1024u
#define MiB (1024u * KiB)
#define ORIGIN_SIZE (8 * MiB)
#define STORE_SIZE (24 * MiB)
#define CHUNK 4096u
#define CHUNKS (ORIGIN_SIZE / CHUNK)

typedef struct Side {
        char *origin, *store, *volumes_dir, *replication_dir;
        ZumaVolumeHost host;
        ZumaVolume *volume;
} Side;

typedef struct Fixture {
        char *dir;
        ZumaAuth *auth;
        GHashTable *jobs; /* path → ZumaJob */
        guint job_count;
        Side src, dst;
        GRand *rand;
} Fixture;

static guint32 test_seed;

static gboolean host_check_job_limit(gpointer owner, GError **error)
{
        return TRUE;
}

static ZumaJob *host_add_job(gpointer owner, const char *operation, const char *volume_path,
                             gboolean cancelable, const ZumaJobOps *ops, gpointer data)
{
        Fixture *f = owner;
        g_autofree char *path = g_strdup_printf("/test/jobs/%u", ++f->job_count);
        const ZumaJobSpec spec = {
                .operation = operation,
                .volume_path = volume_path,
                .cancelable = cancelable,
        };
        ZumaJob *job = zuma_job_new(f->auth, path, &spec, ops, data);

        g_hash_table_insert(f->jobs, g_strdup(path), g_object_ref(job));
        return job;
}

static void make_file(const char *path, guint64 size)
{
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
        close(fd);
}

static void side_set_up(Fixture *f, Side *side, const char *name, const guint8 *uuid)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *base = g_build_filename(f->dir, name, NULL);
        SsCreateOptions create = { .volume_name = "vol", .volume_uuid = uuid, .chunk_size = CHUNK };
        ZumaVolumeConfig *config;

        g_assert_cmpint(g_mkdir(base, 0700), ==, 0);
        side->origin = g_build_filename(base, "origin", NULL);
        side->store = g_build_filename(base, "store", NULL);
        side->volumes_dir = g_build_filename(base, "volumes", NULL);
        side->replication_dir = g_build_filename(base, "replication", NULL);
        g_assert_cmpint(g_mkdir(side->volumes_dir, 0700), ==, 0);
        make_file(side->origin, ORIGIN_SIZE);
        make_file(side->store, STORE_SIZE);
        g_assert_true(zuma_engine_initialize(side->origin, side->store, &create, &error));
        g_assert_no_error(error);
        side->host = (ZumaVolumeHost){
                .volumes_dir = side->volumes_dir,
                .replication_dir = side->replication_dir,
                .check_job_limit = host_check_job_limit,
                .add_job = host_add_job,
                .owner = f,
        };
        config = zuma_volume_config_new("vol", side->origin, side->store);
        config->chunk_size = CHUNK;
        side->volume = zuma_volume_new(&side->host, config);
        g_assert_true(zuma_volume_start(side->volume, 0, &error));
        g_assert_no_error(error);
}

static void fixture_set_up(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        guint8 uuid[16];

        f->rand = g_rand_new_with_seed(test_seed);
        for (guint i = 0; i < sizeof(uuid); i++)
                uuid[i] = (guint8)g_rand_int(f->rand);
        f->dir = g_dir_make_tmp("zuma-stream-XXXXXX", &error);
        g_assert_no_error(error);
        f->auth = g_object_new(ZUMA_TYPE_AUTH, NULL);
        f->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
        /* The replica carries the source's volume UUID (the stream says). */
        side_set_up(f, &f->src, "src", uuid);
        side_set_up(f, &f->dst, "dst", uuid);
}

static void remove_tree(const char *dir)
{
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *path = g_build_filename(dir, name, NULL);

                if (g_file_test(path, G_FILE_TEST_IS_DIR) &&
                    !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
                        remove_tree(path);
                else
                        g_unlink(path);
        }
        g_rmdir(dir);
}

static void side_tear_down(Side *side)
{
        if (side->volume && zuma_volume_is_running(side->volume))
                zuma_volume_stop(side->volume, TRUE, "requested", NULL);
        g_clear_object(&side->volume);
        g_free(side->origin);
        g_free(side->store);
        g_free(side->volumes_dir);
        g_free(side->replication_dir);
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
        side_tear_down(&f->src);
        side_tear_down(&f->dst);
        g_hash_table_unref(f->jobs);
        g_clear_object(&f->auth);
        while (g_main_context_iteration(NULL, FALSE))
                ;
        remove_tree(f->dir);
        g_free(f->dir);
        g_rand_free(f->rand);
}

/* --- helpers --- */

static void write_chunk(Side *side, guint64 index, const guint8 *data)
{
        g_autofree guint8 *buf = ss_alloc_io_buffer(CHUNK);

        memcpy(buf, data, CHUNK);
        g_assert_cmpint(
                zuma_engine_origin_write(side->volume->engine, buf, index * CHUNK, CHUNK, NULL), ==,
                0);
}

/* count random chunks rewritten with random bytes (some all zero). */
static void scribble(Fixture *f, Side *side, guint count)
{
        guint8 data[CHUNK];

        for (guint i = 0; i < count; i++) {
                guint64 index = g_rand_int_range(f->rand, 0, CHUNKS);

                if (g_rand_int_range(f->rand, 0, 8) == 0)
                        memset(data, 0, sizeof(data));
                else
                        for (guint b = 0; b < CHUNK; b += 4) {
                                guint32 v = g_rand_int(f->rand);

                                memcpy(data + b, &v, 4);
                        }
                write_chunk(side, index, data);
        }
}

static guint32 snapshot(Side *side, const char *name)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL, *created = NULL;
        guint32 id = 0;

        g_assert_true(
                zuma_volume_create_snapshot(side->volume, name, 0, 0, &path, &created, &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_find_snapshot(side->volume, name, &id, &error));
        return id;
}

static gboolean has_snapshot(Side *side, const char *name)
{
        guint32 id;

        return zuma_volume_find_snapshot(side->volume, name, &id, NULL);
}

static const SsSnapshotInfo *snapshot_info(Side *side, const char *name)
{
        guint32 id = 0;

        g_assert_true(zuma_volume_find_snapshot(side->volume, name, &id, NULL));
        return &zuma_volume_get_snapshot(side->volume, id)->info;
}

/* The images of src's and dst's snapshot name are byte for byte equal. */
static void assert_same_snapshot(Fixture *f, const char *name)
{
        g_autofree guint8 *a = ss_alloc_io_buffer(MiB);
        g_autofree guint8 *b = ss_alloc_io_buffer(MiB);
        const SsSnapshotInfo *si = snapshot_info(&f->src, name);
        const SsSnapshotInfo *di = snapshot_info(&f->dst, name);

        g_assert_cmpint(si->ctime, ==, di->ctime);
        for (guint64 off = 0; off < ORIGIN_SIZE; off += MiB) {
                g_assert_cmpint(
                        zuma_engine_snapshot_read(f->src.volume->engine, si->id, a, off, MiB, NULL),
                        ==, 0);
                g_assert_cmpint(
                        zuma_engine_snapshot_read(f->dst.volume->engine, di->id, b, off, MiB, NULL),
                        ==, 0);
                if (memcmp(a, b, MiB) != 0)
                        g_error("snapshot %s differs in the MiB at %" G_GUINT64_FORMAT " (seed %u)",
                                name, off, test_seed);
        }
}

static ZumaJob *job(Fixture *f, const char *path)
{
        ZumaJob *found = g_hash_table_lookup(f->jobs, path);

        g_assert_nonnull(found);
        return found;
}

static void wait_jobs(Fixture *f, const char *a, const char *b)
{
        gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

        while ((a && !zuma_job_is_finished(job(f, a))) || (b && !zuma_job_is_finished(job(f, b)))) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_main_context_iteration(NULL, TRUE);
        }
}

/* NULL if the job succeeded, else its error message (a copy). */
static char *job_failure(Fixture *f, const char *path)
{
        g_autoptr(ZumaBusJob) iface =
                zuma_bus_object_get_job(ZUMA_BUS_OBJECT(zuma_job_get_object(job(f, path))));

        g_assert_true(zuma_bus_job_get_finished(iface));
        if (zuma_bus_job_get_success(iface))
                return NULL;
        return g_strdup(zuma_bus_job_get_error_message(iface));
}

static void assert_job_succeeded(Fixture *f, const char *path)
{
        g_autofree char *failure = job_failure(f, path);

        if (failure)
                g_error("job %s failed: %s (seed %u)", path, failure, test_seed);
}

/* A link between two pipes that forwards at most limit bytes, then closes
 * both of its ends (the sender then gets EPIPE, the receiver the end of
 * its stream): a broken link. */
typedef struct Relay {
        int in, out;
        guint64 limit, forwarded;
        GThread *thread;
} Relay;

static gpointer relay_run(gpointer data)
{
        Relay *relay = data;
        guint8 buf[16 * KiB];

        while (relay->forwarded < relay->limit) {
                ssize_t n = read(relay->in, buf, MIN(sizeof(buf), relay->limit - relay->forwarded));

                if (n <= 0)
                        break;
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(relay->out, buf + done, (size_t)(n - done));

                        if (w <= 0)
                                goto out;
                        done += w;
                }
                relay->forwarded += (guint64)n;
        }
out:
        close(relay->in);
        close(relay->out);
        return NULL;
}

typedef struct Transfer {
        char *send_job, *receive_job;
        guint64 forwarded;
        char *send_failure, *receive_failure;
} Transfer;

static void transfer_clear(Transfer *t)
{
        g_free(t->send_job);
        g_free(t->receive_job);
        g_free(t->send_failure);
        g_free(t->receive_failure);
}

/* src sends from → to (from NULL: full) to dst through a relay cut after
 * limit bytes (G_MAXUINT64: never). */
static void transfer(Fixture *f, const char *from, const char *to,
                     const ZumaStreamSendOptions *send, gboolean resume, guint64 limit,
                     Transfer *ret)
{
        g_autoptr(GError) error = NULL;
        ZumaStreamReceiveOptions receive = { .resume = resume };
        int upstream[2], downstream[2];
        Relay relay = { .limit = limit };

        memset(ret, 0, sizeof(*ret));
        g_assert_cmpint(pipe2(upstream, O_CLOEXEC), ==, 0);
        g_assert_cmpint(pipe2(downstream, O_CLOEXEC), ==, 0);
        g_assert_true(zuma_volume_send_stream(f->src.volume, from, to, upstream[1], send,
                                              &ret->send_job, &error));
        g_assert_no_error(error);
        g_assert_true(zuma_volume_receive_stream(f->dst.volume, downstream[0], &receive,
                                                 &ret->receive_job, &error));
        g_assert_no_error(error);
        /* The jobs hold duplicates. */
        close(upstream[1]);
        close(downstream[0]);
        relay.in = upstream[0];
        relay.out = downstream[1];
        relay.thread = g_thread_new("relay", relay_run, &relay);
        wait_jobs(f, ret->send_job, ret->receive_job);
        g_thread_join(relay.thread);
        ret->forwarded = relay.forwarded;
        ret->send_failure = job_failure(f, ret->send_job);
        ret->receive_failure = job_failure(f, ret->receive_job);
}

static void transfer_ok(Fixture *f, const char *from, const char *to,
                        const ZumaStreamSendOptions *send, gboolean resume, SsStreamStats *ret)
{
        Transfer t;

        transfer(f, from, to, send, resume, G_MAXUINT64, &t);
        assert_job_succeeded(f, t.send_job);
        assert_job_succeeded(f, t.receive_job);
        g_assert_true(zuma_volume_get_last_stream_stats(f->src.volume, ret));
        transfer_clear(&t);
}

/* src sends from → to into a regular file; returns its path. */
static char *send_to_file(Fixture *f, const char *from, const char *to,
                          const ZumaStreamSendOptions *send, SsStreamStats *ret_stats)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *job_path = NULL;
        char *path = g_build_filename(f->dir, "sent.stream", NULL);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        g_assert_cmpint(fd, >=, 0);
        g_assert_true(
                zuma_volume_send_stream(f->src.volume, from, to, fd, send, &job_path, &error));
        g_assert_no_error(error);
        close(fd);
        wait_jobs(f, job_path, NULL);
        assert_job_succeeded(f, job_path);
        g_assert_true(zuma_volume_get_last_stream_stats(f->src.volume, ret_stats));
        return path;
}

static SsStreamDigest cached_digest(Side *side, const char *name)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        SsStreamDigest digest = { 0 };
        gboolean known = FALSE;

        g_assert_true(
                zuma_volume_snapshot_digest(side->volume, name, &known, &digest, &path, &error));
        g_assert_no_error(error);
        g_assert_true(known);
        g_assert_null(path);
        return digest;
}

static guint snapshot_count(Side *side)
{
        g_autoptr(GArray) ids = zuma_volume_dup_snapshot_ids(side->volume);

        return ids->len;
}

/* --- tests --- */

/* Full, then incremental; the replica equals the source each time, and
 * both sides keep the to-snapshot's digest. */
static void test_full_then_incremental(Fixture *f, gconstpointer data)
{
        ZumaStreamSendOptions send = { .zstd_level = 3 };
        SsStreamStats full, incremental;
        SsStreamDigest a, b;

        scribble(f, &f->src, 600);
        snapshot(&f->src, "s1");
        transfer_ok(f, NULL, "s1", &send, FALSE, &full);
        assert_same_snapshot(f, "s1");
        /* Holes stay holes: the never-written chunks went as zero runs. */
        g_assert_cmpuint(full.zero_chunks + full.chunk_records, ==, CHUNKS);
        g_assert_cmpuint(full.chunk_records, <=, 600);

        scribble(f, &f->src, 40);
        snapshot(&f->src, "s2");
        transfer_ok(f, "s1", "s2", &send, FALSE, &incremental);
        assert_same_snapshot(f, "s2");
        assert_same_snapshot(f, "s1");
        g_assert_cmpuint(incremental.chunk_records + incremental.zero_chunks, <=, 40);
        g_assert_cmpuint(incremental.bytes, <, full.bytes / 5);
        g_test_message("full stream %" G_GUINT64_FORMAT " bytes, incremental %" G_GUINT64_FORMAT,
                       full.bytes, incremental.bytes);

        /* Digest cache: both sides answer without reading the snapshot. */
        a = cached_digest(&f->src, "s2");
        b = cached_digest(&f->dst, "s2");
        g_assert_cmpuint(a.lo, ==, b.lo);
        g_assert_cmpuint(a.hi, ==, b.hi);
        g_assert_cmpuint(a.lo, ==, incremental.digest.lo);
        g_assert_cmpuint(a.hi, ==, incremental.digest.hi);
        /* The stream's holds and the receive's pin are gone. */
        g_assert_false(snapshot_info(&f->dst, "s1")->flags & SS_SNAP_PINNED);
        g_assert_false(zuma_engine_origin_writes_refused(f->dst.volume->engine));
}

/* The cached from-digest is what the sender uses: a wrong one makes the
 * receiver refuse the stream (its own digest differs), and nothing
 * appears on the target. */
static void test_cached_digest_is_used(Fixture *f, gconstpointer data)
{
        ZumaStreamSendOptions send = { 0 };
        g_autofree char *path = NULL;
        g_autoptr(GKeyFile) cache = g_key_file_new();
        g_autoptr(GError) error = NULL;
        SsStreamStats stats;
        Transfer t;

        scribble(f, &f->src, 100);
        snapshot(&f->src, "s1");
        transfer_ok(f, NULL, "s1", &send, FALSE, &stats);
        scribble(f, &f->src, 10);
        snapshot(&f->src, "s2");
        path = g_strdup_printf("%s/%s.digests", f->src.replication_dir,
                               zuma_volume_get_config(f->src.volume)->uuid);
        g_assert_true(g_key_file_load_from_file(cache, path, G_KEY_FILE_NONE, &error));
        g_assert_no_error(error);
        g_key_file_set_string(cache, "Snapshot s1", "Digest", "0123456789abcdef0123456789abcdef");
        g_assert_true(g_key_file_save_to_file(cache, path, &error));
        transfer(f, "s1", "s2", &send, FALSE, G_MAXUINT64, &t);
        g_assert_nonnull(t.receive_failure);
        g_assert_nonnull(strstr(t.receive_failure, "digest"));
        g_test_message("refused: %s", t.receive_failure);
        g_assert_false(has_snapshot(&f->dst, "s2"));
        transfer_clear(&t);
}

/* A link cut half way: no snapshot on the target, a resume point kept;
 * the resumed stream sends only what follows it, and the replica is
 * whole. */
static void test_cut_and_resume(Fixture *f, gconstpointer data)
{
        ZumaStreamSendOptions send = { .resume_every_records = 32 };
        const SsSnapshotInfo *info;
        SsStreamStats whole, resumed;
        gboolean resumable = FALSE;
        guint64 after = 0, cut;
        g_autoptr(GError) error = NULL;
        Transfer t;

        scribble(f, &f->src, 1500);
        snapshot(&f->src, "s1");
        /* How long the whole stream is: once through a regular file. */
        g_free(send_to_file(f, NULL, "s1", &send, &whole));
        cut = whole.bytes / 2 + g_rand_int_range(f->rand, 0, (gint32)(whole.bytes / 4));
        transfer(f, NULL, "s1", &send, FALSE, cut, &t);
        g_assert_nonnull(t.send_failure);
        g_assert_nonnull(strstr(t.send_failure, "Broken pipe"));
        g_assert_nonnull(t.receive_failure);
        g_test_message("cut after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                       " bytes; receiver: %s",
                       cut, whole.bytes, t.receive_failure);
        g_assert_nonnull(strstr(t.receive_failure, "truncated"));
        g_assert_false(has_snapshot(&f->dst, "s1"));
        transfer_clear(&t);

        /* A restart of the downstream volume in between (the point is on
         * disk, not in memory). */
        g_assert_true(zuma_volume_stop(f->dst.volume, FALSE, "requested", &error));
        g_assert_true(zuma_volume_start(f->dst.volume, 0, &error));
        g_assert_no_error(error);
        info = snapshot_info(&f->src, "s1");
        g_assert_true(zuma_volume_receive_resume_point(f->dst.volume, "s1", info->ctime, NULL,
                                                       &resumable, &after, &error));
        g_assert_no_error(error);
        g_assert_true(resumable);
        g_assert_cmpuint(after, >, 0);
        /* Another stream's identity gets "from scratch". */
        g_assert_true(zuma_volume_receive_resume_point(f->dst.volume, "s1", info->ctime + 1, NULL,
                                                       &resumable, &after, &error));
        g_assert_false(resumable);
        g_assert_true(zuma_volume_receive_resume_point(f->dst.volume, "s1", info->ctime, NULL,
                                                       &resumable, &after, &error));

        send.resume = TRUE;
        send.resume_after = after;
        transfer_ok(f, NULL, "s1", &send, TRUE, &resumed);
        assert_same_snapshot(f, "s1");
        /* Resent: what followed the durable point up to the cut, at most
         * one resume interval of chunks (plus header and trailer). */
        {
                guint64 lost = resumed.bytes + cut - whole.bytes;

                g_test_message("resumed after chunk %" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT
                               " bytes sent again, %" G_GUINT64_FORMAT " resent",
                               after, resumed.bytes, lost);
                g_assert_cmpuint(resumed.bytes, <, whole.bytes - cut / 2);
                g_assert_cmpuint(lost, <=, 2 * SS_STREAM_HEADER_SIZE + 33 * (CHUNK + 80));
        }
        /* Done: the point is gone. */
        g_assert_true(zuma_volume_receive_resume_point(f->dst.volume, "s1", info->ctime, NULL,
                                                       &resumable, &after, &error));
        g_assert_false(resumable);
}

/* An incremental stream whose base the target does not have, or no
 * longer has: refused before anything is written, named in the error. */
static void test_wrong_or_deleted_base(Fixture *f, gconstpointer data)
{
        ZumaStreamSendOptions send = { 0 };
        g_autoptr(GError) error = NULL;
        SsStreamStats stats;
        Transfer t;

        scribble(f, &f->src, 50);
        snapshot(&f->src, "s1");
        transfer_ok(f, NULL, "s1", &send, FALSE, &stats);
        scribble(f, &f->src, 20);
        snapshot(&f->src, "s2");
        scribble(f, &f->src, 20);
        snapshot(&f->src, "s3");

        /* Wrong base: the target never received s2. */
        transfer(f, "s2", "s3", &send, FALSE, G_MAXUINT64, &t);
        g_assert_nonnull(t.receive_failure);
        g_assert_nonnull(strstr(t.receive_failure, "s2"));
        g_assert_nonnull(strstr(t.receive_failure, "base"));
        g_test_message("wrong base: %s", t.receive_failure);
        transfer_clear(&t);
        g_assert_cmpuint(snapshot_count(&f->dst), ==, 1);
        assert_same_snapshot(f, "s1");

        /* Base deleted on the target. */
        {
                guint32 id = snapshot_info(&f->dst, "s1")->id;

                g_assert_true(zuma_volume_delete_snapshot(f->dst.volume, id, FALSE, &error));
                g_assert_no_error(error);
        }
        transfer(f, "s1", "s2", &send, FALSE, G_MAXUINT64, &t);
        g_assert_nonnull(t.receive_failure);
        g_assert_nonnull(strstr(t.receive_failure, "s1"));
        g_test_message("deleted base: %s", t.receive_failure);
        transfer_clear(&t);
        g_assert_cmpuint(snapshot_count(&f->dst), ==, 0);
}

typedef struct Writer {
        int fd;
        const char *data;
        gsize length;
} Writer;

/* Writes all of it, then closes the fd. */
static gpointer write_all(gpointer data)
{
        Writer *w = data;

        for (gsize done = 0; done < w->length;) {
                ssize_t n = write(w->fd, w->data + done, w->length - done);

                if (n <= 0)
                        break;
                done += (gsize)n;
        }
        close(w->fd);
        return NULL;
}

/* While a receive runs: its base cannot be deleted and is pinned, the
 * origin refuses writes, and Revert, Resize, CreateSnapshot and a second
 * receive answer Busy.  The stream is fed by hand: header and a first
 * piece, then (checks), the rest. */
static void test_receive_protects(Fixture *f, gconstpointer data)
{
        ZumaStreamSendOptions send = { 0 };
        ZumaStreamReceiveOptions receive = { 0 };
        g_autofree char *path = NULL;
        g_autofree char *receive_job = NULL, *other = NULL;
        g_autofree char *stream = NULL, *name = NULL;
        g_autofree guint8 *chunk = NULL;
        g_autoptr(GError) error = NULL;
        gsize length = 0;
        SsStreamStats stats;
        guint32 base;
        gint64 deadline;
        int fds[2];

        scribble(f, &f->src, 50);
        snapshot(&f->src, "s1");
        transfer_ok(f, NULL, "s1", &send, FALSE, &stats);
        scribble(f, &f->src, 30);
        snapshot(&f->src, "s2");
        path = send_to_file(f, "s1", "s2", &send, &stats);
        g_assert_true(g_file_get_contents(path, &stream, &length, &error));
        g_assert_cmpuint(length, >, 4 * KiB);

        g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
        g_assert_true(
                zuma_volume_receive_stream(f->dst.volume, fds[0], &receive, &receive_job, &error));
        g_assert_no_error(error);
        close(fds[0]);
        g_assert_cmpint(write(fds[1], stream, 4 * KiB), ==, 4 * KiB);
        base = snapshot_info(&f->dst, "s1")->id;
        deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
        while (!(snapshot_info(&f->dst, "s1")->flags & SS_SNAP_PINNED)) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_main_context_iteration(NULL, TRUE);
        }

        g_assert_false(zuma_volume_delete_snapshot(f->dst.volume, base, FALSE, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY);
        g_assert_nonnull(strstr(error->message, "s1"));
        g_clear_error(&error);
        chunk = ss_alloc_io_buffer(CHUNK);
        memset(chunk, 0x5a, CHUNK);
        g_assert_cmpint(zuma_engine_origin_write(f->dst.volume->engine, chunk, 0, CHUNK, NULL), ==,
                        -EBUSY);
        g_assert_false(zuma_volume_revert(f->dst.volume, "s1", FALSE, &other, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY);
        g_clear_error(&error);
        g_assert_false(zuma_volume_resize(f->dst.volume, TRUE, FALSE, &other, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY);
        g_clear_error(&error);
        g_assert_false(
                zuma_volume_create_snapshot(f->dst.volume, "x", 0, 0, &other, &name, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY);
        g_clear_error(&error);
        g_assert_false(zuma_volume_receive_stream(f->dst.volume, fds[1], &receive, &other, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_BUSY);
        g_clear_error(&error);

        /* The rest, from a thread (more than a pipe holds). */
        {
                Writer writer = { fds[1], stream + 4 * KiB, length - 4 * KiB };
                GThread *thread = g_thread_new("writer", write_all, &writer);

                wait_jobs(f, receive_job, NULL);
                g_thread_join(thread);
        }
        assert_job_succeeded(f, receive_job);
        assert_same_snapshot(f, "s2");
        /* Afterwards: unpinned, deletable, the origin writable again. */
        g_assert_false(snapshot_info(&f->dst, "s1")->flags & SS_SNAP_PINNED);
        g_assert_cmpint(zuma_engine_origin_write(f->dst.volume->engine, chunk, 0, CHUNK, NULL), ==,
                        0);
        g_assert_true(zuma_volume_delete_snapshot(f->dst.volume, base, FALSE, &error));
        g_assert_no_error(error);
}

typedef struct OriginWrite {
        ZumaEngine *engine;
        guint8 *chunk;
        guint64 index;
        gint result; /* atomic: 1 pending, else 0 or -errno */
} OriginWrite;

static gpointer origin_write_run(gpointer data)
{
        OriginWrite *w = data;

        g_atomic_int_set(&w->result, zuma_engine_origin_write(w->engine, w->chunk, w->index * CHUNK,
                                                              CHUNK, NULL));
        return NULL;
}

/* A send whose reader stalls holds the engine lock only for its engine
 * work: an origin write (with its copy-out) goes through meanwhile, and
 * the stream still carries the snapshot as it was taken. */
static void test_stalled_send_lets_origin_writes_through(Fixture *f, gconstpointer data)
{
        ZumaStreamSendOptions send = { 0 };
        ZumaStreamReceiveOptions receive = { 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *send_job = NULL, *receive_job = NULL;
        OriginWrite w = { .engine = f->src.volume->engine, .result = 1 };
        GThread *writer;
        gint64 deadline;
        int fds[2], queued = 0;

        scribble(f, &f->src, 400);
        snapshot(&f->src, "s1");
        g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
        g_assert_true(zuma_volume_send_stream(f->src.volume, NULL, "s1", fds[1], &send, &send_job,
                                              &error));
        g_assert_no_error(error);
        close(fds[1]);
        /* Until the pipe holds most of what it can (16 pages, some part
         * filled) and the sender waits on it. */
        deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
        while (queued < 32 * (int)KiB) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_main_context_iteration(NULL, FALSE);
                g_assert_cmpint(ioctl(fds[0], FIONREAD, &queued), ==, 0);
        }
        w.chunk = ss_alloc_io_buffer(CHUNK);
        memset(w.chunk, 0xa5, CHUNK);
        /* A chunk the stream has not reached yet: its copy-out must go
         * to the store while the send waits. */
        w.index = CHUNKS - 1;
        writer = g_thread_new("origin-write", origin_write_run, &w);
        deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        while (g_atomic_int_get(&w.result) == 1) {
                if (g_get_monotonic_time() > deadline)
                        g_error("an origin write waited 10 s behind a stalled send (seed %u)",
                                test_seed);
                g_main_context_iteration(NULL, FALSE);
        }
        g_thread_join(writer);
        g_assert_cmpint(w.result, ==, 0);
        g_assert_false(zuma_job_is_finished(job(f, send_job)));

        g_assert_true(
                zuma_volume_receive_stream(f->dst.volume, fds[0], &receive, &receive_job, &error));
        g_assert_no_error(error);
        close(fds[0]);
        wait_jobs(f, send_job, receive_job);
        assert_job_succeeded(f, send_job);
        assert_job_succeeded(f, receive_job);
        assert_same_snapshot(f, "s1");
        free(w.chunk);
}

/* Stopping a volume whose receive waits for a peer that sends nothing
 * ends the job at once (the wait is cancelled, the thread joined), and the
 * restarted volume takes origin writes and streams again. */
static void test_stop_during_receive(Fixture *f, gconstpointer data)
{
        ZumaStreamSendOptions send = { 0 };
        ZumaStreamReceiveOptions receive = { 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *receive_job = NULL, *failure = NULL;
        g_autofree guint8 *chunk = ss_alloc_io_buffer(CHUNK);
        SsStreamStats stats;
        int fds[2];

        g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
        g_assert_true(
                zuma_volume_receive_stream(f->dst.volume, fds[0], &receive, &receive_job, &error));
        g_assert_no_error(error);
        close(fds[0]);
        g_main_context_iteration(NULL, FALSE);
        g_assert_true(zuma_volume_stop(f->dst.volume, FALSE, "requested", &error));
        g_assert_no_error(error);
        g_assert_true(zuma_job_is_finished(job(f, receive_job)));
        failure = job_failure(f, receive_job);
        g_assert_nonnull(failure);
        g_assert_nonnull(strstr(failure, "stopped"));
        close(fds[1]);

        g_assert_true(zuma_volume_start(f->dst.volume, 0, &error));
        g_assert_no_error(error);
        memset(chunk, 0x11, CHUNK);
        g_assert_cmpint(zuma_engine_origin_write(f->dst.volume->engine, chunk, 0, CHUNK, NULL), ==,
                        0);
        scribble(f, &f->src, 20);
        snapshot(&f->src, "s1");
        transfer_ok(f, NULL, "s1", &send, FALSE, &stats);
        assert_same_snapshot(f, "s1");
}

/* File descriptors that are not a pipe, a socket or a regular file, or
 * not open for the direction, are refused before any job starts. */
static void test_bad_fd(Fixture *f, gconstpointer data)
{
        ZumaStreamSendOptions send = { 0 };
        ZumaStreamReceiveOptions receive = { 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        guint jobs = f->job_count;
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        int fds[2];

        snapshot(&f->src, "s1");
        g_assert_false(
                zuma_volume_send_stream(f->src.volume, NULL, "s1", null_fd, &send, &path, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "character device"));
        g_clear_error(&error);
        g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
        g_assert_false(
                zuma_volume_send_stream(f->src.volume, NULL, "s1", fds[0], &send, &path, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "writing"));
        g_clear_error(&error);
        g_assert_false(zuma_volume_receive_stream(f->dst.volume, fds[1], &receive, &path, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_false(zuma_volume_receive_stream(f->dst.volume, 1000, &receive, &path, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_cmpuint(f->job_count, ==, jobs);
        g_assert_false(zuma_engine_origin_writes_refused(f->dst.volume->engine));
        close(null_fd);
        close(fds[0]);
        close(fds[1]);
}

/* A digest not in the cache is a job that reads the snapshot; then the
 * cache answers, with the engine's digest. */
static void test_digest_job(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        SsStreamDigest digest, expected;
        gboolean known = TRUE;

        scribble(f, &f->src, 200);
        snapshot(&f->src, "s1");
        g_assert_true(
                zuma_volume_snapshot_digest(f->src.volume, "s1", &known, &digest, &path, &error));
        g_assert_no_error(error);
        g_assert_false(known);
        g_assert_nonnull(path);
        wait_jobs(f, path, NULL);
        assert_job_succeeded(f, path);
        digest = cached_digest(&f->src, "s1");
        g_assert_cmpint(zuma_engine_snapshot_digest(f->src.volume->engine,
                                                    snapshot_info(&f->src, "s1")->id, &expected),
                        ==, 0);
        g_assert_cmpuint(digest.lo, ==, expected.lo);
        g_assert_cmpuint(digest.hi, ==, expected.hi);
}

int main(int argc, char **argv)
{
        const char *seed = g_getenv("ZUMA_TEST_SEED");

        g_test_init(&argc, &argv, NULL);
        /* A cut link is EPIPE for the sender, as in the daemon. */
        signal(SIGPIPE, SIG_IGN);
        test_seed = seed ? (guint32)strtoul(seed, NULL, 10) : (guint32)g_get_real_time();
        g_printerr("# ZUMA_TEST_SEED=%u\n", test_seed);
        g_test_add("/stream/full-then-incremental", Fixture, NULL, fixture_set_up,
                   test_full_then_incremental, fixture_tear_down);
        g_test_add("/stream/cached-digest-is-used", Fixture, NULL, fixture_set_up,
                   test_cached_digest_is_used, fixture_tear_down);
        g_test_add("/stream/cut-and-resume", Fixture, NULL, fixture_set_up, test_cut_and_resume,
                   fixture_tear_down);
        g_test_add("/stream/wrong-or-deleted-base", Fixture, NULL, fixture_set_up,
                   test_wrong_or_deleted_base, fixture_tear_down);
        g_test_add("/stream/receive-protects", Fixture, NULL, fixture_set_up, test_receive_protects,
                   fixture_tear_down);
        g_test_add("/stream/stalled-send-lets-origin-writes-through", Fixture, NULL, fixture_set_up,
                   test_stalled_send_lets_origin_writes_through, fixture_tear_down);
        g_test_add("/stream/stop-during-receive", Fixture, NULL, fixture_set_up,
                   test_stop_during_receive, fixture_tear_down);
        g_test_add("/stream/bad-fd", Fixture, NULL, fixture_set_up, test_bad_fd, fixture_tear_down);
        g_test_add("/stream/digest-job", Fixture, NULL, fixture_set_up, test_digest_job,
                   fixture_tear_down);
        return g_test_run();
}
