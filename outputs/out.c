/*
 * out.c - fan-out of events to the syslog and SNMP outputs.
 *
 * Each output owns a bounded byte ring of formatted messages, each
 * stored as a 4-byte length and the RFC 5424 message.  out_emit()
 * formats once per output, queues, and sends at once when the socket
 * takes it; what the socket does not take waits for LOOP_WRITE.  Nothing
 * here blocks the loop: sockets are non-blocking, connects happen in the
 * background, and a full queue drops the new message.  Only the stderr
 * output writes directly, and may block.
 *
 * Stream transports (TCP, a Unix stream socket) frame each message as
 * RFC 6587 3.4.1 octet counting, "LEN SP MSG".  The frame prefix is made
 * when sending, not when queueing, so a Unix output may find a datagram
 * socket one time and a stream socket the next without requeueing.
 * Several messages go out per sendmsg().  Of the queue's first message,
 * first_off bytes are already on the wire; when a connection breaks,
 * first_off goes back to 0 and the message is sent whole again on the
 * next connection, so the collector never sees half a frame followed by
 * a new one (it may see a message twice: at-least-once, as with any
 * syslog over TCP).
 *
 * TLS (RFC 5425) is the TCP transport with a TLS client connection
 * (proxy/tls.h) on the socket: after the connect, a non-blocking
 * handshake, in which the collector's certificate must verify against
 * the output's CA (or the system store) and carry its name; until it
 * has, nothing is sent (fail closed), and a failed handshake is a
 * failure like a refused connect: logged, retried after the backoff,
 * messages queue meanwhile.  Frames are the same octet-counted ones,
 * copied into one buffer of at most a record's size, since SSL_write
 * takes one buffer; after a write that waited, the retry starts with
 * the same bytes, as OpenSSL wants (the queue only grows behind them).
 * An output that is up sends close_notify when it is freed.
 *
 * SNMP outputs (out_snmp.c) keep their own queues and sockets; the
 * fan-out hands them each event, and out_flush() polls them with the
 * rest.
 */
#include "out.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../proxy/diag.h"
#include "../proxy/loop.h"
#include "../proxy/tls.h"

/* The smallest queue: 32 messages of the largest size, 8192 bytes. */
#define OUT_QUEUE_MIN		(64 * 1024)
/* Before each queued message: its length, a uint32_t. */
#define OUT_RECORD_HDR		4
/* "8192 ": RFC 6587 MSG-LEN and SP, for a message of at most 8192. */
#define OUT_PREFIX_MAX		8
/* Messages per sendmsg() on a stream: each takes up to 3 iovecs. */
#define OUT_BATCH		16
/* Reconnect delays: 250 ms, doubling up to 5 s (INTERFACE.md). */
#define OUT_BACKOFF_MIN_MS	250
#define OUT_BACKOFF_MAX_MS	5000
/* A connection up this long resets the backoff when it breaks. */
#define OUT_STABLE_MS		5000
/* A non-blocking connect still pending after this is abandoned. */
#define OUT_CONNECT_TIMEOUT_MS	10000
/* At most one "dropped" warning per output per interval. */
#define OUT_WARN_INTERVAL_MS	1000
/* A stderr write that cannot proceed for this long drops the message. */
#define OUT_STDERR_WAIT_MS	1000
/* TLS: frames per write, at most one TLS record's plaintext. */
#define OUT_TLS_BUF		16384
/* RFC 5424 7.3.1: sequenceId runs 1..2147483647, then wraps to 1. */
#define OUT_SEQ_MAX		2147483647u

enum out_state {
	OUT_DOWN,		/* no socket; a retry timer is normally armed */
	OUT_CONNECTING,		/* non-blocking connect under way */
	OUT_HANDSHAKE,		/* TLS: connected, handshake under way */
	OUT_UP,
};

struct out_output {
	struct out *out;
	struct out_output *next;
	enum out_transport transport;
	char *name;			/* "tcp://127.0.0.1:5514" */
	struct out_syslog_opts opts;	/* points at hostname, sd_id below */
	char hostname[256];
	char sd_id[33];
	struct sockaddr_storage sa;	/* UDP, TCP; UNIX: a sockaddr_un */
	socklen_t salen;

	int fd;				/* -1 when down */
	enum out_state state;
	bool stream;			/* octet-counted frames */
	bool blocked;			/* EAGAIN: waiting for LOOP_WRITE */
	unsigned mask;			/* what the loop watches on fd */
	struct loop_timer *timer;	/* DOWN: retry; CONNECTING: timeout */
	unsigned backoff_ms;		/* the next retry's delay */
	uint64_t up_since_ms;
	bool outage;			/* down, and it was logged */
	char why[256];			/* ... with this message */

