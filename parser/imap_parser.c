/*
 * imap_parser.c - streaming IMAP tokenizer for one direction.
 *
 * The shape is nginx's ngx_mail_imap_parse_command: a local state, a
 * switch for each byte, the state stored back at the end of the input
 * and before every callback.  Two things differ.  Runs of ordinary bytes
 * inside an atom, quoted string or text are found with a class table,
 * so a line costs about one table lookup per byte, and are not copied:
 * a token that lies wholly inside the fed chunk is delivered as a span
 * of the caller's bytes (see tok_get()).  Literal bodies are never
 * looked at: like http-parser's s_body_identity, each chunk yields one
 * span of min(remaining, available) bytes and the loop jumps past it.
 *
 * The line limit is a count, not a buffer (http-parser's
 * COUNT_HEADER_SIZE): the byte loop runs up to a pointer `lim` that is
 * the end of the chunk or the byte at which the current line would
 * exceed line_max, whichever comes first, so the limit costs no test per
 * byte.  Reaching `lim` before the end of the chunk is LINE_TOO_LONG.
 *
 * Grammar references: RFC 9051 section 9 (formal syntax; RFC 3501
 * section 9 is the same for everything here), RFC 7888 (LITERAL+ and
 * LITERAL-), RFC 3516 (literal8).
 */
#include "imap_parser.h"

#include <assert.h>
#include <string.h>

_Static_assert(IMAP_NESTING_MAX == 64,
    "the NESTING_TOO_DEEP message in imap_parser.h says 64");

enum {
	S_LINE_START,	/* before a line's first byte: the mode is read */
	S_SP,		/* between tokens */
	S_ATOM,		/* in an atom; p->bracket counts open '[' */
	S_ATOM_BQ,	/* in a quoted string inside an atom's [section] */
	S_ATOM_BQ_ESC,	/* after '\' there */
	S_QUOTED,	/* in a quoted string */
	S_QUOTED_ESC,	/* after '\' there */
	S_LIT_OPEN,	/* after '{': the first digit */
	S_LIT_SIZE,	/* in the digits */
	S_LIT_PLUS,	/* after "{n+": '}' */
	S_LIT_CLOSE,	/* after '}': CR or LF */
	S_LIT_CR,	/* after "}\r": LF */
	S_LIT_BODY,	/* literal_left body bytes to jump */
	S_RESP_TEXT,	/* after a status word: '[' opens a code */
	S_TEXT_SKIP,	/* after a code's ']': one SP, then text */
	S_TEXT,		/* text to the end of the line */
	S_CR,		/* a CR seen in p->cr_state; LF or not decides */
};

/*
 * Byte classes: the bytes that stop a run of ordinary bytes in each
 * context.  NUL, CR and LF stop every run.
 */
#define C_ATOM		0x01	/* atom outside [ ]: SP ( ) [ ] { */
#define C_SECT		0x02	/* atom inside [ ]: [ ] " */
#define C_QUOT		0x04	/* quoted string: " \ */
#define C_TEXT		0x08	/* text: line end only */
#define C_ALL		(C_ATOM | C_SECT | C_QUOT | C_TEXT)

static const unsigned char imap_cclass[256] = {
	['\0'] = C_ALL, ['\r'] = C_ALL, ['\n'] = C_ALL,
	[' '] = C_ATOM, ['('] = C_ATOM, [')'] = C_ATOM, ['{'] = C_ATOM,
	['['] = C_ATOM | C_SECT, [']'] = C_ATOM | C_SECT,
	['"'] = C_SECT | C_QUOT, ['\\'] = C_QUOT,
};

static const char *const imap_perr_names[] = {
#define IMAP_X(e, msg) #e,
	IMAP_PERR_MAP(IMAP_X)
#undef IMAP_X
};

static const char *const imap_perr_messages[] = {
#define IMAP_X(e, msg) msg,
	IMAP_PERR_MAP(IMAP_X)
#undef IMAP_X
};

static inline const unsigned char *
scan(const unsigned char *q, const unsigned char *lim, unsigned mask)
{
	while (q < lim && (imap_cclass[*q] & mask) == 0)
		q++;
	return q;
}

/*
 * A token in the making is the scratch p->tok (its bytes from earlier
 * chunks, and a quoted string's unescaped bytes) followed by a span of
 * the chunk being fed, from the local tok0 in imap_parser_feed() to the
 * byte being read.  Only what straddles chunks or needs unescaping is
 * copied; at the end of a chunk the span goes into the scratch.
 */

