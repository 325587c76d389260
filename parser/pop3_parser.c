/*
 * pop3_parser.c - streaming POP3 tokenizer for one direction.
 *
 * The shape is imap_parser.c's, itself nginx's ngx_mail_pop3_parse_command
 * grown up: a local state, a switch for each byte, the state stored back
 * at the end of the input and before every callback.  Runs of ordinary
 * bytes are found with a class table and not copied: a token wholly
 * inside the fed chunk is a span of the caller's bytes (tok_get()).
 *
 * Multi-line bodies (RFC 1939 3) are looked at only where a line starts:
 * memchr() jumps to the next LF, and a body line whose first byte is "."
 * is either the terminating ".CRLF" or byte-stuffed, in which case the
 * dot is left out by ending one span before it and starting the next
 * after it.  Nothing is copied, and a chunk gives one span per stuffed
 * line start it holds, plus one.
 *
 * The line limit is a count, not a buffer (http-parser's
 * COUNT_HEADER_SIZE): the byte loop runs up to a pointer `lim` that is
 * the end of the chunk or the byte at which the current line would exceed
 * line_max, whichever comes first.  Body lines in MODE_DATA are not
 * counted (lim is the end of the chunk there).
 */
#include "pop3_parser.h"

#include <assert.h>
#include <string.h>

enum {
	S_LINE_START,	/* before a line's first byte: the mode is read */
	S_KEYWORD,	/* client: in the first word */
	S_ARGS,		/* client: after the keyword's SP */
	S_STATUS,	/* server: in the status word */
	S_TEXT,		/* text to the end of the line */
	S_LN_START,	/* MODE_LINES: a body line's first byte */
	S_LN_DOT,	/* MODE_LINES: after a line's leading "." */
	S_DATA_BOL,	/* MODE_DATA: a body line's first byte */
	S_DATA,		/* MODE_DATA: inside a body line */
	S_DATA_DOT,	/* MODE_DATA: after a line's leading "." */
	S_DATA_DOT_CR,	/* MODE_DATA: after ".\r" at a line start */
	S_CR,		/* a CR seen in p->cr_state; LF or not decides */
};

/* Byte classes: the bytes that stop a run in each context. */
#define C_WORD		0x01	/* keyword: SP CR LF NUL */
#define C_TEXT		0x02	/* arguments, text: CR LF NUL */

static const unsigned char pop3_cclass[256] = {
	['\0'] = C_WORD | C_TEXT, ['\r'] = C_WORD | C_TEXT,
	['\n'] = C_WORD | C_TEXT, [' '] = C_WORD,
};

static const char *const pop3_perr_names[] = {
#define POP3_X(e, msg) #e,
	POP3_PERR_MAP(POP3_X)
#undef POP3_X
};

static const char *const pop3_perr_messages[] = {
#define POP3_X(e, msg) msg,
	POP3_PERR_MAP(POP3_X)
#undef POP3_X
};

static inline const unsigned char *
scan(const unsigned char *q, const unsigned char *lim, unsigned mask)
{
	while (q < lim && (pop3_cclass[*q] & mask) == 0)
		q++;
	return q;
}

/* Keep what fits of N bytes in the token scratch; note what did not. */
static inline void
tok_add(struct pop3_parser *p, const unsigned char *q, size_t n)
{
	size_t room = POP3_TOKEN_MAX - p->tok_len;

	if (n > room) {
		n = room;
		p->tok_truncated = true;
	}
	memcpy(p->tok + p->tok_len, q, n);
	p->tok_len += n;
}

static inline void
tok_add1(struct pop3_parser *p, unsigned char c)
{
	if (p->tok_len < POP3_TOKEN_MAX)
		p->tok[p->tok_len++] = (char)c;
	else
		p->tok_truncated = true;
}

/*
 * Empty the scratch.  The client's is wiped: a token may be a PASS
 * argument or a SASL response, which must not linger in session memory.
 * The server sends no secrets the client did not already have.
 */
