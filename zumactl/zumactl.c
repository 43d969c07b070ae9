/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zuma-config.h"
#include "zuma-error.h"
#include "zumactl-errors.h"

static const ZumactlCommand commands[] = {
        { "define",
          "volume VOL ORIGIN STORE | schedule VOL OPTIONS | target VOL ADDRESS | source VOL",
          "Define a volume, its snapshot schedule, or where it replicates to or from",
          "Records volume VOL on the ORIGIN and STORE devices and starts it.\n"
          "Relative device paths are taken from the working directory.\n"
          "\n"
          "define schedule VOL gives VOL a snapshot schedule (zuma-schedulerd):\n"
          "  --hourly N --daily N --weekly N --monthly N --yearly N\n"
          "  --every DURATION --keep N   --pre CMD --post CMD --command-timeout D\n"
          "define target VOL HOST[:PORT]|ssh://[USER@]HOST[:PORT] replicates VOL to\n"
          "another host (zuma-sendd):\n"
          "  --name N --period DURATION --after-snapshot --rate-limit RATE\n"
          "  --compress LEVEL --keep CLASS=N... --pin FINGERPRINT | --ca FILE --ssh-key FILE\n"
          "define source VOL receives replicas of VOL (zuma-recvd):\n"
          "  --listen ADDR:PORT --allow FINGERPRINT... --ca FILE\n"
          "'zumactl define target --help' and 'define source --help' show theirs.\n"
          "\n"
          "Examples:\n"
          "  zumactl define volume vol0 /dev/vg/data /dev/vg/snapstore --initialize\n"
          "  zumactl define schedule vol0 --hourly 24 --daily 7 --weekly 4 --monthly 12\n"
          "  zumactl define target vol0 backup.example.com --pin sha256:0f3a... --period 1h",
          zumactl_cmd_define },
        { "import", "STORE ORIGIN", "Adopt a store that hot-plug found and no volume owns",
          "Defines the volume whose store is on STORE, with the name and UUID its\n"
          "superblock records, on ORIGIN (the store does not record where its origin\n"
          "is), and starts it.  zumactl status lists the stores zuma-mounterd found\n"
          "that no volume owns.  --name VOL checks the name the store records.\n"
          "\n"
          "Example:\n"
          "  zumactl import /dev/sdc1 /dev/sdb1",
          zumactl_cmd_import },
        { "forget", "volume VOL | schedule VOL | target VOL | source VOL",
          "Forget a volume (its devices are left as they are), its schedule or replication",
          "Removes the definition of VOL; define it again (without --initialize)\n"
          "to bring it back.  forget schedule VOL stops VOL's scheduled snapshots\n"
          "(those taken stay).  forget target VOL [--name N] stops replicating VOL\n"
          "there (the replica stays); forget source VOL stops receiving it.\n"
          "\n"
          "Examples:\n"
          "  zumactl forget volume vol0 --force\n"
          "  zumactl forget schedule vol0\n"
          "  zumactl forget target vol0 --name offsite",
          zumactl_cmd_forget },
        { "start", "VOL", "Start a volume",
          "A store that can only open on an older commit (its newest superblock\n"
          "copies are damaged) keeps the volume failed; --accept-rollback opens it\n"
          "on the older commit anyway.\n"
          "\n"
          "Examples:\n"
          "  zumactl start vol0\n"
          "  zumactl start --accept-rollback vol0",
          zumactl_cmd_start },
        { "stop", "VOL", "Stop a volume", "Example:\n  zumactl stop vol0", zumactl_cmd_stop },
        { "snapshot", "VOL [NAME]", "Take a snapshot and print its name",
          "Without NAME the server names it VOL-YYYY-MM-DD-HH:MM:SS (UTC).\n"
          "\n"
          "Examples:\n"
          "  zumactl snapshot vol0\n"
          "  zumactl snapshot vol0 before-upgrade --pin --priority 10",
          zumactl_cmd_snapshot },
        { "delete", "VOL SNAP...", "Delete snapshots",
          "Deletes every SNAP named, or none if one is missing or busy.\n"
          "\n"
          "Example:\n"
          "  zumactl delete vol0 daily-1 daily-2",
          zumactl_cmd_delete },
        { "rename", "VOL SNAP NEWNAME", "Rename a snapshot",
          "Example:\n  zumactl rename vol0 vol0-2024-05-01-12:00:00 release-1.0",
          zumactl_cmd_rename },
        { "pin", "VOL SNAP", "Keep a snapshot from auto-deletion",
          "Example:\n  zumactl pin vol0 release-1.0", zumactl_cmd_pin },
        { "unpin", "VOL SNAP", "Let auto-deletion take a snapshot again",
          "Example:\n  zumactl unpin vol0 release-1.0", zumactl_cmd_unpin },
        { "priority", "VOL SNAP N", "Set a snapshot's auto-delete priority",
          "Lower priorities are auto-deleted first; N may be negative.\n"
          "\n"
          "Example:\n"
          "  zumactl priority vol0 hourly-3 -5",
          zumactl_cmd_priority },
        { "writable", "VOL SNAP on|off", "Make a snapshot's device writable or read-only",
          "An attached snapshot gets its device attached again in the new mode\n"
          "(the /dev/zumastor link follows); refused while the device is open.\n"
          "Example:\n  zumactl writable vol0 test on",
          zumactl_cmd_writable },
        { "attach", "VOL SNAP", "Attach a block device to a snapshot and print it",
          "The snapshot stays attached across restarts until it is detached.\n"
          "Example:\n  zumactl attach vol0 release-1.0",
          zumactl_cmd_attach },
        { "detach", "VOL SNAP", "Detach a snapshot's block device",
          "The snapshot stays detached when the volume starts again.\n"
          "Example:\n  zumactl detach vol0 release-1.0",
          zumactl_cmd_detach },
        { "revert", "VOL SNAP", "Rewrite the origin to a snapshot's image",
          "The origin device is detached while the revert runs; unmount it first.\n"
          "Every snapshot stays intact.\n"
          "A revert the store has no space for stops; grow the store (zumactl resize\n"
          "--store) or delete snapshots and run it again, or give it up with\n"
          "zumactl revert --abandon VOL (the origin stays partly reverted).\n"
          "\n"
          "Examples:\n"
          "  zumactl revert vol0 before-upgrade\n"
          "  zumactl revert --abandon vol0",
          zumactl_cmd_revert },
        { "resize", "VOL", "Take the grown size of the origin or store device",
          "Example:\n  lvextend -L +10G /dev/vg/snapstore && zumactl resize vol0 --store",
          zumactl_cmd_resize },
        { "policy", "VOL [refuse|autodelete]", "Show or set what happens when the store is full",
          "refuse: origin writes that need store space fail.\n"
          "autodelete: the lowest-priority, then oldest, unpinned snapshot is deleted.\n"
          "\n"
          "Example:\n"
          "  zumactl policy vol0 refuse",
          zumactl_cmd_policy },
        { "status", "[VOL [SNAP]]", "Show volumes, a volume and its snapshots, or a snapshot",
          "Examples:\n"
          "  zumactl status\n"
          "  zumactl status vol0 --usage\n"
          "  zumactl --json status vol0 release-1.0",
          zumactl_cmd_status },
        { "list", "[VOL]", "List volume names, or the snapshot names of VOL",
          "Examples:\n  zumactl list\n  zumactl list vol0", zumactl_cmd_list },
        { "schedule", "VOL", "Show a volume's snapshot schedule (zuma-schedulerd)",
          "The schedule, the next snapshot, the newest one and how many each\n"
          "class keeps.  Define one with zumactl define schedule.\n"
          "\n"
          "Example:\n"
          "  zumactl schedule vol0",
          zumactl_cmd_schedule },
        { "check", "VOL", "Check a volume's scheduled snapshots, Nagios-style",
          "Prints one status line and exits 0 (OK), 1 (WARNING: a snapshot is\n"
          "overdue), 2 (CRITICAL: none, or the newest is older than the max age)\n"
          "or 3 (UNKNOWN: no schedule, no scheduler).  docs/schedules.md has the rules.\n"
          "\n"
          "Examples:\n"
          "  zumactl check vol0\n"
          "  zumactl check vol0 --max-age 1d",
          zumactl_cmd_check },
        { "mount", "VOL", "Mount a volume and its snapshots where you say (zuma-mounterd)",
          "Saves where zuma-mounterd mounts VOL's origin (--at) and its snapshots\n"
          "(read-only, at --template; all, none or the newest N), and mounts them at\n"
          "once when VOL runs.  Snapshots follow as they are created, renamed and\n"
          "deleted.  Options not given keep the daemon's defaults.  The mounted\n"
          "snapshots get views (--views, on by default): a directory of links named\n"
          "@GMT-YYYY.MM.DD-HH.MM.SS (creation time, UTC) for Samba's shadow_copy2\n"
          "(--gmt-dir) and one by snapshot name (--names-dir).\n"
          "\n"
          "Examples:\n"
          "  zumactl mount vol0 --at /home\n"
          "  zumactl mount vol0 --at /srv/data --snapshots newest:5 --options noatime\n"
          "  zumactl mount vol0 --template '/srv/snap/{volume}/{snapshot}'\n"
          "  zumactl mount vol0 --at /srv/share --gmt-dir /srv/views/share.gmt",
          zumactl_cmd_mount },
        { "unmount", "VOL", "Unmount a volume and its snapshots, and forget where",
          "Unmounts everything zuma-mounterd mounted of VOL (never lazily: a mount\n"
          "a process uses stays, and the command fails Busy naming it) and forgets\n"
          "VOL's mount configuration.\n"
          "\n"
          "Example:\n"
          "  zumactl unmount vol0",
          zumactl_cmd_unmount },
        { "mounts", "[VOL]", "Show what zuma-mounterd mounted where",
          "Examples:\n"
          "  zumactl mounts\n"
          "  zumactl --json mounts vol0",
          zumactl_cmd_mounts },
        { "replicate", "VOL", "Bring a volume's replica up to date now (zuma-sendd)",
          "Sends what the target lacks of the snapshot (the newest by default):\n"
          "an incremental stream from the newest snapshot both hold, a full one\n"
          "when they hold none, the rest of a cut one.  Waits with a progress bar\n"
          "(bytes, rate, time left) and fails with the run's error.\n"
          "\n"
          "Examples:\n"
          "  zumactl replicate vol0\n"
          "  zumactl replicate vol0 --target offsite --snapshot release-1.0",
          zumactl_cmd_replicate },
        { "verify", "VOL", "Compare a snapshot with its replica by digest (zuma-sendd)",
          "Exits 0 only when the digests are the same, 1 when they differ.\n"
          "Without a known digest each side reads the snapshot: this takes time.\n"
          "\n"
          "Example:\n"
          "  zumactl verify vol0 --target offsite",
          zumactl_cmd_verify },
        { "help", "[COMMAND]", "Show help on zumactl or a command", NULL, NULL },
};

