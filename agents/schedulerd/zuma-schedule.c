/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedule"

#include "zuma-schedule.h"

#include <stdarg.h>
#include <string.h>

#include "zuma-duration.h"
#include "zuma-error.h"
#include "zuma-limits.h"
#include "zuma-options.h"
#include "zuma-utc.h"

/* Names as in snapshot names and option names; key file keys capitalised. */
static const char *const class_names[ZUMA_SCHEDULE_N_CLASSES] = {
        "every", "hourly", "daily", "weekly", "monthly", "yearly",
};
static const char *const class_keys[ZUMA_SCHEDULE_N_CLASSES] = {
        "Keep", "Hourly", "Daily", "Weekly", "Monthly", "Yearly",
};

#define KEY_EVERY "Every"
#define KEY_PRE "Pre"
#define KEY_POST "Post"
#define KEY_COMMAND_TIMEOUT "CommandTimeout"

ZumaSchedule *zuma_schedule_new(void)
{
        ZumaSchedule *schedule = g_new0(ZumaSchedule, 1);

        schedule->command_timeout = ZUMA_SCHEDULE_COMMAND_TIMEOUT_DEFAULT;
        return schedule;
}

ZumaSchedule *zuma_schedule_copy(const ZumaSchedule *schedule)
{
        ZumaSchedule *copy = g_memdup2(schedule, sizeof(*schedule));

        copy->pre_command = g_strdup(schedule->pre_command);
        copy->post_command = g_strdup(schedule->post_command);
        return copy;
}

void zuma_schedule_free(ZumaSchedule *schedule)
{
        if (!schedule)
                return;
        g_free(schedule->pre_command);
        g_free(schedule->post_command);
        g_free(schedule);
}

gboolean zuma_schedule_equal(const ZumaSchedule *a, const ZumaSchedule *b)
{
        return memcmp(a->keep, b->keep, sizeof(a->keep)) == 0 && a->every == b->every &&
               g_strcmp0(a->pre_command, b->pre_command) == 0 &&
               g_strcmp0(a->post_command, b->post_command) == 0 &&
               a->command_timeout == b->command_timeout;
}

guint zuma_schedule_classes(const ZumaSchedule *schedule)
{
        guint mask = 0;

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (schedule->keep[c])
                        mask |= ZUMA_SCHEDULE_CLASS_BIT(c);
        return mask;
}

const char *zuma_schedule_class_name(ZumaScheduleClass class_)
{
        g_return_val_if_fail((guint)class_ < ZUMA_SCHEDULE_N_CLASSES, NULL);
        return class_names[class_];
}

gboolean zuma_schedule_class_from_name(const char *name, ZumaScheduleClass *ret_class)
{
        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (g_str_equal(name, class_names[c])) {
                        *ret_class = (ZumaScheduleClass)c;
                        return TRUE;
                }
        return FALSE;
}

gint64 zuma_schedule_class_longest_gap(const ZumaSchedule *schedule, ZumaScheduleClass class_)
{
        switch (class_) {
        case ZUMA_SCHEDULE_EVERY:
                return schedule->every;
        case ZUMA_SCHEDULE_HOURLY:
                return ZUMA_SECONDS_PER_HOUR;
        case ZUMA_SCHEDULE_DAILY:
                return ZUMA_SECONDS_PER_DAY;
        case ZUMA_SCHEDULE_WEEKLY:
                return ZUMA_SECONDS_PER_WEEK;
        case ZUMA_SCHEDULE_MONTHLY:
                return 31 * ZUMA_SECONDS_PER_DAY;
        case ZUMA_SCHEDULE_YEARLY:
                return 366 * ZUMA_SECONDS_PER_DAY;
        }
        g_return_val_if_reached(0);
}

/* Ordered by longest gap; on a tie the every class comes first. */
static gboolean class_below(const ZumaSchedule *schedule, int a, int b)
{
        gint64 gap_a = zuma_schedule_class_longest_gap(schedule, a);
        gint64 gap_b = zuma_schedule_class_longest_gap(schedule, b);

        return gap_a < gap_b || (gap_a == gap_b && a < b);
}

guint zuma_schedule_class_rank(const ZumaSchedule *schedule, ZumaScheduleClass class_)
{
        guint rank = 0;

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (class_below(schedule, c, class_))
                        rank++;
        return rank;
}

