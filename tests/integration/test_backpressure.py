"""Slow and stuck peers cost bounded memory and hurt nobody else.

README, Performance: "at most 64 KiB per direction wait for a slow peer,
and while they wait that side is not read (backpressure)"; Syslog: "A
collector that is down or slow never slows the relay".

    stalled client    a 2 x 20 MB FETCH nobody reads: msgeventd's RSS
                      stays flat, another session works, then the client
                      reads and gets every byte
    stalled backend   a server that greets and never reads, a client
                      that pipelines megabytes: RSS flat, another
                      session (to Dovecot) works
    collector down    a TCP output with nobody listening: UDP events
                      still arrive, one diagnostic, not one per event
    1,000 sessions    idle sessions held open, one more works, and every
                      descriptor is given back when they close

Memory is msgeventd's VmRSS from /proc/PID/status; descriptors are
/proc/PID/fd; socket queues are read from /proc/net/tcp.
"""

import hashlib
import itertools
import os
import re
import resource
import selectors
import socket
import threading
import time
import unittest

import harness
from harness import HOST, event_params

# Mailbox names of full_session(), one each.
BOX_SERIAL = itertools.count(1)

INPUTS = ("imudp", "imtcp")
MB = 1 << 20
# What msgeventd may grow by while megabytes wait for a stuck peer: its
# own buffers are at most 64 KiB per direction and session; the rest is
# in the kernel's socket buffers (and malloc's slack).
RSS_GROWTH_MAX = 8 * MB


# ---------------------------------------------------------------------------
# /proc

def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def tcp_sockets():
    """Established IPv4 TCP sockets on this host:
    [(local_port, remote_port, tx_queue, rx_queue)]."""
    out = []
    with open("/proc/net/tcp") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "01":           # ESTABLISHED
                continue
            lport = int(fields[1].rsplit(":", 1)[1], 16)
            rport = int(fields[2].rsplit(":", 1)[1], 16)
            tx, rx = (int(x, 16) for x in fields[4].split(":"))
            out.append((lport, rport, tx, rx))
    return out


def rx_queue(local_port, remote_port):
    """Bytes received and not yet read on the socket LOCAL->REMOTE."""
    for lport, rport, _, rx in tcp_sockets():
        if lport == local_port and rport == remote_port:
            return rx
    return None


# ---------------------------------------------------------------------------
# A fake IMAP server

class FakeBackend:
    """A TCP server on HOST that greets every connection with an IMAP
    '* OK' and then either reads and discards what comes (closing on
    EOF), or, if STALL, never reads at all.  RCVBUF, if given, is set on
    the listening socket (inherited by accepted ones, which also turns
    the kernel's receive buffer autotuning off)."""

    GREETING = b"* OK [CAPABILITY IMAP4rev1] fake backend ready\r\n"

    def __init__(self, stall=False, rcvbuf=None):
        self.stall = stall
        self.lsock = socket.socket()
        if rcvbuf:
            self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.lsock.bind((HOST, 0))
        self.lsock.listen(4096)
        self.lsock.setblocking(False)
        self.port = self.lsock.getsockname()[1]
        self.conns = set()
        self.accepted = 0
        self.lock = threading.Lock()
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.lsock, selectors.EVENT_READ)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def open_count(self):
        with self.lock:
            return len(self.conns)

    def _run(self):
        while not self.stopping:
            for key, _ in self.sel.select(0.05):
                if key.fileobj is self.lsock:
                    self._accept()
                else:
                    self._read(key.fileobj)
        for s in list(self.conns):
            s.close()
        self.sel.close()
        self.lsock.close()

    def _accept(self):
        while True:
            try:
                s, _ = self.lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            s.setblocking(False)
            try:
                s.send(self.GREETING)
            except OSError:
                s.close()
                continue
            with self.lock:
                self.conns.add(s)
                self.accepted += 1
            if not self.stall:
                self.sel.register(s, selectors.EVENT_READ)

    def _read(self, s):
        try:
            data = s.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.sel.unregister(s)
            s.close()
            with self.lock:
                self.conns.discard(s)

    def stop(self):
        self.stopping = True
        if self.thread.is_alive():
            self.thread.join(5)


# ---------------------------------------------------------------------------

