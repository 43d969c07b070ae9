/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of agents/common that need neither root nor a bus: options,
 * durable state files, method tables (argument and reply types), the job
 * registry's limit, and the caller rule (uid 0 or the administrators'
 * group) with a fake credential source.  The bus paths are in tests/bus: a
 * caller's credentials from the bus daemon in test-snapshotd's unprivileged
 * case, polkit against the real polkitd in test-polkit.sh.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "zuma-auth.h"
#include "zuma-bus-generated.h"
#include "zuma-error.h"
#include "zuma-job-registry.h"
#include "zuma-keyfile.h"
#include "zuma-method-table.h"
#include "zuma-options.h"

/* --- options --- */

static GVariant *vardict(const char *text)
{
        return g_variant_ref_sink(g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL, NULL));
}

static void test_options(void)
{
        g_autoptr(GVariant) good = vardict("{'force': <true>, 'count': <uint32 7>, "
                                           "'delta': <int32 -3>, 'name': <'x'>}");
        g_autoptr(GVariant) unknown = vardict("{'forse': <true>}");
        g_autoptr(GVariant) wrong = vardict("{'force': <'yes'>}");
        g_autoptr(GVariant) not_dict = g_variant_ref_sink(g_variant_new("(s)", "x"));
        g_autofree char *long_text = g_strnfill(ZUMA_OPTION_STRING_MAX + 1, 'a');
        g_autoptr(GVariant) too_long = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *name = g_strdup("default");
        gboolean force = FALSE;
        guint32 count = 0;
        gint32 delta = 0;
        GVariantDict dict;

        g_assert_true(zuma_options_parse(good, &error, "force", "b", &force, "count", "u", &count,
                                         "delta", "i", &delta, "name", "s", &name, NULL));
        g_assert_no_error(error);
        g_assert_true(force);
        g_assert_cmpuint(count, ==, 7);
        g_assert_cmpint(delta, ==, -3);
        g_assert_cmpstr(name, ==, "x");

        g_assert_false(zuma_options_parse(unknown, &error, "force", "b", &force, NULL));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "\"forse\""));
        g_clear_error(&error);

        g_assert_false(zuma_options_parse(unknown, &error, NULL));
        g_assert_nonnull(strstr(error->message, "takes none"));
        g_clear_error(&error);

        g_assert_false(zuma_options_parse(wrong, &error, "force", "b", &force, NULL));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "must be of type 'b'"));
        g_clear_error(&error);

        g_assert_false(zuma_options_parse(not_dict, &error, NULL));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);

        g_variant_dict_init(&dict, NULL);
        g_variant_dict_insert(&dict, "name", "s", long_text);
        too_long = g_variant_ref_sink(g_variant_dict_end(&dict));
        g_assert_false(zuma_options_parse(too_long, &error, "name", "s", &name, NULL));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "too long"));
        g_assert_cmpstr(name, ==, "x");
}

static void test_names(void)
{
        g_autofree char *long_name = g_strnfill(ZUMA_VOLUME_NAME_MAX + 1, 'v');
        g_autofree char *quoted = zuma_quote("a\nb");

        g_assert_true(zuma_check_volume_name("vol0", NULL));
        g_assert_false(zuma_check_volume_name("", NULL));
        g_assert_false(zuma_check_volume_name("-x", NULL));
        g_assert_false(zuma_check_volume_name("a@b", NULL));
        g_assert_false(zuma_check_volume_name(long_name, NULL));
        g_assert_true(zuma_check_snapshot_name("daily:2024-01-01", NULL));
        g_assert_true(zuma_check_path("device", "/dev/sda", NULL));
        g_assert_false(zuma_check_path("device", "dev/sda", NULL));
        g_assert_false(zuma_check_path("device", "/dev/../etc", NULL));
        g_assert_cmpstr(quoted, ==, "\"a\\nb\"");
}

/* --- durable state files --- */

