/*
 * imap_flags.h - message flags: read, written, diffed, remembered, and
 * grouped into RFC 5423 events.
 *
 * Four parts, for the selected mailbox of a session:
 *
 *	- struct imap_flags, a flag set as a 32-bit value: the five system
 *	  flags of RFC 9051 2.3.2 and up to IMAP_FLAGS_KEYWORDS_MAX
 *	  keywords, interned per mailbox.  imap_flags_parse() adds one
 *	  name of a flag list at a time, imap_flags_format() writes a
 *	  set as a flagNames value.  \Recent is never stored: RFC 5423
 *	  section 5 keeps it out of flagNames, and it cannot be STOREd.
 *	- imap_flags_change(), what a STORE (RFC 9051 6.4.6) set and
 *	  cleared on one message, from its old flags and the operation or
 *	  the flags the server reported.  It never guesses: without the
 *	  old flags the change is unknown.
 *	- struct imap_flags_box, the mailbox: its keyword table, its
 *	  PERMANENTFLAGS, and the last known flags of its messages by UID
 *	  (so EXPUNGE renumbers nothing), in bounded memory: per distinct
 *	  flag value, the set of UIDs that have it (imap_uidset.h).
 *	  imap_flags_box_change() is imap_flags_change() with the old
 *	  flags looked up and the new ones remembered.
 *	- struct imap_flags_batch, which groups the changes of the
 *	  messages of one command into events: one per distinct (event
 *	  type, flags), with the UIDs of every message that had it.
 *
 * A caller following a session does, in outline:
 *
 *	SELECT, EXAMINE:  imap_flags_box_reset()
 *	"* FLAGS (...)":  imap_flags_parse() each name into a scratch set,
 *	    which interns the keywords in the server's order
 *	"[PERMANENTFLAGS (...)]":  imap_flags_parse() each, then
 *	    imap_flags_box_set_permanent()
 *	"* n FETCH (... FLAGS (...))":  parse them, then
 *	    imap_flags_box_change() with the STORE it answers (or
 *	    IMAP_FLAGS_OP_NONE), and imap_flags_batch_add() the change
 *	STORE's tagged OK:  imap_flags_box_change() without reported
 *	    flags for the messages no FETCH covered; then read the
 *	    batch's events (imap_flags_batch_event())
 *	EXPUNGE, VANISHED:  imap_flags_box_expunge()
 *	CLOSE's tagged OK:  imap_flags_box_find() for \Deleted
 *
 * A flag set's keyword bits mean something only with the box whose
 * table made them, until that box's next reset.
 *
 * Pure: libc only, no I/O.  The box's values and their UID sets, its
 * keyword table and the batch are the only allocations.
 */
#ifndef IMAP_FLAGS_H
#define IMAP_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap_uidset.h"
#include "msgevent.h"

/* System flags, RFC 9051 2.3.2 ("\Recent" is not one of them here). */
#define IMAP_FLAGS_ANSWERED	(1u << 0)
#define IMAP_FLAGS_FLAGGED	(1u << 1)
#define IMAP_FLAGS_DELETED	(1u << 2)
#define IMAP_FLAGS_SEEN		(1u << 3)
#define IMAP_FLAGS_DRAFT	(1u << 4)
#define IMAP_FLAGS_SYSTEM	0x1fu

/*
 * "Some keyword beyond the table": set in a flag set that holds a
 * keyword the box could not intern (see IMAP_FLAGS_KEYWORDS_MAX) or a
 * name imap_flags_parse() could not read.  A set with it is inexact:
 * those keywords have no name here and no change to them is reported.
 */
#define IMAP_FLAGS_OTHER	(1u << 5)

/* Keyword I of the box's table, 0 <= I < IMAP_FLAGS_KEYWORDS_MAX. */
#define IMAP_FLAGS_KEYWORD(i)	(1u << (6 + (i)))

/*
 * Keywords (and extension flags such as "\Junk") a box interns, in the
 * order first seen: the 32 bits less five system flags and OTHER.  Past
 * it, or past IMAP_FLAGS_NAMES_SPACE, a new keyword is "beyond the
 * table" (IMAP_FLAGS_OTHER) until the next reset.  Mailboxes rarely
 * hold more; the flags of a message stay a 32-bit value.
 */
#define IMAP_FLAGS_KEYWORDS_MAX	26

/* Bytes of all the interned names of a box together (no NULs). */
#define IMAP_FLAGS_NAMES_SPACE	1024

