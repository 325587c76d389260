/*
 * pop3_infer.c - message store events from a POP3 session.
 *
 * Pairing.  POP3 responses carry no tag: the Nth response answers the
 * Nth command (RFC 1939 3; RFC 2449 6.6 for pipelined ones), the
 * server's greeting being the 0th.  Commands go into a ring when their
 * line ends; the response at its head is the one being read.  A server
 * line that starts while nothing is pending (an inactivity -ERR before
 * the server closes) is read but pairs with nothing.  Which "+OK" opens
 * a multi-line body is known from the head command and told to the
 * server parser from the +OK's STATUS token, before its LF is read.
 *
 * The relay.  Each feed remembers the chunk and where its stream offset
 * starts; bytes are handed on lazily, in as few calls as possible:
 * normally the whole chunk at the end of the feed.  Client side, the
 * start of a line that may be "DELE n" is copied to `hold` instead
 * (bounded: POP3_INFER_HOLD_MAX), so an own "UIDL n" can still go before
 * it.  Server side, `s_own` says whether the response being read (or the
 * next one, at a response boundary) answers an own command; it only
 * changes at line ends and at the start of a feed, and the bytes of such
 * a response are skipped instead of handed on.
 *
 * CAPA (env.stls_own): the lines of a CAPA listing are read as they
 * come, but a line that may still be "STLS" or "." when a feed ends is
 * held (s_hold) instead of handed on, so that at its LF the line can
 * still be dropped (the server's STLS) or have the proxy's "STLS" line
 * put before it (the end of the listing).  The decision is made on the
 * raw bytes, so a dot-stuffed ".STLS" is left alone whatever the split.
 *
 * The UIDL table is an array of entries sorted by message number, each
 * with its unique-id in a byte arena (append-only; entries dropped leave
 * dead bytes, compacted when the room is needed), and the DELETED mark.
 *
 * The registry (pop3_infer.h): INBOX is opened and held under each
 * backend key when the QUIT line is read (reg_quit_hold()), and settled
 * once (reg_quit_settle()): the marked messages recorded, the unknown
 * ones made a blind window, the holds released.
 */
#include "pop3_infer.h"
#include "imap_registry.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sbuf.h"

/* X(enum suffix, keyword) - the commands told apart (RFC 1939, 2449,
   2595, 5034, 6856). */
#define INFER_KIND_MAP(X)						\
	X(OTHER,	"")						\
	X(GREETING,	"")						\
	X(USER,		"USER")						\
	X(PASS,		"PASS")						\
	X(APOP,		"APOP")						\
	X(AUTH,		"AUTH")						\
	X(QUIT,		"QUIT")						\
	X(STAT,		"STAT")						\
	X(LIST,		"LIST")						\
	X(UIDL,		"UIDL")						\
	X(RETR,		"RETR")						\
	X(TOP,		"TOP")						\
	X(DELE,		"DELE")						\
	X(RSET,		"RSET")						\
	X(NOOP,		"NOOP")						\
	X(CAPA,		"CAPA")						\
	X(STLS,		"STLS")						\
	X(LANG,		"LANG")

enum infer_kind {
#define INFER_X(e, kw) K_##e,
	INFER_KIND_MAP(INFER_X)
#undef INFER_X
	K_COUNT
};

static const char *const kind_keywords[] = {
#define INFER_X(e, kw) kw,
	INFER_KIND_MAP(INFER_X)
#undef INFER_X
};

/* Bytes of a SASL mechanism name kept (RFC 4422 3.1: at most 20). */
#define INFER_MECH_MAX		24
/* Bytes of an RFC 2449 8 response code kept (SYS/TEMP, LOGIN-DELAY). */
#define INFER_CODE_MAX		32
/* A decoded SASL response: the parser's token cap, base64 is 4:3. */
#define INFER_SASL_MAX		(POP3_TOKEN_MAX / 4 * 3 + 3)
/* "UIDL 4294967295\r\n" */
#define INFER_OWN_MAX		32
/* A unique-id's bytes: RFC 1939 7 says 1 to 70; we keep up to 255. */
#define INFER_UIDL_LEN_MAX	255

#define CMD_OWN		0x01	/* msgeventd's own: answer kept back */
#define CMD_NOARG	0x02	/* no (or a blank) argument */

struct infer_cmd {
	uint8_t kind;
	uint8_t flags;
	int8_t login;		/* index in logins[], -1: none */
	uint32_t msg;		/* DELE's or UIDL's message number, 0: none */
};

/* PASS, APOP, AUTH: the user names, never the password. */
struct infer_login {
	bool used;
	bool user_set, user_cut, admin_cut;
	bool cancelled;		/* the client sent "*" (RFC 5034 4) */
	unsigned step;		/* SASL responses seen */
	size_t user_len, admin_len;
	uint8_t mech_len;
	char mech[INFER_MECH_MAX];	/* upper case */
	char user[POP3_INFER_USER_MAX];
	char admin[POP3_INFER_USER_MAX];
};

#define E_DELETED	0x01	/* DELE answered +OK, no RSET since */

struct uidl_ent {
	uint32_t msg;
	uint32_t off;		/* unique-id in the arena */
	uint8_t len;		/* 0: unknown */
	uint8_t flags;
};

enum infer_state {
	ST_AUTHORIZATION,	/* RFC 1939 4 */
	ST_TRANSACTION,		/* RFC 1939 5 */
	ST_UPDATE,		/* RFC 1939 6: QUIT answered, all done */
};

struct pop3_infer {
	struct pop3_parser client;
	struct pop3_parser server;

	/* env, strings in strs[] */
	const char *client_ip;
	const char *server_domain;
	const char *server_fqdn;
	const char *service;
	uint16_t client_port, server_port;
	uint64_t session_id;
	bool stls_plaintext;
	bool stls_own;			/* CAPA: the server's STLS out */
	bool stls_offer;		/* CAPA: the proxy's STLS in */
	bool own_ok;			/* own commands allowed */
	pop3_infer_emit_cb *emit;
	pop3_infer_relay_cb *to_server, *to_client;
	void *ctx;
	pop3_infer_uidl_map_cb *uidl_map;
	void *uidl_map_ctx;

	/* the registry (see pop3_infer.h), keys in strs[] */
	struct imap_registry *reg;
	const char *backends[POP3_INFER_BACKENDS_MAX];
	unsigned nbackends;
	/* INBOX under each key, opened and held for a QUIT */
	struct imap_registry_box *quit_box[POP3_INFER_BACKENDS_MAX];
	unsigned nquit_box;

	/* session */
	enum infer_state state;
	bool ended;
	bool blind;
	const char *blind_reason;
	bool logged_in, logged_out;
	bool user_known;
	bool idle_bye;			/* the server announced an idle close */
	struct timespec login_time;	/* CLOCK_MONOTONIC */
	char tls_protocol[64];		/* the client's TLS, for Login */
	char tls_cipher[64];
	char user[POP3_INFER_USER_MAX + 1];
	size_t user_len;
	bool user_cut;
	char admin[POP3_INFER_USER_MAX + 1];
	size_t admin_len;
	bool admin_cut;

	/* pending commands, oldest first */
	struct infer_cmd q[POP3_INFER_PENDING_MAX];
	unsigned q_first, q_len;
	struct infer_login logins[POP3_INFER_LOGINS_MAX];

	/* the client line being read */
	struct infer_cmd cur;
	bool cur_text;			/* a SASL response line */
	int auth_login;			/* the running AUTH's login, or -1 */
	char user_arg[POP3_INFER_USER_MAX];	/* the last USER's name */
	size_t user_arg_len;
	bool user_arg_set, user_arg_cut;

	/* the server response being read */
	bool srv_paired;		/* a command waited as the line began */
	enum pop3_status line_status;	/* this line's status word */
	bool line_body_end;		/* this line is a body's "." */
	enum pop3_status resp_status;
	bool resp_body;			/* its +OK opened a body */
	char code[INFER_CODE_MAX];	/* -ERR's RFC 2449 8 response code */
	size_t code_len;

	/* client relay: see the top of the file */
	const char *c_chunk;
	uint64_t c_base, c_relayed, c_line_start;
	bool c_released;		/* the line's start was handed on */
	size_t hold_len;
	char hold[POP3_INFER_HOLD_MAX];

	/* server relay */
	const char *s_chunk;
	uint64_t s_base, s_relayed, s_line_start;
	bool s_own;
	bool capa_lines;		/* the lines read are a CAPA listing */
	size_t s_hold_len;		/* a CAPA line's start, held */
	char s_hold[POP3_INFER_CAPA_HOLD_MAX];

