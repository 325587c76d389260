/*
 * test_pop3_infer.c - the POP3 inference, from transcripts and by hand.
 *
 * Every tests/transcripts/pop3/NAME.t (format: transcript.h, service
 * "pop", server port 110) runs four ways: each chunk whole, each chunk
 * byte by byte, each chunk split in two at every offset, and each chunk
 * split in three at every pair of offsets below SPLIT3_MAX.  All must
 * give the expected events at the expected checkpoints, and the same
 * bytes relayed each way:
 *
 *   - lines "#UP: text" and "#DOWN: text" (comments to transcript.c)
 *     spell, each followed by CRLF, everything the server and the client
 *     must receive; without them, each must receive exactly what the
 *     other side sent (no own command, nothing kept back);
 *   - "# uidl-map: dovecot" runs with a uidl_map hook reading Dovecot's
 *     %08Xu%08Xv unique-ids; "# own-commands: off" with no_own_commands;
 *     "# relay: off" without relay callbacks; "# stls-own: on" with
 *     env.stls_own, "# stls-offer: on" also pop3_infer_offer_stls(true).
 *
 * Usage: test_pop3_infer [TRANSCRIPT_DIR]   (default ../transcripts/pop3,
 * then tests/transcripts/pop3, for running from tests/unit or the top).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "transcript.h"
#include "../../parser/imap_registry.h"
#include "../../parser/pop3_infer.h"

#define POP_SERVICE	"pop"
#define POP_PORT	110
#define SPLIT3_MAX	40	/* 3-way splits at offsets below this */

/* ---- a session's output ----------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

struct out {
	struct msgevent *ev;	/* copies, whole */
	char **text;		/* canonical forms */
	size_t n, cap;
	struct buf up, down;	/* bytes relayed to the server, the client */
};

static void
buf_add(struct buf *b, const char *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

static void
out_emit(void *ctx, const struct msgevent *ev)
{
	struct out *o = ctx;
	char buf[MSGEVENT_VALUE_SPACE * 4 + 256];

	if (o->n == o->cap) {
		o->cap = o->cap == 0 ? 8 : o->cap * 2;
		o->ev = realloc(o->ev, o->cap * sizeof(*o->ev));
		o->text = realloc(o->text, o->cap * sizeof(*o->text));
		assert_non_null(o->ev);
		assert_non_null(o->text);
	}
	o->ev[o->n] = *ev;
	transcript_event_format(ev, buf, sizeof(buf));
	o->text[o->n] = strdup(buf);
	assert_non_null(o->text[o->n]);
	o->n++;
}

static void
out_to_server(void *ctx, const char *data, size_t len)
{
	assert_true(len > 0);
	buf_add(&((struct out *)ctx)->up, data, len);
}

static void
out_to_client(void *ctx, const char *data, size_t len)
{
	assert_true(len > 0);
	buf_add(&((struct out *)ctx)->down, data, len);
}

static void
out_free(struct out *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		free(o->text[i]);
	free(o->text);
	free(o->ev);
	free(o->up.p);
	free(o->down.p);
	memset(o, 0, sizeof(*o));
}

static size_t
count_type(const struct out *o, enum msgevent_type type)
{
	size_t i, n = 0;

	for (i = 0; i < o->n; i++)
		if (o->ev[i].type == type)
			n++;
	return n;
}

/* Dovecot's default pop3_uidl_format %08Xu%08Xv, read back. */
static bool
map_dovecot(void *ctx, const char *uidl, size_t len, uint32_t *uid_r,
    uint32_t *uidvalidity_r)
{
	uint64_t v[2] = { 0, 0 };
	size_t i;
	int d;

	(void)ctx;
	if (len != 16)
		return false;
	for (i = 0; i < 16; i++) {
		if (uidl[i] >= '0' && uidl[i] <= '9')
			d = uidl[i] - '0';
		else if (uidl[i] >= 'a' && uidl[i] <= 'f')
			d = uidl[i] - 'a' + 10;
		else if (uidl[i] >= 'A' && uidl[i] <= 'F')
			d = uidl[i] - 'A' + 10;
		else
			return false;
		v[i / 8] = v[i / 8] * 16 + (uint64_t)d;
	}
	*uid_r = (uint32_t)v[0];
	*uidvalidity_r = (uint32_t)v[1];
	return true;
}

/* The uidl_map of the random sessions: any unique-id maps. */
static bool
map_any(void *ctx, const char *uidl, size_t len, uint32_t *uid_r,
    uint32_t *uidvalidity_r)
{
	(void)ctx;
	*uid_r = (uint32_t)len;
	*uidvalidity_r = (unsigned char)uidl[0];
	return true;
}

/* How a session runs: from a transcript's header lines, or by hand. */
struct opts {
	bool map;		/* uidl_map: map_dovecot */
	bool no_own;		/* no_own_commands */
	bool no_relay;		/* no relay callbacks */
	size_t line_max;
	bool stls;		/* stls_plaintext */
	bool map_any;		/* uidl_map: map_any */
	bool stls_own;		/* stls_own */
	bool stls_offer;	/* pop3_infer_offer_stls(true) */
	struct imap_registry *registry;	/* with the key REG_BACKEND */
};

/* The registry key of the tests' store (imap_infer_env.backend). */
#define REG_BACKEND	"127.0.0.1:143"

static struct pop3_infer *
infer_new_opts(struct out *o, const struct opts *op)
{
	struct pop3_infer_env env;
	struct pop3_infer *infer;

	memset(&env, 0, sizeof(env));
	env.client_ip = TRANSCRIPT_ENV_CLIENT_IP;
	env.client_port = TRANSCRIPT_ENV_CLIENT_PORT;
	env.server_domain = TRANSCRIPT_ENV_SERVER_DOMAIN;
	env.server_port = POP_PORT;
	env.server_fqdn = TRANSCRIPT_ENV_SERVER_FQDN;
	env.service = POP_SERVICE;
	env.session_id = TRANSCRIPT_ENV_SESSION;
	env.line_max = op != NULL ? op->line_max : 0;
	env.no_own_commands = op != NULL && op->no_own;
	env.stls_plaintext = op != NULL && op->stls;
	env.stls_own = op != NULL && op->stls_own;
	env.emit = out_emit;
	if (op == NULL || !op->no_relay) {
		env.to_server = out_to_server;
		env.to_client = out_to_client;
	}
	env.ctx = o;
	if (op != NULL && op->map)
		env.uidl_map = map_dovecot;
	if (op != NULL && op->map_any)
		env.uidl_map = map_any;
	if (op != NULL && op->registry != NULL) {
		env.registry = op->registry;
		env.backends[0] = REG_BACKEND;
	}
	infer = pop3_infer_new(&env);
	assert_non_null(infer);
	if (op != NULL && op->stls_offer)
		pop3_infer_offer_stls(infer, true);
	return infer;
}

static struct pop3_infer *
infer_new(struct out *o)
{
	return infer_new_opts(o, NULL);
}

/* ---- feeding ---------------------------------------------------------- */

enum way {
	WAY_WHOLE,	/* each chunk in one call */
	WAY_BYTES,	/* each chunk one byte per call */
	WAY_SPLIT,	/* each chunk in two calls, split at offset k */
	WAY_SPLIT3,	/* each chunk in three calls, split at k and k2 */
};

static const char *const way_names[] = { "whole", "bytes", "split",
    "split3" };

/*
 * One call with LEN bytes at DATA, from a heap copy scribbled over and
 * freed afterwards: token spans point into it, and a span kept past the
 * call would show as a wrong event or relay (or trip ASan).
 */
static void
feed_chunk(struct pop3_infer *infer, bool client, const char *data,
    size_t len)
{
	char *chunk = malloc(len + 1);

	assert_non_null(chunk);
	memcpy(chunk, data, len);
	if (client)
		pop3_infer_client_data(infer, chunk, len);
	else
		pop3_infer_server_data(infer, chunk, len);
	memset(chunk, '#', len);
	free(chunk);
}

static void
feed(struct pop3_infer *infer, bool client, const char *data, size_t len,
    enum way way, size_t k, size_t k2)
{
	size_t i;

	switch (way) {
	case WAY_WHOLE:
		feed_chunk(infer, client, data, len);
		break;
	case WAY_BYTES:
		for (i = 0; i < len; i++)
			feed_chunk(infer, client, data + i, 1);
		break;
	case WAY_SPLIT3:
		if (k2 < len) {
			feed_chunk(infer, client, data, k);
			feed_chunk(infer, client, data + k, k2 - k);
			feed_chunk(infer, client, data + k2, len - k2);
			break;
		}
		/* FALLTHROUGH */
	case WAY_SPLIT:
		if (k >= len)
			feed_chunk(infer, client, data, len);
		else {
			feed_chunk(infer, client, data, k);
			feed_chunk(infer, client, data + k, len - k);
		}
		break;
	}
}

static enum pop3_infer_end
end_reason(enum imap_infer_end r)
{
	switch (r) {
	case IMAP_INFER_END_GRACEFUL:
		return POP3_INFER_END_GRACEFUL;
	case IMAP_INFER_END_TIMEOUT:
		return POP3_INFER_END_TIMEOUT;
	case IMAP_INFER_END_CLOSED:
		return POP3_INFER_END_CLOSED;
	default:
		return POP3_INFER_END_ABORT;
	}
}

/* ---- transcripts ------------------------------------------------------- */

/* What a transcript's comment lines ask for (see the top). */
struct extra {
	struct opts opts;
	struct buf up, down;	/* expected relays, when given */
	bool has_up, has_down;
	struct buf client, server;	/* all C: and S: bytes */
};

static void
extra_load(const char *path, const struct transcript *t, struct extra *x)
{
	char line[4096];
	size_t i, len;
	FILE *fp = fopen(path, "r");

	memset(x, 0, sizeof(*x));
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (strcmp(line, "# uidl-map: dovecot") == 0)
			x->opts.map = true;
		else if (strcmp(line, "# own-commands: off") == 0)
			x->opts.no_own = true;
		else if (strcmp(line, "# relay: off") == 0)
			x->opts.no_relay = true;
		else if (strcmp(line, "# stls-own: on") == 0)
			x->opts.stls_own = true;
		else if (strcmp(line, "# stls-offer: on") == 0)
			x->opts.stls_offer = true;
		else if (strncmp(line, "#UP: ", 5) == 0) {
			x->has_up = true;
			buf_add(&x->up, line + 5, len - 5);
			buf_add(&x->up, "\r\n", 2);
		} else if (strncmp(line, "#DOWN: ", 7) == 0) {
			x->has_down = true;
			buf_add(&x->down, line + 7, len - 7);
			buf_add(&x->down, "\r\n", 2);
		}
	}
	fclose(fp);
	buf_add(&x->client, "", 0);
	buf_add(&x->server, "", 0);
	for (i = 0; i < t->nsteps; i++) {
		if (t->steps[i].op == TRANSCRIPT_CLIENT)
			buf_add(&x->client, t->steps[i].data, t->steps[i].len);
		else if (t->steps[i].op == TRANSCRIPT_SERVER)
			buf_add(&x->server, t->steps[i].data, t->steps[i].len);
	}
	if (!x->has_up)
		buf_add(&x->up, x->client.p, x->client.len);
	if (!x->has_down)
		buf_add(&x->down, x->server.p, x->server.len);
}

