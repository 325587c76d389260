/*
 * imap_infer.h - what happened in the store, inferred from one IMAP
 * session's two byte streams.
 *
 * It owns two imap_parsers (client->server, server->client), matches
 * each command to its tagged completion, and produces neutral events
 * (msgevent.h), each only once the server has said OK (or, for
 * vnd.msgeventd.LoginFailure, NO/BAD to a LOGIN/AUTHENTICATE).  It
 * knows nothing of sockets or outputs: the proxy feeds it the bytes it
 * relays, in the order it reads them, and it hands events to a
 * callback.
 *
 * Events inferred (parameters as in msgevent.h; every event also has
 * user when known, admin when it differs from user, clientIP,
 * clientPort, service, serverFQDN, timestamp and vnd.msgeventd.session):
 *
 *   Login, Logout	serverDomain, serverPort, uri imap://USER@DOMAIN/;
 *			AUTHENTICATE adds vnd.msgeventd.mechanism; Logout
 *			adds vnd.msgeventd.reason and vnd.msgeventd.duration
 *			(milliseconds since the Login)
 *   vnd.msgeventd.LoginFailure
 *			the attempted user, uri, vnd.msgeventd.responseCode
 *			(the response code atom, else "NO" or "BAD")
 *   Mailbox{Create,Delete,Rename,Subscribe,UnSubscribe}
 *			mailboxID = uri = imap://USER@DOMAIN/MAILBOX (RFC
 *			5092; the name converted from modified UTF-7 and
 *			percent-encoded); Rename adds oldMailboxID
 *   MessageAppend	one per appended message (RFC 3502 MULTIAPPEND
 *			included): mailboxID (with ;UIDVALIDITY= when the
 *			server sent APPENDUID), uidset and uri
 *			mailboxID/;UID=n when the UID is known, messageSize,
 *			flagNames (without \Recent) when flags were given;
 *			and one per COPY, UID COPY, MOVE or UID MOVE (RFC
 *			6851), for all its messages: mailboxID of the
 *			destination (with ;UIDVALIDITY= from COPYUID), uidset
 *			(COPYUID's destination UIDs), uri (mailboxID, plus
 *			/;UID=n for a single message)
 *   MessageExpunge	one per EXPUNGE, UID EXPUNGE, MOVE or UID MOVE of
 *			this session that removed messages, at its OK:
 *			mailboxID of the selected mailbox with
 *			;UIDVALIDITY=, uri as for copies, uidset (the UIDs of
 *			the removals the server announced while it ran; for
 *			a UID command only those in its UID set; for a MOVE
 *			with COPYUID, COPYUID's source UIDs), messages (the
 *			count after), uidnext and modseq (HIGHESTMODSEQ, RFC
 *			7162) when the server told them.  The event is
 *			marked truncated when a removed message's UID was
 *			unknown (see imap_infer_uids_unknown()) or a set was
 *			longer than the caps: uidset then holds the UIDs
 *			that are known, never a guess.  Removals by other
 *			sessions that a server announces during an EXPUNGE
 *			cannot be told from the EXPUNGE's own.  CLOSE's
 *			silent expunge (RFC 9051 6.4.1) is reported only
 *			once the proxy knows which messages had \Deleted
 *			(not yet).  Messages removed while no such command
 *			runs (announced during NOOP, IDLE, FETCH, ...) give
 *			no event in this session.
 *
 * The selected mailbox is followed from SELECT/EXAMINE on (its name,
 * UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, and the UIDs of its messages as
 * far as FETCH responses told them: imap_seqmap.h).
 *
 * A user unknown to the proxy (PREAUTH, an unknown SASL mechanism)
 * leaves user out of events and "USER@" out of URLs.
 *
 * Secrets: LOGIN passwords and AUTHENTICATE responses are read only to
 * take the user names out of them; they are never copied into an event,
 * a log line or a retained buffer.
 *
 * Memory: the struct holds both parsers and IMAP_INFER_INLINE_CMDS
 * pending commands.  More outstanding commands get a heap slot each,
 * and commands with events a heap record for their arguments, sized to
 * what they carry (names, messages, flags) and freed when the server
 * completes them.  The selected mailbox costs its name and its UID map
 * (at most about 24 KiB: IMAP_SEQMAP_RUNS_MAX), a running expunge its
 * UIDs (IMAP_INFER_UID_RANGES_MAX).  Nothing else is allocated while
 * nothing is pending.  The caps below bound all of it.
 *
 * Includes libc and parser/ only.
 */
#ifndef IMAP_INFER_H
#define IMAP_INFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap_parser.h"
#include "msgevent.h"

/*
 * Caps.  Reaching one never stops the relay or the parsing; what is
 * lost is counted by imap_infer_untracked() or marks events truncated.
 */
/* Pending commands kept inside the struct; more are malloced one each. */
#define IMAP_INFER_INLINE_CMDS	4
/* Outstanding commands tracked; later ones are counted, not tracked. */
#define IMAP_INFER_PENDING_MAX	128
/*
 * Bytes of heap (a small header plus the names, messages and flags
 * kept) that all outstanding commands' event records of one session may
 * hold.  A command whose record would go over it, when it starts or as
 * its arguments arrive, is counted, not tracked.  A record holds at most
 * about 4.1 KiB (the caps below), a typical APPEND under 200 bytes.
 */
