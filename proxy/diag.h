/*
 * diag.h - msgeventd's own diagnostics, one line each on stderr:
 *   msgeventd[PID]: LEVEL: message
 * Session diagnostics add "session N client IP:PORT (what was under way)"
 * as nginx's log->action does.  Never pass protocol secrets here.
 */
#ifndef DIAG_H
#define DIAG_H

#include <stdarg.h>

enum diag_level {
	DIAG_ERROR,
	DIAG_WARN,
	DIAG_INFO,
	DIAG_DEBUG,
};

/* Lines above this level are not written (default DIAG_INFO). */
void diag_set_level(enum diag_level level);

void diag(enum diag_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void diag_v(enum diag_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define diag_error(...)	diag(DIAG_ERROR, __VA_ARGS__)
#define diag_warn(...)	diag(DIAG_WARN, __VA_ARGS__)
#define diag_info(...)	diag(DIAG_INFO, __VA_ARGS__)
#define diag_debug(...)	diag(DIAG_DEBUG, __VA_ARGS__)

#endif
