/*
 * imap_infer.c - events from one IMAP session's two byte streams.
 *
 * Client tokens build the command being read (struct infer_cur) and put
 * it, by tag, in a table of pending commands: RFC 9051 2.2.1 matches a
 * completion to its command by tag only, and 5.5 lets clients pipeline.
 * Server tokens build the response being read (struct infer_srv); a
 * tagged response completes its command, and only then, on OK, do
 * events go out.  Literal bodies are never scanned (the parser jumps
 * them), so text inside a FETCH literal cannot pass for a completion.
 *
 * Modes that need both directions are switched here: AUTHENTICATE's
 * client lines and IDLE's "DONE" are read in IMAP_PARSER_MODE_TEXT, and
 * a synchronizing literal the server refuses is cancelled.
 *
 * Untagged responses belong to the oldest pending command, the one the
 * server works on (cmd_head()).  Those that change the selected mailbox
 * (EXISTS, EXPUNGE, FETCH's UID, VANISHED, [UIDVALIDITY] and the like)
 * update struct infer_sel and its imap_seqmap; removals announced while
 * an EXPUNGE or MOVE of this session runs are collected (xp) for its
 * MessageExpunge, the others are someone else's (sel_foreign_expunge()).
 * The flags of its messages (parser/imap_flags) follow through the
 * hook_*() functions and FETCH responses' FLAGS; STORE and FETCH of
 * bodies make flag events from them ("flag events" below).
 */
#include "imap_infer.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "imap_registry.h"
#include "imap_seqmap.h"
#include "imap_set.h"
#include "imap_uidset.h"
#include "sbuf.h"

/* Commands we tell apart.  X(enum suffix, name, flags) */
#define KF_RECORD	0x01	/* its events need a struct infer_record */
#define KF_UID_RECORD	0x02	/* so does its UID form (6.4.9) */
#define KF_RECORDS	(KF_RECORD | KF_UID_RECORD)

#define INFER_KIND_MAP(X)					\
	X(OTHER,	"",			0)		\
	X(LOGIN,	"LOGIN",		KF_RECORD)	\
	X(AUTHENTICATE,	"AUTHENTICATE",		KF_RECORD)	\
	X(LOGOUT,	"LOGOUT",		0)		\
	X(CREATE,	"CREATE",		KF_RECORD)	\
	X(DELETE,	"DELETE",		KF_RECORD)	\
	X(RENAME,	"RENAME",		KF_RECORD)	\
	X(SUBSCRIBE,	"SUBSCRIBE",		KF_RECORD)	\
	X(UNSUBSCRIBE,	"UNSUBSCRIBE",		KF_RECORD)	\
	X(APPEND,	"APPEND",		KF_RECORD)	\
	X(IDLE,		"IDLE",			0)		\
	X(STARTTLS,	"STARTTLS",		0)		\
	X(COMPRESS,	"COMPRESS",		0)		\
	X(UID,		"UID",			0)		\
	X(FETCH,	"FETCH",		KF_RECORDS)	\
	X(STORE,	"STORE",		KF_RECORDS)	\
	X(COPY,		"COPY",			KF_RECORDS)	\
	X(MOVE,		"MOVE",			KF_RECORDS)	\
	X(EXPUNGE,	"EXPUNGE",		KF_UID_RECORD)	\
	X(SEARCH,	"SEARCH",		0)		\
	X(SELECT,	"SELECT",		KF_RECORD)	\
	X(EXAMINE,	"EXAMINE",		KF_RECORD)	\
	X(CLOSE,	"CLOSE",		0)		\
	X(UNSELECT,	"UNSELECT",		0)		\
	X(STATUS,	"STATUS",		0)		\
	X(LIST,		"LIST",			0)		\
	X(LSUB,		"LSUB",			0)		\
	X(NOOP,		"NOOP",			0)		\
	X(CAPABILITY,	"CAPABILITY",		0)		\
	X(ENABLE,	"ENABLE",		0)		\
	X(CHECK,	"CHECK",		0)		\
	X(NAMESPACE,	"NAMESPACE",		0)		\
	X(ID,		"ID",			0)		\
	X(SETQUOTA,	"SETQUOTA",		KF_RECORD)

enum infer_kind {
#define INFER_X(e, name, flags) INFER_K_##e,
	INFER_KIND_MAP(INFER_X)
#undef INFER_X
	INFER_K_COUNT
};

static const struct {
	const char *name;
	unsigned flags;
} kinds[] = {
#define INFER_X(e, name, flags) { name, flags },
	INFER_KIND_MAP(INFER_X)
#undef INFER_X
};

/* Bytes of a SASL mechanism name kept (RFC 4422 3.1: at most 20). */
#define INFER_MECH_MAX		24
/* Bytes of a response code atom kept (AUTHENTICATIONFAILED is 20). */
#define INFER_CODE_MAX		32
/* A decoded SASL response: the parser's token cap, base64 is 4:3. */
#define INFER_SASL_MAX		(IMAP_TOKEN_MAX / 4 * 3 + 3)

/*
 * A record's memory is proportional to what the command carried: a
 * small fixed part (struct infer_record) and a byte arena behind it,
 * realloc'd as names, messages and flags arrive.  Everything in the
 * arena is addressed by offset, since a realloc moves it (and the
 * fixed part with it).  Items are built one at a time at the arena's
 * end: a name is complete (its token or literal read) before the next
 * item starts, and an APPEND message's flags follow its struct
 * infer_msg directly.
 */

/*
 * The longest set a record keeps (a UID set, COPYUID's, STORE's set,
 * [MODIFIED]): a set longer than IMAP_TOKEN_MAX comes in fragments
 * (imap_parser_set_fragments()) and is appended piece by piece; past
 * this it is cut at its last whole range, as a truncated token was.
 */
#define INFER_SET_MAX		(16 * IMAP_TOKEN_MAX)

/* Bytes in a record's arena: a user or mailbox name. */
struct infer_span {
	uint32_t off;
	uint32_t len;
	bool set, cut;
};

/* The names of a record, for rec_span(). */
enum infer_slot {
	SLOT_USER,		/* auth: authorization identity */
	SLOT_ADMIN,		/* auth: authcid, when != user */
	SLOT_NAME0,		/* mbox: the mailbox (RENAME: the old name;
				   COPY, MOVE: the destination) */
	SLOT_NAME1,		/* mbox: RENAME's new name */
	SLOT_UIDSET,		/* mbox: UID COPY/MOVE/EXPUNGE's UID set */
	SLOT_SRC,		/* mbox: COPYUID's source UIDs */
	SLOT_DST,		/* mbox: COPYUID's destination UIDs */
	SLOT_SET,		/* fc: STORE's or FETCH's set, as sent */
	SLOT_FLAGS,		/* fc: STORE's flag names */
	SLOT_MODIFIED,		/* fc: the OK's [MODIFIED set] */
};

/* LOGIN and AUTHENTICATE: the user names, never the password. */
struct infer_auth {
	struct infer_span user, admin;
	char mech[INFER_MECH_MAX];		/* upper case */
	uint8_t mech_len;
	bool cancelled;				/* the client sent "*" */
	unsigned step;				/* SASL responses seen */
};

/*
 * One APPEND message, in the arena at an offset aligned for it, its
 * flag names (space-separated) right behind it; the next message starts
 * at the next aligned offset (msg_next()).
 */
struct infer_msg {
	uint64_t size;
	uint32_t uid;
	uint16_t flags_len;
	bool has_size, has_uid, flags_cut;
};

/*
 * Mailbox commands, APPEND, SELECT/EXAMINE, COPY/MOVE and UID EXPUNGE:
 * raw (modified UTF-7) names as sent, and UID sets as sent (a set the
 * parser cut, being longer than IMAP_TOKEN_MAX, has cut set).
 */
struct infer_mbox {
	struct infer_span name[2];		/* RENAME: old, new */
	struct infer_span uidset;		/* UID COPY/MOVE/EXPUNGE */
	struct infer_span src, dst;		/* COPYUID (RFC 4315 3) */
	uint32_t msg_first;			/* offset of message 0 */
	uint16_t nmsg;
	uint16_t flags_used;			/* flag bytes, all messages */
	uint32_t uidvalidity;			/* APPENDUID, COPYUID */
	bool appenduid;
	bool copyuid;				/* read whole */
	bool copyuid_seen;			/* one was started */
	/* SETQUOTA (RFC 9208 4.1.3): the limits of its resource list */
	uint64_t q_storage, q_message;
	uint8_t q_pos;				/* 0: a name next, 1: a limit */
	uint8_t q_res;				/* enum infer_qres */
	bool q_has_storage, q_has_message;
	bool q_list, q_bad;
};

/*
 * STORE, UID STORE (RFC 9051 6.4.6, RFC 7162 3.1.3) and FETCH, UID FETCH
 * (6.4.5): the set as sent (a sequence set, or UIDs after "UID"), the
 * STORE's flag names space-separated as sent (never \Recent: the flags
 * module drops it when they are read), and the tagged OK's [MODIFIED].
 */
struct infer_flagcmd {
	struct infer_span set;
	struct infer_span flags;
	struct infer_span modified;
	uint8_t op;			/* enum imap_flags_op; NONE: not read */
	bool silent;			/* ".SILENT" */
	bool cond;			/* (UNCHANGEDSINCE n) */
	bool body;			/* FETCH: an item that sets \Seen */
	bool bad;			/* not understood: no events */
	bool in_mod, mod_seen;		/* STORE's modifier list */
	bool list_seen;			/* STORE's flags as a list */
};

/* What a pending command's events need, malloced only for those. */
struct infer_record {
	uint32_t used, cap;			/* arena bytes */
	union {
		struct infer_auth auth;
		struct infer_mbox mb;
		struct infer_flagcmd fc;
	};
	_Alignas(struct infer_msg) unsigned char arena[];
};

/*
 * More arena than one record can need, the larger of an APPEND's (two
 * mailbox names - a mailbox name is longer than two user names -,
 * IMAP_INFER_APPEND_MAX messages each padded for alignment, and their
 * flags) and a UID MOVE's (the destination and three UID sets, each one
 * token at most: the command's, COPYUID's two).  Growth stops here.
 */
#define INFER_ARENA_APPEND						\
	(2 * IMAP_INFER_MAILBOX_MAX + IMAP_INFER_FLAGS_MAX +		\
	IMAP_INFER_APPEND_MAX *						\
	(sizeof(struct infer_msg) + _Alignof(struct infer_msg)))
#define INFER_ARENA_COPY	(IMAP_INFER_MAILBOX_MAX + 3 * INFER_SET_MAX)
#define INFER_ARENA_MAX							\
	(INFER_ARENA_APPEND > INFER_ARENA_COPY ? INFER_ARENA_APPEND :	\
	INFER_ARENA_COPY)
/* A new record's arena: "INBOX", one message and "\Seen" fit. */
#define INFER_ARENA_INIT	64

_Static_assert(IMAP_INFER_FLAGS_MAX <= UINT16_MAX &&
    IMAP_INFER_APPEND_MAX <= UINT16_MAX && INFER_MECH_MAX <= UINT8_MAX,
    "struct infer_msg and struct infer_mbox count in 16 bits");
_Static_assert(INFER_ARENA_MAX < IMAP_INFER_RECORD_BYTES_MAX,
    "one record of the largest size fits the session's budget");
_Static_assert(2 * INFER_SET_MAX + IMAP_INFER_FLAGS_MAX <= INFER_ARENA_MAX,
    "a STORE's set, flags and [MODIFIED] fit a record");

struct infer_cmd {
	struct infer_cmd *next;		/* heap slots: overflow list */
	struct infer_record *rec;	/* NULL: no events (or over a cap) */
	uint32_t seq;			/* issue order: oldest first */
	uint8_t kind;			/* enum infer_kind */
	uint8_t tag_len;
	bool used;
	bool heap;
	bool uid;			/* "UID" prefix */
	bool complete;			/* its line was read to the end */
	uint8_t list;			/* LIST, LSUB: LISTF_* */
	char tag[IMAP_INFER_TAG_MAX];
};

/* The client line being read; reset at each line. */
struct infer_cur {
	bool active;			/* a line starting with a tag */
	enum infer_kind kind;
	bool uid;
	struct infer_cmd *cmd;		/* its pending slot, or NULL */
	char tag[IMAP_INFER_TAG_MAX];
	size_t tag_len;
	bool tag_long;
	unsigned depth;			/* ( nesting, counted here */
	/* The name the current literal's body goes to, if lit_keep. */
	bool lit_keep;
	enum infer_slot lit_slot;
	/* A synchronizing literal's header was the last thing read. */
	bool lit_sync_wait;
	/* APPEND message groups (RFC 3502 append-message). */
	bool msg_open;
	bool msg_kept;			/* false: open but over a cap */
	uint32_t msg_off;		/* its struct infer_msg, if kept */
	bool in_flags;
	bool ext_next;			/* UTF8/CATENATE: a list next */
	bool in_ext;
	bool ext_utf8;			/* RFC 6855 UTF8: sized */
	/* The server answered this line before its command was read. */
	bool answered;
	/* LIST, LSUB: depth-0 arguments read, the list being read */
	uint8_t list_arg;
	uint8_t list_in;		/* enum list_in */
	bool list_return;		/* "RETURN" read */
};

enum infer_srv_kind {
	SRV_NONE,
	SRV_UNTAGGED,
	SRV_CONT,
	SRV_TAGGED,
};

enum infer_status {
	ST_OTHER,
	ST_OK,
	ST_NO,
	ST_BAD,
	ST_BYE,
};

/* The parser's status words as ours (PREAUTH needs nothing here). */
static const enum infer_status status_map[] = {
	[IMAP_STATUS_NONE] = ST_OTHER,
	[IMAP_STATUS_OK] = ST_OK,
	[IMAP_STATUS_NO] = ST_NO,
	[IMAP_STATUS_BAD] = ST_BAD,
	[IMAP_STATUS_BYE] = ST_BYE,
	[IMAP_STATUS_PREAUTH] = ST_OTHER,
};

/*
 * Untagged responses that change the selected mailbox: RFC 9051 7.4.1
 * EXISTS, 7.5.1 EXPUNGE, 7.5.2 FETCH (its UID item), RFC 7162 3.2.10
 * VANISHED.
 */
enum infer_resp {
	RESP_NONE,
	RESP_EXISTS,
	RESP_EXPUNGE,
	RESP_FETCH,
	RESP_VANISHED,
	RESP_FLAGS,		/* RFC 9051 7.3.5 "* FLAGS (...)" */
	RESP_QUOTA,		/* RFC 9208 "* QUOTA root (...)" */
	RESP_LIST,		/* RFC 9051 7.3.1 LIST, RFC 3501 7.2.3 LSUB */
	RESP_CAPABILITY,	/* RFC 9051 7.2.2 */
};

/* What the FETCH item being read is (RFC 9051 7.5.2 msg-att). */
enum infer_fetch_item {
	FI_OTHER,
	FI_UID,
	FI_FLAGS,
	FI_MODSEQ,		/* RFC 7162 3.1.4 "MODSEQ (n)" */
};

/*
 * Response codes read (RFC 9051 7.1, RFC 4315 3 APPENDUID/COPYUID, RFC
 * 7162 HIGHESTMODSEQ/NOMODSEQ/CLOSED).  X(enum suffix, atom)
 */
#define INFER_CODE_MAP(X)				\
	X(OTHER,		"")			\
	X(APPENDUID,		"APPENDUID")		\
	X(COPYUID,		"COPYUID")		\
	X(UIDVALIDITY,		"UIDVALIDITY")		\
	X(UIDNEXT,		"UIDNEXT")		\
	X(HIGHESTMODSEQ,	"HIGHESTMODSEQ")	\
	X(NOMODSEQ,		"NOMODSEQ")		\
	X(CLOSED,		"CLOSED")		\
	X(READ_ONLY,		"READ-ONLY")		\
	X(READ_WRITE,		"READ-WRITE")		\
	X(PERMANENTFLAGS,	"PERMANENTFLAGS")	\
	X(MODIFIED,		"MODIFIED")		\
	X(OVERQUOTA,		"OVERQUOTA")		\
	X(CAPABILITY,		"CAPABILITY")

enum infer_code {
#define INFER_X(e, name) CODE_##e,
	INFER_CODE_MAP(INFER_X)
#undef INFER_X
	CODE_COUNT
};

static const char *const code_names[] = {
#define INFER_X(e, name) name,
	INFER_CODE_MAP(INFER_X)
#undef INFER_X
};

/* Quota resources (RFC 9208) this session reads. */
enum infer_qres {
	QRES_OTHER,
	QRES_STORAGE,		/* KiB, units of 1024 octets */
	QRES_MESSAGE,
};

/* One QUOTA response's usages and limits (RFC 9208). */
struct infer_quota {
	uint64_t storage_used, storage_limit;
	uint64_t message_used, message_limit;
	bool has_storage, has_message;
	bool under;			/* every resource under its limit */
	unsigned nres;			/* resources listed */
};

/* The server line being read; reset at each line. */
struct infer_srv {
	enum infer_srv_kind kind;
	enum infer_status status;
	struct infer_cmd *cmd;		/* tagged: its command, or NULL */
	char tag[IMAP_INFER_TAG_MAX];	/* tagged, when not longer */
	size_t tag_len;
	bool tag_long;
	bool in_code, code_seen;
	unsigned code_depth;
	unsigned code_i;		/* top-level tokens in the code */
	char code[INFER_CODE_MAX];
	size_t code_len;
	enum infer_code code_kind;
	uint64_t code_num;		/* its number (UIDNEXT n, ...) */
	bool code_num_ok;
	bool appenduid;
	/* "* LIST|LSUB (attributes) delimiter name" */
	bool list_lsub;
	bool list_subscribed;		/* \Subscribed (RFC 5258) */
	bool list_noselect;		/* \Noselect */
	/* a capability list (response or code): UIDPLUS or IMAP4rev2 in it */
	bool cap_list, cap_uidplus;
	struct infer_cmd *copy_cmd;	/* COPYUID: its COPY or MOVE */
	bool bye_timeout;
	/* untagged "* NUM WORD ..." and "* VANISHED ..." */
	enum infer_resp resp;
	uint32_t num;
	bool has_num;
	bool fetch_value;		/* FETCH: the next item is a value */
	uint8_t fetch_item;		/* ... of this item: infer_fetch_item */
	uint8_t fetch_list;		/* the list being read: FI_FLAGS, ... */
	bool has_uid;
	uint32_t uid;
	bool flags_ok;			/* a mailbox takes the flags read */
	bool has_flags;			/* a FLAGS list was read whole */
	struct imap_flags flags;
	bool fetch_body;		/* BODY[...], BINARY[...], RFC822... */
	bool has_modseq;
	uint64_t modseq;
	bool vanished_earlier;		/* "(EARLIER)": history only */
	/* [PERMANENTFLAGS (...)] (RFC 9051 7.1) */
	bool perm_list;
	bool perm_star;			/* "\*": new keywords may be made */
	struct imap_flags perm;
	/* a tagged NO whose text speaks of quota */
	bool quota_text;
	/* the mailbox name of the tagged response's command was cut off */
	bool name_partial;
	/* "* QUOTA root (resource usage limit ...)" (RFC 9208) */
	bool q_open, q_closed, q_bad;
	uint8_t q_pos;			/* 0: name, 1: usage, 2: limit */
	uint8_t q_res;			/* enum infer_qres */
	uint64_t q_used;
	struct infer_quota q;
};

/*
 * UIDs being collected for one event (imap_uidset.h: ranges and bitmaps,
 * at most IMAP_INFER_UID_ITEMS_MAX items), on the heap only while there
 * are some.  All zeros is an empty one.
 */
struct infer_uids {
	struct imap_uidset set;
	uint32_t unknown;		/* messages whose UID was unknown */
	bool cut;			/* UIDs lost (a set cut, memory) */
};

enum infer_sel_state {
	SEL_NONE,			/* no mailbox selected (or unsure) */
	SEL_SELECTING,			/* SELECT/EXAMINE in progress */
	SEL_SELECTED,
};

/*
 * The selected mailbox (RFC 9051 3.3 and 6.3.1-2), as this session
 * learned it.  While SELECTING, the untagged data of the SELECT
 * accumulates here; its OK makes it SELECTED, its NO/BAD leaves none
 * (RFC 9051 6.3.1: a failed SELECT deselects).  The map's count is the
 * mailbox's only while counted: a response that contradicts the map or
 * cannot be read whole (a VANISHED set longer than IMAP_TOKEN_MAX)
 * clears it until the next EXISTS says the count again.
 */
struct infer_sel {
	struct imap_seqmap map;
	/*
	 * The flags of its messages by UID, its keywords and
	 * PERMANENTFLAGS; box_gen counts its resets, so that a running
	 * command can tell its flag sets went stale.
	 */
	struct imap_flags_box box;
	uint32_t box_gen;
	char *name;			/* raw, as sent; NULL when unknown */
	uint32_t name_len;
	bool name_cut;
	enum infer_sel_state state;
	uint32_t select_seq;		/* SELECTING: the command's seq */
	bool read_only;			/* EXAMINE, [READ-ONLY] */
	bool counted;
	bool uidvalidity_known, uidnext_known, modseq_known;
	uint32_t uidvalidity, uidnext;
	uint64_t modseq;		/* HIGHESTMODSEQ, while unchanged */
};

/*
 * A conditional STORE's change, or that it is unknown, held until its
 * OK (RFC 7162 3.1.3).
 */
struct infer_flagpend {
	uint32_t uid;
	bool unknown;
	struct imap_flags_change change;
};

/*
 * The flag changes of the STORE, UID STORE or FETCH of bodies the
 * server works on (the oldest pending command: untagged FETCH responses
 * belong to it), gathered from its FETCH responses as they come and
 * from the operation at its OK, which emits them.  On the heap only
 * while it runs (like xp).
 */
struct infer_flagrun {
	bool active;
	uint32_t seq;			/* its command's seq */
	uint32_t gen;			/* sel.box_gen when it started */
	bool set_ok;			/* its set was kept and reads */
	bool usable;			/* set, operation, flags understood */
	enum imap_flags_op op;
	struct imap_flags list;		/* STORE's flags; FETCH: \Seen */
	struct imap_flags_batch *batch;
	struct infer_uids done;		/* UIDs the server reported */
	struct infer_flagpend *pend;	/* conditional STORE */
	uint32_t npend, apend;
	uint64_t unknown;		/* messages whose change is unknown */
	uint32_t reported;		/* FETCH responses about its messages */
	uint32_t added;			/* changes batched or held */
	bool news;			/* other sessions' changes told */
	bool cut;			/* a change lost to a cap or memory */
	bool modseq_known;
	uint64_t modseq;
};

/*
 * New messages of the selected mailbox not decided yet (MessageNew):
 * those from sequence number first to the last, all new since the
 * EXISTS growth that started the batch (new messages come last, RFC
 * 9051 2.3.1.1).  See "changes nobody in this session made".
 */
struct infer_news {
	bool active;
	uint32_t first;
	uint32_t unknown;		/* of them, UIDs unknown (as counted) */
	struct infer_uids gone;		/* UIDs of those expunged meanwhile */
	uint32_t lost;			/* those expunged, UID unknown */
	/* every message with a UID >= base is new, every other is not */
	bool base_known;
	uint32_t base;
};

/* Removals nobody in this session made, not decided yet. */
struct infer_gone {
	bool active;
	struct infer_uids uids;		/* .unknown: removals, UID unknown */
	bool have_messages;
	uint32_t messages;		/* the count after the last */
};

/* A mailbox a pending command holds in the registry. */
struct infer_hold {
	struct imap_registry_box *box;
	uint32_t seq;			/* the command's */
	uint8_t dir;			/* enum imap_registry_dir */
};

/*
 * Changes nobody in this session made (imap_registry.h), on the heap
 * once needed (fx_get()).
 */
struct infer_foreign {
	struct imap_registry *own_reg;	/* without the env's, when needed */
	bool reg_failed;
	struct imap_registry_box *sel_box;	/* the selected mailbox's */
	struct imap_registry_waiter waiter;
	struct infer_news news;
	struct infer_gone gone;
	struct infer_hold *holds;	/* at most 2 * IMAP_INFER_PENDING_MAX */
	uint32_t nholds, aholds;
	uint64_t unknown;		/* imap_infer_foreign_unknown() */
};

/* A server set in fragments: what it goes to (struct imap_infer). */
enum { SFRAG_NONE, SFRAG_COPYUID, SFRAG_MODIFIED, SFRAG_VANISHED };

/* A VANISHED set in fragments, read into a set of UIDs. */
struct infer_vfrag {
	struct imap_set_reader reader;
	struct imap_uidset set;
};

struct imap_infer {
	struct imap_parser client;
	struct imap_parser server;

	/* env, strings in strs[] */
	const char *client_ip;
	const char *server_domain;
	const char *server_fqdn;
	const char *service;
	uint16_t client_port, server_port;
	uint64_t session_id;
	imap_infer_emit_cb *emit;
	void *ctx;

	/* session */
	bool ended;
	bool blind;
	const char *blind_reason;
	bool logged_in, logged_out;
	bool user_known;
	bool bye_timeout;
	bool client_text;		/* client parser in TEXT mode by us */
	bool text_seen;			/* this TEXT line had a token */
	bool idling;
	/* the client side's TLS, for Login (imap_infer_set_tls()) */
	char tls_protocol[64];
	char tls_cipher[64];
	struct timespec login_time;	/* CLOCK_MONOTONIC */
	char user[IMAP_INFER_USER_MAX + 1];
	size_t user_len;
	bool user_cut;
	bool admin_cut;
	/*
	 * A set arriving in fragments (IMAP_TOKEN_F_MORE): the client's
	 * goes on into slot cfrag_slot of the current command's record,
	 * the server's into sfrag_slot of COPYUID's or [MODIFIED]'s
	 * command, or (SFRAG_VANISHED) into vfrag.  (Placed in padding.)
	 */
	bool cfrag;
	uint8_t cfrag_slot;		/* enum infer_slot */
	uint8_t sfrag;			/* SFRAG_* */
	uint8_t sfrag_slot;		/* enum infer_slot */
	char admin[IMAP_INFER_USER_MAX + 1];
	size_t admin_len;
	struct infer_vfrag *vfrag;	/* malloced while SFRAG_VANISHED */

	/* pending commands */
	struct infer_cmd cmds[IMAP_INFER_INLINE_CMDS];
	struct infer_cmd *overflow;
	unsigned npending;
	size_t rec_bytes;		/* records' malloced bytes, all */
	uint32_t seq;
	uint64_t untracked;
	struct infer_cmd *auth;		/* AUTHENTICATE reading lines */

	struct infer_cur cur;
	struct infer_srv srv;

	/* the selected mailbox, and a running EXPUNGE/MOVE's UIDs */
	struct infer_sel sel;
	struct infer_cmd *head;		/* oldest pending, or NULL */
	struct infer_uids xp;
	uint32_t xp_seq;		/* its command's seq, if xp_active */
	bool xp_active;
	uint64_t uids_unknown;
	/* the running STORE's or FETCH's flag changes */
	struct infer_flagrun fr;
	enum imap_flags_report flag_report;
	uint64_t flags_unknown;
	uint64_t flags_unlearned;
	uint64_t asked;			/* questions of the proxy's own */
	/* the last QUOTA response read, and a QuotaExceed not yet undone */
	struct infer_quota quota;
	bool quota_known;
	bool quota_exceeded;
	char hier_delim;		/* from LIST, LSUB; 0: unknown */
	bool uidplus;			/* the server said UIDPLUS or IMAP4rev2 */
	/* changes nobody in this session made (imap_registry.h) */
	bool feeding;			/* inside a data call */
	bool recheck;			/* woken while feeding */
	bool fx_failed;
	struct infer_foreign *fx;
	struct imap_registry *reg;	/* env's, or fx->own_reg, or NULL */
	/* the subscription list as far as known (subs_*()) */
	struct infer_subs *subs;

	size_t strs_len;
	char strs[];
};

static void client_token(struct imap_parser *, const struct imap_token *);
static void client_frag(struct imap_infer *, const struct imap_token *);
static void client_literal(struct imap_parser *, const char *, size_t);
static void client_line_end(struct imap_parser *);
static void server_token(struct imap_parser *, const struct imap_token *);
static void server_literal(struct imap_parser *, const char *, size_t);
static void server_line_end(struct imap_parser *);
static void fr_news(struct imap_infer *);

static const struct imap_parser_callbacks client_cb = {
	client_token, client_literal, client_line_end,
};

static const struct imap_parser_callbacks server_cb = {
	server_token, server_literal, server_line_end,
};

/* ---- small helpers ---------------------------------------------------- */

static char
ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* S[0..len) equals the NUL-terminated WORD, ASCII case-insensitively. */
static bool
ascii_ieq(const char *s, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (word[i] == '\0' ||
		    ascii_upper(s[i]) != ascii_upper(word[i]))
			return false;
	return word[len] == '\0';
}

/* WORD occurs in S[0..len), ASCII case-insensitively. */
static bool
ascii_icontains(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word), i, j;

	for (i = 0; i + wl <= len; i++) {
		for (j = 0; j < wl; j++)
			if (ascii_upper(s[i + j]) != ascii_upper(word[j]))
				break;
		if (j == wl)
			return true;
	}
	return false;
}

static enum infer_kind
kind_lookup(const char *s, size_t len)
{
	int k;

	for (k = 1; k < INFER_K_COUNT; k++)
		if (ascii_ieq(s, len, kinds[k].name))
			return (enum infer_kind)k;
	return INFER_K_OTHER;
}

