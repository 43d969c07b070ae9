/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * faultdev: a memory-backed SsBlockDev for fault injection and simulated
 * power loss.  It needs no engine internals: the engine sees a plain device.
 *
 * Each device keeps two images.  Writes land in the volatile image, which
 * reads see at once, and are recorded (with a copy of their data) in the
 * device's pending list; flush() makes that device's pending writes durable
 * by applying them to the durable image and emptying the list.
 *
 * Devices belong to a FaultDomain: the devices that lose power together and
 * share the operation counters.  Every pread, pwrite and flush of any device
 * in the domain is one operation, counted from 1 since the domain was
 * created, including operations that fail because of an injected fault or
 * because the power is off.  Requests that are not 512-aligned or reach
 * beyond the device size are refused with -EINVAL before being counted.
 *
 * A power cut (fault_domain_cut_at_write() or fault_domain_power_off())
 * makes every operation fail with -EIO until fault_domain_power_cycle(),
 * which resolves each device's pending writes according to a FaultLoss and
 * restarts every device from its durable image.
 *
 * Every random choice comes from the domain's seed, so a run is reproduced
 * by giving the same seed and issuing the same operations.
 *
 * One thread at a time: the counters, the pending lists and the cut logic
 * take no lock, and an operation count is only reproducible in one order.
 * So the tests on faultdev drive the split copy-out
 * (ss_copy_plan_io(), which may run beside other calls) as steps on one
 * thread, in orders they choose (tests/workload.c, tests/test-model.c);
 * the tests with threads use the file backend, which allows concurrent
 * pread and pwrite (tests/snapshotd/test-engine-commit.c).  For the same
 * reason faultdev does not set parallel_reads.
 *
 * Usage:
 *     FaultDomain *d = fault_domain_new(seed);
 *     SsBlockDev *dev = faultdev_new(d, "store", 4 << 20);
 *     fault_domain_cut_at_write(d, 17);
 *     ... run the engine until it fails with -EIO ...
 *     fault_domain_power_cycle(d, FAULT_LOSS_RANDOM);
 *     ... reopen the store on dev and check it ...
 *     ss_blockdev_close(dev);
 *     fault_domain_free(d);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "blockdev.h"

typedef struct FaultDomain FaultDomain; /* devices that lose power together and share op counters */

typedef enum { FAULT_LOSS_DROP_ALL, FAULT_LOSS_KEEP_ALL, FAULT_LOSS_RANDOM } FaultLoss;

FaultDomain *fault_domain_new(uint64_t seed); /* seed drives every random choice */
void fault_domain_free(FaultDomain *d);       /* after all its devices are closed */

/* Zero-filled, size a multiple of 512; NULL if the size is not or on ENOMEM.
 * Close with ss_blockdev_close(). */
SsBlockDev *faultdev_new(FaultDomain *d, const char *name, uint64_t size);
/* Starts with a copy of image (size bytes) as durable contents. */
SsBlockDev *faultdev_new_from(FaultDomain *d, const char *name, const void *image, uint64_t size);

/* The nth I/O operation (reads, writes and flushes of every device in the domain, counted from 1
 * from now on) fails with err (-EIO or -ENOSPC), without touching the media; with sticky, every
 * later one too. 0 disarms. */
void fault_domain_fail_op(FaultDomain *d, uint64_t n, int err, bool sticky);

/* When the nth write (counted from 1 from now on, across the domain) is issued, the power goes off:
 * that write and every later operation fails with -EIO until fault_domain_power_cycle(). 0 disarms.
 * The write that meets the cut does not reach the media. */
void fault_domain_cut_at_write(FaultDomain *d, uint64_t n);
void fault_domain_power_off(FaultDomain *d); /* cut now */
bool fault_domain_is_off(FaultDomain *d);
uint64_t fault_domain_ops(FaultDomain *d);    /* operations since creation */
uint64_t fault_domain_writes(FaultDomain *d); /* writes since creation */

/* Power comes back: on each device, the writes not yet made durable by a flush are resolved
 * according to loss: all dropped, all kept, or (RANDOM) each one independently kept, dropped
 * or torn (a random subset of its 512-byte sectors lands), in issue order.
 * Afterwards the devices work again with their durable contents; armed faults are disarmed.
 * May be called with the power on: that simulates a crash of the host alone. */
void fault_domain_power_cycle(FaultDomain *d, FaultLoss loss);

const uint8_t *faultdev_contents(SsBlockDev *dev); /* what a read would see now */
uint64_t faultdev_size(SsBlockDev *dev);