	struct tls_ctx *tls;		/* TLS: the context (a reference) */
	char *tls_name;			/* ... the name to verify */
	struct tls_conn *conn;		/* ... the connection, or NULL */
	char *tlsbuf;			/* ... OUT_TLS_BUF bytes to write */

	uint32_t seq;			/* last sequenceId used */
	char *ring;			/* queued records */
	size_t cap, head, used, count;
	size_t first_off;		/* first message's frame bytes written */

	uint64_t sent, dropped;
	uint64_t warned_ms;		/* when a drop was last logged */
	bool warned;

	/* Formatting scratch; also a wrapped datagram copied out whole. */
	char msg[OUT_SYSLOG_SIZE_MAX + 1];	/* +1: stderr's LF */
};

struct out {
	struct loop *loop;
	struct out_output *outputs;	/* in the order they were added */
	size_t noutputs;
	struct out_snmp **snmp;		/* SNMP outputs (out_snmp.c) */
	size_t nsnmp;
	uint64_t emitted;
};

static void output_connect(struct out_output *o);
static void output_io(struct loop *loop, int fd, unsigned events, void *arg);

static uint64_t
clock_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The ring: offsets are relative to head and wrap at cap. */

static void
ring_write(struct out_output *o, size_t off, const void *src, size_t n)
{
	size_t pos = (o->head + off) % o->cap, first;

	first = n < o->cap - pos ? n : o->cap - pos;
	memcpy(o->ring + pos, src, first);
	memcpy(o->ring, (const char *)src + first, n - first);
}

static void
ring_read(const struct out_output *o, size_t off, void *dst, size_t n)
{
	size_t pos = (o->head + off) % o->cap, first;

	first = n < o->cap - pos ? n : o->cap - pos;
	memcpy(dst, o->ring + pos, first);
	memcpy((char *)dst + first, o->ring, n - first);
}

/* N bytes at OFF as one or two iovecs; returns how many. */
static int
ring_iov(const struct out_output *o, size_t off, size_t n,
    struct iovec *iov)
{
	size_t pos = (o->head + off) % o->cap;

	iov[0].iov_base = o->ring + pos;
	if (n <= o->cap - pos) {
		iov[0].iov_len = n;
		return 1;
	}
	iov[0].iov_len = o->cap - pos;
	iov[1].iov_base = o->ring;
	iov[1].iov_len = n - (o->cap - pos);
	return 2;
}

/* The length of the message whose record starts at OFF. */
static size_t
queue_len_at(const struct out_output *o, size_t off)
{
	uint32_t len;

	ring_read(o, off, &len, sizeof(len));
	return len;
}

static bool
queue_push(struct out_output *o, const char *msg, size_t len)
{
	uint32_t len32 = (uint32_t)len;

	if (o->cap - o->used < OUT_RECORD_HDR + len)
		return false;
	ring_write(o, o->used, &len32, sizeof(len32));
	ring_write(o, o->used + OUT_RECORD_HDR, msg, len);
	o->used += OUT_RECORD_HDR + len;
	o->count++;
	return true;
}

static void
queue_pop(struct out_output *o)
{
	size_t n = OUT_RECORD_HDR + queue_len_at(o, 0);

	o->head = (o->head + n) % o->cap;
	o->used -= n;
	o->count--;
	o->first_off = 0;
	if (o->used == 0)
		o->head = 0;	/* keeps the next messages contiguous */
}

static void
queue_clear(struct out_output *o)
{
	o->head = o->used = o->count = o->first_off = 0;
}

/* RFC 6587 3.4.1: the "LEN SP" before a message of LEN bytes. */
static size_t
frame_prefix(size_t len, char buf[OUT_PREFIX_MAX])
{
	int n;

	n = snprintf(buf, OUT_PREFIX_MAX, "%zu ", len);
	assert(n > 0 && n < OUT_PREFIX_MAX);
	return (size_t)n;
}

/*
 * Count N messages of O as dropped, and say so at most once per
 * OUT_WARN_INTERVAL_MS: "output NAME: WHY, M events dropped so far".
 */
