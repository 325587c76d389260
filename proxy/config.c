/*
 * config.c - read and check the configuration file (config.h).
 *
 * Each line is split into arguments in a fixed scratch buffer, then the
 * first argument picks a directive from one table.  Every message names
 * what was expected, so "FILE:LINE: message" alone is enough to fix the
 * line.
 */
#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * Arguments kept per line.  The longest directive has 14; a line with
 * more is still counted, so it fails its directive's argument check.
 */
#define ARGS_MAX	16

/* Longest unix:/PATH: sun_path with its terminating NUL. */
#define UNIX_PATH_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

#define ADDR_FORM	"HOST:PORT (HOST: an IPv4 address, [IPv6 address] " \
			"or localhost)"

struct parser;
struct directive;

typedef int directive_fn(struct parser *, const struct directive *);

struct directive {
	const char *name;
	const char *usage;		/* the expected form */
	directive_fn *parse;
	int min_args, max_args;		/* not counting the name */
	bool once;			/* a second one is an error */
	/* numbers: the range, and the field of struct config */
	uint64_t min, max;
	size_t off;
	bool is_size;			/* size_t, else unsigned */
};

struct parser {
	struct config *conf;
	const char *name;		/* file name for messages */
	int line;
	char *err;			/* CONFIG_ERROR_MAX bytes */
	struct config_listen **listen_tail;
	struct config_output **output_tail;
	int seen[32];			/* line of each once-only directive */
	int argc;			/* may exceed ARGS_MAX */
	char *argv[ARGS_MAX];
	/* arguments, NUL-terminated: never longer than the line plus one */
	char buf[CONFIG_LINE_MAX + 1];
};

static int perr(struct parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static struct config *ferr(struct parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* "FILE:LINE: message"; returns -1. */
static int
perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, CONFIG_ERROR_MAX, "%s:%d: ", p->name, p->line);
	if (n < 0 || n >= CONFIG_ERROR_MAX)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, CONFIG_ERROR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* "FILE: message", frees the config; returns NULL. */
static struct config *
ferr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	config_free(&p->conf);
	n = snprintf(p->err, CONFIG_ERROR_MAX, "%s: ", p->name);
	if (n < 0 || n >= CONFIG_ERROR_MAX)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, CONFIG_ERROR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return NULL;
}

static int
usage(struct parser *p, const struct directive *d)
{
	return perr(p, "%s: expected '%s'", d->name, d->usage);
}

/*
 * Decimal digits only, no sign, no blanks.  Returns -1 if S is not such
 * a number; a value beyond uint64_t becomes UINT64_MAX, which is out of
 * every range.
 */
static int
parse_u64(const char *s, uint64_t *v_r)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + (uint64_t)(*s - '0');
	}
	*v_r = v;
	return 0;
}

/*
 * S is HOST:PORT; WHAT names the directive in messages.  Only numeric
 * hosts: a proxy that resolves names at start silently keeps a stale
 * address, and at reload it would block the loop.
 */
static int
parse_addr(struct parser *p, const char *what, const char *s,
    struct config_addr *a)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	const char *start, *end, *port;
	char host[INET6_ADDRSTRLEN];
	uint64_t v;
	size_t hlen;
	int family;

	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(a->text))
		goto bad;
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			goto bad;
		start = s + 1;
		port = end + 2;
		family = AF_INET6;
	} else {
		if ((end = strrchr(s, ':')) == NULL)
			goto bad;
		start = s;
		port = end + 1;
		family = AF_INET;
	}
	hlen = (size_t)(end - start);
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, start, hlen);
	host[hlen] = '\0';
	if (family == AF_INET && strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (family == AF_INET) {
		sin = (struct sockaddr_in *)&a->sa;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto bad;
		sin->sin_family = AF_INET;
		a->salen = sizeof(*sin);
		inet_ntop(AF_INET, &sin->sin_addr, a->host, sizeof(a->host));
	} else {
		sin6 = (struct sockaddr_in6 *)&a->sa;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto bad;
		sin6->sin6_family = AF_INET6;
		a->salen = sizeof(*sin6);
		inet_ntop(AF_INET6, &sin6->sin6_addr, a->host,
		    sizeof(a->host));
	}
	if (parse_u64(port, &v) == -1)
		goto bad;
	if (v < 1 || v > 65535)
		return perr(p, "%s: port in '%s' is out of range 1..65535",
		    what, s);
	a->port = (uint16_t)v;
	if (family == AF_INET)
		((struct sockaddr_in *)&a->sa)->sin_port = htons(a->port);
	else
		((struct sockaddr_in6 *)&a->sa)->sin6_port = htons(a->port);
	strcpy(a->text, s);
	return 0;
bad:
	memset(a, 0, sizeof(*a));
	return perr(p, "%s: '%s' is not " ADDR_FORM, what, s);
}

/* tls-cert, tls-key, backend-ca, output syslog tls:// ... ca */
static int
check_path(struct parser *p, const char *what, const char *path)
{
	size_t len = strlen(path);

	if (len == 0 || len >= CONFIG_PATH_MAX)
		return perr(p, "%s: path must be 1..%d bytes long", what,
		    CONFIG_PATH_MAX - 1);
	return 0;
}

