/*
 * test_imap_infer.c - the inference, from transcripts and by hand.
 *
 * Every tests/transcripts/NAME.t (format: transcript.h) runs three ways,
 * as http-parser's test_scan does: each chunk whole, each chunk fed
 * byte by byte, and each chunk split in two at every offset.  All must
 * give the expected events at the expected checkpoints.
 *
 * A transcript with the comment line "# flag-events: flags" runs with
 * env.flag_report IMAP_FLAGS_REPORT_FLAGS (the configuration's
 * "flag-events flags"); the others with the default.
 *
 * Usage: test_imap_infer [TRANSCRIPT_DIR]   (default ../transcripts,
 * then tests/transcripts, for running from tests/unit or the top).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "transcript.h"
#include "../../outputs/out_syslog.h"
#include "../../parser/imap_registry.h"
#include "../../parser/imap_set.h"

/* ---- collecting events ------------------------------------------------ */

struct events {
	struct msgevent *ev;	/* copies, whole */
	char **text;		/* canonical forms */
	size_t n, cap;
};

/*
 * Every event the tests make, formatted as syslog at the default
 * syslog-max-size, must be whole: the same message as without a limit
 * (OUT_SYSLOG_SIZE_MAX), nothing cut, no truncated mark but the event's
 * own.  Long UID sets are split for that (IMAP_INFER_EVENT_BYTES).
 * Counted in syslog_checked, the events too long anyway (a mailbox name
 * of IMAP_INFER_MAILBOX_MAX, percent-encoded twice over) in
 * syslog_too_long.
 */
static size_t syslog_checked, syslog_too_long;

static void
check_syslog_fits(const struct msgevent *ev)
{
	static char small[OUT_SYSLOG_SIZE_MAX + 1], big[OUT_SYSLOG_SIZE_MAX + 1];
	struct out_syslog_opts o = {
		.hostname = TRANSCRIPT_ENV_SERVER_FQDN,
		.sd_id = "msgevent@32473",
		.facility = 2,
		.procid = 4194304,
		.max_size = OUT_SYSLOG_SIZE_DEFAULT,
	};
	size_t n, m, len;
	const char *v;

	n = out_syslog_format(&o, ev, 2147483647u, small);
	o.max_size = OUT_SYSLOG_SIZE_MAX;
	m = out_syslog_format(&o, ev, 2147483647u, big);
	syslog_checked++;
	if (n == m && memcmp(small, big, n) == 0)
		return;
	/* a name of a kilobyte and more fits no message of 2048 */
	v = msgevent_get(ev, MSGEVENT_P_MAILBOX_ID, &len);
	if (v == NULL)
		v = msgevent_get(ev, MSGEVENT_P_URI, &len);
	if (v != NULL && len > 600) {
		syslog_too_long++;
		return;
	}
	fail_msg("the syslog message of %s (%zu bytes whole) was cut to "
	    "%zu: %.300s", msgevent_type_name(ev->type), m, n, big);
}

static void
events_emit(void *ctx, const struct msgevent *ev)
{
	struct events *e = ctx;
	char buf[MSGEVENT_VALUE_SPACE * 4 + 256];

	check_syslog_fits(ev);

	if (e->n == e->cap) {
		e->cap = e->cap == 0 ? 8 : e->cap * 2;
		e->ev = realloc(e->ev, e->cap * sizeof(*e->ev));
		e->text = realloc(e->text, e->cap * sizeof(*e->text));
		assert_non_null(e->ev);
		assert_non_null(e->text);
	}
	e->ev[e->n] = *ev;
	transcript_event_format(ev, buf, sizeof(buf));
	e->text[e->n] = strdup(buf);
	assert_non_null(e->text[e->n]);
	e->n++;
}

static void
events_free(struct events *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->text[i]);
	free(e->text);
	free(e->ev);
	memset(e, 0, sizeof(*e));
}

static struct imap_infer *
infer_new_report(struct events *e, enum imap_flags_report report)
{
	struct imap_infer_env env;
	struct imap_infer *infer;

	memset(&env, 0, sizeof(env));
	env.flag_report = report;
	env.client_ip = TRANSCRIPT_ENV_CLIENT_IP;
	env.client_port = TRANSCRIPT_ENV_CLIENT_PORT;
	env.server_domain = TRANSCRIPT_ENV_SERVER_DOMAIN;
	env.server_port = TRANSCRIPT_ENV_SERVER_PORT;
	env.server_fqdn = TRANSCRIPT_ENV_SERVER_FQDN;
	env.service = TRANSCRIPT_ENV_SERVICE;
	env.session_id = TRANSCRIPT_ENV_SESSION;
	env.emit = events_emit;
	env.ctx = e;
	infer = imap_infer_new(&env);
	assert_non_null(infer);
	return infer;
}

static struct imap_infer *
infer_new(struct events *e)
{
	return infer_new_report(e, IMAP_FLAGS_REPORT_SIMPLE);
}

/* The report a transcript asks for: "# flag-events: flags" (a line). */
static enum imap_flags_report
transcript_report(const char *path)
{
	enum imap_flags_report report = IMAP_FLAGS_REPORT_SIMPLE;
	char line[256];
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strcmp(line, "# flag-events: flags\n") == 0)
			report = IMAP_FLAGS_REPORT_FLAGS;
	fclose(fp);
	return report;
}

/* ---- running transcripts ---------------------------------------------- */

enum way {
	WAY_WHOLE,	/* each chunk in one call */
	WAY_BYTES,	/* each chunk one byte per call */
	WAY_SPLIT,	/* each chunk in two calls, split at offset k */
};

static const char *const way_names[] = { "whole", "bytes", "split" };

/*
 * One call with LEN bytes at DATA, from a heap copy scribbled over and
 * freed afterwards: the parsers' token spans point into it, and a
 * span kept past the call would show as a wrong event (or trip ASan).
 */
static void
feed_chunk(struct imap_infer *infer, enum transcript_op op, const char *data,
    size_t len)
{
	char *chunk = malloc(len + 1);

	assert_non_null(chunk);
	memcpy(chunk, data, len);
	if (op == TRANSCRIPT_CLIENT)
		imap_infer_client_data(infer, chunk, len);
	else
		imap_infer_server_data(infer, chunk, len);
	memset(chunk, '#', len);
	free(chunk);
}

static void
feed(struct imap_infer *infer, enum transcript_op op, const char *data,
    size_t len, enum way way, size_t k)
{
	size_t i;

	switch (way) {
	case WAY_WHOLE:
		feed_chunk(infer, op, data, len);
		break;
	case WAY_BYTES:
		for (i = 0; i < len; i++)
			feed_chunk(infer, op, data + i, 1);
		break;
	case WAY_SPLIT:
		if (k >= len)
			feed_chunk(infer, op, data, len);
		else {
			feed_chunk(infer, op, data, k);
			feed_chunk(infer, op, data + k, len - k);
		}
		break;
	}
}

/*
 * Run T one way; 0 if every checkpoint held, else -1 with a report in
 * ERR.
 */
