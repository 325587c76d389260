/*
 * diag.c - msgeventd's own diagnostics on stderr.
 */
#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

static enum diag_level diag_max = DIAG_INFO;

static const char *const level_names[] = {
	[DIAG_ERROR] = "error",
	[DIAG_WARN] = "warning",
	[DIAG_INFO] = "info",
	[DIAG_DEBUG] = "debug",
};

void
diag_set_level(enum diag_level level)
{
	diag_max = level;
}

void
diag_v(enum diag_level level, const char *fmt, va_list ap)
{
	char line[2048];
	int n, m;
	int saved = errno;

	if (level > diag_max)
		return;
	n = snprintf(line, sizeof(line), "msgeventd[%ld]: %s: ",
	    (long)getpid(), level_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write(2) per line, so concurrent writers do not interleave. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

void
diag(enum diag_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(level, fmt, ap);
	va_end(ap);
}
