/* SPDX-License-Identifier: GPL-2.0-only */
#include "bus-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

typedef struct Signal {
        char *sender; /* the unique name of the daemon that sent it */
        char *path;
        char *member;
        GVariant *params;
} Signal;

GDBusConnection *test_bus;
static GQueue signals = G_QUEUE_INIT; /* Signal, in arrival order */
static guint subscription;

static void signal_free(Signal *s)
{
        g_free(s->sender);
        g_free(s->path);
        g_free(s->member);
        g_variant_unref(s->params);
        g_free(s);
}

static void on_signal(GDBusConnection *connection, const char *sender, const char *path,
                      const char *iface, const char *member, GVariant *params, gpointer data)
{
        Signal *s;

        if (!g_str_has_prefix(iface, ZUMA_INTERFACE_PREFIX))
                return;
        s = g_new0(Signal, 1);
        s->sender = g_strdup(sender);
        s->path = g_strdup(path);
        s->member = g_strdup(member);
        s->params = g_variant_ref(params);
        g_queue_push_tail(&signals, s);
}

static gboolean on_timeout(gpointer data)
{
        *(gboolean *)data = TRUE;
        return G_SOURCE_REMOVE;
}

/* Takes the first signal member on path whose parameters print as want
 * (NULL: any) and whose sender is sender (NULL: any) from the queue,
 * waiting for it up to SIGNAL_TIMEOUT_S. */
static GVariant *wait_signal_from(const char *sender, const char *path, const char *member,
                                  const char *want)
{
        gboolean timed_out = FALSE;
        guint timeout_id = g_timeout_add_seconds(SIGNAL_TIMEOUT_S, on_timeout, &timed_out);

        for (;;) {
                for (GList *l = signals.head; l; l = l->next) {
                        Signal *s = l->data;
                        g_autofree char *text = g_variant_print(s->params, TRUE);
                        GVariant *params;

                        if (!g_str_equal(s->path, path) || !g_str_equal(s->member, member) ||
                            (want && !g_str_equal(text, want)) ||
                            (sender && g_strcmp0(s->sender, sender) != 0))
                                continue;
                        params = g_variant_ref(s->params);
                        g_queue_delete_link(&signals, l);
                        signal_free(s);
                        if (!timed_out)
                                g_source_remove(timeout_id);
                        return params;
                }
                if (timed_out)
                        g_error("no signal %s%s%s on %s%s%s within %d s", member, want ? " " : "",
                                want ? want : "", path, sender ? " from " : "",
                                sender ? sender : "", SIGNAL_TIMEOUT_S);
                g_main_context_iteration(NULL, TRUE);
        }
}

GVariant *wait_signal(const char *path, const char *member, const char *want)
{
        return wait_signal_from(NULL, path, member, want);
}

/* The unique name of the daemon that owns BUS_NAME now. */
static char *daemon_unique_name(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                test_bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "GetNameOwner", g_variant_new("(s)", BUS_NAME), G_VARIANT_TYPE("(s)"),
                G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        char *owner;

        g_assert_no_error(error);
        g_variant_get(reply, "(s)", &owner);
        return owner;
}

/* The daemon sends a signal before the answer to the call that caused it,
 * and GDBus queues the signal for this thread before it hands the answer
 * over: after a call returns, letting queued signals in shows every signal
 * the call caused. */
void assert_no_signal(const char *path, const char *member)
{
        while (g_main_context_iteration(NULL, FALSE))
                ;
        for (GList *l = signals.head; l; l = l->next) {
                Signal *s = l->data;

                if (g_str_equal(s->path, path) && g_str_equal(s->member, member)) {
                        g_autofree char *text = g_variant_print(s->params, TRUE);

                        g_error("unexpected signal %s %s on %s", member, text, path);
                }
        }
}

/* Lets queued signals in, then forgets them all. */
void drain_signals(void)
{
        while (g_main_context_iteration(NULL, FALSE))
                ;
        g_queue_clear_full(&signals, (GDestroyNotify)signal_free);
}

/* Options from GVariant text, e.g. "{'force': <true>}", as the floating
 * value the generated proxies take over. */
