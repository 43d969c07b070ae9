/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TCP and mutual TLS for replication (the rules are at the top of
 * zuma-repl-tls.h).
 *
 * The decision on the peer is one function, peer_judge(), called from
 * "accept-certificate" and, should the backend not have asked (it asks
 * only when its own validation found a fault, and with no database it
 * always finds one: unknown CA), again on the peer certificate once the
 * handshake is over.  So whatever the backend's own rules are, a
 * connection comes back only for a peer we accepted.
 */
#define G_LOG_DOMAIN "zuma-repl-tls"

#include "zuma-repl-tls.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "zuma-options.h"

#define FINGERPRINT_HEX 64 /* SHA-256: 32 bytes */

/* --- identities and fingerprints --- */

static gboolean has_private_key(GTlsCertificate *certificate)
{
        g_autofree char *key_pem = NULL;

        g_object_get(certificate, "private-key-pem", &key_pem, NULL);
        return key_pem != NULL;
}

GTlsCertificate *zuma_tls_load_identity(const char *cert_file, const char *key_file, GError **error)
{
        g_autoptr(GTlsCertificate) certificate = g_tls_certificate_new_from_file(cert_file, error);
        g_autoptr(GTlsCertificate) identity = NULL;

        if (!certificate) {
                g_prefix_error(error, "certificate %s: ", cert_file);
                return NULL;
        }
        if (!key_file) {
                if (!has_private_key(certificate)) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                    "certificate %s holds no private key and no key file was "
                                    "given",
                                    cert_file);
                        return NULL;
                }
                return g_steal_pointer(&certificate);
        }
        identity = g_tls_certificate_new_from_files(cert_file, key_file, error);
        if (!identity) {
                g_prefix_error(error, "private key %s: ", key_file);
                return NULL;
        }
        return g_steal_pointer(&identity);
}

char *zuma_tls_fingerprint(GTlsCertificate *certificate)
{
        g_autoptr(GByteArray) der = NULL;
        g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);

        g_object_get(certificate, "certificate", &der, NULL);
        g_checksum_update(checksum, der->data, der->len);
        /* g_checksum_get_string() is lowercase hex. */
        return g_strconcat(ZUMA_TLS_FINGERPRINT_PREFIX, g_checksum_get_string(checksum), NULL);
}

GTlsCertificate *zuma_tls_load_host_identity(const char *cert_file, const char *key_file,
                                             const char *without, char **ret_fingerprint)
{
        g_autoptr(GError) error = NULL;
        GTlsCertificate *identity = zuma_tls_load_identity(cert_file, key_file, &error);

        if (!identity) {
                g_message("no TLS identity (%s): %s", error->message, without);
                *ret_fingerprint = g_strdup("");
                return NULL;
        }
        *ret_fingerprint = zuma_tls_fingerprint(identity);
        g_message("TLS identity %s (%s)", *ret_fingerprint, cert_file);
        return identity;
}

static const char *skip_prefix_nocase(const char *text, const char *prefix)
{
        gsize len = strlen(prefix);

        return g_ascii_strncasecmp(text, prefix, len) == 0 ? text + len : text;
}

static char *fingerprint_refuse(GError **error, const char *quoted, const char *why)
{
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "fingerprint %s: %s", quoted,
                    why);
        return NULL;
}

/* "AB:CD:...:EF": a colon after every pair but the last. */
static gboolean colon_pairs(const char *text)
{
        gsize len = strlen(text);

        if ((len + 1) % 3 != 0)
                return FALSE;
        for (gsize i = 0; i < len; i++) {
                if ((i % 3 == 2) != (text[i] == ':'))
                        return FALSE;
        }
        return TRUE;
}

char *zuma_tls_fingerprint_parse(const char *text, GError **error)
{
        g_autofree char *quoted = zuma_quote(text);
        g_autoptr(GString) hex = g_string_new(ZUMA_TLS_FINGERPRINT_PREFIX);
        const char *p = text;

        /* As openssl prints it, or as zuma_tls_fingerprint() does. */
        p = skip_prefix_nocase(p, "sha256 fingerprint=");
        p = skip_prefix_nocase(p, ZUMA_TLS_FINGERPRINT_PREFIX);
        for (const char *c = p; *c; c++) {
                if (!g_ascii_isxdigit(*c) && *c != ':')
                        return fingerprint_refuse(error, quoted,
                                                  "not a SHA-256 fingerprint (\"sha256:\" and 64 "
                                                  "hex digits, colons allowed)");
        }
        if (strchr(p, ':') && !colon_pairs(p))
                return fingerprint_refuse(error, quoted,
                                          "with colons, write pairs of hex digits separated by "
                                          "single colons (AB:CD:...)");
        for (const char *c = p; *c; c++) {
                if (*c != ':')
                        g_string_append_c(hex, g_ascii_tolower(*c));
        }
        if (hex->len != strlen(ZUMA_TLS_FINGERPRINT_PREFIX) + FINGERPRINT_HEX) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "fingerprint %s: %zu hex digits, a SHA-256 has %u", quoted,
                            hex->len - strlen(ZUMA_TLS_FINGERPRINT_PREFIX), FINGERPRINT_HEX);
                return NULL;
        }
        return g_string_free(g_steal_pointer(&hex), FALSE);
}

