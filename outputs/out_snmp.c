/*
 * out_snmp.c - events as SNMP notifications (out_snmp.h), with net-snmp.
 *
 * net-snmp does the encoding, USM (keys, authentication, privacy) and
 * inform retransmission; this file decides what goes into a
 * notification, and keeps net-snmp off the relay's critical path:
 *
 * - One single-session handle (snmp_sess_open()) per output.  Its UDP
 *   socket is made non-blocking and watched by our epoll loop, and
 *   net-snmp's retransmission deadline (snmp_sess_select_info2_flags())
 *   becomes one of our loop timers, so snmp_sess_read2() and
 *   snmp_sess_timeout() run only when there is something to do.
 *   net-snmp's own alarms and signals are not used.
 * - net-snmp probes an SNMPv3 peer's engine ID with a synchronous
 *   request when a session opens, and again before a request to a peer
 *   it does not know.  SNMP_FLAGS_DONT_PROBE is set on every session:
 *   traps go with msgeventd's own engine ID (the sender of a trap is
 *   the authoritative engine, RFC 3414 1.5.1), and an inform
 *   receiver's engine ID is discovered here with an asynchronous probe
 *   (RFC 3414 4) before its first inform; informs queue meanwhile.
 * - What waits is bounded: a queue of built PDUs plus the informs in
 *   flight, counted in estimated octets against output-queue, and at
 *   most OUT_SNMP_WINDOW informs unacknowledged at a time.
 *
 * net-snmp is initialised once, without reading configuration, MIB or
 * persistent files (msgeventd's configuration is the only one), and
 * its log messages go to diag.
 */
#include "out_snmp.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../proxy/diag.h"
#include "../proxy/loop.h"

/* The smallest queue, as for syslog outputs. */
#define OUT_SNMP_QUEUE_MIN	(64 * 1024)
/*
 * Informs sent and not yet acknowledged, at most.  Against a healthy
 * receiver each is answered within a round trip, so this only bounds
 * the work net-snmp's request list does per packet when a receiver is
 * slow; the queue absorbs bursts.
 */
#define OUT_SNMP_WINDOW		256
/* At most one "dropped"/"not acknowledged" warning per output per second. */
#define OUT_SNMP_WARN_INTERVAL_MS	1000
/* SNMPv3 inform receivers that do not answer discovery: retry delays. */
#define OUT_SNMP_PROBE_BACKOFF_MIN_MS	1000
#define OUT_SNMP_PROBE_BACKOFF_MAX_MS	30000
/*
 * An inform is written off this long after its last retransmission
 * is due even if net-snmp never reports on it (it drops a request
 * silently when, e.g., its notInTimeWindow resends run out).
 */
#define OUT_SNMP_REAP_SLACK_MS	1000
/* The name net-snmp's logs and default-store know us by. */
#define OUT_SNMP_APP	"msgeventd"
/* RFC 5612: the documentation enterprise number, as in the MIB. */
#define OUT_SNMP_ENTERPRISE	32473u

/*
 * BER sizes, for the budget.  Every tag and length is counted as
 * TLV_HDR octets: a tag and at most three length octets, enough for
 * any length below 65536 (the largest UDP payload is 65507).  The
 * estimate is therefore never below the real size, and at most two
 * octets per TLV above it.
 */
#define TLV_HDR			4
/*
 * What a message needs besides its variable bindings, the list's own
 * header included (conservative, as TLV_HDR):
 * - v2c: message SEQUENCE, version, community, PDU tag, request-id
 *   (up to 5 octets), error-status, error-index, varbind list.
 * - v3: message SEQUENCE, version, msgGlobalData (msgID, msgMaxSize,
 *   msgFlags, msgSecurityModel), msgSecurityParameters (engine ID of
 *   up to 32 octets, boots, time, user name, authentication parameters
 *   of up to 48 octets for HMAC-SHA-512, privacy parameters of 8), the
 *   encrypted scopedPDU's OCTET STRING with DES padding of up to 8,
 *   scopedPDU (context engine ID of up to 32, empty context name),
 *   then the PDU as for v2c.
 */
#define OVERHEAD_V2C	(TLV_HDR + 3 + TLV_HDR + TLV_HDR + 5 + 3 + 3 + \
			TLV_HDR + TLV_HDR)
#define OVERHEAD_V3	(TLV_HDR + 3 + \
			TLV_HDR + (TLV_HDR + 5) * 2 + 3 + 3 + \
			TLV_HDR + TLV_HDR + (TLV_HDR + 32) + \
			(TLV_HDR + 5) * 2 + \
			TLV_HDR + (TLV_HDR + 48) + (TLV_HDR + 8) + \
			TLV_HDR + 8 + \
			TLV_HDR + (TLV_HDR + 32) + TLV_HDR + \
			TLV_HDR + TLV_HDR + 5 + 3 + 3 + TLV_HDR)

/* U+FFFD REPLACEMENT CHARACTER: for ill-formed UTF-8 and controls. */
#define UTF8_REPLACEMENT	"\xEF\xBF\xBD"

/*
 * The MIB, as C.  Every object is a scalar under msgEventObjects
 * (1.3.6.1.4.1.32473.1.1), the notifications are under
 * msgEventNotifications (...32473.1.0).
 * tests/integration/test_mib.py compares every OID sent with
 * snmptranslate's reading of mibs/MSGEVENT-MIB.txt.
 */
#define OID_MSGEVENT_MIB	1, 3, 6, 1, 4, 1, 32473, 1
static const oid oid_notifications[] = { OID_MSGEVENT_MIB, 0 };
static const oid oid_objects[] = { OID_MSGEVENT_MIB, 1 };
/* SNMPv2-MIB: sysUpTime.0 and snmpTrapOID.0 (RFC 3416 4.2.6). */
static const oid oid_sys_uptime[] = { 1, 3, 6, 1, 2, 1, 1, 3, 0 };
static const oid oid_snmp_trap_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 };

#define OID_OBJECTS_LEN	(sizeof(oid_objects) / sizeof(oid_objects[0]))
#define OID_NOTIF_LEN	\
	(sizeof(oid_notifications) / sizeof(oid_notifications[0]))
/* An object instance: the object's OID, its sub-identifier, and .0. */
#define OID_INSTANCE_LEN	(OID_OBJECTS_LEN + 2)
/* A notification's OID: the prefix and its sub-identifier. */
#define OID_NOTIFICATION_LEN	(OID_NOTIF_LEN + 1)
/*
 * Notifications of the draft's events are numbered from 1 in
 * MSGEVENT_TYPE_MAP order, ours (vnd.msgeventd.*) from 101, so that
 * new standard events keep a place before them.
 */
#define NOTIF_VND_FIRST		101
#define VND_PREFIX		"vnd.msgeventd."

enum syntax {
	SYN_ADMIN_STRING,	/* SnmpAdminString, 0..255 octets */
	SYN_TEXT,		/* MsgEventText, 0..1024 octets */
	SYN_ADDR_TYPE,		/* InetAddressType */
	SYN_ADDR,		/* InetAddress */
	SYN_PORT,		/* InetPortNumber: Unsigned32 (0..65535) */
	SYN_UNSIGNED32,		/* Unsigned32 */
	SYN_GAUGE64,		/* CounterBasedGauge64: Counter64 */
	SYN_DATE_AND_TIME,	/* DateAndTime, 11 octets */
	SYN_TRUTH,		/* TruthValue */
};

#define NO_PARAM	(-1)

struct object {
	const char *name;
	unsigned subid;		/* under msgEventObjects */
	int param;		/* enum msgevent_param, or NO_PARAM */
	enum syntax syntax;
	bool mandatory;		/* in every notification's OBJECTS */
};

/*
 * In the order the bindings go, which is ascending sub-identifier
 * order: RFC 5423's parameters are 1..99, msgeventd's own
 * (vnd.msgeventd.*) 101..199 in the order they were added, so a new
 * parameter takes the next free number of its range, here and in the
 * MIB; numbers once published never change.
 */
