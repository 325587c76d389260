/*
 * test_imap_seqmap.c - the sequence number to UID map: learning and
 * merging, EXPUNGE and VANISHED renumbering, the run cap, the set
 * resolver, and 10,000 random operations against a naive model (one
 * array slot per message) after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parser/imap_seqmap.h"
#include "../../parser/imap_set.h"

#define RUN_BYTES	12	/* the header's promise */
/* Runs forgotten at once at the default cap (256). */
#define EVICT_BATCH	(IMAP_SEQMAP_RUNS_MAX / IMAP_SEQMAP_EVICT_DIV)

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

static void
learn(struct imap_seqmap *m, uint32_t seq, uint32_t uid)
{
	if (imap_seqmap_set_uid(m, seq, uid) != 0)
		fail_msg("set_uid(%u, %u) refused", seq, uid);
}

static void
assert_uid(const struct imap_seqmap *m, uint32_t seq, uint32_t uid)
{
	uint32_t got = 0, back = 0;

	if (!imap_seqmap_uid(m, seq, &got))
		fail_msg("seq %u: unknown, want UID %u", seq, uid);
	assert_int_equal(got, uid);
	assert_true(imap_seqmap_seq(m, uid, &back));
	assert_int_equal(back, seq);
}

static void
assert_unknown(const struct imap_seqmap *m, uint32_t seq)
{
	uint32_t got;

	if (imap_seqmap_uid(m, seq, &got))
		fail_msg("seq %u: UID %u, want unknown", seq, got);
}

/* imap_seqmap_resolve() on a C string into a 4 KiB buffer. */
static int
resolve(const struct imap_seqmap *m, const char *set, char *out,
    bool *incomplete_r)
{
	size_t len;
	int rc;

	rc = imap_seqmap_resolve(m, set, strlen(set), out, 4096, &len,
	    incomplete_r);
	assert_int_equal(len, strlen(out));
	return rc;
}

static void
assert_resolve(const struct imap_seqmap *m, const char *set,
    const char *want, bool want_incomplete)
{
	char out[4096];
	bool incomplete;

	if (resolve(m, set, out, &incomplete) != 0)
		fail_msg("resolve('%s') failed", set);
	assert_string_equal(out, want);
	assert_int_equal(incomplete, want_incomplete);
}

static void
assert_unknown_set(const struct imap_seqmap *m, const char *set,
    const char *want)
{
	char out[4096];
	size_t len;

	assert_int_equal(imap_seqmap_unknown(m, set, strlen(set), out,
	    sizeof(out), &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
}

static void
assert_resolve_fails(const struct imap_seqmap *m, const char *set)
{
	char out[64];
	size_t len = 99;
	bool incomplete = true;

	if (imap_seqmap_resolve(m, set, strlen(set), out, sizeof(out), &len,
	    &incomplete) != -1)
		fail_msg("resolve('%s') accepted", set);
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	assert_false(incomplete);
	assert_int_equal(imap_seqmap_unknown(m, set, strlen(set), out,
	    sizeof(out), &len), -1);
}

/* ---- by hand ---------------------------------------------------------- */

static void
test_empty(void **state)
{
	struct imap_seqmap m;
	uint32_t x = 7;

	(void)state;
	imap_seqmap_init(&m, 0);
	assert_int_equal(imap_seqmap_count(&m), 0);
	assert_int_equal(imap_seqmap_runs(&m), 0);
	assert_int_equal(imap_seqmap_memory(&m), 0);
	assert_false(imap_seqmap_uid(&m, 1, &x));
	assert_false(imap_seqmap_uid(&m, 0, &x));
	assert_false(imap_seqmap_seq(&m, 1, &x));
	assert_false(imap_seqmap_seq(&m, 0, &x));
	assert_int_equal(x, 7);
	assert_int_equal(imap_seqmap_set_uid(&m, 1, 1), -1);
	assert_int_equal(imap_seqmap_expunge(&m, 1, &x), -1);
	assert_int_equal(imap_seqmap_vanish(&m, 1, 1, NULL), -1);
	/* every number is out of range, "*" too */
	assert_resolve_fails(&m, "1");
	assert_resolve_fails(&m, "*");
	assert_int_equal(imap_seqmap_exists(&m, 0), 0);
	imap_seqmap_deinit(&m);
	assert_int_equal(imap_seqmap_memory(&m), 0);
}

/* A mailbox without a UID seen allocates nothing, however big. */
static void
test_no_cost_without_uids(void **state)
{
	struct imap_seqmap m;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 1000000);
	assert_int_equal(imap_seqmap_exists(&m, 1000005), 0);
	assert_int_equal(imap_seqmap_expunge(&m, 5, NULL), 0);
	assert_int_equal(imap_seqmap_vanish(&m, 77, 80, NULL), 0);
	assert_int_equal(imap_seqmap_count(&m), 1000000);
	assert_resolve(&m, "1:*", "", true);
	assert_unknown_set(&m, "1:*", "1:1000000");
	assert_int_equal(imap_seqmap_memory(&m), 0);
	assert_true(sizeof(m) <= 32);
	imap_seqmap_deinit(&m);
}

static void
test_exists(void **state)
{
	struct imap_seqmap m;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 10);
	assert_int_equal(imap_seqmap_exists(&m, 12), 0);
	assert_int_equal(imap_seqmap_count(&m), 12);
	assert_int_equal(imap_seqmap_exists(&m, 11), -1);
	assert_int_equal(imap_seqmap_count(&m), 12);
	assert_int_equal(imap_seqmap_exists(&m, 12), 0);
	assert_unknown(&m, 12);
	/* the known UIDs leave room for 2 more messages, not 3 */
	imap_seqmap_reset(&m, 3);
	learn(&m, 3, UINT32_MAX - 2);
	assert_int_equal(imap_seqmap_exists(&m, 5), 0);
	assert_int_equal(imap_seqmap_exists(&m, 6), -1);
	assert_int_equal(imap_seqmap_count(&m), 5);
	/* reset forgets the UIDs */
	imap_seqmap_reset(&m, 4);
	assert_int_equal(imap_seqmap_runs(&m), 0);
	assert_unknown(&m, 3);
	imap_seqmap_deinit(&m);
}

static void
test_learn_in_order(void **state)
{
	struct imap_seqmap m;
	uint32_t i, x;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 100);
	for (i = 1; i <= 100; i++) {
		learn(&m, i, 1000 + i);
		assert_int_equal(imap_seqmap_runs(&m), 1);
	}
	assert_uid(&m, 1, 1001);
	assert_uid(&m, 50, 1050);
	assert_uid(&m, 100, 1100);
	assert_false(imap_seqmap_seq(&m, 1000, &x));
	assert_false(imap_seqmap_seq(&m, 1101, &x));
	/* learning a known UID again changes nothing */
	learn(&m, 50, 1050);
	assert_int_equal(imap_seqmap_runs(&m), 1);
	imap_seqmap_deinit(&m);
}