static void test_keyfile(void)
{
        g_autofree char *dir = g_dir_make_tmp("test-common-XXXXXX", NULL);
        g_autofree char *sub = g_build_filename(dir, "state", "volumes", NULL);
        g_autofree char *path = g_build_filename(sub, "vol0.conf", NULL);
        g_autofree char *blocker = g_build_filename(dir, "file", NULL);
        g_autofree char *under_file = g_build_filename(blocker, "x.conf", NULL);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GKeyFile) back = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(GDir) listing = NULL;
        const char *entry;
        g_autofree char *name = NULL;
        struct stat st;
        guint entries = 0;

        g_assert_nonnull(dir);
        g_key_file_set_string(kf, "Volume", "Name", "vol0");
        /* The directory is made on the way. */
        g_assert_true(zuma_keyfile_save(kf, path, 0640, &error));
        g_assert_no_error(error);
        g_assert_cmpint(g_stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0640);
        g_key_file_set_string(kf, "Volume", "Name", "vol1");
        g_assert_true(zuma_keyfile_save(kf, path, 0644, &error));
        g_assert_true(g_key_file_load_from_file(back, path, 0, &error));
        name = g_key_file_get_string(back, "Volume", "Name", NULL);
        g_assert_cmpstr(name, ==, "vol1");
        /* No temporary file is left behind. */
        listing = g_dir_open(sub, 0, &error);
        while ((entry = g_dir_read_name(listing)))
                entries++;
        g_assert_cmpuint(entries, ==, 1);

        g_assert_true(zuma_file_remove_durable(path, &error));
        g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
        /* Already gone: done. */
        g_assert_true(zuma_file_remove_durable(path, &error));
        g_assert_no_error(error);

        /* A directory that cannot be: the error names it. */
        g_assert_true(g_file_set_contents(blocker, "", 0, NULL));
        g_assert_false(zuma_keyfile_save(kf, under_file, 0644, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, blocker));
        g_clear_error(&error);
        g_assert_false(zuma_sync_directory(under_file, &error));
        g_clear_error(&error);

        g_unlink(blocker);
        g_rmdir(sub);
        g_autofree char *state = g_path_get_dirname(sub);
        g_rmdir(state);
        g_rmdir(dir);
}

/* --- method tables --- */

typedef struct Target {
        GObject *object;
        guint defined;
        gboolean bad_reply;
        gboolean no_reply;
} Target;

static GVariant *define_method(gpointer object, ZumaCall *call, GError **error)
{
        Target *target = g_object_get_data(object, "target");
        const char *name;

        g_variant_get_child(call->params, 0, "&s", &name);
        if (!zuma_options_parse(call->options, error, "start", "b", &(gboolean){ 0 }, NULL))
                return NULL;
        target->defined++;
        if (target->bad_reply)
                return g_variant_new("(s)", name);
        if (target->no_reply)
                return NULL;
        return g_variant_new("(o)", "/org/zumastor/Zumastor1/volumes/x");
}

static GVariant *forget_method(gpointer object, ZumaCall *call, GError **error)
{
        g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "no such volume");
        return NULL;
}

static GVariant *find_method(gpointer object, ZumaCall *call, GError **error)
{
        return g_variant_new("(o)", "/");
}

static GVariant *list_method(gpointer object, ZumaCall *call, GError **error)
{
        return g_variant_new_parsed("(@a{oa{sv}} {},)");
}

static const ZumaMethod all_methods[] = {
        { "DefineVolume", "define volumes", define_method },
        { "ImportVolume", "import volumes", define_method },
        { "ForgetVolume", "forget volumes", forget_method },
        { "FindVolume", NULL, find_method },
        { "ListVolumes", NULL, list_method },
};

static const ZumaMethodTable table = {
        zuma_bus_manager_interface_info,
        all_methods,
        G_N_ELEMENTS(all_methods),
        NULL,
};

static void test_method_table_validate(void)
{
        const ZumaMethodTable missing = { zuma_bus_manager_interface_info, all_methods, 3, NULL };
        const ZumaMethod stranger[] = {
                { "DefineVolume", "x", define_method }, { "ImportVolume", "x", define_method },
                { "ForgetVolume", "x", forget_method }, { "FindVolume", NULL, find_method },
                { "ListVolumes", NULL, list_method },   { "Explode", "x", find_method },
        };
        const ZumaMethodTable extra = { zuma_bus_manager_interface_info, stranger,
                                        G_N_ELEMENTS(stranger), NULL };
        g_autoptr(GError) error = NULL;

        g_assert_true(zuma_method_table_validate(&table, &error));
        g_assert_no_error(error);
        g_assert_false(zuma_method_table_validate(&missing, &error));
        g_assert_nonnull(strstr(error->message, "FindVolume"));
        g_clear_error(&error);
        g_assert_false(zuma_method_table_validate(&extra, &error));
        g_assert_nonnull(strstr(error->message, "Explode"));
}

