/*
 * session.c - listeners and client-backend session pairs.
 *
 * Each direction of a session is a "pipe": bytes read from SRC are fed
 * to the inference and written to DST.  What DST does not take at once
 * is kept in the pipe's pending buffer (allocated only then, freed when
 * drained) and SRC is not read again until DST has taken it all.  That
 * is the whole of the backpressure: at most SESSION_PENDING_MAX bytes
 * wait per direction, whatever the peers do.
 *
 * End of a session: an EOF from one side is passed on as a half-close
 * (shutdown SHUT_WR) once that direction's pending bytes are out; the
 * session ends when both directions are done, on an error, on the idle
 * timeout, or when the proxy ends it (a line over the limit, shutdown).
 *
 * TLS (tls.h): either side may be a TLS connection of the proxy's own.
 * Reads and writes then go through it, and what each waits for on the
 * socket (a TLS read may need it writable, a write readable) decides
 * what the fd is watched for; bytes OpenSSL already holds are read on
 * without waiting for the socket (session_kick()).  A session starts
 * in SESSION_CONNECTING until both sides are ready: the client's
 * handshake done (listen imaps), the backend connected and, with
 * backend-tls or backend-starttls, its TLS up (its greeting read and
 * kept, our STARTTLS answered OK, then the handshake).  On listen imap
 * with a certificate, msgeventd answers the client's STARTTLS itself:
 * before login every client command is read line by line (the hold
 * buffer) so that a STARTTLS is seen at a command's start, answered,
 * not sent on, and what the client pipelined behind it is discarded.
 *
 * POP3 (listen pop3, pop3s) runs through the same pipes, timeouts, TLS
 * and closing; only the inference differs (the infer_*() switch below):
 * pop3_infer relays the bytes itself, through session_pop3_up() and
 * session_pop3_down(), because it puts UIDL commands of its own before
 * a client's DELE and keeps their answers from the client
 * (parser/pop3_infer.h).  STLS is msgeventd's as STARTTLS is, and
 * pop3_infer offers it in CAPA listings.
 */
#include "session.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../outputs/out.h"
#include "../parser/imap_ask.h"
#include "../parser/imap_capa.h"
#include "../parser/imap_infer.h"
#include "../parser/imap_registry.h"
#include "../parser/pop3_infer.h"
#include "config.h"
#include "diag.h"
#include "loop.h"
#include "tls.h"
#include "uidl_map.h"

/*
 * POP3: what pop3_infer may add to one read's bytes: the start of a line
 * it held from the read before (a client line that may be "DELE n", a
 * CAPA line that may be "STLS"), and its own "UIDL n\r\n" commands (17
 * bytes at most), one per pending command at most.  Its STLS lines in
 * CAPA listings are paid for by reading half as much while it adds them,
 * as for the capability filter (session_read()).
 */
#define SESSION_POP3_EXTRA	(POP3_INFER_HOLD_MAX + \
			POP3_INFER_CAPA_HOLD_MAX + POP3_INFER_PENDING_MAX * 17)

/*
 * A pipe's pending buffer: one read, plus what the capability filter may
 * have held back from the read before (IMAP_CAPA_HOLD_MAX), plus room
 * for a last line of the proxy's own; for POP3, SESSION_POP3_EXTRA.
 */
#define PIPE_BUF_SIZE	(SESSION_PENDING_MAX + IMAP_CAPA_HOLD_MAX + \
			IMAP_ASK_LINE_MAX + IMAP_ASK_QUERY_MAX + 512 + \
			SESSION_POP3_EXTRA)

/*
 * The proxy's own questions (parser/imap_ask.h): the client's command
 * is held until its first line is read whole, at most this long (a
 * longer first line is sent on unasked), plus one read's bytes after it.
 */
#define SESSION_HOLD_LINE_MAX	4096
#define SESSION_HOLD_SIZE	(SESSION_HOLD_LINE_MAX + SESSION_PENDING_MAX)
/* Questions before one client command, at most. */
#define SESSION_ASKS_MAX	2

/* A session's repeated warnings are logged at most this often. */
#define SESSION_WARN_INTERVAL_MS	10000

/* A session being closed gets this long to flush its last bytes (BYE). */
#define SESSION_LINGER_MS	5000

/*
 * backend-starttls: the backend's greeting and the lines of its reply
 * to our STARTTLS, at most this long (a longer greeting fails the
 * session: the backend is not what the configuration says).
 */
#define SESSION_GREETING_MAX	4096

/*
 * A client's STARTTLS tag kept while its answer waits, NUL included.  A
 * STARTTLS with a longer tag is not the proxy's: it goes to the backend,
 * which refuses it (its STARTTLS is never offered) or, accepting it,
 * blinds the inference for that session (logged).
 */
#define SESSION_TAG_MAX		64

/* Our own tag for STARTTLS towards a backend-starttls backend. */
#define SESSION_STARTTLS_CMD	"msgeventd0 STARTTLS\r\n"
#define SESSION_STARTTLS_TAG	"msgeventd0 "
/* ... and POP3's STLS (RFC 2595 4), which has no tag. */
#define SESSION_STLS_CMD	"STLS\r\n"

struct listener {
	struct listener *next;
	struct session_set *set;
	int fd;
	enum config_service service;
	struct config_addr listen;
	struct config_addr backend;
	bool backend_tls;
	bool backend_starttls;
	char backend_name[CONFIG_NAME_MAX];
	bool seen;			/* still configured (reload bookkeeping) */
};

struct pipe {
	int src, dst;			/* fds, owned by the session */
	struct tls_conn **src_tls;	/* the session's TLS of SRC / DST, */
	struct tls_conn **dst_tls;	/* NULL inside while plain */
	char *pending;			/* NULL unless DST lagged */
	size_t pending_len;
	size_t pending_off;
	bool eof;			/* SRC said EOF (or the proxy stopped reading it) */
	bool eof_clean;			/* plain FIN, or TLS close_notify */
	bool done;			/* EOF passed on to DST */
};

enum session_state {
	SESSION_CONNECTING,		/* setting up both sides (see bstate) */
	SESSION_RELAYING,
	SESSION_CLOSING,		/* flushing the last bytes to the client */
	SESSION_LINGERING,		/* FIN sent; discarding what the client still sends */
};

/* The backend side while SESSION_CONNECTING. */
enum session_bstate {
	BACKEND_CONNECTING,		/* TCP connect under way */
	BACKEND_WAIT,			/* connected; TLS waits for the client's
					   handshake (its SNI may be passed on) */
	BACKEND_GREETING,		/* backend-starttls: reading the greeting */
	BACKEND_STARTTLS,		/* ... the reply to our STARTTLS */
	BACKEND_HANDSHAKE,		/* TLS handshake with the backend */
	BACKEND_READY,
};

/* The client's STARTTLS, answered by msgeventd. */
enum session_starttls {
	STARTTLS_NONE,
	STARTTLS_WAIT,			/* answer after the outstanding commands */
	STARTTLS_FLUSH,			/* OK being written, then the handshake */
};

struct session {
	struct session *prev, *next;
	struct session_set *set;
	uint64_t id;
	enum session_state state;
	int cfd, bfd;
	struct pipe up;			/* client -> backend */
	struct pipe down;		/* backend -> client */
	bool is_pop3;			/* listen pop3, pop3s */
	struct imap_infer *infer;	/* IMAP */
	struct pop3_infer *pop3;	/* POP3: instead of infer */
	struct uidl_map *uidl_map;	/* POP3: pop3-uidl-pattern (a ref) */
	bool up_failed;		/* POP3: a write to the backend failed */
	int write_errno;		/* POP3: why a write failed */
	/* TLS: the client's and the backend's, NULL while plain */
	struct tls_conn *ctls, *btls;
	struct tls_ctx *tls_srv;	/* for STARTTLS (listen imap + tls-cert) */
	struct tls_ctx *tls_cli;	/* backend-tls, backend-starttls */
	enum session_bstate bstate;
	bool backend_tls, backend_starttls;
	const char *alpn;		/* "imap", "pop3" */
	char *greet;			/* backend-starttls: greeting, reply lines */
	size_t greet_len;
	size_t greet_keep;		/* the greeting's bytes, kept for the client */
	enum session_starttls starttls;
	bool starttls_ok;		/* OK (else BAD with starttls_why) */
	const char *starttls_why;
	char starttls_tag[SESSION_TAG_MAX];
	struct loop_timer *kick;	/* read what OpenSSL holds */
	struct imap_capa capa;		/* server -> client capability filter */
	bool capa_off;			/* stopped: the stream is no longer IMAP */
	bool capa_adding;		/* the filter adds STARTTLS (POP3:
					   pop3_infer adds STLS) */
	bool write_failed;		/* a filtered span could not be written */
	/*
	 * A question of the proxy's own is open (its answers are taken
	 * out of the server's stream by ASK) or about to be: HOLD keeps
	 * the client's bytes from the start of its next command on.
	 */
	struct imap_ask *ask;
	char *hold;
	size_t hold_len;
	unsigned asks;			/* questions before the held command */
	size_t infer_peak;		/* imap_infer_memory(), highest seen */
	size_t buf_peak;		/* relay, hold and question buffers */
	struct loop_timer *timer;
	uint64_t last_ms;		/* last byte either way */
	uint64_t start_ms;
	enum imap_infer_end end_reason;
	bool blind_logged;
	uint64_t untracked_logged;	/* commands not tracked, as logged */
	uint64_t untracked_log_ms;	/* when that was last logged */
	uint64_t foreign_logged;	/* others' changes not reported, logged */
	uint64_t foreign_log_ms;	/* when that was last logged */
	char client_ip[INET6_ADDRSTRLEN];
	uint16_t client_port;
	uint16_t server_port;
	char backend_text[CONFIG_NAME_MAX];
	char backend_name[CONFIG_NAME_MAX];
	struct sockaddr_storage backend_sa;
	socklen_t backend_salen;
};

struct session_set {
	struct loop *loop;
	struct out *out;
	struct listener *listeners;
	struct session *sessions;
	size_t count;
	/* What clients must not be offered: see session_set_new(). */
	struct imap_capa_list capa_hide;
	/* TLS contexts for new sessions (NULL: not configured) */
	struct tls_ctx *tls_srv;
	struct tls_ctx *tls_cli;
	uint64_t next_id;
	/* settings for new sessions, from the configuration */
	char server_name[CONFIG_NAME_MAX];
	size_t line_max;
	unsigned idle_timeout_ms;
	unsigned connect_timeout_ms;
	unsigned max_sessions;
	enum config_flag_events flag_events;
	bool backend_queries;		/* may ask the backend itself */
	struct imap_registry *registry;	/* its sessions share (imap_infer_env) */
	struct uidl_map *uidl_map;	/* pop3-uidl-pattern, a reference */
};

/*
 * The one read buffer of the process: bytes are parsed and written on
 * from here, so an idle or keeping-up session needs no buffer of its own.
 */
static char relay_buf[SESSION_PENDING_MAX];

static void session_io(struct loop *, int, unsigned, void *);
static void session_timer(struct loop *, void *);
static void session_kick(struct loop *, void *);
static void session_free(struct session *);
static void session_down_out(void *, const char *, size_t);
static bool session_setup(struct session *);

