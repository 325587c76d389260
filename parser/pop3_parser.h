/*
 * pop3_parser.h - streaming POP3 tokenizer for one direction.
 *
 * Push bytes in with pop3_parser_feed(), get tokens and body spans out
 * through a const table of callbacks.  The parser makes no syscalls,
 * never allocates, never writes to the wire and never modifies its
 * input.  Feeding the same byte stream in any split, down to one byte at
 * a time, yields the same sequence of callbacks with the same token
 * contents (body spans excepted: their boundaries follow the chunks and
 * the dot-stuffing, their concatenation does not).
 *
 * One parser reads one direction: POP3_PARSER_CLIENT reads commands (RFC
 * 1939 3: a keyword, then arguments), POP3_PARSER_SERVER reads responses:
 * status lines ("+OK", "-ERR", RFC 2449 8 response codes left in the
 * text), SASL continuations ("+" SP base64, RFC 5034 4) and multi-line
 * responses (RFC 1939 3: dot-stuffed lines ended by a "." line).  Which
 * "+OK" a multi-line body follows depends on the command it answers
 * (LIST or UIDL without argument, RETR, TOP, CAPA, AUTH without
 * mechanism, ...), which one direction cannot know: the caller, pop3_infer,
 * says so with pop3_parser_set_mode(), as it switches the client to whole
 * lines during an AUTH exchange.
 *
 * Memory: the struct alone (about 1.1 KiB, POP3_TOKEN_MAX of scratch).
 * Message bodies are never copied: each fed chunk yields at most one span
 * per dot-stuffed line start in it, pointing into the chunk.
 *
 * Includes libc only.
 */
#ifndef POP3_PARSER_H
#define POP3_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * POP3_TOKEN_MAX bounds the bytes of one token the parser delivers (a
 * keyword, a command's arguments, a response's text, a listing line), and
 * its scratch for the part of a token that straddles fed chunks.  A
 * longer token still parses: its callback gets the first POP3_TOKEN_MAX
 * bytes with POP3_TOKEN_F_TRUNCATED set.  RFC 2449 4 caps commands at 255
 * octets and responses at 512, so only a broken or hostile peer reaches it.
 */
#define POP3_TOKEN_MAX		1024

/*
 * Default limit on a line's length (64 KiB), counted from its first byte
 * to its LF included, in every mode but POP3_PARSER_MODE_DATA: message
 * bodies (RETR, TOP) are not counted, as IMAP literals are not.  The byte
 * that would exceed the limit fails with LINE_TOO_LONG.
 */
#define POP3_LINE_MAX_DEFAULT	65536

/*
 * X(enum suffix, message) - errors are sticky, see pop3_parser_error().
 * Anything else a peer sends is tokenized leniently: 8-bit bytes, a bare
 * LF ending a line (as CRLF does), a bare CR (an ordinary byte), status
 * words in any case.
 */
#define POP3_PERR_MAP(X)						\
	X(OK,			"no error")				\
	X(LINE_TOO_LONG,	"line exceeds line_max bytes "		\
				"(default 65536), message bodies "	\
				"excluded")				\
	X(BAD_CHAR,		"NUL byte outside a message body")	\
	X(BAD_STATUS,		"server line is neither +OK, -ERR nor "	\
				"a SASL continuation \"+\"")

enum pop3_parser_error {
#define POP3_X(e, msg) POP3_PERR_##e,
	POP3_PERR_MAP(POP3_X)
#undef POP3_X
	POP3_PERR_COUNT
};

enum pop3_parser_dir {
	POP3_PARSER_CLIENT,	/* client -> server: commands */
	POP3_PARSER_SERVER,	/* server -> client: responses */
};

