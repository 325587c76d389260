/*
 * fuzz_infer.c - differential libFuzzer target for imap_infer: the
 * whole inference, both directions, events included.
 *
 * The input's first byte gives a chunk length (1 + its value mod 64).
 * The rest is a sequence of records: a header byte (bit 7: from the
 * server, else from the client; bits 0-6: the length, 0-127) and that
 * many bytes (fewer at the input's end).  Three inferences get the same
 * records in the same order: one each record whole, one in chunks of
 * the chunk length, one byte by byte (short inputs).  Their events, in
 * canonical form (tests/unit/transcript.c, which leaves the timestamp
 * out), must be the same, as must their counters; anything else, or a
 * crash, sanitizer report or leak, is a finding.  Before each client
 * record that starts a line, the proxy's own question is asked as the
 * session would (imap_infer_ask()), identically in all three.
 *
 * tests/fuzz/corpus-infer/ holds the transcripts (tests/transcripts/)
 * in this format; scripts/transcripts_to_fuzz.py writes them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parser/imap_infer.h"
#include "../unit/transcript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BYTEWISE_MAX	2048

struct run {
	struct imap_infer *infer;
	uint64_t hash;
	uint64_t events;
};

static void
mix(struct run *r, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0) {
		r->hash ^= *b++;
		r->hash *= 0x100000001b3ULL;
	}
}

static void
emit(void *ctx, const struct msgevent *ev)
{
	struct run *r = ctx;
	char buf[MSGEVENT_VALUE_SPACE * 4 + 256];
	size_t n = transcript_event_format(ev, buf, sizeof(buf));

	mix(r, buf, n);
	mix(r, "\n", 1);
	r->events++;
}

static void
start(struct run *r)
{
	struct imap_infer_env env;

	memset(r, 0, sizeof(*r));
	r->hash = 0xcbf29ce484222325ULL;
	memset(&env, 0, sizeof(env));
	env.client_ip = TRANSCRIPT_ENV_CLIENT_IP;
	env.client_port = TRANSCRIPT_ENV_CLIENT_PORT;
	env.server_domain = TRANSCRIPT_ENV_SERVER_DOMAIN;
	env.server_port = TRANSCRIPT_ENV_SERVER_PORT;
	env.server_fqdn = TRANSCRIPT_ENV_SERVER_FQDN;
	env.service = TRANSCRIPT_ENV_SERVICE;
	env.session_id = TRANSCRIPT_ENV_SESSION;
	env.emit = emit;
	env.ctx = r;
	r->infer = imap_infer_new(&env);
	if (r->infer == NULL)
		abort();
}

static void
feed(struct run *r, bool server, const uint8_t *p, size_t len, size_t chunk)
{
	struct imap_ask_query q;

	if (!server && len > 0 && imap_infer_may_ask(r->infer)) {
		/* as the session does: the line whole, if it is in the record */
		const uint8_t *lf = memchr(p, '\n', len);

		if (lf != NULL && imap_infer_ask(r->infer, (const char *)p,
		    (size_t)(lf - p) + 1, &q) > 0)
			mix(r, q.line, q.line_len);
	}
	for (size_t i = 0; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;

		if (server)
			imap_infer_server_data(r->infer, (const char *)p + i, n);
		else
			imap_infer_client_data(r->infer, (const char *)p + i, n);
	}
}

static void
finish(struct run *r)
{
	uint64_t v[4] = {
		imap_infer_untracked(r->infer),
		imap_infer_uids_unknown(r->infer),
		imap_infer_flags_unknown(r->infer),
		imap_infer_asked(r->infer),
	};

	mix(r, v, sizeof(v));
	/* Logout's duration is wall time: the canonical form says "*" */
	imap_infer_end(r->infer, IMAP_INFER_END_ABORT);
	imap_infer_free(&r->infer);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run runs[3];
	size_t chunks[3], nruns = size <= BYTEWISE_MAX ? 3 : 2;

	if (size < 1)
		return 0;
	chunks[0] = SIZE_MAX;
	chunks[1] = 1 + (size_t)(data[0] % 64);
	chunks[2] = 1;
	for (size_t k = 0; k < nruns; k++) {
		size_t i = 1;

		start(&runs[k]);
		while (i < size) {
			bool server = (data[i] & 0x80) != 0;
			size_t len = data[i] & 0x7f;

			i++;
			if (len > size - i)
				len = size - i;
			feed(&runs[k], server, data + i, len, chunks[k]);
			i += len;
		}
		finish(&runs[k]);
	}
	for (size_t k = 1; k < nruns; k++)
		if (runs[k].hash != runs[0].hash ||
		    runs[k].events != runs[0].events)
			abort();
	return 0;
}
