/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Several reads in flight at once: how a snapshot read reaches device speed.
 *
 * A snapshot's image is a patchwork of origin extents and store chunks, so
 * one request becomes many small reads.  Issued one after the other, each
 * waits for the device in turn and a 1 MiB snapshot read took three times
 * as long as the same origin read.  Issued together, the device works on
 * them at once.
 *
 * The device layer is a synchronous vtable (blockdev.h) that tests replace
 * with fault-injecting devices, so the reads go through it from a few
 * threads rather than through io_uring (which would need the backend's file
 * descriptor and a new dependency).  The threads start on the first batch
 * and live until the store is closed.  The calling thread takes reads of
 * its own batch too, so a batch always finishes even if no thread could be
 * started.  A child of fork() has none of its parent's threads: it starts
 * its own and never joins the parent's.  Several callers
 * (frontend threads reading without the store lock) may run batches at
 * once; the workers serve them in arrival order.
 *
 * Only devices whose ops set parallel_reads are read this way; the others
 * (the fault-injecting test devices count every operation in order) are
 * read one read at a time by the caller.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "internal.h"

/* Reads in flight beside the caller's own. */
#define READ_THREADS 4

typedef struct ReadBatch ReadBatch;
struct ReadBatch {
        const SsRead *reads;
        size_t n, next_untaken, unfinished;
        int err; /* the first failure */
        char why[256];
        ReadBatch *next; /* in the queue of batches with untaken reads */
};

struct SsReadPool {
        pthread_mutex_t lock;
        pthread_cond_t work; /* a batch has untaken reads, or stop */
        pthread_cond_t done; /* some batch's last read finished */
        pthread_t threads[READ_THREADS];
        unsigned started;
        pid_t owner; /* the process the threads run in */
        bool stop;
        ReadBatch *head, *tail;
};

int readpool_new(SsReadPool **ret_pool)
{
        SsReadPool *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->work, NULL);
        pthread_cond_init(&p->done, NULL);
        *ret_pool = p;
        return 0;
}

void readpool_free(SsReadPool *p)
{
        if (!p)
                return;
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; p->owner == getpid() && i < p->started; i++)
                pthread_join(p->threads[i], NULL);
        pthread_cond_destroy(&p->done);
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->lock);
        free(p);
}

/* Lock held: takes the next untaken read of batch b, unqueueing b once it
 * has none left.  b must be queued with an untaken read. */
static size_t take(SsReadPool *p, ReadBatch *b)
{
        size_t i = b->next_untaken++;

        if (b->next_untaken == b->n) {
                ReadBatch **at = &p->head, *prev = NULL;
                while (*at != b) {
                        prev = *at;
                        at = &(*at)->next;
                }
                *at = b->next;
                if (p->tail == b)
                        p->tail = prev;
        }
        return i;
}

/* Lock held on entry and on return; the read itself runs without it. */
static void run_one(SsReadPool *p, ReadBatch *b, size_t i)
{
        const SsRead *rd = &b->reads[i];

        pthread_mutex_unlock(&p->lock);
        int r = ss_dev_pread(rd->dev, rd->buf, rd->len, rd->off);
        pthread_mutex_lock(&p->lock);
        if (r < 0 && b->err == 0) {
                b->err = r;
                /* ss_last_error() belongs to this thread: carry it over. */
                snprintf(b->why, sizeof(b->why), "%s", ss_last_error());
        }
        if (--b->unfinished == 0)
                pthread_cond_broadcast(&p->done);
}

static void *worker(void *arg)
{
        SsReadPool *p = arg;

        pthread_mutex_lock(&p->lock);
        while (!p->stop) {
                if (!p->head) {
                        pthread_cond_wait(&p->work, &p->lock);
                        continue;
                }
                ReadBatch *b = p->head;
                run_one(p, b, take(p, b));
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

/* Lock held.  Threads block every signal: the process's handlers belong to
 * its own threads. */
static void start_threads(SsReadPool *p)
{
        sigset_t all, old;

        p->owner = getpid();
        p->started = 0;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        while (p->started < READ_THREADS &&
               pthread_create(&p->threads[p->started], NULL, worker, p) == 0)
                p->started++;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static bool all_parallel(const SsRead *reads, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!reads[i].dev->ops->parallel_reads)
                        return false;
        return true;
}

int readpool_run(SsReadPool *p, const SsRead *reads, size_t n)
{
        if (n <= 1 || !p || !all_parallel(reads, n)) {
                for (size_t i = 0; i < n; i++) {
                        int r = ss_dev_pread(reads[i].dev, reads[i].buf, reads[i].len,
                                             reads[i].off);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        ReadBatch b = { .reads = reads, .n = n, .unfinished = n };
        pthread_mutex_lock(&p->lock);
        if (p->owner != getpid())
                start_threads(p); /* once per process, even if some failed */
        if (p->tail)
                p->tail->next = &b;
        else
                p->head = &b;
        p->tail = &b;
        pthread_cond_broadcast(&p->work);
        while (b.next_untaken < b.n)
                run_one(p, &b, take(p, &b));
        while (b.unfinished)
                pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
        if (b.err)
                return ss_error(b.err, "%s", b.why);
        return 0;
}
