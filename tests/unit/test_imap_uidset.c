/*
 * test_imap_uidset.c - the compact UID set, against a plain bitmap.
 *
 * Random additions and removals (with and without memory) of random ranges (short and long, in a
 * small universe so that they collide, and at the top of the number
 * space) are applied both to an imap_uidset and to a bitmap; after each
 * step the set must hold exactly the bitmap's members, walk them (and
 * its gaps) as maximal ranges, and keep its invariants: items sorted and
 * disjoint, no window of 64 meeting two items, no two ranges touching,
 * no bitmap of fewer than two pieces.  With a cap, a refused addition marks the set
 * cut and what it holds stays a subset of what was added.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../parser/imap_uidset.h"

#define UNIVERSE	4096

/* The model: bit u of the universe [BASE, BASE + UNIVERSE). */
struct model {
	uint32_t base;
	unsigned char bit[UNIVERSE];
};

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
check_invariants(const struct imap_uidset *s)
{
	const struct imap_uidset_item *a, *b;
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		a = &s->item[i];
		assert_true(a->first <= a->last);
		if (a->map != 0) {
			assert_int_equal(a->first % 64, 0);
			assert_int_equal(a->last, a->first + 63);
			/* two pieces at least */
			assert_true(((a->map >> __builtin_ctzll(a->map)) &
			    ((a->map >> __builtin_ctzll(a->map)) + 1)) != 0);
		}
		if (i == 0)
			continue;
		b = &s->item[i - 1];
		assert_true(b->last < a->first);
		/* one item per window */
		assert_true((b->last & ~(uint32_t)63) !=
		    (a->first & ~(uint32_t)63));
		if (a->map == 0 && b->map == 0)
			assert_true((uint64_t)b->last + 1 < a->first);
	}
}

struct collect {
	uint32_t r[2 * UNIVERSE][2];
	size_t n;
};

static bool
collect_cb(void *ctx, uint32_t first, uint32_t last)
{
	struct collect *c = ctx;

	assert_true(c->n < 2 * UNIVERSE);
	if (c->n > 0)
		assert_true((uint64_t)c->r[c->n - 1][1] + 1 < first);
	c->r[c->n][0] = first;
	c->r[c->n][1] = last;
	c->n++;
	return true;
}

/* The set equals the model (SUBSET: is within it). */
static void
check_model(const struct imap_uidset *s, const struct model *m, bool subset)
{
	static struct collect c, g;
	size_t i, k = 0, gk = 0;
	uint64_t count = 0;
	uint32_t u, last;
	bool in;

	check_invariants(s);
	c.n = g.n = 0;
	assert_int_equal(imap_uidset_walk(s, m->base, m->base + UNIVERSE - 1,
	    collect_cb, &c), 0);
	assert_int_equal(imap_uidset_walk_gaps(s, m->base,
	    m->base + UNIVERSE - 1, collect_cb, &g), 0);
	for (i = 0; i < UNIVERSE; i++) {
		u = m->base + (uint32_t)i;
		in = imap_uidset_has(s, u);
		if (subset)
			assert_true(!in || m->bit[i]);
		else if (in != (m->bit[i] != 0))
			fail_msg("%u: set %d, model %d", u, in, m->bit[i]);
		count += in;
		/* the walk covers exactly the members, the gaps the rest */
		while (k < c.n && c.r[k][1] < u)
			k++;
		assert_int_equal(k < c.n && c.r[k][0] <= u, in);
		while (gk < g.n && g.r[gk][1] < u)
			gk++;
		assert_int_equal(gk < g.n && g.r[gk][0] <= u, !in);
	}
	assert_int_equal(imap_uidset_count(s), count);
	assert_int_equal(imap_uidset_count_in(s, m->base,
	    m->base + UNIVERSE - 1), count);
	if (count > 0) {
		assert_true(imap_uidset_last(s, &last));
		assert_true(imap_uidset_has(s, last));
		assert_int_equal(imap_uidset_count_in(s, last, UINT32_MAX), 1);
	} else
		assert_false(imap_uidset_last(s, &last));
	/* a window meets one item: items at most windows + 1 */
	assert_true(s->n <= UNIVERSE / 64 + 1);
}

