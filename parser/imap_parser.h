/*
 * imap_parser.h - streaming IMAP tokenizer for one direction.
 *
 * Push bytes in with imap_parser_feed(), get tokens out through a const
 * table of callbacks.  The parser makes no syscalls, never allocates,
 * never writes to the wire and never modifies its input.  Feeding the
 * same byte stream in any split, down to one byte at a time, yields the
 * same sequence of callbacks with the same token contents (literal data
 * spans excepted: their boundaries follow the chunks, their
 * concatenation does not).
 *
 * One parser reads one direction: IMAP_PARSER_CLIENT reads commands
 * (RFC 9051 "command"), IMAP_PARSER_SERVER reads responses ("response":
 * tagged, untagged "*" and continuation "+").  It knows IMAP grammar
 * (where resp-text starts, response codes, BODY[...] sections, literals)
 * but nothing of command semantics: modes that need both directions
 * (IDLE/DONE, AUTHENTICATE lines, a synchronizing literal the server
 * refuses) are switched by the caller, imap_infer, through the small
 * calls at the bottom.
 *
 * Includes libc only.
 */
#ifndef IMAP_PARSER_H
#define IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * IMAP_TOKEN_MAX bounds the bytes of one atom, quoted string, response
 * text or SASL line that the parser delivers, and its scratch for the
 * part of a token that straddles fed chunks or is unescaped.  A longer
 * token still parses: its callback gets the first IMAP_TOKEN_MAX bytes
 * with IMAP_TOKEN_F_TRUNCATED set - except for atoms when the caller
 * asked for fragments (imap_parser_set_fragments()): a longer atom then
 * comes whole, in several callbacks (IMAP_TOKEN_F_MORE).
 */
#define IMAP_TOKEN_MAX		1024

/*
 * Default limit on a line's length (64 KiB).  A line's length counts
 * every byte outside literal bodies, from its first byte to its LF
 * included: literal headers, the CRLFs after them and the final CRLF.
 * The byte that would exceed the limit fails with LINE_TOO_LONG.
 */
#define IMAP_LINE_MAX_DEFAULT	65536

/*
 * Deepest nesting of "(" lists, and separately of "[" inside an atom
 * (BODY[...]), in one line; one more fails with NESTING_TOO_DEEP.  The
 * message below spells the number out.
 */
#define IMAP_NESTING_MAX	64

/*
 * X(enum suffix, message) - errors are sticky, see imap_parser_error().
 * Anything else a peer sends is relayed and tokenized leniently: 8-bit
 * bytes, a bare CR (an ordinary byte), a CR or LF inside a quoted string
 * (the line ends, the unterminated string is dropped), a ']' or '{'
 * inside an atom.
 */
#define IMAP_PERR_MAP(X)						\
	X(OK,			"no error")				\
	X(LINE_TOO_LONG,	"line exceeds line_max bytes "		\
				"(default 65536), literals excluded")	\
	X(BAD_LITERAL,		"malformed literal header, "		\
				"expected {digits}, {digits+} "		\
				"or ~{digits}")				\
	X(LITERAL_TOO_BIG,	"literal size exceeds 2^64-1")		\
	X(BAD_CHAR,		"NUL byte outside a literal")		\
	X(BAD_NESTING,		"')' without a matching '('")		\
	X(NESTING_TOO_DEEP,	"lists or [sections] nested deeper "	\
				"than 64")

enum imap_parser_error {
#define IMAP_X(e, msg) IMAP_PERR_##e,
	IMAP_PERR_MAP(IMAP_X)
#undef IMAP_X
	IMAP_PERR_COUNT
};

enum imap_parser_dir {
	IMAP_PARSER_CLIENT,	/* client -> server: commands */
	IMAP_PARSER_SERVER,	/* server -> client: responses */
};