/* server-name: host name characters only, for URIs and syslog HOSTNAME. */
static bool
valid_host_name(const char *s)
{
	size_t len = strlen(s), i;
	char c;

	if (len == 0 || len >= CONFIG_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			return false;
	}
	return true;
}

/* An IPv4 or IPv6 address (no brackets). */
static bool
valid_ip(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1;
}

/* The host of TEXT ("HOST:PORT" or "[IPV6]:PORT") as written, into NAME. */
static void
backend_host(const char *text, char name[CONFIG_NAME_MAX])
{
	const char *start = text, *end;

	if (text[0] == '[') {
		start = text + 1;
		end = strchr(start, ']');
	} else
		end = strrchr(text, ':');
	if (end == NULL)
		end = text + strlen(text);
	snprintf(name, CONFIG_NAME_MAX, "%.*s", (int)(end - start), start);
}

static int
d_server_name(struct parser *p, const struct directive *d)
{
	if (!valid_host_name(p->argv[1]))
		return perr(p, "%s: '%s' is not a host name (1..%d letters, "
		    "digits, '-', '.', '_')", d->name, p->argv[1],
		    CONFIG_NAME_MAX - 1);
	strcpy(p->conf->server_name, p->argv[1]);
	return 0;
}

static int
d_number(struct parser *p, const struct directive *d)
{
	char *field = (char *)p->conf + d->off;
	uint64_t v;

	if (parse_u64(p->argv[1], &v) == -1)
		return perr(p, "%s: '%s' is not a decimal number in "
		    "%" PRIu64 "..%" PRIu64, d->name, p->argv[1], d->min,
		    d->max);
	if (v < d->min || v > d->max)
		return perr(p, "%s: %s is out of range %" PRIu64 "..%" PRIu64,
		    d->name, p->argv[1], d->min, d->max);
	if (d->is_size)
		*(size_t *)(void *)field = (size_t)v;
	else
		*(unsigned *)(void *)field = (unsigned)v;
	return 0;
}

/* RFC 5424 section 6.2.1 facility numbers. */
static const struct {
	const char *name;
	int code;
} facilities[] = {
	{ "user", 1 }, { "mail", 2 }, { "daemon", 3 }, { "auth", 4 },
	{ "authpriv", 10 },
	{ "local0", 16 }, { "local1", 17 }, { "local2", 18 },
	{ "local3", 19 }, { "local4", 20 }, { "local5", 21 },
	{ "local6", 22 }, { "local7", 23 },
};

static int
d_facility(struct parser *p, const struct directive *d)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
		if (strcmp(p->argv[1], facilities[i].name) == 0) {
			p->conf->syslog_facility = facilities[i].code;
			return 0;
		}
	}
	return perr(p, "%s: unknown facility '%s' (expected mail, user, "
	    "daemon, auth, authpriv or local0..local7)", d->name, p->argv[1]);
}

/*
 * RFC 5424 section 6.3.2: SD-NAME is 1*32 PRINTUSASCII except '=', SP,
 * ']' and '"'; a private SD-ID is name@<private enterprise number>.
 */
static int
d_sd_id(struct parser *p, const struct directive *d)
{
	const char *s = p->argv[1], *at;
	size_t len = strlen(s), i;

	if (len == 0 || len > CONFIG_SD_ID_MAX)
		goto bad;
	for (i = 0; i < len; i++)
		if (s[i] < 33 || s[i] > 126 || strchr("=]\"", s[i]) != NULL)
			goto bad;
	if ((at = strchr(s, '@')) == NULL || at == s || at[1] == '\0' ||
	    strspn(at + 1, "0123456789") != strlen(at + 1))
		goto bad;
	strcpy(p->conf->syslog_sd_id, s);
	return 0;
bad:
	return perr(p, "%s: '%s' is not NAME@NUMBER (1..%d printable "
	    "US-ASCII characters but '=', ']', '\"'; one '@' followed by "
	    "digits)", d->name, s, CONFIG_SD_ID_MAX);
}

static const char *const service_names[] = {
	[CONFIG_SERVICE_IMAP] = "imap",
	[CONFIG_SERVICE_IMAPS] = "imaps",
	[CONFIG_SERVICE_POP3] = "pop3",
	[CONFIG_SERVICE_POP3S] = "pop3s",
};

const char *
config_service_name(enum config_service service)
{
	if ((size_t)service >= sizeof(service_names) / sizeof(service_names[0]))
		return "unknown";
	return service_names[service];
}

