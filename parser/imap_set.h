/*
 * imap_set.h - IMAP sequence sets and UID sets, read and written.
 *
 * The grammar is RFC 9051 section 9 (RFC 3501 section 9 is the same):
 *
 *	sequence-set	= (seq-number / seq-range) ["," sequence-set]
 *	seq-range	= seq-number ":" seq-number
 *	seq-number	= nz-number / "*"
 *	nz-number	= digit-nz *DIGIT	; 1 to 4294967295
 *
 * "*" stands for the largest number in use (the message count, or the
 * largest UID), and a range may be written either way round: "5:1" is
 * "1:5".  The uid-set of RFC 4315 and RFC 9051 (COPYUID, APPENDUID) and
 * the known-uids of RFC 7162 VANISHED are the same grammar without "*".
 * Parsing is strict: no spaces, no empty items, no leading zeros, no
 * "0".  RFC 5182's "$" (the saved search result) is not a set this
 * module can read: it is a syntax error here, and resolving it is the
 * caller's business.
 *
 * Three ways in: imap_set_iter_*() reads a set in its written order,
 * ranges as written (COPYUID pairs its two sets by position);
 * imap_set_walk() gives the canonical form, the union as ascending,
 * disjoint, non-adjacent ranges, in bounded memory whatever the input;
 * imap_set_canon() writes that form as a string.  One way out: the
 * imap_set_writer formats ascending ranges canonically ("1:3,5") into
 * a caller's buffer, cut at a range boundary when full.
 *
 * Pure: libc only, no I/O, no allocation.
 */
#ifndef IMAP_SET_H
#define IMAP_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Disjoint ranges imap_set_walk() sorts at a time, on the stack (8
 * bytes each, twice over: 8 KiB).  A set with more disjoint ranges is
 * read again, once for each further IMAP_SET_WALK_RANGES of them: the
 * result is the same, the cost grows to O(len * ranges / 512).  A 64
 * KiB command line holds at most 32768 ranges, so 64 passes.
 */
#define IMAP_SET_WALK_RANGES	512

/*
 * Longest canonical text of one range: "4294967295:4294967295" plus the
 * comma before it.
 */
#define IMAP_SET_RANGE_TEXT_MAX	22

/*
 * Reading a set in written order.  Embedded by the caller; all fields
 * are PRIVATE.  The set's bytes must stay valid while it is read.
 */
struct imap_set_iter {
	const char *p;
	const char *end;
	uint32_t star;
	uint32_t max;
	bool need;	/* a range must follow (at the start, after ",") */
	bool failed;	/* sticky */
};

/*
 * Start reading the LEN bytes at SET (no NUL needed).  STAR is the value
 * of "*", or 0 where "*" is not allowed (uid-set, known-uids).  MAX is
 * the largest number accepted (UINT32_MAX for UIDs, the message count
 * for sequence numbers); STAR must not exceed it.
 */
void imap_set_iter_init(struct imap_set_iter *iter, const char *set,
    size_t len, uint32_t star, uint32_t max);

/*
 * The next range, as written but with *FIRST_R <= *LAST_R ("7" gives
 * 7..7, "9:2" gives 2..9; overlaps and disorder are kept).  Returns 1
 * with the range, 0 at the end of a valid set, or -1 on a syntax error
 * or a number above MAX (then -1 again on every later call).  Ranges
 * returned before an error are valid, but the set as a whole is not:
 * a caller that acts on them must read to the end first.
 */
int imap_set_iter_next(struct imap_set_iter *iter, uint32_t *first_r,
    uint32_t *last_r);

/*
 * Called by imap_set_walk() with one range of the canonical form;
 * return false to stop the walk.
 */
typedef bool imap_set_walk_cb(void *ctx, uint32_t first, uint32_t last);

/*
 * The canonical form of the set at SET (STAR and MAX as for
 * imap_set_iter_init()): CB gets each maximal range of the union, in
 * ascending order, never two that overlap or touch ("3,1:2,2" gives
 * 1..3 once).  Returns -1 if the set is invalid (CB is not called: the
 * whole set is read before the first call), 1 if CB stopped the walk,
 * else 0.  Uses about 8 KiB of stack (IMAP_SET_WALK_RANGES), never the
 * heap.
 */
