/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-method-table"

#include "zuma-method-table.h"

#include "zuma-error.h"
#include "zuma-reply.h"

GDBusMethodInvocation *zuma_call_defer(ZumaCall *call)
{
        if (!call->invocation)
                return NULL;
        call->deferred = TRUE;
        return g_object_ref(call->invocation);
}

/* "(sa{sv})" for a method's in- or out-arguments. */
static char *args_signature(GDBusArgInfo **args)
{
        GString *signature = g_string_new("(");

        for (guint i = 0; args && args[i]; i++)
                g_string_append(signature, args[i]->signature);
        g_string_append_c(signature, ')');
        return g_string_free(signature, FALSE);
}

static const ZumaMethod *find_method(const ZumaMethodTable *table, const char *name)
{
        for (guint i = 0; i < table->n_methods; i++)
                if (g_str_equal(table->methods[i].name, name))
                        return &table->methods[i];
        return NULL;
}

gboolean zuma_method_table_validate(const ZumaMethodTable *table, GError **error)
{
        GDBusInterfaceInfo *info = table->interface_info();

        for (guint i = 0; i < table->n_methods; i++) {
                const ZumaMethod *method = &table->methods[i];
                GDBusMethodInfo *method_info =
                        g_dbus_interface_info_lookup_method(info, method->name);
                guint n_args = 0;

                if (!method_info || !method->func || find_method(table, method->name) != method) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                                    "%s: table entry %s is not a method of the interface, has no "
                                    "function, or comes twice",
                                    info->name, method->name);
                        return FALSE;
                }
                while (method_info->in_args && method_info->in_args[n_args])
                        n_args++;
                if (n_args == 0 ||
                    !g_str_equal(method_info->in_args[n_args - 1]->signature, "a{sv}")) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                                    "%s.%s: the last argument must be the a{sv} options",
                                    info->name, method->name);
                        return FALSE;
                }
        }
        for (guint i = 0; info->methods && info->methods[i]; i++) {
                if (!find_method(table, info->methods[i]->name)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                                    "%s.%s has no entry in the method table", info->name,
                                    info->methods[i]->name);
                        return FALSE;
                }
        }
        return TRUE;
}

GVariant *zuma_method_table_call(const ZumaMethodTable *table, gpointer object, ZumaCall *call,
                                 GError **error)
{
        GDBusInterfaceInfo *info = table->interface_info();
        const ZumaMethod *method = find_method(table, call->method);
        GDBusMethodInfo *method_info =
                method ? g_dbus_interface_info_lookup_method(info, call->method) : NULL;
        g_autofree char *in_signature = NULL;
        g_autofree char *out_signature = NULL;
        g_autoptr(GVariant) options = NULL;
        g_autoptr(GVariant) reply = NULL;

        if (!method_info) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED, "%s has no method %s",
                            info->name, call->method);
                return NULL;
        }
        in_signature = args_signature(method_info->in_args);
        if (!call->params || !g_variant_is_of_type(call->params, G_VARIANT_TYPE(in_signature))) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s takes arguments of type '%s', not '%s'", call->method, in_signature,
                            call->params ? g_variant_get_type_string(call->params) : "()");
                return NULL;
        }
        options = g_variant_get_child_value(call->params, g_variant_n_children(call->params) - 1);
        call->options = options;
        call->deferred = FALSE;
        reply = method->func(object, call, error);
        call->options = NULL;
        if (!reply) {
                if (call->deferred)
                        return NULL;
                if (error && !*error) {
                        g_critical("%s returned neither a reply nor an error", call->method);
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED, "%s failed",
                                    call->method);
                }
                return NULL;
        }
        g_variant_ref_sink(reply);
        out_signature = args_signature(method_info->out_args);
        if (!g_variant_is_of_type(reply, G_VARIANT_TYPE(out_signature))) {
                g_critical("%s replied '%s', not '%s'", call->method,
                           g_variant_get_type_string(reply), out_signature);
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED, "%s failed", call->method);
                return NULL;
        }
        return g_steal_pointer(&reply);
}

/* --- on the bus --- */

struct ZumaMethodBinding {
        /* Not a reference: the skeleton may be the object itself (a face
         * subclassing the generated skeleton), which owns the binding. */
        GDBusInterfaceSkeleton *skeleton;
        GArray *handler_ids; /* gulong */
};

typedef struct Handler {
        const ZumaMethodTable *table;
        const ZumaMethod *method;
        ZumaAuth *auth;
        GObject *object; /* not a reference: the owner frees the binding first */
} Handler;