enum imap_token_type {
	/*
	 * An atom, a number, NIL, a tag, "*", "+", a flag (\Seen), a
	 * sequence set (1:5,7), a fetch item with its section
	 * (BODY[HEADER.FIELDS (FROM)]<0.100>) - anything unquoted.  The
	 * parser does not tell them apart; consumers compare text.
	 */
	IMAP_TOKEN_ATOM,
	IMAP_TOKEN_QUOTED,	/* contents, unescaped */
	IMAP_TOKEN_LIST_BEGIN,	/* "(" */
	IMAP_TOKEN_LIST_END,	/* ")" */
	/*
	 * "{n}", "{n+}" (RFC 7888 LITERAL+ and LITERAL- alike), "~{n}" or
	 * "~{n+}" (RFC 3516 literal8) header, emitted once its CRLF (or
	 * bare LF) has been read; literal_size is n, data is NULL.  The
	 * body follows as on_literal calls (none when n is 0), then the
	 * line goes on.
	 */
	IMAP_TOKEN_LITERAL,
	/*
	 * "[" opening a resp-text-code and the "]" closing it (server
	 * only, right after a status word: see IMAP_TOKEN_TEXT).  The two
	 * themselves have in_code false; a line that ends inside the code
	 * gets no CODE_END.
	 */
	IMAP_TOKEN_CODE_BEGIN,
	IMAP_TOKEN_CODE_END,
	/*
	 * Free text to the end of the line, never including the CRLF:
	 * - server resp-text: after the status word (OK, NO, BAD, BYE or
	 *   PREAUTH in any case, at index 1 of any response) and one SP,
	 *   an optional "[" code "]" and one more SP, the rest of the
	 *   line; emitted only when not empty.  A "[" anywhere else is
	 *   text.
	 * - server continuation: after an index-0 "+" and one SP, the rest
	 *   of the line (base64 or human text), only when not empty.
	 * - IMAP_PARSER_MODE_TEXT: the whole line (SASL responses, "DONE"),
	 *   always emitted, even empty.
	 */
	IMAP_TOKEN_TEXT,
};

/*
 * A server response's status word (RFC 9051 7.1: resp-cond-state,
 * resp-cond-bye, resp-cond-auth), as the parser recognised it.
 */
enum imap_status {
	IMAP_STATUS_NONE,
	IMAP_STATUS_OK,
	IMAP_STATUS_NO,
	IMAP_STATUS_BAD,
	IMAP_STATUS_BYE,
	IMAP_STATUS_PREAUTH,
};

/* Token flags. */
#define IMAP_TOKEN_F_TRUNCATED	0x01	/* data: the first IMAP_TOKEN_MAX */
#define IMAP_TOKEN_F_NONSYNC	0x02	/* literal: {n+} (RFC 7888) */
#define IMAP_TOKEN_F_LITERAL8	0x04	/* literal: ~{n} (RFC 3516) */
/*
 * Atoms in fragment mode (imap_parser_set_fragments()): an atom longer
 * than IMAP_TOKEN_MAX comes as consecutive callbacks, every one but the
 * last with exactly IMAP_TOKEN_MAX bytes and F_MORE set, the last with
 * the rest (1 to IMAP_TOKEN_MAX bytes) and without F_MORE; every one
 * but the first has F_PART.  The fragments follow the atom's bytes, not
 * the chunks fed, so every split gives the same ones; they share the
 * atom's index and depth (the index advances after the last), and no
 * other callback comes between them.  A fragment is never a status
 * word, and never TRUNCATED.  During a fragment's callback with F_MORE,
 * offset counts the bytes up to and including its last one.
 */
#define IMAP_TOKEN_F_MORE	0x08	/* atom fragment: more follow */
#define IMAP_TOKEN_F_PART	0x10	/* atom fragment: not the first */

