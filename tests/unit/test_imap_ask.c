/*
 * test_imap_ask.c - hiding the answers to the proxy's own questions.
 *
 * Each case is a question (tag, set, UID form), the server's stream
 * while it is open, and the bytes the client must get.  Every case runs
 * whole, split in two at every offset, in three at every pair of
 * offsets, and byte by byte, each chunk fed from a heap copy of exactly
 * its size (ASan sees any overread); every run must give the expected
 * bytes, the same done state and counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parser/imap_ask.h"

struct sink {
	char *buf;
	size_t len, cap;
};

static void
sink_out(void *ctx, const char *data, size_t len)
{
	struct sink *k = ctx;

	assert_true(len > 0);
	if (k->len + len > k->cap) {
		k->cap = (k->len + len) * 2;
		k->buf = realloc(k->buf, k->cap);
		assert_non_null(k->buf);
	}
	memcpy(k->buf + k->len, data, len);
	k->len += len;
}

struct ask_case {
	const char *name;
	const char *tag;
	bool uid;
	const char *set;
	const char *in;
	const char *out;
	bool done;
	int status;
	uint64_t taken;
};

static void
query_of(const struct ask_case *c, struct imap_ask_query *q)
{
	memset(q, 0, sizeof(*q));
	q->tag_len = strlen(c->tag);
	memcpy(q->tag, c->tag, q->tag_len);
	q->uid = c->uid;
	q->set_len = strlen(c->set);
	memcpy(q->set, c->set, q->set_len);
}

/* Feed C's input cut at the offsets CUTS (ascending), check the result. */
static void
run_cut(const struct ask_case *c, const size_t *cuts, size_t ncuts)
{
	struct imap_ask_query q;
	struct imap_ask *f = malloc(sizeof(*f));
	struct sink k = { 0 };
	size_t len = strlen(c->in), from = 0;

	assert_non_null(f);
	query_of(c, &q);
	imap_ask_init(f, &q);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;
		char *chunk;

		if (to <= from)
			continue;
		chunk = malloc(to - from);
		assert_non_null(chunk);
		memcpy(chunk, c->in + from, to - from);
		imap_ask_feed(f, chunk, to - from, sink_out, &k);
		free(chunk);
		from = to;
	}
	if (!imap_ask_done(f))
		imap_ask_flush(f, sink_out, &k);
	if (k.len != strlen(c->out) || memcmp(k.buf, c->out, k.len) != 0)
		fail_msg("%s (%zu cuts, first %zu): got \"%.*s\"", c->name,
		    ncuts, ncuts > 0 ? cuts[0] : 0, (int)k.len,
		    k.buf ? k.buf : "");
	assert_int_equal(imap_ask_done(f), c->done);
	if (c->done)
		assert_int_equal(f->status, c->status);
	assert_int_equal(f->taken, c->taken);
	free(k.buf);
	free(f);
}

static void
run_case(const struct ask_case *c)
{
	size_t len = strlen(c->in), cuts[2];
	size_t *each;

	run_cut(c, NULL, 0);
	for (size_t i = 1; i < len; i++) {
		cuts[0] = i;
		run_cut(c, cuts, 1);
	}
	for (size_t i = 1; i < len; i++)
		for (size_t j = i + 1; j < len; j++) {
			cuts[0] = i;
			cuts[1] = j;
			run_cut(c, cuts, 2);
		}
	each = malloc(len * sizeof(*each));
	assert_non_null(each);
	for (size_t i = 0; i < len; i++)
		each[i] = i + 1;
	run_cut(c, each, len);
	free(each);
}