static inline void
tok_clear(struct pop3_parser *p)
{
	if (p->tok_len == 0)
		return;
	if (p->dir == POP3_PARSER_CLIENT)
		memset(p->tok, 0, p->tok_len);
	p->tok_len = 0;
	p->tok_truncated = false;
}

/*
 * The token whose last bytes are [Q0, Q1) of the chunk, in one piece:
 * the span itself when the scratch is empty (no copy), else the scratch
 * with the span added.
 */
static inline const char *
tok_get(struct pop3_parser *p, const unsigned char *q0,
    const unsigned char *q1, size_t *len_r, unsigned *flags_r)
{
	size_t n = (size_t)(q1 - q0);

	if (p->tok_len == 0) {
		*flags_r = 0;
		if (n > POP3_TOKEN_MAX) {
			n = POP3_TOKEN_MAX;
			*flags_r = POP3_TOKEN_F_TRUNCATED;
		}
		*len_r = n;
		return (const char *)q0;
	}
	tok_add(p, q0, n);
	*len_r = p->tok_len;
	*flags_r = p->tok_truncated ? POP3_TOKEN_F_TRUNCATED : 0;
	return p->tok;
}

/* Deliver one token at the current index, which it advances. */
static inline void
emit(struct pop3_parser *p, enum pop3_token_type type, const char *data,
    size_t len, unsigned flags, enum pop3_status status)
{
	struct pop3_token t;

	t.type = type;
	t.flags = flags;
	t.status = status;
	t.data = data;
	t.len = len;
	t.index = p->index++;
	if (p->cb->on_token != NULL)
		p->cb->on_token(p, &t);
}

/* Deliver the token ending with [Q0, Q1) and empty the scratch. */
static void
emit_tok(struct pop3_parser *p, enum pop3_token_type type,
    const unsigned char *q0, const unsigned char *q1)
{
	const char *data;
	unsigned flags;
	size_t len;

	data = tok_get(p, q0, q1, &len, &flags);
	emit(p, type, data, len, flags, POP3_STATUS_NONE);
	tok_clear(p);
}

/* LEN body bytes at DATA, ending at stream offset END_OFF. */
static inline void
body(struct pop3_parser *p, const char *data, size_t len, uint64_t end_off)
{
	p->offset = end_off;
	if (p->cb->on_body != NULL)
		p->cb->on_body(p, data, len);
}

/*
 * RFC 1939 3: "+OK" and "-ERR" (any case here), and RFC 5034 4's "+"
 * continuation.  Whether C may follow the status word read so far:
 * every prefix of these is a prefix of "+OK" or "-ERR", so a line that
 * is not a response fails at its first wrong byte, not at its end.
 * "& ~0x20" upper-cases letters and maps no other byte to one.
 */
static bool
status_add(struct pop3_parser *p, unsigned char c)
{
	const char *w;

	if (p->word_len == 0) {
		if (c != '+' && c != '-')
			return false;
	} else {
		w = p->word[0] == '+' ? "+OK" : "-ERR";
		if (p->word_len >= strlen(w) || (unsigned char)(c & ~0x20u) !=
		    (unsigned char)w[p->word_len])
			return false;
	}
	p->word[p->word_len++] = (char)c;
	return true;
}

/* The status word is complete: which one it is, if any. */
static enum pop3_status
status_of(const struct pop3_parser *p)
{
	switch (p->word_len) {
	case 1:
		return p->word[0] == '+' ? POP3_STATUS_CONTINUE :
		    POP3_STATUS_NONE;
	case 3:
		return p->word[0] == '+' ? POP3_STATUS_OK : POP3_STATUS_NONE;
	case 4:
		return POP3_STATUS_ERR;
	default:
		return POP3_STATUS_NONE;
	}
}