class Backpressure(harness.DovecotRsyslogCase):

    # -- helpers -----------------------------------------------------------

    def outputs(self):
        return ("output syslog udp://%s:%d\noutput syslog tcp://%s:%d\n"
                % (HOST, self.rsyslog.udp_port, HOST, self.rsyslog.tcp_port))

    def start(self, config, ports):
        m = harness.Msgeventd(config, ports)

        def stop():
            if m.exit_status is None:       # not stopped by the test
                m.stop()
        self.addCleanup(stop)
        m.start()

        def alive():
            if m.exit_status is None:
                m.assert_alive()
        self.addCleanup(alive)              # runs first: still alive?
        return m

    def wait_event(self, name, port, inputs=INPUTS, timeout=10):
        def ready(records):
            got = {i: [] for i in inputs}
            for r in records:
                p = event_params(r)
                if (r.get("msgid") == name and r.get("input") in got and
                        p.get("clientPort") == str(port)):
                    got[r["input"]].append(p)
            return got if all(got.values()) else None
        return self.rsyslog.wait_for(ready, timeout, "%s for client port %s "
                                     "on %s" % (name, port, inputs))

    def full_session(self, port, user="bob", inputs=INPUTS):
        """LOGIN, CREATE, APPEND, LOGOUT through PORT; waits for the four
        events on INPUTS."""
        c = harness.imap_connect(port)
        self.addCleanup(c.sock.close)
        cport = harness.client_port(c)
        c.login(user, harness.USERS[user])
        # Unique even when a later session gets the same client port.
        box = "box%d_%d" % (cport, next(BOX_SERIAL))
        self.assertEqual(c.create(box)[0], "OK")
        msg = b"Subject: next door\r\n\r\nunaffected\r\n"
        self.assertEqual(c.append(box, None, None, msg)[0], "OK")
        self.assertEqual(c.logout()[0], "BYE")
        for name in ("Login", "MailboxCreate", "MessageAppend", "Logout"):
            self.wait_event(name, cport, inputs)
        return cport

    def assert_rss_bounded(self, m, base, when):
        rss = rss_bytes(m.proc.pid)
        self.assertLess(rss - base, RSS_GROWTH_MAX,
                        "%s: msgeventd's RSS grew by %.1f MB (from %.1f MB)"
                        % (when, (rss - base) / MB, base / MB))
        return rss

    # -- a client that does not read ---------------------------------------

    def test_stalled_client(self):
        # A 20 MB message, appended straight to Dovecot.
        line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n"
        body = b"Subject: big\r\n\r\n" + line * (20 * MB // len(line))
        direct = self.dovecot.imap("alice")
        try:
            self.assertEqual(direct.create("big")[0], "OK")
            self.assertEqual(direct.append("big", None, None, body)[0], "OK")
            direct.select("big", readonly=True)
            typ, data = direct.uid("FETCH", "1", "(RFC822.SIZE)")
            self.assertEqual(typ, "OK", data)
            size = int(re.search(rb"RFC822\.SIZE (\d+)", data[0]).group(1))
            direct.logout()
        finally:
            direct.sock.close()
        self.assertEqual(size, len(body))
        digest = hashlib.sha256(body).hexdigest()
        del body

        port = harness.free_port()
        m = self.start(self.listen(port) + self.outputs(), [port])
        self.full_session(port)             # warm up, then measure
        base = rss_bytes(m.proc.pid)

        # The stalled client: a small receive buffer, so that the bytes
        # cannot hide in its kernel, and two FETCHes of the 20 MB.
        s = socket.socket()
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.settimeout(10)
        s.connect((HOST, port))
        reader = Reader(s)
        self.assertTrue(reader.line().startswith(b"* OK"))
        s.sendall(b"L1 LOGIN alice %s\r\nS1 SELECT big\r\n"
                  % harness.USERS["alice"].encode())
        self.assertTrue(reader.until_tagged(b"L1")[1].startswith(b"L1 OK"))
        self.assertTrue(reader.until_tagged(b"S1")[1].startswith(b"S1 OK"))
        s.sendall(b"F1 UID FETCH 1 BODY[]\r\nF2 UID FETCH 1 BODY[]\r\n")

        # msgeventd has stopped reading Dovecot: bytes pile up unread in
        # its socket to Dovecot (the only one to it with a queue).
        def backend_unread():
            return max([rx for _, rport, _, rx in tcp_sockets()
                        if rport == self.dovecot.imap_port] + [0]) > 16384
        harness.wait_until(backend_unread, 10, what="msgeventd to stop "
                           "reading the backend of the stalled client")
        self.assert_rss_bounded(m, base, "stalled")

        # Another session through the same msgeventd is served.
        self.full_session(port, "bob")
        self.assertTrue(backend_unread(), "msgeventd read on from the "
                        "backend although the client reads nothing")
        self.assert_rss_bounded(m, base, "stalled, after another session")

        # Now the client reads: every byte, twice.
        s.settimeout(30)
        for tag in (b"F1", b"F2"):
            got = reader.fetch_literal()
            self.assertEqual(len(got), size, "%s: literal size" % tag)
            self.assertEqual(hashlib.sha256(got).hexdigest(), digest,
                             "%s: the message arrived altered" % tag)
            del got
            rest, tagged = reader.until_tagged(tag)
            self.assertTrue(tagged.startswith(tag + b" OK"), tagged)
        s.sendall(b"Z1 LOGOUT\r\n")
        self.assertTrue(reader.until_tagged(b"Z1")[1].startswith(b"Z1 OK"))
        self.wait_event("Logout", s.getsockname()[1])
        self.assert_rss_bounded(m, base, "after the stalled client read")

    # -- a backend that does not read -------------------------------------

    def test_stalled_backend(self):
        port, fake_port = harness.free_port(), harness.free_port()
        with FakeBackend(stall=True, rcvbuf=4096) as fake:
            m = self.start(self.listen(port) + self.listen(fake_port,
                                                           fake.port) +
                           self.outputs(), [port, fake_port])
            self.full_session(port)
            base = rss_bytes(m.proc.pid)

            c = harness.RawClient(fake_port)
            self.addCleanup(c.close)
            self.assertEqual(c.read_line(), FakeBackend.GREETING)
            # 16 MB of pipelined commands, to a server that reads none.
            total = 16 * MB
            data = b"".join(b"p%07d NOOP\r\n" % i
                            for i in range(total // 15 + 1))[:total]
            sender = Sender(c.sock, data)
            sender.start()
            self.addCleanup(sender.join, 10)
            self.addCleanup(sender.stop)

            # msgeventd has stopped reading the client: bytes pile up
            # unread in its socket from the client.
            def client_unread():
                rx = rx_queue(fake_port, c.local_port)
                return rx is not None and rx > 16384
            harness.wait_until(client_unread, 10, what="msgeventd to stop "
                               "reading the client of the stalled backend")
            self.assert_rss_bounded(m, base, "backend stalled")
            self.full_session(port, "bob")
            # Polled, not sampled once: the kernel may still move some of
            # the queue into msgeventd's send buffer towards the backend
            # (rarely seen in CI); what matters is that it stays blocked.
            harness.wait_until(client_unread, 10, what="msgeventd to keep "
                               "the client of the stalled backend unread")
            self.assertFalse(sender.done.is_set(),
                             "the client could send all %d MB to a backend "
                             "that reads nothing" % (total // MB))
            rss = self.assert_rss_bounded(m, base, "backend stalled, after "
                                          "another session")
            note = "sent %.1f MB of %d MB; RSS +%.1f MB" % (
                sender.sent / MB, total // MB, (rss - base) / MB)
            self.assertGreater(sender.sent, 1 * MB, note)

    # -- a collector that is down -----------------------------------------

    def test_collector_down(self):
        port, dead = harness.free_port(), harness.free_port()
        m = self.start(self.listen(port) +
                       "output syslog tcp://%s:%d\n" % (HOST, dead) +
                       "output syslog udp://%s:%d\n" % (HOST,
                                                        self.rsyslog.udp_port),
                       [port])
        # Sessions for a while, so that reconnects (250 ms, doubling)
        # are tried several times meanwhile.
        t0 = time.monotonic()
        sessions = 0
        while sessions < 4 or time.monotonic() - t0 < 1.2:
            self.full_session(port, ("alice", "bob")[sessions % 2],
                              inputs=("imudp",))
            sessions += 1
        m.assert_alive()
        target = "tcp://%s:%d" % (HOST, dead)
        lines = [l for l in m.stderr().decode("utf-8", "replace")
                 .splitlines() if target in l]
        self.assertEqual(len(lines), 1, "expected one diagnostic about %s "
                         "in %d events, got:\n%s"
                         % (target, 4 * sessions, "\n".join(lines)))
        self.assertRegex(lines[0], r"(?i)connect.*refused")
        # At exit, what the dead output still holds is counted.
        m.stop()
        final = [l for l in m.stderr().decode("utf-8", "replace")
                 .splitlines() if target in l]
        self.assertTrue(any(re.search(r"\b%d events\b.*dropped"
                                      % (4 * sessions), l) for l in final),
                        "no count of the %d undelivered events at exit:\n%s"
                        % (4 * sessions, "\n".join(final)))

    # -- many idle sessions ------------------------------------------------

    def test_thousand_idle_sessions(self):
        n = 1000
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        # This process holds n clients and the fake backend's n ends;
        # msgeventd (which inherits the limit) 2n.
        need = 2 * n + 200
        if hard != resource.RLIM_INFINITY and hard < need:
            self.skipTest("RLIMIT_NOFILE hard limit %d < %d needed"
                          % (hard, need))
        if soft != resource.RLIM_INFINITY and soft < need:
            raised = hard if hard != resource.RLIM_INFINITY else need
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE,
                            (soft, hard))

        port, fake_port = harness.free_port(), harness.free_port()
        with FakeBackend() as fake:
            m = self.start(self.listen(port) + self.listen(fake_port,
                                                           fake.port) +
                           self.outputs(), [port, fake_port])
            pid = m.proc.pid
            self.full_session(port)
            base_fds = fd_count(pid)
            base_rss = rss_bytes(pid)

            clients = []
            try:
                sel = selectors.DefaultSelector()
                for i in range(n):
                    s = socket.create_connection((HOST, fake_port), 10)
                    s.setblocking(False)
                    clients.append(s)
                    sel.register(s, selectors.EVENT_READ, [b""])
                # Every client is greeted through msgeventd.
                waiting = n
                deadline = time.monotonic() + 60
                while waiting:
                    self.assertLess(time.monotonic(), deadline,
                                    "%d of %d clients not greeted"
                                    % (waiting, n))
                    for key, _ in sel.select(0.5):
                        data = key.fileobj.recv(4096)
                        self.assertTrue(data, "a client was disconnected")
                        key.data[0] += data
                        if key.data[0].endswith(b"\r\n"):
                            self.assertEqual(key.data[0],
                                             FakeBackend.GREETING)
                            sel.unregister(key.fileobj)
                            waiting -= 1
                sel.close()
                self.assertEqual(fake.open_count(), n)
                harness.wait_until(lambda: fd_count(pid) == base_fds + 2 * n,
                                   20, what="msgeventd to hold %d fds more"
                                   % (2 * n))
                rss = rss_bytes(pid)
                # No relay buffer per idle session: well under 16 KiB
                # each (about 4 KiB here; 5.5 under AddressSanitizer).
                self.assertLess(rss - base_rss, n * 16384,
                                "%d idle sessions cost %.1f MB of RSS"
                                % (n, (rss - base_rss) / MB))

                # One more session, a real one, is served.
                self.full_session(port, "alice")
            finally:
                for s in clients:
                    s.close()
            try:
                harness.wait_until(lambda: fd_count(pid) == base_fds, 10,
                                   what="msgeventd's fds back to %d"
                                   % base_fds)
            except AssertionError as e:
                raise AssertionError("%s: it holds %d" % (e, fd_count(pid)))
            harness.wait_until(lambda: fake.open_count() == 0, 10,
                               what="the backend connections to close")
            self.full_session(port, "bob")


class Reader:
    """Reads IMAP responses from a blocking socket into a bytearray
    (fast for tens of megabytes)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise harness.ConnectionClosed("closed; pending %r"
                                           % bytes(self.buf[:200]))
        self.buf += data

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out = bytes(self.buf[:i + 2])
                del self.buf[:i + 2]
                return out
            self._fill()

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def until_tagged(self, tag):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines, line

    def fetch_literal(self):
        """The next '* N FETCH (... {SIZE}' line and its literal."""
        line = self.line()
        m = re.match(rb"\* \d+ FETCH \(.*\{(\d+)\}\r\n$", line)
        if not m:
            raise AssertionError("expected a FETCH literal, got %r"
                                 % line[:200])
        return self.exact(int(m.group(1)))


class Sender(threading.Thread):
    """Sends DATA on a blocking socket; .sent counts what the kernel
    took, .done is set when all of it was."""

    def __init__(self, sock, data):
        super().__init__(daemon=True)
        self.sock = sock
        self.data = memoryview(data)
        self.sent = 0
        self.done = threading.Event()

    def stop(self):
        """Wake a blocked send() up (close() alone would not)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def run(self):
        self.sock.settimeout(60)
        try:
            while self.sent < len(self.data):
                self.sent += self.sock.send(self.data[self.sent:
                                                      self.sent + 65536])
            self.done.set()
        except OSError:
            pass


if __name__ == "__main__":
    unittest.main()
