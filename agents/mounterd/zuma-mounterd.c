/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-mounterd: mounts each running volume's origin where its
 * configuration says and its snapshots read-only, following
 * zuma-snapshotd.  Owns org.zumastor.Mounter1 on the system bus (or the
 * bus given with --bus-address) and keeps each volume's mount
 * configuration in its state directory (zuma-mount-config.h).
 *
 * The daemon's life is zuma_daemon_run()'s (agents/common/zuma-daemon.h):
 * directories locked, bus connected, load() reads the configurations and
 * exports the Manager, the name is taken, and the first reconcile runs
 * from the main loop once the server is seen.  SIGTERM and SIGINT end it:
 * shutdown() unmounts what it mounted (never lazily; a busy mount stays
 * and is logged), so a stopped mounter leaves nothing behind it cannot
 * explain, and a started one mounts again.
 *
 * It must run in the host's mount namespace: its unit has no
 * ProtectSystem=, PrivateTmp= and the like (mounts made in a private
 * namespace are seen by nobody else).
 */
#define G_LOG_DOMAIN "zuma-mounterd"

#include "zuma-config.h"
#include "zuma-daemon.h"
#include "zuma-error.h"
#include "zuma-mount-config.h"
#include "zuma-mounter.h"
#include "zuma-names.h"

typedef struct {
        char *mount_root;
        char *template;
        ZumaMounter *mounter;
} Mounterd;

static gboolean check_options(ZumaDaemon *daemon, gpointer user_data, GError **error)
{
        Mounterd *mounterd = user_data;
        g_autoptr(GError) local = NULL;
        g_autofree char *root = NULL;

        if (mounterd->template && mounterd->mount_root) {
                g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    "--template and --mount-root: give one of them");
                return FALSE;
        }
        if (!mounterd->template) {
                if (!zuma_mount_check_point("mount root",
                                            mounterd->mount_root ? mounterd->mount_root
                                                                 : ZUMA_MOUNT_DEFAULT_ROOT,
                                            &root, &local)) {
                        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    "--mount-root: %s", local->message);
                        return FALSE;
                }
                mounterd->template = g_build_filename(root, ZUMA_MOUNT_TEMPLATE_TAIL, NULL);
        }
        if (!zuma_mount_check_template(mounterd->template, &local)) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--template: %s",
                            local->message);
                return FALSE;
        }
        return TRUE;
}

static gboolean load(ZumaDaemon *daemon, gpointer user_data, GError **error)
{
        Mounterd *mounterd = user_data;
        const ZumaMounterSetup setup = {
                .connection = zuma_daemon_get_connection(daemon),
                .auth = zuma_daemon_get_auth(daemon),
                .state_dir = zuma_daemon_get_state_dir(daemon),
                .default_template = mounterd->template,
        };

        mounterd->mounter = zuma_mounter_new(&setup);
        return zuma_mounter_load(mounterd->mounter, error);
}

static char *describe(ZumaDaemon *daemon, gpointer user_data)
{
        Mounterd *mounterd = user_data;

        return zuma_mounter_describe(mounterd->mounter);
}

static void shutdown_mounts(ZumaDaemon *daemon, gpointer user_data)
{
        Mounterd *mounterd = user_data;

        zuma_mounter_shutdown(mounterd->mounter);
}

static void cleanup(ZumaDaemon *daemon, gpointer user_data)
{
        Mounterd *mounterd = user_data;

        g_clear_pointer(&mounterd->mounter, zuma_mounter_free);
}

int main(int argc, char **argv)
{
        Mounterd mounterd = { 0 };
        const GOptionEntry entries[] = {
                { "mount-root", 0, 0, G_OPTION_ARG_FILENAME, &mounterd.mount_root,
                  "Mount snapshots at DIR/VOLUME@SNAPSHOT unless a volume's configuration "
                  "says otherwise (default " ZUMA_MOUNT_DEFAULT_ROOT ")",
                  "DIR" },
                { "template", 0, 0, G_OPTION_ARG_FILENAME, &mounterd.template,
                  "The default template of snapshot mount points, with {volume} and {snapshot} "
                  "(instead of --mount-root)",
                  "TEMPLATE" },
                G_OPTION_ENTRY_NULL
        };
        const ZumaDaemonSpec spec = {
                .name = "zuma-mounterd",
                .summary = "- Zumastor volume and snapshot mounter",
                .bus_name = ZUMA_MOUNTERD_BUS_NAME,
                .object_root = ZUMA_MOUNTERD_OBJECT_ROOT,
                .state_dir = ZUMA_STATE_DIR "/mounter",
                .run_dir = ZUMA_RUN_DIR "/mounter",
                .entries = entries,
                .user_data = &mounterd,
                .check_options = check_options,
                .load = load,
                .describe = describe,
                .shutdown = shutdown_mounts,
                .cleanup = cleanup,
        };
        int status = zuma_daemon_run(&spec, argc, argv);

        g_free(mounterd.mount_root);
        g_free(mounterd.template);
        return status;
}
