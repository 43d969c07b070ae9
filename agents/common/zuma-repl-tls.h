/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replication connection: TCP, then mutual TLS, for zuma-sendd (the
 * client) and zuma-recvd (the server).  The TLS backend is GIO's
 * (glib-networking with GnuTLS); its default minimum is TLS 1.2, which
 * these calls keep.
 *
 * Each end presents its own certificate and accepts the other's by one of
 * two rules:
 *
 *   - a pin: the SHA-256 fingerprint of the peer's certificate
 *     ("sha256:" and 64 lowercase hex digits, as
 *     `openssl x509 -noout -fingerprint -sha256` prints it without colons).
 *     Nothing else about the certificate matters (self-signed, expired,
 *     another host name: all fine), since the pin names exactly one;
 *   - a CA file (PEM): the peer's chain must validate against it; the
 *     client also checks the server's name against server_identity.
 *
 * The backend is never left to accept a peer by itself: the connection's
 * database is our CA file or none, the decision is ours in
 * "accept-certificate", and it is checked again once the handshake is
 * over.  A refusal names the fingerprint seen and the one(s) expected.
 *
 * With TLS 1.3, the client's handshake ends before the server has judged
 * the client's certificate: a client the server refuses sees it on its
 * first read (G_TLS_ERROR), not in zuma_tls_client_handshake().
 *
 * Timeouts: the GSocket's timeout makes every blocking read and write of
 * the TCP connection (and of the TLS stream on top) fail with
 * G_IO_ERROR_TIMED_OUT after that many seconds without progress.
 * zuma_repl_connect_tcp() sets it; the server sets it on every accepted
 * connection with
 *   g_socket_set_timeout(g_socket_connection_get_socket(connection), timeout_s);
 * before its handshake.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ZUMA_REPL_DEFAULT_PORT 7890
#define ZUMA_TLS_FINGERPRINT_PREFIX "sha256:"

/* The certificate and private key of this host from PEM files (the key may
 * be in cert_file too: key_file NULL). */
GTlsCertificate *zuma_tls_load_identity(const char *cert_file, const char *key_file,
                                        GError **error);

/* "sha256:" and the lowercase hex SHA-256 of the certificate's DER. */
char *zuma_tls_fingerprint(GTlsCertificate *certificate);

/* A daemon's own identity at start: the certificate and its fingerprint
 * in *ret_fingerprint, logged; or NULL and "" when the files cannot be
 * read, logged with what the daemon does without (without: "only ssh
 * relays are received"). */
GTlsCertificate *zuma_tls_load_host_identity(const char *cert_file, const char *key_file,
                                             const char *without, char **ret_fingerprint);

/* A fingerprint as a user writes it ("sha256:AB:CD:...", or the 64 hex
 * digits with or without colons, in any case) in the form
 * zuma_tls_fingerprint() returns; anything else: G_IO_ERROR_INVALID_ARGUMENT
 * saying what is wrong. */
char *zuma_tls_fingerprint_parse(const char *text, GError **error);

/*
 * The client's handshake on base (a TCP connection): presents
 * own_identity (NULL: none, which a Zumastor server refuses) and accepts the server if its fingerprint is server_pin,
 * or, with no pin, if it validates against ca_file for server_identity
 * (the host name dialled).  Exactly one of server_pin and ca_file.
 * Returns the TLS stream to use (a GTlsClientConnection), NULL on error.
 */
GIOStream *zuma_tls_client_handshake(GIOStream *base, GSocketConnectable *server_identity,
                                     GTlsCertificate *own_identity, const char *server_pin,
                                     const char *ca_file, GCancellable *cancellable,
                                     GError **error);

/*
 * The server's handshake on base: presents own_identity, requires a client
 * certificate and accepts it if its fingerprint is one of allowed_pins
 * (NULL-terminated, may be NULL) or it validates against ca_file (may be
 * NULL).  With neither, any certificate is accepted and the caller judges
 * it once it knows what the client asks for (zuma-recvd: per volume,
 * after HELLO, so that a refused sender is told why in an ERROR message
 * rather than by a connection reset).  *ret_peer_fingerprint (may be
 * NULL) is the client's fingerprint, for logs and per-client rules.
 */
GIOStream *zuma_tls_server_handshake(GIOStream *base, GTlsCertificate *own_identity,
                                     const char *const *allowed_pins, const char *ca_file,
                                     char **ret_peer_fingerprint, GCancellable *cancellable,
                                     GError **error);

/* A TCP connection to host:port within timeout_s seconds (0: the system's
 * connect timeout), whose reads and writes then time out after timeout_s
 * seconds without progress. */
GIOStream *zuma_repl_connect_tcp(const char *host, guint16 port, guint timeout_s,
                                 GCancellable *cancellable, GError **error);

/* "HOST", "HOST:PORT", "[V6ADDR]", "[V6ADDR]:PORT" or a bare IPv6 address;
 * default_port when none is given.  G_IO_ERROR_INVALID_ARGUMENT naming
 * what is wrong otherwise. */
gboolean zuma_repl_parse_address(const char *text, guint16 default_port, char **ret_host,
                                 guint16 *ret_port, GError **error);

G_END_DECLS
