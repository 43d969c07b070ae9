/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaMethodTable: one interface's methods, found by name in one table,
 * so the caller check, the options argument and the reply are written once
 * for every daemon.
 *
 * The argument types stay gdbus-codegen's: a table names the generated
 * interface info (zuma_bus_volume_interface_info()), binding checks that
 * every method of the interface has an entry and that each takes a
 * trailing a{sv} options, and every call's parameters are checked against
 * the method's in-arguments before its function runs (the bus checked them
 * already; a daemon calling a table directly, a test for one, gets the
 * same check).  So a function reads its arguments with the XML's types:
 *
 *   static GVariant *rename_method(gpointer object, ZumaCall *call, GError **error)
 *   {
 *           const char *name;
 *
 *           g_variant_get_child(call->params, 0, "&s", &name);
 *           if (!zuma_options_parse(call->options, error, NULL) || !rename(object, name, error))
 *                   return NULL;
 *           return g_variant_new("()");
 *   }
 *
 *   static const ZumaMethod snapshot_methods[] = {
 *           { "Rename", "rename snapshots", rename_method },
 *           { "GetUsage", NULL, get_usage_method },   (NULL: open to every caller)
 *   };
 *   static const ZumaMethodTable snapshot_table = {
 *           zuma_bus_snapshot_interface_info, snapshot_methods,
 *           G_N_ELEMENTS(snapshot_methods), snapshot_check_alive,
 *   };
 *   (in a subclass of the generated skeleton, zuma-snapshot-face.c:)
 *   self->methods = zuma_method_table_bind(&snapshot_table, G_DBUS_INTERFACE_SKELETON(self),
 *                                          auth, G_OBJECT(self));
 *
 * A call then goes: the table's check (does the object still exist?), the
 * caller check for methods with an action (zuma-auth.h; it may wait for the
 * bus daemon), the check again (the object may have gone meanwhile), the
 * parameter types, the function, and its reply (checked against the
 * method's out-arguments) or its error (zuma-reply.h).
 */
#pragma once

#include <gio/gio.h>

#include "zuma-auth.h"

G_BEGIN_DECLS

typedef struct ZumaCall {
        /* NULL when a table is called without the bus (tests). */
        GDBusMethodInvocation *invocation;
        const char *method;
        /* The call's arguments, a tuple of the interface's in-argument types. */
        GVariant *params;
        /* Its last argument, the a{sv} options. */
        GVariant *options;
        /* The caller's uid for a method with an action; ZUMA_UID_UNKNOWN for
         * methods open to everyone. */
        guint32 uid;
        /* Set by zuma_call_defer(). */
        gboolean deferred;
} ZumaCall;

/* Returns the reply tuple (floating or not; of the method's out-argument
 * types), or NULL with error set, or NULL after zuma_call_defer(). */
typedef GVariant *(*ZumaMethodFunc)(gpointer object, ZumaCall *call, GError **error);

typedef struct ZumaMethod {
        /* The D-Bus member name: "CreateSnapshot". */
        const char *name;
        /* What the caller does, completing "not allowed to ..." ("create
         * snapshots"); NULL for a method that only reads, open to every
         * caller the bus policy lets in. */
        const char *action;
        ZumaMethodFunc func;
} ZumaMethod;

typedef struct ZumaMethodTable {
        /* gdbus-codegen's zuma_bus_*_interface_info. */
        GDBusInterfaceInfo *(*interface_info)(void);
        const ZumaMethod *methods;
        guint n_methods;
        /* May be NULL; fails (NotFound...) when the object no longer
         * answers calls.  Runs before the caller check and after it. */
        gboolean (*check)(gpointer object, GError **error);
} ZumaMethodTable;

/* Takes the call's invocation (a new reference) to reply to later; the
 * function then returns NULL without an error.  NULL when called without
 * the bus: such a method fails there with NotSupported. */
GDBusMethodInvocation *zuma_call_defer(ZumaCall *call);

/* Checks the table against its interface: every entry is a method of the
 * interface whose last in-argument is a{sv}, and every method of the
 * interface has one entry. */
gboolean zuma_method_table_validate(const ZumaMethodTable *table, GError **error);

/* Finds call->method in table, checks call->params against its
 * in-arguments (InvalidArgument naming both types otherwise), fills in
 * call->options and runs it.  Does not check the caller: the bus path
 * (zuma_method_table_bind) does that first. */
GVariant *zuma_method_table_call(const ZumaMethodTable *table, gpointer object, ZumaCall *call,
                                 GError **error);

typedef struct ZumaMethodBinding ZumaMethodBinding;

/* Connects every method of table to skeleton's generated handle-* signals
 * (aborts on a table that does not validate: a programming error).  object
 * is kept alive while a call waits for its caller check.  The binding holds
 * neither skeleton nor object, so object may be the skeleton itself (a
 * subclass of the generated skeleton, like ZumaVolumeFace): free the
 * binding (it disconnects) before either goes, in the owner's dispose. */
ZumaMethodBinding *zuma_method_table_bind(const ZumaMethodTable *table,
                                          GDBusInterfaceSkeleton *skeleton, ZumaAuth *auth,
                                          GObject *object);
void zuma_method_binding_free(ZumaMethodBinding *binding);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaMethodBinding, zuma_method_binding_free)

G_END_DECLS
