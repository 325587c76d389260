/*
 * test_imap_parser.c - the IMAP tokenizer, as transcripts.
 *
 * Each case is the bytes of one direction and the callbacks they must
 * produce, printed one per line:
 *
 *	ATOM 1/0 'LOGIN'		type index/depth [code] 'data' [trunc]
 *	LIST( 3/0, LIST) 3/0, CODE[ 2/0, CODE] 2/0
 *	LITERAL 2/0 5 nonsync lit8	size, then flags
 *	DATA 'hello'			consecutive on_literal spans, joined
 *	EOL				on_line_end
 *	ERROR LINE_TOO_LONG @100	the sticky error and its stream offset
 *
 * Bytes outside 0x20-0x7e print as \xNN.  Every case runs whole, split
 * in two at every offset, in three at every pair of offsets (short
 * cases), and byte by byte; all must print the same (http-parser's
 * test_scan, Dovecot's trickle streams).  The callbacks also switch
 * modes the way imap_infer does: after an IDLE line the client is read
 * as TEXT until "DONE", after an AUTHENTICATE line for one line.
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

#include "../../parser/imap_parser.h"

#define C	IMAP_PARSER_CLIENT
#define S	IMAP_PARSER_SERVER

#define OUT_MAX		32768	/* printed callbacks of one run */
#define DATA_KEEP	256	/* literal bytes printed; longer: a count */
#define TRACE_MAX	1024	/* callback offsets kept per run */
#define SPLIT3_MAX	160	/* cases up to this long get 3-way splits */

struct tcase {
	const char *name;
	enum imap_parser_dir dir;
	const char *in;
	size_t in_len;		/* 0: strlen(in) */
	size_t line_max;	/* 0: the default */
	size_t cancel_at;	/* literal_cancel() after this byte; 0: no */
	enum {
		CB_NONE,
		CB_CANCEL,	/* literal_cancel() from LITERAL callbacks */
		CB_NOOP,	/* from all others, to no effect */
	} cancel_cb;
	const char *want;
};

/* imap_parser_set_fragments() on in the runs (test_fragments()). */
static bool frag_on;

struct rec {
	struct imap_parser parser;
	const struct tcase *tc;
	size_t out_len;
	uint64_t data_len;	/* literal bytes since the last token */
	uint64_t lit_left;	/* body bytes the last LITERAL announced */
	uint64_t literal_calls;
	size_t ntrace;
	/* imap_infer's mode switches, mimicked */
	enum { P_NONE, P_IDLE, P_AUTH } pending;
	bool switch_modes;	/* do the above (true unless a test says) */
	bool until_done, saw_done;
	bool failed;
	/* Buffers last: rec_new() clears only what is above. */
	char out[OUT_MAX];
	char data[DATA_KEEP];
	/* offsets seen by token and line callbacks: split-invariant too */
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
		out_printf(r, "DATA ");
		out_escaped(r, r->data, (size_t)r->data_len);
		out_printf(r, "\n");
	} else
		out_printf(r, "DATA %" PRIu64 " bytes\n", r->data_len);
	r->data_len = 0;
}

static void
trace(struct rec *r)
{
	if (r->ntrace < TRACE_MAX)
		r->trace[r->ntrace++] = r->parser.offset;
}

/* literal_cancel() at the wrong moment must change nothing. */
static void
cancel_noop(struct imap_parser *p)
{
	struct imap_parser before = *p;

	imap_parser_literal_cancel(p);
	assert_memory_equal(&before, p, sizeof(before));
}

/* Token T's bytes are WORD, ASCII case-insensitively. */
static bool
tok_is(const struct imap_token *t, const char *word)
{
	return t->len == strlen(word) &&
	    strncasecmp(t->data, word, t->len) == 0;
}

/*
 * The status imap_parser.h promises for T: a status word as an atom at
 * index 1, top level, in the server direction; NONE for all else.
 */
static enum imap_status
want_status(const struct imap_parser *p, const struct imap_token *t)
{
	static const char *const words[] = {
		[IMAP_STATUS_OK] = "OK", [IMAP_STATUS_NO] = "NO",
		[IMAP_STATUS_BAD] = "BAD", [IMAP_STATUS_BYE] = "BYE",
		[IMAP_STATUS_PREAUTH] = "PREAUTH",
	};
	unsigned i;

	if (p->dir != IMAP_PARSER_SERVER || t->type != IMAP_TOKEN_ATOM ||
	    t->index != 1 || t->depth != 0 || t->in_code ||
	    (t->flags & IMAP_TOKEN_F_TRUNCATED))
		return IMAP_STATUS_NONE;
	for (i = IMAP_STATUS_OK; i <= IMAP_STATUS_PREAUTH; i++)
		if (tok_is(t, words[i]))
			return (enum imap_status)i;
	return IMAP_STATUS_NONE;
}

static void
on_token(struct imap_parser *p, const struct imap_token *t)
{
	static const char *const names[] = {
		[IMAP_TOKEN_ATOM] = "ATOM",
		[IMAP_TOKEN_QUOTED] = "QUOTED",
		[IMAP_TOKEN_LIST_BEGIN] = "LIST(",
		[IMAP_TOKEN_LIST_END] = "LIST)",
		[IMAP_TOKEN_LITERAL] = "LITERAL",
		[IMAP_TOKEN_CODE_BEGIN] = "CODE[",
		[IMAP_TOKEN_CODE_END] = "CODE]",
		[IMAP_TOKEN_TEXT] = "TEXT",
	};
	struct rec *r = p->data;

	assert_ptr_equal(p, &r->parser);
	assert_int_equal(r->lit_left, 0);
	flush_data(r);
	trace(r);
	out_printf(r, "%s %u/%u%s", names[t->type], t->index, t->depth,
	    t->in_code ? " code" : "");
	switch (t->type) {
	case IMAP_TOKEN_ATOM:
	case IMAP_TOKEN_QUOTED:
	case IMAP_TOKEN_TEXT:
		/* Whole and bounded; NUL fails the parse, so none inside. */
		assert_non_null(t->data);
		assert_true(t->len <= IMAP_TOKEN_MAX);
		assert_null(memchr(t->data, '\0', t->len));
		out_printf(r, " ");
		out_escaped(r, t->data, t->len);
		if (t->flags & IMAP_TOKEN_F_TRUNCATED)
			out_printf(r, " trunc");
		if (t->flags & IMAP_TOKEN_F_MORE)
			out_printf(r, " more");
		if (t->flags & IMAP_TOKEN_F_PART)
			out_printf(r, " part");
		/* fragments: atoms only, full but the last, never cut */
		if (t->flags & (IMAP_TOKEN_F_MORE | IMAP_TOKEN_F_PART)) {
			assert_true(p->frag);
			assert_int_equal(t->type, IMAP_TOKEN_ATOM);
			assert_false(t->flags & IMAP_TOKEN_F_TRUNCATED);
			assert_true(t->len > 0);
		}
		if (t->flags & IMAP_TOKEN_F_MORE)
			assert_int_equal(t->len, IMAP_TOKEN_MAX);
		if (p->frag && t->type == IMAP_TOKEN_ATOM)
			assert_false(t->flags & IMAP_TOKEN_F_TRUNCATED);
		break;
	case IMAP_TOKEN_LITERAL:
		assert_null(t->data);
		out_printf(r, " %" PRIu64, t->literal_size);
		if (t->flags & IMAP_TOKEN_F_NONSYNC)
			out_printf(r, " nonsync");
		if (t->flags & IMAP_TOKEN_F_LITERAL8)
			out_printf(r, " lit8");
		assert_int_equal(p->in_literal, t->literal_size > 0);
		r->lit_left = t->literal_size;
		break;
	default:
		assert_null(t->data);
		assert_int_equal(t->flags, 0);
		break;
	}
	out_printf(r, "\n");
	assert_int_equal(t->status, want_status(p, t));

	if (t->type == IMAP_TOKEN_ATOM && t->index == 1 && t->depth == 0 &&
	    p->mode == IMAP_PARSER_MODE_NORMAL) {
		if (tok_is(t, "IDLE"))
			r->pending = P_IDLE;
		else if (tok_is(t, "AUTHENTICATE"))
			r->pending = P_AUTH;
	}
	if (t->type == IMAP_TOKEN_TEXT && p->mode == IMAP_PARSER_MODE_TEXT &&
	    tok_is(t, "DONE"))
		r->saw_done = true;
	if (r->tc != NULL && r->tc->cancel_cb != CB_NONE) {
		if (t->type != IMAP_TOKEN_LITERAL)
			cancel_noop(p);
		else if (r->tc->cancel_cb == CB_CANCEL) {
			imap_parser_literal_cancel(p);
			r->lit_left = 0;
		}
	}
}

