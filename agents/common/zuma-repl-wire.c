/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Frames in and out of a byte stream (the format is at the top of
 * zuma-repl-wire.h and in docs/replication-protocol.md).
 *
 * A read checks the header completely (type, reserved bytes, the length
 * against the type's bounds) before it allocates the payload, so a peer
 * announcing four gigabytes costs nothing.  A control body must be an
 * a{sv} in normal form with every key once: the GVariant serialisation
 * accepts other forms, but a peer that sends them is broken or hostile,
 * and two values for one key would leave the meaning to whichever lookup
 * the daemon happens to use.
 */
#define G_LOG_DOMAIN "zuma-repl-wire"

#include "zuma-repl-wire.h"

#include <string.h>

#include "zuma-options.h"

static const char *const type_names[] = {
        [ZUMA_WIRE_HELLO] = "HELLO",   [ZUMA_WIRE_WELCOME] = "WELCOME",
        [ZUMA_WIRE_SEND] = "SEND",     [ZUMA_WIRE_DATA] = "DATA",
        [ZUMA_WIRE_END] = "END",       [ZUMA_WIRE_RESULT] = "RESULT",
        [ZUMA_WIRE_VERIFY] = "VERIFY", [ZUMA_WIRE_DIGEST] = "DIGEST",
        [ZUMA_WIRE_ERROR] = "ERROR",   [ZUMA_WIRE_READY] = "READY",
};

static gboolean type_is_known(guint type)
{
        return type < G_N_ELEMENTS(type_names) && type_names[type] != NULL;
}

const char *zuma_wire_type_name(ZumaWireType type)
{
        return type_is_known(type) ? type_names[type] : "unknown";
}

/* Who sends frames of this type; ERROR goes both ways. */
static const char *type_sender(ZumaWireType type)
{
        switch (type) {
        case ZUMA_WIRE_WELCOME:
        case ZUMA_WIRE_READY:
        case ZUMA_WIRE_RESULT:
        case ZUMA_WIRE_DIGEST:
                return "receiver";
        default:
                return "sender";
        }
}

void zuma_wire_frame_clear(ZumaWireFrame *frame)
{
        g_clear_pointer(&frame->body, g_variant_unref);
        g_clear_pointer(&frame->data, g_bytes_unref);
        frame->type = 0;
}

/* --- header accessors --- */

static void header_set(ZumaWireHeader *header, ZumaWireType type, gsize length)
{
        memset(header, 0, sizeof(*header));
        header->type = (guint8)type;
        header->length_le = GUINT32_TO_LE((guint32)length);
}

static guint32 header_length(const ZumaWireHeader *header)
{
        return GUINT32_FROM_LE(header->length_le);
}

static gboolean header_check(const ZumaWireHeader *header, GError **error)
{
        guint32 length = header_length(header);

        if (!type_is_known(header->type)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "frame header: unknown type %u", header->type);
                return FALSE;
        }
        for (guint i = 0; i < G_N_ELEMENTS(header->reserved); i++) {
                if (header->reserved[i] != 0) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                    "frame header: reserved byte %u is 0x%02x, not 0", i,
                                    header->reserved[i]);
                        return FALSE;
                }
        }
        if (header->type == ZUMA_WIRE_DATA && (length == 0 || length > ZUMA_WIRE_DATA_MAX)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "frame header: DATA length %u is outside 1..%u", length,
                            ZUMA_WIRE_DATA_MAX);
                return FALSE;
        }
        if (header->type != ZUMA_WIRE_DATA && length > ZUMA_WIRE_CONTROL_MAX) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "frame header: %s length %u is above %u", type_names[header->type],
                            length, ZUMA_WIRE_CONTROL_MAX);
                return FALSE;
        }
        return TRUE;
}

/* --- writing --- */

static gboolean write_frame(GOutputStream *out, ZumaWireType type, const void *payload,
                            gsize length, GCancellable *cancellable, GError **error)
{
        ZumaWireHeader header;
        GOutputVector vectors[2];

        header_set(&header, type, length);
        vectors[0] = (GOutputVector){ &header, sizeof(header) };
        vectors[1] = (GOutputVector){ payload, length };
        return g_output_stream_writev_all(out, vectors, length > 0 ? 2 : 1, NULL, cancellable,
                                          error);
}

gboolean zuma_wire_write(GOutputStream *out, ZumaWireType type, GVariant *body,
                         GCancellable *cancellable, GError **error)
{
        g_autoptr(GVariant) owned = body ? g_variant_ref_sink(body) : NULL;
        g_autoptr(GVariant) normal = NULL;
        gsize size;

        g_return_val_if_fail(type_is_known(type) && type != ZUMA_WIRE_DATA, FALSE);
        g_return_val_if_fail(!body || g_variant_is_of_type(body, G_VARIANT_TYPE_VARDICT), FALSE);

        if (!owned)
                owned = g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
        normal = g_variant_get_normal_form(owned);
        size = g_variant_get_size(normal);
        if (size > ZUMA_WIRE_CONTROL_MAX) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                            "%s body is %zu bytes, above %u", type_names[type], size,
                            ZUMA_WIRE_CONTROL_MAX);
                return FALSE;
        }
        return write_frame(out, type, g_variant_get_data(normal), size, cancellable, error);
}

gboolean zuma_wire_write_data(GOutputStream *out, const void *buf, gsize len,
                              GCancellable *cancellable, GError **error)
{
        const guint8 *bytes = buf;

        while (len > 0) {
                gsize piece = MIN(len, (gsize)ZUMA_WIRE_DATA_MAX);

                if (!write_frame(out, ZUMA_WIRE_DATA, bytes, piece, cancellable, error))
                        return FALSE;
                bytes += piece;
                len -= piece;
        }
        return TRUE;
}

