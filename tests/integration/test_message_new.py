"""MessageNew and the changes no proxied session made, end to end.

A real Dovecot delivers over LMTP while a client IDLEs through msgeventd;
sessions of one user append and expunge through msgeventd while others
watch; a client connected to Dovecot directly expunges.  Each change
must be reported exactly once, by the right event: MessageNew for the
delivery (with the UID the server gave it), MessageAppend (and no
MessageNew) for an APPEND through msgeventd, MessageExpunge for an
expunge through msgeventd (and nothing from the sessions that watch
it), MessageExpunge with vnd.msgeventd.cause="external" for one no
proxied session made.

Events have no clientPort when no client of msgeventd caused them, so
they are found by their UID and mailbox; a MailboxCreate of a mailbox
named for the test, made last through the watching session, is the
barrier after which an event that should not exist would have arrived
(each output sends in order).
"""

import itertools
import re

import harness
from harness import HOST, event_params

SERVER_NAME = "mail.test.example"
PASSWORD = harness.USERS["alice"]
INPUTS = ("imudp", "imtcp")
EXISTS_RE = re.compile(rb"^\* (\d+) EXISTS\r\n$")
EXPUNGE_RE = re.compile(rb"^\* (\d+) EXPUNGE\r\n$")
UIDVALIDITY_RE = re.compile(rb"\[UIDVALIDITY (\d+)\]")
FETCH_UID_RE = re.compile(rb"^\* (\d+) FETCH \(.*UID (\d+)", re.M)
APPENDUID_RE = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")
_count = itertools.count(1)


def message(tag):
    return (b"From: sender@test.example\r\nTo: alice@test.example\r\n"
            b"Subject: %s\r\nMessage-ID: <%s@new.test>\r\n\r\nHello.\r\n"
            % (tag.encode(), tag.encode()))


