/*
 * pop3_infer.h - message store events from a POP3 session.
 *
 * It owns two pop3_parsers (client->server, server->client), pairs each
 * response with its command in order (POP3 has no tags: RFC 2449 6.6
 * answers pipelined commands in the order sent), tells the server parser
 * which "+OK" opens a multi-line body (LIST and UIDL without argument,
 * RETR, TOP, CAPA, AUTH without mechanism, LANG without argument), and
 * produces neutral events (msgevent.h), each only once the server said
 * +OK (or, for vnd.msgeventd.LoginFailure, -ERR to a login).  It knows
 * nothing of sockets or outputs.
 *
 * Events (parameters as in msgevent.h; every event also has user when
 * known, admin when it differs from user, clientIP, clientPort, service
 * "pop", serverFQDN, timestamp and vnd.msgeventd.session):
 *
 *   Login, Logout	at +OK to PASS (after USER), APOP or AUTH (RFC 1939
 *			7, RFC 5034; PLAIN and LOGIN read, the initial
 *			response included): serverDomain, serverPort, uri
 *			pop://USER@DOMAIN (RFC 2384); APOP and AUTH add
 *			vnd.msgeventd.mechanism ("APOP" or the SASL
 *			mechanism); vnd.msgeventd.tlsProtocol and
 *			vnd.msgeventd.tlsCipher after pop3_infer_set_tls().
 *			Logout at the server's answer to QUIT
 *			after a login, else at pop3_infer_end(): adds
 *			vnd.msgeventd.reason and vnd.msgeventd.duration
 *			(milliseconds since the Login)
 *   vnd.msgeventd.LoginFailure
 *			at -ERR to PASS, APOP or AUTH (not to an AUTH the
 *			client cancelled with "*"): the attempted user, uri,
 *			mechanism as for Login, vnd.msgeventd.responseCode
 *			(the RFC 2449 8 response code, such as AUTH or
 *			IN-USE, else "-ERR")
 *   MessageExpunge	at +OK to QUIT in the TRANSACTION state (RFC 1939
 *			6: the UPDATE state removes the messages), for the
 *			messages DELE marked (answered +OK) and RSET did not
 *			unmark since; none when the connection ends
 *			otherwise (the server removes nothing then) or QUIT
 *			gets -ERR.  vnd.msgeventd.uidl (the messages' UIDL
 *			unique-ids, space-separated, in message order),
 *			mailboxID imap://USER@DOMAIN/INBOX (the POP3 maildrop),
 *			with ;UIDVALIDITY= and uidset when the uidl_map hook
 *			turned the unique-ids into UIDs, uri (mailboxID, plus
 *			/;UID=n for one message).  One event per
 *			POP3_INFER_EXPUNGE_MSGS_MAX messages or
 *			POP3_INFER_EXPUNGE_UIDL_MAX bytes of unique-ids.
 *			Marked truncated when a removed message's UIDL was
 *			unknown (see pop3_infer_uidls_unknown()) or the hook
 *			did not map it: the values then hold what is known,
 *			never a guess.
 *
 * The registry.  With env.registry and env.backends, the expunge is told
 * to the registry the proxy's IMAP sessions share (imap_registry.h), so
 * that an IMAP session of the same user with INBOX selected does not
 * report the same removal again, as an external MessageExpunge.  The
 * POP3 maildrop is INBOX, keyed by each of env.backends (the backends
 * under which the IMAP sessions know this store), the user and "INBOX".
 * From the moment the client's QUIT line is read in the TRANSACTION
 * state with messages marked deleted (or a DELE pending), INBOX is held
 * in flight for removals (IMAP sessions that see EXPUNGEs wait), until
 * the server's answer, the end of the inference (blind, pop3_infer_end(),
 * pop3_infer_free()), whichever comes first.  Then, before the hold is
 * released, the messages marked deleted are recorded as removed by UID,
 * with the UIDVALIDITY the uidl_map hook read (those of the first
 * UIDVALIDITY met), and when some have no UID (no hook, a unique-id it
 * does not map or unknown, a DELE still unanswered), INBOX's removals go
 * blind (imap_registry_blind()): the IMAP sessions then report no
 * external expunge rather than a false one.  That is done on -ERR and
 * at the connection's end too: the server may have removed some of
 * those messages (RFC 1939 6), none but them, and only this session
 * can have.  A user unknown or cut takes no part.
 *
 * No MessageRead: POP has no notion of seen (RFC 5423 4.2).
 *
 * UIDLs, and the proxy's own commands.  An expunge names its messages by
 * their unique-ids, which the server tells only in answer to UIDL, and
 * only for messages not yet marked deleted (RFC 1939 7: UIDL "may NOT
 * refer to a message marked as deleted").  So pop3_infer learns them
 * from every UIDL answer the client gets (single and multi-line), and
 * when the client sends "DELE n" for a message whose unique-id it has
 * not seen, it sends "UIDL n" of its own to the server just before that
 * DELE and keeps the answer from the client.  That is why it sits in the
 * relay: with env.to_server and env.to_client set, the proxy feeds it
 * every byte it reads and writes on only what these callbacks give it:
 *
 *   - client bytes go to to_server at once, except the start of a
 *     command line that may still turn out to be "DELE n" while own
 *     commands are possible (logged in, or a login pending): those bytes
 *     (at most POP3_INFER_HOLD_MAX) are held in the struct until the line
 *     ends or shows it is something else.  A client that stops in the
 *     middle of "DELE" delays only its own incomplete line;
 *     pop3_infer_client_eof() passes held bytes on when it closes.
 *   - server bytes go to to_client at once, except each response to an
 *     own command, from its first byte to its LF.
 *
 * Own commands are pipelined with the client's (Dovecot, Courier, Cyrus
 * read pipelined input whether or not they announce RFC 2449
 * PIPELINING).  When the server refuses an own UIDL for a message it then
 * deletes, pop3_infer stops asking for the session.  Without to_server
 * and to_client (or with no_own_commands) nothing is held or kept back:
 * the proxy relays its reads itself, and messages whose unique-ids the
 * client never asked for are expunged without them (truncated).
 *
 * STLS of the proxy's own (env.stls_own).  When the proxy answers the
 * client's STLS itself (RFC 2595 4), the client must not be offered the
 * server's STLS, and should be offered the proxy's: in each CAPA
 * response (RFC 2449 5) the server's "STLS" line is taken out, and
 * while pop3_infer_offer_stls() says so and no login succeeded, an
 * "STLS" line goes in before the terminating ".".  Lines of a CAPA
 * listing that may still turn out to be "STLS" or "." are held at the
 * end of a feed (at most POP3_INFER_CAPA_HOLD_MAX bytes) until their
 * LF.  The proxy intercepts STLS itself: pop3_infer never sees it.
 *
 * Secrets: PASS arguments, APOP digests and AUTH responses are read only
 * to take the user names out of them (USER's argument, APOP's name,
 * PLAIN's authzid and authcid, LOGIN's first response); they are never
 * copied into an event, a log line or a retained buffer, and the scratch
 * that held them is wiped.
 *
 * Memory: the struct (about 7 KiB: both parsers, POP3_INFER_PENDING_MAX
 * pending commands of 8 bytes, POP3_INFER_LOGINS_MAX login records, the
 * held bytes) and the UIDL table, at most POP3_INFER_UIDL_BYTES_MAX,
 * allocated as UIDLs are learned and freed with the struct.  Nothing
 * else is allocated, but INBOX's entry in the registry (its memory).
 *
 * Includes libc and parser/ only.
 */
