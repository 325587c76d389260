/*
 * imap_set.c - IMAP sequence sets and UID sets, read and written.
 *
 * The canonical walk must sort and merge ranges that a client may send
 * in any order, and a command line may hold tens of thousands of them,
 * yet the parse path allocates nothing.  So the walk sorts in windows:
 * one pass over the text collects the lowest IMAP_SET_WALK_RANGES
 * disjoint ranges at or above a floor, in a stack buffer twice that
 * size; whenever the buffer fills it is sorted and merged and the ranges
 * above the first IMAP_SET_WALK_RANGES are dropped, lowering a limit
 * that later ranges are clipped to.  What the pass keeps is then exactly
 * the union between floor and limit; the next pass starts above the
 * limit.  Each pass costs O(len + ranges * log IMAP_SET_WALK_RANGES).
 */
#include "imap_set.h"

#include <assert.h>
#include <string.h>

struct set_range {
	uint32_t first;
	uint32_t last;
};

/* One pass's ranges: sorted and merged at n == IMAP_SET_WALK_RANGES * 2. */
struct set_acc {
	struct set_range r[IMAP_SET_WALK_RANGES * 2];
	size_t n;
	uint32_t floor;		/* ranges are clipped to floor..limit */
	uint32_t limit;
	bool dropped;		/* ranges above limit exist */
};

void
imap_set_iter_init(struct imap_set_iter *iter, const char *set, size_t len,
    uint32_t star, uint32_t max)
{
	assert(star <= max);
	iter->p = set;
	iter->end = set + len;
	iter->star = star;
	iter->max = max;
	iter->need = true;
	iter->failed = false;
}

/*
 * One seq-number.  n <= max <= 2^32-1 before each step, so n * 10 + 9
 * cannot overflow 64 bits.
 */
static int
set_number(struct imap_set_iter *iter, uint32_t *n_r)
{
	const char *p = iter->p;
	uint64_t n;

	if (p == iter->end)
		return -1;
	if (*p == '*') {
		if (iter->star == 0)
			return -1;
		iter->p = p + 1;
		*n_r = iter->star;
		return 0;
	}
	if (*p < '1' || *p > '9')
		return -1;
	n = 0;
	while (p < iter->end && *p >= '0' && *p <= '9') {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > iter->max)
			return -1;
		p++;
	}
	iter->p = p;
	*n_r = (uint32_t)n;
	return 0;
}

int
imap_set_iter_next(struct imap_set_iter *iter, uint32_t *first_r,
    uint32_t *last_r)
{
	uint32_t a, b;

	if (iter->failed)
		return -1;
	if (iter->p == iter->end) {
		if (!iter->need)
			return 0;
		goto fail;
	}
	if (set_number(iter, &a) == -1)
		goto fail;
	b = a;
	if (iter->p < iter->end && *iter->p == ':') {
		iter->p++;
		if (set_number(iter, &b) == -1)
			goto fail;
	}
	iter->need = false;
	if (iter->p < iter->end) {
		if (*iter->p != ',')
			goto fail;
		iter->p++;
		iter->need = true;
	}
	*first_r = a < b ? a : b;
	*last_r = a < b ? b : a;
	return 1;
fail:
	iter->failed = true;
	return -1;
}

/* Heapsort by first: no allocation (glibc's qsort may malloc). */
static void
set_sift(struct set_range *r, size_t root, size_t n)
{
	struct set_range t;
	size_t child;

	for (;;) {
		child = 2 * root + 1;
		if (child >= n)
			break;
		if (child + 1 < n && r[child + 1].first > r[child].first)
			child++;
		if (r[root].first >= r[child].first)
			break;
		t = r[root];
		r[root] = r[child];
		r[child] = t;
		root = child;
	}
}

static void
set_sort(struct set_range *r, size_t n)
{
	struct set_range t;
	size_t i;

	if (n < 2)
		return;
	for (i = n / 2; i-- > 0;)
		set_sift(r, i, n);
	for (i = n - 1; i > 0; i--) {
		t = r[0];
		r[0] = r[i];
		r[i] = t;
		set_sift(r, 0, i);
	}
}