#define IMAP_INFER_RECORD_BYTES_MAX	(256 * 1024)
/* Bytes of a tag; a command with a longer tag is counted, not tracked. */
#define IMAP_INFER_TAG_MAX	32
/* Bytes of a user name kept; longer: cut, events marked truncated. */
#define IMAP_INFER_USER_MAX	256
/* Bytes of a mailbox name kept; longer: cut, events marked truncated. */
#define IMAP_INFER_MAILBOX_MAX	1024
/* Messages of one APPEND with events; more are counted, not tracked. */
#define IMAP_INFER_APPEND_MAX	32
/* Bytes of flag names of one APPEND; more: cut, events marked truncated. */
#define IMAP_INFER_FLAGS_MAX	512
/*
 * UID ranges one command's MessageExpunge collects (8 bytes each, 8 KiB
 * of heap at most, held only while the command runs).  Past it the
 * highest ranges are dropped and the event is marked truncated; the
 * event's own space (MSGEVENT_VALUE_SPACE) holds fewer anyway.
 */
#define IMAP_INFER_UID_RANGES_MAX	1024

struct imap_infer;

/*
 * Called once for every event; EV is valid only during the call.  It
 * may call the accessors below (imap_infer_user() already names the
 * user of a Login being emitted), but must not feed, end or free the
 * imap_infer that emitted it.
 */
typedef void imap_infer_emit_cb(void *ctx, const struct msgevent *ev);

struct imap_infer_env {
	const char *client_ip;		/* textual, no brackets */
	uint16_t client_port;
	const char *server_domain;	/* the name the client reached: serverDomain, URIs */
	uint16_t server_port;		/* the port the client reached */
	const char *server_fqdn;	/* serverFQDN */
	const char *service;		/* "imap" */
	uint64_t session_id;		/* vnd.msgeventd.session */
	size_t line_max;		/* 0: IMAP_LINE_MAX_DEFAULT */
	imap_infer_emit_cb *emit;
	void *ctx;
};

/* How a session ended, for Logout's vnd.msgeventd.reason. */
enum imap_infer_end {
	IMAP_INFER_END_GRACEFUL,	/* "graceful": LOGOUT, or an orderly close after BYE */
	IMAP_INFER_END_ABORT,		/* "abort": a side closed or reset the connection */
	IMAP_INFER_END_TIMEOUT,		/* "timeout": idle limit or the server's autologout */
};

/*
 * A new inference for one session; ENV's strings are copied (NULL reads
 * as "").  Returns NULL with errno set when out of memory.
 */
struct imap_infer *imap_infer_new(const struct imap_infer_env *env);

/* Frees it (emitting nothing); clears *infer.  NULL is a no-op. */
void imap_infer_free(struct imap_infer **infer);

/*
 * Bytes the client sent / the server sent, exactly as relayed.  Events
 * completed by these bytes are emitted before the call returns.  After
 * a parser error the direction goes blind (see imap_infer_error()):
 * later bytes are ignored and no further commands are inferred from it
 * (commands read whole before the error still complete).  After the
 * server accepted STARTTLS or COMPRESS both directions go blind (see
 * imap_infer_blind_reason()).
 */
void imap_infer_client_data(struct imap_infer *infer, const char *data,
    size_t len);
void imap_infer_server_data(struct imap_infer *infer, const char *data,
    size_t len);

/*
 * The connection is over.  Emits Logout (with REASON and the session's
 * duration) if a user had logged in and no Logout was emitted yet.
 * IMAP_INFER_END_ABORT after the server's "* BYE" announcing an
 * autologout (text with "autologout", "idle" or "inactivity") reads
 * as IMAP_INFER_END_TIMEOUT.  Call once; later data calls are ignored.
 */
void imap_infer_end(struct imap_infer *infer, enum imap_infer_end reason);

/*
 * True when either direction's parser failed; then *DIR_R and *ERROR_R
 * (either may be NULL) say which and why.  False once the session went
 * blind on purpose (imap_infer_blind_reason()): the bytes that follow
 * are not IMAP.
 */
bool imap_infer_error(const struct imap_infer *infer,
    enum imap_parser_dir *dir_r, enum imap_parser_error *error_r);

/*
 * Why both directions stopped being parsed on purpose (a static string,
 * e.g. after STARTTLS), or NULL while they are parsed.
 */
const char *imap_infer_blind_reason(const struct imap_infer *infer);

/*
 * Commands (and appended messages) whose events were lost to the caps
 * above, in total since imap_infer_new().  It only grows.
 */
uint64_t imap_infer_untracked(const struct imap_infer *infer);

/*
 * The logged-in user (authorization identity), or NULL before a Login
 * or when the user is unknown.  Valid until the next call on INFER.
 */
const char *imap_infer_user(const struct imap_infer *infer);

/*
 * Messages that EXPUNGE, UID EXPUNGE or MOVE of this session removed
 * whose UIDs the proxy did not know (the client never fetched them), in
 * total since imap_infer_new().  Their MessageExpunge events are marked
 * truncated and carry the UIDs that were known.
 */
uint64_t imap_infer_uids_unknown(const struct imap_infer *infer);

/*
 * Bytes of memory INFER holds now: the struct and everything it
 * allocated (pending commands, their records, the selected mailbox's
 * name and UID map, a running expunge's UIDs).
 */
size_t imap_infer_memory(const struct imap_infer *infer);

/* True while a literal body is being relayed in that direction. */
bool imap_infer_in_literal(const struct imap_infer *infer,
    enum imap_parser_dir dir);

#endif
