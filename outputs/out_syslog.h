/*
 * out_syslog.h - events as RFC 5424 syslog messages.
 *
 * out_syslog_format() is pure (no I/O): it turns a neutral event into
 * one RFC 5424 message.  The transports (UDP, TCP with RFC 6587 octet
 * counting, a Unix socket, stderr) live in out.c, which owns the queues.
 */
#ifndef OUT_SYSLOG_H
#define OUT_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "../parser/msgevent.h"

#define OUT_SYSLOG_SIZE_MIN	480	/* RFC 5424 6.1: receivers must take 480 */
#define OUT_SYSLOG_SIZE_DEFAULT	2048	/* RFC 5424 6.1: should take 2048 */
/* rsyslog cuts at 8096 and parses the rest as a second message. */
#define OUT_SYSLOG_SIZE_MAX	8192

struct out_syslog_opts {
	const char *hostname;	/* HOSTNAME field; "-" if NULL/empty */
	const char *sd_id;	/* e.g. "msgevent@32473" */
	int facility;		/* 2 = mail */
	unsigned long procid;	/* PROCID field (our pid) */
	size_t max_size;	/* whole message, framing excluded */
};

/*
 * Format EV as
 *   <PRI>1 TIMESTAMP HOSTNAME msgeventd PROCID MSGID [SD-ID p="v" ...][meta sequenceId="SEQ"] TEXT
 * into BUF (at least OPTS->max_size bytes).  Severity is info, notice
 * for QuotaExceed.  TIMESTAMP is the event's time in UTC with
 * microseconds.  Values: invalid UTF-8 replaced by U+FFFD, C0 controls
 * and DEL written as #ooo (octal, as rsyslog does), then '"', '\' and
 * ']' escaped with '\' (RFC 5424 6.3.3).  When the message would exceed
 * max_size, the longest values are cut on a UTF-8 boundary and the
 * element gets vnd.msgeventd.truncated="1"; the event's own truncated
 * flag adds it too.  SEQ is 1..2147483647 (RFC 5424 7.3.1 wraps it).
 * Returns the length written (never more than max_size, no NUL
 * counted; BUF is NUL-terminated when there is room).
 */
size_t out_syslog_format(const struct out_syslog_opts *opts,
    const struct msgevent *ev, uint32_t seq, char *buf);

#endif
