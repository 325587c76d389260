/*
 * test_out.c - the syslog fan-out over real sockets, driven by the loop.
 *
 * Every collector here is a socket of the test's own, watched by the
 * same loop as the outputs: a UDP or Unix datagram receiver, a TCP or
 * Unix stream listener that parses RFC 6587 octet-counted frames.  Ports
 * come from binding port 0 and Unix paths from a mkdtemp() directory.
 * Nothing waits by sleeping: run_until() runs the loop until a condition
 * holds, checking it every WAIT_STEP_MS, and fails after WAIT_MAX_MS.
 *
 * Each test has one fan-out, and every event it emits carries its own
 * number as uidset ("uidset=000007"); as every output numbers messages
 * from 1, a message's sequenceId must equal that number.  A frame cut
 * or spliced anywhere fails the check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../outputs/out.h"
#include "../../parser/msgevent.h"
#include "../../proxy/diag.h"
#include "../../proxy/loop.h"

#define WAIT_STEP_MS	10
#define WAIT_MAX_MS	10000
/* "8192 " and the largest message. */
#define FRAME_MAX	(5 + OUT_SYSLOG_SIZE_MAX)
/* A filler that makes messages near 4 KiB: sockets fill sooner. */
#define FILLER_LEN	3500
/* More events than any kernel buffers and a queue could hold. */
#define EMIT_CAP	200000

/* One fan-out per test: made by setup(), freed by teardown(). */
static struct loop *loop;
static struct out *out;
static unsigned nemitted;	/* events emitted: the last uidset */
static size_t filler_len;	/* filler bytes in each event */

