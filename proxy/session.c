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
#include "config.h"
#include "diag.h"
#include "loop.h"

/*
 * A pipe's pending buffer: one read, plus what the capability filter may
 * have held back from the read before (IMAP_CAPA_HOLD_MAX), plus room
 * for a last line of the proxy's own.
 */
#define PIPE_BUF_SIZE	(SESSION_PENDING_MAX + IMAP_CAPA_HOLD_MAX + \
			IMAP_ASK_LINE_MAX + IMAP_ASK_QUERY_MAX + 512)

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

struct listener {
	struct listener *next;
	struct session_set *set;
	int fd;
	enum config_service service;
	struct config_addr listen;
	struct config_addr backend;
	bool seen;			/* still configured (reload bookkeeping) */
};

struct pipe {
	int src, dst;			/* fds, owned by the session */
	char *pending;			/* NULL unless DST lagged */
	size_t pending_len;
	size_t pending_off;
	bool eof;			/* SRC said EOF (or the proxy stopped reading it) */
	bool done;			/* EOF passed on to DST */
};

enum session_state {
	SESSION_CONNECTING,		/* waiting for the backend connect */
	SESSION_RELAYING,
	SESSION_CLOSING,		/* flushing the last bytes to the client */
	SESSION_LINGERING,		/* FIN sent; discarding what the client still sends */
};

struct session {
	struct session *prev, *next;
	struct session_set *set;
	uint64_t id;
	enum session_state state;
	int cfd, bfd;
	struct pipe up;			/* client -> backend */
	struct pipe down;		/* backend -> client */
	struct imap_infer *infer;
	struct imap_capa capa;		/* server -> client capability filter */
	bool capa_off;			/* stopped: the stream is no longer IMAP */
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
	char client_ip[INET6_ADDRSTRLEN];
	uint16_t client_port;
	uint16_t server_port;
	char backend_text[CONFIG_NAME_MAX];
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
	uint64_t next_id;
	/* settings for new sessions, from the configuration */
	char server_name[CONFIG_NAME_MAX];
	size_t line_max;
	unsigned idle_timeout_ms;
	unsigned connect_timeout_ms;
	unsigned max_sessions;
	enum config_flag_events flag_events;
	bool backend_queries;		/* may ask the backend itself */
};

/*
 * The one read buffer of the process: bytes are parsed and written on
 * from here, so an idle or keeping-up session needs no buffer of its own.
 */
static char relay_buf[SESSION_PENDING_MAX];

static void session_io(struct loop *, int, unsigned, void *);
static void session_timer(struct loop *, void *);
static void session_free(struct session *);
static void session_down_out(void *, const char *, size_t);

