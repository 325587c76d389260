/*
 * imap_ask.h - the proxy's own questions to the server, and hiding
 * their answers from the client.
 *
 * Where the traffic has not told a message's UID or flags, the proxy
 * asks the server itself (issue 3): between two client commands, with
 * no client command outstanding, it sends a FETCH of its own,
 *
 *	TAG FETCH set (UID FLAGS)	or	TAG UID FETCH set (UID FLAGS)
 *
 * and holds the client's next command until the tagged completion.  The
 * inference reads the answer like any other server data (it learns the
 * UIDs and flags), and the filter below takes out of the server stream
 * what the client did not ask for, so that the client cannot tell:
 *
 *	- the tagged completion of TAG (OK, NO or BAD alike);
 *	- each untagged FETCH response that answers the question: its items
 *	  are only UID, FLAGS and MODSEQ (RFC 7162 3.1.4 adds MODSEQ to
 *	  FETCH responses once CONDSTORE is enabled), it has a UID, and its
 *	  number (the sequence number, or the UID for a UID FETCH) is in the
 *	  asked set and higher than that of the last response taken out.
 *
 * Everything else passes unchanged, in order: EXISTS, EXPUNGE, RECENT,
 * status responses, and FETCH responses the server sends unsolicited.
 * RFC 9051 7.5.2 lets a server report another session's flag change at
 * any time, also while it answers a FETCH: a server sends its answer in
 * ascending order (RFC 9051 does not require it, every server we know
 * does), so a second FETCH response for a message already answered is
 * such news and reaches the client.  News merged into the answer itself
 * is taken out with it: the client learns those flags at its next FETCH
 * of FLAGS, as it would had it been slower.
 *
 * The filter decides per line: a line starting "* " NUMBER " FETCH " or
 * with TAG is held until its LF (at most IMAP_ASK_LINE_MAX bytes; a
 * longer one, or one ending in a literal, is not an answer and passes);
 * other lines pass as they arrive.  Once the tagged completion has gone
 * by, the filter is done and passes every byte after it.
 *
 * Memory: the struct (the set and the held line are inside it), on the
 * heap only while a question is open.  Includes libc only.
 */
#ifndef IMAP_ASK_H
#define IMAP_ASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of the asked set; a longer set is asked as a whole range. */
#define IMAP_ASK_SET_MAX	2048
/* Bytes of the proxy's tag. */
#define IMAP_ASK_TAG_MAX	24
/*
 * Bytes of one answer line held: "* 4294967295 FETCH (UID 4294967295
 * MODSEQ (18446744073709551615) FLAGS (...))" with the flags a message
 * can have (keywords included) fit comfortably; an answer line longer
 * than this (thousands of keywords) passes to the client unhidden.
 */
#define IMAP_ASK_LINE_MAX	8192
/* The whole question line: tag, command, set, items, CRLF. */
#define IMAP_ASK_QUERY_MAX	(IMAP_ASK_TAG_MAX + IMAP_ASK_SET_MAX + 48)

/* One question, as imap_infer_ask() makes it. */
struct imap_ask_query {
	char tag[IMAP_ASK_TAG_MAX + 1];
	size_t tag_len;
	bool uid;			/* UID FETCH: the set holds UIDs */
	char set[IMAP_ASK_SET_MAX + 1];
	size_t set_len;
	char line[IMAP_ASK_QUERY_MAX];	/* what to send, CRLF-terminated */
	size_t line_len;
};

/*
 * Receives the bytes for the client: LEN > 0 bytes at DATA, in order,
 * valid only during the call (a span of the chunk fed, or the held
 * line).
 */
typedef void imap_ask_out_cb(void *ctx, const char *data, size_t len);

/* The filter for one open question.  PRIVATE but for the counters. */
struct imap_ask {
	char tag[IMAP_ASK_TAG_MAX];
	size_t tag_len;
	bool uid;
	char set[IMAP_ASK_SET_MAX];
	size_t set_len;
	bool done;			/* the tagged completion went by */
	bool any_taken;
	uint32_t last;			/* number of the last answer taken */
	unsigned state;			/* where in the line */
	uint64_t literal_left;		/* a passing literal's bytes */
	size_t lit_digits;		/* a passing line's tail: "{" digits */
	uint64_t lit_value;
	unsigned lit_state;
	size_t hold_len;
	char hold[IMAP_ASK_LINE_MAX];
	/* READ-ONLY: counters */
	uint64_t taken;			/* answer lines taken out */
	uint64_t passed;		/* lines passed while open */
	int status;			/* 1 OK, 0 NO/BAD, -1 not yet */
};

/* Ready F for the server's bytes that follow the question Q. */
void imap_ask_init(struct imap_ask *f, const struct imap_ask_query *q);

/*
 * Filter LEN bytes at DATA, the server's next: OUT gets, in order, the
 * bytes for the client known by the end of the call.  Bytes after the
 * question's tagged completion pass unchanged (imap_ask_done() is true
 * from then on).  One call emits at most LEN + IMAP_ASK_LINE_MAX bytes.
 */
void imap_ask_feed(struct imap_ask *f, const char *data, size_t len,
    imap_ask_out_cb *out, void *ctx);

/* The tagged completion went by: nothing is held any more. */
bool imap_ask_done(const struct imap_ask *f);

/*
 * The stream ends while the question is open: OUT gets the held bytes
 * unchanged.
 */
void imap_ask_flush(struct imap_ask *f, imap_ask_out_cb *out, void *ctx);

#endif