static const struct object objects[] = {
	/* The OBJECTS of every notification, always sent. */
	{ "msgEvUser", 1, MSGEVENT_P_USER, SYN_ADMIN_STRING, true },
	{ "msgEvClientIPType", 2, NO_PARAM, SYN_ADDR_TYPE, true },
	{ "msgEvClientIP", 3, MSGEVENT_P_CLIENT_IP, SYN_ADDR, true },
	{ "msgEvClientPort", 4, MSGEVENT_P_CLIENT_PORT, SYN_PORT, true },
	{ "msgEvService", 5, MSGEVENT_P_SERVICE, SYN_ADMIN_STRING, true },
	{ "msgEvServerFQDN", 6, MSGEVENT_P_SERVER_FQDN, SYN_ADMIN_STRING,
	    true },
	{ "msgEvTimestamp", 7, MSGEVENT_P_TIMESTAMP, SYN_DATE_AND_TIME,
	    true },
	/* The rest, when the event has them. */
	{ "msgEvAdmin", 8, MSGEVENT_P_ADMIN, SYN_ADMIN_STRING, false },
	{ "msgEvServerDomain", 9, MSGEVENT_P_SERVER_DOMAIN, SYN_ADMIN_STRING,
	    false },
	{ "msgEvServerPort", 10, MSGEVENT_P_SERVER_PORT, SYN_PORT, false },
	{ "msgEvUri", 11, MSGEVENT_P_URI, SYN_TEXT, false },
	{ "msgEvMailboxID", 12, MSGEVENT_P_MAILBOX_ID, SYN_TEXT, false },
	{ "msgEvOldMailboxID", 13, MSGEVENT_P_OLD_MAILBOX_ID, SYN_TEXT,
	    false },
	{ "msgEvUidset", 14, MSGEVENT_P_UIDSET, SYN_TEXT, false },
	{ "msgEvUidnext", 15, MSGEVENT_P_UIDNEXT, SYN_UNSIGNED32, false },
	{ "msgEvModseq", 16, MSGEVENT_P_MODSEQ, SYN_GAUGE64, false },
	{ "msgEvMessages", 17, MSGEVENT_P_MESSAGES, SYN_GAUGE64, false },
	{ "msgEvMessageSize", 18, MSGEVENT_P_MESSAGE_SIZE, SYN_GAUGE64,
	    false },
	{ "msgEvFlagNames", 19, MSGEVENT_P_FLAG_NAMES, SYN_TEXT, false },
	{ "msgEvDiskUsed", 20, MSGEVENT_P_DISK_USED, SYN_GAUGE64, false },
	{ "msgEvDiskQuota", 21, MSGEVENT_P_DISK_QUOTA, SYN_GAUGE64, false },
	{ "msgEvMaxMessages", 22, MSGEVENT_P_MAX_MESSAGES, SYN_GAUGE64,
	    false },
	{ "msgEvBodyStructure", 23, MSGEVENT_P_BODY_STRUCTURE, SYN_TEXT,
	    false },
	{ "msgEvEnvelope", 24, MSGEVENT_P_ENVELOPE, SYN_TEXT, false },
	{ "msgEvMessageContent", 25, MSGEVENT_P_MESSAGE_CONTENT, SYN_TEXT,
	    false },
	{ "msgEvPid", 26, MSGEVENT_P_PID, SYN_UNSIGNED32, false },
	{ "msgEvProcess", 27, MSGEVENT_P_PROCESS, SYN_ADMIN_STRING, false },
	{ "msgEvTags", 28, MSGEVENT_P_TAGS, SYN_TEXT, false },
	{ "msgEvMechanism", 101, MSGEVENT_P_MECHANISM, SYN_ADMIN_STRING,
	    false },
	{ "msgEvReason", 102, MSGEVENT_P_REASON, SYN_ADMIN_STRING, false },
	{ "msgEvCause", 103, MSGEVENT_P_CAUSE, SYN_ADMIN_STRING, false },
	{ "msgEvDuration", 104, MSGEVENT_P_DURATION, SYN_GAUGE64, false },
	{ "msgEvResponseCode", 105, MSGEVENT_P_RESPONSE_CODE,
	    SYN_ADMIN_STRING, false },
	{ "msgEvTlsProtocol", 106, MSGEVENT_P_TLS_PROTOCOL, SYN_ADMIN_STRING,
	    false },
	{ "msgEvTlsCipher", 107, MSGEVENT_P_TLS_CIPHER, SYN_ADMIN_STRING,
	    false },
	{ "msgEvUidl", 108, MSGEVENT_P_UIDL, SYN_ADMIN_STRING, false },
	{ "msgEvSession", 109, MSGEVENT_P_SESSION, SYN_GAUGE64, false },
	/* Last, only when something was cut. */
	{ "msgEvTruncated", 200, NO_PARAM, SYN_TRUTH, false },
};

#define NOBJECTS	(sizeof(objects) / sizeof(objects[0]))
#define OBJ_CLIENT_IP_TYPE	1
#define OBJ_TRUNCATED		(NOBJECTS - 1)

/*
 * Every parameter needs its object here and in the MIB (INTERFACE.md);
 * test_out_snmp checks that none is missing.  One that is (a parameter
 * added to MSGEVENT_PARAM_MAP without an object) is not sent.
 */

/* InetAddressType (RFC 4001) and TruthValue (RFC 2579) values. */
#define INET_UNKNOWN	0
#define INET_IPV4	1
#define INET_IPV6	2
#define TRUTH_TRUE	1

/* DateAndTime (RFC 2579): 11 octets with the offset from UTC. */
#define DATE_AND_TIME_LEN	11

/*
 * The process-wide state: net-snmp, initialised for the first output;
 * the SNMPv3 engine, loaded for the first v3 output (a reload keeps it:
 * a reload is not a boot).
 */
static bool lib_started;
static uint64_t lib_start_ms;	/* sysUpTime counts from here */
static bool engine_loaded;
static uint8_t engine_id[OUT_SNMP_ENGINE_ID_MAX];
static size_t engine_id_len;
static uint32_t engine_boots;

struct item {
	struct item *next;
	netsnmp_pdu *pdu;
	size_t size;			/* the estimate, for the bound */
};

struct inflight {
	long reqid;
	uint64_t deadline_ms;		/* written off after this */
	size_t size;
};

struct out_snmp {
	struct loop *loop;
	char *name;
	bool inform;
	enum out_snmp_version version;
	void *sess;			/* net-snmp single-session handle */
	netsnmp_session *ss;		/* its session */
	int fd;
	unsigned mask;			/* what the loop watches */
	bool blocked;			/* EAGAIN: waiting for LOOP_WRITE */
	bool in_callback;		/* net-snmp is calling us back */
	struct loop_timer *timer;
	uint64_t timer_due;
	netsnmp_large_fd_set fds;
	struct out_snmp_format fmt;
	unsigned retries, timeout_ms;

	/* What waits: the queue, then the informs in flight. */
	struct item *head, *tail;
	size_t queued;
	size_t bytes, cap;		/* queue and in flight, estimated */
	struct inflight *inflight;
	size_t ninflight;

	/* SNMPv3 informs: the receiver's engine ID. */
	bool discovered;
	bool probing;
	long probe_reqid;
	uint64_t probe_at_ms;		/* next attempt, when not probing */
	unsigned probe_backoff_ms;
	bool probe_outage;		/* logged */

	struct out_snmp_stats st;
	uint64_t warned_ms;
	bool warned;
	char *scratch;			/* OUT_SNMP_SCRATCH */
};

static void output_pump(struct out_snmp *s);
static void output_arm(struct out_snmp *s);

static uint64_t
clock_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* "0x80007ed9..." for diagnostics; BUF holds 2 + 2 * 32 + 1. */
static const char *
hex_id(const uint8_t *id, size_t len, char *buf, size_t size)
{
	size_t i, n;

	n = (size_t)snprintf(buf, size, "0x");
	for (i = 0; i < len && n + 3 <= size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%02x", id[i]);
	return buf;
}

/*
 * net-snmp's log lines, through diag.  Nothing net-snmp logs carries a
 * pass phrase: it never sees one after the keys are made.
 */
static int
lib_log(int major, int minor, void *server, void *client)
{
	const struct snmp_log_message *m = server;
	char line[512];
	size_t len;

	(void)major;
	(void)minor;
	(void)client;
	if (m == NULL || m->msg == NULL)
		return 0;
	snprintf(line, sizeof(line), "%s", m->msg);
	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (m->priority <= LOG_ERR)
		diag_error("net-snmp: %s", line);
	else if (m->priority <= LOG_WARNING)
		diag_warn("net-snmp: %s", line);
	else
		diag_debug("net-snmp: %s", line);
	return 0;
}

/*
 * Initialise net-snmp, once per process, for a client that reads
 * nothing: no snmp.conf, no persistent state in /var/lib/snmp (read or
 * written), no MIB files (empty MIBS and MIBDIRS: we send numeric OIDs
 * only, and parsing the system's MIBs costs time and prints warnings),
 * no SIGALRM.  It is never shut down: snmp_shutdown() and a second
 * init_snmp() leak net-snmp's MIB tables (LeakSanitizer sees it), and
 * what it holds between reloads is small and fixed.
 */
static void
lib_init(void)
{
	static const int off[] = {
		NETSNMP_DS_LIB_DONT_READ_CONFIGS,
		NETSNMP_DS_LIB_DONT_PERSIST_STATE,
		NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD,
		NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE,
		NETSNMP_DS_LIB_ALARM_DONT_USE_SIG,
		NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES,
		NETSNMP_DS_LIB_NO_TOKEN_WARNINGS,
		NETSNMP_DS_LIB_NO_DISCOVERY,
	};
	size_t i;

	if (lib_started)
		return;
	lib_started = true;
	(void)setenv("MIBS", "", 1);
	(void)setenv("MIBDIRS", "", 1);
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, off[i], 1);
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING,
	    lib_log, NULL);
	netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
	init_snmp(OUT_SNMP_APP);
	lib_start_ms = clock_ms();
}

/*
 * The state file.
 */

