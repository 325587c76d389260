/*
 * test_out_snmp.c - events as SNMP notifications: the OID table, the
 * formatter's variable bindings and truncation, the engine state file,
 * and the output over real sockets (a trap and informs to a receiver
 * of the test's own, watched by the same loop).
 *
 * Decoding uses net-snmp itself (snmp_parse() of a v2c message).  The
 * names and numbers are checked against mibs/MSGEVENT-MIB.txt by
 * tests/integration/test_mib.py, which runs this program as
 *
 *   test_out_snmp --oids       print "NAME NUMERIC-OID" per line
 *
 * Nothing waits by sleeping: run_until() runs the loop until a
 * condition holds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../outputs/out.h"
#include "../../outputs/out_snmp.h"
#include "../../parser/imap_infer.h"
#include "../../parser/msgevent.h"
#include "../../proxy/diag.h"
#include "../../proxy/loop.h"
#include "transcript.h"

#define WAIT_STEP_MS	5
#define WAIT_MAX_MS	10000
#define DGRAM_MAX	65536
#define AUTH_PASS	"Auth-Secr3t-phrase"
#define PRIV_PASS	"Priv-Secr3t-phrase"
#define COMMUNITY	"c0mmunity-Secr3t"

/* OIDs as text, as out_snmp_oid_describe() writes them. */
#define MIBOID		"1.3.6.1.4.1.32473.1"
#define OBJ(n)		MIBOID ".1." #n ".0"

static struct loop *loop;
static char scratch[OUT_SNMP_SCRATCH];
static char tmpdir[64];

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The loop, run until something holds.
 */

typedef bool wait_cond(void *arg);

struct waiter {
	wait_cond *cond;
	void *arg;
	uint64_t deadline;
	bool expired;
};

static void
wait_check(struct loop *l, void *arg)
{
	struct waiter *w = arg;

	if (w->cond(w->arg))
		loop_stop(l);
	else if (now_ms() >= w->deadline) {
		w->expired = true;
		loop_stop(l);
	} else if (loop_timer_add(l, WAIT_STEP_MS, wait_check, w) == NULL) {
		w->expired = true;
		loop_stop(l);
	}
}

static void
run_until_(wait_cond *cond, void *arg, const char *what)
{
	struct waiter w = { cond, arg, now_ms() + WAIT_MAX_MS, false };

	if (cond(arg))
		return;
	assert_non_null(loop_timer_add(loop, WAIT_STEP_MS, wait_check, &w));
	assert_int_equal(loop_run(loop), 0);
	if (w.expired)
		fail_msg("still not %s after %d ms", what, WAIT_MAX_MS);
}

#define run_until(cond, arg)	run_until_(cond, arg, #cond "(" #arg ")")

static int
setup(void **state)
{
	(void)state;
	loop = loop_new();
	return loop == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	loop_free(&loop);
	return 0;
}

/*
 * A receiver: a UDP socket on 127.0.0.1, read by the loop.  It keeps
 * every datagram; with ACK set it answers informs (a Response with the
 * same request-id, RFC 3416 4.2.7).
 */
struct receiver {
	int fd;
	struct sockaddr_in sa;
	bool ack;
	unsigned count;
	size_t largest;
	unsigned char last[DGRAM_MAX];
	size_t last_len;
};

/* Decode a v2c message; NULL if it is not one. */
static netsnmp_pdu *
decode(const unsigned char *data, size_t len)
{
	netsnmp_session sess;
	netsnmp_pdu *pdu;

	snmp_sess_init(&sess);
	sess.version = SNMP_VERSION_2c;
	pdu = snmp_pdu_create(0);
	assert_non_null(pdu);
	if (snmp_parse(NULL, &sess, pdu, (u_char *)(uintptr_t)data, len) !=
	    SNMP_ERR_NOERROR) {
		snmp_free_pdu(pdu);
		return NULL;
	}
	return pdu;
}

static void
receiver_ack(struct receiver *r, const struct sockaddr_in *from)
{
	netsnmp_session sess;
	netsnmp_pdu *pdu;
	u_char *pkt = NULL;
	size_t pkt_len = 0, off = 0;

	pdu = decode(r->last, r->last_len);
	if (pdu == NULL || pdu->command != SNMP_MSG_INFORM) {
		if (pdu != NULL)
			snmp_free_pdu(pdu);
		return;
	}
	pdu->command = SNMP_MSG_RESPONSE;
	pdu->errstat = 0;
	pdu->errindex = 0;
	snmp_sess_init(&sess);
	sess.version = SNMP_VERSION_2c;
	sess.community = pdu->community;
	sess.community_len = pdu->community_len;
	assert_int_equal(snmp_build(&pkt, &pkt_len, &off, &sess, pdu), 0);
	/* snmp_build() writes backwards: the message ends the buffer. */
	assert_true(sendto(r->fd, pkt + pkt_len - off, off, 0,
	    (const struct sockaddr *)from, sizeof(*from)) == (ssize_t)off);
	free(pkt);
	snmp_free_pdu(pdu);
}

static void
receiver_io(struct loop *l, int fd, unsigned events, void *arg)
{
	struct receiver *r = arg;
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	ssize_t n;

	(void)l;
	(void)events;
	while ((n = recvfrom(fd, r->last, sizeof(r->last), MSG_DONTWAIT,
	    (struct sockaddr *)&from, &fromlen)) >= 0) {
		r->count++;
		r->last_len = (size_t)n;
		if ((size_t)n > r->largest)
			r->largest = (size_t)n;
		if (r->ack)
			receiver_ack(r, &from);
		fromlen = sizeof(from);
	}
}