void zumactl_print(const char *text)
{
        fputs(text, stdout);
}

static const ZumactlCommand *command_find(const char *name)
{
        for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
                if (g_strcmp0(commands[i].name, name) == 0)
                        return &commands[i];
        }
        return NULL;
}

#define N_GLOBAL_ENTRIES 5

/* Fills entries (room for N_GLOBAL_ENTRIES) with the global options. */
static void global_entries_fill(ZumactlContext *ctx, GOptionEntry *entries, gboolean with_version)
{
        const GOptionEntry all[] = {
                { "bus-address", 0, 0, G_OPTION_ARG_STRING, &ctx->bus_address,
                  "Talk to the server on the bus at ADDRESS, not the system bus", "ADDRESS" },
                { "json", 0, 0, G_OPTION_ARG_NONE, &ctx->json, "Print the result as JSON", NULL },
                { "no-progress", 0, 0, G_OPTION_ARG_NONE, &ctx->no_progress,
                  "Draw no progress bar while waiting for a job", NULL },
                /* Only before the command. */
                { "version", 0, 0, G_OPTION_ARG_NONE, &ctx->version, "Print the version", NULL },
                G_OPTION_ENTRY_NULL,
        };
        guint n = G_N_ELEMENTS(all) - (with_version ? 1 : 2);

        memcpy(entries, all, n * sizeof(GOptionEntry));
        entries[n] = (GOptionEntry)G_OPTION_ENTRY_NULL;
}