/*
 * A buffer this size always holds imap_flags_format()'s text: the
 * system flags ("\Answered \Flagged \Deleted \Seen \Draft", 40 bytes),
 * every name with a space before it, and the NUL.
 */
#define IMAP_FLAGS_TEXT_MAX						\
	(40 + IMAP_FLAGS_NAMES_SPACE + IMAP_FLAGS_KEYWORDS_MAX + 1)

/*
 * Items (imap_uidset.h: a range of UIDs, or a bitmap of 64) that all the
 * UID sets of a box hold together: 1280 * 16 = 20 KiB, at most about 30
 * KiB allocated with each set's slack (a quarter, or four items), the
 * values and the keyword table.  The flags of a 20,000-message mailbox
 * fit whatever their pattern as long as 64 messages in a row have about
 * four different values at most (313 windows of 64 UIDs, an item per
 * value per window at most; ranges where they are alike).  When a change
 * leaves more, the items that know the fewest UIDs are forgotten (their
 * UIDs become unknown; among equals the lowest UIDs), never the one just
 * learned, until 1/32 of the cap is free again.  What is forgotten is
 * counted (imap_flags_box_forgotten()); answers stay right, some become
 * unknown.
 */
#define IMAP_FLAGS_ITEMS_MAX	1280

/*
 * Distinct flag values a box keeps UIDs for; a message with one more is
 * forgotten (and counted).
 */
#define IMAP_FLAGS_VALUES_MAX	64

/*
 * A flag set: bits as above.  A value type, 4 bytes; callers may read
 * and combine the bits, e.g. (f.bits & IMAP_FLAGS_DELETED).
 */
struct imap_flags {
	uint32_t bits;
};

struct imap_flags_value;
struct imap_flags_names;

/*
 * One selected mailbox.  Embedded in the session (40 bytes); the values
 * and their UID sets are allocated when the first flags are learned and
 * grow on demand up to the caps, the keyword table when the first
 * keyword is seen, so a session without a mailbox costs nothing more.
 * All fields are PRIVATE.
 */
struct imap_flags_box {
	struct imap_flags_value *val;
	struct imap_flags_names *names;
	uint8_t nval;		/* values in use */
	uint8_t aval;		/* values allocated */
	uint32_t items;		/* of every value's set */
	uint32_t items_max;
	uint32_t permanent;	/* bits that may change in the store */
	uint64_t forgotten;
};

/*
 * An empty box: no keywords, PERMANENTFLAGS unknown, every UID's flags
 * unknown.  ITEMS_MAX caps the items kept, 0 meaning
 * IMAP_FLAGS_ITEMS_MAX (larger values are cut to it); tests use small
 * ones.  Nothing is allocated.
 */
void imap_flags_box_init(struct imap_flags_box *box, uint32_t items_max);

/* Frees the heap; the box is as after imap_flags_box_init(). */
void imap_flags_box_deinit(struct imap_flags_box *box);

/*
 * A mailbox was selected, or closed: keywords, PERMANENTFLAGS and flags
 * are all forgotten, and the heap is freed (a large mailbox's cache is
 * not kept for the next).  Flag sets made before mean nothing after.
 * forgotten keeps counting.
 */
void imap_flags_box_reset(struct imap_flags_box *box);

/*
 * Add the flag NAME (LEN bytes, no NUL needed) to *FLAGS, one name of a
 * flag list, as the server or client wrote it.  RFC 9051 2.3.2 and 9:
 *
 *	- "\Answered" "\Flagged" "\Deleted" "\Seen" "\Draft" in any case
 *	  are the system flags; "\Recent" (any case) is ignored;
 *	- a keyword (an atom, "$Forwarded", "NonJunk") is interned in
 *	  BOX's table, matched without regard to ASCII case, its first
 *	  spelling kept; past the table it sets IMAP_FLAGS_OTHER;
 *	- any other "\Name" is an extension flag (RFC 9051 9
 *	  flag-extension, which clients must accept): it is interned like
 *	  a keyword, backslash and all, and reported like one.
 *
 * Returns 0 when NAME is a flag (\Recent included); 1 when NAME is "\*",
 * which is not a flag but PERMANENTFLAGS's "new keywords may be
 * created" (RFC 9051 7.1), and adds nothing; -1 when NAME is not a flag
 * (empty, or a character outside ATOM-CHAR): *FLAGS then gets
 * IMAP_FLAGS_OTHER, so that a set read from a server's FLAGS never
 * claims to be complete when a name was not understood.
 */
