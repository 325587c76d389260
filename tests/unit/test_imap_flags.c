/*
 * test_imap_flags.c - flag sets (parsing, interning, formatting), the
 * STORE change computation for every operation with old flags known or
 * not and with or without the server's FETCH, PERMANENTFLAGS, the
 * per-UID cache (values' UID sets joined and split, expunged UIDs, the
 * cap, the set queries), 10,000 random operations against a naive model
 * (one slot per UID), mailboxes of 20,000 and a million messages, and
 * the grouping of changes into events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parser/imap_flags.h"
#include "../../parser/imap_set.h"

#define ITEM_BYTES	16	/* imap_uidset.h: a range, or a bitmap of 64 */

/* xorshift64*, fixed seeds: every run makes the same operations. */
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

/* A flag set from space-separated names, each fed to imap_flags_parse(). */
static struct imap_flags
fl(struct imap_flags_box *box, const char *list)
{
	struct imap_flags f = { 0 };
	const char *p = list, *e;

	while (*p != '\0') {
		e = strchr(p, ' ');
		if (e == NULL)
			e = p + strlen(p);
		if (e > p)
			assert_int_not_equal(imap_flags_parse(box, &f, p,
			    (size_t)(e - p)), -1);
		p = *e == ' ' ? e + 1 : e;
	}
	return f;
}

/* imap_flags_format() into a static buffer that always suffices. */
static const char *
fmt(const struct imap_flags_box *box, struct imap_flags f)
{
	static char out[IMAP_FLAGS_TEXT_MAX];
	size_t len;

	assert_int_equal(imap_flags_format(box, f, out, sizeof(out), &len),
	    0);
	assert_int_equal(len, strlen(out));
	return out;
}

static int
parse(struct imap_flags_box *box, struct imap_flags *f, const char *name)
{
	return imap_flags_parse(box, f, name, strlen(name));
}

static void
assert_flags(const struct imap_flags_box *box, struct imap_flags f,
    const char *want)
{
	const char *got = fmt(box, f);

	if (strcmp(got, want) != 0)
		fail_msg("flags '%s', want '%s'", got, want);
}

static void
assert_get(const struct imap_flags_box *box, uint32_t uid, const char *want)
{
	struct imap_flags f;

	if (!imap_flags_box_get(box, uid, &f))
		fail_msg("UID %u: unknown, want '%s'", uid, want);
	assert_flags(box, f, want);
}

static void
assert_unknown(const struct imap_flags_box *box, uint32_t uid)
{
	struct imap_flags f;

	if (imap_flags_box_get(box, uid, &f))
		fail_msg("UID %u: '%s', want unknown", uid, fmt(box, f));
}

static void
set(struct imap_flags_box *box, uint32_t first, uint32_t last,
    const char *list)
{
	assert_int_equal(imap_flags_box_set(box, first, last,
	    fl(box, list)), 0);
}

/* ---- parsing and formatting ------------------------------------------- */

