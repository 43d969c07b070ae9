/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaAuth: who may call a mutating method.
 *
 * A caller may if it is uid 0, or a member of the administrators' group
 * (meson option admin_group, default "zumastor"; --admin-group overrides
 * it, "" turns the group rule off), or polkit says so for the action
 * org.zumastor.Zumastor1.manage (builds with libpolkit-gobject-1, daemons
 * on the system bus only).  Methods that only read are open to everyone
 * the bus policy lets in and never come here.
 *
 * Where the caller's identity comes from: the bus daemon, never the
 * caller.  GetConnectionCredentials on the sender gives its uid (from
 * SO_PEERCRED when it connected) and pid, and from a dbus-daemon that reports them (1.15 and
 * later) its groups (UnixGroupIDs, from SO_PEERGROUPS at connect: no race).  Without them
 * (Debian 12's dbus 1.14) the groups are read from /proc/PID/status
 * (effective gid and Groups:) of that pid.  The races of that fallback:
 * the caller may have exited and its pid been reused, so the file's real
 * and effective uid must both be the uid the bus reported, or the caller is
 * refused; a process of the same uid reusing the pid would lend its groups
 * (it could have made the call itself); groups changed after connecting
 * count as they are at the first call (the answer is cached per sender
 * until it leaves the bus).  With polkit the subject is the bus name, which
 * polkitd resolves itself; polkitd is asked at every such call (no answer
 * is kept), on the bus the daemon is on (libpolkit's system bus connection
 * is the daemon's own unless --bus-address), and a check that may not ask
 * the user is refused if polkitd has not answered in 15 s.
 *
 * The uid, groups and pid are asked once per sender and cached until the
 * sender leaves the bus (NameOwnerChanged); calls from one sender that
 * arrive while its lookup is pending run in the order they arrived.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A uid no caller has: not known, or the daemon itself. */
#define ZUMA_UID_UNKNOWN G_MAXUINT32

/* The polkit action of every mutating method (dbus/org.zumastor.Zumastor1.policy). */
#define ZUMA_POLKIT_ACTION_MANAGE "org.zumastor.Zumastor1.manage"

/* Where a caller's groups come from: tests pass a fake one. */
typedef struct ZumaCredentialSource {
        /* Appends the effective gid and the supplementary groups of process
         * pid, which the bus says runs as uid; FALSE with error when they
         * cannot be read or pid is not (or no longer) uid's. */
        gboolean (*get_groups)(guint32 pid, guint32 uid, GArray *ret_gids, gpointer data,
                               GError **error);
        gpointer data;
} ZumaCredentialSource;

/* Reads /proc/PID/status. */
extern const ZumaCredentialSource zuma_credential_source_proc;

/* Parses the text of a /proc/PID/status: the real and effective uid must
 * both be uid; appends the effective gid and the Groups: list. */
gboolean zuma_auth_parse_proc_status(const char *text, guint32 uid, GArray *ret_gids,
                                     GError **error);

typedef enum {
        ZUMA_AUTH_DENIED,
        ZUMA_AUTH_ALLOWED_ROOT,
        ZUMA_AUTH_ALLOWED_GROUP,
} ZumaAuthVerdict;

/* The uid and group rule alone: uid 0, or admin_gid (if has_admin_gid)
 * among gids (when the bus gave them) or among what source gives for pid.
 * A source failure is a refusal, explained in *error if asked. */
ZumaAuthVerdict zuma_auth_decide(guint32 uid, const GArray *gids, guint32 pid,
                                 gboolean has_admin_gid, guint32 admin_gid,
                                 const ZumaCredentialSource *source, GError **error);

typedef struct ZumaAuthOptions {
        /* NULL: the build's admin_group; "": uid 0 (and polkit) only.  A
         * group that does not exist is logged and ignored. */
        const char *admin_group;
        /* Ask polkitd (when built with it) for callers the rules above
         * refuse.  Only meaningful on the system bus. */
        gboolean use_polkit;
        /* NULL: /proc. */
        const ZumaCredentialSource *source;
} ZumaAuthOptions;

#define ZUMA_TYPE_AUTH (zuma_auth_get_type())
G_DECLARE_FINAL_TYPE(ZumaAuth, zuma_auth, ZUMA, AUTH, GObject)

/* Runs an authorised method call: object is the one passed to
 * zuma_auth_authorize() (kept alive until then). */
typedef void (*ZumaAuthFunc)(gpointer object, GDBusMethodInvocation *invocation,
                             gpointer user_data);

/* The build's defaults: its admin group, polkit when built with it. */
ZumaAuth *zuma_auth_new(GDBusConnection *connection);
ZumaAuth *zuma_auth_new_full(GDBusConnection *connection, const ZumaAuthOptions *options);

/* "root or group zumastor" (or "root"), for messages and the manual. */
const char *zuma_auth_describe(ZumaAuth *self);

/* Calls func(object, invocation, user_data) if the caller of invocation
 * may, now or once its identity is known; otherwise returns AccessDenied
 * ("only root or group zumastor may <action>") on the invocation. */
void zuma_auth_authorize(ZumaAuth *self, GDBusMethodInvocation *invocation, const char *action,
                         GObject *object, ZumaAuthFunc func, gpointer user_data);

/* The uid of the caller whose authorised function runs now (jobs record
 * it as StartedByUID); ZUMA_UID_UNKNOWN outside one (the daemon's own
 * work). */
guint32 zuma_auth_get_current_uid(void);

G_END_DECLS