enum pop3_token_type {
	/*
	 * Client: a command's first word, the bytes before the first SP
	 * (index 0), as sent (the parser does not upper-case it).  An empty
	 * line has none; a line starting with SP has an empty one.
	 */
	POP3_TOKEN_KEYWORD,
	/*
	 * Client: everything after the SP that ends the keyword, to the end
	 * of the line (index 1), delivered whenever that SP was there, even
	 * empty.  Arguments are not split: "PASS" takes the rest of the line
	 * (RFC 1939 7, spaces included), "USER" likewise on many servers.
	 */
	POP3_TOKEN_ARGS,
	/*
	 * Server: the status word of a line (index 0): "+OK", "-ERR" or "+"
	 * (a SASL continuation, RFC 5034 4), see status.  Its data is the
	 * word as sent.
	 */
	POP3_TOKEN_STATUS,
	/*
	 * Free text to the end of the line, never including the CRLF:
	 * - server status line: after the status word and one SP, only when
	 *   not empty (index 1);
	 * - POP3_PARSER_MODE_LINES: each line of a multi-line response, its
	 *   stuffing "." removed, even empty (index 0);
	 * - POP3_PARSER_MODE_TEXT: each line whole, even empty (index 0).
	 */
	POP3_TOKEN_TEXT,
	/*
	 * Server: the "." line that ends a multi-line response (index 0,
	 * data NULL).  The parser is back in POP3_PARSER_MODE_LINE when it
	 * is delivered; on_line_end follows.
	 */
	POP3_TOKEN_BODY_END,
};

/* A server line's status word (RFC 1939 3, RFC 5034 4). */
enum pop3_status {
	POP3_STATUS_NONE,
	POP3_STATUS_OK,		/* "+OK" */
	POP3_STATUS_ERR,	/* "-ERR" */
	POP3_STATUS_CONTINUE,	/* "+" alone: a SASL challenge follows */
};

/* Token flags. */
#define POP3_TOKEN_F_TRUNCATED	0x01	/* data: the first POP3_TOKEN_MAX */

struct pop3_token {
	enum pop3_token_type type;
	unsigned flags;
	/* POP3_TOKEN_STATUS: which; POP3_STATUS_NONE on other tokens. */
	enum pop3_status status;
	/*
	 * The token's bytes, NOT NUL-terminated (NUL itself is an error
	 * outside bodies, so none is inside): points into the fed buffer
	 * when the token lies wholly inside the chunk, else into the
	 * parser's scratch; valid only during the callback either way.
	 * Non-NULL, even when len is 0, except for BODY_END.
	 */
	const char *data;
	size_t len;
	unsigned index;		/* 0 or 1, see the types */
};

enum pop3_parser_mode {
	/* Commands (client) or status lines (server): the default. */
	POP3_PARSER_MODE_LINE,
	/* Each line whole as one TEXT: the client's AUTH responses. */
	POP3_PARSER_MODE_TEXT,
	/*
	 * Server: a multi-line response whose lines the caller reads
	 * (listings: LIST, UIDL, CAPA, AUTH): each line, unstuffed, as one
	 * TEXT, then on_line_end; lines are counted against line_max.
	 */
	POP3_PARSER_MODE_LINES,
	/*
	 * Server: a multi-line response relayed as data (RETR, TOP): the
	 * lines, unstuffed and with their CRLFs, as on_body spans; no
	 * on_line_end for them and no line limit.
	 */
	POP3_PARSER_MODE_DATA,
};

struct pop3_parser;

/*
 * Any callback may be NULL.  Callbacks may read the parser's READ-ONLY
 * fields and call pop3_parser_set_mode(); nothing else.  During a
 * callback, offset counts the bytes up to and including the one that
 * completed the token (the SP after a word, the LF ending a line) or the
 * end of the body span.
 */