/*
 * The inference of the session's protocol: the only place, with
 * session_client_in() and session_server_in(), where IMAP and POP3
 * differ in how bytes are read.  Safe before the inference exists and
 * after it is freed (no user, nothing under way).
 */
static const char *
infer_user(const struct session *s)
{
	if (s->pop3 != NULL)
		return pop3_infer_user(s->pop3);
	return s->infer != NULL ? imap_infer_user(s->infer) : NULL;
}

static bool
infer_logged_in(const struct session *s)
{
	if (s->pop3 != NULL)
		return pop3_infer_logged_in(s->pop3);
	return s->infer != NULL && imap_infer_logged_in(s->infer);
}

static const char *
infer_blind_reason(const struct session *s)
{
	if (s->pop3 != NULL)
		return pop3_infer_blind_reason(s->pop3);
	return s->infer != NULL ? imap_infer_blind_reason(s->infer) : NULL;
}

/* A parser failed: which side's (CLIENT_R), and is it a line too long. */
static bool
infer_error(const struct session *s, bool *client_r, bool *too_long_r,
    const char **name_r)
{
	enum imap_parser_dir idir;
	enum imap_parser_error ierr;
	enum pop3_parser_dir pdir;
	enum pop3_parser_error perr;

	if (s->pop3 != NULL) {
		if (!pop3_infer_error(s->pop3, &pdir, &perr))
			return false;
		if (client_r != NULL)
			*client_r = pdir == POP3_PARSER_CLIENT;
		if (too_long_r != NULL)
			*too_long_r = perr == POP3_PERR_LINE_TOO_LONG;
		if (name_r != NULL)
			*name_r = pop3_parser_error_name(perr);
		return true;
	}
	if (s->infer == NULL || !imap_infer_error(s->infer, &idir, &ierr))
		return false;
	if (client_r != NULL)
		*client_r = idir == IMAP_PARSER_CLIENT;
	if (too_long_r != NULL)
		*too_long_r = ierr == IMAP_PERR_LINE_TOO_LONG;
	if (name_r != NULL)
		*name_r = imap_parser_error_name(ierr);
	return true;
}

static bool
infer_at_command(const struct session *s)
{
	if (s->pop3 != NULL)
		return pop3_infer_client_at_command(s->pop3);
	return s->infer != NULL && imap_infer_client_at_command(s->infer);
}

static unsigned
infer_outstanding(const struct session *s)
{
	if (s->pop3 != NULL)
		return pop3_infer_outstanding(s->pop3);
	return s->infer != NULL ? imap_infer_outstanding(s->infer) : 0;
}

/* A literal (IMAP) or a multi-line response (POP3) is under way. */
static bool
infer_in_body(const struct session *s, bool client)
{
	if (s->pop3 != NULL)
		return !client && pop3_infer_in_body(s->pop3);
	return s->infer != NULL && imap_infer_in_literal(s->infer, client ?
	    IMAP_PARSER_CLIENT : IMAP_PARSER_SERVER);
}

/* STARTTLS in IMAP, STLS in POP3: for messages. */
static const char *
stls_name(const struct session *s)
{
	return s->is_pop3 ? "STLS" : "STARTTLS";
}

/*
 * The proxy's own last line to a client, CRLF-terminated, into LINE:
 * IMAP "* BYE [IMAP_CODE] msgeventd: TEXT", POP3 "-ERR [POP_CODE]
 * msgeventd: TEXT" (an RFC 2449 8 code; none when POP_CODE is NULL).
 */
static void
farewell(char *line, size_t size, bool pop3, const char *imap_code,
    const char *pop_code, const char *text)
{
	if (!pop3)
		snprintf(line, size, "* BYE [%s] msgeventd: %s\r\n", imap_code,
		    text);
	else if (pop_code != NULL)
		snprintf(line, size, "-ERR [%s] msgeventd: %s\r\n", pop_code,
		    text);
	else
		snprintf(line, size, "-ERR msgeventd: %s\r\n", text);
}

static bool
client_handshaking(const struct session *s)
{
	return s->ctls != NULL && tls_conn_handshaking(s->ctls);
}

static const char *
session_action(const struct session *s)
{
	switch (s->state) {
	case SESSION_CONNECTING:
		switch (s->bstate) {
		case BACKEND_CONNECTING:
			return "connecting to the backend";
		case BACKEND_GREETING:
		case BACKEND_STARTTLS:
			return s->is_pop3 ? "STLS with the backend" :
			    "STARTTLS with the backend";
		case BACKEND_HANDSHAKE:
			return "TLS handshake with the backend";
		case BACKEND_WAIT:
		case BACKEND_READY:
			break;
		}
		return client_handshaking(s) ? "TLS handshake with the client" :
		    "starting";
	case SESSION_RELAYING:
		return "relaying";
	case SESSION_CLOSING:
		return "closing";
	case SESSION_LINGERING:
		return "lingering";
	}
	return "?";
}