static void
test_learn_out_of_order(void **state)
{
	static const uint32_t order[] = { 10, 1, 5, 3, 2, 4, 9, 7, 6, 8 };
	static const uint32_t runs[] = { 1, 2, 3, 4, 3, 2, 2, 3, 2, 1 };
	struct imap_seqmap m;
	uint32_t i;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 10);
	for (i = 0; i < 10; i++) {
		learn(&m, order[i], order[i] + 20);
		assert_int_equal(imap_seqmap_runs(&m), runs[i]);
	}
	for (i = 1; i <= 10; i++)
		assert_uid(&m, i, i + 20);
	/* odd ones first, then the even ones fill the gaps */
	imap_seqmap_reset(&m, 1000);
	for (i = 1; i <= 1000; i += 2)
		learn(&m, i, i + 7);
	assert_int_equal(imap_seqmap_runs(&m), 500);
	for (i = 1000; i >= 2; i -= 2)
		learn(&m, i, i + 7);
	assert_int_equal(imap_seqmap_runs(&m), 1);
	assert_resolve(&m, "1:*", "8:1007", false);
	imap_seqmap_deinit(&m);
}

static void
test_learn_gapped(void **state)
{
	static const uint32_t uids[] = { 4, 5, 6, 8, 9, 10, 11 };
	struct imap_seqmap m;
	uint32_t i, x;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 7);
	for (i = 0; i < 7; i++)
		learn(&m, i + 1, uids[i]);
	assert_int_equal(imap_seqmap_runs(&m), 2);
	assert_uid(&m, 3, 6);
	assert_uid(&m, 4, 8);
	assert_false(imap_seqmap_seq(&m, 7, &x));
	/* the header's example */
	assert_resolve(&m, "3:1,5", "4:6,9", false);
	/* learned backwards: the same two runs */
	imap_seqmap_reset(&m, 7);
	for (i = 7; i >= 1; i--)
		learn(&m, i, uids[i - 1]);
	assert_int_equal(imap_seqmap_runs(&m), 2);
	imap_seqmap_deinit(&m);
}

static void
test_set_uid_inconsistent(void **state)
{
	struct imap_seqmap m;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 10);
	learn(&m, 3, 10);
	assert_int_equal(imap_seqmap_set_uid(&m, 0, 5), -1);
	assert_int_equal(imap_seqmap_set_uid(&m, 11, 50), -1);
	assert_int_equal(imap_seqmap_set_uid(&m, 2, 0), -1);
	assert_int_equal(imap_seqmap_set_uid(&m, 3, 11), -1);
	assert_int_equal(imap_seqmap_set_uid(&m, 3, 10), 0);
	/* message 4 sits between: message 5 needs 12 or more */
	assert_int_equal(imap_seqmap_set_uid(&m, 5, 11), -1);
	assert_int_equal(imap_seqmap_set_uid(&m, 5, 10), -1);
	assert_int_equal(imap_seqmap_set_uid(&m, 4, 10), -1);
	/* below: message 2 needs a UID under 10, message 1 under that */
	assert_int_equal(imap_seqmap_set_uid(&m, 2, 10), -1);
	assert_int_equal(imap_seqmap_set_uid(&m, 1, 9), -1);
	/* UIDs start at 1: message 2 cannot have UID 1 */
	assert_int_equal(imap_seqmap_set_uid(&m, 2, 1), -1);
	assert_int_equal(imap_seqmap_runs(&m), 1);
	assert_unknown(&m, 1);
	assert_unknown(&m, 2);
	assert_unknown(&m, 5);
	learn(&m, 1, 8);
	learn(&m, 5, 12);
	assert_int_equal(imap_seqmap_runs(&m), 3);
	/* between 3 (10) and 5 (12) only 11 is left */
	assert_int_equal(imap_seqmap_set_uid(&m, 4, 12), -1);
	learn(&m, 4, 11);
	assert_int_equal(imap_seqmap_runs(&m), 2);
	/* the top: messages 9 and 10 need two UIDs above message 8's */
	assert_int_equal(imap_seqmap_set_uid(&m, 8, UINT32_MAX - 1), -1);
	assert_int_equal(imap_seqmap_set_uid(&m, 10, UINT32_MAX), 0);
	assert_int_equal(imap_seqmap_set_uid(&m, 8, UINT32_MAX - 1), -1);
	learn(&m, 8, UINT32_MAX - 2);
	assert_uid(&m, 10, UINT32_MAX);
	assert_int_equal(imap_seqmap_forgotten(&m), 0);
	imap_seqmap_deinit(&m);
}

static void
test_expunge_known_run(void **state)
{
	struct imap_seqmap m;
	uint32_t i, uid;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 10);
	for (i = 1; i <= 10; i++)
		learn(&m, i, 100 + i);
	/* the start of the run */
	assert_int_equal(imap_seqmap_expunge(&m, 1, &uid), 1);
	assert_int_equal(uid, 101);
	assert_int_equal(imap_seqmap_count(&m), 9);
	assert_int_equal(imap_seqmap_runs(&m), 1);
	assert_uid(&m, 1, 102);
	assert_uid(&m, 9, 110);
	/* its end */
	assert_int_equal(imap_seqmap_expunge(&m, 9, &uid), 1);
	assert_int_equal(uid, 110);
	assert_int_equal(imap_seqmap_runs(&m), 1);
	assert_uid(&m, 8, 109);
	/* its middle: split in two, UIDs of the later ones kept */
	assert_int_equal(imap_seqmap_expunge(&m, 4, &uid), 1);
	assert_int_equal(uid, 105);
	assert_int_equal(imap_seqmap_count(&m), 7);
	assert_int_equal(imap_seqmap_runs(&m), 2);
	assert_uid(&m, 3, 104);
	assert_uid(&m, 4, 106);
	assert_uid(&m, 7, 109);
	assert_false(imap_seqmap_seq(&m, 105, &uid));
	assert_resolve(&m, "1:*", "102:104,106:109", false);
	/* a run of one */
	imap_seqmap_reset(&m, 3);
	learn(&m, 2, 9);
	assert_int_equal(imap_seqmap_expunge(&m, 2, NULL), 1);
	assert_int_equal(imap_seqmap_runs(&m), 0);
	assert_int_equal(imap_seqmap_count(&m), 2);
	imap_seqmap_deinit(&m);
}

