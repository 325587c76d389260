/*
 * imap_capa.c - remove configured capabilities from the server's
 * capability lists.
 *
 * This runs on every server byte, 100 MB FETCH bodies included, so it is
 * not a parser: it reads a line's first tokens to learn whether the line
 * can carry a capability list (RFC 9051 section 9: capability-data,
 * resp-text-code "CAPABILITY"), then hands the rest of an ordinary line
 * to memchr(), and jumps literal bodies.  Passed bytes are never copied:
 * they accumulate as one run [run, p) of the fed chunk and go out in one
 * call when something is cut out, or at the end of the chunk.
 *
 * Only capability lists are read byte by byte.  There, each SP opens a
 * candidate (the SP and the atom after it) that is held back while the
 * atom still matches a configured name.  A mismatching byte keeps the
 * candidate (it joins the run, or the hold buffer goes out first if it
 * began in an earlier chunk); a complete match drops it.  Dropping the
 * SP before the atom keeps the list well-formed wherever the atom was:
 * the list always starts with the SP after "CAPABILITY".
 *
 * Literals (RFC 9051 section 4.3, RFC 7888 "{n+}", RFC 3516 "~{n}") are
 * found where imap_parser finds them: a "{" at a token's start (after
 * SP, "(", ")", the segment's start, or a token-initial "~") whose
 * header closes the segment.  They cannot occur in a status response's
 * resp-text or a continuation, which run as text to the line's end, so
 * those lines are not checked.  The check runs once per line segment,
 * from its last IMAP_CAPA_TAIL_MAX bytes.
 */
#include "imap_capa.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

_Static_assert(IMAP_CAPA_NAMES_MAX <= 32, "a name is a bit of a uint32_t");
_Static_assert(IMAP_CAPA_NAME_MAX <= 255, "name lengths are uint8_t");

enum {
	CAPA_S_START,		/* a line's first byte */
	CAPA_S_STAR,		/* after "*": SP */
	CAPA_S_TAG,		/* in the tag */
	CAPA_S_T1_START,	/* SP after "*" or the tag */
	CAPA_S_T1,		/* in the second token: mask of capa_kw */
	CAPA_S_T2_START,	/* SP after a status word: "[" or not */
	CAPA_S_T2,		/* after "[": "CAPABILITY"? */
	CAPA_S_LIT,		/* rest of a line that may hold literals */
	CAPA_S_NOLIT,		/* rest of a line that holds none */
	CAPA_S_LIST,		/* capability list, between atoms */
	CAPA_S_SPACE,		/* holding a SP */
	CAPA_S_ATOM,		/* holding SP + atom: mask of names */
	CAPA_S_SKIP,		/* passing an atom that is kept */
	CAPA_S_DROP,		/* dropping the rest of a prefix match */
};

/* The second token of a response, upper case. */
static const struct {
	const char *s;
	unsigned len;
} capa_kw[] = {
	{ "CAPABILITY", 10 },	/* untagged only */
	{ "OK", 2 },
	{ "NO", 2 },
	{ "BAD", 3 },
	{ "BYE", 3 },
	{ "PREAUTH", 7 },
};
#define CAPA_KW_CAPABILITY	0x01u
#define CAPA_KW_STATUS		0x3eu	/* the five status words */
#define CAPA_KW_ALL		0x3fu

static const char capa_code[] = "CAPABILITY";	/* after "[" */
#define CAPA_CODE_LEN		10

/* Twenty digits hold any 64-bit number, and some longer ones. */
#define CAPA_DIGITS_MAX		20
/* "~{" digits "+}" CR, and the byte before it. */
_Static_assert(IMAP_CAPA_TAIL_MAX == 2 + CAPA_DIGITS_MAX + 2 + 1 + 1,
    "the tail holds the longest literal header and the byte before");

static unsigned char
capa_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - ('a' - 'A')) : c;
}

/* RFC 9051 section 9: ATOM-CHAR, any CHAR but atom-specials. */
static bool
capa_atom_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\]", c) == NULL;
}

void
imap_capa_list_init(struct imap_capa_list *list)
{
	memset(list, 0, sizeof(*list));
}

