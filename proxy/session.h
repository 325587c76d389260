/*
 * session.h - listeners and client-backend session pairs.
 *
 * A session relays every byte between a client and its backend,
 * unchanged, in both directions, and feeds the same bytes to the
 * protocol inference (parser/imap_infer.h), whose events go to the
 * outputs (outputs/out.h).
 *
 * Memory per session is bounded: a session holds no relay buffer while
 * both peers keep up.  Bytes are read into one buffer shared by the
 * whole process, parsed, and written straight on; only what the peer
 * does not take at once is kept, at most SESSION_PENDING_MAX bytes per
 * direction, and while anything is kept the proxy stops reading from
 * the other side (backpressure), so a slow or stalled peer costs its
 * own session one buffer and never stalls another session.
 *
 * Either side may be TLS of the proxy's own (proxy/tls.h): listen imaps,
 * the client's STARTTLS (answered by the proxy, never by the backend),
 * backend-tls, backend-starttls.  The bytes relayed and parsed are the
 * decrypted ones; a TLS connection adds OpenSSL's state, not a buffer.
 */
#ifndef SESSION_H
#define SESSION_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct loop;
struct out;
struct session_set;

/*
 * Bytes read per read(2) and the most that one direction of one session
 * keeps pending when its peer does not take them at once (64 KiB: a
 * TCP window's worth, so a fast pair needs few system calls).
 */
#define SESSION_PENDING_MAX	65536

/* The listeners and sessions of one process, or NULL with errno set. */
struct session_set *session_set_new(struct loop *loop, struct out *out);

/*
 * Apply CONFIG (the set keeps no pointer into it): load its TLS
 * certificates and keys, open the listeners it names that are not open
 * yet, close those it no longer names, and use its limits, names and
 * TLS contexts for sessions accepted from now on.  Established sessions
 * are not touched (they keep the TLS contexts they started with).
 * Returns 0, or -1 with a message in ERR (a certificate, key or CA file
 * did not load, or a listener could not be opened; then nothing
 * changed).
 */
int session_set_configure(struct session_set *set, const struct config *config,
    char *err, size_t errlen);

/* Replace the outputs that sessions' events go to (on reload). */
void session_set_out(struct session_set *set, struct out *out);

/* Stop accepting: close every listener. */
void session_set_stop_listening(struct session_set *set);

/* End every session now (Logout reason "abort" for logged-in users). */
void session_set_close_all(struct session_set *set);

size_t session_set_count(const struct session_set *set);

/* Closes listeners and sessions; clears *set.  NULL is a no-op. */
void session_set_free(struct session_set **set);

#endif
