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
 * pop3-uidl-pattern is compiled here (proxy/uidl_map.h), so that a bad
 * pattern is an error of the file, with PCRE2's message and offset.
 *
 * SNMP communities and pass phrases are never quoted in an error
 * message.
 *
 * TLS (proxy/tls.h): the tls-* directives configure what clients get,
 * the backend-* ones what msgeventd does towards backends.  Their
 * values are checked here for form only; the files and lists are read
 * and checked by tls_ctx_server_new() / tls_ctx_client_new(), which
 * report "FILE:LINE:" from the line numbers kept below.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "uidl_map.h"

#define CONFIG_NAME_MAX		256	/* host names, server-name */
#define CONFIG_PATH_MAX		1024	/* file and socket paths */
#define CONFIG_ERROR_MAX	1280	/* "FILE:LINE: message", truncated */
#define CONFIG_LINE_MAX		4096	/* longest line, CR LF not counted */
#define CONFIG_SD_ID_MAX	32	/* RFC 5424 SD-NAME: 1*32 characters */
#define CONFIG_SNMP_SECRET_MAX	255	/* community, pass phrase: octets */
#define CONFIG_SNMP_PASS_MIN	8	/* RFC 3414 11.2: pass phrases */
#define CONFIG_SNMP_USER_MAX	32	/* RFC 3414 usmUserName: 1..32 */
#define CONFIG_SNMP_PROTO_MAX	16	/* "SHA-512", "AES-256" */
#define CONFIG_SNMP_ENGINE_MAX	32	/* RFC 3411 SnmpEngineID: 5..32 */
#define CONFIG_TLS_LIST_MAX	1024	/* tls-ciphers, -ciphersuites, -curves */

/* TLS protocol versions as numbered on the wire (RFC 8446 4.2.1). */
#define CONFIG_TLS_V1_0		0x0301
#define CONFIG_TLS_V1_1		0x0302
#define CONFIG_TLS_V1_2		0x0303
#define CONFIG_TLS_V1_3		0x0304

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

/*
 * listen SERVICE ADDR:PORT backend ADDR:PORT
 *     [backend-tls|backend-starttls [backend-name NAME]]
 */
struct config_listen {
	struct config_listen *next;
	int line;			/* where it was configured */
	enum config_service service;
	struct config_addr listen;
	struct config_addr backend;
	bool backend_tls;
	bool backend_starttls;
	/*
	 * The name the backend's certificate must carry, and the SNI sent
	 * to it: backend-name NAME, else the backend's host as written
	 * ("localhost", "192.0.2.1", "::1").
	 */
	char backend_name[CONFIG_NAME_MAX];
};

/* The client side's TLS: the tls-* directives (lines 0 when not given). */
struct config_tls {
	/* tls-cert PATH: the certificate chain (PEM, leaf first) */
	char cert[CONFIG_PATH_MAX];
	int cert_line;
	/* tls-key PATH: its private key (PEM); default: read from cert */
	char key[CONFIG_PATH_MAX];
	int key_line;
	/*
	 * tls-protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 (a range, any order):
	 * the versions offered (TLSv1.2 TLSv1.3).  CONFIG_TLS_V1_*.
	 */
	uint16_t min_version, max_version;
	int protocols_line;
	/* tls-ciphers LIST: TLS 1.2 and older, OpenSSL's syntax */
	char ciphers[CONFIG_TLS_LIST_MAX];
	int ciphers_line;
	/* tls-ciphersuites LIST: TLS 1.3, OpenSSL's syntax */
	char ciphersuites[CONFIG_TLS_LIST_MAX];
	int ciphersuites_line;
	/* tls-curves LIST: (EC)DH groups, e.g. X25519:prime256v1 */
	char curves[CONFIG_TLS_LIST_MAX];
	int curves_line;
};

