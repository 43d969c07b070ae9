/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Posting through org.freedesktop.Notifications on the session bus
 * (Notify, app_name "Zumastor", the hint "urgency" as a byte).
 *
 * The notification server may be absent, or come and go (a desktop
 * restarting, a test killing it).  A notification that cannot be posted
 * is dropped: nothing is queued or retried, so an absent server costs no
 * work.  The first failure after a success is logged (info), the ones
 * after it only at debug, until a post goes through again.  Each call may
 * start a server by D-Bus activation, as desktops expect.  The server's
 * name is watched so that ids it gave (for replaces_id) are forgotten when
 * it goes: a new server does not know them.
 *
 * Bodies carry text from the bus (a volume's LastError, a command's
 * failure): they are cut to ZUMA_NOTIFY_BODY_MAX characters, and escaped
 * for a server that reads markup in bodies (capability "body-markup",
 * asked when the server appears; assumed until it answers, as most do).
 */
#pragma once

#include <gio/gio.h>

#include "zuma-notify-message.h"

G_BEGIN_DECLS

#define ZUMA_NOTIFICATIONS_BUS_NAME "org.freedesktop.Notifications"
#define ZUMA_NOTIFICATIONS_PATH "/org/freedesktop/Notifications"
#define ZUMA_NOTIFICATIONS_APP_NAME "Zumastor"
#define ZUMA_NOTIFY_BODY_MAX 500 /* characters */

typedef struct ZumaPoster ZumaPoster;

/* The server gave this notification id (0: the post failed). */
typedef void (*ZumaPostedFunc)(guint32 id, gpointer user_data);

typedef void (*ZumaServerGoneFunc)(gpointer user_data);

/* server_gone runs when org.freedesktop.Notifications loses its owner. */
ZumaPoster *zuma_poster_new(GDBusConnection *session, ZumaServerGoneFunc server_gone,
                            gpointer user_data);
void zuma_poster_free(ZumaPoster *self);

/* Posts message, replacing notification replaces_id (0: a new one); done
 * (may be NULL) gets the id, then destroy(done_data). */
void zuma_poster_post(ZumaPoster *self, const ZumaMessage *message, guint32 replaces_id,
                      ZumaPostedFunc done, gpointer done_data, GDestroyNotify destroy);

G_END_DECLS