static struct receiver *
receiver_new(bool ack)
{
	struct receiver *r = calloc(1, sizeof(*r));
	socklen_t len = sizeof(r->sa);
	int size = 4 << 20;

	assert_non_null(r);
	r->ack = ack;
	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(r->fd >= 0);
	(void)setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	r->sa.sin_family = AF_INET;
	r->sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&r->sa,
	    sizeof(r->sa)), 0);
	assert_int_equal(getsockname(r->fd, (struct sockaddr *)&r->sa, &len),
	    0);
	assert_int_equal(loop_add_fd(loop, r->fd, LOOP_READ, receiver_io, r),
	    0);
	return r;
}

static void
receiver_free(struct receiver *r)
{
	loop_del_fd(loop, r->fd);
	close(r->fd);
	free(r);
}

static void
target_init(struct out_snmp_target *t, const struct receiver *r,
    bool inform)
{
	memset(t, 0, sizeof(*t));
	t->name = "snmp test";
	t->inform = inform;
	t->sa = (const struct sockaddr *)&r->sa;
	t->salen = sizeof(r->sa);
	t->version = OUT_SNMP_V2C;
	t->community = COMMUNITY;
	t->queue_bytes = 1 << 20;
	t->max_size = OUT_SNMP_SIZE_DEFAULT;
	t->retries = 1;
	t->timeout_ms = 20;
	t->state_dir = tmpdir;
}

/*
 * Events.
 */

static void
login_event(struct msgevent *ev)
{
	msgevent_init(ev, MSGEVENT_LOGIN);
	msgevent_set_str(ev, MSGEVENT_P_USER, "alice");
	msgevent_set_str(ev, MSGEVENT_P_CLIENT_IP, "192.0.2.10");
	msgevent_set_str(ev, MSGEVENT_P_CLIENT_PORT, "51532");
	msgevent_set_str(ev, MSGEVENT_P_SERVICE, "imap");
	msgevent_set_str(ev, MSGEVENT_P_SERVER_FQDN, "mail.example.net");
	msgevent_set_str(ev, MSGEVENT_P_SERVER_DOMAIN, "imap.example.net");
	msgevent_set_str(ev, MSGEVENT_P_SERVER_PORT, "143");
	msgevent_set_str(ev, MSGEVENT_P_URI, "imap://alice@mail.example.net/");
	msgevent_set_str(ev, MSGEVENT_P_SESSION, "7");
}

static const struct out_snmp_format fmt_trap = {
	.inform = false,
	.max_size = OUT_SNMP_SIZE_DEFAULT,
	.overhead = 64,
	.uptime = 4242,
};

static netsnmp_pdu *
format(const struct out_snmp_format *fmt, const struct msgevent *ev,
    bool *trunc_r, size_t *size_r)
{
	netsnmp_pdu *pdu;
	bool trunc;
	size_t size;

	pdu = out_snmp_pdu(fmt, ev, scratch, &trunc, &size);
	assert_non_null(pdu);
	if (trunc_r != NULL)
		*trunc_r = trunc;
	if (size_r != NULL)
		*size_r = size;
	return pdu;
}

/* The variable binding's OID as "1.3.6...". */
static const char *
vb_oid(const netsnmp_variable_list *v)
{
	static char buf[256];
	size_t i, n = 0;

	for (i = 0; i < v->name_length && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%lu",
		    i > 0 ? "." : "", (unsigned long)v->name[i]);
	return buf;
}

/* The N-th variable binding, or a failure. */
static const netsnmp_variable_list *
vb_at(const netsnmp_pdu *pdu, size_t n)
{
	const netsnmp_variable_list *v = pdu->variables;

	while (v != NULL && n-- > 0)
		v = v->next_variable;
	assert_non_null(v);
	return v;
}

static void
assert_vb_str(const netsnmp_variable_list *v, const char *oidtext,
    const char *want, size_t wantlen)
{
	assert_string_equal(vb_oid(v), oidtext);
	assert_int_equal(v->type, ASN_OCTET_STR);
	assert_int_equal(v->val_len, wantlen);
	assert_memory_equal(v->val.string, want, wantlen);
}

static void
assert_vb_num(const netsnmp_variable_list *v, const char *oidtext,
    u_char type, uint64_t want)
{
	uint64_t got;

	assert_string_equal(vb_oid(v), oidtext);
	assert_int_equal(v->type, type);
	if (type == ASN_COUNTER64)
		got = ((uint64_t)v->val.counter64->high << 32) |
		    v->val.counter64->low;
	else if (type == ASN_INTEGER)
		got = (uint64_t)*v->val.integer;
	else
		got = (uint64_t)(unsigned long)*v->val.integer;
	assert_int_equal(got, want);
}

static size_t
vb_count(const netsnmp_pdu *pdu)
{
	const netsnmp_variable_list *v;
	size_t n = 0;

	for (v = pdu->variables; v != NULL; v = v->next_variable)
		n++;
	return n;
}

static const netsnmp_variable_list *
vb_find(const netsnmp_pdu *pdu, const char *oidtext)
{
	const netsnmp_variable_list *v;

	for (v = pdu->variables; v != NULL; v = v->next_variable)
		if (strcmp(vb_oid(v), oidtext) == 0)
			return v;
	return NULL;
}

/*
 * The table.
 */

/* "msgEv" + the parameter's name, vnd.msgeventd. taken off, first
 * letter upper-cased (INTERFACE.md). */
static void
expected_object(enum msgevent_param p, char *buf, size_t size)
{
	const char *n = msgevent_param_name(p);

	if (strncmp(n, "vnd.msgeventd.", 14) == 0)
		n += 14;
	snprintf(buf, size, "MSGEVENT-MIB::msgEv%c%s.0",
	    n[0] >= 'a' && n[0] <= 'z' ? n[0] - 'a' + 'A' : n[0], n + 1);
}