/* --- judging the peer --- */

typedef struct PeerCheck {
        const char *peer;             /* "server" or "client", for messages */
        const char *const *pins;      /* normalised fingerprints; NULL or empty: none */
        const char *ca_file;          /* NULL: none */
        GTlsDatabase *database;       /* from ca_file, NULL without */
        GSocketConnectable *identity; /* the server's name, client side only */
        const char *purpose;          /* what the peer's certificate must be good for */
        gboolean any;                 /* any certificate: the caller judges it later */
        gboolean judged;              /* peer_judge() ran */
        gboolean accepted;            /* its verdict */
        char *seen;                   /* the peer's fingerprint */
        char *refusal;                /* why not */
} PeerCheck;

static void peer_check_clear(PeerCheck *check)
{
        g_clear_object(&check->database);
        g_clear_pointer(&check->seen, g_free);
        g_clear_pointer(&check->refusal, g_free);
}

/* The CA file is read once, before the handshake: a file that does not
 * load is the administrator's error, not the peer's. */
static gboolean peer_check_load_ca(PeerCheck *check, GError **error)
{
        if (!check->ca_file)
                return TRUE;
        check->database = g_tls_file_database_new(check->ca_file, error);
        if (!check->database) {
                g_prefix_error(error, "CA file %s: ", check->ca_file);
                return FALSE;
        }
        return TRUE;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PeerCheck, peer_check_clear)

static char *describe_flags(GTlsCertificateFlags flags)
{
        static const struct {
                GTlsCertificateFlags flag;
                const char *text;
        } names[] = {
                { G_TLS_CERTIFICATE_UNKNOWN_CA, "unknown CA" },
                { G_TLS_CERTIFICATE_BAD_IDENTITY, "wrong host name" },
                { G_TLS_CERTIFICATE_NOT_ACTIVATED, "not yet valid" },
                { G_TLS_CERTIFICATE_EXPIRED, "expired" },
                { G_TLS_CERTIFICATE_REVOKED, "revoked" },
                { G_TLS_CERTIFICATE_INSECURE, "insecure algorithm" },
                { G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid" },
        };
        GString *text = g_string_new(NULL);

        for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
                if (flags & names[i].flag)
                        g_string_append_printf(text, "%s%s", text->len ? ", " : "", names[i].text);
        }
        return g_string_free(text, FALSE);
}

static gboolean peer_pinned(const PeerCheck *check)
{
        for (const char *const *pin = check->pins; pin && *pin; pin++) {
                if (strcmp(*pin, check->seen) == 0)
                        return TRUE;
        }
        return FALSE;
}

/* Why the CA file does not vouch for the certificate, NULL if it does. */
static char *ca_refusal(const PeerCheck *check, GTlsCertificate *certificate)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *faults = NULL;
        GTlsCertificateFlags flags;

        flags = g_tls_database_verify_chain(check->database, certificate, check->purpose,
                                            check->identity, NULL, G_TLS_DATABASE_VERIFY_NONE, NULL,
                                            &error);
        if (error)
                return g_strdup_printf("cannot be checked against %s: %s", check->ca_file,
                                       error->message);
        if (flags == 0)
                return NULL;
        faults = describe_flags(flags);
        return g_strdup_printf("does not validate against %s (%s)", check->ca_file, faults);
}

static char *pins_text(const char *const *pins)
{
        g_autofree char *joined = pins ? g_strjoinv(", ", (char **)pins) : NULL;
        guint n = pins ? g_strv_length((char **)pins) : 0;

        if (n == 0)
                return g_strdup("no pin");
        return g_strdup_printf(n == 1 ? "the pinned %s" : "any of the pins %s", joined);
}

static void peer_judge(PeerCheck *check, GTlsCertificate *certificate)
{
        g_autofree char *not_pinned = NULL;
        g_autofree char *not_valid = NULL;

        g_clear_pointer(&check->seen, g_free);
        g_clear_pointer(&check->refusal, g_free);
        check->judged = TRUE;
        check->seen = zuma_tls_fingerprint(certificate);
        check->accepted = check->any || peer_pinned(check);
        if (check->accepted)
                return;
        if (check->database) {
                not_valid = ca_refusal(check, certificate);
                check->accepted = not_valid == NULL;
                if (check->accepted)
                        return;
        }
        not_pinned = pins_text(check->pins);
        if (!check->pins || !check->pins[0])
                check->refusal = g_strdup_printf("the %s's certificate %s %s", check->peer,
                                                 check->seen, not_valid);
        else if (!not_valid)
                check->refusal = g_strdup_printf("the %s's certificate %s is not %s", check->peer,
                                                 check->seen, not_pinned);
        else
                check->refusal = g_strdup_printf("the %s's certificate %s is not %s and %s",
                                                 check->peer, check->seen, not_pinned, not_valid);
}

