/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit test of the fault-injecting memory device.
 *
 * Usage: test-faultdev [SEED]   (or FAULT_SEED=SEED); the seed is printed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "faultdev.h"
#include "test-check.h"

/* The device's own answers, without the engine's mapping of -ENOSPC. */
static int raw_pread(SsBlockDev *d, void *buf, size_t len, uint64_t off)
{
        return d->ops->pread(d, buf, len, off);
}

static int raw_pwrite(SsBlockDev *d, const void *buf, size_t len, uint64_t off)
{
        return d->ops->pwrite(d, buf, len, off);
}

static int raw_flush(SsBlockDev *d)
{
        return d->ops->flush(d);
}

#define DEV_SIZE (64u << 10)
#define SECTOR 512u

static uint8_t wbuf[DEV_SIZE], rbuf[DEV_SIZE];

/* Every byte of sector s of pattern p, so a sector's origin is recognisable. */
static uint8_t pattern_byte(unsigned p, uint64_t sector)
{
        return (uint8_t)(p * 37 + sector * 11 + 1);
}

static void fill(uint8_t *buf, unsigned p, uint64_t off, size_t len)
{
        for (size_t i = 0; i < len; i += SECTOR)
                memset(buf + i, pattern_byte(p, (off + i) / SECTOR), SECTOR);
}

/* Writes pattern p over [off, off + len). */
static int write_pattern(SsBlockDev *dev, unsigned p, uint64_t off, size_t len)
{
        fill(wbuf, p, off, len);
        return raw_pwrite(dev, wbuf, len, off);
}

/* Whether [off, off + len) of dev reads as pattern p (0 = zero-filled). */
static bool has_pattern(SsBlockDev *dev, unsigned p, uint64_t off, size_t len)
{
        const uint8_t *c = faultdev_contents(dev);

        for (size_t i = 0; i < len; i++) {
                uint8_t want = p ? pattern_byte(p, (off + i) / SECTOR) : 0;

                if (c[off + i] != want)
                        return false;
        }
        return true;
}

static void test_pending_and_flush(uint64_t seed)
{
        FaultDomain *d = fault_domain_new(seed);
        SsBlockDev *dev = faultdev_new(d, "dev", DEV_SIZE);

        CHECK(faultdev_size(dev) == DEV_SIZE, "size");
        CHECK(ss_dev_size(dev) == DEV_SIZE, "size op");
        CHECK(has_pattern(dev, 0, 0, DEV_SIZE), "new device is zero-filled");

        CHECK(write_pattern(dev, 1, 0, 4096) == 0, "write");
        CHECK(raw_pread(dev, rbuf, 4096, 0) == 0, "read");
        CHECK(memcmp(rbuf, wbuf, 4096) == 0, "a read sees an unflushed write");

        /* Unflushed writes are lost with DROP_ALL. */
        fault_domain_power_cycle(d, FAULT_LOSS_DROP_ALL);
        CHECK(has_pattern(dev, 0, 0, 4096), "DROP_ALL dropped the unflushed write");

        /* Flushed writes survive DROP_ALL; later ones do not. */
        CHECK(write_pattern(dev, 2, 0, 4096) == 0, "write");
        CHECK(raw_flush(dev) == 0, "flush");
        CHECK(write_pattern(dev, 3, 4096, 4096) == 0, "write");
        fault_domain_power_cycle(d, FAULT_LOSS_DROP_ALL);
        CHECK(has_pattern(dev, 2, 0, 4096), "flushed write survived");
        CHECK(has_pattern(dev, 0, 4096, 4096), "write after the flush dropped");

        /* KEEP_ALL applies pending writes in issue order: the later one wins. */
        CHECK(write_pattern(dev, 4, 0, 8192) == 0, "write");
        CHECK(write_pattern(dev, 5, 4096, 512) == 0, "write");
        fault_domain_power_cycle(d, FAULT_LOSS_KEEP_ALL);
        CHECK(has_pattern(dev, 4, 0, 4096), "KEEP_ALL kept the first write");
        CHECK(has_pattern(dev, 5, 4096, 512), "KEEP_ALL kept the overlapping second");
        CHECK(has_pattern(dev, 4, 4608, 8192 - 4608), "KEEP_ALL kept the rest of the first");

        /* Flushing one device does not make another's writes durable. */
        SsBlockDev *other = faultdev_new(d, "other", DEV_SIZE);
        CHECK(write_pattern(dev, 6, 0, 512) == 0, "write");
        CHECK(write_pattern(other, 6, 0, 512) == 0, "write");
        CHECK(raw_flush(other) == 0, "flush");
        fault_domain_power_cycle(d, FAULT_LOSS_DROP_ALL);
        CHECK(has_pattern(dev, 4, 0, 512), "flush of another device left it pending");
        CHECK(has_pattern(other, 6, 0, 512), "flushed device kept its write");

        ss_blockdev_close(other);
        ss_blockdev_close(dev);
        fault_domain_free(d);
        printf("ok pending-and-flush\n");
}

