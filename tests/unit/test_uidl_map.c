/*
 * test_uidl_map.c - POP3 unique-ids to IMAP UIDs with PCRE2
 * (proxy/uidl_map.h): Dovecot's default, decimal patterns, every way a
 * unique-id fails to map, compile errors, the match limits, references,
 * and no allocation per match.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <malloc.h>
#include <string.h>

#include "../../proxy/uidl_map.h"

/* INTERFACE.md: Dovecot's default pop3_uidl_format %08Xu%08Xv. */
#define DOVECOT	"^(?<uid>[0-9A-Fa-f]{8})(?<uidvalidity>[0-9A-Fa-f]{8})$"

static struct uidl_map *
map_ok(const char *pattern, enum uidl_map_base base)
{
	char err[512];
	struct uidl_map *map = uidl_map_new(pattern, base, err, sizeof(err));

	if (map == NULL)
		fail_msg("%s: %s", pattern, err);
	return map;
}

static void
map_err(const char *pattern, const char *want)
{
	char err[512];
	struct uidl_map *map;

	err[0] = '\0';
	map = uidl_map_new(pattern, UIDL_MAP_HEX, err, sizeof(err));
	assert_null(map);
	assert_string_equal(err, want);
}

/* Does S map, and to what? */
static bool
match(struct uidl_map *map, const char *s, uint32_t *uid_r,
    uint32_t *uidv_r)
{
	*uid_r = *uidv_r = 0;
	return uidl_map_match(map, s, strlen(s), uid_r, uidv_r);
}

static void
test_dovecot(void **state)
{
	struct uidl_map *map = map_ok(DOVECOT, UIDL_MAP_HEX);
	uint32_t uid, uidv;

	(void)state;
	assert_true(match(map, "000000016b0d69cc", &uid, &uidv));
	assert_int_equal(uid, 1);
	assert_int_equal(uidv, 1796041164);
	assert_true(match(map, "FFFFFFFFFFFFFFFF", &uid, &uidv));
	assert_int_equal(uid, UINT32_MAX);
	assert_int_equal(uidv, UINT32_MAX);
	/* not Dovecot's form */
	assert_false(match(map, "000000016b0d69c", &uid, &uidv));
	assert_false(match(map, "000000016b0d69ccc", &uid, &uidv));
	assert_false(match(map, "00000001-b0d69cc", &uid, &uidv));
	assert_false(match(map, "", &uid, &uidv));
	/* UID and UIDVALIDITY are nz-numbers (RFC 9051) */
	assert_false(match(map, "000000006b0d69cc", &uid, &uidv));
	assert_false(match(map, "0000000100000000", &uid, &uidv));
	/* LEN counts, not a NUL */
	assert_false(uidl_map_match(map, "000000016b0d69cc", 15, &uid, &uidv));
	assert_true(uidl_map_match(map, "000000026b0d69ccXYZ", 16, &uid,
	    &uidv));
	assert_int_equal(uid, 2);
	uidl_map_unref(&map);
	assert_null(map);
}