GVariant *opts(const char *text)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) parsed =
                g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);
        GVariantBuilder builder;
        GVariantIter iter;
        GVariant *child;

        g_assert_no_error(error);
        g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
        g_variant_iter_init(&iter, parsed);
        while ((child = g_variant_iter_next_value(&iter))) {
                g_variant_builder_add_value(&builder, child);
                g_variant_unref(child);
        }
        return g_variant_builder_end(&builder);
}

void assert_error_name(GError *error, const char *name)
{
        g_autofree char *remote = NULL;
        g_autofree char *want = NULL;

        if (!error)
                g_error("expected error %s, the call succeeded", name);
        remote = g_dbus_error_get_remote_error(error);
        want = strchr(name, '.') ? g_strdup(name) : g_strconcat(ZUMA_ERROR_PREFIX, name, NULL);
        if (g_strcmp0(remote, want) != 0)
                g_error("expected error %s, got %s: %s", want, remote ? remote : "(local)",
                        error->message);
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
        g_assert_cmpuint(strlen(error->message), <, 8192);
}

ZumaBusManager *manager(void)
{
        g_autoptr(GError) error = NULL;
        ZumaBusManager *p = zuma_bus_manager_proxy_new_sync(test_bus, PROXY_FLAGS, BUS_NAME,
                                                            MANAGER_PATH, NULL, &error);

        g_assert_no_error(error);
        return p;
}

ZumaBusVolume *volume(const char *path)
{
        g_autoptr(GError) error = NULL;
        ZumaBusVolume *p =
                zuma_bus_volume_proxy_new_sync(test_bus, PROXY_FLAGS, BUS_NAME, path, NULL, &error);

        g_assert_no_error(error);
        return p;
}

ZumaBusSnapshot *snapshot(const char *path)
{
        g_autoptr(GError) error = NULL;
        ZumaBusSnapshot *p = zuma_bus_snapshot_proxy_new_sync(test_bus, PROXY_FLAGS, BUS_NAME, path,
                                                              NULL, &error);

        g_assert_no_error(error);
        return p;
}

ZumaBusJob *job(const char *path)
{
        g_autoptr(GError) error = NULL;
        ZumaBusJob *p =
                zuma_bus_job_proxy_new_sync(test_bus, PROXY_FLAGS, BUS_NAME, path, NULL, &error);

        g_assert_no_error(error);
        return p;
}

/* A property read straight from the daemon (no proxy cache). */
GVariant *prop(const char *path, const char *iface, const char *name)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                test_bus, BUS_NAME, path, "org.freedesktop.DBus.Properties", "Get",
                g_variant_new("(ss)", iface, name), G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE,
                -1, NULL, &error);
        GVariant *value;

        if (!reply)
                g_error("reading %s.%s of %s: %s", iface, name, path, error->message);
        g_variant_get(reply, "(v)", &value);
        return value;
}

char *prop_s(const char *path, const char *iface, const char *name)
{
        g_autoptr(GVariant) v = prop(path, iface, name);

        return g_variant_dup_string(v, NULL);
}

guint64 prop_t(const char *path, const char *iface, const char *name)
{
        g_autoptr(GVariant) v = prop(path, iface, name);

        return g_variant_get_uint64(v);
}

double prop_d(const char *path, const char *iface, const char *name)
{
        g_autoptr(GVariant) v = prop(path, iface, name);

        return g_variant_get_double(v);
}

gint64 prop_x(const char *path, const char *iface, const char *name)
{
        g_autoptr(GVariant) v = prop(path, iface, name);

        return g_variant_get_int64(v);
}

guint32 prop_u(const char *path, const char *iface, const char *name)
{
        g_autoptr(GVariant) v = prop(path, iface, name);

        return g_variant_get_uint32(v);
}

gint32 prop_i(const char *path, const char *iface, const char *name)
{
        g_autoptr(GVariant) v = prop(path, iface, name);

        return g_variant_get_int32(v);
}

gboolean prop_b(const char *path, const char *iface, const char *name)
{
        g_autoptr(GVariant) v = prop(path, iface, name);

        return g_variant_get_boolean(v);
}

void assert_prop_s(const char *path, const char *iface, const char *name, const char *want)
{
        g_autofree char *got = prop_s(path, iface, name);

        if (!g_str_equal(got, want))
                g_error("%s.%s of %s is \"%s\", expected \"%s\"", iface, name, path, got, want);
}

