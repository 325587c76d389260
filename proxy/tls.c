/*
 * tls.c - TLS with OpenSSL (tls.h).
 *
 * Contexts are OpenSSL's SSL_CTX with a reference count of ours on top
 * (SSL_new() takes OpenSSL's own, so a connection outlives the last
 * tls_ctx_unref()).  Connections are SSL objects on the session's
 * sockets (OpenSSL's socket BIO), driven without blocking: each call
 * records what it waits for, and a terminal result (end of stream,
 * failure) is kept and returned again, so a caller that reads ahead of
 * the loop sees it on its next call without OpenSSL being asked after
 * a fatal error.
 *
 * Errors: OpenSSL's error queue is cleared before each call and read
 * after a failure into the connection's message (the first reason in
 * the queue is the cause; a failed certificate check says why with
 * X509_verify_cert_error_string()).
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "diag.h"

/*
 * TLS 1.2 and older when tls-ciphers is not given: forward secrecy and
 * authentication only (nginx's "HIGH:!aNULL:!MD5" without RSA key
 * exchange, PSK and SRP).  TLS 1.3 suites and the groups are OpenSSL's
 * defaults unless tls-ciphersuites / tls-curves say otherwise.
 */
#define TLS_DEFAULT_CIPHERS	"HIGH:!aNULL:!MD5:!kRSA:!PSK:!SRP"

struct tls_ctx {
	SSL_CTX *ssl_ctx;
	unsigned refs;
	bool verify;			/* client: backends are verified */
};

struct tls_conn {
	SSL *ssl;
	const char *alpn;		/* server: an ALPN offer must hold it */
	unsigned want_read;		/* TLS_WANT_*: last read, handshake */
	unsigned want_write;		/* of the last write */
	bool handshaking;
	bool read_blocked;		/* the last read waited: all read */
	bool eof;			/* the stream ended (0 again) */
	bool closed_cleanly;		/* ... with a close_notify */
	int fail_errno;			/* failed: -1 with this, again */
	bool notified;			/* close_notify sent */
	char err[TLS_ERROR_MAX];
};

/* msgeventd -t prints nothing on success: no warnings while checking. */
static bool tls_quiet;

/* "FILE:LINE: " + FMT, or "FILE: " when LINE is 0; returns NULL. */
static void *__attribute__((format(printf, 5, 6)))
ctx_err(char *err, size_t errlen, const struct config *config, int line,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	if (line > 0)
		n = snprintf(err, errlen, "%s:%d: ", config->file, line);
	else
		n = snprintf(err, errlen, "%s: ", config->file);
	if (n < 0 || (size_t)n >= errlen)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return NULL;
}

/*
 * The first error in OpenSSL's queue as text, e.g. "key values
 * mismatch", with its detail when there is one; the queue is emptied.
 */
static const char *
ssl_reason(char *buf, size_t len)
{
	unsigned long e;
	const char *reason, *data = NULL;
	int flags = 0;

	e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
	if (e == 0) {
		snprintf(buf, len, "unknown error");
	} else {
		reason = ERR_reason_error_string(e);
		if (reason == NULL) {
			ERR_error_string_n(e, buf, len);
		} else if (data != NULL && (flags & ERR_TXT_STRING) &&
		    data[0] != '\0')
			snprintf(buf, len, "%s (%s)", reason, data);
		else
			snprintf(buf, len, "%s", reason);
	}
	ERR_clear_error();
	return buf;
}

/* Keys are never asked a password for: a daemon has no terminal. */
static int
tls_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
tls_version(uint16_t v)
{
	switch (v) {
	case CONFIG_TLS_V1_0:
		return TLS1_VERSION;
	case CONFIG_TLS_V1_1:
		return TLS1_1_VERSION;
	case CONFIG_TLS_V1_2:
		return TLS1_2_VERSION;
	default:
		return TLS1_3_VERSION;
	}
}

static bool
is_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* The file must be there and readable: say so before OpenSSL does. */
static bool
file_readable(const char *path, char *why, size_t len)
{
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		snprintf(why, len, "cannot open: %s", strerror(errno));
		return false;
	}
	fclose(fp);
	return true;
}

