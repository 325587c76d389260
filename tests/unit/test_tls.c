/*
 * test_tls.c - proxy/tls.c: contexts from the configuration, and
 * connections driven without blocking over a socketpair.
 *
 * Certificates are made here with OpenSSL's API (an EC key and a
 * self-signed certificate for localhost and 127.0.0.1, which serves as
 * its own CA), written to a temporary directory and named in
 * configurations parsed by config_parse().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../proxy/config.h"
#include "../../proxy/tls.h"

static char dir[64];
static char cert1[128], key1[128], cert2[128], key2[128];

static void
write_pem(const char *path, EVP_PKEY *pkey, X509 *x)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	if (x != NULL)
		assert_int_equal(PEM_write_X509(fp, x), 1);
	if (pkey != NULL)
		assert_int_equal(PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0,
		    NULL, NULL), 1);
	fclose(fp);
}

/* A self-signed certificate for localhost and 127.0.0.1. */
static void
make_cert(const char *cert, const char *key, long from, long days)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext;
	X509V3_CTX v3;

	assert_non_null(pkey);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)getpid());
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), from + days * 86400);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "DNS:localhost,IP:127.0.0.1");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	write_pem(cert, NULL, x);
	write_pem(key, pkey, NULL);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

static int
setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/test_tls.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cert1, sizeof(cert1), "%s/c1.pem", dir);
	snprintf(key1, sizeof(key1), "%s/k1.pem", dir);
	snprintf(cert2, sizeof(cert2), "%s/c2.pem", dir);
	snprintf(key2, sizeof(key2), "%s/k2.pem", dir);
	make_cert(cert1, key1, 0, 2);
	make_cert(cert2, key2, 0, 2);
	return 0;
}

