/*
 * imap_registry.c - what the proxy's sessions did to mailboxes.
 *
 * A chained hash table of mailboxes (struct imap_registry_box), each
 * malloced alone so that pointers to it stay valid while it is pinned.
 * Unpinned mailboxes also sit in a list, most recently used first; the
 * tail is what age and the caps drop.  A mailbox's two UID sets are
 * sorted arrays of disjoint, non-adjacent ranges: a couple inline, more
 * on the heap, at most ranges_max.
 */
#include "imap_registry.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Ranges a set holds inside its mailbox before it needs the heap. */
#define REG_SET_INLINE		2
/* Hash table size at first; it doubles when mailboxes outnumber it. */
#define REG_TAB_INITIAL		64

struct reg_range {
	uint32_t first, last;
};

/* The explained UIDs of one direction, and its blind window. */
struct reg_set {
	struct reg_range *r;		/* inl, or the heap */
	uint32_t n, alloc;
	struct reg_range inl[REG_SET_INLINE];
	bool blind;
	uint64_t blind_until;		/* ms */
};

struct imap_registry_box {
	struct imap_registry_box *hnext;		/* hash chain */
	struct imap_registry_box *lprev, *lnext;	/* unpinned, by use */
	uint32_t hash;
	uint32_t refs;				/* pins */
	uint32_t in_flight[2];
	uint32_t uidvalidity;
	uint64_t used_ms;
	struct reg_set set[2];
	struct imap_registry_waiter waiters;	/* list head */
	size_t backend_len, user_len, mailbox_len;
	char key[];				/* backend user mailbox */
};

struct imap_registry {
	struct imap_registry_box **tab;
	uint32_t tab_size;
	uint32_t boxes, pinned;
	struct imap_registry_box *lru_head, *lru_tail;
	size_t bytes;
	uint32_t boxes_max;
	size_t bytes_max;
	uint32_t ranges_max;
	uint64_t age_ms;
	uint64_t (*now_ms)(void *);
	void *now_ctx;
	struct imap_registry_stats st;
};

static uint64_t
reg_now(const struct imap_registry *reg)
{
	struct timespec ts;

	if (reg->now_ms != NULL)
		return reg->now_ms(reg->now_ctx);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * RFC 9051 5.1: INBOX is case-insensitive, every other name is not;
 * servers extend that to the first level of INBOX's hierarchy (Dovecot's
 * "INBOX." namespace prefix: "inbox.Sub" is "INBOX.Sub"), with "." or
 * "/", the delimiters in use.  True when NAME starts with such an INBOX,
 * whose 5 letters then compare in upper case.
 */
static bool
name_inbox(const char *s, size_t len)
{
	static const char inbox[] = "INBOX";
	size_t i;

	if (len < 5 || (len > 5 && s[5] != '.' && s[5] != '/'))
		return false;
	for (i = 0; i < 5; i++)
		if ((s[i] & ~0x20) != inbox[i])
			return false;
	return true;
}

/* Byte I of a mailbox name, INBOX (name_inbox()) in upper case. */
static unsigned char
name_byte(const char *s, size_t i, bool inbox)
{
	return (unsigned char)(inbox && i < 5 ? s[i] & ~0x20 : s[i]);
}

/* FNV-1a, over the three parts and their lengths. */
static uint32_t
key_hash(const struct imap_registry_key *key, bool inbox)
{
	const char *part[3] = { key->backend, key->user, key->mailbox };
	size_t len[3] = { key->backend_len, key->user_len, key->mailbox_len };
	uint32_t h = 2166136261u;
	size_t i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < len[i]; j++) {
			h ^= i == 2 ? name_byte(part[i], j, inbox) :
			    (unsigned char)part[i][j];
			h *= 16777619u;
		}
		h ^= (uint32_t)len[i];
		h *= 16777619u;
	}
	return h;
}

/* BOX is KEY's mailbox (its stored name has INBOX in upper case). */
static bool
key_eq(const struct imap_registry_box *box, const struct imap_registry_key *key,
    bool inbox)
{
	const char *name = box->key + box->backend_len + box->user_len;
	size_t skip = inbox ? 5 : 0;

	return box->backend_len == key->backend_len &&
	    box->user_len == key->user_len &&
	    box->mailbox_len == key->mailbox_len &&
	    memcmp(box->key, key->backend, key->backend_len) == 0 &&
	    memcmp(box->key + box->backend_len, key->user,
	    key->user_len) == 0 &&
	    (!inbox || memcmp(name, "INBOX", 5) == 0) &&
	    memcmp(name + skip, key->mailbox + skip,
	    key->mailbox_len - skip) == 0;
}

