/*
 * test_msgevent.c - the neutral event: parameters, the value space and
 * its UTF-8 cut, the name tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../parser/msgevent.h"

static void
test_set_get(void **state)
{
	struct msgevent ev;
	const char *v;
	size_t len;

	(void)state;
	msgevent_init(&ev, MSGEVENT_MESSAGE_APPEND);
	assert_int_equal(ev.type, MSGEVENT_MESSAGE_APPEND);
	assert_false(ev.truncated);
	assert_false(msgevent_has(&ev, MSGEVENT_P_USER));
	len = 99;
	assert_null(msgevent_get(&ev, MSGEVENT_P_USER, &len));
	assert_int_equal(len, 0);
	assert_null(msgevent_get(&ev, MSGEVENT_P_USER, NULL));

	assert_int_equal(msgevent_set_str(&ev, MSGEVENT_P_USER, "alice"), 0);
	assert_true(msgevent_has(&ev, MSGEVENT_P_USER));
	v = msgevent_get(&ev, MSGEVENT_P_USER, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(v, "alice", 5);

	/* Any bytes, NUL included. */
	assert_int_equal(msgevent_set(&ev, MSGEVENT_P_TAGS, "a\0b", 3), 0);
	v = msgevent_get(&ev, MSGEVENT_P_TAGS, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "a\0b", 3);

	/* An empty value is present. */
	assert_int_equal(msgevent_set(&ev, MSGEVENT_P_FLAG_NAMES, "", 0), 0);
	assert_true(msgevent_has(&ev, MSGEVENT_P_FLAG_NAMES));
	assert_non_null(msgevent_get(&ev, MSGEVENT_P_FLAG_NAMES, &len));
	assert_int_equal(len, 0);

	assert_int_equal(msgevent_set_uint(&ev, MSGEVENT_P_MODSEQ,
	    UINT64_MAX), 0);
	v = msgevent_get(&ev, MSGEVENT_P_MODSEQ, &len);
	assert_int_equal(len, 20);
	assert_memory_equal(v, "18446744073709551615", 20);

	assert_int_equal(msgevent_setf(&ev, MSGEVENT_P_UIDSET, "%u:%u", 4u,
	    6u), 0);
	v = msgevent_get(&ev, MSGEVENT_P_UIDSET, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "4:6", 3);

	assert_false(msgevent_has(&ev, MSGEVENT_PARAM_COUNT));
	assert_false(ev.truncated);
}