static void
line_reset(struct pop3_parser *p)
{
	p->state = S_LINE_START;
	p->cr_state = S_TEXT;
	p->index = 0;
	p->text_line = false;
	p->in_data = false;
	p->line_len = 0;
	p->word_len = 0;
	tok_clear(p);
}

/*
 * The LF ending a line, read in state ST: deliver what the line still
 * holds (a token ending with [Q0, Q1) in a token state, or the end of a
 * body), then on_line_end.
 */
static void
line_end(struct pop3_parser *p, unsigned st, const unsigned char *q0,
    const unsigned char *q1)
{
	switch (st) {
	case S_KEYWORD:
		/* An empty line has no keyword. */
		if (p->tok_len > 0 || q1 > q0)
			emit_tok(p, POP3_TOKEN_KEYWORD, q0, q1);
		break;
	case S_ARGS:
		emit_tok(p, POP3_TOKEN_ARGS, q0, q1);
		break;
	case S_STATUS:
		/* Checked by the caller: a status word without text. */
		emit(p, POP3_TOKEN_STATUS, p->word, p->word_len, 0,
		    status_of(p));
		break;
	case S_TEXT:
		if (p->tok_len > 0 || q1 > q0 || p->text_line)
			emit_tok(p, POP3_TOKEN_TEXT, q0, q1);
		break;
	case S_LN_DOT:
	case S_DATA_DOT:
		/* RFC 1939 3: ".CRLF" ends the multi-line response. */
		p->mode = POP3_PARSER_MODE_LINE;
		p->in_body = false;
		emit(p, POP3_TOKEN_BODY_END, NULL, 0, 0, POP3_STATUS_NONE);
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
 * interrupted (lenient, as Dovecot is).  HERE: the CR is the byte before
 * PS in this chunk, so a span running through it holds it already; else
 * it ended the previous chunk and goes to the scratch.  Returns the state
 * in which to read the byte after it.
 */
static unsigned
cr_ordinary(struct pop3_parser *p, const unsigned char *ps, bool here,
    const unsigned char **tok0)
{
	if (p->cr_state == S_LN_DOT) {
		/* ".\rX": the dot was stuffing, the CR starts the text. */
		p->text_line = true;
		if (here)
			*tok0 = ps - 1;
		else {
			tok_add1(p, '\r');
			*tok0 = ps;
		}
		return S_TEXT;
	}
	if (!here)
		tok_add1(p, '\r');
	return p->cr_state;
}

/* A token is in the making in state ST (see tok_get()). */
static inline bool
tok_state(unsigned st)
{
	return st == S_KEYWORD || st == S_ARGS || st == S_TEXT;
}

/* Where the line in progress would exceed line_max, or END. */
static inline const unsigned char *
line_limit(const struct pop3_parser *p, const unsigned char *seg,
    const unsigned char *end)
{
	size_t room = p->line_max - p->line_len;

	if (p->in_data)
		return end;
	return (size_t)(end - seg) > room ? seg + room : end;
}

void
pop3_parser_init(struct pop3_parser *p, enum pop3_parser_dir dir,
    const struct pop3_parser_callbacks *cb, size_t line_max)
{
	void *data = p->data;

	assert(cb != NULL);
	memset(p, 0, sizeof(*p));
	p->data = data;
	p->cb = cb;
	p->dir = dir;
	p->line_max = line_max != 0 ? line_max : POP3_LINE_MAX_DEFAULT;
	p->mode = POP3_PARSER_MODE_LINE;
	p->error = POP3_PERR_OK;
	line_reset(p);
}

void
pop3_parser_reset(struct pop3_parser *p)
{
	line_reset(p);
	p->mode = POP3_PARSER_MODE_LINE;
	p->in_body = false;
	p->error = POP3_PERR_OK;
	p->error_offset = 0;
}

void
pop3_parser_set_mode(struct pop3_parser *p, enum pop3_parser_mode mode)
{
	p->mode = mode;
	p->in_body = mode == POP3_PARSER_MODE_LINES ||
	    mode == POP3_PARSER_MODE_DATA;
}

enum pop3_parser_error
pop3_parser_error(const struct pop3_parser *p, const char **message_r)
{
	if (message_r != NULL)
		*message_r = pop3_perr_messages[p->error];
	return p->error;
}

const char *
pop3_parser_error_name(enum pop3_parser_error error)
{
	if ((unsigned)error >= POP3_PERR_COUNT)
		return "UNKNOWN";
	return pop3_perr_names[error];
}

/*
 * The byte loop.  `ps` is the byte being read; `seg` is where the counted
 * part of the current line starts in this chunk (p->line_len holds what
 * the line counted before it); `lim` is line_limit(); `tok0` is where the
 * current token's span starts, `tok1` where it ends at a line end; `span0`
 * is where the body span being gathered starts (NULL: none).  Every case
 * either consumes its byte (ps++) or changes state and reads the same
 * byte again (continue without ps++).
 */
size_t
pop3_parser_feed(struct pop3_parser *p, const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	const unsigned char *end, *ps, *seg, *lim, *tok0, *tok1, *span0;
	const unsigned char *q;
	uint64_t base = p->offset;
	enum pop3_parser_error err;
	enum pop3_status status;
	unsigned st = p->state;
	unsigned char c;

/* The stream offset of the byte at Q. */
#define AT(q)	(base + (uint64_t)((q) - s))

	if (p->error != POP3_PERR_OK || len == 0)
		return 0;
	end = s + len;
	ps = seg = s;
	tok0 = s;		/* a token from the last chunk goes on here */
	span0 = st == S_DATA ? s : NULL;
	lim = line_limit(p, seg, end);

	while (ps < lim) {
		c = *ps;
		switch (st) {
		case S_LINE_START:
			switch (p->mode) {
			case POP3_PARSER_MODE_TEXT:
				p->text_line = true;
				st = S_TEXT;
				tok0 = ps;
				break;
			case POP3_PARSER_MODE_LINES:
				st = S_LN_START;
				break;
			case POP3_PARSER_MODE_DATA:
				p->in_data = true;
				lim = end;
				st = S_DATA_BOL;
				break;
			default:
				if (p->dir == POP3_PARSER_CLIENT) {
					st = S_KEYWORD;
					tok0 = ps;
				} else
					st = S_STATUS;
				break;
			}
			continue;

		case S_KEYWORD:
			ps = scan(ps, lim, C_WORD);
			if (ps == lim)
				continue;
			c = *ps;
			if (c == ' ') {
				p->offset = AT(ps + 1);
				emit_tok(p, POP3_TOKEN_KEYWORD, tok0, ps);
				ps++;
				st = S_ARGS;
				tok0 = ps;
				continue;
			}
			goto line_byte;

		case S_ARGS:
		case S_TEXT:
			ps = scan(ps, lim, C_TEXT);
			if (ps == lim)
				continue;
			c = *ps;
			goto line_byte;

		case S_STATUS:
			if (c == ' ') {
				if ((status = status_of(p)) ==
				    POP3_STATUS_NONE) {
					err = POP3_PERR_BAD_STATUS;
					goto fail;
				}
				p->offset = AT(ps + 1);
				emit(p, POP3_TOKEN_STATUS, p->word, p->word_len,
				    0, status);
				ps++;
				st = S_TEXT;
				tok0 = ps;
				continue;
			}
			if (c == '\r' || c == '\n' || c == '\0')
				goto line_byte;
			if (!status_add(p, c)) {
				err = POP3_PERR_BAD_STATUS;
				goto fail;
			}
			ps++;
			continue;

		/*
		 * RFC 1939 3: a body line starting with "." is either the
		 * terminating ".CRLF" or byte-stuffed, its first "." to be
		 * removed.
		 */
		case S_LN_START:
			if (c == '.') {
				st = S_LN_DOT;
				ps++;
				continue;
			}
			p->text_line = true;
			st = S_TEXT;
			tok0 = ps;
			continue;
		case S_LN_DOT:
			if (c == '\r' || c == '\n')
				goto line_byte;
			p->text_line = true;
			st = S_TEXT;
			tok0 = ps;
			continue;

		case S_DATA_BOL:
			if (c == '.') {
				if (span0 != NULL && ps > span0)
					body(p, (const char *)span0,
					    (size_t)(ps - span0), AT(ps));
				span0 = NULL;
				st = S_DATA_DOT;
				ps++;
				continue;
			}
			if (span0 == NULL)
				span0 = ps;
			st = S_DATA;
			continue;
		case S_DATA:
			q = memchr(ps, '\n', (size_t)(end - ps));
			if (q == NULL) {
				ps = end;
				continue;
			}
			ps = q + 1;
			st = S_DATA_BOL;
			continue;
		case S_DATA_DOT:
			if (c == '\n')
				goto eol;
			if (c == '\r') {
				st = S_DATA_DOT_CR;
				ps++;
				continue;
			}
			span0 = ps;
			st = S_DATA;
			continue;
		case S_DATA_DOT_CR:
			if (c == '\n') {
				st = S_DATA_DOT;
				goto eol;
			}
			/* ".\rX": the CR is content, the dot was stuffing. */
			if (ps > s)
				span0 = ps - 1;
			else {
				body(p, "\r", 1, AT(ps));
				span0 = ps;
			}
			st = S_DATA;
			continue;

		case S_CR:
			/* The CR is at ps - 1 unless it ended the last chunk */
			if (c == '\n') {
				st = p->cr_state;
				tok1 = ps > s ? ps - 1 : ps;
				goto eol_cr;
			}
			if (p->cr_state == S_STATUS) {
				/* A CR inside the status word. */
				err = POP3_PERR_BAD_STATUS;
				goto fail;
			}
			st = cr_ordinary(p, ps, ps > s, &tok0);
			continue;

		default:
			assert(!"pop3_parser: bad state");
			err = POP3_PERR_BAD_CHAR;
			goto fail;
		}
line_byte:
		/* C is CR, LF or NUL, read in state ST. */
		if (c == '\n')
			goto eol;
		if (c == '\0') {
			err = POP3_PERR_BAD_CHAR;
			goto fail;
		}
		p->cr_state = st;
		st = S_CR;
		ps++;
		continue;
eol:
		tok1 = ps;
eol_cr:
		/* CRLF or bare LF (Dovecot accepts both, so do we). */
		if (st == S_STATUS && status_of(p) == POP3_STATUS_NONE) {
			err = POP3_PERR_BAD_STATUS;
			goto fail;
		}
		ps++;
		p->offset = AT(ps);
		line_end(p, st, tok0, tok1);
		st = p->state;
		seg = ps;
		span0 = NULL;
		lim = line_limit(p, seg, end);
	}
	if (ps < end) {
		err = POP3_PERR_LINE_TOO_LONG;
		goto fail;
	}
	if (span0 != NULL && end > span0)
		body(p, (const char *)span0, (size_t)(end - span0), AT(end));
	/* A token going on in the next chunk: its span to the scratch. */
	if (tok_state(st))
		tok_add(p, tok0, (size_t)(ps - tok0));
	else if (st == S_CR && tok_state(p->cr_state))
		tok_add(p, tok0, (size_t)(ps - 1 - tok0));	/* not the CR */
	if (!p->in_data)
		p->line_len += (size_t)(ps - seg);
	p->state = st;
	p->offset = base + len;
	return len;

fail:
	p->state = st;
	p->error = err;
	p->error_offset = AT(ps);
	p->offset = p->error_offset;
	return (size_t)(ps - s);
#undef AT
}
