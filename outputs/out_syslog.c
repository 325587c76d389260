/*
 * out_syslog.c - events as RFC 5424 syslog messages.
 *
 * The formatter is pure: no I/O, no allocation.  Everything it writes
 * goes through a "sink" that either copies into the caller's buffer or
 * only counts, so the size cap is computed by running the very code that
 * writes the message: what was measured is what gets written.
 *
 * Values are written as a sequence of units, one per input character:
 * a well-formed UTF-8 character, U+FFFD for an ill-formed sequence,
 * "#ooo" for a control, "\x" for a special.  A value is only ever cut
 * between two units, so a cut never lands inside a UTF-8 character or
 * an escape sequence.
 */
#include "out_syslog.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SEQ_MAX		2147483647u	/* RFC 5424 7.3.1: then wraps to 1 */
#define HOSTNAME_MAX	255		/* RFC 5424 6.2.4 */
#define SD_NAME_MAX	32		/* RFC 5424 6.3.2: SD-NAME */
#define SD_ID_DEFAULT	"msgevent@32473"
#define FACILITY_MAX	23		/* RFC 5424 6.2.1: local7 */
#define SEVERITY_NOTICE	5
#define SEVERITY_INFO	6
/*
 * A value shown in TEXT takes at most this many bytes; a longer one is
 * cut to TEXT_ITEM_MAX - 3 and ends in "...".  TEXT is a summary: the
 * full values are in the structured data.
 */
#define TEXT_ITEM_MAX	64
/* U+FFFD REPLACEMENT CHARACTER, for ill-formed UTF-8 in values. */
#define UTF8_REPLACEMENT	"\xEF\xBF\xBD"

/*
 * What the size cap trades off: each parameter's value, then TEXT.
 * Item i < MSGEVENT_PARAM_COUNT is parameter i.
 */
#define ITEM_TEXT	MSGEVENT_PARAM_COUNT
#define ITEM_COUNT	(MSGEVENT_PARAM_COUNT + 1)
#define ROOM_ALL	((size_t)-1)

struct sink {
	char *buf;		/* NULL: only count */
	size_t len;
	size_t cap;		/* current limit, lowered for an item */
	bool stop;		/* a unit did not fit: no more until item_end() */
};

enum esc_mode {
	ESC_SD,			/* PARAM-VALUE: UTF-8, '"' '\' ']' escaped */
	ESC_TEXT,		/* MSG: printable ASCII only */
};

/* How one message is laid out within max_size. */
struct layout {
	uint64_t keep;		/* parameters written (a subset of present) */
	bool mark;		/* add vnd.msgeventd.truncated="1" */
	size_t room[ITEM_COUNT]; /* bytes each item may take, or ROOM_ALL */
};

static void
sink_put(struct sink *s, const char *p, size_t n)
{
	if (s->stop || n > s->cap - s->len) {
		s->stop = true;
		return;
	}
	if (s->buf != NULL)
		memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void
sink_puts(struct sink *s, const char *p)
{
	sink_put(s, p, strlen(p));
}

/*
 * Limit what follows to ROOM more bytes, until item_end(), which
 * restores the previous limit (returned here) and lets writing resume.
 * Within an item, the first unit that does not fit ends it, so an item
 * cut to ROOM is exactly as long as measure_item() says, wherever it is
 * written.
 */
static size_t
item_begin(struct sink *s, size_t room)
{
	size_t outer = s->cap;

	if (room < s->cap - s->len)
		s->cap = s->len + room;
	return outer;
}

static void
item_end(struct sink *s, size_t outer)
{
	s->cap = outer;
	s->stop = false;
}

/*
 * The length of the well-formed UTF-8 character at S (RFC 3629 section
 * 4: no overlongs, no surrogates, nothing above U+10FFFF), or 0 when it
 * is ill-formed; then *SKIP_R is the length of its maximal subpart,
 * which becomes one U+FFFD (Unicode's "substitution of maximal
 * subparts").
 */
static size_t
utf8_char_len(const unsigned char *s, size_t len, size_t *skip_r)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		need = 3;
		if (s[0] == 0xE0)
			lo = 0xA0;	/* overlong */
		else if (s[0] == 0xED)
			hi = 0x9F;	/* surrogates */
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		need = 4;
		if (s[0] == 0xF0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xF4)
			hi = 0x8F;	/* above U+10FFFF */
	} else {
		*skip_r = 1;	/* C0, C1, F5..FF, or a stray continuation */
		return 0;
	}
	for (i = 1; i < need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*skip_r = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need;
}