static void
extra_free(struct extra *x)
{
	free(x->up.p);
	free(x->down.p);
	free(x->client.p);
	free(x->server.p);
}

/* The relayed bytes, printable, for messages. */
static void
show(char *dst, size_t size, const struct buf *b)
{
	size_t i, n = 0;
	unsigned char c;

	for (i = 0; i < b->len && n + 5 < size; i++) {
		c = (unsigned char)b->p[i];
		if (c == '\n')
			n += (size_t)snprintf(dst + n, size - n, "\\n\n  ");
		else if (c == '\r')
			n += (size_t)snprintf(dst + n, size - n, "\\r");
		else
			dst[n++] = (char)c;
	}
	dst[n] = '\0';
}

/*
 * Run T one way; 0 if every checkpoint held and the relays are as
 * expected, else -1 with a report in ERR.
 */
static int
transcript_run(const struct transcript *t, const struct extra *x,
    enum way way, size_t k, size_t k2, char *err, size_t errsize)
{
	struct out o;
	struct pop3_infer *infer;
	const struct transcript_step *s;
	size_t i, j, seen = 0;
	int rc = 0;
	char a[4096], b[4096];

	memset(&o, 0, sizeof(o));
	infer = infer_new_opts(&o, &x->opts);
	for (i = 0; i < t->nsteps && rc == 0; i++) {
		s = &t->steps[i];
		switch (s->op) {
		case TRANSCRIPT_CLIENT:
		case TRANSCRIPT_SERVER:
			feed(infer, s->op == TRANSCRIPT_CLIENT, s->data, s->len,
			    way, k, k2);
			break;
		case TRANSCRIPT_END:
			pop3_infer_client_eof(infer);
			pop3_infer_server_eof(infer);
			pop3_infer_end(infer, end_reason(s->reason));
			break;
		case TRANSCRIPT_EXPECT:
		case TRANSCRIPT_NONE:
			/* A checkpoint: the run of E: lines from here. */
			for (j = i; j < t->nsteps &&
			    (t->steps[j].op == TRANSCRIPT_EXPECT ||
			    t->steps[j].op == TRANSCRIPT_NONE); j++) {
				s = &t->steps[j];
				if (s->op == TRANSCRIPT_NONE)
					continue;
				if (seen >= o.n) {
					snprintf(err, errsize, "%s:%u (%s %zu "
					    "%zu): missing event\n  want: %s",
					    t->path, s->line, way_names[way], k,
					    k2, s->data);
					rc = -1;
					break;
				}
				if (strcmp(o.text[seen], s->data) != 0) {
					snprintf(err, errsize, "%s:%u (%s %zu "
					    "%zu): wrong event\n  want: %s\n"
					    "  got:  %s", t->path, s->line,
					    way_names[way], k, k2, s->data,
					    o.text[seen]);
					rc = -1;
					break;
				}
				seen++;
			}
			i = j - 1;
			if (rc == 0 && seen < o.n) {
				snprintf(err, errsize, "%s:%u (%s %zu %zu): "
				    "unexpected event\n  got:  %s", t->path,
				    t->steps[i].line, way_names[way], k, k2,
				    o.text[seen]);
				rc = -1;
			}
			break;
		}
	}
	if (rc == 0 && seen < o.n) {
		snprintf(err, errsize, "%s: end (%s %zu %zu): unexpected "
		    "event\n  got:  %s", t->path, way_names[way], k, k2,
		    o.text[seen]);
		rc = -1;
	}
	if (rc == 0 && !x->opts.no_relay && (o.up.len != x->up.len ||
	    memcmp(o.up.p, x->up.p, x->up.len) != 0)) {
		show(a, sizeof(a), &x->up);
		show(b, sizeof(b), &o.up);
		snprintf(err, errsize, "%s (%s %zu %zu): the server got\n  %s\n"
		    "instead of\n  %s", t->path, way_names[way], k, k2, b, a);
		rc = -1;
	}
	if (rc == 0 && !x->opts.no_relay && (o.down.len != x->down.len ||
	    memcmp(o.down.p, x->down.p, x->down.len) != 0)) {
		show(a, sizeof(a), &x->down);
		show(b, sizeof(b), &o.down);
		snprintf(err, errsize, "%s (%s %zu %zu): the client got\n  %s\n"
		    "instead of\n  %s", t->path, way_names[way], k, k2, b, a);
		rc = -1;
	}
	pop3_infer_free(&infer);
	assert_null(infer);
	out_free(&o);
	return rc;
}

struct transcript_case {
	const char *path;
	enum way way;
	char name[256];
};