static gboolean on_accept_certificate(GTlsConnection *connection, GTlsCertificate *certificate,
                                      GTlsCertificateFlags faults, gpointer user_data)
{
        PeerCheck *check = user_data;

        peer_judge(check, certificate);
        if (!check->accepted)
                g_debug("%s", check->refusal);
        return check->accepted;
}

/* TCP_NODELAY on a TCP base: the protocol's exchanges are small messages
 * that wait for an answer (the handshake's flights, HELLO, SEND, END), and
 * with Nagle each one sent behind unacknowledged data waits for the peer's
 * delayed ACK (40 ms or more).  Bulk data goes in large frames either way.
 * Failure only costs time. */
static void set_no_delay(GIOStream *base)
{
        if (G_IS_TCP_CONNECTION(base))
                g_socket_set_option(g_socket_connection_get_socket(G_SOCKET_CONNECTION(base)),
                                    IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

/* The handshake and the verdict; returns connection or NULL. */
static GIOStream *handshake(GTlsConnection *connection, PeerCheck *check, GCancellable *cancellable,
                            GError **error)
{
        g_autoptr(GError) local = NULL;
        GTlsCertificate *peer;

        /* No database: the backend accepts nobody by itself (see the top). */
        g_tls_connection_set_database(connection, NULL);
        g_signal_connect(connection, "accept-certificate", G_CALLBACK(on_accept_certificate),
                         check);
        if (!g_tls_connection_handshake(connection, cancellable, &local)) {
                g_signal_handlers_disconnect_by_data(connection, check);
                if (check->judged && !check->accepted)
                        g_set_error_literal(error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                                            check->refusal);
                else
                        g_set_error(error, local->domain, local->code,
                                    "TLS handshake with the %s failed: %s", check->peer,
                                    local->message);
                return NULL;
        }
        g_signal_handlers_disconnect_by_data(connection, check);
        peer = g_tls_connection_get_peer_certificate(connection);
        if (!peer) {
                g_set_error(error, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED,
                            "the %s presented no certificate", check->peer);
                return NULL;
        }
        if (!check->judged)
                peer_judge(check, peer);
        if (!check->accepted) {
                g_set_error_literal(error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                                    check->refusal);
                return NULL;
        }
        return G_IO_STREAM(g_object_ref(connection));
}

static gboolean tls_available(GError **error)
{
        if (g_tls_backend_supports_tls(g_tls_backend_get_default()))
                return TRUE;
        g_set_error_literal(error, G_TLS_ERROR, G_TLS_ERROR_UNAVAILABLE,
                            "TLS is not available: install glib-networking");
        return FALSE;
}

GIOStream *zuma_tls_client_handshake(GIOStream *base, GSocketConnectable *server_identity,
                                     GTlsCertificate *own_identity, const char *server_pin,
                                     const char *ca_file, GCancellable *cancellable, GError **error)
{
        g_autofree char *pin = NULL;
        const char *pins[2] = { NULL, NULL };
        g_auto(PeerCheck) check = {
                .peer = "server",
                .pins = pins,
                .ca_file = ca_file,
                .identity = server_identity,
                .purpose = G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
        };
        g_autoptr(GIOStream) connection = NULL;

        g_return_val_if_fail((server_pin == NULL) != (ca_file == NULL), NULL);

        if (!tls_available(error) || !peer_check_load_ca(&check, error))
                return NULL;
        if (server_pin) {
                pin = zuma_tls_fingerprint_parse(server_pin, error);
                if (!pin)
                        return NULL;
                pins[0] = pin;
        }
        set_no_delay(base);
        connection = g_tls_client_connection_new(base, server_identity, error);
        if (!connection)
                return NULL;
        if (own_identity)
                g_tls_connection_set_certificate(G_TLS_CONNECTION(connection), own_identity);
        return handshake(G_TLS_CONNECTION(connection), &check, cancellable, error);
}

GIOStream *zuma_tls_server_handshake(GIOStream *base, GTlsCertificate *own_identity,
                                     const char *const *allowed_pins, const char *ca_file,
                                     char **ret_peer_fingerprint, GCancellable *cancellable,
                                     GError **error)
{
        g_autoptr(GPtrArray) pins = g_ptr_array_new_with_free_func(g_free);
        g_auto(PeerCheck) check = {
                .peer = "client",
                .ca_file = ca_file,
                .purpose = G_TLS_DATABASE_PURPOSE_AUTHENTICATE_CLIENT,
        };
        g_autoptr(GIOStream) connection = NULL;
        GIOStream *accepted;

        check.any = !(allowed_pins && allowed_pins[0]) && !ca_file;
        if (!tls_available(error) || !peer_check_load_ca(&check, error))
                return NULL;
        for (const char *const *pin = allowed_pins; pin && *pin; pin++) {
                char *normal = zuma_tls_fingerprint_parse(*pin, error);

                if (!normal)
                        return NULL;
                g_ptr_array_add(pins, normal);
        }
        g_ptr_array_add(pins, NULL);
        check.pins = (const char *const *)pins->pdata;
        set_no_delay(base);
        connection = g_tls_server_connection_new(base, own_identity, error);
        if (!connection)
                return NULL;
        g_object_set(connection, "authentication-mode", G_TLS_AUTHENTICATION_REQUIRED, NULL);
        accepted = handshake(G_TLS_CONNECTION(connection), &check, cancellable, error);
        if (accepted && ret_peer_fingerprint)
                *ret_peer_fingerprint = g_steal_pointer(&check.seen);
        return accepted;
}

/* --- TCP --- */

GIOStream *zuma_repl_connect_tcp(const char *host, guint16 port, guint timeout_s,
                                 GCancellable *cancellable, GError **error)
{
        g_autoptr(GSocketClient) client = g_socket_client_new();
        g_autoptr(GSocketConnectable) address = g_network_address_new(host, port);
        GSocketConnection *connection;

        /* Also the timeout of every read and write on the connection. */
        g_socket_client_set_timeout(client, timeout_s);
        /* A replica is reached directly, never through a desktop proxy. */
        g_socket_client_set_enable_proxy(client, FALSE);
        connection = g_socket_client_connect(client, address, cancellable, error);
        if (!connection) {
                g_prefix_error(error, "cannot connect to %s port %u: ", host, port);
                return NULL;
        }
        return G_IO_STREAM(connection);
}

static gboolean parse_port(const char *text, const char *address, guint16 *ret_port, GError **error)
{
        guint64 port = 0;

        if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXUINT16, &port, NULL)) {
                g_autofree char *quoted = zuma_quote(address);

                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "address %s: the port must be a number from 1 to 65535", quoted);
                return FALSE;
        }
        *ret_port = (guint16)port;
        return TRUE;
}