static void
test_expunge_unknown(void **state)
{
	struct imap_seqmap m;
	uint32_t i, uid = 0;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 10);
	for (i = 1; i <= 3; i++)
		learn(&m, i, i);
	for (i = 7; i <= 10; i++)
		learn(&m, i, i + 10);
	assert_int_equal(imap_seqmap_expunge(&m, 5, &uid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(imap_seqmap_count(&m), 9);
	assert_int_equal(imap_seqmap_runs(&m), 2);
	assert_uid(&m, 3, 3);
	assert_unknown(&m, 4);
	assert_unknown(&m, 5);
	assert_uid(&m, 6, 17);
	assert_uid(&m, 9, 20);
	/* the gap shrank: message 5 (UID 16 at most) is the only one */
	assert_int_equal(imap_seqmap_set_uid(&m, 5, 16), 0);
	assert_int_equal(imap_seqmap_set_uid(&m, 4, 16), -1);
	assert_int_equal(imap_seqmap_expunge(&m, 9, &uid), 1);
	assert_int_equal(uid, 20);
	/* unknown at the end */
	imap_seqmap_reset(&m, 5);
	learn(&m, 1, 1);
	assert_int_equal(imap_seqmap_expunge(&m, 5, NULL), 0);
	assert_uid(&m, 1, 1);
	/* out of range: nothing changes */
	assert_int_equal(imap_seqmap_expunge(&m, 0, NULL), -1);
	assert_int_equal(imap_seqmap_expunge(&m, 5, NULL), -1);
	assert_int_equal(imap_seqmap_count(&m), 4);
	imap_seqmap_deinit(&m);
}

static void
test_vanish(void **state)
{
	struct imap_seqmap m;
	uint32_t i, known;

	(void)state;
	imap_seqmap_init(&m, 0);
	/* a known UID */
	imap_seqmap_reset(&m, 5);
	for (i = 1; i <= 5; i++)
		learn(&m, i, i + 10);
	assert_int_equal(imap_seqmap_vanish(&m, 13, 13, &known), 0);
	assert_int_equal(known, 1);
	assert_int_equal(imap_seqmap_count(&m), 4);
	assert_uid(&m, 3, 14);
	assert_int_equal(imap_seqmap_runs(&m), 2);
	/* gone already: no message could hold it */
	assert_int_equal(imap_seqmap_vanish(&m, 13, 13, &known), -1);
	assert_int_equal(imap_seqmap_vanish(&m, 16, 16, &known), -1);
	assert_int_equal(imap_seqmap_vanish(&m, 0, 1, &known), -1);
	assert_int_equal(imap_seqmap_vanish(&m, 12, 11, &known), -1);
	assert_int_equal(imap_seqmap_count(&m), 4);

	/*
	 * Across runs and gaps: UIDs 11..20 on messages 1..10, known
	 * 1-3, 5, 8-10.  11:13,15,18:20 known; 14, 16, 17 unknown.
	 */
	imap_seqmap_reset(&m, 10);
	for (i = 1; i <= 10; i++)
		if (i <= 3 || i == 5 || i >= 8)
			learn(&m, i, i + 10);
	assert_int_equal(imap_seqmap_vanish(&m, 13, 18, &known), 0);
	assert_int_equal(known, 3);
	assert_int_equal(imap_seqmap_count(&m), 4);
	assert_uid(&m, 2, 12);
	assert_uid(&m, 3, 19);
	assert_uid(&m, 4, 20);
	assert_int_equal(imap_seqmap_runs(&m), 2);

	/*
	 * Message 1 has UID 10, message 4 UID 20: messages 2 and 3 hold
	 * two of 11..19.  10:20 would be 11 messages in 4.
	 */
	imap_seqmap_reset(&m, 4);
	learn(&m, 1, 10);
	learn(&m, 4, 20);
	assert_int_equal(imap_seqmap_vanish(&m, 10, 20, &known), -1);
	assert_int_equal(imap_seqmap_vanish(&m, 10, 13, &known), -1);
	assert_int_equal(imap_seqmap_vanish(&m, 17, 20, &known), -1);
	assert_int_equal(imap_seqmap_count(&m), 4);
	/* 10:12 is message 1 and the two unknown ones */
	assert_int_equal(imap_seqmap_vanish(&m, 10, 12, &known), 0);
	assert_int_equal(known, 1);
	assert_int_equal(imap_seqmap_count(&m), 1);
	assert_uid(&m, 1, 20);

	/* inside one gap: some of its messages go, which does not matter */
	imap_seqmap_reset(&m, 10);
	learn(&m, 1, 10);
	learn(&m, 10, 100);
	assert_int_equal(imap_seqmap_vanish(&m, 50, 52, &known), 0);
	assert_int_equal(known, 0);
	assert_int_equal(imap_seqmap_count(&m), 7);
	assert_uid(&m, 1, 10);
	assert_uid(&m, 7, 100);
	/* 50:99 are 50 UIDs for 5 unknown messages */
	assert_int_equal(imap_seqmap_vanish(&m, 50, 99, &known), -1);
	/* the gap's upper messages, up to the next known one */
	assert_int_equal(imap_seqmap_vanish(&m, 98, 100, &known), 0);
	assert_int_equal(known, 1);
	assert_int_equal(imap_seqmap_count(&m), 4);
	assert_uid(&m, 1, 10);
	assert_int_equal(imap_seqmap_runs(&m), 1);
	/* its lower messages, from the previous known one */
	imap_seqmap_reset(&m, 6);
	learn(&m, 1, 1);
	learn(&m, 6, 100);
	assert_int_equal(imap_seqmap_vanish(&m, 1, 3, &known), 0);
	assert_int_equal(known, 1);
	assert_int_equal(imap_seqmap_count(&m), 3);
	assert_unknown(&m, 1);
	assert_unknown(&m, 2);
	assert_uid(&m, 3, 100);
	/* above the last known, with unknown messages after it */
	imap_seqmap_reset(&m, 3);
	learn(&m, 1, 5);
	assert_int_equal(imap_seqmap_vanish(&m, 1000, 1001, &known), 0);
	assert_int_equal(known, 0);
	assert_int_equal(imap_seqmap_count(&m), 1);
	assert_int_equal(imap_seqmap_vanish(&m, 6, 6, &known), -1);
	/* nothing known: any UID may be any message */
	imap_seqmap_reset(&m, 10);
	assert_int_equal(imap_seqmap_vanish(&m, 5, 5, NULL), 0);
	assert_int_equal(imap_seqmap_vanish(&m, 1, 9, NULL), 0);
	assert_int_equal(imap_seqmap_count(&m), 0);
	assert_int_equal(imap_seqmap_vanish(&m, 1, 1, NULL), -1);
	imap_seqmap_deinit(&m);
}

static void
test_invalidate(void **state)
{
	struct imap_seqmap m;
	size_t mem;
	uint32_t i;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 20);
	for (i = 1; i <= 20; i += 2)
		learn(&m, i, i);
	mem = imap_seqmap_memory(&m);
	assert_true(mem > 0);
	imap_seqmap_invalidate(&m);
	assert_int_equal(imap_seqmap_count(&m), 20);
	assert_int_equal(imap_seqmap_runs(&m), 0);
	assert_unknown(&m, 1);
	assert_int_equal(imap_seqmap_memory(&m), mem);
	/* anything consistent with nothing is accepted again */
	learn(&m, 1, 1000);
	assert_uid(&m, 1, 1000);
	imap_seqmap_deinit(&m);
	assert_int_equal(imap_seqmap_memory(&m), 0);
	assert_int_equal(imap_seqmap_count(&m), 0);
}