static void
test_transcript(void **state)
{
	struct transcript_case *tc = *state;
	struct transcript t;
	struct extra x;
	char err[16384];
	size_t i, k, k2, maxlen = 0;
	int rc = 0;

	if (transcript_load(tc->path, &t, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	extra_load(tc->path, &t, &x);
	for (i = 0; i < t.nsteps; i++)
		if ((t.steps[i].op == TRANSCRIPT_CLIENT ||
		    t.steps[i].op == TRANSCRIPT_SERVER) &&
		    t.steps[i].len > maxlen)
			maxlen = t.steps[i].len;
	switch (tc->way) {
	case WAY_WHOLE:
	case WAY_BYTES:
		rc = transcript_run(&t, &x, tc->way, 0, 0, err, sizeof(err));
		break;
	case WAY_SPLIT:
		/* Every chunk split at k, for every k a chunk has. */
		for (k = 1; k < maxlen && rc == 0; k++)
			rc = transcript_run(&t, &x, WAY_SPLIT, k, 0, err,
			    sizeof(err));
		break;
	case WAY_SPLIT3:
		for (k = 1; k < maxlen && k < SPLIT3_MAX && rc == 0; k++)
			for (k2 = k + 1; k2 < maxlen && k2 < SPLIT3_MAX &&
			    rc == 0; k2++)
				rc = transcript_run(&t, &x, WAY_SPLIT3, k, k2,
				    err, sizeof(err));
		break;
	}
	extra_free(&x);
	transcript_free(&t);
	if (rc != 0)
		fail_msg("%s", err);
}

/* ---- sessions written here -------------------------------------------- */

/*
 * One step of a session: 'C' client bytes, 'S' server bytes, 'F' client
 * EOF, 'E' end(ABORT), 'T' end(TIMEOUT).
 */
struct sstep {
	char dir;
	const char *data;
};

static void
session_run_opts(struct out *o, const struct sstep *steps, enum way way,
    size_t k, size_t k2, const struct opts *op, struct pop3_infer **infer_r)
{
	struct pop3_infer *infer;
	size_t i;

	infer = infer_new_opts(o, op);
	for (i = 0; steps[i].dir != '\0'; i++) {
		switch (steps[i].dir) {
		case 'F':
			pop3_infer_client_eof(infer);
			break;
		case 'E':
			pop3_infer_end(infer, POP3_INFER_END_ABORT);
			break;
		case 'T':
			pop3_infer_end(infer, POP3_INFER_END_TIMEOUT);
			break;
		default:
			feed(infer, steps[i].dir == 'C', steps[i].data,
			    strlen(steps[i].data), way, k, k2);
			break;
		}
	}
	if (infer_r != NULL)
		*infer_r = infer;
	else
		pop3_infer_free(&infer);
}

static void
session_run(struct out *o, const struct sstep *steps, enum way way,
    struct pop3_infer **infer_r)
{
	session_run_opts(o, steps, way, 0, 0, NULL, infer_r);
}

/* One run of STEPS, compared with what the whole run gave. */
static void
session_compare(const struct sstep *steps, const struct opts *op,
    enum way way, size_t k, size_t k2, const struct out *whole)
{
	struct out o;
	size_t i;

	memset(&o, 0, sizeof(o));
	session_run_opts(&o, steps, way, k, k2, op, NULL);
	if (o.up.len != whole->up.len || o.down.len != whole->down.len ||
	    o.n != whole->n)
		print_message("differs %s %zu %zu\n", way_names[way], k, k2);
	assert_string_equal(o.up.p != NULL ? o.up.p : "",
	    whole->up.p != NULL ? whole->up.p : "");
	assert_string_equal(o.down.p != NULL ? o.down.p : "",
	    whole->down.p != NULL ? whole->down.p : "");
	assert_int_equal(o.n, whole->n);
	for (i = 0; i < o.n; i++)
		assert_string_equal(o.text[i], whole->text[i]);
	out_free(&o);
}

/*
 * Run STEPS whole and demand UP and DOWN relayed; then every other way
 * (bytes, every 2-split, 3-splits below SPLIT3_MAX) must relay the same
 * and give the same events.  WHOLE gets the whole run's output.
 */
static void
session_check(const struct sstep *steps, const struct opts *op,
    const char *up, const char *down, struct out *whole)
{
	size_t i, k, k2, maxlen = 0, lim;

	for (i = 0; steps[i].dir != '\0'; i++)
		if (steps[i].data != NULL && strlen(steps[i].data) > maxlen)
			maxlen = strlen(steps[i].data);
	memset(whole, 0, sizeof(*whole));
	session_run_opts(whole, steps, WAY_WHOLE, 0, 0, op, NULL);
	assert_string_equal(whole->up.p != NULL ? whole->up.p : "", up);
	assert_string_equal(whole->down.p != NULL ? whole->down.p : "",
	    down);
	session_compare(steps, op, WAY_BYTES, 0, 0, whole);
	for (k = 1; k < maxlen; k++)
		session_compare(steps, op, WAY_SPLIT, k, 0, whole);
	lim = maxlen < SPLIT3_MAX ? maxlen : SPLIT3_MAX;
	for (k = 1; k < lim; k++)
		for (k2 = k + 1; k2 < lim; k2++)
			session_compare(steps, op, WAY_SPLIT3, k, k2, whole);
}

static void
b64_encode(const char *in, size_t len, char *out)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)(unsigned char)in[i] << 16 |
		    (uint32_t)(unsigned char)in[i + 1] << 8 |
		    (unsigned char)in[i + 2];
		*out++ = a[v >> 18];
		*out++ = a[v >> 12 & 63];
		*out++ = a[v >> 6 & 63];
		*out++ = a[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)(unsigned char)in[i] << 16;
		*out++ = a[v >> 18];
		*out++ = a[v >> 12 & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (len - i == 2) {
		v = (uint32_t)(unsigned char)in[i] << 16 |
		    (uint32_t)(unsigned char)in[i + 1] << 8;
		*out++ = a[v >> 18];
		*out++ = a[v >> 12 & 63];
		*out++ = a[v >> 6 & 63];
		*out++ = '=';
	}
	*out = '\0';
}

static bool
mem_has(const void *hay, size_t hlen, const char *needle)
{
	return memmem(hay, hlen, needle, strlen(needle)) != NULL;
}

#define PASSWORD	"Pa55-w0rd!Secret"
#define DIGEST		"c4c9334bac560ecc979e58001b3e22fb"

/*
 * No event holds the password, its base64, the SASL blobs or the APOP
 * digest, for every way of logging in, succeeding or not, and no byte
 * of the inference's memory does once the session is over (checked
 * before the free).  Each session must produce its Login or
 * LoginFailure, so the test cannot pass by emitting nothing.
 */
static void
test_password_never_emitted(void **state)
{
	char plain[128], plain_admin[128], pw64[64], user64[16];
	char l_plain_ir[256], l_plain[256], l_plain_admin[256], l_pw[128];
	char l_login_ir[128], l_user[64];
	struct out o;
	struct pop3_infer *infer;
	size_t i, j, w, s;
	static const char raw_plain[] = "\0alice\0" PASSWORD;
	static const char raw_admin[] = "bob\0admin\0" PASSWORD;

	(void)state;
	b64_encode(raw_plain, sizeof(raw_plain) - 1, plain);
	b64_encode(raw_admin, sizeof(raw_admin) - 1, plain_admin);
	b64_encode(PASSWORD, strlen(PASSWORD), pw64);
	b64_encode("alice", 5, user64);
	snprintf(l_plain_ir, sizeof(l_plain_ir), "AUTH PLAIN %s\r\n", plain);
	snprintf(l_plain, sizeof(l_plain), "%s\r\n", plain);
	snprintf(l_plain_admin, sizeof(l_plain_admin), "%s\r\n", plain_admin);
	snprintf(l_pw, sizeof(l_pw), "%s\r\n", pw64);
	snprintf(l_login_ir, sizeof(l_login_ir), "AUTH LOGIN %s\r\n", user64);
	snprintf(l_user, sizeof(l_user), "%s\r\n", user64);
	{
		const struct sstep user_pass[] = {
			{ 'S', "+OK ready\r\n" },
			{ 'C', "USER alice\r\n" }, { 'S', "+OK\r\n" },
			{ 'C', "PASS " PASSWORD "\r\n" },
			{ 'S', "+OK Logged in.\r\n" }, { 'E', NULL },
			{ 0, NULL } };
		const struct sstep user_pass_fail[] = {
			{ 'S', "+OK ready\r\n" },
			{ 'C', "USER alice\r\nPASS " PASSWORD " x y\r\n" },
			{ 'S', "+OK\r\n-ERR [AUTH] Authentication "
			    "failed.\r\n" },
			{ 0, NULL } };
		const struct sstep apop[] = {
			{ 'S', "+OK <1896.697170952@dbc.mtview.ca.us>\r\n" },
			{ 'C', "APOP alice " DIGEST "\r\n" },
			{ 'S', "+OK maildrop has 1 message\r\n" },
			{ 'E', NULL }, { 0, NULL } };
		const struct sstep apop_fail[] = {
			{ 'S', "+OK <1896.697170952@dbc.mtview.ca.us>\r\n" },
			{ 'C', "APOP alice " DIGEST "\r\n" },
			{ 'S', "-ERR APOP not enabled.\r\n" }, { 0, NULL } };
		const struct sstep plain_ir[] = {
			{ 'S', "+OK ready\r\n" },
			{ 'C', l_plain_ir }, { 'S', "+OK Logged in.\r\n" },
			{ 'E', NULL }, { 0, NULL } };
		const struct sstep plain_cont[] = {
			{ 'S', "+OK ready\r\n" },
			{ 'C', "AUTH PLAIN\r\n" }, { 'S', "+ \r\n" },
			{ 'C', l_plain_admin }, { 'S', "+OK Logged in.\r\n" },
			{ 'E', NULL }, { 0, NULL } };
		const struct sstep plain_fail[] = {
			{ 'S', "+OK ready\r\n" },
			{ 'C', "AUTH PLAIN\r\n" }, { 'S', "+ \r\n" },
			{ 'C', l_plain },
			{ 'S', "-ERR [AUTH] Authentication failed.\r\n" },
			{ 0, NULL } };
		const struct sstep login_mech[] = {
			{ 'S', "+OK ready\r\n" },
			{ 'C', "AUTH LOGIN\r\n" },
			{ 'S', "+ VXNlcm5hbWU6\r\n" }, { 'C', l_user },
			{ 'S', "+ UGFzc3dvcmQ6\r\n" }, { 'C', l_pw },
			{ 'S', "+OK Logged in.\r\n" }, { 'E', NULL },
			{ 0, NULL } };
		const struct sstep login_ir_fail[] = {
			{ 'S', "+OK ready\r\n" },
			{ 'C', l_login_ir },
			{ 'S', "+ UGFzc3dvcmQ6\r\n" }, { 'C', l_pw },
			{ 'S', "-ERR [AUTH] Authentication failed.\r\n" },
			{ 0, NULL } };
		const struct sstep unknown_mech[] = {
			{ 'S', "+OK ready\r\n" },
			{ 'C', "AUTH X-SECRET\r\n" },
			{ 'S', "+ \r\n" }, { 'C', l_pw },
			{ 'S', "+OK Logged in.\r\n" }, { 'E', NULL },
			{ 0, NULL } };
		const struct sstep *sessions[] = {
			user_pass, user_pass_fail, apop, apop_fail, plain_ir,
			plain_cont, plain_fail, login_mech, login_ir_fail,
			unknown_mech,
		};
		const char *secrets[] = { PASSWORD, pw64, plain, plain_admin,
		    DIGEST, "Pa55" };

		for (w = WAY_WHOLE; w <= WAY_BYTES; w++) {
			for (i = 0; i < sizeof(sessions) / sizeof(sessions[0]);
			    i++) {
				memset(&o, 0, sizeof(o));
				session_run(&o, sessions[i], (enum way)w,
				    &infer);
				if (count_type(&o, MSGEVENT_LOGIN) +
				    count_type(&o, MSGEVENT_LOGIN_FAILURE) == 0)
					fail_msg("session %zu: no login event",
					    i);
				for (s = 0; s < sizeof(secrets) /
				    sizeof(secrets[0]); s++) {
					for (j = 0; j < o.n; j++)
						if (mem_has(o.ev[j].buf,
						    o.ev[j].used, secrets[s]))
							fail_msg("session %zu: "
							    "secret in %s", i,
							    o.text[j]);
					if (mem_has(infer,
					    malloc_usable_size(infer),
					    secrets[s]))
						fail_msg("session %zu: %s kept "
						    "in memory", i, secrets[s]);
				}
				pop3_infer_free(&infer);
				out_free(&o);
			}
		}
	}
}

/* The fields the canonical form leaves out are there. */
static void
test_session_and_timestamp(void **state)
{
	const struct sstep s[] = {
		{ 'S', "+OK\r\n" }, { 'C', "USER alice\r\nPASS pw\r\n" },
		{ 'S', "+OK\r\n+OK\r\n" }, { 0, NULL } };
	struct out o;
	const char *v;
	size_t len;

	(void)state;
	memset(&o, 0, sizeof(o));
	session_run(&o, s, WAY_WHOLE, NULL);
	assert_int_equal(o.n, 1);
	v = msgevent_get(&o.ev[0], MSGEVENT_P_SESSION, &len);
	assert_non_null(v);
	assert_memory_equal(v, "7", 1);
	assert_int_equal(len, 1);
	v = msgevent_get(&o.ev[0], MSGEVENT_P_TIMESTAMP, &len);
	assert_non_null(v);
	assert_int_equal(len, strlen("2024-01-01T00:00:00.000000Z"));
	out_free(&o);
}

static void
test_user_accessor(void **state)
{
	struct out o;
	struct pop3_infer *infer;

	(void)state;
	memset(&o, 0, sizeof(o));
	infer = infer_new(&o);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	assert_null(pop3_infer_user(infer));
	pop3_infer_client_data(infer, "USER alice\r\n", 12);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	pop3_infer_client_data(infer, "PASS pw\r\n", 9);
	assert_null(pop3_infer_user(infer));
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	assert_string_equal(pop3_infer_user(infer), "alice");
	pop3_infer_free(&infer);
	out_free(&o);

	/* An unknown mechanism: logged in, user not known. */
	infer = infer_new(&o);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	pop3_infer_client_data(infer, "AUTH GSSAPI\r\n", 13);
	pop3_infer_server_data(infer, "+ \r\n", 4);
	pop3_infer_client_data(infer, "YII=\r\n", 6);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	assert_int_equal(count_type(&o, MSGEVENT_LOGIN), 1);
	assert_null(pop3_infer_user(infer));
	pop3_infer_end(infer, POP3_INFER_END_ABORT);
	assert_int_equal(count_type(&o, MSGEVENT_LOGOUT), 1);
	pop3_infer_free(&infer);
	out_free(&o);
	pop3_infer_free(&infer);	/* NULL: a no-op */
}

/* Logout once; nothing inferred or relayed after pop3_infer_end(). */
static void
test_end_once(void **state)
{
	struct out o;
	struct pop3_infer *infer;

	(void)state;
	memset(&o, 0, sizeof(o));
	infer = infer_new(&o);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	pop3_infer_client_data(infer, "USER a\r\nPASS b\r\n", 16);
	pop3_infer_server_data(infer, "+OK\r\n+OK\r\n", 10);
	pop3_infer_end(infer, POP3_INFER_END_ABORT);
	pop3_infer_end(infer, POP3_INFER_END_GRACEFUL);
	pop3_infer_client_data(infer, "QUIT\r\n", 6);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	pop3_infer_client_eof(infer);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.up.len, 16);
	assert_int_equal(o.down.len, 15);
	pop3_infer_free(&infer);
	out_free(&o);
}