static gboolean check_host_name(const char *host, const char *address, GError **error)
{
        g_autofree char *quoted = zuma_quote(address);

        if (*host == '\0') {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "address %s: no host name", quoted);
                return FALSE;
        }
        if (strlen(host) > 253) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "address %s: the host name is longer than 253 characters", quoted);
                return FALSE;
        }
        for (const char *c = host; *c; c++) {
                if (!g_ascii_isalnum(*c) && *c != '-' && *c != '.' && *c != '_') {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "address %s: '%c' cannot be in a host name%s", quoted,
                                    g_ascii_isprint(*c) ? *c : '?',
                                    *c == ':' ? " (write an IPv6 address in brackets: "
                                                "[ADDRESS]:PORT)"
                                              : "");
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean zuma_repl_parse_address(const char *text, guint16 default_port, char **ret_host,
                                 guint16 *ret_port, GError **error)
{
        g_autofree char *quoted = zuma_quote(text);
        g_autofree char *host = NULL;
        const char *port_text = NULL;
        const char *colon;
        guint16 port = default_port;

        if (text[0] == '[') {
                const char *close = strchr(text, ']');

                if (!close) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "address %s: '[' without ']'", quoted);
                        return FALSE;
                }
                host = g_strndup(text + 1, (gsize)(close - text - 1));
                if (!strchr(host, ':') || !g_hostname_is_ip_address(host)) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "address %s: brackets hold an IPv6 address, and this is "
                                    "not one",
                                    quoted);
                        return FALSE;
                }
                if (close[1] == ':')
                        port_text = close + 2;
                else if (close[1] != '\0') {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "address %s: only \":PORT\" may follow ']'", quoted);
                        return FALSE;
                }
        } else if ((colon = strchr(text, ':')) && strchr(colon + 1, ':') &&
                   g_hostname_is_ip_address(text)) {
                host = g_strdup(text); /* a bare IPv6 address */
        } else {
                host = colon ? g_strndup(text, (gsize)(colon - text)) : g_strdup(text);
                port_text = colon ? colon + 1 : NULL;
                if (!check_host_name(host, text, error))
                        return FALSE;
        }
        if (port_text && !parse_port(port_text, text, &port, error))
                return FALSE;
        *ret_host = g_steal_pointer(&host);
        *ret_port = port;
        return TRUE;
}
