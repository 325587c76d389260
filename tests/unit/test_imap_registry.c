/*
 * test_imap_registry.c - the registry sessions share: keys (INBOX in
 * any case), recording and claiming UIDs (once each), blind windows
 * and their age, UIDVALIDITY changes, commands in flight and the waiters they
 * wake (re-entrantly), the range cap (a closed gap never gives a UID
 * twice), age and LRU eviction under the caps, refusal when everything
 * is pinned, memory accounting, and 20,000 random operations against a
 * bitmap model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parser/imap_registry.h"

/* ---- helpers ----------------------------------------------------------- */

static uint64_t fake_now;

static uint64_t
fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static struct imap_registry *
reg_new(uint32_t boxes_max, uint32_t ranges_max, size_t bytes_max)
{
	struct imap_registry_limits lim;
	struct imap_registry *reg;

	memset(&lim, 0, sizeof(lim));
	lim.boxes_max = boxes_max;
	lim.ranges_max = ranges_max;
	lim.bytes_max = bytes_max;
	lim.age_ms = 1000;
	lim.now_ms = fake_clock;
	fake_now = 5000;
	reg = imap_registry_new(&lim);
	assert_non_null(reg);
	return reg;
}

static struct imap_registry_box *
box_open(struct imap_registry *reg, const char *backend, const char *user,
    const char *mailbox)
{
	struct imap_registry_key key;

	key.backend = backend;
	key.backend_len = strlen(backend);
	key.user = user;
	key.user_len = strlen(user);
	key.mailbox = mailbox;
	key.mailbox_len = strlen(mailbox);
	return imap_registry_open(reg, &key);
}

/* What a claim gave, as "a:b,c" text. */
struct got {
	char text[512];
	size_t len;
};

static bool
got_range(void *ctx, uint32_t first, uint32_t last)
{
	struct got *g = ctx;
	int n;

	if (first == last)
		n = snprintf(g->text + g->len, sizeof(g->text) - g->len, "%s%u",
		    g->len > 0 ? "," : "", first);
	else
		n = snprintf(g->text + g->len, sizeof(g->text) - g->len,
		    "%s%u:%u", g->len > 0 ? "," : "", first, last);
	assert_true(n > 0 && (size_t)n < sizeof(g->text) - g->len);
	g->len += (size_t)n;
	return true;
}

static const char *
claim(struct imap_registry *reg, struct imap_registry_box *box, uint32_t uv,
    enum imap_registry_dir dir, uint32_t first, uint32_t last)
{
	static struct got g;
	uint64_t n;

	memset(&g, 0, sizeof(g));
	n = imap_registry_claim(reg, box, uv, dir, first, last, got_range, &g);
	(void)n;
	return g.text;
}

/* ---- keys -------------------------------------------------------------- */

static void
test_keys(void **state)
{
	struct imap_registry *reg = reg_new(0, 0, 0);
	struct imap_registry_box *a, *b, *c, *d, *e, *f;
	struct imap_registry_stats st;

	(void)state;
	a = box_open(reg, "127.0.0.1:143", "alice", "INBOX");
	b = box_open(reg, "127.0.0.1:143", "alice", "inbox");
	c = box_open(reg, "127.0.0.1:143", "alice", "Inboxes/x");
	d = box_open(reg, "127.0.0.1:143", "alice", "inboxes/x");
	e = box_open(reg, "127.0.0.1:143", "bob", "INBOX");
	f = box_open(reg, "127.0.0.1:1143", "alice", "INBOX");
	assert_non_null(a);
	assert_ptr_equal(a, b);		/* RFC 9051 5.1 */
	assert_ptr_not_equal(c, d);	/* not a name that starts "Inbox" */
	/* INBOX as the hierarchy's first level, in any case */
	assert_ptr_equal(box_open(reg, "127.0.0.1:143", "alice", "INBOX.Sub"),
	    box_open(reg, "127.0.0.1:143", "alice", "iNbOx.Sub"));
	assert_ptr_equal(box_open(reg, "127.0.0.1:143", "alice", "inbox/Sub"),
	    box_open(reg, "127.0.0.1:143", "alice", "INBOX/Sub"));
	assert_ptr_not_equal(box_open(reg, "127.0.0.1:143", "alice",
	    "INBOX.sub"), box_open(reg, "127.0.0.1:143", "alice", "INBOX.Sub"));
	assert_ptr_not_equal(box_open(reg, "127.0.0.1:143", "alice", "InboxX"),
	    box_open(reg, "127.0.0.1:143", "alice", "INBOXX"));
	assert_ptr_not_equal(a, e);
	assert_ptr_not_equal(a, f);
	/* the parts do not run into each other */
	assert_ptr_not_equal(box_open(reg, "h", "ab", "c"),
	    box_open(reg, "h", "a", "bc"));
	imap_registry_stats(reg, &st);
	assert_int_equal(st.boxes, 12);
	assert_int_equal(st.pinned, 12);
	imap_registry_free(&reg);
	assert_null(reg);
}

