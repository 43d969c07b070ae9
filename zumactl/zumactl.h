/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zumactl: the command line of zuma-snapshotd.  It talks to the server
 * over D-Bus only (org.zumastor.Zumastor1 on the system bus, or the bus
 * given with --bus-address) and holds no state of its own.
 *
 * Each command is a function taking the words after the command name.
 * It parses its options with zumactl_parse_options() (which adds the
 * global options, so they may follow the command too), checks what it can
 * check locally (usage errors, exit code 2, before any bus traffic),
 * then connects and asks the server.  Errors travel as GError up to
 * main(), which prints them and picks the exit code (zumactl-errors.h).
 */
#pragma once

#include <gio/gio.h>

#include <json-glib/json-glib.h>

#include "zuma-bus-generated.h"
#include "zuma-scheduler-generated.h"

G_BEGIN_DECLS

typedef struct ZumactlContext ZumactlContext;

typedef gboolean (*ZumactlCommandFunc)(ZumactlContext *ctx, int argc, char **argv, GError **error);

typedef struct {
        const char *name;        /* "status" */
        const char *parameters;  /* "[VOL [SNAP]]" */
        const char *summary;     /* one line for the command list */
        const char *description; /* details and examples for --help */
        ZumactlCommandFunc func;
} ZumactlCommand;

struct ZumactlContext {
        /* Global options. */
        char *bus_address;
        gboolean json;
        gboolean no_progress;
        gboolean version;
        /* The command being run. */
        const ZumactlCommand *command;
        /* Set by zumactl_bus_connect(). */
        GDBusConnection *connection;
        ZumaBusManager *manager;
        /* Set by zumactl_bus_load_objects() (status and list only). */
        GDBusObjectManager *object_manager;
        /* The exit status of a command that succeeded (check: 0, 1, 2 or 3;
         * verify: 1 when the digests differ). */
        int exit_status;
        /* The daemon the command talks to, named when it cannot be
         * reached; NULL for zuma-snapshotd. */
        const char *daemon;
};

/* Parses the options of ctx->command (entries may be NULL) plus the
 * global ones; leaves the command name and its positional arguments in
 * argc/argv.  Negative numbers stay positional when allow_negative. */
gboolean zumactl_parse_options(ZumactlContext *ctx, const GOptionEntry *entries,
                               gboolean allow_negative, int *argc, char ***argv, GError **error);

/* Fails with a usage error unless the command got from min to max
 * positional arguments (max -1: no limit). */
gboolean zumactl_expect_arguments(ZumactlContext *ctx, int argc, char **argv, int min, int max,
                                  GError **error);

/* Prints text as the command's result on stdout. */
void zumactl_print(const char *text);

/* The commands, one function each (zumactl-volume.c, zumactl-snapshot.c,
 * zumactl-status.c). */
gboolean zumactl_cmd_define(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_import(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_forget(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_start(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_stop(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_resize(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_policy(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_snapshot(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_delete(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_rename(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_pin(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_unpin(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_priority(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_writable(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_attach(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_detach(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_revert(ZumactlContext *ctx, int argc, char **argv, GError **error);

/* zumactl-schedule.c: schedules, answered by zuma-schedulerd. */
gboolean zumactl_cmd_define_schedule(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_forget_schedule(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_schedule(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_check(ZumactlContext *ctx, int argc, char **argv, GError **error);
/* The schedule of volume (a name or UUID); NotFound when it has none. */
ZumaSchedSchedule *zumactl_schedule_find(ZumactlContext *ctx, const char *volume,
                                         gboolean auto_start, GError **error);
/* What `zumactl status VOL` adds when zuma-schedulerd runs and has a
 * schedule for the volume of uuid (nothing otherwise): a "Schedule:" line
 * to human, a "schedule" member to builder (either may be NULL). */
void zumactl_schedule_status(ZumactlContext *ctx, const char *uuid, GString *human,
                             JsonBuilder *builder);
void zumactl_print_schedule(ZumactlContext *ctx, ZumaSchedSchedule *proxy);
/* zumactl-mount.c: mounts, answered by zuma-mounterd. */
gboolean zumactl_cmd_mount(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_unmount(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_mounts(ZumactlContext *ctx, int argc, char **argv, GError **error);
/* zumactl-replication.c: replication, answered by zuma-sendd and zuma-recvd. */
gboolean zumactl_cmd_define_target(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_define_source(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_forget_target(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_forget_source(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_replicate(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_verify(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_status(ZumactlContext *ctx, int argc, char **argv, GError **error);
gboolean zumactl_cmd_list(ZumactlContext *ctx, int argc, char **argv, GError **error);

G_END_DECLS
