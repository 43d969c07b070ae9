/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The libudev monitor of zuma-mounterd's hot-plug, as a GSource: one
 * netlink socket subscribed to udev's (not the kernel's) events of the
 * "block" subsystem, so every event arrives after udev's rules ran and the
 * store probe's properties are in it.  The socket is non-blocking; each
 * dispatch drains what is queued, so a burst of events (a disk with many
 * partitions) costs one wake-up.  The receive buffer is enlarged so a
 * burst is not dropped while the main loop is busy.
 */
#define G_LOG_DOMAIN "zuma-mounterd"

#include "zuma-udev-monitor.h"

#include <glib-unix.h>

#include "zuma-error.h"

#define RECEIVE_BUFFER_BYTES (4 * 1024 * 1024)

struct ZumaUdevMonitor {
        ZumaUdev *udev;
        struct udev_monitor *monitor;
        GSource *source;
        ZumaUdevEventFn fn;
        gpointer user_data;
};

static gboolean on_readable(gint fd, GIOCondition condition, gpointer user_data)
{
        ZumaUdevMonitor *self = user_data;
        struct udev_device *device;

        while ((device = udev_monitor_receive_device(self->monitor))) {
                const char *action = udev_device_get_action(device);

                self->fn(action ? action : "", device, self->user_data);
                udev_device_unref(device);
        }
        return G_SOURCE_CONTINUE;
}

ZumaUdevMonitor *zuma_udev_monitor_new(ZumaUdevEventFn fn, gpointer user_data, GError **error)
{
        g_autoptr(ZumaUdevMonitor) self = g_new0(ZumaUdevMonitor, 1);
        int r;

        self->fn = fn;
        self->user_data = user_data;
        self->udev = udev_new();
        if (self->udev)
                self->monitor = udev_monitor_new_from_netlink(self->udev, "udev");
        if (!self->monitor) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                                    "cannot listen to udev's events (libudev monitor)");
                return NULL;
        }
        r = udev_monitor_filter_add_match_subsystem_devtype(self->monitor, "block", NULL);
        if (r >= 0)
                r = udev_monitor_enable_receiving(self->monitor);
        if (r < 0) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                            "cannot listen to udev's block events: %s", g_strerror(-r));
                return NULL;
        }
        /* Needs CAP_NET_ADMIN to pass the system's limit; best effort. */
        udev_monitor_set_receive_buffer_size(self->monitor, RECEIVE_BUFFER_BYTES);
        self->source = g_unix_fd_source_new(udev_monitor_get_fd(self->monitor), G_IO_IN);
        g_source_set_callback(self->source, G_SOURCE_FUNC(on_readable), self, NULL);
        g_source_set_name(self->source, "udev block events");
        g_source_attach(self->source, NULL);
        return g_steal_pointer(&self);
}

void zuma_udev_monitor_free(ZumaUdevMonitor *self)
{
        if (!self)
                return;
        if (self->source) {
                g_source_destroy(self->source);
                g_source_unref(self->source);
        }
        if (self->monitor)
                udev_monitor_unref(self->monitor);
        if (self->udev)
                udev_unref(self->udev);
        g_free(self);
}
