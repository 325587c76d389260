/*
 * test_imap_capa.c - the capability filter.
 *
 * Each case is a server stream, the names to remove and the stream the
 * client must get.  Every case runs whole, split in two at every offset,
 * in three at every pair of offsets (short cases), and byte by byte;
 * each chunk is fed from a heap copy of exactly its size, so ASan sees
 * any overread.  Every run must give the expected bytes and removal
 * count, and every span must lie in the chunk being fed or in the
 * filter's hold buffer (passed bytes are never copied).  Then a 100 MB
 * literal in 64 KiB chunks must give one span per chunk, the chunk
 * itself, and random streams must filter the same however they are cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parser/imap_capa.h"

#define DEFAULT_NAMES	"COMPRESS=DEFLATE"
#define SPLIT3_MAX	160	/* cases this short: every 3-way split */

/* Collects what the filter emits, checking where each span points. */
struct sink {
	char *buf;
	size_t len;
	size_t cap;
	const struct imap_capa *f;
	const char *chunk;	/* being fed */
	size_t chunk_len;
	size_t calls;
	size_t fed_out;		/* bytes emitted by the current feed */
	bool store;		/* keep the bytes (not for 100 MB) */
	size_t total;
};

static void
sink_out(void *ctx, const char *data, size_t len)
{
	struct sink *k = ctx;
	const char *hold = k->f->hold;

	assert_true(len > 0);
	if (!(data >= k->chunk && data + len <= k->chunk + k->chunk_len) &&
	    !(data >= hold && data + len <= hold + IMAP_CAPA_HOLD_MAX) &&
	    !(k->f->add != NULL && data == k->f->add &&
	    len == k->f->add_len))
		fail_msg("span of %zu bytes outside the chunk and the hold "
		    "buffer", len);
	k->calls++;
	k->fed_out += len;
	k->total += len;
	if (!k->store)
		return;
	if (k->len + len > k->cap) {
		k->cap = (k->len + len) * 2;
		k->buf = realloc(k->buf, k->cap);
		assert_non_null(k->buf);
	}
	memcpy(k->buf + k->len, data, len);
	k->len += len;
}

/* Space-separated NAMES into LIST. */
static void
list_set(struct imap_capa_list *list, const char *names)
{
	char one[IMAP_CAPA_NAME_MAX + 1];
	const char *p = names, *e;

	imap_capa_list_init(list);
	while (*p != '\0') {
		e = strchr(p, ' ');
		if (e == NULL)
			e = p + strlen(p);
		assert_true((size_t)(e - p) < sizeof(one));
		memcpy(one, p, (size_t)(e - p));
		one[e - p] = '\0';
		assert_int_equal(imap_capa_list_add(list, one), 0);
		p = *e == ' ' ? e + 1 : e;
	}
}

/* The atom the cases being run add (test_add), else NULL. */
static const char *case_add;

static void
feed_chunk(struct imap_capa *f, struct sink *k, const char *data,
    size_t len)
{
	char *copy;

	copy = malloc(len > 0 ? len : 1);
	assert_non_null(copy);
	memcpy(copy, data, len);
	k->chunk = copy;
	k->chunk_len = len;
	k->fed_out = 0;
	imap_capa_feed(f, copy, len, sink_out, k);
	if (f->add == NULL)
		assert_true(k->fed_out <= len + IMAP_CAPA_HOLD_MAX);
	assert_true(f->hold_len <= IMAP_CAPA_HOLD_MAX);
	k->chunk = NULL;
	k->chunk_len = 0;
	free(copy);
}

/*
 * Feed IN cut at the NCUTS ascending offsets CUTS, then flush; the
 * output goes to K (cleared first).  Returns the atoms removed.
 */
static uint64_t
run_cuts(const struct imap_capa_list *list, const char *in, size_t len,
    const size_t *cuts, size_t ncuts, struct sink *k)
{
	struct imap_capa f;
	size_t at = 0, i;

	imap_capa_init(&f, list);
	imap_capa_set_add(&f, case_add);
	k->len = 0;
	k->calls = 0;
	k->total = 0;
	k->store = true;
	k->f = &f;
	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;

		feed_chunk(&f, k, in + at, to - at);
		at = to;
	}
	imap_capa_flush(&f, sink_out, k);
	assert_int_equal(f.hold_len, 0);
	assert_int_equal(k->total, k->len);
	return f.removed;
}

static void
check_out(const char *name, const char *how, const struct sink *k,
    const char *want, size_t want_len, uint64_t removed, uint64_t want_rm)
{
	if (k->len != want_len || memcmp(k->buf, want, want_len) != 0)
		fail_msg("%s (%s): got\n'%.*s'\nwant\n'%s'", name, how,
		    (int)k->len, k->buf, want);
	if (removed != want_rm)
		fail_msg("%s (%s): removed %llu, want %llu", name, how,
		    (unsigned long long)removed, (unsigned long long)want_rm);
}