static void test_new_from(void)
{
        FaultDomain *d = fault_domain_new(1);
        uint8_t *image = malloc(DEV_SIZE);
        SsBlockDev *dev;

        fill(image, 7, 0, DEV_SIZE);
        dev = faultdev_new_from(d, "img", image, DEV_SIZE);
        CHECK(dev != NULL, "faultdev_new_from");
        CHECK(memcmp(faultdev_contents(dev), image, DEV_SIZE) == 0, "contents = image");
        fault_domain_power_cycle(d, FAULT_LOSS_DROP_ALL);
        CHECK(memcmp(faultdev_contents(dev), image, DEV_SIZE) == 0, "image is durable");
        CHECK(strcmp(dev->name, "img") == 0, "name");
        CHECK(faultdev_new(d, "bad", 1000) == NULL, "size not a multiple of 512 refused");

        ss_blockdev_close(dev);
        fault_domain_free(d);
        free(image);
        printf("ok new-from\n");
}

static void test_invalid_requests(void)
{
        FaultDomain *d = fault_domain_new(1);
        SsBlockDev *dev = faultdev_new(d, "dev", DEV_SIZE);

        CHECK(raw_pread(dev, rbuf, 512, DEV_SIZE) == -EINVAL, "read past the end");
        CHECK(raw_pread(dev, rbuf, 1024, DEV_SIZE - 512) == -EINVAL, "read across the end");
        CHECK(raw_pwrite(dev, wbuf, 512, DEV_SIZE) == -EINVAL, "write past the end");
        CHECK(raw_pread(dev, rbuf, 512, 100) == -EINVAL, "unaligned offset");
        CHECK(raw_pwrite(dev, wbuf, 100, 0) == -EINVAL, "unaligned length");
        CHECK(raw_pread(dev, rbuf, 512, UINT64_MAX - 511) == -EINVAL, "offset overflow");
        CHECK(raw_pread(dev, rbuf, 512, DEV_SIZE - 512) == 0, "last sector");

        ss_blockdev_close(dev);
        fault_domain_free(d);
        printf("ok invalid-requests\n");
}

/* RANDOM keeps, drops or tears each pending write; every sector ends up old
 * or new, never anything else, and over many rounds every fate shows up. */
static void test_random_loss(uint64_t seed)
{
        enum { ROUNDS = 100, WRITES = 8, WRITE_LEN = 4096 };
        unsigned kept = 0, dropped = 0, torn = 0;
        FaultDomain *d = fault_domain_new(seed);
        SsBlockDev *dev = faultdev_new(d, "dev", DEV_SIZE);

        for (unsigned round = 0; round < ROUNDS; round++) {
                unsigned old_p = 1 + round % 2, new_p = 11 + round % 2;

                /* Durable baseline, then unflushed non-overlapping writes. */
                CHECK(write_pattern(dev, old_p, 0, DEV_SIZE) == 0, "write");
                CHECK(raw_flush(dev) == 0, "flush");
                for (unsigned w = 0; w < WRITES; w++)
                        CHECK(write_pattern(dev, new_p, w * 2 * WRITE_LEN, WRITE_LEN) == 0,
                              "write");
                fault_domain_power_cycle(d, FAULT_LOSS_RANDOM);

                for (unsigned w = 0; w < WRITES; w++) {
                        uint64_t off = w * 2 * WRITE_LEN;
                        unsigned n_old = 0, n_new = 0;

                        for (uint64_t s = off; s < off + WRITE_LEN; s += SECTOR) {
                                if (has_pattern(dev, old_p, s, SECTOR))
                                        n_old++;
                                else if (has_pattern(dev, new_p, s, SECTOR))
                                        n_new++;
                                else
                                        CHECK(false, "sector %" PRIu64 " is neither old nor new",
                                              s / SECTOR);
                        }
                        if (n_old && n_new)
                                torn++;
                        else if (n_new)
                                kept++;
                        else
                                dropped++;
                        CHECK(has_pattern(dev, old_p, off + WRITE_LEN, WRITE_LEN),
                              "untouched range changed");
                }
        }
        printf("# random loss: %u kept, %u dropped, %u torn\n", kept, dropped, torn);
        CHECK(kept && dropped && torn, "every fate occurs");

        ss_blockdev_close(dev);
        fault_domain_free(d);
        printf("ok random-loss\n");
}