int imap_flags_parse(struct imap_flags_box *box, struct imap_flags *flags,
    const char *name, size_t len);

/*
 * FLAGS as a space-separated flagNames value (RFC 5423 section 5) in
 * OUT (SIZE bytes, NUL-terminated when SIZE > 0), its length in *LEN_R:
 * the system flags in the order above with their RFC 9051 spelling, then
 * the keywords in table order, as first seen.  IMAP_FLAGS_OTHER has no
 * name and is not written, nor is a keyword bit the table does not hold.
 * Returns 0, or 1 if OUT was too small: it then holds the first names
 * that fit, each whole.  IMAP_FLAGS_TEXT_MAX bytes always suffice.
 */
int imap_flags_format(const struct imap_flags_box *box,
    struct imap_flags flags, char *out, size_t size, size_t *len_r);

/*
 * The mailbox's "[PERMANENTFLAGS (...)]" (RFC 9051 7.1): PERM the flags
 * listed (imap_flags_parse() each), NEW_KEYWORDS whether "\*" was among
 * them (every keyword is then permanent, those interned later too).
 * PERM NULL means not known, the state after a reset: every flag is
 * then taken as permanent, as RFC 3501 6.3.1 tells clients to assume.
 * A flag outside PERMANENTFLAGS changes only for the session, if at all,
 * so imap_flags_change() never reports it.
 */
void imap_flags_box_set_permanent(struct imap_flags_box *box,
    const struct imap_flags *perm, bool new_keywords);

/* The STORE data item (RFC 9051 6.4.6); ".SILENT" does not matter. */
enum imap_flags_op {
	IMAP_FLAGS_OP_NONE,	/* no STORE: a FETCH FLAGS alone */
	IMAP_FLAGS_OP_ADD,	/* +FLAGS */
	IMAP_FLAGS_OP_REMOVE,	/* -FLAGS */
	IMAP_FLAGS_OP_REPLACE,	/* FLAGS */
};

struct imap_flags_change {
	struct imap_flags set;		/* were off, are on */
	struct imap_flags cleared;	/* were on, are off */
	/*
	 * Some keyword beyond the table may have been set or cleared:
	 * set and cleared never hold IMAP_FLAGS_OTHER, this says so.
	 */
	bool inexact;
	/* The message's flags now, valid if now_known. */
	struct imap_flags now;
	bool now_known;
};

/*
 * What happened to one message's flags.  OLD is its flags before, or
 * NULL if unknown; OP and LIST the STORE (LIST ignored with
 * IMAP_FLAGS_OP_NONE); REPORTED the flags of the server's untagged
 * "FETCH (FLAGS (...))" for it, or NULL if none came (.SILENT, or the
 * server did not send one).
 *
 * The flags now are REPORTED when given; else computed from OLD and the
 * operation (+FLAGS: OLD | LIST; -FLAGS: OLD & ~LIST; FLAGS: LIST), with
 * every flag outside PERMANENTFLAGS left as it was.  They are unknown
 * (now_known false) when that needs OLD and OLD is NULL, or when the
 * operation would change a flag outside PERMANENTFLAGS (the server may
 * ignore it or keep it for the session: RFC 9051 7.1), or when -FLAGS
 * names a keyword beyond the table on a message holding one (the same
 * one, or not).
 *
 * Returns true with set = now & ~OLD and cleared = OLD & ~now, both
 * limited to PERMANENTFLAGS, in *CHANGE_R; setting a flag a message
 * already had changes nothing.  Returns false when OLD is NULL: the
 * change is unknown, and set and cleared are empty; the caller must not
 * guess (it may ask the server first, imap_flags_box_unknown()).  Either
 * way *CHANGE_R tells the flags now, if known.  A conditional STORE's
 * messages listed in [MODIFIED] (RFC 7162) did not change: do not pass
 * them here.
 */
bool imap_flags_change(const struct imap_flags_box *box,
    const struct imap_flags *old, enum imap_flags_op op,
    struct imap_flags list, const struct imap_flags *reported,
    struct imap_flags_change *change_r);

/*
 * imap_flags_change() for the message with UID, its old flags from the
 * box; the box then keeps the flags now, or forgets UID's when they are
 * not known.  Returns as imap_flags_change(); false too, keeping
 * nothing, if UID is 0.  Applying the same STORE twice changes nothing
 * the second time.
 */