/* A diagnostic with the session's context, as nginx's log->action. */
static void __attribute__((format(printf, 3, 4)))
session_diag(const struct session *s, enum diag_level level,
    const char *fmt, ...)
{
	char msg[1024], user_buf[64];
	va_list ap;
	const char *user = infer_user(s);

	/* The user name is peer data: keep the log line one printable line. */
	if (user != NULL) {
		size_t i;

		for (i = 0; user[i] != '\0' && i < sizeof(user_buf) - 1; i++)
			user_buf[i] = user[i] >= 0x20 && user[i] < 0x7f ?
			    user[i] : '?';
		user_buf[i] = '\0';
		user = user_buf;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag(level, "session %llu client %s:%u%s%s (%s): %s",
	    (unsigned long long)s->id, s->client_ip, s->client_port,
	    user != NULL ? " user " : "", user != NULL ? user : "",
	    session_action(s), msg);
}

static void
session_emit(void *ctx, const struct msgevent *ev)
{
	struct session *s = ctx;

	session_diag(s, DIAG_DEBUG, "event %s", msgevent_type_name(ev->type));
	out_emit(s->set->out, ev);
}

static void
addr_format(const struct sockaddr_storage *ss, char *ip, size_t iplen,
    uint16_t *port_r)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		/* Report IPv4-mapped clients of a dual-stack socket as IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ip,
			    (socklen_t)iplen);
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, ip,
			    (socklen_t)iplen);
		*port_r = ntohs(sin6->sin6_port);
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, ip, (socklen_t)iplen);
		*port_r = ntohs(sin->sin_port);
	} else {
		snprintf(ip, iplen, "?");
		*port_r = 0;
	}
}

static void
set_nodelay(int fd)
{
	int one = 1;

	/* Nagle plus delayed ACKs would add 40 ms to each exchange. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* A TLS_WANT_* as loop events. */
static unsigned
tls_mask(unsigned want)
{
	return want == TLS_WANT_WRITE ? LOOP_WRITE : LOOP_READ;
}

/* What reading from / writing to a side waits for on its socket. */
static unsigned
side_read_mask(const struct tls_conn *t)
{
	return t != NULL ? tls_mask(tls_conn_want_read(t)) : LOOP_READ;
}

static unsigned
side_write_mask(const struct tls_conn *t)
{
	return t != NULL ? tls_mask(tls_conn_want_write(t)) : LOOP_WRITE;
}

/*
 * May P's source be read now?  Only while relaying, nothing read from it
 * is pending (backpressure), and no TLS handshake or STARTTLS answer of
 * the client's is under way; the client not while a question of the
 * proxy's own or a STARTTLS waits, the backend not while the STARTTLS
 * OK goes out (the next bytes to the client are TLS).
 */
static bool
session_may_read(const struct session *s, const struct pipe *p)
{
	if (s->state != SESSION_RELAYING || p->eof || p->pending != NULL ||
	    client_handshaking(s))
		return false;
	if (p == &s->up)
		return s->ask == NULL && s->starttls == STARTTLS_NONE;
	return s->starttls != STARTTLS_FLUSH;
}

/* Which events each fd should be watched for, from the pipes' state. */
static void
session_update_watch(struct session *s)
{
	unsigned cmask = 0, bmask = 0;
	bool kick = false;

	if (s->state == SESSION_CONNECTING) {
		if (client_handshaking(s))
			cmask = side_read_mask(s->ctls);
		switch (s->bstate) {
		case BACKEND_CONNECTING:
			bmask = LOOP_WRITE;
			break;
		case BACKEND_GREETING:
		case BACKEND_STARTTLS:
			bmask = LOOP_READ;
			break;
		case BACKEND_HANDSHAKE:
			bmask = side_read_mask(s->btls);
			break;
		case BACKEND_WAIT:
		case BACKEND_READY:
			break;
		}
		loop_set_fd(s->set->loop, s->cfd, cmask);
		if (s->bfd >= 0)
			loop_set_fd(s->set->loop, s->bfd, bmask);
		return;
	}
	if (client_handshaking(s)) {
		/* The client's STARTTLS handshake; the backend waits. */
		cmask = side_read_mask(s->ctls);
		if (s->up.pending != NULL)
			bmask |= side_write_mask(s->btls);
	} else {
		if (session_may_read(s, &s->up)) {
			cmask |= side_read_mask(s->ctls);
			kick = kick || (s->ctls != NULL &&
			    tls_conn_pending(s->ctls));
		}
		if (session_may_read(s, &s->down)) {
			bmask |= side_read_mask(s->btls);
			kick = kick || (s->btls != NULL &&
			    tls_conn_pending(s->btls));
		}
		if (s->state == SESSION_RELAYING && s->up.pending != NULL)
			bmask |= side_write_mask(s->btls);
		if (s->down.pending != NULL)
			cmask |= side_write_mask(s->ctls);
	}
	loop_set_fd(s->set->loop, s->cfd, cmask);
	if (s->bfd >= 0)
		loop_set_fd(s->set->loop, s->bfd, bmask);
	/* OpenSSL holds bytes no readiness will announce: read them soon. */
	if (kick && s->kick == NULL)
		s->kick = loop_timer_add(s->set->loop, 0, session_kick, s);
}

/* Send LEN bytes to P's destination, through its TLS if it has one. */
static ssize_t
pipe_send(struct pipe *p, const char *data, size_t len)
{
	struct tls_conn *t = *p->dst_tls;
	ssize_t n;

	if (t == NULL) {
		do
			n = send(p->dst, data, len, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		return n;
	}
	if (tls_conn_handshaking(t)) {
		errno = EAGAIN;		/* kept until the handshake is done */
		return -1;
	}
	return tls_conn_write(t, data, len);
}

/*
 * Read from P's source into BUF: recv(), or TLS records until BUF is
 * full or nothing more is there (records are 16 KiB at most: one read
 * of the buffer takes several).  recv()'s returns; an end or a failure
 * met after some bytes comes with the next call.
 */
static ssize_t
pipe_recv(struct pipe *p, char *buf, size_t len)
{
	struct tls_conn *t = *p->src_tls;
	size_t got = 0;
	ssize_t n;

	if (t == NULL) {
		do
			n = recv(p->src, buf, len, 0);
		while (n < 0 && errno == EINTR);
		return n;
	}
	while (got < len) {
		n = tls_conn_read(t, buf + got, len - got);
		if (n <= 0)
			return got > 0 ? (ssize_t)got : n;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * Pass P's EOF on to its destination: TLS close_notify when the source
 * ended in order (a plain FIN, or its own close_notify; a truncated TLS
 * stream is passed on truncated), then FIN.
 */
static void
pipe_shutdown(struct pipe *p)
{
	if (*p->dst_tls != NULL && p->eof_clean)
		tls_conn_close_notify(*p->dst_tls);
	(void)shutdown(p->dst, SHUT_WR);
}

/*
 * Write LEN bytes at DATA to P's destination, keeping what it does not
 * take, after what is already kept (one read's output may come in
 * several spans: see session_capa_out()).  Returns 0, or -1 when the
 * destination failed (errno set).
 */
static int
pipe_write(struct pipe *p, const char *data, size_t len)
{
	ssize_t n = 0;

	if (p->pending != NULL) {
		assert(p->pending_len + len <= PIPE_BUF_SIZE);
		memcpy(p->pending + p->pending_len, data, len);
		p->pending_len += len;
		return 0;
	}
	while (len > 0) {
		n = pipe_send(p, data, len);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	if (len > 0) {
		p->pending = malloc(PIPE_BUF_SIZE);
		if (p->pending == NULL)
			return -1;
		assert(len <= PIPE_BUF_SIZE);
		memcpy(p->pending, data, len);
		p->pending_len = len;
		p->pending_off = 0;
	}
	return 0;
}

/* Send what P keeps pending.  Returns 0, or -1 on a write error. */
static int
pipe_flush(struct pipe *p)
{
	ssize_t n;

	while (p->pending != NULL && p->pending_off < p->pending_len) {
		n = pipe_send(p, p->pending + p->pending_off,
		    p->pending_len - p->pending_off);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		p->pending_off += (size_t)n;
	}
	free(p->pending);
	p->pending = NULL;
	p->pending_len = p->pending_off = 0;
	return 0;
}

/* Output of the capability filter: spans of what goes to the client. */
static void
session_capa_out(void *ctx, const char *data, size_t len)
{
	struct session *s = ctx;

	if (!s->write_failed && pipe_write(&s->down, data, len) < 0)
		s->write_failed = true;
}

/*
 * The client's last bytes are out: send FIN and read (and discard) what
 * the client still sends until it closes or the linger timer fires.
 * Closing a socket with unread input makes the kernel send RST, which
 * can destroy the last bytes before the client read them (a BYE, the
 * server's final reply): nginx's lingering close, for the same reason.
 */
static void
session_linger(struct session *s)
{
	if (s->ctls != NULL)
		tls_conn_close_notify(s->ctls);
	(void)shutdown(s->cfd, SHUT_WR);
	s->state = SESSION_LINGERING;
	loop_set_fd(s->set->loop, s->cfd, LOOP_READ);
}

/*
 * End the relay: close the backend at once, deliver to the client what
 * is pending for it plus LINE (a "* BYE" of the proxy's own; may be
 * empty), then linger.  Used when the proxy ends a session and when the
 * backend failed, so that the client still gets every byte the backend
 * sent before it went away.
 */
static void
session_close_with(struct session *s, const char *line)
{
	size_t len = strlen(line);
	size_t have;

	if (s->bfd >= 0) {
		loop_del_fd(s->set->loop, s->bfd);
		tls_conn_free(&s->btls);
		close(s->bfd);
		s->bfd = -1;
	}
	free(s->greet);
	s->greet = NULL;
	free(s->up.pending);
	s->up.pending = NULL;
	free(s->hold);
	s->hold = NULL;
	s->hold_len = 0;
	if (s->ask != NULL) {
		/* what it held of the server's goes out before the line */
		s->write_failed = false;
		imap_ask_flush(s->ask, session_down_out, s);
		free(s->ask);
		s->ask = NULL;
	}
	s->up.eof = s->down.eof = true;
	s->starttls = STARTTLS_NONE;
	s->state = SESSION_CLOSING;
	loop_timer_cancel(s->set->loop, &s->timer);
	s->timer = loop_timer_add(s->set->loop, SESSION_LINGER_MS,
	    session_timer, s);
	if (!s->capa_off) {
		/* Whatever the filter still holds goes out before the BYE. */
		s->write_failed = false;
		imap_capa_flush(&s->capa, session_capa_out, s);
		s->capa_off = true;
	}
	if (s->pop3 != NULL) {
		/* likewise the start of a CAPA line pop3_infer held */
		s->write_failed = false;
		pop3_infer_server_eof(s->pop3);
	}
	if (s->down.pending != NULL) {
		/* Compact, so the line fits after what is pending. */
		have = s->down.pending_len - s->down.pending_off;
		memmove(s->down.pending, s->down.pending + s->down.pending_off,
		    have);
		s->down.pending_off = 0;
		s->down.pending_len = have;
	}
	if (len > 0 && (s->down.pending == NULL ||
	    s->down.pending_len + len <= PIPE_BUF_SIZE) &&
	    pipe_write(&s->down, line, len) < 0) {
		session_free(s);
		return;
	}
	if (pipe_flush(&s->down) < 0) {
		session_free(s);
		return;
	}
	if (s->down.pending == NULL && !client_handshaking(s))
		session_linger(s);
	else
		session_update_watch(s);
}

/* The backend connection failed or timed out: tell the client why. */
static void
session_backend_failed(struct session *s, const char *why)
{
	char line[512], text[300];

	session_diag(s, DIAG_WARN, "backend %s unavailable: %s",
	    s->backend_text, why);
	snprintf(text, sizeof(text), "backend server unavailable (%s)", why);
	farewell(line, sizeof(line), s->is_pop3, "UNAVAILABLE", "SYS/TEMP",
	    text);
	session_close_with(s, line);
}

/*
 * The backend's TLS (backend-tls, backend-starttls) failed: the client
 * learns why, e.g. "backend TLS failed: certificate verify failed:
 * unable to get local issuer certificate".  WHY is cut to keep the
 * line printable and short; it never holds peer data but the
 * backend's own STARTTLS reply text, made printable.
 */
static void
session_backend_tls_failed(struct session *s, const char *why)
{
	char line[512], text[300], msg[340];
	size_t i;

	for (i = 0; why[i] != '\0' && i < sizeof(text) - 1; i++)
		text[i] = why[i] >= 0x20 && why[i] < 0x7f ? why[i] : '?';
	text[i] = '\0';
	session_diag(s, DIAG_WARN, "backend %s (%s): TLS failed: %s",
	    s->backend_text, s->backend_name, text);
	snprintf(msg, sizeof(msg), "backend TLS failed: %s", text);
	farewell(line, sizeof(line), s->is_pop3, "UNAVAILABLE", "SYS/TEMP",
	    msg);
	session_close_with(s, line);
}

/* Commands the inference could not track: their events are lost. */
static void
session_log_untracked(struct session *s, uint64_t untracked)
{
	session_diag(s, DIAG_WARN, "%llu commands not tracked (too many "
	    "outstanding, or over a size cap): their events are lost",
	    (unsigned long long)(untracked - s->untracked_logged));
	s->untracked_logged = untracked;
	s->untracked_log_ms = loop_now_ms(s->set->loop);
}

/*
 * Messages others added or removed that could not be reported (their
 * UIDs unknown, or whose change it was undecidable): counted only.
 */
static void
session_log_foreign(struct session *s, uint64_t foreign)
{
	session_diag(s, DIAG_WARN, "%llu messages added or removed by others "
	    "not reported (UIDs unknown, or whose change undecidable)",
	    (unsigned long long)(foreign - s->foreign_logged));
	s->foreign_logged = foreign;
	s->foreign_log_ms = loop_now_ms(s->set->loop);
}

static bool session_parse_failed(struct session *);

/*
 * Check the inference after it has been fed: log trouble, apply policy.
 * Returns false when the session was ended (or freed).
 */
static bool
session_check_infer(struct session *s)
{
	uint64_t untracked, foreign;
	size_t mem;

	mem = s->pop3 != NULL ? pop3_infer_memory(s->pop3) :
	    imap_infer_memory(s->infer);
	if (mem > s->infer_peak)
		s->infer_peak = mem;
	mem = (s->up.pending != NULL ? PIPE_BUF_SIZE : 0) +
	    (s->down.pending != NULL ? PIPE_BUF_SIZE : 0) +
	    (s->hold != NULL ? SESSION_HOLD_SIZE : 0) +
	    (s->ask != NULL ? sizeof(*s->ask) : 0);
	if (mem > s->buf_peak)
		s->buf_peak = mem;
	if (s->pop3 != NULL)
		return session_parse_failed(s);
	untracked = imap_infer_untracked(s->infer);
	if (untracked > s->untracked_logged &&
	    (s->untracked_logged == 0 || loop_now_ms(s->set->loop) >=
	    s->untracked_log_ms + SESSION_WARN_INTERVAL_MS))
		session_log_untracked(s, untracked);
	foreign = imap_infer_foreign_unknown(s->infer);
	if (foreign > s->foreign_logged &&
	    (s->foreign_logged == 0 || loop_now_ms(s->set->loop) >=
	    s->foreign_log_ms + SESSION_WARN_INTERVAL_MS))
		session_log_foreign(s, foreign);
	return session_parse_failed(s);
}

/*
 * The inference went blind on purpose (logged once), or a parser
 * failed: a line over the limit ends the session with the protocol's
 * last word (IMAP "* BYE [TOOBIG]", POP3 "-ERR"); any other failure
 * leaves it relayed blind.  Returns false when the session was ended.
 */
static bool
session_parse_failed(struct session *s)
{
	const char *blind, *name;
	bool client, too_long;
	char line[256], text[128];

	if (!infer_error(s, &client, &too_long, &name)) {
		blind = infer_blind_reason(s);
		if (blind != NULL && !s->blind_logged) {
			s->blind_logged = true;
			session_diag(s, DIAG_INFO, "no longer parsing: %s; "
			    "relaying blind", blind);
		}
		return true;
	}
	if (too_long) {
		session_diag(s, DIAG_WARN, "%s line exceeds %zu bytes; "
		    "session ended", client ? "client" : "server",
		    s->set->line_max);
		snprintf(text, sizeof(text), "%s line exceeds %zu bytes",
		    client ? "command" : "response", s->set->line_max);
		farewell(line, sizeof(line), s->is_pop3, "TOOBIG", NULL, text);
		s->end_reason = IMAP_INFER_END_ABORT;
		session_close_with(s, line);
		return false;
	}
	if (!s->blind_logged) {
		s->blind_logged = true;
		session_diag(s, DIAG_WARN, "cannot parse %s data (%s); "
		    "relaying blind, no more events for this session",
		    client ? "client" : "server", name);
	}
	return true;
}

/*
 * A peer failed (reset, write error).  Without a client there is no one
 * to relay to; without a backend the client still gets what the backend
 * sent before it went, then an orderly close.
 */
static void
session_lost(struct session *s, bool client)
{
	if (client)
		session_free(s);
	else
		session_close_with(s, "");
}

/* Writing to the client (TO_CLIENT) or the backend failed (WHY). */
static void
session_write_failed(struct session *s, bool to_client, const char *why)
{
	session_diag(s, DIAG_INFO, "writing to %s: %s", to_client ? "client" :
	    "backend", why);
	s->end_reason = IMAP_INFER_END_ABORT;
	session_lost(s, to_client);
}

/*
 * Discard what a lingering client still sends; free the session at its
 * EOF or error.
 */
static void
session_discard(struct session *s)
{
	ssize_t n;

	for (;;) {
		n = recv(s->cfd, relay_buf, sizeof(relay_buf), 0);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		session_free(s);
		return;
	}
}

/*
 * Server bytes for the client, after the proxy's own answers were taken
 * out (when a question is open): through the capability filter, which
 * passes them unchanged too but for the capabilities clients must not
 * see, until the stream stops being IMAP.
 */
static void
session_down_out(void *ctx, const char *data, size_t len)
{
	struct session *s = ctx;

	if (!s->capa_off)
		imap_capa_feed(&s->capa, data, len, session_capa_out, s);
	else if (!s->write_failed && pipe_write(&s->down, data, len) < 0)
		s->write_failed = true;
}

/*
 * Write what was read from P's source on to its destination: client
 * bytes unchanged; server bytes through the question filter and the
 * capability filter (session_down_out()).  Once the stream stops being
 * IMAP (the server accepted STARTTLS or COMPRESS) the capability filter
 * is flushed and bypassed.
 */
static int
session_relay(struct session *s, struct pipe *p, const char *data,
    size_t len)
{
	if (p == &s->up)
		return pipe_write(p, data, len);
	s->write_failed = false;
	/* STARTTLS is offered before login only (RFC 9051 6.2.1) */
	if (s->capa_adding && infer_logged_in(s)) {
		imap_capa_set_add(&s->capa, NULL);
		s->capa_adding = false;
	}
	if (!s->capa_off && imap_infer_blind_reason(s->infer) != NULL) {
		imap_capa_flush(&s->capa, session_capa_out, s);
		s->capa_off = true;
	}
	if (s->ask != NULL)
		imap_ask_feed(s->ask, data, len, session_down_out, s);
	else
		session_down_out(s, data, len);
	return s->write_failed ? -1 : 0;
}

/*
 * POP3: once a parser met a line over the limit, nothing more goes on
 * either way; the session ends with "-ERR" (session_parse_failed()), as
 * an IMAP session's bytes of that read are not relayed either.
 */
static bool
session_pop3_cut(const struct session *s)
{
	enum pop3_parser_error err;

	return pop3_infer_error(s->pop3, NULL, &err) &&
	    err == POP3_PERR_LINE_TOO_LONG;
}

/* pop3_infer's bytes for the backend: the client's, and its own UIDLs. */
static void
session_pop3_up(void *ctx, const char *data, size_t len)
{
	struct session *s = ctx;

	if (s->bfd < 0 || s->up_failed || session_pop3_cut(s))
		return;
	if (pipe_write(&s->up, data, len) < 0) {
		s->up_failed = true;
		s->write_errno = errno;
	}
}

/* pop3_infer's bytes for the client: the server's but its own answers. */
static void
session_pop3_down(void *ctx, const char *data, size_t len)
{
	struct session *s = ctx;

	if (s->write_failed || session_pop3_cut(s))
		return;
	session_down_out(s, data, len);
	if (s->write_failed)
		s->write_errno = errno;
}

/*
 * After pop3_infer had bytes (and wrote on what it would): its policy
 * first, then the writes that failed.  Returns false when the session
 * was ended.
 */
static bool
session_pop3_done(struct session *s)
{
	bool down = s->write_failed, up = s->up_failed;
	int err = s->write_errno;

	/* STLS is offered before login only (RFC 2595 4) */
	if (s->capa_adding && infer_logged_in(s))
		s->capa_adding = false;
	if (!session_check_infer(s))
		return false;
	if (down || up) {
		session_write_failed(s, down, strerror(err));
		return false;
	}
	return true;
}

/*
 * Client bytes, just read or held: fed to the inference and sent on to
 * the backend, as they are (IMAP) or as pop3_infer hands them on (its
 * own UIDL commands in between).  Returns false when the session was
 * ended.
 */
static bool
session_client_in(struct session *s, const char *data, size_t len)
{
	if (s->pop3 != NULL) {
		s->up_failed = s->write_failed = false;
		pop3_infer_client_data(s->pop3, data, len);
		return session_pop3_done(s);
	}
	imap_infer_client_data(s->infer, data, len);
	if (!session_check_infer(s))
		return false;
	if (s->bfd >= 0 && session_relay(s, &s->up, data, len) < 0) {
		session_write_failed(s, false, strerror(errno));
		return false;
	}
	return true;
}

/*
 * Server bytes, just read (or the greeting kept through backend-starttls):
 * fed to the inference and sent on to the client through the filters
 * (IMAP) or as pop3_infer hands them on (without the answers to its own
 * commands).  Returns false when the session was ended.
 */
static bool
session_server_in(struct session *s, const char *data, size_t len)
{
	if (s->pop3 != NULL) {
		s->up_failed = s->write_failed = false;
		pop3_infer_server_data(s->pop3, data, len);
		return session_pop3_done(s);
	}
	imap_infer_server_data(s->infer, data, len);
	if (!session_check_infer(s))
		return false;
	if (session_relay(s, &s->down, data, len) < 0) {
		session_write_failed(s, true, strerror(errno));
		return false;
	}
	return true;
}

/*
 * Send the held client bytes on, fed to the inference first, as if just
 * read.  Returns false when the session was freed.
 */
static bool
session_hold_release(struct session *s)
{
	char *data = s->hold;
	size_t len = s->hold_len;
	bool ok;

	s->hold = NULL;
	s->hold_len = 0;
	s->asks = 0;
	if (data == NULL)
		return true;
	ok = session_client_in(s, data, len);
	free(data);
	return ok;
}

/*
 * Feed and send on the first LEN held bytes; the rest stays held.
 * Returns false when the session was freed.
 */
static bool
session_hold_pass(struct session *s, size_t len)
{
	if (!session_client_in(s, s->hold, len))
		return false;
	memmove(s->hold, s->hold + len, s->hold_len - len);
	s->hold_len -= len;
	return true;
}

/*
 * Before login msgeventd answers STARTTLS itself (whether it can offer
 * TLS or not: a backend must never start TLS with the client, the
 * stream would be lost to the parser), so client commands are read a
 * line at a time until then.
 */
static bool
session_starttls_watch(const struct session *s)
{
	return !infer_logged_in(s) && infer_blind_reason(s) == NULL &&
	    !infer_error(s, NULL, NULL, NULL);
}

static bool
ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];

		if (x >= 'a' && x <= 'z')
			x = (char)(x - 'a' + 'A');
		if (x != y)
			return false;
	}
	return true;
}

/*
 * POP3: is LINE (LEN bytes, with its LF) "STLS" (RFC 2595 4), any case,
 * CRLF or LF?  Then the answer is decided as for STARTTLS: +OK, or -ERR
 * when TLS is active already, no certificate is configured, or
 * arguments follow.
 */
static bool
session_stls_line(struct session *s, const char *line, size_t len)
{
	if (len < 5 || !ascii_ieq(line, "STLS", 4))
		return false;
	if (line[4] == ' ') {
		s->starttls_ok = false;
		s->starttls_why = "STLS takes no arguments";
	} else if (line[4] == '\n' ||
	    (line[4] == '\r' && len > 5 && line[5] == '\n')) {
		s->starttls_ok = s->tls_srv != NULL && s->ctls == NULL;
		s->starttls_why = s->ctls != NULL ? "TLS is already active" :
		    "msgeventd: STLS is not available here";
	} else
		return false;		/* STLSX... */
	s->starttls_tag[0] = '\0';
	return true;
}

/*
 * Is LINE (LEN bytes, with its LF) "tag STARTTLS" (RFC 9051 6.2.1), any
 * case, CRLF or LF?  Then the tag is kept and the answer decided: OK
 * when the client side can turn TLS, BAD when it is TLS already or no
 * certificate is configured, or when arguments follow.
 */
static bool
session_starttls_line(struct session *s, const char *line, size_t len)
{
	size_t tag = 0, rest;

	if (s->is_pop3)
		return session_stls_line(s, line, len);

	while (tag < len && line[tag] != ' ' && line[tag] != '\r' &&
	    line[tag] != '\n' && (unsigned char)line[tag] > 0x20 &&
	    (unsigned char)line[tag] < 0x7f && line[tag] != '+' &&
	    line[tag] != '*')
		tag++;
	if (tag == 0 || tag >= SESSION_TAG_MAX || tag + 9 > len ||
	    line[tag] != ' ' || !ascii_ieq(line + tag + 1, "STARTTLS", 8))
		return false;
	rest = tag + 9;
	if (line[rest] == ' ') {
		s->starttls_ok = false;
		s->starttls_why = "STARTTLS takes no arguments";
	} else if (line[rest] == '\n' ||
	    (line[rest] == '\r' && rest + 1 < len && line[rest + 1] == '\n')) {
		s->starttls_ok = s->tls_srv != NULL && s->ctls == NULL;
		s->starttls_why = s->ctls != NULL ? "TLS is already active" :
		    "msgeventd: STARTTLS is not available here";
	} else
		return false;		/* STARTTLSX... */
	memcpy(s->starttls_tag, line, tag);
	s->starttls_tag[tag] = '\0';
	return true;
}

/* The client's STARTTLS handshake begins (our OK is out). */
static bool
session_starttls_begin(struct session *s)
{
	s->starttls = STARTTLS_NONE;
	s->ctls = tls_conn_server(s->tls_srv, s->cfd, s->alpn);
	if (s->ctls == NULL) {
		session_diag(s, DIAG_ERROR, "%s: out of memory", stls_name(s));
		session_free(s);
		return false;
	}
	session_diag(s, DIAG_DEBUG, "%s: TLS handshake with the client",
	    stls_name(s));
	return true;
}

static bool session_hold_process(struct session *);

/*
 * Answer the client's STARTTLS, now that nothing it sent before is
 * outstanding: OK, after which whatever it pipelined behind the command
 * is discarded (a command smuggled there must not run inside TLS:
 * CVE-2011-0411 and its IMAP kin); or BAD, after which its commands go
 * on.  Returns false when the session was freed.
 */
static bool
session_starttls_answer(struct session *s)
{
	char line[SESSION_TAG_MAX + 80];

	if (s->starttls_ok && infer_logged_in(s)) {
		/* a login pipelined before it succeeded (RFC 9051 6.2.1,
		   RFC 2595 4: AUTHORIZATION state only) */
		s->starttls_ok = false;
		s->starttls_why = s->is_pop3 ? "STLS is not allowed after "
		    "login" : "STARTTLS is not allowed after login";
	}
	if (s->is_pop3 && s->starttls_ok)
		snprintf(line, sizeof(line), "+OK Begin TLS negotiation "
		    "now\r\n");
	else if (s->is_pop3)
		snprintf(line, sizeof(line), "-ERR %s\r\n", s->starttls_why);
	else if (s->starttls_ok)
		snprintf(line, sizeof(line), "%s OK Begin TLS negotiation "
		    "now\r\n", s->starttls_tag);
	else
		snprintf(line, sizeof(line), "%s BAD %s\r\n",
		    s->starttls_tag, s->starttls_why);
	if (pipe_write(&s->down, line, strlen(line)) < 0) {
		session_diag(s, DIAG_INFO, "writing to client: %s",
		    strerror(errno));
		s->end_reason = IMAP_INFER_END_ABORT;
		session_free(s);
		return false;
	}
	if (!s->starttls_ok) {
		session_diag(s, DIAG_DEBUG, "%s refused: %s", stls_name(s),
		    s->starttls_why);
		s->starttls = STARTTLS_NONE;
		return s->hold == NULL || session_hold_process(s);
	}
	if (s->hold != NULL && s->hold_len > 0)
		session_diag(s, DIAG_INFO, "%s: discarded %zu bytes the "
		    "client sent after the command, before TLS", stls_name(s),
		    s->hold_len);
	free(s->hold);
	s->hold = NULL;
	s->hold_len = 0;
	s->starttls = STARTTLS_FLUSH;
	if (s->down.pending == NULL)
		return session_starttls_begin(s);
	return true;
}

/*
 * Before login: pass the held client bytes on line by line, watching
 * each command's start for STARTTLS (a literal or an AUTHENTICATE
 * exchange goes on unread to its end).  Returns false when the session
 * was freed.
 */
static bool
session_hold_scan(struct session *s)
{
	const char *lf;
	size_t n;

	while (s->hold_len > 0) {
		if (!session_starttls_watch(s))
			return session_hold_release(s);
		lf = memchr(s->hold, '\n', s->hold_len);
		if (infer_at_command(s)) {
			if (lf == NULL) {
				if (s->hold_len <= SESSION_HOLD_LINE_MAX &&
				    !s->up.eof)
					return true;	/* the rest is coming */
				return session_hold_release(s);
			}
			n = (size_t)(lf - s->hold) + 1;
			if (session_starttls_line(s, s->hold, n)) {
				/* not fed, not sent: the proxy answers it */
				memmove(s->hold, s->hold + n, s->hold_len - n);
				s->hold_len -= n;
				s->starttls = STARTTLS_WAIT;
				if (infer_outstanding(s) > 0)
					return true;
				return session_starttls_answer(s);
			}
		} else
			n = lf != NULL ? (size_t)(lf - s->hold) + 1 :
			    s->hold_len;
		if (!session_hold_pass(s, n))
			return false;
	}
	free(s->hold);
	s->hold = NULL;
	s->asks = 0;
	return true;
}

/*
 * The held client bytes: wait for the first line's end, then either ask
 * the server a question of the proxy's own first (imap_infer_ask()) or
 * send them on.  Before login, look for STARTTLS (session_hold_scan()).
 * Returns false when the session was freed.
 */
static bool
session_hold_process(struct session *s)
{
	struct imap_ask_query q;
	const char *lf;

	if (s->ask != NULL)
		return true;		/* the answer is not in yet */
	if (s->starttls != STARTTLS_NONE)
		return true;		/* held until STARTTLS is answered */
	if (session_starttls_watch(s))
		return session_hold_scan(s);
	if (s->is_pop3)
		return session_hold_release(s);  /* pop3_infer asks */
	lf = memchr(s->hold, '\n', s->hold_len);
	if (lf == NULL) {
		if (s->hold_len <= SESSION_HOLD_LINE_MAX && !s->up.eof)
			return true;	/* the line is not in yet */
		return session_hold_release(s);
	}
	if (s->asks < SESSION_ASKS_MAX && s->bfd >= 0 &&
	    imap_infer_may_ask(s->infer) &&
	    (s->ask = malloc(sizeof(*s->ask))) != NULL) {
		if (imap_infer_ask(s->infer, s->hold,
		    (size_t)(lf - s->hold) + 1, &q) > 0) {
			s->asks++;
			imap_ask_init(s->ask, &q);
			session_diag(s, DIAG_DEBUG, "asking the backend: %.*s",
			    (int)q.line_len - 2, q.line);
			if (!session_check_infer(s))
				return false;
			if (pipe_write(&s->up, q.line, q.line_len) < 0) {
				session_write_failed(s, false, strerror(errno));
				return false;
			}
			return true;
		}
		free(s->ask);
		s->ask = NULL;
	}
	return session_hold_release(s);
}

/*
 * Client bytes read while the proxy may ask a question first, or while
 * it holds the command: keep them.  Returns false when the session was
 * freed.
 */
static bool
session_hold_add(struct session *s, const char *data, size_t len)
{
	if (s->hold == NULL) {
		if ((s->hold = malloc(SESSION_HOLD_SIZE)) == NULL) {
			/* no question then: relay as usual */
			return session_client_in(s, data, len);
		}
		s->hold_len = 0;
		s->asks = 0;
	}
	assert(s->hold_len + len <= SESSION_HOLD_SIZE);
	memcpy(s->hold + s->hold_len, data, len);
	s->hold_len += len;
	return session_hold_process(s);
}

/* The question's tagged answer went by: go on with the held command. */
static bool
session_ask_done(struct session *s)
{
	session_diag(s, DIAG_DEBUG, "answer in: %llu lines taken out, %llu "
	    "passed", (unsigned long long)s->ask->taken,
	    (unsigned long long)s->ask->passed);
	free(s->ask);
	s->ask = NULL;
	return session_hold_process(s);
}

/*
 * Read once from P's source, feed the inference, write on.  Returns
 * false when the session was freed.
 */
static bool
session_read(struct session *s, struct pipe *p)
{
	ssize_t n;
	bool up = p == &s->up;
	struct tls_conn *t = *p->src_tls;
	/*
	 * While the capability filter adds STARTTLS, each capability list
	 * may grow by its length (" STARTTLS" to "* CAPABILITY\n": 70%;
	 * POP3's "STLS\r\n" to "+OK\r\n.\r\n": 75%): read half as much,
	 * so that one read's output still fits the pending buffer.
	 */
	size_t want = !up && s->capa_adding ? sizeof(relay_buf) / 2 :
	    sizeof(relay_buf);

	n = pipe_recv(p, relay_buf, want);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		session_diag(s, DIAG_INFO, "%s: %s", up ? "client" : "backend",
		    t != NULL && tls_conn_error(t)[0] != '\0' ?
		    tls_conn_error(t) : strerror(errno));
		s->end_reason = IMAP_INFER_END_ABORT;
		session_lost(s, up);
		return false;
	}
	if (n == 0) {
		p->eof = true;
		p->eof_clean = t == NULL || tls_conn_closed_cleanly(t);
		if (up && t != NULL) {
			/*
			 * Logout's reason: the client's orderly TLS close
			 * ("closed") is told from a connection cut without
			 * one; a close_notify answering the server's end
			 * is not the client's doing.
			 */
			if (p->eof_clean && !s->down.eof)
				s->end_reason = IMAP_INFER_END_CLOSED;
			else
				session_diag(s, DIAG_DEBUG, "client closed "
				    "the connection without TLS close_notify");
		}
		if (!up && s->ask != NULL) {
			/* no answer is coming: what it held goes on */
			s->write_failed = false;
			imap_ask_flush(s->ask, session_down_out, s);
			free(s->ask);
			s->ask = NULL;
			if (s->write_failed) {
				session_lost(s, true);
				return false;
			}
			if (!session_hold_release(s))
				return false;
		} else if (up && s->hold != NULL && s->ask == NULL &&
		    !session_hold_release(s))
			return false;
		if (s->pop3 != NULL) {
			/* what pop3_infer held of this side goes on */
			s->up_failed = s->write_failed = false;
			if (up)
				pop3_infer_client_eof(s->pop3);
			else
				pop3_infer_server_eof(s->pop3);
			if (!session_pop3_done(s))
				return false;
		}
		if (!up && !s->capa_off) {
			s->write_failed = false;
			imap_capa_flush(&s->capa, session_capa_out, s);
			s->capa_off = true;
			if (s->write_failed) {
				session_lost(s, true);
				return false;
			}
		}
		if (infer_in_body(s, up))
			session_diag(s, DIAG_INFO, "%s closed the connection "
			    "inside a %s", up ? "client" : "backend",
			    s->is_pop3 ? "multi-line response" : "literal");
		return true;
	}
	s->last_ms = loop_now_ms(s->set->loop);
	if (up && (s->hold != NULL || session_starttls_watch(s) ||
	    (!s->is_pop3 && s->set->backend_queries &&
	    imap_infer_may_ask(s->infer))))
		return session_hold_add(s, relay_buf, (size_t)n);
	if (up ? !session_client_in(s, relay_buf, (size_t)n) :
	    !session_server_in(s, relay_buf, (size_t)n))
		return false;
	if (!up && s->ask != NULL && imap_ask_done(s->ask))
		return session_ask_done(s);
	if (!up && s->starttls == STARTTLS_WAIT && infer_outstanding(s) == 0)
		return session_starttls_answer(s);
	return true;
}

/*
 * Pass an EOF on once its direction is drained; free the session when
 * both directions are done.  Returns false when the session was freed.
 */
static bool
session_settle(struct session *s)
{
	struct pipe *pipes[2] = { &s->up, &s->down };

	for (int i = 0; i < 2; i++) {
		struct pipe *p = pipes[i];

		if (p->eof && !p->done && p->pending == NULL &&
		    (p != &s->up || s->hold == NULL)) {
			p->done = true;
			pipe_shutdown(p);
		}
	}
	if (s->up.done && s->down.done) {
		session_free(s);
		return false;
	}
	if (s->starttls == STARTTLS_FLUSH && s->down.pending == NULL &&
	    !session_starttls_begin(s))
		return false;
	session_update_watch(s);
	return true;
}

static void
session_connected(struct session *s)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(s->bfd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		session_backend_failed(s, strerror(err));
		return;
	}
	set_nodelay(s->bfd);
	session_diag(s, DIAG_DEBUG, "connected to backend %s",
	    s->backend_text);
	if (s->backend_starttls)
		s->bstate = BACKEND_GREETING;
	else if (s->backend_tls)
		s->bstate = BACKEND_WAIT;
	else
		s->bstate = BACKEND_READY;
	(void)session_setup(s);
}