/* A number64 (RFC 9208: 0 to 2^63 - 1) atom; false when it is none. */
static bool
parse_u64(const struct imap_token *tok, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t i;

	if (tok->type != IMAP_TOKEN_ATOM || tok->len == 0 ||
	    (tok->flags & IMAP_TOKEN_F_TRUNCATED))
		return false;
	for (i = 0; i < tok->len; i++) {
		if (tok->data[i] < '0' || tok->data[i] > '9' ||
		    v > (UINT64_MAX / 2 - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(tok->data[i] - '0');
	}
	*v_r = v;
	return true;
}

/* A quota resource name (RFC 9208). */
static enum infer_qres
qres_lookup(const struct imap_token *tok)
{
	if (tok->type != IMAP_TOKEN_ATOM)
		return QRES_OTHER;
	if (ascii_ieq(tok->data, tok->len, "STORAGE"))
		return QRES_STORAGE;
	if (ascii_ieq(tok->data, tok->len, "MESSAGE"))
		return QRES_MESSAGE;
	return QRES_OTHER;
}

/* ---- mailbox names ---------------------------------------------------- */

static size_t
utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Modified UTF-7 (RFC 3501 5.1.3) to UTF-8: printable US-ASCII stands
 * for itself except "&", which starts modified base64 ("," for "/", no
 * padding) of UTF-16BE ended by "-"; "&-" is "&".  Returns the UTF-8
 * length, or -1 when IN is not valid modified UTF-7 (bytes >= 0x80 mean
 * the client already sends UTF-8, RFC 9051 / RFC 6855 UTF8=ACCEPT), and
 * the caller then takes the name as it is.  OUT needs 3 bytes for every
 * 2 of IN, plus 4.
 */
static ssize_t
mutf7_decode(const char *in, size_t len, char *out, size_t size)
{
	size_t i = 0, n = 0, start;
	uint32_t acc, hi, u, cp;
	unsigned bits;
	int v;

	while (i < len) {
		if (in[i] != '&') {
			if ((unsigned char)in[i] < 0x20 ||
			    (unsigned char)in[i] > 0x7E || n == size)
				return -1;
			out[n++] = in[i++];
			continue;
		}
		if (++i < len && in[i] == '-') {
			if (n == size)
				return -1;
			out[n++] = '&';
			i++;
			continue;
		}
		acc = 0;
		bits = 0;
		hi = 0;
		for (start = i; i < len && in[i] != '-'; i++) {
			if ((v = sbuf_b64_value((unsigned char)in[i], ',')) < 0)
				return -1;
			acc = acc << 6 | (uint32_t)v;
			bits += 6;
			if (bits < 16)
				continue;
			bits -= 16;
			u = acc >> bits & 0xFFFF;
			if (hi != 0) {
				/* the low half of a surrogate pair */
				if (u < 0xDC00 || u > 0xDFFF)
					return -1;
				cp = 0x10000 + ((hi - 0xD800) << 10) +
				    (u - 0xDC00);
				hi = 0;
			} else if (u >= 0xD800 && u <= 0xDBFF) {
				hi = u;
				continue;
			} else if (u >= 0xDC00 && u <= 0xDFFF)
				return -1;
			else
				cp = u;
			if (size - n < 4)
				return -1;
			n += utf8_put(out + n, cp);
		}
		if (i == len || i == start || hi != 0)
			return -1;	/* unterminated, empty, half a pair */
		i++;			/* the "-" */
	}
	return (ssize_t)n;
}

/*
 * Append the mailbox NAME as an RFC 5092 enc-mailbox: "INBOX" in any
 * case is INBOX (RFC 9051 5.1), then UTF-8 (RFC 5092 3.3 wants the
 * name in UTF-8, not modified UTF-7), then percent-encoded.
 */
static void
sb_mailbox(struct sbuf *sb, const char *name, size_t len)
{
	char utf8[IMAP_INFER_MAILBOX_MAX / 2 * 3 + 8];
	ssize_t n;

	if (ascii_ieq(name, len, "INBOX")) {
		sbuf_adds(sb, "INBOX");
		return;
	}
	n = mutf7_decode(name, len, utf8, sizeof(utf8));
	if (n >= 0)
		sbuf_pct(sb, utf8, (size_t)n, true);
	else
		sbuf_pct(sb, name, len, true);
}

/* "imap://USER@DOMAIN/" (RFC 5092 3), without USER@ when unknown. */
static void
sb_server(struct imap_infer *infer, struct sbuf *sb, const char *user,
    size_t ulen)
{
	sbuf_adds(sb, "imap://");
	if (user != NULL) {
		sbuf_pct(sb, user, ulen, false);
		sbuf_adds(sb, "@");
	}
	sbuf_adds(sb, infer->server_domain);
	sbuf_adds(sb, "/");
}

/* ---- records ---------------------------------------------------------- */

static size_t
rec_size(uint32_t cap)
{
	return sizeof(struct infer_record) + cap;
}

/*
 * A record for CMD with INFER_ARENA_INIT bytes of arena, charged to the
 * session's budget.  False, and no record, when that would exceed
 * IMAP_INFER_RECORD_BYTES_MAX or memory is short.
 */
static bool
rec_new(struct imap_infer *infer, struct infer_cmd *cmd)
{
	size_t size = rec_size(INFER_ARENA_INIT);

	assert(cmd->rec == NULL);
	if (size > IMAP_INFER_RECORD_BYTES_MAX - infer->rec_bytes ||
	    (cmd->rec = calloc(1, size)) == NULL)
		return false;
	cmd->rec->cap = INFER_ARENA_INIT;
	infer->rec_bytes += size;
	return true;
}

static void
rec_free(struct imap_infer *infer, struct infer_cmd *cmd)
{
	if (cmd->rec == NULL)
		return;
	assert(infer->rec_bytes >= rec_size(cmd->rec->cap));
	infer->rec_bytes -= rec_size(cmd->rec->cap);
	free(cmd->rec);
	cmd->rec = NULL;
}

/*
 * CMD's record could not grow: drop it, so that the command completes
 * without events, and count the command as untracked.  Nothing outside
 * the record may keep an offset into it.
 */
static void
rec_drop(struct imap_infer *infer, struct infer_cmd *cmd)
{
	rec_free(infer, cmd);
	infer->untracked++;
	if (infer->cur.cmd == cmd) {
		infer->cur.lit_keep = false;
		infer->cur.msg_kept = false;
	}
	if (infer->srv.cmd == cmd)
		infer->srv.appenduid = false;
	if (infer->srv.copy_cmd == cmd)
		infer->srv.copy_cmd = NULL;
}

/*
 * Room for N more bytes at the end of CMD's arena.  The arena doubles
 * (up to INFER_ARENA_MAX), or grows to the exact need when the budget
 * has no room for the slack.  Returns false when it cannot grow within
 * IMAP_INFER_RECORD_BYTES_MAX (or memory is short): the record is then
 * dropped (rec_drop()).  May move the record: callers re-read cmd->rec.
 */
static bool
rec_reserve(struct imap_infer *infer, struct infer_cmd *cmd, size_t n)
{
	struct infer_record *rec = cmd->rec;
	size_t need = (size_t)rec->used + n, cap = rec->cap, room;

	if (need <= cap)
		return true;
	/* The per-item caps keep every record within INFER_ARENA_MAX. */
	assert(need <= INFER_ARENA_MAX);
	while (cap < need)
		cap *= 2;
	if (cap > INFER_ARENA_MAX)
		cap = INFER_ARENA_MAX;
	room = IMAP_INFER_RECORD_BYTES_MAX - infer->rec_bytes;
	if (cap - rec->cap > room)
		cap = need;
	if (cap - rec->cap > room ||
	    (rec = realloc(rec, rec_size((uint32_t)cap))) == NULL) {
		rec_drop(infer, cmd);
		return false;
	}
	infer->rec_bytes += cap - rec->cap;
	rec->cap = (uint32_t)cap;
	cmd->rec = rec;
	return true;
}

static struct infer_span *
rec_span(struct infer_record *rec, enum infer_slot slot)
{
	switch (slot) {
	case SLOT_USER:
		return &rec->auth.user;
	case SLOT_ADMIN:
		return &rec->auth.admin;
	case SLOT_NAME0:
		return &rec->mb.name[0];
	case SLOT_UIDSET:
		return &rec->mb.uidset;
	case SLOT_SRC:
		return &rec->mb.src;
	case SLOT_DST:
		return &rec->mb.dst;
	case SLOT_SET:
		return &rec->fc.set;
	case SLOT_FLAGS:
		return &rec->fc.flags;
	case SLOT_MODIFIED:
		return &rec->fc.modified;
	case SLOT_NAME1:
	default:
		return &rec->mb.name[1];
	}
}

/* The most bytes name SLOT keeps; a longer one is cut. */
static size_t
slot_cap(enum infer_slot slot)
{
	switch (slot) {
	case SLOT_USER:
	case SLOT_ADMIN:
		return IMAP_INFER_USER_MAX;
	case SLOT_UIDSET:
	case SLOT_SRC:
	case SLOT_DST:
	case SLOT_SET:
	case SLOT_MODIFIED:
		return INFER_SET_MAX;	/* one atom, in fragments */
	case SLOT_FLAGS:
		return IMAP_INFER_FLAGS_MAX;
	default:
		return IMAP_INFER_MAILBOX_MAX;
	}
}

/* Whether SLOT holds a set (read whole from fragments). */
static bool
slot_is_set(enum infer_slot slot)
{
	return slot == SLOT_UIDSET || slot == SLOT_SRC || slot == SLOT_DST ||
	    slot == SLOT_SET || slot == SLOT_MODIFIED;
}

static const char *
span_data(const struct infer_record *rec, const struct infer_span *sp)
{
	return (const char *)rec->arena + sp->off;
}

/* Name SLOT starts, empty, at the arena's end. */
static void
span_start(struct infer_record *rec, enum infer_slot slot)
{
	struct infer_span *sp = rec_span(rec, slot);

	sp->off = rec->used;
	sp->len = 0;
	sp->set = true;
	sp->cut = false;
}

/*
 * Append to name SLOT, the arena's last item, what fits its cap
 * (slot_cap()); a longer name is cut.  The record may be dropped
 * (rec_reserve()).
 */
static void
span_add(struct imap_infer *infer, struct infer_cmd *cmd,
    enum infer_slot slot, const char *data, size_t len)
{
	struct infer_span *sp = rec_span(cmd->rec, slot);
	size_t cap = slot_cap(slot);

	assert(sp->off + sp->len == cmd->rec->used);
	if (len > cap - sp->len) {
		len = cap - sp->len;
		sp->cut = true;
	}
	if (len == 0 || !rec_reserve(infer, cmd, len))
		return;
	sp = rec_span(cmd->rec, slot);
	memcpy(cmd->rec->arena + cmd->rec->used, data, len);
	cmd->rec->used += (uint32_t)len;
	sp->len += (uint32_t)len;
}

/* Name SLOT is DATA (cut, or TRUNC: marked truncated). */
static void
span_set(struct imap_infer *infer, struct infer_cmd *cmd,
    enum infer_slot slot, const char *data, size_t len, bool trunc)
{
	span_start(cmd->rec, slot);
	span_add(infer, cmd, slot, data, len);
	if (trunc && cmd->rec != NULL)
		rec_span(cmd->rec, slot)->cut = true;
}

static uint32_t
msg_align(uint32_t off)
{
	const uint32_t a = _Alignof(struct infer_msg);

	return (off + a - 1) & ~(a - 1);
}

static struct infer_msg *
rec_msg(struct infer_record *rec, uint32_t off)
{
	return (struct infer_msg *)(void *)(rec->arena + off);
}

/* The offset of the message after the one at OFF (and its flags). */
static uint32_t
msg_next(struct infer_record *rec, uint32_t off)
{
	return msg_align(off + (uint32_t)sizeof(struct infer_msg) +
	    rec_msg(rec, off)->flags_len);
}

/* ---- UID sets being collected ----------------------------------------- */

static void
uids_free(struct infer_uids *u)
{
	imap_uidset_clear(&u->set);
	memset(u, 0, sizeof(*u));
}

/* UIDs were lost: the set's cap, memory, or a cut the caller saw. */
static bool
uids_cut(const struct infer_uids *u)
{
	return u->cut || u->set.cut;
}

static bool
uids_empty(const struct infer_uids *u)
{
	return imap_uidset_items(&u->set) == 0;
}

static uint64_t
uids_count(const struct infer_uids *u)
{
	return imap_uidset_count(&u->set);
}

/*
 * Add UIDs FIRST..LAST (FIRST <= LAST), in any order.  Past the cap
 * (IMAP_INFER_UID_ITEMS_MAX: more than any set of UIDs within a span of
 * 130,000 needs) or without memory they are dropped, so what is kept is
 * true, and the set is marked cut.
 */
static void
uids_add(struct infer_uids *u, uint32_t first, uint32_t last)
{
	assert(first <= last);
	if (u->set.max == 0)
		imap_uidset_init(&u->set, IMAP_INFER_UID_ITEMS_MAX);
	(void)imap_uidset_add(&u->set, first, last);
}

/* True if UID is in U. */
static bool
uids_has(const struct infer_uids *u, uint32_t uid)
{
	return imap_uidset_has(&u->set, uid);
}

/* UIDs of U in FIRST..LAST. */
static uint64_t
uids_overlap(const struct infer_uids *u, uint32_t first, uint32_t last)
{
	return imap_uidset_count_in(&u->set, first, last);
}

/* Every maximal range of U, ascending, to CB. */
static int
uids_walk(const struct infer_uids *u, imap_uidset_cb *cb, void *ctx)
{
	return imap_uidset_walk(&u->set, 0, UINT32_MAX, cb, ctx);
}

static bool
uids_walk_add(void *ctx, uint32_t first, uint32_t last)
{
	uids_add(ctx, first, last);
	return true;
}

/*
 * The ranges of a uid-set (RFC 4315 3, no "*") at SET, as sent: a set
 * the parser cut (CUT: longer than IMAP_TOKEN_MAX) is read up to its
 * last whole range, and U is marked cut.  A set that does not parse
 * adds nothing and marks U cut.
 */
static void
uids_add_set(struct infer_uids *u, const char *set, size_t len, bool cut)
{
	if (cut) {
		while (len > 0 && set[len - 1] != ',')
			len--;
		if (len > 0)
			len--;		/* the comma */
		u->cut = true;
	}
	if (len > 0 && imap_set_walk(set, len, 0, UINT32_MAX, uids_walk_add,
	    u) == -1)
		u->cut = true;
}

/* The running EXPUNGE/MOVE's UIDs are done with. */
static void
xp_release(struct imap_infer *infer)
{
	uids_free(&infer->xp);
	infer->xp_active = false;
}

/* The running STORE's or FETCH's flag changes are done with. */
static void
fr_release(struct imap_infer *infer)
{
	struct infer_flagrun *fr = &infer->fr;

	imap_flags_batch_free(&fr->batch);
	uids_free(&fr->done);
	free(fr->pend);
	memset(fr, 0, sizeof(*fr));
}

/* ---- the registry: what this session's commands do to mailboxes ------- */

/*
 * Mailboxes a session of its own may keep in a registry of its own (no
 * registry in the env): its selected mailbox and its commands' targets.
 */
#define INFER_OWN_REG_BOXES	32

/*
 * The state of "changes nobody in this session made", on the heap from
 * the first time it is needed (a command holding a mailbox, new
 * messages, a removal by someone else), so that a session that never
 * meets one costs nothing more.  NULL when that allocation failed (what
 * needed it is then counted as untracked).
 */
static struct infer_foreign *
fx_get(struct imap_infer *infer)
{
	if (infer->fx == NULL && !infer->fx_failed &&
	    (infer->fx = calloc(1, sizeof(*infer->fx))) == NULL) {
		infer->fx_failed = true;
		infer->untracked++;
	}
	return infer->fx;
}

/*
 * The registry (imap_registry.h) this session records in and asks: the
 * proxy's, shared by its sessions, or, when the env gave none, one of
 * its own, made when first needed, so that its own commands still
 * explain what it sees.  NULL when that cannot be made.
 */
static struct imap_registry *
reg_get(struct imap_infer *infer)
{
	struct imap_registry_limits lim;
	struct infer_foreign *fx;

	if (infer->reg == NULL && (fx = fx_get(infer)) != NULL &&
	    !fx->reg_failed) {
		memset(&lim, 0, sizeof(lim));
		lim.boxes_max = INFER_OWN_REG_BOXES;
		if ((fx->own_reg = imap_registry_new(&lim)) == NULL)
			fx->reg_failed = true;
		infer->reg = fx->own_reg;
	}
	return infer->reg;
}

/*
 * Mailbox NAME (raw, as sent) of the logged-in user on this backend,
 * pinned; NULL when the user is unknown or the registry has no room.
 * The backend's address is the last of the env strings.
 */
static struct imap_registry_box *
reg_open(struct imap_infer *infer, const char *name, size_t len)
{
	struct imap_registry_key key;
	struct imap_registry *reg;

	if (!infer->logged_in || !infer->user_known || infer->user_cut ||
	    (reg = reg_get(infer)) == NULL)
		return NULL;
	key.backend = infer->service + strlen(infer->service) + 1;
	key.backend_len = strlen(key.backend);
	key.user = infer->user;
	key.user_len = infer->user_len;
	key.mailbox = name;
	key.mailbox_len = len;
	return imap_registry_open(reg, &key);
}

/*
 * The selected mailbox's entry, opened when first needed and kept until
 * it is no longer selected; NULL when its name or UIDVALIDITY is unknown.
 */
static struct imap_registry_box *
reg_sel_box(struct imap_infer *infer)
{
	struct infer_sel *sel = &infer->sel;
	struct infer_foreign *fx = fx_get(infer);

	if (fx == NULL)
		return NULL;
	if (fx->sel_box == NULL && sel->state == SEL_SELECTED &&
	    sel->name != NULL && !sel->name_cut && sel->uidvalidity_known)
		fx->sel_box = reg_open(infer, sel->name, sel->name_len);
	return fx->sel_box;
}

/* The selected mailbox is left: its entry is closed, nothing waits on it. */
static void
reg_sel_close(struct imap_infer *infer)
{
	struct infer_foreign *fx = infer->fx;

	if (fx == NULL || infer->reg == NULL)
		return;
	imap_registry_unwait(infer->reg, &fx->waiter);
	imap_registry_close(infer->reg, &fx->sel_box);
}

/* C, if a SELECT or EXAMINE issued before CMD, and later than *BEST. */
static void
reg_select_pick(const struct infer_cmd *c, const struct infer_cmd *cmd,
    const struct infer_cmd **best)
{
	if (c->used && !c->uid && (c->kind == INFER_K_SELECT ||
	    c->kind == INFER_K_EXAMINE) && (int32_t)(c->seq - cmd->seq) < 0 &&
	    (*best == NULL || (int32_t)(c->seq - (*best)->seq) > 0))
		*best = c;
}

/*
 * The mailbox CMD (EXPUNGE, CLOSE, MOVE) removes messages from when the
 * server runs it: the one a SELECT pipelined before it selects, else
 * the selected one.  False when unknown or read-only (nothing goes).
 */
static bool
reg_source(struct imap_infer *infer, const struct infer_cmd *cmd,
    const char **name_r, size_t *len_r)
{
	const struct infer_cmd *best = NULL, *c;
	const struct infer_span *name;
	size_t i;

	for (i = 0; i < IMAP_INFER_INLINE_CMDS; i++)
		reg_select_pick(&infer->cmds[i], cmd, &best);
	for (c = infer->overflow; c != NULL; c = c->next)
		reg_select_pick(c, cmd, &best);
	if (best != NULL) {
		if (best->kind == INFER_K_EXAMINE || best->rec == NULL ||
		    !best->complete || !best->rec->mb.name[0].set ||
		    best->rec->mb.name[0].cut)
			return false;
		name = &best->rec->mb.name[0];
		*name_r = span_data(best->rec, name);
		*len_r = name->len;
		return true;
	}
	if (infer->sel.state != SEL_SELECTED || infer->sel.name == NULL ||
	    infer->sel.name_cut || infer->sel.read_only)
		return false;
	*name_r = infer->sel.name;
	*len_r = infer->sel.name_len;
	return true;
}

/* Mailbox NAME held for command SEQ in DIR (a pin of its own). */
static void
reg_hold(struct imap_infer *infer, uint32_t seq, enum imap_registry_dir dir,
    const char *name, size_t len)
{
	struct infer_foreign *fx = fx_get(infer);
	struct infer_hold *h;
	uint32_t alloc;

	if (fx == NULL)
		return;
	if (fx->nholds == fx->aholds) {
		/* at most two per pending command (IMAP_INFER_PENDING_MAX) */
		alloc = fx->aholds == 0 ? 4 : fx->aholds * 2;
		if ((h = realloc(fx->holds, alloc * sizeof(*h))) == NULL) {
			infer->untracked++;
			return;
		}
		fx->holds = h;
		fx->aholds = alloc;
	}
	h = &fx->holds[fx->nholds];
	if ((h->box = reg_open(infer, name, len)) == NULL)
		return;
	h->seq = seq;
	h->dir = (uint8_t)dir;
	imap_registry_hold(infer->reg, h->box, dir);
	fx->nholds++;
}

/*
 * CMD's line was read whole, before the server can run it: the
 * mailboxes it may add messages to (APPEND, COPY, MOVE: the
 * destination) or remove them from (EXPUNGE, UID EXPUNGE, CLOSE, MOVE:
 * the source) are held in the registry until its completion
 * (reg_cmd_release()), so that another session that sees the change
 * first waits for what this one will record.  A session alone (a
 * registry of its own) holds nothing: the server answers it in order,
 * so the UIDs of a change of its own reach it only after the command's
 * completion recorded them, and removals while an expunge of its own
 * is pending are that expunge's (xp_collect()).
 */
static void
reg_cmd_hold(struct imap_infer *infer, struct infer_cmd *cmd)
{
	const struct infer_record *rec = cmd->rec;
	const struct infer_span *name;
	const char *src;
	size_t len;

	if (infer->reg == NULL ||
	    (infer->fx != NULL && infer->reg == infer->fx->own_reg))
		return;
	if ((cmd->kind == INFER_K_APPEND && !cmd->uid) ||
	    cmd->kind == INFER_K_COPY || cmd->kind == INFER_K_MOVE) {
		if (rec != NULL && rec->mb.name[0].set &&
		    !rec->mb.name[0].cut) {
			name = &rec->mb.name[0];
			reg_hold(infer, cmd->seq, IMAP_REGISTRY_ADD,
			    span_data(rec, name), name->len);
		}
	}
	if ((cmd->kind == INFER_K_EXPUNGE || cmd->kind == INFER_K_MOVE ||
	    (cmd->kind == INFER_K_CLOSE && !cmd->uid)) &&
	    reg_source(infer, cmd, &src, &len))
		reg_hold(infer, cmd->seq, IMAP_REGISTRY_REMOVE, src, len);
}

/*
 * CMD is done (or its session): its holds go.  What it changed was
 * recorded before (reg_note_*()), so waiters woken here find it.  A
 * release may call back into sessions waiting (this one included:
 * foreign_wake()).
 */
static void
reg_cmd_release(struct imap_infer *infer, struct infer_cmd *cmd)
{
	struct infer_foreign *fx = infer->fx;
	struct infer_hold h;
	uint32_t i = 0;

	while (fx != NULL && i < fx->nholds) {
		if (fx->holds[i].seq != cmd->seq) {
			i++;
			continue;
		}
		h = fx->holds[i];
		fx->holds[i] = fx->holds[--fx->nholds];
		imap_registry_release(infer->reg, h.box,
		    (enum imap_registry_dir)h.dir);
		imap_registry_close(infer->reg, &h.box);
	}
}

/*
 * OK to APPEND CMD: its messages came in, by UID with APPENDUID (RFC
 * 4315 3); without it the mailbox's additions go blind for a while (no
 * MessageNew from the sessions that see them arrive rather than a false
 * one).
 */
static void
reg_note_append(struct imap_infer *infer, struct infer_cmd *cmd)
{
	struct infer_record *rec = cmd->rec;
	const struct infer_mbox *mb = &rec->mb;
	const struct infer_msg *m;
	struct imap_registry_box *box;
	uint32_t off = mb->msg_first, unknown = 0;
	unsigned i;

	if (!mb->name[0].set || mb->name[0].cut || (box = reg_open(infer,
	    span_data(rec, &mb->name[0]), mb->name[0].len)) == NULL)
		return;
	for (i = 0; i < mb->nmsg; i++, off = msg_next(rec, off)) {
		m = rec_msg(rec, off);
		if (mb->appenduid && m->has_uid)
			imap_registry_record(infer->reg, box, mb->uidvalidity,
			    IMAP_REGISTRY_ADD, m->uid, m->uid);
		else
			unknown++;
	}
	imap_registry_blind(infer->reg, box,
	    mb->appenduid ? mb->uidvalidity : 0, IMAP_REGISTRY_ADD, unknown);
	imap_registry_close(infer->reg, &box);
}

/* imap_registry_record() of each range of a set, for uids_walk(). */
struct reg_rec {
	struct imap_infer *infer;
	struct imap_registry_box *box;
	uint32_t uidvalidity;
	enum imap_registry_dir dir;
};

static bool
reg_rec_range(void *ctx, uint32_t first, uint32_t last)
{
	struct reg_rec *r = ctx;

	imap_registry_record(r->infer->reg, r->box, r->uidvalidity, r->dir,
	    first, last);
	return true;
}

/*
 * OK to COPY or MOVE CMD: DST, COPYUID's destination UIDs, came in.
 * Without COPYUID (no UIDPLUS) the destination's additions go blind for
 * a while, as for an APPEND without APPENDUID.
 */
static void
reg_note_copy(struct imap_infer *infer, struct infer_cmd *cmd,
    const struct infer_uids *dst)
{
	const struct infer_record *rec = cmd->rec;
	const struct infer_span *name = &rec->mb.name[0];
	struct imap_registry_box *box;
	struct reg_rec r;

	if (!name->set || name->cut ||
	    (box = reg_open(infer, span_data(rec, name), name->len)) == NULL)
		return;
	if (!rec->mb.copyuid || uids_cut(dst))
		imap_registry_blind(infer->reg, box, rec->mb.copyuid ?
		    rec->mb.uidvalidity : 0, IMAP_REGISTRY_ADD, 1);
	if (rec->mb.copyuid) {
		r.infer = infer;
		r.box = box;
		r.uidvalidity = rec->mb.uidvalidity;
		r.dir = IMAP_REGISTRY_ADD;
		(void)uids_walk(dst, reg_rec_range, &r);
	}
	imap_registry_close(infer->reg, &box);
}

/*
 * This session's EXPUNGE, UID EXPUNGE, CLOSE or MOVE removed U from
 * the selected mailbox (when the UIDs of some were unknown, removals go
 * blind for a while).
 */
static void
reg_note_removed(struct imap_infer *infer, const struct infer_uids *u)
{
	struct imap_registry_box *box;
	uint32_t uv = infer->sel.uidvalidity;
	struct reg_rec r;

	if ((uids_empty(u) && u->unknown == 0) ||
	    (box = reg_sel_box(infer)) == NULL)
		return;
	r.infer = infer;
	r.box = box;
	r.uidvalidity = uv;
	r.dir = IMAP_REGISTRY_REMOVE;
	(void)uids_walk(u, reg_rec_range, &r);
	imap_registry_blind(infer->reg, box, uv, IMAP_REGISTRY_REMOVE,
	    u->unknown);
}

/* ---- pending commands -------------------------------------------------- */

static struct infer_cmd *
cmd_add(struct imap_infer *infer, const char *tag, size_t tag_len)
{
	struct infer_cmd *cmd = NULL;
	size_t i;

	assert(tag_len <= IMAP_INFER_TAG_MAX);
	if (infer->npending >= IMAP_INFER_PENDING_MAX)
		return NULL;
	for (i = 0; i < IMAP_INFER_INLINE_CMDS; i++) {
		if (!infer->cmds[i].used) {
			cmd = &infer->cmds[i];
			memset(cmd, 0, sizeof(*cmd));
			break;
		}
	}
	if (cmd == NULL) {
		if ((cmd = calloc(1, sizeof(*cmd))) == NULL)
			return NULL;
		cmd->heap = true;
		cmd->next = infer->overflow;
		infer->overflow = cmd;
	}
	cmd->used = true;
	cmd->seq = infer->seq++;
	cmd->tag_len = (uint8_t)tag_len;
	memcpy(cmd->tag, tag, tag_len);
	if (infer->npending++ == 0)
		infer->head = cmd;
	return cmd;
}

/*
 * The oldest pending command: the one the server is working on, since
 * servers answer in order what they may not run concurrently (RFC 9051
 * 5.5), and run nothing concurrently that affects the selected mailbox
 * (an EXPUNGE response is not sent during FETCH, STORE or SEARCH: 7.5.1).
 * Untagged data belongs to it.  NULL when nothing is pending.
 */
static struct infer_cmd *
cmd_head(struct imap_infer *infer)
{
	struct infer_cmd *cmd;
	size_t i;

	if (infer->head != NULL || infer->npending == 0)
		return infer->head;
	for (i = 0; i < IMAP_INFER_INLINE_CMDS; i++) {
		cmd = &infer->cmds[i];
		if (cmd->used && (infer->head == NULL ||
		    (int32_t)(cmd->seq - infer->head->seq) < 0))
			infer->head = cmd;
	}
	for (cmd = infer->overflow; cmd != NULL; cmd = cmd->next)
		if (infer->head == NULL ||
		    (int32_t)(cmd->seq - infer->head->seq) < 0)
			infer->head = cmd;
	return infer->head;
}

static bool
cmd_is(const struct infer_cmd *cmd, const char *tag, size_t tag_len)
{
	return cmd->used && cmd->tag_len == tag_len &&
	    memcmp(cmd->tag, tag, tag_len) == 0;
}

/* The oldest pending command with TAG, or NULL. */
static struct infer_cmd *
cmd_find(struct imap_infer *infer, const char *tag, size_t tag_len)
{
	struct infer_cmd *best = NULL, *cmd;
	size_t i;

	if (tag_len > IMAP_INFER_TAG_MAX)
		return NULL;
	for (i = 0; i < IMAP_INFER_INLINE_CMDS; i++) {
		cmd = &infer->cmds[i];
		if (cmd_is(cmd, tag, tag_len) && (best == NULL ||
		    (int32_t)(cmd->seq - best->seq) < 0))
			best = cmd;
	}
	for (cmd = infer->overflow; cmd != NULL; cmd = cmd->next)
		if (cmd_is(cmd, tag, tag_len) && (best == NULL ||
		    (int32_t)(cmd->seq - best->seq) < 0))
			best = cmd;
	return best;
}

static void
cmd_done(struct imap_infer *infer, struct infer_cmd *cmd)
{
	struct infer_cmd **pp;

	rec_free(infer, cmd);
	reg_cmd_release(infer, cmd);
	if (infer->auth == cmd)
		infer->auth = NULL;
	if (infer->cur.cmd == cmd)
		infer->cur.cmd = NULL;
	if (infer->srv.cmd == cmd)
		infer->srv.cmd = NULL;
	if (infer->srv.copy_cmd == cmd)
		infer->srv.copy_cmd = NULL;
	if (infer->head == cmd)
		infer->head = NULL;
	if (infer->xp_active && infer->xp_seq == cmd->seq)
		xp_release(infer);
	if (infer->fr.active && infer->fr.seq == cmd->seq)
		fr_release(infer);
	infer->npending--;
	if (!cmd->heap) {
		memset(cmd, 0, sizeof(*cmd));
		return;
	}
	for (pp = &infer->overflow; *pp != cmd; pp = &(*pp)->next)
		assert(*pp != NULL);
	*pp = cmd->next;
	free(cmd);
}

/* ---- events ------------------------------------------------------------ */

static void
ev_emit(struct imap_infer *infer, const struct msgevent *ev)
{
	if (infer->emit != NULL)
		infer->emit(infer->ctx, ev);
}

/*
 * The parameters every event of the session carries (INTERFACE.md
 * "Events"); SERVER adds serverDomain/serverPort (Login, Logout).
 */
static void
ev_common(struct imap_infer *infer, struct msgevent *ev, bool server)
{
	msgevent_set_str(ev, MSGEVENT_P_CLIENT_IP, infer->client_ip);
	msgevent_set_uint(ev, MSGEVENT_P_CLIENT_PORT, infer->client_port);
	msgevent_set_str(ev, MSGEVENT_P_SERVICE, infer->service);
	msgevent_set_str(ev, MSGEVENT_P_SERVER_FQDN, infer->server_fqdn);
	if (server) {
		msgevent_set_str(ev, MSGEVENT_P_SERVER_DOMAIN,
		    infer->server_domain);
		msgevent_set_uint(ev, MSGEVENT_P_SERVER_PORT,
		    infer->server_port);
	}
	msgevent_set_uint(ev, MSGEVENT_P_SESSION, infer->session_id);
}

/* The logged-in user and admin, and uri/mailboxID's "USER@". */
static void
ev_session_user(struct imap_infer *infer, struct msgevent *ev)
{
	if (!infer->user_known)
		return;
	msgevent_set(ev, MSGEVENT_P_USER, infer->user, infer->user_len);
	if (infer->admin_len > 0)
		msgevent_set(ev, MSGEVENT_P_ADMIN, infer->admin,
		    infer->admin_len);
	if (infer->user_cut || infer->admin_cut)
		ev->truncated = true;
}

static const char *
session_user(struct imap_infer *infer, size_t *len_r)
{
	*len_r = infer->user_len;
	return infer->user_known ? infer->user : NULL;
}

static void
ev_set_sb(struct msgevent *ev, enum msgevent_param p, const struct sbuf *sb)
{
	msgevent_set(ev, p, sb->p, sb->len);
	if (sb->cut)
		ev->truncated = true;
}

static void
emit_logout(struct imap_infer *infer, enum imap_infer_end reason)
{
	static const char *const reasons[] = {
		[IMAP_INFER_END_GRACEFUL] = "graceful",
		[IMAP_INFER_END_ABORT] = "abort",
		[IMAP_INFER_END_TIMEOUT] = "timeout",
		[IMAP_INFER_END_CLOSED] = "closed",
	};
	struct msgevent ev;
	struct timespec now;
	char buf[MSGEVENT_VALUE_SPACE];
	struct sbuf sb;
	const char *user;
	size_t ulen;
	int64_t ms;

	assert((size_t)reason < sizeof(reasons) / sizeof(reasons[0]));
	if (!infer->logged_in || infer->logged_out)
		return;
	infer->logged_out = true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(now.tv_sec - infer->login_time.tv_sec) * 1000 +
	    (now.tv_nsec - infer->login_time.tv_nsec) / 1000000;
	msgevent_init(&ev, MSGEVENT_LOGOUT);
	ev_common(infer, &ev, true);
	ev_session_user(infer, &ev);
	user = session_user(infer, &ulen);
	sbuf_init(&sb, buf, sizeof(buf));
	sb_server(infer, &sb, user, ulen);
	ev_set_sb(&ev, MSGEVENT_P_URI, &sb);
	msgevent_set_str(&ev, MSGEVENT_P_REASON, reasons[reason]);
	msgevent_set_uint(&ev, MSGEVENT_P_DURATION, ms > 0 ? (uint64_t)ms : 0);
	ev_emit(infer, &ev);
}

/*
 * Login (OK) or vnd.msgeventd.LoginFailure (NO/BAD) for a LOGIN or
 * AUTHENTICATE: the user names come from the command's record.
 */
static void
emit_login(struct imap_infer *infer, struct infer_cmd *cmd, bool ok)
{
	const struct infer_record *rec = cmd->rec;
	const struct infer_auth *a = rec != NULL ? &rec->auth : NULL;
	struct msgevent ev;
	char buf[MSGEVENT_VALUE_SPACE];
	struct sbuf sb;
	const char *user = NULL, *admin = NULL;
	size_t ulen = 0, alen = 0;
	bool cut = false;

	/* An empty name is no name (RFC 5092 enc-user is 1*achar). */
	if (a != NULL && a->user.set && a->user.len > 0) {
		user = span_data(rec, &a->user);
		ulen = a->user.len;
		cut = a->user.cut;
		if (a->admin.set && a->admin.len > 0) {
			admin = span_data(rec, &a->admin);
			alen = a->admin.len;
			cut = cut || a->admin.cut;
		}
	}
	if (ok) {
		infer->logged_in = true;
		infer->logged_out = false;
		clock_gettime(CLOCK_MONOTONIC, &infer->login_time);
		infer->user_known = user != NULL;
		infer->user_len = ulen;
		infer->user_cut = a != NULL && a->user.cut;
		if (ulen > 0)
			memcpy(infer->user, user, ulen);
		infer->user[ulen] = '\0';
		infer->admin_len = alen;
		infer->admin_cut = admin != NULL && a->admin.cut;
		if (alen > 0)
			memcpy(infer->admin, admin, alen);
		infer->admin[alen] = '\0';
	}
	msgevent_init(&ev, ok ? MSGEVENT_LOGIN : MSGEVENT_LOGIN_FAILURE);
	ev_common(infer, &ev, ok);
	if (user != NULL) {
		msgevent_set(&ev, MSGEVENT_P_USER, user, ulen);
		if (admin != NULL)
			msgevent_set(&ev, MSGEVENT_P_ADMIN, admin, alen);
		if (cut)
			ev.truncated = true;
	}
	sbuf_init(&sb, buf, sizeof(buf));
	sb_server(infer, &sb, user, ulen);
	ev_set_sb(&ev, MSGEVENT_P_URI, &sb);
	if (cmd->kind == INFER_K_AUTHENTICATE && a != NULL)
		msgevent_set(&ev, MSGEVENT_P_MECHANISM, a->mech, a->mech_len);
	if (ok && infer->tls_protocol[0] != '\0')
		msgevent_set_str(&ev, MSGEVENT_P_TLS_PROTOCOL,
		    infer->tls_protocol);
	if (ok && infer->tls_cipher[0] != '\0')
		msgevent_set_str(&ev, MSGEVENT_P_TLS_CIPHER, infer->tls_cipher);
	if (!ok) {
		if (infer->srv.code_len > 0)
			msgevent_set(&ev, MSGEVENT_P_RESPONSE_CODE,
			    infer->srv.code, infer->srv.code_len);
		else
			msgevent_set_str(&ev, MSGEVENT_P_RESPONSE_CODE,
			    infer->srv.status == ST_NO ? "NO" : "BAD");
	}
	ev_emit(infer, &ev);
}

/* ---- the subscription list --------------------------------------------- */

/*
 * SUBSCRIBE of a mailbox already subscribed, or UNSUBSCRIBE of one that
 * is not, is answered OK and changes nothing (Dovecot's
 * mailbox_set_subscribed() returns at once, and its push-notification
 * record has no event).  The server does not say which it was, so a
 * session reports MailboxSubscribe (MailboxUnSubscribe) unless it knows
 * the mailbox's state before, from what passed through it:
 *
 * - an LSUB response (RFC 3501 6.3.9, 7.2.3): subscribed; but one with
 *   \Noselect may be only the parent of subscribed names ("%"), so it
 *   tells nothing unless the LSUB listed every subscription;
 * - a LIST response (RFC 5258 3): \Subscribed says subscribed; without
 *   it, in reply to a LIST that asked for it (the SUBSCRIBED selection
 *   or return option), not subscribed;
 * - a full listing, LSUB "" "*" or LIST (SUBSCRIBED) "" "*" answered OK:
 *   every name it did not list is not subscribed;
 * - this session's own SUBSCRIBE and UNSUBSCRIBE answered OK.
 *
 * Another session's change after that goes unseen (the server tells no
 * one), so what a session knows may be stale.  DELETE and RENAME make
 * the names they touch unknown again: servers differ on whether
 * subscriptions follow them (Dovecot keeps them where they were).
 *
 * The names, raw as the server or the client spelt them, are records in
 * one buffer of IMAP_INFER_SUBS_BYTES, oldest first: the state, a mark
 * (listed by the full listing being read), two bytes of length, the
 * name.  When it is full the oldest are forgotten.  INBOX, and INBOX
 * before the hierarchy delimiter, compare without regard to case (RFC
 * 9051 5.1).
 */
enum subs_state {
	SUBS_UNKNOWN,
	SUBS_YES,
	SUBS_NO,
};

#define SUBS_HDR	4
#define SUBS_NAME_MAX	(IMAP_INFER_SUBS_BYTES / 4)

/* LIST, LSUB commands (struct infer_cmd's list) */
#define LISTF_SUBSTATE	0x01	/* asked for \Subscribed (RFC 5258 3) */
#define LISTF_SUBSEL	0x02	/* the SUBSCRIBED selection option */
#define LISTF_REF_EMPTY	0x04	/* reference "" */
#define LISTF_ALL	0x08	/* mailbox pattern "*" */
#define LISTF_ODD	0x10	/* other patterns or arguments */

/* Which list of a LIST command is being read (struct infer_cur). */
enum list_in {
	LIST_IN_NONE,
	LIST_IN_SELECT,		/* selection options (RFC 5258 3) */
	LIST_IN_PATTERNS,	/* several mailbox patterns */
	LIST_IN_RETURN,		/* return options */
	LIST_IN_OTHER,
};

/* The session's knowledge, on the heap once it has any. */
struct infer_subs {
	uint32_t used;			/* bytes of records in buf */
	uint32_t listing_seq;		/* the full listing's command */
	bool complete;			/* a name not kept is not subscribed */
	bool listing;			/* a full listing is being read */
	bool listing_cut;		/* ... and a name of it was lost */
	unsigned char buf[IMAP_INFER_SUBS_BYTES];
};

/* Names A and B are the same mailbox's. */
static bool
subs_same(const struct imap_infer *infer, const char *a, size_t alen,
    const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	if (alen >= 5 && ascii_ieq(a, 5, "INBOX") && ascii_ieq(b, 5, "INBOX") &&
	    (alen == 5 || (infer->hier_delim != '\0' &&
	    a[5] == infer->hier_delim)))
		return memcmp(a + 5, b + 5, alen - 5) == 0;
	return memcmp(a, b, alen) == 0;
}

static size_t
subs_rec_len(const unsigned char *p)
{
	return SUBS_HDR + ((size_t)p[2] | (size_t)p[3] << 8);
}

static unsigned char *
subs_end(struct imap_infer *infer)
{
	return infer->subs->buf + infer->subs->used;
}

static bool
subs_alloc(struct imap_infer *infer)
{
	if (infer->subs == NULL)
		infer->subs = calloc(1, sizeof(*infer->subs));
	return infer->subs != NULL;
}

/* The record of NAME, or NULL. */
static unsigned char *
subs_find(struct imap_infer *infer, const char *name, size_t len)
{
	unsigned char *p;

	if (infer->subs == NULL)
		return NULL;
	for (p = infer->subs->buf; p < subs_end(infer); p += subs_rec_len(p))
		if (subs_same(infer, name, len, (const char *)p + SUBS_HDR,
		    subs_rec_len(p) - SUBS_HDR))
			return p;
	return NULL;
}

/* What a name not kept reads as. */
static enum subs_state
subs_absent(const struct imap_infer *infer)
{
	return infer->subs != NULL && infer->subs->complete ? SUBS_NO :
	    SUBS_UNKNOWN;
}

/* What the session knows of NAME's subscription. */
static enum subs_state
subs_get(struct imap_infer *infer, const char *name, size_t len)
{
	const unsigned char *p = subs_find(infer, name, len);

	return p != NULL ? (enum subs_state)p[0] : subs_absent(infer);
}

static void
subs_remove(struct imap_infer *infer, unsigned char *p)
{
	size_t n = subs_rec_len(p);

	memmove(p, p + n, (size_t)(subs_end(infer) - p) - n);
	infer->subs->used -= (uint32_t)n;
}

/* A name's state could not be kept: absent names read as unknown. */
static void
subs_lost(struct imap_infer *infer)
{
	if (infer->subs == NULL)
		return;
	infer->subs->complete = false;
	if (infer->subs->listing)
		infer->subs->listing_cut = true;
}

/* Nothing is known any more. */
static void
subs_clear(struct imap_infer *infer)
{
	if (infer->subs == NULL)
		return;
	infer->subs->used = 0;
	subs_lost(infer);
}

/*
 * NAME's subscription is STATE now; MARK: the full listing being read
 * listed it.  The oldest names make room.
 */
static void
subs_set(struct imap_infer *infer, const char *name, size_t len,
    enum subs_state state, bool mark)
{
	unsigned char *p;

	if ((p = subs_find(infer, name, len)) != NULL) {
		p[0] = (unsigned char)state;
		if (mark)
			p[1] = 1;
		return;
	}
	if (state == subs_absent(infer))
		return;
	if (len > SUBS_NAME_MAX || !subs_alloc(infer)) {
		subs_lost(infer);
		return;
	}
	while (IMAP_INFER_SUBS_BYTES - infer->subs->used < SUBS_HDR + len) {
		subs_remove(infer, infer->subs->buf);
		subs_lost(infer);
	}
	p = subs_end(infer);
	p[0] = (unsigned char)state;
	p[1] = mark;
	p[2] = (unsigned char)(len & 0xff);
	p[3] = (unsigned char)(len >> 8);
	memcpy(p + SUBS_HDR, name, len);
	infer->subs->used += (uint32_t)(SUBS_HDR + len);
}

/*
 * DELETE or RENAME (SUBTREE: with the names below it) touched NAME:
 * its subscription is unknown now.  After a RENAME the names below the
 * new one may be subscribed too, so a full listing no longer holds.
 */
static void
subs_forget(struct imap_infer *infer, const char *name, size_t len,
    bool subtree)
{
	unsigned char *p;
	size_t klen;

	if (infer->subs == NULL)
		return;
	if (subtree) {
		infer->subs->complete = false;
		if (infer->hier_delim == '\0') {
			subs_clear(infer);	/* which are below it? */
			return;
		}
	}
	for (p = infer->subs->buf; p < subs_end(infer); ) {
		klen = subs_rec_len(p) - SUBS_HDR;
		if (subs_same(infer, name, len, (const char *)p + SUBS_HDR,
		    klen) || (subtree && klen > len &&
		    p[SUBS_HDR + len] == (unsigned char)infer->hier_delim &&
		    subs_same(infer, name, len, (const char *)p + SUBS_HDR,
		    len)))
			subs_remove(infer, p);
		else
			p += subs_rec_len(p);
	}
	if (infer->subs->complete)
		subs_set(infer, name, len, SUBS_UNKNOWN, false);
}

/*
 * CMD (LIST or LSUB) lists every subscription: LSUB "" "*", or LIST
 * (SUBSCRIBED) "" "*" (RFC 5258 3.1).
 */
static bool
list_full(const struct infer_cmd *cmd)
{
	return !cmd->uid && cmd->complete && (cmd->kind == INFER_K_LSUB ||
	    (cmd->kind == INFER_K_LIST && (cmd->list & LISTF_SUBSEL))) &&
	    (cmd->list & (LISTF_REF_EMPTY | LISTF_ALL | LISTF_ODD)) ==
	    (LISTF_REF_EMPTY | LISTF_ALL);
}

/* The full listing of command SEQ is being read. */
static bool
subs_listing_of(const struct imap_infer *infer, uint32_t seq)
{
	return infer->subs != NULL && infer->subs->listing &&
	    infer->subs->listing_seq == seq;
}

/* The full listing CMD starts: no name is marked listed yet. */
static void
subs_listing_start(struct imap_infer *infer, const struct infer_cmd *cmd)
{
	unsigned char *p;

	if (!subs_alloc(infer))
		return;
	for (p = infer->subs->buf; p < subs_end(infer); p += subs_rec_len(p))
		p[1] = 0;
	infer->subs->listing = true;
	infer->subs->listing_cut = false;
	infer->subs->listing_seq = cmd->seq;
}

/*
 * The full listing ended, with OK or not.  After OK, a name it did not
 * list is not subscribed: such records go, and, when no listed name was
 * lost, the list is complete (a name not kept is not subscribed).
 */
static void
subs_listing_end(struct imap_infer *infer, bool ok)
{
	unsigned char *p;

	infer->subs->listing = false;
	if (!ok)
		return;
	for (p = infer->subs->buf; p < subs_end(infer); ) {
		if (p[1] == 0)
			subs_remove(infer, p);
		else
			p += subs_rec_len(p);
	}
	infer->subs->complete = !infer->subs->listing_cut;
}

/*
 * A LIST or LSUB response's mailbox name (NULL: a literal, not read;
 * CUT: cut short), its attributes read before it (struct infer_srv).
 */
static void
subs_listed(struct imap_infer *infer, const char *name, size_t len,
    bool cut)
{
	struct infer_srv *srv = &infer->srv;
	struct infer_cmd *head = cmd_head(infer);
	uint8_t lf = 0;
	bool full = false;
	enum subs_state st = SUBS_UNKNOWN;

	if (head != NULL && !head->uid && (head->kind == INFER_K_LIST ||
	    head->kind == INFER_K_LSUB)) {
		lf = head->list;
		full = list_full(head) && (head->kind == INFER_K_LSUB) ==
		    srv->list_lsub;
	}
	if (full && !subs_listing_of(infer, head->seq))
		subs_listing_start(infer, head);
	if (name == NULL || cut) {
		if (full)
			subs_lost(infer);
		return;
	}
	if (srv->list_lsub) {
		if (!srv->list_noselect || full)
			st = SUBS_YES;
	} else if (srv->list_subscribed)
		st = SUBS_YES;
	else if (lf & LISTF_SUBSTATE)
		st = SUBS_NO;
	if (st != SUBS_UNKNOWN)
		subs_set(infer, name, len, st, full && st == SUBS_YES);
}

/*
 * SUBSCRIBE, UNSUBSCRIBE, DELETE or RENAME CMD was answered OK: the
 * session's knowledge follows.  False when its event would report no
 * change: SUBSCRIBE of a mailbox known to be subscribed, UNSUBSCRIBE of
 * one known not to be.
 */
static bool
subs_learn(struct imap_infer *infer, const struct infer_cmd *cmd)
{
	const struct infer_record *rec = cmd->rec;
	const struct infer_span *n0 = &rec->mb.name[0], *n1 = &rec->mb.name[1];
	enum subs_state want, was;

	switch (cmd->kind) {
	case INFER_K_SUBSCRIBE:
		want = SUBS_YES;
		break;
	case INFER_K_UNSUBSCRIBE:
		want = SUBS_NO;
		break;
	case INFER_K_DELETE:
		if (n0->cut)
			subs_clear(infer);
		else
			subs_forget(infer, span_data(rec, n0), n0->len, false);
		return true;
	case INFER_K_RENAME:
		if (n0->cut || !n1->set || n1->cut) {
			subs_clear(infer);
			return true;
		}
		subs_forget(infer, span_data(rec, n0), n0->len, true);
		subs_forget(infer, span_data(rec, n1), n1->len, true);
		return true;
	default:
		return true;
	}
	if (n0->cut)
		return true;	/* not known whole: a change, for all we know */
	was = subs_get(infer, span_data(rec, n0), n0->len);
	subs_set(infer, span_data(rec, n0), n0->len, want, false);
	return was != want;
}

/*
 * CREATE's mailbox URL.  RFC 9051 6.3.4: a name ending in the hierarchy
 * delimiter declares that names are to be created under it, and the
 * server creates the name without it ("CREATE Foo." makes "Foo"), so
 * one trailing delimiter is left out - once a LIST or LSUB response
 * told this session the delimiter (RFC 9051 6.3.9: LIST "" "").  Before
 * that the name goes as sent.
 */
static void
sb_create_url(struct imap_infer *infer, struct sbuf *sb,
    const struct infer_record *rec)
{
	const struct infer_span *name = &rec->mb.name[0];
	const char *s = span_data(rec, name), *user;
	size_t len = name->len, ulen;

	if (infer->hier_delim != '\0' && !name->cut && len > 1 &&
	    s[len - 1] == infer->hier_delim)
		len--;
	user = session_user(infer, &ulen);
	sb_server(infer, sb, user, ulen);
	sb_mailbox(sb, s, len);
	if (name->cut)
		sb->cut = true;
}

/* "imap://USER@DOMAIN/MAILBOX" for name I of the record. */
static void
sb_mailbox_url(struct imap_infer *infer, struct sbuf *sb,
    const struct infer_record *rec, int i)
{
	const struct infer_span *name = &rec->mb.name[i];
	const char *user;
	size_t ulen;

	user = session_user(infer, &ulen);
	sb_server(infer, sb, user, ulen);
	sb_mailbox(sb, span_data(rec, name), name->len);
	if (name->cut)
		sb->cut = true;
}

static void
emit_mailbox(struct imap_infer *infer, struct infer_cmd *cmd)
{
	const struct infer_record *rec = cmd->rec;
	const struct infer_mbox *mb = &rec->mb;
	enum msgevent_type type;
	struct msgevent ev;
	char buf[MSGEVENT_VALUE_SPACE];
	struct sbuf sb;

	switch (cmd->kind) {
	case INFER_K_CREATE:
		type = MSGEVENT_MAILBOX_CREATE;
		break;
	case INFER_K_DELETE:
		type = MSGEVENT_MAILBOX_DELETE;
		break;
	case INFER_K_RENAME:
		type = MSGEVENT_MAILBOX_RENAME;
		break;
	case INFER_K_SUBSCRIBE:
		type = MSGEVENT_MAILBOX_SUBSCRIBE;
		break;
	default:
		type = MSGEVENT_MAILBOX_UNSUBSCRIBE;
		break;
	}
	if (!mb->name[0].set ||
	    (type == MSGEVENT_MAILBOX_RENAME && !mb->name[1].set))
		return;
	if (!subs_learn(infer, cmd))
		return;		/* already (un)subscribed: no change */
	msgevent_init(&ev, type);
	ev_common(infer, &ev, false);
	ev_session_user(infer, &ev);
	if (type == MSGEVENT_MAILBOX_RENAME) {
		/* RFC 5423 5: mailboxID is the new name, oldMailboxID old. */
		sbuf_init(&sb, buf, sizeof(buf));
		sb_mailbox_url(infer, &sb, rec, 0);
		ev_set_sb(&ev, MSGEVENT_P_OLD_MAILBOX_ID, &sb);
	}
	sbuf_init(&sb, buf, sizeof(buf));
	if (type == MSGEVENT_MAILBOX_CREATE)
		sb_create_url(infer, &sb, rec);
	else
		sb_mailbox_url(infer, &sb, rec,
		    type == MSGEVENT_MAILBOX_RENAME);
	ev_set_sb(&ev, MSGEVENT_P_MAILBOX_ID, &sb);
	ev_set_sb(&ev, MSGEVENT_P_URI, &sb);
	ev_emit(infer, &ev);
}

/*
 * flagNames from the flag names at S (LEN bytes, space-separated, as the
 * client sent them), through the flags module: "(Work work todo)" is
 * "Work todo" (RFC 9051 2.3.2: flags compare without regard to case; the
 * first spelling is kept), "\seen" is "\Seen", system flags come first,
 * \Recent never (RFC 5423 5).  A name that is no flag, or a keyword
 * beyond IMAP_FLAGS_KEYWORDS_MAX, is left out and marks EV truncated.
 * BOX is a scratch box (its table is not the selected mailbox's).
 */
static void
ev_set_flag_names(struct msgevent *ev, struct imap_flags_box *box,
    const char *s, size_t len)
{
	char out[IMAP_FLAGS_TEXT_MAX];
	struct imap_flags f = { 0 };
	const char *end = s + len, *w;
	size_t n;

	imap_flags_box_reset(box);
	while (s < end) {
		if ((w = memchr(s, ' ', (size_t)(end - s))) == NULL)
			w = end;
		if (w > s)
			(void)imap_flags_parse(box, &f, s, (size_t)(w - s));
		s = w + 1;
	}
	if (imap_flags_format(box, f, out, sizeof(out), &n) != 0 ||
	    (f.bits & IMAP_FLAGS_OTHER))
		ev->truncated = true;
	if (n > 0)
		msgevent_set(ev, MSGEVENT_P_FLAG_NAMES, out, n);
}

/*
 * One MessageAppend per message of the APPEND.  With APPENDUID (RFC
 * 4315 3) the mailbox URL has its UIDVALIDITY and each message its UID,
 * so uri names the message (RFC 5092 "/;UID=").
 */
static void
emit_append(struct imap_infer *infer, struct infer_cmd *cmd)
{
	struct infer_record *rec = cmd->rec;
	const struct infer_mbox *mb = &rec->mb;
	const struct infer_msg *m;
	struct imap_flags_box names;
	struct msgevent ev;
	char buf[MSGEVENT_VALUE_SPACE];
	struct sbuf sb;
	uint32_t off = mb->msg_first;
	unsigned i;

	if (!mb->name[0].set)
		return;
	imap_flags_box_init(&names, 0);
	for (i = 0; i < mb->nmsg; i++, off = msg_next(rec, off)) {
		m = rec_msg(rec, off);
		msgevent_init(&ev, MSGEVENT_MESSAGE_APPEND);
		ev_common(infer, &ev, false);
		ev_session_user(infer, &ev);
		sbuf_init(&sb, buf, sizeof(buf));
		sb_mailbox_url(infer, &sb, rec, 0);
		if (mb->appenduid) {
			sbuf_adds(&sb, ";UIDVALIDITY=");
			sbuf_addu(&sb, mb->uidvalidity);
		}
		ev_set_sb(&ev, MSGEVENT_P_MAILBOX_ID, &sb);
		if (m->has_uid) {
			msgevent_set_uint(&ev, MSGEVENT_P_UIDSET, m->uid);
			sbuf_adds(&sb, "/;UID=");
			sbuf_addu(&sb, m->uid);
		}
		ev_set_sb(&ev, MSGEVENT_P_URI, &sb);
		if (m->has_size)
			msgevent_set_uint(&ev, MSGEVENT_P_MESSAGE_SIZE,
			    m->size);
		if (m->flags_len > 0)
			ev_set_flag_names(&ev, &names, (const char *)(m + 1),
			    m->flags_len);
		if (m->flags_cut)
			ev.truncated = true;
		ev_emit(infer, &ev);
	}
	imap_flags_box_deinit(&names);
	reg_note_append(infer, cmd);
}

/*
 * Events with UID sets, split (IMAP_INFER_EVENT_BYTES): the caller makes
 * a template with every parameter but mailboxID, uri and uidset, and the
 * mailbox URL; the ranges of the set come in ascending order (a walk),
 * and each part is the template with its uidset (set first: it always
 * fits the event whole), the URL as mailboxID, and as uri with /;UID=n
 * when the part is one UID (unless the template is truncated: the set
 * may then be incomplete, and one UID names no message).
 */
struct split {
	struct imap_infer *infer;
	const struct msgevent *tmpl;
	const struct sbuf *url;
	size_t room;			/* bytes a part may take */
	size_t len;
	unsigned ranges;		/* in the part */
	uint32_t first, last;		/* its first range */
	unsigned parts;			/* events emitted */
	char part[IMAP_INFER_EVENT_BYTES];
};

_Static_assert(IMAP_INFER_UIDSET_MIN < IMAP_INFER_EVENT_BYTES &&
    IMAP_INFER_UIDSET_MIN >= IMAP_SET_RANGE_TEXT_MAX &&
    IMAP_INFER_EVENT_BYTES < MSGEVENT_VALUE_SPACE / 2,
    "a part holds a range, and fits an event beside its template");

static void
split_init(struct split *sp, struct imap_infer *infer,
    const struct msgevent *tmpl, const struct sbuf *url)
{
	/* the URL goes in twice, once with "/;UID=4294967295" */
	size_t other = tmpl->used + 2 * url->len + 16;

	sp->infer = infer;
	sp->tmpl = tmpl;
	sp->url = url;
	sp->room = other + IMAP_INFER_UIDSET_MIN < IMAP_INFER_EVENT_BYTES ?
	    IMAP_INFER_EVENT_BYTES - other : IMAP_INFER_UIDSET_MIN;
	/* the template's values are a few hundred bytes at most */
	if (sp->room > sizeof(tmpl->buf) - tmpl->used)
		sp->room = sizeof(tmpl->buf) - tmpl->used;
	sp->len = 0;
	sp->ranges = 0;
	sp->parts = 0;
}

/* The part so far as one event. */
static void
split_flush(struct split *sp)
{
	struct msgevent ev;
	char buf[MSGEVENT_VALUE_SPACE + 32];
	struct sbuf uri;

	ev = *sp->tmpl;
	if (sp->len > 0)
		msgevent_set(&ev, MSGEVENT_P_UIDSET, sp->part, sp->len);
	ev_set_sb(&ev, MSGEVENT_P_MAILBOX_ID, sp->url);
	sbuf_init(&uri, buf, sizeof(buf));
	sbuf_add(&uri, sp->url->p, sp->url->len);
	uri.cut = sp->url->cut;
	if (sp->ranges == 1 && sp->first == sp->last && !sp->tmpl->truncated) {
		sbuf_adds(&uri, "/;UID=");
		sbuf_addu(&uri, sp->first);
	}
	ev_set_sb(&ev, MSGEVENT_P_URI, &uri);
	ev_emit(sp->infer, &ev);
	sp->parts++;
	sp->len = 0;
	sp->ranges = 0;
}

/* The next range of the set (ascending, maximal), for a walk. */
static bool
split_range(void *ctx, uint32_t first, uint32_t last)
{
	struct split *sp = ctx;
	char r[IMAP_SET_RANGE_TEXT_MAX + 1];
	int n;

	n = first == last ? snprintf(r, sizeof(r), "%" PRIu32, first) :
	    snprintf(r, sizeof(r), "%" PRIu32 ":%" PRIu32, first, last);
	if (sp->len > 0 && sp->len + 1 + (size_t)n > sp->room)
		split_flush(sp);
	if (sp->len > 0)
		sp->part[sp->len++] = ',';
	memcpy(sp->part + sp->len, r, (size_t)n);
	sp->len += (size_t)n;
	if (sp->ranges++ == 0) {
		sp->first = first;
		sp->last = last;
	}
	return true;
}

/* The last part; with EMPTY, an event without uidset if none was made. */
static void
split_end(struct split *sp, bool empty)
{
	if (sp->len > 0 || (empty && sp->parts == 0))
		split_flush(sp);
}

/*
 * One MessageAppend for all the messages a COPY or MOVE (RFC 6851) put
 * in its destination, not one per message as for APPEND: the command
 * names a set, COPYUID answers with a set, and the event's uidset is one
 * (COPY 1:50000 is one event, not 50,000; a set of scattered UIDs longer
 * than an event's share is split, struct split).  With COPYUID (RFC 4315 3)
 * the mailbox URL has its UIDVALIDITY and uidset the new UIDs; without
 * it (no UIDPLUS), neither, as APPEND without APPENDUID.  Size and
 * flags of the copies are not in the exchange.
 */
static void
emit_copy(struct imap_infer *infer, struct infer_cmd *cmd)
{
	const struct infer_record *rec = cmd->rec;
	const struct infer_mbox *mb = &rec->mb;
	struct infer_uids u;
	struct msgevent ev;
	char buf[MSGEVENT_VALUE_SPACE];
	struct sbuf sb;
	struct split sp;

	if (!mb->name[0].set)
		return;
	memset(&u, 0, sizeof(u));
	if (mb->copyuid && mb->dst.set)
		uids_add_set(&u, span_data(rec, &mb->dst), mb->dst.len,
		    mb->dst.cut);
	msgevent_init(&ev, MSGEVENT_MESSAGE_APPEND);
	ev_common(infer, &ev, false);
	ev_session_user(infer, &ev);
	sbuf_init(&sb, buf, sizeof(buf));
	sb_mailbox_url(infer, &sb, rec, 0);
	if (mb->copyuid) {
		sbuf_adds(&sb, ";UIDVALIDITY=");
		sbuf_addu(&sb, mb->uidvalidity);
	}
	if (uids_cut(&u) || sb.cut)
		ev.truncated = true;
	split_init(&sp, infer, &ev, &sb);
	(void)uids_walk(&u, split_range, &sp);
	reg_note_copy(infer, cmd, &u);
	uids_free(&u);
	split_end(&sp, true);
}

/*
 * The quota values of Q: diskUsed and messages (when USAGE), diskQuota
 * and maxMessages (RFC 5423 5; STORAGE is in KiB already, RFC 9208).
 */
static void
ev_set_quota(struct msgevent *ev, const struct infer_quota *q, bool usage)
{
	if (q->has_storage) {
		if (usage)
			msgevent_set_uint(ev, MSGEVENT_P_DISK_USED,
			    q->storage_used);
		msgevent_set_uint(ev, MSGEVENT_P_DISK_QUOTA, q->storage_limit);
	}
	if (q->has_message) {
		if (usage)
			msgevent_set_uint(ev, MSGEVENT_P_MESSAGES,
			    q->message_used);
		msgevent_set_uint(ev, MSGEVENT_P_MAX_MESSAGES,
		    q->message_limit);
	}
}

/*
 * The tagged NO being read refuses its command for quota: the response
 * code OVERQUOTA (RFC 9208, RFC 5530), or a text that says "quota"
 * (servers before RFC 9208) with no response code but ALERT: another
 * code gives the reason, and the text may only name a mailbox
 * ("NO [TRYCREATE] Mailbox doesn't exist: Quotas").
 */
static bool
quota_refused(const struct imap_infer *infer)
{
	return infer->srv.code_kind == CODE_OVERQUOTA || infer->srv.quota_text;
}

/*
 * QuotaExceed for an APPEND, COPY or MOVE (UID too) the server refused
 * for quota: mailboxID of the mailbox it would have filled (no
 * UIDVALIDITY: no response told it), the last QUOTA response's values.
 */
static void
emit_quota_exceed(struct imap_infer *infer, struct infer_cmd *cmd)
{
	const struct infer_record *rec = cmd->rec;
	struct msgevent ev;
	char buf[MSGEVENT_VALUE_SPACE];
	struct sbuf sb;

	msgevent_init(&ev, MSGEVENT_QUOTA_EXCEED);
	ev_common(infer, &ev, false);
	ev_session_user(infer, &ev);
	if (rec != NULL && rec->mb.name[0].set && !infer->srv.name_partial) {
		sbuf_init(&sb, buf, sizeof(buf));
		sb_mailbox_url(infer, &sb, rec, 0);
		ev_set_sb(&ev, MSGEVENT_P_MAILBOX_ID, &sb);
	}
	if (infer->quota_known)
		ev_set_quota(&ev, &infer->quota, true);
	infer->quota_exceeded = true;
	ev_emit(infer, &ev);
}

/*
 * A QUOTA response read whole: the session's quota now.  After a
 * QuotaExceed, the first one with every resource under its limit gives
 * QuotaWithin, once.
 */
static void
quota_learn(struct imap_infer *infer, const struct infer_quota *q)
{
	struct msgevent ev;

	infer->quota = *q;
	infer->quota_known = true;
	if (!infer->quota_exceeded || !q->under || q->nres == 0)
		return;
	infer->quota_exceeded = false;
	msgevent_init(&ev, MSGEVENT_QUOTA_WITHIN);
	ev_common(infer, &ev, false);
	ev_session_user(infer, &ev);
	ev_set_quota(&ev, q, true);
	ev_emit(infer, &ev);
}

/* OK to SETQUOTA (RFC 9208 4.1.3): QuotaChange with the limits it set. */
static void
emit_quota_change(struct imap_infer *infer, struct infer_cmd *cmd)
{
	const struct infer_mbox *mb = &cmd->rec->mb;
	struct msgevent ev;

	if (!mb->q_list || mb->q_bad || mb->q_pos != 0)
		return;
	msgevent_init(&ev, MSGEVENT_QUOTA_CHANGE);
	ev_common(infer, &ev, false);
	ev_session_user(infer, &ev);
	if (mb->q_has_storage)
		msgevent_set_uint(&ev, MSGEVENT_P_DISK_QUOTA, mb->q_storage);
	if (mb->q_has_message)
		msgevent_set_uint(&ev, MSGEVENT_P_MAX_MESSAGES, mb->q_message);
	ev_emit(infer, &ev);
}

/* The selected mailbox's URL, with ;UIDVALIDITY= when known. */
static void
sb_sel_url(struct imap_infer *infer, struct sbuf *sb)
{
	const char *user;
	size_t ulen;

	user = session_user(infer, &ulen);
	sb_server(infer, sb, user, ulen);
	sb_mailbox(sb, infer->sel.name, infer->sel.name_len);
	if (infer->sel.name_cut)
		sb->cut = true;
	if (infer->sel.uidvalidity_known) {
		sbuf_adds(sb, ";UIDVALIDITY=");
		sbuf_addu(sb, infer->sel.uidvalidity);
	}
}

/*
 * MessageExpunge in the selected mailbox for the UIDs in U (the known
 * ones; U->unknown more were removed unseen, U->cut marks ranges lost).
 * MESSAGES, when HAVE_MESSAGES, is the count after.
 *
 * Unknown UIDs: the event goes out with the UIDs known and is marked
 * truncated, so a consumer knows the set is incomplete; no UID is ever
 * guessed, and no removal is silently left out.  (A later step may
 * learn the missing UIDs before the messages go; see
 * imap_infer_uids_unknown().)
 */
static void
emit_expunge(struct imap_infer *infer, const struct infer_uids *u,
    bool have_messages, uint32_t messages)
{
	struct msgevent ev;
	char buf[MSGEVENT_VALUE_SPACE];
	struct sbuf sb;
	struct split sp;

	reg_note_removed(infer, u);
	if (uids_empty(u) && u->unknown == 0 && !uids_cut(u))
		return;		/* nothing was removed */
	if (infer->sel.name == NULL) {
		infer->untracked++;	/* the SELECT's name was lost */
		return;
	}
	msgevent_init(&ev, MSGEVENT_MESSAGE_EXPUNGE);
	ev_common(infer, &ev, false);
	ev_session_user(infer, &ev);
	sbuf_init(&sb, buf, sizeof(buf));
	sb_sel_url(infer, &sb);
	/* one UID only names a message when the set is known whole */
	if (u->unknown > 0 || uids_cut(u) || sb.cut)
		ev.truncated = true;
	if (have_messages)
		msgevent_set_uint(&ev, MSGEVENT_P_MESSAGES, messages);
	infer->uids_unknown += u->unknown;
	if (infer->sel.uidnext_known)
		msgevent_set_uint(&ev, MSGEVENT_P_UIDNEXT, infer->sel.uidnext);
	if (infer->sel.modseq_known)
		msgevent_set_uint(&ev, MSGEVENT_P_MODSEQ, infer->sel.modseq);
	split_init(&sp, infer, &ev, &sb);
	(void)uids_walk(u, split_range, &sp);
	split_end(&sp, true);
}

/* ---- the flags of the selected mailbox's messages ---------------------- */

/*
 * parser/imap_flags keeps what this session learned of the selected
 * mailbox's flags, by UID (struct infer_sel's box): FETCH responses'
 * FLAGS items, whoever caused them, are read in server_fetch_item() and
 * flags_fetch(); STORE and the implicit \Seen of FETCH BODY[] (RFC 9051
 * 6.4.5) make events further down (flags_done()).
 */

/*
 * Room for the text of any UID set imap_seqmap_resolve() writes here:
 * one range per run of the map, plus one per range of a set read from
 * one set (INFER_SET_MAX bytes: at most 8193 ranges), plus slack.
 * Malloced for the moment a STORE's or CLOSE's OK is handled.  What is
 * found in it (CLOSE's \Deleted messages, however fragmented) goes
 * into a set of UIDs, not a text.
 */
#define INFER_MAP_TEXT_MAX						\
	((size_t)(IMAP_SEQMAP_RUNS_MAX + INFER_SET_MAX / 2 + 2) *	\
	IMAP_SET_RANGE_TEXT_MAX)

/*
 * A mailbox is being selected, none is, or its UIDVALIDITY changed: what
 * was known of its messages is void, flag sets made before included.
 */
static void
hook_mailbox_reset(struct imap_infer *infer)
{
	imap_flags_box_reset(&infer->sel.box);
	infer->sel.box_gen++;
}

/*
 * UIDs FIRST..LAST left the selected mailbox (expunged, moved, vanished,
 * by this session or another).  FIRST 0: messages whose UIDs were not
 * known left; the cache may still hold their flags under a UID the map
 * forgot, which is harmless: only UIDs the map knows are looked up.
 */
static void
hook_expunged(struct imap_infer *infer, uint32_t first, uint32_t last)
{
	if (first != 0)
		(void)imap_flags_box_expunge(&infer->sel.box, first, last);
}

/*
 * CLOSE expunges every message that has \Deleted and says nothing (RFC
 * 9051 6.4.1: no untagged EXPUNGE), so its MessageExpunge needs to know
 * which messages of the selected mailbox carry \Deleted: the UIDs of
 * every message ("1:*" through the map) looked up in the flag cache.
 * Adds their UIDs to OUT (uids_add()) and returns 1 when that is all of
 * them (every message's UID and flags known), 0 when some messages'
 * UIDs or flags are unknown (OUT is then a part, and the event says
 * truncated), -1 when nothing is known (no event).
 */
static int
hook_deleted_uids(struct imap_infer *infer, struct infer_uids *out)
{
	struct infer_sel *sel = &infer->sel;
	struct imap_flags del = { IMAP_FLAGS_DELETED };
	char *known;
	size_t klen;
	bool incomplete, unknown;
	int rc;

	if (!sel->counted)
		return -1;
	if (imap_seqmap_count(&sel->map) == 0)
		return 1;		/* an empty mailbox: nothing goes */
	if ((known = malloc(INFER_MAP_TEXT_MAX)) == NULL)
		return -1;
	rc = imap_seqmap_resolve(&sel->map, "1:*", 3, known,
	    INFER_MAP_TEXT_MAX, &klen, &incomplete);
	if (rc == -1 || klen == 0) {
		free(known);
		return -1;
	}
	if (rc == 1)
		incomplete = true;
	/* into OUT directly: as many ranges as \Deleted makes */
	rc = imap_flags_box_walk(&sel->box, del, known, klen, uids_walk_add,
	    out, &unknown);
	free(known);
	if (rc == -1)
		return -1;
	return incomplete || unknown || uids_cut(out) ? 0 : 1;
}

/* ---- the selected mailbox --------------------------------------------- */

/* ---- changes nobody in this session made ------------------------------- */

/*
 * Messages that appear in the selected mailbox (EXISTS growth) without
 * an APPEND, COPY or MOVE of this session, and messages that leave it
 * while no EXPUNGE, CLOSE or MOVE of this session runs, are someone
 * else's: another session of this proxy, which reports them itself, or
 * nobody here: the MTA's delivery agent (RFC 5423 MessageNew), a client
 * connected to the server directly, the server's expiry.  The registry
 * (imap_registry.h), shared by the proxy's sessions, tells which.  A
 * session holds there the mailboxes its commands may change while they
 * run (reg_cmd_hold()) and records what they did, by UID (reg_note_*());
 * a session that saw a change waits until no such command is in flight
 * in that mailbox (the server may tell this session of it before the
 * other one's tagged OK), then claims the UIDs: those nobody explained
 * are reported, once, by whichever session claims them first.
 *
 * New messages (struct infer_news) form one batch from the EXISTS that
 * starts it until it is decided, once every one of its UIDs is known
 * (FETCH responses with UID: the client's, or the proxy's own question,
 * imap_infer_new_unknown()): one MessageNew for the UIDs nobody
 * explained.
 *
 * Removals (struct infer_gone) gather during a run of EXPUNGE or
 * VANISHED responses; the next other response ends the run, and they
 * are decided: one MessageExpunge with vnd.msgeventd.cause "external".
 * Not MessageExpire: from the protocol, the server's expiry cannot be
 * told from a client that does not go through the proxy, and naming it
 * would be a guess.
 *
 * A decision that cannot be made (a UID never learned, the session
 * ends or leaves the mailbox while a command that may explain the
 * change is in flight, no registry entry) is counted
 * (imap_infer_foreign_unknown()), never guessed.
 */

static void news_decide(struct imap_infer *, bool);
static void gone_decide(struct imap_infer *, bool);

/*
 * What every event no client of the proxy caused carries: RFC 5423 5
 * gives clientIP, clientPort and service to the client and protocol
 * that triggered the event, unknown here, so they are left out; user
 * is the mailbox's owner as this session knows it, and
 * vnd.msgeventd.session the session through which the proxy saw it.
 */
static void
ev_observed(struct imap_infer *infer, struct msgevent *ev)
{
	msgevent_set_str(ev, MSGEVENT_P_SERVER_FQDN, infer->server_fqdn);
	msgevent_set_uint(ev, MSGEVENT_P_SESSION, infer->session_id);
	if (infer->user_known) {
		msgevent_set(ev, MSGEVENT_P_USER, infer->user,
		    infer->user_len);
		if (infer->user_cut)
			ev->truncated = true;
	}
}

/*
 * MessageNew, or MessageExpunge with vnd.msgeventd.cause="external", in
 * the selected mailbox for the UIDs in U; MESSAGES (when HAVE_MESSAGES)
 * the count after.
 */
static void
emit_foreign(struct imap_infer *infer, enum msgevent_type type,
    const struct infer_uids *u, bool have_messages, uint32_t messages)
{
	struct msgevent ev;
	char buf[MSGEVENT_VALUE_SPACE];
	struct sbuf sb;
	struct split sp;

	msgevent_init(&ev, type);
	ev_observed(infer, &ev);
	sbuf_init(&sb, buf, sizeof(buf));
	sb_sel_url(infer, &sb);
	if (uids_cut(u) || sb.cut)
		ev.truncated = true;
	if (have_messages)
		msgevent_set_uint(&ev, MSGEVENT_P_MESSAGES, messages);
	if (infer->sel.uidnext_known)
		msgevent_set_uint(&ev, MSGEVENT_P_UIDNEXT, infer->sel.uidnext);
	if (infer->sel.modseq_known)
		msgevent_set_uint(&ev, MSGEVENT_P_MODSEQ, infer->sel.modseq);
	if (type == MSGEVENT_MESSAGE_EXPUNGE)
		msgevent_set_str(&ev, MSGEVENT_P_CAUSE, "external");
	split_init(&sp, infer, &ev, &sb);
	(void)uids_walk(u, split_range, &sp);
	split_end(&sp, false);
}

/* Both batches, again: a command in flight completed (or the line ended). */
static void
foreign_recheck(struct imap_infer *infer)
{
	news_decide(infer, false);
	gone_decide(infer, false);
}

/*
 * The registry's callback: no command in flight any more in a mailbox
 * this session waits on.  Inside this session's own data call (its own
 * command completed) the batches are decided at the end of the line;
 * otherwise at once (another session's command completed).
 */
static void
foreign_wake(void *ctx)
{
	struct imap_infer *infer = ctx;

	if (infer->feeding)
		infer->recheck = true;
	else if (!infer->ended)
		foreign_recheck(infer);
}

/* Wait for the selected mailbox's commands in flight, BOX. */
static void
foreign_wait(struct imap_infer *infer, struct imap_registry_box *box)
{
	imap_registry_wait(infer->reg, box, &infer->fx->waiter, foreign_wake,
	    infer);
}

/*
 * The batches end: decided now if they can be, else counted.  Before
 * the selected mailbox is left, its UIDs change meaning, or the
 * session ends.
 */
static void
foreign_settle(struct imap_infer *infer)
{
	news_decide(infer, true);
	gone_decide(infer, true);
}

/* A server line ended; REMOVAL: it was EXPUNGE or VANISHED (a run goes on). */
static void
foreign_line_end(struct imap_infer *infer, bool removal)
{
	infer->recheck = false;
	if (!removal)
		gone_decide(infer, false);
	news_decide(infer, false);
}

static bool
news_count_range(void *ctx, uint32_t first, uint32_t last)
{
	*(uint64_t *)ctx += (uint64_t)(last - first) + 1;
	return true;
}

/*
 * The batch's messages still in the mailbox whose UIDs the map does not
 * know now, their UIDs added to KNOWN (when not NULL); UINT32_MAX when
 * that cannot be told (memory).
 */
static uint32_t
news_scan(struct imap_infer *infer, struct infer_uids *known)
{
	const struct imap_seqmap *map = &infer->sel.map;
	uint32_t count = imap_seqmap_count(map);
	char range[32], *text;
	size_t rlen, len = 0;
	uint64_t n = 0;
	bool incomplete;
	int rc;

	if (infer->fx->news.first > count)
		return 0;
	rlen = (size_t)snprintf(range, sizeof(range), "%u:%u",
	    infer->fx->news.first, count);
	if ((text = malloc(INFER_MAP_TEXT_MAX)) == NULL)
		return UINT32_MAX;
	rc = imap_seqmap_unknown(map, range, rlen, text, INFER_MAP_TEXT_MAX,
	    &len);
	if (rc == 0 && len > 0)
		(void)imap_set_walk(text, len, 0, UINT32_MAX, news_count_range,
		    &n);
	if (rc == 0 && known != NULL) {
		rc = imap_seqmap_resolve(map, range, rlen, text,
		    INFER_MAP_TEXT_MAX, &len, &incomplete);
		if (rc != -1)
			uids_add_set(known, text, len, rc == 1);
	}
	free(text);
	return rc == -1 || n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* imap_registry_claim() of each range of a set, for uids_walk(). */
struct reg_claim_ctx {
	struct imap_infer *infer;
	struct imap_registry_box *box;
	enum imap_registry_dir dir;
	struct infer_uids *out;
};

static bool
reg_claim_range(void *ctx, uint32_t first, uint32_t last)
{
	struct reg_claim_ctx *c = ctx;

	(void)imap_registry_claim(c->infer->reg, c->box,
	    c->infer->sel.uidvalidity, c->dir, first, last, uids_walk_add,
	    c->out);
	return true;
}

/*
 * The UIDs of ALL the registry gives as nobody's, claimed now, into OUT
 * (cut when ALL was).
 */
static void
reg_claim(struct imap_infer *infer, struct imap_registry_box *box,
    enum imap_registry_dir dir, const struct infer_uids *all,
    struct infer_uids *out)
{
	struct reg_claim_ctx c = { infer, box, dir, out };

	(void)uids_walk(all, reg_claim_range, &c);
	if (uids_cut(all))
		out->cut = true;
}

static void
news_clear(struct infer_news *nw)
{
	uids_free(&nw->gone);
	nw->active = false;
	nw->first = 0;
	nw->unknown = 0;
	nw->lost = 0;
}

/*
 * Decide the batch of new messages: when all their UIDs are known and
 * no command in flight may have added them to this mailbox, one
 * MessageNew for those the registry gives as nobody's.  GIVE_UP: now or
 * never (the mailbox is left, the map is in doubt, the session ends):
 * the UIDs known are decided if nothing is in flight, the rest counted.
 */
static void
news_decide(struct imap_infer *infer, bool give_up)
{
	struct infer_news *nw;
	struct infer_sel *sel = &infer->sel;
	struct imap_registry_box *box;
	struct infer_uids all, out;
	uint32_t unknown = 0, last;

	if (infer->fx == NULL)
		return;
	nw = &infer->fx->news;
	if (!nw->active || (!give_up && nw->unknown > 0))
		return;
	box = reg_sel_box(infer);
	if (box != NULL &&
	    imap_registry_in_flight(box, IMAP_REGISTRY_ADD) > 0) {
		if (!give_up) {
			foreign_wait(infer, box);
			return;
		}
		box = NULL;		/* may be another session's */
	}
	if (!give_up && (unknown = news_scan(infer, NULL)) > 0) {
		if (unknown != UINT32_MAX) {
			nw->unknown = unknown;	/* the count had drifted */
			return;
		}
	}
	all = nw->gone;			/* taken over */
	memset(&nw->gone, 0, sizeof(nw->gone));
	memset(&out, 0, sizeof(out));
	unknown = news_scan(infer, &all);
	if (unknown == UINT32_MAX) {
		unknown = nw->first <= imap_seqmap_count(&sel->map) ?
		    imap_seqmap_count(&sel->map) - nw->first + 1 : 0;
		all.cut = true;
	}
	infer->fx->unknown += (uint64_t)nw->lost + unknown;
	if (box == NULL)
		infer->fx->unknown += uids_count(&all);
	else {
		reg_claim(infer, box, IMAP_REGISTRY_ADD, &all, &out);
		if (!uids_empty(&out))
			emit_foreign(infer, MSGEVENT_MESSAGE_NEW, &out,
			    sel->counted, imap_seqmap_count(&sel->map));
	}
	/* UIDs only grow: the next batch's are above these */
	nw->base_known = unknown == 0 && nw->lost == 0 && !uids_cut(&all) &&
	    imap_uidset_last(&all.set, &last) && last < UINT32_MAX;
	if (nw->base_known)
		nw->base = last + 1;
	uids_free(&all);
	uids_free(&out);
	news_clear(nw);
}

/*
 * Decide the removals nobody in this session made: when no command in
 * flight may have removed them, one MessageExpunge (cause "external")
 * for those the registry gives as nobody's.  GIVE_UP as for
 * news_decide().
 */
static void
gone_decide(struct imap_infer *infer, bool give_up)
{
	struct infer_gone *g;
	struct imap_registry_box *box;
	struct infer_uids out;

	if (infer->fx == NULL || !infer->fx->gone.active)
		return;
	g = &infer->fx->gone;
	box = reg_sel_box(infer);
	if (box != NULL &&
	    imap_registry_in_flight(box, IMAP_REGISTRY_REMOVE) > 0) {
		if (!give_up) {
			foreign_wait(infer, box);
			return;
		}
		box = NULL;
	}
	infer->fx->unknown += g->uids.unknown;
	if (box == NULL)
		infer->fx->unknown += uids_count(&g->uids);
	else {
		memset(&out, 0, sizeof(out));
		reg_claim(infer, box, IMAP_REGISTRY_REMOVE, &g->uids, &out);
		if (!uids_empty(&out))
			emit_foreign(infer, MSGEVENT_MESSAGE_EXPUNGE, &out,
			    g->have_messages, g->messages);
		uids_free(&out);
	}
	uids_free(&g->uids);
	memset(g, 0, sizeof(*g));
}

/*
 * Messages removed while no EXPUNGE, CLOSE or MOVE of this session ran
 * (during NOOP, IDLE, FETCH or another command; likewise the UIDs
 * outside a UID EXPUNGE's set or a MOVE's COPYUID): FIRST..LAST if
 * KNOWN, else one message whose UID is unknown.  They join the run
 * being gathered, after the map has dropped them.
 */
static void
sel_foreign_expunge(struct imap_infer *infer, uint32_t first, uint32_t last,
    bool known)
{
	struct infer_gone *g;

	if (fx_get(infer) == NULL)
		return;
	g = &infer->fx->gone;
	g->active = true;
	if (known)
		uids_add(&g->uids, first, last);
	else
		g->uids.unknown++;
	g->have_messages = infer->sel.counted;
	g->messages = imap_seqmap_count(&infer->sel.map);
}

struct foreign_rest_ctx {
	struct imap_infer *infer;
	const struct infer_uids *own;
};

static bool
foreign_gap(void *ctx, uint32_t first, uint32_t last)
{
	sel_foreign_expunge(ctx, first, last, true);
	return true;
}

/* A range of ALL: its UIDs outside OWN are someone else's removals. */
static bool
foreign_rest_range(void *ctx, uint32_t first, uint32_t last)
{
	struct foreign_rest_ctx *c = ctx;

	(void)imap_uidset_walk_gaps(&c->own->set, first, last, foreign_gap,
	    c->infer);
	return true;
}

/* The UIDs in ALL but not in OWN were removed by someone else. */
static void
foreign_rest(struct imap_infer *infer, const struct infer_uids *all,
    const struct infer_uids *own)
{
	struct foreign_rest_ctx c = { infer, own };

	(void)uids_walk(all, foreign_rest_range, &c);
}

/*
 * The selected mailbox grew from OLD to NEW messages (EXISTS).  They
 * join the batch of new messages, or start one; NEXT_KNOWN and NEXT
 * are the UIDNEXT the session knew before (each new message's UID is at
 * least that, RFC 9051 2.3.1.1).
 */
static void
sel_grew(struct imap_infer *infer, uint32_t old, uint32_t new,
    bool next_known, uint32_t next)
{
	struct infer_news *nw;

	if (fx_get(infer) == NULL)
		return;
	nw = &infer->fx->news;
	if (nw->active) {
		nw->unknown += new - old;
		return;
	}
	nw->active = true;
	nw->first = old + 1;
	nw->unknown = new - old;
	if (next_known) {
		nw->base = next;
		nw->base_known = true;
	}
}

/*
 * "* SEQ EXPUNGE" is about to renumber the map: the batch follows.  A
 * message of it that goes keeps its UID for the decision (it was new
 * all the same), or is counted when its UID is unknown.
 */
static void
news_expunged(struct imap_infer *infer, uint32_t seq)
{
	struct infer_news *nw;
	uint32_t uid;

	if (infer->fx == NULL)
		return;
	nw = &infer->fx->news;
	if (!nw->active || seq == 0 || seq > imap_seqmap_count(&infer->sel.map))
		return;
	if (seq < nw->first) {
		nw->first--;
		return;
	}
	if (imap_seqmap_uid(&infer->sel.map, seq, &uid))
		uids_add(&nw->gone, uid, uid);
	else {
		nw->lost++;
		if (nw->unknown > 0)
			nw->unknown--;
	}
}

/*
 * "* VANISHED FIRST:LAST" (not EARLIER) applied to the map, the batch
 * following: the UIDs below the batch's lowest go before it, the others
 * are its own (kept for the decision).  Where the batch starts among
 * UIDs is known from the map, or from the UID below which no message is
 * new (news.base); without either the batch is given up.  Returns what
 * imap_seqmap_vanish() does.
 */
static int
news_vanish(struct imap_infer *infer, uint32_t first, uint32_t last)
{
	struct infer_news *nw;
	struct imap_seqmap *map = &infer->sel.map;
	uint32_t b = 0, u, known = 0, k, n;

	if (infer->fx == NULL)
		return imap_seqmap_vanish(map, first, last, NULL);
	nw = &infer->fx->news;
	if (nw->active) {
		if (imap_seqmap_uid(map, nw->first, &u))
			b = u;
		else if (nw->first > 1 &&
		    imap_seqmap_uid(map, nw->first - 1, &u))
			b = u + 1;
		else if (nw->base_known)
			b = nw->base;
		else
			news_decide(infer, true);
	}
	if (!nw->active)
		return imap_seqmap_vanish(map, first, last, NULL);
	if (first < b) {
		/* below the batch: it moves down */
		k = last < b ? last : b - 1;
		if (imap_seqmap_vanish(map, first, k, NULL) == -1)
			return -1;
		n = k - first + 1;
		nw->first = nw->first > n ? nw->first - n : 1;
		if (k == last)
			return 0;
		first = k + 1;
	}
	if (imap_seqmap_vanish(map, first, last, &known) == -1)
		return -1;
	uids_add(&nw->gone, first, last);
	k = last - first + 1 - known;	/* of them, UIDs unknown till now */
	nw->unknown = nw->unknown > k ? nw->unknown - k : 0;
	return 0;
}

/* Everything known of the selected mailbox is forgotten. */
static void
sel_clear(struct imap_infer *infer)
{
	struct infer_sel *sel = &infer->sel;

	foreign_settle(infer);
	reg_sel_close(infer);
	if (infer->fx != NULL)
		infer->fx->news.base_known = false;
	free(sel->name);
	sel->name = NULL;
	sel->name_len = 0;
	sel->name_cut = false;
	imap_seqmap_deinit(&sel->map);
	sel->read_only = false;
	sel->counted = false;
	sel->uidvalidity_known = false;
	sel->uidnext_known = false;
	sel->modseq_known = false;
	hook_mailbox_reset(infer);
}

/* No mailbox selected (or none this session can be sure of). */
static void
sel_none(struct imap_infer *infer)
{
	sel_clear(infer);
	infer->sel.state = SEL_NONE;
}

/*
 * SELECT or EXAMINE CMD is now what the server works on: the previous
 * mailbox is gone (RFC 9051 6.3.1, even if this one fails), and the
 * untagged data that follows is the new one's.
 */
static void
sel_enter(struct imap_infer *infer, struct infer_cmd *cmd)
{
	sel_clear(infer);
	infer->sel.state = SEL_SELECTING;
	infer->sel.select_seq = cmd->seq;
	infer->sel.read_only = cmd->kind == INFER_K_EXAMINE;
}

/*
 * Before untagged data is applied: if a SELECT or EXAMINE is what the
 * server works on now, enter it.  True when a mailbox is selected or
 * being selected.
 */
static bool
sel_sync(struct imap_infer *infer)
{
	struct infer_cmd *head = cmd_head(infer);

	if (head != NULL && !head->uid && (head->kind == INFER_K_SELECT ||
	    head->kind == INFER_K_EXAMINE) &&
	    !(infer->sel.state == SEL_SELECTING &&
	    infer->sel.select_seq == head->seq))
		sel_enter(infer, head);
	return infer->sel.state != SEL_NONE;
}

/* The map no longer gives the mailbox's count: wait for an EXISTS. */
static void
sel_doubt(struct imap_infer *infer)
{
	news_decide(infer, true);	/* its sequence numbers are void */
	infer->sel.counted = false;
}

/*
 * Where a removal announced now goes: the running EXPUNGE, UID EXPUNGE,
 * MOVE or UID MOVE of this session (RFC 9051 6.4.3, RFC 4315 2.1, RFC
 * 6851 3.3: the server announces what the command removes before its
 * OK), the oldest if several are pending; else NULL (someone else's,
 * sel_foreign_expunge()).
 */
static struct infer_cmd *
cmd_oldest_expunging(struct imap_infer *infer)
{
	struct infer_cmd *best = NULL, *cmd;
	size_t i;

	for (i = 0; i < IMAP_INFER_INLINE_CMDS; i++) {
		cmd = &infer->cmds[i];
		if (cmd->used && (cmd->kind == INFER_K_EXPUNGE ||
		    cmd->kind == INFER_K_MOVE) && (best == NULL ||
		    (int32_t)(cmd->seq - best->seq) < 0))
			best = cmd;
	}
	for (cmd = infer->overflow; cmd != NULL; cmd = cmd->next)
		if ((cmd->kind == INFER_K_EXPUNGE ||
		    cmd->kind == INFER_K_MOVE) && (best == NULL ||
		    (int32_t)(cmd->seq - best->seq) < 0))
			best = cmd;
	return best;
}

static struct infer_uids *
xp_collect(struct imap_infer *infer)
{
	/*
	 * Not only the head: a server may run a pipelined EXPUNGE while
	 * an earlier command is still open (Dovecot announces the
	 * removals of "NOOP" CRLF "EXPUNGE" before the NOOP's OK).
	 */
	struct infer_cmd *head = cmd_oldest_expunging(infer);

	if (head == NULL)
		return NULL;
	if (!infer->xp_active || infer->xp_seq != head->seq) {
		uids_free(&infer->xp);
		infer->xp_active = true;
		infer->xp_seq = head->seq;
	}
	return &infer->xp;
}

/* "* N EXISTS" (RFC 9051 7.4.1). */
static void
sel_exists(struct imap_infer *infer, uint32_t n)
{
	struct infer_sel *sel = &infer->sel;
	bool next_known = sel->uidnext_known, reset = false;
	uint32_t old, next = sel->uidnext;

	if (!sel_sync(infer))
		return;
	if (!sel->counted) {
		/*
		 * The SELECT's, or the first after a doubt: all unknown.
		 * After a doubt, whether it grew cannot be told.
		 */
		imap_seqmap_reset(&sel->map, n);
		sel->counted = true;
		if (sel->state == SEL_SELECTED) {
			sel->uidnext_known = false;
			sel->modseq_known = false;
		}
		return;
	}
	old = imap_seqmap_count(&sel->map);
	if (n == old)
		return;
	/* EXISTS never shrinks a mailbox: the map was wrong, start over */
	if (n < old || imap_seqmap_exists(&sel->map, n) == -1) {
		news_decide(infer, true);
		imap_seqmap_reset(&sel->map, n);
		reset = true;
	}
	sel->uidnext_known = false;	/* the new messages took UIDs */
	sel->modseq_known = false;
	if (n > old) {
		if (!reset)
			sel_grew(infer, old, n, next_known, next);
		fr_news(infer);
	}
}

/* "* SEQ EXPUNGE" (RFC 9051 7.5.1): message SEQ is gone. */
static void
sel_expunge(struct imap_infer *infer, uint32_t seq)
{
	struct infer_sel *sel = &infer->sel;
	struct infer_uids *u;
	uint32_t uid = 0;
	int rc = -1;

	if (!sel_sync(infer))
		return;
	u = xp_collect(infer);
	fr_news(infer);
	sel->modseq_known = false;
	if (sel->counted)
		news_expunged(infer, seq);
	if (sel->counted && (rc = imap_seqmap_expunge(&sel->map, seq,
	    &uid)) == -1)
		sel_doubt(infer);	/* SEQ above the count */
	if (rc == 1) {
		hook_expunged(infer, uid, uid);
		if (u != NULL)
			uids_add(u, uid, uid);
		else
			sel_foreign_expunge(infer, uid, uid, true);
	} else {
		hook_expunged(infer, 0, 0);
		if (u != NULL)
			u->unknown++;
		else
			sel_foreign_expunge(infer, 0, 0, false);
	}
}

struct sel_vanish {
	struct imap_infer *infer;
	struct infer_uids *u;
};

static bool
sel_vanish_range(void *ctx, uint32_t first, uint32_t last)
{
	struct sel_vanish *v = ctx;
	struct infer_sel *sel = &v->infer->sel;

	if (sel->counted && news_vanish(v->infer, first, last) == -1)
		sel_doubt(v->infer);	/* more UIDs than messages */
	hook_expunged(v->infer, first, last);
	if (v->u != NULL)
		uids_add(v->u, first, last);
	else
		sel_foreign_expunge(v->infer, first, last, true);
	return true;
}

/*
 * "* VANISHED uid-set" without (EARLIER) (RFC 7162 3.2.10.2): these UIDs
 * are gone, and each was a message.  The set comes as one token: longer
 * than IMAP_TOKEN_MAX (CUT), only its whole ranges are read, the count
 * is then unknown, and the running command's UIDs are marked cut.
 */
static void
sel_vanished(struct imap_infer *infer, const char *set, size_t len, bool cut)
{
	struct sel_vanish v;

	if (!sel_sync(infer))
		return;
	v.infer = infer;
	v.u = xp_collect(infer);
	fr_news(infer);
	infer->sel.modseq_known = false;
	if (cut) {
		while (len > 0 && set[len - 1] != ',')
			len--;
		if (len > 0)
			len--;
		sel_doubt(infer);
		hook_expunged(infer, 0, 0);
		if (v.u != NULL)
			v.u->cut = true;
	}
	if (len > 0 && imap_set_walk(set, len, 0, UINT32_MAX,
	    sel_vanish_range, &v) != -1)
		return;
	if (!cut) {
		/* unreadable: something vanished, who knows what */
		sel_doubt(infer);
		hook_expunged(infer, 0, 0);
		if (v.u != NULL)
			v.u->cut = true;
	}
}

/*
 * A VANISHED set read in fragments: each range into infer->vset ("*"
 * is no UID: the set is invalid).  A range the cap drops marks it cut.
 */
static void
vfrag_free(struct imap_infer *infer)
{
	if (infer->vfrag == NULL)
		return;
	imap_uidset_clear(&infer->vfrag->set);
	free(infer->vfrag);
	infer->vfrag = NULL;
}

static bool vanish_piece_range(void *, uint32_t, uint32_t, unsigned);

/*
 * The first piece of a VANISHED set in fragments: the rest comes to
 * server_frag().  Short of memory, the set is unreadable.
 */
static void
vfrag_start(struct imap_infer *infer, const struct imap_token *tok)
{
	vfrag_free(infer);
	infer->sfrag = SFRAG_VANISHED;
	if ((infer->vfrag = malloc(sizeof(*infer->vfrag))) == NULL)
		return;
	imap_set_reader_init(&infer->vfrag->reader);
	imap_uidset_init(&infer->vfrag->set, IMAP_INFER_UID_ITEMS_MAX);
	(void)imap_set_reader_feed(&infer->vfrag->reader, tok->data,
	    tok->len, vanish_piece_range, infer);
}

static bool
vanish_piece_range(void *ctx, uint32_t first, uint32_t last, unsigned star)
{
	struct imap_infer *infer = ctx;
	uint32_t t;

	if (star != 0)
		return false;
	if (first > last) {
		t = first;
		first = last;
		last = t;
	}
	(void)imap_uidset_add(&infer->vfrag->set, first, last);
	return true;
}

/*
 * As sel_vanished(), for a set read in fragments into infer->vset: BAD
 * if it was no valid set.  The set is emptied.
 */
static void
sel_vanished_uids(struct imap_infer *infer, bool bad)
{
	struct sel_vanish v;
	struct imap_uidset *set = &infer->vfrag->set;

	if (sel_sync(infer)) {
		v.infer = infer;
		v.u = xp_collect(infer);
		fr_news(infer);
		infer->sel.modseq_known = false;
		if (bad || set->cut) {
			/* unreadable, or some dropped: who knows what */
			sel_doubt(infer);
			hook_expunged(infer, 0, 0);
			if (v.u != NULL)
				v.u->cut = true;
		}
		if (!bad)
			(void)imap_uidset_walk(set, 0, UINT32_MAX,
			    sel_vanish_range, &v);
	}
	vfrag_free(infer);
}

/* "* SEQ FETCH (... UID UID ...)" (RFC 9051 7.5.2). */
static void
sel_fetch_uid(struct imap_infer *infer, uint32_t seq, uint32_t uid)
{
	struct infer_sel *sel = &infer->sel;
	uint32_t was;
	bool news;

	if (!sel_sync(infer) || !sel->counted)
		return;
	/* one more UID of the batch of new messages known? */
	news = infer->fx != NULL && infer->fx->news.active &&
	    seq >= infer->fx->news.first &&
	    !imap_seqmap_uid(&sel->map, seq, &was);
	if (imap_seqmap_set_uid(&sel->map, seq, uid) == -1) {
		/* a contradiction: the count, or the UIDs, were wrong */
		if (seq > imap_seqmap_count(&sel->map))
			sel_doubt(infer);
		else
			imap_seqmap_invalidate(&sel->map);
	} else if (news && imap_seqmap_uid(&sel->map, seq, &was) &&
	    infer->fx->news.unknown > 0)
		infer->fx->news.unknown--;
}

/*
 * A response code of an OK, untagged or tagged, about the selected
 * mailbox (RFC 9051 7.1; RFC 7162 HIGHESTMODSEQ, NOMODSEQ, CLOSED).
 */
static void
sel_code(struct imap_infer *infer, enum infer_code code, uint64_t num,
    bool num_ok)
{
	struct infer_sel *sel = &infer->sel;
	struct infer_cmd *head;

	if (code == CODE_CLOSED) {
		/*
		 * RFC 7162 (QRESYNC): the previous mailbox is closed, and
		 * what came before this belonged to it.  Outside a SELECT
		 * the server closed the mailbox itself.
		 */
		head = cmd_head(infer);
		if (head != NULL && !head->uid &&
		    (head->kind == INFER_K_SELECT ||
		    head->kind == INFER_K_EXAMINE))
			sel_enter(infer, head);
		else
			sel_none(infer);
		return;
	}
	if (!sel_sync(infer))
		return;
	switch (code) {
	case CODE_UIDVALIDITY:
		if (!num_ok || num == 0 || num > UINT32_MAX)
			break;
		/* RFC 9051 2.3.1.1: a new UIDVALIDITY voids every UID */
		if (sel->uidvalidity_known && sel->uidvalidity != num) {
			foreign_settle(infer);
			imap_seqmap_invalidate(&sel->map);
			hook_mailbox_reset(infer);
		}
		sel->uidvalidity = (uint32_t)num;
		sel->uidvalidity_known = true;
		break;
	case CODE_UIDNEXT:
		if (!num_ok || num == 0 || num > UINT32_MAX)
			break;
		sel->uidnext = (uint32_t)num;
		sel->uidnext_known = true;
		break;
	case CODE_HIGHESTMODSEQ:
		if (!num_ok || num == 0)
			break;
		sel->modseq = num;
		sel->modseq_known = true;
		break;
	case CODE_NOMODSEQ:
		sel->modseq_known = false;
		break;
	default:
		break;
	}
}

/* The tagged response to SELECT or EXAMINE CMD, with status ST. */
static void
sel_select_done(struct imap_infer *infer, struct infer_cmd *cmd,
    enum infer_status st)
{
	struct infer_sel *sel = &infer->sel;
	const struct infer_record *rec = cmd->rec;
	const struct infer_span *name;

	if (!(sel->state == SEL_SELECTING && sel->select_seq == cmd->seq))
		sel_enter(infer, cmd);
	if (st != ST_OK) {
		/* RFC 9051 6.3.1: a failed SELECT leaves none selected */
		sel_none(infer);
		return;
	}
	sel->state = SEL_SELECTED;
	if (infer->srv.code_kind == CODE_READ_ONLY)
		sel->read_only = true;
	else if (infer->srv.code_kind == CODE_READ_WRITE &&
	    cmd->kind == INFER_K_SELECT)
		sel->read_only = false;
	/* Without its name (a cap, memory) it is followed, not reported. */
	if (rec == NULL || !cmd->complete || !rec->mb.name[0].set)
		return;
	name = &rec->mb.name[0];
	if ((sel->name = malloc(name->len > 0 ? name->len : 1)) == NULL)
		return;
	memcpy(sel->name, span_data(rec, name), name->len);
	sel->name_len = name->len;
	sel->name_cut = name->cut;
}

/*
 * OK to CLOSE (RFC 9051 6.4.1): the messages with \Deleted are gone
 * (unless the mailbox was read-only), silently, and nothing is
 * selected.  Which ones is the flags module's knowledge
 * (hook_deleted_uids()); without it there is no event.
 */
static void
sel_close(struct imap_infer *infer)
{
	struct infer_sel *sel = &infer->sel;
	struct infer_uids u;
	uint64_t n;
	int rc;

	memset(&u, 0, sizeof(u));
	if (sel->state == SEL_SELECTED && !sel->read_only &&
	    (rc = hook_deleted_uids(infer, &u)) >= 0) {
		n = uids_count(&u);
		if (rc == 1)
			emit_expunge(infer, &u, sel->counted &&
			    n <= imap_seqmap_count(&sel->map),
			    imap_seqmap_count(&sel->map) - (uint32_t)n);
		else if (!uids_empty(&u)) {
			u.cut = true;	/* a part of them */
			emit_expunge(infer, &u, false, 0);
		}
	}
	uids_free(&u);
	sel_none(infer);
}

/* ---- flag events -------------------------------------------------------- */

/*
 * STORE (RFC 9051 6.4.6) and the implicit \Seen of FETCH (6.4.5), as
 * events (RFC 5423 4.2).  The server reports what a STORE changed in
 * untagged FETCH responses with FLAGS (unless .SILENT) before its OK, and
 * what a FETCH of a body did likewise when \Seen changed.  Each response
 * that concerns a message of the running command is matched against the
 * flags the cache had for that message, and the change goes into the
 * command's batch (struct infer_flagrun).  At the OK of a .SILENT STORE,
 * the messages no response covered get the operation applied to their
 * cached flags; without .SILENT, those did not change.  Then the batch
 * becomes events.
 *
 * The cache is as fresh as the server's last word to this session:
 * another session's changes reach it only when the server tells them,
 * which may be in the very reply to a STORE, merged with the STORE's
 * own.  Hence, truth before completeness:
 *
 *	- Without the message's flags before, or its UID, there is no
 *	  event for it (the change is unknown, imap_flags_change()); it is
 *	  counted, and the command's events are marked truncated.
 *	- A report the operation does not explain (the cached flags with
 *	  the operation applied are not what the server says now) shows
 *	  the cache was stale: another session changed the message and the
 *	  server told this one only now, in the same response.  The change
 *	  is then unknown too; only the new flags are kept.  So is a report
 *	  during a .SILENT STORE, which returns none of its own.
 *	- A message a STORE without .SILENT changed is reported: the
 *	  others did not change, even where the cache says the operation
 *	  would have changed them (it was stale: forgotten).  Computing
 *	  their change from the cache would report another session's
 *	  change as this one's.
 *	- +FLAGS only sets, and only its flags; -FLAGS likewise clears: a
 *	  difference outside the operation is not this command's.
 *	- Messages outside the command's set are someone else's news: the
 *	  cache learns their flags, no event.  Such news (or an EXPUNGE, or
 *	  new messages) while the command runs shows the server is telling
 *	  other sessions' changes now: every change it reports for the
 *	  command's messages is then unknown (flags_blind()).
 *	- What stays hidden: another session's change to a message of the
 *	  command that the server tells only in this reply, merged into the
 *	  report, with no other news beside it, when the report reads the
 *	  same either way (a FLAGS replace; the same +FLAGS made twice; a
 *	  FETCH's \Seen).  Telling it would take the other sessions'
 *	  knowledge (cross-session, as for sel_foreign_expunge()).
 *	- A STORE answered NO or BAD gives no event.  RFC 9051 7.1.2: NO
 *	  means the operation failed; a server may have changed some
 *	  messages first (and said so in FETCH responses), but an event
 *	  goes out only when the server said OK, as for every other
 *	  command.  The flags it reported are kept (they are the flags
 *	  now); after NO the other messages of the set are forgotten, as
 *	  they may or may not have changed; after BAD nothing ran.
 *	- A conditional STORE (RFC 7162 3.1.3, UNCHANGEDSINCE) did not
 *	  change the messages its OK lists in [MODIFIED], which arrives
 *	  after their FETCH responses: its changes are held until then.
 */

/* RFC 9051 6.4.5: the fetch items that set \Seen ("BODY.PEEK" does not). */
static bool
fetch_att_seen(const char *s, size_t len)
{
	return (len >= 5 && ascii_ieq(s, 5, "BODY[")) ||
	    (len >= 7 && ascii_ieq(s, 7, "BINARY[")) ||
	    ascii_ieq(s, len, "RFC822") || ascii_ieq(s, len, "RFC822.TEXT");
}

static bool
set_walk_nop(void *ctx, uint32_t first, uint32_t last)
{
	(void)ctx;
	(void)first;
	(void)last;
	return true;
}

/* The command's set was kept whole and is a set (not "$", RFC 5182). */
static bool
fc_set_ok(const struct infer_record *rec)
{
	const struct infer_span *sp = &rec->fc.set;

	return sp->set && !sp->cut && sp->len > 0 &&
	    imap_set_walk(span_data(rec, sp), sp->len, UINT32_MAX, UINT32_MAX,
	    set_walk_nop, NULL) == 0;
}

/* True if N is in the set at SET, "*" being STAR. */
static bool
set_has(const char *set, size_t len, uint32_t star, uint32_t n)
{
	struct imap_set_iter it;
	uint32_t a, b;

	imap_set_iter_init(&it, set, len, star, UINT32_MAX);
	while (imap_set_iter_next(&it, &a, &b) == 1)
		if (n >= a && n <= b)
			return true;
	return false;
}

/*
 * "*" in a UID set (RFC 9051 9): the highest UID in use, the last
 * message's.  When it is unknown, every UID below UIDNEXT is a UID that
 * may be in use, and "n:*" covers them all.
 */
static uint32_t
sel_uid_star(struct imap_infer *infer)
{
	struct infer_sel *sel = &infer->sel;
	uint32_t n = imap_seqmap_count(&sel->map), uid;

	if (n > 0 && imap_seqmap_uid(&sel->map, n, &uid))
		return uid;
	if (sel->uidnext_known && sel->uidnext > 1)
		return sel->uidnext - 1;
	return UINT32_MAX;
}

/*
 * The command whose FETCH responses tell flag changes now: the oldest
 * pending one (the server works on it), if it is a STORE, or a FETCH of
 * a body in a read-write mailbox; NULL otherwise.
 */
static struct infer_cmd *
fr_cmd(struct imap_infer *infer)
{
	struct infer_cmd *head = cmd_head(infer);

	if (head == NULL || head->rec == NULL || !head->complete ||
	    infer->sel.state != SEL_SELECTED)
		return NULL;
	if (head->kind == INFER_K_STORE)
		return head;
	if (head->kind == INFER_K_FETCH && head->rec->fc.body &&
	    !infer->sel.read_only)
		return head;
	return NULL;
}

/*
 * Message SEQ (UID, if HAS_UID) is one of CMD's set.  A UID command's
 * own FETCH responses carry the UID (RFC 9051 6.4.9); one without is
 * someone else's news.
 */
static bool
fr_in_set(struct imap_infer *infer, const struct infer_flagrun *fr,
    const struct infer_cmd *cmd, uint32_t seq, bool has_uid, uint32_t uid)
{
	const struct infer_record *rec = cmd->rec;
	const char *set = span_data(rec, &rec->fc.set);
	uint32_t n = imap_seqmap_count(&infer->sel.map);

	if (!fr->set_ok)
		return false;
	if (!cmd->uid)
		return set_has(set, rec->fc.set.len, n > 0 ? n : 1, seq);
	if (!has_uid)
		return false;
	return set_has(set, rec->fc.set.len, seq == n ? uid :
	    sel_uid_star(infer), uid);
}

/* STORE's flag names, read into flags of the selected mailbox's box. */
static bool
fc_list(struct imap_infer *infer, const struct infer_record *rec,
    struct imap_flags *list_r)
{
	const struct infer_span *sp = &rec->fc.flags;
	const char *s = span_data(rec, sp), *end = s + sp->len, *w;

	list_r->bits = 0;
	if (!sp->set || sp->cut)
		return false;
	while (s < end) {
		if ((w = memchr(s, ' ', (size_t)(end - s))) == NULL)
			w = end;
		if (w > s)
			(void)imap_flags_parse(&infer->sel.box, list_r, s,
			    (size_t)(w - s));
		s = w + 1;
	}
	return true;
}

/*
 * CMD's running state, started now if it is not yet: its flags read in
 * the box as it is now (the mailbox the command runs in).
 */
static struct infer_flagrun *
fr_get(struct imap_infer *infer, struct infer_cmd *cmd)
{
	struct infer_flagrun *fr = &infer->fr;
	const struct infer_record *rec = cmd->rec;

	if (fr->active && fr->seq == cmd->seq)
		return fr;
	fr_release(infer);
	fr->active = true;
	fr->seq = cmd->seq;
	fr->gen = infer->sel.box_gen;
	if (rec == NULL || !cmd->complete || rec->fc.bad)
		return fr;
	if (!(fr->set_ok = fc_set_ok(rec)))
		return fr;
	if (cmd->kind == INFER_K_FETCH) {
		fr->op = IMAP_FLAGS_OP_ADD;
		fr->list.bits = IMAP_FLAGS_SEEN;
		fr->usable = rec->fc.body;
	} else {
		fr->op = (enum imap_flags_op)rec->fc.op;
		fr->usable = fr->op != IMAP_FLAGS_OP_NONE &&
		    fc_list(infer, rec, &fr->list);
	}
	return fr;
}

/* +FLAGS only sets its flags, -FLAGS only clears its flags. */
static void
fr_filter(const struct infer_flagrun *fr, struct imap_flags_change *ch)
{
	if (fr->op == IMAP_FLAGS_OP_ADD) {
		ch->set.bits &= fr->list.bits;
		ch->cleared.bits = 0;
	} else if (fr->op == IMAP_FLAGS_OP_REMOVE) {
		ch->cleared.bits &= fr->list.bits;
		ch->set.bits = 0;
	}
}

static void
fr_batch_add(struct imap_infer *infer, struct infer_flagrun *fr,
    uint32_t uid, const struct imap_flags_change *ch)
{
	if (fr->batch == NULL &&
	    (fr->batch = imap_flags_batch_new(infer->flag_report)) == NULL) {
		fr->cut = true;
		fr->unknown++;
		return;
	}
	if (ch->set.bits != 0 || ch->cleared.bits != 0)
		fr->added++;
	imap_flags_batch_add(fr->batch, uid, ch);
}

/*
 * UID's change CH (NULL: unknown): into the batch, or held until the OK
 * of a conditional STORE, which may say the message did not change.
 */
static void
fr_add(struct imap_infer *infer, struct infer_flagrun *fr,
    const struct infer_cmd *cmd, uint32_t uid,
    const struct imap_flags_change *ch)
{
	struct infer_flagpend *p;
	uint32_t want;

	if (ch != NULL && ch->set.bits == 0 && ch->cleared.bits == 0 &&
	    !ch->inexact)
		return;
	if (!(cmd->kind == INFER_K_STORE && cmd->rec->fc.cond)) {
		if (ch != NULL)
			fr_batch_add(infer, fr, uid, ch);
		else
			fr->unknown++;
		return;
	}
	if (fr->npend == fr->apend) {
		want = fr->apend == 0 ? 16 : fr->apend * 2;
		if (want > IMAP_INFER_COND_MAX)
			want = IMAP_INFER_COND_MAX;
		if (want == fr->apend || (p = realloc(fr->pend,
		    want * sizeof(*p))) == NULL) {
			fr->cut = true;
			fr->unknown++;
			return;
		}
		fr->pend = p;
		fr->apend = want;
	}
	p = &fr->pend[fr->npend++];
	p->uid = uid;
	p->unknown = ch == NULL;
	if (ch != NULL)
		p->change = *ch;
}

/*
 * The server tells of other sessions' changes now (an EXPUNGE, new
 * messages, another message's flags) while a STORE or FETCH of a body
 * runs: this session's view was behind, so the messages of the command
 * may have been changed unseen too.  flags_blind() decides what that
 * costs.
 */
static void
fr_news(struct imap_infer *infer)
{
	struct infer_cmd *cmd = fr_cmd(infer);

	if (cmd != NULL)
		fr_get(infer, cmd)->news = true;
}

/*
 * After news (fr_news()), a change the server reported may be another
 * session's, told now: one that made the same change (+FLAGS of the same
 * flag), or any change at all before a FLAGS replace or a FETCH's \Seen,
 * whose reports are the same whatever the flags before were.  The
 * reports cannot tell: every reported change is unknown.  Called before
 * the changes computed from .SILENT's operation join the batch.
 */
static void
flags_blind(struct infer_flagrun *fr)
{
	if (!fr->news)
		return;
	fr->unknown += fr->added;
	fr->added = 0;
	imap_flags_batch_free(&fr->batch);
}

/*
 * An untagged FETCH response has been read whole (its UID, if any,
 * already learned by the map): its FLAGS update the cache, and if it is
 * about a message of the running STORE or FETCH of a body, the change is
 * that command's.
 */
static void
flags_fetch(struct imap_infer *infer)
{
	struct infer_srv *srv = &infer->srv;
	struct infer_sel *sel = &infer->sel;
	const struct imap_flags none = { 0 }, *rep;
	struct imap_flags old;
	struct imap_flags_change ch, want;
	struct infer_flagrun *fr;
	struct infer_cmd *cmd;
	uint32_t uid = 0;

	if (!sel_sync(infer))
		return;
	if (srv->has_uid)
		uid = srv->uid;
	else if (sel->counted)
		(void)imap_seqmap_uid(&sel->map, srv->num, &uid);
	rep = srv->has_flags ? &srv->flags : NULL;
	if ((cmd = fr_cmd(infer)) != NULL && !fr_in_set(infer,
	    fr_get(infer, cmd), cmd, srv->num, srv->has_uid, uid)) {
		if (rep != NULL)
			infer->fr.news = true;	/* fr_news() */
		cmd = NULL;
	}
	if (cmd == NULL) {
		/* news of the flags now, nothing this session did */
		if (rep == NULL)
			return;
		if (uid == 0)
			infer->flags_unlearned++;
		else
			(void)imap_flags_box_change(&sel->box, uid,
			    IMAP_FLAGS_OP_NONE, none, rep, &ch);
		return;
	}
	fr = fr_get(infer, cmd);
	if (srv->has_modseq &&
	    (!fr->modseq_known || srv->modseq > fr->modseq)) {
		fr->modseq = srv->modseq;
		fr->modseq_known = true;
	}
	if (rep == NULL && !(cmd->kind == INFER_K_FETCH && srv->fetch_body))
		return;		/* MODSEQ alone (RFC 7162 .SILENT) */
	fr->reported++;
	if (uid == 0) {
		/*
		 * A .SILENT STORE counts its messages of unknown UID at
		 * its OK (store_rest()); the others only those reported.
		 * Without \Seen, a FETCH set nothing.
		 */
		if (rep != NULL)
			infer->flags_unlearned++;
		if (cmd->kind == INFER_K_FETCH ?
		    rep == NULL || (rep->bits & IMAP_FLAGS_SEEN) :
		    !cmd->rec->fc.silent)
			fr_add(infer, fr, cmd, 0, NULL);
		return;
	}
	if (cmd->kind == INFER_K_STORE)
		uids_add(&fr->done, uid, uid);
	if (!fr->usable || fr->gen != sel->box_gen) {
		if (rep != NULL)
			(void)imap_flags_box_change(&sel->box, uid,
			    IMAP_FLAGS_OP_NONE, none, rep, &ch);
		else
			(void)imap_flags_box_forget(&sel->box, uid, uid);
		fr_add(infer, fr, cmd, uid, NULL);
		return;
	}
	if (cmd->kind == INFER_K_STORE && cmd->rec->fc.silent) {
		/*
		 * RFC 9051 6.4.6: .SILENT returns no flags, so this is
		 * another session's change, told only now (RFC 7162 3.2)
		 * and merged with this STORE's: the flags before were
		 * stale, what this STORE did is unknown.
		 */
		(void)imap_flags_box_change(&sel->box, uid,
		    IMAP_FLAGS_OP_NONE, none, rep, &ch);
		fr_add(infer, fr, cmd, uid, NULL);
		return;
	}
	if (cmd->kind == INFER_K_FETCH && rep != NULL &&
	    !(rep->bits & IMAP_FLAGS_SEEN)) {
		/* not (yet) seen: news, a later response may say more */
		(void)imap_flags_box_change(&sel->box, uid,
		    IMAP_FLAGS_OP_NONE, none, rep, &ch);
		return;
	}
	if (rep != NULL && imap_flags_box_get(&sel->box, uid, &old)) {
		(void)imap_flags_change(&sel->box, &old, fr->op, fr->list,
		    NULL, &want);
		if (want.now_known && want.now.bits != rep->bits) {
			/* the cache was stale: unknown what this did */
			(void)imap_flags_box_change(&sel->box, uid,
			    IMAP_FLAGS_OP_NONE, none, rep, &ch);
			fr_add(infer, fr, cmd, uid, NULL);
			return;
		}
	}
	if (!imap_flags_box_change(&sel->box, uid, fr->op, fr->list, rep,
	    &ch)) {
		fr_add(infer, fr, cmd, uid, NULL);
		return;
	}
	fr_filter(fr, &ch);
	fr_add(infer, fr, cmd, uid, &ch);
}

/* The rest of a STORE at its tagged response, for store_rest_range(). */
struct store_rest_ctx {
	struct imap_infer *infer;
	struct infer_flagrun *fr;
	const struct infer_uids *in;	/* UID STORE: its set; else NULL */
	const struct infer_uids *mod;	/* [MODIFIED], as UIDs */
	enum {
		REST_COMPUTE,		/* .SILENT: the operation applied */
		REST_CONFIRM,		/* not .SILENT: nothing changed */
		REST_FORGET,		/* NO: may or may not have changed */
	} mode;
};

/*
 * Known UIDs FIRST..LAST of the STORE's messages (UID STORE: to be
 * intersected with its set), those no FETCH response covered and not in
 * [MODIFIED].  After a .SILENT STORE, the operation applied to their
 * cached flags is their change.  Otherwise the server, which "normally
 * returns the updated value" of what a STORE changed (RFC 9051 6.4.6;
 * Dovecot does so for exactly the messages that changed), said nothing
 * of them: they did not change.  Where the cache says the operation
 * would have changed them, the cache was stale, and is forgotten.
 */
static bool
store_rest_uids(void *ctx, uint32_t a, uint32_t b)
{
	struct store_rest_ctx *r = ctx;
	struct imap_flags_box *box = &r->infer->sel.box;
	struct infer_flagrun *fr = r->fr;
	struct imap_flags_change ch;
	struct imap_flags old;
	uint64_t uid;
	uint32_t i;

	for (uid = a; uid <= b; uid++) {
		i = (uint32_t)uid;
		if (uids_has(&fr->done, i) || uids_has(r->mod, i))
			continue;
		if (r->mode == REST_FORGET) {
			(void)imap_flags_box_forget(box, i, i);
			continue;
		}
		if (r->mode == REST_CONFIRM) {
			if (imap_flags_box_get(box, i, &old) &&
			    (!imap_flags_change(box, &old, fr->op, fr->list,
			    NULL, &ch) || !ch.now_known ||
			    ch.now.bits != old.bits))
				(void)imap_flags_box_forget(box, i, i);
			continue;
		}
		if (!imap_flags_box_change(box, i, fr->op, fr->list, NULL,
		    &ch)) {
			fr->unknown++;
			continue;
		}
		fr_filter(fr, &ch);
		fr_batch_add(r->infer, fr, i, &ch);
	}
	return true;
}

static bool
store_rest_range(void *ctx, uint32_t first, uint32_t last)
{
	struct store_rest_ctx *r = ctx;

	if (r->in == NULL)
		return store_rest_uids(r, first, last);
	(void)imap_uidset_walk(&r->in->set, first, last, store_rest_uids, r);
	return true;
}

/* Messages in the text of a sequence set (canonical, no "*"). */
static bool
count_range(void *ctx, uint32_t first, uint32_t last)
{
	*(uint64_t *)ctx += (uint64_t)(last - first) + 1;
	return true;
}

struct store_gaps {
	struct imap_infer *infer;
	const struct infer_uids *in;
	uint64_t n;
};

/*
 * Messages SEQ FIRST..LAST have unknown UIDs, and the map knows the UIDs
 * of the messages beside them (the ranges of imap_seqmap_unknown() are
 * maximal): their UIDs lie between those.  Those that may be in the UID
 * STORE's set count as unknown.
 */
static bool
store_gap(void *ctx, uint32_t first, uint32_t last)
{
	struct store_gaps *g = ctx;
	struct infer_sel *sel = &g->infer->sel;
	uint32_t lo = 1, hi = UINT32_MAX, u;
	uint64_t n = (uint64_t)(last - first) + 1, in;

	if (first > 1 && imap_seqmap_uid(&sel->map, first - 1, &u))
		lo = u + 1;
	if (last < imap_seqmap_count(&sel->map) &&
	    imap_seqmap_uid(&sel->map, last + 1, &u))
		hi = u - 1;
	else if (sel->uidnext_known && sel->uidnext > 1)
		hi = sel->uidnext - 1;
	if (lo > hi)
		return true;
	in = uids_overlap(g->in, lo, hi);
	g->n += in < n ? in : n;
	return true;
}

/*
 * The STORE's messages that no FETCH response covered, at its tagged
 * response: UIDs from its set through the map (a sequence set), or its
 * set among the UIDs the map knows (a UID set; after .SILENT, the
 * messages of unknown UID that may be in it count as unknown).  FORGET
 * (a NO): their flags may or may not have changed, so they are
 * forgotten.
 */
static void
store_rest(struct imap_infer *infer, struct infer_cmd *cmd,
    struct infer_flagrun *fr, const struct infer_uids *mod, bool forget)
{
	const struct infer_record *rec = cmd->rec;
	struct infer_sel *sel = &infer->sel;
	const char *set = span_data(rec, &rec->fc.set);
	size_t len = rec->fc.set.len, tlen;
	struct store_rest_ctx r;
	struct store_gaps g;
	struct infer_uids in;
	char *text;
	bool incomplete;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&in, 0, sizeof(in));
	r.infer = infer;
	r.fr = fr;
	r.mod = mod;
	r.mode = forget ? REST_FORGET : rec->fc.silent ? REST_COMPUTE :
	    REST_CONFIRM;
	if (!sel->counted || (text = malloc(INFER_MAP_TEXT_MAX)) == NULL) {
		(void)imap_flags_box_forget(&sel->box, 1, UINT32_MAX);
		fr->unknown++;
		return;
	}
	if (!cmd->uid) {
		rc = imap_seqmap_resolve(&sel->map, set, len, text,
		    INFER_MAP_TEXT_MAX, &tlen, &incomplete);
		if (rc == -1) {
			/* numbers above the count: a NO, or a doubt */
			(void)imap_flags_box_forget(&sel->box, 1, UINT32_MAX);
			fr->unknown++;
			goto out;
		}
		if (rc == 1)
			fr->cut = true;
		if (tlen > 0)
			(void)imap_set_walk(text, tlen, 0, UINT32_MAX,
			    store_rest_range, &r);
		if (r.mode == REST_COMPUTE && incomplete &&
		    imap_seqmap_unknown(&sel->map, set, len, text,
		    INFER_MAP_TEXT_MAX, &tlen) != -1 && tlen > 0)
			(void)imap_set_walk(text, tlen, 0, UINT32_MAX,
			    count_range, &fr->unknown);
		goto out;
	}
	if (imap_seqmap_count(&sel->map) == 0)
		goto out;
	if (imap_set_walk(set, len, sel_uid_star(infer), UINT32_MAX,
	    uids_walk_add, &in) == -1 || uids_cut(&in)) {
		fr->cut = true;
		fr->unknown++;
	}
	r.in = &in;
	rc = imap_seqmap_resolve(&sel->map, "1:*", 3, text,
	    INFER_MAP_TEXT_MAX, &tlen, &incomplete);
	if (rc == 1)
		fr->cut = true;
	if (rc != -1 && tlen > 0)
		(void)imap_set_walk(text, tlen, 0, UINT32_MAX,
		    store_rest_range, &r);
	if (r.mode == REST_COMPUTE && rc != -1 && incomplete &&
	    imap_seqmap_unknown(&sel->map, "1:*", 3, text,
	    INFER_MAP_TEXT_MAX, &tlen) != -1 && tlen > 0) {
		g.infer = infer;
		g.in = &in;
		g.n = 0;
		(void)imap_set_walk(text, tlen, 0, UINT32_MAX, store_gap, &g);
		fr->unknown += g.n;
	}
out:
	uids_free(&in);
	free(text);
}

/*
 * A conditional STORE's [MODIFIED set] (RFC 7162 3.1.3: sequence
 * numbers, or UIDs after "UID") as UIDs into OUT; false when it cannot
 * be read whole.  Messages of unknown UID in it do not matter: they give
 * no event anyway.
 */
static bool
store_modified(struct imap_infer *infer, struct infer_cmd *cmd,
    struct infer_uids *out)
{
	const struct infer_record *rec = cmd->rec;
	const struct infer_span *sp = &rec->fc.modified;
	char *text;
	size_t tlen;
	bool incomplete, ok = false;

	if (!sp->set)
		return true;
	if (sp->cut)
		return false;
	if (cmd->uid)
		return imap_set_walk(span_data(rec, sp), sp->len, 0,
		    UINT32_MAX, uids_walk_add, out) == 0 && !out->cut;
	if ((text = malloc(INFER_MAP_TEXT_MAX)) == NULL)
		return false;
	if (imap_seqmap_resolve(&infer->sel.map, span_data(rec, sp),
	    sp->len, text, INFER_MAP_TEXT_MAX, &tlen, &incomplete) == 0)
		ok = tlen == 0 || (imap_set_walk(text, tlen, 0, UINT32_MAX,
		    uids_walk_add, out) == 0 && !out->cut);
	free(text);
	return ok;
}

/*
 * The events of the batch: one per (type, flags), for the selected
 * mailbox (split in parts when its UIDs are many and scattered, struct
 * split; flagNames goes in before the long values, so it is never cut).
 * A command with changes it could not tell (FR's unknown, cut, or a
 * change no event could name) marks them all truncated: their uidsets
 * hold the UIDs that are known, never a guess.
 */
static void
flags_emit(struct imap_infer *infer, struct infer_flagrun *fr)
{
	struct imap_flags_event fe;
	struct msgevent ev;
	char buf[MSGEVENT_VALUE_SPACE];
	char names[IMAP_FLAGS_TEXT_MAX];
	struct sbuf sb;
	struct split sp;
	uint32_t dropped;
	size_t i, nlen;
	bool trunc;

	dropped = fr->batch != NULL ? imap_flags_batch_dropped(fr->batch) : 0;
	infer->flags_unknown += fr->unknown + dropped;
	trunc = fr->unknown > 0 || fr->cut || dropped > 0;
	if (fr->batch == NULL)
		return;
	for (i = 0; imap_flags_batch_event(fr->batch, i, &fe, NULL, 0); i++) {
		if (infer->sel.name == NULL) {
			infer->untracked++;	/* the SELECT's name was lost */
			continue;
		}
		msgevent_init(&ev, fe.type);
		ev_common(infer, &ev, false);
		ev_session_user(infer, &ev);
		/*
		 * RFC 5423 5: flagNames goes with FlagsSet and FlagsClear;
		 * set before the long values, it is never cut (each name
		 * whole, IMAP_FLAGS_TEXT_MAX fits an event).
		 */
		if (fe.type == MSGEVENT_FLAGS_SET ||
		    fe.type == MSGEVENT_FLAGS_CLEAR) {
			if (imap_flags_format(&infer->sel.box, fe.flags, names,
			    sizeof(names), &nlen) != 0)
				ev.truncated = true;
			msgevent_set(&ev, MSGEVENT_P_FLAG_NAMES, names, nlen);
		}
		if (fr->modseq_known)
			msgevent_set_uint(&ev, MSGEVENT_P_MODSEQ, fr->modseq);
		sbuf_init(&sb, buf, sizeof(buf));
		sb_sel_url(infer, &sb);
		if (trunc || fe.truncated || sb.cut)
			ev.truncated = true;
		split_init(&sp, infer, &ev, &sb);
		(void)imap_flags_batch_walk(fr->batch, i, split_range, &sp);
		split_end(&sp, false);
	}
}

/* The tagged response to STORE, UID STORE, FETCH or UID FETCH CMD. */
static void
flags_done(struct imap_infer *infer, struct infer_cmd *cmd,
    enum infer_status st)
{
	static const struct infer_uids no_uids;
	struct infer_sel *sel = &infer->sel;
	struct infer_flagrun *fr;
	struct infer_uids mod;
	uint32_t i;

	if (cmd->kind == INFER_K_FETCH) {
		/* its changes came with its FETCH responses, if any */
		if (st == ST_OK && infer->fr.active &&
		    infer->fr.seq == cmd->seq &&
		    infer->fr.gen == sel->box_gen) {
			flags_blind(&infer->fr);
			flags_emit(infer, &infer->fr);
		}
		return;
	}
	if (sel->state != SEL_SELECTED || cmd->rec == NULL || st == ST_BAD ||
	    st == ST_OTHER)
		return;
	fr = fr_get(infer, cmd);
	if (fr->gen != sel->box_gen)
		return;		/* another mailbox's by now */
	if (!fr->usable) {
		/* it changed what cannot be told: forget what it touched */
		if (fr->set_ok)
			store_rest(infer, cmd, fr, &no_uids, true);
		else
			(void)imap_flags_box_forget(&sel->box, 1, UINT32_MAX);
		if (st == ST_OK) {
			fr->unknown += fr->reported > 0 ? 0 : 1;
			flags_emit(infer, fr);
		}
		return;
	}
	if (st == ST_NO) {
		store_rest(infer, cmd, fr, &no_uids, true);
		return;
	}
	memset(&mod, 0, sizeof(mod));
	if (!store_modified(infer, cmd, &mod)) {
		/* which messages failed is not known: none is reported */
		uids_free(&mod);
		store_rest(infer, cmd, fr, &no_uids, true);
		fr->unknown += fr->npend + 1;
		imap_flags_batch_free(&fr->batch);
		flags_emit(infer, fr);
		return;
	}
	for (i = 0; i < fr->npend; i++) {
		if (uids_has(&mod, fr->pend[i].uid))
			continue;	/* it did not change */
		if (fr->pend[i].unknown)
			fr->unknown++;
		else
			fr_batch_add(infer, fr, fr->pend[i].uid,
			    &fr->pend[i].change);
	}
	flags_blind(fr);
	store_rest(infer, cmd, fr, &mod, false);
	uids_free(&mod);
	flags_emit(infer, fr);
}

/* ---- the client direction ---------------------------------------------- */

static void
cur_reset(struct imap_infer *infer)
{
	memset(&infer->cur, 0, sizeof(infer->cur));
}

static void
client_set_text(struct imap_infer *infer, bool text)
{
	infer->client_text = text;
	infer->text_seen = false;
	imap_parser_set_mode(&infer->client,
	    text ? IMAP_PARSER_MODE_TEXT : IMAP_PARSER_MODE_NORMAL);
}

/*
 * Take an argument into name SLOT of the command's record: an atom or
 * quoted string now, a literal's body as it comes (client_literal).
 * Longer than the slot's cap: cut.
 */
static void
arg_take(struct imap_infer *infer, const struct imap_token *tok,
    enum infer_slot slot)
{
	struct infer_cmd *cmd = infer->cur.cmd;

	switch (tok->type) {
	case IMAP_TOKEN_ATOM:
	case IMAP_TOKEN_QUOTED:
		if ((tok->flags & IMAP_TOKEN_F_MORE) && slot_is_set(slot)) {
			/* a long set: the rest follows in fragments */
			span_set(infer, cmd, slot, tok->data, tok->len, false);
			infer->cfrag = cmd->rec != NULL;
			infer->cfrag_slot = (uint8_t)slot;
			break;
		}
		span_set(infer, cmd, slot, tok->data, tok->len,
		    (tok->flags & IMAP_TOKEN_F_TRUNCATED) != 0);
		break;
	case IMAP_TOKEN_LITERAL:
		span_start(cmd->rec, slot);
		infer->cur.lit_keep = true;
		infer->cur.lit_slot = slot;
		break;
	default:
		break;
	}
}

/*
 * RFC 4616 2 PLAIN: message = [authzid] NUL authcid NUL passwd.  The
 * user is the authorization identity: authzid, or authcid when authzid
 * is empty; authcid is also the admin when the two differ (RFC 5423 5,
 * "admin").  The decoded bytes hold the password: they stay in this
 * stack buffer and are wiped before returning.
 */
static void
sasl_plain(struct imap_infer *infer, struct infer_cmd *cmd, const char *data,
    size_t len)
{
	unsigned char buf[INFER_SASL_MAX];
	const unsigned char *z1, *z2;
	size_t zlen, clen;
	ssize_t n;

	n = sbuf_b64_decode(data, len, buf, sizeof(buf));
	if (n <= 0)
		goto out;
	if ((z1 = memchr(buf, '\0', (size_t)n)) == NULL)
		goto out;
	zlen = (size_t)(z1 - buf);
	if ((z2 = memchr(z1 + 1, '\0', (size_t)n - zlen - 1)) == NULL)
		goto out;
	clen = (size_t)(z2 - (z1 + 1));
	if (zlen > 0) {
		span_set(infer, cmd, SLOT_USER, (const char *)buf, zlen,
		    false);
		if (cmd->rec != NULL &&
		    (clen != zlen || memcmp(buf, z1 + 1, zlen) != 0))
			span_set(infer, cmd, SLOT_ADMIN, (const char *)z1 + 1,
			    clen, false);
	} else
		span_set(infer, cmd, SLOT_USER, (const char *)z1 + 1, clen,
		    false);
out:
	explicit_bzero(buf, sizeof(buf));
}

/* LOGIN (draft-murchison-sasl-login): the first response is the user. */
static void
sasl_login(struct imap_infer *infer, struct infer_cmd *cmd, const char *data,
    size_t len)
{
	unsigned char buf[INFER_SASL_MAX];
	ssize_t n;

	n = sbuf_b64_decode(data, len, buf, sizeof(buf));
	if (n >= 0)
		span_set(infer, cmd, SLOT_USER, (const char *)buf, (size_t)n,
		    false);
	explicit_bzero(buf, sizeof(buf));
}

/*
 * One SASL response of an AUTHENTICATE: the initial response on the
 * command line (RFC 4959) or a client line after a "+" (RFC 9051
 * 6.2.2), where "*" cancels.  Only the first response is looked at, and
 * only for PLAIN and LOGIN; later ones (LOGIN's password) never are.
 */
static void
auth_response(struct imap_infer *infer, struct infer_cmd *cmd,
    const char *data, size_t len)
{
	struct infer_auth *a;

	if (cmd == NULL || cmd->rec == NULL)
		return;
	a = &cmd->rec->auth;
	if (len == 1 && data[0] == '*') {
		a->cancelled = true;
		return;
	}
	if (len == 1 && data[0] == '=')
		len = 0;	/* RFC 4959 3: "=" is an empty response */
	/*
	 * An empty PLAIN response holds no credentials (the server asks
	 * again with "+"), so it does not count.  Every LOGIN response
	 * counts: were an empty user skipped, the password would be
	 * taken for the user.
	 */
	if (len == 0 && ascii_ieq(a->mech, a->mech_len, "PLAIN"))
		return;
	if (a->step++ != 0)
		return;
	if (ascii_ieq(a->mech, a->mech_len, "PLAIN"))
		sasl_plain(infer, cmd, data, len);
	else if (ascii_ieq(a->mech, a->mech_len, "LOGIN"))
		sasl_login(infer, cmd, data, len);
}

/*
 * PLAIN with an initial response that decoded (RFC 4616 is one message,
 * client first): the client has nothing more to send, and may pipeline
 * its next command in the same read, so its lines stay commands.  A
 * stray SASL line would read harmlessly as a lone tag: base64 is all
 * ATOM-CHARs.
 */
static bool
auth_done(const struct infer_cmd *cmd)
{
	const struct infer_auth *a;

	if (cmd->rec == NULL)
		return false;
	a = &cmd->rec->auth;
	return a->step > 0 && a->user.set &&
	    ascii_ieq(a->mech, a->mech_len, "PLAIN");
}

/* The open APPEND message, or NULL when it is not kept. */
static struct infer_msg *
cur_msg(struct imap_infer *infer)
{
	struct infer_cur *cur = &infer->cur;

	if (!cur->msg_kept || cur->cmd == NULL || cur->cmd->rec == NULL)
		return NULL;
	return rec_msg(cur->cmd->rec, cur->msg_off);
}

/* An APPEND message group starts (flags, date, extension or data). */
static void
append_open(struct imap_infer *infer)
{
	struct infer_cur *cur = &infer->cur;
	struct infer_record *rec;
	size_t pad;
	uint32_t off;

	if (cur->msg_open)
		return;
	cur->msg_open = true;
	cur->msg_kept = false;
	if (cur->cmd == NULL || (rec = cur->cmd->rec) == NULL)
		return;
	if (rec->mb.nmsg == IMAP_INFER_APPEND_MAX) {
		infer->untracked++;
		return;
	}
	off = msg_align(rec->used);
	pad = off - rec->used;
	if (!rec_reserve(infer, cur->cmd, pad + sizeof(struct infer_msg)))
		return;
	rec = cur->cmd->rec;
	memset(rec->arena + rec->used, 0, pad + sizeof(struct infer_msg));
	rec->used = off + (uint32_t)sizeof(struct infer_msg);
	if (rec->mb.nmsg++ == 0)
		rec->mb.msg_first = off;
	cur->msg_kept = true;
	cur->msg_off = off;
}

static void
append_close(struct imap_infer *infer)
{
	infer->cur.msg_open = false;
	infer->cur.msg_kept = false;
	infer->cur.in_flags = false;
	infer->cur.in_ext = false;
	infer->cur.ext_next = false;
}

/* A flag of the message's flag list; RFC 5423 5 flagNames: no \Recent. */
static void
append_flag(struct imap_infer *infer, const struct imap_token *tok)
{
	struct infer_cur *cur = &infer->cur;
	struct infer_record *rec;
	struct infer_msg *m;
	unsigned char *p;
	size_t need;

	if ((m = cur_msg(infer)) == NULL ||
	    ascii_ieq(tok->data, tok->len, "\\Recent"))
		return;
	rec = cur->cmd->rec;
	/* The message's flags are the arena's last item. */
	assert(cur->msg_off + sizeof(*m) + m->flags_len == rec->used);
	need = tok->len + (m->flags_len > 0);
	if ((tok->flags & IMAP_TOKEN_F_TRUNCATED) ||
	    need > (size_t)IMAP_INFER_FLAGS_MAX - rec->mb.flags_used) {
		m->flags_cut = true;
		return;
	}
	if (!rec_reserve(infer, cur->cmd, need))
		return;
	rec = cur->cmd->rec;
	m = rec_msg(rec, cur->msg_off);
	p = rec->arena + rec->used;
	if (m->flags_len > 0)
		*p++ = ' ';
	memcpy(p, tok->data, tok->len);
	rec->used += (uint32_t)need;
	rec->mb.flags_used = (uint16_t)(rec->mb.flags_used + need);
	m->flags_len = (uint16_t)(m->flags_len + need);
}

/*
 * APPEND's tokens after the mailbox.  RFC 3502 2: append-message =
 * [SP flag-list] [SP date-time] SP append-data, repeated; append-data
 * is a literal, a literal8 (RFC 3516 4.4), or an extension: RFC 6855
 * "UTF8 (literal8)" (sized) and RFC 4469 "CATENATE (...)" (size not
 * known here).  DEPTH is the nesting before a "(" and after a ")".
 */
static void
append_token(struct imap_infer *infer, const struct imap_token *tok,
    unsigned depth)
{
	struct infer_cur *cur = &infer->cur;
	struct infer_msg *m;

	switch (tok->type) {
	case IMAP_TOKEN_LIST_BEGIN:
		if (depth != 0)
			break;
		if (cur->ext_next) {
			cur->ext_next = false;
			cur->in_ext = true;
		} else {
			append_open(infer);
			cur->in_flags = true;
		}
		break;
	case IMAP_TOKEN_LIST_END:
		if (depth != 0)
			break;
		if (cur->in_ext)
			append_close(infer);
		cur->in_flags = false;
		break;
	case IMAP_TOKEN_ATOM:
		if (cur->in_flags && depth == 1)
			append_flag(infer, tok);
		else if (depth == 0 &&
		    (ascii_ieq(tok->data, tok->len, "UTF8") ||
		    ascii_ieq(tok->data, tok->len, "CATENATE"))) {
			append_open(infer);
			cur->ext_next = true;
			cur->ext_utf8 = ascii_ieq(tok->data, tok->len, "UTF8");
		}
		break;
	case IMAP_TOKEN_QUOTED:
		if (depth == 0)
			append_open(infer);	/* date-time */
		break;
	case IMAP_TOKEN_LITERAL:
		if (depth == 0 && !cur->in_ext) {
			append_open(infer);
			if ((m = cur_msg(infer)) != NULL) {
				m->size = tok->literal_size;
				m->has_size = true;
			}
			append_close(infer);
		} else if (cur->in_ext && cur->ext_utf8 &&
		    (m = cur_msg(infer)) != NULL) {
			m->size = tok->literal_size;
			m->has_size = true;
		}
		break;
	default:
		break;
	}
}

/*
 * STORE's item (RFC 9051 6.4.6 store-att-flags: ["+"/"-"] "FLAGS"
 * [".SILENT"]), after RFC 7162 3.1.3's optional modifier list
 * "(UNCHANGEDSINCE n)".  Anything else (RFC 5257 ANNOTATION, a Gmail
 * extension) is not understood: no events.
 */
static void
store_item(struct imap_infer *infer, const struct imap_token *tok,
    unsigned depth)
{
	struct infer_cmd *cmd = infer->cur.cmd;
	struct infer_flagcmd *fc = &cmd->rec->fc;
	const char *p = tok->data;
	size_t n = tok->len;
	enum imap_flags_op op = IMAP_FLAGS_OP_REPLACE;

	if (fc->in_mod) {
		if (tok->type == IMAP_TOKEN_LIST_END && depth == 0)
			fc->in_mod = false;
		else if (tok->type == IMAP_TOKEN_ATOM && depth == 1 &&
		    ascii_ieq(p, n, "UNCHANGEDSINCE"))
			fc->cond = true;
		return;
	}
	if (tok->type == IMAP_TOKEN_LIST_BEGIN && depth == 0 &&
	    !fc->mod_seen) {
		fc->in_mod = fc->mod_seen = true;
		return;
	}
	if (tok->type != IMAP_TOKEN_ATOM || depth != 0) {
		fc->bad = true;
		return;
	}
	if (n > 0 && (p[0] == '+' || p[0] == '-')) {
		op = p[0] == '+' ? IMAP_FLAGS_OP_ADD : IMAP_FLAGS_OP_REMOVE;
		p++;
		n--;
	}
	if (n > 7 && ascii_ieq(p + n - 7, 7, ".SILENT")) {
		fc->silent = true;
		n -= 7;
	}
	if (!ascii_ieq(p, n, "FLAGS")) {
		fc->bad = true;
		return;
	}
	fc->op = (uint8_t)op;
	span_start(cmd->rec, SLOT_FLAGS);
}

/*
 * A flag of STORE's list, "(\Seen $Work)", or of the bare form "\Seen
 * $Work" (RFC 9051 store-att-flags: flag-list / (flag *(SP flag))).
 */
static void
store_flag(struct imap_infer *infer, const struct imap_token *tok,
    unsigned depth)
{
	struct infer_cmd *cmd = infer->cur.cmd;
	struct infer_flagcmd *fc = &cmd->rec->fc;

	if (tok->type == IMAP_TOKEN_LIST_BEGIN && depth == 0 &&
	    !fc->list_seen && fc->flags.len == 0) {
		fc->list_seen = true;
		return;
	}
	if (tok->type == IMAP_TOKEN_LIST_END && depth == 0 && fc->list_seen)
		return;
	if (tok->type != IMAP_TOKEN_ATOM ||
	    depth != (fc->list_seen ? 1u : 0u)) {
		fc->bad = true;
		return;
	}
	if (tok->flags & IMAP_TOKEN_F_TRUNCATED)
		fc->flags.cut = true;
	if (fc->flags.len > 0)
		span_add(infer, cmd, SLOT_FLAGS, " ", 1);
	if (cmd->rec != NULL)
		span_add(infer, cmd, SLOT_FLAGS, tok->data, tok->len);
}

/*
 * Argument I (2: the first) of STORE, UID STORE, FETCH or UID FETCH: the
 * set, kept as sent; then FETCH's items (whether one sets \Seen; RFC
 * 7162 modifiers follow them and do not matter), or STORE's modifiers,
 * item and flags.
 */
static void
client_flags_arg(struct imap_infer *infer, const struct imap_token *tok,
    unsigned depth, unsigned i)
{
	struct infer_cmd *cmd = infer->cur.cmd;
	struct infer_flagcmd *fc = &cmd->rec->fc;

	if (fc->bad)
		return;
	if (i == 2) {
		if (depth == 0 && tok->type == IMAP_TOKEN_ATOM)
			arg_take(infer, tok, SLOT_SET);
		else
			fc->bad = true;
		return;
	}
	if (infer->cur.kind == INFER_K_FETCH) {
		if (i == 3 && tok->type == IMAP_TOKEN_ATOM && depth <= 1 &&
		    fetch_att_seen(tok->data, tok->len))
			fc->body = true;
		return;
	}
	if (fc->op == IMAP_FLAGS_OP_NONE)
		store_item(infer, tok, depth);
	else
		store_flag(infer, tok, depth);
}

/*
 * Argument I (2: the first) of UID COPY, UID MOVE or UID EXPUNGE: the
 * UID set, kept when it is an atom (a set the parser cut is marked so),
 * and COPY's and MOVE's destination.
 */
static void
client_uid_arg(struct imap_infer *infer, const struct imap_token *tok,
    unsigned depth, unsigned i)
{
	if (infer->cur.kind == INFER_K_STORE ||
	    infer->cur.kind == INFER_K_FETCH) {
		client_flags_arg(infer, tok, depth, i);
		return;
	}
	if (depth != 0)
		return;
	switch (infer->cur.kind) {
	case INFER_K_COPY:
	case INFER_K_MOVE:
	case INFER_K_EXPUNGE:
		if (i == 2 && tok->type == IMAP_TOKEN_ATOM)
			arg_take(infer, tok, SLOT_UIDSET);
		else if (i == 3 && infer->cur.kind != INFER_K_EXPUNGE)
			arg_take(infer, tok, SLOT_NAME0);
		break;
	default:
		break;
	}
}

/*
 * RFC 9208 4.1.3: SETQUOTA quota-root "(" [setquota-resource *(SP
 * setquota-resource)] ")", a resource being a name and a limit.  The
 * root (index 2) is not kept; the limits of STORAGE and MESSAGE are.
 * Anything else marks the record q_bad: no event.
 */
static void
setquota_arg(struct imap_infer *infer, const struct imap_token *tok,
    unsigned depth, unsigned i)
{
	struct infer_mbox *mb = &infer->cur.cmd->rec->mb;
	uint64_t v;

	if (i == 2 && depth == 0)
		return;
	if (i != 3) {
		mb->q_bad = true;
		return;
	}
	if (depth == 0) {
		if (tok->type == IMAP_TOKEN_LIST_BEGIN && !mb->q_list)
			mb->q_list = true;
		else if (tok->type != IMAP_TOKEN_LIST_END || mb->q_pos != 0)
			mb->q_bad = true;
		return;
	}
	if (depth != 1) {
		mb->q_bad = true;
		return;
	}
	if (mb->q_pos == 0) {
		if (tok->type != IMAP_TOKEN_ATOM)
			mb->q_bad = true;
		mb->q_res = (uint8_t)qres_lookup(tok);
		mb->q_pos = 1;
		return;
	}
	mb->q_pos = 0;
	if (!parse_u64(tok, &v)) {
		mb->q_bad = true;
		return;
	}
	if (mb->q_res == QRES_STORAGE) {
		mb->q_storage = v;
		mb->q_has_storage = true;
	} else if (mb->q_res == QRES_MESSAGE) {
		mb->q_message = v;
		mb->q_has_message = true;
	}
}

/* The command word (after the tag, or after "UID"). */
static void
client_command(struct imap_infer *infer, const struct imap_token *tok)
{
	struct infer_cur *cur = &infer->cur;
	struct infer_cmd *cmd;
	enum infer_kind kind;

	kind = tok->type == IMAP_TOKEN_ATOM ?
	    kind_lookup(tok->data, tok->len) : INFER_K_OTHER;
	if (cur->uid) {
		/* UID FETCH/STORE/COPY/MOVE/EXPUNGE/SEARCH (RFC 9051 6.4.9) */
		cur->kind = kind;
		if (cur->cmd == NULL)
			return;
		cur->cmd->kind = (uint8_t)kind;
		if ((kinds[kind].flags & KF_UID_RECORD) &&
		    !rec_new(infer, cur->cmd))
			infer->untracked++;
		return;
	}
	cur->kind = kind;
	if (kind == INFER_K_UID)
		cur->uid = true;
	if (cur->answered) {
		/*
		 * Completed already (server_line_end()): nothing will
		 * complete it again.  A selection it made went unseen.
		 */
		if (kind == INFER_K_SELECT || kind == INFER_K_EXAMINE ||
		    kind == INFER_K_CLOSE || kind == INFER_K_UNSELECT)
			sel_none(infer);
		return;
	}
	if (cur->tag_long || (cmd = cmd_add(infer, cur->tag,
	    cur->tag_len)) == NULL) {
		infer->untracked++;
		/*
		 * The server will change the selection without this
		 * session seeing when: follow no mailbox rather than
		 * report the next one's expunges under the old name.
		 */
		if (kind == INFER_K_SELECT || kind == INFER_K_EXAMINE ||
		    kind == INFER_K_CLOSE || kind == INFER_K_UNSELECT)
			sel_none(infer);
		return;
	}
	cmd->kind = (uint8_t)kind;
	cmd->uid = cur->uid;
	cur->cmd = cmd;
	if ((kinds[kind].flags & KF_RECORD) && !rec_new(infer, cmd))
		infer->untracked++;
}

/*
 * An argument of LIST (RFC 9051 6.3.9, RFC 5258 3: [(selection)]
 * reference pattern [RETURN (options)]) or LSUB (RFC 3501 6.3.9:
 * reference pattern): does it list every subscription, do its
 * responses say \Subscribed (subs_listed())?
 */
static void
list_arg(struct imap_infer *infer, const struct imap_token *tok,
    unsigned depth)
{
	struct infer_cur *cur = &infer->cur;
	struct infer_cmd *cmd = cur->cmd;

	if (depth > 0) {
		if (depth == 1 && tok->type == IMAP_TOKEN_ATOM &&
		    ascii_ieq(tok->data, tok->len, "SUBSCRIBED")) {
			if (cur->list_in == LIST_IN_SELECT)
				cmd->list |= LISTF_SUBSEL | LISTF_SUBSTATE;
			else if (cur->list_in == LIST_IN_RETURN)
				cmd->list |= LISTF_SUBSTATE;
		}
		return;
	}
	if (tok->type == IMAP_TOKEN_LIST_END) {
		cur->list_in = LIST_IN_NONE;
		return;
	}
	if (tok->type == IMAP_TOKEN_LIST_BEGIN) {
		if (cur->list_arg == 0 && cur->kind == INFER_K_LIST)
			cur->list_in = LIST_IN_SELECT;
		else if (cur->list_arg == 1) {
			cur->list_in = LIST_IN_PATTERNS;
			cur->list_arg++;
			cmd->list |= LISTF_ODD;
		} else if (cur->list_return)
			cur->list_in = LIST_IN_RETURN;
		else
			cur->list_in = LIST_IN_OTHER;
		return;
	}
	if (cur->list_arg >= 2 && tok->type == IMAP_TOKEN_ATOM &&
	    ascii_ieq(tok->data, tok->len, "RETURN")) {
		cur->list_return = true;
		return;
	}
	switch (cur->list_arg < 2 ? cur->list_arg++ : 2) {
	case 0:
		if (tok->type == IMAP_TOKEN_QUOTED && tok->len == 0)
			cmd->list |= LISTF_REF_EMPTY;
		break;
	case 1:
		if ((tok->type == IMAP_TOKEN_ATOM ||
		    tok->type == IMAP_TOKEN_QUOTED) && tok->len == 1 &&
		    tok->data[0] == '*')
			cmd->list |= LISTF_ALL;
		break;
	default:
		cmd->list |= LISTF_ODD;
		break;
	}
}

/*
 * An argument (top-level INDEX >= 2, or >= 3 after "UID") of the
 * command being read.
 */
static void
client_arg(struct imap_infer *infer, const struct imap_token *tok,
    unsigned depth)
{
	struct infer_cur *cur = &infer->cur;
	struct infer_record *rec;
	struct infer_auth *a;
	unsigned i = tok->index;
	size_t j;

	if (cur->cmd != NULL && !cur->uid && (cur->kind == INFER_K_LIST ||
	    cur->kind == INFER_K_LSUB)) {
		list_arg(infer, tok, depth);
		return;
	}
	if (cur->cmd == NULL || (rec = cur->cmd->rec) == NULL)
		return;
	if (cur->uid) {
		client_uid_arg(infer, tok, depth, i - 1);
		return;
	}
	a = &rec->auth;
	switch (cur->kind) {
	case INFER_K_LOGIN:
		/* RFC 9051 6.2.3: LOGIN userid password (astrings) */
		if (i == 2 && depth == 0)
			arg_take(infer, tok, SLOT_USER);
		/* the password (i == 3) is not looked at, nor kept */
		break;
	case INFER_K_AUTHENTICATE:
		/* RFC 9051 6.2.2, RFC 4959: mechanism [initial-response] */
		if (i == 2 && tok->type == IMAP_TOKEN_ATOM) {
			a->mech_len = (uint8_t)(tok->len < sizeof(a->mech) ?
			    tok->len : sizeof(a->mech));
			for (j = 0; j < a->mech_len; j++)
				a->mech[j] = ascii_upper(tok->data[j]);
		} else if (i == 3 && tok->type == IMAP_TOKEN_ATOM)
			auth_response(infer, cur->cmd, tok->data, tok->len);
		break;
	case INFER_K_CREATE:
	case INFER_K_DELETE:
	case INFER_K_SUBSCRIBE:
	case INFER_K_UNSUBSCRIBE:
	case INFER_K_RENAME:
	case INFER_K_APPEND:
		if (i == 2 && depth == 0)
			arg_take(infer, tok, SLOT_NAME0);
		else if (i == 3 && depth == 0 && cur->kind == INFER_K_RENAME)
			arg_take(infer, tok, SLOT_NAME1);
		else if (i > 2 && cur->kind == INFER_K_APPEND)
			append_token(infer, tok, depth);
		break;
	case INFER_K_SELECT:
	case INFER_K_EXAMINE:
		/* RFC 9051 6.3.1: SELECT mailbox [(parameters)] */
		if (i == 2 && depth == 0)
			arg_take(infer, tok, SLOT_NAME0);
		break;
	case INFER_K_COPY:
	case INFER_K_MOVE:
		/* RFC 9051 6.4.7, RFC 6851 3.1: COPY sequence-set mailbox */
		if (i == 3 && depth == 0)
			arg_take(infer, tok, SLOT_NAME0);
		break;
	case INFER_K_STORE:
	case INFER_K_FETCH:
		client_flags_arg(infer, tok, depth, i);
		break;
	case INFER_K_SETQUOTA:
		setquota_arg(infer, tok, depth, i);
		break;
	default:
		break;
	}
}

/*
 * A client line read in TEXT mode: a SASL response during
 * AUTHENTICATE, or what ends IDLE (RFC 2177 3: "DONE"; a server takes
 * any other line as the end of IDLE as well, with BAD).
 */
static void
client_text_line(struct imap_infer *infer, const char *data, size_t len)
{
	infer->text_seen = true;
	if (infer->auth != NULL)
		auth_response(infer, infer->auth, data, len);
}

static void
client_token(struct imap_parser *parser, const struct imap_token *tok)
{
	struct imap_infer *infer = parser->data;
	struct infer_cur *cur = &infer->cur;
	struct imap_token first;
	unsigned depth;

	if (infer->blind || infer->ended)
		return;
	if (tok->flags & IMAP_TOKEN_F_PART) {
		client_frag(infer, tok);
		return;
	}
	infer->cfrag = false;
	if (tok->flags & IMAP_TOKEN_F_MORE) {
		/* a long atom's first piece: truncated, but for sets */
		first = *tok;
		first.flags |= IMAP_TOKEN_F_TRUNCATED;
		tok = &first;
	}
	if (tok->type == IMAP_TOKEN_TEXT) {
		if (infer->client_text)
			client_text_line(infer, tok->data, tok->len);
		return;
	}
	if (infer->client_text)
		return;
	if (tok->index == 0) {
		cur_reset(infer);
		if (tok->type != IMAP_TOKEN_ATOM)
			return;
		/* RFC 9051 2.2.1: the tag.  "*" and "+" are no tags. */
		cur->active = true;
		cur->tag_long = tok->len > IMAP_INFER_TAG_MAX ||
		    (tok->flags & IMAP_TOKEN_F_TRUNCATED);
		if (!cur->tag_long) {
			memcpy(cur->tag, tok->data, tok->len);
			cur->tag_len = tok->len;
		}
		return;
	}
	if (!cur->active)
		return;
	/* Our own nesting count: depth before "(", after ")". */
	if (tok->type == IMAP_TOKEN_LIST_BEGIN)
		depth = cur->depth++;
	else if (tok->type == IMAP_TOKEN_LIST_END)
		depth = cur->depth > 0 ? --cur->depth : 0;
	else
		depth = cur->depth;
	cur->lit_sync_wait = tok->type == IMAP_TOKEN_LITERAL &&
	    !(tok->flags & IMAP_TOKEN_F_NONSYNC);
	if (tok->type == IMAP_TOKEN_LITERAL)
		cur->lit_keep = false;	/* unless arg_take keeps its body */
	if (tok->index == 1)
		client_command(infer, tok);
	else if (tok->index == 2 && cur->uid && depth == 0 &&
	    tok->type != IMAP_TOKEN_LIST_BEGIN && cur->kind == INFER_K_UID)
		client_command(infer, tok);
	else
		client_arg(infer, tok, depth);
}

/*
 * A later fragment of a long client atom (IMAP_TOKEN_F_PART): the rest
 * of the set arg_take() started, or nothing.
 */
static void
client_frag(struct imap_infer *infer, const struct imap_token *tok)
{
	struct infer_cmd *cmd = infer->cur.cmd;

	if (!infer->cfrag)
		return;
	if (cmd == NULL || cmd->rec == NULL)
		infer->cfrag = false;
	else
		span_add(infer, cmd, (enum infer_slot)infer->cfrag_slot,
		    tok->data, tok->len);
	if (!(tok->flags & IMAP_TOKEN_F_MORE))
		infer->cfrag = false;
}

/* A literal's body bytes: kept only for user and mailbox names. */
static void
client_literal(struct imap_parser *parser, const char *data, size_t len)
{
	struct imap_infer *infer = parser->data;
	struct infer_cur *cur = &infer->cur;

	cur->lit_sync_wait = false;
	if (infer->blind || infer->ended || !cur->lit_keep ||
	    cur->cmd == NULL || cur->cmd->rec == NULL)
		return;
	span_add(infer, cur->cmd, cur->lit_slot, data, len);
}

static void
client_line_end(struct imap_parser *parser)
{
	struct imap_infer *infer = parser->data;
	struct infer_cur *cur = &infer->cur;

	if (infer->blind || infer->ended)
		return;
	if (infer->client_text) {
		/* A TEXT line ended.  An empty one had no token. */
		if (!infer->text_seen && infer->auth != NULL)
			auth_response(infer, infer->auth, "", 0);
		infer->text_seen = false;
		if (infer->idling) {
			infer->idling = false;
			client_set_text(infer, false);
		}
		return;
	}
	if (cur->cmd != NULL) {
		cur->cmd->complete = true;
		reg_cmd_hold(infer, cur->cmd);
	}
	if (cur->active && !cur->uid && !cur->answered) {
		/*
		 * Switch at the end of the command line, not at the
		 * server's "+": the client may send DONE (RFC 2177) in the
		 * same read, and SASL responses follow the command line
		 * with nothing else in between (RFC 9051 6.2.2).
		 */
		if (cur->kind == INFER_K_AUTHENTICATE && cur->cmd != NULL &&
		    !auth_done(cur->cmd)) {
			infer->auth = cur->cmd;
			client_set_text(infer, true);
		} else if (cur->kind == INFER_K_IDLE) {
			infer->idling = true;
			client_set_text(infer, true);
		}
	}
	cur_reset(infer);
}

/* ---- the server direction ---------------------------------------------- */

static void
go_blind(struct imap_infer *infer, const char *reason)
{
	infer->blind = true;
	infer->blind_reason = reason;
}

static bool
parse_u32(const char *s, size_t len, size_t *i, uint32_t *v_r)
{
	uint64_t v = 0;
	size_t start = *i;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (uint64_t)(s[*i] - '0');
		if (v > UINT32_MAX)
			return false;
		(*i)++;
	}
	*v_r = (uint32_t)v;
	return *i > start;
}

/*
 * RFC 4315 3: APPENDUID uidvalidity uid-set, the UIDs in the order the
 * messages were appended (RFC 3502 MULTIAPPEND).  Pair the i-th UID with
 * the i-th message; ranges are walked as written ("4:2" is 4,3,2) and
 * never further than the messages there are.
 */
static void
appenduid_uids(struct infer_record *rec, const char *s, size_t len)
{
	struct infer_msg *m;
	size_t i = 0;
	unsigned k = 0;
	uint32_t a, b, u, off = rec->mb.msg_first;

	while (i < len && k < rec->mb.nmsg) {
		if (!parse_u32(s, len, &i, &a))
			return;
		b = a;
		if (i < len && s[i] == ':') {
			i++;
			if (!parse_u32(s, len, &i, &b))
				return;
		}
		for (u = a; k < rec->mb.nmsg; u = a <= b ? u + 1 : u - 1) {
			m = rec_msg(rec, off);
			m->uid = u;
			m->has_uid = true;
			off = msg_next(rec, off);
			k++;
			if (u == b)
				break;
		}
		if (i < len && s[i] != ',')
			return;
		i++;
	}
}

/*
 * The server_token() helpers below stay out of line (INFER_COLD), so
 * that the common token, a FETCH item, costs no register saves.
 */
#define INFER_COLD	__attribute__((noinline, cold))

static enum infer_code
code_lookup(const char *s, size_t len)
{
	int c;

	for (c = 1; c < CODE_COUNT; c++)
		if (ascii_ieq(s, len, code_names[c]))
			return (enum infer_code)c;
	return CODE_OTHER;
}

/*
 * COPYUID (RFC 4315 3) comes in the tagged OK of COPY, UID COPY, MOVE
 * or UID MOVE, or for a MOVE in an untagged OK before its expunges (RFC
 * 6851 4.3).  The command it is for, if it has a record and no COPYUID
 * was started for it yet: only the first is read, whole or not (the
 * record's arena has room for one pair of sets, INFER_ARENA_COPY).
 */
static struct infer_cmd *
copyuid_cmd(struct imap_infer *infer)
{
	struct infer_srv *srv = &infer->srv;
	struct infer_cmd *cmd;

	if (srv->status != ST_OK)
		return NULL;
	if (srv->kind == SRV_TAGGED)
		cmd = srv->cmd;
	else if (srv->kind == SRV_UNTAGGED) {
		cmd = cmd_head(infer);
		if (cmd != NULL && cmd->kind != INFER_K_MOVE)
			cmd = NULL;
	} else
		cmd = NULL;
	/* a record whose last item may still grow is left alone */
	if (cmd == NULL || cmd->rec == NULL || cmd->rec->mb.copyuid_seen ||
	    !cmd->complete ||
	    (cmd->kind != INFER_K_COPY && cmd->kind != INFER_K_MOVE))
		return NULL;
	cmd->rec->mb.copyuid_seen = true;
	return cmd;
}

/* COPYUID's set number K (0: source, 1: destination) into its record. */
static void
copyuid_set(struct imap_infer *infer, const struct imap_token *tok, int k)
{
	struct infer_cmd *cmd = infer->srv.copy_cmd;

	if (tok->type != IMAP_TOKEN_ATOM) {
		infer->srv.copy_cmd = NULL;
		return;
	}
	if (tok->flags & IMAP_TOKEN_F_MORE) {
		/* the rest follows in fragments (server_frag()) */
		span_set(infer, cmd, k == 0 ? SLOT_SRC : SLOT_DST, tok->data,
		    tok->len, false);
		infer->sfrag = SFRAG_COPYUID;
		infer->sfrag_slot = k == 0 ? SLOT_SRC : SLOT_DST;
	} else
		span_set(infer, cmd, k == 0 ? SLOT_SRC : SLOT_DST, tok->data,
		    tok->len, (tok->flags & IMAP_TOKEN_F_TRUNCATED) != 0);
	if (cmd->rec == NULL)
		infer->srv.copy_cmd = NULL;	/* dropped at the budget */
	else if (k == 1)
		cmd->rec->mb.copyuid = true;
}

/* An atom of a capability list: UIDPLUS (RFC 4315), or IMAP4rev2. */
static INFER_COLD void
server_capa_atom(struct imap_infer *infer, const struct imap_token *tok)
{
	if (ascii_ieq(tok->data, tok->len, "UIDPLUS") ||
	    ascii_ieq(tok->data, tok->len, "IMAP4rev2"))
		infer->srv.cap_uidplus = true;
}

/* A token inside the response code "[...]" (RFC 9051 7.1). */
static INFER_COLD void
server_code_token(struct imap_infer *infer, const struct imap_token *tok)
{
	struct infer_srv *srv = &infer->srv;
	struct infer_mbox *mb;
	size_t i = 0;
	uint64_t n = 0;
	uint32_t v;

	if (tok->type == IMAP_TOKEN_LIST_BEGIN) {
		/* RFC 9051 7.1: "PERMANENTFLAGS" SP "(" [flag-perm ...] ")" */
		if (srv->code_depth++ == 0 && srv->code_i == 1 &&
		    srv->code_kind == CODE_PERMANENTFLAGS &&
		    srv->kind == SRV_UNTAGGED && srv->status == ST_OK) {
			srv->perm_list = true;
			srv->perm.bits = 0;
			srv->flags_ok = sel_sync(infer);
		}
		return;
	}
	if (tok->type == IMAP_TOKEN_LIST_END) {
		if (srv->code_depth > 0 && --srv->code_depth == 0)
			srv->code_i++;
		return;
	}
	if (srv->code_depth > 0) {
		if (srv->code_depth == 1 && srv->perm_list && srv->flags_ok &&
		    tok->type == IMAP_TOKEN_ATOM) {
			if (tok->flags & IMAP_TOKEN_F_TRUNCATED)
				srv->perm.bits |= IMAP_FLAGS_OTHER;
			else if (imap_flags_parse(&infer->sel.box, &srv->perm,
			    tok->data, tok->len) == 1)
				srv->perm_star = true;
		}
		return;
	}
	if (srv->code_kind == CODE_CAPABILITY && srv->code_i > 0) {
		srv->code_i++;
		if (tok->type == IMAP_TOKEN_ATOM)
			server_capa_atom(infer, tok);
		return;
	}
	switch (srv->code_i++) {
	case 0:
		if (tok->type != IMAP_TOKEN_ATOM)
			break;
		srv->code_len = tok->len < sizeof(srv->code) ?
		    tok->len : sizeof(srv->code);
		memcpy(srv->code, tok->data, srv->code_len);
		srv->code_kind = code_lookup(tok->data, tok->len);
		srv->appenduid = srv->kind == SRV_TAGGED &&
		    srv->status == ST_OK && srv->cmd != NULL &&
		    srv->cmd->kind == INFER_K_APPEND && !srv->cmd->uid &&
		    srv->cmd->rec != NULL && srv->code_kind == CODE_APPENDUID;
		if (srv->code_kind == CODE_COPYUID)
			srv->copy_cmd = copyuid_cmd(infer);
		if (srv->code_kind == CODE_CAPABILITY) {
			srv->cap_list = true;
			srv->cap_uidplus = false;
		}
		break;
	case 1:
		/* UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ: a number */
		if (tok->type == IMAP_TOKEN_ATOM && tok->len <= 20) {
			for (i = 0; i < tok->len && tok->data[i] >= '0' &&
			    tok->data[i] <= '9' && n <= (UINT64_MAX - 9) / 10;
			    i++)
				n = n * 10 + (uint64_t)(tok->data[i] - '0');
			srv->code_num = n;
			srv->code_num_ok = i == tok->len && i > 0;
			i = 0;
		}
		if (srv->copy_cmd != NULL) {
			if (srv->code_num_ok && n != 0 && n <= UINT32_MAX)
				srv->copy_cmd->rec->mb.uidvalidity =
				    (uint32_t)n;
			else
				srv->copy_cmd = NULL;
		}
		/*
		 * RFC 7162 3.1.3: a conditional STORE's OK lists the
		 * messages it did not change; its record is complete, so
		 * the set can go at the arena's end.
		 */
		if (srv->code_kind == CODE_MODIFIED &&
		    srv->kind == SRV_TAGGED && srv->cmd != NULL &&
		    srv->cmd->kind == INFER_K_STORE &&
		    srv->cmd->rec != NULL && srv->cmd->complete &&
		    !srv->cmd->rec->fc.modified.set &&
		    tok->type == IMAP_TOKEN_ATOM) {
			span_set(infer, srv->cmd, SLOT_MODIFIED, tok->data,
			    tok->len, (tok->flags & (IMAP_TOKEN_F_TRUNCATED |
			    IMAP_TOKEN_F_MORE)) == IMAP_TOKEN_F_TRUNCATED);
			if (tok->flags & IMAP_TOKEN_F_MORE) {
				infer->sfrag = SFRAG_MODIFIED;
				infer->sfrag_slot = SLOT_MODIFIED;
			}
		}
		if (!srv->appenduid)
			break;
		mb = &srv->cmd->rec->mb;
		if (tok->type == IMAP_TOKEN_ATOM &&
		    parse_u32(tok->data, tok->len, &i, &v) && i == tok->len &&
		    v != 0) {
			mb->uidvalidity = v;
			mb->appenduid = true;
		} else
			srv->appenduid = false;
		break;
	case 2:
		if (srv->appenduid && tok->type == IMAP_TOKEN_ATOM)
			appenduid_uids(srv->cmd->rec, tok->data, tok->len);
		if (srv->copy_cmd != NULL)
			copyuid_set(infer, tok, 0);
		break;
	case 3:
		if (srv->copy_cmd != NULL)
			copyuid_set(infer, tok, 1);
		break;
	default:
		break;
	}
}

/*
 * The server line's state back to its start, for the next line: the
 * scalars only (tag and code bytes count by their lengths).
 */
static void
srv_reset(struct infer_srv *srv)
{
	srv->kind = SRV_NONE;
	srv->status = ST_OTHER;
	srv->cmd = NULL;
	srv->tag_len = 0;
	srv->tag_long = false;
	srv->in_code = false;
	srv->code_seen = false;
	srv->code_depth = 0;
	srv->code_i = 0;
	srv->code_len = 0;
	srv->code_kind = CODE_OTHER;
	srv->code_num_ok = false;
	srv->appenduid = false;
	srv->copy_cmd = NULL;
	srv->bye_timeout = false;
	srv->resp = RESP_NONE;
	srv->has_num = false;
	srv->fetch_value = false;
	srv->fetch_item = FI_OTHER;
	srv->fetch_list = FI_OTHER;
	srv->has_uid = false;
	srv->flags_ok = false;
	srv->has_flags = false;
	srv->flags.bits = 0;
	srv->fetch_body = false;
	srv->has_modseq = false;
	srv->vanished_earlier = false;
	srv->perm_list = false;
	srv->perm_star = false;
	srv->perm.bits = 0;
	srv->quota_text = false;
	srv->name_partial = false;
	srv->q_open = false;
	srv->q_closed = false;
	srv->q_bad = false;
	srv->q_pos = 0;
	srv->q_res = QRES_OTHER;
	srv->q_used = 0;
	memset(&srv->q, 0, sizeof(srv->q));
	srv->list_lsub = false;
	srv->list_subscribed = false;
	srv->list_noselect = false;
	srv->cap_list = false;
	srv->cap_uidplus = false;
}

/* A response's first token: "*", "+" or a tag (RFC 9051 7). */
static INFER_COLD void
server_tag(struct imap_infer *infer, const struct imap_token *tok)
{
	struct infer_srv *srv = &infer->srv;

	if (tok->len == 1 && tok->data[0] == '*')
		srv->kind = SRV_UNTAGGED;
	else if (tok->len == 1 && tok->data[0] == '+')
		srv->kind = SRV_CONT;
	else {
		srv->kind = SRV_TAGGED;
		srv->tag_long = tok->len > IMAP_INFER_TAG_MAX;
		if (!srv->tag_long) {
			memcpy(srv->tag, tok->data, tok->len);
			srv->tag_len = tok->len;
			srv->cmd = cmd_find(infer, tok->data, tok->len);
		}
	}
}

/*
 * RFC 9051 7.1.5: BYE before a close the client did not ask for.
 * Autologout is what the RFC's example says; Dovecot says "Disconnected
 * for inactivity".
 */
static INFER_COLD void
server_bye_text(struct imap_infer *infer, const struct imap_token *tok)
{
	if (ascii_icontains(tok->data, tok->len, "autologout") ||
	    ascii_icontains(tok->data, tok->len, "idle") ||
	    ascii_icontains(tok->data, tok->len, "inactivity"))
		infer->srv.bye_timeout = true;
}

/*
 * An item of a FETCH response's list (depth 1): names and values
 * alternate (RFC 9051 7.5.2 msg-att), a value being one token or one
 * list.  Kept, wherever in the list they are: the UID item's value, the
 * FLAGS list (read by server_fetch_list_atom() into the selected
 * mailbox's flags), RFC 7162's MODSEQ list, and whether a body item
 * (BODY[...], BINARY[...], RFC822, RFC822.TEXT: what may set \Seen)
 * came.
 */
static void
server_fetch_item(struct imap_infer *infer, const struct imap_token *tok)
{
	struct infer_srv *srv = &infer->srv;
	size_t i = 0;
	uint32_t v;

	if (!srv->fetch_value) {
		srv->fetch_value = true;
		srv->fetch_item = FI_OTHER;
		if (tok->type != IMAP_TOKEN_ATOM)
			return;
		if (tok->len == 3 && ascii_ieq(tok->data, 3, "UID"))
			srv->fetch_item = FI_UID;
		else if (tok->len == 5 && ascii_ieq(tok->data, 5, "FLAGS"))
			srv->fetch_item = FI_FLAGS;
		else if (tok->len == 6 && ascii_ieq(tok->data, 6, "MODSEQ"))
			srv->fetch_item = FI_MODSEQ;
		else if (fetch_att_seen(tok->data, tok->len))
			srv->fetch_body = true;
		return;
	}
	srv->fetch_value = false;
	switch (srv->fetch_item) {
	case FI_UID:
		if (tok->type == IMAP_TOKEN_ATOM &&
		    parse_u32(tok->data, tok->len, &i, &v) &&
		    i == tok->len && v != 0) {
			srv->uid = v;
			srv->has_uid = true;
		}
		break;
	case FI_FLAGS:
		if (tok->type != IMAP_TOKEN_LIST_BEGIN)
			break;
		/*
		 * Enter a SELECT the server works on before a keyword is
		 * interned: the box is reset when one is entered.
		 */
		srv->fetch_list = FI_FLAGS;
		srv->flags.bits = 0;
		srv->flags_ok = sel_sync(infer);
		break;
	case FI_MODSEQ:
		if (tok->type == IMAP_TOKEN_LIST_BEGIN)
			srv->fetch_list = FI_MODSEQ;
		break;
	default:
		break;
	}
	srv->fetch_item = FI_OTHER;
}

/* An atom inside the FLAGS or MODSEQ list of a FETCH response. */
static void
server_fetch_list_atom(struct imap_infer *infer, const struct imap_token *tok)
{
	struct infer_srv *srv = &infer->srv;
	uint64_t n = 0;
	size_t i;

	if (srv->fetch_list == FI_FLAGS) {
		if (!srv->flags_ok)
			return;
		if (tok->flags & IMAP_TOKEN_F_TRUNCATED)
			srv->flags.bits |= IMAP_FLAGS_OTHER;
		else
			(void)imap_flags_parse(&infer->sel.box, &srv->flags,
			    tok->data, tok->len);
		return;
	}
	/* RFC 7162 3.1.4: mod-sequence-value, 1 to 2^63 - 1 */
	for (i = 0; i < tok->len && tok->data[i] >= '0' &&
	    tok->data[i] <= '9' && n <= (UINT64_MAX - 9) / 10; i++)
		n = n * 10 + (uint64_t)(tok->data[i] - '0');
	if (i == tok->len && i > 0 && n > 0) {
		srv->modseq = n;
		srv->has_modseq = true;
	}
}

/* The FLAGS or MODSEQ list of a FETCH response ended. */
static void
server_fetch_list_end(struct imap_infer *infer)
{
	struct infer_srv *srv = &infer->srv;

	if (srv->fetch_list == FI_FLAGS && srv->flags_ok)
		srv->has_flags = true;
	srv->fetch_list = FI_OTHER;
}

/*
 * An untagged response's atoms at index 1 to 3 outside a code: "* NUM
 * EXISTS|EXPUNGE|FETCH" and "* VANISHED [(EARLIER)] uid-set".
 */
static INFER_COLD void
server_untagged_atom(struct imap_infer *infer, const struct imap_token *tok)
{
	struct infer_srv *srv = &infer->srv;
	size_t i = 0;

	switch (tok->index) {
	case 1:
		if (srv->status != ST_OTHER)
			break;
		if (parse_u32(tok->data, tok->len, &i, &srv->num) &&
		    i == tok->len)
			srv->has_num = true;
		else if (ascii_ieq(tok->data, tok->len, "VANISHED"))
			srv->resp = RESP_VANISHED;
		else if (ascii_ieq(tok->data, tok->len, "QUOTA")) {
			srv->resp = RESP_QUOTA;
			srv->q.under = true;
		}
		else if (ascii_ieq(tok->data, tok->len, "LIST") ||
		    ascii_ieq(tok->data, tok->len, "LSUB")) {
			srv->resp = RESP_LIST;
			srv->list_lsub = ascii_ieq(tok->data, tok->len, "LSUB");
		} else if (ascii_ieq(tok->data, tok->len, "CAPABILITY")) {
			srv->resp = RESP_CAPABILITY;
			srv->cap_list = true;
			srv->cap_uidplus = false;
		}
		else if (ascii_ieq(tok->data, tok->len, "FLAGS")) {
			/* RFC 9051 7.3.5: the mailbox's flags, keywords
			   interned in the server's order */
			srv->resp = RESP_FLAGS;
			srv->flags_ok = sel_sync(infer);
		}
		break;
	case 2:
		if (srv->resp == RESP_FLAGS) {
			if (srv->flags_ok && tok->depth == 1 &&
			    !(tok->flags & IMAP_TOKEN_F_TRUNCATED))
				(void)imap_flags_parse(&infer->sel.box,
				    &srv->flags, tok->data, tok->len);
		} else if (srv->has_num && tok->depth == 0) {
			if (ascii_ieq(tok->data, tok->len, "EXISTS"))
				srv->resp = RESP_EXISTS;
			else if (ascii_ieq(tok->data, tok->len, "EXPUNGE"))
				srv->resp = RESP_EXPUNGE;
			else if (ascii_ieq(tok->data, tok->len, "FETCH"))
				srv->resp = RESP_FETCH;
		} else if (srv->resp == RESP_VANISHED && tok->depth == 1) {
			if (ascii_ieq(tok->data, tok->len, "EARLIER"))
				srv->vanished_earlier = true;
		} else if (srv->resp == RESP_VANISHED && tok->depth == 0) {
			/*
			 * RFC 7162 3.2.10.2.  (EARLIER) (3.2.10.1) is
			 * history the client asked for: no change, no
			 * event; its set comes at index 3 and is not read.
			 */
			if (tok->flags & IMAP_TOKEN_F_MORE)
				vfrag_start(infer, tok);
			else
				sel_vanished(infer, tok->data, tok->len,
				    (tok->flags & IMAP_TOKEN_F_TRUNCATED) != 0);
		}
		break;
	default:
		break;
	}
}

/*
 * A token of "* QUOTA root (resource usage limit ...)" after the word
 * QUOTA (RFC 9208; RFC 2087 the same): the root (index 2) is
 * not kept, the list (index 3) is read in threes.  Anything else makes
 * the response unread (q_bad).
 */
static INFER_COLD void
server_quota_token(struct imap_infer *infer, const struct imap_token *tok)
{
	struct infer_srv *srv = &infer->srv;
	struct infer_quota *q = &srv->q;
	uint64_t v;

	if (tok->index == 2 && tok->depth == 0)
		return;		/* the quota root */
	if (tok->index != 3 || srv->q_closed) {
		srv->q_bad = true;
		return;
	}
	if (tok->depth == 0) {
		if (tok->type == IMAP_TOKEN_LIST_BEGIN && !srv->q_open)
			srv->q_open = true;
		else if (tok->type == IMAP_TOKEN_LIST_END && srv->q_open)
			srv->q_closed = true;
		else
			srv->q_bad = true;
		return;
	}
	if (tok->depth != 1 || !srv->q_open) {
		srv->q_bad = true;
		return;
	}
	switch (srv->q_pos) {
	case 0:
		if (tok->type != IMAP_TOKEN_ATOM)
			srv->q_bad = true;
		srv->q_res = (uint8_t)qres_lookup(tok);
		srv->q_pos = 1;
		return;
	case 1:
		if (!parse_u64(tok, &srv->q_used))
			srv->q_bad = true;
		srv->q_pos = 2;
		return;
	default:
		srv->q_pos = 0;
		if (!parse_u64(tok, &v)) {
			srv->q_bad = true;
			return;
		}
		break;
	}
	q->nres++;
	if (srv->q_used >= v)
		q->under = false;
	if (srv->q_res == QRES_STORAGE && !q->has_storage) {
		q->has_storage = true;
		q->storage_used = srv->q_used;
		q->storage_limit = v;
	} else if (srv->q_res == QRES_MESSAGE && !q->has_message) {
		q->has_message = true;
		q->message_used = srv->q_used;
		q->message_limit = v;
	}
}

/*
 * A token of "* LIST|LSUB (attributes) delimiter name [extended]" (RFC
 * 9051 7.3.1, RFC 3501 7.2.3, RFC 5258 3) after the word: the
 * attributes that speak of subscription, the hierarchy delimiter
 * (sb_create_url()), and the name (subs_listed()).  A name sent as a
 * literal is not read.
 */
static INFER_COLD void
server_list_token(struct imap_infer *infer, const struct imap_token *tok)
{
	struct infer_srv *srv = &infer->srv;

	switch (tok->index) {
	case 2:
		if (tok->depth != 1 || tok->type != IMAP_TOKEN_ATOM)
			break;
		if (ascii_ieq(tok->data, tok->len, "\\Subscribed"))
			srv->list_subscribed = true;
		else if (ascii_ieq(tok->data, tok->len, "\\Noselect"))
			srv->list_noselect = true;
		break;
	case 3:
		if (tok->depth == 0 && tok->type == IMAP_TOKEN_QUOTED &&
		    tok->len == 1)
			infer->hier_delim = tok->data[0];
		break;
	case 4:
		if (tok->depth != 0)
			break;
		if (tok->type == IMAP_TOKEN_ATOM ||
		    tok->type == IMAP_TOKEN_QUOTED)
			subs_listed(infer, tok->data, tok->len,
			    (tok->flags & IMAP_TOKEN_F_TRUNCATED) != 0);
		else
			subs_listed(infer, NULL, 0, true);
		break;
	default:
		break;
	}
}

/*
 * A server set in fragments ends without its last piece (cannot happen
 * with the parser's guarantees, but never leave state behind).
 */
static void
server_frag_abort(struct imap_infer *infer)
{
	vfrag_free(infer);
	infer->sfrag = SFRAG_NONE;
}

/*
 * A later fragment of a long server atom (IMAP_TOKEN_F_PART): the rest
 * of COPYUID's set, [MODIFIED]'s, or VANISHED's, or nothing.
 */
static void
server_frag(struct imap_infer *infer, const struct imap_token *tok)
{
	struct infer_cmd *cmd;
	bool last = !(tok->flags & IMAP_TOKEN_F_MORE);

	switch (infer->sfrag) {
	case SFRAG_COPYUID:
	case SFRAG_MODIFIED:
		cmd = infer->sfrag == SFRAG_COPYUID ? infer->srv.copy_cmd :
		    infer->srv.cmd;
		if (cmd == NULL || cmd->rec == NULL) {
			infer->sfrag = SFRAG_NONE;
			if (infer->srv.copy_cmd == cmd)
				infer->srv.copy_cmd = NULL;
			return;
		}
		span_add(infer, cmd, (enum infer_slot)infer->sfrag_slot,
		    tok->data, tok->len);
		if (cmd->rec == NULL && infer->srv.copy_cmd == cmd)
			infer->srv.copy_cmd = NULL;	/* the budget */
		break;
	case SFRAG_VANISHED:
		if (infer->vfrag == NULL) {
			/* no memory for it: unreadable */
			if (last) {
				infer->sfrag = SFRAG_NONE;
				sel_vanished(infer, "", 0, false);
			}
			return;
		}
		(void)imap_set_reader_feed(&infer->vfrag->reader, tok->data,
		    tok->len, vanish_piece_range, infer);
		if (last) {
			infer->sfrag = SFRAG_NONE;
			sel_vanished_uids(infer, imap_set_reader_end(
			    &infer->vfrag->reader, vanish_piece_range,
			    infer) != 0);
		}
		return;
	default:
		return;
	}
	if (last)
		infer->sfrag = SFRAG_NONE;
}

static void
server_token(struct imap_parser *parser, const struct imap_token *tok)
{
	struct imap_infer *infer = parser->data;
	struct infer_srv *srv = &infer->srv;
	struct imap_token first;

	if (infer->blind || infer->ended)
		return;
	if (tok->flags & IMAP_TOKEN_F_PART) {
		server_frag(infer, tok);
		return;
	}
	server_frag_abort(infer);
	if (tok->flags & IMAP_TOKEN_F_MORE) {
		/* a long atom's first piece: truncated, but for sets */
		first = *tok;
		first.flags |= IMAP_TOKEN_F_TRUNCATED;
		tok = &first;
	}
	/*
	 * Most tokens are a FETCH response's items: settle them with as
	 * few tests as possible, on the type and the index first.
	 */
	switch (tok->type) {
	case IMAP_TOKEN_ATOM:
		if (srv->in_code)
			break;
		if (srv->resp == RESP_QUOTA) {
			server_quota_token(infer, tok);
			return;
		}
		if (srv->resp == RESP_LIST) {
			server_list_token(infer, tok);
			return;
		}
		if (srv->resp == RESP_CAPABILITY) {
			server_capa_atom(infer, tok);
			return;
		}
		if (srv->resp == RESP_FETCH) {
			if (tok->depth == 1)
				server_fetch_item(infer, tok);
			else if (tok->depth == 2 &&
			    srv->fetch_list != FI_OTHER)
				server_fetch_list_atom(infer, tok);
			return;
		}
		if (tok->index == 0)
			server_tag(infer, tok);
		else if (tok->index == 1) {
			srv->status = status_map[tok->status];
			if (srv->kind == SRV_UNTAGGED)
				server_untagged_atom(infer, tok);
		} else if (srv->kind == SRV_UNTAGGED && tok->index == 2)
			server_untagged_atom(infer, tok);
		return;
	case IMAP_TOKEN_CODE_BEGIN:
		if (!srv->code_seen)
			srv->in_code = true;
		return;
	case IMAP_TOKEN_CODE_END:
		srv->in_code = false;
		srv->code_seen = true;
		return;
	case IMAP_TOKEN_TEXT:
		if (srv->kind == SRV_UNTAGGED && srv->status == ST_BYE)
			server_bye_text(infer, tok);
		else if (srv->kind == SRV_TAGGED && srv->status == ST_NO &&
		    (!srv->code_seen || ascii_ieq(srv->code, srv->code_len,
		    "ALERT")) && ascii_icontains(tok->data, tok->len, "quota"))
			srv->quota_text = true;
		return;
	default:
		if (srv->in_code)
			break;
		if (srv->resp == RESP_QUOTA) {
			server_quota_token(infer, tok);
			return;
		}
		if (srv->resp == RESP_LIST) {
			server_list_token(infer, tok);
			return;
		}
		if (srv->resp == RESP_FETCH && tok->depth == 1) {
			if (tok->type != IMAP_TOKEN_LIST_END)
				server_fetch_item(infer, tok);
			else if (srv->fetch_list != FI_OTHER)
				server_fetch_list_end(infer);
		}
		return;
	}
	server_code_token(infer, tok);
}

/* Response literals (FETCH bodies) are jumped over, never looked at. */
static void
server_literal(struct imap_parser *parser, const char *data, size_t len)
{
	(void)parser;
	(void)data;
	(void)len;
}

struct isect_ctx {
	const struct infer_uids *b;
	struct infer_uids *out;
};

/* A range of A: what B holds of it goes out. */
static bool
isect_range(void *ctx, uint32_t first, uint32_t last)
{
	struct isect_ctx *c = ctx;

	(void)imap_uidset_walk(&c->b->set, first, last, uids_walk_add,
	    c->out);
	return true;
}

/* OUT gets the UIDs in both A and B. */
static void
uids_isect(const struct infer_uids *a, const struct infer_uids *b,
    struct infer_uids *out)
{
	struct isect_ctx c = { b, out };

	(void)uids_walk(a, isect_range, &c);
}

/* True if the sequence set at SET has an item that is "*" alone. */
static bool
set_has_lone_star(const char *set, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (set[i] == '*' && (i == 0 || set[i - 1] == ',') &&
		    (i + 1 == len || set[i + 1] == ','))
			return true;
	return false;
}

/*
 * OK to EXPUNGE (RFC 9051 6.4.3), UID EXPUNGE (RFC 4315 2.1), or a MOVE
 * without COPYUID: one MessageExpunge for what it removed.
 *
 * While it runs, a server also announces removals it had not told this
 * session yet (Dovecot does, other sessions' EXPUNGEs included): for an
 * EXPUNGE they cannot be told apart, but a UID command removes only
 * messages of its UID set, so the others are left out (and are someone
 * else's, sel_foreign_expunge()).  In the set, "*" is the highest UID
 * in use: "n:*" is all UIDs from n on, exactly; a lone "*" is one
 * message, the highest, which cannot be named among several removals
 * outside the rest of the set (the event then says truncated).  A set
 * the parser cut, or "$" (RFC 5182), is no filter.
 */
static void
expunge_done(struct imap_infer *infer, struct infer_cmd *cmd)
{
	const struct infer_record *rec = cmd->rec;
	struct infer_uids all, filt, own;
	const char *set;
	uint64_t rest;
	size_t len;

	memset(&all, 0, sizeof(all));
	memset(&filt, 0, sizeof(filt));
	memset(&own, 0, sizeof(own));
	if (infer->xp_active && infer->xp_seq == cmd->seq) {
		all = infer->xp;	/* taken over, freed below */
		memset(&infer->xp, 0, sizeof(infer->xp));
		infer->xp_active = false;
	}
	if (cmd->uid && rec != NULL && rec->mb.uidset.set &&
	    !rec->mb.uidset.cut) {
		set = span_data(rec, &rec->mb.uidset);
		len = rec->mb.uidset.len;
		if (imap_set_walk(set, len, UINT32_MAX, UINT32_MAX,
		    uids_walk_add, &filt) == 0 && !uids_cut(&filt)) {
			uids_isect(&all, &filt, &own);
			own.unknown = all.unknown;
			own.cut = uids_cut(&own) || uids_cut(&all);
			rest = uids_count(&all) - uids_count(&own);
			if (set_has_lone_star(set, len) && rest + all.unknown > 1)
				own.cut = true;
			else if (set_has_lone_star(set, len) && rest == 1)
				/* the "*" one */
				(void)uids_walk(&all, uids_walk_add, &own);
			emit_expunge(infer, &own, infer->sel.counted,
			    imap_seqmap_count(&infer->sel.map));
			if (!uids_cut(&own))	/* else whose is unsure */
				foreign_rest(infer, &all, &own);
			goto out;
		}
	}
	emit_expunge(infer, &all, infer->sel.counted,
	    imap_seqmap_count(&infer->sel.map));
out:
	uids_free(&all);
	uids_free(&filt);
	uids_free(&own);
}

/*
 * OK to MOVE or UID MOVE: the source side.  COPYUID's source set is
 * exactly the messages moved, hence removed (RFC 6851 3.3), whether the
 * map knew their UIDs or not; without it, what the EXPUNGE or VANISHED
 * responses told.
 */
static void
move_done(struct imap_infer *infer, struct infer_cmd *cmd)
{
	const struct infer_record *rec = cmd->rec;
	struct infer_uids src;

	if (rec == NULL || !rec->mb.copyuid || !rec->mb.src.set) {
		expunge_done(infer, cmd);
		return;
	}
	memset(&src, 0, sizeof(src));
	uids_add_set(&src, span_data(rec, &rec->mb.src), rec->mb.src.len,
	    rec->mb.src.cut);
	emit_expunge(infer, &src, infer->sel.counted,
	    imap_seqmap_count(&infer->sel.map));
	/* removals announced meanwhile that it did not make */
	if (infer->xp_active && infer->xp_seq == cmd->seq && !uids_cut(&src))
		foreign_rest(infer, &infer->xp, &src);
	uids_free(&src);
}

/*
 * Whether MOVE or UID MOVE CMD announced a removal of its own while it
 * ran: any removal, or for UID MOVE one that may be in its UID set (the
 * cut expunge_done() makes).
 */
static bool
move_removed(struct imap_infer *infer, const struct infer_cmd *cmd)
{
	const struct infer_record *rec = cmd->rec;
	const struct infer_uids *all = &infer->xp;
	struct infer_uids filt, in;
	const char *set;
	size_t len;
	bool some;

	if (!infer->xp_active || infer->xp_seq != cmd->seq)
		return false;
	if (all->unknown > 0 || uids_cut(all))
		return true;
	if (uids_empty(all))
		return false;
	if (!cmd->uid || rec == NULL || !rec->mb.uidset.set ||
	    rec->mb.uidset.cut)
		return true;
	set = span_data(rec, &rec->mb.uidset);
	len = rec->mb.uidset.len;
	if (set_has_lone_star(set, len))
		return true;
	memset(&filt, 0, sizeof(filt));
	memset(&in, 0, sizeof(in));
	if (imap_set_walk(set, len, UINT32_MAX, UINT32_MAX, uids_walk_add,
	    &filt) != 0 || uids_cut(&filt))
		some = true;
	else {
		uids_isect(all, &filt, &in);
		some = !uids_empty(&in) || uids_cut(&in);
	}
	uids_free(&filt);
	uids_free(&in);
	return some;
}

/*
 * The tagged response to COPY, UID COPY, MOVE or UID MOVE (RFC 9051
 * 6.4.7, RFC 6851).
 *
 * OK: MessageAppend in the destination (emit_copy()) and, for a MOVE,
 * MessageExpunge in the source - unless nothing was copied: a UID set
 * that names no message is no error (RFC 9051 6.4.9; Dovecot answers
 * "OK No messages found").  A MOVE announces the removal of what it
 * moved before its OK (RFC 6851 4.3); one without COPYUID that
 * announced no removal of its own moved nothing.  A COPY without
 * COPYUID from a server that announced UIDPLUS (or IMAP4rev2, which
 * has it) copied nothing: such a server returns COPYUID for what it
 * copies (RFC 4315 3).  From other servers a COPY without COPYUID is
 * reported without UIDs.
 *
 * NO: nothing was copied, and QuotaExceed when it was for quota.  A
 * MOVE answered NO may still have removed messages: Dovecot 2.3, moving
 * within one mailbox and meeting a message another session expunged
 * (NO [EXPUNGEISSUED]), has expunged the messages before it, copied
 * none, and announced their EXPUNGE.  Those removals happened and are
 * reported as an EXPUNGE's are (expunge_done(): what was announced while
 * the MOVE ran, for UID MOVE of its UID set; another session's removal
 * announced meanwhile cannot be told from the MOVE's own).
 */
static void
copy_done(struct imap_infer *infer, struct infer_cmd *cmd,
    enum infer_status st)
{
	struct infer_uids none;
	bool move = cmd->kind == INFER_K_MOVE;
	bool copyuid = cmd->rec != NULL && cmd->rec->mb.copyuid;

	if (st == ST_NO && quota_refused(infer))
		emit_quota_exceed(infer, cmd);
	if (st == ST_OK && (copyuid || !move)) {
		if (!copyuid && infer->uidplus)
			return;		/* nothing copied */
		if (cmd->complete && cmd->rec != NULL)
			emit_copy(infer, cmd);
		/* RFC 6851 3.1: a MOVE is a COPY and an expunge */
		if (move)
			move_done(infer, cmd);
		return;
	}
	if (!move)
		return;
	if ((st == ST_OK || st == ST_NO) && move_removed(infer, cmd)) {
		if (st == ST_OK && cmd->complete && cmd->rec != NULL)
			emit_copy(infer, cmd);
		expunge_done(infer, cmd);
		return;
	}
	/* it moved nothing: removals announced meanwhile are others' */
	if (infer->xp_active && infer->xp_seq == cmd->seq) {
		memset(&none, 0, sizeof(none));
		foreign_rest(infer, &infer->xp, &none);
	}
}

/* The tagged response to CMD has been read whole. */
static void
complete(struct imap_infer *infer, struct infer_cmd *cmd)
{
	enum infer_status st = infer->srv.status;
	bool ok = st == ST_OK;

	/* Answered before its line ended: the rest is not looked at. */
	if (cmd == infer->cur.cmd)
		cur_reset(infer);
	/* RFC 7162: e.g. EXPUNGE's OK tells the new HIGHESTMODSEQ */
	if (ok && infer->srv.code_kind >= CODE_UIDVALIDITY &&
	    infer->srv.code_kind <= CODE_NOMODSEQ)
		sel_code(infer, infer->srv.code_kind, infer->srv.code_num,
		    infer->srv.code_num_ok);
	switch (cmd->kind) {
	case INFER_K_LOGIN:
	case INFER_K_AUTHENTICATE:
		if (cmd->uid)
			break;
		if (infer->auth == cmd)
			client_set_text(infer, false);
		if (ok && cmd->complete)
			emit_login(infer, cmd, true);
		else if ((st == ST_NO || st == ST_BAD) &&
		    !(cmd->rec != NULL && cmd->rec->auth.cancelled))
			emit_login(infer, cmd, false);
		break;
	case INFER_K_LOGOUT:
		if (ok && !cmd->uid)
			emit_logout(infer, IMAP_INFER_END_GRACEFUL);
		break;
	case INFER_K_CREATE:
	case INFER_K_DELETE:
	case INFER_K_RENAME:
	case INFER_K_SUBSCRIBE:
	case INFER_K_UNSUBSCRIBE:
		if (ok && cmd->complete && cmd->rec != NULL && !cmd->uid)
			emit_mailbox(infer, cmd);
		break;
	case INFER_K_APPEND:
		if (ok && cmd->complete && cmd->rec != NULL && !cmd->uid)
			emit_append(infer, cmd);
		else if (st == ST_NO && !cmd->uid && quota_refused(infer))
			emit_quota_exceed(infer, cmd);
		break;
	case INFER_K_SETQUOTA:
		if (ok && cmd->complete && cmd->rec != NULL && !cmd->uid)
			emit_quota_change(infer, cmd);
		break;
	case INFER_K_SELECT:
	case INFER_K_EXAMINE:
		if (!cmd->uid)
			sel_select_done(infer, cmd, st);
		break;
	case INFER_K_CLOSE:
		if (ok && !cmd->uid)
			sel_close(infer);
		break;
	case INFER_K_UNSELECT:
		/* RFC 3691: closed without expunging */
		if (ok && !cmd->uid)
			sel_none(infer);
		break;
	case INFER_K_EXPUNGE:
		if (ok)
			expunge_done(infer, cmd);
		break;
	case INFER_K_STORE:
	case INFER_K_FETCH:
		flags_done(infer, cmd, st);
		break;
	case INFER_K_COPY:
	case INFER_K_MOVE:
		copy_done(infer, cmd, st);
		break;
	case INFER_K_LIST:
	case INFER_K_LSUB:
		/* a full listing that listed nothing says so too */
		if (!list_full(cmd))
			break;
		if (ok && !subs_listing_of(infer, cmd->seq))
			subs_listing_start(infer, cmd);
		if (subs_listing_of(infer, cmd->seq))
			subs_listing_end(infer, ok);
		break;
	case INFER_K_IDLE:
		/* Ended by the server, without DONE (refused IDLE). */
		if (infer->idling) {
			infer->idling = false;
			client_set_text(infer, false);
		}
		break;
	case INFER_K_STARTTLS:
		/* RFC 9051 6.2.1: TLS starts right after the OK. */
		if (ok && !cmd->uid)
			go_blind(infer, "STARTTLS accepted: TLS between client "
			    "and server");
		break;
	case INFER_K_COMPRESS:
		/* RFC 4978 3: compression starts right after the OK. */
		if (ok && !cmd->uid)
			go_blind(infer, "COMPRESS accepted: the streams are "
			    "compressed");
		break;
	default:
		break;
	}
	cmd_done(infer, cmd);
}

/* An untagged response has been read whole: what it says applies. */
static void
server_untagged_end(struct imap_infer *infer)
{
	struct infer_srv *srv = &infer->srv;

	switch (srv->resp) {
	case RESP_EXISTS:
		sel_exists(infer, srv->num);
		break;
	case RESP_EXPUNGE:
		sel_expunge(infer, srv->num);
		break;
	case RESP_FETCH:
		/* a flag change moves HIGHESTMODSEQ (RFC 7162) */
		infer->sel.modseq_known = false;
		if (srv->has_uid && srv->num != 0)
			sel_fetch_uid(infer, srv->num, srv->uid);
		if (srv->num != 0 && (srv->has_flags || srv->fetch_body ||
		    srv->has_modseq))
			flags_fetch(infer);
		break;
	case RESP_FLAGS:
		break;		/* its keywords were interned as read */
	case RESP_QUOTA:
		if (srv->q_closed && !srv->q_bad && srv->q_pos == 0)
			quota_learn(infer, &srv->q);
		break;
	default:
		if (srv->status == ST_OK && srv->perm_list && srv->flags_ok &&
		    srv->code_kind == CODE_PERMANENTFLAGS && sel_sync(infer))
			imap_flags_box_set_permanent(&infer->sel.box,
			    &srv->perm, srv->perm_star);
		else if (srv->status == ST_OK && srv->code_kind != CODE_OTHER &&
		    srv->code_kind != CODE_OVERQUOTA &&
		    srv->code_kind != CODE_CAPABILITY)
			sel_code(infer, srv->code_kind, srv->code_num,
			    srv->code_num_ok);
		break;
	}
}

static void
server_line_end(struct imap_parser *parser)
{
	struct imap_infer *infer = parser->data;
	struct infer_srv *srv = &infer->srv;

	if (infer->blind || infer->ended)
		return;
	/*
	 * A PREAUTH greeting (RFC 9051 7.1.4) needs nothing here: the user
	 * is not named, so there is no Login, and events go without user.
	 */
	if (srv->bye_timeout)
		infer->bye_timeout = true;
	if (srv->cap_list)
		infer->uidplus = srv->cap_uidplus;
	/*
	 * The command's mailbox name is a literal the client has not sent
	 * whole (a NO may refuse it): no mailboxID from it.
	 */
	if (srv->kind == SRV_TAGGED && srv->cmd != NULL &&
	    infer->cur.cmd == srv->cmd && infer->cur.lit_keep &&
	    infer->cur.lit_slot == SLOT_NAME0 &&
	    (infer->cur.lit_sync_wait || infer->client.in_literal))
		srv->name_partial = true;
	/*
	 * A tagged NO/BAD for the command whose synchronizing literal
	 * header the client parser has just read: the server refused the
	 * literal (RFC 9051 4.3 and 7.5: the client waits for "+" before
	 * sending the body, and got the completion instead), so the body
	 * will not come and the client's next bytes start a new command.
	 * Matched by tag, so an untracked command does not desynchronise
	 * the client direction either.
	 */
	if (srv->kind == SRV_TAGGED && srv->status != ST_OK &&
	    infer->cur.active && infer->cur.lit_sync_wait &&
	    !srv->tag_long && !infer->cur.tag_long &&
	    srv->tag_len == infer->cur.tag_len &&
	    memcmp(srv->tag, infer->cur.tag, srv->tag_len) == 0) {
		imap_parser_literal_cancel(&infer->client);
		cur_reset(infer);
	}
	/*
	 * A tagged response to the client line being read whose command
	 * word has not been read yet: Dovecot runs a command at the CR
	 * that ends its line and may answer before the LF arrives, while
	 * the client parser delivers the line's last token only at the LF.
	 * That command is complete now; were it made pending when its word
	 * comes, nothing would ever complete it, and every untagged
	 * response after would be taken for its.
	 */
	if (srv->kind == SRV_TAGGED && srv->cmd == NULL && !srv->tag_long &&
	    infer->cur.active && infer->cur.cmd == NULL &&
	    !infer->cur.tag_long && srv->tag_len == infer->cur.tag_len &&
	    memcmp(srv->tag, infer->cur.tag, srv->tag_len) == 0)
		infer->cur.answered = true;
	if (srv->kind == SRV_UNTAGGED)
		server_untagged_end(infer);
	else if (srv->kind == SRV_TAGGED && srv->cmd != NULL)
		complete(infer, srv->cmd);
	foreign_line_end(infer, srv->kind == SRV_UNTAGGED &&
	    (srv->resp == RESP_EXPUNGE ||
	    (srv->resp == RESP_VANISHED && !srv->vanished_earlier)));
	srv_reset(srv);
}

/* ---- the interface ---------------------------------------------------- */

static const char *
str_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

struct imap_infer *
imap_infer_new(const struct imap_infer_env *env)
{
	const char *src[5];
	const char **dst[5];
	struct imap_infer *infer;
	size_t len[5], total = 0, off = 0;
	int i;

	src[0] = str_or_empty(env->client_ip);
	src[1] = str_or_empty(env->server_domain);
	src[2] = str_or_empty(env->server_fqdn);
	src[3] = str_or_empty(env->service);
	src[4] = str_or_empty(env->backend);
	for (i = 0; i < 5; i++) {
		len[i] = strlen(src[i]) + 1;
		total += len[i];
	}
	if ((infer = calloc(1, sizeof(*infer) + total)) == NULL)
		return NULL;
	dst[0] = &infer->client_ip;
	dst[1] = &infer->server_domain;
	dst[2] = &infer->server_fqdn;
	dst[3] = &infer->service;
	dst[4] = NULL;		/* after service: reg_open() */
	for (i = 0; i < 5; i++) {
		memcpy(infer->strs + off, src[i], len[i]);
		if (dst[i] != NULL)
			*dst[i] = infer->strs + off;
		off += len[i];
	}
	infer->strs_len = total;
	imap_seqmap_init(&infer->sel.map, 0);
	imap_flags_box_init(&infer->sel.box, 0);
	infer->flag_report = env->flag_report == IMAP_FLAGS_REPORT_FLAGS ?
	    IMAP_FLAGS_REPORT_FLAGS : IMAP_FLAGS_REPORT_SIMPLE;
	infer->client_port = env->client_port;
	infer->server_port = env->server_port;
	infer->session_id = env->session_id;
	infer->emit = env->emit;
	infer->ctx = env->ctx;
	infer->reg = env->registry;
	imap_parser_init(&infer->client, IMAP_PARSER_CLIENT, &client_cb,
	    env->line_max);
	imap_parser_init(&infer->server, IMAP_PARSER_SERVER, &server_cb,
	    env->line_max);
	imap_parser_set_fragments(&infer->client, true);
	imap_parser_set_fragments(&infer->server, true);
	infer->client.data = infer;
	infer->server.data = infer;
	return infer;
}

void
imap_infer_free(struct imap_infer **inferp)
{
	struct imap_infer *infer;
	struct infer_cmd *cmd, *next;
	struct infer_foreign *fx;
	size_t i;

	if (inferp == NULL || (infer = *inferp) == NULL)
		return;
	/* undecided changes are dropped, not emitted; holds go */
	if ((fx = infer->fx) != NULL) {
		news_clear(&fx->news);
		uids_free(&fx->gone.uids);
		fx->gone.active = false;
		reg_sel_close(infer);
		for (i = 0; i < IMAP_INFER_INLINE_CMDS; i++)
			reg_cmd_release(infer, &infer->cmds[i]);
		for (cmd = infer->overflow; cmd != NULL; cmd = cmd->next)
			reg_cmd_release(infer, cmd);
	}
	for (i = 0; i < IMAP_INFER_INLINE_CMDS; i++)
		rec_free(infer, &infer->cmds[i]);
	for (cmd = infer->overflow; cmd != NULL; cmd = next) {
		next = cmd->next;
		rec_free(infer, cmd);
		free(cmd);
	}
	assert(infer->rec_bytes == 0);
	vfrag_free(infer);
	free(infer->subs);
	sel_clear(infer);
	imap_flags_box_deinit(&infer->sel.box);
	uids_free(&infer->xp);
	fr_release(infer);
	if (fx != NULL) {
		assert(fx->nholds == 0);
		free(fx->holds);
		imap_registry_free(&fx->own_reg);
		free(fx);
	}
	free(infer);
	*inferp = NULL;
}

/* ---- the proxy's own questions (imap_ask.h) ----------------------------- */

/* The next space-separated word of LINE at *I (an atom: tag, command, set). */
static bool
ask_word(const char *line, size_t len, size_t *i, const char **w_r,
    size_t *wlen_r)
{
	size_t j = *i;

	if (j >= len || line[j] == ' ' || line[j] == '\r' || line[j] == '\n')
		return false;
	*w_r = line + j;
	while (j < len && line[j] != ' ' && line[j] != '\r' && line[j] != '\n')
		j++;
	*wlen_r = j - *i;
	*i = j < len && line[j] == ' ' ? j + 1 : j;
	return true;
}

/* A FETCH line's items (after the set) set \Seen (RFC 9051 6.4.5). */
static bool
ask_fetch_seen(const char *s, size_t len)
{
	size_t i = 0, j;

	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '(' || s[i] == ')'))
			i++;
		for (j = i; j < len && s[j] != ' ' && s[j] != '(' &&
		    s[j] != ')' && s[j] != '\r' && s[j] != '\n'; j++)
			if (s[j] == '[') {
				/* a section: up to its ']' */
				while (j < len && s[j] != ']')
					j++;
				if (j == len)
					break;
			}
		if (j > i && fetch_att_seen(s + i, j - i))
			return true;
		if (j == i)
			i++;
		else
			i = j;
	}
	return false;
}

