/*
 * imap_parser.c - streaming IMAP tokenizer for one direction.
 *
 * The shape is nginx's ngx_mail_imap_parse_command: a local state, a
 * switch for each byte, the state stored back at the end of the input
 * and before every callback.  Two things differ.  Runs of ordinary bytes
 * inside an atom, quoted string or text are found with a class table
 * and copied into the token scratch in one memcpy, so a line costs about
 * one table lookup per byte.  Literal bodies are never looked at: like
 * http-parser's s_body_identity, each chunk yields one span of
 * min(remaining, available) bytes and the loop jumps past it.
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
static void
emit(struct imap_parser *p, enum imap_token_type type, const char *data,
    size_t len, unsigned flags, bool completes)
{
	struct imap_token t;

	t.type = type;
	t.flags = flags;
	t.data = data;
	t.len = len;
	t.literal_size = 0;
	t.index = p->index;
	t.depth = p->depth + (p->in_code ? 1 : 0);
	t.in_code = p->in_code;
	if (type == IMAP_TOKEN_LITERAL)
		t.literal_size = p->literal_size;
	if (completes && p->depth == 0 && !p->in_code)
		p->index++;
	if (p->cb->on_token != NULL)
		p->cb->on_token(p, &t);
}

/*
 * Empty the scratch, wiping what it held: a token may be a LOGIN
 * password or a SASL response, which must not linger in session memory
 * (costs as much as the copy that put it there).
 */
static inline void
tok_clear(struct imap_parser *p)
{
	memset(p->tok, 0, p->tok_len);
	p->tok_len = 0;
	p->tok_truncated = false;
}

/* Deliver the token held in the scratch and empty the scratch. */
static void
emit_tok(struct imap_parser *p, enum imap_token_type type)
{
	p->tok[p->tok_len] = '\0';
	emit(p, type, p->tok, p->tok_len,
	    p->tok_truncated ? IMAP_TOKEN_F_TRUNCATED : 0, true);
	tok_clear(p);
}