/*
 * The backend's greeting, kept through backend-starttls for the client,
 * loses its capability code: those were the capabilities before TLS
 * (LOGINDISABLED, STARTTLS), and a client that finds none in the
 * greeting asks (RFC 9051 7.1).  "* OK [CAPABILITY ...] text" becomes
 * "* OK text"; a greeting without text after the code is left as is.
 * Returns the new length.
 */
static size_t
greeting_strip_capability(char *g, size_t len)
{
	static const char pre[] = "* OK [CAPABILITY";
	size_t n = sizeof(pre) - 1, end;
	const char *close;

	if (len <= n || !ascii_ieq(g, pre, n) || (g[n] != ' ' && g[n] != ']'))
		return len;
	close = memchr(g + n, ']', len - n);
	if (close == NULL)
		return len;
	end = (size_t)(close - g) + 1;
	if (end >= len || g[end] != ' ' || end + 1 >= len ||
	    g[end + 1] == '\r' || g[end + 1] == '\n')
		return len;
	end++;
	memmove(g + 5, g + end, len - end);
	return len - (end - 5);
}

/* The client's TLS is up: its protocol and cipher go to Login events. */
static void
session_client_tls_done(struct session *s)
{
	const char *sni = tls_conn_sni(s->ctls);
	char name[CONFIG_NAME_MAX];
	size_t i = 0;

	/* no more STARTTLS offers */
	if (s->pop3 != NULL) {
		pop3_infer_set_tls(s->pop3, tls_conn_version(s->ctls),
		    tls_conn_cipher(s->ctls));
		pop3_infer_offer_stls(s->pop3, false);
	} else {
		imap_infer_set_tls(s->infer, tls_conn_version(s->ctls),
		    tls_conn_cipher(s->ctls));
		imap_capa_set_add(&s->capa, NULL);
	}
	s->capa_adding = false;
	/* SNI is the client's: printable only in the log */
	for (; sni != NULL && sni[i] != '\0' && i < sizeof(name) - 1; i++)
		name[i] = sni[i] > 0x20 && sni[i] < 0x7f ? sni[i] : '?';
	name[i] = '\0';
	session_diag(s, DIAG_DEBUG, "client TLS: %s %s%s%s",
	    tls_conn_version(s->ctls), tls_conn_cipher(s->ctls),
	    sni != NULL ? ", SNI " : "", name);
}

