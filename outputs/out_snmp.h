/*
 * out_snmp.h - events as SNMP notifications (mibs/MSGEVENT-MIB.txt),
 * sent with net-snmp.
 *
 * Two halves, as with syslog:
 *
 * - out_snmp_pdu() is the formatter: an event becomes one SNMPv2-Trap
 *   or InformRequest PDU whose variable bindings follow the MIB's
 *   fixed order (sysUpTime.0, snmpTrapOID.0, the notification's
 *   OBJECTS, the other parameters, msgEvTruncated.0), kept within a
 *   size budget by the MIB's truncation rule.  No I/O.
 *
 * - struct out_snmp is one `output snmp` line: a net-snmp session on a
 *   non-blocking UDP socket watched by the loop, a bounded queue, and,
 *   for informs, the requests awaiting acknowledgement, retried by
 *   net-snmp from the loop's timers.  Nothing here blocks: SNMPv3
 *   traps are sent with msgeventd's own engine ID (no discovery), and
 *   an SNMPv3 inform receiver's engine ID is discovered asynchronously
 *   before the first inform.  out.c owns the fan-out; this module is
 *   driven through out_add_snmp() and friends.
 *
 * The SNMPv3 engine (engine ID, boots counter) is one per process and
 * persists in a state file (out_snmp_state_load()).
 *
 * Secrets (community, pass phrases) are used to open the session and
 * never appear in a diagnostic.
 */
#ifndef OUT_SNMP_H
#define OUT_SNMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../parser/msgevent.h"

struct loop;
struct out_snmp;
struct snmp_pdu;		/* net-snmp's netsnmp_pdu */

/* snmp-max-size: the largest message, whole (RFC 3417 wants 484). */
#define OUT_SNMP_SIZE_MIN	1024
#define OUT_SNMP_SIZE_DEFAULT	1472	/* an Ethernet frame's UDP payload */
#define OUT_SNMP_SIZE_MAX	65507	/* the largest UDP/IPv4 payload */

/* SIZE of the MIB's text objects: SnmpAdminString and MsgEventText. */
#define OUT_SNMP_ADMIN_STRING_MAX	255
#define OUT_SNMP_TEXT_MAX		1024

/* RFC 3411 SnmpEngineID: 5..32 octets. */
#define OUT_SNMP_ENGINE_ID_MIN	5
#define OUT_SNMP_ENGINE_ID_MAX	32
/* RFC 3414 2.2.2: snmpEngineBoots stops here. */
#define OUT_SNMP_BOOTS_MAX	2147483647u
/* The state file in the state directory. */
#define OUT_SNMP_STATE_FILE	"snmp-engine"

enum out_snmp_version {
	OUT_SNMP_V2C,
	OUT_SNMP_V3,
};

struct out_snmp_target {
	const char *name;	/* for diagnostics, no secrets:
				 * "snmp trap udp:127.0.0.1:162" */
	bool inform;		/* InformRequest, else SNMPv2-Trap */
	const struct sockaddr *sa;	/* AF_INET or AF_INET6, UDP */
	socklen_t salen;
	enum out_snmp_version version;
	const char *community;	/* v2c: 1..255 octets */
	/*
	 * v3: USM user (1..32 octets); auth_proto NULL: noAuthNoPriv,
	 * priv_proto NULL: authNoPriv.  Protocol names as net-snmp
	 * spells them: MD5, SHA, SHA-224 .. SHA-512; DES, AES, AES-192,
	 * AES-256.  Pass phrases: at least 8 octets (RFC 3414 11.2).
	 */
	const char *user;
	const char *auth_proto, *auth_pass;
	const char *priv_proto, *priv_pass;
	/*
	 * Bound on what waits to be sent or acknowledged, counted as the
	 * size estimate of each notification; raised to 64 KiB if
	 * smaller.  A notification that does not fit is dropped, counted
	 * and logged.
	 */
	size_t queue_bytes;
	size_t max_size;	/* OUT_SNMP_SIZE_MIN..MAX */
	unsigned retries;	/* informs: retransmissions, 0..10 */
	unsigned timeout_ms;	/* informs: wait per attempt, 10..60000 */
	/*
	 * v3 only: where the engine's state lives (out_snmp_state_load()),
	 * and an engine ID that overrides the stored one (NULL: the
	 * stored one, or a new random one).  Read by the first v3 output
	 * of the process; later ones use the same engine.
	 */
	const char *state_dir;
	const uint8_t *engine_id;
	size_t engine_id_len;
};

struct out_snmp_stats {
	uint64_t sent;		/* traps sent; informs acknowledged */
	uint64_t dropped;	/* queue full, send or encoding errors */
	uint64_t unacked;	/* informs never acknowledged (also in
				 * dropped) */
	uint64_t truncated;	/* notifications with msgEvTruncated.0 */
};