/* A set of numbers, "*" and ranges, as imap_set.h reads it. */
static bool
ask_set_ok(const char *set, size_t len)
{
	return len > 0 && imap_set_walk(set, len, UINT32_MAX, UINT32_MAX,
	    set_walk_nop, NULL) == 0;
}

struct ask_span {
	uint32_t lo, hi;
};

static bool
ask_span_walk(void *ctx, uint32_t first, uint32_t last)
{
	struct ask_span *sp = ctx;

	if (first < sp->lo)
		sp->lo = first;
	if (last > sp->hi)
		sp->hi = last;
	return true;
}

/*
 * A set too long to ask about as sent (IMAP_ASK_SET_MAX) is asked about
 * as the one range from its lowest number to its highest ("*" being
 * STAR): the question covers more messages than needed, never fewer.
 * Writes "lo:hi" into OUT (at least 24 bytes); false if SET is invalid.
 */
static bool
ask_span(const char *set, size_t len, uint32_t star, char *out,
    size_t size, size_t *len_r)
{
	struct ask_span sp = { UINT32_MAX, 0 };
	int n;

	if (imap_set_walk(set, len, star, UINT32_MAX, ask_span_walk,
	    &sp) != 0 || sp.hi == 0)
		return false;
	n = snprintf(out, size, "%u:%u", sp.lo, sp.hi);
	if (n < 0 || (size_t)n >= size)
		return false;
	*len_r = (size_t)n;
	return true;
}