static int
transcript_run(const struct transcript *t, enum way way, size_t k, char *err,
    size_t errsize, enum imap_flags_report report)
{
	struct events e;
	struct imap_infer *infer;
	const struct transcript_step *s;
	size_t i, j, seen = 0, want;
	int rc = 0, n;

	memset(&e, 0, sizeof(e));
	infer = infer_new_report(&e, report);
	for (i = 0; i < t->nsteps && rc == 0; i++) {
		s = &t->steps[i];
		switch (s->op) {
		case TRANSCRIPT_CLIENT:
		case TRANSCRIPT_SERVER:
			feed(infer, s->op, s->data, s->len, way, k);
			break;
		case TRANSCRIPT_END:
			imap_infer_end(infer, s->reason);
			break;
		case TRANSCRIPT_EXPECT:
		case TRANSCRIPT_NONE:
			/* A checkpoint: the run of E: lines from here. */
			for (j = i, want = 0; j < t->nsteps &&
			    (t->steps[j].op == TRANSCRIPT_EXPECT ||
			    t->steps[j].op == TRANSCRIPT_NONE); j++)
				if (t->steps[j].op == TRANSCRIPT_EXPECT)
					want++;
			for (; i < j && rc == 0; i++) {
				s = &t->steps[i];
				if (s->op == TRANSCRIPT_NONE)
					continue;
				if (seen >= e.n) {
					n = snprintf(err, errsize, "%s:%u (%s "
					    "%zu): missing event\n  want: %s",
					    t->path, s->line, way_names[way], k,
					    s->data);
					rc = -1;
				} else if (strcmp(e.text[seen], s->data) != 0) {
					n = snprintf(err, errsize, "%s:%u (%s "
					    "%zu): wrong event\n  want: %s\n"
					    "  got:  %s", t->path, s->line,
					    way_names[way], k, s->data,
					    e.text[seen]);
					rc = -1;
				} else
					seen++;
			}
			i--;
			if (rc == 0 && seen < e.n) {
				n = snprintf(err, errsize, "%s:%u (%s %zu): "
				    "unexpected event\n  got:  %s", t->path,
				    t->steps[i].line, way_names[way], k,
				    e.text[seen]);
				rc = -1;
			}
			(void)n;
			break;
		}
	}
	if (rc == 0 && seen < e.n) {
		snprintf(err, errsize, "%s: end (%s %zu): unexpected event\n"
		    "  got:  %s", t->path, way_names[way], k, e.text[seen]);
		rc = -1;
	}
	imap_infer_free(&infer);
	assert_null(infer);
	events_free(&e);
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
	char err[16384];
	size_t i, k, maxlen = 0;
	enum imap_flags_report report = transcript_report(tc->path);

	if (transcript_load(tc->path, &t, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	if (tc->way != WAY_SPLIT) {
		if (transcript_run(&t, tc->way, 0, err, sizeof(err),
		    report) == -1) {
			transcript_free(&t);
			fail_msg("%s", err);
		}
		transcript_free(&t);
		return;
	}
	for (i = 0; i < t.nsteps; i++)
		if ((t.steps[i].op == TRANSCRIPT_CLIENT ||
		    t.steps[i].op == TRANSCRIPT_SERVER) &&
		    t.steps[i].len > maxlen)
			maxlen = t.steps[i].len;
	/* Every chunk split at k, for every k a chunk can be split at. */
	for (k = 1; k < maxlen; k++) {
		if (transcript_run(&t, WAY_SPLIT, k, err, sizeof(err),
		    report) == -1) {
			transcript_free(&t);
			fail_msg("%s", err);
		}
	}
	transcript_free(&t);
}

/* ---- sessions written here -------------------------------------------- */

/* One step of a session: 'C' client, 'S' server, 'E' end(ABORT). */
struct sstep {
	char dir;
	const char *data;
};

static void
session_run(struct events *e, const struct sstep *steps, enum way way,
    struct imap_infer **infer_r)
{
	struct imap_infer *infer;
	size_t i;

	infer = infer_new(e);
	for (i = 0; steps[i].dir != '\0'; i++) {
		if (steps[i].dir == 'E')
			imap_infer_end(infer, IMAP_INFER_END_ABORT);
		else
			feed(infer, steps[i].dir == 'C' ? TRANSCRIPT_CLIENT :
			    TRANSCRIPT_SERVER, steps[i].data,
			    strlen(steps[i].data), way, 0);
	}
	if (infer_r != NULL)
		*infer_r = infer;
	else
		imap_infer_free(&infer);
}

static size_t
count_type(const struct events *e, enum msgevent_type type)
{
	size_t i, n = 0;

	for (i = 0; i < e->n; i++)
		if (e->ev[i].type == type)
			n++;
	return n;
}

/*
 * The UIDs of the events of TYPE from the I0-th on, into BITS (UIDs
 * below NBITS): each uidset ascending and within the split budget
 * (IMAP_INFER_EVENT_BYTES), the events' parts disjoint (a UID in two of
 * them fails), uri naming a message exactly when a part is one UID (and
 * the event is not truncated).  Returns the events seen; *TRUNC_R (may
 * be NULL) tells whether any was truncated.
 */
static size_t
events_uids(const struct events *e, size_t i0, enum msgevent_type type,
    unsigned char *bits, size_t nbits, bool *trunc_r)
{
	const char *v, *uri;
	size_t i, k, vlen, ulen, n = 0;
	uint64_t a, b, u, prev;
	char suffix[32];
	bool trunc = false;

	for (i = i0; i < e->n; i++) {
		if (e->ev[i].type != type)
			continue;
		n++;
		trunc = trunc || e->ev[i].truncated;
		v = msgevent_get(&e->ev[i], MSGEVENT_P_UIDSET, &vlen);
		assert_non_null(v);
		assert_true(vlen <= IMAP_INFER_EVENT_BYTES);
		uri = msgevent_get(&e->ev[i], MSGEVENT_P_URI, &ulen);
		assert_non_null(uri);
		if (memchr(v, ',', vlen) == NULL &&
		    memchr(v, ':', vlen) == NULL && !e->ev[i].truncated) {
			snprintf(suffix, sizeof(suffix), "/;UID=%.*s",
			    (int)vlen, v);
			assert_true(ulen > strlen(suffix) &&
			    memcmp(uri + ulen - strlen(suffix), suffix,
			    strlen(suffix)) == 0);
		} else
			assert_null(memmem(uri, ulen, "/;UID=", 6));
		for (k = 0, prev = 0; k < vlen;) {
			for (a = 0; k < vlen && v[k] >= '0' && v[k] <= '9'; k++)
				a = a * 10 + (uint64_t)(v[k] - '0');
			b = a;
			if (k < vlen && v[k] == ':')
				for (b = 0, k++; k < vlen && v[k] >= '0' &&
				    v[k] <= '9'; k++)
					b = b * 10 + (uint64_t)(v[k] - '0');
			assert_true(a >= 1 && a <= b && a > prev);
			prev = b + 1;
			for (u = a; u <= b; u++) {
				assert_true(u < nbits);
				if (bits[u])
					fail_msg("UID %llu in two events",
					    (unsigned long long)u);
				bits[u] = 1;
			}
			if (k < vlen) {
				assert_int_equal(v[k], ',');
				k++;
			}
		}
	}
	if (trunc_r != NULL)
		*trunc_r = trunc;
	return n;
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
mem_has(const char *hay, size_t hlen, const char *needle)
{
	return memmem(hay, hlen, needle, strlen(needle)) != NULL;
}

#define PASSWORD	"Pa55-w0rd!Secret"

/*
 * No emitted event holds the password, its base64, or the SASL blob,
 * in any parameter, for every way of logging in, succeeding or not.
 * The scan covers the whole value buffer of each event, all bytes in
 * use.  Each session must produce its (Login or LoginFailure) event, so
 * the test cannot pass by emitting nothing.
 */
static void
test_password_never_emitted(void **state)
{
	char plain[128], plain_admin[128], pw64[64], user64[16];
	char l_plain_ir[256], l_plain[256], l_plain_admin[256], l_pw[128];
	char l_login_ir[128], l_user[64];
	struct events e;
	size_t i, j, w;
	static const char raw_plain[] = "\0alice\0" PASSWORD;
	static const char raw_admin[] = "bob\0admin\0" PASSWORD;

	(void)state;
	b64_encode(raw_plain, sizeof(raw_plain) - 1, plain);
	b64_encode(raw_admin, sizeof(raw_admin) - 1, plain_admin);
	b64_encode(PASSWORD, strlen(PASSWORD), pw64);
	b64_encode("alice", 5, user64);
	snprintf(l_plain_ir, sizeof(l_plain_ir),
	    "a1 AUTHENTICATE PLAIN %s\r\n", plain);
	snprintf(l_plain, sizeof(l_plain), "%s\r\n", plain);
	snprintf(l_plain_admin, sizeof(l_plain_admin), "%s\r\n", plain_admin);
	snprintf(l_pw, sizeof(l_pw), "%s\r\n", pw64);
	snprintf(l_login_ir, sizeof(l_login_ir),
	    "a1 AUTHENTICATE LOGIN %s\r\n", user64);
	snprintf(l_user, sizeof(l_user), "%s\r\n", user64);
	{
		const struct sstep login_atom[] = {
			{ 'S', "* OK ready\r\n" },
			{ 'C', "a1 LOGIN alice " PASSWORD "\r\n" },
			{ 'S', "a1 OK done\r\n" }, { 'E', NULL }, { 0, NULL } };
		const struct sstep login_quoted[] = {
			{ 'C', "a1 LOGIN \"alice\" \"" PASSWORD "\"\r\n" },
			{ 'S', "a1 NO [AUTHENTICATIONFAILED] no\r\n" },
			{ 'C', "a2 LOGIN \"alice\" \"" PASSWORD "\"\r\n" },
			{ 'S', "a2 OK done\r\n" }, { 'E', NULL }, { 0, NULL } };
		const struct sstep login_literal[] = {
			{ 'C', "a1 LOGIN {5}\r\n" }, { 'S', "+ go\r\n" },
			{ 'C', "alice {16}\r\n" }, { 'S', "+ go\r\n" },
			{ 'C', PASSWORD "\r\n" },
			{ 'S', "a1 OK done\r\n" }, { 'E', NULL }, { 0, NULL } };
		const struct sstep login_literal_plus[] = {
			{ 'C', "a1 LOGIN {5+}\r\nalice {16+}\r\n" PASSWORD
			    "\r\n" },
			{ 'S', "a1 NO [AUTHENTICATIONFAILED] no\r\n" },
			{ 0, NULL } };
		const struct sstep plain_ir[] = {
			{ 'C', l_plain_ir }, { 'S', "a1 OK done\r\n" },
			{ 'E', NULL }, { 0, NULL } };
		const struct sstep plain_ir_fail[] = {
			{ 'C', l_plain_ir },
			{ 'S', "a1 NO [AUTHENTICATIONFAILED] no\r\n" },
			{ 0, NULL } };
		const struct sstep plain_cont[] = {
			{ 'C', "a1 AUTHENTICATE PLAIN\r\n" }, { 'S', "+ \r\n" },
			{ 'C', l_plain_admin }, { 'S', "a1 OK done\r\n" },
			{ 'E', NULL }, { 0, NULL } };
		const struct sstep login_mech[] = {
			{ 'C', "a1 AUTHENTICATE LOGIN\r\n" },
			{ 'S', "+ VXNlcm5hbWU6\r\n" }, { 'C', l_user },
			{ 'S', "+ UGFzc3dvcmQ6\r\n" }, { 'C', l_pw },
			{ 'S', "a1 OK done\r\n" }, { 'E', NULL }, { 0, NULL } };
		const struct sstep login_mech_ir_fail[] = {
			{ 'C', l_login_ir },
			{ 'S', "+ UGFzc3dvcmQ6\r\n" }, { 'C', l_pw },
			{ 'S', "a1 NO [AUTHENTICATIONFAILED] no\r\n" },
			{ 0, NULL } };
		const struct sstep login_mech_empty_user[] = {
			{ 'C', "a1 AUTHENTICATE LOGIN\r\n" },
			{ 'S', "+ VXNlcm5hbWU6\r\n" }, { 'C', "\r\n" },
			{ 'S', "+ UGFzc3dvcmQ6\r\n" }, { 'C', l_pw },
			{ 'S', "a1 NO [AUTHENTICATIONFAILED] no\r\n" },
			{ 0, NULL } };
		const struct sstep unknown_mech[] = {
			{ 'C', "a1 AUTHENTICATE X-SECRET\r\n" },
			{ 'S', "+ \r\n" }, { 'C', l_pw },
			{ 'S', "a1 OK done\r\n" }, { 'E', NULL }, { 0, NULL } };
		const struct sstep *sessions[] = {
			login_atom, login_quoted, login_literal,
			login_literal_plus, plain_ir, plain_ir_fail,
			plain_cont, login_mech, login_mech_ir_fail,
			login_mech_empty_user, unknown_mech,
		};
		const char *secrets[] = { PASSWORD, pw64, plain, plain_admin };

		for (w = WAY_WHOLE; w <= WAY_BYTES; w++) {
			for (i = 0; i < sizeof(sessions) / sizeof(sessions[0]);
			    i++) {
				memset(&e, 0, sizeof(e));
				session_run(&e, sessions[i], (enum way)w, NULL);
				if (count_type(&e, MSGEVENT_LOGIN) +
				    count_type(&e, MSGEVENT_LOGIN_FAILURE) == 0)
					fail_msg("session %zu: no login event",
					    i);
				for (j = 0; j < e.n; j++) {
					size_t s;

					for (s = 0; s < sizeof(secrets) /
					    sizeof(secrets[0]); s++)
						if (mem_has(e.ev[j].buf,
						    e.ev[j].used, secrets[s]))
							fail_msg("session %zu: "
							    "secret in %s", i,
							    e.text[j]);
				}
				events_free(&e);
			}
		}
	}
}

/* The fields the canonical form leaves out are there. */
static void
test_session_and_timestamp(void **state)
{
	const struct sstep s[] = {
		{ 'C', "a1 LOGIN alice pw\r\n" }, { 'S', "a1 OK done\r\n" },
		{ 0, NULL } };
	struct events e;
	const char *v;
	size_t len;

	(void)state;
	memset(&e, 0, sizeof(e));
	session_run(&e, s, WAY_WHOLE, NULL);
	assert_int_equal(e.n, 1);
	v = msgevent_get(&e.ev[0], MSGEVENT_P_SESSION, &len);
	assert_non_null(v);
	assert_memory_equal(v, "7", 1);
	assert_int_equal(len, 1);
	v = msgevent_get(&e.ev[0], MSGEVENT_P_TIMESTAMP, &len);
	assert_non_null(v);
	assert_int_equal(len, strlen("2024-01-01T00:00:00.000000Z"));
	events_free(&e);
}

static void
test_user_accessor(void **state)
{
	struct events e;
	struct imap_infer *infer;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	assert_null(imap_infer_user(infer));
	imap_infer_client_data(infer, "a1 LOGIN alice pw\r\n", 19);
	assert_null(imap_infer_user(infer));
	imap_infer_server_data(infer, "a1 OK done\r\n", 12);
	assert_string_equal(imap_infer_user(infer), "alice");
	imap_infer_free(&infer);
	events_free(&e);

	/* An unknown mechanism: logged in, user not known. */
	infer = infer_new(&e);
	imap_infer_client_data(infer, "a1 AUTHENTICATE GSSAPI\r\n", 24);
	imap_infer_server_data(infer, "+ \r\n", 4);
	imap_infer_client_data(infer, "YII=\r\n", 6);
	imap_infer_server_data(infer, "a1 OK done\r\n", 12);
	assert_int_equal(count_type(&e, MSGEVENT_LOGIN), 1);
	assert_null(imap_infer_user(infer));
	imap_infer_end(infer, IMAP_INFER_END_ABORT);
	assert_int_equal(count_type(&e, MSGEVENT_LOGOUT), 1);
	imap_infer_free(&infer);
	events_free(&e);
	imap_infer_free(&infer);	/* NULL: a no-op */
}

/* Logout once, nothing after imap_infer_end(). */
static void
test_end_once(void **state)
{
	struct events e;
	struct imap_infer *infer;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	imap_infer_client_data(infer, "a1 LOGIN alice pw\r\n", 19);
	imap_infer_server_data(infer, "a1 OK done\r\n", 12);
	imap_infer_end(infer, IMAP_INFER_END_ABORT);
	imap_infer_end(infer, IMAP_INFER_END_GRACEFUL);
	imap_infer_client_data(infer, "a2 CREATE x\r\n", 13);
	imap_infer_server_data(infer, "a2 OK done\r\n", 12);
	assert_int_equal(e.n, 2);
	assert_int_equal(count_type(&e, MSGEVENT_LOGOUT), 1);
	imap_infer_free(&infer);
	events_free(&e);
}

/*
 * Pipelining past the inline slots and past IMAP_INFER_PENDING_MAX:
 * the excess is counted, the rest answered in reverse order, and the
 * table works afterwards (ASan checks every heap slot is freed).
 */
static void
test_pending_overflow(void **state)
{
	struct events e;
	struct imap_infer *infer;
	char line[64];
	int i, n = IMAP_INFER_PENDING_MAX + 72;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	imap_infer_client_data(infer, "a LOGIN alice pw\r\n", 18);
	imap_infer_server_data(infer, "a OK done\r\n", 11);
	/* Every tracked CREATE keeps its name: records are small. */
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "c%d CREATE box%d\r\n", i, i);
		imap_infer_client_data(infer, line, strlen(line));
	}
	assert_int_equal(imap_infer_untracked(infer), 72);
	for (i = n - 1; i >= 0; i--) {
		snprintf(line, sizeof(line), "c%d OK done\r\n", i);
		imap_infer_server_data(infer, line, strlen(line));
	}
	assert_int_equal(count_type(&e, MSGEVENT_MAILBOX_CREATE),
	    IMAP_INFER_PENDING_MAX);
	/* Reverse order: the last one tracked comes first. */
	snprintf(line, sizeof(line), " mailboxID=imap://alice@"
	    "mail.example.net/box%d", IMAP_INFER_PENDING_MAX - 1);
	assert_non_null(strstr(e.text[1], line));
	assert_int_equal(e.text[1][strlen(e.text[1]) - 1], '7');
	events_free(&e);
	/* All slots are free again. */
	for (i = 0; i < IMAP_INFER_PENDING_MAX; i++) {
		snprintf(line, sizeof(line), "d%d NOOP\r\n", i);
		imap_infer_client_data(infer, line, strlen(line));
	}
	imap_infer_client_data(infer, "x CREATE last\r\n", 15);
	assert_int_equal(imap_infer_untracked(infer), 72 + 1);
	imap_infer_server_data(infer, "d0 OK done\r\n", 12);
	imap_infer_client_data(infer, "y CREATE last\r\n", 15);
	imap_infer_server_data(infer, "y OK done\r\n", 11);
	assert_int_equal(count_type(&e, MSGEVENT_MAILBOX_CREATE), 1);
	/* Freed with commands still pending. */
	imap_infer_free(&infer);
	events_free(&e);
}

/* A tag longer than IMAP_INFER_TAG_MAX is counted, not tracked. */
static void
test_long_tag(void **state)
{
	struct events e;
	struct imap_infer *infer;
	char line[256];
	char tag[IMAP_INFER_TAG_MAX + 2];

	(void)state;
	memset(&e, 0, sizeof(e));
	memset(tag, 't', sizeof(tag) - 1);
	tag[sizeof(tag) - 1] = '\0';
	infer = infer_new(&e);
	snprintf(line, sizeof(line), "%s CREATE x\r\n", tag);
	imap_infer_client_data(infer, line, strlen(line));
	snprintf(line, sizeof(line), "%s OK done\r\n", tag);
	imap_infer_server_data(infer, line, strlen(line));
	assert_int_equal(e.n, 0);
	assert_int_equal(imap_infer_untracked(infer), 1);
	/* Exactly IMAP_INFER_TAG_MAX bytes is fine. */
	tag[IMAP_INFER_TAG_MAX] = '\0';
	snprintf(line, sizeof(line), "%s CREATE x\r\n", tag);
	imap_infer_client_data(infer, line, strlen(line));
	snprintf(line, sizeof(line), "%s OK done\r\n", tag);
	imap_infer_server_data(infer, line, strlen(line));
	assert_int_equal(e.n, 1);
	imap_infer_free(&infer);
	events_free(&e);
}

/* STARTTLS and COMPRESS accepted: both directions blind, no error. */
static void
test_blind(void **state)
{
	static const char *const cmds[] = {
		"s STARTTLS\r\n", "s COMPRESS DEFLATE\r\n",
	};
	struct events e;
	struct imap_infer *infer;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		memset(&e, 0, sizeof(e));
		infer = infer_new(&e);
		imap_infer_client_data(infer, "a LOGIN alice pw\r\n", 18);
		imap_infer_server_data(infer, "a OK done\r\n", 11);
		imap_infer_client_data(infer, cmds[i], strlen(cmds[i]));
		assert_null(imap_infer_blind_reason(infer));
		imap_infer_server_data(infer, "s OK go\r\n\x16\x03\x01", 12);
		assert_non_null(imap_infer_blind_reason(infer));
		/* Not IMAP any more: no error, no event. */
		imap_infer_client_data(infer, "\x16\x03\x01\0\0)))\r\n", 10);
		imap_infer_client_data(infer, "b CREATE x\r\n", 12);
		imap_infer_server_data(infer, "b OK done\r\n", 11);
		assert_false(imap_infer_error(infer, NULL, NULL));
		assert_int_equal(e.n, 1);
		/* The Logout still comes at the end. */
		imap_infer_end(infer, IMAP_INFER_END_GRACEFUL);
		assert_int_equal(count_type(&e, MSGEVENT_LOGOUT), 1);
		imap_infer_free(&infer);
		events_free(&e);
	}
	/* Refused STARTTLS: still parsing. */
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	imap_infer_client_data(infer, "s STARTTLS\r\n", 12);
	imap_infer_server_data(infer, "s NO not now\r\n", 14);
	assert_null(imap_infer_blind_reason(infer));
	imap_infer_free(&infer);
	events_free(&e);
}

