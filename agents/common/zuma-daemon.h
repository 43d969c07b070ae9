/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma_daemon_run(): the main() of every Zumastor daemon.
 *
 * Start-up order, the same for each: parse the command line (the common
 * options --state-dir, --run-dir, --bus-address, --admin-group, --verbose,
 * --version, then the daemon's own); set up logging (the journal when
 * stderr goes to journald, plain lines on stderr otherwise); lock the
 * state and run directories (DIR/NAME.lock, flock: a second instance
 * fails here, before it touches anything); connect to the bus (the system
 * bus, the session bus for a session daemon, or --bus-address); run the
 * daemon's load(); only then take the bus name and tell systemd READY=1
 * and STATUS=, so a client that sees the name sees everything loaded.
 * SIGTERM and SIGINT end the main loop; STOPPING=1, the daemon's
 * shutdown() (its last signals still go out under the name), the name is
 * released, cleanup(), and the process exits.
 *
 * Exit status: 0 after a signal, 1 when the daemon could not start (lock,
 * bus, load, bus name) or lost the bus, 2 for a bad command line.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-auth.h"

G_BEGIN_DECLS

enum {
        ZUMA_EXIT_OK = 0,
        ZUMA_EXIT_FAILURE = 1, /* could not start, or lost the bus */
        ZUMA_EXIT_USAGE = 2,   /* bad command line */
};

typedef struct ZumaDaemon ZumaDaemon;

typedef struct ZumaDaemonSpec {
        /* "zuma-snapshotd": program name, lock file name, log lines. */
        const char *name;
        /* For --help: "- Zumastor snapshot server". */
        const char *summary;
        /* The well-known name taken once loaded: "org.zumastor.Zumastor1". */
        const char *bus_name;
        /* The daemon's object root: "/org/zumastor/Zumastor1". */
        const char *object_root;
        /* Defaults of --state-dir and --run-dir; NULL: the daemon has no
         * such directory (and no such option). */
        const char *state_dir;
        const char *run_dir;
        /* The session bus instead of the system bus (zuma-notifyd): no
         * caller authorization is set up there. */
        gboolean session_bus;
        /* The daemon's own options (NULL-terminated; may be NULL). */
        const GOptionEntry *entries;
        gpointer user_data;

        /* Checks the daemon's own options once parsed (may be NULL); FALSE
         * with error: a usage error. */
        gboolean (*check_options)(ZumaDaemon *daemon, gpointer user_data, GError **error);
        /* Loads the daemon's state and exports its objects, with the
         * directories locked and the bus connected, before the name is
         * taken.  FALSE with error: exit status 1. */
        gboolean (*load)(ZumaDaemon *daemon, gpointer user_data, GError **error);
        /* "2 of 3 volumes running", for STATUS= (may be NULL). */
        char *(*describe)(ZumaDaemon *daemon, gpointer user_data);
        /* Stops the daemon's work, the bus name still owned (may be NULL).
         * Runs after load() only. */
        void (*shutdown)(ZumaDaemon *daemon, gpointer user_data);
        /* Frees what load() made, the name released (may be NULL). */
        void (*cleanup)(ZumaDaemon *daemon, gpointer user_data);
} ZumaDaemonSpec;

int zuma_daemon_run(const ZumaDaemonSpec *spec, int argc, char **argv);

const ZumaDaemonSpec *zuma_daemon_get_spec(ZumaDaemon *self);
GDBusConnection *zuma_daemon_get_connection(ZumaDaemon *self);
/* Who may call mutating methods (NULL on the session bus). */
ZumaAuth *zuma_daemon_get_auth(ZumaDaemon *self);
/* Absolute; NULL when the spec has no such directory. */
const char *zuma_daemon_get_state_dir(ZumaDaemon *self);
const char *zuma_daemon_get_run_dir(ZumaDaemon *self);
/* --bus-address, or NULL for the system (or session) bus; valid from
 * check_options() on. */
const char *zuma_daemon_get_bus_address(ZumaDaemon *self);

/* A connection to the bus at address (a message bus: authenticated, Hello
 * sent), or to bus_type's bus when address is NULL.  What the daemon's own
 * connection is made with; for a daemon that needs a second bus too
 * (zuma-notifyd: the session bus for itself, the system bus to follow). */
GDBusConnection *zuma_daemon_connect_bus(GBusType bus_type, const char *address, GError **error);

/* Sends STATUS= from describe() (after something it counts changed). */
void zuma_daemon_update_status(ZumaDaemon *self);

/* Ends the main loop with exit_status (a fatal error of the daemon's). */
void zuma_daemon_quit(ZumaDaemon *self, int exit_status);

G_END_DECLS