/*
 * Sort and merge; keep the lowest IMAP_SET_WALK_RANGES.  After merging,
 * r[W].first > r[W - 1].last + 1, so the new limit sits above every
 * range kept and dropping r[W..] loses nothing below it.
 */
static void
set_acc_compact(struct set_acc *acc)
{
	size_t i, n;

	set_sort(acc->r, acc->n);
	n = 0;
	for (i = 0; i < acc->n; i++) {
		if (n > 0 &&
		    acc->r[i].first <= (uint64_t)acc->r[n - 1].last + 1) {
			if (acc->r[i].last > acc->r[n - 1].last)
				acc->r[n - 1].last = acc->r[i].last;
		} else
			acc->r[n++] = acc->r[i];
	}
	if (n > IMAP_SET_WALK_RANGES) {
		acc->limit = acc->r[IMAP_SET_WALK_RANGES].first - 1;
		acc->dropped = true;
		n = IMAP_SET_WALK_RANGES;
	}
	acc->n = n;
}

static void
set_acc_add(struct set_acc *acc, uint32_t first, uint32_t last)
{
	if (first < acc->floor)
		first = acc->floor;
	if (last > acc->limit)
		last = acc->limit;
	if (first > last)
		return;
	acc->r[acc->n].first = first;
	acc->r[acc->n].last = last;
	if (++acc->n == IMAP_SET_WALK_RANGES * 2)
		set_acc_compact(acc);
}

/*
 * Passes after the first may end a range at the old limit and start the
 * next at limit + 1; the pending range joins them before CB sees them.
 */
int
imap_set_walk(const char *set, size_t len, uint32_t star, uint32_t max,
    imap_set_walk_cb *cb, void *ctx)
{
	struct set_acc acc;
	struct imap_set_iter iter;
	uint32_t a, b, pa = 0, pb = 0;
	bool pending = false;
	size_t i;
	int rc;

	acc.floor = 1;
	for (;;) {
		acc.n = 0;
		acc.limit = UINT32_MAX;
		acc.dropped = false;
		imap_set_iter_init(&iter, set, len, star, max);
		while ((rc = imap_set_iter_next(&iter, &a, &b)) == 1)
			set_acc_add(&acc, a, b);
		if (rc == -1) {
			/* The same text fails on the first pass already. */
			assert(acc.floor == 1);
			return -1;
		}
		set_acc_compact(&acc);
		for (i = 0; i < acc.n; i++) {
			if (pending && acc.r[i].first == (uint64_t)pb + 1) {
				pb = acc.r[i].last;
				continue;
			}
			if (pending && !cb(ctx, pa, pb))
				return 1;
			pa = acc.r[i].first;
			pb = acc.r[i].last;
			pending = true;
		}
		if (!acc.dropped)
			break;
		acc.floor = acc.limit + 1;
	}
	if (pending && !cb(ctx, pa, pb))
		return 1;
	return 0;
}

