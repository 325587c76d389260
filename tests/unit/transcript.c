/*
 * transcript.c - IMAP session transcripts for the inference tests.
 */
#include "transcript.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return -1;
}

static struct transcript_step *
step_add(struct transcript *t, size_t *cap)
{
	struct transcript_step *s;
	size_t ncap;

	if (t->nsteps == *cap) {
		ncap = *cap == 0 ? 16 : *cap * 2;
		s = realloc(t->steps, ncap * sizeof(*s));
		if (s == NULL)
			return NULL;
		t->steps = s;
		*cap = ncap;
	}
	s = &t->steps[t->nsteps++];
	memset(s, 0, sizeof(*s));
	return s;
}

/* Append LEN bytes (and CRLF if CRLF) to chunk step S. */
static int
chunk_add(struct transcript_step *s, const char *text, size_t len, bool crlf)
{
	char *p;

	p = realloc(s->data, s->len + len + 3);
	if (p == NULL)
		return -1;
	memcpy(p + s->len, text, len);
	s->len += len;
	if (crlf) {
		p[s->len++] = '\r';
		p[s->len++] = '\n';
	}
	p[s->len] = '\0';
	s->data = p;
	return 0;
}

int
transcript_load(const char *path, struct transcript *t, char *err,
    size_t errsize)
{
	FILE *f;
	char *line = NULL, *text;
	size_t linecap = 0, cap = 0, len;
	ssize_t n;
	unsigned lineno = 0;
	struct transcript_step *s, *chunk = NULL;
	enum transcript_op op;
	bool crlf;

	memset(t, 0, sizeof(*t));
	if ((f = fopen(path, "r")) == NULL)
		return fail(err, errsize, "%s: %s", path, strerror(errno));
	if ((t->path = strdup(path)) == NULL)
		goto oom;
	while ((n = getline(&line, &linecap, f)) != -1) {
		lineno++;
		len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if ((line[0] == 'C' || line[0] == 'S') &&
		    (line[1] == ':' || line[1] == '-')) {
			op = line[0] == 'C' ? TRANSCRIPT_CLIENT :
			    TRANSCRIPT_SERVER;
			crlf = line[1] == ':';
			text = line + 2;
			if (*text == ' ')
				text++;
			else if (*text != '\0') {
				fail(err, errsize, "%s:%u: a space must "
				    "follow \"%.2s\"", path, lineno, line);
				goto bad;
			}
			if (chunk == NULL || chunk->op != op) {
				if ((chunk = step_add(t, &cap)) == NULL)
					goto oom;
				chunk->op = op;
				chunk->line = lineno;
			}
			if (chunk_add(chunk, text, len - (size_t)(text - line),
			    crlf) == -1)
				goto oom;
			continue;
		}
		chunk = NULL;
		if (len == 0 || line[0] == '#')
			continue;
		if (strncmp(line, "E: ", 3) == 0) {
			if ((s = step_add(t, &cap)) == NULL)
				goto oom;
			s->line = lineno;
			if (strcmp(line + 3, "-") == 0) {
				s->op = TRANSCRIPT_NONE;
				continue;
			}
			s->op = TRANSCRIPT_EXPECT;
			if ((s->data = strdup(line + 3)) == NULL)
				goto oom;
			s->len = strlen(s->data);
			continue;
		}
		if (strncmp(line, "END: ", 5) == 0) {
			if ((s = step_add(t, &cap)) == NULL)
				goto oom;
			s->op = TRANSCRIPT_END;
			s->line = lineno;
			if (strcmp(line + 5, "graceful") == 0)
				s->reason = IMAP_INFER_END_GRACEFUL;
			else if (strcmp(line + 5, "abort") == 0)
				s->reason = IMAP_INFER_END_ABORT;
			else if (strcmp(line + 5, "timeout") == 0)
				s->reason = IMAP_INFER_END_TIMEOUT;
			else {
				fail(err, errsize, "%s:%u: unknown end reason",
				    path, lineno);
				goto bad;
			}
			continue;
		}
		fail(err, errsize, "%s:%u: unknown line", path, lineno);
		goto bad;
	}
	free(line);
	fclose(f);
	return 0;
oom:
	fail(err, errsize, "%s: out of memory", path);
bad:
	free(line);
	fclose(f);
	transcript_free(t);
	return -1;
}

void
transcript_free(struct transcript *t)
{
	size_t i;

	for (i = 0; i < t->nsteps; i++)
		free(t->steps[i].data);
	free(t->steps);
	free(t->path);
	memset(t, 0, sizeof(*t));
}

size_t
transcript_event_format(const struct msgevent *ev, char *buf, size_t size)
{
	const char *v;
	size_t len = 0, vlen, i;
	int p;

#define PUT(...) do {							\
		int n_ = snprintf(buf + len, size - len, __VA_ARGS__);	\
		if (n_ < 0 || (size_t)n_ >= size - len) {		\
			buf[size - 1] = '\0';				\
			return size - 1;				\
		}							\
		len += (size_t)n_;					\
	} while (0)

	buf[0] = '\0';
	PUT("%s", msgevent_type_name(ev->type));
	for (p = 0; p < MSGEVENT_PARAM_COUNT; p++) {
		if (p == MSGEVENT_P_TIMESTAMP || p == MSGEVENT_P_SESSION)
			continue;
		if ((v = msgevent_get(ev, (enum msgevent_param)p,
		    &vlen)) == NULL)
			continue;
		PUT(" %s=", msgevent_param_name((enum msgevent_param)p));
		if (p == MSGEVENT_P_DURATION) {
			PUT("*");
			continue;
		}
		for (i = 0; i < vlen; i++) {
			unsigned char c = (unsigned char)v[i];

			if (c < 0x20 || c == 0x7F)
				PUT("\\x%02X", c);
			else
				PUT("%c", c);
		}
	}
	if (ev->truncated)
		PUT(" (truncated)");
#undef PUT
	return len;
}

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
transcript_list(const char *dir, char ***paths_r, size_t *n_r)
{
	DIR *d;
	struct dirent *de;
	char **paths = NULL, **np;
	size_t n = 0, nlen;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		nlen = strlen(de->d_name);
		if (nlen < 3 || strcmp(de->d_name + nlen - 2, ".t") != 0)
			continue;
		if ((np = realloc(paths, (n + 1) * sizeof(*paths))) == NULL)
			goto oom;
		paths = np;
		if (asprintf(&paths[n], "%s/%s", dir, de->d_name) < 0)
			goto oom;
		n++;
	}
	closedir(d);
	qsort(paths, n, sizeof(*paths), path_cmp);
	*paths_r = paths;
	*n_r = n;
	return 0;
oom:
	closedir(d);
	transcript_list_free(paths, n);
	errno = ENOMEM;
	return -1;
}

void
transcript_list_free(char **paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}
