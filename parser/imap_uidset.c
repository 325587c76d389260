/*
 * imap_uidset.c - a set of UIDs as ranges and 64-number bitmaps.
 *
 * The items are sorted and disjoint, and every window of 64 numbers
 * (w..w+63, w a multiple of 64) meets at most one item: a range, or the
 * bitmap of that very window.  Two ranges never touch (they would be
 * one), and a bitmap holds at least two pieces (one piece, a full
 * window too, is a range).  Every change keeps this: a piece added inside a window that holds a range it does not
 * touch turns the window into a bitmap (the range's parts outside
 * the window stay ranges); a piece removed from inside a range either
 * splits it in two ranges in different windows, or makes the window
 * where both parts meet a bitmap.  Adding works window by window: the
 * part of the first window, the whole windows in between as one range,
 * the part of the last window.
 */
#include "imap_uidset.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Items allocated at first; the array grows by a quarter to the cap. */
#define UIDSET_INITIAL	4

typedef struct imap_uidset_item item_t;

static inline uint32_t
w_start(uint32_t x)
{
	return x & ~(uint32_t)63;
}

static inline uint32_t
w_end(uint32_t x)
{
	return x | 63;
}

/* The bits of A..B, both in one window. */
static inline uint64_t
w_bits(uint32_t a, uint32_t b)
{
	unsigned lo = a & 63, hi = b & 63;
	uint64_t upto = hi == 63 ? ~(uint64_t)0 : ((uint64_t)1 << (hi + 1)) - 1;

	assert(w_start(a) == w_start(b) && a <= b);
	return upto & ~(((uint64_t)1 << lo) - 1);
}

static inline uint64_t
item_members(const item_t *it)
{
	return it->map != 0 ? (uint64_t)__builtin_popcountll(it->map) :
	    (uint64_t)(it->last - it->first) + 1;
}

static uint16_t
clamp_max(uint32_t max)
{
	return max == 0 ? 1 : max > IMAP_UIDSET_ITEMS_MAX ?
	    IMAP_UIDSET_ITEMS_MAX : (uint16_t)max;
}

void
imap_uidset_init(struct imap_uidset *set, uint32_t max)
{
	memset(set, 0, sizeof(*set));
	set->max = clamp_max(max);
}

void
imap_uidset_clear(struct imap_uidset *set)
{
	free(set->item);
	set->item = NULL;
	set->n = set->alloc = 0;
}

void
imap_uidset_set_max(struct imap_uidset *set, uint32_t max)
{
	set->max = clamp_max(max);
}

/* Room for NEED more items (within the cap); false, changing nothing. */
static bool
reserve(struct imap_uidset *set, uint32_t need)
{
	item_t *item;
	uint32_t want;

	if ((uint64_t)set->n + need > set->max)
		return false;
	if (set->n + need <= set->alloc)
		return true;
	/* a quarter more, four at least: little slack for many sets */
	want = set->alloc == 0 ? UIDSET_INITIAL :
	    set->alloc + (set->alloc / 4 > 4 ? set->alloc / 4 : 4);
	if (want < (uint32_t)set->n + need)
		want = (uint32_t)set->n + need;
	if (want > set->max)
		want = set->max;
	if ((item = realloc(set->item, (size_t)want * sizeof(*item))) == NULL)
		return false;
	set->item = item;
	set->alloc = (uint16_t)want;
	return true;
}