/*
 * DELE of a message whose UIDL the client never asked: the own UIDL goes
 * right before the DELE, its answer is kept from the client, and QUIT
 * reports the unique-id (with the hook: the UID and UIDVALIDITY too).
 * The DELE line comes in pieces, so its start is held.
 */
static void
test_own_uidl_streams(void **state)
{
	const struct sstep s[] = {
		{ 'S', "+OK Dovecot ready.\r\n" },
		{ 'C', "USER alice\r\nPASS pw\r\n" },
		{ 'S', "+OK\r\n+OK Logged in.\r\n" },
		{ 'C', "RETR 2\r\n" },
		{ 'S', "+OK 4 octets\r\n.x\r\n..\r\n.\r\n" },
		{ 'C', "DE" }, { 'C', "LE 2\r\nNOOP\r\n" },
		{ 'S', "+OK 2 000000026b0d69cc\r\n+OK Marked to be deleted."
		    "\r\n+OK\r\n" },
		{ 'C', "QUIT\r\n" },
		{ 'S', "+OK Logging out, messages deleted.\r\n" },
		{ 0, NULL } };
	const struct opts op = { .map = true };
	struct out o;

	(void)state;
	session_check(s, &op,
	    "USER alice\r\nPASS pw\r\nRETR 2\r\nUIDL 2\r\nDELE 2\r\nNOOP\r\n"
	    "QUIT\r\n",
	    "+OK Dovecot ready.\r\n+OK\r\n+OK Logged in.\r\n"
	    "+OK 4 octets\r\n.x\r\n..\r\n.\r\n"
	    "+OK Marked to be deleted.\r\n+OK\r\n"
	    "+OK Logging out, messages deleted.\r\n", &o);
	assert_int_equal(o.n, 3);
	assert_string_equal(o.text[1], "MessageExpunge user=alice "
	    "clientIP=192.0.2.1 clientPort=50000 service=pop "
	    "serverFQDN=imap1.example.net "
	    "uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1796041164"
	    "/;UID=2 "
	    "mailboxID=imap://alice@mail.example.net/INBOX;"
	    "UIDVALIDITY=1796041164 uidset=2 "
	    "vnd.msgeventd.uidl=000000026b0d69cc");
	out_free(&o);
}

/*
 * Pipelined: DELEs and QUIT in one read, with the answers in one read:
 * own UIDLs go in between, and their answers come out of the middle of
 * the server's chunk.  A DELE whose unique-id a pending UIDL will tell,
 * and one of a message already known, get none.
 */
static void
test_own_uidl_pipelined(void **state)
{
	const struct sstep s[] = {
		{ 'S', "+OK\r\n" },
		{ 'C', "USER a\r\nPASS b\r\nUIDL 1\r\nDELE 1\r\nDELE 3\r\n"
		    "DELE 4\r\nDELE 3\r\nQUIT\r\n" },
		{ 'S', "+OK\r\n+OK\r\n+OK 1 u1\r\n+OK\r\n+OK 3 u3\r\n+OK\r\n"
		    "-ERR no such message\r\n-ERR no such message\r\n"
		    "-ERR Message is deleted.\r\n+OK bye\r\n" },
		{ 0, NULL } };
	struct out o;

	(void)state;
	session_check(s, NULL,
	    "USER a\r\nPASS b\r\nUIDL 1\r\nDELE 1\r\nUIDL 3\r\nDELE 3\r\n"
	    "UIDL 4\r\nDELE 4\r\nDELE 3\r\nQUIT\r\n",
	    "+OK\r\n+OK\r\n+OK\r\n+OK 1 u1\r\n+OK\r\n+OK\r\n"
	    "-ERR no such message\r\n-ERR Message is deleted.\r\n+OK bye\r\n",
	    &o);
	assert_int_equal(o.n, 3);
	assert_string_equal(o.text[1], "MessageExpunge user=a "
	    "clientIP=192.0.2.1 clientPort=50000 service=pop "
	    "serverFQDN=imap1.example.net "
	    "uri=imap://a@mail.example.net/INBOX "
	    "mailboxID=imap://a@mail.example.net/INBOX "
	    "vnd.msgeventd.uidl=u1 u3");
	out_free(&o);
}

/*
 * A line held while it may be "DELE" is handed on as soon as it is
 * something else, or at the client's EOF; nothing is held before a
 * login or in a SASL exchange.
 */
static void
test_hold(void **state)
{
	const struct sstep s[] = {
		{ 'S', "+OK\r\n" },
		{ 'C', "D" },		/* not logged in: passes */
		{ 'C', "ELE 1\r\n" },
		{ 'S', "-ERR Unknown command.\r\n" },
		{ 'C', "USER a\r\nPASS b\r\nDE" },	/* held */
		{ 'C', "X" },		/* not DELE: passes with DE */
		{ 'C', "\r\nDEL" },	/* held */
		{ 'S', "+OK\r\n+OK\r\n-ERR\r\n" },
		{ 'F', NULL },		/* EOF: "DEL" passes */
		{ 'E', NULL },
		{ 0, NULL } };
	struct out o;

	(void)state;
	memset(&o, 0, sizeof(o));
	session_run(&o, s, WAY_WHOLE, NULL);
	assert_string_equal(o.up.p,
	    "DELE 1\r\nUSER a\r\nPASS b\r\nDEX\r\nDEL");
	out_free(&o);
	{
		/* Every piece is passed on by the feed that brings it. */
		struct pop3_infer *infer;

		memset(&o, 0, sizeof(o));
		infer = infer_new(&o);
		pop3_infer_server_data(infer, "+OK\r\n", 5);
		pop3_infer_client_data(infer, "D", 1);
		assert_int_equal(o.up.len, 1);
		pop3_infer_client_data(infer, "ELE 1\r\nUSER a\r\nPASS b\r\n",
		    23);
		assert_int_equal(o.up.len, 24);
		pop3_infer_client_data(infer, "dele", 4);
		assert_int_equal(o.up.len, 24);		/* held */
		pop3_infer_client_data(infer, " 12", 3);
		assert_int_equal(o.up.len, 24);		/* held */
		pop3_infer_client_data(infer, "\r", 1);
		assert_int_equal(o.up.len, 24);		/* held */
		/* Still logging in: an own UIDL goes first. */
		pop3_infer_client_data(infer, "\n", 1);
		assert_string_equal(o.up.p, "DELE 1\r\nUSER a\r\nPASS b\r\n"
		    "UIDL 12\r\ndele 12\r\n");
		assert_int_equal(o.up.len, 42);
		assert_int_equal(pop3_infer_own_commands(infer), 1);
		/* More than POP3_INFER_HOLD_MAX bytes are not held. */
		pop3_infer_client_data(infer, "DELE", 4);
		assert_int_equal(o.up.len, 42);
		pop3_infer_client_data(infer, "                              "
		    "                              ", 60);
		assert_int_equal(o.up.len, 42);		/* 64: held */
		pop3_infer_client_data(infer, " ", 1);
		assert_int_equal(o.up.len, 42 + 65);
		pop3_infer_client_data(infer, "1\r\n", 3);
		assert_int_equal(o.up.len, 42 + 68);
		assert_int_equal(pop3_infer_own_commands(infer), 1);
		pop3_infer_free(&infer);
		out_free(&o);
	}
	{
		/* During AUTH the client's lines are never held. */
		struct pop3_infer *infer;

		memset(&o, 0, sizeof(o));
		infer = infer_new(&o);
		pop3_infer_server_data(infer, "+OK\r\n", 5);
		pop3_infer_client_data(infer, "AUTH LOGIN\r\n", 12);
		pop3_infer_server_data(infer, "+ VXNlcm5hbWU6\r\n", 16);
		pop3_infer_client_data(infer, "DE", 2);
		assert_int_equal(o.up.len, 14);
		pop3_infer_free(&infer);
		out_free(&o);
	}
}

/*
 * The server refuses an own UIDL for a message it then deletes: no more
 * own commands; the expunge is reported without the unique-id.
 */