static GVariant *call_table(GObject *object, const char *method, GVariant *params, GError **error)
{
        g_autoptr(GVariant) owned = params ? g_variant_ref_sink(params) : NULL;
        ZumaCall call = { .method = method, .params = owned, .uid = 0 };

        return zuma_method_table_call(&table, object, &call, error);
}

static void test_method_table_call(void)
{
        g_autoptr(GObject) object = g_object_new(G_TYPE_OBJECT, NULL);
        Target target = { .object = object };
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GError) error = NULL;

        g_object_set_data(object, "target", &target);
        reply = call_table(object, "DefineVolume",
                           g_variant_new_parsed("('v', '/a', '/b', {'start': <false>})"), &error);
        g_assert_no_error(error);
        g_assert_true(g_variant_is_of_type(reply, G_VARIANT_TYPE("(o)")));
        g_assert_cmpuint(target.defined, ==, 1);
        g_clear_pointer(&reply, g_variant_unref);

        /* Wrong argument types never reach the method. */
        reply = call_table(object, "DefineVolume",
                           g_variant_new_parsed("('v', 7, '/b', @a{sv} {})"), &error);
        g_assert_null(reply);
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "'(sssa{sv})'"));
        g_clear_error(&error);
        reply = call_table(object, "DefineVolume", g_variant_new_parsed("('v', '/a', '/b')"),
                           &error);
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        reply = call_table(object, "DefineVolume", NULL, &error);
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_cmpuint(target.defined, ==, 1);

        /* Options are checked by the method, from the last argument. */
        reply = call_table(object, "DefineVolume",
                           g_variant_new_parsed("('v', '/a', '/b', {'start': <'no'>})"), &error);
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);

        /* The method's own error comes back as it is. */
        reply = call_table(object, "ForgetVolume", g_variant_new_parsed("('v', @a{sv} {})"),
                           &error);
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND);
        g_clear_error(&error);

        reply = call_table(object, "Explode", g_variant_new_parsed("(@a{sv} {},)"), &error);
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED);
        g_clear_error(&error);

        /* A reply of the wrong type is the daemon's bug: Failed, logged. */
        target.bad_reply = TRUE;
        g_test_expect_message("zuma-method-table", G_LOG_LEVEL_CRITICAL, "*replied '(s)'*");
        reply = call_table(object, "DefineVolume",
                           g_variant_new_parsed("('v', '/a', '/b', @a{sv} {})"), &error);
        g_test_assert_expected_messages();
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED);
        g_clear_error(&error);
        target.bad_reply = FALSE;
        target.no_reply = TRUE;
        g_test_expect_message("zuma-method-table", G_LOG_LEVEL_CRITICAL, "*neither*");
        reply = call_table(object, "DefineVolume",
                           g_variant_new_parsed("('v', '/a', '/b', @a{sv} {})"), &error);
        g_test_assert_expected_messages();
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED);
}

static void test_method_table_bind(void)
{
        g_autoptr(GObject) object = g_object_new(G_TYPE_OBJECT, NULL);
        g_autoptr(ZumaBusManager) iface = zuma_bus_manager_skeleton_new();
        const ZumaAuthOptions options = { .admin_group = "" };
        g_autoptr(ZumaAuth) auth = zuma_auth_new_full(NULL, &options);
        ZumaMethodBinding *binding;

        /* Every entry finds its generated handle-* signal. */
        binding = zuma_method_table_bind(&table, G_DBUS_INTERFACE_SKELETON(iface), auth, object);
        g_assert_true(g_signal_has_handler_pending(
                iface, g_signal_lookup("handle-define-volume", G_OBJECT_TYPE(iface)), 0, FALSE));
        zuma_method_binding_free(binding);
        g_assert_false(g_signal_has_handler_pending(
                iface, g_signal_lookup("handle-define-volume", G_OBJECT_TYPE(iface)), 0, FALSE));
}

/* --- jobs --- */

static gboolean never_done_step(ZumaJob *job, gpointer data, gboolean *ret_finished, GError **error)
{
        return TRUE;
}

