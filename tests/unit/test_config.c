/*
 * test_config.c - the configuration file: every directive, the
 * defaults, the syntax, and every error message config.c writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../proxy/config.h"

/* Long literals without a loop: A1024 is 1024 'a's. */
#define A15	"aaaaaaaaaaaaaaa"
#define A16	A15 "a"
#define A64	A16 A16 A16 A16
#define A256	A64 A64 A64 A64
#define A1024	A256 A256 A256 A256
#define A4096	A1024 A1024 A1024 A1024
#define A255	A64 A64 A64 A16 A16 A16 A15
#define A4095	A1024 A1024 A1024 A255 A256 A256 A256

/* A minimal valid line 1, so a bad line 2 reports "t.conf:2: ". */
#define L1	"listen imap 127.0.0.1:1143 backend 127.0.0.1:143\n"

static struct config *
parse_ok(const char *text)
{
	char err[CONFIG_ERROR_MAX];
	struct config *conf;

	conf = config_parse("t.conf", text, err);
	if (conf == NULL)
		fail_msg("unexpected error: %s", err);
	return conf;
}

static void
assert_sa4(const struct config_addr *a, const char *host, uint16_t port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->sa;
	char buf[INET_ADDRSTRLEN];

	assert_int_equal(a->sa.ss_family, AF_INET);
	assert_int_equal(a->salen, sizeof(*sin));
	assert_int_equal(ntohs(sin->sin_port), port);
	assert_int_equal(a->port, port);
	assert_non_null(inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)));
	assert_string_equal(buf, host);
	assert_string_equal(a->host, host);
}

static void
assert_sa6(const struct config_addr *a, const char *host, uint16_t port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->sa;
	char buf[INET6_ADDRSTRLEN];

	assert_int_equal(a->sa.ss_family, AF_INET6);
	assert_int_equal(a->salen, sizeof(*sin6));
	assert_int_equal(ntohs(sin6->sin6_port), port);
	assert_int_equal(a->port, port);
	assert_non_null(inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
	    sizeof(buf)));
	assert_string_equal(buf, host);
	assert_string_equal(a->host, host);
}

static const char full_text[] =
    "# msgeventd.conf, every directive this version accepts\n"
    "server-name mail.example.net\n"
    "max-line-length 131072\n"
    "syslog-max-size 4096\n"
    "syslog-facility local3\n"
    "syslog-sd-id ev@12345\n"
    "idle-timeout 600\n"
    "connect-timeout 5\n"
    "shutdown-grace 0\n"
    "max-sessions 500\n"
    "output-queue 65536\n"
    "\n"
    "listen imap 127.0.0.1:1143 backend 127.0.0.1:143\n"
    "listen imap [::1]:1144 backend [2001:db8::1]:143\n"
    "listen imap localhost:1145 backend 0.0.0.0:1\n"
    "output syslog udp://127.0.0.1:5514\n"
    "output syslog tcp://[::1]:65535\n"
    "output syslog unix:/dev/log\n"
    "output syslog stderr\n"
    "flag-events flags\n";

static void
test_full(void **state)
{
	struct config *conf = parse_ok(full_text);
	struct config_listen *l;
	struct config_output *o;

	(void)state;
	assert_string_equal(conf->file, "t.conf");
	assert_string_equal(conf->server_name, "mail.example.net");
	assert_int_equal(conf->max_line_length, 131072);
	assert_int_equal(conf->syslog_max_size, 4096);
	assert_int_equal(conf->syslog_facility, 19);
	assert_string_equal(conf->syslog_sd_id, "ev@12345");
	assert_int_equal(conf->idle_timeout, 600);
	assert_int_equal(conf->connect_timeout, 5);
	assert_int_equal(conf->shutdown_grace, 0);
	assert_int_equal(conf->max_sessions, 500);
	assert_int_equal(conf->output_queue, 65536);
	assert_int_equal(conf->flag_events, CONFIG_FLAG_EVENTS_FLAGS);

	l = conf->listens;
	assert_non_null(l);
	assert_int_equal(l->line, 13);
	assert_int_equal(l->service, CONFIG_SERVICE_IMAP);
	assert_string_equal(l->listen.text, "127.0.0.1:1143");
	assert_sa4(&l->listen, "127.0.0.1", 1143);
	assert_string_equal(l->backend.text, "127.0.0.1:143");
	assert_sa4(&l->backend, "127.0.0.1", 143);
	assert_false(l->backend_tls);
	assert_false(l->backend_starttls);

	l = l->next;
	assert_non_null(l);
	assert_int_equal(l->line, 14);
	assert_string_equal(l->listen.text, "[::1]:1144");
	assert_sa6(&l->listen, "::1", 1144);
	assert_string_equal(l->backend.text, "[2001:db8::1]:143");
	assert_sa6(&l->backend, "2001:db8::1", 143);

	l = l->next;
	assert_non_null(l);
	assert_int_equal(l->line, 15);
	assert_string_equal(l->listen.text, "localhost:1145");
	assert_sa4(&l->listen, "127.0.0.1", 1145);
	assert_sa4(&l->backend, "0.0.0.0", 1);
	assert_null(l->next);

	o = conf->outputs;
	assert_non_null(o);
	assert_int_equal(o->line, 16);
	assert_int_equal(o->kind, CONFIG_OUTPUT_SYSLOG_UDP);
	assert_string_equal(o->addr.text, "127.0.0.1:5514");
	assert_sa4(&o->addr, "127.0.0.1", 5514);

	o = o->next;
	assert_non_null(o);
	assert_int_equal(o->line, 17);
	assert_int_equal(o->kind, CONFIG_OUTPUT_SYSLOG_TCP);
	assert_sa6(&o->addr, "::1", 65535);

	o = o->next;
	assert_non_null(o);
	assert_int_equal(o->line, 18);
	assert_int_equal(o->kind, CONFIG_OUTPUT_SYSLOG_UNIX);
	assert_string_equal(o->path, "/dev/log");

	o = o->next;
	assert_non_null(o);
	assert_int_equal(o->line, 19);
	assert_int_equal(o->kind, CONFIG_OUTPUT_SYSLOG_STDERR);
	assert_null(o->next);

	config_free(&conf);
	assert_null(conf);
}

/* output syslog tls:// (the CA file is read by tls.c, not here). */
static void
test_syslog_tls(void **state)
{
	struct config *conf;
	struct config_output *o;

	(void)state;
	conf = parse_ok(L1 "output syslog tls://127.0.0.1:6514\n"
	    "output syslog tls://[::1]:6514 ca /etc/ssl/ca.pem\n"
	    "output syslog tls://localhost:6514 ca \"/a b/ca.pem\"\n");
	o = conf->outputs;
	assert_non_null(o);
	assert_int_equal(o->line, 2);
	assert_int_equal(o->kind, CONFIG_OUTPUT_SYSLOG_TLS);
	assert_sa4(&o->addr, "127.0.0.1", 6514);
	assert_string_equal(o->path, "");
	assert_string_equal(o->tls_name, "127.0.0.1");
	o = o->next;
	assert_non_null(o);
	assert_int_equal(o->kind, CONFIG_OUTPUT_SYSLOG_TLS);
	assert_sa6(&o->addr, "::1", 6514);
	assert_string_equal(o->path, "/etc/ssl/ca.pem");
	assert_string_equal(o->tls_name, "::1");
	o = o->next;
	assert_non_null(o);
	assert_string_equal(o->path, "/a b/ca.pem");
	assert_string_equal(o->tls_name, "localhost");
	assert_null(o->next);
	config_free(&conf);
}