static const char *
session_action(const struct session *s)
{
	switch (s->state) {
	case SESSION_CONNECTING:
		return "connecting to the backend";
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
	const char *user = s->infer != NULL ? imap_infer_user(s->infer) : NULL;

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

/* Which events each fd should be watched for, from the pipes' state. */
static void
session_update_watch(struct session *s)
{
	unsigned cmask = 0, bmask = 0;

	if (s->state == SESSION_CONNECTING) {
		loop_set_fd(s->set->loop, s->bfd, LOOP_WRITE);
		loop_set_fd(s->set->loop, s->cfd, 0);
		return;
	}
	if (s->state == SESSION_RELAYING) {
		/* Read a side only while nothing read from it is pending. */
		if (!s->up.eof && s->up.pending == NULL && s->ask == NULL)
			cmask |= LOOP_READ;
		if (!s->down.eof && s->down.pending == NULL)
			bmask |= LOOP_READ;
		if (s->up.pending != NULL)
			bmask |= LOOP_WRITE;
	}
	if (s->down.pending != NULL)
		cmask |= LOOP_WRITE;
	loop_set_fd(s->set->loop, s->cfd, cmask);
	if (s->bfd >= 0)
		loop_set_fd(s->set->loop, s->bfd, bmask);
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
		n = send(p->dst, data, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
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
		n = send(p->dst, p->pending + p->pending_off,
		    p->pending_len - p->pending_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
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
		close(s->bfd);
		s->bfd = -1;
	}
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
	if (s->down.pending == NULL)
		session_linger(s);
	else
		loop_set_fd(s->set->loop, s->cfd, LOOP_WRITE);
}

/* The backend connection failed or timed out: tell the client why. */
static void
session_backend_failed(struct session *s, const char *why)
{
	char line[512];

	session_diag(s, DIAG_WARN, "backend %s unavailable: %s",
	    s->backend_text, why);
	snprintf(line, sizeof(line),
	    "* BYE [UNAVAILABLE] msgeventd: backend server unavailable (%s)\r\n",
	    why);
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

/* Check the inference after it has been fed: log trouble, apply policy. */
static bool
session_check_infer(struct session *s)
{
	enum imap_parser_dir dir;
	enum imap_parser_error err;
	char line[256];
	uint64_t untracked;
	size_t mem;

	mem = imap_infer_memory(s->infer);
	if (mem > s->infer_peak)
		s->infer_peak = mem;
	mem = (s->up.pending != NULL ? PIPE_BUF_SIZE : 0) +
	    (s->down.pending != NULL ? PIPE_BUF_SIZE : 0) +
	    (s->hold != NULL ? SESSION_HOLD_SIZE : 0) +
	    (s->ask != NULL ? sizeof(*s->ask) : 0);
	if (mem > s->buf_peak)
		s->buf_peak = mem;
	untracked = imap_infer_untracked(s->infer);
	if (untracked > s->untracked_logged &&
	    (s->untracked_logged == 0 || loop_now_ms(s->set->loop) >=
	    s->untracked_log_ms + SESSION_WARN_INTERVAL_MS))
		session_log_untracked(s, untracked);
	if (!imap_infer_error(s->infer, &dir, &err)) {
		const char *blind = imap_infer_blind_reason(s->infer);

		if (blind != NULL && !s->blind_logged) {
			s->blind_logged = true;
			session_diag(s, DIAG_INFO, "no longer parsing: %s; "
			    "relaying blind", blind);
		}
		return true;
	}
	if (err == IMAP_PERR_LINE_TOO_LONG) {
		session_diag(s, DIAG_WARN, "%s line exceeds %zu bytes; "
		    "session ended", dir == IMAP_PARSER_CLIENT ? "client" :
		    "server", s->set->line_max);
		snprintf(line, sizeof(line), "* BYE [TOOBIG] msgeventd: %s "
		    "line exceeds %zu bytes\r\n", dir == IMAP_PARSER_CLIENT ?
		    "command" : "response", s->set->line_max);
		s->end_reason = IMAP_INFER_END_ABORT;
		session_close_with(s, line);
		return false;
	}
	if (!s->blind_logged) {
		s->blind_logged = true;
		session_diag(s, DIAG_WARN, "cannot parse %s data (%s); "
		    "relaying blind, no more events for this session",
		    dir == IMAP_PARSER_CLIENT ? "client" : "server",
		    imap_parser_error_name(err));
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
 * Send the held client bytes on, fed to the inference first, as if just
 * read.  Returns false when the session was freed.
 */
static bool
session_hold_release(struct session *s)
{
	char *data = s->hold;
	size_t len = s->hold_len;

	s->hold = NULL;
	s->hold_len = 0;
	s->asks = 0;
	if (data == NULL)
		return true;
	imap_infer_client_data(s->infer, data, len);
	if (!session_check_infer(s)) {
		free(data);
		return false;
	}
	if (s->bfd >= 0 && session_relay(s, &s->up, data, len) < 0) {
		free(data);
		session_diag(s, DIAG_INFO, "writing to backend: %s",
		    strerror(errno));
		s->end_reason = IMAP_INFER_END_ABORT;
		session_lost(s, false);
		return false;
	}
	free(data);
	return true;
}

/*
 * The held client bytes: wait for the first line's end, then either ask
 * the server a question of the proxy's own first (imap_infer_ask()) or
 * send them on.  Returns false when the session was freed.
 */
static bool
session_hold_process(struct session *s)
{
	struct imap_ask_query q;
	const char *lf;

	if (s->ask != NULL)
		return true;		/* the answer is not in yet */
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
				session_diag(s, DIAG_INFO, "writing to backend: %s",
				    strerror(errno));
				s->end_reason = IMAP_INFER_END_ABORT;
				session_lost(s, false);
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
			imap_infer_client_data(s->infer, data, len);
			if (!session_check_infer(s))
				return false;
			if (session_relay(s, &s->up, data, len) < 0) {
				s->end_reason = IMAP_INFER_END_ABORT;
				session_lost(s, false);
				return false;
			}
			return true;
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

	do
		n = recv(p->src, relay_buf, sizeof(relay_buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		session_diag(s, DIAG_INFO, "%s: %s", up ? "client" : "backend",
		    strerror(errno));
		s->end_reason = IMAP_INFER_END_ABORT;
		session_lost(s, up);
		return false;
	}
	if (n == 0) {
		p->eof = true;
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
		if (!up && !s->capa_off) {
			s->write_failed = false;
			imap_capa_flush(&s->capa, session_capa_out, s);
			s->capa_off = true;
			if (s->write_failed) {
				session_lost(s, true);
				return false;
			}
		}
		if (imap_infer_in_literal(s->infer, up ? IMAP_PARSER_CLIENT :
		    IMAP_PARSER_SERVER))
			session_diag(s, DIAG_INFO, "%s closed the connection "
			    "inside a literal", up ? "client" : "backend");
		return true;
	}
	s->last_ms = loop_now_ms(s->set->loop);
	if (up && (s->hold != NULL || (s->set->backend_queries &&
	    imap_infer_may_ask(s->infer))))
		return session_hold_add(s, relay_buf, (size_t)n);
	if (up)
		imap_infer_client_data(s->infer, relay_buf, (size_t)n);
	else
		imap_infer_server_data(s->infer, relay_buf, (size_t)n);
	if (!session_check_infer(s))
		return false;
	if (session_relay(s, p, relay_buf, (size_t)n) < 0) {
		session_diag(s, DIAG_INFO, "writing to %s: %s",
		    up ? "backend" : "client", strerror(errno));
		s->end_reason = IMAP_INFER_END_ABORT;
		session_lost(s, !up);
		return false;
	}
	if (!up && s->ask != NULL && imap_ask_done(s->ask))
		return session_ask_done(s);
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
			(void)shutdown(p->dst, SHUT_WR);
		}
	}
	if (s->up.done && s->down.done) {
		session_free(s);
		return false;
	}
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
	s->state = SESSION_RELAYING;
	s->last_ms = loop_now_ms(s->set->loop);
	session_diag(s, DIAG_DEBUG, "connected to backend %s",
	    s->backend_text);
	session_update_watch(s);
}

static void
session_io(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct session *s = arg;

	(void)loop;
	if (s->state == SESSION_CONNECTING) {
		if (fd == s->bfd)
			session_connected(s);
		return;
	}
	if (s->state == SESSION_CLOSING) {
		if (fd == s->cfd && (events & LOOP_WRITE)) {
			if (pipe_flush(&s->down) < 0)
				session_free(s);
			else if (s->down.pending == NULL)
				session_linger(s);
		}
		return;
	}
	if (s->state == SESSION_LINGERING) {
		if (fd == s->cfd)
			session_discard(s);
		return;
	}
	/* Writes first: they may unblock reads on the other side. */
	if (events & LOOP_WRITE) {
		struct pipe *p = fd == s->cfd ? &s->down : &s->up;

		if (pipe_flush(p) < 0) {
			session_diag(s, DIAG_INFO, "writing to %s: %s",
			    p == &s->down ? "client" : "backend",
			    strerror(errno));
			s->end_reason = IMAP_INFER_END_ABORT;
			session_lost(s, p == &s->down);
			return;
		}
	}
	if (events & (LOOP_READ | LOOP_ERROR)) {
		struct pipe *p = fd == s->cfd ? &s->up : &s->down;

		if (!p->eof && p->pending == NULL && !session_read(s, p))
			return;
	}
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
		session_backend_failed(s, "connect timed out");
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

/* Ends the session: Logout if due, close both sides, free everything. */
static void
session_free(struct session *s)
{
	struct session_set *set = s->set;

	if (s->infer != NULL) {
		if (imap_infer_untracked(s->infer) > s->untracked_logged)
			session_log_untracked(s, imap_infer_untracked(s->infer));
		imap_infer_end(s->infer, s->end_reason);
		imap_infer_free(&s->infer);
	}
	loop_timer_cancel(set->loop, &s->timer);
	if (s->cfd >= 0) {
		loop_del_fd(set->loop, s->cfd);
		close(s->cfd);
	}
	if (s->bfd >= 0) {
		loop_del_fd(set->loop, s->bfd);
		close(s->bfd);
	}
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

/* Refuse a client we cannot serve, with a BYE it can show. */
static void
refuse(int fd, const char *why)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "* BYE [UNAVAILABLE] msgeventd: %s\r\n",
	    why);
	if (n > 0)
		(void)send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
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
		refuse(cfd, "too many sessions, try again later");
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		diag_error("accept: %s", strerror(errno));
		refuse(cfd, "out of memory");
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
	memcpy(&s->backend_sa, &l->backend.sa, sizeof(s->backend_sa));
	s->backend_salen = l->backend.salen;
	imap_capa_init(&s->capa, &set->capa_hide);
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
	env.emit = session_emit;
	env.ctx = s;
	s->infer = imap_infer_new(&env);
	if (s->infer == NULL) {
		session_diag(s, DIAG_ERROR, "out of memory");
		refuse(cfd, "out of memory");
		s->cfd = -1;
		session_free(s);
		return;
	}
	if (loop_add_fd(set->loop, cfd, 0, session_io, s) < 0) {
		session_diag(s, DIAG_ERROR, "epoll: %s", strerror(errno));
		session_free(s);
		return;
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
	}
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
	set->loop = loop;
	set->out = out;
	/*
	 * COMPRESS=DEFLATE (RFC 4978) would turn the rest of a session into
	 * bytes the parser cannot read: clients are not offered it (nor any
	 * other COMPRESS= algorithm), so they do not ask for it.
	 */
	imap_capa_list_init(&set->capa_hide);
	if (imap_capa_list_add(&set->capa_hide, "COMPRESS=") < 0) {
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
			return -1;
		}
		l->seen = true;
		l->next = fresh;
		fresh = l;
	}
	/* Committed: kept listeners take their new backends. */
	for (cl = config->listens; cl != NULL; cl = cl->next)
		for (l = set->listeners; l != NULL; l = l->next)
			if (listener_same(l, cl))
				l->backend = cl->backend;
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
	free(set);
	*setp = NULL;
}