static int
state_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
state_err(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && size > 0) {
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* "0x" and 2..64 hex digits, whole octets; returns the length or -1. */
static int
parse_hex_id(const char *s, uint8_t id[OUT_SNMP_ENGINE_ID_MAX])
{
	size_t i, n;
	unsigned v;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	s += 2;
	n = strlen(s);
	if (n % 2 != 0 || n / 2 < OUT_SNMP_ENGINE_ID_MIN ||
	    n / 2 > OUT_SNMP_ENGINE_ID_MAX ||
	    strspn(s, "0123456789abcdefABCDEF") != n)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		id[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

/*
 * Read PATH: "engine-id 0xHEX" and "boots N" lines, '#' comments.
 * Returns 1 when read, 0 when there is no file, -1 on error.
 */
static int
state_read(const char *path, uint8_t id[OUT_SNMP_ENGINE_ID_MAX],
    size_t *id_len, uint32_t *boots, char *err, size_t size)
{
	char line[256], key[32], val[128];
	unsigned long long b;
	bool have_id = false, have_boots = false;
	int lineno = 0, n, rc = 1;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		return state_err(err, size, "%s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (sscanf(line, "%31s %127s", key, val) != 2)
			goto bad;
		if (strcmp(key, "engine-id") == 0) {
			if ((n = parse_hex_id(val, id)) < 0)
				goto bad;
			*id_len = (size_t)n;
			have_id = true;
		} else if (strcmp(key, "boots") == 0) {
			if (strspn(val, "0123456789") != strlen(val) ||
			    strlen(val) > 10 ||
			    (b = strtoull(val, NULL, 10)) > OUT_SNMP_BOOTS_MAX)
				goto bad;
			*boots = (uint32_t)b;
			have_boots = true;
		} else
			goto bad;
	}
	if (ferror(fp))
		rc = state_err(err, size, "%s: %s", path, strerror(errno));
	else if (!have_id || !have_boots)
		rc = state_err(err, size, "%s: no %s line; move the file away "
		    "to start a new engine", path,
		    have_id ? "boots" : "engine-id");
	fclose(fp);
	return rc;
bad:
	fclose(fp);
	return state_err(err, size, "%s: line %d: expected 'engine-id 0xHEX' "
	    "(%d..%d octets) or 'boots N'", path, lineno,
	    OUT_SNMP_ENGINE_ID_MIN, OUT_SNMP_ENGINE_ID_MAX);
}

/* Write PATH whole or not at all: a temporary file, fsync, rename. */
static int
state_write(const char *dir, const char *path, const uint8_t *id,
    size_t id_len, uint32_t boots, char *err, size_t size)
{
	char tmp[PATH_MAX], hex[2 + 2 * OUT_SNMP_ENGINE_ID_MAX + 1];
	FILE *fp;
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return state_err(err, size, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return state_err(err, size, "%s: %s", tmp, strerror(errno));
	if ((fp = fdopen(fd, "w")) == NULL) {
		saved = errno;
		close(fd);
		unlink(tmp);
		return state_err(err, size, "%s: %s", tmp, strerror(saved));
	}
	fprintf(fp, "# msgeventd SNMPv3 engine: its ID and how many times it "
	    "started (RFC 3414\n# snmpEngineBoots).  Written at every start; "
	    "receivers drop v3 traps whose\n# boots go backwards, so keep "
	    "this file with the engine ID.\n"
	    "engine-id %s\nboots %" PRIu32 "\n",
	    hex_id(id, id_len, hex, sizeof(hex)), boots);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
		saved = errno;
		fclose(fp);
		unlink(tmp);
		return state_err(err, size, "%s: %s", tmp, strerror(saved));
	}
	if (fclose(fp) != 0) {
		saved = errno;
		unlink(tmp);
		return state_err(err, size, "%s: %s", tmp, strerror(saved));
	}
	if (rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		return state_err(err, size, "%s: %s", path, strerror(saved));
	}
	/* The rename itself must survive a crash too. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

/* mkdir -p DIR, mode 0700 for what it makes. */
static int
make_dir(const char *dir, char *err, size_t size)
{
	char path[PATH_MAX];
	size_t i, len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return state_err(err, size, "state directory '%s': bad path",
		    dir);
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return state_err(err, size, "state directory %s: %s",
			    path, strerror(errno));
		path[i] = dir[i];
	}
	return 0;
}

/* RFC 3411 SnmpEngineID, format 5: 0x80 | enterprise, 5, random octets. */
static int
engine_id_new(uint8_t id[OUT_SNMP_ENGINE_ID_MAX], size_t *len_r)
{
	size_t n = 0;
	ssize_t r;

	id[0] = 0x80 | (uint8_t)(OUT_SNMP_ENTERPRISE >> 24);
	id[1] = (uint8_t)(OUT_SNMP_ENTERPRISE >> 16);
	id[2] = (uint8_t)(OUT_SNMP_ENTERPRISE >> 8);
	id[3] = (uint8_t)OUT_SNMP_ENTERPRISE;
	id[4] = 5;		/* administratively assigned octets */
	while (n < 8) {
		r = getrandom(id + 5 + n, 8 - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		n += (size_t)r;
	}
	*len_r = 13;
	return 0;
}

int
out_snmp_state_load(const char *dir, const uint8_t *fixed_id,
    size_t fixed_len, uint8_t id_r[OUT_SNMP_ENGINE_ID_MAX],
    size_t *id_len_r, uint32_t *boots_r, char *err, size_t errsize)
{
	char path[PATH_MAX];
	uint8_t id[OUT_SNMP_ENGINE_ID_MAX];
	size_t id_len = 0;
	uint32_t boots = 0;
	int rc;

	if (fixed_id != NULL && (fixed_len < OUT_SNMP_ENGINE_ID_MIN ||
	    fixed_len > OUT_SNMP_ENGINE_ID_MAX))
		return state_err(err, errsize, "engine ID of %zu octets, not "
		    "%d..%d", fixed_len, OUT_SNMP_ENGINE_ID_MIN,
		    OUT_SNMP_ENGINE_ID_MAX);
	if (dir == NULL ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    OUT_SNMP_STATE_FILE) >= sizeof(path))
		return state_err(err, errsize, "state directory: bad path");
	if (make_dir(dir, err, errsize) == -1)
		return -1;
	rc = state_read(path, id, &id_len, &boots, err, errsize);
	if (rc == -1)
		return -1;
	if (rc == 0) {
		if (engine_id_new(id, &id_len) == -1)
			return state_err(err, errsize, "getrandom: %s",
			    strerror(errno));
		boots = 0;
	}
	/* RFC 3414 2.2.2: a new engine ID starts a new count. */
	if (fixed_id != NULL && (fixed_len != id_len ||
	    memcmp(fixed_id, id, id_len) != 0)) {
		memcpy(id, fixed_id, fixed_len);
		id_len = fixed_len;
		boots = 0;
	}
	/* RFC 3414 2.2.2: at the maximum it stays there. */
	if (boots < OUT_SNMP_BOOTS_MAX)
		boots++;
	if (state_write(dir, path, id, id_len, boots, err, errsize) == -1)
		return -1;
	memcpy(id_r, id, id_len);
	*id_len_r = id_len;
	*boots_r = boots;
	return 0;
}

/*
 * Give net-snmp msgeventd's engine: its ID, and its boots, through the
 * handler of snmpd.conf's "engineBoots" token (the value stored there
 * is the previous start's, hence boots - 1: net-snmp adds one).  The
 * local time cache gets the pair too, so traps carry them.
 */
static int
engine_load(const struct out_snmp_target *t, char *err, size_t errsize)
{
	char buf[16], hex[2 + 2 * OUT_SNMP_ENGINE_ID_MAX + 1];

	if (engine_loaded)
		return 0;
	if (out_snmp_state_load(t->state_dir, t->engine_id, t->engine_id_len,
	    engine_id, &engine_id_len, &engine_boots, err, errsize) == -1)
		return -1;
	if (set_exact_engineID(engine_id, engine_id_len) != SNMPERR_SUCCESS)
		return state_err(err, errsize, "net-snmp refused the engine "
		    "ID");
	snprintf(buf, sizeof(buf), "%" PRIu32, engine_boots - 1);
	engineBoots_conf("engineBoots", buf);
	set_enginetime(engine_id, (u_int)engine_id_len, engine_boots,
	    (u_int)snmpv3_local_snmpEngineTime(), TRUE);
	engine_loaded = true;
	diag_info("SNMPv3 engine ID %s, boots %" PRIu32 " (%s/%s)",
	    hex_id(engine_id, engine_id_len, hex, sizeof(hex)), engine_boots,
	    t->state_dir, OUT_SNMP_STATE_FILE);
	return 0;
}

/*
 * The formatter.
 */

/* Content octets of an unsigned INTEGER-like value (a leading 0 octet
 * when the top bit is set: BER integers are signed). */
static size_t
ber_uint_len(uint64_t v)
{
	size_t n = 1;

	while (v > 0x7f) {
		v >>= 8;
		n++;
	}
	return n;
}

/* Content octets of an OBJECT IDENTIFIER (X.690 8.19). */
static size_t
ber_oid_len(const oid *o, size_t n)
{
	size_t len = 1, i;
	oid v;

	for (i = 2; i < n; i++)
		for (v = o[i], len++; v > 0x7f; v >>= 7)
			len++;
	return len;
}

static size_t
vb_size(size_t oid_len, size_t value_len)
{
	return TLV_HDR + TLV_HDR + oid_len + TLV_HDR + value_len;
}

static void
instance_oid(size_t obj, oid o[OID_INSTANCE_LEN])
{
	memcpy(o, oid_objects, sizeof(oid_objects));
	o[OID_OBJECTS_LEN] = objects[obj].subid;
	o[OID_OBJECTS_LEN + 1] = 0;
}

/* Sub-identifier of TYPE's notification: see NOTIF_VND_FIRST. */
static unsigned
notification_subid(enum msgevent_type type)
{
	unsigned i, std = 0, vnd = 0;

	for (i = 0; i < (unsigned)type; i++) {
		if (strncmp(msgevent_type_name((enum msgevent_type)i),
		    VND_PREFIX, strlen(VND_PREFIX)) == 0)
			vnd++;
		else
			std++;
	}
	if (strncmp(msgevent_type_name(type), VND_PREFIX,
	    strlen(VND_PREFIX)) == 0)
		return NOTIF_VND_FIRST + vnd;
	return std + 1;
}

/*
 * The length of the well-formed UTF-8 character at S (RFC 3629 4: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0 when
 * it is ill-formed; then *SKIP_R is the length of its maximal subpart,
 * which becomes one U+FFFD.
 */
static size_t
utf8_len(const unsigned char *s, size_t len, size_t *skip_r)
{
	static const struct {
		unsigned char first_lo, first_hi;	/* lead byte range */
		unsigned char lo, hi;			/* second byte */
		size_t need;
	} forms[] = {
		{ 0xC2, 0xDF, 0x80, 0xBF, 2 },
		{ 0xE0, 0xE0, 0xA0, 0xBF, 3 },		/* not overlong */
		{ 0xE1, 0xEC, 0x80, 0xBF, 3 },
		{ 0xED, 0xED, 0x80, 0x9F, 3 },		/* no surrogates */
		{ 0xEE, 0xEF, 0x80, 0xBF, 3 },
		{ 0xF0, 0xF0, 0x90, 0xBF, 4 },		/* not overlong */
		{ 0xF1, 0xF3, 0x80, 0xBF, 4 },
		{ 0xF4, 0xF4, 0x80, 0x8F, 4 },		/* <= U+10FFFF */
	};
	size_t f, i;

	for (f = 0; f < sizeof(forms) / sizeof(forms[0]); f++)
		if (s[0] >= forms[f].first_lo && s[0] <= forms[f].first_hi)
			break;
	*skip_r = 1;
	if (f == sizeof(forms) / sizeof(forms[0]))
		return 0;
	for (i = 1; i < forms[f].need; i++) {
		if (i >= len || s[i] < (i == 1 ? forms[f].lo : 0x80) ||
		    s[i] > (i == 1 ? forms[f].hi : 0xBF)) {
			*skip_r = i;
			return 0;
		}
	}
	return forms[f].need;
}

/*
 * Copy the LEN bytes at IN to OUT as text fit for SnmpAdminString
 * (RFC 3411: UTF-8): ill-formed sequences, C0 controls and DEL become
 * U+FFFD.  At most CAP octets, stopping before the first character
 * that does not fit; *CUT_R is set when input was left over.
 */
static size_t
text_clean(const char *in, size_t len, char *out, size_t cap, bool *cut_r)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, n = 0, clen, skip;
	const char *src;

	*cut_r = false;
	while (i < len) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			src = UTF8_REPLACEMENT;
			clen = 3;
			skip = 1;
		} else if (s[i] < 0x80) {
			src = in + i;
			clen = skip = 1;
		} else if ((clen = utf8_len(s + i, len - i, &skip)) != 0) {
			src = in + i;
			skip = clen;
		} else {
			src = UTF8_REPLACEMENT;
			clen = 3;
		}
		if (clen > cap - n) {
			*cut_r = true;
			break;
		}
		memcpy(out + n, src, clen);
		n += clen;
		i += skip;
	}
	return n;
}

