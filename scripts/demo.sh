#!/bin/sh
# demo.sh - `make demo`: a throwaway Dovecot on loopback, msgeventd in
# front of it writing its events to stderr, and a scripted IMAP session
# (login, create, append, rename, subscribe, delete, a delivery during
# IDLE, flag changes by sequence number, expunge, logout, a failed
# login) showing each client command, the server's answer and the
# events it produced.
#
#   scripts/demo.sh build/msgeventd
#
# Needs dovecot-imapd and python3 (scripts/install-deps.sh).  Uses only
# free ports on 127.0.0.1 and a temporary directory; everything started
# is stopped and removed on exit, on Ctrl-C and on SIGTERM.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/msgeventd" >&2
	exit 2
fi
if [ ! -x "$1" ]; then
	echo "demo: no executable msgeventd at $1 (run make)" >&2
	exit 1
fi
if ! command -v dovecot >/dev/null 2>&1; then
	echo "demo: dovecot is not installed (scripts/install-deps.sh)" >&2
	exit 1
fi

here=$(cd "$(dirname "$0")" && pwd)
# Every temporary directory the session makes goes in here.
work=$(mktemp -d "${TMPDIR:-/tmp}/msgeventd-demo.XXXXXX")
# Dovecot's unprivileged processes must be able to pass through it.
chmod 711 "$work"

# The session runs in the background so that this shell keeps control:
# on any exit the trap stops it (it then stops Dovecot and msgeventd)
# and removes the work directory.  It handles Ctrl-C itself as well.
TMPDIR=$work python3 -u "$here/demo_session.py" "$1" &
pid=$!

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

status=0
wait "$pid" || status=$?
exit "$status"