static void
test_first_value_wins(void **state)
{
	struct msgevent ev;
	const char *v;
	size_t len, used;

	(void)state;
	msgevent_init(&ev, MSGEVENT_LOGIN);
	msgevent_set_str(&ev, MSGEVENT_P_USER, "alice");
	used = ev.used;
	assert_int_equal(msgevent_set_str(&ev, MSGEVENT_P_USER, "mallory"), 0);
	assert_int_equal(msgevent_set_uint(&ev, MSGEVENT_P_USER, 7), 0);
	assert_int_equal(msgevent_setf(&ev, MSGEVENT_P_USER, "%s", "x"), 0);
	v = msgevent_get(&ev, MSGEVENT_P_USER, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(v, "alice", 5);
	assert_int_equal(ev.used, used);	/* no space taken */

	/* msgevent_init()'s timestamp is a first value too. */
	assert_int_equal(msgevent_set_str(&ev, MSGEVENT_P_TIMESTAMP, "x"), 0);
	v = msgevent_get(&ev, MSGEVENT_P_TIMESTAMP, &len);
	assert_int_equal(len, 27);
	assert_int_not_equal(v[0], 'x');
}

static void
test_init_timestamp(void **state)
{
	struct msgevent ev;
	const char *v;
	size_t len;

	(void)state;
	msgevent_init(&ev, MSGEVENT_LOGOUT);
	v = msgevent_get(&ev, MSGEVENT_P_TIMESTAMP, &len);
	assert_non_null(v);
	/* 2026-11-30T10:00:00.123456Z */
	assert_int_equal(len, 27);
	assert_int_equal(v[4], '-');
	assert_int_equal(v[10], 'T');
	assert_int_equal(v[19], '.');
	assert_int_equal(v[26], 'Z');
	assert_int_equal(ev.used, 27);
}

/* A value that does not fit is cut on a UTF-8 boundary, flagged. */
static void
test_value_space(void **state)
{
	static char big[MSGEVENT_VALUE_SPACE + 100];
	struct msgevent ev;
	const char *v;
	size_t len, i, room;

	(void)state;
	for (i = 0; i + 2 <= sizeof(big); i += 2)
		memcpy(big + i, "\xC3\xA9", 2);	/* U+00E9 */
	msgevent_init(&ev, MSGEVENT_MESSAGE_NEW);
	room = MSGEVENT_VALUE_SPACE - ev.used;		/* 4069: odd */
	assert_int_equal(room % 2, 1);
	assert_int_equal(msgevent_set(&ev, MSGEVENT_P_ENVELOPE, big,
	    sizeof(big)), 1);
	assert_true(ev.truncated);
	v = msgevent_get(&ev, MSGEVENT_P_ENVELOPE, &len);
	assert_int_equal(len, room - 1);
	assert_int_equal((unsigned char)v[len - 1], 0xA9);
	assert_int_equal(msgevent_utf8_cut(v, len), len);
	assert_int_equal(ev.used, MSGEVENT_VALUE_SPACE - 1);

	/* One byte left: a two-byte character cannot go in at all. */
	assert_int_equal(msgevent_set(&ev, MSGEVENT_P_USER, big, 2), 1);
	assert_true(msgevent_has(&ev, MSGEVENT_P_USER));
	msgevent_get(&ev, MSGEVENT_P_USER, &len);
	assert_int_equal(len, 0);
	/* But one ASCII byte fits exactly. */
	assert_int_equal(msgevent_set(&ev, MSGEVENT_P_UIDSET, "4", 1), 0);
	assert_int_equal(ev.used, MSGEVENT_VALUE_SPACE);
	assert_int_equal(msgevent_set_str(&ev, MSGEVENT_P_URI, "u"), 1);
	msgevent_get(&ev, MSGEVENT_P_URI, &len);
	assert_int_equal(len, 0);
}

static void
test_value_space_exact(void **state)
{
	static char big[MSGEVENT_VALUE_SPACE];
	struct msgevent ev;

	(void)state;
	memset(big, 'a', sizeof(big));
	msgevent_init(&ev, MSGEVENT_MESSAGE_NEW);
	assert_int_equal(msgevent_set(&ev, MSGEVENT_P_ENVELOPE, big,
	    MSGEVENT_VALUE_SPACE - ev.used), 0);
	assert_false(ev.truncated);
	assert_int_equal(ev.used, MSGEVENT_VALUE_SPACE);
}

static void
test_setf_long(void **state)
{
	static char big[2000];
	struct msgevent ev;
	const char *v;
	size_t len;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big + 1021, "\xE2\x82\xAC", 3);	/* bytes 1021..1023 */
	big[sizeof(big) - 1] = '\0';
	msgevent_init(&ev, MSGEVENT_MESSAGE_NEW);
	assert_int_equal(msgevent_setf(&ev, MSGEVENT_P_ENVELOPE, "%s", big), 1);
	assert_true(ev.truncated);
	v = msgevent_get(&ev, MSGEVENT_P_ENVELOPE, &len);
	/* 1023 bytes fit the scratch; the euro sign would end at 1024. */
	assert_int_equal(len, 1021);
	assert_int_equal(v[len - 1], 'a');

	/* Already set: nothing is cut, so the event is not truncated. */
	msgevent_init(&ev, MSGEVENT_MESSAGE_NEW);
	msgevent_set_str(&ev, MSGEVENT_P_ENVELOPE, "x");
	assert_int_equal(msgevent_setf(&ev, MSGEVENT_P_ENVELOPE, "%s", big), 0);
	assert_false(ev.truncated);
}

static void
test_utf8_cut(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		size_t cut;
	} t[] = {
		{ "", 0, 0 },
		{ "abc", 3, 3 },
		{ "\xC3\xA9", 2, 2 },			/* complete */
		{ "\xC3", 1, 0 },			/* lead alone */
		{ "a\xC3", 2, 1 },
		{ "a\xE2\x82", 3, 1 },			/* 2 of 3 */
		{ "a\xE2\x82\xAC", 4, 4 },
		{ "\xF0\x9F\x98", 3, 0 },		/* 3 of 4 */
		{ "\xF0\x9F\x98\x80", 4, 4 },
		{ "ab\xF0", 3, 2 },
		{ "\x80\x80", 2, 2 },			/* no lead: any cut */
		{ "a\x80\x80\x80\x80", 5, 5 },
		{ "\xFF", 1, 1 },			/* not a lead byte */
		{ "a\xFE\x80", 3, 3 },
		{ "\xF0\x9F\x98\x80\x80", 5, 5 },	/* stray after 4 */
		{ "\xC3\xA9\xC3", 3, 2 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (msgevent_utf8_cut(t[i].s, t[i].len) != t[i].cut)
			print_message("case %zu\n", i);
		assert_int_equal(msgevent_utf8_cut(t[i].s, t[i].len), t[i].cut);
	}
}