/* A decimal number of LEN bytes, no sign, fitting uint64_t. */
static bool
parse_uint(const char *s, size_t len, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*v_r = v;
	return true;
}

/* An address in text: 4 or 16 octets in OUT and the InetAddressType. */
static int
parse_addr(const char *s, size_t len, uint8_t out[16], size_t *len_r)
{
	char buf[INET6_ADDRSTRLEN];

	if (len >= sizeof(buf))
		return INET_UNKNOWN;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, out) == 1) {
		*len_r = 4;
		return INET_IPV4;
	}
	if (inet_pton(AF_INET6, buf, out) == 1) {
		*len_r = 16;
		return INET_IPV6;
	}
	return INET_UNKNOWN;
}

static bool
digits(const char *s, size_t n, unsigned *v_r)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*v_r = v;
	return true;
}

/*
 * RFC 3339 "2026-11-30T10:00:00.123456Z" (or with +HH:MM) as DateAndTime
 * (RFC 2579): the fraction's first digit is the deci-seconds.
 */
static bool
parse_rfc3339(const char *s, size_t len, uint8_t dt[DATE_AND_TIME_LEN])
{
	unsigned y, mo, d, h, mi, sec, ds = 0, oh = 0, om = 0;
	size_t i = 19;
	char dir = '+';

	if (len < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
	    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
		return false;
	if (s[i] == '.') {
		if (++i >= len || !digits(s + i, 1, &ds))
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
		;
	else if (i + 6 == len && (s[i] == '+' || s[i] == '-') &&
	    s[i + 3] == ':' && digits(s + i + 1, 2, &oh) &&
	    digits(s + i + 4, 2, &om))
		dir = s[i];
	else
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || oh > 13 || om > 59)
		return false;
	dt[0] = (uint8_t)(y >> 8);
	dt[1] = (uint8_t)y;
	dt[2] = (uint8_t)mo;
	dt[3] = (uint8_t)d;
	dt[4] = (uint8_t)h;
	dt[5] = (uint8_t)mi;
	dt[6] = (uint8_t)sec;
	dt[7] = (uint8_t)ds;
	dt[8] = (uint8_t)dir;
	dt[9] = (uint8_t)oh;
	dt[10] = (uint8_t)om;
	return true;
}

/* The event's own time, in UTC, when its timestamp does not parse. */
static void
time_to_dt(const struct timespec *ts, uint8_t dt[DATE_AND_TIME_LEN])
{
	struct tm tm;
	unsigned y;

	gmtime_r(&ts->tv_sec, &tm);
	y = (unsigned)tm.tm_year + 1900;
	dt[0] = (uint8_t)(y >> 8);
	dt[1] = (uint8_t)y;
	dt[2] = (uint8_t)(tm.tm_mon + 1);
	dt[3] = (uint8_t)tm.tm_mday;
	dt[4] = (uint8_t)tm.tm_hour;
	dt[5] = (uint8_t)tm.tm_min;
	dt[6] = (uint8_t)tm.tm_sec;
	dt[7] = (uint8_t)(ts->tv_nsec / 100000000);
	dt[8] = '+';
	dt[9] = 0;
	dt[10] = 0;
}

/* One variable binding being planned. */
struct vb {
	size_t obj;		/* index in objects[] */
	u_char asn;		/* ASN_OCTET_STR, ASN_INTEGER, ... */
	const char *val;	/* octets: text, address, DateAndTime */
	size_t len;		/* octets now */
	size_t full;		/* text: octets before the budget's cut */
	uint64_t num;
	bool text;		/* a text the budget may cut */
};

static size_t
vb_value_len(const struct vb *v)
{
	switch (v->asn) {
	case ASN_OCTET_STR:
		return v->len;
	default:
		return ber_uint_len(v->num);
	}
}

static size_t
vb_planned_size(const struct vb *v, size_t value_len)
{
	oid o[OID_INSTANCE_LEN];

	instance_oid(v->obj, o);
	return vb_size(ber_oid_len(o, OID_INSTANCE_LEN), value_len);
}

/*
 * Plan the variable bindings of EV (after sysUpTime.0 and
 * snmpTrapOID.0) into VB, cleaned values in SCRATCH.  Returns how
 * many; *TRUNC_R is set when something was cut or left out.
 */
static size_t
plan_values(const struct msgevent *ev, struct vb *vb, char *scratch,
    bool *trunc_r)
{
	const struct object *o;
	const char *v;
	uint8_t addr[16], *dt;
	size_t n = 0, i, len, alen = 0, cap;
	uint64_t num;
	bool cut;
	int atype;

	for (i = 0; i < OBJ_TRUNCATED; i++) {
		o = &objects[i];
		v = NULL;
		len = 0;
		if (o->param != NO_PARAM)
			v = msgevent_get(ev, (enum msgevent_param)o->param,
			    &len);
		memset(&vb[n], 0, sizeof(vb[n]));
		vb[n].obj = i;
		switch (o->syntax) {
		case SYN_ADMIN_STRING:
		case SYN_TEXT:
			if (v == NULL && !o->mandatory)
				continue;
			cap = o->syntax == SYN_TEXT ? OUT_SNMP_TEXT_MAX :
			    OUT_SNMP_ADMIN_STRING_MAX;
			vb[n].asn = ASN_OCTET_STR;
			vb[n].val = scratch;
			vb[n].len = vb[n].full = text_clean(v != NULL ? v : "",
			    len, scratch, cap, &cut);
			vb[n].text = true;
			scratch += vb[n].len;
			if (cut)
				*trunc_r = true;
			break;
		case SYN_ADDR_TYPE:
			/* The type goes first, from msgEvClientIP's value. */
			v = msgevent_get(ev, MSGEVENT_P_CLIENT_IP, &len);
			atype = v == NULL ? INET_UNKNOWN :
			    parse_addr(v, len, addr, &alen);
			if (v != NULL && atype == INET_UNKNOWN)
				*trunc_r = true;
			if (atype == INET_UNKNOWN)
				alen = 0;
			vb[n].asn = ASN_INTEGER;
			vb[n].num = (uint64_t)atype;
			break;
		case SYN_ADDR:
			memcpy(scratch, addr, alen);
			vb[n].asn = ASN_OCTET_STR;
			vb[n].val = scratch;
			vb[n].len = alen;
			scratch += alen;
			break;
		case SYN_PORT:
		case SYN_UNSIGNED32:
		case SYN_GAUGE64:
			if (v == NULL && !o->mandatory)
				continue;
			num = 0;
			if (v != NULL && (!parse_uint(v, len, &num) ||
			    (o->syntax == SYN_PORT && num > 65535) ||
			    (o->syntax == SYN_UNSIGNED32 &&
			    num > UINT32_MAX))) {
				*trunc_r = true;
				if (!o->mandatory)
					continue;
				num = 0;
			}
			vb[n].asn = o->syntax == SYN_GAUGE64 ? ASN_COUNTER64 :
			    ASN_UNSIGNED;
			vb[n].num = num;
			break;
		case SYN_DATE_AND_TIME:
			dt = (uint8_t *)scratch;
			if (v == NULL || !parse_rfc3339(v, len, dt))
				time_to_dt(&ev->time, dt);
			vb[n].asn = ASN_OCTET_STR;
			vb[n].val = scratch;
			vb[n].len = DATE_AND_TIME_LEN;
			scratch += DATE_AND_TIME_LEN;
			break;
		case SYN_TRUTH:
			continue;
		}
		n++;
	}
	return n;
}

/*
 * Fit the planned bindings in ROOM octets: cut the longest texts to
 * one common length, as long as that is enough; otherwise leave out
 * the last binding that is not in OBJECTS and try again.  Returns the
 * estimated size of what is left; *N_R may shrink.
 */
static size_t
plan_fit(struct vb *vb, size_t *n_r, size_t room, bool *trunc_r)
{
	size_t n = *n_r, i, fixed, texts, lo, hi, mid, sum, limit;

	for (;;) {
		fixed = texts = hi = 0;
		for (i = 0; i < n; i++) {
			if (vb[i].text) {
				fixed += vb_planned_size(&vb[i], 0);
				texts += vb[i].full;
				if (vb[i].full > hi)
					hi = vb[i].full;
			} else
				fixed += vb_planned_size(&vb[i],
				    vb_value_len(&vb[i]));
		}
		if (fixed + texts <= room) {
			for (i = 0; i < n; i++)
				if (vb[i].text)
					vb[i].len = vb[i].full;
			return fixed + texts;
		}
		if (fixed <= room)
			break;
		/*
		 * Even empty texts do not fit: leave out the last binding,
		 * unless it is in OBJECTS (they come first).  out_snmp_new()
		 * made sure OBJECTS with empty texts fit; should they not,
		 * net-snmp refuses the message (sndMsgMaxSize) and it is
		 * counted as dropped.
		 */
		if (n == 0 || objects[vb[n - 1].obj].mandatory)
			break;
		*n_r = --n;
		*trunc_r = true;
	}
	/* The largest common LIMIT with sum(min(full, LIMIT)) in room. */
	lo = 0;
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		for (sum = 0, i = 0; i < n; i++)
			if (vb[i].text)
				sum += vb[i].full < mid ? vb[i].full : mid;
		if (fixed + sum <= room)
			lo = mid;
		else
			hi = mid - 1;
	}
	limit = lo;
	for (sum = fixed, i = 0; i < n; i++) {
		if (!vb[i].text)
			continue;
		vb[i].len = vb[i].full;
		if (vb[i].full > limit) {
			/* The texts are well-formed: cut between characters. */
			vb[i].len = msgevent_utf8_cut(vb[i].val, limit);
			*trunc_r = true;
		}
		sum += vb[i].len;
	}
	return sum;
}