/* Warn about a certificate outside its validity period (not fatal). */
static void
ctx_check_dates(SSL_CTX *ssl_ctx, const struct config *config)
{
	X509 *x = SSL_CTX_get0_certificate(ssl_ctx);
	struct tm tm;
	char when[32];

	if (x == NULL || tls_quiet)
		return;
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1 ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    &tm) == 0)
			snprintf(when, sizeof(when), "?");
		diag_warn("%s:%d: tls-cert: %s: the certificate expired on "
		    "%s; clients will refuse it", config->file,
		    config->tls.cert_line, config->tls.cert, when);
	} else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		diag_warn("%s:%d: tls-cert: %s: the certificate is not valid "
		    "yet", config->file, config->tls.cert_line,
		    config->tls.cert);
}

/*
 * RFC 7301 3.2: a client offering ALPN that does not offer our protocol
 * meant some other service (the ALPACA attack sends HTTPS to IMAP
 * ports): no_application_protocol.  A client offering none is served.
 */
static int
tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	struct tls_conn *c = SSL_get_app_data(ssl);
	size_t want, used = 0;
	unsigned i = 0, n, k;
	char offered[96];

	(void)arg;
	if (c == NULL || c->alpn == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	want = strlen(c->alpn);
	offered[0] = '\0';
	while (i < inlen) {
		n = in[i];
		if (n == 0 || i + 1 + n > inlen)
			break;
		if (n == want && memcmp(in + i + 1, c->alpn, n) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		/* the offer, printable, for the message */
		if (used > 0 && used + 1 < sizeof(offered))
			offered[used++] = ',';
		for (k = 0; k < n && used + 1 < sizeof(offered); k++) {
			unsigned char ch = in[i + 1 + k];

			offered[used++] = ch > 0x20 && ch < 0x7f ? (char)ch :
			    '?';
		}
		offered[used] = '\0';
		i += 1 + n;
	}
	snprintf(c->err, sizeof(c->err), "client offered ALPN %s, not %s",
	    offered[0] != '\0' ? offered : "(none)", c->alpn);
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* What both kinds of context share. */
static SSL_CTX *
ctx_base(const SSL_METHOD *method, uint16_t min, uint16_t max)
{
	SSL_CTX *ssl_ctx = SSL_CTX_new(method);

	if (ssl_ctx == NULL)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ssl_ctx, tls_version(min)) != 1 ||
	    SSL_CTX_set_max_proto_version(ssl_ctx, tls_version(max)) != 1) {
		SSL_CTX_free(ssl_ctx);
		return NULL;
	}
	/*
	 * TLS 1.0 and 1.1 sign handshakes with SHA-1, which OpenSSL's
	 * security level 1 and up (Debian's default is 2) refuse: asking
	 * for them lowers the level for this context ("@SECLEVEL=N" in
	 * tls-ciphers still overrides it on the client side).
	 */
	if (min < CONFIG_TLS_V1_2)
		SSL_CTX_set_security_level(ssl_ctx, 0);
	SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	/*
	 * Partial writes: SSL_write returns after each record, like send(2)
	 * returning short.  The retry after WANT_WRITE comes from the
	 * session's pending buffer, which may have moved and grown.
	 * Buffers are released while a connection is idle.
	 */
	SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/* Fewer read(2) calls: a read takes what the socket has. */
	SSL_CTX_set_read_ahead(ssl_ctx, 1);
	SSL_CTX_set_default_passwd_cb(ssl_ctx, tls_no_password);
	return ssl_ctx;
}

static struct tls_ctx *
ctx_wrap(SSL_CTX *ssl_ctx, bool verify)
{
	struct tls_ctx *ctx = malloc(sizeof(*ctx));

	if (ctx == NULL) {
		SSL_CTX_free(ssl_ctx);
		return NULL;
	}
	ctx->ssl_ctx = ssl_ctx;
	ctx->refs = 1;
	ctx->verify = verify;
	return ctx;
}