	/* UIDL table */
	struct uidl_ent *ents;
	size_t nents, ents_cap;
	char *arena;
	size_t arena_len, arena_cap, arena_dead;
	size_t ndeleted;
	uint64_t deleted_lost;		/* DELEs the table had no room for */
	uint32_t refused_msg;		/* an own UIDL the server refused */
	bool uidl_refused;		/* ... and then deleted: stop asking */
	uint64_t own_commands;
	uint64_t uidls_unknown;

	size_t strs_len;
	char strs[];
};

static void client_token(struct pop3_parser *, const struct pop3_token *);
static void client_line_end(struct pop3_parser *);
static void server_token(struct pop3_parser *, const struct pop3_token *);
static void server_line_end(struct pop3_parser *);
static void reg_quit_settle(struct pop3_infer *);

static const struct pop3_parser_callbacks client_cb = {
	client_token, NULL, client_line_end,
};

/* Bodies are relayed, never looked at: no on_body. */
static const struct pop3_parser_callbacks server_cb = {
	server_token, NULL, server_line_end,
};

/* ---- small helpers ---------------------------------------------------- */

static char
ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool
ascii_ieq(const char *s, size_t len, const char *word)
{
	size_t i;

	if (len != strlen(word))
		return false;
	for (i = 0; i < len; i++)
		if (ascii_upper(s[i]) != ascii_upper(word[i]))
			return false;
	return true;
}

static bool
ascii_icontains(const char *s, size_t len, const char *word)
{
	size_t i, wl = strlen(word);

	for (i = 0; i + wl <= len; i++)
		if (ascii_ieq(s + i, wl, word))
			return true;
	return false;
}

static enum infer_kind
kind_lookup(const char *s, size_t len)
{
	unsigned k;

	if (len == 0 || len > 4)
		return K_OTHER;
	for (k = K_USER; k < K_COUNT; k++)
		if (ascii_ieq(s, len, kind_keywords[k]))
			return (enum infer_kind)k;
	return K_OTHER;
}

/*
 * RFC 1939 3 message-number: digits, then the end or SP.  Returns 0
 * (not a message number) for anything else, 0 and past 2^32-1 included.
 */
static uint32_t
parse_msg(const char *s, size_t len, size_t *used_r)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	if (i == 0 || (i < len && s[i] != ' '))
		return 0;
	if (used_r != NULL)
		*used_r = i;
	return (uint32_t)v;
}

static bool
blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ')
			return false;
	return true;
}

/* ---- relaying --------------------------------------------------------- */

static void
to_server(struct pop3_infer *infer, const char *data, size_t len)
{
	if (len > 0 && infer->to_server != NULL)
		infer->to_server(infer->ctx, data, len);
}

static void
to_client(struct pop3_infer *infer, const char *data, size_t len)
{
	if (len > 0 && infer->to_client != NULL)
		infer->to_client(infer->ctx, data, len);
}

/* The held start of a client line, on to the server (and wiped). */
static void
c_relay_hold(struct pop3_infer *infer)
{
	if (infer->hold_len == 0)
		return;
	to_server(infer, infer->hold, infer->hold_len);
	memset(infer->hold, 0, infer->hold_len);
	infer->hold_len = 0;
}

/* The client chunk's bytes up to stream offset UPTO, on to the server. */
static void
c_relay_upto(struct pop3_infer *infer, uint64_t upto)
{
	if (infer->c_chunk == NULL || upto <= infer->c_relayed)
		return;
	to_server(infer, infer->c_chunk + (infer->c_relayed - infer->c_base),
	    (size_t)(upto - infer->c_relayed));
	infer->c_relayed = upto;
}

/* The held start of a CAPA line, on to the client. */
static void
s_relay_hold(struct pop3_infer *infer)
{
	if (infer->s_hold_len == 0)
		return;
	to_client(infer, infer->s_hold, infer->s_hold_len);
	infer->s_hold_len = 0;
}

/* The server chunk's bytes up to UPTO, on to the client (or skipped). */
static void
s_relay_upto(struct pop3_infer *infer, uint64_t upto, bool skip)
{
	if (infer->s_chunk == NULL || upto <= infer->s_relayed)
		return;
	if (!skip)
		to_client(infer, infer->s_chunk +
		    (infer->s_relayed - infer->s_base),
		    (size_t)(upto - infer->s_relayed));
	infer->s_relayed = upto;
}

/*
 * Stop inferring: the bytes that follow are relayed unchanged.  The held
 * start of a client line goes on at once: nothing of the client's was
 * handed on after it.
 */
static void
go_blind(struct pop3_infer *infer, const char *reason)
{
	if (infer->blind)
		return;
	infer->blind = true;
	infer->blind_reason = reason;
	c_relay_hold(infer);
	s_relay_hold(infer);
	infer->capa_lines = false;
	/* a QUIT's answer will not be read */
	reg_quit_settle(infer);
}

/* ---- pending commands ------------------------------------------------- */

static struct infer_cmd *
q_at(struct pop3_infer *infer, unsigned i)
{
	return &infer->q[(infer->q_first + i) % POP3_INFER_PENDING_MAX];
}

static struct infer_cmd *
q_head(struct pop3_infer *infer)
{
	return infer->q_len > 0 ? q_at(infer, 0) : NULL;
}

static bool
q_push(struct pop3_infer *infer, const struct infer_cmd *cmd)
{
	if (infer->q_len == POP3_INFER_PENDING_MAX) {
		go_blind(infer, "the client pipelined more than 128 commands");
		return false;
	}
	*q_at(infer, infer->q_len) = *cmd;
	infer->q_len++;
	return true;
}

static void
q_pop(struct pop3_infer *infer)
{
	assert(infer->q_len > 0);
	infer->q_first = (infer->q_first + 1) % POP3_INFER_PENDING_MAX;
	infer->q_len--;
}

/* A login command (PASS, APOP, AUTH with a mechanism) is pending. */
static bool
q_login_pending(struct pop3_infer *infer)
{
	const struct infer_cmd *c;
	unsigned i;

	for (i = 0; i < infer->q_len; i++) {
		c = q_at(infer, i);
		if (c->kind == K_PASS || c->kind == K_APOP ||
		    (c->kind == K_AUTH && !(c->flags & CMD_NOARG)))
			return true;
	}
	return false;
}

/* DELEs pending: their answers may still mark messages. */
static uint64_t
q_deles(struct pop3_infer *infer)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < infer->q_len; i++)
		if (q_at(infer, i)->kind == K_DELE)
			n++;
	return n;
}

/* A pending UIDL (with MSG or without argument) will tell MSG's. */
static bool
q_tells(struct pop3_infer *infer, uint32_t msg)
{
	const struct infer_cmd *c;
	unsigned i;

	for (i = 0; i < infer->q_len; i++) {
		c = q_at(infer, i);
		if (c->kind == K_UIDL && ((c->flags & CMD_NOARG) ||
		    c->msg == msg))
			return true;
	}
	return false;
}

/*
 * MSG's unique-id is needed: a pending DELE may mark it deleted, or an
 * own UIDL asks for it (before such a DELE).
 */
static bool
q_deleting(struct pop3_infer *infer, uint32_t msg)
{
	const struct infer_cmd *c;
	unsigned i;

	for (i = 0; i < infer->q_len; i++) {
		c = q_at(infer, i);
		if (c->msg == msg && (c->kind == K_DELE ||
		    (c->kind == K_UIDL && (c->flags & CMD_OWN))))
			return true;
	}
	return false;
}

static int
login_alloc(struct pop3_infer *infer)
{
	int i;

	for (i = 0; i < POP3_INFER_LOGINS_MAX; i++)
		if (!infer->logins[i].used) {
			memset(&infer->logins[i], 0, sizeof(infer->logins[i]));
			infer->logins[i].used = true;
			return i;
		}
	return -1;
}

static void
login_free(struct pop3_infer *infer, int i)
{
	if (i < 0)
		return;
	memset(&infer->logins[i], 0, sizeof(infer->logins[i]));
}

static struct infer_login *
login_get(struct pop3_infer *infer, int i)
{
	return i >= 0 ? &infer->logins[i] : NULL;
}

/* Copy LEN bytes of a name into DST (POP3_INFER_USER_MAX): cut or not. */
static size_t
name_copy(char *dst, const char *src, size_t len, bool *cut_r)
{
	*cut_r = len > POP3_INFER_USER_MAX;
	if (*cut_r)
		len = msgevent_utf8_cut(src, POP3_INFER_USER_MAX);
	memcpy(dst, src, len);
	return len;
}

static void
login_set_user(struct infer_login *l, const char *s, size_t len)
{
	l->user_len = name_copy(l->user, s, len, &l->user_cut);
	l->user_set = true;
}

/* ---- the UIDL table --------------------------------------------------- */

