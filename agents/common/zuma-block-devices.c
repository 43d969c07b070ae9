/* SPDX-License-Identifier: GPL-2.0-only */
/* Block devices through libudev, for hot-plug (zuma-block-devices.h). */
#include "zuma-block-devices.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "zuma-device-identity.h"
#include "zuma-error.h"

static gboolean is_loop(struct udev_device *device)
{
        const char *sysname = udev_device_get_sysname(device);

        return sysname && g_str_has_prefix(sysname, "loop");
}

char *zuma_udev_device_identity(struct udev_device *device)
{
        g_autofree char *backing_file = NULL;
        ZumaDeviceFacts facts = {
                .dm_uuid = udev_device_get_property_value(device, "DM_UUID"),
                .part_uuid = udev_device_get_property_value(device, "ID_PART_ENTRY_UUID"),
                .serial = udev_device_get_property_value(device, "ID_SERIAL"),
        };

        if (is_loop(device)) {
                const char *file = udev_device_get_sysattr_value(device, "loop/backing_file");
                const char *offset = udev_device_get_sysattr_value(device, "loop/offset");

                if (!file)
                        return NULL; /* a loop device with nothing attached */
                backing_file = g_strchomp(g_strdup(file));
                facts.loop_backing_file = backing_file;
                if (offset)
                        facts.loop_offset = g_ascii_strtoull(offset, NULL, 10);
        }
        return zuma_device_identity_from_facts(&facts);
}

gboolean zuma_udev_device_leaving(struct udev_device *device)
{
        const char *autoclear;

        if (!is_loop(device))
                return FALSE;
        if (!udev_device_get_sysattr_value(device, "loop/backing_file"))
                return TRUE;
        autoclear = udev_device_get_sysattr_value(device, "loop/autoclear");
        return autoclear && autoclear[0] == '1';
}

static struct udev_device *device_of_node(struct udev *udev, const char *devnode, GError **error)
{
        struct udev_device *device;
        struct stat st;

        if (stat(devnode, &st) < 0) {
                int saved = errno;

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "%s: %s", devnode,
                            g_strerror(saved));
                return NULL;
        }
        if (!S_ISBLK(st.st_mode)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "%s is not a block device",
                            devnode);
                return NULL;
        }
        device = udev_device_new_from_devnum(udev, 'b', st.st_rdev);
        if (!device)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "udev knows no block device %u:%u (%s)", major(st.st_rdev),
                            minor(st.st_rdev), devnode);
        return device;
}

char *zuma_block_device_identity(const char *devnode, GError **error)
{
        g_autoptr(ZumaUdev) udev = udev_new();
        g_autoptr(ZumaUdevDevice) device = NULL;
        char *identity;

        if (!udev) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_FAILED, "cannot use libudev");
                return NULL;
        }
        device = device_of_node(udev, devnode, error);
        if (!device)
                return NULL;
        identity = zuma_udev_device_identity(device);
        if (!identity)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "%s has no stable identity (not a loop device, no LVM or "
                            "device-mapper UUID, no partition UUID, no serial)",
                            devnode);
        return identity;
}

typedef gboolean (*DeviceMatch)(struct udev_device *device, const char *key);

static char *find_block_device(DeviceMatch match, const char *key)
{
        g_autoptr(ZumaUdev) udev = udev_new();
        g_autoptr(ZumaUdevEnumerate) enumerate = NULL;
        struct udev_list_entry *entry;

        if (!udev)
                return NULL;
        enumerate = udev_enumerate_new(udev);
        if (!enumerate || udev_enumerate_add_match_subsystem(enumerate, "block") < 0 ||
            udev_enumerate_scan_devices(enumerate) < 0)
                return NULL;
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(enumerate))
        {
                g_autoptr(ZumaUdevDevice) device =
                        udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));
                const char *devnode;

                if (!device || !(devnode = udev_device_get_devnode(device)) ||
                    zuma_udev_device_leaving(device) || !match(device, key))
                        continue;
                return g_strdup(devnode);
        }
        return NULL;
}

static gboolean identity_matches(struct udev_device *device, const char *identity)
{
        g_autofree char *found = zuma_udev_device_identity(device);

        return found && g_str_equal(found, identity);
}

static gboolean store_matches(struct udev_device *device, const char *volume_uuid)
{
        const char *found = udev_device_get_property_value(device, "ZUMASTOR_STORE_VOLUME_UUID");

        return found && g_ascii_strcasecmp(found, volume_uuid) == 0;
}

char *zuma_block_device_find_identity(const char *identity)
{
        return find_block_device(identity_matches, identity);
}

char *zuma_block_device_find_store(const char *volume_uuid)
{
        return find_block_device(store_matches, volume_uuid);
}