static bool
is_ip(const char *name)
{
	unsigned char a[16];

	return inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1;
}

/*
 * Both sides ready: relay.  A greeting kept through backend-starttls is
 * the server's first bytes.  Returns false when the session was freed.
 */
static bool
session_begin(struct session *s)
{
	char *g = s->greet;
	size_t len;
	bool ok;

	s->state = SESSION_RELAYING;
	s->last_ms = loop_now_ms(s->set->loop);
	if (g != NULL) {
		s->greet = NULL;
		/* POP3's greeting has no capabilities: kept whole (APOP) */
		len = s->is_pop3 ? s->greet_keep :
		    greeting_strip_capability(g, s->greet_keep);
		ok = session_server_in(s, g, len);
		free(g);
		if (!ok)
			return false;
	}
	session_update_watch(s);
	return true;
}

/*
 * SESSION_CONNECTING: advance what can advance.  The client's handshake
 * (listen imaps); the backend's TLS once the client's handshake is done
 * (the client's SNI may be passed on); relaying once both are ready.
 * Returns false when the session was freed.
 */
static bool
session_setup(struct session *s)
{
	const char *sni;
	int r;

	if (client_handshaking(s)) {
		r = tls_conn_handshake(s->ctls);
		if (r < 0) {
			/* a diagnostic, never an event: nobody logged in */
			session_diag(s, DIAG_INFO, "client TLS handshake "
			    "failed: %s", tls_conn_error(s->ctls));
			session_free(s);
			return false;
		}
		if (r == 1)
			session_client_tls_done(s);
	}
	if (s->bstate == BACKEND_WAIT && !client_handshaking(s)) {
		/* RFC 6066: a DNS name; for an address, the client's SNI */
		sni = s->backend_name;
		if (is_ip(sni) && s->ctls != NULL &&
		    tls_conn_sni(s->ctls) != NULL)
			sni = tls_conn_sni(s->ctls);
		s->btls = tls_conn_client(s->tls_cli, s->bfd, s->backend_name,
		    sni, s->alpn);
		if (s->btls == NULL) {
			session_backend_failed(s, "out of memory");
			return false;
		}
		s->bstate = BACKEND_HANDSHAKE;
	}
	if (s->bstate == BACKEND_HANDSHAKE) {
		r = tls_conn_handshake(s->btls);
		if (r < 0) {
			session_backend_tls_failed(s, tls_conn_error(s->btls));
			return false;
		}
		if (r == 1) {
			s->bstate = BACKEND_READY;
			session_diag(s, DIAG_DEBUG, "backend TLS: %s %s",
			    tls_conn_version(s->btls),
			    tls_conn_cipher(s->btls));
		}
	}
	if (s->bstate == BACKEND_READY && !client_handshaking(s))
		return session_begin(s);
	session_update_watch(s);
	return true;
}