/* ---- recording and claiming -------------------------------------------- */

static void
test_record_claim(void **state)
{
	struct imap_registry *reg = reg_new(0, 0, 0);
	struct imap_registry_box *box = box_open(reg, "b", "alice", "INBOX");

	(void)state;
	/* session A appended 5 and 7; B sees 4:8 arrive */
	imap_registry_record(reg, box, 9, IMAP_REGISTRY_ADD, 5, 5);
	imap_registry_record(reg, box, 9, IMAP_REGISTRY_ADD, 7, 7);
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_ADD, 4, 8),
	    "4,6,8");
	/* C sees them too: nothing left to report */
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_ADD, 4, 8), "");
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_ADD, 3, 9),
	    "3,9");
	/* the directions are apart */
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_REMOVE, 5, 5),
	    "5");
	/* a new UIDVALIDITY forgets the old UIDs */
	assert_string_equal(claim(reg, box, 10, IMAP_REGISTRY_ADD, 5, 5),
	    "5");
	/* claiming the top of the UID space */
	assert_string_equal(claim(reg, box, 10, IMAP_REGISTRY_ADD,
	    UINT32_MAX - 1, UINT32_MAX), "4294967294:4294967295");
	assert_string_equal(claim(reg, box, 10, IMAP_REGISTRY_ADD,
	    UINT32_MAX, UINT32_MAX), "");
	/* nothing for a UID 0 or a reversed range */
	assert_string_equal(claim(reg, box, 10, IMAP_REGISTRY_ADD, 0, 3), "");
	assert_string_equal(claim(reg, box, 10, IMAP_REGISTRY_ADD, 3, 2), "");
	imap_registry_close(reg, &box);
	assert_null(box);
	imap_registry_free(&reg);
}

static void
test_blind(void **state)
{
	struct imap_registry *reg = reg_new(0, 0, 0);
	struct imap_registry_box *box = box_open(reg, "b", "alice", "INBOX");
	struct imap_registry_stats st;

	(void)state;
	/* an APPEND of 2 messages without APPENDUID: which are they? */
	imap_registry_record(reg, box, 9, IMAP_REGISTRY_ADD, 11, 11);
	imap_registry_blind(reg, box, 9, IMAP_REGISTRY_ADD, 2);
	/* 10..14 arrive: nothing is anybody's for the window */
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_ADD, 10, 14), "");
	fake_now += 999;
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_ADD, 15, 15), "");
	/* after it, unexplained UIDs are nobody's again, claimed ones not */
	fake_now += 2;
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_ADD, 10, 16),
	    "16");
	imap_registry_stats(reg, &st);
	assert_int_equal(st.blinded, 5);
	/* the directions are apart; none blinds nothing */
	imap_registry_blind(reg, box, 9, IMAP_REGISTRY_REMOVE, 0);
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_ADD, 17, 17),
	    "17");
	imap_registry_blind(reg, box, 9, IMAP_REGISTRY_REMOVE, 1);
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_ADD, 18, 18),
	    "18");
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_REMOVE, 1, 2),
	    "");
	imap_registry_close(reg, &box);
	box = box_open(reg, "b", "alice", "Other");
	/* told first without a UIDVALIDITY: the first one adopts it */
	imap_registry_blind(reg, box, 0, IMAP_REGISTRY_REMOVE, 1);
	imap_registry_record(reg, box, 0, IMAP_REGISTRY_ADD, 3, 3);
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_ADD, 2, 4),
	    "2,4");
	assert_string_equal(claim(reg, box, 9, IMAP_REGISTRY_REMOVE, 2, 2),
	    "");
	imap_registry_stats(reg, &st);
	assert_int_equal(st.resets, 0);
	/* a UIDVALIDITY change ends the window (and forgets the UIDs) */
	assert_string_equal(claim(reg, box, 8, IMAP_REGISTRY_REMOVE, 1, 1),
	    "1");
	assert_string_equal(claim(reg, box, 8, IMAP_REGISTRY_ADD, 3, 3), "3");
	imap_registry_stats(reg, &st);
	assert_int_equal(st.resets, 1);
	imap_registry_close(reg, &box);
	imap_registry_free(&reg);
}