/* Keep what fits of N bytes in the token scratch; note what did not. */
static inline void
tok_add(struct imap_parser *p, const unsigned char *q, size_t n)
{
	size_t room = IMAP_TOKEN_MAX - p->tok_len;

	if (n > room) {
		n = room;
		p->tok_truncated = true;
	}
	memcpy(p->tok + p->tok_len, q, n);
	p->tok_len += n;
}

static inline void
tok_add1(struct imap_parser *p, unsigned char c)
{
	if (p->tok_len < IMAP_TOKEN_MAX)
		p->tok[p->tok_len++] = (char)c;
	else
		p->tok_truncated = true;
}

/*
 * Deliver one token at the current index and depth.  A token that
 * completes a top-level item (anything but LIST_BEGIN and CODE_BEGIN
 * outside lists and codes) advances the index, and does so before the
 * callback so that a callback resetting the line is not undone.
 */
static inline void
emit(struct imap_parser *p, enum imap_token_type type, const char *data,
    size_t len, unsigned flags, enum imap_status status, bool completes)
{
	struct imap_token t;

	t.type = type;
	t.flags = flags;
	t.status = status;
	t.data = data;
	t.len = len;
	t.literal_size = type == IMAP_TOKEN_LITERAL ? p->literal_size : 0;
	t.index = p->index;
	t.depth = p->depth + p->in_code;
	t.in_code = p->in_code;
	if (completes && (p->depth | p->in_code) == 0)
		p->index++;
	if (p->cb->on_token != NULL)
		p->cb->on_token(p, &t);
}

/*
 * Empty the scratch.  The client's is wiped: a token may be a LOGIN
 * password or a SASL response, which must not linger in session memory
 * (costs as much as the copy that put it there).  The server sends no
 * secrets the client did not already have.
 */
static inline void
tok_wipe(struct imap_parser *p)
{
	/* Empty: tok_truncated is only set with a full scratch. */
	if (p->tok_len == 0)
		return;
	if (p->dir == IMAP_PARSER_CLIENT)
		memset(p->tok, 0, p->tok_len);
	p->tok_len = 0;
	p->tok_truncated = false;
}

/* The token is over: the scratch emptied, no fragment of it out. */
static inline void
tok_clear(struct imap_parser *p)
{
	tok_wipe(p);
	p->frag_part = false;
}

/* An atom state: its bytes are kept as they came (see S_ATOM). */
static inline bool
atom_state(unsigned st)
{
	return st == S_ATOM || st == S_ATOM_BQ || st == S_ATOM_BQ_ESC;
}

/* One fragment with more to come (IMAP_TOKEN_F_MORE), ending at END. */
static void
frag_emit(struct imap_parser *p, const char *data, uint64_t end)
{
	unsigned flags = IMAP_TOKEN_F_MORE;

	if (p->frag_part)
		flags |= IMAP_TOKEN_F_PART;
	p->frag_part = true;
	p->offset = end;
	emit(p, IMAP_TOKEN_ATOM, data, IMAP_TOKEN_MAX, flags,
	    IMAP_STATUS_NONE, false);
}

/*
 * Fragment mode: the atom held - the scratch, then [*Q0, Q1) of the
 * chunk, *Q0 being at stream offset OFF - goes out in fragments of
 * IMAP_TOKEN_MAX bytes while more than that is held, so that 1 to
 * IMAP_TOKEN_MAX bytes stay (a fragment is sent only once a byte after
 * it is known to belong to the atom).  Only a fragment that straddles
 * the scratch and the chunk is copied.  Advances *Q0.
 */
static void
frag_flush(struct imap_parser *p, const unsigned char **q0,
    const unsigned char *q1, uint64_t off)
{
	size_t n;

	while (p->tok_len + (size_t)(q1 - *q0) > IMAP_TOKEN_MAX) {
		n = IMAP_TOKEN_MAX - p->tok_len;
		off += n;
		if (p->tok_len > 0) {
			memcpy(p->tok + p->tok_len, *q0, n);
			p->tok_len = IMAP_TOKEN_MAX;
			*q0 += n;
			frag_emit(p, p->tok, off);
			tok_wipe(p);
		} else {
			frag_emit(p, (const char *)*q0, off);
			*q0 += n;
		}
	}
}