/* Index of MSG's entry, or where it would go (*FOUND_R false). */
static size_t
ent_find(const struct pop3_infer *infer, uint32_t msg, bool *found_r)
{
	size_t lo = 0, hi = infer->nents, mid;

	/* Listings arrive in order: try the end first. */
	if (hi > 0 && infer->ents[hi - 1].msg < msg) {
		*found_r = false;
		return hi;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (infer->ents[mid].msg < msg)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found_r = lo < infer->nents && infer->ents[lo].msg == msg;
	return lo;
}

static struct uidl_ent *
ent_get(const struct pop3_infer *infer, uint32_t msg)
{
	bool found;
	size_t i = ent_find(infer, msg, &found);

	return found ? &infer->ents[i] : NULL;
}

static void
ent_remove(struct pop3_infer *infer, size_t i)
{
	infer->arena_dead += infer->ents[i].len;
	memmove(&infer->ents[i], &infer->ents[i + 1],
	    (infer->nents - i - 1) * sizeof(infer->ents[0]));
	infer->nents--;
}

/*
 * Drop the unique-id of a message no pending command deletes and not
 * marked deleted, other than KEEP, to make room; the highest numbered
 * first (a client reads and deletes from the lowest).  False when every
 * entry is needed.
 */
static bool
ent_evict(struct pop3_infer *infer, uint32_t keep)
{
	size_t i;
	struct uidl_ent *e;

	for (i = infer->nents; i-- > 0;) {
		e = &infer->ents[i];
		if (e->msg == keep || (e->flags & E_DELETED) ||
		    q_deleting(infer, e->msg))
			continue;
		ent_remove(infer, i);
		return true;
	}
	return false;
}

/* Room for one more entry within POP3_INFER_UIDL_BYTES_MAX. */
static bool
ents_reserve(struct pop3_infer *infer)
{
	size_t max, ncap;
	struct uidl_ent *n;

	if (infer->nents < infer->ents_cap)
		return true;
	max = (POP3_INFER_UIDL_BYTES_MAX - infer->arena_cap) /
	    sizeof(struct uidl_ent);
	if (infer->ents_cap >= max)
		return false;
	ncap = infer->ents_cap == 0 ? 64 : infer->ents_cap * 2;
	if (ncap > max)
		ncap = max;
	if ((n = realloc(infer->ents, ncap * sizeof(*n))) == NULL)
		return false;
	infer->ents = n;
	infer->ents_cap = ncap;
	return true;
}

/*
 * Room for N more bytes in the arena within the cap: compacting (the
 * live unique-ids copied, in entry order, into a fresh arena) when dead
 * bytes would make room, growing it otherwise.
 */
static bool
arena_reserve(struct pop3_infer *infer, size_t n)
{
	size_t live = infer->arena_len - infer->arena_dead, ncap, max, i;
	char *na;

	if (infer->arena_len + n <= infer->arena_cap)
		return true;
	max = POP3_INFER_UIDL_BYTES_MAX - infer->ents_cap *
	    sizeof(struct uidl_ent);
	if (live + n > max)
		return false;
	ncap = infer->arena_cap;
	if (live + n > ncap) {
		ncap = ncap == 0 ? 1024 : ncap * 2;
		while (ncap < live + n)
			ncap *= 2;
		if (ncap > max)
			ncap = max;
	}
	if ((na = malloc(ncap)) == NULL)
		return false;
	live = 0;
	for (i = 0; i < infer->nents; i++) {
		/* Entries without a unique-id may predate the arena. */
		if (infer->ents[i].len == 0)
			continue;
		memcpy(na + live, infer->arena + infer->ents[i].off,
		    infer->ents[i].len);
		infer->ents[i].off = (uint32_t)live;
		live += infer->ents[i].len;
	}
	free(infer->arena);
	infer->arena = na;
	infer->arena_cap = ncap;
	infer->arena_len = live;
	infer->arena_dead = 0;
	return true;
}

/*
 * MSG's entry, made if missing (a unique-id not known).  NEEDED: the
 * message is being deleted, so room is made by evicting others.  NULL
 * when there is no room.
 */
static struct uidl_ent *
ent_make(struct pop3_infer *infer, uint32_t msg, bool needed)
{
	struct uidl_ent *e;
	bool found;
	size_t i;

	if ((e = ent_get(infer, msg)) != NULL)
		return e;
	while (!ents_reserve(infer))
		if (!needed || !ent_evict(infer, msg))
			return NULL;
	i = ent_find(infer, msg, &found);
	memmove(&infer->ents[i + 1], &infer->ents[i],
	    (infer->nents - i) * sizeof(infer->ents[0]));
	infer->nents++;
	e = &infer->ents[i];
	memset(e, 0, sizeof(*e));
	e->msg = msg;
	return e;
}

/*
 * Message MSG's unique-id is UID (LEN bytes), as a UIDL answer said.
 * RFC 1939 7: 1 to 70 bytes in 0x21-0x7E; anything else is not kept.
 * The first answer wins.
 */
static void
uidl_learn(struct pop3_infer *infer, uint32_t msg, const char *uid,
    size_t len)
{
	struct uidl_ent *e;
	bool needed;
	size_t i;

	if (msg == 0 || len == 0 || len > INFER_UIDL_LEN_MAX)
		return;
	for (i = 0; i < len; i++)
		if ((unsigned char)uid[i] < 0x21 ||
		    (unsigned char)uid[i] > 0x7E)
			return;
	if ((e = ent_get(infer, msg)) != NULL && e->len > 0)
		return;
	needed = (e != NULL && (e->flags & E_DELETED)) ||
	    q_deleting(infer, msg);
	if ((e = ent_make(infer, msg, needed)) == NULL)
		return;
	while (!arena_reserve(infer, len)) {
		if (!needed || !ent_evict(infer, msg)) {
			/* No room: leave a bare entry only if it is needed. */
			if (e->flags == 0)
				ent_remove(infer, (size_t)(e - infer->ents));
			return;
		}
		/* The eviction moved the entries. */
		e = ent_get(infer, msg);
	}
	e = ent_get(infer, msg);
	memcpy(infer->arena + infer->arena_len, uid, len);
	e->off = (uint32_t)infer->arena_len;
	e->len = (uint8_t)len;
	infer->arena_len += len;
}

/* "n uid" (RFC 1939 7 unique-id listing): learn it if N is MSG or any. */
static void
uidl_line(struct pop3_infer *infer, const char *s, size_t len, uint32_t want)
{
	size_t used, i;
	uint32_t msg = parse_msg(s, len, &used);

	if (msg == 0 || (want != 0 && msg != want))
		return;
	for (i = used; i < len && s[i] == ' '; i++)
		;
	if (i == used)
		return;
	s += i;
	len -= i;
	for (i = 0; i < len && s[i] != ' '; i++)
		;
	uidl_learn(infer, msg, s, i);
}

static void
mark_deleted(struct pop3_infer *infer, uint32_t msg)
{
	struct uidl_ent *e;

	if (msg == 0)
		return;
	if ((e = ent_make(infer, msg, true)) == NULL) {
		infer->deleted_lost++;
		return;
	}
	if (!(e->flags & E_DELETED)) {
		e->flags |= E_DELETED;
		infer->ndeleted++;
	}
}

/* RFC 1939 5 RSET: every mark goes. */
static void
unmark_all(struct pop3_infer *infer)
{
	size_t i;

	for (i = infer->nents; i-- > 0;) {
		infer->ents[i].flags &= (uint8_t)~E_DELETED;
		if (infer->ents[i].len == 0)
			ent_remove(infer, i);
	}
	infer->ndeleted = 0;
	infer->deleted_lost = 0;
}

/* ---- events ----------------------------------------------------------- */

static void
ev_emit(struct pop3_infer *infer, const struct msgevent *ev)
{
	if (infer->emit != NULL)
		infer->emit(infer->ctx, ev);
}

/* Every event's parameters; SERVER adds serverDomain/serverPort. */
static void
ev_common(struct pop3_infer *infer, struct msgevent *ev, bool server)
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

static void
ev_set_sb(struct msgevent *ev, enum msgevent_param p, const struct sbuf *sb)
{
	msgevent_set(ev, p, sb->p, sb->len);
	if (sb->cut)
		ev->truncated = true;
}

/* The logged-in user and admin. */
static void
ev_session_user(struct pop3_infer *infer, struct msgevent *ev)
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

/* RFC 2384: "pop://USER@DOMAIN", without USER@ when unknown. */
static void
sb_pop_url(struct pop3_infer *infer, struct sbuf *sb, const char *user,
    size_t ulen)
{
	sbuf_adds(sb, "pop://");
	if (user != NULL) {
		sbuf_pct(sb, user, ulen, false);
		sbuf_adds(sb, "@");
	}
	sbuf_adds(sb, infer->server_domain);
}

static void
emit_logout(struct pop3_infer *infer, enum pop3_infer_end reason)
{
	static const char *const reasons[] = {
		[POP3_INFER_END_GRACEFUL] = "graceful",
		[POP3_INFER_END_ABORT] = "abort",
		[POP3_INFER_END_TIMEOUT] = "timeout",
		[POP3_INFER_END_CLOSED] = "closed",
	};
	struct msgevent ev;
	struct timespec now;
	char buf[MSGEVENT_VALUE_SPACE];
	struct sbuf sb;
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
	sbuf_init(&sb, buf, sizeof(buf));
	sb_pop_url(infer, &sb, infer->user_known ? infer->user : NULL,
	    infer->user_len);
	ev_set_sb(&ev, MSGEVENT_P_URI, &sb);
	msgevent_set_str(&ev, MSGEVENT_P_REASON, reasons[reason]);
	msgevent_set_uint(&ev, MSGEVENT_P_DURATION, ms > 0 ? (uint64_t)ms : 0);
	ev_emit(infer, &ev);
}

/*
 * The answer to a login command: Login at +OK (the session enters the
 * TRANSACTION state), vnd.msgeventd.LoginFailure at -ERR.  The user
 * names come from the command's login record.
 */
static void
login_done(struct pop3_infer *infer, const struct infer_cmd *cmd, bool ok)
{
	const struct infer_login *l = login_get(infer, cmd->login);
	const char *user = NULL, *admin = NULL;
	struct msgevent ev;
	char buf[MSGEVENT_VALUE_SPACE];
	struct sbuf sb;
	size_t ulen = 0, alen = 0;
	bool cut = false;

	if (l != NULL && l->cancelled && !ok)
		return;		/* the client gave up: no attempt */
	/* An empty name is no name. */
	if (l != NULL && l->user_set && l->user_len > 0) {
		user = l->user;
		ulen = l->user_len;
		cut = l->user_cut;
		if (l->admin_len > 0) {
			admin = l->admin;
			alen = l->admin_len;
			cut = cut || l->admin_cut;
		}
	}
	if (ok) {
		infer->state = ST_TRANSACTION;
		infer->logged_in = true;
		infer->logged_out = false;
		clock_gettime(CLOCK_MONOTONIC, &infer->login_time);
		infer->user_known = user != NULL;
		infer->user_len = ulen;
		infer->user_cut = user != NULL && l->user_cut;
		if (ulen > 0)
			memcpy(infer->user, user, ulen);
		infer->user[ulen] = '\0';
		infer->admin_len = alen;
		infer->admin_cut = admin != NULL && l->admin_cut;
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
	sb_pop_url(infer, &sb, user, ulen);
	ev_set_sb(&ev, MSGEVENT_P_URI, &sb);
	if (cmd->kind == K_APOP)
		msgevent_set_str(&ev, MSGEVENT_P_MECHANISM, "APOP");
	else if (cmd->kind == K_AUTH && l != NULL && l->mech_len > 0)
		msgevent_set(&ev, MSGEVENT_P_MECHANISM, l->mech, l->mech_len);
	if (ok && infer->tls_protocol[0] != '\0')
		msgevent_set_str(&ev, MSGEVENT_P_TLS_PROTOCOL,
		    infer->tls_protocol);
	if (ok && infer->tls_cipher[0] != '\0')
		msgevent_set_str(&ev, MSGEVENT_P_TLS_CIPHER, infer->tls_cipher);
	if (!ok) {
		if (infer->code_len > 0)
			msgevent_set(&ev, MSGEVENT_P_RESPONSE_CODE, infer->code,
			    infer->code_len);
		else
			msgevent_set_str(&ev, MSGEVENT_P_RESPONSE_CODE, "-ERR");
	}
	ev_emit(infer, &ev);
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* One MessageExpunge's messages, gathered by emit_expunges(). */
struct expunge {
	char uidl[POP3_INFER_EXPUNGE_UIDL_MAX];
	size_t uidl_len;
	unsigned nmsgs;
	uint32_t uids[POP3_INFER_EXPUNGE_MSGS_MAX];
	unsigned nuids;
	uint32_t uidvalidity;
	bool truncated;
};

/*
 * "imap://USER@DOMAIN/INBOX[;UIDVALIDITY=v]": the POP3 maildrop is the
 * IMAP INBOX, so the events line up with the IMAP side's (RFC 5092).
 */
static void
sb_inbox_url(struct pop3_infer *infer, struct sbuf *sb,
    const struct expunge *x)
{
	sbuf_adds(sb, "imap://");
	if (infer->user_known) {
		sbuf_pct(sb, infer->user, infer->user_len, false);
		sbuf_adds(sb, "@");
	}
	sbuf_adds(sb, infer->server_domain);
	sbuf_adds(sb, "/INBOX");
	if (x->nuids > 0) {
		sbuf_adds(sb, ";UIDVALIDITY=");
		sbuf_addu(sb, x->uidvalidity);
	}
}

static void
expunge_flush(struct pop3_infer *infer, struct expunge *x)
{
	struct msgevent ev;
	char url[MSGEVENT_VALUE_SPACE], set[MSGEVENT_VALUE_SPACE];
	struct sbuf sb, ss;
	unsigned i, j;

	msgevent_init(&ev, MSGEVENT_MESSAGE_EXPUNGE);
	ev_common(infer, &ev, false);
	ev_session_user(infer, &ev);
	sbuf_init(&sb, url, sizeof(url));
	sb_inbox_url(infer, &sb, x);
	ev_set_sb(&ev, MSGEVENT_P_MAILBOX_ID, &sb);
	if (x->nuids == 1) {
		sbuf_adds(&sb, "/;UID=");
		sbuf_addu(&sb, x->uids[0]);
	}
	ev_set_sb(&ev, MSGEVENT_P_URI, &sb);
	if (x->nuids > 0) {
		/* IMAP sequence-set syntax (RFC 9051 9), ascending runs. */
		qsort(x->uids, x->nuids, sizeof(x->uids[0]), u32_cmp);
		sbuf_init(&ss, set, sizeof(set));
		for (i = 0; i < x->nuids; i = j) {
			for (j = i + 1; j < x->nuids &&
			    x->uids[j] <= x->uids[j - 1] + 1; j++)
				;
			if (i > 0)
				sbuf_adds(&ss, ",");
			sbuf_addu(&ss, x->uids[i]);
			if (x->uids[j - 1] != x->uids[i]) {
				sbuf_adds(&ss, ":");
				sbuf_addu(&ss, x->uids[j - 1]);
			}
		}
		ev_set_sb(&ev, MSGEVENT_P_UIDSET, &ss);
	}
	if (x->uidl_len > 0)
		msgevent_set(&ev, MSGEVENT_P_UIDL, x->uidl, x->uidl_len);
	if (x->truncated)
		ev.truncated = true;
	ev_emit(infer, &ev);
	memset(x, 0, sizeof(*x));
}

/*
 * +OK to QUIT in the TRANSACTION state: the messages marked deleted are
 * gone.  One event per POP3_INFER_EXPUNGE_MSGS_MAX messages or
 * POP3_INFER_EXPUNGE_UIDL_MAX bytes of unique-ids; messages whose
 * unique-id is unknown mark the event they fall in truncated (and one
 * event is emitted even when none is known).
 */
static void
emit_expunges(struct pop3_infer *infer)
{
	struct expunge *x;
	const struct uidl_ent *e;
	uint32_t uid, uidvalidity;
	size_t i;
	bool any = false;

	if (infer->ndeleted == 0 && infer->deleted_lost == 0)
		return;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return;		/* out of memory: the events are lost */
	if (infer->deleted_lost > 0) {
		x->truncated = true;
		infer->uidls_unknown += infer->deleted_lost;
	}
	for (i = 0; i < infer->nents; i++) {
		e = &infer->ents[i];
		if (!(e->flags & E_DELETED))
			continue;
		if (e->len == 0) {
			infer->uidls_unknown++;
			x->truncated = true;
			continue;
		}
		if (x->nmsgs == POP3_INFER_EXPUNGE_MSGS_MAX ||
		    x->uidl_len + 1 + e->len > sizeof(x->uidl)) {
			expunge_flush(infer, x);
			any = true;
		}
		if (x->uidl_len > 0)
			x->uidl[x->uidl_len++] = ' ';
		memcpy(x->uidl + x->uidl_len, infer->arena + e->off, e->len);
		x->uidl_len += e->len;
		x->nmsgs++;
		if (infer->uidl_map == NULL)
			continue;
		if (!infer->uidl_map(infer->uidl_map_ctx,
		    infer->arena + e->off, e->len, &uid, &uidvalidity) ||
		    (x->nuids > 0 && uidvalidity != x->uidvalidity)) {
			x->truncated = true;
			continue;
		}
		x->uidvalidity = uidvalidity;
		x->uids[x->nuids++] = uid;
	}
	if (x->nmsgs > 0 || !any)
		expunge_flush(infer, x);
	free(x);
}

/* ---- the registry ----------------------------------------------------- */

/*
 * The client's QUIT was just read.  In the TRANSACTION state, with
 * messages marked deleted or a DELE pending, the server may remove
 * messages of INBOX once it reads the line: INBOX is held in flight for
 * removals under each backend key, so that IMAP sessions that see them
 * go wait for reg_quit_settle() before they decide.  Once per session.
 */
static void
reg_quit_hold(struct pop3_infer *infer)
{
	struct imap_registry_key key;
	struct imap_registry_box *box;
	unsigned i;

	if (infer->reg == NULL || infer->nquit_box > 0 ||
	    infer->state != ST_TRANSACTION || !infer->user_known ||
	    infer->user_cut || infer->user_len == 0 ||
	    (infer->ndeleted == 0 && infer->deleted_lost == 0 &&
	    q_deles(infer) == 0))
		return;
	key.user = infer->user;
	key.user_len = infer->user_len;
	key.mailbox = "INBOX";
	key.mailbox_len = 5;
	for (i = 0; i < infer->nbackends; i++) {
		key.backend = infer->backends[i];
		key.backend_len = strlen(key.backend);
		if ((box = imap_registry_open(infer->reg, &key)) == NULL)
			continue;	/* no room: counted there */
		imap_registry_hold(infer->reg, box, IMAP_REGISTRY_REMOVE);
		infer->quit_box[infer->nquit_box++] = box;
	}
}

/*
 * The QUIT held for is answered, or will not be (the session ends or
 * goes blind): the messages marked deleted, the only ones the server
 * may have removed for this session, are recorded by UID (those of the
 * first UIDVALIDITY the hook reads); those without one (no hook, not
 * mapped, unique-id unknown, past the table, a DELE still unanswered)
 * make INBOX's removals blind for a while.  Then the holds go, which
 * wakes the IMAP sessions waiting: they find the removals explained.
 */
static void
reg_quit_settle(struct pop3_infer *infer)
{
	const struct uidl_ent *e;
	struct imap_registry_box *box;
	uint32_t uid, uidvalidity, uv = 0;
	uint64_t unknown;
	unsigned b, n = infer->nquit_box;
	size_t i;

	if (n == 0)
		return;
	infer->nquit_box = 0;
	unknown = infer->deleted_lost + q_deles(infer);
	for (i = 0; i < infer->nents; i++) {
		e = &infer->ents[i];
		if (!(e->flags & E_DELETED))
			continue;
		if (e->len == 0 || infer->uidl_map == NULL ||
		    !infer->uidl_map(infer->uidl_map_ctx,
		    infer->arena + e->off, e->len, &uid, &uidvalidity) ||
		    uid == 0 || uidvalidity == 0 ||
		    (uv != 0 && uidvalidity != uv)) {
			unknown++;
			continue;
		}
		uv = uidvalidity;
		for (b = 0; b < n; b++)
			imap_registry_record(infer->reg, infer->quit_box[b],
			    uv, IMAP_REGISTRY_REMOVE, uid, uid);
	}
	for (b = 0; b < n && unknown > 0; b++)
		imap_registry_blind(infer->reg, infer->quit_box[b], uv,
		    IMAP_REGISTRY_REMOVE, unknown > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)unknown);
	/* releases call IMAP sessions back: they find it all recorded */
	for (b = 0; b < n; b++) {
		box = infer->quit_box[b];
		infer->quit_box[b] = NULL;
		imap_registry_release(infer->reg, box, IMAP_REGISTRY_REMOVE);
		imap_registry_close(infer->reg, &box);
	}
}

/* ---- the client ------------------------------------------------------- */

/*
 * RFC 4616 2 PLAIN: message = [authzid] NUL authcid NUL passwd.  The
 * user is the authorization identity: authzid, or authcid when authzid
 * is empty; authcid is also the admin when the two differ (RFC 5423 5,
 * "admin").  The decoded bytes hold the password: they stay in this
 * stack buffer and are wiped before returning.
 */
static void
sasl_plain(struct infer_login *l, const char *data, size_t len)
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
		login_set_user(l, (const char *)buf, zlen);
		if (clen != zlen || memcmp(buf, z1 + 1, zlen) != 0)
			l->admin_len = name_copy(l->admin,
			    (const char *)z1 + 1, clen, &l->admin_cut);
	} else
		login_set_user(l, (const char *)z1 + 1, clen);
out:
	explicit_bzero(buf, sizeof(buf));
}

