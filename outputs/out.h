/*
 * out.h - fan-out of events to every configured output.
 *
 * out_emit() never blocks and never fails visibly to the caller: each
 * output has a bounded queue; when an output cannot take an event (its
 * queue is full, its collector is down and the queue filled up), the
 * event is dropped for that output, counted, and logged (rate-limited)
 * on stderr.  Transports are non-blocking and driven by the loop: a
 * dead or slow collector never stalls the relay.
 */
#ifndef OUT_H
#define OUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../parser/msgevent.h"
#include "out_syslog.h"

struct loop;
struct out;

enum out_transport {
	OUT_TRANSPORT_UDP,	/* one datagram per message */
	OUT_TRANSPORT_TCP,	/* RFC 6587 octet counting: "LEN SP MSG" */
	OUT_TRANSPORT_UNIX,	/* AF_UNIX datagram, else stream with LF */
	OUT_TRANSPORT_STDERR,	/* one message per line on fd 2 */
};

struct out_syslog_target {
	enum out_transport transport;
	const char *name;		/* for diagnostics: "tcp://127.0.0.1:5514" */
	const struct sockaddr *sa;	/* UDP, TCP */
	socklen_t salen;
	const char *path;		/* UNIX */
	size_t queue_bytes;		/* bound on queued bytes (>= max_size) */
};

struct out_stats {
	uint64_t emitted;	/* events handed to out_emit() */
	uint64_t sent;		/* messages written, summed over outputs */
	uint64_t dropped;	/* messages dropped, summed over outputs */
};

/* A fan-out with no outputs yet, or NULL with errno set. */
struct out *out_new(struct loop *loop);

/*
 * Add a syslog output.  Copies what it needs from OPTS and TARGET.
 * Connection-oriented transports connect in the background and
 * reconnect (with backoff, up to 5 s) after a failure; messages queue
 * meanwhile.  Returns 0, or -1 with errno set.
 */
int out_add_syslog(struct out *out, const struct out_syslog_opts *opts,
    const struct out_syslog_target *target);

/* Format and queue EV for every output; tries to send at once. */
void out_emit(struct out *out, const struct msgevent *ev);

/*
 * Try, for at most TIMEOUT_MS, to send what is queued (used at
 * shutdown).  Messages still queued afterwards are counted as dropped
 * and logged.  Returns the number of messages still queued before they
 * were dropped (0 when everything went out).
 */
size_t out_flush(struct out *out, unsigned timeout_ms);

void out_get_stats(const struct out *out, struct out_stats *stats_r);

/* Closes every output; clears *out.  NULL is a no-op. */
void out_free(struct out **out);

#endif