static void
test_decimal(void **state)
{
	struct uidl_map *map;
	uint32_t uid, uidv;

	(void)state;
	/* Courier-like "UIDVALIDITY-UID", decimal by default */
	map = map_ok("^(?<uidvalidity>\\d+)-(?<uid>\\d+)$", UIDL_MAP_DECIMAL);
	assert_true(match(map, "1700000000-42", &uid, &uidv));
	assert_int_equal(uid, 42);
	assert_int_equal(uidv, 1700000000);
	assert_true(match(map, "4294967295-0004294967295", &uid, &uidv));
	assert_int_equal(uid, UINT32_MAX);
	assert_false(match(map, "4294967296-1", &uid, &uidv));
	assert_false(match(map, "1-99999999999999999999999", &uid, &uidv));
	assert_false(match(map, "1-0", &uid, &uidv));
	uidl_map_unref(&map);

	/* groups that match more than digits of the base */
	map = map_ok("^(?<uid>\\w+)\\.(?<uidvalidity>\\S+)$", UIDL_MAP_DECIMAL);
	assert_true(match(map, "7.9", &uid, &uidv));
	assert_false(match(map, "7a.9", &uid, &uidv));
	assert_false(match(map, "7.+9", &uid, &uidv));
	assert_false(match(map, "7.-9", &uid, &uidv));
	uidl_map_unref(&map);

	/* a group that took no part, or matched nothing */
	map = map_ok("^(?<uid>\\d+)(?:-(?<uidvalidity>\\d+))?$",
	    UIDL_MAP_DECIMAL);
	assert_false(match(map, "5", &uid, &uidv));
	assert_true(match(map, "5-6", &uid, &uidv));
	uidl_map_unref(&map);
	map = map_ok("^(?<uidvalidity>\\d*)x(?<uid>\\d*)$", UIDL_MAP_DECIMAL);
	assert_false(match(map, "x5", &uid, &uidv));
	assert_false(match(map, "5x", &uid, &uidv));
	assert_true(match(map, "5x6", &uid, &uidv));
	assert_int_equal(uid, 6);
	assert_int_equal(uidv, 5);
	uidl_map_unref(&map);
	/* the last group set comes before uid's: rc says so */
	map = map_ok("^(?<uidvalidity>\\d+)(?:x(?<uid>[0-9a-f]+))?",
	    UIDL_MAP_HEX);
	assert_false(match(map, "12", &uid, &uidv));
	assert_true(match(map, "12x1f", &uid, &uidv));
	assert_int_equal(uid, 31);
	assert_int_equal(uidv, 18);
	uidl_map_unref(&map);
}

static void
test_errors(void **state)
{
	(void)state;
	map_err("^(?<uid>[0-9a-f]{8}", "not a valid PCRE2 pattern: missing "
	    "closing parenthesis at offset 19");
	map_err("(?<uid>\\d)[", "not a valid PCRE2 pattern: missing "
	    "terminating ] for character class at offset 11");
	map_err("(?<uid>\\d+)", "no named group 'uidvalidity' (write "
	    "(?<uidvalidity>...))");
	map_err("(?<UID>\\d+)(?<uidvalidity>\\d+)", "no named group 'uid' "
	    "(write (?<uid>...))");
	map_err("(?J)(?<uid>a)(?<uidvalidity>b)|(?<uidvalidity>c)",
	    "the named group 'uidvalidity' appears more than once");
}

/*
 * Catastrophic backtracking ends at the match limit: a failed match,
 * counted, quickly.
 */
static void
test_limits(void **state)
{
	struct uidl_map *map;
	uint32_t uid, uidv;

	(void)state;
	map = map_ok("^(?<uid>(\\w+)+)!(?<uidvalidity>\\d)$", UIDL_MAP_DECIMAL);
	assert_int_equal(uidl_map_errors(map), 0);
	assert_true(match(map, "1!2", &uid, &uidv));
	assert_false(match(map, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!x",
	    &uid, &uidv));
	assert_int_equal(uidl_map_errors(map), 1);
	/* a plain mismatch is no error */
	assert_false(match(map, "1!x", &uid, &uidv));
	assert_int_equal(uidl_map_errors(map), 1);
	uidl_map_unref(&map);
}

static void
test_refs(void **state)
{
	struct uidl_map *map = map_ok(DOVECOT, UIDL_MAP_HEX), *two;
	uint32_t uid, uidv;

	(void)state;
	two = uidl_map_ref(map);
	assert_ptr_equal(two, map);
	uidl_map_unref(&map);
	assert_null(map);
	assert_true(match(two, "000000036b0d69cc", &uid, &uidv));
	uidl_map_unref(&two);
	assert_null(uidl_map_ref(NULL));
	uidl_map_unref(&two);
}

/* The match data is the map's: a match allocates nothing. */
static void
test_no_allocation(void **state)
{
	struct uidl_map *map = map_ok(DOVECOT, UIDL_MAP_HEX);
	struct mallinfo2 before, after;
	uint32_t uid, uidv;
	int i;

	(void)state;
	assert_true(match(map, "000000016b0d69cc", &uid, &uidv));
	before = mallinfo2();
	for (i = 0; i < 1000; i++) {
		assert_true(match(map, "000000016b0d69cc", &uid, &uidv));
		assert_false(match(map, "nope", &uid, &uidv));
	}
	after = mallinfo2();
	assert_int_equal(after.uordblks, before.uordblks);
	uidl_map_unref(&map);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot),
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_no_allocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