gboolean zumactl_parse_options(ZumactlContext *ctx, const GOptionEntry *entries,
                               gboolean allow_negative, int *argc, char ***argv, GError **error)
{
        const ZumactlCommand *command = ctx->command;
        g_autofree char *parameters = g_strdup_printf("%s %s", command->name, command->parameters);
        g_autoptr(GOptionContext) context = g_option_context_new(parameters);
        g_autoptr(GOptionGroup) global = NULL;
        GOptionEntry global_entries[N_GLOBAL_ENTRIES];

        global_entries_fill(ctx, global_entries, FALSE);
        global = g_option_group_new("global", "Global options:", "Show global options", NULL, NULL);
        g_option_group_add_entries(global, global_entries);
        g_option_context_add_group(context, g_steal_pointer(&global));
        g_option_context_set_summary(context, command->summary);
        if (command->description != NULL)
                g_option_context_set_description(context, command->description);
        if (entries != NULL)
                g_option_context_add_main_entries(context, entries, NULL);
        /* "priority vol snap -5": leave what looks like an option but is not
         * one for the command to read (and reject) as a positional. */
        g_option_context_set_ignore_unknown_options(context, allow_negative);
        return g_option_context_parse(context, argc, argv, error);
}

gboolean zumactl_expect_arguments(ZumactlContext *ctx, int argc, char **argv, int min, int max,
                                  GError **error)
{
        g_auto(GStrv) words = g_strsplit(ctx->command->parameters, " ", -1);
        int given = argc - 1;

        if (given < min) {
                const char *missing = given < (int)g_strv_length(words) ? words[given] : "";
                g_autofree char *name = g_strdelimit(g_strdup(missing), "[].", ' ');

                return zumactl_usage_error(error, "missing %s", g_strstrip(name));
        }
        if (max >= 0 && given > max)
                return zumactl_usage_error(error, "unexpected argument '%s'", argv[max + 1]);
        return TRUE;
}