ZumaScheduleClass zuma_schedule_largest_class(const ZumaSchedule *schedule, guint classes)
{
        int largest = -1;

        g_return_val_if_fail(classes && !(classes & ~ZUMA_SCHEDULE_ALL_CLASSES),
                             ZUMA_SCHEDULE_HOURLY);
        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if ((classes & ZUMA_SCHEDULE_CLASS_BIT(c)) &&
                    (largest < 0 || class_below(schedule, largest, c)))
                        largest = c;
        return (ZumaScheduleClass)largest;
}

/* --- validation --- */

static gboolean fail(GError **error, ZumaError code, const char *format, ...) G_GNUC_PRINTF(3, 4);

static gboolean fail(GError **error, ZumaError code, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        g_propagate_error(error, g_error_new_valist(ZUMA_ERROR, code, format, ap));
        va_end(ap);
        return FALSE;
}

/* A count as given (signed, so a negative one is named as such). */
static gboolean check_count(const char *what, gint64 count, GError **error)
{
        if (count < 1 || count > ZUMA_SCHEDULE_KEEP_MAX)
                return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s: must keep between 1 and %d snapshots, not %" G_GINT64_FORMAT, what,
                            ZUMA_SCHEDULE_KEEP_MAX, count);
        return TRUE;
}

static gboolean check_command(const char *what, const char *command, GError **error)
{
        gsize len = strlen(command);
        g_auto(GStrv) argv = NULL;
        g_autoptr(GError) local = NULL;
        g_autofree char *quoted = NULL;

        if (len == 0)
                return fail(error, ZUMA_ERROR_INVALID_ARGUMENT, "%s: the command is empty", what);
        if (len > ZUMA_SCHEDULE_COMMAND_MAX)
                return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s: the command is too long (%" G_GSIZE_FORMAT " bytes, at most %d)",
                            what, len, ZUMA_SCHEDULE_COMMAND_MAX);
        if (!g_utf8_validate(command, (gssize)len, NULL))
                return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s: the command is not valid UTF-8", what);
        quoted = zuma_quote(command);
        for (const char *p = command; *p; p++)
                if ((guchar)*p < 0x20 || *p == 0x7f)
                        return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "%s: the command %s holds a control character", what, quoted);
        if (!g_shell_parse_argv(command, NULL, &argv, &local))
                return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s: the command %s cannot be split into words: %s", what, quoted,
                            local->message);
        if (argv[0][0] != '/')
                return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                            "%s: the command %s must start with an absolute path (it runs "
                            "without a shell and without PATH)",
                            what, quoted);
        return TRUE;
}

gboolean zuma_schedule_validate(const ZumaSchedule *schedule, GError **error)
{
        gint64 total = 0;

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++) {
                const char *what = c == ZUMA_SCHEDULE_EVERY ? "keep" : class_names[c];

                if (schedule->keep[c] && !check_count(what, schedule->keep[c], error))
                        return FALSE;
                total += schedule->keep[c];
        }
        if (schedule->every == 0 && schedule->keep[ZUMA_SCHEDULE_EVERY])
                return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                            "keep: goes with every (every DURATION keep N)");
        if (schedule->every != 0) {
                if (!schedule->keep[ZUMA_SCHEDULE_EVERY])
                        return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "every: needs keep (every DURATION keep N)");
                if (schedule->every < ZUMA_SCHEDULE_EVERY_MIN ||
                    schedule->every > ZUMA_SCHEDULE_EVERY_MAX)
                        return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "every: must be between 1m and 366d, not %" G_GINT64_FORMAT
                                    " seconds",
                                    schedule->every);
                if (schedule->every % ZUMA_SECONDS_PER_MINUTE)
                        return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "every: must be whole minutes (snapshot names carry the "
                                    "minute)");
        }
        if (total == 0)
                return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the schedule keeps nothing: give at least one of hourly, daily, "
                            "weekly, monthly, yearly, or every with keep");
        if (total > ZUMA_MAX_SNAPSHOTS)
                return fail(error, ZUMA_ERROR_LIMIT_EXCEEDED,
                            "the schedule keeps %" G_GINT64_FORMAT
                            " snapshots in all, more than a volume holds (%d)",
                            total, ZUMA_MAX_SNAPSHOTS);
        if (schedule->pre_command && !check_command("pre", schedule->pre_command, error))
                return FALSE;
        if (schedule->post_command && !check_command("post", schedule->post_command, error))
                return FALSE;
        if (schedule->command_timeout < ZUMA_SCHEDULE_COMMAND_TIMEOUT_MIN ||
            schedule->command_timeout > ZUMA_SCHEDULE_COMMAND_TIMEOUT_MAX)
                return fail(error, ZUMA_ERROR_INVALID_ARGUMENT,
                            "command_timeout: must be between 1s and 1h, not %" G_GINT64_FORMAT
                            " seconds",
                            schedule->command_timeout);
        return TRUE;
}