/*
 * Past the range cap the lowest gap closes: its UIDs count as explained
 * (no event rather than a second one), every range above stays exact.
 */
static void
test_range_cap(void **state)
{
	struct imap_registry *reg = reg_new(0, 4, 0);
	struct imap_registry_box *box = box_open(reg, "b", "u", "INBOX");
	struct imap_registry_stats st;
	uint32_t u;

	(void)state;
	for (u = 1; u <= 15; u += 2)	/* 1,3,5,...,15: 8 ranges */
		imap_registry_record(reg, box, 1, IMAP_REGISTRY_ADD, u, u);
	imap_registry_stats(reg, &st);
	assert_int_equal(st.merged, 4);
	/* 1..9 became one range; 11, 13, 15 exact */
	assert_string_equal(claim(reg, box, 1, IMAP_REGISTRY_ADD, 1, 16),
	    "10,12,14,16");
	/* a range inside the gap that closes */
	imap_registry_close(reg, &box);
	imap_registry_free(&reg);

	reg = reg_new(0, 2, 0);
	box = box_open(reg, "b", "u", "INBOX");
	imap_registry_record(reg, box, 1, IMAP_REGISTRY_ADD, 1, 1);
	imap_registry_record(reg, box, 1, IMAP_REGISTRY_ADD, 10, 10);
	imap_registry_record(reg, box, 1, IMAP_REGISTRY_ADD, 5, 5);
	assert_string_equal(claim(reg, box, 1, IMAP_REGISTRY_ADD, 1, 11),
	    "11");
	imap_registry_close(reg, &box);
	imap_registry_free(&reg);
}

/* ---- commands in flight and waiters ------------------------------------ */

struct waker {
	struct imap_registry *reg;
	struct imap_registry_box *box;
	struct imap_registry_waiter w;
	struct waker *other;		/* unwaited from the callback */
	unsigned calls;
	bool again;			/* wait again from the callback */
};

static void
wake(void *ctx)
{
	struct waker *k = ctx;

	k->calls++;
	if (k->other != NULL)
		imap_registry_unwait(k->reg, &k->other->w);
	if (k->again) {
		k->again = false;
		imap_registry_wait(k->reg, k->box, &k->w, wake, k);
	}
}

