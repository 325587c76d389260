/*
 * tls.h - TLS with OpenSSL, for both sides of a session: msgeventd
 * terminates the client's TLS (listen imaps, or STARTTLS on listen imap)
 * and originates its own to the backend (backend-tls, backend-starttls).
 *
 * Two kinds of context, each made from the configuration:
 *
 *   server	the certificate chain and key offered to clients (tls-cert,
 *		tls-key), the protocol range (tls-protocols, TLS 1.2 and 1.3
 *		by default), cipher lists and groups (tls-ciphers,
 *		tls-ciphersuites, tls-curves); no compression, no
 *		renegotiation.  A client that offers ALPN must offer the
 *		listener's protocol ("imap"), else the handshake fails with
 *		no_application_protocol (RFC 7301 3.2; the ALPACA
 *		cross-protocol attack).  The client's SNI is recorded.
 *   client	towards backends: certificates verified against backend-ca
 *		or the system store, the name checked (RFC 6125; an IP
 *		address against the certificate's IP addresses), SNI sent,
 *		ALPN offered; backend-verify off skips verification.
 *		Towards syslog collectors (tls_ctx_client_ca()): the same,
 *		always verified, against the output's ca or the system store.
 *
 * A context is reference-counted.  A connection takes its own reference
 * (OpenSSL's, inside SSL_new()), so a context may be dropped on reload
 * while established sessions go on with it; a session that may start
 * TLS later (STARTTLS) keeps a reference of its own (tls_ctx_ref()).
 *
 * A connection wraps a non-blocking socket.  Every call returns at once;
 * what it waits for is told by tls_conn_want_read() / _want_write() (a
 * TLS read may need the socket writable and a write readable).
 * Decrypted bytes may wait inside OpenSSL with no readiness on the
 * socket: tls_conn_pending() says so, and the caller reads again without
 * waiting for the loop.
 *
 * Memory: OpenSSL's per-connection state (a few KiB) plus its record
 * buffers, which are released while the connection is idle
 * (SSL_MODE_RELEASE_BUFFERS).  The struct adds TLS_ERROR_MAX bytes.
 *
 * This is the only file that includes OpenSSL's headers.
 */
#ifndef TLS_H
#define TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct config;
struct tls_ctx;
struct tls_conn;

/* What a TLS call that returned EAGAIN waits for on the socket. */
#define TLS_WANT_READ	0x1
#define TLS_WANT_WRITE	0x2

/* Bytes of a connection's last error message, NUL included. */
#define TLS_ERROR_MAX	200

/*
 * The context for clients, from CONFIG's tls-* directives (tls-cert must
 * be set): the chain and key are loaded and checked against each other,
 * the lists are checked by OpenSSL.  Returns it with one reference, or
 * NULL with "FILE:LINE: directive: message" in ERR.  A certificate that
 * has expired or is not valid yet is accepted with a warning on stderr.
 */
struct tls_ctx *tls_ctx_server_new(const struct config *config, char *err,
    size_t errlen);

/*
 * The context for backends, from backend-ca, backend-verify and
 * backend-tls-protocols.  Returns it, or NULL with "FILE:LINE: message"
 * in ERR (a CA file that cannot be read).  Logs a warning when
 * verification is off.
 */
struct tls_ctx *tls_ctx_client_new(const struct config *config, char *err,
    size_t errlen);

/*
 * A client context of its own, for collectors (output syslog tls://):
 * TLS 1.2 and 1.3, peers always verified, against CA (a PEM file or a
 * hashed directory) or the system store when CA is NULL or "".  Needs no
 * configuration, so outputs/ can use it.  Returns it with one reference,
 * or NULL with "PATH: reason" in ERR.
 */
struct tls_ctx *tls_ctx_client_ca(const char *ca, char *err, size_t errlen);

/* Another reference to CTX; returns CTX. */
struct tls_ctx *tls_ctx_ref(struct tls_ctx *ctx);
/* Drop a reference; clears *ctx.  NULL is a no-op. */
void tls_ctx_unref(struct tls_ctx **ctx);

