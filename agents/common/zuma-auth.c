/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-auth"

#include "zuma-auth.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>

#include "zuma-config.h"
#include "zuma-error.h"
#include "zuma-reply.h"

#if ZUMA_HAVE_POLKIT
#include <polkit/polkit.h>
#endif

/* At most this many groups are read for one caller (NGROUPS_MAX is 65536;
 * anything past it cannot be the admin group's only place in the list of a
 * sane process, and bounds the work an odd /proc line costs). */
#define MAX_GROUPS 65536

struct _ZumaAuth {
        GObject parent_instance;
        GDBusConnection *connection;
        guint name_owner_changed_id;
        GHashTable *callers; /* unique name → Caller */
        gboolean has_admin_gid;
        guint32 admin_gid;
        char *description; /* "root or group zumastor" */
        const ZumaCredentialSource *source;
#if ZUMA_HAVE_POLKIT
        PolkitAuthority *polkit; /* NULL until connected, or without polkit */
        gboolean use_polkit;
#endif
};

G_DEFINE_TYPE(ZumaAuth, zuma_auth, G_TYPE_OBJECT)

static guint32 current_uid = ZUMA_UID_UNKNOWN;

guint32 zuma_auth_get_current_uid(void)
{
        return current_uid;
}

/* --- the uid and group rule --- */

static gboolean parse_ids(const char *text, guint max, GArray *ret_ids, GError **error)
{
        g_auto(GStrv) words = g_strsplit_set(text, " \t", -1);
        guint n = 0;

        for (guint i = 0; words[i]; i++) {
                guint64 id;

                if (!words[i][0])
                        continue;
                if (!g_ascii_string_to_unsigned(words[i], 10, 0, G_MAXUINT32 - 1, &id, error))
                        return FALSE;
                if (++n > max) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED, "more than %u ids", max);
                        return FALSE;
                }
                g_array_append_vals(ret_ids, &(guint32){ (guint32)id }, 1);
        }
        return TRUE;
}

gboolean zuma_auth_parse_proc_status(const char *text, guint32 uid, GArray *ret_gids,
                                     GError **error)
{
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_autoptr(GArray) gids = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(guint32));
        gboolean seen_groups = FALSE;

        for (guint i = 0; lines[i]; i++) {
                const char *line = lines[i];
                g_autoptr(GError) local = NULL;
                GArray *into = NULL;
                guint max = 4;

                if (g_str_has_prefix(line, "Uid:"))
                        into = uids;
                else if (g_str_has_prefix(line, "Gid:"))
                        into = gids;
                else if (g_str_has_prefix(line, "Groups:"))
                        into = groups, max = MAX_GROUPS, seen_groups = TRUE;
                if (!into)
                        continue;
                if (into->len || !parse_ids(strchr(line, ':') + 1, max, into, &local)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ACCESS_DENIED,
                                    "unexpected line in the caller's status: %.20s…%s%s", line,
                                    local ? ": " : "", local ? local->message : "");
                        return FALSE;
                }
        }
        if (uids->len < 2 || gids->len < 2 || !seen_groups) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_ACCESS_DENIED,
                                    "the caller's status has no Uid, Gid or Groups line");
                return FALSE;
        }
        /* Real and effective uid: a process the bus did not vouch for (the
         * caller exited, its pid was reused) is not asked about. */
        if (g_array_index(uids, guint32, 0) != uid || g_array_index(uids, guint32, 1) != uid) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ACCESS_DENIED,
                            "the caller's process no longer runs as uid %u", uid);
                return FALSE;
        }
        g_array_append_vals(ret_gids, &g_array_index(gids, guint32, 1), 1);
        g_array_append_vals(ret_gids, groups->data, groups->len);
        return TRUE;
}

static gboolean proc_get_groups(guint32 pid, guint32 uid, GArray *ret_gids, gpointer data,
                                GError **error)
{
        g_autofree char *path = g_strdup_printf("/proc/%u/status", pid);
        g_autofree char *text = NULL;

        if (pid == 0) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_ACCESS_DENIED,
                                    "the bus did not tell the caller's process");
                return FALSE;
        }
        if (!g_file_get_contents(path, &text, NULL, error))
                return FALSE;
        return zuma_auth_parse_proc_status(text, uid, ret_gids, error);
}

const ZumaCredentialSource zuma_credential_source_proc = { proc_get_groups, NULL };