/*
 * The next unit of S, escaped for MODE, into U (at most 4 bytes).
 * Returns its length; *USED_R is the input it stands for.  Order as
 * RFC 5424 6.3.3 needs it: first the bytes become valid UTF-8, then
 * controls become "#ooo" (three octal digits, as rsyslog writes them:
 * LF is "#012"), then '"', '\' and ']' get their backslash.
 */
static size_t
unit_escape(const unsigned char *s, size_t len, enum esc_mode mode,
    char u[4], size_t *used_r)
{
	unsigned char c = s[0];
	size_t n, skip = 1;

	*used_r = 1;
	if (c < 0x20 || c == 0x7F) {
		u[0] = '#';
		u[1] = (char)('0' + (c >> 6));
		u[2] = (char)('0' + ((c >> 3) & 7));
		u[3] = (char)('0' + (c & 7));
		return 4;
	}
	if (c < 0x80) {
		if (mode == ESC_SD && (c == '"' || c == '\\' || c == ']')) {
			u[0] = '\\';
			u[1] = (char)c;
			return 2;
		}
		u[0] = (char)c;
		return 1;
	}
	n = utf8_char_len(s, len, &skip);
	*used_r = n != 0 ? n : skip;
	if (mode == ESC_TEXT) {
		u[0] = '?';	/* TEXT stays ASCII: one '?' per character */
		return 1;
	}
	if (n == 0) {
		memcpy(u, UTF8_REPLACEMENT, 3);
		return 3;
	}
	memcpy(u, s, n);
	return n;
}

/* Write the LEN bytes at V, escaped, up to the first unit that does not fit. */
static void
put_escaped(struct sink *s, const char *v, size_t len, enum esc_mode mode)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t i = 0, n, used;
	char u[4];

	while (i < len && !s->stop) {
		n = unit_escape(p + i, len - i, mode, u, &used);
		sink_put(s, u, n);
		i += used;
	}
}

/* The length of V escaped, but at most ROOM (cut between units). */
static size_t measure_escaped(const char *, size_t, enum esc_mode, size_t);

/*
 * How much of parameter P's value to write within ROOM escaped bytes.
 * Lists are cut between elements only: a uidset "1:1516:1" cut out of
 * "1:1516:1600" would name messages the event is not about, and a cut
 * flag name is another flag.  Other values are cut between units by the
 * item's limit.
 */
static size_t
value_len(enum msgevent_param p, const char *v, size_t len, size_t room)
{
	const char *q;
	char sep;

	if (p == MSGEVENT_P_UIDSET)
		sep = ',';
	else if (p == MSGEVENT_P_FLAG_NAMES)
		sep = ' ';
	else
		return len;
	if (room == ROOM_ALL ||
	    measure_escaped(v, len, ESC_SD, ROOM_ALL) <= room)
		return len;
	/* Escaping only lengthens: start at the last separator within ROOM. */
	if (len > room)
		len = room + 1;
	while (len > 0) {
		q = memrchr(v, sep, len);
		len = q == NULL ? 0 : (size_t)(q - v);
		if (measure_escaped(v, len, ESC_SD, ROOM_ALL) <= room)
			return len;
	}
	return 0;
}