/*
 * The SNMPv3 engine's persistent state: DIR/snmp-engine, a text file
 *
 *   # msgeventd SNMPv3 engine; written at every start
 *   engine-id 0x80007ed905...
 *   boots 3
 *
 * Read it (a missing file or directory is a first start: a new random
 * engine ID, RFC 3411 format 5 under enterprise 32473), count one boot
 * more, and write it back (a temporary file, fsync, rename) before any
 * notification goes out, so that a receiver never sees the boots
 * counter go backwards (RFC 3414 2.2.3).  FIXED_ID, when not NULL,
 * replaces the stored engine ID; a changed engine ID starts boots at
 * 1.  DIR is made (mode 0700) if missing.  Returns 0 with the engine
 * ID and boots in the _r arguments, or -1 with a message in ERR
 * ("DIR/snmp-engine: line 2: ..." or the failing call and strerror).
 */
int out_snmp_state_load(const char *dir, const uint8_t *fixed_id,
    size_t fixed_len, uint8_t id_r[OUT_SNMP_ENGINE_ID_MAX],
    size_t *id_len_r, uint32_t *boots_r, char *err, size_t errsize);

/*
 * Open an output for TARGET: initialises net-snmp (once per process),
 * the v3 engine if TARGET is the first v3 output, and the session
 * (non-blocking, no network traffic yet).  A receiver that is down is
 * not an error here.  Returns NULL with errno set (EINVAL: a bad
 * TARGET; ENOTSUP: a protocol this net-snmp lacks; EIO: net-snmp
 * refused the session or the state file failed) and, when ERR is not
 * NULL, a message without secrets in ERR.
 */
struct out_snmp *out_snmp_new(struct loop *loop,
    const struct out_snmp_target *target, char *err, size_t errsize);

/* Format EV and queue it; sends at once when it can.  Never blocks. */
void out_snmp_emit(struct out_snmp *s, const struct msgevent *ev);

/*
 * For out_flush(), which polls outside the loop: how many
 * notifications wait (queued or awaiting an acknowledgement); the fd
 * to poll and the events wanted (POLLIN, POLLOUT); the milliseconds
 * until the output needs out_snmp_process() anyway (-1: not for
 * time); and the processing itself.  out_snmp_abandon() counts what
 * is still waiting as dropped (unacknowledged informs as such), logs
 * it and returns how many.
 */
size_t out_snmp_pending(const struct out_snmp *s);
int out_snmp_poll_fd(const struct out_snmp *s, short *events_r);
int out_snmp_timeout_ms(struct out_snmp *s);
void out_snmp_process(struct out_snmp *s, bool readable, bool writable);
size_t out_snmp_abandon(struct out_snmp *s);

void out_snmp_get_stats(const struct out_snmp *s,
    struct out_snmp_stats *stats_r);
const char *out_snmp_name(const struct out_snmp *s);

/*
 * Closes the session and cancels the timers, discarding what waits
 * (call out_snmp_abandon() first to count it), and logs what the
 * output did ("closed; N sent, ...").  Clears *s.  net-snmp itself
 * stays initialised.  NULL is a no-op.
 */
void out_snmp_free(struct out_snmp **s);

/* The formatter. */

struct out_snmp_format {
	bool inform;
	size_t max_size;	/* the whole message */
	size_t overhead;	/* of the message around the varbinds:
				 * out_snmp_overhead() */
	uint32_t uptime;	/* sysUpTime.0, hundredths of a second */
};

/* The octets a message of TARGET's kind needs besides its varbinds. */
size_t out_snmp_overhead(const struct out_snmp_target *target);

/*
 * A new SNMPv2-Trap (or InformRequest) PDU for EV, or NULL when out of
 * memory.  SCRATCH must hold OUT_SNMP_SCRATCH bytes (the cleaned
 * values).  *TRUNCATED_R tells whether msgEvTruncated.0 was added,
 * *SIZE_R the estimate of the encoded varbinds (never below the real
 * size).  The caller owns the PDU (snmp_free_pdu()).
 */
#define OUT_SNMP_SCRATCH	(64 * 1024)
struct snmp_pdu *out_snmp_pdu(const struct out_snmp_format *fmt,
    const struct msgevent *ev, char *scratch, bool *truncated_r,
    size_t *size_r);

/*
 * Every OID the output sends, for the MIB test: the I-th one's name as
 * snmptranslate writes it ("MSGEVENT-MIB::msgEvUser.0",
 * "SNMPv2-MIB::sysUpTime.0") and its numeric form ("1.3.6.1...") in
 * BUF.  Returns false when I is past the end.
 */
bool out_snmp_oid_describe(size_t i, char *name, size_t namesize,
    char *buf, size_t bufsize);

#endif