static char *commands_description(void)
{
        GString *out = g_string_new("Commands:\n");

        for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
                g_autofree char *usage =
                        g_strdup_printf("%s %s", commands[i].name, commands[i].parameters);

                g_string_append_printf(out, "  %-36s %s\n", usage, commands[i].summary);
        }
        g_string_append(out, "\nRun 'zumactl help COMMAND' for the options of a command.\n"
                             "Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 already "
                             "exists,\n5 busy, 6 access denied, 7 no space, 8 invalid argument, "
                             "9 corrupt,\n10 not running, 11 server unreachable.  See "
                             "zumactl(1).");
        return g_string_free(out, FALSE);
}

static GOptionContext *main_context_new(ZumactlContext *ctx, GOptionEntry *entries)
{
        GOptionContext *context = g_option_context_new("COMMAND [ARGUMENT...]");
        g_autofree char *description = commands_description();

        global_entries_fill(ctx, entries, TRUE);
        g_option_context_add_main_entries(context, entries, NULL);
        g_option_context_set_summary(context, "Control zuma-snapshotd: volumes and snapshots.");
        g_option_context_set_description(context, description);
        /* Options after the command belong to the command. */
        g_option_context_set_strict_posix(context, TRUE);
        return context;
}

static gboolean run_help(ZumactlContext *ctx, int argc, char **argv, GOptionContext *main_context,
                         GError **error)
{
        const ZumactlCommand *command;
        char *help_argv[] = { NULL, (char *)"--help", NULL };
        char **help_argvp = help_argv;
        int help_argc = 2;

        if (argc < 2 || g_strcmp0(argv[1], "help") == 0) {
                g_autofree char *text = g_option_context_get_help(main_context, TRUE, NULL);

                zumactl_print(text);
                return TRUE;
        }
        if (argc > 2)
                return zumactl_usage_error(error, "help takes one command");
        command = command_find(argv[1]);
        if (command == NULL || command->func == NULL)
                return zumactl_usage_error(error, "unknown command '%s'", argv[1]);
        /* The command's own option parser prints its help and exits. */
        ctx->command = command;
        help_argv[0] = (char *)command->name;
        return command->func(ctx, help_argc, help_argvp, error);
}