static bool
is_status(const char *s, size_t len)
{
	static const char *const words[] = {
		"OK", "NO", "BAD", "BYE", "PREAUTH"
	};
	size_t i, j;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		for (j = 0; j < len && words[i][j] != '\0'; j++)
			if ((s[j] & ~0x20) != words[i][j])
				break;
		if (j == len && words[i][j] == '\0')
			return true;
	}
	return false;
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
atom_end(struct imap_parser *p)
{
	unsigned next = S_SP;

	if (p->dir == IMAP_PARSER_SERVER && p->depth == 0 && !p->in_code &&
	    !p->tok_truncated) {
		if (p->index == 0 && p->tok_len == 1 && p->tok[0] == '+')
			next = S_TEXT;
		else if (p->index == 1 && is_status(p->tok, p->tok_len))
			next = S_RESP_TEXT;
	}
	emit_tok(p, IMAP_TOKEN_ATOM);
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
 * holds, then on_line_end.  An unterminated quoted string is dropped (a
 * broken command the server will refuse).
 */
static void
line_end(struct imap_parser *p, unsigned st)
{
	switch (st) {
	case S_ATOM:
	case S_ATOM_BQ:
	case S_ATOM_BQ_ESC:
		emit_tok(p, IMAP_TOKEN_ATOM);
		break;
	case S_TEXT:
		if (p->tok_len > 0 || p->text_line)
			emit_tok(p, IMAP_TOKEN_TEXT);
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
 * interrupted (we are lenient here, as Dovecot is).  Returns the state
 * in which to read the byte after it.
 */
static unsigned
cr_ordinary(struct imap_parser *p)
{
	unsigned st = p->cr_state;

	switch (st) {
	case S_SP:
		st = S_ATOM;
		p->bracket = 0;
		break;
	case S_ATOM_BQ_ESC:
		st = S_ATOM_BQ;
		break;
	case S_QUOTED_ESC:
		st = S_QUOTED;
		break;
	default:
		break;
	}
	tok_add1(p, '\r');
	return st;
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
 * holds what the line counted before it); `lim` is line_limit().  Every
 * case either consumes its byte (ps++) or changes state and reads the
 * same byte again (continue without ps++).
 */
size_t
imap_parser_feed(struct imap_parser *p, const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	const unsigned char *end, *ps, *seg, *lim, *q;
	uint64_t base = p->offset, n;
	enum imap_parser_error err;
	unsigned st = p->state;
	unsigned char c;

/* The stream offset of the byte at Q. */
#define AT(q)	(base + (uint64_t)((q) - s))

	if (p->error != IMAP_PERR_OK || len == 0)
		return 0;
	end = s + len;
	ps = seg = s;

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
		switch (st) {
		case S_LINE_START:
			if (p->mode == IMAP_PARSER_MODE_TEXT) {
				p->text_line = true;
				st = S_TEXT;
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
				    false);
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
				emit(p, IMAP_TOKEN_LIST_END, NULL, 0, 0, true);
				ps++;
				continue;
			case ']':
				/* RFC 9051 section 7.1: resp-text-code ends. */
				if (!p->in_code || p->depth > 0)
					break;
				p->in_code = false;
				p->offset = AT(ps + 1);
				emit(p, IMAP_TOKEN_CODE_END, NULL, 0, 0, true);
				st = S_TEXT_SKIP;
				ps++;
				continue;
			case '"':
				st = S_QUOTED;
				ps++;
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
			continue;

		case S_ATOM:
			if (p->bracket > 0)
				goto section;
			q = scan(ps, lim, C_ATOM);
			tok_add(p, ps, (size_t)(q - ps));
			ps = q;
			if (ps == lim)
				continue;
			c = *ps;
			switch (c) {
			case '[':
				/* BODY[...]: SP and parens are its own. */
				p->bracket = 1;
				tok_add1(p, c);
				ps++;
				continue;
			case ')':
				if (p->in_code && p->depth == 0) {
					tok_add1(p, c);
					ps++;
					continue;
				}
				break;
			case ']':
				if (p->in_code && p->depth == 0)
					break;
				tok_add1(p, c);
				ps++;
				continue;
			case '{':
				/* RFC 3516 section 4.2: literal8, "~{n}". */
				if (p->tok_len == 1 && p->tok[0] == '~' &&
				    !p->in_code) {
					p->tok_len = 0;
					p->lit_flags = IMAP_TOKEN_F_LITERAL8;
					st = S_LIT_OPEN;
				} else
					tok_add1(p, c);
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
			st = atom_end(p);
			if (c == ' ')
				ps++;
			continue;
section:
			q = scan(ps, lim, C_SECT);
			tok_add(p, ps, (size_t)(q - ps));
			ps = q;
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
			tok_add1(p, c);
			ps++;
			continue;

		case S_ATOM_BQ:
		case S_QUOTED:
			/* RFC 9051 section 9: quoted, \" and \\ escapes. */
			q = scan(ps, lim, C_QUOT);
			tok_add(p, ps, (size_t)(q - ps));
			ps = q;
			if (ps == lim)
				continue;
			c = *ps;
			switch (c) {
			case '"':
				if (st == S_QUOTED) {
					p->offset = AT(ps + 1);
					emit_tok(p, IMAP_TOKEN_QUOTED);
					st = S_SP;
				} else {
					tok_add1(p, c);
					st = S_ATOM;
				}
				ps++;
				continue;
			case '\\':
				if (st == S_QUOTED)
					st = S_QUOTED_ESC;
				else {
					tok_add1(p, c);
					st = S_ATOM_BQ_ESC;
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
			tok_add1(p, c);
			st = st == S_QUOTED_ESC ? S_QUOTED : S_ATOM_BQ;
			ps++;
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
				    false);
				p->in_code = true;
				st = S_SP;
				ps++;
				continue;
			}
			st = S_TEXT;
			continue;
		case S_TEXT_SKIP:
			if (c == ' ')
				ps++;
			st = S_TEXT;
			continue;
		case S_TEXT:
			q = scan(ps, lim, C_TEXT);
			tok_add(p, ps, (size_t)(q - ps));
			ps = q;
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
			if (c == '\n') {
				st = p->cr_state;
				goto eol;
			}
			st = cr_ordinary(p);
			continue;

		default:
			/* S_LIT_BODY never reaches the loop. */
			assert(!"imap_parser: bad state");
			err = IMAP_PERR_BAD_CHAR;
			goto fail;
		}
eol:
		/* CRLF or bare LF (Dovecot accepts both, so do we). */
		ps++;
		p->offset = AT(ps);
		line_end(p, st);
		st = p->state;
		seg = ps;
		lim = line_limit(p, seg, end);
	}
	if (ps < end) {
		err = IMAP_PERR_LINE_TOO_LONG;
		goto fail;
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
	emit(p, IMAP_TOKEN_LITERAL, NULL, 0, p->lit_flags, true);
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
#undef AT
}
