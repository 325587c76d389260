/*
 * test_imap_set.c - sequence sets: reading in order, the canonical walk
 * (checked against a bitmap, across its multi-pass window), the writer
 * and its truncation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parser/imap_set.h"

/* xorshift64*, fixed seeds: every run tests the same sets. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static uint32_t
rnd_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rnd(s) % n);
}

/* imap_set_canon() on a C string; returns its rc, text in OUT. */
static int
canon(const char *set, uint32_t star, char *out, size_t size, size_t *len_r)
{
	return imap_set_canon(set, strlen(set), star, out, size, len_r);
}

static void
assert_canon(const char *set, uint32_t star, const char *want)
{
	char out[256];
	size_t len = 99;

	if (canon(set, star, out, sizeof(out), &len) != 0)
		fail_msg("'%s' did not canonicalize", set);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
}

static void
test_iter_order(void **state)
{
	struct imap_set_iter it;
	const char *set = "5:1,9,3,*,2:*";
	uint32_t a, b;

	(void)state;
	imap_set_iter_init(&it, set, strlen(set), 20, 20);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 1);
	assert_int_equal(a, 1);
	assert_int_equal(b, 5);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 1);
	assert_int_equal(a, 9);
	assert_int_equal(b, 9);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 1);
	assert_int_equal(a, 3);
	assert_int_equal(b, 3);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 1);
	assert_int_equal(a, 20);
	assert_int_equal(b, 20);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 1);
	assert_int_equal(a, 2);
	assert_int_equal(b, 20);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 0);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 0);
}

/* Not NUL-terminated: the length alone bounds the reading. */
static void
test_iter_length(void **state)
{
	struct imap_set_iter it;
	uint32_t a, b;

	(void)state;
	imap_set_iter_init(&it, "12,34", 4, 0, UINT32_MAX);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 1);
	assert_int_equal(a, 12);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 1);
	assert_int_equal(a, 3);
	assert_int_equal(b, 3);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 0);
}

static void
test_iter_sticky_error(void **state)
{
	struct imap_set_iter it;
	const char *set = "1,x,3";
	uint32_t a, b;

	(void)state;
	imap_set_iter_init(&it, set, strlen(set), 0, UINT32_MAX);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 1);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), -1);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), -1);
}

static void
test_syntax_errors(void **state)
{
	static const char *const bad[] = {
		"", ",", "1,", ",1", "1,,2", "1:", ":1", "1::2", "1:2:3",
		"0", "0:5", "5:0", "01", "1:02", "a", "1a", "1 ", " 1",
		"1, 2", "-1", "+1", "1-3", "$", "1;2", "**", "1:*x",
		"4294967296", "99999999999999999999", "1:4294967296",
		"1\n", "(1)",
	};
	char out[64];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = 99;
		if (canon(bad[i], 7, out, sizeof(out), &len) != -1)
			fail_msg("'%s' accepted", bad[i]);
		assert_string_equal(out, "");
		assert_int_equal(len, 0);
	}
	/* "*" where no star is allowed (uid-set) */
	assert_int_equal(canon("*", 0, out, sizeof(out), &len), -1);
	assert_int_equal(canon("1:*", 0, out, sizeof(out), &len), -1);
}

static void
test_max(void **state)
{
	struct imap_set_iter it;
	uint32_t a, b;

	(void)state;
	imap_set_iter_init(&it, "1:10", 4, 10, 10);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), 1);
	imap_set_iter_init(&it, "1:11", 4, 10, 10);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), -1);
	imap_set_iter_init(&it, "100", 3, 10, 10);
	assert_int_equal(imap_set_iter_next(&it, &a, &b), -1);
	assert_canon("4294967295", 0, "4294967295");
	assert_canon("4294967295:1", 0, "1:4294967295");
	assert_canon("4294967294,4294967295", 0, "4294967294:4294967295");
}