/* listen SERVICE HOST:PORT backend HOST:PORT [backend-tls|backend-starttls] */
static int
d_listen(struct parser *p, const struct directive *d)
{
	struct config_listen l, *o;
	size_t i;

	memset(&l, 0, sizeof(l));
	l.line = p->line;
	for (i = 0; i < sizeof(service_names) / sizeof(service_names[0]); i++)
		if (strcmp(p->argv[1], service_names[i]) == 0)
			break;
	if (i == sizeof(service_names) / sizeof(service_names[0]))
		return perr(p, "%s: unknown service '%s' (expected imap, "
		    "imaps, pop3 or pop3s)", d->name, p->argv[1]);
	l.service = (enum config_service)i;
	if (parse_addr(p, d->name, p->argv[2], &l.listen) == -1)
		return -1;
	if (p->argc < 5 || strcmp(p->argv[3], "backend") != 0)
		return perr(p, "%s: expected 'backend HOST:PORT' after %s",
		    d->name, p->argv[2]);
	if (parse_addr(p, d->name, p->argv[4], &l.backend) == -1)
		return -1;
	if (p->argc >= 6) {
		if (strcmp(p->argv[5], "backend-tls") == 0)
			l.backend_tls = true;
		else if (strcmp(p->argv[5], "backend-starttls") == 0)
			l.backend_starttls = true;
		else
			return perr(p, "%s: unknown option '%s' (expected "
			    "backend-tls or backend-starttls)", d->name,
			    p->argv[5]);
	}
	if (p->argc == 7 || (p->argc == 8 &&
	    strcmp(p->argv[6], "backend-name") != 0))
		return usage(p, d);
	if (p->argc == 8) {
		/* RFC 6125: a DNS name, or an address for IP SANs */
		if (!valid_host_name(p->argv[7]) &&
		    !valid_ip(p->argv[7]))
			return perr(p, "%s: backend-name '%s' is not a host "
			    "name or an IP address", d->name, p->argv[7]);
		strcpy(l.backend_name, p->argv[7]);
	} else
		backend_host(l.backend.text, l.backend_name);
	for (o = p->conf->listens; o != NULL; o = o->next)
		if (o->listen.salen == l.listen.salen &&
		    memcmp(&o->listen.sa, &l.listen.sa, l.listen.salen) == 0)
			return perr(p, "%s: %s is already used on line %d",
			    d->name, p->argv[2], o->line);

	if ((o = malloc(sizeof(*o))) == NULL)
		return perr(p, "out of memory");
	*o = l;
	*p->listen_tail = o;
	p->listen_tail = &o->next;
	return 0;
}

#define SYSLOG_USAGE	"output syslog udp://HOST:PORT|tcp://HOST:PORT|" \
			"tls://HOST:PORT [ca PATH]|unix:/PATH|stderr"
#define SNMP_USAGE	"output snmp trap|inform udp:HOST:PORT " \
			"version 2c community NAME|version 3 user NAME " \
			"[auth PROTO PASS [priv PROTO PASS]]"

static int
output_syslog(struct parser *p, struct config_output *out)
{
	const char *t;
	size_t len;

	if (p->argc < 3)
		return perr(p, "output syslog: expected '%s'", SYSLOG_USAGE);
	t = p->argv[2];
	if (strncmp(t, "tls://", 6) == 0) {
		if (p->argc != 3 && (p->argc != 5 ||
		    strcmp(p->argv[3], "ca") != 0))
			return perr(p, "output syslog: expected '%s'",
			    SYSLOG_USAGE);
		if (parse_addr(p, "output syslog", t + 6, &out->addr) == -1)
			return -1;
		if (p->argc == 5 && check_path(p, "output syslog", p->argv[4]))
			return -1;
		out->kind = CONFIG_OUTPUT_SYSLOG_TLS;
		if (p->argc == 5)
			strcpy(out->path, p->argv[4]);
		backend_host(out->addr.text, out->tls_name);
		return 0;
	}
	if (p->argc != 3)
		return perr(p, "output syslog: expected '%s'", SYSLOG_USAGE);
	if (strncmp(t, "udp://", 6) == 0 || strncmp(t, "tcp://", 6) == 0) {
		out->kind = t[0] == 'u' ? CONFIG_OUTPUT_SYSLOG_UDP :
		    CONFIG_OUTPUT_SYSLOG_TCP;
		return parse_addr(p, "output syslog", t + 6, &out->addr);
	}
	if (strncmp(t, "unix:", 5) == 0) {
		len = strlen(t + 5);
		if (t[5] != '/' || len > UNIX_PATH_MAX)
			return perr(p, "output syslog: '%s' is not unix:/PATH "
			    "(an absolute path of at most %zu bytes)", t,
			    UNIX_PATH_MAX);
		out->kind = CONFIG_OUTPUT_SYSLOG_UNIX;
		memcpy(out->path, t + 5, len + 1);
		return 0;
	}
	if (strcmp(t, "stderr") == 0) {
		out->kind = CONFIG_OUTPUT_SYSLOG_STDERR;
		return 0;
	}
	return perr(p, "output syslog: unknown target '%s' (expected "
	    "udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, unix:/PATH "
	    "or stderr)", t);
}