static const struct out_syslog_opts opts = {
	.hostname = "test.example",
	.sd_id = NULL,
	.facility = 2,		/* mail: info is <22> */
	.procid = 4242,
	.max_size = OUT_SYSLOG_SIZE_MAX,
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Running the loop until something holds.
 */

typedef bool wait_cond(void *arg);

struct waiter {
	wait_cond *cond;
	void *arg;
	uint64_t deadline;
	bool expired;
};

static void
wait_check(struct loop *l, void *arg)
{
	struct waiter *w = arg;

	if (w->cond(w->arg))
		loop_stop(l);
	else if (now_ms() >= w->deadline) {
		w->expired = true;
		loop_stop(l);
	} else if (loop_timer_add(l, WAIT_STEP_MS, wait_check, w) == NULL) {
		w->expired = true;
		loop_stop(l);
	}
}

static void
run_until_(wait_cond *cond, void *arg, const char *what)
{
	struct waiter w = { cond, arg, now_ms() + WAIT_MAX_MS, false };

	if (cond(arg))
		return;
	assert_non_null(loop_timer_add(loop, WAIT_STEP_MS, wait_check, &w));
	assert_int_equal(loop_run(loop), 0);
	if (w.expired)
		fail_msg("still not %s after %d ms", what, WAIT_MAX_MS);
}

#define run_until(cond, arg)	run_until_(cond, arg, #cond "(" #arg ")")

/*
 * Events and their messages.
 */

static void
emit(unsigned n)
{
	static char filler[FILLER_LEN + 1];
	struct msgevent ev;
	unsigned i;

	if (filler[0] == '\0')
		memset(filler, 'x', FILLER_LEN);
	for (i = 0; i < n; i++) {
		msgevent_init(&ev, MSGEVENT_MESSAGE_APPEND);
		msgevent_set_str(&ev, MSGEVENT_P_USER, "alice");
		msgevent_set_str(&ev, MSGEVENT_P_MAILBOX_ID,
		    "imap://alice@mail.example/INBOX;UIDVALIDITY=1");
		/* fixed width: every message of a test has the same size */
		msgevent_setf(&ev, MSGEVENT_P_UIDSET, "%06u", ++nemitted);
		if (filler_len > 0)
			msgevent_set(&ev, MSGEVENT_P_ENVELOPE, filler,
			    filler_len);
		out_emit(out, &ev);
	}
}

static struct out_stats
stats(void)
{
	struct out_stats st;

	out_get_stats(out, &st);
	return st;
}

/*
 * The sequenceId of the syslog message M, or -1 unless it is one whole
 * message of ours whose sequenceId matches the uidset at its end.
 */
static long
msg_seq(const char *m, size_t len)
{
	static const char pri[] = "<22>1 ", sid[] = "[meta sequenceId=\"";
	char tail[32];
	const char *p, *end = m + len;
	size_t tlen;
	long seq = 0;
	int n;

	if (len < sizeof(pri) - 1 || memcmp(m, pri, sizeof(pri) - 1) != 0)
		return -1;
	/* the start of a second message: a frame spliced into another */
	if (memmem(m + 1, len - 1, pri, sizeof(pri) - 1) != NULL)
		return -1;
	if ((p = memmem(m, len, sid, sizeof(sid) - 1)) == NULL)
		return -1;
	for (p += sizeof(sid) - 1, n = 0; p < end && *p >= '0' && *p <= '9';
	    p++, n++)
		seq = seq * 10 + (*p - '0');
	if (n == 0 || n > 10 || end - p < 2 || memcmp(p, "\"]", 2) != 0)
		return -1;
	tlen = (size_t)snprintf(tail, sizeof(tail), " uidset=%06ld", seq);
	if (len < tlen || memcmp(end - tlen, tail, tlen) != 0)
		return -1;
	return seq;
}

/*
 * A collector: a datagram socket, or a stream listener and the one
 * connection it accepted last.  Every message received is a frame.
 */

struct frame {
	int conn;		/* 1: the first connection or socket */
	long seq;		/* -1: not a whole message of ours */
};

struct coll {
	int lfd;		/* listener, or the datagram socket */
	int cfd;		/* stream: the connection, or -1 */
	bool dgram;
	bool reading;		/* false: stalled, the connection unread */
	int conns;		/* connections accepted, sockets opened */
	struct frame *frames;
	size_t nframes, cap;
	size_t bad;
	/* The stream's bytes not parsed yet: a frame in part. */
	char buf[2 * FRAME_MAX];
	size_t len;
	/* The current connection's first frame, and a closed one's rest. */
	char first[FRAME_MAX];
	size_t first_len;
	char left[FRAME_MAX];
	size_t left_len;
	/* What coll_has() waits for. */
	size_t want_frames;
	int want_conns;
};

static struct coll *
coll_new(void)
{
	struct coll *c;

	assert_non_null(c = calloc(1, sizeof(*c)));
	c->lfd = c->cfd = -1;
	c->reading = true;
	return c;
}

static void
coll_add(struct coll *c, long seq, const char *raw, size_t rawlen)
{
	if (c->nframes == c->cap) {
		c->cap = c->cap == 0 ? 256 : 2 * c->cap;
		c->frames = realloc(c->frames, c->cap * sizeof(*c->frames));
		assert_non_null(c->frames);
	}
	if (seq < 0)
		c->bad++;
	if (c->first_len == 0) {
		memcpy(c->first, raw, rawlen);
		c->first_len = rawlen;
	}
	c->frames[c->nframes].conn = c->conns;
	c->frames[c->nframes++].seq = seq;
}

/* Take the whole "LEN SP MSG" frames off the front of c->buf. */
static void
coll_parse(struct coll *c)
{
	size_t i = 0, d, n;

	for (;;) {
		for (d = 0, n = 0; i + d < c->len && d < 5 &&
		    c->buf[i + d] >= '0' && c->buf[i + d] <= '9'; d++)
			n = n * 10 + (size_t)(c->buf[i + d] - '0');
		if (i + d == c->len && d < 5)
			break;		/* the length, in part */
		if (d == 0 || d == 5 || c->buf[i] == '0' ||
		    c->buf[i + d] != ' ' || n > OUT_SYSLOG_SIZE_MAX) {
			/* not a frame: nothing after it can be trusted */
			coll_add(c, -1, c->buf + i, 0);
			i = c->len;
			break;
		}
		if (c->len - i - d - 1 < n)
			break;		/* the message, in part */
		coll_add(c, msg_seq(c->buf + i + d + 1, n), c->buf + i,
		    d + 1 + n);
		i += d + 1 + n;
	}
	memmove(c->buf, c->buf + i, c->len - i);
	c->len -= i;
}

/* Keep what the connection left unparsed, then close it. */
static void
coll_hangup(struct coll *c)
{
	memcpy(c->left, c->buf, c->len);
	c->left_len = c->len;
	c->len = 0;
	loop_del_fd(loop, c->cfd);
	close(c->cfd);
	c->cfd = -1;
}

/* Read until the socket has nothing more; false at EOF or an error. */
static bool
coll_drain(struct coll *c)
{
	char dg[FRAME_MAX];
	ssize_t n;

	for (;;) {
		if (c->dgram)
			n = recv(c->lfd, dg, sizeof(dg), MSG_DONTWAIT);
		else
			n = recv(c->cfd, c->buf + c->len,
			    sizeof(c->buf) - c->len, MSG_DONTWAIT);
		if (n > 0 && c->dgram)
			coll_add(c, msg_seq(dg, (size_t)n), dg, (size_t)n);
		else if (n > 0) {
			c->len += (size_t)n;
			coll_parse(c);
		} else if (n == 0 && c->dgram)
			continue;	/* an empty datagram */
		else if (n == -1 && errno == EINTR)
			continue;
		else
			return n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK);
	}
}

