/*
 * test_pop3_parser.c - the POP3 tokenizer, as transcripts.
 *
 * Each case is the bytes of one direction and the callbacks they must
 * produce, printed one per line:
 *
 *	KEYWORD 0 'USER'		type index 'data' [trunc]
 *	STATUS 0 OK '+OK'		status tokens add the status
 *	BODY 'Subject: x\x0d\x0a'	consecutive on_body spans, joined
 *	BODY_END 0
 *	EOL				on_line_end
 *	ERROR BAD_STATUS @12		the sticky error and its stream offset
 *
 * Bytes outside 0x20-0x7e print as \xNN.  Every case runs whole, split
 * in two at every offset, in three at every pair of offsets (short
 * cases), and byte by byte; all must print the same (http-parser's
 * test_scan, Dovecot's trickle streams).  The callbacks switch modes the
 * way pop3_infer does: a server case lists, in `expect`, what each
 * response is ('S' single-line, 'L' a listing, 'D' a message body),
 * and a +OK to an 'L' or 'D' switches the parser to MODE_LINES or
 * MODE_DATA; a client line "AUTH mechanism" switches the client to
 * MODE_TEXT for `auth_lines` lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../parser/pop3_parser.h"

#define C	POP3_PARSER_CLIENT
#define S	POP3_PARSER_SERVER

#define OUT_MAX		32768	/* printed callbacks of one run */
#define DATA_KEEP	256	/* body bytes printed; longer: a count */
#define TRACE_MAX	1024	/* callback offsets kept per run */
#define SPLIT3_MAX	160	/* cases up to this long get 3-way splits */

struct tcase {
	const char *name;
	enum pop3_parser_dir dir;
	const char *in;
	size_t in_len;		/* 0: strlen(in) */
	size_t line_max;	/* 0: the default */
	const char *expect;	/* server: S, L or D per response */
	unsigned auth_lines;	/* client: TEXT lines after "AUTH mech" */
	const char *want;
};

struct rec {
	struct pop3_parser parser;
	const struct tcase *tc;
	size_t out_len;
	uint64_t data_len;	/* body bytes since the last token */
	uint64_t body_calls;
	size_t ntrace;
	size_t nexpect;		/* responses seen (server) */
	bool auth_kw;		/* this client line's keyword is AUTH */
	bool auth_line;		/* this client line is "AUTH mech" */
	unsigned text_left;	/* client TEXT lines still to come */
	bool failed;
	/* Buffers last: rec_new() clears only what is above. */
	char out[OUT_MAX];
	char data[DATA_KEEP];
	uint64_t trace[TRACE_MAX];
};

static void
out_printf(struct rec *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->out + r->out_len, sizeof(r->out) - r->out_len, fmt,
	    ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(r->out) - r->out_len);
	r->out_len += (size_t)n;
}

static void
out_escaped(struct rec *r, const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	out_printf(r, "'");
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f)
			out_printf(r, "%c", c);
		else
			out_printf(r, "\\x%02x", c);
	}
	out_printf(r, "'");
}

static void
flush_data(struct rec *r)
{
	if (r->data_len == 0)
		return;
	if (r->data_len <= DATA_KEEP) {
		out_printf(r, "BODY ");
		out_escaped(r, r->data, (size_t)r->data_len);
		out_printf(r, "\n");
	} else
		out_printf(r, "BODY %" PRIu64 " bytes\n", r->data_len);
	r->data_len = 0;
}

static void
trace(struct rec *r)
{
	if (r->ntrace < TRACE_MAX)
		r->trace[r->ntrace++] = r->parser.offset;
}

/* Token T's bytes are WORD, ASCII case-insensitively. */
static bool
tok_is(const struct pop3_token *t, const char *word)
{
	return t->len == strlen(word) &&
	    strncasecmp(t->data, word, t->len) == 0;
}

/* What pop3_infer would do at a +OK or -ERR: the next expected kind. */
static void
server_status(struct rec *r, const struct pop3_token *t)
{
	const char *e = r->tc != NULL ? r->tc->expect : NULL;
	char kind = 'S';

	if (t->status == POP3_STATUS_CONTINUE)
		return;
	if (e != NULL && r->nexpect < strlen(e))
		kind = e[r->nexpect];
	r->nexpect++;
	if (t->status != POP3_STATUS_OK)
		return;
	if (kind == 'L')
		pop3_parser_set_mode(&r->parser, POP3_PARSER_MODE_LINES);
	else if (kind == 'D')
		pop3_parser_set_mode(&r->parser, POP3_PARSER_MODE_DATA);
}