static void
test_uidl_refused(void **state)
{
	const struct sstep s[] = {
		{ 'S', "+OK\r\n" },
		{ 'C', "USER a\r\nPASS b\r\n" }, { 'S', "+OK\r\n+OK\r\n" },
		{ 'C', "DELE 1\r\n" },
		{ 'S', "-ERR Unknown command\r\n+OK\r\n" },
		{ 'C', "DELE 2\r\n" }, { 'S', "+OK\r\n" },
		{ 'C', "QUIT\r\n" }, { 'S', "+OK\r\n" },
		{ 0, NULL } };
	struct out o;
	struct pop3_infer *infer;
	uint32_t missing[4];

	(void)state;
	session_check(s, NULL,
	    "USER a\r\nPASS b\r\nUIDL 1\r\nDELE 1\r\nDELE 2\r\nQUIT\r\n",
	    "+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n", &o);
	assert_int_equal(o.n, 3);
	assert_string_equal(o.text[1], "MessageExpunge user=a "
	    "clientIP=192.0.2.1 clientPort=50000 service=pop "
	    "serverFQDN=imap1.example.net "
	    "uri=imap://a@mail.example.net/INBOX "
	    "mailboxID=imap://a@mail.example.net/INBOX (truncated)");
	out_free(&o);

	/* The accessor and the counters, before and at QUIT. */
	memset(&o, 0, sizeof(o));
	session_run(&o, (const struct sstep[]){ s[0], s[1], s[2], s[3], s[4],
	    s[5], s[6], { 0, NULL } }, WAY_WHOLE, &infer);
	assert_int_equal(pop3_infer_uidl_missing(infer, missing, 1), 2);
	assert_int_equal(missing[0], 1);
	assert_int_equal(pop3_infer_uidl_missing(infer, missing, 4), 2);
	assert_int_equal(missing[1], 2);
	assert_int_equal(pop3_infer_own_commands(infer), 1);
	pop3_infer_client_data(infer, "QUIT\r\n", 6);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	assert_int_equal(pop3_infer_uidls_unknown(infer), 2);
	pop3_infer_free(&infer);
	out_free(&o);
}

/*
 * More deleted messages than one event holds: several events, each
 * unique-id once, in order; with the hook, uidsets in ranges.
 */
static void
test_expunge_batches(void **state)
{
	struct out o;
	struct pop3_infer *infer;
	const struct opts op = { .map = true };
	char line[64], *all;
	size_t i, n = 150, len = 0;
	const char *v;
	size_t vlen;
	unsigned total = 0;

	(void)state;
	memset(&o, 0, sizeof(o));
	infer = infer_new_opts(&o, &op);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	pop3_infer_client_data(infer, "USER a\r\nPASS b\r\nUIDL\r\n", 22);
	pop3_infer_server_data(infer, "+OK\r\n+OK\r\n+OK\r\n", 15);
	for (i = 1; i <= n; i++) {
		snprintf(line, sizeof(line), "%zu %08zx6b0d69cc\r\n", i, i);
		pop3_infer_server_data(infer, line, strlen(line));
	}
	pop3_infer_server_data(infer, ".\r\n", 3);
	all = malloc(n * 10);
	assert_non_null(all);
	for (i = 1; i <= n; i++) {
		snprintf(line, sizeof(line), "DELE %zu\r\n", i);
		pop3_infer_client_data(infer, line, strlen(line));
		memcpy(all + len, line, strlen(line));
		len += strlen(line);
		pop3_infer_server_data(infer, "+OK\r\n", 5);
	}
	assert_int_equal(pop3_infer_own_commands(infer), 0);
	pop3_infer_client_data(infer, "QUIT\r\n", 6);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	/* Login, 3 expunges (60 + 60 + 30: 1024 bytes of ids), Logout. */
	assert_int_equal(o.n, 5);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(o.ev[i].type, MSGEVENT_MESSAGE_EXPUNGE);
		assert_false(o.ev[i].truncated);
		v = msgevent_get(&o.ev[i], MSGEVENT_P_UIDL, &vlen);
		assert_non_null(v);
		total += (unsigned)(vlen + 1) / 17;
	}
	assert_int_equal(total, n);
	assert_non_null(strstr(o.text[1], " uidset=1:60 "));
	assert_non_null(strstr(o.text[2], " uidset=61:120 "));
	assert_non_null(strstr(o.text[3], " uidset=121:150 "));
	assert_non_null(strstr(o.text[3], "uidl=00000079" "6b0d69cc "));
	assert_non_null(strstr(o.text[3], "mailboxID=imap://a@mail.example.net"
	    "/INBOX;UIDVALIDITY=1796041164 "));
	assert_non_null(strstr(o.text[3], " 000000966b0d69cc"));
	free(all);
	pop3_infer_free(&infer);
	out_free(&o);
}

/*
 * A mailbox bigger than the UIDL table: the listing is learned up to the
 * cap, memory stays under it, and the unique-ids of the messages deleted
 * at the far end are asked for with own commands and all reported.
 */
static void
test_uidl_cap(void **state)
{
	struct out o;
	struct pop3_infer *infer;
	char line[64];
	size_t i, n = 20000, before;
	const char *v;
	size_t vlen;

	(void)state;
	memset(&o, 0, sizeof(o));
	infer = infer_new(&o);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	pop3_infer_client_data(infer, "USER a\r\nPASS b\r\nUIDL\r\n", 22);
	pop3_infer_server_data(infer, "+OK\r\n+OK\r\n+OK\r\n", 15);
	for (i = 1; i <= n; i++) {
		snprintf(line, sizeof(line), "%zu uid-%015zu\r\n", i, i);
		pop3_infer_server_data(infer, line, strlen(line));
	}
	pop3_infer_server_data(infer, ".\r\n", 3);
	assert_true(pop3_infer_memory(infer) <= POP3_INFER_UIDL_BYTES_MAX +
	    16384);
	before = o.down.len;
	/* The first messages are known, the last ones not. */
	pop3_infer_client_data(infer, "DELE 1\r\n", 8);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	assert_int_equal(pop3_infer_own_commands(infer), 0);
	for (i = n - 99; i <= n; i++) {
		snprintf(line, sizeof(line), "DELE %zu\r\n", i);
		pop3_infer_client_data(infer, line, strlen(line));
		snprintf(line, sizeof(line), "+OK %zu uid-%015zu\r\n+OK\r\n",
		    i, i);
		pop3_infer_server_data(infer, line, strlen(line));
	}
	assert_int_equal(pop3_infer_own_commands(infer), 100);
	/* The client saw the DELE answers only. */
	assert_int_equal(o.down.len, before + 101 * 5);
	assert_true(pop3_infer_memory(infer) <= POP3_INFER_UIDL_BYTES_MAX +
	    16384);
	assert_int_equal(pop3_infer_uidl_missing(infer, NULL, 0), 0);
	pop3_infer_client_data(infer, "QUIT\r\n", 6);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	/* 101 unique-ids of 19 bytes: 51 + 50. */
	assert_int_equal(count_type(&o, MSGEVENT_MESSAGE_EXPUNGE), 2);
	v = msgevent_get(&o.ev[1], MSGEVENT_P_UIDL, &vlen);
	assert_non_null(v);
	assert_memory_equal(v, "uid-000000000000001 uid-000000000019901 ",
	    40);
	v = msgevent_get(&o.ev[2], MSGEVENT_P_UIDL, &vlen);
	assert_non_null(v);
	assert_memory_equal(v + vlen - 19, "uid-000000000020000", 19);
	assert_int_equal(pop3_infer_uidls_unknown(infer), 0);
	pop3_infer_free(&infer);
	out_free(&o);
}

/*
 * Garbage where the answer to an own UIDL is due: blind, and the client
 * gets the bytes from the failing one on, whatever the split.
 */
static void
test_own_garbage(void **state)
{
	const struct sstep s[] = {
		{ 'S', "+OK\r\n" },
		{ 'C', "USER a\r\nPASS b\r\n" }, { 'S', "+OK\r\n+OK\r\n" },
		{ 'C', "DELE 1\r\n" },
		{ 'S', "+OKAY\r\n+OK\r\n" },
		{ 'C', "QUIT\r\n" }, { 'S', "+OK\r\n" },
		{ 'E', NULL }, { 0, NULL } };
	struct out o;

	(void)state;
	session_check(s, NULL,
	    "USER a\r\nPASS b\r\nUIDL 1\r\nDELE 1\r\nQUIT\r\n",
	    "+OK\r\n+OK\r\n+OK\r\nAY\r\n+OK\r\n+OK\r\n", &o);
	/* Login, and the Logout of the end: nothing inferred after. */
	assert_int_equal(o.n, 2);
	assert_int_equal(o.ev[1].type, MSGEVENT_LOGOUT);
	assert_non_null(strstr(o.text[1], "reason=abort"));
	out_free(&o);
}

static uint32_t
rnd(uint64_t *x)
{
	/* xorshift64*: reproducible everywhere, unlike rand(). */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return (uint32_t)((*x * 2685821657736338717ULL) >> 32);
}

/*
 * Random sessions made of command and response pieces (garbage, lines
 * cut in two, bodies and dot lines in odd places), fed whole and in
 * random splits: the events and both relayed streams must agree.  The
 * differential test of STYLE.md 7, with a fixed seed.
 */