/* Bytes a mailbox holds: the struct, its key, heap ranges. */
static size_t
box_size(const struct imap_registry_box *box)
{
	size_t n = sizeof(*box) + box->backend_len + box->user_len +
	    box->mailbox_len;
	int d;

	for (d = 0; d < 2; d++)
		if (box->set[d].r != box->set[d].inl)
			n += box->set[d].alloc * sizeof(struct reg_range);
	return n;
}

/* ---- the list of unpinned mailboxes ------------------------------------ */

static void
lru_unlink(struct imap_registry *reg, struct imap_registry_box *box)
{
	if (box->lprev != NULL)
		box->lprev->lnext = box->lnext;
	else
		reg->lru_head = box->lnext;
	if (box->lnext != NULL)
		box->lnext->lprev = box->lprev;
	else
		reg->lru_tail = box->lprev;
	box->lprev = box->lnext = NULL;
}

static void
lru_push(struct imap_registry *reg, struct imap_registry_box *box)
{
	box->lprev = NULL;
	box->lnext = reg->lru_head;
	if (reg->lru_head != NULL)
		reg->lru_head->lprev = box;
	else
		reg->lru_tail = box;
	reg->lru_head = box;
}

static void
box_pin(struct imap_registry *reg, struct imap_registry_box *box)
{
	if (box->refs++ == 0) {
		lru_unlink(reg, box);
		reg->pinned++;
	}
}

static void
box_unpin(struct imap_registry *reg, struct imap_registry_box *box)
{
	assert(box->refs > 0);
	if (--box->refs == 0) {
		box->used_ms = reg_now(reg);
		lru_push(reg, box);
		reg->pinned--;
	}
}

/* Drops an unpinned mailbox. */
static void
box_drop(struct imap_registry *reg, struct imap_registry_box *box)
{
	struct imap_registry_box **pp;
	int d;

	assert(box->refs == 0);
	lru_unlink(reg, box);
	for (pp = &reg->tab[box->hash & (reg->tab_size - 1)]; *pp != box;
	    pp = &(*pp)->hnext)
		assert(*pp != NULL);
	*pp = box->hnext;
	reg->bytes -= box_size(box);
	reg->boxes--;
	for (d = 0; d < 2; d++)
		if (box->set[d].r != box->set[d].inl)
			free(box->set[d].r);
	free(box);
	reg->st.dropped++;
}

/*
 * Before a new mailbox: drop the unpinned ones past their age, then as
 * many of the least recently used as the caps need.
 */
static void
reg_sweep(struct imap_registry *reg, uint64_t now)
{
	struct imap_registry_box *box;

	while ((box = reg->lru_tail) != NULL) {
		if (now - box->used_ms > reg->age_ms ||
		    reg->boxes >= reg->boxes_max || reg->bytes > reg->bytes_max)
			box_drop(reg, box);
		else
			break;
	}
}

/* Twice the buckets; on failure the chains just grow longer. */
static void
reg_grow(struct imap_registry *reg)
{
	struct imap_registry_box **tab, *box, *next;
	uint32_t size = reg->tab_size * 2, i;

	if (size == 0 || (tab = calloc(size, sizeof(*tab))) == NULL)
		return;
	for (i = 0; i < reg->tab_size; i++)
		for (box = reg->tab[i]; box != NULL; box = next) {
			next = box->hnext;
			box->hnext = tab[box->hash & (size - 1)];
			tab[box->hash & (size - 1)] = box;
		}
	free(reg->tab);
	reg->bytes += (size - reg->tab_size) * sizeof(*tab);
	reg->tab = tab;
	reg->tab_size = size;
}

/* ---- UID sets ---------------------------------------------------------- */

static void
set_clear(struct reg_set *s)
{
	if (s->r != s->inl)
		free(s->r);
	s->r = s->inl;
	s->n = 0;
	s->alloc = REG_SET_INLINE;
	s->blind = false;
}

