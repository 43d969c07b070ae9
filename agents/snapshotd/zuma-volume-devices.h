/* SPDX-License-Identifier: GPL-2.0-only */
/* A volume's devices found by identity at start (zuma-volume-devices.c). */
#pragma once

#include "zuma-volume.h"

/* Points the definition at where the origin and the store are now;
 * NotFound when the origin's identity is recorded and no device has it. */
gboolean volume_resolve_devices(ZumaVolume *self, GError **error);

/* Records the origin's identity if the definition has none yet (an older
 * definition, upgraded by its first start). */
void volume_record_origin_identity(ZumaVolume *self);