#ifndef POP3_INFER_H
#define POP3_INFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msgevent.h"
#include "pop3_parser.h"

struct imap_registry;

/*
 * Caps.  Reaching one never stops the relay; what is lost is said.
 */
/*
 * Commands sent and not yet answered.  One more ends the inference for
 * the session (pop3_infer_blind_reason()): without tags, a command not
 * tracked would pair every later response with the wrong command.
 */
#define POP3_INFER_PENDING_MAX	128
/* Bytes of a user name kept; longer: cut, events marked truncated. */
#define POP3_INFER_USER_MAX	256
/*
 * Logins (PASS, APOP, AUTH) outstanding at once with their user names
 * kept; a further one is reported without its user.
 */
#define POP3_INFER_LOGINS_MAX	4
/*
 * Bytes of the UIDL table: 12 bytes per message plus its unique-id
 * (Dovecot's are 16 bytes: about 4,600 messages).  Past it, unique-ids
 * of messages not being deleted are no longer learned (an own UIDL asks
 * for them at their DELE), and the ones learned make way for those of
 * messages being deleted.  Only more deleted messages than it holds lose
 * their unique-ids.
 */
#define POP3_INFER_UIDL_BYTES_MAX	(128 * 1024)
/* Bytes of a client line held while it may be "DELE n" ("DELE " + 10
   digits + CRLF is 17; more is not a DELE worth an own command). */
#define POP3_INFER_HOLD_MAX	64
/* Bytes of a CAPA line held while it may be "STLS" or "." ("STLS\r"). */
#define POP3_INFER_CAPA_HOLD_MAX	5
/* Messages and unique-id bytes of one MessageExpunge (see above). */
#define POP3_INFER_EXPUNGE_MSGS_MAX	64
#define POP3_INFER_EXPUNGE_UIDL_MAX	1024
/* Registry keys (env.backends) an expunge is told under; more: ignored. */
#define POP3_INFER_BACKENDS_MAX	4

