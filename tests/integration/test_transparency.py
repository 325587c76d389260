"""msgeventd relays every byte unchanged, in both directions.

    client --> msgeventd --> tap --> Dovecot

The tap is a recording TCP relay.  For a scripted session (greeting,
CAPABILITY, LOGIN, SELECT, APPENDs with synchronizing and non-
synchronizing literals incl. 1 MB, FETCH of the bodies, STORE, SEARCH,
IDLE/DONE, pipelined commands, LOGOUT; the proxy's own questions
switched off) the bytes the client sent must be
exactly the bytes the tap received from msgeventd, and the bytes the tap
received from Dovecot exactly what the client received.  Both the
client and the tap write in random-sized pieces with TCP_NODELAY (fixed
seeds), so msgeventd sees lines, literals and CRLFs split everywhere.
"""

import random
import socket
import threading
import unittest

import harness
from harness import HOST, event_params


class Tap:
    """A TCP relay on a free port to TARGET_PORT that records, per
    connection, the bytes from the client side (c2s) and from the
    server side (s2c).  Forwards in random-sized pieces (RNG)."""

    def __init__(self, target_port, seed):
        self.target_port = target_port
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.sessions = []
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.threads = []
        self.errors = []
        self.closing = False
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept(self):
        while True:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            up = socket.create_connection((HOST, self.target_port), 10)
            for s in (down, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sess = {"c2s": bytearray(), "s2c": bytearray(),
                    "done": threading.Event(), "left": 2}
            with self.lock:
                self.sessions.append(sess)
                seeds = (self.rng.random(), self.rng.random())
            for src, dst, key, seed in ((down, up, "c2s", seeds[0]),
                                        (up, down, "s2c", seeds[1])):
                t = threading.Thread(target=self._pump,
                                     args=(src, dst, sess, key,
                                           random.Random(seed), down, up),
                                     daemon=True)
                t.start()
                self.threads.append(t)

    def _pump(self, src, dst, sess, key, rng, down, up):
        try:
            while True:
                try:
                    data = src.recv(65536)
                except (ConnectionResetError, OSError):
                    data = b""
                if not data:
                    break
                sess[key] += data
                i = 0
                while i < len(data):
                    n = pick_size(rng)
                    dst.sendall(data[i:i + n])
                    i += n
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        except Exception as e:          # reported by the test
            self.errors.append("%s: %r" % (key, e))
        finally:
            with self.lock:
                sess["left"] -= 1
                last = sess["left"] == 0
            if last:
                down.close()
                up.close()
                sess["done"].set()

    def close(self):
        self.listener.close()


def pick_size(rng):
    """Mostly small pieces (splits inside tokens and CRLFs), some large."""
    r = rng.random()
    if r < 0.4:
        return rng.randint(1, 8)
    if r < 0.8:
        return rng.randint(9, 600)
    return rng.randint(601, 70000)


def message(rng, size, subject):
    """An RFC 5322 message of SIZE bytes with text that looks like IMAP
    (tags, literals, continuations) and some 8-bit bytes."""
    head = (b"From: tester@test.example\r\nTo: alice@test.example\r\n"
            b"Subject: " + subject + b"\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n")
    lines = [b"T5 OK pretend {12}", b"+ continue", b"* 3 EXISTS",
             b"DONE", b"a001 LOGOUT", "gr\u00fc\u00dfe \u2603".encode(),
             b"x" * 998]
    body = bytearray()
    while len(head) + len(body) < size:
        body += rng.choice(lines) + b"\r\n"
    data = bytes(head + body)
    data = data[:size - 2] + b"\r\n"
    return data


class Transparency(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dovecot = harness.Dovecot().start()
        try:
            cls.rsyslog = harness.Rsyslog().start()
        except BaseException:
            cls.dovecot.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.rsyslog.stop()
        finally:
            cls.dovecot.stop()

    def run_session(self, seed):
        rng = random.Random(seed)
        tap = Tap(self.dovecot.imap_port, seed + 1000)
        port = harness.free_port()
        # Byte for byte: no questions of the proxy's own on the wire
        # (test_backend_queries.py shows the client cannot tell them).
        config = ("server-name mail.test.example\n"
                  "backend-queries off\n"
                  "listen imap %s:%d backend %s:%d\n"
                  "output syslog tcp://%s:%d\n"
                  % (HOST, port, HOST, tap.port, HOST, self.rsyslog.tcp_port))
        try:
            with harness.Msgeventd(config, [port]) as mev:
                client, sizes = self.script(port, rng)
                # start() probed the listen port, which may have made
                # sessions of its own: ours is the one that says T1 first.
                sess = harness.wait_until(
                    lambda: self.tapped(tap), 15,
                    what="the tapped session to end")
                self.assertEqual(tap.errors, [])
                self.assert_same(bytes(client.sent), bytes(sess["c2s"]),
                                 "client -> server")
                self.assert_same(bytes(sess["s2c"]), bytes(client.received),
                                 "server -> client")
                # The parser followed along under every split.
                appends = self.rsyslog.wait_for(
                    lambda rs: self.appends(rs, client.local_port, sizes),
                    what="MessageAppend events")
                self.assertEqual(sorted(appends), sorted(sizes))
                mev.assert_alive()
        finally:
            tap.close()

    def tapped(self, tap):
        with tap.lock:
            ours = [x for x in tap.sessions
                    if x["c2s"].startswith(b"T1 CAPABILITY\r\n")]
        if len(ours) > 1:
            self.fail("the session went through the tap twice")
        if ours and ours[0]["done"].is_set():
            return ours[0]
        return None

    def appends(self, records, port, sizes):
        out = [int(event_params(r).get("messageSize", -1)) for r in records
               if r["msgid"] == "MessageAppend" and
               event_params(r).get("clientPort") == str(port)]
        return out if len(out) >= len(sizes) else None

    def assert_same(self, expected, got, what):
        if expected == got:
            return
        n = next((i for i in range(min(len(expected), len(got)))
                  if expected[i] != got[i]), min(len(expected), len(got)))
        self.fail("%s differs at byte %d of %d/%d:\n expected %r\n got      %r"
                  % (what, n, len(expected), len(got),
                     expected[max(0, n - 60):n + 60],
                     got[max(0, n - 60):n + 60]))

    def script(self, port, rng):
        """The scripted session; returns the client and the sizes of the
        messages appended."""
        c = harness.RawClient(port, nodelay=True)

        def chunks():
            while True:
                yield pick_size(rng)

        def cmd(tag, text):
            c.send(tag.encode() + b" " + text + b"\r\n", chunks())
            _, tagged = c.read_until_tagged(tag)
            self.assertRegex(tagged, rb"^" + tag.encode() + rb" OK",
                             (text[:80], tagged))
            return tagged

        self.assertTrue(c.read_line().startswith(b"* OK"))
        cmd("T1", b"CAPABILITY")
        cmd("T2", b"LOGIN alice " + harness.USERS["alice"].encode())
        cmd("T3", b"SELECT INBOX")

        sizes = []
        msgs = [message(rng, 2000, b"small sync"),
                message(rng, 1 << 20, b"one megabyte"),
                message(rng, 70000, b"long lines, LITERAL+"),
                b"X: y\r\n\r\n"]
        for i, msg in enumerate(msgs):
            tag = ("A%d" % i).encode()
            sizes.append(len(msg))
            if i % 2 == 0:
                # Synchronizing: wait for the server's "+".
                c.send(tag + b" APPEND INBOX (\\Flagged) {%d}\r\n" % len(msg),
                       chunks())
                cont = c.read_line()
                self.assertTrue(cont.startswith(b"+"), cont)
                c.send(msg + b"\r\n", chunks())
            else:
                c.send(tag + b" APPEND INBOX {%d+}\r\n" % len(msg) + msg +
                       b"\r\n", chunks())
            _, tagged = c.read_until_tagged(tag)
            self.assertTrue(tagged.startswith(tag + b" OK"), tagged)

        cmd("T4", b"NOOP")
        cmd("T5", b"FETCH 1:* (UID FLAGS RFC822.SIZE BODY[])")
        cmd("T6", b"FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] "
                  b"BODY.PEEK[TEXT]<0.100> BODYSTRUCTURE ENVELOPE)")
        cmd("T7", b"STORE 1:2 +FLAGS (\\Seen $Label1)")
        cmd("T8", b"UID STORE 1:* -FLAGS.SILENT (\\Flagged)")
        cmd("T9", b"SEARCH TEXT \"LOGOUT\"")
        cmd("T10", b"UID SEARCH SEEN")
        # A literal in a command's arguments.
        c.send(b"T11 SEARCH SUBJECT {8}\r\n", chunks())
        self.assertTrue(c.read_line().startswith(b"+"))
        c.send(b"megabyte\r\n", chunks())
        c.read_until_tagged("T11")
        # IDLE, a new message arriving meanwhile, DONE.
        c.send(b"T12 IDLE\r\n", chunks())
        self.assertTrue(c.read_line().startswith(b"+"))
        self.dovecot.lmtp_deliver("alice", message(rng, 500, b"via LMTP"))
        while not c.read_line().endswith(b"EXISTS\r\n"):
            pass
        c.send(b"DONE\r\n", chunks())
        c.read_until_tagged("T12")
        # Pipelined: several commands in one go.
        c.send(b"P1 NOOP\r\nP2 CAPABILITY\r\nP3 FETCH 2 (FLAGS)\r\n"
               b"P4 CHECK\r\n", chunks())
        # Dovecot may complete them in any order.
        pending = {b"P1", b"P2", b"P3", b"P4"}
        while pending:
            pending.discard(c.read_response().split(b" ", 1)[0])
        cmd("T13", b"EXPUNGE")
        cmd("T14", b"LOGOUT")
        rest = c.read_until_close(15)
        self.assertEqual(rest, b"")
        c.close()
        return c, sizes

    def test_byte_exact_seed_1(self):
        self.run_session(1)

    def test_byte_exact_seed_2(self):
        self.run_session(2)


if __name__ == "__main__":
    unittest.main()