static void
test_oid_table(void **state)
{
	char name[128], num[256], want[128];
	unsigned long last = 0, sub;
	size_t i, nobj = 0, nnotif = 0;
	bool found;
	int p, t;

	(void)state;
	assert_true(out_snmp_oid_describe(0, name, sizeof(name), num,
	    sizeof(num)));
	assert_string_equal(name, "SNMPv2-MIB::sysUpTime.0");
	assert_string_equal(num, "1.3.6.1.2.1.1.3.0");
	assert_true(out_snmp_oid_describe(1, name, sizeof(name), num,
	    sizeof(num)));
	assert_string_equal(name, "SNMPv2-MIB::snmpTrapOID.0");
	assert_string_equal(num, "1.3.6.1.6.3.1.1.4.1.0");
	/* Objects: ascending sub-identifiers, in send order. */
	for (i = 2; out_snmp_oid_describe(i, name, sizeof(name), num,
	    sizeof(num)); i++) {
		if (strncmp(num, MIBOID ".1.", strlen(MIBOID ".1.")) == 0) {
			sub = strtoul(num + strlen(MIBOID ".1."), NULL, 10);
			assert_true(sub > last);
			last = sub;
			nobj++;
		} else {
			assert_true(strncmp(num, MIBOID ".0.",
			    strlen(MIBOID ".0.")) == 0);
			nnotif++;
		}
	}
	/* Every parameter has its object (two more: type, truncated). */
	assert_int_equal(nobj, MSGEVENT_PARAM_COUNT + 2);
	for (p = 0; p < MSGEVENT_PARAM_COUNT; p++) {
		expected_object((enum msgevent_param)p, want, sizeof(want));
		found = false;
		for (i = 2; out_snmp_oid_describe(i, name, sizeof(name), num,
		    sizeof(num)); i++)
			if (strcmp(name, want) == 0)
				found = true;
		if (!found)
			fail_msg("parameter %s has no object %s",
			    msgevent_param_name((enum msgevent_param)p), want);
	}
	/* One notification per event, named after it, numbers unique. */
	assert_int_equal(nnotif, MSGEVENT_TYPE_COUNT);
	for (t = 0; t < MSGEVENT_TYPE_COUNT; t++) {
		assert_true(out_snmp_oid_describe(2 + nobj + (size_t)t, name,
		    sizeof(name), num, sizeof(num)));
		snprintf(want, sizeof(want), "MSGEVENT-MIB::msgEvent%s",
		    msgevent_type_snmp_name((enum msgevent_type)t));
		assert_string_equal(name, want);
	}
	assert_true(out_snmp_oid_describe(2 + nobj + MSGEVENT_LOGIN, name,
	    sizeof(name), num, sizeof(num)));
	assert_string_equal(num, MIBOID ".0.1");
	assert_true(out_snmp_oid_describe(2 + nobj + MSGEVENT_LOGIN_FAILURE,
	    name, sizeof(name), num, sizeof(num)));
	assert_string_equal(num, MIBOID ".0.101");
}

/*
 * The formatter.
 */

static void
test_login_bindings(void **state)
{
	static const uint8_t ip[] = { 192, 0, 2, 10 };
	static const oid trap[] = { 1, 3, 6, 1, 4, 1, 32473, 1, 0, 1 };
	const netsnmp_variable_list *v;
	struct msgevent ev;
	netsnmp_pdu *pdu;
	bool trunc;
	size_t size;

	(void)state;
	login_event(&ev);
	pdu = format(&fmt_trap, &ev, &trunc, &size);
	assert_false(trunc);
	assert_int_equal(pdu->command, SNMP_MSG_TRAP2);
	assert_int_equal(vb_count(pdu), 2 + 7 + 4);
	v = vb_at(pdu, 0);
	assert_vb_num(v, "1.3.6.1.2.1.1.3.0", ASN_TIMETICKS, 4242);
	v = vb_at(pdu, 1);
	assert_string_equal(vb_oid(v), "1.3.6.1.6.3.1.1.4.1.0");
	assert_int_equal(v->type, ASN_OBJECT_ID);
	assert_int_equal(v->val_len, sizeof(trap));
	assert_memory_equal(v->val.objid, trap, sizeof(trap));
	assert_vb_str(vb_at(pdu, 2), OBJ(1), "alice", 5);
	assert_vb_num(vb_at(pdu, 3), OBJ(2), ASN_INTEGER, 1);
	assert_vb_str(vb_at(pdu, 4), OBJ(3), (const char *)ip, 4);
	assert_vb_num(vb_at(pdu, 5), OBJ(4), ASN_UNSIGNED, 51532);
	assert_vb_str(vb_at(pdu, 6), OBJ(5), "imap", 4);
	assert_vb_str(vb_at(pdu, 7), OBJ(6), "mail.example.net", 16);
	v = vb_at(pdu, 8);
	assert_string_equal(vb_oid(v), OBJ(7));
	assert_int_equal(v->val_len, 11);
	/* DateAndTime from the timestamp: UTC, '+', 0, 0. */
	assert_int_equal(v->val.string[8], '+');
	assert_int_equal(v->val.string[9], 0);
	assert_int_equal(v->val.string[10], 0);
	assert_vb_str(vb_at(pdu, 9), OBJ(9), "imap.example.net", 16);
	assert_vb_num(vb_at(pdu, 10), OBJ(10), ASN_UNSIGNED, 143);
	assert_vb_str(vb_at(pdu, 11), OBJ(11), "imap://alice@mail.example.net/",
	    30);
	assert_vb_num(vb_at(pdu, 12), OBJ(109), ASN_COUNTER64, 7);
	assert_true(size > 100 && size < 600);
	snmp_free_pdu(pdu);
}