/*
 * What the two constructors would say about CONFIG, without keeping
 * anything: 0, or -1 with the message in ERR (msgeventd -t).
 */
int tls_config_check(const struct config *config, char *err, size_t errlen);

/*
 * A server-side connection on FD (accepted, non-blocking), handshake
 * not started; ALPN is the protocol a client offering ALPN must offer
 * ("imap"; a static string).  NULL when out of memory.
 */
struct tls_conn *tls_conn_server(struct tls_ctx *ctx, int fd,
    const char *alpn);

/*
 * A client-side connection to a backend on FD (connected, non-blocking).
 * VERIFY_NAME is the name the certificate must carry (a DNS name or an
 * IP address; not checked when the context does not verify); SNI the
 * server name to send (NULL or an IP address: none); ALPN the protocol
 * offered.  Strings are copied.  NULL when out of memory.
 */
struct tls_conn *tls_conn_client(struct tls_ctx *ctx, int fd,
    const char *verify_name, const char *sni, const char *alpn);

/* Frees the connection (without a close_notify); clears *conn. */
void tls_conn_free(struct tls_conn **conn);

/*
 * Advance the handshake.  Returns 1 when it is complete, 0 when it waits
 * for the socket (tls_conn_want_read()), -1 when it failed
 * (tls_conn_error() says why: an alert, a certificate that did not
 * verify and why, the peer closing).
 */
int tls_conn_handshake(struct tls_conn *conn);
bool tls_conn_handshaking(const struct tls_conn *conn);

/*
 * Read up to LEN decrypted bytes.  Returns how many (> 0); 0 at the end
 * of the stream (tls_conn_closed_cleanly() tells a close_notify from a
 * TCP close without one); -1 with errno EAGAIN (waiting: see
 * tls_conn_want_read()) or another errno (ECONNRESET, or EPROTO for a
 * TLS error: tls_conn_error()).
 */
ssize_t tls_conn_read(struct tls_conn *conn, void *buf, size_t len);

/*
 * Write up to LEN bytes (partial writes: at least one record, or -1).
 * Returns how many were taken (> 0), or -1 with errno EAGAIN (see
 * tls_conn_want_write(); retry with the same bytes first, more may
 * follow them, the buffer may move) or another errno (EPIPE,
 * ECONNRESET, EPROTO).
 */
ssize_t tls_conn_write(struct tls_conn *conn, const void *buf, size_t len);

/*
 * What the last read or handshake call (want_read) and the last write
 * (want_write) that returned EAGAIN wait for: TLS_WANT_READ or
 * TLS_WANT_WRITE; TLS_WANT_READ after a call that did not wait.
 */
unsigned tls_conn_want_read(const struct tls_conn *conn);
unsigned tls_conn_want_write(const struct tls_conn *conn);

/* Decrypted bytes wait inside OpenSSL: read again without waiting. */
bool tls_conn_pending(const struct tls_conn *conn);

/* The peer sent close_notify (its end of the stream was orderly). */
bool tls_conn_closed_cleanly(const struct tls_conn *conn);

/*
 * Send close_notify, once, if it can go out now (best effort: the
 * caller then shuts the socket down for writing).
 */
void tls_conn_close_notify(struct tls_conn *conn);

/* The last error, e.g. "certificate verify failed (unable to get local
 * issuer certificate)"; "" when there was none. */
const char *tls_conn_error(const struct tls_conn *conn);

/*
 * After the handshake: the protocol ("TLSv1.3"), the cipher
 * ("TLS_AES_256_GCM_SHA384"; OpenSSL's names), the SNI the client sent
 * (server side; NULL when none).  Valid until tls_conn_free().
 */
const char *tls_conn_version(const struct tls_conn *conn);
const char *tls_conn_cipher(const struct tls_conn *conn);
const char *tls_conn_sni(const struct tls_conn *conn);

#endif
