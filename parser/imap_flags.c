/*
 * imap_flags.c - message flags as bits, their changes, a per-UID cache
 * of them, and their events.
 *
 * The cache is an array of runs of consecutive UIDs with the same flags,
 * sorted by UID, kept in a canonical form that every call preserves:
 * runs do not overlap, and two runs that touch (one ends at u, the next
 * starts at u + 1) have different flags, so the run count is minimal
 * for what is known.  A UID no run covers is unknown; unknown UIDs cost
 * nothing, and forgetting a run is deleting it.  Deleting a run never
 * makes its neighbours joinable (they no longer touch), which is what
 * lets eviction and forget work without looking around.
 *
 * Messages that no longer exist (imap_flags_box_expunge()) are "don't
 * care": the runs beside them may grow over them, which can only lower
 * the run count, so it never needs memory.
 */
#include "imap_flags.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "imap_set.h"

struct imap_flags_run {
	uint32_t uid_first;
	uint32_t count;		/* >= 1, and the last UID <= 2^32-1 */
	uint32_t bits;
};

_Static_assert(sizeof(struct imap_flags_run) == 12,
    "imap_flags.h promises 12 bytes a run");
_Static_assert(6 + IMAP_FLAGS_KEYWORDS_MAX == 32,
    "the keywords fill the 32 bits of struct imap_flags");

/* The interned names: name i is buf[off[i]..off[i] + len[i]). */
struct imap_flags_names {
	uint16_t off[IMAP_FLAGS_KEYWORDS_MAX];
	uint16_t len[IMAP_FLAGS_KEYWORDS_MAX];
	uint16_t used;		/* bytes of buf */
	uint8_t count;		/* names */
	char buf[IMAP_FLAGS_NAMES_SPACE];
};

_Static_assert(IMAP_FLAGS_NAMES_SPACE <= UINT16_MAX, "off and len");

/* Runs allocated at first; the array doubles up to runs_max + 2. */
#define FLAGS_RUNS_INITIAL	16

/*
 * One call adds at most two runs (a range set inside a run splits it in
 * three), and nruns <= runs_max between calls.
 */
#define FLAGS_RUNS_SLACK	2

/* Run lengths the eviction counts in one pass; longer ones bisect. */
#define FLAGS_EVICT_HIST	32

/* Ranges a batch allocates at first; doubles up to the cap. */
#define FLAGS_BATCH_INITIAL	8

#define FLAGS_NONE		UINT32_MAX

/* RFC 9051 2.3.2, in the order flagNames lists them. */
static const struct {
	const char *name;
	size_t len;
	uint32_t bit;
} flags_system[] = {
	{ "\\Answered",	9,	IMAP_FLAGS_ANSWERED },
	{ "\\Flagged",	8,	IMAP_FLAGS_FLAGGED },
	{ "\\Deleted",	8,	IMAP_FLAGS_DELETED },
	{ "\\Seen",	5,	IMAP_FLAGS_SEEN },
	{ "\\Draft",	6,	IMAP_FLAGS_DRAFT },
};

/* ---- names ------------------------------------------------------------ */

static inline unsigned char
flags_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ASCII case-insensitive, as RFC 9051 2.3.2 compares flags; no locale. */
static bool
flags_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		if (flags_lower((unsigned char)a[i]) !=
		    flags_lower((unsigned char)b[i]))
			return false;
	return true;
}

/*
 * RFC 9051 9: ATOM-CHAR is any CHAR but atom-specials, i.e. not CTL,
 * SP, "(", ")", "{", "%", "*", DQUOTE, "\" or "]"; CHAR is 7-bit.
 */
static bool
flags_atom(const char *s, size_t len)
{
	unsigned char c;
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f)
			return false;
		switch (c) {
		case '(': case ')': case '{': case '%': case '*': case '"':
		case '\\': case ']':
			return false;
		}
	}
	return true;
}

/*
 * The bit of keyword NAME, interned on first sight: KEYWORD(i), or OTHER
 * when the table is full, the name does not fit, or the table cannot be
 * allocated.
 */
