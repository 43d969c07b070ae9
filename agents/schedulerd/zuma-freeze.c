/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedulerd"

#include "zuma-freeze.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zuma-error.h"

#define WATCHDOG_DONE "done"

struct ZumaFreeze {
        char *mount_point;
        int mount_fd;
        int done_fd; /* the pipe's write end */
        pid_t watchdog;
        gint64 frozen_at; /* monotonic microseconds */
};

typedef enum {
        WATCHDOG_HEARD_DONE, /* the scheduler thawed and said so */
        WATCHDOG_GONE,       /* the pipe closed (the scheduler died) or said something else */
        WATCHDOG_LATE,       /* the deadline passed first */
} WatchdogOutcome;

static long elapsed_ms(const struct timespec *start)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Reads the word from done_fd until timeout_ms (-1: no deadline) after
 * start; *got counts the bytes read so far, across calls. */
static WatchdogOutcome wait_for_word(int done_fd, const struct timespec *start, long timeout_ms,
                                     char *word, size_t *got)
{
        struct pollfd pfd = { .fd = done_fd, .events = POLLIN };

        while (*got < strlen(WATCHDOG_DONE)) {
                long left_ms = timeout_ms < 0 ? -1 : timeout_ms - elapsed_ms(start);
                ssize_t n;
                int ready;

                if (timeout_ms >= 0 && left_ms <= 0)
                        return WATCHDOG_LATE;
                ready = poll(&pfd, 1, (int)MIN(left_ms, G_MAXINT));
                if (ready < 0 && errno == EINTR)
                        continue;
                if (ready == 0)
                        return WATCHDOG_LATE;
                if (ready < 0)
                        return WATCHDOG_GONE;
                n = read(done_fd, word + *got, strlen(WATCHDOG_DONE) - *got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return WATCHDOG_GONE;
                *got += (size_t)n;
        }
        return memcmp(word, WATCHDOG_DONE, *got) == 0 ? WATCHDOG_HEARD_DONE : WATCHDOG_GONE;
}

/* The watchdog's whole life, async-signal-safe calls only. */
static G_GNUC_NORETURN void run_watchdog(int mount_fd, int done_fd, guint timeout_ms)
{
        char word[sizeof(WATCHDOG_DONE)] = { 0 };
        size_t got = 0;
        struct timespec start;
        WatchdogOutcome outcome;

        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        setpgid(0, 0);
        /* Keep nothing of the daemon's but these two (its bus connection,
         * the state directory's lock): a restarted daemon must not wait
         * for the watchdog.  Copies above 10 first; d > m since m is the
         * lowest free descriptor from 10 on.  Without them the watchdog
         * still does its work, only holding more. */
        {
                int m = fcntl(mount_fd, F_DUPFD, 10);
                int d = m < 0 ? -1 : fcntl(done_fd, F_DUPFD, 10);

                if (m >= 0 && d > m) {
                        mount_fd = m;
                        done_fd = d;
                        close_range(3, (unsigned int)m - 1, 0);
                        if (d > m + 1)
                                close_range((unsigned int)m + 1, (unsigned int)d - 1, 0);
                        close_range((unsigned int)d + 1, ~0u, 0);
                }
        }
        clock_gettime(CLOCK_MONOTONIC, &start);
        outcome = wait_for_word(done_fd, &start, timeout_ms, word, &got);
        if (outcome == WATCHDOG_HEARD_DONE)
                _exit(0);
        /* The scheduler died, hung, or said something else: thaw. */
        ioctl(mount_fd, FITHAW, 0);
        if (outcome == WATCHDOG_LATE) {
                /* A FIFREEZE still flushing at the deadline completes after
                 * that thaw: keep watching until the scheduler says done
                 * (it thaws itself) or dies (thaw again). */
                if (wait_for_word(done_fd, &start, -1, word, &got) != WATCHDOG_HEARD_DONE)
                        ioctl(mount_fd, FITHAW, 0);
        }
        _exit(1);
}

static void reap(pid_t pid)
{
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

ZumaFreeze *zuma_freeze_begin(const char *mount_point, guint timeout_ms, GError **error)
{
        g_autofree ZumaFreeze *freeze = g_new0(ZumaFreeze, 1);
        int pipe_fds[2];
        pid_t pid;
        int err;

        freeze->mount_fd = open(mount_point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (freeze->mount_fd < 0) {
                err = errno;
                zuma_error_set_errno(error, -err, "cannot open %s: %s", mount_point,
                                     g_strerror(err));
                return NULL;
        }
        if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
                err = errno;
                close(freeze->mount_fd);
                zuma_error_set_errno(error, -err, "pipe: %s", g_strerror(err));
                return NULL;
        }
        pid = fork();
        if (pid < 0) {
                err = errno;
                close(pipe_fds[0]);
                close(pipe_fds[1]);
                close(freeze->mount_fd);
                zuma_error_set_errno(error, -err, "cannot fork the freeze watchdog: %s",
                                     g_strerror(err));
                return NULL;
        }
        if (pid == 0) {
                close(pipe_fds[1]);
                run_watchdog(freeze->mount_fd, pipe_fds[0], timeout_ms);
        }
        close(pipe_fds[0]);
        freeze->done_fd = pipe_fds[1];
        freeze->watchdog = pid;

        if (ioctl(freeze->mount_fd, FIFREEZE, 0) < 0) {
                err = errno;
                /* Tell the watchdog there is nothing to thaw. */
                if (write(freeze->done_fd, WATCHDOG_DONE, strlen(WATCHDOG_DONE)) < 0)
                        g_debug("the freeze watchdog is gone already");
                close(freeze->done_fd);
                reap(freeze->watchdog);
                close(freeze->mount_fd);
                zuma_error_set_errno(error, -err, "cannot freeze %s: %s", mount_point,
                                     g_strerror(err));
                return NULL;
        }
        freeze->frozen_at = g_get_monotonic_time();
        freeze->mount_point = g_strdup(mount_point);
        return g_steal_pointer(&freeze);
}

gboolean zuma_freeze_end(ZumaFreeze *freeze, gint64 *ret_frozen_us, GError **error)
{
        gboolean thawed = ioctl(freeze->mount_fd, FITHAW, 0) == 0;
        int err = errno;
        gint64 frozen_us = g_get_monotonic_time() - freeze->frozen_at;

        if (write(freeze->done_fd, WATCHDOG_DONE, strlen(WATCHDOG_DONE)) < 0)
                g_debug("the freeze watchdog is gone already");
        close(freeze->done_fd);
        reap(freeze->watchdog);
        close(freeze->mount_fd);
        if (ret_frozen_us)
                *ret_frozen_us = frozen_us;
        if (!thawed)
                zuma_error_set_errno(error, -err,
                                     "%s was thawed before the snapshot's end (%s): the freeze "
                                     "outlasted its timeout",
                                     freeze->mount_point, g_strerror(err));
        g_free(freeze->mount_point);
        g_free(freeze);
        return thawed;
}