/* LOGIN (draft-murchison-sasl-login): the first response is the user. */
static void
sasl_login(struct infer_login *l, const char *data, size_t len)
{
	unsigned char buf[INFER_SASL_MAX];
	ssize_t n;

	n = sbuf_b64_decode(data, len, buf, sizeof(buf));
	if (n >= 0)
		login_set_user(l, (const char *)buf, (size_t)n);
	explicit_bzero(buf, sizeof(buf));
}

/*
 * One SASL response of an AUTH: the initial response on the command
 * line (RFC 5034 4, "=" for an empty one) or a client line after a "+",
 * where "*" cancels.  Only the first response is looked at, and only for
 * PLAIN and LOGIN; later ones (LOGIN's password) never are.
 */
static void
auth_response(struct pop3_infer *infer, int login, const char *data,
    size_t len)
{
	struct infer_login *l = login_get(infer, login);

	if (l == NULL)
		return;
	if (len == 1 && data[0] == '*') {
		l->cancelled = true;
		return;
	}
	if (len == 1 && data[0] == '=')
		len = 0;
	/*
	 * An empty PLAIN response holds no credentials (the server asks
	 * again), so it does not count.  Every LOGIN response counts: were
	 * an empty user skipped, the password would be taken for the user.
	 */
	if (len == 0 && ascii_ieq(l->mech, l->mech_len, "PLAIN"))
		return;
	if (l->step++ != 0)
		return;
	if (ascii_ieq(l->mech, l->mech_len, "PLAIN"))
		sasl_plain(l, data, len);
	else if (ascii_ieq(l->mech, l->mech_len, "LOGIN"))
		sasl_login(l, data, len);
}