static bool
word_in(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* An SNMP secret into FIELD: never quoted in a message. */
static int
snmp_secret(struct parser *p, const char *what, const char *value,
    size_t min, char field[CONFIG_SNMP_SECRET_MAX + 1])
{
	size_t len = strlen(value);

	if (len < min || len > CONFIG_SNMP_SECRET_MAX)
		return perr(p, "output snmp: the %s must be %zu..%d "
		    "characters long", what, min, CONFIG_SNMP_SECRET_MAX);
	memcpy(field, value, len + 1);
	return 0;
}

/*
 * output snmp trap|inform udp:HOST:PORT version 2c community NAME
 * output snmp trap|inform udp:HOST:PORT version 3 user NAME
 *     [auth PROTO PASS [priv PROTO PASS]]
 * The protocols are Net-SNMP's (snmptrap -a, -x); outputs/out_snmp.c
 * says whether this net-snmp has them.  Pass phrases: RFC 3414 11.2's
 * minimum of 8 characters, as net-snmp wants.
 */
static int
output_snmp(struct parser *p, struct config_output *out)
{
	static const char *const auths[] = {
		"MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512", NULL
	};
	static const char *const privs[] = {
		"DES", "AES", "AES-192", "AES-256", NULL
	};
	struct config_snmp *sn = &out->snmp;
	const struct config_output *o;
	char **argv = p->argv;
	int argc = p->argc;

	if (argc < 3 || argc > 14)
		return perr(p, "output snmp: expected '%s'", SNMP_USAGE);
	if (strcmp(argv[2], "trap") != 0 && strcmp(argv[2], "inform") != 0)
		return perr(p, "output snmp: expected 'trap' or 'inform', "
		    "not '%s'", argv[2]);
	if (argc < 7 || strcmp(argv[4], "version") != 0)
		return perr(p, "output snmp: expected '%s'", SNMP_USAGE);
	if (strncmp(argv[3], "udp:", 4) != 0)
		return perr(p, "output snmp: '%s' is not udp:%s", argv[3],
		    ADDR_FORM);
	if (parse_addr(p, "output snmp", argv[3] + 4, &out->addr) == -1)
		return -1;
	out->kind = CONFIG_OUTPUT_SNMP;
	sn->inform = strcmp(argv[2], "inform") == 0;
	if (strcmp(argv[5], "2c") == 0) {
		if (argc != 8 || strcmp(argv[6], "community") != 0)
			return perr(p, "output snmp: expected '%s'",
			    SNMP_USAGE);
		sn->version = 2;
		return snmp_secret(p, "community", argv[7], 1, sn->community);
	}
	if (strcmp(argv[5], "3") != 0)
		return perr(p, "output snmp: unknown version '%s' (expected "
		    "2c or 3)", argv[5]);
	if ((argc != 8 && argc != 11 && argc != 14) ||
	    strcmp(argv[6], "user") != 0 ||
	    (argc >= 11 && strcmp(argv[8], "auth") != 0) ||
	    (argc == 14 && strcmp(argv[11], "priv") != 0))
		return perr(p, "output snmp: expected '%s'", SNMP_USAGE);
	if (argc >= 11 && !word_in(argv[9], auths))
		return perr(p, "output snmp: unknown auth protocol "
		    "'%s' (expected MD5, SHA, SHA-224, SHA-256, "
		    "SHA-384 or SHA-512)", argv[9]);
	if (argc == 14 && !word_in(argv[12], privs))
		return perr(p, "output snmp: unknown priv protocol "
		    "'%s' (expected DES, AES, AES-192 or AES-256)", argv[12]);
	sn->version = 3;
	if (strlen(argv[7]) > CONFIG_SNMP_USER_MAX)
		return perr(p, "output snmp: user name longer than %d "
		    "characters", CONFIG_SNMP_USER_MAX);
	strcpy(sn->user, argv[7]);
	if (argc >= 11) {
		strcpy(sn->auth_proto, argv[9]);
		if (snmp_secret(p, "auth pass phrase", argv[10],
		    CONFIG_SNMP_PASS_MIN, sn->auth_pass) == -1)
			return -1;
	}
	if (argc == 14) {
		strcpy(sn->priv_proto, argv[12]);
		if (snmp_secret(p, "priv pass phrase", argv[13],
		    CONFIG_SNMP_PASS_MIN, sn->priv_pass) == -1)
			return -1;
	}
	/*
	 * A trap is sent with msgeventd's own engine ID, and USM keeps one
	 * set of keys per engine and user: two trap outputs naming one
	 * user must agree on them.  (An inform's keys are for the
	 * receiver's engine, so informs may differ.)
	 */
	for (o = p->conf->outputs; o != NULL && !sn->inform; o = o->next) {
		if (o->kind != CONFIG_OUTPUT_SNMP || o->snmp.version != 3 ||
		    o->snmp.inform || strcmp(o->snmp.user, sn->user) != 0)
			continue;
		if (strcmp(o->snmp.auth_proto, sn->auth_proto) != 0 ||
		    strcmp(o->snmp.auth_pass, sn->auth_pass) != 0 ||
		    strcmp(o->snmp.priv_proto, sn->priv_proto) != 0 ||
		    strcmp(o->snmp.priv_pass, sn->priv_pass) != 0)
			return perr(p, "output snmp: user '%s' has other "
			    "protocols or pass phrases on line %d (SNMPv3 "
			    "traps have one set of keys per user)", sn->user,
			    o->line);
	}
	return 0;
}

/* state-dir PATH */
static int
d_state_dir(struct parser *p, const struct directive *d)
{
	if (check_path(p, d->name, p->argv[1]) == -1)
		return -1;
	strcpy(p->conf->state_dir, p->argv[1]);
	return 0;
}

/* snmp-engine-id 0xHEX: RFC 3411 SnmpEngineID, 5..32 octets. */
static int
d_engine_id(struct parser *p, const struct directive *d)
{
	const char *s = p->argv[1];
	size_t n, i;
	unsigned v;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		goto bad;
	s += 2;
	n = strlen(s);
	if (n % 2 != 0 || n / 2 < 5 || n / 2 > CONFIG_SNMP_ENGINE_MAX ||
	    strspn(s, "0123456789abcdefABCDEF") != n)
		goto bad;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			goto bad;
		p->conf->snmp_engine_id[i] = (uint8_t)v;
	}
	p->conf->snmp_engine_id_len = n / 2;
	return 0;
bad:
	return perr(p, "%s: '%s' is not 0x followed by 5..%d octets in hex",
	    d->name, p->argv[1], CONFIG_SNMP_ENGINE_MAX);
}