static const ZumaJobOps idle_ops = { .step = never_done_step };

static void test_job_registry(void)
{
        g_autoptr(GDBusObjectManagerServer) server =
                g_dbus_object_manager_server_new("/org/zumastor/Test1");
        const ZumaAuthOptions options = { .admin_group = "" };
        g_autoptr(ZumaAuth) auth = zuma_auth_new_full(NULL, &options);
        g_autoptr(ZumaJobRegistry) registry =
                zuma_job_registry_new(server, auth, "/org/zumastor/Test1", 3);
        const char *const objects[] = { "/org/zumastor/Test1/volumes/a",
                                        "/org/zumastor/Test1/volumes/a/snapshots/2", NULL };
        const ZumaJobSpec spec = {
                .operation = "replicate",
                .volume_path = objects[0],
                .objects = objects,
                .started_by_uid = 1000,
                .cancelable = TRUE,
        };
        const ZumaJobSpec bare = { .operation = "prune", .started_by_uid = ZUMA_UID_UNKNOWN };
        g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func(g_object_unref);
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) why = g_error_new_literal(ZUMA_ERROR, ZUMA_ERROR_CANCELLED, "test");
        g_autoptr(GDBusObject) exported = NULL;
        g_autoptr(ZumaBusJob) iface = NULL;
        g_autoptr(ZumaBusJob) bare_iface = NULL;
        g_autofree const char **got = NULL;

        zuma_job_registry_set_linger(registry, 0);
        for (guint i = 0; i < 3; i++) {
                g_assert_true(zuma_job_registry_check_limit(registry, &error));
                g_ptr_array_add(
                        jobs, zuma_job_registry_add(registry, i ? &bare : &spec, &idle_ops, NULL));
        }
        g_assert_cmpuint(zuma_job_registry_get_running(registry), ==, 3);
        g_assert_false(zuma_job_registry_check_limit(registry, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_LIMIT_EXCEEDED);
        g_clear_error(&error);

        exported = g_dbus_object_manager_get_object(G_DBUS_OBJECT_MANAGER(server),
                                                    "/org/zumastor/Test1/jobs/1");
        g_assert_nonnull(exported);
        iface = zuma_bus_object_get_job(ZUMA_BUS_OBJECT(exported));
        got = (const char **)zuma_bus_job_dup_objects(iface);
        g_assert_cmpuint(g_strv_length((char **)got), ==, 2);
        g_assert_cmpstr(got[1], ==, objects[1]);
        g_strfreev((char **)g_steal_pointer(&got));
        g_assert_cmpuint(zuma_bus_job_get_started_by_uid(iface), ==, 1000);
        g_assert_cmpuint(zuma_job_get_started_by_uid(jobs->pdata[1]), ==, ZUMA_UID_UNKNOWN);
        bare_iface = zuma_bus_object_get_job(ZUMA_BUS_OBJECT(zuma_job_get_object(jobs->pdata[1])));
        g_assert_cmpstr(zuma_bus_job_get_volume(bare_iface), ==, "/");
        g_assert_cmpuint(g_strv_length((char **)zuma_bus_job_get_objects(bare_iface)), ==, 0);

        /* A finished job frees its place at once, and leaves the bus after
         * lingering (0 s here). */
        zuma_job_abort(jobs->pdata[0], why);
        g_assert_true(zuma_job_is_finished(jobs->pdata[0]));
        g_assert_true(zuma_bus_job_get_finished(iface));
        g_assert_cmpstr(zuma_bus_job_get_error_name(iface), ==,
                        "org.zumastor.Zumastor1.Error.Cancelled");
        g_assert_cmpuint(zuma_job_registry_get_running(registry), ==, 2);
        g_assert_true(zuma_job_registry_check_limit(registry, &error));
        g_assert_cmpuint(zuma_job_registry_get_exported(registry), ==, 3);
        while (zuma_job_registry_get_exported(registry) == 3)
                g_main_context_iteration(NULL, TRUE);
        g_clear_object(&exported);
        exported = g_dbus_object_manager_get_object(G_DBUS_OBJECT_MANAGER(server),
                                                    "/org/zumastor/Test1/jobs/1");
        g_assert_null(exported);

        zuma_job_registry_abort_all(registry, why);
        g_assert_cmpuint(zuma_job_registry_get_running(registry), ==, 0);
}

