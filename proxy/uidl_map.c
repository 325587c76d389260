/*
 * uidl_map.c - POP3 unique-ids to IMAP UIDs with PCRE2 (uidl_map.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "uidl_map.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>

struct uidl_map {
	unsigned refs;
	enum uidl_map_base base;
	pcre2_code *code;
	pcre2_match_data *md;		/* made once, reused by every match */
	pcre2_match_context *mctx;	/* the limits */
	uint32_t g_uid, g_uidvalidity;	/* group numbers */
	uint64_t errors;
};

static void
map_free(struct uidl_map *map)
{
	pcre2_match_data_free(map->md);
	pcre2_match_context_free(map->mctx);
	pcre2_code_free(map->code);
	free(map);
}

/*
 * The number of the group called NAME, or -1 with a message: missing,
 * or named twice ((?J) allows that; which one would count?).
 */
static int
group_number(const pcre2_code *code, const char *name, char *err,
    size_t errlen)
{
	int n = pcre2_substring_number_from_name(code, (PCRE2_SPTR)name);

	if (n == PCRE2_ERROR_NOUNIQUESUBSTRING) {
		snprintf(err, errlen, "the named group '%s' appears more than "
		    "once", name);
		return -1;
	}
	if (n < 0) {
		snprintf(err, errlen, "no named group '%s' (write "
		    "(?<%s>...))", name, name);
		return -1;
	}
	return n;
}

struct uidl_map *
uidl_map_new(const char *pattern, enum uidl_map_base base, char *err,
    size_t errlen)
{
	struct uidl_map *map;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE offset;
	int code, g1, g2;

	if ((map = calloc(1, sizeof(*map))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	map->refs = 1;
	map->base = base;
	map->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    0, &code, &offset, NULL);
	if (map->code == NULL) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		snprintf(err, errlen, "not a valid PCRE2 pattern: %s at "
		    "offset %zu", (char *)msg, (size_t)offset);
		map_free(map);
		return NULL;
	}
	if ((g1 = group_number(map->code, "uid", err, errlen)) < 0 ||
	    (g2 = group_number(map->code, "uidvalidity", err, errlen)) < 0) {
		map_free(map);
		return NULL;
	}
	map->g_uid = (uint32_t)g1;
	map->g_uidvalidity = (uint32_t)g2;
	map->md = pcre2_match_data_create_from_pattern(map->code, NULL);
	map->mctx = pcre2_match_context_create(NULL);
	if (map->md == NULL || map->mctx == NULL) {
		snprintf(err, errlen, "out of memory");
		map_free(map);
		return NULL;
	}
	pcre2_set_match_limit(map->mctx, UIDL_MAP_MATCH_LIMIT);
	pcre2_set_depth_limit(map->mctx, UIDL_MAP_DEPTH_LIMIT);
	pcre2_set_heap_limit(map->mctx, UIDL_MAP_HEAP_LIMIT);
	return map;
}

struct uidl_map *
uidl_map_ref(struct uidl_map *map)
{
	if (map != NULL)
		map->refs++;
	return map;
}

void
uidl_map_unref(struct uidl_map **mapp)
{
	struct uidl_map *map = *mapp;

	if (map == NULL)
		return;
	*mapp = NULL;
	if (--map->refs == 0)
		map_free(map);
}

/*
 * Group G of the last match as a number in the map's base: 1 to
 * UINT32_MAX, digits only.  Leading zeros are fine (Dovecot's %08X).
 */
static bool
group_value(const struct uidl_map *map, const char *s, int rc, uint32_t g,
    uint32_t *v_r)
{
	const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(map->md);
	PCRE2_SIZE from, to;
	uint64_t v = 0;
	unsigned radix = map->base == UIDL_MAP_HEX ? 16 : 10;
	unsigned d;
	char c;

	/* RC pairs are set: the groups after the last one set are not. */
	if (g >= (uint32_t)rc)
		return false;
	from = ov[2 * g];
	to = ov[2 * g + 1];
	if (from == PCRE2_UNSET || to <= from)
		return false;
	for (; from < to; from++) {
		c = s[from];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (radix == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (radix == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v * radix + d;
		if (v > UINT32_MAX)
			return false;
	}
	if (v == 0)
		return false;
	*v_r = (uint32_t)v;
	return true;
}

bool
uidl_map_match(struct uidl_map *map, const char *uidl, size_t len,
    uint32_t *uid_r, uint32_t *uidvalidity_r)
{
	uint32_t uid, uidvalidity;
	int rc;

	rc = pcre2_match(map->code, (PCRE2_SPTR)uidl, len, 0, 0, map->md,
	    map->mctx);
	if (rc < 0) {
		if (rc != PCRE2_ERROR_NOMATCH)
			map->errors++;
		return false;
	}
	/* rc 0: the ovector is too small, which match data from the
	   pattern never is. */
	if (rc == 0 || !group_value(map, uidl, rc, map->g_uid, &uid) ||
	    !group_value(map, uidl, rc, map->g_uidvalidity, &uidvalidity))
		return false;
	*uid_r = uid;
	*uidvalidity_r = uidvalidity;
	return true;
}

uint64_t
uidl_map_errors(const struct uidl_map *map)
{
	return map->errors;
}