static void
on_literal(struct imap_parser *p, const char *data, size_t len)
{
	struct rec *r = p->data;
	size_t keep;

	assert_true(len > 0);
	assert_true(len <= r->lit_left);
	r->lit_left -= len;
	assert_int_equal(p->in_literal, r->lit_left > 0);
	if (r->data_len < DATA_KEEP) {
		keep = DATA_KEEP - (size_t)r->data_len;
		if (keep > len)
			keep = len;
		memcpy(r->data + r->data_len, data, keep);
	}
	r->data_len += len;
	r->literal_calls++;
	if (r->tc != NULL && r->tc->cancel_cb != CB_NONE)
		cancel_noop(p);
}

static void
on_line_end(struct imap_parser *p)
{
	struct rec *r = p->data;

	assert_int_equal(r->lit_left, 0);
	assert_false(p->in_literal);
	flush_data(r);
	trace(r);
	out_printf(r, "EOL\n");
	if (r->tc != NULL && r->tc->cancel_cb != CB_NONE)
		cancel_noop(p);
	if (!r->switch_modes)
		;
	else if (r->pending == P_IDLE) {
		imap_parser_set_mode(p, IMAP_PARSER_MODE_TEXT);
		r->until_done = true;
	} else if (r->pending == P_AUTH) {
		imap_parser_set_mode(p, IMAP_PARSER_MODE_TEXT);
		r->until_done = false;
	} else if (p->mode == IMAP_PARSER_MODE_TEXT &&
	    (!r->until_done || r->saw_done))
		imap_parser_set_mode(p, IMAP_PARSER_MODE_NORMAL);
	r->pending = P_NONE;
	r->saw_done = false;
}