int imap_set_walk(const char *set, size_t len, uint32_t star, uint32_t max,
    imap_set_walk_cb *cb, void *ctx);

/*
 * Writes ranges as a canonical set: "first:last" or "n", comma
 * separated.  Embedded by the caller; truncated is READ-ONLY, the rest
 * PRIVATE.
 */
struct imap_set_writer {
	char *buf;
	size_t size;
	size_t len;		/* bytes written, NUL excluded */
	uint32_t first;		/* the pending range, not yet written */
	uint32_t last;
	bool pending;
	/*
	 * READ-ONLY: a range did not fit.  It and every later range were
	 * dropped, so the text is the canonical form of the lowest ranges
	 * only, each of them whole.
	 */
	bool truncated;
};

/*
 * Write into the SIZE bytes at BUF, which always hold a NUL-terminated
 * string (empty at first) when SIZE > 0.  With SIZE 0 (BUF may then be
 * NULL) nothing is written and any range makes it truncated.
 */
void imap_set_writer_init(struct imap_set_writer *writer, char *buf,
    size_t size);

/*
 * Add FIRST..LAST (FIRST <= LAST).  Ranges must come in ascending order
 * of FIRST (asserted); one overlapping or touching the previous one is
 * merged into it.  The last range is held back until the next call or
 * imap_set_writer_finish(), so the text is complete only after that.
 */
void imap_set_writer_add(struct imap_set_writer *writer, uint32_t first,
    uint32_t last);

/*
 * Write the pending range; returns the length of the text (the NUL
 * excluded).  Check truncated afterwards.  Adding more after it
 * continues the same text.
 */
size_t imap_set_writer_finish(struct imap_set_writer *writer);

/*
 * The canonical form of the set at SET (STAR as for
 * imap_set_iter_init(), MAX is UINT32_MAX) written into OUT (SIZE bytes,
 * see imap_set_writer_init()), its length in *LEN_R: "5:1,9,2" gives
 * "1:5,9".  Returns 0, 1 if the text was truncated at a range boundary,
 * or -1 if the set is invalid (OUT is then "" and *LEN_R 0).
 */
int imap_set_canon(const char *set, size_t len, uint32_t star, char *out,
    size_t size, size_t *len_r);

/*
 * Reading a set in pieces, as it arrives (a set longer than the
 * parser's token comes in fragments, imap_parser.h): a small state
 * machine over digits, ":", "," and "*" that hands each range to a
 * callback as soon as it is complete, in written order, holding nothing
 * but the range being read.  The grammar is the one above ("*"
 * included: a caller that allows none rejects ranges with STAR set);
 * numbers are checked against UINT32_MAX only.  Embedded by the caller;
 * all fields PRIVATE.
 */
struct imap_set_reader {
	uint64_t num;		/* the number being read */
	uint32_t first;		/* the range's first number, after ":" */
	uint8_t state;
	bool first_star;	/* the range's first is "*" */
	bool in_range;		/* ":" read */
	bool failed;		/* sticky */
};

/* STAR bits of a range: which of its ends are written "*". */
#define IMAP_SET_STAR_FIRST	0x01
#define IMAP_SET_STAR_LAST	0x02

/*
 * One range as written: FIRST and LAST as they came ("9:2" gives 9, 2;
 * a lone number N gives N, N), an end written "*" being 0 with its STAR
 * bit set (a lone "*" sets both).  Return false to fail the reader.
 */
typedef bool imap_set_reader_cb(void *ctx, uint32_t first, uint32_t last,
    unsigned star);

void imap_set_reader_init(struct imap_set_reader *r);

/*
 * The next LEN bytes of the set.  Complete ranges go to CB.  Returns
 * false once the set is known not to be one (sticky; CB is not called
 * again).
 */
bool imap_set_reader_feed(struct imap_set_reader *r, const char *data,
    size_t len, imap_set_reader_cb *cb, void *ctx);

/*
 * The set ends: its last range goes to CB.  Returns 0 for a valid set,
 * -1 otherwise (empty, a trailing "," or ":", or a failure before).
 */
int imap_set_reader_end(struct imap_set_reader *r, imap_set_reader_cb *cb,
    void *ctx);

#endif
