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
 *			percent-encoded); Rename adds oldMailboxID.  Create
 *			leaves out one trailing hierarchy delimiter (RFC
 *			9051 6.3.4: "CREATE Foo." makes "Foo") once a LIST
 *			or LSUB response told the delimiter.  No Subscribe
 *			(UnSubscribe) for a mailbox the session knew to be
 *			subscribed (not subscribed) already: the server
 *			answers OK and changes nothing.  It knows from LSUB
 *			and LIST responses (\Subscribed, RFC 5258) and its
 *			own commands; another session's changes go unseen
 *			(see imap_infer.c, "the subscription list")
 *   MessageAppend	one per appended message (RFC 3502 MULTIAPPEND
 *			included): mailboxID (with ;UIDVALIDITY= when the
 *			server sent APPENDUID), uidset and uri
 *			mailboxID/;UID=n when the UID is known, messageSize,
 *			flagNames when flags were given (as
 *			imap_flags_format() writes them: each flag once,
 *			compared without regard to case, system flags first
 *			as RFC 9051 spells them, keywords as first spelt;
 *			never \Recent);
 *			and one per COPY, UID COPY, MOVE or UID MOVE (RFC
 *			6851), for all its messages: mailboxID of the
 *			destination (with ;UIDVALIDITY= from COPYUID), uidset
 *			(COPYUID's destination UIDs; a long one split, see
 *			below), uri (mailboxID, plus /;UID=n for a single
 *			message); none when nothing was
 *			copied (a UID set of no message: an OK without
 *			COPYUID from a server that announced UIDPLUS or
 *			IMAP4rev2, a MOVE that announced no removal)
 *   MessageExpunge	one per EXPUNGE, UID EXPUNGE, MOVE or UID MOVE of
 *			this session that removed messages, at its OK (for
 *			MOVE and UID MOVE also at a NO: the removals it
 *			announced happened, see imap_infer.c copy_done()):
 *			mailboxID of the selected mailbox with
 *			;UIDVALIDITY=, uri as for copies, uidset (the UIDs of
 *			the removals the server announced while it ran; for
 *			a UID command only those in its UID set; for a MOVE
 *			with COPYUID, COPYUID's source UIDs), messages (the
 *			count after), uidnext and modseq (HIGHESTMODSEQ, RFC
 *			7162) when the server told them.  The event is
 *			marked truncated when a removed message's UID was
 *			unknown (see imap_infer_uids_unknown()) or UIDs did
 *			not fit the caps (IMAP_INFER_UID_ITEMS_MAX, a
 *			COPYUID set longer than IMAP_TOKEN_MAX): uidset then
 *			holds the UIDs that are known, never a guess.  Removals by other
 *			sessions that a server announces during an EXPUNGE
 *			cannot be told from the EXPUNGE's own.  Also one
 *			per CLOSE (RFC 9051 6.4.1: a silent expunge) that
 *			removed messages the proxy knew to carry \Deleted:
 *			uidset those; marked truncated when some messages'
 *			flags or UIDs were unknown; no event when none was
 *			known to be \Deleted.  Messages removed while no
 *			such command runs (announced during NOOP, IDLE,
 *			FETCH, ...; the UIDs outside a UID EXPUNGE's set or a
 *			MOVE's COPYUID) are someone else's: see "external"
 *			below.
 *   MessageExpunge with vnd.msgeventd.cause="external"
 *			removals no proxied session made (a client connected
 *			to the server directly, the server's expiry: from
 *			the protocol the two cannot be told apart, so
 *			MessageExpire is never reported), decided when the
 *			run of EXPUNGE or VANISHED (not EARLIER) responses
 *			that told them ends and no EXPUNGE, UID EXPUNGE,
 *			CLOSE or MOVE of any proxied session is in flight in
 *			that mailbox, once across sessions (the registry,
 *			imap_registry.h): mailboxID with ;UIDVALIDITY=,
 *			uidset (the known UIDs; removals whose UID was
 *			unknown are counted, imap_infer_foreign_unknown()),
 *			uri, messages (the count after), uidnext and modseq
 *			when known.  No clientIP, clientPort, service (RFC
 *			5423 5: those of the client that did it, unknown);
 *			user is the session's, vnd.msgeventd.session the
 *			session that saw it
 *   MessageNew		messages that appeared in the selected mailbox
 *			(EXISTS growth) that no APPEND, COPY or MOVE of a
 *			proxied session put there (APPENDUID, COPYUID;
 *			typically mail delivered by the MTA): one per batch
 *			of them, once all their UIDs are known (a FETCH
 *			with UID, the client's or the proxy's own:
 *			imap_infer_new_unknown()) and no APPEND, COPY or
 *			MOVE of any proxied session into that mailbox is in
 *			flight; once across sessions.  uidset (UIDs),
 *			mailboxID with ;UIDVALIDITY=, uri, messages,
 *			uidnext and modseq when known; the parameters as for
 *			external expunges.  A message whose UID never became
 *			known is counted (imap_infer_foreign_unknown())
 *   MessageRead, MessageTrash, FlagsSet, FlagsClear
 *			(RFC 5423 4.2) at the OK of a STORE or UID STORE
 *			(RFC 9051 6.4.6; .SILENT and RFC 7162 UNCHANGEDSINCE
 *			too), one per distinct change, for all the messages
 *			that had it: \Seen set gives MessageRead, \Deleted
 *			set MessageTrash, other flags set FlagsSet, flags
 *			cleared FlagsClear (with IMAP_FLAGS_REPORT_FLAGS,
 *			\Seen and \Deleted are FlagsSet too); and at the OK
 *			of a FETCH or UID FETCH of BODY[...], BINARY[...],
 *			RFC822 or RFC822.TEXT (not .PEEK) in a read-write
 *			mailbox, MessageRead for the messages that gained
 *			\Seen (RFC 9051 6.4.5).  mailboxID of the selected
 *			mailbox with ;UIDVALIDITY=, uri as for expunges,
 *			uidset, flagNames (FlagsSet and FlagsClear only, RFC
 *			5423 5; never \Recent), modseq (the highest MODSEQ
 *			the server reported for the command's messages, RFC
 *			7162).  A change is computed from the message's flags
 *			before, as this session last learned them (FETCH
 *			FLAGS responses, of any command or unsolicited), and
 *			the flags the server reported while the command ran;
 *			after .SILENT, from the operation.  Without .SILENT a
 *			message the server reported nothing of did not
 *			change; a conditional STORE's [MODIFIED] messages did
 *			not change either.  A message whose
 *			flags before (or whose UID) the proxy did not know
 *			gives no event, never a guess: it is counted
 *			(imap_infer_flags_unknown()) and the command's events
 *			are marked truncated.  A STORE answered NO or BAD
 *			gives no event, even where the server reported
 *			changes before failing (see imap_infer.c).
 *   QuotaExceed	at a tagged NO to APPEND, COPY, UID COPY, MOVE or UID
 *			MOVE with the response code OVERQUOTA (RFC 9208, RFC
 *			5530) or a text containing "quota" (any case):
 *			mailboxID of the target mailbox (APPEND's, COPY's or
 *			MOVE's destination; no UIDVALIDITY), and, once the
 *			session has read a QUOTA response (RFC 9208, RFC
 *			2087; of any command), the last one's diskUsed and
 *			diskQuota (STORAGE, KiB), messages and maxMessages
 *			(MESSAGE)
 *   QuotaWithin	after a QuotaExceed, at the first QUOTA response with
 *			every resource's usage under its limit, once: its
 *			diskUsed, diskQuota, messages, maxMessages
 *   QuotaChange	at the OK of SETQUOTA (RFC 9208 4.1.3): diskQuota and
 *			maxMessages, the STORAGE and MESSAGE limits it set
 *			(the quota root is not reported)
 *
 * Every event with a uidset (MessageAppend of a COPY or MOVE,
 * MessageExpunge, external or not, MessageNew, the flag events) whose
 * UIDs do not fit one event's share (IMAP_INFER_EVENT_BYTES) is several:
 * the same type, parameters and timestamp, each with a disjoint part of
 * the UID set, cut between two of its elements, together every UID; a
 * part of one UID has the message's uri.  Parts are never marked
 * truncated for being parts.
 *
 * The selected mailbox is followed from SELECT/EXAMINE on (its name,
 * UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, the UIDs of its messages as far
 * as FETCH responses told them: imap_seqmap.h; PERMANENTFLAGS and the
 * flags of its messages by UID, likewise: imap_flags.h).
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
 * completes them.  The selected mailbox costs its name, its UID map
 * (at most about 24 KiB: IMAP_SEQMAP_RUNS_MAX) and its flag cache (at
 * most about 30 KiB: IMAP_FLAGS_ITEMS_MAX and the keyword table; the
 * flags of 20,000 messages alternating as scripts/bench.py's do take
 * about 16), a running expunge its UIDs (IMAP_INFER_UID_ITEMS_MAX: 32
 * KiB at most, 5 KiB for every other message of 20,000), a running
 * STORE or FETCH of bodies its changes (an imap_flags_batch,
 * IMAP_FLAGS_BATCH_ITEMS_MAX: at most about 34 KiB, its reported UIDs,
 * IMAP_INFER_UID_ITEMS_MAX, and for a conditional STORE
 * IMAP_INFER_COND_MAX held changes): transient, per command, bounded;
 * the tagged OK of a STORE or CLOSE takes up to INFER_MAP_TEXT_MAX
 * (about 56 KiB) for the moment it is handled.  What the session learned of the
 * subscription list takes IMAP_INFER_SUBS_BYTES once it learned any.
 * Changes made by others (MessageNew, external expunges) take a struct
 * infer_foreign (about 200 bytes) from the first one the session
 * meets, or the first command that holds a mailbox in a shared
 * registry, with the holds of its pending commands (16 bytes each) and
 * the UIDs of an undecided batch (IMAP_INFER_UID_ITEMS_MAX); without a
 * registry in the env, a registry of its own (imap_registry.h, its
 * mailboxes capped at 32).  Nothing else is allocated while nothing is
 * pending.  The caps below
 * bound all of it.
 *
 * Includes libc and parser/ only.
 */
#ifndef IMAP_INFER_H
#define IMAP_INFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap_ask.h"
#include "imap_flags.h"
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
 * Items (imap_uidset.h: a range of UIDs, or a bitmap of 64) one set of
 * UIDs being collected may hold: a running EXPUNGE's or MOVE's removals,
 * a STORE's reported UIDs, removals or new messages of others not yet
 * decided, a COPYUID set.  16 bytes each, 32 KiB of heap at most, held
 * only while the command runs (or the batch is undecided): any set of
 * UIDs within a span of 130,000 fits whatever its pattern (every other
 * message of 20,000: 313 items, 5 KiB), and a range is one item however
 * long.  Past it the UIDs that find no room are dropped (never a guess)
 * and the event is marked truncated.
 */
#define IMAP_INFER_UID_ITEMS_MAX	2048
/*
 * Long UID sets are split.  An event's uidset takes at most what leaves
 * the values of all its parameters together within
 * IMAP_INFER_EVENT_BYTES, but never less than IMAP_INFER_UIDSET_MIN: a
 * change whose UIDs take more is reported as several events of the same
 * type and parameters (and timestamp), each with a disjoint part of the
 * UID set, cut between two of its elements ("4:6,9" | "12:15"), which
 * together carry every UID; none is marked truncated for it.  uri names
 * a message (/;UID=n) in a part of one UID only.  768 bytes of values
 * keep every such event whole in an SNMPv3 authPriv notification of the
 * default snmp-max-size (1472 octets, a user name of up to 32; the
 * tighter of the two outputs) and in a syslog message of the default
 * syslog-max-size (2048): a flag event of user "alice" in INBOX gets
 * parts of about 500 bytes (some 80 scattered UIDs of five digits).
 * Longer names leave less room, down to the minimum; smaller configured
 * sizes, or very long names, leave the outputs' own truncation as the
 * last resort.
 */
#define IMAP_INFER_EVENT_BYTES	768
#define IMAP_INFER_UIDSET_MIN	128
/*
 * Changes a conditional STORE (RFC 7162 3.1.3: UNCHANGEDSINCE) keeps
 * from the FETCH responses that come before its OK, which alone says,
 * with [MODIFIED], which messages did not change (28 bytes each, 28 KiB
 * of heap at most).  Past it a message's change is counted as unknown
 * (imap_infer_flags_unknown()) and the events are marked truncated.
 */
#define IMAP_INFER_COND_MAX	1024

/*
 * Bytes of heap for what a session learned of the subscription list
 * (names known to be subscribed or not, 4 bytes each besides the name;
 * a name longer than a quarter of it is not kept).  When full, the
 * oldest are forgotten: their state is unknown again, and SUBSCRIBE or
 * UNSUBSCRIBE of them is reported as a change.
 */
#define IMAP_INFER_SUBS_BYTES	4096

struct imap_infer;
struct imap_registry;

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
	/*
	 * Which events flag changes are (imap_flags.h): the default,
	 * IMAP_FLAGS_REPORT_SIMPLE (0), gives MessageRead and
	 * MessageTrash for \Seen and \Deleted; IMAP_FLAGS_REPORT_FLAGS
	 * FlagsSet (the configuration's "flag-events").
	 */
	enum imap_flags_report flag_report;
	/*
	 * The registry (imap_registry.h) the proxy's sessions share, to
	 * tell the changes another session made from those nobody here
	 * made (MessageNew, external MessageExpunge).  It must outlive
	 * the imap_infer; the inference's callbacks from it run inside
	 * other sessions' calls.  NULL: the session keeps one of its
	 * own, as if it were the proxy's only session.
	 */
	struct imap_registry *registry;
	const char *backend;		/* its address: the registry's key */
	imap_infer_emit_cb *emit;
	void *ctx;
};

/* How a session ended, for Logout's vnd.msgeventd.reason. */
enum imap_infer_end {
	IMAP_INFER_END_GRACEFUL,	/* "graceful": LOGOUT, or an orderly close after BYE */
	IMAP_INFER_END_ABORT,		/* "abort": a side closed or reset the connection */
	IMAP_INFER_END_TIMEOUT,		/* "timeout": idle limit or the server's autologout */
	IMAP_INFER_END_CLOSED,		/* "closed": the client ended its TLS with
					   close_notify, without LOGOUT */
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
 * Messages whose flag change a STORE, UID STORE or FETCH of a body made
 * (answered OK) could not be reported, in total since imap_infer_new():
 * their flags before, or their UIDs, were unknown to the proxy (the
 * client never fetched them, or another session changed them unseen), or
 * no event could name the change (a keyword beyond
 * IMAP_FLAGS_KEYWORDS_MAX, a cap).  The command's events are marked
 * truncated; a later version may ask the server first.  Only grows.
 */
uint64_t imap_infer_flags_unknown(const struct imap_infer *infer);

/*
 * FETCH responses with FLAGS whose flags could not be remembered because
 * the message's UID was unknown (a "* n FETCH (FLAGS (...))" without UID,
 * for a message whose UID no earlier response told), since
 * imap_infer_new().  Only grows.
 */
uint64_t imap_infer_flags_unlearned(const struct imap_infer *infer);

/*
 * Bytes of memory INFER holds now: the struct and everything it
 * allocated (pending commands, their records, the selected mailbox's
 * name, UID map and flag cache, a running expunge's UIDs, a running
 * STORE's reported UIDs, held changes and batch of changes).
 */
size_t imap_infer_memory(const struct imap_infer *infer);

/*
 * The proxy's own questions (imap_ask.h).  True when the client's next
 * bytes start a command that the proxy may precede with one of its
 * own: a user is logged in, a mailbox with messages is selected and
 * counted, no command is outstanding, none is half read (nor IDLE, nor
 * AUTHENTICATE), both directions parse.
 */
bool imap_infer_may_ask(const struct imap_infer *infer);

/*
 * LINE (LEN bytes) is the client's next command's first line, up to and
 * including its LF, not yet fed nor sent.  If answering it truly needs
 * what the traffic has not told (imap_infer_may_ask() holding):
 *
 *	STORE, FETCH of a body (not in a read-only mailbox)
 *			the flags before, and the UIDs, of its messages
 *	EXPUNGE, UID EXPUNGE
 *			the UIDs of the mailbox's messages
 *	CLOSE		the flags and UIDs of the mailbox's messages
 *	any other command (and the above when they need
 *	nothing; not a FETCH of no body, nor a STORE, FETCH,
 *	EXPUNGE or CLOSE in a read-only mailbox: it may tell
 *	the UIDs itself, or gets no question)
 *			the UIDs of new messages, for their MessageNew
 *			(imap_infer_new_unknown())
 *
 * fills Q with a question (a FETCH with a tag of the proxy's own),
 * reads it as if the client had sent it, and returns its line's length:
 * the caller sends Q->line to the server, filters the server's bytes
 * through an imap_ask initialised with Q until it is done, then feeds
 * and sends LINE (and what followed it) as usual.  Returns 0 when
 * nothing needs asking (then Q is unchanged but for scratch).
 */
size_t imap_infer_ask(struct imap_infer *infer, const char *line, size_t len,
    struct imap_ask_query *q);

/* Questions asked, since imap_infer_new().  Only grows. */
uint64_t imap_infer_asked(const struct imap_infer *infer);

/*
 * New messages of the selected mailbox wait for their UIDs before their
 * MessageNew is decided: true, with the lowest and highest sequence
 * numbers of those whose UID is still unknown in *FIRST_R and *LAST_R
 * (some between may be known), when a "FETCH FIRST:LAST (UID)" would
 * help.  The proxy may ask it itself (imap_ask.h); the client's own
 * FETCH of UIDs does as well.
 */
bool imap_infer_new_unknown(const struct imap_infer *infer, uint32_t *first_r,
    uint32_t *last_r);

/*
 * Messages that came into or left the selected mailbox with no command
 * of this session explaining them, which could not be reported or
 * attributed: their UIDs stayed unknown, the mailbox was left (or the
 * session ended) while a command of some session that may have made
 * them was in flight, or the registry had no room.  Since
 * imap_infer_new().  Only grows.
 */
uint64_t imap_infer_foreign_unknown(const struct imap_infer *infer);

/*
 * The client's side of the session is TLS (terminated by the proxy):
 * Login events from now on carry vnd.msgeventd.tlsProtocol and
 * vnd.msgeventd.tlsCipher with these names (copied, cut to 63 bytes;
 * NULL or "" leaves a parameter out).
 */
void imap_infer_set_tls(struct imap_infer *infer, const char *protocol,
    const char *cipher);

/*
 * For the proxy's own STARTTLS (issue 5).  True when the client's next
 * byte starts a new command: no command half read, no literal, no
 * AUTHENTICATE exchange or IDLE under way, the client's direction
 * parses, and the session is not blind.
 */
bool imap_infer_client_at_command(const struct imap_infer *infer);

/* True once a Login was inferred (and no Logout yet). */
bool imap_infer_logged_in(const struct imap_infer *infer);

/* Commands sent and not yet completed by the server (tracked ones). */
unsigned imap_infer_outstanding(const struct imap_infer *infer);

/* True while a literal body is being relayed in that direction. */
bool imap_infer_in_literal(const struct imap_infer *infer,
    enum imap_parser_dir dir);

#endif