/* At most ZUMA_WIRE_MESSAGE_MAX bytes of text (valid UTF-8: GVariant
 * checked it) without control characters: a peer's message goes into logs
 * and error replies. */
static char *clean_message(const char *text)
{
        const char *end = text;
        GString *clean;

        while (*end) {
                const char *next = g_utf8_next_char(end);

                if ((gsize)(next - text) > ZUMA_WIRE_MESSAGE_MAX)
                        break;
                end = next;
        }
        clean = g_string_new_len(text, end - text);
        for (gsize i = 0; i < clean->len; i++) {
                guchar c = (guchar)clean->str[i];

                if (c < 0x20 || c == 0x7f)
                        clean->str[i] = ' ';
        }
        return g_string_free(clean, FALSE);
}

gboolean zuma_wire_write_error(GOutputStream *out, const char *message, GCancellable *cancellable,
                               GError **error)
{
        g_autofree char *clean = NULL;
        GVariantDict dict;

        g_return_val_if_fail(g_utf8_validate(message, -1, NULL), FALSE);

        clean = clean_message(message);
        g_variant_dict_init(&dict, NULL);
        g_variant_dict_insert(&dict, "message", "s", clean);
        return zuma_wire_write(out, ZUMA_WIRE_ERROR, g_variant_dict_end(&dict), cancellable, error);
}

/* --- reading --- */

/* Reads exactly len bytes; what names the part for a truncation.  At a
 * frame's start, no byte at all is the peer closing, not a truncation. */
static gboolean read_exact(GInputStream *in, void *buf, gsize len, const char *what,
                           gboolean frame_start, GCancellable *cancellable, GError **error)
{
        gsize got = 0;

        if (len == 0) /* an empty body: buf is NULL */
                return TRUE;
        if (!g_input_stream_read_all(in, buf, len, &got, cancellable, error))
                return FALSE;
        if (got == len)
                return TRUE;
        if (got == 0 && frame_start) {
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                    "the peer closed the connection");
                return FALSE;
        }
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "truncated frame: the connection ended after %zu of the %zu bytes of its %s",
                    got, len, what);
        return FALSE;
}

static gboolean check_unique_keys(GVariant *body, ZumaWireType type, GError **error)
{
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        gsize n = g_variant_n_children(body);

        for (gsize i = 0; i < n; i++) {
                const char *key = NULL;

                g_variant_get_child(body, i, "{&sv}", &key, NULL);
                if (!g_hash_table_add(seen, (gpointer)key)) {
                        g_autofree char *quoted = zuma_quote(key);

                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                    "%s body: key %s appears twice", type_names[type], quoted);
                        return FALSE;
                }
        }
        return TRUE;
}

static GVariant *parse_body(GBytes *payload, ZumaWireType type, GError **error)
{
        g_autoptr(GVariant) body = g_variant_ref_sink(
                g_variant_new_from_bytes(G_VARIANT_TYPE_VARDICT, payload, FALSE));

        /* Bytes that are not an a{sv} are not in its normal form either:
         * GVariant reads them as a default value, which the check refuses. */
        if (!g_variant_is_normal_form(body)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "%s body (%zu bytes) is not an a{sv} in normal form", type_names[type],
                            g_bytes_get_size(payload));
                return NULL;
        }
        if (!check_unique_keys(body, type, error))
                return NULL;
        return g_steal_pointer(&body);
}

gboolean zuma_wire_read(GInputStream *in, ZumaWireFrame *ret, GCancellable *cancellable,
                        GError **error)
{
        ZumaWireHeader header;
        g_autoptr(GBytes) payload = NULL;
        g_autoptr(GVariant) body = NULL;
        guint32 length;
        guint8 *buf;

        if (!read_exact(in, &header, sizeof(header), "header", TRUE, cancellable, error))
                return FALSE;
        if (!header_check(&header, error))
                return FALSE;
        length = header_length(&header);
        buf = g_malloc(length);
        /* Take it at once so every return below frees it. */
        payload = g_bytes_new_take(buf, length);
        if (!read_exact(in, buf, length, "payload", FALSE, cancellable, error))
                return FALSE;
        if (header.type != ZUMA_WIRE_DATA) {
                body = parse_body(payload, header.type, error);
                if (!body)
                        return FALSE;
        }
        ret->type = header.type;
        ret->body = g_steal_pointer(&body);
        ret->data = header.type == ZUMA_WIRE_DATA ? g_steal_pointer(&payload) : NULL;
        return TRUE;
}

void zuma_wire_set_peer_error(GError **error, const char *peer, GVariant *body)
{
        const char *message = NULL;
        g_autofree char *clean = NULL;

        if (!body || !g_variant_lookup(body, "message", "&s", &message)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "the %s refused without a message", peer);
                return;
        }
        clean = clean_message(message);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the %s says: %s", peer, clean);
}

gboolean zuma_wire_expect(GInputStream *in, ZumaWireType want, GVariant **ret_body,
                          GCancellable *cancellable, GError **error)
{
        g_auto(ZumaWireFrame) frame = { 0 };

        g_return_val_if_fail(type_is_known(want) && want != ZUMA_WIRE_DATA, FALSE);

        if (!zuma_wire_read(in, &frame, cancellable, error))
                return FALSE;
        if (frame.type == ZUMA_WIRE_ERROR && want != ZUMA_WIRE_ERROR) {
                zuma_wire_set_peer_error(error, type_sender(want), frame.body);
                return FALSE;
        }
        if (frame.type != want) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "expected a %s frame, the peer sent %s", type_names[want],
                            type_names[frame.type]);
                return FALSE;
        }
        if (ret_body)
                *ret_body = g_steal_pointer(&frame.body);
        return TRUE;
}
