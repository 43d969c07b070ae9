// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-zumastor: the Zumastor snapshot target for device-mapper.
 *
 * The data path stays in the kernel; a user-space server (zuma-snapshotd)
 * decides where snapshot data lives and when a copy-out is done, over the
 * protocol of include/uapi/dm-zumastor.h (docs/kernel-protocol.md).
 */
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "zumastor.h"

unsigned int zuma_timeout_secs = 30;
module_param_named(timeout, zuma_timeout_secs, uint, 0644);
MODULE_PARM_DESC(
	timeout,
	"Seconds I/O waits for the server before it fails with EIO (default 30, at least 1)");

unsigned int zuma_max_cached_maps = 1U << 20;
module_param_named(max_cached_maps, zuma_max_cached_maps, uint, 0644);
MODULE_PARM_DESC(
	max_cached_maps,
	"Read-map entries a snapshot target caches before it starts over (default 1048576)");

struct workqueue_struct *zuma_wq;

static int __init zuma_init(void)
{
	int err;

	zuma_wq = alloc_workqueue("zumastor", WQ_MEM_RECLAIM, 0);
	if (!zuma_wq)
		return -ENOMEM;
	err = zuma_init_volumes();
	if (err)
		goto wq;
	err = zuma_control_init();
	if (err)
		goto volumes;
	err = zuma_target_init();
	if (err)
		goto control;
	return 0;
control:
	zuma_control_exit();
volumes:
	zuma_exit_volumes();
wq:
	destroy_workqueue(zuma_wq);
	return err;
}

static void __exit zuma_exit(void)
{
	zuma_target_exit();
	zuma_control_exit();
	zuma_exit_volumes();
	destroy_workqueue(zuma_wq);
}

module_init(zuma_init);
module_exit(zuma_exit);

MODULE_DESCRIPTION(DM_NAME " Zumastor snapshot target (origin and snapshots, user-space server)");
MODULE_AUTHOR("Zumastor developers");
MODULE_LICENSE("GPL");