/* Room for one more range, or false (then the caller merges). */
static bool
set_room(struct imap_registry *reg, struct reg_set *s)
{
	struct reg_range *r;
	uint32_t alloc;

	if (s->n < s->alloc)
		return true;
	if (s->alloc >= reg->ranges_max)
		return false;
	alloc = s->alloc * 2 > reg->ranges_max ? reg->ranges_max : s->alloc * 2;
	if ((r = malloc(alloc * sizeof(*r))) == NULL)
		return false;
	memcpy(r, s->r, s->n * sizeof(*r));
	if (s->r != s->inl) {
		free(s->r);
		reg->bytes -= s->alloc * sizeof(*r);
	}
	reg->bytes += alloc * sizeof(*r);
	s->r = r;
	s->alloc = alloc;
	return true;
}

/* Close the lowest gap: r[0] and r[1] become one range. */
static void
set_merge_lowest(struct imap_registry *reg, struct reg_set *s)
{
	assert(s->n >= 2);
	s->r[0].last = s->r[1].last;
	memmove(&s->r[1], &s->r[2], (s->n - 2) * sizeof(s->r[0]));
	s->n--;
	reg->st.merged++;
}

/*
 * FIRST..LAST join the set, merging what they touch.  Without room for
 * one more range, the lowest gap closes and the search starts over (the
 * new range may lie in that gap).
 */
static void
set_add(struct imap_registry *reg, struct reg_set *s, uint32_t first,
    uint32_t last)
{
	uint32_t i, j;

	for (;;) {
		/* the first range that ends at or after first - 1 */
		for (i = 0; i < s->n && s->r[i].last < first &&
		    s->r[i].last + 1 < first; i++)
			continue;
		/* the ranges from i that start at or before last + 1 */
		for (j = i; j < s->n && (last == UINT32_MAX ||
		    s->r[j].first <= last + 1); j++)
			continue;
		if (j > i) {
			if (s->r[i].first < first)
				first = s->r[i].first;
			if (s->r[j - 1].last > last)
				last = s->r[j - 1].last;
			s->r[i].first = first;
			s->r[i].last = last;
			memmove(&s->r[i + 1], &s->r[j],
			    (s->n - j) * sizeof(s->r[0]));
			s->n -= j - i - 1;
			return;
		}
		if (set_room(reg, s))
			break;
		if (s->n < 2) {
			/* one range and no memory for two: widen it */
			if (first < s->r[0].first)
				s->r[0].first = first;
			if (last > s->r[0].last)
				s->r[0].last = last;
			reg->st.merged++;
			return;
		}
		set_merge_lowest(reg, s);
	}
	memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(s->r[0]));
	s->r[i].first = first;
	s->r[i].last = last;
	s->n++;
}

/*
 * The mailbox's UIDs are those of UIDVALIDITY, forgetting any others; 0
 * (not known) leaves them, and a first one adopts what came before it.
 */
static void
box_uidvalidity(struct imap_registry *reg, struct imap_registry_box *box,
    uint32_t uidvalidity)
{
	size_t before;
	int d;

	if (uidvalidity == 0 || box->uidvalidity == uidvalidity)
		return;
	if (box->uidvalidity == 0) {
		/* what was told without one is of this one */
		box->uidvalidity = uidvalidity;
		return;
	}
	reg->st.resets++;
	before = box_size(box);
	for (d = 0; d < 2; d++)
		set_clear(&box->set[d]);
	reg->bytes -= before - box_size(box);
	box->uidvalidity = uidvalidity;
}


/* ---- the interface ----------------------------------------------------- */

struct imap_registry *
imap_registry_new(const struct imap_registry_limits *limits)
{
	struct imap_registry *reg;

	if ((reg = calloc(1, sizeof(*reg))) == NULL)
		return NULL;
	if ((reg->tab = calloc(REG_TAB_INITIAL, sizeof(*reg->tab))) == NULL) {
		free(reg);
		errno = ENOMEM;
		return NULL;
	}
	reg->tab_size = REG_TAB_INITIAL;
	reg->bytes = sizeof(*reg) + REG_TAB_INITIAL * sizeof(*reg->tab);
	reg->boxes_max = IMAP_REGISTRY_BOXES_MAX;
	reg->bytes_max = IMAP_REGISTRY_BYTES_MAX;
	reg->ranges_max = IMAP_REGISTRY_RANGES_MAX;
	reg->age_ms = IMAP_REGISTRY_AGE_MS;
	if (limits != NULL) {
		if (limits->boxes_max > 0)
			reg->boxes_max = limits->boxes_max;
		if (limits->bytes_max > 0)
			reg->bytes_max = limits->bytes_max;
		if (limits->ranges_max > 0)
			reg->ranges_max = limits->ranges_max < 2 ? 2 :
			    limits->ranges_max;
		if (limits->age_ms > 0)
			reg->age_ms = limits->age_ms;
		reg->now_ms = limits->now_ms;
		reg->now_ctx = limits->now_ctx;
	}
	return reg;
}