/* Decimal digits of N at BUF (no NUL); returns their count, 1 to 10. */
static size_t
set_utoa(char *buf, uint32_t n)
{
	char tmp[10];
	size_t len = 0, i;

	do {
		tmp[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	for (i = 0; i < len; i++)
		buf[i] = tmp[len - 1 - i];
	return len;
}

void
imap_set_writer_init(struct imap_set_writer *writer, char *buf, size_t size)
{
	memset(writer, 0, sizeof(*writer));
	writer->buf = buf;
	writer->size = size;
	if (size > 0)
		buf[0] = '\0';
}

/* Write the pending range whole, or mark the text truncated. */
static void
set_writer_put(struct imap_set_writer *w)
{
	char tmp[IMAP_SET_RANGE_TEXT_MAX];
	size_t n = 0;

	w->pending = false;
	if (w->truncated)
		return;
	if (w->len > 0)
		tmp[n++] = ',';
	n += set_utoa(tmp + n, w->first);
	if (w->last != w->first) {
		tmp[n++] = ':';
		n += set_utoa(tmp + n, w->last);
	}
	/* +1: the NUL */
	if (w->size < 1 || n > w->size - 1 - w->len) {
		w->truncated = true;
		return;
	}
	memcpy(w->buf + w->len, tmp, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void
imap_set_writer_add(struct imap_set_writer *writer, uint32_t first,
    uint32_t last)
{
	assert(first <= last);
	if (writer->pending) {
		assert(first >= writer->first);
		if (first <= (uint64_t)writer->last + 1) {
			if (last > writer->last)
				writer->last = last;
			return;
		}
		set_writer_put(writer);
	}
	writer->first = first;
	writer->last = last;
	writer->pending = true;
}

size_t
imap_set_writer_finish(struct imap_set_writer *writer)
{
	if (writer->pending)
		set_writer_put(writer);
	return writer->len;
}

static bool
set_canon_range(void *ctx, uint32_t first, uint32_t last)
{
	struct imap_set_writer *w = ctx;

	imap_set_writer_add(w, first, last);
	return !w->truncated;
}

int
imap_set_canon(const char *set, size_t len, uint32_t star, char *out,
    size_t size, size_t *len_r)
{
	struct imap_set_writer w;

	imap_set_writer_init(&w, out, size);
	if (imap_set_walk(set, len, star, UINT32_MAX, set_canon_range,
	    &w) == -1) {
		*len_r = 0;
		return -1;
	}
	*len_r = imap_set_writer_finish(&w);
	return w.truncated ? 1 : 0;
}

/* ---- reading in pieces ------------------------------------------------- */

enum {
	RD_NEED,	/* a number or "*" next: at the start, after "," or ":" */
	RD_DIGITS,	/* in a number */
	RD_STAR,	/* after "*" */
};

void
imap_set_reader_init(struct imap_set_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->state = RD_NEED;
}

/* The number or "*" just read ends a range (",", or the end). */
static bool
reader_range(struct imap_set_reader *r, imap_set_reader_cb *cb, void *ctx)
{
	uint32_t n = r->state == RD_STAR ? 0 : (uint32_t)r->num;
	unsigned star = r->state == RD_STAR ? IMAP_SET_STAR_LAST : 0;

	if (r->in_range) {
		if (r->first_star)
			star |= IMAP_SET_STAR_FIRST;
		if (!cb(ctx, r->first, n, star))
			return false;
	} else if (!cb(ctx, n, n, star != 0 ? IMAP_SET_STAR_FIRST |
	    IMAP_SET_STAR_LAST : 0))
		return false;
	r->in_range = false;
	r->first_star = false;
	r->state = RD_NEED;
	return true;
}

bool
imap_set_reader_feed(struct imap_set_reader *r, const char *data,
    size_t len, imap_set_reader_cb *cb, void *ctx)
{
	size_t i;
	char c;

	for (i = 0; i < len && !r->failed; i++) {
		c = data[i];
		if (c >= '0' && c <= '9') {
			if (r->state == RD_NEED) {
				if (c == '0')
					goto fail;	/* nz-number */
				r->num = (uint64_t)(c - '0');
				r->state = RD_DIGITS;
			} else if (r->state == RD_DIGITS) {
				r->num = r->num * 10 + (uint64_t)(c - '0');
				if (r->num > UINT32_MAX)
					goto fail;
			} else
				goto fail;
		} else if (c == '*') {
			if (r->state != RD_NEED)
				goto fail;
			r->state = RD_STAR;
		} else if (c == ':') {
			if (r->state == RD_NEED || r->in_range)
				goto fail;
			r->first_star = r->state == RD_STAR;
			r->first = r->first_star ? 0 : (uint32_t)r->num;
			r->in_range = true;
			r->state = RD_NEED;
		} else if (c == ',') {
			if (r->state == RD_NEED || !reader_range(r, cb, ctx))
				goto fail;
		} else
			goto fail;
		continue;
fail:
		r->failed = true;
	}
	return !r->failed;
}

int
imap_set_reader_end(struct imap_set_reader *r, imap_set_reader_cb *cb,
    void *ctx)
{
	if (r->failed || r->state == RD_NEED || !reader_range(r, cb, ctx)) {
		r->failed = true;
		return -1;
	}
	return 0;
}
