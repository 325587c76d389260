#!/usr/bin/env python3
"""bench.py - msgeventd next to HAProxy and a direct connection.

    scripts/bench.sh build/msgeventd          (make bench)
    python3 scripts/bench.py --binary build/msgeventd [--quick] [...]

One throwaway Dovecot (tests/integration/harness.py) on free loopback
ports, and three paths to it, measured in the same run, interleaved:

    direct      the client talks to Dovecot
    haproxy     through `haproxy -db` in `mode tcp` (a blind relay)
    msgeventd   through msgeventd, events sent as syslog over UDP to a
                socket this script owns and drains (so they cost what
                they cost, and are counted)

Workloads (defaults):

    bulk        UID FETCH 1:* (BODY.PEEK[]) of 100 messages of 1 MiB,
                9 runs per path: MB/s (10^6 bytes/s), median and best;
                the proxy's CPU during these runs, as CPU seconds per GB
                (10^9 bytes) relayed: utime+stime of all its threads
                (/proc/PID/stat, 10 ms ticks) and, finer, the run time
                in /proc/PID/task/*/schedstat (ns).
                A first, untimed run per path keeps every byte and
                checks count and SHA-256 against the direct path.
    flags       UID FETCH 1:* (UID FLAGS) of 20,000 tiny messages,
                9 runs per path: milliseconds, median and best, and
                the proxy's CPU per FETCH (schedstat)
    noop        2,000 sequential NOOP round trips on one connection
                per path (the paths taking turns, 10 rounds of 200):
                p50/p90/p99 latency in microseconds
    idle        1,000 logged-in idle sessions through each proxy, each
                proxy freshly started: growth of its VmRSS
                (/proc/PID/status) and Pss (/proc/PID/smaps_rollup)
                divided by the number of sessions, in KiB
    events      msgeventd only.  500 sequential APPENDs (LITERAL+) of a
                small message: for each, the arrival of its
                MessageAppend datagram at the sink (matched on mailbox
                and uidset) minus the arrival of the tagged OK at the
                client, both kernel receive timestamps (SO_TIMESTAMPNS):
                p50/p99/max in microseconds (negative: the datagram came
                first), and minus the moment the command was sent (an
                upper bound of "within 100 ms of the server's reply").
                Then 2,000 APPENDs pipelined with LITERAL+ (at most 16
                unanswered: what msgeventd tracks with events), direct
                and through msgeventd: APPENDs per second answered, and
                for msgeventd the events per second emitted (the
                datagrams' arrivals, first to last), events missing,
                sequenceId gaps, and what the sink's own socket dropped
                (/proc/net/udp; its receive buffer is asked for 16 MiB
                with SO_RCVBUFFORCE or SO_RCVBUF, what the kernel
                granted is reported)
    seqstore    one session per run, 3 runs per path and client: SELECT
                a fresh mailbox of 20,000 tiny messages, then STOREs by
                sequence number (+FLAGS on 1:20000, -FLAGS on a range,
                +FLAGS on 20 ranges, 100 single messages, a FLAGS
                replacement, \Deleted on a part) and EXPUNGE; two
                clients, one that never fetches a UID and one that does
                UID FETCH 1:* (UID FLAGS) first.  Each run on a freshly
                started proxy (msgeventd with -d), after one small
                warm-up session: milliseconds for the STOREs and
                EXPUNGE, the proxy's CPU for the session (schedstat),
                its peak memory growth (VmHWM, reset through
                /proc/PID/clear_refs, minus VmRSS before) and, for
                msgeventd, the "peak inference memory" it logs with -d
                ("n/a" where it does not), its events per type, the
                UIDs they carry per type (a long UID set comes split
                in several events), those marked truncated and the
                longest; the responses must be the direct path's, byte
                for byte.  --seqstore-only runs this alone
    tls         implicit TLS (skipped with --no-tls; alone with
                --tls-only): the bulk FETCH over TLS straight to
                Dovecot's IMAPS port, through msgeventd (listen imaps,
                plain to Dovecot) and with TLS on both sides
                (backend-tls), 9 runs per path interleaved, bytes checked
                against the direct TLS path, msgeventd's CPU per GB; then
                1,000 idle logged-in sessions (plain, TLS to the client,
                TLS on both sides), each set on a freshly started
                msgeventd: VmRSS growth per session.  Certificates are
                made with the openssl command (tests/integration/
                test_tls.py's Pki)

Results: a table on stdout (with the issue's targets: throughput >= 90%
of HAProxy's, CPU per GB <= 1.5x HAProxy's, <= 16 KiB per idle session,
events within 100 ms, <= 64 KiB per STORE session of 20,000 messages)
and build/bench.json.  Figures are reported, never asserted: the exit
status is non-zero only when something broke (a path failed, a proxy
died, or a path returned other bytes than the direct one).

Python 3 standard library only.  The maildirs are written as files
before Dovecot first opens them, which is much faster than APPEND.
"""

import argparse
import atexit
import ctypes
import hashlib
import json
import os
import platform
import re
import resource
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402

HOST = harness.HOST
USER = "alice"
PASSWORD = harness.USERS[USER]
PATHS = ("direct", "haproxy", "msgeventd")

# The issue's targets, reported next to the figures (never asserted).
TARGET_THROUGHPUT_RATIO = 0.90     # msgeventd MB/s >= 90% of HAProxy's
TARGET_CPU_RATIO = 1.5             # msgeventd CPU/GB <= 1.5 x HAProxy's
TARGET_IDLE_KIB = 16.0             # KiB per idle session

BULK_BOX = "bulk"
FLAGS_BOX = "flags20k"

CLK_TCK = os.sysconf("SC_CLK_TCK")

# The NOOP round trips are done in this many rounds, the paths taking
# turns, so that a disturbance (another process on the machine) hits
# every path alike.
NOOP_ROUNDS = 10


class BenchError(Exception):
    """Something broke: the bench exits non-zero."""


def tail_file(path, n):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return "(%s)" % e


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# Processes this script starts itself (HAProxy); harness.py stops its own.

_MINE = []


def _stop_mine():
    for p in list(_MINE):
        try:
            p.stop()
        except Exception:   # at exit: stop the others anyway
            pass


atexit.register(_stop_mine)


def _on_signal(signum, frame):
    # SystemExit unwinds the stack and runs the atexit handlers (ours and
    # harness.py's), which a default SIGTERM would not.
    log("signal %d: stopping everything started" % signum)
    raise SystemExit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


# ---------------------------------------------------------------------------
# Dovecot with room for 1,000 sessions

BENCH_DOVECOT_EXTRA = """
# Added by scripts/bench.py: room for the idle-session workload.
default_client_limit = 4096
protocol imap {
  mail_max_userip_connections = 4000
}
# One login process serves many clients (high-performance mode): 1,000
# concurrent pre-login connections need no 1,000 processes.
service imap-login {
  service_count = 0
  process_min_avail = 2
  process_limit = 8
  client_limit = 2048
}
# One imap process per logged-in session.
service imap {
  process_limit = 4096
}
# The event workloads APPEND a few thousand small messages: without an
# fsync(2) per message, Dovecot answers them at the rate of its CPU, not
# of the disk, and the burst shows more of what msgeventd can emit.  (A
# throwaway mail store; the other workloads only read.)
mail_fsync = never
"""


class BenchDovecot(harness.Dovecot):
    """harness.Dovecot with BENCH_DOVECOT_EXTRA appended to its
    dovecot.conf (harness.Dovecot's extra_config: Dovecot merges a
    repeated `service X { }` or `protocol imap { }` section into the
    earlier one, so appending is enough), and where its maildirs are."""

    def __init__(self, tmpdir=None, extra_config=BENCH_DOVECOT_EXTRA):
        super().__init__(tmpdir, extra_config=extra_config)

    def maildir(self, user, box=None):
        root = self.path("mail", user)
        return root if box is None else os.path.join(root, "." + box)


def _mkmaildir(path, uid, gid, folder):
    for sub in ("", "cur", "new", "tmp"):
        d = os.path.join(path, sub)
        os.makedirs(d, exist_ok=True)
        os.chown(d, uid, gid)
    if folder:
        mf = os.path.join(path, "maildirfolder")
        open(mf, "w").close()
        os.chown(mf, uid, gid)


def _write_messages(cur, uid, gid, messages, stamp):
    """Write MESSAGES (a list of (bytes, maildir flags)) into CUR with
    unique names carrying S= and W= (the sizes: CRLF line ends, so the
    physical and the virtual size agree and Dovecot need not compute
    it).  Returns the bytes written."""
    total = 0
    pid = os.getpid()
    for i, (data, flags) in enumerate(messages):
        name = "%d.M%dP%d.msgeventd-bench,S=%d,W=%d:2,%s" % (
            stamp, i, pid, len(data), len(data), flags)
        fn = os.path.join(cur, name)
        with open(fn, "wb") as f:
            f.write(data)
        os.chown(fn, uid, gid)
        total += len(data)
    return total