static void
coll_io(struct loop *l, int fd, unsigned events, void *arg)
{
	struct coll *c = arg;

	(void)l;
	(void)fd;
	(void)events;
	if (!coll_drain(c) && !c->dgram)
		coll_hangup(c);
}

static void
coll_accept(struct loop *l, int fd, unsigned events, void *arg)
{
	struct coll *c = arg;
	int cfd;

	(void)events;
	if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1)
		return;
	if (c->cfd != -1)
		coll_hangup(c);
	c->cfd = cfd;
	c->conns++;
	c->first_len = 0;
	if (loop_add_fd(l, cfd, c->reading ? LOOP_READ : 0, coll_io, c) ==
	    -1)
		fail_msg("loop_add_fd: %s", strerror(errno));
}

static void
coll_set_reading(struct coll *c, bool reading)
{
	c->reading = reading;
	if (c->cfd != -1)
		assert_int_equal(loop_set_fd(loop, c->cfd,
		    reading ? LOOP_READ : 0), 0);
}

/* Accept connections on the stream listener FD from now on. */
static void
coll_listen(struct coll *c, int fd)
{
	c->lfd = fd;
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(loop_add_fd(loop, fd, LOOP_READ, coll_accept, c), 0);
}

/* Receive datagrams on FD (a new socket after a restart). */
static void
coll_dgram(struct coll *c, int fd)
{
	if (c->lfd != -1) {
		loop_del_fd(loop, c->lfd);
		close(c->lfd);
	}
	c->dgram = true;
	c->lfd = fd;
	c->conns++;
	assert_int_equal(loop_add_fd(loop, fd, LOOP_READ, coll_io, c), 0);
}

static void
coll_free(struct coll *c)
{
	if (c->cfd != -1) {
		loop_del_fd(loop, c->cfd);
		close(c->cfd);
	}
	if (c->lfd != -1) {
		loop_del_fd(loop, c->lfd);
		close(c->lfd);
	}
	free(c->frames);
	free(c);
}

static bool
coll_has(void *arg)
{
	struct coll *c = arg;

	return c->nframes >= c->want_frames && c->conns >= c->want_conns;
}

/*
 * Frames FROM..TO-1 are whole, came on connection CONN and carry the
 * consecutive sequenceIds FIRST, FIRST + 1, ...
 */
static void
assert_frames(const struct coll *c, size_t from, size_t to, int conn,
    long first)
{
	size_t i;

	assert_true(to <= c->nframes);
	for (i = from; i < to; i++) {
		if (c->frames[i].conn != conn ||
		    c->frames[i].seq != first + (long)(i - from))
			fail_msg("frame %zu: connection %d sequenceId %ld, "
			    "expected %d and %ld", i, c->frames[i].conn,
			    c->frames[i].seq, conn, first + (long)(i - from));
	}
}

/*
 * Sockets.
 */

/* A TCP socket bound to a free loopback port, not listening yet. */
static int
tcp_socket(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

static int
udp_socket(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

/* A Unix socket of TYPE bound to PATH, which it replaces. */
static int
unix_socket(int type, const char *path)
{
	struct sockaddr_un su;
	int fd;

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(su.sun_path));
	strcpy(su.sun_path, path);
	(void)unlink(path);
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&su, sizeof(su)), 0);
	return fd;
}

/* A directory for Unix sockets, and PATH in it. */
struct tmp {
	char dir[sizeof("/tmp/test_out.XXXXXX")];
	char path[64];
};

static void
tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_out.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/log", t->dir);
}

static void
tmp_remove(struct tmp *t)
{
	(void)unlink(t->path);
	assert_int_equal(rmdir(t->dir), 0);
}