static void
output_dropped(struct out_output *o, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
output_dropped(struct out_output *o, size_t n, const char *fmt, ...)
{
	char why[256];
	uint64_t now = clock_ms();
	va_list ap;

	o->dropped += n;
	if (o->warned && now - o->warned_ms < OUT_WARN_INTERVAL_MS)
		return;
	o->warned = true;
	o->warned_ms = now;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	diag_warn("output %s: %s, %" PRIu64 " events dropped so far",
	    o->name, why, o->dropped);
}

/* Bring the loop's mask for O's fd in line with its state. */
static int
output_watch(struct out_output *o)
{
	unsigned mask;

	if (o->state == OUT_CONNECTING)
		mask = LOOP_WRITE;
	else if (o->state == OUT_HANDSHAKE)
		mask = tls_conn_want_read(o->conn) == TLS_WANT_WRITE ?
		    LOOP_WRITE : LOOP_READ;
	else {
		/* A stream's READ notices the collector closing it. */
		mask = o->stream ? LOOP_READ : 0;
		/* A TLS write may wait for READ (then it has it). */
		if (o->blocked && (o->conn == NULL ||
		    tls_conn_want_write(o->conn) == TLS_WANT_WRITE))
			mask |= LOOP_WRITE;
	}
	if (mask == o->mask)
		return 0;
	if (loop_set_fd(o->out->loop, o->fd, mask) == -1)
		return -1;
	o->mask = mask;
	return 0;
}

static void
output_retry(struct loop *loop, void *arg)
{
	struct out_output *o = arg;

	(void)loop;
	o->timer = NULL;	/* fired: the handle is gone */
	output_connect(o);
}

/*
 * The socket failed (ERR is its errno; 0 when the collector closed the
 * connection or WHAT says it all): close it and retry after the backoff.
 * Logged once per outage, and again when the reason changes: at most
 * once per retry.  Queued messages stay, and the first one will go
 * whole.
 */
static void
output_fail(struct out_output *o, const char *what, int err)
{
	struct loop *loop = o->out->loop;
	uint64_t now = clock_ms();
	char why[sizeof(o->why)];

	loop_timer_cancel(loop, &o->timer);
	tls_conn_free(&o->conn);
	if (o->fd != -1) {
		loop_del_fd(loop, o->fd);
		close(o->fd);
		o->fd = -1;
	}
	if (o->state == OUT_UP && now - o->up_since_ms >= OUT_STABLE_MS)
		o->backoff_ms = OUT_BACKOFF_MIN_MS;
	o->state = OUT_DOWN;
	o->mask = 0;
	o->blocked = false;
	o->first_off = 0;
	snprintf(why, sizeof(why), "%s%s%s", what, err != 0 ? ": " : "",
	    err != 0 ? strerror(err) : "");
	if (!o->outage || strcmp(why, o->why) != 0) {
		o->outage = true;
		memcpy(o->why, why, sizeof(why));
		diag_warn("output %s: %s; retrying, events queue meanwhile",
		    o->name, why);
	}
	o->timer = loop_timer_add(loop, o->backoff_ms, output_retry, o);
	if (o->timer == NULL)
		diag_error("output %s: retry timer: %s; retrying on the next "
		    "event", o->name, strerror(errno));
	o->backoff_ms = o->backoff_ms * 2 < OUT_BACKOFF_MAX_MS ?
	    o->backoff_ms * 2 : OUT_BACKOFF_MAX_MS;
}

static void
output_connect_timeout(struct loop *loop, void *arg)
{
	struct out_output *o = arg;

	(void)loop;
	o->timer = NULL;
	output_fail(o, o->state == OUT_HANDSHAKE ? "TLS handshake" :
	    "connect", ETIMEDOUT);
}

/*
 * Datagrams: one send() per message.  Returns 0 when the queue is empty
 * or the socket is full (o->blocked), -1 when the socket must be
 * reconnected, errno set.
 */
static int
output_send_dgram(struct out_output *o)
{
	struct iovec iov[2];
	const char *p;
	ssize_t n;
	size_t len;
	int refused = 0;

	while (o->count > 0) {
		len = queue_len_at(o, 0);
		if (ring_iov(o, OUT_RECORD_HDR, len, iov) == 1)
			p = iov[0].iov_base;
		else {
			ring_read(o, OUT_RECORD_HDR, o->msg, len);
			p = o->msg;
		}
		n = send(o->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			queue_pop(o);
			o->sent++;
			refused = 0;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			o->blocked = true;
			return 0;
		}
		if (o->transport == OUT_TRANSPORT_UDP) {
			/*
			 * ECONNREFUSED reports an ICMP port unreachable for an
			 * earlier datagram, and reading it cleared it: this one
			 * was not sent, so send it again.
			 */
			if (errno == ECONNREFUSED && refused++ < 2)
				continue;
			/* No route, too big: drop the message, keep going. */
			output_dropped(o, 1, "send: %s", strerror(errno));
			queue_pop(o);
			refused = 0;
			continue;
		}
		if (errno == EMSGSIZE || errno == ENOBUFS) {
			output_dropped(o, 1, "send: %s", strerror(errno));
			queue_pop(o);
			continue;
		}
		/* The Unix socket's reader went away (syslogd restarted). */
		return -1;
	}
	o->blocked = false;
	return 0;
}

/* Account N bytes written on a stream: whole frames leave the queue. */
static void
output_advance(struct out_output *o, size_t n)
{
	char prefix[OUT_PREFIX_MAX];
	size_t len, frame;

	while (n > 0) {
		assert(o->count > 0);
		len = queue_len_at(o, 0);
		frame = frame_prefix(len, prefix) + len;
		if (n < frame - o->first_off) {
			o->first_off += n;
			return;
		}
		n -= frame - o->first_off;
		queue_pop(o);
		o->sent++;
	}
}

/*
 * Streams: up to OUT_BATCH frames per sendmsg(), resuming inside the
 * first one at first_off.  Returns as output_send_dgram() does.
 */
static int
output_send_stream(struct out_output *o)
{
	char prefix[OUT_BATCH][OUT_PREFIX_MAX];
	struct iovec iov[OUT_BATCH * 3];
	struct msghdr mh;
	size_t off, len, plen, skip, k;
	ssize_t n;
	int niov;

	while (o->count > 0) {
		niov = 0;
		off = 0;
		skip = o->first_off;
		for (k = 0; k < o->count && k < OUT_BATCH; k++) {
			len = queue_len_at(o, off);
			plen = frame_prefix(len, prefix[k]);
			if (skip < plen) {
				iov[niov].iov_base = prefix[k] + skip;
				iov[niov++].iov_len = plen - skip;
				skip = 0;
			} else
				skip -= plen;
			niov += ring_iov(o, off + OUT_RECORD_HDR + skip,
			    len - skip, iov + niov);
			skip = 0;
			off += OUT_RECORD_HDR + len;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)niov;
		n = sendmsg(o->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				o->blocked = true;
				return 0;
			}
			return -1;
		}
		output_advance(o, (size_t)n);
	}
	o->blocked = false;
	return 0;
}