/*
 * What the sequence set SET needs asked: the messages whose UIDs are
 * unknown, and (FLAGS) those whose flags are.  True when any; OUT then
 * holds the set to ask about (the messages whose UIDs are unknown, or
 * SET itself when flags are unknown too or the set would not fit).
 */
static bool
ask_seq_need(struct imap_infer *infer, const char *set, size_t len,
    bool flags, char *out, size_t *out_len)
{
	struct infer_sel *sel = &infer->sel;
	char *uids, scratch[64];
	size_t ulen = 0, n = 0, flen = 0;
	bool incomplete = false, unknown;
	int rc;

	rc = imap_seqmap_unknown(&sel->map, set, len, out,
	    IMAP_ASK_SET_MAX + 1, &n);
	if (rc == -1)
		return false;		/* not a set of this mailbox */
	unknown = rc == 1;
	if (flags && !unknown) {
		if ((uids = malloc(INFER_MAP_TEXT_MAX)) == NULL)
			return false;
		rc = imap_seqmap_resolve(&sel->map, set, len, uids,
		    INFER_MAP_TEXT_MAX, &ulen, &incomplete);
		unknown = rc != 0 || incomplete;
		if (!unknown && ulen > 0) {
			rc = imap_flags_box_unknown(&sel->box, uids, ulen,
			    scratch, sizeof(scratch), &flen);
			unknown = rc != 0 || flen > 0;
		}
		free(uids);
	}
	if (unknown) {
		/* ask about the whole set */
		memcpy(out, set, len);
		n = len;
	}
	out[n] = '\0';
	*out_len = n;
	return n > 0;
}