static int
d_output(struct parser *p, const struct directive *d)
{
	struct config_output out, *o;

	memset(&out, 0, sizeof(out));
	out.line = p->line;
	if (strcmp(p->argv[1], "syslog") == 0) {
		if (output_syslog(p, &out) == -1)
			return -1;
	} else if (strcmp(p->argv[1], "snmp") == 0) {
		if (output_snmp(p, &out) == -1)
			return -1;
	} else
		return perr(p, "%s: unknown output '%s' (expected syslog or "
		    "snmp)", d->name, p->argv[1]);
	if ((o = malloc(sizeof(*o))) == NULL)
		return perr(p, "out of memory");
	*o = out;
	*p->output_tail = o;
	p->output_tail = &o->next;
	return 0;
}

/* tls-cert, tls-key, backend-ca PATH */
static int
d_tls_path(struct parser *p, const struct directive *d)
{
	struct config *c = p->conf;

	if (check_path(p, d->name, p->argv[1]) == -1)
		return -1;
	if (strcmp(d->name, "tls-cert") == 0) {
		strcpy(c->tls.cert, p->argv[1]);
		c->tls.cert_line = p->line;
	} else if (strcmp(d->name, "tls-key") == 0) {
		strcpy(c->tls.key, p->argv[1]);
		c->tls.key_line = p->line;
	} else {
		strcpy(c->backend_ca, p->argv[1]);
		c->backend_ca_line = p->line;
	}
	return 0;
}

static int
d_backend_verify(struct parser *p, const struct directive *d)
{
	if (strcmp(p->argv[1], "on") != 0 && strcmp(p->argv[1], "off") != 0)
		return perr(p, "%s: expected 'on' or 'off', not '%s'",
		    d->name, p->argv[1]);
	p->conf->backend_verify = strcmp(p->argv[1], "on") == 0;
	return 0;
}

/*
 * tls-protocols, backend-tls-protocols VERSION...: nginx's ssl_protocols
 * names.  The versions must form a range: OpenSSL takes a minimum and
 * a maximum, so a gap could not be honoured.
 */
static int
d_tls_protocols(struct parser *p, const struct directive *d)
{
	static const char *const names[] = {
		"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"
	};
	unsigned mask = 0, lo, hi, i;
	int a;

	for (a = 1; a < p->argc; a++) {
		for (i = 0; i < 4; i++)
			if (strcmp(p->argv[a], names[i]) == 0)
				break;
		if (i == 4)
			return perr(p, "%s: unknown protocol '%s' (expected "
			    "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)", d->name,
			    p->argv[a]);
		mask |= 1u << i;
	}
	for (lo = 0; !(mask & (1u << lo)); lo++)
		;
	for (hi = 3; !(mask & (1u << hi)); hi--)
		;
	for (i = lo; i <= hi; i++)
		if (!(mask & (1u << i)))
			return perr(p, "%s: %s is missing between %s and %s "
			    "(the versions must form a range)", d->name,
			    names[i], names[lo], names[hi]);
	if (strcmp(d->name, "tls-protocols") == 0) {
		p->conf->tls.min_version = (uint16_t)(CONFIG_TLS_V1_0 + lo);
		p->conf->tls.max_version = (uint16_t)(CONFIG_TLS_V1_0 + hi);
		p->conf->tls.protocols_line = p->line;
	} else {
		p->conf->backend_min_version =
		    (uint16_t)(CONFIG_TLS_V1_0 + lo);
		p->conf->backend_max_version =
		    (uint16_t)(CONFIG_TLS_V1_0 + hi);
		p->conf->backend_protocols_line = p->line;
	}
	return 0;
}

/*
 * tls-ciphers, tls-ciphersuites, tls-curves LIST: OpenSSL's syntax,
 * checked by OpenSSL when the context is made (tls.c).
 */
static int
d_tls_list(struct parser *p, const struct directive *d)
{
	struct config_tls *t = &p->conf->tls;
	char *dst;
	int *line;
	size_t len = strlen(p->argv[1]);

	if (strcmp(d->name, "tls-ciphers") == 0) {
		dst = t->ciphers;
		line = &t->ciphers_line;
	} else if (strcmp(d->name, "tls-ciphersuites") == 0) {
		dst = t->ciphersuites;
		line = &t->ciphersuites_line;
	} else {
		dst = t->curves;
		line = &t->curves_line;
	}
	if (len == 0 || len >= CONFIG_TLS_LIST_MAX)
		return perr(p, "%s: list must be 1..%d bytes long", d->name,
		    CONFIG_TLS_LIST_MAX - 1);
	memcpy(dst, p->argv[1], len + 1);
	*line = p->line;
	return 0;
}