size_t
out_snmp_overhead(const struct out_snmp_target *t)
{
	if (t->version == OUT_SNMP_V3)
		return OVERHEAD_V3 + (t->user != NULL ? strlen(t->user) : 0);
	return OVERHEAD_V2C + (t->community != NULL ? strlen(t->community) : 0);
}

static bool
pdu_add(netsnmp_pdu *pdu, size_t obj, u_char asn, const void *val,
    size_t len)
{
	oid o[OID_INSTANCE_LEN];

	instance_oid(obj, o);
	return snmp_pdu_add_variable(pdu, o, OID_INSTANCE_LEN, asn, val,
	    len) != NULL;
}

static bool
pdu_add_vb(netsnmp_pdu *pdu, const struct vb *v)
{
	struct counter64 c64;
	u_long ul;
	long l;

	switch (v->asn) {
	case ASN_OCTET_STR:
		return pdu_add(pdu, v->obj, ASN_OCTET_STR, v->val, v->len);
	case ASN_INTEGER:
		l = (long)v->num;
		return pdu_add(pdu, v->obj, ASN_INTEGER, &l, sizeof(l));
	case ASN_UNSIGNED:
		ul = (u_long)v->num;
		return pdu_add(pdu, v->obj, ASN_UNSIGNED, &ul, sizeof(ul));
	case ASN_COUNTER64:
		c64.high = (u_long)(v->num >> 32);
		c64.low = (u_long)(v->num & 0xffffffffu);
		return pdu_add(pdu, v->obj, ASN_COUNTER64, &c64, sizeof(c64));
	}
	return false;
}