/* --- key file --- */

static gboolean key_known(const char *key)
{
        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (g_str_equal(key, class_keys[c]))
                        return TRUE;
        return g_str_equal(key, KEY_EVERY) || g_str_equal(key, KEY_PRE) ||
               g_str_equal(key, KEY_POST) || g_str_equal(key, KEY_COMMAND_TIMEOUT);
}

/* The group's raw value of key, or NULL when absent. */
static char *key_value(GKeyFile *key_file, const char *group, const char *key)
{
        return g_key_file_get_value(key_file, group, key, NULL);
}

static gboolean key_count(GKeyFile *key_file, const char *group, int c, guint32 *ret,
                          GError **error)
{
        g_autofree char *text = key_value(key_file, group, class_keys[c]);
        gint64 count = 0;

        if (!text)
                return TRUE;
        if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &count, NULL)) {
                g_autofree char *quoted = zuma_quote(text);

                return fail(error, ZUMA_ERROR_INVALID_ARGUMENT, "%s: %s is not a number",
                            class_keys[c], quoted);
        }
        if (!check_count(class_keys[c], count, error))
                return FALSE;
        *ret = (guint32)count;
        return TRUE;
}

static gboolean key_command(GKeyFile *key_file, const char *group, const char *key, char **ret,
                            GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autofree char *text = NULL;

        if (!g_key_file_has_key(key_file, group, key, NULL))
                return TRUE;
        /* g_key_file_get_string() undoes the escapes the save wrote. */
        text = g_key_file_get_string(key_file, group, key, &local);
        if (!text)
                return fail(error, ZUMA_ERROR_INVALID_ARGUMENT, "%s: %s", key, local->message);
        g_free(*ret);
        *ret = g_steal_pointer(&text);
        return TRUE;
}

static gboolean key_duration(GKeyFile *key_file, const char *group, const char *key, gint64 min,
                             gint64 max, gint64 *ret, GError **error)
{
        g_autofree char *text = key_value(key_file, group, key);

        return !text || zuma_duration_parse(key, text, min, max, ret, error);
}

static gboolean read_keyfile(GKeyFile *key_file, const char *group, ZumaSchedule *schedule,
                             GError **error)
{
        g_auto(GStrv) keys = g_key_file_get_keys(key_file, group, NULL, NULL);

        for (guint i = 0; keys && keys[i]; i++)
                if (!key_known(keys[i])) {
                        g_autofree char *quoted = zuma_quote(keys[i]);

                        return fail(error, ZUMA_ERROR_INVALID_ARGUMENT, "unknown key %s", quoted);
                }
        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (!key_count(key_file, group, c, &schedule->keep[c], error))
                        return FALSE;
        return key_duration(key_file, group, KEY_EVERY, ZUMA_SCHEDULE_EVERY_MIN,
                            ZUMA_SCHEDULE_EVERY_MAX, &schedule->every, error) &&
               key_command(key_file, group, KEY_PRE, &schedule->pre_command, error) &&
               key_command(key_file, group, KEY_POST, &schedule->post_command, error) &&
               key_duration(key_file, group, KEY_COMMAND_TIMEOUT, ZUMA_SCHEDULE_COMMAND_TIMEOUT_MIN,
                            ZUMA_SCHEDULE_COMMAND_TIMEOUT_MAX, &schedule->command_timeout, error) &&
               zuma_schedule_validate(schedule, error);
}

ZumaSchedule *zuma_schedule_from_keyfile(GKeyFile *key_file, const char *group, GError **error)
{
        g_autoptr(ZumaSchedule) schedule = zuma_schedule_new();
        g_autoptr(GError) local = NULL;

        if (!g_key_file_has_group(key_file, group)) {
                fail(error, ZUMA_ERROR_NOT_FOUND, "no schedule group [%s]", group);
                return NULL;
        }
        if (!read_keyfile(key_file, group, schedule, &local)) {
                g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                           "schedule [%s]: ", group);
                return NULL;
        }
        return g_steal_pointer(&schedule);
}

