/*
 * fuzz_imap.c - differential libFuzzer target for imap_parser.
 *
 * The input's first byte is a header: bit 0 picks the direction
 * (server if set), bit 1 a 64-byte line limit instead of the default,
 * bits 2-4 how many chunk-length bytes follow (0-7), bit 5 fragment
 * mode (imap_parser_set_fragments(): long atoms in fragments, which
 * must be split-invariant like every token).  The rest is the
 * stream.  It is fed whole to one parser, in chunks of the given
 * lengths (used in turn; 0 means 1) to a second, and a byte at a time
 * to a third (short inputs).  Each parser's callbacks are folded into a
 * hash in a canonical form (literal spans as one byte stream, so their
 * split does not count); any difference, or any broken promise of
 * imap_parser.h seen inside a callback, aborts.
 *
 * The callbacks also do what imap_infer does, deterministically: TEXT
 * mode after an IDLE line (until "DONE") or an AUTHENTICATE line (one
 * line), and literal_cancel() from the LITERAL callback of a
 * synchronizing literal whose size is 1 mod 3.  Every other callback
 * calls literal_cancel() too, which must leave the parser untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../parser/imap_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BYTEWISE_MAX	4096	/* inputs this long or less also go bytewise */

struct run {
	struct imap_parser parser;
	uint64_t hash;		/* FNV-1a over the canonical record */
	uint64_t lit_left;	/* body bytes still announced */
	uint64_t last_offset;
	uint64_t tokens, lines;
	bool frag_open;		/* the last token had IMAP_TOKEN_F_MORE */
	unsigned frag_index, frag_depth;
	enum { P_NONE, P_IDLE, P_AUTH } pending;
	bool until_done, saw_done;
};

static void
mix(struct run *r, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = r->hash;

	while (n-- > 0) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	r->hash = h;
}

static void
mix64(struct run *r, uint64_t v)
{
	mix(r, &v, sizeof(v));
}

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static void
cancel_noop(struct imap_parser *p)
{
	struct imap_parser before = *p;

	imap_parser_literal_cancel(p);
	check(memcmp(&before, p, sizeof(before)) == 0);
}

/* Token T's bytes are WORD, ASCII case-insensitively. */
static bool
tok_is(const struct imap_token *t, const char *word)
{
	return t->len == strlen(word) &&
	    strncasecmp(t->data, word, t->len) == 0;
}

static void
on_token(struct imap_parser *p, const struct imap_token *t)
{
	struct run *r = p->data;

	check(r->lit_left == 0 && p->offset >= r->last_offset);
	check(t->depth <= IMAP_NESTING_MAX + 1);
	/* fragments: atoms in fragment mode, consecutive, full but last */
	if (t->flags & (IMAP_TOKEN_F_MORE | IMAP_TOKEN_F_PART))
		check(p->frag && t->type == IMAP_TOKEN_ATOM &&
		    !(t->flags & IMAP_TOKEN_F_TRUNCATED) && t->len > 0 &&
		    t->status == IMAP_STATUS_NONE);
	check(r->frag_open == ((t->flags & IMAP_TOKEN_F_PART) != 0));
	check(!r->frag_open || (t->index == r->frag_index &&
	    t->depth == r->frag_depth));
	if (t->flags & IMAP_TOKEN_F_MORE)
		check(t->len == IMAP_TOKEN_MAX);
	if (p->frag && t->type == IMAP_TOKEN_ATOM)
		check(!(t->flags & IMAP_TOKEN_F_TRUNCATED));
	r->frag_open = (t->flags & IMAP_TOKEN_F_MORE) != 0;
	r->frag_index = t->index;
	r->frag_depth = t->depth;
	r->last_offset = p->offset;
	r->tokens++;
	mix64(r, 0x7000 + t->type);
	mix64(r, t->flags);
	mix64(r, t->status);
	mix64(r, t->index);
	mix64(r, t->depth);
	mix64(r, t->in_code);
	mix64(r, p->offset);
	switch (t->type) {
	case IMAP_TOKEN_ATOM:
	case IMAP_TOKEN_QUOTED:
	case IMAP_TOKEN_TEXT:
		check(t->data != NULL && t->len <= IMAP_TOKEN_MAX);
		check(memchr(t->data, '\0', t->len) == NULL);
		check(t->len > 0 || t->type != IMAP_TOKEN_ATOM);
		mix64(r, t->len);
		mix(r, t->data, t->len);
		break;
	case IMAP_TOKEN_LITERAL:
		check(t->data == NULL && t->len == 0);
		check(p->in_literal == (t->literal_size > 0));
		mix64(r, t->literal_size);
		r->lit_left = t->literal_size;
		if ((t->flags & IMAP_TOKEN_F_NONSYNC) == 0 &&
		    t->literal_size % 3 == 1) {
			imap_parser_literal_cancel(p);
			check(!p->in_literal);
			r->lit_left = 0;
		}
		break;
	default:
		check(t->data == NULL && t->len == 0 && t->flags == 0 &&
		    t->status == IMAP_STATUS_NONE);
		break;
	}
	if (t->type != IMAP_TOKEN_LITERAL)
		cancel_noop(p);
	if (t->type == IMAP_TOKEN_ATOM && t->index == 1 && t->depth == 0 &&
	    p->mode == IMAP_PARSER_MODE_NORMAL) {
		if (tok_is(t, "IDLE"))
			r->pending = P_IDLE;
		else if (tok_is(t, "AUTHENTICATE"))
			r->pending = P_AUTH;
	}
	if (t->type == IMAP_TOKEN_TEXT && p->mode == IMAP_PARSER_MODE_TEXT &&
	    tok_is(t, "DONE"))
		r->saw_done = true;
}