/*
 * The token whose last bytes are [Q0, Q1) of the chunk, in one piece:
 * the span itself when the scratch is empty (the common case: no
 * copy), else the scratch with the span added.  Sets *LEN_R (at most
 * IMAP_TOKEN_MAX) and *FLAGS_R (IMAP_TOKEN_F_TRUNCATED or 0).
 */
static inline const char *
tok_get(struct imap_parser *p, const unsigned char *q0,
    const unsigned char *q1, size_t *len_r, unsigned *flags_r)
{
	size_t n = (size_t)(q1 - q0);

	if (p->tok_len == 0) {
		*flags_r = 0;
		if (n > IMAP_TOKEN_MAX) {
			n = IMAP_TOKEN_MAX;
			*flags_r = IMAP_TOKEN_F_TRUNCATED;
		}
		*len_r = n;
		return (const char *)q0;
	}
	tok_add(p, q0, n);
	*len_r = p->tok_len;
	*flags_r = p->tok_truncated ? IMAP_TOKEN_F_TRUNCATED : 0;
	return p->tok;
}

/* Deliver the token ending with [Q0, Q1) and empty the scratch. */
static void
emit_tok(struct imap_parser *p, enum imap_token_type type,
    const unsigned char *q0, const unsigned char *q1)
{
	const char *data;
	unsigned flags;
	size_t len;

	data = tok_get(p, q0, q1, &len, &flags);
	emit(p, type, data, len, flags, IMAP_STATUS_NONE, true);
	tok_clear(p);
}

/*
 * The status word (RFC 9051 7.1 resp-cond-state, resp-cond-bye,
 * resp-cond-auth) S[0..len) spells, in any case, or IMAP_STATUS_NONE.
 * Dispatched on the length: this runs for the second atom of every
 * response line.  "& ~0x20" upper-cases letters and maps no other byte
 * to one.
 */
static enum imap_status
status_word(const char *s, size_t len)
{
	unsigned c0, c1, c2;

	if (len < 2)
		return IMAP_STATUS_NONE;
	c0 = (unsigned char)s[0] & ~0x20u;
	c1 = (unsigned char)s[1] & ~0x20u;
	switch (len) {
	case 2:
		if (c0 == 'O' && c1 == 'K')
			return IMAP_STATUS_OK;
		if (c0 == 'N' && c1 == 'O')
			return IMAP_STATUS_NO;
		break;
	case 3:
		c2 = (unsigned char)s[2] & ~0x20u;
		if (c0 == 'B' && c1 == 'A' && c2 == 'D')
			return IMAP_STATUS_BAD;
		if (c0 == 'B' && c1 == 'Y' && c2 == 'E')
			return IMAP_STATUS_BYE;
		break;
	case 7:
		if (c0 == 'P' && c1 == 'R' &&
		    ((unsigned char)s[2] & ~0x20u) == 'E' &&
		    ((unsigned char)s[3] & ~0x20u) == 'A' &&
		    ((unsigned char)s[4] & ~0x20u) == 'U' &&
		    ((unsigned char)s[5] & ~0x20u) == 'T' &&
		    ((unsigned char)s[6] & ~0x20u) == 'H')
			return IMAP_STATUS_PREAUTH;
		break;
	default:
		break;
	}
	return IMAP_STATUS_NONE;
}

/*
 * The status word an atom is (see imap_token.status): in the server
 * direction, at index 1, top level, whole.
 */
static inline enum imap_status
atom_status(const struct imap_parser *p, const char *data, size_t len,
    unsigned flags)
{
	if (p->dir != IMAP_PARSER_SERVER || p->index != 1 || p->depth != 0 ||
	    p->in_code || flags != 0)
		return IMAP_STATUS_NONE;
	return status_word(data, len);
}

/*
 * An atom ended (by SP, '(', ')' or a code's ']').  In the server
 * direction two atoms decide how the rest of the line reads: an index-0
 * "+" starts a continuation (RFC 9051 section 7.5, continue-req), and a
 * status word at index 1 starts resp-text (section 7.1: resp-cond-state,
 * resp-cond-bye, resp-cond-auth), whether the tag is "*" or not.
 * Returns the next state.
 */