/* flag-events simple|flags (config.h) */
static int
d_flag_events(struct parser *p, const struct directive *d)
{
	if (strcmp(p->argv[1], "simple") == 0)
		p->conf->flag_events = CONFIG_FLAG_EVENTS_SIMPLE;
	else if (strcmp(p->argv[1], "flags") == 0)
		p->conf->flag_events = CONFIG_FLAG_EVENTS_FLAGS;
	else
		return perr(p, "%s: expected 'simple' or 'flags', not '%s'",
		    d->name, p->argv[1]);
	return 0;
}

/* backend-queries on|off (config.h) */
static int
d_backend_queries(struct parser *p, const struct directive *d)
{
	if (strcmp(p->argv[1], "on") == 0)
		p->conf->backend_queries = true;
	else if (strcmp(p->argv[1], "off") == 0)
		p->conf->backend_queries = false;
	else
		return perr(p, "%s: expected 'on' or 'off', not '%s'",
		    d->name, p->argv[1]);
	return 0;
}

/*
 * pop3-uidl-pattern REGEX [hex|decimal] (INTERFACE.md): compiled now,
 * so that -t and a reload catch a bad pattern (uidl_map.h).
 */
static int
d_uidl_pattern(struct parser *p, const struct directive *d)
{
	enum uidl_map_base base = UIDL_MAP_DECIMAL;
	char err[512];

	if (p->argc == 3 && strcmp(p->argv[2], "hex") == 0)
		base = UIDL_MAP_HEX;
	else if (p->argc == 3 && strcmp(p->argv[2], "decimal") != 0)
		return perr(p, "%s: expected 'hex' or 'decimal', not '%s'",
		    d->name, p->argv[2]);
	if (p->argv[1][0] == '\0')
		return perr(p, "%s: the pattern is empty", d->name);
	p->conf->uidl_map = uidl_map_new(p->argv[1], base, err, sizeof(err));
	if (p->conf->uidl_map == NULL)
		return perr(p, "%s: %s", d->name, err);
	p->conf->uidl_map_line = p->line;
	return 0;
}

#define NUM(name, form, lo, hi, field, size)				\
	{ name, name " " form, d_number, 1, 1, true, lo, hi,		\
	    offsetof(struct config, field), size }

static const struct directive directives[] = {
	{ "server-name", "server-name NAME", d_server_name, 1, 1, true,
	    0, 0, 0, false },
	NUM("max-line-length", "BYTES", 1024, 16777216, max_line_length,
	    true),
	NUM("syslog-max-size", "BYTES", 480, 8192, syslog_max_size, true),
	{ "syslog-facility", "syslog-facility NAME", d_facility, 1, 1, true,
	    0, 0, 0, false },
	{ "syslog-sd-id", "syslog-sd-id NAME@NUMBER", d_sd_id, 1, 1, true,
	    0, 0, 0, false },
	NUM("idle-timeout", "SECONDS", 1, 86400, idle_timeout, false),
	NUM("connect-timeout", "SECONDS", 1, 300, connect_timeout, false),
	NUM("shutdown-grace", "SECONDS", 0, 3600, shutdown_grace, false),
	NUM("max-sessions", "N", 1, 1000000, max_sessions, false),
	NUM("output-queue", "BYTES", 65536, 1073741824, output_queue, true),
	NUM("snmp-max-size", "BYTES", 1024, 65507, snmp_max_size, true),
	NUM("snmp-inform-retries", "N", 0, 10, snmp_inform_retries, false),
	NUM("snmp-inform-timeout", "MILLISECONDS", 10, 60000,
	    snmp_inform_timeout, false),
	{ "snmp-engine-id", "snmp-engine-id 0xHEX", d_engine_id, 1, 1, true,
	    0, 0, 0, false },
	{ "state-dir", "state-dir PATH", d_state_dir, 1, 1, true,
	    0, 0, 0, false },
	{ "flag-events", "flag-events simple|flags", d_flag_events, 1, 1, true,
	    0, 0, 0, false },
	{ "backend-queries", "backend-queries on|off", d_backend_queries, 1,
	    1, true, 0, 0, 0, false },
	{ "listen", "listen imap|imaps|pop3|pop3s HOST:PORT backend "
	    "HOST:PORT [backend-tls|backend-starttls [backend-name NAME]]",
	    d_listen, 2, 7, false, 0, 0, 0, false },
	/* usage() quotes it: "expected 'output syslog ...' or '...'" */
	{ "output", "output syslog TARGET' or 'output snmp trap|inform ...",
	    d_output, 1, ARGS_MAX, false, 0, 0, 0, false },
	{ "tls-cert", "tls-cert PATH", d_tls_path, 1, 1, true,
	    0, 0, 0, false },
	{ "tls-key", "tls-key PATH", d_tls_path, 1, 1, true, 0, 0, 0, false },
	{ "backend-ca", "backend-ca PATH", d_tls_path, 1, 1, true,
	    0, 0, 0, false },
	{ "backend-verify", "backend-verify on|off", d_backend_verify, 1, 1,
	    true, 0, 0, 0, false },
	{ "tls-protocols", "tls-protocols VERSION...", d_tls_protocols, 1, 4,
	    true, 0, 0, 0, false },
	{ "backend-tls-protocols", "backend-tls-protocols VERSION...",
	    d_tls_protocols, 1, 4, true, 0, 0, 0, false },
	{ "tls-ciphers", "tls-ciphers LIST", d_tls_list, 1, 1, true,
	    0, 0, 0, false },
	{ "tls-ciphersuites", "tls-ciphersuites LIST", d_tls_list, 1, 1, true,
	    0, 0, 0, false },
	{ "tls-curves", "tls-curves LIST", d_tls_list, 1, 1, true,
	    0, 0, 0, false },
	{ "pop3-uidl-pattern", "pop3-uidl-pattern REGEX [hex|decimal]",
	    d_uidl_pattern, 1, 2, true, 0, 0, 0, false },
};