static void
add_inet(enum out_transport transport, const struct sockaddr_in *sin)
{
	struct out_syslog_target t;

	memset(&t, 0, sizeof(t));
	t.transport = transport;
	t.name = transport == OUT_TRANSPORT_TCP ? "tcp://test" : "udp://test";
	t.sa = (const struct sockaddr *)sin;
	t.salen = sizeof(*sin);
	assert_int_equal(out_add_syslog(out, &opts, &t), 0);
}

static void
add_unix(const char *path)
{
	struct out_syslog_target t;

	memset(&t, 0, sizeof(t));
	t.transport = OUT_TRANSPORT_UNIX;
	t.name = "unix:test";
	t.path = path;
	assert_int_equal(out_add_syslog(out, &opts, &t), 0);
}

/* With a single output: nothing is left in its queue. */
static bool
all_sent(void *arg)
{
	struct out_stats st = stats();

	(void)arg;
	return st.sent + st.dropped == st.emitted;
}

/*
 * With a single output, stats tell whether out_emit() could write the
 * whole message at once: it tries at once, so a message still queued
 * means the socket refused it, in part or whole.  Emits one event at a
 * time until that happens, with the collector not reading.
 */
static void
fill_socket(void)
{
	while (all_sent(NULL)) {
		assert_true(nemitted < EMIT_CAP);
		emit(1);
	}
	assert_int_equal(stats().dropped, 0);
}

static int
setup(void **state)
{
	(void)state;
	if ((loop = loop_new()) == NULL || (out = out_new(loop)) == NULL)
		return -1;
	nemitted = 0;
	filler_len = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	out_free(&out);
	loop_free(&loop);
	return 0;
}

/*
 * The tests.
 */

/* UDP: one datagram per message, each whole, numbered from 1. */
static void
test_udp(void **state)
{
	struct coll *c = coll_new();
	struct sockaddr_in sin;
	struct out_stats st;

	(void)state;
	coll_dgram(c, udp_socket(&sin));
	add_inet(OUT_TRANSPORT_UDP, &sin);
	emit(50);
	c->want_frames = 50;
	run_until(coll_has, c);
	assert_int_equal(c->nframes, 50);
	assert_frames(c, 0, 50, 1, 1);
	st = stats();
	assert_int_equal(st.emitted, 50);
	assert_int_equal(st.sent, 50);
	assert_int_equal(st.dropped, 0);
	coll_free(c);
}

/*
 * A TCP collector down at first (its port bound, not listening: the
 * connect is refused) and up later: what was emitted meanwhile queues,
 * then goes out in order on the first connection.
 */
static void
test_tcp_collector_late(void **state)
{
	struct coll *c = coll_new();
	struct sockaddr_in sin;
	struct out_stats st;
	int fd;

	(void)state;
	fd = tcp_socket(&sin);
	add_inet(OUT_TRANSPORT_TCP, &sin);
	emit(10);
	st = stats();
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.dropped, 0);

	coll_listen(c, fd);
	c->want_frames = 10;
	run_until(coll_has, c);
	emit(5);
	c->want_frames = 15;
	run_until(coll_has, c);
	assert_int_equal(c->nframes, 15);
	assert_int_equal(c->bad, 0);
	assert_frames(c, 0, 15, 1, 1);
	st = stats();
	assert_int_equal(st.sent, 15);
	assert_int_equal(st.dropped, 0);
	coll_free(c);
}

/*
 * The collector closes the connection: the output notices, reconnects
 * after its backoff, and numbering goes on where it was.
 */
static void
test_tcp_collector_closes(void **state)
{
	struct coll *c = coll_new();
	struct sockaddr_in sin;
	struct out_stats st;

	(void)state;
	coll_listen(c, tcp_socket(&sin));
	add_inet(OUT_TRANSPORT_TCP, &sin);
	emit(3);
	c->want_frames = 3;
	run_until(coll_has, c);

	coll_hangup(c);
	c->want_conns = 2;
	run_until(coll_has, c);
	emit(4);
	c->want_frames = 7;
	run_until(coll_has, c);
	assert_int_equal(c->nframes, 7);
	assert_int_equal(c->bad, 0);
	assert_frames(c, 0, 3, 1, 1);
	assert_frames(c, 3, 7, 2, 4);
	st = stats();
	assert_int_equal(st.sent, 7);
	assert_int_equal(st.dropped, 0);
	coll_free(c);
}