/* TLS directives (checked for form here; tls.c reads the files). */
static void
test_tls(void **state)
{
	struct config *conf;
	struct config_listen *l;

	(void)state;
	conf = parse_ok(L1);
	assert_string_equal(conf->tls.cert, "");
	assert_int_equal(conf->tls.cert_line, 0);
	assert_int_equal(conf->tls.min_version, CONFIG_TLS_V1_2);
	assert_int_equal(conf->tls.max_version, CONFIG_TLS_V1_3);
	assert_true(conf->backend_verify);
	assert_int_equal(conf->backend_min_version, CONFIG_TLS_V1_2);
	assert_int_equal(conf->backend_max_version, CONFIG_TLS_V1_3);
	assert_string_equal(conf->listens->backend_name, "127.0.0.1");
	config_free(&conf);

	conf = parse_ok(
	    "listen imaps 127.0.0.1:993 backend localhost:143\n"
	    "tls-cert /etc/ssl/chain.pem\n"
	    "tls-key \"/etc/ssl/a key.pem\"\n"
	    "tls-protocols TLSv1.3 TLSv1.2 TLSv1.1\n"
	    "tls-ciphers ECDHE+AESGCM:!aNULL\n"
	    "tls-ciphersuites TLS_AES_256_GCM_SHA384\n"
	    "tls-curves X25519:prime256v1\n"
	    "backend-ca /etc/ssl/ca.pem\n"
	    "backend-verify off\n"
	    "backend-tls-protocols TLSv1\n"
	    "listen imap 127.0.0.1:1 backend [::1]:993 backend-tls\n"
	    "listen imap 127.0.0.1:2 backend 192.0.2.1:143 backend-starttls "
	    "backend-name imap.example.net\n");
	assert_string_equal(conf->tls.cert, "/etc/ssl/chain.pem");
	assert_int_equal(conf->tls.cert_line, 2);
	assert_string_equal(conf->tls.key, "/etc/ssl/a key.pem");
	assert_int_equal(conf->tls.key_line, 3);
	assert_int_equal(conf->tls.min_version, CONFIG_TLS_V1_1);
	assert_int_equal(conf->tls.max_version, CONFIG_TLS_V1_3);
	assert_int_equal(conf->tls.protocols_line, 4);
	assert_string_equal(conf->tls.ciphers, "ECDHE+AESGCM:!aNULL");
	assert_int_equal(conf->tls.ciphers_line, 5);
	assert_string_equal(conf->tls.ciphersuites, "TLS_AES_256_GCM_SHA384");
	assert_string_equal(conf->tls.curves, "X25519:prime256v1");
	assert_int_equal(conf->tls.curves_line, 7);
	assert_string_equal(conf->backend_ca, "/etc/ssl/ca.pem");
	assert_int_equal(conf->backend_ca_line, 8);
	assert_false(conf->backend_verify);
	assert_int_equal(conf->backend_min_version, CONFIG_TLS_V1_0);
	assert_int_equal(conf->backend_max_version, CONFIG_TLS_V1_0);
	l = conf->listens;
	assert_int_equal(l->service, CONFIG_SERVICE_IMAPS);
	assert_false(l->backend_tls || l->backend_starttls);
	assert_string_equal(l->backend_name, "localhost");
	l = l->next;
	assert_true(l->backend_tls);
	assert_string_equal(l->backend_name, "::1");
	l = l->next;
	assert_true(l->backend_starttls);
	assert_string_equal(l->backend_name, "imap.example.net");
	config_free(&conf);
}

/*
 * POP3: listen pop3 and pop3s, and pop3-uidl-pattern compiled into a
 * map that reads Dovecot's default unique-ids (test_uidl_map has the
 * matching itself).
 */
static void
test_pop3(void **state)
{
	struct config *conf;
	struct config_listen *l;
	struct uidl_map *map;
	uint32_t uid = 0, uidv = 0;

	(void)state;
	conf = parse_ok(L1);
	assert_null(conf->uidl_map);
	assert_int_equal(conf->uidl_map_line, 0);
	config_free(&conf);

	conf = parse_ok(
	    "tls-cert /etc/ssl/chain.pem\n"
	    "listen pop3 127.0.0.1:1110 backend 127.0.0.1:110\n"
	    "listen pop3s 127.0.0.1:1995 backend 127.0.0.1:995 backend-tls\n"
	    "listen pop3 127.0.0.1:1111 backend localhost:110 "
	    "backend-starttls backend-name pop.example.net\n"
	    "# Dovecot's default pop3_uidl_format %08Xu%08Xv\n"
	    "pop3-uidl-pattern \"^(?<uid>[0-9A-Fa-f]{8})"
	    "(?<uidvalidity>[0-9A-Fa-f]{8})$\" hex\n");
	l = conf->listens;
	assert_int_equal(l->service, CONFIG_SERVICE_POP3);
	assert_sa4(&l->backend, "127.0.0.1", 110);
	l = l->next;
	assert_int_equal(l->service, CONFIG_SERVICE_POP3S);
	assert_true(l->backend_tls);
	l = l->next;
	assert_int_equal(l->service, CONFIG_SERVICE_POP3);
	assert_true(l->backend_starttls);
	assert_string_equal(l->backend_name, "pop.example.net");
	assert_int_equal(conf->uidl_map_line, 6);
	assert_non_null(conf->uidl_map);
	assert_true(uidl_map_match(conf->uidl_map, "000000056B0D69CC", 16,
	    &uid, &uidv));
	assert_int_equal(uid, 5);
	assert_int_equal(uidv, 1796041164);
	/* The configuration's reference is one of several. */
	map = uidl_map_ref(conf->uidl_map);
	config_free(&conf);
	assert_true(uidl_map_match(map, "0000000a6b0d69cc", 16, &uid,
	    &uidv));
	assert_int_equal(uid, 10);
	uidl_map_unref(&map);
	assert_null(map);

	/* Decimal, the default base. */
	conf = parse_ok(L1 "pop3-uidl-pattern "
	    "\"^(?<uidvalidity>\\d+)\\.(?<uid>\\d+)$\"\n");
	assert_true(uidl_map_match(conf->uidl_map, "1700000000.42", 13, &uid,
	    &uidv));
	assert_int_equal(uid, 42);
	assert_int_equal(uidv, 1700000000);
	assert_false(uidl_map_match(conf->uidl_map, "6b0d69cc.2a", 11, &uid,
	    &uidv));
	config_free(&conf);
}

static void
test_defaults(void **state)
{
	struct config *conf = parse_ok(L1);
	char host[CONFIG_NAME_MAX + 1];

	(void)state;
	assert_int_equal(conf->max_line_length, 65536);
	assert_int_equal(conf->syslog_max_size, 2048);
	assert_int_equal(conf->syslog_facility, 2);
	assert_string_equal(conf->syslog_sd_id, "msgevent@32473");
	assert_int_equal(conf->idle_timeout, 1800);
	assert_int_equal(conf->connect_timeout, 10);
	assert_int_equal(conf->shutdown_grace, 10);
	assert_int_equal(conf->max_sessions, 10000);
	assert_int_equal(conf->output_queue, 1048576);
	assert_int_equal(conf->flag_events, CONFIG_FLAG_EVENTS_SIMPLE);
	assert_null(conf->outputs);
	assert_non_null(conf->listens);
	assert_null(conf->listens->next);
	/* The host name, or "localhost" if it is not usable. */
	memset(host, 0, sizeof(host));
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	if (strcmp(conf->server_name, "localhost") != 0)
		assert_string_equal(conf->server_name, host);
	config_free(&conf);
}

/* Both ends of each numeric range are accepted. */
static void
test_ranges(void **state)
{
	struct config *conf;

	(void)state;
	conf = parse_ok(L1 "max-line-length 1024\nsyslog-max-size 480\n"
	    "idle-timeout 1\nconnect-timeout 1\nshutdown-grace 0\n"
	    "max-sessions 1\noutput-queue 65536\n");
	assert_int_equal(conf->max_line_length, 1024);
	assert_int_equal(conf->syslog_max_size, 480);
	assert_int_equal(conf->idle_timeout, 1);
	assert_int_equal(conf->connect_timeout, 1);
	assert_int_equal(conf->shutdown_grace, 0);
	assert_int_equal(conf->max_sessions, 1);
	assert_int_equal(conf->output_queue, 65536);
	config_free(&conf);

	conf = parse_ok(L1 "max-line-length 16777216\nsyslog-max-size 8192\n"
	    "idle-timeout 86400\nconnect-timeout 300\nshutdown-grace 3600\n"
	    "max-sessions 1000000\noutput-queue 1073741824\n"
	    "server-name 0009\n");
	assert_int_equal(conf->max_line_length, 16777216);
	assert_int_equal(conf->syslog_max_size, 8192);
	assert_int_equal(conf->idle_timeout, 86400);
	assert_int_equal(conf->connect_timeout, 300);
	assert_int_equal(conf->shutdown_grace, 3600);
	assert_int_equal(conf->max_sessions, 1000000);
	assert_int_equal(conf->output_queue, 1073741824);
	config_free(&conf);

	/* Leading zeros are still decimal. */
	conf = parse_ok(L1 "idle-timeout 00010\n");
	assert_int_equal(conf->idle_timeout, 10);
	config_free(&conf);
}

