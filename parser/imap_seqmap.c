/*
 * imap_seqmap.c - sequence numbers to UIDs, as far as the traffic told.
 *
 * The map is an array of runs of known messages, sorted by sequence
 * number, kept in a canonical form that every call preserves:
 *
 *	- runs do not overlap, and each ends at or below count;
 *	- between two runs (and before the first), the gap of unknown
 *	  messages fits their UIDs: uid_first(next) - uid_last(prev) >=
 *	  seq_first(next) - seq_last(prev), and uid_first >= seq_first
 *	  for the first run - each message between needs a UID of its own
 *	  (RFC 9051 2.3.1.1: strictly ascending);
 *	- two runs that touch in sequence numbers never touch in UIDs
 *	  (they would be one run), so the run count is minimal for what
 *	  is known.
 *
 * set_uid refuses any UID that would break the second rule, which is
 * what makes the rest safe: removing messages can never make two runs
 * joinable (the removed messages had UIDs between them), so EXPUNGE and
 * VANISHED only cut and shift, and the UID arithmetic cannot overflow.
 *
 * Unknown messages are not stored: a gap costs nothing, and forgetting
 * a run is deleting it.
 */
#include "imap_seqmap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "imap_set.h"

struct imap_seqmap_run {
	uint32_t seq_first;
	uint32_t count;		/* >= 1 */
	uint32_t uid_first;	/* uid = uid_first + (seq - seq_first) */
};

_Static_assert(sizeof(struct imap_seqmap_run) == 12,
    "imap_seqmap.h promises 12 bytes a run");

_Static_assert(IMAP_SEQMAP_RUNS_MAX / IMAP_SEQMAP_EVICT_DIV >= 1,
    "seqmap_evict() needs room for a batch of one");

/* Runs allocated at first; the array doubles up to runs_max + 1. */
#define SEQMAP_RUNS_INITIAL	16

static inline uint32_t
run_seq_last(const struct imap_seqmap_run *r)
{
	return r->seq_first + (r->count - 1);
}

static inline uint32_t
run_uid_last(const struct imap_seqmap_run *r)
{
	return r->uid_first + (r->count - 1);
}