struct snmp_pdu *
out_snmp_pdu(const struct out_snmp_format *fmt, const struct msgevent *ev,
    char *scratch, bool *truncated_r, size_t *size_r)
{
	struct vb vb[NOBJECTS];
	oid trap[OID_NOTIFICATION_LEN], inst[OID_INSTANCE_LEN];
	netsnmp_pdu *pdu;
	size_t n, i, fixed, room, size;
	bool trunc = ev->truncated;
	u_long ticks = fmt->uptime;
	long truth = TRUTH_TRUE;

	assert(ev->type < MSGEVENT_TYPE_COUNT);
	memcpy(trap, oid_notifications, sizeof(oid_notifications));
	trap[OID_NOTIF_LEN] = notification_subid(ev->type);
	instance_oid(OBJ_TRUNCATED, inst);
	/* sysUpTime.0, snmpTrapOID.0, and room for msgEvTruncated.0. */
	fixed = vb_size(ber_oid_len(oid_sys_uptime, 9), ber_uint_len(ticks)) +
	    vb_size(ber_oid_len(oid_snmp_trap_oid, 11),
	    ber_oid_len(trap, OID_NOTIFICATION_LEN)) +
	    vb_size(ber_oid_len(inst, OID_INSTANCE_LEN), 1);
	room = fmt->max_size > fmt->overhead + fixed ?
	    fmt->max_size - fmt->overhead - fixed : 0;

	n = plan_values(ev, vb, scratch, &trunc);
	size = fixed + plan_fit(vb, &n, room, &trunc);

	pdu = snmp_pdu_create(fmt->inform ? SNMP_MSG_INFORM : SNMP_MSG_TRAP2);
	if (pdu == NULL)
		return NULL;
	if (snmp_pdu_add_variable(pdu, oid_sys_uptime, 9, ASN_TIMETICKS,
	    &ticks, sizeof(ticks)) == NULL ||
	    snmp_pdu_add_variable(pdu, oid_snmp_trap_oid, 11, ASN_OBJECT_ID,
	    trap, sizeof(trap)) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (!pdu_add_vb(pdu, &vb[i]))
			goto fail;
	if (trunc && !pdu_add(pdu, OBJ_TRUNCATED, ASN_INTEGER, &truth,
	    sizeof(truth)))
		goto fail;
	*truncated_r = trunc;
	*size_r = size;
	return pdu;
fail:
	snmp_free_pdu(pdu);
	return NULL;
}

bool
out_snmp_oid_describe(size_t i, char *name, size_t namesize, char *buf,
    size_t bufsize)
{
	oid o[OID_INSTANCE_LEN > OID_NOTIFICATION_LEN ? OID_INSTANCE_LEN :
	    OID_NOTIFICATION_LEN];
	const oid *p;
	size_t len, k, n;

	if (i == 0) {
		snprintf(name, namesize, "SNMPv2-MIB::sysUpTime.0");
		p = oid_sys_uptime;
		len = 9;
	} else if (i == 1) {
		snprintf(name, namesize, "SNMPv2-MIB::snmpTrapOID.0");
		p = oid_snmp_trap_oid;
		len = 11;
	} else if (i - 2 < NOBJECTS) {
		snprintf(name, namesize, "MSGEVENT-MIB::%s.0",
		    objects[i - 2].name);
		instance_oid(i - 2, o);
		p = o;
		len = OID_INSTANCE_LEN;
	} else if (i - 2 - NOBJECTS < MSGEVENT_TYPE_COUNT) {
		k = i - 2 - NOBJECTS;
		snprintf(name, namesize, "MSGEVENT-MIB::msgEvent%s",
		    msgevent_type_snmp_name((enum msgevent_type)k));
		memcpy(o, oid_notifications, sizeof(oid_notifications));
		o[OID_NOTIF_LEN] = notification_subid((enum msgevent_type)k);
		p = o;
		len = OID_NOTIFICATION_LEN;
	} else
		return false;
	for (n = 0, k = 0; k < len && n < bufsize; k++)
		n += (size_t)snprintf(buf + n, bufsize - n, "%s%lu",
		    k > 0 ? "." : "", (unsigned long)p[k]);
	return true;
}

/*
 * The output.
 */

static void output_warn(struct out_snmp *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A warning about losses, at most once per OUT_SNMP_WARN_INTERVAL_MS. */
static void
output_warn(struct out_snmp *s, const char *fmt, ...)
{
	char why[256];
	uint64_t now = clock_ms();
	va_list ap;

	if (s->warned && now - s->warned_ms < OUT_SNMP_WARN_INTERVAL_MS)
		return;
	s->warned = true;
	s->warned_ms = now;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	diag_warn("output %s: %s; so far %" PRIu64 " events dropped, %" PRIu64
	    " of them informs not acknowledged", s->name, why, s->st.dropped,
	    s->st.unacked);
}

static void
item_free(struct item *it)
{
	if (it->pdu != NULL)
		snmp_free_pdu(it->pdu);
	free(it);
}

static void
queue_pop(struct out_snmp *s)
{
	struct item *it = s->head;

	s->head = it->next;
	if (s->head == NULL)
		s->tail = NULL;
	s->queued--;
	s->bytes -= it->size;
	item_free(it);		/* and its PDU, unless net-snmp took it */
}

static struct inflight *
inflight_find(struct out_snmp *s, long reqid)
{
	size_t i;

	for (i = 0; i < s->ninflight; i++)
		if (s->inflight[i].reqid == reqid)
			return &s->inflight[i];
	return NULL;
}

static void
inflight_remove(struct out_snmp *s, struct inflight *f)
{
	s->bytes -= f->size;
	*f = s->inflight[--s->ninflight];
}

/* An inform that will not be acknowledged: count it, say why. */
static void
inflight_lost(struct out_snmp *s, struct inflight *f, const char *why)
{
	inflight_remove(s, f);
	s->st.dropped++;
	s->st.unacked++;
	output_warn(s, "inform %s", why);
}

/*
 * The answer to an SNMPv3 engine ID probe: a Report (RFC 3414 4)
 * carrying the receiver's engine ID, which net-snmp copies into the
 * session.  Its keys are then localised for that engine.  Any user
 * left from an earlier session with that engine and name is replaced,
 * so a reload's new pass phrases take effect.
 */
static void
probe_answered(struct out_snmp *s, netsnmp_pdu *pdu)
{
	netsnmp_session *ss = s->ss;
	struct usmUser *u;
	char hex[2 + 2 * OUT_SNMP_ENGINE_ID_MAX + 1];

	s->probing = false;
	if (ss->securityEngineIDLen == 0 && pdu != NULL &&
	    pdu->securityEngineIDLen > 0) {
		ss->securityEngineID = netsnmp_memdup(pdu->securityEngineID,
		    pdu->securityEngineIDLen);
		if (ss->securityEngineID != NULL)
			ss->securityEngineIDLen = pdu->securityEngineIDLen;
	}
	if (ss->securityEngineIDLen == 0) {
		s->probe_at_ms = clock_ms() + s->probe_backoff_ms;
		output_warn(s, "SNMPv3 engine ID discovery: no engine ID in "
		    "the answer");
		return;
	}
	if (ss->contextEngineIDLen == 0) {
		ss->contextEngineID = netsnmp_memdup(ss->securityEngineID,
		    ss->securityEngineIDLen);
		if (ss->contextEngineID != NULL)
			ss->contextEngineIDLen = ss->securityEngineIDLen;
	}
	u = usm_get_user(ss->securityEngineID, ss->securityEngineIDLen,
	    ss->securityName);
	if (u != NULL) {
		usm_remove_user(u);
		usm_free_user(u);
	}
	ss->flags &= ~SNMP_FLAGS_USER_CREATED;
	if (usm_create_user_from_session(ss) != SNMPERR_SUCCESS) {
		s->probe_at_ms = clock_ms() + s->probe_backoff_ms;
		output_warn(s, "SNMPv3: cannot make keys for the receiver's "
		    "engine");
		return;
	}
	s->discovered = true;
	s->probe_outage = false;
	diag_info("output %s: receiver's SNMPv3 engine ID %s", s->name,
	    hex_id(ss->securityEngineID, ss->securityEngineIDLen, hex,
	    sizeof(hex)));
}

static void
probe_failed(struct out_snmp *s, const char *why)
{
	s->probing = false;
	s->probe_at_ms = clock_ms() + s->probe_backoff_ms;
	if (!s->probe_outage) {
		s->probe_outage = true;
		diag_warn("output %s: SNMPv3 engine ID discovery: %s; "
		    "retrying, informs queue meanwhile", s->name, why);
	}
	s->probe_backoff_ms = s->probe_backoff_ms * 2 <
	    OUT_SNMP_PROBE_BACKOFF_MAX_MS ? s->probe_backoff_ms * 2 :
	    OUT_SNMP_PROBE_BACKOFF_MAX_MS;
}

/*
 * net-snmp's callback for informs and probes.  It runs inside
 * snmp_sess_read2() or snmp_sess_timeout(), which walk the session's
 * request list: nothing is sent from here, output_pump() runs after.
 * Returns 1: the PDU was handled.
 */
static int
session_cb(int op, netsnmp_session *ss, int reqid, netsnmp_pdu *pdu,
    void *magic)
{
	struct out_snmp *s = magic;
	struct inflight *f;

	(void)ss;
	if (s->probing && reqid == s->probe_reqid) {
		if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE)
			probe_answered(s, pdu);
		else if (op == NETSNMP_CALLBACK_OP_TIMED_OUT)
			probe_failed(s, "no answer");
		else if (op == NETSNMP_CALLBACK_OP_SEND_FAILED)
			probe_failed(s, "send failed");
		return 1;
	}
	if ((f = inflight_find(s, reqid)) == NULL)
		return 1;	/* written off already */
	switch (op) {
	case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
		if (pdu != NULL && pdu->command == SNMP_MSG_REPORT) {
			/* net-snmp resends after notInTimeWindow itself. */
			if (s->ss->s_snmp_errno == SNMPERR_NOT_IN_TIME_WINDOW)
				break;
			inflight_lost(s, f, "refused by the receiver (report)");
			break;
		}
		inflight_remove(s, f);
		s->st.sent++;
		break;
	case NETSNMP_CALLBACK_OP_TIMED_OUT:
		inflight_lost(s, f, "not acknowledged");
		break;
	case NETSNMP_CALLBACK_OP_SEND_FAILED:
		inflight_lost(s, f, "could not be sent");
		break;
	default:
		break;		/* SEC_ERROR precedes a report; RESEND */
	}
	return 1;
}

/* Write off informs net-snmp has kept quiet about past their deadline. */
static void
inflight_reap(struct out_snmp *s)
{
	uint64_t now = clock_ms();
	size_t i = 0;

	while (i < s->ninflight) {
		if (s->inflight[i].deadline_ms <= now)
			inflight_lost(s, &s->inflight[i], "not acknowledged");
		else
			i++;
	}
}

static void
probe_start(struct out_snmp *s)
{
	netsnmp_pdu *pdu;
	int reqid;

	pdu = snmp_pdu_create(SNMP_MSG_GET);
	if (pdu == NULL) {
		probe_failed(s, "out of memory");
		return;
	}
	/* RFC 3414 4: unauthenticated, no user, no engine ID. */
	pdu->version = SNMP_VERSION_3;
	pdu->securityModel = SNMP_SEC_MODEL_USM;
	pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
	pdu->securityName = strdup("");
	pdu->securityNameLen = 0;
	reqid = snmp_sess_async_send(s->sess, pdu, session_cb, s);
	if (reqid == 0) {
		if (s->ss->s_errno == EAGAIN || s->ss->s_errno == EWOULDBLOCK)
			s->blocked = true;
		snmp_free_pdu(pdu);
		probe_failed(s, snmp_api_errstring(s->ss->s_snmp_errno));
		return;
	}
	s->probing = true;
	s->probe_reqid = reqid;
}

/* Send what is queued, as far as the socket, the window and discovery allow. */
static void
output_pump(struct out_snmp *s)
{
	struct item *it;
	uint64_t now;
	int reqid;
	int err;

	if (s->in_callback)
		return;
	while ((it = s->head) != NULL && !s->blocked) {
		if (s->inform && s->version == OUT_SNMP_V3 && !s->discovered) {
			if (!s->probing && clock_ms() >= s->probe_at_ms)
				probe_start(s);
			return;
		}
		if (s->inform && s->ninflight >= OUT_SNMP_WINDOW)
			return;
		if (s->inform)
			reqid = snmp_sess_async_send(s->sess, it->pdu,
			    session_cb, s);
		else
			reqid = snmp_sess_send(s->sess, it->pdu);
		if (reqid == 0) {
			err = s->ss->s_errno;
			if (s->ss->s_snmp_errno == SNMPERR_BAD_SENDTO &&
			    (err == EAGAIN || err == EWOULDBLOCK)) {
				/* Sent again, as it is, on LOOP_WRITE. */
				s->blocked = true;
				return;
			}
			s->st.dropped++;
			output_warn(s, "send: %s%s%s",
			    snmp_api_errstring(s->ss->s_snmp_errno),
			    err != 0 ? ": " : "",
			    err != 0 ? strerror(err) : "");
			queue_pop(s);	/* frees the PDU */
			continue;
		}
		if (s->inform) {
			now = clock_ms();
			s->inflight[s->ninflight++] = (struct inflight){
				.reqid = reqid,
				.deadline_ms = now + (uint64_t)s->timeout_ms *
				    (s->retries + 1) + s->timeout_ms +
				    OUT_SNMP_REAP_SLACK_MS,
				.size = it->size,
			};
			s->bytes += it->size;	/* queue_pop() takes it off */
		} else
			s->st.sent++;
		it->pdu = NULL;		/* net-snmp's now */
		queue_pop(s);
	}
}

/* Bring the loop's mask in line: LOOP_WRITE only while blocked. */
static void
output_watch(struct out_snmp *s)
{
	unsigned mask = LOOP_READ | (s->blocked ? LOOP_WRITE : 0);

	if (mask == s->mask)
		return;
	if (loop_set_fd(s->loop, s->fd, mask) == -1) {
		diag_error("output %s: watch: %s", s->name, strerror(errno));
		return;
	}
	s->mask = mask;
}

/*
 * Milliseconds until the output needs attention without I/O: net-snmp's
 * next retransmission, the next discovery attempt, the next write-off.
 * -1: none.
 */
int
out_snmp_timeout_ms(struct out_snmp *s)
{
	struct timeval tv = { 0, 0 };
	uint64_t now = clock_ms(), due = UINT64_MAX, ms;
	int numfds = 0, block = 1;
	size_t i;

	NETSNMP_LARGE_FD_ZERO(&s->fds);
	snmp_sess_select_info2_flags(s->sess, &numfds, &s->fds, &tv, &block,
	    NETSNMP_SELECT_NOALARMS);
	if (!block) {
		ms = (uint64_t)tv.tv_sec * 1000 +
		    ((uint64_t)tv.tv_usec + 999) / 1000;
		due = now + ms;
	}
	if (s->head != NULL && s->inform && s->version == OUT_SNMP_V3 &&
	    !s->discovered && !s->probing && s->probe_at_ms < due)
		due = s->probe_at_ms;
	for (i = 0; i < s->ninflight; i++)
		if (s->inflight[i].deadline_ms < due)
			due = s->inflight[i].deadline_ms;
	if (due == UINT64_MAX)
		return -1;
	if (due <= now)
		return 0;
	return due - now > INT_MAX ? INT_MAX : (int)(due - now);
}

static void
output_timer(struct loop *loop, void *arg)
{
	struct out_snmp *s = arg;

	(void)loop;
	s->timer = NULL;	/* fired: the handle is gone */
	out_snmp_process(s, false, false);
}

/* One loop timer at the output's next deadline. */
static void
output_arm(struct out_snmp *s)
{
	int ms = out_snmp_timeout_ms(s);
	uint64_t due;

	if (ms < 0) {
		loop_timer_cancel(s->loop, &s->timer);
		return;
	}
	due = loop_now_ms(s->loop) + (uint64_t)ms;
	if (s->timer != NULL && s->timer_due == due)
		return;
	loop_timer_cancel(s->loop, &s->timer);
	s->timer = loop_timer_add(s->loop, (uint64_t)ms, output_timer, s);
	s->timer_due = due;
	if (s->timer == NULL)
		diag_error("output %s: timer: %s", s->name, strerror(errno));
}

void
out_snmp_process(struct out_snmp *s, bool readable, bool writable)
{
	s->in_callback = true;
	if (readable) {
		NETSNMP_LARGE_FD_ZERO(&s->fds);
		NETSNMP_LARGE_FD_SET(s->fd, &s->fds);
		(void)snmp_sess_read2(s->sess, &s->fds);
	}
	/* Retransmissions and time-outs that are due (none: a no-op). */
	snmp_sess_timeout(s->sess);
	s->in_callback = false;
	inflight_reap(s);
	if (writable)
		s->blocked = false;
	output_pump(s);
	output_watch(s);
	output_arm(s);
}

static void
output_io(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct out_snmp *s = arg;

	(void)loop;
	assert(fd == s->fd);
	out_snmp_process(s, (events & (LOOP_READ | LOOP_ERROR)) != 0,
	    (events & (LOOP_WRITE | LOOP_ERROR)) != 0);
}

void
out_snmp_emit(struct out_snmp *s, const struct msgevent *ev)
{
	struct item *it;
	netsnmp_pdu *pdu;
	size_t size;
	bool trunc;

	s->fmt.uptime = (uint32_t)((clock_ms() - lib_start_ms) / 10);
	pdu = out_snmp_pdu(&s->fmt, ev, s->scratch, &trunc, &size);
	if (pdu == NULL) {
		s->st.dropped++;
		output_warn(s, "out of memory");
		return;
	}
	if (s->bytes + size > s->cap ||
	    (it = calloc(1, sizeof(*it))) == NULL) {
		snmp_free_pdu(pdu);
		s->st.dropped++;
		output_warn(s, "queue full (%zu bytes)", s->cap);
		return;
	}
	if (trunc)
		s->st.truncated++;
	it->pdu = pdu;
	it->size = size;
	if (s->tail != NULL)
		s->tail->next = it;
	else
		s->head = it;
	s->tail = it;
	s->queued++;
	s->bytes += size;
	output_pump(s);
	output_watch(s);
	output_arm(s);
}

size_t
out_snmp_pending(const struct out_snmp *s)
{
	return s->queued + s->ninflight;
}

int
out_snmp_poll_fd(const struct out_snmp *s, short *events_r)
{
	*events_r = POLLIN | (s->blocked ? POLLOUT : 0);
	return s->fd;
}

size_t
out_snmp_abandon(struct out_snmp *s)
{
	size_t queued = s->queued, inflight = s->ninflight;

	if (queued + inflight == 0)
		return 0;
	while (s->head != NULL)
		queue_pop(s);
	s->st.dropped += queued + inflight;
	s->st.unacked += inflight;
	s->bytes = 0;
	s->ninflight = 0;
	diag_warn("output %s: %zu events still queued and %zu informs not "
	    "acknowledged at the end, dropped", s->name, queued, inflight);
	return queued + inflight;
}

void
out_snmp_get_stats(const struct out_snmp *s, struct out_snmp_stats *stats_r)
{
	*stats_r = s->st;
}

const char *
out_snmp_name(const struct out_snmp *s)
{
	return s->name;
}

/* "udp:192.0.2.1:162" or "udp6:[2001:db8::1]:162" for net-snmp. */
static int
peer_name(const struct sockaddr *sa, socklen_t salen, char *buf,
    size_t size)
{
	char host[INET6_ADDRSTRLEN];
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET && salen >= sizeof(*sin) &&
	    inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)) != NULL)
		snprintf(buf, size, "udp:%s:%u", host, ntohs(sin->sin_port));
	else if (sa->sa_family == AF_INET6 && salen >= sizeof(*sin6) &&
	    inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)) != NULL)
		snprintf(buf, size, "udp6:[%s]:%u", host,
		    ntohs(sin6->sin6_port));
	else
		return -1;
	return 0;
}