static void
test_parser_error(void **state)
{
	struct events e;
	struct imap_infer *infer;
	enum imap_parser_dir dir;
	enum imap_parser_error err;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	imap_infer_client_data(infer, "a1 LOGIN alice pw\r\n", 19);
	imap_infer_server_data(infer, "a1 OK done\r\n", 12);
	assert_false(imap_infer_error(infer, &dir, &err));
	/* A command cut by the error never completes. */
	imap_infer_client_data(infer, "a2 CREATE \"x\0y\"\r\n", 17);
	assert_true(imap_infer_error(infer, &dir, &err));
	assert_int_equal(dir, IMAP_PARSER_CLIENT);
	assert_int_equal(err, IMAP_PERR_BAD_CHAR);
	imap_infer_server_data(infer, "a2 OK done\r\n", 12);
	assert_int_equal(e.n, 1);
	imap_infer_end(infer, IMAP_INFER_END_ABORT);
	assert_int_equal(count_type(&e, MSGEVENT_LOGOUT), 1);
	imap_infer_free(&infer);
	events_free(&e);
}

static void
test_in_literal(void **state)
{
	struct events e;
	struct imap_infer *infer;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	imap_infer_client_data(infer, "a1 APPEND INBOX {10}\r\n", 22);
	assert_true(imap_infer_in_literal(infer, IMAP_PARSER_CLIENT));
	assert_false(imap_infer_in_literal(infer, IMAP_PARSER_SERVER));
	imap_infer_server_data(infer,
	    "+ go\r\n* 1 FETCH (BODY[] {5}\r\nab", 31);
	assert_true(imap_infer_in_literal(infer, IMAP_PARSER_SERVER));
	imap_infer_client_data(infer, "0123456789", 10);
	assert_false(imap_infer_in_literal(infer, IMAP_PARSER_CLIENT));
	imap_infer_free(&infer);
	events_free(&e);
}

/* Names over IMAP_INFER_MAILBOX_MAX are cut and the event says so. */
static void
test_mailbox_too_long(void **state)
{
	struct events e;
	struct imap_infer *infer;
	char body[2000];
	const char *v;
	size_t len, pre = strlen("imap://alice@mail.example.net/");

	(void)state;
	memset(&e, 0, sizeof(e));
	memset(body, 'm', sizeof(body));
	infer = infer_new(&e);
	imap_infer_client_data(infer, "a LOGIN alice pw\r\n", 18);
	imap_infer_server_data(infer, "a OK done\r\n", 11);
	imap_infer_client_data(infer, "b CREATE {2000+}\r\n", 18);
	imap_infer_client_data(infer, body, sizeof(body));
	imap_infer_client_data(infer, "\r\n", 2);
	imap_infer_server_data(infer, "b OK done\r\n", 11);
	assert_int_equal(e.n, 2);
	assert_true(e.ev[1].truncated);
	v = msgevent_get(&e.ev[1], MSGEVENT_P_MAILBOX_ID, &len);
	assert_non_null(v);
	assert_int_equal(len, pre + IMAP_INFER_MAILBOX_MAX);
	imap_infer_free(&infer);
	events_free(&e);
}

/* A MULTIAPPEND past IMAP_INFER_APPEND_MAX messages. */
static void
test_append_cap(void **state)
{
	struct events e;
	struct imap_infer *infer;
	char line[64];
	int i, n = IMAP_INFER_APPEND_MAX + 8;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	imap_infer_client_data(infer, "a LOGIN alice pw\r\n", 18);
	imap_infer_server_data(infer, "a OK done\r\n", 11);
	imap_infer_client_data(infer, "b APPEND INBOX", 14);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), " (\\Seen) {3+}\r\nm%02d", i);
		imap_infer_client_data(infer, line, strlen(line));
	}
	imap_infer_client_data(infer, "\r\n", 2);
	snprintf(line, sizeof(line), "b OK [APPENDUID 9 101:%d] done\r\n",
	    100 + n);
	imap_infer_server_data(infer, line, strlen(line));
	assert_int_equal(count_type(&e, MSGEVENT_MESSAGE_APPEND),
	    IMAP_INFER_APPEND_MAX);
	assert_int_equal(imap_infer_untracked(infer), 8);
	assert_non_null(strstr(e.text[IMAP_INFER_APPEND_MAX],
	    " uidset=132 "));
	imap_infer_free(&infer);
	events_free(&e);
}

/* Feed LEN bytes at DATA to the client side one byte at a time. */
static void
client_bytes(struct imap_infer *infer, const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		imap_infer_client_data(infer, data + i, 1);
}

/*
 * An APPEND of IMAP_INFER_APPEND_MAX messages with flags (more than
 * IMAP_INFER_FLAGS_MAX of them) and a literal mailbox name of NAMELEN
 * bytes, fed byte by byte.
 */
static void
append_big(struct imap_infer *infer, const char *tag, int namelen)
{
	char line[2200], name[1024];
	int i;

	assert_true(namelen < (int)sizeof(name));
	memset(name, 'n', (size_t)namelen);
	snprintf(line, sizeof(line), "%s APPEND {%d+}\r\n%.*s", tag, namelen,
	    namelen, name);
	client_bytes(infer, line, strlen(line));
	for (i = 0; i < IMAP_INFER_APPEND_MAX; i++) {
		snprintf(line, sizeof(line), " (\\Seen \\Flagged $Label%02d) "
		    "{3+}\r\nm%02d", i, i);
		client_bytes(infer, line, strlen(line));
	}
	client_bytes(infer, "\r\n", 2);
}

/* Complete TAG with OK; how many MessageAppend events that gave. */
static size_t
append_answer(struct imap_infer *infer, struct events *e, const char *tag)
{
	char line[128];
	size_t before = count_type(e, MSGEVENT_MESSAGE_APPEND);

	snprintf(line, sizeof(line), "%s OK [APPENDUID 9 1:%d] done\r\n", tag,
	    IMAP_INFER_APPEND_MAX);
	imap_infer_server_data(infer, line, strlen(line));
	return count_type(e, MSGEVENT_MESSAGE_APPEND) - before;
}

/*
 * Records past IMAP_INFER_RECORD_BYTES_MAX.  Pipelined RENAMEs with
 * long names fill the budget; those that would go over it are counted,
 * whether the budget runs out at the record's start or as its names
 * arrive.  APPENDs then find only what the RENAMEs left: they run out
 * in the middle of a message or of a literal name, and each gets all
 * its events, or none and one count.  One RENAME's worth of budget
 * freed is enough for one more APPEND.  Once all are answered the
 * budget is whole again.
 */
static void
test_record_budget(void **state)
{
	struct events e;
	struct imap_infer *infer;
	char name[1001], line[2200], tag[16];
	uint64_t before;
	size_t got, tracked = 0;
	int i, k, n = IMAP_INFER_PENDING_MAX, napp = 4;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	imap_infer_client_data(infer, "a LOGIN alice pw\r\n", 18);
	imap_infer_server_data(infer, "a OK done\r\n", 11);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	/* Two 1000-byte names each: more than the budget for all of them. */
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "r%d RENAME o%s N%s\r\n", i, name,
		    name);
		imap_infer_client_data(infer, line, strlen(line));
	}
	before = imap_infer_untracked(infer);
	assert_true(before >= 1);
	assert_true(before <= (uint64_t)n / 4);
	/* Pending slots for the APPENDs (these RENAMEs had no records). */
	for (i = n - napp; i < n; i++) {
		snprintf(line, sizeof(line), "r%d OK done\r\n", i);
		imap_infer_server_data(infer, line, strlen(line));
	}
	for (k = 0; k < napp; k++) {
		snprintf(tag, sizeof(tag), "p%d", k);
		append_big(infer, tag, k % 2 == 0 ? 100 : 1000);
	}
	got = count_type(&e, MSGEVENT_MAILBOX_RENAME);
	imap_infer_server_data(infer, "r0 OK done\r\n", 12);
	assert_int_equal(count_type(&e, MSGEVENT_MAILBOX_RENAME), got + 1);
	before = imap_infer_untracked(infer);
	append_big(infer, "q", 100);
	assert_int_equal(imap_infer_untracked(infer), before);
	/* Answer everything; every command has its events or a count. */
	for (i = 1; i < n - napp; i++) {
		snprintf(line, sizeof(line), "r%d OK done\r\n", i);
		imap_infer_server_data(infer, line, strlen(line));
	}
	for (k = 0; k < napp; k++) {
		snprintf(tag, sizeof(tag), "p%d", k);
		got = append_answer(infer, &e, tag);
		assert_true(got == 0 || got == IMAP_INFER_APPEND_MAX);
		tracked += got != 0;
	}
	assert_int_equal(append_answer(infer, &e, "q"), IMAP_INFER_APPEND_MAX);
	assert_int_equal(count_type(&e, MSGEVENT_MAILBOX_RENAME) + tracked +
	    imap_infer_untracked(infer), n + napp);
	/* Nothing pending: the whole budget is back. */
	events_free(&e);
	before = imap_infer_untracked(infer);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "s%d RENAME o%.500s N%.500s\r\n",
		    i, name, name);
		imap_infer_client_data(infer, line, strlen(line));
	}
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "s%d OK done\r\n", i);
		imap_infer_server_data(infer, line, strlen(line));
	}
	assert_int_equal(imap_infer_untracked(infer), before);
	assert_int_equal(count_type(&e, MSGEVENT_MAILBOX_RENAME), n);
	imap_infer_free(&infer);
	events_free(&e);
}

/* Feed a string to one side. */
static void
cdata(struct imap_infer *infer, const char *s)
{
	imap_infer_client_data(infer, s, strlen(s));
}

static void
sdata(struct imap_infer *infer, const char *s)
{
	imap_infer_server_data(infer, s, strlen(s));
}

/* A logged-in session with mailbox INBOX of N messages selected. */
static struct imap_infer *
select_session(struct events *e, unsigned n)
{
	struct imap_infer *infer = infer_new(e);
	char line[128];

	cdata(infer, "a LOGIN alice pw\r\n");
	sdata(infer, "a OK done\r\n");
	cdata(infer, "b SELECT INBOX\r\n");
	snprintf(line, sizeof(line), "* %u EXISTS\r\n* OK [UIDVALIDITY 7] "
	    "Ok\r\n* OK [UIDNEXT %u] Ok\r\nb OK [READ-WRITE] Ok\r\n", n,
	    n + 1);
	sdata(infer, line);
	return infer;
}

/*
 * A session at rest costs what it did before the selected mailbox was
 * followed: the struct (both parsers' token scratch, mostly) and the
 * env strings, nothing on the heap; a selected mailbox adds its name.
 * (A page and a little: the state of changes made by others, MessageNew
 * and the registry, is two pointers until a session meets one.)
 */
static void
test_idle_memory(void **state)
{
	struct events e;
	struct imap_infer *infer;
	size_t idle;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	cdata(infer, "a LOGIN alice pw\r\n");
	sdata(infer, "a OK done\r\n");
	idle = imap_infer_memory(infer);
	print_message("idle session: %zu bytes\n", idle);
	assert_true(idle < 4096 + 128);
	cdata(infer, "b SELECT INBOX\r\n");
	sdata(infer, "* 3 EXISTS\r\nb OK [READ-WRITE] Ok\r\n");
	assert_int_equal(imap_infer_memory(infer), idle + 5);
	cdata(infer, "c CLOSE\r\n");
	sdata(infer, "c OK done\r\n");
	assert_int_equal(imap_infer_memory(infer), idle);
	imap_infer_free(&infer);
	events_free(&e);
}

/*
 * A 20,000-message mailbox, all UIDs fetched (contiguous: one run),
 * then an EXPUNGE of every other message, announced one by one: 9,999
 * holes in the map and as many ranges of removed UIDs.  The session
 * stays well under 64 KiB (the map's cap, the removals as bitmaps), the
 * MessageExpunge is split in parts that together carry every UID, none
 * truncated, and the count is right.
 */
static void
test_big_mailbox_memory(void **state)
{
	struct events e;
	struct imap_infer *infer;
	char *buf, line[64];
	size_t len = 0, cap = 20000 * 40, peak, n, vlen;
	unsigned char *uids;
	const char *v;
	unsigned i;
	bool trunc;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = select_session(&e, 20000);
	buf = malloc(cap);
	assert_non_null(buf);
	uids = malloc(20001);
	assert_non_null(uids);
	cdata(infer, "c FETCH 1:* (UID)\r\n");
	for (i = 1; i <= 20000; i++)
		len += (size_t)snprintf(buf + len, cap - len,
		    "* %u FETCH (UID %u)\r\n", i, i);
	imap_infer_server_data(infer, buf, len);
	sdata(infer, "c OK done\r\n");
	print_message("20,000 UIDs known: %zu bytes\n",
	    imap_infer_memory(infer));
	assert_true(imap_infer_memory(infer) < 8192);
	/* "* k EXPUNGE" removes the old message 2(k-1): UIDs 2, 4, ... */
	cdata(infer, "d EXPUNGE\r\n");
	for (len = 0, i = 2; i <= 10000; i++)
		len += (size_t)snprintf(buf + len, cap - len,
		    "* %u EXPUNGE\r\n", i);
	imap_infer_server_data(infer, buf, len);
	peak = imap_infer_memory(infer);
	print_message("after 9,999 scattered expunges: %zu bytes\n", peak);
	assert_true(peak < 40 * 1024);
	sdata(infer, "d OK done\r\n");
	assert_true(imap_infer_memory(infer) < peak);
	/* split in parts that carry every UID, none truncated */
	memset(uids, 0, 20001);
	n = events_uids(&e, 0, MSGEVENT_MESSAGE_EXPUNGE, uids, 20001, &trunc);
	print_message("9,999 UIDs in %zu MessageExpunge events\n", n);
	assert_true(n > 10);
	assert_false(trunc);
	for (i = 1; i <= 20000; i++)
		assert_int_equal(uids[i], i % 2 == 0 && i < 20000);
	snprintf(line, sizeof(line), "%u", 20000 - 9999);
	for (i = 0; i < e.n; i++) {
		if (e.ev[i].type != MSGEVENT_MESSAGE_EXPUNGE)
			continue;
		v = msgevent_get(&e.ev[i], MSGEVENT_P_MESSAGES, &vlen);
		assert_non_null(v);
		assert_int_equal(vlen, strlen(line));
		assert_memory_equal(v, line, vlen);
	}
	assert_int_equal(imap_infer_uids_unknown(infer), 0);
	free(uids);
	free(buf);
	imap_infer_free(&infer);
	events_free(&e);
}