/* The first run whose last sequence number is >= SEQ, or nruns. */
static uint32_t
seqmap_find_seq(const struct imap_seqmap *map, uint32_t seq)
{
	uint32_t lo = 0, hi = map->nruns, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (run_seq_last(&map->run[mid]) < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first run whose last UID is >= UID, or nruns. */
static uint32_t
seqmap_find_uid(const struct imap_seqmap *map, uint32_t uid)
{
	uint32_t lo = 0, hi = map->nruns, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (run_uid_last(&map->run[mid]) < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Room for one more run; false if the allocation failed. */
static bool
seqmap_grow(struct imap_seqmap *map)
{
	struct imap_seqmap_run *run;
	uint32_t want;

	if (map->nruns < map->alloc)
		return true;
	want = map->alloc == 0 ? SEQMAP_RUNS_INITIAL : map->alloc * 2;
	if (want > map->runs_max + 1)
		want = map->runs_max + 1;
	/* nruns <= runs_max between calls, so the cap always leaves one. */
	assert(want > map->alloc);
	run = realloc(map->run, want * sizeof(*run));
	if (run == NULL)
		return false;
	map->run = run;
	map->alloc = want;
	return true;
}

static void
seqmap_insert_run(struct imap_seqmap *map, uint32_t i, uint32_t seq,
    uint32_t count, uint32_t uid)
{
	assert(map->nruns < map->alloc && i <= map->nruns);
	memmove(&map->run[i + 1], &map->run[i],
	    (map->nruns - i) * sizeof(map->run[0]));
	map->run[i].seq_first = seq;
	map->run[i].count = count;
	map->run[i].uid_first = uid;
	map->nruns++;
}

static void
seqmap_delete_runs(struct imap_seqmap *map, uint32_t i, uint32_t n)
{
	assert(i + n <= map->nruns);
	if (n == 0)
		return;		/* run may still be NULL */
	memmove(&map->run[i], &map->run[i + n],
	    (map->nruns - i - n) * sizeof(map->run[0]));
	map->nruns -= n;
}

/*
 * Runs forgotten at once when the cap is passed: runs_max / EVICT_DIV,
 * at least one (small test caps keep the one-at-a-time behaviour).
 */
static uint32_t
seqmap_evict_batch(const struct imap_seqmap *map)
{
	uint32_t n = map->runs_max / IMAP_SEQMAP_EVICT_DIV;

	return n > 0 ? n : 1;
}

/* Run A goes before run B: shorter, or as long and lower. */
static inline bool
seqmap_evict_first(const struct imap_seqmap *map, uint32_t a, uint32_t b)
{
	return map->run[a].count < map->run[b].count ||
	    (map->run[a].count == map->run[b].count && a < b);
}

/*
 * The eviction heap: a max-heap of run indices by seqmap_evict_first(),
 * its top the run that would go last.  Restore it above K (just added).
 */
static void
seqmap_heap_up(const struct imap_seqmap *map, uint32_t *heap, uint32_t k)
{
	uint32_t p, t;

	while (k > 0) {
		p = (k - 1) / 2;
		if (!seqmap_evict_first(map, heap[p], heap[k]))
			break;
		t = heap[k];
		heap[k] = heap[p];
		heap[p] = t;
		k = p;
	}
}

/* Restore the heap HEAP[0..N-1] below K (just replaced). */
static void
seqmap_heap_down(const struct imap_seqmap *map, uint32_t *heap, uint32_t n,
    uint32_t k)
{
	uint32_t c, t;

	while ((c = 2 * k + 1) < n) {
		if (c + 1 < n && seqmap_evict_first(map, heap[c], heap[c + 1]))
			c++;
		if (!seqmap_evict_first(map, heap[k], heap[c]))
			break;
		t = heap[k];
		heap[k] = heap[c];
		heap[c] = t;
		k = c;
	}
}

/*
 * One run over the cap: forget a batch of the shortest runs, never the
 * one at KEEP (the run just made, or UINT32_MAX for none), so new
 * knowledge always finds room: a client scanning a new part of the
 * mailbox learns it, at the cost of older, shorter runs.  Among equals
 * the lowest goes first, which turns a long in-order scan of gapped
 * UIDs into a sliding window over the latest ones.
 *
 * Forgetting one run at a time cost a scan and a memmove of every run
 * for each new run past the cap: a FETCH 1:* (UID) over a sparse
 * mailbox spent microseconds a UID here.  Instead a batch of B =
 * runs_max / EVICT_DIV is picked in one pass: a max-heap holds the B
 * runs that go first among those seen so far, its top the one of them
 * that goes last, replaced by any run that goes before it: O(runs log
 * B).  The chosen runs get count 0 (no run is empty) and a second pass
 * squeezes them out: O(runs).  The map then holds runs_max + 1 - B
 * runs, so the next batch is at least B new runs away, and a new run
 * costs O((runs / B) log B) amortised, O(EVICT_DIV log runs_max).  The
 * heap is a fixed 1 KiB of stack (B <= IMAP_SEQMAP_RUNS_MAX / 8).
 *
 * Forgetting a run cannot make its neighbours joinable: they do not
 * touch in sequence numbers, the forgotten run lay between, so nothing
 * is merged.
 */
static void
seqmap_evict(struct imap_seqmap *map, uint32_t keep)
{
	uint32_t heap[IMAP_SEQMAP_RUNS_MAX / IMAP_SEQMAP_EVICT_DIV];
	uint32_t batch = seqmap_evict_batch(map), n = 0, i, j, k;

	assert(batch <= sizeof(heap) / sizeof(heap[0]));
	for (i = 0; i < map->nruns; i++) {
		if (i == keep)
			continue;
		if (n < batch) {
			heap[n] = i;
			seqmap_heap_up(map, heap, n++);
		} else if (seqmap_evict_first(map, i, heap[0])) {
			heap[0] = i;
			seqmap_heap_down(map, heap, n, 0);
		}
	}
	/* runs_max + 1 runs less KEEP are enough: batch <= runs_max */
	assert(n == batch);
	for (k = 0; k < n; k++) {
		map->forgotten += map->run[heap[k]].count;
		map->run[heap[k]].count = 0;
	}
	for (i = j = 0; i < map->nruns; i++)
		if (map->run[i].count != 0)
			map->run[j++] = map->run[i];
	assert(j == map->nruns - batch);
	map->nruns = j;
}

/*
 * Remove messages S..S+N-1, renumbering the later ones down by N (RFC
 * 9051 7.5.1 for N = 1).  Returns how many of them were known.  Cutting
 * the middle out of a run splits it in two, the one case that needs a
 * run more.
 */
static uint32_t
seqmap_remove(struct imap_seqmap *map, uint32_t s, uint32_t n)
{
	struct imap_seqmap_run *r;
	uint32_t e = s + (n - 1), i, j, k, cut, known = 0;
	uint32_t right_count, right_uid;

	assert(n >= 1 && s >= 1 && e >= s && e <= map->count);
	i = seqmap_find_seq(map, s);
	r = i < map->nruns ? &map->run[i] : NULL;
	if (r != NULL && r->seq_first < s && run_seq_last(r) > e) {
		right_count = run_seq_last(r) - e;
		right_uid = r->uid_first + (e + 1 - r->seq_first);
		r->count = s - r->seq_first;
		known = n;
		j = i + 1;
		if (seqmap_grow(map)) {
			/* the old e + 1 is now s */
			seqmap_insert_run(map, j, s, right_count, right_uid);
			j++;
		} else
			map->forgotten += right_count;
	} else {
		j = i;
		if (r != NULL && r->seq_first < s) {
			/* ends inside s..e: keep its head */
			known += run_seq_last(r) - s + 1;
			r->count = s - r->seq_first;
			j++;
		}
		for (k = j; k < map->nruns && run_seq_last(&map->run[k]) <= e;
		    k++)
			known += map->run[k].count;
		if (k < map->nruns && map->run[k].seq_first <= e) {
			/* starts inside s..e: keep its tail */
			cut = e - map->run[k].seq_first + 1;
			known += cut;
			map->run[k].seq_first = e + 1;
			map->run[k].uid_first += cut;
			map->run[k].count -= cut;
		}
		seqmap_delete_runs(map, j, k - j);
	}
	for (k = j; k < map->nruns; k++)
		map->run[k].seq_first -= n;
	map->count -= n;
	if (map->nruns > map->runs_max)
		seqmap_evict(map, UINT32_MAX);
	return known;
}

void
imap_seqmap_init(struct imap_seqmap *map, uint32_t runs_max)
{
	memset(map, 0, sizeof(*map));
	if (runs_max == 0 || runs_max > IMAP_SEQMAP_RUNS_MAX)
		runs_max = IMAP_SEQMAP_RUNS_MAX;
	map->runs_max = runs_max;
}

void
imap_seqmap_deinit(struct imap_seqmap *map)
{
	uint32_t runs_max = map->runs_max;

	free(map->run);
	imap_seqmap_init(map, runs_max);
}

void
imap_seqmap_reset(struct imap_seqmap *map, uint32_t exists)
{
	map->nruns = 0;
	map->count = exists;
}

/*
 * The last known message's successors need UIDs above it: N - seq_last
 * of them must fit below 2^32.
 */
int
imap_seqmap_exists(struct imap_seqmap *map, uint32_t n)
{
	const struct imap_seqmap_run *last;

	if (n < map->count)
		return -1;
	if (map->nruns > 0) {
		last = &map->run[map->nruns - 1];
		if ((uint64_t)run_uid_last(last) + (n - run_seq_last(last)) >
		    UINT32_MAX)
			return -1;
	}
	map->count = n;
	return 0;
}

/*
 * Between the known neighbours prev and next, message SEQ's UID must
 * leave a UID for each message in between: uid - uid_last(prev) >=
 * seq - seq_last(prev) and uid_first(next) - uid >= seq_first(next) -
 * seq.  Without prev, UIDs start at 1 (uid >= seq); without next, the
 * count - seq messages after it need UIDs up to 2^32-1.
 */
int
imap_seqmap_set_uid(struct imap_seqmap *map, uint32_t seq, uint32_t uid)
{
	struct imap_seqmap_run *prev = NULL, *next = NULL;
	const struct imap_seqmap_run *r;
	bool join_prev, join_next;
	uint32_t i;

	if (seq == 0 || seq > map->count || uid == 0)
		return -1;
	i = seqmap_find_seq(map, seq);
	if (i < map->nruns && map->run[i].seq_first <= seq) {
		/* known already: only the same UID agrees */
		r = &map->run[i];
		return uid == r->uid_first + (seq - r->seq_first) ? 0 : -1;
	}
	if (i > 0)
		prev = &map->run[i - 1];
	if (i < map->nruns)
		next = &map->run[i];
	if (prev != NULL) {
		if (uid < (uint64_t)run_uid_last(prev) +
		    (seq - run_seq_last(prev)))
			return -1;
	} else if (uid < seq)
		return -1;
	if (next != NULL) {
		if ((uint64_t)uid + (next->seq_first - seq) > next->uid_first)
			return -1;
	} else if ((uint64_t)uid + (map->count - seq) > UINT32_MAX)
		return -1;

	join_prev = prev != NULL && run_seq_last(prev) + 1 == seq &&
	    run_uid_last(prev) + 1 == uid;
	join_next = next != NULL && next->seq_first == seq + 1 &&
	    next->uid_first == uid + 1;
	if (join_prev && join_next) {
		prev->count += 1 + next->count;
		seqmap_delete_runs(map, i, 1);
	} else if (join_prev)
		prev->count++;
	else if (join_next) {
		next->seq_first--;
		next->uid_first--;
		next->count++;
	} else if (!seqmap_grow(map))
		map->forgotten++;
	else {
		seqmap_insert_run(map, i, seq, 1, uid);
		if (map->nruns > map->runs_max)
			seqmap_evict(map, i);
	}
	return 0;
}

int
imap_seqmap_expunge(struct imap_seqmap *map, uint32_t seq, uint32_t *uid_r)
{
	uint32_t uid;
	bool known;

	if (seq == 0 || seq > map->count)
		return -1;
	known = imap_seqmap_uid(map, seq, &uid);
	seqmap_remove(map, seq, 1);
	if (known && uid_r != NULL)
		*uid_r = uid;
	return known ? 1 : 0;
}

/*
 * Gap I is the run of unknown messages before run I (after the last run
 * when I == nruns): sequence numbers *GS_R..*GE_R (empty when *GE_R <
 * *GS_R, so they are 64-bit), UIDs between the runs' UIDs.
 */
static void
seqmap_gap(const struct imap_seqmap *map, uint32_t i, uint64_t *gs_r,
    uint64_t *ge_r)
{
	*gs_r = i > 0 ? (uint64_t)run_seq_last(&map->run[i - 1]) + 1 : 1;
	*ge_r = i < map->nruns ? (uint64_t)map->run[i].seq_first - 1 :
	    map->count;
}

/*
 * Every UID in FIRST..LAST is a message (RFC 7162 3.2.10.2), and UIDs
 * ascend, so those messages are the sequence numbers s1..s2 with s2 - s1
 * = LAST - FIRST.  An end inside a run is exact.  FIRST inside gap i,
 * with the range going on past the gap, takes the gap's k upper
 * messages, k being the UIDs FIRST..uid_first(run i) - 1: they all
 * exist, and they are the gap's highest UIDs.  LAST inside a later gap
 * likewise takes its lower messages.  A range inside one gap takes k of
 * its messages, it does not matter which.  k must not exceed the gap's
 * messages, and the count check then catches a gap in the middle with
 * fewer messages than UIDs.  The gaps left keep the invariant: the
 * messages below FIRST in gap i need UIDs below it, and there are
 * uid_first(run i) - uid_last(run i-1) - 1 - k of those, at least the
 * gap's messages minus k.
 */
int
imap_seqmap_vanish(struct imap_seqmap *map, uint32_t first, uint32_t last,
    uint32_t *known_r)
{
	const struct imap_seqmap_run *r;
	uint64_t gs, ge, s1, s2, top, k;
	uint32_t i, j, known;

	if (first == 0 || first > last)
		return -1;
	i = seqmap_find_uid(map, first);
	r = i < map->nruns ? &map->run[i] : NULL;
	if (r != NULL && r->uid_first <= first)
		s1 = r->seq_first + (uint64_t)(first - r->uid_first);
	else {
		seqmap_gap(map, i, &gs, &ge);
		top = r != NULL && r->uid_first - 1 < last ?
		    r->uid_first - 1 : last;
		k = top - first + 1;
		if (ge < gs || k > ge - gs + 1)
			return -1;
		s1 = ge - k + 1;
		if (top == last) {
			/* the whole range in gap i */
			s2 = s1 + k - 1;
			goto remove;
		}
	}
	j = seqmap_find_uid(map, last);
	r = j < map->nruns ? &map->run[j] : NULL;
	if (r != NULL && r->uid_first <= last)
		s2 = r->seq_first + (uint64_t)(last - r->uid_first);
	else {
		/* j > i: FIRST lies below run j - 1's end */
		assert(j > 0);
		seqmap_gap(map, j, &gs, &ge);
		k = last - run_uid_last(&map->run[j - 1]);
		if (ge < gs || k > ge - gs + 1)
			return -1;
		s2 = gs + k - 1;
	}
	if (s2 < s1 || s2 - s1 != (uint64_t)(last - first))
		return -1;
remove:
	known = seqmap_remove(map, (uint32_t)s1, (uint32_t)(s2 - s1 + 1));
	if (known_r != NULL)
		*known_r = known;
	return 0;
}

void
imap_seqmap_invalidate(struct imap_seqmap *map)
{
	map->nruns = 0;
}

bool
imap_seqmap_uid(const struct imap_seqmap *map, uint32_t seq, uint32_t *uid_r)
{
	const struct imap_seqmap_run *r;
	uint32_t i;

	i = seqmap_find_seq(map, seq);
	if (seq == 0 || i == map->nruns)
		return false;
	r = &map->run[i];
	if (r->seq_first > seq)
		return false;
	*uid_r = r->uid_first + (seq - r->seq_first);
	return true;
}

bool
imap_seqmap_seq(const struct imap_seqmap *map, uint32_t uid, uint32_t *seq_r)
{
	const struct imap_seqmap_run *r;
	uint32_t i;

	i = seqmap_find_uid(map, uid);
	if (uid == 0 || i == map->nruns)
		return false;
	r = &map->run[i];
	if (r->uid_first > uid)
		return false;
	*seq_r = r->seq_first + (uid - r->uid_first);
	return true;
}

uint32_t
imap_seqmap_count(const struct imap_seqmap *map)
{
	return map->count;
}

uint64_t
imap_seqmap_forgotten(const struct imap_seqmap *map)
{
	return map->forgotten;
}

uint32_t
imap_seqmap_runs(const struct imap_seqmap *map)
{
	return map->nruns;
}

size_t
imap_seqmap_memory(const struct imap_seqmap *map)
{
	return (size_t)map->alloc * sizeof(struct imap_seqmap_run);
}

struct seqmap_resolve {
	const struct imap_seqmap *map;
	struct imap_set_writer writer;
	bool want_unknown;	/* write unknown sequence numbers, not UIDs */
	bool incomplete;
};

/*
 * One canonical range A..B of sequence numbers: its known parts go out
 * as UID ranges (ascending, since UIDs ascend with sequence numbers),
 * its unknown parts mark the set incomplete or go out as they are.
 * Once the text is full only incompleteness is left to find out.
 */
static bool
seqmap_resolve_range(void *ctx, uint32_t a, uint32_t b)
{
	struct seqmap_resolve *rs = ctx;
	const struct imap_seqmap *map = rs->map;
	const struct imap_seqmap_run *r;
	uint64_t pos = a;
	uint32_t i, end;

	i = seqmap_find_seq(map, a);
	while (pos <= b) {
		r = i < map->nruns ? &map->run[i] : NULL;
		if (r != NULL && r->seq_first <= pos) {
			end = run_seq_last(r) < b ? run_seq_last(r) : b;
			if (!rs->want_unknown)
				imap_set_writer_add(&rs->writer,
				    r->uid_first + (uint32_t)(pos -
				    r->seq_first),
				    r->uid_first + (end - r->seq_first));
			i++;
		} else {
			end = r != NULL && r->seq_first - 1 < b ?
			    r->seq_first - 1 : b;
			rs->incomplete = true;
			if (rs->want_unknown)
				imap_set_writer_add(&rs->writer, (uint32_t)pos,
				    end);
		}
		pos = (uint64_t)end + 1;
		if (rs->writer.truncated &&
		    (rs->want_unknown || rs->incomplete))
			return false;
	}
	return true;
}

static int
seqmap_resolve_run(struct seqmap_resolve *rs, const char *set, size_t len,
    char *out, size_t size, size_t *len_r)
{
	const struct imap_seqmap *map = rs->map;

	imap_set_writer_init(&rs->writer, out, size);
	if (imap_set_walk(set, len, map->count, map->count,
	    seqmap_resolve_range, rs) == -1) {
		*len_r = 0;
		rs->incomplete = false;
		return -1;
	}
	*len_r = imap_set_writer_finish(&rs->writer);
	return rs->writer.truncated ? 1 : 0;
}

int
imap_seqmap_resolve(const struct imap_seqmap *map, const char *set,
    size_t len, char *out, size_t size, size_t *len_r, bool *incomplete_r)
{
	struct seqmap_resolve rs;
	int rc;

	memset(&rs, 0, sizeof(rs));
	rs.map = map;
	rc = seqmap_resolve_run(&rs, set, len, out, size, len_r);
	*incomplete_r = rs.incomplete;
	return rc;
}

int
imap_seqmap_unknown(const struct imap_seqmap *map, const char *set,
    size_t len, char *out, size_t size, size_t *len_r)
{
	struct seqmap_resolve rs;

	memset(&rs, 0, sizeof(rs));
	rs.map = map;
	rs.want_unknown = true;
	return seqmap_resolve_run(&rs, set, len, out, size, len_r);
}
