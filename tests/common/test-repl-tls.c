/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replication connection: fingerprints (against openssl's), their
 * parser, host:port parsing, the TCP read timeout, and mutual TLS over a
 * socket pair with the client in a thread: a pinned server, a wrong pin
 * (the refusal names both fingerprints), a client the server does not
 * know, a client without a certificate, and both ends validated by a CA
 * file instead of pins.  The certificates (EC P-256) are made with the
 * openssl command in a temporary directory; without it, or without a TLS
 * backend (glib-networking), the TLS tests are skipped.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "zuma-pool-threads.h"
#include "zuma-repl-tls.h"
#include "zuma-repl-wire.h"

static char *workdir;

/* --- certificates --- */

static gboolean have_openssl(void)
{
        g_autofree char *path = g_find_program_in_path("openssl");

        return path != NULL;
}

static gboolean have_tls(void)
{
        if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
                g_test_skip("no TLS backend: install glib-networking");
                return FALSE;
        }
        if (!have_openssl()) {
                g_test_skip("the openssl command is missing: it makes the test certificates");
                return FALSE;
        }
        return TRUE;
}

static char *path_of(const char *name)
{
        return g_build_filename(workdir, name, NULL);
}

static char *openssl(const char *const *argv)
{
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;

        g_assert_true(g_spawn_sync(workdir, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                   &out, &err, &status, &error));
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_error("%s failed: %s", argv[1], err);
        return g_steal_pointer(&out);
}

static void make_key(const char *name)
{
        g_autofree char *key = g_strconcat(name, ".key", NULL);
        const char *argv[] = { "openssl", "genpkey",  "-algorithm",
                               "EC",      "-pkeyopt", "ec_paramgen_curve:P-256",
                               "-out",    key,        NULL };
        g_autofree char *out = openssl(argv);
}

/* NAME.key and a self-signed NAME.pem for host name (CN and DNS SAN). */
static void make_self_signed(const char *name, const char *host)
{
        g_autofree char *key = g_strconcat(name, ".key", NULL);
        g_autofree char *pem = g_strconcat(name, ".pem", NULL);
        g_autofree char *subject = g_strconcat("/CN=", host, NULL);
        g_autofree char *san = g_strconcat("subjectAltName=DNS:", host, NULL);
        const char *argv[] = { "openssl", "req", "-x509", "-new",  "-key",    key, "-out", pem,
                               "-days",   "2",   "-subj", subject, "-addext", san, NULL };
        g_autofree char *out = NULL;

        make_key(name);
        out = openssl(argv);
}

/* NAME.key and NAME.pem signed by ca.pem. */
static void make_signed(const char *name, const char *host)
{
        g_autofree char *key = g_strconcat(name, ".key", NULL);
        g_autofree char *csr = g_strconcat(name, ".csr", NULL);
        g_autofree char *pem = g_strconcat(name, ".pem", NULL);
        g_autofree char *ext = g_strconcat(name, ".ext", NULL);
        g_autofree char *ext_path = path_of(ext);
        g_autofree char *subject = g_strconcat("/CN=", host, NULL);
        g_autofree char *san = g_strdup_printf("subjectAltName=DNS:%s\n", host);
        const char *req[] = { "openssl", "req", "-new",  "-key",  key,
                              "-out",    csr,   "-subj", subject, NULL };
        const char *sign[] = { "openssl", "x509",   "-req",   "-in",    csr,
                               "-CA",     "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                               "-out",    pem,      "-days",  "2",      "-extfile",
                               ext,       NULL };
        g_autofree char *out1 = NULL;
        g_autofree char *out2 = NULL;

        make_key(name);
        g_assert_true(g_file_set_contents(ext_path, san, -1, NULL));
        out1 = openssl(req);
        out2 = openssl(sign);
}