static void
test_facilities(void **state)
{
	static const struct {
		const char *name;
		int code;
	} t[] = {
		{ "user", 1 }, { "mail", 2 }, { "daemon", 3 }, { "auth", 4 },
		{ "authpriv", 10 }, { "local0", 16 }, { "local1", 17 },
		{ "local2", 18 }, { "local3", 19 }, { "local4", 20 },
		{ "local5", 21 }, { "local6", 22 }, { "local7", 23 },
	};
	char text[256];
	struct config *conf;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), L1 "syslog-facility %s\n",
		    t[i].name);
		conf = parse_ok(text);
		assert_int_equal(conf->syslog_facility, t[i].code);
		config_free(&conf);
	}
}

static void
test_names(void **state)
{
	struct config *conf;

	(void)state;
	conf = parse_ok(L1 "server-name " A255 "\nsyslog-sd-id " A16
	    "aaaaaaaaaaa@1234\n");
	assert_int_equal(strlen(conf->server_name), 255);
	assert_int_equal(strlen(conf->syslog_sd_id), 32);
	config_free(&conf);

	conf = parse_ok(L1 "server-name Mail-1_x.Example.NET\n"
	    "syslog-sd-id !$%&'()*+,-./09:;<>?[\\^_`{|}~@0\n");
	assert_string_equal(conf->server_name, "Mail-1_x.Example.NET");
	assert_string_equal(conf->syslog_sd_id,
	    "!$%&'()*+,-./09:;<>?[\\^_`{|}~@0");
	config_free(&conf);
}

/* Comments, quotes, escapes, tabs, blank lines, CRLF, no final LF. */
static void
test_syntax(void **state)
{
	struct config *conf;
	struct config_output *o;

	(void)state;
	conf = parse_ok(
	    "   # indented comment\r\n"
	    "\r\n"
	    "\t \t\n"
	    "listen\timap \t127.0.0.1:1143\t\tbackend 127.0.0.1:143 # why\r\n"
	    "server-name \"mail.example.net\"#comment\r\n"
	    "output syslog unix:\"/run/a b\tc\"\n"
	    "output syslog \"unix:/run/q\\\"x\\\\y#z\\d\"\n"
	    "output \"sys\"log\"\" unix:/a\"\"b\n"
	    "#last line, no LF: \"unterminated is fine in a comment\n"
	    "output syslog stderr");
	assert_string_equal(conf->server_name, "mail.example.net");
	assert_int_equal(conf->listens->line, 4);
	assert_sa4(&conf->listens->listen, "127.0.0.1", 1143);
	assert_sa4(&conf->listens->backend, "127.0.0.1", 143);
	o = conf->outputs;
	assert_int_equal(o->line, 6);
	assert_string_equal(o->path, "/run/a b\tc");
	o = o->next;
	assert_string_equal(o->path, "/run/q\"x\\y#z\\d");
	o = o->next;
	assert_string_equal(o->path, "/ab");
	o = o->next;
	assert_int_equal(o->line, 10);
	assert_int_equal(o->kind, CONFIG_OUTPUT_SYSLOG_STDERR);
	assert_null(o->next);
	config_free(&conf);

	/* A line of exactly CONFIG_LINE_MAX bytes, plus CR, is accepted. */
	conf = parse_ok(L1 "#" A4095 "\r\n" "#" A4095 "\n");
	config_free(&conf);
}

static void
test_unix_path_max(void **state)
{
	struct config *conf;

	(void)state;
	/* 107 bytes: sun_path less its NUL. */
	conf = parse_ok(L1 "output syslog unix:/" A64 A16 A16
	    "aaaaaaaaaa\n");
	assert_int_equal(strlen(conf->outputs->path), 107);
	config_free(&conf);
}

/*
 * Every message config.c can write, each at least once, but "out of
 * memory".  NAME is the file name given (NULL: "t.conf"); TEXT NULL
 * means config_load(NAME) rather than config_parse().
 */