static void
random_run(uint32_t base, uint64_t seed, uint32_t max, unsigned steps)
{
	static struct model m;
	struct imap_uidset s;
	uint64_t x = seed, extra;
	uint32_t a, b, len, i, n0;
	unsigned step;
	bool add, ok, subset = false;

	memset(&m, 0, sizeof(m));
	m.base = base;
	imap_uidset_init(&s, max);
	for (step = 0; step < steps; step++) {
		switch (rnd(&x) % 4) {
		case 0:
			len = 1;
			break;
		case 1:
			len = 1 + (uint32_t)(rnd(&x) % 5);
			break;
		case 2:
			len = 1 + (uint32_t)(rnd(&x) % 130);
			break;
		default:
			len = 1 + (uint32_t)(rnd(&x) % UNIVERSE);
			break;
		}
		a = (uint32_t)(rnd(&x) % UNIVERSE);
		if (a + len > UNIVERSE)
			len = UNIVERSE - a;
		b = a + len - 1;
		add = rnd(&x) % 3 != 0;
		if (!add && rnd(&x) % 4 == 0) {
			/* what can go without memory goes, the rest stays */
			n0 = imap_uidset_items(&s);
			imap_uidset_remove_free(&s, base + a, base + b);
			assert_true(imap_uidset_items(&s) <= n0);
			for (i = a; i <= b; i++)
				m.bit[i] = m.bit[i] &&
				    imap_uidset_has(&s, base + i);
			/* only inside one range: a run around A..B */
			for (i = a; i <= b; i++)
				if (m.bit[i])
					assert_true(imap_uidset_has(&s,
					    base + a) && imap_uidset_has(&s,
					    base + b) && a > 0 &&
					    imap_uidset_has(&s, base + a - 1));
		} else if (add) {
			ok = imap_uidset_add(&s, base + a, base + b);
			if (!ok) {
				assert_true(s.cut);
				subset = true;
			}
			for (i = a; i <= b; i++)
				m.bit[i] = 1;
		} else {
			extra = imap_uidset_remove(&s, base + a, base + b);
			for (i = a; i <= b; i++)
				m.bit[i] = 0;
			if (extra > 0) {
				assert_true(max < UNIVERSE);
				subset = true;
			}
		}
		check_model(&s, &m, subset);
		if (subset) {
			/* start again from what the set holds */
			for (i = 0; i < UNIVERSE; i++)
				m.bit[i] = imap_uidset_has(&s, base + i);
			subset = false;
		}
	}
	imap_uidset_clear(&s);
	assert_int_equal(imap_uidset_count(&s), 0);
	assert_int_equal(imap_uidset_memory(&s), 0);
}

static void
test_random(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 40; seed++)
		random_run(1000, seed * 0x9E3779B97F4A7C15ULL, 1 << 20, 400);
}

/* The top of the number space: no overflow at 2^32 - 1; 0 is a number. */
static void
test_edges(void **state)
{
	struct imap_uidset s;
	uint32_t last;

	(void)state;
	random_run(UINT32_MAX - UNIVERSE + 1, 7, 1 << 20, 2000);
	random_run(0, 11, 1 << 20, 2000);
	imap_uidset_init(&s, 100);
	assert_true(imap_uidset_add(&s, 0, UINT32_MAX));
	assert_int_equal(imap_uidset_items(&s), 1);
	assert_int_equal(imap_uidset_count(&s), (uint64_t)UINT32_MAX + 1);
	assert_int_equal(imap_uidset_remove(&s, 5, UINT32_MAX - 5), 0);
	assert_int_equal(imap_uidset_count(&s), 10);
	assert_true(imap_uidset_last(&s, &last));
	assert_int_equal(last, UINT32_MAX);
	assert_int_equal(imap_uidset_remove(&s, UINT32_MAX, UINT32_MAX), 0);
	assert_true(imap_uidset_last(&s, &last));
	assert_int_equal(last, UINT32_MAX - 1);
	imap_uidset_clear(&s);
}