struct imap_token {
	enum imap_token_type type;
	unsigned flags;
	/*
	 * Server only: on the atom OK, NO, BAD, BYE or PREAUTH (any case,
	 * not truncated) at index 1 and depth 0 of a response, tagged or
	 * not, which one: the word that starts resp-text (see
	 * IMAP_TOKEN_TEXT), or ends the line.  IMAP_STATUS_NONE on every
	 * other token and in the client direction.
	 */
	enum imap_status status;
	/*
	 * The token's bytes: atoms as they were (a [section] with its
	 * spaces, parens and quotes included), quoted strings unescaped
	 * ("\x" gives x), TEXT without CRLF.  NOT NUL-terminated: use len.
	 * NUL itself is an error outside literals, so none is inside.
	 * Points into the fed buffer when the token lies wholly inside the
	 * chunk (and needs no unescaping), else into the parser's scratch;
	 * valid only during the callback either way.  Non-NULL, even when
	 * len is 0.  NULL/0 for LIST and CODE tokens and literals.  An
	 * unterminated quoted string (the line ended first) is not
	 * delivered.
	 */
	const char *data;
	size_t len;
	uint64_t literal_size;	/* IMAP_TOKEN_LITERAL only */
	/*
	 * Position of the token in its line: index counts the top-level
	 * tokens before it (the tag is 0, the command or "*"'s next word
	 * is 1, ...); a LIST_BEGIN takes one index and everything up to its
	 * LIST_END shares it, with depth > 0 inside (LIST_END has the depth
	 * of its LIST_BEGIN).  A response code likewise takes one index
	 * from CODE_BEGIN to CODE_END, which have depth 0; the tokens
	 * inside have in_code set and depth counting from 1 (a list in
	 * the code: 1 for its LIST_BEGIN, 2 inside).  A literal takes one
	 * index.  Example: "* OK [PERMANENTFLAGS (\Seen)] Ok" gives
	 * "*" 0/0, "OK" 1/0, CODE_BEGIN 2/0, "PERMANENTFLAGS" 2/1,
	 * LIST_BEGIN 2/1, "\Seen" 2/2, LIST_END 2/1, CODE_END 2/0,
	 * TEXT "Ok" 3/0.
	 */
	unsigned index;
	unsigned depth;
	bool in_code;		/* inside [ ... ] of a resp-text-code */
};

enum imap_parser_mode {
	/* Tokenize lines by the IMAP grammar (the default). */
	IMAP_PARSER_MODE_NORMAL,
	/*
	 * Each line is delivered whole as one IMAP_TOKEN_TEXT (index 0),
	 * then on_line_end: for the client's lines during AUTHENTICATE and
	 * for "DONE" ending IDLE.  Literal syntax is not recognised.
	 */
	IMAP_PARSER_MODE_TEXT,
};

struct imap_parser;

/*
 * Any callback may be NULL.  Callbacks may read the parser's READ-ONLY
 * fields; during a callback, offset counts the bytes up to and including
 * the one that completed the token (the delimiter after an atom, the LF
 * after a literal header or a line) or the end of the literal span.
 */
struct imap_parser_callbacks {
	/* One complete token. */
	void (*on_token)(struct imap_parser *parser,
	    const struct imap_token *token);
	/*
	 * LEN bytes (LEN > 0) of the current literal's body, straight
	 * from the fed buffer (never copied).  Called once per fed chunk
	 * that holds body bytes, so a literal arrives as one or more
	 * spans totalling literal_size.  During the call in_literal is
	 * false if and only if this span is the body's last.
	 */
	void (*on_literal)(struct imap_parser *parser, const char *data,
	    size_t len);
	/*
	 * The CRLF (or bare LF) that ends a line (a command or response
	 * ends here).  Called for every line, an empty one included.
	 */
	void (*on_line_end)(struct imap_parser *parser);
};

/*
 * The state, embedded by the caller (never malloced by the parser).
 * Fields marked PUBLIC may be set by the caller; READ-ONLY ones may be
 * read; the rest are PRIVATE.
 */
