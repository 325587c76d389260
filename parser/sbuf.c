/*
 * sbuf.c - a bounded string builder and the encodings built with it.
 */
#include "sbuf.h"

#include <stdio.h>
#include <string.h>

void
sbuf_init(struct sbuf *sb, char *p, size_t size)
{
	sb->p = p;
	sb->size = size;
	sb->len = 0;
	sb->cut = false;
}

void
sbuf_add(struct sbuf *sb, const char *s, size_t len)
{
	if (len > sb->size - sb->len) {
		len = sb->size - sb->len;
		sb->cut = true;
	}
	memcpy(sb->p + sb->len, s, len);
	sb->len += len;
}

void
sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void
sbuf_addu(struct sbuf *sb, uint64_t v)
{
	char tmp[24];
	int n;

	n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	sbuf_add(sb, tmp, (size_t)n);
}

void
sbuf_pct(struct sbuf *sb, const char *s, size_t len, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char esc[3];
	size_t i;

	for (i = 0; i < len && !sb->cut; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (keep_slash && c == '/')) {
			sbuf_add(sb, s + i, 1);
			continue;
		}
		if (sb->size - sb->len < 3) {
			sb->cut = true;
			break;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		sbuf_add(sb, esc, 3);
	}
}

int
sbuf_b64_value(unsigned char c, char c63)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == (unsigned char)c63)
		return 63;
	return -1;
}

ssize_t
sbuf_b64_decode(const char *in, size_t len, unsigned char *out, size_t size)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, n = 0;
	int v;

	for (i = 0; i < len && in[i] != '='; i++) {
		if ((v = sbuf_b64_value((unsigned char)in[i], '/')) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == size)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return (ssize_t)n;
}
