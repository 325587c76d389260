"""Bad clients and a dead backend hurt nobody else.

Each case runs a bad session, then a good one on the same msgeventd
(LOGIN, NOOP, APPEND, LOGOUT, with their events arriving at rsyslog),
and msgeventd must still be alive.  The bad cases: an over-long line,
binary garbage (before and after login), an unterminated literal, a
client going away in the middle of a literal in either direction,
clients that connect and leave at once, and a backend that refuses
connections.
"""

import random
import re
import socket
import unittest

import harness
from harness import HOST, event_params

SERVER_NAME = "mail.test.example"
LINE_MAX = 65536


class BadInput(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dovecot = harness.Dovecot().start()
        try:
            cls.rsyslog = harness.Rsyslog().start()
            cls.port = harness.free_port()
            # A backend port nobody listens on: connections are refused.
            cls.dead_backend = harness.free_port()
            cls.dead_port = harness.free_port()
            config = (
                "server-name %s\n"
                "listen imap %s:%d backend %s:%d\n"
                "listen imap %s:%d backend %s:%d\n"
                "output syslog udp://%s:%d\n"
                "output syslog tcp://%s:%d\n"
                % (SERVER_NAME, HOST, cls.port, HOST, cls.dovecot.imap_port,
                   HOST, cls.dead_port, HOST, cls.dead_backend,
                   HOST, cls.rsyslog.udp_port, HOST, cls.rsyslog.tcp_port))
            cls.msgeventd = harness.Msgeventd(
                config, [cls.port, cls.dead_port]).start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if getattr(cls, "msgeventd", None):
                cls.msgeventd.stop()
        finally:
            if getattr(cls, "rsyslog", None):
                cls.rsyslog.stop()
            cls.dovecot.stop()

    def setUp(self):
        self.rng = random.Random(self.id())

    def tearDown(self):
        self.msgeventd.assert_alive()
        self.good_session()
        self.msgeventd.assert_alive()

    # -- helpers -----------------------------------------------------------

    def connect(self, port=None):
        c = harness.RawClient(port or self.port)
        greeting = c.read_line()
        self.assertTrue(greeting.startswith(b"* OK"), greeting)
        return c

    def login(self, user="alice"):
        c = self.connect()
        _, tagged = c.command("L1", "LOGIN %s %s"
                              % (user, harness.USERS[user]))
        self.assertTrue(tagged.startswith(b"L1 OK"), tagged)
        return c

    def wait_events(self, name, port, timeout=10):
        def ready(records):
            got = [r for r in records if r["msgid"] == name and
                   event_params(r).get("clientPort") == str(port)]
            inputs = {r["input"] for r in got}
            return got if inputs == {"imudp", "imtcp"} else None
        return self.rsyslog.wait_for(ready, timeout, "%s for client port %s"
                                     % (name, port))

    def events_for(self, port):
        return [r["msgid"] for r in self.rsyslog.records()
                if event_params(r).get("clientPort") == str(port)]

    def good_session(self):
        """A well-behaved client is served normally."""
        c = harness.imap_connect(self.port)
        port = harness.client_port(c)
        c.login("bob", harness.USERS["bob"])
        self.assertEqual(c.noop()[0], "OK")
        msg = b"Subject: still fine\r\n\r\nyes\r\n"
        typ, data = c.append("INBOX", None, None, msg)
        self.assertEqual(typ, "OK")
        c.logout()
        for name in ("Login", "MessageAppend", "Logout"):
            self.wait_events(name, port)
        append = event_params(self.wait_events("MessageAppend", port)[0])
        self.assertEqual(append.get("messageSize"), str(len(msg)))

    # -- cases -------------------------------------------------------------

    def test_overlong_line(self):
        c = self.login()
        # 70,000 bytes without CRLF: over msgeventd's 64 KiB line limit
        # (Dovecot's own limit is raised out of the way by the harness).
        c.send(b"X1 SELECT " + b"x" * (70000 - 10))
        rest = c.read_until_close(10)
        bye = [line for line in rest.split(b"\r\n")
               if line.startswith(b"* BYE")]
        self.assertTrue(bye, "no * BYE, got %r" % rest[-300:])
        self.assertRegex(bye[-1], re.compile(rb"line", re.I))
        self.assertIn(str(LINE_MAX).encode(), bye[-1],
                      "the BYE should name the limit")
        c.close()
        # The session ended with the user logged in: Logout follows.
        self.wait_events("Logout", c.local_port)

    def test_overlong_line_before_login(self):
        c = self.connect()
        c.send(b"x" * 70000)
        rest = c.read_until_close(10)
        # Dovecot's login process has a smaller buffer than msgeventd's
        # limit: either may say BYE first.
        self.assertTrue(re.search(rb"(^|\r\n)\* BYE ", rest), rest[-300:])
        c.close()

    def test_garbage_before_login(self):
        self.garbage_lines(self.connect())

    def test_garbage_after_login(self):
        c = self.login()
        self.garbage_lines(c)
        self.wait_events("Logout", c.local_port)

    def garbage_lines(self, c):
        """Two lines of random binary (NULs included): Dovecot answers
        each with BAD, and the session goes on.  (A third would make
        Dovecot's login process give up.)  msgeventd cannot parse them;
        it must relay on regardless."""
        def line():
            data = bytes(b for b in self.rng.randbytes(600)
                         if b not in b"\r\n")
            return b"\0" + data + b"\r\n"
        c.send(line() + line(),
               chunks=iter(lambda: self.rng.randint(1, 200), 0))
        for _ in range(2):
            resp = c.read_line()
            self.assertRegex(resp, rb"^\S+ BAD ", resp)
        _, tagged = c.command("Z1", "LOGOUT")
        self.assertTrue(tagged.startswith(b"Z1 OK"), tagged)
        self.assertIn(b"* BYE", bytes(c.received))
        c.read_until_close(10)
        c.close()

    def test_garbage_flood(self):
        """Random binary in random pieces, an absurd literal size among
        it.  Dovecot gives up on such a client and resets the
        connection, which may take its last answers with it; all that
        counts is that the connection ends and msgeventd lives on."""
        c = self.login()
        data = (self.rng.randbytes(8192) +
                b"\0\0\0\r\n\xff\xfe{99999999999999999999}\r\n" +
                self.rng.randbytes(4096) + b"\r\n" +
                b"\r\n".join(self.rng.randbytes(50) for _ in range(50)))
        try:
            c.send(data, chunks=iter(lambda: self.rng.randint(1, 3000), 0))
        except (BrokenPipeError, ConnectionResetError):
            pass            # already thrown out
        c.read_until_close(10)
        c.close()
        self.wait_events("Logout", c.local_port)

    def test_unterminated_literal(self):
        c = self.login()
        c.send(b"U1 APPEND INBOX {1000}\r\n")
        cont = c.read_line()
        self.assertTrue(cont.startswith(b"+"), cont)
        c.send(b"0123456789")
        c.close()
        self.wait_events("Logout", c.local_port)
        reason = [event_params(r).get("vnd.msgeventd.reason")
                  for r in self.wait_events("Logout", c.local_port)]
        self.assertEqual(set(reason), {"abort"})
        self.assertNotIn("MessageAppend", self.events_for(c.local_port))

    def test_reset_in_nonsync_literal(self):
        c = self.login()
        c.send(b"U2 APPEND INBOX {500000+}\r\n" + b"y" * 100000)
        c.abort()
        self.wait_events("Logout", c.local_port)
        self.assertNotIn("MessageAppend", self.events_for(c.local_port))

    def test_client_leaves_during_server_literal(self):
        # A 2 MB message, then the client fetches it and goes away after
        # the first bytes of the server's literal: msgeventd is left with
        # data to relay to nobody.
        big = b"Subject: big\r\n\r\n" + b"z" * (2 << 20) + b"\r\n"
        setup = harness.imap_connect(self.port)
        setup.login("alice", harness.USERS["alice"])
        self.assertEqual(setup.append("INBOX", None, None, big)[0], "OK")
        setup.logout()
        c = self.login()
        _, tagged = c.command("S1", "SELECT INBOX")
        self.assertTrue(tagged.startswith(b"S1 OK"), tagged)
        c.send(b"F1 FETCH 1:* (BODY[])\r\n")
        c.read_exact(1000)
        c.abort()
        self.wait_events("Logout", c.local_port)

    def test_connect_and_leave(self):
        for i in range(20):
            s = socket.create_connection((HOST, self.port), 5)
            if i % 2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()

    def test_backend_refuses(self):
        for _ in range(3):
            c = harness.RawClient(self.dead_port)
            rest = c.read_until_close(15)
            self.assertTrue(rest.startswith(b"* BYE"), rest)
            self.assertTrue(rest.endswith(b"\r\n"), rest)
            self.assertEqual(rest.count(b"\r\n"), 1, rest)
            c.close()


if __name__ == "__main__":
    unittest.main()