/* What the UID set SET needs asked: the UIDs whose flags are unknown. */
static bool
ask_uid_need(struct imap_infer *infer, const char *set, size_t len,
    char *out, size_t *out_len)
{
	struct infer_sel *sel = &infer->sel;
	char canon[IMAP_ASK_SET_MAX + 1];
	size_t clen = 0, n = 0;
	int rc;

	rc = imap_set_canon(set, len, sel_uid_star(infer), canon,
	    sizeof(canon), &clen);
	if (rc != 0 || clen == 0)
		return false;
	rc = imap_flags_box_unknown(&sel->box, canon, clen, out,
	    IMAP_ASK_SET_MAX + 1, &n);
	if (rc == -1)
		return false;
	if (rc == 1) {
		memcpy(out, canon, clen);
		n = clen;
	}
	out[n] = '\0';
	*out_len = n;
	return n > 0;
}

bool
imap_infer_may_ask(const struct imap_infer *infer)
{
	return infer->logged_in && !infer->logged_out && !infer->blind &&
	    !infer->ended && infer->npending == 0 && !infer->idling &&
	    !infer->client_text && infer->auth == NULL &&
	    !infer->cur.active && infer->client.line_len == 0 &&
	    !infer->client.in_literal &&
	    infer->client.error == IMAP_PERR_OK &&
	    infer->server.error == IMAP_PERR_OK &&
	    infer->sel.state == SEL_SELECTED && infer->sel.counted &&
	    imap_seqmap_count(&infer->sel.map) > 0;
}