void
imap_registry_free(struct imap_registry **regp)
{
	struct imap_registry *reg;
	struct imap_registry_box *box, *next;
	uint32_t i;
	int d;

	if (regp == NULL || (reg = *regp) == NULL)
		return;
	for (i = 0; i < reg->tab_size; i++)
		for (box = reg->tab[i]; box != NULL; box = next) {
			next = box->hnext;
			for (d = 0; d < 2; d++)
				if (box->set[d].r != box->set[d].inl)
					free(box->set[d].r);
			free(box);
		}
	free(reg->tab);
	free(reg);
	*regp = NULL;
}

struct imap_registry_box *
imap_registry_open(struct imap_registry *reg,
    const struct imap_registry_key *key)
{
	struct imap_registry_box *box;
	uint64_t now = reg_now(reg);
	bool inbox = name_inbox(key->mailbox, key->mailbox_len);
	uint32_t h;
	int d;

	h = key_hash(key, inbox);
	for (box = reg->tab[h & (reg->tab_size - 1)]; box != NULL;
	    box = box->hnext)
		if (box->hash == h && key_eq(box, key, inbox)) {
			box_pin(reg, box);
			box->used_ms = now;
			return box;
		}
	reg_sweep(reg, now);
	if (reg->boxes >= reg->boxes_max) {
		reg->st.refused++;
		return NULL;
	}
	box = calloc(1, sizeof(*box) + key->backend_len + key->user_len +
	    key->mailbox_len);
	if (box == NULL) {
		reg->st.refused++;
		return NULL;
	}
	box->hash = h;
	box->backend_len = key->backend_len;
	box->user_len = key->user_len;
	box->mailbox_len = key->mailbox_len;
	memcpy(box->key, key->backend, key->backend_len);
	memcpy(box->key + key->backend_len, key->user, key->user_len);
	memcpy(box->key + key->backend_len + key->user_len, key->mailbox,
	    key->mailbox_len);
	if (inbox)
		memcpy(box->key + key->backend_len + key->user_len, "INBOX", 5);
	for (d = 0; d < 2; d++) {
		box->set[d].r = box->set[d].inl;
		box->set[d].alloc = REG_SET_INLINE;
	}
	box->waiters.prev = box->waiters.next = &box->waiters;
	box->used_ms = now;
	box->refs = 1;
	reg->pinned++;
	box->hnext = reg->tab[h & (reg->tab_size - 1)];
	reg->tab[h & (reg->tab_size - 1)] = box;
	reg->boxes++;
	reg->bytes += box_size(box);
	if (reg->boxes > reg->tab_size)
		reg_grow(reg);
	return box;
}

void
imap_registry_close(struct imap_registry *reg, struct imap_registry_box **boxp)
{
	if (boxp == NULL || *boxp == NULL)
		return;
	box_unpin(reg, *boxp);
	*boxp = NULL;
}

/*
 * The waiters of BOX, called back once each.  They are moved to a list
 * of our own first: a callback may wait again (on BOX's list, not
 * ours), or unwait another waiter still on ours (e.g. its session
 * ended), which unlinks it from there.  BOX stays pinned meanwhile.
 */
static void
box_wake(struct imap_registry *reg, struct imap_registry_box *box)
{
	struct imap_registry_waiter list, *w;

	if (box->waiters.next == &box->waiters)
		return;
	box_pin(reg, box);
	list.next = box->waiters.next;
	list.prev = box->waiters.prev;
	list.next->prev = &list;
	list.prev->next = &list;
	box->waiters.next = box->waiters.prev = &box->waiters;
	while ((w = list.next) != &list) {
		list.next = w->next;
		w->next->prev = &list;
		w->prev = w->next = NULL;
		w->box = NULL;
		box_unpin(reg, box);	/* the waiter's pin */
		w->cb(w->ctx);
	}
	box_unpin(reg, box);
}