static struct out_snmp *
new_fail(struct out_snmp *s, int err, char *errbuf, size_t errsize,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static struct out_snmp *
new_fail(struct out_snmp *s, int err, char *errbuf, size_t errsize,
    const char *fmt, ...)
{
	va_list ap;

	if (errbuf != NULL && errsize > 0 && fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errsize, fmt, ap);
		va_end(ap);
	}
	out_snmp_free(&s);
	errno = err;
	return NULL;
}

/*
 * USM keys: Ku from each pass phrase (RFC 3414 A.2), with the auth
 * protocol's hash for both.  net-snmp localises them for the engine
 * when the user is made (usm_create_user_from_session()).
 */
static int
session_usm(netsnmp_session *ss, const struct out_snmp_target *t,
    char *err, size_t errsize)
{
	int type;
	size_t len;
	oid *o;

	ss->securityName = (char *)t->user;
	ss->securityNameLen = strlen(t->user);
	ss->securityModel = SNMP_SEC_MODEL_USM;
	ss->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
	if (t->auth_proto == NULL)
		return 0;
	if ((type = usm_lookup_auth_type(t->auth_proto)) < 0 ||
	    (o = sc_get_auth_oid(type, &len)) == NULL) {
		snprintf(err, errsize, "auth protocol %s: not supported by "
		    "this net-snmp", t->auth_proto);
		return -1;
	}
	ss->securityAuthProto = o;
	ss->securityAuthProtoLen = len;
	ss->securityAuthKeyLen = USM_AUTH_KU_LEN;
	if (t->auth_pass == NULL || generate_Ku(o, (u_int)len,
	    (const u_char *)t->auth_pass, strlen(t->auth_pass),
	    ss->securityAuthKey, &ss->securityAuthKeyLen) != SNMPERR_SUCCESS) {
		snprintf(err, errsize, "cannot make the authentication key "
		    "(a pass phrase needs at least 8 characters)");
		return -1;
	}
	ss->securityLevel = SNMP_SEC_LEVEL_AUTHNOPRIV;
	if (t->priv_proto == NULL)
		return 0;
	if ((type = usm_lookup_priv_type(t->priv_proto)) < 0 ||
	    (o = sc_get_priv_oid(type, &len)) == NULL) {
		snprintf(err, errsize, "priv protocol %s: not supported by "
		    "this net-snmp", t->priv_proto);
		return -1;
	}
	ss->securityPrivProto = o;
	ss->securityPrivProtoLen = len;
	ss->securityPrivKeyLen = USM_PRIV_KU_LEN;
	if (t->priv_pass == NULL || generate_Ku(ss->securityAuthProto,
	    (u_int)ss->securityAuthProtoLen, (const u_char *)t->priv_pass,
	    strlen(t->priv_pass), ss->securityPrivKey,
	    &ss->securityPrivKeyLen) != SNMPERR_SUCCESS) {
		snprintf(err, errsize, "cannot make the privacy key "
		    "(a pass phrase needs at least 8 characters)");
		return -1;
	}
	ss->securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
	return 0;
}