def bulk_messages(count, size):
    """COUNT messages of exactly SIZE bytes: headers plus base64 lines
    (76 characters and CRLF), varying per message."""
    import base64
    # 57 raw bytes make one 76-character line: whole lines only, so the
    # rotation below never splits a CRLF.
    seed = os.urandom(57 * 862)
    lines = base64.encodebytes(seed).replace(b"\n", b"\r\n")
    out = []
    for i in range(count):
        head = (b"From: Bench Sender <sender@bench.example>\r\n"
                b"To: alice@bench.example\r\n"
                b"Subject: bulk message %d\r\n"
                b"Message-ID: <bulk-%d@bench.example>\r\n"
                b"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
                b"MIME-Version: 1.0\r\n"
                b"Content-Type: text/plain; charset=us-ascii\r\n"
                b"\r\n" % (i, i))
        need = size - len(head)
        # Rotate the body per message so no two are alike.
        rot = (i * 7919) % len(lines)
        rot -= rot % 78
        block = lines[rot:] + lines[:rot]
        body = (block * (need // len(block) + 1))[:need - 2]
        # The last line: keep it CRLF-terminated and free of a lone CR.
        body = body.rstrip(b"\r") + b"\r\n"
        msg = head + body
        if len(msg) < size:
            msg = head + b"x" * (size - len(head) - len(body)) + body
        out.append((msg, ""))
    return out


def flag_messages(count):
    out = []
    for i in range(count):
        data = (b"From: a@bench.example\r\nTo: alice@bench.example\r\n"
                b"Subject: tiny %d\r\nMessage-ID: <tiny-%d@bench.example>\r\n"
                b"\r\nhello %d\r\n" % (i, i, i))
        # Some variety in the FLAGS the server returns.
        flags = "S" if i % 3 == 0 else ("FS" if i % 7 == 0 else "")
        out.append((data, flags))
    return out


def populate(dovecot, bulk_count, bulk_size, flags_count):
    uid, gid = dovecot.mail_uid, dovecot.mail_gid
    stamp = int(time.time())
    root = dovecot.maildir(USER)
    _mkmaildir(root, uid, gid, folder=False)
    bulk = dovecot.maildir(USER, BULK_BOX)
    flags = dovecot.maildir(USER, FLAGS_BOX)
    _mkmaildir(bulk, uid, gid, folder=True)
    _mkmaildir(flags, uid, gid, folder=True)
    nbulk = _write_messages(os.path.join(bulk, "cur"), uid, gid,
                            bulk_messages(bulk_count, bulk_size), stamp)
    nflags = _write_messages(os.path.join(flags, "cur"), uid, gid,
                             flag_messages(flags_count), stamp)
    return nbulk, nflags


# ---------------------------------------------------------------------------
# HAProxy

# HAProxy's defaults otherwise: 16 KiB buffers (tune.bufsize, so about
# 4x the recv/send calls of msgeventd's 64 KiB on a bulk FETCH), no
# splice(2) (option splice-* is off), no tcp-smart-connect.  It sets
# TCP_NODELAY on both sides in TCP mode (on accepted sockets and on its
# connections to the server), as msgeventd does: the bench reads the
# option off both proxies' sockets through pidfd_getfd(2) and reports it.
HAPROXY_CFG = """\
# Written by msgeventd's scripts/bench.py: a blind TCP relay.
global
    maxconn 4096
    # No log target: logging would cost it something msgeventd does not
    # pay either (msgeventd's events are its work, not a log).

defaults
    mode tcp
    maxconn 4096
    timeout connect 5s
    timeout client 1h
    timeout server 1h

frontend imap
    bind 127.0.0.1:{port}
    default_backend dovecot

backend dovecot
    server dovecot 127.0.0.1:{backend_port}
"""


class HAProxy:
    """`haproxy -f CFG -db` (foreground, no daemon, no master-worker):
    the Popen pid is the process doing the relaying.  HAProxy 2.6 starts
    one thread per CPU by default (nbthread); /proc/PID/stat's utime and
    stime cover them all."""

    name = "haproxy"

    def __init__(self, backend_port):
        self.tmp = tempfile.mkdtemp(prefix="mev-hapr-")
        self.port = harness.free_port()
        self.backend_port = backend_port
        self.cfg = os.path.join(self.tmp, "haproxy.cfg")
        self.logfile = os.path.join(self.tmp, "haproxy.log")
        self.proc = None

    def start(self, timeout=10):
        with open(self.cfg, "w") as f:
            f.write(HAPROXY_CFG.format(port=self.port,
                                       backend_port=self.backend_port))
        out = open(self.logfile, "wb")
        self.proc = subprocess.Popen(["haproxy", "-f", self.cfg, "-db"],
                                     stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT)
        out.close()
        _MINE.append(self)
        deadline = time.monotonic() + timeout
        while not harness.port_accepts(self.port):
            if self.proc.poll() is not None:
                raise BenchError("haproxy exited with status %s:\n%s" % (
                    self.proc.returncode, self.log_text()))
            if time.monotonic() > deadline:
                raise BenchError("haproxy not listening within %s s:\n%s"
                                 % (timeout, self.log_text()))
            time.sleep(0.02)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        except OSError:
            return ""

    @staticmethod
    def version():
        try:
            out = subprocess.run(["haproxy", "-v"], capture_output=True,
                                 text=True, timeout=10).stdout
            return out.splitlines()[0] if out else "?"
        except (OSError, subprocess.SubprocessError):
            return "?"

    def stop(self):
        if self in _MINE:
            _MINE.remove(self)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.environ.get("KEEP_TMP"):
            log("kept %s" % self.tmp)
        else:
            import shutil
            shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# msgeventd

def msgeventd_config(port, backend_port, syslog_port):
    return ("# Written by msgeventd's scripts/bench.py\n"
            "server-name bench.example\n"
            "listen imap 127.0.0.1:%d backend 127.0.0.1:%d\n"
            "output syslog udp://127.0.0.1:%d\n"
            % (port, backend_port, syslog_port))


class Proxies:
    """The proxies in front of one Dovecot, each startable afresh."""

    def __init__(self, binary, dovecot_port, sink):
        self.binary = binary
        self.dovecot_port = dovecot_port
        self.sink = sink
        self.haproxy = None
        self.msgeventd = None
        self.msgeventd_port = None

    def start_haproxy(self):
        self.haproxy = HAProxy(self.dovecot_port).start()
        return self.haproxy

    def start_msgeventd(self):
        self.msgeventd_port = harness.free_port()
        cfg = msgeventd_config(self.msgeventd_port, self.dovecot_port,
                               self.sink.port)
        self.msgeventd = harness.Msgeventd(cfg, wait_ports=[
            self.msgeventd_port], binary=self.binary)
        self.msgeventd.start()
        return self.msgeventd

    def stop_haproxy(self):
        if self.haproxy is not None:
            if not self.haproxy.alive():
                raise BenchError("haproxy died (status %s):\n%s" % (
                    self.haproxy.proc.returncode, self.haproxy.log_text()))
            self.haproxy.stop()
            self.haproxy = None

    def stop_msgeventd(self):
        """Stops it; harness.Msgeventd.stop() raises when it did not exit
        0 on SIGTERM (a crash counts as the bench breaking)."""
        if self.msgeventd is not None:
            m, self.msgeventd = self.msgeventd, None
            try:
                m.stop()
            except AssertionError as e:
                raise BenchError("msgeventd: %s" % e)

    def port(self, path):
        if path == "direct":
            return self.dovecot_port
        if path == "haproxy":
            return self.haproxy.port
        return self.msgeventd_port

    def pid(self, path):
        if path == "haproxy":
            return self.haproxy.pid
        if path == "msgeventd":
            return self.msgeventd.proc.pid
        return None

    def check_alive(self, what):
        if self.haproxy is not None and not self.haproxy.alive():
            raise BenchError("haproxy died during %s:\n%s" % (
                what, self.haproxy.log_text()))
        if self.msgeventd is not None and not self.msgeventd.alive():
            raise BenchError("msgeventd died during %s (status %s); "
                             "stderr:\n%s" % (
                                 what, self.msgeventd.proc.returncode,
                                 self.msgeventd.stderr().decode(
                                     "utf-8", "replace")[-3000:]))


# Linux: SO_TIMESTAMPNS (asm-generic/socket.h, SO_TIMESTAMPNS_OLD on
# 64-bit), which Python's socket module does not name.  With it, each
# recvmsg() carries an SCM_TIMESTAMPNS message with the time (struct
# timespec, CLOCK_REALTIME) at which the kernel received the datagram or,
# on a TCP socket, the last segment read: the moment of arrival, not
# the moment this script got round to reading it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
_CMSG_SPACE = socket.CMSG_SPACE(16)
_SEQ_RE = re.compile(rb'\[meta sequenceId="(\d+)"\]')


def enable_rx_timestamps(sock):
    """True if the kernel stamps what SOCK receives (SO_TIMESTAMPNS)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        return True
    except OSError:
        return False


def recv_stamped(sock, size=65536):
    """recvmsg(): (data, arrival time in ns since the epoch, True if the
    kernel gave that time; else it is time.time_ns() now)."""
    data, anc, _flags, _addr = sock.recvmsg(size, _CMSG_SPACE)
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and \
                len(raw) >= 16:
            sec, nsec = struct.unpack("qq", raw[:16])
            if sec or nsec:
                return data, sec * 1000000000 + nsec, True
    return data, time.time_ns(), False


class SyslogSink:
    """A UDP socket msgeventd sends its events to; drain() counts them.

    Its receive buffer is enlarged (SO_RCVBUFFORCE as root, else
    SO_RCVBUF, which the kernel caps at net.core.rmem_max) so that the
    collector itself does not drop a burst; kernel_drops() reads what it
    dropped all the same (/proc/net/udp).  Every datagram's
    [meta sequenceId] is followed: msgeventd numbers the messages of each
    output from 1, so a gap is a datagram that never arrived."""

    RCVBUF = 16 << 20

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for opt in (getattr(socket, "SO_RCVBUFFORCE", None),
                    socket.SO_RCVBUF):
            if opt is None:
                continue
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, opt, self.RCVBUF)
                break
            except OSError:
                continue
        # What the kernel granted (it reports double the value set).
        self.rcvbuf = self.sock.getsockopt(socket.SOL_SOCKET,
                                           socket.SO_RCVBUF)
        self.stamped = enable_rx_timestamps(self.sock)
        self.sock.bind((HOST, 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.bytes = 0
        self.seq_last = 0       # highest sequenceId seen
        self.seq_gaps = 0       # sequenceIds skipped (datagrams missing)
        self.seq_back = 0       # sequenceIds not above the highest seen
        self.no_seq = 0         # datagrams without a sequenceId
        self.user_stamps = 0    # arrival times not from the kernel

    def _account(self, data):
        self.count += 1
        self.bytes += len(data)
        m = _SEQ_RE.search(data)
        if m is None:
            self.no_seq += 1
            return
        seq = int(m.group(1))
        if seq > self.seq_last:
            self.seq_gaps += seq - self.seq_last - 1
            self.seq_last = seq
        else:
            self.seq_back += 1

    def receive(self):
        """Every datagram waiting now, as a list of (data, arrival ns)."""
        out = []
        while True:
            try:
                data, ns, kernel = recv_stamped(self.sock)
            except (BlockingIOError, InterruptedError):
                break
            self._account(data)
            self.user_stamps += not kernel
            out.append((data, ns))
        return out

    def drain(self):
        """Datagrams received since the last drain."""
        return len(self.receive())

    def kernel_drops(self):
        """Datagrams the kernel dropped for this socket (its receive
        buffer was full), from /proc/net/udp; None if unknown."""
        want = "0100007F:%04X" % self.port
        try:
            with open("/proc/net/udp") as f:
                for line in f.read().splitlines()[1:]:
                    fields = line.split()
                    if len(fields) > 12 and fields[1] == want:
                        return int(fields[-1])
        except (OSError, ValueError):
            pass
        return None

    def state(self):
        return {"datagrams": self.count, "bytes": self.bytes,
                "sequence_last": self.seq_last,
                "sequence_gaps": self.seq_gaps,
                "sequence_not_increasing": self.seq_back,
                "without_sequence": self.no_seq,
                "kernel_drops": self.kernel_drops(),
                "rcvbuf_bytes": self.rcvbuf}


# ---------------------------------------------------------------------------
# /proc

def proc_cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_sched_ns(pid):
    """Time on CPU of all threads in ns (schedstat: finer than ticks);
    None where the kernel does not provide it."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total


def proc_mem_kib(pid):
    """(VmRSS, Pss, Pss_Anon) in KiB; Pss values None if unavailable."""
    rss = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    pss = pss_anon = None
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Pss_Anon:"):
                    pss_anon = int(line.split()[1])
    except OSError:
        pass
    return rss, pss, pss_anon


# TCP_NODELAY on a proxy's sockets, read through pidfd_getfd(2): a
# duplicate of its descriptor, same socket.
_SYS_PIDFD_OPEN = 434
_SYS_PIDFD_GETFD = 438


def socket_options(pid, listen_port, backend_port):
    """{"client": [nodelay...], "backend": [nodelay...]} for PID's
    connected TCP sockets, or {"error": text}."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pidfd = libc.syscall(_SYS_PIDFD_OPEN, pid, 0)
        if pidfd < 0:
            return {"error": os.strerror(ctypes.get_errno())}
    except (OSError, AttributeError) as e:
        return {"error": str(e)}
    out = {"client": [], "backend": []}
    try:
        for name in os.listdir("/proc/%d/fd" % pid):
            try:
                if not os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith(
                        "socket:"):
                    continue
            except OSError:
                continue
            fd = libc.syscall(_SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                return {"error": "pidfd_getfd: %s" %
                        os.strerror(ctypes.get_errno())}
            s = None
            try:
                s = socket.socket(fileno=fd)
                if s.type != socket.SOCK_STREAM or s.family not in (
                        socket.AF_INET, socket.AF_INET6):
                    continue
                try:
                    peer = s.getpeername()
                except OSError:
                    continue          # a listener
                nodelay = bool(s.getsockopt(socket.IPPROTO_TCP,
                                            socket.TCP_NODELAY))
                if s.getsockname()[1] == listen_port:
                    out["client"].append(nodelay)
                elif peer[1] == backend_port:
                    out["backend"].append(nodelay)
            except OSError:
                continue
            finally:
                if s is not None:
                    s.close()
                else:
                    os.close(fd)
    finally:
        os.close(pidfd)
    return out


# ---------------------------------------------------------------------------
# IMAP clients

class Imap:
    """A lean IMAP client on a raw socket, for setup and for timing."""

    def __init__(self, port, timeout=120):
        self.sock = socket.create_connection((HOST, port), timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.n = 0
        line = self.read_line()
        if not line.startswith(b"* OK"):
            raise BenchError("port %d: greeting %r" % (port, line[:200]))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 2], self.buf[i + 2:]
                return line
            data = self.sock.recv(65536)
            if not data:
                raise BenchError("connection closed; pending %r"
                                 % self.buf[:200])
            self.buf += data

    def command(self, text):
        """Send a command and return the tagged line; the untagged
        responses must not contain literals (not followed here)."""
        self.n += 1
        tag = b"s%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        while True:
            line = self.read_line()
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise BenchError("%s: %r" % (text.split()[0],
                                                 line[:300]))
                return line

    def login(self):
        return self.command("LOGIN %s %s" % (USER, PASSWORD))

    def logout(self):
        try:
            self.command("LOGOUT")
        except (BenchError, OSError):
            pass
        self.close()


TAIL = 512     # longer than any tagged line Dovecot sends


def timed_fetch(conn, tag, command, buf, keep=False):
    """Send TAG COMMAND and read up to its tagged response as fast as
    Python can: recv_into one big buffer, count, look at the tail only.
    The bodies are base64 lines (no spaces) and the tags are not in them,
    so "CRLF TAG SP" at the end of a read is the tagged response.
    Returns (seconds, untagged bytes, tagged line, kept bytes or None)."""
    if conn.buf:
        raise BenchError("unexpected bytes before %s: %r" % (tag, conn.buf))
    sock = conn.sock
    mv = memoryview(buf)
    tagb = tag.encode() + b" "
    total = 0
    tail = b""
    kept = [] if keep else None
    req = tagb + command.encode() + b"\r\n"
    t0 = time.perf_counter()
    sock.sendall(req)
    while True:
        n = sock.recv_into(mv)
        if n == 0:
            raise BenchError("%s: connection closed after %d bytes"
                             % (command, total))
        total += n
        if keep:
            kept.append(bytes(mv[:n]))
        tail = tail[-TAIL:] + bytes(mv[max(0, n - TAIL):n])
        if mv[n - 1] != 10 or not tail.endswith(b"\r\n"):
            continue
        i = tail.rfind(b"\r\n", 0, len(tail) - 2)
        if i >= 0:
            line = tail[i + 2:]
        elif total == len(tail):
            line = tail
        else:
            continue
        if line.startswith(tagb):
            break
    elapsed = time.perf_counter() - t0
    if not line.startswith(tagb + b"OK"):
        raise BenchError("%s: %r" % (command, line[:300]))
    data = b"".join(kept)[:total - len(line)] if keep else None
    return elapsed, total - len(line), line, data


def parse_fetch_literals(data):
    """Walk untagged FETCH responses with literals: (responses, literal
    bytes).  Checks the structure the byte count stands for."""
    pos = 0
    responses = 0
    lit_bytes = 0
    end = len(data)
    while pos < end:
        if data.startswith(b"* ", pos):
            responses += 1
        while True:
            i = data.find(b"\r\n", pos)
            if i < 0:
                raise BenchError("unterminated line at offset %d" % pos)
            line = data[pos:i]
            pos = i + 2
            if line.endswith(b"}"):
                j = line.rfind(b"{")
                size = int(line[j + 1:-1].rstrip(b"+"))
                lit_bytes += size
                pos += size
                continue   # the response goes on after the literal
            break
    return responses, lit_bytes


def login_examine(port, box):
    c = Imap(port)
    c.login()
    c.command("EXAMINE %s" % box)
    return c


# ---------------------------------------------------------------------------
# Workloads

def bulk_run(proxies, path, buf, keep=False):
    pid = proxies.pid(path)
    c = login_examine(proxies.port(path), BULK_BOX)
    try:
        cpu0 = proc_cpu_seconds(pid) if pid else None
        ns0 = proc_sched_ns(pid) if pid else None
        secs, nbytes, _line, data = timed_fetch(
            c, "Zb1", "UID FETCH 1:* (BODY.PEEK[])", buf, keep)
        cpu1 = proc_cpu_seconds(pid) if pid else None
        ns1 = proc_sched_ns(pid) if pid else None
    finally:
        c.logout()
    run = {"seconds": secs, "bytes": nbytes, "mb_s": nbytes / secs / 1e6}
    if pid:
        run["proxy_cpu_s"] = cpu1 - cpu0
        if ns0 is not None and ns1 is not None:
            run["proxy_sched_cpu_s"] = (ns1 - ns0) / 1e9
    return run, data


def flags_run(proxies, path, buf):
    pid = proxies.pid(path)
    c = login_examine(proxies.port(path), FLAGS_BOX)
    try:
        ns0 = proc_sched_ns(pid) if pid else None
        cpu0 = proc_cpu_seconds(pid) if pid else None
        secs, nbytes, _line, _ = timed_fetch(
            c, "Zf1", "UID FETCH 1:* (UID FLAGS)", buf)
        cpu1 = proc_cpu_seconds(pid) if pid else None
        ns1 = proc_sched_ns(pid) if pid else None
    finally:
        c.logout()
    run = {"ms": secs * 1e3, "bytes": nbytes}
    if pid:
        run["proxy_cpu_s"] = cpu1 - cpu0
        if ns0 is not None and ns1 is not None:
            run["proxy_sched_cpu_s"] = (ns1 - ns0) / 1e9
    return run


def percentile(sorted_values, p):
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_values) - 1,
                   int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def noop_batch(conn, first, count):
    """COUNT sequential NOOP round trips on CONN, tags from FIRST on;
    returns the latencies in microseconds."""
    sock = conn.sock
    lat = []
    for i in range(first, first + count):
        tag = b"n%d " % i
        req = tag + b"NOOP\r\n"
        t0 = time.perf_counter_ns()
        sock.sendall(req)
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                raise BenchError("NOOP: connection closed")
            data += chunk
            if data.endswith(b"\r\n"):
                j = data.rfind(b"\r\n", 0, len(data) - 2)
                j = j + 2 if j >= 0 else 0
                if data.startswith(tag, j):
                    break
        t1 = time.perf_counter_ns()
        if not data.startswith(tag + b"OK", j):
            raise BenchError("NOOP: %r" % data[:200])
        lat.append((t1 - t0) / 1e3)
    return lat


def latency_summary(lat):
    lat = sorted(lat)
    return {"count": len(lat),
            "p50_us": percentile(lat, 50), "p90_us": percentile(lat, 90),
            "p99_us": percentile(lat, 99), "min_us": lat[0],
            "max_us": lat[-1], "mean_us": statistics.fmean(lat)}


def open_idle_sessions(port, count, batch=100):
    """COUNT logged-in sessions on PORT, opened BATCH at a time (connect
    all, read the greetings, send every LOGIN, read every answer)."""
    conns = []
    try:
        for start in range(0, count, batch):
            group = []
            for _ in range(min(batch, count - start)):
                s = socket.create_connection((HOST, port), 60)
                group.append([s, b""])
                conns.append(s)
            for g in group:
                g[1] = _read_line(g[0], b"")[1]
                g[0].sendall(b"l LOGIN %s %s\r\n" % (USER.encode(),
                                                    PASSWORD.encode()))
            for g in group:
                rest = g[1]
                while True:
                    line, rest = _read_line(g[0], rest)
                    if line.startswith(b"l "):
                        break
                if not line.startswith(b"l OK"):
                    raise BenchError("idle session LOGIN: %r" % line[:200])
    except BaseException:
        for s in conns:
            s.close()
        raise
    return conns


def _read_line(sock, buf):
    while True:
        i = buf.find(b"\r\n")
        if i >= 0:
            return buf[:i + 2], buf[i + 2:]
        data = sock.recv(65536)
        if not data:
            raise BenchError("idle session closed; pending %r" % buf[:200])
        buf += data


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def wait_fds(pid, limit, timeout=30):
    """Wait until PID has at most LIMIT descriptors open (its sessions
    are closed); returns the count."""
    deadline = time.monotonic() + timeout
    while True:
        n = fd_count(pid)
        if n <= limit or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


def idle_memory(pid, port, sessions, settle=1.0):
    """Open SESSIONS logged-in sessions through the proxy PID listening
    on PORT and return its memory growth per session."""
    fds0 = fd_count(pid)
    # Warm up: a few sessions opened and closed, so pools and lazily
    # set up structures exist before the baseline.
    warm = open_idle_sessions(port, 10)
    for s in warm:
        s.close()
    wait_fds(pid, fds0)
    time.sleep(settle)
    rss0, pss0, anon0 = proc_mem_kib(pid)
    t0 = time.monotonic()
    conns = open_idle_sessions(port, sessions)
    opened_s = time.monotonic() - t0
    try:
        time.sleep(settle)
        rss1, pss1, anon1 = proc_mem_kib(pid)
    finally:
        for s in conns:
            s.close()
    # Let the proxy close its side before anything else is measured.
    if wait_fds(pid, fds0) > fds0:
        raise BenchError("proxy still has %d descriptors open 30 s after "
                         "the idle sessions closed (%d before)"
                         % (fd_count(pid), fds0))

    def per(a, b):
        return None if a is None or b is None else (b - a) / sessions
    return {
        "sessions": sessions, "open_seconds": opened_s,
        "rss_before_kib": rss0, "rss_after_kib": rss1,
        "pss_before_kib": pss0, "pss_after_kib": pss1,
        "rss_kib_per_session": per(rss0, rss1),
        "pss_kib_per_session": per(pss0, pss1),
        "pss_anon_kib_per_session": per(anon0, anon1),
    }


def wait_sessions_gone(dovecot, timeout=30):
    """Wait until our Dovecot's imap processes (children of its master
    named dovecot/imap...) are gone: the idle sessions' processes would
    otherwise compete for CPU with the next measurement."""
    master = dovecot.proc.pid
    deadline = time.monotonic() + timeout
    while True:
        n = 0
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    stat = f.read()
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid == master and cmd.startswith(b"dovecot/imap") and \
                    not cmd.startswith(b"dovecot/imap-"):
                n += 1
        if n == 0 or time.monotonic() > deadline:
            return n
        time.sleep(0.1)


# ---------------------------------------------------------------------------
# Events: latency and burst rate (msgeventd only)

EVENT_BOX = "evlat"
BURST_BOX = "evburst"
# msgeventd tracks at most 128 outstanding commands per session
# (IMAP_INFER_PENDING_MAX in parser/imap_infer.h; their arguments within
# IMAP_INFER_RECORD_BYTES_MAX); later ones are relayed without events and
# logged as "not tracked".  The burst pipelines 64, as sync clients do,
# within that, so that it measures the emission rate, not the cap.
BURST_WINDOW = 64
# The promise: each event leaves msgeventd within 100 ms of the server's
# reply that completed it.  Reported next to the figures, never asserted.
TARGET_EVENT_LATENCY_US = 100000.0

_APPENDUID_RE = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")
_UIDSET_RE = re.compile(rb' uidset="([^"]*)"')
_MAILBOX_RE = re.compile(rb' mailboxID="([^"]*)"')


def event_key(data):
    """(MSGID, mailbox name, uidset) of a syslog datagram from msgeventd,
    e.g. (b"MessageAppend", b"evlat", b"17"); None for another shape.
    mailboxID is an IMAP URL: .../NAME;UIDVALIDITY=n."""
    parts = data.split(b" ", 6)
    if len(parts) < 7:
        return None
    m = _MAILBOX_RE.search(parts[6])
    if m is None:
        return None
    box = m.group(1).rsplit(b"/", 1)[-1].split(b";", 1)[0]
    u = _UIDSET_RE.search(parts[6])
    return parts[5], box, u.group(1) if u else None


def event_message(i):
    return (b"From: a@bench.example\r\nTo: alice@bench.example\r\n"
            b"Subject: event %d\r\nMessage-ID: <event-%d-%d@bench.example>"
            b"\r\n\r\nhello %d\r\n" % (i, i, os.getpid(), i))


def append_command(tag, box, msg):
    """APPEND with a non-synchronizing literal (LITERAL+, RFC 7888): the
    whole command in one piece, no continuation round trip."""
    return b"%s APPEND %s {%d+}\r\n%s\r\n" % (tag, box.encode(), len(msg),
                                              msg)


class StampedImap:
    """An IMAP connection whose lines carry their arrival time: the
    kernel's receive timestamp (SO_TIMESTAMPNS) of the segment that
    completed the line."""

    def __init__(self, port, timeout=60):
        self.sock = socket.create_connection((HOST, port), timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stamped = enable_rx_timestamps(self.sock)
        self.user_stamps = 0
        self.buf = b""
        self._ns = 0
        self.n = 0
        line, _ = self.read_line()
        if not line.startswith(b"* OK"):
            raise BenchError("port %d: greeting %r" % (port, line[:200]))

    def fill(self):
        data, ns, kernel = recv_stamped(self.sock)
        if not data:
            raise BenchError("connection closed; pending %r"
                             % self.buf[:200])
        self.user_stamps += not kernel
        self.buf += data
        return ns

    def lines(self, ns):
        """The complete lines in the buffer, each with NS."""
        out = []
        while True:
            i = self.buf.find(b"\r\n")
            if i < 0:
                return out
            out.append((self.buf[:i + 2], ns))
            self.buf = self.buf[i + 2:]

    def read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 2], self.buf[i + 2:]
                return line, self._ns
            self._ns = self.fill()

    def read_tagged(self, tag):
        """Lines up to the one tagged TAG (bytes): (that line, the
        arrival time of its last byte in ns)."""
        while True:
            line, ns = self.read_line()
            if line.startswith(tag + b" "):
                return line, ns

    def command(self, text):
        self.n += 1
        tag = b"s%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        line, _ = self.read_tagged(tag)
        if not line.startswith(tag + b" OK"):
            raise BenchError("%s: %r" % (text.split()[0], line[:300]))
        return line

    def login(self):
        return self.command("LOGIN %s %s" % (USER, PASSWORD))

    def logout(self):
        try:
            self.command("LOGOUT")
        except (BenchError, OSError):
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def _appenduid(line, what):
    m = _APPENDUID_RE.search(line)
    if not line.split(b" ", 2)[1:2] == [b"OK"] or m is None:
        raise BenchError("%s: %r" % (what, line[:300]))
    return m.group(2)


def _collect(sink, arrivals, other):
    """Datagrams waiting at SINK into ARRIVALS {key: arrival ns} (the
    first of each key); returns how many arrived."""
    got = sink.receive()
    for data, ns in got:
        k = event_key(data)
        if k is None or k in arrivals:
            other.append(data[:200])
        else:
            arrivals[k] = ns
    return len(got)


def _wait_events(sink, arrivals, other, keys, quiet=2.0):
    """Receive until every one of KEYS has arrived, or nothing arrived
    for QUIET seconds."""
    last = time.monotonic()
    while any(k not in arrivals for k in keys):
        left = last + quiet - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([sink.sock], [], [], left)
        if r and _collect(sink, arrivals, other):
            last = time.monotonic()


def event_latency(proxies, sink, count):
    """COUNT sequential APPENDs of a small message through msgeventd, one
    at a time.  For each: the arrival (kernel timestamp) of its
    MessageAppend datagram at the sink, matched on mailbox and uidset
    (the UID in the server's APPENDUID), minus the arrival of the tagged
    OK at the client (kernel timestamp too): negative when the datagram
    came first.  Also minus the moment the command was sent: the
    server's reply comes after that, so this bounds the time from the
    reply to the event from above (the former, from below: msgeventd
    received the reply before the client did)."""
    c = StampedImap(proxies.port("msgeventd"))
    arrivals, other = {}, []
    after_ok, after_send, rtt = [], [], []
    missing = []
    try:
        c.login()
        c.command("CREATE %s" % EVENT_BOX)
        _wait_events(sink, arrivals, other,
                     [(b"MailboxCreate", EVENT_BOX.encode(), None)])
        arrivals.clear()
        box = EVENT_BOX.encode()
        for i in range(count):
            tag = b"e%d" % i
            req = append_command(tag, EVENT_BOX, event_message(i))
            t_send = time.time_ns()
            c.sock.sendall(req)
            line, t_ok = c.read_tagged(tag)
            key = (b"MessageAppend", box, _appenduid(line, "APPEND"))
            _collect(sink, arrivals, other)
            _wait_events(sink, arrivals, other, [key], quiet=1.0)
            ns = arrivals.pop(key, None)
            if ns is None:
                missing.append(key[2].decode())
                continue
            after_ok.append((ns - t_ok) / 1e3)
            after_send.append((ns - t_send) / 1e3)
            rtt.append((t_ok - t_send) / 1e3)
    finally:
        c.logout()
    _collect(sink, arrivals, other)
    res = {"commands": count, "command": "APPEND %s {n+} (LITERAL+), "
           "%d-byte messages, one at a time" % (
               EVENT_BOX, len(event_message(0))),
           "matched": len(after_ok), "missing": len(missing),
           "missing_uids": missing[:20],
           "kernel_timestamps": c.stamped and sink.stamped and
           c.user_stamps == 0,
           "clock": "CLOCK_REALTIME; arrivals are kernel receive "
                    "timestamps (SO_TIMESTAMPNS), the send time is "
                    "time.time_ns() before send()"}
    if after_ok:
        res["after_tagged_ok"] = latency_summary(after_ok)
        res["after_command_sent"] = latency_summary(after_send)
        res["append_round_trip"] = latency_summary(rtt)
        res["datagram_before_ok"] = sum(v < 0 for v in after_ok)
        ub = res["after_command_sent"]["max_us"]
        lb = res["after_tagged_ok"]["max_us"]
        # The upper bound settles it when it is within the target; the
        # lower bound, when it is not.
        res["meets_target"] = True if ub <= TARGET_EVENT_LATENCY_US else (
            False if lb > TARGET_EVENT_LATENCY_US else None)
    return res


def pipelined_appends(c, box, count, window, sink=None, arrivals=None,
                      other=None):
    """COUNT APPENDs with LITERAL+ into BOX pipelined on C (a logged-in
    StampedImap), at most WINDOW unanswered at a time; the SINK's
    datagrams are collected meanwhile when one is given.  Returns
    ({uid: arrival of its tagged OK}, start ns, last OK's arrival ns)."""
    reqs = [append_command(b"b%d" % i, box, event_message(i))
            for i in range(count)]
    ok_at = {}
    socks = [c.sock] + ([sink.sock] if sink is not None else [])
    sent = done = 0
    t0 = time.time_ns()
    t_last_ok = t0
    while done < count:
        if sent < count and sent - done < window:
            n = min(count, done + window) - sent
            c.sock.sendall(b"".join(reqs[sent:sent + n]))
            sent += n
        r, _, _ = select.select(socks, [], [], 30)
        if not r:
            raise BenchError("APPEND burst: no answer for 30 s after "
                             "%d of %d APPENDs" % (done, count))
        if sink is not None and sink.sock in r:
            _collect(sink, arrivals, other)
        if c.sock in r:
            for line, ns in c.lines(c.fill()):
                if line.startswith(b"b"):
                    ok_at[_appenduid(line, "burst APPEND")] = ns
                    t_last_ok = ns
                    done += 1
    return ok_at, t0, t_last_ok


def direct_burst(proxies, count, window):
    """The burst straight to Dovecot: how fast the server alone answers
    it, for comparison (no events)."""
    box = BURST_BOX + "-direct"
    c = StampedImap(proxies.port("direct"))
    try:
        c.login()
        c.command("CREATE %s" % box)
        ok_at, t0, t1 = pipelined_appends(c, box, count, window)
    finally:
        c.logout()
    return {"commands": count, "window": window, "answered_ok": len(ok_at),
            "client_seconds": (t1 - t0) / 1e9,
            "appends_per_s": count / ((t1 - t0) / 1e9)}


def event_burst(proxies, sink, count, window):
    """COUNT APPENDs with LITERAL+ pipelined on one connection through
    msgeventd, at most WINDOW unanswered at a time (see BURST_WINDOW:
    beyond 16 msgeventd relays without events, by design, and logs it).
    Events per second emitted: the datagrams' arrivals at the sink
    (kernel timestamps), first to last.  Missing: sequenceId gaps at the
    sink, and APPENDs answered OK whose event never came."""
    c = StampedImap(proxies.port("msgeventd"))
    arrivals, other = {}, []
    box = BURST_BOX.encode()
    try:
        c.login()
        c.command("CREATE %s" % BURST_BOX)
        _wait_events(sink, arrivals, other,
                     [(b"MailboxCreate", box, None)])
        arrivals.clear()
        gaps0, drops0 = sink.seq_gaps, sink.kernel_drops()
        ok_at, t0, t_last_ok = pipelined_appends(
            c, BURST_BOX, count, window, sink, arrivals, other)
        keys = [(b"MessageAppend", box, uid) for uid in ok_at]
        _wait_events(sink, arrivals, other, keys)
    finally:
        c.logout()
    _collect(sink, arrivals, other)
    drops1 = sink.kernel_drops()
    got = sorted(arrivals[k] for k in keys if k in arrivals)
    lat = [(arrivals[k] - ok_at[k[2]]) / 1e3 for k in keys if k in arrivals]
    res = {"commands": count, "window": window,
           "command": "APPEND %s {n+} (LITERAL+), pipelined" % BURST_BOX,
           "answered_ok": len(ok_at), "events_received": len(got),
           "events_missing": count - len(got),
           "sequence_gaps": sink.seq_gaps - gaps0,
           "collector_kernel_drops": None if drops0 is None or
           drops1 is None else drops1 - drops0,
           "collector_rcvbuf_bytes": sink.rcvbuf,
           "client_seconds": (t_last_ok - t0) / 1e9,
           "appends_per_s": count / ((t_last_ok - t0) / 1e9)}
    if len(got) > 1:
        span = (got[-1] - got[0]) / 1e9
        res["emit_seconds"] = span
        res["events_per_s"] = (len(got) - 1) / span if span > 0 else None
    if lat:
        res["after_tagged_ok"] = latency_summary(lat)
    res["any_missing"] = res["events_missing"] > 0 or \
        res["sequence_gaps"] > 0
    return res


_NOT_TRACKED_RE = re.compile(r"(\d+) commands not tracked")


def msgeventd_warnings(m, since=0):
    """What msgeventd's stderr says (from byte SINCE on) about commands
    it did not track (their events are lost) or events its outputs
    dropped: the count of untracked commands and the last such lines."""
    text = m.stderr()[since:].decode("utf-8", "replace").splitlines()
    nt = [t for t in text if "not tracked" in t]
    return {"not_tracked": sum(int(x.group(1)) for x in map(
                _NOT_TRACKED_RE.search, nt) if x),
            "not_tracked_lines": nt[-3:],
            "dropped_lines": [t for t in text if "dropped" in t][-3:]}


# ---------------------------------------------------------------------------
# Sequence-number STOREs and EXPUNGE on 20,000 messages (issue 3)
#
# One session per run: SELECT a mailbox of 20,000 tiny messages (the
# flags workload's, written afresh for every run: the session changes
# it), then STOREs by sequence number (the whole mailbox, ranges, single
# messages, a FLAGS replacement, \Deleted on a part) and EXPUNGE.  Two
# clients: "seq" never learns a UID (msgeventd must find them itself),
# "uid" first does UID FETCH 1:* (UID FLAGS), as a syncing client does.
# Every run gets a fresh proxy (a fresh HAProxy, a fresh `msgeventd -d`),
# warmed up by one small session, so that its VmHWM (reset through
# /proc/PID/clear_refs where the kernel allows) is this session's peak.

SEQSTORE_PREFIX = "seqst"
SEQSTORE_WARM_BOX = "seqwarm"
SEQSTORE_VARIANTS = ("seq", "uid")
SEQSTORE_VARIANT_TEXT = {
    "seq": "sequence numbers only (no UID ever fetched)",
    "uid": "UID FETCH 1:* (UID FLAGS) first",
}
SEQSTORE_RUNS = 3
# The issue's target: at most 64 KiB per session for a mailbox of 20,000
# messages, whatever the client does (reported, never asserted).
TARGET_SEQSTORE_KIB = 64.0

# msgeventd -d, at the end of a session (the number varies; the line is
# a session_diag() one: "session N client ADDR ...: peak inference
# memory X bytes", or the shorter "session N: ...").
_PEAK_MEM_RE = re.compile(
    rb"session (\d+)\b[^\n]*?peak inference memory (\d+) bytes")
_EXPUNGE_LINE_RE = re.compile(rb"^\* \d+ EXPUNGE\r$", re.M)
# An event whose uidset msgeventd could not give in full.
_TRUNCATED = b'vnd.msgeventd.truncated="1"'
_FLAG_EVENTS = ("MessageRead", "MessageTrash", "FlagsSet", "FlagsClear")


class DebugMsgeventd(harness.Msgeventd):
    """harness.Msgeventd started as `msgeventd -d -c FILE`: debug
    diagnostics on stderr, among them the session's peak inference
    memory at its end."""

    def start(self, timeout=10):
        with open(self.conf, "w") as f:
            f.write(self.config_text)
        err = open(self.stderr_file, "wb")
        self.proc = harness._spawn([self.binary, "-d", "-c", self.conf],
                                   subprocess.DEVNULL, err)
        err.close()
        self._wait_ready(lambda: all(harness.port_listening(p)
                                     for p in self.wait_ports),
                         timeout, self.stderr_file)
        return self


def seqstore_start(proxies, path):
    """A fresh proxy for PATH on PROXIES (msgeventd with -d)."""
    if path == "haproxy":
        proxies.start_haproxy()
    elif path == "msgeventd":
        proxies.msgeventd_port = harness.free_port()
        cfg = msgeventd_config(proxies.msgeventd_port, proxies.dovecot_port,
                               proxies.sink.port)
        proxies.msgeventd = DebugMsgeventd(cfg, wait_ports=[
            proxies.msgeventd_port], binary=proxies.binary)
        proxies.msgeventd.start()


def seqstore_stop(proxies, path):
    if path == "haproxy":
        proxies.stop_haproxy()
    elif path == "msgeventd":
        proxies.stop_msgeventd()


def seqstore_commands(n):
    """The commands after SELECT, all by sequence number: +FLAGS on the
    whole mailbox, -FLAGS on a range, +FLAGS on 20 spread ranges, 100
    single messages one command each (+FLAGS and -FLAGS alternately), a
    FLAGS replacement on a quarter, \\Deleted on a fifth plus scattered
    messages, EXPUNGE.  Returns [(kind, command)]."""
    if n < 200:
        raise BenchError("--seqstore-messages must be at least 200")
    step, width = n // 20, n // 200
    ranges = ",".join("%d:%d" % (a, a + width - 1)
                      for a in range(step // 2, n - width + 1, step)
                      if a >= 1)
    cmds = [("all", "STORE 1:%d +FLAGS (\\Seen)" % n),
            ("range", "STORE 1:%d -FLAGS (\\Seen)" % (n // 10)),
            ("ranges", "STORE %s +FLAGS (\\Flagged)" % ranges)]
    for i in range(100):
        k = 7 + i * (n // 100)
        cmds.append(("single", "STORE %d %sFLAGS (%s)" % (
            k, "+-"[i % 2], ("\\Answered", "\\Seen")[i % 2])))
    cmds.append(("replace", "STORE %d:%d FLAGS (\\Seen \\Answered)" % (
        n // 4 + 1, n // 2)))
    scattered = ",".join(str(k) for k in range(4 * n // 5 + 1, n + 1, 97))
    cmds.append(("deleted", "STORE %d:%d,%s +FLAGS (\\Deleted)" % (
        3 * n // 5 + 1, 4 * n // 5, scattered)))
    cmds.append(("expunge", "EXPUNGE"))
    return cmds


def seqstore_populate(dovecot, boxes, count):
    """Maildirs for BOXES of COUNT messages each (flag_messages(), the
    flags workload's, identical names and so identical UIDs in every
    box), and the small warm-up box."""
    uid, gid = dovecot.mail_uid, dovecot.mail_gid
    stamp = int(time.time())
    msgs = flag_messages(count)
    for box, n in [(b, msgs) for b in boxes] + [
            (SEQSTORE_WARM_BOX, msgs[:10])]:
        d = dovecot.maildir(USER, box)
        _mkmaildir(d, uid, gid, folder=True)
        _write_messages(os.path.join(d, "cur"), uid, gid, n, stamp)


def proc_status_kib(pid):
    """{"VmRSS": KiB, "VmHWM": KiB} from /proc/PID/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k = line.split(":", 1)[0]
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(line.split()[1])
    return out


def reset_hwm(pid):
    """Reset PID's VmHWM to its VmRSS (`echo 5 > /proc/PID/clear_refs`,
    Linux 4.0 on); False where that is not allowed."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def seqstore_warmup(port, buf):
    """One small session through a fresh proxy before the measured one:
    a 1 MiB literal read (the proxy's shared read buffer is touched in
    full), a SELECT, two STOREs (an event: the output is set up)."""
    c = Imap(port)
    try:
        c.login()
        c.command("EXAMINE %s" % BULK_BOX)
        timed_fetch(c, "W1", "UID FETCH 1 (BODY.PEEK[])", buf)
        c.command("SELECT %s" % SEQSTORE_WARM_BOX)
        c.command("STORE 1 +FLAGS (\\Seen)")
        c.command("STORE 1 -FLAGS (\\Seen)")
    finally:
        c.logout()


def seqstore_session(port, box, variant, commands, buf, pid):
    """The measured session on PORT.  Returns the run's figures: wall
    times, the untagged responses' size and SHA-256 (after SELECT), the
    EXPUNGE responses, the growth of the proxy PID's VmHWM and its CPU
    during each kind of command (where the peak was reached, where the
    time went), and its CPU (schedstat, ns) at each phase boundary."""
    h = hashlib.sha256()
    nbytes = 0
    cpu = {}
    steps = {}
    cpu_steps = {}
    hwm = [proc_status_kib(pid)["VmHWM"], proc_sched_ns(pid)] if pid \
        else None

    def mark(name):
        if pid:
            cpu[name] = proc_sched_ns(pid)

    def step(kind):
        if pid:
            v = proc_status_kib(pid)["VmHWM"]
            steps[kind] = steps.get(kind, 0) + v - hwm[0]
            hwm[0] = v
            ns = proc_sched_ns(pid)
            if ns is not None and hwm[1] is not None:
                cpu_steps[kind] = cpu_steps.get(kind, 0) + (
                    ns - hwm[1]) / 1e6
            hwm[1] = ns
    mark("start")
    t0 = time.perf_counter()
    c = Imap(port)
    try:
        c.login()
        c.command("SELECT %s" % box)
        step("select")
        if variant == "uid":
            _s, nb, _l, data = timed_fetch(
                c, "U1", "UID FETCH 1:* (UID FLAGS)", buf, keep=True)
            h.update(data)
            nbytes += nb
            step("uid_fetch")
        mark("stores")
        t1 = time.perf_counter()
        for i, (kind, cmd) in enumerate(commands):
            _s, nb, _l, data = timed_fetch(c, "Q%d" % i, cmd, buf, keep=True)
            h.update(data)
            nbytes += nb
            step(kind)
        t2 = time.perf_counter()
        mark("end")
        expunged = len(_EXPUNGE_LINE_RE.findall(data))
    finally:
        c.logout()
    t3 = time.perf_counter()
    step("logout")
    return {"session_ms": (t3 - t0) * 1e3, "stores_ms": (t2 - t1) * 1e3,
            "response_bytes": nbytes, "sha256": h.hexdigest(),
            "expunge_responses": expunged,
            "vmhwm_growth_by_command_kib": steps,
            "proxy_cpu_ms_by_command": cpu_steps}, cpu


def _uidset_size(text):
    n = 0
    for part in text.split(b","):
        if b":" in part:
            a, b = part.split(b":", 1)
            n += abs(int(b) - int(a)) + 1
        elif part:
            n += 1
    return n


def settle_fds(pid, quiet=0.3, timeout=5.0):
    """PID's descriptor count once it stayed the same for QUIET s."""
    deadline = time.monotonic() + timeout
    n, since = fd_count(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        m = fd_count(pid)
        if m != n:
            n, since = m, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return n


def seqstore_run(dovecot, proxies, sink, path, variant, box, commands, buf):
    """One measured session via PATH on a fresh proxy, mailbox BOX."""
    # Dovecot indexes the fresh mailbox now, not during the measurement
    # (and this session takes \Recent: no path sees it).
    c = Imap(dovecot.imap_port)
    c.login()
    c.command("SELECT %s" % box)
    c.logout()
    sink.drain()
    seqstore_start(proxies, path)
    try:
        pid = proxies.pid(path)
        run = {"box": box}
        if pid:
            fds0 = fd_count(pid)
            seqstore_warmup(proxies.port(path), buf)
            # HAProxy opens some descriptors of its own at its first
            # connections (per thread): the baseline is what is left
            # once the warm-up session is closed.
            wait_fds(pid, fds0, timeout=2)
            fds0 = settle_fds(pid)
            sink.drain()
            err0 = len(proxies.msgeventd.stderr()) \
                if path == "msgeventd" else 0
            run["hwm_reset"] = reset_hwm(pid)
            mem0 = proc_status_kib(pid)
            tick0 = proc_cpu_seconds(pid)
        r, cpu = seqstore_session(proxies.port(path), box, variant,
                                  commands, buf, pid)
        run.update(r)
        if not pid:
            return run
        if wait_fds(pid, fds0) > fds0:
            raise BenchError("%s still has %d descriptors open after the "
                             "STORE session (%d before)"
                             % (path, fd_count(pid), fds0))
        cpu["closed"] = proc_sched_ns(pid)
        tick1 = proc_cpu_seconds(pid)
        mem1 = proc_status_kib(pid)
        run["vmrss_before_kib"] = mem0["VmRSS"]
        run["vmhwm_before_kib"] = mem0["VmHWM"]
        run["vmrss_after_kib"] = mem1["VmRSS"]
        run["vmhwm_after_kib"] = mem1["VmHWM"]
        # The session's peak over what was resident before it (with the
        # reset, exactly the growth of the high-water mark).
        run["peak_growth_kib"] = mem1["VmHWM"] - mem0["VmRSS"]
        run["retained_kib"] = mem1["VmRSS"] - mem0["VmRSS"]
        run["proxy_cpu_ticks_s"] = tick1 - tick0
        if None not in cpu.values():
            run["proxy_cpu_ms"] = (cpu["closed"] - cpu["start"]) / 1e6
            run["proxy_cpu_stores_ms"] = (cpu["end"] - cpu["stores"]) / 1e6
        if path == "msgeventd":
            # The line comes at the session's end; wait a moment for it.
            peak = None
            deadline = time.monotonic() + 2.0
            while peak is None and time.monotonic() < deadline:
                found = _PEAK_MEM_RE.findall(proxies.msgeventd.stderr()[err0:])
                if found:
                    peak = int(found[-1][1])
                else:
                    time.sleep(0.05)
            run["peak_inference_bytes"] = peak
            run["msgeventd_log"] = msgeventd_warnings(proxies.msgeventd, err0)
            time.sleep(0.2)
            types = {}
            uids = {}
            expunged_uids = truncated = longest = 0
            for data, _ns in sink.receive():
                k = event_key(data)
                if k is None:
                    continue
                t = k[0].decode("ascii", "replace")
                types[t] = types.get(t, 0) + 1
                truncated += _TRUNCATED in data
                longest = max(longest, len(data))
                if k[2]:
                    uids[t] = uids.get(t, 0) + _uidset_size(k[2])
                if k[0] == b"MessageExpunge" and k[2]:
                    expunged_uids += _uidset_size(k[2])
            run["events"] = types
            run["flag_events"] = sum(types.get(t, 0) for t in _FLAG_EVENTS)
            run["events_truncated"] = truncated
            run["expunged_uids_in_events"] = expunged_uids
            # UIDs per event type (a long set comes in several events)
            run["uids_in_events"] = uids
            run["longest_event_bytes"] = longest
        proxies.check_alive("the STORE session")
        return run
    finally:
        seqstore_stop(proxies, path)


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def seqstore(args, res, dovecot, proxies, sink, buf):
    """The issue-3 measurement: see the comment above SEQSTORE_PREFIX."""
    n, nruns = args.seqstore_messages, args.seqstore_runs
    commands = seqstore_commands(n)
    boxes = {(i, v, p): "%s-%d-%s-%s" % (SEQSTORE_PREFIX, i, v, p)
             for i in range(nruns) for v in SEQSTORE_VARIANTS for p in PATHS}
    log("STORE sessions: writing %d mailboxes of %d messages"
        % (len(boxes), n))
    seqstore_populate(dovecot, sorted(boxes.values()), n)
    # Fresh proxies of its own: those of the other workloads stay as
    # they are.
    mine = Proxies(proxies.binary, proxies.dovecot_port, sink)
    singles = [c for k, c in commands if k == "single"]
    out = {"messages": n, "runs_per_path": nruns,
           "commands": ["SELECT %s-..." % SEQSTORE_PREFIX] + [
               c for k, c in commands if k != "single"][:3] + [
               "%d single-message STOREs: %s, %s, ..." % (
                   len(singles), singles[0], singles[1])] + [
               c for k, c in commands if k != "single"][3:] + ["LOGOUT"],
           "variants": dict(SEQSTORE_VARIANT_TEXT),
           "target_kib_max": TARGET_SEQSTORE_KIB,
           "runs": {v: {p: [] for p in PATHS} for v in SEQSTORE_VARIANTS}}
    for i in range(nruns):
        for v in SEQSTORE_VARIANTS:
            for p in PATHS:
                run = seqstore_run(dovecot, mine, sink, p, v, boxes[i, v, p],
                                   commands, buf)
                out["runs"][v][p].append(run)
                log("STORE session %d %s %-9s %7.1f ms%s" % (
                    i + 1, v, p, run["stores_ms"],
                    "" if p == "direct" else
                    ", proxy CPU %s ms, peak +%s KiB%s" % (
                        fmt(run.get("proxy_cpu_ms")),
                        fmt(run.get("peak_growth_kib"), "%d"),
                        "" if p != "msgeventd" else
                        ", inference peak %s bytes" % fmt(
                            run.get("peak_inference_bytes"), "%d"))))
    summary = out["summary"] = {}
    differ = []
    for v in SEQSTORE_VARIANTS:
        s = summary[v] = {}
        for p in PATHS:
            runs = out["runs"][v][p]
            d = s[p] = {
                "stores_ms": _median(r["stores_ms"] for r in runs),
                "session_ms": _median(r["session_ms"] for r in runs),
                "expunge_responses": _median(
                    r["expunge_responses"] for r in runs)}
            if p != "direct":
                for k in ("proxy_cpu_ms", "proxy_cpu_stores_ms",
                          "peak_growth_kib", "retained_kib"):
                    d[k] = _median(r.get(k) for r in runs)
                d["peak_growth_kib_max"] = max(
                    (r["peak_growth_kib"] for r in runs), default=None)
            if p == "msgeventd":
                peaks = [r.get("peak_inference_bytes") for r in runs]
                d["peak_inference_bytes"] = _median(peaks)
                d["peak_inference_bytes_max"] = None if None in peaks \
                    else max(peaks)
                d["expunged_uids_in_events"] = _median(
                    r["expunged_uids_in_events"] for r in runs)
                d["events_per_session"] = _median(
                    sum(r["events"].values()) for r in runs)
                d["flag_events"] = _median(r["flag_events"] for r in runs)
                d["events_truncated"] = _median(
                    r["events_truncated"] for r in runs)
                d["uids_in_events"] = {t: _median(
                    r["uids_in_events"].get(t, 0) for r in runs)
                    for t in sorted({t for r in runs
                                     for t in r["uids_in_events"]})}
                d["longest_event_bytes"] = max(
                    r["longest_event_bytes"] for r in runs)
                d["not_tracked"] = sum(r["msgeventd_log"]["not_tracked"]
                                       for r in runs)
                exact = d["peak_inference_bytes_max"]
                d["meets_target"] = (
                    exact / 1024 <= TARGET_SEQSTORE_KIB if exact is not None
                    else d["peak_growth_kib_max"] <= TARGET_SEQSTORE_KIB)
            # The client must see what it sees without a proxy.
            for i, r in enumerate(runs):
                ref = out["runs"][v]["direct"][i]
                r["same_responses_as_direct"] = r["sha256"] == ref["sha256"]
                if not r["same_responses_as_direct"]:
                    differ.append("%s run %d via %s: %d bytes, direct %d"
                                  % (v, i + 1, p, r["response_bytes"],
                                     ref["response_bytes"]))
    out["responses_differ"] = differ
    out["note"] = ("median of %d runs per path and client; proxy CPU from "
                   "/proc/PID/task/*/schedstat, connect to close; peak "
                   "growth = VmHWM after the session (reset through "
                   "clear_refs after a warm-up session) minus VmRSS "
                   "before it" % nruns)
    res["seqstore"] = out


def seqstore_rows(res, row):
    """The STORE sessions' rows of print_table()."""
    s = res.get("seqstore")
    if not s:
        return
    for v in SEQSTORE_VARIANTS:
        d = s["summary"][v]
        m = d["msgeventd"]
        row("STOREs+EXPUNGE, %d msgs, %s client: ms (median of %d)" % (
            s["messages"], v, s["runs_per_path"]),
            *(fmt(d[p]["stores_ms"]) for p in PATHS),
            fmt(ratio(m["stores_ms"], d["haproxy"]["stores_ms"]), "%.2f"))
        row("  proxy CPU ms, whole session (schedstat)", "-",
            fmt(d["haproxy"]["proxy_cpu_ms"]), fmt(m["proxy_cpu_ms"]),
            fmt(ratio(m["proxy_cpu_ms"], d["haproxy"]["proxy_cpu_ms"]),
                "%.2f"))
        row("  proxy peak memory growth KiB (VmHWM), median (max)", "-",
            *("%s (%s)" % (fmt(d[p]["peak_growth_kib"], "%d"),
                           fmt(d[p]["peak_growth_kib_max"], "%d"))
              for p in ("haproxy", "msgeventd")), "",
            "<= %g" % TARGET_SEQSTORE_KIB,
            "-" if m["peak_inference_bytes_max"] is not None
            else verdict(m["meets_target"]))
        row("  peak inference memory KiB (msgeventd -d), max", "-", "-",
            "n/a" if m["peak_inference_bytes_max"] is None else
            "%.1f" % (m["peak_inference_bytes_max"] / 1024), "",
            "<= %g" % TARGET_SEQSTORE_KIB,
            "-" if m["peak_inference_bytes_max"] is None
            else verdict(m["meets_target"]))
        row("  EXPUNGEs; UIDs in MessageExpunge / flag events / truncated",
            fmt(d["direct"]["expunge_responses"], "%d"), "-",
            "%s / %s / %s" % (fmt(m["expunged_uids_in_events"], "%d"),
                              fmt(m["flag_events"], "%d"),
                              fmt(m["events_truncated"], "%d")))
        u = m.get("uids_in_events") or {}
        row("  UIDs in MessageRead / Trash / FlagsSet / FlagsClear", "-",
            "-", " / ".join(fmt(u.get(t, 0), "%d") for t in (
                "MessageRead", "MessageTrash", "FlagsSet", "FlagsClear")))
        row("  longest event, bytes (syslog-max-size 2048)", "-", "-",
            fmt(m.get("longest_event_bytes"), "%d"), "", "<= 2048")
    if s["responses_differ"]:
        row("  responses to the client", "", "", "DIFFER", "",
            "== direct", "DIFFER")


# ---------------------------------------------------------------------------
# Report

# ---------------------------------------------------------------------------
# TLS (issue 5): implicit TLS through msgeventd against direct TLS to
# Dovecot.  Self-contained: its own PKI (tests/integration/test_tls.py's,
# made with the openssl command), Dovecot's IMAPS listener (added to its
# configuration before it starts: tls_dovecot_extra()), its own
# msgeventd instances, its own results (res["tls"]) and table.

TLS_DOVECOT_EXTRA = """
# Added by scripts/bench.py: IMAPS for the TLS workloads.
ssl = yes
ssl_cert = <{chain}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
service imap-login {{
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
  }}
}}
"""

TLS_PATHS = ("direct-tls", "msgeventd-tls", "msgeventd-tls2")
TLS_PATH_TEXT = {
    "direct-tls": "client TLS to Dovecot's IMAPS",
    "msgeventd-tls": "client TLS to msgeventd (listen imaps), plain to "
                     "Dovecot",
    "msgeventd-tls2": "client TLS to msgeventd, TLS to Dovecot "
                      "(backend-tls)",
}


class TlsSetup:
    """A throwaway PKI and the IMAPS port Dovecot is to listen on."""

    def __init__(self):
        import ssl
        import test_tls     # tests/integration: the PKI of the TLS tests
        self.ssl = ssl
        self.dir = tempfile.mkdtemp(prefix="mev-bench-tls-")
        atexit.register(lambda d=self.dir: subprocess.run(
            ["rm", "-rf", d]))
        os.chmod(self.dir, 0o755)
        self.pki = test_tls.Pki(self.dir)
        self.imaps_port = harness.free_port()
        self.ctx = ssl.create_default_context(cafile=self.pki.ca)

    def dovecot_extra(self):
        return TLS_DOVECOT_EXTRA.format(chain=self.pki.chain,
                                        key=self.pki.key,
                                        port=self.imaps_port)

    def wrap(self, sock):
        return self.ctx.wrap_socket(sock, server_hostname=HOST)


class TlsImap(Imap):
    """Imap over implicit TLS."""

    def __init__(self, port, tls, timeout=120):
        raw = socket.create_connection((HOST, port), timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = tls.wrap(raw)
        self.buf = b""
        self.n = 0
        line = self.read_line()
        if not line.startswith(b"* OK"):
            raise BenchError("port %d: greeting %r" % (port, line[:200]))


def tls_msgeventd(binary, tls, dovecot, sink):
    """A fresh msgeventd with two implicit TLS listeners: to Dovecot's
    plain port, and to its IMAPS port with backend-tls."""
    p1, p2 = harness.free_port(), harness.free_port()
    cfg = ("# Written by msgeventd's scripts/bench.py (TLS)\n"
           "server-name bench.example\n"
           "tls-cert %s\ntls-key %s\nbackend-ca %s\n"
           "listen imaps 127.0.0.1:%d backend 127.0.0.1:%d\n"
           "listen imaps 127.0.0.1:%d backend 127.0.0.1:%d backend-tls\n"
           "output syslog udp://127.0.0.1:%d\n"
           % (tls.pki.chain, tls.pki.key, tls.pki.ca, p1, dovecot.imap_port,
              p2, tls.imaps_port, sink.port))
    m = harness.Msgeventd(cfg, wait_ports=[p1, p2], binary=binary)
    m.start()
    return m, {"msgeventd-tls": p1, "msgeventd-tls2": p2,
               "direct-tls": tls.imaps_port}


def tls_stop(m):
    try:
        m.stop()
    except AssertionError as e:
        raise BenchError("msgeventd (TLS): %s" % e)


def tls_bulk_run(port, pid, tls, buf, keep=False):
    c = TlsImap(port, tls)
    try:
        c.login()
        c.command("EXAMINE %s" % BULK_BOX)
        cpu0 = proc_cpu_seconds(pid) if pid else None
        ns0 = proc_sched_ns(pid) if pid else None
        secs, nbytes, _line, data = timed_fetch(
            c, "Zt1", "UID FETCH 1:* (BODY.PEEK[])", buf, keep)
        cpu1 = proc_cpu_seconds(pid) if pid else None
        ns1 = proc_sched_ns(pid) if pid else None
    finally:
        c.logout()
    run = {"seconds": secs, "bytes": nbytes, "mb_s": nbytes / secs / 1e6}
    if pid:
        run["proxy_cpu_s"] = cpu1 - cpu0
        if ns0 is not None and ns1 is not None:
            run["proxy_sched_cpu_s"] = (ns1 - ns0) / 1e9
    return run, data


def open_idle_tls_sessions(port, count, tls):
    """COUNT logged-in sessions over implicit TLS (handshakes one after
    the other: Python's ssl blocks)."""
    conns = []
    try:
        for _ in range(count):
            s = tls.wrap(socket.create_connection((HOST, port), 60))
            conns.append(s)
            rest = _read_line(s, b"")[1]
            s.sendall(b"l LOGIN %s %s\r\n" % (USER.encode(),
                                             PASSWORD.encode()))
            while True:
                line, rest = _read_line(s, rest)
                if line.startswith(b"l "):
                    break
            if not line.startswith(b"l OK"):
                raise BenchError("idle TLS session LOGIN: %r" % line[:200])
    except BaseException:
        for s in conns:
            s.close()
        raise
    return conns


def tls_idle_memory(pid, port, sessions, tls, settle=1.0):
    """As idle_memory(), with every session TLS on the client side."""
    fds0 = fd_count(pid)
    for s in open_idle_tls_sessions(port, 10, tls):
        s.close()
    wait_fds(pid, fds0)
    time.sleep(settle)
    rss0, pss0, anon0 = proc_mem_kib(pid)
    t0 = time.monotonic()
    conns = open_idle_tls_sessions(port, sessions, tls)
    opened_s = time.monotonic() - t0
    try:
        time.sleep(settle)
        rss1, pss1, anon1 = proc_mem_kib(pid)
    finally:
        for s in conns:
            s.close()
    if wait_fds(pid, fds0) > fds0:
        raise BenchError("msgeventd still has %d descriptors open 30 s "
                         "after the idle TLS sessions closed (%d before)"
                         % (fd_count(pid), fds0))

    def per(a, b):
        return None if a is None or b is None else (b - a) / sessions
    return {"sessions": sessions, "open_seconds": opened_s,
            "handshakes_per_s": sessions / opened_s,
            "rss_before_kib": rss0, "rss_after_kib": rss1,
            "rss_kib_per_session": per(rss0, rss1),
            "pss_kib_per_session": per(pss0, pss1),
            "pss_anon_kib_per_session": per(anon0, anon1)}


def tls_bench(args, res, dovecot, sink, buf, tls):
    """Bulk FETCH over implicit TLS: direct to Dovecot's IMAPS, through
    msgeventd (TLS to the client only, and TLS on both sides); then the
    memory per idle TLS session (and per plain one, for comparison) on
    freshly started msgeventd processes."""
    out = res["tls"] = {"paths": TLS_PATH_TEXT,
                        "messages": args.bulk_messages,
                        "runs_per_path": args.bulk_runs}
    m, ports = tls_msgeventd(args.binary, tls, dovecot, sink)
    try:
        pid = m.proc.pid
        out["sha256"], out["bytes"] = {}, {}
        for path in TLS_PATHS:
            log("TLS bulk FETCH check via %s" % path)
            run, data = tls_bulk_run(ports[path], None, tls, buf, keep=True)
            out["bytes"][path] = len(data)
            out["sha256"][path] = hashlib.sha256(data).hexdigest()
            del data
        out["bytes_equal"] = len(set(out["sha256"].values())) == 1
        if not out["bytes_equal"]:
            raise BenchError("TLS bulk FETCH differs between paths: %r"
                             % out["bytes"])
        runs = {p: [] for p in TLS_PATHS}
        for i in range(args.bulk_runs):
            for path in TLS_PATHS:
                run, _ = tls_bulk_run(ports[path], None if path ==
                                      "direct-tls" else pid, tls, buf)
                runs[path].append(run)
                log("TLS bulk run %d %-14s %7.1f MB/s" % (i + 1, path,
                                                         run["mb_s"]))
            if not m.alive():
                raise BenchError("msgeventd (TLS) died during the bulk "
                                 "FETCH")
        out["runs"] = runs
        out["median_mb_s"] = {p: statistics.median(
            r["mb_s"] for r in runs[p]) for p in TLS_PATHS}
        out["best_mb_s"] = {p: max(r["mb_s"] for r in runs[p])
                            for p in TLS_PATHS}
        out["cpu_s_per_gb"] = {}
        for p in ("msgeventd-tls", "msgeventd-tls2"):
            gb = sum(r["bytes"] for r in runs[p]) / 1e9
            sched = [r.get("proxy_sched_cpu_s") for r in runs[p]]
            out["cpu_s_per_gb"][p] = (
                sum(r["proxy_cpu_s"] for r in runs[p]) / gb,
                None if None in sched else sum(sched) / gb)
    finally:
        tls_stop(m)
    phase = res.setdefault("events_by_phase", {})
    phase["tls_bulk"] = sink.drain()

    # idle sessions: a fresh msgeventd for each measurement
    mem = out["idle"] = {"sessions": args.sessions}
    for kind in ("tls", "tls2", "plain"):
        m, ports = tls_msgeventd(args.binary, tls, dovecot, sink)
        try:
            log("%d idle %s sessions through msgeventd" % (args.sessions,
                                                          kind))
            if kind != "plain":
                mem[kind] = tls_idle_memory(m.proc.pid, ports[
                    "msgeventd-tls" if kind == "tls" else "msgeventd-tls2"],
                    args.sessions, tls)
            else:
                # the same build and configuration, a plain listener
                mem[kind] = idle_memory_plain(args, m, dovecot)
        finally:
            tls_stop(m)
        wait_sessions_gone(dovecot)
    phase["tls_idle"] = sink.drain()


def idle_memory_plain(args, m, dovecot):
    """Plain idle sessions on a msgeventd started by tls_msgeventd(): it
    gets a plain listener through a reload (SIGHUP)."""
    port = harness.free_port()
    with open(m.conf) as f:
        text = f.read()
    with open(m.conf, "w") as f:
        f.write(text + "listen imap 127.0.0.1:%d backend 127.0.0.1:%d\n"
                % (port, dovecot.imap_port))
    m.proc.send_signal(signal.SIGHUP)
    harness.wait_until(lambda: harness.port_listening(port), 10,
                       what="msgeventd's plain listener")
    return idle_memory(m.proc.pid, port, args.sessions)


def print_tls_table(res):
    t = res.get("tls")
    if not t:
        return
    print()
    print("TLS (implicit, 100 MB bulk FETCH; idle sessions logged in):")
    for p in TLS_PATHS:
        print("  %-15s %s" % (p, TLS_PATH_TEXT[p]))
    print("  %-44s %10s %14s %15s" % ("", "direct-tls", "msgeventd-tls",
                                      "msgeventd-tls2"))
    print("  %-44s %10s %14s %15s" % (
        "bulk FETCH MB/s (median of %d)" % t["runs_per_path"],
        *(fmt(t["median_mb_s"][p]) for p in TLS_PATHS)))
    print("  %-44s %10s %14s %15s" % (
        "  best MB/s", *(fmt(t["best_mb_s"][p]) for p in TLS_PATHS)))
    print("  %-44s %10s %14s %15s" % (
        "  msgeventd / direct TLS (median)", "",
        fmt(ratio(t["median_mb_s"]["msgeventd-tls"],
                  t["median_mb_s"]["direct-tls"]), "%.2f"),
        fmt(ratio(t["median_mb_s"]["msgeventd-tls2"],
                  t["median_mb_s"]["direct-tls"]), "%.2f")))
    print("  %-44s %10s %14s %15s" % (
        "proxy CPU s per GB (utime+stime / sched)", "-",
        *("%s / %s" % (fmt(t["cpu_s_per_gb"][p][0], "%.2f"),
                       fmt(t["cpu_s_per_gb"][p][1], "%.2f"))
          for p in ("msgeventd-tls", "msgeventd-tls2"))))
    print("  %-44s %10s %14s %15s" % (
        "bytes per FETCH", *(str(t["bytes"][p]) for p in TLS_PATHS)))
    idle = t.get("idle", {})
    if all(k in idle for k in ("tls", "tls2", "plain")):
        print("  memory per idle logged-in session, KiB (growth of VmRSS "
              "with %d open):" % idle["sessions"])
        print("    plain %s, TLS to the client %s, TLS on both sides %s "
              "(target <= %.0f for plain)" % (
                  fmt(idle["plain"]["rss_kib_per_session"]),
                  fmt(idle["tls"]["rss_kib_per_session"]),
                  fmt(idle["tls2"]["rss_kib_per_session"]),
                  TARGET_IDLE_KIB))


def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def verdict(ok):
    return "-" if ok is None else ("meets" if ok else "MISSES")


def print_seqstore_table(res):
    """--seqstore-only: the STORE sessions' rows alone."""
    rows = []

    def row(name, d, h, m, rat="", target="", v=""):
        rows.append((name, d, h, m, rat, target, v))

    seqstore_rows(res, row)
    head = ("workload", "direct", "haproxy", "msgeventd", "mev/hap",
            "target", "")
    widths = [max(len(str(r[i])) for r in rows + [head])
              for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join("%-*s" % (widths[0], r[0]) if i == 0 else
                        "%*s" % (widths[i], r[i]) for i in range(len(r))))


def print_table(res):
    rows = []

    def row(name, d, h, m, rat="", target="", v=""):
        rows.append((name, d, h, m, rat, target, v))

    b = res["bulk_fetch"]
    row("bulk FETCH BODY.PEEK[] MB/s (median of %d)" % b["runs_per_path"],
        *(fmt(b["median_mb_s"][p]) for p in PATHS),
        fmt(b["ratio_msgeventd_haproxy"], "%.2f"),
        ">= %.2f" % TARGET_THROUGHPUT_RATIO, verdict(b["meets_target"]))
    row("  best MB/s", *(fmt(b["best_mb_s"][p]) for p in PATHS),
        fmt(ratio(b["best_mb_s"]["msgeventd"], b["best_mb_s"]["haproxy"]),
            "%.2f"))
    row("  bytes per FETCH (untagged)",
        *(str(b["bytes"][p]) for p in PATHS), "", "== direct",
        "ok" if b["bytes_equal"] else "DIFFER")
    c = res["cpu_per_gb"]
    row("proxy CPU s per GB, bulk (utime+stime)", "-",
        fmt(c["haproxy"], "%.3f"), fmt(c["msgeventd"], "%.3f"),
        fmt(c["ratio_msgeventd_haproxy"], "%.2f"),
        "<= %.1f" % TARGET_CPU_RATIO, verdict(c["meets_target"]))
    row("  same, from schedstat (ns)", "-",
        fmt(c["sched_haproxy"], "%.3f"), fmt(c["sched_msgeventd"], "%.3f"),
        fmt(ratio(c["sched_msgeventd"], c["sched_haproxy"]), "%.2f"))
    f = res["flags_fetch"]
    row("FETCH (UID FLAGS) %d msgs, ms (median of %d)" % (
        f["messages"], f["runs_per_path"]),
        *(fmt(f["median_ms"][p]) for p in PATHS),
        fmt(ratio(f["median_ms"]["msgeventd"], f["median_ms"]["haproxy"]),
            "%.2f"))
    row("  best ms", *(fmt(f["best_ms"][p]) for p in PATHS))
    row("  proxy CPU ms per FETCH (schedstat)", "-",
        *(fmt(f["proxy_cpu_ms"].get(p)) for p in ("haproxy", "msgeventd")),
        fmt(ratio(f["proxy_cpu_ms"].get("msgeventd"),
                  f["proxy_cpu_ms"].get("haproxy")), "%.2f"))
    n = res["noop"]
    for q in ("p50", "p90", "p99"):
        row("NOOP round trip %s us (%d)" % (q, n["count"]),
            *(fmt(n[p][q + "_us"]) for p in PATHS),
            fmt(ratio(n["msgeventd"][q + "_us"], n["haproxy"][q + "_us"]),
                "%.2f"))
    row("  NOOP added by proxy, p50 us", "-",
        *(fmt(n[p]["p50_us"] - n["direct"]["p50_us"])
          for p in ("haproxy", "msgeventd")))
    m = res["idle_memory"]
    row("idle session KiB, VmRSS growth / %d" % m["sessions"], "-",
        fmt(m["haproxy"]["rss_kib_per_session"], "%.2f"),
        fmt(m["msgeventd"]["rss_kib_per_session"], "%.2f"), "",
        "<= %g" % TARGET_IDLE_KIB, verdict(m["meets_target"]))
    row("idle session KiB, Pss growth / %d" % m["sessions"], "-",
        fmt(m["haproxy"]["pss_kib_per_session"], "%.2f"),
        fmt(m["msgeventd"]["pss_kib_per_session"], "%.2f"), "",
        "<= %g" % TARGET_IDLE_KIB)

    e = res.get("event_latency") or {}
    if "after_tagged_ok" in e:
        a = e["after_tagged_ok"]
        for q in ("p50", "p99", "max"):
            row("event latency %s us, datagram - tagged OK (%d)" % (
                q, e["commands"]), "-", "-", fmt(a[q + "_us"]))
        row("  upper bound max us, datagram - command sent", "-", "-",
            fmt(e["after_command_sent"]["max_us"]), "",
            "<= %d" % TARGET_EVENT_LATENCY_US, verdict(e["meets_target"]))
        row("  events missing", "-", "-", str(e["missing"]))
    elif e:
        row("event latency (%d): no event matched" % e["commands"],
            "-", "-", "-")
    b2 = res.get("event_burst")
    if b2:
        row("APPEND burst, APPENDs/s answered (%d, window %d)" % (
            b2["commands"], b2["window"]),
            fmt(b2["direct"]["appends_per_s"], "%.0f"), "-",
            fmt(b2["appends_per_s"], "%.0f"))
        row("  events/s emitted by msgeventd", "-", "-",
            fmt(b2.get("events_per_s"), "%.0f"))
        if "after_tagged_ok" in b2:
            row("  burst max us, datagram - tagged OK", "-", "-",
                fmt(b2["after_tagged_ok"]["max_us"]))
        row("  events missing / sequenceId gaps / not tracked", "-", "-",
            "%d / %d / %d" % (b2["events_missing"], b2["sequence_gaps"],
                              b2["msgeventd_log"]["not_tracked"]), "",
            "0", "ok" if not b2["any_missing"] else "MISSING")
    seqstore_rows(res, row)

    head = ("workload", "direct", "haproxy", "msgeventd", "mev/hap",
            "target", "")
    widths = [max(len(str(r[i])) for r in rows + [head])
              for i in range(len(head))]
    line = "  ".join("%-*s" % (widths[0], head[0]) if i == 0 else
                     "%*s" % (widths[i], head[i]) for i in range(len(head)))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join("%-*s" % (widths[0], r[0]) if i == 0 else
                             "%*s" % (widths[i], r[i])
                             for i in range(len(r))))
    print("\n".join(out))
    print()
    nd = res["tcp_nodelay"]
    for p in ("haproxy", "msgeventd"):
        print("TCP_NODELAY on %s's sockets (client side / backend side): %s"
              % (p, _nodelay_text(nd.get(p))))
    ev = res["events"]
    print("msgeventd events sent to the syslog sink: %d (%d bytes); "
          "sequenceId gaps %d; dropped by the sink's kernel %s "
          "(SO_RCVBUF %d)" % (
              ev["datagrams"], ev["bytes"], ev["sequence_gaps"],
              fmt(ev["kernel_drops"], "%d"), ev["rcvbuf_bytes"]))
    if "event_latency" in res:
        print("event latency: datagram arrival at the sink minus the tagged "
              "OK's arrival at the client, both kernel receive timestamps; "
              "negative = the datagram came first.  msgeventd gets the "
              "server's reply before the client does, so this is a lower "
              "bound of reply-to-event; minus the send time, an upper bound")
    print("idle sessions: logged in through each proxy to the same "
          "Dovecot, each proxy freshly started")
    print("host: Linux %s, %d CPUs shared by client, proxy and Dovecot; "
          "%s; Dovecot %s" % (res["host"]["kernel"], res["host"]["cpus"],
                              res["haproxy_version"].split(" - ")[0],
                              res["dovecot"]["version"].split()[0]))
    print("MB = 10^6 bytes, GB = 10^9 bytes; the paths take turns in every "
          "workload; figures on a busy machine vary by tens of percent")


def _nodelay_text(d):
    if not d:
        return "not checked"
    if "error" in d:
        return "unknown (%s)" % d["error"]

    def one(v):
        if not v:
            return "none seen"
        return "on" if all(v) else ("off" if not any(v) else "mixed")
    return "%s / %s" % (one(d.get("client")), one(d.get("backend")))


# ---------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "build",
                                                     "msgeventd"))
    ap.add_argument("--json", default=os.path.join(ROOT, "build",
                                                   "bench.json"))
    ap.add_argument("--bulk-messages", type=int, default=100)
    ap.add_argument("--bulk-size", type=int, default=1 << 20)
    ap.add_argument("--bulk-runs", type=int, default=9)
    ap.add_argument("--flags-messages", type=int, default=20000)
    ap.add_argument("--flags-runs", type=int, default=9)
    ap.add_argument("--noops", type=int, default=2000)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--events", type=int, default=500,
                    help="sequential APPENDs for the event latency")
    ap.add_argument("--burst", type=int, default=2000,
                    help="pipelined APPENDs for the event burst")
    ap.add_argument("--burst-window", type=int,
                    default=BURST_WINDOW,
                    help="most APPENDs unanswered at a time in the burst "
                    "(default %d; msgeventd tracks at most 128 outstanding "
                    "commands)" % BURST_WINDOW)
    ap.add_argument("--seqstore-messages", type=int, default=20000,
                    help="messages in the mailbox of the STORE sessions")
    ap.add_argument("--seqstore-runs", type=int, default=SEQSTORE_RUNS,
                    help="STORE sessions per path and client (default %d)"
                    % SEQSTORE_RUNS)
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, to try the bench itself out")
    ap.add_argument("--tls-only", action="store_true",
                    help="only the TLS workloads (bulk FETCH over "
                    "implicit TLS, idle TLS sessions)")
    ap.add_argument("--no-tls", action="store_true",
                    help="skip the TLS workloads")
    ap.add_argument("--seqstore-only", action="store_true",
                    help="only the STORE sessions (issue 3), and their "
                    "table")
    args = ap.parse_args(argv)
    if args.seqstore_only:
        # the warm-up reads one bulk message; nothing else is needed
        args.bulk_messages, args.flags_messages = 1, 200
        args.no_tls = True
    if args.quick:
        args.bulk_messages, args.bulk_runs = 10, 2
        args.flags_messages, args.flags_runs = 2000, 2
        args.noops, args.sessions = 200, 100
        args.events, args.burst = 100, 300
        args.seqstore_messages, args.seqstore_runs = 2000, 1

    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        raise BenchError("%s: not an executable (run make first)" % binary)

    # The client side needs a descriptor per idle session too.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if nofile < 3 * args.sessions + 200:
        raise BenchError("open-file limit %d is too low for %d sessions"
                         % (nofile, args.sessions))

    t_start = time.monotonic()
    res = {
        "version": 1,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "binary": binary,
        "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                 "python": platform.python_version(),
                 "nofile_limit": nofile},
        "targets": {"throughput_ratio_min": TARGET_THROUGHPUT_RATIO,
                    "cpu_per_gb_ratio_max": TARGET_CPU_RATIO,
                    "idle_kib_per_session_max": TARGET_IDLE_KIB,
                    "store_session_kib_max": TARGET_SEQSTORE_KIB},
        "units": {"MB": 1e6, "GB": 1e9, "KiB": 1024},
    }

    tls = None if args.no_tls else TlsSetup()
    log("starting Dovecot")
    dovecot = BenchDovecot(extra_config=BENCH_DOVECOT_EXTRA + (
        tls.dovecot_extra() if tls else ""))
    dovecot.start()
    try:
        log("writing %d x %d bytes and %d tiny messages" % (
            args.bulk_messages, args.bulk_size, args.flags_messages))
        nbulk, nflags = populate(dovecot, args.bulk_messages,
                                 args.bulk_size, args.flags_messages)
        buf = bytearray(8 << 20)
        # Dovecot indexes the mailboxes on first SELECT; read everything
        # once so the page cache and its cache files are warm.
        t0 = time.monotonic()
        c = Imap(dovecot.imap_port)
        c.login()
        c.command("SELECT %s" % BULK_BOX)
        timed_fetch(c, "W1", "UID FETCH 1:* (BODY.PEEK[])", buf)
        c.command("SELECT %s" % FLAGS_BOX)
        timed_fetch(c, "W2", "UID FETCH 1:* (UID FLAGS)", buf)
        c.logout()
        log("Dovecot indexed the mailboxes in %.1f s" % (
            time.monotonic() - t0))
        res["dovecot"] = {"version": subprocess.run(
            ["dovecot", "--version"], capture_output=True,
            text=True).stdout.strip()}
        res["setup"] = {"bulk_bytes_on_disk": nbulk,
                        "flags_bytes_on_disk": nflags,
                        "index_seconds": time.monotonic() - t0}

        sink = SyslogSink()
        proxies = Proxies(binary, dovecot.imap_port, sink)
        try:
            if args.seqstore_only:
                seqstore(args, res, dovecot, proxies, sink, buf)
            elif not args.tls_only:
                run_all(args, res, dovecot, proxies, sink, buf)
            if tls is not None:
                tls_bench(args, res, dovecot, sink, buf, tls)
        except BaseException:
            for stop in (proxies.stop_haproxy, proxies.stop_msgeventd):
                try:
                    stop()
                except Exception:   # the first failure is the news
                    pass
            raise
        # Raises if a proxy died or msgeventd did not exit 0 on SIGTERM.
        proxies.stop_haproxy()
        proxies.stop_msgeventd()
    except BenchError:
        log("the end of Dovecot's log:\n%s" % tail_file(dovecot.log, 15))
        raise
    finally:
        dovecot.stop()

    sink.drain()
    res["events"] = sink.state()
    res["elapsed_seconds"] = time.monotonic() - t_start
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(res, f, indent=2, sort_keys=True)
        f.write("\n")
    print()
    if args.seqstore_only:
        print_seqstore_table(res)
    elif not args.tls_only:
        print_table(res)
    if not args.seqstore_only:
        print_tls_table(res)
        print_snmp_table(res)
    print("\nelapsed %.0f s; results in %s" % (res["elapsed_seconds"],
                                                os.path.relpath(args.json)))
    differ = (res.get("seqstore") or {}).get("responses_differ")
    if differ:
        log("FAILED: STORE session responses differ from direct: %s"
            % "; ".join(differ[:3]))
        return 1
    return 0


def run_all(args, res, dovecot, proxies, sink, buf):
    # -- idle memory first, on freshly started proxies.
    mem = {"sessions": args.sessions}
    res["haproxy_version"] = HAProxy.version()
    for path, start in (("haproxy", proxies.start_haproxy),
                        ("msgeventd", proxies.start_msgeventd)):
        start()
        log("%d idle sessions through %s" % (args.sessions, path))
        mem[path] = idle_memory(proxies.pid(path), proxies.port(path),
                                args.sessions)
        proxies.check_alive("the idle sessions")
        wait_sessions_gone(dovecot)
    v = mem["msgeventd"]["rss_kib_per_session"]
    mem["meets_target"] = None if v is None else v <= TARGET_IDLE_KIB
    mem["backend"] = "the bench's Dovecot (logged-in sessions)"
    res["idle_memory"] = mem
    # msgeventd's events per phase (HAProxy and direct send none).
    phase_events = res["events_by_phase"] = {}
    phase_events["idle"] = sink.drain()

    # -- bulk FETCH: an untimed run per path keeping every byte, checked
    # against direct; then the timed runs, interleaved.
    bulk = {"messages": args.bulk_messages,
            "message_size": args.bulk_size,
            "runs_per_path": args.bulk_runs, "runs": {p: [] for p in PATHS},
            "bytes": {}, "sha256": {}}
    for path in PATHS:
        log("bulk FETCH check via %s" % path)
        run, data = bulk_run(proxies, path, buf, keep=True)
        nresp, nlit = parse_fetch_literals(data)
        if nresp != args.bulk_messages:
            raise BenchError("%s: %d FETCH responses, expected %d"
                             % (path, nresp, args.bulk_messages))
        bulk["bytes"][path] = len(data)
        bulk["sha256"][path] = hashlib.sha256(data).hexdigest()
        bulk.setdefault("literal_bytes", {})[path] = nlit
        del data
    bulk["bytes_equal"] = len(set(bulk["bytes"].values())) == 1 and \
        len(set(bulk["sha256"].values())) == 1
    if not bulk["bytes_equal"]:
        raise BenchError("bulk FETCH differs between paths: bytes %r, "
                         "sha256 %r" % (bulk["bytes"], bulk["sha256"]))
    phase_events["bulk_check"] = sink.drain()
    for i in range(args.bulk_runs):
        for path in PATHS:
            run, _ = bulk_run(proxies, path, buf)
            if run["bytes"] != bulk["bytes"]["direct"]:
                raise BenchError("bulk FETCH via %s: %d bytes, direct %d"
                                 % (path, run["bytes"],
                                    bulk["bytes"]["direct"]))
            bulk["runs"][path].append(run)
            log("bulk run %d %-9s %7.1f MB/s" % (i + 1, path, run["mb_s"]))
        proxies.check_alive("bulk FETCH")
    phase_events["bulk"] = sink.drain()
    mbs = {p: [r["mb_s"] for r in bulk["runs"][p]] for p in PATHS}
    bulk["median_mb_s"] = {p: statistics.median(mbs[p]) for p in PATHS}
    bulk["best_mb_s"] = {p: max(mbs[p]) for p in PATHS}
    bulk["ratio_msgeventd_haproxy"] = ratio(bulk["median_mb_s"]["msgeventd"],
                                            bulk["median_mb_s"]["haproxy"])
    bulk["meets_target"] = bulk["ratio_msgeventd_haproxy"] >= \
        TARGET_THROUGHPUT_RATIO
    res["bulk_fetch"] = bulk

    cpu = {}
    for p in ("haproxy", "msgeventd"):
        gb = sum(r["bytes"] for r in bulk["runs"][p]) / 1e9
        cpu[p] = sum(r["proxy_cpu_s"] for r in bulk["runs"][p]) / gb
        sched = [r.get("proxy_sched_cpu_s") for r in bulk["runs"][p]]
        cpu["sched_" + p] = None if None in sched else sum(sched) / gb
    cpu["ratio_msgeventd_haproxy"] = ratio(cpu["msgeventd"], cpu["haproxy"])
    cpu["meets_target"] = None if cpu["ratio_msgeventd_haproxy"] is None \
        else cpu["ratio_msgeventd_haproxy"] <= TARGET_CPU_RATIO
    cpu["note"] = ("utime+stime from /proc/PID/stat (%d Hz ticks) summed "
                   "over the timed bulk runs, divided by the bytes relayed"
                   % CLK_TCK)
    res["cpu_per_gb"] = cpu

    # -- FETCH (UID FLAGS)
    flags = {"messages": args.flags_messages,
             "runs_per_path": args.flags_runs,
             "runs": {p: [] for p in PATHS}}
    for i in range(args.flags_runs):
        for path in PATHS:
            run = flags_run(proxies, path, buf)
            flags["runs"][path].append(run)
        proxies.check_alive("FETCH (UID FLAGS)")
    sizes = {p: {r["bytes"] for r in flags["runs"][p]} for p in PATHS}
    if any(s != sizes["direct"] for s in sizes.values()) or \
            len(sizes["direct"]) != 1:
        raise BenchError("FETCH (UID FLAGS) byte counts differ: %r" % sizes)
    flags["bytes"] = sizes["direct"].pop()
    flags["median_ms"] = {p: statistics.median(
        r["ms"] for r in flags["runs"][p]) for p in PATHS}
    flags["best_ms"] = {p: min(r["ms"] for r in flags["runs"][p])
                        for p in PATHS}
    flags["proxy_cpu_ms"] = {}
    for p in ("haproxy", "msgeventd"):
        v = [r.get("proxy_sched_cpu_s") for r in flags["runs"][p]]
        if None not in v:
            flags["proxy_cpu_ms"][p] = statistics.median(v) * 1e3
    res["flags_fetch"] = flags
    phase_events["flags"] = sink.drain()
    log("FETCH (UID FLAGS) median ms: " + ", ".join(
        "%s %.1f" % (p, flags["median_ms"][p]) for p in PATHS))

    # -- NOOP round trips: one logged-in connection per path, the
    # round trips done in interleaved rounds so that a disturbance hits
    # every path alike; TCP_NODELAY looked at while the sessions are open.
    noop = {"count": args.noops, "rounds": NOOP_ROUNDS}
    conns = {}
    lat = {p: [] for p in PATHS}
    nodelay = {}
    try:
        for path in PATHS:
            conns[path] = Imap(proxies.port(path))
            conns[path].login()
            noop_batch(conns[path], 0, max(20, args.noops // 10))
        per_round = -(-args.noops // NOOP_ROUNDS)
        done = 0
        while done < args.noops:
            n = min(per_round, args.noops - done)
            for path in PATHS:
                lat[path] += noop_batch(conns[path], 100000 + done, n)
            done += n
        for path in ("haproxy", "msgeventd"):
            nodelay[path] = socket_options(proxies.pid(path),
                                           proxies.port(path),
                                           proxies.dovecot_port)
    finally:
        for c in conns.values():
            c.logout()
    for path in PATHS:
        noop[path] = latency_summary(lat[path])
        log("NOOP %-9s p50 %.1f us" % (path, noop[path]["p50_us"]))
    proxies.check_alive("NOOP")
    res["noop"] = noop
    phase_events["noop"] = sink.drain()
    res["tcp_nodelay"] = nodelay

    # -- events, msgeventd only: latency of single events, then a burst.
    # (These read the sink themselves: their phase counts are deltas.)
    log("event latency: %d sequential APPENDs via msgeventd" % args.events)
    count0 = sink.count
    ev = event_latency(proxies, sink, args.events)
    if "after_tagged_ok" in ev:
        log("event latency after tagged OK: p50 %.1f us, max %.1f us" % (
            ev["after_tagged_ok"]["p50_us"], ev["after_tagged_ok"]["max_us"]))
    proxies.check_alive("the event latency")
    res["event_latency"] = ev
    sink.drain()
    phase_events["event_latency"] = sink.count - count0
    count0 = sink.count
    log("APPEND burst: %d pipelined APPENDs (window %d), direct, then "
        "via msgeventd" % (args.burst, args.burst_window))
    direct = direct_burst(proxies, args.burst, args.burst_window)
    log("APPEND burst direct: %.0f APPENDs/s" % direct["appends_per_s"])
    err0 = len(proxies.msgeventd.stderr())
    burst = event_burst(proxies, sink, args.burst, args.burst_window)
    burst["direct"] = direct
    log("event burst: %s events/s, %d missing" % (
        fmt(burst.get("events_per_s"), "%.0f"), burst["events_missing"]))
    proxies.check_alive("the event burst")
    burst["msgeventd_log"] = msgeventd_warnings(proxies.msgeventd, err0)
    res["event_burst"] = burst
    sink.drain()
    phase_events["event_burst"] = sink.count - count0

    # -- STOREs by sequence number and EXPUNGE, each session on a fresh
    # proxy (these read the sink themselves: the count is a delta).
    count0 = sink.count
    seqstore(args, res, dovecot, proxies, sink, buf)
    sink.drain()
    phase_events["seqstore"] = sink.count - count0

    # -- SNMP traps, each msgeventd of its own (issue 4).
    log("SNMP: %d pipelined APPENDs via msgeventd with v2c traps and "
        "without outputs" % args.burst)
    res["snmp_traps"] = snmp_trap_burst(proxies.binary, dovecot, args.burst,
                                        args.burst_window)


# ---------------------------------------------------------------------------
# SNMP traps (issue 4): what emitting them costs while relaying.

SNMP_ROUNDS = 3


def _snmp_sink():
    """A UDP socket for msgeventd's traps: big buffer, kernel stamps."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for opt in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        if opt is None:
            continue
        try:
            s.setsockopt(socket.SOL_SOCKET, opt, 16 << 20)
            break
        except OSError:
            continue
    enable_rx_timestamps(s)
    s.bind((HOST, 0))
    s.setblocking(False)
    return s


def _snmp_drain(sock, stamps, want, timeout=10.0):
    """Read datagrams into STAMPS (arrival ns) until there are WANT, or
    nothing came for TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while len(stamps) < want:
        r, _, _ = select.select([sock], [], [],
                                max(0.0, deadline - time.monotonic()))
        if not r:
            return
        while True:
            try:
                _data, ns, _kernel = recv_stamped(sock)
            except BlockingIOError:
                break
            stamps.append(ns)
            deadline = time.monotonic() + timeout


def snmp_trap_burst(binary, dovecot, count, window, rounds=SNMP_ROUNDS):
    """msgeventd emitting SNMPv2c traps while it relays.  COUNT APPENDs
    pipelined (at most WINDOW unanswered, as event_burst does) through a
    msgeventd whose one output is `output snmp trap` to a UDP socket of
    ours, and the same through a msgeventd with no output at all, ROUNDS
    times each, taking turns.  Reported (medians over the rounds):

    - traps per second: the datagrams' kernel arrival times, first to
      last, over the burst;
    - msgeventd's CPU time (schedstat) during the burst per event, with
      the trap output and without any, and their difference: what
      formatting and sending one trap costs;
    - APPENDs answered per second both ways, and traps missing.

    Figures only, never asserted."""
    sink = _snmp_sink()
    port = {}
    procs = {}
    try:
        for kind in ("none", "trap"):
            port[kind] = harness.free_port()
            out = ("output snmp trap udp:%s:%d version 2c community bench\n"
                   % (HOST, sink.getsockname()[1]) if kind == "trap" else "")
            procs[kind] = harness.Msgeventd(
                "# Written by msgeventd's scripts/bench.py (SNMP)\n"
                "server-name bench.example\n"
                "listen imap %s:%d backend %s:%d\n%s"
                % (HOST, port[kind], HOST, dovecot.imap_port, out),
                [port[kind]], binary=binary).start()
        runs = {"none": [], "trap": []}
        for rnd in range(rounds):
            for kind in ("none", "trap"):
                box = "snmpburst-%s-%d" % (kind, rnd)
                stamps = []
                c = StampedImap(port[kind])
                try:
                    c.login()
                    c.command("CREATE %s" % box)
                    if kind == "trap":     # Login and MailboxCreate
                        _snmp_drain(sink, stamps, 2, 5.0)
                        stamps.clear()
                    pid = procs[kind].proc.pid
                    cpu0 = proc_sched_ns(pid)
                    ok_at, t0, t1 = pipelined_appends(c, box, count, window)
                    if kind == "trap":
                        _snmp_drain(sink, stamps, count, 5.0)
                    cpu1 = proc_sched_ns(pid)
                finally:
                    c.logout()
                run = {"answered_ok": len(ok_at),
                       "appends_per_s": count / ((t1 - t0) / 1e9),
                       "cpu_us_per_event": None if None in (cpu0, cpu1)
                       else (cpu1 - cpu0) / 1e3 / count}
                if kind == "trap":
                    run["traps"] = len(stamps)
                    span = (max(stamps) - min(stamps)) / 1e9 \
                        if len(stamps) > 1 else 0
                    run["traps_per_s"] = (len(stamps) - 1) / span \
                        if span > 0 else None
                runs[kind].append(run)
                log("SNMP burst %d, %s: %.0f APPENDs/s%s" % (
                    rnd + 1, "v2c traps" if kind == "trap" else "no output",
                    run["appends_per_s"],
                    ", %s traps/s" % fmt(run.get("traps_per_s"), "%.0f")
                    if kind == "trap" else ""))
            for kind in ("none", "trap"):
                procs[kind].assert_alive()
    finally:
        for p in procs.values():
            try:
                p.stop()
            except AssertionError as e:
                raise BenchError("SNMP burst: %s" % e)
        sink.close()

    def med(kind, key):
        v = [r[key] for r in runs[kind] if r.get(key) is not None]
        return statistics.median(v) if v else None

    res = {"commands": count, "window": window, "rounds": rounds,
           "output": "output snmp trap udp:127.0.0.1:PORT version 2c",
           "runs": runs,
           "traps_per_s": med("trap", "traps_per_s"),
           "traps_missing": sum(count - r["traps"] for r in runs["trap"]),
           "appends_per_s": {k: med(k, "appends_per_s") for k in runs},
           "cpu_us_per_event": {k: med(k, "cpu_us_per_event")
                                for k in runs}}
    c = res["cpu_us_per_event"]
    res["cpu_us_per_trap_added"] = None if None in c.values() else \
        c["trap"] - c["none"]
    # Dovecot answers the APPENDs more slowly than msgeventd relays and
    # traps them, so traps_per_s is Dovecot's pace; the CPU figures say
    # what one core of msgeventd could keep up with.
    res["events_per_cpu_second_with_traps"] = None if not c["trap"] else \
        1e6 / c["trap"]
    a = res["cpu_us_per_trap_added"]
    res["traps_per_cpu_second"] = None if not a or a <= 0 else 1e6 / a
    return res


def print_snmp_table(res):
    s = res.get("snmp_traps")
    if not s:
        return
    c = s["cpu_us_per_event"]
    print()
    print("SNMP v2c traps while relaying: %d pipelined APPENDs (window %d), "
          "median of %d rounds" % (s["commands"], s["window"], s["rounds"]))
    print("  traps emitted per second            %s" % fmt(s["traps_per_s"],
                                                          "%.0f"))
    print("  msgeventd CPU us per event          %s with the trap output, "
          "%s with no output: %s per trap" % (
              fmt(c["trap"], "%.1f"), fmt(c["none"], "%.1f"),
              fmt(s["cpu_us_per_trap_added"], "%.1f")))
    print("  APPENDs answered per second         %s with traps, %s without"
          % (fmt(s["appends_per_s"]["trap"], "%.0f"),
             fmt(s["appends_per_s"]["none"], "%.0f")))
    print("  traps missing at the receiver       %d" % s["traps_missing"])
    print("  one core's worth: %s events/s relayed and trapped, %s traps/s "
          "for the trap output alone (Dovecot sets the pace above)" % (
              fmt(s["events_per_cpu_second_with_traps"], "%.0f"),
              fmt(s["traps_per_cpu_second"], "%.0f")))


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        log("FAILED: %s" % e)
        sys.exit(1)
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