static void
test_parse_system(void **state)
{
	static const char *const names[] = {
		"\\Answered", "\\FLAGGED", "\\deleted", "\\sEEN", "\\Draft",
	};
	struct imap_flags_box box;
	struct imap_flags f = { 0 };
	size_t i;

	(void)state;
	imap_flags_box_init(&box, 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(parse(&box, &f, names[i]), 0);
	assert_int_equal(f.bits, IMAP_FLAGS_SYSTEM);
	/* canonical spelling out, whatever came in */
	assert_flags(&box, f, "\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	/* \Recent is a flag, and ignored in any case */
	f.bits = 0;
	assert_int_equal(parse(&box, &f, "\\Recent"), 0);
	assert_int_equal(parse(&box, &f, "\\RECENT"), 0);
	assert_int_equal(f.bits, 0);
	/* a system flag costs no keyword table */
	assert_int_equal(imap_flags_box_memory(&box), 0);
	/* "\*" is PERMANENTFLAGS's, not a flag */
	assert_int_equal(parse(&box, &f, "\\*"), 1);
	assert_int_equal(f.bits, 0);
	imap_flags_box_deinit(&box);
}

static void
test_parse_keywords(void **state)
{
	struct imap_flags_box box;
	struct imap_flags f = { 0 };

	(void)state;
	imap_flags_box_init(&box, 0);
	assert_int_equal(parse(&box, &f, "$Forwarded"), 0);
	assert_int_equal(f.bits, IMAP_FLAGS_KEYWORD(0));
	assert_int_equal(parse(&box, &f, "NonJunk"), 0);
	assert_int_equal(f.bits, IMAP_FLAGS_KEYWORD(0) | IMAP_FLAGS_KEYWORD(1));
	/* the same keyword in another case: the same bit, first spelling */
	f.bits = 0;
	assert_int_equal(parse(&box, &f, "$FORWARDED"), 0);
	assert_int_equal(f.bits, IMAP_FLAGS_KEYWORD(0));
	assert_flags(&box, f, "$Forwarded");
	/* an extension flag: interned like a keyword, backslash kept */
	f.bits = 0;
	assert_int_equal(parse(&box, &f, "\\Junk"), 0);
	assert_int_equal(f.bits, IMAP_FLAGS_KEYWORD(2));
	assert_int_equal(parse(&box, &f, "\\JUNK"), 0);
	assert_int_equal(f.bits, IMAP_FLAGS_KEYWORD(2));
	assert_flags(&box, f, "\\Junk");
	/* "Seen" without a backslash is a keyword, not \Seen */
	f.bits = 0;
	assert_int_equal(parse(&box, &f, "Seen"), 0);
	assert_int_equal(f.bits, IMAP_FLAGS_KEYWORD(3));
	/* not flags: nothing interned, the set marked inexact */
	f.bits = 0;
	assert_int_equal(imap_flags_parse(&box, &f, "", 0), -1);
	assert_int_equal(f.bits, IMAP_FLAGS_OTHER);
	f.bits = 0;
	assert_int_equal(parse(&box, &f, "\\"), -1);
	assert_int_equal(parse(&box, &f, "a b"), -1);
	assert_int_equal(parse(&box, &f, "a]"), -1);
	assert_int_equal(parse(&box, &f, "a*"), -1);
	assert_int_equal(parse(&box, &f, "(a"), -1);
	assert_int_equal(parse(&box, &f, "\\\\x"), -1);
	assert_int_equal(parse(&box, &f, "\"a\""), -1);
	assert_int_equal(parse(&box, &f, "caf\xc3\xa9"), -1);
	assert_int_equal(parse(&box, &f, "tab\t"), -1);
	assert_int_equal(f.bits, IMAP_FLAGS_OTHER);
	/* LEN counts, no NUL needed */
	f.bits = 0;
	assert_int_equal(imap_flags_parse(&box, &f, "\\Seenxyz", 5), 0);
	assert_int_equal(f.bits, IMAP_FLAGS_SEEN);
	assert_flags(&box, (struct imap_flags){ UINT32_MAX },
	    "\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded "
	    "NonJunk \\Junk Seen");
	imap_flags_box_deinit(&box);
}

static void
test_format(void **state)
{
	struct imap_flags_box box;
	struct imap_flags f;
	char out[32];
	size_t len = 99;

	(void)state;
	imap_flags_box_init(&box, 0);
	f = fl(&box, "$Work \\seen \\Recent $Home \\answered");
	/* system flags first in their order, keywords as first seen */
	assert_flags(&box, f, "\\Answered \\Seen $Work $Home");
	assert_flags(&box, (struct imap_flags){ 0 }, "");
	/* OTHER has no name; neither has a bit the table lacks */
	assert_flags(&box, (struct imap_flags){ IMAP_FLAGS_OTHER |
	    IMAP_FLAGS_KEYWORD(20) | IMAP_FLAGS_SEEN }, "\\Seen");
	/* cut at a name boundary: "\Answered \Seen" is 15 bytes + NUL */
	assert_int_equal(imap_flags_format(&box, f, out, 16, &len), 1);
	assert_string_equal(out, "\\Answered \\Seen");
	assert_int_equal(len, 15);
	assert_int_equal(imap_flags_format(&box, f, out, 15, &len), 1);
	assert_string_equal(out, "\\Answered");
	/* a later name that would fit is not written after a cut one */
	f = fl(&box, "\\Seen $Work $a");
	assert_int_equal(imap_flags_format(&box, f, out, 12, &len), 1);
	assert_string_equal(out, "\\Seen $Work");
	assert_int_equal(imap_flags_format(&box, f, out, 1, &len), 1);
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	assert_int_equal(imap_flags_format(&box, f, NULL, 0, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(imap_flags_format(&box, (struct imap_flags){ 0 },
	    NULL, 0, &len), 0);
	imap_flags_box_deinit(&box);
}

static void
test_intern_caps(void **state)
{
	struct imap_flags_box box;
	struct imap_flags f = { 0 }, g = { 0 };
	char name[IMAP_FLAGS_NAMES_SPACE + 1], out[IMAP_FLAGS_TEXT_MAX];
	size_t len, i;

	(void)state;
	imap_flags_box_init(&box, 0);
	for (i = 0; i < IMAP_FLAGS_KEYWORDS_MAX; i++) {
		snprintf(name, sizeof(name), "$k%zu", i);
		assert_int_equal(parse(&box, &f, name), 0);
	}
	assert_int_equal(f.bits, ~(IMAP_FLAGS_SYSTEM | IMAP_FLAGS_OTHER));
	/* one more: beyond the table */
	assert_int_equal(parse(&box, &g, "$extra"), 0);
	assert_int_equal(g.bits, IMAP_FLAGS_OTHER);
	/* known ones still resolve */
	g.bits = 0;
	assert_int_equal(parse(&box, &g, "$K25"), 0);
	assert_int_equal(g.bits, IMAP_FLAGS_KEYWORD(25));
	/* the table survives nothing but reset */
	assert_true(imap_flags_box_memory(&box) > 0);
	imap_flags_box_reset(&box);
	assert_int_equal(imap_flags_box_memory(&box), 0);
	g.bits = 0;
	assert_int_equal(parse(&box, &g, "$extra"), 0);
	assert_int_equal(g.bits, IMAP_FLAGS_KEYWORD(0));

	/* the name space: one long name, then little room */
	imap_flags_box_reset(&box);
	memset(name, 'x', sizeof(name));
	g.bits = 0;
	assert_int_equal(imap_flags_parse(&box, &g, name,
	    IMAP_FLAGS_NAMES_SPACE + 1), 0);
	assert_int_equal(g.bits, IMAP_FLAGS_OTHER);
	g.bits = 0;
	assert_int_equal(imap_flags_parse(&box, &g, name,
	    IMAP_FLAGS_NAMES_SPACE - 3), 0);
	assert_int_equal(g.bits, IMAP_FLAGS_KEYWORD(0));
	assert_int_equal(parse(&box, &g, "$abcd"), 0);
	assert_true(g.bits & IMAP_FLAGS_OTHER);
	assert_int_equal(parse(&box, &g, "$ab"), 0);
	assert_int_equal(g.bits, IMAP_FLAGS_KEYWORD(0) | IMAP_FLAGS_KEYWORD(1) |
	    IMAP_FLAGS_OTHER);

	/* IMAP_FLAGS_TEXT_MAX holds a full table and every system flag */
	imap_flags_box_reset(&box);
	f.bits = IMAP_FLAGS_SYSTEM;
	for (i = 0; i < IMAP_FLAGS_KEYWORDS_MAX; i++) {
		len = IMAP_FLAGS_NAMES_SPACE / IMAP_FLAGS_KEYWORDS_MAX;
		memset(name, 'a' + (int)i, len);
		assert_int_equal(imap_flags_parse(&box, &f, name, len), 0);
	}
	assert_false(f.bits & IMAP_FLAGS_OTHER);
	assert_int_equal(imap_flags_format(&box, f, out, sizeof(out), &len),
	    0);
	assert_true(len >= IMAP_FLAGS_NAMES_SPACE - IMAP_FLAGS_KEYWORDS_MAX);
	assert_true(imap_flags_box_memory(&box) < 1200);
	imap_flags_box_deinit(&box);
}

/* ---- the change computation ------------------------------------------- */

struct want {
	bool known;
	const char *set, *cleared;
	bool inexact;
	bool now_known;
	const char *now;
};

static void
check_change(struct imap_flags_box *box, const char *old,
    enum imap_flags_op op, const char *list, const char *reported,
    const struct want *w)
{
	struct imap_flags o = { 0 }, r = { 0 }, l;
	struct imap_flags_change ch;
	bool known;

	if (old != NULL)
		o = fl(box, old);
	if (reported != NULL)
		r = fl(box, reported);
	l = fl(box, list);
	known = imap_flags_change(box, old != NULL ? &o : NULL, op, l,
	    reported != NULL ? &r : NULL, &ch);
	if (known != w->known)
		fail_msg("old '%s' op %d '%s' reported '%s': known %d",
		    old ? old : "?", op, list, reported ? reported : "-",
		    known);
	assert_flags(box, ch.set, known ? w->set : "");
	assert_flags(box, ch.cleared, known ? w->cleared : "");
	assert_false((ch.set.bits | ch.cleared.bits) & IMAP_FLAGS_OTHER);
	assert_int_equal(ch.inexact, known && w->inexact);
	assert_int_equal(ch.now_known, w->now_known);
	if (w->now_known)
		assert_flags(box, ch.now, w->now);
}

static void
test_change_known_old(void **state)
{
	struct imap_flags_box box;

	(void)state;
	imap_flags_box_init(&box, 0);
	/* computed from the operation */
	check_change(&box, "\\Seen", IMAP_FLAGS_OP_ADD, "\\Seen \\Flagged",
	    NULL, &(struct want){ true, "\\Flagged", "", false, true,
	    "\\Flagged \\Seen" });
	check_change(&box, "\\Seen \\Flagged $a", IMAP_FLAGS_OP_REMOVE,
	    "\\Flagged \\Draft $a $b", NULL, &(struct want){ true, "",
	    "\\Flagged $a", false, true, "\\Seen" });
	check_change(&box, "\\Seen $a", IMAP_FLAGS_OP_REPLACE, "\\Flagged $a",
	    NULL, &(struct want){ true, "\\Flagged", "\\Seen", false, true,
	    "\\Flagged $a" });
	check_change(&box, "\\Seen $a", IMAP_FLAGS_OP_REPLACE, "", NULL,
	    &(struct want){ true, "", "\\Seen $a", false, true, "" });
	check_change(&box, "\\Seen", IMAP_FLAGS_OP_NONE, "\\Deleted", NULL,
	    &(struct want){ true, "", "", false, true, "\\Seen" });
	/* the server's FETCH wins over the computation */
	check_change(&box, "\\Seen", IMAP_FLAGS_OP_ADD, "\\Flagged",
	    "\\Seen \\Flagged $b", &(struct want){ true, "\\Flagged $b", "",
	    false, true, "\\Flagged \\Seen $b" });
	check_change(&box, "\\Seen \\Draft", IMAP_FLAGS_OP_REMOVE, "\\Draft",
	    "\\Seen", &(struct want){ true, "", "\\Draft", false, true,
	    "\\Seen" });
	check_change(&box, "\\Seen $a", IMAP_FLAGS_OP_REPLACE, "\\Deleted",
	    "\\Deleted \\Recent", &(struct want){ true, "\\Deleted",
	    "\\Seen $a", false, true, "\\Deleted" });
	/* an unsolicited FETCH: another session changed it */
	check_change(&box, "\\Seen", IMAP_FLAGS_OP_NONE, "", "\\Answered",
	    &(struct want){ true, "\\Answered", "\\Seen", false, true,
	    "\\Answered" });
	/* the server refused part of it: its word counts */
	check_change(&box, "", IMAP_FLAGS_OP_ADD, "\\Seen $a", "\\Seen",
	    &(struct want){ true, "\\Seen", "", false, true, "\\Seen" });
	imap_flags_box_deinit(&box);
}

/* Setting what is already set, clearing what is clear: no change. */
static void
test_change_nothing(void **state)
{
	struct imap_flags_box box;
	static const struct want none = { true, "", "", false, true,
	    "\\Seen" };

	(void)state;
	imap_flags_box_init(&box, 0);
	check_change(&box, "\\Seen", IMAP_FLAGS_OP_ADD, "\\Seen", NULL, &none);
	check_change(&box, "\\Seen", IMAP_FLAGS_OP_ADD, "\\Seen", "\\Seen",
	    &none);
	check_change(&box, "\\Seen", IMAP_FLAGS_OP_REMOVE, "\\Deleted", NULL,
	    &none);
	check_change(&box, "\\Seen", IMAP_FLAGS_OP_REPLACE, "\\SEEN \\Recent",
	    NULL, &none);
	check_change(&box, "\\Seen", IMAP_FLAGS_OP_NONE, "", "\\Seen", &none);
	imap_flags_box_deinit(&box);
}

static void
test_change_unknown_old(void **state)
{
	struct imap_flags_box box;
	struct imap_flags perm;

	(void)state;
	imap_flags_box_init(&box, 0);
	/* never a guess; the flags now, when they can be known */
	check_change(&box, NULL, IMAP_FLAGS_OP_ADD, "\\Seen", NULL,
	    &(struct want){ false, NULL, NULL, false, false, NULL });
	check_change(&box, NULL, IMAP_FLAGS_OP_REMOVE, "\\Seen", NULL,
	    &(struct want){ false, NULL, NULL, false, false, NULL });
	check_change(&box, NULL, IMAP_FLAGS_OP_NONE, "", NULL,
	    &(struct want){ false, NULL, NULL, false, false, NULL });
	check_change(&box, NULL, IMAP_FLAGS_OP_REPLACE, "\\Seen $a", NULL,
	    &(struct want){ false, NULL, NULL, false, true, "\\Seen $a" });
	check_change(&box, NULL, IMAP_FLAGS_OP_ADD, "\\Seen", "\\Seen \\Draft",
	    &(struct want){ false, NULL, NULL, false, true,
	    "\\Seen \\Draft" });
	check_change(&box, NULL, IMAP_FLAGS_OP_REMOVE, "\\Seen", "",
	    &(struct want){ false, NULL, NULL, false, true, "" });
	check_change(&box, NULL, IMAP_FLAGS_OP_NONE, "", "$a",
	    &(struct want){ false, NULL, NULL, false, true, "$a" });
	/* FLAGS without old flags: only if every flag is permanent */
	perm = fl(&box, "\\Seen \\Deleted");
	imap_flags_box_set_permanent(&box, &perm, true);
	check_change(&box, NULL, IMAP_FLAGS_OP_REPLACE, "\\Seen", NULL,
	    &(struct want){ false, NULL, NULL, false, false, NULL });
	imap_flags_box_deinit(&box);
}

static void
test_change_permanent(void **state)
{
	struct imap_flags_box box;
	struct imap_flags perm;

	(void)state;
	imap_flags_box_init(&box, 0);
	/* (\Seen \Deleted $a): \Flagged and other keywords session-only */
	perm = fl(&box, "\\Seen \\Deleted $a");
	imap_flags_box_set_permanent(&box, &perm, false);
	check_change(&box, "", IMAP_FLAGS_OP_REPLACE, "\\Seen \\Flagged $a",
	    NULL, &(struct want){ true, "\\Seen $a", "", false, false,
	    NULL });
	check_change(&box, "\\Flagged", IMAP_FLAGS_OP_REPLACE, "\\Seen", NULL,
	    &(struct want){ true, "\\Seen", "", false, false, NULL });
	check_change(&box, "", IMAP_FLAGS_OP_ADD, "$new", NULL,
	    &(struct want){ true, "", "", false, false, NULL });
	/* nothing outside it would change: the flags now are known */
	check_change(&box, "\\Flagged", IMAP_FLAGS_OP_ADD, "\\Seen", NULL,
	    &(struct want){ true, "\\Seen", "", false, true,
	    "\\Flagged \\Seen" });
	/* the server reports a session-only flag: kept, not reported */
	check_change(&box, "", IMAP_FLAGS_OP_ADD, "\\Seen \\Flagged",
	    "\\Seen \\Flagged", &(struct want){ true, "\\Seen", "", false,
	    true, "\\Flagged \\Seen" });
	check_change(&box, "\\Flagged $b", IMAP_FLAGS_OP_REPLACE, "$a", "$a",
	    &(struct want){ true, "$a", "", false, true, "$a" });
	/* "\*": keywords are permanent, those interned later too */
	imap_flags_box_set_permanent(&box, &perm, true);
	check_change(&box, "", IMAP_FLAGS_OP_ADD, "$later \\Flagged", NULL,
	    &(struct want){ true, "$later", "", false, false, NULL });
	check_change(&box, "", IMAP_FLAGS_OP_ADD, "$later2", NULL,
	    &(struct want){ true, "$later2", "", false, true, "$later2" });
	/* an empty list: nothing changes for good (EXAMINE) */
	perm.bits = 0;
	imap_flags_box_set_permanent(&box, &perm, false);
	check_change(&box, "\\Seen", IMAP_FLAGS_OP_REPLACE, "", "",
	    &(struct want){ true, "", "", false, true, "" });
	/* unknown again: every flag counts */
	imap_flags_box_set_permanent(&box, NULL, false);
	check_change(&box, "\\Flagged", IMAP_FLAGS_OP_REPLACE, "$x", NULL,
	    &(struct want){ true, "$x", "\\Flagged", false, true, "$x" });
	imap_flags_box_deinit(&box);
}

/* Keywords beyond the table: a change among them is flagged inexact. */
static void
test_change_inexact(void **state)
{
	struct imap_flags_box box;
	struct imap_flags o, l, r, t = { 0 };
	struct imap_flags_change ch;
	char name[16];
	int i;

	(void)state;
	imap_flags_box_init(&box, 0);
	for (i = 0; i < IMAP_FLAGS_KEYWORDS_MAX; i++) {
		snprintf(name, sizeof(name), "$k%d", i);
		parse(&box, &t, name);
	}
	o = fl(&box, "\\Seen $over1");
	assert_true(o.bits & IMAP_FLAGS_OTHER);
	/* +FLAGS without one cannot touch them */
	l = fl(&box, "\\Flagged");
	r = fl(&box, "\\Seen \\Flagged $over1");
	assert_true(imap_flags_change(&box, &o, IMAP_FLAGS_OP_ADD, l, &r,
	    &ch));
	assert_false(ch.inexact);
	assert_flags(&box, ch.set, "\\Flagged");
	assert_true(ch.now.bits & IMAP_FLAGS_OTHER);
	assert_true(imap_flags_change(&box, &o, IMAP_FLAGS_OP_ADD, l, NULL,
	    &ch));
	assert_false(ch.inexact);
	/* an unsolicited FETCH, both with some: cannot tell */
	assert_true(imap_flags_change(&box, &o, IMAP_FLAGS_OP_NONE, l, &o,
	    &ch));
	assert_true(ch.inexact);
	assert_flags(&box, ch.set, "");
	/* one appears or goes: it changed, unnamed */
	r = fl(&box, "\\Seen");
	assert_true(imap_flags_change(&box, &o, IMAP_FLAGS_OP_NONE, l, &r,
	    &ch));
	assert_true(ch.inexact);
	assert_flags(&box, ch.cleared, "");
	r = fl(&box, "\\Seen $k0 $over2");
	t = fl(&box, "\\Seen");
	assert_true(imap_flags_change(&box, &t, IMAP_FLAGS_OP_NONE, l, &r,
	    &ch));
	assert_true(ch.inexact);
	assert_flags(&box, ch.set, "$k0");
	/* +FLAGS of one: maybe set (maybe there already) */
	l = fl(&box, "\\Draft $over3");
	assert_true(imap_flags_change(&box, &t, IMAP_FLAGS_OP_ADD, l, NULL,
	    &ch));
	assert_true(ch.inexact);
	assert_flags(&box, ch.set, "\\Draft");
	assert_true(ch.now_known);
	assert_true(ch.now.bits & IMAP_FLAGS_OTHER);
	/* -FLAGS of one from a message with one: now unknown too */
	l = fl(&box, "$over3");
	assert_true(imap_flags_change(&box, &o, IMAP_FLAGS_OP_REMOVE, l, NULL,
	    &ch));
	assert_true(ch.inexact);
	assert_false(ch.now_known);
	assert_flags(&box, ch.cleared, "");
	/* from one without: nothing to clear */
	assert_true(imap_flags_change(&box, &t, IMAP_FLAGS_OP_REMOVE, l, NULL,
	    &ch));
	assert_false(ch.inexact);
	assert_true(ch.now_known);
	/* FLAGS with one over a message with one: cannot tell */
	l = fl(&box, "$over4");
	assert_true(imap_flags_change(&box, &o, IMAP_FLAGS_OP_REPLACE, l, NULL,
	    &ch));
	assert_true(ch.inexact);
	assert_flags(&box, ch.cleared, "\\Seen");
	imap_flags_box_deinit(&box);
}

/* imap_flags_box_change(): the cache learns, and forgets when unsure. */
static void
test_box_change(void **state)
{
	struct imap_flags_box box;
	struct imap_flags_change ch;
	struct imap_flags l, r, perm;

	(void)state;
	imap_flags_box_init(&box, 0);
	l = fl(&box, "\\Seen");
	/* unknown, no FETCH: nothing learned */
	assert_false(imap_flags_box_change(&box, 7, IMAP_FLAGS_OP_ADD, l, NULL,
	    &ch));
	assert_unknown(&box, 7);
	/* unknown, a FETCH: unknown change, flags learned */
	r = fl(&box, "\\Seen $a");
	assert_false(imap_flags_box_change(&box, 7, IMAP_FLAGS_OP_ADD, l, &r,
	    &ch));
	assert_get(&box, 7, "\\Seen $a");
	/* the same again: known, and no change */
	assert_true(imap_flags_box_change(&box, 7, IMAP_FLAGS_OP_ADD, l, &r,
	    &ch));
	assert_int_equal(ch.set.bits | ch.cleared.bits, 0);
	assert_true(imap_flags_box_change(&box, 7, IMAP_FLAGS_OP_ADD, l, NULL,
	    &ch));
	assert_int_equal(ch.set.bits | ch.cleared.bits, 0);
	/* .SILENT: computed and kept */
	l = fl(&box, "$a");
	assert_true(imap_flags_box_change(&box, 7, IMAP_FLAGS_OP_REMOVE, l,
	    NULL, &ch));
	assert_flags(&box, ch.cleared, "$a");
	assert_get(&box, 7, "\\Seen");
	/* a session-only flag would change: the change is known, the
	 * flags now are not, so they are forgotten */
	perm = fl(&box, "\\Seen");
	imap_flags_box_set_permanent(&box, &perm, false);
	l = fl(&box, "\\Flagged");
	assert_true(imap_flags_box_change(&box, 7, IMAP_FLAGS_OP_ADD, l, NULL,
	    &ch));
	assert_int_equal(ch.set.bits | ch.cleared.bits, 0);
	assert_unknown(&box, 7);
	/* UID 0: nothing */
	assert_false(imap_flags_box_change(&box, 0, IMAP_FLAGS_OP_NONE, l, &r,
	    &ch));
	assert_int_equal(imap_flags_box_items(&box), 0);
	imap_flags_box_deinit(&box);
}

/* ---- the cache -------------------------------------------------------- */

static void
test_cache_empty(void **state)
{
	struct imap_flags_box box;
	struct imap_flags f = { 0 };

	(void)state;
	imap_flags_box_init(&box, 0);
	assert_true(sizeof(box) <= 40);
	assert_int_equal(imap_flags_box_memory(&box), 0);
	assert_false(imap_flags_box_get(&box, 0, &f));
	assert_false(imap_flags_box_get(&box, 1, &f));
	assert_int_equal(imap_flags_box_set(&box, 0, 1, f), -1);
	assert_int_equal(imap_flags_box_set(&box, 5, 4, f), -1);
	assert_int_equal(imap_flags_box_forget(&box, 0, 0), -1);
	assert_int_equal(imap_flags_box_expunge(&box, 2, 1), -1);
	/* forgetting and expunging nothing allocates nothing */
	assert_int_equal(imap_flags_box_forget(&box, 1, UINT32_MAX), 0);
	assert_int_equal(imap_flags_box_expunge(&box, 1, UINT32_MAX), 0);
	assert_int_equal(imap_flags_box_memory(&box), 0);
	imap_flags_box_reset(&box);
	imap_flags_box_deinit(&box);
	assert_int_equal(imap_flags_box_memory(&box), 0);
}

static void
test_cache_runs(void **state)
{
	struct imap_flags_box box;

	(void)state;
	imap_flags_box_init(&box, 0);
	set(&box, 1, 10, "\\Seen");
	assert_int_equal(imap_flags_box_items(&box), 1);
	/* inside: \Seen's range becomes a bitmap, and back */
	set(&box, 5, 5, "\\Seen \\Flagged");
	assert_int_equal(imap_flags_box_items(&box), 2);
	assert_get(&box, 4, "\\Seen");
	assert_get(&box, 5, "\\Flagged \\Seen");
	assert_get(&box, 6, "\\Seen");
	set(&box, 5, 5, "\\Seen");
	assert_int_equal(imap_flags_box_items(&box), 1);
	/* the same flags again: nothing moves */
	set(&box, 3, 8, "\\Seen");
	assert_int_equal(imap_flags_box_items(&box), 1);
	/* at the ends */
	set(&box, 1, 1, "");
	set(&box, 10, 10, "");
	assert_int_equal(imap_flags_box_items(&box), 2);
	assert_get(&box, 1, "");
	assert_get(&box, 2, "\\Seen");
	assert_get(&box, 9, "\\Seen");
	assert_get(&box, 10, "");
	/* joining neighbours on both sides */
	set(&box, 11, 11, "\\Seen");
	set(&box, 10, 10, "\\Seen");
	assert_int_equal(imap_flags_box_items(&box), 2);
	assert_get(&box, 11, "\\Seen");
	/* forget splits, learning rejoins */
	assert_int_equal(imap_flags_box_forget(&box, 5, 6), 0);
	assert_unknown(&box, 5);
	assert_unknown(&box, 6);
	assert_get(&box, 4, "\\Seen");
	assert_get(&box, 7, "\\Seen");
	set(&box, 6, 6, "\\Seen");
	set(&box, 5, 5, "\\Seen");
	assert_int_equal(imap_flags_box_items(&box), 2);
	/* a gap is not joined over */
	set(&box, 13, 20, "\\Seen");
	assert_unknown(&box, 12);
	set(&box, 12, 12, "\\Seen");
	assert_int_equal(imap_flags_box_items(&box), 2);
	/* over several values: head and tail kept */
	imap_flags_box_reset(&box);
	set(&box, 1, 10, "$x");
	set(&box, 12, 14, "$y");
	set(&box, 16, 20, "$x");
	set(&box, 5, 17, "$z");
	assert_get(&box, 4, "$x");
	assert_get(&box, 5, "$z");
	assert_get(&box, 11, "$z");
	assert_get(&box, 17, "$z");
	assert_get(&box, 18, "$x");
	/* over several, joining the head's and tail's: one value left */
	set(&box, 3, 19, "$x");
	assert_int_equal(imap_flags_box_items(&box), 1);
	assert_get(&box, 20, "$x");
	/* forget across values and gaps */
	set(&box, 30, 40, "$y");
	assert_int_equal(imap_flags_box_forget(&box, 15, 35), 0);
	assert_int_equal(imap_flags_box_items(&box), 2);
	assert_get(&box, 14, "$x");
	assert_unknown(&box, 15);
	assert_unknown(&box, 35);
	assert_get(&box, 36, "$y");
	/* the top of the UID space */
	set(&box, UINT32_MAX - 1, UINT32_MAX, "\\Seen");
	assert_get(&box, UINT32_MAX, "\\Seen");
	set(&box, UINT32_MAX, UINT32_MAX, "");
	assert_get(&box, UINT32_MAX - 1, "\\Seen");
	assert_get(&box, UINT32_MAX, "");
	set(&box, 1, UINT32_MAX, "\\Draft");
	assert_int_equal(imap_flags_box_items(&box), 1);
	assert_get(&box, 1, "\\Draft");
	assert_get(&box, UINT32_MAX, "\\Draft");
	assert_int_equal(imap_flags_box_forget(&box, 2, UINT32_MAX - 1), 0);
	assert_int_equal(imap_flags_box_items(&box), 2);
	assert_int_equal(imap_flags_box_forgotten(&box), 0);
	/*
	 * Alternating flags cost a bitmap per value per 64 UIDs, however
	 * fragmented: 20,000 messages of three values, as FETCH reports
	 * them one by one.
	 */
	imap_flags_box_reset(&box);
	{
		uint32_t u;

		for (u = 1; u <= 20000; u++)
			set(&box, u, u, u % 3 == 0 ? "\\Seen" :
			    u % 3 == 1 ? "" : "\\Seen \\Flagged");
		print_message("20,000 messages, three values: %u items, "
		    "%zu bytes\n", imap_flags_box_items(&box),
		    imap_flags_box_memory(&box));
		assert_true(imap_flags_box_items(&box) <= 3 * (20000 / 64 + 2));
		assert_int_equal(imap_flags_box_forgotten(&box), 0);
		for (u = 1; u <= 20000; u++)
			assert_get(&box, u, u % 3 == 0 ? "\\Seen" :
			    u % 3 == 1 ? "" : "\\Flagged \\Seen");
	}
	imap_flags_box_deinit(&box);
}

static void
test_cache_expunge(void **state)
{
	struct imap_flags_box box;
	uint32_t u;

	(void)state;
	imap_flags_box_init(&box, 0);
	/* a message between two alike: its bit goes, nothing else */
	set(&box, 1, 4, "\\Seen");
	set(&box, 5, 5, "\\Flagged");
	set(&box, 6, 9, "\\Seen");
	assert_int_equal(imap_flags_box_items(&box), 2);
	assert_int_equal(imap_flags_box_expunge(&box, 5, 5), 0);
	assert_int_equal(imap_flags_box_items(&box), 1);
	assert_unknown(&box, 5);
	assert_get(&box, 4, "\\Seen");
	assert_get(&box, 6, "\\Seen");
	/* inside a range of one value: nothing to do, no memory */
	set(&box, 20, 100, "$a");
	assert_int_equal(imap_flags_box_items(&box), 2);
	assert_int_equal(imap_flags_box_expunge(&box, 50, 50), 0);
	assert_int_equal(imap_flags_box_items(&box), 2);
	assert_get(&box, 49, "$a");
	assert_get(&box, 51, "$a");
	/* the end of a range goes */
	assert_int_equal(imap_flags_box_expunge(&box, 90, 200), 0);
	assert_unknown(&box, 90);
	assert_get(&box, 89, "$a");
	/* several values at once */
	imap_flags_box_reset(&box);
	set(&box, 1, 4, "\\Seen");
	set(&box, 5, 6, "$a");
	set(&box, 7, 9, "\\Draft");
	assert_int_equal(imap_flags_box_expunge(&box, 4, 7), 0);
	assert_int_equal(imap_flags_box_items(&box), 2);
	assert_get(&box, 3, "\\Seen");
	assert_unknown(&box, 5);
	assert_get(&box, 8, "\\Draft");
	/* at the bottom and the top of the UID space */
	set(&box, 2, 2, "$b");
	assert_int_equal(imap_flags_box_expunge(&box, 1, 1), 0);
	set(&box, UINT32_MAX - 1, UINT32_MAX - 1, "$b");
	assert_int_equal(imap_flags_box_expunge(&box, UINT32_MAX,
	    UINT32_MAX), 0);
	assert_int_equal(imap_flags_box_forgotten(&box), 0);

	/*
	 * A mailbox whose UIDs have holes: 1,000 messages, UIDs 1, 4, 7...
	 * learned in order as "FETCH 1:* (UID FLAGS)" reports them: a
	 * bitmap per 64 UIDs, holes or not.
	 */
	imap_flags_box_reset(&box);
	for (u = 1; u <= 3000; u += 3)
		set(&box, u, u, "\\Seen");
	assert_true(imap_flags_box_items(&box) <= 3000 / 64 + 1);
	assert_true(imap_flags_box_memory(&box) <= 2048);
	imap_flags_box_deinit(&box);
}

/* The canonical text of the UIDs in 1..N with IN[uid] set. */
static void
write_set(const unsigned char *in, uint32_t n, char *out, size_t size)
{
	struct imap_set_writer w;
	uint32_t u;

	imap_set_writer_init(&w, out, size);
	for (u = 1; u <= n; u++)
		if (in[u])
			imap_set_writer_add(&w, u, u);
	imap_set_writer_finish(&w);
	assert_false(w.truncated);
}

static void
assert_find(const struct imap_flags_box *box, const char *flags,
    const char *set, const char *want, bool want_unknown)
{
	struct imap_flags_box tmp;
	struct imap_flags f;
	char out[4096];
	size_t len = 99;
	bool unknown = !want_unknown;

	/* a scratch box names system flags the same way */
	imap_flags_box_init(&tmp, 0);
	f = fl(&tmp, flags);
	assert_int_equal(f.bits & ~IMAP_FLAGS_SYSTEM, 0);
	imap_flags_box_deinit(&tmp);
	assert_int_equal(imap_flags_box_find(box, f, set, strlen(set), out,
	    sizeof(out), &len, &unknown), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(unknown, want_unknown);
}

static void
assert_unknown_set(const struct imap_flags_box *box, const char *set,
    const char *want)
{
	char out[4096];
	size_t len = 99;

	assert_int_equal(imap_flags_box_unknown(box, set, strlen(set), out,
	    sizeof(out), &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
}

static void
test_cache_find(void **state)
{
	struct imap_flags_box box;
	char out[16];
	size_t len;
	bool unknown;

	(void)state;
	imap_flags_box_init(&box, 0);
	set(&box, 1, 3, "\\Deleted");
	set(&box, 4, 4, "\\Seen");
	set(&box, 5, 6, "\\Deleted \\Seen");
	set(&box, 9, 9, "\\Deleted");
	set(&box, 10, 20, "");
	/* CLOSE: the messages are 1:6,9:12 (7, 8 unknown, 13:20 gone) */
	assert_find(&box, "\\Deleted", "1:6,9:12", "1:3,5:6,9", false);
	assert_find(&box, "\\Deleted", "1:12", "1:3,5:6,9", true);
	assert_find(&box, "\\Deleted \\Seen", "12,1:9", "5:6", true);
	assert_find(&box, "", "1:6,9", "1:6,9", false);
	assert_find(&box, "\\Deleted", "30:40", "", true);
	assert_find(&box, "\\Draft", "10:20", "", false);
	assert_unknown_set(&box, "1:30", "7:8,21:30");
	assert_unknown_set(&box, "4,9", "");
	/* too small: the lowest ranges, unknown still for the whole set */
	assert_int_equal(imap_flags_box_find(&box, (struct imap_flags){
	    IMAP_FLAGS_DELETED }, "1:50", 4, out, 8, &len, &unknown), 1);
	assert_string_equal(out, "1:3,5:6");
	assert_true(unknown);
	assert_int_equal(imap_flags_box_unknown(&box, "1:50", 4, out, 4,
	    &len), 1);
	assert_string_equal(out, "7:8");
	/* invalid sets, "*" among them */
	assert_int_equal(imap_flags_box_find(&box, (struct imap_flags){ 0 },
	    "1:*", 3, out, sizeof(out), &len, &unknown), -1);
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	assert_false(unknown);
	assert_int_equal(imap_flags_box_unknown(&box, "0", 1, out,
	    sizeof(out), &len), -1);
	assert_int_equal(imap_flags_box_find(&box, (struct imap_flags){ 0 },
	    "", 0, out, sizeof(out), &len, &unknown), -1);
	imap_flags_box_deinit(&box);
}

static void
test_cache_cap(void **state)
{
	struct imap_flags_box box;
	uint64_t before;
	uint32_t u;

	(void)state;
	/* four items: the fifth pushes out the lowest of the smallest */
	imap_flags_box_init(&box, 4);
	for (u = 100; u <= 400; u += 100)
		set(&box, u, u, "\\Seen");
	assert_int_equal(imap_flags_box_items(&box), 4);
	set(&box, 500, 500, "\\Seen");
	assert_true(imap_flags_box_items(&box) <= 4);
	assert_int_equal(imap_flags_box_forgotten(&box), 1);
	assert_unknown(&box, 100);
	assert_get(&box, 200, "\\Seen");
	assert_get(&box, 500, "\\Seen");
	/* the smallest go, the new one stays even if smallest */
	imap_flags_box_reset(&box);
	set(&box, 1, 10, "$a");
	set(&box, 200, 200, "$a");
	set(&box, 300, 302, "$a");
	set(&box, 400, 401, "$a");
	set(&box, 500, 500, "$a");
	assert_unknown(&box, 200);
	assert_get(&box, 500, "$a");
	assert_int_equal(imap_flags_box_forgotten(&box), 2);
	set(&box, 600, 600, "$a");
	assert_unknown(&box, 500);
	assert_get(&box, 600, "$a");
	assert_get(&box, 400, "$a");
	/* a split needs two items more: made, then trimmed */
	set(&box, 5, 5, "$b");
	assert_true(imap_flags_box_items(&box) <= 4);
	assert_get(&box, 5, "$b");
	/* every item large: bisection finds the smallest */
	imap_flags_box_reset(&box);
	before = imap_flags_box_forgotten(&box);
	set(&box, 1, 100, "$a");
	set(&box, 200, 240, "$a");
	set(&box, 300, 350, "$a");
	set(&box, 400, 460, "$a");
	set(&box, 600, 700, "$a");	/* no window shared: five items */
	assert_unknown(&box, 220);
	assert_get(&box, 320, "$a");
	assert_int_equal(imap_flags_box_forgotten(&box) - before, 41);
	imap_flags_box_deinit(&box);

	/* a value more than the cap on values: not learned, counted */
	imap_flags_box_init(&box, 0);
	for (u = 1; u <= IMAP_FLAGS_VALUES_MAX + 1; u++)
		assert_int_equal(imap_flags_box_set(&box, 1000 + u, 1000 + u,
		    (struct imap_flags){ u << 6 | (u & 3) }), 0);
	assert_unknown(&box, 1000 + IMAP_FLAGS_VALUES_MAX + 1);
	assert_int_equal(imap_flags_box_forgotten(&box), 1);
	/* one gives its slot back when its last UID changes value */
	set(&box, 1001, 1001, "");
	assert_int_equal(imap_flags_box_set(&box, 1000 +
	    IMAP_FLAGS_VALUES_MAX + 1, 1000 + IMAP_FLAGS_VALUES_MAX + 1,
	    (struct imap_flags){ 0 }), 0);
	assert_get(&box, 1000 + IMAP_FLAGS_VALUES_MAX + 1, "");
	imap_flags_box_deinit(&box);

	/* the default cap: 1/32 freed at a time, never more than the cap */
	imap_flags_box_init(&box, 0);
	for (u = 1; u <= 3000; u++) {
		set(&box, u * 100, u * 100, "\\Seen");
		assert_true(imap_flags_box_items(&box) <=
		    IMAP_FLAGS_ITEMS_MAX);
	}
	assert_int_equal(imap_flags_box_forgotten(&box), 3000 -
	    imap_flags_box_items(&box));
	assert_true(imap_flags_box_items(&box) >=
	    IMAP_FLAGS_ITEMS_MAX - IMAP_FLAGS_ITEMS_MAX / 32);
	/* the latest are kept */
	assert_get(&box, 3000 * 100, "\\Seen");
	assert_unknown(&box, 100);
	assert_true(imap_flags_box_memory(&box) <=
	    30 * 1024);
	imap_flags_box_deinit(&box);
}

/* ---- against a naive model ------------------------------------------- */

#define MODEL_UIDS	300
#define MODEL_STEPS	10000

enum { M_UNKNOWN, M_KNOWN, M_GONE };

struct model {
	unsigned char state[MODEL_UIDS + 2];
	uint32_t bits[MODEL_UIDS + 2];
	bool expunges;		/* M_GONE used: items not minimal */
};

/* A few flag sets, so that runs form and join. */
static uint32_t
model_bits(uint64_t *seed)
{
	static const uint32_t pal[] = {
		0, IMAP_FLAGS_SEEN, IMAP_FLAGS_SEEN | IMAP_FLAGS_ANSWERED,
		IMAP_FLAGS_DELETED | IMAP_FLAGS_SEEN, IMAP_FLAGS_KEYWORD(0),
		IMAP_FLAGS_SEEN | IMAP_FLAGS_KEYWORD(1), IMAP_FLAGS_FLAGGED,
	};

	if (rnd_below(seed, 10) == 0)
		return (uint32_t)rnd(seed);
	return pal[rnd_below(seed, sizeof(pal) / sizeof(pal[0]))];
}

static void
model_range(uint64_t *seed, uint32_t *a, uint32_t *b)
{
	uint32_t len = rnd_below(seed, 4) == 0 ? 1 + rnd_below(seed, 40) :
	    1 + rnd_below(seed, 3);

	*a = 1 + rnd_below(seed, MODEL_UIDS);
	*b = *a + len - 1 > MODEL_UIDS ? MODEL_UIDS : *a + len - 1;
}

/*
 * Items the cache may hold for the model (no UID gone): one per value
 * per window of 64 UIDs it appears in.
 */
static uint32_t
model_items(const struct model *md)
{
	uint32_t u, v, n = 0;
	bool seen;

	for (u = 1; u <= MODEL_UIDS; u++) {
		if (md->state[u] != M_KNOWN)
			continue;
		/* the first of its value in its window */
		seen = false;
		for (v = u & ~63u; v < u; v++)
			if (v >= 1 && md->state[v] == M_KNOWN &&
			    md->bits[v] == md->bits[u])
				seen = true;
		n += !seen;
	}
	return n;
}

static void
model_check(const struct imap_flags_box *box, const struct model *md,
    bool exact)
{
	struct imap_flags f;
	uint32_t u;
	bool known;

	for (u = 1; u <= MODEL_UIDS; u++) {
		known = imap_flags_box_get(box, u, &f);
		switch (md->state[u]) {
		case M_KNOWN:
			if (!known && !exact)
				break;
			if (!known)
				fail_msg("UID %u forgotten", u);
			if (f.bits != md->bits[u])
				fail_msg("UID %u: %#x, want %#x", u, f.bits,
				    md->bits[u]);
			break;
		case M_UNKNOWN:
			if (known)
				fail_msg("UID %u: %#x, want unknown", u,
				    f.bits);
			break;
		}
	}
	if (exact) {
		assert_int_equal(imap_flags_box_forgotten(box), 0);
		if (!md->expunges)
			assert_true(imap_flags_box_items(box) <=
			    model_items(md));
	}
}

/* A STORE (or a FETCH alone) on one message, checked against the model. */
static void
model_change(struct imap_flags_box *box, struct model *md, uint64_t *seed,
    bool exact)
{
	struct imap_flags_change got, want;
	struct imap_flags list, rep, old, cached;
	enum imap_flags_op op;
	uint32_t u;
	bool known, have, with_rep;

	u = 1 + rnd_below(seed, MODEL_UIDS);
	if (md->state[u] == M_GONE)
		return;
	op = (enum imap_flags_op)rnd_below(seed, 4);
	list.bits = model_bits(seed);
	rep.bits = model_bits(seed);
	with_rep = rnd_below(seed, 2) == 0;
	have = imap_flags_box_get(box, u, &cached);
	known = imap_flags_box_change(box, u, op, list,
	    with_rep ? &rep : NULL, &got);
	assert_int_equal(known, have);
	old.bits = md->bits[u];
	imap_flags_change(box, md->state[u] == M_KNOWN ? &old : NULL, op,
	    list, with_rep ? &rep : NULL, &want);
	if (known) {
		assert_int_equal(got.set.bits, want.set.bits);
		assert_int_equal(got.cleared.bits, want.cleared.bits);
		assert_int_equal(got.inexact, want.inexact);
	} else if (exact)
		assert_int_not_equal(md->state[u], M_KNOWN);
	if (got.now_known && want.now_known)
		assert_int_equal(got.now.bits, want.now.bits);
	if (want.now_known) {
		md->state[u] = M_KNOWN;
		md->bits[u] = want.now.bits;
		/* the cache may know less, never otherwise */
		if (!got.now_known)
			md->state[u] = M_UNKNOWN;
	} else
		md->state[u] = M_UNKNOWN;
}

/* imap_flags_box_find() and _unknown() on a random set, against get(). */
static void
model_find(const struct imap_flags_box *box, uint64_t *seed)
{
	unsigned char in[MODEL_UIDS + 2], with[MODEL_UIDS + 2];
	unsigned char unk[MODEL_UIDS + 2];
	char set[4096], out[4096], want[4096];
	struct imap_flags f, q;
	uint32_t u, a, b, i;
	size_t len;
	bool unknown, want_unknown = false;

	memset(in, 0, sizeof(in));
	memset(with, 0, sizeof(with));
	memset(unk, 0, sizeof(unk));
	for (i = 0; i < 1 + rnd_below(seed, 4); i++) {
		model_range(seed, &a, &b);
		for (u = a; u <= b; u++)
			in[u] = 1;
	}
	q.bits = rnd_below(seed, 2) ? IMAP_FLAGS_DELETED : IMAP_FLAGS_SEEN;
	for (u = 1; u <= MODEL_UIDS; u++) {
		if (!in[u])
			continue;
		if (imap_flags_box_get(box, u, &f))
			with[u] = (f.bits & q.bits) == q.bits;
		else
			unk[u] = want_unknown = true;
	}
	write_set(in, MODEL_UIDS, set, sizeof(set));
	assert_int_equal(imap_flags_box_find(box, q, set, strlen(set), out,
	    sizeof(out), &len, &unknown), 0);
	write_set(with, MODEL_UIDS, want, sizeof(want));
	assert_string_equal(out, want);
	assert_int_equal(unknown, want_unknown);
	assert_int_equal(imap_flags_box_unknown(box, set, strlen(set), out,
	    sizeof(out), &len), 0);
	write_set(unk, MODEL_UIDS, want, sizeof(want));
	assert_string_equal(out, want);
}

static void
model_run(uint32_t cap, bool expunges, uint64_t seed)
{
	struct imap_flags_box box;
	struct model *md;
	uint32_t step, r, a, b, u, bits;
	bool exact = cap == 0;

	md = calloc(1, sizeof(*md));
	assert_non_null(md);
	md->expunges = expunges;
	imap_flags_box_init(&box, cap);
	for (step = 0; step < MODEL_STEPS; step++) {
		r = rnd_below(&seed, 100);
		model_range(&seed, &a, &b);
		if (r < 40) {
			bits = model_bits(&seed);
			assert_int_equal(imap_flags_box_set(&box, a, b,
			    (struct imap_flags){ bits }), 0);
			for (u = a; u <= b; u++) {
				md->state[u] = M_KNOWN;
				md->bits[u] = bits;
			}
		} else if (r < 50) {
			assert_int_equal(imap_flags_box_forget(&box, a, b), 0);
			for (u = a; u <= b; u++)
				md->state[u] = M_UNKNOWN;
		} else if (r < 58 && expunges) {
			assert_int_equal(imap_flags_box_expunge(&box, a, b),
			    0);
			for (u = a; u <= b; u++)
				md->state[u] = M_GONE;
		} else if (r < 90)
			model_change(&box, md, &seed, exact);
		else if (r < 99)
			model_find(&box, &seed);
		else {
			imap_flags_box_reset(&box);
			memset(md->state, M_UNKNOWN, sizeof(md->state));
		}
		model_check(&box, md, exact);
		assert_true(imap_flags_box_items(&box) <=
		    (cap == 0 ? IMAP_FLAGS_ITEMS_MAX : cap));
	}
	if (!exact)
		assert_true(imap_flags_box_forgotten(&box) > 0);
	imap_flags_box_deinit(&box);
	free(md);
}

static void
test_model_exact(void **state)
{
	(void)state;
	model_run(0, false, 0x0123456789abcdefULL);
}

static void
test_model_expunge(void **state)
{
	(void)state;
	model_run(0, true, 0x1122334455667788ULL);
}

static void
test_model_capped(void **state)
{
	(void)state;
	model_run(5, true, 0x0fedcba987654321ULL);
}

/* ---- big mailboxes ---------------------------------------------------- */

#define BIG_MESSAGES	20000

/*
 * 20,000 messages, learned in order like a "FETCH 1:* (FLAGS)" answer:
 * with random flags (every system flag and two keywords a coin toss)
 * the cache is capped and forgets; with a plausible mailbox (read but
 * the last 100, 5% answered, 1% flagged or forwarded, UIDs with holes)
 * it keeps all.  Either way under 30 KiB, and never wrong.
 */
static void
big_run(bool random, uint64_t seed)
{
	struct imap_flags_box box;
	struct imap_flags f, g;
	uint32_t *truth, u, prev = 0, seq, known = 0;
	size_t mem;

	truth = calloc(BIG_MESSAGES * 2 + 1, sizeof(*truth));
	assert_non_null(truth);
	imap_flags_box_init(&box, 0);
	f = fl(&box, "$Forwarded $Work");
	for (seq = 1, u = 1; seq <= BIG_MESSAGES; seq++) {
		if (random)
			f.bits = (uint32_t)rnd(&seed) & (IMAP_FLAGS_SYSTEM |
			    IMAP_FLAGS_KEYWORD(0) | IMAP_FLAGS_KEYWORD(1));
		else {
			f.bits = seq <= BIG_MESSAGES - 100 ? IMAP_FLAGS_SEEN :
			    0;
			if (rnd_below(&seed, 100) < 5)
				f.bits |= IMAP_FLAGS_ANSWERED;
			if (rnd_below(&seed, 100) < 1)
				f.bits |= IMAP_FLAGS_FLAGGED;
			if (rnd_below(&seed, 100) < 1)
				f.bits |= IMAP_FLAGS_KEYWORD(0);
			/* a third of the UIDs expunged long ago */
			if (rnd_below(&seed, 3) == 0)
				u++;
		}
		truth[u] = f.bits | 0x80000000u;	/* known mark */
		if (prev + 1 < u)
			assert_int_equal(imap_flags_box_expunge(&box,
			    prev + 1, u - 1), 0);
		assert_int_equal(imap_flags_box_set(&box, u, u, f), 0);
		prev = u++;
	}
	for (u = 1; u <= prev; u++) {
		if (!(truth[u] & 0x80000000u))
			continue;
		if (!imap_flags_box_get(&box, u, &g))
			continue;
		known++;
		if (g.bits != (truth[u] & ~0x80000000u))
			fail_msg("UID %u: %#x, want %#x", u, g.bits,
			    truth[u] & ~0x80000000u);
	}
	mem = imap_flags_box_memory(&box);
	print_message("%s flags: %u of %u messages known, %u items, "
	    "%zu bytes, %llu UIDs forgotten\n", random ? "random" :
	    "plausible", known, BIG_MESSAGES, imap_flags_box_items(&box), mem,
	    (unsigned long long)imap_flags_box_forgotten(&box));
	assert_true(mem <= 30 * 1024);
	assert_true(imap_flags_box_items(&box) <= IMAP_FLAGS_ITEMS_MAX);
	if (!random)
		assert_int_equal(known, BIG_MESSAGES);
	if (random)
		assert_int_equal(known + imap_flags_box_forgotten(&box),
		    BIG_MESSAGES);
	imap_flags_box_deinit(&box);
	free(truth);
}

static void
test_big_random(void **state)
{
	(void)state;
	big_run(true, 0xdeadbeefcafef00dULL);
}

static void
test_big_plausible(void **state)
{
	(void)state;
	big_run(false, 0x5eed5eed5eed5eedULL);
}

/* A million messages cost one item, and a scattered million the cap. */
static void
test_million(void **state)
{
	struct imap_flags_box box;
	uint64_t seed = 42;
	uint32_t i, u;

	(void)state;
	imap_flags_box_init(&box, 0);
	set(&box, 1, 1000000, "\\Seen");
	assert_int_equal(imap_flags_box_items(&box), 1);
	assert_true(imap_flags_box_memory(&box) <= 16 * ITEM_BYTES);
	for (i = 0; i < 20000; i++) {
		u = 1 + rnd_below(&seed, 1000000);
		set(&box, u, u, "\\Seen \\Flagged");
	}
	assert_true(imap_flags_box_items(&box) <= IMAP_FLAGS_ITEMS_MAX);
	assert_true(imap_flags_box_memory(&box) <=
	    30 * 1024);
	assert_true(imap_flags_box_forgotten(&box) > 0);
	/* a STORE 1:* FLAGS over all: one item again */
	set(&box, 1, 1000000, "\\Deleted");
	assert_int_equal(imap_flags_box_items(&box), 1);
	assert_get(&box, 777777, "\\Deleted");
	imap_flags_box_deinit(&box);
}

/* ---- events ----------------------------------------------------------- */

struct want_event {
	enum msgevent_type type;
	const char *flags;
	const char *uidset;
	bool truncated;
};

static void
assert_events(struct imap_flags_batch *batch,
    const struct imap_flags_box *box, const struct want_event *want,
    size_t n)
{
	struct imap_flags_event ev;
	char out[8192];
	size_t i;

	for (i = 0; imap_flags_batch_event(batch, i, &ev, out, sizeof(out));
	    i++) {
		if (i >= n)
			fail_msg("extra event %s %s %s",
			    msgevent_type_name(ev.type), fmt(box, ev.flags),
			    out);
		if (ev.type != want[i].type)
			fail_msg("event %zu: %s, want %s", i,
			    msgevent_type_name(ev.type),
			    msgevent_type_name(want[i].type));
		assert_flags(box, ev.flags, want[i].flags);
		assert_string_equal(out, want[i].uidset);
		assert_int_equal(ev.uidset_len, strlen(out));
		assert_int_equal(ev.truncated, want[i].truncated);
	}
	assert_int_equal(i, n);
}

/* STORE 1:3 +FLAGS (\Seen $Work), message 2 already \Seen. */
static void
store_example(struct imap_flags_box *box, struct imap_flags_batch *batch)
{
	struct imap_flags_change ch;
	struct imap_flags list;
	uint32_t u;

	imap_flags_box_reset(box);
	set(box, 1, 1, "");
	set(box, 2, 2, "\\Seen");
	set(box, 3, 3, "");
	list = fl(box, "\\Seen $Work");
	for (u = 1; u <= 3; u++) {
		assert_true(imap_flags_box_change(box, u, IMAP_FLAGS_OP_ADD,
		    list, NULL, &ch));
		imap_flags_batch_add(batch, u, &ch);
	}
	assert_get(box, 2, "\\Seen $Work");
}

static void
test_events_example(void **state)
{
	static const struct want_event simple[] = {
		{ MSGEVENT_MESSAGE_READ, "\\Seen", "1,3", false },
		{ MSGEVENT_FLAGS_SET, "$Work", "1:3", false },
	};
	static const struct want_event flags[] = {
		{ MSGEVENT_FLAGS_SET, "\\Seen $Work", "1,3", false },
		{ MSGEVENT_FLAGS_SET, "$Work", "2", false },
	};
	struct imap_flags_box box;
	struct imap_flags_batch *batch;

	(void)state;
	imap_flags_box_init(&box, 0);
	batch = imap_flags_batch_new(IMAP_FLAGS_REPORT_SIMPLE);
	assert_non_null(batch);
	store_example(&box, batch);
	assert_events(batch, &box, simple, 2);
	/* reading twice reads the same */
	assert_events(batch, &box, simple, 2);
	assert_int_equal(imap_flags_batch_dropped(batch), 0);
	imap_flags_batch_free(&batch);
	assert_null(batch);
	imap_flags_batch_free(&batch);

	/* the mode switch: \Seen is a flag like any other */
	batch = imap_flags_batch_new(IMAP_FLAGS_REPORT_FLAGS);
	assert_non_null(batch);
	store_example(&box, batch);
	assert_events(batch, &box, flags, 2);
	imap_flags_batch_free(&batch);
	imap_flags_box_deinit(&box);
}

static void
test_events_kinds(void **state)
{
	static const struct want_event simple[] = {
		{ MSGEVENT_MESSAGE_READ, "\\Seen", "4", false },
		{ MSGEVENT_MESSAGE_TRASH, "\\Deleted", "1:2,4", false },
		{ MSGEVENT_FLAGS_SET, "\\Flagged", "4", false },
		{ MSGEVENT_FLAGS_CLEAR, "\\Seen $a", "1", false },
		{ MSGEVENT_FLAGS_CLEAR, "\\Answered", "2:3", false },
	};
	static const struct want_event flags[] = {
		{ MSGEVENT_FLAGS_SET, "\\Deleted", "1:2,4", false },
		{ MSGEVENT_FLAGS_SET, "\\Flagged \\Seen", "4", false },
		{ MSGEVENT_FLAGS_CLEAR, "\\Seen $a", "1", false },
		{ MSGEVENT_FLAGS_CLEAR, "\\Answered", "2:3", false },
	};
	struct imap_flags_box box;
	struct imap_flags_batch *batch;
	struct imap_flags_change ch;
	struct imap_flags list;
	uint32_t u;
	int mode;

	(void)state;
	imap_flags_box_init(&box, 0);
	for (mode = 0; mode < 2; mode++) {
		/* STORE 1:5 FLAGS (\Deleted) then 4 +FLAGS (\Seen \Flagged) */
		imap_flags_box_reset(&box);
		set(&box, 1, 1, "\\Seen $a");
		set(&box, 2, 2, "\\Answered");
		set(&box, 3, 3, "\\Answered \\Deleted");
		set(&box, 4, 4, "");
		set(&box, 5, 5, "\\Deleted");
		batch = imap_flags_batch_new(mode == 0 ?
		    IMAP_FLAGS_REPORT_SIMPLE : IMAP_FLAGS_REPORT_FLAGS);
		assert_non_null(batch);
		list = fl(&box, "\\Deleted");
		for (u = 1; u <= 5; u++) {
			assert_true(imap_flags_box_change(&box, u,
			    IMAP_FLAGS_OP_REPLACE, list, NULL, &ch));
			imap_flags_batch_add(batch, u, &ch);
		}
		list = fl(&box, "\\Seen \\Flagged");
		assert_true(imap_flags_box_change(&box, 4, IMAP_FLAGS_OP_ADD,
		    list, NULL, &ch));
		imap_flags_batch_add(batch, 4, &ch);
		/* no change and UID 0 add nothing */
		assert_true(imap_flags_box_change(&box, 4, IMAP_FLAGS_OP_ADD,
		    list, NULL, &ch));
		imap_flags_batch_add(batch, 4, &ch);
		imap_flags_batch_add(batch, 0, &ch);
		if (mode == 0)
			assert_events(batch, &box, simple, 5);
		else
			assert_events(batch, &box, flags, 4);
		imap_flags_batch_free(&batch);
	}
	imap_flags_box_deinit(&box);
}

static struct imap_flags_change
change_set(uint32_t bits)
{
	struct imap_flags_change ch;

	memset(&ch, 0, sizeof(ch));
	ch.set.bits = bits;
	return ch;
}

static bool
count_walk(void *ctx, uint32_t first, uint32_t last)
{
	*(uint64_t *)ctx += (uint64_t)(last - first) + 1;
	return true;
}

/* UIDs in any order, the item cap, the event cap, inexact changes. */
static void
test_events_caps(void **state)
{
	struct imap_flags_box box;
	struct imap_flags_batch *batch;
	struct imap_flags_change ch = change_set(IMAP_FLAGS_FLAGGED);
	struct imap_flags_event ev;
	static const uint32_t order[] = { 9, 5, 1, 3, 2, 4, 8, 10, 7, 6 };
	static char out[65536];
	char big[64];
	uint64_t walked;
	uint32_t u, i;

	(void)state;
	imap_flags_box_init(&box, 0);
	batch = imap_flags_batch_new(IMAP_FLAGS_REPORT_SIMPLE);
	assert_non_null(batch);
	for (i = 0; i < 10; i++)
		imap_flags_batch_add(batch, order[i], &ch);
	imap_flags_batch_add(batch, 20, &ch);
	assert_true(imap_flags_batch_event(batch, 0, &ev, out, sizeof(out)));
	assert_string_equal(out, "1:10,20");
	/* adding after reading goes on */
	imap_flags_batch_add(batch, 15, &ch);
	assert_true(imap_flags_batch_event(batch, 0, &ev, out, sizeof(out)));
	assert_string_equal(out, "1:10,15,20");
	assert_false(ev.truncated);
	assert_false(imap_flags_batch_event(batch, 1, &ev, out, sizeof(out)));
	/* a small buffer cuts at a range boundary */
	assert_true(imap_flags_batch_event(batch, 0, &ev, out, 8));
	assert_string_equal(out, "1:10,15");
	assert_true(ev.truncated);
	assert_int_equal(ev.uidset_len, 7);
	imap_flags_batch_free(&batch);

	/*
	 * Every other UID of 20,000, backwards: bitmaps of 64, nothing
	 * dropped (5 KiB), and the walk gives them all.
	 */
	batch = imap_flags_batch_new(IMAP_FLAGS_REPORT_SIMPLE);
	assert_non_null(batch);
	for (u = 20000; u >= 2; u -= 2)
		imap_flags_batch_add(batch, u, &ch);
	assert_int_equal(imap_flags_batch_dropped(batch), 0);
	assert_true(imap_flags_batch_memory(batch) < 8192);
	assert_true(imap_flags_batch_event(batch, 0, &ev, NULL, 0));
	assert_false(ev.truncated);
	assert_int_equal(ev.uidset_len, 0);
	walked = 0;
	assert_int_equal(imap_flags_batch_walk(batch, 0, count_walk, &walked),
	    0);
	assert_int_equal(walked, 10000);
	assert_int_equal(imap_flags_batch_walk(batch, 1, count_walk, &walked),
	    -1);
	imap_flags_batch_free(&batch);

	/*
	 * 3,000 UIDs 64 apart, backwards: an item each, the first
	 * IMAP_FLAGS_BATCH_ITEMS_MAX stay, the rest is dropped and counted
	 */
	batch = imap_flags_batch_new(IMAP_FLAGS_REPORT_SIMPLE);
	assert_non_null(batch);
	for (u = 3000; u >= 1; u--)
		imap_flags_batch_add(batch, u * 64, &ch);
	assert_int_equal(imap_flags_batch_dropped(batch),
	    3000 - IMAP_FLAGS_BATCH_ITEMS_MAX);
	assert_true(imap_flags_batch_event(batch, 0, &ev, out, sizeof(out)));
	assert_true(ev.truncated);
	snprintf(big, sizeof(big), "%u,%u,", (3000 -
	    IMAP_FLAGS_BATCH_ITEMS_MAX + 1) * 64, (3000 -
	    IMAP_FLAGS_BATCH_ITEMS_MAX + 2) * 64);
	assert_true(strncmp(out, big, strlen(big)) == 0);
	imap_flags_batch_free(&batch);

	/* full of odd UIDs, the even ones join them: none is dropped */
	batch = imap_flags_batch_new(IMAP_FLAGS_REPORT_SIMPLE);
	assert_non_null(batch);
	for (u = 1; u <= 2 * IMAP_FLAGS_BATCH_ITEMS_MAX; u += 2)
		imap_flags_batch_add(batch, u, &ch);
	for (u = 2; u <= 2 * IMAP_FLAGS_BATCH_ITEMS_MAX; u += 2)
		imap_flags_batch_add(batch, u, &ch);
	assert_int_equal(imap_flags_batch_dropped(batch), 0);
	assert_true(imap_flags_batch_event(batch, 0, &ev, out, sizeof(out)));
	assert_string_equal(out, "1:4096");
	assert_false(ev.truncated);
	imap_flags_batch_free(&batch);

	/* in order, any number of UIDs is one range */
	batch = imap_flags_batch_new(IMAP_FLAGS_REPORT_SIMPLE);
	assert_non_null(batch);
	for (u = 1; u <= 100000; u++)
		imap_flags_batch_add(batch, u, &ch);
	assert_true(imap_flags_batch_event(batch, 0, &ev, out, sizeof(out)));
	assert_string_equal(out, "1:100000");
	assert_int_equal(imap_flags_batch_dropped(batch), 0);
	imap_flags_batch_free(&batch);

	/* more distinct events than the cap: dropped, counted */
	batch = imap_flags_batch_new(IMAP_FLAGS_REPORT_SIMPLE);
	assert_non_null(batch);
	for (u = 1; u <= IMAP_FLAGS_BATCH_EVENTS_MAX + 3; u++) {
		ch = change_set(IMAP_FLAGS_KEYWORD(u % 26) |
		    (u > 26 ? IMAP_FLAGS_FLAGGED : 0));
		imap_flags_batch_add(batch, u, &ch);
	}
	for (i = 0; imap_flags_batch_event(batch, i, &ev, out, sizeof(out));
	    i++)
		assert_int_equal(ev.type, MSGEVENT_FLAGS_SET);
	assert_int_equal(i, IMAP_FLAGS_BATCH_EVENTS_MAX);
	assert_int_equal(imap_flags_batch_dropped(batch), 3);
	/* an existing event still takes more */
	ch = change_set(IMAP_FLAGS_KEYWORD(1));
	imap_flags_batch_add(batch, 100, &ch);
	assert_true(imap_flags_batch_event(batch, 0, &ev, out, sizeof(out)));
	assert_string_equal(out, "1,100");
	/* inexact: reported for what has names, counted */
	ch = change_set(IMAP_FLAGS_KEYWORD(1));
	ch.inexact = true;
	imap_flags_batch_add(batch, 101, &ch);
	assert_int_equal(imap_flags_batch_dropped(batch), 4);
	assert_true(imap_flags_batch_event(batch, 0, &ev, out, sizeof(out)));
	assert_string_equal(out, "1,100:101");
	imap_flags_batch_free(&batch);
	imap_flags_box_deinit(&box);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_system),
		cmocka_unit_test(test_parse_keywords),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_intern_caps),
		cmocka_unit_test(test_change_known_old),
		cmocka_unit_test(test_change_nothing),
		cmocka_unit_test(test_change_unknown_old),
		cmocka_unit_test(test_change_permanent),
		cmocka_unit_test(test_change_inexact),
		cmocka_unit_test(test_box_change),
		cmocka_unit_test(test_cache_empty),
		cmocka_unit_test(test_cache_runs),
		cmocka_unit_test(test_cache_expunge),
		cmocka_unit_test(test_cache_find),
		cmocka_unit_test(test_cache_cap),
		cmocka_unit_test(test_model_exact),
		cmocka_unit_test(test_model_expunge),
		cmocka_unit_test(test_model_capped),
		cmocka_unit_test(test_big_random),
		cmocka_unit_test(test_big_plausible),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_events_example),
		cmocka_unit_test(test_events_kinds),
		cmocka_unit_test(test_events_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