static void make_ca(void)
{
        const char *argv[] = { "openssl", "req",
                               "-x509",   "-new",
                               "-key",    "ca.key",
                               "-out",    "ca.pem",
                               "-days",   "2",
                               "-subj",   "/CN=Zumastor test CA",
                               "-addext", "basicConstraints=critical,CA:TRUE",
                               "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                               NULL };
        g_autofree char *out = NULL;

        make_key("ca");
        out = openssl(argv);
}

static void make_certificates(void)
{
        make_self_signed("server", "localhost");
        make_self_signed("client", "source");
        make_self_signed("stranger", "elsewhere");
        make_ca();
        make_signed("ca-server", "localhost");
        make_signed("ca-client", "source");
}

static GTlsCertificate *identity(const char *name)
{
        g_autofree char *pem_name = g_strconcat(name, ".pem", NULL);
        g_autofree char *key_name = g_strconcat(name, ".key", NULL);
        g_autofree char *pem = path_of(pem_name);
        g_autofree char *key = path_of(key_name);
        g_autoptr(GError) error = NULL;
        GTlsCertificate *certificate = zuma_tls_load_identity(pem, key, &error);

        g_assert_no_error(error);
        return certificate;
}

static char *fingerprint_of(const char *name)
{
        g_autoptr(GTlsCertificate) certificate = identity(name);

        return zuma_tls_fingerprint(certificate);
}

/* --- a session over a socket pair --- */

typedef struct Session {
        /* the client's side, run in a thread */
        GIOStream *client_base;
        GTlsCertificate *client_identity; /* NULL: none */
        char *server_pin;
        char *client_ca_file;
        GError *client_error;
        /* the server's side */
        GIOStream *server_base;
        GTlsCertificate *server_identity;
        char *allowed_pins[3]; /* NULL-terminated */
        char *server_ca_file;
        GError *server_error;
        char *peer_fingerprint;
} Session;

static GIOStream *socket_stream(int fd)
{
        g_autoptr(GSocket) socket = g_socket_new_from_fd(fd, NULL);

        g_assert_nonnull(socket);
        /* A failed test ends instead of hanging. */
        g_socket_set_timeout(socket, 20);
        return G_IO_STREAM(g_socket_connection_factory_create_connection(socket));
}

/* The client's session: handshake, HELLO, then WELCOME from the server. */
static gpointer client_thread(gpointer data)
{
        Session *session = data;
        g_autoptr(GSocketConnectable) server = g_network_address_new("localhost", 7890);
        g_autoptr(GIOStream) tls = NULL;

        tls = zuma_tls_client_handshake(session->client_base, server, session->client_identity,
                                        session->server_pin, session->client_ca_file, NULL,
                                        &session->client_error);
        if (tls && zuma_wire_write(g_io_stream_get_output_stream(tls), ZUMA_WIRE_HELLO, NULL, NULL,
                                   &session->client_error))
                zuma_wire_expect(g_io_stream_get_input_stream(tls), ZUMA_WIRE_WELCOME, NULL, NULL,
                                 &session->client_error);
        if (tls)
                g_io_stream_close(tls, NULL, NULL);
        /* Refused: the server must not wait for us. */
        g_io_stream_close(session->client_base, NULL, NULL);
        return NULL;
}

static void session_run(Session *session)
{
        g_autoptr(GIOStream) tls = NULL;
        GThread *thread;
        int fds[2];

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
        session->client_base = socket_stream(fds[0]);
        session->server_base = socket_stream(fds[1]);
        thread = g_thread_new("client", client_thread, session);
        tls = zuma_tls_server_handshake(session->server_base, session->server_identity,
                                        (const char *const *)session->allowed_pins,
                                        session->server_ca_file, &session->peer_fingerprint, NULL,
                                        &session->server_error);
        if (tls && zuma_wire_expect(g_io_stream_get_input_stream(tls), ZUMA_WIRE_HELLO, NULL, NULL,
                                    &session->server_error))
                zuma_wire_write(g_io_stream_get_output_stream(tls), ZUMA_WIRE_WELCOME, NULL, NULL,
                                &session->server_error);
        if (tls)
                g_io_stream_close(tls, NULL, NULL);
        g_io_stream_close(session->server_base, NULL, NULL);
        g_thread_join(thread);
}

static void session_clear(Session *session)
{
        g_clear_object(&session->client_base);
        g_clear_object(&session->server_base);
        g_clear_object(&session->client_identity);
        g_clear_object(&session->server_identity);
        g_clear_pointer(&session->server_pin, g_free);
        g_clear_pointer(&session->client_ca_file, g_free);
        g_clear_pointer(&session->server_ca_file, g_free);
        for (gsize i = 0; i < G_N_ELEMENTS(session->allowed_pins); i++)
                g_clear_pointer(&session->allowed_pins[i], g_free);
        g_clear_error(&session->client_error);
        g_clear_error(&session->server_error);
        g_clear_pointer(&session->peer_fingerprint, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Session, session_clear)

static void assert_message_holds(const GError *error, const char *needle)
{
        g_assert_nonnull(error);
        if (!strstr(error->message, needle))
                g_error("\"%s\" does not hold \"%s\"", error->message, needle);
}

/* --- tests --- */

static void test_fingerprint(void)
{
        g_autofree char *pem = NULL;
        g_autofree char *ours = NULL;
        g_autofree char *theirs = NULL;
        g_autofree char *from_openssl = NULL;
        g_autoptr(GError) error = NULL;

        if (!have_tls())
                return;
        pem = path_of("server.pem");
        {
                const char *argv[] = { "openssl", "x509",         "-in",     pem,
                                       "-noout",  "-fingerprint", "-sha256", NULL };

                from_openssl = openssl(argv);
        }
        g_strstrip(from_openssl);
        /* "sha256 Fingerprint=AB:CD:...", uppercase with colons. */
        theirs = zuma_tls_fingerprint_parse(from_openssl, &error);
        g_assert_no_error(error);
        ours = fingerprint_of("server");
        g_assert_cmpstr(ours, ==, theirs);
        g_assert_cmpuint(strlen(ours), ==, strlen("sha256:") + 64);
}

static void test_fingerprint_parse(void)
{
        const char *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        g_autofree char *want = g_strconcat("sha256:", hex, NULL);
        g_autofree char *upper = g_ascii_strup(hex, -1);
        GString *colons = g_string_new("SHA256:");
        const char *good[4];
        struct {
                const char *text;
                const char *message;
        } bad[] = {
                { "", "0 hex digits, a SHA-256 has 64" },
                { "sha256:0123", "4 hex digits" },
                { "sha1:0123", "not a SHA-256 fingerprint" },
                { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
                  "not a SHA-256 fingerprint" },
                { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00",
                  "66 hex digits, a SHA-256 has 64" },
                { "01:23:4", "pairs of hex digits separated by single colons" },
                { "01:23:", "pairs of hex digits" },
                { "01::23", "pairs of hex digits" },
                { "0123:45", "pairs of hex digits" },
        };

        for (int i = 0; i < 32; i++)
                g_string_append_printf(colons, "%s%.2s", i ? ":" : "", upper + 2 * i);
        good[0] = want;
        good[1] = hex;
        good[2] = upper;
        good[3] = colons->str;
        for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *parsed = zuma_tls_fingerprint_parse(good[i], &error);

                g_assert_no_error(error);
                g_assert_cmpstr(parsed, ==, want);
        }
        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *parsed = zuma_tls_fingerprint_parse(bad[i].text, &error);

                g_assert_null(parsed);
                g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
                assert_message_holds(error, bad[i].message);
        }
        g_string_free(colons, TRUE);
}