int
imap_capa_list_add(struct imap_capa_list *list, const char *name)
{
	size_t len = strlen(name), i;
	unsigned n;

	if (len == 0 || len > IMAP_CAPA_NAME_MAX)
		goto inval;
	for (i = 0; i < len; i++)
		if (!capa_atom_char((unsigned char)name[i]))
			goto inval;
	for (n = 0; n < list->count; n++) {
		if (list->len[n] != len)
			continue;
		for (i = 0; i < len; i++)
			if ((unsigned char)list->name[n][i] !=
			    capa_upper((unsigned char)name[i]))
				break;
		if (i == len)
			return 0;
	}
	if (list->count == IMAP_CAPA_NAMES_MAX) {
		errno = ENOSPC;
		return -1;
	}
	n = list->count++;
	for (i = 0; i < len; i++)
		list->name[n][i] = (char)capa_upper((unsigned char)name[i]);
	list->len[n] = (uint8_t)len;
	if (name[len - 1] == '=')
		list->prefix |= 1u << n;
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

static void
capa_tail_reset(struct imap_capa *f)
{
	f->tail_len = 0;
}

/* Line state back to a line's start; counters and list kept. */
static void
capa_line_reset(struct imap_capa *f)
{
	f->state = CAPA_S_START;
	f->mask = 0;
	f->mlen = 0;
	f->in_code = false;
	f->literal_left = 0;
	f->hold_len = 0;
	capa_tail_reset(f);
}

void
imap_capa_init(struct imap_capa *f, const struct imap_capa_list *list)
{
	memset(f, 0, sizeof(*f));
	f->list = list;
	capa_line_reset(f);
}

void
imap_capa_set_add(struct imap_capa *f, const char *add)
{
	f->add = add;
	f->add_len = add != NULL ? strlen(add) : 0;
	assert(f->add_len <= IMAP_CAPA_ADD_MAX);
}

/*
 * A capability list starts at P (right after its CAPABILITY keyword):
 * the bytes before go out, then the added atom.  Returns the new run.
 */
static const char *
capa_list_start(struct imap_capa *f, const char *run, const char *p,
    imap_capa_out_cb *out, void *ctx)
{
	f->lists++;
	if (f->add == NULL || f->add_len == 0)
		return run;
	if (p > run)
		out(ctx, run, (size_t)(p - run));
	out(ctx, f->add, f->add_len);
	f->added++;
	return p;
}

/* The segment goes on past this chunk: keep its last bytes. */
static void
capa_tail_add(struct imap_capa *f, const char *b, size_t n)
{
	size_t keep;

	if (n >= IMAP_CAPA_TAIL_MAX) {
		memcpy(f->tail, b + n - IMAP_CAPA_TAIL_MAX,
		    IMAP_CAPA_TAIL_MAX);
		f->tail_len = IMAP_CAPA_TAIL_MAX;
		return;
	}
	keep = IMAP_CAPA_TAIL_MAX - n;
	if (f->tail_len > keep) {
		memmove(f->tail, f->tail + f->tail_len - keep, keep);
		f->tail_len = keep;
	}
	memcpy(f->tail + f->tail_len, b, n);
	f->tail_len += n;
}

/*
 * The I-th byte (1 is the last) of the segment before the LF at Q, whose
 * bytes in this chunk start at SEG and earlier ones are in the tail; -1
 * if there is none.
 */
static int
capa_back(const struct imap_capa *f, const char *seg, const char *q,
    size_t i)
{
	size_t in = (size_t)(q - seg);

	if (i <= in)
		return (unsigned char)q[-(ptrdiff_t)i];
	if (i - in <= f->tail_len)
		return (unsigned char)f->tail[f->tail_len - (i - in)];
	return -1;
}

/*
 * Does the segment ending at the LF at Q end in a literal header?  RFC
 * 9051: literal = "{" number64 ["+"] "}" CRLF, literal8 = "~" literal
 * (RFC 3516); a bare LF is taken as imap_parser takes it.  A size above
 * 2^64-1 is no literal here (imap_parser fails on it: the session goes
 * blind).
 */
static bool
capa_literal(const struct imap_capa *f, const char *seg, const char *q,
    uint64_t *size_r)
{
	char b[IMAP_CAPA_TAIL_MAX];
	size_t in = (size_t)(q - seg), k, t, n, i, j, d;
	uint64_t size;
	int c;

	/* Most lines end otherwise: two byte reads decide. */
	c = capa_back(f, seg, q, 1);
	if (c == '\r')
		c = capa_back(f, seg, q, 2);
	if (c != '}')
		return false;

	k = in < IMAP_CAPA_TAIL_MAX ? in : IMAP_CAPA_TAIL_MAX;
	t = IMAP_CAPA_TAIL_MAX - k;
	if (t > f->tail_len)
		t = f->tail_len;
	memcpy(b, f->tail + f->tail_len - t, t);
	memcpy(b + t, q - k, k);
	n = t + k;

	i = n;
	if (b[i - 1] == '\r')
		i--;
	i--;			/* the '}' */
	if (i > 0 && b[i - 1] == '+')
		i--;
	j = i;
	while (j > 0 && b[j - 1] >= '0' && b[j - 1] <= '9')
		j--;
	if (j == i || i - j > CAPA_DIGITS_MAX || j == 0 || b[j - 1] != '{')
		return false;
	d = j - 1;
	if (d > 0 && b[d - 1] == '~')
		d--;
	/*
	 * A token starts at d.  The longest header is shorter than b, so
	 * d == 0 only if b holds the whole segment: d is its first byte.
	 */
	if (d > 0 && b[d - 1] != ' ' && b[d - 1] != '(' && b[d - 1] != ')')
		return false;
	size = 0;
	for (; j < i; j++) {
		/* n*10 + d must fit: as http-parser does. */
		if (size > (UINT64_MAX - (uint64_t)(b[j] - '0')) / 10)
			return false;
		size = size * 10 + (uint64_t)(b[j] - '0');
	}
	*size_r = size;
	return true;
}

/* Ends an atom in a capability list. */
static bool
capa_delim(const struct imap_capa *f, unsigned char c)
{
	return c == ' ' || c == '\r' || c == '\n' || (c == ']' && f->in_code);
}

/*
 * The candidate stays.  If it began in an earlier chunk its held part
 * goes out now; the run then starts at the chunk's first byte, so the
 * rest follows in order.  Otherwise it is inside the run already.
 */
static void
capa_keep(struct imap_capa *f, imap_capa_out_cb *out, void *ctx)
{
	if (f->hold_len > 0) {
		out(ctx, f->hold, f->hold_len);
		f->hold_len = 0;
	}
}

/*
 * The candidate goes: the run before it goes out, and a new run starts
 * at P, the first byte after it.  Returns the new run.
 */
static const char *
capa_drop(struct imap_capa *f, const char *run, const char *cand,
    const char *p, imap_capa_out_cb *out, void *ctx)
{
	if (f->hold_len > 0)
		f->hold_len = 0;
	else if (cand > run)
		out(ctx, run, (size_t)(cand - run));
	f->removed++;
	return p;
}

/* Which names the atom's byte C at offset f->mlen leaves possible. */
static uint32_t
capa_match(const struct imap_capa *f, unsigned char c)
{
	const struct imap_capa_list *l = f->list;
	uint32_t m = f->mask, bit;
	unsigned i;

	c = capa_upper(c);
	for (i = 0; i < l->count; i++) {
		bit = 1u << i;
		if ((m & bit) && (f->mlen >= l->len[i] ||
		    (unsigned char)l->name[i][f->mlen] != c))
			m &= ~bit;
	}
	return m;
}

/* Does a name of mask M, exact or prefix by WANT, have length LEN? */
static bool
capa_complete(const struct imap_capa *f, uint32_t m, uint32_t want,
    unsigned len)
{
	const struct imap_capa_list *l = f->list;
	unsigned i;

	m &= want;
	for (i = 0; i < l->count; i++)
		if ((m & (1u << i)) && l->len[i] == len)
			return true;
	return false;
}

/* Which keywords the second token's byte C at f->mlen leaves possible. */
static uint32_t
capa_kw_match(const struct imap_capa *f, unsigned char c)
{
	uint32_t m = f->mask, bit;
	unsigned i;

	c = capa_upper(c);
	for (i = 0; i < sizeof(capa_kw) / sizeof(capa_kw[0]); i++) {
		bit = 1u << i;
		if ((m & bit) && (f->mlen >= capa_kw[i].len ||
		    (unsigned char)capa_kw[i].s[f->mlen] != c))
			m &= ~bit;
	}
	return m;
}

/* The keyword still matching that is complete at f->mlen bytes, or 0. */
static uint32_t
capa_kw_complete(const struct imap_capa *f)
{
	unsigned i;

	for (i = 0; i < sizeof(capa_kw) / sizeof(capa_kw[0]); i++)
		if ((f->mask & (1u << i)) && capa_kw[i].len == f->mlen)
			return 1u << i;
	return 0;
}

/*
 * The loop: a local state, a case per state, "continue" without p++ to
 * read the same byte again in the next state.  Invariants: [run, p) are
 * bytes to pass, except that a candidate held in a holding state
 * (SPACE, ATOM) starts at cand (or, if f->hold_len > 0, is the hold
 * buffer followed by [data, p), with run == cand == data); seg is the
 * first byte in DATA of the current line segment, whose earlier bytes
 * end in the tail.
 */
void
imap_capa_feed(struct imap_capa *f, const char *data, size_t len,
    imap_capa_out_cb *out, void *ctx)
{
	const char *p = data, *end = data + len, *q;
	const char *run = data, *seg = data, *cand = data;
	unsigned st = f->state;
	uint32_t m;
	uint64_t n;
	unsigned char c;

	while (p < end) {
		if (f->literal_left > 0) {
			/* RFC 9051 4.3: the body is any octets; jump. */
			n = (uint64_t)(end - p);
			if (n > f->literal_left)
				n = f->literal_left;
			p += n;
			f->literal_left -= n;
			if (f->literal_left == 0) {
				seg = p;
				capa_tail_reset(f);
			}
			continue;
		}
		c = (unsigned char)*p;
		switch (st) {
		case CAPA_S_START:
			if (c == '*')
				st = CAPA_S_STAR;
			else if (c == '+')
				st = CAPA_S_NOLIT;	/* continuation */
			else if (c == '\n') {
				seg = p + 1;		/* empty line */
				capa_tail_reset(f);
			} else if (c == '\r' || c == ' ')
				st = CAPA_S_LIT;
			else
				st = CAPA_S_TAG;
			p++;
			continue;
		case CAPA_S_STAR:
			if (c != ' ') {
				st = CAPA_S_TAG;
				continue;
			}
			f->mask = CAPA_KW_ALL;
			st = CAPA_S_T1_START;
			p++;
			continue;
		case CAPA_S_TAG:
			while (p < end && *p != ' ' && *p != '\r' &&
			    *p != '\n')
				p++;
			if (p == end)
				continue;
			if (*p != ' ') {
				st = CAPA_S_LIT;
				continue;
			}
			f->mask = CAPA_KW_STATUS;
			st = CAPA_S_T1_START;
			p++;
			continue;
		case CAPA_S_T1_START:
			if (c == ' ') {
				p++;
				continue;
			}
			f->mlen = 0;
			st = CAPA_S_T1;
			continue;
		case CAPA_S_T1:
			if (c == ' ' || c == '\r' || c == '\n') {
				m = capa_kw_complete(f);
				if (m == CAPA_KW_CAPABILITY) {
					f->in_code = false;
					run = capa_list_start(f, run, p, out,
					    ctx);
					st = CAPA_S_LIST;
				} else if (m != 0 && c == ' ') {
					st = CAPA_S_T2_START;
					p++;
				} else
					st = m != 0 ? CAPA_S_NOLIT : CAPA_S_LIT;
				continue;
			}
			f->mask = capa_kw_match(f, c);
			f->mlen++;
			p++;
			if (f->mask == 0)
				st = CAPA_S_LIT;	/* "* 5 FETCH" */
			continue;
		case CAPA_S_T2_START:
			if (c == ' ') {
				p++;
				continue;
			}
			if (c != '[') {
				st = CAPA_S_NOLIT;
				continue;
			}
			f->mlen = 0;
			st = CAPA_S_T2;
			p++;
			continue;
		case CAPA_S_T2:
			if (f->mlen == CAPA_CODE_LEN) {
				if (c == ' ' || c == ']') {
					f->in_code = true;
					run = capa_list_start(f, run, p, out,
					    ctx);
					st = CAPA_S_LIST;
				} else
					st = CAPA_S_NOLIT;
				continue;
			}
			if (capa_upper(c) !=
			    (unsigned char)capa_code[f->mlen]) {
				st = CAPA_S_NOLIT;
				continue;
			}
			f->mlen++;
			p++;
			continue;

		case CAPA_S_LIT:
		case CAPA_S_NOLIT:
			q = memchr(p, '\n', (size_t)(end - p));
			if (q == NULL) {
				p = end;
				continue;
			}
			p = q + 1;
			if (st == CAPA_S_LIT && capa_literal(f, seg, q, &n)) {
				/* The line goes on after the body. */
				f->literal_left = n;
				f->literals++;
			} else
				st = CAPA_S_START;
			seg = p;
			capa_tail_reset(f);
			continue;

		case CAPA_S_LIST:
			if (c == ' ') {
				cand = p;
				st = CAPA_S_SPACE;
			} else if (c == '\n') {
				st = CAPA_S_START;
				seg = p + 1;
				capa_tail_reset(f);
			} else if (c == ']' && f->in_code)
				st = CAPA_S_NOLIT; /* resp-text follows */
			else if (c != '\r')
				st = CAPA_S_SKIP;	/* no SP before it */
			p++;
			continue;
		case CAPA_S_SPACE:
			if (capa_delim(f, c)) {
				/* Several SPs: the last is the candidate. */
				capa_keep(f, out, ctx);
				st = CAPA_S_LIST;
				continue;
			}
			f->mask = (uint32_t)((1ull << f->list->count) - 1);
			f->mlen = 0;
			st = CAPA_S_ATOM;
			continue;
		case CAPA_S_ATOM:
			if (capa_delim(f, c)) {
				if (capa_complete(f, f->mask, ~f->list->prefix,
				    f->mlen))
					run = capa_drop(f, run, cand, p, out,
					    ctx);
				else
					capa_keep(f, out, ctx);
				st = CAPA_S_LIST;
				continue;
			}
			f->mask = capa_match(f, c);
			f->mlen++;
			p++;
			if (f->mask == 0) {
				capa_keep(f, out, ctx);
				st = CAPA_S_SKIP;
			} else if (capa_complete(f, f->mask, f->list->prefix,
			    f->mlen)) {
				run = capa_drop(f, run, cand, p, out, ctx);
				st = CAPA_S_DROP;
			}
			continue;
		case CAPA_S_SKIP:
		case CAPA_S_DROP:
			if (capa_delim(f, c)) {
				st = CAPA_S_LIST;
				continue;
			}
			p++;
			if (st == CAPA_S_DROP)
				run = p;
			continue;
		default:
			assert(!"imap_capa: bad state");
		}
	}

	if (st == CAPA_S_SPACE || st == CAPA_S_ATOM) {
		/* The candidate is still open: hold its bytes. */
		assert(run <= cand);
		if (cand > run)
			out(ctx, run, (size_t)(cand - run));
		assert(f->hold_len + (size_t)(end - cand) <=
		    IMAP_CAPA_HOLD_MAX);
		memcpy(f->hold + f->hold_len, cand, (size_t)(end - cand));
		f->hold_len += (size_t)(end - cand);
	} else if (end > run)
		out(ctx, run, (size_t)(end - run));

	/* Lines that may still announce a literal keep their tail. */
	if (f->literal_left == 0 && (st < CAPA_S_T2_START ||
	    st == CAPA_S_LIT) && end > seg)
		capa_tail_add(f, seg, (size_t)(end - seg));
	f->state = st;
}

void
imap_capa_flush(struct imap_capa *f, imap_capa_out_cb *out, void *ctx)
{
	if (f->hold_len > 0)
		out(ctx, f->hold, f->hold_len);
	capa_line_reset(f);
}