#define NDIRECTIVES	(sizeof(directives) / sizeof(directives[0]))

/*
 * Split LINE (LEN bytes, no line end) into p->argc/p->argv.  Blanks
 * separate arguments; '#' outside quotes ends the line; inside double
 * quotes blanks and '#' are ordinary and \" \\ are escapes.  Each byte
 * of the line yields at most one byte of p->buf, and each argument ends
 * at a blank, a '#' or the end, which pays for its NUL: LEN + 1 bytes.
 */
static int
split(struct parser *p, const char *line, size_t len)
{
	char *out = p->buf;
	size_t i = 0;
	bool quoted;
	char c;

	p->argc = 0;
	for (;;) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len || line[i] == '#')
			return 0;
		if (p->argc < ARGS_MAX)
			p->argv[p->argc] = out;
		p->argc++;
		quoted = false;
		while (i < len) {
			c = line[i];
			if (!quoted && (c == ' ' || c == '\t' || c == '#'))
				break;
			if (((unsigned char)c < 0x20 && c != '\t') ||
			    c == 0x7f)
				return perr(p, "line contains control "
				    "character 0x%02x", (unsigned char)c);
			i++;
			if (c == '"') {
				quoted = !quoted;
				continue;
			}
			if (quoted && c == '\\' && i < len &&
			    (line[i] == '"' || line[i] == '\\'))
				c = line[i++];
			*out++ = c;
		}
		if (quoted)
			return perr(p, "unterminated quoted string");
		*out++ = '\0';
		assert((size_t)(out - p->buf) <= len + 1);
	}
}

/* One line, without its LF. */
static int
parse_line(struct parser *p, const char *line, size_t len)
{
	const struct directive *d;
	size_t i;

	p->line++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > CONFIG_LINE_MAX)
		return perr(p, "line is longer than %d bytes",
		    CONFIG_LINE_MAX);
	if (split(p, line, len) == -1)
		return -1;
	if (p->argc == 0)
		return 0;
	for (i = 0; i < NDIRECTIVES; i++)
		if (strcmp(p->argv[0], directives[i].name) == 0)
			break;
	if (i == NDIRECTIVES)
		return perr(p, "unknown directive '%s'", p->argv[0]);
	d = &directives[i];
	if (p->argc - 1 < d->min_args || p->argc - 1 > d->max_args)
		return usage(p, d);
	if (d->once && p->seen[i] != 0)
		return perr(p, "%s: already given on line %d", d->name,
		    p->seen[i]);
	p->seen[i] = p->line;
	return d->parse(p, d);
}

static int
parser_init(struct parser *p, const char *name, char *err)
{
	_Static_assert(NDIRECTIVES <= sizeof(p->seen) / sizeof(p->seen[0]),
	    "parser.seen too small");

	memset(p, 0, offsetof(struct parser, buf));
	p->name = name;
	p->err = err;
	err[0] = '\0';
	if (strlen(name) >= CONFIG_PATH_MAX) {
		ferr(p, "file name is longer than %d bytes",
		    CONFIG_PATH_MAX - 1);
		return -1;
	}
	if ((p->conf = calloc(1, sizeof(*p->conf))) == NULL) {
		ferr(p, "out of memory");
		return -1;
	}
	strcpy(p->conf->file, name);
	p->conf->max_line_length = 65536;
	p->conf->syslog_max_size = 2048;
	p->conf->syslog_facility = 2;	/* mail */
	strcpy(p->conf->syslog_sd_id, "msgevent@32473");
	p->conf->idle_timeout = 1800;
	p->conf->connect_timeout = 10;
	p->conf->shutdown_grace = 10;
	p->conf->max_sessions = 10000;
	p->conf->output_queue = 1048576;
	p->conf->snmp_max_size = 1472;
	p->conf->snmp_inform_retries = 3;
	p->conf->snmp_inform_timeout = 1000;
	p->conf->flag_events = CONFIG_FLAG_EVENTS_SIMPLE;
	p->conf->backend_queries = true;
	p->conf->tls.min_version = CONFIG_TLS_V1_2;
	p->conf->tls.max_version = CONFIG_TLS_V1_3;
	p->conf->backend_verify = true;
	p->conf->backend_min_version = CONFIG_TLS_V1_2;
	p->conf->backend_max_version = CONFIG_TLS_V1_3;
	p->listen_tail = &p->conf->listens;
	p->output_tail = &p->conf->outputs;
	return 0;
}