static void
test_in_flight(void **state)
{
	struct imap_registry *reg = reg_new(0, 0, 0);
	struct imap_registry_box *box = box_open(reg, "b", "u", "INBOX");
	struct waker a, b, c;
	struct imap_registry_stats st;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	a.reg = b.reg = c.reg = reg;
	a.box = b.box = c.box = box;
	imap_registry_hold(reg, box, IMAP_REGISTRY_ADD);
	imap_registry_hold(reg, box, IMAP_REGISTRY_ADD);
	imap_registry_hold(reg, box, IMAP_REGISTRY_REMOVE);
	assert_int_equal(imap_registry_in_flight(box, IMAP_REGISTRY_ADD), 2);
	assert_int_equal(imap_registry_in_flight(box, IMAP_REGISTRY_REMOVE), 1);
	imap_registry_wait(reg, box, &a.w, wake, &a);
	imap_registry_wait(reg, box, &a.w, wake, &a);	/* once only */
	imap_registry_wait(reg, box, &b.w, wake, &b);
	imap_registry_wait(reg, box, &c.w, wake, &c);
	a.again = true;		/* a waits again */
	a.other = &b;		/* and b's session ends meanwhile */
	imap_registry_release(reg, box, IMAP_REGISTRY_ADD);
	assert_int_equal(a.calls, 0);	/* one ADD still in flight */
	imap_registry_release(reg, box, IMAP_REGISTRY_ADD);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 0);
	assert_int_equal(c.calls, 1);
	assert_ptr_equal(a.w.box, box);
	assert_null(b.w.box);
	assert_null(c.w.box);
	a.other = NULL;
	imap_registry_release(reg, box, IMAP_REGISTRY_REMOVE);
	assert_int_equal(a.calls, 2);
	assert_null(a.w.box);
	/* unwait of one not waiting is a no-op */
	imap_registry_unwait(reg, &a.w);
	imap_registry_stats(reg, &st);
	assert_int_equal(st.pinned, 1);	/* our open only */
	imap_registry_close(reg, &box);
	imap_registry_stats(reg, &st);
	assert_int_equal(st.pinned, 0);
	imap_registry_free(&reg);
}

/* ---- eviction ---------------------------------------------------------- */

static void
test_age_and_caps(void **state)
{
	struct imap_registry *reg = reg_new(3, 0, 0);
	struct imap_registry_box *a, *b, *c, *d;
	struct imap_registry_stats st;
	size_t base;

	(void)state;
	base = imap_registry_memory(reg);
	a = box_open(reg, "b", "u", "A");
	imap_registry_record(reg, a, 1, IMAP_REGISTRY_ADD, 5, 5);
	imap_registry_close(reg, &a);
	fake_now += 10;
	b = box_open(reg, "b", "u", "B");
	imap_registry_close(reg, &b);
	fake_now += 10;
	c = box_open(reg, "b", "u", "C");	/* kept open */
	/* A is used again: it moves to the front */
	a = box_open(reg, "b", "u", "A");
	assert_string_equal(claim(reg, a, 1, IMAP_REGISTRY_ADD, 5, 5), "");
	imap_registry_close(reg, &a);
	/* a fourth: the least recently used unpinned (B) goes */
	d = box_open(reg, "b", "u", "D");
	assert_non_null(d);
	imap_registry_stats(reg, &st);
	assert_int_equal(st.boxes, 3);
	assert_int_equal(st.dropped, 1);
	a = box_open(reg, "b", "u", "A");	/* still there */
	assert_string_equal(claim(reg, a, 1, IMAP_REGISTRY_ADD, 5, 5), "");
	/* all three pinned: a fourth is refused */
	assert_null(box_open(reg, "b", "u", "E"));
	imap_registry_stats(reg, &st);
	assert_int_equal(st.refused, 1);
	/* past the age, unpinned ones go at the next open */
	imap_registry_close(reg, &a);
	imap_registry_close(reg, &d);
	fake_now += 1001;
	b = box_open(reg, "b", "u", "B");
	imap_registry_stats(reg, &st);
	assert_int_equal(st.boxes, 2);		/* C and B */
	assert_int_equal(st.dropped, 3);
	imap_registry_close(reg, &b);
	imap_registry_close(reg, &c);
	fake_now += 1001;
	b = box_open(reg, "b", "u", "X");
	imap_registry_close(reg, &b);
	fake_now += 1001;
	b = box_open(reg, "b", "u", "Y");
	imap_registry_close(reg, &b);
	fake_now += 1001;
	b = box_open(reg, "b", "u", "Z");
	imap_registry_stats(reg, &st);
	assert_int_equal(st.boxes, 1);
	imap_registry_close(reg, &b);
	fake_now += 1001;
	b = box_open(reg, "b", "u", "W");
	imap_registry_close(reg, &b);
	assert_true(imap_registry_memory(reg) > base);
	imap_registry_free(&reg);
}

