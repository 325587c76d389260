/*
 * test_out_syslog.c - the RFC 5424 formatter.
 *
 * Every message formatted here goes through rfc5424_check(), a small
 * validating parser written from RFC 5424 section 6 (plus our own
 * promises: no controls in values, ASCII TEXT), which also unescapes
 * the SD-PARAM values so tests can compare them with what was set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../outputs/out_syslog.h"

#define SD_NAME_MAX	32
#define ELEM_MAX	8
#define PARAM_MAX	80

struct sd_param {
	int elem;			/* index into sd_id */
	char name[SD_NAME_MAX + 1];
	char value[OUT_SYSLOG_SIZE_MAX + 1];	/* unescaped */
	size_t len;
};

struct syslog_msg {
	int pri;
	char timestamp[64];
	char hostname[256];
	char app[49];
	char procid[129];
	char msgid[33];
	int nelem;
	char sd_id[ELEM_MAX][SD_NAME_MAX + 1];
	int nparam;
	struct sd_param param[PARAM_MAX];
	bool has_text;
	char text[OUT_SYSLOG_SIZE_MAX + 1];
};

/* Big: static, and filled by every check. */
static struct syslog_msg parsed;
static char buf[OUT_SYSLOG_SIZE_MAX + 1];

static const struct out_syslog_opts opts_default = {
	.hostname = "mail.example.net",
	.sd_id = "msgevent@32473",
	.facility = 2,
	.procid = 4242,
	.max_size = OUT_SYSLOG_SIZE_DEFAULT,
};

/* 2026-11-30T10:00:00Z */
#define T0	1796032800

/* An independent UTF-8 check: decode, then reject overlongs etc. */
static bool
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, j, k;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		} else if ((s[i] & 0xE0) == 0xC0) {
			k = 1;
			cp = s[i] & 0x1F;
		} else if ((s[i] & 0xF0) == 0xE0) {
			k = 2;
			cp = s[i] & 0x0F;
		} else if ((s[i] & 0xF8) == 0xF0) {
			k = 3;
			cp = s[i] & 0x07;
		} else
			return false;
		for (j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
		    (k == 3 && cp < 0x10000))
			return false;
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

static bool
is_print(unsigned char c)
{
	return c >= 33 && c <= 126;
}

static bool
is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* RFC 5424 6.2.3 TIMESTAMP: NILVALUE or RFC 3339 with 4-digit year. */
static bool
timestamp_valid(const char *t)
{
	size_t n = strlen(t), i;

	if (strcmp(t, "-") == 0)
		return true;
	if (n < 20 || !is_digits(t, 4) || t[4] != '-' ||
	    !is_digits(t + 5, 2) || t[7] != '-' || !is_digits(t + 8, 2) ||
	    t[10] != 'T' || !is_digits(t + 11, 2) || t[13] != ':' ||
	    !is_digits(t + 14, 2) || t[16] != ':' || !is_digits(t + 17, 2))
		return false;
	if (atoi(t + 5) < 1 || atoi(t + 5) > 12 || atoi(t + 8) < 1 ||
	    atoi(t + 8) > 31 || atoi(t + 11) > 23 || atoi(t + 14) > 59 ||
	    atoi(t + 17) > 60)
		return false;
	i = 19;
	if (t[i] == '.') {
		i++;
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
		if (i == 20 || i > 26)
			return false;	/* TIME-SECFRAC is 1*6DIGIT */
	}
	if (strcmp(t + i, "Z") == 0)
		return true;
	return n - i == 6 && (t[i] == '+' || t[i] == '-') &&
	    is_digits(t + i + 1, 2) && t[i + 3] == ':' &&
	    is_digits(t + i + 4, 2);
}

/* 1..MAX PRINTUSASCII, then SP. */
static const char *
parse_field(const unsigned char **pp, const unsigned char *end, size_t max,
    char *out)
{
	const unsigned char *p = *pp;
	size_t n = 0;

	while (p < end && is_print(*p)) {
		if (n == max)
			return "header field too long";
		out[n++] = (char)*p++;
	}
	out[n] = '\0';
	if (n == 0)
		return "empty header field";
	if (p == end || *p != ' ')
		return "header field not followed by SP";
	*pp = p + 1;
	return NULL;
}