void zuma_schedule_to_keyfile(const ZumaSchedule *schedule, GKeyFile *key_file, const char *group)
{
        g_return_if_fail(zuma_schedule_validate(schedule, NULL));
        g_key_file_remove_group(key_file, group, NULL);
        for (int c = ZUMA_SCHEDULE_HOURLY; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (schedule->keep[c])
                        g_key_file_set_uint64(key_file, group, class_keys[c], schedule->keep[c]);
        if (schedule->every) {
                g_autofree char *every = zuma_duration_format(schedule->every);

                g_key_file_set_string(key_file, group, KEY_EVERY, every);
                g_key_file_set_uint64(key_file, group, class_keys[ZUMA_SCHEDULE_EVERY],
                                      schedule->keep[ZUMA_SCHEDULE_EVERY]);
        }
        if (schedule->pre_command)
                g_key_file_set_string(key_file, group, KEY_PRE, schedule->pre_command);
        if (schedule->post_command)
                g_key_file_set_string(key_file, group, KEY_POST, schedule->post_command);
        if (schedule->command_timeout != ZUMA_SCHEDULE_COMMAND_TIMEOUT_DEFAULT) {
                g_autofree char *timeout = zuma_duration_format(schedule->command_timeout);

                g_key_file_set_string(key_file, group, KEY_COMMAND_TIMEOUT, timeout);
        }
}

/* --- a{sv} --- */

#define OPTION_COMMAND_TIMEOUT "command_timeout"

ZumaSchedule *zuma_schedule_from_options(GVariant *options, GError **error)
{
        g_autoptr(ZumaSchedule) schedule = zuma_schedule_new();
        gint32 counts[ZUMA_SCHEDULE_N_CLASSES] = { 0 };
        g_autofree char *every = NULL;
        g_autofree char *timeout = NULL;

        if (!zuma_options_parse(
                    options, error, "keep", "i", &counts[ZUMA_SCHEDULE_EVERY], "hourly", "i",
                    &counts[ZUMA_SCHEDULE_HOURLY], "daily", "i", &counts[ZUMA_SCHEDULE_DAILY],
                    "weekly", "i", &counts[ZUMA_SCHEDULE_WEEKLY], "monthly", "i",
                    &counts[ZUMA_SCHEDULE_MONTHLY], "yearly", "i", &counts[ZUMA_SCHEDULE_YEARLY],
                    "every", "s", &every, "pre", "s", &schedule->pre_command, "post", "s",
                    &schedule->post_command, OPTION_COMMAND_TIMEOUT, "s", &timeout, NULL))
                return NULL;
        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++) {
                const char *what = c == ZUMA_SCHEDULE_EVERY ? "keep" : class_names[c];
                g_autoptr(GVariant) given = g_variant_lookup_value(options, what, NULL);

                /* Given as 0 is an error, not "off": leave the option out. */
                if (given && !check_count(what, counts[c], error))
                        return NULL;
                schedule->keep[c] = given ? (guint32)counts[c] : 0;
        }
        if (every && !zuma_duration_parse("every", every, ZUMA_SCHEDULE_EVERY_MIN,
                                          ZUMA_SCHEDULE_EVERY_MAX, &schedule->every, error))
                return NULL;
        if (timeout &&
            !zuma_duration_parse(OPTION_COMMAND_TIMEOUT, timeout, ZUMA_SCHEDULE_COMMAND_TIMEOUT_MIN,
                                 ZUMA_SCHEDULE_COMMAND_TIMEOUT_MAX, &schedule->command_timeout,
                                 error))
                return NULL;
        if (!zuma_schedule_validate(schedule, error))
                return NULL;
        return g_steal_pointer(&schedule);
}

GVariant *zuma_schedule_to_options(const ZumaSchedule *schedule)
{
        GVariantDict dict;

        g_return_val_if_fail(zuma_schedule_validate(schedule, NULL), NULL);
        g_variant_dict_init(&dict, NULL);
        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (schedule->keep[c])
                        g_variant_dict_insert(&dict,
                                              c == ZUMA_SCHEDULE_EVERY ? "keep" : class_names[c],
                                              "i", (gint32)schedule->keep[c]);
        if (schedule->every) {
                g_autofree char *every = zuma_duration_format(schedule->every);

                g_variant_dict_insert(&dict, "every", "s", every);
        }
        if (schedule->pre_command)
                g_variant_dict_insert(&dict, "pre", "s", schedule->pre_command);
        if (schedule->post_command)
                g_variant_dict_insert(&dict, "post", "s", schedule->post_command);
        if (schedule->command_timeout != ZUMA_SCHEDULE_COMMAND_TIMEOUT_DEFAULT) {
                g_autofree char *timeout = zuma_duration_format(schedule->command_timeout);

                g_variant_dict_insert(&dict, OPTION_COMMAND_TIMEOUT, "s", timeout);
        }
        return g_variant_dict_end(&dict);
}