static void
on_token(struct pop3_parser *p, const struct pop3_token *t)
{
	static const char *const names[] = {
		[POP3_TOKEN_KEYWORD] = "KEYWORD",
		[POP3_TOKEN_ARGS] = "ARGS",
		[POP3_TOKEN_STATUS] = "STATUS",
		[POP3_TOKEN_TEXT] = "TEXT",
		[POP3_TOKEN_BODY_END] = "BODY_END",
	};
	static const char *const statuses[] = {
		[POP3_STATUS_NONE] = "NONE", [POP3_STATUS_OK] = "OK",
		[POP3_STATUS_ERR] = "ERR", [POP3_STATUS_CONTINUE] = "CONT",
	};
	struct rec *r = p->data;

	assert_ptr_equal(p, &r->parser);
	flush_data(r);
	trace(r);
	out_printf(r, "%s %u", names[t->type], t->index);
	if (t->type == POP3_TOKEN_STATUS)
		out_printf(r, " %s", statuses[t->status]);
	else
		assert_int_equal(t->status, POP3_STATUS_NONE);
	if (t->type == POP3_TOKEN_BODY_END) {
		assert_null(t->data);
		assert_int_equal(t->len, 0);
		assert_int_equal(p->mode, POP3_PARSER_MODE_LINE);
		assert_false(p->in_body);
	} else {
		/* Whole and bounded; NUL fails the parse, so none inside. */
		assert_non_null(t->data);
		assert_true(t->len <= POP3_TOKEN_MAX);
		assert_null(memchr(t->data, '\0', t->len));
		out_printf(r, " ");
		out_escaped(r, t->data, t->len);
		if (t->flags & POP3_TOKEN_F_TRUNCATED)
			out_printf(r, " trunc");
	}
	out_printf(r, "\n");

	if (p->dir == S && t->type == POP3_TOKEN_STATUS)
		server_status(r, t);
	if (p->dir == C && p->mode == POP3_PARSER_MODE_LINE) {
		if (t->type == POP3_TOKEN_KEYWORD)
			r->auth_kw = tok_is(t, "AUTH");
		else if (t->type == POP3_TOKEN_ARGS)
			r->auth_line = r->auth_kw && t->len > 0;
	}
}

static void
on_body(struct pop3_parser *p, const char *data, size_t len)
{
	struct rec *r = p->data;
	size_t keep;

	assert_true(len > 0);
	assert_true(p->in_body);
	assert_int_equal(p->mode, POP3_PARSER_MODE_DATA);
	if (r->data_len < DATA_KEEP) {
		keep = DATA_KEEP - (size_t)r->data_len;
		if (keep > len)
			keep = len;
		memcpy(r->data + r->data_len, data, keep);
	}
	r->data_len += len;
	r->body_calls++;
}

static void
on_line_end(struct pop3_parser *p)
{
	struct rec *r = p->data;

	flush_data(r);
	trace(r);
	out_printf(r, "EOL\n");
	if (p->dir != C || r->tc == NULL)
		return;
	if (p->mode == POP3_PARSER_MODE_TEXT) {
		if (r->text_left > 0 && --r->text_left == 0)
			pop3_parser_set_mode(p, POP3_PARSER_MODE_LINE);
	} else if (r->auth_line && r->tc->auth_lines > 0) {
		pop3_parser_set_mode(p, POP3_PARSER_MODE_TEXT);
		r->text_left = r->tc->auth_lines;
	}
	r->auth_line = r->auth_kw = false;
}

static const struct pop3_parser_callbacks rec_cb = {
	.on_token = on_token,
	.on_body = on_body,
	.on_line_end = on_line_end,
};

static struct rec *
rec_new(const struct tcase *tc)
{
	struct rec *r;

	r = malloc(sizeof(*r));
	assert_non_null(r);
	memset(r, 0, offsetof(struct rec, out));
	r->out[0] = '\0';
	r->tc = tc;
	r->parser.data = r;
	pop3_parser_init(&r->parser, tc->dir, &rec_cb, tc->line_max);
	assert_ptr_equal(r->parser.data, r);
	return r;
}

static size_t
tc_len(const struct tcase *tc)
{
	return tc->in_len != 0 ? tc->in_len : strlen(tc->in);
}

/*
 * Feed [A, B) as one chunk, checking what feed returns.  The chunk is a
 * heap copy, scribbled over and freed after the call: token and body
 * spans point into it, and one used after its chunk would print wrong
 * (or trip ASan) in the split runs.
 */
static void
feed_one(struct rec *r, size_t a, size_t b)
{
	size_t ret, before = r->out_len;
	char *chunk;

	chunk = malloc(b - a + 1);
	assert_non_null(chunk);
	memcpy(chunk, r->tc->in + a, b - a);
	ret = pop3_parser_feed(&r->parser, chunk, b - a);
	memset(chunk, '#', b - a);
	free(chunk);
	if (r->failed) {
		/* Sticky: nothing consumed, nothing reported. */
		assert_int_equal(ret, 0);
		assert_int_equal(r->out_len, before);
		return;
	}
	if (r->parser.error != POP3_PERR_OK) {
		assert_true(r->parser.error_offset >= a);
		assert_int_equal(ret, r->parser.error_offset - a);
		assert_int_equal(r->parser.offset, r->parser.error_offset);
		flush_data(r);
		out_printf(r, "ERROR %s @%" PRIu64 "\n",
		    pop3_parser_error_name(r->parser.error),
		    r->parser.error_offset);
		r->failed = true;
		return;
	}
	assert_int_equal(ret, b - a);
	assert_int_equal(r->parser.offset, b);
}