static int
teardown(void **state)
{
	char path[256];
	const char *names[] = { "c1.pem", "k1.pem", "c2.pem", "k2.pem" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

/* A configuration with TEXT after a listen line. */
static struct config *
conf(const char *fmt, ...)
{
	char text[4096], err[CONFIG_ERROR_MAX];
	struct config *c;
	va_list ap;
	int n;

	n = snprintf(text, sizeof(text),
	    "listen imap 127.0.0.1:1143 backend 127.0.0.1:143\n");
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	c = config_parse("t.conf", text, err);
	if (c == NULL)
		fail_msg("config: %s", err);
	return c;
}

static void
expect_server_error(struct config *c, const char *want)
{
	char err[CONFIG_ERROR_MAX];

	assert_null(tls_ctx_server_new(c, err, sizeof(err)));
	if (strstr(err, want) == NULL)
		fail_msg("got '%s', want '%s' in it", err, want);
	config_free(&c);
}

static void
test_server_ctx(void **state)
{
	char err[CONFIG_ERROR_MAX], want[512];
	struct config *c;
	struct tls_ctx *ctx, *two;

	(void)state;
	c = conf("tls-cert %s\ntls-key %s\n", cert1, key1);
	ctx = tls_ctx_server_new(c, err, sizeof(err));
	assert_non_null(ctx);
	two = tls_ctx_ref(ctx);
	assert_ptr_equal(two, ctx);
	tls_ctx_unref(&ctx);
	assert_null(ctx);
	tls_ctx_unref(&two);		/* the last reference */
	assert_null(two);
	assert_int_equal(tls_config_check(c, err, sizeof(err)), 0);
	config_free(&c);

	snprintf(want, sizeof(want), "t.conf:2: tls-cert: %s/none.pem: cannot "
	    "open: No such file or directory", dir);
	expect_server_error(conf("tls-cert %s/none.pem\n", dir), want);
	snprintf(want, sizeof(want), "t.conf:3: tls-key: %s does not go with "
	    "the certificate in %s", key2, cert1);
	expect_server_error(conf("tls-cert %s\ntls-key %s\n", cert1, key2),
	    want);
	/* the key in the certificate's file when tls-key is not given */
	snprintf(want, sizeof(want), "t.conf:2: tls-cert: %s: no usable "
	    "private key", cert1);
	expect_server_error(conf("tls-cert %s\n", cert1), want);
	snprintf(want, sizeof(want), "t.conf:2: tls-cert: %s: no usable "
	    "certificate chain", key1);
	expect_server_error(conf("tls-cert %s\ntls-key %s\n", key1, key1),
	    want);
	expect_server_error(conf("tls-cert %s\ntls-key %s\ntls-ciphers "
	    "NOPE\n", cert1, key1), "t.conf:4: tls-ciphers: 'NOPE': ");
	expect_server_error(conf("tls-cert %s\ntls-key %s\n"
	    "tls-ciphersuites TLS_NOPE\n", cert1, key1),
	    "t.conf:4: tls-ciphersuites: 'TLS_NOPE': ");
	expect_server_error(conf("tls-cert %s\ntls-key %s\ntls-curves "
	    "P-999\n", cert1, key1), "t.conf:4: tls-curves: 'P-999': ");

	/* the configuration's -t check says the same */
	c = conf("tls-cert %s\ntls-key %s\n", cert1, key2);
	assert_int_equal(tls_config_check(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not go with the certificate"));
	config_free(&c);
}

static void
test_client_ctx(void **state)
{
	char err[CONFIG_ERROR_MAX], want[512];
	struct config *c;
	struct tls_ctx *ctx;

	(void)state;
	c = conf("backend-ca %s\n", cert1);
	ctx = tls_ctx_client_new(c, err, sizeof(err));
	assert_non_null(ctx);
	tls_ctx_unref(&ctx);
	config_free(&c);
	c = conf("backend-ca %s\n", dir);	/* a directory */
	ctx = tls_ctx_client_new(c, err, sizeof(err));
	assert_non_null(ctx);
	tls_ctx_unref(&ctx);
	config_free(&c);

	c = conf("backend-ca %s/none.pem\n", dir);
	assert_null(tls_ctx_client_new(c, err, sizeof(err)));
	snprintf(want, sizeof(want), "t.conf:2: backend-ca: %s/none.pem: No "
	    "such file or directory", dir);
	assert_string_equal(err, want);
	config_free(&c);
	c = conf("backend-ca %s\n", key1);	/* no certificate in it */
	assert_null(tls_ctx_client_new(c, err, sizeof(err)));
	assert_non_null(strstr(err, "t.conf:2: backend-ca: "));
	assert_non_null(strstr(err, "no usable CA certificates"));
	config_free(&c);
	/* -t checks the backend side when a listener uses it */
	c = config_parse("t.conf", "listen imap 127.0.0.1:1 backend "
	    "127.0.0.1:2 backend-tls\nbackend-ca /nonexistent/ca.pem\n", err);
	assert_non_null(c);
	assert_int_equal(tls_config_check(c, err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf:2: backend-ca: /nonexistent/ca.pem: "
	    "No such file or directory");
	config_free(&c);
}

/* Both ends of a connection over a non-blocking socketpair. */
struct pair {
	int fd[2];
	struct tls_ctx *sctx, *cctx;
	struct tls_conn *srv, *cli;
};

static void
pair_open(struct pair *p, const char *backend_ca, bool verify,
    const char *name, const char *sni, const char *offer)
{
	char err[CONFIG_ERROR_MAX];
	struct config *c;
	int small = 4096;

	c = conf("tls-cert %s\ntls-key %s\nbackend-ca %s\nbackend-verify %s\n",
	    cert1, key1, backend_ca, verify ? "on" : "off");
	p->sctx = tls_ctx_server_new(c, err, sizeof(err));
	assert_non_null(p->sctx);
	p->cctx = tls_ctx_client_new(c, err, sizeof(err));
	assert_non_null(p->cctx);
	config_free(&c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
	for (int i = 0; i < 2; i++) {
		fcntl(p->fd[i], F_SETFL, O_NONBLOCK);
		/* small buffers: writes stop half way */
		setsockopt(p->fd[i], SOL_SOCKET, SO_SNDBUF, &small,
		    sizeof(small));
		setsockopt(p->fd[i], SOL_SOCKET, SO_RCVBUF, &small,
		    sizeof(small));
	}
	p->srv = tls_conn_server(p->sctx, p->fd[0], "imap");
	p->cli = tls_conn_client(p->cctx, p->fd[1], name, sni, offer);
	assert_non_null(p->srv);
	assert_non_null(p->cli);
	/* the connections hold the contexts: ours may go */
	tls_ctx_unref(&p->sctx);
	tls_ctx_unref(&p->cctx);
}

static void
pair_close(struct pair *p)
{
	tls_conn_free(&p->srv);
	tls_conn_free(&p->cli);
	assert_null(p->srv);
	close(p->fd[0]);
	close(p->fd[1]);
}

/* Drive both handshakes; returns 1 done, -1 when one side failed. */
static int
pair_handshake(struct pair *p, int *srv_r, int *cli_r)
{
	int s = 0, c = 0;

	for (int i = 0; i < 100; i++) {
		if (s == 0)
			s = tls_conn_handshake(p->srv);
		if (c == 0)
			c = tls_conn_handshake(p->cli);
		if (s < 0 || c < 0 || (s == 1 && c == 1))
			break;
	}
	*srv_r = s;
	*cli_r = c;
	return s == 1 && c == 1 ? 1 : -1;
}

static void
test_handshake(void **state)
{
	struct pair p;
	int s, c;

	(void)state;
	/* the IP address against the certificate's IP SAN; SNI localhost */
	pair_open(&p, cert1, true, "127.0.0.1", "localhost", "imap");
	assert_true(tls_conn_handshaking(p.srv));
	assert_int_equal(pair_handshake(&p, &s, &c), 1);
	assert_false(tls_conn_handshaking(p.srv));
	assert_string_equal(tls_conn_version(p.srv), "TLSv1.3");
	assert_string_equal(tls_conn_version(p.cli), "TLSv1.3");
	assert_true(strlen(tls_conn_cipher(p.srv)) > 0);
	assert_string_equal(tls_conn_sni(p.srv), "localhost");
	pair_close(&p);

	/* a DNS name; no SNI for an address */
	pair_open(&p, cert1, true, "localhost", "127.0.0.1", NULL);
	assert_int_equal(pair_handshake(&p, &s, &c), 1);
	assert_null(tls_conn_sni(p.srv));
	pair_close(&p);
}

/* Old protocols for old backends (and clients) when asked for. */
static void
test_old_protocols(void **state)
{
	char err[CONFIG_ERROR_MAX];
	struct config *c;
	struct pair p;
	int s, cr;

	(void)state;
	c = conf("tls-cert %s\ntls-key %s\nbackend-ca %s\n"
	    "tls-protocols TLSv1 TLSv1.1\nbackend-tls-protocols TLSv1\n",
	    cert1, key1, cert1);
	p.sctx = tls_ctx_server_new(c, err, sizeof(err));
	p.cctx = tls_ctx_client_new(c, err, sizeof(err));
	assert_non_null(p.sctx);
	assert_non_null(p.cctx);
	config_free(&c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p.fd), 0);
	fcntl(p.fd[0], F_SETFL, O_NONBLOCK);
	fcntl(p.fd[1], F_SETFL, O_NONBLOCK);
	p.srv = tls_conn_server(p.sctx, p.fd[0], "imap");
	p.cli = tls_conn_client(p.cctx, p.fd[1], "localhost", NULL, NULL);
	tls_ctx_unref(&p.sctx);
	tls_ctx_unref(&p.cctx);
	assert_int_equal(pair_handshake(&p, &s, &cr), 1);
	assert_string_equal(tls_conn_version(p.srv), "TLSv1");
	pair_close(&p);
}

static void
test_verify_failures(void **state)
{
	struct pair p;
	int s, c;

	(void)state;
	/* another CA */
	pair_open(&p, cert2, true, "127.0.0.1", NULL, NULL);
	assert_int_equal(pair_handshake(&p, &s, &c), -1);
	assert_int_equal(c, -1);
	assert_string_equal(tls_conn_error(p.cli), "certificate verify "
	    "failed: self-signed certificate");
	pair_close(&p);
	/* the wrong name */
	pair_open(&p, cert1, true, "imap.example.net", NULL, NULL);
	assert_int_equal(pair_handshake(&p, &s, &c), -1);
	assert_string_equal(tls_conn_error(p.cli), "certificate verify "
	    "failed: hostname mismatch");
	pair_close(&p);
	pair_open(&p, cert1, true, "192.0.2.1", NULL, NULL);
	assert_int_equal(pair_handshake(&p, &s, &c), -1);
	assert_string_equal(tls_conn_error(p.cli), "certificate verify "
	    "failed: IP address mismatch");
	pair_close(&p);
	/* backend-verify off: anything goes */
	pair_open(&p, cert2, false, "imap.example.net", NULL, NULL);
	assert_int_equal(pair_handshake(&p, &s, &c), 1);
	pair_close(&p);
}

static void
test_alpn(void **state)
{
	struct pair p;
	int s, c;

	(void)state;
	pair_open(&p, cert1, true, "127.0.0.1", NULL, "http/1.1");
	assert_int_equal(pair_handshake(&p, &s, &c), -1);
	assert_int_equal(s, -1);
	assert_string_equal(tls_conn_error(p.srv), "client offered ALPN "
	    "http/1.1, not imap");
	assert_non_null(strstr(tls_conn_error(p.cli), "no application "
	    "protocol"));
	pair_close(&p);
}

/* Move LEN bytes through, in whatever pieces the sockets take. */
static void
transfer(struct pair *p, struct tls_conn *from, struct tls_conn *to,
    size_t len)
{
	char *out = malloc(len), *in = malloc(len);
	size_t sent = 0, got = 0;
	ssize_t n;
	unsigned rounds = 0, again = 0;

	assert_non_null(out);
	assert_non_null(in);
	(void)p;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(i * 7 + i / 251);
	while (got < len) {
		assert_true(++rounds < 100000);
		if (sent < len) {
			n = tls_conn_write(from, out + sent, len - sent);
			if (n > 0)
				sent += (size_t)n;
			else {
				assert_int_equal(errno, EAGAIN);
				assert_int_equal(tls_conn_want_write(from),
				    TLS_WANT_WRITE);
				again++;
			}
		}
		n = tls_conn_read(to, in + got, len - got);
		if (n > 0)
			got += (size_t)n;
		else {
			assert_int_equal(n, -1);
			assert_int_equal(errno, EAGAIN);
			assert_int_equal(tls_conn_want_read(to), TLS_WANT_READ);
			assert_false(tls_conn_pending(to));
		}
	}
	assert_true(again > 0);		/* the writer did wait */
	assert_memory_equal(in, out, len);
	free(in);
	free(out);
}

static void
test_io_and_close(void **state)
{
	struct pair p;
	char buf[64];
	int s, c;

	(void)state;
	pair_open(&p, cert1, true, "127.0.0.1", NULL, "imap");
	assert_int_equal(pair_handshake(&p, &s, &c), 1);
	transfer(&p, p.cli, p.srv, 1 << 20);
	transfer(&p, p.srv, p.cli, 300000);
	/* close_notify: an orderly end, reported again */
	tls_conn_close_notify(p.cli);
	assert_int_equal(tls_conn_read(p.srv, buf, sizeof(buf)), 0);
	assert_true(tls_conn_closed_cleanly(p.srv));
	assert_int_equal(tls_conn_read(p.srv, buf, sizeof(buf)), 0);
	assert_true(tls_conn_pending(p.srv));
	pair_close(&p);

	/* a TCP close without close_notify: the end, not orderly */
	pair_open(&p, cert1, true, "127.0.0.1", NULL, NULL);
	assert_int_equal(pair_handshake(&p, &s, &c), 1);
	assert_int_equal(tls_conn_write(p.cli, "a1 NOOP\r\n", 9), 9);
	shutdown(p.fd[1], SHUT_WR);
	assert_int_equal(tls_conn_read(p.srv, buf, sizeof(buf)), 9);
	assert_memory_equal(buf, "a1 NOOP\r\n", 9);
	assert_int_equal(tls_conn_read(p.srv, buf, sizeof(buf)), 0);
	assert_false(tls_conn_closed_cleanly(p.srv));
	pair_close(&p);
}

static void
test_not_tls(void **state)
{
	struct pair p;
	int s = 0;

	(void)state;
	pair_open(&p, cert1, true, "127.0.0.1", NULL, NULL);
	assert_int_equal(write(p.fd[1], "GET / HTTP/1.1\r\n\r\n", 18), 18);
	for (int i = 0; i < 10 && s == 0; i++)
		s = tls_conn_handshake(p.srv);
	assert_int_equal(s, -1);
	assert_true(strlen(tls_conn_error(p.srv)) > 0);
	/* failed stays failed */
	assert_int_equal(tls_conn_handshake(p.srv), -1);
	pair_close(&p);

	/* the peer goes away during the handshake */
	pair_open(&p, cert1, true, "127.0.0.1", NULL, NULL);
	assert_int_equal(tls_conn_handshake(p.cli), 0);	/* ClientHello */
	shutdown(p.fd[1], SHUT_WR);
	s = 0;
	for (int i = 0; i < 10 && s == 0; i++)
		s = tls_conn_handshake(p.srv);
	assert_int_equal(s, -1);
	assert_true(strlen(tls_conn_error(p.srv)) > 0);
	pair_close(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_ctx),
		cmocka_unit_test(test_client_ctx),
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_old_protocols),
		cmocka_unit_test(test_verify_failures),
		cmocka_unit_test(test_alpn),
		cmocka_unit_test(test_io_and_close),
		cmocka_unit_test(test_not_tls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