static const struct {
	const char *name;
	const char *text;
	const char *err;
} bad[] = {
	/* the file */
	{ "/nonexistent/t.conf", NULL,
	    "/nonexistent/t.conf: cannot open: No such file or directory" },
	{ "/", NULL, "/: cannot read: Is a directory" },
	{ A1024, L1, A1024 ": file name is longer than 1023 bytes" },
	{ NULL, "\n\n# nothing\n", "t.conf: no 'listen' directive" },
	{ NULL, "", "t.conf: no 'listen' directive" },

	/* lines */
	{ NULL, L1 "lisen imap\n", "t.conf:2: unknown directive 'lisen'" },
	{ NULL, L1 "Server-Name x\n",
	    "t.conf:2: unknown directive 'Server-Name'" },
	{ NULL, L1 "\"\"\n", "t.conf:2: unknown directive ''" },
	{ NULL, L1 "server-name \"mail\n",
	    "t.conf:2: unterminated quoted string" },
	{ NULL, L1 "server-name \"a\\\"\n",
	    "t.conf:2: unterminated quoted string" },
	{ NULL, L1 "server-name x\fy\n",
	    "t.conf:2: line contains control character 0x0c" },
	{ NULL, L1 "server-name \"x\x7f\"\n",
	    "t.conf:2: line contains control character 0x7f" },
	{ NULL, L1 "server-name x\r\r\n",
	    "t.conf:2: line contains control character 0x0d" },
	{ NULL, L1 "#" A4096 "\n", "t.conf:2: line is longer than 4096 bytes" },
	{ NULL, L1 "#" A4096 "\r\n",
	    "t.conf:2: line is longer than 4096 bytes" },

	/* argument counts: the expected form */
	{ NULL, L1 "server-name\n",
	    "t.conf:2: server-name: expected 'server-name NAME'" },
	{ NULL, L1 "server-name a b\n",
	    "t.conf:2: server-name: expected 'server-name NAME'" },
	{ NULL, L1 "max-line-length\n",
	    "t.conf:2: max-line-length: expected 'max-line-length BYTES'" },
	{ NULL, L1 "syslog-max-size 1 2\n",
	    "t.conf:2: syslog-max-size: expected 'syslog-max-size BYTES'" },
	{ NULL, L1 "syslog-facility\n",
	    "t.conf:2: syslog-facility: expected 'syslog-facility NAME'" },
	{ NULL, L1 "syslog-sd-id\n",
	    "t.conf:2: syslog-sd-id: expected 'syslog-sd-id NAME@NUMBER'" },
	{ NULL, L1 "idle-timeout 1 # 2\n"
	  "idle-timeout\n",
	    "t.conf:3: idle-timeout: expected 'idle-timeout SECONDS'" },
	{ NULL, L1 "connect-timeout 1 2\n",
	    "t.conf:2: connect-timeout: expected 'connect-timeout SECONDS'" },
	{ NULL, L1 "shutdown-grace\n",
	    "t.conf:2: shutdown-grace: expected 'shutdown-grace SECONDS'" },
	{ NULL, L1 "max-sessions\n",
	    "t.conf:2: max-sessions: expected 'max-sessions N'" },
	{ NULL, L1 "output-queue\n",
	    "t.conf:2: output-queue: expected 'output-queue BYTES'" },
	{ NULL, "listen imap\n",
	    "t.conf:1: listen: expected 'listen imap|imaps|pop3|pop3s "
	    "HOST:PORT backend HOST:PORT [backend-tls|backend-starttls "
	    "[backend-name NAME]]'" },
	{ NULL, L1 "listen imap 127.0.0.1:1 backend 127.0.0.1:2 "
	  "backend-tls x\n",
	    "t.conf:2: listen: expected 'listen imap|imaps|pop3|pop3s "
	    "HOST:PORT backend HOST:PORT [backend-tls|backend-starttls "
	    "[backend-name NAME]]'" },
	{ NULL, L1 "output\n",
	    "t.conf:2: output: expected 'output syslog TARGET' or "
	    "'output snmp trap|inform ...'" },
	{ NULL, L1 "output syslog\n",
	    "t.conf:2: output syslog: expected 'output syslog "
	    "udp://HOST:PORT|tcp://HOST:PORT|tls://HOST:PORT [ca PATH]|"
	    "unix:/PATH|stderr'" },
	{ NULL, L1 "output syslog stderr now\n",
	    "t.conf:2: output syslog: expected 'output syslog "
	    "udp://HOST:PORT|tcp://HOST:PORT|tls://HOST:PORT [ca PATH]|"
	    "unix:/PATH|stderr'" },
	{ NULL, L1 "output syslog tls://127.0.0.1:6514 ca\n",
	    "t.conf:2: output syslog: expected 'output syslog "
	    "udp://HOST:PORT|tcp://HOST:PORT|tls://HOST:PORT [ca PATH]|"
	    "unix:/PATH|stderr'" },
	{ NULL, L1 "output syslog tls://127.0.0.1:6514 key /k.pem\n",
	    "t.conf:2: output syslog: expected 'output syslog "
	    "udp://HOST:PORT|tcp://HOST:PORT|tls://HOST:PORT [ca PATH]|"
	    "unix:/PATH|stderr'" },
	{ NULL, L1 "tls-cert\n",
	    "t.conf:2: tls-cert: expected 'tls-cert PATH'" },
	{ NULL, L1 "tls-key a b\n",
	    "t.conf:2: tls-key: expected 'tls-key PATH'" },
	{ NULL, L1 "backend-ca\n",
	    "t.conf:2: backend-ca: expected 'backend-ca PATH'" },
	{ NULL, L1 "backend-verify\n",
	    "t.conf:2: backend-verify: expected 'backend-verify on|off'" },
	{ NULL, L1 "pop3-uidl-pattern a hex b\n",
	    "t.conf:2: pop3-uidl-pattern: expected 'pop3-uidl-pattern "
	    "REGEX [hex|decimal]'" },
	/* more arguments than the parser keeps still count */
	{ NULL, L1 "server-name a b c d e f g h i j k l m n o p q r s t\n",
	    "t.conf:2: server-name: expected 'server-name NAME'" },

	/* given twice */
	{ NULL, "server-name a\n" L1 "server-name a\n",
	    "t.conf:3: server-name: already given on line 1" },
	{ NULL, L1 "max-sessions 5\n\nmax-sessions 5\n",
	    "t.conf:4: max-sessions: already given on line 2" },
	{ NULL, L1 "syslog-sd-id a@1\nsyslog-sd-id a@1\n",
	    "t.conf:3: syslog-sd-id: already given on line 2" },

	/* numbers */
	{ NULL, L1 "idle-timeout -5\n",
	    "t.conf:2: idle-timeout: '-5' is not a decimal number in "
	    "1..86400" },
	{ NULL, L1 "idle-timeout +5\n",
	    "t.conf:2: idle-timeout: '+5' is not a decimal number in "
	    "1..86400" },
	{ NULL, L1 "max-sessions 0x10\n",
	    "t.conf:2: max-sessions: '0x10' is not a decimal number in "
	    "1..1000000" },
	{ NULL, L1 "output-queue \"\"\n",
	    "t.conf:2: output-queue: '' is not a decimal number in "
	    "65536..1073741824" },
	{ NULL, L1 "output-queue 1e6\n",
	    "t.conf:2: output-queue: '1e6' is not a decimal number in "
	    "65536..1073741824" },
	{ NULL, L1 "syslog-max-size 9000\n",
	    "t.conf:2: syslog-max-size: 9000 is out of range 480..8192" },
	{ NULL, L1 "syslog-max-size 479\n",
	    "t.conf:2: syslog-max-size: 479 is out of range 480..8192" },
	{ NULL, L1 "max-line-length 1023\n",
	    "t.conf:2: max-line-length: 1023 is out of range 1024..16777216" },
	{ NULL, L1 "max-line-length 16777217\n",
	    "t.conf:2: max-line-length: 16777217 is out of range "
	    "1024..16777216" },
	{ NULL, L1 "idle-timeout 0\n",
	    "t.conf:2: idle-timeout: 0 is out of range 1..86400" },
	{ NULL, L1 "idle-timeout 86401\n",
	    "t.conf:2: idle-timeout: 86401 is out of range 1..86400" },
	{ NULL, L1 "connect-timeout 301\n",
	    "t.conf:2: connect-timeout: 301 is out of range 1..300" },
	{ NULL, L1 "connect-timeout 0\n",
	    "t.conf:2: connect-timeout: 0 is out of range 1..300" },
	{ NULL, L1 "shutdown-grace 3601\n",
	    "t.conf:2: shutdown-grace: 3601 is out of range 0..3600" },
	{ NULL, L1 "max-sessions 1000001\n",
	    "t.conf:2: max-sessions: 1000001 is out of range 1..1000000" },
	{ NULL, L1 "output-queue 65535\n",
	    "t.conf:2: output-queue: 65535 is out of range "
	    "65536..1073741824" },
	{ NULL, L1 "output-queue 1073741825\n",
	    "t.conf:2: output-queue: 1073741825 is out of range "
	    "65536..1073741824" },
	/* 2^64 and far beyond: overflow is out of range, not wrapped */
	{ NULL, L1 "idle-timeout 18446744073709551616\n",
	    "t.conf:2: idle-timeout: 18446744073709551616 is out of range "
	    "1..86400" },
	{ NULL, L1 "idle-timeout 18446744073709551617000\n",
	    "t.conf:2: idle-timeout: 18446744073709551617000 is out of "
	    "range 1..86400" },
	{ NULL, L1 "shutdown-grace 4294967306\n",
	    "t.conf:2: shutdown-grace: 4294967306 is out of range "
	    "0..3600" },

	/* server-name */
	{ NULL, L1 "server-name \"mail example\"\n",
	    "t.conf:2: server-name: 'mail example' is not a host name "
	    "(1..255 letters, digits, '-', '.', '_')" },
	{ NULL, L1 "server-name \"\"\n",
	    "t.conf:2: server-name: '' is not a host name "
	    "(1..255 letters, digits, '-', '.', '_')" },
	{ NULL, L1 "server-name mail/x\n",
	    "t.conf:2: server-name: 'mail/x' is not a host name "
	    "(1..255 letters, digits, '-', '.', '_')" },
	{ NULL, L1 "server-name b\xc3\xa9.example\n",
	    "t.conf:2: server-name: 'b\xc3\xa9.example' is not a host name "
	    "(1..255 letters, digits, '-', '.', '_')" },
	{ NULL, L1 "server-name " A256 "\n",
	    "t.conf:2: server-name: '" A256 "' is not a host name "
	    "(1..255 letters, digits, '-', '.', '_')" },

	/* flag-events */
	{ NULL, L1 "flag-events\n",
	    "t.conf:2: flag-events: expected 'flag-events simple|flags'" },
	{ NULL, L1 "flag-events simple flags\n",
	    "t.conf:2: flag-events: expected 'flag-events simple|flags'" },
	{ NULL, L1 "flag-events Flags\n",
	    "t.conf:2: flag-events: expected 'simple' or 'flags', not "
	    "'Flags'" },
	{ NULL, L1 "flag-events \"\"\n",
	    "t.conf:2: flag-events: expected 'simple' or 'flags', not ''" },
	{ NULL, L1 "flag-events simple\nflag-events flags\n",
	    "t.conf:3: flag-events: already given on line 2" },

	/* syslog-facility */
	{ NULL, L1 "syslog-facility kern\n",
	    "t.conf:2: syslog-facility: unknown facility 'kern' (expected "
	    "mail, user, daemon, auth, authpriv or local0..local7)" },
	{ NULL, L1 "syslog-facility LOCAL0\n",
	    "t.conf:2: syslog-facility: unknown facility 'LOCAL0' (expected "
	    "mail, user, daemon, auth, authpriv or local0..local7)" },
	{ NULL, L1 "syslog-facility local8\n",
	    "t.conf:2: syslog-facility: unknown facility 'local8' (expected "
	    "mail, user, daemon, auth, authpriv or local0..local7)" },

	/* syslog-sd-id */
#define SDERR(s) "t.conf:2: syslog-sd-id: '" s "' is not NAME@NUMBER " \
	"(1..32 printable US-ASCII characters but '=', ']', '\"'; one '@' " \
	"followed by digits)"
	{ NULL, L1 "syslog-sd-id msgevent\n", SDERR("msgevent") },
	{ NULL, L1 "syslog-sd-id msgevent@\n", SDERR("msgevent@") },
	{ NULL, L1 "syslog-sd-id @32473\n", SDERR("@32473") },
	{ NULL, L1 "syslog-sd-id ev@32473x\n", SDERR("ev@32473x") },
	{ NULL, L1 "syslog-sd-id a@1@2\n", SDERR("a@1@2") },
	{ NULL, L1 "syslog-sd-id a=b@1\n", SDERR("a=b@1") },
	{ NULL, L1 "syslog-sd-id a]b@1\n", SDERR("a]b@1") },
	{ NULL, L1 "syslog-sd-id \"a\\\"b@1\"\n", SDERR("a\"b@1") },
	{ NULL, L1 "syslog-sd-id \"a b@1\"\n", SDERR("a b@1") },
	{ NULL, L1 "syslog-sd-id \"\"\n", SDERR("") },
	{ NULL, L1 "syslog-sd-id \xc3\xa9@1\n", SDERR("\xc3\xa9@1") },
	{ NULL, L1 "syslog-sd-id " A16 "aaaaaaaaaaaa@1234\n",
	    SDERR(A16 "aaaaaaaaaaaa@1234") },

	/* listen */
	{ NULL, L1 "listen imap4 127.0.0.1:1 backend 127.0.0.1:2\n",
	    "t.conf:2: listen: unknown service 'imap4' (expected imap, "
	    "imaps, pop3 or pop3s)" },
#define ADDRERR(w, s) "t.conf:2: " w ": '" s "' is not HOST:PORT (HOST: " \
	"an IPv4 address, [IPv6 address] or localhost)"
	{ NULL, L1 "listen imap 1143 backend 127.0.0.1:2\n",
	    ADDRERR("listen", "1143") },
	{ NULL, L1 "listen imap ::1:1143 backend 127.0.0.1:2\n",
	    ADDRERR("listen", "::1:1143") },
	{ NULL, L1 "listen imap [::1]1143 backend 127.0.0.1:2\n",
	    ADDRERR("listen", "[::1]1143") },
	{ NULL, L1 "listen imap [::1 backend 127.0.0.1:2\n",
	    ADDRERR("listen", "[::1") },
	{ NULL, L1 "listen imap []:1 backend 127.0.0.1:2\n",
	    ADDRERR("listen", "[]:1") },
	{ NULL, L1 "listen imap [127.0.0.1]:1 backend 127.0.0.1:2\n",
	    ADDRERR("listen", "[127.0.0.1]:1") },
	{ NULL, L1 "listen imap mail.example.net:1 backend 127.0.0.1:2\n",
	    ADDRERR("listen", "mail.example.net:1") },
	{ NULL, L1 "listen imap *:1143 backend 127.0.0.1:2\n",
	    ADDRERR("listen", "*:1143") },
	{ NULL, L1 "listen imap 127.1:1143 backend 127.0.0.1:2\n",
	    ADDRERR("listen", "127.1:1143") },
	{ NULL, L1 "listen imap 256.0.0.1:1 backend 127.0.0.1:2\n",
	    ADDRERR("listen", "256.0.0.1:1") },
	{ NULL, L1 "listen imap :1143 backend 127.0.0.1:2\n",
	    ADDRERR("listen", ":1143") },
	{ NULL, L1 "listen imap 127.0.0.1: backend 127.0.0.1:2\n",
	    ADDRERR("listen", "127.0.0.1:") },
	{ NULL, L1 "listen imap 127.0.0.1:imap backend 127.0.0.1:2\n",
	    ADDRERR("listen", "127.0.0.1:imap") },
	{ NULL, L1 "listen imap 127.0.0.1:-1 backend 127.0.0.1:2\n",
	    ADDRERR("listen", "127.0.0.1:-1") },
	{ NULL, L1 "listen imap 127.0.0.1:1 backend 127.0.0.1\n",
	    ADDRERR("listen", "127.0.0.1") },
	{ NULL, L1 "listen imap 127.0.0.1:1 backend " A256 ":1\n",
	    ADDRERR("listen", A256 ":1") },
	{ NULL, L1 "listen imap 127.0.0.1:0 backend 127.0.0.1:2\n",
	    "t.conf:2: listen: port in '127.0.0.1:0' is out of range "
	    "1..65535" },
	{ NULL, L1 "listen imap [::1]:65536 backend 127.0.0.1:2\n",
	    "t.conf:2: listen: port in '[::1]:65536' is out of range "
	    "1..65535" },
	{ NULL, L1 "listen imap 127.0.0.1:1 backend "
	  "localhost:99999999999999999999\n",
	    "t.conf:2: listen: port in 'localhost:99999999999999999999' is "
	    "out of range 1..65535" },
	{ NULL, L1 "listen imap 127.0.0.1:1 to 127.0.0.1:2\n",
	    "t.conf:2: listen: expected 'backend HOST:PORT' after "
	    "127.0.0.1:1" },
	{ NULL, L1 "listen imap 127.0.0.1:1\n",
	    "t.conf:2: listen: expected 'backend HOST:PORT' after "
	    "127.0.0.1:1" },
	{ NULL, L1 "listen imap 127.0.0.1:1 backend\n",
	    "t.conf:2: listen: expected 'backend HOST:PORT' after "
	    "127.0.0.1:1" },
	{ NULL, L1 "listen imap 127.0.0.1:1 backend 127.0.0.1:2 starttls\n",
	    "t.conf:2: listen: unknown option 'starttls' (expected "
	    "backend-tls or backend-starttls)" },
	{ NULL, L1 "listen imap 127.0.0.1:1143 backend 127.0.0.1:144\n",
	    "t.conf:2: listen: 127.0.0.1:1143 is already used on line 1" },
	{ NULL, L1 "\nlisten imap localhost:1143 backend 127.0.0.1:144\n",
	    "t.conf:3: listen: localhost:1143 is already used on line 1" },
	{ NULL, "listen imap [::]:1 backend [::1]:2\n"
	  "listen imap [0::0]:1 backend [::1]:2\n",
	    "t.conf:2: listen: [0::0]:1 is already used on line 1" },

	/* TLS */
	{ NULL, L1 "tls-protocols TLSv1.4\n",
	    "t.conf:2: tls-protocols: unknown protocol 'TLSv1.4' (expected "
	    "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)" },
	{ NULL, L1 "tls-protocols tlsv1.2\n",
	    "t.conf:2: tls-protocols: unknown protocol 'tlsv1.2' (expected "
	    "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)" },
	{ NULL, L1 "backend-tls-protocols TLSv1.3 TLSv1.1\n",
	    "t.conf:2: backend-tls-protocols: TLSv1.2 is missing between "
	    "TLSv1.1 and TLSv1.3 (the versions must form a range)" },
	{ NULL, L1 "tls-protocols\n",
	    "t.conf:2: tls-protocols: expected 'tls-protocols VERSION...'" },
	{ NULL, L1 "tls-protocols TLSv1.2\ntls-protocols TLSv1.3\n",
	    "t.conf:3: tls-protocols: already given on line 2" },
	{ NULL, L1 "tls-ciphers \"\"\n",
	    "t.conf:2: tls-ciphers: list must be 1..1023 bytes long" },
	{ NULL, L1 "tls-curves " A1024 "\n",
	    "t.conf:2: tls-curves: list must be 1..1023 bytes long" },
	{ NULL, L1 "tls-ciphersuites a b\n",
	    "t.conf:2: tls-ciphersuites: expected 'tls-ciphersuites LIST'" },
	{ NULL, L1 "tls-key /etc/ssl/key.pem\n",
	    "t.conf:2: tls-key: no tls-cert to go with it" },
	{ NULL, L1 "listen imaps 127.0.0.1:1993 backend 127.0.0.1:993 "
	  "backend-tls\n",
	    "t.conf:2: listen: imaps needs a certificate: add tls-cert (and "
	    "tls-key)" },
	{ NULL, L1 "listen pop3s 127.0.0.1:1995 backend 127.0.0.1:995\n",
	    "t.conf:2: listen: pop3s needs a certificate: add tls-cert (and "
	    "tls-key)" },
	{ NULL, L1 "listen imap 127.0.0.1:1 backend 127.0.0.1:2 backend-tls "
	  "backend-name\n",
	    "t.conf:2: listen: expected 'listen imap|imaps|pop3|pop3s "
	    "HOST:PORT backend HOST:PORT [backend-tls|backend-starttls "
	    "[backend-name NAME]]'" },
	{ NULL, L1 "listen imap 127.0.0.1:1 backend 127.0.0.1:2 backend-tls "
	  "server-name x\n",
	    "t.conf:2: listen: expected 'listen imap|imaps|pop3|pop3s "
	    "HOST:PORT backend HOST:PORT [backend-tls|backend-starttls "
	    "[backend-name NAME]]'" },
	{ NULL, L1 "listen imap 127.0.0.1:1 backend 127.0.0.1:2 "
	  "backend-starttls backend-name a/b\n",
	    "t.conf:2: listen: backend-name 'a/b' is not a host name or an "
	    "IP address" },
	{ NULL, L1 "listen imap 127.0.0.1:1 backend 127.0.0.1:2 backend-name "
	  "x\n",
	    "t.conf:2: listen: unknown option 'backend-name' (expected "
	    "backend-tls or backend-starttls)" },

	/* POP3: the pattern is compiled, its groups checked */
	{ NULL, L1 "pop3-uidl-pattern \"^(?<uid>\\d+)\"\n",
	    "t.conf:2: pop3-uidl-pattern: no named group 'uidvalidity' "
	    "(write (?<uidvalidity>...))" },
	{ NULL, L1 "pop3-uidl-pattern \"(?<uidvalidity>\\d+)\\.(\\d+)\" "
	  "decimal\n",
	    "t.conf:2: pop3-uidl-pattern: no named group 'uid' "
	    "(write (?<uid>...))" },
	{ NULL, L1 "pop3-uidl-pattern \"^(?<uid>[0-9a-f]{8}(?<uidvalidity>"
	  "[0-9a-f]{8}$\" hex\n",
	    "t.conf:2: pop3-uidl-pattern: not a valid PCRE2 pattern: missing "
	    "closing parenthesis at offset 46" },
	{ NULL, L1 "pop3-uidl-pattern \"(?<uid>\\d+)(?<uid>x)"
	  "(?<uidvalidity>\\d)\"\n",
	    "t.conf:2: pop3-uidl-pattern: not a valid PCRE2 pattern: two named "
	    "subpatterns have the same name (PCRE2_DUPNAMES not set) at "
	    "offset 18" },
	{ NULL, L1 "pop3-uidl-pattern \"(?J)(?<uid>\\d+)-(?<uidvalidity>\\d+)"
	  "|(?<uid>x)\"\n",
	    "t.conf:2: pop3-uidl-pattern: the named group 'uid' appears more "
	    "than once" },
	{ NULL, L1 "pop3-uidl-pattern \"\"\n",
	    "t.conf:2: pop3-uidl-pattern: the pattern is empty" },
	{ NULL, L1 "pop3-uidl-pattern \"(?<uid>1)(?<uidvalidity>2)\"\n"
	  "pop3-uidl-pattern \"(?<uid>1)(?<uidvalidity>2)\"\n",
	    "t.conf:3: pop3-uidl-pattern: already given on line 2" },

	/* their own syntax is still checked first */
	{ NULL, L1 "tls-cert \"\"\n",
	    "t.conf:2: tls-cert: path must be 1..1023 bytes long" },
	{ NULL, L1 "backend-ca /" A1024 "\n",
	    "t.conf:2: backend-ca: path must be 1..1023 bytes long" },
	{ NULL, L1 "output syslog tls://127.0.0.1:6514 ca \"\"\n",
	    "t.conf:2: output syslog: path must be 1..1023 bytes long" },
	{ NULL, L1 "backend-verify yes\n",
	    "t.conf:2: backend-verify: expected 'on' or 'off', not 'yes'" },
	{ NULL, L1 "pop3-uidl-pattern x hexadecimal\n",
	    "t.conf:2: pop3-uidl-pattern: expected 'hex' or 'decimal', "
	    "not 'hexadecimal'" },
	{ NULL, L1 "listen pop3s 127.0.0.1:0 backend 127.0.0.1:995\n",
	    "t.conf:2: listen: port in '127.0.0.1:0' is out of range "
	    "1..65535" },
	{ NULL, L1 "listen imaps 127.0.0.1:1143 backend 127.0.0.1:993\n",
	    "t.conf:2: listen: 127.0.0.1:1143 is already used on line 1" },

	/* output */
	{ NULL, L1 "output file /var/log/x\n",
	    "t.conf:2: output: unknown output 'file' (expected syslog or "
	    "snmp)" },
	{ NULL, L1 "output syslog udp:127.0.0.1:514\n",
	    "t.conf:2: output syslog: unknown target 'udp:127.0.0.1:514' "
	    "(expected udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, "
	    "unix:/PATH or stderr)" },
	{ NULL, L1 "output syslog /dev/log\n",
	    "t.conf:2: output syslog: unknown target '/dev/log' "
	    "(expected udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, "
	    "unix:/PATH or stderr)" },
	{ NULL, L1 "output syslog udp://localhost\n",
	    ADDRERR("output syslog", "localhost") },
	{ NULL, L1 "output syslog tcp://[::1]:0\n",
	    "t.conf:2: output syslog: port in '[::1]:0' is out of range "
	    "1..65535" },
	{ NULL, L1 "output syslog tls://collector:6514\n",
	    ADDRERR("output syslog", "collector:6514") },
	{ NULL, L1 "output syslog unix:dev/log\n",
	    "t.conf:2: output syslog: 'unix:dev/log' is not unix:/PATH "
	    "(an absolute path of at most 107 bytes)" },
	{ NULL, L1 "output syslog unix:\n",
	    "t.conf:2: output syslog: 'unix:' is not unix:/PATH "
	    "(an absolute path of at most 107 bytes)" },
	{ NULL, L1 "output syslog unix:/" A64 A16 A16 "aaaaaaaaaaa\n",
	    "t.conf:2: output syslog: 'unix:/" A64 A16 A16 "aaaaaaaaaaa' "
	    "is not unix:/PATH (an absolute path of at most 107 bytes)" },

	/* output snmp */
#define SNMPUSAGE "t.conf:2: output snmp: expected 'output snmp " \
	"trap|inform udp:HOST:PORT version 2c community NAME|version 3 " \
	"user NAME [auth PROTO PASS [priv PROTO PASS]]'"
	{ NULL, L1 "output snmp\n", SNMPUSAGE },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162\n", SNMPUSAGE },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 v 2c community c\n",
	    SNMPUSAGE },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 2c community\n",
	    SNMPUSAGE },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 2c user u\n",
	    SNMPUSAGE },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 3 community c\n",
	    SNMPUSAGE },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 3 user u "
	  "auth SHA\n",
	    SNMPUSAGE },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 3 user u "
	  "authpriv SHA p\n", SNMPUSAGE },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 3 user u "
	  "auth SHA p privacy AES p\n", SNMPUSAGE },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 3 user u "
	  "auth SHA p priv AES p extra\n", SNMPUSAGE },
	{ NULL, L1 "output snmp notify udp:127.0.0.1:162 version 2c "
	  "community c\n",
	    "t.conf:2: output snmp: expected 'trap' or 'inform', not "
	    "'notify'" },
	{ NULL, L1 "output snmp trap 127.0.0.1:162 version 2c community c\n",
	    "t.conf:2: output snmp: '127.0.0.1:162' is not udp:HOST:PORT "
	    "(HOST: an IPv4 address, [IPv6 address] or localhost)" },
	{ NULL, L1 "output snmp trap udp:127.0.0.1 version 2c community c\n",
	    ADDRERR("output snmp", "127.0.0.1") },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 1 community c\n",
	    "t.conf:2: output snmp: unknown version '1' (expected 2c or 3)" },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 3 user u "
	  "auth SHA1 p\n",
	    "t.conf:2: output snmp: unknown auth protocol 'SHA1' (expected "
	    "MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512)" },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 3 user u "
	  "auth MD5 p priv 3DES p\n",
	    "t.conf:2: output snmp: unknown priv protocol '3DES' (expected "
	    "DES, AES, AES-192 or AES-256)" },
	/* secrets: their length is checked, their text never quoted */
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 2c "
	  "community \"\"\n",
	    "t.conf:2: output snmp: the community must be 1..255 characters "
	    "long" },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 2c "
	  "community " A256 "\n",
	    "t.conf:2: output snmp: the community must be 1..255 characters "
	    "long" },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 3 user u "
	  "auth SHA Sh0rt-p\n",
	    "t.conf:2: output snmp: the auth pass phrase must be 8..255 "
	    "characters long" },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 3 user u "
	  "auth SHA L0ng-enough priv AES Sh0rt-p\n",
	    "t.conf:2: output snmp: the priv pass phrase must be 8..255 "
	    "characters long" },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 3 user "
	  A16 A16 "a auth SHA L0ng-enough\n",
	    "t.conf:2: output snmp: user name longer than 32 characters" },
	{ NULL, L1 "output snmp trap udp:127.0.0.1:162 version 3 user u "
	  "auth SHA L0ng-enough priv AES L0ng-enough\n"
	  "output snmp inform udp:127.0.0.1:163 version 3 user u "
	  "auth SHA 0ther-one\n"
	  "output snmp trap udp:127.0.0.1:164 version 3 user u "
	  "auth SHA L0ng-enough priv AES 0ther-one\n",
	    "t.conf:4: output snmp: user 'u' has other protocols or pass "
	    "phrases on line 2 (SNMPv3 traps have one set of keys per user)" },
	/* the SNMP directives */
	{ NULL, L1 "snmp-max-size 1023\n",
	    "t.conf:2: snmp-max-size: 1023 is out of range 1024..65507" },
	{ NULL, L1 "snmp-max-size 65508\n",
	    "t.conf:2: snmp-max-size: 65508 is out of range 1024..65507" },
	{ NULL, L1 "snmp-inform-retries 11\n",
	    "t.conf:2: snmp-inform-retries: 11 is out of range 0..10" },
	{ NULL, L1 "snmp-inform-timeout 9\n",
	    "t.conf:2: snmp-inform-timeout: 9 is out of range 10..60000" },
	{ NULL, L1 "snmp-inform-timeout\n",
	    "t.conf:2: snmp-inform-timeout: expected 'snmp-inform-timeout "
	    "MILLISECONDS'" },
	{ NULL, L1 "snmp-engine-id 80007ed90102\n",
	    "t.conf:2: snmp-engine-id: '80007ed90102' is not 0x followed by "
	    "5..32 octets in hex" },
	{ NULL, L1 "snmp-engine-id 0x80007ed9\n",
	    "t.conf:2: snmp-engine-id: '0x80007ed9' is not 0x followed by "
	    "5..32 octets in hex" },
	{ NULL, L1 "snmp-engine-id 0x80007ed90102g3\n",
	    "t.conf:2: snmp-engine-id: '0x80007ed90102g3' is not 0x followed "
	    "by 5..32 octets in hex" },
	{ NULL, L1 "snmp-engine-id 0x" A16 A16 A16 A16 "aa\n",
	    "t.conf:2: snmp-engine-id: '0x" A16 A16 A16 A16 "aa' is not 0x "
	    "followed by 5..32 octets in hex" },
	{ NULL, L1 "snmp-engine-id 0x8000000001\nsnmp-engine-id 0x8000000001\n",
	    "t.conf:3: snmp-engine-id: already given on line 2" },
	{ NULL, L1 "state-dir \"\"\n",
	    "t.conf:2: state-dir: path must be 1..1023 bytes long" },
	{ NULL, L1 "state-dir /a b\n",
	    "t.conf:2: state-dir: expected 'state-dir PATH'" },
};

