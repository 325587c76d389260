/*
 * transcript.h - IMAP session transcripts for the inference tests.
 *
 * A transcript (tests/transcripts/NAME.t) is a text file of lines, each
 * starting with a marker:
 *
 *   # text		a comment
 *   (empty line)	nothing
 *   C: text		client bytes: text, then CRLF
 *   C- text		client bytes: text, without CRLF
 *   S: text		server bytes: text, then CRLF
 *   S- text		server bytes: text, without CRLF
 *   E: event		an expected event, in canonical form (below)
 *   E: -		no event expected here (an empty checkpoint)
 *   END: reason	imap_infer_end(): graceful, abort or timeout
 *
 * After "C:" and the like comes one space (optional for an empty
 * text), then the bytes exactly as they stand: no escapes, trailing
 * blanks kept (a CR ending the file's line is dropped).  A literal
 * body is written as the lines that follow its {n} header, n counting
 * their CRLFs: "C: a APPEND INBOX {7}" then "C: Hello" sends the body
 * "Hello\r\n", and a further "C:" (empty) ends the command line.
 *
 * A chunk is a run of consecutive lines of one direction (C:/C- or
 * S:/S-): one read, fed in one call.  Any other line, a comment or an
 * empty line included, ends the chunk.
 *
 * A run of E: lines is a checkpoint: the events emitted since the
 * previous checkpoint must be exactly these, in this order.  At the end
 * of the file no event may be left over.
 *
 * Canonical event form: the event name, then " name=value" for every
 * parameter set, in the order of MSGEVENT_PARAM_MAP, leaving out
 * timestamp and vnd.msgeventd.session (they change from run to run);
 * vnd.msgeventd.duration's value is written "*".  Value bytes below
 * 0x20 and 0x7F are written \xHH, others as they are.  A truncated
 * event ends with " (truncated)".  Example:
 *
 *   E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 ...
 *
 * Every transcript runs in the environment TRANSCRIPT_ENV_* below.
 */
#ifndef TRANSCRIPT_H
#define TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "../../parser/imap_infer.h"
#include "../../parser/msgevent.h"

#define TRANSCRIPT_ENV_CLIENT_IP	"192.0.2.1"
#define TRANSCRIPT_ENV_CLIENT_PORT	50000
#define TRANSCRIPT_ENV_SERVER_DOMAIN	"mail.example.net"
#define TRANSCRIPT_ENV_SERVER_PORT	143
#define TRANSCRIPT_ENV_SERVER_FQDN	"imap1.example.net"
#define TRANSCRIPT_ENV_SERVICE		"imap"
#define TRANSCRIPT_ENV_SESSION		7

enum transcript_op {
	TRANSCRIPT_CLIENT,	/* a chunk of client bytes */
	TRANSCRIPT_SERVER,	/* a chunk of server bytes */
	TRANSCRIPT_EXPECT,	/* one expected event, canonical form */
	TRANSCRIPT_NONE,	/* a checkpoint expecting no event */
	TRANSCRIPT_END,		/* imap_infer_end(reason) */
};

struct transcript_step {
	enum transcript_op op;
	char *data;		/* bytes (chunks) or NUL-terminated text */
	size_t len;
	enum imap_infer_end reason;	/* TRANSCRIPT_END */
	unsigned line;		/* in the file, for messages */
};

struct transcript {
	char *path;
	struct transcript_step *steps;
	size_t nsteps;
};

/*
 * Read PATH into T.  Returns 0, or -1 with a message "PATH:LINE: ..."
 * in ERR (of ERRSIZE bytes) for a malformed file or errno's text.
 */
int transcript_load(const char *path, struct transcript *t, char *err,
    size_t errsize);
void transcript_free(struct transcript *t);

/*
 * The canonical form of EV (above, without "E: ") into BUF, always
 * NUL-terminated; returns its length (cut to SIZE - 1).
 */
size_t transcript_event_format(const struct msgevent *ev, char *buf,
    size_t size);

/* The *.t files of DIR, sorted, as a malloced array of malloced paths. */
int transcript_list(const char *dir, char ***paths_r, size_t *n_r);
void transcript_list_free(char **paths, size_t n);

#endif
