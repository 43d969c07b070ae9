/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zuma-repl-peer: a hostile sender for the replication fault test.  It
 * connects to zuma-recvd over TLS with a certificate the receiver allows
 * (so the TLS layer lets it through and what it says next is judged by the
 * protocol's reader) and misbehaves in one way:
 *
 *   garbage SEED             random bytes instead of HELLO
 *   hello UUID               a HELLO for that volume, then nothing more
 *   send UUID FROM CTIME     HELLO, then SEND of an incremental stream
 *                            to "hostile" over FROM with that ctime
 *   stall UUID               HELLO, then silence until the receiver acts
 *   flood UUID BYTES SEED    HELLO, a valid full SEND, then BYTES of random
 *                            DATA (as long as the receiver takes them), END
 *
 * Usage: zuma-repl-peer CERT KEY PIN ADDR:PORT MODE ARGS...
 * It prints what the receiver answered last, one line:
 *   "ERROR <message>", "WELCOME", "READY", "RESULT ok=<b> <error>",
 *   "closed <error>" (the connection ended or failed without a message),
 * then "sent N" (DATA bytes accepted, flood) and "elapsed S" (seconds
 * from HELLO to that answer).  It exits 0 once it has an answer; 2 on a
 * usage or setup error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "zuma-repl-tls.h"
#include "zuma-repl-wire.h"

typedef struct {
        GInputStream *in;
        GOutputStream *out;
        gint64 started_us;
        guint64 sent;
} Peer;

static void report_frame(Peer *p, const ZumaWireFrame *frame)
{
        const char *message = "";
        gboolean ok = FALSE;

        switch (frame->type) {
        case ZUMA_WIRE_ERROR:
                g_variant_lookup(frame->body, "message", "&s", &message);
                printf("ERROR %s\n", message);
                break;
        case ZUMA_WIRE_RESULT:
                g_variant_lookup(frame->body, "ok", "b", &ok);
                g_variant_lookup(frame->body, "error", "&s", &message);
                printf("RESULT ok=%d %s\n", ok, message);
                break;
        default:
                printf("%s\n", zuma_wire_type_name(frame->type));
                break;
        }
}

/* Reads the receiver's next frame and prints it; returns its type, or 0
 * when the connection ended. */
static int answer(Peer *p)
{
        g_auto(ZumaWireFrame) frame = { 0 };
        g_autoptr(GError) error = NULL;

        if (!zuma_wire_read(p->in, &frame, NULL, &error)) {
                printf("closed %s\n", error->message);
                return 0;
        }
        report_frame(p, &frame);
        return frame.type;
}

static void finish(Peer *p)
{
        printf("sent %" G_GUINT64_FORMAT "\nelapsed %.1f\n", p->sent,
               (double)(g_get_monotonic_time() - p->started_us) / G_USEC_PER_SEC);
}

static gboolean hello(Peer *p, const char *uuid, GError **error)
{
        return zuma_wire_write(p->out, ZUMA_WIRE_HELLO,
                               g_variant_new_parsed("{'protocol': <%u>, 'volume': <%s>, "
                                                    "'sender': <'hostile'>, "
                                                    "'purpose': <'replicate'>}",
                                                    (guint32)ZUMA_WIRE_PROTOCOL_VERSION, uuid),
                               NULL, error);
}

static gboolean send_request(Peer *p, const char *from, gint64 from_ctime, GError **error)
{
        return zuma_wire_write(p->out, ZUMA_WIRE_SEND,
                               g_variant_new_parsed("{'to': <'hostile'>, 'to_ctime': <%x>, "
                                                    "'from': <%s>, 'from_ctime': <%x>, "
                                                    "'volume_name': <'hostile'>}",
                                                    (gint64)1, from, from_ctime),
                               NULL, error);
}

static void random_fill(GRand *rand, guint8 *buf, gsize len)
{
        for (gsize i = 0; i + 4 <= len; i += 4) {
                guint32 word = g_rand_int(rand);

                memcpy(buf + i, &word, 4);
        }
}

/* DATA until BYTES are out or the receiver stops taking them; then its
 * answer (an ERROR it sent when it gave up, or RESULT after END). */
static void flood(Peer *p, guint64 bytes, guint32 seed)
{
        g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
        g_autofree guint8 *buf = g_malloc(ZUMA_WIRE_DATA_MAX);
        g_autoptr(GError) error = NULL;

        random_fill(rand, buf, ZUMA_WIRE_DATA_MAX);
        while (p->sent < bytes) {
                gsize n = MIN(bytes - p->sent, ZUMA_WIRE_DATA_MAX);

                /* A few changed bytes per frame: not one repeated block. */
                buf[g_rand_int_range(rand, 0, ZUMA_WIRE_DATA_MAX)] ^= 0x5a;
                if (!zuma_wire_write_data(p->out, buf, n, NULL, &error))
                        break;
                p->sent += n;
        }
        if (!error)
                zuma_wire_write(p->out, ZUMA_WIRE_END,
                                g_variant_new_parsed("{'bytes': <%t>}", p->sent), NULL, NULL);
        answer(p);
}

int main(int argc, char **argv)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GTlsCertificate) identity = NULL;
        g_autoptr(GIOStream) tcp = NULL, tls = NULL;
        g_autoptr(GSocketConnectable) server = NULL;
        g_autofree char *host = NULL;
        const char *mode;
        guint16 port = 0;
        Peer p = { 0 };

        if (argc < 7) {
                fprintf(stderr, "usage: zuma-repl-peer CERT KEY PIN ADDR:PORT MODE ARGS...\n");
                return 2;
        }
        mode = argv[5];
        identity = zuma_tls_load_identity(argv[1], argv[2], &error);
        if (!identity ||
            !zuma_repl_parse_address(argv[4], ZUMA_REPL_DEFAULT_PORT, &host, &port, &error))
                goto fail;
        /* The receiver's timeout is the one under test: ours is long. */
        tcp = zuma_repl_connect_tcp(host, port, 600, NULL, &error);
        if (!tcp)
                goto fail;
        server = g_network_address_new(host, port);
        tls = zuma_tls_client_handshake(tcp, server, identity, argv[3], NULL, NULL, &error);
        if (!tls)
                goto fail;
        p.in = g_io_stream_get_input_stream(tls);
        p.out = g_io_stream_get_output_stream(tls);
        p.started_us = g_get_monotonic_time();

        if (g_str_equal(mode, "garbage")) {
                g_autoptr(GRand) rand = g_rand_new_with_seed((guint32)strtoul(argv[6], NULL, 0));
                guint8 junk[4096];

                random_fill(rand, junk, sizeof(junk));
                junk[0] = 0x7f; /* never a valid frame type */
                if (!g_output_stream_write_all(p.out, junk, sizeof(junk), NULL, NULL, &error))
                        goto fail;
                answer(&p);
        } else if (g_str_equal(mode, "hello") || g_str_equal(mode, "stall")) {
                if (!hello(&p, argv[6], &error))
                        goto fail;
                if (answer(&p) == ZUMA_WIRE_WELCOME && g_str_equal(mode, "stall"))
                        answer(&p);
        } else if (g_str_equal(mode, "send") && argc == 9) {
                if (!hello(&p, argv[6], &error))
                        goto fail;
                if (answer(&p) == ZUMA_WIRE_WELCOME) {
                        if (!send_request(&p, argv[7], g_ascii_strtoll(argv[8], NULL, 10), &error))
                                goto fail;
                        answer(&p);
                }
        } else if (g_str_equal(mode, "flood") && argc == 9) {
                if (!hello(&p, argv[6], &error))
                        goto fail;
                if (answer(&p) == ZUMA_WIRE_WELCOME) {
                        if (!send_request(&p, "", 0, &error))
                                goto fail;
                        if (answer(&p) == ZUMA_WIRE_READY)
                                flood(&p, g_ascii_strtoull(argv[7], NULL, 10),
                                      (guint32)strtoul(argv[8], NULL, 0));
                }
        } else {
                fprintf(stderr, "zuma-repl-peer: unknown mode or arguments: %s\n", mode);
                return 2;
        }
        finish(&p);
        return 0;
fail:
        fprintf(stderr, "zuma-repl-peer: %s\n", error->message);
        return 2;
}