struct capa_case {
	const char *name;
	const char *names;	/* to remove; NULL: DEFAULT_NAMES */
	const char *in;
	const char *want;	/* NULL: IN unchanged */
	unsigned removed;
};

/*
 * Run one case whole, in two at every offset, in three at every pair of
 * offsets if short, and byte by byte.
 */
static void
run_case(const struct capa_case *c)
{
	struct imap_capa_list list;
	struct sink k = { 0 };
	const char *want = c->want != NULL ? c->want : c->in;
	size_t len = strlen(c->in), wlen = strlen(want), i, j;
	size_t cuts[2], *each;
	uint64_t rm;
	char how[64];

	list_set(&list, c->names != NULL ? c->names : DEFAULT_NAMES);

	rm = run_cuts(&list, c->in, len, NULL, 0, &k);
	check_out(c->name, "whole", &k, want, wlen, rm, c->removed);

	for (i = 0; i <= len; i++) {
		cuts[0] = i;
		rm = run_cuts(&list, c->in, len, cuts, 1, &k);
		snprintf(how, sizeof(how), "split at %zu", i);
		check_out(c->name, how, &k, want, wlen, rm, c->removed);
	}
	if (len <= SPLIT3_MAX) {
		for (i = 1; i < len; i++)
			for (j = i + 1; j < len; j++) {
				cuts[0] = i;
				cuts[1] = j;
				rm = run_cuts(&list, c->in, len, cuts, 2, &k);
				snprintf(how, sizeof(how), "split at %zu, %zu",
				    i, j);
				check_out(c->name, how, &k, want, wlen, rm,
				    c->removed);
			}
	}

	each = malloc((len > 0 ? len : 1) * sizeof(*each));
	assert_non_null(each);
	for (i = 0; i + 1 < len; i++)
		each[i] = i + 1;
	rm = run_cuts(&list, c->in, len, each, len > 0 ? len - 1 : 0, &k);
	check_out(c->name, "byte by byte", &k, want, wlen, rm, c->removed);
	free(each);
	free(k.buf);
}

static void
run_cases(const struct capa_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		run_case(&cases[i]);
}

#define RUN(cases)	run_cases(cases, sizeof(cases) / sizeof(cases[0]))

static void
test_greeting(void **state)
{
	static const struct capa_case cases[] = {
		{ "greeting", NULL,
		  "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID "
		  "ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN "
		  "COMPRESS=DEFLATE] Dovecot ready.\r\n",
		  "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID "
		  "ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] "
		  "Dovecot ready.\r\n", 1 },
		{ "greeting, atom mid-code", NULL,
		  "* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE] hi\r\n",
		  "* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\n", 1 },
		{ "greeting, only atom", NULL,
		  "* OK [CAPABILITY COMPRESS=DEFLATE] hi\r\n",
		  "* OK [CAPABILITY] hi\r\n", 1 },
		{ "greeting, SP before ]", NULL,
		  "* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE ] hi\r\n",
		  "* OK [CAPABILITY IMAP4rev1 ] hi\r\n", 1 },
		{ "preauth", NULL,
		  "* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] "
		  "Logged in as joe\r\n",
		  "* PREAUTH [CAPABILITY IMAP4rev1] Logged in as joe\r\n", 1 },
		{ "greeting, then more lines", NULL,
		  "* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n"
		  "a1 OK done\r\n",
		  "* OK [CAPABILITY IMAP4rev1] hi\r\n"
		  "a1 OK done\r\n", 1 },
	};

	(void)state;
	RUN(cases);
}