/*
 * PLAIN with an initial response that decoded (RFC 4616 is one message,
 * client first): the client has nothing more to send and may pipeline
 * its next command, so its lines stay commands.
 */
static bool
auth_done(struct pop3_infer *infer, int login)
{
	const struct infer_login *l = login_get(infer, login);

	return l != NULL && l->step > 0 && l->user_set &&
	    ascii_ieq(l->mech, l->mech_len, "PLAIN");
}

static void
cmd_reset(struct infer_cmd *cmd)
{
	cmd->kind = K_OTHER;
	cmd->flags = CMD_NOARG;
	cmd->login = -1;
	cmd->msg = 0;
}

static void
cmd_keyword(struct pop3_infer *infer, const struct pop3_token *t)
{
	struct infer_cmd *cmd = &infer->cur;
	struct infer_login *l;

	cmd_reset(cmd);
	cmd->kind = (uint8_t)kind_lookup(t->data, t->len);
	switch (cmd->kind) {
	case K_USER:
		infer->user_arg_set = false;
		break;
	case K_PASS:
		/*
		 * RFC 1939 7: the user is the preceding USER's, and a PASS
		 * uses it up (the next PASS needs a USER again).
		 */
		cmd->login = (int8_t)login_alloc(infer);
		if ((l = login_get(infer, cmd->login)) != NULL &&
		    infer->user_arg_set) {
			memcpy(l->user, infer->user_arg, infer->user_arg_len);
			l->user_len = infer->user_arg_len;
			l->user_cut = infer->user_arg_cut;
			l->user_set = true;
		}
		infer->user_arg_set = false;
		break;
	case K_APOP:
	case K_AUTH:
		cmd->login = (int8_t)login_alloc(infer);
		break;
	default:
		break;
	}
}

/* The arguments: kept only where an event needs them. */
static void
cmd_args(struct pop3_infer *infer, const struct pop3_token *t)
{
	struct infer_cmd *cmd = &infer->cur;
	struct infer_login *l = login_get(infer, cmd->login);
	const char *s = t->data;
	size_t len = t->len, i;

	if (blank(s, len))
		return;
	cmd->flags &= (uint8_t)~CMD_NOARG;
	switch (cmd->kind) {
	case K_USER:
		/* Dovecot takes the whole rest of the line as the name. */
		infer->user_arg_len = name_copy(infer->user_arg, s, len,
		    &infer->user_arg_cut);
		infer->user_arg_set = true;
		break;
	case K_APOP:
		/* RFC 1939 7: APOP name digest; the digest is not kept. */
		for (i = 0; i < len && s[i] != ' '; i++)
			;
		if (l != NULL)
			login_set_user(l, s, i);
		break;
	case K_AUTH:
		/* RFC 5034 4: AUTH mechanism [initial-response] */
		for (i = 0; i < len && s[i] != ' '; i++)
			if (l != NULL && i < sizeof(l->mech))
				l->mech[l->mech_len++] = ascii_upper(s[i]);
		if (l != NULL && i < len)
			auth_response(infer, cmd->login, s + i + 1,
			    len - i - 1);
		break;
	case K_DELE:
	case K_UIDL:
		cmd->msg = parse_msg(s, len, NULL);
		break;
	default:
		break;
	}
}