gboolean object_exists(const char *path)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                test_bus, BUS_NAME, ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
                "GetManagedObjects", NULL, G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
                G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_autoptr(GVariant) objects = NULL;
        g_autoptr(GVariant) found = NULL;

        g_assert_no_error(error);
        objects = g_variant_get_child_value(reply, 0);
        found = g_variant_lookup_value(objects, path, NULL);
        return found != NULL;
}

/* Runs the harness in command mode; returns its stdout, stripped. */
char *harness(const char *command, const char *arg1, const char *arg2)
{
        const char *argv[] = { "bash", g_getenv("ZUMA_TEST_HARNESS"), command, arg1, arg2, NULL };
        g_autoptr(GError) error = NULL;
        g_autofree char *err = NULL;
        char *out = NULL;
        int status = 0;

        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                          &status, &error))
                g_error("harness %s: %s", command, error->message);
        if (!g_spawn_check_wait_status(status, &error))
                g_error("harness %s failed: %s\n%s", command, error->message, err);
        return g_strstrip(out);
}

char *loop_device(const char *name, const char *size)
{
        static GHashTable *uses; /* name -> times asked for */
        g_autofree char *unique = NULL;
        guint n;

        if (uses == NULL)
                uses = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        n = GPOINTER_TO_UINT(g_hash_table_lookup(uses, name)) + 1;
        g_hash_table_insert(uses, g_strdup(name), GUINT_TO_POINTER(n));
        /* A case run again (as another case's setup) gets a new file. */
        unique = n == 1 ? g_strdup(name) : g_strdup_printf("%s-%u", name, n);
        return harness("loop-device", unique, size);
}

void run(const char *command)
{
        const char *argv[] = { "sh", "-c", command, NULL };
        g_autoptr(GError) error = NULL;
        g_autofree char *err = NULL;
        int status = 0;

        if (!g_spawn_sync(NULL, (char **)argv, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                          &status, &error))
                g_error("%s: %s", command, error->message);
        if (!g_spawn_check_wait_status(status, &error))
                g_error("%s failed: %s\n%s", command, error->message, err);
}

/* Writes len bytes of byte value at offset of a block device (O_DIRECT). */
void write_device(const char *device, guint64 offset, gsize len, guint8 value)
{
        gsize block = 1 * MiB;
        void *buf = NULL;
        int fd = open(device, O_WRONLY | O_DIRECT | O_CLOEXEC);

        if (fd < 0)
                g_error("open %s: %s", device, g_strerror(errno));
        g_assert_cmpint(posix_memalign(&buf, 4096, block), ==, 0);
        memset(buf, value, block);
        for (gsize done = 0; done < len;) {
                gsize n = MIN(block, len - done);
                ssize_t w = pwrite(fd, buf, n, (off_t)(offset + done));

                if (w != (ssize_t)n)
                        g_error("write %s at %" G_GUINT64_FORMAT ": %s", device, offset + done,
                                w < 0 ? g_strerror(errno) : "short write");
                done += n;
        }
        g_assert_cmpint(fsync(fd), ==, 0);
        close(fd);
        free(buf);
}

/* Whether len bytes at offset of device all hold value. */
gboolean device_holds(const char *device, guint64 offset, gsize len, guint8 value)
{
        gsize block = 1 * MiB;
        gboolean same = TRUE;
        guint8 *buf = NULL;
        int fd = open(device, O_RDONLY | O_DIRECT | O_CLOEXEC);

        if (fd < 0)
                g_error("open %s: %s", device, g_strerror(errno));
        g_assert_cmpint(posix_memalign((void **)&buf, 4096, block), ==, 0);
        for (gsize done = 0; done < len && same;) {
                gsize n = MIN(block, len - done);

                g_assert_cmpint(pread(fd, buf, n, (off_t)(offset + done)), ==, (ssize_t)n);
                for (gsize i = 0; i < n && same; i++)
                        same = buf[i] == value;
                done += n;
        }
        close(fd);
        free(buf);
        return same;
}