static void
test_huge_mailbox(void **state)
{
	struct imap_seqmap m;
	char out[64];
	size_t len;
	bool incomplete;
	uint32_t i;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 1000000);
	for (i = 1; i <= 1000000; i++)
		learn(&m, i, i);
	assert_int_equal(imap_seqmap_runs(&m), 1);
	assert_int_equal(imap_seqmap_memory(&m), 16 * RUN_BYTES);
	assert_resolve(&m, "1:*", "1:1000000", false);
	assert_unknown_set(&m, "1:*", "");
	assert_uid(&m, 777777, 777777);
	/* backwards, with an offset: still one run */
	imap_seqmap_invalidate(&m);
	for (i = 1000000; i >= 1; i--)
		learn(&m, i, i + 5000000);
	assert_int_equal(imap_seqmap_runs(&m), 1);
	assert_int_equal(imap_seqmap_expunge(&m, 500000, NULL), 1);
	assert_int_equal(imap_seqmap_runs(&m), 2);
	assert_resolve(&m, "1:*", "5000001:5499999,5500001:6000000", false);
	assert_resolve(&m, "*", "6000000", false);
	assert_int_equal(imap_seqmap_resolve(&m, "1:*", 3, out, 16, &len,
	    &incomplete), 1);
	assert_string_equal(out, "5000001:5499999");
	assert_false(incomplete);
	imap_seqmap_deinit(&m);
}

/* ---- the cap ---------------------------------------------------------- */

static void
test_cap_gapped_scan(void **state)
{
	struct imap_seqmap m;
	char out[64 * 1024], want[64 * 1024];
	size_t len, wlen = 0;
	bool incomplete;
	uint32_t i, uid, known = 0;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 3000);
	/* every UID its own run: a FETCH 1:* (UID) over a sparse mailbox */
	for (i = 1; i <= 3000; i++) {
		learn(&m, i, 2 * i);
		assert_true(imap_seqmap_runs(&m) <= IMAP_SEQMAP_RUNS_MAX);
		assert_true(imap_seqmap_memory(&m) <=
		    (IMAP_SEQMAP_RUNS_MAX + 1) * RUN_BYTES);
	}
	/*
	 * Learning 2049, 2305, 2561 and 2817 each forgot a batch of 256:
	 * 1024 forgotten, 1976 runs kept.
	 */
	assert_int_equal(imap_seqmap_forgotten(&m), 4 * EVICT_BATCH);
	assert_int_equal(imap_seqmap_runs(&m), 3000 - 4 * EVICT_BATCH);
	assert_int_equal(imap_seqmap_memory(&m),
	    (IMAP_SEQMAP_RUNS_MAX + 1) * RUN_BYTES);
	/* never wrong; the latest kept (a sliding window) */
	for (i = 1; i <= 3000; i++) {
		if (imap_seqmap_uid(&m, i, &uid)) {
			assert_int_equal(uid, 2 * i);
			known++;
			wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen,
			    "%s%u", wlen > 0 ? "," : "", uid);
		}
	}
	assert_int_equal(known, 3000 - 4 * EVICT_BATCH);
	assert_unknown(&m, 4 * EVICT_BATCH);
	assert_uid(&m, 4 * EVICT_BATCH + 1, 2 * (4 * EVICT_BATCH + 1));
	assert_uid(&m, 3000, 6000);
	assert_int_equal(imap_seqmap_resolve(&m, "1:*", 3, out, sizeof(out),
	    &len, &incomplete), 0);
	assert_string_equal(out, want);
	assert_true(incomplete);
	/* and what is left still guards consistency */
	assert_int_equal(imap_seqmap_set_uid(&m, 2999, 5999), -1);
	imap_seqmap_deinit(&m);
}

static void
test_cap_evicts_shortest(void **state)
{
	struct imap_seqmap m;
	uint32_t i, uid;

	(void)state;
	imap_seqmap_init(&m, 2);
	imap_seqmap_reset(&m, 100);
	for (i = 1; i <= 5; i++)
		learn(&m, i, i);
	for (i = 10; i <= 12; i++)
		learn(&m, i, i + 10);
	assert_int_equal(imap_seqmap_runs(&m), 2);
	/* a third run: the shorter old one goes, the new one stays */
	learn(&m, 50, 100);
	assert_int_equal(imap_seqmap_runs(&m), 2);
	assert_int_equal(imap_seqmap_forgotten(&m), 3);
	assert_uid(&m, 50, 100);
	assert_uid(&m, 5, 5);
	assert_unknown(&m, 10);
	/* and grows without evicting */
	learn(&m, 51, 101);
	assert_int_equal(imap_seqmap_forgotten(&m), 3);
	/* a split over the cap: three runs of two, the lowest goes */
	assert_int_equal(imap_seqmap_expunge(&m, 3, &uid), 1);
	assert_int_equal(uid, 3);
	assert_int_equal(imap_seqmap_runs(&m), 2);
	assert_int_equal(imap_seqmap_forgotten(&m), 5);
	assert_unknown(&m, 1);
	assert_uid(&m, 3, 4);
	assert_uid(&m, 49, 100);
	/* a cap of one: the newest run only */
	imap_seqmap_deinit(&m);
	imap_seqmap_init(&m, 1);
	imap_seqmap_reset(&m, 10);
	learn(&m, 1, 1);
	learn(&m, 5, 9);
	assert_unknown(&m, 1);
	assert_uid(&m, 5, 9);
	assert_int_equal(imap_seqmap_memory(&m), 2 * RUN_BYTES);
	imap_seqmap_deinit(&m);
}

/*
 * A cap of 16 forgets 2 runs at once: the shortest, the lowest among
 * equals, never the one just learned even when it is the shortest and
 * lowest.  Run k (k = 0..15) holds messages 10k+1.. with UIDs 100k+1..
 */
static void
test_cap_evicts_batch(void **state)
{
	static const uint32_t len[16] = {
		3, 2, 4, 1, 5, 2, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3
	};
	struct imap_seqmap m;
	uint64_t forgotten = 0;
	uint32_t k, i;

	(void)state;
	assert_int_equal(16 / IMAP_SEQMAP_EVICT_DIV, 2);
	imap_seqmap_init(&m, 16);
	imap_seqmap_reset(&m, 300);
	for (k = 0; k < 16; k++)
		for (i = 0; i < len[k]; i++)
			learn(&m, 10 * k + 1 + i, 100 * k + 1 + i);
	assert_int_equal(imap_seqmap_runs(&m), 16);
	assert_int_equal(imap_seqmap_forgotten(&m), 0);
	/*
	 * Message 9 (UID 50) is a new run of one between runs 0 and 1,
	 * shortest and lowest: kept.  Run 3 (one) and run 1 (the lowest
	 * of the twos) go.
	 */
	learn(&m, 9, 50);
	forgotten += len[3] + len[1];
	assert_int_equal(imap_seqmap_runs(&m), 16 + 1 - 2);
	assert_int_equal(imap_seqmap_forgotten(&m), forgotten);
	assert_uid(&m, 9, 50);
	assert_unknown(&m, 11);
	assert_unknown(&m, 31);
	assert_uid(&m, 51, 501);
	assert_uid(&m, 61, 601);
	/* under the cap again: no eviction for the next one */
	learn(&m, 200, 5000);
	learn(&m, 201, 5001);
	assert_int_equal(imap_seqmap_runs(&m), 16);
	assert_int_equal(imap_seqmap_forgotten(&m), forgotten);
	/* message 9 (one) and run 5 (the lowest of the twos) go now */
	learn(&m, 210, 5200);
	forgotten += 1 + len[5];
	assert_int_equal(imap_seqmap_runs(&m), 15);
	assert_int_equal(imap_seqmap_forgotten(&m), forgotten);
	assert_unknown(&m, 9);
	assert_unknown(&m, 51);
	assert_uid(&m, 61, 601);
	assert_uid(&m, 62, 602);
	assert_uid(&m, 200, 5000);
	assert_uid(&m, 210, 5200);
	for (k = 0; k < 16; k++)
		if (k != 1 && k != 3 && k != 5)
			assert_uid(&m, 10 * k + len[k], 100 * k + len[k]);
	imap_seqmap_deinit(&m);
}

