/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaUdevMonitor: udev's block-device events as a GSource on the main
 * loop (zuma-udev-monitor.c owns the libudev monitor; nothing else in
 * zuma-mounterd reads it).
 */
#pragma once

#include <gio/gio.h>

#include "zuma-block-devices.h"

G_BEGIN_DECLS

typedef struct ZumaUdevMonitor ZumaUdevMonitor;

/* Called on the main loop for each event udev has finished processing
 * (its rules ran, so the ZUMASTOR_STORE_* properties are there):
 * action "add", "change", "remove"... */
typedef void (*ZumaUdevEventFn)(const char *action, ZumaUdevDevice *device, gpointer user_data);

/* Listens to udev's block events from now on (attached to the thread's
 * default main context). */
ZumaUdevMonitor *zuma_udev_monitor_new(ZumaUdevEventFn fn, gpointer user_data, GError **error);
void zuma_udev_monitor_free(ZumaUdevMonitor *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaUdevMonitor, zuma_udev_monitor_free)

G_END_DECLS