/*
 * A VANISHED set longer than the parser's token (IMAP_TOKEN_MAX): its
 * whole ranges up to the cut are the events' UIDs (split: they are more
 * than one event's part), the events say truncated, and the count is
 * unknown (no messages=) until an EXISTS.
 */
static void
test_vanished_too_long(void **state)
{
	struct events e;
	struct imap_infer *infer;
	static unsigned char uids[3001];
	char *line;
	size_t len, cap = 8192, n, i;
	unsigned u;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = select_session(&e, 3000);
	line = malloc(cap);
	assert_non_null(line);
	cdata(infer, "c UID EXPUNGE 1:*\r\n");
	len = (size_t)snprintf(line, cap, "* VANISHED ");
	for (u = 1000; u < 1600; u += 2)
		len += (size_t)snprintf(line + len, cap - len, "%s%u",
		    u > 1000 ? "," : "", u);
	len += (size_t)snprintf(line + len, cap - len, "\r\nc OK done\r\n");
	assert_true(len > IMAP_TOKEN_MAX + 100);
	imap_infer_server_data(infer, line, len);
	/* a set longer than a token is read whole, in fragments: split */
	memset(uids, 0, sizeof(uids));
	n = events_uids(&e, 0, MSGEVENT_MESSAGE_EXPUNGE, uids, sizeof(uids),
	    NULL);
	assert_true(n >= 2);
	for (i = 0; i < e.n; i++) {
		if (e.ev[i].type != MSGEVENT_MESSAGE_EXPUNGE)
			continue;
		assert_false(e.ev[i].truncated);
	}
	for (u = 0; u < sizeof(uids); u++)
		assert_int_equal(uids[u], u >= 1000 && u < 1600 && u % 2 == 0);
	/* the count stays known */
	cdata(infer, "f EXPUNGE\r\n");
	sdata(infer, "* 1 EXPUNGE\r\nf OK done\r\n");
	assert_non_null(strstr(e.text[e.n - 1], " messages=2699 "));
	free(line);
	imap_infer_free(&infer);
	events_free(&e);
}

/* xorshift64: the same sequence on every run. */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* uidset holds UIDs in canonical form: ascending, disjoint, no "*". */
static void
assert_canonical(const char *v, size_t len)
{
	uint64_t prev = 0, a, b;
	size_t i = 0;

	while (i < len) {
		assert_true(v[i] >= '1' && v[i] <= '9');
		for (a = 0; i < len && v[i] >= '0' && v[i] <= '9'; i++)
			a = a * 10 + (uint64_t)(v[i] - '0');
		b = a;
		if (i < len && v[i] == ':') {
			for (b = 0, i++; i < len && v[i] >= '0' && v[i] <= '9';
			    i++)
				b = b * 10 + (uint64_t)(v[i] - '0');
			assert_true(b > a);
		}
		assert_true(a > prev + 1 || prev == 0);
		assert_true(b <= UINT32_MAX);
		prev = b;
		if (i < len) {
			assert_int_equal(v[i], ',');
			i++;
			assert_true(i < len);
		}
	}
}

/*
 * Random, often contradictory, selected-state traffic (a server that
 * lies, pipelined commands, COPYUID anywhere, VANISHED of any size,
 * SELECT/CLOSE at any time): no crash, no leak (ASan), memory within
 * the caps, and every uidset canonical.  The sequence is fixed; the
 * environment variable INFER_SEED picks another.
 */
static void
test_random_selected_state(void **state)
{
	static const char *const cmds[] = {
		"EXPUNGE", "UID EXPUNGE 1:50", "UID EXPUNGE *", "MOVE 1:3 B",
		"UID MOVE 2:9 \"B\"", "COPY 1 C", "UID COPY 1:* {1+}\r\nD",
		"SELECT INBOX", "EXAMINE INBOX", "SELECT {5}\r\nOther",
		"CLOSE", "UNSELECT", "NOOP", "FETCH 1:* (UID)", "IDLE",
		"STORE 1:5 +FLAGS (\\Seen $A)", "UID STORE 1:* FLAGS.SILENT "
		"(\\Deleted)", "STORE 2 (UNCHANGEDSINCE 5) -FLAGS (\\Seen)",
		"FETCH 1:3 BODY[]", "UID FETCH 4:* (FLAGS BINARY[1])",
		"STORE $ +FLAGS (x)", "UID STORE 9:2 -FLAGS.SILENT \\Flagged",
	};
	struct events e;
	struct imap_infer *infer;
	char line[2200];
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	const char *v;
	size_t vlen, i, k, n;
	unsigned tag = 0, open = 0, r, j;

	(void)state;
	/* INFER_SEED=n explores other sequences */
	if (getenv("INFER_SEED") != NULL)
		x += strtoull(getenv("INFER_SEED"), NULL, 10) * 2654435761ULL;
	memset(&e, 0, sizeof(e));
	infer = select_session(&e, 40);
	for (i = 0; i < 20000; i++) {
		r = (unsigned)(rnd(&x) % 100);
		if (r < 15 && open < 6) {
			snprintf(line, sizeof(line), "t%u %s\r\n", tag + open,
			    cmds[rnd(&x) % (sizeof(cmds) / sizeof(cmds[0]))]);
			cdata(infer, line);
			open++;
		} else if (r < 25 && open > 0) {
			snprintf(line, sizeof(line), "t%u %s%s\r\n", tag++,
			    rnd(&x) % 4 ? "OK" : "NO",
			    rnd(&x) % 3 ? "" : rnd(&x) % 2 ?
			    " [COPYUID 9 1:4 20:23]" : " [MODIFIED 2,4]");
			sdata(infer, line);
			open--;
		} else if (r < 45) {
			snprintf(line, sizeof(line), "* %u EXPUNGE\r\n",
			    (unsigned)(rnd(&x) % 45));
			sdata(infer, line);
		} else if (r < 60) {
			static const char *const fl[] = {
				"", "\\Seen", "\\Deleted $A", "\\Recent b",
				"\\Seen \\Flagged", "$A $B $C",
			};
			snprintf(line, sizeof(line), "* %u FETCH (FLAGS (%s) "
			    "%s %u%s)\r\n", (unsigned)(rnd(&x) % 45),
			    fl[rnd(&x) % (sizeof(fl) / sizeof(fl[0]))],
			    rnd(&x) % 3 ? "UID" : "MODSEQ (9) UID",
			    (unsigned)(rnd(&x) % 200),
			    rnd(&x) % 4 ? "" : " BODY[] {2}\r\nab");
			sdata(infer, line);
		} else if (r < 70) {
			snprintf(line, sizeof(line), "* %u EXISTS\r\n",
			    (unsigned)(rnd(&x) % 60));
			sdata(infer, line);
		} else if (r < 80) {
			/* VANISHED, sometimes longer than a token */
			n = rnd(&x) % 7 == 0 ? 400 : 1 + rnd(&x) % 4;
			k = (size_t)snprintf(line, sizeof(line),
			    "* VANISHED %s", rnd(&x) % 5 ? "" : "(EARLIER) ");
			for (j = 0; j < n && k < sizeof(line) - 16; j++)
				k += (size_t)snprintf(line + k,
				    sizeof(line) - k, "%s%u", j ? "," : "",
				    (unsigned)(1 + rnd(&x) % 300));
			snprintf(line + k, sizeof(line) - k, "\r\n");
			sdata(infer, line);
		} else if (r < 90) {
			static const char *const codes[] = {
				"UIDVALIDITY 7", "UIDVALIDITY 8", "UIDNEXT 300",
				"HIGHESTMODSEQ 5", "NOMODSEQ", "CLOSED",
				"COPYUID 9 3:5 30:32", "COPYUID 9 1",
				"READ-ONLY", "PERMANENTFLAGS (\\Seen \\*)",
				"PERMANENTFLAGS ()", "MODIFIED 1:3",
			};
			snprintf(line, sizeof(line), "* OK [%s] x\r\n",
			    codes[rnd(&x) % (sizeof(codes) /
			    sizeof(codes[0]))]);
			sdata(infer, line);
		} else
			sdata(infer, "+ go\r\n");
		assert_true(imap_infer_memory(infer) < 64 * 1024);
	}
	for (i = 0; i < e.n; i++) {
		if ((v = msgevent_get(&e.ev[i], MSGEVENT_P_UIDSET,
		    &vlen)) != NULL)
			assert_canonical(v, vlen);
	}
	print_message("%zu events, %zu MessageExpunge\n", e.n,
	    count_type(&e, MSGEVENT_MESSAGE_EXPUNGE));
	assert_true(count_type(&e, MSGEVENT_MESSAGE_EXPUNGE) > 10);
	imap_infer_free(&infer);
	events_free(&e);
}

/*
 * imap_infer_flags_unknown() counts the messages of STOREs (and FETCHes
 * of bodies) answered OK whose change could not be told;
 * imap_infer_flags_unlearned() the FETCH FLAGS that had no UID to go
 * under.  A refused STORE counts nothing.
 */
static void
test_flags_counters(void **state)
{
	struct events e;
	struct imap_infer *infer;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = select_session(&e, 3);
	cdata(infer, "c STORE 1:3 +FLAGS (\\Seen)\r\n");
	sdata(infer, "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS "
	    "(\\Seen))\r\n* 3 FETCH (FLAGS (\\Seen))\r\nc OK done\r\n");
	assert_int_equal(imap_infer_flags_unlearned(infer), 3);
	assert_int_equal(imap_infer_flags_unknown(infer), 3);
	cdata(infer, "d FETCH 1:2 (UID)\r\n");
	sdata(infer, "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\nd OK done\r\n");
	/* UIDs known, flags not; message 3's UID not either */
	cdata(infer, "f STORE 1:3 -FLAGS.SILENT (\\Seen)\r\n");
	sdata(infer, "f OK done\r\n");
	assert_int_equal(imap_infer_flags_unknown(infer), 6);
	cdata(infer, "g STORE 1:3 -FLAGS.SILENT (\\Seen)\r\n");
	sdata(infer, "g NO failed\r\n");
	assert_int_equal(imap_infer_flags_unknown(infer), 6);
	/* learned: message 1 (UID 1); message 3 still without a UID */
	cdata(infer, "h FETCH 1,3 (FLAGS)\r\n");
	sdata(infer, "* 1 FETCH (FLAGS ())\r\n* 3 FETCH (FLAGS ())\r\n"
	    "h OK done\r\n");
	assert_int_equal(imap_infer_flags_unlearned(infer), 4);
	cdata(infer, "i STORE 1 +FLAGS.SILENT (\\Flagged)\r\n");
	sdata(infer, "i OK done\r\n");
	assert_int_equal(imap_infer_flags_unknown(infer), 6);
	assert_int_equal(count_type(&e, MSGEVENT_FLAGS_SET), 1);
	assert_false(e.ev[e.n - 1].truncated);
	/* a FETCH of a body of a message whose flags are unknown */
	cdata(infer, "j FETCH 2 BODY[]\r\n");
	sdata(infer, "* 2 FETCH (FLAGS (\\Seen) BODY[] {0}\r\n)\r\n"
	    "j OK done\r\n");
	assert_int_equal(imap_infer_flags_unknown(infer), 7);
	assert_int_equal(count_type(&e, MSGEVENT_MESSAGE_READ), 0);
	imap_infer_free(&infer);
	events_free(&e);
}

/*
 * A 20,000-message mailbox whose flags alternate: the flag cache holds
 * them all (a bitmap per value per 64 UIDs), the session stays well
 * under 64 KiB, and a STORE 1:* gives every change, the MessageRead of
 * 10,000 scattered UIDs split in parts, none truncated.  Flags that vary
 * more than the cache can hold (eight values in every 64 messages) are
 * partly forgotten: the STORE then gives the changes known, marked
 * truncated, and counts the rest.
 */