size_t
imap_infer_ask(struct imap_infer *infer, const char *line, size_t len,
    struct imap_ask_query *q)
{
	const char *w, *set = NULL;
	size_t wlen, setlen = 0, i = 0, n = 0;
	enum infer_kind kind;
	bool uid = false, need = false, rw;
	uint32_t nfirst, nlast;
	char span[32];
	struct sbuf sb;

	if (!imap_infer_may_ask(infer))
		return 0;
	rw = !infer->sel.read_only;
	/* tag SP ["UID" SP] command [SP set ...] */
	if (!ask_word(line, len, &i, &w, &wlen) ||
	    !ask_word(line, len, &i, &w, &wlen))
		return 0;
	kind = kind_lookup(w, wlen);
	if (kind == INFER_K_UID) {
		uid = true;
		if (!ask_word(line, len, &i, &w, &wlen))
			return 0;
		kind = kind_lookup(w, wlen);
	}
	if (kind == INFER_K_STORE || kind == INFER_K_FETCH ||
	    (uid && kind == INFER_K_EXPUNGE)) {
		if (!ask_word(line, len, &i, &set, &setlen) ||
		    !ask_set_ok(set, setlen))
			kind = INFER_K_OTHER;	/* nothing of its own */
		else if (setlen > IMAP_ASK_SET_MAX) {
			if (ask_span(set, setlen, uid ? sel_uid_star(infer) :
			    imap_seqmap_count(&infer->sel.map), span,
			    sizeof(span), &setlen))
				set = span;
			else
				kind = INFER_K_OTHER;
		}
	}
	switch (kind) {
	case INFER_K_STORE:
	case INFER_K_FETCH:
		/* the flags before the change, and the UIDs it names */
		if (!rw || (kind == INFER_K_FETCH &&
		    !ask_fetch_seen(line + i, len - i)))
			break;
		need = uid ? ask_uid_need(infer, set, setlen, q->set, &n) :
		    ask_seq_need(infer, set, setlen, true, q->set, &n);
		break;
	case INFER_K_EXPUNGE:
		/* the UIDs of the messages its EXPUNGE responses number */
		if (!rw)
			break;
		need = ask_seq_need(infer, "1:*", 3, false, q->set, &n);
		uid = false;
		break;
	case INFER_K_CLOSE:
		/* which messages carry \Deleted, and their UIDs */
		if (!rw)
			break;
		need = ask_seq_need(infer, "1:*", 3, true, q->set, &n);
		break;
	default:
		break;
	}
	if ((!need || n == 0) && imap_infer_new_unknown(infer, &nfirst,
	    &nlast)) {
		/* new messages' UIDs, for their MessageNew (issue 3) */
		n = (size_t)(nfirst == nlast ? snprintf(q->set, sizeof(q->set),
		    "%u", nfirst) : snprintf(q->set, sizeof(q->set), "%u:%u",
		    nfirst, nlast));
		need = n < sizeof(q->set);
		uid = false;
	}
	if (!need || n == 0)
		return 0;
	q->uid = uid;
	q->set_len = n;
	q->tag_len = (size_t)snprintf(q->tag, sizeof(q->tag), "msgeventd%llu",
	    (unsigned long long)++infer->asked);
	sbuf_init(&sb, q->line, sizeof(q->line));
	sbuf_add(&sb, q->tag, q->tag_len);
	sbuf_adds(&sb, uid ? " UID FETCH " : " FETCH ");
	sbuf_add(&sb, q->set, q->set_len);
	sbuf_adds(&sb, " (UID FLAGS)\r\n");
	if (sb.cut)
		return 0;
	q->line_len = sb.len;
	/* the inference reads it like a command of the client's */
	imap_infer_client_data(infer, q->line, q->line_len);
	return q->line_len;
}

