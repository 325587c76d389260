#!/bin/sh
# bench.sh - msgeventd against HAProxy (TCP mode) and direct, on one Dovecot.
#
#   scripts/bench.sh [BINARY [bench.py options]]     (make bench)
#
# BINARY defaults to build/msgeventd.  Everything else is in bench.py:
# the workloads, the table it prints, build/bench.json.  The exit status
# is non-zero only when something broke, never because of a figure.
#
# Here only the open-file limit is raised, so that the 1,000 idle
# sessions fit: msgeventd, HAProxy and Dovecot inherit it from bench.py.
# 65536 if allowed, else the hard limit.  bench.py execs nothing through
# a shell and stops every process it started at exit (atexit, also on
# SIGINT, SIGTERM and SIGHUP), so no trap is needed here.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
binary=${1:-build/msgeventd}
[ $# -gt 0 ] && shift

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec python3 "$here/bench.py" --binary "$binary" "$@"