static void
test_big_mailbox_flags(void **state)
{
	static const char *const pal[] = {
		"", "\\Seen", "\\Answered", "\\Flagged", "\\Seen \\Answered",
		"\\Seen \\Flagged", "\\Draft", "\\Seen \\Draft",
	};
	struct events e;
	struct imap_infer *infer;
	char *buf;
	size_t len = 0, cap = 20000 * 48, i, n;
	unsigned char *uids;
	unsigned u;
	bool trunc;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = select_session(&e, 20000);
	buf = malloc(cap);
	assert_non_null(buf);
	uids = malloc(20001);
	assert_non_null(uids);
	cdata(infer, "c FETCH 1:* (UID FLAGS)\r\n");
	for (u = 1; u <= 20000; u++)
		len += (size_t)snprintf(buf + len, cap - len,
		    "* %u FETCH (UID %u FLAGS (%s))\r\n", u, u,
		    u % 2 ? "\\Seen" : "");
	imap_infer_server_data(infer, buf, len);
	sdata(infer, "c OK done\r\n");
	print_message("20,000 alternating flags learned: %zu bytes\n",
	    imap_infer_memory(infer));
	assert_true(imap_infer_memory(infer) < 32 * 1024);
	cdata(infer, "d STORE 1:* +FLAGS.SILENT (\\Seen \\Flagged)\r\n");
	sdata(infer, "d OK done\r\n");
	assert_int_equal(imap_infer_flags_unknown(infer), 0);
	memset(uids, 0, 20001);
	n = events_uids(&e, 0, MSGEVENT_MESSAGE_READ, uids, 20001, &trunc);
	print_message("10,000 UIDs read in %zu MessageRead events\n", n);
	assert_true(n > 10);
	assert_false(trunc);
	for (u = 1; u <= 20000; u++)
		assert_int_equal(uids[u], u % 2 == 0);
	memset(uids, 0, 20001);
	assert_int_equal(events_uids(&e, 0, MSGEVENT_FLAGS_SET, uids, 20001,
	    &trunc), 1);
	assert_false(trunc);
	assert_non_null(strstr(e.text[e.n - 1], " uidset=1:20000 "));
	/* now every message is \Seen \Flagged: one range */
	events_free(&e);
	cdata(infer, "f STORE 1:* -FLAGS.SILENT (\\Flagged)\r\n");
	sdata(infer, "f OK done\r\n");
	assert_int_equal(count_type(&e, MSGEVENT_FLAGS_CLEAR), 1);
	assert_false(e.ev[0].truncated);
	assert_true(imap_infer_memory(infer) < 64 * 1024);

	/* eight values in every 64 messages: more than the cache holds */
	events_free(&e);
	cdata(infer, "g FETCH 1:* (FLAGS)\r\n");
	for (len = 0, u = 1; u <= 20000; u++)
		len += (size_t)snprintf(buf + len, cap - len,
		    "* %u FETCH (FLAGS (%s))\r\n", u, pal[u % 8]);
	imap_infer_server_data(infer, buf, len);
	sdata(infer, "g OK done\r\n");
	print_message("20,000 messages of 8 flag values: %zu bytes\n",
	    imap_infer_memory(infer));
	assert_true(imap_infer_memory(infer) < 64 * 1024);
	cdata(infer, "h STORE 1:* +FLAGS.SILENT (\\Seen)\r\n");
	sdata(infer, "h OK done\r\n");
	assert_true(imap_infer_flags_unknown(infer) > 0);
	assert_true(count_type(&e, MSGEVENT_MESSAGE_READ) > 0);
	for (i = 0; i < e.n; i++)
		assert_true(e.ev[i].truncated);
	memset(uids, 0, 20001);
	(void)events_uids(&e, 0, MSGEVENT_MESSAGE_READ, uids, 20001, NULL);
	for (u = 1; u <= 20000; u++)
		if (uids[u])	/* only messages that were not \Seen */
			assert_true(strstr(pal[u % 8], "Seen") == NULL);
	free(uids);
	free(buf);
	imap_infer_free(&infer);
	events_free(&e);
}

/* ---- the bench's STORE session, against a model server ---------------- */

#define BENCH_N		20000
#define F_ANSWERED	1u
#define F_FLAGGED	2u
#define F_DELETED	4u
#define F_SEEN		8u

struct bench_model {
	unsigned flags[BENCH_N + 1];	/* by UID (UIDs are 1..N) */
	uint32_t uid[BENCH_N + 1];	/* by sequence number */
	uint32_t count;
	char *buf;
	size_t cap;
};

static const char *
bench_flags(unsigned f)
{
	static char s[64];

	snprintf(s, sizeof(s), "%s%s%s%s", f & F_ANSWERED ? "\\Answered " : "",
	    f & F_FLAGGED ? "\\Flagged " : "", f & F_DELETED ? "\\Deleted " :
	    "", f & F_SEEN ? "\\Seen " : "");
	if (s[0] != '\0')
		s[strlen(s) - 1] = '\0';
	return s;
}

/* The UIDs of the events of TYPE (FlagsSet/Clear: of FLAGS) since I0. */
static void
bench_got(const struct events *e, size_t i0, enum msgevent_type type,
    const char *flags, unsigned char *bits)
{
	struct events one;
	const char *v;
	size_t i, len;

	memset(bits, 0, BENCH_N + 1);
	for (i = i0; i < e->n; i++) {
		if (e->ev[i].type != type)
			continue;
		if (flags != NULL && ((v = msgevent_get(&e->ev[i],
		    MSGEVENT_P_FLAG_NAMES, &len)) == NULL ||
		    len != strlen(flags) || memcmp(v, flags, len) != 0))
			continue;
		assert_false(e->ev[i].truncated);
		one.ev = &e->ev[i];
		one.n = 1;
		(void)events_uids(&one, 0, type, bits, BENCH_N + 1, NULL);
	}
}

/*
 * "STORE SET OP (LIST)" by sequence number, answered as Dovecot does
 * (a FETCH of the flags of each message that changed), and its events
 * checked against the model: each change's UIDs, all of them, in events
 * that are not truncated.
 */
static void
bench_store(struct imap_infer *infer, struct events *e, struct bench_model *m,
    const char *set, char op, unsigned list, const char *tag)
{
	static unsigned char want[5][BENCH_N + 1], got[BENCH_N + 1];
	static const enum msgevent_type types[5] = {
		MSGEVENT_MESSAGE_READ, MSGEVENT_MESSAGE_TRASH,
		MSGEVENT_FLAGS_SET, MSGEVENT_FLAGS_CLEAR, MSGEVENT_FLAGS_SET,
	};
	struct imap_set_iter it;
	char line[8192];
	size_t len = 0, i0 = e->n;
	uint32_t a, b, q, u;
	unsigned old, now, set_other = 0, clr = 0;
	int k;

	memset(want, 0, sizeof(want));
	snprintf(line, sizeof(line), "%s STORE %s %sFLAGS (%s)\r\n", tag, set,
	    op == '=' ? "" : op == '+' ? "+" : "-", bench_flags(list));
	cdata(infer, line);
	imap_set_iter_init(&it, set, strlen(set), m->count, m->count);
	while (imap_set_iter_next(&it, &a, &b) == 1) {
		for (q = a; q <= b; q++) {
			u = m->uid[q];
			old = m->flags[u];
			now = op == '+' ? old | list : op == '-' ? old & ~list :
			    list;
			if (now == old)
				continue;
			m->flags[u] = now;
			len += (size_t)snprintf(m->buf + len, m->cap - len,
			    "* %u FETCH (FLAGS (%s))\r\n", q, bench_flags(now));
			want[0][u] = (now & ~old & F_SEEN) != 0;
			want[1][u] = (now & ~old & F_DELETED) != 0;
			if (now & ~old & (F_ANSWERED | F_FLAGGED)) {
				/* one FlagsSet value at most in this session */
				assert_true(set_other == 0 || set_other ==
				    (now & ~old & (F_ANSWERED | F_FLAGGED)));
				set_other = now & ~old & (F_ANSWERED |
				    F_FLAGGED);
				want[2][u] = 1;
			}
			if (old & ~now) {
				assert_true(clr == 0 || clr == (old & ~now));
				clr = old & ~now;
				want[3][u] = 1;
			}
		}
	}
	len += (size_t)snprintf(m->buf + len, m->cap - len, "%s OK Store "
	    "completed.\r\n", tag);
	imap_infer_server_data(infer, m->buf, len);
	for (k = 0; k < 4; k++) {
		bench_got(e, i0, types[k], k == 2 ? bench_flags(set_other) :
		    k == 3 ? bench_flags(clr) : NULL, got);
		if (memcmp(got, want[k], sizeof(got)) != 0) {
			for (u = 1; u <= BENCH_N && got[u] == want[k][u]; u++)
				continue;
			fail_msg("%s: %s of UID %u: got %d, want %d", line,
			    msgevent_type_name(types[k]), u, got[u],
			    want[k][u]);
		}
	}
}

/*
 * scripts/bench.py's STORE session ("seqstore"), in process: a mailbox
 * of 20,000 messages whose flags alternate every few messages (every
 * third \Seen, every seventh \Flagged \Seen), fetched whole by the
 * client, then +FLAGS (\Seen) on all, -FLAGS on a tenth, +FLAGS on 20
 * ranges, 100 single-message STOREs, a FLAGS replace on a quarter,
 * \Deleted on a fifth and scattered messages, EXPUNGE.  Every change of
 * every command is reported, in events none of which is truncated: in
 * particular the MessageRead of the messages the replace gave \Seen back
 * (the bench found it missing), and the replace's flagNames whole.  The
 * session stays under 64 KiB throughout.
 */
static void
test_replace_seen_big(void **state)
{
	struct bench_model *m;
	struct events e;
	struct imap_infer *infer;
	char set[4096], tag[16];
	size_t len = 0, peak = 0, n, k;
	unsigned i, q;

	(void)state;
	m = calloc(1, sizeof(*m));
	assert_non_null(m);
	m->cap = (size_t)BENCH_N * 64;
	m->buf = malloc(m->cap);
	assert_non_null(m->buf);
	m->count = BENCH_N;
	for (i = 0; i < BENCH_N; i++) {
		m->uid[i + 1] = i + 1;
		m->flags[i + 1] = i % 3 == 0 ? F_SEEN : i % 7 == 0 ?
		    F_FLAGGED | F_SEEN : 0;
	}
	memset(&e, 0, sizeof(e));
	infer = select_session(&e, BENCH_N);
	cdata(infer, "c UID FETCH 1:* (UID FLAGS)\r\n");
	for (q = 1; q <= BENCH_N; q++)
		len += (size_t)snprintf(m->buf + len, m->cap - len,
		    "* %u FETCH (UID %u FLAGS (%s))\r\n", q, q,
		    bench_flags(m->flags[q]));
	len += (size_t)snprintf(m->buf + len, m->cap - len, "c OK done\r\n");
	imap_infer_server_data(infer, m->buf, len);
	bench_store(infer, &e, m, "1:20000", '+', F_SEEN, "s1");
	peak = imap_infer_memory(infer);
	bench_store(infer, &e, m, "1:2000", '-', F_SEEN, "s2");
	for (len = 0, k = 500; k + 99 <= BENCH_N; k += 1000)
		len += (size_t)snprintf(set + len, sizeof(set) - len,
		    "%s%zu:%zu", len ? "," : "", k, k + 99);
	bench_store(infer, &e, m, set, '+', F_FLAGGED, "s3");
	for (i = 0; i < 100; i++) {
		snprintf(set, sizeof(set), "%u", 7 + i * 200);
		snprintf(tag, sizeof(tag), "t%u", i);
		bench_store(infer, &e, m, set, i % 2 ? '-' : '+',
		    i % 2 ? F_SEEN : F_ANSWERED, tag);
		if (imap_infer_memory(infer) > peak)
			peak = imap_infer_memory(infer);
	}
	n = e.n;
	bench_store(infer, &e, m, "5001:10000", '=', F_SEEN | F_ANSWERED,
	    "s4");
	/* the \Seen given back: messages 5007, 5407, ... 9807 */
	for (k = n; k < e.n && e.ev[k].type != MSGEVENT_MESSAGE_READ; k++)
		continue;
	assert_true(k < e.n);
	assert_non_null(strstr(e.text[k], " uidset=5007,5407,5807,"));
	len = (size_t)snprintf(set, sizeof(set), "12001:16000");
	for (q = 16001; q <= BENCH_N; q += 97)
		len += (size_t)snprintf(set + len, sizeof(set) - len, ",%u",
		    q);
	bench_store(infer, &e, m, set, '+', F_DELETED, "s5");
	if (imap_infer_memory(infer) > peak)
		peak = imap_infer_memory(infer);
	print_message("the bench's STORE session: %zu events, peak %zu "
	    "bytes, %llu flag changes unknown\n", e.n, peak,
	    (unsigned long long)imap_infer_flags_unknown(infer));
	assert_int_equal(imap_infer_flags_unknown(infer), 0);
	assert_true(peak < 48 * 1024);
	imap_infer_free(&infer);
	events_free(&e);
	free(m->buf);
	free(m);
}

/*
 * Dovecot runs a command at the CR ending its line and may answer before
 * the LF arrives, i.e. before the client parser delivers the command
 * word (the differential test found it, a burst cutting "NOOP\r" from
 * "\n").  That command must not stay pending: the MOVE after it gets
 * the untagged COPYUID and EXPUNGE.
 */
static void
test_answered_at_cr(void **state)
{
	struct events e;
	struct imap_infer *infer;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = select_session(&e, 3);
	cdata(infer, "c FETCH 1:3 (UID)\r\n");
	sdata(infer, "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n"
	    "* 3 FETCH (UID 3)\r\nc OK done\r\n");
	cdata(infer, "d ");
	cdata(infer, "NOOP\r");
	sdata(infer, "d OK NOOP completed\r\n");
	cdata(infer, "\n");
	cdata(infer, "f MOVE 2 Archive\r\n");
	sdata(infer, "* OK [COPYUID 9 2 40] Moved\r\n* 2 EXPUNGE\r\n"
	    "f OK Move completed\r\n");
	assert_int_equal(count_type(&e, MSGEVENT_MESSAGE_APPEND), 1);
	assert_int_equal(count_type(&e, MSGEVENT_MESSAGE_EXPUNGE), 1);
	assert_non_null(strstr(e.text[e.n - 2], " uidset=40"));
	assert_non_null(strstr(e.text[e.n - 1], " uidset=2 "));
	/* a SELECT answered so: its mailbox is not followed */
	cdata(infer, "g SELECT Other\r");
	sdata(infer, "* 1 EXISTS\r\ng OK [READ-WRITE] done\r\n");
	cdata(infer, "\n");
	cdata(infer, "h EXPUNGE\r\n");
	sdata(infer, "* 1 EXPUNGE\r\nh OK done\r\n");
	assert_int_equal(count_type(&e, MSGEVENT_MESSAGE_EXPUNGE), 1);
	imap_infer_free(&infer);
	events_free(&e);
}

/* ---- main ------------------------------------------------------------- */

static const char *
transcript_dir(int argc, char **argv)
{
	static const char *const dirs[] = {
		"../transcripts", "tests/transcripts",
	};
	struct stat st;
	size_t i;

	if (argc > 1)
		return argv[1];
	if (getenv("TRANSCRIPT_DIR") != NULL)
		return getenv("TRANSCRIPT_DIR");
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			return dirs[i];
	return dirs[0];
}

/* ---- the proxy's own questions ------------------------------------------ */

static void
feed_c(struct imap_infer *infer, const char *s)
{
	imap_infer_client_data(infer, s, strlen(s));
}

static void
feed_s(struct imap_infer *infer, const char *s)
{
	imap_infer_server_data(infer, s, strlen(s));
}