static void
client_token(struct pop3_parser *p, const struct pop3_token *t)
{
	struct pop3_infer *infer = p->data;

	if (infer->blind)
		return;
	switch (t->type) {
	case POP3_TOKEN_KEYWORD:
		cmd_keyword(infer, t);
		break;
	case POP3_TOKEN_ARGS:
		cmd_args(infer, t);
		break;
	case POP3_TOKEN_TEXT:
		/* MODE_TEXT: a SASL response, not a command. */
		infer->cur_text = true;
		auth_response(infer, infer->auth_login, t->data, t->len);
		break;
	default:
		break;
	}
}

/*
 * Own commands are possible: relays given and allowed, the server not
 * known to refuse UIDL, and a login done or pending (UIDL is a
 * TRANSACTION command).
 */
static bool
own_possible(struct pop3_infer *infer)
{
	return infer->own_ok && !infer->blind && !infer->ended &&
	    !infer->uidl_refused && infer->state != ST_UPDATE &&
	    (infer->state == ST_TRANSACTION || q_login_pending(infer));
}

/*
 * The client line just read is "DELE MSG": send "UIDL MSG" of our own
 * before it when the unique-id is unknown and nothing pending will tell
 * it.  Needs the line's start unsent (held, or in this chunk).
 */
static void
dele_own_uidl(struct pop3_infer *infer, uint32_t msg)
{
	const struct uidl_ent *e;
	struct infer_cmd own;
	char line[INFER_OWN_MAX];
	uint64_t start;
	int n;

	if (msg == 0 || infer->c_released || !own_possible(infer) ||
	    infer->q_len + 2 > POP3_INFER_PENDING_MAX)
		return;
	if ((e = ent_get(infer, msg)) != NULL &&
	    (e->len > 0 || (e->flags & E_DELETED)))
		return;		/* known, or the DELE will fail */
	if (q_tells(infer, msg))
		return;		/* a pending UIDL will tell it */
	n = snprintf(line, sizeof(line), "UIDL %lu\r\n", (unsigned long)msg);
	assert(n > 0 && (size_t)n < sizeof(line));
	start = infer->c_line_start > infer->c_base ? infer->c_line_start :
	    infer->c_base;
	c_relay_upto(infer, start);
	to_server(infer, line, (size_t)n);
	c_relay_hold(infer);
	cmd_reset(&own);
	own.kind = K_UIDL;
	own.flags = CMD_OWN;
	own.msg = msg;
	(void)q_push(infer, &own);
	infer->own_commands++;
}

static void
client_line_end(struct pop3_parser *p)
{
	struct pop3_infer *infer = p->data;
	struct infer_cmd cmd;

	if (!infer->blind && !infer->cur_text) {
		cmd = infer->cur;
		cmd_reset(&infer->cur);
		if (cmd.kind == K_DELE)
			dele_own_uidl(infer, cmd.msg);
		if (q_push(infer, &cmd) && cmd.kind == K_AUTH &&
		    !(cmd.flags & CMD_NOARG) && !auth_done(infer, cmd.login)) {
			/* RFC 5034 4: the client's lines are responses. */
			pop3_parser_set_mode(p, POP3_PARSER_MODE_TEXT);
			infer->auth_login = cmd.login;
		} else if (cmd.kind == K_QUIT && !infer->blind)
			reg_quit_hold(infer);
	}
	infer->cur_text = false;
	/* A held start not used above goes before the chunk's bytes. */
	c_relay_hold(infer);
	infer->c_line_start = p->offset;
	infer->c_released = false;
}

/*
 * At the end of a client chunk, its last LEN bytes, at S, belong to a
 * line still going on (held bytes before them): may they be held?
 * Only while an own UIDL may go before the line, and the line so far
 * reads as the start of "DELE " (any case).
 */
static bool
hold_ok(struct pop3_infer *infer, const char *s, size_t len)
{
	static const char dele[] = "DELE ";
	size_t i, n = infer->hold_len + len;
	char c;

	if (n > POP3_INFER_HOLD_MAX || infer->c_released ||
	    infer->client.mode != POP3_PARSER_MODE_LINE || !own_possible(infer))
		return false;
	for (i = 0; i < n && i < sizeof(dele) - 1; i++) {
		c = i < infer->hold_len ? infer->hold[i] :
		    s[i - infer->hold_len];
		if (ascii_upper(c) != dele[i])
			return false;
	}
	return true;
}

/* Hand on the rest of a client chunk of LEN bytes, or hold its tail. */
static void
c_finish(struct pop3_infer *infer, size_t len)
{
	uint64_t end = infer->c_base + len, from;
	const char *tail;

	if (!infer->blind && !infer->ended && infer->c_line_start < end) {
		from = infer->c_line_start > infer->c_base ?
		    infer->c_line_start : infer->c_base;
		tail = infer->c_chunk + (from - infer->c_base);
		if (hold_ok(infer, tail, (size_t)(end - from))) {
			c_relay_upto(infer, from);
			memcpy(infer->hold + infer->hold_len, tail,
			    (size_t)(end - from));
			infer->hold_len += (size_t)(end - from);
			infer->c_relayed = end;
			return;
		}
		infer->c_released = true;
	}
	c_relay_hold(infer);
	c_relay_upto(infer, end);
}

/* ---- the server ------------------------------------------------------- */

/* Which body a +OK to CMD opens (RFC 1939 5-7, RFC 2449 5, RFC 6856 3). */
static enum pop3_parser_mode
cmd_body(const struct infer_cmd *cmd)
{
	switch (cmd->kind) {
	case K_RETR:
	case K_TOP:
		return POP3_PARSER_MODE_DATA;
	case K_CAPA:
		return POP3_PARSER_MODE_LINES;
	case K_LIST:
	case K_UIDL:
	case K_AUTH:	/* AUTH alone lists the mechanisms (Dovecot) */
	case K_LANG:
		return (cmd->flags & CMD_NOARG) ? POP3_PARSER_MODE_LINES :
		    POP3_PARSER_MODE_LINE;
	default:
		return POP3_PARSER_MODE_LINE;
	}
}

static bool
auth_running(const struct infer_cmd *cmd)
{
	return cmd->kind == K_AUTH && !(cmd->flags & CMD_NOARG);
}

/* The AUTH is over: the client's lines are commands again. */
static void
auth_over(struct pop3_infer *infer)
{
	if (infer->client.mode == POP3_PARSER_MODE_TEXT)
		pop3_parser_set_mode(&infer->client, POP3_PARSER_MODE_LINE);
	infer->auth_login = -1;
}

static void
status_token(struct pop3_infer *infer, const struct pop3_token *t)
{
	struct infer_cmd *head = q_head(infer);
	enum pop3_parser_mode mode;

	infer->line_status = t->status;
	if (!infer->srv_paired || head == NULL)
		return;
	if (t->status == POP3_STATUS_CONTINUE) {
		/*
		 * A challenge: the client answers with a line, even after
		 * an initial response thought complete.
		 */
		if (auth_running(head) &&
		    infer->client.mode != POP3_PARSER_MODE_TEXT) {
			pop3_parser_set_mode(&infer->client,
			    POP3_PARSER_MODE_TEXT);
			infer->auth_login = head->login;
		}
		return;
	}
	infer->resp_status = t->status;
	infer->code_len = 0;
	if (t->status == POP3_STATUS_OK &&
	    (mode = cmd_body(head)) != POP3_PARSER_MODE_LINE) {
		pop3_parser_set_mode(&infer->server, mode);
		infer->resp_body = true;
	}
	if (auth_running(head))
		auth_over(infer);
}

/* The text after +OK or -ERR. */
static void
status_text(struct pop3_infer *infer, const struct pop3_token *t)
{
	struct infer_cmd *head = q_head(infer);
	size_t i;

	if (!infer->srv_paired || head == NULL) {
		/*
		 * Unsolicited: a server closing an idle session says so
		 * (Dovecot: "-ERR Disconnected for inactivity.").
		 */
		if (infer->line_status == POP3_STATUS_ERR &&
		    (ascii_icontains(t->data, t->len, "inactiv") ||
		    ascii_icontains(t->data, t->len, "idle") ||
		    ascii_icontains(t->data, t->len, "autologout") ||
		    ascii_icontains(t->data, t->len, "timeout")))
			infer->idle_bye = true;
		return;
	}
	if (infer->line_status == POP3_STATUS_ERR && t->len > 1 &&
	    t->data[0] == '[') {
		/* RFC 2449 8: "-ERR [AUTH] ...", "-ERR [SYS/TEMP] ..." */
		for (i = 1; i < t->len && t->data[i] != ']' &&
		    t->data[i] != ' '; i++)
			;
		if (i < t->len && t->data[i] == ']' && i - 1 <=
		    sizeof(infer->code)) {
			infer->code_len = i - 1;
			memcpy(infer->code, t->data + 1, infer->code_len);
		}
	}
	if (infer->line_status == POP3_STATUS_OK && head->kind == K_UIDL &&
	    !(head->flags & CMD_NOARG))
		uidl_line(infer, t->data, t->len, head->msg);
}