/*
 * The collector closes a connection on which the output has written a
 * frame in part: on the next connection that frame comes whole, first,
 * and nothing is lost.  To get there the collector stops reading, the
 * output fills the socket until out_emit() leaves a message queued,
 * then the collector reads everything and looks at how its stream
 * ends; while it ends on a frame boundary, it lets the output send and
 * fills again.
 */
static void
test_tcp_partial_frame_resent(void **state)
{
	struct coll *c = coll_new();
	struct sockaddr_in sin;
	struct out_stats st;
	size_t n1;
	int round;

	(void)state;
	filler_len = FILLER_LEN;
	coll_listen(c, tcp_socket(&sin));
	add_inet(OUT_TRANSPORT_TCP, &sin);
	emit(1);
	c->want_frames = 1;
	run_until(coll_has, c);
	coll_set_reading(c, false);

	for (round = 0; c->len == 0; round++) {
		if (round == 20)
			fail_msg("%d rounds, never a frame in part", round);
		run_until(all_sent, NULL);
		fill_socket();
		/*
		 * Not running the loop: the output cannot write, so what
		 * the collector reads is all it wrote (on loopback the
		 * kernel hands over what it holds as the reader reads).
		 */
		assert_true(coll_drain(c));
		assert_int_equal(c->bad, 0);
		assert_int_equal(c->nframes, stats().sent);
	}
	n1 = c->nframes;
	assert_frames(c, 0, n1, 1, 1);

	coll_set_reading(c, true);
	coll_hangup(c);
	assert_true(c->left_len > 0);
	c->want_conns = 2;
	c->want_frames = nemitted;
	run_until(coll_has, c);
	run_until(all_sent, NULL);
	assert_int_equal(c->nframes, nemitted);
	assert_int_equal(c->bad, 0);
	/* The frame written in part, now whole: the same bytes first. */
	assert_frames(c, n1, nemitted, 2, (long)n1 + 1);
	assert_true(c->first_len > c->left_len);
	assert_memory_equal(c->first, c->left, c->left_len);
	st = stats();
	assert_int_equal(st.sent, nemitted);
	assert_int_equal(st.dropped, 0);
	coll_free(c);
}

/*
 * A collector that accepts and never reads: the kernel's buffers fill,
 * then the output's queue, then events are dropped and counted, and
 * out_emit() keeps returning: emitting runs to the end without the loop.
 * What was taken before the first drop arrives once the collector
 * reads, numbered 1..N - dropped; the next events come after the gap.
 */
static void
test_tcp_stalled_drops(void **state)
{
	struct coll *c = coll_new();
	struct sockaddr_in sin;
	struct out_stats st;
	unsigned first_drop, taken;

	(void)state;
	filler_len = FILLER_LEN;
	c->reading = false;
	coll_listen(c, tcp_socket(&sin));
	add_inet(OUT_TRANSPORT_TCP, &sin);
	c->want_conns = 1;
	run_until(coll_has, c);
	emit(1);
	run_until(all_sent, NULL);

	while (stats().dropped == 0) {
		assert_true(nemitted < EMIT_CAP);
		emit(1);
	}
	first_drop = nemitted;
	taken = first_drop - 1;
	emit(1000);		/* all dropped: nothing was read meanwhile */
	st = stats();
	assert_int_equal(st.emitted, first_drop + 1000);
	assert_int_equal(st.dropped, 1001);
	assert_int_equal(st.dropped, nemitted - taken);
	assert_true(st.sent < taken);	/* the rest is queued */

	coll_set_reading(c, true);
	c->want_frames = taken;
	run_until(coll_has, c);
	run_until(all_sent, NULL);	/* sent + dropped == emitted */
	assert_int_equal(c->nframes, taken);
	assert_int_equal(c->bad, 0);
	assert_frames(c, 0, taken, 1, 1);
	st = stats();
	assert_int_equal(st.sent, taken);
	assert_int_equal(st.dropped, nemitted - taken);

	/* Dropped events used up their numbers: the collector sees a gap. */
	emit(2);
	c->want_frames = taken + 2;
	run_until(coll_has, c);
	assert_frames(c, taken, taken + 2, 1, (long)first_drop + 1001);
	coll_free(c);
}

/*
 * A Unix datagram socket absent at first (the path does not exist),
 * created later, then restarted (a new socket at the same path, as
 * syslogd does): messages wait in the queue across both.
 */
