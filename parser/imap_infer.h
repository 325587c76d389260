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
 * Secrets: LOGIN passwords and AUTHENTICATE responses are read only to
 * take the user names out of them; they are never copied into an event,
 * a log line or a retained buffer.
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

struct imap_infer;

/* Called once for every event; EV is valid only during the call. */
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
 * A new inference for one session; ENV's strings are copied.  Returns
 * NULL with errno set when out of memory.
 */
struct imap_infer *imap_infer_new(const struct imap_infer_env *env);

/* Frees it (emitting nothing); clears *infer.  NULL is a no-op. */
void imap_infer_free(struct imap_infer **infer);

/*
 * Bytes the client sent / the server sent, exactly as relayed.  Events
 * completed by these bytes are emitted before the call returns.  After
 * a parser error the direction goes blind (see imap_infer_error()):
 * later bytes are ignored and no further events are inferred.
 */
void imap_infer_client_data(struct imap_infer *infer, const char *data,
    size_t len);
void imap_infer_server_data(struct imap_infer *infer, const char *data,
    size_t len);

/*
 * The connection is over.  Emits Logout (with REASON and the session's
 * duration) if a user had logged in and no Logout was emitted yet.
 * Call once; later data calls are ignored.
 */
void imap_infer_end(struct imap_infer *infer, enum imap_infer_end reason);

/*
 * True when either direction's parser failed; then *DIR_R and *ERROR_R
 * (either may be NULL) say which and why.
 */
bool imap_infer_error(const struct imap_infer *infer,
    enum imap_parser_dir *dir_r, enum imap_parser_error *error_r);

/* The logged-in user (authorization identity), or NULL. */
const char *imap_infer_user(const struct imap_infer *infer);

/* True while a literal body is being relayed in that direction. */
bool imap_infer_in_literal(const struct imap_infer *infer,
    enum imap_parser_dir dir);

#endif
