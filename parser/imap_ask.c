/*
 * imap_ask.c - hiding the answers to the proxy's own questions.
 *
 * A per-line filter of the server stream while a question is open (see
 * imap_ask.h for which lines are taken out).  At the start of a line
 * its bytes are held while they can still become "* N FETCH " or the
 * question's tag followed by SP; once they cannot, the held bytes and
 * the rest of the line pass.  A held line is judged at its LF.  Lines
 * that pass are followed to their end through literals ("{n}" CRLF
 * ends a line segment and n bytes follow), so that a literal's content
 * is never read as a line.
 */
#include "imap_ask.h"

#include <string.h>

#include "imap_set.h"

enum {
	ASK_LINE_START,		/* holding: maybe an answer or the completion */
	ASK_HOLD_LINE,		/* holding a whole candidate line */
	ASK_PASS,		/* passing the rest of a line */
	ASK_LITERAL,		/* passing a literal's bytes */
	ASK_DONE,		/* completion seen: pass everything */
};

/* A passing line's tail, watched for "{" digits ["+"] "}" CR LF. */
enum {
	LIT_NONE,
	LIT_DIGITS,		/* after "{" */
	LIT_CLOSE,		/* after "}" */
	LIT_CR,			/* after "}" CR */
};

static char
up(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

void
imap_ask_init(struct imap_ask *f, const struct imap_ask_query *q)
{
	memset(f, 0, sizeof(*f));
	f->tag_len = q->tag_len < IMAP_ASK_TAG_MAX ? q->tag_len :
	    IMAP_ASK_TAG_MAX;
	memcpy(f->tag, q->tag, f->tag_len);
	f->uid = q->uid;
	f->set_len = q->set_len < IMAP_ASK_SET_MAX ? q->set_len :
	    IMAP_ASK_SET_MAX;
	memcpy(f->set, q->set, f->set_len);
	f->state = ASK_LINE_START;
	f->status = -1;
}

bool
imap_ask_done(const struct imap_ask *f)
{
	return f->state == ASK_DONE;
}

/*
 * Could the held bytes still begin an answer ("* " 1*DIGIT " FETCH ")?
 * *WHOLE_R: they already do.
 */
static bool
may_be_fetch(const char *s, size_t len, bool *whole_r)
{
	static const char word[] = " FETCH ";
	size_t i = 0, digits = 0, k;

	*whole_r = false;
	if (len > 0 && s[0] != '*')
		return false;
	if (len > 1 && s[1] != ' ')
		return false;
	if (len <= 2)
		return true;
	for (i = 2; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i == len)
		return digits <= 10;
	if (digits == 0)
		return false;
	for (k = 0; i < len && k < sizeof(word) - 1; i++, k++)
		if (up(s[i]) != word[k])
			return false;
	*whole_r = k == sizeof(word) - 1;
	return true;
}

/* Could the held bytes still begin the completion (TAG SP)? */
static bool
may_be_tagged(const struct imap_ask *f, const char *s, size_t len,
    bool *whole_r)
{
	size_t n = len < f->tag_len + 1 ? len : f->tag_len + 1;

	*whole_r = false;
	if (memcmp(s, f->tag, n < f->tag_len ? n : f->tag_len) != 0)
		return false;
	if (len > f->tag_len && s[f->tag_len] != ' ')
		return false;
	*whole_r = len > f->tag_len;
	return true;
}

/* Skip a parenthesised list of atoms (FLAGS, MODSEQ) at *I. */
static bool
skip_list(const char *s, size_t len, size_t *i)
{
	size_t j = *i;

	if (j >= len || s[j] != '(')
		return false;
	for (j++; j < len; j++) {
		if (s[j] == ')') {
			*i = j + 1;
			return true;
		}
		if (s[j] == '(' || s[j] == '"' || s[j] == '{' ||
		    s[j] == '\r' || s[j] == '\n')
			return false;
	}
	return false;
}

static bool
read_num(const char *s, size_t len, size_t *i, uint32_t *v_r)
{
	uint64_t v = 0;
	size_t j = *i;

	if (j >= len || s[j] < '0' || s[j] > '9')
		return false;
	for (; j < len && s[j] >= '0' && s[j] <= '9'; j++) {
		v = v * 10 + (uint64_t)(s[j] - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*i = j;
	*v_r = (uint32_t)v;
	return true;
}

static bool
word_is(const char *s, size_t len, size_t i, const char *w)
{
	size_t n = strlen(w);

	if (len - i < n + 1)
		return false;
	for (size_t k = 0; k < n; k++)
		if (up(s[i + k]) != w[k])
			return false;
	return s[i + n] == ' ';
}

/*
 * Is the whole line S (LEN bytes, ending in CRLF or LF) an answer to
 * the question: "* N FETCH (" items ")" with items UID, FLAGS and
 * MODSEQ only, a UID among them, its number in the set and past the
 * last taken?
 */
static bool
is_answer(struct imap_ask *f, const char *s, size_t len)
{
	struct imap_set_iter it;
	uint32_t num, uid = 0, key, a, b;
	bool has_uid = false, in = false;
	size_t i = 2;

	if (!read_num(s, len, &i, &num))
		return false;
	i += 7;				/* " FETCH " */
	if (i >= len || s[i] != '(')
		return false;
	for (i++; i < len && s[i] != ')';) {
		if (word_is(s, len, i, "UID")) {
			i += 4;
			if (!read_num(s, len, &i, &uid))
				return false;
			has_uid = true;
		} else if (word_is(s, len, i, "FLAGS")) {
			i += 6;
			if (!skip_list(s, len, &i))
				return false;
		} else if (word_is(s, len, i, "MODSEQ")) {
			i += 7;
			if (!skip_list(s, len, &i))
				return false;
		} else
			return false;
		if (i < len && s[i] == ' ')
			i++;
	}
	if (i >= len || !has_uid)
		return false;
	i++;
	if (!(len - i == 2 && s[i] == '\r' && s[i + 1] == '\n') &&
	    !(len - i == 1 && s[i] == '\n'))
		return false;
	key = f->uid ? uid : num;
	if (f->any_taken && key <= f->last)
		return false;
	imap_set_iter_init(&it, f->set, f->set_len, UINT32_MAX, UINT32_MAX);
	while (!in && imap_set_iter_next(&it, &a, &b) == 1)
		in = key >= a && key <= b;
	if (!in)
		return false;
	f->any_taken = true;
	f->last = key;
	return true;
}

/*
 * A held line ending in a literal header: the number, or -1.  The line
 * ends "{" 1*DIGIT ["+"] "}" CRLF.
 */
static int64_t
line_literal(const char *s, size_t len)
{
	size_t i;
	uint64_t v = 0, mul = 1;

	if (len < 5 || s[len - 1] != '\n' || s[len - 2] != '\r' ||
	    s[len - 3] != '}')
		return -1;
	i = len - 4;
	if (s[i] == '+')
		i--;
	if (s[i] < '0' || s[i] > '9')
		return -1;
	for (; i > 0 && s[i] >= '0' && s[i] <= '9'; i--) {
		if (mul > 1000000000000000000ULL)
			return -1;
		v += (uint64_t)(s[i] - '0') * mul;
		mul *= 10;
	}
	if (s[i] != '{' || v > INT64_MAX)
		return -1;
	return (int64_t)v;
}

/* Follow a passing line's bytes for a literal header at its end. */
static void
lit_watch(struct imap_ask *f, char c)
{
	switch (f->lit_state) {
	case LIT_DIGITS:
		if (c >= '0' && c <= '9' && f->lit_digits < 19) {
			f->lit_value = f->lit_value * 10 + (uint64_t)(c - '0');
			f->lit_digits++;
			return;
		}
		if (c == '+' && f->lit_digits > 0)
			return;
		if (c == '}' && f->lit_digits > 0) {
			f->lit_state = LIT_CLOSE;
			return;
		}
		break;
	case LIT_CLOSE:
		if (c == '\r') {
			f->lit_state = LIT_CR;
			return;
		}
		break;
	default:
		break;
	}
	f->lit_state = LIT_NONE;
	if (c == '{') {
		f->lit_state = LIT_DIGITS;
		f->lit_value = 0;
		f->lit_digits = 0;
	}
}

static void
release_hold(struct imap_ask *f, imap_ask_out_cb *out, void *ctx)
{
	if (f->hold_len > 0)
		out(ctx, f->hold, f->hold_len);
	f->hold_len = 0;
}

/* The held line is complete (it ends in LF): take it out or pass it. */
static void
judge_line(struct imap_ask *f, imap_ask_out_cb *out, void *ctx)
{
	const char *s = f->hold;
	size_t len = f->hold_len;
	bool whole;
	int64_t lit;

	if (may_be_tagged(f, s, len, &whole) && whole) {
		size_t i = f->tag_len + 1;

		f->status = len - i >= 3 && up(s[i]) == 'O' &&
		    up(s[i + 1]) == 'K' && (s[i + 2] == ' ' ||
		    s[i + 2] == '\r' || s[i + 2] == '\n') ? 1 : 0;
		f->hold_len = 0;
		f->state = ASK_DONE;
		return;
	}
	if ((lit = line_literal(s, len)) >= 0) {
		release_hold(f, out, ctx);
		f->passed++;
		f->literal_left = (uint64_t)lit;
		f->state = lit > 0 ? ASK_LITERAL : ASK_PASS;
		f->lit_state = LIT_NONE;
		return;
	}
	if (is_answer(f, s, len)) {
		f->taken++;
		f->hold_len = 0;
	} else {
		f->passed++;
		release_hold(f, out, ctx);
	}
	f->state = ASK_LINE_START;
}

void
imap_ask_feed(struct imap_ask *f, const char *data, size_t len,
    imap_ask_out_cb *out, void *ctx)
{
	/* data[start..i) passes and is not emitted yet */
	size_t i = 0, start = 0;

	while (i < len) {
		switch (f->state) {
		case ASK_DONE:
			i = len;
			break;
		case ASK_LITERAL: {
			uint64_t n = len - i < f->literal_left ? len - i :
			    f->literal_left;

			i += (size_t)n;
			f->literal_left -= n;
			if (f->literal_left == 0)
				f->state = ASK_PASS;
			break;
		}
		case ASK_PASS: {
			char c = data[i++];

			if (c != '\n') {
				lit_watch(f, c);
				break;
			}
			if (f->lit_state != LIT_CR)
				f->state = ASK_LINE_START;
			else if (f->lit_value > 0) {
				f->literal_left = f->lit_value;
				f->state = ASK_LITERAL;
			}
			f->lit_state = LIT_NONE;
			break;
		}
		default: {		/* ASK_LINE_START, ASK_HOLD_LINE */
			char c = data[i];
			bool wf = false, wt = false, mf, mt;

			if (start < i)
				out(ctx, data + start, i - start);
			if (f->hold_len == IMAP_ASK_LINE_MAX) {
				/* too long to be an answer: let it through */
				f->lit_state = LIT_NONE;
				for (size_t k = 0; k < f->hold_len; k++)
					lit_watch(f, f->hold[k]);
				release_hold(f, out, ctx);
				f->passed++;
				f->state = ASK_PASS;
				start = i;
				break;
			}
			start = ++i;
			f->hold[f->hold_len++] = c;
			if (c == '\n') {
				judge_line(f, out, ctx);
				break;
			}
			if (f->state == ASK_HOLD_LINE)
				break;
			mf = may_be_fetch(f->hold, f->hold_len, &wf);
			mt = may_be_tagged(f, f->hold, f->hold_len, &wt);
			if (wf || wt)
				f->state = ASK_HOLD_LINE;
			else if (!mf && !mt) {
				/* an ordinary line: the rest passes */
				f->lit_state = LIT_NONE;
				for (size_t k = 0; k < f->hold_len; k++)
					lit_watch(f, f->hold[k]);
				release_hold(f, out, ctx);
				f->passed++;
				f->state = ASK_PASS;
			}
			break;
		}
		}
	}
	if (start < len)
		out(ctx, data + start, len - start);
}

void
imap_ask_flush(struct imap_ask *f, imap_ask_out_cb *out, void *ctx)
{
	release_hold(f, out, ctx);
	f->state = ASK_PASS;
}