uint64_t
imap_infer_asked(const struct imap_infer *infer)
{
	return infer->asked;
}

void
imap_infer_client_data(struct imap_infer *infer, const char *data,
    size_t len)
{
	if (infer->blind || infer->ended)
		return;
	infer->feeding = true;
	imap_parser_feed(&infer->client, data, len);
	infer->feeding = false;
	/* A command cut short by a parser error never completes. */
	if (infer->client.error != IMAP_PERR_OK && infer->cur.cmd != NULL) {
		infer->cur.cmd = NULL;
		infer->cur.active = false;
	}
	if (infer->recheck) {
		infer->recheck = false;
		foreign_recheck(infer);
	}
}

void
imap_infer_server_data(struct imap_infer *infer, const char *data,
    size_t len)
{
	if (infer->blind || infer->ended)
		return;
	infer->feeding = true;
	imap_parser_feed(&infer->server, data, len);
	infer->feeding = false;
	if (infer->recheck) {
		infer->recheck = false;
		foreign_recheck(infer);
	}
}

void
imap_infer_end(struct imap_infer *infer, enum imap_infer_end reason)
{
	if (infer->ended)
		return;
	if (reason == IMAP_INFER_END_ABORT && infer->bye_timeout)
		reason = IMAP_INFER_END_TIMEOUT;
	foreign_settle(infer);
	reg_sel_close(infer);
	emit_logout(infer, reason);
	infer->ended = true;
}