/* OBJECTS are always there: empty when the event lacks them. */
static void
test_missing_objects(void **state)
{
	const netsnmp_variable_list *v;
	struct msgevent ev;
	netsnmp_pdu *pdu;
	unsigned year;
	struct tm tm;
	bool trunc;

	(void)state;
	msgevent_init(&ev, MSGEVENT_LOGIN_FAILURE);
	/* The timestamp is set by msgevent_init(): the RFC 3339 text. */
	pdu = format(&fmt_trap, &ev, &trunc, NULL);
	assert_false(trunc);
	assert_int_equal(vb_count(pdu), 2 + 7);
	assert_vb_str(vb_at(pdu, 2), OBJ(1), "", 0);
	assert_vb_num(vb_at(pdu, 3), OBJ(2), ASN_INTEGER, 0);
	assert_vb_str(vb_at(pdu, 4), OBJ(3), "", 0);
	assert_vb_num(vb_at(pdu, 5), OBJ(4), ASN_UNSIGNED, 0);
	assert_vb_str(vb_at(pdu, 6), OBJ(5), "", 0);
	assert_vb_str(vb_at(pdu, 7), OBJ(6), "", 0);
	v = vb_at(pdu, 8);
	gmtime_r(&ev.time.tv_sec, &tm);
	year = (unsigned)v->val.string[0] << 8 | v->val.string[1];
	assert_int_equal(year, (unsigned)tm.tm_year + 1900);
	assert_int_equal(v->val.string[2], tm.tm_mon + 1);
	assert_int_equal(v->val.string[3], tm.tm_mday);
	assert_int_equal(v->val.string[7], ev.time.tv_nsec / 100000000);
	snmp_free_pdu(pdu);
}

static void
test_addresses_and_numbers(void **state)
{
	static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	const netsnmp_variable_list *v;
	struct msgevent ev;
	netsnmp_pdu *pdu;
	bool trunc;

	(void)state;
	msgevent_init(&ev, MSGEVENT_MESSAGE_EXPUNGE);
	msgevent_set_str(&ev, MSGEVENT_P_CLIENT_IP, "2001:db8::1");
	msgevent_set_str(&ev, MSGEVENT_P_MODSEQ, "18446744073709551615");
	msgevent_set_str(&ev, MSGEVENT_P_MESSAGES, "3");
	msgevent_set_str(&ev, MSGEVENT_P_UIDNEXT, "4294967295");
	pdu = format(&fmt_trap, &ev, &trunc, NULL);
	assert_false(trunc);
	assert_vb_num(vb_at(pdu, 3), OBJ(2), ASN_INTEGER, 2);
	assert_vb_str(vb_at(pdu, 4), OBJ(3), (const char *)ip6, 16);
	assert_vb_num(vb_find(pdu, OBJ(15)), OBJ(15), ASN_UNSIGNED,
	    4294967295u);
	assert_vb_num(vb_find(pdu, OBJ(16)), OBJ(16), ASN_COUNTER64,
	    UINT64_MAX);
	assert_vb_num(vb_find(pdu, OBJ(17)), OBJ(17), ASN_COUNTER64, 3);
	assert_null(vb_find(pdu, OBJ(200)));
	snmp_free_pdu(pdu);

	/* What does not fit its syntax is left out, and marked. */
	msgevent_init(&ev, MSGEVENT_LOGIN);
	msgevent_set_str(&ev, MSGEVENT_P_CLIENT_IP, "not-an-address");
	msgevent_set_str(&ev, MSGEVENT_P_UIDNEXT, "4294967296");
	msgevent_set_str(&ev, MSGEVENT_P_SERVER_PORT, "65536");
	msgevent_set_str(&ev, MSGEVENT_P_CLIENT_PORT, "x");
	msgevent_set_str(&ev, MSGEVENT_P_MODSEQ, "18446744073709551616");
	pdu = format(&fmt_trap, &ev, &trunc, NULL);
	assert_true(trunc);
	assert_vb_num(vb_at(pdu, 3), OBJ(2), ASN_INTEGER, 0);
	assert_vb_str(vb_at(pdu, 4), OBJ(3), "", 0);
	assert_vb_num(vb_at(pdu, 5), OBJ(4), ASN_UNSIGNED, 0);
	assert_null(vb_find(pdu, OBJ(10)));
	assert_null(vb_find(pdu, OBJ(15)));
	assert_null(vb_find(pdu, OBJ(16)));
	v = vb_at(pdu, vb_count(pdu) - 1);
	assert_vb_num(v, OBJ(200), ASN_INTEGER, 1);
	snmp_free_pdu(pdu);
}

/* Text is UTF-8 for SnmpAdminString: bad sequences and controls go. */
static void
test_text_cleaned(void **state)
{
	struct msgevent ev;
	netsnmp_pdu *pdu;
	bool trunc;

	(void)state;
	msgevent_init(&ev, MSGEVENT_LOGIN);
	msgevent_set(&ev, MSGEVENT_P_USER,
	    "a\nb\xff" "c\xe2\x82" "d\x7f" "\xc3\xa9", 11);
	pdu = format(&fmt_trap, &ev, &trunc, NULL);
	assert_false(trunc);
	assert_vb_str(vb_at(pdu, 2), OBJ(1),
	    "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD" "d\xEF\xBF\xBD"
	    "\xc3\xa9", 4 * 4 + 2);
	snmp_free_pdu(pdu);
}

