/*
 * msgevent.c - the neutral message store event.
 */
#include "msgevent.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {
#define MSGEVENT_X(e, name, snmp) name,
	MSGEVENT_TYPE_MAP(MSGEVENT_X)
#undef MSGEVENT_X
};

static const char *const type_snmp_names[] = {
#define MSGEVENT_X(e, name, snmp) snmp,
	MSGEVENT_TYPE_MAP(MSGEVENT_X)
#undef MSGEVENT_X
};

static const char *const param_names[] = {
#define MSGEVENT_X(e, name, kind) name,
	MSGEVENT_PARAM_MAP(MSGEVENT_X)
#undef MSGEVENT_X
};

static const enum msgevent_kind param_kinds[] = {
#define MSGEVENT_X(e, name, kind) kind,
	MSGEVENT_PARAM_MAP(MSGEVENT_X)
#undef MSGEVENT_X
};

void
msgevent_init(struct msgevent *ev, enum msgevent_type type)
{
	struct tm tm;
	char ts[96];	/* 28 used; gcc -O2 sizes %d/%ld for any int/long */

	assert(type < MSGEVENT_TYPE_COUNT);
	ev->type = type;
	ev->truncated = false;
	ev->present = 0;
	ev->used = 0;
	clock_gettime(CLOCK_REALTIME, &ev->time);
	gmtime_r(&ev->time.tv_sec, &tm);
	/* RFC 3339 in UTC with microseconds, as RFC 5424 TIMESTAMP. */
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ev->time.tv_nsec / 1000);
	msgevent_set_str(ev, MSGEVENT_P_TIMESTAMP, ts);
}

size_t
msgevent_utf8_cut(const char *s, size_t len)
{
	size_t i = len;
	size_t need;
	unsigned char c;

	if (len == 0)
		return 0;
	/* Walk back over at most 3 continuation bytes to a lead byte. */
	while (i > 0 && len - i < 4 &&
	    ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return len;	/* no lead byte: not UTF-8, cut anywhere */
	c = (unsigned char)s[i - 1];
	if (c < 0x80)
		return len;
	if ((c & 0xE0) == 0xC0)
		need = 2;
	else if ((c & 0xF0) == 0xE0)
		need = 3;
	else if ((c & 0xF8) == 0xF0)
		need = 4;
	else
		return len;	/* invalid lead byte: outputs replace it */
	/* The sequence starting at i-1 is complete iff it has all bytes. */
	if (len - (i - 1) >= need)
		return len;
	return i - 1;
}

int
msgevent_set(struct msgevent *ev, enum msgevent_param p, const char *value,
    size_t len)
{
	size_t room;
	int cut = 0;

	assert(p < MSGEVENT_PARAM_COUNT);
	if (ev->present & ((uint64_t)1 << p))
		return 0;
	room = sizeof(ev->buf) - ev->used;
	if (len > room) {
		len = msgevent_utf8_cut(value, room);
		ev->truncated = true;
		cut = 1;
	}
	memcpy(ev->buf + ev->used, value, len);
	ev->off[p] = ev->used;
	ev->len[p] = (uint16_t)len;
	ev->used += (uint16_t)len;
	ev->present |= (uint64_t)1 << p;
	return cut;
}

int
msgevent_set_str(struct msgevent *ev, enum msgevent_param p, const char *value)
{
	return msgevent_set(ev, p, value, strlen(value));
}

int
msgevent_set_uint(struct msgevent *ev, enum msgevent_param p, uint64_t value)
{
	return msgevent_setf(ev, p, "%" PRIu64, value);
}

int
msgevent_setf(struct msgevent *ev, enum msgevent_param p, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(tmp)) {
		if (msgevent_has(ev, p))
			return 0;	/* first value wins: nothing was cut */
		ev->truncated = true;
		msgevent_set(ev, p, tmp,
		    msgevent_utf8_cut(tmp, sizeof(tmp) - 1));
		return 1;
	}
	return msgevent_set(ev, p, tmp, (size_t)n);
}

const char *
msgevent_get(const struct msgevent *ev, enum msgevent_param p, size_t *len_r)
{
	if (p >= MSGEVENT_PARAM_COUNT ||
	    !(ev->present & ((uint64_t)1 << p))) {
		if (len_r != NULL)
			*len_r = 0;
		return NULL;
	}
	if (len_r != NULL)
		*len_r = ev->len[p];
	return ev->buf + ev->off[p];
}

bool
msgevent_has(const struct msgevent *ev, enum msgevent_param p)
{
	return p < MSGEVENT_PARAM_COUNT &&
	    (ev->present & ((uint64_t)1 << p)) != 0;
}

const char *
msgevent_type_name(enum msgevent_type type)
{
	assert(type < MSGEVENT_TYPE_COUNT);
	return type_names[type];
}

const char *
msgevent_type_snmp_name(enum msgevent_type type)
{
	assert(type < MSGEVENT_TYPE_COUNT);
	return type_snmp_names[type];
}

const char *
msgevent_param_name(enum msgevent_param p)
{
	assert(p < MSGEVENT_PARAM_COUNT);
	return param_names[p];
}

enum msgevent_kind
msgevent_param_kind(enum msgevent_param p)
{
	assert(p < MSGEVENT_PARAM_COUNT);
	return param_kinds[p];
}