static void
test_canon(void **state)
{
	(void)state;
	assert_canon("1", 0, "1");
	assert_canon("1:1", 0, "1");
	assert_canon("5:1", 0, "1:5");
	assert_canon("5:1,9,2", 0, "1:5,9");
	assert_canon("9,7,8", 0, "7:9");
	assert_canon("1:3,4", 0, "1:4");
	assert_canon("4,1:3", 0, "1:4");
	assert_canon("1:3,5", 0, "1:3,5");
	assert_canon("3,3,3", 0, "3");
	assert_canon("10:20,15:25,1:2,30", 0, "1:2,10:25,30");
	assert_canon("*", 42, "42");
	assert_canon("40:*", 42, "40:42");
	assert_canon("*:40", 42, "40:42");
	assert_canon("50:*", 42, "42:50");
}

static void
test_canon_truncate(void **state)
{
	char out[16];
	size_t len;

	(void)state;
	/* "1:3,5,7:9": 9 bytes, 10 with the NUL */
	assert_int_equal(canon("7:9,1:3,5", 0, out, 10, &len), 0);
	assert_string_equal(out, "1:3,5,7:9");
	assert_int_equal(canon("7:9,1:3,5", 0, out, 9, &len), 1);
	assert_string_equal(out, "1:3,5");
	assert_int_equal(len, 5);
	assert_int_equal(canon("7:9,1:3,5", 0, out, 6, &len), 1);
	assert_string_equal(out, "1:3,5");
	assert_int_equal(canon("7:9,1:3,5", 0, out, 5, &len), 1);
	assert_string_equal(out, "1:3");
	assert_int_equal(len, 3);
	assert_int_equal(canon("7:9,1:3,5", 0, out, 4, &len), 1);
	assert_string_equal(out, "1:3");
	assert_int_equal(canon("7:9,1:3,5", 0, out, 3, &len), 1);
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	assert_int_equal(canon("7:9,1:3,5", 0, out, 1, &len), 1);
	assert_string_equal(out, "");
	assert_int_equal(canon("7:9,1:3,5", 0, NULL, 0, &len), 1);
	assert_int_equal(len, 0);
	/*
	 * A range that does not fit is dropped whole, never shortened,
	 * and so is every later one, even one that would fit (",300").
	 */
	assert_int_equal(canon("300,1,100:200", 0, out, 8, &len), 1);
	assert_string_equal(out, "1");
	/* an error still wins over a small buffer */
	assert_int_equal(canon("1,2,x", 0, out, 2, &len), -1);
}

struct collect {
	uint32_t first[8];
	uint32_t last[8];
	size_t n;
	size_t stop_after;
};

static bool
collect_cb(void *ctx, uint32_t first, uint32_t last)
{
	struct collect *c = ctx;

	assert_true(c->n < 8);
	c->first[c->n] = first;
	c->last[c->n] = last;
	c->n++;
	return c->n != c->stop_after;
}

static void
test_walk_stop_and_error(void **state)
{
	struct collect c;
	const char *set = "9,1,5,3";

	(void)state;
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(imap_set_walk(set, strlen(set), 0, UINT32_MAX,
	    collect_cb, &c), 1);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.first[0], 1);
	assert_int_equal(c.first[1], 3);
	/* the callback never sees a part of an invalid set */
	memset(&c, 0, sizeof(c));
	assert_int_equal(imap_set_walk("1,2,3,", 6, 0, UINT32_MAX,
	    collect_cb, &c), -1);
	assert_int_equal(c.n, 0);
	/* max applies to "*" too: star above max is the caller's bug */
	memset(&c, 0, sizeof(c));
	assert_int_equal(imap_set_walk("2:*", 3, 5, 5, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.first[0], 2);
	assert_int_equal(c.last[0], 5);
}

/*
 * Random sets over 1..DOMAIN, many more disjoint ranges than one pass
 * of the walk holds, in random, ascending and descending order, some
 * long ones crossing the pass limits: the canonical text must equal
 * the bitmap's.
 */
#define DOMAIN	40000

