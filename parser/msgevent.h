/*
 * msgevent.h - the neutral message store event.
 *
 * An event is what the inference layer (parser/imap_infer) produces and
 * what every output (outputs/) consumes.  It knows nothing of syslog or
 * SNMP.  Event and parameter names are those of the Internet Message
 * Store Events draft (RFC 5423), plus serverDomain/serverPort and our own
 * vnd.msgeventd.* names.
 *
 * An event is self-contained: a fixed-size struct with the parameter
 * values copied into its own buffer, so it can be queued and outlive the
 * session that made it.  No pointers into parser memory.
 *
 * Includes libc only.
 */
#ifndef MSGEVENT_H
#define MSGEVENT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* X(enum suffix, name on the wire, SNMP notification suffix) */
#define MSGEVENT_TYPE_MAP(X)						\
	X(LOGIN,		"Login",		"Login")		\
	X(LOGOUT,		"Logout",		"Logout")		\
	X(MESSAGE_APPEND,	"MessageAppend",	"MessageAppend")	\
	X(MESSAGE_NEW,		"MessageNew",		"MessageNew")		\
	X(MESSAGE_EXPUNGE,	"MessageExpunge",	"MessageExpunge")	\
	X(MESSAGE_EXPIRE,	"MessageExpire",	"MessageExpire")	\
	X(MESSAGE_READ,		"MessageRead",		"MessageRead")		\
	X(MESSAGE_TRASH,	"MessageTrash",		"MessageTrash")		\
	X(FLAGS_SET,		"FlagsSet",		"FlagsSet")		\
	X(FLAGS_CLEAR,		"FlagsClear",		"FlagsClear")		\
	X(QUOTA_EXCEED,		"QuotaExceed",		"QuotaExceed")		\
	X(QUOTA_WITHIN,		"QuotaWithin",		"QuotaWithin")		\
	X(QUOTA_CHANGE,		"QuotaChange",		"QuotaChange")		\
	X(MAILBOX_CREATE,	"MailboxCreate",	"MailboxCreate")	\
	X(MAILBOX_DELETE,	"MailboxDelete",	"MailboxDelete")	\
	X(MAILBOX_RENAME,	"MailboxRename",	"MailboxRename")	\
	X(MAILBOX_SUBSCRIBE,	"MailboxSubscribe",	"MailboxSubscribe")	\
	X(MAILBOX_UNSUBSCRIBE,	"MailboxUnSubscribe",	"MailboxUnSubscribe")	\
	X(LOGIN_FAILURE,	"vnd.msgeventd.LoginFailure", "LoginFailure")

enum msgevent_type {
#define MSGEVENT_X(e, name, snmp) MSGEVENT_##e,
	MSGEVENT_TYPE_MAP(MSGEVENT_X)
#undef MSGEVENT_X
	MSGEVENT_TYPE_COUNT
};

/* How a parameter's value reads; outputs use it to pick a syntax. */
enum msgevent_kind {
	MSGEVENT_KIND_STRING,	/* UTF-8 text */
	MSGEVENT_KIND_UINT,	/* decimal, fits uint64_t */
	MSGEVENT_KIND_ADDR,	/* IPv4 or IPv6 address, textual */
	MSGEVENT_KIND_TIME,	/* RFC 3339 timestamp */
};

/*
 * X(enum suffix, name on the wire, kind).  The order here is the order
 * in which outputs write the parameters of an event.
 */