/*
 * The batch is exactly the shortest runs, the lowest among equals,
 * whatever the lengths: cap 64, batch 8, 64 runs of random lengths
 * (run k: messages 100k+1.., UIDs 1000k+1..), then a new run of one
 * between two of them.  The naive answer: run k goes if fewer than 8
 * runs come before it (shorter, or as long and lower).
 */
static void
test_cap_evicts_batch_random(void **state)
{
	const uint32_t cap = 64, batch = 64 / IMAP_SEQMAP_EVICT_DIV;
	struct imap_seqmap m;
	uint64_t seed = 0xba7c4ba7c4ba7c4bULL, want_forgotten;
	uint32_t len[64], round, k, j, i, rank, at;

	(void)state;
	imap_seqmap_init(&m, cap);
	for (round = 0; round < 200; round++) {
		imap_seqmap_reset(&m, 100 * cap);
		want_forgotten = imap_seqmap_forgotten(&m);
		for (k = 0; k < cap; k++) {
			/* few lengths, many ties */
			len[k] = 1 + rnd_below(&seed, round % 2 ? 4 : 40);
			for (i = 0; i < len[k]; i++)
				learn(&m, 100 * k + 1 + i, 1000 * k + 1 + i);
		}
		assert_int_equal(imap_seqmap_runs(&m), cap);
		at = rnd_below(&seed, cap);
		learn(&m, 100 * at + 50, 1000 * at + 500);
		assert_int_equal(imap_seqmap_runs(&m), cap + 1 - batch);
		assert_uid(&m, 100 * at + 50, 1000 * at + 500);
		for (k = 0; k < cap; k++) {
			for (rank = 0, j = 0; j < cap; j++)
				rank += len[j] < len[k] ||
				    (len[j] == len[k] && j < k);
			if (rank < batch) {
				want_forgotten += len[k];
				assert_unknown(&m, 100 * k + 1);
			} else
				assert_uid(&m, 100 * k + len[k],
				    1000 * k + len[k]);
		}
		assert_int_equal(imap_seqmap_forgotten(&m), want_forgotten);
	}
	imap_seqmap_deinit(&m);
}

/*
 * FETCH 1:* (UID) over a sparse mailbox, 200,000 messages with every
 * other UID: each UID is a run of its own.  The cost is checked by
 * structure, not time: past the cap, runs() climbs by one for every
 * UID and drops by a whole batch at once, so the eviction passes (each
 * a scan of the cap's runs) number (200,000 - 2048 - 1) / 256 + 1 =
 * 774, not one per UID.  forgotten() is exact: every UID learned is
 * either a run held or counted.
 */
static void
test_cap_gapped_scan_long(void **state)
{
	const uint32_t n = 200000;
	struct imap_seqmap m;
	uint32_t i, runs, prev = 0, passes = 0;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, n);
	for (i = 1; i <= n; i++) {
		learn(&m, i, 2 * i);
		runs = imap_seqmap_runs(&m);
		if (runs != prev + 1) {
			/* a batch, only when one more would pass the cap */
			assert_int_equal(prev, IMAP_SEQMAP_RUNS_MAX);
			assert_int_equal(runs,
			    IMAP_SEQMAP_RUNS_MAX + 1 - EVICT_BATCH);
			passes++;
		}
		assert_true(runs <= IMAP_SEQMAP_RUNS_MAX);
		if (imap_seqmap_forgotten(&m) != i - runs)
			fail_msg("UID %u: %llu forgotten, want %u", 2 * i,
			    (unsigned long long)imap_seqmap_forgotten(&m),
			    i - runs);
		prev = runs;
	}
	assert_int_equal(passes,
	    (n - IMAP_SEQMAP_RUNS_MAX - 1) / EVICT_BATCH + 1);
	assert_int_equal(imap_seqmap_memory(&m),
	    (IMAP_SEQMAP_RUNS_MAX + 1) * RUN_BYTES);
	/* the latest RUNS UIDs known, right; all before unknown */
	for (i = 1; i <= n; i++) {
		if (i <= n - runs)
			assert_unknown(&m, i);
		else
			assert_uid(&m, i, 2 * i);
	}
	imap_seqmap_deinit(&m);
}

/* ---- the resolver ----------------------------------------------------- */

static void
test_resolve(void **state)
{
	static const uint32_t uids[] = { 4, 5, 6, 8, 9, 10, 11 };
	struct imap_seqmap m;
	uint32_t i;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 7);
	for (i = 0; i < 7; i++)
		learn(&m, i + 1, uids[i]);
	assert_resolve(&m, "*", "11", false);
	assert_resolve(&m, "6:*", "10:11", false);
	assert_resolve(&m, "*:6", "10:11", false);
	assert_resolve(&m, "7:1", "4:6,8:11", false);
	assert_resolve(&m, "1,1,1", "4", false);
	assert_resolve(&m, "2:3,1", "4:6", false);
	assert_resolve(&m, "7,1,4", "4,8,11", false);
	assert_unknown_set(&m, "1:*", "");
	/* with unknowns */
	imap_seqmap_invalidate(&m);
	for (i = 0; i < 3; i++)
		learn(&m, i + 1, uids[i]);
	learn(&m, 6, 10);
	assert_resolve(&m, "1:3", "4:6", false);
	assert_resolve(&m, "5:1", "4:6", true);
	assert_resolve(&m, "4:5", "", true);
	assert_resolve(&m, "*:2", "5:6,10", true);
	assert_unknown_set(&m, "5:1", "4:5");
	assert_unknown_set(&m, "1:*", "4:5,7");
	assert_unknown_set(&m, "7,4,5", "4:5,7");
	/* errors */
	assert_resolve_fails(&m, "8");
	assert_resolve_fails(&m, "1:8");
	assert_resolve_fails(&m, "0");
	assert_resolve_fails(&m, "");
	assert_resolve_fails(&m, "1,");
	assert_resolve_fails(&m, "1 ");
	assert_resolve_fails(&m, "$");
	assert_resolve_fails(&m, "1,2:x");
	imap_seqmap_deinit(&m);
}