static gboolean gids_contain(const GArray *gids, guint32 gid)
{
        for (guint i = 0; i < gids->len; i++)
                if (g_array_index(gids, guint32, i) == gid)
                        return TRUE;
        return FALSE;
}

ZumaAuthVerdict zuma_auth_decide(guint32 uid, const GArray *gids, guint32 pid,
                                 gboolean has_admin_gid, guint32 admin_gid,
                                 const ZumaCredentialSource *source, GError **error)
{
        g_autoptr(GArray) read = NULL;

        if (uid == 0)
                return ZUMA_AUTH_ALLOWED_ROOT;
        if (!has_admin_gid || uid == ZUMA_UID_UNKNOWN)
                return ZUMA_AUTH_DENIED;
        if (!gids) {
                read = g_array_new(FALSE, FALSE, sizeof(guint32));
                if (!source->get_groups(pid, uid, read, source->data, error))
                        return ZUMA_AUTH_DENIED;
                gids = read;
        }
        return gids_contain(gids, admin_gid) ? ZUMA_AUTH_ALLOWED_GROUP : ZUMA_AUTH_DENIED;
}

/* --- callers on the bus --- */

typedef struct Waiter {
        GDBusMethodInvocation *invocation;
        char *action;
        GObject *object;
        ZumaAuthFunc func;
        gpointer user_data;
} Waiter;

typedef struct Caller {
        gboolean known;
        gboolean gone; /* left the bus while its lookup was pending */
        guint32 uid;
        guint32 pid;
        GArray *gids;   /* from the bus, or NULL: read on demand */
        char *problem;  /* why the caller is unknown, once the lookup failed */
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
        if (caller->gids)
                g_array_unref(caller->gids);
        g_free(caller->problem);
        g_free(caller);
}

static void run_authorized(Waiter *waiter, guint32 uid)
{
        guint32 saved = current_uid;

        current_uid = uid;
        waiter->func(waiter->object, waiter->invocation, waiter->user_data);
        current_uid = saved;
}

static void refuse(ZumaAuth *self, Waiter *waiter, guint32 uid, const char *why)
{
        const char *sender = g_dbus_method_invocation_get_sender(waiter->invocation);
        const char *method = g_dbus_method_invocation_get_method_name(waiter->invocation);

        g_message("refused %s from uid %u (%s): only %s may %s%s%s", method, uid, sender,
                  self->description, waiter->action, why ? ": " : "", why ? why : "");
        zuma_reply_error(waiter->invocation, ZUMA_ERROR_ACCESS_DENIED, "only %s may %s",
                         self->description, waiter->action);
}

#if ZUMA_HAVE_POLKIT
/* polkitd answers a check that may not ask the user at once; one it has not
 * answered in this time it will not (hung, stopped), and the caller, whose
 * own call gives up after 25 s by default, gets a refusal rather than no
 * answer.  A check that may ask the user (a password dialog) waits for
 * polkitd as long as the caller does. */
#define POLKIT_CHECK_TIMEOUT_S 15

typedef struct PolkitCheck {
        ZumaAuth *auth;
        Waiter *waiter;
        guint32 uid;
        GCancellable *cancellable;
        guint timeout_id;
} PolkitCheck;

static gboolean on_polkit_timeout(gpointer user_data)
{
        PolkitCheck *check = user_data;

        check->timeout_id = 0;
        g_cancellable_cancel(check->cancellable);
        return G_SOURCE_REMOVE;
}

static void on_polkit_checked(GObject *source, GAsyncResult *result, gpointer user_data)
{
        PolkitCheck *check = user_data;
        g_autoptr(ZumaAuth) self = check->auth;
        g_autoptr(GCancellable) cancellable = check->cancellable;
        Waiter *waiter = check->waiter;
        guint32 uid = check->uid;
        g_autoptr(PolkitAuthorizationResult) answer = NULL;
        g_autoptr(GError) error = NULL;

        g_clear_handle_id(&check->timeout_id, g_source_remove);
        g_free(check);
        answer = polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), result,
                                                             &error);
        if (answer && polkit_authorization_result_get_is_authorized(answer)) {
                g_debug("%s from uid %u: allowed by polkit",
                        g_dbus_method_invocation_get_method_name(waiter->invocation), uid);
                run_authorized(waiter, uid);
        } else if (g_cancellable_is_cancelled(cancellable)) {
                refuse(self, waiter, uid,
                       "polkitd did not answer in " G_STRINGIFY(POLKIT_CHECK_TIMEOUT_S) " s");
        } else {
                refuse(self, waiter, uid,
                       error ? error->message
                             : "polkit did not authorize " ZUMA_POLKIT_ACTION_MANAGE);
        }
        waiter_free(waiter);
}