static uint32_t
flags_intern(struct imap_flags_box *box, const char *name, size_t len)
{
	struct imap_flags_names *nm = box->names;
	uint32_t i;

	if (nm != NULL)
		for (i = 0; i < nm->count; i++)
			if (flags_name_eq(nm->buf + nm->off[i], nm->len[i],
			    name, len))
				return IMAP_FLAGS_KEYWORD(i);
	if (nm == NULL) {
		if ((nm = calloc(1, sizeof(*nm))) == NULL)
			return IMAP_FLAGS_OTHER;
		box->names = nm;
	}
	if (nm->count == IMAP_FLAGS_KEYWORDS_MAX ||
	    len > (size_t)IMAP_FLAGS_NAMES_SPACE - nm->used)
		return IMAP_FLAGS_OTHER;
	i = nm->count++;
	nm->off[i] = nm->used;
	nm->len[i] = (uint16_t)len;
	memcpy(nm->buf + nm->used, name, len);
	nm->used = (uint16_t)(nm->used + len);
	return IMAP_FLAGS_KEYWORD(i);
}

int
imap_flags_parse(struct imap_flags_box *box, struct imap_flags *flags,
    const char *name, size_t len)
{
	bool backslash = len > 0 && name[0] == '\\';
	size_t i;

	if (len == 2 && backslash && name[1] == '*')
		return 1;
	if (!flags_atom(name + backslash, len - backslash)) {
		flags->bits |= IMAP_FLAGS_OTHER;
		return -1;
	}
	if (backslash) {
		for (i = 0; i < sizeof(flags_system) / sizeof(flags_system[0]);
		    i++)
			if (flags_name_eq(name, len, flags_system[i].name,
			    flags_system[i].len)) {
				flags->bits |= flags_system[i].bit;
				return 0;
			}
		/* RFC 5423 5: never in flagNames; not STOREable either */
		if (flags_name_eq(name, len, "\\Recent", 7))
			return 0;
	}
	flags->bits |= flags_intern(box, name, len);
	return 0;
}

/* Append NAME after a space, whole or not at all (and nothing after). */
static void
flags_put(char *out, size_t size, size_t *n, bool *cut, const char *name,
    size_t len)
{
	size_t need = len + (*n > 0);

	if (*cut)
		return;
	/* +1: the NUL */
	if (size < 1 || need > size - 1 - *n) {
		*cut = true;
		return;
	}
	if (*n > 0)
		out[(*n)++] = ' ';
	memcpy(out + *n, name, len);
	*n += len;
	out[*n] = '\0';
}

int
imap_flags_format(const struct imap_flags_box *box, struct imap_flags flags,
    char *out, size_t size, size_t *len_r)
{
	const struct imap_flags_names *nm = box->names;
	size_t n = 0, i;
	bool cut = false;

	if (size > 0)
		out[0] = '\0';
	for (i = 0; i < sizeof(flags_system) / sizeof(flags_system[0]); i++)
		if (flags.bits & flags_system[i].bit)
			flags_put(out, size, &n, &cut, flags_system[i].name,
			    flags_system[i].len);
	for (i = 0; nm != NULL && i < nm->count; i++)
		if (flags.bits & IMAP_FLAGS_KEYWORD(i))
			flags_put(out, size, &n, &cut, nm->buf + nm->off[i],
			    nm->len[i]);
	*len_r = n;
	return cut ? 1 : 0;
}

/* ---- the box ---------------------------------------------------------- */

void
imap_flags_box_init(struct imap_flags_box *box, uint32_t runs_max)
{
	memset(box, 0, sizeof(*box));
	if (runs_max == 0 || runs_max > IMAP_FLAGS_RUNS_MAX)
		runs_max = IMAP_FLAGS_RUNS_MAX;
	box->runs_max = runs_max;
	box->permanent = UINT32_MAX;
}

void
imap_flags_box_deinit(struct imap_flags_box *box)
{
	uint32_t runs_max = box->runs_max;

	free(box->run);
	free(box->names);
	imap_flags_box_init(box, runs_max);
}

void
imap_flags_box_reset(struct imap_flags_box *box)
{
	uint64_t forgotten = box->forgotten;

	imap_flags_box_deinit(box);
	box->forgotten = forgotten;
}

/*
 * Without "\*", a keyword interned later was not listed, so it is not
 * permanent: its bit is 0 here now and stays 0.  OTHER counts as
 * permanent with "\*" or when a listed keyword was beyond the table.
 */
void
imap_flags_box_set_permanent(struct imap_flags_box *box,
    const struct imap_flags *perm, bool new_keywords)
{
	if (perm == NULL) {
		box->permanent = UINT32_MAX;
		return;
	}
	box->permanent = perm->bits;
	if (new_keywords)
		box->permanent |= ~IMAP_FLAGS_SYSTEM;
}

static inline uint32_t
run_last(const struct imap_flags_run *r)
{
	return r->uid_first + (r->count - 1);
}

