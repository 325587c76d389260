/*
 * imap_flags.c - message flags as bits, their changes, a per-UID cache
 * of them, and their events.
 *
 * The cache holds, for each distinct flag value its messages have (\Seen;
 * \Seen \Flagged; none; ...), the set of UIDs known to have it
 * (imap_uidset.h: ranges, and bitmaps of 64 UIDs where they are
 * fragmented).  A UID is in at most one set; in none, it is unknown, at
 * no cost.  Learning a UID's flags takes it out of the other sets and
 * into its value's; forgetting takes it out.  Messages of alternating
 * flags cost a bitmap per value per 64 UIDs, not a run per message.
 *
 * Messages that no longer exist (imap_flags_box_expunge()) are "don't
 * care": what the sets can drop of them without memory goes, UIDs inside
 * a range stay (they are never looked up again), so it never needs
 * memory.
 *
 * A batch keeps one UID set per event, all of them within a shared cap.
 */
#include "imap_flags.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "imap_set.h"
#include "imap_uidset.h"

_Static_assert(6 + IMAP_FLAGS_KEYWORDS_MAX == 32,
    "the keywords fill the 32 bits of struct imap_flags");

/* One flag value of a box and the UIDs known to have it. */
struct imap_flags_value {
	uint32_t bits;
	struct imap_uidset uids;
};

/* The interned names: name i is buf[off[i]..off[i] + len[i]). */
struct imap_flags_names {
	uint16_t off[IMAP_FLAGS_KEYWORDS_MAX];
	uint16_t len[IMAP_FLAGS_KEYWORDS_MAX];
	uint16_t used;		/* bytes of buf */
	uint8_t count;		/* names */
	char buf[IMAP_FLAGS_NAMES_SPACE];
};

_Static_assert(IMAP_FLAGS_NAMES_SPACE <= UINT16_MAX, "off and len");
_Static_assert(IMAP_FLAGS_VALUES_MAX <= UINT8_MAX, "nval and aval");

/* Values allocated at first; the array doubles up to the cap. */
#define FLAGS_VALUES_INITIAL	4

/*
 * Items one value's set may hold past the box's cap during one change
 * (a split needs two more); the eviction after it trims the box.
 */
#define FLAGS_ITEMS_SLACK	8

/* Item sizes the eviction counts in one pass; larger ones bisect. */
#define FLAGS_EVICT_HIST	64

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
imap_flags_box_init(struct imap_flags_box *box, uint32_t items_max)
{
	memset(box, 0, sizeof(*box));
	if (items_max == 0 || items_max > IMAP_FLAGS_ITEMS_MAX)
		items_max = IMAP_FLAGS_ITEMS_MAX;
	box->items_max = items_max;
	box->permanent = UINT32_MAX;
}

