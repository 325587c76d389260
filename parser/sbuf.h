/*
 * sbuf.h - a bounded string builder, and the text encodings the
 * inferences (imap_infer, pop3_infer) read and write with it: RFC 3986
 * percent-encoding for URLs, RFC 4648 base64 for SASL responses.
 *
 * An sbuf writes into a caller's buffer and never overflows it: what
 * does not fit is dropped and remembered (cut), so that the event built
 * from it can be marked truncated.  The buffer is not NUL-terminated.
 * Includes libc only.
 */
#ifndef SBUF_H
#define SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sbuf {
	char *p;
	size_t size;
	size_t len;
	bool cut;			/* something did not fit */
};

void sbuf_init(struct sbuf *sb, char *p, size_t size);
/* LEN bytes at S; what does not fit is cut. */
void sbuf_add(struct sbuf *sb, const char *s, size_t len);
void sbuf_adds(struct sbuf *sb, const char *s);
/* V in decimal. */
void sbuf_addu(struct sbuf *sb, uint64_t v);

/*
 * Percent-encode S into SB (RFC 3986 2.1, upper-case hex).  Kept as is:
 * unreserved (2.3) and, with KEEP_SLASH (a mailbox path: RFC 5092
 * bchar admits "/", the hierarchy separator of IMAP URLs), "/".
 * Everything else is encoded, the strict reading of achar, so "@" in a
 * user name becomes %40.  A cut never splits a %XX.
 */
void sbuf_pct(struct sbuf *sb, const char *s, size_t len, bool keep_slash);

/*
 * The value of base64 digit C (RFC 4648 4), C63 being the 63rd digit
 * ('/' in base64, ',' in IMAP's modified UTF-7), or -1.
 */
int sbuf_b64_value(unsigned char c, char c63);

/*
 * RFC 4648 4 base64 at IN (LEN bytes) into OUT.  "=" ends the data; a
 * partial last quantum yields its whole bytes.  Returns the bytes
 * written, or -1 on a byte outside the alphabet or when OUT (SIZE
 * bytes) is too small.
 */
ssize_t sbuf_b64_decode(const char *in, size_t len, unsigned char *out,
    size_t size);

#endif