static void test_load_identity(void)
{
        g_autofree char *missing = NULL;
        g_autofree char *pem = NULL;
        g_autofree char *key = NULL;
        g_autofree char *stranger_key = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GTlsCertificate) certificate = NULL;

        if (!have_tls())
                return;
        missing = path_of("missing.pem");
        pem = path_of("server.pem");
        key = path_of("server.key");
        stranger_key = path_of("stranger.key");
        certificate = zuma_tls_load_identity(missing, key, &error);
        g_assert_null(certificate);
        assert_message_holds(error, missing);
        g_clear_error(&error);
        /* The key where the certificate should be. */
        certificate = zuma_tls_load_identity(key, key, &error);
        g_assert_null(certificate);
        assert_message_holds(error, key);
        g_clear_error(&error);
        certificate = zuma_tls_load_identity(pem, missing, &error);
        g_assert_null(certificate);
        assert_message_holds(error, missing);
        g_clear_error(&error);
        certificate = zuma_tls_load_identity(pem, NULL, &error);
        g_assert_null(certificate);
        assert_message_holds(error, "holds no private key");
        g_clear_error(&error);
        certificate = zuma_tls_load_identity(pem, key, &error);
        g_assert_no_error(error);
        g_assert_nonnull(certificate);
}

/* A session on pins: client (NULL: no certificate) pins the certificate
 * pinned_server, the server allows allowed_client's and one that is
 * nobody's. */
