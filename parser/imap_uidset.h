/*
 * imap_uidset.h - a set of UIDs in compact, bounded memory.
 *
 * What the inference collects about many messages at once (the UIDs an
 * EXPUNGE removed, those a STORE changed, the messages of a mailbox
 * with given flags) is often fragmented: flags alternate every few
 * messages, every other message goes.  As a list of ranges such a set
 * costs 8 bytes per range, 80 KiB for 10,000 alternating UIDs.  Here it
 * is a sorted array of 16-byte items, each either
 *
 *	- a range first..last of consecutive members, of any length, or
 *	- a window of 64 numbers starting at a multiple of 64, with a
 *	  bitmap of which of them are members,
 *
 * kept so that no window of 64 numbers meets more than one item: a
 * window that would hold pieces of two items becomes a bitmap.  So a
 * set whose members lie within a span of S numbers takes at most
 * S / 64 + 2 items whatever their pattern (any subset of 1..20000: at
 * most 315 items, 5 KiB), and one range one item however long.
 *
 * Each set has a cap on its items (imap_uidset_init()): an addition
 * that would need more is dropped and the set marked cut, so what it
 * holds stays true.  Removals that need memory remove more instead
 * (they say how much).
 *
 * Pure: libc only, no I/O; the item array is the only allocation.
 */
#ifndef IMAP_UIDSET_H
#define IMAP_UIDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One item; see above.  PRIVATE but for imap_flags.c's eviction. */
struct imap_uidset_item {
	uint32_t first;
	uint32_t last;
	/*
	 * 0: every number first..last is a member.  Else the window
	 * first..last (first % 64 == 0, last == first + 63), bit i
	 * telling whether first + i is; always two pieces or more (one
	 * piece, a full window included, is a range).
	 */
	uint64_t map;
};

/* The most items one set holds: 1 MiB. */
#define IMAP_UIDSET_ITEMS_MAX	UINT16_MAX

/* Embedded by the caller (16 bytes); all fields PRIVATE but cut. */
struct imap_uidset {
	struct imap_uidset_item *item;
	uint16_t n;		/* items in use */
	uint16_t alloc;		/* items allocated */
	uint16_t max;		/* cap on n */
	/* READ-ONLY: members were dropped (the cap, or memory). */
	bool cut;
};

/*
 * An empty set of at most MAX items (1 to IMAP_UIDSET_ITEMS_MAX; larger
 * is that).  Allocates nothing.
 */
void imap_uidset_init(struct imap_uidset *set, uint32_t max);

/* Frees the items; the set is empty, its cap and cut kept. */
void imap_uidset_clear(struct imap_uidset *set);

/*
 * The cap on items, for sets that share a budget: lowering it below the
 * items in use keeps them, but no item is added until it is above.
 */
void imap_uidset_set_max(struct imap_uidset *set, uint32_t max);

/*
 * Add FIRST..LAST (FIRST <= LAST; 0 is a number like any other).
 * Returns true, or false when some of them could not be added (the cap,
 * or memory): they are dropped and cut is set; the rest was added.
 */
bool imap_uidset_add(struct imap_uidset *set, uint32_t first,
    uint32_t last);

/*
 * Remove FIRST..LAST.  Splitting an item may need one or two more; when
 * the cap or memory refuses them, the item goes whole instead.  Returns
 * how many members went that were outside FIRST..LAST (0 normally).
 */
uint64_t imap_uidset_remove(struct imap_uidset *set, uint32_t first,
    uint32_t last);

/*
 * Remove what of FIRST..LAST can go without memory: bitmap bits, whole
 * items, the ends of ranges; numbers inside a range that goes on past
 * both ends stay.  For numbers that no longer matter either way (UIDs
 * expunged: they are never used again).
 */
void imap_uidset_remove_free(struct imap_uidset *set, uint32_t first,
    uint32_t last);

bool imap_uidset_has(const struct imap_uidset *set, uint32_t n);

/* Members, in all; in FIRST..LAST. */
uint64_t imap_uidset_count(const struct imap_uidset *set);
uint64_t imap_uidset_count_in(const struct imap_uidset *set, uint32_t first,
    uint32_t last);

/* The largest member, in *N_R; false when the set is empty. */
bool imap_uidset_last(const struct imap_uidset *set, uint32_t *n_r);

/*
 * CB gets each maximal range of members within FIRST..LAST, ascending;
 * returning false stops the walk.  Returns 1 when CB stopped it, else 0.
 */
typedef bool imap_uidset_cb(void *ctx, uint32_t first, uint32_t last);
int imap_uidset_walk(const struct imap_uidset *set, uint32_t first,
    uint32_t last, imap_uidset_cb *cb, void *ctx);

/*
 * CB gets each maximal range of FIRST..LAST that holds no member
 * (the set's complement there), ascending.  Returns as for the walk.
 */
int imap_uidset_walk_gaps(const struct imap_uidset *set, uint32_t first,
    uint32_t last, imap_uidset_cb *cb, void *ctx);

/* The allocation cut down to the items in use (after an eviction). */
void imap_uidset_shrink(struct imap_uidset *set);

/* Items in use; bytes of heap held. */
uint32_t imap_uidset_items(const struct imap_uidset *set);
size_t imap_uidset_memory(const struct imap_uidset *set);

/*
 * For a cache's eviction (imap_flags.h): item I's members and its first
 * number (0 <= I < items), whether its span meets FIRST..LAST, and
 * dropping, in one pass, every item with fewer than LEN members or with
 * LEN members starting below CUTOFF, but none whose span meets
 * KEEP_FIRST..KEEP_LAST (KEEP_FIRST > KEEP_LAST: none is kept).
 * Returns the members dropped.
 */
uint64_t imap_uidset_item_count(const struct imap_uidset *set, uint32_t i);
uint32_t imap_uidset_item_first(const struct imap_uidset *set, uint32_t i);
bool imap_uidset_item_meets(const struct imap_uidset *set, uint32_t i,
    uint32_t first, uint32_t last);
uint64_t imap_uidset_evict(struct imap_uidset *set, uint64_t len,
    uint64_t cutoff, uint32_t keep_first, uint32_t keep_last);

#endif