static void
test_random_splits(void **state)
{
	static const char *const cl[] = {
		"USER alice\r\n", "PASS x y\r\n", "APOP bob 0123\r\n",
		"AUTH PLAIN\r\n", "AGFsaWNlAHg=\r\n",
		"AUTH PLAIN AGFsaWNlAHg=\r\n", "AUTH LOGIN\r\n",
		"YWxpY2U=\r\n", "*\r\n", "AUTH\r\n", "STAT\r\n",
		"LIST\r\n", "LIST 1\r\n", "UIDL\r\n", "UIDL 2\r\n",
		"RETR 1\r\n", "TOP 2 0\r\n", "DELE 1\r\n", "DELE 2\r\n",
		"dele 3\r\n", "RSET\r\n", "NOOP\r\n", "CAPA\r\n",
		"QUIT\r\n", "\r\n", "DE", "LE 2\r\n", "XYZ\r\n",
		"STLS\r\n", "\n",
	};
	static const char *const sv[] = {
		"+OK\r\n", "-ERR [AUTH] no\r\n", "+ \r\n",
		"+ VXNlcm5hbWU6\r\n", "+OK 2 u2\r\n", "+OK 1 u1\r\n",
		"1 u1\r\n", "2 u2\r\n", ".\r\n", "..dot\r\n", "body\r\n",
		".\r", "\n", "-ERR Disconnected for inactivity.\r\n",
		"garbage\r\n", "\r\n", "STLS\r\n", "stls\n", "ST", "LS\r\n",
		".STLS\r\n", "+OK\r\nSTLS\r\n.\r\n",
	};
	struct opts op = { .line_max = 40, .map_any = true };
	struct {
		bool client;
		const char *data;
	} steps[32];
	struct out o[2];
	struct pop3_infer *infer;
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	size_t it, i, n, k, a, m, len;
	char *chunk;

	(void)state;
	for (it = 0; it < 3000; it++) {
		/* a third each: no STLS filter, filter, filter and offer */
		op.stls_own = it % 3 != 0;
		op.stls_offer = it % 3 == 2;
		n = 1 + rnd(&x) % 28;
		i = 0;
		if (rnd(&x) % 2) {
			/* Logged in: own commands become possible. */
			steps[0].client = false;
			steps[0].data = "+OK\r\n";
			steps[1].client = true;
			steps[1].data = "USER a\r\nPASS b\r\n";
			steps[2].client = false;
			steps[2].data = "+OK\r\n+OK\r\n";
			i = 3;
			n += 3;
		}
		for (; i < n; i++) {
			steps[i].client = rnd(&x) % 2;
			steps[i].data = steps[i].client ?
			    cl[rnd(&x) % (sizeof(cl) / sizeof(cl[0]))] :
			    sv[rnd(&x) % (sizeof(sv) / sizeof(sv[0]))];
		}
		for (k = 0; k < 2; k++) {
			memset(&o[k], 0, sizeof(o[k]));
			infer = infer_new_opts(&o[k], &op);
			for (i = 0; i < n; i++) {
				len = strlen(steps[i].data);
				for (a = 0; a < len; a += m) {
					m = k == 0 ? len - a :
					    1 + rnd(&x) % (len - a);
					chunk = malloc(m);
					assert_non_null(chunk);
					memcpy(chunk, steps[i].data + a, m);
					if (steps[i].client)
						pop3_infer_client_data(infer,
						    chunk, m);
					else
						pop3_infer_server_data(infer,
						    chunk, m);
					memset(chunk, '#', m);
					free(chunk);
				}
			}
			pop3_infer_client_eof(infer);
			pop3_infer_server_eof(infer);
			pop3_infer_end(infer, POP3_INFER_END_ABORT);
			pop3_infer_free(&infer);
		}
		if (o[0].up.len != o[1].up.len ||
		    o[0].down.len != o[1].down.len || o[0].n != o[1].n)
			print_message("session %zu differs\n", it);
		assert_int_equal(o[0].up.len, o[1].up.len);
		assert_int_equal(o[0].down.len, o[1].down.len);
		if (o[0].up.len > 0)
			assert_memory_equal(o[0].up.p, o[1].up.p,
			    o[0].up.len);
		if (o[0].down.len > 0)
			assert_memory_equal(o[0].down.p, o[1].down.p,
			    o[0].down.len);
		assert_int_equal(o[0].n, o[1].n);
		for (i = 0; i < o[0].n; i++)
			assert_string_equal(o[0].text[i], o[1].text[i]);
		out_free(&o[0]);
		out_free(&o[1]);
	}
}

/* More than 128 commands pipelined: blind, relayed, logged as such. */
static void
test_pending_overflow(void **state)
{
	struct out o;
	struct pop3_infer *infer;
	char *cmds;
	size_t i;

	(void)state;
	memset(&o, 0, sizeof(o));
	infer = infer_new(&o);
	cmds = malloc(130 * 6 + 1);
	assert_non_null(cmds);
	for (i = 0; i < 130; i++)
		memcpy(cmds + i * 6, "NOOP\r\n", 6);
	pop3_infer_client_data(infer, cmds, 130 * 6);
	assert_non_null(pop3_infer_blind_reason(infer));
	assert_false(pop3_infer_error(infer, NULL, NULL));
	assert_int_equal(o.up.len, 130 * 6);
	pop3_infer_server_data(infer, "+OK\r\ngarbage\r\n", 14);
	assert_int_equal(o.down.len, 14);
	pop3_infer_end(infer, POP3_INFER_END_ABORT);
	assert_int_equal(o.n, 0);
	free(cmds);
	pop3_infer_free(&infer);
	out_free(&o);
}

/*
 * A parser error (garbage from the server, an over-long client line):
 * reported, everything relayed from then on, no more events but the
 * Logout of a user logged in before.
 */
static void
test_parser_error(void **state)
{
	struct out o;
	struct pop3_infer *infer;
	enum pop3_parser_dir dir;
	enum pop3_parser_error err;
	const struct opts op = { .line_max = 32 };
	static const char longline[] =
	    "USER aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

	(void)state;
	memset(&o, 0, sizeof(o));
	infer = infer_new(&o);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	pop3_infer_client_data(infer, "USER a\r\nPASS b\r\n", 16);
	pop3_infer_server_data(infer, "+OK\r\n+OK\r\nHELLO\r\n", 17);
	assert_true(pop3_infer_error(infer, &dir, &err));
	assert_int_equal(dir, POP3_PARSER_SERVER);
	assert_int_equal(err, POP3_PERR_BAD_STATUS);
	assert_null(pop3_infer_blind_reason(infer));
	pop3_infer_client_data(infer, "DELE 1\r\nQUIT\r\n", 14);
	pop3_infer_server_data(infer, "+OK\r\n+OK\r\n", 10);
	assert_int_equal(o.up.len, 16 + 14);
	assert_int_equal(o.down.len, 5 + 17 + 10);
	pop3_infer_end(infer, POP3_INFER_END_ABORT);
	assert_int_equal(count_type(&o, MSGEVENT_LOGIN), 1);
	assert_int_equal(count_type(&o, MSGEVENT_LOGOUT), 1);
	assert_int_equal(o.n, 2);
	pop3_infer_free(&infer);
	out_free(&o);

	memset(&o, 0, sizeof(o));
	infer = infer_new_opts(&o, &op);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	pop3_infer_client_data(infer, longline, sizeof(longline) - 1);
	assert_true(pop3_infer_error(infer, &dir, &err));
	assert_int_equal(dir, POP3_PARSER_CLIENT);
	assert_int_equal(err, POP3_PERR_LINE_TOO_LONG);
	assert_int_equal(o.up.len, sizeof(longline) - 1);
	pop3_infer_free(&infer);
	out_free(&o);
}

/* STLS: blind after +OK, unless the proxy feeds the plaintext. */
static void
test_stls(void **state)
{
	struct out o;
	struct pop3_infer *infer;
	const struct opts op = { .no_relay = true, .stls = true };

	(void)state;
	memset(&o, 0, sizeof(o));
	infer = infer_new(&o);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	pop3_infer_client_data(infer, "STLS\r\n", 6);
	pop3_infer_server_data(infer, "+OK Begin TLS negotiation now.\r\n"
	    "\x16\x03\x01", 35);
	assert_non_null(pop3_infer_blind_reason(infer));
	assert_false(pop3_infer_error(infer, NULL, NULL));
	pop3_infer_client_data(infer, "\x16\x03\x01\x02\x00", 5);
	assert_int_equal(o.up.len, 11);
	assert_int_equal(o.down.len, 40);
	pop3_infer_free(&infer);
	out_free(&o);

	/* No relay callbacks here: the proxy relays itself. */
	memset(&o, 0, sizeof(o));
	infer = infer_new_opts(&o, &op);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	pop3_infer_client_data(infer, "STLS\r\n", 6);
	pop3_infer_server_data(infer, "+OK Begin TLS negotiation now.\r\n",
	    32);
	assert_null(pop3_infer_blind_reason(infer));
	pop3_infer_client_data(infer, "USER a\r\nPASS b\r\n", 16);
	pop3_infer_server_data(infer, "+OK\r\n+OK\r\n", 10);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.up.len + o.down.len, 0);
	assert_string_equal(o.text[0], "Login user=a clientIP=192.0.2.1 "
	    "clientPort=50000 service=pop serverFQDN=imap1.example.net "
	    "serverDomain=mail.example.net serverPort=110 "
	    "uri=pop://a@mail.example.net");
	pop3_infer_free(&infer);
	out_free(&o);
}

/* in_body and memory while a body streams. */
static void
test_in_body(void **state)
{
	struct out o;
	struct pop3_infer *infer;
	size_t mem;

	(void)state;
	memset(&o, 0, sizeof(o));
	infer = infer_new(&o);
	pop3_infer_server_data(infer, "+OK\r\n", 5);
	pop3_infer_client_data(infer, "USER a\r\nPASS b\r\nRETR 1\r\n", 24);
	pop3_infer_server_data(infer, "+OK\r\n+OK\r\n+OK 100 octets\r\n", 26);
	assert_true(pop3_infer_in_body(infer));
	mem = pop3_infer_memory(infer);
	assert_true(mem < 16384);
	pop3_infer_server_data(infer, "a body line\r\n..\r\n", 17);
	assert_true(pop3_infer_in_body(infer));
	assert_int_equal(pop3_infer_memory(infer), mem);
	pop3_infer_server_data(infer, ".\r\n", 3);
	assert_false(pop3_infer_in_body(infer));
	pop3_infer_free(&infer);
	out_free(&o);
}

/* Feed a string, from the server or the client. */
static void
srv(struct pop3_infer *infer, const char *str)
{
	pop3_infer_server_data(infer, str, strlen(str));
}

static void
cli(struct pop3_infer *infer, const char *str)
{
	pop3_infer_client_data(infer, str, strlen(str));
}

/*
 * stls_own: a bare-LF "STLS" goes too, in every split; a CAPA line held
 * when the server closes is handed on by pop3_infer_server_eof().
 */