/* The same seed and the same operations give the same result. */
static void run_random_once(uint64_t seed, uint8_t *ret_image)
{
        FaultDomain *d = fault_domain_new(seed);
        SsBlockDev *dev = faultdev_new(d, "dev", DEV_SIZE);

        for (unsigned w = 0; w < 16; w++)
                write_pattern(dev, w + 1, w * 4096, 4096);
        fault_domain_power_cycle(d, FAULT_LOSS_RANDOM);
        memcpy(ret_image, faultdev_contents(dev), DEV_SIZE);
        ss_blockdev_close(dev);
        fault_domain_free(d);
}

static void test_random_reproducible(uint64_t seed)
{
        static uint8_t a[DEV_SIZE], b[DEV_SIZE];

        run_random_once(seed, a);
        run_random_once(seed, b);
        CHECK(memcmp(a, b, DEV_SIZE) == 0, "same seed, same outcome");
        printf("ok random-reproducible\n");
}

static void test_fail_op(void)
{
        FaultDomain *d = fault_domain_new(1);
        SsBlockDev *a = faultdev_new(d, "a", DEV_SIZE);
        SsBlockDev *b = faultdev_new(d, "b", DEV_SIZE);

        /* Counted across devices; the failing write leaves no trace. */
        fault_domain_fail_op(d, 3, -EIO, false);
        CHECK(raw_pread(a, rbuf, 512, 0) == 0, "op 1");
        CHECK(raw_flush(b) == 0, "op 2");
        CHECK(write_pattern(b, 1, 0, 512) == -EIO, "op 3 fails with EIO");
        CHECK(has_pattern(b, 0, 0, 512), "failed write did not touch the media");
        CHECK(write_pattern(b, 1, 0, 512) == 0, "op 4 succeeds again");
        fault_domain_power_cycle(d, FAULT_LOSS_KEEP_ALL);
        CHECK(has_pattern(b, 1, 0, 512), "only the successful write was pending");

        /* ENOSPC on a flush: the pending writes stay pending. */
        CHECK(write_pattern(a, 2, 0, 512) == 0, "write");
        fault_domain_fail_op(d, 1, -ENOSPC, false);
        CHECK(raw_flush(a) == -ENOSPC, "flush fails with ENOSPC");
        fault_domain_power_cycle(d, FAULT_LOSS_DROP_ALL);
        CHECK(has_pattern(a, 0, 0, 512), "failed flush made nothing durable");

        /* Sticky: op 2 and every later one fail, until disarmed. */
        fault_domain_fail_op(d, 2, -EIO, true);
        CHECK(raw_pread(a, rbuf, 512, 0) == 0, "op 1");
        CHECK(raw_pread(a, rbuf, 512, 0) == -EIO, "op 2 fails");
        CHECK(raw_pread(b, rbuf, 512, 0) == -EIO, "op 3 fails");
        CHECK(raw_flush(b) == -EIO, "op 4 fails");
        fault_domain_fail_op(d, 0, 0, false);
        CHECK(raw_pread(a, rbuf, 512, 0) == 0, "disarmed");

        /* A power cycle disarms. */
        fault_domain_fail_op(d, 1, -EIO, true);
        fault_domain_power_cycle(d, FAULT_LOSS_KEEP_ALL);
        CHECK(raw_pread(a, rbuf, 512, 0) == 0, "power cycle disarmed fail_op");

        /* Closing one device leaves the domain counting for the other. */
        ss_blockdev_close(a);
        fault_domain_fail_op(d, 2, -EIO, false);
        CHECK(raw_pread(b, rbuf, 512, 0) == 0, "op 1");
        CHECK(raw_pread(b, rbuf, 512, 0) == -EIO, "op 2 fails");

        ss_blockdev_close(b);
        fault_domain_free(d);
        printf("ok fail-op\n");
}