static gboolean check_or_reply(const ZumaMethodTable *table, gpointer object,
                               GDBusMethodInvocation *invocation)
{
        g_autoptr(GError) error = NULL;

        if (!table->check || table->check(object, &error))
                return TRUE;
        zuma_reply_gerror(invocation, error);
        return FALSE;
}

static void run(const Handler *handler, gpointer object, GDBusMethodInvocation *invocation,
                guint32 uid)
{
        ZumaCall call = {
                .invocation = invocation,
                .method = g_dbus_method_invocation_get_method_name(invocation),
                .params = g_dbus_method_invocation_get_parameters(invocation),
                .uid = uid,
        };
        g_autoptr(GError) error = NULL;
        GVariant *reply;

        if (!check_or_reply(handler->table, object, invocation))
                return;
        reply = zuma_method_table_call(handler->table, object, &call, &error);
        if (reply)
                g_dbus_method_invocation_return_value(invocation, reply);
        else if (!call.deferred)
                zuma_reply_gerror(invocation, error);
        if (reply)
                g_variant_unref(reply);
}

static void on_authorized(gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
        run(user_data, object, invocation, zuma_auth_get_current_uid());
}

static void marshal_handle(GClosure *closure, GValue *return_value, guint n_param_values,
                           const GValue *param_values, gpointer invocation_hint,
                           gpointer marshal_data)
{
        const Handler *handler = closure->data;
        GDBusMethodInvocation *invocation = g_value_get_object(&param_values[1]);

        /* Every handle-* signal: (skeleton, invocation, arguments...). */
        g_value_set_boolean(return_value, TRUE);
        if (!handler->method->action) {
                g_autoptr(GObject) keep = g_object_ref(handler->object);

                run(handler, keep, invocation, ZUMA_UID_UNKNOWN);
                return;
        }
        if (!check_or_reply(handler->table, handler->object, invocation))
                return;
        zuma_auth_authorize(handler->auth, invocation, handler->method->action, handler->object,
                            on_authorized, (gpointer)handler);
}

static void handler_free(gpointer data, GClosure *closure)
{
        Handler *handler = data;

        g_object_unref(handler->auth);
        g_free(handler);
}

/* gdbus-codegen's signal name: "CreateSnapshot" → "handle-create-snapshot". */
static char *handle_signal_name(const char *method)
{
        GString *name = g_string_new("handle");

        for (const char *p = method; *p; p++) {
                gboolean word_start =
                        g_ascii_isupper(*p) &&
                        (p == method || !g_ascii_isupper(p[-1]) || (p[1] && g_ascii_islower(p[1])));

                if (word_start || p == method)
                        g_string_append_c(name, '-');
                g_string_append_c(name, g_ascii_tolower(*p));
        }
        return g_string_free(name, FALSE);
}

ZumaMethodBinding *zuma_method_table_bind(const ZumaMethodTable *table,
                                          GDBusInterfaceSkeleton *skeleton, ZumaAuth *auth,
                                          GObject *object)
{
        g_autoptr(GError) error = NULL;
        ZumaMethodBinding *binding;

        if (!zuma_method_table_validate(table, &error))
                g_error("%s", error->message);
        binding = g_new0(ZumaMethodBinding, 1);
        binding->skeleton = skeleton;
        binding->handler_ids = g_array_new(FALSE, FALSE, sizeof(gulong));
        for (guint i = 0; i < table->n_methods; i++) {
                g_autofree char *signal = handle_signal_name(table->methods[i].name);
                Handler *handler = g_new0(Handler, 1);
                GClosure *closure;
                gulong id;

                if (!g_signal_lookup(signal, G_OBJECT_TYPE(skeleton)))
                        g_error("%s has no signal %s", G_OBJECT_TYPE_NAME(skeleton), signal);
                handler->table = table;
                handler->method = &table->methods[i];
                handler->auth = g_object_ref(auth);
                handler->object = object;
                closure = g_closure_new_simple(sizeof(GClosure), handler);
                g_closure_add_finalize_notifier(closure, handler, handler_free);
                g_closure_set_marshal(closure, marshal_handle);
                id = g_signal_connect_closure(skeleton, signal, closure, FALSE);
                g_array_append_val(binding->handler_ids, id);
        }
        return binding;
}

void zuma_method_binding_free(ZumaMethodBinding *binding)
{
        for (guint i = 0; i < binding->handler_ids->len; i++)
                g_signal_handler_disconnect(binding->skeleton,
                                            g_array_index(binding->handler_ids, gulong, i));
        g_array_unref(binding->handler_ids);
        g_free(binding);
}