static void
server_token(struct pop3_parser *p, const struct pop3_token *t)
{
	struct pop3_infer *infer = p->data;
	struct infer_cmd *head;

	if (infer->blind)
		return;
	switch (t->type) {
	case POP3_TOKEN_STATUS:
		status_token(infer, t);
		break;
	case POP3_TOKEN_TEXT:
		if (t->index == 1) {
			status_text(infer, t);
			break;
		}
		/* A line of a listing. */
		head = q_head(infer);
		if (infer->srv_paired && head != NULL &&
		    head->kind == K_UIDL && (head->flags & CMD_NOARG))
			uidl_line(infer, t->data, t->len, 0);
		break;
	case POP3_TOKEN_BODY_END:
		infer->line_body_end = true;
		break;
	default:
		break;
	}
}

/* The head command got its whole answer: act on it, and drop it. */
static void
response_done(struct pop3_infer *infer)
{
	struct infer_cmd cmd = *q_head(infer);
	bool ok = infer->resp_status == POP3_STATUS_OK;

	q_pop(infer);
	switch (cmd.kind) {
	case K_PASS:
	case K_APOP:
	case K_AUTH:
		if (cmd.kind == K_AUTH && (cmd.flags & CMD_NOARG))
			break;		/* the list of mechanisms */
		if (infer->state == ST_AUTHORIZATION)
			login_done(infer, &cmd, ok);
		break;
	case K_QUIT:
		if (infer->state != ST_TRANSACTION)
			break;
		/* RFC 1939 6: -ERR: "some deleted messages not removed". */
		if (ok)
			emit_expunges(infer);
		reg_quit_settle(infer);
		emit_logout(infer, POP3_INFER_END_GRACEFUL);
		infer->state = ST_UPDATE;
		break;
	case K_DELE:
		if (!ok || infer->state != ST_TRANSACTION)
			break;
		mark_deleted(infer, cmd.msg);
		/* It was there, yet UIDL was refused: no UIDL here. */
		if (infer->refused_msg != 0 && infer->refused_msg == cmd.msg)
			infer->uidl_refused = true;
		break;
	case K_RSET:
		if (ok && infer->state == ST_TRANSACTION)
			unmark_all(infer);
		break;
	case K_UIDL:
		if ((cmd.flags & CMD_OWN) && !ok)
			infer->refused_msg = cmd.msg;
		break;
	case K_STLS:
		if (ok && !infer->stls_plaintext)
			go_blind(infer, "the server accepted STLS: the session "
			    "goes on in TLS");
		break;
	default:
		break;
	}
	login_free(infer, cmd.login);
	infer->resp_body = false;
	infer->resp_status = POP3_STATUS_NONE;
	infer->code_len = 0;
}

/*
 * Is the CAPA line ending at stream offset AT (its LF included) the
 * server's "STLS", any case, CRLF or LF?  Its bytes are the held start
 * and this chunk's part: a line started in an earlier chunk and handed
 * on was no candidate (capa_finish()).
 */
static bool
capa_line_is_stls(const struct pop3_infer *infer, uint64_t at)
{
	static const char stls[] = "STLS\r\n";
	uint64_t from = infer->s_line_start > infer->s_base ?
	    infer->s_line_start : infer->s_base;
	size_t n = infer->s_hold_len + (size_t)(at - from), i;
	char c;

	if (infer->s_line_start < infer->s_base && infer->s_hold_len == 0)
		return false;
	if (n != 5 && n != 6)
		return false;
	for (i = 0; i < n; i++) {
		c = i < infer->s_hold_len ? infer->s_hold[i] : infer->s_chunk[
		    from - infer->s_base + i - infer->s_hold_len];
		if (ascii_upper(c) != (n == 5 && i == 4 ? '\n' : stls[i]))
			return false;
	}
	return true;
}

/*
 * A line of a CAPA listing ends at AT (env.stls_own): the server's STLS
 * is dropped; before the "." that ends the listing the proxy's STLS goes
 * in when offered (RFC 2595 4: in the AUTHORIZATION state only); any
 * other line goes on, its held start first.
 */
static void
capa_line_end(struct pop3_infer *infer, uint64_t at)
{
	if (infer->line_body_end) {
		infer->capa_lines = false;
		if (infer->stls_offer && infer->state == ST_AUTHORIZATION)
			to_client(infer, "STLS\r\n", 6);
		s_relay_hold(infer);
	} else if (capa_line_is_stls(infer, at)) {
		infer->s_hold_len = 0;
		s_relay_upto(infer, at, true);
	} else
		s_relay_hold(infer);
}

/*
 * A server chunk ends at stream offset END inside a CAPA listing: hold
 * the start of the line going on while it may still be "STLS" or "."
 * (without its LF: "STLS\r", ".\r" at most), else hand on what is held.
 */
static void
capa_finish(struct pop3_infer *infer, uint64_t end)
{
	uint64_t from = infer->s_line_start > infer->s_base ?
	    infer->s_line_start : infer->s_base;
	size_t n = infer->s_hold_len + (size_t)(end - from), i;
	bool stls = true, dot = true;
	char c;

	if (infer->s_line_start < infer->s_base && infer->s_hold_len == 0)
		return;		/* handed on already: neither */
	if (n > POP3_INFER_CAPA_HOLD_MAX) {
		s_relay_hold(infer);
		return;
	}
	for (i = 0; i < n; i++) {
		c = i < infer->s_hold_len ? infer->s_hold[i] : infer->s_chunk[
		    from - infer->s_base + i - infer->s_hold_len];
		if (i < 4 ? ascii_upper(c) != "STLS"[i] : c != '\r')
			stls = false;
		if (i == 0 ? c != '.' : i > 1 || c != '\r')
			dot = false;
	}
	if (!stls && !dot) {
		s_relay_hold(infer);
		return;
	}
	s_relay_upto(infer, from, false);
	memcpy(infer->s_hold + infer->s_hold_len,
	    infer->s_chunk + (from - infer->s_base), (size_t)(end - from));
	infer->s_hold_len = n;
	infer->s_relayed = end;
}

/*
 * A server line starts at stream offset AT: which response it belongs
 * to, and whether its bytes are kept from the client.  Bytes up to AT
 * are handed on (or skipped) as the response they ended belonged.
 */
static void
s_boundary(struct pop3_infer *infer, uint64_t at)
{
	const struct infer_cmd *head = q_head(infer);
	bool own = head != NULL && (head->flags & CMD_OWN);

	s_relay_upto(infer, at, infer->s_own);
	infer->s_own = own;
	infer->srv_paired = head != NULL;
	infer->s_line_start = at;
}

static void
server_line_end(struct pop3_parser *p)
{
	struct pop3_infer *infer = p->data;
	const struct infer_cmd *head = q_head(infer);
	bool capa_ok;

	if (infer->blind)
		return;
	if (infer->capa_lines)
		capa_line_end(infer, p->offset);
	/* The +OK to CAPA: the listing follows. */
	capa_ok = infer->stls_own && infer->srv_paired && head != NULL &&
	    head->kind == K_CAPA && infer->resp_body &&
	    infer->line_status == POP3_STATUS_OK;
	if (capa_ok)
		infer->capa_lines = true;
	if (infer->srv_paired && q_head(infer) != NULL) {
		if (infer->line_status == POP3_STATUS_OK ||
		    infer->line_status == POP3_STATUS_ERR) {
			if (!infer->resp_body)
				response_done(infer);
		} else if (infer->line_body_end)
			response_done(infer);
	}
	infer->line_status = POP3_STATUS_NONE;
	infer->line_body_end = false;
	s_boundary(infer, p->offset);
}

/* ---- the API ---------------------------------------------------------- */