static const struct ask_case cases[] = {
	{ "answer, news, completion, the next response",
	  "msgeventd1", false, "2",
	  "* 2 FETCH (UID 3 FLAGS ())\r\n* 7 EXISTS\r\n"
	  "* 2 FETCH (FLAGS (\\Seen))\r\nmsgeventd1 OK Fetch completed.\r\n"
	  "A1 OK rest\r\n",
	  "* 7 EXISTS\r\n* 2 FETCH (FLAGS (\\Seen))\r\nA1 OK rest\r\n",
	  true, 1, 1 },
	{ "a repeat and one outside the set are news",
	  "msgeventd2", false, "2:3",
	  "* 2 FETCH (UID 3 FLAGS ())\r\n* 2 FETCH (UID 3 FLAGS (\\Seen))\r\n"
	  "* 5 FETCH (UID 9 FLAGS ())\r\n"
	  "* 3 FETCH (UID 4 MODSEQ (5) FLAGS (\\Deleted $X))\r\n"
	  "msgeventd2 OK done\r\n",
	  "* 2 FETCH (UID 3 FLAGS (\\Seen))\r\n* 5 FETCH (UID 9 FLAGS ())\r\n",
	  true, 1, 2 },
	{ "UID form: the number is the UID; lower case passes the same",
	  "msgeventd3", true, "10:12,20",
	  "* 1 FETCH (UID 10 FLAGS ())\r\n* 2 fetch (FLAGS (\\Seen) UID 12)\r\n"
	  "* 3 FETCH (UID 13 FLAGS ())\r\n* 9 FETCH (UID 20 FLAGS ())\r\n"
	  "msgeventd3 NO [SERVERBUG] x\r\n",
	  "* 3 FETCH (UID 13 FLAGS ())\r\n",
	  true, 0, 3 },
	{ "a literal's content is not a completion",
	  "msgeventd4", false, "1:*",
	  "* 1 FETCH (UID 5 BODY[] {18}\r\nmsgeventd4 OK no\r\n)\r\n"
	  "* 2 FETCH (UID 6 FLAGS ())\r\nmsgeventd4 OK yes\r\nX",
	  "* 1 FETCH (UID 5 BODY[] {18}\r\nmsgeventd4 OK no\r\n)\r\nX",
	  true, 1, 1 },
	{ "a literal mid-line of an ordinary line",
	  "msgeventd5", false, "1",
	  "* LIST () \"/\" {11}\r\nmsgeventd5 \r\n* 1 FETCH (UID 5 FLAGS ())\r\n"
	  "msgeventd5 BAD x\r\n",
	  "* LIST () \"/\" {11}\r\nmsgeventd5 \r\n",
	  true, 0, 1 },
	{ "another tag with ours as prefix, and a FETCH with no UID",
	  "msgeventd6", false, "1",
	  "msgeventd60 OK other\r\n* 1 FETCH (FLAGS ())\r\n"
	  "* 1 FETCH (UID 5 FLAGS ()) \r\nmsgeventd6 OK\r\n",
	  "msgeventd60 OK other\r\n* 1 FETCH (FLAGS ())\r\n"
	  "* 1 FETCH (UID 5 FLAGS ()) \r\n",
	  true, 1, 0 },
	{ "no completion yet: held bytes come out at the flush",
	  "msgeventd7", false, "1",
	  "* 1 FETCH (UID 5 FLAGS ())\r\n* 3 EXPUNGE\r\nmsgeventd7 O",
	  "* 3 EXPUNGE\r\nmsgeventd7 O",
	  false, -1, 1 },
	{ "bare LF lines and garbage pass",
	  "msgeventd8", false, "1",
	  "\n*\n* x\r\n* 12345678901 FETCH (UID 1)\r\nmsgeventd8 OK\n",
	  "\n*\n* x\r\n* 12345678901 FETCH (UID 1)\r\n",
	  true, 1, 0 },
};

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* A line longer than IMAP_ASK_LINE_MAX is let through, whole. */
static void
test_long_line(void **state)
{
	size_t n = IMAP_ASK_LINE_MAX * 3;
	char *in = malloc(n + 128), *out = malloc(n + 128);
	struct ask_case c = { "long", "msgeventd9", false, "1:*", in, out,
	    true, 1, 1 };
	size_t len;

	(void)state;
	assert_non_null(in);
	assert_non_null(out);
	len = (size_t)sprintf(in, "* 1 FETCH (UID 5 FLAGS (");
	memset(in + len, 'k', n);
	len += n;
	len += (size_t)sprintf(in + len, "))\r\n");
	memcpy(out, in, len);
	out[len] = '\0';
	sprintf(in + len, "* 2 FETCH (UID 6 FLAGS ())\r\nmsgeventd9 OK\r\n");
	run_cut(&c, NULL, 0);
	{
		size_t cuts[1] = { IMAP_ASK_LINE_MAX };

		run_cut(&c, cuts, 1);
	}
	free(in);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