#define MSGEVENT_PARAM_MAP(X)						\
	X(USER,		"user",		MSGEVENT_KIND_STRING)		\
	X(ADMIN,	"admin",	MSGEVENT_KIND_STRING)		\
	X(CLIENT_IP,	"clientIP",	MSGEVENT_KIND_ADDR)		\
	X(CLIENT_PORT,	"clientPort",	MSGEVENT_KIND_UINT)		\
	X(SERVICE,	"service",	MSGEVENT_KIND_STRING)		\
	X(SERVER_FQDN,	"serverFQDN",	MSGEVENT_KIND_STRING)		\
	X(SERVER_DOMAIN, "serverDomain", MSGEVENT_KIND_STRING)		\
	X(SERVER_PORT,	"serverPort",	MSGEVENT_KIND_UINT)		\
	X(TIMESTAMP,	"timestamp",	MSGEVENT_KIND_TIME)		\
	X(URI,		"uri",		MSGEVENT_KIND_STRING)		\
	X(MAILBOX_ID,	"mailboxID",	MSGEVENT_KIND_STRING)		\
	X(OLD_MAILBOX_ID, "oldMailboxID", MSGEVENT_KIND_STRING)		\
	X(UIDSET,	"uidset",	MSGEVENT_KIND_STRING)		\
	X(UIDNEXT,	"uidnext",	MSGEVENT_KIND_UINT)		\
	X(MODSEQ,	"modseq",	MSGEVENT_KIND_UINT)		\
	X(MESSAGES,	"messages",	MSGEVENT_KIND_UINT)		\
	X(MESSAGE_SIZE,	"messageSize",	MSGEVENT_KIND_UINT)		\
	X(FLAG_NAMES,	"flagNames",	MSGEVENT_KIND_STRING)		\
	X(DISK_USED,	"diskUsed",	MSGEVENT_KIND_UINT)		\
	X(DISK_QUOTA,	"diskQuota",	MSGEVENT_KIND_UINT)		\
	X(MAX_MESSAGES,	"maxMessages",	MSGEVENT_KIND_UINT)		\
	X(BODY_STRUCTURE, "bodyStructure", MSGEVENT_KIND_STRING)	\
	X(ENVELOPE,	"envelope",	MSGEVENT_KIND_STRING)		\
	X(MESSAGE_CONTENT, "messageContent", MSGEVENT_KIND_STRING)	\
	X(PID,		"pid",		MSGEVENT_KIND_UINT)		\
	X(PROCESS,	"process",	MSGEVENT_KIND_STRING)		\
	X(TAGS,		"tags",		MSGEVENT_KIND_STRING)		\
	X(MECHANISM,	"vnd.msgeventd.mechanism", MSGEVENT_KIND_STRING) \
	X(REASON,	"vnd.msgeventd.reason",	MSGEVENT_KIND_STRING)	\
	X(CAUSE,	"vnd.msgeventd.cause",	MSGEVENT_KIND_STRING)	\
	X(DURATION,	"vnd.msgeventd.duration", MSGEVENT_KIND_UINT)	\
	X(RESPONSE_CODE, "vnd.msgeventd.responseCode", MSGEVENT_KIND_STRING) \
	X(TLS_PROTOCOL,	"vnd.msgeventd.tlsProtocol", MSGEVENT_KIND_STRING) \
	X(TLS_CIPHER,	"vnd.msgeventd.tlsCipher", MSGEVENT_KIND_STRING) \
	X(UIDL,		"vnd.msgeventd.uidl",	MSGEVENT_KIND_STRING)	\
	X(SESSION,	"vnd.msgeventd.session", MSGEVENT_KIND_UINT)

enum msgevent_param {
#define MSGEVENT_X(e, name, kind) MSGEVENT_P_##e,
	MSGEVENT_PARAM_MAP(MSGEVENT_X)
#undef MSGEVENT_X
	MSGEVENT_PARAM_COUNT
};

_Static_assert(MSGEVENT_PARAM_COUNT <= 64, "present is a 64-bit mask");

/*
 * MSGEVENT_VALUE_SPACE bounds the bytes of all values of one event
 * together (every output has its own, smaller, cap as well: syslog's
 * message size, SNMP's PDU size).  A value that does not fit is cut on
 * a UTF-8 character boundary and the event is marked truncated.
 */
#define MSGEVENT_VALUE_SPACE	4096

struct msgevent {
	enum msgevent_type type;
	struct timespec time;		/* when it was inferred (CLOCK_REALTIME) */
	bool truncated;			/* some value was cut */
	uint64_t present;		/* bit i: parameter i is set */
	uint16_t off[MSGEVENT_PARAM_COUNT];
	uint16_t len[MSGEVENT_PARAM_COUNT];
	uint16_t used;			/* bytes of buf in use */
	char buf[MSGEVENT_VALUE_SPACE];
};

/* Start an event of TYPE, stamped now; sets the timestamp parameter. */
void msgevent_init(struct msgevent *ev, enum msgevent_type type);

/*
 * Set parameter P to the LEN bytes at VALUE (any bytes; outputs escape).
 * Setting a parameter twice keeps the first value.  Returns 0, or 1 when
 * the value was cut to fit (ev->truncated is then set too).
 */
int msgevent_set(struct msgevent *ev, enum msgevent_param p,
    const char *value, size_t len);
int msgevent_set_str(struct msgevent *ev, enum msgevent_param p,
    const char *value);
int msgevent_set_uint(struct msgevent *ev, enum msgevent_param p,
    uint64_t value);
int msgevent_setf(struct msgevent *ev, enum msgevent_param p,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The value of P and its length, or NULL when P is not set. */
const char *msgevent_get(const struct msgevent *ev, enum msgevent_param p,
    size_t *len_r);
bool msgevent_has(const struct msgevent *ev, enum msgevent_param p);

const char *msgevent_type_name(enum msgevent_type type);
const char *msgevent_type_snmp_name(enum msgevent_type type);
const char *msgevent_param_name(enum msgevent_param p);
enum msgevent_kind msgevent_param_kind(enum msgevent_param p);

/*
 * The length of the longest prefix of S[0..len) that ends on a UTF-8
 * character boundary (never splits a multi-byte sequence).  Shared by
 * every place that cuts values.
 */
size_t msgevent_utf8_cut(const char *s, size_t len);

#endif