static void
on_literal(struct imap_parser *p, const char *data, size_t len)
{
	struct run *r = p->data;

	check(len > 0 && len <= r->lit_left && !r->frag_open);
	r->lit_left -= len;
	check(p->in_literal == (r->lit_left > 0));
	check(p->offset >= r->last_offset);
	r->last_offset = p->offset;
	/* Bytes only: the spans' boundaries follow the chunks. */
	mix(r, data, len);
	cancel_noop(p);
}

static void
on_line_end(struct imap_parser *p)
{
	struct run *r = p->data;

	check(r->lit_left == 0 && !p->in_literal && !r->frag_open);
	check(p->offset >= r->last_offset);
	r->last_offset = p->offset;
	r->lines++;
	mix64(r, 0xe01);
	mix64(r, p->offset);
	cancel_noop(p);
	if (r->pending == P_IDLE) {
		imap_parser_set_mode(p, IMAP_PARSER_MODE_TEXT);
		r->until_done = true;
	} else if (r->pending == P_AUTH) {
		imap_parser_set_mode(p, IMAP_PARSER_MODE_TEXT);
		r->until_done = false;
	} else if (p->mode == IMAP_PARSER_MODE_TEXT &&
	    (!r->until_done || r->saw_done))
		imap_parser_set_mode(p, IMAP_PARSER_MODE_NORMAL);
	r->pending = P_NONE;
	r->saw_done = false;
}

static const struct imap_parser_callbacks fuzz_cb = {
	.on_token = on_token,
	.on_literal = on_literal,
	.on_line_end = on_line_end,
};

static void
run_init(struct run *r, enum imap_parser_dir dir, size_t line_max,
    bool frag)
{
	memset(r, 0, sizeof(*r));
	r->hash = 0xcbf29ce484222325ULL;
	r->parser.data = r;
	imap_parser_init(&r->parser, dir, &fuzz_cb, line_max);
	imap_parser_set_fragments(&r->parser, frag);
}

/* Feed one chunk and check what feed promises about its return. */
static void
run_feed(struct run *r, const uint8_t *data, size_t len)
{
	uint64_t before = r->parser.offset, tokens = r->tokens;
	bool failed = r->parser.error != IMAP_PERR_OK;
	size_t ret;

	ret = imap_parser_feed(&r->parser, (const char *)data, len);
	if (failed) {
		check(ret == 0 && r->tokens == tokens);
		return;
	}
	if (r->parser.error == IMAP_PERR_OK) {
		check(ret == len && r->parser.offset == before + len);
		return;
	}
	check(ret < len || len == 0);
	check(r->parser.error_offset == before + ret);
	check(r->parser.offset == r->parser.error_offset);
}

static void
run_finish(struct run *r)
{
	mix64(r, r->parser.error);
	mix64(r, r->parser.error_offset);
	mix64(r, r->parser.offset);
	mix64(r, r->parser.lines);
	mix64(r, r->parser.in_literal);
	mix64(r, r->parser.mode);
	check(r->parser.lines == r->lines);
	check(imap_parser_error_name(r->parser.error) != NULL);
}

static bool
run_same(const struct run *a, const struct run *b)
{
	return a->hash == b->hash && a->tokens == b->tokens &&
	    a->lines == b->lines && a->parser.error == b->parser.error &&
	    a->parser.error_offset == b->parser.error_offset;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, split, bytes;
	enum imap_parser_dir dir;
	const uint8_t *cuts, *in;
	size_t ncuts, len, line_max, i, k, n;
	bool frag;

	if (size == 0)
		return 0;
	dir = data[0] & 1 ? IMAP_PARSER_SERVER : IMAP_PARSER_CLIENT;
	line_max = data[0] & 2 ? 64 : 0;
	ncuts = (data[0] >> 2) & 7;
	frag = (data[0] & 0x20) != 0;
	if (size - 1 < ncuts)
		ncuts = size - 1;
	cuts = data + 1;
	in = cuts + ncuts;
	len = size - 1 - ncuts;

	run_init(&whole, dir, line_max, frag);
	run_feed(&whole, in, len);
	run_finish(&whole);

	run_init(&split, dir, line_max, frag);
	for (i = 0, k = 0; i < len; i += n, k++) {
		n = ncuts > 0 ? cuts[k % ncuts] : 1;
		if (n == 0)
			n = 1;
		if (n > len - i)
			n = len - i;
		run_feed(&split, in + i, n);
	}
	run_feed(&split, in + len, 0);
	run_finish(&split);
	check(run_same(&whole, &split));

	if (len <= BYTEWISE_MAX) {
		run_init(&bytes, dir, line_max, frag);
		for (i = 0; i < len; i++)
			run_feed(&bytes, in + i, 1);
		run_finish(&bytes);
		check(run_same(&whole, &bytes));
	}
	return 0;
}