static void
test_resolve_truncation(void **state)
{
	struct imap_seqmap m;
	char out[64];
	size_t len;
	bool incomplete;
	uint32_t i;

	(void)state;
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, 10);
	for (i = 1; i <= 10; i++)
		learn(&m, i, 10 * i);
	/* "10,20,30,...": 8 bytes hold "10,20" and the NUL, not ",30" */
	assert_int_equal(imap_seqmap_resolve(&m, "1:*", 3, out, 8, &len,
	    &incomplete), 1);
	assert_string_equal(out, "10,20");
	assert_int_equal(len, 5);
	assert_false(incomplete);
	assert_int_equal(imap_seqmap_resolve(&m, "1:*", 3, out, 9, &len,
	    &incomplete), 1);
	assert_string_equal(out, "10,20,30");
	/* incompleteness is for the whole set, past the cut too */
	imap_seqmap_invalidate(&m);
	for (i = 1; i <= 9; i++)
		learn(&m, i, 10 * i);
	assert_int_equal(imap_seqmap_resolve(&m, "1:*", 3, out, 8, &len,
	    &incomplete), 1);
	assert_string_equal(out, "10,20");
	assert_true(incomplete);
	/* no room at all */
	assert_int_equal(imap_seqmap_resolve(&m, "1:*", 3, NULL, 0, &len,
	    &incomplete), 1);
	assert_int_equal(len, 0);
	assert_true(incomplete);
	assert_int_equal(imap_seqmap_resolve(&m, "1:*", 3, out, 1, &len,
	    &incomplete), 1);
	assert_string_equal(out, "");
	/* nothing to write needs no room */
	assert_int_equal(imap_seqmap_resolve(&m, "10", 2, NULL, 0, &len,
	    &incomplete), 0);
	assert_true(incomplete);
	/* unknown sequence numbers, cut alike */
	imap_seqmap_reset(&m, 100);
	for (i = 2; i <= 100; i += 2)
		learn(&m, i, i);
	assert_int_equal(imap_seqmap_unknown(&m, "1:*", 3, out, 10, &len), 1);
	assert_string_equal(out, "1,3,5,7,9");
	assert_int_equal(imap_seqmap_unknown(&m, "1:*", 3, out, 12, &len), 1);
	assert_string_equal(out, "1,3,5,7,9");
	assert_int_equal(imap_seqmap_unknown(&m, "1:*", 3, out, 13, &len), 1);
	assert_string_equal(out, "1,3,5,7,9,11");
	imap_seqmap_deinit(&m);
}

/*
 * Naive resolution: a bitmap of the set's sequence numbers, each mapped
 * through imap_seqmap_uid(), formatted with snprintf.
 */
static void
naive_format(const uint32_t *v, size_t n, char *out, size_t size)
{
	size_t i, j, len = 0;

	out[0] = '\0';
	for (i = 0; i < n; i = j + 1) {
		for (j = i; j + 1 < n && v[j + 1] == v[j] + 1; j++)
			;
		if (i == j)
			len += (size_t)snprintf(out + len, size - len, "%s%u",
			    len > 0 ? "," : "", v[i]);
		else
			len += (size_t)snprintf(out + len, size - len,
			    "%s%u:%u", len > 0 ? "," : "", v[i], v[j]);
		assert_true(len < size);
	}
}

/*
 * Resolve SET (SETLEN bytes, items already marked in IN[1..n]) both ways
 * and compare: the UIDs, the unknown sequence numbers, incompleteness.
 */
static void
check_resolve(const struct imap_seqmap *m, const char *set, size_t setlen,
    const unsigned char *in, uint32_t n, size_t textmax)
{
	char *got = malloc(textmax), *want = malloc(textmax);
	uint32_t *uids = malloc((n + 1) * sizeof(*uids));
	uint32_t *unk = malloc((n + 1) * sizeof(*unk));
	size_t nu = 0, nk = 0, len;
	bool incomplete;
	uint32_t s, uid;

	assert_non_null(got);
	assert_non_null(want);
	assert_non_null(uids);
	assert_non_null(unk);
	for (s = 1; s <= n; s++) {
		if (!in[s])
			continue;
		if (imap_seqmap_uid(m, s, &uid))
			uids[nu++] = uid;
		else
			unk[nk++] = s;
	}
	assert_int_equal(imap_seqmap_resolve(m, set, setlen, got, textmax,
	    &len, &incomplete), 0);
	naive_format(uids, nu, want, textmax);
	assert_string_equal(got, want);
	assert_int_equal(incomplete, nk > 0);
	assert_int_equal(imap_seqmap_unknown(m, set, setlen, got, textmax,
	    &len), 0);
	naive_format(unk, nk, want, textmax);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(uids);
	free(unk);
}

/* More disjoint ranges than one pass of imap_set_walk() holds. */
static void
test_resolve_many_ranges(void **state)
{
	const uint32_t n = 50000;
	const size_t textmax = 1 << 20;
	struct imap_seqmap m;
	unsigned char *in;
	char *set;
	uint64_t seed = 0xfeedfacecafe1234ULL;
	size_t slen = 0;
	uint32_t i, a, b, t;

	(void)state;
	in = calloc(n + 1, 1);
	set = malloc(textmax);
	assert_non_null(in);
	assert_non_null(set);
	imap_seqmap_init(&m, 0);
	imap_seqmap_reset(&m, n);
	/* UIDs with a gap after every seventh; every 13th unknown */
	for (i = 1; i <= n; i++)
		if (i % 13 != 0)
			learn(&m, i, i + i / 7);
	for (i = 0; i < 4 * IMAP_SET_WALK_RANGES; i++) {
		a = 1 + rnd_below(&seed, n);
		b = rnd_below(&seed, 100) == 0 ? 1 + rnd_below(&seed, n) :
		    a + rnd_below(&seed, 3);
		if (b > n)
			b = n;
		for (t = a < b ? a : b; t <= (a < b ? b : a); t++)
			in[t] = 1;
		slen += (size_t)snprintf(set + slen, textmax - slen, "%s%u:%u",
		    i > 0 ? "," : "", a, b);
	}
	check_resolve(&m, set, slen, in, n, textmax);
	imap_seqmap_deinit(&m);
	free(in);
	free(set);
}

/* ---- against a naive model -------------------------------------------- */

/*
 * The model is a simulated server mailbox, truth[s] being message s's
 * UID, and what the map was told, learned[s] (0: unknown).  Operations
 * come from the truth, so they are consistent, except the deliberately
 * bad ones, whose expected refusal the naive checks compute.
 *
 * exact: the default cap, never reached here; the map must equal the
 * model, run count included (canonical form).  Otherwise a cap of 3
 * runs (one forgotten at a time) or 64 (batches of 8): the map may know
 * less, never something else.
 *
 * Either way forgotten() must be exact.  Each operation notes in
 * gained the messages it made known (a UID the map did not know) or
 * took away (EXPUNGE or VANISHED of known ones, as the map reported
 * them), and the messages the map knows must then have changed by
 * gained less what forgotten() grew by.
 */
#define MODEL_MAX	1024
#define MODEL_STEPS	10000

struct model {
	uint32_t n;
	uint32_t next_uid;
	uint32_t truth[MODEL_MAX + 2];
	uint32_t learned[MODEL_MAX + 2];
	bool exact;
	uint32_t cap;
	int64_t gained;		/* known messages added (-: removed) */
};

