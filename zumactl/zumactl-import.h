/* SPDX-License-Identifier: GPL-2.0-only */
/* Unknown stores and their import (zumactl-import.c). */
#pragma once

#include "zumactl.h"

G_BEGIN_DECLS

/* zuma-mounterd's UnknownStores (aa{sv}), or NULL when no mounter
 * answers. */
GVariant *zumactl_unknown_stores(ZumactlContext *ctx);
/* One line per store, for status. */
char *zumactl_unknown_stores_text(GVariant *stores);
/* "unknown_stores": [...] as a member of the object being built. */
void zumactl_unknown_stores_json(JsonBuilder *builder, GVariant *stores);

G_END_DECLS