/* SD-NAME: 1..32 PRINTUSASCII except '=', SP, ']', '"'. */
static const char *
parse_sd_name(const unsigned char **pp, const unsigned char *end, char *out)
{
	const unsigned char *p = *pp;
	size_t n = 0;

	while (p < end && is_print(*p) && *p != '=' && *p != ']' &&
	    *p != '"') {
		if (n == SD_NAME_MAX)
			return "SD-NAME too long";
		out[n++] = (char)*p++;
	}
	out[n] = '\0';
	if (n == 0)
		return "empty SD-NAME";
	*pp = p;
	return NULL;
}

/* '"' PARAM-VALUE '"', unescaped into P->value. */
static const char *
parse_value(const unsigned char **pp, const unsigned char *end,
    struct sd_param *sp)
{
	const unsigned char *p = *pp;
	unsigned char c;

	sp->len = 0;
	if (p == end || *p++ != '"')
		return "PARAM-VALUE does not start with '\"'";
	for (;;) {
		if (p == end)
			return "unterminated PARAM-VALUE";
		c = *p;
		if (c == '"') {
			p++;
			break;
		}
		if (c == '\\') {
			if (p + 1 == end)
				return "backslash at end";
			c = p[1];
			if (c != '"' && c != '\\' && c != ']')
				return "backslash not before '\"', '\\' or ']'";
			sp->value[sp->len++] = (char)c;
			p += 2;
			continue;
		}
		if (c == ']')
			return "unescaped ']' in PARAM-VALUE";
		if (c < 0x20 || c == 0x7F)
			return "control character in PARAM-VALUE";
		sp->value[sp->len++] = (char)c;
		p++;
	}
	sp->value[sp->len] = '\0';
	if (!utf8_valid((const unsigned char *)sp->value, sp->len))
		return "PARAM-VALUE is not UTF-8";
	*pp = p;
	return NULL;
}

/*
 * Parse the LEN bytes at M as one RFC 5424 SYSLOG-MSG into R; returns
 * NULL, or what is wrong.
 */
static const char *
rfc5424_parse(const char *m, size_t len, struct syslog_msg *r)
{
	const unsigned char *p = (const unsigned char *)m, *end = p + len;
	const char *err;
	struct sd_param *sp;
	int i, digits = 0;

	memset(r, 0, sizeof(*r));
	/* PRI = "<" PRIVAL ">", PRIVAL 0..191; VERSION "1". */
	if (p == end || *p++ != '<')
		return "no '<'";
	while (p < end && *p >= '0' && *p <= '9' && digits < 3) {
		r->pri = r->pri * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || r->pri > 191 || p == end || *p++ != '>')
		return "bad PRI";
	if (end - p < 2 || p[0] != '1' || p[1] != ' ')
		return "bad VERSION";
	p += 2;
	if ((err = parse_field(&p, end, 63, r->timestamp)) != NULL)
		return err;
	if (!timestamp_valid(r->timestamp))
		return "bad TIMESTAMP";
	if ((err = parse_field(&p, end, 255, r->hostname)) != NULL ||
	    (err = parse_field(&p, end, 48, r->app)) != NULL ||
	    (err = parse_field(&p, end, 128, r->procid)) != NULL ||
	    (err = parse_field(&p, end, 32, r->msgid)) != NULL)
		return err;
	/* STRUCTURED-DATA = NILVALUE / 1*SD-ELEMENT */
	if (p < end && *p == '-')
		p++;
	else {
		if (p == end || *p != '[')
			return "no STRUCTURED-DATA";
		while (p < end && *p == '[') {
			p++;
			if (r->nelem == ELEM_MAX)
				return "too many SD-ELEMENTs";
			if ((err = parse_sd_name(&p, end,
			    r->sd_id[r->nelem])) != NULL)
				return err;
			for (i = 0; i < r->nelem; i++)
				if (strcmp(r->sd_id[i],
				    r->sd_id[r->nelem]) == 0)
					return "SD-ID repeated";
			while (p < end && *p == ' ') {
				p++;
				if (r->nparam == PARAM_MAX)
					return "too many SD-PARAMs";
				sp = &r->param[r->nparam++];
				sp->elem = r->nelem;
				if ((err = parse_sd_name(&p, end,
				    sp->name)) != NULL)
					return err;
				if (p == end || *p++ != '=')
					return "no '=' after PARAM-NAME";
				if ((err = parse_value(&p, end, sp)) != NULL)
					return err;
			}
			if (p == end || *p++ != ']')
				return "SD-ELEMENT not closed by ']'";
			r->nelem++;
		}
	}
	if (p == end)
		return NULL;
	/* [SP MSG]; ours is printable ASCII. */
	if (*p++ != ' ')
		return "STRUCTURED-DATA not followed by SP or the end";
	r->has_text = true;
	memcpy(r->text, p, (size_t)(end - p));
	r->text[end - p] = '\0';
	for (; p < end; p++)
		if (*p < 0x20 || *p > 0x7E)
			return "TEXT is not printable ASCII";
	return NULL;
}