static size_t
bitmap_format(const unsigned char *bit, char *out, size_t size)
{
	size_t len = 0;
	uint32_t i, j;

	out[0] = '\0';
	for (i = 1; i <= DOMAIN; i++) {
		if (!bit[i])
			continue;
		for (j = i; j + 1 <= DOMAIN && bit[j + 1]; j++)
			;
		if (i == j)
			len += (size_t)snprintf(out + len, size - len, "%s%u",
			    len > 0 ? "," : "", i);
		else
			len += (size_t)snprintf(out + len, size - len,
			    "%s%u:%u", len > 0 ? "," : "", i, j);
		assert_true(len < size);
		i = j;
	}
	return len;
}

static void
test_walk_many_ranges(void **state)
{
	const size_t textmax = 1 << 20;
	unsigned char *bit;
	char *set, *want, *got;
	uint64_t seed = 0x5eed5e75eed5e75ULL;
	uint32_t a, b, t, n, i, round;
	size_t slen, glen, wlen;

	(void)state;
	bit = calloc(DOMAIN + 2, 1);
	set = malloc(textmax);
	want = malloc(textmax);
	got = malloc(textmax);
	assert_non_null(bit);
	assert_non_null(set);
	assert_non_null(want);
	assert_non_null(got);
	for (round = 0; round < 24; round++) {
		memset(bit, 0, DOMAIN + 2);
		slen = 0;
		n = round < 3 ? 3 * IMAP_SET_WALK_RANGES + 7 :
		    1 + rnd_below(&seed, 6 * IMAP_SET_WALK_RANGES);
		for (i = 0; i < n; i++) {
			if (round == 0) {		/* descending */
				a = b = DOMAIN - 2 * i;
			} else if (round == 1) {	/* ascending */
				a = b = 1 + 3 * i;
			} else if (round == 2) {	/* touching */
				a = 1 + 2 * (n - 1 - i);
				b = a + 1;
			} else {
				a = 1 + rnd_below(&seed, DOMAIN);
				b = rnd_below(&seed, 50) == 0 ?
				    1 + rnd_below(&seed, DOMAIN) :
				    a + rnd_below(&seed, 3);
				if (b > DOMAIN)
					b = DOMAIN;
			}
			for (t = a < b ? a : b; t <= (a < b ? b : a); t++)
				bit[t] = 1;
			slen += (size_t)snprintf(set + slen, textmax - slen,
			    "%s%u:%u", i > 0 ? "," : "", a, b);
			assert_true(slen < textmax);
		}
		wlen = bitmap_format(bit, want, textmax);
		assert_int_equal(imap_set_canon(set, slen, 0, got, textmax,
		    &glen), 0);
		assert_int_equal(glen, wlen);
		assert_string_equal(got, want);
	}
	free(bit);
	free(set);
	free(want);
	free(got);
}

/*
 * A range cut at one pass's limit goes on in the next pass: the two
 * halves must reach the callback as one.  2, 4, ..., 4W fill the first
 * compaction, which keeps 2..2W and sets the limit to 2W + 1; then
 * 1000:3001 is clipped to 1000..2W+1 and merges with the kept even
 * numbers from 1000 up; the second pass brings 2W+2..3001.
 */
static void
test_walk_cross_pass(void **state)
{
	const size_t textmax = 64 * 1024;
	char *set, *want, *got;
	size_t slen = 0, wlen = 0, glen;
	uint32_t i;

	(void)state;
	set = malloc(textmax);
	want = malloc(textmax);
	got = malloc(textmax);
	assert_non_null(set);
	assert_non_null(want);
	assert_non_null(got);
	for (i = 1; i <= 2 * IMAP_SET_WALK_RANGES; i++)
		slen += (size_t)snprintf(set + slen, textmax - slen, "%u,",
		    2 * i);
	slen += (size_t)snprintf(set + slen, textmax - slen, "1000:3001");
	for (i = 2; i < 1000; i += 2)
		wlen += (size_t)snprintf(want + wlen, textmax - wlen, "%u,", i);
	wlen += (size_t)snprintf(want + wlen, textmax - wlen, "1000:3001");
	assert_int_equal(imap_set_canon(set, slen, 0, got, textmax, &glen),
	    0);
	assert_string_equal(got, want);
	assert_int_equal(glen, wlen);
	free(set);
	free(want);
	free(got);
}