/* LINE (LEN bytes, with its LF) starts with WORD, then SP or its end. */
static bool
line_word(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len > n && ascii_ieq(line, word, n) &&
	    (line[n] == ' ' || line[n] == '\r' || line[n] == '\n');
}

/*
 * backend-starttls: read the greeting (kept for the client), send our
 * STARTTLS, read to its tagged reply (untagged lines before it are
 * dropped), then TLS.  POP3: "+OK" greeting, STLS, and the next line is
 * the reply (RFC 2595 4).  Nothing may follow the OK before the
 * handshake: bytes there would be injected into the session.  Returns
 * false when the session was freed.
 */
static bool
session_backend_starttls(struct session *s)
{
	const char *cmd = s->is_pop3 ? SESSION_STLS_CMD :
	    SESSION_STARTTLS_CMD;
	static const char tag[] = SESSION_STARTTLS_TAG;
	const size_t tlen = s->is_pop3 ? 0 : sizeof(tag) - 1;
	const size_t cmdlen = strlen(cmd);
	char why[160], *line, *lf;
	size_t len, show;
	ssize_t n;

	if (s->greet == NULL &&
	    (s->greet = malloc(SESSION_GREETING_MAX)) == NULL) {
		session_backend_failed(s, "out of memory");
		return false;
	}
	do
		n = recv(s->bfd, s->greet + s->greet_len,
		    SESSION_GREETING_MAX - s->greet_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		session_backend_failed(s, strerror(errno));
		return false;
	}
	if (n == 0) {
		snprintf(why, sizeof(why), "the backend closed the connection "
		    "before %s completed", stls_name(s));
		session_backend_tls_failed(s, why);
		return false;
	}
	s->greet_len += (size_t)n;
	for (;;) {
		line = s->greet + s->greet_keep;
		len = s->greet_len - s->greet_keep;
		lf = memchr(line, '\n', len);
		if (lf == NULL) {
			if (s->greet_len < SESSION_GREETING_MAX)
				return true;
			snprintf(why, sizeof(why), "the backend's greeting or "
			    "%s reply is too long", stls_name(s));
			session_backend_tls_failed(s, why);
			return false;
		}
		len = (size_t)(lf - line) + 1;
		show = len - 1 - (len >= 2 && line[len - 2] == '\r');
		if (show > 100)
			show = 100;
		if (s->bstate == BACKEND_GREETING) {
			if (s->is_pop3 ? !line_word(line, len, "+OK") :
			    len < 5 || !ascii_ieq(line, "* OK ", 5)) {
				snprintf(why, sizeof(why), "the backend's "
				    "greeting is not OK: %.*s", (int)show,
				    line);
				session_backend_tls_failed(s, why);
				return false;
			}
			s->greet_keep = len;
			do
				n = send(s->bfd, cmd, cmdlen, MSG_NOSIGNAL);
			while (n < 0 && errno == EINTR);
			if (n != (ssize_t)cmdlen) {
				snprintf(why, sizeof(why), "sending %s: %s",
				    stls_name(s), n < 0 ? strerror(errno) :
				    "short write");
				session_backend_tls_failed(s, why);
				return false;
			}
			s->bstate = BACKEND_STARTTLS;
			continue;
		}
		if (len > tlen && memcmp(line, tag, tlen) == 0) {
			if (!line_word(line + tlen, len - tlen, s->is_pop3 ?
			    "+OK" : "OK")) {
				snprintf(why, sizeof(why), "the backend refused "
				    "%s: %.*s", stls_name(s), (int)show, line);
				session_backend_tls_failed(s, why);
				return false;
			}
			if (s->greet_keep + len != s->greet_len) {
				snprintf(why, sizeof(why), "the backend sent "
				    "data after its %s reply", stls_name(s));
				session_backend_tls_failed(s, why);
				return false;
			}
			s->greet_len = s->greet_keep;
			s->bstate = BACKEND_WAIT;
			session_diag(s, DIAG_DEBUG, "backend accepted %s",
			    stls_name(s));
			return session_setup(s);
		}
		/* an untagged line before the reply (CAPABILITY): dropped */
		memmove(line, line + len, s->greet_len - s->greet_keep - len);
		s->greet_len -= len;
	}
}

/* The client's STARTTLS handshake moved on; false when freed. */
static bool
session_starttls_handshake(struct session *s)
{
	int r = tls_conn_handshake(s->ctls);

	if (r < 0) {
		session_diag(s, DIAG_INFO, "client TLS handshake after "
		    "STARTTLS failed: %s", tls_conn_error(s->ctls));
		s->end_reason = IMAP_INFER_END_ABORT;
		session_free(s);
		return false;
	}
	if (r == 1)
		session_client_tls_done(s);
	return true;
}

static void
session_io(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct session *s = arg;
	struct tls_conn *t;
	struct pipe *wp, *rp;

	(void)loop;
	if (s->state == SESSION_CONNECTING) {
		if (fd == s->bfd && s->bstate == BACKEND_CONNECTING)
			session_connected(s);
		else if (fd == s->bfd && (s->bstate == BACKEND_GREETING ||
		    s->bstate == BACKEND_STARTTLS))
			(void)session_backend_starttls(s);
		else
			(void)session_setup(s);
		return;
	}
	if (s->state == SESSION_CLOSING) {
		if (fd != s->cfd)
			return;
		if (client_handshaking(s)) {
			/* the BYE waits for the client's handshake */
			int r = tls_conn_handshake(s->ctls);

			if (r < 0) {
				session_free(s);
				return;
			}
			if (r == 0) {
				session_update_watch(s);
				return;
			}
		}
		if (pipe_flush(&s->down) < 0)
			session_free(s);
		else if (s->down.pending == NULL)
			session_linger(s);
		else
			session_update_watch(s);
		return;
	}
	if (s->state == SESSION_LINGERING) {
		if (fd == s->cfd)
			session_discard(s);
		return;
	}
	if (client_handshaking(s)) {
		/* STARTTLS: only the handshake, and writes to the backend */
		if (fd == s->cfd && !session_starttls_handshake(s))
			return;
		if (fd == s->bfd && pipe_flush(&s->up) < 0) {
			session_write_failed(s, false, strerror(errno));
			return;
		}
		session_settle(s);
		return;
	}
	t = fd == s->cfd ? s->ctls : s->btls;
	wp = fd == s->cfd ? &s->down : &s->up;
	rp = fd == s->cfd ? &s->up : &s->down;
	/* Writes first: they may unblock reads on the other side. */
	if (wp->pending != NULL && (events & (side_write_mask(t) |
	    LOOP_ERROR))) {
		if (pipe_flush(wp) < 0) {
			session_write_failed(s, wp == &s->down,
			    t != NULL && tls_conn_error(t)[0] != '\0' ?
			    tls_conn_error(t) : strerror(errno));
			return;
		}
	}
	if ((events & (side_read_mask(t) | LOOP_ERROR)) &&
	    session_may_read(s, rp) && !session_read(s, rp))
		return;
	session_settle(s);
}

