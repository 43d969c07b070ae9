/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replication protocol's frames: every type there and back, DATA cut
 * at its maximum, every malformed input (unknown type, reserved bytes,
 * lengths out of bounds, truncated header or payload, a body that is not
 * an a{sv} in normal form or holds a key twice), zuma_wire_expect() with
 * the wrong type and with the peer's ERROR, a socket pair with a writer
 * thread, and random frames there and back, then cut at random points.
 * The random test prints its seed; ZUMA_TEST_SEED=N replays it.
 */
#include <string.h>
#include <sys/socket.h>

#include "zuma-repl-wire.h"

static guint64 seed;

/* --- helpers --- */

static GOutputStream *memory_out(void)
{
        return g_memory_output_stream_new_resizable();
}

static GBytes *memory_out_bytes(GOutputStream *out)
{
        g_assert_true(g_output_stream_close(out, NULL, NULL));
        return g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(out));
}

static GInputStream *memory_in(GBytes *bytes)
{
        return g_memory_input_stream_new_from_bytes(bytes);
}

/* The stream of one header and payload bytes. */
static GInputStream *raw_frame(guint8 type, guint8 reserved1, guint32 length, const void *payload,
                               gsize payload_len)
{
        g_autoptr(GByteArray) raw = g_byte_array_new();
        g_autoptr(GBytes) bytes = NULL;
        guint32 length_le = GUINT32_TO_LE(length);
        guint8 head[4] = { type, 0, reserved1, 0 };

        g_byte_array_append(raw, head, sizeof(head));
        g_byte_array_append(raw, (const guint8 *)&length_le, sizeof(length_le));
        if (payload_len)
                g_byte_array_append(raw, payload, (guint)payload_len);
        bytes = g_byte_array_free_to_bytes(g_steal_pointer(&raw));
        return g_memory_input_stream_new_from_bytes(bytes);
}

static void assert_read_fails(GInputStream *in, gint code, const char *needle)
{
        g_auto(ZumaWireFrame) frame = { 0 };
        g_autoptr(GError) error = NULL;

        g_assert_false(zuma_wire_read(in, &frame, NULL, &error));
        g_assert_error(error, G_IO_ERROR, code);
        if (!strstr(error->message, needle))
                g_error("\"%s\" does not hold \"%s\"", error->message, needle);
        g_assert_null(frame.body);
        g_assert_null(frame.data);
        g_object_unref(in);
}

static GVariant *dict(const char *text)
{
        return g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL, NULL);
}

/* --- tests --- */