class MessageNew(harness.DovecotRsyslogCase):
    """One Dovecot, rsyslog and msgeventd (UDP and TCP outputs)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.port = harness.free_port()
            config = (
                "# test_message_new.py\n"
                "server-name %s\n"
                "listen imap %s:%d backend %s:%d\n"
                "output syslog udp://%s:%d\n"
                "output syslog tcp://%s:%d\n"
                % (SERVER_NAME, HOST, cls.port, HOST, cls.dovecot.imap_port,
                   HOST, cls.rsyslog.udp_port, HOST, cls.rsyslog.tcp_port))
            cls.msgeventd = harness.Msgeventd(config, [cls.port]).start()
        except BaseException:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if getattr(cls, "msgeventd", None):
                cls.msgeventd.stop()
        finally:
            super().tearDownClass()

    def tearDown(self):
        self.msgeventd.assert_alive()

    # -- helpers -----------------------------------------------------------

    def client(self):
        """A raw client through msgeventd, logged in as alice."""
        c = harness.RawClient(self.port)
        c.read_line()			# greeting
        _, tagged = c.command("l", "LOGIN alice %s" % PASSWORD)
        self.assertTrue(tagged.startswith(b"l OK"), tagged)
        return c

    def select(self, c):
        """SELECT INBOX, learn every UID; (messages, UIDVALIDITY)."""
        out, tagged = c.command("s", "SELECT INBOX")
        self.assertTrue(tagged.startswith(b"s OK"), tagged)
        n = int(re.search(rb"^\* (\d+) EXISTS", out, re.M).group(1))
        uv = int(UIDVALIDITY_RE.search(out).group(1))
        if n > 0:
            c.command("u", "UID FETCH 1:* (UID)")
        return n, uv

    def idle(self, c):
        c.send(b"i IDLE\r\n")
        line = c.read_line()
        self.assertTrue(line.startswith(b"+"), line)

    def wait_untagged(self, c, regex, above=0):
        """Read untagged responses until one matches REGEX with a number
        above ABOVE; returns that number."""
        while True:
            line = c.read_line()
            m = regex.match(line)
            if m and int(m.group(1)) > above:
                return int(m.group(1))

    def done(self, c):
        c.send(b"DONE\r\n")
        c.read_until_tagged("i")

    def fetch_uid(self, c, seq):
        out, tagged = c.command("f", "FETCH %d (UID)" % seq)
        self.assertTrue(tagged.startswith(b"f OK"), tagged)
        for m in FETCH_UID_RE.finditer(out):
            if int(m.group(1)) == seq:
                return int(m.group(2))
        self.fail("no UID for message %d in %r" % (seq, out))

    def mailbox_id(self, uv):
        return "imap://alice@%s/INBOX;UIDVALIDITY=%d" % (SERVER_NAME, uv)

    def matching(self, records, name, uv, uid):
        """{input: [params]} of events NAME in INBOX with uidset UID."""
        out = {i: [] for i in INPUTS}
        for rec in records:
            p = event_params(rec)
            if (rec.get("msgid") == name and
                    p.get("mailboxID") == self.mailbox_id(uv) and
                    str(uid) in p.get("uidset", "").split(",")):
                out.setdefault(rec.get("input"), []).append(p)
        return out

    def barrier(self, c):
        """A MailboxCreate through C, waited for on both transports: what
        C's session emitted before it has arrived."""
        name = "barrier-%d" % next(_count)
        _, tagged = c.command("b", "CREATE %s" % name)
        self.assertTrue(tagged.startswith(b"b OK"), tagged)
        want = "imap://alice@%s/%s" % (SERVER_NAME, name)

        def ready(records):
            got = {i for rec in records
                   if rec.get("msgid") == "MailboxCreate" and
                   event_params(rec).get("mailboxID") == want
                   for i in [rec.get("input")]}
            return got >= set(INPUTS)
        self.rsyslog.wait_for(ready, 10, "MailboxCreate %s" % name)

    def wait_one(self, name, uv, uid):
        """The one event NAME for UID, the same on both transports."""
        def ready(records):
            ev = self.matching(records, name, uv, uid)
            return ev if all(ev[i] for i in INPUTS) else None
        ev = self.rsyslog.wait_for(ready, 10, "%s uidset %d" % (name, uid))
        for i in INPUTS:
            self.assertEqual(len(ev[i]), 1, "%s over %s: %r" % (name, i,
                                                                ev[i]))
        self.assertEqual(ev["imudp"], ev["imtcp"])
        return ev["imudp"][0]

    def assert_none(self, name, uv, uid):
        ev = self.matching(self.rsyslog.records(), name, uv, uid)
        for i in INPUTS:
            self.assertEqual(ev[i], [], "unexpected %s for UID %d over %s"
                             % (name, uid, i))

    # -- tests -------------------------------------------------------------

    def test_lmtp_delivery_during_idle(self):
        """A message delivered over LMTP while the client IDLEs, whose UID
        the client then fetches: one MessageNew with that UID."""
        with self.client() as c:
            n, uv = self.select(c)
            self.idle(c)
            self.dovecot.lmtp_deliver("alice", message("idle-%d" % n))
            new = self.wait_untagged(c, EXISTS_RE, n)
            self.done(c)
            uid = self.fetch_uid(c, new)
            p = self.wait_one("MessageNew", uv, uid)
            self.barrier(c)
        self.assertEqual(p["uidset"], str(uid))
        self.assertEqual(p["uri"], "%s/;UID=%d" % (self.mailbox_id(uv), uid))
        self.assertEqual(p["user"], "alice")
        self.assertEqual(p["messages"], str(new))
        for absent in ("clientIP", "clientPort", "service"):
            self.assertNotIn(absent, p)
        self.assertIn("vnd.msgeventd.session", p)
        self.assert_none("MessageAppend", uv, uid)
        self.assert_none("MessageExpunge", uv, uid)

    def test_delivery_seen_by_two(self):
        """A delivery two sessions see (one IDLEs, one polls): one
        MessageNew."""
        with self.client() as b, self.client() as c:
            n, uv = self.select(b)
            self.select(c)
            self.idle(b)
            self.dovecot.lmtp_deliver("alice", message("two-%d" % n))
            new = self.wait_untagged(b, EXISTS_RE, n)
            self.done(b)
            uid = self.fetch_uid(b, new)
            self.wait_one("MessageNew", uv, uid)
            c.command("n", "NOOP")
            self.assertEqual(self.fetch_uid(c, new), uid)
            self.barrier(c)
            self.barrier(b)
        self.wait_one("MessageNew", uv, uid)

    def test_append_in_other_session(self):
        """Two sessions of alice: an APPEND in A while B IDLEs in INBOX is
        one MessageAppend and no MessageNew."""
        with self.client() as a, self.client() as b:
            n, uv = self.select(b)
            self.idle(b)
            msg = message("append-%d" % n)
            a.send(b"p APPEND INBOX {%d}\r\n" % len(msg))
            self.assertTrue(a.read_line().startswith(b"+"))
            a.send(msg + b"\r\n")
            _, tagged = a.read_until_tagged("p")
            m = APPENDUID_RE.search(tagged)
            self.assertTrue(m, tagged)
            self.assertEqual(int(m.group(1)), uv)
            uid = int(m.group(2))
            new = self.wait_untagged(b, EXISTS_RE, n)
            self.done(b)
            self.assertEqual(self.fetch_uid(b, new), uid)
            p = self.wait_one("MessageAppend", uv, uid)
            self.barrier(b)
            self.barrier(a)
        self.assertEqual(p["clientPort"], str(a.local_port))
        self.assert_none("MessageNew", uv, uid)

    def test_expunges(self):
        """An expunge through msgeventd that another session watches is
        one MessageExpunge; one by a client connected to Dovecot directly
        is one MessageExpunge with vnd.msgeventd.cause=external."""
        for i in range(2):
            self.dovecot.lmtp_deliver("alice", message("gone-%d" % i))
        with self.client() as a, self.client() as b:
            n, uv = self.select(a)
            self.assertEqual(self.select(b)[0], n)
            uid_a = self.fetch_uid(a, n - 1)
            uid_x = self.fetch_uid(a, n)
            self.idle(b)
            # A expunges message n - 1
            a.command("d", "STORE %d +FLAGS.SILENT (\\Deleted)" % (n - 1))
            _, tagged = a.command("e", "EXPUNGE")
            self.assertTrue(tagged.startswith(b"e OK"), tagged)
            self.wait_untagged(b, EXPUNGE_RE, 0)
            # a direct client expunges the last one (n - 1 now)
            direct = self.dovecot.imap("alice")
            try:
                direct.select("INBOX")
                direct.uid("STORE", str(uid_x), "+FLAGS.SILENT", "(\\Deleted)")
                direct.expunge()
            finally:
                direct.logout()
            self.wait_untagged(b, EXPUNGE_RE, 0)
            self.done(b)
            p = self.wait_one("MessageExpunge", uv, uid_x)
            self.barrier(b)
            self.barrier(a)		# A sees the direct expunge too
        self.assertEqual(self.wait_one("MessageExpunge", uv, uid_x), p)
        own = self.wait_one("MessageExpunge", uv, uid_a)
        self.assertEqual(own["clientPort"], str(a.local_port))
        self.assertNotIn("vnd.msgeventd.cause", own)
        self.assertEqual(p["vnd.msgeventd.cause"], "external")
        self.assertEqual(p["uidset"], str(uid_x))
        self.assertNotIn("clientPort", p)
        self.assert_none("MessageExpire", uv, uid_x)


if __name__ == "__main__":
    import unittest
    unittest.main()