struct imap_parser {
	/* PRIVATE: lifetime */
	const struct imap_parser_callbacks *cb;
	enum imap_parser_dir dir;
	size_t line_max;
	bool frag;			/* long atoms in fragments */
	/* PRIVATE: reset at each line */
	unsigned state;
	unsigned cr_state;		/* state a pending CR interrupted */
	unsigned index;			/* top-level tokens in line */
	unsigned depth;			/* ( nesting */
	unsigned bracket;		/* [ nesting inside an atom */
	bool in_code;
	bool text_line;			/* line read in MODE_TEXT */
	bool lit_start;			/* no byte since a LITERAL token */
	unsigned lit_flags;		/* literal flags being parsed */
	uint64_t literal_left;		/* body bytes still to come */
	uint64_t literal_size;
	size_t line_len;		/* line's bytes, literals excluded */
	size_t tok_len;			/* bytes held in tok */
	bool tok_truncated;
	bool frag_part;			/* a fragment of this atom went out */
	char tok[IMAP_TOKEN_MAX];	/* from past chunks, or unescaped */
	/* READ-ONLY */
	enum imap_parser_mode mode;	/* see imap_parser_set_mode() */
	enum imap_parser_error error;	/* sticky */
	uint64_t error_offset;		/* offset of the failing byte */
	uint64_t offset;		/* bytes consumed (see callbacks) */
	uint64_t lines;			/* lines completed */
	bool in_literal;		/* body bytes pending: set before the
					   LITERAL token's callback (n > 0) */
	/* PUBLIC */
	void *data;			/* the caller's context */
};

/*
 * Make PARSER ready to read direction DIR, reporting to CB (which must
 * outlive it).  LINE_MAX is the longest line accepted, literal bodies
 * excluded (0 means IMAP_LINE_MAX_DEFAULT).  Every field is cleared
 * except data, which is kept (set it before or after).
 */
void imap_parser_init(struct imap_parser *parser, enum imap_parser_dir dir,
    const struct imap_parser_callbacks *cb, size_t line_max);

/*
 * Consume LEN bytes at DATA.  Returns the number of bytes consumed: LEN,
 * unless an error occurred (then the offset of the failing byte within
 * DATA; every later call consumes nothing and returns 0 until
 * imap_parser_reset()).  Callbacks may call imap_parser_set_mode()
 * (applies from the next line) and imap_parser_literal_cancel() (from
 * the LITERAL token's callback: the next byte starts a new line).
 */
size_t imap_parser_feed(struct imap_parser *parser, const char *data,
    size_t len);

/*
 * Switch how the following lines are read.  The mode is read when a
 * line's first byte is parsed, so called between lines (typically from
 * on_line_end, even with the next line already in the same chunk) it
 * applies to the next line; called in the middle of a line, it applies
 * from the next line on.
 */
void imap_parser_set_mode(struct imap_parser *parser,
    enum imap_parser_mode mode);

/*
 * ON: atoms longer than IMAP_TOKEN_MAX are delivered whole, in
 * fragments (IMAP_TOKEN_F_MORE), instead of cut.  Off by default; kept
 * by imap_parser_reset().  Set it between lines (right after init).
 */
void imap_parser_set_fragments(struct imap_parser *parser, bool on);

/*
 * The server refused a synchronizing literal (it answered the command
 * with a tagged response instead of "+"), so the client will not send
 * its body: forget the pending literal and expect a new line, without
 * calling on_line_end.  No effect unless the parser sits at the very
 * start of a literal body: after a LITERAL token (a {0} one too) and
 * before any further byte.
 */
void imap_parser_literal_cancel(struct imap_parser *parser);

/*
 * Back to the start of a line in NORMAL mode, errors cleared; offset
 * and lines keep counting.
 */
void imap_parser_reset(struct imap_parser *parser);

/*
 * The sticky error (IMAP_PERR_OK if none) and, if MESSAGE_R is not
 * NULL, its static message.  imap_parser_error_name() gives the enum
 * suffix ("LINE_TOO_LONG"), or "UNKNOWN" for a value out of range.
 */
enum imap_parser_error imap_parser_error(const struct imap_parser *parser,
    const char **message_r);
const char *imap_parser_error_name(enum imap_parser_error error);

#endif