/*
 * TLS: the frames that fit in OUT_TLS_BUF (the first one always does),
 * resuming inside the first at first_off, one tls_conn_write() at a
 * time.  Returns as output_send_dgram() does.
 */
static int
output_send_tls(struct out_output *o)
{
	char prefix[OUT_PREFIX_MAX];
	size_t off, len, plen, skip, fill, k;
	ssize_t n;

	while (o->count > 0) {
		fill = 0;
		off = 0;
		skip = o->first_off;
		for (k = 0; k < o->count; k++) {
			len = queue_len_at(o, off);
			plen = frame_prefix(len, prefix);
			if (k > 0 && fill + plen + len > OUT_TLS_BUF)
				break;
			if (skip < plen) {
				memcpy(o->tlsbuf + fill, prefix + skip,
				    plen - skip);
				fill += plen - skip;
				skip = 0;
			} else
				skip -= plen;
			ring_read(o, off + OUT_RECORD_HDR + skip,
			    o->tlsbuf + fill, len - skip);
			fill += len - skip;
			skip = 0;
			off += OUT_RECORD_HDR + len;
		}
		n = tls_conn_write(o->conn, o->tlsbuf, fill);
		if (n < 0) {
			if (errno == EAGAIN) {
				o->blocked = true;
				return 0;
			}
			return -1;
		}
		output_advance(o, (size_t)n);
	}
	o->blocked = false;
	return 0;
}

/* Send what the socket takes now. */
static void
output_pump(struct out_output *o)
{
	char why[TLS_ERROR_MAX + 16];
	int r;

	if (o->state != OUT_UP)
		return;
	if (o->conn != NULL)
		r = output_send_tls(o);
	else
		r = o->stream ? output_send_stream(o) : output_send_dgram(o);
	if (r == -1) {
		if (o->conn != NULL && tls_conn_error(o->conn)[0] != '\0') {
			snprintf(why, sizeof(why), "send: %s",
			    tls_conn_error(o->conn));
			output_fail(o, why, 0);
		} else
			output_fail(o, "send", errno);
		return;
	}
	if (output_watch(o) == -1)
		output_fail(o, "watch", errno);
}