static void
assert_rfc5424(const char *m, size_t len, size_t max)
{
	const char *err;

	if (len > max) {
		print_message("message of %zu bytes, max %zu\n", len, max);
		fail();
	}
	if ((err = rfc5424_parse(m, len, &parsed)) != NULL) {
		print_message("not RFC 5424: %s:\n%.*s\n", err, (int)len, m);
		fail();
	}
}

static const struct sd_param *
param_find(const char *name)
{
	int i;

	for (i = 0; i < parsed.nparam; i++)
		if (strcmp(parsed.param[i].name, name) == 0)
			return &parsed.param[i];
	return NULL;
}

/* An event by hand, with a fixed time and no parameters. */
static void
event_make(struct msgevent *ev, enum msgevent_type type, time_t sec,
    long nsec)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->time.tv_sec = sec;
	ev->time.tv_nsec = nsec;
}

static size_t
format(const struct out_syslog_opts *opts, const struct msgevent *ev,
    uint32_t seq)
{
	size_t len;

	memset(buf, 'X', sizeof(buf));
	len = out_syslog_format(opts, ev, seq, buf);
	assert_rfc5424(buf, len, opts->max_size);
	return len;
}

/* Format an event with USER set to the LEN bytes at V; its user param. */
static const struct sd_param *
format_user(const char *v, size_t len)
{
	struct msgevent ev;

	event_make(&ev, MSGEVENT_LOGIN, T0, 0);
	msgevent_set(&ev, MSGEVENT_P_USER, v, len);
	format(&opts_default, &ev, 1);
	return param_find("user");
}

static void
test_header_pri(void **state)
{
	struct out_syslog_opts opts = opts_default;
	struct msgevent ev;

	(void)state;
	event_make(&ev, MSGEVENT_MESSAGE_APPEND, T0, 0);
	format(&opts, &ev, 1);
	assert_int_equal(parsed.pri, 22);		/* mail.info */
	assert_string_equal(parsed.timestamp, "2026-11-30T10:00:00.000000Z");
	assert_string_equal(parsed.hostname, "mail.example.net");
	assert_string_equal(parsed.app, "msgeventd");
	assert_string_equal(parsed.procid, "4242");
	assert_string_equal(parsed.msgid, "MessageAppend");
	assert_int_equal(parsed.nelem, 2);
	assert_string_equal(parsed.sd_id[0], "msgevent@32473");
	assert_string_equal(parsed.sd_id[1], "meta");
	assert_true(strncmp(buf, "<22>1 ", 6) == 0);

	event_make(&ev, MSGEVENT_QUOTA_EXCEED, T0, 0);
	format(&opts, &ev, 1);
	assert_int_equal(parsed.pri, 21);		/* mail.notice */
	assert_string_equal(parsed.msgid, "QuotaExceed");

	opts.facility = 16;				/* local0 */
	event_make(&ev, MSGEVENT_QUOTA_WITHIN, T0, 0);
	format(&opts, &ev, 1);
	assert_int_equal(parsed.pri, 134);

	event_make(&ev, MSGEVENT_LOGIN_FAILURE, T0, 0);
	format(&opts, &ev, 1);
	assert_string_equal(parsed.msgid, "vnd.msgeventd.LoginFailure");
}

