/*
 * imap_registry.h - what the proxy's sessions did to mailboxes, shared
 * by all of them.
 *
 * One session sees "* 5 EXISTS" or "* 3 EXPUNGE" and must tell whether
 * a session of the same proxy caused it (an APPEND, COPY or MOVE into
 * the mailbox, an EXPUNGE, CLOSE or MOVE out of it: that session
 * reports it) or nobody here did (mail delivered by the MTA, a client
 * connected to the server directly, the server's expiry: the observing
 * session reports it, once, whichever of the sessions that see it
 * decides first).  The registry is where the sessions meet.  It holds,
 * for each mailbox, keyed by backend, user and mailbox name (INBOX in
 * any case is INBOX, RFC 9051 5.1; other names byte for byte, as
 * sent), with the UIDVALIDITY its UIDs belong to:
 *
 *	- per direction (messages added, messages removed), the UIDs that
 *	  are "explained": recorded by the session that added or removed
 *	  them (APPENDUID, COPYUID, the UIDs of its expunge), or claimed by
 *	  the session that reported them as nobody's (imap_registry_claim());
 *	- per direction, a blind window: after a session added or removed
 *	  messages without learning their UIDs (APPEND without UIDPLUS, an
 *	  expunge of messages whose UIDs the session never saw), which of
 *	  the UIDs the others see are its cannot be told, so for
 *	  IMAP_REGISTRY_AGE_MS a claim explains away every UID it cannot
 *	  explain otherwise: no event rather than a false one (spending N
 *	  "credits" on the lowest unexplained UIDs would report another
 *	  session's UID as nobody's when the unknown ones were higher);
 *	- per direction, the commands in flight that may change it: from
 *	  the moment the client's command line is read until its tagged
 *	  completion.  Another session may read the server's EXISTS or
 *	  EXPUNGE for such a command before the tagged OK that names the
 *	  UIDs, so a session waits (imap_registry_wait()) until none is in
 *	  flight before it decides.
 *
 * Single-threaded, like the proxy's event loop: a claim is decided and
 * recorded in one call, so two sessions cannot both report a UID.
 * Waiters are called back from imap_registry_release(), which runs
 * inside another session's (or the same session's) inference.
 *
 * Memory is bounded.  Each mailbox costs its struct, its key and its
 * two UID sets; sets past IMAP_REGISTRY_RANGES_MAX ranges close their
 * lowest gap (the UIDs in it count as explained: a missed event rather
 * than a repeated one).  Mailboxes no session holds (imap_registry_open()
 * pins) are kept in least-recently-used order and dropped when older
 * than IMAP_REGISTRY_AGE_MS, or, oldest first, to make room under
 * IMAP_REGISTRY_BOXES_MAX and IMAP_REGISTRY_BYTES_MAX; pinned ones are
 * never dropped, and an open that finds no room fails.  Everything
 * dropped or refused is counted (struct imap_registry_stats).
 *
 * Pure: libc only, no I/O; the clock is CLOCK_MONOTONIC unless the
 * limits give one.
 */
#ifndef IMAP_REGISTRY_H
#define IMAP_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Mailboxes kept at most, pinned or not.  An open of a new mailbox past
 * it drops the least recently used unpinned one, or fails (counted as
 * refused) when all are pinned: a session pins its selected mailbox and
 * the targets of its commands in flight.
 */
#define IMAP_REGISTRY_BOXES_MAX		16384
/*
 * Bytes the registry may hold: past it, at the open of a new mailbox,
 * unpinned ones are dropped, least recently used first.  A mailbox
 * costs about 200 bytes, its key, and up to 2 * IMAP_REGISTRY_RANGES_MAX
 * * 8 bytes of UID ranges; at most about 2.6 KiB, so
 * IMAP_REGISTRY_BOXES_MAX of them at most about 42 MiB, a typical one (a
 * few ranges, INBOX) under 300 bytes.
 */
#define IMAP_REGISTRY_BYTES_MAX		(16 * 1024 * 1024)
/*
 * UID ranges one direction of one mailbox keeps.  Past it the lowest
 * gap between two ranges is closed (counted as merged).  Explained UIDs
 * of a mailbox where everything was seen form one range; gaps are UIDs
 * that arrived (or left) while no session of the proxy watched.
 */
#define IMAP_REGISTRY_RANGES_MAX	64
/*
 * How long a mailbox nobody pins is kept after its last use (10
 * minutes), and how long a blind window lasts: a session that had the
 * mailbox selected sees another session's change at its next command
 * or at once in IDLE, and a session selecting it later counts the
 * change among the messages it finds.
 */
#define IMAP_REGISTRY_AGE_MS		(10 * 60 * 1000)

/* Caps, 0 meaning the default; the clock, NULL meaning CLOCK_MONOTONIC. */
struct imap_registry_limits {
	uint32_t boxes_max;
	size_t bytes_max;
	uint32_t ranges_max;		/* at least 2 */
	uint64_t age_ms;
	uint64_t (*now_ms)(void *ctx);	/* milliseconds, never decreasing */
	void *now_ctx;
};

enum imap_registry_dir {
	IMAP_REGISTRY_ADD,		/* messages that came in */
	IMAP_REGISTRY_REMOVE,		/* messages that went */
};

/*
 * A mailbox: the backend's address (as the proxy names it), the user
 * (authorization identity) and the mailbox name as sent (modified
 * UTF-7; INBOX in any case is INBOX).  The bytes are copied.
 */