void
imap_registry_hold(struct imap_registry *reg, struct imap_registry_box *box,
    enum imap_registry_dir dir)
{
	box_pin(reg, box);
	box->in_flight[dir]++;
}

void
imap_registry_release(struct imap_registry *reg,
    struct imap_registry_box *box, enum imap_registry_dir dir)
{
	assert(box->in_flight[dir] > 0);
	if (--box->in_flight[dir] == 0)
		box_wake(reg, box);
	box_unpin(reg, box);
}

uint32_t
imap_registry_in_flight(const struct imap_registry_box *box,
    enum imap_registry_dir dir)
{
	return box->in_flight[dir];
}

void
imap_registry_record(struct imap_registry *reg, struct imap_registry_box *box,
    uint32_t uidvalidity, enum imap_registry_dir dir, uint32_t first,
    uint32_t last)
{
	if (first == 0 || first > last)
		return;
	box_uidvalidity(reg, box, uidvalidity);
	set_add(reg, &box->set[dir], first, last);
	box->used_ms = reg_now(reg);
}

void
imap_registry_blind(struct imap_registry *reg, struct imap_registry_box *box,
    uint32_t uidvalidity, enum imap_registry_dir dir, uint32_t n)
{
	struct reg_set *s = &box->set[dir];
	uint64_t now = reg_now(reg);

	if (n == 0)
		return;
	box_uidvalidity(reg, box, uidvalidity);
	s->blind = true;
	s->blind_until = now + reg->age_ms;
	box->used_ms = now;
}

/* One unexplained piece of a claim: to CB, unless blind (counted). */
static uint64_t
claim_piece(struct imap_registry *reg, struct reg_set *s, uint32_t first,
    uint32_t last, imap_registry_range_cb *cb, void *ctx, bool *stop)
{
	uint64_t n = (uint64_t)last - first + 1;

	if (s->blind) {
		reg->st.blinded += n;
		return 0;
	}
	if (*stop)
		return 0;
	if (!cb(ctx, first, last))
		*stop = true;
	return n;
}

uint64_t
imap_registry_claim(struct imap_registry *reg, struct imap_registry_box *box,
    uint32_t uidvalidity, enum imap_registry_dir dir, uint32_t first,
    uint32_t last, imap_registry_range_cb *cb, void *ctx)
{
	struct reg_set *s = &box->set[dir];
	uint64_t now = reg_now(reg), given = 0;
	uint32_t i, at = first;
	bool stop = false;

	if (first == 0 || first > last)
		return 0;
	box_uidvalidity(reg, box, uidvalidity);
	if (s->blind && now >= s->blind_until)
		s->blind = false;
	box->used_ms = now;
	/* the gaps of the set between first and last, in order */
	for (i = 0; i < s->n; i++) {
		if (s->r[i].last < at)
			continue;
		if (s->r[i].first > last)
			break;
		if (s->r[i].first > at)
			given += claim_piece(reg, s, at, s->r[i].first - 1, cb,
			    ctx, &stop);
		if (s->r[i].last >= last)
			goto done;
		at = s->r[i].last + 1;
	}
	given += claim_piece(reg, s, at, last, cb, ctx, &stop);
done:
	set_add(reg, s, first, last);
	return given;
}

void
imap_registry_wait(struct imap_registry *reg, struct imap_registry_box *box,
    struct imap_registry_waiter *w, imap_registry_wake_cb *cb, void *ctx)
{
	w->cb = cb;
	w->ctx = ctx;
	if (w->box == box)
		return;
	assert(w->box == NULL);
	box_pin(reg, box);
	w->box = box;
	w->prev = box->waiters.prev;
	w->next = &box->waiters;
	box->waiters.prev->next = w;
	box->waiters.prev = w;
}

void
imap_registry_unwait(struct imap_registry *reg, struct imap_registry_waiter *w)
{
	struct imap_registry_box *box = w->box;

	if (box == NULL)
		return;
	w->prev->next = w->next;
	w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->box = NULL;
	box_unpin(reg, box);
}

void
imap_registry_stats(const struct imap_registry *reg,
    struct imap_registry_stats *st)
{
	*st = reg->st;
	st->boxes = reg->boxes;
	st->pinned = reg->pinned;
	st->memory = reg->bytes;
}

size_t
imap_registry_memory(const struct imap_registry *reg)
{
	return reg->bytes;
}