static unsigned
atom_end(struct imap_parser *p, const unsigned char *q0,
    const unsigned char *q1, uint64_t off)
{
	enum imap_status status = IMAP_STATUS_NONE;
	unsigned next = S_SP, flags;
	uint64_t done = p->offset;
	const char *data;
	size_t len;

	if (p->frag) {
		frag_flush(p, &q0, q1, off);
		p->offset = done;
	}
	data = tok_get(p, q0, q1, &len, &flags);
	if (p->frag_part)
		flags |= IMAP_TOKEN_F_PART;
	if (p->index <= 1 && p->dir == IMAP_PARSER_SERVER) {
		if (p->index == 0) {
			if (len == 1 && data[0] == '+' && p->depth == 0 &&
			    !p->in_code && flags == 0)
				next = S_TEXT;
		} else if ((status = atom_status(p, data, len, flags)) !=
		    IMAP_STATUS_NONE)
			next = S_RESP_TEXT;
	}
	emit(p, IMAP_TOKEN_ATOM, data, len, flags, status, true);
	tok_clear(p);
	return next;
}

/* Everything reset at the start of a line. */
static void
line_reset(struct imap_parser *p)
{
	p->state = S_LINE_START;
	p->cr_state = S_SP;
	p->index = 0;
	p->depth = 0;
	p->bracket = 0;
	p->in_code = false;
	p->text_line = false;
	p->lit_start = false;
	p->lit_flags = 0;
	p->literal_left = 0;
	p->literal_size = 0;
	p->in_literal = false;
	p->line_len = 0;
	tok_clear(p);
}

/*
 * The LF ending a line, read in state ST: deliver what the line still
 * holds (a token ending with [Q0, Q1) in a token state), then
 * on_line_end.  An unterminated quoted string is dropped (a broken
 * command the server will refuse).
 */
static void
line_end(struct imap_parser *p, unsigned st, const unsigned char *q0,
    const unsigned char *q1, uint64_t off)
{
	uint64_t done = p->offset;
	const char *data;
	unsigned flags;
	size_t len;

	switch (st) {
	case S_ATOM:
	case S_ATOM_BQ:
	case S_ATOM_BQ_ESC:
		if (p->frag) {
			frag_flush(p, &q0, q1, off);
			p->offset = done;
		}
		/* "a BAD" CRLF: a status word without text. */
		data = tok_get(p, q0, q1, &len, &flags);
		if (p->frag_part)
			flags |= IMAP_TOKEN_F_PART;
		emit(p, IMAP_TOKEN_ATOM, data, len, flags,
		    atom_status(p, data, len, flags), true);
		tok_clear(p);
		break;
	case S_TEXT:
		if (p->tok_len > 0 || q1 > q0 || p->text_line)
			emit_tok(p, IMAP_TOKEN_TEXT, q0, q1);
		break;
	default:
		break;
	}
	line_reset(p);
	p->lines++;
	if (p->cb->on_line_end != NULL)
		p->cb->on_line_end(p);
}

/*
 * A CR was not followed by LF: it is an ordinary byte of whatever it
 * interrupted (we are lenient here, as Dovecot is).  HERE: the CR is
 * the byte before PS in this chunk, so a span running through it holds
 * it already; else it ended the previous chunk and goes to the scratch.
 * *TOK0 is updated when a token starts with the CR or follows an
 * escaping "\\".  Returns the state in which to read the byte after it.
 */
static unsigned
cr_ordinary(struct imap_parser *p, const unsigned char *ps, bool here,
    const unsigned char **tok0, uint64_t ps_off)
{
	unsigned st = p->cr_state;

	switch (st) {
	case S_SP:
		p->bracket = 0;
		if (here) {
			*tok0 = ps - 1;
			return S_ATOM;
		}
		tok_add1(p, '\r');
		*tok0 = ps;
		return S_ATOM;
	case S_QUOTED_ESC:
		/* Unescaped: "\\" and CR are not both in one span. */
		tok_add1(p, '\r');
		*tok0 = ps;
		return S_QUOTED;
	case S_ATOM_BQ_ESC:
		st = S_ATOM_BQ;
		break;
	default:
		break;
	}
	if (!here) {
		/* A full scratch before it: a fragment, ending there. */
		if (p->frag && atom_state(st) &&
		    p->tok_len == IMAP_TOKEN_MAX) {
			frag_emit(p, p->tok, ps_off - 1);
			tok_wipe(p);
		}
		tok_add1(p, '\r');
	}
	return st;
}