static size_t
measure_escaped(const char *v, size_t len, enum esc_mode mode, size_t room)
{
	struct sink s = { NULL, 0, room, false };

	put_escaped(&s, v, len, mode);
	return s.len;
}

/*
 * The mailbox name out of a mailboxID, for TEXT: an IMAP URL (RFC 5092)
 * such as imap://alice@host/INBOX;UIDVALIDITY=1 shows as "INBOX".  The
 * name stays percent-encoded.  Anything else shows whole.
 */
static const char *
mailbox_short(const char *v, size_t len, size_t *len_r)
{
	const char *p, *end = v + len, *slash, *semi;

	p = memmem(v, len, "://", 3);
	if (p == NULL)
		goto whole;
	p += 3;
	slash = memchr(p, '/', (size_t)(end - p));
	if (slash == NULL)
		goto whole;
	p = slash + 1;
	/* RFC 5092 enc-mailbox has no ';': it starts ;UIDVALIDITY or /;UID. */
	semi = memchr(p, ';', (size_t)(end - p));
	if (semi != NULL)
		end = semi;
	if (end > p && end[-1] == '/')
		end--;
	if (end == p)
		goto whole;
	*len_r = (size_t)(end - p);
	return p;
whole:
	*len_r = len;
	return v;
}

/* " LABEL=VALUE" in TEXT, VALUE capped at TEXT_ITEM_MAX bytes. */
static void
put_text_item(struct sink *s, const char *label, const char *v, size_t len)
{
	size_t outer;

	sink_puts(s, label);
	if (measure_escaped(v, len, ESC_TEXT, ROOM_ALL) <= TEXT_ITEM_MAX) {
		put_escaped(s, v, len, ESC_TEXT);
		return;
	}
	outer = item_begin(s, TEXT_ITEM_MAX - 3);
	put_escaped(s, v, len, ESC_TEXT);
	item_end(s, outer);
	sink_put(s, "...", 3);
}

/*
 * TEXT, with the space that separates it from the structured data:
 * " MessageAppend user=alice mailbox=INBOX uidset=4".  Only user,
 * mailboxID and uidset ever appear here.
 */
static void
put_text(struct sink *s, const struct msgevent *ev)
{
	const char *v;
	size_t len;

	sink_put(s, " ", 1);
	sink_puts(s, msgevent_type_name(ev->type));
	if ((v = msgevent_get(ev, MSGEVENT_P_USER, &len)) != NULL)
		put_text_item(s, " user=", v, len);
	if ((v = msgevent_get(ev, MSGEVENT_P_MAILBOX_ID, &len)) != NULL) {
		v = mailbox_short(v, len, &len);
		put_text_item(s, " mailbox=", v, len);
	}
	if ((v = msgevent_get(ev, MSGEVENT_P_UIDSET, &len)) != NULL)
		put_text_item(s, " uidset=", v, len);
}

static size_t
measure_text(const struct msgevent *ev, size_t room)
{
	struct sink s = { NULL, 0, room, false };

	put_text(&s, ev);
	return s.len;
}

/* RFC 5424 6.2.4: 1..255 PRINTUSASCII, else '?'; "-" when unknown. */
static void
put_hostname(struct sink *s, const char *name)
{
	size_t i;
	char c;

	if (name == NULL || name[0] == '\0') {
		sink_put(s, "-", 1);
		return;
	}
	for (i = 0; name[i] != '\0' && i < HOSTNAME_MAX; i++) {
		c = name[i];
		if (c < 33 || c > 126)
			c = '?';
		sink_put(s, &c, 1);
	}
}

/*
 * RFC 5424 6.3.2: SD-ID is an SD-NAME, 1..32 PRINTUSASCII but '=', SP,
 * ']' and '"'.  out_add_syslog() refuses a bad one; this only makes
 * sure a caller's mistake cannot break the message.
 */
