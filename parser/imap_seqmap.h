/*
 * imap_seqmap.h - what a session has learned of its selected mailbox's
 * message sequence numbers and UIDs.
 *
 * RFC 9051 sections 2.3.1.1 and 2.3.1.2: the messages of a mailbox are
 * numbered 1..N and have strictly ascending UIDs.  The map holds N and,
 * for some messages, their UIDs, learned from the traffic: EXISTS
 * (7.4.1 in RFC 9051, 7.3.1 in RFC 3501) appends messages, "* n FETCH
 * (UID u)" teaches one UID, EXPUNGE (7.5.1; 7.4.1 in RFC 3501) and RFC
 * 7162 VANISHED remove messages and renumber the rest.  A message whose
 * UID was not seen is "unknown"; the map never guesses.
 *
 * Storage is runs of known messages with consecutive sequence numbers
 * and consecutive UIDs (12 bytes each; unknown messages are the gaps
 * between runs and cost nothing).  A mailbox of a million messages with
 * contiguous UIDs, all learned, is one run; UIDs learned one at a time,
 * in any order, join the runs they touch, so the runs are exactly the
 * longest stretches of known messages with consecutive UIDs.
 *
 * Each call does O(log runs) for lookups, O(runs) at most for the calls
 * that renumber or insert (EXPUNGE, VANISHED, a new run).  A new run
 * past the cap also forgets a batch of runs, O(runs log runs) once in
 * every runs_max / IMAP_SEQMAP_EVICT_DIV new runs: O(log runs)
 * amortised.
 *
 * Pure: libc only, no I/O.  The run array is the only allocation.
 */
#ifndef IMAP_SEQMAP_H
#define IMAP_SEQMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Most runs a map keeps (one more during a call): 2049 * 12 = 24,588
 * bytes of heap at most.  When learning a UID or splitting a run (an
 * EXPUNGE inside it) would keep one more, the runs_max /
 * IMAP_SEQMAP_EVICT_DIV shortest runs (at least one; 256 at the default
 * cap) are forgotten at once: their messages become unknown, among
 * equals the lowest go, and never the run just learned.  The map then
 * holds runs_max + 1 - that many runs.  What is forgotten is counted
 * exactly (imap_seqmap_forgotten()); answers stay right, some become
 * unknown.
 */
#define IMAP_SEQMAP_RUNS_MAX	2048

/*
 * The share of the cap forgotten at once (above): a batch of 1/8 makes
 * the search for the shortest runs cost O(log runs) a new run,
 * amortised, instead of a scan of all runs for every one, at the price
 * of knowing 1/8 fewer runs just after.
 */
#define IMAP_SEQMAP_EVICT_DIV	8

struct imap_seqmap_run;

/*
 * Embedded in the session (about 32 bytes); the run array is allocated
 * when the first UID is learned and grows on demand up to the cap, so a
 * session that never selects a mailbox, or never sees a UID, costs
 * nothing more.  All fields are PRIVATE.
 */
struct imap_seqmap {
	struct imap_seqmap_run *run;
	uint32_t nruns;
	uint32_t alloc;		/* runs allocated */
	uint32_t runs_max;
	uint32_t count;		/* N, the messages in the mailbox */
	uint64_t forgotten;
};

/*
 * An empty map (no mailbox: count 0).  RUNS_MAX caps the runs kept, 0
 * meaning IMAP_SEQMAP_RUNS_MAX (larger values are cut to it); tests use
 * small ones.  Nothing is allocated.
 */
void imap_seqmap_init(struct imap_seqmap *map, uint32_t runs_max);

/*
 * Frees the run array.  The map is then empty, as after
 * imap_seqmap_init() with the same cap, and may be used again.
 */
void imap_seqmap_deinit(struct imap_seqmap *map);

/*
 * A mailbox was selected (or selected again, or closed: EXISTS 0) and
 * has EXISTS messages, every UID unknown.  The run array is kept for
 * reuse; forgotten keeps counting.
 */
void imap_seqmap_reset(struct imap_seqmap *map, uint32_t exists);

/*
 * Untagged "* N EXISTS".  N >= count appends N - count unknown
 * messages.  Returns -1 and changes nothing if N < count (EXISTS never
 * shrinks a mailbox: EXPUNGE does) or if the UIDs known leave no room
 * for N messages below 2^32.
 */
int imap_seqmap_exists(struct imap_seqmap *map, uint32_t n);

/*
 * Learned "* SEQ FETCH (UID UID ...)".  Returns 0 (a UID already known
 * and equal included), or -1 and changes nothing when it contradicts the
 * map: SEQ is 0 or above count, UID is 0, SEQ's UID is known and
 * differs, or UID leaves too few UIDs for the messages between SEQ and
 * its known neighbours (each needs a UID of its own: after message 3
 * with UID 10, message 5 needs at least 12) or after the last message.
 * The caller logs -1 and may invalidate.  Past the cap, older runs are
 * forgotten to keep this one (IMAP_SEQMAP_RUNS_MAX); a UID that cannot
 * be kept for want of memory is counted as forgotten, and still
 * returns 0.
 */
