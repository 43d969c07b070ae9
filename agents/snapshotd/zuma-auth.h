/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaAuth: who may call a mutating method.
 *
 * Mutating methods are for uid 0 only.  The caller's uid comes from the
 * bus daemon (GetConnectionUnixUser on the sender), asked asynchronously
 * once per sender and cached until the sender leaves the bus
 * (NameOwnerChanged); calls from one sender that arrive while its lookup is
 * pending run in the order they arrived.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ZUMA_TYPE_AUTH (zuma_auth_get_type())
G_DECLARE_FINAL_TYPE(ZumaAuth, zuma_auth, ZUMA, AUTH, GObject)

/* Runs an authorised method call: object is the one passed to
 * zuma_auth_require_root() (kept alive until then). */
typedef void (*ZumaAuthFunc)(gpointer object, GDBusMethodInvocation *invocation);

ZumaAuth *zuma_auth_new(GDBusConnection *connection);

/* Calls func(object, invocation) if the caller of invocation is root, now
 * or once its uid is known; otherwise returns AccessDenied ("only root may
 * <action>") on the invocation. */
void zuma_auth_require_root(ZumaAuth *self, GDBusMethodInvocation *invocation, const char *action,
                            gpointer object, ZumaAuthFunc func);

G_END_DECLS