/*
 * What RFC 5424 asks of MSGID and SD-NAME: 1..32 PRINTUSASCII, and for
 * SD-NAME no '=', SP, ']', '"'.
 */
static void
assert_sd_name(const char *s)
{
	size_t i, n = strlen(s);

	assert_true(n >= 1 && n <= 32);
	for (i = 0; i < n; i++) {
		assert_true(s[i] >= 33 && s[i] <= 126);
		assert_true(s[i] != '=' && s[i] != ']' && s[i] != '"');
	}
}

static void
test_type_names(void **state)
{
	unsigned i, j;

	(void)state;
	assert_int_equal(MSGEVENT_TYPE_COUNT, 19);
	assert_string_equal(msgevent_type_name(MSGEVENT_LOGIN), "Login");
	assert_string_equal(msgevent_type_name(MSGEVENT_MAILBOX_UNSUBSCRIBE),
	    "MailboxUnSubscribe");
	assert_string_equal(msgevent_type_name(MSGEVENT_QUOTA_EXCEED),
	    "QuotaExceed");
	assert_string_equal(msgevent_type_name(MSGEVENT_LOGIN_FAILURE),
	    "vnd.msgeventd.LoginFailure");
	assert_string_equal(msgevent_type_snmp_name(MSGEVENT_LOGIN_FAILURE),
	    "LoginFailure");
	assert_string_equal(msgevent_type_snmp_name(MSGEVENT_MESSAGE_APPEND),
	    "MessageAppend");
	for (i = 0; i < MSGEVENT_TYPE_COUNT; i++) {
		assert_sd_name(msgevent_type_name(i));	/* MSGID */
		for (j = i + 1; j < MSGEVENT_TYPE_COUNT; j++) {
			assert_string_not_equal(msgevent_type_name(i),
			    msgevent_type_name(j));
			assert_string_not_equal(msgevent_type_snmp_name(i),
			    msgevent_type_snmp_name(j));
		}
	}
}

static void
test_param_names(void **state)
{
	unsigned i, j;

	(void)state;
	assert_string_equal(msgevent_param_name(MSGEVENT_P_USER), "user");
	assert_string_equal(msgevent_param_name(MSGEVENT_P_CLIENT_IP),
	    "clientIP");
	assert_string_equal(msgevent_param_name(MSGEVENT_P_MAILBOX_ID),
	    "mailboxID");
	assert_string_equal(msgevent_param_name(MSGEVENT_P_OLD_MAILBOX_ID),
	    "oldMailboxID");
	assert_string_equal(msgevent_param_name(MSGEVENT_P_UIDSET), "uidset");
	assert_string_equal(msgevent_param_name(MSGEVENT_P_SERVER_DOMAIN),
	    "serverDomain");
	assert_string_equal(msgevent_param_name(MSGEVENT_P_SERVER_PORT),
	    "serverPort");
	assert_string_equal(msgevent_param_name(MSGEVENT_P_SESSION),
	    "vnd.msgeventd.session");
	assert_int_equal(msgevent_param_kind(MSGEVENT_P_USER),
	    MSGEVENT_KIND_STRING);
	assert_int_equal(msgevent_param_kind(MSGEVENT_P_CLIENT_IP),
	    MSGEVENT_KIND_ADDR);
	assert_int_equal(msgevent_param_kind(MSGEVENT_P_CLIENT_PORT),
	    MSGEVENT_KIND_UINT);
	assert_int_equal(msgevent_param_kind(MSGEVENT_P_TIMESTAMP),
	    MSGEVENT_KIND_TIME);
	/* The first parameters, in output order. */
	assert_int_equal(MSGEVENT_P_USER, 0);
	assert_true(MSGEVENT_P_CLIENT_IP < MSGEVENT_P_TIMESTAMP);
	for (i = 0; i < MSGEVENT_PARAM_COUNT; i++) {
		assert_sd_name(msgevent_param_name(i));	/* PARAM-NAME */
		/* "truncated" is the formatter's own marker */
		assert_string_not_equal(msgevent_param_name(i),
		    "vnd.msgeventd.truncated");
		for (j = i + 1; j < MSGEVENT_PARAM_COUNT; j++)
			assert_string_not_equal(msgevent_param_name(i),
			    msgevent_param_name(j));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_get),
		cmocka_unit_test(test_first_value_wins),
		cmocka_unit_test(test_init_timestamp),
		cmocka_unit_test(test_value_space),
		cmocka_unit_test(test_value_space_exact),
		cmocka_unit_test(test_setf_long),
		cmocka_unit_test(test_utf8_cut),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_param_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