/* Caps: additions refused are dropped and counted as cut. */
static void
test_cap(void **state)
{
	uint64_t seed;
	struct imap_uidset s;
	uint32_t u;

	(void)state;
	for (seed = 1; seed <= 20; seed++)
		random_run(5000, seed * 31337, 1 + (uint32_t)(seed % 7), 400);
	/* alternating UIDs of a 20,000-message mailbox: 313 bitmaps */
	imap_uidset_init(&s, 400);
	for (u = 1; u <= 20000; u += 2)
		assert_true(imap_uidset_add(&s, u, u));
	assert_false(s.cut);
	assert_int_equal(imap_uidset_count(&s), 10000);
	assert_true(imap_uidset_items(&s) <= 20000 / 64 + 2);
	print_message("10,000 alternating UIDs: %u items, %zu bytes\n",
	    imap_uidset_items(&s), imap_uidset_memory(&s));
	assert_true(imap_uidset_memory(&s) <= 8192);
	/* filling the holes leaves one range */
	for (u = 2; u <= 20000; u += 2)
		assert_true(imap_uidset_add(&s, u, u));
	assert_int_equal(imap_uidset_items(&s), 1);
	imap_uidset_clear(&s);
	/* a cap of 2: the third range is refused */
	imap_uidset_init(&s, 2);
	assert_true(imap_uidset_add(&s, 1, 1));
	assert_true(imap_uidset_add(&s, 100, 100));
	assert_false(imap_uidset_add(&s, 1000, 1000));
	assert_true(s.cut);
	assert_false(imap_uidset_has(&s, 1000));
	/* in a window that has an item, a bitmap needs no more */
	assert_true(imap_uidset_add(&s, 3, 3));
	/* removing from a range's middle needs one more: it goes whole */
	imap_uidset_clear(&s);
	assert_true(imap_uidset_add(&s, 1, 1000));
	assert_true(imap_uidset_add(&s, 5000, 5000));
	assert_int_equal(imap_uidset_remove(&s, 500, 500), 999);
	assert_int_equal(imap_uidset_count(&s), 1);
	imap_uidset_clear(&s);
}

/* Eviction: the smallest items go, never the one kept. */
static void
test_evict(void **state)
{
	struct imap_uidset s;

	(void)state;
	imap_uidset_init(&s, 100);
	assert_true(imap_uidset_add(&s, 1, 1));		/* 1 member */
	assert_true(imap_uidset_add(&s, 3, 3));		/* bitmap: 2 */
	assert_true(imap_uidset_add(&s, 100, 100));	/* 1 */
	assert_true(imap_uidset_add(&s, 200, 299));	/* 100 */
	assert_true(imap_uidset_add(&s, 1000, 1000));	/* 1 */
	assert_true(imap_uidset_add(&s, 2000, 2000));	/* 1 */
	assert_int_equal(imap_uidset_items(&s), 5);
	assert_int_equal(imap_uidset_item_count(&s, 0), 2);
	assert_int_equal(imap_uidset_item_first(&s, 0), 0);
	assert_true(imap_uidset_item_meets(&s, 0, 3, 3));
	/* below 1, or of 1 below 1500: not the one holding 1000 */
	assert_int_equal(imap_uidset_evict(&s, 1, 1500, 1000, 1000), 1);
	assert_int_equal(imap_uidset_items(&s), 4);
	assert_false(imap_uidset_has(&s, 100));
	assert_true(imap_uidset_has(&s, 2000));
	/* below 2 (and none of 2 kept below 64): the bitmap stays */
	assert_int_equal(imap_uidset_evict(&s, 2, 0, 1000, 1000), 1);
	assert_true(imap_uidset_has(&s, 3));
	assert_int_equal(imap_uidset_evict(&s, 2, 64, 1000, 1000), 2);
	assert_int_equal(imap_uidset_items(&s), 2);
	assert_true(imap_uidset_has(&s, 1000));
	assert_true(imap_uidset_has(&s, 250));
	imap_uidset_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_evict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