bool imap_flags_box_change(struct imap_flags_box *box, uint32_t uid,
    enum imap_flags_op op, struct imap_flags list,
    const struct imap_flags *reported, struct imap_flags_change *change_r);

/* True, with the flags in *FLAGS_R, if UID's flags are known. */
bool imap_flags_box_get(const struct imap_flags_box *box, uint32_t uid,
    struct imap_flags *flags_r);

/*
 * Every message with a UID in FIRST..LAST has FLAGS (FIRST == LAST for
 * one message).  Returns 0, or -1 and changes nothing if FIRST is 0 or
 * above LAST.  Past the cap, older knowledge is forgotten to keep this
 * one; what memory or the caps refuse (a value more than
 * IMAP_FLAGS_VALUES_MAX, an allocation) is forgotten and counted rather
 * than left stale; 0 still.
 */
int imap_flags_box_set(struct imap_flags_box *box, uint32_t first,
    uint32_t last, struct imap_flags flags);

/*
 * The flags of UIDs FIRST..LAST are no longer known (a doubt, a STORE
 * that failed half-way).  Returns 0 or -1 as imap_flags_box_set().
 */
int imap_flags_box_forget(struct imap_flags_box *box, uint32_t first,
    uint32_t last);

/*
 * No message has a UID in FIRST..LAST, nor ever will: EXPUNGE, VANISHED
 * (RFC 7162; EARLIER too), or UIDs never used (UIDs are not reused: RFC
 * 9051 2.3.1.1).  Their flags no longer matter: what the cache can drop
 * of them without memory goes; UIDs inside a range of UIDs of one value
 * stay there.  Never needs memory; the flags imap_flags_box_get()
 * reports for such a UID are meaningless.  Returns 0 or -1 as
 * imap_flags_box_set().
 */
int imap_flags_box_expunge(struct imap_flags_box *box, uint32_t first,
    uint32_t last);

/*
 * The UIDs of the uid-set at SET (LEN bytes, the grammar of imap_set.h
 * without "*") known to carry every flag of FLAGS, written canonically
 * into OUT (SIZE bytes, NUL-terminated when SIZE > 0), its length in
 * *LEN_R.  *UNKNOWN_R tells whether the flags of any UID of the set are
 * unknown.  For CLOSE's implicit expunge (RFC 9051 6.4.1), pass the UIDs
 * of every message (imap_seqmap_resolve() of "1:*") and \Deleted.  An
 * empty FLAGS gives every UID whose flags are known.
 *
 * Returns 0; 1 if OUT was too small: it then holds the lowest ranges
 * that fit, each whole, and *UNKNOWN_R still speaks for the whole set;
 * -1 if the set is invalid (OUT "", *LEN_R 0, *UNKNOWN_R false).
 */
int imap_flags_box_find(const struct imap_flags_box *box,
    struct imap_flags flags, const char *set, size_t len, char *out,
    size_t size, size_t *len_r, bool *unknown_r);

/*
 * imap_flags_box_find() without a text: CB gets the maximal ranges of
 * UIDs of the set with every flag of FLAGS, ascending (returning false
 * stops).  *UNKNOWN_R as for find (also true when memory failed and the
 * answer may miss UIDs).  Returns 0, 1 when CB stopped, -1 when the
 * set is invalid.
 */
int imap_flags_box_walk(const struct imap_flags_box *box,
    struct imap_flags flags, const char *set, size_t len, imap_uidset_cb *cb,
    void *ctx, bool *unknown_r);

/*
 * The UIDs of the uid-set at SET whose flags are unknown, canonically
 * in OUT, ready for "UID FETCH OUT (FLAGS)"; "" when all are known.
 * Returns 0, 1 (OUT too small: the lowest ranges, each whole) or -1 (as
 * imap_flags_box_find()).
 */
int imap_flags_box_unknown(const struct imap_flags_box *box,
    const char *set, size_t len, char *out, size_t size, size_t *len_r);

/* UIDs whose flags were dropped to the caps, since init.  Only grows. */
uint64_t imap_flags_box_forgotten(const struct imap_flags_box *box);

/* Items held, all values together (for tests and statistics). */
uint32_t imap_flags_box_items(const struct imap_flags_box *box);

/*
 * Bytes of heap held: the values' UID sets (IMAP_FLAGS_ITEMS_MAX * 16,
 * with slack at most about 30 KiB), the values (32 bytes each) and the
 * keyword table (IMAP_FLAGS_NAMES_SPACE and about 110 bytes).
 */