/* The first run whose last UID is >= UID, or nruns. */
static uint32_t
box_find(const struct imap_flags_box *box, uint32_t uid)
{
	uint32_t lo = 0, hi = box->nruns, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (run_last(&box->run[mid]) < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first run whose first UID is > UID, or nruns. */
static uint32_t
box_find_after(const struct imap_flags_box *box, uint32_t uid)
{
	uint32_t lo = 0, hi = box->nruns, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (box->run[mid].uid_first <= uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Room for NEED more runs; false if the allocation failed. */
static bool
box_grow(struct imap_flags_box *box, uint32_t need)
{
	struct imap_flags_run *run;
	uint32_t want;

	if (box->nruns + need <= box->alloc)
		return true;
	want = box->alloc == 0 ? FLAGS_RUNS_INITIAL : box->alloc * 2;
	while (want < box->nruns + need)
		want *= 2;
	if (want > box->runs_max + FLAGS_RUNS_SLACK)
		want = box->runs_max + FLAGS_RUNS_SLACK;
	assert(want >= box->nruns + need);
	run = realloc(box->run, want * sizeof(*run));
	if (run == NULL)
		return false;
	box->run = run;
	box->alloc = want;
	return true;
}

static void
box_delete_runs(struct imap_flags_box *box, uint32_t i, uint32_t n)
{
	assert(i + n <= box->nruns);
	if (n == 0)
		return;
	memmove(&box->run[i], &box->run[i + n],
	    (box->nruns - i - n) * sizeof(box->run[0]));
	box->nruns -= n;
}

/* Runs other than KEEP no longer than LEN. */
static uint32_t
box_count_short(const struct imap_flags_box *box, uint32_t keep,
    uint32_t len)
{
	uint32_t i, n = 0;

	for (i = 0; i < box->nruns; i++)
		if (i != keep && box->run[i].count <= len)
			n++;
	return n;
}

/*
 * Over the cap: forget the shortest runs, never the one at KEEP (the run
 * just made, or FLAGS_NONE), so new knowledge always finds room, at the
 * cost of older, shorter runs, which hold the least per byte.  Among
 * equals the lowest UIDs go first.  Down to 1/32 below the cap, so that
 * a long scan of messages with varied flags evicts once per 64 runs, not
 * once per message.  The length to cut at comes from a histogram of the
 * short runs (one pass), or by bisection when every run is long.
 */
static void
box_evict(struct imap_flags_box *box, uint32_t keep)
{
	uint32_t hist[FLAGS_EVICT_HIST + 1];
	uint32_t target, k, len, acc = 0, shorter, lo, hi, mid, i, o;
	const struct imap_flags_run *r;

	target = box->runs_max - box->runs_max / 32;
	assert(box->nruns > target && target >= 1);
	k = box->nruns - target;
	memset(hist, 0, sizeof(hist));
	for (i = 0; i < box->nruns; i++)
		if (i != keep && box->run[i].count <= FLAGS_EVICT_HIST)
			hist[box->run[i].count]++;
	for (len = 1; len <= FLAGS_EVICT_HIST; len++) {
		acc += hist[len];
		if (acc >= k)
			break;
	}
	if (len <= FLAGS_EVICT_HIST)
		shorter = acc - hist[len];
	else {
		/* every run but KEEP counts at UINT32_MAX: k of them exist */
		lo = FLAGS_EVICT_HIST + 1;
		hi = UINT32_MAX;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (box_count_short(box, keep, mid) >= k)
				hi = mid;
			else
				lo = mid + 1;
		}
		len = lo;
		shorter = box_count_short(box, keep, len - 1);
	}
	/* all runs shorter than len, and the lowest k - shorter of len */
	k -= shorter;
	for (i = o = 0; i < box->nruns; i++) {
		r = &box->run[i];
		if (i != keep && (r->count < len ||
		    (r->count == len && k > 0))) {
			if (r->count == len)
				k--;
			box->forgotten += r->count;
			continue;
		}
		box->run[o++] = *r;
	}
	box->nruns = o;
}

/* UIDs of run R outside FIRST..LAST. */
static uint64_t
run_outside(const struct imap_flags_run *r, uint32_t first, uint32_t last)
{
	uint32_t a = r->uid_first > first ? r->uid_first : first;
	uint32_t b = run_last(r) < last ? run_last(r) : last;

	return a <= b ? r->count - ((uint64_t)b - a + 1) : r->count;
}

/*
 * UIDs A..B get BITS (KNOWN) or become unknown.  The runs it touches,
 * [lo, hi), are replaced by at most three: the head of the first one
 * below A, the new run, the tail of the last one above B; the new run
 * absorbs a head, tail or neighbour with the same flags.  Without memory
 * for the extra runs, the touched runs are dropped whole instead, and
 * what that loses is counted.
 */
static void
box_assign(struct imap_flags_box *box, uint32_t a, uint32_t b, bool known,
    uint32_t bits)
{
	struct imap_flags_run nr[3], *r;
	uint32_t lo, hi, n = 0, mid = FLAGS_NONE, i, m_first = a, m_last = b;
	uint64_t lost;
	bool head, tail;

	lo = box_find(box, a);
	hi = box_find_after(box, b);
	assert(lo <= hi);
	head = lo < hi && box->run[lo].uid_first < a;
	tail = lo < hi && run_last(&box->run[hi - 1]) > b;
	if (known) {
		if (head && box->run[lo].bits == bits) {
			m_first = box->run[lo].uid_first;
			head = false;
		} else if (!head && lo > 0 &&
		    (uint64_t)run_last(&box->run[lo - 1]) + 1 == a &&
		    box->run[lo - 1].bits == bits)
			m_first = box->run[--lo].uid_first;
		if (tail && box->run[hi - 1].bits == bits) {
			m_last = run_last(&box->run[hi - 1]);
			tail = false;
		} else if (!tail && hi < box->nruns &&
		    box->run[hi].uid_first == (uint64_t)b + 1 &&
		    box->run[hi].bits == bits)
			m_last = run_last(&box->run[hi++]);
	}
	if (head) {
		r = &box->run[lo];
		nr[n].uid_first = r->uid_first;
		nr[n].count = a - r->uid_first;
		nr[n++].bits = r->bits;
	}
	if (known) {
		mid = n;
		nr[n].uid_first = m_first;
		nr[n].count = m_last - m_first + 1;
		nr[n++].bits = bits;
	}
	if (tail) {
		r = &box->run[hi - 1];
		nr[n].uid_first = b + 1;
		nr[n].count = run_last(r) - b;
		nr[n++].bits = r->bits;
	}
	if (n > hi - lo && !box_grow(box, n - (hi - lo))) {
		lost = known ? (uint64_t)b - a + 1 : 0;
		for (i = lo; i < hi; i++)
			lost += run_outside(&box->run[i], a, b);
		box->forgotten += lost;
		box_delete_runs(box, lo, hi - lo);
		return;
	}
	if (n != hi - lo && hi < box->nruns)
		memmove(&box->run[lo + n], &box->run[hi],
		    (box->nruns - hi) * sizeof(box->run[0]));
	for (i = 0; i < n; i++)
		box->run[lo + i] = nr[i];
	box->nruns = box->nruns - (hi - lo) + n;
	if (box->nruns > box->runs_max)
		box_evict(box, mid == FLAGS_NONE ? FLAGS_NONE : lo + mid);
}

int
imap_flags_box_set(struct imap_flags_box *box, uint32_t first, uint32_t last,
    struct imap_flags flags)
{
	if (first == 0 || first > last)
		return -1;
	box_assign(box, first, last, true, flags.bits);
	return 0;
}

int
imap_flags_box_forget(struct imap_flags_box *box, uint32_t first,
    uint32_t last)
{
	if (first == 0 || first > last)
		return -1;
	box_assign(box, first, last, false, 0);
	return 0;
}

/*
 * L is the run holding A - 1, R the one holding B + 1.  The runs between
 * them lie wholly inside A..B and go.  If L and R have the same flags
 * they become one run; else L grows up to B and R starts at B + 1 (or,
 * without L, R grows down to A), so neither touches a run with its own
 * flags: L's old successor lay inside A..B, R's predecessor too.
 */
int
imap_flags_box_expunge(struct imap_flags_box *box, uint32_t first,
    uint32_t last)
{
	uint32_t l = FLAGS_NONE, r = FLAGS_NONE, s, e, i;
	struct imap_flags_run *rr;

	if (first == 0 || first > last)
		return -1;
	if (first > 1) {
		i = box_find(box, first - 1);
		if (i < box->nruns && box->run[i].uid_first < first)
			l = i;
	}
	if (last < UINT32_MAX) {
		i = box_find(box, last + 1);
		if (i < box->nruns && box->run[i].uid_first <= last + 1)
			r = i;
	}
	if (l != FLAGS_NONE && l == r)
		return 0;		/* one run covers them all */
	s = l != FLAGS_NONE ? l + 1 : box_find(box, first);
	e = r != FLAGS_NONE ? r : box_find_after(box, last);
	if (l != FLAGS_NONE && r != FLAGS_NONE &&
	    box->run[l].bits == box->run[r].bits) {
		box->run[l].count = run_last(&box->run[r]) -
		    box->run[l].uid_first + 1;
		box_delete_runs(box, s, r + 1 - s);
		return 0;
	}
	if (l != FLAGS_NONE)
		box->run[l].count = last - box->run[l].uid_first + 1;
	if (r != FLAGS_NONE) {
		rr = &box->run[r];
		if (l != FLAGS_NONE) {
			rr->count = run_last(rr) - last;
			rr->uid_first = last + 1;
		} else {
			rr->count += rr->uid_first - first;
			rr->uid_first = first;
		}
	}
	box_delete_runs(box, s, e - s);
	return 0;
}

bool
imap_flags_box_get(const struct imap_flags_box *box, uint32_t uid,
    struct imap_flags *flags_r)
{
	uint32_t i;

	if (uid == 0)
		return false;
	i = box_find(box, uid);
	if (i == box->nruns || box->run[i].uid_first > uid)
		return false;
	flags_r->bits = box->run[i].bits;
	return true;
}

/*
 * The OTHER bit says only that some keyword beyond the table is there,
 * so when a message has it before and after, whether those keywords
 * changed is known only if the STORE cannot have touched them: +FLAGS or
 * -FLAGS without one.  A report after anything else, or FLAGS, may hide
 * a change; so may -FLAGS of one, computed.
 */
bool
imap_flags_change(const struct imap_flags_box *box,
    const struct imap_flags *old, enum imap_flags_op op,
    struct imap_flags list, const struct imap_flags *reported,
    struct imap_flags_change *change_r)
{
	uint32_t perm = box->permanent, o, want = 0, now = 0, d_set, d_clr;
	bool known = false, touched;

	memset(change_r, 0, sizeof(*change_r));
	if (op == IMAP_FLAGS_OP_NONE)
		list.bits = 0;
	if (reported != NULL) {
		now = reported->bits;
		known = true;
	} else if (op == IMAP_FLAGS_OP_NONE) {
		if (old != NULL) {
			now = old->bits;
			known = true;
		}
	} else if (old == NULL) {
		/* FLAGS needs no old flags if every flag is permanent */
		if (op == IMAP_FLAGS_OP_REPLACE && perm == UINT32_MAX) {
			now = list.bits;
			known = true;
		}
	} else {
		o = old->bits;
		known = true;
		switch (op) {
		case IMAP_FLAGS_OP_ADD:
			want = o | list.bits;
			break;
		case IMAP_FLAGS_OP_REMOVE:
			want = o & ~list.bits;
			if (o & list.bits & IMAP_FLAGS_OTHER) {
				/* the same keyword, or another? */
				want |= IMAP_FLAGS_OTHER;
				known = false;
			}
			break;
		default:
			want = list.bits;
			break;
		}
		/* RFC 9051 7.1: ignored, or kept for the session only */
		now = (o & ~perm) | (want & perm);
		if ((want ^ o) & ~perm)
			known = false;
	}
	change_r->now.bits = now;
	change_r->now_known = known;
	if (old == NULL)
		return false;
	o = old->bits;
	d_set = now & ~o & perm;
	d_clr = o & ~now & perm;
	touched = (list.bits & IMAP_FLAGS_OTHER) ||
	    op == IMAP_FLAGS_OP_REPLACE ||
	    (op == IMAP_FLAGS_OP_NONE && reported != NULL);
	change_r->inexact = ((d_set | d_clr) & IMAP_FLAGS_OTHER) ||
	    ((o & now & perm & IMAP_FLAGS_OTHER) && touched);
	change_r->set.bits = d_set & ~IMAP_FLAGS_OTHER;
	change_r->cleared.bits = d_clr & ~IMAP_FLAGS_OTHER;
	return true;
}

bool
imap_flags_box_change(struct imap_flags_box *box, uint32_t uid,
    enum imap_flags_op op, struct imap_flags list,
    const struct imap_flags *reported, struct imap_flags_change *change_r)
{
	struct imap_flags old;
	bool have, known;

	if (uid == 0) {
		memset(change_r, 0, sizeof(*change_r));
		return false;
	}
	have = imap_flags_box_get(box, uid, &old);
	known = imap_flags_change(box, have ? &old : NULL, op, list, reported,
	    change_r);
	if (change_r->now_known) {
		if (!have || old.bits != change_r->now.bits)
			box_assign(box, uid, uid, true, change_r->now.bits);
	} else if (have)
		box_assign(box, uid, uid, false, 0);
	return known;
}

uint64_t
imap_flags_box_forgotten(const struct imap_flags_box *box)
{
	return box->forgotten;
}

uint32_t
imap_flags_box_runs(const struct imap_flags_box *box)
{
	return box->nruns;
}

size_t
imap_flags_box_memory(const struct imap_flags_box *box)
{
	return (size_t)box->alloc * sizeof(struct imap_flags_run) +
	    (box->names != NULL ? sizeof(*box->names) : 0);
}

struct box_find_ctx {
	const struct imap_flags_box *box;
	struct imap_set_writer writer;
	uint32_t bits;
	bool want_unknown;	/* write unknown UIDs, not those with bits */
	bool unknown;
};

/*
 * One canonical range A..B of UIDs: the runs over it with every bit go
 * out (or, wanting the unknown, the gaps between runs).  Once the text
 * is full only unknown is left to find out.
 */
static bool
box_find_range(void *ctx, uint32_t a, uint32_t b)
{
	struct box_find_ctx *fc = ctx;
	const struct imap_flags_box *box = fc->box;
	const struct imap_flags_run *r;
	uint64_t pos = a;
	uint32_t i, end;

	i = box_find(box, a);
	while (pos <= b) {
		r = i < box->nruns ? &box->run[i] : NULL;
		if (r != NULL && r->uid_first <= pos) {
			end = run_last(r) < b ? run_last(r) : b;
			if (!fc->want_unknown &&
			    (r->bits & fc->bits) == fc->bits)
				imap_set_writer_add(&fc->writer, (uint32_t)pos,
				    end);
			i++;
		} else {
			end = r != NULL && r->uid_first - 1 < b ?
			    r->uid_first - 1 : b;
			fc->unknown = true;
			if (fc->want_unknown)
				imap_set_writer_add(&fc->writer, (uint32_t)pos,
				    end);
		}
		pos = (uint64_t)end + 1;
		if (fc->writer.truncated && (fc->want_unknown || fc->unknown))
			return false;
	}
	return true;
}

static int
box_find_run(struct box_find_ctx *fc, const char *set, size_t len,
    char *out, size_t size, size_t *len_r)
{
	imap_set_writer_init(&fc->writer, out, size);
	if (imap_set_walk(set, len, 0, UINT32_MAX, box_find_range, fc) == -1) {
		*len_r = 0;
		fc->unknown = false;
		return -1;
	}
	*len_r = imap_set_writer_finish(&fc->writer);
	return fc->writer.truncated ? 1 : 0;
}

int
imap_flags_box_find(const struct imap_flags_box *box,
    struct imap_flags flags, const char *set, size_t len, char *out,
    size_t size, size_t *len_r, bool *unknown_r)
{
	struct box_find_ctx fc;
	int rc;

	memset(&fc, 0, sizeof(fc));
	fc.box = box;
	fc.bits = flags.bits;
	rc = box_find_run(&fc, set, len, out, size, len_r);
	*unknown_r = fc.unknown;
	return rc;
}

int
imap_flags_box_unknown(const struct imap_flags_box *box, const char *set,
    size_t len, char *out, size_t size, size_t *len_r)
{
	struct box_find_ctx fc;

	memset(&fc, 0, sizeof(fc));
	fc.box = box;
	fc.want_unknown = true;
	return box_find_run(&fc, set, len, out, size, len_r);
}

/* ---- the batch -------------------------------------------------------- */

struct batch_group {
	enum msgevent_type type;
	uint32_t bits;
	uint32_t tail;		/* the range it grew last, or NONE */
	uint32_t start;		/* its ranges, when compact */
	uint32_t n;
	bool truncated;
};

struct batch_range {
	uint32_t first;
	uint32_t last;
	uint32_t group;
};

struct imap_flags_batch {
	enum imap_flags_report report;
	uint32_t ngroups;
	struct batch_group group[IMAP_FLAGS_BATCH_EVENTS_MAX];
	/* when compact: the groups with ranges, in event order */
	uint8_t order[IMAP_FLAGS_BATCH_EVENTS_MAX];
	uint32_t nevents;
	bool compact;
	struct batch_range *range;
	uint32_t nranges;
	uint32_t alloc;
	uint32_t dropped;
};

_Static_assert(IMAP_FLAGS_BATCH_EVENTS_MAX <= UINT8_MAX, "order");

struct imap_flags_batch *
imap_flags_batch_new(enum imap_flags_report report)
{
	struct imap_flags_batch *batch;

	if ((batch = calloc(1, sizeof(*batch))) == NULL)
		return NULL;
	batch->report = report;
	batch->compact = true;
	return batch;
}

void
imap_flags_batch_free(struct imap_flags_batch **batchp)
{
	struct imap_flags_batch *batch = *batchp;

	if (batch == NULL)
		return;
	*batchp = NULL;
	free(batch->range);
	free(batch);
}

static int
batch_range_cmp(const void *pa, const void *pb)
{
	const struct batch_range *a = pa, *b = pb;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return 0;
}

/*
 * Sort the ranges by group and UID, merge those of a group that overlap
 * or touch, and list the groups that have ranges in event order: by
 * type (the msgevent enum has MessageRead, MessageTrash, FlagsSet,
 * FlagsClear in that order), then as created.  A group's tail becomes
 * its highest range, which in-order UIDs go on extending.
 */
static void
batch_compact(struct imap_flags_batch *batch)
{
	struct batch_range *r;
	struct batch_group *g;
	uint32_t i, j, o = 0;
	uint8_t t;

	if (batch->nranges > 0)
		qsort(batch->range, batch->nranges, sizeof(batch->range[0]),
		    batch_range_cmp);
	for (i = 0; i < batch->nranges; i++) {
		r = &batch->range[i];
		if (o > 0 && batch->range[o - 1].group == r->group &&
		    r->first <= (uint64_t)batch->range[o - 1].last + 1) {
			if (r->last > batch->range[o - 1].last)
				batch->range[o - 1].last = r->last;
		} else
			batch->range[o++] = *r;
	}
	batch->nranges = o;
	for (i = 0; i < batch->ngroups; i++) {
		batch->group[i].n = 0;
		batch->group[i].tail = FLAGS_NONE;
	}
	for (i = 0; i < batch->nranges; i++) {
		g = &batch->group[batch->range[i].group];
		if (g->n++ == 0)
			g->start = i;
		g->tail = i;
	}
	batch->nevents = 0;
	for (i = 0; i < batch->ngroups; i++) {
		if (batch->group[i].n == 0)
			continue;
		/* insertion sort, stable: created order among a type */
		t = (uint8_t)i;
		for (j = batch->nevents; j > 0 &&
		    batch->group[batch->order[j - 1]].type >
		    batch->group[t].type; j--)
			batch->order[j] = batch->order[j - 1];
		batch->order[j] = t;
		batch->nevents++;
	}
	batch->compact = true;
}

/*
 * Room for one more range: grow, or else compact (only if that can free
 * one: a compact array has no two ranges of a group that touch).  False
 * if full; the array is then compact.
 */
static bool
batch_room(struct imap_flags_batch *batch)
{
	struct batch_range *range;
	uint32_t want;

	if (batch->nranges < batch->alloc)
		return true;
	if (batch->alloc < IMAP_FLAGS_BATCH_RANGES_MAX) {
		want = batch->alloc == 0 ? FLAGS_BATCH_INITIAL :
		    batch->alloc * 2;
		if (want > IMAP_FLAGS_BATCH_RANGES_MAX)
			want = IMAP_FLAGS_BATCH_RANGES_MAX;
		range = realloc(batch->range, want * sizeof(*range));
		if (range != NULL) {
			batch->range = range;
			batch->alloc = want;
			return true;
		}
	}
	if (!batch->compact)
		batch_compact(batch);
	return batch->nranges < batch->alloc;
}

/*
 * Range K of group G (compact) grew down to UID or up to UID: if it now
 * touches its neighbour in the group, a compaction would free a range.
 */
static void
batch_touched(struct imap_flags_batch *batch, const struct batch_group *g,
    uint32_t k)
{
	const struct batch_range *r = &batch->range[k];

	if (!batch->compact)
		return;
	if ((k > g->start &&
	    (uint64_t)batch->range[k - 1].last + 1 >= r->first) ||
	    (k + 1 < g->start + g->n &&
	    batch->range[k + 1].first <= (uint64_t)r->last + 1))
		batch->compact = false;
}

/*
 * UID joins its group's last range if it is in it or next to it: the
 * common case, UIDs in order.  When the array is compact the tail is
 * the group's highest range.
 */
static bool
batch_extend(struct imap_flags_batch *batch, const struct batch_group *g,
    uint32_t uid)
{
	struct batch_range *r;

	if (g->tail == FLAGS_NONE)
		return false;
	r = &batch->range[g->tail];
	if (uid >= r->first && uid <= r->last)
		return true;
	if (uid == (uint64_t)r->last + 1)
		r->last = uid;
	else if (uid == r->first - 1)
		r->first = uid;
	else
		return false;
	batch_touched(batch, g, g->tail);
	return true;
}

/*
 * The array is full and compact: UID may still join a range of its
 * group that holds it or ends or starts next to it (a binary search in
 * the group's ranges, which are sorted).
 */
static bool
batch_absorb(struct imap_flags_batch *batch, const struct batch_group *g,
    uint32_t uid)
{
	struct batch_range *r;
	uint32_t lo = g->start, hi = g->start + g->n, mid;

	assert(batch->compact);
	/* the first range starting above UID */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (batch->range[mid].first <= uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > g->start) {
		r = &batch->range[lo - 1];
		if (uid <= r->last)
			return true;
		if (uid == (uint64_t)r->last + 1) {
			r->last = uid;
			batch_touched(batch, g, lo - 1);
			return true;
		}
	}
	if (lo < g->start + g->n && batch->range[lo].first - 1 == uid) {
		batch->range[lo].first = uid;
		return true;
	}
	return false;
}

/* UID joins the event (TYPE, BITS). */
static void
batch_put(struct imap_flags_batch *batch, enum msgevent_type type,
    uint32_t bits, uint32_t uid)
{
	struct batch_group *g = NULL;
	struct batch_range *r;
	uint32_t i;

	for (i = 0; i < batch->ngroups; i++)
		if (batch->group[i].type == type &&
		    batch->group[i].bits == bits) {
			g = &batch->group[i];
			break;
		}
	if (g == NULL) {
		if (batch->ngroups == IMAP_FLAGS_BATCH_EVENTS_MAX) {
			batch->dropped++;
			return;
		}
		i = batch->ngroups++;
		g = &batch->group[i];
		memset(g, 0, sizeof(*g));
		g->type = type;
		g->bits = bits;
		g->tail = FLAGS_NONE;
		batch->compact = false;
	}
	if (batch_extend(batch, g, uid))
		return;
	if (!batch_room(batch)) {
		if (batch_absorb(batch, g, uid))
			return;
		g->truncated = true;
		batch->dropped++;
		return;
	}
	r = &batch->range[batch->nranges];
	r->first = r->last = uid;
	r->group = i;
	g->tail = batch->nranges++;
	batch->compact = false;
}

void
imap_flags_batch_add(struct imap_flags_batch *batch, uint32_t uid,
    const struct imap_flags_change *change)
{
	uint32_t set = change->set.bits, clr = change->cleared.bits;

	if (uid == 0)
		return;
	if (batch->report == IMAP_FLAGS_REPORT_SIMPLE) {
		if (set & IMAP_FLAGS_SEEN)
			batch_put(batch, MSGEVENT_MESSAGE_READ,
			    IMAP_FLAGS_SEEN, uid);
		if (set & IMAP_FLAGS_DELETED)
			batch_put(batch, MSGEVENT_MESSAGE_TRASH,
			    IMAP_FLAGS_DELETED, uid);
		set &= ~(IMAP_FLAGS_SEEN | IMAP_FLAGS_DELETED);
	}
	if (set != 0)
		batch_put(batch, MSGEVENT_FLAGS_SET, set, uid);
	if (clr != 0)
		batch_put(batch, MSGEVENT_FLAGS_CLEAR, clr, uid);
	if (change->inexact)
		batch->dropped++;
}

bool
imap_flags_batch_event(struct imap_flags_batch *batch, size_t i,
    struct imap_flags_event *ev_r, char *out, size_t size)
{
	struct imap_set_writer w;
	const struct batch_group *g;
	uint32_t k;

	if (!batch->compact)
		batch_compact(batch);
	if (i >= batch->nevents)
		return false;
	g = &batch->group[batch->order[i]];
	imap_set_writer_init(&w, out, size);
	for (k = g->start; k < g->start + g->n; k++)
		imap_set_writer_add(&w, batch->range[k].first,
		    batch->range[k].last);
	ev_r->type = g->type;
	ev_r->flags.bits = g->bits;
	ev_r->uidset_len = imap_set_writer_finish(&w);
	ev_r->truncated = g->truncated || w.truncated;
	return true;
}

uint32_t
imap_flags_batch_dropped(const struct imap_flags_batch *batch)
{
	return batch->dropped;
}