static void test_cut_at_write(void)
{
        FaultDomain *d = fault_domain_new(1);
        SsBlockDev *a = faultdev_new(d, "a", DEV_SIZE);
        SsBlockDev *b = faultdev_new(d, "b", DEV_SIZE);

        fault_domain_cut_at_write(d, 2);
        CHECK(write_pattern(a, 1, 0, 512) == 0, "write 1");
        CHECK(raw_pread(a, rbuf, 512, 0) == 0, "reads do not count as writes");
        CHECK(raw_flush(b) == 0, "nor do flushes");
        CHECK(!fault_domain_is_off(d), "power still on");
        CHECK(write_pattern(b, 2, 0, 512) == -EIO, "write 2 meets the cut");
        CHECK(fault_domain_is_off(d), "power off");
        CHECK(raw_pread(a, rbuf, 512, 0) == -EIO, "read while off");
        CHECK(raw_flush(a) == -EIO, "flush while off");
        CHECK(write_pattern(a, 3, 512, 512) == -EIO, "write while off");
        CHECK(has_pattern(b, 0, 0, 512), "the cut write did not land");

        fault_domain_power_cycle(d, FAULT_LOSS_KEEP_ALL);
        CHECK(!fault_domain_is_off(d), "power back");
        CHECK(has_pattern(a, 1, 0, 512), "write 1 kept");
        CHECK(has_pattern(a, 0, 512, 512), "write while off not kept");
        CHECK(has_pattern(b, 0, 0, 512), "cut write not kept");
        CHECK(write_pattern(a, 4, 0, 512) == 0, "works again");

        /* Cut now; an armed cut is disarmed by the power cycle. */
        fault_domain_power_off(d);
        CHECK(fault_domain_is_off(d), "power_off");
        CHECK(raw_pread(a, rbuf, 512, 0) == -EIO, "read while off");
        fault_domain_cut_at_write(d, 1);
        fault_domain_power_cycle(d, FAULT_LOSS_DROP_ALL);
        CHECK(has_pattern(a, 1, 0, 512), "unflushed write 4 dropped");
        CHECK(write_pattern(a, 5, 0, 512) == 0, "cut disarmed by the power cycle");

        /* 0 disarms. */
        fault_domain_cut_at_write(d, 1);
        fault_domain_cut_at_write(d, 0);
        CHECK(write_pattern(a, 6, 0, 512) == 0, "cut disarmed by 0");

        ss_blockdev_close(b);
        ss_blockdev_close(a);
        fault_domain_free(d);
        printf("ok cut-at-write\n");
}

static void test_counters(void)
{
        FaultDomain *d = fault_domain_new(1);
        SsBlockDev *a = faultdev_new(d, "a", DEV_SIZE);
        SsBlockDev *b = faultdev_new(d, "b", DEV_SIZE);

        CHECK(fault_domain_ops(d) == 0 && fault_domain_writes(d) == 0, "start at 0");
        write_pattern(a, 1, 0, 512);
        write_pattern(b, 1, 0, 512);
        raw_pread(a, rbuf, 512, 0);
        raw_flush(b);
        CHECK(fault_domain_ops(d) == 4, "ops = %" PRIu64, fault_domain_ops(d));
        CHECK(fault_domain_writes(d) == 2, "writes = %" PRIu64, fault_domain_writes(d));

        /* Failed operations count; refused (invalid) requests do not. */
        fault_domain_fail_op(d, 1, -EIO, false);
        CHECK(write_pattern(a, 1, 0, 512) == -EIO, "injected failure");
        CHECK(raw_pread(a, rbuf, 512, DEV_SIZE) == -EINVAL, "invalid");
        fault_domain_power_off(d);
        CHECK(raw_flush(a) == -EIO, "flush while off");
        CHECK(fault_domain_ops(d) == 6, "ops = %" PRIu64, fault_domain_ops(d));
        CHECK(fault_domain_writes(d) == 3, "writes = %" PRIu64, fault_domain_writes(d));

        /* Counting from now on: the cut is relative to the writes so far. */
        fault_domain_power_cycle(d, FAULT_LOSS_DROP_ALL);
        fault_domain_cut_at_write(d, 1);
        CHECK(write_pattern(b, 1, 0, 512) == -EIO, "first write from now on cuts");
        CHECK(fault_domain_writes(d) == 4, "writes = %" PRIu64, fault_domain_writes(d));

        ss_blockdev_close(a);
        ss_blockdev_close(b);
        fault_domain_free(d);
        printf("ok counters\n");
}

static uint64_t pick_seed(int argc, char **argv)
{
        const char *s = argc > 1 ? argv[1] : getenv("FAULT_SEED");

        if (s && *s)
                return strtoull(s, NULL, 0);
        return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
}

int main(int argc, char **argv)
{
        uint64_t seed = pick_seed(argc, argv);

        printf("# seed %" PRIu64 " (rerun with: test-faultdev %" PRIu64 ")\n", seed, seed);

        test_pending_and_flush(seed);
        test_new_from();
        test_invalid_requests();
        test_random_loss(seed);
        test_random_reproducible(seed);
        test_fail_op();
        test_cut_at_write();
        test_counters();

        if (check_failures) {
                printf("%d check(s) failed (seed %" PRIu64 ")\n", check_failures, seed);
                return 1;
        }
        return 0;
}