/* SIZE (0..255) and (0..1024), cut between characters. */
static void
test_object_size(void **state)
{
	char user[400], box[2000];
	const netsnmp_variable_list *v;
	struct msgevent ev;
	netsnmp_pdu *pdu;
	struct out_snmp_format fmt = fmt_trap;
	bool trunc;

	(void)state;
	fmt.max_size = OUT_SNMP_SIZE_MAX;
	/* 254 'a' then 'é' (2 octets): 256 octets, cut to 254. */
	memset(user, 'a', 254);
	memcpy(user + 254, "\xc3\xa9", 2);
	memset(box, 'b', sizeof(box));
	msgevent_init(&ev, MSGEVENT_MAILBOX_CREATE);
	msgevent_set(&ev, MSGEVENT_P_USER, user, 256);
	msgevent_set(&ev, MSGEVENT_P_MAILBOX_ID, box, sizeof(box));
	pdu = format(&fmt, &ev, &trunc, NULL);
	assert_true(trunc);
	assert_vb_str(vb_at(pdu, 2), OBJ(1), user, 254);
	v = vb_find(pdu, OBJ(12));
	assert_non_null(v);
	assert_int_equal(v->val_len, OUT_SNMP_TEXT_MAX);
	assert_vb_num(vb_at(pdu, vb_count(pdu) - 1), OBJ(200), ASN_INTEGER, 1);
	snmp_free_pdu(pdu);

	/* Exactly 255 octets: not cut. */
	msgevent_init(&ev, MSGEVENT_LOGIN);
	msgevent_set(&ev, MSGEVENT_P_USER, box, OUT_SNMP_ADMIN_STRING_MAX);
	pdu = format(&fmt, &ev, &trunc, NULL);
	assert_false(trunc);
	assert_int_equal(vb_at(pdu, 2)->val_len, OUT_SNMP_ADMIN_STRING_MAX);
	snmp_free_pdu(pdu);
}

/* The event's own flag carries over. */
static void
test_event_truncated(void **state)
{
	struct msgevent ev;
	netsnmp_pdu *pdu;
	bool trunc;

	(void)state;
	login_event(&ev);
	ev.truncated = true;
	pdu = format(&fmt_trap, &ev, &trunc, NULL);
	assert_true(trunc);
	assert_vb_num(vb_at(pdu, vb_count(pdu) - 1), OBJ(200), ASN_INTEGER, 1);
	snmp_free_pdu(pdu);
}

/* Encode as a v2c message, the way the output does. */
static size_t
encoded_size(netsnmp_pdu *pdu, const char *community)
{
	netsnmp_session sess;
	u_char *pkt = NULL;
	size_t pkt_len = 0, off = 0;

	snmp_sess_init(&sess);
	sess.version = SNMP_VERSION_2c;
	sess.community = (u_char *)(uintptr_t)community;
	sess.community_len = strlen(community);
	pdu->version = SNMP_VERSION_2c;	/* snmp_sess_send() sets it */
	pdu->reqid = 0x7fffffff;	/* the longest request-id */
	if (snmp_build(&pkt, &pkt_len, &off, &sess, pdu) != 0)
		fail_msg("snmp_build: %s", snmp_api_errstring(snmp_errno));
	free(pkt);
	return off;
}

/*
 * Whatever the values, the message fits max_size: long texts are cut
 * to a common length first, then optional bindings leave from the end.
 */
static void
test_budget(void **state)
{
	static const size_t sizes[] = { OUT_SNMP_SIZE_MIN, 1200,
	    OUT_SNMP_SIZE_DEFAULT, 4096, 20000, OUT_SNMP_SIZE_MAX };
	static char big[MSGEVENT_VALUE_SPACE];
	struct out_snmp_target t;
	struct out_snmp_format fmt;
	const netsnmp_variable_list *v;
	struct msgevent ev;
	netsnmp_pdu *pdu;
	size_t i, k, size, real;
	bool trunc;
	int p;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.version = OUT_SNMP_V2C;
	t.community = COMMUNITY;
	memset(big, 'x', sizeof(big));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fmt.inform = true;
		fmt.max_size = sizes[i];
		fmt.overhead = out_snmp_overhead(&t);
		fmt.uptime = UINT32_MAX;
		/* Every parameter, each as long as the event lets it be. */
		msgevent_init(&ev, MSGEVENT_MESSAGE_APPEND);
		for (p = 0; p < MSGEVENT_PARAM_COUNT; p++) {
			if (msgevent_param_kind((enum msgevent_param)p) !=
			    MSGEVENT_KIND_STRING)
				msgevent_set_str(&ev, (enum msgevent_param)p,
				    "18446744073709551615");
			else
				msgevent_set(&ev, (enum msgevent_param)p, big,
				    120);
		}
		pdu = format(&fmt, &ev, &trunc, &size);
		real = encoded_size(pdu, COMMUNITY);
		if (real > sizes[i] || real > size + fmt.overhead)
			fail_msg("max_size %zu: encoded %zu, estimated %zu",
			    sizes[i], real, size + fmt.overhead);
		/* The estimate is close: at most 2 octets per TLV over. */
		assert_true(size + fmt.overhead - real <=
		    2 * 4 * vb_count(pdu) + 64);
		if (sizes[i] < 4096) {
			assert_true(trunc);
			v = vb_at(pdu, vb_count(pdu) - 1);
			assert_vb_num(v, OBJ(200), ASN_INTEGER, 1);
		}
		/* OBJECTS stay, whatever the size. */
		for (k = 1; k <= 7; k++) {
			char o[64];

			snprintf(o, sizeof(o), MIBOID ".1.%zu.0", k);
			assert_non_null(vb_find(pdu, o));
		}
		snmp_free_pdu(pdu);
	}

	/* One long text among short ones: only it is cut. */
	fmt.max_size = OUT_SNMP_SIZE_DEFAULT;
	login_event(&ev);
	msgevent_set(&ev, MSGEVENT_P_UIDSET, big, 3000);
	pdu = format(&fmt, &ev, &trunc, &size);
	assert_true(trunc);
	assert_true(encoded_size(pdu, COMMUNITY) <= OUT_SNMP_SIZE_DEFAULT);
	assert_vb_str(vb_at(pdu, 2), OBJ(1), "alice", 5);
	v = vb_find(pdu, OBJ(14));
	assert_non_null(v);
	assert_true(v->val_len > 500 && v->val_len < OUT_SNMP_TEXT_MAX);
	snmp_free_pdu(pdu);
}

/*
 * The state file.
 */