static void
test_login_exact(void **state)
{
	static const char expected[] =
	    "<22>1 2026-11-30T10:00:00.123456Z mail.example.net msgeventd "
	    "4242 Login [msgevent@32473 user=\"alice\" clientIP=\"192.0.2.1\" "
	    "clientPort=\"50000\" service=\"imap\" "
	    "serverFQDN=\"mail.example.net\" serverDomain=\"imap.example.net\" "
	    "serverPort=\"143\" timestamp=\"2026-11-30T10:00:00.123456Z\" "
	    "vnd.msgeventd.mechanism=\"PLAIN\" vnd.msgeventd.session=\"7\"]"
	    "[meta sequenceId=\"1\"] Login user=alice";
	struct msgevent ev;
	size_t len;

	(void)state;
	/* Nanoseconds are truncated to microseconds. */
	event_make(&ev, MSGEVENT_LOGIN, T0, 123456789);
	/* Set out of order: the output follows MSGEVENT_PARAM_MAP. */
	msgevent_set_uint(&ev, MSGEVENT_P_SESSION, 7);
	msgevent_set_str(&ev, MSGEVENT_P_MECHANISM, "PLAIN");
	msgevent_set_str(&ev, MSGEVENT_P_TIMESTAMP,
	    "2026-11-30T10:00:00.123456Z");
	msgevent_set_uint(&ev, MSGEVENT_P_SERVER_PORT, 143);
	msgevent_set_str(&ev, MSGEVENT_P_SERVER_DOMAIN, "imap.example.net");
	msgevent_set_str(&ev, MSGEVENT_P_SERVER_FQDN, "mail.example.net");
	msgevent_set_str(&ev, MSGEVENT_P_SERVICE, "imap");
	msgevent_set_uint(&ev, MSGEVENT_P_CLIENT_PORT, 50000);
	msgevent_set_str(&ev, MSGEVENT_P_CLIENT_IP, "192.0.2.1");
	msgevent_set_str(&ev, MSGEVENT_P_USER, "alice");
	len = format(&opts_default, &ev, 1);
	assert_int_equal(len, strlen(expected));
	assert_string_equal(buf, expected);
}

/* msgevent_init()'s own timestamp and ev->time agree with the header. */
static void
test_init_timestamp(void **state)
{
	struct msgevent ev;
	const struct sd_param *sp;

	(void)state;
	msgevent_init(&ev, MSGEVENT_LOGOUT);
	format(&opts_default, &ev, 1);
	sp = param_find("timestamp");
	assert_non_null(sp);
	assert_string_equal(sp->value, parsed.timestamp);
}

static void
test_escape_specials(void **state)
{
	const struct sd_param *sp;

	(void)state;
	sp = format_user("a]b", 3);
	assert_string_equal(sp->value, "a]b");
	assert_non_null(strstr(buf, " user=\"a\\]b\""));

	sp = format_user("q\"b\\s]", 6);
	assert_string_equal(sp->value, "q\"b\\s]");
	assert_non_null(strstr(buf, " user=\"q\\\"b\\\\s\\]\""));
	/* TEXT is not structured data: nothing to escape there. */
	assert_string_equal(parsed.text, "Login user=q\"b\\s]");

	sp = format_user("", 0);
	assert_int_equal(sp->len, 0);
	assert_non_null(strstr(buf, " user=\"\""));
}

static void
test_escape_controls(void **state)
{
	const struct sd_param *sp;

	(void)state;
	sp = format_user("a\nb\x7f" "c\r\t", 7);
	assert_string_equal(sp->value, "a#012b#177c#015#011");
	assert_string_equal(parsed.text, "Login user=a#012b#177c#015#011");

	sp = format_user("\0x\x1f", 3);
	assert_string_equal(sp->value, "#000x#037");
	/* '#' itself is not escaped, as in rsyslog. */
	sp = format_user("#012", 4);
	assert_string_equal(sp->value, "#012");
}