static void
output_up(struct out_output *o)
{
	loop_timer_cancel(o->out->loop, &o->timer);
	o->state = OUT_UP;
	o->up_since_ms = clock_ms();
	o->blocked = false;
	if (o->outage) {
		o->outage = false;
		if (o->conn != NULL)
			diag_info("output %s: reconnected (%s, certificate "
			    "verified), %zu events queued", o->name,
			    tls_conn_version(o->conn), o->count);
		else
			diag_info("output %s: reconnected, %zu events queued",
			    o->name, o->count);
	}
	if (o->count > 0)
		output_pump(o);
	else if (output_watch(o) == -1)
		output_fail(o, "watch", errno);
}

/* TLS: advance the handshake; send once it is done. */
static void
output_handshake(struct out_output *o)
{
	char why[TLS_ERROR_MAX + 64];
	int r;

	r = tls_conn_handshake(o->conn);
	if (r == 1) {
		output_up(o);
		return;
	}
	if (r == -1) {
		snprintf(why, sizeof(why), "TLS handshake failed, nothing "
		    "sent: %s", tls_conn_error(o->conn));
		output_fail(o, why, 0);
		return;
	}
	if (output_watch(o) == -1)
		output_fail(o, "watch", errno);
}

/* The socket is connected: up, or TLS first. */
static void
output_connected(struct out_output *o)
{
	if (o->transport != OUT_TRANSPORT_TLS) {
		output_up(o);
		return;
	}
	o->conn = tls_conn_client(o->tls, o->fd, o->tls_name, o->tls_name,
	    NULL);
	if (o->conn == NULL) {
		output_fail(o, "TLS", ENOMEM);
		return;
	}
	o->state = OUT_HANDSHAKE;
	/* The connect's timeout, or a new one, bounds the handshake. */
	if (o->timer == NULL)
		o->timer = loop_timer_add(o->out->loop, OUT_CONNECT_TIMEOUT_MS,
		    output_connect_timeout, o);
	output_handshake(o);
}

/*
 * Open the socket and start connecting.  UDP and Unix datagram sockets
 * connect at once; TCP finishes on LOOP_WRITE.  A Unix path is tried as
 * a datagram socket first, like /dev/log, then as a stream (EPROTOTYPE).
 */
static void
output_connect(struct out_output *o)
{
	const struct sockaddr *sa = (const struct sockaddr *)&o->sa;
	int type, fd, one = 1, err, rc;

	assert(o->state == OUT_DOWN && o->fd == -1);
	loop_timer_cancel(o->out->loop, &o->timer);
	type = o->transport == OUT_TRANSPORT_TCP ||
	    o->transport == OUT_TRANSPORT_TLS ? SOCK_STREAM : SOCK_DGRAM;
	for (;;) {
		fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (fd == -1) {
			output_fail(o, "socket", errno);
			return;
		}
		if (type == SOCK_STREAM && o->transport != OUT_TRANSPORT_UNIX)
			/* Each event is a small write; don't hold it back. */
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
		if ((rc = connect(fd, sa, o->salen)) == 0 ||
		    errno == EINPROGRESS)
			break;
		err = errno;
		close(fd);
		if (o->transport == OUT_TRANSPORT_UNIX && type == SOCK_DGRAM &&
		    err == EPROTOTYPE) {
			type = SOCK_STREAM;
			continue;
		}
		output_fail(o, "connect", err);
		return;
	}
	o->fd = fd;
	o->stream = type == SOCK_STREAM;
	o->mask = 0;
	o->state = rc == 0 ? OUT_UP : OUT_CONNECTING;
	if (loop_add_fd(o->out->loop, fd, 0, output_io, o) == -1) {
		err = errno;
		close(fd);
		o->fd = -1;
		o->state = OUT_DOWN;
		output_fail(o, "watch", err);
		return;
	}
	if (o->state == OUT_UP) {
		o->state = OUT_CONNECTING;
		output_connected(o);
		return;
	}
	if (output_watch(o) == -1) {
		output_fail(o, "watch", errno);
		return;
	}
	o->timer = loop_timer_add(o->out->loop, OUT_CONNECT_TIMEOUT_MS,
	    output_connect_timeout, o);
}

