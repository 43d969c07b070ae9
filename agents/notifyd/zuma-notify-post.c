/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-notifyd"

#include "zuma-notify-post.h"

#include <string.h>

/* A server that takes longer than this is as good as absent. */
#define NOTIFY_TIMEOUT_MS 5000
/* The notification server decides how long it stays up. */
#define EXPIRE_DEFAULT (-1)

struct ZumaPoster {
        GDBusConnection *session;
        guint watch_id;
        gboolean failing;          /* the last post failed: log further failures at debug */
        GCancellable *cancellable; /* posts in flight, cancelled when freed */
        gboolean markup;           /* the server reads markup in bodies */
        ZumaServerGoneFunc server_gone;
        gpointer user_data;
};

typedef struct {
        ZumaPoster *poster;
        char *summary;
        ZumaPostedFunc done;
        gpointer done_data;
        GDestroyNotify destroy;
} Post;

static void post_free(Post *post)
{
        if (post->destroy)
                post->destroy(post->done_data);
        g_free(post->summary);
        g_free(post);
}

static void on_capabilities(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autofree const char **capabilities = NULL;
        ZumaPoster *self;

        reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                return;
        self = user_data;
        if (!reply) {
                g_debug("no capabilities from the notification server: %s", error->message);
                return;
        }
        g_variant_get(reply, "(^a&s)", &capabilities);
        self->markup = g_strv_contains(capabilities, "body-markup");
        g_debug("the notification server %s markup in bodies", self->markup ? "reads" : "ignores");
}

static void on_server_appeared(GDBusConnection *connection, const char *name, const char *owner,
                               gpointer user_data)
{
        ZumaPoster *self = user_data;

        g_info("notification server %s is on the session bus (%s)", name, owner);
        g_dbus_connection_call(self->session, name, ZUMA_NOTIFICATIONS_PATH,
                               ZUMA_NOTIFICATIONS_BUS_NAME, "GetCapabilities", NULL,
                               G_VARIANT_TYPE("(as)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                               NOTIFY_TIMEOUT_MS, self->cancellable, on_capabilities, self);
}

static void on_server_vanished(GDBusConnection *connection, const char *name, gpointer user_data)
{
        ZumaPoster *self = user_data;

        g_info("no notification server (%s) on the session bus", name);
        self->markup = TRUE;
        if (self->server_gone)
                self->server_gone(self->user_data);
}

ZumaPoster *zuma_poster_new(GDBusConnection *session, ZumaServerGoneFunc server_gone,
                            gpointer user_data)
{
        ZumaPoster *self = g_new0(ZumaPoster, 1);

        self->session = g_object_ref(session);
        self->cancellable = g_cancellable_new();
        self->markup = TRUE;
        self->server_gone = server_gone;
        self->user_data = user_data;
        self->watch_id = g_bus_watch_name_on_connection(
                session, ZUMA_NOTIFICATIONS_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                on_server_appeared, on_server_vanished, self, NULL);
        return self;
}

void zuma_poster_free(ZumaPoster *self)
{
        if (!self)
                return;
        /* Replies still to come find their post cancelled and touch
         * nothing of self. */
        g_cancellable_cancel(self->cancellable);
        g_object_unref(self->cancellable);
        g_bus_unwatch_name(self->watch_id);
        g_object_unref(self->session);
        g_free(self);
}

static void on_notify_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Post *post = user_data;
        ZumaPoster *self = post->poster;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        guint32 id = 0;

        reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                post_free(post);
                return;
        }
        if (reply) {
                g_variant_get(reply, "(u)", &id);
                if (self->failing)
                        g_info("notifications go through again");
                self->failing = FALSE;
                g_debug("posted \"%s\" as notification %u", post->summary, id);
        } else if (!self->failing) {
                self->failing = TRUE;
                g_info("cannot post notifications (dropping them until one goes through): %s",
                       error->message);
        } else {
                g_debug("dropped \"%s\": %s", post->summary, error->message);
        }
        if (post->done)
                post->done(id, post->done_data);
        post_free(post);
}

/* &, < and >: what the specification's body markup needs escaped (quotes
 * stay readable for servers that print the raw body). */
static char *escape_markup(const char *text)
{
        GString *escaped = g_string_sized_new(strlen(text));

        for (const char *p = text; *p; p++) {
                if (*p == '&')
                        g_string_append(escaped, "&amp;");
                else if (*p == '<')
                        g_string_append(escaped, "&lt;");
                else if (*p == '>')
                        g_string_append(escaped, "&gt;");
                else
                        g_string_append_c(escaped, *p);
        }
        return g_string_free(escaped, FALSE);
}

/* The body as the server is to get it: cut short, escaped for markup. */
static char *body_text(const ZumaPoster *self, const char *body)
{
        g_autofree char *cut = NULL;

        if (g_utf8_strlen(body, -1) > ZUMA_NOTIFY_BODY_MAX) {
                g_autofree char *head = g_utf8_substring(body, 0, ZUMA_NOTIFY_BODY_MAX - 1);

                cut = g_strconcat(head, "…", NULL);
                body = cut;
        }
        return self->markup ? escape_markup(body) : g_strdup(body);
}

void zuma_poster_post(ZumaPoster *self, const ZumaMessage *message, guint32 replaces_id,
                      ZumaPostedFunc done, gpointer done_data, GDestroyNotify destroy)
{
        static const char *const no_actions[] = { NULL };
        g_autofree char *body = body_text(self, message->body);
        GVariantBuilder hints;
        Post *post = g_new0(Post, 1);

        post->poster = self;
        post->summary = g_strdup(message->summary);
        post->done = done;
        post->done_data = done_data;
        post->destroy = destroy;
        g_variant_builder_init(&hints, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&hints, "{sv}", "urgency",
                              g_variant_new_byte((guchar)message->urgency));
        g_variant_builder_add(&hints, "{sv}", "desktop-entry",
                              g_variant_new_string("zuma-notifyd"));
        g_debug("posting \"%s\" (urgency %d, replaces %u)", message->summary, message->urgency,
                replaces_id);
        g_dbus_connection_call(self->session, ZUMA_NOTIFICATIONS_BUS_NAME, ZUMA_NOTIFICATIONS_PATH,
                               ZUMA_NOTIFICATIONS_BUS_NAME, "Notify",
                               g_variant_new("(susss^asa{sv}i)", ZUMA_NOTIFICATIONS_APP_NAME,
                                             replaces_id, "drive-harddisk", message->summary,
                                             message->body, no_actions, &hints, EXPIRE_DEFAULT),
                               G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, NOTIFY_TIMEOUT_MS,
                               self->cancellable, on_notify_reply, post);
}