struct pop3_infer *
pop3_infer_new(const struct pop3_infer_env *env)
{
	const char *strs[4 + POP3_INFER_BACKENDS_MAX];
	size_t lens[4 + POP3_INFER_BACKENDS_MAX], total = 0, i, nstrs = 4;
	struct pop3_infer *infer;
	struct infer_cmd greeting;
	char *p;

	strs[0] = env->client_ip != NULL ? env->client_ip : "";
	strs[1] = env->server_domain != NULL ? env->server_domain : "";
	strs[2] = env->server_fqdn != NULL ? env->server_fqdn : "";
	strs[3] = env->service != NULL ? env->service : "pop";
	/* the registry's keys, when there is a registry */
	for (i = 0; env->registry != NULL && i < POP3_INFER_BACKENDS_MAX &&
	    env->backends[i] != NULL; i++)
		strs[nstrs++] = env->backends[i];
	for (i = 0; i < nstrs; i++)
		total += (lens[i] = strlen(strs[i])) + 1;
	if ((infer = calloc(1, sizeof(*infer) + total)) == NULL)
		return NULL;
	infer->strs_len = total;
	p = infer->strs;
	for (i = 0; i < nstrs; i++) {
		memcpy(p, strs[i], lens[i] + 1);
		strs[i] = p;
		p += lens[i] + 1;
	}
	infer->client_ip = strs[0];
	infer->server_domain = strs[1];
	infer->server_fqdn = strs[2];
	infer->service = strs[3];
	for (i = 4; i < nstrs; i++)
		infer->backends[infer->nbackends++] = strs[i];
	if (infer->nbackends > 0)
		infer->reg = env->registry;
	infer->client_port = env->client_port;
	infer->server_port = env->server_port;
	infer->session_id = env->session_id;
	infer->stls_plaintext = env->stls_plaintext;
	infer->stls_own = env->stls_own && env->to_client != NULL;
	infer->emit = env->emit;
	infer->to_server = env->to_server;
	infer->to_client = env->to_client;
	infer->ctx = env->ctx;
	infer->own_ok = env->to_server != NULL && env->to_client != NULL &&
	    !env->no_own_commands;
	infer->uidl_map = env->uidl_map;
	infer->uidl_map_ctx = env->uidl_map_ctx;
	infer->state = ST_AUTHORIZATION;
	infer->auth_login = -1;
	cmd_reset(&infer->cur);
	infer->client.data = infer;
	infer->server.data = infer;
	pop3_parser_init(&infer->client, POP3_PARSER_CLIENT, &client_cb,
	    env->line_max);
	pop3_parser_init(&infer->server, POP3_PARSER_SERVER, &server_cb,
	    env->line_max);
	/* RFC 1939 4: the greeting is the first response. */
	cmd_reset(&greeting);
	greeting.kind = K_GREETING;
	greeting.flags = 0;
	(void)q_push(infer, &greeting);
	infer->srv_paired = true;
	return infer;
}

void
pop3_infer_free(struct pop3_infer **inferp)
{
	struct pop3_infer *infer = *inferp;

	if (infer == NULL)
		return;
	*inferp = NULL;
	reg_quit_settle(infer);
	free(infer->ents);
	free(infer->arena);
	/* Login records and the client parser may hold names, never more;
	   wiped anyway with everything else. */
	explicit_bzero(infer, sizeof(*infer));
	free(infer);
}

/* Not parsed: once blind, ended or past QUIT, bytes only pass. */
static bool
passive(const struct pop3_infer *infer)
{
	return infer->blind || infer->ended || infer->state == ST_UPDATE ||
	    infer->client.error != POP3_PERR_OK ||
	    infer->server.error != POP3_PERR_OK;
}

void
pop3_infer_client_data(struct pop3_infer *infer, const char *data,
    size_t len)
{
	if (len == 0)
		return;
	if (passive(infer)) {
		if (!infer->ended) {
			c_relay_hold(infer);
			to_server(infer, data, len);
		}
		return;
	}
	infer->c_chunk = data;
	infer->c_base = infer->client.offset;
	infer->c_relayed = infer->c_base;
	(void)pop3_parser_feed(&infer->client, data, len);
	if (infer->client.error != POP3_PERR_OK)
		go_blind(infer, NULL);
	c_finish(infer, len);
	infer->c_chunk = NULL;
}

void
pop3_infer_server_data(struct pop3_infer *infer, const char *data,
    size_t len)
{
	uint64_t end;

	if (len == 0)
		return;
	if (passive(infer)) {
		if (!infer->ended)
			to_client(infer, data, len);
		return;
	}
	infer->s_chunk = data;
	infer->s_base = infer->server.offset;
	infer->s_relayed = infer->s_base;
	end = infer->s_base + len;
	/* Own commands queued since the last feed may now be the head. */
	if (infer->s_line_start == infer->s_base)
		s_boundary(infer, infer->s_base);
	(void)pop3_parser_feed(&infer->server, data, len);
	if (infer->server.error != POP3_PERR_OK) {
		/*
		 * Not POP3 where an own command's answer was due: the client
		 * gets everything from the failing byte on (the same byte
		 * whatever the split), nothing before it.
		 */
		if (infer->s_own &&
		    infer->server.error_offset > infer->s_relayed)
			s_relay_upto(infer, infer->server.error_offset, true);
		infer->s_own = false;
		go_blind(infer, NULL);
	}
	if (infer->capa_lines && !infer->blind)
		capa_finish(infer, end);
	s_relay_upto(infer, end, infer->s_own && !infer->blind);
	infer->s_chunk = NULL;
}

void
pop3_infer_client_eof(struct pop3_infer *infer)
{
	if (infer->ended)
		return;
	c_relay_hold(infer);
	infer->c_released = true;
}

void
pop3_infer_server_eof(struct pop3_infer *infer)
{
	if (infer->ended)
		return;
	s_relay_hold(infer);
	infer->capa_lines = false;
}

void
pop3_infer_end(struct pop3_infer *infer, enum pop3_infer_end reason)
{
	if (infer->ended)
		return;
	infer->ended = true;
	if (reason == POP3_INFER_END_ABORT && infer->idle_bye)
		reason = POP3_INFER_END_TIMEOUT;
	/* a QUIT unanswered: the server may have acted on it */
	reg_quit_settle(infer);
	emit_logout(infer, reason);
	explicit_bzero(infer->hold, sizeof(infer->hold));
	infer->hold_len = 0;
	infer->s_hold_len = 0;
}

bool
pop3_infer_error(const struct pop3_infer *infer, enum pop3_parser_dir *dir_r,
    enum pop3_parser_error *error_r)
{
	const struct pop3_parser *p;

	if (infer->blind_reason != NULL)
		return false;
	if (infer->client.error != POP3_PERR_OK)
		p = &infer->client;
	else if (infer->server.error != POP3_PERR_OK)
		p = &infer->server;
	else
		return false;
	if (dir_r != NULL)
		*dir_r = p == &infer->client ? POP3_PARSER_CLIENT :
		    POP3_PARSER_SERVER;
	if (error_r != NULL)
		*error_r = p->error;
	return true;
}

const char *
pop3_infer_blind_reason(const struct pop3_infer *infer)
{
	return infer->blind_reason;
}

const char *
pop3_infer_user(const struct pop3_infer *infer)
{
	return infer->logged_in && infer->user_known ? infer->user : NULL;
}

bool
pop3_infer_in_body(const struct pop3_infer *infer)
{
	return infer->server.in_body;
}

size_t
pop3_infer_uidl_missing(const struct pop3_infer *infer, uint32_t *msgs_r,
    size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < infer->nents; i++) {
		if (!(infer->ents[i].flags & E_DELETED) ||
		    infer->ents[i].len > 0)
			continue;
		if (n < max)
			msgs_r[n] = infer->ents[i].msg;
		n++;
	}
	return n;
}

void
pop3_infer_set_tls(struct pop3_infer *infer, const char *protocol,
    const char *cipher)
{
	snprintf(infer->tls_protocol, sizeof(infer->tls_protocol), "%s",
	    protocol != NULL ? protocol : "");
	snprintf(infer->tls_cipher, sizeof(infer->tls_cipher), "%s",
	    cipher != NULL ? cipher : "");
}

void
pop3_infer_offer_stls(struct pop3_infer *infer, bool offer)
{
	infer->stls_offer = offer && infer->stls_own;
}

bool
pop3_infer_client_at_command(const struct pop3_infer *infer)
{
	return !passive(infer) && infer->hold_len == 0 &&
	    infer->client.mode == POP3_PARSER_MODE_LINE &&
	    infer->c_line_start == infer->client.offset;
}

bool
pop3_infer_logged_in(const struct pop3_infer *infer)
{
	return infer->state != ST_AUTHORIZATION;
}

unsigned
pop3_infer_outstanding(const struct pop3_infer *infer)
{
	return infer->q_len;
}

uint64_t
pop3_infer_uidls_unknown(const struct pop3_infer *infer)
{
	return infer->uidls_unknown;
}

uint64_t
pop3_infer_own_commands(const struct pop3_infer *infer)
{
	return infer->own_commands;
}

size_t
pop3_infer_memory(const struct pop3_infer *infer)
{
	return sizeof(*infer) + infer->strs_len +
	    infer->ents_cap * sizeof(struct uidl_ent) + infer->arena_cap;
}