/* Takes waiter; TRUE if polkit will decide. */
static gboolean ask_polkit(ZumaAuth *self, Waiter *waiter, guint32 uid)
{
        g_autoptr(PolkitSubject) subject = NULL;
        g_autoptr(PolkitDetails) details = NULL;
        PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
        GDBusMessage *message = g_dbus_method_invocation_get_message(waiter->invocation);
        PolkitCheck *check;

        /* polkitd need not be running now: the call starts it (bus
         * activation, as on a system bus); a bus that cannot start it
         * answers at once, and the caller is refused. */
        if (!self->polkit)
                return FALSE;
        if (g_dbus_message_get_flags(message) &
            G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
                flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
        subject =
                polkit_system_bus_name_new(g_dbus_method_invocation_get_sender(waiter->invocation));
        details = polkit_details_new();
        polkit_details_insert(details, "zumastor.action", waiter->action);
        check = g_new0(PolkitCheck, 1);
        check->auth = g_object_ref(self);
        check->waiter = waiter;
        check->uid = uid;
        check->cancellable = g_cancellable_new();
        if (!(flags & POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION))
                check->timeout_id =
                        g_timeout_add_seconds(POLKIT_CHECK_TIMEOUT_S, on_polkit_timeout, check);
        polkit_authority_check_authorization(self->polkit, subject, ZUMA_POLKIT_ACTION_MANAGE,
                                             details, flags, check->cancellable, on_polkit_checked,
                                             check);
        return TRUE;
}
#endif

/* Takes waiter. */
static void decide(ZumaAuth *self, const Caller *caller, Waiter *waiter)
{
        const char *sender = g_dbus_method_invocation_get_sender(waiter->invocation);
        const char *method = g_dbus_method_invocation_get_method_name(waiter->invocation);
        g_autoptr(GError) error = NULL;
        ZumaAuthVerdict verdict;

        if (caller->problem) {
                g_message("refused %s from %s: cannot identify the caller: %s", method, sender,
                          caller->problem);
                zuma_reply_error_literal(waiter->invocation, ZUMA_ERROR_ACCESS_DENIED,
                                         "cannot identify the caller");
                waiter_free(waiter);
                return;
        }
        verdict = zuma_auth_decide(caller->uid, caller->gids, caller->pid, self->has_admin_gid,
                                   self->admin_gid, self->source, &error);
        if (verdict != ZUMA_AUTH_DENIED) {
                g_debug("%s from uid %u (%s): %s", method, caller->uid, sender,
                        verdict == ZUMA_AUTH_ALLOWED_ROOT ? "root" : "administrators' group");
                run_authorized(waiter, caller->uid);
                waiter_free(waiter);
                return;
        }
#if ZUMA_HAVE_POLKIT
        if (self->use_polkit && ask_polkit(self, waiter, caller->uid))
                return;
#endif
        refuse(self, waiter, caller->uid, error ? error->message : NULL);
        waiter_free(waiter);
}

typedef struct Lookup {
        ZumaAuth *auth;
        char *sender;
} Lookup;

static void read_credentials(Caller *caller, GVariant *reply)
{
        g_autoptr(GVariant) creds = g_variant_get_child_value(reply, 0);
        g_autoptr(GVariant) groups = NULL;

        if (!g_variant_lookup(creds, "UnixUserID", "u", &caller->uid)) {
                caller->problem = g_strdup("the bus did not tell the caller's uid");
                return;
        }
        if (!g_variant_lookup(creds, "ProcessID", "u", &caller->pid))
                caller->pid = 0;
        groups = g_variant_lookup_value(creds, "UnixGroupIDs", G_VARIANT_TYPE("au"));
        if (groups) {
                gsize n;
                const guint32 *ids = g_variant_get_fixed_array(groups, &n, sizeof(guint32));

                caller->gids = g_array_sized_new(FALSE, FALSE, sizeof(guint32), (guint)n);
                g_array_append_vals(caller->gids, ids, (guint)n);
        }
}

static void on_credentials(GObject *source, GAsyncResult *result, gpointer user_data)
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
                read_credentials(caller, reply);
        else
                caller->problem = g_strdup(error->message);
        /* A waiter's method may run the main loop's sources, never this
         * table, so the queue stays ours while it drains. */
        while ((waiter = g_queue_pop_head(&caller->waiters)))
                decide(self, caller, waiter);
        if (caller->gone || caller->problem)
                g_hash_table_remove(self->callers, sender);
}