/*
 * Bytes OpenSSL read ahead (or decrypted beyond what one read took)
 * wait with no readiness on the socket: read them now, as if the socket
 * had said so.
 */
static void
session_kick(struct loop *loop, void *arg)
{
	struct session *s = arg;

	(void)loop;
	s->kick = NULL;
	if (s->ctls != NULL && tls_conn_pending(s->ctls) &&
	    session_may_read(s, &s->up) && !session_read(s, &s->up))
		return;
	if (s->btls != NULL && tls_conn_pending(s->btls) &&
	    session_may_read(s, &s->down) && !session_read(s, &s->down))
		return;
	if (s->state == SESSION_RELAYING)
		session_settle(s);
}

static void
session_timer(struct loop *loop, void *arg)
{
	struct session *s = arg;
	uint64_t now = loop_now_ms(loop), idle;
	uint64_t limit;

	s->timer = NULL;
	if (s->state == SESSION_CLOSING) {
		session_diag(s, DIAG_INFO, "client did not take the last "
		    "bytes in time");
		session_free(s);
		return;
	}
	if (s->state == SESSION_LINGERING) {
		session_free(s);
		return;
	}
	if (s->state == SESSION_CONNECTING) {
		switch (s->bstate) {
		case BACKEND_CONNECTING:
			session_backend_failed(s, "connect timed out");
			return;
		case BACKEND_GREETING:
		case BACKEND_STARTTLS:
			session_backend_tls_failed(s, s->is_pop3 ?
			    "STLS timed out" : "STARTTLS timed out");
			return;
		case BACKEND_HANDSHAKE:
			session_backend_tls_failed(s, "TLS handshake timed "
			    "out");
			return;
		case BACKEND_WAIT:
		case BACKEND_READY:
			break;
		}
		session_diag(s, DIAG_INFO, "client TLS handshake not done "
		    "within %u s", s->set->connect_timeout_ms / 1000);
		session_free(s);
		return;
	}
	/* One timer per session, re-armed only when it fires early. */
	limit = s->set->idle_timeout_ms;
	idle = now - s->last_ms;
	if (idle >= limit) {
		session_diag(s, DIAG_INFO, "idle for %llu s; session ended",
		    (unsigned long long)(idle / 1000));
		s->end_reason = IMAP_INFER_END_TIMEOUT;
		session_free(s);
		return;
	}
	s->timer = loop_timer_add(loop, limit - idle, session_timer, s);
}

/* Logout's reason in pop3_infer's terms. */
static enum pop3_infer_end
pop3_end_reason(enum imap_infer_end reason)
{
	switch (reason) {
	case IMAP_INFER_END_GRACEFUL:
		return POP3_INFER_END_GRACEFUL;
	case IMAP_INFER_END_TIMEOUT:
		return POP3_INFER_END_TIMEOUT;
	case IMAP_INFER_END_CLOSED:
		return POP3_INFER_END_CLOSED;
	case IMAP_INFER_END_ABORT:
		break;
	}
	return POP3_INFER_END_ABORT;
}

/* Ends the session: Logout if due, close both sides, free everything. */
static void
session_free(struct session *s)
{
	struct session_set *set = s->set;

	if (s->infer != NULL) {
		if (imap_infer_untracked(s->infer) > s->untracked_logged)
			session_log_untracked(s, imap_infer_untracked(s->infer));
		imap_infer_end(s->infer, s->end_reason);
		if (imap_infer_foreign_unknown(s->infer) > 0)
			session_diag(s, DIAG_DEBUG, "%llu messages added or "
			    "removed by others not reported in all",
			    (unsigned long long)
			    imap_infer_foreign_unknown(s->infer));
		imap_infer_free(&s->infer);
	}
	if (s->pop3 != NULL) {
		pop3_infer_end(s->pop3, pop3_end_reason(s->end_reason));
		if (pop3_infer_uidls_unknown(s->pop3) > 0)
			session_diag(s, DIAG_INFO, "%llu expunged messages "
			    "reported without their UIDL",
			    (unsigned long long)
			    pop3_infer_uidls_unknown(s->pop3));
		pop3_infer_free(&s->pop3);
	}
	uidl_map_unref(&s->uidl_map);
	loop_timer_cancel(set->loop, &s->timer);
	loop_timer_cancel(set->loop, &s->kick);
	tls_conn_free(&s->ctls);
	tls_conn_free(&s->btls);
	tls_ctx_unref(&s->tls_srv);
	tls_ctx_unref(&s->tls_cli);
	if (s->cfd >= 0) {
		loop_del_fd(set->loop, s->cfd);
		close(s->cfd);
	}
	if (s->bfd >= 0) {
		loop_del_fd(set->loop, s->bfd);
		close(s->bfd);
	}
	free(s->greet);
	free(s->up.pending);
	free(s->down.pending);
	free(s->ask);
	free(s->hold);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		set->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	set->count--;
	session_diag(s, DIAG_DEBUG, "closed after %llu ms; peak inference "
	    "memory %zu bytes, peak buffers %zu bytes, session %zu bytes",
	    (unsigned long long)(loop_now_ms(set->loop) - s->start_ms),
	    s->infer_peak, s->buf_peak, sizeof(*s));
	free(s);
}

/*
 * Refuse a client we cannot serve, with a BYE it can show (not on an
 * implicit TLS listener: the client expects a handshake, not text).
 */
static void
refuse(const struct listener *l, int fd, const char *why)
{
	char line[256];

	farewell(line, sizeof(line), l->service == CONFIG_SERVICE_POP3,
	    "UNAVAILABLE", "SYS/TEMP", why);
	if (l->service != CONFIG_SERVICE_IMAPS &&
	    l->service != CONFIG_SERVICE_POP3S)
		(void)send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* pop3_infer's uidl_map hook: the configured pattern (uidl_map.h). */
static bool
session_uidl_map(void *ctx, const char *uidl, size_t len, uint32_t *uid_r,
    uint32_t *uidvalidity_r)
{
	return uidl_map_match(ctx, uidl, len, uid_r, uidvalidity_r);
}

/* A and B are the same host (family and address; ports aside). */
static bool
same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0 &&
		    a6->sin6_scope_id == b6->sin6_scope_id;
	return false;
}

/*
 * The registry keys of a POP3 session's store: the backends of the IMAP
 * listeners at the POP3 backend's address (any port: the same server's
 * IMAP), each once, as their sessions key the registry (their backend
 * as written), at most POP3_INFER_BACKENDS_MAX.  The strings are the
 * listeners'; pop3_infer_new() copies them.
 */
static void
session_pop3_backends(const struct session *s,
    const char *out[POP3_INFER_BACKENDS_MAX])
{
	const struct listener *l;
	size_t n = 0, i;

	for (l = s->set->listeners; l != NULL; l = l->next) {
		if ((l->service != CONFIG_SERVICE_IMAP &&
		    l->service != CONFIG_SERVICE_IMAPS) ||
		    !same_host(&l->backend.sa, &s->backend_sa))
			continue;
		for (i = 0; i < n && strcmp(out[i], l->backend.text) != 0; i++)
			;
		if (i == n && n < POP3_INFER_BACKENDS_MAX)
			out[n++] = l->backend.text;
	}
}

/*
 * A POP3 session's inference.  It relays through session_pop3_up() and
 * session_pop3_down(), with UIDL commands of its own unless
 * backend-queries is off; it takes the server's STLS out of CAPA
 * listings, and offers msgeventd's while the session may turn TLS.
 */
static struct pop3_infer *
session_pop3_new(struct session *s)
{
	struct session_set *set = s->set;
	struct pop3_infer_env env;
	struct pop3_infer *infer;

	memset(&env, 0, sizeof(env));
	env.client_ip = s->client_ip;
	env.client_port = s->client_port;
	env.server_domain = set->server_name;
	env.server_port = s->server_port;
	env.server_fqdn = set->server_name;
	env.service = "pop";
	env.session_id = s->id;
	env.line_max = set->line_max;
	env.no_own_commands = !set->backend_queries;
	env.stls_own = true;
	env.emit = session_emit;
	env.to_server = session_pop3_up;
	env.to_client = session_pop3_down;
	env.ctx = s;
	if (s->uidl_map != NULL) {
		env.uidl_map = session_uidl_map;
		env.uidl_map_ctx = s->uidl_map;
	}
	/* its expunges, told to the IMAP sessions of the same store */
	env.registry = set->registry;
	session_pop3_backends(s, env.backends);
	infer = pop3_infer_new(&env);
	if (infer != NULL && s->capa_adding)
		pop3_infer_offer_stls(infer, true);
	return infer;
}

