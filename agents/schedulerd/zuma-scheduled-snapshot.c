/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedulerd"

#include "zuma-scheduled-snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zuma-freeze.h"
#include "zuma-schedule-command.h"

static void run_command(const char *which, const char *command, const ZumaSchedule *schedule,
                        const ZumaSnapshotTaking *how, GString *warnings)
{
        g_autoptr(GError) error = NULL;

        if (!command)
                return;
        if (zuma_schedule_run_command(command, schedule->command_timeout, &error))
                return;
        g_warning("%s command failed: %s", which, error->message);
        g_string_append_printf(warnings, "%s%s command %s", warnings->len ? "; " : "", which,
                               error->message);
        if (how->command_failed)
                how->command_failed(which, error->message, how->user_data);
}

/* The test hook: the daemon stops here, frozen, until killed or until a
 * test opens the FIFO "resume" next to the marker for writing and closes
 * it; then it goes on with the snapshot.  The FIFO is made before the
 * marker is written, so a test that saw the marker can write to it. */
static void hang_frozen(const char *marker, const char *mount_point)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_path_get_dirname(marker);
        g_autofree char *resume = g_build_filename(dir, "resume", NULL);
        char buf[64];
        ssize_t n;
        int fd;

        g_message("--test-hang-after-freeze: %s is frozen; hanging until killed or resumed",
                  mount_point);
        if (unlink(resume) < 0 && errno != ENOENT)
                g_warning("cannot remove %s: %s", resume, g_strerror(errno));
        if (mkfifo(resume, 0600) < 0)
                g_warning("cannot make %s: %s; hanging until killed", resume, g_strerror(errno));
        if (!g_file_set_contents(marker, mount_point, -1, &error))
                g_warning("%s", error->message);
        do
                fd = open(resume, O_RDONLY | O_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd < 0) {
                g_warning("cannot open %s: %s; hanging until killed", resume, g_strerror(errno));
                for (;;)
                        pause();
        }
        do
                n = read(fd, buf, sizeof(buf));
        while (n > 0 || (n < 0 && errno == EINTR));
        close(fd);
        unlink(resume);
        g_message("--test-hang-after-freeze: resumed");
}

gboolean zuma_take_scheduled_snapshot(GDBusConnection *connection, const ZumaServerVolume *volume,
                                      const ZumaSchedule *schedule, const char *name,
                                      gint32 priority, const ZumaSnapshotTaking *how,
                                      char **ret_path, char **ret_warnings, GError **error)
{
        g_autoptr(GString) warnings = g_string_new(NULL);
        g_autofree char *mount_point = NULL;
        g_autoptr(GError) local = NULL;
        ZumaFreeze *freeze = NULL;
        gboolean created;

        run_command("pre", schedule->pre_command, schedule, how, warnings);

        if (volume->device[0]) {
                mount_point = zuma_find_mount_point(volume->device, &local);
                if (local) {
                        g_warning("%s", local->message);
                        g_clear_error(&local);
                }
        }
        if (mount_point) {
                freeze = zuma_freeze_begin(mount_point, how->freeze_timeout_ms, &local);
                if (!freeze) {
                        g_warning("%s; taking the snapshot without freezing", local->message);
                        g_string_append_printf(warnings, "%s%s", warnings->len ? "; " : "",
                                               local->message);
                        g_clear_error(&local);
                } else if (how->hang_marker) {
                        hang_frozen(how->hang_marker, mount_point);
                }
        }
        created = zuma_server_create_snapshot(connection, volume, name, priority,
                                              freeze ? (int)how->freeze_timeout_ms
                                                     : ZUMA_SERVER_CALL_TIMEOUT_MS,
                                              ret_path, error);
        if (freeze) {
                gint64 frozen_us = 0;

                if (!zuma_freeze_end(freeze, &frozen_us, &local)) {
                        g_warning("%s", local->message);
                        g_string_append_printf(warnings, "%s%s", warnings->len ? "; " : "",
                                               local->message);
                        g_clear_error(&local);
                }
                g_info("%s was frozen for %.1f ms", mount_point, frozen_us / 1000.0);
        }

        run_command("post", schedule->post_command, schedule, how, warnings);
        *ret_warnings = warnings->len ? g_strdup(warnings->str) : NULL;
        return created;
}