static void test_round_trip(void)
{
        g_autoptr(GOutputStream) out = memory_out();
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(GInputStream) in = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(ZumaWireFrame) frame = { 0 };
        g_autoptr(GVariant) hello = g_variant_ref_sink(
                dict("{'protocol': <uint32 1>, 'volume': <'0c5e1c1e'>, 'sender': <'src'>, "
                     "'purpose': <'replicate'>}"));
        guint8 data[1000];

        for (gsize i = 0; i < sizeof(data); i++)
                data[i] = (guint8)(i * 7);
        g_assert_true(zuma_wire_write(out, ZUMA_WIRE_HELLO, hello, NULL, &error));
        for (ZumaWireType type = ZUMA_WIRE_WELCOME; type <= ZUMA_WIRE_LAST; type++) {
                if (type == ZUMA_WIRE_DATA)
                        g_assert_true(zuma_wire_write_data(out, data, sizeof(data), NULL, &error));
                else if (type == ZUMA_WIRE_ERROR)
                        g_assert_true(zuma_wire_write_error(out, "no such volume", NULL, &error));
                else /* floating, and NULL (an empty dictionary) */
                        g_assert_true(zuma_wire_write(out, type,
                                                      type % 2 ? dict("{'n': <uint64 7>}") : NULL,
                                                      NULL, &error));
                g_assert_no_error(error);
        }
        bytes = memory_out_bytes(out);
        in = memory_in(bytes);

        g_assert_true(zuma_wire_read(in, &frame, NULL, &error));
        g_assert_cmpint(frame.type, ==, ZUMA_WIRE_HELLO);
        g_assert_true(g_variant_equal(frame.body, hello));
        g_assert_null(frame.data);
        for (ZumaWireType type = ZUMA_WIRE_WELCOME; type <= ZUMA_WIRE_LAST; type++) {
                zuma_wire_frame_clear(&frame);
                g_assert_true(zuma_wire_read(in, &frame, NULL, &error));
                g_assert_no_error(error);
                g_assert_cmpint(frame.type, ==, type);
                if (type == ZUMA_WIRE_DATA) {
                        g_assert_null(frame.body);
                        g_assert_cmpmem(g_bytes_get_data(frame.data, NULL),
                                        g_bytes_get_size(frame.data), data, sizeof(data));
                } else if (type == ZUMA_WIRE_ERROR) {
                        const char *message = NULL;

                        g_assert_true(g_variant_lookup(frame.body, "message", "&s", &message));
                        g_assert_cmpstr(message, ==, "no such volume");
                } else {
                        g_assert_cmpuint(g_variant_n_children(frame.body), ==, type % 2);
                }
        }
        zuma_wire_frame_clear(&frame);
        g_assert_false(zuma_wire_read(in, &frame, NULL, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
        g_assert_cmpstr(error->message, ==, "the peer closed the connection");
}

static void test_data_split(void)
{
        gsize len = 2 * ZUMA_WIRE_DATA_MAX + 5;
        g_autofree guint8 *data = g_malloc(len);
        g_autoptr(GOutputStream) out = memory_out();
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(GInputStream) in = NULL;
        gsize sizes[] = { ZUMA_WIRE_DATA_MAX, ZUMA_WIRE_DATA_MAX, 5 };
        gsize at = 0;

        for (gsize i = 0; i < len; i++)
                data[i] = (guint8)(i ^ (i >> 8));
        g_assert_true(zuma_wire_write_data(out, data, 0, NULL, NULL));
        g_assert_true(zuma_wire_write_data(out, data, len, NULL, NULL));
        bytes = memory_out_bytes(out);
        g_assert_cmpuint(g_bytes_get_size(bytes), ==, len + 3 * ZUMA_WIRE_HEADER_SIZE);
        in = memory_in(bytes);
        for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
                g_auto(ZumaWireFrame) frame = { 0 };

                g_assert_true(zuma_wire_read(in, &frame, NULL, NULL));
                g_assert_cmpint(frame.type, ==, ZUMA_WIRE_DATA);
                g_assert_cmpmem(g_bytes_get_data(frame.data, NULL), g_bytes_get_size(frame.data),
                                data + at, sizes[i]);
                at += sizes[i];
        }
}

static void test_bad_header(void)
{
        guint8 payload[16] = { 0 };

        assert_read_fails(raw_frame(0, 0, 0, NULL, 0), G_IO_ERROR_INVALID_DATA,
                          "frame header: unknown type 0");
        assert_read_fails(raw_frame(11, 0, 0, NULL, 0), G_IO_ERROR_INVALID_DATA,
                          "frame header: unknown type 11");
        assert_read_fails(raw_frame(255, 0, 0, NULL, 0), G_IO_ERROR_INVALID_DATA,
                          "unknown type 255");
        assert_read_fails(raw_frame(ZUMA_WIRE_END, 7, 0, NULL, 0), G_IO_ERROR_INVALID_DATA,
                          "frame header: reserved byte 1 is 0x07, not 0");
        /* Lengths out of bounds are refused from the header alone: no
         * payload follows, and none is read or allocated. */
        assert_read_fails(raw_frame(ZUMA_WIRE_DATA, 0, 0, NULL, 0), G_IO_ERROR_INVALID_DATA,
                          "DATA length 0 is outside 1..262144");
        assert_read_fails(raw_frame(ZUMA_WIRE_DATA, 0, ZUMA_WIRE_DATA_MAX + 1, NULL, 0),
                          G_IO_ERROR_INVALID_DATA, "DATA length 262145 is outside 1..262144");
        assert_read_fails(raw_frame(ZUMA_WIRE_HELLO, 0, ZUMA_WIRE_CONTROL_MAX + 1, NULL, 0),
                          G_IO_ERROR_INVALID_DATA, "HELLO length 65537 is above 65536");
        assert_read_fails(raw_frame(ZUMA_WIRE_RESULT, 0, G_MAXUINT32, NULL, 0),
                          G_IO_ERROR_INVALID_DATA, "RESULT length 4294967295 is above 65536");
        /* Truncations. */
        assert_read_fails(g_memory_input_stream_new_from_data(payload, 3, NULL),
                          G_IO_ERROR_INVALID_DATA,
                          "truncated frame: the connection ended after 3 of the 8 bytes of its "
                          "header");
        assert_read_fails(g_memory_input_stream_new(), G_IO_ERROR_CONNECTION_CLOSED,
                          "the peer closed the connection");
        assert_read_fails(raw_frame(ZUMA_WIRE_DATA, 0, 100, payload, sizeof(payload)),
                          G_IO_ERROR_INVALID_DATA,
                          "truncated frame: the connection ended after 16 of the 100 bytes of its "
                          "payload");
        assert_read_fails(raw_frame(ZUMA_WIRE_SEND, 0, 100, NULL, 0), G_IO_ERROR_INVALID_DATA,
                          "after 0 of the 100 bytes of its payload");
}

static void test_bad_body(void)
{
        g_autoptr(GVariant) good = g_variant_ref_sink(dict("{'a': <uint32 1>}"));
        g_autoptr(GVariant) tuple = g_variant_ref_sink(g_variant_new("(su)", "volume", 1));
        g_autofree guint8 *padded = g_memdup2(g_variant_get_data(good), g_variant_get_size(good));
        g_autoptr(GVariant) not_normal = NULL;
        g_autoptr(GVariantBuilder) builder = g_variant_builder_new(G_VARIANT_TYPE_VARDICT);
        g_autoptr(GVariant) twice = NULL;
        const char garbage[] = "this is not a dictionary";

        /* {'a': <uint32 1>}: "a\0", six bytes of padding to the variant's
         * 8-byte alignment, ... A non-zero padding byte is the same value
         * in a form that is not normal. */
        g_assert_cmpuint(padded[2], ==, 0);
        padded[2] = 0xff;
        not_normal = g_variant_ref_sink(g_variant_new_from_data(
                G_VARIANT_TYPE_VARDICT, padded, g_variant_get_size(good), FALSE, NULL, NULL));
        g_assert_false(g_variant_is_normal_form(not_normal));
        assert_read_fails(raw_frame(ZUMA_WIRE_HELLO, 0, (guint32)g_variant_get_size(good), padded,
                                    g_variant_get_size(good)),
                          G_IO_ERROR_INVALID_DATA,
                          "HELLO body (16 bytes) is not an a{sv} in normal form");
        assert_read_fails(raw_frame(ZUMA_WIRE_SEND, 0, (guint32)g_variant_get_size(tuple),
                                    g_variant_get_data(tuple), g_variant_get_size(tuple)),
                          G_IO_ERROR_INVALID_DATA, "SEND body (13 bytes) is not an a{sv}");
        assert_read_fails(raw_frame(ZUMA_WIRE_END, 0, sizeof(garbage), garbage, sizeof(garbage)),
                          G_IO_ERROR_INVALID_DATA, "END body (25 bytes) is not an a{sv}");

        g_variant_builder_add(builder, "{sv}", "to", g_variant_new_string("a"));
        g_variant_builder_add(builder, "{sv}", "to", g_variant_new_string("b"));
        twice = g_variant_ref_sink(g_variant_builder_end(builder));
        assert_read_fails(raw_frame(ZUMA_WIRE_SEND, 0, (guint32)g_variant_get_size(twice),
                                    g_variant_get_data(twice), g_variant_get_size(twice)),
                          G_IO_ERROR_INVALID_DATA, "SEND body: key \"to\" appears twice");
}

static void test_too_large(void)
{
        g_autoptr(GOutputStream) out = memory_out();
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *big = g_strnfill(ZUMA_WIRE_CONTROL_MAX, 'x');
        GVariantDict body;

        g_variant_dict_init(&body, NULL);
        g_variant_dict_insert(&body, "error", "s", big);
        g_assert_false(
                zuma_wire_write(out, ZUMA_WIRE_RESULT, g_variant_dict_end(&body), NULL, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
        g_assert_nonnull(strstr(error->message, "RESULT body is"));
        bytes = memory_out_bytes(out);
        g_assert_cmpuint(g_bytes_get_size(bytes), ==, 0);
}

static GInputStream *frames_of(void (*write)(GOutputStream *out))
{
        g_autoptr(GOutputStream) out = memory_out();
        g_autoptr(GBytes) bytes = NULL;

        write(out);
        bytes = memory_out_bytes(out);
        return memory_in(bytes);
}

static void write_result(GOutputStream *out)
{
        g_assert_true(zuma_wire_write(out, ZUMA_WIRE_RESULT, dict("{'ok': <true>}"), NULL, NULL));
}

static void write_refusal(GOutputStream *out)
{
        g_assert_true(zuma_wire_write_error(out, "no such volume", NULL, NULL));
}

static void write_dirty_refusal(GOutputStream *out)
{
        g_autofree char *long_text = g_strnfill(3 * ZUMA_WIRE_MESSAGE_MAX, 'y');
        g_autofree char *dirty = g_strconcat("bad\nline\033[31m é ", long_text, NULL);

        g_assert_true(zuma_wire_write_error(out, dirty, NULL, NULL));
}

static void write_silent_refusal(GOutputStream *out)
{
        g_assert_true(zuma_wire_write(out, ZUMA_WIRE_ERROR, NULL, NULL, NULL));
}

static void test_expect(void)
{
        g_autoptr(GInputStream) in = NULL;
        g_autoptr(GVariant) body = NULL;
        g_autoptr(GError) error = NULL;
        gboolean ok = FALSE;

        in = frames_of(write_result);
        g_assert_true(zuma_wire_expect(in, ZUMA_WIRE_RESULT, &body, NULL, &error));
        g_assert_true(g_variant_lookup(body, "ok", "b", &ok) && ok);
        g_clear_object(&in);

        in = frames_of(write_result);
        g_assert_false(zuma_wire_expect(in, ZUMA_WIRE_WELCOME, NULL, NULL, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        g_assert_cmpstr(error->message, ==, "expected a WELCOME frame, the peer sent RESULT");
        g_clear_error(&error);
        g_clear_object(&in);

        /* The peer's ERROR: who says it follows the direction of want. */
        in = frames_of(write_refusal);
        g_assert_false(zuma_wire_expect(in, ZUMA_WIRE_WELCOME, NULL, NULL, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
        g_assert_cmpstr(error->message, ==, "the receiver says: no such volume");
        g_clear_error(&error);
        g_clear_object(&in);

        in = frames_of(write_refusal);
        g_assert_false(zuma_wire_expect(in, ZUMA_WIRE_SEND, NULL, NULL, &error));
        g_assert_cmpstr(error->message, ==, "the sender says: no such volume");
        g_clear_error(&error);
        g_clear_object(&in);

        /* Control characters become spaces; the message is cut short. */
        in = frames_of(write_dirty_refusal);
        g_assert_false(zuma_wire_expect(in, ZUMA_WIRE_DIGEST, NULL, NULL, &error));
        g_assert_true(g_str_has_prefix(error->message, "the receiver says: bad line [31m é yyy"));
        g_assert_cmpuint(strlen(error->message), ==,
                         strlen("the receiver says: ") + ZUMA_WIRE_MESSAGE_MAX);
        g_clear_error(&error);
        g_clear_object(&in);

        in = frames_of(write_silent_refusal);
        g_assert_false(zuma_wire_expect(in, ZUMA_WIRE_RESULT, NULL, NULL, &error));
        g_assert_cmpstr(error->message, ==, "the receiver refused without a message");
        g_clear_error(&error);
        g_clear_object(&in);

        /* Expecting ERROR itself returns it like any frame. */
        in = frames_of(write_refusal);
        g_assert_true(zuma_wire_expect(in, ZUMA_WIRE_ERROR, &body, NULL, &error));
        g_assert_no_error(error);
}

static void test_type_names(void)
{
        g_assert_cmpstr(zuma_wire_type_name(ZUMA_WIRE_HELLO), ==, "HELLO");
        g_assert_cmpstr(zuma_wire_type_name(ZUMA_WIRE_DATA), ==, "DATA");
        g_assert_cmpstr(zuma_wire_type_name(ZUMA_WIRE_ERROR), ==, "ERROR");
        g_assert_cmpstr(zuma_wire_type_name(0), ==, "unknown");
        g_assert_cmpstr(zuma_wire_type_name(42), ==, "unknown");
}

/* --- over a socket pair --- */

#define PAIR_BYTES (3 * 1024 * 1024 + 17)

static gpointer pair_writer(gpointer data)
{
        GIOStream *stream = data;
        GOutputStream *out = g_io_stream_get_output_stream(stream);
        g_autofree guint8 *bytes = g_malloc(PAIR_BYTES);

        for (gsize i = 0; i < PAIR_BYTES; i++)
                bytes[i] = (guint8)(i % 251);
        g_assert_true(zuma_wire_write(out, ZUMA_WIRE_SEND, dict("{'to': <'s1'>}"), NULL, NULL));
        g_assert_true(zuma_wire_write_data(out, bytes, PAIR_BYTES, NULL, NULL));
        g_assert_true(zuma_wire_write(
                out, ZUMA_WIRE_END,
                g_variant_new_parsed("{'bytes': <uint64 %t>}", (guint64)PAIR_BYTES), NULL, NULL));
        g_assert_true(g_io_stream_close(stream, NULL, NULL));
        return NULL;
}

static GIOStream *socket_stream(int fd)
{
        g_autoptr(GSocket) socket = g_socket_new_from_fd(fd, NULL);

        g_assert_nonnull(socket);
        return G_IO_STREAM(g_socket_connection_factory_create_connection(socket));
}

static void test_socket_pair(void)
{
        int fds[2];
        g_autoptr(GIOStream) reader = NULL;
        g_autoptr(GIOStream) writer = NULL;
        GInputStream *in;
        GThread *thread;
        guint64 total = 0, announced = 0;
        g_autoptr(GVariant) end = NULL;

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
        reader = socket_stream(fds[0]);
        writer = socket_stream(fds[1]);
        in = g_io_stream_get_input_stream(reader);
        thread = g_thread_new("writer", pair_writer, writer);
        g_assert_true(zuma_wire_expect(in, ZUMA_WIRE_SEND, NULL, NULL, NULL));
        for (;;) {
                g_auto(ZumaWireFrame) frame = { 0 };
                const guint8 *data;
                gsize size;

                g_assert_true(zuma_wire_read(in, &frame, NULL, NULL));
                if (frame.type == ZUMA_WIRE_END) {
                        end = g_steal_pointer(&frame.body);
                        break;
                }
                g_assert_cmpint(frame.type, ==, ZUMA_WIRE_DATA);
                data = g_bytes_get_data(frame.data, &size);
                for (gsize i = 0; i < size; i++)
                        g_assert_cmpuint(data[i], ==, (total + i) % 251);
                total += size;
        }
        g_thread_join(thread);
        g_assert_true(g_variant_lookup(end, "bytes", "t", &announced));
        g_assert_cmpuint(total, ==, PAIR_BYTES);
        g_assert_cmpuint(announced, ==, PAIR_BYTES);
}

/* --- random frames --- */

static GVariant *random_value(GRand *rand)
{
        switch (g_rand_int_range(rand, 0, 6)) {
        case 0:
                return g_variant_new_boolean(g_rand_boolean(rand));
        case 1:
                return g_variant_new_uint32(g_rand_int(rand));
        case 2:
                return g_variant_new_int64((gint64)g_rand_int(rand) << 20);
        case 3:
                return g_variant_new_uint64((guint64)g_rand_int(rand) << 32 | g_rand_int(rand));
        case 4: {
                g_autofree char *text = g_strnfill((gsize)g_rand_int_range(rand, 0, 300),
                                                   (char)g_rand_int_range(rand, 'a', 'z'));
                return g_variant_new_string(text);
        }
        default: {
                /* a(sx), as WELCOME's snapshot list. */
                GVariantBuilder list;
                int n = g_rand_int_range(rand, 0, 20);

                g_variant_builder_init(&list, G_VARIANT_TYPE("a(sx)"));
                for (int i = 0; i < n; i++) {
                        g_autofree char *name = g_strdup_printf("snap-%d", i);

                        g_variant_builder_add(&list, "(sx)", name,
                                              (gint64)g_rand_int(rand) - G_MAXINT32);
                }
                return g_variant_builder_end(&list);
        }
        }
}

static GVariant *random_body(GRand *rand)
{
        GVariantDict body;
        int n = g_rand_int_range(rand, 0, 8);

        g_variant_dict_init(&body, NULL);
        for (int i = 0; i < n; i++) {
                g_autofree char *key = g_strdup_printf("k%d", g_rand_int_range(rand, 0, 100));

                g_variant_dict_insert_value(&body, key, random_value(rand));
        }
        return g_variant_ref_sink(g_variant_dict_end(&body));
}

typedef struct Expected {
        ZumaWireType type;
        GVariant *body;
        GBytes *data;
} Expected;

static void expected_free(gpointer data)
{
        Expected *expected = data;

        g_clear_pointer(&expected->body, g_variant_unref);
        g_clear_pointer(&expected->data, g_bytes_unref);
        g_free(expected);
}

static void test_random(void)
{
        g_autoptr(GRand) rand = g_rand_new_with_seed((guint32)seed);
        g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func(expected_free);
        g_autoptr(GOutputStream) out = memory_out();
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(GInputStream) in = NULL;
        int n = g_rand_int_range(rand, 20, 200);

        for (int i = 0; i < n; i++) {
                Expected *expected = g_new0(Expected, 1);

                expected->type =
                        (ZumaWireType)g_rand_int_range(rand, ZUMA_WIRE_HELLO, ZUMA_WIRE_LAST + 1);
                if (expected->type == ZUMA_WIRE_DATA) {
                        gsize len = (gsize)g_rand_int_range(rand, 1, ZUMA_WIRE_DATA_MAX + 1);
                        guint8 *data = g_malloc(len);

                        for (gsize j = 0; j < len; j++)
                                data[j] = (guint8)g_rand_int(rand);
                        expected->data = g_bytes_new_take(data, len);
                        g_assert_true(zuma_wire_write_data(out, data, len, NULL, NULL));
                } else {
                        expected->body = random_body(rand);
                        g_assert_true(
                                zuma_wire_write(out, expected->type, expected->body, NULL, NULL));
                }
                g_ptr_array_add(sent, expected);
        }
        bytes = memory_out_bytes(out);
        in = memory_in(bytes);
        for (guint i = 0; i < sent->len; i++) {
                const Expected *expected = sent->pdata[i];
                g_auto(ZumaWireFrame) frame = { 0 };

                g_assert_true(zuma_wire_read(in, &frame, NULL, NULL));
                g_assert_cmpint(frame.type, ==, expected->type);
                if (expected->data)
                        g_assert_true(g_bytes_equal(frame.data, expected->data));
                else
                        g_assert_true(g_variant_equal(frame.body, expected->body));
        }
        g_clear_object(&in);

        /* Cut at random points: every frame before the cut reads back, and
         * the one cut ends in "truncated frame" or a clean close. */
        for (int round = 0; round < 50; round++) {
                gsize cut = (gsize)g_rand_int_range(rand, 0, (gint32)g_bytes_get_size(bytes));
                g_autoptr(GBytes) head = g_bytes_new_from_bytes(bytes, 0, cut);
                g_autoptr(GError) error = NULL;
                gsize read = 0;

                in = memory_in(head);
                for (;;) {
                        g_auto(ZumaWireFrame) frame = { 0 };

                        if (!zuma_wire_read(in, &frame, NULL, &error))
                                break;
                        read += ZUMA_WIRE_HEADER_SIZE + (frame.data
                                                                 ? g_bytes_get_size(frame.data)
                                                                 : g_variant_get_size(frame.body));
                }
                g_assert_cmpuint(read, <=, cut);
                if (read == cut)
                        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
                else
                        g_assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA) &&
                                      g_str_has_prefix(error->message, "truncated frame"));
                g_clear_object(&in);
        }
}

int main(int argc, char **argv)
{
        const char *seed_text = g_getenv("ZUMA_TEST_SEED");

        g_test_init(&argc, &argv, NULL);
        seed = seed_text ? g_ascii_strtoull(seed_text, NULL, 0) : (guint64)g_get_real_time();
        seed &= G_MAXUINT32;
        g_print("# seed=%" G_GUINT64_FORMAT " (ZUMA_TEST_SEED=%" G_GUINT64_FORMAT " replays)\n",
                seed, seed);
        g_test_add_func("/repl-wire/round-trip", test_round_trip);
        g_test_add_func("/repl-wire/data-split", test_data_split);
        g_test_add_func("/repl-wire/bad-header", test_bad_header);
        g_test_add_func("/repl-wire/bad-body", test_bad_body);
        g_test_add_func("/repl-wire/too-large", test_too_large);
        g_test_add_func("/repl-wire/expect", test_expect);
        g_test_add_func("/repl-wire/type-names", test_type_names);
        g_test_add_func("/repl-wire/socket-pair", test_socket_pair);
        g_test_add_func("/repl-wire/random", test_random);
        return g_test_run();
}