/* One run of TC with chunks ending at CUTS[0..N-1], then at the end. */
static struct rec *
run(const struct tcase *tc, const size_t *cuts, size_t n)
{
	struct rec *r = rec_new(tc);
	size_t i, a = 0, len = tc_len(tc);

	for (i = 0; i < n; i++) {
		feed_one(r, a, cuts[i]);
		a = cuts[i];
	}
	feed_one(r, a, len);
	flush_data(r);
	return r;
}

static void
compare(const struct tcase *tc, const struct rec *whole, struct rec *r,
    const size_t *cuts, size_t n)
{
	size_t i;

	if (strcmp(r->out, whole->out) == 0 && r->ntrace == whole->ntrace &&
	    memcmp(r->trace, whole->trace,
	    r->ntrace * sizeof(r->trace[0])) == 0) {
		free(r);
		return;
	}
	print_message("case \"%s\" differs when cut at", tc->name);
	for (i = 0; i < n && i < 8; i++)
		print_message(" %zu", cuts[i]);
	print_message("%s\n", n > 8 ? " ..." : "");
	assert_string_equal(r->out, whole->out);
	fail_msg("callback offsets differ");
}

/*
 * Run TC whole and check the transcript, then in every split and
 * compare with the whole run.
 */
static void
check_case(const struct tcase *tc)
{
	struct rec *whole;
	size_t len = tc_len(tc), i, j, *cuts;

	whole = run(tc, NULL, 0);
	if (strcmp(whole->out, tc->want) != 0)
		print_message("case \"%s\"\n", tc->name);
	assert_string_equal(whole->out, tc->want);

	for (i = 1; i < len; i++)
		compare(tc, whole, run(tc, &i, 1), &i, 1);
	if (len <= SPLIT3_MAX) {
		size_t two[2];

		for (i = 1; i < len; i++)
			for (j = i + 1; j < len; j++) {
				two[0] = i;
				two[1] = j;
				compare(tc, whole, run(tc, two, 2), two, 2);
			}
	}
	if (len > 1) {
		cuts = malloc((len - 1) * sizeof(*cuts));
		assert_non_null(cuts);
		for (i = 1; i < len; i++)
			cuts[i - 1] = i;
		compare(tc, whole, run(tc, cuts, len - 1), cuts, len - 1);
		free(cuts);
	}
	free(whole);
}

static void
check_cases(const struct tcase *tcs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		check_case(&tcs[i]);
}

#define CHECK_CASES(t) check_cases((t), sizeof(t) / sizeof((t)[0]))