struct tls_ctx *
tls_ctx_server_new(const struct config *config, char *err, size_t errlen)
{
	const struct config_tls *t = &config->tls;
	const char *key = t->key[0] != '\0' ? t->key : t->cert;
	int key_line = t->key[0] != '\0' ? t->key_line : t->cert_line;
	SSL_CTX *ssl_ctx;
	struct tls_ctx *ctx;
	char why[256];

	if (t->cert[0] == '\0')
		return ctx_err(err, errlen, config, 0, "no tls-cert");
	ERR_clear_error();
	ssl_ctx = ctx_base(TLS_server_method(), t->min_version,
	    t->max_version);
	if (ssl_ctx == NULL)
		return ctx_err(err, errlen, config, t->protocols_line,
		    "TLS: %s", ssl_reason(why, sizeof(why)));
	if (!file_readable(t->cert, why, sizeof(why))) {
		ctx_err(err, errlen, config, t->cert_line, "tls-cert: %s: %s",
		    t->cert, why);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ssl_ctx, t->cert) != 1) {
		ctx_err(err, errlen, config, t->cert_line, "tls-cert: %s: no "
		    "usable certificate chain (%s)", t->cert,
		    ssl_reason(why, sizeof(why)));
		goto fail;
	}
	if (!file_readable(key, why, sizeof(why))) {
		ctx_err(err, errlen, config, key_line, "tls-key: %s: %s", key,
		    why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ssl_ctx, key, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_last_error();

		if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
		    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
			ctx_err(err, errlen, config, key_line, "%s: %s does "
			    "not go with the certificate in %s", t->key[0] !=
			    '\0' ? "tls-key" : "tls-cert", key, t->cert);
		else
			ctx_err(err, errlen, config, key_line, "%s: %s: no "
			    "usable private key (%s; encrypted keys are not "
			    "supported)", t->key[0] != '\0' ? "tls-key" :
			    "tls-cert", key, ssl_reason(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ssl_ctx) != 1) {
		ctx_err(err, errlen, config, key_line, "%s: %s does not go "
		    "with the certificate in %s (%s)",
		    t->key[0] != '\0' ? "tls-key" : "tls-cert", key, t->cert,
		    ssl_reason(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_set_cipher_list(ssl_ctx, t->ciphers[0] != '\0' ?
	    t->ciphers : TLS_DEFAULT_CIPHERS) != 1) {
		ctx_err(err, errlen, config, t->ciphers_line, "tls-ciphers: "
		    "'%s': %s", t->ciphers, ssl_reason(why, sizeof(why)));
		goto fail;
	}
	if (t->ciphersuites[0] != '\0' &&
	    SSL_CTX_set_ciphersuites(ssl_ctx, t->ciphersuites) != 1) {
		ctx_err(err, errlen, config, t->ciphersuites_line,
		    "tls-ciphersuites: '%s': %s", t->ciphersuites,
		    ssl_reason(why, sizeof(why)));
		goto fail;
	}
	if (t->curves[0] != '\0' &&
	    SSL_CTX_set1_groups_list(ssl_ctx, t->curves) != 1) {
		ctx_err(err, errlen, config, t->curves_line, "tls-curves: "
		    "'%s': %s", t->curves, ssl_reason(why, sizeof(why)));
		goto fail;
	}
	/* The server's order of preference, DHE with built-in groups. */
	SSL_CTX_set_options(ssl_ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_dh_auto(ssl_ctx, 1);
	SSL_CTX_set_alpn_select_cb(ssl_ctx, tls_alpn_select, NULL);
	ctx_check_dates(ssl_ctx, config);
	ctx = ctx_wrap(ssl_ctx, false);
	if (ctx == NULL)
		return ctx_err(err, errlen, config, 0, "out of memory");
	return ctx;
fail:
	SSL_CTX_free(ssl_ctx);
	ERR_clear_error();
	return NULL;
}

/*
 * Verify peers of SSL_CTX against CA (a file or a hashed directory), or
 * the system store when CA is NULL or "".  Returns 0, or -1 with why in
 * WHY ("PATH: reason" or "the system's CA certificates: reason").
 */
static int
ctx_load_ca(SSL_CTX *ssl_ctx, const char *ca, char *why, size_t len)
{
	struct stat st;
	char reason[256];
	int ok;

	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
	if (ca == NULL || ca[0] == '\0') {
		if (SSL_CTX_set_default_verify_paths(ssl_ctx) == 1)
			return 0;
		snprintf(why, len, "the system's CA certificates: %s",
		    ssl_reason(reason, sizeof(reason)));
		return -1;
	}
	if (stat(ca, &st) < 0) {
		snprintf(why, len, "%s: %s", ca, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		ok = SSL_CTX_load_verify_dir(ssl_ctx, ca);
	else
		ok = SSL_CTX_load_verify_file(ssl_ctx, ca);
	if (ok != 1) {
		snprintf(why, len, "%s: no usable CA certificates (%s)", ca,
		    ssl_reason(reason, sizeof(reason)));
		return -1;
	}
	return 0;
}

struct tls_ctx *
tls_ctx_client_new(const struct config *config, char *err, size_t errlen)
{
	SSL_CTX *ssl_ctx;
	struct tls_ctx *ctx;
	char why[512];

	ERR_clear_error();
	ssl_ctx = ctx_base(TLS_client_method(), config->backend_min_version,
	    config->backend_max_version);
	if (ssl_ctx == NULL)
		return ctx_err(err, errlen, config,
		    config->backend_protocols_line, "TLS: %s",
		    ssl_reason(why, sizeof(why)));
	if (config->backend_verify) {
		if (ctx_load_ca(ssl_ctx, config->backend_ca, why,
		    sizeof(why)) == -1) {
			if (config->backend_ca[0] != '\0')
				ctx_err(err, errlen, config,
				    config->backend_ca_line, "backend-ca: %s",
				    why);
			else
				ctx_err(err, errlen, config, 0, "%s", why);
			goto fail;
		}
	} else {
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
		if (!tls_quiet)
			diag_warn("backend-verify off: backend certificates "
			    "are not verified; whoever is on the path to a "
			    "backend can read and change its sessions");
	}
	ctx = ctx_wrap(ssl_ctx, config->backend_verify);
	if (ctx == NULL)
		return ctx_err(err, errlen, config, 0, "out of memory");
	return ctx;
fail:
	SSL_CTX_free(ssl_ctx);
	ERR_clear_error();
	return NULL;
}

struct tls_ctx *
tls_ctx_client_ca(const char *ca, char *err, size_t errlen)
{
	SSL_CTX *ssl_ctx;
	struct tls_ctx *ctx;
	char why[512];

	ERR_clear_error();
	ssl_ctx = ctx_base(TLS_client_method(), CONFIG_TLS_V1_2,
	    CONFIG_TLS_V1_3);
	if (ssl_ctx == NULL) {
		snprintf(err, errlen, "TLS: %s", ssl_reason(why, sizeof(why)));
		ERR_clear_error();
		return NULL;
	}
	if (ctx_load_ca(ssl_ctx, ca, err, errlen) == -1) {
		SSL_CTX_free(ssl_ctx);
		ERR_clear_error();
		return NULL;
	}
	if ((ctx = ctx_wrap(ssl_ctx, true)) == NULL)
		snprintf(err, errlen, "out of memory");
	return ctx;
}

struct tls_ctx *
tls_ctx_ref(struct tls_ctx *ctx)
{
	ctx->refs++;
	return ctx;
}

void
tls_ctx_unref(struct tls_ctx **ctxp)
{
	struct tls_ctx *ctx = *ctxp;

	if (ctx == NULL)
		return;
	*ctxp = NULL;
	if (--ctx->refs > 0)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

int
tls_config_check(const struct config *config, char *err, size_t errlen)
{
	const struct config_listen *l;
	const struct config_output *o;
	struct tls_ctx *ctx;
	char why[512];
	bool backend_tls = false;

	tls_quiet = true;
	if (config->tls.cert[0] != '\0') {
		if ((ctx = tls_ctx_server_new(config, err, errlen)) == NULL)
			goto fail;
		tls_ctx_unref(&ctx);
	}
	for (l = config->listens; l != NULL; l = l->next)
		if (l->backend_tls || l->backend_starttls)
			backend_tls = true;
	if (backend_tls) {
		if ((ctx = tls_ctx_client_new(config, err, errlen)) == NULL)
			goto fail;
		tls_ctx_unref(&ctx);
	}
	for (o = config->outputs; o != NULL; o = o->next) {
		if (o->kind != CONFIG_OUTPUT_SYSLOG_TLS)
			continue;
		if ((ctx = tls_ctx_client_ca(o->path, why, sizeof(why))) ==
		    NULL) {
			ctx_err(err, errlen, config, o->line, "output syslog "
			    "tls://%s: %s%s", o->addr.text, o->path[0] != '\0'
			    ? "ca " : "", why);
			goto fail;
		}
		tls_ctx_unref(&ctx);
	}
	tls_quiet = false;
	return 0;
fail:
	tls_quiet = false;
	return -1;
}

static struct tls_conn *
conn_new(struct tls_ctx *ctx, int fd)
{
	struct tls_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	ERR_clear_error();
	c->ssl = SSL_new(ctx->ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		free(c);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_app_data(c->ssl, c);
	c->handshaking = true;
	c->want_read = TLS_WANT_READ;
	c->want_write = TLS_WANT_WRITE;
	return c;
}

struct tls_conn *
tls_conn_server(struct tls_ctx *ctx, int fd, const char *alpn)
{
	struct tls_conn *c = conn_new(ctx, fd);

	if (c == NULL)
		return NULL;
	c->alpn = alpn;
	SSL_set_accept_state(c->ssl);
	return c;
}

struct tls_conn *
tls_conn_client(struct tls_ctx *ctx, int fd, const char *verify_name,
    const char *sni, const char *alpn)
{
	struct tls_conn *c = conn_new(ctx, fd);
	unsigned char wire[256];
	size_t n;
	bool ok = true;

	if (c == NULL)
		return NULL;
	SSL_set_connect_state(c->ssl);
	if (ctx->verify && verify_name != NULL && verify_name[0] != '\0') {
		if (is_ip(verify_name))
			ok = X509_VERIFY_PARAM_set1_ip_asc(
			    SSL_get0_param(c->ssl), verify_name) == 1;
		else {
			SSL_set_hostflags(c->ssl,
			    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			ok = SSL_set1_host(c->ssl, verify_name) == 1;
		}
	}
	/* RFC 6066 3: a literal IP address is not a server name. */
	if (ok && sni != NULL && sni[0] != '\0' && !is_ip(sni))
		ok = SSL_set_tlsext_host_name(c->ssl, sni) == 1;
	if (ok && alpn != NULL && (n = strlen(alpn)) > 0 && n < 256) {
		wire[0] = (unsigned char)n;
		memcpy(wire + 1, alpn, n);
		/* 0 is success here */
		ok = SSL_set_alpn_protos(c->ssl, wire, (unsigned)n + 1) == 0;
	}
	if (!ok) {
		tls_conn_free(&c);
		ERR_clear_error();
		return NULL;
	}
	return c;
}

void
tls_conn_free(struct tls_conn **connp)
{
	struct tls_conn *c = *connp;

	if (c == NULL)
		return;
	*connp = NULL;
	SSL_free(c->ssl);
	free(c);
}

/*
 * A call failed with SSL_get_error() E, errno SAVED: say why in c->err
 * (unless the ALPN callback already did) and keep the result.  Returns
 * the errno for the caller.
 */
static int
conn_failed(struct tls_conn *c, int e, int saved)
{
	char why[TLS_ERROR_MAX];
	long vr;

	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		if (c->err[0] == '\0')
			snprintf(c->err, sizeof(c->err), "%s", saved != 0 ?
			    strerror(saved) : "the peer closed the "
			    "connection");
		c->fail_errno = saved != 0 ? saved : ECONNRESET;
		return c->fail_errno;
	}
	vr = SSL_get_verify_result(c->ssl);
	if (c->err[0] != '\0') {
		ERR_clear_error();
	} else if (vr != X509_V_OK && SSL_is_server(c->ssl) == 0 &&
	    (SSL_get_verify_mode(c->ssl) & SSL_VERIFY_PEER)) {
		snprintf(c->err, sizeof(c->err), "certificate verify failed: "
		    "%s", X509_verify_cert_error_string(vr));
		ERR_clear_error();
	} else
		snprintf(c->err, sizeof(c->err), "%s",
		    ssl_reason(why, sizeof(why)));
	c->fail_errno = EPROTO;
	return EPROTO;
}

int
tls_conn_handshake(struct tls_conn *c)
{
	int r, e, saved;

	if (c->fail_errno != 0)
		return -1;
	if (!c->handshaking)
		return 1;
	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(c->ssl);
	saved = errno;
	if (r == 1) {
		c->handshaking = false;
		c->want_read = TLS_WANT_READ;
		c->read_blocked = false;
		return 1;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->want_read = e == SSL_ERROR_WANT_READ ? TLS_WANT_READ :
		    TLS_WANT_WRITE;
		return 0;
	}
	if (e == SSL_ERROR_SYSCALL && saved == 0 && ERR_peek_error() == 0 &&
	    c->err[0] == '\0')
		snprintf(c->err, sizeof(c->err), "the peer closed the "
		    "connection during the handshake");
	(void)conn_failed(c, e, saved);
	return -1;
}

bool
tls_conn_handshaking(const struct tls_conn *c)
{
	return c->handshaking;
}

ssize_t
tls_conn_read(struct tls_conn *c, void *buf, size_t len)
{
	size_t n = 0;
	int r, e, saved;

	if (c->eof)
		return 0;
	if (c->fail_errno != 0) {
		errno = c->fail_errno;
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	r = SSL_read_ex(c->ssl, buf, len, &n);
	saved = errno;
	if (r == 1) {
		c->want_read = TLS_WANT_READ;
		c->read_blocked = false;
		return (ssize_t)n;
	}
	e = SSL_get_error(c->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		c->want_read = e == SSL_ERROR_WANT_READ ? TLS_WANT_READ :
		    TLS_WANT_WRITE;
		c->read_blocked = true;
		/*
		 * Nothing buffered: give the record buffers back now.
		 * SSL_MODE_RELEASE_BUFFERS alone leaves a client
		 * connection's read buffer (16 KiB) allocated when it
		 * waits after session tickets.  Fails harmlessly when
		 * anything is still held.
		 */
		if (e == SSL_ERROR_WANT_READ)
			(void)SSL_free_buffers(c->ssl);
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		c->eof = c->closed_cleanly = true;
		return 0;
	case SSL_ERROR_SYSCALL:
		if (saved == 0 && ERR_peek_error() == 0) {
			c->eof = true;	/* TCP EOF, no close_notify */
			return 0;
		}
		break;
	case SSL_ERROR_SSL:
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			c->eof = true;
			return 0;
		}
		break;
	default:
		break;
	}
	errno = conn_failed(c, e, saved);
	return -1;
}

ssize_t
tls_conn_write(struct tls_conn *c, const void *buf, size_t len)
{
	size_t n = 0;
	int r, e, saved;

	if (c->fail_errno != 0) {
		errno = c->fail_errno;
		return -1;
	}
	if (len == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	r = SSL_write_ex(c->ssl, buf, len, &n);
	saved = errno;
	if (r == 1)
		return (ssize_t)n;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->want_write = e == SSL_ERROR_WANT_READ ? TLS_WANT_READ :
		    TLS_WANT_WRITE;
		errno = EAGAIN;
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN) {
		errno = EPIPE;
		return -1;
	}
	errno = conn_failed(c, e, saved != 0 ? saved : EPIPE);
	return -1;
}

unsigned
tls_conn_want_read(const struct tls_conn *c)
{
	return c->want_read;
}

unsigned
tls_conn_want_write(const struct tls_conn *c)
{
	return c->want_write;
}

bool
tls_conn_pending(const struct tls_conn *c)
{
	/*
	 * Until a read waited, OpenSSL may hold bytes (decrypted, or whole
	 * records read ahead) that no readiness of the socket announces;
	 * an end or a failure met while reading ahead is reported next.
	 */
	if (c->handshaking)
		return false;
	return c->eof || c->fail_errno != 0 || !c->read_blocked;
}

bool
tls_conn_closed_cleanly(const struct tls_conn *c)
{
	return c->closed_cleanly;
}

void
tls_conn_close_notify(struct tls_conn *c)
{
	if (c->notified || c->handshaking || c->fail_errno != 0)
		return;
	c->notified = true;
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
}

const char *
tls_conn_error(const struct tls_conn *c)
{
	return c->err;
}

const char *
tls_conn_version(const struct tls_conn *c)
{
	return SSL_get_version(c->ssl);
}

const char *
tls_conn_cipher(const struct tls_conn *c)
{
	const char *name = SSL_get_cipher_name(c->ssl);

	return name != NULL ? name : "";
}

const char *
tls_conn_sni(const struct tls_conn *c)
{
	return SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
}