struct imap_registry_key {
	const char *backend;
	size_t backend_len;
	const char *user;
	size_t user_len;
	const char *mailbox;
	size_t mailbox_len;
};

struct imap_registry;
struct imap_registry_box;

/*
 * Called back once when a mailbox waited on has, in one direction, no
 * command in flight any more (the other direction may still have).  It
 * may call any function here, wait again included.
 */
typedef void imap_registry_wake_cb(void *ctx);

/*
 * A waiter, embedded in its owner (no allocation).  PRIVATE; zeroed
 * before first use.  It waits on one mailbox at a time.
 */
struct imap_registry_waiter {
	struct imap_registry_waiter *prev, *next;
	struct imap_registry_box *box;	/* NULL: not waiting */
	imap_registry_wake_cb *cb;
	void *ctx;
};

/* Called for each UID range FIRST..LAST; false stops. */
typedef bool imap_registry_range_cb(void *ctx, uint32_t first, uint32_t last);

struct imap_registry_stats {
	uint32_t boxes;			/* mailboxes kept now */
	uint32_t pinned;		/* of them, pinned */
	size_t memory;			/* bytes held now, all included */
	uint64_t dropped;		/* mailboxes dropped (age, caps) */
	uint64_t refused;		/* opens that failed (cap, memory) */
	uint64_t merged;		/* gaps closed (RANGES_MAX) */
	uint64_t resets;		/* new UIDVALIDITY: UIDs forgotten */
	uint64_t blinded;		/* UIDs explained away (blind) */
};

/* A new registry, or NULL with errno set.  LIMITS may be NULL. */
struct imap_registry *imap_registry_new(
    const struct imap_registry_limits *limits);

/*
 * Frees it and every mailbox; clears *REG.  NULL is a no-op.  Boxes
 * still open and waiters still waiting become invalid: close and unwait
 * them first.
 */
void imap_registry_free(struct imap_registry **reg);

/*
 * The mailbox KEY, made if new, pinned until imap_registry_close().
 * Returns NULL (counted as refused) when it cannot be kept: every one
 * of IMAP_REGISTRY_BOXES_MAX mailboxes is pinned, or out of memory.
 * The same mailbox may be opened any number of times.
 */
struct imap_registry_box *imap_registry_open(struct imap_registry *reg,
    const struct imap_registry_key *key);

/* Unpins *BOX and clears it.  NULL is a no-op. */
void imap_registry_close(struct imap_registry *reg,
    struct imap_registry_box **box);

/*
 * A command that may add (remove) messages of BOX is in flight; it
 * holds a pin of its own.  Every hold is released once.  A release that
 * leaves none in flight in DIR wakes BOX's waiters.
 */
void imap_registry_hold(struct imap_registry *reg,
    struct imap_registry_box *box, enum imap_registry_dir dir);
void imap_registry_release(struct imap_registry *reg,
    struct imap_registry_box *box, enum imap_registry_dir dir);

/* Commands in flight in DIR. */
uint32_t imap_registry_in_flight(const struct imap_registry_box *box,
    enum imap_registry_dir dir);

/*
 * A session added (removed) the messages FIRST..LAST of BOX, whose
 * UIDVALIDITY is UIDVALIDITY: they are explained.  A UIDVALIDITY other
 * than the one BOX's UIDs belong to replaces it and forgets them (and
 * the blind windows); 0, as in the calls below, means not known: the
 * current one.
 */
void imap_registry_record(struct imap_registry *reg,
    struct imap_registry_box *box, uint32_t uidvalidity,
    enum imap_registry_dir dir, uint32_t first, uint32_t last);

/*
 * A session added (removed) N > 0 messages of BOX without learning
 * their UIDs: DIR of BOX is blind for IMAP_REGISTRY_AGE_MS from now.
 */
void imap_registry_blind(struct imap_registry *reg,
    struct imap_registry_box *box, uint32_t uidvalidity,
    enum imap_registry_dir dir, uint32_t n);

/*
 * A session saw the messages FIRST..LAST of BOX come in (go), and no
 * command in flight in DIR may explain them.  CB gets, in ascending
 * order, the ranges no session explained: the caller reports them as
 * nobody's; none while DIR is blind (they are counted).  All of
 * FIRST..LAST are explained afterwards, so no other claim gets them
 * again.  CB must not call into the registry.  Returns the UIDs given
 * to CB.
 */
uint64_t imap_registry_claim(struct imap_registry *reg,
    struct imap_registry_box *box, uint32_t uidvalidity,
    enum imap_registry_dir dir, uint32_t first, uint32_t last,
    imap_registry_range_cb *cb, void *ctx);

/*
 * Call CB(CTX) once when BOX next has, in either direction, no command
 * in flight (a release).  W must not be waiting on another mailbox; if
 * it is already waiting on BOX, only CB and CTX are replaced.  Pins BOX
 * while waiting.
 */
void imap_registry_wait(struct imap_registry *reg,
    struct imap_registry_box *box, struct imap_registry_waiter *w,
    imap_registry_wake_cb *cb, void *ctx);

/* W waits no more (a no-op when it is not waiting). */
void imap_registry_unwait(struct imap_registry *reg,
    struct imap_registry_waiter *w);

void imap_registry_stats(const struct imap_registry *reg,
    struct imap_registry_stats *st);

/* Bytes held now (the struct, the table, every mailbox). */
size_t imap_registry_memory(const struct imap_registry *reg);

#endif