/* The byte cap drops the least recently used unpinned mailboxes. */
static void
test_bytes_cap(void **state)
{
	struct imap_registry *reg = reg_new(0, 0, 8192);
	struct imap_registry_box *box;
	struct imap_registry_stats st;
	char name[64];
	unsigned i;
	uint32_t u;

	(void)state;
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "folder-%u", i);
		box = box_open(reg, "b", "u", name);
		assert_non_null(box);
		for (u = 1; u < 200; u += 2)
			imap_registry_record(reg, box, 1, IMAP_REGISTRY_ADD, u,
			    u);
		imap_registry_close(reg, &box);
		/* one mailbox past the cap at most */
		assert_true(imap_registry_memory(reg) < 8192 + 2048);
	}
	imap_registry_stats(reg, &st);
	assert_true(st.dropped > 150);
	assert_int_equal(st.memory, imap_registry_memory(reg));
	imap_registry_free(&reg);
}

/* ---- random operations against a model --------------------------------- */

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

#define MODEL_UIDS	300

struct model_claim {
	const bool *explained;
	bool *reported;
	bool ok;
	uint32_t prev;
};

static bool
model_range(void *ctx, uint32_t first, uint32_t last)
{
	struct model_claim *m = ctx;
	uint32_t u;

	if (first <= m->prev)
		m->ok = false;		/* not ascending */
	m->prev = last;
	for (u = first; u <= last; u++) {
		if (u >= MODEL_UIDS || m->explained[u] || m->reported[u])
			m->ok = false;	/* given twice */
		m->reported[u] = true;
	}
	return true;
}

/*
 * With room for every range the registry is exact: a claim gives exactly
 * the UIDs
 * not recorded and not claimed before.  With a small cap it may give
 * fewer, never one twice or one recorded.
 */
static void
run_model(uint32_t ranges_max)
{
	struct imap_registry *reg = reg_new(0, ranges_max, 0);
	struct imap_registry_box *box = box_open(reg, "b", "u", "INBOX");
	bool explained[MODEL_UIDS], reported[MODEL_UIDS];
	struct model_claim m;
	uint64_t seed = 42, r;
	uint32_t first, last, u, want;
	uint64_t given;
	int i;

	memset(explained, 0, sizeof(explained));
	memset(reported, 0, sizeof(reported));
	for (i = 0; i < 10000; i++) {
		r = rnd(&seed);
		first = 1 + (uint32_t)(r % (MODEL_UIDS - 20));
		last = first + (uint32_t)((r >> 16) % 8);
		if ((r >> 32) % 3 == 0) {
			imap_registry_record(reg, box, 1, IMAP_REGISTRY_ADD,
			    first, last);
			for (u = first; u <= last; u++)
				explained[u] = true;
			continue;
		}
		memset(&m, 0, sizeof(m));
		m.explained = explained;
		m.reported = reported;
		m.ok = true;
		for (want = 0, u = first; u <= last; u++)
			if (!explained[u] && !reported[u])
				want++;
		given = imap_registry_claim(reg, box, 1, IMAP_REGISTRY_ADD,
		    first, last, model_range, &m);
		assert_true(m.ok);
		if (ranges_max >= MODEL_UIDS)
			assert_int_equal(given, want);
		else
			assert_true(given <= want);
		for (u = first; u <= last; u++)
			explained[u] = true;
	}
	imap_registry_close(reg, &box);
	imap_registry_free(&reg);
}

static void
test_random(void **state)
{
	(void)state;
	run_model(1000);
	run_model(3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_record_claim),
		cmocka_unit_test(test_blind),
		cmocka_unit_test(test_range_cap),
		cmocka_unit_test(test_in_flight),
		cmocka_unit_test(test_age_and_caps),
		cmocka_unit_test(test_bytes_cap),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