static void
model_remove(struct model *md, uint32_t s1, uint32_t s2)
{
	uint32_t k = s2 - s1 + 1;

	memmove(&md->truth[s1], &md->truth[s2 + 1],
	    (md->n - s2) * sizeof(md->truth[0]));
	memmove(&md->learned[s1], &md->learned[s2 + 1],
	    (md->n - s2) * sizeof(md->learned[0]));
	md->n -= k;
}

/* set_uid's rule, checked against every learned message. */
static bool
model_consistent(const struct model *md, uint32_t seq, uint32_t uid)
{
	uint32_t s;

	if (seq == 0 || seq > md->n || uid == 0 || uid < seq ||
	    (uint64_t)uid + (md->n - seq) > UINT32_MAX)
		return false;
	if (md->learned[seq] != 0)
		return md->learned[seq] == uid;
	for (s = 1; s <= md->n; s++) {
		if (md->learned[s] == 0)
			continue;
		if (s < seq && (uint64_t)md->learned[s] + (seq - s) > uid)
			return false;
		if (s > seq && (uint64_t)uid + (s - seq) > md->learned[s])
			return false;
	}
	return true;
}

static uint32_t
model_runs(const struct model *md)
{
	uint32_t s, runs = 0;

	for (s = 1; s <= md->n; s++)
		if (md->learned[s] != 0 && (s == 1 ||
		    md->learned[s - 1] == 0 ||
		    md->learned[s - 1] + 1 != md->learned[s]))
			runs++;
	return runs;
}

/* Messages whose UID the map knows. */
static uint32_t
map_known(const struct imap_seqmap *m, uint32_t n)
{
	uint32_t s, uid, known = 0;

	for (s = 1; s <= n; s++)
		known += imap_seqmap_uid(m, s, &uid);
	return known;
}

static void
model_check(const struct imap_seqmap *m, const struct model *md)
{
	uint32_t s, uid, seq;
	bool known;

	assert_int_equal(imap_seqmap_count(m), md->n);
	for (s = 1; s <= md->n; s++) {
		known = imap_seqmap_uid(m, s, &uid);
		if (md->exact) {
			assert_int_equal(known, md->learned[s] != 0);
			if (known)
				assert_int_equal(uid, md->learned[s]);
		} else if (known)
			assert_int_equal(uid, md->truth[s]);
		known = imap_seqmap_seq(m, md->truth[s], &seq);
		if (md->exact)
			assert_int_equal(known, md->learned[s] != 0);
		if (known)
			assert_int_equal(seq, s);
	}
	assert_false(imap_seqmap_uid(m, md->n + 1, &uid));
	if (md->exact) {
		assert_int_equal(imap_seqmap_runs(m), model_runs(md));
		assert_int_equal(imap_seqmap_forgotten(m), 0);
	} else {
		assert_true(imap_seqmap_runs(m) <= md->cap);
		assert_true(imap_seqmap_memory(m) <= (md->cap + 1) * RUN_BYTES);
	}
}

static void
op_reset(struct imap_seqmap *m, struct model *md, uint64_t *seed)
{
	uint32_t s;

	md->n = rnd_below(seed, 300);
	md->next_uid = 1 + rnd_below(seed, 1000);
	for (s = 1; s <= md->n; s++) {
		md->truth[s] = md->next_uid;
		md->learned[s] = 0;
		md->next_uid += 1 + (rnd_below(seed, 4) == 0 ?
		    rnd_below(seed, 5) : 0);
	}
	imap_seqmap_reset(m, md->n);
}

static void
op_exists(struct imap_seqmap *m, struct model *md, uint64_t *seed)
{
	uint32_t k;

	if (md->n > 0 && rnd_below(seed, 4) == 0) {
		assert_int_equal(imap_seqmap_exists(m, md->n - 1), -1);
		return;
	}
	k = rnd_below(seed, 6);
	if (md->n + k > MODEL_MAX)
		return;
	while (k-- > 0) {
		md->n++;
		md->truth[md->n] = md->next_uid;
		md->learned[md->n] = 0;
		md->next_uid += 1 + rnd_below(seed, 3);
	}
	assert_int_equal(imap_seqmap_exists(m, md->n), 0);
}

/* One UID, or a FETCH a:b (UID) answered in either order. */
static void
op_learn(struct imap_seqmap *m, struct model *md, uint64_t *seed,
    bool range)
{
	uint32_t a, b, s;

	if (md->n == 0)
		return;
	a = 1 + rnd_below(seed, md->n);
	b = range ? a + rnd_below(seed, 40) : a;
	if (b > md->n)
		b = md->n;
	for (s = a; s <= b; s++) {
		uint32_t seq = rnd_below(seed, 2) ? s : a + b - s, uid;

		if (!imap_seqmap_uid(m, seq, &uid))
			md->gained++;
		assert_int_equal(imap_seqmap_set_uid(m, seq, md->truth[seq]),
		    0);
		md->learned[seq] = md->truth[seq];
	}
}

static void
op_bad_learn(struct imap_seqmap *m, struct model *md, uint64_t *seed)
{
	uint32_t seq, uid;
	bool ok;
	int rc;

	seq = rnd_below(seed, md->n + 2);	/* 0 and n + 1 included */
	switch (rnd_below(seed, 4)) {
	case 0:
		uid = rnd_below(seed, md->next_uid + 10);
		break;
	case 1:
		uid = UINT32_MAX - rnd_below(seed, 3);
		break;
	default:
		uid = seq >= 1 && seq <= md->n ?
		    md->truth[seq] + rnd_below(seed, 7) - 3 : 1;
		break;
	}
	if (!md->exact) {
		/* the map knows less than the model: only sure refusals */
		if (seq == 0 || seq > md->n || uid == 0)
			assert_int_equal(imap_seqmap_set_uid(m, seq, uid), -1);
		return;
	}
	ok = model_consistent(md, seq, uid);
	if (ok && uid != md->truth[seq])
		return;		/* plausible but false: would poison */
	if (ok && md->learned[seq] == 0)
		md->gained++;
	rc = imap_seqmap_set_uid(m, seq, uid);
	assert_int_equal(rc, ok ? 0 : -1);
	if (ok)
		md->learned[seq] = uid;
}

static void
op_expunge(struct imap_seqmap *m, struct model *md, uint64_t *seed)
{
	uint32_t seq, uid = 0;
	int rc;

	seq = 1 + rnd_below(seed, md->n + 1);
	rc = imap_seqmap_expunge(m, seq, &uid);
	if (seq > md->n) {
		assert_int_equal(rc, -1);
		return;
	}
	if (md->exact)
		assert_int_equal(rc, md->learned[seq] != 0 ? 1 : 0);
	else
		assert_int_not_equal(rc, -1);
	if (rc == 1) {
		assert_int_equal(uid, md->truth[seq]);
		md->gained--;
	}
	model_remove(md, seq, seq);
}