void
imap_flags_box_deinit(struct imap_flags_box *box)
{
	uint32_t items_max = box->items_max, i;

	for (i = 0; i < box->nval; i++)
		imap_uidset_clear(&box->val[i].uids);
	free(box->val);
	free(box->names);
	imap_flags_box_init(box, items_max);
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

/* Items of every value's set, recounted after a change. */
static void
box_count(struct imap_flags_box *box)
{
	uint32_t i, n = 0;

	for (i = 0; i < box->nval; i++)
		n += imap_uidset_items(&box->val[i].uids);
	box->items = n;
}

/* Values that know no UID any more give their slot back. */
static void
box_prune(struct imap_flags_box *box)
{
	uint32_t i, o;

	for (i = o = 0; i < box->nval; i++) {
		if (imap_uidset_items(&box->val[i].uids) == 0) {
			imap_uidset_clear(&box->val[i].uids);
			continue;
		}
		box->val[o++] = box->val[i];
	}
	box->nval = (uint8_t)o;
}

/*
 * The value BITS, made if MAKE and missing; NULL when missing, or when
 * IMAP_FLAGS_VALUES_MAX are in use or memory fails.  Its set may grow a
 * little past the box's cap for one change; box_evict() then trims.
 */
static struct imap_flags_value *
box_value(struct imap_flags_box *box, uint32_t bits, bool make)
{
	struct imap_flags_value *v;
	uint32_t i, want;

	for (i = 0; i < box->nval; i++)
		if (box->val[i].bits == bits)
			return &box->val[i];
	if (!make || box->nval == IMAP_FLAGS_VALUES_MAX)
		return NULL;
	if (box->nval == box->aval) {
		want = box->aval == 0 ? FLAGS_VALUES_INITIAL : box->aval * 2;
		if (want > IMAP_FLAGS_VALUES_MAX)
			want = IMAP_FLAGS_VALUES_MAX;
		if ((v = realloc(box->val, want * sizeof(*v))) == NULL)
			return NULL;
		box->val = v;
		box->aval = (uint8_t)want;
	}
	v = &box->val[box->nval++];
	v->bits = bits;
	imap_uidset_init(&v->uids, box->items_max + FLAGS_ITEMS_SLACK);
	return v;
}

/* Items below which evict() would go, over every value: a pass. */
static uint64_t
box_count_short(const struct imap_flags_box *box, uint64_t len,
    uint64_t cutoff, uint32_t keep_first, uint32_t keep_last)
{
	const struct imap_uidset *u;
	uint64_t n = 0, c;
	uint32_t i, j;

	for (i = 0; i < box->nval; i++) {
		u = &box->val[i].uids;
		for (j = 0; j < imap_uidset_items(u); j++) {
			if (imap_uidset_item_meets(u, j, keep_first, keep_last))
				continue;
			c = imap_uidset_item_count(u, j);
			if (c < len || (c == len &&
			    imap_uidset_item_first(u, j) < cutoff))
				n++;
		}
	}
	return n;
}

/*
 * Over the cap: forget the items that know the fewest UIDs, never one
 * that holds KEEP_FIRST..KEEP_LAST (what was just learned; FIRST > LAST:
 * nothing kept), so new knowledge always finds room, at the cost of
 * older, more fragmented knowledge, which holds the least per byte.
 * Among equals the lowest UIDs go first.  Down to 1/32 below the cap,
 * so that a long scan of messages with varied flags evicts once in a
 * while, not at every message.  The size to cut at comes from a
 * histogram (one pass), or by bisection when every item is large; the
 * UID among equals by bisection.
 */
static void
box_evict(struct imap_flags_box *box, uint32_t keep_first, uint32_t keep_last)
{
	uint64_t hist[FLAGS_EVICT_HIST + 1], k, acc = 0, len, c;
	uint64_t lo, hi, mid;
	const struct imap_uidset *u;
	uint32_t target, i, j;

	target = box->items_max - box->items_max / 32;
	if (box->items <= box->items_max || target < 1)
		return;
	k = box->items - target;
	memset(hist, 0, sizeof(hist));
	for (i = 0; i < box->nval; i++) {
		u = &box->val[i].uids;
		for (j = 0; j < imap_uidset_items(u); j++) {
			c = imap_uidset_item_count(u, j);
			if (c <= FLAGS_EVICT_HIST &&
			    !imap_uidset_item_meets(u, j, keep_first,
			    keep_last))
				hist[c]++;
		}
	}
	for (len = 1; len <= FLAGS_EVICT_HIST; len++) {
		acc += hist[len];
		if (acc >= k)
			break;
	}
	if (len > FLAGS_EVICT_HIST) {
		/* the length whose items, with the shorter ones, make k */
		lo = FLAGS_EVICT_HIST + 1;
		hi = (uint64_t)UINT32_MAX + 1;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (box_count_short(box, mid + 1, 0, keep_first,
			    keep_last) >= k)
				hi = mid;
			else
				lo = mid + 1;
		}
		len = lo;
	}
	/* of the items of LEN, those starting below the cutoff go too */
	lo = 0;
	hi = (uint64_t)UINT32_MAX + 1;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (box_count_short(box, len, mid, keep_first, keep_last) >= k)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (i = 0; i < box->nval; i++) {
		box->forgotten += imap_uidset_evict(&box->val[i].uids, len, lo,
		    keep_first, keep_last);
		/* what is left stays near the cap: no slack kept */
		imap_uidset_shrink(&box->val[i].uids);
	}
	box_prune(box);
	box_count(box);
}