/* A token is in the making in state ST (see tok_get()). */
static inline bool
tok_state(unsigned st)
{
	return st == S_ATOM || st == S_ATOM_BQ || st == S_ATOM_BQ_ESC ||
	    st == S_QUOTED || st == S_QUOTED_ESC || st == S_TEXT;
}

/* Where the line in progress would exceed line_max, or END. */
static inline const unsigned char *
line_limit(const struct imap_parser *p, const unsigned char *seg,
    const unsigned char *end)
{
	size_t room = p->line_max - p->line_len;

	return (size_t)(end - seg) > room ? seg + room : end;
}

void
imap_parser_init(struct imap_parser *p, enum imap_parser_dir dir,
    const struct imap_parser_callbacks *cb, size_t line_max)
{
	void *data = p->data;

	assert(cb != NULL);
	memset(p, 0, sizeof(*p));
	p->data = data;
	p->cb = cb;
	p->dir = dir;
	p->line_max = line_max != 0 ? line_max : IMAP_LINE_MAX_DEFAULT;
	p->mode = IMAP_PARSER_MODE_NORMAL;
	p->error = IMAP_PERR_OK;
	line_reset(p);
}

void
imap_parser_reset(struct imap_parser *p)
{
	line_reset(p);
	p->mode = IMAP_PARSER_MODE_NORMAL;
	p->error = IMAP_PERR_OK;
	p->error_offset = 0;
}

void
imap_parser_set_fragments(struct imap_parser *p, bool on)
{
	p->frag = on;
}

void
imap_parser_set_mode(struct imap_parser *p, enum imap_parser_mode mode)
{
	p->mode = mode;
}

/*
 * lit_start rather than the state: p->state is only stored back before
 * the callbacks that need it, so during a later callback of the same
 * feed it may still read S_LIT_BODY.
 */
void
imap_parser_literal_cancel(struct imap_parser *p)
{
	if (p->error != IMAP_PERR_OK || !p->lit_start)
		return;
	line_reset(p);
}

enum imap_parser_error
imap_parser_error(const struct imap_parser *p, const char **message_r)
{
	if (message_r != NULL)
		*message_r = imap_perr_messages[p->error];
	return p->error;
}

const char *
imap_parser_error_name(enum imap_parser_error error)
{
	if ((unsigned)error >= IMAP_PERR_COUNT)
		return "UNKNOWN";
	return imap_perr_names[error];
}

/*
 * The byte loop.  `ps` is the byte being read; `seg` is where the
 * counted part of the current line starts in this chunk (p->line_len
 * holds what the line counted before it); `lim` is line_limit(); `tok0`
 * is where the current token's span starts (tok_get()), `tok1` where it
 * ends at a line end.  Every case either consumes its byte (ps++) or
 * changes state and reads the same byte again (continue without ps++).
 */