bool
imap_infer_error(const struct imap_infer *infer,
    enum imap_parser_dir *dir_r, enum imap_parser_error *error_r)
{
	const struct imap_parser *p;

	if (infer->blind)
		return false;
	if (infer->client.error != IMAP_PERR_OK)
		p = &infer->client;
	else if (infer->server.error != IMAP_PERR_OK)
		p = &infer->server;
	else
		return false;
	if (dir_r != NULL)
		*dir_r = p->dir;
	if (error_r != NULL)
		*error_r = p->error;
	return true;
}

const char *
imap_infer_blind_reason(const struct imap_infer *infer)
{
	return infer->blind ? infer->blind_reason : NULL;
}

uint64_t
imap_infer_untracked(const struct imap_infer *infer)
{
	return infer->untracked;
}

const char *
imap_infer_user(const struct imap_infer *infer)
{
	return infer->logged_in && infer->user_known ? infer->user : NULL;
}

uint64_t
imap_infer_uids_unknown(const struct imap_infer *infer)
{
	return infer->uids_unknown;
}

uint64_t
imap_infer_flags_unknown(const struct imap_infer *infer)
{
	return infer->flags_unknown;
}

uint64_t
imap_infer_flags_unlearned(const struct imap_infer *infer)
{
	return infer->flags_unlearned;
}

size_t
imap_infer_memory(const struct imap_infer *infer)
{
	const struct infer_cmd *cmd;
	size_t n;

	n = sizeof(*infer) + infer->strs_len + infer->rec_bytes +
	    imap_seqmap_memory(&infer->sel.map) +
	    imap_flags_box_memory(&infer->sel.box) +
	    imap_uidset_memory(&infer->xp.set) +
	    (infer->vfrag != NULL ? sizeof(*infer->vfrag) +
	    imap_uidset_memory(&infer->vfrag->set) : 0) +
	    imap_uidset_memory(&infer->fr.done.set) +
	    (infer->fr.batch != NULL ?
	    imap_flags_batch_memory(infer->fr.batch) : 0) +
	    (size_t)infer->fr.apend * sizeof(struct infer_flagpend);
	if (infer->fx != NULL) {
		n += sizeof(*infer->fx) +
		    (size_t)infer->fx->aholds * sizeof(struct infer_hold) +
		    imap_uidset_memory(&infer->fx->news.gone.set) +
		    imap_uidset_memory(&infer->fx->gone.uids.set);
		if (infer->fx->own_reg != NULL)
			n += imap_registry_memory(infer->fx->own_reg);
	}
	if (infer->sel.name != NULL)
		n += infer->sel.name_len > 0 ? infer->sel.name_len : 1;
	if (infer->subs != NULL)
		n += sizeof(*infer->subs);
	for (cmd = infer->overflow; cmd != NULL; cmd = cmd->next)
		n += sizeof(*cmd);
	return n;
}

void
imap_infer_set_tls(struct imap_infer *infer, const char *protocol,
    const char *cipher)
{
	snprintf(infer->tls_protocol, sizeof(infer->tls_protocol), "%s",
	    protocol != NULL ? protocol : "");
	snprintf(infer->tls_cipher, sizeof(infer->tls_cipher), "%s",
	    cipher != NULL ? cipher : "");
}

bool
imap_infer_client_at_command(const struct imap_infer *infer)
{
	return !infer->blind && !infer->ended && !infer->idling &&
	    !infer->client_text && infer->auth == NULL &&
	    !infer->cur.active && infer->client.line_len == 0 &&
	    !infer->client.in_literal &&
	    infer->client.error == IMAP_PERR_OK;
}

bool
imap_infer_logged_in(const struct imap_infer *infer)
{
	return infer->logged_in && !infer->logged_out;
}

unsigned
imap_infer_outstanding(const struct imap_infer *infer)
{
	return infer->npending;
}

bool
imap_infer_in_literal(const struct imap_infer *infer,
    enum imap_parser_dir dir)
{
	return dir == IMAP_PARSER_CLIENT ? infer->client.in_literal :
	    infer->server.in_literal;
}

bool
imap_infer_new_unknown(const struct imap_infer *infer, uint32_t *first_r,
    uint32_t *last_r)
{
	const struct infer_news *nw;
	const struct imap_seqmap *map = &infer->sel.map;
	uint32_t count = imap_seqmap_count(map), seq, uid, last = 0;

	if (infer->fx == NULL)
		return false;
	nw = &infer->fx->news;
	if (!nw->active || !infer->sel.counted || nw->first == 0 ||
	    nw->first > count || infer->blind || infer->ended)
		return false;
	/* new messages are few, and the last is the likeliest unknown */
	for (seq = count; seq >= nw->first && last == 0; seq--)
		if (!imap_seqmap_uid(map, seq, &uid))
			last = seq;
	if (last == 0)
		return false;
	for (seq = nw->first; imap_seqmap_uid(map, seq, &uid); seq++)
		continue;
	*first_r = seq;
	*last_r = last;
	return true;
}

uint64_t
imap_infer_foreign_unknown(const struct imap_infer *infer)
{
	return infer->fx != NULL ? infer->fx->unknown : 0;
}