static void
put_sd_id(struct sink *s, const char *id)
{
	size_t i;
	char c;

	if (id == NULL || id[0] == '\0')
		id = SD_ID_DEFAULT;
	for (i = 0; id[i] != '\0' && i < SD_NAME_MAX; i++) {
		c = id[i];
		if (c < 33 || c > 126 || c == '=' || c == ']' || c == '"')
			c = '_';
		sink_put(s, &c, 1);
	}
}

/* RFC 5424 6.2.3: FULL-DATE "T" FULL-TIME, here always UTC, microseconds. */
static void
put_timestamp(struct sink *s, const struct timespec *ts)
{
	struct tm tm;
	char tmp[64];
	long usec;
	int n;

	usec = ts->tv_nsec / 1000;
	if (usec < 0 || usec > 999999)
		usec = 0;
	if (gmtime_r(&ts->tv_sec, &tm) == NULL ||
	    tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		sink_put(s, "-", 1);	/* NILVALUE: no 4-digit year */
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, usec);
	assert(n > 0 && (size_t)n < sizeof(tmp));
	sink_put(s, tmp, (size_t)n);
}

/*
 * The whole message as LAY says.  Run with a counting sink to measure,
 * with the caller's buffer to write.
 */
static void
put_message(struct sink *s, const struct out_syslog_opts *opts,
    const struct msgevent *ev, uint32_t seq, const struct layout *lay)
{
	const char *v;
	size_t len, outer;
	char tmp[64];
	int severity, n;
	unsigned p;

	severity = ev->type == MSGEVENT_QUOTA_EXCEED ? SEVERITY_NOTICE :
	    SEVERITY_INFO;
	n = snprintf(tmp, sizeof(tmp), "<%d>1 ", opts->facility * 8 + severity);
	sink_put(s, tmp, (size_t)n);
	put_timestamp(s, &ev->time);
	sink_put(s, " ", 1);
	put_hostname(s, opts->hostname);
	n = snprintf(tmp, sizeof(tmp), " msgeventd %lu ", opts->procid);
	sink_put(s, tmp, (size_t)n);
	sink_puts(s, msgevent_type_name(ev->type));

	sink_put(s, " [", 2);
	put_sd_id(s, opts->sd_id);
	for (p = 0; p < MSGEVENT_PARAM_COUNT; p++) {
		if (!(lay->keep & ((uint64_t)1 << p)))
			continue;
		v = msgevent_get(ev, p, &len);
		sink_put(s, " ", 1);
		sink_puts(s, msgevent_param_name(p));
		sink_put(s, "=\"", 2);
		outer = item_begin(s, lay->room[p]);
		put_escaped(s, v, value_len(p, v, len, lay->room[p]), ESC_SD);
		item_end(s, outer);
		sink_put(s, "\"", 1);
	}
	if (lay->mark)
		sink_puts(s, " vnd.msgeventd.truncated=\"1\"");
	n = snprintf(tmp, sizeof(tmp), "][meta sequenceId=\"%lu\"]",
	    (unsigned long)seq);
	sink_put(s, tmp, (size_t)n);

	outer = item_begin(s, lay->room[ITEM_TEXT]);
	put_text(s, ev);
	item_end(s, outer);
}

/* The length of everything but the items (values and TEXT). */
static size_t
measure_fixed(const struct out_syslog_opts *opts, const struct msgevent *ev,
    uint32_t seq, const struct layout *lay)
{
	struct layout bare = *lay;
	struct sink s = { NULL, 0, ROOM_ALL, false };
	size_t i;

	for (i = 0; i < ITEM_COUNT; i++)
		bare.room[i] = 0;
	put_message(&s, opts, ev, seq, &bare);
	return s.len;
}

/* The length item I takes when given ROOM bytes. */
static size_t
measure_item(const struct msgevent *ev, size_t i, size_t room)
{
	const char *v;
	size_t len;

	if (i == ITEM_TEXT)
		return measure_text(ev, room);
	v = msgevent_get(ev, i, &len);
	return measure_escaped(v, value_len(i, v, len, room), ESC_SD, room);
}