/* The question for LINE, or "" when none. */
static const char *
ask(struct imap_infer *infer, const char *line)
{
	static struct imap_ask_query q;

	memset(&q, 0, sizeof(q));
	if (imap_infer_ask(infer, line, strlen(line), &q) == 0)
		return "";
	assert_int_equal(q.line_len, strlen(q.line));
	return q.line;
}

/*
 * When the proxy asks, and what: only what the command needs and the
 * traffic did not tell, never while something is pending, never in a
 * read-only mailbox; the answer teaches the inference, and a STORE
 * after it gives its event with the right UID.
 */
static void
test_ask(void **state)
{
	struct events e;
	struct imap_infer *infer;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	/* not logged in, nothing selected */
	assert_string_equal(ask(infer, "a STORE 1 +FLAGS (\\Seen)\r\n"), "");
	feed_c(infer, "a LOGIN alice pw\r\n");
	feed_s(infer, "a OK done\r\n");
	assert_false(imap_infer_may_ask(infer));
	feed_c(infer, "b SELECT INBOX\r\n");
	feed_s(infer, "* 4 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n"
	    "b OK [READ-WRITE] done\r\n");
	assert_true(imap_infer_may_ask(infer));
	/* commands that need nothing */
	assert_string_equal(ask(infer, "c NOOP\r\n"), "");
	assert_string_equal(ask(infer, "c FETCH 1:* (FLAGS)\r\n"), "");
	assert_string_equal(ask(infer, "c FETCH 2 (BODY.PEEK[] UID)\r\n"), "");
	assert_string_equal(ask(infer, "c COPY 1 Trash\r\n"), "");
	assert_string_equal(ask(infer, "c STORE $ +FLAGS (\\Seen)\r\n"), "");
	/* what they need */
	assert_string_equal(ask(infer, "c STORE 2:3 +FLAGS (\\Seen)\r\n"),
	    "msgeventd1 FETCH 2:3 (UID FLAGS)\r\n");
	/* the question is read as a command: now one is pending */
	assert_false(imap_infer_may_ask(infer));
	feed_s(infer, "* 2 FETCH (UID 12 FLAGS ())\r\n"
	    "* 3 FETCH (UID 13 FLAGS (\\Seen))\r\nmsgeventd1 OK done\r\n");
	assert_int_equal(e.n, 1);		/* the Login */
	assert_string_equal(ask(infer, "c STORE 2:3 +FLAGS (\\Seen)\r\n"), "");
	assert_string_equal(ask(infer, "c FETCH 3 (BODY[])\r\n"), "");
	assert_string_equal(ask(infer, "c FETCH 1 (UID BODY[TEXT])\r\n"),
	    "msgeventd2 FETCH 1 (UID FLAGS)\r\n");
	feed_s(infer, "* 1 FETCH (UID 11 FLAGS (\\Answered))\r\n"
	    "msgeventd2 OK done\r\n");
	assert_string_equal(ask(infer, "c UID STORE 11:13 -FLAGS (\\Seen)\r\n"),
	    "");
	assert_string_equal(ask(infer, "c UID STORE 11:14 -FLAGS (\\Seen)\r\n"),
	    "msgeventd3 UID FETCH 14 (UID FLAGS)\r\n");
	feed_s(infer, "* 4 FETCH (UID 14 FLAGS ())\r\nmsgeventd3 OK done\r\n");
	/* every UID known now: EXPUNGE and CLOSE need nothing */
	assert_string_equal(ask(infer, "c EXPUNGE\r\n"), "");
	assert_string_equal(ask(infer, "c CLOSE\r\n"), "");
	/* the STORE itself, by sequence number: the event has the UID */
	feed_c(infer, "d STORE 2 +FLAGS (\\Seen)\r\n");
	feed_s(infer, "* 2 FETCH (FLAGS (\\Seen))\r\nd OK done\r\n");
	assert_int_equal(e.n, 2);
	assert_int_equal(e.ev[1].type, MSGEVENT_MESSAGE_READ);
	assert_non_null(strstr(e.text[1], "uidset=12"));
	/* a new message: its UID is unknown until asked */
	feed_c(infer, "e NOOP\r\n");
	feed_s(infer, "* 5 EXISTS\r\ne OK done\r\n");
	assert_string_equal(ask(infer, "f EXPUNGE\r\n"),
	    "msgeventd4 FETCH 5 (UID FLAGS)\r\n");
	feed_s(infer, "* 5 FETCH (UID 20 FLAGS ())\r\nmsgeventd4 OK done\r\n");
	/* pipelined: something pending, no question */
	feed_c(infer, "g NOOP\r\n");
	assert_string_equal(ask(infer, "h STORE 1 +FLAGS (\\Seen)\r\n"), "");
	feed_s(infer, "g OK done\r\n");
	/* IDLE running: none */
	feed_c(infer, "i IDLE\r\n");
	feed_s(infer, "+ idling\r\n");
	assert_false(imap_infer_may_ask(infer));
	feed_c(infer, "DONE\r\n");
	feed_s(infer, "i OK done\r\n");
	assert_true(imap_infer_may_ask(infer));
	/* read-only: STORE fails, FETCH sets no \Seen, nothing expunges */
	feed_c(infer, "j EXAMINE INBOX\r\n");
	feed_s(infer, "* 6 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n"
	    "j OK [READ-ONLY] done\r\n");
	assert_string_equal(ask(infer, "k STORE 6 +FLAGS (\\Seen)\r\n"), "");
	assert_string_equal(ask(infer, "k FETCH 6 BODY[]\r\n"), "");
	assert_string_equal(ask(infer, "k CLOSE\r\n"), "");
	assert_int_equal(imap_infer_asked(infer), 4);
	imap_infer_free(&infer);
	events_free(&e);
}

/* ---- sessions sharing a registry (MessageNew, external expunges) ------- */

/* A session of the proxy: its events, its inference. */
struct peer {
	struct events e;
	struct imap_infer *infer;
};

static void
peer_new(struct peer *p, struct imap_registry *reg, uint64_t id)
{
	struct imap_infer_env env;

	memset(p, 0, sizeof(*p));
	memset(&env, 0, sizeof(env));
	env.client_ip = TRANSCRIPT_ENV_CLIENT_IP;
	env.client_port = (uint16_t)(TRANSCRIPT_ENV_CLIENT_PORT + id);
	env.server_domain = TRANSCRIPT_ENV_SERVER_DOMAIN;
	env.server_port = TRANSCRIPT_ENV_SERVER_PORT;
	env.server_fqdn = TRANSCRIPT_ENV_SERVER_FQDN;
	env.service = TRANSCRIPT_ENV_SERVICE;
	env.session_id = id;
	env.registry = reg;
	env.backend = "127.0.0.1:143";
	env.emit = events_emit;
	env.ctx = &p->e;
	p->infer = imap_infer_new(&env);
	assert_non_null(p->infer);
	cdata(p->infer, "a LOGIN alice pw\r\n");
	sdata(p->infer, "a OK done\r\n");
}

/* INBOX selected, N messages with UIDs 1..N known. */
static void
peer_select(struct peer *p, unsigned n)
{
	char line[128];
	unsigned i;

	cdata(p->infer, "b SELECT INBOX\r\n");
	snprintf(line, sizeof(line), "* %u EXISTS\r\n* OK [UIDVALIDITY 7] "
	    "Ok\r\n* OK [UIDNEXT %u] Ok\r\nb OK [READ-WRITE] Ok\r\n", n, n + 1);
	sdata(p->infer, line);
	cdata(p->infer, "c FETCH 1:* (UID)\r\n");
	for (i = 1; i <= n; i++) {
		snprintf(line, sizeof(line), "* %u FETCH (UID %u)\r\n", i, i);
		sdata(p->infer, line);
	}
	sdata(p->infer, "c OK done\r\n");
}

static void
peer_free(struct peer *p)
{
	imap_infer_free(&p->infer);
	events_free(&p->e);
}

/* The one event of P of TYPE, or fails. */
static const char *
peer_event(const struct peer *p, enum msgevent_type type)
{
	size_t i, found = p->e.n;

	for (i = 0; i < p->e.n; i++)
		if (p->e.ev[i].type == type) {
			assert_int_equal(found, p->e.n);	/* once */
			found = i;
		}
	assert_true(found < p->e.n);
	return p->e.text[found];
}

/*
 * Session A appends to INBOX while B idles in it; the server tells B
 * of the new message before A's tagged OK arrives.  One MessageAppend
 * (A), no MessageNew (B), whenever B learns the UID.
 */
static void
test_shared_append_idle(void **state)
{
	struct imap_registry *reg = imap_registry_new(NULL);
	struct peer a, b;
	uint32_t first = 0, last = 0;

	(void)state;
	peer_new(&a, reg, 1);
	peer_new(&b, reg, 2);
	peer_select(&b, 3);
	cdata(b.infer, "d IDLE\r\n");
	sdata(b.infer, "+ idling\r\n");
	cdata(a.infer, "e APPEND INBOX {5+}\r\nHello\r\n");
	sdata(b.infer, "* 4 EXISTS\r\n");
	assert_true(imap_infer_new_unknown(b.infer, &first, &last));
	assert_int_equal(first, 4);
	assert_int_equal(last, 4);
	sdata(a.infer, "e OK [APPENDUID 7 4] Append completed.\r\n");
	cdata(b.infer, "DONE\r\n");
	sdata(b.infer, "d OK Idle completed.\r\n");
	cdata(b.infer, "f FETCH 4 (UID)\r\n");
	sdata(b.infer, "* 4 FETCH (UID 4)\r\nf OK done\r\n");
	assert_false(imap_infer_new_unknown(b.infer, &first, &last));
	assert_non_null(strstr(peer_event(&a, MSGEVENT_MESSAGE_APPEND),
	    "uidset=4"));
	assert_int_equal(count_type(&b.e, MSGEVENT_MESSAGE_NEW), 0);
	assert_int_equal(count_type(&a.e, MSGEVENT_MESSAGE_NEW), 0);
	assert_int_equal(b.e.n, 1);		/* its Login */
	assert_int_equal(imap_infer_foreign_unknown(b.infer), 0);
	peer_free(&a);
	peer_free(&b);
	imap_registry_free(&reg);
}

/*
 * B learns the new messages' UIDs before A's OK: it waits for A's
 * command, then decides when A's completion wakes it.  A message
 * delivered meanwhile is new all the same.
 */
static void
test_shared_exists_before_ok(void **state)
{
	struct imap_registry *reg = imap_registry_new(NULL);
	struct peer a, b;

	(void)state;
	peer_new(&a, reg, 1);
	peer_new(&b, reg, 2);
	peer_select(&b, 3);
	cdata(a.infer, "e APPEND INBOX {5+}\r\nHello\r\n");
	cdata(b.infer, "f NOOP\r\n");
	/* 4 delivered by the MTA, 5 A's */
	sdata(b.infer, "* 5 EXISTS\r\nf OK done\r\n");
	cdata(b.infer, "g FETCH 4:5 (UID)\r\n");
	sdata(b.infer, "* 4 FETCH (UID 4)\r\n* 5 FETCH (UID 5)\r\n"
	    "g OK done\r\n");
	assert_int_equal(count_type(&b.e, MSGEVENT_MESSAGE_NEW), 0);
	/* A's OK: B decides at once, outside its own data */
	sdata(a.infer, "e OK [APPENDUID 7 5] Append completed.\r\n");
	assert_int_equal(count_type(&a.e, MSGEVENT_MESSAGE_APPEND), 1);
	assert_string_equal(peer_event(&b, MSGEVENT_MESSAGE_NEW),
	    "MessageNew user=alice serverFQDN=imap1.example.net "
	    "uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7/;UID=4 "
	    "mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 "
	    "uidset=4 messages=5");
	assert_int_equal(count_type(&a.e, MSGEVENT_MESSAGE_NEW), 0);
	peer_free(&a);
	peer_free(&b);
	imap_registry_free(&reg);
}

/*
 * A delivery seen by B and C (and by A, which selects INBOX too, with a
 * COPY of its own into it in the same batch): one MessageNew.
 */
static void
test_shared_delivery(void **state)
{
	struct imap_registry *reg = imap_registry_new(NULL);
	struct peer a, b, c;

	(void)state;
	peer_new(&a, reg, 1);
	peer_new(&b, reg, 2);
	peer_new(&c, reg, 3);
	peer_select(&a, 3);
	peer_select(&b, 3);
	peer_select(&c, 3);
	/* A copies message 1 into INBOX: UID 5; 4 is a delivery */
	cdata(a.infer, "d COPY 1 INBOX\r\n");
	sdata(a.infer, "* 5 EXISTS\r\nd OK [COPYUID 7 1 5] Done\r\n");
	cdata(c.infer, "d NOOP\r\n");
	sdata(c.infer, "* 5 EXISTS\r\nd OK done\r\n");
	cdata(c.infer, "e UID FETCH 4:* (UID FLAGS)\r\n");
	sdata(c.infer, "* 4 FETCH (UID 4 FLAGS ())\r\n"
	    "* 5 FETCH (UID 5 FLAGS ())\r\ne OK done\r\n");
	cdata(b.infer, "d IDLE\r\n");
	sdata(b.infer, "+ idling\r\n* 5 EXISTS\r\n");
	cdata(b.infer, "DONE\r\n");
	sdata(b.infer, "d OK done\r\n");
	cdata(b.infer, "e FETCH 4:5 (UID)\r\n");
	sdata(b.infer, "* 4 FETCH (UID 4)\r\n* 5 FETCH (UID 5)\r\n"
	    "e OK done\r\n");
	cdata(a.infer, "e FETCH 4:5 (UID)\r\n");
	sdata(a.infer, "* 4 FETCH (UID 4)\r\n* 5 FETCH (UID 5)\r\n"
	    "e OK done\r\n");
	assert_non_null(strstr(peer_event(&c, MSGEVENT_MESSAGE_NEW),
	    " uidset=4 "));
	assert_int_equal(count_type(&b.e, MSGEVENT_MESSAGE_NEW), 0);
	assert_int_equal(count_type(&a.e, MSGEVENT_MESSAGE_NEW), 0);
	assert_non_null(strstr(peer_event(&a, MSGEVENT_MESSAGE_APPEND),
	    " uidset=5"));
	peer_free(&a);
	peer_free(&b);
	peer_free(&c);
	imap_registry_free(&reg);
}