static void
test_capa_stls_lf(void **state)
{
	static const char in[] = "+OK\r\n+OK\nSTLS\nSasl\n.\n";
	static const char want[] = "+OK\r\n+OK\nSasl\nSTLS\r\n.\n";
	const struct opts op = { .stls_own = true, .stls_offer = true };
	struct out o;
	struct pop3_infer *infer;
	size_t k, len = sizeof(in) - 1;

	(void)state;
	for (k = 0; k <= len; k++) {
		memset(&o, 0, sizeof(o));
		infer = infer_new_opts(&o, &op);
		cli(infer, "CAPA\r\n");
		pop3_infer_server_data(infer, in, k);
		if (k < len)
			pop3_infer_server_data(infer, in + k, len - k);
		assert_int_equal(o.down.len, sizeof(want) - 1);
		assert_memory_equal(o.down.p, want, sizeof(want) - 1);
		pop3_infer_free(&infer);
		out_free(&o);
	}

	/* The server closes in the middle of a candidate line. */
	memset(&o, 0, sizeof(o));
	infer = infer_new_opts(&o, &op);
	srv(infer, "+OK\r\n");
	cli(infer, "CAPA\r\n");
	srv(infer, "+OK\r\nTOP\r\nST");
	assert_int_equal(o.down.len, 5 + 10);
	pop3_infer_server_eof(infer);
	assert_int_equal(o.down.len, 5 + 12);
	assert_memory_equal(o.down.p + 15, "ST", 2);
	pop3_infer_end(infer, POP3_INFER_END_ABORT);
	pop3_infer_free(&infer);
	out_free(&o);

	/* A parser error in the next chunk: what was held goes first. */
	memset(&o, 0, sizeof(o));
	infer = infer_new_opts(&o, &op);
	srv(infer, "+OK\r\n");
	cli(infer, "CAPA\r\n");
	srv(infer, "+OK\r\n.");
	assert_int_equal(o.down.len, 10);
	pop3_infer_server_data(infer, "\0\r\n", 3);
	assert_true(pop3_infer_error(infer, NULL, NULL));
	assert_int_equal(o.down.len, 14);
	assert_memory_equal(o.down.p + 10, ".\0\r\n", 4);
	pop3_infer_free(&infer);
	out_free(&o);
}

/* What the proxy's STLS needs: commands, outstanding, the login, TLS. */
static void
test_proxy_accessors(void **state)
{
	struct out o;
	struct pop3_infer *infer;

	(void)state;
	memset(&o, 0, sizeof(o));
	infer = infer_new(&o);
	assert_true(pop3_infer_client_at_command(infer));
	assert_int_equal(pop3_infer_outstanding(infer), 1);	/* greeting */
	srv(infer, "+OK hi\r\n");
	assert_int_equal(pop3_infer_outstanding(infer), 0);
	cli(infer, "CAPA");
	assert_false(pop3_infer_client_at_command(infer));
	cli(infer, "\r\nAUTH PLAIN\r\n");
	assert_int_equal(pop3_infer_outstanding(infer), 2);
	/* the SASL exchange: lines are not commands */
	assert_false(pop3_infer_client_at_command(infer));
	srv(infer, "+OK\r\n.\r\n+ \r\n");
	cli(infer, "AGEAYg==\r\n");
	assert_false(pop3_infer_logged_in(infer));
	pop3_infer_set_tls(infer, "TLSv1.3", "TLS_AES_256_GCM_SHA384");
	srv(infer, "+OK Logged in.\r\n");
	assert_true(pop3_infer_client_at_command(infer));
	assert_true(pop3_infer_logged_in(infer));
	assert_int_equal(pop3_infer_outstanding(infer), 0);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.text[0], "Login user=a clientIP=192.0.2.1 "
	    "clientPort=50000 service=pop serverFQDN=imap1.example.net "
	    "serverDomain=mail.example.net serverPort=110 "
	    "uri=pop://a@mail.example.net vnd.msgeventd.mechanism=PLAIN "
	    "vnd.msgeventd.tlsProtocol=TLSv1.3 "
	    "vnd.msgeventd.tlsCipher=TLS_AES_256_GCM_SHA384");
	pop3_infer_end(infer, POP3_INFER_END_CLOSED);
	assert_false(pop3_infer_client_at_command(infer));
	assert_int_equal(o.n, 2);
	assert_non_null(strstr(o.text[1], "vnd.msgeventd.reason=closed"));
	pop3_infer_free(&infer);
	out_free(&o);
}

/* ---- the registry: a POP3 expunge seen by an IMAP session --------------- */

static void
icli(struct imap_infer *infer, const char *str)
{
	imap_infer_client_data(infer, str, strlen(str));
}

static void
isrv(struct imap_infer *infer, const char *str)
{
	imap_infer_server_data(infer, str, strlen(str));
}

/*
 * An IMAP session of user "a" through the same proxy, sharing REG: INBOX
 * (UIDVALIDITY 7) selected with messages 1..N of UIDs 1..N, idling.
 */
static struct imap_infer *
imap_peer(struct out *o, struct imap_registry *reg, unsigned n)
{
	struct imap_infer_env env;
	struct imap_infer *infer;
	char line[128];
	unsigned i;

	memset(&env, 0, sizeof(env));
	env.client_ip = TRANSCRIPT_ENV_CLIENT_IP;
	env.client_port = TRANSCRIPT_ENV_CLIENT_PORT + 1;
	env.server_domain = TRANSCRIPT_ENV_SERVER_DOMAIN;
	env.server_port = TRANSCRIPT_ENV_SERVER_PORT;
	env.server_fqdn = TRANSCRIPT_ENV_SERVER_FQDN;
	env.service = TRANSCRIPT_ENV_SERVICE;
	env.session_id = TRANSCRIPT_ENV_SESSION + 1;
	env.registry = reg;
	env.backend = REG_BACKEND;
	env.emit = out_emit;
	env.ctx = o;
	infer = imap_infer_new(&env);
	assert_non_null(infer);
	icli(infer, "a LOGIN a pw\r\n");
	isrv(infer, "a OK done\r\n");
	icli(infer, "b SELECT INBOX\r\n");
	snprintf(line, sizeof(line), "* %u EXISTS\r\n* OK [UIDVALIDITY 7] "
	    "Ok\r\n* OK [UIDNEXT %u] Ok\r\nb OK [READ-WRITE] Ok\r\n", n, n + 1);
	isrv(infer, line);
	icli(infer, "c FETCH 1:* (UID)\r\n");
	for (i = 1; i <= n; i++) {
		snprintf(line, sizeof(line), "* %u FETCH (UID %u)\r\n", i, i);
		isrv(infer, line);
	}
	isrv(infer, "c OK done\r\n");
	icli(infer, "d IDLE\r\n");
	isrv(infer, "+ idling\r\n");
	assert_int_equal(o->n, 1);		/* its Login */
	return infer;
}

/*
 * A POP3 session of "a" sharing REG (MAP: Dovecot's unique-ids read),
 * logged in, the four messages' unique-ids listed (UIDs 1..4,
 * UIDVALIDITY 7), messages 2 and 3 marked deleted.
 */
static struct pop3_infer *
pop_peer(struct out *o, struct imap_registry *reg, bool map)
{
	struct opts op = { .map = map, .registry = reg };
	struct pop3_infer *infer = infer_new_opts(o, &op);

	srv(infer, "+OK ready\r\n");
	cli(infer, "USER a\r\nPASS b\r\nUIDL\r\n");
	srv(infer, "+OK\r\n+OK\r\n+OK\r\n1 0000000100000007\r\n"
	    "2 0000000200000007\r\n3 0000000300000007\r\n"
	    "4 0000000400000007\r\n.\r\n");
	cli(infer, "DELE 2\r\nDELE 3\r\n");
	srv(infer, "+OK\r\n+OK\r\n");
	assert_int_equal(pop3_infer_own_commands(infer), 0);
	return infer;
}

/* Removals of user a's INBOX in flight in REG. */
static uint32_t
inbox_in_flight(struct imap_registry *reg)
{
	struct imap_registry_key key = { REG_BACKEND, strlen(REG_BACKEND),
	    "a", 1, "INBOX", 5 };
	struct imap_registry_box *box = imap_registry_open(reg, &key);
	uint32_t n;

	assert_non_null(box);
	n = imap_registry_in_flight(box, IMAP_REGISTRY_REMOVE);
	imap_registry_close(reg, &box);
	return n;
}

/* Both sessions end; nothing stays pinned in REG, which is freed. */
static void
peers_free(struct imap_infer **imap, struct pop3_infer **pop,
    struct imap_registry **reg)
{
	struct imap_registry_stats st;

	imap_infer_end(*imap, IMAP_INFER_END_ABORT);
	imap_infer_free(imap);
	pop3_infer_free(pop);
	imap_registry_stats(*reg, &st);
	assert_int_equal(st.pinned, 0);
	imap_registry_free(reg);
}

/*
 * POP3 DELE 2, DELE 3, QUIT, +OK, with pop3-uidl-pattern's mapping, while
 * an IMAP session idles in the same INBOX: it sees UID 2 go before the
 * +OK (and waits for the QUIT held in flight), UID 3 after it.  One
 * MessageExpunge, POP3's; none from the IMAP side.  A removal nobody
 * here made (UID 4) is still reported by the IMAP side, as external.
 */
static void
test_registry_quit_mapped(void **state)
{
	struct imap_registry *reg = imap_registry_new(NULL);
	struct out po, io;
	struct pop3_infer *pop;
	struct imap_infer *imap;
	size_t i;

	(void)state;
	memset(&po, 0, sizeof(po));
	memset(&io, 0, sizeof(io));
	assert_non_null(reg);
	imap = imap_peer(&io, reg, 4);
	pop = pop_peer(&po, reg, true);
	assert_int_equal(inbox_in_flight(reg), 0);
	cli(pop, "QUIT\r\n");
	assert_int_equal(inbox_in_flight(reg), 1);
	/* the server removed UID 2 and tells the IMAP session first */
	isrv(imap, "* 2 EXPUNGE\r\n");
	icli(imap, "DONE\r\n");
	isrv(imap, "d OK Idle completed.\r\n");
	assert_int_equal(count_type(&io, MSGEVENT_MESSAGE_EXPUNGE), 0);
	/* POP3's +OK: its event; the IMAP session, woken, reports nothing */
	srv(pop, "+OK Logging out, messages deleted.\r\n");
	assert_int_equal(inbox_in_flight(reg), 0);
	assert_int_equal(count_type(&po, MSGEVENT_MESSAGE_EXPUNGE), 1);
	for (i = 0; i < po.n; i++)
		if (po.ev[i].type == MSGEVENT_MESSAGE_EXPUNGE)
			assert_non_null(strstr(po.text[i], " uidset=2:3 "));
	assert_int_equal(count_type(&io, MSGEVENT_MESSAGE_EXPUNGE), 0);
	/* UID 3's EXPUNGE after the +OK: explained all the same */
	icli(imap, "e NOOP\r\n");
	isrv(imap, "* 2 EXPUNGE\r\ne OK done\r\n");
	assert_int_equal(count_type(&io, MSGEVENT_MESSAGE_EXPUNGE), 0);
	assert_int_equal(imap_infer_foreign_unknown(imap), 0);
	/* UID 4, removed by nobody here: external */
	icli(imap, "f NOOP\r\n");
	isrv(imap, "* 2 EXPUNGE\r\nf OK done\r\n");
	assert_int_equal(count_type(&io, MSGEVENT_MESSAGE_EXPUNGE), 1);
	assert_non_null(strstr(io.text[io.n - 1], " uidset=4"));
	assert_non_null(strstr(io.text[io.n - 1],
	    "vnd.msgeventd.cause=external"));
	peers_free(&imap, &pop, &reg);
	out_free(&po);
	out_free(&io);
}