/*
 * UIDs A..B get BITS (KNOWN) or become unknown: out of every other
 * value's set, into BITS's.  What memory or the caps refuse is
 * forgotten (and counted): a set that cannot split an item drops it
 * whole, a value that cannot be made or grow does not learn A..B.
 */
static void
box_assign(struct imap_flags_box *box, uint32_t a, uint32_t b, bool known,
    uint32_t bits)
{
	struct imap_flags_value *v;
	uint32_t i;

	for (i = 0; i < box->nval; i++)
		if (!(known && box->val[i].bits == bits))
			box->forgotten += imap_uidset_remove(
			    &box->val[i].uids, a, b);
	if (known) {
		if ((v = box_value(box, bits, true)) == NULL)
			box->forgotten += (uint64_t)(b - a) + 1;
		else if (!imap_uidset_add(&v->uids, a, b))
			box->forgotten += (uint64_t)(b - a) + 1 -
			    imap_uidset_count_in(&v->uids, a, b);
	}
	box_prune(box);
	box_count(box);
	if (box->items > box->items_max) {
		if (known)
			box_evict(box, a, b);
		else
			box_evict(box, 1, 0);
	}
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
 * Expunged UIDs no longer matter: what the sets can drop without memory
 * goes (bitmap bits, whole items, the ends of ranges); UIDs inside a
 * range stay there, harmlessly, as a run of the old form grew over
 * them.
 */
int
imap_flags_box_expunge(struct imap_flags_box *box, uint32_t first,
    uint32_t last)
{
	uint32_t i;

	if (first == 0 || first > last)
		return -1;
	for (i = 0; i < box->nval; i++)
		imap_uidset_remove_free(&box->val[i].uids, first, last);
	box_prune(box);
	box_count(box);
	return 0;
}

bool
imap_flags_box_get(const struct imap_flags_box *box, uint32_t uid,
    struct imap_flags *flags_r)
{
	uint32_t i;

	if (uid == 0)
		return false;
	for (i = 0; i < box->nval; i++)
		if (imap_uidset_has(&box->val[i].uids, uid)) {
			flags_r->bits = box->val[i].bits;
			return true;
		}
	return false;
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
imap_flags_box_items(const struct imap_flags_box *box)
{
	return box->items;
}

size_t
imap_flags_box_memory(const struct imap_flags_box *box)
{
	size_t n = (size_t)box->aval * sizeof(struct imap_flags_value);
	uint32_t i;

	for (i = 0; i < box->nval; i++)
		n += imap_uidset_memory(&box->val[i].uids);
	return n + (box->names != NULL ? sizeof(*box->names) : 0);
}

/* A query over a set of UIDs, one canonical range at a time. */
struct box_find_ctx {
	const struct imap_flags_box *box;
	uint32_t bits;
	bool want_unknown;	/* give the unknown UIDs, not those with bits */
	bool unknown;		/* some UID of the set is unknown */
	bool failed;		/* memory: the answer may miss UIDs */
	imap_uidset_cb *cb;
	void *ctx;
	bool stopped;
};

static bool
find_add(void *ctx, uint32_t first, uint32_t last)
{
	(void)imap_uidset_add(ctx, first, last);
	return true;
}

/*
 * The union over the values whose bits hold all of BITS (ALL: every
 * value) of their UIDs in A..B, into U.
 */
static void
find_union(const struct imap_flags_box *box, uint32_t bits, bool all,
    uint32_t a, uint32_t b, struct imap_uidset *u)
{
	uint32_t i;

	imap_uidset_init(u, UINT32_MAX);
	for (i = 0; i < box->nval; i++)
		if (all || (box->val[i].bits & bits) == bits)
			(void)imap_uidset_walk(&box->val[i].uids, a, b,
			    find_add, u);
}

/*
 * One canonical range A..B of the set: the UIDs with every bit (or,
 * wanting the unknown, those no value holds) go to the callback.
 */
static bool
box_find_range(void *ctx, uint32_t a, uint32_t b)
{
	struct box_find_ctx *fc = ctx;
	struct imap_uidset u, all;

	find_union(fc->box, fc->bits, true, a, b, &all);
	if (all.cut)
		fc->failed = true;
	if (imap_uidset_count(&all) < (uint64_t)(b - a) + 1)
		fc->unknown = true;
	if (fc->want_unknown) {
		if (imap_uidset_walk_gaps(&all, a, b, fc->cb, fc->ctx) == 1)
			fc->stopped = true;
		imap_uidset_clear(&all);
		return !fc->stopped;
	}
	imap_uidset_clear(&all);
	find_union(fc->box, fc->bits, false, a, b, &u);
	if (u.cut)
		fc->failed = true;
	if (imap_uidset_walk(&u, a, b, fc->cb, fc->ctx) == 1)
		fc->stopped = true;
	imap_uidset_clear(&u);
	return !fc->stopped;
}

int
imap_flags_box_walk(const struct imap_flags_box *box,
    struct imap_flags flags, const char *set, size_t len, imap_uidset_cb *cb,
    void *ctx, bool *unknown_r)
{
	struct box_find_ctx fc;

	memset(&fc, 0, sizeof(fc));
	fc.box = box;
	fc.bits = flags.bits;
	fc.cb = cb;
	fc.ctx = ctx;
	if (imap_set_walk(set, len, 0, UINT32_MAX, box_find_range, &fc) ==
	    -1) {
		*unknown_r = false;
		return -1;
	}
	*unknown_r = fc.unknown || fc.failed;
	return fc.stopped ? 1 : 0;
}

/* Text out of a walk: the writer, and when to stop. */
struct find_text {
	struct imap_set_writer writer;
};

/* Past a full text the ranges are dropped; the walk goes on for UNKNOWN. */
static bool
find_text_range(void *ctx, uint32_t first, uint32_t last)
{
	struct find_text *ft = ctx;

	imap_set_writer_add(&ft->writer, first, last);
	return true;
}

static int
box_find_text(const struct imap_flags_box *box, struct imap_flags flags,
    bool want_unknown, const char *set, size_t len, char *out, size_t size,
    size_t *len_r, bool *unknown_r)
{
	struct box_find_ctx fc;
	struct find_text ft;
	int rc;

	memset(&fc, 0, sizeof(fc));
	fc.box = box;
	fc.bits = flags.bits;
	fc.want_unknown = want_unknown;
	fc.cb = find_text_range;
	fc.ctx = &ft;
	imap_set_writer_init(&ft.writer, out, size);
	rc = imap_set_walk(set, len, 0, UINT32_MAX, box_find_range, &fc);
	if (rc == -1) {
		imap_set_writer_init(&ft.writer, out, size);
		*len_r = 0;
		*unknown_r = false;
		return -1;
	}
	*len_r = imap_set_writer_finish(&ft.writer);
	*unknown_r = fc.unknown || fc.failed;
	return ft.writer.truncated ? 1 : 0;
}

int
imap_flags_box_find(const struct imap_flags_box *box,
    struct imap_flags flags, const char *set, size_t len, char *out,
    size_t size, size_t *len_r, bool *unknown_r)
{
	return box_find_text(box, flags, false, set, len, out, size, len_r,
	    unknown_r);
}

int
imap_flags_box_unknown(const struct imap_flags_box *box, const char *set,
    size_t len, char *out, size_t size, size_t *len_r)
{
	bool unknown;

	return box_find_text(box, (struct imap_flags){ 0 }, true, set, len,
	    out, size, len_r, &unknown);
}

/* ---- the batch -------------------------------------------------------- */

/* One event of the batch: (type, flags) and the UIDs that had it. */
struct batch_group {
	enum msgevent_type type;
	uint32_t bits;
	bool truncated;		/* UIDs left out: the caps, memory */
	struct imap_uidset uids;
};

struct imap_flags_batch {
	enum imap_flags_report report;
	uint32_t ngroups;
	uint32_t items;		/* of every group's set */
	uint32_t dropped;
	struct batch_group group[IMAP_FLAGS_BATCH_EVENTS_MAX];
};

struct imap_flags_batch *
imap_flags_batch_new(enum imap_flags_report report)
{
	struct imap_flags_batch *batch;

	if ((batch = calloc(1, sizeof(*batch))) == NULL)
		return NULL;
	batch->report = report;
	return batch;
}

void
imap_flags_batch_free(struct imap_flags_batch **batchp)
{
	struct imap_flags_batch *batch = *batchp;
	uint32_t i;

	if (batch == NULL)
		return;
	*batchp = NULL;
	for (i = 0; i < batch->ngroups; i++)
		imap_uidset_clear(&batch->group[i].uids);
	free(batch);
}

/*
 * UID joins the event (TYPE, BITS).  The groups share
 * IMAP_FLAGS_BATCH_ITEMS_MAX items: a group may take what the others
 * left (an item or so more for a new group).
 */
static void
batch_put(struct imap_flags_batch *batch, enum msgevent_type type,
    uint32_t bits, uint32_t uid)
{
	struct batch_group *g = NULL;
	uint32_t i, before, left;

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
		g = &batch->group[batch->ngroups++];
		memset(g, 0, sizeof(*g));
		g->type = type;
		g->bits = bits;
		imap_uidset_init(&g->uids, 1);
	}
	before = imap_uidset_items(&g->uids);
	left = batch->items < IMAP_FLAGS_BATCH_ITEMS_MAX ?
	    IMAP_FLAGS_BATCH_ITEMS_MAX - batch->items : 0;
	imap_uidset_set_max(&g->uids, before + left);
	if (!imap_uidset_add(&g->uids, uid, uid)) {
		g->truncated = true;
		batch->dropped++;
	}
	batch->items = batch->items - before + imap_uidset_items(&g->uids);
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

/*
 * Group of event I: in type order (the msgevent enum has MessageRead,
 * MessageTrash, FlagsSet, FlagsClear in that order), then as created;
 * NULL past the last.
 */
static const struct batch_group *
batch_event_group(const struct imap_flags_batch *batch, size_t i)
{
	const struct batch_group *g, *best;
	uint32_t k, j;
	size_t seen = 0;

	/* few groups: pick the I-th in (type, creation) order by counting */
	for (k = 0; k < batch->ngroups; k++) {
		best = &batch->group[k];
		if (imap_uidset_items(&best->uids) == 0)
			continue;
		seen = 0;
		for (j = 0; j < batch->ngroups; j++) {
			g = &batch->group[j];
			if (imap_uidset_items(&g->uids) == 0)
				continue;
			if (g->type < best->type ||
			    (g->type == best->type && j < k))
				seen++;
		}
		if (seen == i)
			return best;
	}
	return NULL;
}

bool
imap_flags_batch_event(struct imap_flags_batch *batch, size_t i,
    struct imap_flags_event *ev_r, char *out, size_t size)
{
	const struct batch_group *g = batch_event_group(batch, i);
	struct find_text ft;

	if (g == NULL)
		return false;
	ev_r->type = g->type;
	ev_r->flags.bits = g->bits;
	ev_r->truncated = g->truncated;
	ev_r->uidset_len = 0;
	if (out == NULL)
		return true;
	imap_set_writer_init(&ft.writer, out, size);
	(void)imap_uidset_walk(&g->uids, 0, UINT32_MAX, find_text_range, &ft);
	ev_r->uidset_len = imap_set_writer_finish(&ft.writer);
	ev_r->truncated = g->truncated || ft.writer.truncated;
	return true;
}

int
imap_flags_batch_walk(const struct imap_flags_batch *batch, size_t i,
    imap_uidset_cb *cb, void *ctx)
{
	const struct batch_group *g = batch_event_group(batch, i);

	if (g == NULL)
		return -1;
	return imap_uidset_walk(&g->uids, 0, UINT32_MAX, cb, ctx);
}

uint32_t
imap_flags_batch_dropped(const struct imap_flags_batch *batch)
{
	return batch->dropped;
}

size_t
imap_flags_batch_memory(const struct imap_flags_batch *batch)
{
	size_t n = sizeof(*batch);
	uint32_t i;

	for (i = 0; i < batch->ngroups; i++)
		n += imap_uidset_memory(&batch->group[i].uids);
	return n;
}