int imap_seqmap_set_uid(struct imap_seqmap *map, uint32_t seq, uint32_t uid);

/*
 * Untagged "* SEQ EXPUNGE": message SEQ is gone and the later ones
 * renumber down by one.  Returns 1 with its UID in *UID_R (may be NULL)
 * if it was known, 0 if not, -1 (nothing changed) if SEQ is 0 or above
 * count.
 */
int imap_seqmap_expunge(struct imap_seqmap *map, uint32_t seq,
    uint32_t *uid_r);

/*
 * Untagged "* VANISHED FIRST:LAST" without (EARLIER): by RFC 7162
 * section 3.2.10.2 each of these UIDs was a message of the mailbox, now
 * gone, and the message count drops by one for each.  Pass the ranges
 * of the canonical set (imap_set_walk()), not the written ones: a UID
 * given twice would be taken for two messages.  VANISHED (EARLIER)
 * changes nothing in the mailbox and must not come here.
 *
 * The messages with UIDs FIRST..LAST are consecutive, so this removes
 * one run of sequence numbers, and it is always determined: where the
 * range begins (or ends) among unknown messages between two known ones,
 * the messages are the upper (or lower) ones of that gap, and where it
 * lies wholly among them, which of them go does not change what the map
 * knows (the gap just holds fewer unknown messages).
 *
 * Returns 0, with the number of removed messages whose UID was known in
 * *KNOWN_R (may be NULL), or -1 and changes nothing if FIRST..LAST
 * cannot all be messages of the map: FIRST is 0 or above LAST, or part
 * of the range falls where the map has fewer unknown messages than
 * UIDs (between two known neighbours that touch, past the last message,
 * in an empty mailbox).  The caller then logs and may invalidate.
 */
int imap_seqmap_vanish(struct imap_seqmap *map, uint32_t first,
    uint32_t last, uint32_t *known_r);

/* Every UID unknown again, count kept (UIDVALIDITY changed, a doubt). */
void imap_seqmap_invalidate(struct imap_seqmap *map);

/* True, with the UID in *UID_R, if message SEQ's UID is known. */
bool imap_seqmap_uid(const struct imap_seqmap *map, uint32_t seq,
    uint32_t *uid_r);

/*
 * True, with its sequence number in *SEQ_R, if a message with UID is
 * known.  False means not known, not that there is none.
 */
bool imap_seqmap_seq(const struct imap_seqmap *map, uint32_t uid,
    uint32_t *seq_r);

/* N, the messages in the mailbox. */
uint32_t imap_seqmap_count(const struct imap_seqmap *map);

/* Messages whose UID was dropped to the cap, since init.  Only grows. */
uint64_t imap_seqmap_forgotten(const struct imap_seqmap *map);

/* Runs held (for tests and statistics). */
uint32_t imap_seqmap_runs(const struct imap_seqmap *map);

/* Bytes of heap held, at most (IMAP_SEQMAP_RUNS_MAX + 1) * 12. */
size_t imap_seqmap_memory(const struct imap_seqmap *map);

/*
 * The UIDs of the messages in the sequence set at SET (LEN bytes, the
 * grammar of imap_set.h, "*" being count), written canonically into OUT
 * (SIZE bytes, NUL-terminated when SIZE > 0) with its length in *LEN_R:
 * with messages 1..7 having UIDs 4,5,6,8,9,10,11, "3:1,5" gives "4:6,9".
 * *INCOMPLETE_R tells whether any message of the set has an unknown UID
 * (imap_seqmap_unknown() names them); their UIDs are missing from OUT.
 *
 * Returns 0; or 1 if OUT was too small: it then holds the lowest UID
 * ranges that fit, each whole, and *INCOMPLETE_R still speaks for the
 * whole set; or -1 if the set is invalid or a number in it is above
 * count (every number is, in an empty mailbox), with OUT "", *LEN_R 0
 * and *INCOMPLETE_R false.
 */
int imap_seqmap_resolve(const struct imap_seqmap *map, const char *set,
    size_t len, char *out, size_t size, size_t *len_r, bool *incomplete_r);

/*
 * The messages of the sequence set at SET whose UIDs are unknown, as a
 * canonical sequence set in OUT, ready for "FETCH OUT (UID)"; "" when
 * all are known.  Returns 0, 1 (OUT too small: the lowest ranges, each
 * whole) or -1 (as imap_seqmap_resolve()).
 */
int imap_seqmap_unknown(const struct imap_seqmap *map, const char *set,
    size_t len, char *out, size_t size, size_t *len_r);

#endif
