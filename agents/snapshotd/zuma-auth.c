/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-auth"

#include "zuma-auth.h"

#include "zuma-error.h"
#include "zuma-reply.h"

struct _ZumaAuth {
        GObject parent_instance;
        GDBusConnection *connection;
        guint name_owner_changed_id;
        GHashTable *callers; /* unique name → Caller */
};

G_DEFINE_TYPE(ZumaAuth, zuma_auth, G_TYPE_OBJECT)

typedef struct Waiter {
        GDBusMethodInvocation *invocation;
        char *action;
        GObject *object;
        ZumaAuthFunc func;
} Waiter;

typedef struct Caller {
        gboolean known;
        gboolean gone; /* left the bus while its lookup was pending */
        guint32 uid;
        char *problem;  /* why the uid is unknown, once the lookup failed */
        GQueue waiters; /* Waiter, while the lookup is pending */
} Caller;

static void waiter_free(Waiter *waiter)
{
        g_object_unref(waiter->invocation);
        g_object_unref(waiter->object);
        g_free(waiter->action);
        g_free(waiter);
}

static void caller_free(gpointer data)
{
        Caller *caller = data;

        g_queue_clear_full(&caller->waiters, (GDestroyNotify)waiter_free);
        g_free(caller->problem);
        g_free(caller);
}

static void decide(const Caller *caller, GDBusMethodInvocation *invocation, const char *action,
                   gpointer object, ZumaAuthFunc func)
{
        const char *sender = g_dbus_method_invocation_get_sender(invocation);
        const char *method = g_dbus_method_invocation_get_method_name(invocation);

        if (caller->problem) {
                g_message("refused %s from %s: cannot identify the caller: %s", method, sender,
                          caller->problem);
                zuma_reply_error_literal(invocation, ZUMA_ERROR_ACCESS_DENIED,
                                         "cannot identify the caller");
                return;
        }
        if (caller->uid != 0) {
                g_message("refused %s from uid %u (%s): only root may %s", method, caller->uid,
                          sender, action);
                zuma_reply_error(invocation, ZUMA_ERROR_ACCESS_DENIED, "only root may %s", action);
                return;
        }
        g_debug("%s from uid 0 (%s)", method, sender);
        func(object, invocation);
}

typedef struct Lookup {
        ZumaAuth *auth;
        char *sender;
} Lookup;

static void on_uid(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Lookup *lookup = user_data;
        g_autoptr(ZumaAuth) self = lookup->auth;
        g_autofree char *sender = lookup->sender;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        Caller *caller;
        Waiter *waiter;

        g_free(lookup);
        reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
        caller = self->callers ? g_hash_table_lookup(self->callers, sender) : NULL;
        if (!caller)
                return;
        caller->known = TRUE;
        if (reply)
                g_variant_get(reply, "(u)", &caller->uid);
        else
                caller->problem = g_strdup(error->message);
        /* A waiter's method may run the main loop's sources, never this
         * table, so the queue stays ours while it drains. */
        while ((waiter = g_queue_pop_head(&caller->waiters))) {
                decide(caller, waiter->invocation, waiter->action, waiter->object, waiter->func);
                waiter_free(waiter);
        }
        if (caller->gone || caller->problem)
                g_hash_table_remove(self->callers, sender);
}

void zuma_auth_require_root(ZumaAuth *self, GDBusMethodInvocation *invocation, const char *action,
                            gpointer object, ZumaAuthFunc func)
{
        const char *sender = g_dbus_method_invocation_get_sender(invocation);
        Caller *caller;
        Waiter *waiter;
        Lookup *lookup;

        if (!sender) {
                /* A peer-to-peer connection: no bus daemon vouches for it. */
                zuma_reply_error_literal(invocation, ZUMA_ERROR_ACCESS_DENIED,
                                         "callers must come through the bus");
                return;
        }
        caller = g_hash_table_lookup(self->callers, sender);
        if (caller && caller->known) {
                /* The method may drop the object's last other reference
                 * (a snapshot deleting itself) and still complete on it. */
                g_autoptr(GObject) keep = g_object_ref(object);

                decide(caller, invocation, action, keep, func);
                return;
        }
        waiter = g_new0(Waiter, 1);
        waiter->invocation = g_object_ref(invocation);
        waiter->action = g_strdup(action);
        waiter->object = g_object_ref(object);
        waiter->func = func;
        if (caller) {
                g_queue_push_tail(&caller->waiters, waiter);
                return;
        }
        caller = g_new0(Caller, 1);
        g_queue_push_tail(&caller->waiters, waiter);
        g_hash_table_insert(self->callers, g_strdup(sender), caller);

        lookup = g_new0(Lookup, 1);
        lookup->auth = g_object_ref(self);
        lookup->sender = g_strdup(sender);
        g_dbus_connection_call(self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetConnectionUnixUser",
                               g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"),
                               G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_uid, lookup);
}

static void on_name_owner_changed(GDBusConnection *connection, const char *sender_name,
                                  const char *object_path, const char *interface_name,
                                  const char *signal_name, GVariant *parameters, gpointer user_data)
{
        ZumaAuth *self = user_data;
        const char *name, *old_owner, *new_owner;
        Caller *caller;

        if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sss)")))
                return;
        g_variant_get(parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
        if (name[0] != ':' || new_owner[0] != '\0')
                return;
        caller = g_hash_table_lookup(self->callers, name);
        if (!caller)
                return;
        if (caller->known)
                g_hash_table_remove(self->callers, name);
        else
                caller->gone = TRUE;
}

ZumaAuth *zuma_auth_new(GDBusConnection *connection)
{
        ZumaAuth *self = g_object_new(ZUMA_TYPE_AUTH, NULL);

        self->connection = g_object_ref(connection);
        self->name_owner_changed_id = g_dbus_connection_signal_subscribe(
                connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
                "/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed,
                self, NULL);
        return self;
}

static void zuma_auth_dispose(GObject *object)
{
        ZumaAuth *self = ZUMA_AUTH(object);

        if (self->name_owner_changed_id) {
                g_dbus_connection_signal_unsubscribe(self->connection, self->name_owner_changed_id);
                self->name_owner_changed_id = 0;
        }
        g_clear_pointer(&self->callers, g_hash_table_unref);
        g_clear_object(&self->connection);
        G_OBJECT_CLASS(zuma_auth_parent_class)->dispose(object);
}

static void zuma_auth_class_init(ZumaAuthClass *klass)
{
        G_OBJECT_CLASS(klass)->dispose = zuma_auth_dispose;
}

static void zuma_auth_init(ZumaAuth *self)
{
        self->callers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, caller_free);
}