static void
test_errors(void **state)
{
	char err[CONFIG_ERROR_MAX];
	struct config *conf;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(err, 'x', sizeof(err));
		if (bad[i].text == NULL)
			conf = config_load(bad[i].name, err);
		else
			conf = config_parse(bad[i].name != NULL ?
			    bad[i].name : "t.conf", bad[i].text, err);
		if (conf != NULL) {
			config_free(&conf);
			fail_msg("bad[%zu] was accepted: %s", i, bad[i].text);
		}
		if (strcmp(err, bad[i].err) != 0)
			fail_msg("bad[%zu]:\n got  %s\n want %s", i, err,
			    bad[i].err);
	}
}

/* A message longer than CONFIG_ERROR_MAX is cut, and still terminated. */
static void
test_error_truncated(void **state)
{
	char err[CONFIG_ERROR_MAX + 16];
	const char *want = "t.conf:2: unknown directive '" A1024;
	struct config *conf;

	(void)state;
	memset(err, 'x', sizeof(err));
	conf = config_parse("t.conf", L1 A4096 "\n", err);
	assert_null(conf);
	assert_int_equal(strlen(err), CONFIG_ERROR_MAX - 1);
	assert_memory_equal(err, want, strlen(want));
	assert_int_equal(err[CONFIG_ERROR_MAX], 'x');
}

