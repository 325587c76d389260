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
#include "out_snmp.h"
#include "out_syslog.h"

struct loop;
struct out;
struct tls_ctx;

enum out_transport {
	OUT_TRANSPORT_UDP,	/* one datagram per message */
	OUT_TRANSPORT_TCP,	/* RFC 6587 octet counting: "LEN SP MSG" */
	OUT_TRANSPORT_UNIX,	/* datagram (/dev/log), else a stream, framed
				 * as TCP is */
	OUT_TRANSPORT_STDERR,	/* one message per line on fd 2, unqueued */
	OUT_TRANSPORT_TLS,	/* RFC 5425: TCP, TLS, octet counting */
};

struct out_syslog_target {
	enum out_transport transport;
	const char *name;		/* for diagnostics: "tcp://127.0.0.1:5514" */
	const struct sockaddr *sa;	/* UDP, TCP, TLS: AF_INET or AF_INET6 */
	socklen_t salen;
	const char *path;		/* UNIX: < 108 bytes */
	/*
	 * TLS: a client context that verifies (tls_ctx_client_ca(); the
	 * output takes its own reference) and the name the collector's
	 * certificate must carry, a DNS name (also sent as SNI) or an IP
	 * address.
	 */
	struct tls_ctx *tls;
	const char *tls_name;
	/*
	 * Bound on queued bytes (each message plus 4), raised to 64 KiB
	 * if smaller.  Allocated at once by out_add_syslog().
	 */
	size_t queue_bytes;
};

struct out_stats {
	uint64_t emitted;	/* events handed to out_emit() */
	uint64_t sent;		/* messages written, summed over outputs
				 * (SNMP informs: acknowledged) */
	uint64_t dropped;	/* messages dropped, summed over outputs:
				 * queue full, send error, left at flush,
				 * informs never acknowledged */
};

/* A fan-out with no outputs yet, or NULL with errno set. */
struct out *out_new(struct loop *loop);

/*
 * Add a syslog output.  Copies what it needs from OPTS and TARGET.
 * Every socket transport connects in the background (a TCP connect
 * still pending after 10 s is abandoned) and reconnects after a
 * failure, 250 ms doubling up to 5 s; messages queue meanwhile.  The
 * first failure of an outage, a failure for another reason, and the
 * reconnection are logged.  A TLS collector is sent to only after its
 * certificate verified; a failed handshake is a failure like a refused
 * connect.  A collector that is down is not an error here.  Returns 0, or -1 with
 * errno set: EINVAL for a bad OPTS (max_size, facility, sd_id not an
 * SD-NAME) or TARGET, ENAMETOOLONG, ENOMEM.
 */
int out_add_syslog(struct out *out, const struct out_syslog_opts *opts,
    const struct out_syslog_target *target);

/*
 * Add an SNMP output (out_snmp.h): traps or informs to one receiver.
 * Copies what it needs from TARGET.  Returns 0, or -1 with errno set
 * and a message without secrets in ERR (see out_snmp_new()).
 */
int out_add_snmp(struct out *out, const struct out_snmp_target *target,
    char *err, size_t errsize);

/*
 * Format and queue EV for every output; tries to send at once.  Each
 * output numbers its messages (sequenceId) from 1; a dropped message
 * uses up its number, so a collector sees the gap.  Drops are logged
 * at most once per second per output.
 */
void out_emit(struct out *out, const struct msgevent *ev);

/*
 * Try, for at most TIMEOUT_MS, to send what is queued, and to have SNMP
 * informs in flight acknowledged (used at shutdown and reload; it
 * blocks in poll(), not in the loop).  Outputs
 * that are down get one immediate connect attempt.  Messages still
 * queued afterwards are counted as dropped and logged per output.
 * Returns the number of messages still queued before they were dropped
 * (0 when everything went out).
 */
size_t out_flush(struct out *out, unsigned timeout_ms);

void out_get_stats(const struct out *out, struct out_stats *stats_r);

/*
 * Closes every output and cancels its timers, discarding (without
 * counting) what is still queued: call out_flush() first.  A TLS
 * connection that is up gets a close_notify first.  Clears
 * *out.  NULL is a no-op.  Call it before loop_free().
 */
void out_free(struct out **out);

#endif
