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
 * text or SASL line that the parser keeps (unescaped) for its callback.
 * A longer token still parses: its callback gets the first
 * IMAP_TOKEN_MAX bytes with IMAP_TOKEN_F_TRUNCATED set.
 */
#define IMAP_TOKEN_MAX		1024

/* Default limit on a line's length outside literals (64 KiB). */
#define IMAP_LINE_MAX_DEFAULT	65536

/* X(enum suffix, message) - errors are sticky, see imap_parser_error(). */
#define IMAP_PERR_MAP(X)						\
	X(OK,			"no error")				\
	X(LINE_TOO_LONG,	"line exceeds the configured limit")	\
	X(BAD_LITERAL,		"malformed literal size")		\
	X(LITERAL_TOO_BIG,	"literal size overflows 64 bits")	\
	X(BAD_CHAR,		"unexpected byte")			\
	X(BAD_QUOTED,		"malformed quoted string")		\
	X(BAD_NESTING,		"unbalanced parentheses or brackets")	\
	X(NESTING_TOO_DEEP,	"lists nested too deeply")		\
	X(BARE_CR,		"CR not followed by LF")

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
	 * "{n}", "{n+}", "{n-}"... header, emitted once its CRLF has been
	 * read; literal_size is n.  The body follows as on_literal calls
	 * (none when n is 0).
	 */
	IMAP_TOKEN_LITERAL,
	IMAP_TOKEN_CODE_BEGIN,	/* "[" opening a resp-text-code */
	IMAP_TOKEN_CODE_END,	/* "]" closing it */
	/*
	 * Free text to the end of the line: human-readable resp-text after
	 * the status (and after a response code), the text of a "+"
	 * continuation, or a whole line in IMAP_PARSER_MODE_TEXT (SASL
	 * responses, "DONE").  Never includes the CRLF.
	 */
	IMAP_TOKEN_TEXT,
};

/* Token flags. */
#define IMAP_TOKEN_F_TRUNCATED	0x01	/* data holds the first IMAP_TOKEN_MAX bytes */
#define IMAP_TOKEN_F_NONSYNC	0x02	/* literal: {n+} (RFC 7888 LITERAL+/-) */
#define IMAP_TOKEN_F_LITERAL8	0x04	/* literal: ~{n} (RFC 3516) */

struct imap_token {
	enum imap_token_type type;
	unsigned flags;
	/*
	 * The token's bytes: atoms as they were, quoted strings unescaped,
	 * TEXT without CRLF.  NUL-terminated for convenience (an embedded
	 * NUL can only come from a broken peer; len is authoritative).
	 * Valid only during the callback.  NULL/0 for LIST and CODE
	 * tokens and literals.
	 */
	const char *data;
	size_t len;
	uint64_t literal_size;	/* IMAP_TOKEN_LITERAL only */
	/*
	 * Position of the token in its line: index counts the top-level
	 * tokens before it (the tag is 0, the command or "*"'s next word
	 * is 1, ...); a LIST_BEGIN takes one index and everything up to its
	 * LIST_END shares it, with depth > 0 inside.  Inside a response
	 * code, depth counts from 1 as well (CODE_BEGIN/END are at the
	 * depth of the line).
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

struct imap_parser_callbacks {
	/* One complete token. */
	void (*on_token)(struct imap_parser *parser,
	    const struct imap_token *token);
	/*
	 * LEN bytes (LEN > 0) of the current literal's body, straight
	 * from the fed buffer (never copied).  Called once per fed chunk
	 * that holds body bytes, so a literal arrives as one or more
	 * spans totalling literal_size.
	 */
	void (*on_literal)(struct imap_parser *parser, const char *data,
	    size_t len);
	/* The CRLF that ends a line (a command or response ends here). */
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
	/* PRIVATE: reset at each line */
	unsigned state;
	unsigned char sub;		/* sub-state within state */
	unsigned index;			/* top-level token count in line */
	unsigned depth;			/* ( nesting */
	unsigned bracket;		/* [ nesting inside an atom */
	bool in_code;
	bool resp_text_next;		/* next top-level token is resp-text */
	unsigned flags;			/* literal flags being parsed */
	uint64_t literal_left;		/* body bytes still to come */
	uint64_t literal_size;
	size_t line_len;		/* bytes of the current line, literals excluded */
	size_t tok_len;			/* bytes held in tok */
	bool tok_truncated;
	char tok[IMAP_TOKEN_MAX + 1];
	/* READ-ONLY */
	enum imap_parser_mode mode;	/* change with imap_parser_set_mode() */
	enum imap_parser_error error;	/* sticky */
	uint64_t error_offset;		/* stream offset of the failing byte */
	uint64_t offset;		/* bytes consumed in total */
	uint64_t lines;			/* lines completed */
	bool in_literal;		/* between a LITERAL token and its last byte */
	/* PUBLIC */
	void *data;			/* the caller's context */
};

/*
 * Make PARSER ready to read direction DIR, reporting to CB (which must
 * outlive it).  LINE_MAX is the longest line accepted, literal bodies
 * excluded (0 means IMAP_LINE_MAX_DEFAULT).
 */
void imap_parser_init(struct imap_parser *parser, enum imap_parser_dir dir,
    const struct imap_parser_callbacks *cb, size_t line_max);

/*
 * Consume LEN bytes at DATA.  Returns the number of bytes consumed: LEN,
 * unless an error occurred (then the offset of the failing byte within
 * DATA; every later call consumes nothing and returns 0 until
 * imap_parser_reset()).  Callbacks may call imap_parser_set_mode() and
 * imap_parser_literal_cancel(); they take effect for the next byte.
 */
size_t imap_parser_feed(struct imap_parser *parser, const char *data,
    size_t len);

/*
 * Switch how the following lines are read.  Called between lines
 * (typically from on_line_end), it applies to the next line; called in
 * the middle of a line, it applies from the next line on.
 */
void imap_parser_set_mode(struct imap_parser *parser,
    enum imap_parser_mode mode);

/*
 * The server refused a synchronizing literal (it answered the command
 * with a tagged response instead of "+"), so the client will not send
 * its body: forget the pending literal and expect a new line.  No effect
 * unless the parser sits at the very start of a literal body.
 */
void imap_parser_literal_cancel(struct imap_parser *parser);

/* Back to the start of a line in NORMAL mode, errors cleared. */
void imap_parser_reset(struct imap_parser *parser);

/* The sticky error (IMAP_PERR_OK if none) and its message. */
enum imap_parser_error imap_parser_error(const struct imap_parser *parser,
    const char **message_r);
const char *imap_parser_error_name(enum imap_parser_error error);

#endif