static void
test_file_name_max(void **state)
{
	char err[CONFIG_ERROR_MAX];
	struct config *conf;

	(void)state;
	conf = config_parse(A256 A256 A256 A64 A64 A64 A16 A16 A16
	    "aaaaaaaaaaaaaaa", L1, err);
	assert_non_null(conf);
	config_free(&conf);
}

static void
write_str(const char *path, const char *s)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(s, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void
test_load(void **state)
{
	char dir[] = "/tmp/test_config.XXXXXX", path[64];
	char err[CONFIG_ERROR_MAX], want[CONFIG_ERROR_MAX + 64];
	static const char nul[] = L1 "server-name a\0b\n";
	static const char nul_comment[] = L1 "# a\0b\n";
	struct config *conf, *conf2;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.conf", dir);

	write_str(path, full_text);
	conf = config_load(path, err);
	if (conf == NULL)
		fail_msg("%s", err);
	assert_string_equal(conf->file, path);
	conf2 = parse_ok(full_text);
	assert_string_equal(conf->server_name, conf2->server_name);
	assert_int_equal(conf->listens->next->next->line, 15);
	assert_int_equal(conf->outputs->next->next->next->kind,
	    CONFIG_OUTPUT_SYSLOG_STDERR);
	assert_memory_equal(&conf->listens->listen,
	    &conf2->listens->listen, sizeof(struct config_addr));
	config_free(&conf);
	config_free(&conf2);

	/* CRLF, no final line end */
	write_str(path, "\r\nlisten imap 127.0.0.1:1 backend 127.0.0.1:2\r\n"
	    "output syslog stderr");
	conf = config_load(path, err);
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->listens->line, 2);
	assert_int_equal(conf->outputs->line, 3);
	config_free(&conf);

	/* a NUL byte is a control character (the file is not a C string) */
	write_file(path, nul, sizeof(nul) - 1);
	assert_null(config_load(path, err));
	snprintf(want, sizeof(want), "%s:2: line contains control character "
	    "0x00", path);
	assert_string_equal(err, want);
	write_file(path, nul_comment, sizeof(nul_comment) - 1);
	conf = config_load(path, err);
	assert_non_null(conf);
	config_free(&conf);

	/* a long line is read whole, then refused */
	write_str(path, L1 "#" A4096 A4096 "\n");
	assert_null(config_load(path, err));
	snprintf(want, sizeof(want), "%s:2: line is longer than 4096 bytes",
	    path);
	assert_string_equal(err, want);

	write_str(path, "# nothing\n");
	assert_null(config_load(path, err));
	snprintf(want, sizeof(want), "%s: no 'listen' directive", path);
	assert_string_equal(err, want);

	assert_int_equal(unlink(path), 0);
	assert_null(config_load(path, err));
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory", path);
	assert_string_equal(err, want);

	/* fopen() of a directory works; reading it does not */
	assert_null(config_load(dir, err));
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory", dir);
	assert_string_equal(err, want);

	assert_int_equal(rmdir(dir), 0);
}

