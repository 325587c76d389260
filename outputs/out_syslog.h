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
 * into BUF (at least OPTS->max_size bytes).  No I/O, no allocation.
 *
 * - PRI: facility * 8 + severity: info, notice for QuotaExceed.
 * - TIMESTAMP: the event's time in UTC with microseconds
 *   (2026-11-30T10:00:00.123456Z); "-" if the year has no 4 digits.
 * - HOSTNAME: opts->hostname cut to 255 bytes, any byte outside
 *   PRINTUSASCII written as '?'; "-" if NULL or empty.
 * - SD-ID: opts->sd_id (NULL: msgevent@32473); bytes not allowed in an
 *   SD-NAME are written as '_' (out_add_syslog() refuses such an id).
 * - SD-PARAMs: the parameters present, in MSGEVENT_PARAM_MAP order.
 *   Values: invalid UTF-8 replaced by U+FFFD, C0 controls and DEL
 *   written as #ooo (octal, as rsyslog does: LF is #012), then '"',
 *   '\' and ']' escaped with '\' (RFC 5424 6.3.3).
 * - TEXT: ASCII summary, "MessageAppend user=alice mailbox=INBOX
 *   uidset=4": the event name, then user, the mailbox name out of
 *   mailboxID and uidset when present (each capped at 64 bytes, "..."
 *   when cut; non-ASCII characters as '?', controls as #ooo).
 *
 * The result never exceeds max_size.  When it would, the longest values
 * (TEXT counting as one) are cut first, each between two characters or
 * escapes, and the event's element gets vnd.msgeventd.truncated="1";
 * if even empty values do not fit, parameters are left out from the
 * end of the list.  The event's own truncated flag adds the marker too.
 * The result is a valid RFC 5424 message whatever the values.
 *
 * Preconditions (asserted): max_size in OUT_SYSLOG_SIZE_MIN..MAX,
 * facility 0..23, SEQ 1..2147483647 (RFC 5424 7.3.1; callers wrap it).
 * Returns the length written, no NUL counted; BUF is NUL-terminated
 * when the length is below max_size.
 */
size_t out_syslog_format(const struct out_syslog_opts *opts,
    const struct msgevent *ev, uint32_t seq, char *buf);

#endif