void zuma_auth_authorize(ZumaAuth *self, GDBusMethodInvocation *invocation, const char *action,
                         GObject *object, ZumaAuthFunc func, gpointer user_data)
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
        /* The method may drop the object's last other reference (a snapshot
         * deleting itself) and still complete on it: the waiter keeps it. */
        waiter = g_new0(Waiter, 1);
        waiter->invocation = g_object_ref(invocation);
        waiter->action = g_strdup(action);
        waiter->object = g_object_ref(object);
        waiter->func = func;
        waiter->user_data = user_data;
        caller = g_hash_table_lookup(self->callers, sender);
        if (caller && caller->known) {
                decide(self, caller, waiter);
                return;
        }
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
                               "org.freedesktop.DBus", "GetConnectionCredentials",
                               g_variant_new("(s)", sender), G_VARIANT_TYPE("(a{sv})"),
                               G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_credentials, lookup);
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

const char *zuma_auth_describe(ZumaAuth *self)
{
        return self->description;
}

#if ZUMA_HAVE_POLKIT
static void on_polkit_authority(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(ZumaAuth) self = user_data;
        g_autoptr(GError) error = NULL;
        PolkitAuthority *authority = polkit_authority_get_finish(result, &error);

        if (!authority) {
                g_message("polkit is not available (%s): root and group rules only",
                          error->message);
                return;
        }
        if (self->connection) {
                g_autofree char *owner = polkit_authority_get_owner(authority);

                /* The tests wait for this line before they count on polkit. */
                g_message("polkit: asking %s (%s) about callers the uid/group rule refuses",
                          ZUMA_POLKIT_ACTION_MANAGE, owner ? owner : "polkitd not running now");
                self->polkit = authority;
        } else {
                g_object_unref(authority);
        }
}
#endif

ZumaAuth *zuma_auth_new_full(GDBusConnection *connection, const ZumaAuthOptions *options)
{
        ZumaAuth *self = g_object_new(ZUMA_TYPE_AUTH, NULL);
        const char *group = options->admin_group ? options->admin_group : ZUMA_ADMIN_GROUP;

        self->connection = connection ? g_object_ref(connection) : NULL;
        self->source = options->source ? options->source : &zuma_credential_source_proc;
        if (group[0]) {
                struct group *gr = getgrnam(group);

                if (gr) {
                        self->has_admin_gid = TRUE;
                        self->admin_gid = gr->gr_gid;
                        self->description = g_strdup_printf("root or group %s", group);
                } else {
                        g_message("administrators' group %s does not exist: only root may "
                                  "change anything",
                                  group);
                }
        }
        if (!self->description)
                self->description = g_strdup("root");
#if ZUMA_HAVE_POLKIT
        self->use_polkit = options->use_polkit;
        if (self->use_polkit)
                polkit_authority_get_async(NULL, on_polkit_authority, g_object_ref(self));
#endif
        if (connection)
                self->name_owner_changed_id = g_dbus_connection_signal_subscribe(
                        connection, "org.freedesktop.DBus", "org.freedesktop.DBus",
                        "NameOwnerChanged", "/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                        on_name_owner_changed, self, NULL);
        return self;
}

ZumaAuth *zuma_auth_new(GDBusConnection *connection)
{
        const ZumaAuthOptions options = { .use_polkit = TRUE };

        return zuma_auth_new_full(connection, &options);
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
#if ZUMA_HAVE_POLKIT
        g_clear_object(&self->polkit);
#endif
        G_OBJECT_CLASS(zuma_auth_parent_class)->dispose(object);
}

static void zuma_auth_finalize(GObject *object)
{
        ZumaAuth *self = ZUMA_AUTH(object);

        g_free(self->description);
        G_OBJECT_CLASS(zuma_auth_parent_class)->finalize(object);
}

static void zuma_auth_class_init(ZumaAuthClass *klass)
{
        G_OBJECT_CLASS(klass)->dispose = zuma_auth_dispose;
        G_OBJECT_CLASS(klass)->finalize = zuma_auth_finalize;
}

static void zuma_auth_init(ZumaAuth *self)
{
        self->callers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, caller_free);
}