char *define(const char *name, const char *origin, const char *store, const char *options,
             GError **error)
{
        g_autoptr(ZumaBusManager) m = manager();
        char *path = NULL;

        if (!zuma_bus_manager_call_define_volume_sync(m, name, origin, store, opts(options), &path,
                                                      NULL, error))
                return NULL;
        return path;
}

gboolean define_fails(const char *name, const char *origin, const char *store, const char *options,
                      GError **error)
{
        g_autofree char *path = define(name, origin, store, options, error);

        return path != NULL;
}

char *create_snapshot_named(const char *vol, const char *name, const char *options, char **ret_name)
{
        g_autoptr(ZumaBusVolume) v = volume(vol);
        g_autoptr(GError) error = NULL;
        g_autofree char *created_name = NULL;
        g_autofree char *name_property = NULL;
        char *path = NULL;

        zuma_bus_volume_call_create_snapshot_sync(v, name, opts(options), &path, &created_name,
                                                  NULL, &error);
        g_assert_no_error(error);
        /* The answer names the snapshot: the name given, or the one the
         * server generated, as the object says. */
        if (name[0] != '\0')
                g_assert_cmpstr(created_name, ==, name);
        name_property = prop_s(path, IFACE_SNAPSHOT, "Name");
        g_assert_cmpstr(created_name, ==, name_property);
        if (ret_name)
                *ret_name = g_steal_pointer(&created_name);
        return path;
}

char *create_snapshot(const char *vol, const char *name, const char *options)
{
        return create_snapshot_named(vol, name, options, NULL);
}

/* Waits for a job's Completed; asserts it ended with error name want
 * ("" for success). */
void wait_job(const char *job_path, const char *want)
{
        /* Job numbers start again at 1 when the daemon does: a Completed
         * of the same path from a daemon the test restarted since is
         * another job's. */
        g_autofree char *daemon = daemon_unique_name();
        g_autoptr(GVariant) params = wait_signal_from(daemon, job_path, "Completed", NULL);
        gboolean success;
        const char *name, *message;

        g_variant_get(params, "(b&s&s)", &success, &name, &message);
        if (g_strcmp0(name, want) != 0)
                g_error("job %s ended with \"%s\" (%s), expected \"%s\"", job_path, name, message,
                        want);
        g_assert_cmpint(success, ==, want[0] == '\0');
        g_assert_true(prop_b(job_path, IFACE_JOB, "Finished"));
        g_assert_cmpint(prop_b(job_path, IFACE_JOB, "Success"), ==, success);
        assert_prop_s(job_path, IFACE_JOB, "ErrorName", name);
}

void test_bus_init(void)
{
        g_autoptr(GError) error = NULL;

        /* The error domain must be known before the first reply. */
        (void)ZUMA_ERROR;
        test_bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
        g_assert_no_error(error);
        subscription =
                g_dbus_connection_signal_subscribe(test_bus, NULL, NULL, NULL, NULL, NULL,
                                                   G_DBUS_SIGNAL_FLAGS_NONE, on_signal, NULL, NULL);
}

void test_bus_fini(void)
{
        if (subscription)
                g_dbus_connection_signal_unsubscribe(test_bus, subscription);
        subscription = 0;
        g_queue_clear_full(&signals, (GDestroyNotify)signal_free);
        g_clear_object(&test_bus);
}

guint64 device_size(const char *device)
{
        guint64 size = 0;
        int fd = open(device, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                g_error("open %s: %s", device, g_strerror(errno));
        if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                g_error("BLKGETSIZE64 %s: %s", device, g_strerror(errno));
        close(fd);
        return size;
}

gboolean device_read_only(const char *device)
{
        int read_only = 0;
        int fd = open(device, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                g_error("open %s: %s", device, g_strerror(errno));
        if (ioctl(fd, BLKROGET, &read_only) < 0)
                g_error("BLKROGET %s: %s", device, g_strerror(errno));
        close(fd);
        return read_only != 0;
}

char *loop_backing_file(const char *device)
{
        g_autofree char *name = g_path_get_basename(device);
        g_autofree char *sys = g_strdup_printf("/sys/block/%s/loop/backing_file", name);
        g_autoptr(GError) error = NULL;
        char *contents = NULL;

        if (!g_file_get_contents(sys, &contents, NULL, &error))
                g_error("%s: %s", sys, error->message);
        return g_strchomp(contents);
}
