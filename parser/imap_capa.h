/*
 * imap_capa.h - take configured capabilities out of the server's
 * capability lists, on the way to the client.
 *
 * Some extensions would hide the traffic from msgeventd's parser once
 * negotiated: COMPRESS=DEFLATE (RFC 4978), STARTTLS when the proxy holds
 * no certificate.  The client must not be offered them, in CAPABILITY
 * responses and response codes alike (RFC 9051 section 7.2.2 and
 * resp-text-code "CAPABILITY"), so this filter sits in the server ->
 * client stream and removes the configured atoms from:
 *
 *	* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE
 *	* OK|NO|BAD|BYE|PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] ...
 *	TAG OK|NO|BAD|BYE|PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] ...
 *
 * (keywords in any case).  Each removed atom goes with the SP before it,
 * so the rest stays well-formed: "* CAPABILITY IMAP4rev1 IDLE" and
 * "[CAPABILITY IMAP4rev1]" above.  Every other byte passes unchanged:
 * the case and spacing of the rest, CRLF or bare LF, other lines, and
 * literal bodies, which are jumped over unread ("{n}", "{n+}", "~{n}"
 * closing a line segment of a response other than a status response or
 * a continuation; a text such as "* OK [ALERT] CAPABILITY X" is no
 * capability list).
 *
 * Cost: a line's first few tokens are classified byte by byte; the rest
 * of an ordinary line is found with memchr() and passed as is, and a
 * literal body costs O(1) per chunk.  Only capability lists are read
 * byte by byte.  Nothing is allocated.
 *
 * A filter may also add one capability (imap_capa_set_add()): msgeventd
 * offers STARTTLS itself when it holds a certificate.  The atom goes
 * right after the CAPABILITY keyword of every list, with a SP before it:
 * "* CAPABILITY STARTTLS IMAP4rev1 IDLE", "[CAPABILITY STARTTLS
 * IMAP4rev1]" (RFC 3501 and RFC 9051 let capabilities precede
 * IMAP4rev1).  Removal applies to the server's atoms only, so removing
 * STARTTLS and adding it gives exactly one.
 *
 * Nothing is held but a removal candidate: one SP and the start of an
 * atom that may still be a configured name (IMAP_CAPA_HOLD_MAX bytes at
 * most).  So every capability list is edited, however long its line;
 * there is no line limit.  Any split of the input gives the same output
 * bytes, in the same order.
 *
 * Pure: libc only, no I/O.
 */
#ifndef IMAP_CAPA_H
#define IMAP_CAPA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Most names a list holds (a bit each in a 32-bit match mask); adding
 * one more fails.
 */
#define IMAP_CAPA_NAMES_MAX	16

/*
 * Longest name accepted, in bytes (AUTH=SCRAM-SHA-256-PLUS is 23); a
 * longer one fails to be added.  It also bounds the hold buffer below.
 */
#define IMAP_CAPA_NAME_MAX	64

/*
 * The most bytes a filter holds back between calls: the SP before an
 * atom plus the atom's first IMAP_CAPA_NAME_MAX bytes.  A byte that
 * leaves no configured name possible releases them at once.
 */
#define IMAP_CAPA_HOLD_MAX	(1 + IMAP_CAPA_NAME_MAX)

/* Longest atom imap_capa_set_add() takes, its SP included. */
#define IMAP_CAPA_ADD_MAX	(1 + IMAP_CAPA_NAME_MAX)

/*
 * The last bytes of an unfinished line segment kept across calls, to
 * see a literal header closing it: "(~{" 20 digits "+}" CR is 26
 * (2^64-1 has 20 digits; the byte before "{" or "~{" must be SP, "(" or
 * ")", or the segment's start).
 */
#define IMAP_CAPA_TAIL_MAX	26

/*
 * The capabilities to remove, set up once (from the configuration) and
 * shared by every session's filter.  PRIVATE: use the calls below.
 */
struct imap_capa_list {
	unsigned count;
	uint32_t prefix;		/* bit i: name i ends in '=' */
	uint8_t len[IMAP_CAPA_NAMES_MAX];
	char name[IMAP_CAPA_NAMES_MAX][IMAP_CAPA_NAME_MAX]; /* upper case,
					   not NUL-terminated */
};