/*
 * A's EXPUNGE, which B sees before A's OK: one MessageExpunge (A's),
 * nothing from B.  Then a removal nobody here made, seen by A and B:
 * one external MessageExpunge.
 */
static void
test_shared_expunge(void **state)
{
	struct imap_registry *reg = imap_registry_new(NULL);
	struct peer a, b;

	(void)state;
	peer_new(&a, reg, 1);
	peer_new(&b, reg, 2);
	peer_select(&a, 4);
	peer_select(&b, 4);
	cdata(a.infer, "d STORE 2 +FLAGS.SILENT (\\Deleted)\r\n");
	sdata(a.infer, "d OK done\r\n");
	cdata(a.infer, "e EXPUNGE\r\n");
	cdata(b.infer, "d NOOP\r\n");
	sdata(b.infer, "* 2 EXPUNGE\r\nd OK done\r\n");
	assert_int_equal(b.e.n, 1);
	sdata(a.infer, "* 2 EXPUNGE\r\ne OK Expunged.\r\n");
	assert_non_null(strstr(peer_event(&a, MSGEVENT_MESSAGE_EXPUNGE),
	    "uidset=2 "));
	assert_int_equal(b.e.n, 1);
	/* removed by a client that does not go through the proxy */
	cdata(b.infer, "e IDLE\r\n");
	sdata(b.infer, "+ idling\r\n* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n");
	assert_int_equal(b.e.n, 1);	/* the run goes on */
	cdata(b.infer, "DONE\r\n");
	sdata(b.infer, "e OK done\r\n");
	assert_string_equal(peer_event(&b, MSGEVENT_MESSAGE_EXPUNGE),
	    "MessageExpunge user=alice serverFQDN=imap1.example.net "
	    "uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 "
	    "mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 "
	    "uidset=1,3 uidnext=5 messages=1 vnd.msgeventd.cause=external");
	cdata(a.infer, "f NOOP\r\n");
	sdata(a.infer, "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\nf OK done\r\n");
	assert_int_equal(count_type(&a.e, MSGEVENT_MESSAGE_EXPUNGE), 1);
	peer_free(&a);
	peer_free(&b);
	imap_registry_free(&reg);
}

/*
 * New messages whose UIDs the client does not fetch: the proxy asks for
 * them before the client's next command (imap_infer_ask()), and the
 * answer decides them.
 */
static void
test_ask_new(void **state)
{
	struct imap_registry *reg = imap_registry_new(NULL);
	struct peer b;

	(void)state;
	peer_new(&b, reg, 2);
	peer_select(&b, 3);
	cdata(b.infer, "d IDLE\r\n");
	sdata(b.infer, "+ idling\r\n* 5 EXISTS\r\n");
	cdata(b.infer, "DONE\r\n");
	sdata(b.infer, "d OK done\r\n");
	assert_string_equal(ask(b.infer, "e SELECT Archive\r\n"),
	    "msgeventd1 FETCH 4:5 (UID FLAGS)\r\n");
	sdata(b.infer, "* 5 FETCH (UID 5 FLAGS ())\r\n"
	    "* 4 FETCH (UID 4 FLAGS ())\r\nmsgeventd1 OK done\r\n");
	assert_non_null(strstr(peer_event(&b, MSGEVENT_MESSAGE_NEW),
	    " uidset=4:5 "));
	/* one unknown left: asked alone */
	cdata(b.infer, "f NOOP\r\n");
	sdata(b.infer, "* 6 EXISTS\r\nf OK done\r\n");
	assert_string_equal(ask(b.infer, "g NOOP\r\n"),
	    "msgeventd2 FETCH 6 (UID FLAGS)\r\n");
	sdata(b.infer, "* 6 FETCH (UID 6 FLAGS ())\r\nmsgeventd2 OK done\r\n");
	assert_int_equal(count_type(&b.e, MSGEVENT_MESSAGE_NEW), 2);
	assert_string_equal(ask(b.infer, "h NOOP\r\n"), "");
	peer_free(&b);
	imap_registry_free(&reg);
}

/*
 * What cannot be decided is counted, never guessed: B leaves INBOX
 * while A's APPEND, which may explain B's new message, is in flight.
 */
static void
test_shared_give_up(void **state)
{
	struct imap_registry *reg = imap_registry_new(NULL);
	struct peer a, b;

	(void)state;
	peer_new(&a, reg, 1);
	peer_new(&b, reg, 2);
	peer_select(&b, 3);
	cdata(a.infer, "e APPEND INBOX {5+}\r\nHello\r\n");
	cdata(b.infer, "f NOOP\r\n");
	sdata(b.infer, "* 4 EXISTS\r\nf OK done\r\n");
	cdata(b.infer, "g FETCH 4 (UID)\r\n");
	sdata(b.infer, "* 4 FETCH (UID 4)\r\ng OK done\r\n");
	cdata(b.infer, "h UNSELECT\r\n");
	sdata(b.infer, "h OK done\r\n");
	assert_int_equal(imap_infer_foreign_unknown(b.infer), 1);
	sdata(a.infer, "e OK [APPENDUID 7 4] Append completed.\r\n");
	assert_int_equal(count_type(&b.e, MSGEVENT_MESSAGE_NEW), 0);
	/* B ends while waiting: nothing either, and its wait is gone */
	peer_select(&b, 4);
	cdata(a.infer, "i APPEND INBOX {5+}\r\nHello\r\n");
	cdata(b.infer, "f NOOP\r\n");
	sdata(b.infer, "* 5 EXISTS\r\nf OK done\r\n");
	cdata(b.infer, "g FETCH 5 (UID)\r\n");
	sdata(b.infer, "* 5 FETCH (UID 5)\r\ng OK done\r\n");
	imap_infer_end(b.infer, IMAP_INFER_END_ABORT);
	peer_free(&b);
	sdata(a.infer, "i OK [APPENDUID 7 5] Append completed.\r\n");
	peer_free(&a);
	imap_registry_free(&reg);
}

/*
 * What a session learns of the subscription list is capped
 * (IMAP_INFER_SUBS_BYTES): a listing of more names forgets the oldest,
 * whose state is unknown again (a SUBSCRIBE of one is reported), and no
 * longer says that every other name is unsubscribed.
 */
static void
test_subscriptions_cap(void **state)
{
	struct events e;
	struct imap_infer *infer;
	char line[128];
	size_t before;
	unsigned i;

	(void)state;
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	cdata(infer, "a LOGIN alice pw\r\n");
	sdata(infer, "a OK done\r\n");
	before = imap_infer_memory(infer);
	/* a listing that fits: complete */
	cdata(infer, "b LSUB \"\" \"*\"\r\n");
	sdata(infer, "* LSUB () \".\" Kept\r\nb OK done\r\n");
	cdata(infer, "c UNSUBSCRIBE Other\r\n");
	sdata(infer, "c OK done\r\n");
	assert_int_equal(count_type(&e, MSGEVENT_MAILBOX_UNSUBSCRIBE), 0);
	/* one that does not */
	cdata(infer, "d LSUB \"\" \"*\"\r\n");
	for (i = 0; i < 2000; i++) {
		snprintf(line, sizeof(line), "* LSUB () \".\" Folder%04u\r\n",
		    i);
		sdata(infer, line);
	}
	sdata(infer, "d OK done\r\n");
	assert_true(imap_infer_memory(infer) <=
	    before + IMAP_INFER_SUBS_BYTES + 64);
	/* the newest are kept, the oldest forgotten */
	cdata(infer, "e SUBSCRIBE Folder1999\r\n");
	sdata(infer, "e OK done\r\n");
	assert_int_equal(count_type(&e, MSGEVENT_MAILBOX_SUBSCRIBE), 0);
	cdata(infer, "f SUBSCRIBE Folder0000\r\n");
	sdata(infer, "f OK done\r\n");
	assert_int_equal(count_type(&e, MSGEVENT_MAILBOX_SUBSCRIBE), 1);
	/* a name the listing did not give may be subscribed: unknown */
	cdata(infer, "g UNSUBSCRIBE Other\r\n");
	sdata(infer, "g OK done\r\n");
	assert_int_equal(count_type(&e, MSGEVENT_MAILBOX_UNSUBSCRIBE), 1);
	/* a name longer than a quarter of the cap is never kept */
	memset(line, 'x', sizeof(line));
	imap_infer_client_data(infer, "h SUBSCRIBE ", 12);
	for (i = 0; i < IMAP_INFER_SUBS_BYTES / 4 / sizeof(line) + 1; i++)
		imap_infer_client_data(infer, line, sizeof(line));
	cdata(infer, "\r\n");
	sdata(infer, "h OK done\r\n");
	assert_int_equal(count_type(&e, MSGEVENT_MAILBOX_SUBSCRIBE), 2);
	imap_infer_free(&infer);
	events_free(&e);
}

/*
 * Three sessions of alice in INBOX, sharing a registry, against a model
 * server: random deliveries and expunges by nobody here, APPENDs (now
 * and then without APPENDUID) and UID EXPUNGEs by the sessions (their tagged OK sometimes held back while
 * the others run commands and learn the change first), NOOPs and
 * FETCHes of UIDs.  The server tells each session its changes, in
 * order, when it runs a command.  Then every session fetches every UID.
 * MessageNew must name deliveries only, each once, and every delivery
 * still there (unless an APPEND's UID was not told); external
 * MessageExpunge removals by nobody here only, each once.
 */
#define RS_SESSIONS	3
#define RS_UIDS		400

struct rs_session {
	struct peer p;
	uint32_t view[RS_UIDS];		/* the UIDs it was told of, in order */
	uint32_t nview;
	int32_t pend[RS_UIDS * 2];	/* +uid added, -uid removed, untold */
	uint32_t npend;
	unsigned tag;
};

struct rs_model {
	struct rs_session s[RS_SESSIONS];
	uint8_t kind[RS_UIDS];		/* 0 none, 1 delivered, 2 appended */
	uint8_t gone[RS_UIDS];		/* 0 present, 1 external, 2 own */
	uint32_t next;
	uint64_t seed;
	bool blind;			/* an APPEND without APPENDUID */
};

static void
rs_change(struct rs_model *m, int32_t change)
{
	unsigned i;

	for (i = 0; i < RS_SESSIONS; i++) {
		assert_true(m->s[i].npend < RS_UIDS * 2);
		m->s[i].pend[m->s[i].npend++] = change;
	}
}

/* The server tells session S what it has not told it yet. */
static void
rs_flush(struct rs_session *s)
{
	char line[64];
	uint32_t i, j, uid;
	bool grew = false;

	for (i = 0; i < s->npend; i++) {
		if (s->pend[i] > 0) {
			s->view[s->nview++] = (uint32_t)s->pend[i];
			grew = true;
			if (i + 1 < s->npend && s->pend[i + 1] > 0)
				continue;
			snprintf(line, sizeof(line), "* %u EXISTS\r\n",
			    s->nview);
			sdata(s->p.infer, line);
			grew = false;
			continue;
		}
		uid = (uint32_t)-s->pend[i];
		for (j = 0; j < s->nview && s->view[j] != uid; j++)
			continue;
		assert_true(j < s->nview);
		snprintf(line, sizeof(line), "* %u EXPUNGE\r\n", j + 1);
		sdata(s->p.infer, line);
		memmove(&s->view[j], &s->view[j + 1],
		    (s->nview - j - 1) * sizeof(s->view[0]));
		s->nview--;
	}
	assert_false(grew);
	s->npend = 0;
}

static void
rs_cmd(struct rs_session *s, char *tag, size_t size, const char *text)
{
	char line[128];

	snprintf(tag, size, "t%u", s->tag++);
	snprintf(line, sizeof(line), "%s %s\r\n", tag, text);
	cdata(s->p.infer, line);
}

static void
rs_ok(struct rs_session *s, const char *tag, const char *code)
{
	char line[128];

	snprintf(line, sizeof(line), "%s OK %sdone\r\n", tag, code);
	sdata(s->p.infer, line);
}

static void
rs_noop(struct rs_session *s)
{
	char tag[16];

	rs_cmd(s, tag, sizeof(tag), "NOOP");
	rs_flush(s);
	rs_ok(s, tag, "");
}

static void
rs_fetch(struct rs_session *s)
{
	char tag[16], line[64];
	uint32_t i;

	rs_cmd(s, tag, sizeof(tag), "UID FETCH 1:* (UID)");
	rs_flush(s);
	for (i = 0; i < s->nview; i++) {
		snprintf(line, sizeof(line), "* %u FETCH (UID %u)\r\n", i + 1,
		    s->view[i]);
		sdata(s->p.infer, line);
	}
	rs_ok(s, tag, "");
}

/* Others run a command or not, while a command of S is in flight. */
static void
rs_meanwhile(struct rs_model *m, unsigned self)
{
	unsigned i;

	for (i = 0; i < RS_SESSIONS; i++)
		if (i != self && rnd(&m->seed) % 3 == 0) {
			if (rnd(&m->seed) % 2)
				rs_noop(&m->s[i]);
			else
				rs_fetch(&m->s[i]);
		}
}

/* A present UID, or 0. */
static uint32_t
rs_present(struct rs_model *m)
{
	uint32_t u, k;

	for (k = 0; k < 8; k++) {
		u = 1 + (uint32_t)(rnd(&m->seed) % (m->next - 1 + 1));
		if (u < m->next && m->kind[u] != 0 && m->gone[u] == 0)
			return u;
	}
	return 0;
}