struct pop3_infer;

/*
 * Called once for every event; EV is valid only during the call.  It
 * may call the accessors below, but must not feed, end or free the
 * pop3_infer that emitted it.
 */
typedef void pop3_infer_emit_cb(void *ctx, const struct msgevent *ev);

/*
 * LEN bytes (LEN > 0) to write on, in order, to the server (to_server)
 * or the client (to_client); DATA is valid only during the call.  Called
 * from pop3_infer_client_data(), pop3_infer_server_data() and
 * pop3_infer_client_eof() only, in either direction from either (the
 * held start of a client line may go out when a server response ends
 * the login).  It must not feed, end or free the pop3_infer; a write
 * failure is for the caller to note in CTX and act on after the call.
 */
typedef void pop3_infer_relay_cb(void *ctx, const char *data, size_t len);

/*
 * Turns a UIDL unique-id (LEN bytes, not NUL-terminated) into the IMAP
 * UID and UIDVALIDITY of its message, as a server that builds unique-ids
 * from them does (Dovecot's default %08Xu%08Xv); false when it does not
 * match.  The proxy implements it with the configured PCRE2 pattern
 * (INTERFACE.md pop3-uidl-pattern).
 */
typedef bool pop3_infer_uidl_map_cb(void *ctx, const char *uidl, size_t len,
    uint32_t *uid_r, uint32_t *uidvalidity_r);

struct pop3_infer_env {
	const char *client_ip;		/* textual, no brackets */
	uint16_t client_port;
	const char *server_domain;	/* the name the client reached:
					   serverDomain, URLs */
	uint16_t server_port;		/* the port the client reached */
	const char *server_fqdn;	/* serverFQDN */
	const char *service;		/* NULL: "pop" */
	uint64_t session_id;		/* vnd.msgeventd.session */
	size_t line_max;		/* 0: POP3_LINE_MAX_DEFAULT */
	/*
	 * What follows +OK to STLS (RFC 2595 4): false, a TLS handshake
	 * pop3_infer cannot read, so both directions go blind; true when
	 * the proxy terminates that TLS on both legs and feeds the
	 * plaintext, which is then parsed on (the state stays
	 * AUTHORIZATION).
	 */
	bool stls_plaintext;
	/* Never send own commands, even with the relay callbacks set. */
	bool no_own_commands;
	/*
	 * STLS is the proxy's (see above): the server's STLS capability is
	 * taken out of CAPA responses, the proxy's put in on demand.  Needs
	 * the relay callbacks.
	 */
	bool stls_own;
	pop3_infer_emit_cb *emit;
	/* Both or neither (see above); ctx is theirs too. */
	pop3_infer_relay_cb *to_server;
	pop3_infer_relay_cb *to_client;
	void *ctx;
	pop3_infer_uidl_map_cb *uidl_map;	/* NULL: no uidset */
	void *uidl_map_ctx;
	/*
	 * The registry (imap_registry.h) the proxy's IMAP sessions share,
	 * and the backend keys (imap_infer_env.backend) under which they
	 * know this session's store, NULL after the last (the strings are
	 * copied).  It must outlive the pop3_infer: its hold is released,
	 * and IMAP sessions waiting on it are called back, from this
	 * session's calls.  NULL or no key: the expunge is not told.
	 */
	struct imap_registry *registry;
	const char *backends[POP3_INFER_BACKENDS_MAX];
};

/* How a session ended, for Logout's vnd.msgeventd.reason. */
enum pop3_infer_end {
	POP3_INFER_END_GRACEFUL,	/* "graceful": an orderly close */
	POP3_INFER_END_ABORT,		/* "abort": a side closed or reset
					   the connection */
	POP3_INFER_END_TIMEOUT,		/* "timeout": idle limit, or the
					   server's inactivity -ERR */
	POP3_INFER_END_CLOSED,		/* "closed": the client ended its TLS
					   with close_notify, without QUIT */
};

/*
 * A new inference for one session; ENV's strings are copied (NULL reads
 * as "").  The server's greeting is expected as the first response.
 * Returns NULL with errno set when out of memory.
 */
struct pop3_infer *pop3_infer_new(const struct pop3_infer_env *env);

/*
 * Frees it (emitting nothing; a registry hold is settled as at
 * pop3_infer_end()); clears *infer.  NULL is a no-op.
 */
void pop3_infer_free(struct pop3_infer **infer);