/* "zumactl: what was being done: why" on stderr, with a hint where one
 * helps. */
static void report_error(ZumactlContext *ctx, const ZumactlCommand *command, const GError *error)
{
        switch (zumactl_exit_code(error)) {
        case ZUMACTL_EXIT_USAGE:
                if (command == NULL) {
                        fprintf(stderr, "zumactl: %s\n", error->message);
                        fprintf(stderr, "Try 'zumactl --help' for the commands.\n");
                        return;
                }
                fprintf(stderr, "zumactl: %s: %s\n", command->name, error->message);
                fprintf(stderr, "Usage: zumactl %s %s\n", command->name, command->parameters);
                fprintf(stderr, "Try 'zumactl help %s' for more.\n", command->name);
                return;
        case ZUMACTL_EXIT_UNREACHABLE:
                /* A command for another daemon names it in its message. */
                fprintf(stderr, "zumactl: %s (%s%s)\n", error->message,
                        ctx->daemon != NULL ? "" : "is zuma-snapshotd running? ",
                        ctx->bus_address != NULL ? "is --bus-address right?"
                                                 : "is DBUS_SYSTEM_BUS_ADDRESS right?");
                return;
        default:
                fprintf(stderr, "zumactl: %s\n", error->message);
                return;
        }
}

static void context_clear(ZumactlContext *ctx)
{
        g_clear_object(&ctx->object_manager);
        g_clear_object(&ctx->manager);
        g_clear_object(&ctx->connection);
        g_clear_pointer(&ctx->bus_address, g_free);
}

int main(int argc, char **argv)
{
        ZumactlContext ctx = { 0 };
        g_autoptr(GOptionContext) main_context = NULL;
        g_autoptr(GError) error = NULL;
        GOptionEntry entries[N_GLOBAL_ENTRIES];
        const ZumactlCommand *command = NULL;
        ZumactlExit code;
        gboolean ok;

        setlocale(LC_ALL, "");
        g_set_prgname("zumactl");
        /* Register the error domain before any reply can carry one. */
        (void)zuma_error_quark();

        main_context = main_context_new(&ctx, entries);
        if (!g_option_context_parse(main_context, &argc, &argv, &error)) {
                ok = FALSE;
        } else if (ctx.version) {
                zumactl_print("zumactl " ZUMA_VERSION "\n");
                ok = TRUE;
        } else if (argc < 2) {
                ok = zumactl_usage_error(&error, "no command given");
        } else if (g_strcmp0(argv[1], "help") == 0) {
                ok = run_help(&ctx, argc - 1, argv + 1, main_context, &error);
                command = ctx.command;
        } else {
                command = command_find(argv[1]);
                if (command == NULL || command->func == NULL) {
                        ok = zumactl_usage_error(&error, "unknown command '%s'", argv[1]);
                } else {
                        ctx.command = command;
                        ok = command->func(&ctx, argc - 1, argv + 1, &error);
                        /* "define target" runs as a command of its own. */
                        command = ctx.command;
                }
        }
        fflush(stdout);

        code = ok ? (ZumactlExit)ctx.exit_status : zumactl_exit_code(error);
        if (!ok)
                report_error(&ctx, command, error);
        context_clear(&ctx);
        return (int)code;
}