static void
test_writer(void **state)
{
	struct imap_set_writer w;
	char buf[64];

	(void)state;
	imap_set_writer_init(&w, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(imap_set_writer_finish(&w), 0);
	imap_set_writer_add(&w, 1, 1);
	imap_set_writer_add(&w, 2, 4);		/* touches: merged */
	imap_set_writer_add(&w, 3, 3);		/* inside: merged */
	imap_set_writer_add(&w, 4, 6);		/* overlaps: merged */
	imap_set_writer_add(&w, 8, 8);
	imap_set_writer_add(&w, 10, 12);
	assert_int_equal(imap_set_writer_finish(&w), 11);
	assert_string_equal(buf, "1:6,8,10:12");
	/* finish, then more: the same text goes on */
	imap_set_writer_add(&w, 13, 13);
	imap_set_writer_add(&w, 4294967295U, 4294967295U);
	imap_set_writer_finish(&w);
	assert_string_equal(buf, "1:6,8,10:12,13,4294967295");
	assert_false(w.truncated);
	/* the longest range text: 21 bytes and the NUL */
	imap_set_writer_init(&w, buf, 22);
	imap_set_writer_add(&w, 4294967294U, 4294967295U);
	imap_set_writer_finish(&w);
	assert_string_equal(buf, "4294967294:4294967295");
	assert_false(w.truncated);
	imap_set_writer_init(&w, buf, 21);
	imap_set_writer_add(&w, 4294967294U, 4294967295U);
	assert_int_equal(imap_set_writer_finish(&w), 0);
	assert_true(w.truncated);
	assert_string_equal(buf, "");
}

/* What imap_set_reader gave: ranges as "f:l" with "*" ends, comma-joined. */
struct rd_out {
	char buf[512];
	size_t len;
	int calls;
	int stop_at;		/* > 0: fail the reader on this call */
};

static bool
rd_cb(void *ctx, uint32_t first, uint32_t last, unsigned star)
{
	struct rd_out *o = ctx;
	char a[16], b[16];

	if (++o->calls == o->stop_at)
		return false;
	if (star & IMAP_SET_STAR_FIRST)
		snprintf(a, sizeof(a), "*");
	else
		snprintf(a, sizeof(a), "%u", (unsigned)first);
	if (star & IMAP_SET_STAR_LAST)
		snprintf(b, sizeof(b), "*");
	else
		snprintf(b, sizeof(b), "%u", (unsigned)last);
	o->len += (size_t)snprintf(o->buf + o->len, sizeof(o->buf) - o->len,
	    "%s%s:%s", o->len > 0 ? "," : "", a, b);
	return true;
}

/*
 * SET read by the reader in pieces of PIECE bytes (0: whole): returns
 * imap_set_reader_end()'s result, the ranges in O.
 */
static int
rd_read(const char *set, size_t piece, struct rd_out *o, int stop_at)
{
	struct imap_set_reader r;
	size_t len = strlen(set), i, n;

	memset(o, 0, sizeof(*o));
	o->stop_at = stop_at;
	imap_set_reader_init(&r);
	if (piece == 0)
		piece = len > 0 ? len : 1;
	for (i = 0; i < len; i += n) {
		n = len - i < piece ? len - i : piece;
		(void)imap_set_reader_feed(&r, set + i, n, rd_cb, o);
	}
	return imap_set_reader_end(&r, rd_cb, o);
}

static void
assert_reader(const char *set, const char *want)
{
	struct rd_out o;
	size_t piece;

	for (piece = 0; piece <= strlen(set) + 1; piece++) {
		if (rd_read(set, piece, &o, 0) != 0)
			fail_msg("'%s' in pieces of %zu: rejected", set, piece);
		assert_string_equal(o.buf, want);
	}
}

static void
test_reader_whole_and_pieces(void **state)
{
	(void)state;
	assert_reader("1", "1:1");
	assert_reader("4294967295", "4294967295:4294967295");
	assert_reader("1:3,5,9:2", "1:3,5:5,9:2");
	assert_reader("*", "*:*");
	assert_reader("7:*,*:2,12", "7:*,*:2,12:12");
	assert_reader("100,3,3,1:100", "100:100,3:3,3:3,1:100");
}

static void
test_reader_errors(void **state)
{
	static const char *const bad[] = {
		"", ",", "1,", ",1", "1,,2", "1:", ":1", "1::2", "1:2:3",
		"0", "1:0", "01", "4294967296", "99999999999", "1 2", "a",
		"1*", "*1", "**", "1:2,x", "$",
	};
	struct rd_out o;
	size_t i, piece;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (piece = 0; piece <= strlen(bad[i]) + 1; piece++)
			if (rd_read(bad[i], piece, &o, 0) != -1)
				fail_msg("'%s' accepted (pieces of %zu)",
				    bad[i], piece);
	/* the callback refusing fails the reader, sticky */
	assert_int_equal(rd_read("1,2,3", 1, &o, 2), -1);
	assert_int_equal(o.calls, 2);
	assert_string_equal(o.buf, "1:1");
	assert_int_equal(rd_read("1,2,3", 0, &o, 3), -1);
	assert_string_equal(o.buf, "1:1,2:2");
}

struct rd_range {
	uint32_t f, l;
	unsigned star;
};

struct rd_long_ctx {
	struct rd_range *got;
	size_t *n;
};

static bool
rd_long_cb(void *ctx, uint32_t first, uint32_t last, unsigned star)
{
	struct rd_long_ctx *c = ctx;

	if (*c->n >= 2048)
		return false;
	c->got[*c->n].f = first;
	c->got[*c->n].l = last;
	c->got[*c->n].star = star;
	(*c->n)++;
	return true;
}

/* A long random set, read in pieces, gives what the iterator gives. */
static void
test_reader_long(void **state)
{
	static char set[8192];
	struct imap_set_reader r;
	struct imap_set_iter it;
	uint64_t seed = 0x5e7dULL;
	uint32_t a, b, f, l;
	size_t len = 0, i, n, piece;
	static struct rd_range got[2048];

	(void)state;
	while (len < sizeof(set) - 40) {
		a = 1 + rnd_below(&seed, 100000);
		b = 1 + rnd_below(&seed, 100000);
		len += (size_t)snprintf(set + len, sizeof(set) - len,
		    len > 0 ? (rnd_below(&seed, 2) ? ",%u:%u" : ",%u") :
		    "%u:%u", a, b);
	}
	for (piece = 1; piece <= 1024; piece = piece * 3 + 1) {
		n = 0;
		imap_set_reader_init(&r);
		for (i = 0; i < len; i += piece) {
			size_t k = len - i < piece ? len - i : piece;
			assert_true(imap_set_reader_feed(&r, set + i, k,
			    rd_long_cb, &(struct rd_long_ctx){ got, &n }));
		}
		assert_int_equal(imap_set_reader_end(&r, rd_long_cb,
		    &(struct rd_long_ctx){ got, &n }), 0);
		imap_set_iter_init(&it, set, len, 0, UINT32_MAX);
		for (i = 0; i < n; i++) {
			assert_int_equal(imap_set_iter_next(&it, &f, &l), 1);
			assert_int_equal(got[i].star, 0);
			assert_int_equal(got[i].f < got[i].l ? got[i].f :
			    got[i].l, f);
			assert_int_equal(got[i].f < got[i].l ? got[i].l :
			    got[i].f, l);
		}
		assert_int_equal(imap_set_iter_next(&it, &f, &l), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iter_order),
		cmocka_unit_test(test_iter_length),
		cmocka_unit_test(test_iter_sticky_error),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_canon),
		cmocka_unit_test(test_canon_truncate),
		cmocka_unit_test(test_walk_stop_and_error),
		cmocka_unit_test(test_walk_many_ranges),
		cmocka_unit_test(test_walk_cross_pass),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_reader_whole_and_pieces),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_reader_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