static void
rs_step(struct rs_model *m)
{
	struct rs_session *s = &m->s[rnd(&m->seed) % RS_SESSIONS];
	unsigned self = (unsigned)(s - m->s);
	char tag[16], text[64], code[64];
	uint32_t u;

	switch (rnd(&m->seed) % 7) {
	case 0:		/* delivered by the MTA */
		m->kind[m->next] = 1;
		rs_change(m, (int32_t)m->next++);
		break;
	case 1:		/* removed by a client that is not proxied */
		if ((u = rs_present(m)) != 0) {
			m->gone[u] = 1;
			rs_change(m, -(int32_t)u);
		}
		break;
	case 2:		/* S appends; the others may see it before the OK */
		if (m->next >= RS_UIDS - 8)
			break;
		rs_cmd(s, tag, sizeof(tag), "APPEND INBOX {1+}\r\nx");
		u = m->next++;
		m->kind[u] = 2;
		rs_change(m, (int32_t)u);
		rs_meanwhile(m, self);
		rs_flush(s);
		/* now and then without UIDPLUS: additions go blind */
		if (rnd(&m->seed) % 16 == 0) {
			m->blind = true;
			code[0] = '\0';
		} else
			snprintf(code, sizeof(code), "[APPENDUID 7 %u] ", u);
		rs_ok(s, tag, code);
		break;
	case 3:		/* S expunges a message it knows of */
		if (s->nview == 0)
			break;
		u = s->view[rnd(&m->seed) % s->nview];
		if (m->gone[u] != 0)
			break;
		snprintf(text, sizeof(text), "UID EXPUNGE %u", u);
		rs_cmd(s, tag, sizeof(tag), text);
		m->gone[u] = 2;
		rs_change(m, -(int32_t)u);
		rs_meanwhile(m, self);
		rs_flush(s);
		rs_ok(s, tag, "");
		break;
	case 4:
	case 5:
		rs_noop(s);
		break;
	default:
		rs_fetch(s);
		break;
	}
}

/* Each UID of the canonical set TEXT (from an event) into COUNT. */
static void
rs_count(const char *text, uint8_t *count)
{
	const char *p = strstr(text, " uidset=");
	unsigned long a, b;
	char *end;

	assert_non_null(p);
	p += 8;
	for (;;) {
		a = b = strtoul(p, &end, 10);
		if (*end == ':')
			b = strtoul(end + 1, &end, 10);
		assert_true(a >= 1 && b < RS_UIDS && a <= b);
		for (; a <= b; a++)
			count[a]++;
		if (*end != ',')
			break;
		p = end + 1;
	}
}

static void
test_shared_random(void **state)
{
	struct imap_registry *reg;
	static struct rs_model m;
	uint8_t news[RS_UIDS], external[RS_UIDS];
	unsigned i, step, round;
	size_t k;

	(void)state;
	for (round = 0; round < 40; round++) {
		reg = imap_registry_new(NULL);	/* UIDVALIDITY 7 each time */
		assert_non_null(reg);
		memset(&m, 0, sizeof(m));
		memset(news, 0, sizeof(news));
		memset(external, 0, sizeof(external));
		m.seed = 0x9e3779b97f4a7c15ULL + round;
		m.next = 4;
		for (i = 0; i < RS_SESSIONS; i++) {
			peer_new(&m.s[i].p, reg, i + 1);
			peer_select(&m.s[i].p, 3);
			m.s[i].nview = 3;
			m.s[i].view[0] = 1;
			m.s[i].view[1] = 2;
			m.s[i].view[2] = 3;
		}
		m.kind[1] = m.kind[2] = m.kind[3] = 2;
		for (step = 0; step < 150 && m.next < RS_UIDS - 8; step++)
			rs_step(&m);
		for (i = 0; i < RS_SESSIONS; i++)
			rs_fetch(&m.s[i]);
		for (i = 0; i < RS_SESSIONS; i++) {
			for (k = 0; k < m.s[i].p.e.n; k++) {
				if (m.s[i].p.e.ev[k].type == MSGEVENT_MESSAGE_NEW)
					rs_count(m.s[i].p.e.text[k], news);
				else if (m.s[i].p.e.ev[k].type ==
				    MSGEVENT_MESSAGE_EXPUNGE && strstr(
				    m.s[i].p.e.text[k], "cause=external"))
					rs_count(m.s[i].p.e.text[k], external);
			}
			peer_free(&m.s[i].p);
		}
		for (k = 1; k < RS_UIDS; k++) {
			if (news[k] > 1 || (news[k] && m.kind[k] != 1))
				fail_msg("round %u UID %zu: MessageNew %u, "
				    "kind %u", round, k, news[k], m.kind[k]);
			/* still there at the end: every session knows it */
			if (m.kind[k] == 1 && m.gone[k] == 0 && news[k] != 1 &&
			    !m.blind)
				fail_msg("round %u UID %zu: delivery not "
				    "reported", round, k);
			if (external[k] > 1 || (external[k] && m.gone[k] != 1))
				fail_msg("round %u UID %zu: external %u, "
				    "gone %u", round, k, external[k],
				    m.gone[k]);
		}
		imap_registry_free(&reg);
	}
}

/* A set longer than IMAP_ASK_SET_MAX is asked about as one range. */
static void
test_ask_long_set(void **state)
{
	struct events e;
	struct imap_infer *infer;
	char *line = malloc(8192);
	size_t n;

	(void)state;
	assert_non_null(line);
	memset(&e, 0, sizeof(e));
	infer = infer_new(&e);
	feed_c(infer, "a LOGIN alice pw\r\n");
	feed_s(infer, "a OK done\r\n");
	feed_c(infer, "b SELECT INBOX\r\n");
	feed_s(infer, "* 5000 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n"
	    "b OK [READ-WRITE] done\r\n");
	n = (size_t)sprintf(line, "c STORE 3");
	for (unsigned k = 5; k <= 1999; k += 2)
		n += (size_t)sprintf(line + n, ",%u", k);
	n += (size_t)sprintf(line + n, " +FLAGS (\\Seen)\r\n");
	assert_true(n > IMAP_ASK_SET_MAX + 100);
	assert_string_equal(ask(infer, line),
	    "msgeventd1 FETCH 3:1999 (UID FLAGS)\r\n");
	feed_s(infer, "msgeventd1 OK done\r\n");
	n = (size_t)sprintf(line, "d UID STORE 100:*");
	for (unsigned k = 7; k <= 2001; k += 2)
		n += (size_t)sprintf(line + n, ",%u", k);
	n += (size_t)sprintf(line + n, " -FLAGS (\\Seen)\r\n");
	/* UIDs unknown: "*" is the highest UID possible, the range ends there */
	assert_string_equal(ask(infer, line),
	    "msgeventd2 UID FETCH 7:4294967295 (UID FLAGS)\r\n");
	free(line);
	imap_infer_free(&infer);
	events_free(&e);
}

/* ---- sets longer than one parser token ---------------------------------- */

static bool
mark_walk(void *ctx, uint32_t first, uint32_t last)
{
	bool *seen = ctx;

	for (uint32_t u = first; u <= last && u < 20000; u++) {
		assert_false(seen[u]);		/* parts are disjoint */
		seen[u] = true;
	}
	return true;
}

/*
 * The union of the uidsets of E's events of TYPE equals the UIDs FIRST,
 * FIRST + STEP, ... LAST; no event of TYPE is marked truncated.
 */
static void
assert_union(const struct events *e, enum msgevent_type type,
    uint32_t first, uint32_t step, uint32_t last)
{
	bool *seen = calloc(20000, sizeof(bool));
	size_t i, n = 0, len;
	const char *v;

	assert_non_null(seen);
	for (i = 0; i < e->n; i++) {
		if (e->ev[i].type != type)
			continue;
		n++;
		assert_false(e->ev[i].truncated);
		v = msgevent_get(&e->ev[i], MSGEVENT_P_UIDSET, &len);
		assert_non_null(v);
		assert_int_equal(imap_set_walk(v, len, 0, UINT32_MAX, mark_walk,
		    seen), 0);
	}
	assert_true(n > 1);			/* it was split */
	for (uint32_t u = 0; u < 20000; u++)
		if (seen[u] != (u >= first && u <= last &&
		    (u - first) % step == 0))
			fail_msg("UID %u %s", u, seen[u] ? "reported" :
			    "missing");
	free(seen);
}

/* Feed S to the client or server side in chunks of CHUNK bytes. */
static void
feed_chunks(struct imap_infer *infer, bool client, const char *s,
    size_t chunk)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;

		if (client)
			imap_infer_client_data(infer, s + i, n);
		else
			imap_infer_server_data(infer, s + i, n);
	}
}

static char *
set_text(uint32_t first, uint32_t step, uint32_t last)
{
	char *s = malloc(16 * 2000);
	size_t n = 0;

	assert_non_null(s);
	for (uint32_t u = first; u <= last; u += step)
		n += (size_t)sprintf(s + n, "%s%u", n > 0 ? "," : "", u);
	return s;
}

/*
 * A UID MOVE of 600 scattered messages (COPYUID's sets are 3.6 KB and
 * 4.2 KB) and a UID EXPUNGE of 500 scattered ones (2.9 KB): read whole
 * whatever the chunking, reported in parts, none truncated.
 */
static void
test_long_sets(void **state)
{
	static const size_t chunks[] = { 1 << 20, 1, 7, 1000, 1024, 1025 };
	char *src = set_text(2, 2, 1200), *dst = set_text(10001, 3, 11798);
	char *xset = set_text(1201, 2, 2199);
	char *buf = malloc(64 * 1024);

	(void)state;
	assert_non_null(buf);
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct events e;
		struct imap_infer *infer;
		size_t n;

		memset(&e, 0, sizeof(e));
		infer = infer_new(&e);
		feed_c(infer, "a LOGIN alice pw\r\n");
		feed_s(infer, "a OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE] done\r\n");
		feed_c(infer, "b SELECT INBOX\r\n");
		feed_s(infer, "* 2400 EXISTS\r\n* OK [UIDVALIDITY 9] x\r\n"
		    "b OK [READ-WRITE] done\r\n");
		/* message n has UID n */
		feed_c(infer, "c UID FETCH 1:* (UID)\r\n");
		n = 0;
		for (uint32_t u = 1; u <= 2400; u++)
			n += (size_t)sprintf(buf + n, "* %u FETCH (UID %u)\r\n",
			    u, u);
		sprintf(buf + n, "c OK done\r\n");
		feed_s(infer, buf);
		sprintf(buf, "d UID MOVE %s Archive\r\n", src);
		feed_chunks(infer, true, buf, chunks[c]);
		n = (size_t)sprintf(buf, "* OK [COPYUID 77 %s %s] Moved\r\n",
		    src, dst);
		for (uint32_t u = 1200; u >= 2; u -= 2)
			n += (size_t)sprintf(buf + n, "* %u EXPUNGE\r\n", u);
		sprintf(buf + n, "d OK done\r\n");
		feed_chunks(infer, false, buf, chunks[c]);
		assert_union(&e, MSGEVENT_MESSAGE_APPEND, 10001, 3, 11798);
		assert_union(&e, MSGEVENT_MESSAGE_EXPUNGE, 2, 2, 1200);
		/* UIDs 1201.. are now messages 601..; expunge odd ones */
		events_free(&e);
		memset(&e, 0, sizeof(e));
		sprintf(buf, "f UID EXPUNGE %s\r\n", xset);
		feed_chunks(infer, true, buf, chunks[c]);
		n = 0;
		for (uint32_t u = 2199; u >= 1201; u -= 2)
			n += (size_t)sprintf(buf + n, "* %u EXPUNGE\r\n",
			    u - 600);
		sprintf(buf + n, "f OK done\r\n");
		feed_chunks(infer, false, buf, chunks[c]);
		assert_union(&e, MSGEVENT_MESSAGE_EXPUNGE, 1201, 2, 2199);
		imap_infer_free(&infer);
		events_free(&e);
	}
	free(buf);
	free(src);
	free(dst);
	free(xset);
}

int
main(int argc, char **argv)
{
	static const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_password_never_emitted),
		cmocka_unit_test(test_session_and_timestamp),
		cmocka_unit_test(test_user_accessor),
		cmocka_unit_test(test_end_once),
		cmocka_unit_test(test_pending_overflow),
		cmocka_unit_test(test_long_tag),
		cmocka_unit_test(test_blind),
		cmocka_unit_test(test_parser_error),
		cmocka_unit_test(test_in_literal),
		cmocka_unit_test(test_mailbox_too_long),
		cmocka_unit_test(test_append_cap),
		cmocka_unit_test(test_record_budget),
		cmocka_unit_test(test_idle_memory),
		cmocka_unit_test(test_big_mailbox_memory),
		cmocka_unit_test(test_vanished_too_long),
		cmocka_unit_test(test_flags_counters),
		cmocka_unit_test(test_big_mailbox_flags),
		cmocka_unit_test(test_replace_seen_big),
		cmocka_unit_test(test_answered_at_cr),
		cmocka_unit_test(test_random_selected_state),
		cmocka_unit_test(test_ask),
		cmocka_unit_test(test_ask_long_set),
		cmocka_unit_test(test_long_sets),
		cmocka_unit_test(test_shared_append_idle),
		cmocka_unit_test(test_shared_exists_before_ok),
		cmocka_unit_test(test_shared_delivery),
		cmocka_unit_test(test_shared_expunge),
		cmocka_unit_test(test_shared_give_up),
		cmocka_unit_test(test_ask_new),
		cmocka_unit_test(test_shared_random),
		cmocka_unit_test(test_subscriptions_cap),
	};
	struct CMUnitTest *tests;
	struct transcript_case *cases;
	const char *dir = transcript_dir(argc, argv), *base;
	char **paths;
	size_t npaths, i, n = 0;
	int w, failed;

	if (transcript_list(dir, &paths, &npaths) == -1 || npaths == 0) {
		fprintf(stderr, "test_imap_infer: no transcripts in %s\n", dir);
		return 1;
	}
	tests = calloc(npaths * 3, sizeof(*tests));
	cases = calloc(npaths * 3, sizeof(*cases));
	if (tests == NULL || cases == NULL)
		return 1;
	for (i = 0; i < npaths; i++) {
		base = strrchr(paths[i], '/') != NULL ?
		    strrchr(paths[i], '/') + 1 : paths[i];
		for (w = WAY_WHOLE; w <= WAY_SPLIT; w++, n++) {
			cases[n].path = paths[i];
			cases[n].way = (enum way)w;
			snprintf(cases[n].name, sizeof(cases[n].name), "%s %s",
			    base, way_names[w]);
			tests[n].name = cases[n].name;
			tests[n].test_func = test_transcript;
			tests[n].initial_state = &cases[n];
		}
	}
	failed = _cmocka_run_group_tests("transcripts", tests, n, NULL, NULL);
	failed += cmocka_run_group_tests_name("imap_infer", unit, NULL, NULL);
	printf("syslog form of %zu events checked at the default size: whole "
	    "but %zu with a mailbox URL over 600 bytes\n", syslog_checked,
	    syslog_too_long);
	free(tests);
	free(cases);
	transcript_list_free(paths, npaths);
	return failed != 0;
}