static void
test_unix_dgram_late_restart(void **state)
{
	struct coll *c = coll_new();
	struct out_stats st;
	struct tmp t;

	(void)state;
	tmp_make(&t);
	add_unix(t.path);
	emit(3);
	assert_int_equal(stats().sent, 0);

	coll_dgram(c, unix_socket(SOCK_DGRAM, t.path));
	c->want_frames = 3;
	run_until(coll_has, c);

	coll_dgram(c, unix_socket(SOCK_DGRAM, t.path));
	emit(2);
	c->want_frames = 5;
	run_until(coll_has, c);
	assert_int_equal(c->nframes, 5);
	assert_frames(c, 0, 3, 1, 1);
	assert_frames(c, 3, 5, 2, 4);
	st = stats();
	assert_int_equal(st.sent, 5);
	assert_int_equal(st.dropped, 0);
	coll_free(c);
	tmp_remove(&t);
}

/* A Unix stream socket: the output finds it so, and frames as on TCP. */
static void
test_unix_stream(void **state)
{
	struct coll *c = coll_new();
	struct out_stats st;
	struct tmp t;

	(void)state;
	tmp_make(&t);
	coll_listen(c, unix_socket(SOCK_STREAM, t.path));
	add_unix(t.path);
	emit(20);
	c->want_frames = 20;
	run_until(coll_has, c);
	assert_int_equal(c->nframes, 20);
	assert_int_equal(c->bad, 0);
	assert_frames(c, 0, 20, 1, 1);
	st = stats();
	assert_int_equal(st.sent, 20);
	assert_int_equal(st.dropped, 0);
	coll_free(c);
	tmp_remove(&t);
}

/*
 * out_flush() at shutdown: with the TCP collector down it returns what
 * that output still holds and counts it dropped (UDP had sent its own);
 * once the collector is up, it connects at once, sends what is queued,
 * and returns 0.
 */
static void
test_flush(void **state)
{
	struct coll *c = coll_new(), *u = coll_new();
	struct sockaddr_in sin, usin;
	struct out_stats st;
	int fd;

	(void)state;
	coll_dgram(u, udp_socket(&usin));
	add_inet(OUT_TRANSPORT_UDP, &usin);
	fd = tcp_socket(&sin);
	add_inet(OUT_TRANSPORT_TCP, &sin);
	emit(5);
	assert_int_equal(out_flush(out, 1000), 5);
	st = stats();
	assert_int_equal(st.sent, 5);
	assert_int_equal(st.dropped, 5);
	assert_int_equal(out_flush(out, 1000), 0);

	coll_listen(c, fd);
	emit(3);
	assert_int_equal(out_flush(out, WAIT_MAX_MS), 0);
	st = stats();
	assert_int_equal(st.sent, 5 + 3 + 3);
	assert_int_equal(st.dropped, 5);
	c->want_frames = 3;
	u->want_frames = 8;
	run_until(coll_has, c);
	run_until(coll_has, u);
	assert_int_equal(c->bad, 0);
	/* numbers 1..5 went with the flush: the collector sees the gap */
	assert_frames(c, 0, 3, 1, 6);
	assert_frames(u, 0, 8, 1, 1);
	coll_free(c);
	coll_free(u);
}

/*
 * out_flush() with a stalled collector: it waits its timeout, then
 * returns what is left, counted as dropped.
 */
static void
test_flush_stalled(void **state)
{
	struct coll *c = coll_new();
	struct sockaddr_in sin;
	struct out_stats before, after;
	size_t left;

	(void)state;
	filler_len = FILLER_LEN;
	c->reading = false;
	coll_listen(c, tcp_socket(&sin));
	add_inet(OUT_TRANSPORT_TCP, &sin);
	emit(1);
	run_until(all_sent, NULL);
	fill_socket();
	emit(5);
	before = stats();
	left = out_flush(out, 20);
	after = stats();
	assert_true(left >= 1);
	assert_int_equal(after.dropped, before.dropped + left);
	assert_int_equal(after.sent + after.dropped, nemitted);
	assert_int_equal(out_flush(out, 20), 0);
	coll_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_collector_late,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_collector_closes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_partial_frame_resent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_stalled_drops,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unix_dgram_late_restart,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unix_stream,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_stalled,
		    setup, teardown),
	};

	/* Refused connects and drops are expected here: no warnings. */
	diag_set_level(DIAG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