/* VANISHED for UIDs of the mailbox: consecutive messages, UIDs too. */
static void
op_vanish(struct imap_seqmap *m, struct model *md, uint64_t *seed)
{
	uint32_t s1, s2, s, known = 99, want = 0;

	if (md->n == 0)
		return;
	s1 = 1 + rnd_below(seed, md->n);
	s2 = s1;
	while (s2 < md->n && md->truth[s2 + 1] == md->truth[s2] + 1 &&
	    s2 - s1 < 10 && rnd_below(seed, 3) != 0)
		s2++;
	for (s = s1; s <= s2; s++)
		want += md->learned[s] != 0;
	assert_int_equal(imap_seqmap_vanish(m, md->truth[s1], md->truth[s2],
	    &known), 0);
	if (md->exact)
		assert_int_equal(known, want);
	md->gained -= known;
	model_remove(md, s1, s2);
}

/*
 * VANISHED for a UID not in the mailbox: refused exactly when no
 * unknown message lies where it would sort (else the map cannot tell,
 * and the case is skipped).
 */
static void
op_bad_vanish(struct imap_seqmap *m, struct model *md, uint64_t *seed)
{
	uint32_t u, s, lo = 0, hi, n = md->n;

	if (!md->exact)
		return;
	u = 1 + rnd_below(seed, md->next_uid + 10);
	for (s = 1; s <= md->n; s++)
		if (md->truth[s] == u)
			return;
	hi = md->n + 1;
	for (s = 1; s <= md->n; s++) {
		if (md->learned[s] == 0)
			continue;
		if (md->learned[s] < u)
			lo = s;
		else if (hi == md->n + 1)
			hi = s;
	}
	if (hi - lo - 1 > 0)
		return;
	assert_int_equal(imap_seqmap_vanish(m, u, u, NULL), -1);
	assert_int_equal(imap_seqmap_count(m), n);
}

/* A random set of 1 to 4 items, sometimes out of range. */
static void
op_resolve(struct imap_seqmap *m, struct model *md, uint64_t *seed)
{
	unsigned char in[MODEL_MAX + 2];
	char set[128], out[8];
	size_t len = 0, olen;
	uint32_t items, i, a, b, t;
	bool bad = md->n == 0, incomplete;

	memset(in, 0, sizeof(in));
	items = 1 + rnd_below(seed, 4);
	for (i = 0; i < items; i++) {
		char ta[16], tb[16];

		a = 1 + rnd_below(seed, md->n + 1);
		b = 1 + rnd_below(seed, md->n + 1);
		if (rnd_below(seed, 20) != 0) {
			a = a > md->n ? md->n : a;
			b = b > md->n ? md->n : b;
		}
		snprintf(ta, sizeof(ta), "%u", a);
		snprintf(tb, sizeof(tb), "%u", b);
		if (rnd_below(seed, 5) == 0) {
			a = md->n;
			snprintf(ta, sizeof(ta), "*");
		}
		switch (rnd_below(seed, 3)) {
		case 0:
			len += (size_t)snprintf(set + len, sizeof(set) - len,
			    "%s%s", i > 0 ? "," : "", ta);
			b = a;
			break;
		default:
			len += (size_t)snprintf(set + len, sizeof(set) - len,
			    "%s%s:%s", i > 0 ? "," : "", ta, tb);
			break;
		}
		if (a == 0 || b == 0 || a > md->n || b > md->n)
			bad = true;
		if (!bad)
			for (t = a < b ? a : b; t <= (a < b ? b : a); t++)
				in[t] = 1;
	}
	if (bad) {
		assert_int_equal(imap_seqmap_resolve(m, set, len, out,
		    sizeof(out), &olen, &incomplete), -1);
		return;
	}
	check_resolve(m, set, len, in, md->n, 16384);
}

static void
model_run(uint32_t cap, uint64_t seed)
{
	struct imap_seqmap m;
	struct model *md;
	uint64_t forgotten;
	uint32_t step, r, known;

	md = calloc(1, sizeof(*md));
	assert_non_null(md);
	md->exact = cap == 0;
	md->cap = cap == 0 ? IMAP_SEQMAP_RUNS_MAX : cap;
	imap_seqmap_init(&m, cap);
	op_reset(&m, md, &seed);
	for (step = 0; step < MODEL_STEPS; step++) {
		known = map_known(&m, md->n);
		forgotten = imap_seqmap_forgotten(&m);
		md->gained = 0;
		r = rnd_below(&seed, 100);
		if (r < 2) {
			op_reset(&m, md, &seed);
			md->gained = -(int64_t)known;
		} else if (r < 10)
			op_exists(&m, md, &seed);
		else if (r < 35)
			op_learn(&m, md, &seed, false);
		else if (r < 45)
			op_learn(&m, md, &seed, true);
		else if (r < 55)
			op_bad_learn(&m, md, &seed);
		else if (r < 70)
			op_expunge(&m, md, &seed);
		else if (r < 80)
			op_vanish(&m, md, &seed);
		else if (r < 85)
			op_bad_vanish(&m, md, &seed);
		else if (r < 87) {
			imap_seqmap_invalidate(&m);
			memset(md->learned, 0, sizeof(md->learned));
			md->gained = -(int64_t)known;
		} else
			op_resolve(&m, md, &seed);
		model_check(&m, md);
		assert_true(imap_seqmap_forgotten(&m) >= forgotten);
		assert_int_equal((int64_t)map_known(&m, md->n),
		    (int64_t)known + md->gained -
		    (int64_t)(imap_seqmap_forgotten(&m) - forgotten));
	}
	if (!md->exact)
		assert_true(imap_seqmap_forgotten(&m) > 0);
	imap_seqmap_deinit(&m);
	free(md);
}

static void
test_model_exact(void **state)
{
	(void)state;
	model_run(0, 0x0123456789abcdefULL);
}

static void
test_model_capped(void **state)
{
	(void)state;
	model_run(3, 0x0fedcba987654321ULL);
}

static void
test_model_capped_batch(void **state)
{
	(void)state;
	assert_int_equal(64 / IMAP_SEQMAP_EVICT_DIV, 8);
	model_run(64, 0x5eed0fba7c4e5a11ULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_no_cost_without_uids),
		cmocka_unit_test(test_exists),
		cmocka_unit_test(test_learn_in_order),
		cmocka_unit_test(test_learn_out_of_order),
		cmocka_unit_test(test_learn_gapped),
		cmocka_unit_test(test_set_uid_inconsistent),
		cmocka_unit_test(test_expunge_known_run),
		cmocka_unit_test(test_expunge_unknown),
		cmocka_unit_test(test_vanish),
		cmocka_unit_test(test_invalidate),
		cmocka_unit_test(test_huge_mailbox),
		cmocka_unit_test(test_cap_gapped_scan),
		cmocka_unit_test(test_cap_evicts_shortest),
		cmocka_unit_test(test_cap_evicts_batch),
		cmocka_unit_test(test_cap_evicts_batch_random),
		cmocka_unit_test(test_cap_gapped_scan_long),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_resolve_truncation),
		cmocka_unit_test(test_resolve_many_ranges),
		cmocka_unit_test(test_model_exact),
		cmocka_unit_test(test_model_capped),
		cmocka_unit_test(test_model_capped_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