/* TLS, up: as output_io() below, through the TLS connection. */
static void
output_io_tls(struct out_output *o, unsigned events)
{
	char junk[512], why[TLS_ERROR_MAX + 16];
	ssize_t n;

	if (events & (LOOP_READ | LOOP_ERROR)) {
		/* Tickets, alerts, close_notify; whatever else is ignored. */
		while ((n = tls_conn_read(o->conn, junk, sizeof(junk))) > 0)
			;
		if (n == 0) {
			output_fail(o, "connection closed by the collector", 0);
			return;
		}
		if (errno != EAGAIN) {
			snprintf(why, sizeof(why), "receive: %s",
			    tls_conn_error(o->conn)[0] != '\0' ?
			    tls_conn_error(o->conn) : strerror(errno));
			output_fail(o, why, 0);
			return;
		}
	}
	/* A write that waited, for WRITE or (rarely) READ. */
	if (o->blocked || (events & LOOP_ERROR)) {
		o->blocked = false;
		output_pump(o);
	}
}

/* Whatever a collector sends is read and ignored; EOF means it closed. */
static void
output_io(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct out_output *o = arg;
	char junk[512];
	socklen_t len = sizeof(int);
	ssize_t n;
	int err = 0;

	(void)loop;
	assert(fd == o->fd);
	if (o->state == OUT_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0)
			output_fail(o, "connect", err);
		else
			output_connected(o);
		return;
	}
	if (o->state == OUT_HANDSHAKE) {
		output_handshake(o);
		return;
	}
	if (o->conn != NULL) {
		output_io_tls(o, events);
		return;
	}
	if ((events & LOOP_READ) && o->stream) {
		n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n == 0) {
			output_fail(o, "connection closed by the collector", 0);
			return;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			output_fail(o, "receive", errno);
			return;
		}
	}
	if (events & (LOOP_WRITE | LOOP_ERROR)) {
		/* A datagram socket's error comes out of the next send(). */
		o->blocked = false;
		output_pump(o);
	}
}

/* stderr: one line per message, written at once (it may block). */
static void
output_write_stderr(struct out_output *o, size_t len)
{
	struct pollfd pfd = { STDERR_FILENO, POLLOUT, 0 };
	const char *p = o->msg;
	ssize_t n;

	o->msg[len++] = '\n';
	while (len > 0) {
		n = write(STDERR_FILENO, p, len);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		/* A non-blocking stderr (a shared pipe): wait a little. */
		if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
		    poll(&pfd, 1, OUT_STDERR_WAIT_MS) > 0)
			continue;
		output_dropped(o, 1, "write: %s", strerror(errno));
		return;
	}
	o->sent++;
}

struct out *
out_new(struct loop *loop)
{
	struct out *out;

	if ((out = calloc(1, sizeof(*out))) == NULL)
		return NULL;
	out->loop = loop;
	return out;
}

/* RFC 5424 6.3.2: 1..32 PRINTUSASCII except '=', SP, ']' and '"'. */
static bool
sd_name_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i == 32 || s[i] < 33 || s[i] > 126 || s[i] == '=' ||
		    s[i] == ']' || s[i] == '"')
			return false;
	return i > 0;
}