enum config_output_kind {
	CONFIG_OUTPUT_SYSLOG_UDP,	/* udp://HOST:PORT */
	CONFIG_OUTPUT_SYSLOG_TCP,	/* tcp://HOST:PORT, RFC 6587 framing */
	CONFIG_OUTPUT_SYSLOG_UNIX,	/* unix:/PATH (datagram, else stream);
					 * PATH fits sockaddr_un's sun_path */
	CONFIG_OUTPUT_SYSLOG_STDERR,	/* stderr, one message per line */
	CONFIG_OUTPUT_SYSLOG_TLS,	/* tls://HOST:PORT [ca PATH], RFC 5425;
					 * path: the CA, "" for the system
					 * store; tls_name: HOST */
	CONFIG_OUTPUT_SNMP,		/* output snmp trap|inform udp:... */
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

/*
 * output snmp trap|inform udp:HOST:PORT version 2c community NAME
 * output snmp trap|inform udp:HOST:PORT version 3 user NAME
 *     [auth PROTO PASS [priv PROTO PASS]]
 * Protocol names as net-snmp spells them (snmptrap -a, -x): MD5, SHA,
 * SHA-224, SHA-256, SHA-384, SHA-512; DES, AES, AES-192, AES-256.
 * Empty strings where not given.
 */
struct config_snmp {
	bool inform;
	int version;			/* 2 (2c) or 3 */
	char community[CONFIG_SNMP_SECRET_MAX + 1];	/* 2c: 1..255 */
	char user[CONFIG_SNMP_USER_MAX + 1];		/* 3 */
	char auth_proto[CONFIG_SNMP_PROTO_MAX];
	char auth_pass[CONFIG_SNMP_SECRET_MAX + 1];	/* 8..255 */
	char priv_proto[CONFIG_SNMP_PROTO_MAX];
	char priv_pass[CONFIG_SNMP_SECRET_MAX + 1];	/* 8..255 */
};

struct config_output {
	struct config_output *next;
	int line;
	enum config_output_kind kind;
	struct config_addr addr;	/* UDP, TCP, TLS, SNMP */
	char path[CONFIG_PATH_MAX];	/* UNIX; TLS: ca PATH or "" */
	char tls_name[CONFIG_NAME_MAX];	/* TLS: the name to verify */
	struct config_snmp snmp;	/* SNMP */
};

struct config {
	char file[CONFIG_PATH_MAX];	/* the file it was read from */
	/*
	 * server-name NAME: serverFQDN, serverDomain, URIs, syslog HOSTNAME.
	 * 1..255 of A-Z a-z 0-9 - . _.  Default: gethostname(), or
	 * "localhost" if that fails or is not such a name.
	 */
	char server_name[CONFIG_NAME_MAX];
	/* max-line-length BYTES: longest IMAP or POP3 line outside
	 * literals and message bodies, 1024..16777216 (65536) */
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
	 * state-dir PATH: where state that outlives a restart is kept
	 * (the SNMPv3 engine ID and boots counter; only SNMPv3 outputs
	 * use it).  Default: $STATE_DIRECTORY (systemd's StateDirectory=,
	 * the first one), else /var/lib/msgeventd for root, else
	 * $XDG_STATE_HOME/msgeventd or $HOME/.local/state/msgeventd.
	 */
	char state_dir[CONFIG_PATH_MAX];
	/* snmp-engine-id 0xHEX: the SNMPv3 engine ID, 5..32 octets
	 * (default: made at the first start, kept in state-dir) */
	uint8_t snmp_engine_id[CONFIG_SNMP_ENGINE_MAX];
	size_t snmp_engine_id_len;	/* 0: not set */
	/* snmp-max-size BYTES: one SNMP message, 1024..65507 (1472) */
	size_t snmp_max_size;
	/* snmp-inform-retries N: retransmissions of an unacknowledged
	 * inform, 0..10 (3) */
	unsigned snmp_inform_retries;
	/* snmp-inform-timeout MILLISECONDS: wait for an acknowledgement
	 * before each retransmission, 10..60000 (1000) */
	unsigned snmp_inform_timeout;
	/*
	 * backend-queries on|off: ask the backend, between the client's
	 * commands, for UIDs and flags the traffic did not tell (on)
	 */
	bool backend_queries;
	struct config_tls tls;		/* what clients are offered */
	/* backend-ca PATH: CA certificates (a PEM file or a hashed
	 * directory) backends are verified against; default: the system's */
	char backend_ca[CONFIG_PATH_MAX];
	int backend_ca_line;
	/* backend-verify on|off (on) */
	bool backend_verify;
	/* backend-tls-protocols: as tls-protocols, towards backends */
	uint16_t backend_min_version, backend_max_version;
	int backend_protocols_line;
	/*
	 * pop3-uidl-pattern REGEX [hex|decimal]: compiled, one reference
	 * (config_free() drops it); NULL when not given.
	 */
	struct uidl_map *uidl_map;
	int uidl_map_line;
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