/* output snmp and its directives. */
static void
test_snmp(void **state)
{
	struct config *conf;
	struct config_output *o;
	char want[CONFIG_PATH_MAX];

	(void)state;
	conf = parse_ok(L1
	    "output snmp trap udp:127.0.0.1:1162 version 2c community public\n"
	    "output snmp inform udp:[::1]:1163 version 2c community \"a b\"\n"
	    "output snmp trap udp:localhost:1164 version 3 user NAME "
	    "auth SHA Auth-pass priv AES Priv-pass\n"
	    "output snmp inform udp:127.0.0.1:1165 version 3 user NAME "
	    "auth SHA-256 0ther-pass priv AES-256 0ther-pass\n"
	    "output snmp trap udp:127.0.0.1:1166 version 3 user u2\n"
	    "output snmp trap udp:127.0.0.1:1167 version 3 user u3 "
	    "auth MD5 Auth-pass\n"
	    /* the same user and keys for traps elsewhere: fine */
	    "output snmp trap udp:127.0.0.1:1168 version 3 user NAME "
	    "auth SHA Auth-pass priv AES Priv-pass\n");
	o = conf->outputs;
	assert_int_equal(o->kind, CONFIG_OUTPUT_SNMP);
	assert_false(o->snmp.inform);
	assert_int_equal(o->snmp.version, 2);
	assert_string_equal(o->snmp.community, "public");
	assert_sa4(&o->addr, "127.0.0.1", 1162);
	o = o->next;
	assert_true(o->snmp.inform);
	assert_string_equal(o->snmp.community, "a b");
	assert_sa6(&o->addr, "::1", 1163);
	o = o->next;
	assert_false(o->snmp.inform);
	assert_int_equal(o->snmp.version, 3);
	assert_string_equal(o->snmp.user, "NAME");
	assert_string_equal(o->snmp.auth_proto, "SHA");
	assert_string_equal(o->snmp.auth_pass, "Auth-pass");
	assert_string_equal(o->snmp.priv_proto, "AES");
	assert_string_equal(o->snmp.priv_pass, "Priv-pass");
	assert_string_equal(o->snmp.community, "");
	o = o->next;
	assert_true(o->snmp.inform);
	assert_string_equal(o->snmp.auth_proto, "SHA-256");
	assert_string_equal(o->snmp.priv_proto, "AES-256");
	o = o->next;
	assert_string_equal(o->snmp.user, "u2");
	assert_string_equal(o->snmp.auth_proto, "");
	assert_string_equal(o->snmp.priv_proto, "");
	o = o->next;
	assert_string_equal(o->snmp.auth_proto, "MD5");
	assert_string_equal(o->snmp.priv_proto, "");
	assert_non_null(o->next);
	assert_null(o->next->next);
	/* defaults */
	assert_int_equal(conf->snmp_max_size, 1472);
	assert_int_equal(conf->snmp_inform_retries, 3);
	assert_int_equal(conf->snmp_inform_timeout, 1000);
	assert_int_equal(conf->snmp_engine_id_len, 0);
	config_free(&conf);

	conf = parse_ok(L1
	    "snmp-max-size 65507\n"
	    "snmp-inform-retries 0\n"
	    "snmp-inform-timeout 60000\n"
	    "snmp-engine-id 0x80007ED905A1b2c3d4\n"
	    "state-dir /srv/msgeventd/state\n");
	assert_int_equal(conf->snmp_max_size, 65507);
	assert_int_equal(conf->snmp_inform_retries, 0);
	assert_int_equal(conf->snmp_inform_timeout, 60000);
	assert_int_equal(conf->snmp_engine_id_len, 9);
	assert_memory_equal(conf->snmp_engine_id,
	    "\x80\x00\x7e\xd9\x05\xa1\xb2\xc3\xd4", 9);
	assert_string_equal(conf->state_dir, "/srv/msgeventd/state");
	config_free(&conf);

	/* state-dir's default: systemd's, else by who runs msgeventd. */
	setenv("STATE_DIRECTORY", "/var/lib/one:/var/lib/two", 1);
	conf = parse_ok(L1);
	assert_string_equal(conf->state_dir, "/var/lib/one");
	config_free(&conf);
	unsetenv("STATE_DIRECTORY");
	setenv("XDG_STATE_HOME", "/home/u/.state", 1);
	conf = parse_ok(L1);
	assert_string_equal(conf->state_dir, getuid() == 0 ?
	    "/var/lib/msgeventd" : "/home/u/.state/msgeventd");
	config_free(&conf);
	unsetenv("XDG_STATE_HOME");
	conf = parse_ok(L1);
	if (getuid() == 0 || getenv("HOME") == NULL)
		snprintf(want, sizeof(want), "/var/lib/msgeventd");
	else
		snprintf(want, sizeof(want), "%s/.local/state/msgeventd",
		    getenv("HOME"));
	assert_string_equal(conf->state_dir, want);
	config_free(&conf);
}