static const struct imap_parser_callbacks rec_cb = {
	.on_token = on_token,
	.on_literal = on_literal,
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
	r->switch_modes = true;
	r->parser.data = r;
	imap_parser_init(&r->parser, tc->dir, &rec_cb, tc->line_max);
	if (frag_on)
		imap_parser_set_fragments(&r->parser, true);
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
 * heap copy, scribbled over and freed after the call: token spans point
 * into it, and one used after its chunk would print wrong (or trip
 * ASan) in the split runs.
 */
static void
feed_one(struct rec *r, size_t a, size_t b)
{
	size_t ret, before = r->out_len;
	char *chunk;

	chunk = malloc(b - a + 1);
	assert_non_null(chunk);
	memcpy(chunk, r->tc->in + a, b - a);
	ret = imap_parser_feed(&r->parser, chunk, b - a);
	memset(chunk, '#', b - a);
	free(chunk);
	if (r->failed) {
		/* Sticky: nothing consumed, nothing reported. */
		assert_int_equal(ret, 0);
		assert_int_equal(r->out_len, before);
		return;
	}
	if (r->parser.error != IMAP_PERR_OK) {
		assert_true(r->parser.error_offset >= a);
		assert_int_equal(ret, r->parser.error_offset - a);
		assert_int_equal(r->parser.offset, r->parser.error_offset);
		flush_data(r);
		out_printf(r, "ERROR %s @%" PRIu64 "\n",
		    imap_parser_error_name(r->parser.error),
		    r->parser.error_offset);
		r->failed = true;
		return;
	}
	assert_int_equal(ret, b - a);
	assert_int_equal(r->parser.offset, b);
}

/* What imap_infer does when the server refuses a literal. */
static void
cancel(struct rec *r)
{
	imap_parser_literal_cancel(&r->parser);
	if (!r->parser.in_literal)
		r->lit_left = 0;
}

static void
feed_span(struct rec *r, size_t a, size_t b)
{
	size_t at = r->tc->cancel_at;

	if (at > a && at < b) {
		feed_one(r, a, at);
		cancel(r);
		feed_one(r, at, b);
	} else {
		feed_one(r, a, b);
		if (at != 0 && at == b)
			cancel(r);
	}
}

/* One run of TC with chunks ending at CUTS[0..N-1], then at the end. */
static struct rec *
run(const struct tcase *tc, const size_t *cuts, size_t n)
{
	struct rec *r = rec_new(tc);
	size_t i, a = 0, len = tc_len(tc);

	for (i = 0; i < n; i++) {
		feed_span(r, a, cuts[i]);
		a = cuts[i];
	}
	feed_span(r, a, len);
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

/* Client commands: LOGIN, SELECT, quoted strings. */
static void
test_client_login(void **state)
{
	static const struct tcase tcs[] = {
	{ "login quoted", C,
	  "a001 LOGIN \"alice\" \"pa\\\"ss\\\\word\"\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a001'\n"
	  "ATOM 1/0 'LOGIN'\n"
	  "QUOTED 2/0 'alice'\n"
	  "QUOTED 3/0 'pa\"ss\\word'\n"
	  "EOL\n" },
	{ "login literals", C,
	  "a002 LOGIN {5}\r\nalice {6+}\r\nsecret\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a002'\n"
	  "ATOM 1/0 'LOGIN'\n"
	  "LITERAL 2/0 5\n"
	  "DATA 'alice'\n"
	  "LITERAL 3/0 6 nonsync\n"
	  "DATA 'secret'\n"
	  "EOL\n" },
	{ "quoted utf-8 and escapes", C,
	  "a SELECT \"Entw\xc3\xbc" "rfe\" \"\\\\\" \"\" \"a\\b\"\r\n",
	  0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'SELECT'\n"
	  "QUOTED 2/0 'Entw\\xc3\\xbcrfe'\n"
	  "QUOTED 3/0 '\\'\n"
	  "QUOTED 4/0 ''\n"
	  "QUOTED 5/0 'ab'\n"
	  "EOL\n" },
	{ "zero-length literals", C,
	  "a LOGIN {0}\r\n {0}\r\n\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'LOGIN'\n"
	  "LITERAL 2/0 0\n"
	  "LITERAL 3/0 0\n"
	  "EOL\n" },
	{ "atoms with odd bytes", C,
	  "a LIST \"\" ]x% \\* \xff~a\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'LIST'\n"
	  "QUOTED 2/0 ''\n"
	  "ATOM 3/0 ']x%'\n"
	  "ATOM 4/0 '\\*'\n"
	  "ATOM 5/0 '\\xff~a'\n"
	  "EOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* APPEND: flags, date, {n}, {n+}, ~{n}, CATENATE. */
static void
test_client_append(void **state)
{
	static const struct tcase tcs[] = {
	{ "append flags date literal", C,
	  "a APPEND INBOX (\\Seen $Forwarded) \"12-Jan-2024 10:00:00 +0000\""
	  " {5}\r\nhello\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'APPEND'\n"
	  "ATOM 2/0 'INBOX'\n"
	  "LIST( 3/0\n"
	  "ATOM 3/1 '\\Seen'\n"
	  "ATOM 3/1 '$Forwarded'\n"
	  "LIST) 3/0\n"
	  "QUOTED 4/0 '12-Jan-2024 10:00:00 +0000'\n"
	  "LITERAL 5/0 5\n"
	  "DATA 'hello'\n"
	  "EOL\n" },
	{ "multiappend nonsync", C,
	  "a APPEND INBOX {3+}\r\nabc (\\Flagged) {2+}\r\nde\r\n",
	  0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'APPEND'\n"
	  "ATOM 2/0 'INBOX'\n"
	  "LITERAL 3/0 3 nonsync\n"
	  "DATA 'abc'\n"
	  "LIST( 4/0\n"
	  "ATOM 4/1 '\\Flagged'\n"
	  "LIST) 4/0\n"
	  "LITERAL 5/0 2 nonsync\n"
	  "DATA 'de'\n"
	  "EOL\n" },
	{ "append literal8", C,
	  "a APPEND INBOX ~{6}\r\n\0\r\n)\x01( ~{0+}\r\n\r\n", 37, 0, 0,
	  CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'APPEND'\n"
	  "ATOM 2/0 'INBOX'\n"
	  "LITERAL 3/0 6 lit8\n"
	  "DATA '\\x00\\x0d\\x0a)\\x01('\n"
	  "LITERAL 4/0 0 nonsync lit8\n"
	  "EOL\n" },
	{ "catenate", C,
	  "a APPEND INBOX CATENATE (URL \"/INBOX;UID=1\" TEXT {3}\r\nabc)\n",
	  0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'APPEND'\n"
	  "ATOM 2/0 'INBOX'\n"
	  "ATOM 3/0 'CATENATE'\n"
	  "LIST( 4/0\n"
	  "ATOM 4/1 'URL'\n"
	  "QUOTED 4/1 '/INBOX;UID=1'\n"
	  "ATOM 4/1 'TEXT'\n"
	  "LITERAL 4/1 3\n"
	  "DATA 'abc'\n"
	  "LIST) 4/0\n"
	  "EOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* FETCH items with sections are one atom each. */
static void
test_client_fetch(void **state)
{
	static const struct tcase tcs[] = {
	{ "uid fetch section", C,
	  "a UID FETCH 1:*,5 (UID FLAGS"
	  " BODY.PEEK[HEADER.FIELDS (From Subject)]<0.10>)\r\n",
	  0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'UID'\n"
	  "ATOM 2/0 'FETCH'\n"
	  "ATOM 3/0 '1:*,5'\n"
	  "LIST( 4/0\n"
	  "ATOM 4/1 'UID'\n"
	  "ATOM 4/1 'FLAGS'\n"
	  "ATOM 4/1 'BODY.PEEK[HEADER.FIELDS (From Subject)]<0.10>'\n"
	  "LIST) 4/0\n"
	  "EOL\n" },
	{ "section with quoted names", C,
	  "a FETCH 1 BODY[HEADER.FIELDS (\"X]Y\" \"a\\\"b\")] BODY[]\r\n",
	  0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'FETCH'\n"
	  "ATOM 2/0 '1'\n"
	  "ATOM 3/0 'BODY[HEADER.FIELDS (\"X]Y\" \"a\\\"b\")]'\n"
	  "ATOM 4/0 'BODY[]'\n"
	  "EOL\n" },
	{ "unclosed section ends with the line", C,
	  "a FETCH 1 BODY[1 (x\r\nb NOOP\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'FETCH'\n"
	  "ATOM 2/0 '1'\n"
	  "ATOM 3/0 'BODY[1 (x'\n"
	  "EOL\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "EOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* Line ends: pipelining, bare LF, empty lines, bare CR. */
static void
test_client_lines(void **state)
{
	static const struct tcase tcs[] = {
	{ "pipelined", C,
	  "a NOOP\r\nb CHECK\r\nc LOGOUT\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "EOL\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'CHECK'\n"
	  "EOL\n"
	  "ATOM 0/0 'c'\n"
	  "ATOM 1/0 'LOGOUT'\n"
	  "EOL\n" },
	{ "bare LF", C,
	  "a NOOP\nb LOGIN x \"y\"\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "EOL\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'LOGIN'\n"
	  "ATOM 2/0 'x'\n"
	  "QUOTED 3/0 'y'\n"
	  "EOL\n" },
	{ "empty lines and extra spaces", C,
	  "\r\n\n  a   NOOP  \r\n", 0, 0, 0, CB_NONE,
	  "EOL\n"
	  "EOL\n"
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "EOL\n" },
	{ "bare CR is an ordinary byte", C,
	  "a NO\rOP \r\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'NO\\x0dOP'\n"
	  "ATOM 2/0 '\\x0d'\n"
	  "EOL\n" },
	{ "CR in quoted", C,
	  "a X \"b\rc\" \"\\\r\"\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "QUOTED 2/0 'b\\x0dc'\n"
	  "QUOTED 3/0 '\\x0d'\n"
	  "EOL\n" },
	{ "unterminated quoted is dropped", C,
	  "a X \"abc\r\nb \"\\\nc NOOP\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "EOL\n"
	  "ATOM 0/0 'b'\n"
	  "EOL\n"
	  "ATOM 0/0 'c'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "EOL\n" },
	{ "unclosed list ends with the line", C,
	  "a STORE 1 +FLAGS (\\Seen\r\nb NOOP\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'STORE'\n"
	  "ATOM 2/0 '1'\n"
	  "ATOM 3/0 '+FLAGS'\n"
	  "LIST( 4/0\n"
	  "ATOM 4/1 '\\Seen'\n"
	  "EOL\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "EOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* TEXT mode switched from on_line_end: IDLE/DONE, AUTHENTICATE. */
static void
test_client_text_mode(void **state)
{
	static const struct tcase tcs[] = {
	{ "idle done", C,
	  "a IDLE\r\nDONE\r\nb NOOP\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'IDLE'\n"
	  "EOL\n"
	  "TEXT 0/0 'DONE'\n"
	  "EOL\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "EOL\n" },
	{ "authenticate plain", C,
	  "a AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n"
	  "b LOGIN {1}\r\nx y\r\n",
	  0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'AUTHENTICATE'\n"
	  "ATOM 2/0 'PLAIN'\n"
	  "EOL\n"
	  "TEXT 0/0 'AGFsaWNlAHNlY3JldA=='\n"
	  "EOL\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'LOGIN'\n"
	  "LITERAL 2/0 1\n"
	  "DATA 'x'\n"
	  "ATOM 3/0 'y'\n"
	  "EOL\n" },
	{ "text mode: no literals, empty line kept", C,
	  "a AUTHENTICATE X\r\nfoo {3}\r\nb AUTHENTICATE X\n\nc (x\r\n",
	  0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'AUTHENTICATE'\n"
	  "ATOM 2/0 'X'\n"
	  "EOL\n"
	  "TEXT 0/0 'foo {3}'\n"
	  "EOL\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'AUTHENTICATE'\n"
	  "ATOM 2/0 'X'\n"
	  "EOL\n"
	  "TEXT 0/0 ''\n"
	  "EOL\n"
	  "ATOM 0/0 'c'\n"
	  "LIST( 1/0\n"
	  "ATOM 1/1 'x'\n"
	  "EOL\n" },
	{ "idle: text until DONE", C,
	  "a IDLE\r\n(x\r\n\r\ndone\r\n)\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'IDLE'\n"
	  "EOL\n"
	  "TEXT 0/0 '(x'\n"
	  "EOL\n"
	  "TEXT 0/0 ''\n"
	  "EOL\n"
	  "TEXT 0/0 'done'\n"
	  "EOL\n"
	  "ERROR BAD_NESTING @20\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* The server refused a synchronizing literal: imap_parser_literal_cancel. */
static void
test_client_literal_cancel(void **state)
{
	static const struct tcase tcs[] = {
	{ "cancel between feeds", C,
	  "a APPEND INBOX {5}\r\nb NOOP\r\n", 0, 0, 20, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'APPEND'\n"
	  "ATOM 2/0 'INBOX'\n"
	  "LITERAL 3/0 5\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "EOL\n" },
	{ "cancel from the LITERAL callback", C,
	  "a APPEND INBOX {5}\r\nb NOOP\r\n", 0, 0, 0, CB_CANCEL,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'APPEND'\n"
	  "ATOM 2/0 'INBOX'\n"
	  "LITERAL 3/0 5\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "EOL\n" },
	{ "cancel of a {0} literal", C,
	  "a APPEND INBOX {0}\r\nb NOOP\r\n", 0, 0, 20, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'APPEND'\n"
	  "ATOM 2/0 'INBOX'\n"
	  "LITERAL 3/0 0\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "EOL\n" },
	{ "no cancel: {0} literal continues the line", C,
	  "a APPEND INBOX {0}\r\nb NOOP\r\n", 0, 0, 0, CB_NOOP,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'APPEND'\n"
	  "ATOM 2/0 'INBOX'\n"
	  "LITERAL 3/0 0\n"
	  "ATOM 4/0 'b'\n"
	  "ATOM 5/0 'NOOP'\n"
	  "EOL\n" },
	{ "cancel from callbacks after {0} does nothing", C,
	  "a APPEND INBOX {0}\r\n x {1}\r\nb NOOP\r\nc {0}\r\n\r\n",
	  0, 0, 0, CB_CANCEL,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'APPEND'\n"
	  "ATOM 2/0 'INBOX'\n"
	  "LITERAL 3/0 0\n"
	  "ATOM 0/0 'x'\n"
	  "LITERAL 1/0 1\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "EOL\n"
	  "ATOM 0/0 'c'\n"
	  "LITERAL 1/0 0\n"
	  "EOL\n" },
	{ "cancel after a body byte does nothing", C,
	  "a APPEND INBOX {5}\r\nhello\r\n", 0, 0, 21, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'APPEND'\n"
	  "ATOM 2/0 'INBOX'\n"
	  "LITERAL 3/0 5\n"
	  "DATA 'hello'\n"
	  "EOL\n" },
	{ "cancel mid-line does nothing", C,
	  "a APPEND INBOX {5}\r\nhello\r\n", 0, 0, 9, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'APPEND'\n"
	  "ATOM 2/0 'INBOX'\n"
	  "LITERAL 3/0 5\n"
	  "DATA 'hello'\n"
	  "EOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* Errors in transcripts: the offset is the failing byte's. */
static void
test_client_errors(void **state)
{
	static const struct tcase tcs[] = {
	{ "NUL byte", C, "a NO\0OP\r\n", 9, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ERROR BAD_CHAR @4\n" },
	{ "NUL in quoted", C, "a \"x\0\"\r\n", 8, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ERROR BAD_CHAR @4\n" },
	{ "NUL between tokens", C, "a\r\n\0", 4, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "EOL\n"
	  "ERROR BAD_CHAR @3\n" },
	{ "unbalanced )", C, "a X ())\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "LIST( 2/0\n"
	  "LIST) 2/0\n"
	  "ERROR BAD_NESTING @6\n" },
	{ "literal size overflow", C,
	  "a X {99999999999999999999999}\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "ERROR LITERAL_TOO_BIG @24\n" },
	{ "literal size 2^64 overflows", C,
	  "a X {18446744073709551616}\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "ERROR LITERAL_TOO_BIG @24\n" },
	{ "literal size 2^64-1 fits", C,
	  "a X {18446744073709551615}\r\nabc", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "LITERAL 2/0 18446744073709551615\n"
	  "DATA 'abc'\n" },
	{ "literal: letter in size", C, "a X {5x}\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "ERROR BAD_LITERAL @6\n" },
	{ "literal: empty size", C, "a X {}\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "ERROR BAD_LITERAL @5\n" },
	{ "literal: byte after }", C, "a X {5} \r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "ERROR BAD_LITERAL @7\n" },
	{ "literal: {n-} is not accepted", C, "a X {5-}\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "ERROR BAD_LITERAL @6\n" },
	{ "literal: CR without LF", C, "a X ~{5}\rx", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "ERROR BAD_LITERAL @9\n" },
	{ "literal: NUL in size", C, "a X {5\0}\r\n", 10, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'X'\n"
	  "ERROR BAD_CHAR @6\n" },
	{ "line too long: 101 bytes, limit 100", C,
	  "a NOOP 45678901234567890123456789012345678901234567890123456789"
	  "012345678901234567890123456789012345\r\n", 0, 100, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "ERROR LINE_TOO_LONG @100\n" },
	{ "line of 100 bytes, limit 100", C,
	  "a NOOP 45678901234567890123456789012345678901234567890123456789"
	  "01234567890123456789012345678901234\r\nb X\r\n", 0, 100, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'NOOP'\n"
	  "ATOM 2/0 '45678901234567890123456789012345678901234567890123456789"
	  "01234567890123456789012345678901234'\n"
	  "EOL\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'X'\n"
	  "EOL\n" },
	{ "line limit counts literal headers, not bodies", C,
	  "a {30}\r\n012345678901234567890123456789 b\r\n"
	  "c {1}\r\nxdefghijklm\r\n",
	  0, 16, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "LITERAL 1/0 30\n"
	  "DATA '012345678901234567890123456789'\n"
	  "ATOM 2/0 'b'\n"
	  "EOL\n"
	  "ATOM 0/0 'c'\n"
	  "LITERAL 1/0 1\n"
	  "DATA 'x'\n"
	  "ERROR LINE_TOO_LONG @59\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* Server: greeting, tagged completions, response codes. */
static void
test_server_resp_text(void **state)
{
	static const struct tcase tcs[] = {
	{ "greeting", S,
	  "* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n",
	  0, 0, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'OK'\n"
	  "CODE[ 2/0\n"
	  "ATOM 2/1 code 'CAPABILITY'\n"
	  "ATOM 2/1 code 'IMAP4rev1'\n"
	  "ATOM 2/1 code 'LITERAL+'\n"
	  "ATOM 2/1 code 'AUTH=PLAIN'\n"
	  "CODE] 2/0\n"
	  "TEXT 3/0 'Dovecot ready.'\n"
	  "EOL\n" },
	{ "appenduid", S,
	  "a OK [APPENDUID 1 2] Append completed.\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'OK'\n"
	  "CODE[ 2/0\n"
	  "ATOM 2/1 code 'APPENDUID'\n"
	  "ATOM 2/1 code '1'\n"
	  "ATOM 2/1 code '2'\n"
	  "CODE] 2/0\n"
	  "TEXT 3/0 'Append completed.'\n"
	  "EOL\n" },
	{ "copyuid", S,
	  "a3 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n", 0, 0, 0,
	  CB_NONE,
	  "ATOM 0/0 'a3'\n"
	  "ATOM 1/0 'OK'\n"
	  "CODE[ 2/0\n"
	  "ATOM 2/1 code 'COPYUID'\n"
	  "ATOM 2/1 code '38505'\n"
	  "ATOM 2/1 code '304,319:320'\n"
	  "ATOM 2/1 code '3956:3958'\n"
	  "CODE] 2/0\n"
	  "TEXT 3/0 'Done'\n"
	  "EOL\n" },
	{ "permanentflags", S,
	  "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
	  0, 0, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'OK'\n"
	  "CODE[ 2/0\n"
	  "ATOM 2/1 code 'PERMANENTFLAGS'\n"
	  "LIST( 2/1 code\n"
	  "ATOM 2/2 code '\\Deleted'\n"
	  "ATOM 2/2 code '\\Seen'\n"
	  "ATOM 2/2 code '\\*'\n"
	  "LIST) 2/1 code\n"
	  "CODE] 2/0\n"
	  "TEXT 3/0 'Limited'\n"
	  "EOL\n" },
	{ "[ inside text, spaces kept", S,
	  "* OK hello [not a code]\r\n"
	  "a NO  [x] y\r\n"
	  "* BYE [ALERT]  bye (now\r\n"
	  "a OK [READ-WRITE]\r\n"
	  "* ok [alert]x\r\n"
	  "b BAD \r\n",
	  0, 0, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'OK'\n"
	  "TEXT 2/0 'hello [not a code]'\n"
	  "EOL\n"
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'NO'\n"
	  "TEXT 2/0 ' [x] y'\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'BYE'\n"
	  "CODE[ 2/0\n"
	  "ATOM 2/1 code 'ALERT'\n"
	  "CODE] 2/0\n"
	  "TEXT 3/0 ' bye (now'\n"
	  "EOL\n"
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'OK'\n"
	  "CODE[ 2/0\n"
	  "ATOM 2/1 code 'READ-WRITE'\n"
	  "CODE] 2/0\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'ok'\n"
	  "CODE[ 2/0\n"
	  "ATOM 2/1 code 'alert'\n"
	  "CODE] 2/0\n"
	  "TEXT 3/0 'x'\n"
	  "EOL\n"
	  "ATOM 0/0 'b'\n"
	  "ATOM 1/0 'BAD'\n"
	  "EOL\n" },
	{ "status without text, unclosed code", S,
	  "* OK [ALERT\r\na BAD\r\n* PREAUTH\n* BYE\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'OK'\n"
	  "CODE[ 2/0\n"
	  "ATOM 2/1 code 'ALERT'\n"
	  "EOL\n"
	  "ATOM 0/0 'a'\n"
	  "ATOM 1/0 'BAD'\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'PREAUTH'\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'BYE'\n"
	  "EOL\n" },
	{ "vendor code text", S,
	  "* NO [WEBALERT https://x/a)b{1}] see {3} (x\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'NO'\n"
	  "CODE[ 2/0\n"
	  "ATOM 2/1 code 'WEBALERT'\n"
	  "ATOM 2/1 code 'https://x/a)b{1}'\n"
	  "CODE] 2/0\n"
	  "TEXT 3/0 'see {3} (x'\n"
	  "EOL\n" },
	{ "status word elsewhere is an atom", S,
	  "* 2 OK\r\n* LIST (OK) \"/\" OK\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 '2'\n"
	  "ATOM 2/0 'OK'\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'LIST'\n"
	  "LIST( 2/0\n"
	  "ATOM 2/1 'OK'\n"
	  "LIST) 2/0\n"
	  "QUOTED 3/0 '/'\n"
	  "ATOM 4/0 'OK'\n"
	  "EOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* Server: "+" continuations. */
static void
test_server_continuation(void **state)
{
	static const struct tcase tcs[] = {
	{ "continuations", S,
	  "+ idling\r\n+ \r\n+\r\n+ dGVzdA==\r\n+  two [x] (\r\n+\n",
	  0, 0, 0, CB_NONE,
	  "ATOM 0/0 '+'\n"
	  "TEXT 1/0 'idling'\n"
	  "EOL\n"
	  "ATOM 0/0 '+'\n"
	  "EOL\n"
	  "ATOM 0/0 '+'\n"
	  "EOL\n"
	  "ATOM 0/0 '+'\n"
	  "TEXT 1/0 'dGVzdA=='\n"
	  "EOL\n"
	  "ATOM 0/0 '+'\n"
	  "TEXT 1/0 ' two [x] ('\n"
	  "EOL\n"
	  "ATOM 0/0 '+'\n"
	  "EOL\n" },
	{ "+ OK is text", S, "+ OK [ALERT] x\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 '+'\n"
	  "TEXT 1/0 'OK [ALERT] x'\n"
	  "EOL\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* Server: untagged data, FETCH literals. */
static void
test_server_data(void **state)
{
	static const struct tcase tcs[] = {
	{ "fetch literal", S,
	  "* 1 FETCH (UID 5 BODY[] {11}\r\nhello world)\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 '1'\n"
	  "ATOM 2/0 'FETCH'\n"
	  "LIST( 3/0\n"
	  "ATOM 3/1 'UID'\n"
	  "ATOM 3/1 '5'\n"
	  "ATOM 3/1 'BODY[]'\n"
	  "LITERAL 3/1 11\n"
	  "DATA 'hello world'\n"
	  "LIST) 3/0\n"
	  "EOL\n" },
	{ "fetch section literal", S,
	  "* 2 FETCH (FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM)] {8}\r\n"
	  "From: x\n UID 7)\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 '2'\n"
	  "ATOM 2/0 'FETCH'\n"
	  "LIST( 3/0\n"
	  "ATOM 3/1 'FLAGS'\n"
	  "LIST( 3/1\n"
	  "ATOM 3/2 '\\Seen'\n"
	  "LIST) 3/1\n"
	  "ATOM 3/1 'BODY[HEADER.FIELDS (FROM)]'\n"
	  "LITERAL 3/1 8\n"
	  "DATA 'From: x\\x0a'\n"
	  "ATOM 3/1 'UID'\n"
	  "ATOM 3/1 '7'\n"
	  "LIST) 3/0\n"
	  "EOL\n" },
	{ "fetch binary literal8", S,
	  "* 3 FETCH (BINARY[1] ~{3}\r\n\0ab)\r\n", 33, 0, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 '3'\n"
	  "ATOM 2/0 'FETCH'\n"
	  "LIST( 3/0\n"
	  "ATOM 3/1 'BINARY[1]'\n"
	  "LITERAL 3/1 3 lit8\n"
	  "DATA '\\x00ab'\n"
	  "LIST) 3/0\n"
	  "EOL\n" },
	{ "untagged data", S,
	  "* 3 EXISTS\r\n"
	  "* CAPABILITY IMAP4rev1 LITERAL+\r\n"
	  "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
	  "* SEARCH 1 2\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 '3'\n"
	  "ATOM 2/0 'EXISTS'\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'CAPABILITY'\n"
	  "ATOM 2/0 'IMAP4rev1'\n"
	  "ATOM 3/0 'LITERAL+'\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'LIST'\n"
	  "LIST( 2/0\n"
	  "ATOM 2/1 '\\HasNoChildren'\n"
	  "LIST) 2/0\n"
	  "QUOTED 3/0 '/'\n"
	  "ATOM 4/0 'INBOX'\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'SEARCH'\n"
	  "ATOM 2/0 '1'\n"
	  "ATOM 3/0 '2'\n"
	  "EOL\n" },
	{ "status vanished namespace enabled", S,
	  "* STATUS mbox (MESSAGES 3)\r\n"
	  "* VANISHED (EARLIER) 1:5\r\n"
	  "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"
	  "* ENABLED CONDSTORE\r\n", 0, 0, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'STATUS'\n"
	  "ATOM 2/0 'mbox'\n"
	  "LIST( 3/0\n"
	  "ATOM 3/1 'MESSAGES'\n"
	  "ATOM 3/1 '3'\n"
	  "LIST) 3/0\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'VANISHED'\n"
	  "LIST( 2/0\n"
	  "ATOM 2/1 'EARLIER'\n"
	  "LIST) 2/0\n"
	  "ATOM 3/0 '1:5'\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'NAMESPACE'\n"
	  "LIST( 2/0\n"
	  "LIST( 2/1\n"
	  "QUOTED 2/2 ''\n"
	  "QUOTED 2/2 '/'\n"
	  "LIST) 2/1\n"
	  "LIST) 2/0\n"
	  "ATOM 3/0 'NIL'\n"
	  "ATOM 4/0 'NIL'\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'ENABLED'\n"
	  "ATOM 2/0 'CONDSTORE'\n"
	  "EOL\n" },
	{ "server line too long in text", S,
	  "* OK 345678901234567\r\n* OK 3456789012345678\r\n",
	  0, 22, 0, CB_NONE,
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'OK'\n"
	  "TEXT 2/0 '345678901234567'\n"
	  "EOL\n"
	  "ATOM 0/0 '*'\n"
	  "ATOM 1/0 'OK'\n"
	  "ERROR LINE_TOO_LONG @44\n" },
	};

	(void)state;
	CHECK_CASES(tcs);
}

/* An input of LEN copies of C (NUL-terminated, malloced). */
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

/* 64 levels of lists and of [sections] parse; 65 fail. */
static void
test_nesting(void **state)
{
	struct tcase tc = { "nesting", C, NULL, 0, 0, 0, CB_NONE, NULL };
	char *in, *want;
	size_t wl, i;
	struct rec *r;

	(void)state;
	in = repeat("a X ", '(', IMAP_NESTING_MAX, "\r\n");
	tc.in = in;
	r = run(&tc, NULL, 0);
	assert_int_equal(r->parser.error, IMAP_PERR_OK);
	assert_non_null(strstr(r->out, "LIST( 2/63\nEOL\n"));
	free(r);
	free(in);

	in = repeat("a X ", '(', IMAP_NESTING_MAX + 1, "\r\n");
	want = malloc(wl = 64 * 16 + 64);
	assert_non_null(want);
	i = (size_t)snprintf(want, wl, "ATOM 0/0 'a'\nATOM 1/0 'X'\n");
	for (unsigned d = 0; d < IMAP_NESTING_MAX; d++)
		i += (size_t)snprintf(want + i, wl - i, "LIST( 2/%u\n", d);
	snprintf(want + i, wl - i, "ERROR NESTING_TOO_DEEP @%d\n",
	    4 + IMAP_NESTING_MAX);
	tc.in = in;
	tc.want = want;
	check_case(&tc);
	free(in);
	free(want);

	in = repeat("a X BODY", '[', IMAP_NESTING_MAX + 1, "\r\n");
	tc.in = in;
	tc.want = "ATOM 0/0 'a'\nATOM 1/0 'X'\n"
	    "ERROR NESTING_TOO_DEEP @72\n";
	check_case(&tc);
	free(in);
}

/* Tokens longer than IMAP_TOKEN_MAX arrive truncated; parsing goes on. */
static void
test_truncation(void **state)
{
	static const struct {
		enum imap_parser_dir dir;
		const char *prefix, *suffix, *head, *tail;
		int c;
	} t[] = {
		{ C, "a X ", " y\r\n", "ATOM 0/0 'a'\nATOM 1/0 'X'\nATOM 2/0 '",
		  "' trunc\nATOM 3/0 'y'\nEOL\n", 'x' },
		{ C, "a X \"", "\" y\r\n",
		  "ATOM 0/0 'a'\nATOM 1/0 'X'\nQUOTED 2/0 '",
		  "' trunc\nATOM 3/0 'y'\nEOL\n", 'q' },
		{ S, "* OK ", "\r\n", "ATOM 0/0 '*'\nATOM 1/0 'OK'\nTEXT 2/0 '",
		  "' trunc\nEOL\n", 't' },
	};
	struct tcase tc = { "truncation", C, NULL, 0, 0, 0, CB_NONE, NULL };
	size_t i, hl, n = IMAP_TOKEN_MAX + 76;
	char *want, *in;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		in = repeat(t[i].prefix, t[i].c, n, t[i].suffix);
		hl = strlen(t[i].head);
		want = malloc(hl + IMAP_TOKEN_MAX + strlen(t[i].tail) + 1);
		assert_non_null(want);
		memcpy(want, t[i].head, hl);
		memset(want + hl, t[i].c, IMAP_TOKEN_MAX);
		strcpy(want + hl + IMAP_TOKEN_MAX, t[i].tail);
		tc.dir = t[i].dir;
		tc.in = in;
		tc.want = want;
		check_case(&tc);
		free(in);
		free(want);
	}
}

/*
 * Fragment mode: an atom longer than IMAP_TOKEN_MAX comes whole, in
 * fragments of IMAP_TOKEN_MAX bytes ("more") and the rest ("part"), the
 * same in every split; other tokens are as before.
 */
struct fcase {
	enum imap_parser_dir dir;
	const char *prefix;	/* the line up to the long atom */
	const char *head;	/* the output before its fragments */
	const char *atom_head;	/* the atom: these bytes, */
	const char *atom;	/* ATOM_LEN bytes cycling these, */
	size_t atom_len;
	const char *atom_tail;	/* and these */
	const char *tail_in;	/* the line after the atom */
	const char *tail;	/* the output after its fragments */
	const char *tok_at;	/* "i/d" of the atom */
};

static void
frag_case(const struct fcase *f)
{
	struct tcase tc = { "fragments", C, NULL, 0, 0, 0, CB_NONE, NULL };
	size_t al = strlen(f->atom), hl = strlen(f->atom_head), i, j, off, n;
	size_t len = hl + f->atom_len + strlen(f->atom_tail), wcap, wl;
	char *in, *atom, *want;
	unsigned char c;

	atom = malloc(len + 1);
	assert_non_null(atom);
	memcpy(atom, f->atom_head, hl);
	for (i = 0; i < f->atom_len; i++)
		atom[hl + i] = f->atom[i % al];
	strcpy(atom + hl + f->atom_len, f->atom_tail);
	in = malloc(strlen(f->prefix) + len + strlen(f->tail_in) + 1);
	assert_non_null(in);
	sprintf(in, "%s%s%s", f->prefix, atom, f->tail_in);
	wcap = strlen(f->head) + strlen(f->tail) + 4 * len + 4096;
	want = malloc(wcap);
	assert_non_null(want);
	wl = (size_t)snprintf(want, wcap, "%s", f->head);
	for (off = 0; off < len; off += n) {
		n = len - off > IMAP_TOKEN_MAX ? IMAP_TOKEN_MAX : len - off;
		wl += (size_t)snprintf(want + wl, wcap - wl, "ATOM %s '",
		    f->tok_at);
		for (j = off; j < off + n; j++) {
			c = (unsigned char)atom[j];
			wl += (size_t)(c >= 0x20 && c < 0x7f ?
			    snprintf(want + wl, wcap - wl, "%c", c) :
			    snprintf(want + wl, wcap - wl, "\\x%02x", c));
		}
		wl += (size_t)snprintf(want + wl, wcap - wl, "'%s%s\n",
		    off + n < len ? " more" : "", off > 0 ? " part" : "");
	}
	snprintf(want + wl, wcap - wl, "%s", f->tail);
	tc.dir = f->dir;
	tc.in = in;
	tc.want = want;
	frag_on = true;
	check_case(&tc);
	frag_on = false;
	free(atom);
	free(in);
	free(want);
}

static void
test_fragments(void **state)
{
	static const struct fcase f[] = {
		/* a long UID set: not cut, in fragments */
		{ C, "a UID STORE ", "ATOM 0/0 'a'\nATOM 1/0 'UID'\n"
		  "ATOM 2/0 'STORE'\n", "", "1001,1003,1005:1007,", 3000, "9",
		  " +FLAGS (\\Seen)\r\n", "ATOM 4/0 '+FLAGS'\nLIST( 5/0\n"
		  "ATOM 5/1 '\\Seen'\nLIST) 5/0\nEOL\n", "3/0" },
		/* the boundaries: one byte more, twice the scratch, exactly */
		{ C, "a X ", "ATOM 0/0 'a'\nATOM 1/0 'X'\n", "", "1,", 1025,
		  "", " y\r\n", "ATOM 3/0 'y'\nEOL\n", "2/0" },
		{ C, "a X ", "ATOM 0/0 'a'\nATOM 1/0 'X'\n", "", "12,", 2048,
		  "", " y\r\n", "ATOM 3/0 'y'\nEOL\n", "2/0" },
		{ C, "a X ", "ATOM 0/0 'a'\nATOM 1/0 'X'\n", "", "x", 1024,
		  "", " y\r\n", "ATOM 3/0 'y'\nEOL\n", "2/0" },
		/* the line ends it (CRLF, bare LF), a list closes it */
		{ S, "* VANISHED ", "ATOM 0/0 '*'\nATOM 1/0 'VANISHED'\n",
		  "", "5,70:72,", 3001, "", "\r\n", "EOL\n", "2/0" },
		{ S, "* VANISHED ", "ATOM 0/0 '*'\nATOM 1/0 'VANISHED'\n",
		  "", "5,70:72,", 2049, "", "\n", "EOL\n", "2/0" },
		{ C, "a X (", "ATOM 0/0 'a'\nATOM 1/0 'X'\nLIST( 2/0\n",
		  "", "9", 1500, "", ") z\r\n",
		  "LIST) 2/0\nATOM 3/0 'z'\nEOL\n", "2/1" },
		/* inside a response code, up to its "]" */
		{ S, "* OK [COPYUID 7 ", "ATOM 0/0 '*'\nATOM 1/0 'OK'\n"
		  "CODE[ 2/0\nATOM 2/1 code 'COPYUID'\nATOM 2/1 code '7'\n",
		  "", "4,", 2500, "5", " 9:10] done\r\n",
		  "ATOM 2/1 code '9:10'\nCODE] 2/0\nTEXT 3/0 'done'\nEOL\n",
		  "2/1 code" },
		/* a bare CR right after the scratch's worth: a byte of it */
		{ C, "a X ", "ATOM 0/0 'a'\nATOM 1/0 'X'\n", "", "x", 1024,
		  "\ry", " z\r\n", "ATOM 3/0 'z'\nEOL\n", "2/0" },
		{ C, "a X ", "ATOM 0/0 'a'\nATOM 1/0 'X'\n", "", "x", 1023,
		  "\r\ry", " z\r\n", "ATOM 3/0 'z'\nEOL\n", "2/0" },
		/* a CRLF right after the scratch's worth ends it */
		{ C, "a X ", "ATOM 0/0 'a'\nATOM 1/0 'X'\n", "", "x", 2048,
		  "", "\r\n", "EOL\n", "2/0" },
		/* "~{" after a fragment is no literal8 */
		{ C, "a X ", "ATOM 0/0 'a'\nATOM 1/0 'X'\n", "", "x", 1024,
		  "~{5}", "\r\n", "EOL\n", "2/0" },
		/* a [section] with spaces and quotes, as fetch items have */
		{ C, "a FETCH 1 ", "ATOM 0/0 'a'\nATOM 1/0 'FETCH'\n"
		  "ATOM 2/0 '1'\n", "BODY[HEADER.FIELDS (", "X-A \"]\" ",
		  1100, ")]", " x\r\n", "ATOM 4/0 'x'\nEOL\n", "3/0" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		frag_case(&f[i]);
}

/* After an error nothing is consumed or reported until reset. */
static void
test_error_sticky(void **state)
{
	struct tcase tc = { "sticky", C, "", 0, 0, 0, CB_NONE, NULL };
	struct rec *r;
	const char *msg = NULL;

	(void)state;
	r = rec_new(&tc);
	assert_int_equal(imap_parser_feed(&r->parser, "a NOOP\r\n", 8), 8);
	assert_int_equal(imap_parser_feed(&r->parser, "b ()\0x", 6), 4);
	assert_int_equal(imap_parser_error(&r->parser, &msg),
	    IMAP_PERR_BAD_CHAR);
	assert_string_equal(msg, "NUL byte outside a literal");
	assert_int_equal(r->parser.error_offset, 12);
	assert_int_equal(r->parser.offset, 12);
	r->out_len = 0;
	r->out[0] = '\0';
	assert_int_equal(imap_parser_feed(&r->parser, "c NOOP\r\n", 8), 0);
	assert_int_equal(imap_parser_feed(&r->parser, "\0", 1), 0);
	assert_int_equal(r->out_len, 0);
	assert_int_equal(r->parser.error_offset, 12);

	imap_parser_reset(&r->parser);
	assert_int_equal(imap_parser_error(&r->parser, NULL), IMAP_PERR_OK);
	assert_int_equal(imap_parser_feed(&r->parser, "c NOOP\r\n", 8), 8);
	assert_string_equal(r->out, "ATOM 0/0 'c'\nATOM 1/0 'NOOP'\nEOL\n");
	assert_int_equal(r->parser.offset, 20);
	assert_int_equal(r->parser.lines, 2);
	free(r);
}

static void
test_error_names(void **state)
{
	const char *msg;
	struct imap_parser p;
	unsigned e;

	(void)state;
	assert_string_equal(imap_parser_error_name(IMAP_PERR_OK), "OK");
	assert_string_equal(imap_parser_error_name(IMAP_PERR_LINE_TOO_LONG),
	    "LINE_TOO_LONG");
	assert_string_equal(imap_parser_error_name(IMAP_PERR_NESTING_TOO_DEEP),
	    "NESTING_TOO_DEEP");
	assert_string_equal(imap_parser_error_name(IMAP_PERR_COUNT),
	    "UNKNOWN");
	memset(&p, 0, sizeof(p));
	for (e = 0; e < IMAP_PERR_COUNT; e++) {
		p.error = (enum imap_parser_error)e;
		assert_int_equal(imap_parser_error(&p, &msg), e);
		assert_non_null(msg);
		assert_true(strlen(msg) > 0);
	}
	p.error = IMAP_PERR_LINE_TOO_LONG;
	imap_parser_error(&p, &msg);
	assert_non_null(strstr(msg, "65536"));
	p.error = IMAP_PERR_NESTING_TOO_DEEP;
	imap_parser_error(&p, &msg);
	assert_non_null(strstr(msg, "64"));
}

/*
 * A 100 MB literal fed in 64 KiB chunks: one on_literal per chunk, the
 * sizes adding up, and the line limit untouched.  One buffer is reused.
 */
static void
test_literal_100mb(void **state)
{
	static char buf[64 * 1024];
	const uint64_t size = 100 * 1024 * 1024;
	struct tcase tc = { "100mb", C, "", 0, 100, 0, CB_NONE, NULL };
	const char *head = "a APPEND INBOX {104857600}\r\n";
	struct rec *r;
	uint64_t fed;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	r = rec_new(&tc);
	assert_int_equal(imap_parser_feed(&r->parser, head, strlen(head)),
	    strlen(head));
	assert_true(r->parser.in_literal);
	for (fed = 0; fed < size; fed += sizeof(buf))
		assert_int_equal(imap_parser_feed(&r->parser, buf,
		    sizeof(buf)), sizeof(buf));
	assert_int_equal(r->literal_calls, size / sizeof(buf));
	assert_int_equal(r->data_len, size);
	assert_false(r->parser.in_literal);
	assert_int_equal(imap_parser_feed(&r->parser, " x\r\n", 4), 4);
	assert_int_equal(r->parser.error, IMAP_PERR_OK);
	assert_string_equal(r->out,
	    "ATOM 0/0 'a'\nATOM 1/0 'APPEND'\nATOM 2/0 'INBOX'\n"
	    "LITERAL 3/0 104857600\nDATA 104857600 bytes\nATOM 4/0 'x'\n"
	    "EOL\n");
	assert_int_equal(r->parser.offset, strlen(head) + size + 4);
	free(r);
}

/*
 * A 1 MB literal in a line limited to 100 bytes: the body does not
 * count.  Fed whole, in odd chunks and a byte at a time.
 */
static void
test_literal_1mb_line_limit(void **state)
{
	const size_t body = 1024 * 1024;
	static const size_t steps[] = { 0, 4093, 1 };
	const char *head = "a APPEND INBOX (\\Seen) {1048576}\r\n";
	struct tcase tc = { "1mb", C, NULL, 0, 100, 0, CB_NONE, NULL };
	size_t hl = strlen(head), len = hl + body + 2, i, a, b;
	char *in;
	struct rec *r;

	(void)state;
	in = malloc(len);
	assert_non_null(in);
	memcpy(in, head, hl);
	memset(in + hl, '\n', body);
	memcpy(in + hl + body, "\r\n", 2);
	tc.in = in;
	tc.in_len = len;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		r = rec_new(&tc);
		for (a = 0; a < len; a = b) {
			b = steps[i] == 0 || len - a < steps[i] ? len :
			    a + steps[i];
			feed_one(r, a, b);
		}
		flush_data(r);
		assert_string_equal(r->out,
		    "ATOM 0/0 'a'\nATOM 1/0 'APPEND'\nATOM 2/0 'INBOX'\n"
		    "LIST( 3/0\nATOM 3/1 '\\Seen'\nLIST) 3/0\n"
		    "LITERAL 4/0 1048576\nDATA 1048576 bytes\nEOL\n");
		free(r);
	}
	free(in);
}

/* set_mode in mid-line applies from the next line; in_literal between feeds. */
static void
test_mode_mid_line(void **state)
{
	struct tcase tc = { "mode", C, "", 0, 0, 0, CB_NONE, NULL };
	struct rec *r;

	(void)state;
	r = rec_new(&tc);
	r->switch_modes = false;
	assert_int_equal(imap_parser_feed(&r->parser, "a NOOP", 6), 6);
	imap_parser_set_mode(&r->parser, IMAP_PARSER_MODE_TEXT);
	assert_int_equal(imap_parser_feed(&r->parser, " x\r\nfoo (bar\r\n", 14),
	    14);
	imap_parser_set_mode(&r->parser, IMAP_PARSER_MODE_NORMAL);
	assert_int_equal(imap_parser_feed(&r->parser, "b {3}\r\nab", 9), 9);
	assert_true(r->parser.in_literal);
	assert_int_equal(imap_parser_feed(&r->parser, "c\r\n", 3), 3);
	assert_false(r->parser.in_literal);
	flush_data(r);
	assert_string_equal(r->out,
	    "ATOM 0/0 'a'\nATOM 1/0 'NOOP'\nATOM 2/0 'x'\nEOL\n"
	    "TEXT 0/0 'foo (bar'\nEOL\n"
	    "ATOM 0/0 'b'\nLITERAL 1/0 3\nDATA 'abc'\nEOL\n");
	assert_int_equal(r->parser.lines, 3);
	free(r);
}

/* NULL callbacks are allowed. */
static void
test_null_callbacks(void **state)
{
	static const struct imap_parser_callbacks none = { NULL, NULL, NULL };
	static const char in[] =
	    "* OK [X (y)] z\r\n* 1 FETCH (BODY[] {2}\r\nab)\r\n";
	struct imap_parser p;

	(void)state;
	memset(&p, 0, sizeof(p));
	imap_parser_init(&p, S, &none, 0);
	assert_int_equal(imap_parser_feed(&p, in, sizeof(in) - 1),
	    sizeof(in) - 1);
	assert_int_equal(p.lines, 2);
	assert_int_equal(imap_parser_feed(&p, NULL, 0), 0);
}

/*
 * A LOGIN password or SASL line passes through the token scratch: once
 * delivered it must not stay in the parser's memory, whatever the split.
 */
static void
test_scratch_wiped(void **state)
{
	static const struct imap_parser_callbacks none = { NULL, NULL, NULL };
	static const char head[] =
	    "a LOGIN alice \"Secr3t-pw\"\r\nb LOGIN bob Secr3t-atom\r\n"
	    "c LOGIN carol \"Secr3t-unterminated\r\nd LOGIN dave ";
	char in[sizeof(head) + 2 * IMAP_TOKEN_MAX + 8];
	struct imap_parser p;
	size_t i, n = sizeof(head) - 1;
	int frag;

	(void)state;
	/* and a password longer than the scratch: cut, or in fragments */
	memcpy(in, head, n);
	for (i = 0; i < 2 * IMAP_TOKEN_MAX - 200; i++)
		in[n++] = "Secr3t"[i % 6];
	memcpy(in + n, "\r\n", 2);
	n += 2;
	for (frag = 0; frag < 2; frag++)
		for (i = 0; i < n; i++) {
			memset(&p, 0, sizeof(p));
			imap_parser_init(&p, C, &none, 0);
			imap_parser_set_fragments(&p, frag == 1);
			imap_parser_feed(&p, in, i);
			imap_parser_feed(&p, in + i, n - i);
			assert_null(memmem(&p, sizeof(p), "Secr3t", 6));
			assert_null(memmem(&p, sizeof(p), "ecr3tS", 6));
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_login),
		cmocka_unit_test(test_client_append),
		cmocka_unit_test(test_client_fetch),
		cmocka_unit_test(test_client_lines),
		cmocka_unit_test(test_client_text_mode),
		cmocka_unit_test(test_client_literal_cancel),
		cmocka_unit_test(test_client_errors),
		cmocka_unit_test(test_server_resp_text),
		cmocka_unit_test(test_server_continuation),
		cmocka_unit_test(test_server_data),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_error_sticky),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_literal_100mb),
		cmocka_unit_test(test_literal_1mb_line_limit),
		cmocka_unit_test(test_mode_mid_line),
		cmocka_unit_test(test_null_callbacks),
		cmocka_unit_test(test_scratch_wiped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
