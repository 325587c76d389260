/*
 * config.h - the configuration file of ../shared/spec/INTERFACE.md.
 *
 * Line-oriented: '#' starts a comment (outside double quotes), arguments
 * are separated by blanks (space, tab), a value containing blanks is
 * written in double quotes (\" and \\ escape inside them; any other
 * backslash is kept as it is, so "\d" stays \d).  Quoted and unquoted
 * parts join into one argument as in sh: unix:"/a b".  A CR before the
 * LF is dropped; any other control character outside a comment is an
 * error.  Unknown or malformed directives are errors, reported as
 * "FILE:LINE: message".
 *
 * The directives of features this version does not have (TLS, POP3,
 * SNMP: tls-cert, tls-key, backend-ca, backend-verify, pop3-uidl-pattern,
 * listen imaps|pop3|pop3s, backend-tls, backend-starttls,
 * output syslog tls://, output snmp) are parsed, so typos in them are
 * named, and then rejected with "'X' needs TLS, which this version of
 * msgeventd does not have yet": never silently ignored.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONFIG_NAME_MAX		256	/* host names, server-name */
#define CONFIG_PATH_MAX		1024	/* file and socket paths */
#define CONFIG_ERROR_MAX	1280	/* "FILE:LINE: message", truncated */
#define CONFIG_LINE_MAX		4096	/* longest line, CR LF not counted */
#define CONFIG_SD_ID_MAX	32	/* RFC 5424 SD-NAME: 1*32 characters */

enum config_service {
	CONFIG_SERVICE_IMAP,
	CONFIG_SERVICE_IMAPS,
	CONFIG_SERVICE_POP3,
	CONFIG_SERVICE_POP3S,
};

/*
 * A HOST:PORT as written, resolved.  HOST is an IPv4 address, an IPv6
 * address in brackets ("[::1]:1143") or "localhost" (127.0.0.1): no DNS.
 * PORT is 1..65535.
 */
struct config_addr {
	char text[CONFIG_NAME_MAX];	/* as written, e.g. "localhost:1143" */
	char host[CONFIG_NAME_MAX];	/* "127.0.0.1", "::1" (no brackets) */
	uint16_t port;
	struct sockaddr_storage sa;
	socklen_t salen;
};

/* listen SERVICE ADDR:PORT backend ADDR:PORT [backend-tls|backend-starttls] */
struct config_listen {
	struct config_listen *next;
	int line;			/* where it was configured */
	enum config_service service;
	struct config_addr listen;
	struct config_addr backend;
	bool backend_tls;
	bool backend_starttls;
};

enum config_output_kind {
	CONFIG_OUTPUT_SYSLOG_UDP,	/* udp://HOST:PORT */
	CONFIG_OUTPUT_SYSLOG_TCP,	/* tcp://HOST:PORT, RFC 6587 framing */
	CONFIG_OUTPUT_SYSLOG_UNIX,	/* unix:/PATH (datagram, else stream);
					 * PATH fits sockaddr_un's sun_path */
	CONFIG_OUTPUT_SYSLOG_STDERR,	/* stderr, one message per line */
};

/*
 * flag-events simple|flags: how flag changes are reported (RFC 5423
 * 4.2 asks for the choice).  SIMPLE (the default): \Seen set is
 * MessageRead, \Deleted set MessageTrash, other flags FlagsSet, any
 * cleared FlagsClear.  FLAGS: FlagsSet and FlagsClear for every flag.
 */
enum config_flag_events {
	CONFIG_FLAG_EVENTS_SIMPLE,
	CONFIG_FLAG_EVENTS_FLAGS,
};

struct config_output {
	struct config_output *next;
	int line;
	enum config_output_kind kind;
	struct config_addr addr;	/* UDP, TCP */
	char path[CONFIG_PATH_MAX];	/* UNIX */
};

struct config {
	char file[CONFIG_PATH_MAX];	/* the file it was read from */
	/*
	 * server-name NAME: serverFQDN, serverDomain, URIs, syslog HOSTNAME.
	 * 1..255 of A-Z a-z 0-9 - . _.  Default: gethostname(), or
	 * "localhost" if that fails or is not such a name.
	 */
	char server_name[CONFIG_NAME_MAX];
	/* max-line-length BYTES: longest IMAP line outside literals,
	 * 1024..16777216 (65536) */
	size_t max_line_length;
	/* syslog-max-size BYTES: one syslog message, 480..8192 (2048) */
	size_t syslog_max_size;
	/* syslog-facility NAME: mail (default), user, daemon, auth, authpriv,
	 * local0..local7 */
	int syslog_facility;		/* RFC 5424 facility number */
	/*
	 * syslog-sd-id NAME@NUMBER: SD-ID of the event element
	 * (msgevent@32473).  RFC 5424 SD-NAME: 1..32 of US-ASCII 33..126
	 * except '=', ']', '"', with one '@' followed by digits only.
	 */
	char syslog_sd_id[CONFIG_SD_ID_MAX + 1];
	/* idle-timeout SECONDS: no byte either way for this long ends the
	 * session, 1..86400 (1800) */
	unsigned idle_timeout;
	/* connect-timeout SECONDS: backend connect limit, 1..300 (10) */
	unsigned connect_timeout;
	/* shutdown-grace SECONDS: on SIGTERM, wait this long for sessions,
	 * 0..3600 (10) */
	unsigned shutdown_grace;
	/* max-sessions N: concurrent sessions; further clients get * BYE,
	 * 1..1000000 (10000) */
	unsigned max_sessions;
	/* output-queue BYTES: per output, events waiting to be sent,
	 * 65536..1073741824 (1048576) */
	size_t output_queue;
	/* flag-events simple|flags (simple) */
	enum config_flag_events flag_events;
	/*
	 * backend-queries on|off: ask the backend, between the client's
	 * commands, for UIDs and flags the traffic did not tell (on)
	 */
	bool backend_queries;
	struct config_listen *listens;	/* in file order; at least one */
	struct config_output *outputs;	/* in file order; may be none */
};

/*
 * Read and check the configuration in PATH.  Returns a new config, or
 * NULL with "FILE:LINE: message" (or "FILE: message" when no line is
 * at fault, e.g. it cannot be opened) in ERR_R.  Numbers are decimal
 * digits only, no sign; a directive that sets one value may be given
 * once; at least one listen is required; no output is allowed.
 */
struct config *config_load(const char *path, char err_r[CONFIG_ERROR_MAX]);

/* The same for TEXT, reported as coming from file NAME (for tests). */
struct config *config_parse(const char *name, const char *text,
    char err_r[CONFIG_ERROR_MAX]);

/* Frees CONFIG and its lists; clears *config.  NULL is a no-op. */
void config_free(struct config **config);

const char *config_service_name(enum config_service service);

#endif