static void
test_untagged(void **state)
{
	static const struct capa_case cases[] = {
		{ "first", NULL,
		  "* CAPABILITY COMPRESS=DEFLATE IMAP4rev1 IDLE\r\n",
		  "* CAPABILITY IMAP4rev1 IDLE\r\n", 1 },
		{ "middle", NULL,
		  "* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE\r\n",
		  "* CAPABILITY IMAP4rev1 IDLE\r\n", 1 },
		{ "last", NULL,
		  "* CAPABILITY IMAP4rev1 IDLE COMPRESS=DEFLATE\r\n",
		  "* CAPABILITY IMAP4rev1 IDLE\r\n", 1 },
		{ "only", NULL,
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* CAPABILITY\r\n", 1 },
		{ "repeated", NULL,
		  "* CAPABILITY COMPRESS=DEFLATE IMAP4rev1 COMPRESS=DEFLATE "
		  "COMPRESS=DEFLATE IDLE COMPRESS=DEFLATE\r\n",
		  "* CAPABILITY IMAP4rev1 IDLE\r\n", 4 },
		{ "near misses kept", NULL,
		  "* CAPABILITY COMPRESS=DEFLATEX COMPRESS=DEFLAT "
		  "XCOMPRESS=DEFLATE COMPRESS COMPRESS=DEFLATE\r\n",
		  "* CAPABILITY COMPRESS=DEFLATEX COMPRESS=DEFLAT "
		  "XCOMPRESS=DEFLATE COMPRESS\r\n", 1 },
		{ "several SPs: one goes with the atom", NULL,
		  "* CAPABILITY IMAP4rev1  COMPRESS=DEFLATE  IDLE \r\n",
		  "* CAPABILITY IMAP4rev1   IDLE \r\n", 1 },
		{ "no atoms", NULL,
		  "* CAPABILITY\r\n* CAPABILITY \r\n", NULL, 0 },
		{ "between other lines", NULL,
		  "* 3 EXISTS\r\n* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\r\n"
		  "* 0 RECENT\r\na2 OK CAPABILITY completed\r\n",
		  "* 3 EXISTS\r\n* CAPABILITY IMAP4rev1\r\n"
		  "* 0 RECENT\r\na2 OK CAPABILITY completed\r\n", 1 },
	};

	(void)state;
	RUN(cases);
}

static void
test_tagged_and_status(void **state)
{
	static const struct capa_case cases[] = {
		{ "tagged OK after LOGIN", NULL,
		  "a1 OK [CAPABILITY IMAP4rev1 SASL-IR SORT THREAD=REFS "
		  "COMPRESS=DEFLATE MOVE] Logged in\r\n",
		  "a1 OK [CAPABILITY IMAP4rev1 SASL-IR SORT THREAD=REFS "
		  "MOVE] Logged in\r\n", 1 },
		{ "long tag", NULL,
		  "A0123456789012345678901234567890123456789012345678901234"
		  "56789012345678901234567890 OK [CAPABILITY IMAP4rev1 "
		  "COMPRESS=DEFLATE] ok\r\n",
		  "A0123456789012345678901234567890123456789012345678901234"
		  "56789012345678901234567890 OK [CAPABILITY IMAP4rev1] "
		  "ok\r\n", 1 },
		{ "tagged NO and BAD", NULL,
		  "a2 NO [CAPABILITY COMPRESS=DEFLATE IMAP4rev1] no\r\n"
		  "a3 BAD [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] bad\r\n",
		  "a2 NO [CAPABILITY IMAP4rev1] no\r\n"
		  "a3 BAD [CAPABILITY IMAP4rev1] bad\r\n", 2 },
		{ "untagged NO, BAD, BYE", NULL,
		  "* NO [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] x\r\n"
		  "* BAD [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] x\r\n"
		  "* BYE [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] x\r\n",
		  "* NO [CAPABILITY IMAP4rev1] x\r\n"
		  "* BAD [CAPABILITY IMAP4rev1] x\r\n"
		  "* BYE [CAPABILITY IMAP4rev1] x\r\n", 3 },
		{ "code without text", NULL,
		  "a1 OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE]\r\n",
		  "a1 OK [CAPABILITY IMAP4rev1]\r\n", 1 },
		{ "lowercase", NULL,
		  "* capability imap4rev1 compress=deflate idle\r\n"
		  "a1 ok [Capability IMAP4rev1 Compress=Deflate] ok\r\n"
		  "* Ok [cApAbIlItY compress=DEFLATE imap4rev1] ok\r\n",
		  "* capability imap4rev1 idle\r\n"
		  "a1 ok [Capability IMAP4rev1] ok\r\n"
		  "* Ok [cApAbIlItY imap4rev1] ok\r\n", 3 },
	};

	(void)state;
	RUN(cases);
}

/* Lines that look close but carry no capability list. */
static void
test_not_capability(void **state)
{
	static const struct capa_case cases[] = {
		{ "ALERT text", NULL,
		  "* OK [ALERT] CAPABILITY COMPRESS=DEFLATE\r\n", NULL, 0 },
		{ "status text", NULL,
		  "* OK CAPABILITY COMPRESS=DEFLATE\r\n"
		  "a1 OK CAPABILITY COMPRESS=DEFLATE done\r\n", NULL, 0 },
		{ "tagged CAPABILITY", NULL,
		  "a1 CAPABILITY COMPRESS=DEFLATE\r\n", NULL, 0 },
		{ "longer keywords", NULL,
		  "* CAPABILITYX COMPRESS=DEFLATE\r\n"
		  "* OK [CAPABILITYX COMPRESS=DEFLATE] x\r\n"
		  "* OKAY [CAPABILITY COMPRESS=DEFLATE] x\r\n", NULL, 0 },
		{ "text after the code", NULL,
		  "* OK [CAPABILITY IMAP4rev1] COMPRESS=DEFLATE is off\r\n"
		  "a1 OK [CAPABILITY] COMPRESS=DEFLATE\r\n", NULL, 0 },
		{ "other codes", NULL,
		  "* OK [PERMANENTFLAGS (COMPRESS=DEFLATE)] x\r\n"
		  "* NO [ALERT COMPRESS=DEFLATE] x\r\n", NULL, 0 },
		{ "continuation", NULL,
		  "+ CAPABILITY COMPRESS=DEFLATE\r\n"
		  "+ [CAPABILITY COMPRESS=DEFLATE]\r\n", NULL, 0 },
		{ "tag named like *", NULL,
		  "*x CAPABILITY COMPRESS=DEFLATE\r\n", NULL, 0 },
		{ "empty and odd lines", NULL,
		  "\r\n\n*\r\n* \r\n \r\n*\n", NULL, 0 },
		{ "in a SEARCH", NULL,
		  "* SEARCH COMPRESS=DEFLATE\r\n", NULL, 0 },
		{ "unterminated at the end", NULL,
		  "* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE", NULL, 0 },
	};

	(void)state;
	RUN(cases);
}

static void
test_literals(void **state)
{
	static const struct capa_case cases[] = {
		{ "FETCH body holds a capability line", NULL,
		  "* 1 FETCH (BODY[] {33}\r\n"
		  "\r\n* CAPABILITY COMPRESS=DEFLATE\r\n)\r\n"
		  "* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\r\n",
		  "* 1 FETCH (BODY[] {33}\r\n"
		  "\r\n* CAPABILITY COMPRESS=DEFLATE\r\n)\r\n"
		  "* CAPABILITY IMAP4rev1\r\n", 1 },
		{ "body ends in a line start", NULL,
		  "* 1 FETCH (BODY[] {33}\r\n"
		  "\r\n* CAPABILITY COMPRESS=DEFLATE\r\n"
		  " UID 4)\r\n* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* 1 FETCH (BODY[] {33}\r\n"
		  "\r\n* CAPABILITY COMPRESS=DEFLATE\r\n"
		  " UID 4)\r\n* CAPABILITY\r\n", 1 },
		{ "literal8", NULL,
		  "* 2 FETCH (BINARY[] ~{33}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\nx\n)\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* 2 FETCH (BINARY[] ~{33}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\nx\n)\r\n"
		  "* CAPABILITY\r\n", 1 },
		{ "non-synchronizing form", NULL,
		  "* 3 FETCH (BODY[] {31+}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n)\r\n"
		  "* OK [CAPABILITY COMPRESS=DEFLATE] x\r\n",
		  "* 3 FETCH (BODY[] {31+}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n)\r\n"
		  "* OK [CAPABILITY] x\r\n", 1 },
		{ "several literals in a line", NULL,
		  "* 4 FETCH (BODY[1] {31}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n BODY[2] {0}\r\n"
		  " BODY[3] ~{31}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n ENVELOPE ({30}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\n NIL))\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* 4 FETCH (BODY[1] {31}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n BODY[2] {0}\r\n"
		  " BODY[3] ~{31}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n ENVELOPE ({30}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\n NIL))\r\n"
		  "* CAPABILITY\r\n", 1 },
		{ "literal right after a literal", NULL,
		  "* LIST () \"/\" {2}\r\nab{30}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\n\r\n",
		  NULL, 0 },
		{ "literal as the second token", NULL,
		  "* {30}\r\n* CAPABILITY COMPRESS=DEFLATE\n\r\n",
		  NULL, 0 },
		{ "bare LF after the header", NULL,
		  "* 5 FETCH (BODY[] {30}\n"
		  "* CAPABILITY COMPRESS=DEFLATE\n)\n"
		  "* CAPABILITY COMPRESS=DEFLATE\n",
		  "* 5 FETCH (BODY[] {30}\n"
		  "* CAPABILITY COMPRESS=DEFLATE\n)\n"
		  "* CAPABILITY\n", 1 },
		{ "longest header", NULL,
		  "* 1 FETCH (BINARY[] ~{00000000000000000031+}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n)\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* 1 FETCH (BINARY[] ~{00000000000000000031+}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n)\r\n"
		  "* CAPABILITY\r\n", 1 },
		{ "longest header at a segment's start", NULL,
		  "* LIST () \"/\" {2}\r\nab~{00000000000000000030+}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\n\r\n",
		  NULL, 0 },
		{ "largest size", NULL,
		  "* 6 FETCH (BODY[] {18446744073709551615}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n", NULL, 0 },
	};

	(void)state;
	RUN(cases);
}

/* A "{n}" that is no literal must not swallow the next line. */
static void
test_not_literal(void **state)
{
	static const struct capa_case cases[] = {
		{ "status text ends in {5}", NULL,
		  "a1 NO Mailbox doesn't exist: foo {5}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "a1 NO Mailbox doesn't exist: foo {5}\r\n"
		  "* CAPABILITY\r\n", 1 },
		{ "untagged status text ends in {5}", NULL,
		  "* OK [ALERT] see {5}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* OK [ALERT] see {5}\r\n"
		  "* CAPABILITY\r\n", 1 },
		{ "continuation ends in {5}", NULL,
		  "+ {5}\r\n* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "+ {5}\r\n* CAPABILITY\r\n", 1 },
		{ "brace inside an atom", NULL,
		  "* LIST () \"/\" foo{5}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* LIST () \"/\" foo{5}\r\n"
		  "* CAPABILITY\r\n", 1 },
		{ "tilde inside an atom", NULL,
		  "* LIST () \"/\" foo~{5}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* LIST () \"/\" foo~{5}\r\n"
		  "* CAPABILITY\r\n", 1 },
		{ "longest header inside an atom", NULL,
		  "* LIST () \"/\" x~{00000000000000000005+}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* LIST () \"/\" x~{00000000000000000005+}\r\n"
		  "* CAPABILITY\r\n", 1 },
		{ "size beyond 2^64-1", NULL,
		  "* 1 FETCH (BODY[] {18446744073709551616}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* 1 FETCH (BODY[] {18446744073709551616}\r\n"
		  "* CAPABILITY\r\n", 1 },
		{ "more than 20 digits", NULL,
		  "* 1 FETCH (BODY[] {000000000000000000005}\r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* 1 FETCH (BODY[] {000000000000000000005}\r\n"
		  "* CAPABILITY\r\n", 1 },
		{ "no digits, or junk", NULL,
		  "* 1 FETCH (BODY[] {}\r\n* 1 FETCH (X {+}\r\n"
		  "* 1 FETCH (X {5)}\r\n* 1 FETCH (X {5} \r\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n",
		  "* 1 FETCH (BODY[] {}\r\n* 1 FETCH (X {+}\r\n"
		  "* 1 FETCH (X {5)}\r\n* 1 FETCH (X {5} \r\n"
		  "* CAPABILITY\r\n", 1 },
	};

	(void)state;
	RUN(cases);
}

static void
test_names(void **state)
{
	static const struct capa_case cases[] = {
		{ "prefix COMPRESS=", "COMPRESS=",
		  "* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE COMPRESS=ZSTD "
		  "COMPRESS COMPRESSX compress=lz4 IDLE\r\n"
		  "* OK [CAPABILITY COMPRESS=ZSTD IMAP4rev1 COMPRESS=] x\r\n",
		  "* CAPABILITY IMAP4rev1 COMPRESS COMPRESSX IDLE\r\n"
		  "* OK [CAPABILITY IMAP4rev1] x\r\n", 5 },
		{ "STARTTLS", "STARTTLS",
		  "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n"
		  "* CAPABILITY starttls STARTTLSX XSTARTTLS STARTTLS\r\n",
		  "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hi\r\n"
		  "* CAPABILITY STARTTLSX XSTARTTLS\r\n", 3 },
		{ "several names", "STARTTLS COMPRESS= AUTH=PLAIN",
		  "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN "
		  "AUTH=PLAINX COMPRESS=DEFLATE AUTH=LOGIN] hi\r\n",
		  "* OK [CAPABILITY IMAP4rev1 AUTH=PLAINX AUTH=LOGIN] "
		  "hi\r\n", 3 },
		{ "prefix and exact overlap", "COMPRESS= COMPRESS=DEFLATE",
		  "* CAPABILITY COMPRESS=DEFLATE COMPRESS=DEFLATEX X\r\n",
		  "* CAPABILITY X\r\n", 2 },
		{ "no names", "",
		  "* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\r\n", NULL, 0 },
	};
	char name[IMAP_CAPA_NAME_MAX + 1], in[512], want[512];
	struct capa_case longest = { "longest name", name, in, want, 1 };

	(void)state;
	RUN(cases);

	/* The hold's worst case: SP and a whole IMAP_CAPA_NAME_MAX name. */
	memset(name, 'N', IMAP_CAPA_NAME_MAX);
	name[IMAP_CAPA_NAME_MAX] = '\0';
	snprintf(in, sizeof(in), "* CAPABILITY X %s %sX %.*s\r\n", name,
	    name, IMAP_CAPA_NAME_MAX - 1, name);
	snprintf(want, sizeof(want), "* CAPABILITY X %sX %.*s\r\n", name,
	    IMAP_CAPA_NAME_MAX - 1, name);
	run_case(&longest);
}

static void
test_line_ends(void **state)
{
	static const struct capa_case cases[] = {
		{ "bare LF", NULL,
		  "* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\n"
		  "* OK [CAPABILITY COMPRESS=DEFLATE IDLE] hi\n"
		  "a1 OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE]\n",
		  "* CAPABILITY IMAP4rev1\n"
		  "* OK [CAPABILITY IDLE] hi\n"
		  "a1 OK [CAPABILITY IMAP4rev1]\n", 3 },
		{ "mixed line ends", NULL,
		  "* CAPABILITY COMPRESS=DEFLATE\n"
		  "* CAPABILITY COMPRESS=DEFLATE\r\n"
		  "* CAPABILITY X COMPRESS=DEFLATE\n",
		  "* CAPABILITY\n* CAPABILITY\r\n* CAPABILITY X\n", 3 },
		{ "bare CR ends an atom", NULL,
		  "* CAPABILITY X COMPRESS=DEFLATE\rY\r\n",
		  "* CAPABILITY X\rY\r\n", 1 },
	};

	(void)state;
	RUN(cases);
}

/* A capability line of any length is edited; the hold stays small. */
static void
test_long_line(void **state)
{
	struct imap_capa_list list;
	struct sink k = { 0 };
	char *in, *want, *pi, *pw;
	size_t i, n = 20000, cuts[1];
	uint64_t rm;

	(void)state;
	in = malloc(n * 40 + 64);
	want = malloc(n * 40 + 64);
	assert_non_null(in);
	assert_non_null(want);
	pi = in + sprintf(in, "* CAPABILITY IMAP4rev1");
	pw = want + sprintf(want, "* CAPABILITY IMAP4rev1");
	for (i = 0; i < n; i++) {
		pi += sprintf(pi, " X-CAPA-%zu", i);
		pw += sprintf(pw, " X-CAPA-%zu", i);
		if (i % 1000 == 999)
			pi += sprintf(pi, " COMPRESS=DEFLATE");
	}
	pi += sprintf(pi, " COMPRESS=DEFLATE\r\n* CAPABILITY "
	    "COMPRESS=DEFLATE\r\n");
	pw += sprintf(pw, "\r\n* CAPABILITY\r\n");
	list_set(&list, DEFAULT_NAMES);

	rm = run_cuts(&list, in, (size_t)(pi - in), NULL, 0, &k);
	check_out("long line", "whole", &k, want, (size_t)(pw - want), rm,
	    n / 1000 + 2);
	for (i = 0; i < (size_t)(pi - in); i += 997) {
		cuts[0] = i;
		rm = run_cuts(&list, in, (size_t)(pi - in), cuts, 1, &k);
		check_out("long line", "split", &k, want,
		    (size_t)(pw - want), rm, n / 1000 + 2);
	}
	free(k.buf);
	free(in);
	free(want);
}

/*
 * 100 MB literal in 64 KiB chunks: each body chunk gives exactly one
 * span, the chunk itself, and the body is never edited though it is
 * full of capability lines.
 */
static void
test_big_literal(void **state)
{
	static const char pat[] = "\r\n* CAPABILITY COMPRESS=DEFLATE\r\n";
	static const char head[] = "* 1 FETCH (UID 7 BODY[] {104857600}\r\n";
	static const char tail[] = ")\r\n* CAPABILITY IMAP4rev1 "
	    "COMPRESS=DEFLATE\r\n";
	const size_t chunk = 65536, nchunks = 1600;
	struct imap_capa_list list;
	struct imap_capa f;
	struct sink k = { 0 };
	char *buf;
	size_t i, calls;

	(void)state;
	buf = malloc(chunk);
	assert_non_null(buf);
	for (i = 0; i < chunk; i++)
		buf[i] = pat[i % (sizeof(pat) - 1)];
	list_set(&list, DEFAULT_NAMES);
	imap_capa_init(&f, &list);
	k.f = &f;
	k.store = false;

	feed_chunk(&f, &k, head, sizeof(head) - 1);
	assert_int_equal(k.calls, 1);
	for (i = 0; i < nchunks; i++) {
		calls = k.calls;
		k.chunk = buf;
		k.chunk_len = chunk;
		k.fed_out = 0;
		imap_capa_feed(&f, buf, chunk, sink_out, &k);
		/* One span, pointing at the chunk: sink_out checked it. */
		assert_int_equal(k.calls - calls, 1);
		assert_int_equal(k.fed_out, chunk);
	}
	assert_int_equal(f.literal_left, 0);
	assert_int_equal(f.literals, 1);

	k.store = true;
	feed_chunk(&f, &k, tail, sizeof(tail) - 1);
	imap_capa_flush(&f, sink_out, &k);
	assert_int_equal(k.len, strlen(")\r\n* CAPABILITY IMAP4rev1\r\n"));
	assert_memory_equal(k.buf, ")\r\n* CAPABILITY IMAP4rev1\r\n", k.len);
	assert_int_equal(f.removed, 1);
	assert_int_equal(f.lists, 1);
	/* O(chunks): head 1, body 1600, tail 2 (around the cut). */
	assert_int_equal(k.calls, 1 + nchunks + 2);
	assert_int_equal(k.total, sizeof(head) - 1 + chunk * nchunks +
	    k.len);
	free(k.buf);
	free(buf);
}

/* Ordinary lines pass as one span per chunk, straight from the input. */
static void
test_passthrough_spans(void **state)
{
	static const char in[] =
	    "* 1 FETCH (FLAGS (\\Seen) UID 4)\r\n"
	    "* OK [UIDNEXT 5] Predicted next UID\r\n"
	    "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
	    "a1 OK [READ-WRITE] Select completed\r\n"
	    "+ idling\r\n";
	struct imap_capa_list list;
	struct imap_capa f;
	struct sink k = { 0 };

	(void)state;
	list_set(&list, DEFAULT_NAMES);
	imap_capa_init(&f, &list);
	k.f = &f;
	k.store = true;
	k.chunk = in;
	k.chunk_len = sizeof(in) - 1;
	imap_capa_feed(&f, in, sizeof(in) - 1, sink_out, &k);
	assert_int_equal(k.calls, 1);
	assert_int_equal(k.len, sizeof(in) - 1);
	assert_memory_equal(k.buf, in, k.len);
	assert_int_equal(f.hold_len, 0);
	free(k.buf);
}

/* A candidate open at a chunk's end is held, then flushed unedited. */
static void
test_hold_and_flush(void **state)
{
	static const char a[] = "* CAPABILITY IMAP4rev1 COMPRESS=DEF";
	struct imap_capa_list list;
	struct imap_capa f;
	struct sink k = { 0 };

	(void)state;
	list_set(&list, DEFAULT_NAMES);
	imap_capa_init(&f, &list);
	k.f = &f;
	k.store = true;
	feed_chunk(&f, &k, a, sizeof(a) - 1);
	assert_int_equal(k.len, strlen("* CAPABILITY IMAP4rev1"));
	assert_int_equal(f.hold_len, strlen(" COMPRESS=DEF"));
	imap_capa_flush(&f, sink_out, &k);
	assert_int_equal(k.len, sizeof(a) - 1);
	assert_memory_equal(k.buf, a, k.len);
	assert_int_equal(f.removed, 0);
	/* After a flush the next byte starts a line. */
	feed_chunk(&f, &k, "* CAPABILITY COMPRESS=DEFLATE\r\n", 31);
	assert_int_equal(f.removed, 1);
	assert_int_equal(f.lists, 2);
	k.len = 0;
	/* A flush drops a pending literal too. */
	feed_chunk(&f, &k, "* 1 FETCH (BODY[] {100}\r\nab", 27);
	assert_int_equal(f.literal_left, 98);
	imap_capa_flush(&f, sink_out, &k);
	feed_chunk(&f, &k, "* CAPABILITY COMPRESS=DEFLATE\r\n", 31);
	assert_int_equal(f.removed, 2);
	free(k.buf);
}

static void
test_list_add(void **state)
{
	struct imap_capa_list list;
	char name[IMAP_CAPA_NAME_MAX + 2];
	int i;

	(void)state;
	imap_capa_list_init(&list);
	errno = 0;
	assert_int_equal(imap_capa_list_add(&list, ""), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(imap_capa_list_add(&list, "A B"), -1);
	assert_int_equal(imap_capa_list_add(&list, "A]"), -1);
	assert_int_equal(imap_capa_list_add(&list, "A\r"), -1);
	assert_int_equal(imap_capa_list_add(&list, "A*"), -1);
	assert_int_equal(imap_capa_list_add(&list, "\xc3\xa9"), -1);
	memset(name, 'A', sizeof(name));
	name[IMAP_CAPA_NAME_MAX + 1] = '\0';
	assert_int_equal(imap_capa_list_add(&list, name), -1);
	assert_int_equal(errno, EINVAL);
	name[IMAP_CAPA_NAME_MAX] = '\0';
	assert_int_equal(imap_capa_list_add(&list, name), 0);
	assert_int_equal(list.count, 1);

	assert_int_equal(imap_capa_list_add(&list, "compress="), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.prefix, 1u << 1);
	assert_memory_equal(list.name[1], "COMPRESS=", 9);
	/* Duplicates, in any case, are not added again. */
	assert_int_equal(imap_capa_list_add(&list, "COMPRESS="), 0);
	assert_int_equal(list.count, 2);

	for (i = 2; i < IMAP_CAPA_NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "X-%d", i);
		assert_int_equal(imap_capa_list_add(&list, name), 0);
	}
	errno = 0;
	assert_int_equal(imap_capa_list_add(&list, "ONE-MORE"), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(list.count, IMAP_CAPA_NAMES_MAX);
}

/* xorshift64*, fixed seed: every run tests the same streams. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/*
 * Random streams of pieces likely to trip the filter, filtered whole
 * and in random chunks: the outputs and counts must agree.
 */
static void
test_random_splits(void **state)
{
	static const char *const piece[] = {
		"* ", "a1 ", "+ ", "OK ", "NO ", "BYE ", "PREAUTH ",
		"CAPABILITY", "[CAPABILITY", "[ALERT]", " ", "  ", "]",
		"COMPRESS=DEFLATE", "COMPRESS=ZSTD", "STARTTLS", "starttls",
		"IMAP4rev1", "COMPRESS", "\r\n", "\n", "\r", "{3}", "{0}",
		"~{2}", "{4+}", "(", ")", "FETCH", "x", "}", "{", "~",
		"BODY[] ", "12", "{18446744073709551615}",
	};
	const size_t npiece = sizeof(piece) / sizeof(piece[0]);
	struct imap_capa_list list;
	struct sink whole = { 0 }, split = { 0 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL, rm1, rm2;
	size_t cuts[64], ncuts, len, i, round;
	char in[2048];

	(void)state;
	list_set(&list, "COMPRESS= STARTTLS");
	for (round = 0; round < 3000; round++) {
		len = 0;
		while (len < sizeof(in) - 64) {
			const char *pc = piece[rnd(&seed) % npiece];

			memcpy(in + len, pc, strlen(pc));
			len += strlen(pc);
			if (rnd(&seed) % 40 == 0)
				break;
		}
		rm1 = run_cuts(&list, in, len, NULL, 0, &whole);
		ncuts = (size_t)(rnd(&seed) % 64);
		for (i = 0; i < ncuts; i++)
			cuts[i] = len > 0 ? (size_t)(rnd(&seed) % len) : 0;
		/* ascending */
		for (i = 1; i < ncuts; i++) {
			size_t j = i, t = cuts[i];

			while (j > 0 && cuts[j - 1] > t) {
				cuts[j] = cuts[j - 1];
				j--;
			}
			cuts[j] = t;
		}
		rm2 = run_cuts(&list, in, len, cuts, ncuts, &split);
		if (whole.len != split.len ||
		    memcmp(whole.buf, split.buf, whole.len) != 0 || rm1 != rm2)
			fail_msg("round %zu: split output differs", round);
		assert_true(whole.len <= len);
	}
	free(whole.buf);
	free(split.buf);
}

/* STARTTLS offered by msgeventd itself: the server's removed, one added. */
static void
test_add(void **state)
{
	static const struct capa_case cases[] = {
		{ "greeting", "COMPRESS= STARTTLS",
		  "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ STARTTLS "
		  "AUTH=PLAIN] Dovecot ready.\r\n",
		  "* OK [CAPABILITY STARTTLS IMAP4rev1 SASL-IR LITERAL+ "
		  "AUTH=PLAIN] Dovecot ready.\r\n", 1 },
		{ "untagged, tagged, empty", "COMPRESS= STARTTLS",
		  "* CAPABILITY IMAP4rev1 IDLE\r\n"
		  "a1 OK [CAPABILITY] done\r\n"
		  "* capability\r\n"
		  "* CAPABILITY\n",
		  "* CAPABILITY STARTTLS IMAP4rev1 IDLE\r\n"
		  "a1 OK [CAPABILITY STARTTLS] done\r\n"
		  "* capability STARTTLS\r\n"
		  "* CAPABILITY STARTTLS\n", 0 },
		{ "not a list: nothing added", "COMPRESS= STARTTLS",
		  "* OK [ALERT] CAPABILITY x\r\n"
		  "a1 CAPABILITY\r\n"
		  "* 1 FETCH (BODY[] {14}\r\n* CAPABILITY\r\n)\r\n"
		  "* OK CAPABILITY\r\n", NULL, 0 },
		{ "server's STARTTLS and COMPRESS go", "COMPRESS= STARTTLS",
		  "* CAPABILITY STARTTLS IMAP4rev1 starttls "
		  "COMPRESS=DEFLATE LOGINDISABLED\r\n",
		  "* CAPABILITY STARTTLS IMAP4rev1 LOGINDISABLED\r\n", 3 },
	};
	struct imap_capa_list list;
	struct imap_capa f;
	struct sink k = { 0 };

	(void)state;
	case_add = " STARTTLS";
	RUN(cases);
	case_add = NULL;

	/* switched off between feeds: later lists are left alone */
	list_set(&list, "STARTTLS");
	imap_capa_init(&f, &list);
	k.f = &f;
	k.store = true;
	imap_capa_set_add(&f, " STARTTLS");
	feed_chunk(&f, &k, "* CAPABILITY IMAP4rev1\r\n", 24);
	imap_capa_set_add(&f, NULL);
	feed_chunk(&f, &k, "* CAPABILITY IMAP4rev1 STARTTLS\r\n", 33);
	imap_capa_flush(&f, sink_out, &k);
	assert_int_equal(k.len, 33 + 24);
	assert_memory_equal(k.buf, "* CAPABILITY STARTTLS IMAP4rev1\r\n"
	    "* CAPABILITY IMAP4rev1\r\n", 33 + 24);
	assert_int_equal(f.added, 1);
	assert_int_equal(f.removed, 1);
	free(k.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_untagged),
		cmocka_unit_test(test_tagged_and_status),
		cmocka_unit_test(test_not_capability),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_not_literal),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_big_literal),
		cmocka_unit_test(test_passthrough_spans),
		cmocka_unit_test(test_hold_and_flush),
		cmocka_unit_test(test_list_add),
		cmocka_unit_test(test_random_splits),
		cmocka_unit_test(test_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