/*
 * Bytes the client sent / the server sent, exactly as read.  Events
 * completed by these bytes are emitted, and the bytes to write on are
 * handed to the relay callbacks, before the call returns.  After a
 * parser error, or once the session went blind (pop3_infer_blind_
 * reason()), everything is relayed unchanged and nothing more is
 * inferred.  A server that fails the parse where the answer to an own
 * command was due has its bytes from the failing one on relayed to the
 * client, the same bytes whatever the split.
 */
void pop3_infer_client_data(struct pop3_infer *infer, const char *data,
    size_t len);
void pop3_infer_server_data(struct pop3_infer *infer, const char *data,
    size_t len);

/*
 * The client closed its side: pass on the start of a line still held
 * (no command will complete it), before closing the server's side.
 */
void pop3_infer_client_eof(struct pop3_infer *infer);

/*
 * The server closed its side: pass on the start of a CAPA line still
 * held (env.stls_own), before closing the client's side.
 */
void pop3_infer_server_eof(struct pop3_infer *infer);

/*
 * The connection is over.  Emits Logout (with REASON and the session's
 * duration) if a user had logged in and no Logout was emitted yet; no
 * MessageExpunge (RFC 1939 6: without QUIT nothing is removed).  A
 * QUIT still unanswered has its registry hold settled (see above).
 * POP3_INFER_END_ABORT after the server's unsolicited -ERR announcing an
 * inactivity timeout reads as POP3_INFER_END_TIMEOUT.  Call once; later
 * calls, and data calls, are ignored (held bytes are dropped).
 */
void pop3_infer_end(struct pop3_infer *infer, enum pop3_infer_end reason);

/*
 * True when either direction's parser failed; then *DIR_R and *ERROR_R
 * (either may be NULL) say which and why.  False once the session went
 * blind on purpose: the bytes that follow are not POP3.
 */
bool pop3_infer_error(const struct pop3_infer *infer,
    enum pop3_parser_dir *dir_r, enum pop3_parser_error *error_r);

/*
 * Why the inference stopped on purpose (a static string: STLS accepted,
 * too many pipelined commands), or NULL while it goes on.
 */
const char *pop3_infer_blind_reason(const struct pop3_infer *infer);

/*
 * The logged-in user (authorization identity), or NULL before a Login
 * or when the user is unknown.  Valid until the next call on INFER.
 */
const char *pop3_infer_user(const struct pop3_infer *infer);

/* True while a multi-line response is expected or being read. */
bool pop3_infer_in_body(const struct pop3_infer *infer);

/*
 * The client's side of the session is TLS (terminated by the proxy):
 * Login events from now on carry vnd.msgeventd.tlsProtocol and
 * vnd.msgeventd.tlsCipher with these names (copied, cut to 63 bytes;
 * NULL or "" leaves a parameter out).
 */
void pop3_infer_set_tls(struct pop3_infer *infer, const char *protocol,
    const char *cipher);

/*
 * env.stls_own: whether CAPA responses offer the proxy's STLS (before a
 * login succeeded; none after, whatever this says).  Off at first.
 */
void pop3_infer_offer_stls(struct pop3_infer *infer, bool offer);

/*
 * For the proxy's own STLS.  True when the client's next byte starts a
 * new command line: no line half read, no SASL exchange under way, the
 * client's direction parses, and the session is neither blind nor over.
 */
bool pop3_infer_client_at_command(const struct pop3_infer *infer);

/* True once a login succeeded (the TRANSACTION state, or past QUIT). */
bool pop3_infer_logged_in(const struct pop3_infer *infer);

/*
 * Responses still due: the greeting until it came, and the commands
 * sent and not yet answered (own ones included).
 */
unsigned pop3_infer_outstanding(const struct pop3_infer *infer);

/*
 * The messages marked deleted now (DELE answered +OK, no RSET since)
 * whose UIDL is unknown, ascending, at most MAX of them into MSGS_R;
 * returns how many there are.  RFC 1939 7 forbids asking for them now:
 * they exist only without own commands, after a server refused UIDL, or
 * past the caps.  Their expunge will be reported truncated.
 */
size_t pop3_infer_uidl_missing(const struct pop3_infer *infer,
    uint32_t *msgs_r, size_t max);

/*
 * Expunged messages reported without their UIDL, and own commands sent,
 * in total since pop3_infer_new().  Both only grow.
 */
uint64_t pop3_infer_uidls_unknown(const struct pop3_infer *infer);
uint64_t pop3_infer_own_commands(const struct pop3_infer *infer);

/* Bytes of memory INFER holds now: the struct and its UIDL table. */
size_t pop3_infer_memory(const struct pop3_infer *infer);

#endif