size_t
imap_parser_feed(struct imap_parser *p, const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	const unsigned char *end, *ps, *seg, *lim, *tok0, *tok1;
	uint64_t base = p->offset, n;
	enum imap_parser_error err;
	unsigned st = p->state;
	unsigned char c;

/* The stream offset of the byte at Q. */
#define AT(q)	(base + (uint64_t)((q) - s))
/*
 * Fragment mode: the fragments of an atom go out as soon as a byte
 * after them is read as the atom's - before any later byte is looked
 * at, so that an error there comes after them in every split.
 */
#define FRAG_OUT(q)							\
	do {								\
		if (p->frag && atom_state(st) && p->tok_len +		\
		    (size_t)((q) - tok0) > IMAP_TOKEN_MAX)		\
			frag_flush(p, &tok0, (q), AT(tok0));		\
	} while (0)

	if (p->error != IMAP_PERR_OK || len == 0)
		return 0;
	end = s + len;
	ps = seg = s;
	tok0 = s;		/* a token from the last chunk goes on here */

body:
	if (st == S_LIT_BODY) {
		/*
		 * RFC 9051 section 4.3: the body is literal_size octets,
		 * anything at all (literal8 may hold NUL); jump them.
		 */
		if (ps < end)
			p->lit_start = false;
		if (p->literal_left > 0 && ps < end) {
			n = (uint64_t)(end - ps);
			if (n > p->literal_left)
				n = p->literal_left;
			p->literal_left -= n;
			p->in_literal = p->literal_left > 0;
			p->offset = AT(ps) + n;
			if (p->cb->on_literal != NULL)
				p->cb->on_literal(p, (const char *)ps,
				    (size_t)n);
			ps += n;
		}
		/*
		 * The state stays S_LIT_BODY when the chunk ends here: for
		 * a {0} literal that keeps imap_parser_literal_cancel()
		 * possible until the next byte arrives.
		 */
		if (ps == end) {
			p->state = st;
			goto out;
		}
		st = S_SP;
		seg = ps;
	}
	lim = line_limit(p, seg, end);

	while (ps < lim) {
		c = *ps;
		FRAG_OUT(ps);
		switch (st) {
		case S_LINE_START:
			if (p->mode == IMAP_PARSER_MODE_TEXT) {
				p->text_line = true;
				st = S_TEXT;
				tok0 = ps;
			} else
				st = S_SP;
			continue;

		case S_SP:
			/*
			 * Inside a resp-text-code (RFC 9051 section 7.1) a
			 * code other than the known ones may carry any
			 * TEXT-CHAR but "]": a ')' or '{' there is part of an
			 * atom, not a nesting error or a literal.
			 */
			switch (c) {
			case ' ':
				ps++;
				continue;
			case '(':
				if (p->depth >= IMAP_NESTING_MAX) {
					err = IMAP_PERR_NESTING_TOO_DEEP;
					goto fail;
				}
				p->offset = AT(ps + 1);
				emit(p, IMAP_TOKEN_LIST_BEGIN, NULL, 0, 0,
				    IMAP_STATUS_NONE, false);
				p->depth++;
				ps++;
				continue;
			case ')':
				if (p->depth == 0 && p->in_code)
					break;	/* code text: an atom */
				if (p->depth == 0) {
					err = IMAP_PERR_BAD_NESTING;
					goto fail;
				}
				p->depth--;
				p->offset = AT(ps + 1);
				emit(p, IMAP_TOKEN_LIST_END, NULL, 0, 0,
				    IMAP_STATUS_NONE, true);
				ps++;
				continue;
			case ']':
				/* RFC 9051 section 7.1: resp-text-code ends. */
				if (!p->in_code || p->depth > 0)
					break;
				p->in_code = false;
				p->offset = AT(ps + 1);
				emit(p, IMAP_TOKEN_CODE_END, NULL, 0, 0,
				    IMAP_STATUS_NONE, true);
				st = S_TEXT_SKIP;
				ps++;
				continue;
			case '"':
				st = S_QUOTED;
				ps++;
				tok0 = ps;
				continue;
			case '{':
				if (p->in_code)
					break;	/* code text: an atom */
				p->lit_flags = 0;
				st = S_LIT_OPEN;
				ps++;
				continue;
			case '\r':
				p->cr_state = st;
				st = S_CR;
				ps++;
				continue;
			case '\n':
				goto eol;
			case '\0':
				err = IMAP_PERR_BAD_CHAR;
				goto fail;
			default:
				break;
			}
			p->bracket = 0;
			st = S_ATOM;
			tok0 = ps;
			continue;

		/*
		 * Atoms are kept as they were, so every byte of one is in
		 * its span: nothing to copy while it runs.
		 */
		case S_ATOM:
			if (p->bracket > 0)
				goto section;
			ps = scan(ps, lim, C_ATOM);
			FRAG_OUT(ps);
			if (ps == lim)
				continue;
			c = *ps;
			switch (c) {
			case '[':
				/* BODY[...]: SP and parens are its own. */
				p->bracket = 1;
				ps++;
				continue;
			case ')':
				if (p->in_code && p->depth == 0) {
					ps++;
					continue;
				}
				break;
			case ']':
				if (p->in_code && p->depth == 0)
					break;
				ps++;
				continue;
			case '{':
				/* RFC 3516 section 4.2: literal8, "~{n}". */
				if (!p->in_code && !p->frag_part &&
				    p->tok_len + (size_t)(ps -
				    tok0) == 1 && (p->tok_len == 1 ?
				    p->tok[0] : (char)*tok0) == '~') {
					tok_clear(p);
					p->lit_flags = IMAP_TOKEN_F_LITERAL8;
					st = S_LIT_OPEN;
				}
				ps++;
				continue;
			case '\r':
				p->cr_state = st;
				st = S_CR;
				ps++;
				continue;
			case '\n':
				goto eol;
			case '\0':
				err = IMAP_PERR_BAD_CHAR;
				goto fail;
			default:
				break;
			}
			/* SP, '(', ')' or a code's ']' ends the atom. */
			p->offset = AT(ps + 1);
			st = atom_end(p, tok0, ps, AT(tok0));
			if (c == ' ')
				ps++;
			tok0 = ps;	/* a continuation's text, if S_TEXT */
			continue;
section:
			ps = scan(ps, lim, C_SECT);
			FRAG_OUT(ps);
			if (ps == lim)
				continue;
			c = *ps;
			switch (c) {
			case '[':
				if (p->bracket >= IMAP_NESTING_MAX) {
					err = IMAP_PERR_NESTING_TOO_DEEP;
					goto fail;
				}
				p->bracket++;
				break;
			case ']':
				p->bracket--;
				break;
			case '"':
				/* header-fld-name is an astring: "X]". */
				st = S_ATOM_BQ;
				break;
			case '\r':
				p->cr_state = st;
				st = S_CR;
				ps++;
				continue;
			case '\n':
				goto eol;
			default:
				err = IMAP_PERR_BAD_CHAR;
				goto fail;
			}
			ps++;
			continue;

		case S_ATOM_BQ:
		case S_QUOTED:
			/* RFC 9051 section 9: quoted, \" and \\ escapes. */
			ps = scan(ps, lim, C_QUOT);
			FRAG_OUT(ps);
			if (ps == lim)
				continue;
			c = *ps;
			switch (c) {
			case '"':
				if (st == S_QUOTED) {
					p->offset = AT(ps + 1);
					emit_tok(p, IMAP_TOKEN_QUOTED, tok0, ps);
					st = S_SP;
				} else
					st = S_ATOM;
				ps++;
				continue;
			case '\\':
				ps++;
				if (st == S_QUOTED) {
					/* Unescaped in the scratch. */
					tok_add(p, tok0, (size_t)(ps - 1 - tok0));
					tok0 = ps;
					st = S_QUOTED_ESC;
				} else
					st = S_ATOM_BQ_ESC;
				continue;
			case '\r':
				p->cr_state = st;
				st = S_CR;
				ps++;
				continue;
			case '\n':
				goto eol;
			default:
				err = IMAP_PERR_BAD_CHAR;
				goto fail;
			}

		case S_ATOM_BQ_ESC:
		case S_QUOTED_ESC:
			switch (c) {
			case '\r':
				p->cr_state = st;
				st = S_CR;
				ps++;
				continue;
			case '\n':
				goto eol;
			case '\0':
				err = IMAP_PERR_BAD_CHAR;
				goto fail;
			default:
				break;
			}
			ps++;
			if (st == S_QUOTED_ESC) {
				tok_add1(p, c);
				tok0 = ps;
				st = S_QUOTED;
			} else
				st = S_ATOM_BQ;
			continue;

		/*
		 * RFC 9051 section 4.3 and 9: literal = "{" number64 ["+"]
		 * "}" CRLF; RFC 7888 section 4 adds "+" for LITERAL+ and
		 * LITERAL- alike.  RFC 3516 literal8 arrives here from
		 * S_ATOM with IMAP_TOKEN_F_LITERAL8 set.
		 */
		case S_LIT_OPEN:
			if (c < '0' || c > '9')
				goto bad_literal;
			p->literal_size = (uint64_t)(c - '0');
			st = S_LIT_SIZE;
			ps++;
			continue;
		case S_LIT_SIZE:
			if (c >= '0' && c <= '9') {
				/* n*10 + d must fit: as http-parser does. */
				if (p->literal_size >
				    (UINT64_MAX - (uint64_t)(c - '0')) / 10) {
					err = IMAP_PERR_LITERAL_TOO_BIG;
					goto fail;
				}
				p->literal_size = p->literal_size * 10 +
				    (uint64_t)(c - '0');
				ps++;
				continue;
			}
			if (c == '+') {
				p->lit_flags |= IMAP_TOKEN_F_NONSYNC;
				st = S_LIT_PLUS;
			} else if (c == '}')
				st = S_LIT_CLOSE;
			else
				goto bad_literal;
			ps++;
			continue;
		case S_LIT_PLUS:
			if (c != '}')
				goto bad_literal;
			st = S_LIT_CLOSE;
			ps++;
			continue;
		case S_LIT_CLOSE:
			if (c == '\n')
				goto literal;
			if (c != '\r')
				goto bad_literal;
			st = S_LIT_CR;
			ps++;
			continue;
		case S_LIT_CR:
			if (c != '\n')
				goto bad_literal;
			goto literal;

		case S_RESP_TEXT:
			/* RFC 9051 7.1: resp-text = ["[" code "]" SP] text */
			if (c == '[') {
				p->offset = AT(ps + 1);
				emit(p, IMAP_TOKEN_CODE_BEGIN, NULL, 0, 0,
				    IMAP_STATUS_NONE, false);
				p->in_code = true;
				st = S_SP;
				ps++;
				continue;
			}
			st = S_TEXT;
			tok0 = ps;
			continue;
		case S_TEXT_SKIP:
			if (c == ' ')
				ps++;
			st = S_TEXT;
			tok0 = ps;
			continue;
		case S_TEXT:
			ps = scan(ps, lim, C_TEXT);
			if (ps == lim)
				continue;
			c = *ps;
			if (c == '\n')
				goto eol;
			if (c == '\0') {
				err = IMAP_PERR_BAD_CHAR;
				goto fail;
			}
			p->cr_state = st;
			st = S_CR;
			ps++;
			continue;

		case S_CR:
			/* The CR is at ps - 1 unless it ended the last chunk. */
			if (c == '\n') {
				st = p->cr_state;
				tok1 = ps > s ? ps - 1 : ps;
				goto eol_cr;
			}
			st = cr_ordinary(p, ps, ps > s, &tok0, AT(ps));
			continue;

		default:
			/* S_LIT_BODY never reaches the loop. */
			assert(!"imap_parser: bad state");
			err = IMAP_PERR_BAD_CHAR;
			goto fail;
		}
eol:
		tok1 = ps;
eol_cr:
		/* CRLF or bare LF (Dovecot accepts both, so do we). */
		ps++;
		p->offset = AT(ps);
		line_end(p, st, tok0, tok1, AT(tok0));
		st = p->state;
		seg = ps;
		lim = line_limit(p, seg, end);
	}
	if (ps < end) {
		/* what a chunk ending here would have sent (below) */
		FRAG_OUT(ps);
		if (st == S_CR && p->frag && atom_state(p->cr_state) &&
		    p->tok_len + (size_t)(ps - 1 - tok0) > IMAP_TOKEN_MAX)
			frag_flush(p, &tok0, ps - 1, AT(tok0));
		err = IMAP_PERR_LINE_TOO_LONG;
		goto fail;
	}
	/* A token going on in the next chunk: its span to the scratch. */
	if (tok_state(st)) {
		if (p->frag && atom_state(st))
			frag_flush(p, &tok0, ps, AT(tok0));
		tok_add(p, tok0, (size_t)(ps - tok0));
	} else if (st == S_CR && tok_state(p->cr_state)) {
		if (p->frag && atom_state(p->cr_state))
			frag_flush(p, &tok0, ps - 1, AT(tok0));
		tok_add(p, tok0, (size_t)(ps - 1 - tok0));	/* not the CR */
	}
	p->line_len += (size_t)(ps - seg);
	p->state = st;
out:
	p->offset = base + len;
	return len;

literal:
	ps++;					/* the LF */
	p->line_len += (size_t)(ps - seg);
	seg = ps;
	p->literal_left = p->literal_size;
	p->in_literal = p->literal_size > 0;
	p->lit_start = true;
	p->state = S_LIT_BODY;
	p->offset = AT(ps);
	emit(p, IMAP_TOKEN_LITERAL, NULL, 0, p->lit_flags, IMAP_STATUS_NONE,
	    true);
	/* The callback may have cancelled the literal: a new line then. */
	st = p->state;
	goto body;

bad_literal:
	err = c == '\0' ? IMAP_PERR_BAD_CHAR : IMAP_PERR_BAD_LITERAL;
fail:
	p->state = st;
	p->error = err;
	p->error_offset = AT(ps);
	p->offset = p->error_offset;
	return (size_t)(ps - s);
#undef FRAG_OUT
#undef AT
}