/* RFC 1939 commands: keyword, then the rest of the line as arguments. */
static void
test_client_commands(void **state)
{
	static const struct tcase tcs[] = {
	{ "user pass", C, "USER alice\r\nPASS secret word\r\n", 0, 0, NULL, 0,
	  "KEYWORD 0 'USER'\nARGS 1 'alice'\nEOL\n"
	  "KEYWORD 0 'PASS'\nARGS 1 'secret word'\nEOL\n" },
	{ "apop", C, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n",
	  0, 0, NULL, 0,
	  "KEYWORD 0 'APOP'\n"
	  "ARGS 1 'mrose c4c9334bac560ecc979e58001b3e22fb'\nEOL\n" },
	{ "shapes", C, "STAT\r\n\r\nLIST \r\n uidl\r\nlist  1\nTOP 1 10\r\n",
	  0, 0, NULL, 0,
	  "KEYWORD 0 'STAT'\nEOL\n"
	  "EOL\n"
	  "KEYWORD 0 'LIST'\nARGS 1 ''\nEOL\n"
	  "KEYWORD 0 ''\nARGS 1 'uidl'\nEOL\n"
	  "KEYWORD 0 'list'\nARGS 1 ' 1'\nEOL\n"
	  "KEYWORD 0 'TOP'\nARGS 1 '1 10'\nEOL\n" },
	{ "bare cr", C, "NO\rOP\r\nRETR 1\r\r\n\r\r\n", 0, 0, NULL, 0,
	  "KEYWORD 0 'NO\\x0dOP'\nEOL\n"
	  "KEYWORD 0 'RETR'\nARGS 1 '1\\x0d'\nEOL\n"
	  "KEYWORD 0 '\\x0d'\nEOL\n" },
	{ "pipelined", C,
	  "USER a\r\nPASS b\r\nSTAT\r\nLIST\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n",
	  0, 0, NULL, 0,
	  "KEYWORD 0 'USER'\nARGS 1 'a'\nEOL\n"
	  "KEYWORD 0 'PASS'\nARGS 1 'b'\nEOL\n"
	  "KEYWORD 0 'STAT'\nEOL\n"
	  "KEYWORD 0 'LIST'\nEOL\n"
	  "KEYWORD 0 'RETR'\nARGS 1 '1'\nEOL\n"
	  "KEYWORD 0 'DELE'\nARGS 1 '1'\nEOL\n"
	  "KEYWORD 0 'QUIT'\nEOL\n" },
	{ "8-bit", C, "USER j\xc3\xbcrgen\r\n", 0, 0, NULL, 0,
	  "KEYWORD 0 'USER'\nARGS 1 'j\\xc3\\xbcrgen'\nEOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* RFC 5034: AUTH, its initial response, and lines read whole after it. */
static void
test_client_auth(void **state)
{
	static const struct tcase tcs[] = {
	{ "auth plain ir", C, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nSTAT\r\n",
	  0, 0, NULL, 0,
	  "KEYWORD 0 'AUTH'\nARGS 1 'PLAIN AGFsaWNlAHNlY3JldA=='\nEOL\n"
	  "KEYWORD 0 'STAT'\nEOL\n" },
	{ "auth plain", C, "AUTH PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\nSTAT\r\n",
	  0, 0, NULL, 1,
	  "KEYWORD 0 'AUTH'\nARGS 1 'PLAIN'\nEOL\n"
	  "TEXT 0 'AGFsaWNlAHNlY3JldA=='\nEOL\n"
	  "KEYWORD 0 'STAT'\nEOL\n" },
	{ "auth login", C, "auth login\r\nYWxpY2U=\r\nc2VjcmV0\r\nQUIT\r\n",
	  0, 0, NULL, 2,
	  "KEYWORD 0 'auth'\nARGS 1 'login'\nEOL\n"
	  "TEXT 0 'YWxpY2U='\nEOL\n"
	  "TEXT 0 'c2VjcmV0'\nEOL\n"
	  "KEYWORD 0 'QUIT'\nEOL\n" },
	{ "auth empty and cancel", C, "AUTH LOGIN\r\n\r\n*\nAUTH\r\n",
	  0, 0, NULL, 2,
	  "KEYWORD 0 'AUTH'\nARGS 1 'LOGIN'\nEOL\n"
	  "TEXT 0 ''\nEOL\n"
	  "TEXT 0 '*'\nEOL\n"
	  "KEYWORD 0 'AUTH'\nEOL\n" },
	{ "text keeps spaces and cr", C, "AUTH X\r\n a\rb \r\nNOOP\r\n",
	  0, 0, NULL, 1,
	  "KEYWORD 0 'AUTH'\nARGS 1 'X'\nEOL\n"
	  "TEXT 0 ' a\\x0db '\nEOL\n"
	  "KEYWORD 0 'NOOP'\nEOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

static void
test_client_errors(void **state)
{
	static const struct tcase tcs[] = {
	{ "nul in args", C, "USER a\0b\r\n", 10, 0, NULL, 0,
	  "KEYWORD 0 'USER'\nERROR BAD_CHAR @6\n" },
	{ "nul in keyword", C, "NOOP\r\nST\0T\r\n", 12, 0, NULL, 0,
	  "KEYWORD 0 'NOOP'\nEOL\nERROR BAD_CHAR @8\n" },
	{ "nul in text", C, "AUTH X\r\na\0\r\n", 12, 0, NULL, 1,
	  "KEYWORD 0 'AUTH'\nARGS 1 'X'\nEOL\nERROR BAD_CHAR @9\n" },
	/* line_max 10: bytes 0-9 of a line pass, the 11th fails. */
	{ "line too long", C, "STAT\r\nLIST 12345678\r\n", 0, 10, NULL, 0,
	  "KEYWORD 0 'STAT'\nEOL\nKEYWORD 0 'LIST'\n"
	  "ERROR LINE_TOO_LONG @16\n" },
	{ "line just fits", C, "LIST 123\r\nNOOP\r\n", 0, 10, NULL, 0,
	  "KEYWORD 0 'LIST'\nARGS 1 '123'\nEOL\nKEYWORD 0 'NOOP'\nEOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* Status lines: RFC 1939 +OK/-ERR, RFC 2449 codes kept in the text. */
static void
test_server_status(void **state)
{
	static const struct tcase tcs[] = {
	{ "greeting and status", S,
	  "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
	  "+OK\r\n-ERR [AUTH] bad\r\n+ok lower\r\n-err\n+OK \r\n",
	  0, 0, NULL, 0,
	  "STATUS 0 OK '+OK'\n"
	  "TEXT 1 'POP3 server ready <1896.697170952@dbc.mtview.ca.us>'\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\n"
	  "STATUS 0 ERR '-ERR'\nTEXT 1 '[AUTH] bad'\nEOL\n"
	  "STATUS 0 OK '+ok'\nTEXT 1 'lower'\nEOL\n"
	  "STATUS 0 ERR '-err'\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\n" },
	{ "continuations", S,
	  "+ \r\n+ VXNlcm5hbWU6\r\n+\r\n+OK Logged in.\r\n", 0, 0, NULL, 0,
	  "STATUS 0 CONT '+'\nEOL\n"
	  "STATUS 0 CONT '+'\nTEXT 1 'VXNlcm5hbWU6'\nEOL\n"
	  "STATUS 0 CONT '+'\nEOL\n"
	  "STATUS 0 OK '+OK'\nTEXT 1 'Logged in.'\nEOL\n" },
	{ "text with cr", S, "+OK a\rb\r\r\n", 0, 0, NULL, 0,
	  "STATUS 0 OK '+OK'\nTEXT 1 'a\\x0db\\x0d'\nEOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* RFC 1939 3: multi-line responses read as lines (listings). */
static void
test_server_lines(void **state)
{
	static const struct tcase tcs[] = {
	{ "capa and uidl", S,
	  "+OK\r\nCAPA\r\nTOP\r\nSASL PLAIN LOGIN\r\n.\r\n"
	  "+OK 2 messages\r\n1 000000016b0d69cc\r\n2 x\r\n.\r\n",
	  0, 0, "LL", 0,
	  "STATUS 0 OK '+OK'\nEOL\n"
	  "TEXT 0 'CAPA'\nEOL\nTEXT 0 'TOP'\nEOL\n"
	  "TEXT 0 'SASL PLAIN LOGIN'\nEOL\nBODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nTEXT 1 '2 messages'\nEOL\n"
	  "TEXT 0 '1 000000016b0d69cc'\nEOL\nTEXT 0 '2 x'\nEOL\n"
	  "BODY_END 0\nEOL\n" },
	{ "stuffing", S,
	  "+OK\r\n..dot\r\n.\r\r\n\r\n.x\r\n..\r\n.\n+OK done\r\n",
	  0, 0, "LS", 0,
	  "STATUS 0 OK '+OK'\nEOL\n"
	  "TEXT 0 '.dot'\nEOL\n"
	  "TEXT 0 '\\x0d'\nEOL\n"
	  "TEXT 0 ''\nEOL\n"
	  "TEXT 0 'x'\nEOL\n"
	  "TEXT 0 '.'\nEOL\n"
	  "BODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nTEXT 1 'done'\nEOL\n" },
	{ "dot cr then text", S, "+OK\r\n.\rab\r\n.\r\n", 0, 0, "L", 0,
	  "STATUS 0 OK '+OK'\nEOL\n"
	  "TEXT 0 '\\x0dab'\nEOL\n"
	  "BODY_END 0\nEOL\n" },
	{ "empty listing", S, "+OK 0 messages\r\n.\r\n-ERR x\r\n+OK\r\n",
	  0, 0, "LLS", 0,
	  "STATUS 0 OK '+OK'\nTEXT 1 '0 messages'\nEOL\nBODY_END 0\nEOL\n"
	  "STATUS 0 ERR '-ERR'\nTEXT 1 'x'\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* RFC 1939 3: message bodies relayed as spans, unstuffed. */
static void
test_server_data(void **state)
{
	static const struct tcase tcs[] = {
	{ "retr", S,
	  "+OK 120 octets\r\nSubject: x\r\n\r\n..dotline\r\nbody\r\n"
	  "...two\r\n.\r\n+OK next\r\n", 0, 0, "DS", 0,
	  "STATUS 0 OK '+OK'\nTEXT 1 '120 octets'\nEOL\n"
	  "BODY 'Subject: x\\x0d\\x0a\\x0d\\x0a.dotline\\x0d\\x0abody"
	  "\\x0d\\x0a..two\\x0d\\x0a'\n"
	  "BODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nTEXT 1 'next'\nEOL\n" },
	{ "dot cr, cr dot, nul", S,
	  "+OK\r\n.\rX\r\na\r.\r\nb\0c\r\n.x\n\n.\r\n", 27, 0, "D", 0,
	  "STATUS 0 OK '+OK'\nEOL\n"
	  "BODY '\\x0dX\\x0d\\x0aa\\x0d.\\x0d\\x0ab\\x00c\\x0d\\x0ax\\x0a"
	  "\\x0a'\n"
	  "BODY_END 0\nEOL\n" },
	{ "empty body", S, "+OK\r\n.\r\n+OK\r\n.\n", 0, 0, "DD", 0,
	  "STATUS 0 OK '+OK'\nEOL\nBODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\nBODY_END 0\nEOL\n" },
	{ "err has no body", S,
	  "-ERR no such message\r\n+OK 5 octets\r\nabc\r\n.\r\n", 0, 0, "DD",
	  0,
	  "STATUS 0 ERR '-ERR'\nTEXT 1 'no such message'\nEOL\n"
	  "STATUS 0 OK '+OK'\nTEXT 1 '5 octets'\nEOL\n"
	  "BODY 'abc\\x0d\\x0a'\nBODY_END 0\nEOL\n" },
	{ "pipelined", S,
	  "+OK 2 320\r\n+OK\r\nx\r\n.\r\n+OK\r\n1 a\r\n.\r\n+OK bye\r\n",
	  0, 0, "SDLS", 0,
	  "STATUS 0 OK '+OK'\nTEXT 1 '2 320'\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\nBODY 'x\\x0d\\x0a'\nBODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\nTEXT 0 '1 a'\nEOL\nBODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nTEXT 1 'bye'\nEOL\n" },
	{ "body lines past line_max", S,
	  "+OK\r\n0123456789012345678901234567890123456789\r\n.\r\n+OK\r\n",
	  0, 8, "D", 0,
	  "STATUS 0 OK '+OK'\nEOL\n"
	  "BODY '0123456789012345678901234567890123456789\\x0d\\x0a'\n"
	  "BODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* Lines that are not responses, and the line limit, in every mode. */
static void
test_server_errors(void **state)
{
	static const struct tcase tcs[] = {
	{ "garbage", S, "HELLO\r\n", 0, 0, NULL, 0,
	  "ERROR BAD_STATUS @0\n" },
	{ "okay", S, "+OK\r\n+OKAY\r\n", 0, 0, NULL, 0,
	  "STATUS 0 OK '+OK'\nEOL\nERROR BAD_STATUS @8\n" },
	{ "error", S, "-ERROR\r\n", 0, 0, NULL, 0,
	  "ERROR BAD_STATUS @4\n" },
	{ "empty line", S, "\r\n", 0, 0, NULL, 0,
	  "ERROR BAD_STATUS @1\n" },
	{ "short word", S, "+O\r\n", 0, 0, NULL, 0,
	  "ERROR BAD_STATUS @3\n" },
	{ "short word sp", S, "-E x\r\n", 0, 0, NULL, 0,
	  "ERROR BAD_STATUS @2\n" },
	{ "cr in word", S, "+OK\rX\r\n", 0, 0, NULL, 0,
	  "ERROR BAD_STATUS @4\n" },
	{ "leading space", S, " +OK\r\n", 0, 0, NULL, 0,
	  "ERROR BAD_STATUS @0\n" },
	{ "unexpected body", S, "+OK\r\nfoo\r\n.\r\n", 0, 0, "S", 0,
	  "STATUS 0 OK '+OK'\nEOL\nERROR BAD_STATUS @5\n" },
	{ "nul in status text", S, "+OK a\0\r\n", 8, 0, NULL, 0,
	  "STATUS 0 OK '+OK'\nERROR BAD_CHAR @5\n" },
	{ "nul in listing", S, "+OK\r\na\0\r\n", 9, 0, "L", 0,
	  "STATUS 0 OK '+OK'\nEOL\nERROR BAD_CHAR @6\n" },
	{ "status line too long", S, "+OK 0123456789abcdef\r\n", 0, 16, NULL,
	  0, "STATUS 0 OK '+OK'\nERROR LINE_TOO_LONG @16\n" },
	{ "listing line too long", S, "+OK\r\n1 0123456789abcdef\r\n.\r\n",
	  0, 16, "L", 0,
	  "STATUS 0 OK '+OK'\nEOL\nERROR LINE_TOO_LONG @21\n" },
	{ "dot line counts", S, "+OK\r\n1 a\r\n.\r\n", 0, 5, "L", 0,
	  "STATUS 0 OK '+OK'\nEOL\nTEXT 0 '1 a'\nEOL\nBODY_END 0\nEOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

static char *
repeat(const char *prefix, int c, size_t len, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + len + sl + 1);

	assert_non_null(s);
	memcpy(s, prefix, pl);
	memset(s + pl, c, len);
	memcpy(s + pl + len, suffix, sl + 1);
	return s;
}

/* Tokens longer than POP3_TOKEN_MAX arrive truncated; parsing goes on. */
static void
test_truncation(void **state)
{
	static const struct {
		enum pop3_parser_dir dir;
		const char *prefix, *suffix, *head, *tail, *expect;
		int c;
	} t[] = {
		{ C, "USER ", "\r\nNOOP\r\n", "KEYWORD 0 'USER'\nARGS 1 '",
		  "' trunc\nEOL\nKEYWORD 0 'NOOP'\nEOL\n", NULL, 'x' },
		{ C, "", " a\r\n", "KEYWORD 0 '",
		  "' trunc\nARGS 1 'a'\nEOL\n", NULL, 'k' },
		{ S, "-ERR ", "\r\n", "STATUS 0 ERR '-ERR'\nTEXT 1 '",
		  "' trunc\nEOL\n", NULL, 't' },
		{ S, "+OK\r\n", "\r\n.\r\n", "STATUS 0 OK '+OK'\nEOL\nTEXT 0 '",
		  "' trunc\nEOL\nBODY_END 0\nEOL\n", "L", 'l' },
	};
	struct tcase tc = { "truncation", C, NULL, 0, 0, NULL, 0, NULL };
	size_t i, hl, n = POP3_TOKEN_MAX + 76;
	char *want, *in;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		in = repeat(t[i].prefix, t[i].c, n, t[i].suffix);
		hl = strlen(t[i].head);
		want = malloc(hl + POP3_TOKEN_MAX + strlen(t[i].tail) + 1);
		assert_non_null(want);
		memcpy(want, t[i].head, hl);
		memset(want + hl, t[i].c, POP3_TOKEN_MAX);
		strcpy(want + hl + POP3_TOKEN_MAX, t[i].tail);
		tc.dir = t[i].dir;
		tc.in = in;
		tc.expect = t[i].expect;
		tc.want = want;
		check_case(&tc);
		free(in);
		free(want);
	}
}

/*
 * "\r\n.\r\n" at the end of bodies of every length from 0 to 6 bytes,
 * back to back, with stuffed lines: every split (check_case) must give
 * the same bodies.
 */
static void
test_body_end_everywhere(void **state)
{
	static const struct tcase tcs[] = {
	{ "short bodies", S,
	  "+OK\r\n.\r\n+OK\r\na\r\n.\r\n+OK\r\n.a\r\n.\r\n"
	  "+OK\r\n..\r\n.\r\n+OK\r\n\r\n\r\n.\r\n+OK\r\n.\r\r\n.\r\n",
	  0, 0, "DDDDDD", 0,
	  "STATUS 0 OK '+OK'\nEOL\nBODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\nBODY 'a\\x0d\\x0a'\nBODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\nBODY 'a\\x0d\\x0a'\nBODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\nBODY '.\\x0d\\x0a'\nBODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\nBODY '\\x0d\\x0a\\x0d\\x0a'\n"
	  "BODY_END 0\nEOL\n"
	  "STATUS 0 OK '+OK'\nEOL\nBODY '\\x0d\\x0d\\x0a'\nBODY_END 0\n"
	  "EOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* After an error nothing is consumed or reported until reset. */
static void
test_error_sticky(void **state)
{
	struct tcase tc = { "sticky", S, "", 0, 0, NULL, 0, NULL };
	struct rec *r;
	const char *msg = NULL;

	(void)state;
	r = rec_new(&tc);
	assert_int_equal(pop3_parser_feed(&r->parser, "+OK hi\r\n", 8), 8);
	assert_int_equal(pop3_parser_feed(&r->parser, "+OK\r\n* x", 8), 5);
	assert_int_equal(pop3_parser_error(&r->parser, &msg),
	    POP3_PERR_BAD_STATUS);
	assert_non_null(strstr(msg, "+OK"));
	assert_int_equal(r->parser.error_offset, 13);
	assert_int_equal(r->parser.offset, 13);
	r->out_len = 0;
	r->out[0] = '\0';
	assert_int_equal(pop3_parser_feed(&r->parser, "+OK\r\n", 5), 0);
	assert_int_equal(r->out_len, 0);
	assert_int_equal(r->parser.error_offset, 13);

	pop3_parser_reset(&r->parser);
	assert_int_equal(pop3_parser_error(&r->parser, NULL), POP3_PERR_OK);
	assert_int_equal(pop3_parser_feed(&r->parser, "-ERR\r\n", 6), 6);
	assert_string_equal(r->out, "STATUS 0 ERR '-ERR'\nEOL\n");
	assert_int_equal(r->parser.offset, 19);
	assert_int_equal(r->parser.lines, 3);
	free(r);
}

static void
test_error_names(void **state)
{
	const char *msg;
	struct pop3_parser p;
	unsigned e;

	(void)state;
	assert_string_equal(pop3_parser_error_name(POP3_PERR_OK), "OK");
	assert_string_equal(pop3_parser_error_name(POP3_PERR_LINE_TOO_LONG),
	    "LINE_TOO_LONG");
	assert_string_equal(pop3_parser_error_name(POP3_PERR_BAD_STATUS),
	    "BAD_STATUS");
	assert_string_equal(pop3_parser_error_name(POP3_PERR_COUNT),
	    "UNKNOWN");
	memset(&p, 0, sizeof(p));
	for (e = 0; e < POP3_PERR_COUNT; e++) {
		p.error = (enum pop3_parser_error)e;
		assert_int_equal(pop3_parser_error(&p, &msg), e);
		assert_non_null(msg);
		assert_true(strlen(msg) > 0);
	}
	p.error = POP3_PERR_LINE_TOO_LONG;
	pop3_parser_error(&p, &msg);
	assert_non_null(strstr(msg, "65536"));
}

/*
 * A 100 MB body fed in 64 KiB chunks: one on_body per chunk (no line
 * starts with a dot), the sizes adding up, the line limit (100) never
 * reached although every body line is 1 KiB.  One buffer is reused.
 */
static void
test_body_100mb(void **state)
{
	static char buf[64 * 1024];
	const uint64_t size = 100 * 1024 * 1024;
	struct tcase tc = { "100mb", S, "", 0, 100, "D", 0, NULL };
	struct rec *r;
	uint64_t fed;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(buf); i += 1024) {
		memset(buf + i, 'x', 1022);
		memcpy(buf + i + 1022, "\r\n", 2);
	}
	r = rec_new(&tc);
	assert_int_equal(pop3_parser_feed(&r->parser, "+OK\r\n", 5), 5);
	assert_true(r->parser.in_body);
	for (fed = 0; fed < size; fed += sizeof(buf))
		assert_int_equal(pop3_parser_feed(&r->parser, buf,
		    sizeof(buf)), sizeof(buf));
	assert_int_equal(r->body_calls, size / sizeof(buf));
	assert_int_equal(r->data_len, size);
	assert_true(r->parser.in_body);
	assert_int_equal(pop3_parser_feed(&r->parser, ".\r\n+OK\r\n", 8), 8);
	assert_false(r->parser.in_body);
	assert_int_equal(r->parser.error, POP3_PERR_OK);
	flush_data(r);
	assert_string_equal(r->out,
	    "STATUS 0 OK '+OK'\nEOL\nBODY 104857600 bytes\nBODY_END 0\n"
	    "EOL\nSTATUS 0 OK '+OK'\nEOL\n");
	assert_int_equal(r->parser.offset, 5 + size + 8);
	assert_int_equal(r->parser.lines, 3);
	free(r);
}

/* set_mode in mid-line applies from the next line. */
static void
test_mode_mid_line(void **state)
{
	struct tcase tc = { "mode", S, "", 0, 0, NULL, 0, NULL };
	struct rec *r;

	(void)state;
	r = rec_new(&tc);
	r->tc = NULL;		/* no automatic switching */
	assert_int_equal(pop3_parser_feed(&r->parser, "+OK 1", 5), 5);
	pop3_parser_set_mode(&r->parser, POP3_PARSER_MODE_DATA);
	assert_true(r->parser.in_body);
	assert_int_equal(pop3_parser_feed(&r->parser, "0\r\n..a\r\n.", 9), 9);
	assert_int_equal(pop3_parser_feed(&r->parser, "\r\n-ERR\r\n", 8), 8);
	pop3_parser_set_mode(&r->parser, POP3_PARSER_MODE_LINES);
	assert_int_equal(pop3_parser_feed(&r->parser, "x\r\n.\r\n", 6), 6);
	flush_data(r);
	assert_string_equal(r->out,
	    "STATUS 0 OK '+OK'\nTEXT 1 '10'\nEOL\n"
	    "BODY '.a\\x0d\\x0a'\nBODY_END 0\nEOL\n"
	    "STATUS 0 ERR '-ERR'\nEOL\n"
	    "TEXT 0 'x'\nEOL\nBODY_END 0\nEOL\n");
	assert_int_equal(r->parser.lines, 5);
	free(r);
}

/* NULL callbacks are allowed. */
static void
test_null_callbacks(void **state)
{
	static const struct pop3_parser_callbacks none = { NULL, NULL, NULL };
	static const char in[] = "+OK x\r\n+ \r\n-ERR\r\n";
	struct pop3_parser p;

	(void)state;
	memset(&p, 0, sizeof(p));
	pop3_parser_init(&p, S, &none, 0);
	assert_int_equal(pop3_parser_feed(&p, in, sizeof(in) - 1),
	    sizeof(in) - 1);
	assert_int_equal(p.lines, 3);
	pop3_parser_set_mode(&p, POP3_PARSER_MODE_DATA);
	assert_int_equal(pop3_parser_feed(&p, "a\r\n.\r\n", 6), 6);
	assert_int_equal(p.lines, 4);
	assert_int_equal(pop3_parser_feed(&p, NULL, 0), 0);
}

/*
 * A PASS argument or SASL line passes through the token scratch: once
 * delivered it must not stay in the parser's memory, whatever the split.
 */
static void
test_scratch_wiped(void **state)
{
	static const struct pop3_parser_callbacks none = { NULL, NULL, NULL };
	static const char in[] =
	    "USER alice\r\nPASS Secr3t-pw with spaces\r\n"
	    "APOP bob Secr3tdigest0123456789abcdef01234\r\n";
	static const char sasl[] = "AGFsaWNlAFNlY3IzdC1zYXNs\r\n";
	struct pop3_parser p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) - 1; i++) {
		memset(&p, 0, sizeof(p));
		pop3_parser_init(&p, C, &none, 0);
		pop3_parser_feed(&p, in, i);
		pop3_parser_feed(&p, in + i, sizeof(in) - 1 - i);
		assert_null(memmem(&p, sizeof(p), "Secr3t", 6));
	}
	for (i = 0; i < sizeof(sasl) - 1; i++) {
		memset(&p, 0, sizeof(p));
		pop3_parser_init(&p, C, &none, 0);
		pop3_parser_set_mode(&p, POP3_PARSER_MODE_TEXT);
		pop3_parser_feed(&p, sasl, i);
		pop3_parser_feed(&p, sasl + i, sizeof(sasl) - 1 - i);
		assert_null(memmem(&p, sizeof(p), "AGFsaWNl", 8));
	}
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_commands),
		cmocka_unit_test(test_client_auth),
		cmocka_unit_test(test_client_errors),
		cmocka_unit_test(test_server_status),
		cmocka_unit_test(test_server_lines),
		cmocka_unit_test(test_server_data),
		cmocka_unit_test(test_server_errors),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_body_end_everywhere),
		cmocka_unit_test(test_error_sticky),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_body_100mb),
		cmocka_unit_test(test_mode_mid_line),
		cmocka_unit_test(test_null_callbacks),
		cmocka_unit_test(test_scratch_wiped),
	};

	return cmocka_run_group_tests_name("pop3_parser", tests, NULL, NULL);
}