/* No error message quotes a community or a pass phrase. */
static void
test_snmp_secrets_unquoted(void **state)
{
	static const char *const lines[] = {
		"output snmp trap udp:127.0.0.1:162 version 2c community "
		    "S3cret-" A256 "\n",
		"output snmp trap udp:127.0.0.1:162 version 3 user u "
		    "auth SHA S3cret\n",
		"output snmp trap udp:127.0.0.1:162 version 3 user u "
		    "auth SHA S3cret-long priv AES S3cret\n",
		"output snmp trap udp:127.0.0.1:162 version 3 user u "
		    "auth SHA S3cret-long priv AES S3cret-" A256 "\n",
		"output snmp trap udp:127.0.0.1:162 version 3 user u "
		    "auth SHA S3cret-long priv AES S3cret-long\n"
		    "output snmp trap udp:127.0.0.1:162 version 3 user u "
		    "auth SHA S3cret-other\n",
	};
	char text[2048], err[CONFIG_ERROR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", L1, lines[i]);
		assert_null(config_parse("t.conf", text, err));
		if (strstr(err, "S3cret") != NULL)
			fail_msg("lines[%zu]: %s", i, err);
	}
}

static void
test_free_and_names(void **state)
{
	struct config *conf = NULL;

	(void)state;
	config_free(&conf);
	assert_null(conf);
	assert_string_equal(config_service_name(CONFIG_SERVICE_IMAP), "imap");
	assert_string_equal(config_service_name(CONFIG_SERVICE_IMAPS),
	    "imaps");
	assert_string_equal(config_service_name(CONFIG_SERVICE_POP3), "pop3");
	assert_string_equal(config_service_name(CONFIG_SERVICE_POP3S),
	    "pop3s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_syslog_tls),
		cmocka_unit_test(test_pop3),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_facilities),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_unix_path_max),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_truncated),
		cmocka_unit_test(test_file_name_max),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_snmp),
		cmocka_unit_test(test_snmp_secrets_unquoted),
		cmocka_unit_test(test_free_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