/* An empty list: a filter using it changes nothing. */
void imap_capa_list_init(struct imap_capa_list *list);

/*
 * Add NAME (NUL-terminated, copied), matched without regard to case
 * against whole atoms: "STARTTLS" removes STARTTLS and starttls, not
 * STARTTLSX.  A name ending in '=' is a prefix: "COMPRESS=" removes
 * COMPRESS=DEFLATE, COMPRESS=ZSTD and every other COMPRESS=*.  Adding a
 * name already there does nothing and returns 0.  Returns -1 with errno
 * EINVAL if NAME is empty, longer than IMAP_CAPA_NAME_MAX or holds a
 * byte that is not an ATOM-CHAR (RFC 9051 section 9: controls, SP,
 * 8-bit and "(){%*\"\\]" are not), or ENOSPC if the list already holds
 * IMAP_CAPA_NAMES_MAX names.  Not to be called while a filter uses the
 * list.
 */
int imap_capa_list_add(struct imap_capa_list *list, const char *name);

/*
 * Receives the filtered bytes: LEN > 0 bytes at DATA, to be sent to the
 * client in call order.  DATA points into the chunk being fed (bytes
 * passed through, never copied) or into the filter's hold buffer (held
 * bytes from an earlier chunk, released); either way it is valid only
 * during the call.  CTX is the feed's.
 */
typedef void imap_capa_out_cb(void *ctx, const char *data, size_t len);

/*
 * The state, embedded in the session (192 bytes on LP64), never
 * malloced.  Fields marked READ-ONLY may be read; the rest are PRIVATE.
 */
struct imap_capa {
	/* PRIVATE: lifetime */
	const struct imap_capa_list *list;
	const char *add;		/* SP + atom to add, or NULL */
	size_t add_len;
	/* PRIVATE: reset at each line */
	unsigned state;
	uint32_t mask;			/* keywords or names matching */
	unsigned mlen;			/* their bytes matched so far */
	bool in_code;			/* the list ends at ']' */
	uint64_t literal_left;		/* body bytes still to jump */
	size_t hold_len;
	size_t tail_len;
	char hold[IMAP_CAPA_HOLD_MAX];	/* candidate from past chunks */
	char tail[IMAP_CAPA_TAIL_MAX];	/* unfinished segment's end */
	/* READ-ONLY: counters since init, only grow */
	uint64_t lists;			/* capability lists seen */
	uint64_t removed;		/* atoms removed from them */
	uint64_t added;			/* atoms added to them */
	uint64_t literals;		/* literal headers jumped */
};

/*
 * Make F ready for the start of a server stream, removing the names of
 * LIST, which must outlive F and not change while F is used.
 */
void imap_capa_init(struct imap_capa *f, const struct imap_capa_list *list);

/*
 * Add ADD (" STARTTLS": a SP and one atom, static, not copied) to every
 * capability list from the next one on; NULL stops adding.  May be
 * called between feeds; a list already begun is left as it is.  OUT
 * receives ADD itself as a span (outside the chunk and the hold buffer).
 */
void imap_capa_set_add(struct imap_capa *f, const char *add);

/*
 * Filter LEN bytes at DATA, the next bytes from the server: OUT gets,
 * in order, every byte to send to the client that is known by the end
 * of this call.  The bytes of a removal candidate still open at the end
 * of DATA are held back and come out of a later call (or
 * imap_capa_flush()).  The filter consumes everything and has no error
 * state: any input is relayed, edited only where the grammar above
 * says.  One call emits at most LEN + IMAP_CAPA_HOLD_MAX bytes, and over
 * the stream no more than went in (without an added atom; with one,
 * each list may grow by its length: a call emits at most
 * IMAP_CAPA_ADD_MAX more per LF it holds, plus one).  OUT must not call back into F.
 */
void imap_capa_feed(struct imap_capa *f, const char *data, size_t len,
    imap_capa_out_cb *out, void *ctx);

/*
 * The stream ends, or stops being filtered (the session goes blind and
 * relays directly): OUT gets the held bytes, unedited (an atom cut off
 * by the end is left alone).  F is then at the start of a line with no
 * literal pending, as after imap_capa_init(); its list and counters are
 * kept.
 */
void imap_capa_flush(struct imap_capa *f, imap_capa_out_cb *out, void *ctx);

#endif