/*
 * The same without the mapping: POP3's expunge has no UIDs, so INBOX's
 * removals go blind for a while (imap_registry_blind()): the IMAP side
 * reports no external expunge, before the +OK or after it.
 */
static void
test_registry_quit_unmapped(void **state)
{
	struct imap_registry *reg = imap_registry_new(NULL);
	struct imap_registry_stats st;
	struct out po, io;
	struct pop3_infer *pop;
	struct imap_infer *imap;
	size_t i;

	(void)state;
	memset(&po, 0, sizeof(po));
	memset(&io, 0, sizeof(io));
	assert_non_null(reg);
	imap = imap_peer(&io, reg, 4);
	pop = pop_peer(&po, reg, false);
	cli(pop, "QUIT\r\n");
	assert_int_equal(inbox_in_flight(reg), 1);
	isrv(imap, "* 2 EXPUNGE\r\n");
	icli(imap, "DONE\r\n");
	isrv(imap, "d OK Idle completed.\r\n");
	srv(pop, "+OK Logging out, messages deleted.\r\n");
	assert_int_equal(inbox_in_flight(reg), 0);
	assert_int_equal(count_type(&po, MSGEVENT_MESSAGE_EXPUNGE), 1);
	for (i = 0; i < po.n; i++)
		if (po.ev[i].type == MSGEVENT_MESSAGE_EXPUNGE)
			assert_null(strstr(po.text[i], "uidset="));
	icli(imap, "e NOOP\r\n");
	isrv(imap, "* 2 EXPUNGE\r\ne OK done\r\n");
	assert_int_equal(count_type(&io, MSGEVENT_MESSAGE_EXPUNGE), 0);
	assert_int_equal(imap_infer_foreign_unknown(imap), 0);
	imap_registry_stats(reg, &st);
	assert_int_equal(st.blinded, 2);
	peers_free(&imap, &pop, &reg);
	out_free(&po);
	out_free(&io);
}

/*
 * Every way a held QUIT ends releases its hold, having told the
 * registry what the server may have removed: -ERR (RFC 1939 6: some may
 * be gone), the connection's end, pop3_infer_free() alone, the session
 * going blind.  No hold without messages marked deleted; one for a DELE
 * still unanswered when QUIT is read.
 */
static void
test_registry_quit_paths(void **state)
{
	struct imap_registry *reg;
	struct out po, io;
	struct pop3_infer *pop;
	struct imap_infer *imap;
	int path;

	(void)state;
	for (path = 0; path < 4; path++) {
		memset(&po, 0, sizeof(po));
		memset(&io, 0, sizeof(io));
		reg = imap_registry_new(NULL);
		assert_non_null(reg);
		imap = imap_peer(&io, reg, 4);
		pop = pop_peer(&po, reg, true);
		cli(pop, "QUIT\r\n");
		assert_int_equal(inbox_in_flight(reg), 1);
		isrv(imap, "* 2 EXPUNGE\r\n");
		icli(imap, "DONE\r\n");
		isrv(imap, "d OK Idle completed.\r\n");
		switch (path) {
		case 0:
			srv(pop, "-ERR Some deleted messages not removed\r\n");
			break;
		case 1:
			pop3_infer_end(pop, POP3_INFER_END_ABORT);
			break;
		case 2:
			pop3_infer_free(&pop);
			break;
		case 3:
			srv(pop, "HELLO\r\n");	/* not POP3: blind */
			assert_true(pop3_infer_error(pop, NULL, NULL));
			break;
		}
		assert_int_equal(inbox_in_flight(reg), 0);
		assert_int_equal(count_type(&po, MSGEVENT_MESSAGE_EXPUNGE), 0);
		icli(imap, "e NOOP\r\n");
		isrv(imap, "* 2 EXPUNGE\r\ne OK done\r\n");
		assert_int_equal(count_type(&io, MSGEVENT_MESSAGE_EXPUNGE), 0);
		assert_int_equal(imap_infer_foreign_unknown(imap), 0);
		peers_free(&imap, &pop, &reg);
		out_free(&po);
		out_free(&io);
	}

	/* nothing marked: no hold, and a removal is someone else's */
	memset(&po, 0, sizeof(po));
	memset(&io, 0, sizeof(io));
	reg = imap_registry_new(NULL);
	assert_non_null(reg);
	imap = imap_peer(&io, reg, 4);
	pop = pop_peer(&po, reg, true);
	cli(pop, "RSET\r\n");
	srv(pop, "+OK\r\n");
	cli(pop, "QUIT\r\n");
	assert_int_equal(inbox_in_flight(reg), 0);
	srv(pop, "+OK bye\r\n");
	isrv(imap, "* 2 EXPUNGE\r\n");
	icli(imap, "DONE\r\n");
	isrv(imap, "d OK Idle completed.\r\n");
	assert_int_equal(count_type(&io, MSGEVENT_MESSAGE_EXPUNGE), 1);
	peers_free(&imap, &pop, &reg);
	out_free(&po);
	out_free(&io);

	/* DELE pipelined with QUIT: held before DELE's answer */
	memset(&po, 0, sizeof(po));
	memset(&io, 0, sizeof(io));
	reg = imap_registry_new(NULL);
	assert_non_null(reg);
	imap = imap_peer(&io, reg, 4);
	pop = pop_peer(&po, reg, true);
	cli(pop, "RSET\r\n");
	srv(pop, "+OK\r\n");
	cli(pop, "DELE 1\r\nQUIT\r\n");
	assert_int_equal(inbox_in_flight(reg), 1);
	isrv(imap, "* 1 EXPUNGE\r\n");
	icli(imap, "DONE\r\n");
	isrv(imap, "d OK Idle completed.\r\n");
	srv(pop, "+OK\r\n+OK bye\r\n");
	assert_int_equal(inbox_in_flight(reg), 0);
	assert_int_equal(count_type(&po, MSGEVENT_MESSAGE_EXPUNGE), 1);
	assert_int_equal(count_type(&io, MSGEVENT_MESSAGE_EXPUNGE), 0);
	assert_int_equal(imap_infer_foreign_unknown(imap), 0);
	peers_free(&imap, &pop, &reg);
	out_free(&po);
	out_free(&io);
}

/* ---- main ------------------------------------------------------------- */

static const char *
transcript_dir(int argc, char **argv)
{
	static const char *const dirs[] = {
		"../transcripts/pop3", "tests/transcripts/pop3",
	};
	struct stat st;
	size_t i;

	if (argc > 1)
		return argv[1];
	if (getenv("POP3_TRANSCRIPT_DIR") != NULL)
		return getenv("POP3_TRANSCRIPT_DIR");
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			return dirs[i];
	return dirs[0];
}

int
main(int argc, char **argv)
{
	static const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_password_never_emitted),
		cmocka_unit_test(test_session_and_timestamp),
		cmocka_unit_test(test_user_accessor),
		cmocka_unit_test(test_end_once),
		cmocka_unit_test(test_own_uidl_streams),
		cmocka_unit_test(test_own_uidl_pipelined),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_uidl_refused),
		cmocka_unit_test(test_expunge_batches),
		cmocka_unit_test(test_uidl_cap),
		cmocka_unit_test(test_own_garbage),
		cmocka_unit_test(test_random_splits),
		cmocka_unit_test(test_pending_overflow),
		cmocka_unit_test(test_parser_error),
		cmocka_unit_test(test_stls),
		cmocka_unit_test(test_in_body),
		cmocka_unit_test(test_capa_stls_lf),
		cmocka_unit_test(test_proxy_accessors),
		cmocka_unit_test(test_registry_quit_mapped),
		cmocka_unit_test(test_registry_quit_unmapped),
		cmocka_unit_test(test_registry_quit_paths),
	};
	struct CMUnitTest *tests;
	struct transcript_case *cases;
	const char *dir = transcript_dir(argc, argv), *base;
	char **paths;
	size_t npaths, i, n = 0;
	int w, failed;

	if (transcript_list(dir, &paths, &npaths) == -1 || npaths == 0) {
		fprintf(stderr, "test_pop3_infer: no transcripts in %s\n", dir);
		return 1;
	}
	tests = calloc(npaths * 4, sizeof(*tests));
	cases = calloc(npaths * 4, sizeof(*cases));
	if (tests == NULL || cases == NULL)
		return 1;
	for (i = 0; i < npaths; i++) {
		base = strrchr(paths[i], '/') != NULL ?
		    strrchr(paths[i], '/') + 1 : paths[i];
		for (w = WAY_WHOLE; w <= WAY_SPLIT3; w++, n++) {
			cases[n].path = paths[i];
			cases[n].way = (enum way)w;
			snprintf(cases[n].name, sizeof(cases[n].name), "%s %s",
			    base, way_names[w]);
			tests[n].name = cases[n].name;
			tests[n].test_func = test_transcript;
			tests[n].initial_state = &cases[n];
		}
	}
	failed = _cmocka_run_group_tests("pop3 transcripts", tests, n, NULL,
	    NULL);
	failed += cmocka_run_group_tests_name("pop3_infer", unit, NULL, NULL);
	free(tests);
	free(cases);
	transcript_list_free(paths, npaths);
	return failed != 0;
}
