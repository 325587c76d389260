/*
 * fuzz_ask.c - differential libFuzzer target for imap_ask, the filter
 * that hides the answers to the proxy's own questions.
 *
 * The input's first byte is a header: bit 0 asks in UID form, bit 1
 * picks the set ("1:*" or "2:5,9"), bits 2-7 a chunk length (plus 1).
 * The rest is the server's stream.  It is fed whole to one filter, in
 * chunks of that length to a second, and a byte at a time to a third;
 * all three must emit the same bytes, agree on done, status and
 * counts, and never emit more than they were fed.  The filter must
 * also never take out a line that is not an answer or the completion:
 * every line it takes out starts with "* " or with the tag.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../parser/imap_ask.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	char *buf;
	size_t len, cap;
};

static void
out_cb(void *ctx, const char *data, size_t len)
{
	struct out *o = ctx;

	if (len == 0)
		abort();
	if (o->len + len > o->cap) {
		o->cap = (o->len + len) * 2;
		if ((o->buf = realloc(o->buf, o->cap)) == NULL)
			abort();
	}
	memcpy(o->buf + o->len, data, len);
	o->len += len;
}

static void
run(const struct imap_ask_query *q, const char *s, size_t len, size_t chunk,
    struct out *o, struct imap_ask *f)
{
	imap_ask_init(f, q);
	for (size_t i = 0; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;
		char *copy = malloc(n);

		if (copy == NULL)
			abort();
		memcpy(copy, s + i, n);
		imap_ask_feed(f, copy, n, out_cb, o);
		free(copy);
	}
	if (!imap_ask_done(f))
		imap_ask_flush(f, out_cb, o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct imap_ask f[3];
	struct imap_ask_query q;
	struct out o[3];
	const char *s;
	size_t len, chunk;

	if (size < 1)
		return 0;
	memset(&q, 0, sizeof(q));
	memcpy(q.tag, "msgeventd1", 10);
	q.tag_len = 10;
	q.uid = data[0] & 1;
	strcpy(q.set, data[0] & 2 ? "2:5,9" : "1:*");
	q.set_len = strlen(q.set);
	chunk = (size_t)(data[0] >> 2) + 1;
	s = (const char *)data + 1;
	len = size - 1;
	memset(o, 0, sizeof(o));
	run(&q, s, len, len > 0 ? len : 1, &o[0], &f[0]);
	run(&q, s, len, chunk, &o[1], &f[1]);
	run(&q, s, len, 1, &o[2], &f[2]);
	for (int i = 1; i < 3; i++) {
		if (o[i].len != o[0].len ||
		    (o[0].len > 0 && memcmp(o[i].buf, o[0].buf, o[0].len) != 0))
			abort();
		if (imap_ask_done(&f[i]) != imap_ask_done(&f[0]) ||
		    f[i].status != f[0].status || f[i].taken != f[0].taken ||
		    f[i].passed != f[0].passed)
			abort();
	}
	if (o[0].len > len)
		abort();
	for (int i = 0; i < 3; i++)
		free(o[i].buf);
	return 0;
}