int
out_add_syslog(struct out *out, const struct out_syslog_opts *opts,
    const struct out_syslog_target *target)
{
	struct out_output *o, **tail;
	struct sockaddr_un *su;
	const char *sd_id;

	sd_id = opts->sd_id != NULL ? opts->sd_id : "msgevent@32473";
	if (opts->max_size < OUT_SYSLOG_SIZE_MIN ||
	    opts->max_size > OUT_SYSLOG_SIZE_MAX ||
	    opts->facility < 0 || opts->facility > 23 ||
	    !sd_name_valid(sd_id)) {
		errno = EINVAL;
		return -1;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -1;
	o->out = out;
	o->transport = target->transport;
	o->fd = -1;
	o->state = OUT_DOWN;
	o->backoff_ms = OUT_BACKOFF_MIN_MS;
	o->opts = *opts;
	if (opts->hostname != NULL) {
		snprintf(o->hostname, sizeof(o->hostname), "%s",
		    opts->hostname);
		o->opts.hostname = o->hostname;
	}
	snprintf(o->sd_id, sizeof(o->sd_id), "%s", sd_id);
	o->opts.sd_id = o->sd_id;

	switch (target->transport) {
	case OUT_TRANSPORT_TLS:
		if (target->tls == NULL || target->tls_name == NULL ||
		    target->tls_name[0] == '\0') {
			errno = EINVAL;
			goto fail;
		}
		if ((o->tls_name = strdup(target->tls_name)) == NULL ||
		    (o->tlsbuf = malloc(OUT_TLS_BUF)) == NULL)
			goto fail;
		o->tls = tls_ctx_ref(target->tls);
		/* FALLTHROUGH */
	case OUT_TRANSPORT_UDP:
	case OUT_TRANSPORT_TCP:
		if (target->sa == NULL || target->salen > sizeof(o->sa) ||
		    (target->sa->sa_family != AF_INET &&
		    target->sa->sa_family != AF_INET6)) {
			errno = EINVAL;
			goto fail;
		}
		memcpy(&o->sa, target->sa, target->salen);
		o->salen = target->salen;
		break;
	case OUT_TRANSPORT_UNIX:
		su = (struct sockaddr_un *)&o->sa;
		if (target->path == NULL || target->path[0] == '\0') {
			errno = EINVAL;
			goto fail;
		}
		if (strlen(target->path) >= sizeof(su->sun_path)) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		su->sun_family = AF_UNIX;
		strcpy(su->sun_path, target->path);
		o->salen = sizeof(*su);
		break;
	case OUT_TRANSPORT_STDERR:
		break;
	default:
		errno = EINVAL;
		goto fail;
	}
	o->name = strdup(target->name != NULL ? target->name :
	    target->path != NULL ? target->path : "syslog");
	if (o->name == NULL)
		goto fail;
	if (o->transport != OUT_TRANSPORT_STDERR) {
		o->cap = target->queue_bytes > OUT_QUEUE_MIN ?
		    target->queue_bytes : OUT_QUEUE_MIN;
		if ((o->ring = malloc(o->cap)) == NULL)
			goto fail;
	}

	for (tail = &out->outputs; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = o;
	out->noutputs++;
	if (o->transport != OUT_TRANSPORT_STDERR)
		output_connect(o);	/* failures retry in the background */
	return 0;
fail:
	tls_ctx_unref(&o->tls);
	free(o->tls_name);
	free(o->tlsbuf);
	free(o->name);
	free(o);
	return -1;
}

int
out_add_snmp(struct out *out, const struct out_snmp_target *target,
    char *err, size_t errsize)
{
	struct out_snmp **v, *s;

	v = realloc(out->snmp, (out->nsnmp + 1) * sizeof(*v));
	if (v == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	out->snmp = v;
	if ((s = out_snmp_new(out->loop, target, err, errsize)) == NULL)
		return -1;
	out->snmp[out->nsnmp++] = s;
	return 0;
}

void
out_emit(struct out *out, const struct msgevent *ev)
{
	struct out_output *o;
	size_t len, i;

	out->emitted++;
	for (o = out->outputs; o != NULL; o = o->next) {
		/* Dropped messages use up their number: gaps show losses. */
		o->seq = o->seq == OUT_SEQ_MAX ? 1 : o->seq + 1;
		len = out_syslog_format(&o->opts, ev, o->seq, o->msg);
		if (o->transport == OUT_TRANSPORT_STDERR) {
			output_write_stderr(o, len);
			continue;
		}
		if (!queue_push(o, o->msg, len)) {
			output_dropped(o, 1, "queue full (%zu bytes)", o->cap);
			continue;
		}
		if (o->state == OUT_UP && !o->blocked)
			output_pump(o);
		else if (o->state == OUT_DOWN && o->timer == NULL)
			output_connect(o);	/* the retry timer failed */
	}
	for (i = 0; i < out->nsnmp; i++)
		out_snmp_emit(out->snmp[i], ev);
}

/* Poll events as the loop reports them. */
static unsigned
poll_to_loop(short revents)
{
	unsigned events = 0;

	if (revents & POLLIN)
		events |= LOOP_READ;
	if (revents & POLLOUT)
		events |= LOOP_WRITE;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		events |= LOOP_ERROR | LOOP_READ | LOOP_WRITE;
	return events;
}

size_t
out_flush(struct out *out, unsigned timeout_ms)
{
	struct out_output *o, **who = NULL;
	struct pollfd *pfd = NULL;
	uint64_t deadline = clock_ms() + timeout_ms, now;
	size_t left = 0, n, nsys, i;
	int wait, t;
	short events;

	if (out == NULL)
		return 0;
	/* Syslog outputs first in pfd, then the SNMP ones, in order. */
	if (out->noutputs + out->nsnmp > 0) {
		pfd = calloc(out->noutputs + out->nsnmp, sizeof(*pfd));
		who = calloc(out->noutputs + 1, sizeof(*who));
	}
	/* One more try, now, for outputs waiting on their backoff. */
	for (o = out->outputs; o != NULL; o = o->next)
		if (o->count > 0 && o->state == OUT_DOWN)
			output_connect(o);
	while (pfd != NULL && who != NULL) {
		n = 0;
		for (o = out->outputs; o != NULL; o = o->next) {
			if (o->count > 0 && o->state == OUT_UP && !o->blocked)
				output_pump(o);
			if (o->count == 0 || o->state == OUT_DOWN)
				continue;
			pfd[n].fd = o->fd;
			pfd[n].events = POLLOUT | (o->stream ? POLLIN : 0);
			/* TLS: a handshake or write may wait for either. */
			if (o->transport == OUT_TRANSPORT_TLS &&
			    o->state != OUT_CONNECTING)
				pfd[n].events = (o->mask & LOOP_READ ? POLLIN :
				    0) | (o->mask & LOOP_WRITE ? POLLOUT : 0);
			pfd[n].revents = 0;
			who[n++] = o;
		}
		nsys = n;
		now = clock_ms();
		wait = deadline - now > INT_MAX ? INT_MAX :
		    (int)(deadline > now ? deadline - now : 0);
		/* SNMP: queued events, informs awaiting acknowledgement. */
		for (i = 0; i < out->nsnmp; i++) {
			pfd[nsys + i].fd = -1;	/* poll() skips it */
			pfd[nsys + i].revents = 0;
			if (out_snmp_pending(out->snmp[i]) == 0)
				continue;
			pfd[nsys + i].fd = out_snmp_poll_fd(out->snmp[i],
			    &events);
			pfd[nsys + i].events = events;
			n++;
			t = out_snmp_timeout_ms(out->snmp[i]);
			if (t >= 0 && t < wait)
				wait = t;
		}
		if (n == 0 || now >= deadline)
			break;
		if (poll(pfd, nsys + out->nsnmp, wait) == -1 && errno != EINTR)
			break;
		for (i = 0; i < nsys; i++)
			if (pfd[i].revents != 0 && who[i]->fd == pfd[i].fd)
				output_io(out->loop, pfd[i].fd,
				    poll_to_loop(pfd[i].revents), who[i]);
		for (i = 0; i < out->nsnmp; i++)
			if (pfd[nsys + i].fd != -1)
				out_snmp_process(out->snmp[i],
				    (pfd[nsys + i].revents & ~POLLOUT) != 0,
				    (pfd[nsys + i].revents &
				    (POLLOUT | POLLERR | POLLHUP)) != 0);
	}
	free(pfd);
	free(who);
	for (o = out->outputs; o != NULL; o = o->next) {
		if (o->count == 0)
			continue;
		diag_warn("output %s: %zu events still queued after %u ms, "
		    "dropped", o->name, o->count, timeout_ms);
		left += o->count;
		o->dropped += o->count;
		queue_clear(o);
	}
	for (i = 0; i < out->nsnmp; i++)
		left += out_snmp_abandon(out->snmp[i]);
	return left;
}

void
out_get_stats(const struct out *out, struct out_stats *stats_r)
{
	const struct out_output *o;
	struct out_snmp_stats ss;
	size_t i;

	memset(stats_r, 0, sizeof(*stats_r));
	stats_r->emitted = out->emitted;
	for (o = out->outputs; o != NULL; o = o->next) {
		stats_r->sent += o->sent;
		stats_r->dropped += o->dropped;
	}
	for (i = 0; i < out->nsnmp; i++) {
		out_snmp_get_stats(out->snmp[i], &ss);
		stats_r->sent += ss.sent;
		stats_r->dropped += ss.dropped;
	}
}

void
out_free(struct out **outp)
{
	struct out *out = *outp;
	struct out_output *o, *next;
	size_t i;

	if (out == NULL)
		return;
	*outp = NULL;
	for (o = out->outputs; o != NULL; o = next) {
		next = o->next;
		loop_timer_cancel(out->loop, &o->timer);
		if (o->conn != NULL && o->state == OUT_UP) {
			/* RFC 5425 4.4: close_notify, then the TCP close. */
			tls_conn_close_notify(o->conn);
			(void)shutdown(o->fd, SHUT_WR);
		}
		tls_conn_free(&o->conn);
		tls_ctx_unref(&o->tls);
		free(o->tls_name);
		free(o->tlsbuf);
		if (o->fd != -1) {
			loop_del_fd(out->loop, o->fd);
			close(o->fd);
		}
		free(o->ring);
		free(o->name);
		free(o);
	}
	for (i = 0; i < out->nsnmp; i++)
		out_snmp_free(&out->snmp[i]);
	free(out->snmp);
	free(out);
}