size_t imap_flags_box_memory(const struct imap_flags_box *box);

/* Which events flag changes become: RFC 5423 4.2, configurable. */
enum imap_flags_report {
	/*
	 * \Seen set: MessageRead, \Deleted set: MessageTrash, other flags
	 * set: FlagsSet, any flag cleared: FlagsClear (the default the
	 * RFC asks for).
	 */
	IMAP_FLAGS_REPORT_SIMPLE,
	/* \Seen and \Deleted as FlagsSet like any other flag. */
	IMAP_FLAGS_REPORT_FLAGS,
};

/*
 * Distinct events one batch holds: (type, flags) pairs, e.g.
 * MessageRead, FlagsSet "$Work", FlagsClear "\Flagged $Work".  A
 * change needing one more is dropped and counted
 * (imap_flags_batch_dropped()).  A +FLAGS or -FLAGS makes at most four;
 * only FLAGS over messages with many different flags makes more.
 */
#define IMAP_FLAGS_BATCH_EVENTS_MAX	32

/*
 * Items (imap_uidset.h) one batch holds, all events together: 32 KiB at
 * most, while the command runs.  Any change of any messages within a
 * span of 60,000 UIDs fits, for a few events; a UID that finds no room
 * is left out of its event, which is then marked truncated, and counted
 * as dropped.
 */
#define IMAP_FLAGS_BATCH_ITEMS_MAX	2048

struct imap_flags_batch;

/*
 * An empty batch reporting as REPORT says, or NULL with errno set
 * (ENOMEM).  Make one per command; it holds no pointer into a box.
 */
struct imap_flags_batch *imap_flags_batch_new(enum imap_flags_report report);

/* Frees *BATCHP (NULL is fine) and sets it to NULL. */
void imap_flags_batch_free(struct imap_flags_batch **batchp);

/*
 * Message UID had CHANGE (a known one: imap_flags_change() returned
 * true).  Adds UID to the event of each (type, flags) its change makes:
 * with IMAP_FLAGS_REPORT_SIMPLE, set \Seen makes MessageRead, set
 * \Deleted MessageTrash, the other set flags one FlagsSet, the cleared
 * flags one FlagsClear.  An empty change makes none; an inexact one is
 * counted as dropped (its keywords beyond the table have no names).
 * UID 0 is ignored.
 */
void imap_flags_batch_add(struct imap_flags_batch *batch, uint32_t uid,
    const struct imap_flags_change *change);

struct imap_flags_event {
	enum msgevent_type type;	/* MESSAGE_READ, _TRASH, FLAGS_SET,
					   FLAGS_CLEAR */
	/*
	 * The flags (\Seen for MessageRead, \Deleted for MessageTrash):
	 * imap_flags_format() them into flagNames, which RFC 5423 5
	 * gives FlagsSet and FlagsClear only.
	 */
	struct imap_flags flags;
	size_t uidset_len;
	bool truncated;		/* UIDs left out: the cap, or the text */
};

/*
 * Event I of the batch, 0 <= I: in type order (MessageRead,
 * MessageTrash, FlagsSet, FlagsClear), then in the order first added.
 * Its uidset (every UID added to it, canonical: "1,3", "1:3") goes to
 * OUT (SIZE bytes, NUL-terminated when SIZE > 0), cut at a range
 * boundary when too small; OUT NULL writes no text (uidset_len 0;
 * imap_flags_batch_walk() gives the UIDs).  Returns false, writing
 * nothing, when I is past the last event.  Adding more afterwards is
 * allowed.
 */
bool imap_flags_batch_event(struct imap_flags_batch *batch, size_t i,
    struct imap_flags_event *ev_r, char *out, size_t size);

/*
 * The UIDs of event I as maximal ranges, ascending, to CB (returning
 * false stops).  Returns 0, 1 when CB stopped, -1 past the last event.
 */
int imap_flags_batch_walk(const struct imap_flags_batch *batch, size_t i,
    imap_uidset_cb *cb, void *ctx);

/*
 * Message changes that some event leaves out, or that no event could
 * name (inexact changes, IMAP_FLAGS_BATCH_EVENTS_MAX,
 * IMAP_FLAGS_BATCH_ITEMS_MAX), since the batch was made.
 */
uint32_t imap_flags_batch_dropped(const struct imap_flags_batch *batch);

/* Bytes of heap the batch holds (at most about 34 KiB). */
size_t imap_flags_batch_memory(const struct imap_flags_batch *batch);

#endif
