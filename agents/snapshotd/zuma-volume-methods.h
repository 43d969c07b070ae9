/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Volume interface's methods: each checks its options and the caller,
 * then asks the volume.  The volume does not know them; the manager
 * connects them to each volume it creates.
 */
#pragma once

#include "zuma-volume.h"

G_BEGIN_DECLS

void zuma_volume_connect_methods(ZumaVolume *self);

G_END_DECLS