/*
 * The smallest message: sysUpTime.0, snmpTrapOID.0, msgEvTruncated.0
 * and the OBJECTS with their largest non-text values (an IPv6
 * address, a DateAndTime, a 5-octet port) and empty texts.  A
 * max_size below overhead + this could not carry a notification.
 */
static size_t
size_floor(void)
{
	oid o[OID_INSTANCE_LEN];
	size_t i, size;

	size = vb_size(ber_oid_len(oid_sys_uptime, 9), 5) +
	    vb_size(ber_oid_len(oid_snmp_trap_oid, 11), OID_NOTIFICATION_LEN +
	    4);
	for (i = 0; i < NOBJECTS; i++) {
		if (!objects[i].mandatory && i != OBJ_TRUNCATED)
			continue;
		instance_oid(i, o);
		size += vb_size(ber_oid_len(o, OID_INSTANCE_LEN), 16);
	}
	return size;
}

struct out_snmp *
out_snmp_new(struct loop *loop, const struct out_snmp_target *t, char *err,
    size_t errsize)
{
	netsnmp_session sess;
	struct out_snmp *s;
	struct usmUser *u;
	char peer[INET6_ADDRSTRLEN + 16], why[256];
	int fl;

	if (err != NULL && errsize > 0)
		err[0] = '\0';
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->fd = -1;
	s->loop = loop;
	s->inform = t->inform;
	s->version = t->version;
	s->retries = t->retries;
	s->timeout_ms = t->timeout_ms;
	s->probe_backoff_ms = OUT_SNMP_PROBE_BACKOFF_MIN_MS;
	s->name = strdup(t->name != NULL ? t->name : "snmp");
	s->scratch = malloc(OUT_SNMP_SCRATCH);
	s->inflight = calloc(OUT_SNMP_WINDOW, sizeof(*s->inflight));
	if (s->name == NULL || s->scratch == NULL || s->inflight == NULL)
		return new_fail(s, ENOMEM, err, errsize, "out of memory");
	s->cap = t->queue_bytes > OUT_SNMP_QUEUE_MIN ? t->queue_bytes :
	    OUT_SNMP_QUEUE_MIN;
	s->fmt.inform = t->inform;
	s->fmt.max_size = t->max_size;
	s->fmt.overhead = out_snmp_overhead(t);
	if (peer_name(t->sa, t->salen, peer, sizeof(peer)) == -1)
		return new_fail(s, EINVAL, err, errsize, "not an IPv4 or IPv6 "
		    "address");
	if (t->max_size < OUT_SNMP_SIZE_MIN ||
	    t->max_size > OUT_SNMP_SIZE_MAX ||
	    t->max_size < s->fmt.overhead + size_floor())
		return new_fail(s, EINVAL, err, errsize, "snmp-max-size %zu "
		    "cannot carry a notification", t->max_size);
	if (t->retries > 10 || t->timeout_ms < 10 || t->timeout_ms > 60000)
		return new_fail(s, EINVAL, err, errsize, "bad retries or "
		    "timeout");

	lib_init();
	s->sess = NULL;
	snmp_sess_init(&sess);
	sess.peername = peer;
	sess.retries = (int)t->retries;
	sess.timeout = (long)t->timeout_ms * 1000;	/* microseconds */
	sess.callback = session_cb;
	sess.callback_magic = s;
	sess.sndMsgMaxSize = t->max_size;
	/* No synchronous engine ID probe, now or before an inform. */
	sess.flags |= SNMP_FLAGS_DONT_PROBE;
	if (t->version == OUT_SNMP_V2C) {
		if (t->community == NULL || t->community[0] == '\0') {
			return new_fail(s, EINVAL, err, errsize,
			    "no community");
		}
		sess.version = SNMP_VERSION_2c;
		sess.community = (u_char *)(uintptr_t)t->community;
		sess.community_len = strlen(t->community);
	} else {
		if (t->user == NULL || t->user[0] == '\0' ||
		    strlen(t->user) > 32) {
			return new_fail(s, EINVAL, err, errsize, "user name of "
			    "1..32 octets needed");
		}
		sess.version = SNMP_VERSION_3;
		if (session_usm(&sess, t, why, sizeof(why)) == -1 ||
		    engine_load(t, why, sizeof(why)) == -1) {
			return new_fail(s,
			    strstr(why, "not supported") != NULL ? ENOTSUP :
			    EIO, err, errsize, "%s", why);
		}
		if (!t->inform) {
			/*
			 * A trap's authoritative engine is ours: its ID, boots
			 * and time go into the message, and the keys are
			 * localised for it when the session opens.  A user of
			 * that name left from before a reload is replaced.
			 */
			sess.securityEngineID = engine_id;
			sess.securityEngineIDLen = engine_id_len;
			sess.contextEngineID = engine_id;
			sess.contextEngineIDLen = engine_id_len;
			sess.engineBoots = engine_boots;
			sess.engineTime = (u_int)snmpv3_local_snmpEngineTime();
			u = usm_get_user(engine_id, engine_id_len, t->user);
			if (u != NULL) {
				usm_remove_user(u);
				usm_free_user(u);
			}
		}
	}
	s->sess = snmp_sess_open(&sess);
	/* The session has its own copies; ours held keys: wipe them. */
	memset(sess.securityAuthKey, 0, sizeof(sess.securityAuthKey));
	memset(sess.securityPrivKey, 0, sizeof(sess.securityPrivKey));
	if (s->sess == NULL) {
		snprintf(why, sizeof(why), "net-snmp: %s",
		    snmp_api_errstring(sess.s_snmp_errno));
		return new_fail(s, EIO, err, errsize, "%s", why);
	}
	s->ss = snmp_sess_session(s->sess);
	/* snmp_sess_open() clears it once it has opened: set it again. */
	s->ss->flags |= SNMP_FLAGS_DONT_PROBE;
	s->fd = snmp_sess_transport(s->sess)->sock;
	netsnmp_large_fd_set_init(&s->fds, s->fd + 1);
	if ((fl = fcntl(s->fd, F_GETFL)) == -1 ||
	    fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(s->fd, F_SETFD, FD_CLOEXEC) == -1)
		return new_fail(s, errno, err, errsize, "socket: %s",
		    strerror(errno));
	if (loop_add_fd(loop, s->fd, LOOP_READ, output_io, s) == -1)
		return new_fail(s, errno, err, errsize, "watch: %s",
		    strerror(errno));
	s->mask = LOOP_READ;
	return s;
}

void
out_snmp_free(struct out_snmp **sp)
{
	struct out_snmp *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	if (s->sess != NULL) {
		loop_timer_cancel(s->loop, &s->timer);
		if (s->mask != 0) {
			/* It was running: a last word on what it did. */
			loop_del_fd(s->loop, s->fd);
			if (s->inform)
				diag_info("output %s: closed; %" PRIu64 " sent "
				    "and acknowledged, %" PRIu64 " dropped (%"
				    PRIu64 " not acknowledged), %" PRIu64
				    " truncated", s->name, s->st.sent,
				    s->st.dropped, s->st.unacked,
				    s->st.truncated);
			else
				diag_info("output %s: closed; %" PRIu64
				    " sent, %" PRIu64 " dropped, %" PRIu64
				    " truncated", s->name, s->st.sent,
				    s->st.dropped, s->st.truncated);
		}
		while (s->head != NULL)
			queue_pop(s);
		snmp_sess_close(s->sess);
		netsnmp_large_fd_set_cleanup(&s->fds);
	}
	free(s->inflight);
	free(s->scratch);
	free(s->name);
	free(s);
}