/*
 * state-dir's default (config.h): systemd's StateDirectory= first, then
 * the FHS place for a daemon run as root, then the XDG one for anyone
 * else, so that an unprivileged msgeventd works without configuration.
 */
static void
default_state_dir(char dir[CONFIG_PATH_MAX])
{
	const char *env, *home;
	size_t len;

	if ((env = getenv("STATE_DIRECTORY")) != NULL && env[0] != '\0') {
		/* "A:B" when several are configured: the first. */
		len = strcspn(env, ":");
		if (len < CONFIG_PATH_MAX) {
			memcpy(dir, env, len);
			dir[len] = '\0';
			return;
		}
	}
	if (getuid() != 0) {
		if ((env = getenv("XDG_STATE_HOME")) != NULL && env[0] == '/' &&
		    (size_t)snprintf(dir, CONFIG_PATH_MAX, "%s/msgeventd",
		    env) < CONFIG_PATH_MAX)
			return;
		if ((home = getenv("HOME")) != NULL && home[0] == '/' &&
		    (size_t)snprintf(dir, CONFIG_PATH_MAX,
		    "%s/.local/state/msgeventd", home) < CONFIG_PATH_MAX)
			return;
	}
	strcpy(dir, "/var/lib/msgeventd");
}

/* After the last line: what spans lines, and the defaults left to fill. */
static struct config *
parser_finish(struct parser *p)
{
	struct config *conf = p->conf;
	const struct config_listen *l;
	char host[CONFIG_NAME_MAX + 1];

	if (conf->listens == NULL)
		return ferr(p, "no 'listen' directive");
	/* TLS directives that need each other, wherever they were written */
	if (conf->tls.key_line != 0 && conf->tls.cert_line == 0) {
		p->line = conf->tls.key_line;
		perr(p, "tls-key: no tls-cert to go with it");
		config_free(&p->conf);
		return NULL;
	}
	for (l = conf->listens; l != NULL; l = l->next) {
		if ((l->service == CONFIG_SERVICE_IMAPS ||
		    l->service == CONFIG_SERVICE_POP3S) &&
		    conf->tls.cert_line == 0) {
			p->line = l->line;
			perr(p, "listen: %s needs a certificate: add tls-cert "
			    "(and tls-key)", config_service_name(l->service));
			config_free(&p->conf);
			return NULL;
		}
	}
	if (conf->server_name[0] == '\0') {
		/* gethostname() need not terminate a truncated name. */
		memset(host, 0, sizeof(host));
		if (gethostname(host, sizeof(host) - 1) == 0 &&
		    valid_host_name(host))
			strcpy(conf->server_name, host);
		else
			strcpy(conf->server_name, "localhost");
	}
	if (conf->state_dir[0] == '\0')
		default_state_dir(conf->state_dir);
	p->conf = NULL;
	return conf;
}

struct config *
config_parse(const char *name, const char *text, char err_r[CONFIG_ERROR_MAX])
{
	struct parser p;
	const char *nl;
	size_t len;

	if (parser_init(&p, name, err_r) == -1)
		return NULL;
	while (*text != '\0') {
		nl = strchr(text, '\n');
		len = nl != NULL ? (size_t)(nl - text) : strlen(text);
		if (parse_line(&p, text, len) == -1) {
			config_free(&p.conf);
			return NULL;
		}
		text += len + (nl != NULL);
	}
	return parser_finish(&p);
}

struct config *
config_load(const char *path, char err_r[CONFIG_ERROR_MAX])
{
	struct parser p;
	FILE *fp;
	char *line = NULL;
	size_t size = 0;
	ssize_t n;
	int error = 0;

	if (parser_init(&p, path, err_r) == -1)
		return NULL;
	if ((fp = fopen(path, "r")) == NULL)
		return ferr(&p, "cannot open: %s", strerror(errno));
	/* getline(), not fgets(): a NUL in the file is then seen. */
	while ((n = getline(&line, &size, fp)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if (parse_line(&p, line, (size_t)n) == -1) {
			free(line);
			fclose(fp);
			config_free(&p.conf);
			return NULL;
		}
	}
	if (ferror(fp))
		error = errno;
	free(line);
	fclose(fp);
	if (error != 0)
		return ferr(&p, "cannot read: %s", strerror(error));
	return parser_finish(&p);
}

void
config_free(struct config **confp)
{
	struct config *conf = *confp;
	struct config_listen *l;
	struct config_output *o;

	if (conf == NULL)
		return;
	*confp = NULL;
	while ((l = conf->listens) != NULL) {
		conf->listens = l->next;
		free(l);
	}
	while ((o = conf->outputs) != NULL) {
		conf->outputs = o->next;
		free(o);
	}
	uidl_map_unref(&conf->uidl_map);
	free(conf);
}
