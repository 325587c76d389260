/*
 * uidl_map.h - POP3 unique-ids to IMAP UIDs, with the operator's PCRE2
 * pattern (INTERFACE.md: pop3-uidl-pattern REGEX [hex|decimal]).
 *
 * Many servers build a message's UIDL (RFC 1939 7) from its IMAP UID
 * and the mailbox's UIDVALIDITY: Dovecot's default pop3_uidl_format
 * %08Xu%08Xv gives "000000056b0d69cc" for UID 5, UIDVALIDITY
 * 1796041164.  The pattern, with named groups "uid" and "uidvalidity",
 * reads them back, so that a POP3 expunge names the same messages as
 * an IMAP session on the same mailbox.
 *
 * A map is compiled once, when the configuration is read, and shared by
 * reference: by the configuration, the session set and every session
 * that uses it (a reload gives new sessions a new map; established ones
 * keep theirs).  Matching allocates nothing: the match data is made
 * with the map, and a match context bounds the work of one match
 * (UIDL_MAP_MATCH_LIMIT), so a pathological pattern costs a failed
 * match, never a stalled loop.  The process is single-threaded: one
 * match data per map is enough.
 */
#ifndef UIDL_MAP_H
#define UIDL_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Backtracking steps (PCRE2's match limit) of one match; past it, the
 * unique-id does not match (the expunge is then reported without that
 * message's UID, marked truncated).  Anchored patterns such as
 * Dovecot's take a few dozen.
 */
#define UIDL_MAP_MATCH_LIMIT	10000
/* Nesting depth (PCRE2's depth limit) of one match, likewise. */
#define UIDL_MAP_DEPTH_LIMIT	1000
/* Heap (KiB) PCRE2 may use for one match's backtracking, likewise. */
#define UIDL_MAP_HEAP_LIMIT	256

/* How the groups' digits are read. */
enum uidl_map_base {
	UIDL_MAP_DECIMAL,
	UIDL_MAP_HEX,
};

struct uidl_map;

/*
 * Compile PATTERN (PCRE2 syntax, NUL-terminated).  Returns a map with
 * one reference, or NULL with a message in ERR: PCRE2's own with the
 * offset ("missing closing parenthesis at offset 12"), or a named
 * group missing ("no named group 'uidvalidity'") or named twice.
 */
struct uidl_map *uidl_map_new(const char *pattern, enum uidl_map_base base,
    char *err, size_t errlen);

/* Another reference to MAP (NULL: NULL). */
struct uidl_map *uidl_map_ref(struct uidl_map *map);

/* Drops a reference; frees the map with the last.  Clears *map. */
void uidl_map_unref(struct uidl_map **map);

/*
 * Match the unique-id UIDL (LEN bytes, not NUL-terminated).  True when
 * the pattern matches and both groups are set and hold a number in the
 * map's base (digits only, no sign) from 1 to 4294967295 (RFC 9051
 * nz-number): then *UID_R and *UIDVALIDITY_R are set.  False otherwise,
 * or when the match limits were reached.
 */
bool uidl_map_match(struct uidl_map *map, const char *uidl, size_t len,
    uint32_t *uid_r, uint32_t *uidvalidity_r);

/* Match calls that hit a PCRE2 limit (or failed otherwise), in total. */
uint64_t uidl_map_errors(const struct uidl_map *map);

#endif