/* The first item whose last number is >= X, or n. */
static uint32_t
find(const struct imap_uidset *set, uint32_t x)
{
	uint32_t lo = 0, hi = set->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (set->item[mid].last < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Items I..I+K-1 are replaced by the K2 items at REPL (room reserved). */
static void
replace(struct imap_uidset *set, uint32_t i, uint32_t k, const item_t *repl,
    uint32_t k2)
{
	assert(i + k <= set->n && set->n - k + k2 <= set->alloc);
	if (k != k2)
		memmove(&set->item[i + k2], &set->item[i + k],
		    (size_t)(set->n - i - k) * sizeof(item_t));
	if (k2 > 0)
		memcpy(&set->item[i], repl, (size_t)k2 * sizeof(item_t));
	set->n = (uint16_t)(set->n - k + k2);
}

/* Ranges I-1, I, I+1 that touch become one. */
static void
merge_around(struct imap_uidset *set, uint32_t i)
{
	item_t *it = set->item;

	if (i > 0 && it[i - 1].map == 0 && it[i].map == 0 &&
	    (uint64_t)it[i - 1].last + 1 == it[i].first) {
		it[i - 1].last = it[i].last;
		replace(set, i, 1, NULL, 0);
		i--;
	}
	if (i + 1 < set->n && it[i].map == 0 && it[i + 1].map == 0 &&
	    (uint64_t)it[i].last + 1 == it[i + 1].first) {
		it[i].last = it[i + 1].last;
		replace(set, i + 1, 1, NULL, 0);
	}
}

/*
 * Bitmap I after a change: one piece of members (a full window too) is
 * a range, and may join the ranges beside it.
 */
static void
normalize(struct imap_uidset *set, uint32_t i)
{
	item_t *r = &set->item[i];
	uint64_t m = r->map, run;
	unsigned lo;

	if (m == 0)
		return;
	lo = (unsigned)__builtin_ctzll(m);
	run = m >> lo;
	if ((run & (run + 1)) != 0)
		return;		/* two pieces or more */
	r->last = r->first + (63 - (uint32_t)__builtin_clzll(m));
	r->first += lo;
	r->map = 0;
	merge_around(set, i);
}

/* A..B, both in one window. */
static bool
add_piece(struct imap_uidset *set, uint32_t a, uint32_t b)
{
	uint32_t ws = w_start(a), we = w_end(a), j, p, q, k;
	item_t *r, repl[3];
	bool touch_prev, touch_next;

	j = find(set, ws);
	if (j < set->n && set->item[j].first <= we) {
		r = &set->item[j];
		if (r->map != 0) {
			r->map |= w_bits(a, b);
			normalize(set, j);
			return true;
		}
		if (a >= r->first && b <= r->last)
			return true;
		p = r->first > ws ? r->first : ws;
		q = r->last < we ? r->last : we;
		if ((uint64_t)b + 1 >= p && a <= (uint64_t)q + 1) {
			/* it overlaps or touches the range's piece here */
			if (a < r->first)
				r->first = a;
			if (b > r->last)
				r->last = b;
			merge_around(set, j);
			return true;
		}
		/* two pieces in one window: the window becomes a bitmap */
		k = 0;
		if (r->first < ws) {
			repl[k].first = r->first;
			repl[k].last = ws - 1;
			repl[k++].map = 0;
		}
		repl[k].first = ws;
		repl[k].last = we;
		repl[k++].map = w_bits(p, q) | w_bits(a, b);
		if (r->last > we) {
			repl[k].first = we + 1;
			repl[k].last = r->last;
			repl[k++].map = 0;
		}
		if (!reserve(set, k - 1))
			return false;
		replace(set, j, 1, repl, k);
		return true;
	}
	/* nothing in this window: join a range next door, or stand alone */
	touch_prev = j > 0 && set->item[j - 1].map == 0 &&
	    (uint64_t)set->item[j - 1].last + 1 == a;
	touch_next = j < set->n && set->item[j].map == 0 &&
	    set->item[j].first == (uint64_t)b + 1;
	if (touch_prev && touch_next) {
		set->item[j - 1].last = set->item[j].last;
		replace(set, j, 1, NULL, 0);
	} else if (touch_prev)
		set->item[j - 1].last = b;
	else if (touch_next)
		set->item[j].first = a;
	else {
		if (!reserve(set, 1))
			return false;
		repl[0].first = a;
		repl[0].last = b;
		repl[0].map = 0;
		replace(set, j, 0, repl, 1);
	}
	return true;
}

/* A..B, whole windows (A at a window's start, B at one's end). */
static bool
add_windows(struct imap_uidset *set, uint32_t a, uint32_t b)
{
	uint32_t i, start, end;
	item_t nr;

	i = find(set, a);
	start = i;
	if (i > 0 && set->item[i - 1].map == 0 &&
	    (uint64_t)set->item[i - 1].last + 1 == a)
		start = i - 1;
	for (end = i; end < set->n && set->item[end].first <= b; end++)
		continue;
	if (end < set->n && set->item[end].map == 0 &&
	    set->item[end].first == (uint64_t)b + 1)
		end++;
	nr.first = a;
	nr.last = b;
	nr.map = 0;
	/* bitmaps in between lie inside A..B: whole windows */
	if (start < end && set->item[start].map == 0 &&
	    set->item[start].first < a)
		nr.first = set->item[start].first;
	if (start < end && set->item[end - 1].map == 0 &&
	    set->item[end - 1].last > b)
		nr.last = set->item[end - 1].last;
	if (start == end && !reserve(set, 1))
		return false;
	replace(set, start, end - start, &nr, 1);
	return true;
}

bool
imap_uidset_add(struct imap_uidset *set, uint32_t first, uint32_t last)
{
	uint32_t a = first, b = last;
	bool ok = true;

	assert(first <= last);
	if (w_start(first) == w_start(last)) {
		ok = add_piece(set, first, last);
		goto out;
	}
	if (first != w_start(first)) {
		ok = add_piece(set, first, w_end(first)) && ok;
		a = w_end(first) + 1;
	}
	if (last != w_end(last)) {
		ok = add_piece(set, w_start(last), last) && ok;
		b = w_start(last) - 1;
	}
	if (a <= b)
		ok = add_windows(set, a, b) && ok;
out:
	if (!ok)
		set->cut = true;
	return ok;
}

uint64_t
imap_uidset_remove(struct imap_uidset *set, uint32_t first, uint32_t last)
{
	uint32_t i, p, q, ws, we, k;
	uint64_t extra = 0;
	item_t *r, repl[3];

	assert(first <= last);
	i = find(set, first);
	while (i < set->n && set->item[i].first <= last) {
		r = &set->item[i];
		p = r->first;
		q = r->last;
		if (r->map != 0) {
			r->map &= ~w_bits(first > p ? first : p,
			    last < q ? last : q);
			if (r->map == 0)
				replace(set, i, 1, NULL, 0);
			else
				i++;
			continue;
		}
		if (first <= p && q <= last) {
			replace(set, i, 1, NULL, 0);
			continue;
		}
		if (first <= p) {
			r->first = last + 1;
			break;
		}
		if (q <= last) {
			r->last = first - 1;
			i++;
			continue;
		}
		/* from the middle: two parts, P..FIRST-1 and LAST+1..Q */
		k = 0;
		ws = w_start(first - 1);
		if (ws != w_start(last + 1)) {
			repl[0].first = p;
			repl[0].last = first - 1;
			repl[0].map = 0;
			repl[1].first = last + 1;
			repl[1].last = q;
			repl[1].map = 0;
			k = 2;
		} else {
			/* both end in one window: it becomes a bitmap */
			we = w_end(ws);
			if (p < ws) {
				repl[k].first = p;
				repl[k].last = ws - 1;
				repl[k++].map = 0;
			}
			repl[k].first = ws;
			repl[k].last = we;
			repl[k++].map = w_bits(p > ws ? p : ws, first - 1) |
			    w_bits(last + 1, q < we ? q : we);
			if (q > we) {
				repl[k].first = we + 1;
				repl[k].last = q;
				repl[k++].map = 0;
			}
		}
		if (!reserve(set, k - 1)) {
			extra += (uint64_t)(q - p) + 1 -
			    ((uint64_t)(last - first) + 1);
			replace(set, i, 1, NULL, 0);
		} else
			replace(set, i, 1, repl, k);
		break;
	}
	/* bitmaps left with one piece become ranges (and may join) */
	for (i = find(set, w_start(first)); i < set->n &&
	    set->item[i].first <= last;) {
		k = set->n;
		if (set->item[i].map != 0)
			normalize(set, i);
		if (set->n != k && i > 0)
			i--;
		else
			i++;
	}
	return extra;
}

void
imap_uidset_remove_free(struct imap_uidset *set, uint32_t first,
    uint32_t last)
{
	uint32_t i, a, b;
	const item_t *r;

	assert(first <= last);
	i = find(set, first);
	while (i < set->n && set->item[i].first <= last) {
		r = &set->item[i];
		if (r->map == 0 && r->first < first && r->last > last)
			break;		/* inside a range: they stay */
		/* bits, a whole item, a range's head or tail: no memory */
		a = r->first > first ? r->first : first;
		b = r->last < last ? r->last : last;
		(void)imap_uidset_remove(set, a, b);
		if (b == last)
			break;		/* the item reached LAST */
		i = find(set, b + 1);
	}
}

bool
imap_uidset_has(const struct imap_uidset *set, uint32_t n)
{
	uint32_t i = find(set, n);
	const item_t *r;

	if (i == set->n || set->item[i].first > n)
		return false;
	r = &set->item[i];
	return r->map == 0 || (r->map >> (n - r->first) & 1);
}

uint64_t
imap_uidset_count(const struct imap_uidset *set)
{
	uint64_t c = 0;
	uint32_t i;

	for (i = 0; i < set->n; i++)
		c += item_members(&set->item[i]);
	return c;
}

static bool
count_cb(void *ctx, uint32_t first, uint32_t last)
{
	*(uint64_t *)ctx += (uint64_t)(last - first) + 1;
	return true;
}

uint64_t
imap_uidset_count_in(const struct imap_uidset *set, uint32_t first,
    uint32_t last)
{
	uint64_t c = 0;

	(void)imap_uidset_walk(set, first, last, count_cb, &c);
	return c;
}

bool
imap_uidset_last(const struct imap_uidset *set, uint32_t *n_r)
{
	const item_t *r;

	if (set->n == 0)
		return false;
	r = &set->item[set->n - 1];
	*n_r = r->map == 0 ? r->last :
	    r->first + (63 - (uint32_t)__builtin_clzll(r->map));
	return true;
}

/* Maximal ranges out of consecutive pieces, for the walks. */
struct walker {
	imap_uidset_cb *cb;
	void *ctx;
	bool pending;
	uint32_t first, last;
};

/* Piece A..B (ascending); false when the callback stopped. */
static bool
walker_put(struct walker *w, uint32_t a, uint32_t b)
{
	if (w->pending && (uint64_t)w->last + 1 == a) {
		w->last = b;
		return true;
	}
	if (w->pending && !w->cb(w->ctx, w->first, w->last)) {
		w->pending = false;
		return false;
	}
	w->pending = true;
	w->first = a;
	w->last = b;
	return true;
}

static int
walker_end(struct walker *w)
{
	if (w->pending && !w->cb(w->ctx, w->first, w->last))
		return 1;
	return 0;
}

/*
 * The pieces of item R within FIRST..LAST: members (GAPS false) or, of
 * the item's span, non-members (GAPS true; a range has none).
 */
static bool
item_pieces(struct walker *w, const item_t *r, uint32_t first, uint32_t last,
    bool gaps)
{
	uint32_t a = r->first > first ? r->first : first;
	uint32_t b = r->last < last ? r->last : last;
	uint64_t m;
	unsigned lo, run;

	if (r->map == 0)
		return gaps || walker_put(w, a, b);
	m = (gaps ? ~r->map : r->map) & w_bits(a, b);
	while (m != 0) {
		lo = (unsigned)__builtin_ctzll(m);
		run = (m >> lo) == ~(uint64_t)0 >> lo ? 64 - lo :
		    (unsigned)__builtin_ctzll(~(m >> lo));
		if (!walker_put(w, r->first + lo, r->first + lo + run - 1))
			return false;
		m &= ~(run == 64 ? ~(uint64_t)0 :
		    (((uint64_t)1 << run) - 1) << lo);
	}
	return true;
}

int
imap_uidset_walk(const struct imap_uidset *set, uint32_t first,
    uint32_t last, imap_uidset_cb *cb, void *ctx)
{
	struct walker w = { cb, ctx, false, 0, 0 };
	uint32_t i;

	if (first > last)
		return 0;
	for (i = find(set, first); i < set->n && set->item[i].first <= last;
	    i++)
		if (!item_pieces(&w, &set->item[i], first, last, false))
			return 1;
	return walker_end(&w);
}

int
imap_uidset_walk_gaps(const struct imap_uidset *set, uint32_t first,
    uint32_t last, imap_uidset_cb *cb, void *ctx)
{
	struct walker w = { cb, ctx, false, 0, 0 };
	uint64_t at = first;
	const item_t *r;
	uint32_t i;

	if (first > last)
		return 0;
	for (i = find(set, first); i < set->n && set->item[i].first <= last;
	    i++) {
		r = &set->item[i];
		if (r->first > at && !walker_put(&w, (uint32_t)at,
		    r->first - 1))
			return 1;
		if (!item_pieces(&w, r, first, last, true))
			return 1;
		at = (uint64_t)r->last + 1;
	}
	if (at <= last && !walker_put(&w, (uint32_t)at, last))
		return 1;
	return walker_end(&w);
}

void
imap_uidset_shrink(struct imap_uidset *set)
{
	item_t *item;

	if (set->n == 0) {
		imap_uidset_clear(set);
		return;
	}
	if (set->alloc == set->n ||
	    (item = realloc(set->item, set->n * sizeof(*item))) == NULL)
		return;
	set->item = item;
	set->alloc = set->n;
}

uint32_t
imap_uidset_items(const struct imap_uidset *set)
{
	return set->n;
}

size_t
imap_uidset_memory(const struct imap_uidset *set)
{
	return (size_t)set->alloc * sizeof(item_t);
}

uint64_t
imap_uidset_item_count(const struct imap_uidset *set, uint32_t i)
{
	assert(i < set->n);
	return item_members(&set->item[i]);
}

uint32_t
imap_uidset_item_first(const struct imap_uidset *set, uint32_t i)
{
	assert(i < set->n);
	return set->item[i].first;
}

bool
imap_uidset_item_meets(const struct imap_uidset *set, uint32_t i,
    uint32_t first, uint32_t last)
{
	assert(i < set->n);
	return set->item[i].first <= last && set->item[i].last >= first;
}

uint64_t
imap_uidset_evict(struct imap_uidset *set, uint64_t len, uint64_t cutoff,
    uint32_t keep_first, uint32_t keep_last)
{
	uint64_t dropped = 0, c;
	uint32_t i, o;
	const item_t *r;

	for (i = o = 0; i < set->n; i++) {
		r = &set->item[i];
		c = item_members(r);
		if ((c < len || (c == len && r->first < cutoff)) &&
		    !(keep_first <= keep_last && r->first <= keep_last &&
		    r->last >= keep_first)) {
			dropped += c;
			continue;
		}
		set->item[o++] = *r;
	}
	set->n = (uint16_t)o;
	return dropped;
}
