/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory-backed fault-injecting device; the model is described in
 * faultdev.h.  Kept deliberately plain: two full images per device and a
 * list of pending writes, each with a private copy of its data.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "faultdev.h"

#define SECTOR_SIZE 512u

typedef struct PendingWrite {
        uint64_t off;
        size_t len;
        uint8_t *data;
} PendingWrite;

typedef struct FaultDev FaultDev;

struct FaultDomain {
        uint64_t rng;     /* splitmix64 state */
        uint64_t ops;     /* operations issued since creation */
        uint64_t writes;  /* writes issued since creation */
        uint64_t fail_at; /* op number that fails; 0 = disarmed */
        int fail_err;
        bool fail_sticky;
        uint64_t cut_at; /* write number that cuts the power; 0 = disarmed */
        bool off;
        FaultDev *devices;
};

struct FaultDev {
        SsBlockDev dev;
        FaultDomain *domain;
        FaultDev *next; /* in domain->devices */
        uint64_t size;
        uint8_t *durable;
        uint8_t *volatile_image;
        PendingWrite *pending;
        size_t n_pending, cap_pending;
};

static FaultDev *fault_dev(SsBlockDev *dev)
{
        return (FaultDev *)dev;
}

static uint64_t rng_next(FaultDomain *d)
{
        uint64_t z = (d->rng += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static bool in_range(FaultDev *f, size_t len, uint64_t off)
{
        return off % SECTOR_SIZE == 0 && len % SECTOR_SIZE == 0 && off <= f->size &&
               len <= f->size - off;
}

/* Counts one operation and decides whether it fails: 0 or -errno. */
static int begin_op(FaultDomain *d, bool is_write)
{
        d->ops++;
        if (is_write) {
                d->writes++;
                if (d->cut_at != 0 && d->writes == d->cut_at) {
                        d->cut_at = 0;
                        d->off = true;
                }
        }
        if (d->off)
                return -EIO;
        if (d->fail_at != 0 && d->ops >= d->fail_at) {
                int err = d->fail_err;

                if (!d->fail_sticky)
                        d->fail_at = 0;
                return err;
        }
        return 0;
}

static int fault_pread(SsBlockDev *dev, void *buf, size_t len, uint64_t off)
{
        FaultDev *f = fault_dev(dev);
        int r;

        if (!in_range(f, len, off))
                return -EINVAL;
        r = begin_op(f->domain, false);
        if (r < 0)
                return r;
        memcpy(buf, f->volatile_image + off, len);
        return 0;
}

static int fault_pwrite(SsBlockDev *dev, const void *buf, size_t len, uint64_t off)
{
        FaultDev *f = fault_dev(dev);
        PendingWrite *w;
        int r;

        if (!in_range(f, len, off))
                return -EINVAL;
        r = begin_op(f->domain, true);
        if (r < 0)
                return r;

        if (f->n_pending == f->cap_pending) {
                size_t cap = f->cap_pending ? 2 * f->cap_pending : 16;
                PendingWrite *p = realloc(f->pending, cap * sizeof(*p));

                if (!p)
                        return -ENOMEM;
                f->pending = p;
                f->cap_pending = cap;
        }
        w = &f->pending[f->n_pending];
        w->data = malloc(len ? len : 1);
        if (!w->data)
                return -ENOMEM;
        memcpy(w->data, buf, len);
        w->off = off;
        w->len = len;
        f->n_pending++;
        memcpy(f->volatile_image + off, buf, len);
        return 0;
}

static void drop_pending(FaultDev *f)
{
        for (size_t i = 0; i < f->n_pending; i++)
                free(f->pending[i].data);
        f->n_pending = 0;
}

static int fault_flush(SsBlockDev *dev)
{
        FaultDev *f = fault_dev(dev);
        int r;

        r = begin_op(f->domain, false);
        if (r < 0)
                return r;
        for (size_t i = 0; i < f->n_pending; i++)
                memcpy(f->durable + f->pending[i].off, f->pending[i].data, f->pending[i].len);
        drop_pending(f);
        return 0;
}

static uint64_t fault_size(SsBlockDev *dev)
{
        return fault_dev(dev)->size;
}

static void fault_close(SsBlockDev *dev)
{
        FaultDev *f = fault_dev(dev);
        FaultDev **link = &f->domain->devices;

        while (*link != f)
                link = &(*link)->next;
        *link = f->next;

        drop_pending(f);
        free(f->pending);
        free(f->durable);
        free(f->volatile_image);
        free(dev->name);
        free(f);
}

static const SsBlockDevOps fault_ops = {
        .pread = fault_pread,
        .pwrite = fault_pwrite,
        .flush = fault_flush,
        .size = fault_size,
        .close = fault_close,
};

/* Lands a random subset of the sectors of w on the durable image. */
static void land_torn(FaultDev *f, const PendingWrite *w)
{
        for (size_t s = 0; s < w->len; s += SECTOR_SIZE)
                if (rng_next(f->domain) & 1)
                        memcpy(f->durable + w->off + s, w->data + s, SECTOR_SIZE);
}

typedef enum { FATE_KEEP, FATE_DROP, FATE_TEAR } WriteFate;

static WriteFate write_fate(FaultDomain *d, FaultLoss loss)
{
        switch (loss) {
        case FAULT_LOSS_KEEP_ALL:
                return FATE_KEEP;
        case FAULT_LOSS_DROP_ALL:
                return FATE_DROP;
        case FAULT_LOSS_RANDOM:
                break;
        }
        return (WriteFate)(rng_next(d) % 3);
}

static void resolve_pending(FaultDev *f, FaultLoss loss)
{
        for (size_t i = 0; i < f->n_pending; i++) {
                const PendingWrite *w = &f->pending[i];

                switch (write_fate(f->domain, loss)) {
                case FATE_KEEP:
                        memcpy(f->durable + w->off, w->data, w->len);
                        break;
                case FATE_DROP:
                        break;
                case FATE_TEAR:
                        land_torn(f, w);
                        break;
                }
        }
        drop_pending(f);
        memcpy(f->volatile_image, f->durable, f->size);
}

void fault_domain_power_cycle(FaultDomain *d, FaultLoss loss)
{
        for (FaultDev *f = d->devices; f; f = f->next)
                resolve_pending(f, loss);
        d->off = false;
        d->fail_at = 0;
        d->cut_at = 0;
}

FaultDomain *fault_domain_new(uint64_t seed)
{
        FaultDomain *d = calloc(1, sizeof(*d));

        if (d)
                d->rng = seed;
        return d;
}

void fault_domain_free(FaultDomain *d)
{
        if (!d)
                return;
        assert(!d->devices);
        free(d);
}

SsBlockDev *faultdev_new_from(FaultDomain *d, const char *name, const void *image, uint64_t size)
{
        FaultDev *f;

        if (size % SECTOR_SIZE != 0 || size == 0 || size > SIZE_MAX)
                return NULL;
        f = calloc(1, sizeof(*f));
        if (!f)
                return NULL;
        f->dev.ops = &fault_ops;
        f->dev.name = strdup(name);
        f->domain = d;
        f->size = size;
        f->durable = malloc(size);
        f->volatile_image = malloc(size);
        if (!f->dev.name || !f->durable || !f->volatile_image) {
                free(f->dev.name);
                free(f->durable);
                free(f->volatile_image);
                free(f);
                return NULL;
        }
        if (image)
                memcpy(f->durable, image, size);
        else
                memset(f->durable, 0, size);
        memcpy(f->volatile_image, f->durable, size);

        f->next = d->devices;
        d->devices = f;
        return &f->dev;
}

SsBlockDev *faultdev_new(FaultDomain *d, const char *name, uint64_t size)
{
        return faultdev_new_from(d, name, NULL, size);
}

void fault_domain_fail_op(FaultDomain *d, uint64_t n, int err, bool sticky)
{
        assert(n == 0 || err < 0);
        d->fail_at = n ? d->ops + n : 0;
        d->fail_err = err;
        d->fail_sticky = sticky;
}

void fault_domain_cut_at_write(FaultDomain *d, uint64_t n)
{
        d->cut_at = n ? d->writes + n : 0;
}

void fault_domain_power_off(FaultDomain *d)
{
        d->off = true;
}

bool fault_domain_is_off(FaultDomain *d)
{
        return d->off;
}

uint64_t fault_domain_ops(FaultDomain *d)
{
        return d->ops;
}

uint64_t fault_domain_writes(FaultDomain *d)
{
        return d->writes;
}

const uint8_t *faultdev_contents(SsBlockDev *dev)
{
        return fault_dev(dev)->volatile_image;
}

uint64_t faultdev_size(SsBlockDev *dev)
{
        return fault_dev(dev)->size;
}