struct pop3_parser_callbacks {
	/* One complete token. */
	void (*on_token)(struct pop3_parser *parser,
	    const struct pop3_token *token);
	/*
	 * LEN bytes (LEN > 0) of a POP3_PARSER_MODE_DATA body, unstuffed:
	 * straight from the fed buffer, except a lone "\r" from static
	 * storage when a ".\r" line start turned out not to end the body
	 * at a chunk boundary.  The spans of one body, joined, are its
	 * content: every line with its CRLF, the terminating "." line not
	 * included.
	 */
	void (*on_body)(struct pop3_parser *parser, const char *data,
	    size_t len);
	/*
	 * The CRLF (or bare LF) that ends a line: every command, status
	 * line, continuation, TEXT line and listing line, and the "." line
	 * ending a body.  Not the lines inside a MODE_DATA body.
	 */
	void (*on_line_end)(struct pop3_parser *parser);
};

/*
 * The state, embedded by the caller (never malloced by the parser).
 * Fields marked PUBLIC may be set by the caller; READ-ONLY ones may be
 * read; the rest are PRIVATE.
 */
struct pop3_parser {
	/* PRIVATE: lifetime */
	const struct pop3_parser_callbacks *cb;
	enum pop3_parser_dir dir;
	size_t line_max;
	/* PRIVATE: reset at each line */
	unsigned state;
	unsigned cr_state;		/* state a pending CR interrupted */
	unsigned index;			/* tokens in line */
	bool text_line;			/* TEXT delivered even when empty */
	bool in_data;			/* inside a MODE_DATA body: uncounted */
	size_t line_len;		/* line's bytes so far */
	unsigned word_len;		/* status word bytes in word */
	char word[4];			/* the status word: "-ERR" is longest */
	size_t tok_len;			/* bytes held in tok */
	bool tok_truncated;
	char tok[POP3_TOKEN_MAX];	/* a token from past chunks */
	/* READ-ONLY */
	enum pop3_parser_mode mode;	/* see pop3_parser_set_mode() */
	enum pop3_parser_error error;	/* sticky */
	uint64_t error_offset;		/* offset of the failing byte */
	uint64_t offset;		/* bytes consumed (see callbacks) */
	uint64_t lines;			/* lines completed (see on_line_end) */
	bool in_body;			/* a multi-line body is expected or
					   being read (MODE_LINES, MODE_DATA) */
	/* PUBLIC */
	void *data;			/* the caller's context */
};

/*
 * Make PARSER ready to read direction DIR, reporting to CB (which must
 * outlive it).  LINE_MAX is the longest line accepted (0 means
 * POP3_LINE_MAX_DEFAULT).  Every field is cleared except data, which is
 * kept (set it before or after).
 */
void pop3_parser_init(struct pop3_parser *parser, enum pop3_parser_dir dir,
    const struct pop3_parser_callbacks *cb, size_t line_max);

/*
 * Consume LEN bytes at DATA.  Returns the number of bytes consumed: LEN,
 * unless an error occurred (then the offset of the failing byte within
 * DATA; every later call consumes nothing and returns 0 until
 * pop3_parser_reset()).
 */
size_t pop3_parser_feed(struct pop3_parser *parser, const char *data,
    size_t len);

/*
 * Switch how the following lines are read.  The mode is read when a
 * line's first byte is parsed, so called between lines (from a +OK's
 * STATUS token or its on_line_end, even with the body already in the
 * same chunk) it applies to the next line.  MODE_LINES and MODE_DATA
 * last until the "." line, after which the parser is back in MODE_LINE
 * by itself; MODE_TEXT lasts until changed.
 */
void pop3_parser_set_mode(struct pop3_parser *parser,
    enum pop3_parser_mode mode);

/*
 * Back to the start of a line in MODE_LINE, errors cleared; offset and
 * lines keep counting.  Not from a callback.
 */
void pop3_parser_reset(struct pop3_parser *parser);

/*
 * The sticky error (POP3_PERR_OK if none) and, if MESSAGE_R is not NULL,
 * its static message.  pop3_parser_error_name() gives the enum suffix
 * ("LINE_TOO_LONG"), or "UNKNOWN" for a value out of range.
 */
enum pop3_parser_error pop3_parser_error(const struct pop3_parser *parser,
    const char **message_r);
const char *pop3_parser_error_name(enum pop3_parser_error error);

#endif
