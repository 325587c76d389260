"""The proxy asks the backend itself for what the traffic did not tell.

A client that only ever uses sequence numbers, and never fetched a UID
or a flag, changes flags, reads a body and expunges.  msgeventd must
still report each change with the right UIDs (which differ from the
sequence numbers here: the first message was expunged before the
session), by asking Dovecot between the client's commands.  The client
must not be able to tell: the same script run directly against a twin
mailbox gets byte for byte the same responses (but for UIDVALIDITY and
Dovecot's timing figures).  With `backend-queries off` the same
session gives no flag events for messages the proxy knew nothing of:
which shows the questions are what made them.
"""

import itertools
import re
import unittest

import harness
from harness import HOST, event_params

MESSAGE = (b"From: a@test.example\r\nTo: alice@test.example\r\n"
           b"Subject: %d\r\n\r\nbody %d\r\n")

# A client using sequence numbers only.
SCRIPT = [
    "STORE 2 +FLAGS (\\Seen)",
    "STORE 3:4 +FLAGS.SILENT (\\Deleted \\Flagged)",
    "FETCH 5 BODY[]",
    "NOOP",
    "EXPUNGE",
    "STORE 1 FLAGS (\\Answered)",
    "CLOSE",
]


def fill(dovecot, box):
    """BOX with six messages, the first then expunged: message n has
    UID n + 1."""
    c = dovecot.imap("alice")
    try:
        c.create(box)
        for i in range(6):
            c.append(box, None, None, MESSAGE % (i, i))
        c.select(box)
        c.store("1", "+FLAGS", "(\\Deleted)")
        c.expunge()
        c.logout()
    finally:
        try:
            c.shutdown()
        except OSError:
            pass


def run_script(port, box):
    """LOGIN, SELECT BOX, SCRIPT, LOGOUT on PORT; the responses, and the
    client's port."""
    out = []
    with harness.RawClient(port) as c:
        c.read_response()
        c.command("a0", "LOGIN alice %s" % harness.USERS["alice"])
        out.append(c.command("a1", "SELECT %s" % box)[0])
        for i, cmd in enumerate(SCRIPT):
            out.append(c.command("b%d" % i, cmd)[0])
        c.command("z", "LOGOUT")
        return out, c.local_port


def normalise(data, box):
    data = re.sub(rb"\[UIDVALIDITY \d+\]", b"[UIDVALIDITY x]", data)
    data = re.sub(rb" \([0-9.]+ \+ [0-9.]+( \+ [0-9.]+)? secs\)", b"",
                  data)
    return data.replace(box.encode(), b"BOX")


class BackendQueries(harness.DovecotRsyslogCase):

    def start(self, extra=""):
        port = harness.free_port()
        d = harness.Msgeventd(
            "server-name mail.test.example\n" + self.listen(port) +
            "output syslog udp://%s:%d\n" % (HOST, self.rsyslog.udp_port) +
            extra, [port]).start()
        self.addCleanup(d.stop)
        return port, d

    def events(self, port):
        return [(r.get("msgid"), event_params(r))
                for r in self.rsyslog.records()
                if event_params(r).get("clientPort") == str(port)]

    def wait_logout(self, port):
        harness.wait_until(
            lambda: any(n == "Logout" for n, _ in self.events(port)),
            what="Logout of client port %d" % port)

    def test_sequence_client_gets_uids(self):
        fill(self.dovecot, "qdirect")
        fill(self.dovecot, "qproxied")
        port, d = self.start()
        direct, _ = run_script(self.dovecot.imap_port, "qdirect")
        proxied, cport = run_script(port, "qproxied")
        for a, b in zip(direct, proxied):
            self.assertEqual(normalise(a, "qdirect"),
                             normalise(b, "qproxied"))
        for resp in proxied:
            self.assertNotIn(b"msgeventd", resp)
        self.wait_logout(cport)
        ev = [(n, p) for n, p in self.events(cport)
              if n not in ("Login", "Logout")]
        got = [(n, p.get("uidset"), p.get("flagNames"),
                "vnd.msgeventd.truncated" in p) for n, p in ev]
        self.assertEqual(got, [
            ("MessageRead", "3", None, False),
            ("MessageTrash", "4:5", None, False),
            ("FlagsSet", "4:5", "\\Flagged", False),
            ("MessageRead", "6", None, False),
            ("MessageExpunge", "4:5", None, False),
            ("FlagsSet", "2", "\\Answered", False),
        ], "events: %r" % ev)
        for n, p in ev:
            self.assertIn("/qproxied;UIDVALIDITY=", p["mailboxID"])

    def test_split_and_pipelined(self):
        """Commands cut in pieces (the proxy holds a partial line), and a
        command pipelined behind the one it asks for."""
        fill(self.dovecot, "qsdirect")
        fill(self.dovecot, "qsproxied")
        port, _ = self.start()

        def script(p, box):
            out = []
            with harness.RawClient(p) as c:
                c.read_response()
                c.command("a0", "LOGIN alice %s" % harness.USERS["alice"])
                out.append(c.command("a1", "SELECT %s" % box)[0])
                out.append(c.command("b1", "STORE 2 +FLAGS (\\Seen)",
                                     chunks=itertools.cycle([1, 3, 2]))[0])
                c.send(b"b2 STORE 3 +FLAGS (\\Deleted)\r\nb3 NOOP\r\n"
                       b"b4 EXPUNGE\r\n")
                out.append(c.read_until_tagged("b4")[0])
                c.command("z", "LOGOUT")
                return out, c.local_port

        direct, _ = script(self.dovecot.imap_port, "qsdirect")
        proxied, cport = script(port, "qsproxied")
        for a, b in zip(direct, proxied):
            self.assertEqual(normalise(a, "qsdirect"),
                             normalise(b, "qsproxied"))
        self.wait_logout(cport)
        got = [(n, p.get("uidset")) for n, p in self.events(cport)
               if n not in ("Login", "Logout")]
        # b2's flags and UIDs came with b1's question (the whole
        # mailbox was unknown, and asking is per command); b4 rides
        # behind b3, so it is not asked for, and needs nothing.
        self.assertEqual(got, [("MessageRead", "3"), ("MessageTrash", "4"),
                               ("MessageExpunge", "4")], got)

    def test_off_gives_no_guess(self):
        fill(self.dovecot, "qoff")
        port, _ = self.start("backend-queries off\n")
        _, cport = run_script(port, "qoff")
        self.wait_logout(cport)
        names = [n for n, _ in self.events(cport)]
        # Nothing told the proxy the flags or UIDs before: no flag event.
        self.assertNotIn("MessageRead", names)
        self.assertNotIn("FlagsSet", names)


if __name__ == "__main__":
    unittest.main()