static void session_run_pinned(Session *session, const char *client, const char *server,
                               const char *pinned_server, const char *allowed_client)
{
        session->client_identity = client ? identity(client) : NULL;
        session->server_identity = identity(server);
        session->server_pin = fingerprint_of(pinned_server);
        session->allowed_pins[0] = g_strnfill(strlen("sha256:") + 64, '0');
        memcpy(session->allowed_pins[0], "sha256:", strlen("sha256:"));
        session->allowed_pins[1] = fingerprint_of(allowed_client);
        session_run(session);
}

/* A session on the CA file, both ways. */
static void session_run_ca(Session *session, const char *client, const char *server)
{
        session->client_identity = identity(client);
        session->server_identity = identity(server);
        session->client_ca_file = path_of("ca.pem");
        session->server_ca_file = path_of("ca.pem");
        session_run(session);
}

static void test_pinned(void)
{
        g_auto(Session) session = { 0 };

        if (!have_tls())
                return;
        session_run_pinned(&session, "client", "server", "server", "client");
        g_assert_no_error(session.server_error);
        g_assert_no_error(session.client_error);
        g_assert_cmpstr(session.peer_fingerprint, ==, session.allowed_pins[1]);
}

static void test_wrong_pin(void)
{
        g_auto(Session) session = { 0 };
        g_autofree char *server_seen = NULL;

        if (!have_tls())
                return;
        server_seen = fingerprint_of("server");
        session_run_pinned(&session, "client", "server", "stranger", "client");
        g_assert_error(session.client_error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
        assert_message_holds(session.client_error, server_seen);
        assert_message_holds(session.client_error, session.server_pin);
        g_test_message("client: %s", session.client_error->message);
        g_assert_nonnull(session.server_error);
        g_test_message("server: %s", session.server_error->message);
}

static void test_unknown_client(void)
{
        g_auto(Session) session = { 0 };
        g_autofree char *stranger_seen = NULL;

        if (!have_tls())
                return;
        stranger_seen = fingerprint_of("stranger");
        session_run_pinned(&session, "stranger", "server", "server", "client");
        g_assert_error(session.server_error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
        assert_message_holds(session.server_error, stranger_seen);
        assert_message_holds(session.server_error, "any of the pins");
        assert_message_holds(session.server_error, session.allowed_pins[1]);
        g_test_message("server: %s", session.server_error->message);
        /* With TLS 1.3 the client learns it on its first read. */
        g_assert_nonnull(session.client_error);
        g_test_message("client: %s", session.client_error->message);
        g_assert_null(session.peer_fingerprint);
}

static void test_no_client_certificate(void)
{
        g_auto(Session) session = { 0 };

        if (!have_tls())
                return;
        session_run_pinned(&session, NULL, "server", "server", "client");
        g_assert_nonnull(session.server_error);
        g_test_message("server: %s", session.server_error->message);
        g_assert_nonnull(session.client_error);
        g_test_message("client: %s", session.client_error->message);
}

static void test_ca_file(void)
{
        g_auto(Session) session = { 0 };
        g_autofree char *client_seen = NULL;

        if (!have_tls())
                return;
        client_seen = fingerprint_of("ca-client");
        session_run_ca(&session, "ca-client", "ca-server");
        g_assert_no_error(session.server_error);
        g_assert_no_error(session.client_error);
        g_assert_cmpstr(session.peer_fingerprint, ==, client_seen);
}

static void test_ca_file_refuses(void)
{
        g_auto(Session) session = { 0 };

        if (!have_tls())
                return;
        /* A self-signed server the CA never signed. */
        session_run_ca(&session, "ca-client", "server");
        g_assert_error(session.client_error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
        assert_message_holds(session.client_error, "does not validate against");
        assert_message_holds(session.client_error, "unknown CA");
        g_test_message("client: %s", session.client_error->message);
        session_clear(&session);

        /* A self-signed client the CA never signed. */
        session_run_ca(&session, "stranger", "ca-server");
        g_assert_error(session.server_error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
        assert_message_holds(session.server_error, "the client's certificate sha256:");
        assert_message_holds(session.server_error, "unknown CA");
        g_test_message("server: %s", session.server_error->message);
}

static void test_ca_file_wrong_host(void)
{
        g_auto(Session) session = { 0 };

        if (!have_tls())
                return;
        /* Signed by the CA, but for "source", not the "localhost" dialled. */
        session_run_ca(&session, "ca-client", "ca-client");
        g_assert_error(session.client_error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
        assert_message_holds(session.client_error, "wrong host name");
        g_test_message("client: %s", session.client_error->message);
}

static void test_ca_file_missing(void)
{
        g_autoptr(GIOStream) base = NULL;
        g_autoptr(GIOStream) tls = NULL;
        g_autoptr(GSocketConnectable) server = g_network_address_new("localhost", 7890);
        g_autoptr(GTlsCertificate) own = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *missing = NULL;
        int fds[2];

        if (!have_tls())
                return;
        /* Refused before a byte goes out: the peer is not involved. */
        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
        close(fds[1]);
        base = socket_stream(fds[0]);
        missing = path_of("missing-ca.pem");
        own = identity("client");
        tls = zuma_tls_client_handshake(base, server, own, NULL, missing, NULL, &error);
        g_assert_null(tls);
        assert_message_holds(error, "CA file ");
        assert_message_holds(error, missing);
}

/* --- TCP --- */

static void test_parse_address(void)
{
        struct {
                const char *text;
                const char *host;
                guint16 port;
        } good[] = {
                { "target", "target", ZUMA_REPL_DEFAULT_PORT },
                { "target.example.org:9000", "target.example.org", 9000 },
                { "192.0.2.7", "192.0.2.7", ZUMA_REPL_DEFAULT_PORT },
                { "192.0.2.7:1", "192.0.2.7", 1 },
                { "[2001:db8::1]:65535", "2001:db8::1", 65535 },
                { "[::1]", "::1", ZUMA_REPL_DEFAULT_PORT },
                { "2001:db8::1", "2001:db8::1", ZUMA_REPL_DEFAULT_PORT },
        };
        struct {
                const char *text;
                const char *message;
        } bad[] = {
                { "", "no host name" },
                { ":7890", "no host name" },
                { "target:", "the port must be a number from 1 to 65535" },
                { "target:0", "from 1 to 65535" },
                { "target:65536", "from 1 to 65535" },
                { "target:80x", "from 1 to 65535" },
                { "target:-1", "from 1 to 65535" },
                { "[2001:db8::1", "'[' without ']'" },
                { "[target]:80", "brackets hold an IPv6 address" },
                { "[::1]x", "only \":PORT\" may follow ']'" },
                { "tar get", "' ' cannot be in a host name" },
                { "tar/get:80", "'/' cannot be in a host name" },
                { "a:b:c", "from 1 to 65535" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *host = NULL;
                guint16 port = 0;

                g_assert_true(zuma_repl_parse_address(good[i].text, ZUMA_REPL_DEFAULT_PORT, &host,
                                                      &port, &error));
                g_assert_no_error(error);
                g_assert_cmpstr(host, ==, good[i].host);
                g_assert_cmpuint(port, ==, good[i].port);
        }
        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                char *host = NULL;
                guint16 port = 0;

                g_assert_false(zuma_repl_parse_address(bad[i].text, ZUMA_REPL_DEFAULT_PORT, &host,
                                                       &port, &error));
                g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
                assert_message_holds(error, bad[i].message);
                g_assert_null(host);
                g_assert_cmpuint(port, ==, 0);
        }
}

static void test_read_timeout(void)
{
        g_autoptr(GSocketListener) listener = g_socket_listener_new();
        g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
        g_autoptr(GSocketAddress) bound = NULL;
        g_autoptr(GIOStream) connection = NULL;
        g_autoptr(GSocketConnection) accepted = NULL;
        g_autoptr(GError) error = NULL;
        guint16 port;
        gint64 start;
        char byte;

        g_assert_true(g_socket_listener_add_address(listener, address, G_SOCKET_TYPE_STREAM,
                                                    G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error));
        g_assert_no_error(error);
        port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
        connection = zuma_repl_connect_tcp("127.0.0.1", port, 1, NULL, &error);
        g_assert_no_error(error);
        accepted = g_socket_listener_accept(listener, NULL, NULL, &error);
        g_assert_no_error(error);
        /* The peer says nothing: the read ends after the 1 s timeout. */
        start = g_get_monotonic_time();
        g_assert_cmpint(g_input_stream_read(g_io_stream_get_input_stream(connection), &byte, 1,
                                            NULL, &error),
                        ==, -1);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        g_assert_cmpint(g_get_monotonic_time() - start, >=, 900000);
        g_clear_error(&error);
        /* Nobody listening: a clear error naming the address. */
        g_clear_object(&accepted);
        g_socket_listener_close(listener);
        g_clear_object(&connection);
        connection = zuma_repl_connect_tcp("127.0.0.1", port, 1, NULL, &error);
        g_assert_null(connection);
        assert_message_holds(error, "cannot connect to 127.0.0.1 port");
}

static void remove_workdir(void)
{
        g_autoptr(GDir) dir = g_dir_open(workdir, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
                g_autofree char *path = path_of(name);

                g_unlink(path);
        }
        g_rmdir(workdir);
}

int main(int argc, char **argv)
{
        int status;

        g_test_init(&argc, &argv, NULL);
        zuma_pool_threads_keep_none();
        workdir = g_dir_make_tmp("test-repl-tls-XXXXXX", NULL);
        g_assert_nonnull(workdir);
        if (have_openssl())
                make_certificates();
        g_test_add_func("/repl-tls/fingerprint", test_fingerprint);
        g_test_add_func("/repl-tls/fingerprint-parse", test_fingerprint_parse);
        g_test_add_func("/repl-tls/load-identity", test_load_identity);
        g_test_add_func("/repl-tls/pinned", test_pinned);
        g_test_add_func("/repl-tls/wrong-pin", test_wrong_pin);
        g_test_add_func("/repl-tls/unknown-client", test_unknown_client);
        g_test_add_func("/repl-tls/no-client-certificate", test_no_client_certificate);
        g_test_add_func("/repl-tls/ca-file", test_ca_file);
        g_test_add_func("/repl-tls/ca-file-refuses", test_ca_file_refuses);
        g_test_add_func("/repl-tls/ca-file-wrong-host", test_ca_file_wrong_host);
        g_test_add_func("/repl-tls/ca-file-missing", test_ca_file_missing);
        g_test_add_func("/repl-tls/parse-address", test_parse_address);
        g_test_add_func("/repl-tls/read-timeout", test_read_timeout);
        status = g_test_run();
        zuma_pool_threads_wait_gone(10000);
        remove_workdir();
        g_free(workdir);
        return status;
}
