/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where a volume's devices are now, found at every start by their stable
 * identities (zuma-device-identity.h), so that a volume whose loop devices
 * were attached again under other numbers, or whose disk came back as
 * another node, starts where its devices are.
 *
 *   origin   by OriginIdentity: the recorded OriginDevice if it still has
 *            that identity, else the present block device that has it
 *            (not a loop device that is leaving).  None present: NotFound
 *            naming the identity; nothing is opened.
 *   store    by the volume's UUID: the recorded StoreDevice if its
 *            superblock belongs to the volume, else the device udev found
 *            holding the volume's store (ZUMASTOR_STORE_VOLUME_UUID, set
 *            by udev/zuma-store-probe.c and checked again here).  None:
 *            the recorded one is opened and the open says what is wrong.
 *
 * A definition that predates identities (OriginIdentity empty) is
 * upgraded by its first successful start: the origin's identity, if it
 * has one, is recorded then.  A changed node or identity is saved.
 */
#define G_LOG_DOMAIN "zuma-snapshotd"

#include "zuma-volume-devices.h"

#include "snapstore.h"
#include "zuma-block-devices.h"
#include "zuma-device-identity.h"
#include "zuma-volume-private.h"

static gboolean has_identity(const char *device, const char *identity)
{
        g_autofree char *found = zuma_block_device_identity(device, NULL);

        return found && g_str_equal(found, identity);
}

/* Whether device holds a readable store of the volume volume_uuid. */
static gboolean holds_store(const char *device, const char *volume_uuid)
{
        SsBlockDev *dev = NULL;
        SsStoreLabel label;
        g_autofree char *found = NULL;
        int r;

        if (ss_blockdev_open_file(device, SS_BLOCKDEV_READONLY | SS_BLOCKDEV_BUFFERED, &dev) < 0)
                return FALSE;
        r = ss_store_probe(dev, &label);
        ss_blockdev_close(dev);
        if (r < 0 && r != -ESTALE)
                return FALSE;
        found = zuma_uuid_string(label.volume_uuid);
        return g_ascii_strcasecmp(found, volume_uuid) == 0;
}

gboolean volume_resolve_devices(ZumaVolume *self, GError **error)
{
        ZumaVolumeConfig *config = self->config;
        gboolean changed = FALSE;

        if (config->origin_identity[0] &&
            !has_identity(config->origin_device, config->origin_identity)) {
                g_autofree char *node = zuma_block_device_find_identity(config->origin_identity);
                g_autofree char *what = zuma_device_identity_describe(config->origin_identity);

                if (!node) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                                    "its origin, %s, is not present", what);
                        return FALSE;
                }
                g_message("volume %s: the origin, %s, is %s now (was %s)", config->name, what, node,
                          config->origin_device);
                volume_set_origin(self, node, config->origin_identity);
                changed = TRUE;
        }
        if (config->uuid[0] && !holds_store(config->store_device, config->uuid)) {
                g_autofree char *node = zuma_block_device_find_store(config->uuid);

                if (node && holds_store(node, config->uuid)) {
                        g_message("volume %s: the store is %s now (was %s)", config->name, node,
                                  config->store_device);
                        volume_set_store_device(self, node);
                        changed = TRUE;
                }
        }
        if (changed)
                volume_save_config_or_warn(self);
        return TRUE;
}

void volume_record_origin_identity(ZumaVolume *self)
{
        g_autofree char *identity = NULL;

        if (self->config->origin_identity[0])
                return;
        identity = zuma_block_device_identity(self->config->origin_device, NULL);
        if (!identity)
                return;
        g_message("volume %s: origin identity %s recorded", self->config->name, identity);
        volume_set_origin(self, self->config->origin_device, identity);
        volume_save_config_or_warn(self);
}