/* Progress reaches the bus at most every 100 ms, the figures held back
 * meanwhile follow at the end of the interval (a job that stops stepping
 * must not show stale ones forever), and done == total goes at once. */
static void test_job_progress(void)
{
        g_autoptr(GDBusObjectManagerServer) server =
                g_dbus_object_manager_server_new("/org/zumastor/Test1");
        const ZumaAuthOptions options = { .admin_group = "" };
        g_autoptr(ZumaAuth) auth = zuma_auth_new_full(NULL, &options);
        g_autoptr(ZumaJobRegistry) registry =
                zuma_job_registry_new(server, auth, "/org/zumastor/Test1", 3);
        const ZumaJobSpec spec = { .operation = "send-stream", .started_by_uid = 0 };
        g_autoptr(GError) why = g_error_new_literal(ZUMA_ERROR, ZUMA_ERROR_CANCELLED, "test");
        g_autoptr(ZumaJob) job = zuma_job_registry_add(registry, &spec, &idle_ops, NULL);
        g_autoptr(ZumaBusJob) iface =
                zuma_bus_object_get_job(ZUMA_BUS_OBJECT(zuma_job_get_object(job)));
        gint64 deadline;

        zuma_job_registry_set_linger(registry, 0);
        zuma_job_set_progress(job, 1, 100);
        g_assert_cmpuint(zuma_bus_job_get_done(iface), ==, 1);
        zuma_job_set_progress(job, 2, 100);
        zuma_job_set_progress(job, 3, 100);
        g_assert_cmpuint(zuma_bus_job_get_done(iface), ==, 1);
        deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (zuma_bus_job_get_done(iface) != 3) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_main_context_iteration(NULL, TRUE);
        }
        g_assert_cmpfloat(zuma_bus_job_get_progress(iface), ==, 0.03);
        zuma_job_set_progress(job, 100, 100);
        g_assert_cmpuint(zuma_bus_job_get_done(iface), ==, 100);
        zuma_job_registry_abort_all(registry, why);
}

/* --- the caller rule --- */

typedef struct FakeSource {
        guint32 pid;
        guint32 uid;
        const guint32 *gids;
        guint n_gids;
        guint asked;
} FakeSource;

static gboolean fake_get_groups(guint32 pid, guint32 uid, GArray *ret_gids, gpointer data,
                                GError **error)
{
        FakeSource *fake = data;

        fake->asked++;
        if (pid != fake->pid || uid != fake->uid) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ACCESS_DENIED,
                            "process %u is not uid %u's", pid, uid);
                return FALSE;
        }
        g_array_append_vals(ret_gids, fake->gids, fake->n_gids);
        return TRUE;
}

static void test_auth_rule(void)
{
        const guint32 member_gids[] = { 1000, 24, 4242 };
        const guint32 other_gids[] = { 1001, 24 };
        FakeSource member = { 77, 1000, member_gids, 3, 0 };
        FakeSource other = { 78, 1001, other_gids, 2, 0 };
        const ZumaCredentialSource member_source = { fake_get_groups, &member };
        const ZumaCredentialSource other_source = { fake_get_groups, &other };
        g_autoptr(GArray) from_bus = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_autoptr(GError) error = NULL;

        /* uid 0: always, and nothing is read. */
        g_assert_cmpint(zuma_auth_decide(0, NULL, 77, TRUE, 4242, &member_source, NULL), ==,
                        ZUMA_AUTH_ALLOWED_ROOT);
        g_assert_cmpint(zuma_auth_decide(0, NULL, 77, FALSE, 0, &member_source, NULL), ==,
                        ZUMA_AUTH_ALLOWED_ROOT);
        g_assert_cmpuint(member.asked, ==, 0);
        /* A member of the group (supplementary). */
        g_assert_cmpint(zuma_auth_decide(1000, NULL, 77, TRUE, 4242, &member_source, NULL), ==,
                        ZUMA_AUTH_ALLOWED_GROUP);
        /* Not a member. */
        g_assert_cmpint(zuma_auth_decide(1001, NULL, 78, TRUE, 4242, &other_source, NULL), ==,
                        ZUMA_AUTH_DENIED);
        /* No group configured: only root. */
        g_assert_cmpint(zuma_auth_decide(1000, NULL, 77, FALSE, 0, &member_source, NULL), ==,
                        ZUMA_AUTH_DENIED);
        /* The pid is no longer the caller's (reused): refused, explained. */
        g_assert_cmpint(zuma_auth_decide(1000, NULL, 99, TRUE, 4242, &member_source, &error), ==,
                        ZUMA_AUTH_DENIED);
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_ACCESS_DENIED);
        g_clear_error(&error);
        /* Groups from the bus (UnixGroupIDs) win over the source. */
        member.asked = 0;
        g_array_append_vals(from_bus, other_gids, 2);
        g_assert_cmpint(zuma_auth_decide(1000, from_bus, 77, TRUE, 4242, &member_source, NULL), ==,
                        ZUMA_AUTH_DENIED);
        g_assert_cmpuint(member.asked, ==, 0);
        g_array_append_val(from_bus, (guint32){ 4242 });
        g_assert_cmpint(zuma_auth_decide(1000, from_bus, 77, TRUE, 4242, &member_source, NULL), ==,
                        ZUMA_AUTH_ALLOWED_GROUP);
        /* An unknown uid is nobody's. */
        g_assert_cmpint(
                zuma_auth_decide(ZUMA_UID_UNKNOWN, from_bus, 77, TRUE, 4242, &member_source, NULL),
                ==, ZUMA_AUTH_DENIED);
}