static void
session_start(struct listener *l, int cfd, const struct sockaddr_storage *ss)
{
	struct session_set *set = l->set;
	struct session *s;
	struct imap_infer_env env;

	if (set->count >= set->max_sessions) {
		diag_warn("listener %s: %u sessions open, the limit; client "
		    "refused", l->listen.text, set->max_sessions);
		refuse(l, cfd, "too many sessions, try again later");
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		diag_error("accept: %s", strerror(errno));
		refuse(l, cfd, "out of memory");
		return;
	}
	s->set = set;
	s->id = ++set->next_id;
	s->cfd = cfd;
	s->bfd = -1;
	s->state = SESSION_CONNECTING;
	s->end_reason = IMAP_INFER_END_ABORT;
	s->start_ms = s->last_ms = loop_now_ms(set->loop);
	addr_format(ss, s->client_ip, sizeof(s->client_ip), &s->client_port);
	s->server_port = l->listen.port;
	snprintf(s->backend_text, sizeof(s->backend_text), "%s",
	    l->backend.text);
	snprintf(s->backend_name, sizeof(s->backend_name), "%s",
	    l->backend_name);
	s->up.src_tls = s->down.dst_tls = &s->ctls;
	s->up.dst_tls = s->down.src_tls = &s->btls;
	s->is_pop3 = l->service == CONFIG_SERVICE_POP3 ||
	    l->service == CONFIG_SERVICE_POP3S;
	s->alpn = s->is_pop3 ? "pop3" : "imap";
	if (s->is_pop3) {
		/* no IMAP capability filter: pop3_infer filters CAPA */
		s->capa_off = true;
		s->uidl_map = uidl_map_ref(set->uidl_map);
	}
	s->bstate = BACKEND_CONNECTING;
	s->backend_tls = l->backend_tls;
	s->backend_starttls = l->backend_starttls;
	if ((s->backend_tls || s->backend_starttls) && set->tls_cli != NULL)
		s->tls_cli = tls_ctx_ref(set->tls_cli);
	memcpy(&s->backend_sa, &l->backend.sa, sizeof(s->backend_sa));
	s->backend_salen = l->backend.salen;
	imap_capa_init(&s->capa, &set->capa_hide);
	if ((l->service == CONFIG_SERVICE_IMAP ||
	    l->service == CONFIG_SERVICE_POP3) && set->tls_srv != NULL) {
		/* STARTTLS, STLS are msgeventd's: offered until TLS is up */
		s->tls_srv = tls_ctx_ref(set->tls_srv);
		if (!s->is_pop3)
			imap_capa_set_add(&s->capa, " STARTTLS");
		s->capa_adding = true;
	}
	s->next = set->sessions;
	if (s->next != NULL)
		s->next->prev = s;
	set->sessions = s;
	set->count++;
	set_nodelay(cfd);

	memset(&env, 0, sizeof(env));
	env.client_ip = s->client_ip;
	env.client_port = s->client_port;
	env.server_domain = set->server_name;
	env.server_port = s->server_port;
	env.server_fqdn = set->server_name;
	env.service = "imap";
	env.flag_report = set->flag_events == CONFIG_FLAG_EVENTS_FLAGS ?
	    IMAP_FLAGS_REPORT_FLAGS : IMAP_FLAGS_REPORT_SIMPLE;
	env.session_id = s->id;
	env.line_max = set->line_max;
	env.registry = set->registry;
	env.backend = s->backend_text;
	env.emit = session_emit;
	env.ctx = s;
	if (s->is_pop3)
		s->pop3 = session_pop3_new(s);
	else
		s->infer = imap_infer_new(&env);
	if (s->infer == NULL && s->pop3 == NULL) {
		session_diag(s, DIAG_ERROR, "out of memory");
		refuse(l, cfd, "out of memory");
		s->cfd = -1;
		session_free(s);
		return;
	}
	if (loop_add_fd(set->loop, cfd, 0, session_io, s) < 0) {
		session_diag(s, DIAG_ERROR, "epoll: %s", strerror(errno));
		session_free(s);
		return;
	}
	if (l->service == CONFIG_SERVICE_IMAPS ||
	    l->service == CONFIG_SERVICE_POP3S) {
		/* implicit TLS: the handshake runs while the backend connects */
		if (set->tls_srv == NULL || (s->tls_cli == NULL &&
		    (s->backend_tls || s->backend_starttls)) ||
		    (s->ctls = tls_conn_server(set->tls_srv, cfd,
		    s->alpn)) == NULL) {
			session_diag(s, DIAG_ERROR, "TLS: out of memory");
			session_free(s);
			return;
		}
	}
	s->up.src = s->down.dst = cfd;
	s->bfd = socket(s->backend_sa.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->bfd < 0) {
		session_backend_failed(s, strerror(errno));
		return;
	}
	s->up.dst = s->down.src = s->bfd;
	if (loop_add_fd(set->loop, s->bfd, LOOP_WRITE, session_io, s) < 0) {
		close(s->bfd);
		s->bfd = -1;
		session_backend_failed(s, strerror(errno));
		return;
	}
	s->timer = loop_timer_add(set->loop, set->connect_timeout_ms,
	    session_timer, s);
	session_diag(s, DIAG_DEBUG, "accepted on %s", l->listen.text);
	if (connect(s->bfd, (struct sockaddr *)&s->backend_sa,
	    s->backend_salen) == 0) {
		session_connected(s);
	} else if (errno != EINPROGRESS) {
		session_backend_failed(s, strerror(errno));
	} else
		session_update_watch(s);
	/*
	 * The connect timer doubles as the idle timer: when it fires on a
	 * relaying session, session_timer() re-arms it for the idle limit.
	 */
}

static void
listener_accept(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct listener *l = arg;
	struct sockaddr_storage ss;
	socklen_t sslen;
	int cfd;

	(void)loop;
	(void)events;
	/* A bounded batch per wake-up, so one busy listener cannot starve others. */
	for (int i = 0; i < 64; i++) {
		sslen = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				diag_warn("listener %s: accept: %s",
				    l->listen.text, strerror(errno));
			return;
		}
		session_start(l, cfd, &ss);
	}
}

static int
listener_open(struct session_set *set, const struct config_listen *cl,
    struct listener **l_r, char *err, size_t errlen)
{
	struct listener *l;
	int one = 1;

	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->set = set;
	l->service = cl->service;
	l->listen = cl->listen;
	l->backend = cl->backend;
	l->backend_tls = cl->backend_tls;
	l->backend_starttls = cl->backend_starttls;
	memcpy(l->backend_name, cl->backend_name, sizeof(l->backend_name));
	l->fd = socket(cl->listen.sa.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		goto fail;
	(void)setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::]:143 means IPv6 only; 0.0.0.0:143 can then be listed too. */
	if (cl->listen.sa.ss_family == AF_INET6)
		(void)setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(l->fd, (const struct sockaddr *)&cl->listen.sa,
	    cl->listen.salen) < 0 || listen(l->fd, 511) < 0 ||
	    loop_add_fd(set->loop, l->fd, LOOP_READ, listener_accept, l) < 0)
		goto fail;
	*l_r = l;
	return 0;
fail:
	snprintf(err, errlen, "listen %s: %s", cl->listen.text,
	    strerror(errno));
	if (l->fd >= 0)
		close(l->fd);
	free(l);
	return -1;
}

static void
listener_close(struct session_set *set, struct listener *l)
{
	loop_del_fd(set->loop, l->fd);
	close(l->fd);
	free(l);
}

struct session_set *
session_set_new(struct loop *loop, struct out *out)
{
	struct session_set *set;

	set = calloc(1, sizeof(*set));
	if (set == NULL)
		return NULL;
	if ((set->registry = imap_registry_new(NULL)) == NULL) {
		free(set);
		return NULL;
	}
	set->loop = loop;
	set->out = out;
	/*
	 * COMPRESS=DEFLATE (RFC 4978) would turn the rest of a session into
	 * bytes the parser cannot read: clients are not offered it (nor any
	 * other COMPRESS= algorithm), so they do not ask for it.
	 */
	imap_capa_list_init(&set->capa_hide);
	/*
	 * STARTTLS is msgeventd's own when it holds a certificate, and not
	 * to be had otherwise: the backend's offer never reaches clients.
	 */
	if (imap_capa_list_add(&set->capa_hide, "COMPRESS=") < 0 ||
	    imap_capa_list_add(&set->capa_hide, "STARTTLS") < 0) {
		imap_registry_free(&set->registry);
		free(set);
		return NULL;
	}
	set->line_max = 65536;
	set->idle_timeout_ms = 1800 * 1000;
	set->connect_timeout_ms = 10 * 1000;
	set->max_sessions = 10000;
	return set;
}

static bool
listener_same(const struct listener *l, const struct config_listen *cl)
{
	return l->service == cl->service &&
	    l->listen.salen == cl->listen.salen &&
	    memcmp(&l->listen.sa, &cl->listen.sa, cl->listen.salen) == 0;
}

int
session_set_configure(struct session_set *set, const struct config *config,
    char *err, size_t errlen)
{
	struct listener *fresh = NULL, *l, **lp;
	const struct config_listen *cl;
	struct tls_ctx *srv = NULL, *cli = NULL;
	bool backend_tls = false;

	/*
	 * TLS first: certificates and keys are read again (the point of a
	 * reload); one that does not load keeps everything as it was.
	 */
	if (config->tls.cert[0] != '\0' &&
	    (srv = tls_ctx_server_new(config, err, errlen)) == NULL)
		return -1;
	for (cl = config->listens; cl != NULL; cl = cl->next)
		if (cl->backend_tls || cl->backend_starttls)
			backend_tls = true;
	if (backend_tls &&
	    (cli = tls_ctx_client_new(config, err, errlen)) == NULL) {
		tls_ctx_unref(&srv);
		return -1;
	}
	for (l = set->listeners; l != NULL; l = l->next)
		l->seen = false;
	/* Open what is new first, so a failure changes nothing. */
	for (cl = config->listens; cl != NULL; cl = cl->next) {
		for (l = set->listeners; l != NULL; l = l->next)
			if (listener_same(l, cl))
				break;
		if (l != NULL) {
			l->seen = true;
			continue;
		}
		if (listener_open(set, cl, &l, err, errlen) < 0) {
			while ((l = fresh) != NULL) {
				fresh = l->next;
				listener_close(set, l);
			}
			tls_ctx_unref(&srv);
			tls_ctx_unref(&cli);
			return -1;
		}
		l->seen = true;
		l->next = fresh;
		fresh = l;
	}
	/* Committed: kept listeners take their new backends. */
	for (cl = config->listens; cl != NULL; cl = cl->next)
		for (l = set->listeners; l != NULL; l = l->next)
			if (listener_same(l, cl)) {
				l->backend = cl->backend;
				l->backend_tls = cl->backend_tls;
				l->backend_starttls = cl->backend_starttls;
				memcpy(l->backend_name, cl->backend_name,
				    sizeof(l->backend_name));
			}
	/* New sessions get the new TLS contexts; open ones keep theirs. */
	tls_ctx_unref(&set->tls_srv);
	tls_ctx_unref(&set->tls_cli);
	set->tls_srv = srv;
	set->tls_cli = cli;
	if (srv != NULL)
		diag_info("TLS certificate %s loaded for new sessions",
		    config->tls.cert);
	for (lp = &set->listeners; *lp != NULL;) {
		l = *lp;
		if (!l->seen) {
			*lp = l->next;
			diag_info("listener %s closed", l->listen.text);
			listener_close(set, l);
		} else
			lp = &l->next;
	}
	while ((l = fresh) != NULL) {
		fresh = l->next;
		l->next = set->listeners;
		set->listeners = l;
		diag_info("listening on %s (%s), backend %s", l->listen.text,
		    config_service_name(l->service), l->backend.text);
	}
	snprintf(set->server_name, sizeof(set->server_name), "%s",
	    config->server_name);
	set->line_max = config->max_line_length;
	set->idle_timeout_ms = config->idle_timeout * 1000;
	set->connect_timeout_ms = config->connect_timeout * 1000;
	set->max_sessions = config->max_sessions;
	set->flag_events = config->flag_events;
	set->backend_queries = config->backend_queries;
	/* new POP3 sessions take the new pattern; open ones keep theirs */
	uidl_map_unref(&set->uidl_map);
	set->uidl_map = uidl_map_ref(config->uidl_map);
	return 0;
}

void
session_set_out(struct session_set *set, struct out *out)
{
	set->out = out;
}

void
session_set_stop_listening(struct session_set *set)
{
	struct listener *l;

	while ((l = set->listeners) != NULL) {
		set->listeners = l->next;
		listener_close(set, l);
	}
}

void
session_set_close_all(struct session_set *set)
{
	while (set->sessions != NULL) {
		set->sessions->end_reason = IMAP_INFER_END_ABORT;
		session_free(set->sessions);
	}
}

size_t
session_set_count(const struct session_set *set)
{
	return set->count;
}

void
session_set_free(struct session_set **setp)
{
	struct session_set *set = *setp;

	if (set == NULL)
		return;
	session_set_stop_listening(set);
	session_set_close_all(set);
	imap_registry_free(&set->registry);
	uidl_map_unref(&set->uidl_map);
	tls_ctx_unref(&set->tls_srv);
	tls_ctx_unref(&set->tls_cli);
	free(set);
	*setp = NULL;
}
