/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-options"

#include "zuma-options.h"

#include <stdarg.h>
#include <string.h>

#include "snapstore.h"
#include "zuma-error.h"
#include "zuma-name-rule.h"

#define QUOTE_CHARS 64

_Static_assert(ZUMA_VOLUME_NAME_MAX == SS_VOLUME_NAME_MAX, "volume names as the store keeps them");
_Static_assert(ZUMA_SNAPSHOT_NAME_MAX == SS_NAME_MAX, "snapshot names as the store keeps them");

char *zuma_quote(const char *text)
{
        g_autofree char *head = NULL;
        g_autofree char *escaped = NULL;
        const char *end = text;

        if (!g_utf8_validate(text, -1, NULL))
                return g_strdup("(invalid UTF-8)");
        for (guint i = 0; i < QUOTE_CHARS && *end; i++)
                end = g_utf8_next_char(end);
        head = g_strndup(text, (gsize)(end - text));
        /* g_strescape() turns every byte outside printable ASCII into an
         * octal escape, so the result is plain ASCII. */
        escaped = g_strescape(head, NULL);
        return g_strdup_printf("\"%s\"%s", escaped, *end ? "…" : "");
}

typedef struct OptionSpec {
        const char *name;
        const char *type;
        gpointer value;
} OptionSpec;

static gboolean set_option(const OptionSpec *spec, GVariant *value, GError **error)
{
        /* "@TYPE": any other type, as a GVariant. */
        const char *type = spec->type[0] == '@' ? spec->type + 1 : spec->type;

        if (!g_variant_is_of_type(value, G_VARIANT_TYPE(type))) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "option \"%s\" must be of type '%s', not '%s'", spec->name, type,
                            g_variant_get_type_string(value));
                return FALSE;
        }
        if (spec->type[0] == '@') {
                GVariant **slot = spec->value;

                if (*slot)
                        g_variant_unref(*slot);
                *slot = g_variant_ref(value);
                return TRUE;
        }
        switch (spec->type[0]) {
        case 'b':
                *(gboolean *)spec->value = g_variant_get_boolean(value);
                break;
        case 'u':
                *(guint32 *)spec->value = g_variant_get_uint32(value);
                break;
        case 'i':
                *(gint32 *)spec->value = g_variant_get_int32(value);
                break;
        case 't':
                *(guint64 *)spec->value = g_variant_get_uint64(value);
                break;
        case 's': {
                gsize len = 0;
                const char *s = g_variant_get_string(value, &len);

                if (len > ZUMA_OPTION_STRING_MAX) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "option \"%s\" is too long (%" G_GSIZE_FORMAT
                                    " bytes, at most %d)",
                                    spec->name, len, ZUMA_OPTION_STRING_MAX);
                        return FALSE;
                }
                g_free(*(char **)spec->value);
                *(char **)spec->value = g_strdup(s);
                break;
        }
        default:
                g_assert_not_reached();
        }
        return TRUE;
}

gboolean zuma_options_parse(GVariant *options, GError **error, ...)
{
        g_autoptr(GArray) specs = g_array_new(FALSE, FALSE, sizeof(OptionSpec));
        GVariantIter iter;
        const char *key;
        GVariant *value;
        va_list ap;

        if (!options || !g_variant_is_of_type(options, G_VARIANT_TYPE_VARDICT)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "options must be of type 'a{sv}', not '%s'",
                            options ? g_variant_get_type_string(options) : "nothing");
                return FALSE;
        }

        va_start(ap, error);
        for (;;) {
                OptionSpec spec;

                spec.name = va_arg(ap, const char *);
                if (!spec.name)
                        break;
                spec.type = va_arg(ap, const char *);
                spec.value = va_arg(ap, gpointer);
                g_assert((strlen(spec.type) == 1 && strchr("buits", spec.type[0])) ||
                         (spec.type[0] == '@' && g_variant_type_string_is_valid(spec.type + 1)));
                g_array_append_val(specs, spec);
        }
        va_end(ap);

        g_variant_iter_init(&iter, options);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                g_autoptr(GVariant) owned = value;
                const OptionSpec *found = NULL;

                for (guint i = 0; i < specs->len && !found; i++) {
                        const OptionSpec *spec = &g_array_index(specs, OptionSpec, i);

                        if (g_str_equal(spec->name, key))
                                found = spec;
                }
                if (!found) {
                        g_autofree char *quoted = zuma_quote(key);

                        if (specs->len == 0)
                                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                            "unknown option %s: this method takes none", quoted);
                        else
                                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                            "unknown option %s", quoted);
                        return FALSE;
                }
                if (!set_option(found, owned, error))
                        return FALSE;
        }
        return TRUE;
}

static gboolean check_name(const char *what, const char *name, ZumaNameVerdict verdict, gsize max,
                           const char *rule, GError **error)
{
        g_autofree char *quoted = NULL;

        switch (verdict) {
        case ZUMA_NAME_VALID:
                return TRUE;
        case ZUMA_NAME_EMPTY:
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT, "the %s is empty",
                            what);
                return FALSE;
        case ZUMA_NAME_TOO_LONG:
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the %s is too long (%" G_GSIZE_FORMAT
                            " bytes, at most %" G_GSIZE_FORMAT ")",
                            what, strlen(name), max);
                return FALSE;
        default:
                quoted = zuma_quote(name);
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the %s %s is invalid: use %s", what, quoted, rule);
                return FALSE;
        }
}

gboolean zuma_check_volume_name(const char *name, GError **error)
{
        return check_name("volume name", name, zuma_volume_name_check(name, NULL),
                          ZUMA_VOLUME_NAME_MAX, ZUMA_VOLUME_NAME_RULE, error);
}

gboolean zuma_check_snapshot_name(const char *name, GError **error)
{
        return check_name("snapshot name", name, zuma_snapshot_name_check(name, NULL),
                          ZUMA_SNAPSHOT_NAME_MAX, ZUMA_SNAPSHOT_NAME_RULE, error);
}

gboolean zuma_check_path(const char *what, const char *path, GError **error)
{
        gsize len = strlen(path);
        g_auto(GStrv) parts = NULL;

        if (len == 0) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT, "the %s is empty",
                            what);
                return FALSE;
        }
        if (len > ZUMA_PATH_MAX) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the %s path is too long (%" G_GSIZE_FORMAT " bytes, at most %d)", what,
                            len, ZUMA_PATH_MAX);
                return FALSE;
        }
        if (path[0] != '/') {
                g_autofree char *quoted = zuma_quote(path);
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the %s %s is not an absolute path", what, quoted);
                return FALSE;
        }
        parts = g_strsplit(path, "/", -1);
        for (guint i = 0; parts[i]; i++) {
                if (g_str_equal(parts[i], ".") || g_str_equal(parts[i], "..")) {
                        g_autofree char *quoted = zuma_quote(path);
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "the %s %s must not contain \".\" or \"..\"", what, quoted);
                        return FALSE;
                }
        }
        return TRUE;
}