static void
test_invalid_utf8(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} t[] = {
		/* overlong '/' : C0 is never a lead byte, 80 is stray */
		{ "a\xC0\xAF" "b", "a\xEF\xBF\xBD\xEF\xBF\xBD" "b" },
		/* overlong 3-byte NUL */
		{ "\xE0\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
		/* surrogate U+D800 */
		{ "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
		/* U+110000 */
		{ "\xF4\x90\x80\x80",
		  "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
		/* truncated at the end: one U+FFFD for the maximal subpart */
		{ "x\xE2\x82", "x\xEF\xBF\xBD" },
		{ "x\xF0\x9F\x98", "x\xEF\xBF\xBD" },
		/* truncated before ASCII */
		{ "\xE2\x82" "a", "\xEF\xBF\xBD" "a" },
		/* bytes that never occur */
		{ "\xF5\xFF", "\xEF\xBF\xBD\xEF\xBF\xBD" },
		/* invalid, then a special: replacement first, escape second */
		{ "\xC3]", "\xEF\xBF\xBD]" },
	};
	const struct sd_param *sp;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sp = format_user(t[i].in, strlen(t[i].in));
		assert_string_equal(sp->value, t[i].out);
	}
}

static void
test_utf8_kept(void **state)
{
	/* 2-, 3- and 4-byte characters, U+FFFD itself, U+10FFFF */
	static const char v[] = "J\xC3\xBCrgen \xE2\x9C\x93 \xF0\x9F\x98\x80 "
	    "\xEF\xBF\xBD \xF4\x8F\xBF\xBF";
	const struct sd_param *sp;

	(void)state;
	sp = format_user(v, strlen(v));
	assert_string_equal(sp->value, v);
	assert_non_null(strstr(buf, v));
	/* TEXT is ASCII: one '?' per character */
	assert_string_equal(parsed.text, "Login user=J?rgen ? ? ? ?");
}

static void
test_text_summary(void **state)
{
	struct msgevent ev;
	char longuser[200];

	(void)state;
	event_make(&ev, MSGEVENT_MESSAGE_APPEND, T0, 0);
	msgevent_set_str(&ev, MSGEVENT_P_USER, "alice");
	msgevent_set_str(&ev, MSGEVENT_P_CLIENT_IP, "192.0.2.1");
	msgevent_set_str(&ev, MSGEVENT_P_MAILBOX_ID,
	    "imap://alice@mail.example.net/INBOX;UIDVALIDITY=1700000000");
	msgevent_set_str(&ev, MSGEVENT_P_UIDSET, "4");
	msgevent_set_str(&ev, MSGEVENT_P_FLAG_NAMES, "\\Seen");
	format(&opts_default, &ev, 1);
	assert_string_equal(parsed.text,
	    "MessageAppend user=alice mailbox=INBOX uidset=4");

	/* A message URI, a nested mailbox, and no user. */
	event_make(&ev, MSGEVENT_MESSAGE_EXPUNGE, T0, 0);
	msgevent_set_str(&ev, MSGEVENT_P_MAILBOX_ID,
	    "imap://bob@mail.example.net/Archive/2026;UIDVALIDITY=5/;UID=9");
	format(&opts_default, &ev, 1);
	assert_string_equal(parsed.text, "MessageExpunge mailbox=Archive/2026");

	/* Not a URL: shown whole. */
	event_make(&ev, MSGEVENT_MAILBOX_CREATE, T0, 0);
	msgevent_set_str(&ev, MSGEVENT_P_MAILBOX_ID, "Drafts");
	format(&opts_default, &ev, 1);
	assert_string_equal(parsed.text, "MailboxCreate mailbox=Drafts");

	/* A long value is capped in TEXT, whole in the structured data. */
	memset(longuser, 'u', sizeof(longuser));
	event_make(&ev, MSGEVENT_LOGIN, T0, 0);
	msgevent_set(&ev, MSGEVENT_P_USER, longuser, sizeof(longuser));
	format(&opts_default, &ev, 1);
	assert_int_equal(param_find("user")->len, sizeof(longuser));
	assert_int_equal(strlen(parsed.text), strlen("Login user=") + 64);
	assert_string_equal(parsed.text + strlen(parsed.text) - 4, "u...");
	assert_null(param_find("vnd.msgeventd.truncated"));
}

static void
test_truncate_longest_first(void **state)
{
	struct out_syslog_opts opts = opts_default;
	static char big[4000];
	const struct sd_param *sp;
	struct msgevent ev;
	size_t i, len;

	(void)state;
	/* 2000 two-byte characters */
	for (i = 0; i < sizeof(big); i += 2)
		memcpy(big + i, "\xC3\xA9", 2);
	event_make(&ev, MSGEVENT_MESSAGE_NEW, T0, 0);
	msgevent_set_str(&ev, MSGEVENT_P_USER, "alice");
	msgevent_set(&ev, MSGEVENT_P_ENVELOPE, big, 2400);
	msgevent_set(&ev, MSGEVENT_P_BODY_STRUCTURE, big, 1500);
	msgevent_set_str(&ev, MSGEVENT_P_UIDSET, "1:5");
	len = format(&opts, &ev, 1);
	assert_true(len <= opts.max_size);
	/* It fills the space, up to the rounding of two cuts. */
	assert_true(len >= opts.max_size - 3);
	sp = param_find("vnd.msgeventd.truncated");
	assert_non_null(sp);
	assert_string_equal(sp->value, "1");
	assert_int_equal(sp->elem, 0);
	/* Short values are whole; the two long ones are cut to one level. */
	assert_string_equal(param_find("user")->value, "alice");
	assert_string_equal(param_find("uidset")->value, "1:5");
	assert_int_equal(param_find("envelope")->len,
	    param_find("bodyStructure")->len);
	assert_true(param_find("envelope")->len % 2 == 0);
	assert_true(param_find("envelope")->len < 1000);
	assert_string_equal(parsed.text, "MessageNew user=alice uidset=1:5");

	/* Only one long value: the other one stays whole. */
	event_make(&ev, MSGEVENT_MESSAGE_NEW, T0, 0);
	msgevent_set(&ev, MSGEVENT_P_ENVELOPE, big, 3001);	/* odd: cut */
	msgevent_set(&ev, MSGEVENT_P_BODY_STRUCTURE, big, 300);
	format(&opts, &ev, 1);
	assert_int_equal(param_find("bodyStructure")->len, 300);
	assert_true(param_find("envelope")->len % 2 == 0);
	assert_non_null(param_find("vnd.msgeventd.truncated"));
}

/*
 * A uidset is cut between its elements only ("1:1516:1" out of
 * "1:1516:1600" would name other messages), flagNames between names.
 */
static void
test_truncate_lists(void **state)
{
	static char set[3200], flags[3000];
	const struct sd_param *sp;
	struct msgevent ev;
	size_t n = 0, f = 0;
	unsigned u;

	(void)state;
	for (u = 1; n < 3000; u += 10)
		n += (size_t)snprintf(set + n, sizeof(set) - n, "%s%u:%u",
		    n > 0 ? "," : "", u, u + 1600);
	for (u = 0; f < 2900; u++)
		f += (size_t)snprintf(flags + f, sizeof(flags) - f,
		    "%s\\Keyword%u", f > 0 ? " " : "", u);
	event_make(&ev, MSGEVENT_FLAGS_SET, T0, 0);
	msgevent_set_str(&ev, MSGEVENT_P_USER, "alice");
	msgevent_set(&ev, MSGEVENT_P_UIDSET, set, n);
	msgevent_set(&ev, MSGEVENT_P_FLAG_NAMES, flags, f);
	format(&opts_default, &ev, 1);
	assert_non_null(param_find("vnd.msgeventd.truncated"));
	sp = param_find("uidset");
	assert_non_null(sp);
	assert_true(sp->len > 0 && sp->len < n);
	assert_memory_equal(sp->value, set, sp->len);
	assert_int_equal(set[sp->len], ',');
	sp = param_find("flagNames");
	assert_non_null(sp);
	assert_true(sp->len > 0 && sp->len < f);
	assert_memory_equal(sp->value, flags, sp->len);
	assert_int_equal(flags[sp->len], ' ');
}

/* A cut never lands inside "#012", "\\]" or a 4-byte character. */
static void
test_truncate_escapes(void **state)
{
	static const char *const unit[] = { "\n", "]", "\xF0\x9F\x98\x80",
	    "\xFF" };
	static const size_t unitlen[] = { 4, 2, 4, 3 };	/* escaped */
	struct out_syslog_opts opts = opts_default;
	static char big[3000];
	const struct sd_param *sp;
	struct msgevent ev;
	size_t u, i, k, n;
	char *esc;

	(void)state;
	for (u = 0; u < 4; u++) {
		n = strlen(unit[u]);
		for (k = 0; k < 8; k++) {
			opts.max_size = OUT_SYSLOG_SIZE_MIN + k;
			for (i = 0; i + n <= sizeof(big); i += n)
				memcpy(big + i, unit[u], n);
			event_make(&ev, MSGEVENT_MESSAGE_NEW, T0, 0);
			msgevent_set(&ev, MSGEVENT_P_ENVELOPE, big, i);
			format(&opts, &ev, 1);
			sp = param_find("envelope");
			assert_non_null(sp);
			/* The raw value in the message: whole units. */
			esc = strstr(buf, "envelope=\"") + 10;
			assert_int_equal((size_t)(strstr(esc,
			    "\" vnd.msgeventd.truncated") - esc) % unitlen[u],
			    0);
		}
	}
}

static void
test_truncated_flag(void **state)
{
	struct msgevent ev;

	(void)state;
	event_make(&ev, MSGEVENT_LOGIN, T0, 0);
	msgevent_set_str(&ev, MSGEVENT_P_USER, "alice");
	ev.truncated = true;
	format(&opts_default, &ev, 1);
	assert_string_equal(param_find("user")->value, "alice");
	assert_non_null(param_find("vnd.msgeventd.truncated"));
	/* The marker is the last parameter of the event's element. */
	assert_string_equal(parsed.param[parsed.nparam - 2].name,
	    "vnd.msgeventd.truncated");
	assert_non_null(strstr(buf,
	    " vnd.msgeventd.truncated=\"1\"][meta sequenceId=\"1\"]"));
}

static void
test_sequence(void **state)
{
	struct msgevent ev;
	const struct sd_param *sp;
	uint32_t seq;
	char want[16];

	(void)state;
	event_make(&ev, MSGEVENT_LOGOUT, T0, 0);
	for (seq = 1; seq <= 3; seq++) {
		format(&opts_default, &ev, seq);
		sp = param_find("sequenceId");
		assert_non_null(sp);
		assert_int_equal(sp->elem, 1);
		snprintf(want, sizeof(want), "%u", (unsigned)seq);
		assert_string_equal(sp->value, want);
	}
	format(&opts_default, &ev, 2147483647u);
	assert_string_equal(param_find("sequenceId")->value, "2147483647");
}

static void
test_hostname_and_sd_id(void **state)
{
	struct out_syslog_opts opts = opts_default;
	struct msgevent ev;
	char host[300];

	(void)state;
	event_make(&ev, MSGEVENT_LOGOUT, T0, 0);
	opts.hostname = NULL;
	format(&opts, &ev, 1);
	assert_string_equal(parsed.hostname, "-");
	opts.hostname = "";
	format(&opts, &ev, 1);
	assert_string_equal(parsed.hostname, "-");
	opts.hostname = "h\xC3\xA9st name";
	format(&opts, &ev, 1);
	assert_string_equal(parsed.hostname, "h??st?name");
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	opts.hostname = host;
	format(&opts, &ev, 1);
	assert_int_equal(strlen(parsed.hostname), 255);

	opts.hostname = "x";
	opts.sd_id = "a b]c\"d=e@1";
	format(&opts, &ev, 1);
	assert_string_equal(parsed.sd_id[0], "a_b_c_d_e@1");
	opts.sd_id = NULL;
	format(&opts, &ev, 1);
	assert_string_equal(parsed.sd_id[0], "msgevent@32473");
}

/* Times with no 4-digit year give the NILVALUE. */
static void
test_timestamp_range(void **state)
{
	struct msgevent ev;

	(void)state;
	event_make(&ev, MSGEVENT_LOGOUT, 0, 999999999);
	format(&opts_default, &ev, 1);
	assert_string_equal(parsed.timestamp, "1970-01-01T00:00:00.999999Z");
	event_make(&ev, MSGEVENT_LOGOUT, 253402300799, 0);
	format(&opts_default, &ev, 1);
	assert_string_equal(parsed.timestamp, "9999-12-31T23:59:59.000000Z");
	event_make(&ev, MSGEVENT_LOGOUT, 253402300800, 0);
	format(&opts_default, &ev, 1);
	assert_string_equal(parsed.timestamp, "-");
	event_make(&ev, MSGEVENT_LOGOUT, -62167219201, 0);
	format(&opts_default, &ev, 1);
	assert_string_equal(parsed.timestamp, "-");
}

/*
 * The worst header (255-byte HOSTNAME, 32-byte SD-ID, 20-digit PROCID,
 * the longest MSGID) with every parameter at the smallest cap: some
 * parameters have to go, and the message still parses.
 */
static void
test_worst_case_min_size(void **state)
{
	struct out_syslog_opts opts = opts_default;
	struct msgevent ev;
	char host[256];
	size_t len;
	unsigned p;

	(void)state;
	memset(host, 'h', 255);
	host[255] = '\0';
	opts.hostname = host;
	opts.sd_id = "abcdefghijklmnopqrstuvwxyz@12345";
	opts.procid = (unsigned long)-1;
	opts.max_size = OUT_SYSLOG_SIZE_MIN;
	event_make(&ev, MSGEVENT_LOGIN_FAILURE, T0, 0);
	for (p = 0; p < MSGEVENT_PARAM_COUNT; p++)
		msgevent_set(&ev, p, "]]]]]]]]]]]]]]]]]]]]", 20);
	len = format(&opts, &ev, 2147483647u);
	assert_true(len <= OUT_SYSLOG_SIZE_MIN);
	assert_non_null(param_find("vnd.msgeventd.truncated"));
	assert_non_null(param_find("sequenceId"));
	assert_true(parsed.nparam < MSGEVENT_PARAM_COUNT + 2);
}

static void
test_nul_terminated(void **state)
{
	struct msgevent ev;
	size_t len;

	(void)state;
	event_make(&ev, MSGEVENT_LOGOUT, T0, 0);
	len = format(&opts_default, &ev, 1);
	assert_int_equal(buf[len], '\0');
}

/* xorshift64*, fixed seed: the same values on every run. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t
rng(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32) % n;
}

/* Random bytes, heavy on what needs escaping or replacing. */
static size_t
random_value(char *v, size_t n)
{
	static const char *const pieces[] = {
		"]", "\"", "\\", "\n", "\r", "\0", "\x7f", "\x1b", "#",
		"\xC3\xA9", "\xE2\x9C\x93", "\xF0\x9F\x98\x80",	/* valid */
		"\xC3", "\xE2\x9C", "\xF0\x9F\x98",		/* partial */
		"\x80", "\xBF", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80",
		"\xFF", " ", "=", "[",
	};
	size_t len = 0, k;
	const char *s;

	while (len < n) {
		if (rng(3) == 0) {
			s = pieces[rng(sizeof(pieces) / sizeof(pieces[0]))];
			k = s[0] == '\0' ? 1 : strlen(s);
			if (len + k > n)
				break;
			memcpy(v + len, s, k);
			len += k;
		} else if (rng(8) == 0)
			v[len++] = (char)rng(256);
		else
			v[len++] = (char)('a' + rng(26));
	}
	return len;
}

static void
test_random_values(void **state)
{
	static const size_t sizes[] = { 480, 2048, 8192 };
	static const size_t lens[] = { 8, 64, 400, 3000 };
	struct out_syslog_opts opts = opts_default;
	static char v[4096], host[300];
	struct msgevent ev;
	size_t s, iter, len, n;
	unsigned p;

	(void)state;
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		opts.max_size = sizes[s];
		for (iter = 0; iter < 400; iter++) {
			event_make(&ev, rng(MSGEVENT_TYPE_COUNT),
			    (time_t)rng(2000000000), (long)rng(1000000000));
			for (p = 0; p < MSGEVENT_PARAM_COUNT; p++) {
				if (rng(2) == 0)
					continue;
				n = random_value(v, rng((uint32_t)
				    lens[rng(4)] + 1));
				msgevent_set(&ev, p, v, n);
			}
			ev.truncated = ev.truncated || rng(10) == 0;
			if (rng(4) == 0) {
				n = random_value(host, rng(sizeof(host) - 1));
				host[n] = '\0';	/* a NUL inside ends it early */
				opts.hostname = host;
			} else
				opts.hostname = "mail.example.net";
			len = format(&opts, &ev, 1 + rng(2147483647u));
			assert_true(len <= sizes[s]);
			if (len < sizes[s])
				assert_int_equal(buf[len], '\0');
			assert_true(parsed.nelem == 2);
			if (ev.truncated)
				assert_non_null(
				    param_find("vnd.msgeventd.truncated"));
		}
	}
}

/* Values that fit come out, unescaped, exactly as set (when valid). */
static void
test_roundtrip(void **state)
{
	static const char *const vals[] = {
		"plain", "a]b", "\"quoted\"", "back\\slash", "[x=\"y\"]",
		"caf\xC3\xA9 \xE2\x82\xAC", "", " lead and trail ",
	};
	const struct sd_param *sp;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		sp = format_user(vals[i], strlen(vals[i]));
		assert_non_null(sp);
		assert_int_equal(sp->len, strlen(vals[i]));
		assert_memory_equal(sp->value, vals[i], sp->len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_pri),
		cmocka_unit_test(test_login_exact),
		cmocka_unit_test(test_init_timestamp),
		cmocka_unit_test(test_escape_specials),
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_text_summary),
		cmocka_unit_test(test_truncate_longest_first),
		cmocka_unit_test(test_truncate_lists),
		cmocka_unit_test(test_truncate_escapes),
		cmocka_unit_test(test_truncated_flag),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_hostname_and_sd_id),
		cmocka_unit_test(test_timestamp_range),
		cmocka_unit_test(test_worst_case_min_size),
		cmocka_unit_test(test_nul_terminated),
		cmocka_unit_test(test_random_values),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