static bool
item_kept(const struct layout *lay, size_t i)
{
	return i == ITEM_TEXT || (lay->keep & ((uint64_t)1 << i)) != 0;
}

/* What the kept items take together when each may take ROOM bytes. */
static size_t
items_total(const struct layout *lay, const struct msgevent *ev,
    const size_t full[ITEM_COUNT], size_t room, size_t limit)
{
	size_t total = 0, i;

	for (i = 0; i < ITEM_COUNT && total <= limit; i++)
		if (item_kept(lay, i))
			total += full[i] <= room ? full[i] :
			    measure_item(ev, i, room);
	return total;
}

/*
 * Cut the longest items first: find the largest level L such that the
 * items, each cut to at most L bytes, fit in BUDGET together ("water
 * filling").  Items not longer than L stay whole.  Binary search, since
 * cutting between units makes the total a step function of L.  Returns
 * what the items then take.
 */
static size_t
layout_cut(struct layout *lay, const struct msgevent *ev,
    const size_t full[ITEM_COUNT], size_t budget)
{
	size_t lo = 0, hi = 0, mid, i;

	for (i = 0; i < ITEM_COUNT; i++)
		if (item_kept(lay, i) && full[i] > hi)
			hi = full[i];
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (items_total(lay, ev, full, mid, budget) <= budget)
			lo = mid;
		else
			hi = mid - 1;
	}
	for (i = 0; i < ITEM_COUNT; i++)
		lay->room[i] = lo;
	return items_total(lay, ev, full, lo, ROOM_ALL);
}

size_t
out_syslog_format(const struct out_syslog_opts *opts,
    const struct msgevent *ev, uint32_t seq, char *buf)
{
	struct layout lay;
	struct sink s;
	size_t full[ITEM_COUNT], fixed, total, max, i;
	int last;

	assert(opts->max_size >= OUT_SYSLOG_SIZE_MIN &&
	    opts->max_size <= OUT_SYSLOG_SIZE_MAX);
	assert(opts->facility >= 0 && opts->facility <= FACILITY_MAX);
	assert(ev->type < MSGEVENT_TYPE_COUNT);
	assert(seq >= 1 && seq <= SEQ_MAX);
	max = opts->max_size;

	lay.keep = ev->present;
	lay.mark = ev->truncated;
	total = 0;
	for (i = 0; i < ITEM_COUNT; i++) {
		lay.room[i] = ROOM_ALL;
		full[i] = item_kept(&lay, i) ?
		    measure_item(ev, i, ROOM_ALL) : 0;
		total += full[i];
	}
	fixed = measure_fixed(opts, ev, seq, &lay);
	if (fixed + total > max) {
		lay.mark = true;
		fixed = measure_fixed(opts, ev, seq, &lay);
		/*
		 * Even empty values may not fit (255-byte HOSTNAME, 480-byte
		 * cap, many parameters): then drop parameters from the end of
		 * the list.  The header, an SD-ID of 32, the marker and the
		 * meta element take at most 441 bytes, less than 480.
		 */
		while (fixed > max) {
			assert(lay.keep != 0);
			last = 63 - __builtin_clzll(lay.keep);
			lay.keep &= ~((uint64_t)1 << last);
			fixed = measure_fixed(opts, ev, seq, &lay);
		}
		total = layout_cut(&lay, ev, full, max - fixed);
	}

	s.buf = buf;
	s.len = 0;
	s.cap = max;
	s.stop = false;
	put_message(&s, opts, ev, seq, &lay);
	/* Written as measured, hence within max_size and nothing skipped. */
	assert(s.len == fixed + total && s.len <= max);
	if (s.len < max)
		buf[s.len] = '\0';
	return s.len;
}
