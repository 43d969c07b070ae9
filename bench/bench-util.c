/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

static double start_time;

/* Volumes not destroyed yet, so an exit or ^C in mid-phase still detaches
 * the loop devices and removes the files. */
#define MAX_VOLS 16
static struct {
        char file[320];
        int loop_nr;
} live_vols[MAX_VOLS];

double now_sec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void progress(const char *fmt, ...)
{
        va_list ap;

        if (start_time == 0)
                start_time = now_sec();
        fprintf(stderr, "[%7.1fs] ", now_sec() - start_time);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
        va_list ap;

        fputs("zuma-bench: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(2);
}

static void print_number(double v)
{
        if (isnan(v) || isinf(v))
                fputs("null", stdout);
        else
                printf("%.6g", v);
}

static void print_string(const char *s)
{
        putchar('"');
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;

                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

void emit(const char *metric, double value, const char *unit, double baseline, const char *note)
{
        printf("{\"metric\": ");
        print_string(metric);
        printf(", \"value\": ");
        print_number(value);
        printf(", \"unit\": ");
        print_string(unit);
        printf(", \"baseline\": ");
        print_number(baseline);
        printf(", \"note\": ");
        print_string(note ? note : "");
        printf("}\n");
        fflush(stdout);
}

uint64_t rng_next(uint64_t *state)
{
        uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

uint64_t rng_below(uint64_t *state, uint64_t n)
{
        /* The modulo bias is irrelevant for n far below 2^64. */
        return n ? rng_next(state) % n : 0;
}

bool env_flag(const char *name)
{
        const char *v = getenv(name);

        return v && *v && strcmp(v, "0") != 0;
}

uint64_t env_u64(const char *name, uint64_t def)
{
        const char *v = getenv(name);
        char *end;
        unsigned long long n;

        if (!v || !*v)
                return def;
        errno = 0;
        n = strtoull(v, &end, 0);
        if (errno || *end)
                die("%s=%s: not a number", name, v);
        return n;
}

void drop_caches(void)
{
        int fd;

        sync();
        fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        if (write(fd, "3", 1) < 0) {
                /* Not root, or a container without the right: O_DIRECT covers us. */
        }
        close(fd);
}

static const char *fs_name(long type)
{
        switch ((unsigned long)type) {
        case EXT4_SUPER_MAGIC:
                return "ext4";
        case XFS_SUPER_MAGIC:
                return "xfs";
        case BTRFS_SUPER_MAGIC:
                return "btrfs";
        case TMPFS_MAGIC:
                return "tmpfs";
        case OVERLAYFS_SUPER_MAGIC:
                return "overlayfs";
        default:
                return "unknown-fs";
        }
}

/* Does the file system under dir accept O_DIRECT? */
static bool probe_direct(const char *dir)
{
        char path[320];
        int fd;

        snprintf(path, sizeof(path), "%s/probe", dir);
        fd = open(path, O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
        if (fd >= 0)
                close(fd);
        unlink(path);
        return fd >= 0;
}

int bench_env_init(BenchEnv *env)
{
        const char *base = getenv("ZUMA_BENCH_DIR");
        struct statfs sfs;
        const char *files;
        char templ[sizeof(env->dir)];

        memset(env, 0, sizeof(*env));
        if (!base || !*base)
                base = "/var/tmp";
        if (strlen(base) > 200) {
                fprintf(stderr, "zuma-bench: ZUMA_BENCH_DIR is too long\n");
                return -ENAMETOOLONG;
        }
        env->use_loop = env_flag("ZUMA_BENCH_LOOP");
        env->keep = env_flag("ZUMA_BENCH_KEEP");
        env->prealloc = env_flag("ZUMA_BENCH_PREALLOC");
        snprintf(templ, sizeof(templ), "%s/zuma-bench.XXXXXX", base);
        if (!mkdtemp(templ)) {
                fprintf(stderr, "zuma-bench: cannot create a directory under %s: %s\n", base,
                        strerror(errno));
                return -errno;
        }
        snprintf(env->dir, sizeof(env->dir), "%s", templ);
        env->direct = probe_direct(env->dir);
        if (statfs(env->dir, &sfs) < 0)
                sfs.f_type = 0;
        files = env->prealloc ? "filled origin + zero-written store files"
                              : "filled origin + sparse store files";
        if (env->use_loop)
                snprintf(env->device_note, sizeof(env->device_note),
                         "loop devices (direct-io) over %s on %s %s, O_DIRECT", files,
                         fs_name(sfs.f_type), base);
        else
                snprintf(env->device_note, sizeof(env->device_note), "%s on %s %s, %s", files,
                         fs_name(sfs.f_type), base,
                         env->direct ? "O_DIRECT" : "buffered (no O_DIRECT on this fs)");
        return 0;
}

static void loop_detach(int nr);

static void track_vol(const BenchVol *v, bool add)
{
        for (unsigned i = 0; i < MAX_VOLS; i++) {
                if (add && !live_vols[i].file[0]) {
                        memcpy(live_vols[i].file, v->file, sizeof(live_vols[i].file));
                        live_vols[i].loop_nr = v->loop_nr;
                        return;
                }
                if (!add && strcmp(live_vols[i].file, v->file) == 0) {
                        live_vols[i].file[0] = 0;
                        return;
                }
        }
}

void bench_env_cleanup(BenchEnv *env)
{
        for (unsigned i = 0; i < MAX_VOLS; i++) {
                if (!live_vols[i].file[0])
                        continue;
                if (live_vols[i].loop_nr >= 0)
                        loop_detach(live_vols[i].loop_nr);
                if (!env->keep)
                        unlink(live_vols[i].file);
                live_vols[i].file[0] = 0;
        }
        if (!env->dir[0] || env->keep)
                return;
        if (rmdir(env->dir) < 0)
                fprintf(stderr, "zuma-bench: %s left behind: %s\n", env->dir, strerror(errno));
        env->dir[0] = 0;
}

/* Attaches file to a free loop device with direct I/O; returns its number. */
static int loop_attach(const char *file, bool direct)
{
        struct loop_config cfg;
        int ctl, fd, nr = -1, loop = -1, r = 0;

        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return -errno;
        fd = open(file, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                close(ctl);
                return r;
        }
        for (int attempt = 0; attempt < 16; attempt++) {
                char path[64];

                nr = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (nr < 0) {
                        r = -errno;
                        break;
                }
                snprintf(path, sizeof(path), "/dev/loop%d", nr);
                loop = open(path, O_RDWR | O_CLOEXEC);
                if (loop < 0) {
                        r = -errno;
                        break;
                }
                memset(&cfg, 0, sizeof(cfg));
                cfg.fd = (uint32_t)fd;
                cfg.info.lo_flags = direct ? LO_FLAGS_DIRECT_IO : 0;
                memcpy(cfg.info.lo_file_name, file, strnlen(file, LO_NAME_SIZE - 1));
                if (ioctl(loop, LOOP_CONFIGURE, &cfg) == 0) {
                        r = 0;
                        break;
                }
                r = -errno;
                close(loop);
                loop = -1;
                if (r != -EBUSY)
                        break; /* EBUSY: someone took it first, try the next */
        }
        if (loop >= 0)
                close(loop);
        close(fd);
        close(ctl);
        return r < 0 ? r : nr;
}

static void loop_detach(int nr)
{
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/dev/loop%d", nr);
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return;
        if (ioctl(fd, LOOP_CLR_FD, 0) < 0)
                fprintf(stderr, "zuma-bench: cannot detach %s: %s\n", path, strerror(errno));
        close(fd);
}

/* Writes zeros over the whole file, so later writes allocate nothing. */
static int write_zeros(int fd, uint64_t size)
{
        size_t piece = 8u * MIB;
        void *zero = ss_alloc_io_buffer(piece);
        int r = 0;

        if (!zero)
                return -ENOMEM;
        memset(zero, 0, piece);
        for (uint64_t off = 0; off < size && r == 0; off += piece) {
                size_t len = size - off < piece ? (size_t)(size - off) : piece;

                if (pwrite(fd, zero, len, (off_t)off) != (ssize_t)len)
                        r = -EIO;
        }
        if (r == 0 && fdatasync(fd) < 0)
                r = -errno;
        free(zero);
        return r;
}

int vol_create(BenchEnv *env, const char *name, uint64_t size, bool prealloc, BenchVol *ret_vol)
{
        BenchVol v = { .loop_nr = -1, .size = size };
        int fd, r;

        snprintf(v.file, sizeof(v.file), "%s/%s", env->dir, name);
        fd = open(v.file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | (env->direct ? O_DIRECT : 0),
                  0600);
        if (fd < 0)
                return -errno;
        r = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
        if (r == 0 && prealloc)
                r = write_zeros(fd, size);
        close(fd);
        if (r < 0) {
                unlink(v.file);
                return r;
        }
        snprintf(v.path, sizeof(v.path), "%s", v.file);
        if (env->use_loop) {
                r = loop_attach(v.file, env->direct);
                if (r < 0) {
                        unlink(v.file);
                        return r;
                }
                v.loop_nr = r;
                snprintf(v.path, sizeof(v.path), "/dev/loop%d", r);
        }
        track_vol(&v, true);
        *ret_vol = v;
        return 0;
}

int vol_open(const BenchVol *vol, SsBlockDev **ret_dev)
{
        return ss_blockdev_open_file(vol->path, 0, ret_dev);
}

void vol_destroy(BenchEnv *env, BenchVol *vol)
{
        if (vol->file[0])
                track_vol(vol, false);
        if (vol->loop_nr >= 0)
                loop_detach(vol->loop_nr);
        vol->loop_nr = -1;
        if (vol->file[0] && !env->keep)
                unlink(vol->file);
        vol->file[0] = 0;
}