static void
read_file(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, size - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

static void
test_state_file(void **state)
{
	static const uint8_t fixed[] = {
		0x80, 0, 0x7e, 0xd9, 4, 'm', 'e', 'v'
	};
	char dir[128], path[160], buf[1024], err[256];
	uint8_t id[OUT_SNMP_ENGINE_ID_MAX], id2[OUT_SNMP_ENGINE_ID_MAX];
	size_t len, len2;
	uint32_t boots;
	FILE *fp;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/state/deeper", tmpdir);
	snprintf(path, sizeof(path), "%s/" OUT_SNMP_STATE_FILE, dir);
	/* First start: a new ID (format 5 under 32473), boots 1. */
	assert_int_equal(out_snmp_state_load(dir, NULL, 0, id, &len, &boots,
	    err, sizeof(err)), 0);
	assert_int_equal(boots, 1);
	assert_int_equal(len, 13);
	assert_memory_equal(id, "\x80\x00\x7e\xd9\x05", 5);
	read_file(path, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\nboots 1\n"));
	/* Every start counts. */
	assert_int_equal(out_snmp_state_load(dir, NULL, 0, id2, &len2, &boots,
	    err, sizeof(err)), 0);
	assert_int_equal(boots, 2);
	assert_int_equal(len2, len);
	assert_memory_equal(id2, id, len);
	/* A configured ID replaces it and starts boots again. */
	assert_int_equal(out_snmp_state_load(dir, fixed, sizeof(fixed), id2,
	    &len2, &boots, err, sizeof(err)), 0);
	assert_int_equal(boots, 1);
	assert_int_equal(len2, sizeof(fixed));
	assert_memory_equal(id2, fixed, sizeof(fixed));
	read_file(path, buf, sizeof(buf));
	assert_non_null(strstr(buf, "engine-id 0x80007ed9046d6576\n"));
	/* At the maximum it stays (RFC 3414 2.2.2). */
	fp = fopen(path, "w");
	fprintf(fp, "engine-id 0x80007ed9046d6576\nboots 2147483647\n");
	fclose(fp);
	assert_int_equal(out_snmp_state_load(dir, NULL, 0, id2, &len2, &boots,
	    err, sizeof(err)), 0);
	assert_int_equal(boots, OUT_SNMP_BOOTS_MAX);
	/* A damaged file is an error, not a silent new engine. */
	fp = fopen(path, "w");
	fprintf(fp, "engine-id 0x80007ed9046d6576\nboots many\n");
	fclose(fp);
	assert_int_equal(out_snmp_state_load(dir, NULL, 0, id2, &len2, &boots,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2"));
	fp = fopen(path, "w");
	fprintf(fp, "boots 3\n");
	fclose(fp);
	assert_int_equal(out_snmp_state_load(dir, NULL, 0, id2, &len2, &boots,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no engine-id line"));
	unlink(path);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/state", tmpdir);
	rmdir(dir);
}

/*
 * The output, over sockets.
 */

struct counted {
	const struct receiver *r;
	unsigned want;
};

static bool
received(void *arg)
{
	const struct counted *c = arg;

	return c->r->count >= c->want;
}

struct stat_wait {
	struct out_snmp *s;
	uint64_t sent, unacked;
};

static bool
stats_reached(void *arg)
{
	struct stat_wait *w = arg;
	struct out_snmp_stats st;

	out_snmp_get_stats(w->s, &st);
	return st.sent >= w->sent && st.unacked >= w->unacked;
}

static void
test_trap(void **state)
{
	struct receiver *r = receiver_new(false);
	struct out_snmp_target t;
	struct out_snmp *s;
	struct counted c = { r, 1 };
	const netsnmp_variable_list *v;
	struct out_snmp_stats st;
	struct msgevent ev;
	netsnmp_pdu *pdu;
	char err[256];

	(void)state;
	target_init(&t, r, false);
	s = out_snmp_new(loop, &t, err, sizeof(err));
	if (s == NULL)
		fail_msg("out_snmp_new: %s", err);
	login_event(&ev);
	out_snmp_emit(s, &ev);
	run_until(received, &c);
	pdu = decode(r->last, r->last_len);
	assert_non_null(pdu);
	assert_int_equal(pdu->command, SNMP_MSG_TRAP2);
	assert_int_equal(pdu->community_len, strlen(COMMUNITY));
	assert_memory_equal(pdu->community, COMMUNITY, strlen(COMMUNITY));
	v = vb_at(pdu, 0);
	assert_string_equal(vb_oid(v), "1.3.6.1.2.1.1.3.0");
	assert_vb_str(vb_at(pdu, 2), OBJ(1), "alice", 5);
	snmp_free_pdu(pdu);
	out_snmp_get_stats(s, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(out_snmp_pending(s), 0);
	out_snmp_free(&s);
	assert_null(s);
	receiver_free(r);
}

static void
test_inform_acknowledged(void **state)
{
	struct receiver *r = receiver_new(true);
	struct out_snmp_target t;
	struct out_snmp *s;
	struct out_snmp_stats st;
	struct stat_wait w;
	struct msgevent ev;
	netsnmp_pdu *pdu;
	char err[256];
	unsigned i;

	(void)state;
	target_init(&t, r, true);
	t.timeout_ms = 2000;	/* no retransmission on a slow machine */
	s = out_snmp_new(loop, &t, err, sizeof(err));
	if (s == NULL)
		fail_msg("out_snmp_new: %s", err);
	for (i = 0; i < 20; i++) {
		login_event(&ev);
		out_snmp_emit(s, &ev);
	}
	w = (struct stat_wait){ s, 20, 0 };
	run_until(stats_reached, &w);
	pdu = decode(r->last, r->last_len);
	assert_non_null(pdu);
	assert_int_equal(pdu->command, SNMP_MSG_INFORM);
	snmp_free_pdu(pdu);
	out_snmp_get_stats(s, &st);
	assert_int_equal(st.sent, 20);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(out_snmp_pending(s), 0);
	assert_int_equal(r->count, 20);
	out_snmp_free(&s);
	receiver_free(r);
}

/* A receiver that never answers: each inform is sent 1 + retries
 * times, then counted as not acknowledged. */
static void
test_inform_unacknowledged(void **state)
{
	struct receiver *r = receiver_new(false);
	struct out_snmp_target t;
	struct out_snmp *s;
	struct out_snmp_stats st;
	struct stat_wait w;
	struct msgevent ev;
	char err[256];
	unsigned i;

	(void)state;
	target_init(&t, r, true);
	t.retries = 2;
	t.timeout_ms = 10;
	s = out_snmp_new(loop, &t, err, sizeof(err));
	if (s == NULL)
		fail_msg("out_snmp_new: %s", err);
	for (i = 0; i < 5; i++) {
		login_event(&ev);
		out_snmp_emit(s, &ev);
	}
	assert_int_equal(out_snmp_pending(s), 5);
	w = (struct stat_wait){ s, 0, 5 };
	run_until(stats_reached, &w);
	out_snmp_get_stats(s, &st);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.unacked, 5);
	assert_int_equal(st.dropped, 5);
	assert_int_equal(r->count, 5 * 3);
	assert_int_equal(out_snmp_pending(s), 0);
	assert_int_equal(out_snmp_timeout_ms(s), -1);
	out_snmp_free(&s);
	receiver_free(r);
}

/* What waits is bounded: more events than the queue holds are dropped. */
static void
test_queue_bound(void **state)
{
	struct receiver *r = receiver_new(false);
	struct out_snmp_target t;
	struct out_snmp *s;
	struct out_snmp_stats st;
	struct msgevent ev;
	char err[256];
	unsigned i;

	(void)state;
	target_init(&t, r, true);
	t.queue_bytes = 0;	/* the minimum, 64 KiB */
	t.timeout_ms = 60000;
	s = out_snmp_new(loop, &t, err, sizeof(err));
	if (s == NULL)
		fail_msg("out_snmp_new: %s", err);
	for (i = 0; i < 2000; i++) {
		login_event(&ev);
		out_snmp_emit(s, &ev);
	}
	out_snmp_get_stats(s, &st);
	assert_true(st.dropped > 0);
	assert_int_equal(st.dropped + out_snmp_pending(s), 2000);
	/* Each counts its estimate, a few hundred octets, in 64 KiB. */
	assert_true(out_snmp_pending(s) < 65536 / 200);
	/* Flushing gives up on them and counts them. */
	assert_int_equal(out_snmp_abandon(s), 2000 - st.dropped);
	out_snmp_get_stats(s, &st);
	assert_int_equal(st.dropped, 2000);
	assert_int_equal(out_snmp_pending(s), 0);
	out_snmp_free(&s);
	receiver_free(r);
}

/* The fan-out: out_emit() and out_flush() reach SNMP outputs. */
static void
test_fanout_flush(void **state)
{
	struct receiver *r = receiver_new(true);
	struct out_snmp_target t;
	struct out_stats st;
	struct msgevent ev;
	struct out *out;
	char err[256];

	(void)state;
	out = out_new(loop);
	assert_non_null(out);
	target_init(&t, r, true);
	t.timeout_ms = 5000;
	if (out_add_snmp(out, &t, err, sizeof(err)) != 0)
		fail_msg("out_add_snmp: %s", err);
	login_event(&ev);
	out_emit(out, &ev);
	/*
	 * The receiver answers from the loop, which does not run during
	 * out_flush(): the inform stays unanswered, polled for 50 ms, then
	 * counted as dropped.
	 */
	assert_int_equal(out_flush(out, 50), 1);
	out_get_stats(out, &st);
	assert_int_equal(st.emitted, 1);
	assert_int_equal(st.dropped, 1);
	out_free(&out);
	receiver_free(r);
}

/*
 * SNMPv3: a trap goes with msgeventd's engine (authPriv here), and the
 * message still fits max_size; the pass phrases appear in no log line
 * and no error.
 */
static void
test_v3_trap(void **state)
{
	static const char *const privs[] = { "AES", "AES-256", "DES" };
	struct receiver *r = receiver_new(false);
	struct out_snmp_target t;
	struct out_snmp *s;
	struct counted c = { r, 0 };
	struct msgevent ev;
	char err[256], log[8192], path[128];
	size_t i;
	int saved, fd;

	(void)state;
	/* Everything the output says goes to a file, then checked. */
	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	diag_set_level(DIAG_DEBUG);
	for (i = 0; i < sizeof(privs) / sizeof(privs[0]); i++) {
		target_init(&t, r, false);
		t.version = OUT_SNMP_V3;
		t.user = "mev";
		t.auth_proto = i == 1 ? "SHA-512" : "SHA";
		t.auth_pass = AUTH_PASS;
		t.priv_proto = privs[i];
		t.priv_pass = PRIV_PASS;
		t.max_size = OUT_SNMP_SIZE_MIN;
		s = out_snmp_new(loop, &t, err, sizeof(err));
		if (s == NULL)
			fail_msg("out_snmp_new(%s): %s", privs[i], err);
		login_event(&ev);
		msgevent_set(&ev, MSGEVENT_P_UIDSET, scratch, 3000);
		out_snmp_emit(s, &ev);
		c.want = (unsigned)i + 1;
		run_until(received, &c);
		if (r->largest > OUT_SNMP_SIZE_MIN)
			fail_msg("%s: a message of %zu octets", privs[i],
			    r->largest);
		out_snmp_free(&s);
	}
	/* A short pass phrase, an unknown protocol: errors, no secret. */
	target_init(&t, r, false);
	t.version = OUT_SNMP_V3;
	t.user = "mev";
	t.auth_proto = "SHA";
	t.auth_pass = "short";
	assert_null(out_snmp_new(loop, &t, err, sizeof(err)));
	assert_null(strstr(err, "short"));
	t.auth_pass = AUTH_PASS;
	t.priv_proto = "ROT13";
	t.priv_pass = PRIV_PASS;
	assert_null(out_snmp_new(loop, &t, err, sizeof(err)));
	assert_int_equal(errno, ENOTSUP);
	assert_null(strstr(err, AUTH_PASS));
	assert_null(strstr(err, PRIV_PASS));
	diag_set_level(DIAG_ERROR);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	memset(log, 0, sizeof(log));
	assert_true(read(fd, log, sizeof(log) - 1) >= 0);
	close(fd);
	unlink(path);
	assert_non_null(strstr(log, "SNMPv3 engine ID 0x80007ed905"));
	assert_null(strstr(log, AUTH_PASS));
	assert_null(strstr(log, PRIV_PASS));
	assert_null(strstr(log, COMMUNITY));
	receiver_free(r);
	snprintf(path, sizeof(path), "%s/" OUT_SNMP_STATE_FILE, tmpdir);
	unlink(path);
}

/* For test_mib.py: every OID the output sends, with its MIB name. */
static int
print_oids(void)
{
	char name[128], num[256];
	size_t i;

	for (i = 0; out_snmp_oid_describe(i, name, sizeof(name), num,
	    sizeof(num)); i++)
		printf("%s %s\n", name, num);
	return 0;
}

/* ---- split events fit a notification whole ----------------------------- */

struct fit {
	struct out_snmp_format fmt;
	size_t events, with_uidset, longest;
	const char *path;
};

static void
fit_emit(void *ctx, const struct msgevent *ev)
{
	struct fit *f = ctx;
	netsnmp_pdu *pdu;
	bool trunc;
	size_t size;

	pdu = format(&f->fmt, ev, &trunc, &size);
	f->events++;
	if (msgevent_has(ev, MSGEVENT_P_UIDSET)) {
		f->with_uidset++;
		if (size + f->fmt.overhead > f->longest)
			f->longest = size + f->fmt.overhead;
		if (trunc && !ev->truncated)
			fail_msg("%s: a %s event did not fit %zu octets "
			    "(%zu + %zu)", f->path,
			    msgevent_type_name(ev->type), f->fmt.max_size,
			    size, f->fmt.overhead);
	}
	snmp_free_pdu(pdu);
}

/*
 * Every event with a UID set the inference makes from the transcripts
 * (every tests/transcripts file: split-store.t, split-expunge.t and
 * split-copyuid.t among them, whose sets are split in parts,
 * IMAP_INFER_EVENT_BYTES) fits an SNMPv3 authPriv inform of the default
 * snmp-max-size whole, for a user name of 32 octets and an engine ID of
 * 32: nothing cut, no msgEvTruncated.0 but the event's own.
 */
static void
test_split_events_fit(void **state)
{
	struct out_snmp_target t;
	struct imap_infer_env env;
	struct imap_infer *infer;
	struct transcript tr;
	struct fit f;
	char err[1024], **paths;
	size_t npaths, i, k;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.version = OUT_SNMP_V3;
	t.user = "noc-operator-with-32-octets-name";
	assert_int_equal(strlen(t.user), 32);
	memset(&f, 0, sizeof(f));
	f.fmt.inform = true;
	f.fmt.max_size = OUT_SNMP_SIZE_DEFAULT;
	f.fmt.overhead = out_snmp_overhead(&t);
	f.fmt.uptime = UINT32_MAX;
	assert_int_equal(transcript_list("../transcripts", &paths, &npaths), 0);
	assert_true(npaths > 10);
	for (i = 0; i < npaths; i++) {
		if (transcript_load(paths[i], &tr, err, sizeof(err)) == -1)
			fail_msg("%s", err);
		memset(&env, 0, sizeof(env));
		env.client_ip = "2001:db8::1234:5678";
		env.client_port = 65535;
		env.server_domain = TRANSCRIPT_ENV_SERVER_DOMAIN;
		env.server_port = 143;
		env.server_fqdn = TRANSCRIPT_ENV_SERVER_FQDN;
		env.service = "imap";
		env.session_id = UINT64_MAX;
		env.emit = fit_emit;
		env.ctx = &f;
		f.path = paths[i];
		infer = imap_infer_new(&env);
		assert_non_null(infer);
		for (k = 0; k < tr.nsteps; k++) {
			if (tr.steps[k].op == TRANSCRIPT_CLIENT)
				imap_infer_client_data(infer, tr.steps[k].data,
				    tr.steps[k].len);
			else if (tr.steps[k].op == TRANSCRIPT_SERVER)
				imap_infer_server_data(infer, tr.steps[k].data,
				    tr.steps[k].len);
			else if (tr.steps[k].op == TRANSCRIPT_END)
				imap_infer_end(infer, tr.steps[k].reason);
		}
		imap_infer_free(&infer);
		transcript_free(&tr);
	}
	transcript_list_free(paths, npaths);
	print_message("%zu events, %zu with a uidset, the longest %zu "
	    "octets of %d\n", f.events, f.with_uidset, f.longest,
	    OUT_SNMP_SIZE_DEFAULT);
	assert_true(f.with_uidset > 100);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oid_table),
		cmocka_unit_test(test_login_bindings),
		cmocka_unit_test(test_missing_objects),
		cmocka_unit_test(test_addresses_and_numbers),
		cmocka_unit_test(test_text_cleaned),
		cmocka_unit_test(test_object_size),
		cmocka_unit_test(test_event_truncated),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_split_events_fit),
		cmocka_unit_test(test_state_file),
		cmocka_unit_test_setup_teardown(test_trap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inform_acknowledged,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_inform_unacknowledged,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fanout_flush, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_v3_trap, setup, teardown),
	};
	int rc;

	if (argc == 2 && strcmp(argv[1], "--oids") == 0)
		return print_oids();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_out_snmp.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	/* Drops and lost informs are expected here: no warnings. */
	diag_set_level(DIAG_ERROR);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(tmpdir);
	return rc;
}