static void test_proc_status(void)
{
        const char *status = "Name:\tzumactl\nUmask:\t0022\nState:\tR (running)\n"
                             "Uid:\t1000\t1000\t1000\t1000\nGid:\t100\t4242\t100\t100\n"
                             "FDSize:\t64\nGroups:\t24 27 1000 \nNStgid:\t5\n";
        const char *setuid = "Uid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\nGroups:\t\n";
        const char *garbled = "Uid:\t1000\t1000\t1000\t1000\nGid:\t100\tx\t100\t100\nGroups:\n";
        const char *truncated = "Uid:\t1000\t1000\t1000\t1000\n";
        g_autoptr(GArray) gids = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) mine = g_array_new(FALSE, FALSE, sizeof(guint32));

        g_assert_true(zuma_auth_parse_proc_status(status, 1000, gids, &error));
        g_assert_no_error(error);
        /* The effective gid, then the supplementary groups. */
        g_assert_cmpuint(gids->len, ==, 4);
        g_assert_cmpuint(g_array_index(gids, guint32, 0), ==, 4242);
        g_assert_cmpuint(g_array_index(gids, guint32, 3), ==, 1000);
        g_array_set_size(gids, 0);
        /* Another uid now (the pid was reused, or the caller changed uid). */
        g_assert_false(zuma_auth_parse_proc_status(status, 1001, gids, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_ACCESS_DENIED);
        g_clear_error(&error);
        g_assert_false(zuma_auth_parse_proc_status(setuid, 1000, gids, &error));
        g_clear_error(&error);
        g_assert_false(zuma_auth_parse_proc_status(garbled, 1000, gids, &error));
        g_clear_error(&error);
        g_assert_false(zuma_auth_parse_proc_status(truncated, 1000, gids, &error));
        g_clear_error(&error);
        g_assert_cmpuint(gids->len, ==, 0);

        /* The real source, on this process. */
        g_assert_true(zuma_credential_source_proc.get_groups((guint32)getpid(), (guint32)getuid(),
                                                             mine, NULL, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(g_array_index(mine, guint32, 0), ==, (guint32)getegid());
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/common/options/parse", test_options);
        g_test_add_func("/common/options/names", test_names);
        g_test_add_func("/common/keyfile/durable-save", test_keyfile);
        g_test_add_func("/common/method-table/validate", test_method_table_validate);
        g_test_add_func("/common/method-table/call", test_method_table_call);
        g_test_add_func("/common/method-table/bind", test_method_table_bind);
        g_test_add_func("/common/job-registry/limit", test_job_registry);
        g_test_add_func("/common/job/progress-interval", test_job_progress);
        g_test_add_func("/common/auth/group-rule", test_auth_rule);
        g_test_add_func("/common/auth/proc-status", test_proc_status);
        return g_test_run();
}
